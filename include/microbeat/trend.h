/*
 * trend — is it a real rise? Pure statistics on monthly count series.
 *
 * No SQLite, no files, no printing: callers pass plain arrays and get result
 * structs back (the store loads the series, report/plot write them out). Every
 * figure is defined, with its source, in docs/methods-trends.md.
 *
 * A series is monthly counts for consecutive months. A month that was never
 * loaded is a GAP (present[i] == 0), not a zero: gaps are left out of every fit
 * and test and are counted in the results so that they can be reported.
 *
 * Month indexes are months since 2000-01 (0 = January 2000); the month of the
 * year is idx mod 12 (0 = January). Intervals are 95% unless a level is
 * passed (the FCR intervals of section 9).
 * Unless stated otherwise a function returns 0, or a negative MB_E* code with
 * err (may be NULL) filled; on failure *out is unspecified. No function keeps a
 * pointer to its inputs. Figures that cannot be computed are NAN and come with
 * a flag saying why; no function divides by zero.
 */
#ifndef MICROBEAT_TREND_H
#define MICROBEAT_TREND_H

#include <stddef.h>

#include "microbeat/common.h"

/* Confidence level of every interval in this module. */
#define TREND_LEVEL 0.95
/* Present months in each year-on-year window below which no verdict is given. */
#define TREND_MIN_WINDOW_MONTHS 6
/* Present months needed for the seasonal model (else fall back to no seasonality). */
#define TREND_MIN_SEASONAL_MONTHS 13
/* Present months needed for any log-linear fit. */
#define TREND_MIN_FIT_MONTHS 4
/* Recent present months inspected for points above the control limit. */
#define TREND_RECENT_MONTHS 3
/* Largest series (months) accepted by trend_mann_kendall (pairwise slopes). */
#define TREND_MAX_MK_MONTHS 2400

/* A monthly count series; the arrays are the caller's and are only read. */
struct trend_series {
	const double *count;          /* count per month (finite, >= 0 where present) */
	const unsigned char *present; /* 1 = month loaded, 0 = gap; NULL = all present */
	size_t n;                     /* number of consecutive months */
	int first_month;              /* month index (months since 2000-01) of count[0] */
};

/* Count the gaps of s. When months is not NULL, write the month indexes of the
 * first min(gaps, cap) gaps into months[]. Return the number of gaps. */
size_t trend_gaps(const struct trend_series *s, int *months, size_t cap);

/* ---- 1. Year on year ------------------------------------------------------ */

/* Year-on-year comparison of a later window (a) with an earlier window (b). */
struct trend_yoy {
	unsigned long a;        /* count in the later window (the last 12 months) */
	unsigned long b;        /* count in the earlier window (the 12 before) */
	int a_months;           /* present months in the later window (1..12) */
	int b_months;           /* present months in the earlier window (1..12) */
	int partial;            /* 1 when either window has fewer than 12 present months */
	long change;            /* a - b, raw counts (not adjusted for partial windows) */
	double rr;              /* rate ratio (a/a_months)/(b/b_months); NAN if a=b=0, INFINITY if b=0 */
	double rr_lo;           /* exact (Clopper-Pearson) 95% CI lower limit of rr; NAN if a=b=0 */
	double rr_hi;           /* exact 95% CI upper limit of rr; INFINITY when b=0; NAN if a=b=0 */
	int pct_defined;        /* 0 when b = 0: percent change undefined */
	double pct;             /* 100 (rr - 1): percent change in the monthly rate; NAN if undefined */
	double pct_lo;          /* 100 (rr_lo - 1); NAN if undefined */
	double pct_hi;          /* 100 (rr_hi - 1); NAN or INFINITY if undefined */
	double p;               /* exact conditional binomial two-sided p (1 when a=b=0) */
	double z;               /* 2(sqrt a - sqrt b): > 0 = later window higher; var ~2 under H0;
	                           NAN for partial windows, where raw counts are not comparable */
};

/* Compare a crimes in the later window (a_months of its 12 months present) with
 * b in the earlier window (b_months present). With 12 and 12 this is the plain
 * conditional test X ~ Bin(a+b, 1/2), p = min(1, 2 P(X <= min(a,b))); with
 * partial windows the null proportion becomes a_months/(a_months+b_months)
 * and the rate ratio compares monthly rates. Time grows as sqrt(a+b).
 * Fails with MB_EUSAGE when a month count is outside 1..12 or a+b > UINT_MAX. */
