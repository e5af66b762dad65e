/* hotspot_write — 'hotspots --out': the tables (gistar.csv, hotspot_classes.csv,
 * forecast.csv, kde_grid.csv, knox.csv), the GeoJSON and the two maps. */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hotspot_internal.h"
#include "microbeat/beats.h"
#include "microbeat/emit.h"
#include "microbeat/plot_map.h"
#include "microbeat/util.h"

/* ---- CSV files written row by row ------------------------------------------------
 * The per-micro-beat and per-cell files are hundreds of thousands of rows on a national
 * store: each row is written as it is made (the bytes table_write_csv gives for a table of
 * the same cells), never held as a table. A write error shows at emit_commit_atomic. */

/* Start a row's field col (a comma before every field but the first). */
static void csv_sep(FILE *f, size_t col)
{
	if (col)
		putc(',', f);
}

/* A text field (NULL: blank), neutralised and quoted as a table's text cell. */
static void csv_text(FILE *f, size_t col, const char *s)
{
	csv_sep(f, col);
	emit_csv_field(s, f, NULL);
}

/* An integer field. */
static void csv_int(FILE *f, size_t col, int64_t v)
{
	csv_sep(f, col);
	fprintf(f, "%" PRId64, v);
}

/* A number with prec decimals as a table's cell (emit_number; blank when not finite). */
static void csv_double(FILE *f, size_t col, double v, int prec)
{
	char buf[400];
	const char *t = emit_number(v, prec, buf, sizeof(buf));

	csv_sep(f, col);
	if (t)
		fputs(t, f);
}

/* Open dir/name atomically and write the header row of the n columns. */
static int csv_open(const char *dir, const char *name, const char *const *cols, size_t n,
		    struct emit_file *af, struct mb_error *err)
{
	int r;

	if ((r = emit_open_atomic(dir, name, af, err)))
		return r;
	for (size_t c = 0; c < n; c++)
		csv_text(af->fp, c, cols[c]);
	putc('\n', af->fp);
	return 0;
}

/* gistar.csv: every micro-beat of the selected period. */
int hsr_save_gistar(const struct hs_run *hr, const char *dir, struct mb_error *err)
{
	static const char *const cols[] = { "street", "kind", "lsoa", "lon", "lat", "crimes",
					    "neighbours", "gi_z", "p", "q_bh", "class" };
	const struct hs_gi *g = &hr->gi[hr->nper - 1];
	const double *c = hr->count + (hr->nper - 1) * hr->n;
	struct emit_file af;
	int r;

	if ((r = csv_open(dir, "gistar.csv", cols, ARRAY_SIZE(cols), &af, err)))
		return r;
	for (size_t u = 0; u < hr->n; u++) {
		const struct slice_street *s = &hr->sl.streets[hr->beat[u]];

		csv_text(af.fp, 0, s->name);
		csv_text(af.fp, 1, s->place ? "place" : "street");
		csv_text(af.fp, 2, s->lsoa);
		csv_double(af.fp, 3, hr->lon[u], 6);
		csv_double(af.fp, 4, hr->lat[u], 6);
		csv_int(af.fp, 5, (int64_t)c[u]);
		csv_int(af.fp, 6, g->nb[u]);
		csv_double(af.fp, 7, g->z[u], 4);
		csv_double(af.fp, 8, g->p[u], 6);
		csv_double(af.fp, 9, g->q[u], 6);
		csv_text(af.fp, 10, hs_class_name(g->cls[u]));
		putc('\n', af.fp);
	}
	return emit_commit_atomic(&af, err);
}

