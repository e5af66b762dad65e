/*
 * conc — crime concentration at micro places: pure analysis (no I/O).
 *
 * One sort of the counts (a stable LSD radix sort on the IEEE-754 bits, so
 * O(N) and deterministic) drives every deterministic figure through a prefix
 * sum of the descending counts. The bootstrap and the Monte Carlo are O(N)
 * per draw: the bootstrap counts how often each sorted position is drawn,
 * the Monte Carlo reduces each multinomial draw to a histogram of counts.
 * Definitions and sources: docs/methods-concentration.md.
 */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "microbeat/conc.h"
#include "microbeat/util.h"

const int conc_pct[CONC_NPCT] = { 1, 3, 5, 10, 20 };

/* Largest universe: street indices are kept as uint32_t internally. */
#define CONC_MAX_STREETS ((size_t)UINT32_MAX)

void conc_params_init(struct conc_params *p)
{
	p->seed = 1;
	p->boot_draws = CONC_BOOT_DRAWS;
	p->chance_draws = CONC_CHANCE_DRAWS;
	p->lorenz_points = CONC_LORENZ_POINTS;
	p->stab_pct = 3;
	p->paired_streets = CONC_PAIRED_STREETS;
	p->defer_chance = 0;
}

size_t conc_top_count(size_t n, int pct)
{
	if (pct <= 0)
		return 0;
	if (pct >= 100)
		return n;
	/* ceil(pct·n/100) in integers: no floating-point rounding at exact multiples */
	return (size_t)(((uint64_t)n * (uint64_t)pct + 99) / 100);
}

/* Return 0 when every count is finite and >= 0, else fill err for the first bad one. */
static int check_counts(const double *x, size_t n, const char *what, struct mb_error *err)
{
	double total = 0;

	for (size_t i = 0; i < n; i++) {
		if (!isfinite(x[i]) || x[i] < 0)
			return mb_err(err, MB_EDATA, "%s count of street %zu is negative or not finite",
				      what, i);
		total += x[i];
	}
	/* finite counts can still add up past the largest double (huge harm weights) */
	if (!isfinite(total))
		return mb_err(err, MB_EDATA, "%s counts add up to more than a double holds", what);
	return 0;
}

/*
 * sort_desc for counts that are all whole numbers 0..maxv: a stable counting
 * sort (one pass to count, one to place), the same order as the radix sort.
 * Return 0, or -1 on out of memory.
 */
static int sort_desc_whole(const double *x, size_t n, uint32_t maxv, uint32_t *order)
{
	uint32_t *start = calloc((size_t)maxv + 1, sizeof(*start));
	uint32_t pos = 0;

	if (!start)
		return -1;
	for (size_t i = 0; i < n; i++)
		start[(uint32_t)x[i]]++;
	/* descending: the largest count's streets first */
	for (size_t v = (size_t)maxv + 1; v-- > 0;) {
		uint32_t c = start[v];

		start[v] = pos;
		pos += c;
	}
	for (size_t i = 0; i < n; i++)
		order[start[(uint32_t)x[i]]++] = (uint32_t)i;
	free(start);
	return 0;
}

/*
 * Fill order[0..n) with street indices sorted by count descending, ties by
 * index ascending. Counts that are all small whole numbers (crimes, not harm)
 * take a counting sort; others a stable LSD radix sort, 8 bits a pass, on the
 * complemented IEEE-754 bits (for non-negative doubles the bit patterns order
 * like the values), passes over bytes that never vary skipped. Both give the
 * one order: count descending, then index. Return 0, or -1 on out of memory.
 */
static int sort_desc(const double *x, size_t n, uint32_t *order)
{
	uint64_t *key = NULL, *key2 = NULL;
	uint32_t *ord2 = NULL;
	uint64_t *ka, *kb;
	uint32_t *oa, *ob;
	uint64_t diff = 0;
	/* a counting sort's table is at most about the size of the order */
	double lim = (double)n + 65536.0, maxv = 0;
	size_t w;
	int rc = -1;

	if (n == 0)
		return 0;
	for (w = 0; w < n; w++) {
		double v = x[w];

		if (!(v >= 0 && v <= lim && v == floor(v)))
			break;
		if (v > maxv)
			maxv = v;
	}
	if (w == n)
		return sort_desc_whole(x, n, (uint32_t)maxv, order);
	key = malloc(n * sizeof(*key));
	key2 = malloc(n * sizeof(*key2));
	ord2 = malloc(n * sizeof(*ord2));
	if (!key || !key2 || !ord2)
		goto cleanup;
	for (size_t i = 0; i < n; i++) {
		uint64_t bits = 0;
		double v = x[i];

		if (v != 0.0) /* -0.0 sorts as 0 */
			memcpy(&bits, &v, sizeof(bits));
		key[i] = ~bits;
		order[i] = (uint32_t)i;
		diff |= key[i] ^ key[0];
	}
	ka = key, kb = key2, oa = order, ob = ord2;
	for (int shift = 0; shift < 64; shift += 8) {
		size_t cnt[256] = { 0 };
		size_t pos = 0;

		if (((diff >> shift) & 0xff) == 0)
			continue;
		for (size_t i = 0; i < n; i++)
			cnt[(ka[i] >> shift) & 0xff]++;
		for (int b = 0; b < 256; b++) {
			size_t c = cnt[b];

			cnt[b] = pos;
			pos += c;
		}
		for (size_t i = 0; i < n; i++) {
			size_t d = cnt[(ka[i] >> shift) & 0xff]++;

			kb[d] = ka[i];
			ob[d] = oa[i];
		}
		uint64_t *kt = ka;
		uint32_t *ot = oa;

		ka = kb, kb = kt, oa = ob, ob = ot;
	}
	if (oa != order)
		memcpy(order, oa, n * sizeof(*order));
	rc = 0;
cleanup:
	free(key);
	free(key2);
	free(ord2);
	return rc;
}

