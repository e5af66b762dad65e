/* store_import — imports: their records, the bulk writer's batches, the
 * partitions a release replaces, and duplicates of rows other imports hold. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "microbeat/store.h"
#include "microbeat/util.h"
#include "store_internal.h"

static void now_iso(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int store_import_by_sha(struct store *s, const uint8_t sha[32], int64_t *id,
			struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	*id = 0;
	/* only an import that still holds all it loaded counts (issue 21 item 1: a
	 * file whose partition a later release replaced was refused as
	 * "unchanged" and could not restore it): not replaced, and for events
	 * every row still counted in its months (a partition of an agency file
	 * can be replaced month by month) */
	if ((r = store_prepare(s, &st,
			       "SELECT id FROM import i WHERE sha256 = ? AND finished IS NOT NULL"
			       " AND replaced_by IS NULL AND (format NOT IN ('street', 'agency', 'extract')"
			       " OR (format <> 'extract' AND rows_loaded = (SELECT coalesce(sum(rows), 0)"
			       " FROM import_month m WHERE m.import_id = i.id))"
			       " OR (format = 'extract' AND rows_loaded = (SELECT count(*)"
			       " FROM event_extra x WHERE x.import_id = i.id))) ORDER BY id DESC LIMIT 1",
			       err)))
		return r;
	sqlite3_bind_blob(st, 1, sha, 32, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

int store_import_seen(struct store *s, const char *name, int64_t bytes, int *yes,
		      struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	*yes = 0;
	if ((r = store_prepare(s, &st, "SELECT 1 FROM import WHERE name = ? AND bytes = ? LIMIT 1",
			       err)))
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, bytes);
	*yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return 0;
}

int store_import_create(struct store *s, const char *path, const char *format,
			const char *source, int64_t *id, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	char now[32];
	const char *base = strrchr(path, '/');
	int r;

	now_iso(now);
	if ((r = store_prepare(s, &st,
			       "INSERT INTO import(path, name, format, source, started)"
			       " VALUES(?, ?, ?, ?, ?)",
			       err)))
		return r;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, base ? base + 1 : path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, format, -1, SQLITE_STATIC);
	if (source)
		sqlite3_bind_text(st, 4, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = store_db_err(s, err, "recording the import");
		sqlite3_finalize(st);
		return r;
	}
	sqlite3_finalize(st);
	*id = sqlite3_last_insert_rowid(s->db);
	s->first_event = 0;
	s->last_event = 0;
	store_blocks_forget(s); /* whatever an import rolled back left gathered */
	return 0;
}

