# microbeat chart: Lorenz curve of crime concentration across streets.
#
# Data (written by microbeat, beside this script; NAME = this file's name
# without .gp):
#   NAME.dat         x y   cumulative % of streets (most crime first), cumulative % of crime
#   NAME-chance.dat  x y   the same curve expected by chance (NaN row when none)
#   NAME-mark.dat    x y p share   the marked top-p% point
#   NAME-meta.dat    "title" "what" has_chance has_mark
# Restyle freely and run `gnuplot NAME.gp` in this folder (fmt='svg' for SVG:
# gnuplot -e "fmt='svg'" NAME.gp).
#
# SAFETY RULE: never paste names or other text from the data into this file.
# gnuplot runs `back-quoted` text and system() as shell commands; text belongs
# in the data files, read with strcol()/columnheader/xticlabels().

if (!exists("fmt")) fmt = "png"
name = (strlen(ARG0) > 3 && ARG0[strlen(ARG0)-2:] eq ".gp") ? ARG0[1:strlen(ARG0)-3] : "lorenz"
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

chart_title = ""; what = "crime"; has_chance = 0; has_mark = 0
stats name."-meta.dat" using (chart_title = strcol(1), what = strcol(2), \
	has_chance = int(column(3)), has_mark = int(column(4)), 0) nooutput
if (strlen(chart_title) == 0) chart_title = "Concentration of ".what." on streets"

set title chart_title noenhanced font ",14"
set xlabel "Streets, ranked from most to least ".what." (cumulative % of streets)" noenhanced
set ylabel "Cumulative % of ".what noenhanced
set xrange [0:100]
set yrange [0:100]
set xtics 10
set ytics 10
set format x "%g%%"
set format y "%g%%"
set grid lt 1 lc rgb "#dddddd" lw 1
set border 3 lc rgb "#555555"
set tics nomirror
set key right bottom box lc rgb "#cccccc" opaque spacing 1.3 width 1
set style textbox opaque noborder

plot x with lines dt 2 lw 1.5 lc rgb "#888888" title "Equality: every street the same", \
	name."-chance.dat" using 1:2 with lines lw 2 dt 4 lc rgb "#2c7fb8" \
		title (has_chance ? "Expected by chance" : ""), \
	name.".dat" using 1:2 with lines lw 3 lc rgb "#c0392b" title "Observed", \
	name."-mark.dat" using 1:2 with points pt 7 ps 1.8 lc rgb "#000000" notitle, \
	name."-mark.dat" using 1:2:(sprintf("%g%% of streets → %.0f%% of %s", $3, $4, what)) \
		with labels left offset 2,-0.4 boxed font ",12" notitle
