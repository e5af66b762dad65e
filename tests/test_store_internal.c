/* Unit tests of the store's private helpers (src/store_internal.h):
 * store_max_id() must report a failing step (it once read a failed step as an
 * empty table, array size 1), slice_put_str() must report out of memory
 * (it once returned offset 0, which reads as an empty name), and the
 * dimension blocks (store_dimblocks.c) give back exactly what the rows hold,
 * whether encoded from what the bulk writer wrote or from the rows, are not
 * read when they do not cover the rows or a trigger is missing, and refuse a
 * damaged BLOB without reading past it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>
#include <sqlite3.h>

#include "microbeat/common.h"
#include "microbeat/slice.h"
#include "microbeat/store.h"
#include "../src/store_internal.h"

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mb_store_int_XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct store *open_named(const char *name)
{
	struct store *s = NULL;
	struct mb_error err = { 0 };
	char db[128];

	snprintf(db, sizeof(db), "%s/%s.db", tmpdir, name);
	assert_int_equal(store_open(db, 0, &s, &err), 0);
	return s;
}

static struct store *open_store(void)
{
	struct store *s = NULL;
	struct mb_error err = { 0 };
	char db[128];

	snprintf(db, sizeof(db), "%s/x.db", tmpdir);
	assert_int_equal(store_open(db, 0, &s, &err), 0);
	return s;
}

static void test_max_id_values(void **state)
{
	struct store *s = open_store();
	struct mb_error err = { 0 };
	size_t n = 99;

	(void)state;
	/* an empty table: max(id) is NULL, one slot (id 0 unused) */
	assert_int_equal(store_max_id(s, "SELECT max(id) FROM unit", &n, &err), 0);
	assert_int_equal(n, 1);
	n = 99;
	assert_int_equal(store_max_id(s, "SELECT 41", &n, &err), 0);
	assert_int_equal(n, 42);
	n = 99;
	assert_int_equal(store_max_id(s, "SELECT 1 WHERE 0", &n, &err), 0); /* no row */
	assert_int_equal(n, 1);
	store_close(s);
}

static void test_max_id_step_error(void **state)
{
	struct store *s = open_store();
	struct mb_error err = { 0 };
	size_t n = 99;

	(void)state;
	/* prepares, then fails in sqlite3_step (integer overflow at run time):
	 * the old max_id/table_size returned 0 and a size of 1 here */
	assert_int_equal(store_max_id(s, "SELECT abs(-9223372036854775807 - 1)", &n, &err),
			 -MB_EDB);
	assert_int_equal(err.code, MB_EDB);
	assert_non_null(strstr(err.msg, "integer overflow"));
	assert_int_equal(n, 1);
	/* a malformed statement fails at prepare, also an error */
	memset(&err, 0, sizeof(err));
	assert_true(store_max_id(s, "SELECT max(id) FROM no_such_table", &n, &err) < 0);
	assert_int_not_equal(err.code, 0);
	store_close(s);
}

static void test_put_str(void **state)
{
	struct slice sl;
	size_t a = 0, b = 0, c = 0;

	(void)state;
	memset(&sl, 0, sizeof(sl));
	assert_int_equal(slice_put_str(&sl, "abc", &a), 0);
	assert_int_equal(slice_put_str(&sl, "", &b), 0);
	assert_int_equal(slice_put_str(&sl, NULL, &c), 0);
	/* offset + 1 of each string, NUL-terminated, one after the other */
	assert_int_equal(a, 1);
	assert_int_equal(b, 5);
	assert_int_equal(c, 6);
	assert_string_equal(sl.strings + a - 1, "abc");
	assert_string_equal(sl.strings + b - 1, "");
	assert_int_equal(sl.strings_used, 6);
	/* enough strings to move the storage: offsets stay valid */
	for (int i = 0; i < 20000; i++) {
		char w[16];
		size_t o;

		snprintf(w, sizeof(w), "w%d", i);
		assert_int_equal(slice_put_str(&sl, w, &o), 0);
		assert_string_equal(sl.strings + o - 1, w);
	}
	assert_string_equal(sl.strings + a - 1, "abc");
	free(sl.strings);
}

