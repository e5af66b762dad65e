/*
 * libFuzzer harness: the CSV inputs of 'microbeat areas' — the LSOA -> unit
 * lookup (--lookup) and the unit populations (--population). Their reader
 * (tab_read, read_lookup, read_population) is private to src/cmd_areas.c, so
 * the harness calls the command itself, cmd_areas(), with a store file in a
 * temporary folder that holds the crime rows of fuzz_common.h.
 *
 * Input: byte 0 picks the options (below; an ASCII digit '0'..'3' picks that
 * mode) and one '\n' after it is skipped; the rest up to the first line
 * "%%" is the lookup file, what follows that line the population file (empty
 * when there is no such line).
 *   0  --lookup L                               (columns found by name)
 *   1  --lookup L --population P                (columns found by name)
 *   2  --lookup L --population P with every column named: --lsoa-field
 *      lsoa_code,LSOA11CD --unit-field parish_code --name-field parish_name
 *      --weight-field weight --pop-code-field parish_code --pop-field population
 *   3  --boundaries B --code-field PARCD --name-field PARNM --tolerance 50
 *      --lookup L --population P, B three demo parishes (E04001783 Fen Drayton,
 *      E04001821 Lolworth, E04001843 Swavesey): lookup units must be among them
 *
 * When the command succeeds the harness reads the layer back (store_slice_load,
 * store_slice_units) and checks (__builtin_trap when broken): the layer has a
 * unit, every unit a non-empty code and a name, every population is NaN or
 * finite and >= 0 and has_population says whether one is; every event's unit
 * and every extra event's unit are in range; and the located events the
 * command reports (in a unit + in no unit) are as many after every load into
 * the same store; and the command refuses a lookup or population file that
 * ends inside a quoted field (a bug this harness found: the rest of the file
 * became one field; regression seed regress-known-*).
 *
 * Inputs share the store file, renewed every STORE_REUSE inputs (each load
 * replaces layer "fz"; which unit codes it keeps depends on the last load).
 * Build and run with scripts/fuzz.sh.
 */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "microbeat/areas.h"
#include "microbeat/cli.h"
#include "microbeat/slice.h"
#include "microbeat/store.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STORE_REUSE 128
#define LAYER "fz"

/* Three demo parishes (datasets/demo/parishes.geojson): E01990001 .. 3 lie in them. */
static const char BOUNDARIES[] =
	"{\"type\":\"FeatureCollection\",\"features\":[\n"
	"{\"type\":\"Feature\",\"properties\":{\"PARCD\":\"E04001783\",\"PARNM\":\"Fen Drayton\"},"
	"\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0.0,52.326923],[0.04375,52.326923],"
	"[0.04375,52.35],[0.0,52.35],[0.0,52.326923]]]}},\n"
	"{\"type\":\"Feature\",\"properties\":{\"PARCD\":\"E04001821\",\"PARNM\":\"Lolworth\"},"
	"\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0.04375,52.326923],[0.0875,52.326923],"
	"[0.0875,52.35],[0.04375,52.35],[0.04375,52.326923]]]}},\n"
	"{\"type\":\"Feature\",\"properties\":{\"PARCD\":\"E04001843\",\"PARNM\":\"Swavesey\"},"
	"\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0.0875,52.326923],[0.13125,52.326923],"
	"[0.13125,52.35],[0.0875,52.35],[0.0875,52.326923]]]}}\n"
	"]}\n";

static char db_path[512], lookup_path[512], pop_path[512], bnd_path[512];
static FILE *sink;              /* /dev/null, for the command's messages */
static unsigned store_uses;     /* inputs run (a new store file every STORE_REUSE) */
static long located_total = -1; /* located events the store holds (-1: not seen yet) */

/* Remove the store file (and its WAL) and make a fresh one with the crime rows. */
static void store_renew(void)
{
	static const char *const ext[] = { "", "-wal", "-shm", "-journal" };
	struct store *s = NULL;
	struct mb_error err = { 0 };
	char p[600];

	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", db_path, ext[i]);
		unlink(p);
	}
	if (store_open(db_path, 0, &s, &err)) {
		fprintf(stderr, "fuzz: cannot create the store: %s\n", err.msg);
		abort();
	}
	fuzz_store_fill(s);
	store_close(s);
	located_total = -1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_path(db_path, sizeof(db_path), "store.db");
	fuzz_path(lookup_path, sizeof(lookup_path), "lookup.csv");
	fuzz_path(pop_path, sizeof(pop_path), "population.csv");
	fuzz_path(bnd_path, sizeof(bnd_path), "parishes.geojson");
	fuzz_write(bnd_path, BOUNDARIES, sizeof(BOUNDARIES) - 1);
	sink = fopen("/dev/null", "w");
	if (!sink)
		abort();
	return 0;
}

