/* cmd_flags — 'microbeat flags': which places flag on several crime and
 * activity types, and why (geographic priorities). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "microbeat/areas.h"
#include "microbeat/cli.h"
#include "microbeat/conc.h"
#include "microbeat/emit.h"
#include "microbeat/flags.h"
#include "microbeat/plot.h"
#include "microbeat/select.h"
#include "microbeat/slice.h"
#include "microbeat/store.h"
#include "microbeat/weights.h"

enum { O_CATS = 1, O_MINFLAGS, O_FDR, O_FORMAT, O_OUT, O_NOCHARTS, O_HARM, O_BASE, O_HOTMIN };

/* Everything one run holds. */
struct flags_run {
	struct selection sel;     /* period, area, layer, categories */
	int hot_min;              /* crimes a top-3% street needs to count as hot (--hot-min) */
	struct flags_params par;  /* test settings */
	struct slice sl;          /* events of the span */
	struct area_units au;     /* the layer's units */
	struct area_extra ex;     /* events placed by LSOA or unit code */
	uint32_t *ue;             /* unit of each slice event (0 = none) */
	int32_t span_from;        /* first month loaded */
	size_t nmonth;            /* months loaded (span_from .. to) */
	size_t *unit_of;          /* analysis index -> dense unit index */
	size_t nunit;             /* analysis units (in scope) */
	long *aidx;               /* dense unit -> analysis index (-1 = out of scope) */
	uint32_t *cat_of;         /* analysis index -> category id */
	size_t ncat;              /* analysis categories */
	long *cidx;               /* category id -> analysis index (-1 = not analysed) */
	double *count;            /* flags_input.count */
	double *pop;              /* per analysis unit, or NULL */
	double *streets;          /* per analysis unit */
	unsigned *hot;            /* per analysis unit x category */
	double *harm;             /* per analysis category */
	long unassigned;          /* located events of the area in no unit */
	struct flags_result *res; /* the flags */
};

/* Parse a whole number in [lo, hi]; 0 or -1. */
static int parse_int(const char *s, long lo, long hi, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return (end == s || *end || errno || *v < lo || *v > hi) ? -1 : 0;
}

/* Choose the units in scope and the categories with events; build the counts. */
static int build_counts(struct flags_run *fr, struct mb_error *err)
{
	struct slice *sl = &fr->sl;
	size_t *catcount = calloc(sl->ncat, sizeof(size_t));
	int r = 0;

	fr->aidx = malloc(fr->au.n * sizeof(long));
	fr->unit_of = malloc(fr->au.n * sizeof(size_t));
	fr->cidx = malloc(sl->ncat * sizeof(long));
	fr->cat_of = malloc(sl->ncat * sizeof(uint32_t));
	if (!catcount || !fr->aidx || !fr->unit_of || !fr->cidx || !fr->cat_of) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t u = 0; u < fr->au.n; u++) {
		fr->aidx[u] = -1;
		if (u && fr->au.in_scope[u]) {
			fr->aidx[u] = (long)fr->nunit;
			fr->unit_of[fr->nunit++] = u;
		}
	}
	/* categories: selected, with an event in scope during the period */
	for (size_t i = 0; i < sl->n; i++) {
		if (!fr->ue[i])
			fr->unassigned += sl->month[i] >= fr->sel.from;
		else if (sl->month[i] >= fr->sel.from && fr->aidx[fr->ue[i]] >= 0)
			catcount[sl->category[i]]++;
	}
	for (size_t i = 0; i < fr->ex.n; i++)
		if (fr->ex.month[i] >= fr->sel.from && fr->aidx[fr->ex.unit[i]] >= 0)
			catcount[fr->ex.category[i]]++;
	for (size_t c = 0; c < sl->ncat; c++) {
		fr->cidx[c] = -1;
		if (c && sl->cat_selected[c] && catcount[c]) {
			fr->cidx[c] = (long)fr->ncat;
			fr->cat_of[fr->ncat++] = (uint32_t)c;
		}
	}
	if (!fr->nunit || !fr->ncat) {
		r = mb_err(err, MB_ENOTFOUND, "no events of the selected types fall in a unit of layer"
			   " '%s' in %s", fr->au.layer, fr->sel.period_label);
		goto cleanup;
	}
	fr->count = calloc(fr->nunit * fr->ncat * fr->nmonth, sizeof(double));
	fr->streets = calloc(fr->nunit, sizeof(double));
	fr->pop = fr->au.has_population ? calloc(fr->nunit, sizeof(double)) : NULL;
	if (!fr->count || !fr->streets || (fr->au.has_population && !fr->pop)) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t k = 0; k < fr->nunit; k++) {
		fr->streets[k] = fr->au.streets[fr->unit_of[k]];
		if (fr->pop)
			fr->pop[k] = fr->au.population[fr->unit_of[k]];
	}
	for (size_t i = 0; i < sl->n + fr->ex.n; i++) {
		int ext = i >= sl->n;
		size_t j = ext ? i - sl->n : i;
		uint32_t unit = ext ? fr->ex.unit[j] : fr->ue[j];
		uint32_t cat = ext ? fr->ex.category[j] : sl->category[j];
		int32_t m = (ext ? fr->ex.month[j] : sl->month[j]) - fr->span_from;

		if (!unit || fr->aidx[unit] < 0 || fr->cidx[cat] < 0 || m < 0 ||
		    (size_t)m >= fr->nmonth)
			continue;
		fr->count[((size_t)fr->aidx[unit] * fr->ncat + (size_t)fr->cidx[cat]) * fr->nmonth +
			  (size_t)m] += 1;
	}
