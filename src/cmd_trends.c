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
#include "microbeat/select.h"
#include "microbeat/slice.h"
#include "microbeat/store.h"
#include "microbeat/trend.h"

#define ASB "Anti-social behaviour"
#define MAX_SERIES 512
#define MONTHLY_CHARTS 16 /* monthly charts drawn (the total first, then the largest series) */

enum { O_BY = 1, O_BASE, O_FORMAT, O_OUT, O_FDR, O_NOCHARTS };

/* One series: a type, an area or the total. */
struct series {
	char *name;             /* label (owned) */
	double *count;          /* per month of the loaded span */
	double a, b;            /* last 12 months, the 12 before */
	struct trend_yoy yoy;   /* year on year */
	struct trend_poisson fit; /* log-linear trend */
	struct trend_mk mk;     /* Mann-Kendall */
	struct trend_cchart cc; /* control chart */
	double q;               /* BH-adjusted p of the year-on-year test */
	double contrib;         /* share of the total change */
	char verdict[320];      /* plain words */
	int has_yoy, has_fit, has_mk, has_cc; /* which figures exist */
};

struct trends_run {
	struct selection sel;   /* period, area, types */
	struct slice sl;        /* events */
	int by;                 /* 0 none, 1 type, 2 area, 3 units of a layer */
	const char *by_layer;   /* --by LAYER: the layer (by == 3) */
	int baseline;           /* c-chart baseline months */
	double fdr;             /* false discovery rate level */
	int32_t span_from;      /* first month loaded (may precede --from for year on year) */
	int nspan;              /* months loaded */
	unsigned char *present; /* per month of the span */
	struct series *s;       /* series[0] = total, then components */
	size_t ns;              /* series count */
};

/* The area series key of a street: its LSOA name without the final letter
 * ("South Cambridgeshire 016A" -> "South Cambridgeshire 016"), i.e. the MSOA. */
static void area_key(const char *lsoa_name, char *out, size_t cap)
{
	size_t n = strlen(lsoa_name);

	if (n > 1 && lsoa_name[n - 1] >= 'A' && lsoa_name[n - 1] <= 'Z' && lsoa_name[n - 2] >= '0' &&
	    lsoa_name[n - 2] <= '9')
		n--;
	snprintf(out, cap, "%.*s", (int)n, lsoa_name);
}

static int add_series(struct trends_run *tr, const char *name, struct mb_error *err)
{
	if (tr->ns >= MAX_SERIES)
		return mb_err(err, MB_EUSAGE, "more than %d series: narrow --types or --area", MAX_SERIES);
	struct series *x = &tr->s[tr->ns];

	x->name = strdup(name);
	x->count = calloc((size_t)tr->nspan, sizeof(double));
	if (!x->name || !x->count)
		return mb_err(err, MB_ENOMEM, "out of memory");
	x->q = NAN;
	x->contrib = NAN;
	tr->ns++;
	return 0;
}

