/*
 * libFuzzer harness: the police.uk CSV import path (street, outcomes and
 * stop-and-search files; the kind is detected from the header) through
 * ingest_stream() on an fmemopen() stream into an in-memory store.
 *
 * Inputs share an in-memory store, renewed every FUZZ_STORE_REUSE inputs.
 * Build and run with scripts/fuzz.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_common.h"
#include "microbeat/ingest.h"
#include "microbeat/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	if (!sink || !(s = fuzz_store_get(0)))
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
