/*
 * trend — year-on-year test, quasi-Poisson log-linear trend, Mann-Kendall,
 * c-chart with run rules, contribution, Benjamini-Hochberg, the verdict, the
 * quasi-Poisson year on year, FCR intervals and the seasonal Kendall test.
 * Definitions and sources: docs/methods-trends.md.
 */
#include <limits.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_vector.h>

#include "microbeat/trend.h"

/* IRLS stops when |dev - dev_old| / (|dev| + 0.1) < this (R's glm.control). */
#define IRLS_EPS 1e-8
/* IRLS gives up (converged = 0) after this many iterations. */
#define IRLS_MAXIT 50
/* Fitted means are kept in [MU_MIN, exp(ETA_MAX)] so that the weighted least
 * squares never meets an overflow (far outside any real fit: a mean this
 * small is reported as separation). */
#define ETA_MAX 100.0
#define MU_MIN 1e-100
/* A fitted mean below this fraction of the mean count means the MLE is at
 * infinity (separation): no trend is reported. */
#define SEPARATED_RATIO 1e-6
/* Length of the run on one side of the centre that the c-chart flags. */
#define RUN_LEN 8

/* Return 1 when month i of s is present. */
static int is_present(const struct trend_series *s, size_t i)
{
	return s->present == NULL || s->present[i] != 0;
}

/* Month of the year (0 = January) of month index idx, also for idx < 0. */
static int month_of_year(long idx)
{
	long m = idx % 12;

	return (int)(m < 0 ? m + 12 : m);
}

/* Check s itself and every present count (finite, >= 0). Return 0 or -MB_E*. */
static int series_check(const struct trend_series *s, struct mb_error *err)
{
	size_t i;

	if (s == NULL || (s->n > 0 && s->count == NULL))
		return mb_err(err, MB_EUSAGE, "trend: no series given");
	for (i = 0; i < s->n; i++) {
		double c = s->count[i];

		if (is_present(s, i) && (!isfinite(c) || c < 0))
			return mb_err(err, MB_EDATA,
				"trend: month %zu has count %g (want a finite count >= 0)",
				i, c);
	}
	return 0;
}

size_t trend_gaps(const struct trend_series *s, int *months, size_t cap)
{
	size_t i, gaps = 0;

	if (s == NULL)
		return 0;
	for (i = 0; i < s->n; i++) {
		if (is_present(s, i))
			continue;
		if (months && gaps < cap)
			months[gaps] = s->first_month + (int)i;
		gaps++;
	}
	return gaps;
}

/* ---- 1. Year on year ------------------------------------------------------ */

/*
 * Binomial probabilities. GSL's gsl_cdf_binomial_P and gsl_cdf_beta_Pinv are
 * not used for these: measured on GSL 2.7.1, gsl_cdf_beta_Pinv returns NaN
 * (GSL_EMAXITER) for some shapes from a + b ~ 1,900 (e.g. a = 1615, b = 286),
 * hangs at a = b = 10^6, and the incomplete beta behind gsl_cdf_binomial_P
 * fails near the mean from n ~ 10^6 (its continued fraction stops at 512
 * terms). Instead each term is computed by Loader's saddle-point formula
 * (accurate to a few ulps for any n) and the tail is summed outward from the
 * observed count, where the terms fall off geometrically; the Clopper-Pearson
 * limits invert the same tails by bisection, so the interval and the p-value
 * agree by construction. The tests check these against GSL where GSL works,
 * against scipy, and against the lgamma-based sum.
 */

/* log(sqrt(2 pi)) and log(2 pi). */
#define LN_SQRT_2PI 0.918938533204672741780329736406
#define LN_2PI 1.837877066409345483560659472811

/* Stirling error log(n!) - log(sqrt(2 pi n) (n/e)^n) for integer n >= 1. */
static double stirlerr(double n)
{
	const double s0 = 1.0 / 12, s1 = 1.0 / 360, s2 = 1.0 / 1260, s3 = 1.0 / 1680,
		s4 = 1.0 / 1188;
	double nn = n * n;

	if (n <= 15.0)
		return lgamma(n + 1.0) - (n + 0.5) * log(n) + n - LN_SQRT_2PI;
	return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / n;
}

