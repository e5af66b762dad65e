/*
 * microbeat — polygon layers (GEOS, reentrant API) and BNG -> WGS84 (PROJ).
 * See include/microbeat/geo.h for the contracts and docs/methods-geo.md for
 * the rules (boundary ties, tolerance distance, transformation accuracy).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <geos_c.h>
#include <jansson.h>
#include <proj.h>

#include "microbeat/geo.h"

/* One area unit of a layer. */
struct geo_unit {
	char *code;                        /* unit code, e.g. "E05011282" */
	char *name;                        /* unit name (a copy of code if no name field) */
	GEOSGeometry *geom;                /* Polygon or MultiPolygon, lon/lat degrees */
	const GEOSPreparedGeometry *prep;  /* prepared geom for fast repeated predicates */
	size_t index;                      /* position in the layer (file order) */
};

struct geo_layer {
	GEOSContextHandle_t ctx;  /* GEOS context owned by this layer */
	struct geo_unit *units;   /* units in file order */
	size_t n;                 /* number of units */
	GEOSSTRtree *tree;        /* STRtree over unit envelopes; items are struct geo_unit * */
	char geos_msg[256];       /* last GEOS error message, for diagnostics */
};

struct geo_bng {
	PJ_CONTEXT *ctx;     /* PROJ context owned by this object, network disabled */
	PJ *pj;              /* normalised (lon, lat order) EPSG:27700 -> EPSG:4326 */
	char method[256];    /* description of the last used operation */
	double accuracy;     /* its stated accuracy in metres, -1 if unknown */
};

/* GEOS error handler: keep the message in the layer for diagnostics. */
static void geo_geos_error(const char *message, void *userdata)
{
	struct geo_layer *l = userdata;

	snprintf(l->geos_msg, sizeof(l->geos_msg), "%s", message);
}

/* GEOS notice handler: GEOS notices are not errors; drop them. */
static void geo_geos_notice(const char *message, void *userdata)
{
	(void)message;
	(void)userdata;
}

/* Duplicate a string; NULL on OOM. */
static char *geo_strdup(const char *s)
{
	size_t len = strlen(s) + 1;
	char *p = malloc(len);

	if (p)
		memcpy(p, s, len);
	return p;
}

/* Return 1 when the optional "crs" member names WGS84 lon/lat (or is absent). */
static int geo_crs_ok(json_t *root, const char **name)
{
	static const char *const ok[] = {
		"urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84",
		"urn:ogc:def:crs:EPSG::4326", "EPSG:4326", "CRS84",
	};
	json_t *crs = json_object_get(root, "crs");
	const char *s;

	*name = "?";
	if (!crs || json_is_null(crs))
		return 1;
	s = json_string_value(json_object_get(json_object_get(crs, "properties"), "name"));
	if (!s)
		return 0;
	*name = s;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(s, ok[i]) == 0)
			return 1;
	return 0;
}

