/*
 * trend_verdict — judging many series at once and saying what was found:
 * each component's share of a change, Benjamini-Hochberg, false coverage
 * rate intervals, the families of tests (trend_judge_alone,
 * trend_judge_family) and the plain-English verdict. Definitions and sources:
 * docs/methods-trends.md.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "microbeat/trend.h"
#include "trend_internal.h"

/* ---- 5. Contribution ------------------------------------------------------ */

/* qsort comparison: |delta| descending, then input order. */
static int cmp_contrib(const void *pa, const void *pb)
{
	const struct trend_contrib *a = pa, *b = pb;
	double da = fabs(a->delta), db = fabs(b->delta);

	if (da != db)
		return da < db ? 1 : -1;
	return (a->index > b->index) - (a->index < b->index);
}

int trend_contribution(const double *delta, size_t m, double total,
	struct trend_contrib *out, int *defined, struct mb_error *err)
{
	size_t i;

	if (m > 0 && (delta == NULL || out == NULL))
		return mb_err(err, MB_EUSAGE, "trend: no components given");
	if (!isfinite(total))
		return mb_err(err, MB_EDATA, "trend: total change %g is not finite", total);
	for (i = 0; i < m; i++) {
		if (!isfinite(delta[i]))
			return mb_err(err, MB_EDATA,
				"trend: component %zu change %g is not finite", i, delta[i]);
		out[i].index = i;
		out[i].delta = delta[i];
		out[i].share = total != 0.0 ? delta[i] / total : NAN;
	}
	if (m > 1)
		qsort(out, m, sizeof(*out), cmp_contrib);
	if (defined)
		*defined = total != 0.0;
	return 0;
}

/* ---- 6. Benjamini-Hochberg ------------------------------------------------ */

/* One p-value and its position, for sorting in trend_fdr_bh. */
struct bh_item {
	double p;               /* the p-value */
	size_t index;           /* its position in the caller's array */
};

/* qsort comparison: p ascending, then input order. */
static int cmp_bh(const void *pa, const void *pb)
{
	const struct bh_item *a = pa, *b = pb;

	if (a->p != b->p)
		return a->p < b->p ? -1 : 1;
	return (a->index > b->index) - (a->index < b->index);
}

int trend_fdr_bh(const double *p, size_t m, double level, double *q,
	unsigned char *reject, struct mb_error *err)
{
	struct bh_item *ord = NULL;
	size_t i, k = 0;
	double qmin = 1.0;

	if (!(level > 0.0 && level < 1.0))
		return mb_err(err, MB_EUSAGE, "trend: FDR level %g (want 0 < level < 1)", level);
	if (m > 0 && (p == NULL || q == NULL))
		return mb_err(err, MB_EUSAGE, "trend: no p-values given");
	for (i = 0; i < m; i++)
		if (!isnan(p[i]) && !(p[i] >= 0.0 && p[i] <= 1.0))
			return mb_err(err, MB_EUSAGE, "trend: p-value %g outside [0, 1]", p[i]);
	if (m == 0)
		return 0;
	ord = malloc(m * sizeof(*ord));
	if (!ord)
		return mb_err(err, MB_ENOMEM, "trend: out of memory");
	for (i = 0; i < m; i++) {
		q[i] = NAN;
		if (reject)
			reject[i] = 0;
		if (!isnan(p[i])) {
			ord[k].p = p[i];
			ord[k].index = i;
			k++;
		}
	}
	qsort(ord, k, sizeof(*ord), cmp_bh);
	/* Step up from the largest p: q_(j) = min over l >= j of k p_(l) / l. */
	for (i = k; i-- > 0;) {
		double v = (double)k * ord[i].p / (double)(i + 1);

		if (v < qmin)
			qmin = v;
		q[ord[i].index] = qmin;
		if (reject)
			reject[ord[i].index] = qmin <= level;
	}
	free(ord);
	return 0;
}

/* ---- 7. Verdict ----------------------------------------------------------- */

/* Format a percentage with its sign ("+18%", "-8%", "0%"), rounded to a whole
 * number, or to the fewest decimals (up to 2) that keep a non-zero value's
 * sign, so that an interval limit never reads "0%" when it excludes 0. */
static void fmt_pct(char *buf, size_t size, double v)
{
	int prec = 0;

	if (isinf(v)) {
		snprintf(buf, size, "%sinfinity", v > 0 ? "+" : "-");
		return;
	}
	while (prec < 2 && v != 0.0 && fabs(round(v * pow(10.0, prec))) < 1.0)
		prec++;
	if (round(v * pow(10.0, prec)) == 0.0)
		snprintf(buf, size, "0%%");
	else
		snprintf(buf, size, "%+.*f%%", prec, v);
}

/* Format a p-value as "= 0.52", "= 0.002" or "< 0.001" into buf. */
static void fmt_p(char *buf, size_t size, double p)
{
	if (p < 0.001)
		snprintf(buf, size, "< 0.001");
	else if (p < 0.01)
		snprintf(buf, size, "= %.3f", p);
	else
		snprintf(buf, size, "= %.2f", p);
}

