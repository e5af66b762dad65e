/*
 * conc — crime concentration at micro places (streets): pure analysis.
 *
 * Input is a plain array of per-street counts over a street universe of N
 * streets (zeros included; doubles, so harm-weighted counts work the same
 * way), optionally the previous period's counts aligned to the same streets,
 * and a seed. Output is a result struct: top-p% shares, crime-free share,
 * bandwidth, Gini, generalised Gini (Bernasco & Steenbeek 2017) with a
 * bootstrap interval, the chance expectation (multinomial Monte Carlo and an
 * analytic Poisson approximation), Lorenz curves, and stability against the
 * previous period. No I/O, no SQLite, no printing. Every figure is defined in
 * docs/methods-concentration.md.
 *
 * Undefined figures (no streets, no crime, m <= 1 for the bias correction,
 * constant ranks for Spearman, ...) are NaN; test them with isnan().
 * Randomness comes only from gsl_rng_mt19937 seeded from params.seed, so the
 * same input and parameters give bit-identical results.
 */
#ifndef MICROBEAT_CONC_H
#define MICROBEAT_CONC_H

#include <stddef.h>
#include <stdint.h>

#include "microbeat/common.h"

/* Number of top-p% levels reported, and their index of the 3% level. */
#define CONC_NPCT 5
#define CONC_TOP3 1

/* The top-p% levels (percent of streets), in the order of the result arrays. */
extern const int conc_pct[CONC_NPCT];

/* Defaults for struct conc_params. */
#define CONC_BOOT_DRAWS 1000
#define CONC_CHANCE_DRAWS 500
#define CONC_LORENZ_POINTS 100
#define CONC_PAIRED_STREETS 20000 /* a draw of ~2 ms: a thread start is ~0.05 ms */

/* Tuning of one computation; fill with conc_params_init() then override. */
struct conc_params {
	uint64_t seed;       /* seeds both RNG streams (bootstrap: seed, chance: seed + 1) */
	int boot_draws;      /* bootstrap replicates for the G' interval; 0 skips it */
	int chance_draws;    /* multinomial Monte Carlo draws; 0 skips them */
	int lorenz_points;   /* Lorenz segments (>= 1); N + 1 points when N is smaller */
	int stab_pct;        /* top p% defining the hot set for stability (default 3) */
	size_t paired_streets; /* the Monte Carlo draws two at a time, on two threads, from
				  this many streets on (0: one at a time); the same figures */
	int defer_chance;    /* 1: conc_compute leaves the Monte Carlo draws to conc_chance,
				which a thread can run while the caller goes on (the draws
				depend on N and C alone, and have their own RNG stream) */
};

/* Class of a street in the stability comparison. */
enum conc_class {
	CONC_CLASS_NONE = 0,       /* in neither hot set */
	CONC_CLASS_PERSISTENT = 1, /* in the hot set now and before */
	CONC_CLASS_EMERGING = 2,   /* in the hot set now only */
	CONC_CLASS_FORMER = 3      /* in the hot set before only */
};

/* A Lorenz curve sampled at k streets (descending order): x = k/N, y = share. */
struct conc_lorenz {
	size_t n;          /* number of points (0 when N = 0 or C = 0) */
	size_t *k;         /* streets counted at each point, 0 .. N ascending */
	double *streets;   /* cumulative share of streets, k/N */
	double *crime;     /* observed cumulative share of crime held by the top k */
	double *chance;    /* mean over Monte Carlo draws of the sorted-draw curve (NaN if skipped) */
	double *poisson;   /* analytic Poisson curve, conc_poisson_top_share(λ, k/N) */
};

