/* store_slice_units — what a loaded slice's places belong to: the units of a
 * layer (per event, with the events placed by LSOA or unit code only), each
 * snap point's unit, and the names police.uk gave each LSOA. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "microbeat/areas.h"
#include "microbeat/slice.h"
#include "microbeat/util.h"
#include "store_internal.h"
#include "store_scope.h"

void area_units_release(struct area_units *u)
{
	for (size_t i = 0; u->code && i < u->n; i++)
		free(u->code[i]);
	for (size_t i = 0; u->name && i < u->n; i++)
		free(u->name[i]);
	free(u->code);
	free(u->name);
	free(u->population);
	free(u->in_scope);
	free(u->streets);
	free(u->layer);
	memset(u, 0, sizeof(*u));
}

void area_extra_release(struct area_extra *x)
{
	free(x->month);
	free(x->category);
	free(x->unit);
	memset(x, 0, sizeof(*x));
}

/* Read the units of layer_id into u (dense numbering) and *dense (store unit id
 * -> dense index, *ndense entries). */
static int read_units(struct store *s, int64_t layer_id, struct area_units *u, uint32_t **dense,
		      size_t *ndense, struct mb_error *err)
{
	sqlite3_stmt *q = NULL;
	size_t cnt = 0;
	int r, rc;

	*dense = NULL;
	if ((r = store_max_id(s, "SELECT max(id) FROM unit", ndense, err)))
		return r;
	if ((r = store_prepare(s, &q, "SELECT count(*) FROM unit WHERE layer_id = ?", err)))
		return r;
	sqlite3_bind_int64(q, 1, layer_id);
	if (sqlite3_step(q) == SQLITE_ROW)
		cnt = (size_t)sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	q = NULL;
	u->n = cnt + 1;
	u->code = calloc(u->n, sizeof(char *));
	u->name = calloc(u->n, sizeof(char *));
	u->population = calloc(u->n, sizeof(double));
	u->in_scope = calloc(u->n, 1);
	u->streets = calloc(u->n, sizeof(double));
	*dense = calloc(*ndense, sizeof(uint32_t));
	if (!u->code || !u->name || !u->population || !u->in_scope || !u->streets || !*dense)
		return mb_err(err, MB_ENOMEM, "out of memory");
	u->population[0] = NAN;
	if ((r = store_prepare(s, &q, "SELECT id, code, name, population FROM unit WHERE layer_id = ?"
				      " ORDER BY id", err)))
		return r;
	sqlite3_bind_int64(q, 1, layer_id);
	size_t k = 1;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW && k < u->n) {
		size_t id = (size_t)sqlite3_column_int64(q, 0);

		u->code[k] = strdup((const char *)sqlite3_column_text(q, 1));
		u->name[k] = strdup((const char *)sqlite3_column_text(q, 2));
		if (!u->code[k] || !u->name[k]) {
			sqlite3_finalize(q);
			return mb_err(err, MB_ENOMEM, "out of memory");
		}
		if (sqlite3_column_type(q, 3) == SQLITE_NULL) {
			u->population[k] = NAN;
		} else {
			u->population[k] = sqlite3_column_double(q, 3);
			u->has_population = 1;
		}
		if (id < *ndense)
			(*dense)[id] = (uint32_t)k;
		k++;
	}
	sqlite3_finalize(q);
	return 0;
}

int store_event_unit_stmt(struct store *s, int64_t layer_id, sqlite3_stmt **st,
			  struct mb_error *err)
{
	sqlite3_stmt *q = NULL;
	int r, rc, held;

	*st = NULL;
	if ((r = store_prepare(s, &q, "SELECT EXISTS (SELECT 1 FROM event_unit)", err)))
		return r;
	rc = sqlite3_step(q);
	held = rc == SQLITE_ROW && sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW)
		return store_db_err(s, err, "reading the events' unit codes");
	if (!held)
		return 0;
	if ((r = store_prepare(s, st, "SELECT unit_id FROM event_unit WHERE event_id = ?1"
				      " AND layer_id = ?2", err)))
		return r;
	sqlite3_bind_int64(*st, 2, layer_id);
	return 0;
}

