/*
 * hotspot — Gi*, hot spot patterns, quartic KDE, PAI/PEI/RRI and Knox.
 * Sections follow docs/methods-hotspots.md.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "microbeat/hotspot.h"
#include "microbeat/util.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- §1 projection and the neighbour grid ---------------------------------- */

/* Metres per degree of latitude on the WGS84 ellipsoid at latitude lat. */
static double m_per_deg_lat(double lat)
{
	double phi = lat * M_PI / 180.0;

	return 111132.92 - 559.82 * cos(2 * phi) + 1.175 * cos(4 * phi) - 0.0023 * cos(6 * phi);
}

/* Metres per degree of longitude on the WGS84 ellipsoid at latitude lat. */
static double m_per_deg_lon(double lat)
{
	double phi = lat * M_PI / 180.0;

	return 111412.84 * cos(phi) - 93.5 * cos(3 * phi) + 0.118 * cos(5 * phi);
}

void hs_project(double lon, double lat, double lon0, double lat0, double *x, double *y)
{
	if (!isfinite(lon) || !isfinite(lat)) {
		*x = *y = NAN;
		return;
	}
	*x = (lon - lon0) * m_per_deg_lon(lat);
	*y = (lat - lat0) * m_per_deg_lat(0.5 * (lat + lat0));
}

void hs_unproject(double x, double y, double lon0, double lat0, double *lon, double *lat)
{
	double la = lat0 + y / m_per_deg_lat(lat0);

	/* y depends on the mid latitude: a few fixed-point steps converge */
	for (int k = 0; k < 6; k++)
		la = lat0 + y / m_per_deg_lat(0.5 * (la + lat0));
	*lat = la;
	*lon = lon0 + x / m_per_deg_lon(la);
}

/* Points sorted by cell: the cells a query needs are a few key ranges. */
struct grid {
	double x0, y0, cs;   /* origin and cell side (metres) */
	int64_t nx, ny;      /* cells across and up (with a margin of one) */
	size_t n;            /* points indexed (finite coordinates) */
	int64_t *key;        /* sorted cell keys: cx * ny + cy */
	size_t *idx;         /* the point of each key */
	uint32_t *cell;      /* nx * ny + 1 entries: the first key of each cell, when the
				grid has at most 16 cells a point (a span is then two
				loads; 64 bytes a point at most); else NULL */
	uint32_t *col;       /* else nx + 1 entries: the first key of each column, so that
				a search stays within one column's keys (a few hundred, in
				cache) instead of all of them; NULL when the grid has far
				more columns than points */
};

/* Key and index of one indexed point, for sorting. */
struct grid_item {
	int64_t key;  /* cell key */
	size_t idx;   /* point index */
};

/* Order grid items by key, then by index (stable result). */
static int cmp_item(const void *a, const void *b)
{
	const struct grid_item *p = a, *q = b;

	if (p->key != q->key)
		return p->key < q->key ? -1 : 1;
	return p->idx < q->idx ? -1 : p->idx > q->idx;
}

/* Cell of (x, y), clamped into the grid. */
static void grid_cell(const struct grid *g, double x, double y, int64_t *cx, int64_t *cy)
{
	double fx = floor((x - g->x0) / g->cs), fy = floor((y - g->y0) / g->cs);

	*cx = fx < 0 ? 0 : fx >= (double)g->nx ? g->nx - 1 : (int64_t)fx;
	*cy = fy < 0 ? 0 : fy >= (double)g->ny ? g->ny - 1 : (int64_t)fy;
}

/* For each of the nb buckets of width w of the m sorted keys, the position of
 * its first key (nb + 1 entries, the last m); NULL when out of memory. */
static uint32_t *key_starts(const int64_t *key, size_t m, int64_t nb, int64_t w)
{
	uint32_t *start = malloc(((size_t)nb + 1) * sizeof(*start));
	size_t k = 0;

	if (!start)
		return NULL;
	for (int64_t c = 0; c <= nb; c++) {
		while (k < m && key[k] < c * w)
			k++;
		start[c] = (uint32_t)k;
	}
	return start;
}

/* Build g over the finite points with cell side cs (grown when the grid
 * would need more than 2^40 cells). Return 0 or -MB_ENOMEM. */
