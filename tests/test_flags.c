/*
 * Unit tests for flags (geographic priorities): every figure is checked
 * against values computed independently with Python 3.11, scipy 1.10 and
 * statsmodels 0.13 (Debian 12's python3-scipy / python3-statsmodels; the
 * code is quoted above each table, the reference case's whole script is
 * tests/flags_reference.py) or by hand (arithmetic in the comment).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

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


/* P(X >= k) for mean mu, variance phi mu:
 *   scipy.stats.nbinom.sf(k - 1, mu / (phi - 1), 1 / phi) */
static void test_od_sf(void **state)
{
	static const struct { unsigned long k; double mu, phi, want; } t[] = {
		{ 1, 2.5, 2, 0.82322330470336313 },
		{ 5, 2.5, 2, 0.16419495089973887 },
		{ 10, 2.5, 3, 0.027321976794284029 },
		{ 30, 10, 1.5, 5.870963395339987e-05 },
		{ 150, 100, 4, 0.012408748452002337 },
		{ 60, 100, 22, 0.80372688275729542 },
		{ 700, 409.9, 22, 0.0044905769408662543 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_rel(flags_od_sf(t[i].k, t[i].mu, t[i].phi), t[i].want, 1e-8);
	/* phi <= 1 is the Poisson tail; k = 0 is certain */
	assert_true(flags_od_sf(5, 2.5, 1.0) == flags_poisson_sf(5, 2.5));
	assert_true(flags_od_sf(5, 2.5, 0.5) == flags_poisson_sf(5, 2.5));
	assert_true(flags_od_sf(0, 2.5, 3.0) == 1.0);
}

/* Over-dispersed funnel limits: the interpolation of test_poisson_limits on
 * scipy.stats.nbinom(mu / (phi - 1), 1 / phi) (ppf, cdf). */
static void test_od_limits(void **state)
{
	static const struct { double mu, phi, level, lo, hi; } t[] = {
		{ 4, 2, 0.95, 0, 10.331868131868131 },
		{ 25, 3, 0.998, 4.6416778754619337, 58.459576245077088 },
		{ 250, 1.4, 0.95, 213.6870855953666, 287.0069364923894 },
		{ 250, 22, 0.998, 79.379376248701263, 540.69169076636308 },
		{ 3000, 62, 0.95, 2213.8783266880819, 3901.4502278311516 },
	};
	struct mb_error err = { 0 };
	double lo, hi;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(flags_od_limits(t[i].mu, t[i].phi, t[i].level, &lo, &hi, &err), 0);
		assert_near(lo, t[i].lo, 1e-8);
		assert_near(hi, t[i].hi, 1e-8);
	}
	assert_int_equal(flags_od_limits(5, 0, 0.95, &lo, &hi, &err), -MB_EUSAGE);
}

/* Spiegelhalter's winsorised phi of 21 z-scores: floor(2.1) = 2 clipped at
 * each end; scipy.stats.mstats.winsorize(z, limits=(0.1, 0.1)) gives the
 * same 2.5880952380952387 for the mean of the squares. */
static void test_winsor_phi(void **state)
{
	static const double z[] = { 3.1, -0.4, 0.2, -2.5, 1.7, 0.9, -1.1, 5.6, 0.0, -0.7, 1.3,
				    -3.3, 2.2, 0.5, -0.1, 0.8, -1.9, 4.0, 0.3, -0.6, 1.1 };

	(void)state;
	assert_near(flags_winsor_phi(z, 21), 2.5880952380952382, 1e-14);
	/* fewer than 10: nothing clipped: (1 + 4 + 9) / 3 */
	assert_near(flags_winsor_phi((const double[]){ 1, -2, 3 }, 3), 14.0 / 3.0, 1e-14);
	assert_true(isnan(flags_winsor_phi(z, 0)));
}

static void test_letters(void **state)
{
	static const struct { unsigned f; const char *want; } t[] = {
		{ 0, "-" }, { FLAGS_HIGH, "H" }, { FLAGS_RISING | FLAGS_CONTROL, "RC" },
		{ FLAGS_HIGH | FLAGS_RISING | FLAGS_CONTROL, "HRC" }, { FLAGS_CONTROL, "C" },
	};
	char buf[4];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		flags_letters(t[i].f, buf);
		assert_string_equal(buf, t[i].want);
	}
}

