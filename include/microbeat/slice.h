/*
 * slice — the events an analysis needs, as plain columnar arrays.
 *
 * store_slice_load() fills a struct slice for a period, an area and a set of
 * categories; analyses read it and never touch the store. Every array is
 * owned by the slice and freed by slice_release().
 */
#ifndef MICROBEAT_SLICE_H
#define MICROBEAT_SLICE_H

#include <stddef.h>
#include <stdint.h>

#include "microbeat/common.h"

struct store;

/* What to load. */
struct slice_query {
	int32_t from, to;        /* months since 2000-01, inclusive */
	const char *area;        /* LSOA-name prefix ("South Cambridgeshire"), unit name or code
				    of layer (below), or NULL for everything */
	const char *layer;       /* area layer for 'area' (NULL: LSOA-name prefix) */
	const char *const *types; /* category names to include (NULL: all but excluded) */
	size_t ntypes;           /* entries of types */
	const char *const *exclude; /* category names to exclude */
	size_t nexclude;         /* entries of exclude */
	int include_asb;         /* when types == NULL: keep "Anti-social behaviour" */
	const char *const *sources; /* --source: only these sources' events (NULL: see police_only) */
	size_t nsources;         /* entries of sources */
	int police_only;         /* without sources: only sources that import police.uk street
				    files (agency events enter with --source or --types) */
	int period_set;          /* period_from/period_to given (else from/to) */
	int32_t period_from, period_to; /* the analysis period: the per-source counts cover it */
	int extract;             /* also load the force-extract columns of struct slice (day,
				    minute, subgroup, da, hate) where the store holds them */
	int no_beats;            /* the analysis counts by type or unit, never by micro-beat:
				    skip the streets and the snap points' identities (nstreet
				    is 1, the street and location columns NULL, loc_beat,
				    loc_lon and loc_lat NULL, gazetteer_loaded 0), the
				    national gazetteer's 800k names unread */
	int no_source;           /* the analysis never reads sl->source: it is not loaded
				    (NULL; 4 bytes an event) */
	int keep_set;            /* store only the located events of keep_from..keep_to: the
				    others of from..to are listed as the distinct snap points
				    they fall on (struct slice's seen_*), which is all an
				    observed universe needs of them, so memory does not grow
				    with the months a store holds */
	int32_t keep_from, keep_to; /* the months kept as events (with keep_set) */
	int no_street_column;    /* sl->street is not stored (NULL): an event's micro-beat is
				    its snap point's, slice_event_beat (4 bytes an event) */
	int no_unit_column;      /* sl->unit is not stored (NULL) though a layer is given: the
				    analysis places events its own way (flags: store_slice_units) */
};

/* One micro-beat (street or place) known to the store. */
struct slice_street {
	const char *name;    /* normalised name (upper case) */
	const char *lsoa;    /* LSOA code, or "" (of the snap points' latest loaded month) */
	const char *lsoa_name; /* the names police.uk gave that LSOA code, "; "-joined, or "" */
	const char *area;    /* area code (gazetteer) or "" */
	int place;           /* 1 = a police.uk non-street snap point */
	int gazetteer;       /* 1 = listed in the loaded gazetteer */
	double lon, lat;     /* a representative point (NaN if none) */
	uint32_t snap;       /* place-kind micro-beat: its one snap point (location id), else 0 */
	uint32_t store_id;   /* the street table's id (for a place: of its name in its LSOA) */
};

