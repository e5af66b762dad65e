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
	fuzz_import(data, size, NULL);
	return 0;
}
