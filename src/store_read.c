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

/* What read_events_blocks tallies as the blocks are read. */
struct ev_tally {
	struct store_summary *sum;
	uint32_t *loc_lsoa;        /* snap point -> LSOA id (0 none) */
	size_t nloc;               /* entries of loc_lsoa */
	size_t nlsoa;              /* LSOA ids + 1 */
	int32_t mlo, mhi;          /* the months of the blocks */
	uint8_t *month_seen;       /* per month mlo..mhi: an event */
	uint8_t *year_lsoa;        /* per year of mlo..mhi x LSOA id: an event there */
};

static int ev_tally_rows(void *ctx, const struct store_evrows *rows)
{
	struct ev_tally *t = ctx;
	int32_t y0 = t->mlo / 12;

	for (size_t i = 0; i < rows->n; i++) {
		int32_t m = rows->month[i];
		uint32_t loc = rows->location[i];

		t->sum->events++;
		t->sum->unlocated += rows->flags[i] & 1;
		if (m < t->mlo || m > t->mhi)
			continue;
		t->month_seen[m - t->mlo] = 1;
		if (loc && loc < t->nloc && t->loc_lsoa[loc])
			t->year_lsoa[(size_t)(m / 12 - y0) * t->nlsoa + t->loc_lsoa[loc]] = 1;
	}
	return 0;
}

/* Is an LSOA code of the 2021 vintage only? 2011 codes run to E01033768
 * (England) and W01001909 (Wales); later numbers exist only in 2021's. */
static int code_2021_only(const char *c)
{
	if (!c || strlen(c) < 4)
		return 0;
	if (strncmp(c, "E01", 3) == 0)
		return atoll(c + 3) > 33768;
	if (strncmp(c, "W01", 3) == 0)
		return atoll(c + 3) > 1909;
	return 0;
}

/* One snap point (a row of location, or of its dimension block): its LSOA. */
static int tally_loc(void *ctx, const struct dimb_row *d)
{
	struct ev_tally *t = ctx;

	if (d->id > 0 && (size_t)d->id < t->nloc && d->lsoa && d->lsoa < t->nlsoa)
		t->loc_lsoa[d->id] = d->lsoa;
	return 0;
}

/* read_events through the column blocks: the same figures from 7 bytes an
 * event instead of SQL's count(DISTINCT) over a join of every event row (a
 * national year: 7.3 s and 396 MB that way). */
static int read_events_blocks(struct store *s, struct store_summary *sum, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	struct ev_tally t = { .sum = sum };
	uint32_t *loc_lsoa = NULL;
	uint8_t *new21 = NULL; /* LSOA id -> held (1), of the 2021 vintage only (2) */
	size_t cap = 0;
	int r, rc, any = 0;

	if ((r = store_max_id(s, "SELECT max(id) FROM location", &t.nloc, err)) ||
	    (r = store_max_id(s, "SELECT max(id) FROM lsoa", &t.nlsoa, err)) ||
	    (r = store_prepare(s, &st, "SELECT min(month), max(month) FROM event_block", err)))
		return r;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		t.mlo = sqlite3_column_int(st, 0);
		t.mhi = sqlite3_column_int(st, 1);
		any = 1;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (!any)
		return 0;
	size_t nm = (size_t)(t.mhi - t.mlo + 1), ny = (size_t)(t.mhi / 12 - t.mlo / 12 + 1);

	loc_lsoa = calloc(t.nloc + 1, sizeof(*loc_lsoa));
	new21 = calloc(t.nlsoa + 1, 1);
	t.month_seen = calloc(nm, 1);
	t.year_lsoa = calloc(ny * t.nlsoa, 1);
	if (!loc_lsoa || !new21 || !t.month_seen || !t.year_lsoa) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	t.loc_lsoa = loc_lsoa;
	/* a scan cut short would count too few LSOA codes: store_dim_rows says so */
	if ((r = store_dim_rows(s, DIMB_LOCATION, tally_loc, &t, err)))
		goto cleanup;
	if ((r = store_prepare(s, &st, "SELECT id, code FROM lsoa", err)))
		goto cleanup;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_int64 id = sqlite3_column_int64(st, 0);

		/* 1 = held (the SQL joined lsoa), 2 = and of the 2021 vintage only */
		if (id > 0 && (size_t)id < t.nlsoa)
			new21[id] = (uint8_t)(1 + code_2021_only((const char *)sqlite3_column_text(st, 1)));
	}
	if (rc != SQLITE_DONE) {
		r = store_db_err(s, err, "info: reading the LSOA codes");
		goto cleanup;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((r = store_blocks_scan(s, t.mlo, t.mhi, 1, ev_tally_rows, &t, err)))
		goto cleanup;
	for (size_t m = 0; m < nm; m++)
		sum->event_months += t.month_seen[m];
	for (size_t y = 0; y < ny; y++) {
		int codes = 0, n21 = 0;

		for (size_t l = 1; l < t.nlsoa; l++) {
			codes += t.year_lsoa[y * t.nlsoa + l] && new21[l];
			n21 += t.year_lsoa[y * t.nlsoa + l] && new21[l] == 2;
		}
		if (!codes)
			continue;
		if (GROW(sum->years, sum->nyears + 1, cap)) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
		sum->years[sum->nyears++] = (struct info_year){
			.year = (int)(t.mlo / 12 + (int32_t)y) + 2000, .codes = codes, .new21 = n21 };
	}
cleanup:
	sqlite3_finalize(st);
	free(loc_lsoa);
	free(new21);
	free(t.month_seen);
	free(t.year_lsoa);
	return r;
}

static int read_events(struct store *s, struct store_summary *sum, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int r, rc, blocks = 0;

	if ((r = store_has_table(s, "event_block", &blocks, err)))
		return r;
	if (blocks)
		return read_events_blocks(s, sum, err);
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
