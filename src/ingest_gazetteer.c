/* ingest_gazetteer — read a street gazetteer CSV (libcsv) and hand it to the store. */
#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "microbeat/gazetteer.h"
#include "microbeat/ingest.h"

/* Column roles and the header names accepted for each (first match wins). */
enum gcol { G_NAME, G_LON, G_LAT, G_LSOA, G_LSOA_NAME, G_AREA, G_NCOLS };
static const char *const GNAMES[G_NCOLS][4] = {
	{ "street_name", "street", "name", NULL },
	{ "longitude", "lon", "lng", NULL },
	{ "latitude", "lat", NULL, NULL },
	{ "lsoa_code", "lsoa", "lsoa21cd", "lsoa11cd" },
	{ "lsoa_name", "lsoa21nm", "lsoa11nm", NULL },
	{ "area_code", "area", "parish_code", NULL },
};

/* Parser state. */
struct gparse {
	const char *path;          /* for messages */
	int col[G_NCOLS];          /* field index of each role, -1 = absent */
	int header;                /* header seen */
	int field;                 /* current field index */
	long line;                 /* current line */
	char *f[G_NCOLS];          /* current row's role fields (owned) */
	struct gazetteer *g;       /* rows collected */
	int oom;                   /* out of memory */
	long bad;                  /* rows skipped */
	FILE *msg;                 /* where problems go */
};

static int gaz_push(struct gazetteer *g, const struct gaz_row *r)
{
	if (g->n == g->cap) {
		size_t ncap = g->cap ? g->cap * 2 : 4096;
		struct gaz_row *nv = realloc(g->rows, ncap * sizeof(*nv));

		if (!nv)
			return -1;
		g->rows = nv;
		g->cap = ncap;
	}
	g->rows[g->n++] = *r;
	return 0;
}

static void on_gfield(void *data, size_t len, void *ctx)
{
	struct gparse *p = ctx;
	const char *s = data;

	if (!p->header) {
		for (int c = 0; c < G_NCOLS; c++) {
			for (int k = 0; k < 4 && GNAMES[c][k]; k++) {
				if (p->col[c] < 0 && strlen(GNAMES[c][k]) == len &&
				    strncasecmp(s, GNAMES[c][k], len) == 0)
					p->col[c] = p->field;
			}
		}
	} else {
		for (int c = 0; c < G_NCOLS; c++) {
			if (p->col[c] != p->field)
				continue;
			free(p->f[c]);
			p->f[c] = strndup(s, len);
			if (!p->f[c])
				p->oom = 1;
		}
	}
	p->field++;
}

static void on_grow(int c, void *ctx)
{
	struct gparse *p = ctx;

	if (p->field == 0) { /* a line end outside a row */
		if (c == '\n')
			p->line++;
		return;
	}
	if (!p->header) {
		p->header = 1;
	} else {
		struct gaz_row r = { 0 };
		char *end;

		r.lon = r.lat = NAN;
		if (p->f[G_LON] && *p->f[G_LON]) {
			errno = 0;
			r.lon = strtod(p->f[G_LON], &end);
			if (*end || errno)
				r.lon = NAN;
		}
		if (p->f[G_LAT] && *p->f[G_LAT]) {
			errno = 0;
			r.lat = strtod(p->f[G_LAT], &end);
			if (*end || errno)
				r.lat = NAN;
		}
		if (!p->f[G_NAME] || !*p->f[G_NAME]) {
			if (p->bad++ < 10)
				fprintf(p->msg, "microbeat: %s:%ld:1: blank street name; row skipped\n",
					MB_SHOWN(p->path), p->line);
		} else {
			r.name = p->f[G_NAME];
			r.lsoa = p->f[G_LSOA];
			r.lsoa_name = p->f[G_LSOA_NAME];
			r.area = p->f[G_AREA];
			p->f[G_NAME] = p->f[G_LSOA] = p->f[G_LSOA_NAME] = p->f[G_AREA] = NULL;
			if (gaz_push(p->g, &r)) {
				p->oom = 1;
				free(r.name);
				free(r.lsoa);
				free(r.lsoa_name);
				free(r.area);
			}
		}
	}
	for (int k = 0; k < G_NCOLS; k++) {
		free(p->f[k]);
		p->f[k] = NULL;
	}
	p->field = 0;
	if (c == '\n')
		p->line++;
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
	struct csv_parser csv;
	struct gparse p = { .path = path, .line = 1, .g = g, .msg = msg };
	FILE *fp = fopen(path, "rb");
	char buf[1 << 16];
	size_t n;
	int r = 0;

	memset(g, 0, sizeof(*g));
	for (int c = 0; c < G_NCOLS; c++)
		p.col[c] = -1;
	if (!fp)
		return mb_err(err, MB_EIO, "cannot open '%s': %s", path, strerror(errno));
	csv_init(&csv, CSV_STRICT | CSV_REPALL_NL | CSV_STRICT_FINI | CSV_APPEND_NULL);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0) {
		size_t off = (p.line == 1 && !p.header && n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
				     ? 3 : 0;

		if (csv_parse(&csv, buf + off, n - off, on_gfield, on_grow, &p) != n - off) {
			r = mb_err(err, MB_EDATA, "%s:%ld:1: %s", path, p.line,
				   csv_strerror(csv_error(&csv)));
			goto cleanup;
		}
		if (p.oom) {
			r = mb_err(err, MB_ENOMEM, "out of memory reading '%s'", path);
			goto cleanup;
		}
	}
	if (ferror(fp)) {
		r = mb_err(err, MB_EIO, "%s: read error: %s", path, strerror(errno));
		goto cleanup;
	}
	if (csv_fini(&csv, on_gfield, on_grow, &p) != 0) {
		r = mb_err(err, MB_EDATA, "%s:%ld:1: unterminated quoted field at end of file", path,
			   p.line);
		goto cleanup;
	}
	if (p.oom) {
		r = mb_err(err, MB_ENOMEM, "out of memory reading '%s'", path);
		goto cleanup;
	}
	if (p.col[G_NAME] < 0) {
		r = mb_err(err, MB_EDATA,
			   "%s:1:1: no street name column (street_name, street or name) in the header",
			   path);
		goto cleanup;
	}
	g->has_lsoa = p.col[G_LSOA] >= 0;
	g->skipped = p.bad;
cleanup:
	for (int k = 0; k < G_NCOLS; k++)
		free(p.f[k]);
	csv_free(&csv);
	fclose(fp);
	if (r)
		gazetteer_release(g);
	return r;
}
