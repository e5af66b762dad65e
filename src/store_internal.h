/* store_internal — the store's private state, shared by src/store*.c only. */
#ifndef MICROBEAT_STORE_INTERNAL_H
#define MICROBEAT_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdlib.h>

#include "microbeat/store.h"

/* Statements of the bulk writer, prepared once per connection (their SQL:
 * INS_SQL in store_import.c). */
enum ins {
	INS_SOURCE, INS_CATEGORY, INS_OUTCOME, INS_LSOA, INS_LSOA_NAME, INS_EVENTS, INS_REJECT, INS_OUTCOME_ROWS, INS_STOP, INS_EVENT_UNIT, INS_STREETS,
	INS_LOCATIONS, INS_SUBGROUP, INS_STRAND, INS_EXTRA, INS_WHEN,
	INS_COUNT /* how many: the size of struct store's ins[] */
};

/* The bulk writer's row feeds (store_feed.c): the kinds of rows. */
enum feed_kind { FEED_EVENT, FEED_STREET, FEED_LOCATION, FEED_OUTCOME, FEED_GAZ, FEED_KINDS };

/* Rows a feed table (temp.mb_feed_*) shows for one INSERT ... SELECT. */
struct feed {
	enum feed_kind kind; /* which rows: struct rec_event, rec_dim or rec_outcome */
	const void *rows;    /* the array, set for the statement's run only */
	size_t n;            /* how many */
	int64_t import_id;   /* the events' or outcome rows' import */
};

struct store {
	sqlite3 *db;             /* the connection */
	char *path;              /* file name as opened */
	sqlite3_stmt *ins[INS_COUNT]; /* bulk-writer statements, prepared on first use */
	struct feed feed[FEED_KINDS]; /* what the feed tables show (writer only) */
	int64_t first_event;     /* first event id written by the current import */
	int64_t last_event;      /* last event id written by the current import */
	struct ckpt *ck;         /* background checkpoints while bulk loading, or NULL */
	struct dim_acc *dacc;    /* the streets and snap points the current transaction wrote, for
				    their dimension blocks (store_dimblocks.c); NULL: none */
	struct blk_acc *blk;     /* the current import's events as written, by month, for its
				    column blocks (store_blocks.c); NULL: read them back */
};

/* Set err from the connection's last error, prefixed by what; return the negative code. */
int store_db_err(struct store *s, struct mb_error *err, const char *what);

/* Execute one or more SQL statements without parameters. */
int store_exec(struct store *s, const char *sql, struct mb_error *err);

/* Make the feed tables temp.mb_feed_event, _street, _location and _outcome
 * on the connection (its temp schema: nothing in the store). */
int store_feed_register(struct store *s, struct mb_error *err);

/* Run the prepared INSERT ... SELECT st over n rows of kind (events or outcome
 * rows of import_id, new streets or snap points) and reset it. 0 or -MB_EDB. */
int store_feed_run(struct store *s, sqlite3_stmt *st, enum feed_kind kind, const void *rows,
		   size_t n, int64_t import_id, struct mb_error *err);

/* Prepare sql into *st. */
int store_prepare(struct store *s, sqlite3_stmt **st, const char *sql, struct mb_error *err);

/* Run the reads that follow in one read transaction (one WAL snapshot), so a
 * report made of several queries never mixes states of a concurrent import.
 * Opens one only when none is open (a read-only store keeps one from
 * store_open to store_close); *own says whether this call opened it, for
 * store_read_end, which ends it then and does nothing otherwise. */
int store_read_begin(struct store *s, int *own, struct mb_error *err);
void store_read_end(struct store *s, int own);

/* The bulk writer's statement i (store_import.c), prepared on first use;
 * NULL (err set) when it cannot be prepared. */
sqlite3_stmt *store_ins(struct store *s, enum ins i, struct mb_error *err);

/* Step a bound insert statement and reset it. Return 0 or -MB_EDB. */
int store_step_reset(struct store *s, sqlite3_stmt *st, struct mb_error *err);

/* Stop the checkpointing thread of store_bulk_mode, if any (store_ckpt.c). */
void store_ckpt_stop(struct store *s);

/* Writer, between two files: restart a WAL grown past the checkpointer's
 * bound (store_ckpt.c); nothing without a checkpointing thread. */
void store_ckpt_restart(struct store *s);