/* hotspot_classes.csv: hot (1) or not (0) in each period, and the pattern. */
int hsr_save_classes(const struct hs_run *hr, const char *dir, struct mb_error *err)
{
	const char *cols[MAX_PERIODS + 4];
	char names[MAX_PERIODS][48];
	size_t nc = 0;
	struct emit_file af;
	int r;

	cols[nc++] = "street";
	cols[nc++] = "lsoa";
	for (size_t p = 0; p < hr->nper; p++) {
		snprintf(names[p], sizeof(names[p]), "hot %s", hr->per_label[p]);
		cols[nc++] = names[p];
	}
	cols[nc++] = "gi_class_latest";
	cols[nc++] = "pattern";
	if ((r = csv_open(dir, "hotspot_classes.csv", cols, nc, &af, err)))
		return r;
	for (size_t u = 0; u < hr->n; u++) {
		const struct slice_street *s = &hr->sl.streets[hr->beat[u]];

		csv_text(af.fp, 0, s->name);
		csv_text(af.fp, 1, s->lsoa);
		for (size_t p = 0; p < hr->nper; p++) {
			const struct hs_gi *g = &hr->gi[p];

			csv_int(af.fp, 2 + p, g->z[u] > 0 && g->q[u] < hr->rule.critical_q);
		}
		csv_text(af.fp, 2 + hr->nper, hs_class_name(hr->gi[hr->nper - 1].cls[u]));
		csv_text(af.fp, 3 + hr->nper, hr->nper < 2 ? NULL : hs_pattern_name(hr->pattern[u]));
		putc('\n', af.fp);
	}
	return emit_commit_atomic(&af, err);
}

/* forecast.csv: the top p% of the previous period as the forecast. */
int hsr_table_forecast(const struct hs_run *hr, struct table *t, struct mb_error *err)
{
	static const char *const cols[] = { "top_pct", "streets_listed", "streets", "crimes_in_list",
					    "crimes", "hit_rate", "pai", "pei", "rri",
					    "list_overlap" };
	static const int pct[] = { 1, 3, 5, 10, 20 };
	const double *obs = hr->count + (hr->nper - 1) * hr->n;
	double N = 0;
	struct hs_pai best = { 0 };
	int r;

	if ((r = table_init(t, "Forecast accuracy of the previous period's hot list", cols, 10, err)))
		return r;
	for (size_t u = 0; u < hr->n; u++)
		N += obs[u];
	/* the observed top-k (same tie rule), for the overlap of the two lists */
	if ((r = hs_pai_compute(hr->n, obs, obs, NULL, &best, err)))
		return r;
	for (size_t k = 0; k < ARRAY_SIZE(pct); k++) {
		size_t nk = ((size_t)pct[k] * hr->n + 99) / 100, row, same = 0;
		uint8_t *in_best;

		if (nk == 0 || nk > hr->n)
			continue;
		in_best = calloc(hr->n, 1);
		if (!in_best) {
			hs_pai_release(&best);
			return mb_err(err, MB_ENOMEM, "out of memory");
		}
		for (size_t i = 0; i < nk; i++)
			in_best[best.order[i]] = 1;
		for (size_t i = 0; i < nk; i++)
			same += in_best[hr->pai.order[i]];
		free(in_best);
		if ((r = table_add_row(t, &row, err)) || (r = table_set_int(t, row, 0, pct[k], err)) ||
		    (r = table_set_int(t, row, 1, (int64_t)nk, err)) ||
		    (r = table_set_int(t, row, 2, (int64_t)hr->n, err)) ||
		    (r = table_set_int(t, row, 3, (int64_t)hr->pai.cum_obs[nk - 1], err)) ||
		    (r = table_set_int(t, row, 4, (int64_t)N, err)) ||
		    (r = table_set_double(t, row, 5, N > 0 ? hr->pai.cum_obs[nk - 1] / N : NAN, 6,
					  err)) ||
		    (r = table_set_double(t, row, 6, hr->pai.pai[nk - 1], 6, err)) ||
		    (r = table_set_double(t, row, 7, hr->pai.pei[nk - 1], 6, err)) ||
		    (r = table_set_double(t, row, 8, hr->pai.rri[nk - 1], 6, err)) ||
		    (r = table_set_double(t, row, 9, (double)same / (double)nk, 6, err)))
			break;
	}
	hs_pai_release(&best);
	return r;
}