cleanup:
	free(catcount);
	return r;
}

/* Sort key for (unit, street) pairs. */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Hot streets: per category the district's top 3% of streets over the
 * period (conc_rank_top over the area's street universe, zero counts left
 * out), and how many of them each unit holds. */
static int build_hot(struct flags_run *fr, struct mb_error *err)
{
	struct slice *sl = &fr->sl;
	double *cnt = NULL;
	size_t *uni = NULL, *pos = NULL, *top = NULL, ntop = 0, nuni = 0, npairs = 0;
	uint8_t *is_top = NULL;
	uint64_t *pairs = NULL;
	int r = 0;

	fr->hot = calloc(fr->nunit * fr->ncat, sizeof(unsigned));
	uni = malloc(sl->nstreet * sizeof(size_t));
	pos = malloc(sl->nstreet * sizeof(size_t));
	cnt = malloc(sl->nstreet * sizeof(double));
	is_top = malloc(sl->nstreet);
	pairs = malloc((sl->n + 1) * sizeof(uint64_t));
	if (!fr->hot || !uni || !pos || !cnt || !is_top || !pairs) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t s = 1; s < sl->nstreet; s++) {
		pos[s] = SIZE_MAX;
		if (sl->street_in_area[s]) {
			pos[s] = nuni;
			uni[nuni++] = s;
		}
	}
	for (size_t c = 0; c < fr->ncat && nuni; c++) {
		uint32_t cat = fr->cat_of[c];

		memset(cnt, 0, nuni * sizeof(double));
		memset(is_top, 0, sl->nstreet);
		for (size_t i = 0; i < sl->n; i++)
			if (sl->category[i] == cat && sl->month[i] >= fr->sel.from && sl->street[i] &&
			    sl->street[i] < sl->nstreet && pos[sl->street[i]] != SIZE_MAX)
				cnt[pos[sl->street[i]]] += 1;
		if ((r = conc_rank_top(cnt, nuni, 3, &top, &ntop, err)))
			goto cleanup;
		/* streets tied with the first street left out are left out too: no
		   street is hot because of the order ties happen to be broken in */
		double cut = 0;

		if (ntop < nuni) {
			uint8_t *in_top = calloc(nuni, 1);

			if (!in_top) {
				r = mb_err(err, MB_ENOMEM, "out of memory");
				goto cleanup;
			}
			for (size_t k = 0; k < ntop; k++)
				in_top[top[k]] = 1;
			for (size_t k = 0; k < nuni; k++)
				if (!in_top[k] && cnt[k] > cut)
					cut = cnt[k];
			free(in_top);
		}
		/* and a street with one or two crimes of a rare type is not a power-few
		   street: it needs at least --hot-min (3) crimes of the category */
		for (size_t k = 0; k < ntop; k++)
			if (cnt[top[k]] > cut && cnt[top[k]] >= fr->hot_min)
				is_top[uni[top[k]]] = 1;
		free(top);
		top = NULL;
		npairs = 0;
		for (size_t i = 0; i < sl->n; i++) {
			uint32_t st = sl->street[i], u = fr->ue[i];

			if (sl->category[i] == cat && sl->month[i] >= fr->sel.from && st &&
			    st < sl->nstreet && is_top[st] && u && fr->aidx[u] >= 0)
				pairs[npairs++] = ((uint64_t)fr->aidx[u] << 32) | st;
		}
		qsort(pairs, npairs, sizeof(*pairs), cmp_u64);
		for (size_t k = 0; k < npairs; k++)
			if (!k || pairs[k] != pairs[k - 1])
				fr->hot[(size_t)(pairs[k] >> 32) * fr->ncat + c]++;
	}
