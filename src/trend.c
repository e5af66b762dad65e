/*
 * trend — the year-on-year test, the quasi-Poisson log-linear trend, the
 * c-chart with run rules and the quasi-Poisson year on year. The Kendall
 * tests are in trend_kendall.c; contribution, Benjamini-Hochberg, FCR
 * intervals, the families and the verdict in trend_verdict.c.
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
#include "trend_internal.h"

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
