/* cmd_areas — 'microbeat areas': load an area layer (boundaries, LSOA lookup,
 * population) or list the loaded layers. */
#include <csv.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "microbeat/areas.h"
#include "microbeat/cli.h"
#include "microbeat/geo.h"
#include "microbeat/store.h"

/* A small CSV file read whole: header and rows of owned strings. */
struct csvtab {
	char **head;     /* column names (trimmed) */
	size_t ncols;    /* columns of the header */
	char ***rows;    /* rows[i][j]: field j of data row i ("" when short) */
	size_t nrows;    /* data rows */
	size_t cap;      /* rows allocated */
	char **cur;      /* fields of the row being read */
	size_t ncur;     /* fields read of it */
	size_t curcap;   /* fields allocated in cur */
	int oom;         /* an allocation failed */
};

/* Append one field to the current row (libcsv callback). */
static void tab_field(void *data, size_t len, void *ctx)
{
	struct csvtab *t = ctx;
	char *p;

	if (t->oom)
		return;
	if (t->ncur == t->curcap) {
		size_t nc = t->curcap ? 2 * t->curcap : 16;
		char **v = realloc(t->cur, nc * sizeof(char *));

		if (!v) {
			t->oom = 1;
			return;
		}
		t->cur = v;
		t->curcap = nc;
	}
	/* trim blanks (and a UTF-8 byte order mark on the first header field) */
	const char *s = data ? data : "";

	if (!t->head && !t->ncur && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3;
		len -= 3;
	}
	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
		len--;
	p = malloc(len + 1);
	if (!p) {
		t->oom = 1;
		return;
	}
	memcpy(p, s, len);
	p[len] = '\0';
	t->cur[t->ncur++] = p;
}

/* End the current row (libcsv callback): the first is the header. */
static void tab_row(int c, void *ctx)
{
	struct csvtab *t = ctx;

	(void)c;
	if (t->oom)
		goto reset;
	if (t->ncur == 1 && !t->cur[0][0]) { /* blank line */
		free(t->cur[0]);
		goto reset;
	}
	if (!t->head) {
		t->head = t->cur;
		t->ncols = t->ncur;
		t->cur = NULL;
		t->curcap = 0;
		goto reset;
	}
	if (t->nrows == t->cap) {
		size_t nc = t->cap ? 2 * t->cap : 256;
		char ***nr = realloc(t->rows, nc * sizeof(char **));

		if (!nr) {
			t->oom = 1;
			goto reset;
		}
		t->rows = nr;
		t->cap = nc;
	}
	char **row = calloc(t->ncols ? t->ncols : 1, sizeof(char *));

	if (!row) {
		t->oom = 1;
		goto reset;
	}
	for (size_t j = 0; j < t->ncols; j++) {
		if (j < t->ncur) {
			row[j] = t->cur[j];
			t->cur[j] = NULL;
		} else if (!(row[j] = strdup(""))) {
			t->oom = 1;
		}
	}
	t->rows[t->nrows++] = row;
	for (size_t j = t->ncols; j < t->ncur; j++)
		free(t->cur[j]);
	t->ncur = 0;
	return;
reset:
	if (t->oom)
		for (size_t j = 0; j < t->ncur; j++)
			free(t->cur ? t->cur[j] : NULL);
	t->ncur = 0;
}

static void tab_release(struct csvtab *t)
{
	for (size_t i = 0; i < t->nrows; i++) {
		for (size_t j = 0; j < t->ncols; j++)
			free(t->rows[i][j]);
		free(t->rows[i]);
	}
	for (size_t j = 0; t->head && j < t->ncols; j++)
		free(t->head[j]);
	free(t->head);
	free(t->rows);
	for (size_t j = 0; t->cur && j < t->ncur; j++)
		free(t->cur[j]); /* a row cut short by a parse error */
	free(t->cur);
	memset(t, 0, sizeof(*t));
}

