# microbeat chart (deepdive): crimes by day of the week (rows, Monday at the top) and hour of
# the day (columns), for the events of the period with a recorded time.
#
# Data (written by microbeat, beside this script; NAME = this file's name without .gp):
#   NAME.dat        hour weekday count   (hour 0..23; weekday 0 = Monday .. 6 = Sunday)
#   NAME-meta.dat   "title" "scale label"
# Restyle freely and run `gnuplot NAME.gp` in this folder (for SVG:
# gnuplot -e "fmt='svg'" NAME.gp).
#
# SAFETY RULE: never paste names or other text from the data into this file.
# gnuplot runs back-quoted text and system() as shell commands; text belongs
# in the data files, read with strcol(), columnheader or xticlabels().

if (!exists("fmt")) fmt = "png"
name = (strlen(ARG0) > 3 && ARG0[strlen(ARG0)-2:] eq ".gp") ? ARG0[1:strlen(ARG0)-3] : "deepdive_heat"
if (fmt eq "svg") {
	set terminal svg size 1000,450 font "Sans,13" noenhanced background "white"
} else {
	if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
		set terminal pngcairo size 1000,450 font "Sans,11" noenhanced background "white"
	} else {
		set terminal png size 1000,450 noenhanced
	}
}
set output name.".".fmt
set encoding utf8
set termoption noenhanced

chart_title = ""; scale_label = "Crimes"
stats name."-meta.dat" using (chart_title = strcol(1), scale_label = strcol(2), 0) nooutput
# the counts in white on the darkest cells (black on the palette's top third was hard to
# read); before the ranges are set, which stats would apply to the counts
stats name.".dat" using 3 nooutput prefix "H"
dark = H_max > 0 ? 0.62 * H_max : 1
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
set title chart_title noenhanced font ",14"
# long titles (the place, theme and period) shrink rather than run off the chart
if (tlen > 75) set title font ",12"
if (tlen > 95) set title font ",10"
set xlabel "Hour of the day"
set xrange [-0.5:23.5]
set yrange [6.5:-0.5]
set xtics 0, 1, 23 scale 0
set ytics ("Mon" 0, "Tue" 1, "Wed" 2, "Thu" 3, "Fri" 4, "Sat" 5, "Sun" 6) scale 0
set cblabel scale_label noenhanced offset 1.5,0
set cbrange [0:*]
set palette defined (0 "#ffffff", 1 "#fdd49e", 2 "#fc8d59", 3 "#d7301f", 4 "#7f0000")
set border 0
unset key
plot name.".dat" using 1:2:3 with image pixels notitle, \
	name.".dat" using 1:2:(sprintf("%d", $3)):($3 > dark ? 0xffffff : 0x000000) \
		with labels font ",8" tc rgb variable notitle
