/* gazetteer — read a street gazetteer CSV (csvtab), validated like street files.
 *
 * A national gazetteer is ~800,000 rows: they are lent one by one by
 * csvtab_scan (no copy of the whole table, no malloc a field) and their
 * strings copied into an arena. Reading stays all or nothing, as with
 * csvtab_read: a problem in a row is kept while the scan goes on, so a
 * malformed file later on is still the error given, as it was when the
 * file was read whole before any row was looked at. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>

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

/* Blank-name rows named on msg (the rest are counted only). */
#define BLANK_SHOWN 10

/* Arena block size: strings are a few tens of bytes, a national file's
 * ~35 MB; blocks are 2 MB-aligned and marked for transparent huge pages
 * (4 KB pages cost a fault each: ~9,000 for a national gazetteer). */
#define BLOCK_BYTES ((size_t)4 << 20)
#define BLOCK_ALIGN ((size_t)2 << 20)

/* The scan's state. */
struct gread {
	struct gazetteer *g;            /* what is read */
	long col[G_NCOLS];              /* column of each role, -1 absent */
	int header_done;                /* columns looked up (at the first row or the end) */
	int failed;                     /* a header or row problem is in bad: rows after it are skipped */
	struct mb_error bad;            /* that first problem, given once the whole file parsed */
	struct csvtab_pos blank[BLANK_SHOWN]; /* where the first blank names are, for msg */
};

/* Copy s (len bytes and its NUL) into g's arena; NULL on OOM. */
static char *arena_put(struct gazetteer *g, const char *s, size_t len)
{
	char *d;

	if (len + 1 > g->left) {
		size_t sz = len + 1 > BLOCK_BYTES ? len + 1 : BLOCK_BYTES;

		void *b = NULL;

		if (GROW(g->blocks, g->nblocks + 1, g->bcap) || posix_memalign(&b, BLOCK_ALIGN, sz))
			return NULL;
		madvise(b, sz, MADV_HUGEPAGE);
		d = b;
		g->blocks[g->nblocks++] = d;
		g->at = d;
		g->left = sz;
	}
	d = g->at;
	memcpy(d, s, len + 1);
	g->at += len + 1;
	g->left -= len + 1;
	return d;
}

/* Copy field col of row r into g's arena: *out NULL when the column is
 * absent or the field blank; its length to *len (may be NULL). -1 on OOM. */
static int take(struct gazetteer *g, const struct csvtab_row *r, long col, char **out,
		size_t *len)
{
	size_t n;

	*out = NULL;
	if (col < 0 || !*r->f[col])
		return 0;
	n = strlen(r->f[col]);
	if (len)
		*len = n;
	*out = arena_put(g, r->f[col], n);
	return *out ? 0 : -1;
}