/* Read path into t. MB_EIO when unreadable, MB_EDATA when malformed or empty. */
static int tab_read(const char *path, struct csvtab *t, struct mb_error *err)
{
	struct csv_parser p;
	char buf[16384];
	size_t n;
	int r = 0;
	FILE *f;

	memset(t, 0, sizeof(*t));
	f = fopen(path, "rb");
	if (!f)
		return mb_err(err, MB_EIO, "cannot open '%s': %s", path, strerror(errno));
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
		fclose(f);
		return mb_err(err, MB_ENOMEM, "out of memory");
	}
	while (!r && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (csv_parse(&p, buf, n, tab_field, tab_row, t) != n)
			r = mb_err(err, MB_EDATA, "%s: %s", path, csv_strerror(csv_error(&p)));
	if (!r && ferror(f))
		r = mb_err(err, MB_EIO, "error reading '%s'", path);
	if (!r && csv_fini(&p, tab_field, tab_row, t) != 0)
		r = mb_err(err, MB_EDATA, "%s: unterminated quoted field at end of file", path);
	csv_free(&p);
	fclose(f);
	if (!r && t->oom)
		r = mb_err(err, MB_ENOMEM, "out of memory reading '%s'", path);
	if (!r && !t->head)
		r = mb_err(err, MB_EDATA, "%s: empty file (no header)", path);
	if (r)
		tab_release(t);
	return r;
}

/* Column of t named name (case-insensitive), or -1. */
static long tab_col(const struct csvtab *t, const char *name)
{
	for (size_t j = 0; name && j < t->ncols; j++)
		if (strcasecmp(t->head[j], name) == 0)
			return (long)j;
	return -1;
}

/* The named column, or when name is NULL the first of the candidates found;
 * MB_EUSAGE naming what is missing. */
static int tab_pick(const struct csvtab *t, const char *path, const char *name,
		    const char *const *cand, const char *what, const char *opt, long *col,
		    struct mb_error *err)
{
	if (name) {
		if ((*col = tab_col(t, name)) < 0)
			return mb_err(err, MB_EUSAGE, "%s: no column '%s' (%s)", path, name, what);
		return 0;
	}
	for (size_t i = 0; cand && cand[i]; i++)
		if ((*col = tab_col(t, cand[i])) >= 0)
			return 0;
	return mb_err(err, MB_EUSAGE, "%s: which column holds the %s? give %s", path, what, opt);
}

