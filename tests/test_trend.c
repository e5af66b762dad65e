/*
 * Unit tests for trend: every figure is checked against values computed
 * independently (Python 3.11, scipy 1.10, statsmodels 0.13 from Debian 12's
 * python3-scipy / python3-statsmodels; the code is quoted above each table) or
 * by hand (the arithmetic is in the comment).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <gsl/gsl_cdf.h>

#include "microbeat/trend.h"

/* Assert |got - want| <= tol * max(1, |want|) (relative, absolute near 0). */
#define assert_near(got, want, tol) \
	assert_true(near_ok((got), (want), (tol), #got, __LINE__))

/* Compare with a mixed relative/absolute tolerance; print on failure. */
static int near_ok(double got, double want, double tol, const char *what, int line)
{
	double scale = fabs(want) > 1.0 ? fabs(want) : 1.0;

	if (isinf(want) && got == want)
		return 1;
	if (fabs(got - want) <= tol * scale)
		return 1;
	print_error("line %d: %s = %.17g, want %.17g (tol %g)\n", line, what, got, want, tol);
	return 0;
}

/* The 36-month reference series used by the model tests: months 16..18 are
 * a gap (their counts must be ignored, so one is NAN). It starts in 2019-04,
 * month index 231. Generated once with numpy (negative binomial, seed 7). */
static const double ref_y[36] = {
	42, 38, 33, 25, 19, 24, 27, 26, 27, 24, 35, 27, 50, 36, 54, 36, NAN, 39,
	27, 25, 21, 21, 68, 58, 44, 23, 67, 61, 47, 23, 15, 26, 30, 36, 41, 43
};

/* Present flags of ref_y: gap at 16, 17, 18. */
static unsigned char ref_present[36];

/* Fill ref_present. */
static void ref_init(void)
{
	memset(ref_present, 1, sizeof(ref_present));
	ref_present[16] = ref_present[17] = ref_present[18] = 0;
}

/* ---- 1. Year on year ------------------------------------------------------ */

/* Expected year-on-year results. Computed with:
 *   from scipy import stats
 *   n = a + b; pi0 = am/(am+bm)
 *   p = min(1, 2*min(stats.binom.cdf(a, n, pi0), stats.binom.sf(a-1, n, pi0)))
 *   lo = 0 if a == 0 else stats.beta.ppf(0.025, a, b+1)
 *   hi = 1 if b == 0 else stats.beta.ppf(0.975, a+1, b)
 *   rr = a/b*bm/am; rr_lo = lo/(1-lo)*bm/am; rr_hi = hi/(1-hi)*bm/am
 * (for pi0 = 1/2, p also equals stats.binomtest(a, n, 0.5).pvalue). */
static const struct {
	unsigned long a;
	int am;
	unsigned long b;
	int bm;
	double p, rr, lo, hi;
} yoy_cases[] = {
	{16, 12, 25, 12, 0.21102359760880063, 0.64, 0.3192803018242879, 1.246949535504368},
	{25, 12, 16, 12, 0.21102359760880063, 1.5625, 0.8019570732632083, 3.132044145179799},
	{1200, 12, 1000, 12, 2.181702640791419e-05, 1.2, 1.102481555156863, 1.3063596411711302},
	{5000, 12, 5400, 12, 9.116949314541163e-05, 0.9259259259259259, 0.8908069092849396, 0.962415689703296},
	{100000, 12, 101000, 12, 0.025862392439732925, 0.9900990099009901, 0.9814699973089782, 0.998803794044312},
	{0, 12, 5, 12, 0.0625, 0.0, 0.0, 1.091279105182546},
	{7, 12, 0, 12, 0.015625, INFINITY, 1.441308518835239, INFINITY},
	{90, 9, 100, 12, 0.23716492913190645, 1.2, 0.8924585240099441, 1.6115679079635314},
	{3, 12, 3, 12, 1.0, 1.0, 0.13393758817773016, 7.466164006724067},
	/* Large n, where GSL 2.7.1's incomplete beta is off by ~1e-9 or fails, and
	 * scipy's binom.cdf too (by 7e-9 at n = 2e8, 1e-7 at 4.2e9): p from mpmath
	 * at 40 digits (exact term at a via loggamma, then summing
	 *   t_{j-1} = t_j j/(n-j+1) down until t < 1e-30 sum), CI from scipy. */
	{1000000, 12, 1000500, 12, 0.72423675426231137703, 0.9995002498750625, 0.9967330118068967, 1.0022751701739172},
	{100000000, 12, 100020000, 12, 0.15734071918361507385, 0.9998000399920016, 0.9995229569107378, 1.0000771998830476},
	{2100000000, 12, 2100100000, 12, 0.12283084861246940072, 0.9999523832198467, 0.9998919023740778, 1.000012867725496},
	/* Shapes where gsl_cdf_beta_Pinv returns NaN; p underflows to 0. */
	{1615, 12, 286, 12, 1.449457933285363e-224, 5.646853146853147, 4.97660582078108, 6.426016679028122},
	{352, 12, 6704, 12, 0.0, 0.05250596658711217, 0.047035807386673505, 0.05845462399513769},
	/* CI: scipy's beta.ppf is 6e-9 off here; mpmath at 60 digits solving
	 * 1-(1-p)^n = .025 and (1-p)^n + n p (1-p)^(n-1) = .025, n = 10^9+1. */
	{1, 12, 1000000000, 12, 0.0, 1e-09, 2.5317807959292563145e-11, 5.5716434036746819563e-9},
};

static void test_yoy_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(yoy_cases) / sizeof(yoy_cases[0]); i++) {
		struct trend_yoy r;
		struct mb_error e = { 0 };

		assert_int_equal(trend_yoy_test(yoy_cases[i].a, yoy_cases[i].am,
			yoy_cases[i].b, yoy_cases[i].bm, &r, &e), 0);
		/* p relative to itself: some are 1e-224. */
		assert_true(fabs(r.p - yoy_cases[i].p) <= 1e-9 * yoy_cases[i].p
			|| (yoy_cases[i].p == 0.0 && r.p < 1e-300));
		assert_near(r.rr, yoy_cases[i].rr, 1e-12);
		assert_true(fabs(r.rr_lo - yoy_cases[i].lo) <= 1e-9 * yoy_cases[i].lo
			|| r.rr_lo == yoy_cases[i].lo);
		assert_true(fabs(r.rr_hi - yoy_cases[i].hi) <= 1e-9 * yoy_cases[i].hi
			|| r.rr_hi == yoy_cases[i].hi);
		assert_int_equal(r.change, (long)yoy_cases[i].a - (long)yoy_cases[i].b);
		assert_int_equal(r.partial, yoy_cases[i].am < 12 || yoy_cases[i].bm < 12);
		assert_int_equal(r.pct_defined, yoy_cases[i].b > 0);
		if (yoy_cases[i].b > 0)
			assert_near(r.pct, 100.0 * (yoy_cases[i].rr - 1.0), 1e-10);
		else
			assert_true(isnan(r.pct));
	}
}

/* 16 vs 25: z = 2(sqrt 16 - sqrt 25) = 2(4 - 5) = -2 exactly (a is the later
 * window, so a fall gives a negative z); 25 vs 16 gives +2. */
