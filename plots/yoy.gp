# microbeat chart: year-on-year % change per series with confidence intervals.
#
# Data (written by microbeat, beside this script; NAME = this file's name
# without .gp):
#   NAME.dat        index pct lo hi significant "series label"   (NaN = undefined)
#   NAME-meta.dat   "title" "" n rises falls flat whiskers   (bars drawn red, blue and
#                   grey, and whiskers drawn: the key names only what is drawn)
# Restyle freely and run `gnuplot NAME.gp` in this folder (for SVG:
# gnuplot -e "fmt='svg'" NAME.gp).
#
# SAFETY RULE: never paste names or other text from the data into this file.
# gnuplot runs back-quoted text and system() as shell commands; text belongs
# in the data files, read with strcol(), columnheader or xticlabels().

if (!exists("fmt")) fmt = "png"
name = (strlen(ARG0) > 3 && ARG0[strlen(ARG0)-2:] eq ".gp") ? ARG0[1:strlen(ARG0)-3] : "yoy"
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
set border 3 lc rgb "#555555"
set tics nomirror textcolor rgb "#333333"

chart_title = ""; unused = ""; n = 1; rises = 0; falls = 0; flat = 0; whiskers = 0
stats name."-meta.dat" using (chart_title = strcol(1), unused = strcol(2), \
	n = int(column(3)), rises = int(column(4)), falls = int(column(5)), \
	flat = int(column(6)), whiskers = int(column(7)), 0) nooutput
if (strlen(chart_title) == 0) chart_title = "Change on the previous 12 months"

# Bar colour, as the legend says: red for a significant rise, blue for a
# significant fall, grey when not significant.
barcolour(pct, sig) = sig > 0 ? (pct > 0 ? 0xc0392b : 0x2166ac) : 0xbbbbbb

# title and axis label centred on the page, not on the plot (the series
# labels on the left would push them off the right edge); long titles shrink
tfont = strlen(chart_title) > 95 ? ",10" : strlen(chart_title) > 75 ? ",12" : ",14"
set label 101 chart_title at screen 0.5, screen 0.965 center font tfont noenhanced
set tmargin 3.5
set label 102 "Change on the previous 12 months (%), with the interval the verdict uses\n(FCR-adjusted for series tested together; whiskers cut at +300%)" \
	at screen 0.5, screen 0.165 center
set format x "%+g%%"
set xtics add ("0%%" 0)
# wide intervals: fewer tics, so that the labels do not run into each other
stats name.".dat" using (valid(4) ? $4 : 0) nooutput prefix "H"
if (H_max > 150) set xtics 100; set xtics add ("0%%" 0)
set yrange [n + 0.6 : 0.4]
set ytics scale 0 font ",10"
set grid noytics xtics
set border 1
set xzeroaxis
set offsets graph 0.05, graph 0.05, 0, 0
set style fill solid 0.9 noborder
set key at screen 0.5, screen 0.01 bottom center horizontal maxrows 2 spacing 1.2 width 2
set bmargin 9.5
set arrow 1 from first 0, graph 0 to first 0, graph 1 nohead lc rgb "#333333" lw 1 front

plot name.".dat" using ($2/2):1:(abs($2)/2):(0.35):(barcolour($2, $5)):yticlabels(6) \
		with boxxyerror lc rgb variable notitle, \
	name.".dat" using ((valid(3) && valid(4)) ? $2 : NaN):1:3:4 with xerrorbars pt -1 ps 0 \
		lw 1.5 lc rgb "#333333" title (whiskers > 0 ? "Interval used by the verdict" : ""), \
	name.".dat" using (0):1:(valid(2) ? "" : "  no bar: see the label") \
		with labels left font ",10" tc rgb "#666666" notitle, \
	NaN with boxes lc rgb "#c0392b" title (rises > 0 ? "Significant rise" : ""), \
	NaN with boxes lc rgb "#2166ac" title (falls > 0 ? "Significant fall" : ""), \
	NaN with boxes lc rgb "#bbbbbb" title (flat > 0 ? "Not significant" : "")
