/*
 * libFuzzer harness: the police.uk row parser alone, in memory (no store, no
 * SQLite): the import's parse of one file (parse_main: byte-order mark, libcsv
 * with the import's flags and recovery from malformed rows, header recognition
 * of street, outcomes and stop-and-search files, the UTF-8 check, row_street,
 * row_outcome and row_stop with their number, hex, coordinate and month
 * parsing and the duplicate set) on an fmemopen() stream, then the checks of
 * fuzz_rows.h on the batches it hands over, and: a file that starts with one
 * of the three police.uk headers exactly (after an optional BOM, then a line
 * end) is recognised as that kind.
 *
 * src/ingest_{queue,seen,rows,reject,parse}.c are compiled into this harness to reach the
 * static parser, and src/dict.c with them, so that their large blocks are pooled
 * (fuzz_pool.h);
 * scripts/fuzz.sh links the harness without their objects.
 * The slow end-to-end harness through a store is fuzz_police_csv.c.
 */
#include "fuzz_pool.h"
#include "../../src/ingest_queue.c"
#include "../../src/ingest_seen.c"
#include "../../src/ingest_rows.c"
#include "../../src/ingest_reject.c"
#include "../../src/ingest_parse.c"
#include "../../src/dict.c"
#define FUZZ_POOL_END
#include "fuzz_pool.h"

#include "fuzz_rows.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The kind a file starting with header h (n names) must get. */
static int starts_with_header(const uint8_t *data, size_t size, const char *const *h, int n)
{
	size_t at = 0;

	if (size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		at = 3;
	for (int i = 0; i < n; i++) {
		size_t l = strlen(h[i]);

		if (size - at < l + 1 || memcmp(data + at, h[i], l) != 0)
			return 0;
		at += l;
		if (data[at++] != (i + 1 < n ? ',' : '\n'))
			return 0;
	}
	return 1;
}

/* Parse one input and check it, and the kind its exact header implies. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ingest_run run; /* no agency map, no progress bar: a police.uk run */
	static const struct {
		const char *const *h; /* header */
		int n, kind;          /* its names, the kind it means */
	} H[] = { { HDR_STREET, 12, KIND_STREET }, { HDR_OUTCOMES, 10, KIND_OUTCOMES },
		  { HDR_STOP, 15, KIND_STOP } };

	int kind = rows_run(&run, data, size);

	if (kind < 0)
		return 0;
	for (size_t i = 0; i < sizeof(H) / sizeof(H[0]); i++)
		if (starts_with_header(data, size, H[i].h, H[i].n))
			ROWS_CHECK(kind == H[i].kind);
	return 0;
}
