/* store_internal — the store's private state, shared by src/store*.c only. */
#ifndef MICROBEAT_STORE_INTERNAL_H
#define MICROBEAT_STORE_INTERNAL_H

#include <sqlite3.h>

#include "microbeat/store.h"

/* Statements of the bulk writer, prepared once per connection (their SQL:
 * INS_SQL in store_import.c). */
enum ins {
	INS_SOURCE, INS_CATEGORY, INS_OUTCOME, INS_LSOA, INS_LSOA_NAME, INS_EVENTS, INS_REJECT, INS_OUTCOME_ROWS, INS_STOP, INS_EVENT_UNIT, INS_STREETS,
	INS_LOCATIONS, INS_SUBGROUP, INS_STRAND, INS_EXTRA, INS_WHEN,
	INS_COUNT /* how many: the size of struct store's ins[] */
};

/* The bulk writer's row feeds (store_feed.c): the kinds of rows. */
enum feed_kind { FEED_EVENT, FEED_STREET, FEED_LOCATION, FEED_OUTCOME, FEED_KINDS };

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

#endif
