/*
 * Unit tests for flags (geographic priority flags): every figure is checked
 * against values computed independently with Python 3.11, scipy 1.10 and
 * statsmodels 0.13 (Debian 12's python3-scipy / python3-statsmodels; the
 * code is quoted above each table) or by hand (arithmetic in the comment).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "microbeat/flags.h"

/* Assert |got - want| <= tol * max(1, |want|). */
#define assert_near(got, want, tol) assert_true(near_ok((got), (want), (tol), #got, __LINE__))

static int near_ok(double got, double want, double tol, const char *what, int line)
{
	double scale = fabs(want) > 1.0 ? fabs(want) : 1.0;

	if (fabs(got - want) <= tol * scale)
		return 1;
	print_error("line %d: %s = %.17g, want %.17g (tol %g)\n", line, what, got, want, tol);
	return 0;
}

/* Relative comparison for small p-values. */
#define assert_rel(got, want, tol) assert_true(rel_ok((got), (want), (tol), #got, __LINE__))

static int rel_ok(double got, double want, double tol, const char *what, int line)
{
	if (fabs(got - want) <= tol * fabs(want))
		return 1;
	print_error("line %d: %s = %.17g, want %.17g (rel tol %g)\n", line, what, got, want, tol);
	return 0;
}

/* P(X >= k), X ~ Poisson(mu): scipy.stats.poisson.sf(k - 1, mu) (1 for k = 0). */
static void test_poisson_sf(void **state)
{
	static const struct { unsigned long k; double mu, want; } t[] = {
		{ 0, 3.0, 1.0 },
		{ 1, 0.0, 0.0 },
		{ 3, 0.0, 0.0 },
		{ 1, 2.5, 0.9179150013761012 },
		{ 5, 2.5, 0.10882198108584877 },
		{ 10, 2.5, 0.0002773520946208362 },
		{ 30, 10.0, 2.509951201527959e-07 },
		{ 150, 100.0, 1.8842104660386844e-06 },
		{ 60, 100.0, 0.9999936584965726 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		double got = flags_poisson_sf(t[i].k, t[i].mu);

		if (t[i].want == 0.0 || t[i].want == 1.0)
			assert_true(got == t[i].want);
		else
			assert_rel(got, t[i].want, 1e-9);
	}
	assert_true(isnan(flags_poisson_sf(2, -1.0)));
	assert_true(isnan(flags_poisson_sf(2, NAN)));
}

/* Funnel limits, Spiegelhalter's interpolation, in scipy:
 *   def lim(p, mu):
 *       r = poisson.ppf(p, mu); F = poisson.cdf(r, mu); F1 = poisson.cdf(r - 1, mu)
 *       return max(0, r - (F - p) / (F - F1))
 *   t = (1 - level) / 2; lo = lim(t, mu); hi = lim(1 - t, mu) */
static void test_poisson_limits(void **state)
{
	static const struct { double mu, level, lo, hi; } t[] = {
		{ 0.5, 0.95, 0, 1.8600259114609996 },
		{ 0.5, 0.998, 0, 3.4758589809003664 },
		{ 4.0, 0.95, 0.09123843770715179, 7.877845369002781 },
		{ 4.0, 0.998, 0, 10.955952598516681 },
		{ 25.0, 0.95, 15.175156532855542, 34.77671719008971 },
		{ 25.0, 0.998, 10.498532507209969, 41.346523474720016 },
		{ 250.0, 0.95, 218.99377872519605, 280.9561293453358 },
		{ 250.0, 0.998, 202.0883281978318, 299.7726626345124 },
		{ 3000.0, 0.95, 2892.62061281494, 3107.3262308133744 },
		{ 3000.0, 0.998, 2831.6687955811844, 3170.179032131456 },
	};
	struct mb_error err = { 0 };
	double lo, hi;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(flags_poisson_limits(t[i].mu, t[i].level, &lo, &hi, &err), 0);
		assert_near(lo, t[i].lo, 1e-9);
		assert_near(hi, t[i].hi, 1e-9);
	}
	assert_int_equal(flags_poisson_limits(0, 0.95, &lo, &hi, &err), -MB_EUSAGE);
	assert_int_equal(flags_poisson_limits(5, 1.0, &lo, &hi, &err), -MB_EUSAGE);
}