/* The reference case: 6 units (populations below), 2 categories (harm 10
 * and 1), 27 months, the period the last 12 (period_first = 15). Counts drawn
 * once by tests/flags_reference.py (numpy default_rng(20261203)): unit rates
 * vary (gamma), months are over-dispersed, unit 0 x category 0 triples from
 * month 15 and unit 5 x category 1 has a spike in month 26. Every value
 * below comes from that script (scipy, statsmodels GLM, multipletests):
 *   E = district rate x population; phi = 10%-winsorised mean z^2, floor 1;
 *   p_high = nbinom.sf(O - 1, E / (phi - 1), 1 / phi); BH over all 12;
 *   EB (Marshall 1991): m = sum O / sum E, s2 = sum E (O/E - m)^2 / sum E,
 *     v = s2 - m / mean(E); posterior gamma(m^2/v + O, rate m/v + E);
 *   rise: months 3..26, binomtest(a, a + b) and GLM(y, [1, later],
 *     Poisson).fit(): t = b1 / (bse sqrt(max(1, X2/df))), p = 2 t.sf(|t|, 22);
 *   Laney: baseline months 0..23, sigma_z = mean |diff z| / 1.128 (floor 1),
 *     p = 1 - (1 - nbinom.sf(max recent - 1, ...))^3; no chart below c-bar 1;
 *   unit harm: moment-matched gamma (a 200,000-draw Monte Carlo agrees to
 *     0.002: see the script's last line). */
#define NU 6
#define NC 2
#define NM 27

