/* gazetteer — read a street gazetteer CSV (csvtab), validated like street files. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "microbeat/csvtab.h"
#include "microbeat/gazetteer.h"
#include "microbeat/record.h"
#include "microbeat/util.h"

/* Column roles and the header names accepted for each (first match wins). */
enum gcol { G_NAME, G_LON, G_LAT, G_LSOA, G_LSOA_NAME, G_AREA, G_NCOLS };
static const char *const GNAMES[G_NCOLS][5] = {
	{ "street_name", "street", "name", NULL },
	{ "longitude", "lon", "lng", NULL },
	{ "latitude", "lat", NULL, NULL },
	{ "lsoa_code", "lsoa", "lsoa21cd", "lsoa11cd" },
	{ "lsoa_name", "lsoa21nm", "lsoa11nm", NULL },
	{ "area_code", "area", "parish_code", NULL },
};

/* Append r to g; -1 on OOM. */
static int gaz_push(struct gazetteer *g, const struct gaz_row *r)
{
	if (GROW(g->rows, g->n + 1, g->cap))
		return -1;
	g->rows[g->n++] = *r;
	return 0;
}

/* Take field col of row i of t (NULL when the column is absent or the field
 * blank); the table no longer owns it. */
static char *take(struct csvtab *t, size_t i, long col)
{
	char *f;

	if (col < 0 || !*t->rows[i].f[col])
		return NULL;
	f = t->rows[i].f[col];
	t->rows[i].f[col] = NULL;
	return f;
}

/* Parse coordinate field col of row i into *v (NaN when blank); MB_EDATA at
 * its place when it is not a number or lies outside [lo, hi] (the bounds the
 * import applies to street files). */
static int coord(const struct csvtab *t, size_t i, long col, const char *what, double lo,
		 double hi, double *v, struct mb_error *err)
{
	const char *s = col >= 0 ? t->rows[i].f[col] : "";

	*v = NAN;
	if (!*s)
		return 0;
	if (csvtab_number(s, v))
		return csvtab_err(t, i, col, err, MB_EDATA, "%s '%.40s' is not a number", what, s);
	if (*v < lo || *v > hi)
		return csvtab_err(t, i, col, err, MB_EDATA, "%s %.6f is outside the UK (%g..%g)", what,
				  *v, lo, hi);
	return 0;
}

/* Validate row i of t and move it into g (rows without a name are counted and
 * reported on msg, the first ten by line). */
static int gaz_row_take(struct csvtab *t, size_t i, const long *col, struct gazetteer *g,
			FILE *msg, struct mb_error *err)
{
	struct gaz_row r = { 0 };
	int rc;

	if ((rc = coord(t, i, col[G_LON], "longitude", INGEST_LON_MIN, INGEST_LON_MAX, &r.lon, err)) ||
	    (rc = coord(t, i, col[G_LAT], "latitude", INGEST_LAT_MIN, INGEST_LAT_MAX, &r.lat, err)))
		return rc;
	if (isnan(r.lon) != isnan(r.lat)) {
		long blank = isnan(r.lon) ? col[G_LON] : col[G_LAT];

		return csvtab_err(t, i, blank, err, MB_EDATA, "%s is blank but %s is not (both or"
				  " neither)", isnan(r.lon) ? "longitude" : "latitude",
				  isnan(r.lon) ? "latitude" : "longitude");
	}
	if (col[G_LSOA] >= 0 && *t->rows[i].f[col[G_LSOA]] &&
	    !csvtab_lsoa_code_ok(t->rows[i].f[col[G_LSOA]]))
		return csvtab_err(t, i, col[G_LSOA], err, MB_EDATA,
				  "LSOA code '%.20s' is not a letter and 8 digits", t->rows[i].f[col[G_LSOA]]);
	if (!*t->rows[i].f[col[G_NAME]]) {
		if (g->skipped++ < 10)
			fprintf(msg, "microbeat: %s:%ld:%ld: blank street name; row skipped\n", MB_SHOWN(t->path),
				t->rows[i].pos[col[G_NAME]].line, t->rows[i].pos[col[G_NAME]].col);
		return 0;
	}
	r.name = take(t, i, col[G_NAME]);
	r.lsoa = take(t, i, col[G_LSOA]);
	r.lsoa_name = take(t, i, col[G_LSOA_NAME]);
	r.area = take(t, i, col[G_AREA]);
	if (gaz_push(g, &r)) {
		free(r.name);
		free(r.lsoa);
		free(r.lsoa_name);
		free(r.area);
		return mb_err(err, MB_ENOMEM, "out of memory reading '%s'", t->path);
	}
	return 0;
}

void gazetteer_release(struct gazetteer *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->rows[i].name);
		free(g->rows[i].lsoa);
		free(g->rows[i].lsoa_name);
		free(g->rows[i].area);
	}
	free(g->rows);
	memset(g, 0, sizeof(*g));
}

int gazetteer_read(const char *path, struct gazetteer *g, FILE *msg, struct mb_error *err)
{
	struct csvtab t;
	long col[G_NCOLS];
	int r;

	memset(g, 0, sizeof(*g));
	if ((r = csvtab_read(path, &t, err)))
		return r;
	for (int c = 0; c < G_NCOLS; c++)
		col[c] = csvtab_pick(&t, GNAMES[c]);
	if (col[G_NAME] < 0) {
		r = mb_err(err, MB_EDATA, "%s:%ld:1: no street name column (street_name, street or name)"
			   " in the header", path, t.head_line);
		goto cleanup;
	}
	if ((col[G_LON] < 0) != (col[G_LAT] < 0)) {
		r = mb_err(err, MB_EDATA, "%s:%ld:1: a %s column without a %s column", path, t.head_line,
			   col[G_LON] < 0 ? "latitude" : "longitude",
			   col[G_LON] < 0 ? "longitude" : "latitude");
		goto cleanup;
	}
	for (size_t i = 0; i < t.nrows && !r; i++)
		r = gaz_row_take(&t, i, col, g, msg, err);
	g->has_lsoa = col[G_LSOA] >= 0;
cleanup:
	csvtab_release(&t);
	if (r)
		gazetteer_release(g);
	return r;
}
