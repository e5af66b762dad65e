/* cmd_trends — 'microbeat trends': is it a real rise? Tested, per series, in plain words. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "microbeat/cli.h"
#include "microbeat/emit.h"
#include "microbeat/plot.h"
#include "microbeat/report.h"
#include "microbeat/select.h"
#include "microbeat/slice.h"
#include "microbeat/store.h"
#include "microbeat/trend.h"
#include "trends_internal.h"

#define ASB "Anti-social behaviour"
#define MONTHLY_CHARTS 16 /* monthly charts drawn (the total first, then the largest series) */

enum { O_BY = 1, O_BASE, O_FDR, O_PRIMARY, O_YOY_TOP };

/* Sum the later window (the last 12 months to 'to') and the earlier one of
 * count into month-paired arrays for trend_qp_yoy. */
static void windows(const struct trends_run *tr, const double *count, double *later,
		    unsigned char *lp, double *earlier, unsigned char *ep)
{
	int32_t to = tr->sel.to - tr->span_from;

	for (int j = 0; j < 12; j++) {
		int32_t ml = to - 11 + j, me = to - 23 + j;

		lp[j] = ml >= 0 && tr->present[ml];
		ep[j] = me >= 0 && tr->present[me];
		later[j] = lp[j] ? count[ml] : 0;
		earlier[j] = ep[j] ? count[me] : 0;
	}
}

/* All the statistics of one series. */
static int analyse(struct trends_run *tr, struct series *x, struct mb_error *err)
{
	int32_t to = tr->sel.to - tr->span_from, from = tr->sel.from - tr->span_from;
	int am = 0, bm = 0, r;

	/* year on year: the last 12 months of the period against the 12 before */
	for (int32_t m = to - 11; m <= to; m++)
		if (m >= 0 && tr->present[m]) {
			x->a += x->count[m];
			am++;
		}
	for (int32_t m = to - 23; m <= to - 12; m++)
		if (m >= 0 && tr->present[m]) {
			x->b += x->count[m];
			bm++;
		}
	if (am && bm) {
		if ((r = trend_yoy_test((unsigned long)x->a, am, (unsigned long)x->b, bm, &x->yoy, err)))
			return r;
		x->has_yoy = 1;
	}
	/* the same under over-dispersion: month j of the later window paired
	 * with the same month a year before */
	double later[12], earlier[12];
	unsigned char lp[12], ep[12];

	windows(tr, x->count, later, lp, earlier, ep);
	if ((r = trend_qp_yoy(later, lp, earlier, ep, &x->qp, err)))
		return r;
	/* trend, Mann-Kendall: the months of the period (gaps excluded) */
	struct trend_series ts = { .count = x->count + from, .present = tr->present + from,
				   .n = (size_t)(to - from + 1), .first_month = tr->sel.from };

	if (trend_poisson_fit(&ts, &x->fit, err) == 0)
		x->has_fit = x->fit.kind != TREND_FIT_NONE;
	if (trend_mann_kendall(&ts, &x->mk, err) == 0)
		x->has_mk = x->mk.n >= 2;
	/* monthly data with 2 full years: the seasonal Kendall test replaces it */
	if (trend_has_two_years(&ts) && trend_seasonal_kendall(&ts, &x->sk, err) == 0)
		x->has_sk = x->sk.seasons > 0;
	/* c-chart: baseline = up to N months before the last 3 of the period */
	int32_t bl_last = to - TREND_RECENT_MONTHS, bl_first = bl_last - tr->baseline + 1;

	if (bl_first < 0)
		bl_first = 0;
	struct trend_series all = { .count = x->count, .present = tr->present, .n = (size_t)(to + 1),
				    .first_month = tr->span_from };

	if (bl_last >= bl_first &&
	    trend_cchart(&all, (size_t)bl_first, (size_t)(bl_last - bl_first + 1), NULL, &x->cc, err) == 0)
		x->has_cc = x->cc.n_baseline > 0;
	return 0;
}

/* BH over members idx[0..m) (yoy when trend == 0, else the long-run trend)
 * with the matching FCR intervals (trend_judge_family); a yoy q is kept in x->q. */
static int judge_family(struct trends_run *tr, const size_t *idx, size_t m, int trend,
			struct mb_error *err)
{
	struct trend_member *mem = calloc(m ? m : 1, sizeof(*mem));
	int r;

	if (!mem)
		return mb_err(err, MB_ENOMEM, "out of memory");
	for (size_t j = 0; j < m; j++) {
		struct series *x = &tr->s[idx[j]];

		mem[j] = (struct trend_member){ .qp = &x->qp, .fit = &x->fit,
						.judged = trend ? &x->jt : &x->jy };
	}
	r = trend_judge_family(mem, m, trend, tr->fdr, err);
	for (size_t j = 0; !r && !trend && j < m; j++)
		tr->s[idx[j]].q = tr->s[idx[j]].jy.p;
	free(mem);
	return r;
}

/* The families: the total and the --primary series are each tested alone at
 * the FDR level; the other components are tested together. */
