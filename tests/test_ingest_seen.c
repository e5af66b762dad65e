/* Unit tests of the import's duplicate-ID set (src/ingest_seen.c), in the manner of git's
 * t/unit-tests/u-hashmap.c: insert and look up, duplicates with the line of the first
 * occurrence, growth through the flat table into the shards, many keys, colliding keys,
 * and out of memory at every allocation: an error, the set as it was, nothing leaked
 * (valgrind and ASan runs check the last). Lookups and repeats never allocate.
 *
 * The set's source is compiled into this file so that its calloc can be made to fail
 * (the rest of the import is not linked in). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../src/ingest_internal.h"

/* calloc that fails once `fail_in` more calls have succeeded (-1: never fails); `calls`
 * counts the calls made, failed ones included. */
static long fail_in = -1;
static long calls;

static void *failing_calloc(size_t n, size_t size)
{
	calls++;
	if (fail_in == 0)
		return NULL;
	if (fail_in > 0)
		fail_in--;
	return calloc(n, size);
}

#define calloc failing_calloc
#include "../src/ingest_seen.c"
#undef calloc

/* Flat table's last size and the ids it holds before the set moves into the shards. */
enum { FLAT_IDS = SEEN_FLAT_MAX / 8 * 7 };

/* A well-mixed 64-bit hash of i (splitmix64: distinct for distinct i). */
static uint64_t key(uint64_t i)
{
	uint64_t z = i * 0x9E3779B97F4A7C15ULL + 0x9E3779B97F4A7C15ULL;

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* Line of key i (never 0, and past 2^24 for some, which keep SEEN_EARLIER). */
static uint32_t line_of(uint64_t i)
{
	return (uint32_t)(i * 37 % 20000000u) + 2;
}

static uint32_t kept(uint32_t line)
{
	return line < SEEN_LINE_MASK ? line : SEEN_EARLIER;
}

/* Add keys [from, to) as new, each with its line. */
static void add_new(struct seen *s, uint64_t from, uint64_t to)
{
	for (uint64_t i = from; i < to; i++) {
		uint32_t first = 99;

		assert_int_equal(seen_add(s, key(i), line_of(i), &first), 0);
		assert_int_equal(first, 0);
	}
}

/* Every key of [from, to) is found with its line; keys [to, to + 1000) are not. */
static void check_holds(const struct seen *s, uint64_t from, uint64_t to)
{
	for (uint64_t i = from; i < to; i++)
		assert_int_equal(seen_find(s, key(i)), kept(line_of(i)));
	for (uint64_t i = to; i < to + 1000; i++)
		assert_int_equal(seen_find(s, key(i)), 0);
}

static void test_empty(void **state)
{
	(void)state;
	struct seen s = { 0 };

	assert_int_equal(seen_find(&s, 0), 0);
	assert_int_equal(seen_find(&s, key(1)), 0);
	seen_release(&s);
	seen_release(&s); /* released twice: still empty */
	assert_null(s.flat);
	assert_null(s.sh);
}

/* One table of adds: hash, line, the first line seen_add must report. */
static void test_insert_lookup_duplicates(void **state)
{
	(void)state;
	static const struct {
		uint64_t h;     /* hash added */
		uint32_t line;  /* at line */
		uint32_t first; /* reported: 0 new, else the first occurrence's line */
	} ADDS[] = {
		{ 0x1111, 2, 0 },
		{ 0x2222, 3, 0 },
		{ 0x1111, 4, 2 },     /* a duplicate names the first line */
		{ 0x1111, 5, 2 },     /* and keeps naming it */
		{ 0x2222, 6, 3 },
		{ 0x3333, 0xFFFFFE, 0 },  /* 2^24 - 2: kept */
		{ 0x3333, 7, 0xFFFFFE },
		{ 0x4444, 0xFFFFFF, 0 },  /* 2^24 - 1 and on: "earlier in the file" */
		{ 0x4444, 8, SEEN_EARLIER },
		{ 0x5555, 40000000, 0 },
		{ 0x5555, 9, SEEN_EARLIER },
		{ 0, 10, 0 },         /* 0 (the empty mark) is kept as 1 */
		{ 1, 11, 10 },
		{ 0, 12, 10 },
		{ UINT64_MAX, 13, 0 },
		{ UINT64_MAX, 14, 13 },
	};
	struct seen s = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(ADDS); i++) {
		uint32_t first = 99;

		assert_int_equal(seen_add(&s, ADDS[i].h, ADDS[i].line, &first), 0);
		assert_int_equal(first, ADDS[i].first);
	}
	assert_int_equal(s.fn, 7);
	assert_int_equal(seen_find(&s, 0x1111), 2);
	assert_int_equal(seen_find(&s, 0x2222), 3);
	assert_int_equal(seen_find(&s, 0x4444), SEEN_EARLIER);
	assert_int_equal(seen_find(&s, 0), 10);
	assert_int_equal(seen_find(&s, 0x6666), 0);
	seen_release(&s);
}

