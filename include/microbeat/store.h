/*
 * store — the SQLite store: schema, imports, dimensions, events, rejects.
 *
 * Only this module includes <sqlite3.h>. A struct store is one open
 * connection; it is not shared between threads. Every function returns 0 on
 * success or a negative MB_E* code with details in err.
 */
#ifndef MICROBEAT_STORE_H
#define MICROBEAT_STORE_H

#include <stdint.h>
#include <stdio.h>

#include "microbeat/common.h"
#include "microbeat/record.h"

#define STORE_SCHEMA_VERSION 4

struct store;

/* Open flags. */
#define STORE_READONLY 1 /* open for reading only; the file must exist */

/* Open (creating and migrating when writable) the store at path.
 * On success *out owns the connection: close with store_close(). */
int store_open(const char *path, int flags, struct store **out, struct mb_error *err);

/* Close the connection (NULL allowed). Uncommitted work is rolled back. */
void store_close(struct store *s);

/* Path the store was opened with (owned by the store). */
const char *store_path(const struct store *s);

/* Transactions: BEGIN IMMEDIATE (waits up to the busy timeout for other
 * writers, then fails with MB_EDB naming the lock), COMMIT, ROLLBACK. */
int store_begin(struct store *s, struct mb_error *err);
int store_commit(struct store *s, struct mb_error *err);
void store_rollback(struct store *s);

/* Bulk loading on (1: WAL checkpoints every 64 MB, on a thread of their own
 * when it can start) or off (0: back to the default 4 MB, and checkpoint now). */
void store_bulk_mode(struct store *s, int on);
/* PRAGMA data_version: changes when another connection commits to the store
 * (an import compares it to decide whether its dictionaries are stale). */
int store_data_version(struct store *s, int64_t *v, struct mb_error *err);

/* Rewrite the column blocks of every import from the event rows (the
 * schema-3 migration, 'check --repair'), in the caller's transaction;
 * *imports: how many imports hold events. */
int store_blocks_build_all(struct store *s, int64_t *imports, struct mb_error *err);

/* Compare the column blocks with the event rows they copy (rebuilt in memory):
 * *checked blocks compared (-1: the store has none, an older schema read as
 * it is), *bad differences (each named on msg: import, month, what). 0, or a
 * negative code when the store cannot be read. */
int store_blocks_check(struct store *s, int64_t *checked, int64_t *bad, FILE *msg,
		       struct mb_error *err);

/* Every dimension block built again from the rows (the schema-4 migration,
 * 'check --repair'), in the caller's transaction. */
int store_dimblocks_build_all(struct store *s, struct mb_error *err);

/* Compare each dimension block with the street or snap-point rows it copies:
 * *checked blocks (-1: the store has none, an older schema read as it is),
 * *bad that differ (each named on msg). */
int store_dimblocks_check(struct store *s, int64_t *checked, int64_t *bad, FILE *msg,
			  struct mb_error *err);

/* SQLite's quick_check, and every event's category, source, snap point and
 * import present: each problem named on msg, *bad counts them. */
int store_quick_check(struct store *s, FILE *msg, int64_t *bad, struct mb_error *err);

/* Fill d with dictionaries of every dimension row in the store (d must be
 * zeroed). Release with store_dims_release(). */
int store_dims_load(struct store *s, struct dims *d, struct mb_error *err);
void store_dims_release(struct dims *d);

/* Build the location dictionary key (LSOA id, micro-degrees, name) into buf
 * (cap bytes); return its length, or 0 when it does not fit. */
size_t store_location_key(char *buf, size_t cap, uint32_t lsoa, int has_coord, double lon,
			  double lat, const char *name, size_t name_len);

/* Counters of one import; rows_read = rows_loaded + rows_duplicate + rows_rejected. */
struct import_stats {
	int64_t rows_read;      /* data rows seen (header and blank lines excluded) */
	int64_t rows_loaded;    /* rows stored */
	int64_t rows_duplicate; /* rows recognised as duplicates */
	int64_t rows_rejected;  /* rows kept in reject with a reason */
	int64_t blank_lines;    /* blank lines skipped (not rows) */
	int64_t bytes;          /* bytes of input */
};

/* Look for an earlier import with this SHA-256; *id = its id or 0. */
int store_import_by_sha(struct store *s, const uint8_t sha[32], int64_t *id,
			struct mb_error *err);

/* Has an import with this base name and byte size been seen? (*yes = 0/1) */
int store_import_seen(struct store *s, const char *name, int64_t bytes, int *yes,
		      struct mb_error *err);

