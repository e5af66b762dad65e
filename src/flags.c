/* flags — geographic priorities per unit x category (pure analysis). The
 * numbered banners follow docs/methods-flags.md's sections. */
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "microbeat/flags.h"
#include "microbeat/util.h"

void flags_params_init(struct flags_params *p)
{
	p->fdr = 0.05;
	p->min_ratio = 1.2;
	p->rr_threshold = 1.2;
	p->credible = 0.95;
	p->min_cats = 3;
	p->top_n = 5;
	p->baseline_months = 24;
	p->min_centre = 1.0;
}

/* ---- Count distributions and funnel limits -------------------------------- */

double flags_poisson_sf(unsigned long k, double mu)
{
	if (!isfinite(mu) || mu < 0)
		return NAN;
	if (k == 0)
		return 1.0;
	if (mu == 0)
		return 0.0;
	/* gsl_cdf_poisson_Q(k, mu) = P(X > k), so P(X >= k) = Q(k - 1) */
	return gsl_cdf_poisson_Q((unsigned int)(k - 1), mu);
}

double flags_od_sf(unsigned long k, double mu, double phi)
{
	if (!isfinite(phi) || phi <= 1.0)
		return flags_poisson_sf(k, mu);
	if (!isfinite(mu) || mu < 0)
		return NAN;
	if (k == 0)
		return 1.0;
	if (mu == 0)
		return 0.0;
	/* NB with mean mu, variance phi mu: size mu/(phi - 1), probability 1/phi */
	return gsl_cdf_negative_binomial_Q((unsigned int)(k - 1), 1.0 / phi, mu / (phi - 1.0));
}

/* CDF F(k) of the count of flags_od_sf for k >= -1 (F(-1) = 0). */
static double od_cdf(long k, double mu, double phi)
{
	if (k < 0)
		return 0.0;
	if (phi <= 1.0)
		return gsl_cdf_poisson_P((unsigned int)k, mu);
	return gsl_cdf_negative_binomial_P((unsigned int)k, 1.0 / phi, mu / (phi - 1.0));
}

/* Smallest r >= 0 with F(r) >= p, by a walk out from a normal start (mu is at
 * most a few million here: O(sqrt(phi mu)) steps). */
static long od_quantile(double p, double mu, double phi)
{
	double sd = sqrt(mu * (phi > 1.0 ? phi : 1.0));
	long r = (long)floor(mu + gsl_cdf_ugaussian_Pinv(p) * sd);

	if (r < 0)
		r = 0;
	while (r > 0 && od_cdf(r - 1, mu, phi) >= p)
		r--;
	while (od_cdf(r, mu, phi) < p)
		r++;
	return r;
}

/* Spiegelhalter's interpolated limit at probability p. */
static double interp_limit(double p, double mu, double phi)
{
	long r = od_quantile(p, mu, phi);
	double fr = od_cdf(r, mu, phi), fr1 = od_cdf(r - 1, mu, phi);
	double alpha = fr > fr1 ? (fr - p) / (fr - fr1) : 0.0;
	double v = (double)r - alpha;

	return v < 0 ? 0.0 : v;
}

int flags_od_limits(double mu, double phi, double level, double *lo, double *hi,
		    struct mb_error *err)
{
	if (!isfinite(mu) || mu <= 0 || mu > 1e9 || !(level > 0 && level < 1) ||
	    !(phi > 0 && phi < 1e6))
		return mb_err(err, MB_EUSAGE, "flags: funnel limits need mu > 0, phi > 0 and"
			      " 0 < level < 1");
	double tail = (1.0 - level) / 2.0;

	*lo = interp_limit(tail, mu, phi);
	*hi = interp_limit(1.0 - tail, mu, phi);
	return 0;
}

