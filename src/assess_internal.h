/*
 * assess_internal — what the files of 'microbeat assess' share and nobody
 * else sees: the run being built (its steps and period), the table accessors
 * the report sections read the steps' CSV with, and the section writers.
 * cmd_assess.c plans and runs the steps; assess_report.c writes the report's
 * sections; assess_appendix.c the publication table, the data-quality ledger,
 * the methods appendix and the layer's GeoJSON.
 */
#ifndef MICROBEAT_ASSESS_INTERNAL_H
#define MICROBEAT_ASSESS_INTERNAL_H

#include <stdio.h>

#include "microbeat/assess.h"
#include "microbeat/context.h"
#include "microbeat/csvtab.h"

/* A growing argv of owned strings. */
struct argvb {
	char **v;      /* the strings, NULL-terminated */
	size_t n, cap; /* used and allocated (cap counts the NULL) */
};

/* One analysis run for the pack. */
struct step {
	const char *cmd;  /* command name (static) */
	char name[128];   /* folder under charts/ and prefix of its tables ("" = no --out) */
	char title[200];  /* shown on the terminal */
	struct argvb av;  /* its argv */
	int state;        /* 1 ran, 0 not in this build, -1 failed */
	char *md;         /* its standard output (Markdown or CSV), owned */
	size_t mdlen;     /* bytes in md */
	char why[600];    /* why it failed */
	int no_out;       /* writes no folder (its standard output is the result) */
	size_t agency;    /* 0: police data; k: the k-th partner source (R->agencies[k - 1]) */
};

/* A partner (agency) source of the store. */
struct as_agency {
	char *name;   /* source name (owned) */
	int by_layer; /* its events mostly lack an LSOA (coordinates only): selected by
		       * the layer's units (point in polygon), not the area's LSOAs */
};

/* The assessment being built. */
struct run {
	struct cli *c;                   /* global context */
	const struct assess_config *cfg; /* the assessment */
	char *tmp;                       /* the pack being written */
	char cur_from[16], cur_to[16];     /* the assessment period (12 months) */
	char win_from[16], win_to[16];     /* the 24 months that end with it (change) */
	char label[64];                  /* the period in words */
	struct step *steps;              /* steps planned so far */
	size_t nsteps, cap;              /* used and allocated */
	size_t done;                     /* steps already run */
	int defaults_used;               /* no --config */
	int charts;                      /* --charts: PLOT_BOTH, or PLOT_SVG alone (report.html
					    inlines SVG, so PNG alone is refused) */
	struct as_agency *agencies;      /* partner (agency) sources in the store, sorted, owned */
	size_t nagencies;                /* how many */
	char *partner_only;              /* categories only partners record, comma list, or NULL */
};

/* The out-of-memory error of a function with a struct mb_error *err. */
#define NOMEM(R) mb_err(err, MB_ENOMEM, "out of memory")

/* ---- cmd_assess.c: steps, lists, tables ---------------------------------- */

/* Keep only [A-Za-z0-9-] of s (lower case) for a folder name. */
void as_slug(const char *s, char *out, size_t cap);

/* Does the comma list have the item name (len bytes)? 1 yes, 0 no. */
int as_in_list(const char *list, const char *name, size_t len);

/* Call fn(u, item) for every item of the comma list (trimmed, non-empty);
 * stops at and returns the first non-zero result. */
int as_each_item(const char *list, int (*fn)(void *, const char *), void *u);

/* The name of the concentration step of category series of partner
 * source agency (0 = police data): conc-SLUG, or conc-aK-SLUG. */
void as_conc_name(size_t agency, const char *series, char *out, size_t cap);

/* The step called name that ran, or NULL. */
struct step *as_find_step(const struct run *R, const char *name);

/* The step called name whatever its state, or NULL. */
struct step *as_step_named(const struct run *R, const char *name);

