/* store_areas — area layers: units, populations, point and LSOA assignments. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "microbeat/areas.h"
#include "microbeat/geo.h"
#include "microbeat/slice.h"
#include "microbeat/util.h"
#include "store_internal.h"
#include "store_scope.h"

/* Longest code field name kept in a layer's method text. */
#define FIELD_MAX 200

/* Compare two C strings through pointers (qsort). */
static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int store_layer_find(struct store *s, const char *name, int64_t *id, char **method, char **path,
		      struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	*id = 0;
	if (method)
		*method = NULL;
	if (path)
		*path = NULL;
	if ((r = store_prepare(s, &st, "SELECT id, method, path FROM layer WHERE name = ?", err)))
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		if (method && sqlite3_column_text(st, 1))
			*method = strdup((const char *)sqlite3_column_text(st, 1));
		if (path && sqlite3_column_text(st, 2))
			*path = strdup((const char *)sqlite3_column_text(st, 2));
		if ((method && sqlite3_column_text(st, 1) && !*method) ||
		    (path && sqlite3_column_text(st, 2) && !*path)) {
			sqlite3_finalize(st);
			free(method ? *method : NULL);
			if (method)
				*method = NULL;
			return mb_err(err, MB_ENOMEM, "out of memory");
		}
	}
	sqlite3_finalize(st);
	return 0;
}

/* Parse "key=value" out of a layer's method text ("boundaries code=F
 * tolerance=M"); copy the value into out (cap bytes). Return 1 when found. */
static int method_param(const char *method, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);
	const char *p = method;

	while (p && (p = strstr(p, key)) != NULL) {
		if ((p == method || p[-1] == ' ') && p[kl] == '=') {
			const char *v = p + kl + 1;
			size_t n = strcspn(v, " ");

			if (n >= cap)
				return 0;
			memcpy(out, v, n);
			out[n] = '\0';
			return 1;
		}
		p += kl;
	}
	return 0;
}

/* The snap points with coordinates not yet assigned in layer_id: ids and
 * coordinates into freshly allocated arrays (*n entries). */
static int pending_points(struct store *s, int64_t layer_id, int64_t **ids, double **lon,
			  double **lat, size_t *n, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	size_t icap = 0, xcap = 0, ycap = 0;
	int r = 0, rc;

	*ids = NULL;
	*lon = *lat = NULL;
	*n = 0;
	if ((r = store_prepare(s, &st,
			       "SELECT id, lon, lat FROM location l WHERE lon IS NOT NULL AND lat IS NOT NULL"
			       " AND NOT EXISTS (SELECT 1 FROM location_unit u WHERE u.location_id = l.id"
			       " AND u.layer_id = ?1)",
			       err)))
		return r;
	sqlite3_bind_int64(st, 1, layer_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (GROW(*ids, *n + 1, icap) || GROW(*lon, *n + 1, xcap) || GROW(*lat, *n + 1, ycap)) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
		(*ids)[*n] = sqlite3_column_int64(st, 0);
		(*lon)[*n] = sqlite3_column_double(st, 1);
		(*lat)[*n] = sqlite3_column_double(st, 2);
		(*n)++;
	}
	if (rc != SQLITE_DONE)
		r = store_db_err(s, err, "reading snap points");
cleanup:
	sqlite3_finalize(st);
	if (r) {
		free(*ids);
		free(*lon);
		free(*lat);
		*ids = NULL;
		*lon = *lat = NULL;
		*n = 0;
	}
	return r;
}

/* Place the pending snap points of layer_id with geo (unit_id[i] = store id
 * of feature i, 0 = not a unit of the layer) and store the answers (NULL
 * unit = in no unit). *examined and *placed receive the counts. */
static int place_points(struct store *s, int64_t layer_id, struct geo_layer *geo,
			const int64_t *unit_id, double tol, long *examined, long *placed,
			struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int64_t *ids = NULL;
	double *lon = NULL, *lat = NULL;
	size_t n = 0, nu = geo_layer_count(geo);
	int r;

	*examined = *placed = 0;
	if ((r = pending_points(s, layer_id, &ids, &lon, &lat, &n, err)))
		return r;
	if ((r = store_prepare(s, &st,
			       "INSERT OR REPLACE INTO location_unit(location_id, layer_id, unit_id)"
			       " VALUES(?1, ?2, ?3)",
			       err)))
		goto cleanup;
	for (size_t i = 0; i < n; i++) {
		long k = tol > 0 ? geo_layer_locate_nearest(geo, lon[i], lat[i], tol)
				 : geo_layer_locate(geo, lon[i], lat[i]);

		sqlite3_bind_int64(st, 1, ids[i]);
		sqlite3_bind_int64(st, 2, layer_id);
		if (k >= 0 && (size_t)k < nu && unit_id[k]) {
			sqlite3_bind_int64(st, 3, unit_id[k]);
			(*placed)++;
		} else {
			sqlite3_bind_null(st, 3);
		}
		if (sqlite3_step(st) != SQLITE_DONE) {
			r = store_db_err(s, err, "storing unit assignments");
			goto cleanup;
		}
		sqlite3_reset(st);
	}
	*examined = (long)n;
cleanup:
	sqlite3_finalize(st);
	free(ids);
	free(lon);
	free(lat);
	return r;
}

