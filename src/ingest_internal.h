/* ingest_internal — state shared by src/ingest*.c only (include/microbeat/ingest.h is
 * the import's interface to the other layers). The files, callers first:
 *   ingest_paths.c   what to import (files, folders, zips) and one run over them
 *   ingest_write.c   the writer: store ids, snap points, one transaction a file,
 *                    partitions; the dictionaries' undo
 *   ingest_parse.c   a file's parse thread (libcsv, physical lines, recovery,
 *                    rejected rows, hashing) and the parses started ahead
 *   ingest_rows.c    header recognition and the row validators (called by the
 *                    parser for each row; they reject through it)
 *   ingest_seen.c    the duplicate-ID set
 *   ingest_queue.c   batches, their arena and the queue from parser to writer
 *   ingest_agency.c  the column map of other agencies' files */
#ifndef MICROBEAT_INGEST_INTERNAL_H
#define MICROBEAT_INGEST_INTERNAL_H

#include <csv.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "microbeat/common.h"
#include "microbeat/ingest.h"
#include "microbeat/record.h"
#include "microbeat/store.h"
#include "microbeat/util.h"

#define CHUNK (1u << 20)           /* bytes read at a time */
#define FIELD_MAX 65536u           /* longest accepted field */
#define MAX_FIELDS 64              /* fields kept per row (more: rejected anyway) */
#define BATCH_EVENTS 8192          /* records per batch before handing over */
#define BATCH_ARENA (1u << 20)     /* arena bytes per batch before handing over */
#define QUEUE_SLOTS 4              /* batches in flight */

/* What a file holds, recognised by its header. */
enum file_kind { KIND_NONE, KIND_STREET, KIND_OUTCOMES, KIND_STOP, KIND_AGENCY };

/* Rows of one (source, month) in a file. */
struct month_count {
	uint32_t source; /* source id (0 = none) */
	int32_t month;   /* months since 2000-01 */
	int64_t rows;    /* rows loaded */
};

struct progress;
struct agencymap;
struct pfile;
struct archive;

/* One input stream: a plain file or a zip entry. */
struct input {
	FILE *fp;           /* plain file, or NULL */
	struct archive *ar; /* zip archive positioned at the entry, or NULL */
	const char *name;   /* display name for messages */
};

/* ---- batches, their arena and the queue (ingest_queue.c) ----------------- */

/* Push a zeroed element onto vec (a record.h VEC) and point out at it; 0, or -1
 * on out of memory. The common case (room left) stays inline. */
#define VEC_PUSH(vec, out)                                                              \
	(((vec).n == (vec).cap && GROW((vec).v, (vec).n + 1, (vec).cap)) ? -1              \
	 : ((out) = &(vec).v[(vec).n++], memset((out), 0, sizeof(*(out))), 0))

/* Arena offsets are stored in place of pointers while a batch fills (the
 * arena may move), and turned into pointers by batch_seal() before handing over. */
#define OFF(x) ((const char *)(uintptr_t)(x))
#define UNOFF(p) ((size_t)(uintptr_t)(p))

/* Store text in batch b's arena; return its offset + 1 disguised as a pointer
 * (0 stays NULL), or NULL with *oom set. */
const char *astr(struct batch *b, const char *p, size_t len, int *oom);

/* Bounded queue of batches between the parser and the writer. */
struct queue {
	pthread_mutex_t mu;              /* guards everything below */
	pthread_cond_t cv;               /* signalled on every change */
	struct batch *full[QUEUE_SLOTS]; /* FIFO of filled batches */
	int head, count;                 /* FIFO position and length */
	struct batch *spare[QUEUE_SLOTS]; /* empty batches */
	int nspare;                      /* how many */
	int done;                        /* parser finished */
	int abort;                       /* writer failed: parser stops */
};

/* Make q empty with QUEUE_SLOTS spare batches; 0, or -1 on out of memory
 * (queue_release() frees what was made). */
int queue_init(struct queue *q);

/* Free the queue's batches (spare and full) and its lock. */
void queue_release(struct queue *q);

/* Parser: take an empty batch (waits); NULL when the writer aborted. */
struct batch *queue_take_spare(struct queue *q);

/* Parser: hand a filled batch to the writer (its arena offsets become pointers). */
void queue_push(struct queue *q, struct batch *b);

/* Writer: next filled batch, or NULL when the parser is done. */
struct batch *queue_pop(struct queue *q);

/* Writer: give a written batch back. */
void queue_return(struct queue *q, struct batch *b);

/* Set *flag (q->done or q->abort) under the lock and wake the other side. */
void queue_set(struct queue *q, int *flag);