static void test_put_str_out_of_memory(void **state)
{
	struct slice sl;
	size_t off = 7;

	(void)state;
	/* the storage cannot grow (capacity past SIZE_MAX / 2: doubling would
	 * overflow; nothing is allocated): an error and offset 0, never an
	 * offset that reads as an empty name */
	memset(&sl, 0, sizeof(sl));
	sl.strings_used = sl.strings_cap = SIZE_MAX / 2 + 1;
	assert_int_equal(slice_put_str(&sl, "x", &off), -1);
	assert_int_equal(off, 0);
	assert_null(sl.strings);
	assert_int_equal(sl.strings_used, SIZE_MAX / 2 + 1);
	/* used + length would pass SIZE_MAX */
	off = 7;
	sl.strings_used = sl.strings_cap = SIZE_MAX - 2;
	assert_int_equal(slice_put_str(&sl, "abc", &off), -1);
	assert_int_equal(off, 0);
	assert_null(sl.strings);
}

/* ---- dimension blocks ---------------------------------------------------------- */

/* What store_dimblocks_read handed over, by id (up to 16). */
struct got {
	int n;
	struct dimb_row r[16];
	char text[16][2][32];
};

static int collect(void *ctx, const struct dimb_row *d)
{
	struct got *g = ctx;

	assert_true(d->id > 0 && d->id < 16);
	g->r[d->id] = *d;
	if (d->name)
		snprintf(g->text[d->id][0], 32, "%s", d->name);
	if (d->area)
		snprintf(g->text[d->id][1], 32, "%s", d->area);
	g->n++;
	return 0;
}

static void exec_ok(struct store *s, const char *sql)
{
	struct mb_error err = { 0 };

	assert_int_equal(store_exec(s, sql, &err), 0);
}

/* Streets 1, 2, 5 and snap points 1, 2, 3 written by hand: a NULL LSOA, NULL
 * coordinates, -0.0 (stored as 0), an empty and a NULL area code, a UTF-8 name. */
static void rows_by_hand(struct store *s)
{
	exec_ok(s, "INSERT INTO street(id, name_norm, lsoa_id, gazetteer, lon, lat, area_code) VALUES"
		   " (1, 'HIGH STREET', 7, 1, 0.125, 52.5, 'E04000001'),"
		   " (2, 'CAF\xc3\x89 ROW', NULL, 0, NULL, NULL, NULL),"
		   " (5, 'MILL LANE', 3, 1, -0.0, 52.25, '')");
	exec_ok(s, "INSERT INTO location(id, name, lon, lat, lsoa_id, street_id) VALUES"
		   " (1, 'On or near High Street', 0.125, 52.5, 7, 1),"
		   " (2, 'No Location', NULL, NULL, NULL, NULL),"
		   " (3, 'On or near Mill Lane', -1.5, 52.25, 3, 5)");
}

static void check_by_hand(struct store *s)
{
	struct mb_error err = { 0 };
	struct got g;
	int used = 0;

	memset(&g, 0, sizeof(g));
	assert_int_equal(store_dimblocks_read(s, DIMB_STREET, 5, collect, &g, &used, &err), 0);
	assert_int_equal(used, 1);
	assert_int_equal(g.n, 3); /* ids 3 and 4 have no row: not handed over */
	assert_int_equal(g.r[1].lsoa, 7);
	assert_int_equal(g.r[1].gazetteer, 1);
	assert_true(g.r[1].lon == 0.125 && g.r[1].lat == 52.5);
	assert_string_equal(g.text[1][0], "HIGH STREET");
	assert_string_equal(g.text[1][1], "E04000001");
	assert_int_equal(g.r[2].lsoa, 0);
	assert_true(isnan(g.r[2].lon) && isnan(g.r[2].lat));
	assert_string_equal(g.text[2][0], "CAF\xc3\x89 ROW");
	assert_string_equal(g.text[2][1], "");
	assert_true(g.r[5].lon == 0.0 && !signbit(g.r[5].lon));
	assert_string_equal(g.text[5][1], "");
	memset(&g, 0, sizeof(g));
	assert_int_equal(store_dimblocks_read(s, DIMB_LOCATION, 3, collect, &g, &used, &err), 0);
	assert_int_equal(used, 1);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.r[1].street, 1);
	assert_int_equal(g.r[2].street, 0);
	assert_int_equal(g.r[2].lsoa, 0);
	assert_true(isnan(g.r[2].lat));
	assert_true(g.r[3].lon == -1.5 && g.r[3].lsoa == 3 && g.r[3].street == 5);
}

