/*
 * outcomes — the last outcome of each located crime of a span of months, read
 * for 'microbeat deepdive' (docs/methods-deepdive.md §5).
 */
#ifndef MICROBEAT_OUTCOMES_H
#define MICROBEAT_OUTCOMES_H

#include <stddef.h>
#include <stdint.h>

#include "microbeat/common.h"

struct store;

/* One row per located event of the span (store ids, as struct slice uses). */
struct outcome_rows {
	size_t n;               /* events */
	int32_t *month;         /* month of each event */
	uint32_t *category;     /* category id */
	uint32_t *location;     /* location (snap point) id */
	uint32_t *source;       /* source id */
	uint32_t *outcome;      /* last outcome id (0 = none recorded) */
	int32_t *outcome_month; /* month of the outcomes-file row that gave it; -1 when it
				   came from the street file's "Last outcome category" */
	size_t nout;            /* outcome ids + 1 */
	char **outcome_name;    /* name by id (entry 0 NULL; owned) */
};

/* Read every located event of months [from, to] with its last outcome: the
 * outcome of the latest month among the outcomes-file rows of its Crime ID
 * (the store's crime_outcome view), else the street file's last outcome,
 * else none. MB_EDB, MB_ENOMEM. Free with outcome_rows_release(). */
int store_outcomes_load(struct store *s, int32_t from, int32_t to, struct outcome_rows *o,
			struct mb_error *err);
void outcome_rows_release(struct outcome_rows *o);

/* Events without coordinates placed only by an LSOA code (agency rows), of months
 * [from, to]: month, source and LSOA code of each (the partner overlay matches
 * them to a micro-beat's LSOA). */
struct lsoa_events {
	size_t n;          /* events */
	int32_t *month;    /* month of each */
	uint32_t *source;  /* source id of each */
	char **lsoa;       /* LSOA code of each (owned) */
};

/* Read them into *o (zeroed first). MB_EDB, MB_ENOMEM. Free with lsoa_events_release(). */
int store_lsoa_events(struct store *s, int32_t from, int32_t to, struct lsoa_events *o,
		      struct mb_error *err);
void lsoa_events_release(struct lsoa_events *o);

#endif