/* kde_grid.csv: cell centres inside the area with their density. */
int hsr_save_kde(const struct hs_run *hr, const char *dir, struct mb_error *err)
{
	static const char *const cols[] = { "x_m", "y_m", "lon", "lat", "crimes_per_km2" };
	struct emit_file af;
	int r;

	if ((r = csv_open(dir, "kde_grid.csv", cols, ARRAY_SIZE(cols), &af, err)))
		return r;
	for (size_t j = 0; j < hr->ky; j++)
		for (size_t i = 0; i < hr->kx; i++) {
			double v = hr->dens[j * hr->kx + i], x, y, lon, lat;

			if (!isfinite(v))
				continue;
			x = hr->gx0 + ((double)i + 0.5) * hr->cell;
			y = hr->gy0 + ((double)j + 0.5) * hr->cell;
			hs_unproject(x, y, hr->lon0, hr->lat0, &lon, &lat);
			csv_double(af.fp, 0, x, 1);
			csv_double(af.fp, 1, y, 1);
			csv_double(af.fp, 2, lon, 6);
			csv_double(af.fp, 3, lat, 6);
			csv_double(af.fp, 4, v * 1e6, 4);
			putc('\n', af.fp);
		}
	return emit_commit_atomic(&af, err);
}

/* knox.csv: one row per distance band x time band. */
int hsr_table_knox(const struct hs_run *hr, struct table *t, struct mb_error *err)
{
	static const char *const cols[] = { "distance_from_m", "distance_to_m", "days_from",
					    "days_to", "pairs_observed", "pairs_expected",
					    "knox_ratio", "p" };
	const struct hs_knox *k = &hr->knox;
	int r;

	if ((r = table_init(t, "Knox near-repeat test", cols, 8, err)))
		return r;
	for (size_t a = 0; a < k->nd; a++)
		for (size_t b = 0; b < k->nt; b++) {
			size_t row, c = a * k->nt + b;

			if ((r = table_add_row(t, &row, err)) ||
			    (r = table_set_double(t, row, 0, a ? hr->kd[a - 1] : 0, 0, err)) ||
			    (r = table_set_double(t, row, 1, hr->kd[a], 0, err)) ||
			    (r = table_set_double(t, row, 2, b ? hr->kt[b - 1] : 0, 0, err)) ||
			    (r = table_set_double(t, row, 3, hr->kt[b], 0, err)) ||
			    (r = table_set_int(t, row, 4, (int64_t)k->obs[c], err)) ||
			    (r = table_set_double(t, row, 5, k->expected[c], 3, err)) ||
			    (r = table_set_double(t, row, 6, k->ratio[c], 3, err)) ||
			    (r = table_set_double(t, row, 7, k->p[c], 4, err)))
				return r;
		}
	return 0;
}

/* One feature of hotspots.geojson: micro-beat u. NULL when out of memory. */
static json_t *geojson_feature(const struct hs_run *hr, size_t u)
{
	const struct hs_gi *g = &hr->gi[hr->nper - 1];
	const struct slice_street *s = &hr->sl.streets[hr->beat[u]];
	const double *c = hr->count + (hr->nper - 1) * hr->n;
	json_t *f = json_object(), *geom = json_object(), *p = json_object();

	if (!f || !geom || !p) {
		json_decref(f);
		json_decref(geom);
		json_decref(p);
		return NULL;
	}
	json_object_set_new(geom, "type", json_string("Point"));
	json_object_set_new(geom, "coordinates", json_pack("[f, f]", hr->lon[u], hr->lat[u]));
	json_object_set_new(p, "street", json_string(s->name));
	json_object_set_new(p, "lsoa", json_string(s->lsoa));
	json_object_set_new(p, "crimes", json_integer((json_int_t)c[u]));
	json_object_set_new(p, "gi_z", json_real(g->z[u]));
	json_object_set_new(p, "q_bh", json_real(g->q[u]));
	json_object_set_new(p, "class", json_string(hs_class_name(g->cls[u])));
	json_object_set_new(p, "pattern", hr->nper < 2 ? json_null()
				  : json_string(hs_pattern_name(hr->pattern[u])));
	json_object_set_new(f, "type", json_string("Feature"));
	json_object_set_new(f, "geometry", geom);
	json_object_set_new(f, "properties", p);
	return f;
}

