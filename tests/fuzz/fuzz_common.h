/*
 * fuzz_common.h — helpers shared by the harnesses that read a file by path
 * (gazetteer, harm weights, area lookups) and need a store holding some crime
 * data: a temporary folder for their files, writing an input to a file, and
 * a small police.uk street CSV (demo rows: three LSOAs, seven categories,
 * streets named in the demo gazetteer, one row without a location) imported
 * into a store.
 *
 * Known bugs that a harness detects by an invariant (not a sanitizer, so
 * known.supp cannot suppress them) are checked only in known mode, when
 * FUZZ_KNOWN=1 is in the environment as scripts/fuzz.sh has it when it
 * replays tests/fuzz/known/: there the reproducers fail until the bug is
 * fixed, while plain fuzzing goes on past them.
 *
 * Header only (each harness is one translation unit); functions are static
 * and marked unused so a harness may take what it needs.
 */
#ifndef MB_FUZZ_COMMON_H
#define MB_FUZZ_COMMON_H

#include <csv.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "microbeat/ingest.h"
#include "microbeat/store.h"

#define FUZZ_UNUSED __attribute__((unused))

/* Months of every slice the harnesses load: 2000-01 .. 2099-12. */
#define FUZZ_MONTH_FIRST 0
#define FUZZ_MONTH_LAST (100 * 12 - 1)

/* Crime data for the store: rows of datasets/demo/policeuk/2024-01. */
static const char FUZZ_POLICE_CSV[] =
	"Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
	"Crime type,Last outcome category,Context\n"
	",2024-01,Cambridgeshire Constabulary,Cambridgeshire Constabulary,0.024021,52.338760,"
	"On or near Bridge End,E01990001,South Cambridgeshire 001A,Anti-social behaviour,,\n"
	"72e6ec041ac93b77ecab9878adc4e2395154e9b080dc70ac1cacd4a5bb1213f2,2024-01,"
	"Cambridgeshire Constabulary,Cambridgeshire Constabulary,0.025512,52.338817,"
	"On or near Church Road,E01990001,South Cambridgeshire 001A,Criminal damage and arson,"
	"Investigation complete; no suspect identified,\n"
	"1ff537bbc44482016cc97dfa13736e278b74ed50be3cc13891e45301f42930b2,2024-01,"
	"Cambridgeshire Constabulary,Cambridgeshire Constabulary,0.010397,52.334020,"
	"On or near Meadow Way,E01990001,South Cambridgeshire 001A,Other crime,"
	"Investigation complete; no suspect identified,\n"
	"b0427292570997bb985aeecc74be34c1b716352bcf65e309e6bdd46979bde5e2,2024-01,"
	"Cambridgeshire Constabulary,Cambridgeshire Constabulary,0.031942,52.335562,"
	"On or near Further/Higher Educational Building,E01990001,South Cambridgeshire 001A,"
	"Other theft,Investigation complete; no suspect identified,\n"
	"77fb4d698421c11a9689421c5be000e2413a30fb5e7c829add15ee63e87505c4,2024-01,"
	"Cambridgeshire Constabulary,Cambridgeshire Constabulary,0.010397,52.334020,"
	"On or near Meadow Way,E01990001,South Cambridgeshire 001A,Vehicle crime,"
	"Investigation complete; no suspect identified,\n"
	"da66bad5c87513b2be331b0960e02631262233e6416747d87c9fc6a3c9829d2e,2024-01,"
	"Cambridgeshire Constabulary,Cambridgeshire Constabulary,0.038807,52.330693,"
	"On or near Heron Road,E01990001,South Cambridgeshire 001A,Violence and sexual offences,"
	"Status update unavailable,\n"
	",2024-01,Cambridgeshire Constabulary,Cambridgeshire Constabulary,0.057012,52.331301,"
	"On or near Petrol Station,E01990002,South Cambridgeshire 002A,Anti-social behaviour,,\n"
	"1c655f4f49c17ba6f6d814773e797ca961348f7c1b095a7d6ecbb65a918e6093,2024-01,"
	"Cambridgeshire Constabulary,Cambridgeshire Constabulary,0.094502,52.332788,"
	"On or near London Lane,E01990003,South Cambridgeshire 003A,Burglary,"
	"Investigation complete; no suspect identified,\n"
	"664de37d33165c192014d87c37918646a1aa779e04bbda8f7c046b10eaafcf01,2024-01,"
	"Cambridgeshire Constabulary,Cambridgeshire Constabulary,0.094502,52.332788,"
	"On or near London Lane,E01990003,South Cambridgeshire 003A,Criminal damage and arson,"
	"Investigation complete; no suspect identified,\n"
	",2024-01,Cambridgeshire Constabulary,Cambridgeshire Constabulary,,,No Location,,,"
	"Anti-social behaviour,,\n";

/* Known mode: FUZZ_KNOWN=1 (see above). */
static FUZZ_UNUSED int fuzz_known_mode(void)
{
	const char *k = getenv("FUZZ_KNOWN");

	return k && strcmp(k, "1") == 0;
}