static int judge_families(struct trends_run *tr, struct mb_error *err)
{
	size_t *iy = calloc(tr->ns, sizeof(size_t)), *it = calloc(tr->ns, sizeof(size_t)), my = 0, mt = 0;
	const char *unit = tr->by == 1 ? "types" : tr->by == 2 ? "areas" : "series";
	int r = 0, found = !tr->primary;

	if (!iy || !it) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t k = 0; k < tr->ns; k++) {
		struct series *x = &tr->s[k];
		int primary = k > 0 && tr->primary && strcasecmp(x->name, tr->primary) == 0;

		trend_judge_alone(&x->qp, &x->fit, x->has_fit, tr->fdr, &x->jy, &x->jt);
		found |= primary;
		if (k == 0)
			snprintf(x->family, sizeof(x->family), "%s",
				 tr->ns > 1 ? "the total, tested alone" : "tested alone");
		else if (primary)
			snprintf(x->family, sizeof(x->family), "the primary question, tested alone at %g%%",
				 100 * tr->fdr);
		if (k == 0 || primary)
			continue;
		/* too few crimes or months: not judged, so not in the family */
		if (!x->has_yoy || x->a + x->b < TREND_MIN_YOY_COUNT ||
		    x->yoy.a_months < TREND_MIN_WINDOW_MONTHS || x->yoy.b_months < TREND_MIN_WINDOW_MONTHS) {
			snprintf(x->family, sizeof(x->family), "not tested");
			x->jy.defined = x->jt.defined = 0;
			tr->nuntested++;
			continue;
		}
		if (x->qp.defined)
			iy[my++] = k;
		if (x->has_fit)
			it[mt++] = k;
	}
	if (!found) {
		r = mb_err(err, MB_ENOTFOUND, "--primary '%s' is not one of the series", tr->primary);
		goto cleanup;
	}
	tr->nfam = my;
	if ((r = judge_family(tr, iy, my, 0, err)) || (r = judge_family(tr, it, mt, 1, err)))
		goto cleanup;
	for (size_t j = 0; j < my; j++)
		snprintf(tr->s[iy[j]].family, sizeof(tr->s[iy[j]].family),
			 my > 1 ? "one of %zu %s tested together (FDR %g%%)" : "tested alone",
			 my, my > 1 ? unit : "", 100 * tr->fdr);
cleanup:
	free(iy);
	free(it);
	return r;
}

/* Mark the recording-sensitive types (datasets/recording_sensitive.csv) and
 * count their crimes per month of the total into tr->sens. A missing list is
 * not an error: the verdicts then say nothing about recording. */
static int split_sensitive(struct trends_run *tr, struct mb_error *err)
{
	struct slice *sl = &tr->sl;
	char path[4096], line[1024];
	unsigned char *on = NULL;
	FILE *f;
	int r = 0;

	if (mb_data_path("recording_sensitive.csv", path, sizeof(path), NULL) || !(f = fopen(path, "r")))
		return 0;
	on = calloc(sl->ncat ? sl->ncat : 1, 1);
	tr->sens = calloc((size_t)tr->nspan, sizeof(double));
	if (!on || !tr->sens) {
		fclose(f);
		free(on);
		return mb_err(err, MB_ENOMEM, "out of memory");
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, ",\r\n")] = '\0';
		for (size_t c = 1; c < sl->ncat; c++)
			if (sl->cat_name[c] && strcasecmp(sl->cat_name[c], line) == 0 &&
			    select_type_on(&tr->sel, sl->cat_name[c]))
				on[c] = 1;
	}
	fclose(f);
	for (size_t c = 1; c < sl->ncat; c++) {
		if (!on[c])
			continue;
		size_t used = strlen(tr->sens_names);

		snprintf(tr->sens_names + used, sizeof(tr->sens_names) - used, "%s%s",
			 tr->nsens_types++ ? ", " : "", sl->cat_name[c]);
		for (size_t k = 1; tr->by == 1 && k < tr->ns; k++)
			if (strcmp(tr->s[k].name, sl->cat_name[c]) == 0)
				tr->s[k].sensitive = 1;
	}
	for (size_t i = 0; i < sl->n; i++) {
		int32_t m = sl->month[i] - tr->span_from;

		if (m >= 0 && m < tr->nspan && on[sl->category[i]])
			tr->sens[m] += 1;
	}
	free(on);
	return r;
}

/* The total's note when its rise lies mostly in recording-sensitive types:
 * their part of the rise, and the other types' change beside it. */
static int sensitive_note(const struct trends_run *tr, char *buf, size_t size, struct mb_error *err)
{
	const struct series *t = &tr->s[0];
	double later[12], earlier[12], *other = NULL, sa = 0, sb = 0;
	unsigned char lp[12], ep[12];
	struct trend_qp_yoy oq;
	int r;

	buf[0] = '\0';
	if (!tr->sens || !tr->nsens_types || !t->has_yoy || !(t->a > t->b))
		return 0;
	windows(tr, tr->sens, later, lp, earlier, ep);
	for (int j = 0; j < 12; j++) {
		sa += lp[j] ? later[j] : 0;
		sb += ep[j] ? earlier[j] : 0;
	}
	/* "concentrated": at least half the total's rise */
	if (!(sa - sb >= 0.5 * (t->a - t->b)))
		return 0;
	if (!(other = malloc((size_t)tr->nspan * sizeof(double))))
		return mb_err(err, MB_ENOMEM, "out of memory");
	for (int32_t m = 0; m < tr->nspan; m++)
		other[m] = t->count[m] - tr->sens[m];
	windows(tr, other, later, lp, earlier, ep);
	free(other);
	if ((r = trend_qp_yoy(later, lp, earlier, ep, &oq, err)))
		return r;
	if (oq.a + oq.b == 0) {
		snprintf(buf, size, "every crime in it is of a recording-sensitive type (%s): better recording "
			 "may explain part of the rise; police.uk types cannot separate violence without injury "
			 "or stalking and harassment from other violence", tr->sens_names);
		return 0;
	}
	int n = snprintf(buf, size, "rise concentrated in recording-sensitive types (%s: %+.0f of %+.0f crimes): "
			 "better recording may explain part of it",
			 tr->sens_names, sa - sb, t->a - t->b);

	if (oq.defined && oq.a + oq.b >= TREND_MIN_YOY_COUNT && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, "; the other types: %+.0f%% (95%% CI %+.0f%% to %+.0f%%, "
			 "quasi-Poisson, %lu against %lu)", 100 * (oq.rr - 1), 100 * (oq.lo - 1),
			 100 * (oq.hi - 1), oq.a, oq.b);
	n = (int)strlen(buf);
	if ((size_t)n < size)
		snprintf(buf + n, size - (size_t)n, "; police.uk types cannot separate violence without injury "
			 "or stalking and harassment from other violence");
	return 0;
}

