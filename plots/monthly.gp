# microbeat chart: monthly series with c-chart limits and fitted trend.
#
# Data (written by microbeat, beside this script; NAME = this file's name
# without .gp):
#   NAME.dat        YYYY-MM count ucl lcl   (a blank line where a month is missing: a gap)
#   NAME-fit.dat    YYYY-MM trend centre ucl lcl gap   (every month; NaN = none)
#   NAME-meta.dat   "title" "y label" gaps has_centre has_trend has_limits above below
#                   (above, below: months over the upper limit, under the lower limit)
#   NAME-note.dat   "note under the chart (run rules)" "the centre line's key entry" 1
# Restyle freely and run `gnuplot NAME.gp` in this folder (for SVG:
# gnuplot -e "fmt='svg'" NAME.gp).
#
# SAFETY RULE: never paste names or other text from the data into this file.
# gnuplot runs back-quoted text and system() as shell commands; text belongs
# in the data files, read with strcol(), columnheader or xticlabels().

if (!exists("fmt")) fmt = "png"
name = (strlen(ARG0) > 3 && ARG0[strlen(ARG0)-2:] eq ".gp") ? ARG0[1:strlen(ARG0)-3] : "monthly"
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

chart_title = ""; value_label = "Crimes per month"
gaps = 0; has_centre = 0; has_trend = 0; has_limits = 0; above = 0; below = 0
stats name."-meta.dat" using (chart_title = strcol(1), value_label = strcol(2), \
	gaps = int(column(3)), has_centre = int(column(4)), has_trend = int(column(5)), \
	has_limits = int(column(6)), above = int(column(7)), below = int(column(8)), 0) nooutput
if (strlen(chart_title) == 0) chart_title = "Monthly ".value_label
note = ""; centre_key = "Centre line (mean)"
stats name."-note.dat" using (note = strcol(1), centre_key = strcol(2), 0) nooutput

# Highest value drawn, to size the grey bars that mark missing months.
stats name."-fit.dat" using 4 nooutput prefix "L"
stats name.".dat" using 2 nooutput prefix "C"
stats name."-fit.dat" using (valid(2) ? $2 : 0) nooutput prefix "F"
top = C_max
if (has_trend && F_max > top) top = F_max
if (has_limits && L_max > top) top = L_max
top = top * 1.08
# a series of zeros still gets an axis (gnuplot refuses an empty range)
if (top < 1) top = 1

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
set xdata time
set timefmt "%Y-%m"
set format x "%b\n%Y"
set xtics out
set yrange [0:top]
# counts are whole numbers: no fractional steps on a small axis
if (top <= 10) set ytics 1
set format y "%g"
if (strlen(note) > 0) set label 1 note at screen 0.5, screen 0.15 center font ",10" tc rgb "#333333" noenhanced
set offsets 1209600, 1209600, 0, 0
set key at screen 0.5, screen 0.01 bottom center horizontal maxrows 2 spacing 1.2 width 2
set bmargin 10.5
set style fill solid 1.0 noborder
set autoscale xfix

plot name."-fit.dat" using 1:($6 > 0 ? top : NaN) with impulses lw 10 lc rgb "#eeeeee" \
		title (gaps > 0 ? "Month not loaded (gap)" : ""), \
	name."-fit.dat" using 1:3 with lines lw 1.5 lc rgb "#555555" \
		title (has_centre ? centre_key : ""), \
	name."-fit.dat" using 1:4 with lines dt 2 lw 1.5 lc rgb "#d62728" \
		title (has_limits ? "Control limits (mean ± 3√mean)" : ""), \
	name."-fit.dat" using 1:($5 > 0 ? $5 : NaN) with lines dt 2 lw 1.5 lc rgb "#d62728" notitle, \
	name."-fit.dat" using 1:2 with lines lw 2 lc rgb "#ff7f0e" \
		title (has_trend ? "Fitted trend" : ""), \
	name.".dat" using 1:2 with linespoints pt 7 ps 0.7 lw 2 lc rgb "#2c7fb8" \
		title "Monthly count", \
	name.".dat" using 1:($2 > $3 ? $2 : NaN) with points pt 7 ps 1.6 lc rgb "#d62728" \
		title (above > 0 ? "Above the upper limit" : ""), \
	name.".dat" using 1:($2 < $4 ? $2 : NaN) with points pt 11 ps 2 lc rgb "#08306b" \
		title (below > 0 ? "Below the lower limit" : "")
