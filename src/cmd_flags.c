/* cmd_flags — 'microbeat flags': which places flag on several crime and
 * activity types, and why (geographic priorities). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "microbeat/areas.h"
#include "microbeat/beats.h"
#include "microbeat/cli.h"
#include "microbeat/conc.h"
#include "microbeat/emit.h"
#include "microbeat/flags.h"
#include "microbeat/plot.h"
#include "microbeat/report.h"
#include "microbeat/select.h"
#include "microbeat/slice.h"
#include "microbeat/store.h"
#include "microbeat/util.h"
#include "microbeat/weights.h"
#include "cmd_flags_internal.h"

enum { O_CATS = 1, O_MINFLAGS, O_FDR, O_HARM, O_BASE, O_HOTMIN, O_RR, O_TOP, O_OPP, O_EXPOSURE };

/* Parse a whole number in [lo, hi]; 0 or -1. */
static int parse_int(const char *s, long lo, long hi, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return (end == s || *end || errno || *v < lo || *v > hi) ? -1 : 0;
}

/* Mark the units that --area names (comma-separated names or codes of the
 * layer, exact and case-insensitive: the rule of the shared selector) in
 * fr->named. 1 when every entry names a unit, 0 when one names none (the
 * area is then an authority or unknown, for the shared selector to resolve),
 * or -MB_ENOMEM. */
static int mark_named(struct flags_run *fr, const char *area, struct mb_error *err)
{
	const char *p = area;

	fr->nnamed = 0;
	free(fr->named);
	if (!(fr->named = calloc(fr->au.n, 1)))
		return mb_err(err, MB_ENOMEM, "out of memory");
	while (*p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		int hit = 0;

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		for (size_t u = 1; len && u < fr->au.n; u++)
			if ((strlen(fr->au.name[u]) == len && strncasecmp(fr->au.name[u], p, len) == 0) ||
			    (strlen(fr->au.code[u]) == len && strncasecmp(fr->au.code[u], p, len) == 0)) {
				fr->nnamed += !fr->named[u];
				fr->named[u] = 1;
				hit = 1;
			}
		if (len && !hit) {
			free(fr->named);
			fr->named = NULL;
			fr->nnamed = 0;
			return 0;
		}
		if (!e)
			break;
		p = e + 1;
	}
	return fr->nnamed > 0;
}

/* Choose the units in scope and the categories with events; build the counts
 * (flags_count) and each unit's streets and residents. */
static int build_counts(struct flags_run *fr, struct mb_error *err)
{
	const struct slice *sl = &fr->sl;
	struct flags_count_in in = {
		.nunits = fr->au.n, .in_scope = fr->au.in_scope, .ncats = sl->ncat,
		.cat_selected = sl->cat_selected,
		.located = { .n = sl->n, .unit = fr->ue, .category = sl->category, .month = sl->month },
		.placed = { .n = fr->ex.n, .unit = fr->ex.unit, .category = fr->ex.category,
			    .month = fr->ex.month },
		.period_from = fr->sel.from, .span_from = fr->span_from, .nmonth = fr->nmonth,
	};
	struct flags_counts fc;
	int r = flags_count(&in, &fc, err);

	/* the run owns the arrays from here */
	fr->nunit = fc.nunit;
	fr->unit_of = fc.unit_of;
	fr->aidx = fc.aidx;
	fr->ncat = fc.ncat;
	fr->cat_of = fc.cat_of;
	fr->cidx = fc.cidx;
	fr->unassigned = fc.unassigned;
	fr->count = fc.count;
	if (r)
		return r;
	if (!fr->nunit || !fr->ncat)
		return mb_err(err, MB_ENOTFOUND, "no events of the selected types fall in a unit of"
			      " layer '%s' in %s", fr->au.layer, fr->sel.period_label);
	fr->streets = calloc(fr->nunit, sizeof(double));
	fr->pop = fr->au.has_population ? calloc(fr->nunit, sizeof(double)) : NULL;
	if (!fr->streets || (fr->au.has_population && !fr->pop))
		return mb_err(err, MB_ENOMEM, "out of memory");
	for (size_t k = 0; k < fr->nunit; k++) {
		fr->streets[k] = fr->au.streets[fr->unit_of[k]];
		if (fr->pop)
			fr->pop[k] = fr->au.population[fr->unit_of[k]];
	}
	return 0;
}

/* Say which named units hold no event of the period (not analysed);
 * MB_ENOTFOUND when none of them does. */
static int check_named(const struct flags_run *fr, FILE *msg, struct mb_error *err)
{
	size_t kept = 0;

	for (size_t u = 1; u < fr->au.n; u++) {
		if (!fr->named[u])
			continue;
		if (fr->aidx[u] >= 0) {
			kept++;
			continue;
		}
		fputs("microbeat: unit '", msg);
		emit_text_clean(fr->au.name[u], msg, NULL);
		fprintf(msg, "' of layer '%s' has no events of the selected types in %s: not"
			" analysed\n", MB_SHOWN(fr->au.layer), fr->sel.period_label);
	}
	if (!kept)
		return mb_err(err, MB_ENOTFOUND, "no events of the selected types fall in the units"
			      " named by --area in %s", fr->sel.period_label);
	return 0;
}

