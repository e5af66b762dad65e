/*
 * areas_internal.h — what 'microbeat areas' (cmd_areas.c) shares with its
 * readers of the lookup and population files (areas_read.c): the options of
 * one run and the work a load builds. Private to those two files.
 */
#ifndef MICROBEAT_AREAS_INTERNAL_H
#define MICROBEAT_AREAS_INTERNAL_H

#include <stddef.h>
#include <stdio.h>

#include "microbeat/areas.h"
#include "microbeat/common.h"
#include "microbeat/csvtab.h"

/* Options of one 'areas' run. */
struct areas_opts {
	const char *layer;       /* --layer */
	const char *boundaries;  /* --boundaries FILE */
	const char *code_field;  /* --code-field */
	const char *name_field;  /* --name-field */
	const char *lookup;      /* --lookup FILE */
	const char *lsoa_field;  /* --lsoa-field (comma-separated list allowed) */
	const char *unit_field;  /* --unit-field */
	const char *weight_field; /* --weight-field */
	const char *population;  /* --population FILE */
	const char *pop_code;    /* --pop-code-field */
	const char *pop_field;   /* --pop-field */
	double tolerance;        /* --tolerance METRES */
};

/* Everything a load builds, freed at the end. */
struct areas_work {
	struct geo_layer *geo;        /* boundaries */
	struct csvtab lk;             /* lookup file */
	struct csvtab pop;            /* population file */
	struct areas_unit *units;     /* units */
	size_t nunits, ucap;          /* used / allocated */
	struct areas_lookup *rows;    /* lookup rows */
	size_t nrows, rcap;           /* used / allocated */
};

/* Append unit (code, name; both w's or the caller's, kept by pointer) with an
 * unknown population to w->units; 0, or MB_ENOMEM. */
int areas_unit_add(struct areas_work *w, const char *code, const char *name, struct mb_error *err);

/* Read o->lookup into w->lk and w->rows: a row for every LSOA column given
 * (--lsoa-field) or found, the units from it too when w has no boundaries.
 * Rows without a unit code are skipped with a note on msg; a bad LSOA code,
 * weight or unit name, no LSOA row at all, or (without weights) an LSOA
 * mapped to two units is MB_EDATA naming file:line:col; a missing column
 * MB_EUSAGE. */
int areas_read_lookup(const struct areas_opts *o, struct areas_work *w, FILE *msg,
		      struct mb_error *err);

/* Read o->population into w->pop and set the population of w's units from it;
 * codes that are no unit of the layer and units left without a population are
 * counted on msg. A blank code, a population that is not a number or lies
 * outside AREAS_POP_MIN..AREAS_POP_MAX, or a code given twice is MB_EDATA naming
 * file:line:col; a missing column MB_EUSAGE. */
int areas_read_population(const struct areas_opts *o, struct areas_work *w, FILE *msg,
			  struct mb_error *err);

#endif
