# microbeat chart (deepdive): paired horizontal bars per row -- the location quotient of each
# crime type with the line of equal shares at 1, or crimes beside partner events per micro-beat.
#
# Data (written by microbeat, beside this script; NAME = this file's name without .gp):
#   NAME.dat        rank value1 value2 "row label"   (rank 1 = top row; value2 NaN = one bar)
#   NAME-meta.dat   "title" "value label" n "legend 1" "legend 2" refline
#                   (refline: x of a dashed reference line, NaN = none)
# Restyle freely and run `gnuplot NAME.gp` in this folder (for SVG:
# gnuplot -e "fmt='svg'" NAME.gp).
#
# SAFETY RULE: never paste names or other text from the data into this file.
# gnuplot runs back-quoted text and system() as shell commands; text belongs
# in the data files, read with strcol(), columnheader or xticlabels().

if (!exists("fmt")) fmt = "png"
name = (strlen(ARG0) > 3 && ARG0[strlen(ARG0)-2:] eq ".gp") ? ARG0[1:strlen(ARG0)-3] : "deepdive_bars"
if (fmt eq "svg") {
	set terminal svg size 1000,600 font "Sans,13" noenhanced background "white"
} else {
	if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
		set terminal pngcairo size 1000,600 font "Sans,11" noenhanced background "white"
	} else {
		set terminal png size 1000,600 noenhanced
	}
}
set output name.".".fmt
set encoding utf8
set termoption noenhanced
set grid lt 1 lc rgb "#dddddd" lw 1
set border 1 lc rgb "#555555"
set tics nomirror textcolor rgb "#333333"

chart_title = ""; value_label = ""; n = 1; leg1 = ""; leg2 = ""; refline = NaN
stats name."-meta.dat" using (chart_title = strcol(1), value_label = strcol(2), \
	n = int(column(3)), leg1 = strcol(4), leg2 = strcol(5), refline = column(6), 0) nooutput

# the left margin from the longest label (up to 7.2 pixels a character at 10 points, capital
# letters being the widest, 5.8 at 8): gnuplot's own estimate left half the chart empty beside
# long subgroup names; read before the ranges are set, which stats would apply
stats name.".dat" using (strlen(strcol(4))) nooutput prefix "LL"
lm = (LL_max * (n > 25 ? 5.8 : 7.2) + 24) / 1000.0
set lmargin at screen (lm < 0.55 ? lm : 0.55)

# the title centred on the page, not over the plot: long row labels (a place's
# "Supermarket, near ...") push the plot right and a plot-centred title off the page
# a title longer than a line breaks after its last ": " (where and when, then what)
tlen = strlen(chart_title)
if (tlen > 95) {
	tb = 0; tk = strstrt(chart_title, ": ")
	while (tk > 0) { tb = tb + tk; tk = strstrt(chart_title[tb + 1:], ": ") }
	if (tb > 1) {
		tlen = (tb > tlen - tb - 1) ? tb : tlen - tb - 1
		chart_title = chart_title[1:tb]."\n".chart_title[tb + 2:]
	}
}
tfont = tlen > 95 ? ",10" : tlen > 75 ? ",12" : ",14"
two_lines = strstrt(chart_title, "\n") > 0
set label 1 chart_title at screen 0.5, screen (two_lines ? 0.975 : 0.96) center front noenhanced font tfont
set tmargin (two_lines ? 4 : 3)
set xlabel value_label noenhanced
set yrange [n + 0.6 : 0.4]
set xrange [0:*]
set offsets 0, graph 0.1, 0, 0
labelfont = sprintf(",%d", n > 25 ? 8 : 10)
set ytics scale 0 font labelfont
set grid noytics xtics
set style fill solid 0.9 noborder
two = (strlen(leg2) > 0)
# the key under the x axis: inside, it covered the last bars' values
if (two) { set key below right horizontal } else { unset key }
h = two ? 0.19 : 0.38
o1 = two ? -0.2 : 0
if (refline == refline) set arrow from refline, graph 0 to refline, graph 1 nohead dt 2 lc rgb "#333333"

if (two) {
	plot name.".dat" using ($2/2):($1+o1):($2/2):(h):yticlabels(4) with boxxyerror \
			lc rgb "#c0392b" title leg1, \
		name.".dat" using ($3/2):($1+0.2):($3/2):(h) with boxxyerror lc rgb "#2c7fb8" title leg2, \
		name.".dat" using 2:($1+o1):(sprintf(" %g", $2)) with labels left font ",9" notitle, \
		name.".dat" using 3:($1+0.2):(sprintf(" %g", $3)) with labels left font ",9" notitle
} else {
	plot name.".dat" using ($2/2):1:($2/2):(h):yticlabels(4) with boxxyerror \
			lc rgb "#c0392b" title leg1, \
		name.".dat" using 2:1:(sprintf(" %.2f", $2)) with labels left font ",10" notitle
}
