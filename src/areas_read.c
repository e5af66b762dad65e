/* areas_read — the files of 'microbeat areas' read with csvtab: an LSOA-to-unit
 * lookup (rows, and the units when there are no boundaries) and a population
 * file (onto the units). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "areas_internal.h"
#include "microbeat/util.h"

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

/* Index of unit code in w (linear: layers have at most a few thousand units
 * and this runs once per lookup row only when building from a lookup). */
static long unit_find(const struct areas_work *w, const char *code)
{
	for (size_t i = 0; i < w->nunits; i++)
		if (strcmp(w->units[i].code, code) == 0)
			return (long)i;
	return -1;
}

int areas_unit_add(struct areas_work *w, const char *code, const char *name, struct mb_error *err)
{
	if (GROW(w->units, w->nunits + 1, w->ucap))
		return mb_err(err, MB_ENOMEM, "out of memory");
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
		if (GROW(w->rows, w->nrows + 1, w->rcap))
			return mb_err(err, MB_ENOMEM, "out of memory");
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
int areas_read_lookup(const struct areas_opts *o, struct areas_work *w, FILE *msg,
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
		    (r = areas_unit_add(w, unit, ncol >= 0 ? row[ncol] : NULL, err)))
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
int areas_read_population(const struct areas_opts *o, struct areas_work *w, FILE *msg,
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
		for (size_t i = 0; i < ARRAY_SIZE(code_default) && ccol < 0; i++)
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
