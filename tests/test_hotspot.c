/*
 * Unit tests for hotspot: Gi* on a hand-made grid against values computed
 * independently (a brute-force all-pairs Python evaluation of Ord & Getis
 * 1995, quoted above the constants), BH by hand, the ptools PAI/PEI test
 * vectors, the quartic kernel's integral, pattern rules, and the Knox test
 * on seeded synthetic dated events (a planted near-repeat found, a random
 * set not).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "microbeat/hotspot.h"

#define assert_near(got, want, tol) assert_true(near_ok((got), (want), (tol), #got, __LINE__))

/* |got - want| <= tol * max(1, |want|); print on failure. */
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

/*
 * 3 x 3 grid, 100 m apart, counts row by row; band 100 m (rook neighbours).
 * Python 3.11, all pairs:
 *   pts=[(i*100.0,j*100.0) for j in range(3) for i in range(3)]
 *   x=[10,8,1,7,2,0,1,0,0]; N=9; xbar=sum(x)/N; S=sqrt(sum(v*v)/N-xbar**2)
 *   w=[1 if dist(p_i,p)<=band else 0 for p in pts]; W=sum(w)
 *   z=(sum(w*x)-xbar*W)/(S*sqrt((N*sum(w*w)-W*W)/(N-1)))
 */
static void test_gistar_grid(void **state)
{
	static const double want_z[9] = { 2.7368349396, 1.3734524678, -0.1189928235,
					  1.2041227115, 0.1505153389, -1.6744831457,
					  -0.2974820587, -1.6744831457, -1.7253959402 };
	static const double want_p0 = 0.0062033409794765935;
	double px[9], py[9], x[9] = { 10, 8, 1, 7, 2, 0, 1, 0, 0 };
	struct hs_gi g;

	(void)state;
	for (int k = 0; k < 9; k++) {
		px[k] = (k % 3) * 100.0;
		py[k] = (k / 3) * 100.0;
	}
	assert_int_equal(hs_gistar(9, px, py, x, 100.0, &g, NULL), 0);
	for (int k = 0; k < 9; k++)
		assert_near(g.z[k], want_z[k], 1e-9);
	assert_near(g.p[0], want_p0, 1e-12);
	assert_int_equal(g.nb[4], 4); /* the centre: four rook neighbours */
	assert_int_equal(g.nb[0], 2);
	assert_int_equal(g.isolated, 0);
	/* q of the smallest p: 9 tests, p 0.0062 * 9 / 1 = 0.0558 -> hot at 90% */
	assert_near(g.q[0], want_p0 * 9, 1e-12);
	assert_int_equal(g.cls[0], HS_HOT90);
	hs_gi_release(&g);

	/* 150 m: the centre sees all nine -> N W - W^2 = 0, not testable */
	assert_int_equal(hs_gistar(9, px, py, x, 150.0, &g, NULL), 0);
	assert_int_equal(g.cls[4], HS_UNTESTABLE);
	assert_true(isnan(g.z[4]));
	hs_gi_release(&g);

	/* 50 m: nobody has a neighbour: all isolated, no crash */
	assert_int_equal(hs_gistar(9, px, py, x, 50.0, &g, NULL), 0);
	assert_int_equal(g.isolated, 9);
	for (int k = 0; k < 9; k++)
		assert_int_equal(g.cls[k], HS_ISOLATED);
	hs_gi_release(&g);
	assert_int_equal(hs_gistar(9, px, py, x, 0.0, &g, NULL), -MB_EUSAGE);
}

/* BH by hand: p (0.01, 0.04, 0.03, 0.2), m = 4: sorted 0.01 0.03 0.04 0.2 ->
 * p m / k = 0.04 0.06 0.0533 0.2 -> cumulative minimum from the top. */
static void test_bh(void **state)
{
	double p[5] = { 0.01, 0.04, 0.03, 0.2, NAN }, q[5];

	(void)state;
	assert_int_equal(hs_bh(5, p, q, NULL), 0);
	assert_near(q[0], 0.04, 1e-12);
	assert_near(q[1], 0.16 / 3, 1e-12);
	assert_near(q[2], 0.16 / 3, 1e-12);
	assert_near(q[3], 0.2, 1e-12);
	assert_true(isnan(q[4]));
}