/* conc_rank_top, also handing over the whole order (*order_out, NULL when
 * not wanted; left NULL when the list is empty). */
static int rank_top(const double *counts, size_t n, int pct, size_t **idx, size_t *n_top,
		    uint32_t **order_out, struct mb_error *err)
{
	uint32_t *order = NULL;
	size_t *res = NULL;
	size_t k;
	int rc = 0;

	*idx = NULL;
	*n_top = 0;
	if (order_out)
		*order_out = NULL;
	if (pct < 1 || pct > 100)
		return mb_err(err, MB_EUSAGE, "top percentage %d is outside 1..100", pct);
	if (n > CONC_MAX_STREETS)
		return mb_err(err, MB_EUSAGE, "too many streets (%zu)", n);
	if (n > 0 && !counts)
		return mb_err(err, MB_EUSAGE, "no counts given for %zu streets", n);
	rc = check_counts(counts, n, "current", err);
	if (rc)
		return rc;
	k = conc_top_count(n, pct);
	if (k == 0)
		return 0;
	order = malloc(n * sizeof(*order));
	res = malloc(k * sizeof(*res));
	if (!order || !res || sort_desc(counts, n, order)) {
		rc = mb_err(err, MB_ENOMEM, "out of memory ranking %zu streets", n);
		goto cleanup;
	}
	for (size_t j = 0; j < k; j++)
		res[j] = order[j];
	*idx = res;
	*n_top = k;
	res = NULL;
	if (order_out) {
		*order_out = order;
		order = NULL;
	}
cleanup:
	free(order);
	free(res);
	return rc;
}

int conc_rank_top(const double *counts, size_t n, int pct, size_t **idx,
		  size_t *n_top, struct mb_error *err)
{
	return rank_top(counts, n, pct, idx, n_top, NULL, err);
}

int conc_hot_list(const double *counts, size_t n, int pct, size_t **idx, size_t *n_list,
		  size_t *n_nominal, struct mb_error *err)
{
	uint32_t *order = NULL;
	size_t *res = NULL, k, m;
	int rc;

	*idx = NULL;
	*n_list = *n_nominal = 0;
	if ((rc = rank_top(counts, n, pct, &res, &k, &order, err)) || !k)
		return rc;
	while (k && counts[res[k - 1]] <= 0)
		k--; /* a street with no crime is never hot */
	if (!k)
		goto cleanup;
	/* ties with the k-th come next in the same order (count, then index) */
	for (m = k; m < n && counts[order[m]] == counts[res[k - 1]]; m++)
		;
	size_t *grown = realloc(res, m * sizeof(*res));

	if (!grown) {
		rc = mb_err(err, MB_ENOMEM, "out of memory ranking %zu streets", n);
		goto cleanup;
	}
	res = grown;
	for (size_t j = k; j < m; j++)
		res[j] = order[j];
	*idx = res;
	*n_list = m;
	*n_nominal = k;
	res = NULL;
cleanup:
	free(order);
	free(res);
	return rc;
}

/* Generalised Gini (Bernasco & Steenbeek 2017) from G, N and C (C > 0). */
static double gini_gen(double g, double n, double c)
{
	double f = n / c;

	return (f > 1.0 ? f : 1.0) * (g - 1.0) + 1.0;
}

/* Percentile f (0..1) of data[0..n) (sorted in place), GSL's linear interpolation. */
static double percentile(double *data, size_t n, double f)
{
	if (n == 0)
		return NAN;
	return gsl_stats_quantile_from_sorted_data(data, 1, n, f);
}

/* Bounds [lo, hi] of k outside which Poisson(lambda) terms are negligible (< 1e-30). */
static void poisson_range(double lambda, double *lo, double *hi)
{
	double s = sqrt(lambda);

	*lo = floor(lambda - 12.0 * s - 12.0);
	if (*lo < 0)
		*lo = 0;
	*hi = ceil(lambda + 12.0 * s + 30.0);
}

double conc_poisson_gini(double lambda, size_t n)
{
	double lo, hi, pk, fk, sum = 0;

	if (!(lambda > 0) || n == 0 || lambda > 4e9)
		return NAN;
	poisson_range(lambda, &lo, &hi);
	/* E|X − Y| = 2 Σ_k F(k)(1 − F(k)) for iid integer-valued X, Y */
	pk = gsl_ran_poisson_pdf((unsigned)lo, lambda);
	fk = lo > 0 ? gsl_cdf_poisson_P((unsigned)lo - 1, lambda) : 0.0;
	for (double k = lo; k <= hi; k++) {
		fk += pk;
		if (fk > 1.0)
			fk = 1.0;
		sum += fk * (1.0 - fk);
		pk *= lambda / (k + 1.0);
	}
	/* the sample Gini averages |xi − xj| over N² pairs, N(N − 1) of them off the diagonal */
	return ((double)(n - 1) / (double)n) * sum / lambda;
}