cleanup:
	free(cnt);
	free(uni);
	free(pos);
	free(top);
	free(is_top);
	free(pairs);
	return r;
}

/* Harm weights: the category's own (store) weight, else the CCHI file's. */
static int build_harm(struct flags_run *fr, const char *harm_path, FILE *msg,
		      struct mb_error *err)
{
	double *w = NULL;
	int r, need = 0;

	fr->harm = calloc(fr->ncat, sizeof(double));
	if (!fr->harm)
		return mb_err(err, MB_ENOMEM, "out of memory");
	for (size_t c = 0; c < fr->ncat; c++) {
		fr->harm[c] = fr->sl.cat_harm[fr->cat_of[c]];
		need |= !isfinite(fr->harm[c]);
	}
	if (!need)
		return 0;
	/* activity types have no CCHI weight: they count 0 harm (only the tie-break) */
	FILE *quiet = fopen("/dev/null", "w");

	r = weights_load(harm_path, &fr->sl, &w, harm_path ? msg : (quiet ? quiet : msg), err);
	if (quiet)
		fclose(quiet);
	if (r)
		return r;
	for (size_t c = 0; c < fr->ncat; c++)
		if (!isfinite(fr->harm[c]))
			fr->harm[c] = w[fr->cat_of[c]];
	free(w);
	return 0;
}

/* Format a p-value for words. */
static void p_words(double p, char *buf, size_t cap)
{
	if (p < 0.001)
		snprintf(buf, cap, "p < 0.001");
	else
		snprintf(buf, cap, "p = %.3f", p);
}

/* Append printf text to a growing string (*s, *len, *cap); sticky on OOM. */
static void __attribute__((format(printf, 4, 5)))
sappend(char **s, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!*s && *cap)
		return; /* an earlier allocation failed */
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (*len + (size_t)n + 1 > *cap) {
		size_t nc = (*len + (size_t)n + 1) * 2;
		char *ns = realloc(*s, nc);

		if (!ns) {
			free(*s);
			*s = NULL;
			*cap = 1;
			return;
		}
		*s = ns;
		*cap = nc;
	}
	va_start(ap, fmt);
	vsnprintf(*s + *len, *cap - *len, fmt, ap);
	va_end(ap);
	*len += (size_t)n;
}

/* The reasons a unit flags, in words (owned string; NULL on OOM). */
static char *reasons(const struct flags_run *fr, size_t k)
{
	const struct flags_result *res = fr->res;
	char *s = NULL, pw[32];
	size_t len = 0, cap = 0;
	int any = 0;

	for (size_t c = 0; c < fr->ncat; c++) {
		const struct flags_cell *x = &res->cell[k * fr->ncat + c];
		int first = 1;

		if (!x->flags)
			continue;
		sappend(&s, &len, &cap, "%s%s: ", any++ ? "; " : "", fr->sl.cat_name[fr->cat_of[c]]);
		if (x->flags & FLAGS_HIGH) {
			p_words(x->q_high, pw, sizeof(pw));
			sappend(&s, &len, &cap, "high %s (%.0f vs %.1f expected, %.2fx, BH %s)",
				res->by_population ? "rate" : "share for its streets", x->observed,
				x->expected, x->ratio, pw);
			first = 0;
		}
		if (x->flags & FLAGS_RISING) {
			p_words(x->q_rise, pw, sizeof(pw));
			if (x->yoy.pct_defined)
				sappend(&s, &len, &cap, "%srising %+.0f%% year on year (%lu to %lu, BH %s)",
					first ? "" : ", ", x->yoy.pct, x->yoy.b, x->yoy.a, pw);
			else
				sappend(&s, &len, &cap, "%srising from none (%lu to %lu, BH %s)",
					first ? "" : ", ", x->yoy.b, x->yoy.a, pw);
			first = 0;
		}
		if (x->flags & FLAGS_CONTROL) {
			sappend(&s, &len, &cap, "%s%zu of the last %zu months above the control limit"
				" (%.1f a month)", first ? "" : ", ", x->cc.recent_above, x->cc.recent_n,
				x->cc.ucl);
			first = 0;
		}
		if (x->flags & FLAGS_HOT)
			sappend(&s, &len, &cap, "%s%u of the district's top-3%% streets", first ? "" : ", ",
				x->hot_streets);
	}
	if (!any)
		sappend(&s, &len, &cap, "no flags");
	return s;
}