/* Bind text (NULL for a NULL pointer) to parameter i. */
static void bind_text_or_null(sqlite3_stmt *st, int i, const char *p)
{
	if (p)
		sqlite3_bind_text(st, i, p, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Write a batch's force-extract rows, with their new subgroups and strands. */
static int write_extras(struct store *s, int64_t import_id, const struct batch *b,
			struct mb_error *err)
{
	sqlite3_stmt *st = store_ins(s, INS_EXTRA, err), *sg = store_ins(s, INS_SUBGROUP, err),
		     *hs = store_ins(s, INS_STRAND, err);
	int r;

	if (!st || !sg || !hs)
		return -MB_EDB;
	for (size_t i = 0; i < b->extras.n; i++) {
		const struct rec_extra *x = &b->extras.v[i];

		if (x->subgroup) {
			sqlite3_bind_text(sg, 1, x->subgroup, -1, SQLITE_STATIC);
			if ((r = store_step_reset(s, sg, err)))
				return r;
		}
		if (x->strand) {
			sqlite3_bind_text(hs, 1, x->strand, -1, SQLITE_STATIC);
			if ((r = store_step_reset(s, hs, err)))
				return r;
		}
		sqlite3_clear_bindings(st);
		sqlite3_bind_blob(st, 1, x->crime_id, 32, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, x->month);
		sqlite3_bind_int64(st, 3, import_id);
		sqlite3_bind_int64(st, 4, x->line);
		if (x->day >= 0)
			sqlite3_bind_int(st, 5, x->day);
		if (x->minute >= 0)
			sqlite3_bind_int(st, 6, x->minute);
		bind_text_or_null(st, 7, x->ho_code);
		bind_text_or_null(st, 8, x->subgroup);
		if (x->da >= 0)
			sqlite3_bind_int(st, 9, x->da);
		if (x->hate >= 0)
			sqlite3_bind_int(st, 10, x->hate);
		bind_text_or_null(st, 11, x->strand);
		bind_text_or_null(st, 12, x->street);
		bind_text_or_null(st, 13, x->parish);
		if ((r = store_step_reset(s, st, err)))
			return r;
	}
	return 0;
}

int store_batch_write(struct store *s, int64_t import_id, const struct batch *b,
		      struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	for (size_t i = 0; i < b->dims.n; i++)
		if ((r = store_dim_write(s, &b->dims.v[i], err)))
			return r;
	if (b->events.n) {
		if (!(st = store_ins(s, INS_EVENTS, err)))
			return -MB_EDB;
		if ((r = store_feed_run(s, st, FEED_EVENT, b->events.v, b->events.n, import_id, err)))
			return r;
		/* the rows of one INSERT get consecutive rowids (max + 1 each): an
		 * import's events are the range first_event..last_event */
		int64_t last = sqlite3_last_insert_rowid(s->db);
		int64_t first = last - (int64_t)b->events.n + 1;

		if (!s->first_event)
			s->first_event = first;
		s->last_event = last;
		store_blocks_gather(s, import_id, first, b->events.v, b->events.n);
		for (size_t j = 0; j < b->events.n; j++) {
			const struct rec_event *e = &b->events.v[j];

			if (e->has_when) {
				sqlite3_stmt *ew = store_ins(s, INS_WHEN, err);

				if (!ew)
					return -MB_EDB;
				sqlite3_bind_int64(ew, 1, first + (int64_t)j);
				sqlite3_bind_int(ew, 2, e->day);
				if (e->minute >= 0)
					sqlite3_bind_int(ew, 3, e->minute);
				else
					sqlite3_bind_null(ew, 3);
				if ((r = store_step_reset(s, ew, err)))
					return r;
			}
			if (!e->unit)
				continue;
			sqlite3_stmt *eu = store_ins(s, INS_EVENT_UNIT, err);

			if (!eu)
				return -MB_EDB;
			sqlite3_bind_int64(eu, 1, first + (int64_t)j);
			sqlite3_bind_int64(eu, 2, e->layer);
			sqlite3_bind_int64(eu, 3, e->unit);
			if ((r = store_step_reset(s, eu, err)))
				return r;
		}
	}
	if (b->rejects.n && !(st = store_ins(s, INS_REJECT, err)))
		return -MB_EDB;
	for (size_t i = 0; i < b->rejects.n; i++) {
		const struct rec_reject *j = &b->rejects.v[i];

		sqlite3_bind_int64(st, 1, import_id);
		sqlite3_bind_int64(st, 2, j->line);
		sqlite3_bind_int64(st, 3, j->col);
		sqlite3_bind_int(st, 4, j->duplicate);
		sqlite3_bind_text(st, 5, j->reason, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 6, j->raw, (int)j->raw_len, SQLITE_STATIC);
		if ((r = store_step_reset(s, st, err)))
			return r;
	}
	if (b->outcomes.n) {
		if (!(st = store_ins(s, INS_OUTCOME_ROWS, err)))
			return -MB_EDB;
		if ((r = store_feed_run(s, st, FEED_OUTCOME, b->outcomes.v, b->outcomes.n, import_id,
					err)))
			return r;
	}
	if (b->extras.n && (r = write_extras(s, import_id, b, err)))
		return r;
	if (b->stops.n && !(st = store_ins(s, INS_STOP, err)))
		return -MB_EDB;
	for (size_t i = 0; i < b->stops.n; i++) {
		const struct rec_stop *p = &b->stops.v[i];
		/* columns after (import, line, month): type..operation_name, lat, lon, rest */
		static const int fmap[STOP_NFIELDS] = { 4, 5, 6, 7, 0, 0, 10, 11, 12, 13, 14, 15, 16,
							17, 18 };

		sqlite3_clear_bindings(st);
		sqlite3_bind_int64(st, 1, import_id);
		sqlite3_bind_int64(st, 2, p->line);
		sqlite3_bind_int(st, 3, p->month);
		for (int f = 0; f < STOP_NFIELDS; f++)
			if (fmap[f] && p->f[f] && p->f[f][0])
				sqlite3_bind_text(st, fmap[f], p->f[f], -1, SQLITE_STATIC);
		if (p->has_coord) {
			sqlite3_bind_double(st, 8, p->lat);
			sqlite3_bind_double(st, 9, p->lon);
		}
		if ((r = store_step_reset(s, st, err)))
			return r;
	}
	return 0;
}

int store_import_finish(struct store *s, int64_t import_id, const struct import_stats *stt,
			const uint8_t sha[32], const char *format, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	char now[32];
	int r;

	now_iso(now);
	if ((r = store_prepare(s, &st,
			       "UPDATE import SET finished = ?, rows_read = ?, rows_loaded = ?,"
			       " rows_duplicate = ?, rows_rejected = ?, blank_lines = ?, bytes = ?,"
			       " sha256 = ?, first_event = nullif(?, 0), last_event = nullif(?, 0),"
			       " format = ? WHERE id = ?",
			       err)))
		return r;
	sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, stt->rows_read);
	sqlite3_bind_int64(st, 3, stt->rows_loaded);
	sqlite3_bind_int64(st, 4, stt->rows_duplicate);
	sqlite3_bind_int64(st, 5, stt->rows_rejected);
	sqlite3_bind_int64(st, 6, stt->blank_lines);
	sqlite3_bind_int64(st, 7, stt->bytes);
	sqlite3_bind_blob(st, 8, sha, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, s->first_event);
	sqlite3_bind_int64(st, 10, s->last_event);
	sqlite3_bind_text(st, 11, format, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 12, import_id);
	r = sqlite3_step(st) == SQLITE_DONE ? 0 : store_db_err(s, err, "recording the import");
	sqlite3_finalize(st);
	/* the column blocks of its events, now final (duplicates moved out), and
	 * a dimension block of the streets and snap points it added */
	if (!r)
		r = store_blocks_build(s, import_id, err);
	return r ? r : store_dimblocks_extend(s, err);
}

int store_import_month_add(struct store *s, int64_t import_id, uint32_t source, int32_t month,
			   int64_t rows, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = store_prepare(s, &st,
			       "INSERT INTO import_month(import_id, source_id, month, rows)"
			       " VALUES(?, ?, ?, ?) ON CONFLICT DO UPDATE SET rows = rows + excluded.rows",
			       err)))
		return r;
	sqlite3_bind_int64(st, 1, import_id);
	sqlite3_bind_int64(st, 2, source);
	sqlite3_bind_int(st, 3, month);
	sqlite3_bind_int64(st, 4, rows);
	r = sqlite3_step(st) == SQLITE_DONE ? 0 : store_db_err(s, err, "recording coverage");
	sqlite3_finalize(st);
	return r;
}

