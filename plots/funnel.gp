# microbeat chart: funnel plot of unit rates against population.
#
# Data (written by microbeat, beside this script; NAME = this file's name
# without .gp):
#   NAME.dat          population rate outlier "unit label" label_y show
#                     (outlier 0 inside, 1 / 2 above the 95% / 99.8% limit, -1 / -2 below;
#                     label_y: where the label goes, placed by microbeat so that labels do
#                     not overlap; show: 1 = label this point)
#   NAME-limits.dat   population lo95 hi95 lo998 hi998
#   NAME-meta.dat     "title" "y label" district_rate n below998 below95 within above95 above998
#                     (points drawn in each outlier class -2 .. 2: the key names only the
#                     classes drawn)
# Restyle freely and run `gnuplot NAME.gp` in this folder (for SVG:
# gnuplot -e "fmt='svg'" NAME.gp).
#
# SAFETY RULE: never paste names or other text from the data into this file.
# gnuplot runs back-quoted text and system() as shell commands; text belongs
# in the data files, read with strcol(), columnheader or xticlabels().

if (!exists("fmt")) fmt = "png"
name = (strlen(ARG0) > 3 && ARG0[strlen(ARG0)-2:] eq ".gp") ? ARG0[1:strlen(ARG0)-3] : "funnel"
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

chart_title = ""; value_label = "Rate per 1,000 residents"; district = NaN; n = 0
below998 = 0; below95 = 0; within = 0; above95 = 0; above998 = 0
stats name."-meta.dat" using (chart_title = strcol(1), value_label = strcol(2), \
	district = column(3), n = int(column(4)), below998 = int(column(5)), \
	below95 = int(column(6)), within = int(column(7)), above95 = int(column(8)), \
	above998 = int(column(9)), 0) nooutput
if (strlen(chart_title) == 0) chart_title = "Funnel plot"

# Red means high only: above the limits orange (95%) / red (99.8%), below them
# blue (95%) / navy (99.8%), inside grey.
pointcolour(o) = o >= 2 ? 0xc0392b : o >= 1 ? 0xe67e22 : o <= -2 ? 0x08306b : \
	o <= -1 ? 0x2166ac : 0x969696

# long titles (area, layer, period, categories) shrink to stay on the page
tfont = strlen(chart_title) > 95 ? ",11" : strlen(chart_title) > 80 ? ",12" : ",14"
set title chart_title noenhanced font tfont
set xlabel "Population"
set ylabel value_label noenhanced
set format x "%.0f"
set xrange [0:*]
set yrange [0:*]
# The key goes below the chart: inside, it hid the highest units.
set key outside bottom center horizontal maxrows 2 spacing 1.2 width 1
set offsets 0, graph 0.05, graph 0.05, 0

# Keep the chart on the points: the limits of the smallest units run far off it.
stats name.".dat" using 2 nooutput
ytop = STATS_max * 1.35
set yrange [0:ytop]

plot name."-limits.dat" using 1:5 with lines lw 1.5 lc rgb "#888888" title "99.8% limits (adjusted)", \
	name."-limits.dat" using 1:4 with lines lw 1.5 lc rgb "#888888" notitle, \
	name."-limits.dat" using 1:3 with lines dt 2 lw 1.5 lc rgb "#888888" title "95% limits (adjusted)", \
	name."-limits.dat" using 1:2 with lines dt 2 lw 1.5 lc rgb "#888888" notitle, \
	district with lines lw 2 lc rgb "#333333" title "District rate", \
	name.".dat" using 1:2:(pointcolour($3)) with points pt 7 ps 1.3 lc rgb variable notitle, \
	name.".dat" using ($6 > 0 ? $1 : NaN):2:(0):($5 - $2) with vectors nohead lw 0.5 lc rgb "#999999" notitle, \
	name.".dat" using 1:5:($6 > 0 ? strcol(4) : "") with labels left offset 0.8,0 font ",10" notitle, \
	NaN with points pt 7 ps 1.3 lc rgb "#969696" title (within > 0 ? "Within limits" : ""), \
	NaN with points pt 7 ps 1.3 lc rgb "#e67e22" title (above95 > 0 ? "Above the 95% limit" : ""), \
	NaN with points pt 7 ps 1.3 lc rgb "#c0392b" title (above998 > 0 ? "Above the 99.8% limit" : ""), \
	NaN with points pt 7 ps 1.3 lc rgb "#2166ac" title (below95 > 0 ? "Below the 95% limit" : ""), \
	NaN with points pt 7 ps 1.3 lc rgb "#08306b" title (below998 > 0 ? "Below the 99.8% limit" : "")