/* Read layer LAYER back and check it; the command's output is in out. */
static void check_layer(const char *out)
{
	struct store *s = NULL;
	struct mb_error err = { 0 };
	struct slice sl = { 0 };
	struct slice_query q = { .from = FUZZ_MONTH_FIRST, .to = FUZZ_MONTH_LAST, .include_asb = 1 };
	struct area_units u;
	struct area_extra x;
	uint32_t *ue = NULL;
	const char *ev;
	long in_unit, in_none;

	/* located events: a property of the store, whichever layer is loaded */
	if ((ev = strstr(out, "located events: ")) &&
	    sscanf(ev, "located events: %ld in a unit, %ld in no unit", &in_unit, &in_none) == 2) {
		if (in_unit < 0 || in_none < 0)
			__builtin_trap();
		if (located_total < 0)
			located_total = in_unit + in_none;
		else if (located_total != in_unit + in_none)
			__builtin_trap();
	}
	if (store_open(db_path, STORE_READONLY, &s, &err))
		__builtin_trap(); /* the command just wrote it */
	if (store_slice_load(s, &q, &sl, &err))
		goto done;
	if (store_slice_units(s, LAYER, NULL, &sl, &ue, &u, &x, &err)) {
		if (err.code == MB_ENOTFOUND)
			__builtin_trap(); /* the layer the command loaded */
		goto done;
	}
	int any_pop = 0;

	if (u.n < 2)
		__builtin_trap();
	for (size_t i = 1; i < u.n; i++) {
		if (!u.code[i] || !u.code[i][0] || !u.name[i])
			__builtin_trap();
		if (isnan(u.population[i]))
			continue;
		if (!isfinite(u.population[i]) || u.population[i] < 0)
			__builtin_trap();
		any_pop = 1;
	}
	if (any_pop != (u.has_population != 0))
		__builtin_trap();
	for (size_t i = 0; i < sl.n; i++)
		if (ue[i] >= u.n)
			__builtin_trap();
	for (size_t i = 0; i < x.n; i++)
		if (!x.unit[i] || x.unit[i] >= u.n)
			__builtin_trap();
	free(ue);
	area_units_release(&u);
	area_extra_release(&x);
done:
	slice_release(&sl);
	store_close(s);
}

/* Run 'areas' on one input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[32];
	int argc = 0, mode;
	struct mb_error err = { 0 };
	char *out = NULL;
	size_t outlen = 0;

	if (size < 1)
		return 0;
	mode = data[0] & 3;
	data++, size--;
	if (size && data[0] == '\n')
		data++, size--;

	/* split at the first line "%%" */
	size_t lsize = size, poff = size;

	for (size_t i = 0; i + 2 <= size; i++)
		if ((i == 0 || data[i - 1] == '\n') && data[i] == '%' && data[i + 1] == '%' &&
		    (i + 2 == size || data[i + 2] == '\n')) {
			lsize = i;
			poff = i + 2 < size ? i + 3 : size;
			break;
		}
	fuzz_write(lookup_path, data, lsize);
	fuzz_write(pop_path, data + poff, size - poff);
	if (store_uses++ % STORE_REUSE == 0)
		store_renew();

	argv[argc++] = "areas";
	argv[argc++] = "--layer";
	argv[argc++] = LAYER;
	if (mode == 3) {
		argv[argc++] = "--boundaries";
		argv[argc++] = bnd_path;
		argv[argc++] = "--code-field";
		argv[argc++] = "PARCD";
		argv[argc++] = "--name-field";
		argv[argc++] = "PARNM";
		argv[argc++] = "--tolerance";
		argv[argc++] = "50";
	}
	argv[argc++] = "--lookup";
	argv[argc++] = lookup_path;
	if (mode >= 1) {
		argv[argc++] = "--population";
		argv[argc++] = pop_path;
	}
	if (mode == 2) {
		argv[argc++] = "--lsoa-field";
		argv[argc++] = "lsoa_code,LSOA11CD";
		argv[argc++] = "--unit-field";
		argv[argc++] = "parish_code";
		argv[argc++] = "--name-field";
		argv[argc++] = "parish_name";
		argv[argc++] = "--weight-field";
		argv[argc++] = "weight";
		argv[argc++] = "--pop-code-field";
		argv[argc++] = "parish_code";
		argv[argc++] = "--pop-field";
		argv[argc++] = "population";
	}
	argv[argc] = NULL;

	FILE *outf = open_memstream(&out, &outlen);

	if (!outf)
		abort();
	struct cli c = { .db_path = db_path, .out = outf, .msg = sink, .quiet = 0 };

	optind = 0; /* glibc: start getopt afresh */
	int rc = cmd_areas(&c, argc, argv, &err);

	fclose(outf);
	if (rc == 0 &&
	    (fuzz_csv_open_quote(data, lsize) || (mode >= 1 && fuzz_csv_open_quote(data + poff, size - poff))))
		__builtin_trap(); /* an unterminated quoted field must not be read (was a bug) */
	if (rc == 0)
		check_layer(out ? out : "");
	free(out);
	return 0;
}
