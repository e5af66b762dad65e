/* deepdive — exact tests, location quotients, changes and force-extract tallies
 * for 'microbeat deepdive' (docs/methods-deepdive.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include <strings.h>

#include "microbeat/csvtab.h"
#include "microbeat/deepdive.h"
#include "microbeat/emit.h"
#include "microbeat/plot.h"
#include "microbeat/slice.h"
#include "microbeat/trend.h"

/* scipy's relative tolerance for "no more likely than the observed outcome" */
#define REL_TOL (1 + 1e-7)

double dd_binom_p(unsigned long k, unsigned long n, double p0)
{
	if (!(p0 >= 0 && p0 <= 1) || k > n)
		return NAN;
	if (n == 0)
		return 1;
	if (n > 4000000000UL)
		return NAN;
	double d = gsl_ran_binomial_pdf((unsigned)k, p0, (unsigned)n), p = 0;

	/* the binomial is unimodal: summing every outcome no more likely than k
	 * equals scipy's two tails */
	for (unsigned long i = 0; i <= n; i++) {
		double f = gsl_ran_binomial_pdf((unsigned)i, p0, (unsigned)n);

		if (f <= d * REL_TOL)
			p += f;
	}
	return p > 1 ? 1 : p;
}

double dd_fisher_p(unsigned long a, unsigned long b, unsigned long c, unsigned long d)
{
	unsigned long good = a + c, bad = b + d, draws = a + b;

	if (a + b == 0 || c + d == 0 || good == 0 || bad == 0)
		return 1;
	if (good + bad > 4000000000UL)
		return NAN;
	unsigned long lo = draws > bad ? draws - bad : 0, hi = draws < good ? draws : good;
	double obs = gsl_ran_hypergeometric_pdf((unsigned)a, (unsigned)good, (unsigned)bad,
						(unsigned)draws), p = 0;

	for (unsigned long x = lo; x <= hi; x++) {
		double f = gsl_ran_hypergeometric_pdf((unsigned)x, (unsigned)good, (unsigned)bad,
						      (unsigned)draws);

		if (f <= obs * REL_TOL)
			p += f;
	}
	return p > 1 ? 1 : p;
}

/* A count must be a whole number >= 0 below 2^32 (the exact tests' range). */
static int count_ok(double v)
{
	return isfinite(v) && v >= 0 && v < 4e9 && v == floor(v);
}

/* BH over the tested entries: p at stride bytes from base; q written likewise. */
static int bh(double *p, size_t m, double fdr, double *q, unsigned char *rej, struct mb_error *err)
{
	if (m == 0)
		return 0;
	return trend_fdr_bh(p, m, fdr, q, rej, err);
}

int dd_lq_compute(const double *a, const double *b, size_t m, double fdr, struct dd_lq *out,
		  struct mb_error *err)
{
	double A = 0, B = 0, *p = calloc(m ? m : 1, sizeof(double)), *q = calloc(m ? m : 1, sizeof(double));
	unsigned char *rej = calloc(m ? m : 1, 1);
	int r = 0;

	if (!p || !q || !rej) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < m; i++) {
		if (!count_ok(a[i]) || !count_ok(b[i])) {
			r = mb_err(err, MB_EUSAGE, "location quotient: count %zu is not a whole number", i);
			goto cleanup;
		}
		A += a[i];
		B += b[i];
	}
	for (size_t i = 0; i < m; i++) {
		struct dd_lq *x = &out[i];

		*x = (struct dd_lq){ .a = a[i], .b = b[i], .p = NAN, .q = NAN };
		x->lq = (b[i] > 0 && A > 0 && B > 0) ? (a[i] / A) / (b[i] / B) : NAN;
		x->expected = A + B > 0 ? (a[i] + b[i]) * A / (A + B) : NAN;
		x->tested = a[i] + b[i] >= DD_MIN_TEST && A > 0 && B > 0;
		if (x->tested)
			x->p = dd_binom_p((unsigned long)a[i], (unsigned long)(a[i] + b[i]), A / (A + B));
		p[i] = x->tested ? x->p : NAN;
	}
	if ((r = bh(p, m, fdr, q, rej, err)))
		goto cleanup;
	for (size_t i = 0; i < m; i++) {
		out[i].q = q[i];
		out[i].significant = out[i].tested && rej[i];
	}
cleanup:
	free(p);
	free(q);
	free(rej);
	return r;
}

int dd_change_compute(const double *later, const double *earlier, size_t m, double fdr,
		      struct dd_change *out, struct mb_error *err)
{
	double total = 0, *p = calloc(m ? m : 1, sizeof(double)), *q = calloc(m ? m : 1, sizeof(double));
	unsigned char *rej = calloc(m ? m : 1, 1);
	int r = 0;

	if (!p || !q || !rej) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < m; i++) {
		if (!count_ok(later[i]) || !count_ok(earlier[i])) {
			r = mb_err(err, MB_EUSAGE, "change: count %zu is not a whole number", i);
			goto cleanup;
		}
		total += later[i] - earlier[i];
	}
	for (size_t i = 0; i < m; i++) {
		struct dd_change *x = &out[i];

		*x = (struct dd_change){ .later = later[i], .earlier = earlier[i], .p = NAN, .q = NAN };
		x->delta = later[i] - earlier[i];
		x->pct = earlier[i] > 0 ? 100 * (later[i] / earlier[i] - 1) : NAN;
		x->share = total != 0 ? x->delta / total : NAN;
		x->tested = later[i] + earlier[i] >= DD_MIN_TEST;
		if (x->tested)
			x->p = dd_binom_p((unsigned long)later[i], (unsigned long)(later[i] + earlier[i]), 0.5);
		p[i] = x->tested ? x->p : NAN;
	}
	if ((r = bh(p, m, fdr, q, rej, err)))
		goto cleanup;
	for (size_t i = 0; i < m; i++) {
		out[i].q = q[i];
		out[i].significant = out[i].tested && rej[i];
	}
