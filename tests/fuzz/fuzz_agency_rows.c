/*
 * libFuzzer harness: a partner agency's CSV through its column map, in memory
 * (no store, no SQLite): the import's parse of one file (parse_main) binding
 * the map to the header (agency_header, agencymap_bind) and loading each row
 * through it (row_agency: agencymap_parse_month_n, coordinates, British
 * National Grid points, LSOA codes, a layer's unit codes, ids and the
 * duplicate set), then the checks of fuzz_rows.h on the batches.
 *
 * The first byte of the input picks one of the maps below; the rest is the
 * CSV. Maps 0-2 are those of fuzz_agency_csv.c (the end-to-end harness
 * through a store), so its seeds serve here too; map 2 names no source, so it
 * gets one as `--source` would give it.
 *
 * src/ingest_{queue,seen,rows,reject,parse}.c are compiled into this harness to reach the
 * static parser, and src/dict.c with them, so that their large blocks are pooled
 * (fuzz_pool.h);
 * scripts/fuzz.sh links the harness without their objects.
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

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const MAPS[] = {
	/* 0: date + longitude/latitude, with an id */
	"[source]\nname = Fuzz Fire\n[columns]\nid = ref\ndate = when\n"
	"date_format = %d/%m/%Y\ncategory = type\nlongitude = lon\nlatitude = lat\n",
	/* 1: month + LSOA code */
	"[source]\nname = Fuzz Council\n[columns]\nmonth = Month\ncategory = Type\n"
	"lsoa = LSOA\n",
	/* 2: date with a time + British National Grid */
	"[columns]\nid = id\ndate = date\ndate_format = %Y-%m-%d%*\ncategory = cat\n"
	"easting = e\nnorthing = n\n",
	/* 3: two-digit-year date + a layer's unit code */
	"[source]\nname = Fuzz Parish\n[columns]\ndate = Date\ndate_format = %y%m%d\n"
	"category = Kind\nunit = Parish\nunit_layer = parish\n",
	/* 4: month and year only + longitude/latitude, with an id */
	"[source]\nname = Fuzz ASB\n[columns]\nid = Ref\ndate = Reported\n"
	"date_format = %m/%Y\ncategory = Type\nlongitude = Lon\nlatitude = Lat\n",
	/* 5: the id in the last column */
	"[source]\nname = Fuzz Last\n[columns]\ncategory = type\ndate = when\n"
	"date_format = %d/%m/%Y\nlongitude = lon\nlatitude = lat\nid = ref\n",
};
#define NMAPS (sizeof(MAPS) / sizeof(MAPS[0]))

/* Unit codes of map 3's layer "parish" (ids 1, 2, ...). */
static const char *const UNITS[] = { "E04001234", "P01", "Ickleton", "Great Shelford" };

static struct agency agency[NMAPS]; /* each map loaded, with what it needs */
static struct ingest_run run[NMAPS]; /* a run for each */

/* Free what Initialize made. */
static void maps_free(void)
{
	for (size_t i = 0; i < NMAPS; i++) {
		agencymap_free(agency[i].map);
		geo_bng_close(agency[i].bng);
		dict_free(agency[i].units);
	}
}

/* Load every map as ingest_agency_open() does (the unit layer from UNITS
 * instead of a store); abort if that fails (nothing to fuzz). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	for (size_t i = 0; i < NMAPS; i++) {
		char path[512], name[32];
		struct mb_error err = { 0 };
		struct agency *a = &agency[i];

		snprintf(name, sizeof(name), "map%zu.ini", i);
		fuzz_path(path, sizeof(path), name);
		fuzz_write(path, MAPS[i], strlen(MAPS[i]));
		if (agencymap_load(path, &a->map, &err)) {
			fprintf(stderr, "fuzz: map %zu: %s\n", i, err.msg);
			abort();
		}
		a->source = a->map->source_name ? a->map->source_name : "Fuzz BNG";
		if (a->map->location == AGENCYMAP_LOC_BNG && geo_bng_open(&a->bng, &err)) {
			fprintf(stderr, "fuzz: %s\n", err.msg);
			abort();
		}
		if (a->map->location == AGENCYMAP_LOC_UNIT) {
			if (!(a->units = dict_new()))
				abort();
			for (size_t u = 0; u < sizeof(UNITS) / sizeof(UNITS[0]); u++)
				if (dict_put(a->units, UNITS[u], strlen(UNITS[u]), (uint32_t)u + 1))
					abort();
			a->layer_id = 7;
		}
		run[i].agency = a;
		run[i].source_name = a->source;
	}
	atexit(maps_free);
	return 0;
}

/* Parse one input through the map its first byte picks, and check it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size >= 2)
		(void)rows_run(&run[data[0] % NMAPS], data + 1, size - 1);
	return 0;
}