static void test_letters(void **state)
{
	static const struct { unsigned f; const char *want; } t[] = {
		{ 0, "-" }, { FLAGS_HIGH, "H" }, { FLAGS_RISING | FLAGS_HOT, "RS" },
		{ FLAGS_HIGH | FLAGS_RISING | FLAGS_CONTROL | FLAGS_HOT, "HRCS" },
		{ FLAGS_CONTROL, "C" },
	};
	char buf[5];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		flags_letters(t[i].f, buf);
		assert_string_equal(buf, t[i].want);
	}
}

/* The reference data: 3 units (population 1000, 2000, 3000), 2 categories,
 * 27 months, the period the last 12 (period_first = 15).
 *   unit 0, cat 0: 2 a month for months 0..14, then 6 a month (high, rising)
 *   unit 1, cat 0: 3 a month;   unit 2, cat 0: 4 a month
 *   unit 0, cat 1: 1 a month;   unit 1, cat 1: 2 a month
 *   unit 2, cat 1: 3 a month, but 15 in the last month (out of control)
 * Unit 0 holds one top-3% street of cat 0. Harm weights 10 and 1. */
#define NU 3
#define NC 2
#define NM 27

static double ref_count[NU * NC * NM];

static void ref_fill(void)
{
	for (size_t m = 0; m < NM; m++) {
		ref_count[(0 * NC + 0) * NM + m] = m < 15 ? 2 : 6;
		ref_count[(1 * NC + 0) * NM + m] = 3;
		ref_count[(2 * NC + 0) * NM + m] = 4;
		ref_count[(0 * NC + 1) * NM + m] = 1;
		ref_count[(1 * NC + 1) * NM + m] = 2;
		ref_count[(2 * NC + 1) * NM + m] = m == 26 ? 15 : 3;
	}
}

static const double ref_pop[NU] = { 1000, 2000, 3000 };
static const double ref_streets[NU] = { 10, 20, 30 }; /* same shares as the populations */
static const unsigned ref_hot[NU * NC] = { 1, 0, 0, 0, 0, 0 };
static const double ref_harm[NC] = { 10, 1 };

/* Reference values (python 3.11 + scipy 1.10 + statsmodels 0.13):
 *   O = counts summed over months 15..26; rate_c = sum_u O / 6000; E = rate_c * pop_u
 *   p = poisson.sf(O - 1, E);  q = multipletests(p.ravel(), method='fdr_bh')[1]
 *   a, b = sums over months 15..26 and 3..14
 *   yp = binomtest(a, a + b, 0.5).pvalue;  yq = multipletests(yp, method='fdr_bh')[1]
 *   c-chart baseline months 0..23: centre = mean, ucl = centre + 3 sqrt(centre) */
static const double want_O[NU * NC] = { 72, 12, 36, 24, 48, 48 };
static const double want_E[NU * NC] = { 26, 14, 52, 28, 78, 42 };
static const double want_p[NU * NC] = { 9.748200534909548e-14, 0.7399600775405661,
	0.9918928847137337, 0.8001912625353751, 0.9998944810243533, 0.19590575959747122 };
static const double want_q[NU * NC] = { 5.848920320945729e-13, 0.9998944810243533,
	0.9998944810243533, 0.9998944810243533, 0.9998944810243533, 0.5877172787924138 };
static const double want_yp[NU * NC] = { 9.69923242552742e-07, 1.0, 1.0, 1.0, 1.0,
	0.2298644069691203 };
static const double want_yq[NU * NC] = { 5.819539455316452e-06, 1.0, 1.0, 1.0, 1.0,
	0.689593220907361 };
static const double want_ucl[NU * NC] = { 9.112486080160913, 4.0, 8.196152422706632,
	6.242640687119286, 10.0, 8.196152422706632 };
static const unsigned want_flags[NU * NC] = { FLAGS_HIGH | FLAGS_RISING | FLAGS_HOT, 0, 0, 0, 0,
	FLAGS_CONTROL };

