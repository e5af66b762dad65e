/*
 * flags — geographic priorities per unit x category: pure analysis.
 *
 * Input: monthly counts per unit (parish, ward ...) and category (crime type
 * or agency activity type), a denominator per category (residents; for
 * opportunity crime a per-unit exposure or none, i.e. the unit's share of the
 * district's other crime; streets when the layer has no population), how
 * many of the district's top-3% streets each unit holds per category, and
 * harm weights. Output: for every unit x category the expected count, the
 * empirical-Bayes shrunk rate ratio with P(RR > t), the three flags with the
 * figures behind them, hot streets held against the number expected; and the
 * units ranked by shrunk harm-weighted excess, with the priorities. No I/O,
 * no SQLite. Every figure is defined in docs/methods-flags.md.
 *
 * The three flags of a unit u and category c (each family of tests under
 * Benjamini-Hochberg at --fdr):
 *   H  high rate: over-dispersion-adjusted funnel (Spiegelhalter 2005): phi_c
 *      from the category's 10%-winsorised z-scores, one-sided p of O under a
 *      mean E, variance phi E count (negative binomial; Poisson when phi <= 1),
 *      q <= fdr and O/E >= min_ratio;
 *   R  rising: last 12 months against the 12 before, the larger of the exact
 *      conditional p and the quasi-Poisson (Pearson phi, floor 1) t-test p,
 *      q <= fdr and the later rate higher;
 *   C  out of control: Laney-adjusted c-chart (sigma_z from the baseline's
 *      moving ranges, floor 1), the most extreme of the last 3 months under a
 *      mean c-bar, variance sigma_z^2 c-bar count, Sidak over the 3 months,
 *      q <= fdr and that month above the adjusted UCL; no chart when c-bar < 1.
 * Hot streets are description, not a flag. A unit is a priority when its
 * shrunk rate ratio is credible (P(RR > t) >= credible) on >= min_cats
 * categories, or when it is in the top top_n by shrunk harm-weighted excess
 * with P(harm-weighted RR > 1) > credible.
 *
 * Unless stated otherwise a function returns 0, or a negative MB_E* code with
 * err (may be NULL) filled. Inputs are only read and never retained.
 */
#ifndef MICROBEAT_FLAGS_H
#define MICROBEAT_FLAGS_H

#include <stddef.h>
#include <stdint.h>

#include "microbeat/common.h"
#include "microbeat/trend.h"

/* Flag bits of a cell. */
#define FLAGS_HIGH 1u     /* H: rate above the adjusted funnel (FDR) */
#define FLAGS_RISING 2u   /* R: recent rise beyond over-dispersion (FDR) */
#define FLAGS_CONTROL 4u  /* C: a recent month above the Laney-adjusted limit (FDR) */

/* How a category's expected counts are made. */
enum flags_den {
	FLAGS_DEN_RESIDENTS = 0, /* district rate x residents */
	FLAGS_DEN_STREETS = 1,   /* share of the area's streets (layer without population) */
	FLAGS_DEN_EXPOSURE = 2,  /* district rate x the unit's exposure (e.g. shops) */
	FLAGS_DEN_SHARE = 3      /* the unit's share of the district's other (non-opportunity) crime */
};

/* Tuning; fill with flags_params_init() then override. */
struct flags_params {
	double fdr;          /* Benjamini-Hochberg level for H, R and C (default 0.05) */
	double min_ratio;    /* H also needs O/E >= this (default 1.2) */
	double rr_threshold; /* t of P(RR > t) (default 1.2) */
	double credible;     /* posterior probability called credible (default 0.95) */
	int min_cats;        /* K: credible categories for a priority (default 3) */
	int top_n;           /* the top set by harm-weighted excess (default 5) */
	int baseline_months; /* control-chart baseline before the last 3 months (default 24) */
	double min_centre;   /* smallest baseline mean a month charted (default 1) */
};

/* The data. Arrays are the caller's. */
struct flags_input {
	size_t nunit;                     /* units */
	size_t ncat;                      /* categories */
	size_t nmonth;                    /* months of each series (consecutive) */
	int first_month;                  /* months since 2000-01 of month index 0 */
	const unsigned char *present;     /* nmonth: 1 = loaded, 0 = gap; NULL = all present */
	size_t period_first;              /* index of the period's first month: the period is
					     [period_first, nmonth); earlier months only feed
					     the rise test and the chart baseline */
	const double *count;              /* count[(u * ncat + c) * nmonth + m], whole numbers >= 0 */
	const double *population;         /* nunit residents (NaN = unknown: not tested), or NULL
					     when the layer has none: then streets is used */
	const double *streets;            /* nunit streets per unit (denominator without
					     population; hot streets' expected share), or NULL */
	const unsigned char *opportunity; /* ncat: 1 = opportunity crime (exposure or share),
					     or NULL (none) */
	const double *exposure;           /* nunit exposure for opportunity crime (NaN or <= 0 =
					     not tested), or NULL: then the share denominator */
	const unsigned *hot;              /* nunit * ncat: district top-3% streets held, or NULL */
	const unsigned *hot_total;        /* ncat: the district's top-3% streets, or NULL */
	const double *harm;               /* ncat harm weights (NaN = 0), or NULL (all 1) */
};