/* A loaded slice. */
struct slice {
	/* events that matched (located in the area, in the period, of the types) */
	size_t n;              /* number of events */
	int16_t *month;        /* month of each event (months since 2000-01: 0..1199) */
	uint16_t *category;    /* category id of each event (store_slice_load refuses an id past 65,535) */
	uint32_t *street;      /* micro-beat id of each event (0 = unlocated): a snap point's
				  street of its latest loaded month in the scan, or its own
				  place entry (docs/methods-concentration.md §0) */
	uint32_t *location;    /* location (snap point) id of each event */
	uint32_t *source;      /* reporting source id of each event */
	/* dimensions, indexed by id (entry 0 unused) */
	size_t ncat;           /* categories + 1 */
	char **cat_name;       /* category names */
	double *cat_harm;      /* harm weight per category (NaN = none) */
	uint8_t *cat_selected; /* 1 = category passed the type filter */
	size_t nstreet;        /* micro-beats + 1: the store's streets, then one per place-kind
				  snap point seen in the scan (ids from nstreet_store) */
	size_t nstreet_store;  /* the store's streets + 1 */
	struct slice_street *streets; /* every micro-beat (street, or place snap point) */
	uint8_t *street_in_area; /* 1 = the street lies in the area (universe member) */
	size_t nloc;           /* locations + 1 */
	double *loc_lon, *loc_lat; /* snap point coordinates */
	uint32_t *loc_beat;    /* micro-beat id of each snap point (0 = none seen in the scan) */
	uint32_t *loc_street;  /* the store's street of each snap point's own row (its LSOA
				  code when the row was written): a frozen universe's keys */
	int32_t months_loaded; /* months of the scan an import covers (any source): what an
				  observed universe rests on */
	int32_t loaded_first, loaded_last; /* the first and last of them (-1 when none) */
	size_t nsource;        /* sources + 1 */
	char **source_name;    /* source names */
	/* located events of from..to outside the keep window (slice_query.keep_set), which
	   are not in the event columns: each snap point they fall on, once, in the order of
	   its first such event (the scan's order: event id) */
	size_t nseen;          /* number */
	uint32_t *seen_loc;    /* the snap point */
	uint32_t *seen_unit;   /* its unit of q->layer (NULL without a layer) */
	size_t *seen_pos;      /* events of the columns met before it: it comes between event
				  seen_pos - 1 and event seen_pos in the scan's order */
	/* unlocated events ("No location") of the period and types, from the
	   sources that report located events in the area: they belong to the
	   force, not to the area, and are reported beside the area's figures */
	size_t n_unloc;        /* number */
	int32_t *unloc_month;  /* month of each */
	uint32_t *unloc_category; /* category id of each */
	/* context */
	int64_t unlocated;     /* n_unloc, for convenience */
	int32_t months_min, months_max; /* months present in the store (any source) */
	int32_t month_from, month_to; /* the months the slice spans (the query's) */
	uint8_t *month_present; /* per month month_from..month_to: 1 = an import covers it
				   for the sources of the area (a missing month is a gap) */
	int gazetteer_loaded;  /* a gazetteer has been loaded */
	/* the area selection (docs/methods.md, "Area selection") */
	char scope_label[320]; /* what --area/--layer selected, in words */
	int scope_units;       /* 1 = units of the layer select (else an authority or all) */
	size_t nunit;          /* units of q->layer + 1 (0 without a layer; 0 = no unit) */
	char **unit_code;      /* per unit: code (owned) */
	char **unit_name;      /* per unit: name (owned) */
	uint8_t *unit_chosen;  /* per unit: selected by --area (every unit without one) */
	uint32_t *unit;        /* per event: its unit of q->layer, 0 none (NULL without a layer) */
	/* events without coordinates placed in the area by their LSOA or unit code
	   (agency rows): in the area's counts, on no micro-beat */
	size_t n_nc;           /* number */
	int32_t *nc_month;     /* month of each */
	uint32_t *nc_category; /* category id of each */
	uint32_t *nc_unit;     /* unit of q->layer of each (0 none) */
	uint32_t *nc_source;   /* source id of each */
	/* per source id x category id (entry src * ncat + cat), events of the analysis period
	   of the categories passing the filter */
	int64_t *src_placed;   /* placed in the area (coordinates, LSOA or unit code) */
	int64_t *src_unplaced; /* with no place the selector can test (no location; or no LSOA
				  for an authority; or neither coordinates a layer's boundaries
				  place nor an LSOA its lookup maps) */
	uint8_t *src_police;   /* 1 = the source imports police.uk street files */
	uint8_t *src_on;       /* 1 = the source passed the source filter */
	/* force-extract fields of each located event (sl->n entries), loaded when
	   the query asks (slice_query.extract) and the store holds any; NULL
	   otherwise (police.uk data gives the month only) */
	int32_t *day;          /* day of each event: days since 2000-01-01, -1 unknown */
	int16_t *minute;       /* minute of the day 0..1439, -1 unknown */
	uint32_t *subgroup;    /* Home Office offence subgroup id, 0 unknown */
	int8_t *da;            /* domestic-abuse flag: 1 flagged, 0 not, -1 unknown */
	uint32_t *hate;        /* hate-crime strand id, 0 none or unknown */
	size_t nsubgroup;      /* subgroups + 1 */
	char **subgroup_name;  /* subgroup name by id (entry 0 unused; owned array) */
	size_t nhate;          /* hate strands + 1 */
	char **hate_name;      /* hate strand name by id (entry 0 unused; owned array) */
	char *strings;         /* storage of every string above */
	size_t strings_used, strings_cap; /* bytes used / capacity */
};

/* The micro-beat of event i of sl: its street column, or without one
 * (slice_query.no_street_column) its snap point's. */
static inline uint32_t slice_event_beat(const struct slice *sl, size_t i)
{
	return sl->street ? sl->street[i] : sl->loc_beat[sl->location[i]];
}

/* Load the slice for q into *sl (zeroed by the caller). On failure err says
 * why (MB_ENOTFOUND when the area or a type matches nothing). */
int store_slice_load(struct store *s, const struct slice_query *q, struct slice *sl,
		     struct mb_error *err);

/* The LSOA name of every street of sl (*names has sl->nstreet entries, NULL
 * where unknown). Free with store_lsoa_names_free(). */
int store_lsoa_names(struct store *s, const struct slice *sl, char ***names, struct mb_error *err);
void store_lsoa_names_free(const struct slice *sl, char **names);

/* How many LSOAs of sl's area streets had names in different MSOAs (renumbered
 * between census vintages: E01018221 "South Cambridgeshire 005A" in 2011,
 * "022A" in 2021) -- *count, with one example "CODE: 'a', 'b'" in example
 * (cap bytes). A key built from the MSOA of an LSOA name would mix vintages. */
int store_lsoa_renumbered(struct store *s, const struct slice *sl, size_t *count, char *example,
			  size_t cap, struct mb_error *err);

/* The unit of each snap point in area layer `layer` (loaded by 'microbeat
 * areas'): *unit_of_loc has sl->nloc entries (0 = in no unit), by boundaries
 * (location_unit) or by the LSOA lookup (lsoa_unit, the unit of largest
 * weight); *unit_code has *nunit entries by unit id (owned strings). Also
 * *unit_by_code maps a unit code to its id for gazetteer area codes.
 * MB_ENOTFOUND when the layer is not loaded. Free with store_units_free(). */
int store_location_units(struct store *s, const char *layer, const struct slice *sl,
			 uint32_t **unit_of_loc, char ***unit_code, size_t *nunit,
			 struct mb_error *err);
void store_units_free(uint32_t *unit_of_loc, char **unit_code, size_t nunit);

/* Free everything a slice holds; the struct may be reused after. */
void slice_release(struct slice *sl);

/* Free the per-event columns of the located events (month, category, street,
 * location, source, unit and the force-extract ones) when an analysis is done
 * with them: sl->n becomes 0; the dimensions and the other lists stay. */
void slice_release_events(struct slice *sl);

#endif