/* Build the series and their monthly counts. */
static int build_series(struct trends_run *tr, struct store *s, struct mb_error *err)
{
	struct slice *sl = &tr->sl;
	int32_t *sid_of = NULL; /* category or street -> series index */
	char key[256];
	int r = 0;

	tr->s = calloc(MAX_SERIES, sizeof(*tr->s));
	if (!tr->s)
		return mb_err(err, MB_ENOMEM, "out of memory");
	if ((r = add_series(tr, tr->by == 0 ? "All selected crime" : "Total", err)))
		return r;
	for (size_t i = 0; i < tr->sel.ntypes; i++) {
		int found = 0;

		for (size_t c = 1; c < sl->ncat; c++)
			found |= sl->cat_name[c] && strcasecmp(sl->cat_name[c], tr->sel.types[i]) == 0;
		if (!found)
			return mb_err(err, MB_ENOTFOUND, "crime type '%s' is not in the store",
				      tr->sel.types[i]);
	}
	size_t nkey = tr->by == 2 ? sl->nstreet : tr->by == 3 ? sl->nunit + 1 : sl->ncat;

	sid_of = malloc(nkey * sizeof(*sid_of));
	if (!sid_of)
		return mb_err(err, MB_ENOMEM, "out of memory");
	for (size_t k = 0; k < nkey; k++)
		sid_of[k] = -1;
	if (tr->by == 1) {
		/* one series per selected type, in name order */
		for (;;) {
			size_t best = 0;

			for (size_t c = 1; c < sl->ncat; c++)
				if (sid_of[c] < 0 && select_type_on(&tr->sel, sl->cat_name[c]) &&
				    (!best || strcmp(sl->cat_name[c], sl->cat_name[best]) < 0))
					best = c;
			if (!best)
				break;
			sid_of[best] = (int32_t)tr->ns;
			if ((r = add_series(tr, sl->cat_name[best], err)))
				goto cleanup;
		}
	} else if (tr->by == 2) {
		/* one series per MSOA-like prefix of the LSOA name; never a key that
		   mixes LSOA vintages (docs/methods.md §4) */
		char **names = NULL, example[300];
		size_t renum = 0;

		if ((r = store_lsoa_renumbered(s, sl, &renum, example, sizeof(example), err)))
			goto cleanup;
		if (renum) {
			r = mb_err(err, MB_EUSAGE, "--by area keys a series on the MSOA in the LSOA name, but"
				   " %zu LSOAs of the area were renumbered between census vintages (%s):"
				   " the series would mix vintages; use --by LAYER (e.g. wards, placed by"
				   " point in polygon)", renum, example);
			goto cleanup;
		}
		if ((r = store_lsoa_names(s, sl, &names, err)))
			goto cleanup;
		for (size_t id = 1; id < sl->nstreet; id++) {
			if (!sl->street_in_area[id] || !names[id])
				continue;
			area_key(names[id], key, sizeof(key));
			int32_t found = -1;

			for (size_t k = 1; k < tr->ns && found < 0; k++)
				if (strcmp(tr->s[k].name, key) == 0)
					found = (int32_t)k;
			if (found < 0) {
				found = (int32_t)tr->ns;
				if ((r = add_series(tr, key, err))) {
					store_lsoa_names_free(sl, names);
					goto cleanup;
				}
			}
			sid_of[id] = found;
		}
		store_lsoa_names_free(sl, names);
	} else if (tr->by == 3) {
		/* one series per selected unit with an event in the span, in name order */
		uint8_t *has = calloc(sl->nunit + 1, 1);

		if (!has) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
		for (size_t i = 0; i < sl->n; i++)
			has[sl->unit[i]] = 1;
		for (size_t i = 0; i < sl->n_nc; i++)
			has[sl->nc_unit[i]] = 1;
		for (;;) {
			size_t best = 0;

			for (size_t u = 1; u < sl->nunit; u++)
				if (sid_of[u] < 0 && has[u] && sl->unit_chosen[u] &&
				    (!best || strcmp(sl->unit_name[u], sl->unit_name[best]) < 0))
					best = u;
			if (!best)
				break;
			sid_of[best] = (int32_t)tr->ns;
			if ((r = add_series(tr, sl->unit_name[best], err))) {
				free(has);
				goto cleanup;
			}
		}
		free(has);
	}
	/* events placed in the area without coordinates (agency rows by LSOA or
	   unit code) count in the area's series, on no street */
	for (size_t i = 0; i < sl->n_nc; i++) {
		uint32_t c = sl->nc_category[i];
		int32_t m = sl->nc_month[i] - tr->span_from;

		if (m < 0 || m >= tr->nspan || !select_type_on(&tr->sel, sl->cat_name[c]))
			continue;
		tr->s[0].count[m] += 1;
		int32_t k = tr->by == 1 ? sid_of[c] : tr->by == 3 ? sid_of[sl->nc_unit[i]] : -1;

		if (k > 0)
			tr->s[k].count[m] += 1;
	}
	for (size_t i = 0; i < sl->n; i++) {
		uint32_t c = sl->category[i];
		int32_t m = sl->month[i] - tr->span_from;

		if (m < 0 || m >= tr->nspan || !select_type_on(&tr->sel, sl->cat_name[c]))
			continue;
		tr->s[0].count[m] += 1;
		int32_t k = tr->by == 1 ? sid_of[c] : tr->by == 2 ? sid_of[sl->street[i]]
			  : tr->by == 3 ? sid_of[sl->unit[i]] : -1;

		if (k > 0)
			tr->s[k].count[m] += 1;
	}
cleanup:
	free(sid_of);
	return r;
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
	/* trend, Mann-Kendall: the months of the period (gaps excluded) */
	struct trend_series ts = { .count = x->count + from, .present = tr->present + from,
				   .n = (size_t)(to - from + 1), .first_month = tr->sel.from };

	if (trend_poisson_fit(&ts, &x->fit, err) == 0)
		x->has_fit = x->fit.kind != TREND_FIT_NONE;
	if (trend_mann_kendall(&ts, &x->mk, err) == 0)
		x->has_mk = x->mk.n >= 2;
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
					    "q_value", "z", "contribution" };
	int r;

	if ((r = table_init(t, "Year on year: the last 12 months against the 12 before", cols, 12, err)))
		return r;
	for (size_t k = 0; k < tr->ns; k++) {
		const struct series *x = &tr->s[k];
		size_t row;

		if ((r = table_add_row(t, &row, err)) || (r = table_set_text(t, row, 0, x->name, err)))
			return r;
		if (!x->has_yoy) {
			for (size_t c = 1; c < 12; c++)
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
		    (r = cell(t, row, 11, x->contrib, 6, err)))
			return r;
	}
	return 0;
}