/* One unit x category. */
struct flags_cell {
	double observed;         /* O: count over the period (present months) */
	double expected;         /* E: district rate x denominator; NAN when not tested */
	double ratio;            /* O / E; NAN when E is NAN or 0 */
	double rr_shrunk;        /* posterior mean of RR (Poisson-gamma EB); NAN untested */
	double rr_lo, rr_hi;     /* 95% posterior interval of RR */
	double p_rr_t;           /* P(RR > rr_threshold | data) */
	double p_rr1;            /* P(RR > 1 | data) */
	double excess;           /* shrunk excess E (rr_shrunk - 1); 0 when untested */
	double z;                /* Poisson z (O - E) / sqrt(E) */
	double z_adj;            /* z / sqrt(phi) */
	double p_high;           /* one-sided p on the adjusted funnel; NAN when not tested */
	double q_high;           /* its Benjamini-Hochberg adjusted value */
	int has_rise;            /* 1 when the rise test ran (a + b > 0) */
	struct trend_yoy yoy;    /* last 12 months vs the 12 before (exact test) */
	double rise_phi;         /* quasi-Poisson Pearson dispersion of the 24 months */
	double p_rise_qp;        /* quasi-Poisson t-test p (NAN when a or b is 0) */
	double p_rise;           /* max(exact p, quasi-Poisson p) */
	double q_rise;           /* BH-adjusted p_rise; NAN without a test */
	int has_cc;              /* 1 when the Laney chart was drawn (c-bar >= min_centre) */
	double cc_centre;        /* c-bar of the baseline */
	double cc_sigma_z;       /* Laney sigma_z (moving range / 1.128), floored at 1 */
	double cc_ucl;           /* c-bar + 3 sigma_z sqrt(c-bar) */
	size_t cc_recent_n;      /* recent months charted */
	size_t cc_recent_above;  /* of those, above cc_ucl */
	double cc_recent_max;    /* largest recent count */
	double p_cc;             /* Sidak p of the most extreme recent month */
	double q_cc;             /* its BH-adjusted value */
	unsigned hot_streets;    /* district top-3% streets held */
	double hot_expected;     /* expected from the unit's share of streets */
	int credible;            /* 1 when p_rr_t >= credible */
	unsigned flags;          /* FLAGS_* bits */
};

/* One category's district figures. */
struct flags_cat {
	enum flags_den den;      /* denominator kind */
	double total;            /* sum of O over the tested units */
	double den_total;        /* sum of the denominator over them */
	size_t ntested;          /* units tested */
	double phi;              /* winsorised over-dispersion (Spiegelhalter), as estimated */
	double phi_used;         /* max(1, phi): the funnel's inflation */
	double eb_mean;          /* m: prior mean of RR (Marshall) */
	double eb_var;           /* v: prior variance of RR, floored at 0 */
	unsigned hot_total;      /* the district's top-3% streets */
};

/* One unit's verdict. */
struct flags_unit {
	unsigned ncat_credible;  /* categories with P(RR > t) >= credible */
	unsigned ncat_flagged;   /* categories with any flag */
	double harm_expected;    /* sum_c w_c E_uc */
	double harm_excess;      /* sum_c w_c E_uc (RR~_uc - 1): shrunk harm-weighted excess */
	double harm_rr;          /* 1 + harm_excess / harm_expected; NAN when it is 0 */
	double p_harm_rr1;       /* P(harm-weighted RR > 1), moment-matched gamma; NAN */
	unsigned hot_held;       /* top-3% streets held, all categories */
	double hot_expected;     /* expected from the share of streets, all categories */
	int in_top;              /* 1 when rank <= top_n */
	int by_cats;             /* 1: priority by credible categories */
	int by_top;              /* 1: priority by top excess with P > credible */
	int priority;            /* by_cats || by_top */
	size_t rank;             /* 1 = first (largest harm_excess) */
};

/* Everything computed. */
struct flags_result {
	size_t nunit, ncat;      /* dimensions */
	int by_population;       /* 1: residents; 0: shares of streets */
	struct flags_cat *cat;   /* ncat */
	struct flags_cell *cell; /* nunit * ncat, cell[u * ncat + c] */
	struct flags_unit *unit; /* nunit */
	size_t *order;           /* nunit unit indexes by rank: harm_excess, then
				    p_harm_rr1, then index */
	size_t n_high_tests;     /* H tests (BH family size) */
	size_t n_rise_tests;     /* R tests */
	size_t n_cc_tests;       /* C tests */
	size_t npriority;        /* priorities */
};

/* Defaults: fdr 0.05, min_ratio 1.2, rr_threshold 1.2, credible 0.95,
 * min_cats 3, top_n 5, baseline_months 24, min_centre 1. */
void flags_params_init(struct flags_params *p);

/* Compute everything. params may be NULL (defaults). On success *out is a new
 * result freed with flags_result_free(). MB_EUSAGE on bad dimensions or
 * parameters, MB_EDATA on a negative or fractional count, MB_ENOMEM. */
