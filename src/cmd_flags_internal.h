/* cmd_flags_internal.h — what cmd_flags.c and flags_charts.c share: one run
 * of 'microbeat flags'. */
#ifndef MICROBEAT_CMD_FLAGS_INTERNAL_H
#define MICROBEAT_CMD_FLAGS_INTERNAL_H

#include "microbeat/areas.h"
#include "microbeat/flags.h"
#include "microbeat/select.h"
#include "microbeat/slice.h"

/* Everything one run holds. */
struct flags_run {
	struct selection sel;     /* period, area, layer, categories */
	int hot_min;              /* crimes a top-3% street needs to count as hot (--hot-min) */
	struct flags_params par;  /* test settings */
	struct slice sl;          /* events of the span */
	struct area_units au;     /* the layer's units */
	struct area_extra ex;     /* events placed by LSOA or unit code */
	uint32_t *ue;             /* unit of each slice event (0 = none) */
	int32_t span_from;        /* first month loaded */
	size_t nmonth;            /* months loaded (span_from .. to) */
	size_t *unit_of;          /* analysis index -> dense unit index */
	size_t nunit;             /* analysis units (in scope) */
	long *aidx;               /* dense unit -> analysis index (-1 = out of scope) */
	uint32_t *cat_of;         /* analysis index -> category id */
	size_t ncat;              /* analysis categories */
	long *cidx;               /* category id -> analysis index (-1 = not analysed) */
	double *count;            /* flags_input.count */
	double *pop;              /* per analysis unit, or NULL */
	double *streets;          /* per analysis unit */
	unsigned *hot;            /* per analysis unit x category */
	unsigned *hot_total;      /* per analysis category: the district's top-3% streets */
	char *opp_list;           /* --opportunity: comma-separated opportunity categories */
	unsigned char *opp;       /* per analysis category: 1 = opportunity crime */
	double *exposure;         /* per analysis unit (--exposure), or NULL */
	double *harm;             /* per analysis category */
	long unassigned;          /* located events of the area in no unit */
	uint8_t *named;           /* per dense unit: named by --area (reported), or NULL when
				     every unit is reported (docs/methods-flags.md §2) */
	size_t nnamed;            /* units named by --area */
	struct flags_result *res; /* the flags */
};

/* Is analysis unit k reported (named by --area, or every unit without names)? */
static inline int reported(const struct flags_run *fr, size_t k)
{
	return !fr->named || fr->named[fr->unit_of[k]];
}


/* The heat map (the top units in rank order x categories, shrunk rate
 * ratios) and, with populations, the funnel plot of all analysed categories
 * together with over-dispersion-adjusted limits, into dir. */
int flags_write_charts(const struct flags_run *fr, const char *dir, struct mb_error *err);

#endif