/* flags_matrix.csv: one row per unit x category. */
static int build_matrix(const struct flags_run *fr, struct table *t, struct mb_error *err)
{
	static const char *const cols[] = {
		"unit_code", "unit_name", "population", "streets", "category", "observed", "expected",
		"ratio", "p_high", "q_high", "yoy_later", "yoy_earlier", "yoy_change_pct", "yoy_p",
		"yoy_q", "cc_centre", "cc_ucl", "recent_above_ucl", "hot_streets", "flags", "n_flags"
	};
	const struct flags_result *res = fr->res;
	int r;

	if ((r = table_init(t, "Flags by unit and category", cols, sizeof(cols) / sizeof(*cols), err)))
		return r;
	for (size_t o = 0; o < fr->nunit; o++) {
		size_t k = res->order[o], u = fr->unit_of[k];

		for (size_t c = 0; c < fr->ncat; c++) {
			const struct flags_cell *x = &res->cell[k * fr->ncat + c];
			char letters[5];
			size_t row;
			int nf = 0;

			for (unsigned b = x->flags; b; b &= b - 1)
				nf++;
			flags_letters(x->flags, letters);
			if ((r = table_add_row(t, &row, err)) ||
			    (r = table_set_text(t, row, 0, fr->au.code[u], err)) ||
			    (r = table_set_text(t, row, 1, fr->au.name[u], err)) ||
			    (r = table_set_double(t, row, 2, fr->pop ? fr->pop[k] : NAN, 0, err)) ||
			    (r = table_set_int(t, row, 3, (int64_t)fr->streets[k], err)) ||
			    (r = table_set_text(t, row, 4, fr->sl.cat_name[fr->cat_of[c]], err)) ||
			    (r = table_set_int(t, row, 5, (int64_t)x->observed, err)) ||
			    (r = table_set_double(t, row, 6, x->expected, 4, err)) ||
			    (r = table_set_double(t, row, 7, x->ratio, 4, err)) ||
			    (r = table_set_double(t, row, 8, x->p_high, 8, err)) ||
			    (r = table_set_double(t, row, 9, x->q_high, 8, err)))
				return r;
			if (x->has_yoy &&
			    ((r = table_set_int(t, row, 10, (int64_t)x->yoy.a, err)) ||
			     (r = table_set_int(t, row, 11, (int64_t)x->yoy.b, err)) ||
			     (r = table_set_double(t, row, 12, x->yoy.pct, 2, err)) ||
			     (r = table_set_double(t, row, 13, x->yoy.p, 8, err)) ||
			     (r = table_set_double(t, row, 14, x->q_rise, 8, err))))
				return r;
			if (x->has_cc &&
			    ((r = table_set_double(t, row, 15, x->cc.centre, 4, err)) ||
			     (r = table_set_double(t, row, 16, x->cc.ucl, 4, err)) ||
			     (r = table_set_int(t, row, 17, (int64_t)x->cc.recent_above, err))))
				return r;
			if ((r = table_set_int(t, row, 18, x->hot_streets, err)) ||
			    (r = table_set_text(t, row, 19, letters, err)) ||
			    (r = table_set_int(t, row, 20, nf, err)))
				return r;
		}
	}
	return 0;
}