/* Parse a non-negative number; 0 or -1. */
static int parse_num(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return (end == s || *end || errno || !isfinite(*v) || *v < 0) ? -1 : 0;
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

/* Read the lookup: rows for every LSOA column given (or found), units from it
 * when there are no boundaries. */
static int read_lookup(const struct areas_opts *o, struct areas_work *w, FILE *msg,
		       struct mb_error *err)
{
	static const char *const lsoa_cand[] = { "lsoa_code", "lsoa", "LSOA21CD", "LSOA11CD",
						 "LSOA code", "lsoa21_code", "lsoa11_code", NULL };
	static const char *const unit_cand[] = { "unit_code", "unit", "parish_code", "ward_code",
						 "area_code", "code", NULL };
	long lcols[8], ucol, ncol = -1, wcol = -1;
	size_t nl = 0;
	int r;

	if ((r = tab_read(o->lookup, &w->lk, err)))
		return r;
	if (o->lsoa_field) {
		const char *p = o->lsoa_field;

		while (*p && nl < 8) {
			size_t len = strcspn(p, ",");
			char name[128];

			if (len >= sizeof(name))
				return mb_err(err, MB_EUSAGE, "--lsoa-field: name too long");
			memcpy(name, p, len);
			name[len] = '\0';
			if ((lcols[nl] = tab_col(&w->lk, name)) < 0)
				return mb_err(err, MB_EUSAGE, "%s: no column '%s' (LSOA code)", o->lookup, name);
			nl++;
			p += len + (p[len] == ',');
		}
	} else {
		/* every LSOA code column: a lookup with both vintages maps both */
		for (size_t i = 0; lsoa_cand[i] && nl < 8; i++)
			if ((lcols[nl] = tab_col(&w->lk, lsoa_cand[i])) >= 0)
				nl++;
	}
	if (!nl)
		return mb_err(err, MB_EUSAGE, "%s: which column holds the LSOA code? give --lsoa-field",
			      o->lookup);
	if ((r = tab_pick(&w->lk, o->lookup, o->unit_field, unit_cand, "unit code", "--unit-field",
			  &ucol, err)))
		return r;
	if (!w->geo && o->name_field && (ncol = tab_col(&w->lk, o->name_field)) < 0)
		return mb_err(err, MB_EUSAGE, "%s: no column '%s' (unit name)", o->lookup, o->name_field);
	if (o->weight_field && (wcol = tab_col(&w->lk, o->weight_field)) < 0)
		return mb_err(err, MB_EUSAGE, "%s: no column '%s' (weight)", o->lookup, o->weight_field);
	long blank = 0;

	for (size_t i = 0; i < w->lk.nrows; i++) {
		char **row = w->lk.rows[i];
		const char *unit = row[ucol];
		double weight = 1;

		if (!*unit) {
			blank++;
			continue;
		}
		if (wcol >= 0 && (parse_num(row[wcol], &weight) || weight <= 0))
			return mb_err(err, MB_EDATA, "%s:%zu: weight '%s' is not a number > 0", o->lookup,
				      i + 2, row[wcol]);
		if (!w->geo && unit_find(w, unit) < 0 &&
		    (r = unit_add(w, unit, ncol >= 0 && *row[ncol] ? row[ncol] : NULL, err)))
			return r;
		for (size_t k = 0; k < nl; k++) {
			const char *lsoa = row[lcols[k]];

			if (!*lsoa || (k && strcmp(lsoa, row[lcols[0]]) == 0))
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
								     .weight = weight };
		}
	}
	if (blank)
		fprintf(msg, "microbeat: %s: %ld rows without a unit code skipped\n", MB_SHOWN(o->lookup), blank);
	if (!w->nrows)
		return mb_err(err, MB_EDATA, "%s: no LSOA rows", o->lookup);
	return 0;
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

	if ((r = tab_read(o->population, &w->pop, err)))
		return r;
	if (o->pop_code) {
		if ((ccol = tab_col(&w->pop, o->pop_code)) < 0)
			return mb_err(err, MB_EUSAGE, "%s: no column '%s' (unit code)", o->population,
				      o->pop_code);
	} else {
		for (size_t i = 0; i < sizeof(code_default) / sizeof(*code_default) && ccol < 0; i++)
			if (code_default[i])
				ccol = tab_col(&w->pop, code_default[i]);
		if (ccol < 0)
			ccol = 0;
	}
	if (o->pop_field) {
		if ((pcol = tab_col(&w->pop, o->pop_field)) < 0)
			return mb_err(err, MB_EUSAGE, "%s: no column '%s' (population)", o->population,
				      o->pop_field);
	} else {
		for (size_t i = 0; pop_cand[i] && pcol < 0; i++)
			pcol = tab_col(&w->pop, pop_cand[i]);
		for (size_t j = 0; pcol < 0 && j < w->pop.ncols; j++)
			if (strncasecmp(w->pop.head[j], "pop", 3) == 0)
				pcol = (long)j;
		if (pcol < 0)
			return mb_err(err, MB_EUSAGE, "%s: which column holds the population? give"
				      " --pop-field", o->population);
	}
	for (size_t i = 0; i < w->pop.nrows; i++) {
		char **row = w->pop.rows[i];
		long k = unit_find(w, row[ccol]);
		double v;

		if (!*row[ccol])
			continue;
		if (parse_num(row[pcol], &v))
			return mb_err(err, MB_EDATA, "%s:%zu: population '%s' is not a number >= 0",
				      o->population, i + 2, row[pcol]);
		if (k < 0) {
			unknown++;
			continue;
		}
		w->units[k].population = v;
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
	tab_release(&w.lk);
	tab_release(&w.pop);
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
