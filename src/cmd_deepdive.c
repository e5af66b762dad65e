/* cmd_deepdive — 'microbeat deepdive': one place or theme in depth, against the
 * rest of the district, as tables, charts and a report section (deepdive.md).
 * Every figure is defined in docs/methods-deepdive.md. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "microbeat/areas.h"
#include "microbeat/beats.h"
#include "microbeat/cli.h"
#include "microbeat/conc.h"
#include "microbeat/csvtab.h"
#include "microbeat/deepdive.h"
#include "microbeat/emit.h"
#include "microbeat/outcomes.h"
#include "microbeat/plot.h"
#include "microbeat/select.h"
#include "microbeat/slice.h"
#include "microbeat/store.h"
#include "microbeat/trend.h"
#include "microbeat/util.h"
#include "deepdive_internal.h"

enum { O_FORMAT = 1, O_OUT, O_NOCHARTS, O_METRES, O_CHARTS };

/* The selected categories with an event in either slice, by name. */
static int collect_types(struct dd_run *d, struct mb_error *err)
{
	uint8_t *seen = calloc(d->D.ncat ? d->D.ncat : 1, 1);

	if (!seen || !(d->type = calloc(d->D.ncat ? d->D.ncat : 1, sizeof(uint32_t)))) {
		free(seen);
		return mb_err(err, MB_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < d->D.n; i++)
		seen[d->D.category[i]] = 1;
	for (size_t i = 0; i < d->S.n; i++)
		seen[d->S.category[i]] = 1;
	if (!(d->on = calloc(d->D.ncat ? d->D.ncat : 1, 1))) {
		free(seen);
		return mb_err(err, MB_ENOMEM, "out of memory");
	}
	/* the slices keep every category (Anti-social behaviour too); the
	 * selectors say which count */
	for (uint32_t c = 1; c < d->D.ncat; c++)
		d->on[c] = d->D.cat_selected[c] && d->D.cat_name[c] && select_type_on(&d->sel, d->D.cat_name[c]);
	for (uint32_t c = 1; c < d->D.ncat; c++)
		if (seen[c] && d->on[c])
			d->type[d->ntype++] = c;
	free(seen);
	return 0;
}

/* Residents of the chosen units (sel) and of the rest of the layer (rest);
 * NaN when the layer has no populations or an included unit lacks one. */
static int populations(struct dd_run *d, struct store *s, double *sel, double *rest,
		       struct mb_error *err)
{
	struct area_units u = { 0 };
	struct area_extra x = { 0 };
	uint32_t *ue = NULL;
	int r;

	*sel = *rest = NAN;
	if (!d->sel.layer)
		return 0;
	if ((r = store_slice_units(s, d->sel.layer, "all", &d->D, &ue, &u, &x, err)))
		return r;
	if (u.has_population) {
		double a = 0, b = 0;
		int a_ok = 1, b_ok = 1;

		for (size_t k = 1; k < u.n; k++) {
			int chosen = 0;

			for (size_t j = 1; j < d->S.nunit; j++)
				if (d->S.unit_chosen[j] && d->S.unit_code[j] &&
				    strcmp(d->S.unit_code[j], u.code[k]) == 0)
					chosen = 1;
			if (chosen) {
				a += u.population[k];
				a_ok &= isfinite(u.population[k]);
			} else {
				b += u.population[k];
				b_ok &= isfinite(u.population[k]);
			}
		}
		*sel = a_ok && a > 0 ? a : NAN;
		*rest = b_ok && b > 0 ? b : NAN;
	}
	free(ue);
	area_units_release(&u);
	area_extra_release(&x);
	return 0;
}

/* Section 1: counts by type and year, rates per 1,000 residents. */
static int sec_counts(struct dd_run *d, struct store *s, struct mb_error *err)
{
	int32_t y0 = d->span_from / 12, y1 = d->sel.to / 12;
	size_t ny = (size_t)(y1 - y0 + 1), nc = 6 + ny;
	const char **cols = calloc(nc, sizeof(char *));
	char (*yname)[40] = calloc(ny, 40);
	double *cur = calloc(d->D.ncat, sizeof(double)), *prev = calloc(d->D.ncat, sizeof(double));
	double *dcur = calloc(d->D.ncat, sizeof(double)), *yc = calloc(ny * d->D.ncat, sizeof(double));
	double pop_sel, pop_rest;
	size_t *yk = NULL;
	struct table t = { 0 };
	int r = 0;

	if (!cols || !yname || !cur || !prev || !dcur || !yc) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	if ((r = populations(d, s, &pop_sel, &pop_rest, err)))
		goto cleanup;
	dd_count_types(d, &d->S, 0, cur);
	dd_count_types(d, &d->S, 1, prev);
	dd_count_types(d, &d->D, 0, dcur);
	for (size_t i = 0; i < d->S.n; i++)
		if (d->on[d->S.category[i]] && d->S.month[i] <= d->sel.to)
			yc[(size_t)(d->S.month[i] / 12 - y0) * d->D.ncat + d->S.category[i]]++;
	/* one column per calendar year with a loaded month (a year not loaded is no zero) */
	size_t nyk = 0;

	if (!(yk = calloc(ny, sizeof(size_t)))) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	cols[0] = "type";
	for (size_t y = 0; y < ny; y++) {
		int loaded = 0;

		for (int32_t m = (y0 + (int32_t)y) * 12; m < (y0 + (int32_t)y + 1) * 12; m++)
			loaded += m >= d->span_from && m <= d->sel.to && d->S.month_present[m - d->span_from];
		if (!loaded)
			continue;
		if (loaded == 12)
			snprintf(yname[nyk], 40, "%d", 2000 + y0 + (int)y);
		else
			snprintf(yname[nyk], 40, "%d (%d month%s loaded)", 2000 + y0 + (int)y, loaded,
				 loaded == 1 ? "" : "s");
		cols[1 + nyk] = yname[nyk];
		yk[nyk++] = y;
	}
	ny = nyk;
	nc = 6 + ny;
	cols[1 + ny] = "period";
	cols[2 + ny] = "previous period";
	cols[3 + ny] = "change %";
	cols[4 + ny] = "per 1,000 residents";
	cols[5 + ny] = "rest of district per 1,000";
	if ((r = table_init(&t, "Crimes by type and calendar year (selection)", cols, nc, err)))
		goto cleanup;
	double tot[4] = { 0 };

	for (size_t k = 0; k <= d->ntype && !r; k++) {
		uint32_t c = k < d->ntype ? d->type[k] : 0;
		double a = 0, b = 0, dc = 0;
		size_t row;

		if ((r = table_add_row(&t, &row, err)))
			break;
		r = table_set_text(&t, row, 0, c ? d->D.cat_name[c] : "All selected types", err);
		for (size_t y = 0; y < ny && !r; y++) {
			double v = 0;

			if (c)
				v = yc[yk[y] * d->D.ncat + c];
			else
				for (size_t j = 0; j < d->ntype; j++)
					v += yc[yk[y] * d->D.ncat + d->type[j]];
			r = table_set_int(&t, row, 1 + y, (int64_t)v, err);
		}
		if (c) {
			a = cur[c];
			b = prev[c];
			dc = dcur[c];
			tot[0] += a;
			tot[1] += b;
			tot[2] += dc;
		} else {
			for (size_t j = 0; j < d->ntype; j++) {
				a += cur[d->type[j]];
				b += prev[d->type[j]];
				dc += dcur[d->type[j]];
			}
		}
		if (!r)
			r = table_set_int(&t, row, 1 + ny, (int64_t)a, err);
		if (!r)
			r = table_set_int(&t, row, 2 + ny, (int64_t)b, err);
		if (!r)
			r = table_set_double(&t, row, 3 + ny, b > 0 ? 100 * (a / b - 1) : NAN, 1, err);
		if (!r)
			r = table_set_double(&t, row, 4 + ny, 1000 * a / pop_sel, 2, err);
		if (!r)
			r = table_set_double(&t, row, 5 + ny, 1000 * (dc - a) / pop_rest, 2, err);
	}
	if (r)
		goto cleanup;
	/* the total row first reads best: move it from the end */
	if (t.nrows > 1) {
		struct table_cell *tmp = malloc(t.ncols * sizeof(*tmp));

		if (!tmp) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
		memcpy(tmp, &t.cells[(t.nrows - 1) * t.ncols], t.ncols * sizeof(*tmp));
		memmove(&t.cells[t.ncols], t.cells, (t.nrows - 1) * t.ncols * sizeof(*tmp));
		memcpy(t.cells, tmp, t.ncols * sizeof(*tmp));
		free(tmp);
	}
	char sh[96];

	fprintf(d->md, "## Crimes by type and year\n\n");
	dd_share_text(tot[0], tot[2], sh, sizeof(sh));
	fprintf(d->md, "In the period the selection recorded %.0f crimes of the selected types, against"
		" %.0f in the previous period of the same length; it holds %s of the district's.",
		tot[0], tot[1], sh);
	if (isfinite(pop_sel) && isfinite(pop_rest))
		fprintf(d->md, " That is %.1f per 1,000 residents (%.0f residents), against %.1f in the"
			" rest of the district (%.0f residents).", 1000 * tot[0] / pop_sel, pop_sel,
			1000 * (tot[2] - tot[0]) / pop_rest, pop_rest);
	else
		fprintf(d->md, " Rates per 1,000 residents are not given: %s.",
			d->sel.layer ? "the layer has no population for every unit"
				     : "no area layer with populations was selected (--layer)");
	fprintf(d->md, " Partial calendar years are marked with their months.\n\n");
	if (d->csv && (r = table_write_csv(&t, d->csv, err)))
		goto cleanup;
	r = dd_emit_table(&d->out, &t, "counts_by_type_year.csv", err);
cleanup:
	table_release(&t);
	free(cols);
	free(yname);
	free(yk);
	free(cur);
	free(prev);
	free(dcur);
	free(yc);
	return r;
}

/* Section 2: the monthly series, control limits and verdict (as 'trends'). */
static int sec_monthly(struct dd_run *d, struct mb_error *err)
{
	size_t n = (size_t)(d->sel.to - d->span_from + 1);
	double *cnt = calloc(n, sizeof(double)), *shown = calloc(n, sizeof(double));
	unsigned char *pres = calloc(n, 1);
	char verdict[1024];
	int r = 0;

	if (!cnt || !pres || !shown) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t m = 0; m < n; m++)
		pres[m] = d->S.month_present[m];
	for (size_t i = 0; i < d->S.n; i++)
		if (d->on[d->S.category[i]] && d->S.month[i] >= d->span_from &&
		    d->S.month[i] <= d->sel.to)
			cnt[d->S.month[i] - d->span_from]++;
	/* year on year: the last 12 months against the 12 before, months paired */
	double later[12], earlier[12];
	unsigned char lp[12], ep[12];
	int32_t to = d->sel.to - d->span_from;
	double a = 0, b = 0;
	int am = 0, bm = 0;

	for (int j = 0; j < 12; j++) {
		int32_t ml = to - 11 + j, me = to - 23 + j;

		lp[j] = ml >= 0 && pres[ml];
		ep[j] = me >= 0 && pres[me];
		later[j] = lp[j] ? cnt[ml] : 0;
		earlier[j] = ep[j] ? cnt[me] : 0;
		a += later[j];
		b += earlier[j];
		am += lp[j];
		bm += ep[j];
	}
	struct trend_qp_yoy qp;
	struct trend_yoy yoy;
	struct trend_cchart cc = { 0 };
	int has_cc = 0;

	if ((r = trend_qp_yoy(later, lp, earlier, ep, &qp, err)))
		goto cleanup;
	int32_t bl_last = to - TREND_RECENT_MONTHS, bl_first = bl_last - 24 + 1;

	if (bl_first < 0)
		bl_first = 0;
	struct trend_series all = { .count = cnt, .present = pres, .n = (size_t)(to + 1),
				    .first_month = d->span_from };

	if (bl_last >= bl_first &&
	    trend_cchart(&all, (size_t)bl_first, (size_t)(bl_last - bl_first + 1), NULL, &cc, err) == 0)
		has_cc = cc.n_baseline > 0;
	fprintf(d->md, "## Monthly series and verdict\n\n");
	if (am && bm) {
		if ((r = trend_yoy_test((unsigned long)a, am, (unsigned long)b, bm, &yoy, err)))
			goto cleanup;
		struct trend_verdict_opts vo = {
			.alpha = d->fdr, .family = "the selection's total, tested alone", .phi = qp.defined ? qp.phi : NAN,
			.yoy = { .defined = qp.defined, .est = qp.rr, .level = 1 - d->fdr, .p = qp.p },
		};

		trend_qp_interval(&qp, 1 - d->fdr, &vo.yoy.lo, &vo.yoy.hi);
		if ((r = trend_verdict(&yoy, has_cc ? &cc : NULL, &vo, verdict, sizeof(verdict), err)))
			goto cleanup;
		fprintf(d->md, "The last 12 months (%.0f crimes) against the 12 before (%.0f), by the"
			" rules of `microbeat trends` (quasi-Poisson rate ratio, months paired by month of"
			" the year): **", a, b);
		if ((r = dd_put(d, verdict, err)))
			goto cleanup;
		fprintf(d->md, "**.\n\n");
	} else {
		fprintf(d->md, "No year-on-year verdict: the 24 months before the end of the period are"
			" not loaded.\n\n");
	}
	if (has_cc)
		fprintf(d->md, "Control limits (c-chart, limits at the baseline mean ± 3√mean, baseline of %zu months before the last %d):"
			" centre %.1f, upper %.1f, lower %.1f crimes a month; %zu month(s) above the upper"
			" limit, %zu below the lower. Run rules (Anhøj): longest run on one side of the"
			" centre %zu (signal above %zu), %zu crossings (signal below %zu)%s.\n\n",
			cc.n_baseline, TREND_RECENT_MONTHS, cc.centre, cc.ucl, cc.lcl, cc.n_above,
			cc.n_below, cc.longest_run, cc.run_limit, cc.crossings, cc.crossing_limit,
			cc.run_signal || cc.crossing_signal ? ": a signal of non-random variation"
							    : ": no signal");
	/* monthly.csv */
	struct table t = { 0 };
	static const char *const cols[] = { "month", "crimes", "loaded" };

	if ((r = table_init(&t, "Crimes per month (selection)", cols, ARRAY_SIZE(cols), err)))
		goto cleanup;
	for (size_t m = 0; m < n && !r; m++) {
		char mm[8];
		size_t row;

		month_format(d->span_from + (int32_t)m, mm);
		if (!(r = table_add_row(&t, &row, err)) && !(r = table_set_text(&t, row, 0, mm, err)))
			r = pres[m] ? table_set_int(&t, row, 1, (int64_t)cnt[m], err) : 0;
		if (!r)
			r = table_set_int(&t, row, 2, pres[m], err);
		shown[m] = pres[m] ? cnt[m] : NAN;
	}
	if (!r && d->dir)
		r = table_save_csv(&t, d->dir, "monthly.csv", err);
	table_release(&t);
	if (r)
		goto cleanup;
	if (d->dir)
		fprintf(d->md, "%s%s%s(Table: monthly.csv)\n\n", d->charts ? "![Crimes per month](monthly." : "",
			d->charts ? plot_formats_ext(d->charts) : "", d->charts ? ") " : "");
	if (d->charts && d->dir) {
		size_t f0 = 0;
		char title[560];

		struct plot_monthly win = { 0 };

		/* months before the first loaded one are not drawn; the baseline's
		 * loaded months are named in the centre line's key */
		plot_monthly_window(pres, n, n, d->span_from, bl_first, bl_last, &f0, &win);
		dd_chart_title(&d->out, "crimes per month", title, sizeof(title));
		struct plot_monthly pm = { .title = title,
					   .value_label = "Crimes per month", .n = n - f0,
					   .first_month = d->span_from + (int32_t)f0, .count = shown + f0,
					   .centre = has_cc ? cc.centre : NAN, .ucl = has_cc ? cc.ucl : NAN,
					   .lcl = has_cc ? cc.lcl : NAN,
					   .baseline_last = win.baseline_last,
					   .baseline_months = has_cc ? win.baseline_months : 0 };

		r = plot_monthly(d->dir, "monthly", &pm, err);
	}
cleanup:
	free(cnt);
	free(shown);
	free(pres);
	return r;
}

