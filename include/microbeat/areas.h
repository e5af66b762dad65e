/*
 * areas — area layers in the store (parishes, wards, beats ...): their units,
 * populations, and the assignment of snap points and events to units.
 *
 * A layer is loaded from boundaries (GeoJSON polygons: every snap point with
 * coordinates is placed by point in polygon and the answer stored in
 * location_unit, NULL unit = in no unit), from an LSOA lookup (lsoa_unit: a
 * snap point belongs to the unit its LSOA code maps to, the unit of largest
 * weight when an LSOA is split), or both (boundaries first; the lookup places
 * events that carry an LSOA code but no coordinates). Agency rows located by a
 * unit code are in event_unit. Methods: docs/methods-flags.md.
 *
 * Every function returns 0 or a negative MB_E* code with err filled.
 */
#ifndef MICROBEAT_AREAS_H
#define MICROBEAT_AREAS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "microbeat/common.h"

struct store;
struct slice;
struct geo_layer;

/* One unit to load; strings are the caller's. */
struct areas_unit {
	const char *code;   /* unit code (unique within the layer) */
	const char *name;   /* unit name (NULL: the code) */
	double population;  /* residents; NaN = unknown */
};

/* One LSOA -> unit row of a lookup; strings are the caller's. */
struct areas_lookup {
	const char *lsoa;   /* LSOA code (2011 or 2021 vintage) */
	const char *unit;   /* unit code, one of the layer's units */
	double weight;      /* share of the LSOA in the unit (1 when not split) */
	long line, col;     /* where the code is in the lookup file (messages; 0 = none) */
};

/* Populations accepted (residents of a unit): a census unit holds at least one
 * resident and none holds 10^8; an unknown population is left out, not 0. */
#define AREAS_POP_MIN 1.0
#define AREAS_POP_MAX 1e8

/* What to load into a layer. */
struct areas_spec {
	const char *layer;            /* layer name */
	const struct areas_unit *units; /* the units */
	size_t nunits;                /* entries of units (>= 1) */
	struct geo_layer *geo;        /* boundaries (units[i] is feature i), or NULL */
	const char *geo_path;         /* file of geo (kept to place later imports) */
	const char *geo_code_field;   /* its code property */
	double tolerance_m;           /* > 0: a point outside every polygon goes to the
					 nearest unit within this many metres */
	const struct areas_lookup *lookup; /* LSOA lookup rows, or NULL */
	size_t nlookup;               /* entries of lookup */
};

/* What loading did. */
struct areas_stats {
	long units;             /* units in the layer */
	long units_kept;        /* of them, codes the layer had before (ids kept) */
	long units_dropped;     /* units of the old layer no longer present */
	long units_with_pop;    /* units with a population */
	double population;      /* total population of those */
	long locations;         /* snap points with coordinates examined */
	long located;           /* of them, placed in a unit */
	long lookup_rows;       /* LSOA lookup rows stored */
	long lookup_lsoa_known; /* distinct lookup LSOA codes the store has seen */
	long events_assigned;   /* located events now in a unit */
	long events_unassigned; /* located events in no unit */
};

/* Create or replace layer spec->layer in one transaction: units are matched
 * by code (a kept code keeps its unit id, so agency rows coded to it stay
 * assigned), then every snap point with coordinates is placed (boundaries)
 * and the lookup stored. MB_EUSAGE when a lookup row names a unit that is not
 * in units or a code repeats. */
int store_areas_load(struct store *s, const struct areas_spec *spec, struct areas_stats *st,
		     struct mb_error *err);

/* Place every snap point with coordinates that has no assignment yet in each
 * boundary layer (points created by imports after the layer was loaded),
 * reloading each layer's GeoJSON file only when something is pending. Runs in
 * its own transaction when none is open, else inside the caller's. *placed
 * (may be NULL) receives the number of snap points examined. MB_EIO when a
 * layer's file can no longer be read (the points stay pending; callers may
 * treat this as a warning). */
int store_areas_refresh(struct store *s, long *placed, struct mb_error *err);

/* Print one line per layer to f: method, units, population, located events
 * in a unit / in no unit (and how many of those lie in LSOAs the layer
 * otherwise covers), snap points pending; one line saying so when no layer is loaded. */
int store_areas_info(struct store *s, FILE *f, struct mb_error *err);

/* The boundary file a layer was loaded from (for outlines on maps): layer
 * name, or NULL for the first boundary layer by name. *name_out and *path
 * (caller frees) and code_field (cap bytes) are filled; *path is NULL when
 * no such boundary layer is loaded (not an error). */
int store_layer_source(struct store *s, const char *layer, char **name_out, char **path,
		       char *code_field, size_t cap, struct mb_error *err);

/* The units of a layer, densely numbered 1..n-1 (0 = no unit). */
struct area_units {
	size_t n;            /* units + 1 */
	char **code;         /* code of each unit (entry 0 NULL) */
	char **name;         /* name of each unit */
	double *population;  /* population (NaN = unknown) */
	int has_population;  /* 1 when at least one unit has a population */
	int boundaries;      /* 1 when the layer has boundaries */
	uint8_t *in_scope;   /* 1 = the unit has a snap point or LSOA in the area */
	double *streets;     /* distinct streets of the area with a snap point in the unit */
	char *layer;         /* the layer name */
};

/* Events without coordinates that a layer still places: LSOA-coded rows (via
 * the lookup) and unit-coded agency rows (event_unit). */
struct area_extra {
	size_t n;            /* number of events */
	int16_t *month;      /* month of each (months since 2000-01) */
	uint16_t *category;  /* category id of each (slice numbering) */
	uint32_t *unit;      /* unit (dense index, >= 1) of each */
};

/* For the events of sl (loaded for the same area with store_slice_load),
 * fill *unit_of_event (sl->n entries, dense unit index, 0 = in no unit; all 0
 * for a slice without micro-beats, which holds no snap points), the
 * layer's units u, and extra (events of sl's period and selected categories
 * without coordinates that the layer places in an in-scope unit; area is the
 * slice's --area, resolved by the same selector as store_slice_load: units it
 * names are the scope, else the units with a snap point or LSOA in the
 * authority, else every unit with one). MB_ENOTFOUND when the layer is not loaded.
 * Free with area_units_release / area_extra_release / free(). */
int store_slice_units(struct store *s, const char *layer, const char *area,
		      const struct slice *sl, uint32_t **unit_of_event, struct area_units *u,
		      struct area_extra *extra, struct mb_error *err);

/* Free what u / x hold (NULL-safe, the structs may be reused). */
void area_units_release(struct area_units *u);
void area_extra_release(struct area_extra *x);

#endif
