/*
 * hotspot — spatial hot spot statistics on micro-beats (pure maths, no I/O).
 *
 * Getis-Ord Gi* with a fixed distance band, Benjamini-Hochberg FDR and
 * classes; persistent / emerging / former hot spots over periods; a quartic
 * kernel density surface; the forecast accuracy of a hot list (PAI, PEI,
 * RRI); the Knox space-time test. Coordinates are metres on a plane
 * (hs_project). Every figure is defined in docs/methods-hotspots.md.
 *
 * Functions return 0 or a negative MB_E* code with err filled; input arrays
 * stay the caller's; out-parameters that are pointers become the caller's
 * (free()).
 */
#ifndef MICROBEAT_HOTSPOT_H
#define MICROBEAT_HOTSPOT_H

#include <stddef.h>
#include <stdint.h>

#include "microbeat/common.h"

/* Project WGS84 lon/lat (degrees) to metres on a local plane centred on
 * (lon0, lat0): x = (lon - lon0) * mx(lat), y = (lat - lat0) * my(mid
 * latitude), with mx, my the metres per degree of the WGS84 ellipsoid (the
 * series of geo.c). Distances up to a few km are within 0.2 % of the
 * ellipsoidal ones across Great Britain (docs/methods-hotspots.md §1).
 * Non-finite input gives NaN. */
void hs_project(double lon, double lat, double lon0, double lat0, double *x, double *y);

/* The inverse of hs_project (to within 1e-9 degree). */
void hs_unproject(double x, double y, double lon0, double lat0, double *lon, double *lat);

/* Distance from each of n points to its nearest other point (NaN points get
 * NaN, and a lone point INFINITY), by a uniform grid: *nn has n entries. */
int hs_nearest(size_t n, const double *x, const double *y, double **nn, struct mb_error *err);

/* Gi* class of a micro-beat. */
enum hs_class {
	HS_NONE = 0,     /* not significant */
	HS_HOT99, HS_HOT95, HS_HOT90,    /* hot at 99 / 95 / 90 % (BH-adjusted) */
	HS_COLD99, HS_COLD95, HS_COLD90, /* cold likewise */
	HS_ISOLATED,     /* no neighbour within the band: not classed */
	HS_UNTESTABLE    /* every micro-beat a neighbour, or all counts equal */
};

/* Name of a class ("hot 99%", "isolated" ...). */
const char *hs_class_name(int c);

/* Gi* results, one entry per point. */
struct hs_gi {
	size_t n;          /* points */
	double band;       /* the distance band used (metres) */
	double *z;         /* Gi* z-score (NaN when untestable) */
	double *p;         /* two-sided normal p */
	double *q;         /* Benjamini-Hochberg adjusted p over the testable points */
	int32_t *nb;       /* neighbours within the band, the point itself excluded */
	uint8_t *cls;      /* enum hs_class */
	size_t isolated;   /* points with no neighbour */
	size_t hot, cold;  /* points classed hot / cold at 90 % or more */
};

/* Getis-Ord Gi* (Ord & Getis 1995) of counts x at points (px, py), binary
 * weights within `band` metres (w_ii = 1), neighbours found by a grid of
 * band-sized cells (no all-pairs scan). Points with NaN coordinates count in
 * x-bar and S but are never neighbours (classed isolated). Fills *out
 * (release with hs_gi_release). MB_EUSAGE when band <= 0 or n < 2. */
int hs_gistar(size_t n, const double *px, const double *py, const double *x, double band,
	      struct hs_gi *out, struct mb_error *err);

/* Gi* of nper periods at once: x holds nper * n counts (period-major, the
 * counts of period p at x + p * n) and out nper results, each what
 * hs_gistar gives for its period (the same bits), the neighbours found once.
 * On failure every out[p] is released. */
int hs_gistar_periods(size_t n, const double *px, const double *py, const double *x,
		      size_t nper, double band, struct hs_gi *out, struct mb_error *err);

/* Free what g holds. */
void hs_gi_release(struct hs_gi *g);

/* Benjamini-Hochberg adjusted p-values of the n finite entries of p (NaN stay
 * NaN) into q (n entries, may not alias p). */
int hs_bh(size_t n, const double *p, double *q, struct mb_error *err);

/* Rule thresholds for hot spot classes across periods (sfhotspot's
 * hotspot_classify defaults; docs/methods-hotspots.md §2). */
