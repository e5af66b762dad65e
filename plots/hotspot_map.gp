# microbeat chart: micro-beats coloured by Getis-Ord Gi* class over the area outline.
#
# Data (written by microbeat, beside this script; NAME = this file's name without .gp):
#   NAME.dat          x_km y_km class   (one micro-beat a line; km east/north of the
#                     area's centre on microbeat's local plane, docs/methods-hotspots.md)
#                     class: 0 not significant, 1 hot 99%, 2 hot 95%, 3 hot 90%,
#                     4 cold 99%, 5 cold 95%, 6 cold 90%, 7 isolated, 8 not testable
#   NAME-outline.dat  x_km y_km         (rings of the area outline, blank line between)
#   NAME-labels.dat   x_km y_km "name"  (the peak micro-beat of each hot cluster, named;
#                     rows with an empty name draw nothing: they widen a map whose
#                     micro-beats lie on a line, or stand in when no cluster is named)
#   NAME-meta.dat     "title" "subtitle" outline  (second title line: the area; outline:
#                     1 when an outline is drawn)
# Restyle freely and run `gnuplot NAME.gp` in this folder (for SVG:
# gnuplot -e "fmt='svg'" NAME.gp).
#
# SAFETY RULE: never paste names or other text from the data into this file.
# gnuplot runs back-quoted text and system() as shell commands; text belongs
# in the data files, read with strcol().

if (!exists("fmt")) fmt = "png"
name = (strlen(ARG0) > 3 && ARG0[strlen(ARG0)-2:] eq ".gp") ? ARG0[1:strlen(ARG0)-3] : "hotspot_map"
if (fmt eq "svg") {
	set terminal svg size 1150,900 font "Sans,13" noenhanced background "white"
} else {
	if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
		set terminal pngcairo size 1150,900 font "Sans,11" noenhanced background "white"
	} else {
		set terminal png size 1150,900 noenhanced
	}
}
set output name.".".fmt
set encoding utf8
set termoption noenhanced
chart_title = ""; sub_title = ""; has_outline = 0
stats name."-meta.dat" using (chart_title = strcol(1), sub_title = strcol(2), has_outline = int(column(3)), 0) nooutput
if (strlen(chart_title) == 0) chart_title = "Gi* hot spots"
if (strlen(sub_title) > 0) chart_title = chart_title."\n".sub_title
set title chart_title noenhanced font ",13"
set size ratio -1
set xlabel "km east"
set ylabel "km north"
set border 3 lc rgb "#555555"
set tics nomirror textcolor rgb "#333333"
set key outside right center vertical Left reverse samplen 1.5 spacing 1.3
colour(c) = c == 1 ? 0xb2182b : c == 2 ? 0xef8a62 : c == 3 ? 0xfddbc7 : \
	c == 4 ? 0x2166ac : c == 5 ? 0x67a9cf : c == 6 ? 0xd1e5f0 : c == 7 ? 0x999999 : 0xdddddd
size(c) = (c >= 1 && c <= 6) ? 1.0 : 0.45
plot name."-outline.dat" using 1:2 with lines lc rgb "#444444" lw 1 title (has_outline ? "area boundary" : ""), \
	name.".dat" using 1:2:(size($3)):(colour($3)) with points pt 7 ps variable lc rgb variable notitle, \
	name."-labels.dat" using 1:2:(strcol(3)) with labels left offset 0.8,0.4 font ",9" tc rgb "#222222" notitle, \
	NaN with points pt 7 lc rgb "#b2182b" title "hot spot, 99% conf.", \
	NaN with points pt 7 lc rgb "#ef8a62" title "hot spot, 95%", \
	NaN with points pt 7 lc rgb "#fddbc7" title "hot spot, 90%", \
	NaN with points pt 7 lc rgb "#2166ac" title "cold spot, 99%", \
	NaN with points pt 7 lc rgb "#67a9cf" title "cold spot, 95%", \
	NaN with points pt 7 lc rgb "#d1e5f0" title "cold spot, 90%", \
	NaN with points pt 7 lc rgb "#dddddd" title "not significant", \
	NaN with points pt 7 lc rgb "#999999" title "isolated (no neighbour)"
