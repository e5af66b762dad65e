/*
 * deepdive — the pure computations of 'microbeat deepdive' (docs/methods-deepdive.md):
 * exact tests, location quotients against the rest of the district, changes
 * with their shares of the total change, and the force-extract tallies (DA
 * flag x offence subgroup, hate strands, day-of-week x hour, harm by
 * subgroup). No store, no output: everything here is checked against hand
 * computations in tests/test_deepdive.c. The report sections that use them
 * are declared in src/deepdive_internal.h.
 */
#ifndef MICROBEAT_DEEPDIVE_H
#define MICROBEAT_DEEPDIVE_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "microbeat/common.h"

struct slice;

/* Fewer crimes than this (both sides together): shown, not tested. */
#define DD_MIN_TEST 10

/* Two-sided p of the exact binomial test of k successes in n trials against
 * probability p0, by the method of small p-values (the outcomes no more likely
 * than the one observed, relative tolerance 1e-7: scipy.stats.binomtest).
 * 1 when n = 0; NaN when p0 is outside [0, 1] or k > n. */
double dd_binom_p(unsigned long k, unsigned long n, double p0);

/* Two-sided p of Fisher's exact test of the 2x2 table [[a, b], [c, d]] (the
 * tables no more likely than the one observed, relative tolerance 1e-7:
 * scipy.stats.fisher_exact). 1 when a row or column is empty. */
double dd_fisher_p(unsigned long a, unsigned long b, unsigned long c, unsigned long d);

/* One crime type's location quotient. */
struct dd_lq {
	double a;        /* crimes of the type in the selection */
	double b;        /* crimes of the type in the rest of the district */
	double lq;       /* (a/A) / (b/B); NaN when b = 0 or A = 0; 0 when a = 0 */
	double expected; /* (a + b) A / (A + B): the selection's count if its share of
			    the type equalled its share of all crime */
	int tested;      /* 1 when a + b >= DD_MIN_TEST and both totals > 0 */
	double p;        /* exact binomial p of a ~ Bin(a + b, A / (A + B)); NaN untested */
	double q;        /* Benjamini-Hochberg q across the tested types; NaN untested */
	int significant; /* 1 when q <= the FDR level */
};

/* Location quotients of m types: a[i] crimes of type i in the selection, b[i]
 * in the rest of the district (A, B the sums), the conditional exact test of
 * each type's share and BH at level fdr across the tested ones into out[0..m).
 * MB_EUSAGE on a negative or non-whole count, MB_ENOMEM. */
int dd_lq_compute(const double *a, const double *b, size_t m, double fdr, struct dd_lq *out,
		  struct mb_error *err);

/* One component's change between two periods of equal length. */
struct dd_change {
	double later;    /* count in the later period */
	double earlier;  /* count in the earlier period */
	double delta;    /* later - earlier */
	double pct;      /* 100 (later / earlier - 1); NaN when earlier = 0 */
	double share;    /* delta / the sum of the deltas of all components; NaN when 0 */
	int tested;      /* 1 when later + earlier >= DD_MIN_TEST */
	double p;        /* exact conditional test later ~ Bin(later + earlier, 1/2); NaN untested */
	double q;        /* BH q across the tested components; NaN untested */
	int significant; /* q <= fdr */
};

/* Changes of m components (later[i], earlier[i]), shares of the total change
 * (the sum over components) and BH at level fdr across the tested ones.
 * MB_EUSAGE on a bad count, MB_ENOMEM. */
int dd_change_compute(const double *later, const double *earlier, size_t m, double fdr,
		      struct dd_change *out, struct mb_error *err);

/* Day of the week of a day number (days since 2000-01-01): 0 Monday .. 6 Sunday. */
int dd_weekday(int32_t day);

/* DA index of an event's flag: 0 not flagged, 1 flagged, 2 unknown. */
#define DD_DA_CLASSES 3

/* The force-extract tallies of a slice's selected events in two periods. */
struct dd_extract {
	int has_subgroup;   /* the slice has a subgroup column with a known value */
	int has_da;         /* ... a DA column with a known value */
	int has_hate;       /* ... a hate column (any strand id, or all 0 with the column) */
	int has_time;       /* ... a minute column with a known value (and days) */
	size_t nsub;        /* subgroups + 1 (entry 0: unknown subgroup) */
	double *cross_later;   /* DD_DA_CLASSES x nsub counts, later period (da * nsub + sub) */
	double *cross_earlier; /* the same, earlier period */
	size_t nhate;       /* strands + 1 (entry 0 unused: not hate) */
	double *hate_later;   /* per strand, later period */
	double *hate_earlier; /* per strand, earlier period */
	double heat[7 * 24]; /* later period: weekday (Monday first) x hour, events with a time */
	double timed;       /* later-period events with a day and a minute */
	double untimed;     /* later-period events without */
};

/* Tally the events of sl whose category is counted (on[category id], or
 * sl->cat_selected when on is NULL) and whose month lies in
 * [later_from, later_to] or [earlier_from, earlier_to], by the extract columns.
 * Columns the slice lacks (NULL) leave their has_ flag 0. Free with
 * dd_extract_release(). MB_ENOMEM. */
int dd_extract_count(const struct slice *sl, const uint8_t *on, int32_t later_from, int32_t later_to,
		     int32_t earlier_from, int32_t earlier_to, struct dd_extract *out,
		     struct mb_error *err);
void dd_extract_release(struct dd_extract *x);

/* Harm-weighted tallies by offence subgroup (docs/methods-deepdive.md §7). */
struct dd_harm {
	size_t nsub;            /* subgroups + 1 (entry 0: unknown subgroup) */
	double *crimes_later;   /* per subgroup: counted events of the later period */
	double *crimes_earlier; /* the same, earlier period */
	double *harm_later;     /* per subgroup: the sum of the events' weights, later period */
	double *harm_earlier;   /* the same, earlier period */
	double type_later;      /* later period: the same events weighted by their type instead */
	double type_earlier;    /* the same, earlier period */
	double weighted_later;  /* later-period events with a weight (either level) */
	double weighted_earlier; /* the same, earlier period */
	double fallback;        /* events of both periods weighted by their type (no subgroup weight) */
	double unweighted;      /* events of both periods with no weight at all (left out of harm) */
};

/* Harm-weight the counted events of sl (on[category id], or sl->cat_selected
 * when on is NULL) of [later_from, later_to] and [earlier_from, earlier_to]:
 * each by wsub[its subgroup] (sl->nsubgroup entries, NaN: no weight), else by
 * wcat[its category] (sl->ncat entries, NaN: none), else left out and counted
 * as unweighted. type_* weight the events that have a weight by wcat alone
 * (0 where a type has none). Free with dd_harm_release(). MB_ENOMEM. */
int dd_harm_count(const struct slice *sl, const uint8_t *on, int32_t later_from, int32_t later_to,
		  int32_t earlier_from, int32_t earlier_to, const double *wsub, const double *wcat,
		  struct dd_harm *out, struct mb_error *err);
void dd_harm_release(struct dd_harm *h);

#endif
