# microbeat chart: heat map of units (rows) by categories (columns), flag counts.
#
# Data (written by microbeat, beside this script; NAME = this file's name
# without .gp):
#   NAME.dat        column row value   (one line per cell; NaN = blank)
#   NAME-rows.dat   row "unit label"
#   NAME-cols.dat   column "category label"
#   NAME-meta.dat   "title" "scale label" nrows ncols vmax
#                   (scale label empty: counts 0..vmax; else rate ratios on a log
#                   scale 1/vmax..vmax, blue below 1, red above: red means high only)
# Restyle freely and run `gnuplot NAME.gp` in this folder (for SVG:
# gnuplot -e "fmt='svg'" NAME.gp).
#
# SAFETY RULE: never paste names or other text from the data into this file.
# gnuplot runs back-quoted text and system() as shell commands; text belongs
# in the data files, read with strcol(), columnheader or xticlabels().

if (!exists("fmt")) fmt = "png"
name = (strlen(ARG0) > 3 && ARG0[strlen(ARG0)-2:] eq ".gp") ? ARG0[1:strlen(ARG0)-3] : "heatmap"
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

chart_title = ""; scale_label = ""; nrows = 1; ncols = 1; vmax = 4
stats name."-meta.dat" using (chart_title = strcol(1), scale_label = strcol(2), \
	nrows = int(column(3)), ncols = int(column(4)), vmax = column(5), 0) nooutput
if (strlen(chart_title) == 0) chart_title = "Flags by unit and category"

# long titles (area, layer, period) shrink to stay on the page
tfont = strlen(chart_title) > 95 ? ",11" : strlen(chart_title) > 80 ? ",12" : ",14"
set title chart_title noenhanced font tfont
set xrange [-0.5 : ncols - 0.5]
set yrange [nrows - 0.5 : -0.5]
ratio = strlen(scale_label) > 0
if (ratio) {
	set logscale cb
	set cbrange [1.0 / vmax : vmax]
	set cbtics ("0.5" 0.5, "0.67" 0.667, "1" 1, "1.5" 1.5, "2" 2) scale 0
	set cblabel scale_label noenhanced
	set palette defined (0 "#2166ac", 0.5 "#f7f7f7", 1 "#b2182b")
	set palette maxcolors 0
} else {
	set cbrange [-0.5 : vmax + 0.5]
	set cbtics 1 scale 0
	set cblabel "Number of flags"
	set palette defined (0 "#f7f7f7", 1 "#fee5d9", 2 "#fcae91", 3 "#fb6a4a", 4 "#cb181d")
	set palette maxcolors (vmax + 1)
}
# Smaller text when there are many rows or columns (font sizes are numbers).
rowfont = sprintf(",%d", nrows > 24 ? 7 : (nrows > 16 ? 8 : 10))
colfont = sprintf(",%d", ncols > 12 ? 8 : 10)
cellfont = sprintf(",%d", (nrows > 24 || ncols > 16) ? 7 : 10)
set xtics rotate by 40 right scale 0 font colfont
set ytics scale 0 font rowfont
unset grid
set border 0
set tics front
unset key
set bmargin 8

# White text on the darkest cells, black elsewhere.
textcolour(v) = (valid(3) && (ratio ? (v >= 1.7 || v <= 0.6) : v >= vmax - 0.5)) ? 0xffffff : 0x000000
plot name.".dat" using 1:2:(ratio && valid(3) ? ($3 < 1.0 / vmax ? 1.0 / vmax : ($3 > vmax ? vmax : $3)) : $3) with image pixels notitle, \
	name.".dat" using 1:2:(valid(3) ? (ratio ? sprintf("%.2f", $3) : sprintf("%g", $3)) : "–"):(textcolour($3)) with labels font cellfont tc rgb variable notitle, \
	name."-cols.dat" using 1:(NaN):xticlabels(2) notitle, \
	name."-rows.dat" using (NaN):1:yticlabels(2) notitle