/* Events of analysis category c in the named units over the period. */
static double named_count(const struct flags_run *fr, size_t c)
{
	double n = 0;

	for (size_t k = 0; k < fr->nunit; k++)
		for (size_t m = (size_t)(fr->sel.from - fr->span_from); reported(fr, k) && m < fr->nmonth;
		     m++)
			n += fr->count[(k * fr->ncat + c) * fr->nmonth + m];
	return n;
}

/* v[0..n) counts of n buckets -> v[0..n] each bucket's first position (v[n]
 * the total), for filling the buckets in order. */
static void counts_to_starts(size_t *v, size_t n)
{
	for (size_t b = 0, at = 0; b <= n; b++) {
		size_t k = b < n ? v[b] : 0;

		v[b] = at;
		at += k;
	}
}

/* Hot streets: per category the district's top 3% of streets over the
 * period (conc_rank_top over the area's street universe, zero counts left
 * out), and how many of them each unit holds. The period's events are put in
 * order of category once (each category then reads its own, not all 6 M of a
 * national year), and each category's events on hot streets in order of unit,
 * so that a unit's distinct hot streets are counted with a stamp per street. */
static int build_hot(struct flags_run *fr, struct mb_error *err)
{
	struct slice *sl = &fr->sl;
	double *cnt = NULL;
	size_t *top = NULL, ntop = 0, nuni = 0, nper = 0;
	size_t *cstart = NULL, *ustart = NULL;
	uint32_t *uni = NULL, *evs = NULL, *hev = NULL, *stamp = NULL;
	int32_t *pos = NULL;
	uint8_t *is_top = NULL;
	int r = 0;

	fr->hot = calloc(fr->nunit * fr->ncat, sizeof(unsigned));
	fr->hot_total = calloc(fr->ncat + 1, sizeof(unsigned));
	uni = malloc(sl->nstreet * sizeof(*uni));
	pos = malloc(sl->nstreet * sizeof(*pos));
	cnt = malloc(sl->nstreet * sizeof(double));
	is_top = malloc(sl->nstreet);
	stamp = calloc(sl->nstreet, sizeof(*stamp));
	cstart = calloc(sl->ncat + 1, sizeof(*cstart));
	ustart = calloc(fr->nunit + 1, sizeof(*ustart));
	if (!fr->hot || !fr->hot_total || !uni || !pos || !cnt || !is_top || !stamp || !cstart ||
	    !ustart) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	/* the period's events by category: evs[cstart[cat]..cstart[cat + 1]) */
	for (size_t i = 0; i < sl->n; i++)
		if (sl->month[i] >= fr->sel.from && sl->category[i] < sl->ncat) {
			cstart[sl->category[i]]++;
			nper++;
		}
	counts_to_starts(cstart, sl->ncat);
	evs = malloc((nper + 1) * sizeof(*evs));
	hev = malloc((nper + 1) * sizeof(*hev));
	if (!evs || !hev) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < sl->n; i++)
		if (sl->month[i] >= fr->sel.from && sl->category[i] < sl->ncat)
			evs[cstart[sl->category[i]]++] = (uint32_t)i;
	for (size_t c = sl->ncat; c > 0; c--) /* back to each category's start */
		cstart[c] = cstart[c - 1];
	cstart[0] = 0;
	nuni = beats_number(sl, NULL, pos, uni); /* the area's street universe */
	for (size_t c = 0; c < fr->ncat && nuni; c++) {
		uint32_t cat = fr->cat_of[c];
		const uint32_t *ev = cat < sl->ncat ? evs + cstart[cat] : evs;
		size_t nev = cat < sl->ncat ? cstart[cat + 1] - cstart[cat] : 0;

		memset(cnt, 0, nuni * sizeof(double));
		memset(is_top, 0, sl->nstreet);
		for (size_t j = 0; j < nev; j++) {
			uint32_t st = slice_event_beat(sl, ev[j]);

			if (st && st < sl->nstreet && pos[st] >= 0)
				cnt[pos[st]] += 1;
		}
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
			if (cnt[top[k]] > cut && cnt[top[k]] >= fr->hot_min) {
				is_top[uni[top[k]]] = 1;
				fr->hot_total[c]++;
			}
		free(top);
		top = NULL;
		/* the events on hot streets in analysed units, in order of unit */
		memset(ustart, 0, (fr->nunit + 1) * sizeof(*ustart));
		for (size_t j = 0; j < nev; j++) {
			uint32_t st = slice_event_beat(sl, ev[j]), u = fr->ue[ev[j]];

			if (st && st < sl->nstreet && is_top[st] && u && fr->aidx[u] >= 0)
				ustart[fr->aidx[u]]++;
		}
		counts_to_starts(ustart, fr->nunit);
		for (size_t j = 0; j < nev; j++) {
			uint32_t st = slice_event_beat(sl, ev[j]), u = fr->ue[ev[j]];

			if (st && st < sl->nstreet && is_top[st] && u && fr->aidx[u] >= 0)
				hev[ustart[fr->aidx[u]]++] = st;
		}
		/* a unit's distinct hot streets: a stamp unique to (category, unit) */
		for (size_t a = 0, j = 0; a < fr->nunit; a++) {
			uint32_t mark = (uint32_t)(c * fr->nunit + a + 1);

			for (; j < ustart[a]; j++)
				if (stamp[hev[j]] != mark) {
					stamp[hev[j]] = mark;
					fr->hot[a * fr->ncat + c]++;
				}
		}
	}