/* Build a linear ring from a GeoJSON position array; NULL with err set on failure. */
static GEOSGeometry *geo_ring(struct geo_layer *l, json_t *arr, const char *path,
	size_t feat, struct mb_error *err)
{
	GEOSCoordSequence *seq = NULL;
	GEOSGeometry *ring = NULL;
	size_t n = json_array_size(arr);
	double x0 = 0, y0 = 0, x = 0, y = 0;

	if (!json_is_array(arr) || n < 4) {
		mb_err(err, MB_EDATA, "%s: feature %zu: a polygon ring needs at least 4 positions",
			path, feat);
		goto cleanup;
	}
	seq = GEOSCoordSeq_create_r(l->ctx, (unsigned)n, 2);
	if (!seq) {
		mb_err(err, MB_ENOMEM, "%s: feature %zu: out of memory", path, feat);
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *pos = json_array_get(arr, i);
		json_t *jx = json_array_get(pos, 0), *jy = json_array_get(pos, 1);

		if (!json_is_array(pos) || !json_is_number(jx) || !json_is_number(jy)) {
			mb_err(err, MB_EDATA, "%s: feature %zu: a position is not [lon, lat]",
				path, feat);
			goto cleanup;
		}
		x = json_number_value(jx);
		y = json_number_value(jy);
		if (!(x >= -180 && x <= 180 && y >= -90 && y <= 90)) {
			mb_err(err, MB_EDATA, "%s: feature %zu: position (%g, %g) is not a WGS84 "
				"lon/lat (is the file in another CRS?)", path, feat, x, y);
			goto cleanup;
		}
		if (i == 0) {
			x0 = x;
			y0 = y;
		}
		GEOSCoordSeq_setXY_r(l->ctx, seq, (unsigned)i, x, y);
	}
	if (x != x0 || y != y0) {
		mb_err(err, MB_EDATA, "%s: feature %zu: a polygon ring is not closed", path, feat);
		goto cleanup;
	}
	ring = GEOSGeom_createLinearRing_r(l->ctx, seq);
	seq = NULL; /* owned by the ring now, or freed by GEOS on failure */
	if (!ring)
		mb_err(err, MB_EDATA, "%s: feature %zu: bad ring: %s", path, feat, l->geos_msg);
cleanup:
	if (seq)
		GEOSCoordSeq_destroy_r(l->ctx, seq);
	return ring;
}

/* Build a polygon from GeoJSON Polygon coordinates; NULL with err set on failure. */
static GEOSGeometry *geo_polygon(struct geo_layer *l, json_t *rings, const char *path,
	size_t feat, struct mb_error *err)
{
	GEOSGeometry *shell = NULL, *poly = NULL, **holes = NULL;
	size_t nrings = json_array_size(rings), nholes = 0;

	if (!json_is_array(rings) || nrings == 0) {
		mb_err(err, MB_EDATA, "%s: feature %zu: empty polygon", path, feat);
		goto cleanup;
	}
	shell = geo_ring(l, json_array_get(rings, 0), path, feat, err);
	if (!shell)
		goto cleanup;
	if (nrings > 1) {
		holes = calloc(nrings - 1, sizeof(*holes));
		if (!holes) {
			mb_err(err, MB_ENOMEM, "%s: feature %zu: out of memory", path, feat);
			goto cleanup;
		}
	}
	for (size_t i = 1; i < nrings; i++) {
		holes[nholes] = geo_ring(l, json_array_get(rings, i), path, feat, err);
		if (!holes[nholes])
			goto cleanup;
		nholes++;
	}
	/* GEOS takes ownership of the shell and the hole rings (not the array). */
	poly = GEOSGeom_createPolygon_r(l->ctx, shell, holes, (unsigned)nholes);
	shell = NULL;
	nholes = 0;
	if (!poly)
		mb_err(err, MB_EDATA, "%s: feature %zu: bad polygon: %s", path, feat, l->geos_msg);
cleanup:
	if (shell)
		GEOSGeom_destroy_r(l->ctx, shell);
	for (size_t i = 0; i < nholes; i++)
		GEOSGeom_destroy_r(l->ctx, holes[i]);
	free(holes);
	return poly;
}

/* Build a MultiPolygon from GeoJSON coordinates; NULL with err set on failure. */
static GEOSGeometry *geo_multipolygon(struct geo_layer *l, json_t *polys, const char *path,
	size_t feat, struct mb_error *err)
{
	GEOSGeometry **parts = NULL, *multi = NULL;
	size_t n = json_array_size(polys), nparts = 0;

	if (!json_is_array(polys) || n == 0) {
		mb_err(err, MB_EDATA, "%s: feature %zu: empty multipolygon", path, feat);
		goto cleanup;
	}
	parts = calloc(n, sizeof(*parts));
	if (!parts) {
		mb_err(err, MB_ENOMEM, "%s: feature %zu: out of memory", path, feat);
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		parts[nparts] = geo_polygon(l, json_array_get(polys, i), path, feat, err);
		if (!parts[nparts])
			goto cleanup;
		nparts++;
	}
	multi = GEOSGeom_createCollection_r(l->ctx, GEOS_MULTIPOLYGON, parts, (unsigned)nparts);
	nparts = 0; /* owned by the collection now */
	if (!multi)
		mb_err(err, MB_EDATA, "%s: feature %zu: bad multipolygon: %s", path, feat,
			l->geos_msg);
cleanup:
	for (size_t i = 0; i < nparts; i++)
		GEOSGeom_destroy_r(l->ctx, parts[i]);
	free(parts);
	return multi;
}

