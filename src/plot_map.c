/* plot_map — the hot spot maps: data files, then plot_render. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "microbeat/hotspot.h"
#include "microbeat/plot.h"
#include "microbeat/plot_map.h"

/* Write NAME<suffix>: the outline rings, blank line between rings (gnuplot
 * breaks the line there); one far-away NaN row when there is no outline, so
 * the script's plot command still finds a file. */
static int write_outline(const char *outdir, const char *name, const struct plot_outline *o,
			 struct mb_error *err)
{
	char file[PLOT_NAME_MAX + 32];
	struct plot_dat d;
	int r;

	snprintf(file, sizeof(file), "%s-outline.dat", name);
	if ((r = plot_dat_open(&d, outdir, file, err)))
		return r;
	for (size_t k = 0; k < o->nring; k++) {
		for (size_t v = o->start[k]; v < o->start[k + 1]; v++) {
			plot_dat_num(&d, o->x[v] / 1000.0);
			plot_dat_num(&d, o->y[v] / 1000.0);
			plot_dat_endrow(&d);
		}
		plot_dat_gap(&d);
	}
	if (o->nring == 0) {
		plot_dat_num(&d, NAN);
		plot_dat_num(&d, NAN);
		plot_dat_endrow(&d);
	}
	return plot_dat_close(&d, err);
}

/* Write NAME-meta.dat: the title, its second line, a flag (1 = an outline
 * is drawn), then the ncount numbers of count (none when ncount is 0). */
static int write_meta(const char *outdir, const char *name, const char *title, const char *sub,
		      int outline, const size_t *count, size_t ncount, struct mb_error *err)
{
	char file[PLOT_NAME_MAX + 32];
	struct plot_dat d;
	int r;

	snprintf(file, sizeof(file), "%s-meta.dat", name);
	if ((r = plot_dat_open(&d, outdir, file, err)))
		return r;
	plot_dat_text(&d, title ? title : "");
	plot_dat_text(&d, sub ? sub : "");
	plot_dat_int(&d, outline);
	for (size_t k = 0; k < ncount; k++)
		plot_dat_int(&d, (int64_t)count[k]);
	plot_dat_endrow(&d);
	return plot_dat_close(&d, err);
}

/* Widen one axis of bounds lo..hi (metres) about its centre to at least span: two
 * empty labels at its new ends, on the other axis' centre mid. Return the rows. */
static size_t widen_axis(struct plot_dat *d, int is_x, double lo, double hi, double span,
			 double mid)
{
	double c = (lo + hi) / 2.0;

	if (hi - lo >= span)
		return 0;
	for (int side = -1; side <= 1; side += 2) {
		double at = c + side * span / 2.0;

		plot_dat_num(d, (is_x ? at : mid) / 1000.0);
		plot_dat_num(d, (is_x ? mid : at) / 1000.0);
		plot_dat_text(d, "");
		plot_dat_num(d, (is_x ? at : mid) / 1000.0);
		plot_dat_num(d, (is_x ? mid : at) / 1000.0);
		plot_dat_endrow(d);
	}
	return 2;
}

/* The bounds (metres: x0, x1, y0, y1) of what the map draws, its micro-beats
 * and outline; 0 when it draws no point. */
static int map_bounds(const struct plot_classmap *in, double b[4])
{
	const struct plot_outline *o = &in->outline;
	size_t nv = o->nring ? o->start[o->nring] : 0;

	b[0] = b[2] = INFINITY;
	b[1] = b[3] = -INFINITY;
	for (size_t i = 0; i < in->n + nv; i++) {
		double x = i < in->n ? in->x[i] : o->x[i - in->n];
		double y = i < in->n ? in->y[i] : o->y[i - in->n];

		if (!isfinite(x) || !isfinite(y))
			continue;
		b[0] = fmin(b[0], x), b[1] = fmax(b[1], x);
		b[2] = fmin(b[2], y), b[3] = fmax(b[3], y);
	}
	return b[0] <= b[1];
}

/* The longer side (metres) of what the map draws, at least 200 m. */
static double map_span(const struct plot_classmap *in)
{
	double b[4];

	return map_bounds(in, b) ? fmax(200.0, fmax(b[1] - b[0], b[3] - b[2])) : 200.0;
}