/* ---- the duplicate-ID set (ingest_seen.c) --------------------------------- */

#define SEEN_LINE_BITS 24
#define SEEN_LINE_MASK ((1u << SEEN_LINE_BITS) - 1)
#define SEEN_EARLIER SEEN_LINE_MASK /* first line past 2^24 - 1: not kept */

struct seen_flat;
struct seen_shard;
struct seen_block;

/* Set of the row ids (Crime IDs) seen in one file, by their 64-bit hashes
 * (ingest_seen.c says how). All zero is an empty set. */
struct seen {
	struct seen_flat *flat;   /* the flat phase's table, NULL before and after */
	uint32_t fcap, fn;        /* its slots (a power of 2), used */
	struct seen_shard *sh;    /* the shards once the flat table is outgrown */
	struct seen_block *block; /* small tables, newest block first */
};

/* Record an id by its 64-bit hash h (all of the id's bytes, well mixed) first
 * met at line (>= 1). *first = 0 when it is new, else the line of the earlier
 * occurrence (SEEN_EARLIER when that line is past 2^24 - 1). Return 0, or
 * -MB_ENOMEM with the set as it was. */
int seen_add(struct seen *set, uint64_t h, uint32_t line, uint32_t *first);

/* The line of id hash h in the set (as seen_add would report it), 0 when absent. */
uint32_t seen_find(const struct seen *set, uint64_t h);

/* Free the set's insides; it is empty again. */
void seen_release(struct seen *set);

/* ---- one file's parse (ingest_parse.c) ------------------------------------ */

/* A small direct-mapped cache in front of a dictionary (a memo): a file has a
 * few forces, types and outcomes and some hundreds of LSOAs, which its rows
 * repeat in any order. A hit costs one compare of bytes already in cache
 * instead of hashing the key and probing the dictionary. Keys longer than
 * MEMO_KEY are not cached. Entries hold ids interned or found while this file
 * parses; when they are undone (rollback), the file's parse goes with them. */
#define MEMO_KEY 56 /* a slot is a cache line */
struct memo_slot {
	uint32_t id;         /* its id, 0 = empty */
	uint32_t len;        /* key length */
	char key[MEMO_KEY];  /* key bytes */
};
#define MEMO_NAME_BITS 6  /* 64 slots for a force, type or outcome name */
#define MEMO_LSOA_BITS 12 /* 4,096 slots for LSOAs (code, name): a force has ~1,000 */

/* One file's parse: its parser (and hashing) thread, the row being read, the
 * file's own dictionaries and duplicate set, and the queue of batches to the
 * writer. The parser thread owns it until queue_set(done); the writer after. */