/* The chance expectation: the same C crimes spread uniformly at random. */
struct conc_chance {
	uint64_t crimes;                 /* integer crimes allocated: llround(C) */
	int draws;                       /* Monte Carlo draws done (0 when skipped) */
	int redrawn;                     /* pairs of draws whose second was drawn again
					    (conc_params.paired_streets): the figures are
					    the same either way */
	double lambda;                   /* crimes / N, the Poisson mean per street */
	double top_mean[CONC_NPCT];      /* Monte Carlo mean top-p% share */
	double top_lo[CONC_NPCT];        /* its 2.5th percentile over draws */
	double top_hi[CONC_NPCT];        /* its 97.5th percentile over draws */
	double top_poisson[CONC_NPCT];   /* analytic Poisson top-p% share */
	double top_excess[CONC_NPCT];    /* observed share − Monte Carlo mean */
	double top_excess_poisson[CONC_NPCT]; /* observed share − Poisson share */
	double gini_mean;                /* Monte Carlo mean Gini G */
	double gini_lo;                  /* its 2.5th percentile */
	double gini_hi;                  /* its 97.5th percentile */
	double gini_gen_mean;            /* Monte Carlo mean generalised Gini G' */
	double gini_poisson;             /* analytic Poisson expected G */
	double gini_excess;              /* observed G − Monte Carlo mean */
	double gini_excess_poisson;      /* observed G − Poisson G */
};

/* Stability of the hot set against the previous period. */
struct conc_stability {
	int present;             /* 1 when previous counts were given, else 0 (rest zero) */
	int pct;                 /* top p% defining the hot sets */
	size_t n_nominal;        /* ceil(pct·N/100) */
	size_t n_cur;            /* hot streets now (n_nominal minus zero-count streets) */
	size_t n_prev;           /* hot streets before */
	size_t n_both;           /* |now ∩ before| = persistent streets */
	size_t n_union;          /* |now ∪ before| */
	size_t n_emerging;       /* in the hot set now only */
	size_t n_former;         /* in the hot set before only */
	double jaccard;          /* n_both / n_union; NaN when the union is empty */
	double spearman;         /* rank correlation over all N streets; NaN if a side is constant */
	double prev_crimes;      /* C of the previous period */
	unsigned char *cls;      /* N entries of enum conc_class, by street index */
};

/* Everything computed for one period. */
struct conc_result {
	size_t n_streets;            /* N, the street universe (zeros included) */
	size_t n_active;             /* streets with a count > 0 */
	double crimes;               /* C, the total count (weighted total if weighted) */
	size_t top_n[CONC_NPCT];     /* ceil(p·N/100) streets for each level of conc_pct */
	double top_share[CONC_NPCT]; /* share of C in those top streets; NaN when C = 0 */
	double crime_free_share;     /* streets with count 0 / N; NaN when N = 0 */
	size_t band25_k;             /* fewest streets holding >= 25% of C (0 when C = 0) */
	size_t band50_k;             /* fewest streets holding >= 50% of C (0 when C = 0) */
	double band25;               /* band25_k / N; NaN when C = 0 */
	double band50;               /* band50_k / N; NaN when C = 0 */
	double gini;                 /* Gini G; NaN when C = 0 */
	double gini_gen;             /* generalised Gini G' = max(1, N/C)(G − 1) + 1 */
	double gini_gen_bc;          /* G'·m/(m − 1), m = min(N, llround(C)); NaN when m <= 1 */
	double gini_gen_lo;          /* bootstrap 2.5th percentile of G' (NaN when skipped) */
	double gini_gen_hi;          /* bootstrap 97.5th percentile of G' */
	int boot_draws;              /* bootstrap replicates used (those with C > 0) */
	struct conc_chance chance;   /* the chance expectation */
	struct conc_lorenz lorenz;   /* Lorenz curves for the chart */
	struct conc_stability stab;  /* stability against the previous period */
};

/* Fill p with the defaults: seed 1, CONC_BOOT_DRAWS, CONC_CHANCE_DRAWS,
 * CONC_LORENZ_POINTS, stab_pct 3. */
void conc_params_init(struct conc_params *p);