/* priorities.csv: the ranked units with the reasons in words. */
static int build_priorities(const struct flags_run *fr, struct table *t, struct mb_error *err)
{
	static const char *const cols[] = {
		"rank", "unit_code", "unit_name", "population", "categories_flagged", "flags",
		"harm_excess", "priority", "reasons"
	};
	const struct flags_result *res = fr->res;
	int r;

	if ((r = table_init(t, "Geographic priorities", cols, sizeof(cols) / sizeof(*cols), err)))
		return r;
	for (size_t o = 0; o < fr->nunit; o++) {
		size_t k = res->order[o], u = fr->unit_of[k], row;
		const struct flags_unit *fu = &res->unit[k];
		char *why = reasons(fr, k);

		if (!why)
			return mb_err(err, MB_ENOMEM, "out of memory");
		if ((r = table_add_row(t, &row, err)) ||
		    (r = table_set_int(t, row, 0, (int64_t)fu->rank, err)) ||
		    (r = table_set_text(t, row, 1, fr->au.code[u], err)) ||
		    (r = table_set_text(t, row, 2, fr->au.name[u], err)) ||
		    (r = table_set_double(t, row, 3, fr->pop ? fr->pop[k] : NAN, 0, err)) ||
		    (r = table_set_int(t, row, 4, fu->ncat_flagged, err)) ||
		    (r = table_set_int(t, row, 5, fu->nflags, err)) ||
		    (r = table_set_double(t, row, 6, fu->harm_excess, 1, err)) ||
		    (r = table_set_text(t, row, 7, fu->priority ? "yes" : "no", err)) ||
		    (r = table_set_text(t, row, 8, why, err))) {
			free(why);
			return r;
		}
		free(why);
	}
	return 0;
}

/* The console summary: rank, unit, categories flagged with their letters. */
static int build_console(const struct flags_run *fr, struct table *t, struct mb_error *err)
{
	static const char *const cols[] = { "rank", "unit", "population", "categories", "priority",
					    "flagged (H high, R rising, C control, S hot streets)" };
	const struct flags_result *res = fr->res;
	int r;

	if ((r = table_init(t, NULL, cols, sizeof(cols) / sizeof(*cols), err)))
		return r;
	for (size_t o = 0; o < fr->nunit; o++) {
		size_t k = res->order[o], u = fr->unit_of[k], row, len = 0, cap = 0;
		char *s = NULL, letters[5];

		for (size_t c = 0; c < fr->ncat; c++) {
			const struct flags_cell *x = &res->cell[k * fr->ncat + c];

			if (!x->flags)
				continue;
			flags_letters(x->flags, letters);
			sappend(&s, &len, &cap, "%s%s %s", len ? "; " : "", fr->sl.cat_name[fr->cat_of[c]],
				letters);
		}
		if (!s && cap)
			return mb_err(err, MB_ENOMEM, "out of memory");
		if ((r = table_add_row(t, &row, err)) ||
		    (r = table_set_int(t, row, 0, (int64_t)res->unit[k].rank, err)) ||
		    (r = table_set_text(t, row, 1, fr->au.name[u], err)) ||
		    (r = table_set_double(t, row, 2, fr->pop ? fr->pop[k] : NAN, 0, err)) ||
		    (r = table_set_int(t, row, 3, res->unit[k].ncat_flagged, err)) ||
		    (r = table_set_text(t, row, 4, res->unit[k].priority ? "yes" : "no", err)) ||
		    (r = table_set_text(t, row, 5, s ? s : "", err))) {
			free(s);
			return r;
		}
		free(s);
	}
	return 0;
}

/* The heat map (units in rank order x categories, number of flags) and,
 * with populations, the funnel plot of all analysed categories together. */