/* Format a coverage level as "95%" or "99.6%" (one decimal, trailing zero
 * dropped; more decimals when rounding would make it 100%). */
static void fmt_level(char *buf, size_t size, double level)
{
	double v = 100.0 * level;
	int prec = 1;

	if (fabs(v - round(v)) < 0.05 && round(v) < 100.0) {
		snprintf(buf, size, "%.0f%%", v);
		return;
	}
	/* 99.952 is "99.95%", never "100%" */
	while (prec < 4 && round(v * pow(10.0, prec)) >= 100.0 * pow(10.0, prec))
		prec++;
	snprintf(buf, size, "%.*f%%", prec, v);
}

/* "the 95% CI" or "the FCR-adjusted 99.6% CI" of j. */
static void fmt_ci(char *buf, size_t size, const struct trend_judged *j)
{
	char lv[16];

	fmt_level(lv, sizeof(lv), j->level);
	snprintf(buf, size, "%s%s CI", j->adjusted ? "FCR-adjusted " : "", lv);
}

/* Append to buf (used bytes *len of size) like snprintf; a truncation is
 * remembered in *len (> size) and reported by the caller. */
static void cat(char *buf, size_t size, int *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void cat(char *buf, size_t size, int *len, const char *fmt, ...)
{
	va_list ap;
	size_t used = (size_t)*len < size ? (size_t)*len : size - 1;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + used, size - used, fmt, ap);
	va_end(ap);
	*len += n < 0 ? 0 : n;
}

/* "<pct> <what> (<CI> <lo> to <hi>), [not ]significant ([adjusted ]p = x)". */
static void judged_clause(char *buf, size_t size, int *len, const struct trend_judged *j,
	const char *what, double alpha)
{
	char pct[32], lo[32], hi[32], pv[32], ci[48];

	fmt_pct(pct, sizeof(pct), 100.0 * (j->est - 1.0));
	fmt_pct(lo, sizeof(lo), 100.0 * (j->lo - 1.0));
	fmt_pct(hi, sizeof(hi), 100.0 * (j->hi - 1.0));
	fmt_p(pv, sizeof(pv), j->p);
	fmt_ci(ci, sizeof(ci), j);
	cat(buf, size, len, "%s %s (%s %s to %s), %s (%sp %s)", pct, what, ci, lo, hi,
		j->p <= alpha ? "significant" : "not significant", j->adjusted ? "adjusted " : "", pv);
}

int trend_verdict(const struct trend_yoy *exact, const struct trend_cchart *chart,
	const struct trend_verdict_opts *opt, char *buf, size_t size,
	struct mb_error *err)
{
	const struct trend_judged *y, *tr;
	int len = 0, ysig, tsig;
	char pv[32], lo[32], hi[32];

	if (exact == NULL || opt == NULL || buf == NULL || size == 0)
		return mb_err(err, MB_EUSAGE, "trend: verdict needs a result and a buffer");
	if (!(opt->alpha > 0.0 && opt->alpha < 1.0))
		return mb_err(err, MB_EUSAGE, "trend: significance level %g (want 0 < alpha < 1)",
			opt->alpha);
	y = &opt->yoy;
	tr = &opt->trend;
	if ((y->defined && !(y->p >= 0.0 && y->p <= 1.0)) ||
	    (opt->long_run && tr->defined && !(tr->p >= 0.0 && tr->p <= 1.0)))
		return mb_err(err, MB_EUSAGE, "trend: p-value outside [0, 1]");
	buf[0] = '\0';
	ysig = y->defined && y->p <= opt->alpha && exact->a + exact->b >= TREND_MIN_YOY_COUNT;
	tsig = opt->long_run && tr->defined && tr->p <= opt->alpha;