/* Deviance term x log(x/np) + np - x, without cancellation when x ~ np. */
static double bd0(double x, double np)
{
	double v, s, ej, s1;
	int j;

	if (fabs(x - np) >= 0.1 * (x + np))
		return x * log(x / np) + np - x;
	v = (x - np) / (x + np);
	s = (x - np) * v;
	ej = 2.0 * x * v;
	v *= v;
	for (j = 1; j < 1000; j++) {
		ej *= v;
		s1 = s + ej / (2 * j + 1);
		if (s1 == s)
			break;
		s = s1;
	}
	return s;
}

/* P(X = x), X ~ Bin(n, p), q = 1 - p (Loader 2000). */
static double binom_pmf(double x, double n, double p, double q)
{
	double lc, lf;

	if (p == 0.0)
		return x == 0.0 ? 1.0 : 0.0;
	if (q == 0.0)
		return x == n ? 1.0 : 0.0;
	if (x == 0.0) {
		if (n == 0.0)
			return 1.0;
		lc = p < 0.1 ? -bd0(n, n * q) - n * p : n * log(q);
		return exp(lc);
	}
	if (x == n) {
		lc = q < 0.1 ? -bd0(n, n * p) - n * q : n * log(p);
		return exp(lc);
	}
	lc = stirlerr(n) - stirlerr(x) - stirlerr(n - x) - bd0(x, n * p) - bd0(n - x, n * q);
	lf = LN_2PI + log(x) + log1p(-x / n);
	return exp(lc - 0.5 * lf);
}

static double binom_upper(double k, double n, double p);

/* P(X <= k), X ~ Bin(n, p), for whole k, n. */
static double binom_lower(double k, double n, double p)
{
	double q = 1.0 - p, term, sum, j;

	if (k < 0.0)
		return 0.0;
	if (k >= n || p == 0.0)
		return 1.0;
	if (p == 1.0)
		return 0.0;
	/* Past the mean the lower tail is >= ~1/2: take the complement. */
	if (k > n * p)
		return 1.0 - binom_upper(k + 1.0, n, p);
	term = sum = binom_pmf(k, n, p, q);
	/* Below the mode each step down multiplies the term by < 1. */
	for (j = k; j > 0.0 && term > sum * 1e-17; j--) {
		term *= j / (n - j + 1.0) * (q / p);
		sum += term;
	}
	return sum > 1.0 ? 1.0 : sum;
}

/* P(X >= k), X ~ Bin(n, p), for whole k, n. */
static double binom_upper(double k, double n, double p)
{
	double q = 1.0 - p, term, sum, j;

	if (k <= 0.0 || p == 1.0)
		return 1.0;
	if (k > n || p == 0.0)
		return 0.0;
	if (k < n * p)
		return 1.0 - binom_lower(k - 1.0, n, p);
	term = sum = binom_pmf(k, n, p, q);
	for (j = k; j < n && term > sum * 1e-17; j++) {
		term *= (n - j) / (j + 1.0) * (p / q);
		sum += term;
	}
	return sum > 1.0 ? 1.0 : sum;
}

/* Two-sided p of the conditional test: X ~ Bin(n, pi0), observed a;
 * min(1, 2 min(P(X <= a), P(X >= a))). */
static double binom_two_sided(double a, double n, double pi0)
{
	double p = 2.0 * fmin(binom_lower(a, n, pi0), binom_upper(a, n, pi0));

	return p > 1.0 ? 1.0 : p;
}

/* Clopper-Pearson limit for pi from a successes in n trials: the pi in
 * [lo, hi] where the tail (upper: P(X >= a), increasing in pi; else P(X <= a),
 * decreasing) equals tail_p, by bisection to full double precision. */
static double clopper_pearson(double a, double n, double tail_p, int upper_tail,
	double lo, double hi)
{
	int it;

	for (it = 0; it < 200; it++) {
		double mid = lo + (hi - lo) / 2.0, t;

		if (mid <= lo || mid >= hi || hi - lo <= 1e-15 * hi)
			break;
		t = upper_tail ? binom_upper(a, n, mid) : binom_lower(a, n, mid);
		if ((t < tail_p) == (upper_tail != 0))
			lo = mid;
		else
			hi = mid;
	}
	return lo + (hi - lo) / 2.0;
}

