/* cmd_hotspots — 'microbeat hotspots': Gi*, patterns, KDE, forecast accuracy, Knox. */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "microbeat/areas.h"
#include "microbeat/cli.h"
#include "microbeat/emit.h"
#include "microbeat/hotspot.h"
#include "microbeat/plot_map.h"
#include "microbeat/select.h"
#include "microbeat/slice.h"
#include "microbeat/store.h"

#define MAX_PERIODS 12   /* --periods cap */
#define MAX_BANDS 16     /* Knox bands of each kind */

enum { O_BAND = 1, O_CELL, O_BW, O_PERIODS, O_CRITQ, O_PERSIST, O_RECENT, O_KNOX, O_PERMS,
       O_KDIST, O_KDAYS, O_SEED, O_OUTLINE, O_OUT, O_NOCHARTS };

/* Everything the command computes, for the writers. */
struct hs_run {
	struct selection sel;   /* period, area, types */
	struct slice sl;        /* the events, every loaded month */
	uint8_t *selected;      /* per category: counted */
	size_t n;               /* micro-beats in the universe */
	uint32_t *beat;         /* universe index -> micro-beat id */
	int32_t *uindex;        /* micro-beat id -> universe index, -1 none */
	double lon0, lat0;      /* centre of the local plane */
	double *lon, *lat;      /* per micro-beat: mean of its snap points */
	double *x, *y;          /* the same in metres */
	size_t nper;            /* periods analysed (oldest first; the last is the selected) */
	int32_t per_from[MAX_PERIODS]; /* first month of each */
	char per_label[MAX_PERIODS][32]; /* "2024-01..2024-12" */
	double *count;          /* nper * n counts (period-major) */
	double band;            /* Gi* distance band (metres) */
	int band_default;       /* 1 = chosen from the data */
	struct hs_gi gi[MAX_PERIODS]; /* Gi* of each period */
	struct hs_trend_rule rule; /* pattern thresholds */
	uint8_t *pattern;       /* per micro-beat: enum hs_pattern */
	struct hs_pai pai;      /* forecast accuracy (nper >= 2) */
	int has_forecast;       /* pai filled */
	double cell, bw;        /* KDE cell and bandwidth (metres) */
	int cell_default, bw_default; /* chosen from the data */
	size_t kx, ky;          /* KDE grid */
	double gx0, gy0;        /* KDE grid corner */
	double *dens;           /* KDE per m^2 (NaN outside the area) */
	size_t nring;           /* outline rings */
	size_t *ring_start;     /* nring + 1 offsets */
	double *ox, *oy;        /* outline vertices (metres) */
	size_t nvert, vcap;     /* vertices used / allocated */
	struct hs_knox knox;    /* Knox result */
	int knox_done;          /* knox filled */
	int knox_ask;           /* --knox given */
	int knox_skipped;       /* dates present but the test could not run (said on stderr) */
	int perms;              /* Knox permutations */
	double kd[MAX_BANDS], kt[MAX_BANDS]; /* Knox band edges */
	size_t nkd, nkt;        /* their counts */
	uint64_t seed;          /* Knox seed */
	size_t events_period;   /* located events of the selected period */
	size_t kde_outside;     /* micro-beats outside the KDE grid's extent */
	char outline_src[200];  /* where the outline came from, in words ("" = none) */
};

/* Which categories count; an unknown --types name is an error. */
static int pick_types(struct hs_run *hr, struct mb_error *err)
{
	struct slice *sl = &hr->sl;

	hr->selected = calloc(sl->ncat, 1);
	if (!hr->selected)
		return mb_err(err, MB_ENOMEM, "out of memory");
	for (size_t i = 0; i < hr->sel.ntypes; i++) {
		int found = 0;

		for (size_t c = 1; c < sl->ncat; c++)
			found |= sl->cat_name[c] && strcasecmp(sl->cat_name[c], hr->sel.types[i]) == 0;
		if (!found)
			return mb_err(err, MB_ENOTFOUND, "crime type '%s' is not in the store",
				      hr->sel.types[i]);
	}
	for (size_t c = 1; c < sl->ncat; c++)
		hr->selected[c] = (uint8_t)select_type_on(&hr->sel, sl->cat_name[c]);
	return 0;
}

/* Every month of [a, b] loaded (b < slice end). */
static int months_loaded(const struct slice *sl, int32_t a, int32_t b)
{
	if (a < sl->month_from || b > sl->month_to)
		return 0;
	for (int32_t m = a; m <= b; m++)
		if (!sl->month_present[m - sl->month_from])
			return 0;
	return 1;
}

/* The universe (the observed one of 'concentration': a micro-beat of the
 * area with an event in any loaded month) and its positions: the mean of
 * the micro-beat's snap points (docs/methods-hotspots.md §1). */
