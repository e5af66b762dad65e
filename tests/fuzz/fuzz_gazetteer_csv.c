/*
 * libFuzzer harness: the street gazetteer CSV of 'microbeat streets' —
 * gazetteer_read() on a temporary file holding the input, then, when it
 * reads, store_gazetteer_load() into an in-memory store that holds some crime
 * data (fuzz_common.h: streets seen there are matched, by LSOA code or, for a
 * gazetteer without one, by name within 1 km), then store_slice_load() to
 * read the street universe back.
 *
 * Invariants checked (__builtin_trap when broken):
 *   read:  every row has a non-empty name; a file ending inside a quoted
 *          field is refused (a bug this harness found: the rest of the file
 *          became one street name; regression seed regress-known-*);
 *   load:  rows = rows read, matched + added = rows, 0 <= merged <= rows;
 *   slice: streets flagged gazetteer = rows - merged (rows sharing a key count
 *          once), each with a name; a non-empty load marks the slice's
 *          gazetteer_loaded.
 *
 * Inputs share a store, renewed every FUZZ_STORE_REUSE inputs (a new gazetteer
 * replaces the previous one, but LSOAs it introduced stay).
 * Build and run with scripts/fuzz.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "microbeat/gazetteer.h"
#include "microbeat/slice.h"
#include "microbeat/store.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char csv_path[512]; /* the file rewritten for every input */
static FILE *sink;         /* /dev/null, for row messages */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_path(csv_path, sizeof(csv_path), "gazetteer.csv");
	sink = fopen("/dev/null", "w");
	if (!sink)
		abort();
	return 0;
}

/* Read, load and read back one gazetteer. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gazetteer g;
	struct gaz_stats gs;
	struct mb_error err = { 0 };
	struct store *s;

	fuzz_write(csv_path, data, size);
	if (gazetteer_read(csv_path, &g, sink, &err))
		return 0; /* released by gazetteer_read */
	for (size_t i = 0; i < g.n; i++)
		if (!g.rows[i].name || !g.rows[i].name[0])
			__builtin_trap();
	if (g.skipped < 0 || fuzz_csv_open_quote(data, size))
		__builtin_trap();
	if (!(s = fuzz_store_get(1)) || store_gazetteer_load(s, &g, 1, &gs, &err))
		goto done;
	if (gs.rows != (long)g.n || gs.matched + gs.added != gs.rows || gs.merged < 0 ||
	    gs.merged > gs.rows || gs.matched < 0 || gs.added < 0)
		__builtin_trap();

	/* the round trip: the street universe as analyses see it */
	struct slice sl = { 0 };
	struct slice_query q = { .from = FUZZ_MONTH_FIRST, .to = FUZZ_MONTH_LAST, .include_asb = 1 };

	if (store_slice_load(s, &q, &sl, &err) == 0) {
		long flagged = 0;

		for (size_t i = 1; i < sl.nstreet; i++) {
			if (!sl.streets[i].gazetteer)
				continue;
			flagged++;
			if (!sl.streets[i].name)
				__builtin_trap();
		}
		if (flagged != gs.rows - gs.merged || (gs.rows > 0 && !sl.gazetteer_loaded))
			__builtin_trap();
	}
	slice_release(&sl);
done:
	gazetteer_release(&g);
	return 0;
}
