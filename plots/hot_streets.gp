# microbeat chart: power-few streets, bar chart of counts.
#
# Data (written by microbeat, beside this script; NAME = this file's name
# without .gp):
#   NAME.dat        rank count "street label"   (rank 1 = top bar)
#   NAME-meta.dat   "title" "value label" n
# Restyle freely and run `gnuplot NAME.gp` in this folder (for SVG:
# gnuplot -e "fmt='svg'" NAME.gp).
#
# SAFETY RULE: never paste names or other text from the data into this file.
# gnuplot runs back-quoted text and system() as shell commands; text belongs
# in the data files, read with strcol(), columnheader or xticlabels().

if (!exists("fmt")) fmt = "png"
name = (strlen(ARG0) > 3 && ARG0[strlen(ARG0)-2:] eq ".gp") ? ARG0[1:strlen(ARG0)-3] : "hot_streets"
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

chart_title = ""; value_label = "Crimes"; n = 1
stats name."-meta.dat" using (chart_title = strcol(1), value_label = strcol(2), \
	n = int(column(3)), 0) nooutput
if (strlen(chart_title) == 0) chart_title = "Streets with the highest counts"

set title chart_title noenhanced font ",14"
set xlabel value_label noenhanced
set yrange [n + 0.6 : 0.4]
set xrange [0:*]
set offsets 0, graph 0.08, 0, 0
labelfont = sprintf(",%d", n > 25 ? 8 : 10)
set ytics scale 0 font labelfont
set grid noytics xtics
set border 1
set style fill solid 0.9 noborder
unset key

plot name.".dat" using ($2/2):1:($2/2):(0.38):yticlabels(3) with boxxyerror \
		lc rgb "#c0392b" notitle, \
	name.".dat" using 2:1:(sprintf(" %g", $2)) with labels left font ",10" notitle