/* Every series' verdict, in words that follow the intervals printed beside them. */
static int make_verdicts(struct trends_run *tr, struct mb_error *err)
{
	char note[512];
	int months = tr->sel.to - tr->sel.from + 1, r;

	for (size_t k = 0; k < tr->ns; k++) {
		struct series *x = &tr->s[k];
		struct trend_verdict_opts vo = {
			.alpha = tr->fdr, .family = x->family[0] ? x->family : NULL, .yoy = x->jy,
			.phi = x->qp.defined ? x->qp.phi : NAN, .long_run = months > 24, .months = months,
			.trend = x->jt, .note = NULL,
		};

		if (!x->has_yoy) {
			snprintf(x->verdict, sizeof(x->verdict), "No year-on-year comparison: months missing");
			continue;
		}
		if (k == 0 && (r = sensitive_note(tr, note, sizeof(note), err)))
			return r;
		if (k == 0 && note[0])
			vo.note = note;
		if (k > 0 && x->sensitive && x->a > x->b)
			vo.note = "a recording-sensitive type: part of a rise may be better recording "
				  "(datasets/recording_sensitive.csv)";
		if ((r = trend_verdict(&x->yoy, x->has_cc ? &x->cc : NULL, &vo, x->verdict,
				       sizeof(x->verdict), err)))
			return r;
	}
	return 0;
}

/* monthly.csv: month, series, count (blank and present = 0 for a gap). */
static int write_monthly(const struct trends_run *tr, const char *dir, struct mb_error *err)
{
	static const char *const cols[] = { "month", "series", "count", "present" };
	struct table t;
	char mon[8];
	int r;

	if ((r = table_init(&t, "Monthly counts", cols, 4, err)))
		return r;
	for (size_t k = 0; k < tr->ns; k++) {
		for (int32_t m = tr->sel.from; m <= tr->sel.to; m++) {
			size_t row;
			int32_t i = m - tr->span_from;

			month_format(m, mon);
			if ((r = table_add_row(&t, &row, err)) || (r = table_set_text(&t, row, 0, mon, err)) ||
			    (r = table_set_text(&t, row, 1, tr->s[k].name, err)) ||
			    (r = tr->present[i] ? table_set_int(&t, row, 2, (int64_t)tr->s[k].count[i], err)
						: table_set_blank(&t, row, 2, err)) ||
			    (r = table_set_int(&t, row, 3, tr->present[i], err)))
				goto out;
		}
	}
	r = table_save_csv(&t, dir, "monthly.csv", err);
out:
	table_release(&t);
	return r;
}

static int cell(struct table *t, size_t row, size_t col, double v, int prec, struct mb_error *err)
{
	if (!isfinite(v))
		return table_set_blank(t, row, col, err);
	return prec < 0 ? table_set_int(t, row, col, (int64_t)llround(v), err)
			: table_set_double(t, row, col, v, prec, err);
}

/* The year-on-year table. */
static int build_yoy(const struct trends_run *tr, struct table *t, struct mb_error *err)
{
	static const char *const cols[] = { "series", "last12", "prev12", "change", "pct_change",
					    "rate_ratio", "rr_ci_low", "rr_ci_high", "p_value",
					    "q_value", "z", "contribution", "od_rate_ratio", "od_ci_low",
					    "od_ci_high", "od_p_value", "phi", "paired_months",
					    "verdict_ci_level", "verdict_ci_low", "verdict_ci_high", "family" };
	int r;

	if ((r = table_init(t, "Year on year: the last 12 months against the 12 before", cols, 22, err)))
		return r;
	for (size_t k = 0; k < tr->ns; k++) {
		const struct series *x = &tr->s[k];
		size_t row;

		if ((r = table_add_row(t, &row, err)) || (r = table_set_text(t, row, 0, x->name, err)))
			return r;
		if (!x->has_yoy) {
			for (size_t c = 1; c < 22; c++)
				if ((r = table_set_blank(t, row, c, err)))
					return r;
			continue;
		}
		if ((r = cell(t, row, 1, x->a, -1, err)) || (r = cell(t, row, 2, x->b, -1, err)) ||
		    (r = cell(t, row, 3, x->a - x->b, -1, err)) ||
		    (r = cell(t, row, 4, x->yoy.pct, 12, err)) ||
		    (r = cell(t, row, 5, x->yoy.rr, 12, err)) ||
		    (r = cell(t, row, 6, x->yoy.rr_lo, 12, err)) ||
		    (r = cell(t, row, 7, x->yoy.rr_hi, 12, err)) ||
		    (r = table_set_double(t, row, 8, x->yoy.p, 17, err)) ||
		    (r = cell(t, row, 9, x->q, 17, err)) || (r = cell(t, row, 10, x->yoy.z, 6, err)) ||
		    (r = cell(t, row, 11, x->contrib, 6, err)) ||
		    (r = cell(t, row, 12, x->qp.defined ? x->qp.rr : NAN, 12, err)) ||
		    (r = cell(t, row, 13, x->qp.defined ? x->qp.lo : NAN, 12, err)) ||
		    (r = cell(t, row, 14, x->qp.defined ? x->qp.hi : NAN, 12, err)) ||
		    (r = cell(t, row, 15, x->qp.defined ? x->qp.p : NAN, 17, err)) ||
		    (r = cell(t, row, 16, x->qp.defined ? x->qp.phi : NAN, 6, err)) ||
		    (r = cell(t, row, 17, x->qp.pairs, -1, err)) ||
		    (r = cell(t, row, 18, x->jy.defined ? x->jy.level : NAN, 8, err)) ||
		    (r = cell(t, row, 19, x->jy.defined ? x->jy.lo : NAN, 12, err)) ||
		    (r = cell(t, row, 20, x->jy.defined ? x->jy.hi : NAN, 12, err)) ||
		    (r = table_set_text(t, row, 21, x->family, err)))
			return r;
	}
	return 0;
}