static int build_universe(struct hs_run *hr, struct mb_error *err)
{
	struct slice *sl = &hr->sl;
	uint8_t *seen = calloc(sl->nstreet + 1, 1);
	double *cnt = NULL, slon = 0, slat = 0;
	size_t npos = 0;

	hr->uindex = malloc((sl->nstreet + 1) * sizeof(*hr->uindex));
	hr->beat = malloc((sl->nstreet + 1) * sizeof(*hr->beat));
	if (!seen || !hr->uindex || !hr->beat) {
		free(seen);
		return mb_err(err, MB_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < sl->n; i++)
		seen[sl->street[i]] = 1;
	hr->uindex[0] = -1;
	for (size_t id = 1; id < sl->nstreet; id++) {
		int in = seen[id] && sl->street_in_area[id];

		hr->uindex[id] = in ? (int32_t)hr->n : -1;
		if (in)
			hr->beat[hr->n++] = (uint32_t)id;
	}
	free(seen);
	hr->lon = calloc(hr->n + 1, sizeof(double));
	hr->lat = calloc(hr->n + 1, sizeof(double));
	hr->x = calloc(hr->n + 1, sizeof(double));
	hr->y = calloc(hr->n + 1, sizeof(double));
	cnt = calloc(hr->n + 1, sizeof(double));
	if (!hr->lon || !hr->lat || !hr->x || !hr->y || !cnt) {
		free(cnt);
		return mb_err(err, MB_ENOMEM, "out of memory");
	}
	for (size_t l = 1; l < sl->nloc; l++) {
		uint32_t b = sl->loc_beat[l];
		int32_t u = b < sl->nstreet ? hr->uindex[b] : -1;

		if (u < 0 || !isfinite(sl->loc_lon[l]) || !isfinite(sl->loc_lat[l]))
			continue;
		hr->lon[u] += sl->loc_lon[l];
		hr->lat[u] += sl->loc_lat[l];
		cnt[u] += 1;
	}
	for (size_t u = 0; u < hr->n; u++) {
		const struct slice_street *t = &sl->streets[hr->beat[u]];

		if (cnt[u] > 0) {
			hr->lon[u] /= cnt[u];
			hr->lat[u] /= cnt[u];
		} else {
			hr->lon[u] = t->lon;
			hr->lat[u] = t->lat;
		}
		if (isfinite(hr->lon[u]) && isfinite(hr->lat[u])) {
			slon += hr->lon[u];
			slat += hr->lat[u];
			npos++;
		}
	}
	free(cnt);
	if (npos == 0)
		return mb_err(err, MB_ENOTFOUND, "no micro-beat of the area has coordinates");
	hr->lon0 = slon / (double)npos;
	hr->lat0 = slat / (double)npos;
	for (size_t u = 0; u < hr->n; u++)
		hs_project(hr->lon[u], hr->lat[u], hr->lon0, hr->lat0, &hr->x[u], &hr->y[u]);
	return 0;
}

/* The periods: the selected one and up to want - 1 before it, of equal
 * length, each fully loaded; counts per micro-beat and period. */
static int count_periods(struct hs_run *hr, size_t want, struct mb_error *err)
{
	struct slice *sl = &hr->sl;
	int32_t len = hr->sel.to - hr->sel.from + 1;
	int32_t from[MAX_PERIODS];
	size_t k = 0;

	from[k++] = hr->sel.from;
	while (k < want && months_loaded(sl, hr->sel.from - (int32_t)k * len,
					 hr->sel.from - (int32_t)k * len + len - 1)) {
		from[k] = hr->sel.from - (int32_t)k * len;
		k++;
	}
	hr->nper = k;
	for (size_t t = 0; t < k; t++) {
		char a[8], b[8];

		hr->per_from[t] = from[k - 1 - t];
		month_format(hr->per_from[t], a);
		month_format(hr->per_from[t] + len - 1, b);
		snprintf(hr->per_label[t], sizeof(hr->per_label[t]), "%s..%s", a, b);
	}
	hr->count = calloc(hr->nper * hr->n + 1, sizeof(double));
	if (!hr->count)
		return mb_err(err, MB_ENOMEM, "out of memory");
	for (size_t i = 0; i < sl->n; i++) {
		int32_t u = hr->uindex[sl->street[i]], m = sl->month[i];

		if (u < 0 || !hr->selected[sl->category[i]])
			continue;
		for (size_t t = 0; t < hr->nper; t++)
			if (m >= hr->per_from[t] && m < hr->per_from[t] + len) {
				hr->count[t * hr->n + (size_t)u] += 1;
				if (t == hr->nper - 1)
					hr->events_period++;
			}
	}
	return 0;
}

/* Ascending order of doubles. */
static int cmp_double(const void *a, const void *b)
{
	double p = *(const double *)a, q = *(const double *)b;

	return p < q ? -1 : p > q;
}

/* The q-quantile (0..1) of the m finite values of v (sorted in place; the
 * ceil(q m)-th smallest). */
static double quantile_of(double *v, size_t m, double q)
{
	size_t k;

	if (m == 0)
		return NAN;
	qsort(v, m, sizeof(*v), cmp_double);
	k = (size_t)ceil(q * (double)m);
	return v[k ? k - 1 : 0];
}

/* Default band: the distance at which 99 % of the micro-beats have a
 * neighbour (the 99th percentile of nearest-neighbour distances), rounded up
 * to 10 m. Not the largest: one remote snap point (a British Transport
 * Police station 100 km off) would set the band for the whole area; the
 * micro-beats beyond it are reported isolated. */
static int default_band(struct hs_run *hr, struct mb_error *err)
{
	double *nn = NULL;
	size_t m = 0;
	int r;

	if ((r = hs_nearest(hr->n, hr->x, hr->y, &nn, err)))
		return r;
	for (size_t u = 0; u < hr->n; u++)
		if (isfinite(nn[u]))
			nn[m++] = nn[u];
	hr->band = ceil(quantile_of(nn, m, 0.99) / 10.0) * 10.0;
	free(nn);
	/* at most one micro-beat with coordinates: any band leaves it isolated */
	if (!(hr->band >= 10) || !isfinite(hr->band))
		hr->band = 10;
	return 0;
}

/* ---- the outline ------------------------------------------------------------ */

/* Append vertex (lon, lat) projected. */
static int outline_vertex(struct hs_run *hr, double lon, double lat, struct mb_error *err)
{
	if (hr->nvert == hr->vcap) {
		size_t nc = hr->vcap ? hr->vcap * 2 : 1024;
		double *a = realloc(hr->ox, nc * sizeof(double)), *b;

		if (!a)
			return mb_err(err, MB_ENOMEM, "out of memory");
		hr->ox = a;
		b = realloc(hr->oy, nc * sizeof(double));
		if (!b)
			return mb_err(err, MB_ENOMEM, "out of memory");
		hr->oy = b;
		hr->vcap = nc;
	}
	hs_project(lon, lat, hr->lon0, hr->lat0, &hr->ox[hr->nvert], &hr->oy[hr->nvert]);
	hr->nvert++;
	return 0;
}

/* Add the rings of a Polygon's coordinates array. */
static int outline_polygon(struct hs_run *hr, json_t *rings, struct mb_error *err)
{
	size_t i, j;
	json_t *ring, *pt;
	int r;

	json_array_foreach(rings, i, ring) {
		size_t *t = realloc(hr->ring_start, (hr->nring + 2) * sizeof(size_t));

		if (!t)
			return mb_err(err, MB_ENOMEM, "out of memory");
		hr->ring_start = t;
		hr->ring_start[hr->nring] = hr->nvert;
		json_array_foreach(ring, j, pt) {
			double lon = json_number_value(json_array_get(pt, 0));
			double lat = json_number_value(json_array_get(pt, 1));

			if ((r = outline_vertex(hr, lon, lat, err)))
				return r;
		}
		hr->nring++;
		hr->ring_start[hr->nring] = hr->nvert;
	}
	return 0;
}

/* Which features to draw: those whose code property is a wanted unit code. */
struct outline_filter {
	const char *field;         /* the layer's code property */
	char **code;               /* unit codes by unit id (entry 0 unused) */
	const uint8_t *want;       /* per unit id: 1 = draw */
	size_t n;                  /* unit ids */
};

/* Does feature f pass the filter (NULL: every feature does)? */
static int outline_wanted(const struct outline_filter *fl, json_t *f)
{
	json_t *v;
	char num[32];
	const char *code;

	if (!fl)
		return 1;
	v = json_object_get(json_object_get(f, "properties"), fl->field);
	if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		code = num;
	} else {
		code = json_string_value(v);
	}
	for (size_t u = 1; code && u < fl->n; u++)
		if (fl->want[u] && fl->code[u] && strcmp(fl->code[u], code) == 0)
			return 1;
	return 0;
}