/* Powers of ten exact in a double (10^22 is the last). */
static const double POW10[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
				1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
				1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

/* csvtab_number() for the common coordinate, without strtod: a sign, at most
 * 15 digits with a '.' and nothing else is m / 10^k with m < 2^53 and k <= 15,
 * both exact, so the one correctly rounded division gives strtod's value.
 * Anything else goes to csvtab_number. */
static int number(const char *s, double *v)
{
	const char *p = s + (*s == '+' || *s == '-');
	uint64_t m = 0;
	int digits = 0, frac = -1;

	for (; *p; p++) {
		if (*p >= '0' && *p <= '9') {
			m = m * 10 + (uint64_t)(*p - '0');
			digits++;
			frac += frac >= 0;
		} else if (*p == '.' && frac < 0) {
			frac = 0;
		} else {
			return csvtab_number(s, v);
		}
	}
	if (!digits || digits > 15)
		return csvtab_number(s, v);
	*v = (double)m / POW10[frac < 0 ? 0 : frac];
	if (*s == '-')
		*v = -*v;
	return 0;
}

/* Parse coordinate field col of r into *v (NaN when blank); MB_EDATA at its
 * place when it is not a number or lies outside [lo, hi] (the bounds the
 * import applies to street files). */
static int coord(const struct csvtab *t, const struct csvtab_row *r, long col, const char *what,
		 double lo, double hi, double *v, struct mb_error *err)
{
	const char *s = col >= 0 ? r->f[col] : "";

	*v = NAN;
	if (!*s)
		return 0;
	if (number(s, v))
		return csvtab_row_err(t, r, col, err, MB_EDATA, "%s '%.40s' is not a number", what, s);
	if (*v < lo || *v > hi)
		return csvtab_row_err(t, r, col, err, MB_EDATA, "%s %.6f is outside the UK (%g..%g)",
				      what, *v, lo, hi);
	return 0;
}

/* Check row r (coordinates, LSOA code): 0, or MB_EDATA at the offending field. */
static int row_check(const struct csvtab *t, const struct csvtab_row *r, const long *col,
		     struct gaz_row *out, struct mb_error *err)
{
	int rc;

	if ((rc = coord(t, r, col[G_LON], "longitude", INGEST_LON_MIN, INGEST_LON_MAX, &out->lon,
			err)) ||
	    (rc = coord(t, r, col[G_LAT], "latitude", INGEST_LAT_MIN, INGEST_LAT_MAX, &out->lat, err)))
		return rc;
	if (isnan(out->lon) != isnan(out->lat)) {
		long blank = isnan(out->lon) ? col[G_LON] : col[G_LAT];

		return csvtab_row_err(t, r, blank, err, MB_EDATA, "%s is blank but %s is not (both or"
				      " neither)", isnan(out->lon) ? "longitude" : "latitude",
				      isnan(out->lon) ? "latitude" : "longitude");
	}
	if (col[G_LSOA] >= 0 && *r->f[col[G_LSOA]] && !csvtab_lsoa_code_ok(r->f[col[G_LSOA]]))
		return csvtab_row_err(t, r, col[G_LSOA], err, MB_EDATA,
				      "LSOA code '%.20s' is not a letter and 8 digits",
				      r->f[col[G_LSOA]]);
	return 0;
}

/* Look the columns up in t's header; a problem with them is kept in rd->bad. */
static void header_check(struct gread *rd, const struct csvtab *t)
{
	long *col = rd->col;

	rd->header_done = 1;
	for (int c = 0; c < G_NCOLS; c++)
		col[c] = csvtab_pick(t, GNAMES[c]);
	if (col[G_NAME] < 0) {
		rd->failed = 1;
		mb_err(&rd->bad, MB_EDATA, "%s:%ld:1: no street name column (street_name, street or"
		       " name) in the header", t->path, t->head_line);
	} else if ((col[G_LON] < 0) != (col[G_LAT] < 0)) {
		rd->failed = 1;
		mb_err(&rd->bad, MB_EDATA, "%s:%ld:1: a %s column without a %s column", t->path,
		       t->head_line, col[G_LON] < 0 ? "latitude" : "longitude",
		       col[G_LON] < 0 ? "longitude" : "latitude");
	}
	rd->g->has_lsoa = col[G_LSOA] >= 0;
}

/* csvtab_scan's sink: validate row r and copy it into the gazetteer (rows
 * without a name are counted, the first ones' places kept for msg). After
 * the first problem rows are only parsed. */
static int gaz_sink(void *ctx, const struct csvtab *t, const struct csvtab_row *r,
		    struct mb_error *err)
{
	struct gread *rd = ctx;
	struct gazetteer *g = rd->g;
	const long *col = rd->col;
	struct gaz_row row = { 0 };
	size_t len = 0;

	if (!rd->header_done)
		header_check(rd, t);
	if (rd->failed)
		return 0;
	if (row_check(t, r, col, &row, &rd->bad)) {
		rd->failed = 1;
		return 0;
	}
	if (!*r->f[col[G_NAME]]) {
		if (g->skipped < BLANK_SHOWN)
			rd->blank[g->skipped] = r->pos[col[G_NAME]];
		g->skipped++;
		return 0;
	}
	if (take(g, r, col[G_NAME], &row.name, &len) || take(g, r, col[G_LSOA], &row.lsoa, NULL) ||
	    take(g, r, col[G_LSOA_NAME], &row.lsoa_name, NULL) ||
	    take(g, r, col[G_AREA], &row.area, NULL) ||
	    (g->n == g->cap && GROW(g->rows, g->n + 1, g->cap)))
		return mb_err(err, MB_ENOMEM, "out of memory reading '%s'", t->path);
	g->rows[g->n++] = row;
	if (len > g->longest)
		g->longest = len;
	return 0;
}

double gazetteer_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void gazetteer_release(struct gazetteer *g)
{
	for (size_t i = 0; i < g->nblocks; i++)
		free(g->blocks[i]);
	free(g->blocks);
	free(g->rows);
	memset(g, 0, sizeof(*g));
}

int gazetteer_read(const char *path, struct gazetteer *g, FILE *msg, struct mb_error *err)
{
	struct gread rd = { .g = g };
	struct csvtab t;
	int r;

	memset(g, 0, sizeof(*g));
	if ((r = csvtab_scan(path, &t, gaz_sink, &rd, err)))
		goto cleanup;
	if (!rd.header_done)
		header_check(&rd, &t);
	/* the blank names before the first problem, as a row-by-row reading names them */
	for (long i = 0; i < g->skipped && i < BLANK_SHOWN; i++)
		fprintf(msg, "microbeat: %s:%ld:%ld: blank street name; row skipped\n",
			MB_SHOWN(t.path), rd.blank[i].line, rd.blank[i].col);
	if (rd.failed)
		r = mb_err(err, rd.bad.code, "%s", rd.bad.msg);
cleanup:
	csvtab_release(&t);
	if (r)
		gazetteer_release(g);
	return r;
}