double conc_poisson_top_share(double lambda, double q)
{
	double lo, hi, share;
	unsigned a, b;

	if (!(lambda > 0) || !(q >= 0) || q > 1 || lambda > 4e9)
		return NAN;
	if (q == 0)
		return 0.0;
	poisson_range(lambda, &lo, &hi);
	/* smallest t with Q(t) = P(X > t) <= q: the top fraction q holds all mass
	 * above t and the part q − Q(t) of the atom at t */
	a = 0;
	b = (unsigned)hi;
	while (a < b) {
		unsigned mid = a + (b - a) / 2;

		if (gsl_cdf_poisson_Q(mid, lambda) <= q)
			b = mid;
		else
			a = mid + 1;
	}
	{
		double qt = gsl_cdf_poisson_Q(a, lambda);
		/* Σ_{k>t} k p_k = λ P(X >= t) = λ Q(t − 1), since k p_k = λ p_{k−1} */
		double ge = a == 0 ? 1.0 : gsl_cdf_poisson_Q(a - 1, lambda);

		share = (lambda * ge + (q - qt) * (double)a) / lambda;
	}
	if (share > 1.0)
		share = 1.0;
	if (share < 0.0)
		share = 0.0;
	return share;
}

/* Sums of the top ks[j] values (ks ascending) from a histogram hist[0..maxv]. */
static void hist_top_sums(const uint32_t *hist, size_t maxv, const size_t *ks, size_t nk,
			  double *out)
{
	size_t c = 0, j = 0;
	double s = 0;

	for (size_t v = maxv + 1; v-- > 0 && j < nk;) {
		size_t f = hist[v];

		while (j < nk && ks[j] <= c + f) {
			out[j] = s + (double)(ks[j] - c) * (double)v;
			j++;
		}
		c += f;
		s += (double)f * (double)v;
	}
	while (j < nk)
		out[j++] = s;
}

/* Gini G of n integer counts given as a histogram hist[0..maxv] with total c > 0. */
static double hist_gini(const uint32_t *hist, size_t maxv, size_t n, double c)
{
	long double s = 0;
	double r = 0;

	/* Σ i·x(i) ascending: a run of f equal values v at ranks r+1..r+f adds v(f·r + f(f+1)/2) */
	for (size_t v = 0; v <= maxv; v++) {
		double f = hist[v];

		if (f > 0) {
			s += (long double)v * (f * r + f * (f + 1) / 2);
			r += f;
		}
	}
	return (double)(2 * s / ((long double)n * c)) - (double)(n + 1) / (double)n;
}

/*
 * Bootstrap percentile interval of G' for the ascending sorted counts
 * asc[0..n): B resamples of n streets with replacement. A resample's G'
 * depends only on how many draws land on each distinct value, and those
 * numbers are multinomial(n; f_v/n) over the D distinct values, so with few
 * distinct values (integer counts: D is small) each replicate is D binomial
 * draws (gsl_ran_multinomial); otherwise (weighted counts) n uniform street
 * draws. Both sample the same distribution exactly. Fills r->gini_gen_lo/hi
 * and r->boot_draws. Return 0 or -1 (OOM).
 */
static int boot_gini_gen(const double *asc, size_t n, int draws, uint64_t seed,
			 struct conc_result *r)
{
	double *val = NULL, *prob = NULL, *g = NULL;
	unsigned int *w = NULL;
	uint32_t *pos2d = NULL;
	size_t nd = 0;
	int by_value, used = 0, rc = -1;
	gsl_rng *rng = NULL;

	val = malloc(n * sizeof(*val));
	prob = malloc(n * sizeof(*prob));
	w = calloc(n, sizeof(*w));
	g = malloc((size_t)draws * sizeof(*g));
	rng = gsl_rng_alloc(gsl_rng_mt19937);
	if (!val || !prob || !w || !g || !rng)
		goto cleanup;
	for (size_t i = 0; i < n; i++) {
		if (nd == 0 || asc[i] != val[nd - 1]) {
			val[nd] = asc[i];
			prob[nd++] = 0;
		}
		prob[nd - 1] += 1.0; /* gsl_ran_multinomial normalises the weights */
	}
	/* a binomial draw costs several uniform draws: go by value when D << n */
	by_value = nd <= n / 8;
	if (!by_value) {
		pos2d = malloc(n * sizeof(*pos2d));
		if (!pos2d)
			goto cleanup;
		for (size_t i = 0, d = 0; i < n; i++) {
			if (i > 0 && asc[i] != asc[i - 1])
				d++;
			pos2d[i] = (uint32_t)d;
		}
	}
	gsl_rng_set(rng, (unsigned long)seed);
	for (int b = 0; b < draws; b++) {
		double rank = 0, c = 0;
		long double s = 0;

		if (by_value) {
			gsl_ran_multinomial(rng, nd, (unsigned int)n, prob, w);
		} else {
			memset(w, 0, nd * sizeof(*w));
			for (size_t i = 0; i < n; i++)
				w[pos2d[gsl_rng_uniform_int(rng, (unsigned long)n)]]++;
		}
		/* f draws of value v take ranks rank+1..rank+f: Σ i·x(i) gains v(f·rank + f(f+1)/2) */
		for (size_t d = 0; d < nd; d++) {
			double f = w[d];

			s += (long double)val[d] * (f * rank + f * (f + 1) / 2);
			c += f * val[d];
			rank += f;
		}
		if (c > 0) {
			double gg = (double)(2 * s / ((long double)n * c)) -
				    (double)(n + 1) / (double)n;

			g[used++] = gini_gen(gg, (double)n, c);
		}
	}
	r->boot_draws = used;
	gsl_sort(g, 1, (size_t)used);
	r->gini_gen_lo = percentile(g, (size_t)used, 0.025);
	r->gini_gen_hi = percentile(g, (size_t)used, 0.975);
	rc = 0;
cleanup:
	free(val);
	free(prob);
	free(w);
	free(g);
	free(pos2d);
	if (rng)
		gsl_rng_free(rng);
	return rc;
}

