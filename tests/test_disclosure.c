/* Unit tests for disclosure.c: hand-worked suppression patterns, and random
 * tables checked by linear algebra (no suppressed cell is fixed by the
 * published row and column totals) independently of the bridge rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "microbeat/disclosure.h"

#define P DISCLOSE_PRIMARY
#define S DISCLOSE_SECONDARY

static void one_small_cell_gets_a_rectangle(void **state)
{
	(void)state;
	/* worked by hand: row 0 needs a partner (10, smallest), column 0 then
	 * needs one (30), row 1 then needs one (40): a 2x2 cycle */
	const int64_t v[9] = { 10, 2, 20, 30, 40, 50, 60, 70, 80 };
	const unsigned char want[9] = { S, P, 0, S, S, 0, 0, 0, 0 };
	unsigned char st[9];
	struct mb_error err = { 0 };
	assert_int_equal(disclosure_suppress(v, 3, 3, 5, st, &err), 0);
	assert_memory_equal(st, want, 9);
}

static void nothing_small_nothing_hidden_zero_shown(void **state)
{
	(void)state;
	const int64_t v[6] = { 0, 5, 9, 12, 0, 100 };
	unsigned char st[6];
	struct mb_error err = { 0 };
	assert_int_equal(disclosure_suppress(v, 2, 3, 5, st, &err), 0);
	for (int i = 0; i < 6; i++)
		assert_int_equal(st[i], 0);
	/* threshold 1 suppresses nothing */
	const int64_t w[4] = { 1, 2, 3, 4 };
	assert_int_equal(disclosure_suppress(w, 2, 2, 1, st, &err), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(st[i], 0);
}

static void two_ones_in_a_row_are_not_left_alone(void **state)
{
	(void)state;
	/* 1 + 1 = 2 would give both away: row 0 adds 50; then columns 0 and 2
	 * need partners in row 1 (20, 40); row 1 holds two then (sum 60) */
	const int64_t v[6] = { 1, 1, 50, 20, 30, 40 };
	unsigned char st[6];
	struct mb_error err = { 0 };
	assert_int_equal(disclosure_suppress(v, 2, 3, 5, st, &err), 0);
	assert_int_equal(st[0], P);
	assert_int_equal(st[1], P);
	assert_int_equal(st[2], S);
	assert_int_equal(st[3], S);
	/* column 1 holds the primary 1 alone unless row 1's 30 joins it */
	assert_int_equal(st[4], S);
}

static void ones_pinned_by_their_bounds_get_an_x(void **state)
{
	(void)state;
	/* row 0: seven 1s and 146, total 153. The sum and bridge rules are met
	 * by hiding row 1's cells beside them, but a "<5" is at least 1, and
	 * seven of them summing to 153 - 146 = 7 are each 1 (the demo's Coton).
	 * The 146 is hidden too (an "x" has no upper bound), then 90 below it
	 * (a column of one hidden cell): every cell of row 0 can move. */
	const int64_t v[24] = { 1, 1, 1, 1, 1, 1, 1, 146,
				20, 30, 40, 50, 60, 70, 80, 90,
				25, 35, 45, 55, 65, 75, 85, 95 };
	const unsigned char want[24] = { P, P, P, P, P, P, P, S,
					 S, S, S, S, S, S, S, S,
					 0, 0, 0, 0, 0, 0, 0, 0 };
	unsigned char st[24];
	struct mb_error err = { 0 };
	assert_int_equal(disclosure_suppress(v, 3, 8, 5, st, &err), 0);
	assert_memory_equal(st, want, 24);
	/* and the same bound from above: two 4s in a line summing to 8 */
	const int64_t w[6] = { 4, 4, 100, 50, 60, 70 };
	unsigned char sw[6];
	assert_int_equal(disclosure_suppress(w, 2, 3, 5, sw, &err), 0);
	assert_int_equal(sw[2], S); /* the 100 beside them hidden */
}

static void single_column_protected_by_its_total(void **state)
{
	(void)state;
	const int64_t v[4] = { 3, 50, 7, 60 };
	const unsigned char want[4] = { P, 0, S, 0 };
	unsigned char st[4];
	struct mb_error err = { 0 };
	assert_int_equal(disclosure_suppress(v, 4, 1, 5, st, &err), 0);
	assert_memory_equal(st, want, 4);
}

static void refuses_negative(void **state)
{
	(void)state;
	const int64_t v[2] = { -1, 3 };
	unsigned char st[2];
	struct mb_error err = { 0 };
	assert_int_equal(disclosure_suppress(v, 1, 2, 5, st, &err), -MB_EUSAGE);
	assert_int_equal(disclosure_suppress(v + 1, 1, 1, 0, st, &err), -MB_EUSAGE);
}

/* Rank of the m x n matrix a (row-major, destroyed) by Gaussian elimination. */
static size_t rank_of(double *a, size_t m, size_t n)
{
	size_t rank = 0;
	for (size_t c = 0; c < n && rank < m; c++) {
		size_t piv = rank;
		for (size_t r = rank; r < m; r++)
			if (fabs(a[r * n + c]) > fabs(a[piv * n + c]))
				piv = r;
		if (fabs(a[piv * n + c]) < 1e-9)
			continue;
		for (size_t k = 0; k < n; k++) {
			double t = a[rank * n + k];
			a[rank * n + k] = a[piv * n + k];
			a[piv * n + k] = t;
		}
		for (size_t r = 0; r < m; r++) {
			if (r == rank)
				continue;
			double f = a[r * n + c] / a[rank * n + c];
			for (size_t k = 0; k < n; k++)
				a[r * n + k] -= f * a[rank * n + k];
		}
		rank++;
	}
	return rank;
}

/* Rank of the totals' system over the suppressed cells idx[0..k), leaving
 * out the one at position skip (k = none). */
static size_t system_rank(size_t nr, size_t nc, const size_t *idx, size_t k, size_t skip)
{
	size_t m = nr + nc, n = k;
	double *a = calloc(m * (n ? n : 1), sizeof *a);
	size_t col = 0;
	for (size_t j = 0; j < k; j++) {
		if (j == skip)
			continue;
		a[(idx[j] / nc) * (n) + col] = 1;
		a[(nr + idx[j] % nc) * (n) + col] = 1;
		col++;
	}
	size_t rk = rank_of(a, m, n);
	free(a);
	return rk;
}

static void random_tables_leave_no_cell_determined(void **state)
{
	(void)state;
	srand(12345);
	for (int t = 0; t < 300; t++) {
		size_t nr = 2 + (size_t)(rand() % 7), nc = 2 + (size_t)(rand() % 6);
		int64_t v[64];
		unsigned char st[64];
		size_t idx[64], k = 0;
		for (size_t i = 0; i < nr * nc; i++) {
			int u = rand() % 10;
			v[i] = u < 3 ? rand() % 5 : rand() % 60; /* many small counts */
		}
		struct mb_error err = { 0 };
		assert_int_equal(disclosure_suppress(v, nr, nc, 5, st, &err), 0);
		for (size_t i = 0; i < nr * nc; i++) {
			if (v[i] >= 1 && v[i] < 5)
				assert_int_equal(st[i], P);
			if (st[i])
				idx[k++] = i;
		}
		if (!k)
			continue;
		/* a cell is fixed by the totals iff dropping its column from the
		 * system lowers the rank (every null vector is zero there); a
		 * table with fewer than 2 free cells in a line may leave it so
		 * only when every cell of the table is suppressed already */
		size_t full = system_rank(nr, nc, idx, k, k);
		for (size_t j = 0; j < k; j++) {
			size_t less = system_rank(nr, nc, idx, k, j);
			if (k < nr * nc)
				assert_int_equal(less, full);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_small_cell_gets_a_rectangle),
		cmocka_unit_test(nothing_small_nothing_hidden_zero_shown),
		cmocka_unit_test(two_ones_in_a_row_are_not_left_alone),
		cmocka_unit_test(ones_pinned_by_their_bounds_get_an_x),
		cmocka_unit_test(single_column_protected_by_its_total),
		cmocka_unit_test(refuses_negative),
		cmocka_unit_test(random_tables_leave_no_cell_determined),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