/* Read the outline GeoJSON (Polygon / MultiPolygon features, WGS84); only
 * the features fl lets through when fl is not NULL. */
static int load_outline(struct hs_run *hr, const char *path, const struct outline_filter *fl,
			struct mb_error *err)
{
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je), *feats, *f;
	size_t i;
	int r = 0;

	if (!root)
		return mb_err(err, MB_EDATA, "%s:%d:%d: %s", path, je.line, je.column, je.text);
	feats = json_object_get(root, "features");
	if (!json_is_array(feats)) {
		json_decref(root);
		return mb_err(err, MB_EDATA, "%s: not a GeoJSON FeatureCollection", path);
	}
	json_array_foreach(feats, i, f) {
		json_t *g = json_object_get(f, "geometry");
		const char *type = json_string_value(json_object_get(g, "type"));
		json_t *coords = json_object_get(g, "coordinates");

		if (!type || !json_is_array(coords) || !outline_wanted(fl, f))
			continue;
		if (strcmp(type, "Polygon") == 0) {
			r = outline_polygon(hr, coords, err);
		} else if (strcmp(type, "MultiPolygon") == 0) {
			size_t k;
			json_t *poly;

			json_array_foreach(coords, k, poly) {
				if ((r = outline_polygon(hr, poly, err)))
					break;
			}
		}
		if (r)
			break;
	}
	json_decref(root);
	if (!r && hr->nring == 0)
		r = mb_err(err, MB_EDATA, "%s: no Polygon or MultiPolygon feature", path);
	return r;
}

/* Is (x, y) inside the outline (even-odd over every ring)? */
static int outline_inside(const struct hs_run *hr, double x, double y)
{
	int in = 0;

	for (size_t k = 0; k < hr->nring; k++)
		for (size_t a = hr->ring_start[k], b = hr->ring_start[k + 1] - 1;
		     a < hr->ring_start[k + 1]; b = a++) {
			if ((hr->oy[a] > y) != (hr->oy[b] > y) &&
			    x < (hr->ox[b] - hr->ox[a]) * (y - hr->oy[a]) / (hr->oy[b] - hr->oy[a]) +
					hr->ox[a])
				in = !in;
		}
	return in;
}

/* Without --outline: the units of a loaded boundary layer (--layer, else
 * the first by name) that hold a snap point of the area's micro-beats, drawn
 * from the file the layer was loaded from. Missing pieces are said, not
 * fatal: the maps are drawn without an outline. */
static int layer_outline(struct hs_run *hr, struct store *s, FILE *msg, struct mb_error *err)
{
	struct slice *sl = &hr->sl;
	char *lname = NULL, *lpath = NULL, field[128], **ucode = NULL;
	uint32_t *uol = NULL;
	uint8_t *want = NULL;
	size_t nunit = 0;
	struct mb_error e2 = { 0 };
	int r;

	if ((r = store_layer_source(s, hr->sel.layer, &lname, &lpath, field, sizeof(field), err)))
		return r;
	if (!lpath)
		goto cleanup;
	if ((r = store_location_units(s, lname, sl, &uol, &ucode, &nunit, err)))
		goto cleanup;
	want = calloc(nunit + 1, 1);
	if (!want) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t l = 1; l < sl->nloc; l++) {
		uint32_t b = sl->loc_beat[l];

		if (b && b < sl->nstreet && hr->uindex[b] >= 0 && uol[l] && uol[l] < nunit)
			want[uol[l]] = 1;
	}
	{
		struct outline_filter fl = { field, ucode, want, nunit };

		if (load_outline(hr, lpath, &fl, &e2)) {
			fprintf(msg, "microbeat: no outline from layer '%s': %s\n", MB_SHOWN(lname),
				MB_SHOWN(e2.msg));
			hr->nring = hr->nvert = 0;
		} else {
			snprintf(hr->outline_src, sizeof(hr->outline_src), "the units of layer '%s'",
				 lname);
		}
	}
cleanup:
	free(want);
	store_units_free(uol, ucode, nunit);
	free(lname);
	free(lpath);
	return r;
}

/* ---- KDE ---------------------------------------------------------------------- */

/* The KDE of the selected period's crimes at their snap points, on a grid
 * over the micro-beats' extent, clipped to the outline (or, without one, to
 * the cells within one bandwidth of a micro-beat of the area). */