/* Write s on a line outside the tables: Markdown-escaped for --format md,
 * cleaned of control and bidi characters for the console. */
static int put_text(const char *s, enum report_format format, FILE *f, struct mb_error *err)
{
	return format == REPORT_MD ? emit_md_escape(s, f, err) : emit_text_clean(s, f, err);
}

/* The trend table with the verdicts. */
static int build_trend(const struct trends_run *tr, struct table *t, struct mb_error *err)
{
	static const char *const cols[] = { "series", "annual_change", "ci_low", "ci_high", "p_trend",
					    "phi", "model", "mk_s", "mk_z", "mk_p", "sen_slope",
					    "ucl", "months_above_ucl", "last3_above_ucl",
					    "mk_test", "useful_points", "longest_run", "run_limit",
					    "crossings", "crossing_limit", "run_signal", "crossing_signal",
					    "yoy_rate_ratio", "yoy_ci_level", "yoy_ci_low", "yoy_ci_high",
					    "yoy_p_used", "trend_ci_level", "trend_ci_low", "trend_ci_high",
					    "trend_p_used", "long_run_judged", "verdict" };
	int r;

	if ((r = table_init(t, "Trend, control chart and verdict", cols, 33, err)))
		return r;
	for (size_t k = 0; k < tr->ns; k++) {
		const struct series *x = &tr->s[k];
		size_t row;
		static const char *const model[] = { "none", "trend", "trend+season" };

		if ((r = table_add_row(t, &row, err)) || (r = table_set_text(t, row, 0, x->name, err)) ||
		    (r = cell(t, row, 1, x->has_fit ? x->fit.annual : NAN, 6, err)) ||
		    (r = cell(t, row, 2, x->has_fit ? x->fit.annual_lo : NAN, 6, err)) ||
		    (r = cell(t, row, 3, x->has_fit ? x->fit.annual_hi : NAN, 6, err)) ||
		    (r = cell(t, row, 4, x->has_fit ? x->fit.p_beta1 : NAN, 6, err)) ||
		    (r = cell(t, row, 5, x->has_fit ? x->fit.phi : NAN, 4, err)) ||
		    (r = table_set_text(t, row, 6, model[x->fit.kind], err)) ||
		    (r = cell(t, row, 7, x->has_sk ? (double)x->sk.s : x->has_mk ? (double)x->mk.s : NAN, -1, err)) ||
		    (r = cell(t, row, 8, x->has_sk ? x->sk.z : x->has_mk ? x->mk.z : NAN, 6, err)) ||
		    (r = cell(t, row, 9, x->has_sk ? x->sk.p : x->has_mk ? x->mk.p : NAN, 8, err)) ||
		    /* counts per month: the seasonal slope is per year */
		    (r = cell(t, row, 10, x->has_sk ? x->sk.sen / 12 : x->has_mk ? x->mk.sen : NAN, 6, err)) ||
		    (r = cell(t, row, 11, x->has_cc ? x->cc.ucl : NAN, 2, err)) ||
		    (r = cell(t, row, 12, x->has_cc ? (double)x->cc.n_above : NAN, -1, err)) ||
		    (r = cell(t, row, 13, x->has_cc ? (double)x->cc.recent_above : NAN, -1, err)) ||
		    (r = table_set_text(t, row, 14, x->has_sk ? "seasonal Kendall" : x->has_mk ? "Mann-Kendall" : "", err)) ||
		    (r = cell(t, row, 15, x->has_cc ? (double)x->cc.n_useful : NAN, -1, err)) ||
		    (r = cell(t, row, 16, x->has_cc ? (double)x->cc.longest_run : NAN, -1, err)) ||
		    (r = cell(t, row, 17, x->has_cc ? (double)x->cc.run_limit : NAN, -1, err)) ||
		    (r = cell(t, row, 18, x->has_cc ? (double)x->cc.crossings : NAN, -1, err)) ||
		    (r = cell(t, row, 19, x->has_cc ? (double)x->cc.crossing_limit : NAN, -1, err)) ||
		    (r = cell(t, row, 20, x->has_cc ? x->cc.run_signal : NAN, -1, err)) ||
		    (r = cell(t, row, 21, x->has_cc ? x->cc.crossing_signal : NAN, -1, err)) ||
		    (r = cell(t, row, 22, x->jy.defined ? x->jy.est : NAN, 12, err)) ||
		    (r = cell(t, row, 23, x->jy.defined ? x->jy.level : NAN, 8, err)) ||
		    (r = cell(t, row, 24, x->jy.defined ? x->jy.lo : NAN, 12, err)) ||
		    (r = cell(t, row, 25, x->jy.defined ? x->jy.hi : NAN, 12, err)) ||
		    (r = cell(t, row, 26, x->jy.defined ? x->jy.p : NAN, 17, err)) ||
		    (r = cell(t, row, 27, x->jt.defined ? x->jt.level : NAN, 8, err)) ||
		    (r = cell(t, row, 28, x->jt.defined ? x->jt.lo - 1 : NAN, 12, err)) ||
		    (r = cell(t, row, 29, x->jt.defined ? x->jt.hi - 1 : NAN, 12, err)) ||
		    (r = cell(t, row, 30, x->jt.defined ? x->jt.p : NAN, 17, err)) ||
		    (r = cell(t, row, 31, tr->sel.to - tr->sel.from + 1 > 24, -1, err)) ||
		    (r = table_set_text(t, row, 32, x->verdict, err)))
			return r;
	}
	return 0;
}

