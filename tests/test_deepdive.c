/*
 * Unit tests for deepdive: exact tests against scipy (Python 3.11, scipy 1.10,
 * statsmodels 0.13 from Debian 12; the call is quoted beside each value),
 * location quotients and changes against hand arithmetic (in the comments),
 * and the force-extract tallies against a hand-made slice.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "microbeat/deepdive.h"
#include "microbeat/util.h"
#include "../src/deepdive_internal.h"
#include "microbeat/slice.h"

/* Relative agreement (the p-values span 30 orders of magnitude). */
#define assert_rel(got, want, tol) assert_true(rel_ok((got), (want), (tol), #got, __LINE__))

static int rel_ok(double got, double want, double tol, const char *what, int line)
{
	if (fabs(got - want) <= tol * fabs(want) || fabs(got - want) < 1e-300)
		return 1;
	print_error("line %d: %s = %.17g, want %.17g\n", line, what, got, want);
	return 0;
}

static void test_binom_p(void **state)
{
	(void)state;
	/* binomtest(7, 10, 0.5).pvalue = 0.34375 = 2 * 176/1024 (hand) */
	assert_rel(dd_binom_p(7, 10, 0.5), 0.34375, 1e-12);
	/* binomtest(30, 50, 0.5).pvalue */
	assert_rel(dd_binom_p(30, 50, 0.5), 0.20263875106454066, 1e-9);
	/* binomtest(1008, 5844, 1433/11839).pvalue: the demo's violence LQ test */
	assert_rel(dd_binom_p(1008, 1008 + 4836, 1433.0 / (1433 + 10406)), 2.9130698633726913e-30, 1e-6);
	/* binomtest(3, 48, 1433/11839).pvalue */
	assert_rel(dd_binom_p(3, 48, 1433.0 / (1433 + 10406)), 0.271448678966812, 1e-9);
	assert_rel(dd_binom_p(0, 0, 0.3), 1, 0);
	assert_true(isnan(dd_binom_p(5, 4, 0.5)));
	assert_true(isnan(dd_binom_p(1, 4, 1.5)));
}

static void test_fisher_p(void **state)
{
	(void)state;
	/* fisher_exact([[3, 1], [1, 3]]) = 34/70 (hand: tables 0..4 have
	 * probabilities 1, 16, 36, 16, 1 over 70; those <= 16/70 sum to 34/70) */
	assert_rel(dd_fisher_p(3, 1, 1, 3), 34.0 / 70, 1e-12);
	/* fisher_exact([[0, 5], [4, 1]]) */
	assert_rel(dd_fisher_p(0, 5, 4, 1), 0.04761904761904762, 1e-9);
	/* fisher_exact([[121, 1427], [72, 1148]]): the demo's detection-rate test */
	assert_rel(dd_fisher_p(121, 1427, 72, 1148), 0.050894108145266986, 1e-7);
	assert_rel(dd_fisher_p(0, 0, 3, 4), 1, 0);
}

static void test_lq(void **state)
{
	(void)state;
	/* a = {10, 30}, b = {40, 20}: A = 40, B = 60.
	 * LQ0 = (10/40)/(40/60) = 0.375, LQ1 = (30/40)/(20/60) = 2.25;
	 * expected0 = 50 * 40/100 = 20. p0 = binomtest(10, 50, 0.4) = 0.003570906449261748,
	 * p1 = binomtest(30, 50, 0.4) = 0.005557527020269432; BH
	 * (multipletests(..., 'fdr_bh')): both 0.005557527020269432. A third type
	 * with 2 + 3 crimes is shown, not tested. */
	double a[] = { 10, 30, 2 }, b[] = { 40, 20, 3 };
	struct dd_lq lq[3];
	struct mb_error err = { 0 };

	assert_int_equal(dd_lq_compute(a, b, 2, 0.05, lq, &err), 0);
	assert_rel(lq[0].lq, 0.375, 1e-12);
	assert_rel(lq[1].lq, 2.25, 1e-12);
	assert_rel(lq[0].expected, 20, 1e-12);
	assert_rel(lq[0].p, 0.003570906449261748, 1e-9);
	assert_rel(lq[1].p, 0.005557527020269432, 1e-9);
	assert_rel(lq[0].q, 0.005557527020269432, 1e-9);
	assert_rel(lq[1].q, 0.005557527020269432, 1e-9);
	assert_true(lq[0].significant && lq[1].significant);
	/* with the small third type: A = 42, B = 63; it is not tested */
	assert_int_equal(dd_lq_compute(a, b, 3, 0.05, lq, &err), 0);
	assert_false(lq[2].tested);
	assert_true(isnan(lq[2].p) && isnan(lq[2].q));
	assert_rel(lq[2].lq, (2.0 / 42) / (3.0 / 63), 1e-12);
	/* a bad count is refused */
	double bad[] = { 1.5, 2 };

	assert_int_equal(dd_lq_compute(bad, b, 2, 0.05, lq, &err), -MB_EUSAGE);
}

