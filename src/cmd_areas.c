/* cmd_areas — 'microbeat areas': load an area layer (boundaries, LSOA lookup,
 * population) or list the loaded layers. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "areas_internal.h"
#include "microbeat/areas.h"
#include "microbeat/cli.h"
#include "microbeat/csvtab.h"
#include "microbeat/geo.h"
#include "microbeat/store.h"

/* Parse a non-negative number (an option's value); 0 or -1. */
static int parse_num(const char *s, double *v)
{
	return csvtab_number(s, v) || *v < 0 ? -1 : 0;
}

/* Load one layer as the options say. */
static int areas_load(struct cli *c, const struct areas_opts *o, struct mb_error *err)
{
	struct areas_work w = { 0 };
	struct areas_stats st;
	struct store *s = NULL;
	char *abs = NULL;
	int r;

	if (o->boundaries) {
		if (!o->code_field) {
			r = mb_err(err, MB_EUSAGE, "areas: --boundaries needs --code-field");
			goto cleanup;
		}
		if ((r = geo_layer_load(o->boundaries, o->code_field, o->name_field, &w.geo, err)))
			goto cleanup;
		for (size_t i = 0; i < geo_layer_count(w.geo); i++)
			if ((r = areas_unit_add(&w, geo_layer_code(w.geo, i), geo_layer_name(w.geo, i),
						err)))
				goto cleanup;
		/* later imports reload the file: keep an absolute path */
		abs = realpath(o->boundaries, NULL);
		if (!abs) {
			r = mb_err(err, MB_EIO, "cannot resolve '%s': %s", o->boundaries, strerror(errno));
			goto cleanup;
		}
	}
	if (o->lookup && (r = areas_read_lookup(o, &w, c->msg, err)))
		goto cleanup;
	if (o->population && (r = areas_read_population(o, &w, c->msg, err)))
		goto cleanup;
	struct areas_spec spec = {
		.layer = o->layer, .units = w.units, .nunits = w.nunits, .geo = w.geo,
		.geo_path = abs, .geo_code_field = o->code_field, .tolerance_m = o->tolerance,
		.lookup = w.nrows ? w.rows : NULL, .nlookup = w.nrows,
	};

	if ((r = store_open(c->db_path, 0, &s, err)) || (r = store_areas_load(s, &spec, &st, err)))
		goto cleanup;
	if (!c->quiet) {
		fprintf(c->out, "layer '%s': %ld units", MB_SHOWN(o->layer), st.units);
		if (st.units_kept || st.units_dropped)
			fprintf(c->out, " (%ld kept from the previous load, %ld dropped)", st.units_kept,
				st.units_dropped);
		if (st.units_with_pop)
			fprintf(c->out, ", population %.0f in %ld units", st.population, st.units_with_pop);
		else
			fprintf(c->out, ", no population (flags will compare shares of streets)");
		fputc('\n', c->out);
		if (o->boundaries)
			fprintf(c->out, "  boundaries %s: %ld snap points with coordinates, %ld inside a"
					" unit%s\n", MB_SHOWN(o->boundaries), st.locations, st.located,
				o->tolerance > 0 ? " (or within the tolerance)" : "");
		if (o->lookup)
			fprintf(c->out, "  lookup %s: %ld LSOA rows, %ld of their codes seen in the store\n",
				MB_SHOWN(o->lookup), st.lookup_rows, st.lookup_lsoa_known);
		fprintf(c->out, "  located events: %ld in a unit, %ld in no unit\n", st.events_assigned,
			st.events_unassigned);
	}
cleanup:
	store_close(s);
	geo_layer_free(w.geo);
	csvtab_release(&w.lk);
	csvtab_release(&w.pop);
	free(w.units);
	free(w.rows);
	free(abs);
	return r;
}

int cmd_areas(struct cli *c, int argc, char **argv, struct mb_error *err)
{
	enum { O_LAYER = 1, O_BND, O_CODE, O_NAME, O_LOOKUP, O_LSOA, O_UNIT, O_WEIGHT, O_POP,
	       O_POPCODE, O_POPFIELD, O_TOL };
	static const struct option opts[] = {
		{ "layer", required_argument, NULL, O_LAYER },
		{ "boundaries", required_argument, NULL, O_BND },
		{ "code-field", required_argument, NULL, O_CODE },
		{ "name-field", required_argument, NULL, O_NAME },
		{ "lookup", required_argument, NULL, O_LOOKUP },
		{ "lsoa-field", required_argument, NULL, O_LSOA },
		{ "unit-field", required_argument, NULL, O_UNIT },
		{ "weight-field", required_argument, NULL, O_WEIGHT },
		{ "population", required_argument, NULL, O_POP },
		{ "pop-code-field", required_argument, NULL, O_POPCODE },
		{ "pop-field", required_argument, NULL, O_POPFIELD },
		{ "tolerance", required_argument, NULL, O_TOL },
		{ NULL, 0, NULL, 0 },
	};
	struct areas_opts o = { 0 };
	struct store *s = NULL;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case O_LAYER: o.layer = optarg; break;
		case O_BND: o.boundaries = optarg; break;
		case O_CODE: o.code_field = optarg; break;
		case O_NAME: o.name_field = optarg; break;
		case O_LOOKUP: o.lookup = optarg; break;
		case O_LSOA: o.lsoa_field = optarg; break;
		case O_UNIT: o.unit_field = optarg; break;
		case O_WEIGHT: o.weight_field = optarg; break;
		case O_POP: o.population = optarg; break;
		case O_POPCODE: o.pop_code = optarg; break;
		case O_POPFIELD: o.pop_field = optarg; break;
		case O_TOL:
			if (parse_num(optarg, &o.tolerance) || o.tolerance > 10000)
				return mb_err(err, MB_EUSAGE, "--tolerance wants metres (0..10000), not '%s'",
					      optarg);
			break;
		default: return -MB_EUSAGE;
		}
	}
	if (optind < argc)
		return mb_err(err, MB_EUSAGE, "areas: unexpected argument '%s'", argv[optind]);
	if (!o.layer) {
		if (o.boundaries || o.lookup || o.population)
			return mb_err(err, MB_EUSAGE, "areas: give the layer's name with --layer");
		if ((r = store_open(c->db_path, STORE_READONLY, &s, err)))
			return r;
		r = store_areas_info(s, c->out, err);
		store_close(s);
		return r;
	}
	if (!*o.layer || strlen(o.layer) > 64)
		return mb_err(err, MB_EUSAGE, "areas: --layer wants a name of 1..64 bytes");
	if (!o.boundaries && !o.lookup)
		return mb_err(err, MB_EUSAGE, "areas: give --boundaries FILE or --lookup FILE (or both)");
	return areas_load(c, &o, err);
}