static void test_yoy_z(void **state)
{
	struct trend_yoy r;

	(void)state;
	assert_int_equal(trend_yoy_test(16, 12, 25, 12, &r, NULL), 0);
	assert_true(r.z == -2.0);
	assert_int_equal(r.change, -9);
	assert_int_equal(trend_yoy_test(25, 12, 16, 12, &r, NULL), 0);
	assert_true(r.z == 2.0);
	/* partial windows: raw counts are not comparable, no z */
	assert_int_equal(trend_yoy_test(25, 9, 16, 12, &r, NULL), 0);
	assert_true(isnan(r.z));
}

/* a = b = 0: nothing to test; p = 1, ratio and CI undefined. Bad window
 * months and counts too large for GSL's unsigned int are usage errors. */
static void test_yoy_edges(void **state)
{
	struct trend_yoy r;
	struct mb_error e = { 0 };

	(void)state;
	assert_int_equal(trend_yoy_test(0, 12, 0, 12, &r, &e), 0);
	assert_true(r.p == 1.0);
	assert_true(isnan(r.rr) && isnan(r.rr_lo) && isnan(r.rr_hi) && isnan(r.pct));
	assert_int_equal(r.pct_defined, 0);
	assert_true(r.z == 0.0);
	assert_int_equal(trend_yoy_test(1, 0, 1, 12, &r, &e), -MB_EUSAGE);
	assert_int_equal(e.code, MB_EUSAGE);
	assert_int_equal(trend_yoy_test(1, 12, 1, 13, &r, &e), -MB_EUSAGE);
	assert_int_equal(trend_yoy_test(4000000000UL, 12, 400000000UL, 12, &r, &e),
		-MB_EUSAGE);
	assert_int_equal(trend_yoy_test(1, 12, 1, 12, NULL, &e), -MB_EUSAGE);
}

/* The module's binomial tails against two independent routes to
 * 2 P(X <= min(a,b)), X ~ Bin(a+b, 1/2): the lgamma-based sum of terms (whose
 * own rounding grows with log(n!), ~1e-9 relative at n = 2e6, so the
 * tolerance scales with n) and GSL's gsl_cdf_binomial_P where GSL is reliable
 * (n <= 1e5; see src/trend.c), including tails around 1e-19. */
static void test_yoy_p_lgamma(void **state)
{
	static const unsigned long ab[][2] = {
		{0, 1}, {1, 1}, {16, 25}, {300, 260}, {5000, 5400}, {100000, 101000},
		{999000, 1001000}, {1000000, 1000500}, {10, 90}, {400, 700},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ab) / sizeof(ab[0]); i++) {
		struct trend_yoy r;
		double pl = trend_yoy_p_lgamma(ab[i][0], ab[i][1]);

		assert_int_equal(trend_yoy_test(ab[i][0], 12, ab[i][1], 12, &r, NULL), 0);
		assert_true(pl > 0.0 && pl <= 1.0);
		double n = (double)(ab[i][0] + ab[i][1]);
		unsigned long mn = ab[i][0] < ab[i][1] ? ab[i][0] : ab[i][1];

		/* Relative agreement, also for p around 1e-19. */
		assert_true(fabs(r.p - pl) <= fmax(1e-11, 4e-15 * n) * pl);
		if (n <= 1e5) {
			double pg = fmin(1.0, 2.0 * gsl_cdf_binomial_P((unsigned int)mn, 0.5,
				(unsigned int)n));

			assert_true(fabs(r.p - pg) <= 1e-11 * pg);
		}
	}
	assert_true(trend_yoy_p_lgamma(0, 0) == 1.0);
	/* Hand: 0 vs 1 -> 2 P(X <= 0) = 2 (1/2) = 1; 1 vs 1 -> 2 (3/4) capped 1. */
	assert_true(trend_yoy_p_lgamma(0, 1) == 1.0);
	/* Hand: 0 vs 5 -> 2 (1/32) = 0.0625. */
	assert_near(trend_yoy_p_lgamma(0, 5), 0.0625, 1e-14);
}

/* Windows summed from a series: 24 months, months 3 and 20 are gaps (NAN
 * counts must be ignored). Earlier window: months 0..11 = 1..12 without
 * month 3 (4): 78 - 4 = 74 over 11 months; later: 13..24 without 20 (21):
 * sum 13..24 = 222, minus 21 = 201 over 11 months. */
static void test_yoy_series(void **state)
{
	double c[24];
	unsigned char pr[24];
	struct trend_series s = { c, pr, 24, 240 };
	struct trend_yoy r;
	struct mb_error e = { 0 };
	size_t i;
	int gm[4];

	(void)state;
	for (i = 0; i < 24; i++) {
		c[i] = (double)(i + 1);
		pr[i] = 1;
	}
	c[3] = NAN;
	pr[3] = 0;
	c[20] = NAN;
	pr[20] = 0;
	assert_int_equal(trend_gaps(&s, gm, 4), 2);
	assert_int_equal(gm[0], 243);
	assert_int_equal(gm[1], 260);
	assert_int_equal(trend_yoy_series(&s, &r, &e), 0);
	assert_int_equal(r.a, 201);
	assert_int_equal(r.b, 74);
	assert_int_equal(r.a_months, 11);
	assert_int_equal(r.b_months, 11);
	assert_int_equal(r.partial, 1);
	c[5] = 2.5;
	assert_int_equal(trend_yoy_series(&s, &r, &e), -MB_EDATA);
	s.n = 23;
	assert_int_equal(trend_yoy_series(&s, &r, &e), -MB_EUSAGE);
}

/* ---- 2. Log-linear Poisson trend ------------------------------------------ */

/* Seasonal quasi-Poisson fit of ref_y. Reference values from:
 *   import numpy as np, statsmodels.api as sm
 *   from scipy import stats
 *   y = np.array(ref_y with 0 at the gap, float)
 *   present = np.ones(36, bool); present[16:19] = False
 *   t = np.arange(36); moy = (231 + t) % 12
 *   yy, tt, mm = y[present], t[present], moy[present]
 *   levels = [m for m in range(12) if m != mm[0] and m in set(mm)]
 *   X = np.column_stack([np.ones(len(yy)), tt] + [(mm == m).astype(float) for m in levels])
 *   f = sm.GLM(yy, X, family=sm.families.Poisson()).fit(scale='X2')
 *   tv = f.params[1]/f.bse[1]; p = 2*stats.t.sf(abs(tv), f.df_resid)
 *   q = stats.t.ppf(0.975, f.df_resid)
 *   np.expm1(12*f.params[1]), np.expm1(12*(f.params[1] -/+ q*f.bse[1]))
 * Reference month of the year: 3 (April); levels 0,1,2,4,...,11. */
static const double glm_params[13] = {
	3.677006797964008, 0.010941472836203014, -0.6166789865894611,
	-0.052256314522101305, -0.1809808230146932, -0.34888538006887804,
	0.1024147710051669, -0.14145825951141466, -0.3641576892492097,
	-0.7146063024017814, -0.8380257586646758, -0.6454397737358064,
	-0.643477841736103
};
static const int glm_levels[11] = { 0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11 };