static int grid_build(struct grid *g, size_t n, const double *x, const double *y, double cs,
		      struct mb_error *err)
{
	double xmin = INFINITY, ymin = INFINITY, xmax = -INFINITY, ymax = -INFINITY;
	struct grid_item *it = NULL;
	size_t m = 0;

	memset(g, 0, sizeof(*g));
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(x[i]) || !isfinite(y[i]))
			continue;
		xmin = fmin(xmin, x[i]);
		xmax = fmax(xmax, x[i]);
		ymin = fmin(ymin, y[i]);
		ymax = fmax(ymax, y[i]);
		m++;
	}
	if (m == 0) {
		xmin = ymin = 0;
		xmax = ymax = 1;
	}
	while ((xmax - xmin) / cs * ((ymax - ymin) / cs) > 1e12)
		cs *= 2;
	g->x0 = xmin;
	g->y0 = ymin;
	g->cs = cs;
	g->nx = (int64_t)floor((xmax - xmin) / cs) + 2;
	g->ny = (int64_t)floor((ymax - ymin) / cs) + 2;
	it = malloc((m + 1) * sizeof(*it));
	g->key = malloc((m + 1) * sizeof(*g->key));
	g->idx = malloc((m + 1) * sizeof(*g->idx));
	if (!it || !g->key || !g->idx) {
		free(it);
		free(g->key);
		free(g->idx);
		memset(g, 0, sizeof(*g));
		return mb_err(err, MB_ENOMEM, "out of memory");
	}
	m = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t cx, cy;

		if (!isfinite(x[i]) || !isfinite(y[i]))
			continue;
		grid_cell(g, x[i], y[i], &cx, &cy);
		it[m].key = cx * g->ny + cy;
		it[m].idx = i;
		m++;
	}
	qsort(it, m, sizeof(*it), cmp_item);
	for (size_t k = 0; k < m; k++) {
		g->key[k] = it[k].key;
		g->idx[k] = it[k].idx;
	}
	g->n = m;
	free(it);
	/* an index is a speed-up: without memory for one, the keys are searched */
	if (m >= UINT32_MAX)
		return 0;
	if ((uint64_t)g->nx * (uint64_t)g->ny <= 16 * (uint64_t)m + 4096)
		g->cell = key_starts(g->key, m, g->nx * g->ny, 1);
	else if ((uint64_t)g->nx <= 4 * (uint64_t)m + 1024)
		g->col = key_starts(g->key, m, g->nx, g->ny);
	return 0;
}

static void grid_release(struct grid *g)
{
	free(g->key);
	free(g->idx);
	free(g->col);
	free(g->cell);
	memset(g, 0, sizeof(*g));
}