/*
 * The Monte Carlo's draws two at a time, with the figures of one random stream.
 *
 * Draw d+1 starts where draw d leaves the stream, which depends on how many
 * uniforms draw d took. A multinomial over n equiprobable streets is n
 * binomials, each by inversion one uniform, unless crimes run out before the
 * last street or a binomial's mean passes GSL's inversion limit. So a helper
 * thread draws d+1 from the state n outputs on (speculated) while this one
 * draws d; the pair is kept when draw d's end state equals the speculated
 * state byte for byte (that is, draw d took exactly n outputs), and draw d+1
 * is drawn again from draw d's true end otherwise. Either way every draw is
 * the draw one stream gives in order, so the figures are those of serial
 * draws, bit for bit (tests/test_conc.c).
 */
struct mc_pair {
	gsl_rng *start;         /* a copy of draw d's start */
	gsl_rng *spec;          /* draw d+1's speculated start */
	gsl_rng *rng;           /* draw d+1's stream: from spec, then its end */
	const double *p;        /* the equal weights */
	size_t n;               /* streets */
	unsigned int crimes;    /* crimes a draw */
	unsigned int *cnt;      /* draw d+1's allocation */
};

static void *mc_pair_main(void *arg)
{
	struct mc_pair *m = arg;

	gsl_rng_memcpy(m->spec, m->start);
	for (size_t i = 0; i < m->n; i++)
		gsl_rng_get(m->spec);
	gsl_rng_memcpy(m->rng, m->spec);
	gsl_ran_multinomial(m->rng, m->n, m->crimes, m->p, m->cnt);
	return NULL;
}

/* An mt19937 generator whose whole state, padding included, is defined: the
 * speculation compares states with memcmp. */
static gsl_rng *mc_rng(void)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);

	if (r) {
		memset(gsl_rng_state(r), 0, gsl_rng_size(r));
		gsl_rng_set(r, 0);
	}
	return r;
}

/* What chance_mc sums over the draws, in draw order. */
struct mc_sums {
	size_t n;               /* streets */
	double c;               /* crimes */
	const size_t *top_n;    /* streets in each top percentage */
	struct conc_lorenz *lz; /* its k; the chance curve's sums go to lsum */
	int draws;              /* draws in all */
	double *gini, *top, *lsum, *lbuf, ggen_sum;
	uint32_t *hist;         /* a draw's histogram of street counts */
	size_t hist_cap;
};

/* Add draw d's allocation cnt to the sums. 0, or -1 when out of memory. */
static int mc_take(struct mc_sums *m, const unsigned int *cnt, int d)
{
	size_t maxv = 0;
	double tops[CONC_NPCT];

	for (size_t i = 0; i < m->n; i++)
		if (cnt[i] > maxv)
			maxv = cnt[i];
	if (GROW(m->hist, maxv + 1, m->hist_cap))
		return -1;
	memset(m->hist, 0, (maxv + 1) * sizeof(*m->hist));
	for (size_t i = 0; i < m->n; i++)
		m->hist[cnt[i]]++;
	m->gini[d] = hist_gini(m->hist, maxv, m->n, m->c);
	m->ggen_sum += gini_gen(m->gini[d], (double)m->n, m->c);
	hist_top_sums(m->hist, maxv, m->top_n, CONC_NPCT, tops);
	for (int j = 0; j < CONC_NPCT; j++)
		m->top[(size_t)j * (size_t)m->draws + (size_t)d] = tops[j] / m->c;
	hist_top_sums(m->hist, maxv, m->lz->k, m->lz->n, m->lbuf);
	for (size_t j = 0; j < m->lz->n; j++)
		m->lsum[j] += m->lbuf[j] / m->c;
	return 0;
}

/*
 * Monte Carlo chance expectation: draws multinomial allocations of
 * ch->crimes crimes to n equiprobable streets, two at a time from
 * par_streets streets on (mc_pair; 0: one at a time). Fills ch (means,
 * percentiles) and lz->chance; *respec (if not NULL) counts the pairs whose
 * second draw was drawn again. Return 0 or -1 (OOM).
 */