/* Run sql with ?1..?n bound to v[0..n) and return the first column of its
 * first row in *out (0 when there is none). */
static int scalarv(struct store *s, const char *sql, const int64_t *v, int n, int64_t *out,
		   struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	*out = 0;
	if ((r = store_prepare(s, &st, sql, err)))
		return r;
	for (int i = 0; i < n; i++)
		sqlite3_bind_int64(st, i + 1, v[i]);
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_err(s, err, "comparing releases");
	return 0;
}

/* Compare the events of one source and month of import old_id with the
 * current import's (new_id, written in s->first_event..s->last_event) by id
 * (Crime ID, or an agency's id) and add the counts to d. */
static int diff_events(struct store *s, int64_t old_id, int64_t new_id, uint32_t source,
		       int32_t month, struct partition_diff *d, struct mb_error *err)
{
	int r;
	/* ?1 = old import, ?2 = source, ?3 = month; ?4..?6 = this import's range and id */
	const int64_t v[6] = { old_id, source, month, s->first_event, s->last_event, new_id };
#define OLD_ROWS " FROM event WHERE id BETWEEN (SELECT first_event FROM import WHERE id = ?1) AND" \
		 " (SELECT last_event FROM import WHERE id = ?1) AND import_id = ?1 AND source_id = ?2" \
		 " AND month = ?3"
#define NEW_ROWS " WHERE e.id BETWEEN ?4 AND ?5 AND e.import_id = ?6 AND e.source_id = ?2 AND" \
		 " e.month = ?3"
	int64_t with_id = 0, matched = 0, unchanged = 0, added = 0, noid_after = 0, noid_before = 0;

	if ((r = store_exec(s,
			    "CREATE TEMP TABLE IF NOT EXISTS diff_old(ext_id BLOB PRIMARY KEY,"
			    " c INTEGER, o INTEGER, l INTEGER) WITHOUT ROWID; DELETE FROM temp.diff_old;",
			    err)))
		return r;
	if ((r = scalarv(s,
			 "INSERT OR IGNORE INTO temp.diff_old SELECT ext_id, category_id, outcome_id,"
			 " location_id" OLD_ROWS " AND ext_id IS NOT NULL AND ?4 = ?4 AND ?5 = ?5"
			 " AND ?6 = ?6",
			 v, 6, &(int64_t){ 0 }, err)) ||
	    (r = scalarv(s, "SELECT count(*) FROM temp.diff_old", v, 0, &with_id, err)) ||
	    (r = scalarv(s,
			 "SELECT count(*) FROM event e JOIN temp.diff_old o ON o.ext_id = e.ext_id"
			 NEW_ROWS " AND o.c = e.category_id AND o.o IS e.outcome_id"
			 " AND o.l IS e.location_id AND ?1 = ?1",
			 v, 6, &unchanged, err)) ||
	    (r = scalarv(s,
			 "SELECT count(*) FROM event e JOIN temp.diff_old o ON o.ext_id = e.ext_id"
			 NEW_ROWS " AND ?1 = ?1",
			 v, 6, &matched, err)) ||
	    (r = scalarv(s, "SELECT count(*) FROM event e" NEW_ROWS " AND e.ext_id IS NOT NULL"
			 " AND ?1 = ?1", v, 6, &added, err)) ||
	    (r = scalarv(s, "SELECT count(*) FROM event e" NEW_ROWS " AND e.ext_id IS NULL"
			 " AND ?1 = ?1", v, 6, &noid_after, err)) ||
	    (r = scalarv(s, "SELECT count(*)" OLD_ROWS " AND ext_id IS NULL", v, 3, &noid_before,
			 err)))
		return r;
#undef OLD_ROWS
#undef NEW_ROWS
	d->unchanged += unchanged;
	d->changed += matched - unchanged;
	d->added += added - matched;
	d->removed += with_id - matched;
	d->noid_before += noid_before;
	d->noid_after += noid_after;
	d->old_rows += with_id + noid_before;
	d->lost += with_id - matched + (noid_before > noid_after ? noid_before - noid_after : 0);
	return store_exec(s, "DELETE FROM temp.diff_old", err);
}