/* First position in g's keys [lo, hi) with key >= k (hi when none). */
static size_t grid_lower(const struct grid *g, size_t lo, size_t hi, int64_t k)
{

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (g->key[mid] < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Positions [*a, *b) of the points in column cx, rows cy0..cy1 (clamped). */
static void grid_span(const struct grid *g, int64_t cx, int64_t cy0, int64_t cy1, size_t *a,
		      size_t *b)
{
	if (cx < 0 || cx >= g->nx || cy1 < 0 || cy0 >= g->ny) {
		*a = *b = 0;
		return;
	}
	if (cy0 < 0)
		cy0 = 0;
	if (cy1 >= g->ny)
		cy1 = g->ny - 1;
	if (g->cell) {
		/* keys are cx * ny + cy: the span's cells are consecutive keys */
		*a = g->cell[cx * g->ny + cy0];
		*b = g->cell[cx * g->ny + cy1 + 1];
		return;
	}
	if (g->col) {
		/* column cx's keys are col[cx]..col[cx + 1] */
		size_t end = g->col[cx + 1];
		int64_t last = cx * g->ny + cy1;

		/* the span's points are then read by the caller: finding its
		 * end by stepping costs no more than that */
		*a = grid_lower(g, g->col[cx], end, cx * g->ny + cy0);
		for (*b = *a; *b < end && g->key[*b] <= last; (*b)++)
			;
		return;
	}
	*a = grid_lower(g, 0, g->n, cx * g->ny + cy0);
	*b = grid_lower(g, *a, g->n, cx * g->ny + cy1 + 1);
}

/* Is (dx, dy) surely longer than d (hypot(dx, dy) > d, which this leaves
 * uncalled when the square of the length is well clear of d's)? */
static int far_beyond(double dx, double dy, double d)
{
	double d2 = dx * dx + dy * dy;

	return d2 > d * d * (1 + 1e-9);
}

/* Is (dx, dy) longer than d, exactly as hypot(dx, dy) > d says? The
 * square, off by a few units in the last place, decides unless it lies
 * within 1e-9 of d's square; hypot (slow) decides there. */
static int beyond(double dx, double dy, double d)
{
	double d2 = dx * dx + dy * dy, d0 = d * d;

	if (d2 < d0 * (1 - 1e-9))
		return 0;
	if (d2 > d0 * (1 + 1e-9))
		return 1;
	return hypot(dx, dy) > d;
}

int hs_nearest(size_t n, const double *x, const double *y, double **nn, struct mb_error *err)
{
	double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY, cs;
	struct grid g;
	size_t m = 0;
	int r;

	*nn = malloc((n + 1) * sizeof(**nn));
	if (!*nn)
		return mb_err(err, MB_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (isfinite(x[i]) && isfinite(y[i])) {
			xmin = fmin(xmin, x[i]);
			xmax = fmax(xmax, x[i]);
			ymin = fmin(ymin, y[i]);
			ymax = fmax(ymax, y[i]);
			m++;
		}
	/* about two points a cell on average: rings stay cheap */
	cs = m > 1 ? sqrt(fmax((xmax - xmin) * (ymax - ymin), 1.0) * 2.0 / (double)m) : 1.0;
	if (!(cs > 1.0))
		cs = 1.0;
	if ((r = grid_build(&g, n, x, y, cs, err))) {
		free(*nn);
		*nn = NULL;
		return r;
	}
	for (size_t i = 0; i < n; i++) {
		double best = INFINITY;
		int64_t cx, cy, rmax = g.nx > g.ny ? g.nx : g.ny;

		if (!isfinite(x[i]) || !isfinite(y[i])) {
			(*nn)[i] = NAN;
			continue;
		}
		grid_cell(&g, x[i], y[i], &cx, &cy);
		for (int64_t ring = 0; ring <= rmax; ring++) {
			for (int64_t dx = -ring; dx <= ring; dx++) {
				int edge = dx == -ring || dx == ring;
				int64_t rows[2] = { cy - ring, cy + ring };

				for (int part = 0; part < (edge ? 1 : 2); part++) {
					size_t a, b;

					if (edge)
						grid_span(&g, cx + dx, cy - ring, cy + ring, &a, &b);
					else
						grid_span(&g, cx + dx, rows[part], rows[part], &a, &b);
					for (size_t k = a; k < b; k++) {
						size_t j = g.idx[k];
						double d;

						if (j == i || far_beyond(x[j] - x[i], y[j] - y[i],
									 best))
							continue;
						d = hypot(x[j] - x[i], y[j] - y[i]);
						if (d < best)
							best = d;
					}
					if (!edge && ring == 0)
						break;
				}
			}
			/* every point of ring + 1 lies at least ring cells away */
			if (best <= (double)ring * g.cs)
				break;
		}
		(*nn)[i] = best;
	}
	grid_release(&g);
	return 0;
}

/* ---- §2 Getis-Ord Gi* ------------------------------------------------------ */

const char *hs_class_name(int c)
{
	static const char *const names[] = { "not significant", "hot 99%", "hot 95%", "hot 90%",
					     "cold 99%", "cold 95%", "cold 90%", "isolated",
					     "not testable" };

	return c >= 0 && c <= HS_UNTESTABLE ? names[c] : "?";
}

/* Order of p-values for BH. */
struct pv {
	double p;   /* the p-value */
	size_t i;   /* its index */
};

static int cmp_pv(const void *a, const void *b)
{
	const struct pv *p = a, *q = b;

	if (p->p != q->p)
		return p->p < q->p ? -1 : 1;
	return p->i < q->i ? -1 : p->i > q->i;
}

int hs_bh(size_t n, const double *p, double *q, struct mb_error *err)
{
	struct pv *v = malloc((n + 1) * sizeof(*v));
	size_t m = 0;
	double run = 1.0;

	if (!v)
		return mb_err(err, MB_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		q[i] = NAN;
		if (isfinite(p[i]))
			v[m++] = (struct pv){ p[i], i };
	}
	qsort(v, m, sizeof(*v), cmp_pv);
	/* q_(k) = min over j >= k of p_(j) m / j (Benjamini & Hochberg 1995) */
	for (size_t k = m; k-- > 0;) {
		double t = v[k].p * (double)m / (double)(k + 1);

		if (t < run)
			run = t;
		q[v[k].i] = run;
	}
	free(v);
	return 0;
}

/* Allocate g's arrays for n points and take x's mean and (population)
 * standard deviation into *xbar and *s. */
static int gi_alloc(struct hs_gi *g, size_t n, double band, const double *x, double *xbar,
		    double *s, struct mb_error *err)
{
	double sum = 0, sum2 = 0, nn = (double)n;

	g->n = n;
	g->band = band;
	g->z = malloc(n * sizeof(double));
	g->p = malloc(n * sizeof(double));
	g->q = malloc(n * sizeof(double));
	g->nb = malloc(n * sizeof(int32_t));
	g->cls = calloc(n, 1);
	if (!g->z || !g->p || !g->q || !g->nb || !g->cls)
		return mb_err(err, MB_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		sum += x[i];
		sum2 += x[i] * x[i];
	}
	*xbar = sum / nn;
	*s = sqrt(fmax(sum2 / nn - *xbar * *xbar, 0.0));
	return 0;
}

/* Point i's Gi* in g from its neighbour count wsum (itself included) and
 * their sum wx of the counts. */
static void gi_point(struct hs_gi *g, size_t i, double wsum, double wx, double xbar, double s)
{
	double nn = (double)g->n, den;

	g->nb[i] = (int32_t)(wsum - 1);
	if (wsum <= 1) {
		g->cls[i] = HS_ISOLATED;
		g->isolated++;
		return;
	}
	den = (nn * wsum - wsum * wsum) / (nn - 1);
	if (!(s > 0) || !(den > 0)) {
		g->cls[i] = HS_UNTESTABLE;
		return;
	}
	g->z[i] = (wx - xbar * wsum) / (s * sqrt(den));
	g->p[i] = erfc(fabs(g->z[i]) / M_SQRT2);
}

/* g's BH q-values and classes, once every point's z and p are in. */
static int gi_classes(struct hs_gi *g, struct mb_error *err)
{
	int r;

	if ((r = hs_bh(g->n, g->p, g->q, err)))
		return r;
	for (size_t i = 0; i < g->n; i++) {
		double q = g->q[i];
		int hot = g->z[i] > 0;

		if (g->cls[i] || !isfinite(q))
			continue;
		if (q < 0.01)
			g->cls[i] = hot ? HS_HOT99 : HS_COLD99;
		else if (q < 0.05)
			g->cls[i] = hot ? HS_HOT95 : HS_COLD95;
		else if (q < 0.10)
			g->cls[i] = hot ? HS_HOT90 : HS_COLD90;
		if (g->cls[i] >= HS_HOT99 && g->cls[i] <= HS_HOT90)
			g->hot++;
		else if (g->cls[i] >= HS_COLD99 && g->cls[i] <= HS_COLD90)
			g->cold++;
	}
	return 0;
}

int hs_gistar(size_t n, const double *px, const double *py, const double *x, double band,
	      struct hs_gi *out, struct mb_error *err)
{
	return hs_gistar_periods(n, px, py, x, 1, band, out, err);
}

int hs_gistar_periods(size_t n, const double *px, const double *py, const double *x,
		      size_t nper, double band, struct hs_gi *out, struct mb_error *err)
{
	double *xbar = NULL, *sd = NULL, *wx = NULL;
	int64_t reach;
	struct grid g = { 0 };
	int r = 0;

	for (size_t p = 0; p < nper; p++)
		memset(&out[p], 0, sizeof(out[p]));
	if (!(band > 0) || !isfinite(band))
		return mb_err(err, MB_EUSAGE, "the distance band must be a positive number of metres");
	if (n < 2)
		return mb_err(err, MB_EUSAGE, "Gi* needs at least 2 micro-beats (got %zu)", n);
	xbar = malloc((nper + 1) * sizeof(double));
	sd = malloc((nper + 1) * sizeof(double));
	wx = malloc((nper + 1) * sizeof(double));
	if (!xbar || !sd || !wx) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t p = 0; p < nper; p++)
		if ((r = gi_alloc(&out[p], n, band, x + p * n, &xbar[p], &sd[p], err)))
			goto cleanup;
	if ((r = grid_build(&g, n, px, py, band, err)))
		goto cleanup;
	/* a grown cell (huge extents) still covers the band in one ring */
	reach = (int64_t)ceil(band / g.cs);
	for (size_t i = 0; i < n; i++) {
		double wsum = 0;
		int64_t cx, cy;

		for (size_t p = 0; p < nper; p++) {
			out[p].z[i] = out[p].p[i] = NAN;
			out[p].nb[i] = 0;
			wx[p] = 0;
		}
		if (!isfinite(px[i]) || !isfinite(py[i])) {
			for (size_t p = 0; p < nper; p++) {
				out[p].cls[i] = HS_ISOLATED;
				out[p].isolated++;
			}
			continue;
		}
		/* the neighbours are the same in every period: found once, each
		 * period's sum taken in the same order as a period alone */
		grid_cell(&g, px[i], py[i], &cx, &cy);
		for (int64_t dx = -reach; dx <= reach; dx++) {
			size_t a, b;

			grid_span(&g, cx + dx, cy - reach, cy + reach, &a, &b);
			for (size_t k = a; k < b; k++) {
				size_t j = g.idx[k];

				if (j != i && beyond(px[j] - px[i], py[j] - py[i], band))
					continue;
				wsum += 1;     /* binary weights: sum w = sum w^2 */
				for (size_t p = 0; p < nper; p++)
					wx[p] += x[p * n + j];
			}
		}
		for (size_t p = 0; p < nper; p++)
			gi_point(&out[p], i, wsum, wx[p], xbar[p], sd[p]);
	}
	for (size_t p = 0; p < nper && !r; p++)
		r = gi_classes(&out[p], err);
cleanup:
	grid_release(&g);
	free(xbar);
	free(sd);
	free(wx);
	if (r)
		for (size_t p = 0; p < nper; p++)
			hs_gi_release(&out[p]);
	return r;
}

void hs_gi_release(struct hs_gi *g)
{
	if (!g)
		return;
	free(g->z);
	free(g->p);
	free(g->q);
	free(g->nb);
	free(g->cls);
	memset(g, 0, sizeof(*g));
}

/* ---- §3 patterns across periods -------------------------------------------- */

const char *hs_pattern_name(int p)
{
	static const char *const names[] = { "no pattern", "persistent hot spot",
					     "emerging hot spot", "former hot spot",
					     "intermittent hot spot" };

	return p >= 0 && p <= HS_PAT_INTERMITTENT ? names[p] : "?";
}

int hs_pattern_of(const uint8_t *hot, size_t nper, const struct hs_trend_rule *rule)
{
	const double eps = 1e-9; /* 4 of 5 periods is 0.8 however 0.8 rounds */
	size_t recent, nhot = 0, early = 0, late = 0;

	if (nper == 0)
		return HS_PAT_NONE;
	/* sfhotspot: floor(recent_prop x periods), at least 1; one older period kept */
	recent = (size_t)floor(rule->recent_prop * (double)nper + eps);
	if (recent < 1)
		recent = 1;
	if (nper >= 2 && recent > nper - 1)
		recent = nper - 1;
	for (size_t t = 0; t < nper; t++) {
		nhot += hot[t] != 0;
		if (t < nper - recent)
			early += hot[t] != 0;
		else
			late += hot[t] != 0;
	}
	if (nhot == 0)
		return HS_PAT_NONE;
	if ((double)nhot / (double)nper >= rule->persistent_prop - eps)
		return HS_PAT_PERSISTENT;
	if (nper > recent) {
		/* shares of the older and of the recent periods, each against
		 * hotspot_prop (sfhotspot's code tests the recent share against
		 * recent_prop, a proportion of periods, and counts one period too
		 * many as recent: its documented meaning is followed here) */
		int old_hot = (double)early / (double)(nper - recent) >= rule->hotspot_prop - eps;
		int new_hot = (double)late / (double)recent >= rule->hotspot_prop - eps;

		if (!old_hot && new_hot)
			return HS_PAT_EMERGING;
		if (old_hot && !new_hot)
			return HS_PAT_FORMER;
	}
	if ((double)nhot / (double)nper >= rule->hotspot_prop - eps)
		return HS_PAT_INTERMITTENT;
	return HS_PAT_NONE;
}

/* ---- §4 quartic kernel density ---------------------------------------------- */

int hs_kde(size_t n, const double *px, const double *py, const double *w, double x0, double y0,
	   double cell, size_t nx, size_t ny, double h, double **dens, struct mb_error *err)
{
	double k0;

	*dens = NULL;
	if (!(cell > 0) || !(h > 0) || nx == 0 || ny == 0)
		return mb_err(err, MB_EUSAGE, "the KDE needs a positive cell, bandwidth and grid");
	if ((double)nx * (double)ny > 5e7)
		return mb_err(err, MB_EUSAGE, "the KDE grid of %zu x %zu cells is too large: give a"
			      " larger --cell", nx, ny);
	*dens = calloc(nx * ny, sizeof(double));
	if (!*dens)
		return mb_err(err, MB_ENOMEM, "out of memory");
	k0 = 3.0 / (M_PI * h * h);
	for (size_t k = 0; k < n; k++) {
		double wk = w ? w[k] : 1.0;
		long i0, i1, j0, j1;

		if (!isfinite(px[k]) || !isfinite(py[k]) || wk == 0)
			continue;
		i0 = (long)floor((px[k] - h - x0) / cell);
		i1 = (long)ceil((px[k] + h - x0) / cell);
		j0 = (long)floor((py[k] - h - y0) / cell);
		j1 = (long)ceil((py[k] + h - y0) / cell);
		if (i1 < 0 || j1 < 0 || i0 >= (long)nx || j0 >= (long)ny)
			continue;
		i0 = i0 < 0 ? 0 : i0;
		j0 = j0 < 0 ? 0 : j0;
		i1 = i1 >= (long)nx ? (long)nx - 1 : i1;
		j1 = j1 >= (long)ny ? (long)ny - 1 : j1;
		for (long j = j0; j <= j1; j++) {
			double cy = y0 + ((double)j + 0.5) * cell - py[k];

			for (long i = i0; i <= i1; i++) {
				double cx = x0 + ((double)i + 0.5) * cell - px[k];
				double u = (cx * cx + cy * cy) / (h * h);

				if (u < 1)
					(*dens)[(size_t)j * nx + (size_t)i] += wk * k0 * (1 - u) * (1 - u);
			}
		}
	}
	return 0;
}

/* ---- §5 forecast accuracy: PAI, PEI, RRI ------------------------------------ */

/* Sort context for the PAI orders. */
struct pai_key {
	double key;   /* density: count per area (descending) */
	double tie;   /* tie-break (ascending) */
	size_t i;     /* unit */
};

static int cmp_pai(const void *a, const void *b)
{
	const struct pai_key *p = a, *q = b;

	if (p->key != q->key)
		return p->key > q->key ? -1 : 1;
	if (p->tie != q->tie)
		return p->tie < q->tie ? -1 : 1;
	return p->i < q->i ? -1 : p->i > q->i;
}

int hs_pai_compute(size_t n, const double *obs, const double *pred, const double *area,
		   struct hs_pai *out, struct mb_error *err)
{
	struct pai_key *o = NULL, *b = NULL;
	double N = 0, A = 0, co = 0, cp = 0, ca = 0, bo = 0, ba = 0;
	int r = 0;

	memset(out, 0, sizeof(*out));
	out->n = n;
	o = malloc((n + 1) * sizeof(*o));
	b = malloc((n + 1) * sizeof(*b));
	out->order = malloc((n + 1) * sizeof(size_t));
	out->cum_obs = malloc((n + 1) * sizeof(double));
	out->pai = malloc((n + 1) * sizeof(double));
	out->pei = malloc((n + 1) * sizeof(double));
	out->rri = malloc((n + 1) * sizeof(double));
	if (!o || !b || !out->order || !out->cum_obs || !out->pai || !out->pei || !out->rri) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		double a = area ? area[i] : 1.0;

		N += obs[i];
		A += a;
		/* predicted density, ties: the smaller observed count first (ptools:
		 * the least favourable order, so PAI is never flattered by ties) */
		o[i] = (struct pai_key){ pred[i] / a, obs[i], i };
		b[i] = (struct pai_key){ obs[i] / a, 0, i };
	}
	qsort(o, n, sizeof(*o), cmp_pai);
	qsort(b, n, sizeof(*b), cmp_pai);
	for (size_t k = 0; k < n; k++) {
		size_t i = o[k].i, j = b[k].i;
		double best;

		co += obs[i];
		cp += pred[i];
		ca += area ? area[i] : 1.0;
		bo += obs[j];
		ba += area ? area[j] : 1.0;
		out->order[k] = i;
		out->cum_obs[k] = co;
		out->pai[k] = N > 0 && A > 0 ? (co / N) / (ca / A) : NAN;
		best = N > 0 && A > 0 ? (bo / N) / (ba / A) : NAN;
		out->pei[k] = best > 0 ? out->pai[k] / best : NAN;
		out->rri[k] = co > 0 ? cp / co : NAN;
	}
cleanup:
	free(o);
	free(b);
	if (r)
		hs_pai_release(out);
	return r;
}

void hs_pai_release(struct hs_pai *t)
{
	if (!t)
		return;
	free(t->order);
	free(t->cum_obs);
	free(t->pai);
	free(t->pei);
	free(t->rri);
	memset(t, 0, sizeof(*t));
}

/* ---- §6 Knox test ------------------------------------------------------------ */

/* xorshift64* (Vigna 2016): small, seeded, the same stream on every platform. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* Band of value v among ascending upper edges e[0..n-1] (lower edge 0), or n. */
static size_t band_of(double v, const double *e, size_t n)
{
	for (size_t b = 0; b < n; b++)
		if (v < e[b])
			return b;
	return n;
}

/* A pair of events closer than the largest distance band. */
struct close_pair {
	uint32_t i, j;  /* the two events (indexes into the kept events) */
	uint32_t band;  /* its distance band */
};

/* Count pairs by (distance band, time band) with days d into cnt (nd * nt). */
static void knox_count(const struct close_pair *cp, size_t np, const int32_t *d,
		       const double *t_edges, size_t nt, double *cnt)
{
	for (size_t k = 0; k < np; k++) {
		int32_t gap = d[cp[k].i] - d[cp[k].j];
		size_t tb = band_of(gap < 0 ? -(double)gap : (double)gap, t_edges, nt);

		if (tb < nt)
			cnt[cp[k].band * nt + tb] += 1;
	}
}

int hs_knox_run(size_t n, const double *px, const double *py, const int32_t *day,
		const double *d_edges, size_t nd, const double *t_edges, size_t nt, int perms,
		uint64_t seed, struct hs_knox *out, struct mb_error *err)
{
	double *kx = NULL, *ky = NULL, *sim = NULL, dmax;
	int32_t *kd = NULL;
	struct close_pair *cp = NULL;
	size_t m = 0, np = 0, cap = 0, cells = nd * nt;
	struct grid g = { 0 };
	uint64_t st = seed * 0x9E3779B97F4A7C15ULL + 1;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (nd == 0 || nt == 0 || perms < 99)
		return mb_err(err, MB_EUSAGE, "the Knox test needs distance and time bands and at"
			      " least 99 permutations");
	for (size_t b = 0; b < nd; b++)
		if (!(d_edges[b] > (b ? d_edges[b - 1] : 0)))
			return mb_err(err, MB_EUSAGE, "Knox distance bands must ascend from above 0");
	for (size_t b = 0; b < nt; b++)
		if (!(t_edges[b] > (b ? t_edges[b - 1] : 0)))
			return mb_err(err, MB_EUSAGE, "Knox time bands must ascend from above 0");
	dmax = d_edges[nd - 1];
	out->nd = nd;
	out->nt = nt;
	out->perms = perms;
	kx = calloc(n + 1, sizeof(double));
	ky = calloc(n + 1, sizeof(double));
	kd = malloc((n + 1) * sizeof(int32_t));
	sim = malloc(cells * sizeof(double));
	out->obs = calloc(cells, sizeof(double));
	out->expected = calloc(cells, sizeof(double));
	out->ratio = calloc(cells, sizeof(double));
	out->p = calloc(cells, sizeof(double));
	if (!kx || !ky || !kd || !sim || !out->obs || !out->expected || !out->ratio ||
	    !out->p) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++)
		if (isfinite(px[i]) && isfinite(py[i]) && day[i] >= 0 && m < UINT32_MAX) {
			kx[m] = px[i];
			ky[m] = py[i];
			kd[m] = day[i];
			m++;
		}
	if ((r = grid_build(&g, m, kx, ky, dmax, err)))
		goto cleanup;
	for (size_t i = 0; i < m; i++) {
		int64_t cx, cy, reach = (int64_t)ceil(dmax / g.cs);

		grid_cell(&g, kx[i], ky[i], &cx, &cy);
		for (int64_t dx = -reach; dx <= reach; dx++) {
			size_t a, b;

			grid_span(&g, cx + dx, cy - reach, cy + reach, &a, &b);
			for (size_t k = a; k < b; k++) {
				size_t j = g.idx[k];
				double d;

				if (j <= i)
					continue;
				d = hypot(kx[j] - kx[i], ky[j] - ky[i]);
				if (d >= dmax)
					continue;
				if (np >= (size_t)2e8) {
					r = mb_err(err, MB_EUSAGE, "the Knox test would track more"
						   " than 2 x 10^8 close pairs: narrow the"
						   " distance bands or the period");
					goto cleanup;
				}
				if (GROW(cp, np + 1, cap)) {
					r = mb_err(err, MB_ENOMEM, "out of memory");
					goto cleanup;
				}
				cp[np++] = (struct close_pair){ (uint32_t)i, (uint32_t)j,
								(uint32_t)band_of(d, d_edges, nd) };
			}
		}
	}
	out->pairs = np;
	/* ~1-2 ns a pair-permutation here: 4 x 10^9 is about a minute */
	if ((double)np * perms > 4e9) {
		r = mb_err(err, MB_EUSAGE, "the Knox test would count %zu close pairs %d times (over 4 x"
			   " 10^9): narrow the area, the period or the distance bands", np, perms);
		goto cleanup;
	}
	knox_count(cp, np, kd, t_edges, nt, out->obs);
	for (int rep = 0; rep < perms; rep++) {
		/* Fisher-Yates shuffle of the days over the fixed places */
		for (size_t i = m; i > 1; i--) {
			size_t j = (size_t)(((rng_next(&st) >> 32) * (uint64_t)i) >> 32);
			int32_t t = kd[i - 1];

			kd[i - 1] = kd[j];
			kd[j] = t;
		}
		memset(sim, 0, cells * sizeof(double));
		knox_count(cp, np, kd, t_edges, nt, sim);
		for (size_t c = 0; c < cells; c++) {
			out->expected[c] += sim[c];
			if (sim[c] >= out->obs[c])
				out->p[c] += 1;
		}
	}
	for (size_t c = 0; c < cells; c++) {
		out->expected[c] /= perms;
		out->ratio[c] = out->expected[c] > 0 ? out->obs[c] / out->expected[c] : NAN;
		out->p[c] = (out->p[c] + 1) / (perms + 1.0);
	}
cleanup:
	grid_release(&g);
	free(kx);
	free(ky);
	free(kd);
	free(sim);
	free(cp);
	if (r)
		hs_knox_release(out);
	return r;
}

void hs_knox_release(struct hs_knox *k)
{
	if (!k)
		return;
	free(k->obs);
	free(k->expected);
	free(k->ratio);
	free(k->p);
	memset(k, 0, sizeof(*k));
}