static int chance_mc(size_t n, const size_t *top_n, struct conc_chance *ch,
		     struct conc_lorenz *lz, int draws, uint64_t seed, size_t par_streets,
		     int *respec)
{
	struct mc_sums m = { .n = n, .c = (double)ch->crimes, .top_n = top_n, .lz = lz,
			     .draws = draws };
	struct mc_pair pair = { .n = n, .crimes = (unsigned int)ch->crimes };
	double *p = NULL;
	unsigned int *cnt = NULL, *cnt2 = NULL;
	gsl_rng *rng = NULL;
	/* pairs only where the speculation mostly holds: 2 to 10 crimes a street
	 * (fewer run out before the last street, more pass the inversion limit;
	 * tests/test_conc.c) */
	int rc = -1, paired = par_streets && n >= par_streets && draws >= 2 &&
			      ch->crimes >= 2 * (uint64_t)n && ch->crimes <= 10 * (uint64_t)n;

	p = malloc(n * sizeof(*p));
	cnt = malloc(n * sizeof(*cnt));
	m.gini = malloc((size_t)draws * sizeof(*m.gini));
	m.top = malloc((size_t)draws * CONC_NPCT * sizeof(*m.top));
	m.lsum = calloc(lz->n ? lz->n : 1, sizeof(*m.lsum));
	m.lbuf = malloc((lz->n ? lz->n : 1) * sizeof(*m.lbuf));
	rng = mc_rng();
	if (!p || !cnt || !m.gini || !m.top || !m.lsum || !m.lbuf || !rng)
		goto cleanup;
	/* without the helper's memory the draws go one at a time */
	if (paired && (!(cnt2 = malloc(n * sizeof(*cnt2))) || !(pair.start = mc_rng()) ||
		       !(pair.spec = mc_rng()) || !(pair.rng = mc_rng())))
		paired = 0;
	gsl_rng_set(rng, (unsigned long)seed);
	for (size_t i = 0; i < n; i++)
		p[i] = 1.0; /* gsl_ran_multinomial normalises the weights */
	pair.p = p;
	pair.cnt = cnt2;
	for (int d = 0; d < draws;) {
		pthread_t th;

		if (paired && d + 1 < draws)
			gsl_rng_memcpy(pair.start, rng); /* the helper's copy of draw d's start */
		if (!paired || d + 1 == draws || pthread_create(&th, NULL, mc_pair_main, &pair)) {
			gsl_ran_multinomial(rng, n, (unsigned int)ch->crimes, p, cnt);
			if (mc_take(&m, cnt, d++))
				goto cleanup;
			continue;
		}
		gsl_ran_multinomial(rng, n, (unsigned int)ch->crimes, p, cnt);
		int taken = mc_take(&m, cnt, d++); /* while the helper ends its draw */

		pthread_join(th, NULL);
		if (taken)
			goto cleanup;
		if (memcmp(gsl_rng_state(rng), gsl_rng_state(pair.spec), gsl_rng_size(rng)) == 0) {
			gsl_rng_memcpy(rng, pair.rng);
			if (mc_take(&m, cnt2, d++))
				goto cleanup;
		} else {
			if (respec)
				++*respec;
			gsl_ran_multinomial(rng, n, (unsigned int)ch->crimes, p, cnt);
			if (mc_take(&m, cnt, d++))
				goto cleanup;
		}
	}
	ch->draws = draws;
	ch->gini_mean = gsl_stats_mean(m.gini, 1, (size_t)draws);
	ch->gini_gen_mean = m.ggen_sum / draws;
	gsl_sort(m.gini, 1, (size_t)draws);
	ch->gini_lo = percentile(m.gini, (size_t)draws, 0.025);
	ch->gini_hi = percentile(m.gini, (size_t)draws, 0.975);
	for (int j = 0; j < CONC_NPCT; j++) {
		double *t = m.top + (size_t)j * (size_t)draws;

		ch->top_mean[j] = gsl_stats_mean(t, 1, (size_t)draws);
		gsl_sort(t, 1, (size_t)draws);
		ch->top_lo[j] = percentile(t, (size_t)draws, 0.025);
		ch->top_hi[j] = percentile(t, (size_t)draws, 0.975);
	}
	for (size_t j = 0; j < lz->n; j++)
		lz->chance[j] = m.lsum[j] / draws;
	rc = 0;
cleanup:
	free(p);
	free(cnt);
	free(cnt2);
	free(m.gini);
	free(m.top);
	free(m.lsum);
	free(m.lbuf);
	free(m.hist);
	if (pair.start)
		gsl_rng_free(pair.start);
	if (pair.spec)
		gsl_rng_free(pair.spec);
	if (pair.rng)
		gsl_rng_free(pair.rng);
	if (rng)
		gsl_rng_free(rng);
	return rc;
}