/* Micro-beats on a line, or one alone, without an outline leave an axis all but
 * empty, and gnuplot at equal scales draws a sliver ("extreme aspect ratio"): an
 * axis thinner than a tenth of the other, or than 200 m, is widened with empty
 * labels, which autoscaling takes in. Return the rows written (0: none needed). */
static size_t extent_anchors(struct plot_dat *d, const struct plot_classmap *in)
{
	double b[4], span;
	size_t rows;

	if (!map_bounds(in, b))
		return 0;
	span = fmax(200.0, fmax(b[1] - b[0], b[3] - b[2]) / 10.0);
	rows = widen_axis(d, 1, b[0], b[1], span, (b[2] + b[3]) / 2.0);
	return rows + widen_axis(d, 0, b[2], b[3], span, (b[0] + b[1]) / 2.0);
}

/* The map's labels as gnuplot sets them (plots/hotspot_map.gp: 9 points,
 * left-aligned, 0.8 and 0.4 characters off the point) on a plot of about
 * MAP_PX pixels across its longer side, in pixels: a character's width and a
 * line's height, and the offsets. */
#define MAP_PX 700.0
#define LABEL_CHAR_PX 5.6
#define LABEL_LINE_PX 13.0

/* Where each of the n labels goes (lx, ly, metres): at its point, then in
 * order from the top, each moved down a line until its box clears every box
 * already placed (labels of micro-beats a street apart overlapped, "CHURCH
 * STPAREKING AREA"); the script draws a leader from a moved label to its
 * point. span: the map's longer side in metres. */
static void place_map_labels(const struct plot_classmap *in, double span, double *lx, double *ly)
{
	double px = span / MAP_PX, h = LABEL_LINE_PX * px;
	size_t n = in->nlabel, *idx = malloc((n + 1) * sizeof(size_t));

	for (size_t k = 0; k < n; k++) {
		lx[k] = in->x[in->label_at[k]];
		ly[k] = in->y[in->label_at[k]];
	}
	if (!idx)
		return; /* placed at their points */
	for (size_t k = 0; k < n; k++)
		idx[k] = k;
	for (size_t a = 1; a < n; a++) /* insertion sort: from the top, then from the left */
		for (size_t b = a; b > 0 && (ly[idx[b]] > ly[idx[b - 1]] ||
					     (ly[idx[b]] == ly[idx[b - 1]] && lx[idx[b]] < lx[idx[b - 1]]));
		     b--) {
			size_t t = idx[b];

			idx[b] = idx[b - 1];
			idx[b - 1] = t;
		}
	for (size_t a = 0; a < n; a++) {
		size_t i = idx[a];
		double wi = (strlen(in->label[i]) + 1) * LABEL_CHAR_PX * px;

		for (int moved = 1, guard = 0; moved && guard < 200; guard++) {
			moved = 0;
			for (size_t b = 0; b < a; b++) {
				size_t j = idx[b];
				double wj = (strlen(in->label[j]) + 1) * LABEL_CHAR_PX * px;

				if (lx[i] < lx[j] + wj && lx[j] < lx[i] + wi && fabs(ly[i] - ly[j]) < h) {
					ly[i] = ly[j] - h;
					moved = 1;
				}
			}
		}
	}
	free(idx);
}

int plot_classmap(const char *outdir, const char *name, const struct plot_classmap *in,
		  struct mb_error *err)
{
	char file[PLOT_NAME_MAX + 32];
	size_t ncls[HS_UNTESTABLE + 1] = { 0 };
	struct plot_dat d;
	int r;

	/* micro-beats drawn per class: the key names only the classes drawn */
	for (size_t i = 0; i < in->n; i++)
		if (isfinite(in->x[i]) && isfinite(in->y[i]) && in->cls[i] <= HS_UNTESTABLE)
			ncls[in->cls[i]]++;
	if ((r = write_outline(outdir, name, &in->outline, err)) ||
	    (r = write_meta(outdir, name, in->title, in->subtitle, in->outline.nring > 0, ncls,
			    HS_UNTESTABLE + 1, err)))
		return r;
	/* NAME-labels.dat: x km, y km, "name" of the labelled micro-beats, then
	 * any extent anchors. With no row at all, one empty label on the first
	 * micro-beat drawn (or the centre): gnuplot 5.4 crashes on a labels plot
	 * whose only row is NaN, which took every map without a hot cluster (and
	 * the folder with it) */
	double *lx = malloc((in->nlabel + 1) * sizeof(double));
	double *ly = malloc((in->nlabel + 1) * sizeof(double));

