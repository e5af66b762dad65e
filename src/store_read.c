/* store_read — reports on what the store holds: 'info' and 'rejects'. */
#include <stdlib.h>
#include <string.h>

#include "microbeat/dict.h"
#include "microbeat/emit.h"
#include "store_internal.h"

/* Print a count with thousands separators. */
static void put_count(FILE *f, long long v)
{
	char buf[32], out[48];
	int n = snprintf(buf, sizeof(buf), "%lld", v < 0 ? -v : v), o = 0;

	if (v < 0)
		out[o++] = '-';
	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = buf[i];
	}
	out[o] = '\0';
	fputs(out, f);
}

static int print_imports(struct store *s, FILE *f, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc, n = 0;

	if ((r = store_prepare(s, &st,
			       "SELECT id, path, format, rows_read, rows_loaded, rows_duplicate,"
			       " rows_rejected, replaced_by FROM import WHERE finished IS NOT NULL"
			       " ORDER BY id",
			       err)))
		return r;
	fprintf(f, "Imports (rows read = loaded + duplicate + rejected)\n");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		fprintf(f, "  #%-5lld %-15s ", (long long)sqlite3_column_int64(st, 0),
			(const char *)sqlite3_column_text(st, 2));
		for (int i = 3; i <= 6; i++) {
			put_count(f, sqlite3_column_int64(st, i));
			fputs(i == 3 ? " = " : i < 6 ? " + " : "", f);
		}
		fprintf(f, "  %s", MB_SHOWN((const char *)sqlite3_column_text(st, 1)));
		if (sqlite3_column_type(st, 7) != SQLITE_NULL)
			fprintf(f, "  (replaced by #%lld)", (long long)sqlite3_column_int64(st, 7));
		fputc('\n', f);
		n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_db_err(s, err, "info");
	if (!n)
		fprintf(f, "  (none)\n");
	return 0;
}

/* Print one source's months as runs, naming the gaps between first and last. */
static void print_runs(FILE *f, const int32_t *months, const int64_t *rows, int n)
{
	char a[8], b[8];
	int i = 0;

	while (i < n) {
		int j = i;
		int64_t sum = rows[i];

		while (j + 1 < n && months[j + 1] == months[j] + 1)
			sum += rows[++j];
		month_format(months[i], a);
		month_format(months[j], b);
		fprintf(f, "    %s..%s  %d month%s, ", a, b, j - i + 1, j > i ? "s" : "");
		put_count(f, sum);
		fprintf(f, " rows\n");
		if (j + 1 < n) {
			int gap = months[j + 1] - months[j] - 1;

			month_format(months[j] + 1, a);
			month_format(months[j + 1] - 1, b);
			fprintf(f, "    %s..%s  GAP: %d month%s missing (no import)\n", a, b, gap,
				gap > 1 ? "s" : "");
		}
		i = j + 1;
	}
}

/* Year x month grid of row counts for one source ("-" = missing). */
static void print_grid(FILE *f, const int32_t *months, const int64_t *rows, int n)
{
	if (!n)
		return;
	int y0 = months[0] / 12, y1 = months[n - 1] / 12, k = 0;

	fprintf(f, "    year ");
	for (int m = 1; m <= 12; m++)
		fprintf(f, "%7d", m);
	fputc('\n', f);
	for (int y = y0; y <= y1; y++) {
		fprintf(f, "    %4d ", 2000 + y);
		for (int m = 0; m < 12; m++) {
			int32_t mi = y * 12 + m;

			while (k < n && months[k] < mi)
				k++;
			if (k < n && months[k] == mi)
				fprintf(f, "%7lld", (long long)rows[k]);
			else
				fprintf(f, "%7s", "-");
		}
		fputc('\n', f);
	}
}

static int print_coverage(struct store *s, FILE *f, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc, n = 0, cap = 0;
	int32_t *months = NULL;
	int64_t *rows = NULL, cur = -1;
	char name[256] = "";

	if ((r = store_prepare(s, &st,
			       "SELECT m.source_id, s.name, m.month, sum(m.rows) FROM import_month m"
			       " JOIN source s ON s.id = m.source_id JOIN import i ON i.id = m.import_id"
			       " WHERE i.replaced_by IS NULL GROUP BY m.source_id, m.month"
			       " ORDER BY s.name, m.month",
			       err)))
		return r;
	fprintf(f, "\nCoverage: events per force x month (a missing month is a gap, not a zero)\n");
	for (;;) {
		rc = sqlite3_step(st);
		int64_t src = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -2;

		if (src != cur && cur != -1) {
			fprintf(f, "  %s\n", MB_SHOWN(name));
			print_runs(f, months, rows, n);
			print_grid(f, months, rows, n);
			n = 0;
		}
		if (rc != SQLITE_ROW)
			break;
		if (src != cur)
			snprintf(name, sizeof(name), "%s", (const char *)sqlite3_column_text(st, 1));
		cur = src;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			int32_t *nm = realloc(months, (size_t)cap * sizeof(*nm));

			if (nm)
				months = nm;
			int64_t *nr = realloc(rows, (size_t)cap * sizeof(*nr));

			if (nr)
				rows = nr;
			if (!nm || !nr) {
				r = mb_err(err, MB_ENOMEM, "out of memory");
				goto cleanup;
			}
		}
		months[n] = sqlite3_column_int(st, 2);
		rows[n] = sqlite3_column_int64(st, 3);
		n++;
	}
	if (rc != SQLITE_DONE)
		r = store_db_err(s, err, "info");
	if (cur == -1)
		fprintf(f, "  (no events)\n");