/* The flat table doubles from SEEN_FLAT_MIN while at most 7/8 full, then the set moves
 * into the shards; every key keeps its line through each move. */
static void test_growth(void **state)
{
	(void)state;
	struct seen s = { 0 };
	uint32_t cap = SEEN_FLAT_MIN;

	add_new(&s, 0, 1);
	assert_int_equal(s.fcap, SEEN_FLAT_MIN);
	for (uint64_t n = 1; n < FLAT_IDS; n++) {
		add_new(&s, n, n + 1);
		if (n + 1 > cap / 8 * 7) {
			cap *= 2;
		}
		assert_int_equal(s.fcap, cap);
		assert_null(s.sh);
	}
	assert_int_equal(s.fcap, SEEN_FLAT_MAX);
	assert_int_equal(s.fn, FLAT_IDS);
	check_holds(&s, 0, FLAT_IDS);
	add_new(&s, FLAT_IDS, FLAT_IDS + 1); /* one more: into the shards */
	assert_null(s.flat);
	assert_non_null(s.sh);
	check_holds(&s, 0, FLAT_IDS + 1);
	seen_release(&s);
}

/* 400,000 keys (the shards grow many times), each found, then each a duplicate. */
static void test_many_keys(void **state)
{
	(void)state;
	enum { N = 400000 };
	struct seen s = { 0 };
	uint64_t n = 0;

	add_new(&s, 0, N);
	check_holds(&s, 0, N);
	for (uint64_t i = 0; i < N; i += 3) {
		uint32_t first = 0;

		assert_int_equal(seen_add(&s, key(i), 1, &first), 0);
		assert_int_equal(first, kept(line_of(i)));
	}
	for (uint32_t i = 0; i < SEEN_SHARDS; i++)
		n += s.sh[i].n;
	assert_int_equal(n, N); /* the repeats added nothing */
	seen_release(&s);
}

/* Colliding hashes. In the flat table, keys sharing their low bits probe past each other
 * and stay apart (the whole hash is compared). In the shards, a key is its top 52 bits:
 * keys differing only in the low 12 bits are one (the documented chance of a false
 * duplicate, n^2 / 2^53), while keys of one shard and one home slot stay apart. */
