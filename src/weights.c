/* weights — read a harm-weights CSV (category, weight) with csvtab. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "microbeat/csvtab.h"
#include "microbeat/select.h"
#include "microbeat/slice.h"
#include "microbeat/weights.h"

/* Largest harm weight accepted: CCHI days run to about 5,500 (homicide); a
 * weight a million times that is a typing error, and totals stay finite. */
#define WEIGHT_MAX 1e9

/* Check the weight text s of row i (column 1); MB_EDATA at its place. */
static int weight_parse(const struct csvtab *t, size_t i, const char *s, double *v,
			struct mb_error *err)
{
	int bad;

	if (!*s)
		return csvtab_err(t, i, 1, err, MB_EDATA, "blank weight (give 0 for no harm)");
	if ((bad = csvtab_number(s, v)) == -1)
		return csvtab_err(t, i, 1, err, MB_EDATA, "weight '%.40s' is not a number", s);
	if (bad || *v < 0 || *v > WEIGHT_MAX)
		return csvtab_err(t, i, 1, err, MB_EDATA, "weight '%.40s' is outside 0 .. %.0f (or"
				  " too small for a double)", s, WEIGHT_MAX);
	return 0;
}

/* Refuse a category named twice (case aside), naming both lines. */
static int weight_duplicates(const struct csvtab *t, struct mb_error *err)
{
	/* weights files are a few dozen rows: pairs are fine */
	for (size_t i = 1; i < t->nrows; i++)
		for (size_t j = 0; j < i; j++)
			if (strcasecmp(t->rows[i].f[0], t->rows[j].f[0]) == 0)
				return csvtab_err(t, i, 0, err, MB_EDATA, "category '%.80s' is given"
						  " twice (also on line %ld)", t->rows[i].f[0],
						  t->rows[j].line);
	return 0;
}

int weights_load(const char *path, const struct slice *sl, double **weight, FILE *msg,
		 struct mb_error *err)
{
	char def[4096];
	struct csvtab t = { 0 };
	double *w = NULL;
	int r;

	*weight = NULL;
	if (!path) {
		if ((r = mb_data_path("harm_cchi.csv", def, sizeof(def), err)))
			return r;
		path = def;
	}
	if ((r = csvtab_read(path, &t, err)))
		return r;
	if (t.ncols < 2) {
		r = mb_err(err, MB_EDATA, "%s:%ld:1: the header has %zu column: want a category and a"
			   " weight", path, t.head_line, t.ncols);
		goto cleanup;
	}
	if (!(w = malloc(sl->ncat * sizeof(double)))) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < sl->ncat; i++)
		w[i] = NAN;
	for (size_t i = 0; i < t.nrows; i++) {
		double v;

		if (!*t.rows[i].f[0]) {
			r = csvtab_err(&t, i, 0, err, MB_EDATA, "blank category");
			goto cleanup;
		}
		if ((r = weight_parse(&t, i, t.rows[i].f[1], &v, err)))
			goto cleanup;
		for (size_t k = 1; k < sl->ncat; k++)
			if (sl->cat_name[k] && strcasecmp(sl->cat_name[k], t.rows[i].f[0]) == 0)
				w[k] = v;
	}
	if ((r = weight_duplicates(&t, err)))
		goto cleanup;
	for (size_t i = 1; i < sl->ncat; i++)
		if (sl->cat_name[i] && isnan(w[i]) && strcasecmp(sl->cat_name[i], "Anti-social behaviour"))
			fprintf(msg, "microbeat: %s gives no harm weight for '%s': it counts 0 harm\n",
				MB_SHOWN(path), MB_SHOWN(sl->cat_name[i]));
	*weight = w;
	w = NULL;
cleanup:
	free(w);
	csvtab_release(&t);
	return r;
}