int trend_yoy_test(unsigned long a, int a_months, unsigned long b, int b_months,
	struct trend_yoy *out, struct mb_error *err);

/* Sum the last 12 months of s (later window) and the 12 before (earlier
 * window), present months only, and call trend_yoy_test. Fails with MB_EUSAGE
 * when s->n < 24 or a window has no present month, MB_EDATA when a present
 * count is not a non-negative whole number. */
int trend_yoy_series(const struct trend_series *s, struct trend_yoy *out,
	struct mb_error *err);

/* Two-sided p of the exact conditional test for equal windows, by the
 * lgamma-based sum of the binomial terms: an independent cross-check of
 * trend_yoy_test's p (agrees to ~1e-15 n relative; O(min(a,b)) time). */
double trend_yoy_p_lgamma(unsigned long a, unsigned long b);

/* ---- 2. Log-linear Poisson trend with seasonality -------------------------- */

/* Which model trend_poisson_fit could fit. */
enum trend_fit_kind {
	TREND_FIT_NONE = 0,      /* no fit: see trend_poisson.reason */
	TREND_FIT_LINEAR = 1,    /* log mu = b0 + b1 t (seasonality dropped) */
	TREND_FIT_SEASONAL = 2   /* log mu = b0 + b1 t + month-of-year effects */
};

/* Why a simpler model (or none) was fitted. */
enum trend_fit_reason {
	TREND_REASON_OK = 0,          /* the seasonal model was fitted */
	TREND_REASON_FEW_MONTHS = 1,  /* < 13 present months or < p + 2: no seasonality */
	TREND_REASON_TOO_FEW = 2,     /* < 4 present months: no fit */
	TREND_REASON_ALL_ZERO = 3,    /* every present month is 0: no fit */
	TREND_REASON_ONE_SEASON = 4,  /* < 2 months of the year with crimes: no seasonality */
	TREND_REASON_SEPARATED = 5    /* crimes only at one end (e.g. 0,0,0,5): the slope
	                                 is infinite, no fit reported */
};

/* Result of the quasi-Poisson log-linear trend fit. */
struct trend_poisson {
	enum trend_fit_kind kind;     /* model fitted */
	enum trend_fit_reason reason; /* why that model */
	size_t n;                     /* present months used (observations) */
	size_t gaps;                  /* months left out as gaps */
	size_t p;                     /* parameters: 2 + month-of-year dummies */
	int converged;                /* 1 when IRLS met the deviance criterion */
	int iterations;               /* IRLS iterations run */
	double beta0;                 /* intercept: log mean at t = 0 (series start, reference month) */
	double beta1;                 /* log rate change per month */
	double se_beta1;              /* sqrt(phi (X'WX)^-1 [1,1]) */
	double t_beta1;               /* beta1 / se_beta1 */
	double p_beta1;               /* two-sided p from Student t with n - p df */
	double df;                    /* residual degrees of freedom n - p */
	double phi;                   /* quasi-Poisson dispersion: Pearson X^2 / (n - p), as computed */
	double pearson;               /* Pearson X^2 = sum (y - mu)^2 / mu */
	double deviance;              /* Poisson deviance */
	double annual;                /* exp(12 beta1) - 1: fractional change per year */
	double annual_lo;             /* exp(12 (beta1 - t_{.975,df} se)) - 1 */
	double annual_hi;             /* exp(12 (beta1 + t_{.975,df} se)) - 1 */
	int ref_moy;                  /* reference month of the year (0 = Jan), -1 if none */
	double season[12];            /* log rate ratio of each month of the year vs ref_moy:
	                                 0 for ref, NAN when absent or not modelled,
	                                 -INFINITY when every count of that month is 0 */
};

/* Fit log mu_t = b0 + b1 t [+ month-of-year dummies] to the present months of s
 * by IRLS (GSL weighted least squares), t = months since the series start.
 * Quasi-Poisson standard errors. Too few months or an all-zero series are not
 * errors: out->kind and out->reason say what was fitted. Fails with MB_EDATA on
 * a present count that is negative or not finite, MB_ENOMEM on out of memory. */
int trend_poisson_fit(const struct trend_series *s, struct trend_poisson *out,
	struct mb_error *err);