/* Nearest neighbours on a line: 0, 10, 30, 100 -> 10, 10, 20, 70; a NaN point. */
static void test_nearest(void **state)
{
	double x[5] = { 100, 0, 30, 10, NAN }, y[5] = { 0, 0, 0, 0, 0 }, *nn;

	(void)state;
	assert_int_equal(hs_nearest(5, x, y, &nn, NULL), 0);
	assert_near(nn[0], 70, 1e-12);
	assert_near(nn[1], 10, 1e-12);
	assert_near(nn[2], 20, 1e-12);
	assert_near(nn[3], 10, 1e-12);
	assert_true(isnan(nn[4]));
	free(nn);
}

/* ptools (Wheeler) test vectors: observed (6,7,3,2,1,0), predicted
 * (8,4,4,2,1,0), unit areas: PAI by k 1.8947 1.4211 1.6842 1.4211 1.2 1;
 * PEI k=1,2 0.857 0.692 (6/7, 9/13). RRI = cum pred / cum obs. */
/* A seeded xorshift64 draw in [0, 1). */
static double draw(uint64_t *st)
{
	*st ^= *st << 13;
	*st ^= *st >> 7;
	*st ^= *st << 17;
	return (double)(*st >> 11) / 9007199254740992.0;
}

/* n points: clustered and spread at random, a few NaN, repeated points, and
 * pairs exactly one band (500 m: a 300-400-500 triangle; 40 m) or just over
 * it apart, where a distance test on squares could round the other way. */
static void make_points(size_t n, double *x, double *y, uint64_t seed)
{
	uint64_t st = seed;

	for (size_t i = 0; i < n; i++) {
		double c = draw(&st);

		x[i] = c < 0.5 ? draw(&st) * 3000 : 20000 + draw(&st) * 60000;
		y[i] = c < 0.5 ? draw(&st) * 3000 : -5000 + draw(&st) * 40000;
	}
	x[3] = y[3] = NAN;
	x[7] = x[8];
	y[7] = y[8];
	x[10] = 1000;
	y[10] = 1000;
	x[11] = 1300;
	y[11] = 1400; /* 500 m from point 10, exactly */
	x[12] = nextafter(1500.0, 2000.0);
	y[12] = 1000; /* just over 500 m from point 10 */
	x[13] = 5000;
	y[13] = 5000;
	x[14] = 5024;
	y[14] = 5032; /* 40 m from point 13, exactly */
}

/* Gi* of several periods at once against an all-pairs recount of each
 * period (the neighbours by hypot <= band, the z of Ord & Getis 1995), and
 * against hs_gistar of each period alone (the same bits). */
static void gistar_periods_at(double band)
{
	enum { N = 1500, P = 3 };
	static double x[N], y[N], c[P * N];
	struct hs_gi g[P], one;
	uint64_t st = 99;

	make_points(N, x, y, 7);
	for (size_t k = 0; k < P * N; k++)
		c[k] = floor(draw(&st) * (double)(k % 5 + 1) * 3);
	assert_int_equal(hs_gistar_periods(N, x, y, c, P, band, g, NULL), 0);
	for (size_t p = 0; p < P; p++) {
		const double *cp = c + p * N;
		double sum = 0, sum2 = 0, xbar, sd;

		for (size_t i = 0; i < N; i++) {
			sum += cp[i];
			sum2 += cp[i] * cp[i];
		}
		xbar = sum / N;
		sd = sqrt(sum2 / N - xbar * xbar);
		for (size_t i = 0; i < N; i++) {
			double w = 0, wx = 0;

			if (isnan(x[i])) {
				assert_int_equal(g[p].cls[i], HS_ISOLATED);
				continue;
			}
			for (size_t j = 0; j < N; j++)
				if (!isnan(x[j]) && (j == i || hypot(x[j] - x[i], y[j] - y[i]) <= band)) {
					w++;
					wx += cp[j];
				}
			assert_int_equal(g[p].nb[i], (int32_t)w - 1);
			if (w > 1)
				assert_near(g[p].z[i], (wx - xbar * w) /
					    (sd * sqrt((N * w - w * w) / (N - 1))), 1e-9);
		}
		assert_int_equal(hs_gistar(N, x, y, cp, band, &one, NULL), 0);
		assert_memory_equal(one.z, g[p].z, N * sizeof(double));
		assert_memory_equal(one.q, g[p].q, N * sizeof(double));
		assert_memory_equal(one.cls, g[p].cls, N);
		hs_gi_release(&one);
	}
	for (size_t p = 0; p < P; p++)
		hs_gi_release(&g[p]);
	assert_int_equal(hs_gistar_periods(N, x, y, c, P, 0.0, g, NULL), -MB_EUSAGE);
}

