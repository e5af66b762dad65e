/* flags — geographic priority flags per unit x category (pure analysis). */
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "microbeat/flags.h"

void flags_params_init(struct flags_params *p)
{
	p->fdr = 0.05;
	p->min_ratio = 1.2;
	p->min_flags = 3;
	p->baseline_months = 24;
}

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

/* Poisson CDF F(k) for k >= -1 (F(-1) = 0). */
static double pois_cdf(long k, double mu)
{
	return k < 0 ? 0.0 : gsl_cdf_poisson_P((unsigned int)k, mu);
}

/* Smallest r >= 0 with F(r) >= p, by a walk out from the mean (mu is at most
 * a few million here, the walk is O(sqrt(mu)) steps from a normal start). */
static long pois_quantile(double p, double mu)
{
	long r = (long)floor(mu + gsl_cdf_ugaussian_Pinv(p) * sqrt(mu));

	if (r < 0)
		r = 0;
	while (r > 0 && pois_cdf(r - 1, mu) >= p)
		r--;
	while (pois_cdf(r, mu) < p)
		r++;
	return r;
}

/* Spiegelhalter's interpolated limit at probability p. */
static double interp_limit(double p, double mu)
{
	long r = pois_quantile(p, mu);
	double fr = pois_cdf(r, mu), fr1 = pois_cdf(r - 1, mu);
	double alpha = fr > fr1 ? (fr - p) / (fr - fr1) : 0.0;
	double v = (double)r - alpha;

	return v < 0 ? 0.0 : v;
}

int flags_poisson_limits(double mu, double level, double *lo, double *hi, struct mb_error *err)
{
	if (!isfinite(mu) || mu <= 0 || mu > 1e9 || !(level > 0 && level < 1))
		return mb_err(err, MB_EUSAGE, "flags: funnel limits need mu > 0 and 0 < level < 1");
	double tail = (1.0 - level) / 2.0;

	*lo = interp_limit(tail, mu);
	*hi = interp_limit(1.0 - tail, mu);
	return 0;
}

