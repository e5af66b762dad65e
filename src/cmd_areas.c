/* cmd_areas — 'microbeat areas': load an area layer (boundaries, LSOA lookup,
 * population) or list the loaded layers. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* The column named name, or when name is NULL the first of the aliases found;
 * MB_EUSAGE naming what is missing. */
static int tab_pick(const struct csvtab *t, const char *name, const char *const *aliases,
		    const char *what, const char *opt, long *col, struct mb_error *err)
{
	if (name) {
		if ((*col = csvtab_col(t, name)) < 0)
			return mb_err(err, MB_EUSAGE, "%s: no column '%s' (%s)", t->path, name, what);
		return 0;
	}
	if ((*col = csvtab_pick(t, aliases)) >= 0)
		return 0;
	return mb_err(err, MB_EUSAGE, "%s: which column holds the %s? give %s", t->path, what, opt);
}

/* Options of one 'areas' run. */
struct areas_opts {
	const char *layer;       /* --layer */
	const char *boundaries;  /* --boundaries FILE */
	const char *code_field;  /* --code-field */
	const char *name_field;  /* --name-field */
	const char *lookup;      /* --lookup FILE */
	const char *lsoa_field;  /* --lsoa-field (comma-separated list allowed) */
	const char *unit_field;  /* --unit-field */
	const char *weight_field; /* --weight-field */
	const char *population;  /* --population FILE */
	const char *pop_code;    /* --pop-code-field */
	const char *pop_field;   /* --pop-field */
	double tolerance;        /* --tolerance METRES */
};

/* Everything a load builds, freed at the end. */
struct areas_work {
	struct geo_layer *geo;        /* boundaries */
	struct csvtab lk;             /* lookup file */
	struct csvtab pop;            /* population file */
	struct areas_unit *units;     /* units */
	size_t nunits, ucap;          /* used / allocated */
	struct areas_lookup *rows;    /* lookup rows */
	size_t nrows, rcap;           /* used / allocated */
};

/* Index of unit code in w (linear: layers have at most a few thousand units
 * and this runs once per lookup row only when building from a lookup). */
static long unit_find(const struct areas_work *w, const char *code)
{
	for (size_t i = 0; i < w->nunits; i++)
		if (strcmp(w->units[i].code, code) == 0)
			return (long)i;
	return -1;
}

static int unit_add(struct areas_work *w, const char *code, const char *name, struct mb_error *err)
{
	if (w->nunits == w->ucap) {
		size_t nc = w->ucap ? 2 * w->ucap : 64;
		struct areas_unit *v = realloc(w->units, nc * sizeof(*v));

		if (!v)
			return mb_err(err, MB_ENOMEM, "out of memory");
		w->units = v;
		w->ucap = nc;
	}
	w->units[w->nunits++] = (struct areas_unit){ .code = code, .name = name, .population = NAN };
	return 0;
}

