/*
 * ingest — read police extracts (CSV files, folders, police.uk zips) into the store.
 *
 * Each file (or zip entry) is one transaction: it lands whole or not at all.
 * Parsing (libcsv) runs on a second thread and hands batches of records to the
 * writer (this thread) through a bounded queue, so memory does not grow with
 * the input. Every data row is loaded, counted as a duplicate, or rejected
 * with its reason: rows_read = rows_loaded + rows_duplicate + rows_rejected.
 */
#ifndef MICROBEAT_INGEST_H
#define MICROBEAT_INGEST_H

#include <stdio.h>

#include "microbeat/common.h"
#include "microbeat/store.h"

/* Options of one import run. */
struct ingest_opts {
	int progress;            /* draw a progress bar on stderr */
	int quiet;               /* no per-file summary on out */
	FILE *out;               /* per-file summaries (stdout) */
	FILE *msg;               /* errors and warnings (stderr) */
	int max_shown;           /* rejected rows printed per file (rest counted) */
	const char *map_path;    /* agency column map (INI), or NULL for police.uk files */
	const char *source_name; /* agency name (overrides the map's), or NULL */
	int replace;             /* apply a release however much it removes, and a file cut mid-row */
	double max_removed;      /* percent of a partition's rows a release may remove unless
				  * replace: 0 = INGEST_MAX_REMOVED (20), negative = none */
};

/* Default of ingest_opts.max_removed (percent). */
#define INGEST_MAX_REMOVED 20.0

/* Totals of one import run. */
struct ingest_summary {
	int files_loaded;           /* files committed */
	int files_unchanged;        /* same SHA-256 as an earlier import: nothing done */
	int files_skipped;          /* unknown header, empty, unreadable, refused: nothing loaded */
	struct import_stats total;  /* summed counters of the loaded files */
};

/* Import every path (file, folder walked recursively in sorted order, or
 * .zip). Problems with one file are reported on o->msg and the others go on;
 * the return value is 0 when every file was loaded or unchanged without
 * rejected rows, -MB_EDATA when rows were rejected or files skipped, and
 * another negative code (with err set) when the store failed. */
int ingest_paths(struct store *s, const char *const *paths, int n, const struct ingest_opts *o,
		 struct ingest_summary *sum, struct mb_error *err);

/* Import one already-open stream (a file, a pipe, fmemopen() for fuzzing)
 * named name in messages; same rules and results as ingest_paths. */
int ingest_stream(struct store *s, FILE *fp, const char *name, const struct ingest_opts *o,
		  struct ingest_summary *sum, struct mb_error *err);

#endif