int flags_poisson_limits(double mu, double level, double *lo, double *hi, struct mb_error *err)
{
	return flags_od_limits(mu, 1.0, level, lo, hi, err);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double flags_winsor_phi(const double *z, size_t n)
{
	double *s, sum = 0;
	size_t k;

	if (!n || !(s = malloc(n * sizeof(double))))
		return NAN;
	memcpy(s, z, n * sizeof(double));
	qsort(s, n, sizeof(double), cmp_double);
	k = n / 10;
	for (size_t i = 0; i < n; i++) {
		double v = i < k ? s[k] : i >= n - k ? s[n - 1 - k] : s[i];

		sum += v * v;
	}
	free(s);
	return sum / (double)n;
}

void flags_letters(unsigned flags, char buf[4])
{
	static const char L[3] = { 'H', 'R', 'C' };
	size_t n = 0;

	for (int i = 0; i < 3; i++)
		if (flags & (1u << i))
			buf[n++] = L[i];
	if (!n)
		buf[n++] = '-';
	buf[n] = '\0';
}

void flags_result_free(struct flags_result *r)
{
	if (!r)
		return;
	free(r->cat);
	free(r->cell);
	free(r->unit);
	free(r->order);
	free(r);
}

/* Check the counts: whole numbers >= 0. */
static int check_counts(const struct flags_input *in, struct mb_error *err)
{
	size_t n = in->nunit * in->ncat * in->nmonth;

	for (size_t i = 0; i < n; i++) {
		double v = in->count[i];

		if (!isfinite(v) || v < 0 || v != floor(v) || v > 4e9)
			return mb_err(err, MB_EDATA, "flags: count %g is not a whole number >= 0", v);
	}
	return 0;
}

/* ---- 3. Expected counts: a denominator per category ------------------------ */

/* The denominator of unit u for category c (<= 0 or NaN: not tested). */
static double den_of(const struct flags_input *in, const double *share, enum flags_den d,
		     size_t u)
{
	switch (d) {
	case FLAGS_DEN_RESIDENTS: return in->population[u];
	case FLAGS_DEN_STREETS: return in->streets[u];
	case FLAGS_DEN_EXPOSURE: return in->exposure[u];
	default: return share[u];
	}
}

/* E = district rate x denominator over the units with a denominator. share
 * (nunit) holds each unit's count of non-opportunity categories. */
static void expected(const struct flags_input *in, const double *share, struct flags_result *r)
{
	for (size_t c = 0; c < in->ncat; c++) {
		struct flags_cat *fc = &r->cat[c];
		int opp = in->opportunity && in->opportunity[c];

		fc->den = !in->population ? FLAGS_DEN_STREETS
			: !opp ? FLAGS_DEN_RESIDENTS
			: in->exposure ? FLAGS_DEN_EXPOSURE : FLAGS_DEN_SHARE;
		for (size_t u = 0; u < in->nunit; u++) {
			double d = den_of(in, share, fc->den, u);

			if (!(isfinite(d) && d > 0))
				continue;
			fc->den_total += d;
			fc->total += r->cell[u * in->ncat + c].observed;
		}
		double rate = fc->den_total > 0 ? fc->total / fc->den_total : NAN;

		for (size_t u = 0; u < in->nunit; u++) {
			struct flags_cell *x = &r->cell[u * in->ncat + c];
			double d = den_of(in, share, fc->den, u);

			x->expected = x->ratio = NAN;
			if (!(isfinite(d) && d > 0) || !(rate > 0))
				continue;
			x->expected = rate * d;
			x->ratio = x->observed / x->expected;
			fc->ntested++;
		}
	}
}

/* ---- 4. Empirical-Bayes Poisson-gamma shrinkage ---------------------------- */

/* Above this shape GSL's incomplete gamma fails ("large x asymptotic") and
 * the Wilson-Hilferty cube root is exact to ~1e-9: X ~ Gamma(a, rate b) has
 * (b X / a)^(1/3) ~ N(1 - 1/(9a), 1/(9a)). A tiny prior variance (v -> 0)
 * gives such shapes. */
#define GAMMA_WH_SHAPE 1e5

/* P(X > x), X ~ Gamma(shape a, rate b). */
static double gamma_sf(double x, double a, double b)
{
	if (a > GAMMA_WH_SHAPE) {
		double s = 1.0 / (9.0 * a);

		return gsl_cdf_ugaussian_Q((cbrt(b * x / a) - (1.0 - s)) / sqrt(s));
	}
	return gsl_cdf_gamma_Q(x, a, 1.0 / b);
}

/* The p quantile of Gamma(shape a, rate b). */
static double gamma_quantile(double p, double a, double b)
{
	if (a > GAMMA_WH_SHAPE) {
		double s = 1.0 / (9.0 * a), q = 1.0 - s + sqrt(s) * gsl_cdf_ugaussian_Pinv(p);

		return a / b * q * q * q;
	}
	return gsl_cdf_gamma_Pinv(p, a, 1.0 / b);
}

/* Marshall's (1991) moment estimates of the gamma prior of RR, and each
 * cell's posterior Gamma(m^2/v + O, m/v + E). */
static void shrink(const struct flags_input *in, const struct flags_params *p,
		   struct flags_result *r)
{
	for (size_t c = 0; c < in->ncat; c++) {
		struct flags_cat *fc = &r->cat[c];
		double so = 0, se = 0, s2 = 0;
		size_t n = 0;

		for (size_t u = 0; u < in->nunit; u++) {
			const struct flags_cell *x = &r->cell[u * in->ncat + c];

			if (isfinite(x->expected)) {
				so += x->observed;
				se += x->expected;
				n++;
			}
		}
		if (!n || !(se > 0))
			continue;
		double m = so / se;

		for (size_t u = 0; u < in->nunit; u++) {
			const struct flags_cell *x = &r->cell[u * in->ncat + c];

			if (isfinite(x->expected))
				s2 += x->expected * (x->ratio - m) * (x->ratio - m);
		}
		s2 /= se;
		double v = s2 - m / (se / (double)n);

		fc->eb_mean = m;
		fc->eb_var = v > 0 ? v : 0;
		for (size_t u = 0; u < in->nunit; u++) {
			struct flags_cell *x = &r->cell[u * in->ncat + c];

			if (!isfinite(x->expected))
				continue;
			if (fc->eb_var > 0 && m > 0) {
				double a = m * m / fc->eb_var + x->observed, b = m / fc->eb_var + x->expected;

				x->rr_shrunk = a / b;
				x->rr_lo = gamma_quantile(0.025, a, b);
				x->rr_hi = gamma_quantile(0.975, a, b);
				x->p_rr_t = gamma_sf(p->rr_threshold, a, b);
				x->p_rr1 = gamma_sf(1.0, a, b);
			} else {
				/* no variation beyond Poisson: every unit is the prior's point m */
				x->rr_shrunk = x->rr_lo = x->rr_hi = m;
				x->p_rr_t = m > p->rr_threshold;
				x->p_rr1 = m > 1.0;
			}
			x->excess = x->expected * (x->rr_shrunk - 1.0);
			x->credible = x->p_rr_t >= p->credible;
		}
	}
}

/* ---- 5. H: the over-dispersion-adjusted funnel ----------------------------- */

static int high_rate(const struct flags_input *in, struct flags_result *r, struct mb_error *err)
{
	double *z = malloc((in->nunit + 1) * sizeof(double));

	if (!z)
		return mb_err(err, MB_ENOMEM, "out of memory");
	for (size_t c = 0; c < in->ncat; c++) {
		struct flags_cat *fc = &r->cat[c];
		size_t n = 0;

		for (size_t u = 0; u < in->nunit; u++) {
			struct flags_cell *x = &r->cell[u * in->ncat + c];

			x->z = x->z_adj = x->p_high = x->q_high = NAN;
			if (isfinite(x->expected)) {
				x->z = (x->observed - x->expected) / sqrt(x->expected);
				z[n++] = x->z;
			}
		}
		fc->phi = flags_winsor_phi(z, n);
		fc->phi_used = isfinite(fc->phi) && fc->phi > 1.0 ? fc->phi : 1.0;
		for (size_t u = 0; u < in->nunit; u++) {
			struct flags_cell *x = &r->cell[u * in->ncat + c];

			if (!isfinite(x->expected))
				continue;
			x->z_adj = x->z / sqrt(fc->phi_used);
			x->p_high = flags_od_sf((unsigned long)x->observed, x->expected, fc->phi_used);
			r->n_high_tests++;
		}
	}
	free(z);
	return 0;
}

/* ---- 6. R: a recent rise beyond over-dispersion ---------------------------- */

static int rise_test(const struct flags_input *in, const double *cnt, struct flags_cell *x,
		     struct mb_error *err)
{
	x->has_rise = 0;
	x->rise_phi = x->p_rise_qp = x->p_rise = x->q_rise = NAN;
	if (in->nmonth < 24)
		return 0;
	size_t first = in->nmonth - 24;
	struct trend_series w = { .count = cnt + first, .n = 24,
				  .present = in->present ? in->present + first : NULL,
				  .first_month = in->first_month + (int)first };
	struct mb_error e = { 0 };

	/* a window with no month loaded is no test, not an error */
	if (trend_yoy_series(&w, &x->yoy, &e)) {
		if (e.code == MB_ENOMEM)
			return mb_err(err, MB_ENOMEM, "%s", e.msg);
		return 0;
	}
	if (x->yoy.a + x->yoy.b == 0)
		return 0;
	x->has_rise = 1;
	x->p_rise = x->yoy.p;
	/* quasi-Poisson GLM log mu = b0 + b1 [later window]: the window means fit
	 * exactly, Pearson X^2 / (n - 2) estimates phi, Var(b1) = phi (1/a + 1/b) */
	double mb = (double)x->yoy.b / x->yoy.b_months, ma = (double)x->yoy.a / x->yoy.a_months;
	double x2 = 0;

	for (size_t m = 0; m < 24; m++) {
		double mu = m < 12 ? mb : ma;

		if ((w.present && !w.present[m]) || mu <= 0)
			continue;
		x2 += (w.count[m] - mu) * (w.count[m] - mu) / mu;
	}
	double df = (double)(x->yoy.a_months + x->yoy.b_months) - 2.0;

	if (df < 1)
		return 0;
	x->rise_phi = x2 / df;
	if (x->yoy.a > 0 && x->yoy.b > 0) {
		double phi = x->rise_phi > 1.0 ? x->rise_phi : 1.0;
		double t = log(ma / mb) / sqrt(phi * (1.0 / (double)x->yoy.a + 1.0 / (double)x->yoy.b));

		x->p_rise_qp = 2.0 * gsl_cdf_tdist_Q(fabs(t), df);
		if (x->p_rise_qp > x->p_rise)
			x->p_rise = x->p_rise_qp;
	}
	return 0;
}

/* ---- 7. C: the Laney-adjusted chart, recent months only -------------------- */

static void laney(const struct flags_input *in, const struct flags_params *p, const double *cnt,
		  struct flags_cell *x)
{
	size_t idx[TREND_RECENT_MONTHS], nr = 0, end, nb = 0, first;
	double sum = 0, prevz = NAN, mr = 0;
	size_t nmr = 0;

	x->has_cc = 0;
	x->cc_centre = x->cc_sigma_z = x->cc_ucl = x->cc_recent_max = x->p_cc = x->q_cc = NAN;
	x->cc_recent_n = x->cc_recent_above = 0;
	/* the recent months: the last TREND_RECENT_MONTHS present months */
	for (size_t m = in->nmonth; m-- > 0 && nr < TREND_RECENT_MONTHS;)
		if (!in->present || in->present[m])
			idx[nr++] = m;
	if (!nr)
		return;
	end = idx[nr - 1];
	first = end > (size_t)p->baseline_months ? end - (size_t)p->baseline_months : 0;
	for (size_t m = first; m < end; m++)
		if (!in->present || in->present[m]) {
			sum += cnt[m];
			nb++;
		}
	if (nb < 2 || sum / (double)nb < p->min_centre)
		return;
	double c = sum / (double)nb, sc = sqrt(c);

	/* Laney (2002): sigma_z is the spread of the z-scores between
	 * consecutive present baseline months, from the mean moving range */
	for (size_t m = first; m < end; m++) {
		if (in->present && !in->present[m])
			continue;
		double zz = (cnt[m] - c) / sc;

		if (isfinite(prevz)) {
			mr += fabs(zz - prevz);
			nmr++;
		}
		prevz = zz;
	}
	double sz = nmr ? mr / (double)nmr / 1.128 : 1.0;

	x->has_cc = 1;
	x->cc_centre = c;
	x->cc_sigma_z = sz > 1.0 ? sz : 1.0;
	x->cc_ucl = c + 3.0 * sc * x->cc_sigma_z;
	x->cc_recent_n = nr;
	x->cc_recent_max = 0;
	for (size_t k = 0; k < nr; k++) {
		double v = cnt[idx[k]];

		x->cc_recent_above += v > x->cc_ucl;
		if (v > x->cc_recent_max)
			x->cc_recent_max = v;
	}
	double pm = flags_od_sf((unsigned long)x->cc_recent_max, c,
				x->cc_sigma_z * x->cc_sigma_z);

	/* Sidak over the recent months: the chance that any of them is as high */
	x->p_cc = -expm1((double)nr * log1p(-pm));
	if (pm >= 1.0)
		x->p_cc = 1.0;
}

/* Run Benjamini-Hochberg over one p of the cells and store its q. */
static int bh(struct flags_result *r, size_t off_p, size_t off_q, double level,
	      struct mb_error *err)
{
	size_t n = r->nunit * r->ncat;
	double *pv = malloc((n + 1) * sizeof(double)), *qv = malloc((n + 1) * sizeof(double));
	int rc = 0;

	if (!pv || !qv) {
		rc = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++)
		memcpy(&pv[i], (const char *)&r->cell[i] + off_p, sizeof(double));
	if (n && (rc = trend_fdr_bh(pv, n, level, qv, NULL, err)))
		goto cleanup;
	for (size_t i = 0; i < n; i++)
		memcpy((char *)&r->cell[i] + off_q, &qv[i], sizeof(double));
cleanup:
	free(pv);
	free(qv);
	return rc;
}

/* ---- 8. Priorities --------------------------------------------------------- */

/* A unit's sort key for the ranking. */
struct rank_key {
	double excess;  /* shrunk harm-weighted excess */
	double p;       /* P(harm-weighted RR > 1), NAN last */
	size_t idx;     /* unit index */
};

/* The ranking: largest excess, then largest P, then index. */
static int cmp_rank(const void *a, const void *b)
{
	const struct rank_key *x = a, *y = b;

	if (x->excess != y->excess)
		return x->excess > y->excess ? -1 : 1;
	double px = isfinite(x->p) ? x->p : -1, py = isfinite(y->p) ? y->p : -1;

	if (px != py)
		return px > py ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* The unit's harm-weighted totals: T = sum_c w_c E_c RR_c with independent
 * gamma posteriors has mean M and variance V; P(T > sum w E) by the gamma of
 * the same mean and variance. */
static void unit_harm(const struct flags_input *in, const struct flags_result *r, size_t u,
		      struct flags_unit *fu)
{
	double mean = 0, var = 0, he = 0;

	for (size_t c = 0; c < in->ncat; c++) {
		const struct flags_cell *x = &r->cell[u * in->ncat + c];
		const struct flags_cat *fc = &r->cat[c];
		double w = in->harm ? in->harm[c] : 1.0;

		if (!isfinite(w))
			w = 0;
		if (!isfinite(x->expected) || !isfinite(x->rr_shrunk) || w <= 0)
			continue;
		he += w * x->expected;
		mean += w * x->expected * x->rr_shrunk;
		if (fc->eb_var > 0) {
			double b = fc->eb_mean / fc->eb_var + x->expected;

			/* Var = a / b^2 = rr_shrunk / b */
			var += w * x->expected * w * x->expected * x->rr_shrunk / b;
		}
	}
	fu->harm_expected = he;
	fu->harm_excess = mean - he;
	fu->harm_rr = he > 0 ? mean / he : NAN;
	fu->p_harm_rr1 = NAN;
	if (he > 0)
		fu->p_harm_rr1 = var > 0 ? gamma_sf(he, mean * mean / var, mean / var)
					 : (double)(mean > he);
}

static int prioritise(const struct flags_input *in, const struct flags_params *p,
		      struct flags_result *r, struct mb_error *err)
{
	struct rank_key *keys = malloc(in->nunit * sizeof(*keys));

	if (!keys)
		return mb_err(err, MB_ENOMEM, "out of memory");
	for (size_t u = 0; u < in->nunit; u++) {
		unit_harm(in, r, u, &r->unit[u]);
		keys[u] = (struct rank_key){ r->unit[u].harm_excess, r->unit[u].p_harm_rr1, u };
	}
	qsort(keys, in->nunit, sizeof(*keys), cmp_rank);
	for (size_t k = 0; k < in->nunit; k++) {
		struct flags_unit *fu = &r->unit[keys[k].idx];

		r->order[k] = keys[k].idx;
		fu->rank = k + 1;
		fu->in_top = k < (size_t)p->top_n;
		fu->by_cats = fu->ncat_credible >= (unsigned)p->min_cats;
		fu->by_top = fu->in_top && fu->harm_excess > 0 && fu->p_harm_rr1 > p->credible;
		fu->priority = fu->by_cats || fu->by_top;
		r->npriority += (size_t)fu->priority;
	}
	free(keys);
	return 0;
}

int flags_compute(const struct flags_input *in, const struct flags_params *params,
		  struct flags_result **out, struct mb_error *err)
{
	struct flags_params def;
	struct flags_result *r = NULL;
	double *share = NULL, stot = 0;
	size_t ncell;
	int rc;

	*out = NULL;
	if (!params) {
		flags_params_init(&def);
		params = &def;
	}
	if (!in || !in->count || !in->nunit || !in->ncat || !in->nmonth ||
	    in->period_first >= in->nmonth || (!in->population && !in->streets))
		return mb_err(err, MB_EUSAGE, "flags: no units, categories or months to flag");
	if (!(params->fdr > 0 && params->fdr < 1) || !(params->min_ratio >= 0) ||
	    !(params->rr_threshold > 0 && params->rr_threshold < 100) ||
	    !(params->credible > 0 && params->credible < 1) || params->min_cats < 1 ||
	    params->top_n < 0 || params->baseline_months < 2 || !(params->min_centre >= 0))
		return mb_err(err, MB_EUSAGE, "flags: bad parameters");
	if (in->nunit > SIZE_MAX / in->ncat / in->nmonth)
		return mb_err(err, MB_EUSAGE, "flags: too many cells");
	if ((rc = check_counts(in, err)))
		return rc;
	ncell = in->nunit * in->ncat;
	r = calloc(1, sizeof(*r));
	if (!r)
		return mb_err(err, MB_ENOMEM, "out of memory");
	r->nunit = in->nunit;
	r->ncat = in->ncat;
	r->by_population = in->population != NULL;
	r->cat = calloc(in->ncat, sizeof(*r->cat));
	r->cell = calloc(ncell, sizeof(*r->cell));
	r->unit = calloc(in->nunit, sizeof(*r->unit));
	r->order = calloc(in->nunit, sizeof(size_t));
	share = calloc(in->nunit, sizeof(double));
	if (!r->cat || !r->cell || !r->unit || !r->order || !share) {
		rc = mb_err(err, MB_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < ncell; i++) {
		const double *cnt = in->count + i * in->nmonth;
		struct flags_cell *x = &r->cell[i];
		size_t c = i % in->ncat;

		x->rr_shrunk = x->rr_lo = x->rr_hi = x->p_rr_t = x->p_rr1 = NAN;
		for (size_t m = in->period_first; m < in->nmonth; m++)
			if (!in->present || in->present[m])
				x->observed += cnt[m];
		if (!(in->opportunity && in->opportunity[c]))
			share[i / in->ncat] += x->observed;
		x->hot_streets = in->hot ? in->hot[i] : 0;
		if ((rc = rise_test(in, cnt, x, err)))
			goto fail;
		laney(in, params, cnt, x);
		r->n_rise_tests += (size_t)x->has_rise;
		r->n_cc_tests += (size_t)x->has_cc;
	}
	expected(in, share, r);
	shrink(in, params, r);
	if ((rc = high_rate(in, r, err)) ||
	    (rc = bh(r, offsetof(struct flags_cell, p_high), offsetof(struct flags_cell, q_high),
		     params->fdr, err)) ||
	    (rc = bh(r, offsetof(struct flags_cell, p_rise), offsetof(struct flags_cell, q_rise),
		     params->fdr, err)) ||
	    (rc = bh(r, offsetof(struct flags_cell, p_cc), offsetof(struct flags_cell, q_cc),
		     params->fdr, err)))
		goto fail;
	if (in->streets)
		for (size_t u = 0; u < in->nunit; u++)
			if (isfinite(in->streets[u]) && in->streets[u] > 0)
				stot += in->streets[u];
	for (size_t c = 0; c < in->ncat; c++)
		r->cat[c].hot_total = in->hot_total ? in->hot_total[c] : 0;
	for (size_t u = 0; u < in->nunit; u++) {
		struct flags_unit *fu = &r->unit[u];

		for (size_t c = 0; c < in->ncat; c++) {
			struct flags_cell *x = &r->cell[u * in->ncat + c];
			double s = in->streets && isfinite(in->streets[u]) && in->streets[u] > 0
					   ? in->streets[u] : 0;

			x->hot_expected = stot > 0 ? r->cat[c].hot_total * s / stot : NAN;
			fu->hot_held += x->hot_streets;
			fu->hot_expected += stot > 0 ? x->hot_expected : 0;
			if (isfinite(x->q_high) && x->q_high <= params->fdr &&
			    x->ratio >= params->min_ratio)
				x->flags |= FLAGS_HIGH;
			/* a rise only: a significant fall is no reason for priority */
			if (x->has_rise && isfinite(x->q_rise) && x->q_rise <= params->fdr &&
			    x->yoy.rr > 1)
				x->flags |= FLAGS_RISING;
			if (x->has_cc && isfinite(x->q_cc) && x->q_cc <= params->fdr &&
			    x->cc_recent_above > 0)
				x->flags |= FLAGS_CONTROL;
			fu->ncat_flagged += x->flags != 0;
			fu->ncat_credible += (unsigned)x->credible;
		}
	}
	if ((rc = prioritise(in, params, r, err)))
		goto fail;
	free(share);
	*out = r;
	return 0;
fail:
	free(share);
	flags_result_free(r);
	return rc;
}

/* ---- The counts and the words around the test ----------------------------- */

/* Count one source's events of analysed units and categories into out->count. */
static void count_events(const struct flags_events *ev, const struct flags_count_in *in,
			 struct flags_counts *out)
{
	for (size_t i = 0; i < ev->n; i++) {
		uint32_t unit = ev->unit[i], cat = ev->category[i];
		int32_t m = ev->month[i] - in->span_from;

		if (!unit || out->aidx[unit] < 0 || out->cidx[cat] < 0 || m < 0 ||
		    (size_t)m >= in->nmonth)
			continue;
		out->count[((size_t)out->aidx[unit] * out->ncat + (size_t)out->cidx[cat]) * in->nmonth +
			   (size_t)m] += 1;
	}
}

int flags_count(const struct flags_count_in *in, struct flags_counts *out, struct mb_error *err)
{
	const struct flags_events *lo = &in->located, *pl = &in->placed;
	size_t *catcount = calloc(in->ncats ? in->ncats : 1, sizeof(size_t));
	int r = 0;

	*out = (struct flags_counts){ 0 };
	out->aidx = malloc((in->nunits ? in->nunits : 1) * sizeof(long));
	out->unit_of = malloc((in->nunits ? in->nunits : 1) * sizeof(size_t));
	out->cidx = malloc((in->ncats ? in->ncats : 1) * sizeof(long));
	out->cat_of = malloc((in->ncats ? in->ncats : 1) * sizeof(uint32_t));
	if (!catcount || !out->aidx || !out->unit_of || !out->cidx || !out->cat_of) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t u = 0; u < in->nunits; u++) {
		out->aidx[u] = -1;
		if (u && in->in_scope[u]) {
			out->aidx[u] = (long)out->nunit;
			out->unit_of[out->nunit++] = u;
		}
	}
	/* categories: selected, with an event in scope during the period */
	for (size_t i = 0; i < lo->n; i++) {
		if (!lo->unit[i])
			out->unassigned += lo->month[i] >= in->period_from;
		else if (lo->month[i] >= in->period_from && out->aidx[lo->unit[i]] >= 0)
			catcount[lo->category[i]]++;
	}
	for (size_t i = 0; i < pl->n; i++)
		if (pl->month[i] >= in->period_from && out->aidx[pl->unit[i]] >= 0)
			catcount[pl->category[i]]++;
	for (size_t c = 0; c < in->ncats; c++) {
		out->cidx[c] = -1;
		if (c && in->cat_selected[c] && catcount[c]) {
			out->cidx[c] = (long)out->ncat;
			out->cat_of[out->ncat++] = (uint32_t)c;
		}
	}
	if (!out->nunit || !out->ncat)
		goto cleanup;
	out->count = calloc(out->nunit * out->ncat * in->nmonth, sizeof(double));
	if (!out->count) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	count_events(lo, in, out);
	count_events(pl, in, out);
cleanup:
	free(catcount);
	return r;
}

void flags_counts_release(struct flags_counts *c)
{
	free(c->unit_of);
	free(c->aidx);
	free(c->cat_of);
	free(c->cidx);
	free(c->count);
	*c = (struct flags_counts){ 0 };
}

void flags_sappend(char **s, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!*s && *cap)
		return; /* an earlier allocation failed */
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (GROW(*s, *len + (size_t)n + 1, *cap)) {
		free(*s);
		*s = NULL;
		*cap = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(*s + *len, *cap - *len, fmt, ap);
	va_end(ap);
	*len += (size_t)n;
}

char *flags_reasons(const struct flags_result *res, const struct flags_params *par, size_t k,
		    const char *const *cat_name, const uint32_t *cat_of)
{
	const struct flags_unit *fu = &res->unit[k];
	char *s = NULL;
	size_t len = 0, cap = 0;
	int any = 0;

	flags_sappend(&s, &len, &cap, "%scredible excess on %u categories (%d needed)%s",
		      fu->by_cats ? "priority by categories: " : "", fu->ncat_credible, par->min_cats,
		      fu->ncat_credible ? ": " : "");
	for (size_t c = 0; c < res->ncat; c++) {
		const struct flags_cell *x = &res->cell[k * res->ncat + c];

		if (!x->credible)
			continue;
		flags_sappend(&s, &len, &cap, "%s%s %.0f vs %.1f expected, RR %.2f (%.2f-%.2f),"
			      " P(RR>%g) %.3f", any++ ? ", " : "", cat_name[cat_of ? cat_of[c] : c],
			      x->observed, x->expected, x->rr_shrunk, x->rr_lo, x->rr_hi,
			      par->rr_threshold, x->p_rr_t);
	}
	flags_sappend(&s, &len, &cap, "; %sharm-weighted excess %+.0f, rank %zu (%s the top %d),"
		      " RR %.2f, P(RR>1) %.3f%s", fu->by_top ? "priority by harm: " : "",
		      fu->harm_excess, fu->rank, fu->in_top ? "in" : "not in", par->top_n, fu->harm_rr,
		      fu->p_harm_rr1,
		      fu->by_top ? " > " : (fu->in_top && fu->harm_excess > 0 ? " not > " : ""));
	if (fu->in_top && fu->harm_excess > 0)
		flags_sappend(&s, &len, &cap, "%g", par->credible);
	any = 0;
	for (size_t c = 0; c < res->ncat; c++) {
		const struct flags_cell *x = &res->cell[k * res->ncat + c];
		char letters[4];

		if (!x->flags)
			continue;
		flags_letters(x->flags, letters);
		flags_sappend(&s, &len, &cap, "%s%s %s", any++ ? ", " : "; flags: ",
			      cat_name[cat_of ? cat_of[c] : c], letters);
	}
	if (isfinite(fu->hot_expected))
		flags_sappend(&s, &len, &cap, "; holds %u of the categories' top-3%% streets, a street"
			      " counted once for each category it is hot in (%.1f expected from its share"
			      " of streets)", fu->hot_held, fu->hot_expected);
	return s;
}