cleanup:
	sqlite3_finalize(st);
	free(months);
	free(rows);
	return r;
}

static int print_events(struct store *s, FILE *f, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	if ((r = store_prepare(s, &st,
			       "SELECT count(*), coalesce(sum(flags & 1), 0), count(DISTINCT month)"
			       " FROM event",
			       err)))
		return r;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long long n = sqlite3_column_int64(st, 0), u = sqlite3_column_int64(st, 1);

		fprintf(f, "\nEvents: ");
		put_count(f, n);
		fprintf(f, " in %d months; unlocated (\"No location\", no coordinates): ",
			sqlite3_column_int(st, 2));
		put_count(f, u);
		fprintf(f, " (%.2f%%)\n", n ? 100.0 * (double)u / (double)n : 0.0);
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
	fprintf(f, "\nLSOA codes seen per year (codes are keys; 2021-only codes mark the 2021 vintage)\n");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int y = sqlite3_column_int(st, 0), all = sqlite3_column_int(st, 1),
		    new21 = sqlite3_column_int(st, 2);

		fprintf(f, "  %d: %d codes, %d of them 2021-only -> %s\n", y, all, new21,
			new21 ? "2021 vintage" : "2011 vintage (or no 2021-only codes)");
	}
	if (rc != SQLITE_DONE)
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

static int print_rejects(struct store *s, FILE *f, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	struct dict *d = dict_new();
	int r, rc, nk = 0;
	char key[600];
	struct kc {
		char kind[600]; /* reason kind */
		long long n;    /* rows */
		int dup;        /* duplicates */
	} *k = NULL;

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
			struct kc *nk2 = realloc(k, (size_t)(nk + 1) * sizeof(*k));

			if (!nk2 || dict_put(d, key, n, (uint32_t)nk + 1)) {
				free(nk2 ? nk2 : NULL);
				k = nk2 ? NULL : k;
				r = mb_err(err, MB_ENOMEM, "out of memory");
				goto cleanup;
			}
			k = nk2;
			snprintf(k[nk].kind, sizeof(k[nk].kind), "%s", key);
			k[nk].n = 0;
			k[nk].dup = sqlite3_column_int(st, 1);
			id = (uint32_t)++nk;
		}
		k[id - 1].n += sqlite3_column_int64(st, 2);
	}
	if (rc != SQLITE_DONE) {
		r = store_db_err(s, err, "info");
		goto cleanup;
	}
	fprintf(f, "\nRejected and duplicate rows by reason (microbeat rejects lists them)\n");
	if (!nk)
		fprintf(f, "  (none)\n");
	for (int i = 0; i < nk; i++) {
		fprintf(f, "  %10lld  %s%s\n", k[i].n, k[i].dup ? "[duplicate] " : "", MB_SHOWN(k[i].kind));
	}
cleanup:
	sqlite3_finalize(st);
	dict_free(d);
	free(k);
	return r;
}

int store_info(struct store *s, FILE *f, struct mb_error *err)
{
	int r, own;

	/* one snapshot: the imports listed are those whose events are counted */
	if ((r = store_read_begin(s, &own, err)))
		return r;
	fprintf(f, "Store: %s\n\n", MB_SHOWN(s->path));
	if (!(r = print_imports(s, f, err)) && !(r = print_coverage(s, f, err)) &&
	    !(r = print_events(s, f, err)))
		r = print_rejects(s, f, err);
	store_read_end(s, own);
	return r;
}

int store_rejects(struct store *s, int64_t import_id, FILE *f, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	if (import_id > 0) {
		/* an import number that does not exist is not an empty list */
		if ((r = store_prepare(s, &st, "SELECT 1 FROM import WHERE id = ?1", err)))
			return r;
		sqlite3_bind_int64(st, 1, import_id);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		st = NULL;
		if (rc == SQLITE_DONE)
			return mb_err(err, MB_ENOTFOUND, "rejects: there is no import #%lld (see 'microbeat"
							 " info')", (long long)import_id);
		if (rc != SQLITE_ROW)
			return store_db_err(s, err, "rejects");
	}
	if ((r = store_prepare(s, &st,
			       "SELECT r.import_id, i.path, r.line, r.col, r.duplicate, r.reason, r.raw"
			       " FROM reject r JOIN import i ON i.id = r.import_id"
			       " WHERE ?1 = 0 OR r.import_id = ?1 ORDER BY r.import_id, r.line",
			       err)))
		return r;
	sqlite3_bind_int64(st, 1, import_id);
	fprintf(f, "import,file,line,column,kind,reason,raw\n");
	/* text fields go through the tables' CSV writer: the same quoting and
	 * formula neutralising (full-width forms too) as every other CSV */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		fprintf(f, "%lld,", (long long)sqlite3_column_int64(st, 0));
		if ((r = emit_csv_field_n((const char *)sqlite3_column_text(st, 1),
					  (size_t)sqlite3_column_bytes(st, 1), f, err)))
			break;
		fprintf(f, ",%lld,%lld,%s,", (long long)sqlite3_column_int64(st, 2),
			(long long)sqlite3_column_int64(st, 3),
			sqlite3_column_int(st, 4) ? "duplicate" : "rejected");
		if ((r = emit_csv_field_n((const char *)sqlite3_column_text(st, 5),
					  (size_t)sqlite3_column_bytes(st, 5), f, err)))
			break;
		fputc(',', f);
		if ((r = emit_csv_field_n((const char *)sqlite3_column_blob(st, 6),
					  (size_t)sqlite3_column_bytes(st, 6), f, err)))
			break;
		fputc('\n', f);
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
