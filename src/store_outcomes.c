/* store_outcomes — the last outcome of each located event, and the events placed by
 * LSOA only (for 'deepdive'). */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "microbeat/outcomes.h"
#include "microbeat/util.h"
#include "store_internal.h"

int store_outcome_names(struct store *s, char ***names, size_t *nout, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r = 0, own = 0, rc;

	*names = NULL;
	*nout = 1;
	if ((r = store_read_begin(s, &own, err)))
		return r;
	if ((r = store_prepare(s, &st, "SELECT max(id) FROM outcome", err)))
		goto cleanup;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0)
		*nout = (size_t)sqlite3_column_int64(st, 0) + 1;
	sqlite3_finalize(st);
	st = NULL;
	if (!(*names = calloc(*nout, sizeof(char *)))) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	if ((r = store_prepare(s, &st, "SELECT id, name FROM outcome", err)))
		goto cleanup;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_int64 id = sqlite3_column_int64(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);

		if (id > 0 && (size_t)id < *nout && name && !((*names)[id] = strdup(name))) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
	}
	if (rc != SQLITE_DONE)
		r = store_db_err(s, err, "reading outcomes");
cleanup:
	sqlite3_finalize(st);
	store_read_end(s, own);
	if (r) {
		outcome_names_release(*names, *nout);
		*names = NULL;
	}
	return r;
}

void outcome_names_release(char **names, size_t nout)
{
	for (size_t i = 0; names && i < nout; i++)
		free(names[i]);
	free(names);
}

int store_outcomes_scan(struct store *s, int32_t from, int32_t to, size_t nout,
			int (*fn)(void *ctx, const struct outcome_row *row), void *ctx,
			struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int64_t lo, hi;
	int r = 0, own = 0, rc;

	if ((r = store_read_begin(s, &own, err)))
		return r;
	/* the months' rows lie within their column blocks' ids: a range of the
	 * table, not all of it (the event table has no month index) */
	if ((r = store_month_ids(s, from, to, &lo, &hi, err)))
		goto cleanup;
	if ((r = store_prepare(s, &st,
			       "SELECT e.month, e.category_id, e.location_id, e.source_id,"
			       " coalesce(co.outcome_id, e.outcome_id, 0), coalesce(co.month, -1)"
			       " FROM event e LEFT JOIN crime_outcome co ON co.crime_id = e.ext_id"
			       " WHERE e.id BETWEEN ?3 AND ?4 AND e.month BETWEEN ?1 AND ?2"
			       " AND e.location_id IS NOT NULL",
			       err)))
		goto cleanup;
	sqlite3_bind_int(st, 1, from);
	sqlite3_bind_int(st, 2, to);
	sqlite3_bind_int64(st, 3, lo);
	sqlite3_bind_int64(st, 4, hi);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_int64 out = sqlite3_column_int64(st, 4);
		struct outcome_row row = {
			.month = sqlite3_column_int(st, 0),
			.category = (uint32_t)sqlite3_column_int64(st, 1),
			.location = (uint32_t)sqlite3_column_int64(st, 2),
			.source = (uint32_t)sqlite3_column_int64(st, 3),
			.outcome = out > 0 && (size_t)out < nout ? (uint32_t)out : 0,
			.outcome_month = sqlite3_column_int(st, 5),
		};

		if ((r = fn(ctx, &row)))
			goto cleanup;
	}
	if (rc != SQLITE_DONE)
		r = store_db_err(s, err, "reading outcomes");
cleanup:
	sqlite3_finalize(st);
	store_read_end(s, own);
	return r;
}

/* Append one event placed by LSOA only to o. 0, or -1 when out of memory. */
static int lsoa_event_add(struct lsoa_events *o, size_t *cap, int32_t month, uint32_t source,
			  const char *code)
{
	if (o->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		int ok = 1;

		REGROW(o->month, ncap, ok);
		REGROW(o->source, ncap, ok);
		REGROW(o->lsoa, ncap, ok);
		if (!ok)
			return -1;
		*cap = ncap;
	}
	if (!(o->lsoa[o->n] = strdup(code ? code : "")))
		return -1;
	o->month[o->n] = month;
	o->source[o->n] = source;
	o->n++;
	return 0;
}

