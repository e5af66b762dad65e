/*
 * libFuzzer harness: the police.uk CSV import path (street, outcomes and
 * stop-and-search files; the kind is detected from the header) through
 * ingest_stream() on an fmemopen() stream into an in-memory store.
 *
 * Inputs share an in-memory store, renewed every STORE_REUSE inputs.
 * Build and run with scripts/fuzz.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "microbeat/ingest.h"
#include "microbeat/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The store inputs go into: in memory, replaced by a fresh one every
 * STORE_REUSE inputs (opening one costs more than importing a small input).
 * The first input of a process always meets a fresh store, so a crash input
 * replayed alone runs as it did unless it needed earlier inputs' rows. */
#define STORE_REUSE 128
static struct store *store_cur; /* the open store, NULL before the first input */
static unsigned store_uses;     /* inputs imported into store_cur */

/* Return the store for the next input (NULL when it cannot be opened). */
static struct store *store_get(void)
{
	struct mb_error err = { 0 };

	if (store_cur && store_uses++ < STORE_REUSE)
		return store_cur;
	store_close(store_cur);
	store_cur = NULL;
	store_uses = 1;
	if (store_open(":memory:", 0, &store_cur, &err))
		return NULL;
	return store_cur;
}

/* Import one input; any return value is fine, only crashes, leaks and
 * sanitizer reports count. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store *s;
	struct mb_error err = { 0 };
	struct ingest_summary sum;
	FILE *in = NULL, *sink = NULL;

	if (size == 0)
		return 0; /* fmemopen() refuses a zero-length buffer */
	sink = fopen("/dev/null", "w");
	if (!sink || !(s = store_get()))
		goto cleanup;
	in = fmemopen((void *)data, size, "r");
	if (!in)
		goto cleanup;
	struct ingest_opts o = { .progress = 0, .quiet = 0, .out = sink, .msg = sink,
				 .max_shown = 5 };
	(void)ingest_stream(s, in, "fuzz.csv", &o, &sum, &err);
	/* the invariant the store promises for every import */
	if (sum.total.rows_read != sum.total.rows_loaded + sum.total.rows_duplicate +
					   sum.total.rows_rejected)
		__builtin_trap();
cleanup:
	if (in)
		fclose(in);
	if (sink)
		fclose(sink);
	return 0;
}
