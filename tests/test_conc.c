/*
 * Unit tests for conc: every figure is checked against published values (the
 * lorenzgini R package documentation, Bernasco & Steenbeek 2017), hand
 * computation (the arithmetic is in the comment) or values computed
 * independently with Python 3.11 + numpy 1.24 + scipy 1.10 (Debian 12's
 * python3-numpy / python3-scipy; the code is quoted above the constants).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "microbeat/conc.h"

/* Assert |got - want| <= tol * max(1, |want|) (relative, absolute near 0). */
#define assert_near(got, want, tol) \
	assert_true(near_ok((got), (want), (tol), #got, __LINE__))

/* Compare with a mixed relative/absolute tolerance; print on failure. */
static int near_ok(double got, double want, double tol, const char *what, int line)
{
	double scale = fabs(want) > 1.0 ? fabs(want) : 1.0;

	if (isnan(want) && isnan(got))
		return 1;
	if (fabs(got - want) <= tol * scale)
		return 1;
	print_error("line %d: %s = %.17g, want %.17g (tol %g)\n", line, what, got, want, tol);
	return 0;
}

/* Parameters with no bootstrap and no Monte Carlo (deterministic figures only). */
static struct conc_params quick_params(void)
{
	struct conc_params p;

	conc_params_init(&p);
	p.boot_draws = 0;
	p.chance_draws = 0;
	return p;
}

/* Run conc_compute and assert success. */
static struct conc_result *compute(const double *x, const double *prev, size_t n,
				   const struct conc_params *p)
{
	struct conc_result *r = NULL;
	struct mb_error err = { 0, "" };
	int rc = conc_compute(x, prev, n, p, &r, &err);

	if (rc)
		print_error("conc_compute: %s\n", err.msg);
	assert_int_equal(rc, 0);
	assert_non_null(r);
	return r;
}

/* ---- 1. Gini and generalised Gini: published values ---------------------- */

/* A Gini test vector: first nz counts given, the rest (to n) zero. */
struct gini_case {
	double head[10];   /* leading counts */
	size_t nz;         /* how many of head are used */
	size_t n;          /* N, the universe */
	double g;          /* expected G */
	double ggen;       /* expected G' */
	double gbc;        /* expected bias-corrected G' (NaN when undefined) */
	double tol;        /* absolute tolerance */
};

/*
 * Published values (lorenzgini R package by Bernasco & Steenbeek) to the
 * decimals printed there, each also computed by hand; G' and the bias
 * correction where not published are hand computed:
 *  (10,8,2,0x7): G = 2(8·2 + 9·8 + 10·10)/(10·20) − 11/10 = 0.78; N/C = 0.5
 *      so G' = G; m = min(10,20) = 10, bc = 0.78·10/9 = 0.86667
 *  (5,2,1,0x7): G = 2(8·1 + 9·2 + 10·5)/80 − 1.1 = 0.80; G' = 1.25(0.8−1)+1
 *      = 0.75; m = 8, bc = 0.75·8/7 = 0.857143
 *  (10,0x9): G = 2·10·10/100 − 1.1 = 0.9; N/C = 1, G' = 0.9; m = 10, bc = 1
 *  (10,0x99): G = 2·100·10/1000 − 1.01 = 0.99; G' = 10(0.99−1)+1 = 0.9;
 *      m = min(100,10) = 10, bc = 1
 *  (22,18,17,12,11,8,6,3,2,1): G = 2·746/1000 − 1.1 = 0.392 (C = 100 > N,
 *      G' = G); m = 10, bc = 0.392·10/9 = 0.435556
 */
static const struct gini_case gini_cases[] = {
	{ { 10, 8, 2 }, 3, 10, 0.78, 0.78, 0.8667, 5e-5 },
	{ { 5, 2, 1 }, 3, 10, 0.80, 0.75, 0.8571, 5e-5 },
	{ { 10 }, 1, 10, 0.90, 0.90, 1.0, 1e-12 },
	{ { 10 }, 1, 100, 0.99, 0.90, 1.0, 1e-12 },
	{ { 22, 18, 17, 12, 11, 8, 6, 3, 2, 1 }, 10, 10, 0.392, 0.392, 0.392 * 10 / 9, 1e-12 },
};

/* Table-driven: Gini, generalised Gini and its bias correction. */
static void test_gini_published(void **state)
{
	struct conc_params p = quick_params();

	(void)state;
	for (size_t t = 0; t < sizeof(gini_cases) / sizeof(gini_cases[0]); t++) {
		const struct gini_case *gc = &gini_cases[t];
		double *x = calloc(gc->n, sizeof(*x));
		struct conc_result *r;

		assert_non_null(x);
		/* put the counts at the end, in scrambled order: the result must not
		 * depend on where the streets sit in the array */
		for (size_t i = 0; i < gc->nz; i++)
			x[gc->n - 1 - (i * 7) % gc->n] = gc->head[i];
		r = compute(x, NULL, gc->n, &p);
		assert_near(r->gini, gc->g, gc->tol);
		assert_near(r->gini_gen, gc->ggen, gc->tol);
		assert_near(r->gini_gen_bc, gc->gbc, gc->tol);
		conc_result_free(r);
		free(x);
	}
}

/* ---- 2. Shares, bandwidth, crime-free, Lorenz: hand computed ------------- */

/* N = 20, C = 25, 7 active: sorted descending 9,5,4,3,2,1,1 then 13 zeros. */
static const double small20[20] = { 9, 0, 5, 3, 0, 1, 0, 0, 2, 0, 0, 0, 1, 0, 0, 4, 0, 0, 0, 0 };

/* Top-p shares, bandwidth, crime-free share, Gini and Lorenz of small20. */
static void test_small_vector(void **state)
{
	struct conc_params p = quick_params();
	struct conc_result *r;
	/* top n = ceil(p·20/100): 1%,3%,5% -> 1; 10% -> 2; 20% -> 4 */
	static const size_t want_n[CONC_NPCT] = { 1, 1, 1, 2, 4 };
	/* 9/25, 9/25, 9/25, (9+5)/25, (9+5+4+3)/25 */
	static const double want_share[CONC_NPCT] = { 0.36, 0.36, 0.36, 0.56, 0.84 };
	/* cumulative top-k sums / 25 for k = 0..20 (N + 1 points since N < 100) */
	static const double want_lorenz[21] = { 0, 0.36, 0.56, 0.72, 0.84, 0.92, 0.96, 1, 1, 1, 1,
						1, 1, 1, 1, 1, 1, 1, 1, 1, 1 };

	(void)state;
	r = compute(small20, NULL, 20, &p);
	assert_int_equal(r->n_streets, 20);
	assert_int_equal(r->n_active, 7);
	assert_near(r->crimes, 25, 0);
	for (int j = 0; j < CONC_NPCT; j++) {
		assert_int_equal(r->top_n[j], want_n[j]);
		assert_near(r->top_share[j], want_share[j], 1e-15);
	}
	assert_near(r->crime_free_share, 13.0 / 20, 1e-15);
	/* 25% of 25 = 6.25 <= 9 (k = 1); 50% = 12.5 <= 9+5 (k = 2) */
	assert_int_equal(r->band25_k, 1);
	assert_int_equal(r->band50_k, 2);
	assert_near(r->band25, 0.05, 1e-15);
	assert_near(r->band50, 0.10, 1e-15);
	/* ascending ranks 14..20 hold 1,1,2,3,4,5,9: Σ i·x = 459,
	 * G = 2·459/(20·25) − 21/20 = 0.786; C > N so G' = G; m = 20:
	 * bc = 0.786·20/19 = 0.827368421 (numpy: pairwise |xi−xj| gives 0.786 too) */
	assert_near(r->gini, 0.786, 1e-12);
	assert_near(r->gini_gen, 0.786, 1e-12);
	assert_near(r->gini_gen_bc, 0.786 * 20 / 19, 1e-12);
	assert_int_equal(r->lorenz.n, 21);
	for (size_t j = 0; j < 21; j++) {
		assert_int_equal(r->lorenz.k[j], j);
		assert_near(r->lorenz.streets[j], j / 20.0, 1e-15);
		assert_near(r->lorenz.crime[j], want_lorenz[j], 1e-12);
		assert_true(isnan(r->lorenz.chance[j])); /* chance draws skipped */
	}
	assert_true(isnan(r->gini_gen_lo));
	assert_int_equal(r->boot_draws, 0);
	assert_int_equal(r->chance.draws, 0);
	assert_false(r->stab.present);
	conc_result_free(r);
}

/* Bandwidth is "at least" 25% / 50%: exact hits count, and ties do not matter. */
static void test_bandwidth_exact(void **state)
{
	struct conc_params p = quick_params();
	/* (5,3,2): C = 10; 2.5 <= 5 and 5 <= 5, so k = 1 for both */
	static const double a[3] = { 2, 5, 3 };
	/* (2,2,2,2): C = 8; 2 >= 2 (k = 1), 4 >= 4 (k = 2) */
	static const double b[4] = { 2, 2, 2, 2 };
	struct conc_result *r;

	(void)state;
	r = compute(a, NULL, 3, &p);
	assert_int_equal(r->band25_k, 1);
	assert_int_equal(r->band50_k, 1);
	assert_near(r->band50, 1.0 / 3, 1e-15);
	conc_result_free(r);
	r = compute(b, NULL, 4, &p);
	assert_int_equal(r->band25_k, 1);
	assert_int_equal(r->band50_k, 2);
	assert_near(r->gini, 0, 1e-15); /* perfectly even */
	assert_near(r->crime_free_share, 0, 0);
	conc_result_free(r);
}

/* Lorenz sampling when N exceeds the number of segments: k_j = ceil(j·N/segs). */
static void test_lorenz_sampling(void **state)
{
	struct conc_params p = quick_params();
	double x[7] = { 1, 2, 3, 4, 5, 6, 7 }; /* C = 28, descending 7,6,5,4,3,2,1 */
	struct conc_result *r;
	/* segs = 3: k = 0, ceil(7/3) = 3, ceil(14/3) = 5, 7 */
	static const size_t want_k[4] = { 0, 3, 5, 7 };
	static const double want_y[4] = { 0, 18.0 / 28, 25.0 / 28, 1 };

	(void)state;
	p.lorenz_points = 3;
	r = compute(x, NULL, 7, &p);
	assert_int_equal(r->lorenz.n, 4);
	for (size_t j = 0; j < 4; j++) {
		assert_int_equal(r->lorenz.k[j], want_k[j]);
		assert_near(r->lorenz.streets[j], want_k[j] / 7.0, 1e-15);
		assert_near(r->lorenz.crime[j], want_y[j], 1e-15);
	}
	conc_result_free(r);
}

/* ---- 3. Ranking helper ---------------------------------------------------- */

/* conc_top_count: ceil(p·N/100) computed in integers. */
static void test_top_count(void **state)
{
	static const struct { size_t n; int pct; size_t want; } t[] = {
		{ 800000, 3, 24000 }, /* exact multiple: no rounding up */
		{ 100, 1, 1 },  { 101, 1, 2 }, { 1, 1, 1 },   { 0, 3, 0 },
		{ 33, 3, 1 },   /* 0.99 -> 1 */
		{ 34, 3, 2 },   /* 1.02 -> 2 */
		{ 10, 20, 2 },  { 10, 100, 10 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(conc_top_count(t[i].n, t[i].pct), t[i].want);
}

/* conc_rank_top orders by count descending then index ascending. */
static void test_rank_top(void **state)
{
	static const double x[5] = { 1, 3, 3, 0, 3 };
	struct mb_error err = { 0, "" };
	size_t *idx = NULL, n = 99;

	(void)state;
	/* 40% of 5 = 2: the three 3s tie, the two lowest indices win */
	assert_int_equal(conc_rank_top(x, 5, 40, &idx, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(idx[0], 1);
	assert_int_equal(idx[1], 2);
	free(idx);
	/* 100%: 1, 2, 4 (the 3s), 0 (the 1), 3 (the 0) */
	assert_int_equal(conc_rank_top(x, 5, 100, &idx, &n, &err), 0);
	assert_int_equal(n, 5);
	{
		static const size_t want[5] = { 1, 2, 4, 0, 3 };

		for (size_t i = 0; i < 5; i++)
			assert_int_equal(idx[i], want[i]);
	}
	free(idx);
	/* 1% of 5 rounds up to 1 */
	assert_int_equal(conc_rank_top(x, 5, 1, &idx, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(idx[0], 1);
	free(idx);
	/* empty universe */
	assert_int_equal(conc_rank_top(NULL, 0, 3, &idx, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_null(idx);
	/* bad percentage and bad counts */
	assert_int_equal(conc_rank_top(x, 5, 0, &idx, &n, &err), -MB_EUSAGE);
	assert_int_equal(err.code, MB_EUSAGE);
	{
		static const double bad[3] = { 1, -1, 2 };

		assert_int_equal(conc_rank_top(bad, 3, 3, &idx, &n, &err), -MB_EDATA);
		assert_null(idx);
	}
}

/* The reference order for test_rank_paths: count descending, index ascending. */
static const double *ref_x;

static int ref_cmp(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;

	if (ref_x[i] != ref_x[j])
		return ref_x[i] > ref_x[j] ? -1 : 1;
	return (i > j) - (i < j);
}

/* conc_rank_top's two sorts (a counting sort when every count is a small
 * whole number, a radix sort otherwise) each give qsort's order of (count
 * descending, index ascending): whole counts with many ties, whole counts
 * with one past the counting sort's table, fractions, zeros and -0.0. */
static void test_rank_paths(void **state)
{
	enum { N = 5000 };
	static double x[N];
	static size_t want[N];
	struct mb_error err = { 0, "" };
	uint64_t seed = 12345;

	(void)state;
	for (int kind = 0; kind < 4; kind++) {
		size_t *idx = NULL, n = 0;

		for (size_t i = 0; i < N; i++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			uint32_t r = (uint32_t)(seed >> 33);

			x[i] = kind == 2 ? (double)(r % 1000) / 7.0 : (double)(r % 40);
			if (kind == 3 && i % 3 == 0)
				x[i] = (i % 2) ? -0.0 : 0.0;
			want[i] = i;
		}
		if (kind == 1)
			x[N / 2] = 1e9; /* past n + 65536: the radix sort */
		ref_x = x;
		qsort(want, N, sizeof(want[0]), ref_cmp);
		assert_int_equal(conc_rank_top(x, N, 100, &idx, &n, &err), 0);
		assert_int_equal(n, N);
		for (size_t i = 0; i < N; i++)
			if (idx[i] != want[i]) {
				print_error("kind %d: position %zu is %zu, want %zu\n", kind, i, idx[i],
					    want[i]);
				fail();
			}
		free(idx);
	}
}

/* Fractional (harm-weighted) counts sort by value, not by integer part. */
/* One conc_hot_list case: counts, p, and the list written by hand. */
struct hot_case {
	size_t n;          /* streets */
	double x[10];      /* counts */
	int pct;           /* --top P */
	size_t nominal;    /* n = ceil(pN/100) less zero counts */
	size_t nlist;      /* with the ties */
	size_t want[10];   /* the list */
};

/* The power-few list keeps n = ceil(pN/100) and adds every street tied with
 * the n-th (issue 15 §5: 4 of 8 tied streets were dropped by file order). */
static void test_hot_list_ties(void **state)
{
	static const struct hot_case cases[] = {
		/* 40% of 5 = 2: the 2nd is one of three 3s -> all three, index order */
		{ 5, { 1, 3, 3, 0, 3 }, 40, 2, 3, { 1, 2, 4 } },
		/* 20% of 10 = 2: 5 then the 3s at 2, 5, 7 */
		{ 10, { 1, 0, 3, 5, 0, 3, 0, 3, 0, 1 }, 20, 2, 4, { 3, 2, 5, 7 } },
		/* no tie at the cut-off: 30% of 10 = 3 = {9, 7, 5} */
		{ 10, { 9, 7, 5, 4, 4, 0, 0, 0, 0, 0 }, 30, 3, 3, { 0, 1, 2 } },
		/* fewer active streets than n: zeros never listed, never "tied" */
		{ 5, { 0, 2, 0, 0, 0 }, 60, 1, 1, { 1 } },
		/* all zero: nothing */
		{ 4, { 0, 0, 0, 0 }, 50, 0, 0, { 0 } },
		/* 1% of 3 = 1: all three tie */
		{ 3, { 2, 2, 2 }, 1, 1, 3, { 0, 1, 2 } },
	};
	struct mb_error err = { 0, "" };

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct hot_case *k = &cases[c];
		size_t *idx = NULL, nl = 99, nn = 99;

		assert_int_equal(conc_hot_list(k->x, k->n, k->pct, &idx, &nl, &nn, &err), 0);
		if (nn != k->nominal || nl != k->nlist)
			fail_msg("case %zu: n %zu list %zu, want %zu and %zu", c, nn, nl, k->nominal,
				 k->nlist);
		for (size_t i = 0; i < nl; i++)
			if (idx[i] != k->want[i])
				fail_msg("case %zu row %zu: %zu, want %zu", c, i, idx[i], k->want[i]);
		free(idx);
	}
	{
		size_t *idx = NULL, nl, nn;

		assert_int_equal(conc_hot_list(cases[0].x, 5, 0, &idx, &nl, &nn, &err), -MB_EUSAGE);
		assert_null(idx);
	}
}

static void test_rank_weighted(void **state)
{
	static const double x[6] = { 2.5, 2.25, 0.0, 1e-300, 2.5, 365.25 };
	static const size_t want[6] = { 5, 0, 4, 1, 3, 2 };
	struct mb_error err = { 0, "" };
	size_t *idx = NULL, n = 0;

	(void)state;
	assert_int_equal(conc_rank_top(x, 6, 100, &idx, &n, &err), 0);
	assert_int_equal(n, 6);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(idx[i], want[i]);
	free(idx);
}

/* ---- 4. Stability --------------------------------------------------------- */

/*
 * Generated and checked with numpy/scipy:
 *   rng = np.random.default_rng(7)
 *   cur = rng.poisson(1.5, 40); prev = rng.poisson(1.5, 40)
 *   cur[[3,17]] += [6,6]; prev[[3,25]] += [7,5]
 *   stats.spearmanr(cur, prev).statistic  -> 0.10777318531524462
 *   top(x,p): sorted(range(n), key=lambda i: (-x[i], i))[:(n*p+99)//100],
 *             dropping zero counts
 *   p = 3 (n = 2): cur {17, 3}, prev {3, 25}: Jaccard 1/3
 *   p = 10 (n = 4): cur {17, 3, 5, 29} (5 and 29 tie at 4), prev {3, 25, 29, 17}:
 *             Jaccard 3/5; persistent 3, 17, 29; emerging 5; former 25
 */
static const double stab_cur[40] = { 3, 2, 3, 7, 2, 4, 0, 1, 0, 2, 2, 1, 0, 1, 1, 1, 2, 9, 3, 1,
				     1, 0, 3, 3, 1, 1, 1, 1, 2, 4, 0, 2, 3, 1, 0, 3, 1, 1, 0, 3 };
static const double stab_prev[40] = { 2, 2, 2, 8, 2, 2, 3, 1, 1, 2, 1, 3, 3, 2, 1, 2, 1, 4, 1, 0,
				      0, 2, 2, 1, 3, 5, 0, 3, 0, 5, 0, 0, 1, 0, 1, 1, 1, 2, 3, 1 };

/* Jaccard, Spearman and classes against the scipy values above. */
static void test_stability(void **state)
{
	struct conc_params p = quick_params();
	struct conc_result *r;

	(void)state;
	r = compute(stab_cur, stab_prev, 40, &p); /* default stab_pct = 3 */
	assert_true(r->stab.present);
	assert_int_equal(r->stab.pct, 3);
	assert_int_equal(r->stab.n_nominal, 2);
	assert_int_equal(r->stab.n_cur, 2);
	assert_int_equal(r->stab.n_prev, 2);
	assert_int_equal(r->stab.n_both, 1);
	assert_int_equal(r->stab.n_union, 3);
	assert_near(r->stab.jaccard, 1.0 / 3, 1e-15);
	assert_near(r->stab.spearman, 0.10777318531524462, 1e-12);
	assert_near(r->stab.prev_crimes, 74, 0); /* sum(prev) */
	assert_int_equal(r->stab.cls[3], CONC_CLASS_PERSISTENT);
	assert_int_equal(r->stab.cls[17], CONC_CLASS_EMERGING);
	assert_int_equal(r->stab.cls[25], CONC_CLASS_FORMER);
	assert_int_equal(r->stab.cls[29], CONC_CLASS_NONE);
	conc_result_free(r);

	p.stab_pct = 10;
	r = compute(stab_cur, stab_prev, 40, &p);
	assert_int_equal(r->stab.n_nominal, 4);
	assert_int_equal(r->stab.n_both, 3);
	assert_int_equal(r->stab.n_emerging, 1);
	assert_int_equal(r->stab.n_former, 1);
	assert_near(r->stab.jaccard, 0.6, 1e-15);
	for (size_t i = 0; i < 40; i++) {
		int want = CONC_CLASS_NONE;

		if (i == 3 || i == 17 || i == 29)
			want = CONC_CLASS_PERSISTENT;
		else if (i == 5)
			want = CONC_CLASS_EMERGING;
		else if (i == 25)
			want = CONC_CLASS_FORMER;
		assert_int_equal(r->stab.cls[i], want);
	}
	conc_result_free(r);
}

/* Spearman without ties against the textbook formula; constant side gives NaN;
 * a zero-count street never joins a hot set. */
static void test_stability_edges(void **state)
{
	struct conc_params p = quick_params();
	/* ranks (desc) a: 5,4,3,2,1 for values 1..5; b reversed except a swap:
	 * d = rank differences; rho = 1 − 6Σd²/(n(n²−1)) by hand:
	 * a = (1,2,3,4,5), b = (5,4,3,1,2): desc ranks a = (5,4,3,2,1),
	 * b = (1,2,3,5,4); d = (4,2,0,−3,−3), Σd² = 38, rho = 1 − 228/120 = −0.9 */
	static const double a[5] = { 1, 2, 3, 4, 5 };
	static const double b[5] = { 5, 4, 3, 1, 2 };
	static const double zero[5] = { 0, 0, 0, 0, 0 };
	static const double one[5] = { 0, 0, 7, 0, 0 };
	struct conc_result *r;

	(void)state;
	r = compute(a, b, 5, &p);
	assert_near(r->stab.spearman, -0.9, 1e-12);
	conc_result_free(r);

	/* previous period all zero: empty former set, ranks constant */
	r = compute(a, zero, 5, &p);
	assert_true(isnan(r->stab.spearman));
	assert_int_equal(r->stab.n_prev, 0);
	assert_int_equal(r->stab.n_cur, 1);
	assert_near(r->stab.jaccard, 0, 0);
	conc_result_free(r);

	/* 40% of 5 = 2 nominal hot streets, but only one street has crime */
	p.stab_pct = 40;
	r = compute(one, one, 5, &p);
	assert_int_equal(r->stab.n_nominal, 2);
	assert_int_equal(r->stab.n_cur, 1);
	assert_int_equal(r->stab.n_both, 1);
	assert_near(r->stab.jaccard, 1, 0);
	assert_int_equal(r->stab.cls[2], CONC_CLASS_PERSISTENT);
	assert_int_equal(r->stab.cls[0], CONC_CLASS_NONE);
	assert_near(r->stab.spearman, 1, 1e-12);
	conc_result_free(r);

	/* both empty: Jaccard undefined */
	r = compute(zero, zero, 5, &p);
	assert_true(isnan(r->stab.jaccard));
	conc_result_free(r);
}

/* ---- 5. Chance: analytic Poisson and Monte Carlo -------------------------- */

/*
 * Independent references for the Poisson approximation, by other formulas:
 *   top share: (1/λ)·∫_{1−q}^{1} F⁻¹(u) du, midpoint rule on 2e6 points of
 *     stats.poisson.ppf (the quantile function, not our tail formula)
 *   Gini: (N−1)/N · E|X−Y| / (2λ) with E|X−Y| = Σ_j Σ_k p_j p_k |j−k| from
 *     stats.poisson.pmf (the pair sum, not our Σ F(1−F) identity)
 */
static const struct {
	double lambda; /* Poisson mean */
	size_t n;      /* N */
	double q;      /* fraction of streets */
	double top;    /* expected share of the top fraction q */
	double gini;   /* expected G */
} pois_ref[] = {
	{ 7.5, 800000, 0.03, 0.05728714, 0.20427345115185588 },
	{ 100, 10000, 0.03, 0.03700950315, 0.056378024977617104 },
	{ 100, 10000, 0.20, 0.228377657, 0.056378024977617104 },
	{ 0.3, 1000, 0.03, 0.21293964999999998, 0.7707201309987944 },
	{ 2.0, 1000, 0.01, 0.0329621925, 0.38536700796569556 },
};

/* conc_poisson_top_share / conc_poisson_gini against the scipy references. */
static void test_poisson_analytic(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(pois_ref) / sizeof(pois_ref[0]); i++) {
		assert_near(conc_poisson_top_share(pois_ref[i].lambda, pois_ref[i].q),
			    pois_ref[i].top, 2e-7);
		assert_near(conc_poisson_gini(pois_ref[i].lambda, pois_ref[i].n),
			    pois_ref[i].gini, 1e-9);
	}
	assert_near(conc_poisson_top_share(3, 1), 1, 1e-12);
	assert_near(conc_poisson_top_share(3, 0), 0, 0);
	assert_true(isnan(conc_poisson_top_share(0, 0.5)));
	assert_true(isnan(conc_poisson_top_share(2, 1.5)));
	assert_true(isnan(conc_poisson_gini(0, 10)));
	assert_true(isnan(conc_poisson_gini(2, 0)));
	/* one street: a sample of one has G = 0 whatever λ */
	assert_near(conc_poisson_gini(5, 1), 0, 0);
}

/*
 * Large λ: 1,000,000 crimes on 10,000 streets (λ = 100). The Monte Carlo mean
 * must agree with the analytic Poisson values (0.056378, 0.0370095 above) and
 * with an independent numpy Monte Carlo:
 *   rng.multinomial(10**6, [1e-4]*10**4), 100 draws: mean G 0.0563536
 *   (sd 0.000385), mean top-3% share 0.0370049 (sd 0.0000957)
 */
static void test_chance_large_lambda(void **state)
{
	struct conc_params p = quick_params();
	double *x = malloc(10000 * sizeof(*x));
	struct conc_result *r;

	(void)state;
	assert_non_null(x);
	for (size_t i = 0; i < 10000; i++)
		x[i] = 100; /* perfectly even: observed G = 0, top 3% = 0.03 */
	p.chance_draws = 200;
	r = compute(x, NULL, 10000, &p);
	assert_int_equal(r->chance.crimes, 1000000);
	assert_int_equal(r->chance.draws, 200);
	assert_near(r->chance.lambda, 100, 0);
	assert_near(r->chance.gini_mean, 0.0563536, 2e-4);
	assert_near(r->chance.gini_mean, r->chance.gini_poisson, 2e-4);
	assert_near(r->chance.gini_poisson, 0.056378024977617104, 1e-9);
	assert_near(r->chance.top_mean[CONC_TOP3], 0.0370049, 5e-5);
	assert_near(r->chance.top_mean[CONC_TOP3], r->chance.top_poisson[CONC_TOP3], 5e-5);
	/* percentiles bracket the mean, about ±2 sd */
	assert_true(r->chance.gini_lo < r->chance.gini_mean);
	assert_true(r->chance.gini_hi > r->chance.gini_mean);
	assert_near(r->chance.gini_hi - r->chance.gini_lo, 4 * 0.000385, 4e-4);
	/* excess = observed − expected; observed G = 0, top-3% share = 300·100/1e6 */
	assert_near(r->chance.gini_excess, -r->chance.gini_mean, 1e-15);
	assert_near(r->top_share[CONC_TOP3], 0.03, 1e-15);
	assert_near(r->chance.top_excess[CONC_TOP3], 0.03 - r->chance.top_mean[CONC_TOP3], 1e-15);
	assert_near(r->chance.top_excess_poisson[CONC_TOP3],
		    0.03 - r->chance.top_poisson[CONC_TOP3], 1e-15);
	/* the chance Lorenz curve lies between the observed (diagonal) and 1, and
	 * near the Poisson curve */
	for (size_t j = 0; j < r->lorenz.n; j++) {
		assert_true(r->lorenz.chance[j] >= r->lorenz.crime[j] - 1e-12);
		assert_near(r->lorenz.chance[j], r->lorenz.poisson[j], 2e-4);
	}
	conc_result_free(r);
	free(x);
}

/*
 * Exact small cases by enumeration of the multinomial:
 *  N = 3, C = 3: (3,0,0)-type 3/27, G = 2·9/9 − 4/3 = 2/3, top-1 share 1;
 *    (2,1,0)-type 18/27, G = 2(2+6)/9 − 4/3 = 4/9, top-1 2/3;
 *    (1,1,1) 6/27, G = 0, top-1 1/3.
 *    E[G] = 3/27·2/3 + 18/27·4/9 = 10/27; E[top 3%] (n = 1) = (3 + 12 + 2)/27 = 17/27;
 *    E[top 2] = (3 + 18)/27 + 6/27·2/3 = 25/27; percentiles: G 2.5% = 0
 *    (P(G = 0) = 6/27), 97.5% = 2/3 (P(G = 2/3) = 3/27); top-1 1/3 and 1.
 *  N = 2, C = 2: (2,0) or (0,2) w.p. 1/2, G = 0.5, top-1 1; (1,1) G = 0, top 1/2:
 *    E[G] = 0.25, E[top] = 0.75.
 */
static void test_chance_exact_small(void **state)
{
	struct conc_params p = quick_params();
	static const double x3[3] = { 3, 0, 0 };
	static const double x2[2] = { 1, 1 };
	struct conc_result *r;

	(void)state;
	p.chance_draws = 20000;
	r = compute(x3, NULL, 3, &p);
	assert_near(r->chance.gini_mean, 10.0 / 27, 0.01);
	assert_near(r->chance.top_mean[CONC_TOP3], 17.0 / 27, 0.01);
	assert_near(r->chance.gini_lo, 0, 1e-12);
	assert_near(r->chance.gini_hi, 2.0 / 3, 1e-12);
	assert_near(r->chance.top_lo[CONC_TOP3], 1.0 / 3, 1e-12);
	assert_near(r->chance.top_hi[CONC_TOP3], 1, 1e-12);
	assert_int_equal(r->lorenz.n, 4);
	assert_near(r->lorenz.chance[0], 0, 0);
	assert_near(r->lorenz.chance[1], 17.0 / 27, 0.01);
	assert_near(r->lorenz.chance[2], 25.0 / 27, 0.01);
	assert_near(r->lorenz.chance[3], 1, 1e-12);
	/* observed (3,0,0): G = 2/3, excess = 2/3 − 10/27 */
	assert_near(r->chance.gini_excess, 2.0 / 3 - 10.0 / 27, 0.01);
	conc_result_free(r);

	r = compute(x2, NULL, 2, &p);
	assert_near(r->chance.gini_mean, 0.25, 0.01);
	assert_near(r->chance.top_mean[CONC_TOP3], 0.75, 0.01);
	conc_result_free(r);
}

/* ---- 6. Bootstrap --------------------------------------------------------- */

/*
 * 200 streets, C = 195, generated and bootstrapped with numpy:
 *   rng = np.random.default_rng(3)
 *   x = concat(rng.poisson(0.6, 180), [12,9,9,7,6,5,5,4,4,3,3,3,2,2,2,1,1,1,1,1])
 *   G' = 0.6512557527942147; 400,000 resamples rng.integers(0, N, (.., N)):
 *   2.5% = 0.52020, 97.5% = 0.70798 (sd of G' 0.0478)
 */
static const double boot200[200] = {
	0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 0, 1, 1, 0, 2, 1, 1, 0, 1, 2, 2,
	1, 0, 0, 1, 1, 1, 1, 0, 2, 1, 1, 2, 3, 0, 0, 0, 0, 1, 0, 0, 3, 0, 1, 1, 1, 1, 1, 0, 0, 0,
	0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 3, 2, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0,
	1, 0, 0, 0, 0, 0, 1, 0, 3, 0, 1, 1, 2, 0, 0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1,
	2, 1, 0, 1, 1, 0, 0, 2, 0, 0, 1, 3, 0, 1, 0, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 2, 0, 2, 0,
	1, 0, 1, 0, 1, 1, 0, 0, 1, 0, 0, 2, 0, 0, 1, 1, 1, 3, 1, 0, 0, 2, 1, 0, 0, 2, 0, 0, 2, 0,
	12, 9, 9, 7, 6, 5, 5, 4, 4, 3, 3, 3, 2, 2, 2, 1, 1, 1, 1, 1
};

/* The bootstrap percentiles agree with numpy's (different RNG, so statistically:
 * with B = 4000 a 2.5% percentile has a standard error of about 0.002). */
static void test_bootstrap(void **state)
{
	struct conc_params p = quick_params();
	struct conc_result *r;

	(void)state;
	p.boot_draws = 4000;
	r = compute(boot200, NULL, 200, &p);
	assert_near(r->gini_gen, 0.6512557527942147, 1e-12);
	assert_int_equal(r->boot_draws, 4000);
	assert_near(r->gini_gen_lo, 0.52020, 0.01);
	assert_near(r->gini_gen_hi, 0.70798, 0.01);
	conc_result_free(r);
}

/*
 * Weighted counts with many distinct values (108 of 200, so the per-street
 * resampling path): x_i = boot200[i]·(1 + 0.001·i); numpy, 400,000
 * resamples: G' = 0.6729514876134248, 2.5% = 0.58293, 97.5% = 0.72460.
 */
static void test_bootstrap_weighted(void **state)
{
	struct conc_params p = quick_params();
	struct conc_result *r;
	double x[200];

	(void)state;
	for (size_t i = 0; i < 200; i++)
		x[i] = boot200[i] * (1 + 0.001 * (double)i);
	p.boot_draws = 4000;
	r = compute(x, NULL, 200, &p);
	assert_near(r->gini_gen, 0.6729514876134248, 1e-12);
	assert_near(r->gini_gen_lo, 0.58293, 0.01);
	assert_near(r->gini_gen_hi, 0.72460, 0.01);
	conc_result_free(r);
}

/* Same seed, same figures to the bit; another seed, other draws. */
static void test_determinism(void **state)
{
	struct conc_params p;
	struct conc_result *a, *b, *c;

	(void)state;
	conc_params_init(&p);
	p.seed = 20240401;
	p.boot_draws = 300;
	p.chance_draws = 200;
	a = compute(boot200, NULL, 200, &p);
	b = compute(boot200, NULL, 200, &p);
	assert_memory_equal(&a->chance, &b->chance, sizeof(a->chance));
	assert_true(a->gini_gen_lo == b->gini_gen_lo && a->gini_gen_hi == b->gini_gen_hi);
	assert_memory_equal(a->lorenz.chance, b->lorenz.chance, a->lorenz.n * sizeof(double));
	p.seed = 7;
	c = compute(boot200, NULL, 200, &p);
	assert_true(c->chance.gini_mean != a->chance.gini_mean);
	assert_true(c->gini_gen_lo != a->gini_gen_lo || c->gini_gen_hi != a->gini_gen_hi);
	/* deterministic figures do not depend on the seed */
	assert_true(c->gini == a->gini && c->top_share[CONC_TOP3] == a->top_share[CONC_TOP3]);
	conc_result_free(a);
	conc_result_free(b);
	conc_result_free(c);
}

/* Deferred draws (defer_chance, then conc_chance, as concentration runs them
 * on a thread): the same figures to the bit as drawn inside conc_compute, and
 * none before conc_chance runs. */
static void test_deferred_chance(void **state)
{
	struct conc_params p;
	struct conc_result *a, *b;
	struct mb_error err = { 0 };

	(void)state;
	conc_params_init(&p);
	p.seed = 20240401;
	p.chance_draws = 50;
	a = compute(boot200, NULL, 200, &p);
	p.defer_chance = 1;
	b = compute(boot200, NULL, 200, &p);
	assert_true(isnan(b->chance.gini_mean) && isnan(b->lorenz.chance[1]));
	assert_true(b->chance.top_poisson[CONC_TOP3] == a->chance.top_poisson[CONC_TOP3]);
	assert_int_equal(conc_chance(b, &p, &err), 0);
	assert_memory_equal(&a->chance, &b->chance, sizeof(a->chance));
	assert_memory_equal(a->lorenz.chance, b->lorenz.chance, a->lorenz.n * sizeof(double));
	assert_true(a->gini_gen_lo == b->gini_gen_lo && a->gini_gen_hi == b->gini_gen_hi);
	conc_result_free(b);
	/* drawn before the figures, from N and C alone (conc_chance_alone), then
	 * taken into a deferred result: the same bits again */
	{
		struct conc_result *d = NULL;
		double c = 0;

		for (size_t i = 0; i < 200; i++)
			c += boot200[i];
		assert_int_equal(conc_chance_alone(200, c, &p, &d, &err), 0);
		b = compute(boot200, NULL, 200, &p);
		assert_int_equal(conc_chance_take(b, d, &err), 0);
		assert_memory_equal(&a->chance, &b->chance, sizeof(a->chance));
		assert_memory_equal(a->lorenz.chance, b->lorenz.chance,
				    a->lorenz.n * sizeof(double));
		conc_result_free(b);
		/* draws of other streets or crimes are refused, not mixed in */
		b = compute(boot200, NULL, 199, &p);
		assert_int_equal(conc_chance_take(b, d, &err), -MB_EUSAGE);
		conc_result_free(b);
		conc_result_free(d);
		assert_int_equal(conc_chance_alone(200, c + 0.5, &p, &d, &err), -MB_EUSAGE);
		assert_null(d);
		/* no crime: nothing drawn, nothing taken */
		assert_int_equal(conc_chance_alone(200, 0, &p, &d, &err), 0);
		assert_int_equal(d->chance.draws, 0);
		conc_result_free(d);
	}
	conc_result_free(a);
}

/* The draws two at a time (conc_params.paired_streets): the same bits as one
 * at a time, whatever the mean per street. A pair whose speculation failed is
 * drawn again (redrawn counts them; seed 300 has some at 2 and 3 crimes a
 * street): a pairing that kept it would give other figures. Outside 2-10
 * crimes a street the draws go one at a time (nothing redrawn). */
static void test_chance_paired(void **state)
{
	static const double lambda[] = { 0.05, 0.5, 2, 3, 8, 10, 40 };
	struct mb_error err = { 0 };
	int redrawn = 0;

	(void)state;
	for (size_t k = 0; k < sizeof lambda / sizeof *lambda; k++) {
		struct conc_params p;
		struct conc_result *a = NULL, *b = NULL;
		size_t n = 3000;
		double c = floor(lambda[k] * (double)n);

		conc_params_init(&p);
		p.seed = 300 + k;
		p.chance_draws = 21; /* ten pairs and one alone */
		p.paired_streets = 0;
		assert_int_equal(conc_chance_alone(n, c, &p, &a, &err), 0);
		p.paired_streets = 1;
		assert_int_equal(conc_chance_alone(n, c, &p, &b, &err), 0);
		assert_int_equal(a->chance.redrawn, 0);
		if (lambda[k] < 2 || lambda[k] > 10)
			assert_int_equal(b->chance.redrawn, 0);
		redrawn += b->chance.redrawn;
		b->chance.redrawn = 0;
		assert_int_equal(b->chance.draws, 21);
		assert_memory_equal(&a->chance, &b->chance, sizeof(a->chance));
		assert_memory_equal(a->lorenz.chance, b->lorenz.chance, a->lorenz.n * sizeof(double));
		conc_result_free(a);
		conc_result_free(b);
	}
	assert_true(redrawn > 0);
}

/* ---- 7. Edge cases and errors ---------------------------------------------- */

/* N = 0, C = 0, N = 1: documented values and NaN, no division by zero. */
static void test_edges(void **state)
{
	struct conc_params p;
	static const double zeros[5] = { 0, 0, 0, 0, 0 };
	static const double one[1] = { 4 };
	static const double none[1] = { 0 };
	struct conc_result *r;

	(void)state;
	conc_params_init(&p); /* with bootstrap and Monte Carlo on */
	p.boot_draws = 50;
	p.chance_draws = 50;

	r = compute(NULL, NULL, 0, &p);
	assert_int_equal(r->n_streets, 0);
	assert_int_equal(r->n_active, 0);
	assert_near(r->crimes, 0, 0);
	for (int j = 0; j < CONC_NPCT; j++) {
		assert_int_equal(r->top_n[j], 0);
		assert_true(isnan(r->top_share[j]));
	}
	assert_true(isnan(r->crime_free_share));
	assert_true(isnan(r->band50) && r->band50_k == 0);
	assert_true(isnan(r->gini) && isnan(r->gini_gen) && isnan(r->gini_gen_bc));
	assert_true(isnan(r->gini_gen_lo));
	assert_true(isnan(r->chance.gini_mean) && isnan(r->chance.gini_poisson));
	assert_int_equal(r->lorenz.n, 0);
	conc_result_free(r);

	r = compute(zeros, zeros, 5, &p);
	assert_int_equal(r->n_active, 0);
	assert_near(r->crime_free_share, 1, 0);
	assert_int_equal(r->top_n[CONC_TOP3], 1);
	assert_true(isnan(r->top_share[CONC_TOP3]));
	assert_true(isnan(r->gini) && isnan(r->gini_gen));
	assert_true(isnan(r->band25));
	assert_int_equal(r->chance.crimes, 0);
	assert_int_equal(r->chance.draws, 0);
	assert_true(isnan(r->chance.top_mean[CONC_TOP3]));
	assert_int_equal(r->lorenz.n, 0);
	assert_true(r->stab.present);
	assert_true(isnan(r->stab.jaccard) && isnan(r->stab.spearman));
	conc_result_free(r);

	/* one street with 4 crimes: G = 2·4/4 − 2 = 0, G' = 0, m = 1 so no bias
	 * correction; every resample is the same street, so the interval is [0, 0];
	 * chance puts all 4 crimes on it, so G = 0 and the top share is 1 */
	r = compute(one, one, 1, &p);
	assert_near(r->gini, 0, 1e-15);
	assert_near(r->gini_gen, 0, 1e-15);
	assert_true(isnan(r->gini_gen_bc));
	assert_near(r->gini_gen_lo, 0, 1e-15);
	assert_near(r->gini_gen_hi, 0, 1e-15);
	assert_near(r->top_share[0], 1, 0);
	assert_int_equal(r->band50_k, 1);
	assert_near(r->chance.gini_mean, 0, 1e-15);
	assert_near(r->chance.top_mean[CONC_TOP3], 1, 1e-15);
	assert_near(r->chance.gini_poisson, 0, 0);
	assert_near(r->stab.jaccard, 1, 0);
	assert_true(isnan(r->stab.spearman)); /* one pair: no correlation */
	conc_result_free(r);

	r = compute(none, NULL, 1, &p);
	assert_near(r->crime_free_share, 1, 0);
	assert_true(isnan(r->gini));
	conc_result_free(r);
}

/* Weighted (harm) counts: G' and the bias correction use C and round(C). */
static void test_weighted(void **state)
{
	struct conc_params p = quick_params();
	/* (2.5, 1.5, 0, 0): C = 4; ascending ranks 3, 4 hold 1.5, 2.5:
	 * G = 2(4.5 + 10)/(4·4) − 5/4 = 0.5625; N/C = 1 so G' = G;
	 * m = min(4, round(4)) = 4: bc = 0.5625·4/3 = 0.75 */
	static const double w[4] = { 0, 2.5, 0, 1.5 };
	/* (2.6, 0, 0, 0): C = 2.6, round 3, m = 3; G = 2·4·2.6/(4·2.6) − 1.25 = 0.75;
	 * G' = (4/2.6)(0.75 − 1) + 1 = 0.6153846; bc = G'·3/2 = 0.9230769 */
	static const double w2[4] = { 2.6, 0, 0, 0 };
	struct conc_result *r;

	(void)state;
	r = compute(w, NULL, 4, &p);
	assert_near(r->gini, 0.5625, 1e-15);
	assert_near(r->gini_gen, 0.5625, 1e-15);
	assert_near(r->gini_gen_bc, 0.75, 1e-15);
	conc_result_free(r);
	r = compute(w2, NULL, 4, &p);
	assert_near(r->gini, 0.75, 1e-15);
	assert_near(r->gini_gen, 1 - 0.25 * 4 / 2.6, 1e-15);
	assert_near(r->gini_gen_bc, (1 - 0.25 * 4 / 2.6) * 1.5, 1e-15);
	conc_result_free(r);
}

/* Bad input is rejected with the right code and no result. */
static void test_errors(void **state)
{
	struct conc_params p;
	struct conc_result *r = (struct conc_result *)&p; /* must be reset to NULL */
	struct mb_error err = { 0, "" };
	static const double ok[3] = { 1, 2, 3 };
	static const double neg[3] = { 1, -2, 3 };
	double nan3[3] = { 1, 2, 3 };

	(void)state;
	conc_params_init(&p);
	nan3[2] = NAN;
	assert_int_equal(conc_compute(neg, NULL, 3, &p, &r, &err), -MB_EDATA);
	assert_null(r);
	assert_int_equal(err.code, MB_EDATA);
	assert_non_null(strstr(err.msg, "street 1"));
	assert_int_equal(conc_compute(nan3, NULL, 3, &p, &r, &err), -MB_EDATA);
	assert_int_equal(conc_compute(ok, nan3, 3, &p, &r, &err), -MB_EDATA);
	assert_non_null(strstr(err.msg, "previous"));
	p.lorenz_points = 0;
	assert_int_equal(conc_compute(ok, NULL, 3, &p, &r, &err), -MB_EUSAGE);
	conc_params_init(&p);
	p.boot_draws = -1;
	assert_int_equal(conc_compute(ok, NULL, 3, &p, &r, &err), -MB_EUSAGE);
	conc_params_init(&p);
	p.stab_pct = 0;
	assert_int_equal(conc_compute(ok, ok, 3, &p, &r, &err), -MB_EUSAGE);
	assert_null(r);
	/* NULL params means the defaults */
	assert_int_equal(conc_compute(ok, NULL, 3, NULL, &r, &err), 0);
	assert_int_equal(r->chance.draws, CONC_CHANCE_DRAWS);
	assert_int_equal(r->boot_draws, CONC_BOOT_DRAWS);
	conc_result_free(r);
	conc_result_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gini_published),
		cmocka_unit_test(test_small_vector),
		cmocka_unit_test(test_bandwidth_exact),
		cmocka_unit_test(test_lorenz_sampling),
		cmocka_unit_test(test_top_count),
		cmocka_unit_test(test_rank_top),
		cmocka_unit_test(test_rank_paths),
		cmocka_unit_test(test_hot_list_ties),
		cmocka_unit_test(test_rank_weighted),
		cmocka_unit_test(test_stability),
		cmocka_unit_test(test_stability_edges),
		cmocka_unit_test(test_poisson_analytic),
		cmocka_unit_test(test_chance_large_lambda),
		cmocka_unit_test(test_chance_exact_small),
		cmocka_unit_test(test_bootstrap),
		cmocka_unit_test(test_bootstrap_weighted),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_deferred_chance),
		cmocka_unit_test(test_chance_paired),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_weighted),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