/*
 * Copy property field of a feature into *out (a string, or an integer as its
 * decimal text). Return 0, or a negative code with err set.
 */
static int geo_property(json_t *props, const char *field, const char *path, size_t feat,
	char **out, struct mb_error *err)
{
	json_t *v = json_object_get(props, field);
	char buf[32];

	if (!v || json_is_null(v))
		return mb_err(err, MB_EDATA, "%s: feature %zu: no '%s' property", path, feat, field);
	if (json_is_string(v)) {
		const char *t = json_string_value(v);

		/* "\u0000" would cut the text short; a code or name of blanks names nothing */
		if (json_string_length(v) != strlen(t))
			return mb_err(err, MB_EDATA, "%s: feature %zu: property '%s' holds a NUL"
				" character", path, feat, field);
		if (!t[strspn(t, " \t\r\n")])
			return mb_err(err, MB_EDATA, "%s: feature %zu: property '%s' is blank", path,
				feat, field);
		*out = geo_strdup(t);
	} else if (json_is_integer(v)) {
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		*out = geo_strdup(buf);
	} else {
		return mb_err(err, MB_EDATA, "%s: feature %zu: property '%s' is not a string",
			path, feat, field);
	}
	if (!*out)
		return mb_err(err, MB_ENOMEM, "%s: feature %zu: out of memory", path, feat);
	return 0;
}

/* qsort comparator: unit pointers by code. */
static int geo_cmp_code(const void *a, const void *b)
{
	const struct geo_unit *const *ua = a, *const *ub = b;

	return strcmp((*ua)->code, (*ub)->code);
}

/* Return 0 when all codes are distinct, else MB_EDATA naming a duplicate. */
static int geo_check_unique(struct geo_layer *l, const char *path, struct mb_error *err)
{
	struct geo_unit **order = NULL;
	int rc = 0;

	if (l->n < 2)
		return 0;
	order = malloc(l->n * sizeof(*order));
	if (!order)
		return mb_err(err, MB_ENOMEM, "%s: out of memory", path);
	for (size_t i = 0; i < l->n; i++)
		order[i] = &l->units[i];
	qsort(order, l->n, sizeof(*order), geo_cmp_code);
	for (size_t i = 1; i < l->n; i++) {
		if (strcmp(order[i - 1]->code, order[i]->code) == 0) {
			size_t a = order[i - 1]->index, b = order[i]->index;

			rc = mb_err(err, MB_EDATA, "%s: feature %zu: duplicate code '%s' (also feature %zu)",
				path, (a > b ? a : b) + 1, order[i]->code, (a < b ? a : b) + 1);
			break;
		}
	}
	free(order);
	return rc;
}

/*
 * Refuse an invalid polygon (OGC rules as GEOS checks them, a ring that touches
 * itself to form a hole allowed): a bow-tie, a doubly wound ring or a hole
 * outside its shell would load and then hold no point, silently. Repairing
 * (GEOSMakeValid) would change the unit's area behind the analyst's back, so
 * the file is refused naming the unit, GEOS's reason and where.
 */