static void test_dimblocks_rows(void **state)
{
	struct store *s = open_named("rows");
	struct mb_error err = { 0 };
	struct got g;
	int used = 1;

	(void)state;
	rows_by_hand(s);
	/* no blocks yet: not used, the caller reads the rows */
	memset(&g, 0, sizeof(g));
	assert_int_equal(store_dimblocks_read(s, DIMB_STREET, 5, collect, &g, &used, &err), 0);
	assert_int_equal(used, 0);
	assert_int_equal(g.n, 0);
	assert_int_equal(store_dimblocks_extend(s, &err), 0);
	check_by_hand(s);
	/* a row past the blocks: they no longer cover every row */
	exec_ok(s, "INSERT INTO street(id, name_norm) VALUES (6, 'NEW ROAD')");
	assert_int_equal(store_dimblocks_read(s, DIMB_STREET, 6, collect, &g, &used, &err), 0);
	assert_int_equal(used, 0);
	/* extended by a block of the new row */
	assert_int_equal(store_dimblocks_extend(s, &err), 0);
	memset(&g, 0, sizeof(g));
	assert_int_equal(store_dimblocks_read(s, DIMB_STREET, 6, collect, &g, &used, &err), 0);
	assert_int_equal(used, 1);
	assert_int_equal(g.n, 4);
	assert_string_equal(g.text[6][0], "NEW ROAD");
	/* a trigger gone: the blocks may be stale, not read */
	exec_ok(s, "DROP TRIGGER street_dim_d");
	assert_int_equal(store_dimblocks_read(s, DIMB_STREET, 6, collect, &g, &used, &err), 0);
	assert_int_equal(used, 0);
	/* the other table's blocks are still read */
	assert_int_equal(store_dimblocks_read(s, DIMB_LOCATION, 3, collect, &g, &used, &err), 0);
	assert_int_equal(used, 1);
	store_close(s);
}

static void test_dimblocks_gathered(void **state)
{
	struct store *s = open_named("gathered");
	struct mb_error err = { 0 };
	struct rec_dim st[2] = {
		{ .kind = DIM_STREET, .id = 1, .ref = 4, .s1 = "STATION ROAD" },
		{ .kind = DIM_STREET, .id = 2, .ref = 0, .s1 = "" },
	};
	struct rec_dim lo[3] = {
		{ .kind = DIM_LOCATION, .id = 1, .ref = 4, .ref2 = 1, .has_coord = 1, .lon = -0.0,
		  .lat = 52.0, .s1 = "On or near Station Road" },
		{ .kind = DIM_LOCATION, .id = 2, .ref = 0, .ref2 = 0, .has_coord = 0, .lon = 1.0,
		  .lat = 2.0, .s1 = "No Location" },
		{ .kind = DIM_LOCATION, .id = 3, .ref = 4, .ref2 = 2, .has_coord = 1, .lon = 0.1,
		  .lat = 51.9999999999, .s1 = "On or near Somewhere" },
	};
	sqlite3_stmt *q = NULL;
	char *gathered[2] = { NULL, NULL };

	(void)state;
	/* the bulk writer's rows, encoded as gathered */
	assert_int_equal(store_begin(s, &err), 0);
	assert_int_equal(store_dims_write(s, DIM_STREET, st, 2, &err), 0);
	assert_int_equal(store_dims_write(s, DIM_LOCATION, lo, 3, &err), 0);
	assert_int_equal(store_dimblocks_extend(s, &err), 0);
	assert_int_equal(store_commit(s, &err), 0);
	assert_int_equal(store_prepare(s, &q, "SELECT hex(data) FROM dim_block ORDER BY kind", &err), 0);
	for (int k = 0; k < 2; k++) {
		assert_int_equal(sqlite3_step(q), SQLITE_ROW);
		gathered[k] = strdup((const char *)sqlite3_column_text(q, 0));
	}
	assert_int_equal(sqlite3_step(q), SQLITE_DONE);
	sqlite3_finalize(q);
	/* the same blocks encoded from the rows read back: the same bytes (the
	 * -0.0 longitude reads back as 0.0, the missing coordinates as NULL) */
	assert_int_equal(store_begin(s, &err), 0);
	assert_int_equal(store_dimblocks_build_all(s, &err), 0);
	assert_int_equal(store_commit(s, &err), 0);
	assert_int_equal(store_prepare(s, &q, "SELECT hex(data) FROM dim_block ORDER BY kind", &err), 0);
	for (int k = 0; k < 2; k++) {
		assert_int_equal(sqlite3_step(q), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(q, 0), gathered[k]);
		free(gathered[k]);
	}
	sqlite3_finalize(q);
	/* and check agrees */
	int64_t checked = 0, bad = 1;
	FILE *devnull = fopen("/dev/null", "w");

	assert_non_null(devnull);
	assert_int_equal(store_dimblocks_check(s, &checked, &bad, devnull, &err), 0);
	assert_int_equal(checked, 2);
	assert_int_equal(bad, 0);
	fclose(devnull);
	store_close(s);
}