static int run_kde(struct hs_run *hr, struct mb_error *err)
{
	struct slice *sl = &hr->sl;
	double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY, side;
	double *lx = NULL, *ly = NULL, *lw = NULL;
	int32_t len = hr->sel.to - hr->sel.from + 1, from = hr->per_from[hr->nper - 1];
	int r = 0;

	if (hr->nring) {
		/* the grid covers the outline */
		for (size_t v = 0; v < hr->nvert; v++) {
			xmin = fmin(xmin, hr->ox[v]);
			xmax = fmax(xmax, hr->ox[v]);
			ymin = fmin(ymin, hr->oy[v]);
			ymax = fmax(ymax, hr->oy[v]);
		}
	} else {
		/* the micro-beats' 0.5 %..99.5 % range each way: a few remote snap
		 * points would otherwise stretch the grid (and the default cell) */
		double *vx = malloc((hr->n + 1) * sizeof(double)), *vy = malloc((hr->n + 1) * sizeof(double));
		size_t m = 0;

		if (!vx || !vy) {
			free(vx);
			free(vy);
			return mb_err(err, MB_ENOMEM, "out of memory");
		}
		for (size_t u = 0; u < hr->n; u++)
			if (isfinite(hr->x[u])) {
				vx[m] = hr->x[u];
				vy[m++] = hr->y[u];
			}
		xmin = quantile_of(vx, m, 0.005);
		xmax = quantile_of(vx, m, 0.995);
		ymin = quantile_of(vy, m, 0.005);
		ymax = quantile_of(vy, m, 0.995);
		{
			/* widened by a tenth of the span each way, within the real extremes:
			 * edge villages stay on the map, a snap point 100 km off does not */
			double mx = 0.1 * (xmax - xmin), my = 0.1 * (ymax - ymin);

			xmin = fmax(xmin - mx, vx[0]);
			xmax = fmin(xmax + mx, vx[m - 1]);
			ymin = fmax(ymin - my, vy[0]);
			ymax = fmin(ymax + my, vy[m - 1]);
		}
		free(vx);
		free(vy);
	}
	for (size_t u = 0; u < hr->n; u++)
		if (isfinite(hr->x[u]) && (hr->x[u] < xmin || hr->x[u] > xmax || hr->y[u] < ymin ||
					   hr->y[u] > ymax))
			hr->kde_outside++;
	side = fmin(xmax - xmin, ymax - ymin);
	/* Chainey (2013): cell = the shorter side of the extent / 150, bandwidth
	 * 5 cells; rounded to 10 m, at least 10 m */
	if (hr->cell_default)
		hr->cell = fmax(10.0, round(side / 150.0 / 10.0) * 10.0);
	if (hr->bw_default)
		hr->bw = 5 * hr->cell;
	hr->gx0 = xmin - hr->bw;
	hr->gy0 = ymin - hr->bw;
	hr->kx = (size_t)ceil((xmax - xmin + 2 * hr->bw) / hr->cell);
	hr->ky = (size_t)ceil((ymax - ymin + 2 * hr->bw) / hr->cell);
	if (hr->kx == 0)
		hr->kx = 1;
	if (hr->ky == 0)
		hr->ky = 1;
	lx = malloc(sl->nloc * sizeof(double));
	ly = malloc(sl->nloc * sizeof(double));
	lw = calloc(sl->nloc, sizeof(double));
	if (!lx || !ly || !lw) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < sl->n; i++) {
		int32_t m = sl->month[i];

		if (m >= from && m < from + len && hr->selected[sl->category[i]] &&
		    hr->uindex[sl->street[i]] >= 0)
			lw[sl->location[i]] += 1;
	}
	for (size_t l = 0; l < sl->nloc; l++)
		hs_project(l ? sl->loc_lon[l] : NAN, l ? sl->loc_lat[l] : NAN, hr->lon0, hr->lat0,
			   &lx[l], &ly[l]);
	if ((r = hs_kde(sl->nloc, lx, ly, lw, hr->gx0, hr->gy0, hr->cell, hr->kx, hr->ky, hr->bw,
			&hr->dens, err)))
		goto cleanup;
	if (hr->nring) {
		for (size_t j = 0; j < hr->ky; j++)
			for (size_t i = 0; i < hr->kx; i++)
				if (!outline_inside(hr, hr->gx0 + ((double)i + 0.5) * hr->cell,
						    hr->gy0 + ((double)j + 0.5) * hr->cell))
					hr->dens[j * hr->kx + i] = NAN;
	} else {
		/* the area as its micro-beats cover it: cells reached by a micro-beat's kernel */
		uint8_t *near = calloc(hr->kx * hr->ky, 1);

		if (!near) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
		for (size_t u = 0; u < hr->n; u++) {
			long i0, i1, j0, j1;

			if (!isfinite(hr->x[u]))
				continue;
			i0 = (long)floor((hr->x[u] - hr->bw - hr->gx0) / hr->cell);
			i1 = (long)floor((hr->x[u] + hr->bw - hr->gx0) / hr->cell);
			j0 = (long)floor((hr->y[u] - hr->bw - hr->gy0) / hr->cell);
			j1 = (long)floor((hr->y[u] + hr->bw - hr->gy0) / hr->cell);
			for (long j = j0 < 0 ? 0 : j0; j <= j1 && j < (long)hr->ky; j++)
				for (long i = i0 < 0 ? 0 : i0; i <= i1 && i < (long)hr->kx; i++) {
					double dx = hr->gx0 + ((double)i + 0.5) * hr->cell - hr->x[u];
					double dy = hr->gy0 + ((double)j + 0.5) * hr->cell - hr->y[u];

					if (dx * dx + dy * dy < hr->bw * hr->bw)
						near[(size_t)j * hr->kx + (size_t)i] = 1;
				}
		}
		for (size_t k = 0; k < hr->kx * hr->ky; k++)
			if (!near[k])
				hr->dens[k] = NAN;
		free(near);
	}
cleanup:
	free(lx);
	free(ly);
	free(lw);
	return r;
}

/* ---- Knox ----------------------------------------------------------------------- */

