# microbeat chart: seasonal profile, mean count per month of the year.
#
# Data (written by microbeat, beside this script; NAME = this file's name
# without .gp):
#   NAME.dat        index mean lo hi "month label"   (order as written: Apr..Mar or Jan..Dec;
#                   lo/hi = lowest and highest year for that month, NaN = none)
#   NAME-meta.dat   "title" "y label" n has_whiskers
# Restyle freely and run `gnuplot NAME.gp` in this folder (for SVG:
# gnuplot -e "fmt='svg'" NAME.gp).
#
# SAFETY RULE: never paste names or other text from the data into this file.
# gnuplot runs back-quoted text and system() as shell commands; text belongs
# in the data files, read with strcol(), columnheader or xticlabels().

if (!exists("fmt")) fmt = "png"
name = (strlen(ARG0) > 3 && ARG0[strlen(ARG0)-2:] eq ".gp") ? ARG0[1:strlen(ARG0)-3] : "seasonal"
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

chart_title = ""; value_label = "Mean crimes per month"; n = 12; has_whiskers = 0
stats name."-meta.dat" using (chart_title = strcol(1), value_label = strcol(2), \
	n = int(column(3)), has_whiskers = int(column(4)), 0) nooutput
if (strlen(chart_title) == 0) chart_title = "Seasonal profile"
stats name.".dat" using 2 nooutput prefix "M"

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
# long titles (area, theme and period) shrink rather than run off the chart
if (tlen > 75) set title font ",12"
if (tlen > 95) set title font ",10"
set ylabel value_label noenhanced
set xlabel "Month of the year"
set xrange [0.4 : n + 0.6]
set yrange [0:*]
set xtics scale 0
set grid noxtics ytics
set style fill solid 0.85 noborder
set boxwidth 0.7
set key outside below center horizontal
set bmargin 5.5

plot name.".dat" using 1:2:xticlabels(5) with boxes lc rgb "#2c7fb8" title "Mean per month", \
	name.".dat" using 1:3:(0):($4-$3) with vectors heads size screen 0.006,90 lw 1.5 lc rgb "#333333" \
		title (has_whiskers ? "Lowest and highest year" : ""), \
	M_mean with lines dt 2 lw 1.5 lc rgb "#c0392b" title "Average of all months"