static void test_change(void **state)
{
	(void)state;
	/* later {30, 10, 4}, earlier {20, 14, 1}: deltas 10, -4, 3, total 9;
	 * shares 10/9, -4/9, 3/9; pct +50, -28.57..., +300. p0 = binomtest(30, 50, 0.5);
	 * p1 = binomtest(10, 24, 0.5) = 0.5412561893463135; the third (5 crimes) is not tested. */
	double l[] = { 30, 10, 4 }, e[] = { 20, 14, 1 };
	struct dd_change c[3];
	struct mb_error err = { 0 };

	assert_int_equal(dd_change_compute(l, e, 3, 0.05, c, &err), 0);
	assert_rel(c[0].share, 10.0 / 9, 1e-12);
	assert_rel(c[1].share, -4.0 / 9, 1e-12);
	assert_rel(c[2].share, 3.0 / 9, 1e-12);
	assert_rel(c[0].pct, 50, 1e-12);
	assert_rel(c[1].pct, 100 * (10.0 / 14 - 1), 1e-12);
	assert_rel(c[0].p, 0.20263875106454066, 1e-9);
	assert_rel(c[1].p, 0.5412561893463135, 1e-9);
	assert_false(c[2].tested);
	/* BH over two: q0 = min(2 * 0.2026 / 1, q1) = 0.4053, q1 = 0.5413 */
	assert_rel(c[0].q, 2 * 0.20263875106454066, 1e-9);
	assert_rel(c[1].q, 0.5412561893463135, 1e-9);
	assert_false(c[0].significant);
}

static void test_weekday(void **state)
{
	(void)state;
	/* (date(2025,3,3) - date(2000,1,1)).days = 9193, a Monday;
	 * day 0 (2000-01-01) a Saturday */
	assert_int_equal(dd_weekday(9193), 0);
	assert_int_equal(dd_weekday(0), 5);
	assert_int_equal(dd_weekday(1), 6);
	assert_int_equal(dd_weekday(2), 0);
}

/* A hand-made slice of 8 events: months 300 (earlier) and 312 (later), two
 * subgroups, the DA flag, one hate strand, days and minutes. */