/* Compare an extract's rows of one month in import old_id with import
 * new_id's by Crime ID (extract fields as a whole) and add the counts to d. */
static int diff_extras(struct store *s, int64_t old_id, int64_t new_id, int32_t month,
		       struct partition_diff *d, struct mb_error *err)
{
	const int64_t v[3] = { old_id, new_id, month };
	int64_t old_n = 0, new_n = 0, matched = 0, unchanged = 0;
	int r;

	if ((r = scalarv(s, "SELECT count(*) FROM event_extra WHERE import_id = ?1 AND month = ?3"
			 " AND ?2 = ?2", v, 3, &old_n, err)) ||
	    (r = scalarv(s, "SELECT count(*) FROM event_extra WHERE import_id = ?2 AND month = ?3"
			 " AND ?1 = ?1", v, 3, &new_n, err)) ||
	    (r = scalarv(s, "SELECT count(*) FROM event_extra o JOIN event_extra n"
			 " ON n.crime_id = o.crime_id AND n.month = o.month AND n.import_id = ?2"
			 " WHERE o.import_id = ?1 AND o.month = ?3", v, 3, &matched, err)) ||
	    (r = scalarv(s, "SELECT count(*) FROM event_extra o JOIN event_extra n"
			 " ON n.crime_id = o.crime_id AND n.month = o.month AND n.import_id = ?2"
			 " WHERE o.import_id = ?1 AND o.month = ?3 AND n.day IS o.day"
			 " AND n.minute IS o.minute AND n.ho_code IS o.ho_code"
			 " AND n.subgroup_id IS o.subgroup_id AND n.da IS o.da AND n.hate IS o.hate"
			 " AND n.hate_id IS o.hate_id AND n.street IS o.street AND n.parish IS o.parish",
			 v, 3, &unchanged, err)))
		return r;
	d->unchanged += unchanged;
	d->changed += matched - unchanged;
	d->added += new_n - matched;
	d->removed += old_n - matched;
	d->old_rows += old_n;
	d->lost += old_n - matched;
	return 0;
}

int store_extract_attached(struct store *s, int64_t import_id, int64_t *attached,
			   struct mb_error *err)
{
	/* the police.uk crimes of the months the extract covers (each import's
	 * events are a range of ids; no index on Crime ID is needed) */
	const int64_t v[1] = { import_id };

	/* driven from the events (a look-up in event_extra's key each): driven
	 * from the extract rows it scanned a month's events a row (minutes) */
	return scalarv(s,
		       "SELECT count(*) FROM import i CROSS JOIN event e ON e.id BETWEEN i.first_event"
		       " AND i.last_event AND e.import_id = i.id WHERE i.format = 'street'"
		       " AND i.replaced_by IS NULL AND i.id IN (SELECT import_id FROM import_month"
		       " WHERE month IN (SELECT DISTINCT month FROM event_extra WHERE import_id = ?1))"
		       " AND EXISTS (SELECT 1 FROM event_extra x WHERE x.crime_id = e.ext_id"
		       " AND x.month = e.month AND x.import_id = ?1)",
		       v, 1, attached, err);
}