/* Run one counting query with layer_id bound to ?1; *v = its first column. */
static int count_q(struct store *s, const char *sql, int64_t layer_id, long *v,
		   struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	*v = 0;
	if ((r = store_prepare(s, &st, sql, err)))
		return r;
	sqlite3_bind_int64(st, 1, layer_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		*v = (long)sqlite3_column_int64(st, 0);
	else
		r = store_db_err(s, err, "counting assignments");
	sqlite3_finalize(st);
	return r;
}

/* Located events placed in a unit of layer_id by either method. */
static const char SQL_ASSIGNED[] =
	"SELECT count(*) FROM event e JOIN location l ON l.id = e.location_id"
	" WHERE (e.flags & 1) = 0 AND (EXISTS (SELECT 1 FROM location_unit u"
	" WHERE u.location_id = l.id AND u.layer_id = ?1 AND u.unit_id IS NOT NULL)"
	" OR EXISTS (SELECT 1 FROM lsoa q JOIN lsoa_unit lu ON lu.lsoa_code = q.code"
	" JOIN unit un ON un.id = lu.unit_id WHERE q.id = l.lsoa_id AND un.layer_id = ?1))";

/* Located events in no unit of layer_id. */
static const char SQL_UNASSIGNED[] =
	"SELECT count(*) FROM event e JOIN location l ON l.id = e.location_id"
	" WHERE (e.flags & 1) = 0 AND NOT EXISTS (SELECT 1 FROM location_unit u"
	" WHERE u.location_id = l.id AND u.layer_id = ?1 AND u.unit_id IS NOT NULL)"
	" AND NOT EXISTS (SELECT 1 FROM lsoa q JOIN lsoa_unit lu ON lu.lsoa_code = q.code"
	" JOIN unit un ON un.id = lu.unit_id WHERE q.id = l.lsoa_id AND un.layer_id = ?1)";

/* Of those, the ones in an LSOA whose other snap points the layer places:
 * points just outside the polygons of a district the layer covers. */
static const char SQL_UNASSIGNED_NEAR[] =
	"WITH cov AS (SELECT DISTINCT l.lsoa_id FROM location l JOIN location_unit u"
	" ON u.location_id = l.id AND u.layer_id = ?1 WHERE u.unit_id IS NOT NULL"
	" AND l.lsoa_id IS NOT NULL)"
	" SELECT count(*) FROM event e JOIN location l ON l.id = e.location_id"
	" JOIN location_unit u ON u.location_id = l.id AND u.layer_id = ?1"
	" WHERE (e.flags & 1) = 0 AND u.unit_id IS NULL AND l.lsoa_id IN cov"
	" AND NOT EXISTS (SELECT 1 FROM lsoa q JOIN lsoa_unit lu ON lu.lsoa_code = q.code"
	" JOIN unit un ON un.id = lu.unit_id WHERE q.id = l.lsoa_id AND un.layer_id = ?1)";

/* Snap points with coordinates waiting for an assignment in a boundary layer. */
static const char SQL_PENDING[] =
	"SELECT count(*) FROM location l WHERE lon IS NOT NULL AND lat IS NOT NULL"
	" AND NOT EXISTS (SELECT 1 FROM location_unit u WHERE u.location_id = l.id"
	" AND u.layer_id = ?1)";

/* The located events of each snap point, for the layer counts below: read
 * once (from the column blocks and the snap points' dimension blocks) and
 * summed per layer in C. The SQL above (SQL_ASSIGNED, SQL_UNASSIGNED,
 * SQL_UNASSIGNED_NEAR) ran two correlated subqueries an event: ~7 s each for
 * a national year. Stores without column blocks still run it. */
struct loc_events {
	size_t nloc;     /* snap point ids + 1 */
	uint8_t *held;   /* 1 = a location row has this id (the SQL's JOIN location) */
	uint32_t *lsoa;  /* its LSOA id (0: none) */
	int64_t *n;      /* its located events not coded to a unit (flags bit 0 clear) */
};

static void loc_events_free(struct loc_events *le)
{
	free(le->held);
	free(le->lsoa);
	free(le->n);
	memset(le, 0, sizeof(*le));
}

static int le_loc(void *ctx, const struct dimb_row *d)
{
	struct loc_events *le = ctx;

	if (d->id > 0 && (size_t)d->id < le->nloc) {
		le->held[d->id] = 1;
		le->lsoa[d->id] = d->lsoa;
	}
	return 0;
}

static int le_rows(void *ctx, const struct store_evrows *rows)
{
	struct loc_events *le = ctx;

	for (size_t i = 0; i < rows->n; i++)
		if (!(rows->flags[i] & 1) && rows->location[i] && rows->location[i] < le->nloc)
			le->n[rows->location[i]]++;
	return 0;
}

/* Fill *le, or leave it empty (le->nloc 0) when the store has no column
 * blocks: the counts are then the SQL's. */
static int loc_events_read(struct store *s, struct loc_events *le, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int32_t lo = 0, hi = -1;
	size_t nloc = 0;
	int r, rc, blocks = 0;

	memset(le, 0, sizeof(*le));
	if ((r = store_has_table(s, "event_block", &blocks, err)) || !blocks)
		return r;
	if ((r = store_max_id(s, "SELECT max(id) FROM location", &nloc, err)) ||
	    (r = store_prepare(s, &st, "SELECT min(month), max(month) FROM event_block", err)))
		return r;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		lo = sqlite3_column_int(st, 0);
		hi = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_ROW)
		return store_db_err(s, err, "counting located events");
	le->nloc = nloc;
	le->held = calloc(nloc, 1);
	le->lsoa = calloc(nloc, sizeof(*le->lsoa));
	le->n = calloc(nloc, sizeof(*le->n));
	if (!le->held || !le->lsoa || !le->n) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto fail;
	}
	if ((r = store_dim_rows(s, DIMB_LOCATION, le_loc, le, err)))
		goto fail;
	if (hi >= lo && (r = store_blocks_scan(s, lo, hi, 1, le_rows, le, err)))
		goto fail;
	return 0;