/* ---- 3. Mann-Kendall and Sen's slope -------------------------------------- */

/* Mann-Kendall trend test over the present months. */
struct trend_mk {
	size_t n;           /* present months used */
	long long s;        /* S = sum over pairs i<j of sign(x_j - x_i) */
	double var_s;       /* Var(S) with the correction for tied counts */
	double z;           /* (S - sign(S)) / sqrt(Var S); 0 when S = 0 or Var S = 0 */
	double p;           /* two-sided normal p; 1 when Var S = 0 */
	double sen;         /* Sen slope: median pairwise slope, counts per month; NAN if n < 2 */
};

/* Compute Mann-Kendall S, Var(S), z, p and Sen's slope (month index differences
 * over gaps). Fails with MB_EDATA on a bad present count, MB_EUSAGE when more
 * than TREND_MAX_MK_MONTHS months are present, MB_ENOMEM on out of memory. */
int trend_mann_kendall(const struct trend_series *s, struct trend_mk *out,
	struct mb_error *err);

/* ---- 4. c-chart and run rules --------------------------------------------- */

/* Per-month flags written by trend_cchart (bitwise or). */
enum trend_cc_flag {
	TREND_CC_GAP = 1,       /* month is a gap */
	TREND_CC_ABOVE = 2,     /* count > UCL */
	TREND_CC_BELOW = 4,     /* count < LCL (only possible when LCL > 0) */
	TREND_CC_RUN = 8,       /* part of a run of >= 8 points on one side of the centre */
	TREND_CC_BASELINE = 16  /* month is in the baseline */
};

/* c-chart limits and the signals found over the whole series. */
struct trend_cchart {
	size_t n_baseline;      /* present months in the baseline; 0 = no chart (limits NAN) */
	double centre;          /* c-bar: mean of the present baseline months */
	double ucl;             /* c-bar + 3 sqrt(c-bar) */
	double lcl;             /* max(0, c-bar - 3 sqrt(c-bar)) */
	size_t n_above;         /* present months above the UCL */
	size_t n_below;         /* present months below the LCL */
	size_t recent_n;        /* present months among the last TREND_RECENT_MONTHS present */
	size_t recent_above;    /* of those, how many are above the UCL */
	size_t n_runs8;         /* runs of >= 8 useful points on one side of the centre */
	size_t n_useful;        /* Anhoej n: present points not on the centre line */
	size_t longest_run;     /* longest run of useful points on one side */
	size_t run_limit;       /* round(log2(n_useful) + 3); longest_run > limit signals */
	size_t crossings;       /* times consecutive useful points change side */
	size_t crossing_limit;  /* qbinom(0.05, n_useful - 1, 0.5); crossings < limit signals */
	int run_signal;         /* 1 when longest_run > run_limit */
	int crossing_signal;    /* 1 when crossings < crossing_limit */
};

/* Build a c-chart for s with the baseline months [base_first, base_first +
 * base_len) (indexes into s, clipped to the series) and look for signals over
 * the whole series. flags may be NULL, else it receives s->n enum trend_cc_flag
 * masks. A baseline without present months is not an error: n_baseline = 0 and
 * nothing is flagged. Points on the centre line and gaps neither extend nor
 * break a run. Fails with MB_EDATA on a bad present count. */
int trend_cchart(const struct trend_series *s, size_t base_first, size_t base_len,
	unsigned char *flags, struct trend_cchart *out, struct mb_error *err);

/* qbinom(0.05, n, 0.5): the smallest k with P(X <= k) >= 0.05, X ~ Bin(n, 1/2);
 * 0 when n = 0. Anhoej's minimum number of crossings for n + 1 useful points. */
size_t trend_crossing_limit(size_t n);

/* ---- 5. Contribution to a change ------------------------------------------ */

/* One component's part in a change. */
struct trend_contrib {
	size_t index;           /* position of the component in the caller's input */
	double delta;           /* the component's change */
	double share;           /* delta / total; NAN when the total is 0 */
};

/* Fill out[0..m) with each component's share of total, sorted by |delta|
 * descending (ties: input order). *defined (may be NULL) is set to 0 when
 * total == 0 (shares undefined, NAN), else 1. Fails with MB_EDATA when a delta
 * or the total is not finite. */