/* What a partition of kind holds, in words (for messages). */
static const char *part_words(enum part_kind kind)
{
	switch (kind) {
	case PART_STREET: return "street crimes";
	case PART_OUTCOMES: return "outcome rows";
	case PART_STOP: return "stop-and-search rows";
	case PART_EXTRACT: return "force-extract rows";
	default: return "events";
	}
}

/* Delete what import old holds of partition (kind, source, month): the
 * whole import, or for an agency partition its events of that month only. */
static int partition_drop(struct store *s, enum part_kind kind, uint32_t source, int32_t month,
			  int64_t old, int64_t import_id, struct mb_error *err)
{
	const int64_t v[3] = { old, source, month };
	int64_t left = 0;
	int r;

	if (kind == PART_EXTRACT) {
		/* an extract's month: its rows of that month, nothing else */
		if ((r = scalarv(s, "DELETE FROM event_extra WHERE import_id = ?1 AND month = ?3", v, 3,
				 &left, err)) ||
		    (r = scalarv(s, "SELECT count(*) FROM event_extra WHERE import_id = ?1", v, 1,
				 &left, err)))
			return r;
		if (!left)
			r = scalarv(s, "UPDATE import SET replaced_by = ?2 WHERE id = ?1",
				    (const int64_t[]){ old, import_id }, 2, &left, err);
		return r;
	}
	if (kind != PART_AGENCY) {
		if ((r = scalarv(s,
				 "DELETE FROM event WHERE id BETWEEN"
				 " (SELECT first_event FROM import WHERE id = ?1) AND"
				 " (SELECT last_event FROM import WHERE id = ?1) AND import_id = ?1",
				 v, 1, &left, err)) ||
		    (r = scalarv(s, "DELETE FROM outcome_row WHERE import_id = ?1", v, 1, &left, err)) ||
		    (r = scalarv(s, "DELETE FROM stop_search WHERE import_id = ?1", v, 1, &left, err)) ||
		    (r = scalarv(s, "DELETE FROM import_month WHERE import_id = ?1", v, 1, &left, err)) ||
		    (r = store_blocks_build(s, old, err)))
			return r;
		return scalarv(s, "UPDATE import SET replaced_by = ?2 WHERE id = ?1",
			       (const int64_t[]){ old, import_id }, 2, &left, err);
	}
#define MONTH_ROWS " FROM event WHERE id BETWEEN (SELECT first_event FROM import WHERE id = ?1)" \
		   " AND (SELECT last_event FROM import WHERE id = ?1) AND import_id = ?1" \
		   " AND source_id = ?2 AND month = ?3"
	if ((r = scalarv(s, "DELETE FROM event_unit WHERE event_id IN (SELECT id" MONTH_ROWS ")", v,
			 3, &left, err)) ||
	    (r = scalarv(s, "DELETE FROM event_when WHERE event_id IN (SELECT id" MONTH_ROWS ")", v,
			 3, &left, err)) ||
	    (r = scalarv(s, "DELETE" MONTH_ROWS, v, 3, &left, err)) ||
	    (r = scalarv(s,
			 "DELETE FROM import_month WHERE import_id = ?1 AND source_id = ?2"
			 " AND month = ?3",
			 v, 3, &left, err)) ||
	    (r = scalarv(s, "SELECT count(*) FROM import_month WHERE import_id = ?1", v, 1, &left,
			 err)) ||
	    (r = store_blocks_build(s, old, err)))
		return r;
#undef MONTH_ROWS
	/* an import none of whose months is left is replaced as a whole */
	if (!left)
		r = scalarv(s, "UPDATE import SET replaced_by = ?2 WHERE id = ?1",
			    (const int64_t[]){ old, import_id }, 2, &left, err);
	return r;
}

int store_partition_holder(struct store *s, enum part_kind kind, const char *key, int32_t month,
			   int64_t *holder, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	*holder = 0;
	if ((r = store_prepare(s, &st,
			       "SELECT import_id FROM partition WHERE kind = ? AND key = ? AND month = ?",
			       err)))
		return r;
	sqlite3_bind_int(st, 1, kind);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, month);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*holder = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_err(s, err, "reading partitions");
	return 0;
}