fail:
	loc_events_free(le);
	return r;
}

/* The SQL counts of layer_id from le: located events in a unit by either
 * method, in none, and (boundary layers) in none but in an LSOA whose other
 * snap points the layer's polygons place. */
static int layer_counts(struct store *s, const struct loc_events *le, int64_t layer_id,
			long *assigned, long *unassigned, long *near, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	size_t nlsoa = 0;
	uint8_t *bnd = NULL, *lk = NULL, *cov = NULL;
	int r, rc;

	*assigned = *unassigned = 0;
	if (near)
		*near = 0;
	if ((r = store_max_id(s, "SELECT max(id) FROM lsoa", &nlsoa, err)))
		return r;
	bnd = calloc(le->nloc, 1); /* 1 = a unit by boundaries, 2 = a "no unit" row */
	lk = calloc(nlsoa, 1);     /* LSOA id -> the layer's lookup places it */
	cov = calloc(nlsoa, 1);    /* LSOA id -> a snap point in it has a unit by boundaries */
	if (!bnd || !lk || !cov) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	if ((r = store_prepare(s, &st, "SELECT location_id, unit_id IS NOT NULL FROM location_unit"
				       " WHERE layer_id = ?1", err)))
		goto cleanup;
	sqlite3_bind_int64(st, 1, layer_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_int64 loc = sqlite3_column_int64(st, 0);

		if (loc > 0 && (size_t)loc < le->nloc && le->held[loc]) {
			bnd[loc] = sqlite3_column_int(st, 1) ? 1 : 2;
			if (bnd[loc] == 1 && le->lsoa[loc] && le->lsoa[loc] < nlsoa)
				cov[le->lsoa[loc]] = 1;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE) {
		r = store_db_err(s, err, "counting assignments");
		goto cleanup;
	}
	if ((r = store_prepare(s, &st, "SELECT q.id FROM lsoa q WHERE EXISTS (SELECT 1 FROM lsoa_unit"
				       " lu JOIN unit un ON un.id = lu.unit_id WHERE lu.lsoa_code = q.code"
				       " AND un.layer_id = ?1)", err)))
		goto cleanup;
	sqlite3_bind_int64(st, 1, layer_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_int64 l = sqlite3_column_int64(st, 0);

		if (l > 0 && (size_t)l < nlsoa)
			lk[l] = 1;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE) {
		r = store_db_err(s, err, "counting assignments");
		goto cleanup;
	}
	for (size_t loc = 1; loc < le->nloc; loc++) {
		uint32_t l = le->lsoa[loc];
		int by_lookup = l && l < nlsoa && lk[l];

		if (!le->held[loc] || !le->n[loc])
			continue;
		if (bnd[loc] == 1 || by_lookup)
			*assigned += le->n[loc];
		else
			*unassigned += le->n[loc];
		if (near && bnd[loc] == 2 && l && l < nlsoa && cov[l] && !by_lookup)
			*near += le->n[loc];
	}
cleanup:
	sqlite3_finalize(st);
	free(bnd);
	free(lk);
	free(cov);
	return r;
}

/* Find code in the sorted array of code pointers (n entries); index or -1. */
static long code_index(char *const *sorted, const size_t *order, size_t n, const char *code)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(sorted[mid], code);

		if (c == 0)
			return (long)order[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Units of spec with their codes sorted (for lookups and duplicate checks). */
struct code_index {
	char **sorted;   /* unit codes in strcmp order (borrowed pointers) */
	size_t *order;   /* units index of each sorted entry */
	size_t n;        /* entries */
};

/* Index of a code pointer within the units array (for the sort). */
struct code_pos {
	const char *code; /* the code */
	size_t pos;       /* its unit index */
};

static int cmp_code_pos(const void *a, const void *b)
{
	const struct code_pos *x = a, *y = b;
	int c = strcmp(x->code, y->code);

	return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/* Build the sorted code index of spec's units; MB_EUSAGE on a repeated code. */
static int code_index_build(const struct areas_spec *spec, struct code_index *ix,
			    struct mb_error *err)
{
	struct code_pos *cp = calloc(spec->nunits, sizeof(*cp));
	int r = 0;

	memset(ix, 0, sizeof(*ix));
	ix->sorted = calloc(spec->nunits, sizeof(char *));
	ix->order = calloc(spec->nunits, sizeof(size_t));
	if (!cp || !ix->sorted || !ix->order) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < spec->nunits; i++) {
		cp[i].code = spec->units[i].code;
		cp[i].pos = i;
	}
	qsort(cp, spec->nunits, sizeof(*cp), cmp_code_pos);
	for (size_t i = 0; i < spec->nunits; i++) {
		if (i && strcmp(cp[i].code, cp[i - 1].code) == 0) {
			r = mb_err(err, MB_EUSAGE, "layer '%s': unit code '%s' appears twice",
				   spec->layer, cp[i].code);
			goto cleanup;
		}
		ix->sorted[i] = (char *)cp[i].code;
		ix->order[i] = cp[i].pos;
	}
	ix->n = spec->nunits;
cleanup:
	free(cp);
	if (r) {
		free(ix->sorted);
		free(ix->order);
		memset(ix, 0, sizeof(*ix));
	}
	return r;
}

/* Write the layer row and its units (kept codes keep their ids); unit_id
 * receives the store id of each unit of spec. */
static int write_units(struct store *s, const struct areas_spec *spec, const struct code_index *ix,
		       int64_t *layer_id, int64_t *unit_id, struct areas_stats *st,
		       struct mb_error *err)
{
	sqlite3_stmt *q = NULL;
	char method[FIELD_MAX + 80];
	int64_t *old = NULL;
	size_t nold = 0, cap = 0;
	int r, rc;

	if (spec->geo)
		snprintf(method, sizeof(method), "boundaries%s code=%s tolerance=%g",
			 spec->lookup ? "+lookup" : "", spec->geo_code_field, spec->tolerance_m);
	else
		snprintf(method, sizeof(method), "lookup");
	if ((r = store_prepare(s, &q,
			       "INSERT INTO layer(name, method, path) VALUES(?1, ?2, ?3)"
			       " ON CONFLICT(name) DO UPDATE SET method = excluded.method,"
			       " path = excluded.path",
			       err)))
		return r;
	sqlite3_bind_text(q, 1, spec->layer, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, method, -1, SQLITE_TRANSIENT);
	if (spec->geo)
		sqlite3_bind_text(q, 3, spec->geo_path, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, 3);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	q = NULL;
	if (rc != SQLITE_DONE)
		return store_db_err(s, err, "writing the layer");
	if ((r = store_layer_find(s, spec->layer, layer_id, NULL, NULL, err)))
		return r;

	/* the old units: those whose code is gone are dropped below */
	if ((r = store_prepare(s, &q, "SELECT id, code FROM unit WHERE layer_id = ?", err)))
		return r;
	sqlite3_bind_int64(q, 1, *layer_id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *code = (const char *)sqlite3_column_text(q, 1);

		if (code_index(ix->sorted, ix->order, ix->n, code) >= 0) {
			st->units_kept++;
			continue;
		}
		if (GROW(old, nold + 1, cap)) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
		old[nold++] = sqlite3_column_int64(q, 0);
	}
	sqlite3_finalize(q);
	q = NULL;
	if (rc != SQLITE_DONE) {
		r = store_db_err(s, err, "reading units");
		goto cleanup;
	}
	static const char *const drop[] = {
		"DELETE FROM event_unit WHERE unit_id = ?1",
		"DELETE FROM lsoa_unit WHERE unit_id = ?1",
		"DELETE FROM unit WHERE id = ?1",
	};
	for (size_t k = 0; k < sizeof(drop) / sizeof(drop[0]); k++) {
		if ((r = store_prepare(s, &q, drop[k], err)))
			goto cleanup;
		for (size_t i = 0; i < nold; i++) {
			sqlite3_bind_int64(q, 1, old[i]);
			if (sqlite3_step(q) != SQLITE_DONE) {
				r = store_db_err(s, err, "dropping old units");
				goto cleanup;
			}
			sqlite3_reset(q);
		}
		sqlite3_finalize(q);
		q = NULL;
	}
	st->units_dropped = (long)nold;

	if ((r = store_prepare(s, &q,
			       "INSERT INTO unit(layer_id, code, name, population) VALUES(?1, ?2, ?3, ?4)"
			       " ON CONFLICT(layer_id, code) DO UPDATE SET name = excluded.name,"
			       " population = excluded.population RETURNING id",
			       err)))
		goto cleanup;
	for (size_t i = 0; i < spec->nunits; i++) {
		const struct areas_unit *u = &spec->units[i];

		sqlite3_bind_int64(q, 1, *layer_id);
		sqlite3_bind_text(q, 2, u->code, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, u->name ? u->name : u->code, -1, SQLITE_STATIC);
		if (isfinite(u->population)) {
			sqlite3_bind_double(q, 4, u->population);
			st->units_with_pop++;
			st->population += u->population;
		} else {
			sqlite3_bind_null(q, 4);
		}
		if (sqlite3_step(q) != SQLITE_ROW) {
			r = store_db_err(s, err, "writing units");
			goto cleanup;
		}
		unit_id[i] = sqlite3_column_int64(q, 0);
		while (sqlite3_step(q) == SQLITE_ROW)
			;
		sqlite3_reset(q);
	}
	st->units = (long)spec->nunits;
	r = 0;
cleanup:
	sqlite3_finalize(q);
	free(old);
	return r;
}

/* Store the LSOA lookup rows of spec (units by store id). */
static int write_lookup(struct store *s, const struct areas_spec *spec, const struct code_index *ix,
			const int64_t *unit_id, struct areas_stats *st, struct mb_error *err)
{
	sqlite3_stmt *q = NULL, *known = NULL;
	const char **codes = NULL;
	int r;

	if ((r = store_prepare(s, &q,
			       "INSERT INTO lsoa_unit(lsoa_code, unit_id, weight) VALUES(?1, ?2, ?3)"
			       " ON CONFLICT(lsoa_code, unit_id) DO UPDATE SET weight = weight + excluded.weight",
			       err)) ||
	    (r = store_prepare(s, &known, "SELECT 1 FROM lsoa WHERE code = ?", err)))
		goto cleanup;
	codes = calloc(spec->nlookup + 1, sizeof(*codes));
	if (!codes) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < spec->nlookup; i++) {
		const struct areas_lookup *l = &spec->lookup[i];
		long k = code_index(ix->sorted, ix->order, ix->n, l->unit);

		if (k < 0) {
			r = mb_err(err, MB_EUSAGE, "layer '%s': the lookup maps LSOA '%s' to unit '%s',"
				   " which is not one of the layer's units", spec->layer, l->lsoa, l->unit);
			goto cleanup;
		}
		sqlite3_bind_text(q, 1, l->lsoa, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, unit_id[k]);
		sqlite3_bind_double(q, 3, l->weight);
		if (sqlite3_step(q) != SQLITE_DONE) {
			r = store_db_err(s, err, "writing the LSOA lookup");
			goto cleanup;
		}
		sqlite3_reset(q);
		codes[i] = l->lsoa;
	}
	st->lookup_rows = (long)spec->nlookup;
	qsort(codes, spec->nlookup, sizeof(*codes), cmp_strp);
	for (size_t i = 0; i < spec->nlookup; i++) {
		if (i && strcmp(codes[i], codes[i - 1]) == 0)
			continue;
		sqlite3_bind_text(known, 1, codes[i], -1, SQLITE_STATIC);
		if (sqlite3_step(known) == SQLITE_ROW)
			st->lookup_lsoa_known++;
		sqlite3_reset(known);
	}
	r = 0;
cleanup:
	sqlite3_finalize(q);
	sqlite3_finalize(known);
	free(codes);
	return r;
}

/* Is s empty or only blanks? */
static int blank(const char *s)
{
	return !s[strspn(s, " \t\r\n")];
}

/* The last guard before units are written, whatever the reader: codes and
 * given names not blank, populations unknown (NaN) or AREAS_POP_MIN..MAX.
 * MB_EDATA naming the unit. */
static int units_check(const struct areas_spec *spec, struct mb_error *err)
{
	for (size_t i = 0; i < spec->nunits; i++) {
		const struct areas_unit *u = &spec->units[i];

		if (!u->code || blank(u->code))
			return mb_err(err, MB_EDATA, "layer '%s': unit %zu has a blank code", spec->layer,
				      i + 1);
		if (u->name && blank(u->name))
			return mb_err(err, MB_EDATA, "layer '%s': unit '%s' has a blank name",
				      spec->layer, u->code);
		if (!isnan(u->population) &&
		    !(u->population >= AREAS_POP_MIN && u->population <= AREAS_POP_MAX))
			return mb_err(err, MB_EDATA, "layer '%s': unit '%s': population %g is outside"
				      " %.0f .. %.0f", spec->layer, u->code, u->population,
				      AREAS_POP_MIN, AREAS_POP_MAX);
	}
	for (size_t i = 0; i < spec->nlookup; i++)
		if (!spec->lookup[i].lsoa || blank(spec->lookup[i].lsoa) ||
		    !(spec->lookup[i].weight > 0) || !isfinite(spec->lookup[i].weight))
			return mb_err(err, MB_EDATA, "layer '%s': lookup row %zu has a blank LSOA code"
				      " or a weight that is not > 0", spec->layer, i + 1);
	return 0;
}

int store_areas_load(struct store *s, const struct areas_spec *spec, struct areas_stats *st,
		     struct mb_error *err)
{
	struct code_index ix = { 0 };
	struct loc_events le = { 0 };
	int64_t layer_id = 0, *unit_id = NULL;
	int own = sqlite3_get_autocommit(s->db), r;
	char sql[160];

	memset(st, 0, sizeof(*st));
	if (!spec->nunits || (!spec->geo && !spec->lookup))
		return mb_err(err, MB_EUSAGE, "layer '%s': nothing to load", spec->layer);
	if (spec->geo && (geo_layer_count(spec->geo) != spec->nunits || !spec->geo_code_field ||
			  strlen(spec->geo_code_field) > FIELD_MAX || strchr(spec->geo_code_field, ' ')))
		return mb_err(err, MB_EUSAGE, "layer '%s': units do not match the boundaries",
			      spec->layer);
	if ((r = units_check(spec, err)) || (r = code_index_build(spec, &ix, err)))
		return r;
	unit_id = calloc(spec->nunits, sizeof(*unit_id));
	if (!unit_id) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	if (own && (r = store_begin(s, err)))
		goto cleanup;
	if ((r = write_units(s, spec, &ix, &layer_id, unit_id, st, err)))
		goto fail;
	snprintf(sql, sizeof(sql), "DELETE FROM location_unit WHERE layer_id = %lld;"
		 "DELETE FROM lsoa_unit WHERE unit_id IN (SELECT id FROM unit WHERE layer_id = %lld)",
		 (long long)layer_id, (long long)layer_id);
	if ((r = store_exec(s, sql, err)))
		goto fail;
	if (spec->geo && (r = place_points(s, layer_id, spec->geo, unit_id, spec->tolerance_m,
					   &st->locations, &st->located, err)))
		goto fail;
	if (spec->lookup && (r = write_lookup(s, spec, &ix, unit_id, st, err)))
		goto fail;
	if ((r = loc_events_read(s, &le, err)))
		goto fail;
	if (le.nloc ? (r = layer_counts(s, &le, layer_id, &st->events_assigned,
					&st->events_unassigned, NULL, err))
		    : ((r = count_q(s, SQL_ASSIGNED, layer_id, &st->events_assigned, err)) ||
		       (r = count_q(s, SQL_UNASSIGNED, layer_id, &st->events_unassigned, err))))
		goto fail;
	if (own && (r = store_commit(s, err)))
		goto cleanup;
	r = 0;
	goto cleanup;
fail:
	if (own)
		store_rollback(s);
cleanup:
	loc_events_free(&le);
	free(ix.sorted);
	free(ix.order);
	free(unit_id);
	return r;
}

/* Refresh one boundary layer: place its pending snap points. */
static int refresh_layer(struct store *s, int64_t layer_id, const char *name, const char *method,
			 const char *path, long *examined, struct mb_error *err)
{
	sqlite3_stmt *q = NULL;
	struct geo_layer *geo = NULL;
	int64_t *unit_id = NULL;
	char field[FIELD_MAX + 1], tol[64];
	long pending, placed;
	int r;

	*examined = 0;
	if ((r = count_q(s, SQL_PENDING, layer_id, &pending, err)) || !pending)
		return r;
	if (!path || !method_param(method, "code", field, sizeof(field)))
		return mb_err(err, MB_EDATA, "layer '%s': no boundary file recorded; load it again"
			      " with 'microbeat areas'", name);
	double tolerance = method_param(method, "tolerance", tol, sizeof(tol)) ? strtod(tol, NULL) : 0;

	struct mb_error ge = { 0 };

	if ((r = geo_layer_load(path, field, NULL, &geo, &ge)))
		return mb_err(err, ge.code, "layer '%s': %ld snap points left unassigned: %s",
			      name, pending, ge.msg);
	size_t n = geo_layer_count(geo);

	unit_id = calloc(n + 1, sizeof(*unit_id));
	if (!unit_id) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	if ((r = store_prepare(s, &q, "SELECT id FROM unit WHERE layer_id = ?1 AND code = ?2", err)))
		goto cleanup;
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_int64(q, 1, layer_id);
		sqlite3_bind_text(q, 2, geo_layer_code(geo, i), -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW)
			unit_id[i] = sqlite3_column_int64(q, 0);
		sqlite3_reset(q);
	}
	r = place_points(s, layer_id, geo, unit_id, tolerance, examined, &placed, err);
cleanup:
	sqlite3_finalize(q);
	geo_layer_free(geo);
	free(unit_id);
	return r;
}