double trend_yoy_p_lgamma(unsigned long a, unsigned long b)
{
	/* Sum the lower tail up to min(a, b) in log space (log-sum-exp from the
	 * largest term, which is the last one because min(a,b) <= n/2). */
	double n = (double)a + (double)b;
	unsigned long k, m = a < b ? a : b;
	double lnorm = lgamma(n + 1.0) - n * log(2.0);
	double top = lnorm - lgamma((double)m + 1.0) - lgamma(n - (double)m + 1.0);
	double sum = 0.0, p;

	if (a == 0 && b == 0)
		return 1.0;
	for (k = 0; k <= m; k++) {
		double lt = lnorm - lgamma((double)k + 1.0) - lgamma(n - (double)k + 1.0);

		sum += exp(lt - top);
	}
	p = 2.0 * exp(top + log(sum));
	return p > 1.0 ? 1.0 : p;
}

int trend_yoy_test(unsigned long a, int a_months, unsigned long b, int b_months,
	struct trend_yoy *out, struct mb_error *err)
{
	double pi0, scale, lo, hi;
	unsigned long n;

	if (out == NULL)
		return mb_err(err, MB_EUSAGE, "trend: no result given");
	if (a_months < 1 || a_months > 12 || b_months < 1 || b_months > 12)
		return mb_err(err, MB_EUSAGE,
			"trend: window months %d and %d (want 1..12 each)",
			a_months, b_months);
	if (a > UINT_MAX || b > UINT_MAX - a)
		return mb_err(err, MB_EUSAGE, "trend: counts %lu and %lu too large", a, b);
	memset(out, 0, sizeof(*out));
	out->a = a;
	out->b = b;
	out->a_months = a_months;
	out->b_months = b_months;
	out->partial = a_months < 12 || b_months < 12;
	/* a, b <= UINT_MAX < LONG_MAX on LP64; on ILP32 clamp rather than overflow. */
	if (a >= b)
		out->change = a - b > (unsigned long)LONG_MAX ? LONG_MAX : (long)(a - b);
	else
		out->change = b - a > (unsigned long)LONG_MAX ? -LONG_MAX : -(long)(b - a);
	/* Raw counts of windows of different lengths are not comparable. */
	out->z = out->partial ? NAN : 2.0 * (sqrt((double)a) - sqrt((double)b));
	n = a + b;
	if (n == 0) {
		/* No events: nothing to compare; the test cannot reject. */
		out->rr = out->rr_lo = out->rr_hi = NAN;
		out->pct = out->pct_lo = out->pct_hi = NAN;
		out->pct_defined = 0;
		out->p = 1.0;
		return 0;
	}
	/* Exposure in months: under equal monthly rates a ~ Bin(a+b, pi0). */
	pi0 = (double)a_months / (double)(a_months + b_months);
	scale = (double)b_months / (double)a_months;
	out->p = binom_two_sided((double)a, (double)n, pi0);

	/* Clopper-Pearson limits for pi = a/(a+b), mapped by pi/(1-pi). */
	lo = a == 0 ? 0.0 : clopper_pearson((double)a, (double)n,
		(1.0 - TREND_LEVEL) / 2.0, 1, 0.0, (double)a / (double)n);
	hi = b == 0 ? 1.0 : clopper_pearson((double)a, (double)n,
		(1.0 - TREND_LEVEL) / 2.0, 0, (double)a / (double)n, 1.0);

	if (b == 0) {
		out->rr = INFINITY;
		out->rr_hi = INFINITY;
		out->rr_lo = lo >= 1.0 ? INFINITY : lo / (1.0 - lo) * scale;
		out->pct_defined = 0;
		out->pct = out->pct_lo = out->pct_hi = NAN;
		return 0;
	}
	out->rr = (double)a / (double)b * scale;
	out->rr_lo = lo / (1.0 - lo) * scale;
	out->rr_hi = hi >= 1.0 ? INFINITY : hi / (1.0 - hi) * scale;
	out->pct_defined = 1;
	out->pct = 100.0 * (out->rr - 1.0);
	out->pct_lo = 100.0 * (out->rr_lo - 1.0);
	out->pct_hi = 100.0 * (out->rr_hi - 1.0);
	return 0;
}

