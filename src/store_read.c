/* store_read — what the store holds, as rows for 'info' and 'rejects' to
 * render (cmd_info.c): imports, coverage, events, LSOA vintages, rejects. */
#include <stdlib.h>
#include <string.h>

#include "microbeat/dict.h"
#include "microbeat/util.h"
#include "store_internal.h"

/* A copy of column i of st's row (NULL as ""), or NULL when out of memory. */
static char *col_dup(sqlite3_stmt *st, int i)
{
	const char *p = (const char *)sqlite3_column_text(st, i);

	return strdup(p ? p : "");
}

static int read_imports(struct store *s, struct store_summary *sum, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int r, rc;

	if ((r = store_prepare(s, &st,
			       "SELECT id, path, format, rows_read, rows_loaded, rows_duplicate,"
			       " rows_rejected, replaced_by FROM import WHERE finished IS NOT NULL"
			       " ORDER BY id",
			       err)))
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (GROW(sum->imports, sum->nimports + 1, cap)) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			break;
		}
		struct info_import *im = &sum->imports[sum->nimports];

		memset(im, 0, sizeof(*im));
		sum->nimports++;
		im->id = sqlite3_column_int64(st, 0);
		im->path = col_dup(st, 1);
		im->format = col_dup(st, 2);
		for (int i = 0; i < 4; i++)
			im->rows[i] = sqlite3_column_int64(st, 3 + i);
		im->replaced_by = sqlite3_column_type(st, 7) == SQLITE_NULL
					  ? 0 : sqlite3_column_int64(st, 7);
		if (!im->path || !im->format) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			break;
		}
	}
	sqlite3_finalize(st);
	if (!r && rc != SQLITE_DONE)
		r = store_db_err(s, err, "info");
	return r;
}

static int read_coverage(struct store *s, struct store_summary *sum, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int r, rc;

	if ((r = store_prepare(s, &st,
			       "SELECT m.source_id, s.name, m.month, sum(m.rows) FROM import_month m"
			       " JOIN source s ON s.id = m.source_id JOIN import i ON i.id = m.import_id"
			       " WHERE i.replaced_by IS NULL GROUP BY m.source_id, m.month"
			       " ORDER BY s.name, m.month",
			       err)))
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (GROW(sum->months, sum->nmonths + 1, cap)) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			break;
		}
		struct info_month *m = &sum->months[sum->nmonths++];

		m->source = sqlite3_column_int64(st, 0);
		m->month = sqlite3_column_int(st, 2);
		m->rows = sqlite3_column_int64(st, 3);
		if (!(m->name = col_dup(st, 1))) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			break;
		}
	}
	sqlite3_finalize(st);
	if (!r && rc != SQLITE_DONE)
		r = store_db_err(s, err, "info");
	return r;
}

static int read_events(struct store *s, struct store_summary *sum, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int r, rc;

	if ((r = store_prepare(s, &st,
			       "SELECT count(*), coalesce(sum(flags & 1), 0), count(DISTINCT month)"
			       " FROM event",
			       err)))
		return r;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sum->events = sqlite3_column_int64(st, 0);
		sum->unlocated = sqlite3_column_int64(st, 1);
		sum->event_months = sqlite3_column_int(st, 2);
	} else {
		r = store_db_err(s, err, "info");
	}
	sqlite3_finalize(st);
	if (r)
		return r;
	/* 2011 LSOA codes run to E01033768 (England) and W01001909 (Wales); later
	 * numbers exist only in the 2021 vintage */
	if ((r = store_prepare(s, &st,
			       "SELECT e.month / 12 + 2000, count(DISTINCT l.lsoa_id),"
			       " count(DISTINCT CASE WHEN (substr(q.code, 1, 3) = 'E01' AND"
			       " CAST(substr(q.code, 4) AS INTEGER) > 33768) OR (substr(q.code, 1, 3) ="
			       " 'W01' AND CAST(substr(q.code, 4) AS INTEGER) > 1909) THEN l.lsoa_id END)"
			       " FROM event e JOIN location l ON l.id = e.location_id"
			       " JOIN lsoa q ON q.id = l.lsoa_id GROUP BY 1 ORDER BY 1",
			       err)))
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (GROW(sum->years, sum->nyears + 1, cap)) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			break;
		}
		struct info_year *y = &sum->years[sum->nyears++];

		y->year = sqlite3_column_int(st, 0);
		y->codes = sqlite3_column_int(st, 1);
		y->new21 = sqlite3_column_int(st, 2);
	}
	if (!r && rc != SQLITE_DONE)
		r = store_db_err(s, err, "info");
	sqlite3_finalize(st);
	return r;
}

/* Reduce a reject reason to its kind: quoted values and numbers become '…' and N. */
static size_t reason_kind(const char *in, char *out, size_t cap)
{
	size_t o = 0;

	for (const char *p = in; *p && o + 4 < cap; p++) {
		if (*p == '\'') {
			const char *q = strchr(p + 1, '\'');

			if (q) {
				memcpy(out + o, "'…'", 5);
				o += 5;
				p = q;
				continue;
			}
		}
		if ((*p >= '0' && *p <= '9') || (*p == '-' && p[1] >= '0' && p[1] <= '9')) {
			while (p[1] == '.' || (p[1] >= '0' && p[1] <= '9'))
				p++;
			out[o++] = 'N';
			continue;
		}
		out[o++] = *p;
	}
	out[o] = '\0';
	return o;
}