/* A layer row read for refresh or info. */
struct layer_row {
	int64_t id;     /* layer id */
	char *name;     /* layer name */
	char *method;   /* method text */
	char *path;     /* boundary file, or NULL */
};

/* Read every layer row (ordered by name) into *rows / *n. */
static int layers_read(struct store *s, struct layer_row **rows, size_t *n, struct mb_error *err)
{
	sqlite3_stmt *q = NULL;
	struct layer_row *v = NULL;
	size_t cap = 0;
	int r = 0, rc;

	*rows = NULL;
	*n = 0;
	if ((r = store_prepare(s, &q, "SELECT id, name, method, path FROM layer ORDER BY name", err)))
		return r;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (GROW(v, *n + 1, cap)) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			break;
		}
		struct layer_row *l = &v[(*n)++];
		const char *p = (const char *)sqlite3_column_text(q, 3);

		l->id = sqlite3_column_int64(q, 0);
		l->name = strdup((const char *)sqlite3_column_text(q, 1));
		l->method = strdup((const char *)sqlite3_column_text(q, 2));
		l->path = p ? strdup(p) : NULL;
		if (!l->name || !l->method || (p && !l->path)) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			break;
		}
	}
	if (!r && rc != SQLITE_DONE)
		r = store_db_err(s, err, "reading layers");
	sqlite3_finalize(q);
	*rows = v;
	return r;
}