cleanup:
	free(cnt);
	free(uni);
	free(pos);
	free(top);
	free(is_top);
	free(stamp);
	free(cstart);
	free(ustart);
	free(evs);
	free(hev);
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

/* Opportunity categories (--opportunity, default Shoplifting) and, with
 * --exposure FILE (CSV with a header: unit code, exposure > 0), each unit's
 * exposure. A unit missing from the file has no exposure and is not tested
 * on the opportunity categories; a code that is no unit is reported. */
static int build_opportunity(struct flags_run *fr, const char *path, FILE *msg,
			     struct mb_error *err)
{
	const char *list = fr->opp_list ? fr->opp_list : "Shoplifting";
	FILE *f = NULL;
	char line[1024];
	long ln = 0, unknown = 0;
	int r = 0;

	fr->opp = calloc(fr->ncat + 1, 1);
	if (!fr->opp)
		return mb_err(err, MB_ENOMEM, "out of memory");
	for (size_t c = 0; c < fr->ncat; c++) {
		const char *name = fr->sl.cat_name[fr->cat_of[c]], *p = list;
		size_t n = strlen(name);

		while (*p) { /* exact, case-insensitive item of the comma-separated list */
			const char *e = strchr(p, ',');
			size_t len = e ? (size_t)(e - p) : strlen(p);

			if (len == n && strncasecmp(p, name, n) == 0)
				fr->opp[c] = 1;
			p += len + (e != NULL);
		}
	}
	if (!path)
		return 0;
	fr->exposure = malloc(fr->nunit * sizeof(double));
	if (!fr->exposure)
		return mb_err(err, MB_ENOMEM, "out of memory");
	for (size_t k = 0; k < fr->nunit; k++)
		fr->exposure[k] = NAN;
	if (!(f = fopen(path, "r")))
		return mb_err(err, MB_EIO, "cannot open '%s': %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *comma, *end;
		size_t len = strlen(line);

		ln++;
		if (len + 1 == sizeof(line) && line[len - 1] != '\n') {
			r = mb_err(err, MB_EDATA, "%s:%ld:1: line too long", path, ln);
			goto cleanup;
		}
		line[strcspn(line, "\r\n")] = '\0';
		if (ln == 1 || !line[0])
			continue; /* the header */
		if (!(comma = strchr(line, ','))) {
			r = mb_err(err, MB_EDATA, "%s:%ld:%zu: want 'unit code,exposure'", path, ln,
				   strlen(line) + 1);
			goto cleanup;
		}
		*comma = '\0';
		errno = 0;
		double v = strtod(comma + 1, &end);

		if (end == comma + 1 || *end || errno || !isfinite(v) || v < 0 || v > 1e9) {
			r = mb_err(err, MB_EDATA, "%s:%ld:%zu: exposure is not a number in 0..1e9", path,
				   ln, (size_t)(comma - line) + 2);
			goto cleanup;
		}
		size_t k = 0;

		while (k < fr->nunit && strcmp(fr->au.code[fr->unit_of[k]], line) != 0)
			k++;
		if (k == fr->nunit) {
			unknown++;
			continue;
		}
		if (isfinite(fr->exposure[k])) {
			r = mb_err(err, MB_EDATA, "%s:%ld:1: unit '%s' given twice", path, ln, line);
			goto cleanup;
		}
		fr->exposure[k] = v;
	}
	if (ferror(f))
		r = mb_err(err, MB_EIO, "cannot read '%s'", path);
	else if (unknown)
		fprintf(msg, "microbeat: %s: %ld codes are not units in scope of layer '%s'\n", path,
			unknown, fr->au.layer);
cleanup:
	fclose(f);
	return r;
}

/* The category's denominator in words. */
static const char *den_words(enum flags_den d)
{
	switch (d) {
	case FLAGS_DEN_RESIDENTS: return "residents";
	case FLAGS_DEN_STREETS: return "streets";
	case FLAGS_DEN_EXPOSURE: return "exposure";
	default: return "share of other crime";
	}
}

/* Why unit k is (or is not) a priority, in words (owned string; NULL on OOM). */
static char *reasons(const struct flags_run *fr, size_t k)
{
	return flags_reasons(fr->res, &fr->par, k, (const char *const *)fr->sl.cat_name, fr->cat_of);
}