static const double ref_pop[NU] = { 1000, 2000, 3000, 1500, 2500, 4000 };
static const double ref_harm[NC] = { 10, 1 };
static const double ref_count[] = {
	0, 1, 0, 1,
	0, 0, 1, 0,
	0, 0, 0, 0,
	2, 2, 0, 0,
	2, 1, 3, 1,
	0, 2, 1, 1,
	3, 3, 2, 0,
	0, 1, 1, 2,
	0, 0, 1, 0,
	0, 1, 1, 1,
	4, 0, 1, 2,
	0, 0, 0, 1,
	0, 1, 1, 2,
	1, 0, 6, 6,
	3, 2, 10, 1,
	2, 4, 3, 3,
	6, 2, 4, 5,
	15, 3, 4, 2,
	5, 4, 8, 5,
	5, 6, 3, 3,
	2, 3, 6, 3,
	1, 1, 4, 0,
	4, 3, 6, 0,
	3, 4, 3, 2,
	1, 10, 5, 4,
	4, 0, 3, 3,
	1, 4, 3, 3,
	8, 7, 0, 8,
	8, 5, 5, 4,
	9, 9, 5, 9,
	9, 11, 8, 3,
	13, 1, 9, 4,
	17, 23, 7, 7,
	10, 17, 4, 1,
	7, 3, 0, 1,
	2, 4, 0, 2,
	3, 1, 0, 1,
	2, 1, 0, 3,
	2, 4, 1, 4,
	1, 0, 1, 0,
	1, 3, 4, 5,
	2, 4, 11, 2,
	0, 7, 1, 3,
	3, 2, 4, 2,
	7, 5, 1, 4,
	1, 16, 0, 1,
	0, 3, 0, 0,
	3, 0, 1, 1,
	0, 2, 1, 0,
	0, 2, 2, 0,
	1, 1, 2, 0,
	1, 1, 0, 3,
	0, 0, 0, 0,
	0, 1, 0, 0,
	7, 5, 0, 1,
	2, 4, 0, 1,
	1, 2, 1, 0,
	0, 3, 5, 0,
	2, 1, 0, 4,
	0, 4, 4, 1,
	1, 4, 2, 0,
	0, 0, 0, 0,
	0, 0, 1, 2,
	0, 0, 0, 0,
	0, 1, 1, 0,
	3, 1, 2, 1,
	1, 0, 1, 0,
	1, 3, 12, 17,
	3, 15, 3, 7,
	13, 11, 16, 13,
	12, 3, 8, 27,
	12, 25, 6, 22,
	15, 4, 8, 5,
	24, 12, 9, 10,
	12, 2, 2, 1,
	4, 0, 1, 1,
	4, 1, 3, 1,
	0, 1, 3, 2,
	1, 1, 0, 1,
	3, 0, 1, 1,
	3, 1, 4, 9,
};
static const double want_E[] = {
	28.071428571428569, 8.2142857142857135, 56.142857142857139, 16.428571428571427,
	84.214285714285708, 24.642857142857142, 42.107142857142854, 12.321428571428571,
	70.178571428571431, 20.535714285714285, 112.28571428571428, 32.857142857142854,
};
static const double want_phi[] = {
	10.363613231552163, 7.4837198067632853,
};
static const double want_phigh[] = {
	0.6689544046446505, 0.36835255034052383, 0.55895343512482354, 0.036616454141072882,
	0.15013492598498321, 0.59137956755338639, 0.6107968610643536, 0.7371413285934485,
	0.98916858896845994, 0.67291423377511417, 0.12787906168909649, 0.66632615394820549,
};
static const double want_qhigh[] = {
	0.80415417664739841, 0.80415417664739841, 0.80415417664739841, 0.43939744969287459,
	0.60053970393993283, 0.80415417664739841, 0.80415417664739841, 0.80415417664739841,
	0.98916858896845994, 0.80415417664739841, 0.60053970393993283, 0.80415417664739841,
};
static const double want_m[] = {
	1, 1,
};
static const double want_v[] = {
	0.14295592719926967, 0.33828103339634535,
};
static const double want_rr[] = {
	0.74130851652045415, 1.0703389085566033, 0.90270747898783521, 2.2675685937838472,
	1.337527687639481, 0.83177431595153573, 0.83489282773698781, 0.58622761233902343,
	0.38867061660709185, 0.72178784960264886, 1.3329476329088807, 0.78060802633518633,
};
static const double want_rrlo[] = {
	0.48422608687982477, 0.55227934714886984, 0.68369320049812232, 1.6473350342925823,
	1.1107316210251383, 0.52701756739834693, 0.59912079497859994, 0.26744705091562665,
	0.26222528551697022, 0.4201342611089654, 1.1338085420340283, 0.5185248844901843,
};
static const double want_rrhi[] = {
	1.0522597093171908, 1.7569303168445345, 1.1516862885717669, 2.9853627381994801,
	1.5850802240813244, 1.2049495281322324, 1.1091753622727347, 1.0279651976795079,
	0.53960239669993915, 1.1037290081538691, 1.5479605785812147, 1.0954473544107486,
};
static const double want_prt[] = {
	0.0031438484385423061, 0.30898803111113615, 0.01074534768149191, 0.99991597187534664,
	0.87424209011564913, 0.026335527810569855, 0.0058259107890041443, 0.0055784827812597887,
	1.0585479652695631e-14, 0.0090385997248436951, 0.8989180422644022, 0.0060439790884008202,
};
static const double want_pr1[] = {
	0.047458868170896867, 0.55380796847562541, 0.20328568613018141, 0.99999884971652431,
	0.99878880656562963, 0.16378782585189569, 0.10702773309834906, 0.031416391796528775,
	2.9612331932045656e-10, 0.067024241639449159, 0.99969956329891752, 0.076690459632213492,
};
static const double want_rise_exact[] = {
	0.014633297920227051, 0.82380294799804688, 0.56209268505379006, 0.28878428041410492,
	0.093450934176634401, 0.74282935872906819, 0.21851803947870374, 0.332305908203125,
	0.76079164256134391, 0.0308837890625, 0.51982330073533123, 0.65873807702365639,
};
static const double want_rise_qp[] = {
	0.022576975443003182, 0.67700544823267228, 0.64321153158639766, 0.36210997505225073,
	0.29790309808748611, 0.6593499696200521, 0.54845705577603021, 0.29894042111569208,
	0.71390340033638711, 0.045934126097179249, 0.7257852437676211, 0.68702911693452484,
};
static const double want_rise_phi[] = {
	1.0071770334928216, 1.1184573002754818, 2.0730143540669839, 1.5930190973463974,
	2.668642951251647, 1.2155080213903744, 4.8091141594977946, 1.2603305785123966,
	1.5150197628458495, 1.0909090909090915, 3.9053998632945932, 2.0815584415584412,
};
static const double want_qrise[] = {
	0.27092370531603821, 0.82380294799804688, 0.82380294799804688, 0.82380294799804688,
	0.82380294799804688, 0.82380294799804688, 0.82380294799804688, 0.82380294799804688,
	0.82380294799804688, 0.27560475658307554, 0.82380294799804688, 0.82380294799804688,
};
static const double want_cc_centre[] = {
	0.75, 0.75, 4.75, 3.0833333333333335,
	7.875, 1.8333333333333333, 3.6666666666666665, 0.75,
	2, 0.58333333333333337, 12.208333333333334, 1.5416666666666667,
};
static const double want_cc_sz[] = {
	1, 1, 1.2733528244434511, 1.3170554982689624,
	1.5520875905079641, 1.3664180312229355, 1.952536150289395, 1,
	1.3082456636198847, 1, 2.3828056771997819, 1.0865153530291793,
};
static const double want_cc_ucl[] = {
	3.348076211353316, 3.348076211353316, 13.075624421831639, 10.021353684859697,
	20.941604995374657, 7.3837496145544268, 14.883132901634287, 3.348076211353316,
	7.5504162812210938, 2.8746211808112538, 37.185206598828245, 5.588845205057047,
};
static const double want_cc_p[] = {
	NAN, NAN, 0.98958654477865737, 0.7395431334650584,
	0.12010129603077679, 0.628282112303163, 0.88558952945748148, NAN,
	0.44975866560615818, NAN, 0.8343932488594763, 0.00078321505426504068,
};
static const double want_qcc[] = {
	NAN, NAN, 0.98958654477865737, 0.98958654477865737,
	0.48040518412310718, 0.98958654477865737, 0.98958654477865737, NAN,
	0.98958654477865737, NAN, 0.98958654477865737, 0.0062657204341203254,
};
static const double want_harm_excess[] = {
	-72.040611113614688, -33.79845989895216, 280.10096973376858, -74.620179811569642,
	-434.73551321961162, 366.64403438869931,
};
static const double want_harm_p[] = {
	0.048584904835564498, 0.29709728442593192, 0.99853866350840259, 0.092774303956985368,
	1.3696165681557792e-10, 0.9995951188719544,
};
/* Monte Carlo P(harm RR > 1), 200000 draws: 0.0489 0.2971 0.9986 0.0916 0.0000 0.9996 */
/* O: [19.0, 9.0, 50.0, 41.0, 115.0, 20.0, 34.0, 6.0, 23.0, 14.0, 152.0, 25.0] */