/* A 500 m band (a grid of fewer cells than 16 a point: each cell's start
 * indexed) and a 40 m one (more: each column's), with pairs of points
 * exactly a band apart (10 and 11; 13 and 14) and just over (10 and 12). */
static void test_gistar_periods(void **state)
{
	(void)state;
	gistar_periods_at(500);
	gistar_periods_at(40);
}

/* Nearest neighbours against an all-pairs search, to the bit: spread points
 * (a grid of ~2 points a cell, each cell's start indexed) and points along
 * a 20,000 km x 100 m strip (a grid of far more columns than points,
 * searched without an index). */
static void test_nearest_brute(void **state)
{
	enum { N = 1500 };
	static double x[N], y[N];
	double *nn = NULL;

	(void)state;
	for (int kind = 0; kind < 2; kind++) {
		uint64_t st = 5;

		make_points(N, x, y, 11);
		if (kind == 1)
			for (size_t i = 0; i < N; i++) {
				x[i] = draw(&st) * 2e7;
				y[i] = draw(&st) * 100;
			}
		assert_int_equal(hs_nearest(N, x, y, &nn, NULL), 0);
		for (size_t i = 0; i < N; i++) {
			double best = INFINITY;

			if (isnan(x[i])) {
				assert_true(isnan(nn[i]));
				continue;
			}
			for (size_t j = 0; j < N; j++)
				if (j != i && !isnan(x[j]) && hypot(x[j] - x[i], y[j] - y[i]) < best)
					best = hypot(x[j] - x[i], y[j] - y[i]);
			assert_memory_equal(&nn[i], &best, sizeof(double));
		}
		free(nn);
	}
}

static void test_pai_ptools(void **state)
{
	static const double obs[6] = { 6, 7, 3, 2, 1, 0 }, pred[6] = { 8, 4, 4, 2, 1, 0 };
	static const double want[6] = { 1.8947, 1.4211, 1.6842, 1.4211, 1.2, 1 };
	struct hs_pai t;

	(void)state;
	assert_int_equal(hs_pai_compute(6, obs, pred, NULL, &t, NULL), 0);
	for (int k = 0; k < 6; k++)
		assert_near(t.pai[k], want[k], 1e-4);
	assert_near(t.pei[0], 6.0 / 7.0, 1e-12);
	assert_near(t.pei[1], 9.0 / 13.0, 1e-12);
	assert_near(t.pei[5], 1.0, 1e-12);
	assert_near(t.rri[0], 8.0 / 6.0, 1e-12);
	assert_near(t.rri[2], 16.0 / 16.0, 1e-12);
	/* the tie at pred 4: the smaller observed (3) goes first */
	assert_int_equal(t.order[1], 2);
	assert_int_equal(t.order[2], 1);
	hs_pai_release(&t);
}

/* A single unit-weight point: the density peaks at 3 / (pi h^2) and the grid
 * sums (times the cell area) to 1 (the kernel integrates to one). */
static void test_kde_integral(void **state)
{
	double px = 500, py = 500, *d, sum = 0, h = 200, cell = 5;
	size_t nx = 200, ny = 200;

	(void)state;
	/* cells of 5 m from 0: the point sits on a corner of four cells */
	assert_int_equal(hs_kde(1, &px, &py, NULL, 0, 0, cell, nx, ny, h, &d, NULL), 0);
	for (size_t k = 0; k < nx * ny; k++)
		sum += d[k];
	assert_near(sum * cell * cell, 1.0, 1e-3);
	{
		double u = (2.5 * 2.5 * 2) / (h * h);

		assert_near(d[99 * nx + 99], 3 / (M_PI * h * h) * (1 - u) * (1 - u), 1e-12);
	}
	assert_near(d[0], 0.0, 1e-15);
	free(d);
}