static int geo_valid(struct geo_layer *l, const struct geo_unit *u, const char *path,
	size_t feat, struct mb_error *err)
{
	char *reason = NULL;
	GEOSGeometry *where = NULL;
	double x = NAN, y = NAN;
	char v = GEOSisValidDetail_r(l->ctx, u->geom,
		GEOSVALID_ALLOW_SELFTOUCHING_RING_FORMING_HOLE, &reason, &where);
	int rc = 0;

	if (v == 2)
		rc = mb_err(err, MB_EDATA, "%s: feature %zu (unit '%s'): cannot check the geometry: %s",
			path, feat, u->code, l->geos_msg);
	else if (v == 0) {
		if (where) {
			GEOSGeomGetX_r(l->ctx, where, &x);
			GEOSGeomGetY_r(l->ctx, where, &y);
		}
		rc = mb_err(err, MB_EDATA, "%s: feature %zu (unit '%s'): invalid polygon: %s at"
			" (%.6f, %.6f); repair the file (e.g. QGIS 'Fix geometries' or"
			" ogr2ogr -makevalid) and load it again", path, feat, u->code,
			reason ? reason : "?", x, y);
	}
	if (reason)
		GEOSFree_r(l->ctx, reason);
	if (where)
		GEOSGeom_destroy_r(l->ctx, where);
	return rc;
}

/* Read one feature into unit u (already zeroed). Return 0 or negative with err set. */
static int geo_feature(struct geo_layer *l, json_t *f, const char *path, size_t feat,
	const char *code_field, const char *name_field, struct geo_unit *u,
	struct mb_error *err)
{
	json_t *props = json_object_get(f, "properties");
	json_t *g = json_object_get(f, "geometry");
	const char *type;
	int rc;

	if (!json_is_object(f))
		return mb_err(err, MB_EDATA, "%s: feature %zu: not a JSON object", path, feat);
	if (!json_is_object(props))
		return mb_err(err, MB_EDATA, "%s: feature %zu: no properties", path, feat);
	rc = geo_property(props, code_field, path, feat, &u->code, err);
	if (rc)
		return rc;
	rc = geo_property(props, name_field ? name_field : code_field, path, feat, &u->name, err);
	if (rc)
		return rc;
	if (!json_is_object(g))
		return mb_err(err, MB_EDATA, "%s: feature %zu: no geometry", path, feat);
	type = json_string_value(json_object_get(g, "type"));
	if (type && strcmp(type, "Polygon") == 0)
		u->geom = geo_polygon(l, json_object_get(g, "coordinates"), path, feat, err);
	else if (type && strcmp(type, "MultiPolygon") == 0)
		u->geom = geo_multipolygon(l, json_object_get(g, "coordinates"), path, feat, err);
	else
		return mb_err(err, MB_EDATA, "%s: feature %zu: geometry type '%s' is not "
			"Polygon or MultiPolygon", path, feat, type ? type : "?");
	if (!u->geom)
		return -err->code;
	rc = geo_valid(l, u, path, feat, err);
	if (rc)
		return rc;
	u->prep = GEOSPrepare_r(l->ctx, u->geom);
	if (!u->prep)
		return mb_err(err, MB_ENOMEM, "%s: feature %zu: cannot prepare geometry: %s",
			path, feat, l->geos_msg);
	GEOSSTRtree_insert_r(l->ctx, l->tree, u->geom, u);
	return 0;
}