static void test_compute_reference(void **state)
{
	struct flags_input in = { .nunit = NU, .ncat = NC, .nmonth = NM, .first_month = 288,
				  .period_first = 15, .count = ref_count, .population = ref_pop,
				  .harm = ref_harm };
	struct flags_params par;
	struct flags_result *r = NULL;
	struct mb_error err = { 0 };

	(void)state;
	flags_params_init(&par);
	par.min_cats = 2;
	par.top_n = 2;
	assert_int_equal(flags_compute(&in, &par, &r, &err), 0);
	for (size_t c = 0; c < NC; c++) {
		assert_near(r->cat[c].phi_used, want_phi[c], 1e-12);
		assert_near(r->cat[c].eb_mean, want_m[c], 1e-12);
		assert_near(r->cat[c].eb_var, want_v[c], 1e-12);
		assert_int_equal(r->cat[c].den, FLAGS_DEN_RESIDENTS);
	}
	for (size_t i = 0; i < NU * NC; i++) {
		const struct flags_cell *x = &r->cell[i];

		assert_near(x->expected, want_E[i], 1e-12);
		assert_rel(x->p_high, want_phigh[i], 1e-8);
		assert_rel(x->q_high, want_qhigh[i], 1e-8);
		assert_near(x->rr_shrunk, want_rr[i], 1e-12);
		assert_near(x->rr_lo, want_rrlo[i], 1e-8);
		assert_near(x->rr_hi, want_rrhi[i], 1e-8);
		assert_rel(x->p_rr_t, want_prt[i], 1e-7);
		assert_rel(x->p_rr1, want_pr1[i], 1e-7);
		assert_int_equal(x->credible, want_prt[i] >= 0.95);
		assert_int_equal(x->has_rise, 1);
		assert_rel(x->yoy.p, want_rise_exact[i], 1e-9);
		/* statsmodels' bse comes from the last IRLS weights: 4e-9 off the
		   closed form sqrt(1/a + 1/b), hence 1e-7 on p */
		assert_rel(x->p_rise_qp, want_rise_qp[i], 1e-7);
		assert_near(x->rise_phi, want_rise_phi[i], 1e-10);
		assert_rel(x->q_rise, want_qrise[i], 1e-7);
		if (isnan(want_cc_p[i])) {
			assert_int_equal(x->has_cc, 0);
			assert_true(isnan(x->q_cc));
		} else {
			assert_int_equal(x->has_cc, 1);
			assert_near(x->cc_centre, want_cc_centre[i], 1e-12);
			assert_near(x->cc_sigma_z, want_cc_sz[i], 1e-12);
			assert_near(x->cc_ucl, want_cc_ucl[i], 1e-12);
			assert_rel(x->p_cc, want_cc_p[i], 1e-8);
			assert_rel(x->q_cc, want_qcc[i], 1e-8);
		}
	}
	/* flags: only unit 5 x category 1 (q_cc 0.0063, its spike above the UCL) */
	for (size_t i = 0; i < NU * NC; i++)
		assert_int_equal(r->cell[i].flags, i == 11 ? FLAGS_CONTROL : 0);
	assert_int_equal(r->n_cc_tests, 8);
	/* ranking by shrunk harm-weighted excess: units 5, 2, 1, 0, 3, 4 */
	static const size_t want_order[NU] = { 5, 2, 1, 0, 3, 4 };

	for (size_t u = 0; u < NU; u++) {
		assert_near(r->unit[u].harm_excess, want_harm_excess[u], 1e-9);
		assert_rel(r->unit[u].p_harm_rr1, want_harm_p[u], 1e-7);
		assert_int_equal(r->order[u], want_order[u]);
	}
	/* priorities (K = 2, top 2): only cell (1, 1) has P(RR > 1.2) >= 0.95, so
	 * no unit is one by categories; the top 2 by excess (units 5 and 2) have
	 * P(harm RR > 1) 0.9996 and 0.9985 > 0.95 */
	for (size_t u = 0; u < NU; u++)
		assert_int_equal(r->unit[u].by_cats, 0);
	assert_int_equal(r->unit[1].ncat_credible, 1);
	assert_int_equal(r->unit[5].by_top, 1);
	assert_int_equal(r->unit[2].by_top, 1);
	assert_int_equal(r->npriority, 2);
	flags_result_free(r);
}

