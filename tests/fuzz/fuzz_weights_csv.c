/*
 * libFuzzer harness: the harm-weights CSV (category, weight; the default is
 * datasets/harm_cchi.csv, 'concentration --harm FILE' and 'flags' take
 * others) — weights_load() on a temporary file holding the input, for the
 * categories of a slice loaded once from an in-memory store with the crime
 * rows of fuzz_common.h. When the weights load, the harness weighs the
 * slice's events per street as 'concentration --harm' does and runs
 * conc_compute() on those harm counts (no bootstrap, no Monte Carlo).
 *
 * Invariants checked (__builtin_trap when broken):
 *   every weight is NaN (not given) or finite and >= 0; the weights equal
 *   those of a reference reading of the input in the harness (libcsv, fields
 *   kept whole: the last row naming a category gives its weight, a weight that
 *   is not a number >= 0 fails the load); conc_compute() accepts finite
 *   harm counts, and then its top-p% shares and Gini lie in [0, 1] (NaN when
 *   the harm total is 0); harm counts that overflowed to infinity are refused
 *   with MB_EDATA, not computed on, and so are finite counts whose total
 *   overflows; a file ending inside a quoted field does not load.
 *
 * Three bugs this harness found are fixed; their inputs are regression seeds
 * (corpus/fuzz_weights_csv/regress-known-*): a weight of 64 bytes or more was
 * cut to 63 and parsed; a file ending inside a quoted field loaded (the rest
 * of the file one field); conc_compute() computed on harm counts whose total
 * overflowed to infinity.
 *
 * Build and run with scripts/fuzz.sh.
 */
#include <csv.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gsl/gsl_errno.h>

#include "fuzz_common.h"
#include "microbeat/conc.h"
#include "microbeat/slice.h"
#include "microbeat/store.h"
#include "microbeat/weights.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char csv_path[512]; /* the file rewritten for every input */
static FILE *sink;         /* /dev/null, for warnings */
static struct slice sl;    /* the categories and events, loaded once */
static double *harm;       /* harm per street (sl.nstreet entries) */
static double *ref_want;   /* reference weights: sl.ncat entries */
static uint8_t *ref_skip;  /* sl.ncat entries */

/* Load the slice once (the store is not needed after). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct store *s = NULL;
	struct mb_error err = { 0 };
	struct slice_query q = { .from = FUZZ_MONTH_FIRST, .to = FUZZ_MONTH_LAST, .include_asb = 1 };

	(void)argc;
	(void)argv;
	gsl_set_error_handler_off(); /* as src/main.c does: GSL errors are return values */
	fuzz_path(csv_path, sizeof(csv_path), "weights.csv");
	sink = fopen("/dev/null", "w");
	if (!sink || store_open(":memory:", 0, &s, &err))
		abort();
	fuzz_store_fill(s);
	if (store_slice_load(s, &q, &sl, &err) || sl.ncat < 4 || sl.n < 5) {
		fprintf(stderr, "fuzz: cannot load the slice: %s\n", err.msg);
		abort();
	}
	store_close(s);
	harm = calloc(sl.nstreet ? sl.nstreet : 1, sizeof(double));
	ref_want = calloc(sl.ncat, sizeof(double));
	ref_skip = calloc(sl.ncat, 1);
	if (!harm || !ref_want || !ref_skip)
		abort();
	return 0;
}

/* The reference reading: the same libcsv options as weights_load(), every
 * field kept whole. A row of two or more fields is a header (the first such
 * row) or a category and its weight; the last row naming a category (case
 * aside) gives its weight; a weight that is not a number >= 0 fails the load. */
struct ref {
	char *f[2];       /* the row's first two fields, whole, NUL-terminated */
	size_t len[2];    /* their lengths */
	int field;        /* field index in the row */
	int rows;         /* rows of two or more fields seen (the first is the header) */
	int bad;          /* data rows whose weight is not a number >= 0 */
	double *want;     /* expected weight per category of sl (NaN = none) */
	uint8_t *skip;    /* category named by a row whose weight is cut short (known bug) */
};

static void ref_field(void *data, size_t len, void *ctx)
{
	struct ref *r = ctx;

	if (r->field < 2) {
		const char *d = data;
		char *c;

		/* weights_load reads with csvtab, which trims spaces and tabs */
		while (len && (*d == ' ' || *d == '\t'))
			d++, len--;
		while (len && (d[len - 1] == ' ' || d[len - 1] == '\t'))
			len--;
		data = (void *)(uintptr_t)d;
		c = malloc(len + 1);

		if (!c)
			abort();
		if (len)
			memcpy(c, data, len);
		c[len] = '\0';
		free(r->f[r->field]);
		r->f[r->field] = c;
		r->len[r->field] = len;
	}
	r->field++;
}

