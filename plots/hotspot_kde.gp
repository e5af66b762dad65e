# microbeat chart: quartic kernel density of crime over the area outline.
#
# Data (written by microbeat, beside this script; NAME = this file's name without .gp):
#   NAME.dat          x_km y_km density  (cell centres, rows separated by a blank line;
#                     crimes per km^2; NaN = outside the area, left blank)
#   NAME-outline.dat  x_km y_km          (rings of the area outline, blank line between)
#   NAME-meta.dat     "title" "subtitle" outline  (second title line: the area; outline:
#                     1 when an outline is drawn)
# Restyle freely and run `gnuplot NAME.gp` in this folder (for SVG:
# gnuplot -e "fmt='svg'" NAME.gp).
#
# SAFETY RULE: never paste names or other text from the data into this file.
# gnuplot runs back-quoted text and system() as shell commands; text belongs
# in the data files, read with strcol().

if (!exists("fmt")) fmt = "png"
name = (strlen(ARG0) > 3 && ARG0[strlen(ARG0)-2:] eq ".gp") ? ARG0[1:strlen(ARG0)-3] : "hotspot_kde"
if (fmt eq "svg") {
	set terminal svg size 900,900 font "Sans,13" noenhanced background "white"
} else {
	if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
		set terminal pngcairo size 900,900 font "Sans,11" noenhanced background "white"
	} else {
		set terminal png size 900,900 noenhanced
	}
}
set output name.".".fmt
set encoding utf8
set termoption noenhanced
chart_title = ""; sub_title = ""; has_outline = 0
stats name."-meta.dat" using (chart_title = strcol(1), sub_title = strcol(2), has_outline = int(column(3)), 0) nooutput
if (strlen(chart_title) == 0) chart_title = "Crime density"
if (strlen(sub_title) > 0) chart_title = chart_title."\n".sub_title
set title chart_title noenhanced font ",13"
set size ratio -1
set xlabel "km east"
set ylabel "km north"
set border 3 lc rgb "#555555"
set tics nomirror textcolor rgb "#333333"
set cblabel "crimes per km² (quartic kernel)"
set palette defined (0 "#ffffcc", 0.25 "#fed976", 0.5 "#fd8d3c", 0.75 "#e31a1c", 1 "#800026")
unset key
plot name.".dat" using 1:2:3 with image, \
	name."-outline.dat" using 1:2 with lines lc rgb "#333333" lw 1