	if (!lx || !ly) {
		free(lx);
		free(ly);
		return mb_err(err, MB_ENOMEM, "out of memory");
	}
	place_map_labels(in, map_span(in), lx, ly);
	snprintf(file, sizeof(file), "%s-labels.dat", name);
	if ((r = plot_dat_open(&d, outdir, file, err))) {
		free(lx);
		free(ly);
		return r;
	}
	/* x km, y km, "name", then where the label goes (x km, y km) */
	for (size_t k = 0; k < in->nlabel; k++) {
		size_t i = in->label_at[k];

		plot_dat_num(&d, in->x[i] / 1000.0);
		plot_dat_num(&d, in->y[i] / 1000.0);
		plot_dat_text(&d, in->label[k]);
		plot_dat_num(&d, lx[k] / 1000.0);
		plot_dat_num(&d, ly[k] / 1000.0);
		plot_dat_endrow(&d);
	}
	free(lx);
	free(ly);
	if (extent_anchors(&d, in) + in->nlabel == 0) {
		double x = 0, y = 0;

		for (size_t i = 0; i < in->n; i++)
			if (isfinite(in->x[i]) && isfinite(in->y[i])) {
				x = in->x[i];
				y = in->y[i];
				break;
			}
		plot_dat_num(&d, x / 1000.0);
		plot_dat_num(&d, y / 1000.0);
		plot_dat_text(&d, "");
		plot_dat_num(&d, x / 1000.0);
		plot_dat_num(&d, y / 1000.0);
		plot_dat_endrow(&d);
	}
	if ((r = plot_dat_close(&d, err)))
		return r;
	snprintf(file, sizeof(file), "%s.dat", name);
	if ((r = plot_dat_open(&d, outdir, file, err)))
		return r;
	/* x km, y km, class: not significant first so hot and cold draw on top */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < in->n; i++) {
			int c = in->cls[i], sig = c >= HS_HOT99 && c <= HS_COLD90;

			if (!isfinite(in->x[i]) || !isfinite(in->y[i]) || sig != pass)
				continue;
			plot_dat_num(&d, in->x[i] / 1000.0);
			plot_dat_num(&d, in->y[i] / 1000.0);
			plot_dat_int(&d, c);
			plot_dat_endrow(&d);
		}
	if ((r = plot_dat_close(&d, err)))
		return r;
	return plot_render("hotspot_map", name, outdir, err);
}

int plot_kdemap(const char *outdir, const char *name, const struct plot_kdemap *in,
		struct mb_error *err)
{
	char file[PLOT_NAME_MAX + 32];
	struct plot_dat d;
	int r;

	if ((r = write_outline(outdir, name, &in->outline, err)) ||
	    (r = write_meta(outdir, name, in->title, in->subtitle, in->outline.nring > 0, NULL, 0,
			    err)))
		return r;
	snprintf(file, sizeof(file), "%s.dat", name);
	if ((r = plot_dat_open(&d, outdir, file, err)))
		return r;
	/* cell centres in km and the density per km^2; NaN outside the area */
	for (size_t j = 0; j < in->ny; j++) {
		for (size_t i = 0; i < in->nx; i++) {
			plot_dat_num(&d, (in->x0 + ((double)i + 0.5) * in->cell) / 1000.0);
			plot_dat_num(&d, (in->y0 + ((double)j + 0.5) * in->cell) / 1000.0);
			plot_dat_num(&d, in->dens[j * in->nx + i]);
			plot_dat_endrow(&d);
		}
		plot_dat_gap(&d);
	}
	if ((r = plot_dat_close(&d, err)))
		return r;
	return plot_render("hotspot_kde", name, outdir, err);
}