/* flags_matrix.csv: one row per unit x category. */
static int build_matrix(const struct flags_run *fr, struct table *t, struct mb_error *err)
{
	static const char *const cols[] = {
		"unit_code", "unit_name", "population", "exposure", "streets", "category",
		"denominator", "observed", "expected", "ratio", "rr_shrunk", "rr_lo", "rr_hi",
		"p_rr_gt_t", "p_rr_gt_1", "credible", "excess_shrunk", "harm_weight", "z", "phi", "z_adj",
		"p_high", "q_high", "rise_later", "rise_earlier", "rise_change_pct", "rise_phi",
		"rise_p_exact", "rise_p_qp", "rise_p", "rise_q", "cc_centre", "cc_sigma_z", "cc_ucl",
		"cc_recent_max", "cc_recent_above", "cc_p", "cc_q", "hot_streets", "hot_expected",
		"flags", "n_flags"
	};
	const struct flags_result *res = fr->res;
	int r;

	if ((r = table_init(t, "Flags by unit and category", cols, ARRAY_SIZE(cols), err)))
		return r;
	for (size_t o = 0; o < fr->nunit; o++) {
		size_t k = res->order[o], u = fr->unit_of[k];

		for (size_t c = 0; c < fr->ncat && reported(fr, k); c++) {
			const struct flags_cell *x = &res->cell[k * fr->ncat + c];
			const struct flags_cat *fc = &res->cat[c];
			char letters[4];
			size_t row;
			int nf = 0, col = 0;

			for (unsigned b = x->flags; b; b &= b - 1)
				nf++;
			flags_letters(x->flags, letters);
			if ((r = table_add_row(t, &row, err)) ||
			    (r = table_set_text(t, row, col++, fr->au.code[u], err)) ||
			    (r = table_set_text(t, row, col++, fr->au.name[u], err)) ||
			    (r = table_set_double(t, row, col++, fr->pop ? fr->pop[k] : NAN, 0, err)) ||
			    (r = table_set_double(t, row, col++, fr->exposure ? fr->exposure[k] : NAN, 4, err)) ||
			    (r = table_set_int(t, row, col++, (int64_t)fr->streets[k], err)) ||
			    (r = table_set_text(t, row, col++, fr->sl.cat_name[fr->cat_of[c]], err)) ||
			    (r = table_set_text(t, row, col++, den_words(fc->den), err)) ||
			    (r = table_set_int(t, row, col++, (int64_t)x->observed, err)) ||
			    (r = table_set_double(t, row, col++, x->expected, 4, err)) ||
			    (r = table_set_double(t, row, col++, x->ratio, 4, err)) ||
			    (r = table_set_double(t, row, col++, x->rr_shrunk, 4, err)) ||
			    (r = table_set_double(t, row, col++, x->rr_lo, 4, err)) ||
			    (r = table_set_double(t, row, col++, x->rr_hi, 4, err)) ||
			    (r = table_set_double(t, row, col++, x->p_rr_t, 6, err)) ||
			    (r = table_set_double(t, row, col++, x->p_rr1, 6, err)) ||
			    (r = table_set_text(t, row, col++, x->credible ? "yes" : "no", err)) ||
			    (r = table_set_double(t, row, col++, x->excess, 4, err)) ||
			    (r = table_set_double(t, row, col++, fr->harm[c], 4, err)) ||
			    (r = table_set_double(t, row, col++, x->z, 4, err)) ||
			    (r = table_set_double(t, row, col++, fc->phi_used, 4, err)) ||
			    (r = table_set_double(t, row, col++, x->z_adj, 4, err)) ||
			    (r = table_set_double(t, row, col++, x->p_high, 8, err)) ||
			    (r = table_set_double(t, row, col++, x->q_high, 8, err)))
				return r;
			if (x->has_rise &&
			    ((r = table_set_int(t, row, 23, (int64_t)x->yoy.a, err)) ||
			     (r = table_set_int(t, row, 24, (int64_t)x->yoy.b, err)) ||
			     (r = table_set_double(t, row, 25, x->yoy.pct, 2, err)) ||
			     (r = table_set_double(t, row, 26, x->rise_phi, 4, err)) ||
			     (r = table_set_double(t, row, 27, x->yoy.p, 8, err)) ||
			     (r = table_set_double(t, row, 28, x->p_rise_qp, 8, err)) ||
			     (r = table_set_double(t, row, 29, x->p_rise, 8, err)) ||
			     (r = table_set_double(t, row, 30, x->q_rise, 8, err))))
				return r;
			if (x->has_cc &&
			    ((r = table_set_double(t, row, 31, x->cc_centre, 4, err)) ||
			     (r = table_set_double(t, row, 32, x->cc_sigma_z, 4, err)) ||
			     (r = table_set_double(t, row, 33, x->cc_ucl, 4, err)) ||
			     (r = table_set_int(t, row, 34, (int64_t)x->cc_recent_max, err)) ||
			     (r = table_set_int(t, row, 35, (int64_t)x->cc_recent_above, err)) ||
			     (r = table_set_double(t, row, 36, x->p_cc, 8, err)) ||
			     (r = table_set_double(t, row, 37, x->q_cc, 8, err))))
				return r;
			if ((r = table_set_int(t, row, 38, x->hot_streets, err)) ||
			    (r = table_set_double(t, row, 39, x->hot_expected, 4, err)) ||
			    (r = table_set_text(t, row, 40, letters, err)) ||
			    (r = table_set_int(t, row, 41, nf, err)))
				return r;
		}
	}
	return 0;
}