/* The block scan of store_lsoa_events: the LSOA code of each snap point
 * without coordinates (NULL for the others), and the events found. */
struct lsoa_scan {
	char **code;            /* snap point id -> LSOA code, or NULL */
	size_t ncode;           /* entries */
	struct lsoa_events *o;  /* filled */
	size_t cap;             /* o's capacity */
};

static int lsoa_block(void *ctx, const struct store_evrows *rows)
{
	struct lsoa_scan *x = ctx;

	for (size_t i = 0; i < rows->n; i++) {
		uint32_t l = rows->location[i];

		if (l && l < x->ncode && x->code[l] &&
		    lsoa_event_add(x->o, &x->cap, rows->month[i], rows->source[i], x->code[l]))
			return -MB_ENOMEM;
	}
	return 0;
}

/* store_lsoa_events from the column blocks: the snap points without
 * coordinates (few) read first, then each event of the months on one of them
 * (the row scan joined 6 M events of a national year to their snap points). */
static int lsoa_events_blocks(struct store *s, int32_t from, int32_t to, struct lsoa_events *o,
			      struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	struct lsoa_scan x = { .o = o };
	size_t nloc = 0;
	int r, rc;

	if ((r = store_max_id(s, "SELECT max(id) FROM location", &nloc, err)))
		return r;
	if (!(x.code = calloc(nloc + 1, sizeof(*x.code))))
		return mb_err(err, MB_ENOMEM, "out of memory");
	x.ncode = nloc + 1;
	if ((r = store_prepare(s, &st,
			       "SELECT l.id, o.code FROM location l JOIN lsoa o ON o.id = l.lsoa_id"
			       " WHERE l.lon IS NULL OR l.lat IS NULL",
			       err)))
		goto cleanup;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_int64 id = sqlite3_column_int64(st, 0);
		const char *code = (const char *)sqlite3_column_text(st, 1);

		if (id > 0 && (size_t)id < x.ncode && !(x.code[id] = strdup(code ? code : ""))) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
	}
	if (rc != SQLITE_DONE) {
		r = store_db_err(s, err, "reading snap points placed by LSOA");
		goto cleanup;
	}
	r = store_blocks_scan(s, from, to, 1, lsoa_block, &x, err);
	if (r == -MB_ENOMEM)
		r = mb_err(err, MB_ENOMEM, "out of memory");
cleanup:
	sqlite3_finalize(st);
	for (size_t l = 0; l < x.ncode; l++)
		free(x.code[l]);
	free(x.code);
	return r;
}

int store_lsoa_events(struct store *s, int32_t from, int32_t to, struct lsoa_events *o,
		      struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int r = 0, own = 0, rc, blocks = 0;

	memset(o, 0, sizeof(*o));
	if ((r = store_read_begin(s, &own, err)))
		return r;
	if ((r = store_has_table(s, "event_block", &blocks, err)))
		goto cleanup;
	if (blocks) {
		r = lsoa_events_blocks(s, from, to, o, err);
		goto cleanup;
	}
	if ((r = store_prepare(s, &st,
			       "SELECT e.month, e.source_id, o.code FROM event e JOIN location l ON"
			       " l.id = e.location_id JOIN lsoa o ON o.id = l.lsoa_id WHERE e.month"
			       " BETWEEN ?1 AND ?2 AND (l.lon IS NULL OR l.lat IS NULL)",
			       err)))
		goto cleanup;
	sqlite3_bind_int(st, 1, from);
	sqlite3_bind_int(st, 2, to);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (lsoa_event_add(o, &cap, sqlite3_column_int(st, 0),
				   (uint32_t)sqlite3_column_int64(st, 1),
				   (const char *)sqlite3_column_text(st, 2))) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
	}
	if (rc != SQLITE_DONE)
		r = store_db_err(s, err, "reading events placed by LSOA");
cleanup:
	sqlite3_finalize(st);
	store_read_end(s, own);
	if (r)
		lsoa_events_release(o);
	return r;
}

void lsoa_events_release(struct lsoa_events *o)
{
	for (size_t i = 0; o->lsoa && i < o->n; i++)
		free(o->lsoa[i]);
	free(o->lsoa);
	free(o->month);
	free(o->source);
	memset(o, 0, sizeof(*o));
}
