/* Unit tests of the foundation helpers: dict, month parsing, name normalisation, places. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "microbeat/common.h"
#include "microbeat/dict.h"
#include "microbeat/ingest.h"
#include "microbeat/places.h"

static void test_dict_put_get_truncate(void **state)
{
	(void)state;
	struct dict *d = dict_new();
	char key[32];

	assert_non_null(d);
	/* enough keys to force several grow() rehashes */
	for (uint32_t i = 1; i <= 50000; i++) {
		int n = snprintf(key, sizeof(key), "key-%u", i);

		assert_int_equal(dict_put(d, key, (size_t)n, i), 0);
	}
	assert_int_equal(dict_count(d), 50000);
	for (uint32_t i = 1; i <= 50000; i += 7) {
		int n = snprintf(key, sizeof(key), "key-%u", i);

		assert_int_equal(dict_get(d, key, (size_t)n), i);
	}
	assert_int_equal(dict_get(d, "key-0", 5), 0);
	assert_int_equal(dict_get(d, "", 0), 0);
	/* undo everything above 1000 (as after a rolled-back import) */
	assert_int_equal(dict_truncate(d, 1000), 0);
	assert_int_equal(dict_count(d), 1000);
	assert_int_equal(dict_get(d, "key-1000", 8), 1000);
	assert_int_equal(dict_get(d, "key-1001", 8), 0);
	/* binary keys with NULs are distinct by length and bytes */
	assert_int_equal(dict_put(d, "a\0b", 3, 70001), 0);
	assert_int_equal(dict_get(d, "a\0b", 3), 70001);
	assert_int_equal(dict_get(d, "a\0c", 3), 0);
	assert_int_equal(dict_get(d, "a", 1), 0);
	dict_free(d);
}

/* A dictionary past 2 MB of slots and of keys: its table and key blocks come
 * from huge-page mappings (dict.c table_alloc); every key is found after the
 * moves between them, keys longer than a block's room still go in, and
 * truncating rebuilds the large table. */
static void test_dict_large(void **state)
{
	(void)state;
	struct dict *d = dict_new();
	char key[96];
	enum { N = 150000 }; /* 256 k slots of 32 bytes = 8 MB; ~6 MB of keys */

	assert_non_null(d);
	for (uint32_t i = 1; i <= N; i++) {
		int n = snprintf(key, sizeof(key), "snap-point-%u-On or near a fairly long street", i);

		assert_int_equal(dict_put(d, key, (size_t)n, i), 0);
	}
	/* a key larger than a huge block's room gets a block of its own */
	static char big[3u << 20];

	memset(big, 'x', sizeof(big));
	assert_int_equal(dict_put(d, big, sizeof(big), N + 1), 0);
	assert_int_equal(dict_count(d), N + 1);
	assert_true(dict_bytes(d) >= (size_t)8 << 20);
	for (uint32_t i = 1; i <= N; i++) {
		int n = snprintf(key, sizeof(key), "snap-point-%u-On or near a fairly long street", i);

		assert_int_equal(dict_get(d, key, (size_t)n), i);
	}
	assert_int_equal(dict_get(d, big, sizeof(big)), N + 1);
	assert_int_equal(dict_get(d, big, sizeof(big) - 1), 0);
	assert_int_equal(dict_truncate(d, N / 2), 0);
	assert_int_equal(dict_count(d), N / 2);
	int n = snprintf(key, sizeof(key), "snap-point-%u-On or near a fairly long street", N / 2);

	assert_int_equal(dict_get(d, key, (size_t)n), N / 2);
	n = snprintf(key, sizeof(key), "snap-point-%u-On or near a fairly long street", N / 2 + 1);
	assert_int_equal(dict_get(d, key, (size_t)n), 0);
	dict_free(d);
}

/* month_parse: input, expected result (0 ok / -1), expected month index */
static const struct {
	const char *in;
	int rc;
	int32_t month;
} MONTHS[] = {
	{ "2000-01", 0, 0 },   { "2024-01", 0, 288 }, { "2025-12", 0, 311 },
	{ "2099-12", 0, 1199 }, { "2024-13", -1, 0 },  { "2024-00", -1, 0 },
	{ "1999-12", -1, 0 },  { "2024-1", -1, 0 },   { "2024/01", -1, 0 },
	{ "24-01-01", -1, 0 }, { "", -1, 0 },         { "2024-01 ", -1, 0 },
	{ "abcd-ef", -1, 0 },
};

static void test_month_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(MONTHS) / sizeof(MONTHS[0]); i++) {
		int32_t m = -5;
		int rc = month_parse(MONTHS[i].in, strlen(MONTHS[i].in), &m);

		if (rc != MONTHS[i].rc)
			fail_msg("month_parse('%s') = %d, want %d", MONTHS[i].in, rc, MONTHS[i].rc);
		if (rc == 0) {
			char back[8];

			assert_int_equal(m, MONTHS[i].month);
			month_format(m, back);
			assert_string_equal(back, MONTHS[i].in);
		}
	}
}

static const struct {
	const char *in, *want;
} NAMES[] = {
	{ "On or near High Street", "HIGH STREET" },
	{ "on or near  high   street ", "HIGH STREET" },
	{ "ON OR NEAR Parking Area", "PARKING AREA" },
	{ "  Mill\tLane  ", "MILL LANE" },
	{ "On or near St John's Road", "ST JOHN'S ROAD" },
	{ "On or near ", "" },
	{ "No location", "NO LOCATION" },
	{ "On or near Café Row", "CAFé ROW" }, /* non-ASCII bytes kept as they are */
};

static void test_normalise(void **state)
{
	(void)state;
	char out[64];

	for (size_t i = 0; i < sizeof(NAMES) / sizeof(NAMES[0]); i++) {
		size_t n = ingest_normalise_name(NAMES[i].in, strlen(NAMES[i].in), out, sizeof(out));

		assert_string_equal(out, NAMES[i].want);
		assert_int_equal(n, strlen(NAMES[i].want));
	}
	/* truncation keeps a terminated string */
	assert_int_equal(ingest_normalise_name("On or near Abcdefgh", 19, out, 4), 3);
	assert_string_equal(out, "ABC");
}

/* The compiled place list equals datasets/place_names.csv (the data). */
static void test_places_match_data(void **state)
{
	(void)state;
	FILE *f = fopen("datasets/place_names.csv", "r");
	char line[256];
	size_t n, k = 0;
	const char *const *list = places_list(&n);

	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f)); /* header */
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0])
			continue;
		assert_true(k < n);
		assert_string_equal(list[k], line);
		k++;
	}
	fclose(f);
	assert_int_equal(k, n);
	assert_true(places_is_place("SUPERMARKET"));
	assert_true(places_is_place("PARKING AREA"));
	assert_true(places_is_place("SPORTS/RECREATION AREA"));
	assert_false(places_is_place("HIGH STREET"));
	assert_false(places_is_place("SUPERMARKET ROAD"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dict_put_get_truncate),
		cmocka_unit_test(test_dict_large),
		cmocka_unit_test(test_month_parse),
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_places_match_data),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
