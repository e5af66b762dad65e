/* trends_internal.h — what cmd_trends.c and trend_series.c share: the series
 * of one 'microbeat trends' run. */
#ifndef MICROBEAT_TRENDS_INTERNAL_H
#define MICROBEAT_TRENDS_INTERNAL_H

#include "microbeat/select.h"
#include "microbeat/slice.h"
#include "microbeat/trend.h"

#define MAX_SERIES 512

/* One series: a type, an area or the total. */
struct series {
	char *name;             /* label (owned) */
	double *count;          /* per month of the loaded span */
	double a, b;            /* last 12 months, the 12 before */
	struct trend_yoy yoy;   /* year on year */
	struct trend_poisson fit; /* log-linear trend */
	struct trend_mk mk;     /* Mann-Kendall */
	struct trend_cchart cc; /* control chart */
	double q;               /* BH-adjusted p of the year-on-year test */
	double contrib;         /* share of the total change */
	struct trend_qp_yoy qp; /* year on year under over-dispersion: what the verdict uses */
	struct trend_skendall sk; /* seasonal Kendall (when >= 2 full years) */
	struct trend_judged jy; /* the year-on-year test as judged (adjusted when in a family) */
	struct trend_judged jt; /* the long-run trend as judged */
	char family[96];        /* how it was tested, said in the verdict */
	int sensitive;          /* 1 when a recording-sensitive type (datasets/recording_sensitive.csv) */
	char verdict[1024];     /* plain words */
	int has_yoy, has_fit, has_mk, has_cc, has_sk; /* which figures exist */
};

/* One run of the command. */
struct trends_run {
	struct selection sel;   /* period, area, types */
	struct slice sl;        /* events */
	int by;                 /* 0 none, 1 type, 2 area, 3 units of a layer */
	const char *by_layer;   /* --by LAYER: the layer (by == 3) */
	int baseline;           /* c-chart baseline months */
	double fdr;             /* false discovery rate level */
	const char *primary;    /* --primary: the series tested alone, or NULL */
	long yoy_top;           /* --yoy-top: components drawn on the year-on-year chart (0 = all) */
	double *sens;           /* per span month: crimes of recording-sensitive types in the total */
	size_t nsens_types;     /* recording-sensitive types among the selected */
	size_t nfam;            /* components tested together (the year-on-year family) */
	size_t nuntested;       /* components not tested: too few crimes or months */
	char sens_names[256];   /* their names, for the verdict */
	int32_t span_from;      /* first month loaded (may precede --from for year on year) */
	int nspan;              /* months loaded */
	unsigned char *present; /* per month of the span */
	struct series *s;       /* series[0] = total, then components */
	size_t ns;              /* series count */
};

struct store;

/* Build the series of the run into tr->s (tr->ns of them: series 0 the
 * total, then one per type, MSOA-like area or unit of --by's layer, in name
 * order) and count the selected events of each per month of the span
 * (tr->span_from, tr->nspan months); events placed without coordinates count
 * in the total and in their type's or unit's series. s answers --by area's
 * LSOA names. MB_ENOTFOUND for a --types name not in the store, MB_EUSAGE for
 * more than MAX_SERIES series or LSOAs renumbered under --by area, MB_ENOMEM. */
int trends_build_series(struct trends_run *tr, struct store *s, struct mb_error *err);

#endif