/* Read the pack's tables/NAME into t (0 ok; -1 absent or unreadable, t
 * empty: the section says so). The caller releases t. */
int as_read_table(const struct run *R, const char *name, struct csvtab *t);

/* Field col of row r of t ("" when absent; lent, valid while t lives). */
const char *as_fld(const struct csvtab *t, size_t r, const char *col);

/* The value of measure name in a measure,value table ("" when absent). */
const char *as_measure(const struct csvtab *t, const char *name);

/* Row of t whose column col equals v, or -1. */
long as_row_of(const struct csvtab *t, const char *col, const char *v);

/* The number s, or NAN when empty or not a number. */
double as_num(const char *s);

/* Write the n bytes at p into dir/name atomically (MB_EIO on failure). */
int as_save(const char *dir, const char *name, const char *p, size_t n, struct mb_error *err);

/* ---- assess_report.c: Markdown pieces and the report ----------------------- */

/* Untrusted text (names from the data) as Markdown. */
void as_md(FILE *o, const char *s);

/* The first clause of a verdict (up to the first "; ") into out. */
void as_first_clause(const char *s, char *out, size_t cap);

/* "LAST vs PREV (+P%)": the percentage only when both counts reach the
 * configured minimum. */
void as_change_md(FILE *o, const struct run *R, const char *last, const char *prev);

/* The verdict's first clause as it is printed beside as_change_md's counts:
 * when those print no percentage, nor does the clause (its estimate and
 * interval are left out, its headline and test kept). */
void as_verdict_clause(const struct run *R, const char *verdict, const char *last,
		       const char *prev, char *out, size_t cap);

/* The long-run trend's test in a verdict, without its estimate and interval
 * ("; the long-run trend is SIG (p X)"), or "" when it has none. */
void as_long_run_test(const char *verdict, char *out, size_t cap);

/* A share (0..1) as "12.3%", or "–" when not a number. */
void as_pct(FILE *o, const char *share);

/* Embed step s's Markdown output, its headings pushed under the section
 * and its charts pointed at charts/STEP/NAME.svg. */
void as_embed(FILE *o, const struct step *s);

/* ![alt](charts/STEP/FILE) when that chart exists. */
void as_chart(FILE *o, const struct run *R, const struct step *s, const char *file,
	      const char *alt);

/* Why a step's section is empty (s NULL: not planned, what says why). */
void as_missing(FILE *o, const struct step *s, const char *cmd, const char *what);

/* ---- assess_sections.c: one section per analysis ------------------------------ */

/* The sections of the analyses (micro-beats, trends, places, deep dives,
 * hot spots, partner overlay); hot = the power few, fm = the flags matrix
 * (either may be empty). */
void as_sections(FILE *o, struct run *R, const struct csvtab *hot, const struct csvtab *fm);

/* Write report.md and report.html into the pack from the steps' tables and
 * output. 0, or MB_ENOMEM / MB_EIO (the pack is then abandoned). */
int as_write_report(struct run *R, struct mb_error *err);

/* ---- assess_appendix.c: publication, ledger, methods, maps ---------------- */

/* The disclosure-controlled publication table (tables/publication_counts.csv
 * and its section). 0, or a negative MB_E* code. */
int as_publication(FILE *o, struct run *R, const struct csvtab *fm, struct mb_error *err);

/* The data-quality ledger section (the store is read, read-only). */
void as_ledger(FILE *o, struct run *R, const struct csvtab *conc);

/* The methods appendix, from the definitions this pack used. */
void as_methods(FILE *o, struct run *R);

/* The one "generated" line: SOURCE_DATE_EPOCH when set. */
void as_generated(FILE *o, const struct run *R);

/* LAYER_priorities.geojson for QGIS: 0 written (why = its name), 1 not
 * written (why = the reason), or a negative MB_E* code. */
int as_layer_geojson(struct run *R, const struct csvtab *prio, char *why, size_t cap,
		     struct mb_error *err);

#endif