/* Add the present counts of s[from, from+12) to *sum and *months; the counts
 * must be whole numbers. Return 0 or -MB_EDATA. */
static int window_sum(const struct trend_series *s, size_t from,
	unsigned long *sum, int *months, struct mb_error *err)
{
	size_t i;
	double total = 0.0;

	*sum = 0;
	*months = 0;
	for (i = from; i < from + 12; i++) {
		double c = s->count[i];

		if (!is_present(s, i))
			continue;
		if (c != floor(c))
			return mb_err(err, MB_EDATA,
				"trend: month %zu has count %g (want a whole number)", i, c);
		total += c;
		(*months)++;
	}
	if (total > (double)UINT_MAX)
		return mb_err(err, MB_EDATA, "trend: window count %g too large", total);
	*sum = (unsigned long)total;
	return 0;
}

int trend_yoy_series(const struct trend_series *s, struct trend_yoy *out,
	struct mb_error *err)
{
	unsigned long a, b;
	int am, bm, rc;

	rc = series_check(s, err);
	if (rc)
		return rc;
	if (s->n < 24)
		return mb_err(err, MB_EUSAGE,
			"trend: %zu months given, year on year needs 24", s->n);
	rc = window_sum(s, s->n - 12, &a, &am, err);
	if (rc)
		return rc;
	rc = window_sum(s, s->n - 24, &b, &bm, err);
	if (rc)
		return rc;
	if (am == 0 || bm == 0)
		return mb_err(err, MB_EUSAGE,
			"trend: a year-on-year window has no month loaded (%d and %d present)",
			am, bm);
	return trend_yoy_test(a, am, b, bm, out, err);
}

/* ---- 2. Log-linear Poisson trend ------------------------------------------ */

/* Poisson deviance 2 sum [y log(y/mu) - (y - mu)], with 0 log 0 = 0. */
static double poisson_deviance(const double *y, const double *mu, size_t n)
{
	double d = 0.0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (y[i] > 0)
			d += y[i] * log(y[i] / mu[i]);
		d -= y[i] - mu[i];
	}
	return 2.0 * d;
}

/* Fit y ~ X by Poisson IRLS. On return beta holds the estimates, cov the
 * unscaled (X'WX)^-1 at the final mu, mu the fitted means. Return 0 or
 * -MB_ENOMEM / -MB_EDATA (GSL failure). */
static int irls(const gsl_matrix *X, const double *y, gsl_vector *beta,
	gsl_matrix *cov, double *mu, int *iterations, int *converged,
	struct mb_error *err)
{
	size_t n = X->size1, p = X->size2, i;
	gsl_multifit_linear_workspace *ws = NULL;
	gsl_vector *w = NULL, *z = NULL, *eta = NULL;
	double dev_old = INFINITY, chisq;
	int it, rc = 0, final = 0;

	ws = gsl_multifit_linear_alloc(n, p);
	w = gsl_vector_alloc(n);
	z = gsl_vector_alloc(n);
	eta = gsl_vector_alloc(n);
	if (!ws || !w || !z || !eta) {
		rc = mb_err(err, MB_ENOMEM, "trend: out of memory");
		goto cleanup;
	}
	/* Starting values as R's poisson()$initialize: mu = y + 0.1. */
	for (i = 0; i < n; i++)
		mu[i] = y[i] + 0.1;
	*converged = 0;
	/* The extra pass after convergence refits at the final mu, so that cov
	 * is (X'WX)^-1 with W = diag(mu) of the reported fit. */
	for (it = 1; it <= IRLS_MAXIT + 1; it++) {
		double dev;

		for (i = 0; i < n; i++) {
			gsl_vector_set(w, i, mu[i]);
			gsl_vector_set(z, i, log(mu[i]) + (y[i] - mu[i]) / mu[i]);
		}
		if (gsl_multifit_wlinear(X, w, z, beta, cov, &chisq, ws) != GSL_SUCCESS) {
			rc = mb_err(err, MB_EDATA, "trend: weighted least squares failed");
			goto cleanup;
		}
		gsl_blas_dgemv(CblasNoTrans, 1.0, X, beta, 0.0, eta);
		for (i = 0; i < n; i++) {
			double e = gsl_vector_get(eta, i);

			mu[i] = exp(e > ETA_MAX ? ETA_MAX : e);
			if (mu[i] < MU_MIN)
				mu[i] = MU_MIN;
		}
		if (final)
			break;
		*iterations = it;
		dev = poisson_deviance(y, mu, n);
		if (fabs(dev - dev_old) / (fabs(dev) + 0.1) < IRLS_EPS) {
			*converged = 1;
			final = 1;
		} else if (it == IRLS_MAXIT) {
			final = 1;
		}
		dev_old = dev;
	}
cleanup:
	gsl_vector_free(eta);
	gsl_vector_free(z);
	gsl_vector_free(w);
	gsl_multifit_linear_free(ws);
	return rc;
}