static void test_dimblocks_damaged(void **state)
{
	/* each a street block of ids 1..5 that must be refused whole */
	static const char *const forged[] = {
		"x''",                                     /* empty */
		"x'4D424431'",                             /* a header cut short */
		"x'4D42443201000000050000'",               /* wrong magic, short */
		"x'4D424431000000000500000000'",           /* the kind of a location block */
		"x'4D4244310100000006000000'",             /* six ids for five */
		"x'4D4244310100000005000000' || zeroblob(105)", /* no strings */
		"x'4D4244310100000005000000' || zeroblob(105) || x'41'", /* no NUL */
		"x'4D4244310100000005000000' || zeroblob(105) || zeroblob(11)", /* one too many */
	};
	struct mb_error err = { 0 };
	struct got g;
	int used = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(forged) / sizeof(*forged); i++) {
		char name[32], sql[256];

		snprintf(name, sizeof(name), "damaged%zu", i);
		struct store *s = open_named(name);

		rows_by_hand(s);
		assert_int_equal(store_dimblocks_extend(s, &err), 0);
		snprintf(sql, sizeof(sql), "UPDATE dim_block SET data = %s WHERE kind = 1", forged[i]);
		exec_ok(s, sql);
		memset(&err, 0, sizeof(err));
		assert_int_equal(store_dimblocks_read(s, DIMB_STREET, 5, collect, &g, &used, &err),
				 -MB_EDB);
		assert_non_null(strstr(err.msg, "the street block of ids 1..5 is damaged"));
		assert_int_equal(used, 0);
		store_close(s);
	}
	/* five records saying "no row" and ten empty strings: a well-formed
	 * block with nothing to hand over (the reader stops at its end) */
	struct store *s = open_named("norows");

	rows_by_hand(s);
	assert_int_equal(store_dimblocks_extend(s, &err), 0);
	exec_ok(s, "UPDATE dim_block SET data = x'4D4244310100000005000000'"
		   " || x'FFFFFFFF' || zeroblob(17) || x'FFFFFFFF' || zeroblob(17)"
		   " || x'FFFFFFFF' || zeroblob(17) || x'FFFFFFFF' || zeroblob(17)"
		   " || x'FFFFFFFF' || zeroblob(17) || zeroblob(10) WHERE kind = 1");
	memset(&g, 0, sizeof(g));
	assert_int_equal(store_dimblocks_read(s, DIMB_STREET, 5, collect, &g, &used, &err), 0);
	assert_int_equal(used, 1);
	assert_int_equal(g.n, 0);
	store_close(s);
}

/* ---- column blocks: reading ahead ---------------------------------------------- */

/* What a scan handed over: every row, the runs' sizes, and a failure to give. */
struct seen_rows {
	size_t n, cap, runs, run_n[16];	/* rows, capacity, runs and their sizes */
	int64_t *row;      /* id, month, category, location, source, flags: 6 a row */
	size_t fail_at;    /* fail the run of this number (1-based; 0: never) */
};

static int seen_fn(void *ctx, const struct store_evrows *rows)
{
	struct seen_rows *g = ctx;

	if (g->runs < 16)
		g->run_n[g->runs] = rows->n;
	if (++g->runs == g->fail_at)
		return -MB_ENOMEM;
	if (g->n + rows->n > g->cap) {
		g->cap = (g->n + rows->n) * 2;
		g->row = realloc(g->row, g->cap * 6 * sizeof(*g->row));
		assert_non_null(g->row);
	}
	for (size_t i = 0; i < rows->n; i++) {
		int64_t *o = g->row + (g->n + i) * 6;

		o[0] = rows->id[i];
		o[1] = rows->month[i];
		o[2] = rows->category[i];
		o[3] = rows->location[i];
		o[4] = rows->source[i];
		o[5] = rows->flags[i];
	}
	g->n += rows->n;
	return 0;
}

/* Three imports: months 300-302 interleaved over 70,000 events (overlapping
 * blocks: one group, merged a run of 32,768 rows at a time), one month of
 * 100,000 (a block alone: decoded a run at a time) and one of 10. Read ahead
 * on a thread or not: the same rows in the same runs, the rows as SQL lists
 * them; a failing fn stops both after the same run; a damaged block fails
 * both after the same rows. */
