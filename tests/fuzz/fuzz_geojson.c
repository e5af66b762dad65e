/*
 * libFuzzer harness: GeoJSON boundary layers — geo_layer_load() on a
 * temporary file holding the input (code property "code", name "name"), then
 * point lookups (inside, on edges, far away, non-finite) when it loads.
 *
 * Build and run with scripts/fuzz.sh.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "microbeat/geo.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char json_path[64]; /* the temporary file rewritten for every input */

/* Remove the temporary file at exit. */
static void json_remove(void)
{
	if (json_path[0])
		unlink(json_path);
}

/* Create the temporary file once; abort if that fails. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(json_path, sizeof(json_path), "/tmp/mb-fuzz-geo-XXXXXX");
	int fd = mkstemp(json_path);

	if (fd < 0 || close(fd))
		abort();
	atexit(json_remove);
	return 0;
}

/* Load one layer and look a few points up in it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const double PTS[][2] = { { 0.5, 0.5 }, { 0, 0 }, { 1, 1 }, { 0.12, 52.2 },
					 { -180, 90 }, { 1e300, -1e300 } };
	struct geo_layer *layer = NULL;
	struct mb_error err = { 0 };
	FILE *f = fopen(json_path, "w");

	if (!f)
		abort();
	if (fwrite(data, 1, size, f) != size || fclose(f))
		abort();
	if (geo_layer_load(json_path, "code", "name", &layer, &err))
		return 0;
	size_t n = geo_layer_count(layer);
	for (size_t i = 0; i < n; i++)
		if (!geo_layer_code(layer, i) || !geo_layer_name(layer, i))
			__builtin_trap();
	for (size_t i = 0; i < sizeof(PTS) / sizeof(PTS[0]); i++) {
		long u = geo_layer_locate(layer, PTS[i][0], PTS[i][1]);
		long v = geo_layer_locate_nearest(layer, PTS[i][0], PTS[i][1], 5000);

		if (u >= (long)n || v >= (long)n || (u >= 0 && v != u))
			__builtin_trap();
	}
	if (geo_layer_locate(layer, NAN, 52) != -1)
		__builtin_trap();
	geo_layer_free(layer);
	return 0;
}