static int write_charts(const struct flags_run *fr, const char *dir, struct mb_error *err)
{
	const struct flags_result *res = fr->res;
	size_t nu = fr->nunit, nc = fr->ncat, nl = 0;
	const char **rl = calloc(nu, sizeof(char *)), **cl = calloc(nc, sizeof(char *));
	double *v = calloc(nu * nc, sizeof(double));
	double *pop = calloc(nu, sizeof(double)), *rate = calloc(nu, sizeof(double));
	const char **fl = calloc(nu, sizeof(char *));
	int *outl = calloc(nu, sizeof(int));
	double *lp = NULL, *l95 = NULL, *h95 = NULL, *l998 = NULL, *h998 = NULL;
	int r = 0;

	if (!rl || !cl || !v || !pop || !rate || !fl || !outl) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t c = 0; c < nc; c++)
		cl[c] = fr->sl.cat_name[fr->cat_of[c]];
	for (size_t o = 0; o < nu; o++) {
		size_t k = res->order[o];

		rl[o] = fr->au.name[fr->unit_of[k]];
		for (size_t c = 0; c < nc; c++) {
			int n = 0;

			for (unsigned b = res->cell[k * nc + c].flags; b; b &= b - 1)
				n++;
			v[o * nc + c] = n;
		}
	}
	char title[160];

	snprintf(title, sizeof(title), "Flags by %s and category, %s", fr->au.layer,
		 fr->sel.period_label);
	struct plot_heatmap hm = { .title = title, .nrows = nu, .ncols = nc, .row_label = rl,
				   .col_label = cl, .value = v, .vmax = 4 };

	if ((r = plot_heatmap(dir, "heatmap", &hm, err)) || !res->by_population)
		goto cleanup;

	/* funnel: every analysed category together */
	double tot = 0, den = 0, pmax = 0;
	size_t n = 0;

	for (size_t k = 0; k < nu; k++) {
		double p = fr->pop[k], o = 0;

		if (!isfinite(p) || p <= 0)
			continue;
		for (size_t c = 0; c < nc; c++)
			o += res->cell[k * nc + c].observed;
		tot += o;
		den += p;
		pop[n] = p;
		rate[n] = 1000.0 * o / p;
		fl[n] = fr->au.name[fr->unit_of[k]];
		n++;
		if (p > pmax)
			pmax = p;
	}
	if (!n || tot <= 0)
		goto cleanup;
	double drate = tot / den;

	for (size_t i = 0; i < n; i++) {
		double lo, hi, lo2, hi2, obs = rate[i] * pop[i] / 1000.0, mu = drate * pop[i];

		if (flags_poisson_limits(mu, 0.95, &lo, &hi, NULL) == 0 &&
		    flags_poisson_limits(mu, 0.998, &lo2, &hi2, NULL) == 0)
			outl[i] = (obs > hi2 || obs < lo2) ? 2 : (obs > hi || obs < lo) ? 1 : 0;
	}
	nl = 200;
	lp = calloc(nl, sizeof(double));
	l95 = calloc(nl, sizeof(double));
	h95 = calloc(nl, sizeof(double));
	l998 = calloc(nl, sizeof(double));
	h998 = calloc(nl, sizeof(double));
	if (!lp || !l95 || !h95 || !l998 || !h998) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	size_t m = 0;

	for (size_t i = 0; i < nl; i++) {
		double p = pmax * 1.1 * (double)(i + 1) / (double)nl, mu = drate * p, a, b, c2, d;

		if (flags_poisson_limits(mu, 0.95, &a, &b, NULL) || flags_poisson_limits(mu, 0.998, &c2, &d, NULL))
			continue;
		lp[m] = p;
		l95[m] = 1000.0 * a / p;
		h95[m] = 1000.0 * b / p;
		l998[m] = 1000.0 * c2 / p;
		h998[m] = 1000.0 * d / p;
		m++;
	}
	snprintf(title, sizeof(title), "Rate per 1,000 residents by %s, %s (%zu categories)",
		 fr->au.layer, fr->sel.period_label, nc);
	struct plot_funnel fp = { .title = title, .n = n, .label = fl, .pop = pop, .rate = rate,
				  .outlier = outl, .district_rate = 1000.0 * drate, .n_limits = m,
				  .lim_pop = lp, .lo95 = l95, .hi95 = h95, .lo998 = l998, .hi998 = h998 };

	if (m)
		r = plot_funnel(dir, "funnel", &fp, err);
cleanup:
	free(rl);
	free(cl);
	free(v);
	free(pop);
	free(rate);
	free(fl);
	free(outl);
	free(lp);
	free(l95);
	free(h95);
	free(l998);
	free(h998);
	return r;
}

/* Print the header lines: what was analysed and what was left out. */
static void print_header(const struct flags_run *fr, FILE *f)
{
	const struct flags_result *res = fr->res;
	size_t npri = 0;

	for (size_t k = 0; k < fr->nunit; k++)
		npri += (size_t)res->unit[k].priority;
	fprintf(f, "%s by %s, %s: %zu units x %zu categories.\n", fr->sl.scope_label, fr->au.layer,
		fr->sel.period_label, fr->nunit, fr->ncat);
	select_print_months(&fr->sel, f);
	select_print_sources(&fr->sel, &fr->sl, f);
	if (res->by_population)
		fprintf(f, "High rate: against the district rate per resident (population %.0f).\n",
			res->denominator);
	else
		fprintf(f, "Layer '%s' has no population: high rate compares each unit's share of"
			   " crime with its share of the area's streets (%.0f streets).\n",
			fr->au.layer, res->denominator);
	fprintf(f, "Tests controlled for a false discovery rate of %g (Benjamini-Hochberg): %zu"
		   " high-rate tests, %zu year-on-year tests. Priority: flags on >= %d categories"
		   " (%zu units).\n", fr->par.fdr, res->n_high_tests, res->n_rise_tests,
		fr->par.min_flags, npri);
	if (fr->unassigned)
		fprintf(f, "%ld located events of the area fell in no unit of '%s' and are left out"
			   " (see 'microbeat areas').\n", fr->unassigned, fr->au.layer);
	if (fr->ex.n)
		fprintf(f, "%zu events without coordinates placed by their LSOA or unit code.\n",
			fr->ex.n);
	if (fr->sl.n_unloc > fr->ex.n)
		fprintf(f, "%zu events without a location (force-wide) are in no unit.\n",
			fr->sl.n_unloc - (fr->ex.n < fr->sl.n_unloc ? fr->ex.n : 0));
	fputc('\n', f);
}