static void test_blocks_scan_ahead(void **state)
{
	struct store *s = open_named("scan");
	struct mb_error err = { 0 };
	struct seen_rows a = { 0 }, b = { 0 };
	sqlite3_stmt *st = NULL;
	int64_t imports = 0;
	size_t k = 0;

	(void)state;
	exec_ok(s, "INSERT INTO import(id, path, name, format, started, first_event, last_event)"
		   " VALUES (1, 'a', 'a', 'police', '', 1, 70000),"
		   " (2, 'b', 'b', 'police', '', 70001, 170000),"
		   " (3, 'c', 'c', 'police', '', 170001, 170010)");
	exec_ok(s, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 170010)"
		   " INSERT INTO event(id, import_id, line, month, category_id, location_id,"
		   " source_id, flags) SELECT i, CASE WHEN i <= 70000 THEN 1 WHEN i <= 170000"
		   " THEN 2 ELSE 3 END, i, CASE WHEN i <= 70000 THEN 300 + i % 3 WHEN i <= 170000"
		   " THEN 303 ELSE 304 END, 1 + i % 3, CASE WHEN i % 7 = 0 THEN NULL ELSE i % 70001"
		   " END, 1 + i % 2, i % 2 FROM n");
	assert_int_equal(store_blocks_build_all(s, &imports, &err), 0);
	assert_int_equal(imports, 3);
	assert_int_equal(store_blocks_scan(s, 300, 304, 0, seen_fn, &a, &err), 0);
	assert_int_equal(store_blocks_scan(s, 300, 304, 1, seen_fn, &b, &err), 0);
	assert_int_equal(a.runs, 8);
	assert_int_equal(b.runs, 8);
	static const size_t want_runs[8] = { 32768, 32768, 4464, 32768, 32768, 32768, 1696, 10 };
	for (size_t r = 0; r < 8; r++) {
		assert_int_equal(a.run_n[r], want_runs[r]);
		assert_int_equal(b.run_n[r], want_runs[r]);
	}
	assert_int_equal(a.n, 170010);
	assert_int_equal(b.n, 170010);
	assert_memory_equal(a.row, b.row, a.n * 6 * sizeof(*a.row));
	/* the rows, independently */
	assert_int_equal(store_prepare(s, &st, "SELECT id, month, category_id, coalesce(location_id, 0),"
				       " source_id, flags FROM event ORDER BY id", &err), 0);
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (int c = 0; c < 6; c++)
			assert_true(a.row[k * 6 + (size_t)c] == sqlite3_column_int64(st, c));
		k++;
	}
	sqlite3_finalize(st);
	assert_int_equal(k, 170010);
	/* fn fails on the third run: both stop there, with its error */
	free(a.row);
	free(b.row);
	a = (struct seen_rows){ .fail_at = 3 };
	b = (struct seen_rows){ .fail_at = 3 };
	assert_int_equal(store_blocks_scan(s, 300, 304, 0, seen_fn, &a, &err), -MB_ENOMEM);
	assert_int_equal(store_blocks_scan(s, 300, 304, 1, seen_fn, &b, &err), -MB_ENOMEM);
	assert_int_equal(a.runs, 3);
	assert_int_equal(b.runs, 3);
	assert_int_equal(b.n, a.n);
	/* the big block damaged: both hand over the group, then fail naming it */
	free(a.row);
	free(b.row);
	a = (struct seen_rows){ 0 };
	b = (struct seen_rows){ 0 };
	exec_ok(s, "UPDATE event_block SET data = zeroblob(length(data)) WHERE import_id = 2");
	memset(&err, 0, sizeof(err));
	assert_int_equal(store_blocks_scan(s, 300, 304, 0, seen_fn, &a, &err), -MB_EDB);
	assert_non_null(strstr(err.msg, "month 303"));
	memset(&err, 0, sizeof(err));
	assert_int_equal(store_blocks_scan(s, 300, 304, 1, seen_fn, &b, &err), -MB_EDB);
	assert_non_null(strstr(err.msg, "month 303"));
	assert_int_equal(a.runs, 3);
	assert_int_equal(b.runs, 3);
	assert_int_equal(a.n, 70000);
	assert_int_equal(b.n, 70000);
	free(a.row);
	free(b.row);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_max_id_values),
		cmocka_unit_test(test_max_id_step_error),
		cmocka_unit_test(test_put_str),
		cmocka_unit_test(test_put_str_out_of_memory),
		cmocka_unit_test(test_dimblocks_rows),
		cmocka_unit_test(test_dimblocks_gathered),
		cmocka_unit_test(test_dimblocks_damaged),
		cmocka_unit_test(test_blocks_scan_ahead),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
