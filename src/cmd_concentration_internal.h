/* cmd_concentration_internal.h — what cmd_concentration.c and conc_report.c
 * share: one run of 'microbeat concentration'. */
#ifndef MICROBEAT_CMD_CONCENTRATION_INTERNAL_H
#define MICROBEAT_CMD_CONCENTRATION_INTERNAL_H

#include <stdio.h>

#include "microbeat/beats.h"
#include "microbeat/conc.h"
#include "microbeat/report.h"
#include "microbeat/select.h"
#include "microbeat/slice.h"
#include "microbeat/universe.h"

#define SHOWN_HOT 40 /* power-few rows printed on the console (all are in hot_streets.csv) */
#define HOT_HEAD 7   /* hot_streets.csv: columns before the layers' (build_hot's head[]) */

/* Everything the command computes, for the writers. */
struct conc_run {
	struct selection sel;     /* period, area, types */
	struct slice sl;          /* the events */
	int kind;                 /* 0 all, 1 street, 2 place */
	int harm;                 /* --harm given */
	int compare;              /* --compare-previous */
	int top_pct;              /* --top P (default 3) */
	int charts;               /* draw charts */
	uint8_t *selected;        /* per category: counted */
	double *weight;           /* per category: harm weight (NaN = none) */
	struct beats b;           /* the universe and its counts (n, ustreet, ev_u, count...) */
	const char *street_unit;  /* --street-unit LAYER, or NULL (key on the LSOA code) */
	char **unit_code;         /* unit id -> code (--street-unit), owned */
	size_t nunit;             /* entries of unit_code */
	uint32_t *unit_of_loc;    /* snap point -> unit id (--street-unit), owned */
	struct conc_result *res;  /* crime counts */
	struct conc_result *hres; /* harm-weighted, or NULL */
	int gazetteer;            /* universe from the gazetteer */
	int draws;                /* chance draws used */
	size_t *top;              /* the listed rows (universe indexes): the power few, the
				     streets tied with the n-th, then (--compare-previous) the
				     former hot streets */
	size_t ntop;              /* rows listed */
	size_t nn;                /* the power few proper: n = ceil(pN/100) less zero counts */
	size_t nhot;              /* nn plus the streets tied with the n-th beyond it */
	uint8_t *tie;             /* per row: 1 = tied with the n-th at the cut-off */
	uint32_t *busiest_loc;    /* per row: busiest snap point (any snap point of the
				     micro-beat when it had no crime in the period) */
	char **dominant;          /* per row: dominant types (owned) */
	char **label;             /* per row: where it is ("Petrol station, near X"), owned */
	uint32_t *near;           /* per row of a place: nearest street micro-beat in its LSOA */
	struct universe uni;      /* the frozen observed universe, when one is in force */
	uint8_t *member;          /* per micro-beat: in the frozen universe (NULL: none frozen) */
	int32_t umonths;          /* months the observed universe rests on */
	int32_t ufrom, uto;       /* their first and last month */
	struct loc_layers ll;     /* every loaded area layer, for naming the rows */
	const char *by;           /* --by LAYER: the headline figures per unit, or NULL */
};

struct table;

/* Print the headline and the tables m (measures) and h (the power few) on
 * out in format: CSV the measures only; Markdown with plain words
 * (md_measures, md_hot); console tables with the head of the list. */
int conc_print_report(const struct conc_run *cr, const struct table *m, const struct table *h,
		      enum report_format format, FILE *out, struct mb_error *err);

#endif
