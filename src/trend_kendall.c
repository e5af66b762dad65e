/*
 * trend_kendall — the Mann-Kendall test with Sen's slope, and the seasonal
 * Kendall test (Hirsch, Slack & Smith 1982) for monthly data with two full
 * years. Definitions and sources: docs/methods-trends.md.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "microbeat/trend.h"
#include "trend_internal.h"

/* ---- 3. Mann-Kendall and Sen's slope -------------------------------------- */

/* qsort comparison of doubles (no NaN reaches it). */
static int cmp_double(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;

	return (a > b) - (a < b);
}

/* Median of v[0..n), n >= 1; sorts v. */
static double median_sorted(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* The months of s present, into *n, for the Kendall tests: MB_EUSAGE when s
 * is malformed or holds more than TREND_MAX_MK_MONTHS of them. */
static int kendall_months(const struct trend_series *s, size_t *n, struct mb_error *err)
{
	int rc = series_check(s, err);

	*n = 0;
	if (rc)
		return rc;
	for (size_t i = 0; i < s->n; i++)
		*n += is_present(s, i) ? 1 : 0;
	if (*n > TREND_MAX_MK_MONTHS)
		return mb_err(err, MB_EUSAGE, "trend: %zu months present (at most %d)",
			*n, TREND_MAX_MK_MONTHS);
	return 0;
}

int trend_mann_kendall(const struct trend_series *s, struct trend_mk *out,
	struct mb_error *err)
{
	double *x = NULL, *t = NULL, *slope = NULL, ties = 0.0, nd;
	size_t i, j, n = 0, k = 0, npairs;
	int rc;

	if (out == NULL)
		return mb_err(err, MB_EUSAGE, "trend: no result given");
	memset(out, 0, sizeof(*out));
	out->sen = NAN;
	out->p = 1.0;
	rc = kendall_months(s, &n, err);
	out->n = n;
	if (rc)
		return rc;
	if (n < 2)
		return 0;
	npairs = n * (n - 1) / 2;
	x = malloc(n * sizeof(*x));
	t = malloc(n * sizeof(*t));
	/* The slope buffer is reused to sort the counts: at least n long. */
	slope = malloc((npairs > n ? npairs : n) * sizeof(*slope));
	if (!x || !t || !slope) {
		rc = mb_err(err, MB_ENOMEM, "trend: out of memory");
		goto cleanup;
	}
	for (i = 0; i < s->n; i++) {
		if (is_present(s, i)) {
			x[k] = s->count[i];
			t[k] = (double)i;
			k++;
		}
	}
	for (i = 0; i + 1 < n; i++) {
		for (j = i + 1; j < n; j++) {
			double d = x[j] - x[i];

			out->s += (d > 0) - (d < 0);
			slope[--npairs] = d / (t[j] - t[i]);
		}
	}
	out->sen = median_sorted(slope, n * (n - 1) / 2);

	/* Ties correction: sum over groups of equal counts of g(g-1)(2g+5). */
	memcpy(slope, x, n * sizeof(*x));
	qsort(slope, n, sizeof(*slope), cmp_double);
	for (i = 0; i < n; i = j) {
		double g;

		for (j = i + 1; j < n && slope[j] == slope[i]; j++)
			;
		g = (double)(j - i);
		ties += g * (g - 1.0) * (2.0 * g + 5.0);
	}
	nd = (double)n;
	out->var_s = (nd * (nd - 1.0) * (2.0 * nd + 5.0) - ties) / 18.0;
	if (out->var_s > 0 && out->s != 0) {
		double sc = (double)(out->s > 0 ? out->s - 1 : out->s + 1);

		out->z = sc / sqrt(out->var_s);
		out->p = 2.0 * gsl_cdf_ugaussian_Q(fabs(out->z));
	}
cleanup:
	free(slope);
	free(t);
	free(x);
	return rc;
}

/* ---- 10. Seasonal Kendall test -------------------------------------------- */

int trend_has_two_years(const struct trend_series *s)
{
	size_t seen[12] = { 0 };

	if (s == NULL)
		return 0;
	for (size_t i = 0; i < s->n; i++)
		if (is_present(s, i))
			seen[month_of_year(s->first_month + (long)i)]++;
	for (int k = 0; k < 12; k++)
		if (seen[k] < 2)
			return 0;
	return 1;
}

int trend_seasonal_kendall(const struct trend_series *s, struct trend_skendall *out,
	struct mb_error *err)
{
	double *x = NULL, *t = NULL, *slope = NULL;
	size_t n = 0, nslope = 0, i;
	int rc;

	if (out == NULL)
		return mb_err(err, MB_EUSAGE, "trend: no result given");
	memset(out, 0, sizeof(*out));
	out->sen = NAN;
	out->p = 1.0;
	rc = kendall_months(s, &n, err);
	out->n = n;
	if (rc)
		return rc;
	if (n < 2)
		return 0;
	x = malloc(n * sizeof(*x));
	t = malloc(n * sizeof(*t));
	slope = malloc((n * (n - 1) / 2 + 1) * sizeof(*slope));
	if (!x || !t || !slope) {
		rc = mb_err(err, MB_ENOMEM, "trend: out of memory");
		goto cleanup;
	}
	for (int k = 0; k < 12; k++) {
		size_t m = 0, j, g;
		double ties = 0.0, md;

		/* this month of the year, in time order */
		for (i = 0; i < s->n; i++)
			if (is_present(s, i) && month_of_year(s->first_month + (long)i) == k) {
				x[m] = s->count[i];
				t[m] = (double)i;
				m++;
			}
		if (m < 2)
			continue;
		out->seasons++;
		for (i = 0; i + 1 < m; i++)
			for (j = i + 1; j < m; j++) {
				double d = x[j] - x[i];

				out->s += (d > 0) - (d < 0);
				/* per year: t is in months */
				slope[nslope++] = d / ((t[j] - t[i]) / 12.0);
			}
		qsort(x, m, sizeof(*x), cmp_double);
		for (i = 0; i < m; i = j) {
			for (j = i + 1; j < m && x[j] == x[i]; j++)
				;
			g = j - i;
			ties += (double)g * ((double)g - 1.0) * (2.0 * (double)g + 5.0);
		}
		md = (double)m;
		out->var_s += (md * (md - 1.0) * (2.0 * md + 5.0) - ties) / 18.0;
	}
	if (nslope > 0)
		out->sen = median_sorted(slope, nslope);
	if (out->var_s > 0 && out->s != 0) {
		double sc = (double)(out->s > 0 ? out->s - 1 : out->s + 1);

		out->z = sc / sqrt(out->var_s);
		out->p = 2.0 * gsl_cdf_ugaussian_Q(fabs(out->z));
	}
cleanup:
	free(slope);
	free(t);
	free(x);
	return rc;
}