/* Run sql, a query of one integer such as "SELECT max(id) FROM unit", and
 * set *n to that value + 1 (1 when it is NULL or there is no row): the size
 * of an array indexed by the table's ids. 0, or -MB_EDB (err set, *n = 1)
 * when the statement cannot be prepared or its step fails (a locked, corrupt
 * or unreadable store is an error, never a table of size 1). */
int store_max_id(struct store *s, const char *sql, size_t *n, struct mb_error *err);

/* Does the store hold table name (1/0 in *yes)? A store of an older schema
 * lacks the tables added since. */
int store_has_table(struct store *s, const char *name, int *yes, struct mb_error *err);

/* Work through a page cache of kb_small KiB for a while (what is read or
 * written once gains nothing from the writer's 64 MB) unless it is that small
 * already: *kb gets the size to put back with store_cache_restore (0:
 * unchanged). */
int store_cache_small(struct store *s, int kb_small, int *kb, struct mb_error *err);
void store_cache_restore(struct store *s, int kb);

/* Return the id of layer name (0 when absent) in *id, and copies of its
 * method and path (may be NULL) when method/path are not NULL
 * (store_areas.c). */
int store_layer_find(struct store *s, const char *name, int64_t *id, char **method, char **path,
		     struct mb_error *err);

/* Grow array p to n elements; clears ok when out of memory (p kept). */
#define REGROW(p, n, ok)                                          \
	do {                                                      \
		void *np_ = realloc((p), (n) * sizeof(*(p)));     \
		if (np_)                                          \
			(p) = np_;                                \
		else                                              \
			(ok) = 0;                                 \
	} while (0)

/* The columns of events the analyses read, n rows in ascending id order
 * (store_blocks_scan hands them over a run at a time: a block in pieces of up
 * to 32,768 rows, or a group of overlapping blocks merged whole). */
struct store_evrows {
	size_t n;           /* rows */
	int64_t *id;        /* event id */
	int32_t *month;     /* month (months since 2000-01) */
	uint32_t *category; /* category id */
	uint32_t *location; /* snap point id, 0 = none */
	uint32_t *source;   /* source id */
	uint32_t *flags;    /* event.flags (bit 0: coded to a unit, event_unit) */
};

/* The dimension blocks (store_dimblocks.c): the columns of location and
 * street the slice reads, as BLOBs in dim_block, kept true by microbeat's
 * writers and deleted by the schema's triggers when another program writes
 * those tables. */
enum dimb_kind { DIMB_LOCATION, DIMB_STREET, DIMB_KINDS };

/* The schema's trigger NAME on OP (INSERT, UPDATE, DELETE) of TABLE, which
 * deletes that table's blocks (KIND: its enum dimb_kind, as text): one text
 * for the schema (store.c) and for the readers' test that it is there as
 * given (store_dimblocks.c). */
#define DIMB_TRIGGER(name, op, table, kind)                                           \
	"CREATE TRIGGER " name " AFTER " op " ON " table " BEGIN DELETE FROM dim_block" \
	" WHERE kind = " kind "; END"

/* One row of a dimension block: of location (lsoa, street, lon, lat) or of
 * street (lsoa, gazetteer, lon, lat, name, area: "" for NULL). A NULL id is
 * 0, a NULL coordinate NaN. */
struct dimb_row {
	int64_t id;
	uint32_t lsoa, street;
	int gazetteer;
	double lon, lat;
	const char *name, *area;
};

/* Append a block of the rows of each table past what its blocks cover (all
 * of them when the blocks do not reach from id 1 without a gap, or reach
 * past the rows), in the caller's transaction: an import's new rows. */
int store_dimblocks_extend(struct store *s, struct mb_error *err);

/* Keep the n street (street 1) or snap-point rows d the bulk writer just
 * wrote (store_dims_write), for store_dimblocks_extend; forget them at the
 * end of the transaction (store_begin, store_rollback, store_close). */
void store_dimblocks_gather(struct store *s, int street, const struct rec_dim *d, size_t n);
void store_dimblocks_forget(struct store *s);

/* Delete the blocks of one table (its rows are about to change), in the
 * caller's transaction; store_dimblocks_extend builds them again. */
int store_dimblocks_drop(struct store *s, enum dimb_kind kind, struct mb_error *err);

/* Hand every row of kind to row(ctx, row) in id order: from the blocks when
 * they can be read (store_dimblocks_read), else from the table. 0, an error
 * (a damaged block, a failed read), or row's non-zero return as it is. */