/* priorities.csv: the ranked units with the reasons in words. */
static int build_priorities(const struct flags_run *fr, struct table *t, struct mb_error *err)
{
	static const char *const cols[] = {
		"rank", "unit_code", "unit_name", "population", "harm_expected", "harm_excess",
		"harm_rr", "p_harm_rr_gt_1", "categories_credible", "categories_flagged",
		"hot_streets_held", "hot_streets_expected", "priority", "why"
	};
	const struct flags_result *res = fr->res;
	int r;

	if ((r = table_init(t, "Geographic priorities", cols, ARRAY_SIZE(cols), err)))
		return r;
	for (size_t o = 0; o < fr->nunit; o++) {
		size_t k = res->order[o], u = fr->unit_of[k], row;
		const struct flags_unit *fu = &res->unit[k];
		char *why;

		if (!reported(fr, k))
			continue;
		if (!(why = reasons(fr, k)))
			return mb_err(err, MB_ENOMEM, "out of memory");
		if ((r = table_add_row(t, &row, err)) ||
		    (r = table_set_int(t, row, 0, (int64_t)fu->rank, err)) ||
		    (r = table_set_text(t, row, 1, fr->au.code[u], err)) ||
		    (r = table_set_text(t, row, 2, fr->au.name[u], err)) ||
		    (r = table_set_double(t, row, 3, fr->pop ? fr->pop[k] : NAN, 0, err)) ||
		    (r = table_set_double(t, row, 4, fu->harm_expected, 1, err)) ||
		    (r = table_set_double(t, row, 5, fu->harm_excess, 1, err)) ||
		    (r = table_set_double(t, row, 6, fu->harm_rr, 4, err)) ||
		    (r = table_set_double(t, row, 7, fu->p_harm_rr1, 6, err)) ||
		    (r = table_set_int(t, row, 8, fu->ncat_credible, err)) ||
		    (r = table_set_int(t, row, 9, fu->ncat_flagged, err)) ||
		    (r = table_set_int(t, row, 10, fu->hot_held, err)) ||
		    (r = table_set_double(t, row, 11, fu->hot_expected, 1, err)) ||
		    (r = table_set_text(t, row, 12, fu->priority ? "yes" : "no", err)) ||
		    (r = table_set_text(t, row, 13, why, err))) {
			free(why);
			return r;
		}
		free(why);
	}
	return 0;
}

/* The console summary: rank, unit, harm-weighted excess, credible categories. */
static int build_console(const struct flags_run *fr, struct table *t, struct mb_error *err)
{
	static const char *const cols[] = { "rank", "unit", "population", "harm excess", "RR",
					    "P(RR>1)", "credible", "priority",
					    "flags (H high, R rising, C out of control)" };
	const struct flags_result *res = fr->res;
	int r;

	if ((r = table_init(t, NULL, cols, ARRAY_SIZE(cols), err)))
		return r;
	for (size_t o = 0; o < fr->nunit; o++) {
		size_t k = res->order[o], u = fr->unit_of[k], row, len = 0, cap = 0;
		const struct flags_unit *fu = &res->unit[k];
		char *s = NULL, letters[4];

		if (!reported(fr, k))
			continue;
		for (size_t c = 0; c < fr->ncat; c++) {
			const struct flags_cell *x = &res->cell[k * fr->ncat + c];

			if (!x->flags)
				continue;
			flags_letters(x->flags, letters);
			flags_sappend(&s, &len, &cap, "%s%s %s", len ? "; " : "",
				      fr->sl.cat_name[fr->cat_of[c]], letters);
		}
		if (!s && cap)
			return mb_err(err, MB_ENOMEM, "out of memory");
		if ((r = table_add_row(t, &row, err)) ||
		    (r = table_set_int(t, row, 0, (int64_t)fu->rank, err)) ||
		    (r = table_set_text(t, row, 1, fr->au.name[u], err)) ||
		    (r = table_set_double(t, row, 2, fr->pop ? fr->pop[k] : NAN, 0, err)) ||
		    (r = table_set_double(t, row, 3, fu->harm_excess, 0, err)) ||
		    (r = table_set_double(t, row, 4, fu->harm_rr, 2, err)) ||
		    (r = table_set_double(t, row, 5, fu->p_harm_rr1, 3, err)) ||
		    (r = table_set_int(t, row, 6, fu->ncat_credible, err)) ||
		    (r = table_set_text(t, row, 7, fu->priority ? "yes" : "no", err)) ||
		    (r = table_set_text(t, row, 8, s ? s : "", err))) {
			free(s);
			return r;
		}
		free(s);
	}
	return 0;
}