static void test_compute_reference(void **state)
{
	struct flags_input in = { .nunit = NU, .ncat = NC, .nmonth = NM, .first_month = 288,
				  .period_first = 15, .count = ref_count, .population = ref_pop,
				  .hot = ref_hot, .harm = ref_harm };
	struct flags_params par;
	struct flags_result *r = NULL;
	struct mb_error err = { 0 };

	(void)state;
	ref_fill();
	flags_params_init(&par);
	assert_int_equal(flags_compute(&in, &par, &r, &err), 0);
	assert_int_equal(r->by_population, 1);
	assert_near(r->denominator, 6000, 0);
	assert_int_equal(r->n_high_tests, 6);
	assert_int_equal(r->n_rise_tests, 6);
	for (size_t i = 0; i < NU * NC; i++) {
		const struct flags_cell *x = &r->cell[i];

		assert_near(x->observed, want_O[i], 0);
		assert_near(x->expected, want_E[i], 1e-12);
		assert_near(x->ratio, want_O[i] / want_E[i], 1e-12);
		assert_rel(x->p_high, want_p[i], 1e-9);
		assert_rel(x->q_high, want_q[i], 1e-9);
		assert_true(x->has_yoy);
		assert_rel(x->yoy.p, want_yp[i], 1e-9);
		assert_rel(x->q_rise, want_yq[i], 1e-9);
		assert_true(x->has_cc);
		assert_near(x->cc.ucl, want_ucl[i], 1e-12);
		assert_int_equal(x->flags, want_flags[i]);
	}
	/* expected counts add up to the district total of each category */
	for (size_t c = 0; c < NC; c++) {
		double se = 0;

		for (size_t u = 0; u < NU; u++)
			se += r->cell[u * NC + c].expected;
		assert_near(se, r->district_total[c], 1e-9);
	}
	assert_near(r->district_total[0], 156, 0);
	/* ranking: unit 0 (1 category, harm 10 x (72 - 26) = 460), unit 2 (1 category,
	   harm 1 x (48 - 42) = 6), unit 1 (none) */
	assert_int_equal(r->unit[0].ncat_flagged, 1);
	assert_int_equal(r->unit[0].nflags, 3);
	assert_near(r->unit[0].harm_excess, 460, 1e-9);
	assert_near(r->unit[2].harm_excess, 6, 1e-9);
	assert_near(r->unit[1].harm_excess, 0, 0);
	assert_int_equal(r->order[0], 0);
	assert_int_equal(r->order[1], 2);
	assert_int_equal(r->order[2], 1);
	assert_int_equal(r->unit[1].rank, 3);
	for (size_t u = 0; u < NU; u++)
		assert_int_equal(r->unit[u].priority, 0); /* K = 3 */
	flags_result_free(r);

	par.min_flags = 1;
	assert_int_equal(flags_compute(&in, &par, &r, &err), 0);
	assert_int_equal(r->unit[0].priority, 1);
	assert_int_equal(r->unit[1].priority, 0);
	assert_int_equal(r->unit[2].priority, 1);
	/* a stricter ratio removes H from unit 0 (72 / 26 = 2.77) */
	flags_result_free(r);
	par.min_ratio = 3.0;
	assert_int_equal(flags_compute(&in, &par, &r, &err), 0);
	assert_int_equal(r->cell[0].flags, FLAGS_RISING | FLAGS_HOT);
	flags_result_free(r);
}

/* Without populations the share of streets gives the same expectation when
 * the street shares equal the population shares (10/20/30 vs 1/2/3 x 1000). */
static void test_compute_streets(void **state)
{
	struct flags_input in = { .nunit = NU, .ncat = NC, .nmonth = NM, .first_month = 288,
				  .period_first = 15, .count = ref_count, .streets = ref_streets };
	struct flags_result *r = NULL;
	struct mb_error err = { 0 };

	(void)state;
	ref_fill();
	assert_int_equal(flags_compute(&in, NULL, &r, &err), 0);
	assert_int_equal(r->by_population, 0);
	assert_near(r->denominator, 60, 0);
	for (size_t i = 0; i < NU * NC; i++) {
		assert_near(r->cell[i].expected, want_E[i], 1e-12);
		assert_rel(r->cell[i].p_high, want_p[i], 1e-9);
	}
	/* no harm weights given: every category weighs 1 -> unit 0 excess 46 */
	assert_near(r->unit[0].harm_excess, 46, 1e-9);
	flags_result_free(r);
}