/* Number of streets in the top pct percent of n: ceil(pct·n/100), in integers. */
size_t conc_top_count(size_t n, int pct);

/*
 * Compute every concentration figure for counts[0..n) (n may be 0; counts
 * must be finite and >= 0). prev, when not NULL, holds the previous period's
 * counts for the same n streets and fills result->stab. params may be NULL
 * (defaults). On success *out is a new result the caller frees with
 * conc_result_free(). On failure returns a negative MB_E* code with err filled
 * (MB_EUSAGE for a bad parameter, MB_EDATA for a negative or non-finite count,
 * MB_ENOMEM) and *out is NULL. The inputs are never modified or retained.
 */
int conc_compute(const double *counts, const double *prev, size_t n,
		 const struct conc_params *params, struct conc_result **out,
		 struct mb_error *err);

/* The Monte Carlo part of conc_compute for its result r (params->chance_draws
 * draws; nothing when there are none, or no crime): fills r->chance's draw
 * figures and r->lorenz.chance. For a result computed with defer_chance;
 * conc_compute calls it itself otherwise. MB_EUSAGE (more crimes than the
 * model draws), MB_ENOMEM. */
int conc_chance(struct conc_result *r, const struct conc_params *params, struct mb_error *err);

/* The same draws before conc_compute, from what they depend on alone: the
 * universe's size n, its crimes (a whole number: the draws' C) and params
 * (draws, seed, Lorenz points). *out is a result holding only the draw figures
 * (conc_result_free); conc_chance_take then puts them into the result r of
 * conc_compute(counts of n streets adding up to crimes, params with
 * defer_chance), giving it the figures conc_chance would, to the bit.
 * MB_EUSAGE (negative or fractional crimes, more than the model draws, or a
 * result of other streets or crimes), MB_ENOMEM. */
int conc_chance_alone(size_t n, double crimes, const struct conc_params *params,
		      struct conc_result **out, struct mb_error *err);
int conc_chance_take(struct conc_result *r, const struct conc_result *draws,
		     struct mb_error *err);

/* Free a result from conc_compute() and everything it holds; NULL is allowed. */
void conc_result_free(struct conc_result *r);

/*
 * Rank the top pct percent of counts[0..n): *idx receives conc_top_count(n,
 * pct) street indices ordered by count descending, then index ascending (the
 * deterministic tie rule), and *n_top their number. Zero-count streets are
 * included when fewer streets are active. The caller frees *idx with free()
 * (it is NULL when *n_top is 0). Returns 0, or a negative MB_E* code with err
 * filled (pct outside 1..100, bad count, out of memory).
 */
int conc_rank_top(const double *counts, size_t n, int pct, size_t **idx,
		  size_t *n_top, struct mb_error *err);

/*
 * The power-few list with its ties (docs/methods-concentration.md §5b): the
 * top conc_top_count(n, pct) streets in conc_rank_top's order with zero
 * counts left out (*n_nominal of them), then every other street whose count
 * equals the last of those (index ascending): *idx holds *n_list >=
 * *n_nominal indices. The caller frees *idx (NULL when *n_list is 0).
 * Returns 0, or a negative MB_E* code as conc_rank_top.
 */
int conc_hot_list(const double *counts, size_t n, int pct, size_t **idx, size_t *n_list,
		  size_t *n_nominal, struct mb_error *err);

/*
 * Analytic Poisson approximation of the share of crime held by the top
 * fraction q (0..1) of streets when counts are iid Poisson(lambda): the upper
 * tail mass of the distribution at fraction q (see the methods doc).
 * NaN when lambda <= 0 or q outside [0, 1].
 */
double conc_poisson_top_share(double lambda, double q);

/*
 * Analytic expected Gini G of n iid Poisson(lambda) counts:
 * (n − 1)/n · Σ_k F(k)(1 − F(k)) / lambda. NaN when lambda <= 0 or n = 0.
 */
double conc_poisson_gini(double lambda, size_t n);

#endif