static void test_poisson_seasonal(void **state)
{
	struct trend_series s = { ref_y, ref_present, 36, 231 };
	struct trend_poisson f;
	struct mb_error e = { 0 };
	size_t k;

	(void)state;
	ref_init();
	assert_int_equal(trend_poisson_fit(&s, &f, &e), 0);
	assert_int_equal(f.kind, TREND_FIT_SEASONAL);
	assert_int_equal(f.reason, TREND_REASON_OK);
	assert_int_equal(f.n, 33);
	assert_int_equal(f.gaps, 3);
	assert_int_equal(f.p, 13);
	assert_int_equal(f.converged, 1);
	assert_int_equal(f.ref_moy, 3);
	assert_near(f.beta0, glm_params[0], 1e-6);
	assert_near(f.beta1, glm_params[1], 1e-7);
	assert_near(f.se_beta1, 0.005233997024613687, 1e-6);
	assert_near(f.phi, 3.252720069192518, 1e-6);
	assert_near(f.pearson, 65.05440138385026, 1e-6);
	assert_near(f.deviance, 65.02700743893568, 1e-6);
	assert_near(f.df, 20.0, 0.0);
	assert_near(f.t_beta1, 2.0904621811493267, 1e-4);
	assert_near(f.p_beta1, 0.04955312099805724, 1e-5);
	assert_near(f.annual, 0.1403071706317686, 1e-6);
	assert_near(f.annual_lo, 0.0002825962399248366, 1e-5);
	assert_near(f.annual_hi, 0.2999330871916352, 1e-5);
	assert_near(f.season[3], 0.0, 0.0);
	for (k = 0; k < 11; k++)
		assert_near(f.season[glm_levels[k]], glm_params[2 + k], 1e-6);
}

/* 12 present months (< 13): falls back to log mu = b0 + b1 t. Reference:
 *   f2 = sm.GLM(yy[:12], np.column_stack([np.ones(12), tt[:12]]),
 *               family=sm.families.Poisson()).fit(scale='X2')
 *   -> params [3.507380661429318, -0.026768799111673652],
 *      bse [0.11194798112609394, 0.01799454821574135],
 *      scale 1.3320278975326878 */
static void test_poisson_linear_fallback(void **state)
{
	struct trend_series s = { ref_y, ref_present, 12, 231 };
	struct trend_poisson f;
	int m;

	(void)state;
	ref_init();
	assert_int_equal(trend_poisson_fit(&s, &f, NULL), 0);
	assert_int_equal(f.kind, TREND_FIT_LINEAR);
	assert_int_equal(f.reason, TREND_REASON_FEW_MONTHS);
	assert_int_equal(f.p, 2);
	assert_int_equal(f.ref_moy, -1);
	assert_near(f.beta0, 3.507380661429318, 1e-7);
	assert_near(f.beta1, -0.026768799111673652, 1e-7);
	assert_near(f.se_beta1, 0.01799454821574135, 1e-6);
	assert_near(f.phi, 1.3320278975326878, 1e-6);
	assert_near(f.df, 10.0, 0.0);
	for (m = 0; m < 12; m++)
		assert_true(isnan(f.season[m]));
}

/* Every August (month of the year 7) set to 0: its effect is -infinity; the
 * other estimates are the limit statsmodels approaches:
 *   y[moy == 7] = 0   (then as for the seasonal test)
 *   f = sm.GLM(yy, X, family=sm.families.Poisson()).fit(scale='X2', maxiter=200, tol=1e-12)
 *   -> params[:2] [3.7044869437374417, 0.008818839887680296],
 *      bse[1] 0.00516972728050368,
 *      scale 2.933482390734324, df 20, August coefficient -32.03 */
static void test_poisson_zero_season(void **state)
{
	double y[36];
	struct trend_series s = { y, ref_present, 36, 231 };
	struct trend_poisson f;
	size_t i;

	(void)state;
	ref_init();
	for (i = 0; i < 36; i++)
		y[i] = (231 + i) % 12 == 7 ? 0.0 : ref_y[i];
	assert_int_equal(trend_poisson_fit(&s, &f, NULL), 0);
	assert_int_equal(f.kind, TREND_FIT_SEASONAL);
	assert_int_equal(f.p, 13);
	assert_near(f.df, 20.0, 0.0);
	assert_near(f.beta0, 3.7044869437374417, 1e-6);
	assert_near(f.beta1, 0.008818839887680296, 1e-7);
	assert_near(f.se_beta1, 0.00516972728050368, 1e-6);
	assert_near(f.phi, 2.933482390734324, 1e-6);
	assert_true(isinf(f.season[7]) && f.season[7] < 0);
}

/* Too few months, all zero, a bad count, and a perfect exponential fit. */
static void test_poisson_edges(void **state)
{
	double y[8] = { 0, 0, 0, 0, 0, 0, 0, 0 };
	double ex[6];
	unsigned char pr[8] = { 1, 1, 1, 0, 0, 0, 0, 0 };
	struct trend_series s = { y, pr, 8, 0 };
	struct trend_poisson f;
	struct mb_error e = { 0 };
	size_t i;

	(void)state;
	y[0] = 5;
	assert_int_equal(trend_poisson_fit(&s, &f, &e), 0);
	assert_int_equal(f.kind, TREND_FIT_NONE);
	assert_int_equal(f.reason, TREND_REASON_TOO_FEW);
	assert_int_equal(f.n, 3);
	assert_int_equal(f.gaps, 5);
	assert_true(isnan(f.beta1) && isnan(f.annual));

	y[0] = 0;
	s.present = NULL;
	assert_int_equal(trend_poisson_fit(&s, &f, &e), 0);
	assert_int_equal(f.kind, TREND_FIT_NONE);
	assert_int_equal(f.reason, TREND_REASON_ALL_ZERO);

	y[2] = NAN;
	assert_int_equal(trend_poisson_fit(&s, &f, &e), -MB_EDATA);
	assert_int_equal(e.code, MB_EDATA);
	y[2] = -1;
	assert_int_equal(trend_poisson_fit(&s, &f, &e), -MB_EDATA);

	/* Crimes only in the last month: the MLE slope is +infinity (IRLS would
	 * stop at an absurd finite value); likewise only in the first. */
	y[0] = y[1] = y[2] = 0;
	y[3] = 5;
	s.n = 4;
	assert_int_equal(trend_poisson_fit(&s, &f, &e), 0);
	assert_int_equal(f.kind, TREND_FIT_NONE);
	assert_int_equal(f.reason, TREND_REASON_SEPARATED);
	assert_true(isnan(f.beta1) && isnan(f.annual) && isnan(f.phi));
	y[0] = 5;
	y[3] = 0;
	assert_int_equal(trend_poisson_fit(&s, &f, &e), 0);
	assert_int_equal(f.reason, TREND_REASON_SEPARATED);
	/* One crime in the middle of zeros is not separated: the score equations
	 * give b1 = 0 by symmetry (t = 0..4, crime at t = 2). */
	y[0] = 0;
	y[2] = 3;
	s.n = 5;
	assert_int_equal(trend_poisson_fit(&s, &f, &e), 0);
	assert_int_equal(f.kind, TREND_FIT_LINEAR);
	assert_int_equal(f.reason, TREND_REASON_FEW_MONTHS);
	assert_near(f.beta1, 0.0, 1e-9);

	/* y = 100 * 2^(t/12): exactly exp(b0 + b1 t) with 12 b1 = log 2, so the
	 * annual change is +100%, the fit perfect: phi = 0, p = 0. */
	for (i = 0; i < 6; i++)
		ex[i] = 100.0 * pow(2.0, (double)i / 12.0);
	s.count = ex;
	s.n = 6;
	assert_int_equal(trend_poisson_fit(&s, &f, &e), 0);
	assert_int_equal(f.kind, TREND_FIT_LINEAR);
	assert_near(f.annual, 1.0, 1e-9);
	assert_near(f.beta0, log(100.0), 1e-9);
	assert_true(f.phi < 1e-12);
	assert_true(f.p_beta1 < 1e-9);
}

/* ---- 3. Mann-Kendall ------------------------------------------------------ */