static void layers_free(struct layer_row *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++) {
		free(rows[i].name);
		free(rows[i].method);
		free(rows[i].path);
	}
	free(rows);
}

int store_areas_refresh(struct store *s, long *placed, struct mb_error *err)
{
	struct layer_row *rows = NULL;
	size_t n = 0;
	int own = sqlite3_get_autocommit(s->db), r, first = 0;
	long total = 0;

	if (placed)
		*placed = 0;
	if ((r = layers_read(s, &rows, &n, err)))
		goto cleanup;
	if (own && n && (r = store_begin(s, err)))
		goto cleanup;
	/* one layer's missing file must not stop the others: remember the first error */
	for (size_t i = 0; i < n; i++) {
		struct mb_error e = { 0 };
		long k = 0;
		int ri;

		if (strncmp(rows[i].method, "boundaries", 10) != 0)
			continue;
		ri = refresh_layer(s, rows[i].id, rows[i].name, rows[i].method, rows[i].path, &k, &e);
		total += k;
		if (ri && !first) {
			first = ri;
			if (err)
				*err = e;
		}
		if (ri == -MB_EDB || ri == -MB_ENOMEM)
			break;
	}
	if (first == -MB_EDB || first == -MB_ENOMEM) {
		if (own && n)
			store_rollback(s);
		r = first;
		goto cleanup;
	}
	if (own && n && (r = store_commit(s, err)))
		goto cleanup;
	if (placed)
		*placed = total;
	r = first;
cleanup:
	layers_free(rows, n);
	return r;
}