struct pfile {
	/* wiring */
	struct ingest_run *run;     /* the run (dims, options) */
	struct input *in;           /* what we read */
	struct input own_in;        /* the input of a file parsed ahead */
	size_t index;               /* its index in the run's files, or SIZE_MAX */
	pthread_t th;               /* the parser thread */
	int started;                /* th runs (or ran and is not joined) */
	struct queue q;             /* batches to the writer */
	struct batch *b;            /* batch being filled */
	struct csv_parser csv;      /* libcsv state */
	EVP_MD_CTX *sha;            /* SHA-256 of the bytes */
	/* a plain file is hashed on a thread of its own (pread on the same open
	 * file, so the same bytes): the parser, the import's bottleneck, does not */
	pthread_t hth;              /* the hashing thread */
	int hashing;                /* hth runs (joined by the parser at its end) */
	int hash_fd;                /* the file */
	off_t hash_from;            /* offset the parser starts reading at */
	int64_t hashed;             /* bytes hashed (-1: read error) */
	int hash_errno;             /* why, when hashed is -1 */
	atomic_int hash_stop;       /* the parse was abandoned: stop hashing */
	/* row being parsed */
	char *rowbuf;               /* field bytes of the current row */
	size_t rowlen, rowcap;      /* used / capacity */
	size_t foff[MAX_FIELDS];    /* field offsets in rowbuf */
	size_t flen[MAX_FIELDS];    /* field lengths */
	int nf;                     /* fields seen in this row (may exceed MAX_FIELDS) */
	int overflow;               /* row bytes over the cap: contents dropped */
	int row_ascii;              /* the kept fields are all ASCII (row_scan) */
	uint32_t line;              /* current line (1-based) */
	uint32_t row_line;          /* line where the current row started */
	int after_cr_row;           /* the last line end was a CR (an LF next is its CRLF's) */
	int skip_to_nl;             /* after a failed row: drop bytes up to the next line end */
	int nul_seen;               /* the input holds a NUL byte: fields are checked for one */
	int nul_field;              /* 1 + the first field of the row holding a NUL, 0 = none */
	size_t nul_off;             /* the NUL's offset in that field */
	int last_row_broken;        /* the last row read was cut short: too few columns,
				     * broken quoting or UTF-8 (rejected) */
	int cut;                    /* the input ends mid-row (no line end after a broken row) */
	unsigned char last_byte;    /* the input's last byte */
	uint32_t rej_line, rej_col; /* where the last rejected row was (for a cut file's message) */
	int header_done;            /* header row consumed */
	int kind;                   /* enum file_kind */
	/* partition tracking */
	int32_t month;              /* the month of the rows, if single */
	int multi_month;            /* rows span several months */
	uint32_t source;            /* the source of the rows, if single */
	int multi_source;           /* rows from several sources */
	struct month_count *mc;     /* rows per (source, month) */
	size_t nmc, capmc;          /* used / capacity */
	/* results */
	struct import_stats st;     /* counters */
	struct seen seen;           /* Crime IDs seen */
	/* the file's own dictionaries of sources, categories, outcomes, LSOAs and
	 * LSOA names (enum dim_kind up to DIM_LSOA_NAME): ids 1, 2, ... in the
	 * order first seen, written by the parser; the writer maps them to the
	 * store's ids (dims_translate), so parses of several files need not wait
	 * for each other nor for the writer */
	struct dict *ld[DIM_LOCAL];  /* key -> the file's id */
	uint32_t *map[DIM_LOCAL];    /* the file's id -> the store's (writer) */
	size_t nmap[DIM_LOCAL];      /* entries of map (id 0 included) */
	/* memos in front of the dictionaries */
	struct memo_slot m_source[1u << MEMO_NAME_BITS], m_falls[1u << MEMO_NAME_BITS];
	struct memo_slot m_cat[1u << MEMO_NAME_BITS], m_out[1u << MEMO_NAME_BITS];
	struct memo_slot m_lsoa[1u << MEMO_LSOA_BITS];
	int fatal;                  /* parse stopped: perr says why */
	struct mb_error perr;       /* the parser's error */
	int oom;                    /* out of memory while filling */
	uint8_t digest[32];         /* SHA-256 at the end */
	/* scratch for dictionary keys: a whole field fits (libcsv stops a field
	 * at FIELD_MAX + 1024 bytes; a key adds a few) */
	char keybuf[FIELD_MAX + 2048];
};


/* Field i of the current row (NUL-terminated in the row buffer). */
static inline const char *fld(const struct pfile *f, int i)
{
	return f->rowbuf + f->foff[i];
}

/* Does a field need quotes when written back as CSV? */
int needs_quote(const char *p, size_t n);

/* Byte column (1-based) where field i starts in the row as re-quoted. */
uint32_t field_col(const struct pfile *f, int i);