void flags_letters(unsigned flags, char buf[5])
{
	static const char L[4] = { 'H', 'R', 'C', 'S' };
	size_t n = 0;

	for (int i = 0; i < 4; i++)
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
	free(r->district_total);
	free(r->district_rate);
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

/* A unit's sort key for the ranking. */
struct rank_key {
	unsigned ncat;  /* categories flagged */
	double harm;    /* harm-weighted excess */
	size_t idx;     /* unit index */
};

/* The ranking: most categories flagged, then harm-weighted excess, then index. */
static int cmp_rank(const void *a, const void *b)
{
	const struct rank_key *x = a, *y = b;

	if (x->ncat != y->ncat)
		return x->ncat > y->ncat ? -1 : 1;
	if (x->harm != y->harm)
		return x->harm > y->harm ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* H: expected counts and the one-sided tests. */
static void high_rate(const struct flags_input *in, struct flags_result *r)
{
	const double *den = in->population ? in->population : in->streets;

	r->by_population = in->population != NULL;
	r->denominator = 0;
	for (size_t u = 0; u < in->nunit; u++)
		if (den && isfinite(den[u]) && den[u] > 0)
			r->denominator += den[u];
	for (size_t c = 0; c < in->ncat; c++) {
		double tot = 0;

		for (size_t u = 0; u < in->nunit; u++)
			if (den && isfinite(den[u]) && den[u] > 0)
				tot += r->cell[u * in->ncat + c].observed;
		r->district_total[c] = tot;
		r->district_rate[c] = r->denominator > 0 ? tot / r->denominator : NAN;
	}
	for (size_t u = 0; u < in->nunit; u++) {
		for (size_t c = 0; c < in->ncat; c++) {
			struct flags_cell *x = &r->cell[u * in->ncat + c];

			x->expected = x->ratio = x->p_high = x->q_high = NAN;
			if (!den || !isfinite(den[u]) || den[u] <= 0 || !(r->district_rate[c] > 0))
				continue;
			x->expected = r->district_rate[c] * den[u];
			x->ratio = x->observed / x->expected;
			x->p_high = flags_poisson_sf((unsigned long)x->observed, x->expected);
			r->n_high_tests++;
		}
	}
}

/* R and C for one cell from its series. */
static int series_flags(const struct flags_input *in, const struct flags_params *p,
			const double *cnt, struct flags_cell *x, struct mb_error *err)
{
	struct trend_series s = { .count = cnt, .present = in->present, .n = in->nmonth,
				  .first_month = in->first_month };
	int rc;

	x->has_yoy = 0;
	x->q_rise = NAN;
	if (in->nmonth >= 24) {
		struct trend_series w = s;
		struct mb_error e = { 0 };

		w.count = cnt + in->nmonth - 24;
		w.present = in->present ? in->present + in->nmonth - 24 : NULL;
		w.n = 24;
		w.first_month = in->first_month + (int)(in->nmonth - 24);
		/* a window with no month loaded is no test, not an error */
		if (trend_yoy_series(&w, &x->yoy, &e) == 0 && x->yoy.a + x->yoy.b > 0)
			x->has_yoy = 1;
		else if (e.code == MB_ENOMEM)
			return mb_err(err, MB_ENOMEM, "%s", e.msg);
	}
	x->has_cc = 0;
	if (in->nmonth > TREND_RECENT_MONTHS) {
		size_t end = in->nmonth - TREND_RECENT_MONTHS;
		size_t len = (size_t)p->baseline_months < end ? (size_t)p->baseline_months : end;

		if ((rc = trend_cchart(&s, end - len, len, NULL, &x->cc, err)))
			return rc;
		x->has_cc = x->cc.n_baseline > 0;
	}
	return 0;
}

/* Run Benjamini-Hochberg over the cells' p (high or rise) and store q. */
static int bh(struct flags_result *r, int rise, double level, struct mb_error *err)
{
	size_t n = r->nunit * r->ncat;
	double *pv = malloc((n + 1) * sizeof(double)), *qv = malloc((n + 1) * sizeof(double));
	int rc = 0;

	if (!pv || !qv) {
		rc = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++)
		pv[i] = rise ? (r->cell[i].has_yoy ? r->cell[i].yoy.p : NAN) : r->cell[i].p_high;
	if (n && (rc = trend_fdr_bh(pv, n, level, qv, NULL, err)))
		goto cleanup;
	for (size_t i = 0; i < n; i++) {
		if (rise)
			r->cell[i].q_rise = qv[i];
		else
			r->cell[i].q_high = qv[i];
	}
cleanup:
	free(pv);
	free(qv);
	return rc;
}

int flags_compute(const struct flags_input *in, const struct flags_params *params,
		  struct flags_result **out, struct mb_error *err)
{
	struct flags_params def;
	struct flags_result *r = NULL;
	struct rank_key *keys = NULL;
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
	    params->min_flags < 1 || params->baseline_months < 1)
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
	r->district_total = calloc(in->ncat, sizeof(double));
	r->district_rate = calloc(in->ncat, sizeof(double));
	r->cell = calloc(ncell, sizeof(*r->cell));
	r->unit = calloc(in->nunit, sizeof(*r->unit));
	r->order = calloc(in->nunit, sizeof(size_t));
	if (!r->district_total || !r->district_rate || !r->cell || !r->unit || !r->order) {
		rc = mb_err(err, MB_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < ncell; i++) {
		const double *cnt = in->count + i * in->nmonth;
		struct flags_cell *x = &r->cell[i];

		for (size_t m = in->period_first; m < in->nmonth; m++)
			if (!in->present || in->present[m])
				x->observed += cnt[m];
		x->hot_streets = in->hot ? in->hot[i] : 0;
		if ((rc = series_flags(in, params, cnt, x, err)))
			goto fail;
		r->n_rise_tests += (size_t)x->has_yoy;
	}
	high_rate(in, r);
	if ((rc = bh(r, 0, params->fdr, err)) || (rc = bh(r, 1, params->fdr, err)))
		goto fail;
	for (size_t u = 0; u < in->nunit; u++) {
		struct flags_unit *fu = &r->unit[u];

		for (size_t c = 0; c < in->ncat; c++) {
			struct flags_cell *x = &r->cell[u * in->ncat + c];
			double w = in->harm ? in->harm[c] : 1.0;

			if (!isfinite(w))
				w = 0;
			if (isfinite(x->q_high) && x->q_high <= params->fdr &&
			    x->ratio >= params->min_ratio)
				x->flags |= FLAGS_HIGH;
			/* a rise only: a significant fall is no reason for priority */
			if (x->has_yoy && isfinite(x->q_rise) && x->q_rise <= params->fdr &&
			    x->yoy.rr > 1)
				x->flags |= FLAGS_RISING;
			/* centre 0 gives UCL 0: no variation to judge against, no signal */
			if (x->has_cc && x->cc.centre > 0 && x->cc.recent_above > 0)
				x->flags |= FLAGS_CONTROL;
			if (x->hot_streets > 0)
				x->flags |= FLAGS_HOT;
			if (x->flags)
				fu->ncat_flagged++;
			for (unsigned b = x->flags; b; b &= b - 1)
				fu->nflags++;
			if (isfinite(x->expected) && x->observed > x->expected)
				fu->harm_excess += w * (x->observed - x->expected);
		}
		fu->priority = fu->ncat_flagged >= (unsigned)params->min_flags;
	}
	keys = malloc(in->nunit * sizeof(*keys));
	if (!keys) {
		rc = mb_err(err, MB_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t u = 0; u < in->nunit; u++)
		keys[u] = (struct rank_key){ r->unit[u].ncat_flagged, r->unit[u].harm_excess, u };
	qsort(keys, in->nunit, sizeof(*keys), cmp_rank);
	for (size_t k = 0; k < in->nunit; k++) {
		r->order[k] = keys[k].idx;
		r->unit[keys[k].idx].rank = k + 1;
	}
	free(keys);
	*out = r;
	return 0;
fail:
	flags_result_free(r);
	return rc;
}