/* A unit without a population gets no H test and does not enter the rate:
 * unit 1 unknown -> rate_c = (O_0 + O_2) / 4000; E_00 = 120 / 4000 x 1000 = 30. */
static void test_unknown_population_and_gap(void **state)
{
	const double pop[NU] = { 1000, NAN, 3000 };
	unsigned char present[NM];
	struct flags_input in = { .nunit = NU, .ncat = NC, .nmonth = NM, .first_month = 288,
				  .period_first = 15, .count = ref_count, .population = pop };
	struct flags_result *r = NULL;
	struct mb_error err = { 0 };

	(void)state;
	ref_fill();
	assert_int_equal(flags_compute(&in, NULL, &r, &err), 0);
	assert_true(isnan(r->cell[1 * NC + 0].expected));
	assert_true(isnan(r->cell[1 * NC + 0].p_high));
	assert_near(r->cell[0].expected, 30, 1e-12);
	assert_int_equal(r->n_high_tests, 4);
	flags_result_free(r);

	/* a gap in the period is left out of the observed count: 72 - 6 = 66 */
	memset(present, 1, sizeof(present));
	present[20] = 0;
	in.present = present;
	in.population = ref_pop;
	assert_int_equal(flags_compute(&in, NULL, &r, &err), 0);
	assert_near(r->cell[0].observed, 66, 0);
	assert_int_equal(r->cell[0].yoy.a_months, 11);
	flags_result_free(r);
}

/* Short series: no year on year below 24 months, no chart below 4. */
static void test_short_series(void **state)
{
	const double cnt[2] = { 3, 9 };
	const double pop[1] = { 100 };
	struct flags_input in = { .nunit = 1, .ncat = 1, .nmonth = 2, .count = cnt,
				  .population = pop };
	struct flags_result *r = NULL;
	struct mb_error err = { 0 };

	(void)state;
	assert_int_equal(flags_compute(&in, NULL, &r, &err), 0);
	assert_int_equal(r->cell[0].has_yoy, 0);
	assert_int_equal(r->cell[0].has_cc, 0);
	/* one unit: observed = expected = 12, P(X >= 12 | 12) */
	assert_near(r->cell[0].expected, 12, 1e-12);
	assert_int_equal(r->cell[0].flags, 0);
	flags_result_free(r);
}

static void test_errors(void **state)
{
	double cnt[2] = { 3, 2.5 };
	const double pop[1] = { 100 };
	struct flags_input in = { .nunit = 1, .ncat = 1, .nmonth = 2, .count = cnt,
				  .population = pop };
	struct flags_params par;
	struct flags_result *r = NULL;
	struct mb_error err = { 0 };

	(void)state;
	assert_int_equal(flags_compute(&in, NULL, &r, &err), -MB_EDATA);
	assert_null(r);
	cnt[1] = -1;
	assert_int_equal(flags_compute(&in, NULL, &r, &err), -MB_EDATA);
	cnt[1] = 2;
	in.population = NULL; /* neither populations nor streets */
	assert_int_equal(flags_compute(&in, NULL, &r, &err), -MB_EUSAGE);
	in.population = pop;
	in.period_first = 2;
	assert_int_equal(flags_compute(&in, NULL, &r, &err), -MB_EUSAGE);
	in.period_first = 0;
	flags_params_init(&par);
	par.fdr = 1.5;
	assert_int_equal(flags_compute(&in, &par, &r, &err), -MB_EUSAGE);
	flags_result_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_poisson_sf),
		cmocka_unit_test(test_poisson_limits),
		cmocka_unit_test(test_letters),
		cmocka_unit_test(test_compute_reference),
		cmocka_unit_test(test_compute_streets),
		cmocka_unit_test(test_unknown_population_and_gap),
		cmocka_unit_test(test_short_series),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