/* Without populations the share of streets gives the same expectation when
 * the street shares equal the population shares. */
static void test_compute_streets(void **state)
{
	double streets[NU];
	struct flags_input in = { .nunit = NU, .ncat = NC, .nmonth = NM, .first_month = 288,
				  .period_first = 15, .count = ref_count, .streets = streets };
	struct flags_result *r = NULL;
	struct mb_error err = { 0 };

	(void)state;
	for (size_t u = 0; u < NU; u++)
		streets[u] = ref_pop[u] / 100;
	assert_int_equal(flags_compute(&in, NULL, &r, &err), 0);
	assert_int_equal(r->by_population, 0);
	assert_int_equal(r->cat[0].den, FLAGS_DEN_STREETS);
	for (size_t i = 0; i < NU * NC; i++) {
		assert_near(r->cell[i].expected, want_E[i], 1e-12);
		assert_rel(r->cell[i].p_high, want_phigh[i], 1e-8);
	}
	flags_result_free(r);
}

/* Opportunity categories: with an exposure, E = O_c x X_u / sum X; without,
 * E = O_c x (the unit's other crime) / (the district's other crime).
 * Category 1 is the opportunity one; O (from the reference script) is
 * 19 9 | 50 41 | 115 20 | 34 6 | 23 14 | 152 25 (category 0 | 1 per unit),
 * so category 1's total is 115 and category 0's 393. */
static void test_opportunity(void **state)
{
	const unsigned char opp[NC] = { 0, 1 };
	const double expo[NU] = { 1, 2, 0, 3, NAN, 4 }; /* units 2 and 4: no exposure */
	struct flags_input in = { .nunit = NU, .ncat = NC, .nmonth = NM, .first_month = 288,
				  .period_first = 15, .count = ref_count, .population = ref_pop,
				  .opportunity = opp };
	struct flags_result *r = NULL;
	struct mb_error err = { 0 };

	(void)state;
	assert_int_equal(flags_compute(&in, NULL, &r, &err), 0);
	assert_int_equal(r->cat[1].den, FLAGS_DEN_SHARE);
	assert_int_equal(r->cat[0].den, FLAGS_DEN_RESIDENTS);
	assert_near(r->cell[0 * NC + 1].expected, 115.0 * 19 / 393, 1e-12);
	assert_near(r->cell[5 * NC + 1].expected, 115.0 * 152 / 393, 1e-12);
	assert_near(r->cell[0].expected, want_E[0], 1e-12); /* residents as before */
	flags_result_free(r);
	in.exposure = expo;
	assert_int_equal(flags_compute(&in, NULL, &r, &err), 0);
	assert_int_equal(r->cat[1].den, FLAGS_DEN_EXPOSURE);
	/* units with exposure: 0, 1, 3, 5 hold 9 + 41 + 6 + 25 = 81 over 10 */
	assert_near(r->cell[1 * NC + 1].expected, 81.0 * 2 / 10, 1e-12);
	assert_true(isnan(r->cell[2 * NC + 1].expected));
	assert_true(isnan(r->cell[4 * NC + 1].expected));
	assert_true(isnan(r->cell[2 * NC + 1].p_high));
	flags_result_free(r);
}

/* Hot streets are description: held against the share of streets, never a flag. */
static void test_hot_description(void **state)
{
	unsigned hot[NU * NC] = { 0 }, total[NC] = { 10, 4 };
	double streets[NU] = { 10, 20, 30, 15, 25, 0 };
	struct flags_input in = { .nunit = NU, .ncat = NC, .nmonth = NM, .first_month = 288,
				  .period_first = 15, .count = ref_count, .population = ref_pop,
				  .streets = streets, .hot = hot, .hot_total = total };
	struct flags_result *r = NULL;
	struct mb_error err = { 0 };

	(void)state;
	hot[0] = 7;
	hot[1] = 1;
	assert_int_equal(flags_compute(&in, NULL, &r, &err), 0);
	/* unit 0: 10 of 100 streets -> 1.0 and 0.4 expected */
	assert_near(r->cell[0].hot_expected, 1.0, 1e-12);
	assert_near(r->cell[1].hot_expected, 0.4, 1e-12);
	assert_int_equal(r->unit[0].hot_held, 8);
	assert_near(r->unit[0].hot_expected, 1.4, 1e-12);
	assert_int_equal(r->cell[0].flags, 0);
	flags_result_free(r);
}