static void test_extract(void **state)
{
	(void)state;
	int16_t month[] = { 300, 300, 300, 312, 312, 312, 312, 312 };
	uint16_t cat[] = { 1, 1, 1, 1, 1, 1, 1, 2 };
	uint32_t sub[] = { 1, 2, 2, 1, 2, 2, 2, 0 };
	int8_t da[] = { 1, 0, 0, 1, 0, 0, -1, 0 };
	uint32_t hate[] = { 0, 1, 0, 0, 1, 1, 0, 0 };
	int32_t day[] = { 9131, 9131, 9131, 9193, 9193, 9194, 9194, 9193 };
	int16_t minute[] = { 0, 0, 0, 22 * 60 + 5, 22 * 60 + 59, 60, -1, 0 };
	uint8_t sel[] = { 0, 1, 1 };
	char s1[] = "Violence with injury", s2[] = "Violence without injury", h1[] = "Race or religion";
	char *sname[] = { NULL, s1, s2 };
	char *hname[] = { NULL, h1 };
	struct slice sl = { .n = 8, .month = month, .category = cat, .cat_selected = sel, .ncat = 3,
			    .subgroup = sub, .da = da, .hate = hate, .day = day, .minute = minute,
			    .nsubgroup = 3, .subgroup_name = sname, .nhate = 2, .hate_name = hname };
	uint8_t on[] = { 0, 1, 0 }; /* category 2 not counted */
	struct dd_extract x;
	struct mb_error err = { 0 };

	assert_int_equal(dd_extract_count(&sl, on, 312, 323, 300, 311, &x, &err), 0);
	assert_true(x.has_subgroup && x.has_da && x.has_hate && x.has_time);
	/* later: DA/with injury 1; non-DA/without 2; unknown DA/without 1 */
	assert_rel(x.cross_later[1 * 3 + 1], 1, 0);
	assert_rel(x.cross_later[0 * 3 + 2], 2, 0);
	assert_rel(x.cross_later[2 * 3 + 2], 1, 0);
	assert_rel(x.cross_later[0 * 3 + 0], 0, 0); /* event 8 is category 2: not counted */
	/* earlier: DA/with 1, non-DA/without 2 */
	assert_rel(x.cross_earlier[1 * 3 + 1], 1, 0);
	assert_rel(x.cross_earlier[0 * 3 + 2], 2, 0);
	assert_rel(x.hate_later[1], 2, 0);
	assert_rel(x.hate_earlier[1], 1, 0);
	/* heat: day 9193 Monday 22h twice; day 9194 Tuesday 01h once; one untimed */
	assert_rel(x.heat[0 * 24 + 22], 2, 0);
	assert_rel(x.heat[1 * 24 + 1], 1, 0);
	assert_rel(x.timed, 3, 0);
	assert_rel(x.untimed, 1, 0);
	dd_extract_release(&x);
	/* police.uk data: the columns are NULL and every has_ flag says so */
	struct slice pu = { .n = 8, .month = month, .category = cat, .cat_selected = sel, .ncat = 3 };

	assert_int_equal(dd_extract_count(&pu, NULL, 312, 323, 300, 311, &x, &err), 0);
	assert_false(x.has_subgroup || x.has_da || x.has_hate || x.has_time);
	assert_rel(x.untimed, 5, 0); /* both categories selected without a mask */
	dd_extract_release(&x);
}


/* The planted pattern of issue 19 in a hand-made slice: DA-flagged violence
 * with injury 50 -> 52, non-DA violence without injury 100 -> 121, non-DA
 * violence with injury 40 -> 40, DA stalking 10 -> 10; total change +23, of
 * which non-DA without injury 21 = 91.3%. p = binomtest(121, 221, 0.5) =
 * 0.1783815706282227, BH over the 4 components (multipletests 'fdr_bh'):
 * 0.7135. DA: non-DA 140 -> 161 (+15%), DA 60 -> 62 (+3%), shares 21/23 and
 * 2/23. Hate (race or religion) 3 -> 5: shown, not tested. */
