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
/* One located event with its last outcome (store_outcomes_scan). */
struct outcome_row {
	int32_t month;          /* month of the event */
	uint32_t category;      /* category id */
	uint32_t location;      /* location (snap point) id */
	uint32_t source;        /* source id */
	uint32_t outcome;       /* last outcome id (0 = none recorded) */
	int32_t outcome_month;  /* month of the outcomes-file row that gave it; -1 when it
				   came from the street file's "Last outcome category" */
};

/* The outcome names by id (entry 0 NULL; owned): *nout ids + 1. Free with
 * outcome_names_release(). MB_EDB, MB_ENOMEM. */
int store_outcome_names(struct store *s, char ***names, size_t *nout, struct mb_error *err);
void outcome_names_release(char **names, size_t nout);

/* Hand fn every located event of months [from, to] with its last outcome: the
 * outcome of the latest month among the outcomes-file rows of its Crime ID
 * (the store's crime_outcome view), else the street file's last outcome,
 * else none (ids above nout - 1 read as none). Nothing is kept: a national
 * year is 6 M rows. fn's non-zero return stops the scan and is returned.
 * MB_EDB. */
int store_outcomes_scan(struct store *s, int32_t from, int32_t to, size_t nout,
			int (*fn)(void *ctx, const struct outcome_row *row), void *ctx,
			struct mb_error *err);

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