/* ref_y over its 33 present months. Reference:
 *   x = y[present]; t = np.arange(36)[present]; n = len(x)
 *   S = sum(np.sign(x[j]-x[i]) for i in range(n) for j in range(i+1, n))   # 61
 *   tau, _ = stats.kendalltau(t, x)   # tau-b; tau*sqrt(n0*(n0-n2)) = 61 too
 *   _, cnt = np.unique(x, return_counts=True)
 *   var = (n*(n-1)*(2*n+5) - sum(c*(c-1)*(2*c+5) for c in cnt))/18       # 4153
 *   z = (S - np.sign(S))/np.sqrt(var); p = 2*stats.norm.sf(abs(z))
 *   stats.theilslopes(x, t)[0]                                            # Sen */
static void test_mk_reference(void **state)
{
	struct trend_series s = { ref_y, ref_present, 36, 231 };
	struct trend_mk r;

	(void)state;
	ref_init();
	assert_int_equal(trend_mann_kendall(&s, &r, NULL), 0);
	assert_int_equal(r.n, 33);
	assert_int_equal(r.s, 61);
	assert_near(r.var_s, 4153.0, 1e-12);
	assert_near(r.z, 0.9310441696538225, 1e-12);
	assert_near(r.p, 0.35183071657910825, 1e-10);
	assert_near(r.sen, 0.2264957264957265, 1e-12);
}

/* Hand-computed: 1..5 -> S = 10, Var = 5*4*15/18 = 50/3, z = 9/sqrt(50/3);
 * all slopes 1. Constant -> S = 0, Var = (5*4*15 - 5*4*15)/18 = 0, p = 1.
 * Ties {1,1,2}: S = 0 + 1 + 1 = 2, Var = (3*2*11 - 2*1*9)/18 = 48/18.
 * Gap: 2 at month 0 and 8 at month 3 (months 1,2 gaps) -> Sen = 6/3 = 2. */
static void test_mk_hand(void **state)
{
	double up[5] = { 1, 2, 3, 4, 5 }, flat[5] = { 3, 3, 3, 3, 3 };
	double tie[3] = { 1, 1, 2 }, gap[4] = { 2, NAN, NAN, 8 };
	unsigned char gp[4] = { 1, 0, 0, 1 };
	struct trend_series s = { up, NULL, 5, 0 };
	struct trend_mk r;

	(void)state;
	assert_int_equal(trend_mann_kendall(&s, &r, NULL), 0);
	assert_int_equal(r.s, 10);
	assert_near(r.var_s, 50.0 / 3.0, 1e-12);
	assert_near(r.z, 9.0 / sqrt(50.0 / 3.0), 1e-12);
	assert_near(r.sen, 1.0, 0.0);
	s.count = flat;
	assert_int_equal(trend_mann_kendall(&s, &r, NULL), 0);
	assert_int_equal(r.s, 0);
	assert_near(r.var_s, 0.0, 0.0);
	assert_true(r.z == 0.0 && r.p == 1.0);
	assert_near(r.sen, 0.0, 0.0);
	s.count = tie;
	s.n = 3;
	assert_int_equal(trend_mann_kendall(&s, &r, NULL), 0);
	assert_int_equal(r.s, 2);
	assert_near(r.var_s, 48.0 / 18.0, 1e-12);
	s.count = gap;
	s.present = gp;
	s.n = 4;
	assert_int_equal(trend_mann_kendall(&s, &r, NULL), 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.s, 1);
	assert_near(r.sen, 2.0, 0.0);
	s.n = 1;
	assert_int_equal(trend_mann_kendall(&s, &r, NULL), 0);
	assert_true(isnan(r.sen) && r.p == 1.0);
}

/* ---- 4. c-chart ----------------------------------------------------------- */

/* qbinom(0.05, n, 0.5) for n = 1..59 from
 *   [int(stats.binom.ppf(0.05, n, 0.5)) for n in range(1, 60)]
 * (n = 23, i.e. 24 useful points: 8, as in Anhoej & Olesen 2014, table 1). */
static void test_crossing_limit(void **state)
{
	static const size_t want[59] = {
		0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 4, 5, 5, 6, 6, 6, 7, 7, 8, 8, 8,
		9, 9, 10, 10, 11, 11, 11, 12, 12, 13, 13, 14, 14, 14, 15, 15, 16, 16, 17,
		17, 17, 18, 18, 19, 19, 20, 20, 21, 21, 21, 22, 22, 23, 23
	};
	size_t n;

	(void)state;
	for (n = 1; n <= 59; n++)
		assert_int_equal(trend_crossing_limit(n), want[n - 1]);
	assert_int_equal(trend_crossing_limit(0), 0);
}

/* Hand-made: baseline months 0..11 = 6,12,9 x4 -> c-bar = 9, UCL = 9 + 3*3 =
 * 18, LCL = max(0, 0) = 0. Months 12..19 = 10,11,12,19,13,14,20,21.
 * Useful points: all but the four 9s (on the centre line) -> 16.
 * Longest run: month 10 (12), month 11 skipped (9 on the line), 12..19 -> 9
 * points above; run limit round(log2 16 + 3) = 7 -> signal.
 * Crossings: 6,12,6,12,6,12,6,12 alternate -> 7; limit qbinom(.05,15,.5) = 4.
 * Above UCL (> 18): 19, 20, 21 -> 3; last three months 14,20,21 -> 2 of 3. */
static void test_cchart_hand(void **state)
{
	double c[20] = { 6, 12, 9, 6, 12, 9, 6, 12, 9, 6, 12, 9,
	                 10, 11, 12, 19, 13, 14, 20, 21 };
	unsigned char fl[20];
	struct trend_series s = { c, NULL, 20, 0 };
	struct trend_cchart r;
	size_t i;

	(void)state;
	assert_int_equal(trend_cchart(&s, 0, 12, fl, &r, NULL), 0);
	assert_int_equal(r.n_baseline, 12);
	assert_near(r.centre, 9.0, 0.0);
	assert_near(r.ucl, 18.0, 0.0);
	assert_near(r.lcl, 0.0, 0.0);
	assert_int_equal(r.n_above, 3);
	assert_int_equal(r.n_below, 0);
	assert_int_equal(r.n_useful, 16);
	assert_int_equal(r.longest_run, 9);
	assert_int_equal(r.n_runs8, 1);
	assert_int_equal(r.run_limit, 7);
	assert_int_equal(r.run_signal, 1);
	assert_int_equal(r.crossings, 7);
	assert_int_equal(r.crossing_limit, 4);
	assert_int_equal(r.crossing_signal, 0);
	assert_int_equal(r.recent_n, 3);
	assert_int_equal(r.recent_above, 2);
	for (i = 0; i < 20; i++) {
		int in_run = i == 10 || i >= 12;

		assert_int_equal((fl[i] & TREND_CC_RUN) != 0, in_run);
		assert_int_equal((fl[i] & TREND_CC_BASELINE) != 0, i < 12);
		assert_int_equal((fl[i] & TREND_CC_ABOVE) != 0, i == 15 || i == 18 || i == 19);
		assert_int_equal(fl[i] & TREND_CC_GAP, 0);
	}
}

