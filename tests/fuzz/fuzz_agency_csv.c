/*
 * libFuzzer harness: a partner agency's CSV imported through a column map
 * (ingest_stream() with ingest_opts.map_path). The first byte of the input
 * picks one of three maps (date + longitude/latitude, month + LSOA code,
 * date with a time + British National Grid); the rest is the CSV.
 *
 * Inputs share an in-memory store, renewed every FUZZ_STORE_REUSE inputs. Build and run with scripts/fuzz.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "microbeat/ingest.h"
#include "microbeat/store.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The maps, written to temporary files once per process. */
static const char *const MAPS[] = {
	"[source]\nname = Fuzz Fire\n[columns]\nid = ref\ndate = when\n"
	"date_format = %d/%m/%Y\ncategory = type\nlongitude = lon\nlatitude = lat\n",
	"[source]\nname = Fuzz Council\n[columns]\nmonth = Month\ncategory = Type\n"
	"lsoa = LSOA\n",
	"[columns]\nid = id\ndate = date\ndate_format = %Y-%m-%d%*\ncategory = cat\n"
	"easting = e\nnorthing = n\n",
};
#define NMAPS (sizeof(MAPS) / sizeof(MAPS[0]))

static char map_path[NMAPS][64]; /* temp file of each map */

/* Remove the map files at exit. */
static void maps_remove(void)
{
	for (size_t i = 0; i < NMAPS; i++)
		if (map_path[i][0])
			unlink(map_path[i]);
}

/* Write each map to a temporary file; abort if that fails (nothing to fuzz). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	for (size_t i = 0; i < NMAPS; i++) {
		snprintf(map_path[i], sizeof(map_path[i]), "/tmp/mb-fuzz-map-XXXXXX");
		int fd = mkstemp(map_path[i]);
		size_t n = strlen(MAPS[i]);

		if (fd < 0 || write(fd, MAPS[i], n) != (ssize_t)n || close(fd))
			abort();
	}
	atexit(maps_remove);
	return 0;
}

/* Import one input through the map its first byte selects. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size >= 2)
		fuzz_import(data + 1, size - 1, map_path[data[0] % NMAPS]);
	return 0;
}
