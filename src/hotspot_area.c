/* hotspot_area — 'hotspots': the area's outline (a GeoJSON file or the selected units of a
 * loaded layer) and the KDE surface clipped to it (docs/methods-hotspots.md §4). */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hotspot_internal.h"
#include "microbeat/areas.h"
#include "microbeat/store.h"
#include "microbeat/util.h"

/* ---- the outline ------------------------------------------------------------ */

/* Append vertex (lon, lat) projected. */
static int outline_vertex(struct hs_run *hr, double lon, double lat, struct mb_error *err)
{
	if (GROW(hr->ox, hr->nvert + 1, hr->vcap) || GROW(hr->oy, hr->nvert + 1, hr->ycap))
		return mb_err(err, MB_ENOMEM, "out of memory");
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
		if (GROW(hr->ring_start, hr->nring + 2, hr->rcap))
			return mb_err(err, MB_ENOMEM, "out of memory");
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
static int load_features(struct hs_run *hr, const char *path, const struct outline_filter *fl,
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

int hsr_load_outline(struct hs_run *hr, const char *path, struct mb_error *err)
{
	return load_features(hr, path, NULL, err);
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

/* Without --outline: units of a loaded boundary layer, drawn from the file
 * the layer was loaded from: with --layer L --area U exactly the units the
 * selector chose; for an authority, the units of the first boundary layer by
 * name that hold a snap point of the area's micro-beats. Missing pieces are
 * said, not fatal: the maps are drawn without an outline. */
int hsr_layer_outline(struct hs_run *hr, struct store *s, FILE *msg, struct mb_error *err)
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
	if (hr->sel.layer && sl->unit_chosen && sl->nunit > 1) {
		/* --layer L --area U: exactly the units the selector chose */
		struct outline_filter fl = { field, sl->unit_code, sl->unit_chosen, sl->nunit };
		size_t nchosen = 0;

		for (size_t u = 1; u < sl->nunit; u++)
			nchosen += sl->unit_chosen[u] != 0;
		if (load_features(hr, lpath, &fl, &e2))
			goto none;
		snprintf(hr->outline_src, sizeof(hr->outline_src), "the %zu selected unit%s of layer '%s'",
			 nchosen, nchosen == 1 ? "" : "s", lname);
		goto cleanup;
	}
	/* an authority (no units of its own): the units of the layer that hold
	 * a snap point of the area's micro-beats */
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

		if (load_features(hr, lpath, &fl, &e2))
			goto none;
		snprintf(hr->outline_src, sizeof(hr->outline_src),
			 "the units of layer '%s' holding the area's micro-beats", lname);
	}
	goto cleanup;
none:
	fprintf(msg, "microbeat: no outline from layer '%s': %s\n", MB_SHOWN(lname),
		MB_SHOWN(e2.msg));
	hr->nring = hr->nvert = 0;
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
int hsr_kde(struct hs_run *hr, struct mb_error *err)
{
	struct slice *sl = &hr->sl;
	double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY, side;
	double *lx = NULL, *ly = NULL, *lw = NULL;
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
		/* the real extremes (the quantiles reorder vx and vy) */
		double lox = INFINITY, hix = -INFINITY, loy = INFINITY, hiy = -INFINITY;
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
				lox = fmin(lox, hr->x[u]), hix = fmax(hix, hr->x[u]);
				loy = fmin(loy, hr->y[u]), hiy = fmax(hiy, hr->y[u]);
			}
		xmin = hsr_quantile(vx, m, 0.005);
		xmax = hsr_quantile(vx, m, 0.995);
		ymin = hsr_quantile(vy, m, 0.005);
		ymax = hsr_quantile(vy, m, 0.995);
		if (m == 0) /* no micro-beat with coordinates: one cell at the centre */
			xmin = xmax = ymin = ymax = lox = hix = loy = hiy = 0;
		{
			/* widened by a tenth of the span each way, within the real extremes:
			 * edge villages stay on the map, a snap point 100 km off does not */
			double mx = 0.1 * (xmax - xmin), my = 0.1 * (ymax - ymin);

			xmin = fmax(xmin - mx, lox);
			xmax = fmin(xmax + mx, hix);
			ymin = fmax(ymin - my, loy);
			ymax = fmin(ymax + my, hiy);
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
	for (size_t l = 0; l < sl->nloc; l++)
		lw[l] = (double)hr->kde_w[l];
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