/* Hand-made with a gap: 1,1,1,1,1,[gap],9,9,9,9 (baseline = all):
 * c-bar = (5 + 36)/9 = 41/9, UCL = 41/9 + 3 sqrt(41/9), LCL = 0 (41/9 < 9*41/9...
 * 3 sqrt(4.556) = 6.40 > 4.556). Useful 9, one crossing; limit
 * qbinom(.05, 8, .5) = 2 -> signal. Runs 5 and 4 < 8; run limit
 * round(log2 9 + 3) = round(6.17) = 6 -> no signal. LCL > 0 case: baseline
 * 100 -> LCL = 100 - 30 = 70, a month of 60 is below it. */
static void test_cchart_gap_and_lcl(void **state)
{
	double c[10] = { 1, 1, 1, 1, 1, NAN, 9, 9, 9, 9 };
	unsigned char pr[10] = { 1, 1, 1, 1, 1, 0, 1, 1, 1, 1 }, fl[10];
	double d[4] = { 100, 100, 60, 131 };
	struct trend_series s = { c, pr, 10, 0 };
	struct trend_cchart r;

	(void)state;
	assert_int_equal(trend_cchart(&s, 0, 100, fl, &r, NULL), 0);
	assert_int_equal(r.n_baseline, 9);
	assert_near(r.centre, 41.0 / 9.0, 1e-15);
	assert_near(r.ucl, 41.0 / 9.0 + 3.0 * sqrt(41.0 / 9.0), 1e-15);
	assert_near(r.lcl, 0.0, 0.0);
	assert_int_equal(r.n_useful, 9);
	assert_int_equal(r.crossings, 1);
	assert_int_equal(r.crossing_limit, 2);
	assert_int_equal(r.crossing_signal, 1);
	assert_int_equal(r.longest_run, 5);
	assert_int_equal(r.run_limit, 6);
	assert_int_equal(r.run_signal, 0);
	assert_int_equal(r.n_runs8, 0);
	assert_int_equal(fl[5], TREND_CC_GAP | TREND_CC_BASELINE);

	s.count = d;
	s.present = NULL;
	s.n = 4;
	assert_int_equal(trend_cchart(&s, 0, 2, fl, &r, NULL), 0);
	assert_near(r.lcl, 70.0, 0.0);
	assert_near(r.ucl, 130.0, 0.0);
	assert_int_equal(r.n_below, 1);
	assert_int_equal(r.n_above, 1);
	assert_int_equal(fl[2], TREND_CC_BELOW);
	assert_int_equal(fl[3], TREND_CC_ABOVE);
}

/* An empty baseline gives no chart; an all-zero baseline gives c-bar = UCL =
 * 0, so any crime afterwards is above the limit. */
static void test_cchart_edges(void **state)
{
	double c[5] = { 0, 0, 0, 2, 0 };
	unsigned char pr[5] = { 0, 0, 1, 1, 1 };
	struct trend_series s = { c, pr, 5, 0 };
	struct trend_cchart r;
	struct mb_error e = { 0 };

	(void)state;
	assert_int_equal(trend_cchart(&s, 0, 2, NULL, &r, &e), 0);
	assert_int_equal(r.n_baseline, 0);
	assert_true(isnan(r.centre) && isnan(r.ucl));
	assert_int_equal(r.n_above, 0);
	assert_int_equal(trend_cchart(&s, 0, 3, NULL, &r, &e), 0);
	assert_near(r.centre, 0.0, 0.0);
	assert_near(r.ucl, 0.0, 0.0);
	assert_int_equal(r.n_above, 1);
	assert_int_equal(r.recent_above, 1);
	assert_int_equal(trend_cchart(&s, 7, 3, NULL, &r, &e), 0);
	assert_int_equal(r.n_baseline, 0);
	c[4] = INFINITY;
	assert_int_equal(trend_cchart(&s, 0, 3, NULL, &r, &e), -MB_EDATA);
}

/* ---- 5. Contribution ------------------------------------------------------ */

/* Hand: deltas 5, -20, 10, 0 with total -5 -> by |delta|: -20 (share 4),
 * 10 (-2), 5 (-1), 0 (-0). Total 0 -> undefined. */
static void test_contribution(void **state)
{
	double d[4] = { 5, -20, 10, 0 };
	struct trend_contrib out[4];
	int def = -1;
	struct mb_error e = { 0 };

	(void)state;
	assert_int_equal(trend_contribution(d, 4, -5.0, out, &def, &e), 0);
	assert_int_equal(def, 1);
	assert_int_equal(out[0].index, 1);
	assert_near(out[0].share, 4.0, 0.0);
	assert_int_equal(out[1].index, 2);
	assert_near(out[1].share, -2.0, 0.0);
	assert_int_equal(out[2].index, 0);
	assert_near(out[2].share, -1.0, 0.0);
	assert_int_equal(out[3].index, 3);
	assert_int_equal(trend_contribution(d, 4, 0.0, out, &def, &e), 0);
	assert_int_equal(def, 0);
	assert_true(isnan(out[0].share) && out[0].delta == -20.0);
	d[2] = NAN;
	assert_int_equal(trend_contribution(d, 4, 1.0, out, &def, &e), -MB_EDATA);
	assert_int_equal(trend_contribution(d, 0, 1.0, NULL, NULL, &e), 0);
}

/* ---- 6. Benjamini-Hochberg ------------------------------------------------ */

/* Reference:
 *   from statsmodels.stats.multitest import multipletests
 *   p = [0.01, 0.04, 0.03, 0.005, 0.20, 0.04, 0.5, 0.001, 0.8, 0.049]
 *   rej, q, _, _ = multipletests(p, alpha=0.05, method='fdr_bh') */
static void test_fdr_bh(void **state)
{
	static const double p[10] = { 0.01, 0.04, 0.03, 0.005, 0.20, 0.04, 0.5, 0.001, 0.8, 0.049 };
	static const double want[10] = {
		0.03333333333333333, 0.06666666666666667, 0.06666666666666667, 0.025, 0.25,
		0.06666666666666667, 0.5555555555555556, 0.01, 0.8, 0.07
	};
	static const unsigned char rej_want[10] = { 1, 0, 0, 1, 0, 0, 0, 1, 0, 0 };
	double q[10], pn[3] = { 0.02, NAN, 0.04 }, qn[3];
	unsigned char rej[10];
	struct mb_error e = { 0 };
	size_t i;

	(void)state;
	assert_int_equal(trend_fdr_bh(p, 10, 0.05, q, rej, &e), 0);
	for (i = 0; i < 10; i++) {
		assert_near(q[i], want[i], 1e-12);
		assert_int_equal(rej[i], rej_want[i]);
	}
	/* NAN is not a test: m = 2 -> q = (0.04, NAN, 0.04) (0.02*2/1 = 0.04). */
	assert_int_equal(trend_fdr_bh(pn, 3, 0.05, qn, NULL, &e), 0);
	assert_near(qn[0], 0.04, 1e-15);
	assert_true(isnan(qn[1]));
	assert_near(qn[2], 0.04, 1e-15);
	pn[1] = 1.5;
	assert_int_equal(trend_fdr_bh(pn, 3, 0.05, qn, NULL, &e), -MB_EUSAGE);
	assert_int_equal(trend_fdr_bh(p, 10, 0.0, q, NULL, &e), -MB_EUSAGE);
}

/* ---- 7. Verdict ----------------------------------------------------------- */