/* Pattern rules with sfhotspot's documented defaults (hot spot 0.1, persistent
 * 0.8, recent 0.2 of the periods), worked by hand. */
static void test_patterns(void **state)
{
	struct hs_trend_rule r = { .critical_q = 0.05, .hotspot_prop = 0.1, .persistent_prop = 0.8,
				   .recent_prop = 0.2 };
	static const uint8_t all[5] = { 1, 1, 1, 1, 1 }, most[5] = { 1, 1, 0, 1, 1 };
	static const uint8_t emerg[5] = { 0, 0, 0, 0, 1 }, former[5] = { 1, 1, 0, 0, 0 };
	static const uint8_t inter[5] = { 0, 1, 0, 0, 1 }, none[5] = { 0 };
	static const uint8_t lastoff[5] = { 1, 1, 1, 1, 0 }, two[2] = { 0, 1 }, one[1] = { 1 };
	static const uint8_t first12[12] = { 1 }, last12[12] = { [11] = 1 };
	static const uint8_t third12[12] = { [9] = 1 }, ninth10[10] = { [8] = 1 };

	(void)state;
	/* 5 periods: the last floor(0.2 x 5) = 1 is recent */
	assert_int_equal(hs_pattern_of(all, 5, &r), HS_PAT_PERSISTENT);
	assert_int_equal(hs_pattern_of(most, 5, &r), HS_PAT_PERSISTENT); /* 4/5 = 0.8 */
	assert_int_equal(hs_pattern_of(lastoff, 5, &r), HS_PAT_PERSISTENT); /* 4/5, not the last */
	assert_int_equal(hs_pattern_of(emerg, 5, &r), HS_PAT_EMERGING);  /* older 0/4, recent 1/1 */
	assert_int_equal(hs_pattern_of(former, 5, &r), HS_PAT_FORMER);   /* older 2/4, recent 0/1 */
	assert_int_equal(hs_pattern_of(inter, 5, &r), HS_PAT_INTERMITTENT); /* 1/4 and 1/1 */
	assert_int_equal(hs_pattern_of(none, 5, &r), HS_PAT_NONE);
	assert_int_equal(hs_pattern_of(two, 2, &r), HS_PAT_EMERGING);
	assert_int_equal(hs_pattern_of(one, 1, &r), HS_PAT_PERSISTENT);  /* no older period */
	/* 10 periods: 2 recent; 12 periods: floor(2.4) = 2 recent (not 3) */
	assert_int_equal(hs_pattern_of(ninth10, 10, &r), HS_PAT_EMERGING);
	assert_int_equal(hs_pattern_of(last12, 12, &r), HS_PAT_EMERGING);
	assert_int_equal(hs_pattern_of(third12, 12, &r), HS_PAT_FORMER); /* older 1/10 >= 0.1 */
	assert_int_equal(hs_pattern_of(first12, 12, &r), HS_PAT_FORMER);
	/* hotspot_prop 0.15: hot in 1 of 10 older periods and 0 of 2 recent is no pattern */
	r.hotspot_prop = 0.15;
	assert_int_equal(hs_pattern_of(first12, 12, &r), HS_PAT_NONE);
	assert_int_equal(hs_pattern_of(third12, 12, &r), HS_PAT_NONE);
	assert_int_equal(hs_pattern_of(last12, 12, &r), HS_PAT_EMERGING); /* recent 1/2 */
}

/* Deterministic generator for the synthetic sets (not the one under test). */
static double unif(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(*s >> 11) / 9007199254740992.0;
}

/* Synthetic dated events in a 5 km square over a year. planted: half the
 * events are repeats of an earlier one within 50 m and 1..7 days. */