/* hotspots.geojson: every micro-beat classed hot or cold, as points. Written
 * a feature at a time, each dumped by jansson and indented to its depth in
 * the collection: the bytes emit_json_save gives for the whole tree (indent
 * 1, ASCII-escaped, a final newline), without holding the tree. */
int hsr_write_geojson(const struct hs_run *hr, const char *dir, struct mb_error *err)
{
	const struct hs_gi *g = &hr->gi[hr->nper - 1];
	struct emit_features ef;
	int r;

	if ((r = emit_features_open(dir, "hotspots.geojson", &ef, err)))
		return r;
	for (size_t u = 0; u < hr->n; u++) {
		if (!isfinite(hr->lon[u]) || !(g->cls[u] >= HS_HOT99 && g->cls[u] <= HS_COLD90))
			continue;
		if ((r = emit_features_add(&ef, geojson_feature(hr, u), err))) {
			emit_abort_atomic(&ef.af);
			return r;
		}
	}
	return emit_features_close(&ef, err);
}

/* The maps' second title line: the area and the crimes counted, cut to
 * cap - 1 bytes at a character boundary with "..." (a long list of units
 * would run off a 900-pixel chart). */
static void map_subtitle(const struct hs_run *hr, char *out, size_t cap)
{
	const struct selection *sel = &hr->sel;
	const char *what = "crimes of the selected types";
	size_t n;

	if (sel->theme[0])
		what = "crimes of the theme";
	else if (sel->ntypes == 0 && sel->nexclude == 0)
		what = "all crime types except ASB";
	snprintf(out, cap, "%s; %s%s%s", hr->sl.scope_label, what, sel->theme[0] ? " " : "",
		 sel->theme);
	n = strlen(out);
	if (n > 92 && cap > 96) {
		n = 89;
		while (n > 0 && ((unsigned char)out[n] & 0xC0) == 0x80)
			n--;
		memcpy(out + n, "...", 4);
	}
}

/* A micro-beat and its Gi* z, for ordering. */
struct zi {
	double z;  /* Gi* z */
	size_t u;  /* micro-beat index */
};

/* Highest z first; the smaller index on ties (a stable choice). */
static int cmp_z_desc(const void *a, const void *b)
{
	const struct zi *p = a, *q = b;

	if (p->z != q->z)
		return p->z > q->z ? -1 : 1;
	return p->u < q->u ? -1 : p->u > q->u;
}

/* The micro-beats to name on the class map: the peak (highest z) of each
 * cluster of hot 99 % / 95 % micro-beats with a crime in the period (a
 * micro-beat without one can be hot from its neighbours alone: naming it
 * would send a patrol to a street with nothing recorded), a peak being at
 * least max(1.5 km, 2 bands) from every higher one; at most MAP_LABELS, so
 * that the names stay readable. *at receives up to MAP_LABELS indices;
 * returns how many. */