/* ---- 8. quasi-Poisson year on year ------------------------------------------
 * Independent values: statsmodels GLM (Poisson, one dummy per paired month
 * plus the window) on the same 2 x P table; phi = Pearson X^2 / df of that
 * fit; SE = the Poisson SE times sqrt(max(1, phi)); p and CI from Student t:
 *   m = sm.GLM(Y, X, family=sm.families.Poisson()).fit(tol=1e-13)
 *   phi = sum((Y - m.fittedvalues)**2 / m.fittedvalues) / df
 *   se = m.bse[-1] * sqrt(max(1, phi)); p = 2 t.sf(|b/se|, df)
 * Case 1: ref_y months 24..35 against 12..23 (its gap at 16..18 leaves 9
 * pairs). Case 2: under-dispersed counts: phi < 1 is floored at 1. */
static void test_qp_yoy(void **state)
{
	struct trend_qp_yoy q;
	double lo, hi;
	static const double L2[12] = { 10, 11, 9, 10, 10, 11, 9, 10, 10, 11, 9, 10 };
	static const double E2[12] = { 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8 };

	(void)state;
	ref_init();
	assert_int_equal(trend_qp_yoy(ref_y + 24, ref_present + 24, ref_y + 12, ref_present + 12, &q, NULL), 0);
	assert_int_equal(q.defined, 1);
	assert_int_equal(q.pairs, 9);
	assert_near(q.rr, 1.0054200542005385, 1e-12);
	assert_near(q.phi, 3.1941459578006546, 1e-9);
	assert_near(q.df, 8, 0);
	assert_near(q.se, 0.13139931485969902, 1e-9);
	assert_near(q.t, 0.04113734209859436, 1e-8);
	assert_near(q.p, 0.9681945518044351, 1e-9);
	assert_near(q.lo, 0.7425968754421035, 1e-9);
	assert_near(q.hi, 1.3612627777174453, 1e-9);
	trend_qp_interval(&q, 0.99, &lo, &hi);
	assert_near(lo, 0.6469474700170184, 1e-9);
	assert_near(hi, 1.5625217382209131, 1e-9);

	assert_int_equal(trend_qp_yoy(L2, NULL, E2, NULL, &q, NULL), 0);
	assert_near(q.phi, 0.024317478187447186, 1e-9);
	assert_true(q.phi_used == 1.0);
	assert_near(q.rr, 1.25, 1e-12);
	assert_near(q.se, 0.1369306393757263, 1e-12);
	assert_near(q.p, 0.13145872794785765, 1e-9);
	assert_near(q.lo, 0.9247436140288139, 1e-9);
	assert_near(q.hi, 1.68965751836088, 1e-9);
}

/* Zero in one window: 0.5 added to each (rr = 0.5/10.5); fewer than 2 pairs
 * or nothing at all: undefined; a negative present count: MB_EDATA. */
static void test_qp_yoy_edges(void **state)
{
	struct trend_qp_yoy q;
	struct mb_error e = { 0 };
	double zero[12] = { 0 }, ten[12] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0 };
	unsigned char one[12] = { 1 };

	(void)state;
	assert_int_equal(trend_qp_yoy(zero, NULL, ten, NULL, &q, NULL), 0);
	assert_int_equal(q.defined, 1);
	assert_int_equal(q.zero_corrected, 1);
	assert_near(q.rr, 0.5 / 10.5, 1e-15);
	assert_true(q.hi < 1.0 || q.p > 0.05);
	assert_int_equal(trend_qp_yoy(ten, one, ten, one, &q, NULL), 0);
	assert_int_equal(q.defined, 0);
	assert_int_equal(q.pairs, 1);
	assert_int_equal(trend_qp_yoy(zero, NULL, zero, NULL, &q, NULL), 0);
	assert_int_equal(q.defined, 0);
	assert_true(q.p == 1.0);
	ten[3] = -1;
	assert_int_equal(trend_qp_yoy(zero, NULL, ten, NULL, &q, &e), -MB_EDATA);
	assert_int_equal(e.code, MB_EDATA);
}

/* ---- 9. FCR intervals --------------------------------------------------------
 * Benjamini & Yekutieli (2005): after BH rejects R of m at level q, intervals
 * at 1 - R q / m. The level by hand (R = 0 uses 1, as for the construction's
 * conservative fallback), then the property the verdict rests on: over a
 * family of 12 series with rising later windows, an FCR interval excludes 1
 * exactly when BH rejects. */
static void test_fcr_agrees_with_bh(void **state)
{
	struct trend_qp_yoy q[12];
	double p[12], qv[12], level;
	unsigned char rej[12];
	size_t nrej = 0, i;

	(void)state;
	assert_near(trend_fcr_level(13, 2, 0.05), 1 - 0.1 / 13, 1e-15);
	assert_near(trend_fcr_level(13, 0, 0.05), 1 - 0.05 / 13, 1e-15);
	assert_near(trend_fcr_level(1, 0, 0.05), 0.95, 1e-15);
	for (i = 0; i < 12; i++) {
		double later[12], earlier[12];

		for (int j = 0; j < 12; j++) {
			earlier[j] = 20 + (j % 3);
			/* rises from 0% to ~110% across the family, with month noise */
			later[j] = floor(earlier[j] * (1.0 + 0.1 * (double)i) + ((j * 7 + (int)i) % 5) - 2);
		}
		assert_int_equal(trend_qp_yoy(later, NULL, earlier, NULL, &q[i], NULL), 0);
		p[i] = q[i].p;
	}
	assert_int_equal(trend_fdr_bh(p, 12, 0.05, qv, rej, NULL), 0);
	for (i = 0; i < 12; i++)
		nrej += rej[i];
	assert_true(nrej > 0 && nrej < 12); /* the family mixes both outcomes */
	level = trend_fcr_level(12, nrej, 0.05);
	for (i = 0; i < 12; i++) {
		double lo, hi;

		trend_qp_interval(&q[i], level, &lo, &hi);
		assert_int_equal(rej[i], lo > 1.0 || hi < 1.0);
	}
}

/* ---- 10. seasonal Kendall -----------------------------------------------------
 * ref_y (3 years from April, a gap at 16..18): independent Python: per month
 * of the year S_k by the double loop (cross-checked against scipy's
 * kendalltau: tau_b sqrt(n0 (n0 - n2)) = S_k), Var = sum of Kendall's
 * variances with the tie term, z = (S - 1)/sqrt(Var), p = 2 norm.sf(|z|),
 * slope = median of the within-month slopes per year: S = 7, Var = 35,
 * z = 1.01418510567422, p = 0.3104944343172349, slope 2.25 a year. A series
 * of 23 months is not 2 full years. */
static void test_seasonal_kendall(void **state)
{
	struct trend_series s;
	struct trend_skendall k;

	(void)state;
	ref_init();
	s = (struct trend_series){ ref_y, ref_present, 36, 231 };
	assert_int_equal(trend_has_two_years(&s), 1);
	assert_int_equal(trend_seasonal_kendall(&s, &k, NULL), 0);
	assert_int_equal(k.n, 33);
	assert_int_equal(k.seasons, 12);
	assert_int_equal(k.s, 7);
	assert_near(k.var_s, 35.0, 1e-12);
	assert_near(k.z, 1.01418510567422, 1e-12);
	assert_near(k.p, 0.3104944343172349, 1e-12);
	assert_near(k.sen, 2.25, 1e-12);
	s.n = 23;
	assert_int_equal(trend_has_two_years(&s), 0);
	/* hand: 1, 2 in January and 3, 5 in February: S = 2, Var = 2 (1 + 1),
	 * slopes 1 and 2 a year: median 1.5 */
	static const double h[14] = { 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 5 };
	static const unsigned char hp[14] = { 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1 };

	s = (struct trend_series){ h, hp, 14, 0 };
	assert_int_equal(trend_seasonal_kendall(&s, &k, NULL), 0);
	assert_int_equal(k.s, 2);
	assert_near(k.var_s, 2.0, 1e-15);
	assert_near(k.z, 1.0 / sqrt(2.0), 1e-15);
	assert_near(k.sen, 1.5, 1e-15);
}