int trend_poisson_fit(const struct trend_series *s, struct trend_poisson *out,
	struct mb_error *err)
{
	double *y = NULL, *mu = NULL, total = 0.0, moy_total[12] = { 0 }, ymean, mu_min;
	size_t i, n = 0, nfit = 0, nlev = 0, nzero_lev = 0, col;
	int moy_n[12] = { 0 }, dummy_col[12], m, ref = -1, seasonal, rc;
	gsl_matrix *X = NULL, *cov = NULL;
	gsl_vector *beta = NULL;

	if (out == NULL)
		return mb_err(err, MB_EUSAGE, "trend: no result given");
	rc = series_check(s, err);
	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	out->ref_moy = -1;
	out->gaps = trend_gaps(s, NULL, 0);
	out->beta0 = out->beta1 = out->se_beta1 = out->t_beta1 = out->p_beta1 = NAN;
	out->df = out->phi = out->pearson = out->deviance = NAN;
	out->annual = out->annual_lo = out->annual_hi = NAN;
	for (m = 0; m < 12; m++) {
		out->season[m] = NAN;
		dummy_col[m] = -1;
	}

	for (i = 0; i < s->n; i++) {
		if (!is_present(s, i))
			continue;
		m = month_of_year((long)s->first_month + (long)i);
		moy_n[m]++;
		moy_total[m] += s->count[i];
		total += s->count[i];
		n++;
	}
	out->n = n;
	if (n < TREND_MIN_FIT_MONTHS) {
		out->kind = TREND_FIT_NONE;
		out->reason = TREND_REASON_TOO_FEW;
		return 0;
	}
	if (total == 0.0) {
		out->kind = TREND_FIT_NONE;
		out->reason = TREND_REASON_ALL_ZERO;
		return 0;
	}
	for (m = 0; m < 12; m++) {
		if (moy_n[m] > 0)
			nlev++;
		if (moy_n[m] > 0 && moy_total[m] == 0.0)
			nzero_lev++;
	}
	/* A month of the year whose counts are all 0 has MLE effect -infinity:
	 * its months fit mu = 0 exactly and add nothing to the score of the other
	 * parameters or to Pearson X^2. We fit without them but count them (and
	 * their dummy) in n and p, the limit R's glm approaches. */
	seasonal = 1;
	out->p = 2 + nlev - 1;
	out->reason = TREND_REASON_OK;
	if (n < TREND_MIN_SEASONAL_MONTHS || n < out->p + 2) {
		seasonal = 0;
		out->reason = TREND_REASON_FEW_MONTHS;
	} else if (nlev - nzero_lev < 2) {
		seasonal = 0;
		out->reason = TREND_REASON_ONE_SEASON;
	}
	if (seasonal) {
		/* Reference: the first present month whose month of the year has a
		 * non-zero total. */
		for (i = 0; i < s->n && ref < 0; i++) {
			m = month_of_year((long)s->first_month + (long)i);
			if (is_present(s, i) && moy_total[m] > 0)
				ref = m;
		}
		col = 2;
		for (m = 0; m < 12; m++) {
			if (m != ref && moy_total[m] > 0)
				dummy_col[m] = (int)col++;
		}
		for (i = 0; i < s->n; i++) {
			m = month_of_year((long)s->first_month + (long)i);
			if (is_present(s, i) && moy_total[m] > 0)
				nfit++;
		}
		/* Too few informative months left for the dummies: no seasonality. */
		if (nfit < col + 2) {
			seasonal = 0;
			out->reason = TREND_REASON_FEW_MONTHS;
		}
	}
	if (!seasonal) {
		out->p = 2;
		nfit = n;
		col = 2;
		ref = -1;
	}
	out->kind = seasonal ? TREND_FIT_SEASONAL : TREND_FIT_LINEAR;
	out->ref_moy = ref;

