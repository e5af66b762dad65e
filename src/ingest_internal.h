/* ingest_internal — state shared by src/ingest*.c only. */
#ifndef MICROBEAT_INGEST_INTERNAL_H
#define MICROBEAT_INGEST_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "microbeat/ingest.h"
#include "microbeat/record.h"
#include "microbeat/store.h"

/* Coordinates accepted: the United Kingdom and its waters (WGS84 degrees). */
#define INGEST_LON_MIN (-14.0)
#define INGEST_LON_MAX 3.0
#define INGEST_LAT_MIN 49.0
#define INGEST_LAT_MAX 61.5

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
	 * PARSE_MAX parses at once (see ingest.c, "the chain") */
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

/* Import one stream (see ingest.c). */
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