/* What the charts show: "<area>, <theme or types>". */
static void chart_context(const struct trends_run *tr, char *buf, size_t size)
{
	if (tr->sel.theme[0])
		snprintf(buf, size, "%s, theme %s", tr->sel.area ? tr->sel.area : "All areas", tr->sel.theme);
	else
		snprintf(buf, size, "%s, %s", tr->sel.area ? tr->sel.area : "All areas",
			 tr->sel.ntypes ? "selected types" : "all crime except ASB");
}

/* Largest whisker end drawn on the year-on-year chart (%): tiny counts give
 * intervals to +9000% that would squash every other bar. */
#define YOY_AXIS_MAX 300.0

/* Charts: monthly series with limits and fit, year-on-year bars, seasonal profile. */
static int write_charts(const struct trends_run *tr, const char *dir, struct mb_error *err)
{
	/* the monthly charts draw every month the control chart uses (its
	 * baseline may start before the period: docs/methods-trends.md §4), the
	 * fitted trend over the period only */
	int32_t from = tr->sel.from - tr->span_from;
	size_t n = (size_t)tr->nspan;
	int32_t bl_last = tr->sel.to - TREND_RECENT_MONTHS, bl_first = bl_last - tr->baseline + 1;
	/* ... from the first loaded month (months before any is loaded are no gap
	 * to draw: a store of one year would show 15 empty months), and the
	 * baseline's loaded months named in the centre line's key */
	size_t f0 = 0;
	struct plot_monthly win = { 0 };

	plot_monthly_window(tr->present, n, (size_t)from, tr->span_from, bl_first - tr->span_from,
			    bl_last - tr->span_from, &f0, &win);
	double *cnt = malloc(n * sizeof(double)), *fit = malloc(n * sizeof(double));
	const char **labels = calloc(tr->ns, sizeof(char *));
	double *pct = calloc(tr->ns, sizeof(double)), *lo = calloc(tr->ns, sizeof(double));
	double *hi = calloc(tr->ns, sizeof(double));
	int *sig = calloc(tr->ns, sizeof(int));
	char title[600], name[32], ctx[300], note[300];
	char (*lab)[200] = calloc(tr->ns, sizeof(*lab));
	size_t *draw = calloc(tr->ns, sizeof(size_t));
	int r = 0;

	chart_context(tr, ctx, sizeof(ctx));
	if (!cnt || !fit || !labels || !pct || !lo || !hi || !sig || !lab || !draw) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t k = 0; k < tr->ns && k < MONTHLY_CHARTS; k++) {
		const struct series *x = &tr->s[k];

		/* an all-zero series is drawn too: plots/monthly.gp keeps the axis top at 1 or more */
		for (size_t i = 0; i < n; i++) {
			int32_t t = (int32_t)i - from; /* months since the period's first */

			cnt[i] = tr->present[i] ? x->count[i] : NAN;
			fit[i] = NAN;
			if (x->has_fit && t >= 0 && tr->present[i]) {
				/* the fitted mean: exp(b0 + b1 t + season(month of year)) */
				int moy = (tr->sel.from + t) % 12;
				double season = x->fit.kind == TREND_FIT_SEASONAL ? x->fit.season[moy] : 0;

				fit[i] = exp(x->fit.beta0 + x->fit.beta1 * (double)t +
					     (isfinite(season) ? season : 0));
			}
		}
		/* the series name is data: the plot module passes titles through a data file */
		snprintf(title, sizeof(title), "%s, %s: %s%s by month", ctx, tr->sel.period_label, x->name,
			 k == 0 && tr->sel.theme[0] ? " of the theme" : "");
		note[0] = '\0';
		if (x->has_cc && x->cc.n_useful > 0)
			snprintf(note, sizeof(note),
				 "Run rules (Anhoej 2014): longest run %zu (signal above %zu)%s; crossings %zu "
				 "(signal below %zu)%s; %zu useful points",
				 x->cc.longest_run, x->cc.run_limit, x->cc.run_signal ? ": SIGNAL" : "",
				 x->cc.crossings, x->cc.crossing_limit, x->cc.crossing_signal ? ": SIGNAL" : "",
				 x->cc.n_useful);
		snprintf(name, sizeof(name), "monthly_%02zu", k);
		struct plot_monthly pm = {
			.title = title, .value_label = "Crimes per month", .n = n - f0,
			.first_month = tr->span_from + (int32_t)f0, .count = cnt + f0, .trend = fit + f0,
			.centre = x->has_cc ? x->cc.centre : NAN, .ucl = x->has_cc ? x->cc.ucl : NAN,
			.lcl = x->has_cc ? x->cc.lcl : NAN, .note = note[0] ? note : NULL,
			.baseline_last = win.baseline_last,
			.baseline_months = x->has_cc ? win.baseline_months : 0,
		};

		if ((r = plot_monthly(dir, name, &pm, err)))
			goto cleanup;
	}
	size_t nb = 0, ndraw = 0, ncomp = 0;

	/* the year-on-year chart: the total, then every component -- or, when
	   there are more than --yoy-top (100+ MSOAs, parishes), the top ones by
	   absolute change in counts, largest first (all of them are in yoy.csv) */
	for (size_t k = 0; k < tr->ns; k++)
		if (tr->s[k].has_yoy) {
			draw[ndraw++] = k;
			ncomp += k > 0;
		}
	if (tr->yoy_top > 0 && ncomp > (size_t)tr->yoy_top) {
		size_t first = ndraw > 0 && draw[0] == 0;

		for (size_t a = first + 1; a < ndraw; a++) /* insertion sort: stable, by |a - b| */
			for (size_t b = a; b > first && fabs(tr->s[draw[b]].a - tr->s[draw[b]].b) >
						     fabs(tr->s[draw[b - 1]].a - tr->s[draw[b - 1]].b); b--) {
				size_t t = draw[b];

				draw[b] = draw[b - 1];
				draw[b - 1] = t;
			}
		ndraw = first + (size_t)tr->yoy_top;
	}
	for (size_t d = 0; d < ndraw; d++) {
		size_t k = draw[d];
		const struct series *x = &tr->s[k];
		/* the verdict's own figures: its rate ratio, interval and p */
		int few = x->a + x->b < TREND_MIN_YOY_COUNT, judged = x->jy.defined && !few;

		pct[nb] = judged && x->b > 0 ? 100 * (x->jy.est - 1) : NAN;
		lo[nb] = isfinite(pct[nb]) ? 100 * (x->jy.lo - 1) : NAN;
		hi[nb] = isfinite(pct[nb]) ? 100 * (x->jy.hi - 1) : NAN;
		sig[nb] = judged && x->jy.p <= tr->fdr;
		if (few)
			snprintf(lab[nb], sizeof(lab[nb]), "%s (too few to judge: %.0f vs %.0f)", x->name, x->a, x->b);
		else if (!judged || x->b == 0)
			snprintf(lab[nb], sizeof(lab[nb]), "%s (%.0f vs %.0f: no percentage)", x->name, x->a, x->b);
		else if (hi[nb] > YOY_AXIS_MAX)
			snprintf(lab[nb], sizeof(lab[nb]), "%s (interval to %+.0f%%)", x->name, hi[nb]);
		else
			snprintf(lab[nb], sizeof(lab[nb]), "%s", k == 0 && tr->sel.theme[0] ? "Total of the theme" : x->name);
		if (hi[nb] > YOY_AXIS_MAX)
			hi[nb] = YOY_AXIS_MAX;
		if (pct[nb] > YOY_AXIS_MAX)
			pct[nb] = YOY_AXIS_MAX;
		labels[nb] = lab[nb];
		nb++;
	}
	if (nb - (nb > 0 && draw[0] == 0) < ncomp)
		snprintf(title, sizeof(title), "%s, %s: year on year, the %zu of %zu series with the"
			 " largest change in counts (%zu left out: all in yoy.csv)", ctx,
			 tr->sel.period_label, nb - (draw[0] == 0), ncomp,
			 ncomp - (nb - (draw[0] == 0)));
	else
		snprintf(title, sizeof(title), "%s, %s: year on year", ctx, tr->sel.period_label);
	struct plot_yoy py = { .title = title, .n = nb, .label = labels, .pct = pct, .lo = lo,
			       .hi = hi, .significant = sig };

	if (nb && (r = plot_yoy(dir, "yoy", &py, err)))
		goto cleanup;
	/* seasonal profile of the total: mean per month of the year over present months */
	static const char *const MON[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	double mean[12] = { 0 }, nm[12] = { 0 };
	size_t nper = (size_t)(tr->sel.to - tr->sel.from + 1); /* the period's months */

	for (size_t i = 0; i < nper; i++) {
		int moy = (tr->sel.from + (int32_t)i) % 12;

		if (tr->present[from + (int32_t)i]) {
			mean[moy] += tr->s[0].count[from + (int32_t)i];
			nm[moy] += 1;
		}
	}
	const char *ml[12];
	double mv[12];
	size_t nmv = 0;

	for (int j = 0; j < 12; j++) {
		int moy = (tr->sel.from + j) % 12; /* start the profile at the period's first month */

		ml[nmv] = MON[moy];
		mv[nmv] = nm[moy] > 0 ? mean[moy] / nm[moy] : NAN;
		nmv++;
	}
	snprintf(title, sizeof(title), "%s, %s: seasonal profile of the total", ctx,
		 tr->sel.period_label);
	struct plot_seasonal ps = { .title = title, .value_label = "Mean crimes per month", .n = nmv,
				    .label = ml, .mean = mv };

	r = plot_seasonal(dir, "seasonal", &ps, err);
cleanup:
	free(cnt);
	free(fit);
	free(labels);
	free(pct);
	free(lo);
	free(hi);
	free(sig);
	free(lab);
	free(draw);
	return r;
}