int cmd_flags(struct cli *c, int argc, char **argv, struct mb_error *err)
{
	static const struct option opts[] = {
		SELECT_LONG_OPTIONS,
		{ "categories", required_argument, NULL, O_CATS },
		{ "min-flags", required_argument, NULL, O_MINFLAGS },
		{ "hot-min", required_argument, NULL, O_HOTMIN },
		{ "fdr", required_argument, NULL, O_FDR },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "out", required_argument, NULL, O_OUT },
		{ "no-charts", no_argument, NULL, O_NOCHARTS },
		{ "harm", required_argument, NULL, O_HARM },
		{ "baseline-months", required_argument, NULL, O_BASE },
		{ NULL, 0, NULL, 0 },
	};
	struct flags_run fr = { 0 };
	struct store *s = NULL;
	struct table tm = { 0 }, tp = { 0 }, tc = { 0 };
	const char *out_dir = NULL, *harm_path = NULL;
	int format = 0, o, r = 0, charts = 1;
	long v;

	select_init(&fr.sel);
	flags_params_init(&fr.par);
	fr.hot_min = 3;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end;

		switch (o) {
		case O_CATS: r = select_option(&fr.sel, SEL_TYPES, optarg, err); break;
		case O_MINFLAGS:
			if (parse_int(optarg, 1, 1000, &v))
				r = mb_err(err, MB_EUSAGE, "--min-flags wants a number of categories >= 1");
			fr.par.min_flags = (int)v;
			break;
		case O_HOTMIN:
			if (parse_int(optarg, 1, 1000000, &v))
				r = mb_err(err, MB_EUSAGE, "--hot-min wants a number of crimes >= 1");
			fr.hot_min = (int)v;
			break;
		case O_BASE:
			if (parse_int(optarg, 3, 240, &v))
				r = mb_err(err, MB_EUSAGE, "--baseline-months wants 3..240");
			fr.par.baseline_months = (int)v;
			break;
		case O_FDR:
			errno = 0;
			fr.par.fdr = strtod(optarg, &end);
			if (end == optarg || *end || errno || !(fr.par.fdr > 0 && fr.par.fdr < 1))
				r = mb_err(err, MB_EUSAGE, "--fdr wants a level between 0 and 1");
			break;
		case O_FORMAT:
			if (strcmp(optarg, "table") == 0) format = 0;
			else if (strcmp(optarg, "csv") == 0) format = 1;
			else if (strcmp(optarg, "md") == 0) format = 2;
			else r = mb_err(err, MB_EUSAGE, "--format wants table, csv or md");
			break;
		case O_OUT: out_dir = optarg; break;
		case O_NOCHARTS: charts = 0; break;
		case O_HARM: harm_path = optarg; break;
		default:
			if (o >= SEL_FIRST && o < SEL_LAST)
				r = select_option(&fr.sel, o, optarg, err);
			else
				r = -MB_EUSAGE;
		}
		if (r)
			goto cleanup;
	}
	if (optind < argc) {
		r = mb_err(err, MB_EUSAGE, "flags: unexpected argument '%s'", argv[optind]);
		goto cleanup;
	}
	if (!fr.sel.layer) {
		r = mb_err(err, MB_EUSAGE, "flags: give the area layer with --layer (see 'microbeat areas')");
		goto cleanup;
	}
	if ((r = store_open(c->db_path, STORE_READONLY, &s, err)) ||
	    (r = select_finish(&fr.sel, s, err)))
		goto cleanup;
	/* load the months before --from that the year on year and the baseline need */
	fr.span_from = fr.sel.from;
	if (fr.sel.to - 23 < fr.span_from)
		fr.span_from = fr.sel.to - 23;
	if (fr.sel.to - TREND_RECENT_MONTHS - fr.par.baseline_months + 1 < fr.span_from)
		fr.span_from = fr.sel.to - TREND_RECENT_MONTHS - fr.par.baseline_months + 1;
	if (fr.span_from < 0)
		fr.span_from = 0;
	fr.nmonth = (size_t)(fr.sel.to - fr.span_from + 1);
	/* flags counts every selected category of every source (agency activity
	   types flag beside crime types) unless --source narrows it */
	struct slice_query q = { .from = fr.span_from, .to = fr.sel.to,
				 .types = (const char *const *)fr.sel.types, .ntypes = fr.sel.ntypes,
				 .exclude = (const char *const *)fr.sel.exclude,
				 .nexclude = fr.sel.nexclude };

	select_query(&fr.sel, NULL, 0, &q);

	if ((r = store_slice_load(s, &q, &fr.sl, err)) ||
	    (r = select_check_gaps(&fr.sel, &fr.sl, err)) ||
	    (r = store_slice_units(s, fr.sel.layer, fr.sel.area, &fr.sl, &fr.ue, &fr.au, &fr.ex, err)) ||
	    (r = build_counts(&fr, err)))
		goto cleanup;
	/* a requested category with no event in the layer's units is said, not dropped silently */
	for (size_t i = 0; i < fr.sel.ntypes; i++)
		for (size_t cat = 1; cat < fr.sl.ncat; cat++)
			if (fr.sl.cat_name[cat] && strcasecmp(fr.sl.cat_name[cat], fr.sel.types[i]) == 0 &&
			    fr.cidx[cat] < 0) {
				fputs("microbeat: category '", c->msg);
				emit_text_clean(fr.sl.cat_name[cat], c->msg, NULL);
				fprintf(c->msg, "' has no events in the selected units of layer '%s' in %s:"
					" not analysed\n", fr.au.layer, fr.sel.period_label);
			}
	if ((r = build_hot(&fr, err)) ||
	    (r = build_harm(&fr, harm_path, c->msg, err)))
		goto cleanup;
	struct flags_input in = {
		.nunit = fr.nunit, .ncat = fr.ncat, .nmonth = fr.nmonth, .first_month = fr.span_from,
		.present = fr.sl.month_present, .period_first = (size_t)(fr.sel.from - fr.span_from),
		.count = fr.count, .population = fr.pop, .streets = fr.streets, .hot = fr.hot,
		.harm = fr.harm,
	};

	if ((r = flags_compute(&in, &fr.par, &fr.res, err)) ||
	    (r = build_matrix(&fr, &tm, err)) || (r = build_priorities(&fr, &tp, err)))
		goto cleanup;
	if (format == 1) {
		select_print_months(&fr.sel, c->msg); /* the CSV has no room for it: stderr */
		r = table_write_csv(&tp, c->out, err);
	} else if (format == 2) {
		print_header(&fr, c->out);
		r = table_write_md(&tp, c->out, err);
	} else {
		print_header(&fr, c->out);
		if ((r = build_console(&fr, &tc, err)) == 0)
			r = table_write_console(&tc, 0, 30, c->out, err);
	}
	if (r)
		goto cleanup;
	if (out_dir) {
		/* written into a fresh folder beside out_dir, renamed over it at
		 * the end: a run stopped half-way never leaves a half-written
		 * folder that looks complete, nor a mix with an earlier run's */
		char *tmp = NULL;

		if ((r = emit_dir_begin(out_dir, &tmp, err)))
			goto cleanup;
		if (!(r = table_save_csv(&tm, tmp, "flags_matrix.csv", err)) &&
		    !(r = table_save_csv(&tp, tmp, "priorities.csv", err)) && charts)
			r = write_charts(&fr, tmp, err);
		if ((r = emit_dir_finish(r, tmp, out_dir, err)))
			goto cleanup;
	}
cleanup:
	table_release(&tm);
	table_release(&tp);
	table_release(&tc);
	flags_result_free(fr.res);
	free(fr.ue);
	free(fr.unit_of);
	free(fr.aidx);
	free(fr.cat_of);
	free(fr.cidx);
	free(fr.count);
	free(fr.pop);
	free(fr.streets);
	free(fr.hot);
	free(fr.harm);
	area_units_release(&fr.au);
	area_extra_release(&fr.ex);
	slice_release(&fr.sl);
	select_release(&fr.sel);
	store_close(s);
	return r;
}
