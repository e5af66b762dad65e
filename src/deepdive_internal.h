/*
 * deepdive_internal.h — declarations shared by the files of 'microbeat deepdive'
 * and nobody else: the run's state (cmd_deepdive.c), the report helpers
 * (deepdive_report.c), the sections in their own files (deepdive_outcomes.c
 * §5, deepdive_change.c §6, deepdive_extract.c §7, deepdive_overlay.c §8 of
 * docs/methods-deepdive.md). The pure computations stay in
 * include/microbeat/deepdive.h.
 */
#ifndef MICROBEAT_DEEPDIVE_INTERNAL_H
#define MICROBEAT_DEEPDIVE_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "microbeat/common.h"
#include "microbeat/deepdive.h"
#include "microbeat/emit.h"
#include "microbeat/select.h"
#include "microbeat/slice.h"

struct store;
struct table;

#define TOP_PCT 3            /* the power few: the top 3% of micro-beats (as 'concentration') */
#define OVERLAY_METRES 100.0 /* default --overlay-metres */
#define OVERLAY_CHART_ROWS 25 /* rows the overlay chart draws at most (the table has all) */
#define RECENT_UNFINAL 3     /* outcome months treated as not final (censoring caution) */
#define EARTH_M 6371008.8    /* mean Earth radius (IUGG), metres */

/* Where a report section goes. */
struct dd_out {
	FILE *md;       /* the Markdown report being written */
	const char *dir; /* folder for CSV tables and charts, or NULL (none written) */
	int charts;     /* formats to draw charts in (plot.h PLOT_*; 0 = none; with dir) */
	double fdr;     /* FDR level of every family of tests */
	char where[560]; /* the place, the theme and the period (dd_chart_title) */
};

/* "12.3% (30 of 244)": a percentage with its counts ("n/a (0 crimes)" when den is 0). */
void dd_share_text(double num, double den, char *buf, size_t cap);

/* Save t as dir/file (when dir) and write it, captioned with its file, into the report. */
int dd_emit_table(const struct dd_out *d, struct table *t, const char *file, struct mb_error *err);

/* A change table of m components (label[i]: later[i] against earlier[i]) with
 * shares and BH-controlled exact tests (dd_change_compute) saved as file, and
 * one sentence on the largest part ("what" names the split). */
int dd_change_report(const struct dd_out *d, const char *title, const char *what, const char *file,
		     const char *const *label, const double *later, const double *earlier,
		     size_t m, struct mb_error *err);

/* The force-extract section: DA vs non-DA, DA x offence subgroup,
 * recording-sensitive against high-harm subgroups, hate strands, weekday x
 * hour, for the counted events (on) of sl in [from, to] against [pfrom, pto];
 * each part absent from the slice is said to be absent, and why. */
int dd_extract_report(const struct dd_out *d, const struct slice *sl, const uint8_t *on,
		      int32_t from, int32_t to, int32_t pfrom, int32_t pto, struct mb_error *err);

/* Percentage in words with its sign, e.g. "+21%", "-4%", "n/a" (NaN). */
void dd_pct_text(double pct, char *buf, size_t cap);


/* One run's state. */
struct dd_run {
	struct selection sel;   /* period, area, types */
	struct slice S;         /* the selection's events over the span */
	struct slice D;         /* the district's events over the span */
	struct slice O;         /* partner agencies' events of the period in the district */
	int has_overlay;        /* O loaded */
	int32_t span_from;      /* first month loaded */
	int32_t pfrom, pto;     /* the previous period (same length, just before) */
	double fdr;             /* FDR level of every family of tests */
	double metres;          /* --overlay-metres */
	int charts;             /* formats to draw charts in (--charts; 0 = --no-charts) */
	const char *dir;        /* output folder being written (NULL: none) */
	FILE *md;               /* the report being written */
	struct dd_out out;      /* the same, with the folder, for deepdive.c's sections */
	FILE *csv;              /* --format csv: the counts table for standard output, or NULL */
	uint8_t *on;            /* per category id: counted (the type selectors) */
	size_t ntype;           /* selected categories with events */
	uint32_t *type;         /* their category ids */
	char district[320];     /* what the district is, in words */
	char place[400];        /* the selection in words (S.scope_label, a space after each comma) */
};

/* The power few: micro-beat index lists of the period and the previous one. */
struct hot {
	size_t n;          /* micro-beats in the area */
	uint32_t *beat;    /* their ids */
	double *cur, *prev; /* counts */
	size_t *ic, nc;    /* power few of the period (indices into beat) */
	size_t *ip, np;    /* of the previous period */
	uint32_t *list;    /* the union, period first (beat ids) */
	size_t nlist;      /* its size */
};


/* Write text from outside escaped for Markdown. */
static inline int dd_put(struct dd_run *d, const char *s, struct mb_error *err)
{
	return emit_md_escape(s ? s : "", d->md, err);
}

/* 1 when month m lies in the period. */
static inline int dd_in_period(const struct dd_run *d, int32_t m)
{
	return m >= d->sel.from && m <= d->sel.to;
}

/* 1 when month m lies in the previous period. */
static inline int dd_in_prev(const struct dd_run *d, int32_t m)
{
	return m >= d->pfrom && m <= d->pto;
}

/* Counts per category of a slice's selected events in the period (which = 0)
 * or the previous period (which = 1). cnt has sl->ncat entries. */
void dd_count_types(const struct dd_run *d, const struct slice *sl, int which, double *cnt);

/* 1 when category c of sl is a police-recorded crime type (not Anti-social behaviour). */
int dd_crime_type(const struct slice *sl, uint32_t c);

/* A deep-dive chart's title into out: the place, the theme and the period
 * (o->where), then what it shows ("Cambourne (parish), violence-public-order,
 * FY 2025/26: crimes by subgroup and DA flag"), as the trends charts' titles
 * run: a chart pasted alone into a report still says where and when. */
void dd_chart_title(const struct dd_out *o, const char *what, char *out, size_t cap);

/* Paired bars (plots/deepdive_bars.gp) in dir as name.png: n rows of v1 (and v2
 * when given), a dashed reference line at refline (NaN: none). Labels go
 * through data files, never into the script. MB_EIO and the plot errors. */
int dd_draw_bars(const char *dir, const char *name, const char *title, const char *xlabel,
		 size_t n, const char *const *label, const double *v1, const char *leg1,
		 const double *v2, const char *leg2, double refline, struct mb_error *err);

/* The index of micro-beat b in h (h->n when absent). */
size_t dd_hot_index(const struct hot *h, uint32_t b);

/* Section 5 (deepdive_outcomes.c): last outcomes, the charge/summons rate and
 * its change, the censoring caution. Store errors, MB_ENOMEM, MB_EIO. */
int dd_sec_outcomes(struct dd_run *d, struct store *s, struct mb_error *err);

/* Section 6 (deepdive_change.c): the month-of-year profile. */
int dd_sec_season(struct dd_run *d, struct mb_error *err);

/* Section 6b (deepdive_change.c): change by type (with its harm weighting) and by unit. */
int dd_sec_contrib(struct dd_run *d, struct mb_error *err);

/* Section 8 (deepdive_overlay.c): partner agencies' events near the power-few
 * micro-beats h and per unit, when d->has_overlay. */
int dd_sec_overlay(struct dd_run *d, struct store *s, const struct hot *h, struct mb_error *err);

/* Load the partner agencies' events of the period over the district into d->O. */
int dd_load_overlay(struct dd_run *d, struct store *s, struct mb_error *err);

#endif