struct hs_trend_rule {
	double critical_q;      /* a period is hot when Gi* > 0 and its BH q < this (0.05) */
	double hotspot_prop;    /* a pattern of any kind needs hot in >= this share of the
				   periods (of all, of the recent or of the older ones) (0.1) */
	double persistent_prop; /* persistent: hot in >= this share of all periods (0.8) */
	double recent_prop;     /* the last floor(this * periods) periods (at least 1, and
				   one older period left) are recent (0.2) */
};

/* Pattern of one micro-beat across periods. */
enum hs_pattern {
	HS_PAT_NONE = 0,     /* hot in < hotspot_prop of the periods */
	HS_PAT_PERSISTENT,   /* hot in >= persistent_prop of the periods */
	HS_PAT_EMERGING,     /* hot in >= hotspot_prop of the recent periods, < of the older */
	HS_PAT_FORMER,       /* hot in >= hotspot_prop of the older periods, < of the recent */
	HS_PAT_INTERMITTENT  /* hot in >= hotspot_prop of the periods, none of the above */
};

/* Name of a pattern ("persistent hot spot" ...). */
const char *hs_pattern_name(int p);

/* Classify one micro-beat from hot[0..nper-1] (1 = hot in that period, oldest
 * first): the first rule that holds of persistent, emerging, former,
 * intermittent (sfhotspot's hotspot_classify() order and documented
 * proportions; docs/methods-hotspots.md §3); emerging and former need an
 * older period (nper >= 2). */
int hs_pattern_of(const uint8_t *hot, size_t nper, const struct hs_trend_rule *rule);

/* Quartic kernel density on a grid: cell centres x0 + (i + 0.5) cell, y0 +
 * (j + 0.5) cell for i < nx, j < ny; value = sum_k w_k 3/(pi h^2) (1 -
 * d^2/h^2)^2 over points within h, per square metre. *dens has nx * ny
 * entries, row j then column i (dens[j * nx + i]). */
int hs_kde(size_t n, const double *px, const double *py, const double *w, double x0, double y0,
	   double cell, size_t nx, size_t ny, double h, double **dens, struct mb_error *err);

/* Forecast accuracy by k (ptools' pai()): units ordered by predicted count
 * per area, descending (ties: smaller observed first, the pessimistic
 * order); for k = 1..n the top k: PAI = (n_k/N) / (a_k/A), PEI = PAI / the
 * PAI of the best k units by observed density, RRI = cumulative predicted /
 * cumulative observed. Each output array has n entries (k = index + 1); order
 * (may be NULL) receives the units' order. */
struct hs_pai {
	size_t n;        /* units */
	size_t *order;   /* unit at rank k-1 */
	double *cum_obs; /* observed count in the top k */
	double *pai;     /* predictive accuracy index (NaN when N = 0) */
	double *pei;     /* predictive efficiency index */
	double *rri;     /* recapture rate index (NaN when the observed sum is 0) */
};

/* Compute the table above from obs, pred and area (NULL: 1 each). */
int hs_pai_compute(size_t n, const double *obs, const double *pred, const double *area,
		   struct hs_pai *out, struct mb_error *err);

/* Free what t holds. */
void hs_pai_release(struct hs_pai *t);

/* Knox test: counts of event pairs by distance band x time band. */
struct hs_knox {
	size_t nd, nt;     /* distance bands, time bands */
	double *obs;       /* nd * nt observed pair counts (row = distance band) */
	double *expected;  /* mean over the permutations */
	double *ratio;     /* obs / expected (Knox ratio; NaN when expected is 0) */
	double *p;         /* (#{sim >= obs} + 1) / (R + 1) */
	size_t pairs;      /* pairs within the largest distance band */
	int perms;         /* permutations R */
};

/* Knox (1964) with Monte Carlo inference (Johnson et al. 2007): bands are
 * [d_edges[b-1], d_edges[b]) with d_edges[-1] = 0 (so nd = count of d_edges,
 * ascending, metres), time bands likewise in days [t_edges[b-1], t_edges[b])
 * with t_edges[-1] = 0 (a pair's gap |day_i - day_j|). Events with NaN
 * coordinates or day < 0 are left out. The days are permuted R >= 99 times
 * (xorshift generator seeded with seed). Close pairs are found by a grid.
 * MB_EUSAGE when close pairs x R exceed 4 x 10^9 (a minute or more). */
int hs_knox_run(size_t n, const double *px, const double *py, const int32_t *day,
		const double *d_edges, size_t nd, const double *t_edges, size_t nt, int perms,
		uint64_t seed, struct hs_knox *out, struct mb_error *err);

/* Free what k holds. */
void hs_knox_release(struct hs_knox *k);

#endif