static size_t synth(int planted, double *x, double *y, int32_t *day, uint64_t seed)
{
	uint64_t s = seed;
	size_t n = 0;

	for (int k = 0; k < 300; k++) {
		x[n] = unif(&s) * 5000;
		y[n] = unif(&s) * 5000;
		day[n] = (int32_t)(unif(&s) * 358);
		n++;
		if (planted && k % 2 == 0) {
			x[n] = x[n - 1] + (unif(&s) - 0.5) * 70;
			y[n] = y[n - 1] + (unif(&s) - 0.5) * 70;
			day[n] = day[n - 1] + 1 + (int32_t)(unif(&s) * 7);
			n++;
		}
	}
	return n;
}

static void test_knox(void **state)
{
	static const double dband[3] = { 100, 400, 1000 }, tband[3] = { 8, 30, 90 };
	double x[600], y[600];
	int32_t day[600];
	struct hs_knox k;
	size_t n;

	(void)state;
	n = synth(1, x, y, day, 7);
	assert_int_equal(hs_knox_run(n, x, y, day, dband, 3, tband, 3, 999, 42, &k, NULL), 0);
	/* the planted cell (< 100 m, < 8 days): at least the 150 planted pairs */
	assert_true(k.obs[0] >= 150);
	assert_true(k.ratio[0] > 5);
	assert_near(k.p[0], 1.0 / 1000.0, 1e-12);
	hs_knox_release(&k);

	n = synth(0, x, y, day, 11);
	assert_int_equal(hs_knox_run(n, x, y, day, dband, 3, tband, 3, 999, 42, &k, NULL), 0);
	/* the near-repeat cells (under 400 m) show nothing; nine cells tested
	 * at once, one far cell may dip under 0.05 by chance (here 400-1000 m,
	 * under 8 days: p 0.004), which is why knox.csv is read by its near cell */
	for (size_t c = 0; c < 6; c++)
		assert_true(k.p[c] > 0.05);
	assert_true(k.p[0] > 0.05);
	/* same seed, same answer */
	{
		struct hs_knox k2;

		assert_int_equal(hs_knox_run(n, x, y, day, dband, 3, tband, 3, 999, 42, &k2, NULL), 0);
		assert_memory_equal(k.p, k2.p, 9 * sizeof(double));
		hs_knox_release(&k2);
	}
	hs_knox_release(&k);
	assert_int_equal(hs_knox_run(n, x, y, day, dband, 3, tband, 3, 10, 42, &k, NULL),
			 -MB_EUSAGE);
	/* 3,000 events at one snap point: 4,498,500 close pairs x 999 > 4 x 10^9: refused */
	{
		double *bx = calloc(3000, sizeof(double)), *by = calloc(3000, sizeof(double));
		int32_t *bd = calloc(3000, sizeof(int32_t));

		assert_non_null(bx);
		assert_non_null(by);
		assert_non_null(bd);
		assert_int_equal(hs_knox_run(3000, bx, by, bd, dband, 3, tband, 3, 999, 1, &k, NULL),
				 -MB_EUSAGE);
		assert_null(k.obs);
		free(bx);
		free(by);
		free(bd);
	}
}

/* Projection: 1 km north and east near Cambridge measured against the
 * ellipsoid's metres per degree; distances keep within 0.2 %. */
static void test_project(void **state)
{
	double x1, y1, x2, y2;

	(void)state;
	hs_project(0.1, 52.2, 0.1, 52.2, &x1, &y1);
	assert_near(x1, 0, 1e-9);
	/* 0.01 degree of latitude at 52.2 N: 1113.0 m (WGS84 meridian arc) */
	hs_project(0.1, 52.21, 0.1, 52.2, &x2, &y2);
	assert_near(y2 / 1113.0, 1.0, 2e-3);
	/* 0.01 degree of longitude at 52.2 N: 683.6 m */
	hs_project(0.11, 52.2, 0.1, 52.2, &x2, &y2);
	assert_near(x2 / 683.6, 1.0, 2e-3);
	hs_project(NAN, 52.2, 0.1, 52.2, &x2, &y2);
	assert_true(isnan(x2) && isnan(y2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gistar_grid), cmocka_unit_test(test_bh),
		cmocka_unit_test(test_nearest),     cmocka_unit_test(test_pai_ptools),
		cmocka_unit_test(test_gistar_periods), cmocka_unit_test(test_nearest_brute),
		cmocka_unit_test(test_kde_integral), cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_knox),        cmocka_unit_test(test_project),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