int store_event_unit_of(sqlite3_stmt *st, int64_t event_id, int64_t *unit)
{
	int rc;

	*unit = -1;
	sqlite3_bind_int64(st, 1, event_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*unit = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* What the scan of the events without coordinates needs (extra_event). */
struct extra_scan {
	const struct slice *sl;
	const uint32_t *dense;       /* store unit id -> dense index */
	size_t ndense;
	const uint32_t *loc_lsoa;    /* snap point -> LSOA id */
	const uint32_t *ulsoa;       /* LSOA id -> dense unit (the lookup's) */
	const struct scope *sc;      /* the area */
	const struct area_units *u;  /* in_scope */
	struct area_extra *extra;    /* filled */
	size_t mcap, ccap, ucap;     /* extra's capacities */
	sqlite3_stmt *unit_st;       /* block scan: an event's unit in event_unit (NULL: none held) */
	int db_failed;               /* block scan: a lookup failed */
};

/* File one event without coordinates: month, category id, snap point (0
 * none), the store unit it is coded to in the layer (< 0 none). 0, or -1
 * when out of memory. */
static int extra_event(struct extra_scan *x, int32_t month, size_t cat, size_t loc, int64_t uid)
{
	const struct slice *sl = x->sl;
	struct area_extra *extra = x->extra;
	uint32_t unit = 0;

	if (cat >= sl->ncat || !sl->cat_selected[cat])
		return 0;
	if (uid >= 0) {
		unit = (size_t)uid < x->ndense ? x->dense[uid] : 0;
	} else if (loc && loc < sl->nloc && x->loc_lsoa[loc] &&
		   (x->sc->kind != SCOPE_AUTHORITY || x->sc->lsoa_in[x->loc_lsoa[loc]])) {
		unit = x->ulsoa[x->loc_lsoa[loc]];
	}
	if (!unit || !x->u->in_scope[unit])
		return 0;
	if (GROW(extra->month, extra->n + 1, x->mcap) ||
	    GROW(extra->category, extra->n + 1, x->ccap) ||
	    GROW(extra->unit, extra->n + 1, x->ucap))
		return -1;
	extra->month[extra->n] = (int16_t)month; /* the slice's months and ids: 16 bits */
	extra->category[extra->n] = (uint16_t)cat;
	extra->unit[extra->n] = unit;
	extra->n++;
	return 0;
}

/* The events without coordinates (flags bit 0) of a column block
 * (store_blocks_scan), each with its unit in event_unit if any. */
static int extra_block(void *ctx, const struct store_evrows *rows)
{
	struct extra_scan *x = ctx;

	for (size_t i = 0; i < rows->n; i++) {
		int64_t uid = -1;

		if (!(rows->flags[i] & 1))
			continue;
		if (x->unit_st && store_event_unit_of(x->unit_st, rows->id[i], &uid)) {
			x->db_failed = 1;
			return -MB_EDB;
		}
		if (extra_event(x, rows->month[i], rows->category[i], rows->location[i], uid))
			return -MB_ENOMEM;
	}
	return 0;
}

/* The events without coordinates of months sl->month_from..month_to: from the
 * column blocks when the store has them (a scan of 6 M rows through SQL took
 * 0.8 s nationally, and grew with every loaded year: the event table has no
 * month index), else from the rows. */
static int scan_extra(struct store *s, int64_t layer_id, struct extra_scan *x,
		      struct mb_error *err)
{
	sqlite3_stmt *q = NULL;
	int r, rc, blocks = 0;

	if ((r = store_has_table(s, "event_block", &blocks, err)))
		return r;
	if (blocks) {
		if ((r = store_event_unit_stmt(s, layer_id, &x->unit_st, err)))
			return r;
		r = store_blocks_scan(s, x->sl->month_from, x->sl->month_to, !x->unit_st, extra_block,
				      x, err);
		sqlite3_finalize(x->unit_st);
		x->unit_st = NULL;
		if (r == -MB_ENOMEM)
			r = mb_err(err, MB_ENOMEM, "out of memory");
		else if (r == -MB_EDB && x->db_failed)
			r = store_db_err(s, err, "loading events without coordinates");
		return r;
	}
	if ((r = store_prepare(s, &q,
			       "SELECT e.month, e.category_id, coalesce(e.location_id, 0),"
			       " (SELECT eu.unit_id FROM event_unit eu WHERE eu.event_id = e.id"
			       " AND eu.layer_id = ?3) FROM event e"
			       " WHERE e.month BETWEEN ?1 AND ?2 AND (e.flags & 1) = 1",
			       err)))
		return r;
	sqlite3_bind_int(q, 1, x->sl->month_from);
	sqlite3_bind_int(q, 2, x->sl->month_to);
	sqlite3_bind_int64(q, 3, layer_id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t uid = sqlite3_column_type(q, 3) == SQLITE_NULL ? -1
									: sqlite3_column_int64(q, 3);

		if (extra_event(x, sqlite3_column_int(q, 0), (size_t)sqlite3_column_int64(q, 1),
				(size_t)sqlite3_column_int64(q, 2), uid)) {
			sqlite3_finalize(q);
			return mb_err(err, MB_ENOMEM, "out of memory");
		}
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return store_db_err(s, err, "loading events without coordinates");
	return 0;
}

/* What place_loc fills for store_slice_units, per snap point. */
struct place_locs {
	size_t nloc, nlsoa;
	const uint32_t *ulsoa; /* LSOA id -> dense unit by the lookup */
	uint32_t *uloc;        /* snap point -> dense unit: by boundaries, else filled here */
	uint32_t *loc_lsoa, *loc_street;
};

/* One snap point (a row of location, or of its dimension block): its LSOA,
 * its street, and its unit by the lookup where the boundaries left none. */
static int place_loc(void *ctx, const struct dimb_row *d)
{
	struct place_locs *p = ctx;
	size_t loc = (size_t)d->id, l = d->lsoa;

	if (d->id < 0 || loc >= p->nloc)
		return 0;
	p->loc_lsoa[loc] = l < p->nlsoa ? (uint32_t)l : 0;
	p->loc_street[loc] = d->street;
	if (!p->uloc[loc] && l && l < p->nlsoa)
		p->uloc[loc] = p->ulsoa[l];
	return 0;
}

int store_slice_units(struct store *s, const char *layer, const char *area,
		      const struct slice *sl, uint32_t **unit_of_event, struct area_units *u,
		      struct area_extra *extra, struct mb_error *err)
{
	sqlite3_stmt *q = NULL;
	int64_t layer_id = 0;
	char *method = NULL;
	uint32_t *dense = NULL, *uloc = NULL, *loc_lsoa = NULL, *loc_street = NULL, *ulsoa = NULL;
	uint32_t *ue = NULL;
	uint64_t *pairs = NULL;
	struct scope sc = { 0 };
	size_t ndense = 0, nlsoa = 0, npairs = 0;
	int r, rc, own, any = 0;

	*unit_of_event = NULL;
	memset(u, 0, sizeof(*u));
	memset(extra, 0, sizeof(*extra));
	/* one snapshot for the units, assignments and events read below */
	if ((r = store_read_begin(s, &own, err)))
		return r;
	if ((r = store_layer_find(s, layer, &layer_id, &method, NULL, err)))
		goto cleanup;
	if (!layer_id) {
		r = mb_err(err, MB_ENOTFOUND,
			   "layer '%s' is not loaded (load it with 'microbeat areas')", layer);
		goto cleanup;
	}
	u->boundaries = method && strncmp(method, "boundaries", 10) == 0;
	u->layer = strdup(layer);
	if (!u->layer) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	if ((r = read_units(s, layer_id, u, &dense, &ndense, err)) ||
	    (r = store_max_id(s, "SELECT max(id) FROM lsoa", &nlsoa, err)))
		goto cleanup;
	uloc = calloc(sl->nloc + 1, sizeof(uint32_t));
	loc_lsoa = calloc(sl->nloc + 1, sizeof(uint32_t));
	loc_street = calloc(sl->nloc + 1, sizeof(uint32_t));
	ulsoa = calloc(nlsoa + 1, sizeof(uint32_t));
	ue = calloc(sl->n + 1, sizeof(uint32_t));
	pairs = calloc(sl->nloc + 1, sizeof(uint64_t));
	if (!uloc || !loc_lsoa || !loc_street || !ulsoa || !ue || !pairs) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	/* boundaries first ... */
	if ((r = store_prepare(s, &q, "SELECT location_id, unit_id FROM location_unit"
				      " WHERE layer_id = ?1 AND unit_id IS NOT NULL", err)))
		goto cleanup;
	sqlite3_bind_int64(q, 1, layer_id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		size_t loc = (size_t)sqlite3_column_int64(q, 0);
		size_t id = (size_t)sqlite3_column_int64(q, 1);

		if (loc < sl->nloc && id < ndense)
			uloc[loc] = dense[id];
	}
	sqlite3_finalize(q);
	q = NULL;
	/* ... then the lookup (scope_lsoa_lookup's rule), its store ids made dense */
	if ((r = scope_lsoa_lookup(s, layer_id, nlsoa, ulsoa, &any, err)))
		goto cleanup;
	for (size_t l = 0; l < nlsoa; l++)
		ulsoa[l] = ulsoa[l] < ndense ? dense[ulsoa[l]] : 0;
	struct place_locs pl = { .nloc = sl->nloc, .nlsoa = nlsoa, .ulsoa = ulsoa, .uloc = uloc,
				 .loc_lsoa = loc_lsoa, .loc_street = loc_street };

	if ((r = store_dim_rows(s, DIMB_LOCATION, place_loc, &pl, err)))
		goto cleanup;
	/* the area: the selector of every analysis (store_scope.h), resolved as
	 * store_slice_load resolved it; units named by --area are the scope,
	 * else the units with a snap point or LSOA in the authority */
	if ((r = scope_resolve(s, area, layer, sl->nloc, loc_lsoa, nlsoa, &sc, err)))
		goto cleanup;
	for (size_t loc = 1; loc < sl->nloc; loc++) {
		uint32_t l = loc_lsoa[loc];

		if (!uloc[loc] || (sc.kind == SCOPE_AUTHORITY && !(l && sc.lsoa_in[l])) ||
		    (sc.kind == SCOPE_UNITS && !scope_unit_in(&sc, uloc[loc])))
			continue;
		u->in_scope[uloc[loc]] = 1;
		if (loc_street[loc])
			pairs[npairs++] = ((uint64_t)uloc[loc] << 32) | loc_street[loc];
	}
	for (size_t l = 1; l < nlsoa; l++)
		if (ulsoa[l] && (sc.kind == SCOPE_ALL || (sc.kind == SCOPE_AUTHORITY && sc.lsoa_in[l]) ||
				 (sc.kind == SCOPE_UNITS && scope_unit_in(&sc, ulsoa[l]))))
			u->in_scope[ulsoa[l]] = 1;
	qsort(pairs, npairs, sizeof(*pairs), mb_cmp_u64);
	for (size_t i = 0; i < npairs; i++)
		if (!i || pairs[i] != pairs[i - 1])
			u->streets[pairs[i] >> 32] += 1;
	for (size_t i = 0; sl->location && i < sl->n; i++) /* none without micro-beats */
		ue[i] = sl->location[i] < sl->nloc ? uloc[sl->location[i]] : 0;

	/* events without coordinates: LSOA-coded (lookup) or unit-coded (agency) */
	{
		struct extra_scan x = { .sl = sl, .dense = dense, .ndense = ndense,
					.loc_lsoa = loc_lsoa, .ulsoa = ulsoa, .sc = &sc, .u = u,
					.extra = extra };

		if ((r = scan_extra(s, layer_id, &x, err)))
			goto cleanup;
	}
	*unit_of_event = ue;
	ue = NULL;
	r = 0;
cleanup:
	sqlite3_finalize(q);
	free(method);
	free(dense);
	free(uloc);
	free(loc_lsoa);
	free(loc_street);
	free(ulsoa);
	free(ue);
	scope_release(&sc);
	free(pairs);
	store_read_end(s, own);
	if (r) {
		area_units_release(u);
		area_extra_release(extra);
	}
	return r;
}

int store_lsoa_names(struct store *s, const struct slice *sl, char ***names, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	char **v = calloc(sl->nstreet + 1, sizeof(char *));
	int r, rc;

	*names = NULL;
	if (!v)
		return mb_err(err, MB_ENOMEM, "out of memory");
	if ((r = store_prepare(s, &st,
			       "SELECT s.id, l.name FROM street s JOIN lsoa l ON l.id = s.lsoa_id", err))) {
		free(v);
		return r;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t id = (size_t)sqlite3_column_int64(st, 0);

		if (id < sl->nstreet && !v[id]) {
			v[id] = strdup((const char *)sqlite3_column_text(st, 1));
			if (!v[id]) {
				rc = SQLITE_NOMEM;
				break;
			}
		}
	}
	sqlite3_finalize(st);
	/* a place-kind micro-beat has the LSOA of its store street */
	for (size_t id = sl->nstreet_store; rc == SQLITE_DONE && id < sl->nstreet; id++) {
		size_t st_id = sl->streets[id].store_id;

		if (st_id < sl->nstreet && v[st_id] && !(v[id] = strdup(v[st_id])))
			rc = SQLITE_NOMEM;
	}
	if (rc != SQLITE_DONE) {
		store_lsoa_names_free(sl, v);
		return rc == SQLITE_NOMEM ? mb_err(err, MB_ENOMEM, "out of memory")
					  : store_db_err(s, err, "loading LSOA names");
	}
	*names = v;
	return 0;
}

void store_lsoa_names_free(const struct slice *sl, char **names)
{
	if (!names)
		return;
	for (size_t i = 0; i < sl->nstreet; i++)
		free(names[i]);
	free(names);
}

/* What fill_by_lsoa needs: the unit of each LSOA id, and the snap points'. */
struct by_lsoa {
	const uint32_t *lunit; /* LSOA id -> unit id (0: none) */
	size_t nlsoa;          /* entries of lunit */
	uint32_t *u;           /* snap point -> unit id, filled where 0 */
	size_t nloc;           /* entries of u */
};

/* One snap point (a row of location, or of its dimension block). */
static int fill_by_lsoa(void *ctx, const struct dimb_row *d)
{
	struct by_lsoa *b = ctx;
	size_t loc = (size_t)d->id;

	if (d->id > 0 && loc < b->nloc && !b->u[loc] && d->lsoa && d->lsoa < b->nlsoa)
		b->u[loc] = b->lunit[d->lsoa];
	return 0;
}

/* Fill u (nloc entries) where 0 with the unit the LSOA lookup of layer_id
 * gives each snap point's LSOA (store_location_units' rule). */
static int lookup_by_lsoa(struct store *s, int64_t layer_id, size_t nloc, uint32_t *u,
			  struct mb_error *err)
{
	size_t nlsoa = 0;
	uint32_t *lunit = NULL;
	int r, any = 0;

	if ((r = store_max_id(s, "SELECT max(id) FROM lsoa", &nlsoa, err)))
		return r;
	if (!(lunit = calloc(nlsoa, sizeof(*lunit))))
		return mb_err(err, MB_ENOMEM, "out of memory");
	if ((r = scope_lsoa_lookup(s, layer_id, nlsoa, lunit, &any, err)))
		goto cleanup;
	if (!any)
		goto cleanup; /* a layer of boundaries alone */
	struct by_lsoa b = { .lunit = lunit, .nlsoa = nlsoa, .u = u, .nloc = nloc };

	r = store_dim_rows(s, DIMB_LOCATION, fill_by_lsoa, &b, err);
cleanup:
	free(lunit);
	return r;
}

int store_location_units(struct store *s, const char *layer, const struct slice *sl,
			 uint32_t **unit_of_loc, char ***unit_code, size_t *nunit,
			 struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int64_t layer_id = 0;
	uint32_t *u = NULL;
	char **codes = NULL;
	size_t n = 1;
	int r, rc;

	*unit_of_loc = NULL;
	*unit_code = NULL;
	*nunit = 0;
	if ((r = store_prepare(s, &st, "SELECT id FROM layer WHERE name = ?", err)))
		return r;
	sqlite3_bind_text(st, 1, layer, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		layer_id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (!layer_id)
		return mb_err(err, MB_ENOTFOUND,
			      "layer '%s' is not loaded (load it with 'microbeat areas')", layer);
	if ((r = store_max_id(s, "SELECT max(id) FROM unit", &n, err)))
		return r;
	u = calloc(sl->nloc + 1, sizeof(*u));
	codes = calloc(n + 1, sizeof(*codes));
	if (!u || !codes) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto fail;
	}
	if ((r = store_prepare(s, &st, "SELECT id, code FROM unit WHERE layer_id = ?", err)))
		goto fail;
	sqlite3_bind_int64(st, 1, layer_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t id = (size_t)sqlite3_column_int64(st, 0);

		if (id < n && !(codes[id] = strdup((const char *)sqlite3_column_text(st, 1)))) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto fail;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	/* boundaries first; the LSOA lookup fills snap points they leave out */
	if ((r = store_prepare(s, &st, "SELECT location_id, unit_id FROM location_unit"
				       " WHERE layer_id = ?1 AND unit_id IS NOT NULL", err)))
		goto fail;
	sqlite3_bind_int64(st, 1, layer_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t loc = (size_t)sqlite3_column_int64(st, 0);

		if (loc < sl->nloc && !u[loc])
			u[loc] = (uint32_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE) {
		r = store_db_err(s, err, "loading unit assignments");
		goto fail;
	}
	/* the lookup's unit of each LSOA once (of largest weight, ties to the
	 * lower id), then of each snap point by its LSOA: a subquery a snap point
	 * took 0.45 s for a national store's 1.2 M */
	if ((r = lookup_by_lsoa(s, layer_id, sl->nloc, u, err)))
		goto fail;
	*unit_of_loc = u;
	*unit_code = codes;
	*nunit = n;
	return 0;
fail:
	sqlite3_finalize(st);
	store_units_free(u, codes, n);
	return r;
}

void store_units_free(uint32_t *unit_of_loc, char **unit_code, size_t nunit)
{
	for (size_t i = 0; unit_code && i < nunit; i++)
		free(unit_code[i]);
	free(unit_code);
	free(unit_of_loc);
}

/* The MSOA part of an LSOA name: without its final capital letter. */
static size_t msoa_len(const char *name)
{
	size_t n = strlen(name);

	if (n > 1 && name[n - 1] >= 'A' && name[n - 1] <= 'Z' && name[n - 2] >= '0' && name[n - 2] <= '9')
		n--;
	return n;
}

int store_lsoa_renumbered(struct store *s, const struct slice *sl, size_t *count, char *example,
			  size_t cap, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	uint8_t *used = NULL;
	size_t nlsoa = 0, lastid = 0;
	char first[256] = "";
	int r, rc, counted = 0;

	*count = 0;
	if (cap)
		example[0] = '\0';
	if ((r = store_max_id(s, "SELECT max(id) FROM lsoa", &nlsoa, err)))
		return r;
	used = calloc(nlsoa + 1, 1);
	if (!used)
		return mb_err(err, MB_ENOMEM, "out of memory");
	if ((r = store_prepare(s, &st, "SELECT id, coalesce(lsoa_id, 0) FROM street", err)))
		goto cleanup;
	while (sqlite3_step(st) == SQLITE_ROW) {
		size_t id = (size_t)sqlite3_column_int64(st, 0), l = (size_t)sqlite3_column_int64(st, 1);

		if (id < sl->nstreet && sl->street_in_area[id] && l < nlsoa)
			used[l] = 1;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((r = store_prepare(s, &st, "SELECT n.lsoa_id, n.name, l.code FROM lsoa_name n JOIN lsoa l"
				       " ON l.id = n.lsoa_id ORDER BY n.lsoa_id, n.name", err)))
		goto cleanup;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t l = (size_t)sqlite3_column_int64(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);

		if (l >= nlsoa || !used[l] || !name)
			continue;
		if (l != lastid) {
			lastid = l;
			counted = 0;
			snprintf(first, sizeof(first), "%s", name);
			continue;
		}
		if (counted || msoa_len(first) != msoa_len(name) ||
		    strncmp(first, name, msoa_len(name)) == 0)
			continue;
		counted = 1;
		if (!(*count)++ && cap)
			snprintf(example, cap, "%s: '%s', '%s'", (const char *)sqlite3_column_text(st, 2),
				 first, name);
	}
	if (rc != SQLITE_DONE)
		r = store_db_err(s, err, "reading LSOA names");
cleanup:
	sqlite3_finalize(st);
	free(used);
	return r;
}