int trend_contribution(const double *delta, size_t m, double total,
	struct trend_contrib *out, int *defined, struct mb_error *err);

/* ---- 6. Benjamini-Hochberg ------------------------------------------------ */

/* Benjamini-Hochberg step-up: q[i] = min over j with p_(j) >= p_i of
 * min(1, m p_(j) / j), and reject[i] = (q[i] <= level). NAN p-values are not
 * tests: they get q NAN, reject 0, and are not counted in m. reject may be NULL.
 * Fails with MB_EUSAGE when a p is outside [0, 1] or level is outside (0, 1),
 * MB_ENOMEM on out of memory. */
int trend_fdr_bh(const double *p, size_t m, double level, double *q,
	unsigned char *reject, struct mb_error *err);

/* ---- 7. Verdict ----------------------------------------------------------- */

/* Fewer crimes than this in the two years together: too few to judge. */
#define TREND_MIN_YOY_COUNT 10

/* One judged comparison: an estimate with the interval printed beside it. */
struct trend_judged {
	int defined;            /* 1 when the figures below exist */
	double est;             /* ratio: year-on-year rate ratio, or the annual ratio exp(12 b1) */
	double lo;              /* lower limit of the interval printed with it (same scale) */
	double hi;              /* upper limit */
	double level;           /* coverage of that interval: 0.95, or the FCR level */
	double p;               /* p the verdict uses: the BH q when adjusted */
	int adjusted;           /* 1 when p is a BH q and the interval an FCR interval */
};

/* What trend_verdict judges and how. */
struct trend_verdict_opts {
	double alpha;           /* significance level (FDR level for a family), e.g. 0.05 */
	const char *family;     /* how the series was tested, e.g. "one of 13 types tested
	                           together (FDR 5%)"; NULL = not stated */
	struct trend_judged yoy; /* year on year under over-dispersion (section 8) */
	double phi;             /* dispersion the year-on-year test used (NAN = not stated) */
	int long_run;           /* 1 when the period is long enough for the trend to be judged */
	int months;             /* months of the period (for the long-run clause) */
	struct trend_judged trend; /* long-run trend, annual ratio scale (when long_run) */
	const char *note;       /* appended as "; note" (e.g. recording sensitivity), or NULL */
};

/* Write a one-line plain English verdict into buf (size bytes), e.g. "Rising:
 * +18% year on year (95% CI +6% to +31%), significant (p = 0.002);
 * quasi-Poisson rate ratio, phi = 2.1; Poisson exact test (secondary,
 * unadjusted): p < 0.001, 95% CI +9% to +28%; the total, tested alone". The
 * words follow opt->yoy (and opt->trend when long_run) and never contradict
 * the interval printed beside them: "Rising"/"Falling" only when that
 * interval excludes no change. exact (the Poisson exact test) gives the counts
 * and months; chart may be NULL. Fails with MB_EUSAGE when buf is too small
 * (buf then holds a truncated, terminated string), alpha is outside (0, 1) or
 * a used p is outside [0, 1]. */
int trend_verdict(const struct trend_yoy *exact, const struct trend_cchart *chart,
	const struct trend_verdict_opts *opt, char *buf, size_t size,
	struct mb_error *err);

/* ---- 8. Year on year under over-dispersion -------------------------------- */

/* Quasi-Poisson rate ratio of two windows, months paired by month of the year. */
struct trend_qp_yoy {
	int defined;            /* 1 when at least 2 months are paired */
	int pairs;              /* P: months present in both windows (pairs used) */
	unsigned long a;        /* later-window count over the paired months */
	unsigned long b;        /* earlier-window count over the paired months */
	int zero_corrected;     /* 1 when a or b is 0 and 0.5 was added to each */
	double rr;              /* rate ratio a/b (corrected counts when zero_corrected) */
	double phi;             /* Pearson X^2 / (P - 1), as computed */
	double phi_used;        /* max(1, phi): the dispersion the test uses */
	double df;              /* P - 1 */
	double se;              /* SE of log rr: sqrt(phi_used (1/a + 1/b)) */
	double t;               /* log(rr) / se */
	double p;               /* two-sided p from Student t with df */
	double lo;              /* 95% CI lower limit of rr */
	double hi;              /* 95% CI upper limit of rr */
};