	y = calloc(nfit, sizeof(*y));
	mu = calloc(nfit, sizeof(*mu));
	X = gsl_matrix_calloc(nfit, col);
	cov = gsl_matrix_alloc(col, col);
	beta = gsl_vector_alloc(col);
	if (!y || !mu || !X || !cov || !beta) {
		rc = mb_err(err, MB_ENOMEM, "trend: out of memory");
		goto cleanup;
	}
	nfit = 0;
	for (i = 0; i < s->n; i++) {
		if (!is_present(s, i))
			continue;
		m = month_of_year((long)s->first_month + (long)i);
		if (seasonal && moy_total[m] == 0.0)
			continue;
		y[nfit] = s->count[i];
		gsl_matrix_set(X, nfit, 0, 1.0);
		gsl_matrix_set(X, nfit, 1, (double)i);
		if (seasonal && dummy_col[m] >= 0)
			gsl_matrix_set(X, nfit, (size_t)dummy_col[m], 1.0);
		nfit++;
	}
	rc = irls(X, y, beta, cov, mu, &out->iterations, &out->converged, err);
	if (rc)
		goto cleanup;
	/* When the crimes sit only at one end (e.g. 0,0,0,5) the MLE is at
	 * infinity: IRLS "converges" with the zero months fitted at ~1e-11 and an
	 * absurd slope. No real series falls a millionfold below its mean. */
	ymean = 0.0;
	mu_min = INFINITY;
	for (i = 0; i < nfit; i++) {
		ymean += y[i] / (double)nfit;
		mu_min = fmin(mu_min, mu[i]);
	}
	if (mu_min < SEPARATED_RATIO * ymean) {
		out->kind = TREND_FIT_NONE;
		out->reason = TREND_REASON_SEPARATED;
		out->ref_moy = -1;
		goto cleanup;
	}

	out->beta0 = gsl_vector_get(beta, 0);
	out->beta1 = gsl_vector_get(beta, 1);
	out->deviance = poisson_deviance(y, mu, nfit);
	out->pearson = 0.0;
	for (i = 0; i < nfit; i++)
		out->pearson += (y[i] - mu[i]) * (y[i] - mu[i]) / mu[i];
	out->df = (double)(n - out->p);
	out->phi = out->pearson / out->df;
	out->se_beta1 = sqrt(out->phi * gsl_matrix_get(cov, 1, 1));
	if (out->se_beta1 > 0) {
		double tq = gsl_cdf_tdist_Pinv(1.0 - (1.0 - TREND_LEVEL) / 2.0, out->df);

		out->t_beta1 = out->beta1 / out->se_beta1;
		out->p_beta1 = 2.0 * gsl_cdf_tdist_Q(fabs(out->t_beta1), out->df);
		out->annual_lo = expm1(12.0 * (out->beta1 - tq * out->se_beta1));
		out->annual_hi = expm1(12.0 * (out->beta1 + tq * out->se_beta1));
	} else if (out->se_beta1 == 0.0) {
		/* A perfect fit (phi = 0): no sampling error is estimable. */
		out->t_beta1 = out->beta1 == 0.0 ? 0.0 : copysign(INFINITY, out->beta1);
		out->p_beta1 = out->beta1 == 0.0 ? 1.0 : 0.0;
		out->annual_lo = out->annual_hi = expm1(12.0 * out->beta1);
	} /* else SE is NaN (cannot happen with a full-rank design): t, p, CI stay NaN */
	out->annual = expm1(12.0 * out->beta1);
	if (seasonal) {
		for (m = 0; m < 12; m++) {
			if (m == ref)
				out->season[m] = 0.0;
			else if (dummy_col[m] >= 0)
				out->season[m] = gsl_vector_get(beta, (size_t)dummy_col[m]);
			else if (moy_n[m] > 0)
				out->season[m] = -INFINITY;
		}
	}
cleanup:
	gsl_vector_free(beta);
	gsl_matrix_free(cov);
	gsl_matrix_free(X);
	free(mu);
	free(y);
	return rc;
}

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