/* Average ranks (1-based, ties averaged) of the streets in descending order ord. */
static void avg_ranks(const double *x, const uint32_t *ord, size_t n, double *rank)
{
	size_t j = 0;

	while (j < n) {
		size_t e = j + 1;
		double avg;

		while (e < n && x[ord[e]] == x[ord[j]])
			e++;
		avg = ((double)(j + 1) + (double)e) / 2.0; /* mean of ranks j+1..e */
		for (size_t t = j; t < e; t++)
			rank[ord[t]] = avg;
		j = e;
	}
}

/*
 * Stability of the hot set: ord_cur is counts' descending order, prev the
 * previous counts. Fills r->stab. Return 0 or -1 (OOM).
 */
static int stability(const double *counts, const uint32_t *ord_cur, const double *prev,
		     size_t n, int pct, struct conc_result *r)
{
	struct conc_stability *st = &r->stab;
	uint32_t *ord_prev = NULL;
	double *ra = NULL, *rb = NULL;
	int rc = -1;

	st->present = 1;
	st->pct = pct;
	st->n_nominal = conc_top_count(n, pct);
	st->jaccard = NAN;
	st->spearman = NAN;
	st->prev_crimes = 0;
	st->cls = calloc(n ? n : 1, 1);
	ord_prev = malloc((n ? n : 1) * sizeof(*ord_prev));
	ra = malloc((n ? n : 1) * sizeof(*ra));
	rb = malloc((n ? n : 1) * sizeof(*rb));
	if (!st->cls || !ord_prev || !ra || !rb || sort_desc(prev, n, ord_prev))
		goto cleanup;
	for (size_t i = 0; i < n; i++)
		st->prev_crimes += prev[i];
	/* a crime-free street is never hot: a hot set stops at the first zero count */
	for (size_t j = 0; j < st->n_nominal && counts[ord_cur[j]] > 0; j++) {
		st->cls[ord_cur[j]] |= 1;
		st->n_cur++;
	}
	for (size_t j = 0; j < st->n_nominal && prev[ord_prev[j]] > 0; j++) {
		st->cls[ord_prev[j]] |= 2;
		st->n_prev++;
	}
	for (size_t i = 0; i < n; i++) {
		switch (st->cls[i]) {
		case 1: st->cls[i] = CONC_CLASS_EMERGING; st->n_emerging++; break;
		case 2: st->cls[i] = CONC_CLASS_FORMER; st->n_former++; break;
		case 3: st->cls[i] = CONC_CLASS_PERSISTENT; st->n_both++; break;
		default: st->cls[i] = CONC_CLASS_NONE; break;
		}
	}
	st->n_union = st->n_both + st->n_emerging + st->n_former;
	if (st->n_union > 0)
		st->jaccard = (double)st->n_both / (double)st->n_union;
	/* Spearman: Pearson correlation of average ranks; both rank vectors have
	 * mean (n + 1)/2 exactly, because averaging ties keeps the rank sum */
	if (n >= 2) {
		double m = ((double)n + 1.0) / 2.0;
		long double sab = 0, saa = 0, sbb = 0;

		avg_ranks(counts, ord_cur, n, ra);
		avg_ranks(prev, ord_prev, n, rb);
		for (size_t i = 0; i < n; i++) {
			double a = ra[i] - m, b = rb[i] - m;

			sab += (long double)a * b;
			saa += (long double)a * a;
			sbb += (long double)b * b;
		}
		if (saa > 0 && sbb > 0)
			st->spearman = (double)(sab / sqrtl(saa * sbb));
	}
	rc = 0;
cleanup:
	free(ord_prev);
	free(ra);
	free(rb);
	return rc;
}

/* Allocate the Lorenz arrays for n streets and at most segs segments; -1 on OOM. */
static int lorenz_alloc(struct conc_lorenz *lz, size_t n, size_t segs)
{
	size_t np = n <= segs ? n + 1 : segs + 1;

	lz->k = malloc(np * sizeof(*lz->k));
	lz->streets = malloc(np * sizeof(*lz->streets));
	lz->crime = malloc(np * sizeof(*lz->crime));
	lz->chance = malloc(np * sizeof(*lz->chance));
	lz->poisson = malloc(np * sizeof(*lz->poisson));
	if (!lz->k || !lz->streets || !lz->crime || !lz->chance || !lz->poisson)
		return -1;
	lz->n = np;
	for (size_t j = 0; j < np; j++) {
		/* every street when few, else k_j = ceil(j·N/segs) */
		lz->k[j] = n <= segs ? j : (size_t)(((uint64_t)j * n + segs - 1) / segs);
		lz->streets[j] = (double)lz->k[j] / (double)n;
		lz->chance[j] = NAN;
		lz->poisson[j] = NAN;
	}
	return 0;
}

/* Set every floating-point figure of r to NaN (the "undefined" state). */
static void result_init_nan(struct conc_result *r)
{
	for (int j = 0; j < CONC_NPCT; j++) {
		r->top_share[j] = NAN;
		r->chance.top_mean[j] = r->chance.top_lo[j] = r->chance.top_hi[j] = NAN;
		r->chance.top_poisson[j] = NAN;
		r->chance.top_excess[j] = r->chance.top_excess_poisson[j] = NAN;
	}
	r->crime_free_share = r->band25 = r->band50 = NAN;
	r->gini = r->gini_gen = r->gini_gen_bc = r->gini_gen_lo = r->gini_gen_hi = NAN;
	r->chance.lambda = NAN;
	r->chance.gini_mean = r->chance.gini_lo = r->chance.gini_hi = NAN;
	r->chance.gini_gen_mean = r->chance.gini_poisson = NAN;
	r->chance.gini_excess = r->chance.gini_excess_poisson = NAN;
}

