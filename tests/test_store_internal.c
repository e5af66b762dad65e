/* Unit tests of the store's private helpers (src/store_internal.h):
 * store_max_id() must report a failing step (it once read a failed step as an
 * empty table, array size 1), and slice_put_str() must report out of memory
 * (it once returned offset 0, which reads as an empty name). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_max_id_values),
		cmocka_unit_test(test_max_id_step_error),
		cmocka_unit_test(test_put_str),
		cmocka_unit_test(test_put_str_out_of_memory),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