static void test_extract_report(void **state)
{
	(void)state;
	enum { N = 423 };
	static int16_t month[N];
	static int32_t day[N];
	static uint16_t cat[N];
	static uint32_t sub[N], hate[N];
	static int8_t da[N];
	static int16_t minute[N];
	struct { int n_e, n_l; uint32_t sub; int8_t da; } cell[] = {
		{ 50, 52, 1, 1 }, { 100, 121, 2, 0 }, { 40, 40, 1, 0 }, { 10, 10, 3, 1 },
	};
	size_t n = 0;

	for (size_t k = 0; k < 4; k++)
		for (int j = 0; j < cell[k].n_e + cell[k].n_l; j++, n++) {
			int later = j >= cell[k].n_e;

			month[n] = later ? 312 : 300;
			cat[n] = 1;
			sub[n] = cell[k].sub;
			da[n] = cell[k].da;
			hate[n] = (k == 2 && j < 3) || (k == 2 && later && j >= cell[k].n_e + 35) ? 1 : 0;
			day[n] = 9193 + (int32_t)(n % 7);
			minute[n] = (int16_t)((n * 37) % 1440);
		}
	assert_int_equal(n, N);
	char s1[] = "Violence with injury", s2[] = "Violence without injury", s3[] = "Stalking and harassment";
	char h1[] = "Race or religion";
	char *sname[] = { NULL, s1, s2, s3 };
	char *hname[] = { NULL, h1 };
	uint8_t sel[] = { 0, 1 };
	struct slice sl = { .n = N, .month = month, .category = cat, .cat_selected = sel, .ncat = 2,
			    .subgroup = sub, .da = da, .hate = hate, .day = day, .minute = minute,
			    .nsubgroup = 4, .subgroup_name = sname, .nhate = 2, .hate_name = hname };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct dd_out o = { .md = f, .fdr = 0.05 };
	struct mb_error err = { 0 };

	assert_non_null(f);
	if (!getenv("MB_DATA"))
		setenv("MB_DATA", "datasets", 1);
	assert_int_equal(dd_extract_report(&o, &sl, NULL, 312, 323, 300, 311, &err), 0);
	fclose(f);
	if (getenv("DD_DUMP"))
		fputs(buf, stderr);
	/* the split by DA flag: non-DA carries 21 of the +23 */
	assert_non_null(strstr(buf, "By domestic-abuse flag, the total changed by +23 crimes. The largest"
				    " part: non-DA (140 to 161, +15%, not significant after FDR control), 91%"
				    " of the change."));
	assert_non_null(strstr(buf, "| DA-flagged | 62 | 60 | 2 | 3.3 | 8.7 | 0.9279 | 0.9279 | no clear change |"));
	/* the subgroup behind it */
	assert_non_null(strstr(buf, "The largest part: non-DA Violence without injury (100 to 121, +21%,"
				    " not significant after FDR control), 91% of the change."));
	assert_non_null(strstr(buf, "| non-DA Violence without injury | 121 | 100 | 21 | 21.0 | 91.3 | 0.1784 | 0.7135 |"));
	/* recording-sensitive (without injury, stalking: 110 -> 131) against
	 * high-harm (with injury: 90 -> 92): both rose */
	assert_non_null(strstr(buf, "| recording-sensitive subgroups | 131 | 110 | 21 |"));
	assert_non_null(strstr(buf, "| high-harm subgroups | 92 | 90 | 2 |"));
	assert_non_null(strstr(buf, "Neither kind of subgroup changed clearly; most of the rise is in the"
				    " recording-sensitive subgroups"));
	assert_null(strstr(buf, "| other subgroups |"));
	/* the brief's sentence, component by component */
	assert_non_null(strstr(buf, "DA-flagged Violence with injury rose 4% (50 to 52; not significant)"
				    " and accounts for 9% of the increase"));
	assert_non_null(strstr(buf, "non-DA Violence without injury rose 21% (100 to 121; not"
				    " significant) and accounts for 91% of the increase"));
	/* hate: 3 -> 5, too few to test */
	assert_non_null(strstr(buf, "| Race or religion | 5 | 3 | 2 | 66.7 | 100.0 | – | – | too few to test |"));
	/* times: every later event has one */
	assert_non_null(strstr(buf, "with a recorded time: 100.0% (223 of 223)"));
	free(buf);
	/* with a folder: the tables and the heat map are written */
	char dir[] = "/tmp/mb-deepdive-XXXXXX", path[256];

	assert_non_null(mkdtemp(dir));
	if (!getenv("MB_PLOTS"))
		setenv("MB_PLOTS", "plots", 1);
	buf = NULL;
	f = open_memstream(&buf, &len);
	o = (struct dd_out){ .md = f, .fdr = 0.05, .dir = dir, .charts = 1 };
	assert_int_equal(dd_extract_report(&o, &sl, NULL, 312, 323, 300, 311, &err), 0);
	fclose(f);
	free(buf);
	static const char *const files[] = { "change_by_da.csv", "change_by_subgroup.csv",
		"recording_vs_harm.csv", "hate_by_strand.csv", "weekday_hour.csv", "weekday_hour.png",
		"harm_by_subgroup.csv", "change_by_subgroup.png" };
	for (size_t k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[k]);
		FILE *g = fopen(path, "r");

		if (!g)
			print_error("missing %s\n", path);
		assert_non_null(g);
		fclose(g);
		if (!getenv("DD_KEEP"))
			remove(path);
	}
	if (!getenv("DD_KEEP")) {
		static const char *const more[] = { "weekday_hour.dat", "weekday_hour-meta.dat",
						    "weekday_hour.gp", "weekday_hour.svg",
						    "change_by_subgroup.dat", "change_by_subgroup-meta.dat",
						    "change_by_subgroup.gp", "change_by_subgroup.svg" };
		for (size_t k = 0; k < sizeof(more) / sizeof(more[0]); k++) {
			snprintf(path, sizeof(path), "%s/%s", dir, more[k]);
			remove(path);
		}
		remove(dir);
	}
	/* police.uk columns: the whole section says why it is absent */
	struct slice pu = { .n = N, .month = month, .category = cat, .cat_selected = sel, .ncat = 2 };

	buf = NULL;
	f = open_memstream(&buf, &len);
	o.md = f;
	assert_int_equal(dd_extract_report(&o, &pu, NULL, 312, 323, 300, 311, &err), 0);
	fclose(f);
	assert_non_null(strstr(buf, "police.uk data only"));
	free(buf);
}