/* Is category c a police-recorded crime type (not Anti-social behaviour)? */
int dd_crime_type(const struct slice *sl, uint32_t c)
{
	return sl->cat_name[c] && strcmp(sl->cat_name[c], "Anti-social behaviour") != 0;
}

/* Counts of the period per category of every police-recorded crime (whatever
 * the type selectors): the whole mix the location quotients compare. */
static void count_mix(const struct dd_run *d, const struct slice *sl, double *cnt)
{
	for (size_t i = 0; i < sl->n; i++)
		if (dd_in_period(d, sl->month[i]) && sl->source[i] < sl->nsource &&
		    sl->src_police[sl->source[i]] && dd_crime_type(sl, sl->category[i]))
			cnt[sl->category[i]]++;
}

/* Does the type with counts (a1, b1) sort before (a2, b2): a larger location
 * quotient (A, B the totals), a quotient before none, then more crimes? */
static int lq_before(double a1, double b1, double a2, double b2, double A, double B)
{
	double q1 = b1 > 0 && A > 0 ? (a1 / A) / (b1 / B) : NAN;
	double q2 = b2 > 0 && A > 0 ? (a2 / A) / (b2 / B) : NAN;

	if (isfinite(q1) != isfinite(q2))
		return isfinite(q1);
	if (isfinite(q1) && q1 != q2)
		return q1 > q2;
	return a1 + b1 > a2 + b2;
}