int store_dim_rows(struct store *s, enum dimb_kind kind,
		   int (*row)(void *, const struct dimb_row *), void *ctx, struct mb_error *err);

/* Hand every row of kind to row(ctx, row) in id order from the blocks, when
 * they cover ids 1..max_id (*used 1); else nothing is read (*used 0) and the
 * caller reads the rows. A damaged block is an error (MB_EDB), as is row's
 * non-zero return (returned as it is). */
int store_dimblocks_read(struct store *s, enum dimb_kind kind, int64_t max_id,
			 int (*row)(void *, const struct dimb_row *), void *ctx, int *used,
			 struct mb_error *err);

/* (Re)write the column blocks of import_id from its event rows (none when it
 * holds none), in the caller's transaction. */
int store_blocks_build(struct store *s, int64_t import_id, struct mb_error *err);

/* The ids [*lo, *hi] within which every event of months from..to lies, from
 * the column blocks (the whole int64 range when the store has none). */
int store_month_ids(struct store *s, int32_t from, int32_t to, int64_t *lo, int64_t *hi,
		    struct mb_error *err);

/* Events the column blocks of months from..to hold, in *n. */
int store_blocks_rows(struct store *s, int32_t from, int32_t to, size_t *n, struct mb_error *err);

/* The current import's column blocks, gathered as its batches are written
 * (store_batch_write: n events with ids first.., in file order) so that
 * store_blocks_build need not read them back. Any doubt (out of memory, an
 * event deleted: duplicates moved out) drops what is gathered, and the
 * blocks are built from the rows instead. */
struct rec_event;
void store_blocks_gather(struct store *s, int64_t import_id, int64_t first,
			 const struct rec_event *ev, size_t n);
void store_blocks_forget(struct store *s);

/* An agency event's unit code in layer_id (event_unit), for the block scans:
 * *st is the lookup, or NULL when no event holds a code (then none need be
 * looked up: a police-only national year has 90k rows without coordinates).
 * store_event_unit_of gives an event's store unit id in *unit (-1: none); 0,
 * or -1 when the step failed (store_db_err tells why). */
int store_event_unit_stmt(struct store *s, int64_t layer_id, sqlite3_stmt **st,
			  struct mb_error *err);
int store_event_unit_of(sqlite3_stmt *st, int64_t event_id, int64_t *unit);

/* Hand fn the events of months from..to from the column blocks, in ascending
 * event id order (the row table's order); fn returns 0 or an error code,
 * which stops the scan and is returned. ahead: a thread of its own reads and
 * decodes the next rows while fn files the last (the same rows in the same
 * order), so fn must not use the store. */
int store_blocks_scan(struct store *s, int32_t from, int32_t to, int ahead,
		      int (*fn)(void *ctx, const struct store_evrows *rows), void *ctx,
		      struct mb_error *err);

/* ---- the slice loader's parts (store_slice*.c) ---------------------------- */

struct slice;
struct slice_query;
struct scope;

/* Copy string p (NULL as "") into sl's string storage and set *off to its
 * offset + 1 (offsets survive the storage moving; 0 means no string). 0, or
 * -1 when out of memory (or the storage would pass SIZE_MAX): *off is then 0
 * and the caller must fail, never keep an empty name. */
int slice_put_str(struct slice *sl, const char *p, size_t *off);

/* Categories: names (string offsets in cat_off), harm, which pass the filter
 * of q; a --types name the store lacks is MB_ENOTFOUND. */
int slice_load_categories(struct store *s, const struct slice_query *q, struct slice *sl,
			  size_t *cat_off, struct mb_error *err);

/* Sources: names (offsets in src_off), which are police (police.uk street
 * files), which pass the filter; an unknown --source name is an error. */
int slice_load_sources(struct store *s, const struct slice_query *q, struct slice *sl,
		       size_t *src_off, struct mb_error *err);

/* Names of offence subgroups or hate strands (table: a fixed name) into
 * *names (*n = max id + 1), as string offsets in *off for the fix-up. */
int slice_load_extract_names(struct store *s, struct slice *sl, const char *max_sql,
			     const char *sql, size_t *n, char ***names, size_t **off,
			     struct mb_error *err);

/* Does the store hold force-extract rows or agency days (a store of schema 1
 * has neither table)? */
int slice_extract_held(struct store *s, int *yes, struct mb_error *err);

/* Copy the layer's units of sc into the slice. */
int slice_copy_units(const struct scope *sc, struct slice *sl, struct mb_error *err);

#endif
