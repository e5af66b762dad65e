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
	int r = 0, own = 0, rc;

	if ((r = store_read_begin(s, &own, err)))
		return r;
	if ((r = store_prepare(s, &st,
			       "SELECT e.month, e.category_id, e.location_id, e.source_id,"
			       " coalesce(co.outcome_id, e.outcome_id, 0), coalesce(co.month, -1)"
			       " FROM event e LEFT JOIN crime_outcome co ON co.crime_id = e.ext_id"
			       " WHERE e.month BETWEEN ?1 AND ?2 AND e.location_id IS NOT NULL",
			       err)))
		goto cleanup;
	sqlite3_bind_int(st, 1, from);
	sqlite3_bind_int(st, 2, to);
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

int store_lsoa_events(struct store *s, int32_t from, int32_t to, struct lsoa_events *o,
		      struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	size_t mcap = 0, scap = 0, lcap = 0;
	int r = 0, own = 0, rc;

	memset(o, 0, sizeof(*o));
	if ((r = store_read_begin(s, &own, err)))
		return r;
	if ((r = store_prepare(s, &st,
			       "SELECT e.month, e.source_id, o.code FROM event e JOIN location l ON"
			       " l.id = e.location_id JOIN lsoa o ON o.id = l.lsoa_id WHERE e.month"
			       " BETWEEN ?1 AND ?2 AND (l.lon IS NULL OR l.lat IS NULL)",
			       err)))
		goto cleanup;
	sqlite3_bind_int(st, 1, from);
	sqlite3_bind_int(st, 2, to);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *code = (const char *)sqlite3_column_text(st, 2);

		if (GROW(o->month, o->n + 1, mcap) || GROW(o->source, o->n + 1, scap) ||
		    GROW(o->lsoa, o->n + 1, lcap)) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
		o->month[o->n] = sqlite3_column_int(st, 0);
		o->source[o->n] = (uint32_t)sqlite3_column_int64(st, 1);
		if (!(o->lsoa[o->n] = strdup(code ? code : ""))) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
		o->n++;
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