/* Section 3: the crime-type mix as location quotients against the rest. */
static int sec_lq(struct dd_run *d, struct mb_error *err)
{
	size_t nc = d->D.ncat ? d->D.ncat : 1, m = 0;
	double *sc = calloc(nc, sizeof(double)), *dc = calloc(nc, sizeof(double));
	double *a = calloc(nc, sizeof(double)), *b = calloc(nc, sizeof(double));
	struct dd_lq *lq = calloc(nc, sizeof(*lq));
	const char **lab = calloc(nc, sizeof(char *));
	double *val = calloc(nc, sizeof(double));
	uint32_t *cat = calloc(nc, sizeof(uint32_t));
	struct table t = { 0 };
	static const char *const cols[] = { "type", "selected", "selection", "rest of district",
					    "selection share %", "rest share %", "LQ", "expected",
					    "p", "q (BH)", "verdict" };
	int r = 0;

	if (!sc || !dc || !a || !b || !lq || !lab || !val || !cat) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	count_mix(d, &d->S, sc);
	count_mix(d, &d->D, dc);
	double A = 0, B = 0;

	for (uint32_t c = 1; c < d->D.ncat; c++) {
		if (sc[c] + dc[c] == 0)
			continue;
		cat[m] = c;
		a[m] = sc[c];
		b[m] = dc[c] > sc[c] ? dc[c] - sc[c] : 0; /* the selection lies inside the district */
		A += a[m];
		B += b[m];
		m++;
	}
	/* largest quotient first (no quotient last), so the chart and table read down */
	for (size_t k = 1; k < m; k++)
		for (size_t j = k; j > 0 && lq_before(a[j], b[j], a[j - 1], b[j - 1], A, B); j--) {
			double ta = a[j], tb = b[j];
			uint32_t tc = cat[j];

			a[j] = a[j - 1];
			b[j] = b[j - 1];
			cat[j] = cat[j - 1];
			a[j - 1] = ta;
			b[j - 1] = tb;
			cat[j - 1] = tc;
		}
	if ((r = dd_lq_compute(a, b, m, d->fdr, lq, err)) ||
	    (r = table_init(&t, "Crime-type mix: location quotients", cols, ARRAY_SIZE(cols), err)))
		goto cleanup;
	fprintf(d->md, "## Crime-type mix against the rest of the district\n\n");
	if (B == 0) {
		fprintf(d->md, "The selection holds all the district's crime loaded: there is no rest of"
			" the district to compare its mix with (choose units of an area layer with"
			" --layer and --area).\n\n");
		goto cleanup;
	}
	if (m < 2) {
		fprintf(d->md, "Fewer than two crime types: there is no mix to compare.\n\n");
		goto cleanup;
	}
	fprintf(d->md, "A location quotient (LQ) is a type's share of the selection's police-recorded"
		" crime divided by its share of the rest of the district's (%.0f and %.0f crimes of all"
		" types in the period, Anti-social behaviour left out): above 1, the type is"
		" over-represented here. Each type with at least %d crimes in the two areas together"
		" is tested (exact binomial test of the selection's share of that type's crimes"
		" against its share of all crime), with Benjamini-Hochberg control of the false"
		" discovery rate at %.0f%% across the %zu types; smaller types are shown, not tested.\n\n",
		A, B, DD_MIN_TEST, 100 * d->fdr, m);
	size_t nsig = 0, nother = 0;

	for (size_t k = 0; k < m && !r; k++) {
		size_t row;
		const char *v = !lq[k].tested ? "too few to test"
				: !lq[k].significant ? "no clear difference"
				: lq[k].lq > 1 ? "over-represented" : "under-represented";

		lab[k] = d->D.cat_name[cat[k]];
		val[k] = isfinite(lq[k].lq) ? round(100 * lq[k].lq) / 100 : 0;
		if ((r = table_add_row(&t, &row, err)) ||
		    (r = table_set_text(&t, row, 0, lab[k], err)) ||
		    (r = table_set_text(&t, row, 1, d->on[cat[k]] ? "yes" : "", err)) ||
		    (r = table_set_int(&t, row, 2, (int64_t)a[k], err)) ||
		    (r = table_set_int(&t, row, 3, (int64_t)b[k], err)) ||
		    (r = table_set_double(&t, row, 4, A > 0 ? 100 * a[k] / A : NAN, 1, err)) ||
		    (r = table_set_double(&t, row, 5, B > 0 ? 100 * b[k] / B : NAN, 1, err)) ||
		    (r = table_set_double(&t, row, 6, lq[k].lq, 2, err)) ||
		    (r = table_set_double(&t, row, 7, lq[k].expected, 1, err)) ||
		    (r = table_set_double(&t, row, 8, lq[k].p, 4, err)) ||
		    (r = table_set_double(&t, row, 9, lq[k].q, 4, err)) ||
		    (r = table_set_text(&t, row, 10, v, err)))
			break;
		if (lq[k].significant && !d->on[cat[k]])
			nother++;
		if (lq[k].significant && d->on[cat[k]]) {
			char sa[96], sb[96];

			dd_share_text(a[k], A, sa, sizeof(sa));
			dd_share_text(b[k], B, sb, sizeof(sb));
			fprintf(d->md, "%s", nsig++ ? "; " : "Clearly different from the rest of the district: ");
			if ((r = dd_put(d, lab[k], err)))
				goto cleanup;
			fprintf(d->md, " is %s of the selection's crime against %s of the rest's (LQ %.2f,"
				" q = %.2g)", sa, sb, lq[k].lq, lq[k].q);
		}
	}
	if (r)
		goto cleanup;
	fprintf(d->md, nsig ? "." : "No selected type's share differs clearly from the rest of the"
		" district.");
	if (nother)
		fprintf(d->md, " %zu other type%s differ%s clearly too (see the table).", nother,
			nother == 1 ? "" : "s", nother == 1 ? "s" : "");
	fprintf(d->md, "\n\n");
	if ((r = dd_emit_table(&d->out, &t, "location_quotients.csv", err)))
		goto cleanup;
	if (d->charts && d->dir) {
		/* the chart marks what the table's verdict says: clearly different or not */
		char (*starred)[160] = calloc(m ? m : 1, 160);
		const char **cl = calloc(m ? m : 1, sizeof(char *));

		if (!starred || !cl) {
			free(starred);
			free(cl);
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
		for (size_t k = 0; k < m; k++) {
			snprintf(starred[k], 160, "%s%s", lab[k], lq[k].significant ? " *" : "");
			cl[k] = starred[k];
		}
		char title[600];

		dd_chart_title(&d->out, "location quotient by crime type (dashed line = same share as"
			       " the rest)", title, sizeof(title));
		r = dd_draw_bars(d->dir, "location_quotients", title,
				 "Location quotient (* clearly different from the rest, FDR 5%)", m, cl, val,
				 "Location quotient", NULL, NULL, 1, err);
		free(starred);
		free(cl);
		if (r)
			goto cleanup;
		fprintf(d->md, "![Location quotients](location_quotients.%s)\n\n", plot_formats_ext(d->charts));
	}
cleanup:
	table_release(&t);
	free(sc);
	free(dc);
	free(a);
	free(b);
	free(lq);
	free(lab);
	free(val);
	free(cat);
	return r;
}

static void hot_release(struct hot *h)
{
	free(h->beat);
	free(h->cur);
	free(h->prev);
	free(h->ic);
	free(h->ip);
	free(h->list);
}

static int hot_build(struct dd_run *d, struct hot *h, struct mb_error *err)
{
	size_t *pos = calloc(d->S.nstreet ? d->S.nstreet : 1, sizeof(size_t)), nn;
	int r = 0;

	memset(h, 0, sizeof(*h));
	h->beat = calloc(d->S.nstreet ? d->S.nstreet : 1, sizeof(uint32_t));
	h->cur = calloc(d->S.nstreet ? d->S.nstreet : 1, sizeof(double));
	h->prev = calloc(d->S.nstreet ? d->S.nstreet : 1, sizeof(double));
	h->list = calloc(d->S.nstreet ? d->S.nstreet : 1, sizeof(uint32_t));
	if (!pos || !h->beat || !h->cur || !h->prev || !h->list) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (uint32_t b = 1; b < d->S.nstreet; b++)
		if (d->S.street_in_area[b]) {
			pos[b] = h->n + 1;
			h->beat[h->n++] = b;
		}
	for (size_t i = 0; i < d->S.n; i++) {
		uint32_t b = d->S.street[i];

		if (!b || !pos[b] || !d->on[d->S.category[i]])
			continue;
		if (dd_in_period(d, d->S.month[i]))
			h->cur[pos[b] - 1]++;
		else if (dd_in_prev(d, d->S.month[i]))
			h->prev[pos[b] - 1]++;
	}
	if (h->n && ((r = conc_hot_list(h->cur, h->n, TOP_PCT, &h->ic, &h->nc, &nn, err)) ||
		     (r = conc_hot_list(h->prev, h->n, TOP_PCT, &h->ip, &h->np, &nn, err))))
		goto cleanup;
	for (size_t k = 0; k < h->nc; k++)
		h->list[h->nlist++] = h->beat[h->ic[k]];
	for (size_t k = 0; k < h->np; k++) {
		int dup = 0;

		for (size_t j = 0; j < h->nc; j++)
			dup |= h->ic[j] == h->ip[k];
		if (!dup)
			h->list[h->nlist++] = h->beat[h->ip[k]];
	}
cleanup:
	free(pos);
	return r;
}

static int in_list(const size_t *v, size_t n, size_t x)
{
	for (size_t k = 0; k < n; k++)
		if (v[k] == x)
			return 1;
	return 0;
}

/* Section 4: the selection's power few. */
static int sec_power_few(struct dd_run *d, const struct hot *h, struct mb_error *err)
{
	static const char *const cols[] = { "micro-beat", "LSOA", "crimes", "previous period",
					    "change", "class" };
	struct table t = { 0 };
	size_t ncls[3] = { 0 };
	int r;

	/* each named as concentration and the overlay name it: a place by its
	 * kind and the nearest street in its LSOA ("Petrol station, near ...") */
	char **lbl = calloc(h->nlist + 1, sizeof(char *));

	fprintf(d->md, "## The power few micro-beats\n\n");
	if (!lbl)
		return mb_err(err, MB_ENOMEM, "out of memory");
	if ((r = beats_label(&d->S, h->list, NULL, h->nlist, lbl, NULL, err)) ||
	    (r = table_init(&t, "Power-few micro-beats of the selection", cols, ARRAY_SIZE(cols), err)))
		goto cleanup;
	for (size_t k = 0; k < h->nlist && !r; k++) {
		size_t i = dd_hot_index(h, h->list[k]), row;
		int now = in_list(h->ic, h->nc, i), before = in_list(h->ip, h->np, i);
		int cls = now && before ? 0 : now ? 1 : 2;
		static const char *const cname[] = { "persistent", "emerging", "former" };
		const struct slice_street *st = &d->S.streets[h->list[k]];

		ncls[cls]++;
		if ((r = table_add_row(&t, &row, err)) || (r = table_set_text(&t, row, 0, lbl[k], err)) ||
		    (r = table_set_text(&t, row, 1, st->lsoa, err)) ||
		    (r = table_set_int(&t, row, 2, (int64_t)h->cur[i], err)) ||
		    (r = table_set_int(&t, row, 3, (int64_t)h->prev[i], err)) ||
		    (r = table_set_int(&t, row, 4, (int64_t)(h->cur[i] - h->prev[i]), err)))
			break;
		r = table_set_text(&t, row, 5, cname[cls], err);
	}
	if (r)
		goto cleanup;
	double tc = 0, hc = 0;

	for (size_t k = 0; k < h->n; k++)
		tc += h->cur[k];
	for (size_t k = 0; k < h->nc; k++)
		hc += h->cur[h->ic[k]];
	char sh[96];

	dd_share_text(hc, tc, sh, sizeof(sh));
	fprintf(d->md, "The power few are the top %d%% of the selection's %zu micro-beats (streets"
		" and places) by crimes, as in `microbeat concentration` (ties at the cut kept):"
		" %zu in the period, holding %s of its located crime. Persistent: in the power few"
		" in both periods (%zu); emerging: only now (%zu); former: only in the previous"
		" period (%zu).\n\n", TOP_PCT, h->n, h->nc, sh, ncls[0], ncls[1], ncls[2]);
	r = dd_emit_table(&d->out, &t, "power_few.csv", err);
cleanup:
	for (size_t k = 0; k < h->nlist; k++)
		free(lbl[k]);
	free(lbl);
	table_release(&t);
	return r;
}

/* src with a space after each comma that has none ("Milton,Waterbeach (parish)"
 * -> "Milton, Waterbeach (parish)"), truncated to cap. */
static void space_list(const char *src, char *dst, size_t cap)
{
	size_t n = 0;

	for (const char *p = src; *p && n + 2 < cap; p++) {
		dst[n++] = *p;
		if (*p == ',' && p[1] && p[1] != ' ')
			dst[n++] = ' ';
	}
	dst[n] = 0;
}

int cmd_deepdive(struct cli *c, int argc, char **argv, struct mb_error *err)
{
	static const struct option opts[] = {
		SELECT_LONG_OPTIONS,
		{ "format", required_argument, NULL, O_FORMAT },
		{ "out", required_argument, NULL, O_OUT },
		{ "no-charts", no_argument, NULL, O_NOCHARTS },
		{ "charts", required_argument, NULL, O_CHARTS },
		{ "overlay-metres", required_argument, NULL, O_METRES },
		{ NULL, 0, NULL, 0 },
	};
	struct plot_batch pb = { 0 };
	struct dd_run d = { .fdr = 0.05, .metres = OVERLAY_METRES, .charts = PLOT_BOTH };
	struct store *s = NULL;
	struct hot h = { 0 };
	const char *out_dir = NULL;
	char *tmp = NULL, *mdbuf = NULL, *csvbuf = NULL;
	size_t mdlen = 0, csvlen = 0;
	int format = 0, o, r = 0;

	select_init(&d.sel);
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end;

		switch (o) {
		case O_FORMAT:
			if (strcmp(optarg, "table") == 0) format = 0;
			else if (strcmp(optarg, "csv") == 0) format = 1;
			else if (strcmp(optarg, "md") == 0) format = 2;
			else r = mb_err(err, MB_EUSAGE, "--format wants table, csv or md");
			break;
		case O_OUT: out_dir = optarg; break;
		case O_NOCHARTS: d.charts = 0; break;
		case O_CHARTS:
			if ((d.charts = plot_formats_parse(optarg)) < 0)
				r = mb_err(err, MB_EUSAGE, "--charts wants png, svg or both");
			break;
		case O_METRES:
			errno = 0;
			d.metres = strtod(optarg, &end);
			if (errno || *end || !(d.metres >= 0 && d.metres <= 10000))
				r = mb_err(err, MB_EUSAGE, "--overlay-metres wants 0..10000");
			break;
		default:
			if (o >= SEL_FIRST && o < SEL_LAST)
				r = select_option(&d.sel, o, optarg, err);
			else
				r = -MB_EUSAGE;
		}
		if (r)
			goto cleanup;
	}
	if (optind < argc) {
		r = mb_err(err, MB_EUSAGE, "deepdive: unexpected argument '%s'", argv[optind]);
		goto cleanup;
	}
	if ((r = store_open(c->db_path, STORE_READONLY, &s, err)) || (r = select_finish(&d.sel, s, err)))
		goto cleanup;
	int32_t len = d.sel.to - d.sel.from + 1;

	d.pto = d.sel.from - 1;
	d.pfrom = d.sel.from - len;
	/* the previous period, the 24 months of the year on year and the c-chart baseline */
	d.span_from = d.pfrom;
	if (d.sel.to - 23 < d.span_from)
		d.span_from = d.sel.to - 23;
	if (d.sel.to - TREND_RECENT_MONTHS - 24 + 1 < d.span_from)
		d.span_from = d.sel.to - TREND_RECENT_MONTHS - 24 + 1;
	if (d.span_from < 0)
		d.span_from = 0;
	if (d.pfrom < 0)
		d.pfrom = 0;
	struct slice_query q = { .from = d.span_from, .to = d.sel.to, .include_asb = 1, .extract = 1 };

	select_query(&d.sel, NULL, 1, &q);
	if ((r = store_slice_load(s, &q, &d.S, err)) || (r = select_check_gaps(&d.sel, &d.S, err)))
		goto cleanup;
	space_list(d.S.scope_label, d.place, sizeof(d.place));
	/* the district: counts by type, month and source only (no micro-beats,
	 * no force-extract fields): the column blocks, no street table */
	q.area = d.sel.layer ? "all" : NULL;
	q.extract = 0;
	q.no_beats = 1;
	if ((r = store_slice_load(s, &q, &d.D, err)))
		goto cleanup;
	snprintf(d.district, sizeof(d.district), "%s",
		 d.sel.layer ? "every unit of the layer" : "everything loaded");
	if ((r = collect_types(&d, err)) || (r = hot_build(&d, &h, err)) || (r = dd_load_overlay(&d, s, err)))
		goto cleanup;
	if (format == 1 && !(d.csv = open_memstream(&csvbuf, &csvlen))) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	if (!(d.md = open_memstream(&mdbuf, &mdlen))) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	if (out_dir) {
		if ((r = emit_dir_begin(out_dir, &tmp, err)))
			goto cleanup;
		plot_batch_begin(&pb, d.charts);
		d.dir = tmp;
	}
	d.out = (struct dd_out){ .md = d.md, .dir = d.dir, .charts = d.charts, .fdr = d.fdr };
	snprintf(d.out.where, sizeof(d.out.where), "%s%s%s, %s", d.place, d.sel.theme[0] ? ", " : "",
		 d.sel.theme, d.sel.period_label);
	char pf[8], pt[8];

	month_format(d.pfrom, pf);
	month_format(d.pto, pt);
	fprintf(d.md, "# Deep dive: ");
	if ((r = dd_put(&d, d.place, err)))
		goto cleanup;
	fprintf(d.md, ", %s\n\n", d.sel.period_label);
	fprintf(d.md, "Crime types: ");
	if ((r = dd_put(&d, d.sel.theme[0] ? d.sel.theme
			 : d.sel.ntypes ? "the selected types" : "all crime types except Anti-social behaviour", err)))
		goto cleanup;
	for (size_t k = 0; k < d.ntype && k < 12; k++) {
		fputs(k ? ", " : " (", d.md);
		if ((r = dd_put(&d, d.D.cat_name[d.type[k]], err)))
			goto cleanup;
	}
	fputs(d.ntype > 12 ? ", ...)" : d.ntype ? ")" : "", d.md);
	fprintf(d.md, ". The selection is compared with the rest of the district (%s, less the"
		" selection) and with its own previous period of the same length (%s..%s). Police"
		" crimes only (police.uk street files); partner agencies appear in the overlay.",
		d.district, pf, pt);
	if (d.sel.gaps[0])
		fprintf(d.md, " Months used: %d of %d (not loaded: %s).", d.sel.months_used,
			d.sel.months_total, d.sel.gaps);
	int prev_loaded = 0;

	for (int32_t m = d.pfrom; m <= d.pto; m++)
		prev_loaded += m >= d.span_from && d.S.month_present[m - d.span_from];
	if (prev_loaded < d.pto - d.pfrom + 1)
		fprintf(d.md, " **The previous period has %d of its %d months loaded: every comparison"
			" with it understates its crime and overstates any rise.**", prev_loaded,
			d.pto - d.pfrom + 1);
	fprintf(d.md, "\n\n");
	if ((r = sec_counts(&d, s, err)) || (r = sec_monthly(&d, err)) || (r = sec_lq(&d, err)) ||
	    (r = sec_power_few(&d, &h, err)) || (r = dd_sec_outcomes(&d, s, err)) ||
	    (r = dd_sec_season(&d, err)) || (r = dd_sec_contrib(&d, err)) || (r = dd_extract_report(&d.out, &d.S, d.on, d.sel.from, d.sel.to, d.pfrom, d.pto, err)) ||
	    (r = dd_sec_overlay(&d, s, &h, err)))
		goto cleanup;
	fprintf(d.md, "Methods: docs/methods-deepdive.md.\n");
	if (fclose(d.md)) {
		d.md = NULL;
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	d.md = NULL;
	if (tmp) {
		struct emit_file af;

		if ((r = emit_open_atomic(tmp, "deepdive.md", &af, err)))
			goto cleanup;
		fwrite(mdbuf, 1, mdlen, af.fp);
		if ((r = emit_commit_atomic(&af, err)))
			goto cleanup;
	}
	if (d.csv) {
		/* csv: the counts table alone (the report is in --out) */
		if (fclose(d.csv)) {
			d.csv = NULL;
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
		d.csv = NULL;
		fwrite(csvbuf, 1, csvlen, c->out);
	} else {
		fwrite(mdbuf, 1, mdlen, c->out);
	}
cleanup:
	if (d.md)
		fclose(d.md);
	if (d.csv)
		fclose(d.csv);
	free(csvbuf);
	r = plot_batch_end(&pb, r, err);
	if (tmp)
		r = emit_dir_finish(r, tmp, out_dir, err);
	free(mdbuf);
	hot_release(&h);
	free(d.type);
	free(d.on);
	slice_release(&d.S);
	slice_release(&d.D);
	slice_release(&d.O);
	select_release(&d.sel);
	store_close(s);
	return r;
}