/* Run the Knox test on the selected period's dated events. */
static int run_knox(struct hs_run *hr, struct mb_error *err)
{
	struct slice *sl = &hr->sl;
	int32_t len = hr->sel.to - hr->sel.from + 1, from = hr->per_from[hr->nper - 1];
	double *ex = NULL, *ey = NULL;
	int32_t *ed = NULL;
	size_t m = 0;
	int r;

	ex = malloc((sl->n + 1) * sizeof(double));
	ey = malloc((sl->n + 1) * sizeof(double));
	ed = malloc((sl->n + 1) * sizeof(int32_t));
	if (!ex || !ey || !ed) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < sl->n; i++) {
		int32_t mo = sl->month[i];
		uint32_t l = sl->location[i];

		if (mo < from || mo >= from + len || !hr->selected[sl->category[i]] ||
		    hr->uindex[sl->street[i]] < 0 || sl->day[i] < 0 || l == 0 || l >= sl->nloc)
			continue;
		hs_project(sl->loc_lon[l], sl->loc_lat[l], hr->lon0, hr->lat0, &ex[m], &ey[m]);
		ed[m++] = sl->day[i];
	}
	if (m < 2) {
		r = mb_err(err, MB_EUSAGE, "knox: fewer than 2 dated events in the period");
		goto cleanup;
	}
	r = hs_knox_run(m, ex, ey, ed, hr->kd, hr->nkd, hr->kt, hr->nkt, hr->perms, hr->seed,
			&hr->knox, err);
	if (!r)
		hr->knox_done = 1;
cleanup:
	free(ex);
	free(ey);
	free(ed);
	return r;
}

/* Parse a comma-separated ascending list of positive numbers. */
static int parse_bands(const char *s, double *out, size_t *n, const char *opt,
		       struct mb_error *err)
{
	char *end;

	*n = 0;
	while (*s) {
		double v = strtod(s, &end);

		if (end == s || !(v > 0) || !isfinite(v) || *n >= MAX_BANDS ||
		    (*n && !(v > out[*n - 1])) || (*end && *end != ','))
			return mb_err(err, MB_EUSAGE, "%s wants up to %d ascending positive numbers,"
				      " comma-separated", opt, MAX_BANDS);
		out[(*n)++] = v;
		s = *end ? end + 1 : end;
	}
	if (*n == 0)
		return mb_err(err, MB_EUSAGE, "%s wants at least one number", opt);
	return 0;
}

/* ---- tables --------------------------------------------------------------------- */

/* gistar.csv: every micro-beat of the selected period. */
static int build_gistar(const struct hs_run *hr, struct table *t, struct mb_error *err)
{
	static const char *const cols[] = { "street", "kind", "lsoa", "lon", "lat", "crimes",
					    "neighbours", "gi_z", "p", "q_bh", "class" };
	const struct hs_gi *g = &hr->gi[hr->nper - 1];
	const double *c = hr->count + (hr->nper - 1) * hr->n;
	int r;

	if ((r = table_init(t, "Getis-Ord Gi*", cols, 11, err)))
		return r;
	for (size_t u = 0; u < hr->n; u++) {
		const struct slice_street *s = &hr->sl.streets[hr->beat[u]];
		size_t row;

		if ((r = table_add_row(t, &row, err)) || (r = table_set_text(t, row, 0, s->name, err)) ||
		    (r = table_set_text(t, row, 1, s->place ? "place" : "street", err)) ||
		    (r = table_set_text(t, row, 2, s->lsoa, err)) ||
		    (r = table_set_double(t, row, 3, hr->lon[u], 6, err)) ||
		    (r = table_set_double(t, row, 4, hr->lat[u], 6, err)) ||
		    (r = table_set_int(t, row, 5, (int64_t)c[u], err)) ||
		    (r = table_set_int(t, row, 6, g->nb[u], err)) ||
		    (r = table_set_double(t, row, 7, g->z[u], 4, err)) ||
		    (r = table_set_double(t, row, 8, g->p[u], 6, err)) ||
		    (r = table_set_double(t, row, 9, g->q[u], 6, err)) ||
		    (r = table_set_text(t, row, 10, hs_class_name(g->cls[u]), err)))
			return r;
	}
	return 0;
}

/* hotspot_classes.csv: hot (1) or not (0) in each period, and the pattern. */
static int build_classes(const struct hs_run *hr, struct table *t, struct mb_error *err)
{
	const char *cols[MAX_PERIODS + 4];
	char names[MAX_PERIODS][48];
	size_t nc = 0;
	int r;

	cols[nc++] = "street";
	cols[nc++] = "lsoa";
	for (size_t p = 0; p < hr->nper; p++) {
		snprintf(names[p], sizeof(names[p]), "hot %s", hr->per_label[p]);
		cols[nc++] = names[p];
	}
	cols[nc++] = "gi_class_latest";
	cols[nc++] = "pattern";
	if ((r = table_init(t, "Hot spot patterns across periods", cols, nc, err)))
		return r;
	for (size_t u = 0; u < hr->n; u++) {
		const struct slice_street *s = &hr->sl.streets[hr->beat[u]];
		size_t row;

		if ((r = table_add_row(t, &row, err)) || (r = table_set_text(t, row, 0, s->name, err)) ||
		    (r = table_set_text(t, row, 1, s->lsoa, err)))
			return r;
		for (size_t p = 0; p < hr->nper; p++) {
			const struct hs_gi *g = &hr->gi[p];
			int hot = g->z[u] > 0 && g->q[u] < hr->rule.critical_q;

			if ((r = table_set_int(t, row, 2 + p, hot, err)))
				return r;
		}
		if ((r = table_set_text(t, row, 2 + hr->nper,
					hs_class_name(hr->gi[hr->nper - 1].cls[u]), err)) ||
		    (r = table_set_text(t, row, 3 + hr->nper,
					hr->nper < 2 ? NULL : hs_pattern_name(hr->pattern[u]), err)))
			return r;
	}
	return 0;
}