/* Order lookup rows by LSOA code, then by line. */
static int cmp_lookup(const void *a, const void *b)
{
	const struct areas_lookup *x = a, *y = b;
	int c = strcmp(x->lsoa, y->lsoa);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Without weights an LSOA belongs to one unit: refuse two rows that map it to
 * different units (before, the lower unit id won silently), naming both lines. */
static int lookup_conflicts(struct areas_work *w, struct mb_error *err)
{
	struct areas_lookup *v = malloc(w->nrows * sizeof(*v));
	int r = 0;

	if (!v)
		return mb_err(err, MB_ENOMEM, "out of memory");
	memcpy(v, w->rows, w->nrows * sizeof(*v));
	qsort(v, w->nrows, sizeof(*v), cmp_lookup);
	for (size_t i = 1, first = 0; i < w->nrows && !r; i++) {
		if (strcmp(v[i].lsoa, v[first].lsoa) != 0) {
			first = i;
			continue;
		}
		if (strcmp(v[i].unit, v[first].unit) != 0)
			r = mb_err(err, MB_EDATA, "%s:%ld:%ld: LSOA '%s' maps to unit '%s' here and to"
				   " unit '%s' on line %ld: give --weight-field when an LSOA is split"
				   " between units", w->lk.path, v[i].line, v[i].col, v[i].lsoa,
				   v[i].unit, v[first].unit, v[first].line);
	}
	free(v);
	return r;
}

/* Find the LSOA code columns: those named by --lsoa-field (comma-separated),
 * else every known LSOA column (a lookup with both vintages maps both). */
static int lookup_lsoa_cols(const struct areas_opts *o, const struct csvtab *t, long *lcols,
			    size_t *nl, struct mb_error *err)
{
	static const char *const lsoa_cand[] = { "lsoa_code", "lsoa", "LSOA21CD", "LSOA11CD",
						 "LSOA code", "lsoa21_code", "lsoa11_code", NULL };

	*nl = 0;
	if (o->lsoa_field) {
		const char *p = o->lsoa_field;

		while (*p && *nl < 8) {
			size_t len = strcspn(p, ",");
			char name[128];

			if (len >= sizeof(name))
				return mb_err(err, MB_EUSAGE, "--lsoa-field: name too long");
			memcpy(name, p, len);
			name[len] = '\0';
			if ((lcols[*nl] = csvtab_col(t, name)) < 0)
				return mb_err(err, MB_EUSAGE, "%s: no column '%s' (LSOA code)", t->path, name);
			(*nl)++;
			p += len + (p[len] == ',');
		}
	} else {
		for (size_t i = 0; lsoa_cand[i] && *nl < 8; i++)
			if ((lcols[*nl] = csvtab_col(t, lsoa_cand[i])) >= 0)
				(*nl)++;
	}
	if (!*nl)
		return mb_err(err, MB_EUSAGE, "%s: which column holds the LSOA code? give --lsoa-field",
			      t->path);
	return 0;
}

/* Add the lookup rows of data row i (one per distinct LSOA column value). */
static int lookup_row(struct areas_work *w, size_t i, const long *lcols, size_t nl,
		      const char *unit, double weight, struct mb_error *err)
{
	const struct csvtab_row *row = &w->lk.rows[i];
	size_t added = 0;

	for (size_t k = 0; k < nl; k++) {
		const char *lsoa = row->f[lcols[k]];

		if (!*lsoa)
			continue;
		if (!csvtab_lsoa_code_ok(lsoa))
			return csvtab_err(&w->lk, i, lcols[k], err, MB_EDATA,
					  "LSOA code '%.40s' is not a letter and 8 digits", lsoa);
		added++;
		if (k && strcmp(lsoa, row->f[lcols[0]]) == 0)
			continue;
		if (w->nrows == w->rcap) {
			size_t nc = w->rcap ? 2 * w->rcap : 256;
			struct areas_lookup *v = realloc(w->rows, nc * sizeof(*v));

			if (!v)
				return mb_err(err, MB_ENOMEM, "out of memory");
			w->rows = v;
			w->rcap = nc;
		}
		w->rows[w->nrows++] = (struct areas_lookup){ .lsoa = lsoa, .unit = unit,
							     .weight = weight,
							     .line = row->pos[lcols[k]].line,
							     .col = row->pos[lcols[k]].col };
	}
	if (!added)
		return csvtab_err(&w->lk, i, lcols[0], err, MB_EDATA, "no LSOA code in this row");
	return 0;
}

/* Read the lookup: rows for every LSOA column given (or found), units from it
 * when there are no boundaries. */
static int read_lookup(const struct areas_opts *o, struct areas_work *w, FILE *msg,
		       struct mb_error *err)
{
	static const char *const unit_cand[] = { "unit_code", "unit", "parish_code", "ward_code",
						 "area_code", "code", NULL };
	long lcols[8], ucol, ncol = -1, wcol = -1, blank = 0;
	size_t nl = 0;
	int r;

	if ((r = csvtab_read(o->lookup, &w->lk, err)) ||
	    (r = lookup_lsoa_cols(o, &w->lk, lcols, &nl, err)) ||
	    (r = tab_pick(&w->lk, o->unit_field, unit_cand, "unit code", "--unit-field", &ucol, err)))
		return r;
	if (!w->geo && o->name_field && (ncol = csvtab_col(&w->lk, o->name_field)) < 0)
		return mb_err(err, MB_EUSAGE, "%s: no column '%s' (unit name)", o->lookup, o->name_field);
	if (o->weight_field && (wcol = csvtab_col(&w->lk, o->weight_field)) < 0)
		return mb_err(err, MB_EUSAGE, "%s: no column '%s' (weight)", o->lookup, o->weight_field);
	for (size_t i = 0; i < w->lk.nrows; i++) {
		char **row = w->lk.rows[i].f;
		const char *unit = row[ucol];
		double weight = 1;

		if (!*unit) {
			blank++;
			continue;
		}
		if (wcol >= 0 && (csvtab_number(row[wcol], &weight) || weight <= 0))
			return csvtab_err(&w->lk, i, wcol, err, MB_EDATA,
					  "weight '%.40s' is not a number > 0", row[wcol]);
		if (ncol >= 0 && !*row[ncol])
			return csvtab_err(&w->lk, i, ncol, err, MB_EDATA, "blank unit name");
		if (!w->geo && unit_find(w, unit) < 0 &&
		    (r = unit_add(w, unit, ncol >= 0 ? row[ncol] : NULL, err)))
			return r;
		if ((r = lookup_row(w, i, lcols, nl, unit, weight, err)))
			return r;
	}
	if (blank)
		fprintf(msg, "microbeat: %s: %ld rows without a unit code skipped\n", MB_SHOWN(o->lookup), blank);
	if (!w->nrows)
		return mb_err(err, MB_EDATA, "%s: no LSOA rows", o->lookup);
	return wcol < 0 ? lookup_conflicts(w, err) : 0;
}

/* A population row's code and index, to sort. */
struct pop_key {
	const char *code; /* unit code */
	size_t row;       /* data row of the population file */
};

/* Order population rows by code, then file order. */
static int cmp_pop(const void *a, const void *b)
{
	const struct pop_key *x = a, *y = b;
	int c = strcmp(x->code, y->code);

	return c ? c : (x->row > y->row) - (x->row < y->row);
}

/* Refuse a unit code given twice in the population file, naming both lines
 * (before, the last value won silently). */
static int pop_duplicates(const struct csvtab *t, long ccol, struct mb_error *err)
{
	struct pop_key *k = malloc((t->nrows ? t->nrows : 1) * sizeof(*k));
	int r = 0;

	if (!k)
		return mb_err(err, MB_ENOMEM, "out of memory");
	for (size_t i = 0; i < t->nrows; i++)
		k[i] = (struct pop_key){ t->rows[i].f[ccol], i };
	qsort(k, t->nrows, sizeof(*k), cmp_pop);
	for (size_t i = 1; i < t->nrows && !r; i++)
		if (strcmp(k[i].code, k[i - 1].code) == 0)
			r = csvtab_err(t, k[i].row, ccol, err, MB_EDATA,
				       "unit code '%.40s' given twice (also on line %ld)", k[i].code,
				       t->rows[k[i - 1].row].line);
	free(k);
	return r;
}

/* Read the populations onto the units. */
static int read_population(const struct areas_opts *o, struct areas_work *w, FILE *msg,
			   struct mb_error *err)
{
	static const char *const pop_cand[] = { "population", "pop", "residents", "pop_census2021",
						"usual_residents", NULL };
	const char *code_default[] = { o->code_field, o->unit_field, "code", "unit_code",
				       "parish_code", NULL };
	long ccol = -1, pcol = -1, unknown = 0;
	int r;

	if ((r = csvtab_read(o->population, &w->pop, err)))
		return r;
	if (o->pop_code) {
		if ((ccol = csvtab_col(&w->pop, o->pop_code)) < 0)
			return mb_err(err, MB_EUSAGE, "%s: no column '%s' (unit code)", o->population,
				      o->pop_code);
	} else {
		for (size_t i = 0; i < sizeof(code_default) / sizeof(*code_default) && ccol < 0; i++)
			if (code_default[i])
				ccol = csvtab_col(&w->pop, code_default[i]);
		if (ccol < 0)
			ccol = 0;
	}
	if (o->pop_field) {
		if ((pcol = csvtab_col(&w->pop, o->pop_field)) < 0)
			return mb_err(err, MB_EUSAGE, "%s: no column '%s' (population)", o->population,
				      o->pop_field);
	} else {
		pcol = csvtab_pick(&w->pop, pop_cand);
		for (size_t j = 0; pcol < 0 && j < w->pop.ncols; j++)
			if (strncasecmp(w->pop.head[j], "pop", 3) == 0)
				pcol = (long)j;
		if (pcol < 0)
			return mb_err(err, MB_EUSAGE, "%s: which column holds the population? give"
				      " --pop-field", o->population);
	}
	for (size_t i = 0; i < w->pop.nrows; i++) {
		char **row = w->pop.rows[i].f;
		double v;
		int bad;

		if (!*row[ccol])
			return csvtab_err(&w->pop, i, ccol, err, MB_EDATA, "blank unit code");
		if ((bad = csvtab_number(row[pcol], &v)) == -1)
			return csvtab_err(&w->pop, i, pcol, err, MB_EDATA,
					  "population '%.40s' is not a number", row[pcol]);
		if (bad || !(v >= AREAS_POP_MIN && v <= AREAS_POP_MAX))
			return csvtab_err(&w->pop, i, pcol, err, MB_EDATA,
					  "population '%.40s' is outside %.0f .. %.0f residents (leave an"
					  " unknown one out)", row[pcol], AREAS_POP_MIN, AREAS_POP_MAX);
	}
	if ((r = pop_duplicates(&w->pop, ccol, err)))
		return r;
	for (size_t i = 0; i < w->pop.nrows; i++) {
		char **row = w->pop.rows[i].f;
		long k = unit_find(w, row[ccol]);

		if (k < 0) {
			unknown++;
			continue;
		}
		csvtab_number(row[pcol], &w->units[k].population);
	}
	long missing = 0;

	for (size_t i = 0; i < w->nunits; i++)
		missing += !isfinite(w->units[i].population);
	if (unknown)
		fprintf(msg, "microbeat: %s: %ld codes are not units of layer '%s' (ignored)\n",
			MB_SHOWN(o->population), unknown, MB_SHOWN(o->layer));
	if (missing)
		fprintf(msg, "microbeat: %s: %ld of %zu units have no population (no rate for them)\n",
			MB_SHOWN(o->population), missing, w->nunits);
	return 0;
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
			if ((r = unit_add(&w, geo_layer_code(w.geo, i), geo_layer_name(w.geo, i), err)))
				goto cleanup;
		/* later imports reload the file: keep an absolute path */
		abs = realpath(o->boundaries, NULL);
		if (!abs) {
			r = mb_err(err, MB_EIO, "cannot resolve '%s': %s", o->boundaries, strerror(errno));
			goto cleanup;
		}
	}
	if (o->lookup && (r = read_lookup(o, &w, c->msg, err)))
		goto cleanup;
	if (o->population && (r = read_population(o, &w, c->msg, err)))
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