int store_layer_source(struct store *s, const char *layer, char **name_out, char **path,
		       char *code_field, size_t cap, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	*name_out = *path = NULL;
	if (cap)
		code_field[0] = 0;
	if ((r = store_prepare(s, &st, "SELECT name, method, path FROM layer WHERE (?1 IS NULL OR"
			       " name = ?1) AND method LIKE 'boundaries%' AND path IS NOT NULL"
			       " ORDER BY name LIMIT 1", err)))
		return r;
	if (layer)
		sqlite3_bind_text(st, 1, layer, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(st, 1);

		*name_out = strdup((const char *)sqlite3_column_text(st, 0));
		*path = strdup((const char *)sqlite3_column_text(st, 2));
		if (!*name_out || !*path) {
			free(*name_out);
			free(*path);
			*name_out = *path = NULL;
			sqlite3_finalize(st);
			return mb_err(err, MB_ENOMEM, "out of memory");
		}
		if (!m || !method_param(m, "code", code_field, cap)) {
			free(*name_out);
			free(*path);
			*name_out = *path = NULL;
		}
	}
	sqlite3_finalize(st);
	return 0;
}

int store_layers_info(struct store *s, struct layer_info **out, size_t *nout,
		      struct mb_error *err)
{
	struct layer_row *rows = NULL;
	struct layer_info *v = NULL;
	struct loc_events le = { 0 };
	sqlite3_stmt *q = NULL;
	size_t n = 0;
	int r, own;