/* forecast.csv: the top p% of the previous period as the forecast. */
static int build_forecast(const struct hs_run *hr, struct table *t, struct mb_error *err)
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
	for (size_t k = 0; k < sizeof(pct) / sizeof(pct[0]); k++) {
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
static int build_kde(const struct hs_run *hr, struct table *t, struct mb_error *err)
{
	static const char *const cols[] = { "x_m", "y_m", "lon", "lat", "crimes_per_km2" };
	int r;

	if ((r = table_init(t, "Quartic kernel density", cols, 5, err)))
		return r;
	for (size_t j = 0; j < hr->ky; j++)
		for (size_t i = 0; i < hr->kx; i++) {
			double v = hr->dens[j * hr->kx + i], x, y, lon, lat;
			size_t row;

			if (!isfinite(v))
				continue;
			x = hr->gx0 + ((double)i + 0.5) * hr->cell;
			y = hr->gy0 + ((double)j + 0.5) * hr->cell;
			hs_unproject(x, y, hr->lon0, hr->lat0, &lon, &lat);
			if ((r = table_add_row(t, &row, err)) ||
			    (r = table_set_double(t, row, 0, x, 1, err)) ||
			    (r = table_set_double(t, row, 1, y, 1, err)) ||
			    (r = table_set_double(t, row, 2, lon, 6, err)) ||
			    (r = table_set_double(t, row, 3, lat, 6, err)) ||
			    (r = table_set_double(t, row, 4, v * 1e6, 4, err)))
				return r;
		}
	return 0;
}

/* knox.csv: one row per distance band x time band. */
static int build_knox(const struct hs_run *hr, struct table *t, struct mb_error *err)
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

/* hotspots.geojson: every micro-beat classed hot or cold, as points. */
static int write_geojson(const struct hs_run *hr, const char *dir, struct mb_error *err)
{
	const struct hs_gi *g = &hr->gi[hr->nper - 1];
	const double *c = hr->count + (hr->nper - 1) * hr->n;
	json_t *fc = json_object(), *feats = json_array();

	if (!fc || !feats) {
		json_decref(fc);
		json_decref(feats);
		return mb_err(err, MB_ENOMEM, "out of memory");
	}
	json_object_set_new(fc, "type", json_string("FeatureCollection"));
	json_object_set_new(fc, "features", feats);
	for (size_t u = 0; u < hr->n; u++) {
		const struct slice_street *s = &hr->sl.streets[hr->beat[u]];
		json_t *f, *geom, *p;

		if (!isfinite(hr->lon[u]) || !(g->cls[u] >= HS_HOT99 && g->cls[u] <= HS_COLD90))
			continue;
		f = json_object();
		geom = json_object();
		p = json_object();
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
		json_array_append_new(feats, f);
	}
	return emit_json_save(fc, dir, "hotspots.geojson", err);
}

/* The two maps. */
static int write_maps(const struct hs_run *hr, const char *dir, struct mb_error *err)
{
	struct plot_outline o = { hr->nring, hr->ring_start, hr->ox, hr->oy };
	char title[640];
	struct plot_classmap cm = { 0 };
	struct plot_kdemap km = { 0 };
	int r;

	snprintf(title, sizeof(title), "Gi* hot spots, %s, %s (band %.0f m)", hr->sl.scope_label,
		 hr->sel.period_label, hr->band);
	cm.title = title;
	cm.n = hr->n;
	cm.x = hr->x;
	cm.y = hr->y;
	cm.cls = hr->gi[hr->nper - 1].cls;
	cm.outline = o;
	if ((r = plot_classmap(dir, "hotspot_map", &cm, err)))
		return r;
	snprintf(title, sizeof(title), "Crime density, %s, %s (h %.0f m, cell %.0f m)",
		 hr->sl.scope_label, hr->sel.period_label, hr->bw, hr->cell);
	km.title = title;
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

/* ---- the report ----------------------------------------------------------------- */

static int print_report(const struct hs_run *hr, const struct table *tf, FILE *out,
			struct mb_error *err)
{
	const struct hs_gi *g = &hr->gi[hr->nper - 1];
	size_t npat[HS_PAT_INTERMITTENT + 1] = { 0 }, ncls[HS_UNTESTABLE + 1] = { 0 };

	for (size_t u = 0; u < hr->n; u++) {
		npat[hr->pattern[u]]++;
		ncls[g->cls[u]]++;
	}
	fprintf(out, "Hot spots: %s, %s\n", MB_SHOWN(hr->sl.scope_label), hr->sel.period_label);
	select_print_months(&hr->sel, out);
	fprintf(out, "Micro-beats: %zu (observed universe: seen in any loaded month), %zu crimes"
		" located on them in the period.\n", hr->n, hr->events_period);
	fprintf(out, "Distances: metres on a local plane centred at %.5f, %.5f"
		" (docs/methods-hotspots.md §1).\n", hr->lon0, hr->lat0);
	fprintf(out, "Gi* band: %.0f m%s; %zu micro-beats isolated (no neighbour within the band,"
		" not classed).\n", hr->band,
		hr->band_default ? " (default: the distance at which 99% of micro-beats have a"
				   " neighbour; --band to change)" : " (--band)",
		g->isolated);
	fprintf(out, "Gi* classes (Benjamini-Hochberg FDR across micro-beats): hot 99%% %zu, 95%% %zu,"
		" 90%% %zu; cold 99%% %zu, 95%% %zu, 90%% %zu; not significant %zu; not testable %zu.\n",
		ncls[HS_HOT99], ncls[HS_HOT95], ncls[HS_HOT90], ncls[HS_COLD99], ncls[HS_COLD95],
		ncls[HS_COLD90], ncls[HS_NONE], ncls[HS_UNTESTABLE]);
	if (hr->nper < 2)
		fprintf(out, "Patterns and forecast: not assessed: one period only (--periods 1, or the"
			" previous period of equal length is not fully loaded).\n");
	else
		fprintf(out, "Patterns over %zu periods, %s to %s (hot: Gi* > 0 and q < %g; persistent:"
			" hot in >= %g of periods and the last; recent: last %g of periods):\n"
			"  persistent %zu, emerging %zu, former %zu, intermittent %zu.\n",
			hr->nper, hr->per_label[0], hr->per_label[hr->nper - 1], hr->rule.critical_q,
			hr->rule.persistent_prop, hr->rule.recent_prop, npat[HS_PAT_PERSISTENT],
			npat[HS_PAT_EMERGING], npat[HS_PAT_FORMER], npat[HS_PAT_INTERMITTENT]);
	fprintf(out, "KDE: quartic kernel, cell %.0f m%s, bandwidth %.0f m%s; clipped to %s.\n",
		hr->cell, hr->cell_default ? " (default: shorter side of the extent / 150)" : "",
		hr->bw, hr->bw_default ? " (default: 5 cells)" : "",
		hr->nring ? MB_SHOWN(hr->outline_src) : "cells within one bandwidth of a micro-beat"
			   " (no outline: --outline FILE, or load a boundary layer with 'areas')");
	if (hr->kde_outside)
		fprintf(out, "  %zu micro-beat(s) lie beyond the mapped extent (%s) and are not on the"
			" KDE grid.\n", hr->kde_outside,
			hr->nring ? "the outline's" : "0.5%..99.5% of the micro-beats each way, widened by a tenth");
	if (hr->has_forecast) {
		int r;

		fprintf(out, "\nForecast accuracy: the top p%% of %s as the hot list for %s.\n",
			hr->per_label[hr->nper - 2], hr->per_label[hr->nper - 1]);
		if ((r = table_write_console(tf, 3, tf->nrows, out, err)))
			return r;
	}
	if (hr->knox_done) {
		const struct hs_knox *k = &hr->knox;

		fprintf(out, "\nKnox near-repeat (%d permutations, seed %llu): under %.0f m and %.0f days:"
			" %.0f pairs, %.1f expected, ratio %.2f, p %.4f (knox.csv for every band).\n",
			k->perms, (unsigned long long)hr->seed, hr->kd[0], hr->kt[0], k->obs[0],
			k->expected[0], k->ratio[0], k->p[0]);
	} else if (hr->knox_skipped) {
		fprintf(out, "\nKnox near-repeat: not run (see the message above).\n");
	} else {
		fprintf(out, "\nKnox near-repeat: not run: the events have no dates (police.uk data"
			" gives the month only; the test needs a force or agency extract imported with"
			" a date column).\n");
	}
	return 0;
}

/* The long name of option code o. */
static const char *opt_name(const struct option *opts, int o)
{
	for (; opts->name; opts++)
		if (opts->val == o)
			return opts->name;
	return "?";
}

int cmd_hotspots(struct cli *c, int argc, char **argv, struct mb_error *err)
{
	static const struct option opts[] = {
		SELECT_LONG_OPTIONS,
		{ "band", required_argument, NULL, O_BAND },
		{ "cell", required_argument, NULL, O_CELL },
		{ "bandwidth", required_argument, NULL, O_BW },
		{ "periods", required_argument, NULL, O_PERIODS },
		{ "critical-q", required_argument, NULL, O_CRITQ },
		{ "persistent-prop", required_argument, NULL, O_PERSIST },
		{ "recent-prop", required_argument, NULL, O_RECENT },
		{ "knox", no_argument, NULL, O_KNOX },
		{ "knox-permutations", required_argument, NULL, O_PERMS },
		{ "knox-distances", required_argument, NULL, O_KDIST },
		{ "knox-days", required_argument, NULL, O_KDAYS },
		{ "seed", required_argument, NULL, O_SEED },
		{ "outline", required_argument, NULL, O_OUTLINE },
		{ "out", required_argument, NULL, O_OUT },
		{ "no-charts", no_argument, NULL, O_NOCHARTS },
		{ NULL, 0, NULL, 0 },
	};
	struct hs_run hr = { .band_default = 1, .cell_default = 1, .bw_default = 1, .perms = 999,
			     .rule = { 0.05, 0.8, 0.2 }, .seed = 1,
			     .kd = { 100, 200, 300, 400, 500 }, .nkd = 5,
			     .kt = { 7, 14, 21, 28, 35 }, .nkt = 5 };
	struct store *s = NULL;
	struct table tg = { 0 }, tc = { 0 }, tf = { 0 }, tk = { 0 }, tn = { 0 };
	const char *out_dir = NULL, *outline = NULL;
	long periods = 4;
	int o, r = 0, charts = 1;

	select_init(&hr.sel);
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end = NULL;
		double v = 0;

		if (o == O_BAND || o == O_CELL || o == O_BW || o == O_CRITQ || o == O_PERSIST ||
		    o == O_RECENT) {
			v = strtod(optarg, &end);
			if (end == optarg || *end || !isfinite(v) || !(v > 0) ||
			    ((o == O_CRITQ || o == O_PERSIST || o == O_RECENT) && v > 1)) {
				r = mb_err(err, MB_EUSAGE, "--%s wants a positive number%s",
					   opt_name(opts, o), o >= O_CRITQ ? " up to 1" : " of metres");
				goto cleanup;
			}
		}
		switch (o) {
		case O_BAND: hr.band = v; hr.band_default = 0; break;
		case O_CELL: hr.cell = v; hr.cell_default = 0; break;
		case O_BW: hr.bw = v; hr.bw_default = 0; break;
		case O_CRITQ: hr.rule.critical_q = v; break;
		case O_PERSIST: hr.rule.persistent_prop = v; break;
		case O_RECENT: hr.rule.recent_prop = v; break;
		case O_PERIODS:
			periods = strtol(optarg, &end, 10);
			if (*end || periods < 1 || periods > MAX_PERIODS)
				r = mb_err(err, MB_EUSAGE, "--periods wants 1..%d", MAX_PERIODS);
			break;
		case O_KNOX: hr.knox_ask = 1; break;
		case O_PERMS:
			hr.perms = (int)strtol(optarg, &end, 10);
			if (*end || hr.perms < 999 || hr.perms > 99999)
				r = mb_err(err, MB_EUSAGE, "--knox-permutations wants 999..99999");
			break;
		case O_KDIST: r = parse_bands(optarg, hr.kd, &hr.nkd, "--knox-distances", err); break;
		case O_KDAYS: r = parse_bands(optarg, hr.kt, &hr.nkt, "--knox-days", err); break;
		case O_SEED: {
			long long sd = strtoll(optarg, &end, 10);

			if (*end || sd < 0)
				r = mb_err(err, MB_EUSAGE, "--seed wants a non-negative integer");
			hr.seed = (uint64_t)sd;
			break;
		}
		case O_OUTLINE: outline = optarg; break;
		case O_OUT: out_dir = optarg; break;
		case O_NOCHARTS: charts = 0; break;
		default:
			if (o >= SEL_FIRST && o < SEL_LAST)
				r = select_option(&hr.sel, o, optarg, err);
			else
				r = -MB_EUSAGE;
		}
		if (r)
			goto cleanup;
	}
	if (optind < argc) {
		r = mb_err(err, MB_EUSAGE, "hotspots: unexpected argument '%s'", argv[optind]);
		goto cleanup;
	}
	if ((r = store_open(c->db_path, STORE_READONLY, &s, err)) ||
	    (r = select_finish(&hr.sel, s, err)))
		goto cleanup;
	int32_t lo, hi;

	if ((r = store_month_range(s, &lo, &hi, err)))
		goto cleanup;
	struct slice_query q = { .from = lo < hr.sel.from ? lo : hr.sel.from,
				 .to = hi > hr.sel.to ? hi : hr.sel.to, .include_asb = 1,
				 .extract = 1 };

	select_query(&hr.sel, NULL, 1, &q);
	if ((r = store_slice_load(s, &q, &hr.sl, err)) ||
	    (r = select_check_gaps(&hr.sel, &hr.sl, err)) || (r = pick_types(&hr, err)))
		goto cleanup;
	if (hr.knox_ask && !hr.sl.day) {
		r = mb_err(err, MB_EUSAGE, "knox: the store holds no event dates (police.uk data gives"
			   " the month only): the near-repeat test needs a force or agency extract"
			   " imported with a date column");
		goto cleanup;
	}
	if ((r = build_universe(&hr, err)) || (r = count_periods(&hr, (size_t)periods, err)))
		goto cleanup;
	if (hr.n < 2) {
		r = mb_err(err, MB_EUSAGE, "hotspots: %zu micro-beat(s) in the area: nothing to test", hr.n);
		goto cleanup;
	}
	if (outline) {
		if ((r = load_outline(&hr, outline, NULL, err)))
			goto cleanup;
		snprintf(hr.outline_src, sizeof(hr.outline_src), "the --outline polygons");
	} else if ((r = layer_outline(&hr, s, c->msg, err))) {
		goto cleanup;
	}
	if (hr.band_default && (r = default_band(&hr, err)))
		goto cleanup;
	for (size_t p = 0; p < hr.nper; p++)
		if ((r = hs_gistar(hr.n, hr.x, hr.y, hr.count + p * hr.n, hr.band, &hr.gi[p], err)))
			goto cleanup;
	hr.pattern = calloc(hr.n + 1, 1);
	if (!hr.pattern) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t u = 0; u < hr.n; u++) {
		uint8_t hot[MAX_PERIODS];

		for (size_t p = 0; p < hr.nper; p++)
			hot[p] = hr.gi[p].z[u] > 0 && hr.gi[p].q[u] < hr.rule.critical_q;
		hr.pattern[u] = (uint8_t)hs_pattern_of(hot, hr.nper, &hr.rule);
	}
	if (hr.nper >= 2) {
		if ((r = hs_pai_compute(hr.n, hr.count + (hr.nper - 1) * hr.n,
					hr.count + (hr.nper - 2) * hr.n, NULL, &hr.pai, err)))
			goto cleanup;
		hr.has_forecast = 1;
	}
	if ((r = run_kde(&hr, err)))
		goto cleanup;
	if (hr.sl.day && (r = run_knox(&hr, err))) {
		/* not asked for: a Knox test that cannot run leaves the rest standing */
		if (hr.knox_ask || r != -MB_EUSAGE)
			goto cleanup;
		fprintf(c->msg, "microbeat: knox not run: %s\n", err->msg);
		hr.knox_skipped = 1;
		r = 0;
	}
	/* the per-micro-beat and per-cell tables are for files only (on the
	 * national extract they are 4.5 M cells, a third of the run) */
	if ((hr.has_forecast && (r = build_forecast(&hr, &tf, err))) ||
	    (out_dir && ((r = build_gistar(&hr, &tg, err)) || (r = build_classes(&hr, &tc, err)) ||
			 (r = build_kde(&hr, &tn, err)) ||
			 (hr.knox_done && (r = build_knox(&hr, &tk, err))))))
		goto cleanup;
	if ((r = print_report(&hr, &tf, c->out, err)))
		goto cleanup;
	if (out_dir) {
		char *tmp = NULL;

		if ((r = emit_dir_begin(out_dir, &tmp, err)))
			goto cleanup;
		if (!(r = table_save_csv(&tg, tmp, "gistar.csv", err)) &&
		    !(r = table_save_csv(&tc, tmp, "hotspot_classes.csv", err)) &&
		    !(r = table_save_csv(&tn, tmp, "kde_grid.csv", err)) &&
		    !(r = hr.has_forecast ? table_save_csv(&tf, tmp, "forecast.csv", err) : 0) &&
		    !(r = hr.knox_done ? table_save_csv(&tk, tmp, "knox.csv", err) : 0) &&
		    !(r = write_geojson(&hr, tmp, err)) && charts)
			r = write_maps(&hr, tmp, err);
		if ((r = emit_dir_finish(r, tmp, out_dir, err)))
			goto cleanup;
	}
cleanup:
	table_release(&tg);
	table_release(&tc);
	table_release(&tf);
	table_release(&tk);
	table_release(&tn);
	for (size_t p = 0; p < MAX_PERIODS; p++)
		hs_gi_release(&hr.gi[p]);
	hs_pai_release(&hr.pai);
	hs_knox_release(&hr.knox);
	free(hr.pattern);
	free(hr.dens);
	free(hr.ring_start);
	free(hr.ox);
	free(hr.oy);
	free(hr.count);
	free(hr.lon);
	free(hr.lat);
	free(hr.x);
	free(hr.y);
	free(hr.beat);
	free(hr.uindex);
	free(hr.selected);
	slice_release(&hr.sl);
	select_release(&hr.sel);
	store_close(s);
	return r;
}