/* A unit without a population is not tested and does not enter the rate; a
 * gap in the period is left out of the observed count. */
static void test_unknown_population_and_gap(void **state)
{
	double pop[NU];
	unsigned char present[NM];
	struct flags_input in = { .nunit = NU, .ncat = NC, .nmonth = NM, .first_month = 288,
				  .period_first = 15, .count = ref_count, .population = pop };
	struct flags_result *r = NULL;
	struct mb_error err = { 0 };

	(void)state;
	memcpy(pop, ref_pop, sizeof(pop));
	pop[1] = NAN;
	assert_int_equal(flags_compute(&in, NULL, &r, &err), 0);
	assert_true(isnan(r->cell[1 * NC + 0].expected));
	assert_true(isnan(r->cell[1 * NC + 0].p_high));
	assert_true(isnan(r->cell[1 * NC + 0].rr_shrunk));
	/* category 0 without unit 1: (393 - 50) / 12000 x 1000 */
	assert_near(r->cell[0].expected, 343.0 / 12, 1e-12);
	assert_int_equal(r->n_high_tests, 10);
	flags_result_free(r);

	memset(present, 1, sizeof(present));
	present[20] = 0;
	in.present = present;
	in.population = ref_pop;
	assert_int_equal(flags_compute(&in, NULL, &r, &err), 0);
	assert_near(r->cell[0].observed, 19 - ref_count[20], 0);
	assert_int_equal(r->cell[0].yoy.a_months, 11);
	flags_result_free(r);
}

/* Short series: no rise test below 24 months, no chart without a baseline. */
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
	assert_int_equal(r->cell[0].has_rise, 0);
	assert_int_equal(r->cell[0].has_cc, 0);
	/* one unit: observed = expected = 12; no spread: the prior's point m = 1 */
	assert_near(r->cell[0].expected, 12, 1e-12);
	assert_near(r->cell[0].rr_shrunk, 1, 1e-12);
	assert_near(r->cell[0].p_rr1, 0, 0);
	assert_int_equal(r->cell[0].flags, 0);
	assert_int_equal(r->npriority, 0);
	flags_result_free(r);
}

/* The demo district's 104 parish populations (scripts/gen_demo.py). */
static const double demo_pop[104] = {
	900, 200, 2700, 3100, 4400, 6600, 450, 900, 3700, 3400, 1600, 4900, 4500, 3600, 4700,
	5600, 250, 600, 200, 200, 700, 450, 250, 4000, 200, 3600, 200, 12000, 650, 4600, 300,
	800, 1000, 1800, 4800, 600, 400, 400, 450, 2800, 200, 250, 300, 250, 2700, 600, 900,
	2400, 3900, 900, 550, 300, 1900, 1500, 700, 600, 1000, 250, 600, 1100, 250, 4300, 800,
	1900, 400, 7300, 1600, 250, 450, 450, 500, 450, 200, 400, 4800, 1800, 800, 550, 1200,
	1700, 200, 1000, 200, 200, 1100, 200, 450, 2100, 1200, 1200, 650, 250, 350, 700, 350,
	200, 3800, 850, 650, 900, 200, 4900, 550, 350
};

/* The demo's 13 crime types: crimes a year, seasonal amplitude, peak month,
 * CCHI days (datasets/harm_cchi.csv), in gen_demo.py's order. */
static const struct { double per_year, amp; int peak; double harm; } demo_types[] = {
	{ 120, 0.35, 7, 2.0 }, { 800, 0.12, 12, 244.68 }, { 1100, 0.08, 10, 11.18 },
	{ 175, 0.05, 3, 3.66 }, { 290, 0.03, 6, 10.0 }, { 910, 0.06, 8, 2.0 },
	{ 95, 0.05, 7, 273.75 }, { 730, 0.10, 7, 7.5 }, { 65, 0.10, 12, 365.0 },
	{ 690, 0.08, 12, 1.0 }, { 45, 0.10, 12, 2.0 }, { 760, 0.10, 11, 5.0 },
	{ 4200, 0.12, 7, 194.21 },
};

/* The null district at count level: gen_demo.py --null's model without the
 * streets (every parish the same rate per head, seasonality, no change),
 * Poisson counts per parish x type x month for 36 months (2023-04 ..
 * 2026-03, the period the last 12), 100 seeds of GSL's MT19937. At most one
 * unit may be a priority in >= 95 of the 100 runs (issue 16); and the flag
 * families, each under BH at 0.05, may reject in few runs. Shoplifting is
 * an opportunity category (share denominator), as in the command. */
