/*
 * gazetteer — the street universe: every street of an area, crime-free ones too.
 *
 * gazetteer_read() parses a CSV with a street-name column and optional
 * longitude/latitude, LSOA code (either vintage), LSOA name and area code;
 * store_gazetteer_load() assigns each row to a micro-beat key (normalised
 * name + LSOA code) and marks those streets as the gazetteer universe.
 */
#ifndef MICROBEAT_GAZETTEER_H
#define MICROBEAT_GAZETTEER_H

#include <stddef.h>
#include <stdio.h>

#include "microbeat/common.h"

struct store;

/* One gazetteer street. Strings are owned by the gazetteer (its arena). */
struct gaz_row {
	char *name;      /* street name as given */
	char *lsoa;      /* LSOA code, or NULL */
	char *lsoa_name; /* LSOA name, or NULL */
	char *area;      /* area code, or NULL */
	double lon, lat; /* point (NaN when absent) */
};

/* A read gazetteer. */
struct gazetteer {
	struct gaz_row *rows; /* the streets */
	size_t n, cap;        /* used / capacity */
	int has_lsoa;         /* the file has an LSOA code column */
	long skipped;         /* rows without a name (reported) */
	size_t longest;       /* bytes of the longest name (the loader's key room) */
	char **blocks;        /* string arena: the rows' strings, a block a megabyte (no malloc a string) */
	size_t nblocks, bcap; /* blocks used / allocated */
	char *at;             /* next free byte of the last block */
	size_t left;          /* bytes free from there */
};

/* Read path into g with csvtab_scan (all or nothing: a malformed file, a
 * coordinate that is not a number or lies outside the UK, one of a pair
 * blank, or an LSOA code that is not a letter and 8 digits refuses the file
 * with FILE:LINE:COL; rows without a street name are skipped, counted in
 * g->skipped and the first ten named on msg). Release with gazetteer_release. */
int gazetteer_read(const char *path, struct gazetteer *g, FILE *msg, struct mb_error *err);
void gazetteer_release(struct gazetteer *g);

/* What loading did. */
struct gaz_stats {
	long rows;       /* gazetteer rows */
	long matched;    /* rows matching a street seen in crime data */
	long added;      /* crime-free streets added to the universe */
	long merged;     /* rows that repeat a key already in the gazetteer */
	double match_s;  /* seconds matching rows to streets (for MICROBEAT_TIMING) */
	double write_s;  /* seconds writing the streets */
	double commit_s; /* seconds committing (and the checkpoint after) */
	long written;    /* street rows changed: the others were left as they are */
};

/* Seconds on a monotonic clock, for the load's MICROBEAT_TIMING line. */
double gazetteer_clock(void);

/* Replace the store's gazetteer with g, in one transaction. Without an LSOA
 * column a row joins the nearest observed street of the same name within
 * 1 km, else stands alone. A g without streets is refused (MB_EDATA: a
 * header-only or cut file must not empty the universe) unless replace is
 * non-zero, which then clears the loaded gazetteer. */
int store_gazetteer_load(struct store *s, const struct gazetteer *g, int replace,
			 struct gaz_stats *st, struct mb_error *err);

/* store_gazetteer_load in two steps, so the store's part can run while the
 * file is read: _begin opens the load's transaction and reads the store's
 * LSOAs and streets into *out; _finish loads g as store_gazetteer_load does
 * (the same errors) and frees the load, _abandon frees it and rolls back. */
struct gaz_load;
int store_gazetteer_begin(struct store *s, struct gaz_load **out, struct mb_error *err);
int store_gazetteer_finish(struct gaz_load *ld, const struct gazetteer *g, int replace,
			   struct gaz_stats *st, struct mb_error *err);
void store_gazetteer_abandon(struct gaz_load *ld);

#endif