/* Create the import row (inside the file's transaction); *id = its id. */
int store_import_create(struct store *s, const char *path, const char *format,
			const char *source, int64_t *id, struct mb_error *err);

/* Write every record of batch b for import id. */
/* Grow *buf (capacity *cap) to hold at least need bytes; 0, or -1 when out of memory. */
int store_key_room(char **buf, size_t *cap, size_t need);

/* Insert one row of a small dimension (source, category, outcome, LSOA, LSOA
 * name: kinds below DIM_LOCAL), inside the file's transaction. */
int store_dim_write(struct store *s, const struct rec_dim *d, struct mb_error *err);

/* Insert n new streets or n new snap points (kind DIM_STREET or DIM_LOCATION,
 * ids given) with one statement: a statement run costs ~5 rows. */
int store_dims_write(struct store *s, enum dim_kind kind, const struct rec_dim *d, size_t n,
		     struct mb_error *err);

int store_batch_write(struct store *s, int64_t import_id, const struct batch *b,
		      struct mb_error *err);

/* Record the end of an import: counters, hash, event id range, months. */
int store_import_finish(struct store *s, int64_t import_id, const struct import_stats *st,
			const uint8_t sha[32], const char *format, struct mb_error *err);

/* What replacing a partition changed, matched by Crime ID (or an agency's id). */
struct partition_diff {
	int64_t replaced_import; /* import whose rows were replaced (the first), 0 = new partition */
	int64_t months;          /* partitions replaced (an agency file claims one a month) */
	int64_t added;           /* crimes only in the new release */
	int64_t removed;         /* crimes only in the old release */
	int64_t changed;         /* same Crime ID, other outcome, type or location */
	int64_t unchanged;       /* same Crime ID, same values */
	int64_t noid_before;     /* rows without Crime ID (ASB) in the old release */
	int64_t noid_after;      /* ... in the new release */
	int64_t old_rows;        /* rows the old release held */
	int64_t lost;            /* of them, gone: removed ids + rows without id fewer than before */
};

/* Partition kinds. An agency file claims (source, month) for every month it
 * covers; so does a force extract, for its rows (event_extra) only. */
enum part_kind { PART_STREET = 1, PART_OUTCOMES = 2, PART_STOP = 3, PART_AGENCY = 4,
		 PART_EXTRACT = 5 };

/* The import holding partition (kind, key, month) in *holder, 0 when none. */
int store_partition_holder(struct store *s, enum part_kind kind, const char *key, int32_t month,
			   int64_t *holder, struct mb_error *err);

/* Make import_id the holder of partition (kind, key, month) of source: when
 * another import held it, compare by id and add the counts to *diff (zeroed by
 * the caller), then delete that import's rows (an agency partition: its
 * events of source and month only; the import is marked replaced when none of
 * its months is left). When the old rows lost would be more than max_removed
 * (a share, 0..1; 1 or more: no limit) of the old rows, nothing is changed
 * and -MB_EDATA says why (err, without the file's name). Call inside the
 * file's transaction, after its rows are written. */
int store_partition_claim(struct store *s, enum part_kind kind, const char *key, int32_t month,
			  uint32_t source, int64_t import_id, double max_removed,
			  struct partition_diff *diff, struct mb_error *err);

/* Move the events of the current import_id (street rows) of source and month
 * whose Crime ID another import already holds for that source and month (other
 * than except, the partition holder being replaced, 0 = none) to reject as
 * duplicates, naming the import and line that hold each; *moved = how many.
 * One indexed look-up when no other import holds the month. Call inside the
 * file's transaction, after its rows are written and before
 * store_partition_claim and store_import_finish. */
int store_duplicates_held(struct store *s, int64_t import_id, uint32_t source, int32_t month,
			  int64_t except, int64_t *moved, struct mb_error *err);

/* How many of import_id's force-extract rows match a police.uk crime held
 * now (same Crime ID and month, in a street file's import not replaced):
 * *attached. The others are kept and attach when that crime is loaded. */
int store_extract_attached(struct store *s, int64_t import_id, int64_t *attached,
			   struct mb_error *err);

/* Record per (source, month) row counts of an import, for coverage. */
int store_import_month_add(struct store *s, int64_t import_id, uint32_t source, int32_t month,
			   int64_t rows, struct mb_error *err);

/* Fill d (from dict_new()) with unit code -> unit id for layer name; *layer_id
 * = the layer's id. MB_ENOTFOUND when the layer is not loaded. */