static void ref_row(int c, void *ctx)
{
	struct ref *r = ctx;

	(void)c;
	if (r->field >= 2 && r->rows++ > 0) {
		/* a weight over 63 bytes fails the whole load (it used to be cut
		 * to 63 bytes and parsed: regress-known-weight-cut-at-63-bytes.csv) */
		int cut = 0;
		char *end;

		errno = 0;
		double v = strtod(r->f[1], &end);
		/* a text just below DBL_MIN that rounds to DBL_MIN sets ERANGE in glibc
		 * (tininess before rounding) but is the normal number DBL_MIN: the load
		 * rightly keeps it (regress-weight-rounds-to-dbl-min.csv) */
		int ok = (!errno || (errno == ERANGE && v >= DBL_MIN)) && !*end && isfinite(v) &&
			 v >= 0;

		if (!ok && !cut)
			r->bad++;
		for (size_t i = 1; i < sl.ncat; i++) {
			if (!sl.cat_name[i] || strcasecmp(sl.cat_name[i], r->f[0]))
				continue;
			if (cut)
				r->skip[i] = 1;
			else if (ok)
				r->want[i] = v;
		}
	}
	for (int k = 0; k < 2; k++) {
		free(r->f[k]);
		r->f[k] = NULL;
	}
	r->field = 0;
}

/* Read the input as the reference does; 0, or -1 when libcsv fails. */
static int ref_read(const uint8_t *data, size_t size, struct ref *r)
{
	struct csv_parser p;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	r->want = ref_want;
	r->skip = ref_skip;
	for (size_t i = 0; i < sl.ncat; i++) {
		r->want[i] = NAN;
		r->skip[i] = 0;
	}
	if (csv_init(&p, CSV_APPEND_NULL))
		abort();
	/* csvtab skips a leading UTF-8 byte-order mark; so does the reference (a
	 * mark before a quote made the quote literal here: regress-bom-before-quote.csv) */
	if (size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		data += 3, size -= 3;
	if (csv_parse(&p, data, size, ref_field, ref_row, r) != size)
		rc = -1;
	else
		csv_fini(&p, ref_field, ref_row, r);
	csv_free(&p);
	free(r->f[0]);
	free(r->f[1]);
	return rc;
}

/* Load one weights file and weigh the slice's events with it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mb_error err = { 0 };
	struct conc_result *res = NULL;
	struct conc_params par;
	double *w = NULL;

	fuzz_write(csv_path, data, size);
	if (weights_load(csv_path, &sl, &w, sink, &err)) {
		if (w)
			__builtin_trap(); /* *weight is NULL on failure */
		return 0;
	}
	for (size_t i = 1; i < sl.ncat; i++)
		if (!isnan(w[i]) && (!isfinite(w[i]) || w[i] < 0))
			__builtin_trap();
	if (fuzz_csv_open_quote(data, size))
		__builtin_trap(); /* an unterminated quoted field must not load (was a bug) */
	/* the same weights as the reference reading */
	struct ref ref;

	if (ref_read(data, size, &ref) == 0) {
		if (ref.bad)
			__builtin_trap(); /* a bad weight the load let through */
		for (size_t i = 1; i < sl.ncat; i++)
			if (!ref.skip[i] && (isnan(w[i]) ? !isnan(ref.want[i]) : !(w[i] == ref.want[i])))
				__builtin_trap();
	}

	/* harm per street, as 'concentration --harm' sums it (streets 1..nstreet-1) */
	int finite = 1;

	for (size_t i = 0; i < sl.nstreet; i++)
		harm[i] = 0;
	for (size_t i = 0; i < sl.n; i++)
		if (sl.street[i] && sl.category[i] < sl.ncat && isfinite(w[sl.category[i]]))
			harm[sl.street[i]] += w[sl.category[i]];
	double total = 0;

	for (size_t i = 1; i < sl.nstreet; i++) {
		finite &= isfinite(harm[i]) != 0;
		total += harm[i];
	}
	/* finite counts whose total overflows are refused too */
	finite &= isfinite(total) != 0;
	conc_params_init(&par);
	par.boot_draws = 0;
	par.chance_draws = 0;
	par.lorenz_points = 4;
	int rc = conc_compute(harm + 1, NULL, sl.nstreet - 1, &par, &res, &err);

	if (!finite) {
		if (rc != -MB_EDATA || res)
			__builtin_trap();
	} else if (rc || !res) {
		__builtin_trap();
	} else if (!isfinite(res->crimes)) {
		__builtin_trap(); /* computed on an infinite total (was a bug: C = inf, Gini < 0) */
	} else {
		for (int j = 0; j < CONC_NPCT; j++)
			if (res->crimes > 0 ? !(res->top_share[j] >= 0 && res->top_share[j] <= 1 + 1e-9)
					    : !isnan(res->top_share[j]))
				__builtin_trap();
		if (res->crimes > 0 && !(res->gini >= -1e-9 && res->gini <= 1 + 1e-9))
			__builtin_trap();
	}
	conc_result_free(res);
	free(w);
	return 0;
}
