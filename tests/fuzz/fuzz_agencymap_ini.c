/*
 * libFuzzer harness: the agency column map (INI) — agencymap_load() on a
 * temporary file holding the input; when the map loads, bind it against a
 * header made of its own column names (so binding succeeds) and parse a few
 * fixed dates plus the input's last line with its date_format.
 *
 * Build and run with scripts/fuzz.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "microbeat/agencymap.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char ini_path[64]; /* the temporary file rewritten for every input */

/* Remove the temporary file at exit. */
static void ini_remove(void)
{
	if (ini_path[0])
		unlink(ini_path);
}

/* Create the temporary file once; abort if that fails. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(ini_path, sizeof(ini_path), "/tmp/mb-fuzz-ini-XXXXXX");
	int fd = mkstemp(ini_path);

	if (fd < 0 || close(fd))
		abort();
	atexit(ini_remove);
	return 0;
}

/* Load one map and exercise bind and month parsing when it loads. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const DATES[] = { "03/02/2024", "2024-02-29", "29/02/2023",
					     "2024-13", "1/1/99 12:00", "", "%", "2024-05" };
	struct agencymap *map = NULL;
	struct mb_error err = { 0 };
	const char *hdr[AGENCYMAP_NFIELDS + 1];
	size_t nh = 0;
	char *last = NULL;
	FILE *f = fopen(ini_path, "w");

	if (!f)
		abort();
	if (fwrite(data, 1, size, f) != size || fclose(f))
		abort();
	if (agencymap_load(ini_path, &map, &err))
		goto cleanup;
	for (int c = 0; c < AGENCYMAP_NFIELDS; c++)
		if (map->col[c].name)
			hdr[nh++] = map->col[c].name;
	hdr[nh++] = "extra";
	(void)agencymap_bind(map, hdr, nh, &err);
	for (size_t i = 0; i < sizeof(DATES) / sizeof(DATES[0]); i++) {
		int m;
		const char *why = NULL;

		(void)agencymap_parse_month(map, DATES[i], &m, &why);
	}
	/* the bytes after the last newline, not NUL-terminated: the libcsv entry point */
	size_t start = size;
	while (start > 0 && data[start - 1] != '\n')
		start--;
	last = malloc(size - start + 1);
	if (last) {
		int m;
		const char *why = NULL;

		memcpy(last, data + start, size - start);
		(void)agencymap_parse_month_n(map, last, size - start, &m, &why);
	}
cleanup:
	free(last);
	agencymap_free(map);
	return 0;
}