/* Keep the current row as rejected (or duplicate) with a formatted reason. */
void reject(struct pfile *f, uint32_t line, uint32_t col, int duplicate, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* A parse of in, not started yet; NULL when out of memory. */
struct pfile *pfile_new(struct ingest_run *run, struct input *in);

/* Free f's insides (not f). */
void pfile_release(struct pfile *f);

/* Stop the parser (if running), join it and free everything, f too. */
void pfile_drop(struct pfile *f);

/* Start the parse of f, the writer's file; the files after it may follow. */
int parse_start(struct ingest_run *run, struct pfile *f, struct mb_error *err);

/* Writer, once the parser is joined: join the hashing thread and check that
 * it hashed the bytes parsed (else the file is skipped, as fatal). */
void hash_join(struct pfile *f);

/* Take the chain's first parse off it (ingest_ahead_next() names its file),
 * its open file in *fp; the next parse may start in its place. */
struct pfile *chain_take(struct ingest_run *run, FILE **fp);

/* ---- rows (ingest_rows.c) -------------------------------------------------- */

/* A whole row has been read: header, blank line or data. */
void ingest_row(struct pfile *f);

/* Is p[0..n) valid UTF-8 (no overlongs, no surrogates)? */
int utf8_ok(const unsigned char *p, size_t n);

/* ---- the writer (ingest_write.c) ------------------------------------------- */

/* One run of 'microbeat import' over many files. */
/* Files waiting ahead of the writer's. With two parses at once, 4 kept the
 * writer fed best on the national bench: 6.7-6.9 s against 7.5-9.2 s with 2
 * (3 and 6 in between), minutes apart; a waiting file holds at most its 4
 * batches (~10 MB), so the peak stays ~165-175 MB. */
#define CHAIN_MAX 4

struct ingest_run {
	struct store *s;              /* the store */
	const struct ingest_opts *o;  /* options */
	struct ingest_summary *sum;   /* totals */
	struct dims dims;             /* dictionaries (the writer's: parsers have their own) */
	uint32_t saved_next[7];       /* dims.next at the last commit, for undo */
	struct progress *progress;    /* progress bar, or NULL */
	struct agency *agency;        /* agency import state, or NULL (police files) */
	const char *source_name;      /* source recorded on imports */
	int any_rejects;              /* some rows were rejected or duplicate */
	int dims_dirty;               /* a dictionary could not be undone: reload */
	int64_t data_version;         /* the store's data_version when dims were loaded */
	/* parse-ahead: the plain, never-seen CSV files that follow the one being
	 * written are parsed in order, up to CHAIN_MAX of them ahead and up to
	 * PARSE_MAX parses at once (see ingest_parse.c, "the chain") */
	const char *const *files;     /* the run's files, or NULL (no parse-ahead) */
	const int64_t *sizes;         /* their sizes */
	size_t nfiles, cur;           /* how many; the one being imported */
	int ahead_ok;                 /* cur is a plain file: the next may start */
	unsigned char *eligible;      /* per file: may be parsed ahead */
	pthread_mutex_t chain_mu;     /* guards the chain */
	struct pfile *chain[CHAIN_MAX]; /* parses started ahead, in file order */
	FILE *chain_fp[CHAIN_MAX];    /* their open files */
	size_t chain_index[CHAIN_MAX]; /* their indexes in files */
	int chain_n;                  /* how many */
	int chain_stop;               /* no new parse may start (the run ends) */
	int parsing;                  /* parses of the run's files running */
	size_t next_start;            /* the file whose parse may start next */
	/* the writer's scratch for snap-point keys and normalised street names */
	char *wkey, *wnorm;           /* buffers (heap, grown to fit) */
	size_t wcap, wncap;           /* their capacities */
	struct loc_key *lk;           /* a batch's snap-point keys (resolve_locations) */
	size_t lkcap;                 /* its capacity */
	/* a batch's new streets and snap points, written together after its lookups */
	struct rec_dim *nst, *nloc;   /* the rows */
	size_t nst_n, nst_cap;        /* streets: how many, capacity */
	size_t nloc_n, nloc_cap;      /* snap points: how many, capacity */
	char *nnames;                 /* the new streets' normalised names */
	size_t nnames_used, nnames_cap; /* bytes used, capacity */
	/* seconds spent, for MICROBEAT_TIMING=1 (docs/performance.md) */
	struct {
		double wait;    /* writer waiting for the parser */
		double resolve; /* writer interning snap points and streets */
		double write;   /* writer inserting the batches */
		double commit;  /* partition bookkeeping and COMMIT */
		_Atomic long long parse_ns; /* parser threads, CPU time */
	} t;
};

/* Seconds on the monotonic clock. */
double ingest_now(void);

/* Load the dictionaries from the store (again, when loaded before). */
int dims_reload(struct ingest_run *run, struct mb_error *err);

/* Import one stream (see ingest_write.c). */
int ingest_one(struct ingest_run *run, struct input *in, const char *path, struct mb_error *err);

/* The index of the file whose parse started ahead and is next to import, or
 * SIZE_MAX when there is none. */
size_t ingest_ahead_next(struct ingest_run *run);

/* Import the chain's first file (ingest_ahead_next()); closes it. */
int ingest_ahead(struct ingest_run *run, struct mb_error *err);

/* Stop and forget every parse started ahead (a rollback, or the run ends). */
void ingest_ahead_drop(struct ingest_run *run);

/* Forget dictionary entries created since the last commit (after a rollback). */
void dims_undo(struct ingest_run *run);

/* The dictionaries now match the store: remember their state. */
void dims_commit(struct ingest_run *run);

/* Partition key from a police.uk file name "YYYY-MM-<force>-<kind>.csv" whose
 * month equals month; 0 and the key in out, or -1 when the name does not fit. */
int ingest_name_partition(const char *name, int32_t month, char *out, size_t cap);

/* Load the column map named by the options (no-op without one). */
int ingest_agency_open(struct ingest_run *run, struct mb_error *err);
void ingest_agency_close(struct ingest_run *run);

/* What an agency import needs besides the rows (ingest_agency.c). */
struct agency {
	struct agencymap *map;  /* the column map */
	struct geo_bng *bng;    /* BNG -> WGS84 transformation, when the map uses it */
	struct dict *units;     /* unit code -> id, when the map names a layer's units */
	uint32_t layer_id;      /* that layer */
	const char *source;     /* agency name recorded on events */
};

#endif
