# microbeat chart: micro-beats coloured by Getis-Ord Gi* class over the area outline.
#
# Data (written by microbeat, beside this script; NAME = this file's name without .gp):
#   NAME.dat          x_km y_km class   (one micro-beat a line; km east/north of the
#                     area's centre on microbeat's local plane, docs/methods-hotspots.md)
#                     class: 0 not significant, 1 hot 99%, 2 hot 95%, 3 hot 90%,
#                     4 cold 99%, 5 cold 95%, 6 cold 90%, 7 isolated, 8 not testable
#   NAME-outline.dat  x_km y_km         (rings of the area outline, blank line between)
#   NAME-labels.dat   x_km y_km "name" lx_km ly_km  (the peak micro-beat of each hot
#                     cluster, named, and where its label goes: moved down from the point
#                     until it clears the labels above it, with a leader line when moved;
#                     rows with an empty name draw nothing: they widen a map whose
#                     micro-beats lie on a line, or stand in when no cluster is named)
#   NAME-meta.dat     "title" "subtitle" outline n0 .. n8  (second title line: the area;
#                     outline: 1 when an outline is drawn; n0 .. n8: micro-beats drawn
#                     in class 0 .. 8: the key names only the classes drawn)
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
# micro-beats drawn per class (n0 .. n8, as the class numbers above)
array ncls[9]
do for [k = 1:9] { ncls[k] = 0 }
stats name."-meta.dat" using (chart_title = strcol(1), sub_title = strcol(2), \
	has_outline = int(column(3)), ncls[1] = int(column(4)), ncls[2] = int(column(5)), \
	ncls[3] = int(column(6)), ncls[4] = int(column(7)), ncls[5] = int(column(8)), \
	ncls[6] = int(column(9)), ncls[7] = int(column(10)), ncls[8] = int(column(11)), \
	ncls[9] = int(column(12)), 0) nooutput
# a key entry for class c only when the map draws one of its micro-beats
entry(c, text) = ncls[c + 1] > 0 ? text : ""
if (strlen(chart_title) == 0) chart_title = "Gi* hot spots"
if (strlen(sub_title) > 0) chart_title = chart_title."\n".sub_title
set title chart_title noenhanced font ",13"
set size ratio -1
set xlabel "km east"
set ylabel "km north"
set border 3 lc rgb "#555555"
set tics nomirror textcolor rgb "#333333"
set key outside right center vertical Left reverse samplen 1.5 spacing 1.3
# ColorBrewer RdBu (11 classes): three reds and three blues evenly apart, the
# palest (90%) still well clear of the not-significant grey
colour(c) = c == 1 ? 0xb2182b : c == 2 ? 0xd6604d : c == 3 ? 0xf4a582 : \
	c == 4 ? 0x2166ac : c == 5 ? 0x4393c3 : c == 6 ? 0x92c5de : c == 7 ? 0x999999 : 0xdddddd
size(c) = (c >= 1 && c <= 6) ? 1.0 : 0.45
plot name."-outline.dat" using 1:2 with lines lc rgb "#444444" lw 1 title (has_outline ? "area boundary" : ""), \
	name.".dat" using 1:2:(size($3)):(colour($3)) with points pt 7 ps variable lc rgb variable notitle, \
	name."-labels.dat" using 1:2:($5 != $2 ? $4 - $1 : NaN):($5 - $2) with vectors nohead \
		lc rgb "#888888" lw 0.8 notitle, \
	name."-labels.dat" using 4:5:(strcol(3)) with labels left offset 0.8,0.4 font ",9" tc rgb "#222222" notitle, \
	NaN with points pt 7 lc rgb "#b2182b" title entry(1, "hot spot, 99% conf."), \
	NaN with points pt 7 lc rgb "#d6604d" title entry(2, "hot spot, 95%"), \
	NaN with points pt 7 lc rgb "#f4a582" title entry(3, "hot spot, 90%"), \
	NaN with points pt 7 lc rgb "#2166ac" title entry(4, "cold spot, 99%"), \
	NaN with points pt 7 lc rgb "#4393c3" title entry(5, "cold spot, 95%"), \
	NaN with points pt 7 lc rgb "#92c5de" title entry(6, "cold spot, 90%"), \
	NaN with points pt 7 lc rgb "#dddddd" title entry(0, "not significant"), \
	NaN with points pt 7 lc rgb "#dddddd" title entry(8, "not testable"), \
	NaN with points pt 7 lc rgb "#999999" title entry(7, "isolated (no neighbour)")