/* The events of each counted source placed in the area and not placed in the
 * period (docs/methods.md, "Area selection"), one line; and the force-wide
 * events with no location at all. */
static void print_sources(const struct trends_run *tr, FILE *out)
{
	const struct slice *sl = &tr->sl;
	long long unloc = 0;

	select_print_sources(&tr->sel, sl, out);
	for (size_t i = 0; i < sl->n_unloc; i++)
		unloc += sl->unloc_month[i] >= tr->sel.from && sl->unloc_month[i] <= tr->sel.to &&
			 select_type_on(&tr->sel, sl->cat_name[sl->unloc_category[i]]);
	if (unloc)
		fprintf(out, "Force-wide, %lld crimes of the period had no location (police.uk gives no"
			" area-level figure): in no series.\n", unloc);
}

/* The report on out (notes for a CSV on msg): the headline, the gaps, what
 * drives the change, the verdicts, then the year-on-year table ty. */
static int print_report(const struct trends_run *tr, const struct table *ty,
			enum report_format format, FILE *out, FILE *msg, struct mb_error *err)
{
	int r;

	if (format == REPORT_CSV) {
		select_print_months(&tr->sel, msg); /* the CSV has no room for it: stderr */
		r = table_write_csv(ty, out, err);
	} else {
		int gaps = 0;

		/* names from the store or the command line: escaped for Markdown,
		 * cleaned for a terminal, as in the tables */
		if ((r = put_text(tr->sl.scope_label, format, out, err)))
			return r;
		fprintf(out, ", %s; %s", tr->sel.period_label, tr->sel.theme[0] ? "theme " : "");
		if ((r = put_text(tr->sel.theme[0] ? tr->sel.theme
				  : tr->sel.ntypes ? "selected types"
						  : "all crime types except Anti-social behaviour",
				  format, out, err)))
			return r;
		fputs(".\n", out);
		for (int32_t m = tr->sel.from; m <= tr->sel.to; m++) {
			if (tr->present[m - tr->span_from])
				continue;
			int32_t e = m;
			char a[8], b[8];

			while (e + 1 <= tr->sel.to && !tr->present[e + 1 - tr->span_from])
				e++;
			month_format(m, a);
			month_format(e, b);
			fprintf(out, "%s %s..%s (%d month%s not loaded: left out of every figure)",
				gaps++ ? "," : "Gaps:", a, b, e - m + 1, e > m ? "s" : "");
			m = e;
		}
		if (gaps)
			fputs(".\n", out);
		select_print_months(&tr->sel, out);
		print_sources(tr, out);
		if (tr->ns > 1)
			fprintf(out, "%zu series tested together: p-values controlled for a false"
					" discovery rate of %.0f%% (Benjamini-Hochberg), intervals adjusted to"
					" match (false coverage rate, Benjamini-Yekutieli)%s",
				tr->nfam, 100 * tr->fdr,
				tr->primary ? "; the total and the primary question tested alone" : "");
		if (tr->ns > 1 && tr->nuntested)
			fprintf(out, "; %zu not tested (fewer than %d crimes in the two years or %d months in a year)",
				tr->nuntested, TREND_MIN_YOY_COUNT, TREND_MIN_WINDOW_MONTHS);
		if (tr->ns > 1)
			fputs(".\n", out);
		for (size_t k = 0; k < tr->ns && !r; k++) {
			fputs("  ", out);
			if (!(r = put_text(tr->s[k].name, format, out, err))) {
				fputs(": ", out);
				r = put_text(tr->s[k].verdict, format, out, err);
			}
			fputc('\n', out);
		}
		if (r)
			return r;
		fputc('\n', out);
		if (format == REPORT_MD)
			r = table_write_md(ty, out, err);
		else
			r = table_write_console(ty, 4, ty->nrows, out, err);
	}
	return r;
}