/* Write s on a line outside the tables: Markdown-escaped for --format md (2),
 * cleaned of control and bidi characters for the console. */
static int put_text(const char *s, int format, FILE *f, struct mb_error *err)
{
	return format == 2 ? emit_md_escape(s, f, err) : emit_text_clean(s, f, err);
}

/* The trend table with the verdicts. */
static int build_trend(const struct trends_run *tr, struct table *t, struct mb_error *err)
{
	static const char *const cols[] = { "series", "annual_change", "ci_low", "ci_high", "p_trend",
					    "phi", "model", "mk_s", "mk_z", "mk_p", "sen_slope",
					    "ucl", "months_above_ucl", "last3_above_ucl", "verdict" };
	int r;

	if ((r = table_init(t, "Trend, control chart and verdict", cols, 15, err)))
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
		    (r = cell(t, row, 7, x->has_mk ? (double)x->mk.s : NAN, -1, err)) ||
		    (r = cell(t, row, 8, x->has_mk ? x->mk.z : NAN, 4, err)) ||
		    (r = cell(t, row, 9, x->has_mk ? x->mk.p : NAN, 6, err)) ||
		    (r = cell(t, row, 10, x->has_mk ? x->mk.sen : NAN, 4, err)) ||
		    (r = cell(t, row, 11, x->has_cc ? x->cc.ucl : NAN, 2, err)) ||
		    (r = cell(t, row, 12, x->has_cc ? (double)x->cc.n_above : NAN, -1, err)) ||
		    (r = cell(t, row, 13, x->has_cc ? (double)x->cc.recent_above : NAN, -1, err)) ||
		    (r = table_set_text(t, row, 14, x->verdict, err)))
			return r;
	}
	return 0;
}