/* ---- 4. c-chart and run rules --------------------------------------------- */

size_t trend_crossing_limit(size_t n)
{
	size_t k, lo, hi;

	if (n == 0)
		return 0;
	/* P(X <= k) increases with k and is 1 at k = n: bisect for the first
	 * k where it reaches 0.05. */
	lo = 0;
	hi = n;
	while (lo < hi) {
		k = lo + (hi - lo) / 2;
		if (binom_lower((double)k, (double)n, 0.5) >= 0.05)
			hi = k;
		else
			lo = k + 1;
	}
	return lo;
}

/* Flag the run of useful points that ended at position `end` (exclusive) of
 * idx[] with length len, when it is long enough. */
static void mark_run(const size_t *idx, size_t end, size_t len,
	unsigned char *flags, struct trend_cchart *out)
{
	size_t r;

	if (len > out->longest_run)
		out->longest_run = len;
	if (len < RUN_LEN)
		return;
	out->n_runs8++;
	if (flags)
		for (r = end - len; r < end; r++)
			flags[idx[r]] |= TREND_CC_RUN;
}

int trend_cchart(const struct trend_series *s, size_t base_first, size_t base_len,
	unsigned char *flags, struct trend_cchart *out, struct mb_error *err)
{
	size_t i, base_end, nu = 0, run = 0, *idx = NULL, seen;
	double sum = 0.0;
	int side_prev = 0, rc;

	if (out == NULL)
		return mb_err(err, MB_EUSAGE, "trend: no result given");
	rc = series_check(s, err);
	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	out->centre = out->ucl = out->lcl = NAN;
	if (base_first > s->n)
		base_first = s->n;
	base_end = base_len > s->n - base_first ? s->n : base_first + base_len;
	for (i = 0; i < s->n; i++) {
		if (flags)
			flags[i] = (unsigned char)((is_present(s, i) ? 0 : TREND_CC_GAP)
				| (i >= base_first && i < base_end ? TREND_CC_BASELINE : 0));
		if (i >= base_first && i < base_end && is_present(s, i)) {
			sum += s->count[i];
			out->n_baseline++;
		}
	}
	if (out->n_baseline == 0)
		return 0;
	out->centre = sum / (double)out->n_baseline;
	out->ucl = out->centre + 3.0 * sqrt(out->centre);
	out->lcl = fmax(0.0, out->centre - 3.0 * sqrt(out->centre));

	idx = malloc((s->n ? s->n : 1) * sizeof(*idx));
	if (!idx)
		return mb_err(err, MB_ENOMEM, "trend: out of memory");
	for (i = 0; i < s->n; i++) {
		double c = s->count[i];
		int side;

		if (!is_present(s, i))
			continue;
		if (c > out->ucl) {
			out->n_above++;
			if (flags)
				flags[i] |= TREND_CC_ABOVE;
		}
		if (c < out->lcl) {
			out->n_below++;
			if (flags)
				flags[i] |= TREND_CC_BELOW;
		}
		/* Points on the centre line are not useful (Anhoej): they neither
		 * extend nor break a run. */
		if (c == out->centre)
			continue;
		side = c > out->centre ? 1 : -1;
		if (nu > 0 && side != side_prev) {
			out->crossings++;
			mark_run(idx, nu, run, flags, out);
			run = 0;
		}
		idx[nu++] = i;
		run++;
		side_prev = side;
	}
	if (run > 0)
		mark_run(idx, nu, run, flags, out);
	out->n_useful = nu;
	if (nu > 0) {
		out->run_limit = (size_t)lround(log2((double)nu) + 3.0);
		out->run_signal = out->longest_run > out->run_limit;
	}
	if (nu > 1) {
		out->crossing_limit = trend_crossing_limit(nu - 1);
		out->crossing_signal = out->crossings < out->crossing_limit;
	}
	/* The latest present months, newest first. */
	seen = 0;
	for (i = s->n; i-- > 0 && seen < TREND_RECENT_MONTHS;) {
		if (!is_present(s, i))
			continue;
		seen++;
		if (s->count[i] > out->ucl)
			out->recent_above++;
	}
	out->recent_n = seen;
	free(idx);
	return 0;
}

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