/* ---- 7. verdict ---------------------------------------------------------------
 * Exact strings. The judged figures are given (as cmd_trends passes them);
 * the exact test's come from trend_yoy_test (scipy binomtest: 117/87 p 0.042,
 * CI +1.03% to +79.6%; 468/525 p 0.0755, CI -21.5% to +1.17%; 90 in 9
 * months/100: p 0.200... on monthly rates 0.237 as in the table above). The
 * words follow the judged interval: "Rising"/"Falling" only when it excludes
 * no change; the long-run clause decides the headline when year on year does
 * not. */
static void test_verdict(void **state)
{
	static const struct {
		unsigned long a;
		int am;
		unsigned long b;
		int bm;
		struct trend_judged y;
		double phi;
		const char *family;
		int long_run;
		struct trend_judged t;
		int chart;            /* use the chart with 2 of 3 above */
		const char *want;
	} cases[] = {
		{1200, 12, 1000, 12, {1, 1.2, 1.1, 1.31, 0.95, 0.0004, 0}, 2.0, "the total, tested alone", 0, {0}, 0,
		 "Rising: +20% year on year (95% CI +10% to +31%), significant (p < 0.001); quasi-Poisson "
		 "rate ratio, phi = 2.00; Poisson exact test (secondary, unadjusted): p < 0.001, 95% CI +10% "
		 "to +31%; the total, tested alone"},
		/* the bicycle theft: the exact interval excludes 0, the verdict's does not */
		{117, 12, 87, 12, {1, 1.3448, 0.7702, 2.3481, 0.99231, 0.3629, 1}, 1.4645,
		 "one of 13 types tested together (FDR 5%)", 0, {0}, 0,
		 "Within normal variation: +34% year on year (FCR-adjusted 99.2% CI -23% to +135%), not "
		 "significant (adjusted p = 0.36); quasi-Poisson rate ratio, phi = 1.46; Poisson exact test "
		 "(secondary, unadjusted): p = 0.04, 95% CI +1% to +80%; one of 13 types tested together (FDR 5%)"},
		/* a family of 104 with one rejection: 1 - 0.05/104 is "99.95%", not "100%" */
		{117, 12, 87, 12, {1, 1.3448, 0.5, 3.5, 0.99951923, 0.84, 1}, NAN, NULL, 0, {0}, 0,
		 "Within normal variation: +34% year on year (FCR-adjusted 99.95% CI -50% to +250%), not "
		 "significant (adjusted p = 0.84); Poisson exact test (secondary, unadjusted): p = 0.04, "
		 "95% CI +1% to +80%"},
		/* public order over 58 months: the long-run fall leads */
		{468, 12, 525, 12, {1, 0.8914, 0.6615, 1.2013, 0.975, 0.5115, 1}, 2.08,
		 "one of 2 types tested together (FDR 5%)", 1, {1, 0.90, 0.87, 0.93, 0.95, 0.00001, 1}, 0,
		 "Falling over the period: -11% year on year (FCR-adjusted 97.5% CI -34% to +20%), not "
		 "significant (adjusted p = 0.51); quasi-Poisson rate ratio, phi = 2.08; Poisson exact test "
		 "(secondary, unadjusted): p = 0.08, 95% CI -21% to +1%; one of 2 types tested together "
		 "(FDR 5%); long-run trend -10% a year over 58 months (FCR-adjusted 95% CI -13% to -7%), "
		 "significant (adjusted p < 0.001)"},
		{90, 9, 100, 12, {1, 1.2, 0.9, 1.6, 0.95, 0.3, 0}, NAN, NULL, 0, {0}, 1,
		 "Within normal variation: +20% year on year (95% CI -10% to +60%), not significant "
		 "(p = 0.30); Poisson exact test (secondary, unadjusted): p = 0.24, 95% CI -11% to +61%; "
		 "partial year (9 and 12 of 12 months present, same months compared); 2 of the last 3 "
		 "months above the control limit"},
		/* a limit near 0 keeps its sign */
		{1050, 12, 1000, 12, {1, 1.05, 1.004, 1.11, 0.95, 0.03, 0}, NAN, NULL, 0, {0}, 0,
		 "Rising: +5% year on year (95% CI +0.4% to +11%), significant (p = 0.03); Poisson exact "
		 "test (secondary, unadjusted): p = 0.28, 95% CI -4% to +15%"},
		{12, 12, 0, 12, {1, 25, 3.2, 195, 0.95, 0.002, 0}, NAN, NULL, 0, {0}, 0,
		 "Rising: 12 against 0 the year before (95% CI of the rate ratio 3.2 to 195, 0.5 added to "
		 "each count), significant (p = 0.002); Poisson exact test (secondary, unadjusted): p < 0.001"},
		{3, 12, 5, 12, {0}, NAN, "not tested", 0, {0}, 0,
		 "Too few crimes to judge year on year: 3 against 5 the year before (fewer than 10 in the "
		 "two years); not tested"},
		{40, 4, 100, 12, {0}, NAN, NULL, 0, {0}, 0,
		 "Too few months to judge year on year: 4 of the last 12 months and 12 of the previous 12 present"},
		{0, 12, 0, 12, {0}, NAN, NULL, 0, {0}, 0, "Nothing recorded in either year"},
	};
	struct trend_cchart ch;
	char buf[1024];
	size_t i;

	(void)state;
	memset(&ch, 0, sizeof(ch));
	ch.n_baseline = 12;
	ch.recent_n = 3;
	ch.recent_above = 2;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct trend_yoy y;
		struct trend_verdict_opts o = { .alpha = 0.05, .family = cases[i].family,
			.yoy = cases[i].y, .phi = cases[i].phi, .long_run = cases[i].long_run,
			.months = 58, .trend = cases[i].t };
		struct mb_error e = { 0 };

		assert_int_equal(trend_yoy_test(cases[i].a, cases[i].am, cases[i].b,
			cases[i].bm, &y, NULL), 0);
		assert_int_equal(trend_verdict(&y, cases[i].chart ? &ch : NULL, &o, buf,
			sizeof(buf), &e), 0);
		assert_string_equal(buf, cases[i].want);
	}
}

/* A buffer too small is an error and still holds a terminated string; so is
 * a used p outside [0, 1] and alpha outside (0, 1). */
static void test_verdict_errors(void **state)
{
	struct trend_yoy y;
	struct trend_verdict_opts o = { .alpha = 0.05,
		.yoy = { 1, 1.2, 1.1, 1.31, 0.95, 0.0004, 0 }, .phi = NAN };
	struct mb_error e = { 0 };
	char small[16];

	(void)state;
	assert_int_equal(trend_yoy_test(1200, 12, 1000, 12, &y, NULL), 0);
	assert_int_equal(trend_verdict(&y, NULL, &o, small, sizeof(small), &e), -MB_EUSAGE);
	assert_int_equal(e.code, MB_EUSAGE);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_string_equal(small, "Rising: +20% ye");
	o.yoy.p = NAN;
	assert_int_equal(trend_verdict(&y, NULL, &o, small, sizeof(small), &e), -MB_EUSAGE);
	o.yoy.p = 0.0004;
	o.alpha = 0;
	assert_int_equal(trend_verdict(&y, NULL, &o, small, sizeof(small), &e), -MB_EUSAGE);
}