/* Compare later[j] with earlier[j], j = 0..11 (the same month of the year one
 * year apart); a month counts only when present in both windows (present
 * arrays may be NULL = all present). Counts must be finite and >= 0 where
 * present (MB_EDATA). Fewer than 2 pairs or a = b = 0 is not an error:
 * out->defined = 0. */
int trend_qp_yoy(const double *later, const unsigned char *later_present,
	const double *earlier, const unsigned char *earlier_present,
	struct trend_qp_yoy *out, struct mb_error *err);

/* Interval of qp's rate ratio at coverage level (0 < level < 1), by the same
 * t quantile as its test: excludes 1 exactly when qp->p < 1 - level. */
void trend_qp_interval(const struct trend_qp_yoy *qp, double level, double *lo, double *hi);

/* Interval of fit's annual ratio exp(12 b1) at coverage level, by the t
 * quantile of its test. */
void trend_fit_interval(const struct trend_poisson *fit, double level, double *lo, double *hi);

/* ---- 9. False coverage rate intervals ------------------------------------- */

/* Benjamini & Yekutieli (2005): after BH at level alpha rejects r of m tests,
 * intervals at coverage 1 - max(r, 1) alpha / m keep the false coverage rate
 * of the selected ones at alpha, and exclude the null exactly for the
 * rejected tests. Returns that level (1 - alpha when m <= 1). */
double trend_fcr_level(size_t m, size_t r, double alpha);

/* ---- 10. Seasonal Kendall test -------------------------------------------- */

/* Seasonal Kendall trend test (Hirsch, Slack & Smith 1982). */
struct trend_skendall {
	size_t n;               /* present months used */
	size_t seasons;         /* months of the year with at least 2 present values */
	long long s;            /* S = sum over months of the year of the Mann-Kendall S */
	double var_s;           /* sum of the per-season Var(S) with the tie correction */
	double z;               /* (S - sign S) / sqrt(Var S); 0 when S = 0 or Var S = 0 */
	double p;               /* two-sided normal p; 1 when Var S = 0 */
	double sen;             /* seasonal Sen slope: median within-season slope per year;
	                           NAN when no season has 2 values */
};

/* Whether s holds at least 2 full years: every month of the year present at
 * least twice. The seasonal Kendall test replaces Mann-Kendall then. */
int trend_has_two_years(const struct trend_series *s);

/* Seasonal Kendall S, Var(S), z, p and the seasonal Sen slope over the present
 * months of s. Fails with MB_EDATA on a bad present count, MB_EUSAGE when more
 * than TREND_MAX_MK_MONTHS months are present, MB_ENOMEM on out of memory. */
int trend_seasonal_kendall(const struct trend_series *s, struct trend_skendall *out,
	struct mb_error *err);

/* ---- 11. Families of tests (trend_verdict.c) ------------------------------ */

/* A series tested alone at alpha: jy from the over-dispersed year on year qp,
 * jt from the long-run fit (defined when has_fit), each with its p and the
 * interval at 1 - alpha, not adjusted. */
void trend_judge_alone(const struct trend_qp_yoy *qp, const struct trend_poisson *fit,
	int has_fit, double alpha, struct trend_judged *jy, struct trend_judged *jt);

/* One series of a family judged together (trend_judge_family). */
struct trend_member {
	const struct trend_qp_yoy *qp;   /* its over-dispersed year on year (a yoy family) */
	const struct trend_poisson *fit; /* its long-run fit (a trend family) */
	struct trend_judged *judged;     /* filled: level, p, adjusted, lo, hi (est and
					    defined are left as trend_judge_alone set them) */
};

/* Judge m series together at false discovery rate fdr: Benjamini-Hochberg
 * over their p-values (qp->p when trend is 0, fit->p_beta1 when 1), then
 * intervals at the false coverage rate level that matches the rejections
 * (trend_fcr_level; Benjamini & Yekutieli 2005), so that an interval excludes
 * no change exactly when its test is rejected. judged->p becomes the BH q,
 * judged->adjusted is 1 when m > 1. m == 0 does nothing. Fails as
 * trend_fdr_bh does, or MB_ENOMEM. */
int trend_judge_family(struct trend_member *mem, size_t m, int trend, double fdr,
	struct mb_error *err);

/* A component's share of the total change: (a - b) / (total_a - total_b),
 * NAN when the total did not change. */
double trend_change_share(double a, double b, double total_a, double total_b);

#endif