int flags_compute(const struct flags_input *in, const struct flags_params *params,
		  struct flags_result **out, struct mb_error *err);

/* Free a result (NULL allowed). */
void flags_result_free(struct flags_result *r);

/* One-sided exact Poisson upper tail P(X >= k), X ~ Poisson(mu): 1 when
 * k = 0; NAN when mu < 0 or not finite; for mu = 0 and k > 0, 0. */
double flags_poisson_sf(unsigned long k, double mu);

/* P(X >= k) for a count of mean mu > 0 and variance phi mu: negative binomial
 * with size mu / (phi - 1) and probability 1 / phi when phi > 1, Poisson when
 * phi <= 1. NAN on bad input. */
double flags_od_sf(unsigned long k, double mu, double phi);

/* Funnel-plot control limits for an expected count mu > 0 at two-sided level
 * (e.g. 0.95, 0.998): the Poisson quantiles at (1 - level)/2 and
 * 1 - (1 - level)/2, smoothed by Spiegelhalter's interpolation (Stat Med
 * 2005;24:1185, appendix A.1.1: r_p - alpha, alpha = (F(r_p) - p) /
 * (F(r_p) - F(r_p - 1))), as counts; never below 0. MB_EUSAGE on bad input. */
int flags_poisson_limits(double mu, double level, double *lo, double *hi, struct mb_error *err);

/* The same limits for the over-dispersed count of flags_od_sf (variance
 * phi mu; phi <= 1 gives flags_poisson_limits). MB_EUSAGE on bad input. */
int flags_od_limits(double mu, double phi, double level, double *lo, double *hi,
		    struct mb_error *err);

/* Spiegelhalter's over-dispersion of z-scores: the mean of the squares after
 * the floor(0.1 n) smallest are set to the next one up and the floor(0.1 n)
 * largest to the next one down. z is not changed. NAN when n = 0. */
double flags_winsor_phi(const double *z, size_t n);

/* Write the letters of flags ("HRC" order, '-' when none) into buf (4 bytes). */
void flags_letters(unsigned flags, char buf[4]);

/* ---- The counts and the words around the test (moved from cmd_flags) ---- */

/* One source of events to count, as parallel arrays. */
struct flags_events {
	size_t n;                 /* events */
	const uint32_t *unit;     /* per event: dense unit of the layer (0 = in no unit) */
	const uint16_t *category; /* per event: category id */
	const int16_t *month;     /* per event: month index */
};

/* What flags_count counts. */
struct flags_count_in {
	size_t nunits;               /* dense units of the layer (index 0 is no unit) */
	const uint8_t *in_scope;     /* per dense unit: 1 = in the area's scope */
	size_t ncats;                /* category ids (index 0 is no category) */
	const uint8_t *cat_selected; /* per category id: 1 = passed the type filter */
	struct flags_events located; /* events with coordinates (unit 0: in no unit) */
	struct flags_events placed;  /* events placed by LSOA or unit code (unit >= 1) */
	int32_t period_from;         /* first month of the period */
	int32_t span_from;           /* first month counted (before the period: baseline) */
	size_t nmonth;               /* months counted from span_from */
};

/* The analysis dimensions and counts flags_count builds (flags_input's count). */
struct flags_counts {
	size_t nunit;       /* analysis units: the dense units in scope, in index order */
	size_t *unit_of;    /* analysis unit -> dense unit */
	long *aidx;         /* dense unit -> analysis unit (-1 = out of scope) */
	size_t ncat;        /* analysis categories: selected, with an event of the
			       period in scope, in id order */
	uint32_t *cat_of;   /* analysis category -> category id */
	long *cidx;         /* category id -> analysis category (-1 = not analysed) */
	long unassigned;    /* located events from period_from on in no unit */
	double *count;      /* [(unit * ncat + cat) * nmonth + month], or NULL when
			       nunit or ncat is 0 */
};

/* Choose the analysis units (in scope) and categories (selected, with an
 * event of the period in scope) and count every event of both sources per
 * unit, category and month of the span. Events of months outside the span,
 * of units out of scope or of categories not analysed are not counted.
 * MB_ENOMEM; the caller frees out's arrays (flags_counts_release) either way. */
int flags_count(const struct flags_count_in *in, struct flags_counts *out, struct mb_error *err);

/* Free what flags_count allocated and zero *c. */
void flags_counts_release(struct flags_counts *c);

/* Append printf text to the growing string *s (length *len, capacity *cap;
 * start with NULL, 0, 0). Sticky on out of memory: *s becomes NULL with *cap
 * non-zero, and later calls do nothing. */
void flags_sappend(char **s, size_t *len, size_t *cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Why analysis unit k of res is (or is not) a priority, in words: its
 * credible categories with their figures (name of analysis category c:
 * cat_name[cat_of ? cat_of[c] : c]), its harm-weighted excess and rank
 * against par's thresholds, its flags and the top-3% streets it holds. An
 * owned string, or NULL on out of memory. */
char *flags_reasons(const struct flags_result *res, const struct flags_params *par, size_t k,
		    const char *const *cat_name, const uint32_t *cat_of);

#endif