/* Smallest k with pre[k] >= target (pre nondecreasing, pre[n] >= target). */
static size_t first_reaching(const double *pre, size_t n, double target)
{
	size_t a = 0, b = n;

	while (a < b) {
		size_t mid = a + (b - a) / 2;

		if (pre[mid] >= target)
			b = mid;
		else
			a = mid + 1;
	}
	return a;
}

/* Fill err for an allocation failure on n streets; return -MB_ENOMEM. */
static int no_memory(struct mb_error *err, size_t n)
{
	return mb_err(err, MB_ENOMEM, "out of memory computing concentration for %zu streets", n);
}

int conc_compute(const double *counts, const double *prev, size_t n,
		 const struct conc_params *params, struct conc_result **out,
		 struct mb_error *err)
{
	struct conc_params def;
	struct conc_result *r = NULL;
	uint32_t *ord = NULL;
	double *pre = NULL, *asc = NULL;
	double c;
	int rc = 0;

	*out = NULL;
	if (!params) {
		conc_params_init(&def);
		params = &def;
	}
	if (params->boot_draws < 0 || params->chance_draws < 0)
		return mb_err(err, MB_EUSAGE, "draw counts must not be negative");
	if (params->lorenz_points < 1)
		return mb_err(err, MB_EUSAGE, "lorenz points must be at least 1");
	if (prev && (params->stab_pct < 1 || params->stab_pct > 100))
		return mb_err(err, MB_EUSAGE, "stability percentage %d is outside 1..100",
			      params->stab_pct);
	if (n > CONC_MAX_STREETS)
		return mb_err(err, MB_EUSAGE, "too many streets (%zu)", n);
	if (n > 0 && !counts)
		return mb_err(err, MB_EUSAGE, "no counts given for %zu streets", n);
	rc = check_counts(counts, n, "current", err);
	if (!rc && prev)
		rc = check_counts(prev, n, "previous", err);
	if (rc)
		return rc;

	r = calloc(1, sizeof(*r));
	ord = malloc((n ? n : 1) * sizeof(*ord));
	pre = malloc((n + 1) * sizeof(*pre));
	asc = malloc((n ? n : 1) * sizeof(*asc));
	if (!r || !ord || !pre || !asc || sort_desc(counts, n, ord)) {
		rc = no_memory(err, n);
		goto cleanup;
	}
	result_init_nan(r);
	r->n_streets = n;

	/* pre[k] = sum of the top k counts; summed in this one order so pre[N] = C exactly */
	pre[0] = 0;
	for (size_t j = 0; j < n; j++) {
		double v = counts[ord[j]];

		pre[j + 1] = pre[j] + v;
		asc[n - 1 - j] = v;
		if (v > 0)
			r->n_active++;
	}
	c = pre[n];
	r->crimes = c;
	for (int j = 0; j < CONC_NPCT; j++)
		r->top_n[j] = conc_top_count(n, conc_pct[j]);
	if (n > 0)
		r->crime_free_share = (double)(n - r->n_active) / (double)n;

	if (n > 0 && c > 0) {
		long double s = 0;
		uint64_t m;

		for (int j = 0; j < CONC_NPCT; j++)
			r->top_share[j] = pre[r->top_n[j]] / c;
		r->band25_k = first_reaching(pre, n, 0.25 * c);
		r->band50_k = first_reaching(pre, n, 0.5 * c);
		r->band25 = (double)r->band25_k / (double)n;
		r->band50 = (double)r->band50_k / (double)n;

		/* G = 2 Σ i·x(i) / (N·C) − (N + 1)/N, x ascending, i = 1..N */
		for (size_t i = 0; i < n; i++)
			s += (long double)(i + 1) * asc[i];
		r->gini = (double)(2 * s / ((long double)n * c)) - (double)(n + 1) / (double)n;
		r->gini_gen = gini_gen(r->gini, (double)n, c);
		m = (uint64_t)llround(c);
		if ((uint64_t)n < m)
			m = n;
		if (m > 1)
			r->gini_gen_bc = r->gini_gen * (double)m / (double)(m - 1);

		if (params->boot_draws > 0 &&
		    boot_gini_gen(asc, n, params->boot_draws, params->seed, r)) {
			rc = no_memory(err, n);
			goto cleanup;
		}

		if (lorenz_alloc(&r->lorenz, n, (size_t)params->lorenz_points)) {
			rc = no_memory(err, n);
			goto cleanup;
		}
		for (size_t j = 0; j < r->lorenz.n; j++)
			r->lorenz.crime[j] = pre[r->lorenz.k[j]] / c;

		/* chance: the same number of crimes, as an integer */
		r->chance.crimes = (uint64_t)llround(c);
		if (r->chance.crimes > 0) {
			struct conc_chance *ch = &r->chance;

			ch->lambda = (double)ch->crimes / (double)n;
			ch->gini_poisson = conc_poisson_gini(ch->lambda, n);
			ch->gini_excess_poisson = r->gini - ch->gini_poisson;
			for (int j = 0; j < CONC_NPCT; j++) {
				ch->top_poisson[j] = conc_poisson_top_share(
					ch->lambda, (double)r->top_n[j] / (double)n);
				ch->top_excess_poisson[j] = r->top_share[j] - ch->top_poisson[j];
			}
			for (size_t j = 0; j < r->lorenz.n; j++)
				r->lorenz.poisson[j] =
					conc_poisson_top_share(ch->lambda, r->lorenz.streets[j]);
			if (!params->defer_chance && (rc = conc_chance(r, params, err)))
				goto cleanup;
		}
	}