int store_layer_units(struct store *s, const char *layer, struct dict *d, uint32_t *layer_id,
		      struct mb_error *err);

/* First and last month holding events (-1, -1 when none). */
int store_month_range(struct store *s, int32_t *lo, int32_t *hi, struct mb_error *err);

/* --- reading (info, rejects): rows the commands render --- */

/* One finished import, as 'info' lists it. */
struct info_import {
	int64_t id;          /* import number */
	char *path;          /* the file as given to import */
	char *format;        /* street, outcomes, stop, agency, ... */
	int64_t rows[4];     /* rows read, loaded, duplicate, rejected */
	int64_t replaced_by; /* the import that replaced it, 0 = none */
};

/* Events one source holds for one month (imports not replaced). */
struct info_month {
	int64_t source;      /* source id: a source's months are consecutive rows */
	char *name;          /* source name */
	int32_t month;       /* months since 2000-01 */
	int64_t rows;        /* events */
};

/* LSOA codes seen in one year's located events. */
struct info_year {
	int year;            /* calendar year */
	int codes;           /* distinct LSOA codes */
	int new21;           /* of them, codes that exist only in the 2021 vintage */
};

/* Rejected (or duplicate) rows of one reason kind. */
struct info_reject {
	char kind[600];      /* the reason with quoted values as '…' and numbers as N */
	long long n;         /* rows */
	int dup;             /* they are duplicates, not rejects */
};

/* What 'info' reports, read in one snapshot. */
struct store_summary {
	struct info_import *imports; /* finished imports by number */
	size_t nimports;             /* how many */
	struct info_month *months;   /* coverage by source name, then month */
	size_t nmonths;              /* how many */
	int64_t events;              /* events held */
	int64_t unlocated;           /* of them without a place ("No location") */
	int event_months;            /* distinct months of the events */
	struct info_year *years;     /* LSOA vintages by year */
	size_t nyears;               /* how many */
	struct info_reject *rejects; /* rejected and duplicate rows by reason kind */
	size_t nrejects;             /* how many */
};

/* Read the store summary (imports, coverage by source and month, unlocated
 * share, LSOA vintages, rejects by reason) into *sum, all from one snapshot.
 * Free with store_summary_release (nothing to free after an error). */
int store_info(struct store *s, struct store_summary *sum, struct mb_error *err);
void store_summary_release(struct store_summary *sum);

/* One rejected or duplicate row; the pointers live until the callback returns. */
struct reject_row {
	int64_t import_id;   /* the import that read it */
	const char *path;    /* that import's file */
	size_t path_len;     /* its bytes */
	int64_t line, col;   /* where in the file */
	int duplicate;       /* a duplicate, not a reject */
	const char *reason;  /* why */
	size_t reason_len;   /* its bytes */
	const char *raw;     /* the row as read (may hold any bytes; NULL when empty) */
	size_t raw_len;      /* its bytes */
};

/* Called by store_rejects once per row; a non-zero return stops the listing
 * and is returned. */
typedef int (*store_reject_fn)(void *arg, const struct reject_row *row, struct mb_error *err);

/* *yes = import import_id exists (finished or not). */
int store_import_exists(struct store *s, int64_t import_id, int *yes, struct mb_error *err);

/* Hand each rejected row (all imports, or one when import_id > 0) to each(arg, ...),
 * by import then line. */
int store_rejects(struct store *s, int64_t import_id, store_reject_fn each, void *arg,
		  struct mb_error *err);
/* One area layer as 'info' and 'areas' report it. */
struct layer_info {
	char *name;          /* layer name */
	char *method;        /* how its units were loaded (boundaries..., lookup...) */
	int boundaries;      /* loaded from boundaries (points placed in polygons) */
	long units;          /* units */
	long with_pop;       /* of them with a population */
	double pop;          /* their total population */
	long assigned;       /* located events in a unit */
	long unassigned;     /* located events in no unit */
	long near;           /* of those, in an LSOA the layer otherwise covers (boundaries) */
	long coded;          /* agency rows coded to a unit */
	long pending;        /* snap points not yet placed (boundaries) */
};

/* Read every area layer (by name) with its counts into *v (*n rows; none
 * loaded: *v NULL, *n 0), from one snapshot. Free with store_layers_info_release. */
int store_layers_info(struct store *s, struct layer_info **v, size_t *n, struct mb_error *err);
void store_layers_info_release(struct layer_info *v, size_t n);

#endif