/* Harm by offence subgroup (dd_harm_count), by hand: type V (weight 100) with
 * subgroups a (10), b (365), c (no weight: V's weight instead) and unknown (V's
 * weight); type X (no weight) in subgroups a (a's weight) and c (no weight at
 * all: left out, counted). Later: a 5+1, b 1, c 2+1, unknown 1; earlier: a 2,
 * b 1, unknown 1; one event outside both periods. Harm later a 60, b 365, c
 * 200, unknown 100 (725); earlier 20, 365, 0, 100 (485); type-level 900
 * against 400 (X has no type weight); 4 fallbacks, 1 unweighted. */
static void test_harm_subgroup(void **state)
{
	(void)state;
	struct { uint32_t cat, sub; int later, earlier; } cell[] = {
		{ 1, 1, 5, 2 }, { 1, 2, 1, 1 }, { 1, 3, 2, 0 }, { 1, 0, 1, 1 }, { 2, 3, 1, 0 }, { 2, 1, 1, 0 },
	};
	int16_t month[32];
	uint16_t cat[32];
	uint32_t sub[32];
	size_t n = 0;

	for (size_t k = 0; k < ARRAY_SIZE(cell); k++)
		for (int j = 0; j < cell[k].later + cell[k].earlier; j++, n++) {
			month[n] = j < cell[k].later ? 312 : 300;
			cat[n] = cell[k].cat;
			sub[n] = cell[k].sub;
		}
	month[n] = 290; /* outside both periods */
	cat[n] = 1;
	sub[n++] = 1;
	uint8_t sel[] = { 0, 1, 1 };
	struct slice sl = { .n = n, .month = month, .category = cat, .cat_selected = sel, .ncat = 3,
			    .subgroup = sub, .nsubgroup = 4 };
	double wsub[] = { NAN, 10, 365, NAN }, wcat[] = { NAN, 100, NAN };
	struct dd_harm h;
	struct mb_error err = { 0 };

	assert_int_equal(dd_harm_count(&sl, NULL, 312, 323, 300, 311, wsub, wcat, &h, &err), 0);
	assert_int_equal(h.nsub, 4);
	const double hl[] = { 100, 60, 365, 200 }, he[] = { 100, 20, 365, 0 };
	const double cl[] = { 1, 6, 1, 3 }, ce[] = { 1, 2, 1, 0 };

	for (size_t k = 0; k < 4; k++) {
		assert_float_equal(h.harm_later[k], hl[k], 1e-12);
		assert_float_equal(h.harm_earlier[k], he[k], 1e-12);
		assert_float_equal(h.crimes_later[k], cl[k], 1e-12);
		assert_float_equal(h.crimes_earlier[k], ce[k], 1e-12);
	}
	assert_float_equal(h.type_later, 900, 1e-12);
	assert_float_equal(h.type_earlier, 400, 1e-12);
	assert_float_equal(h.weighted_later, 10, 1e-12);
	assert_float_equal(h.weighted_earlier, 4, 1e-12);
	assert_float_equal(h.fallback, 4, 1e-12);
	assert_float_equal(h.unweighted, 1, 1e-12);
	dd_harm_release(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binom_p), cmocka_unit_test(test_fisher_p),
		cmocka_unit_test(test_lq),      cmocka_unit_test(test_change),
		cmocka_unit_test(test_weekday), cmocka_unit_test(test_extract),
		cmocka_unit_test(test_extract_report), cmocka_unit_test(test_harm_subgroup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