static void test_null_district(void **state)
{
	gsl_error_handler_t *old = gsl_set_error_handler_off(); /* as src/main.c */
	enum { U = 104, C = 13, M = 36 };
	static double cnt[U * C * M];
	unsigned char opp[C] = { 0 };
	double harm[C], people = 0;
	size_t ok = 0, runs_flagged = 0, total_pri = 0;
	gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);

	(void)state;
	assert_non_null(g);
	opp[9] = 1;
	for (size_t u = 0; u < U; u++)
		people += demo_pop[u];
	for (size_t c = 0; c < C; c++)
		harm[c] = demo_types[c].harm;
	for (unsigned long seed = 1; seed <= 100; seed++) {
		struct flags_input in = { .nunit = U, .ncat = C, .nmonth = M, .first_month = 279,
					  .period_first = 24, .count = cnt, .population = demo_pop,
					  .opportunity = opp, .harm = harm };
		struct flags_result *r = NULL;
		struct mb_error err = { 0 };
		size_t flagged = 0;

		gsl_rng_set(g, seed);
		for (size_t u = 0; u < U; u++)
			for (size_t c = 0; c < C; c++)
				for (size_t m = 0; m < M; m++) {
					int cal = (int)((3 + m) % 12) + 1; /* month 0 is April */
					double lam = demo_types[c].per_year / 12.0 * demo_pop[u] / people *
						     (1.0 + demo_types[c].amp *
							    cos(2.0 * M_PI * (cal - demo_types[c].peak) / 12.0));

					cnt[(u * C + c) * M + m] = gsl_ran_poisson(g, lam);
				}
		assert_int_equal(flags_compute(&in, NULL, &r, &err), 0);
		ok += r->npriority <= 1;
		total_pri += r->npriority;
		for (size_t i = 0; i < U * C; i++)
			flagged += r->cell[i].flags != 0;
		runs_flagged += flagged > 0;
		flags_result_free(r);
	}
	gsl_rng_free(g);
	gsl_set_error_handler(old);
	print_message("null district: %zu of 100 runs with <= 1 priority (%zu priorities in all),"
		      " %zu runs with any H/R/C flag\n", ok, total_pri, runs_flagged);
	assert_true(ok >= 95);
	/* three families at FDR 0.05 under the complete null: each rejects in at
	 * most ~5% of runs, so together in at most ~15% (allow 20) */
	assert_true(runs_flagged <= 20);
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
	flags_params_init(&par);
	par.credible = 1;
	assert_int_equal(flags_compute(&in, &par, &r, &err), -MB_EUSAGE);
	flags_result_free(NULL);
}

/* ---- Counts and words (flags_count, flags_reasons: moved from cmd_flags) -- */

static void test_count(void **state)
{
	/* units 1..3 (0 = none), 1 and 3 in scope -> analysis units 0, 1;
	 * categories 1..3 all selected; span months 8..11, period from 10 */
	static const uint8_t in_scope[4] = { 0, 1, 0, 1 }, selected[4] = { 0, 1, 1, 1 };
	/* located: e0 unit 1 cat 1 month 10 (counted, makes cat 1 analysed);
	 * e1 no unit, month 11 (unassigned); e2 no unit, month 9 (before the
	 * period: not unassigned); e3 unit 2 (out of scope) cat 3 month 10 (cat 3
	 * has no event in scope: not analysed); e4 unit 3 cat 1 month 8
	 * (baseline: counted, not enough alone to analyse a category) */
	static const uint32_t lu[5] = { 1, 0, 0, 2, 3 };
	static const uint16_t lc[5] = { 1, 2, 2, 3, 1 };
	static const int16_t lm[5] = { 10, 11, 9, 10, 8 };
	/* placed: p0 unit 3 cat 2 month 11 (counted: cat 2 analysed); p1 unit 1
	 * cat 2 month 7 (before the span: not counted) */
	static const uint32_t pu[2] = { 3, 1 };
	static const uint16_t pc[2] = { 2, 2 };
	static const int16_t pm[2] = { 11, 7 };
	struct flags_count_in in = {
		.nunits = 4, .in_scope = in_scope, .ncats = 4, .cat_selected = selected,
		.located = { 5, lu, lc, lm }, .placed = { 2, pu, pc, pm },
		.period_from = 10, .span_from = 8, .nmonth = 4,
	};
	struct flags_counts fc;
	struct mb_error err = { 0 };
	double want[16] = { 0 };

	(void)state;
	assert_int_equal(flags_count(&in, &fc, &err), 0);
	assert_int_equal(fc.nunit, 2);
	assert_int_equal(fc.unit_of[0], 1);
	assert_int_equal(fc.unit_of[1], 3);
	assert_int_equal(fc.aidx[0], -1);
	assert_int_equal(fc.aidx[1], 0);
	assert_int_equal(fc.aidx[2], -1);
	assert_int_equal(fc.aidx[3], 1);
	assert_int_equal(fc.ncat, 2);
	assert_int_equal(fc.cat_of[0], 1);
	assert_int_equal(fc.cat_of[1], 2);
	assert_int_equal(fc.cidx[3], -1);
	assert_int_equal(fc.unassigned, 1);
	/* [(unit * 2 + cat) * 4 + month - 8]: e0 -> 2, e4 -> 8, p0 -> 15 */
	want[2] = want[8] = want[15] = 1;
	for (int i = 0; i < 16; i++)
		assert_near(fc.count[i], want[i], 0);
	flags_counts_release(&fc);
	assert_null(fc.count);
	/* nothing selected: no category, no counts, no error */
	static const uint8_t none[4] = { 0 };

	in.cat_selected = none;
	assert_int_equal(flags_count(&in, &fc, &err), 0);
	assert_int_equal(fc.ncat, 0);
	assert_null(fc.count);
	flags_counts_release(&fc);
}