int geo_layer_load(const char *path, const char *code_field,
	const char *name_field, struct geo_layer **out, struct mb_error *err)
{
	struct geo_layer *l = NULL;
	struct mb_error local;
	json_error_t jerr;
	json_t *root = NULL, *feats;
	const char *type, *crs;
	FILE *fp = NULL;
	int rc = 0;

	if (!err)
		err = &local;
	*out = NULL;
	fp = fopen(path, "rb");
	if (!fp) {
		rc = mb_err(err, MB_EIO, "cannot open '%s': %s", path, strerror(errno));
		goto cleanup;
	}
	root = json_loadf(fp, 0, &jerr);
	if (!root) {
		rc = mb_err(err, MB_EDATA, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
		goto cleanup;
	}
	type = json_string_value(json_object_get(root, "type"));
	feats = json_object_get(root, "features");
	if (!type || strcmp(type, "FeatureCollection") != 0 || !json_is_array(feats)) {
		rc = mb_err(err, MB_EDATA, "%s: not a GeoJSON FeatureCollection", path);
		goto cleanup;
	}
	if (!geo_crs_ok(root, &crs)) {
		rc = mb_err(err, MB_EDATA, "%s: unsupported crs '%s' (need WGS84 lon/lat, CRS84)",
			path, crs);
		goto cleanup;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		rc = mb_err(err, MB_ENOMEM, "%s: out of memory", path);
		goto cleanup;
	}
	l->ctx = GEOS_init_r();
	if (!l->ctx) {
		rc = mb_err(err, MB_ENOMEM, "%s: cannot create a GEOS context", path);
		goto cleanup;
	}
	GEOSContext_setErrorMessageHandler_r(l->ctx, geo_geos_error, l);
	GEOSContext_setNoticeMessageHandler_r(l->ctx, geo_geos_notice, l);
	l->tree = GEOSSTRtree_create_r(l->ctx, 10);
	l->units = calloc(json_array_size(feats) + 1, sizeof(*l->units));
	if (!l->tree || !l->units) {
		rc = mb_err(err, MB_ENOMEM, "%s: out of memory", path);
		goto cleanup;
	}
	for (size_t i = 0; i < json_array_size(feats); i++) {
		l->units[i].index = i;
		l->n = i + 1; /* so that cleanup frees a partly built unit */
		rc = geo_feature(l, json_array_get(feats, i), path, i + 1, code_field, name_field,
			&l->units[i], err);
		if (rc)
			goto cleanup;
	}
	rc = geo_check_unique(l, path, err);
	if (rc)
		goto cleanup;
	*out = l;
	l = NULL;
cleanup:
	geo_layer_free(l);
	json_decref(root);
	if (fp)
		fclose(fp);
	return rc;
}

void geo_layer_free(struct geo_layer *layer)
{
	if (!layer)
		return;
	if (layer->tree)
		GEOSSTRtree_destroy_r(layer->ctx, layer->tree);
	for (size_t i = 0; i < layer->n; i++) {
		struct geo_unit *u = &layer->units[i];

		if (u->prep)
			GEOSPreparedGeom_destroy_r(layer->ctx, u->prep);
		if (u->geom)
			GEOSGeom_destroy_r(layer->ctx, u->geom);
		free(u->code);
		free(u->name);
	}
	free(layer->units);
	if (layer->ctx)
		GEOS_finish_r(layer->ctx);
	free(layer);
}

size_t geo_layer_count(const struct geo_layer *layer)
{
	return layer ? layer->n : 0;
}

const char *geo_layer_code(const struct geo_layer *layer, size_t i)
{
	return layer && i < layer->n ? layer->units[i].code : NULL;
}

const char *geo_layer_name(const struct geo_layer *layer, size_t i)
{
	return layer && i < layer->n ? layer->units[i].name : NULL;
}

/* State of one point lookup, passed through the STRtree query. */
struct geo_locate {
	struct geo_layer *l;     /* the layer */
	const GEOSGeometry *pt;  /* the query point */
	long best;               /* smallest matching index so far, -1 if none */
};

/* STRtree callback: test a candidate unit unless a smaller index already won. */
static void geo_locate_cb(void *item, void *userdata)
{
	struct geo_unit *u = item;
	struct geo_locate *q = userdata;

	if (q->best >= 0 && u->index >= (size_t)q->best)
		return;
	/* intersects, not contains: a point on the boundary matches (tie rule). */
	if (GEOSPreparedIntersects_r(q->l->ctx, u->prep, q->pt) == 1)
		q->best = (long)u->index;
}

long geo_layer_locate(struct geo_layer *layer, double lon, double lat)
{
	struct geo_locate q = { layer, NULL, -1 };
	GEOSGeometry *pt;

	if (!layer || !isfinite(lon) || !isfinite(lat))
		return -1;
	pt = GEOSGeom_createPointFromXY_r(layer->ctx, lon, lat);
	if (!pt)
		return -1;
	q.pt = pt;
	GEOSSTRtree_query_r(layer->ctx, layer->tree, pt, geo_locate_cb, &q);
	GEOSGeom_destroy_r(layer->ctx, pt);
	return q.best;
}

/* State of one tolerance lookup, passed through the STRtree query. */
struct geo_nearest {
	struct geo_layer *l;  /* the layer */
	double lon, lat;      /* the query point, degrees */
	double mx, my;        /* metres per degree of longitude / latitude at lat */
	double best_d;        /* smallest distance so far, metres */
	long best;            /* its unit index, -1 if none within the limit */
};

/* Distance in metres from the query point to the segments of one ring. */
static double geo_ring_dist(const struct geo_nearest *q, const GEOSGeometry *ring)
{
	const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(q->l->ctx, ring);
	unsigned n = 0;
	double best = INFINITY, ax = 0, ay = 0;

	if (!seq || !GEOSCoordSeq_getSize_r(q->l->ctx, seq, &n))
		return best;
	for (unsigned i = 0; i < n; i++) {
		double x, y, bx, by, dx, dy, len2, t, px, py, d;

		GEOSCoordSeq_getXY_r(q->l->ctx, seq, i, &x, &y);
		/* local equirectangular frame centred on the query point */
		bx = (x - q->lon) * q->mx;
		by = (y - q->lat) * q->my;
		if (i > 0) {
			dx = bx - ax;
			dy = by - ay;
			len2 = dx * dx + dy * dy;
			t = len2 > 0 ? -(ax * dx + ay * dy) / len2 : 0;
			t = t < 0 ? 0 : t > 1 ? 1 : t;
			px = ax + t * dx;
			py = ay + t * dy;
			d = sqrt(px * px + py * py);
			if (d < best)
				best = d;
		}
		ax = bx;
		ay = by;
	}
	return best;
}

/* Distance in metres from the query point to the boundary of a (multi)polygon. */
static double geo_geom_dist(const struct geo_nearest *q, const GEOSGeometry *g)
{
	GEOSContextHandle_t ctx = q->l->ctx;
	int nparts = GEOSGetNumGeometries_r(ctx, g);
	double best = INFINITY, d;

	for (int p = 0; p < nparts; p++) {
		const GEOSGeometry *poly = GEOSGetGeometryN_r(ctx, g, p);
		int nholes = GEOSGetNumInteriorRings_r(ctx, poly);

		d = geo_ring_dist(q, GEOSGetExteriorRing_r(ctx, poly));
		if (d < best)
			best = d;
		for (int h = 0; h < nholes; h++) {
			d = geo_ring_dist(q, GEOSGetInteriorRingN_r(ctx, poly, h));
			if (d < best)
				best = d;
		}
	}
	return best;
}

/* STRtree callback: measure a candidate unit, keep the nearest (smaller index on ties). */
static void geo_nearest_cb(void *item, void *userdata)
{
	struct geo_unit *u = item;
	struct geo_nearest *q = userdata;
	double d = geo_geom_dist(q, u->geom);

	if (d < q->best_d || (d == q->best_d && q->best >= 0 && (long)u->index < q->best)) {
		q->best_d = d;
		q->best = (long)u->index;
	}
}

long geo_layer_locate_nearest(struct geo_layer *layer, double lon, double lat,
	double max_dist_m)
{
	struct geo_nearest q;
	GEOSGeometry *box;
	double phi, dlon, dlat;
	long hit = geo_layer_locate(layer, lon, lat);

	if (hit >= 0 || !layer || !isfinite(lon) || !isfinite(lat) || !(max_dist_m > 0)
		|| !isfinite(max_dist_m))
		return hit;
	/*
	 * Metres per degree on the WGS84 ellipsoid at latitude phi (series from the
	 * meridian and parallel arc lengths; see docs/methods-geo.md).
	 */
	phi = lat * M_PI / 180.0;
	q.l = layer;
	q.lon = lon;
	q.lat = lat;
	q.my = 111132.92 - 559.82 * cos(2 * phi) + 1.175 * cos(4 * phi) - 0.0023 * cos(6 * phi);
	q.mx = 111412.84 * cos(phi) - 93.5 * cos(3 * phi) + 0.118 * cos(5 * phi);
	if (q.mx < 1.0)
		q.mx = 1.0; /* near a pole: keep the search box finite */
	q.best_d = max_dist_m;
	q.best = -1;
	dlon = max_dist_m / q.mx;
	dlat = max_dist_m / q.my;
	box = GEOSGeom_createRectangle_r(layer->ctx, lon - dlon, lat - dlat, lon + dlon,
		lat + dlat);
	if (!box)
		return -1;
	GEOSSTRtree_query_r(layer->ctx, layer->tree, box, geo_nearest_cb, &q);
	GEOSGeom_destroy_r(layer->ctx, box);
	return q.best;
}

/* Record the description and accuracy of the operation PROJ used last. */
static void geo_bng_note_method(struct geo_bng *t)
{
	PJ *op = proj_trans_get_last_used_operation(t->pj);
	PJ_PROJ_INFO info;

	if (!op)
		return;
	info = proj_pj_info(op);
	snprintf(t->method, sizeof(t->method), "%s", info.description ? info.description : "?");
	t->accuracy = info.accuracy;
	proj_destroy(op);
}

int geo_bng_open(struct geo_bng **out, struct mb_error *err)
{
	struct geo_bng *t = NULL;
	PJ *raw = NULL;
	double lon, lat;
	int rc = 0;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t) {
		rc = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	t->accuracy = -1;
	snprintf(t->method, sizeof(t->method), "unknown");
	t->ctx = proj_context_create();
	if (!t->ctx) {
		rc = mb_err(err, MB_ENOMEM, "cannot create a PROJ context");
		goto cleanup;
	}
	proj_log_level(t->ctx, PJ_LOG_NONE);
	/* Never download grids: results must not depend on the network. */
	proj_context_set_enable_network(t->ctx, 0);
	raw = proj_create_crs_to_crs(t->ctx, "EPSG:27700", "EPSG:4326", NULL);
	if (raw)
		t->pj = proj_normalize_for_visualization(t->ctx, raw);
	if (!t->pj) {
		rc = mb_err(err, MB_EIO, "cannot create the EPSG:27700 -> EPSG:4326 transformation: %s",
			proj_context_errno_string(t->ctx, proj_context_errno(t->ctx)));
		goto cleanup;
	}
	/* Probe in central England so that geo_bng_method is meaningful at once. */
	if (geo_bng_to_wgs84(t, 450000, 300000, &lon, &lat) != 0) {
		rc = mb_err(err, MB_EIO, "the EPSG:27700 -> EPSG:4326 transformation fails: %s",
			proj_context_errno_string(t->ctx, proj_context_errno(t->ctx)));
		goto cleanup;
	}
	*out = t;
	t = NULL;
cleanup:
	if (raw)
		proj_destroy(raw);
	geo_bng_close(t);
	return rc;
}

int geo_bng_to_wgs84(struct geo_bng *t, double easting, double northing,
	double *lon, double *lat)
{
	PJ_COORD c;

	if (!(easting >= 0 && easting <= 700000 && northing >= 0 && northing <= 1300000))
		return -MB_EDATA;
	c = proj_trans(t->pj, PJ_FWD, proj_coord(easting, northing, 0, 0));
	if (!isfinite(c.xy.x) || !isfinite(c.xy.y)) /* PROJ signals failure with HUGE_VAL */
		return -MB_EDATA;
	*lon = c.xy.x;
	*lat = c.xy.y;
	return 0;
}

const char *geo_bng_method(struct geo_bng *t)
{
	geo_bng_note_method(t);
	return t->method;
}

double geo_bng_accuracy(struct geo_bng *t)
{
	geo_bng_note_method(t);
	return t->accuracy;
}

void geo_bng_close(struct geo_bng *t)
{
	if (!t)
		return;
	if (t->pj)
		proj_destroy(t->pj);
	if (t->ctx)
		proj_context_destroy(t->ctx);
	free(t);
}