/* Print why each priority is one and, for the next few in rank order, why
 * not; md: as Markdown list items, names escaped (emit_md_escape). */
static int print_why(const struct flags_run *fr, FILE *f, int md, struct mb_error *err)
{
	const struct flags_result *res = fr->res;
	size_t shown = 0;
	int r = 0;

	if (fr->named) {
		/* the named units, each with its standing in the whole layer */
		fprintf(f, "\nThe named units among the %zu units of '%s' (%zu priorities in the"
			" layer):\n%s", fr->nunit, MB_SHOWN(fr->au.layer), res->npriority, md ? "\n" : "");
		for (size_t o = 0; o < fr->nunit && !r; o++) {
			size_t k = res->order[o];
			char *why, *line = NULL;
			size_t len = 0, cap = 0;

			if (!reported(fr, k))
				continue;
			if (!(why = reasons(fr, k)))
				return mb_err(err, MB_ENOMEM, "out of memory");
			flags_sappend(&line, &len, &cap, "%zu of %zu. %s: %s; %s", res->unit[k].rank,
				      fr->nunit, fr->au.name[fr->unit_of[k]],
				      res->unit[k].priority ? "a priority" : "not a priority", why);
			free(why);
			if (!line)
				return mb_err(err, MB_ENOMEM, "out of memory");
			fputs(md ? "- " : "  ", f);
			if (md)
				r = emit_md_escape(line, f, err);
			else
				fputs(line, f);
			fputc('\n', f);
			free(line);
		}
		return r;
	}
	fprintf(f, "\nPriorities (%zu):\n%s", res->npriority, md ? "\n" : "");
	for (int pass = 0; pass < 2 && !r; pass++) {
		if (pass == 1)
			fprintf(f, "%sNot priorities (the next in rank order):\n%s", md ? "\n" : "",
				md ? "\n" : "");
		for (size_t o = 0; o < fr->nunit && !r; o++) {
			size_t k = res->order[o];
			char *why, *line = NULL;
			size_t len = 0, cap = 0;

			if (res->unit[k].priority != (pass == 0) || (pass == 1 && shown >= 5))
				continue;
			if (!(why = reasons(fr, k)))
				return mb_err(err, MB_ENOMEM, "out of memory");
			flags_sappend(&line, &len, &cap, "%zu. %s: %s", res->unit[k].rank,
				      fr->au.name[fr->unit_of[k]], why);
			free(why);
			if (!line)
				return mb_err(err, MB_ENOMEM, "out of memory");
			fputs(md ? "- " : "  ", f);
			if (md)
				r = emit_md_escape(line, f, err);
			else
				fputs(MB_SHOWN(line), f);
			fputc('\n', f);
			free(line);
			shown += pass == 1;
		}
	}
	return r;
}

/* What the output folder holds, for report_write_dir. */
struct flags_pack {
	const struct flags_run *fr;  /* the run */
	const struct table *tm, *tp; /* flags_matrix.csv, priorities.csv */
	int charts;                  /* draw the charts */
};

/* Write the two tables and (unless --no-charts) the charts into dir. */
static int write_pack(void *ctx, const char *dir, struct mb_error *err)
{
	const struct flags_pack *p = ctx;
	int r;

	if (!(r = table_save_csv(p->tm, dir, "flags_matrix.csv", err)) &&
	    !(r = table_save_csv(p->tp, dir, "priorities.csv", err)) && p->charts)
		r = flags_write_charts(p->fr, dir, err);
	return r;
}