#define MAP_LABELS 8
static size_t pick_labels(const struct hs_run *hr, size_t *at, struct mb_error *err, int *r)
{
	const struct hs_gi *g = &hr->gi[hr->nper - 1];
	double sep = fmax(1500.0, 2 * hr->band);
	struct zi *idx = malloc((hr->n + 1) * sizeof(*idx));
	size_t m = 0, nl = 0;

	*r = 0;
	if (!idx) {
		*r = mb_err(err, MB_ENOMEM, "out of memory");
		return 0;
	}
	const double *cnt = hr->count + (hr->nper - 1) * hr->n; /* the period's */

	for (size_t u = 0; u < hr->n; u++)
		if ((g->cls[u] == HS_HOT99 || g->cls[u] == HS_HOT95) && isfinite(hr->x[u]) &&
		    cnt[u] > 0)
			idx[m++] = (struct zi){ g->z[u], u };
	qsort(idx, m, sizeof(*idx), cmp_z_desc);
	for (size_t k = 0; k < m && nl < MAP_LABELS; k++) {
		size_t u = idx[k].u;
		int near = 0;

		for (size_t l = 0; l < nl && !near; l++)
			near = hypot(hr->x[at[l]] - hr->x[u], hr->y[at[l]] - hr->y[u]) < sep;
		if (!near)
			at[nl++] = u;
	}
	free(idx);
	return nl;
}

/* The two maps: line 1 says what and when (from the program), line 2 the
 * area (from the data: written to the data file, never to the script). */
int hsr_write_maps(const struct hs_run *hr, const char *dir, struct mb_error *err)
{
	struct plot_outline o = { hr->nring, hr->ring_start, hr->ox, hr->oy };
	char title[160], sub[640];
	size_t label_at[MAP_LABELS];
	const char *label[MAP_LABELS];
	struct plot_classmap cm = { 0 };
	struct plot_kdemap km = { 0 };
	int r;

	map_subtitle(hr, sub, sizeof(sub));
	snprintf(title, sizeof(title), "Crime hot spots by micro-beat, %s (Getis-Ord Gi*, %.0f m band,"
		 " FDR)", hr->sel.period_label, hr->band);
	cm.subtitle = sub;
	cm.title = title;
	cm.n = hr->n;
	cm.x = hr->x;
	cm.y = hr->y;
	cm.cls = hr->gi[hr->nper - 1].cls;
	cm.outline = o;
	cm.nlabel = pick_labels(hr, label_at, err, &r);
	if (r)
		return r;
	/* named as concentration names them: a place by its kind and the
	 * nearest street in its LSOA ("Parking area, near CHURCH STREET") */
	uint32_t lb[MAP_LABELS];
	char *own[MAP_LABELS] = { 0 };

	for (size_t k = 0; k < cm.nlabel; k++)
		lb[k] = hr->beat[label_at[k]];
	r = beats_label(&hr->sl, lb, NULL, cm.nlabel, own, NULL, err);
	for (size_t k = 0; k < cm.nlabel; k++)
		label[k] = own[k];
	cm.label_at = label_at;
	cm.label = label;
	if (!r)
		r = plot_classmap(dir, "hotspot_map", &cm, err);
	for (size_t k = 0; k < cm.nlabel; k++)
		free(own[k]);
	if (r)
		return r;
	snprintf(title, sizeof(title), "Crime density, %s (quartic kernel, bandwidth %.0f m, cell"
		 " %.0f m)", hr->sel.period_label, hr->bw, hr->cell);
	km.title = title;
	km.subtitle = sub;
	km.nx = hr->kx;
	km.ny = hr->ky;
	km.x0 = hr->gx0;
	km.y0 = hr->gy0;
	km.cell = hr->cell;
	km.dens = hr->dens;
	km.outline = o;
	/* per km^2 for the colour bar: a scaled copy */
	{
		double *d = malloc(hr->kx * hr->ky * sizeof(double));

		if (!d)
			return mb_err(err, MB_ENOMEM, "out of memory");
		for (size_t k = 0; k < hr->kx * hr->ky; k++)
			d[k] = hr->dens[k] * 1e6;
		km.dens = d;
		r = plot_kdemap(dir, "hotspot_kde", &km, err);
		free(d);
	}
	return r;
}