	*out = NULL;
	*nout = 0;
	/* one snapshot for the layers and all their counts */
	if ((r = store_read_begin(s, &own, err)))
		return r;
	if ((r = layers_read(s, &rows, &n, err)) || !n)
		goto cleanup;
	if ((r = store_prepare(s, &q,
			       "SELECT count(*), count(population), coalesce(sum(population), 0)"
			       " FROM unit WHERE layer_id = ?1",
			       err)))
		goto cleanup;
	if (!(v = calloc(n, sizeof(*v)))) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		struct layer_info *l = &v[i];

		/* the names move to the rows */
		l->name = rows[i].name;
		l->method = rows[i].method;
		rows[i].name = rows[i].method = NULL;
		l->boundaries = strncmp(l->method, "boundaries", 10) == 0;
		sqlite3_bind_int64(q, 1, rows[i].id);
		if (sqlite3_step(q) == SQLITE_ROW) {
			l->units = (long)sqlite3_column_int64(q, 0);
			l->with_pop = (long)sqlite3_column_int64(q, 1);
			l->pop = sqlite3_column_double(q, 2);
		}
		sqlite3_reset(q);
		/* the snap points' events once, for every layer */
		if (i == 0 && (r = loc_events_read(s, &le, err)))
			goto cleanup;
		if ((le.nloc ? (r = layer_counts(s, &le, rows[i].id, &l->assigned, &l->unassigned,
						 l->boundaries ? &l->near : NULL, err))
			     : ((r = count_q(s, SQL_ASSIGNED, rows[i].id, &l->assigned, err)) ||
				(r = count_q(s, SQL_UNASSIGNED, rows[i].id, &l->unassigned, err)) ||
				(l->boundaries &&
				 (r = count_q(s, SQL_UNASSIGNED_NEAR, rows[i].id, &l->near, err))))) ||
		    (r = count_q(s, "SELECT count(*) FROM event_unit WHERE layer_id = ?1", rows[i].id,
				 &l->coded, err)) ||
		    (l->boundaries && (r = count_q(s, SQL_PENDING, rows[i].id, &l->pending, err))))
			goto cleanup;
	}
	*out = v;
	*nout = n;
	v = NULL;
cleanup:
	sqlite3_finalize(q);
	loc_events_free(&le);
	layers_free(rows, n);
	if (v)
		store_layers_info_release(v, n);
	store_read_end(s, own);
	return r;
}

void store_layers_info_release(struct layer_info *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].name);
		free(v[i].method);
	}
	free(v);
}