/* Print the header lines: what was analysed and what was left out. */
static void print_header(const struct flags_run *fr, FILE *f)
{
	const struct flags_result *res = fr->res;
	size_t nd[4] = { 0 };

	if (fr->named) {
		fprintf(f, "%s (%s), %s: %zu of %zu units x %zu categories; rates, shrinkage,"
			" phi, FDR and ranks over all the layer's units.\n", MB_SHOWN(fr->sel.area),
			MB_SHOWN(fr->au.layer),
			fr->sel.period_label, fr->nnamed, fr->nunit, fr->ncat);
	} else {
		fprintf(f, "%s by %s, %s: %zu units x %zu categories.\n",
			MB_SHOWN(fr->sl.scope_label), MB_SHOWN(fr->au.layer), fr->sel.period_label,
			fr->nunit, fr->ncat);
	}
	select_print_months(&fr->sel, f);
	select_print_sources(&fr->sel, &fr->sl, f);
	for (size_t c = 0; c < fr->ncat; c++)
		nd[res->cat[c].den]++;
	if (!res->by_population)
		fprintf(f, "Layer '%s' has no population: expected counts follow each unit's share of"
			   " the area's streets.\n", MB_SHOWN(fr->au.layer));
	else
		fprintf(f, "Denominators: residents for %zu categories", nd[FLAGS_DEN_RESIDENTS]);
	if (res->by_population) {
		for (size_t c = 0; c < fr->ncat; c++)
			if (res->cat[c].den != FLAGS_DEN_RESIDENTS)
				fprintf(f, "; %s: %s", MB_SHOWN(fr->sl.cat_name[fr->cat_of[c]]),
					res->cat[c].den == FLAGS_DEN_EXPOSURE
						? "per-unit exposure (--exposure)"
						: "none (the unit's share of the district's other crime)");
		fprintf(f, ".\n");
	}
	fprintf(f, "Ranked by harm-weighted excess after empirical-Bayes shrinkage per category"
		   " (Poisson-gamma, Marshall 1991). Priority: P(RR > %g) >= %g on >= %d categories,"
		   " or in the top %d by excess with P(RR > 1) > %g: %zu units.\n",
		fr->par.rr_threshold, fr->par.credible, fr->par.min_cats, fr->par.top_n,
		fr->par.credible, res->npriority);
	fprintf(f, "Flags at a false discovery rate of %g (Benjamini-Hochberg, each family): H high"
		   " on the over-dispersion-adjusted funnel (%zu tests), R rising last 12 months vs"
		   " the 12 before, quasi-Poisson (%zu tests), C above the Laney-adjusted limit in the"
		   " last %d months (%zu tests).\n", fr->par.fdr, res->n_high_tests,
		res->n_rise_tests, TREND_RECENT_MONTHS, res->n_cc_tests);
	if (fr->unassigned)
		fprintf(f, "%ld located events of the area fell in no unit of '%s' and are left out"
			   " (see 'microbeat areas').\n", fr->unassigned, MB_SHOWN(fr->au.layer));
	/* of the period, as the events by source above (the slice also holds
	 * the months before it that the control chart's baseline reads); the
	 * events placed by a code are not unlocated ones (an LSOA or unit code
	 * places them), so the two counts are apart */
	size_t nex = 0, nun = 0;

	for (size_t i = 0; i < fr->ex.n; i++)
		nex += fr->ex.month[i] >= fr->sel.from && fr->ex.month[i] <= fr->sel.to;
	for (size_t i = 0; i < fr->sl.n_unloc; i++)
		nun += fr->sl.unloc_month[i] >= fr->sel.from && fr->sl.unloc_month[i] <= fr->sel.to;
	if (nex)
		fprintf(f, "%zu events without coordinates placed by their LSOA or unit code.\n", nex);
	if (nun)
		fprintf(f, "%zu events without a location (force-wide) are in no unit.\n", nun);
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
		REPORT_LONG_OPTIONS,
		{ "harm", required_argument, NULL, O_HARM },
		{ "baseline-months", required_argument, NULL, O_BASE },
		{ "rr-threshold", required_argument, NULL, O_RR },
		{ "top", required_argument, NULL, O_TOP },
		{ "opportunity", required_argument, NULL, O_OPP },
		{ "exposure", required_argument, NULL, O_EXPOSURE },
		{ NULL, 0, NULL, 0 },
	};
	struct flags_run fr = { 0 };
	struct store *s = NULL;
	struct table tm = { 0 }, tp = { 0 }, tc = { 0 };
	struct report_opts ro;
	const char *harm_path = NULL, *exposure_path = NULL;
	int o, r = 0;
	long v;

	select_init(&fr.sel);
	report_init(&ro);
	flags_params_init(&fr.par);
	fr.hot_min = 3;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end;

		switch (o) {
		case O_CATS: r = select_option(&fr.sel, SEL_TYPES, optarg, err); break;
		case O_MINFLAGS:
			if (parse_int(optarg, 1, 1000, &v))
				r = mb_err(err, MB_EUSAGE, "--min-flags wants a number of categories >= 1");
			fr.par.min_cats = (int)v;
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
		case O_RR:
			errno = 0;
			fr.par.rr_threshold = strtod(optarg, &end);
			if (end == optarg || *end || errno || !(fr.par.rr_threshold >= 1 &&
								fr.par.rr_threshold < 100))
				r = mb_err(err, MB_EUSAGE, "--rr-threshold wants a rate ratio in 1..100");
			break;
		case O_TOP:
			if (parse_int(optarg, 0, 100000, &v))
				r = mb_err(err, MB_EUSAGE, "--top wants a number of units >= 0");
			fr.par.top_n = (int)v;
			break;
		case O_OPP: fr.opp_list = optarg; break;
		case O_EXPOSURE: exposure_path = optarg; break;
		case O_HARM: harm_path = optarg; break;
		default:
			if (o >= SEL_FIRST && o < SEL_LAST)
				r = select_option(&fr.sel, o, optarg, err);
			else if (o >= REPORT_FIRST && o < REPORT_LAST)
				r = report_option(&ro, o, optarg, err);
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
	if ((r = report_open(c->db_path, &fr.sel, &s, err)))
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
				 .nexclude = fr.sel.nexclude, .no_source = 1, .no_street_column = 1,
				 .no_unit_column = 1 };

	select_query(&fr.sel, NULL, 0, &q);
	/* units named by --area are judged against the whole layer: the
	   district rates, the shrinkage prior, phi and the FDR families are
	   those of every unit (as --area all), and only the named units are
	   reported (one ward alone would be its own district and could never
	   flag high). A name that is no unit falls back to the shared selector
	   (an authority, or the error listing the nearest names). */
	int whole = fr.sel.area && strcasecmp(fr.sel.area, "all") != 0;

	if (whole)
		q.area = "all";
	if ((r = report_load(s, &fr.sel, &q, &fr.sl, err)) ||
	    (r = store_slice_units(s, fr.sel.layer, q.area, &fr.sl, &fr.ue, &fr.au, &fr.ex, err)))
		goto cleanup;
	if (whole && (r = mark_named(&fr, fr.sel.area, err)) <= 0) {
		if (r < 0)
			goto cleanup;
		free(fr.ue);
		fr.ue = NULL;
		area_units_release(&fr.au);
		area_extra_release(&fr.ex);
		slice_release(&fr.sl);
		q.area = fr.sel.area;
		if ((r = report_load(s, &fr.sel, &q, &fr.sl, err)) ||
		    (r = store_slice_units(s, fr.sel.layer, q.area, &fr.sl, &fr.ue, &fr.au, &fr.ex,
					   err)))
			goto cleanup;
	}
	if ((r = build_counts(&fr, err)))
		goto cleanup;
	if (fr.named && (r = check_named(&fr, c->msg, err)))
		goto cleanup;
	/* a requested category with no event in the layer's units is said, not dropped silently */
	for (size_t i = 0; i < fr.sel.ntypes; i++)
		for (size_t cat = 1; cat < fr.sl.ncat; cat++)
			if (fr.sl.cat_name[cat] && strcasecmp(fr.sl.cat_name[cat], fr.sel.types[i]) == 0 &&
			    fr.cidx[cat] < 0) {
				fputs("microbeat: category '", c->msg);
				emit_text_clean(fr.sl.cat_name[cat], c->msg, NULL);
				fprintf(c->msg, "' has no events in the selected units of layer '%s' in %s:"
					" not analysed\n", MB_SHOWN(fr.au.layer), fr.sel.period_label);
			} else if (fr.sl.cat_name[cat] && fr.named &&
				   strcasecmp(fr.sl.cat_name[cat], fr.sel.types[i]) == 0 &&
				   !named_count(&fr, (size_t)fr.cidx[cat])) {
				fputs("microbeat: category '", c->msg);
				emit_text_clean(fr.sl.cat_name[cat], c->msg, NULL);
				fprintf(c->msg, "' has no events in the named units of layer '%s' in %s"
					" (analysed over the layer's units)\n", MB_SHOWN(fr.au.layer),
					fr.sel.period_label);
			}
	if ((r = build_hot(&fr, err)) ||
	    (r = build_harm(&fr, harm_path, c->msg, err)) ||
	    (r = build_opportunity(&fr, exposure_path, c->msg, err)))
		goto cleanup;
	struct flags_input in = {
		.nunit = fr.nunit, .ncat = fr.ncat, .nmonth = fr.nmonth, .first_month = fr.span_from,
		.present = fr.sl.month_present, .period_first = (size_t)(fr.sel.from - fr.span_from),
		.count = fr.count, .population = fr.pop, .streets = fr.streets, .hot = fr.hot,
		.hot_total = fr.hot_total, .opportunity = fr.opp, .exposure = fr.exposure,
		.harm = fr.harm,
	};

	if ((r = flags_compute(&in, &fr.par, &fr.res, err)) ||
	    (r = build_matrix(&fr, &tm, err)) || (r = build_priorities(&fr, &tp, err)))
		goto cleanup;
	if (ro.format == REPORT_CSV) {
		select_print_months(&fr.sel, c->msg); /* the CSV has no room for it: stderr */
		r = table_write_csv(&tp, c->out, err);
	} else if (ro.format == REPORT_MD) {
		print_header(&fr, c->out);
		if ((r = table_write_md(&tp, c->out, err)) == 0)
			r = print_why(&fr, c->out, 1, err);
	} else {
		print_header(&fr, c->out);
		if ((r = build_console(&fr, &tc, err)) == 0 &&
		    (r = table_write_console(&tc, 3, 30, c->out, err)) == 0)
			r = print_why(&fr, c->out, 0, err);
	}
	if (r)
		goto cleanup;
	struct flags_pack pack = { .fr = &fr, .tm = &tm, .tp = &tp, .charts = ro.charts };

	r = report_write_dir(&ro, write_pack, &pack, err);
cleanup:
	table_release(&tm);
	table_release(&tp);
	table_release(&tc);
	flags_result_free(fr.res);
	free(fr.ue);
	free(fr.named);
	free(fr.unit_of);
	free(fr.aidx);
	free(fr.cat_of);
	free(fr.cidx);
	free(fr.count);
	free(fr.pop);
	free(fr.streets);
	free(fr.hot);
	free(fr.hot_total);
	free(fr.opp);
	free(fr.exposure);
	free(fr.harm);
	area_units_release(&fr.au);
	area_extra_release(&fr.ex);
	slice_release(&fr.sl);
	select_release(&fr.sel);
	store_close(s);
	return r;
}