/* ---- 8. Year on year under over-dispersion -------------------------------- */

int trend_qp_yoy(const double *later, const unsigned char *later_present,
	const double *earlier, const unsigned char *earlier_present,
	struct trend_qp_yoy *out, struct mb_error *err)
{
	double a = 0, b = 0, pi, x2 = 0, tq;
	int j;

	if (out == NULL || later == NULL || earlier == NULL)
		return mb_err(err, MB_EUSAGE, "trend: no windows given");
	memset(out, 0, sizeof(*out));
	out->rr = out->phi = out->phi_used = out->se = out->t = NAN;
	out->lo = out->hi = NAN;
	out->p = 1.0;
	for (j = 0; j < 12; j++) {
		if ((later_present && !later_present[j]) || (earlier_present && !earlier_present[j]))
			continue;
		if (!isfinite(later[j]) || later[j] < 0 || !isfinite(earlier[j]) || earlier[j] < 0)
			return mb_err(err, MB_EDATA, "trend: month %d has a count that is not >= 0", j);
		a += later[j];
		b += earlier[j];
		out->pairs++;
	}
	out->a = (unsigned long)a;
	out->b = (unsigned long)b;
	if (out->pairs < 2 || a + b == 0)
		return 0;
	if (a == 0 || b == 0) {
		/* log(0) has no Wald interval: Haldane-Anscombe correction */
		a += 0.5;
		b += 0.5;
		out->zero_corrected = 1;
	}
	/* With a pair effect per month, the MLE of the window effect is a/b and
	 * each pair's later-window mean is n_k pi, pi = a/(a+b); only pairs with
	 * crimes add to Pearson's X^2. */
	pi = a / (a + b);
	for (j = 0; j < 12; j++) {
		double nk, d;

		if ((later_present && !later_present[j]) || (earlier_present && !earlier_present[j]))
			continue;
		nk = later[j] + earlier[j];
		if (nk <= 0)
			continue;
		d = later[j] - nk * pi;
		x2 += d * d / (nk * pi * (1.0 - pi));
	}
	out->defined = 1;
	out->df = out->pairs - 1;
	out->phi = x2 / out->df;
	out->phi_used = out->phi > 1.0 ? out->phi : 1.0;
	out->rr = a / b;
	out->se = sqrt(out->phi_used * (1.0 / a + 1.0 / b));
	out->t = log(out->rr) / out->se;
	out->p = 2.0 * gsl_cdf_tdist_Q(fabs(out->t), out->df);
	tq = gsl_cdf_tdist_Qinv((1.0 - TREND_LEVEL) / 2.0, out->df);
	out->lo = exp(log(out->rr) - tq * out->se);
	out->hi = exp(log(out->rr) + tq * out->se);
	return 0;
}

void trend_qp_interval(const struct trend_qp_yoy *qp, double level, double *lo, double *hi)
{
	double tq;

	if (!qp->defined || !(level > 0 && level < 1)) {
		*lo = *hi = NAN;
		return;
	}
	tq = gsl_cdf_tdist_Qinv((1.0 - level) / 2.0, qp->df);
	*lo = exp(log(qp->rr) - tq * qp->se);
	*hi = exp(log(qp->rr) + tq * qp->se);
}

void trend_fit_interval(const struct trend_poisson *fit, double level, double *lo, double *hi)
{
	double tq;

	if (fit->kind == TREND_FIT_NONE || !(fit->df > 0) || !(level > 0 && level < 1)) {
		*lo = *hi = NAN;
		return;
	}
	tq = gsl_cdf_tdist_Qinv((1.0 - level) / 2.0, fit->df);
	*lo = exp(12.0 * (fit->beta1 - tq * fit->se_beta1));
	*hi = exp(12.0 * (fit->beta1 + tq * fit->se_beta1));
}

/* ---- 9. False coverage rate intervals ------------------------------------- */

double trend_fcr_level(size_t m, size_t r, double alpha)
{
	if (m <= 1)
		return 1.0 - alpha;
	return 1.0 - (double)(r > 0 ? r : 1) * alpha / (double)m;
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