int store_partition_claim(struct store *s, enum part_kind kind, const char *key, int32_t month,
			  uint32_t source, int64_t import_id, double max_removed,
			  struct partition_diff *diff, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int64_t old = 0;
	int r;

	if ((r = store_partition_holder(s, kind, key, month, &old, err)))
		return r;
	if (old && old != import_id) {
		struct partition_diff one = { .replaced_import = old };

		if (kind == PART_STREET || kind == PART_AGENCY) {
			if ((r = diff_events(s, old, import_id, source, month, &one, err)))
				return r;
		} else if (kind == PART_EXTRACT) {
			if ((r = diff_extras(s, old, import_id, month, &one, err)))
				return r;
		} else {
			const char *sql = kind == PART_OUTCOMES
						  ? "SELECT count(*) FROM outcome_row WHERE import_id = ?1"
						  : "SELECT count(*) FROM stop_search WHERE import_id = ?1";
			int64_t now = 0;

			if ((r = scalarv(s, sql, &old, 1, &one.old_rows, err)) ||
			    (r = scalarv(s, sql, &import_id, 1, &now, err)))
				return r;
			one.lost = one.old_rows > now ? one.old_rows - now : 0;
		}
		/* a release that drops a large share of what the store holds is a
		 * partial or cut file more often than a real revision (issue 21 item 1) */
		if (max_removed < 1 && one.lost > 0 && (double)one.lost > max_removed * (double)one.old_rows)
			return mb_err(err, MB_EDATA,
				      "this release would remove %lld of the %lld %s (%.1f%%) that import"
				      " #%lld holds for %04d-%02d, more than --max-removed %g%%: not"
				      " applied, the store is unchanged (a partial or cut file? --replace"
				      " applies it)",
				      (long long)one.lost, (long long)one.old_rows, part_words(kind),
				      100.0 * (double)one.lost / (double)one.old_rows, (long long)old,
				      2000 + month / 12, month % 12 + 1, 100.0 * max_removed);
		if ((r = partition_drop(s, kind, source, month, old, import_id, err)))
			return r;
		if (!diff->replaced_import)
			diff->replaced_import = old;
		diff->months++;
		diff->added += one.added;
		diff->removed += one.removed;
		diff->changed += one.changed;
		diff->unchanged += one.unchanged;
		diff->noid_before += one.noid_before;
		diff->noid_after += one.noid_after;
		diff->old_rows += one.old_rows;
		diff->lost += one.lost;
	}
	if ((r = store_prepare(s, &st,
			       "INSERT INTO partition(kind, key, month, import_id) VALUES(?, ?, ?, ?)"
			       " ON CONFLICT DO UPDATE SET import_id = excluded.import_id",
			       err)))
		return r;
	sqlite3_bind_int(st, 1, kind);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, month);
	sqlite3_bind_int64(st, 4, import_id);
	r = sqlite3_step(st) == SQLITE_DONE ? 0 : store_db_err(s, err, "recording the partition");
	sqlite3_finalize(st);
	return r;
}

/* Append field p (n bytes) to the CSV row in *buf (length *len, capacity
 * *cap), comma first unless it is the row's first, quoted when it must be. */
static int csv_put(char **buf, size_t *len, size_t *cap, const char *p, size_t n, int first)
{
	if (GROW(*buf, *len + 2 * n + 4, *cap))
		return -1;
	char *o = *buf + *len;

	if (!first)
		*o++ = ',';
	int q = 0;

	for (size_t i = 0; i < n && !q; i++)
		q = p[i] == ',' || p[i] == '"' || p[i] == '\n' || p[i] == '\r';
	if (q)
		*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '"')
			*o++ = '"';
		*o++ = p[i];
	}
	if (q)
		*o++ = '"';
	*len = (size_t)(o - *buf);
	return 0;
}

/* The text of column i of st's row (NULL as ""), its length in *n. */
static const char *col_text(sqlite3_stmt *st, int i, size_t *n)
{
	const char *p = (const char *)sqlite3_column_text(st, i);

	*n = p ? (size_t)sqlite3_column_bytes(st, i) : 0;
	return p ? p : "";
}

/* Keep each street row of st (see store_duplicates_held: the row's import and
 * line, the holder's, then its values; column 15 the number of identical rows
 * held when it has no Crime ID, else 0) as a duplicate in reject, its raw text
 * the row rebuilt from the values loaded. */
