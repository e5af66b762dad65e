/* ingest_weights — read a harm-weights CSV (category, weight) with libcsv. */
#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "microbeat/select.h"
#include "microbeat/slice.h"
#include "microbeat/weights.h"

/* Parser state: the current row's first two fields. */
struct wparse {
	char name[4096]; /* category */
	char value[64];  /* weight text */
	int field;       /* field index in the row */
	int toolong;     /* this row has a field longer than its buffer */
	int bad_long;    /* rows with a field too long to be a category or a weight */
	int row;         /* data rows seen (the header is row 0) */
	const struct slice *sl; /* categories to fill */
	double *w;       /* output */
	int bad;         /* rows with a non-numeric weight */
};

static void on_wfield(void *data, size_t len, void *ctx)
{
	struct wparse *p = ctx;
	char *dst = p->field == 0 ? p->name : p->field == 1 ? p->value : NULL;
	size_t cap = p->field == 0 ? sizeof(p->name) : sizeof(p->value);

	if (dst) {
		if (len >= cap) { /* never cut: a cut number is another number */
			p->toolong = 1;
			len = 0;
		}
		memcpy(dst, data, len);
		dst[len] = '\0';
	}
	p->field++;
}

static void on_wrow(int c, void *ctx)
{
	struct wparse *p = ctx;
	char *end;

	(void)c;
	if (p->field >= 2 && p->row++ > 0) { /* a data row (row 0 is the header) */
		errno = 0;
		double v = strtod(p->value, &end);

		if (p->toolong) {
			p->bad_long++;
		} else if (errno || *end || !isfinite(v) || v < 0) {
			p->bad++;
		} else {
			for (size_t i = 1; i < p->sl->ncat; i++)
				if (p->sl->cat_name[i] && strcasecmp(p->sl->cat_name[i], p->name) == 0)
					p->w[i] = v;
		}
	}
	p->field = 0;
	p->toolong = 0;
	p->name[0] = p->value[0] = '\0';
}

int weights_load(const char *path, const struct slice *sl, double **weight, FILE *msg,
		 struct mb_error *err)
{
	char def[4096], buf[8192];
	struct csv_parser csv;
	struct wparse p = { .sl = sl };
	FILE *f;
	size_t n;
	int r = 0;

	*weight = NULL;
	if (!path) {
		if ((r = mb_data_path("harm_cchi.csv", def, sizeof(def), err)))
			return r;
		path = def;
	}
	p.w = malloc(sl->ncat * sizeof(double));
	if (!p.w)
		return mb_err(err, MB_ENOMEM, "out of memory");
	for (size_t i = 0; i < sl->ncat; i++)
		p.w[i] = NAN;
	f = fopen(path, "rb");
	if (!f) {
		free(p.w);
		return mb_err(err, MB_EIO, "cannot open harm weights '%s': %s", path, strerror(errno));
	}
	csv_init(&csv, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (csv_parse(&csv, buf, n, on_wfield, on_wrow, &p) != n) {
			r = mb_err(err, MB_EDATA, "%s: %s", path, csv_strerror(csv_error(&csv)));
			break;
		}
	}
	if (!r && csv_fini(&csv, on_wfield, on_wrow, &p) != 0)
		r = mb_err(err, MB_EDATA, "%s: unterminated quoted field at end of file", path);
	csv_free(&csv);
	fclose(f);
	if (!r && p.bad_long)
		r = mb_err(err, MB_EDATA, "%s: %d rows with a category over %zu bytes or a weight over"
			   " %zu bytes", path, p.bad_long, sizeof(p.name) - 1, sizeof(p.value) - 1);
	if (!r && p.bad)
		r = mb_err(err, MB_EDATA, "%s: %d rows with a weight that is not a number >= 0", path,
			   p.bad);
	if (r) {
		free(p.w);
		return r;
	}
	for (size_t i = 1; i < sl->ncat; i++)
		if (sl->cat_name[i] && isnan(p.w[i]) && strcasecmp(sl->cat_name[i], "Anti-social behaviour"))
			fprintf(msg, "microbeat: %s gives no harm weight for '%s': it counts 0 harm\n",
				MB_SHOWN(path), MB_SHOWN(sl->cat_name[i]));
	*weight = p.w;
	return 0;
}