static int read_rejects(struct store *s, struct store_summary *sum, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	struct dict *d = dict_new();
	size_t cap = 0;
	int r, rc;
	char key[sizeof(sum->rejects->kind)];

	if (!d)
		return mb_err(err, MB_ENOMEM, "out of memory");
	if ((r = store_prepare(s, &st,
			       "SELECT r.reason, r.duplicate, count(*) FROM reject r"
			       " JOIN import i ON i.id = r.import_id GROUP BY 1, 2",
			       err)))
		goto cleanup;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t n = reason_kind((const char *)sqlite3_column_text(st, 0), key, sizeof(key));
		uint32_t id = dict_get(d, key, n);

		if (!id) {
			if (GROW(sum->rejects, sum->nrejects + 1, cap) ||
			    dict_put(d, key, n, (uint32_t)sum->nrejects + 1)) {
				r = mb_err(err, MB_ENOMEM, "out of memory");
				goto cleanup;
			}
			struct info_reject *k = &sum->rejects[sum->nrejects];

			snprintf(k->kind, sizeof(k->kind), "%s", key);
			k->n = 0;
			k->dup = sqlite3_column_int(st, 1);
			id = (uint32_t)++sum->nrejects;
		}
		sum->rejects[id - 1].n += sqlite3_column_int64(st, 2);
	}
	if (rc != SQLITE_DONE)
		r = store_db_err(s, err, "info");
cleanup:
	sqlite3_finalize(st);
	dict_free(d);
	return r;
}

int store_info(struct store *s, struct store_summary *sum, struct mb_error *err)
{
	int r, own;

	memset(sum, 0, sizeof(*sum));
	/* one snapshot: the imports listed are those whose events are counted */
	if ((r = store_read_begin(s, &own, err)))
		return r;
	if (!(r = read_imports(s, sum, err)) && !(r = read_coverage(s, sum, err)) &&
	    !(r = read_events(s, sum, err)))
		r = read_rejects(s, sum, err);
	store_read_end(s, own);
	if (r)
		store_summary_release(sum);
	return r;
}

void store_summary_release(struct store_summary *sum)
{
	for (size_t i = 0; i < sum->nimports; i++) {
		free(sum->imports[i].path);
		free(sum->imports[i].format);
	}
	for (size_t i = 0; i < sum->nmonths; i++)
		free(sum->months[i].name);
	free(sum->imports);
	free(sum->months);
	free(sum->years);
	free(sum->rejects);
	memset(sum, 0, sizeof(*sum));
}

int store_import_exists(struct store *s, int64_t import_id, int *yes, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	*yes = 0;
	if ((r = store_prepare(s, &st, "SELECT 1 FROM import WHERE id = ?1", err)))
		return r;
	sqlite3_bind_int64(st, 1, import_id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_err(s, err, "rejects");
	*yes = rc == SQLITE_ROW;
	return 0;
}

int store_rejects(struct store *s, int64_t import_id, store_reject_fn each, void *arg,
		  struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	if ((r = store_prepare(s, &st,
			       "SELECT r.import_id, i.path, r.line, r.col, r.duplicate, r.reason, r.raw"
			       " FROM reject r JOIN import i ON i.id = r.import_id"
			       " WHERE ?1 = 0 OR r.import_id = ?1 ORDER BY r.import_id, r.line",
			       err)))
		return r;
	sqlite3_bind_int64(st, 1, import_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct reject_row row = {
			.import_id = sqlite3_column_int64(st, 0),
			.path = (const char *)sqlite3_column_text(st, 1),
			.line = sqlite3_column_int64(st, 2),
			.col = sqlite3_column_int64(st, 3),
			.duplicate = sqlite3_column_int(st, 4),
			.reason = (const char *)sqlite3_column_text(st, 5),
			.raw = (const char *)sqlite3_column_blob(st, 6),
		};

		/* lengths after the pointers (sqlite3_column_bytes' rule) */
		row.path_len = (size_t)sqlite3_column_bytes(st, 1);
		row.reason_len = (size_t)sqlite3_column_bytes(st, 5);
		row.raw_len = (size_t)sqlite3_column_bytes(st, 6);
		if ((r = each(arg, &row, err)))
			break;
	}
	if (!r && rc != SQLITE_DONE)
		r = store_db_err(s, err, "rejects");
	sqlite3_finalize(st);
	return r;
}

int store_month_range(struct store *s, int32_t *lo, int32_t *hi, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	*lo = *hi = -1;
	if ((r = store_prepare(s, &st,
			       "SELECT min(m.month), max(m.month) FROM import_month m JOIN import i"
			       " ON i.id = m.import_id WHERE i.replaced_by IS NULL",
			       err)))
		return r;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*lo = sqlite3_column_int(st, 0);
		*hi = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	return 0;
}