static int held_rejects(struct store *s, sqlite3_stmt *st, struct mb_error *err)
{
	sqlite3_stmt *ins = NULL;
	char *raw = NULL, reason[256], num[80];
	size_t cap = 0;
	int r, rc;

	if ((r = store_prepare(s, &ins,
			       "INSERT INTO reject(import_id, line, col, duplicate, reason, raw)"
			       " VALUES(?, ?, 1, 1, ?, ?)",
			       err)))
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t len = 0, n;
		const unsigned char *id = sqlite3_column_blob(st, 4);
		int idn = sqlite3_column_bytes(st, 4), m = sqlite3_column_int(st, 5), bad = 0;

		for (int i = 0; i < idn && i < 32; i++)
			snprintf(num + 2 * i, 3, "%02x", id[i]);
		bad |= csv_put(&raw, &len, &cap, num, idn > 0 ? 2 * (size_t)(idn < 32 ? idn : 32) : 0, 1);
		n = (size_t)snprintf(num, sizeof(num), "%04d-%02d", 2000 + m / 12, m % 12 + 1);
		bad |= csv_put(&raw, &len, &cap, num, n, 0);
		for (int c = 6; c <= 14; c++) {
			const char *p;

			if ((c == 8 || c == 9) && sqlite3_column_type(st, c) != SQLITE_NULL) {
				n = (size_t)snprintf(num, sizeof(num), "%.6f", sqlite3_column_double(st, c));
				p = num;
			} else {
				p = col_text(st, c, &n);
			}
			bad |= csv_put(&raw, &len, &cap, p, n, 0);
		}
		bad |= csv_put(&raw, &len, &cap, "", 0, 0); /* Context: not stored */
		if (bad) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			break;
		}
		if (sqlite3_column_int64(st, 15))
			snprintf(reason, sizeof(reason),
				 "duplicate row without Crime ID (%lld rows of this type, place and"
				 " outcome already held for this month and force, the first by import"
				 " #%lld, line %lld)",
				 (long long)sqlite3_column_int64(st, 15),
				 (long long)sqlite3_column_int64(st, 2), (long long)sqlite3_column_int64(st, 3));
		else
			snprintf(reason, sizeof(reason),
				 "duplicate Crime ID (held for this month and force by import #%lld, line"
				 " %lld)",
				 (long long)sqlite3_column_int64(st, 2), (long long)sqlite3_column_int64(st, 3));
		sqlite3_bind_int64(ins, 1, sqlite3_column_int64(st, 0));
		sqlite3_bind_int64(ins, 2, sqlite3_column_int64(st, 1));
		sqlite3_bind_text(ins, 3, reason, -1, SQLITE_STATIC);
		sqlite3_bind_blob(ins, 4, raw, (int)len, SQLITE_STATIC);
		if ((r = store_step_reset(s, ins, err)))
			break;
	}
	if (!r && rc != SQLITE_DONE)
		r = store_db_err(s, err, "reading held Crime IDs");
	sqlite3_finalize(ins);
	free(raw);
	return r;
}