cleanup:
	free(p);
	free(q);
	free(rej);
	return r;
}

int dd_weekday(int32_t day)
{
	/* 2000-01-01 was a Saturday (5 with Monday = 0) */
	int w = (int)((day % 7 + 7) % 7);

	return (w + 5) % 7;
}

int dd_extract_count(const struct slice *sl, const uint8_t *on, int32_t later_from, int32_t later_to,
		     int32_t earlier_from, int32_t earlier_to, struct dd_extract *out,
		     struct mb_error *err)
{
	memset(out, 0, sizeof(*out));
	out->nsub = sl->subgroup && sl->nsubgroup ? sl->nsubgroup : 1;
	out->nhate = sl->hate && sl->nhate ? sl->nhate : 1;
	out->cross_later = calloc(DD_DA_CLASSES * out->nsub, sizeof(double));
	out->cross_earlier = calloc(DD_DA_CLASSES * out->nsub, sizeof(double));
	out->hate_later = calloc(out->nhate, sizeof(double));
	out->hate_earlier = calloc(out->nhate, sizeof(double));
	if (!out->cross_later || !out->cross_earlier || !out->hate_later || !out->hate_earlier) {
		dd_extract_release(out);
		return mb_err(err, MB_ENOMEM, "out of memory");
	}
	out->has_hate = sl->hate != NULL && sl->nhate > 1; /* strands known: an extract loaded */
	for (size_t i = 0; i < sl->n; i++) {
		int32_t m = sl->month[i];
		int later = m >= later_from && m <= later_to;
		int earlier = m >= earlier_from && m <= earlier_to;

		if ((!later && !earlier) || !(on ? on : sl->cat_selected)[sl->category[i]])
			continue;
		uint32_t sub = sl->subgroup && sl->subgroup[i] < out->nsub ? sl->subgroup[i] : 0;
		int da = sl->da ? (sl->da[i] == 1 ? 1 : sl->da[i] == 0 ? 0 : 2) : 2;

		out->has_subgroup |= sub != 0;
		out->has_da |= da != 2;
		(later ? out->cross_later : out->cross_earlier)[(size_t)da * out->nsub + sub]++;
		if (sl->hate && sl->hate[i] && sl->hate[i] < out->nhate)
			(later ? out->hate_later : out->hate_earlier)[sl->hate[i]]++;
		if (!later)
			continue;
		if (sl->day && sl->minute && sl->day[i] >= 0 && sl->minute[i] >= 0 && sl->minute[i] < 1440) {
			out->heat[dd_weekday(sl->day[i]) * 24 + sl->minute[i] / 60]++;
			out->timed++;
			out->has_time = 1;
		} else {
			out->untimed++;
		}
	}
	return 0;
}

void dd_extract_release(struct dd_extract *x)
{
	free(x->cross_later);
	free(x->cross_earlier);
	free(x->hate_later);
	free(x->hate_earlier);
	x->cross_later = x->cross_earlier = x->hate_later = x->hate_earlier = NULL;
}

int dd_harm_count(const struct slice *sl, const uint8_t *on, int32_t later_from, int32_t later_to,
		  int32_t earlier_from, int32_t earlier_to, const double *wsub, const double *wcat,
		  struct dd_harm *out, struct mb_error *err)
{
	memset(out, 0, sizeof(*out));
	out->nsub = sl->subgroup && sl->nsubgroup ? sl->nsubgroup : 1;
	out->crimes_later = calloc(out->nsub, sizeof(double));
	out->crimes_earlier = calloc(out->nsub, sizeof(double));
	out->harm_later = calloc(out->nsub, sizeof(double));
	out->harm_earlier = calloc(out->nsub, sizeof(double));
	if (!out->crimes_later || !out->crimes_earlier || !out->harm_later || !out->harm_earlier) {
		dd_harm_release(out);
		return mb_err(err, MB_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < sl->n; i++) {
		int32_t m = sl->month[i];
		int later = m >= later_from && m <= later_to;
		int earlier = m >= earlier_from && m <= earlier_to;
		uint32_t c = sl->category[i];

		if ((!later && !earlier) || !(on ? on : sl->cat_selected)[c])
			continue;
		uint32_t sub = sl->subgroup && sl->subgroup[i] < out->nsub ? sl->subgroup[i] : 0;
		double wt = wcat && c < sl->ncat ? wcat[c] : NAN;
		double w = sub && wsub ? wsub[sub] : NAN;

		(later ? out->crimes_later : out->crimes_earlier)[sub]++;
		if (!isfinite(w)) {
			w = wt;
			if (!isfinite(w)) {
				out->unweighted++;
				continue;
			}
			out->fallback++;
		}
		(later ? out->harm_later : out->harm_earlier)[sub] += w;
		*(later ? &out->weighted_later : &out->weighted_earlier) += 1;
		if (isfinite(wt))
			*(later ? &out->type_later : &out->type_earlier) += wt;
	}
	return 0;
}

void dd_harm_release(struct dd_harm *h)
{
	free(h->crimes_later);
	free(h->crimes_earlier);
	free(h->harm_later);
	free(h->harm_earlier);
	h->crimes_later = h->crimes_earlier = h->harm_later = h->harm_earlier = NULL;
}
