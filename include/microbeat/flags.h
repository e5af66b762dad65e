/*
 * flags — geographic priority flags per unit x category: pure analysis.
 *
 * Input: monthly counts per unit (parish, ward ...) and category (crime type
 * or agency activity type), unit populations (or street counts when the layer
 * has no population), how many of the district's top-3% streets each unit
 * holds per category, and harm weights. Output: for every unit x category
 * the four flags with the figures behind them, and the units ranked as
 * geographic priorities. No I/O, no SQLite. Every figure is defined in
 * docs/methods-flags.md.
 *
 * The four flags of a unit u and category c:
 *   H  high rate: observed O vs expected E = district rate x population of u,
 *      one-sided exact Poisson test P(X >= O | E), significant after
 *      Benjamini-Hochberg over all unit x category tests, and O/E >= min_ratio;
 *   R  rising: year-on-year exact conditional test (trend_yoy_series on the
 *      last 24 months of the series), significant after Benjamini-Hochberg
 *      over all unit x category tests, and the later year higher;
 *   C  out of control: one of the last 3 present months above the unit's
 *      c-chart upper limit (baseline: up to baseline_months before them,
 *      centre line > 0);
 *   S  hot streets: u holds at least one of the district's top-3% streets of c.
 * A unit is a priority when it flags (any letter) on >= min_flags categories.
 *
 * Unless stated otherwise a function returns 0, or a negative MB_E* code with
 * err (may be NULL) filled. Inputs are only read and never retained.
 */
#ifndef MICROBEAT_FLAGS_H
#define MICROBEAT_FLAGS_H

#include <stddef.h>

#include "microbeat/common.h"
#include "microbeat/trend.h"

/* Flag bits of a cell. */
#define FLAGS_HIGH 1u     /* H: rate significantly above the district's */
#define FLAGS_RISING 2u   /* R: significant year-on-year rise */
#define FLAGS_CONTROL 4u  /* C: a recent month above the c-chart upper limit */
#define FLAGS_HOT 8u      /* S: holds a district top-3% street */

/* Tuning; fill with flags_params_init() then override. */
struct flags_params {
	double fdr;          /* Benjamini-Hochberg level for H and R (default 0.05) */
	double min_ratio;    /* H also needs O/E >= this (default 1.2) */
	int min_flags;       /* categories flagged for a priority (default 3) */
	int baseline_months; /* c-chart baseline before the last 3 months (default 24) */
};

/* The data. Arrays are the caller's. */
struct flags_input {
	size_t nunit;                 /* units */
	size_t ncat;                  /* categories */
	size_t nmonth;                /* months of each series (consecutive) */
	int first_month;              /* months since 2000-01 of month index 0 */
	const unsigned char *present; /* nmonth: 1 = loaded, 0 = gap; NULL = all present */
	size_t period_first;          /* index of the period's first month: the period is
					 [period_first, nmonth); earlier months only feed
					 the year on year and the c-chart baseline */
	const double *count;          /* count[(u * ncat + c) * nmonth + m], whole numbers >= 0 */
	const double *population;     /* nunit residents (NaN = unknown: no H test), or NULL
					 when the layer has none: then streets is used */
	const double *streets;        /* nunit streets per unit (the share-of-streets
					 denominator when population is NULL), or NULL */
	const unsigned *hot;          /* nunit * ncat: district top-3% streets held, or NULL */
	const double *harm;           /* ncat harm weights (NaN = 0), or NULL (all 1) */
};

/* One unit x category. */
struct flags_cell {
	double observed;         /* O: count over the period (present months) */
	double expected;         /* E: district rate x denominator; NAN when not tested */
	double ratio;            /* O / E; NAN when E is NAN or 0 */
	double p_high;           /* P(X >= O), X ~ Poisson(E); NAN when not tested */
	double q_high;           /* its Benjamini-Hochberg adjusted value */
	int has_yoy;             /* 1 when the year on year could be computed (a + b > 0) */
	struct trend_yoy yoy;    /* last 12 months vs the 12 before */
	double q_rise;           /* BH-adjusted p of the year on year; NAN without one */
	int has_cc;              /* 1 when the c-chart has a baseline */
	struct trend_cchart cc;  /* c-chart of the series */
	unsigned hot_streets;    /* district top-3% streets held */
	unsigned flags;          /* FLAGS_* bits */
};

/* One unit's verdict. */
struct flags_unit {
	unsigned ncat_flagged;   /* categories with any flag */
	unsigned nflags;         /* flags over all categories */
	double harm_excess;      /* sum over c of harm_c * max(0, O - E) (E defined) */
	int priority;            /* 1 when ncat_flagged >= min_flags */
	size_t rank;             /* 1 = first in the ranking */
};

/* Everything computed. */
struct flags_result {
	size_t nunit, ncat;      /* dimensions */
	int by_population;       /* 1: E from populations; 0: from shares of streets */
	double denominator;      /* total population (or streets) of the tested units */
	double *district_total;  /* ncat: sum of O over the tested units */
	double *district_rate;   /* ncat: district_total / denominator */
	struct flags_cell *cell; /* nunit * ncat, cell[u * ncat + c] */
	struct flags_unit *unit; /* nunit */
	size_t *order;           /* nunit unit indexes by rank: most categories flagged,
				    then harm-weighted excess, then index */
	size_t n_high_tests;     /* H tests (BH family size) */
	size_t n_rise_tests;     /* R tests (BH family size) */
};

/* Defaults: fdr 0.05, min_ratio 1.2, min_flags 3, baseline_months 24. */
void flags_params_init(struct flags_params *p);

/* Compute every flag. params may be NULL (defaults). On success *out is a new
 * result freed with flags_result_free(). MB_EUSAGE on bad dimensions or
 * parameters, MB_EDATA on a negative or fractional count, MB_ENOMEM. */
int flags_compute(const struct flags_input *in, const struct flags_params *params,
		  struct flags_result **out, struct mb_error *err);

/* Free a result (NULL allowed). */
void flags_result_free(struct flags_result *r);

/* One-sided exact Poisson upper tail P(X >= k), X ~ Poisson(mu): 1 when
 * k = 0; NAN when mu < 0 or not finite; for mu = 0 and k > 0, 0. */
double flags_poisson_sf(unsigned long k, double mu);

/* Funnel-plot control limits for an expected count mu > 0 at two-sided level
 * (e.g. 0.95, 0.998): the Poisson quantiles at (1 - level)/2 and
 * 1 - (1 - level)/2, smoothed by Spiegelhalter's interpolation (Stat Med
 * 2005;24:1185, appendix A.1.1: r_p - alpha, alpha = (F(r_p) - p) /
 * (F(r_p) - F(r_p - 1))), as counts; never below 0. MB_EUSAGE on bad input. */
int flags_poisson_limits(double mu, double level, double *lo, double *hi, struct mb_error *err);

/* Write the letters of flags ("HRCS" order, '-' when none) into buf (5 bytes). */
void flags_letters(unsigned flags, char buf[5]);

#endif