int store_duplicates_held(struct store *s, int64_t import_id, uint32_t source, int32_t month,
			  int64_t except, int64_t *moved, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	const int64_t v[6] = { source, month, import_id, except, s->first_event, s->last_event };
	int64_t others = 0;
	int r;

	*moved = 0;
	/* the common case, a month no other import holds: one indexed look-up */
	if ((r = scalarv(s,
			 "SELECT count(*) FROM import_month WHERE source_id = ?1 AND month = ?2"
			 " AND import_id NOT IN (?3, ?4)",
			 v, 4, &others, err)) ||
	    !others || !s->first_event)
		return r;
	/* what the other imports hold for (source, month) (each import's events
	 * are a range of ids): Crime IDs, and rows without one (ASB) counted by
	 * type, snap point, outcome and "Falls within", with the first of each
	 * (SQLite takes the bare columns from the row of min()) */
#define HELD " FROM import_month m JOIN import i ON i.id = m.import_id JOIN event e" \
	     " ON e.id BETWEEN i.first_event AND i.last_event AND e.import_id = i.id" \
	     " WHERE m.source_id = ?1 AND m.month = ?2 AND m.import_id NOT IN (?3, ?4)" \
	     " AND e.source_id = ?1 AND e.month = ?2"
#define MINE " FROM event e WHERE e.id BETWEEN ?5 AND ?6 AND e.import_id = ?3" \
	     " AND e.source_id = ?1 AND e.month = ?2 AND ?4 = ?4"
	if ((r = store_exec(s,
			    "CREATE TEMP TABLE IF NOT EXISTS mb_held(ext_id PRIMARY KEY, import_id"
			    " INTEGER, line INTEGER) WITHOUT ROWID;"
			    "CREATE TEMP TABLE IF NOT EXISTS mb_held_noid(c, l, o, fw, n, import_id, line, mid);"
			    "CREATE TEMP TABLE IF NOT EXISTS mb_dup(id INTEGER PRIMARY KEY, holder,"
			    " hline, noid);"
			    "DELETE FROM temp.mb_held; DELETE FROM temp.mb_held_noid;"
			    "DELETE FROM temp.mb_dup;",
			    err)) ||
	    (r = scalarv(s,
			 "INSERT OR IGNORE INTO temp.mb_held SELECT e.ext_id, e.import_id, e.line" HELD
			 " AND e.ext_id IS NOT NULL",
			 v, 4, &others, err)) ||
	    (r = scalarv(s,
			 "INSERT INTO temp.mb_held_noid SELECT e.category_id, e.location_id,"
			 " e.outcome_id, e.falls_id, count(*), e.import_id, e.line, min(e.id)" HELD
			 " AND e.ext_id IS NULL GROUP BY 1, 2, 3, 4",
			 v, 4, &others, err)) ||
	    (r = scalarv(s,
			 "INSERT INTO temp.mb_dup SELECT e.id, h.import_id, h.line, 0"
			 " FROM event e JOIN temp.mb_held h ON h.ext_id = e.ext_id"
			 " WHERE e.id BETWEEN ?5 AND ?6 AND e.import_id = ?3 AND e.source_id = ?1"
			 " AND e.month = ?2 AND ?4 = ?4",
			 v, 6, &others, err)) ||
	    /* rows without id: as many of each kind as are held already */
	    (r = scalarv(s,
			 "INSERT INTO temp.mb_dup SELECT id, imp, ln, n FROM (SELECT e.id, h.import_id"
			 " AS imp, h.line AS ln, h.n, row_number() OVER (PARTITION BY e.category_id,"
			 " e.location_id, e.outcome_id, e.falls_id ORDER BY e.id) AS rn"
			 " FROM event e JOIN temp.mb_held_noid h ON h.c = e.category_id"
			 " AND h.l IS e.location_id AND h.o IS e.outcome_id AND h.fw IS e.falls_id"
			 " WHERE e.id BETWEEN ?5 AND ?6 AND e.import_id = ?3 AND e.source_id = ?1"
			 " AND e.month = ?2 AND e.ext_id IS NULL AND ?4 = ?4) WHERE rn <= n",
			 v, 6, &others, err)))
		return r;
#undef HELD
#undef MINE
	if ((r = store_prepare(s, &st,
			       "SELECT e.import_id, e.line, d.holder, d.hline, e.ext_id, e.month,"
			       " (SELECT name FROM source WHERE id = e.source_id),"
			       " (SELECT name FROM source WHERE id = e.falls_id), l.lon, l.lat, l.name,"
			       " (SELECT code FROM lsoa WHERE id = l.lsoa_id),"
			       " (SELECT name FROM lsoa WHERE id = l.lsoa_id),"
			       " (SELECT name FROM category WHERE id = e.category_id),"
			       " (SELECT name FROM outcome WHERE id = e.outcome_id), d.noid"
			       " FROM temp.mb_dup d JOIN event e ON e.id = d.id"
			       " LEFT JOIN location l ON l.id = e.location_id ORDER BY e.id",
			       err)))
		return r;
	r = held_rejects(s, st, err);
	sqlite3_finalize(st);
	if (r || (r = scalarv(s, "DELETE FROM event WHERE id IN (SELECT id FROM temp.mb_dup)", v, 0,
			      moved, err)))
		return r;
	*moved = sqlite3_changes64(s->db);
	if (*moved)
		store_blocks_forget(s); /* its blocks come from the rows left */
	/* the import's events stay the range first_event..last_event: the ids
	 * freed at its end may go to the next import's rows */
	const int64_t range[3] = { s->first_event, s->last_event, import_id };

	if ((r = scalarv(s, "SELECT min(id) FROM event WHERE id BETWEEN ?1 AND ?2 AND import_id = ?3",
			 range, 3, &s->first_event, err)) ||
	    (r = scalarv(s, "SELECT max(id) FROM event WHERE id BETWEEN ?1 AND ?2 AND import_id = ?3",
			 range, 3, &s->last_event, err)))
		return r;
	return store_exec(s,
			  "DELETE FROM temp.mb_held; DELETE FROM temp.mb_held_noid;"
			  " DELETE FROM temp.mb_dup;",
			  err);
}