/* ---- Families of tests (trend_verdict.c; moved from cmd_trends) ---------- */

/* The Cauchy (Student t, 1 df) upper quantile in closed form: Q^-1(p) =
 * tan(pi (1/2 - p)) = 1 / tan(pi p), independent of GSL's t quantile. */
static double cauchy_qinv(double p)
{
	return 1.0 / tan(M_PI * p);
}

static void test_judge_alone(void **state)
{
	struct trend_qp_yoy qp = { .defined = 1, .rr = 1.5, .se = 0.1, .df = 1, .p = 0.2 };
	struct trend_poisson fit = { .kind = TREND_FIT_LINEAR, .beta1 = 0.01, .se_beta1 = 0.002,
				     .df = 1, .annual = 0.2, .p_beta1 = 0.04 };
	struct trend_judged jy, jt;
	double tq = cauchy_qinv(0.025); /* 95%: 12.7062... */

	(void)state;
	trend_judge_alone(&qp, &fit, 1, 0.05, &jy, &jt);
	assert_int_equal(jy.defined, 1);
	assert_near(jy.est, 1.5, 1e-12);
	assert_near(jy.level, 0.95, 1e-12);
	assert_near(jy.p, 0.2, 1e-12);
	assert_int_equal(jy.adjusted, 0);
	assert_near(tq, 12.706204736174698, 1e-9);
	assert_near(jy.lo, exp(log(1.5) - tq * 0.1), 1e-9);
	assert_near(jy.hi, exp(log(1.5) + tq * 0.1), 1e-9);
	assert_int_equal(jt.defined, 1);
	assert_near(jt.est, 1.2, 1e-12);
	assert_near(jt.p, 0.04, 1e-12);
	assert_near(jt.lo, exp(12 * (0.01 - tq * 0.002)), 1e-9);
	assert_near(jt.hi, exp(12 * (0.01 + tq * 0.002)), 1e-9);
	/* no fit: the trend is not defined and has no interval */
	fit.kind = TREND_FIT_NONE;
	trend_judge_alone(&qp, &fit, 0, 0.05, &jy, &jt);
	assert_int_equal(jt.defined, 0);
	assert_true(isnan(jt.lo) && isnan(jt.hi));
}

static void test_judge_family(void **state)
{
	/* p = 0.01, 0.04, 0.30 at FDR 0.05: m p_(j) / j = 0.03, 0.06, 0.30, so the
	 * BH q are 0.03, 0.06, 0.30 and one test is rejected; the FCR level is
	 * 1 - 1 x 0.05 / 3 = 0.98333..., a two-sided tail of 0.05 / 6 each. (The
	 * p and se are set apart: the family only reads p and widens by se.) */
	struct trend_qp_yoy qp[3] = {
		{ .defined = 1, .rr = 2.0, .se = 0.05, .df = 1, .p = 0.30 },
		{ .defined = 1, .rr = 0.5, .se = 0.2, .df = 1, .p = 0.01 },
		{ .defined = 1, .rr = 1.1, .se = 0.1, .df = 1, .p = 0.04 },
	};
	struct trend_poisson fit[3] = { { 0 } };
	struct trend_judged j[3] = { { 0 } };
	struct trend_member mem[3];
	struct mb_error err = { 0 };
	double tq = cauchy_qinv(0.05 / 6), want_q[3] = { 0.30, 0.03, 0.06 };

	(void)state;
	for (int i = 0; i < 3; i++)
		mem[i] = (struct trend_member){ .qp = &qp[i], .fit = &fit[i], .judged = &j[i] };
	assert_int_equal(trend_judge_family(mem, 3, 0, 0.05, &err), 0);
	for (int i = 0; i < 3; i++) {
		assert_near(j[i].p, want_q[i], 1e-12);
		assert_near(j[i].level, 1 - 0.05 / 3, 1e-12);
		assert_int_equal(j[i].adjusted, 1);
		assert_near(j[i].lo, exp(log(qp[i].rr) - tq * qp[i].se), 1e-9);
		assert_near(j[i].hi, exp(log(qp[i].rr) + tq * qp[i].se), 1e-9);
	}
	/* a family of one is not adjusted: p stays, level 0.95 */
	assert_int_equal(trend_judge_family(mem + 2, 1, 0, 0.05, &err), 0);
	assert_near(j[2].p, 0.04, 1e-12);
	assert_near(j[2].level, 0.95, 1e-12);
	assert_int_equal(j[2].adjusted, 0);
	/* the long-run family reads fit->p_beta1 */
	fit[0] = (struct trend_poisson){ .kind = TREND_FIT_LINEAR, .df = 1, .p_beta1 = 0.02,
					 .beta1 = 0.01, .se_beta1 = 0.001 };
	fit[1] = (struct trend_poisson){ .kind = TREND_FIT_LINEAR, .df = 1, .p_beta1 = 0.5 };
	assert_int_equal(trend_judge_family(mem, 2, 1, 0.05, &err), 0);
	assert_near(j[0].p, 0.04, 1e-12); /* 2 x 0.02 / 1 */
	assert_near(j[1].p, 0.5, 1e-12);
	assert_near(j[0].level, 1 - 0.05 / 2, 1e-12);
	assert_near(j[0].lo, exp(12 * (0.01 - cauchy_qinv(0.05 / 4) * 0.001)), 1e-9);
	/* empty family: nothing to do; a p outside [0, 1] is refused */
	assert_int_equal(trend_judge_family(NULL, 0, 0, 0.05, &err), 0);
	qp[0].p = 1.5;
	assert_int_equal(trend_judge_family(mem, 3, 0, 0.05, &err), -MB_EUSAGE);
}

static void test_change_share(void **state)
{
	(void)state;
	/* +2 of a total change of +10 */
	assert_near(trend_change_share(5, 3, 20, 10), 0.2, 1e-15);
	/* a fall inside a total rise counts against it */
	assert_near(trend_change_share(1, 4, 30, 20), -0.3, 1e-15);
	/* the total did not change: no share */
	assert_true(isnan(trend_change_share(5, 3, 12, 12)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yoy_table),
		cmocka_unit_test(test_yoy_z),
		cmocka_unit_test(test_yoy_edges),
		cmocka_unit_test(test_yoy_p_lgamma),
		cmocka_unit_test(test_yoy_series),
		cmocka_unit_test(test_poisson_seasonal),
		cmocka_unit_test(test_poisson_linear_fallback),
		cmocka_unit_test(test_poisson_zero_season),
		cmocka_unit_test(test_poisson_edges),
		cmocka_unit_test(test_mk_reference),
		cmocka_unit_test(test_mk_hand),
		cmocka_unit_test(test_crossing_limit),
		cmocka_unit_test(test_cchart_hand),
		cmocka_unit_test(test_cchart_gap_and_lcl),
		cmocka_unit_test(test_cchart_edges),
		cmocka_unit_test(test_contribution),
		cmocka_unit_test(test_fdr_bh),
		cmocka_unit_test(test_qp_yoy),
		cmocka_unit_test(test_qp_yoy_edges),
		cmocka_unit_test(test_fcr_agrees_with_bh),
		cmocka_unit_test(test_seasonal_kendall),
		cmocka_unit_test(test_verdict),
		cmocka_unit_test(test_verdict_errors),
		cmocka_unit_test(test_judge_alone),
		cmocka_unit_test(test_judge_family),
		cmocka_unit_test(test_change_share),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