static void test_sappend(void **state)
{
	char *s = NULL;
	size_t len = 0, cap = 0;

	(void)state;
	for (int i = 0; i < 40; i++)
		flags_sappend(&s, &len, &cap, "%d,", i % 10);
	assert_non_null(s);
	assert_int_equal(len, 80);
	assert_int_equal(strlen(s), 80);
	assert_memory_equal(s, "0,1,2,3,4,5,6,7,8,9,0,", 22);
	free(s);
}

static void test_reasons(void **state)
{
	struct flags_cell cell[2] = {
		{ .credible = 1, .observed = 12, .expected = 5.3, .rr_shrunk = 1.8, .rr_lo = 1.1,
		  .rr_hi = 2.9, .p_rr_t = 0.9734 },
		{ .flags = FLAGS_HIGH | FLAGS_RISING },
	};
	struct flags_unit unit = { .by_cats = 1, .ncat_credible = 1, .in_top = 1,
				   .harm_excess = 340.4, .rank = 2, .harm_rr = 1.456,
				   .p_harm_rr1 = 0.8, .hot_held = 3, .hot_expected = 1.5 };
	struct flags_result res = { .nunit = 1, .ncat = 2, .cell = cell, .unit = &unit };
	struct flags_params par;
	const char *const names[4] = { NULL, "Burglary", "Drugs", "Robbery" };
	const uint32_t cat_of[2] = { 1, 3 };
	char *why;

	(void)state;
	flags_params_init(&par);
	par.min_cats = 2;
	par.rr_threshold = 1.2;
	par.top_n = 10;
	par.credible = 0.9;
	why = flags_reasons(&res, &par, 0, names, cat_of);
	assert_non_null(why);
	assert_string_equal(why,
		"priority by categories: credible excess on 1 categories (2 needed): Burglary 12 vs"
		" 5.3 expected, RR 1.80 (1.10-2.90), P(RR>1.2) 0.973; harm-weighted excess +340,"
		" rank 2 (in the top 10), RR 1.46, P(RR>1) 0.800 not > 0.9; flags: Robbery HR;"
		" holds 3 of the categories' top-3% streets, a street counted once for each"
		" category it is hot in (1.5 expected from its share of streets)");
	free(why);
	/* a priority by harm, nothing credible, no flags, no street figures */
	unit = (struct flags_unit){ .by_top = 1, .in_top = 1, .harm_excess = -2.6, .rank = 1,
				    .harm_rr = 0.5, .p_harm_rr1 = 0.95, .hot_expected = NAN };
	cell[0].credible = 0;
	cell[1].flags = 0;
	why = flags_reasons(&res, &par, 0, names, NULL);
	assert_string_equal(why,
		"credible excess on 0 categories (2 needed); priority by harm: harm-weighted excess"
		" -3, rank 1 (in the top 10), RR 0.50, P(RR>1) 0.950 > ");
	free(why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_poisson_sf),
		cmocka_unit_test(test_poisson_limits),
		cmocka_unit_test(test_od_sf),
		cmocka_unit_test(test_od_limits),
		cmocka_unit_test(test_winsor_phi),
		cmocka_unit_test(test_letters),
		cmocka_unit_test(test_compute_reference),
		cmocka_unit_test(test_compute_streets),
		cmocka_unit_test(test_opportunity),
		cmocka_unit_test(test_hot_description),
		cmocka_unit_test(test_unknown_population_and_gap),
		cmocka_unit_test(test_short_series),
		cmocka_unit_test(test_null_district),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_sappend),
		cmocka_unit_test(test_reasons),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
