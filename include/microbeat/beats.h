/*
 * microbeat — micro-beats: the street universe of a selection and the crimes
 * on each street (docs/methods-concentration.md §§1-5). 'concentration'
 * builds its whole universe here (beats_count), describes its listed rows
 * (beats_describe, beats_label) and writes its measures (beats_measures);
 * 'deepdive' names its partner overlay's rows with beats_label; 'flags' numbers
 * the area's streets with beats_number for its per-category hot streets.
 */
#ifndef MICROBEAT_BEATS_H
#define MICROBEAT_BEATS_H

#include <stddef.h>
#include <stdint.h>

#include "microbeat/common.h"

struct conc_result;
struct slice;
struct table;

/* What the universe is built from: the choices of a concentration run. */
struct beats_spec {
	int kind;                    /* streets of: 0 all kinds, 1 streets only, 2 places only */
	int gazetteer;               /* 1: the area's gazetteer streets join the universe */
	const uint8_t *member;       /* per street id: in the frozen universe (NULL: none
					frozen, the observed universe: any event in any
					loaded month) */
	const uint8_t *selected;     /* per category id: counted */
	const double *weight;        /* per category id: harm weight, NaN = none (with harm) */
	int harm;                    /* 1: sum the harm weights into harmc */
	int32_t from, to;            /* the period; the previous one is as long, just before */
	const char *street_unit;     /* key a micro-beat on its name within a unit of this
					layer (survives LSOA code changes), or NULL: on the
					street id (LSOA-bound) */
	char **unit_code;            /* unit id -> code (street_unit), borrowed */
	size_t nunit;                /* entries of unit_code */
	const uint32_t *unit_of_loc; /* snap point -> unit id (street_unit), borrowed */
};

/* The universe and its counts (beats_count). */
struct beats {
	size_t n;                 /* universe size N */
	uint32_t *ustreet;        /* universe index -> street id (a representative one) */
	int32_t *uindex;          /* street id -> universe index, -1 = not in the universe
				     (street_unit: not filled) */
	int32_t *ev_u;            /* event -> universe index, -1 = not in the universe; NULL
				     without street_unit, where it is uindex[sl->street[i]]
				     (beats_event_u: 4 bytes an event not stored) */
	int32_t *loc_u;           /* snap point -> universe index (-1 = not in it), when an
				     event's micro-beat is its snap point's (no street_unit,
				     no street column): one lookup an event, not two; else NULL */
	int32_t *seen_u;          /* sl->seen_loc entry -> universe index, -1 = not in it */
	char **ucode;             /* universe index -> unit code (street_unit), borrowed from
				     the spec's unit_code; NULL otherwise */
	double *count;            /* per universe index: selected crimes of the period */
	double *prev;             /* per universe index: selected crimes of the previous period */
	double *harmc;            /* per universe index: harm of the period (spec harm) */
	int64_t unlocated;        /* selected crimes of the period with no location (force-wide) */
	int64_t crimes_outside;   /* selected located crimes of the period outside the universe */
	int64_t placed_no_street; /* selected events of the period placed without coordinates */
};

/* Number the streets of sl's area that keep marks (keep NULL: every street of
 * the area), in id order: pos[id] = dense index or -1 (pos[0] = -1), ids[k]
 * = the k-th street's id. pos and ids hold sl->nstreet entries. Returns the
 * number of streets numbered. */
size_t beats_number(const struct slice *sl, const uint8_t *keep, int32_t *pos, uint32_t *ids);

/* Build the universe of sp over sl into *b (zeroed by the caller) and count
 * each micro-beat's crimes: the period, the previous period, harm. Without
 * street_unit a micro-beat is a street id of the area seen with an event in
 * any loaded month of the slice (or in sp->member), plus with gazetteer the
 * area's gazetteer streets that are no place; with street_unit a micro-beat
 * is a (unit, normalised name) key, a place its own snap point. Streets of
 * the wrong kind are left out. MB_ENOMEM; release *b with beats_release
 * either way. */
int beats_count(const struct slice *sl, const struct beats_spec *sp, struct beats *b,
		struct mb_error *err);

/* The universe index of event i of sl (b built over sl), -1 = not in it;
 * without street_unit read through sl->loc_beat when sl->street is freed. */
int32_t beats_event_u(const struct beats *b, const struct slice *sl, size_t i);

/* Free what beats_count allocated and zero *b. */
void beats_release(struct beats *b);

/* For each of the ntop listed micro-beats top[k] (universe indexes of b): its
 * busiest snap point in the period (ties to the lower id; any of its snap
 * points when it had no crime then) into (*busiest)[k], and its two commonest
 * selected types with their shares of its count ("Burglary 50%; Robbery 25%")
 * into (*dominant)[k] (owned strings). Both arrays are allocated (ntop + 1
 * entries); the caller frees them, also on failure. MB_ENOMEM. */
int beats_describe(const struct slice *sl, const struct beats_spec *sp, const struct beats *b,
		   const size_t *top, size_t ntop, uint32_t **busiest, char ***dominant,
		   struct mb_error *err);

/* Where each of n micro-beats beat[k] of sl is, in words a map reader can
 * use (docs/methods-concentration.md §5b): a street's own name; a place's
 * kind and the nearest street micro-beat in its LSOA ("Petrol station, near
 * CAMBRIDGE ROAD": police.uk names a place only by its kind), searched from
 * the place's snap point, else from at_of[k] (at_of may be NULL); a place
 * with no usable point or no street snap point in its LSOA is its kind
 * alone. label[k] gets an owned string and, unless near is NULL, near[k]
 * that street (0: none); the arrays hold n entries, allocated by the caller.
 * MB_ENOMEM; the caller frees label's strings either way (the ones not made
 * are NULL). */
int beats_label(const struct slice *sl, const uint32_t *beat, const uint32_t *at_of, size_t n,
		char **label, uint32_t *near, struct mb_error *err);

/* What the measures table says besides the universe's counts. */
struct beats_summary {
	const struct beats *b;         /* the universe */
	const struct conc_result *res; /* concentration of the crime counts */
	const struct conc_result *hres; /* of the harm, or NULL */
	int months_total, months_used; /* months of the period, and of them loaded */
	int gazetteer;                 /* universe includes the gazetteer */
	int frozen;                    /* universe frozen */
	int32_t umonths;               /* loaded months the observed universe rests on */
	int32_t ufrom, uto;            /* their first and last (when umonths) */
	size_t nn;                     /* the power few proper */
	size_t nhot;                   /* nn plus the streets tied with the n-th */
};

/* The measures table of concentration.csv ("measure", "value"; titled
 * "Concentration") from m into t (initialised here; the caller releases it).
 * Blank values for non-finite figures. MB_ENOMEM. */
int beats_measures(const struct beats_summary *m, struct table *t, struct mb_error *err);

#endif