static void test_collisions(void **state)
{
	(void)state;
	struct seen s = { 0 };
	uint32_t first;

	/* 1,000 keys of one home slot in the flat table */
	for (uint64_t i = 1; i <= 1000; i++) {
		assert_int_equal(seen_add(&s, i << 32 | 7, (uint32_t)i + 1, &first), 0);
		assert_int_equal(first, 0);
	}
	for (uint64_t i = 1; i <= 1000; i++)
		assert_int_equal(seen_find(&s, i << 32 | 7), i + 1);
	assert_int_equal(seen_add(&s, 0xABCDE000, 5000, &first), 0);
	assert_int_equal(seen_add(&s, 0xABCDE001, 5001, &first), 0);
	assert_int_equal(first, 0); /* flat: low bits count */
	seen_release(&s);

	/* sharded: fill past the flat table, then collide */
	add_new(&s, 0, FLAT_IDS + 1);
	assert_non_null(s.sh);
	uint64_t h = UINT64_C(0x123) << 52 | UINT64_C(0x456789ABC) << 12;

	assert_int_equal(seen_add(&s, h, 70000, &first), 0);
	assert_int_equal(first, 0);
	assert_int_equal(seen_add(&s, h | 0xFFF, 70001, &first), 0);
	assert_int_equal(first, 70000); /* same top 52 bits: taken for one */
	/* one shard (0x123), one home slot (fingerprint's top bits), different fingerprints */
	for (uint64_t i = 1; i <= 200; i++) {
		assert_int_equal(seen_add(&s, h + (i << 12), 70001 + (uint32_t)i, &first), 0);
		assert_int_equal(first, 0);
	}
	for (uint64_t i = 1; i <= 200; i++)
		assert_int_equal(seen_find(&s, h + (i << 12)), 70001 + i);
	check_holds(&s, 0, FLAT_IDS + 1);
	seen_release(&s);
}

/* Out of memory at each allocation of a run of adds that goes through the flat table's
 * growths, the move into the shards and the shards' growths: the failing add returns
 * -MB_ENOMEM, reports no line, and leaves the set as it was (every key before it found,
 * it not); the same add then succeeds once memory is back. */
static void test_out_of_memory(void **state)
{
	(void)state;
	enum { N = FLAT_IDS + 20000 };
	long total;
	struct seen s = { 0 };

	calls = 0;
	add_new(&s, 0, N);
	total = calls;
	seen_release(&s);
	assert_true(total > 8);
	for (long k = 0; k < total; k++) {
		uint64_t i = 0;
		int r = 0;
		uint32_t first = 0;

		memset(&s, 0, sizeof(s));
		fail_in = k;
		for (; i < N && !r; i++) {
			first = 99;
			r = seen_add(&s, key(i), line_of(i), &first);
		}
		fail_in = -1;
		assert_int_equal(r, -MB_ENOMEM);
		assert_int_equal(first, 0);
		i--; /* the key that failed */
		check_holds(&s, 0, i);
		assert_int_equal(seen_add(&s, key(i), line_of(i), &first), 0);
		assert_int_equal(first, 0);
		check_holds(&s, 0, i + 1);
		add_new(&s, i + 1, i + 100 < N ? i + 100 : N);
		seen_release(&s);
	}
}

/* Paths that must not allocate: lookups, and repeats of keys held while the table has
 * room, succeed with every allocation failing. */
static void test_no_allocation_paths(void **state)
{
	(void)state;
	struct seen s = { 0 };
	uint32_t first;

	add_new(&s, 0, 1000); /* flat, far from full */
	fail_in = 0;
	calls = 0;
	for (uint64_t i = 0; i < 1000; i++) {
		assert_int_equal(seen_find(&s, key(i)), kept(line_of(i)));
		assert_int_equal(seen_add(&s, key(i), 5, &first), 0);
		assert_int_equal(first, kept(line_of(i)));
	}
	assert_int_equal(seen_find(&s, key(5000)), 0);
	assert_int_equal(calls, 0);
	fail_in = -1;
	seen_release(&s);

	add_new(&s, 0, FLAT_IDS + 1); /* sharded */
	fail_in = 0;
	calls = 0;
	for (uint64_t i = 0; i < FLAT_IDS + 1; i += 7)
		assert_int_equal(seen_find(&s, key(i)), kept(line_of(i)));
	assert_int_equal(calls, 0);
	fail_in = -1;
	seen_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_insert_lookup_duplicates),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_collisions),
		cmocka_unit_test(test_out_of_memory),
		cmocka_unit_test(test_no_allocation_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