	if (exact->a_months < TREND_MIN_WINDOW_MONTHS || exact->b_months < TREND_MIN_WINDOW_MONTHS)
		cat(buf, size, &len,
			"Too few months to judge year on year: %d of the last 12 months and %d of the previous 12 present",
			exact->a_months, exact->b_months);
	else if (exact->a == 0 && exact->b == 0)
		cat(buf, size, &len, "Nothing recorded in either year");
	else if (exact->a + exact->b < TREND_MIN_YOY_COUNT)
		cat(buf, size, &len,
			"Too few crimes to judge year on year: %lu against %lu the year before (fewer than %d in the two years)",
			exact->a, exact->b, TREND_MIN_YOY_COUNT);
	else if (!y->defined)
		cat(buf, size, &len,
			"Too few months to judge year on year: fewer than 2 months present in both years");
	else {
		/* the headline follows the tests whose intervals are printed below */
		const char *head = ysig ? (y->est > 1.0 ? "Rising" : "Falling")
			: tsig ? (tr->est > 1.0 ? "Rising over the period" : "Falling over the period")
			: "Within normal variation";

		cat(buf, size, &len, "%s: ", head);
		if (!exact->pct_defined || exact->b == 0) {
			/* the rate ratio's interval, 0.5 added to each count */
			char ci[48];

			fmt_ci(ci, sizeof(ci), y);
			fmt_p(pv, sizeof(pv), y->p);
			cat(buf, size, &len, "%lu against %lu the year before (%s of the rate ratio %.3g to %.3g, 0.5 added to each count), %s (%sp %s)",
				exact->a, exact->b, ci, y->lo, y->hi,
				y->p <= opt->alpha ? "significant" : "not significant",
				y->adjusted ? "adjusted " : "", pv);
		} else {
			judged_clause(buf, size, &len, y, "year on year", opt->alpha);
		}
		if (isfinite(opt->phi))
			cat(buf, size, &len, "; quasi-Poisson rate ratio, phi = %.2f", opt->phi);
		fmt_p(pv, sizeof(pv), exact->p);
		if (exact->pct_defined) {
			fmt_pct(lo, sizeof(lo), exact->pct_lo);
			fmt_pct(hi, sizeof(hi), exact->pct_hi);
			cat(buf, size, &len, "; Poisson exact test (secondary, unadjusted): p %s, 95%% CI %s to %s",
				pv, lo, hi);
		} else {
			cat(buf, size, &len, "; Poisson exact test (secondary, unadjusted): p %s", pv);
		}
	}
	if (opt->family)
		cat(buf, size, &len, "; %s", opt->family);
	if (exact->partial && exact->a_months >= TREND_MIN_WINDOW_MONTHS &&
	    exact->b_months >= TREND_MIN_WINDOW_MONTHS)
		cat(buf, size, &len,
			"; partial year (%d and %d of 12 months present, same months compared)",
			exact->a_months, exact->b_months);
	if (chart && chart->n_baseline > 0 && chart->recent_above > 0) {
		if (chart->recent_n == 1)
			cat(buf, size, &len, "; the latest month above the control limit");
		else
			cat(buf, size, &len, "; %zu of the last %zu months above the control limit",
				chart->recent_above, chart->recent_n);
	}
	if (opt->long_run && tr->defined) {
		char what[64];

		snprintf(what, sizeof(what), "a year over %d months", opt->months);
		cat(buf, size, &len, "; long-run trend ");
		judged_clause(buf, size, &len, tr, what, opt->alpha);
	}
	if (opt->note)
		cat(buf, size, &len, "; %s", opt->note);
	if (len < 0 || (size_t)len >= size)
		return mb_err(err, MB_EUSAGE, "trend: verdict needs %d bytes, buffer has %zu",
			len, size);
	return 0;
}

/* ---- 9. False coverage rate intervals ------------------------------------- */

double trend_fcr_level(size_t m, size_t r, double alpha)
{
	if (m <= 1)
		return 1.0 - alpha;
	return 1.0 - (double)(r > 0 ? r : 1) * alpha / (double)m;
}

/* ---- 11. Families of tests ------------------------------------------------ */

void trend_judge_alone(const struct trend_qp_yoy *qp, const struct trend_poisson *fit,
	int has_fit, double alpha, struct trend_judged *jy, struct trend_judged *jt)
{
	*jy = (struct trend_judged){ .defined = qp->defined, .est = qp->rr, .level = 1 - alpha,
				     .p = qp->p };
	trend_qp_interval(qp, 1 - alpha, &jy->lo, &jy->hi);
	*jt = (struct trend_judged){ .defined = has_fit, .est = fit->annual + 1, .level = 1 - alpha,
				     .p = fit->p_beta1 };
	trend_fit_interval(fit, 1 - alpha, &jt->lo, &jt->hi);
}

int trend_judge_family(struct trend_member *mem, size_t m, int trend, double fdr,
	struct mb_error *err)
{
	double *p = calloc(m ? m : 1, sizeof(double)), *q = calloc(m ? m : 1, sizeof(double));
	unsigned char *rej = calloc(m ? m : 1, 1);
	size_t nrej = 0;
	int r = 0;

	if (!p || !q || !rej) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t j = 0; j < m; j++)
		p[j] = trend ? mem[j].fit->p_beta1 : mem[j].qp->p;
	if (m && (r = trend_fdr_bh(p, m, fdr, q, rej, err)))
		goto cleanup;
	for (size_t j = 0; j < m; j++)
		nrej += rej[j];
	double level = trend_fcr_level(m, nrej, fdr);

	for (size_t j = 0; j < m; j++) {
		struct trend_judged *jd = mem[j].judged;

		jd->level = level;
		jd->p = q[j];
		jd->adjusted = m > 1;
		if (trend)
			trend_fit_interval(mem[j].fit, level, &jd->lo, &jd->hi);
		else
			trend_qp_interval(mem[j].qp, level, &jd->lo, &jd->hi);
	}
cleanup:
	free(p);
	free(q);
	free(rej);
	return r;
}

double trend_change_share(double a, double b, double total_a, double total_b)
{
	return total_a - total_b != 0 ? (a - b) / (total_a - total_b) : NAN;
}