/* What the output folder holds, for report_write_dir. */
struct trends_pack {
	const struct trends_run *tr; /* the run */
	const struct table *ty, *tt; /* yoy.csv, trend.csv */
	int charts;                  /* draw the charts */
};

/* Write the monthly counts, the two tables and (unless --no-charts) the charts into dir. */
static int write_pack(void *ctx, const char *dir, struct mb_error *err)
{
	const struct trends_pack *p = ctx;
	int r;

	if (!(r = write_monthly(p->tr, dir, err)) &&
	    !(r = table_save_csv(p->ty, dir, "yoy.csv", err)) &&
	    !(r = table_save_csv(p->tt, dir, "trend.csv", err)) && p->charts)
		r = write_charts(p->tr, dir, err);
	return r;
}

int cmd_trends(struct cli *c, int argc, char **argv, struct mb_error *err)
{
	static const struct option opts[] = {
		SELECT_LONG_OPTIONS,
		{ "by", required_argument, NULL, O_BY },
		{ "baseline-months", required_argument, NULL, O_BASE },
		REPORT_LONG_OPTIONS,
		{ "fdr", required_argument, NULL, O_FDR },
		{ "primary", required_argument, NULL, O_PRIMARY },
		{ "yoy-top", required_argument, NULL, O_YOY_TOP },
		{ "yoy", no_argument, NULL, 0 },
		{ NULL, 0, NULL, 0 },
	};
	struct trends_run tr = { .baseline = 24, .fdr = 0.05, .yoy_top = 25 };
	struct store *s = NULL;
	struct table ty = { 0 }, tt = { 0 };
	struct report_opts ro;
	int o, r = 0;

	select_init(&tr.sel);
	report_init(&ro);
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end;

		switch (o) {
		case 0: break; /* --yoy: always computed */
		case O_BY:
			if (strcmp(optarg, "none") == 0) tr.by = 0;
			else if (strcmp(optarg, "type") == 0) tr.by = 1;
			else if (strcmp(optarg, "area") == 0) tr.by = 2;
			else { tr.by = 3; tr.by_layer = optarg; }
			break;
		case O_BASE:
			tr.baseline = (int)strtol(optarg, &end, 10);
			if (*end || tr.baseline < 3 || tr.baseline > 240)
				r = mb_err(err, MB_EUSAGE, "--baseline-months wants 3..240");
			break;
		case O_FDR:
			tr.fdr = strtod(optarg, &end);
			if (*end || !(tr.fdr > 0 && tr.fdr < 1))
				r = mb_err(err, MB_EUSAGE, "--fdr wants a level between 0 and 1");
			break;
		case O_PRIMARY: tr.primary = optarg; break;
		case O_YOY_TOP:
			errno = 0;
			tr.yoy_top = strtol(optarg, &end, 10);
			if (end == optarg || *end || errno || tr.yoy_top < 0 || tr.yoy_top > 100000)
				r = mb_err(err, MB_EUSAGE, "--yoy-top wants a number of series >= 0"
					   " (0: all)");
			break;
		default:
			if (o >= SEL_FIRST && o < SEL_LAST)
				r = select_option(&tr.sel, o, optarg, err);
			else if (o >= REPORT_FIRST && o < REPORT_LAST)
				r = report_option(&ro, o, optarg, err);
			else
				r = -MB_EUSAGE;
		}
		if (r)
			goto cleanup;
	}
	if (optind < argc) {
		r = mb_err(err, MB_EUSAGE, "trends: unexpected argument '%s'", argv[optind]);
		goto cleanup;
	}
	if ((r = report_open(c->db_path, &tr.sel, &s, err)))
		goto cleanup;
	/* load enough months before --from for the year on year and the baseline */
	tr.span_from = tr.sel.from;
	if (tr.sel.to - 23 < tr.span_from)
		tr.span_from = tr.sel.to - 23;
	if (tr.sel.to - TREND_RECENT_MONTHS - tr.baseline + 1 < tr.span_from)
		tr.span_from = tr.sel.to - TREND_RECENT_MONTHS - tr.baseline + 1;
	if (tr.span_from < 0)
		tr.span_from = 0;
	tr.nspan = tr.sel.to - tr.span_from + 1;
	if (tr.by == 3 && tr.sel.layer && strcmp(tr.by_layer, tr.sel.layer) != 0) {
		r = mb_err(err, MB_EUSAGE, "--by '%s' and --layer '%s' differ: --by uses the layer of"
			   " --layer", tr.by_layer, tr.sel.layer);
		goto cleanup;
	}
	struct slice_query q = { .from = tr.span_from, .to = tr.sel.to, .include_asb = 1,
				 .no_source = 1 };

	select_query(&tr.sel, tr.by_layer, 1, &q);
	q.no_beats = tr.by != 2; /* only --by area reads streets */

	/* --by with a name that is not a layer: say what --by takes */
	if ((r = report_load(s, &tr.sel, &q, &tr.sl, err))) {
		/* select_check_gaps says MB_EUSAGE: this is the slice's own */
		if (tr.by == 3 && !tr.sel.layer && r == -MB_ENOTFOUND && strstr(err->msg, "is not loaded"))
			r = mb_err(err, MB_EUSAGE, "--by wants type, area, none or a loaded area layer,"
				   " not '%s'", tr.by_layer);
		goto cleanup;
	}
	tr.present = tr.sl.month_present;
	if ((r = trends_build_series(&tr, s, err)))
		goto cleanup;
	for (size_t k = 0; k < tr.ns; k++)
		if ((r = analyse(&tr, &tr.s[k], err)))
			goto cleanup;
	if ((r = split_sensitive(&tr, err)) || (r = judge_families(&tr, err)))
		goto cleanup;
	/* what drives the change: each component's share of the total change */
	if (tr.ns > 1 && tr.s[0].a - tr.s[0].b != 0)
		for (size_t k = 1; k < tr.ns; k++)
			if (tr.s[k].has_yoy)
				tr.s[k].contrib = trend_change_share(tr.s[k].a, tr.s[k].b, tr.s[0].a,
								     tr.s[0].b);
	if ((r = make_verdicts(&tr, err)))
		goto cleanup;
	if ((r = build_yoy(&tr, &ty, err)) || (r = build_trend(&tr, &tt, err)))
		goto cleanup;
	if ((r = print_report(&tr, &ty, ro.format, c->out, c->msg, err)))
		goto cleanup;
	struct trends_pack pack = { .tr = &tr, .ty = &ty, .tt = &tt, .charts = ro.charts };

	r = report_write_dir(&ro, write_pack, &pack, err);
cleanup:
	table_release(&ty);
	table_release(&tt);
	for (size_t k = 0; tr.s && k < tr.ns; k++) {
		free(tr.s[k].name);
		free(tr.s[k].count);
	}
	free(tr.s);
	free(tr.sens);
	slice_release(&tr.sl);
	select_release(&tr.sel);
	store_close(s);
	return r;
}