	if (prev && stability(counts, ord, prev, n, params->stab_pct, r)) {
		rc = no_memory(err, n);
		goto cleanup;
	}

	*out = r;
	r = NULL;
cleanup:
	conc_result_free(r);
	free(ord);
	free(pre);
	free(asc);
	return rc;
}

int conc_chance(struct conc_result *r, const struct conc_params *params, struct mb_error *err)
{
	struct conc_chance *ch = &r->chance;

	if (params->chance_draws <= 0 || r->n_streets == 0 || ch->crimes == 0 || !r->lorenz.chance)
		return 0;
	if (ch->crimes > UINT_MAX)
		return mb_err(err, MB_EUSAGE, "too many crimes (%.0f) for the chance model", r->crimes);
	if (chance_mc(r->n_streets, r->top_n, ch, &r->lorenz, params->chance_draws,
		      params->seed + 1, params->paired_streets, &ch->redrawn))
		return no_memory(err, r->n_streets);
	ch->gini_excess = r->gini - ch->gini_mean;
	for (int j = 0; j < CONC_NPCT; j++)
		ch->top_excess[j] = r->top_share[j] - ch->top_mean[j];
	return 0;
}

int conc_chance_alone(size_t n, double crimes, const struct conc_params *params,
		      struct conc_result **out, struct mb_error *err)
{
	struct conc_result *r;
	int rc = 0;

	*out = NULL;
	if (!(crimes >= 0) || crimes != floor(crimes))
		return mb_err(err, MB_EUSAGE, "chance draws need a whole number of crimes, not %g",
			      crimes);
	if (params->lorenz_points < 1 || params->chance_draws < 0)
		return mb_err(err, MB_EUSAGE, "lorenz points must be at least 1, draws at least 0");
	if (n > CONC_MAX_STREETS)
		return mb_err(err, MB_EUSAGE, "too many streets (%zu)", n);
	if (!(r = calloc(1, sizeof(*r))))
		return no_memory(err, n);
	result_init_nan(r);
	r->n_streets = n;
	r->crimes = crimes;
	for (int j = 0; j < CONC_NPCT; j++)
		r->top_n[j] = conc_top_count(n, conc_pct[j]);
	/* as conc_compute: draws only with streets and crime */
	if (n > 0 && crimes > 0) {
		r->chance.crimes = (uint64_t)llround(crimes);
		if (lorenz_alloc(&r->lorenz, n, (size_t)params->lorenz_points))
			rc = no_memory(err, n);
		else
			rc = conc_chance(r, params, err);
	}
	if (rc)
		conc_result_free(r);
	else
		*out = r;
	return rc;
}

int conc_chance_take(struct conc_result *r, const struct conc_result *d, struct mb_error *err)
{
	struct conc_chance *ch = &r->chance;
	const struct conc_chance *dc = &d->chance;

	if (d->n_streets != r->n_streets || dc->crimes != ch->crimes ||
	    d->lorenz.n != r->lorenz.n)
		return mb_err(err, MB_EUSAGE, "chance draws of %zu streets and %.0f crimes given to"
			      " a result of %zu and %.0f", d->n_streets, d->crimes, r->n_streets,
			      r->crimes);
	/* conc_chance's figures, and its excesses over the observed ones */
	if (dc->draws <= 0 || !r->lorenz.chance)
		return 0;
	ch->draws = dc->draws;
	ch->redrawn = dc->redrawn;
	ch->gini_mean = dc->gini_mean;
	ch->gini_gen_mean = dc->gini_gen_mean;
	ch->gini_lo = dc->gini_lo;
	ch->gini_hi = dc->gini_hi;
	for (int j = 0; j < CONC_NPCT; j++) {
		ch->top_mean[j] = dc->top_mean[j];
		ch->top_lo[j] = dc->top_lo[j];
		ch->top_hi[j] = dc->top_hi[j];
	}
	for (size_t j = 0; j < r->lorenz.n; j++)
		r->lorenz.chance[j] = d->lorenz.chance[j];
	ch->gini_excess = r->gini - ch->gini_mean;
	for (int j = 0; j < CONC_NPCT; j++)
		ch->top_excess[j] = r->top_share[j] - ch->top_mean[j];
	return 0;
}

void conc_result_free(struct conc_result *r)
{
	if (!r)
		return;
	free(r->lorenz.k);
	free(r->lorenz.streets);
	free(r->lorenz.crime);
	free(r->lorenz.chance);
	free(r->lorenz.poisson);
	free(r->stab.cls);
	free(r);
}