/* Does data end inside a quoted field? (libcsv, strict, with CSV_STRICT_FINI;
 * 0 as well when the strict parse fails before the end.) The police.uk import
 * refuses such a file ("unterminated quoted field"). */
static FUZZ_UNUSED int fuzz_csv_open_quote(const void *data, size_t size)
{
	struct csv_parser p;
	int r;

	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI))
		abort();
	r = csv_parse(&p, data, size, NULL, NULL, NULL) == size && csv_fini(&p, NULL, NULL, NULL) != 0;
	csv_free(&p);
	return r;
}

/* Import FUZZ_POLICE_CSV into s; abort when that fails (nothing to fuzz against). */
static FUZZ_UNUSED void fuzz_store_fill(struct store *s)
{
	struct mb_error err = { 0 };
	struct ingest_summary sum;
	FILE *sink = fopen("/dev/null", "w");
	FILE *in = fmemopen((void *)FUZZ_POLICE_CSV, sizeof(FUZZ_POLICE_CSV) - 1, "r");

	if (!sink || !in)
		abort();
	struct ingest_opts o = { .out = sink, .msg = sink, .max_shown = 5, .quiet = 1 };

	if (ingest_stream(s, in, "fuzz-police.csv", &o, &sum, &err) ||
	    sum.total.rows_loaded != 10) {
		fprintf(stderr, "fuzz: cannot import the police rows: %s\n", err.msg);
		abort();
	}
	fclose(in);
	fclose(sink);
}

/* The in-memory store inputs go into, replaced by a fresh one every
 * FUZZ_STORE_REUSE inputs (opening one costs more than loading a small
 * input); the first input of a process always meets a fresh store, so a crash
 * input replayed alone runs as it did unless it needed earlier inputs' rows.
 * fill: import FUZZ_POLICE_CSV into each new store. NULL when it cannot open. */
#define FUZZ_STORE_REUSE 128
static FUZZ_UNUSED struct store *fuzz_store_get(int fill)
{
	static struct store *cur;  /* the open store, NULL before the first input */
	static unsigned uses;      /* inputs given cur */
	struct mb_error err = { 0 };

	if (cur && uses++ < FUZZ_STORE_REUSE)
		return cur;
	store_close(cur);
	cur = NULL;
	uses = 1;
	if (store_open(":memory:", 0, &cur, &err))
		return NULL;
	if (fill)
		fuzz_store_fill(cur);
	return cur;
}

/* Import data[0..size) (a CSV; map_path: an agency column map, or NULL for a
 * police.uk file) into the shared store through ingest_stream(), then check
 * the invariant the store promises for every import: rows read = loaded +
 * duplicate + rejected. Any return value is fine. */
static FUZZ_UNUSED void fuzz_import(const uint8_t *data, size_t size, const char *map_path)
{
	struct store *s;
	struct mb_error err = { 0 };
	struct ingest_summary sum;
	FILE *in = NULL, *sink = NULL;

	if (size == 0)
		return; /* fmemopen() refuses a zero-length buffer */
	sink = fopen("/dev/null", "w");
	if (!sink || !(s = fuzz_store_get(0)))
		goto cleanup;
	in = fmemopen((void *)data, size, "r");
	if (!in)
		goto cleanup;
	struct ingest_opts o = { .out = sink, .msg = sink, .max_shown = 5, .map_path = map_path };

	(void)ingest_stream(s, in, "fuzz.csv", &o, &sum, &err);
	if (sum.total.rows_read != sum.total.rows_loaded + sum.total.rows_duplicate +
					   sum.total.rows_rejected)
		__builtin_trap();
cleanup:
	if (in)
		fclose(in);
	if (sink)
		fclose(sink);
}

/* The temporary folder of this process (created on first use, removed with
 * its files at exit): in /dev/shm when there is one (stores written there
 * cost no disk syncs), else $TMPDIR or /tmp. */
static char fuzz_dir[256];

static void fuzz_dir_remove(void)
{
	DIR *d = opendir(fuzz_dir);
	struct dirent *e;
	char p[512];

	if (!d)
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof(p), "%s/%s", fuzz_dir, e->d_name);
			unlink(p);
		}
	closedir(d);
	rmdir(fuzz_dir);
}

/* Fill out (cap bytes) with the path of file name in the temporary folder. */
static FUZZ_UNUSED void fuzz_path(char *out, size_t cap, const char *name)
{
	if (!fuzz_dir[0]) {
		const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm"
				   : getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR")
									   : "/tmp";

		snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/mb-fuzz-XXXXXX", base);
		if (!mkdtemp(fuzz_dir))
			abort();
		atexit(fuzz_dir_remove);
	}
	if ((size_t)snprintf(out, cap, "%s/%s", fuzz_dir, name) >= cap)
		abort();
}

/* Write n bytes to path (replacing it); abort when that fails. */
static FUZZ_UNUSED void fuzz_write(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, n, f) != n || fclose(f))
		abort();
}

#endif