/* Charts: monthly series with limits and fit, year-on-year bars, seasonal profile. */
static int write_charts(const struct trends_run *tr, const char *dir, struct mb_error *err)
{
	int32_t from = tr->sel.from - tr->span_from;
	size_t n = (size_t)(tr->sel.to - tr->sel.from + 1);
	double *cnt = malloc(n * sizeof(double)), *fit = malloc(n * sizeof(double));
	const char **labels = calloc(tr->ns, sizeof(char *));
	double *pct = calloc(tr->ns, sizeof(double)), *lo = calloc(tr->ns, sizeof(double));
	double *hi = calloc(tr->ns, sizeof(double));
	int *sig = calloc(tr->ns, sizeof(int));
	char title[300], name[32];
	int r = 0;

	if (!cnt || !fit || !labels || !pct || !lo || !hi || !sig) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t k = 0; k < tr->ns && k < MONTHLY_CHARTS; k++) {
		const struct series *x = &tr->s[k];
		double sum = 0;

		/* a series with no event in the period has nothing to draw (gnuplot
		   refuses an empty range): its zeros are in monthly.csv */
		for (size_t i = 0; i < n; i++)
			sum += tr->present[from + (int32_t)i] ? x->count[from + (int32_t)i] : 0;
		if (sum <= 0)
			continue;

		for (size_t i = 0; i < n; i++) {
			cnt[i] = tr->present[from + (int32_t)i] ? x->count[from + (int32_t)i] : NAN;
			fit[i] = NAN;
			if (x->has_fit && tr->present[from + (int32_t)i]) {
				/* the fitted mean: exp(b0 + b1 t + season(month of year)) */
				int moy = (tr->sel.from + (int32_t)i) % 12;
				double season = x->fit.kind == TREND_FIT_SEASONAL ? x->fit.season[moy] : 0;

				fit[i] = exp(x->fit.beta0 + x->fit.beta1 * (double)i +
					     (isfinite(season) ? season : 0));
			}
		}
		/* the series name is data: the plot module passes titles through a data file */
		snprintf(title, sizeof(title), "%s: monthly count, %s", x->name, tr->sel.period_label);
		snprintf(name, sizeof(name), "monthly_%02zu", k);
		struct plot_monthly pm = {
			.title = title, .value_label = "Crimes per month", .n = n,
			.first_month = tr->sel.from, .count = cnt, .trend = fit,
			.centre = x->has_cc ? x->cc.centre : NAN, .ucl = x->has_cc ? x->cc.ucl : NAN,
			.lcl = x->has_cc ? x->cc.lcl : NAN,
		};

		if ((r = plot_monthly(dir, name, &pm, err)))
			goto cleanup;
	}
	size_t nb = 0;

	for (size_t k = 0; k < tr->ns; k++) {
		if (!tr->s[k].has_yoy)
			continue;
		labels[nb] = tr->s[k].name;
		pct[nb] = tr->s[k].yoy.pct;
		lo[nb] = tr->s[k].yoy.pct_lo;
		hi[nb] = tr->s[k].yoy.pct_hi;
		sig[nb] = (tr->ns > 1 && isfinite(tr->s[k].q) ? tr->s[k].q : tr->s[k].yoy.p) <= tr->fdr;
		nb++;
	}
	snprintf(title, sizeof(title), "Year on year change with 95%% interval, %s", tr->sel.period_label);
	struct plot_yoy py = { .title = title, .n = nb, .label = labels, .pct = pct, .lo = lo,
			       .hi = hi, .significant = sig };

	if (nb && (r = plot_yoy(dir, "yoy", &py, err)))
		goto cleanup;
	/* seasonal profile of the total: mean per month of the year over present months */
	static const char *const MON[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	double mean[12] = { 0 }, nm[12] = { 0 };

	for (size_t i = 0; i < n; i++) {
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
	snprintf(title, sizeof(title), "Seasonal profile (mean per month), %s", tr->sel.period_label);
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

int cmd_trends(struct cli *c, int argc, char **argv, struct mb_error *err)
{
	static const struct option opts[] = {
		SELECT_LONG_OPTIONS,
		{ "by", required_argument, NULL, O_BY },
		{ "baseline-months", required_argument, NULL, O_BASE },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "out", required_argument, NULL, O_OUT },
		{ "fdr", required_argument, NULL, O_FDR },
		{ "yoy", no_argument, NULL, 0 },
		{ "no-charts", no_argument, NULL, O_NOCHARTS },
		{ NULL, 0, NULL, 0 },
	};
	struct trends_run tr = { .baseline = 24, .fdr = 0.05 };
	struct store *s = NULL;
	struct table ty = { 0 }, tt = { 0 };
	const char *out_dir = NULL;
	int format = 0, o, r = 0, charts = 1;

	select_init(&tr.sel);
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
		case O_FORMAT:
			if (strcmp(optarg, "table") == 0) format = 0;
			else if (strcmp(optarg, "csv") == 0) format = 1;
			else if (strcmp(optarg, "md") == 0) format = 2;
			else r = mb_err(err, MB_EUSAGE, "--format wants table, csv or md");
			break;
		case O_OUT: out_dir = optarg; break;
		case O_NOCHARTS: charts = 0; break;
		default:
			if (o >= SEL_FIRST && o < SEL_LAST)
				r = select_option(&tr.sel, o, optarg, err);
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
	if ((r = store_open(c->db_path, STORE_READONLY, &s, err)) ||
	    (r = select_finish(&tr.sel, s, err)))
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
	struct slice_query q = { .from = tr.span_from, .to = tr.sel.to, .include_asb = 1 };

	select_query(&tr.sel, tr.by_layer, 1, &q);

	/* --by with a name that is not a layer: say what --by takes */
	if ((r = store_slice_load(s, &q, &tr.sl, err))) {
		if (tr.by == 3 && !tr.sel.layer && r == -MB_ENOTFOUND && strstr(err->msg, "is not loaded"))
			r = mb_err(err, MB_EUSAGE, "--by wants type, area, none or a loaded area layer,"
				   " not '%s'", tr.by_layer);
		goto cleanup;
	}
	if ((r = select_check_gaps(&tr.sel, &tr.sl, err)))
		goto cleanup;
	tr.present = tr.sl.month_present;
	if ((r = build_series(&tr, s, err)))
		goto cleanup;
	for (size_t k = 0; k < tr.ns; k++)
		if ((r = analyse(&tr, &tr.s[k], err)))
			goto cleanup;
	/* several series tested together: control the false discovery rate */
	if (tr.ns > 1) {
		double *p = calloc(tr.ns, sizeof(double)), *qv = calloc(tr.ns, sizeof(double));
		size_t *idx = calloc(tr.ns, sizeof(size_t)), m = 0;

		if (!p || !qv || !idx) {
			free(p);
			free(qv);
			free(idx);
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
		for (size_t k = 1; k < tr.ns; k++)
			if (tr.s[k].has_yoy) {
				p[m] = tr.s[k].yoy.p;
				idx[m++] = k;
			}
		if (m && (r = trend_fdr_bh(p, m, tr.fdr, qv, NULL, err)) == 0)
			for (size_t j = 0; j < m; j++)
				tr.s[idx[j]].q = qv[j];
		free(p);
		free(qv);
		free(idx);
		if (r)
			goto cleanup;
		/* what drives the change: each component's share of the total change */
		double total = tr.s[0].a - tr.s[0].b;

		for (size_t k = 1; k < tr.ns; k++)
			if (tr.s[k].has_yoy && total != 0)
				tr.s[k].contrib = (tr.s[k].a - tr.s[k].b) / total;
	}
	for (size_t k = 0; k < tr.ns; k++) {
		struct series *x = &tr.s[k];
		struct trend_verdict_opts vo = { .alpha = tr.fdr, .fdr = k > 0 && isfinite(x->q),
						 .p_adjusted = x->q };

		if (!x->has_yoy) {
			snprintf(x->verdict, sizeof(x->verdict), "No year-on-year comparison: months missing");
			continue;
		}
		if ((r = trend_verdict(&x->yoy, x->has_cc ? &x->cc : NULL, &vo, x->verdict,
				       sizeof(x->verdict), err)))
			goto cleanup;
	}
	if ((r = build_yoy(&tr, &ty, err)) || (r = build_trend(&tr, &tt, err)))
		goto cleanup;
	/* console: the gaps, what drives the change, the verdicts */
	if (format == 1) {
		select_print_months(&tr.sel, c->msg); /* the CSV has no room for it: stderr */
		r = table_write_csv(&ty, c->out, err);
	} else {
		int gaps = 0;

		/* names from the store or the command line: escaped for Markdown,
		 * cleaned for a terminal, as in the tables */
		if ((r = put_text(tr.sl.scope_label, format, c->out, err)))
			goto cleanup;
		fprintf(c->out, ", %s; %s", tr.sel.period_label, tr.sel.theme[0] ? "theme " : "");
		if ((r = put_text(tr.sel.theme[0] ? tr.sel.theme
				  : tr.sel.ntypes ? "selected types"
						  : "all crime types except Anti-social behaviour",
				  format, c->out, err)))
			goto cleanup;
		fputs(".\n", c->out);
		for (int32_t m = tr.sel.from; m <= tr.sel.to; m++) {
			if (tr.present[m - tr.span_from])
				continue;
			int32_t e = m;
			char a[8], b[8];

			while (e + 1 <= tr.sel.to && !tr.present[e + 1 - tr.span_from])
				e++;
			month_format(m, a);
			month_format(e, b);
			fprintf(c->out, "%s %s..%s (%d month%s not loaded: left out of every figure)",
				gaps++ ? "," : "Gaps:", a, b, e - m + 1, e > m ? "s" : "");
			m = e;
		}
		if (gaps)
			fputs(".\n", c->out);
		select_print_months(&tr.sel, c->out);
		print_sources(&tr, c->out);
		if (tr.ns > 1)
			fprintf(c->out, "%zu series tested together: p-values controlled for a false"
					" discovery rate of %.0f%% (Benjamini-Hochberg).\n",
				tr.ns - 1, 100 * tr.fdr);
		for (size_t k = 0; k < tr.ns && !r; k++) {
			fputs("  ", c->out);
			if (!(r = put_text(tr.s[k].name, format, c->out, err))) {
				fputs(": ", c->out);
				r = put_text(tr.s[k].verdict, format, c->out, err);
			}
			fputc('\n', c->out);
		}
		if (r)
			goto cleanup;
		fputc('\n', c->out);
		if (format == 2)
			r = table_write_md(&ty, c->out, err);
		else
			r = table_write_console(&ty, 4, ty.nrows, c->out, err);
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
		if (!(r = write_monthly(&tr, tmp, err)) &&
		    !(r = table_save_csv(&ty, tmp, "yoy.csv", err)) &&
		    !(r = table_save_csv(&tt, tmp, "trend.csv", err)) && charts)
			r = write_charts(&tr, tmp, err);
		if ((r = emit_dir_finish(r, tmp, out_dir, err)))
			goto cleanup;
	}
cleanup:
	table_release(&ty);
	table_release(&tt);
	for (size_t k = 0; tr.s && k < tr.ns; k++) {
		free(tr.s[k].name);
		free(tr.s[k].count);
	}
	free(tr.s);
	slice_release(&tr.sl);
	select_release(&tr.sel);
	store_close(s);
	return r;
}
