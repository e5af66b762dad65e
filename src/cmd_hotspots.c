/* cmd_hotspots — 'microbeat hotspots': options, the run in order, the console report. The
 * work is in hotspot_prep.c, hotspot_area.c, hotspot_write.c (src/hotspot_internal.h). */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hotspot_internal.h"
#include "microbeat/cli.h"
#include "microbeat/emit.h"
#include "microbeat/plot.h"
#include "microbeat/store.h"
#include "microbeat/util.h"

enum { O_BAND = 1, O_CELL, O_BW, O_PERIODS, O_CRITQ, O_PERSIST, O_RECENT, O_HOTPROP, O_KNOX,
       O_PERMS, O_KDIST, O_KDAYS, O_SEED, O_OUTLINE, O_OUT, O_NOCHARTS,
       O_CHARTS };

/* Parse a comma-separated ascending list of positive numbers. */
static int parse_bands(const char *s, double *out, size_t *n, const char *opt,
		       struct mb_error *err)
{
	char *end;

	*n = 0;
	while (*s) {
		double v = strtod(s, &end);

		if (end == s || !(v > 0) || !isfinite(v) || *n >= MAX_BANDS ||
		    (*n && !(v > out[*n - 1])) || (*end && *end != ','))
			return mb_err(err, MB_EUSAGE, "%s wants up to %d ascending positive numbers,"
				      " comma-separated", opt, MAX_BANDS);
		out[(*n)++] = v;
		s = *end ? end + 1 : end;
	}
	if (*n == 0)
		return mb_err(err, MB_EUSAGE, "%s wants at least one number", opt);
	return 0;
}

/* ---- the report ----------------------------------------------------------------- */

/* The Knox line of the report: the near cell, or why the test did not run. */
static void print_knox(const struct hs_run *hr, FILE *out)
{
	if (hr->knox_done) {
		const struct hs_knox *k = &hr->knox;

		char ratio[32] = "n/a (none expected)";

		if (isfinite(k->ratio[0]))
			snprintf(ratio, sizeof(ratio), "%.2f", k->ratio[0]);
		/* police.uk gives months only: the days are a force extract's or a
		 * partner's (the report's limits of police.uk data say so) */
		fprintf(out, "\nKnox near-repeat (%zu dated events: days from a force extract or a"
			" partner's data, police.uk giving months only; %zu pairs within %.0f m;"
			" %d permutations, seed %llu): under %.0f m and %.0f days: %.0f pairs, %.1f"
			" expected, ratio %s, p %.4f (knox.csv for every band).\n",
			hr->knox_events, k->pairs, hr->kd[hr->nkd - 1], k->perms,
			(unsigned long long)hr->seed, hr->kd[0], hr->kt[0], k->obs[0],
			k->expected[0], ratio, k->p[0]);
	} else if (hr->knox_skipped) {
		fprintf(out, "\nKnox near-repeat: not run (see the message above).\n");
	} else {
		fprintf(out, "\nKnox near-repeat: not run: the events have no dates (police.uk data"
			" gives the month only; the test needs a force or agency extract imported with"
			" a date column).\n");
	}
}

/* How many of the periods hs_pattern_of counts as recent (for the report). */
static size_t recent_periods(const struct hs_run *hr)
{
	size_t r = (size_t)floor(hr->rule.recent_prop * (double)hr->nper + 1e-9);

	if (r < 1)
		r = 1;
	if (hr->nper >= 2 && r > hr->nper - 1)
		r = hr->nper - 1;
	return r;
}

/* The console report (tf: the forecast table, when there is one). */
static int print_report(const struct hs_run *hr, const struct table *tf, FILE *out,
			struct mb_error *err)
{
	const struct hs_gi *g = &hr->gi[hr->nper - 1];
	size_t npat[HS_PAT_INTERMITTENT + 1] = { 0 }, ncls[HS_UNTESTABLE + 1] = { 0 };

	if (hr->knox_only) {
		fprintf(out, "Hot spots: %s, %s\n", MB_SHOWN(hr->sl.scope_label), hr->sel.period_label);
		select_print_months(&hr->sel, out);
		select_print_sources(&hr->sel, &hr->sl, out);
		fprintf(out, "Gi*, patterns, KDE and forecast: not run: %zu micro-beat(s) in the selection"
			" (events located by coordinates only, as agency incidents are, lie on no"
			" micro-beat).\n", hr->n);
		print_knox(hr, out);
		return 0;
	}
	for (size_t u = 0; u < hr->n; u++) {
		npat[hr->pattern[u]]++;
		ncls[g->cls[u]]++;
	}
	fprintf(out, "Hot spots: %s, %s\n", MB_SHOWN(hr->sl.scope_label), hr->sel.period_label);
	select_print_months(&hr->sel, out);
	fprintf(out, "Micro-beats: %zu (observed universe: seen in any loaded month), %zu crimes"
		" located on them in the period.\n", hr->n, hr->events_period);
	fprintf(out, "Distances: metres on a local plane centred at %.5f, %.5f"
		" (docs/methods-hotspots.md §1).\n", hr->lon0, hr->lat0);
	fprintf(out, "Gi* band: %.0f m%s; %zu micro-beats isolated (no neighbour within the band,"
		" not classed).\n", hr->band,
		hr->band_default ? " (default: the distance at which 99% of micro-beats have a"
				   " neighbour; --band to change)" : " (--band)",
		g->isolated);
	fprintf(out, "Gi* classes (Benjamini-Hochberg FDR across micro-beats): hot 99%% %zu, 95%% %zu,"
		" 90%% %zu; cold 99%% %zu, 95%% %zu, 90%% %zu; not significant %zu; not testable %zu.\n",
		ncls[HS_HOT99], ncls[HS_HOT95], ncls[HS_HOT90], ncls[HS_COLD99], ncls[HS_COLD95],
		ncls[HS_COLD90], ncls[HS_NONE], ncls[HS_UNTESTABLE]);
	if (hr->nper < 2)
		fprintf(out, "Patterns and forecast: not assessed: one period only (--periods 1, or the"
			" previous period of equal length is not fully loaded).\n");
	else
		fprintf(out, "Patterns over %zu periods, %s to %s (hot: Gi* > 0 and q < %g; persistent:"
			" hot in >= %g of the periods; emerging / former: hot in >= %g of the last %zu"
			" (recent, --recent-prop %g) and < %g of the older ones, or the reverse;"
			" intermittent: hot in >= %g of the periods):\n"
			"  persistent %zu, emerging %zu, former %zu, intermittent %zu.\n",
			hr->nper, hr->per_label[0], hr->per_label[hr->nper - 1], hr->rule.critical_q,
			hr->rule.persistent_prop, hr->rule.hotspot_prop, recent_periods(hr),
			hr->rule.recent_prop, hr->rule.hotspot_prop, hr->rule.hotspot_prop,
			npat[HS_PAT_PERSISTENT], npat[HS_PAT_EMERGING], npat[HS_PAT_FORMER],
			npat[HS_PAT_INTERMITTENT]);
	fprintf(out, "KDE: quartic kernel, cell %.0f m%s, bandwidth %.0f m%s; clipped to %s.\n",
		hr->cell, hr->cell_default ? " (default: shorter side of the extent / 150)" : "",
		hr->bw, hr->bw_default ? " (default: 5 cells)" : "",
		hr->nring ? MB_SHOWN(hr->outline_src) : "cells within one bandwidth of a micro-beat"
			   " (no outline: --outline FILE, or load a boundary layer with 'areas')");
	if (hr->kde_outside)
		fprintf(out, "  %zu micro-beat(s) lie beyond the mapped extent (%s) and are not on the"
			" KDE grid.\n", hr->kde_outside,
			hr->nring ? "the outline's" : "0.5%..99.5% of the micro-beats each way, widened by a tenth");
	if (hr->has_forecast) {
		int r;

		fprintf(out, "\nForecast accuracy: the top p%% of %s as the hot list for %s.\n",
			hr->per_label[hr->nper - 2], hr->per_label[hr->nper - 1]);
		if ((r = table_write_console(tf, 3, tf->nrows, out, err)))
			return r;
	}
	print_knox(hr, out);
	return 0;
}

/* Gi* of each period, the patterns, the forecast, the outline and the KDE:
 * everything that rests on the micro-beats (docs/methods-hotspots.md §1-§5). */
static int run_spatial(struct hs_run *hr, struct store *s, const char *outline, FILE *msg,
		       struct mb_error *err)
{
	int r;

	if (outline) {
		if ((r = hsr_load_outline(hr, outline, err)))
			return r;
		snprintf(hr->outline_src, sizeof(hr->outline_src), "the --outline polygons");
	} else if ((r = hsr_layer_outline(hr, s, msg, err))) {
		return r;
	}
	if (hr->band_default && (r = hsr_default_band(hr, err)))
		return r;
	if ((r = hs_gistar_periods(hr->n, hr->x, hr->y, hr->count, hr->nper, hr->band, hr->gi,
				   err)))
		return r;
	hr->pattern = calloc(hr->n + 1, 1);
	if (!hr->pattern)
		return mb_err(err, MB_ENOMEM, "out of memory");
	for (size_t u = 0; u < hr->n; u++) {
		uint8_t hot[MAX_PERIODS];

		for (size_t p = 0; p < hr->nper; p++)
			hot[p] = hr->gi[p].z[u] > 0 && hr->gi[p].q[u] < hr->rule.critical_q;
		hr->pattern[u] = (uint8_t)hs_pattern_of(hot, hr->nper, &hr->rule);
	}
	if (hr->nper >= 2) {
		if ((r = hs_pai_compute(hr->n, hr->count + (hr->nper - 1) * hr->n,
					hr->count + (hr->nper - 2) * hr->n, NULL, &hr->pai, err)))
			return r;
		hr->has_forecast = 1;
	}
	return hsr_kde(hr, err);
}

/* Load the slice (hr->sel's query q, the periods' events kept) and the
 * universe; when hsr_universe asks for every month's events (hr->reload),
 * load again without the keep window. */
static int load_events(struct hs_run *hr, struct store *s, struct slice_query *q,
		       struct mb_error *err)
{
	int r;

	if ((r = store_slice_load(s, q, &hr->sl, err)) ||
	    (r = select_check_gaps(&hr->sel, &hr->sl, err)) || (r = hsr_pick_types(hr, err)))
		return r;
	/* the store holds force-extract dates: the slice has a day column then,
	 * empty when no event is kept (store_slice_load) */
	hr->has_days = hr->sl.day != NULL;
	if (hr->knox_ask && !hr->has_days)
		return mb_err(err, MB_EUSAGE, "knox: the store holds no event dates (police.uk data"
			      " gives the month only): the near-repeat test needs a force or agency"
			      " extract imported with a date column");
	if ((r = hsr_universe(hr, err)) || !hr->reload)
		return r;
	hsr_universe_release(hr);
	slice_release(&hr->sl);
	memset(&hr->sl, 0, sizeof(hr->sl));
	free(hr->selected);
	hr->selected = NULL;
	q->keep_set = 0;
	return load_events(hr, s, q, err);
}

/* The long name of option code o. */
static const char *opt_name(const struct option *opts, int o)
{
	for (; opts->name; opts++)
		if (opts->val == o)
			return opts->name;
	return "?";
}

int cmd_hotspots(struct cli *c, int argc, char **argv, struct mb_error *err)
{
	static const struct option opts[] = {
		SELECT_LONG_OPTIONS,
		{ "band", required_argument, NULL, O_BAND },
		{ "cell", required_argument, NULL, O_CELL },
		{ "bandwidth", required_argument, NULL, O_BW },
		{ "periods", required_argument, NULL, O_PERIODS },
		{ "critical-q", required_argument, NULL, O_CRITQ },
		{ "persistent-prop", required_argument, NULL, O_PERSIST },
		{ "recent-prop", required_argument, NULL, O_RECENT },
		{ "hotspot-prop", required_argument, NULL, O_HOTPROP },
		{ "knox", no_argument, NULL, O_KNOX },
		{ "knox-permutations", required_argument, NULL, O_PERMS },
		{ "knox-distances", required_argument, NULL, O_KDIST },
		{ "knox-days", required_argument, NULL, O_KDAYS },
		{ "seed", required_argument, NULL, O_SEED },
		{ "outline", required_argument, NULL, O_OUTLINE },
		{ "out", required_argument, NULL, O_OUT },
		{ "no-charts", no_argument, NULL, O_NOCHARTS },
		{ "charts", required_argument, NULL, O_CHARTS },
		{ NULL, 0, NULL, 0 },
	};
	struct hs_run hr = { .band_default = 1, .cell_default = 1, .bw_default = 1, .perms = 999,
			     .rule = { .critical_q = 0.05, .hotspot_prop = 0.1,
				       .persistent_prop = 0.8, .recent_prop = 0.2 }, .seed = 1,
			     .kd = { 100, 200, 300, 400, 500 }, .nkd = 5,
			     .kt = { 7, 14, 21, 28, 35 }, .nkt = 5 };
	struct store *s = NULL;
	struct table tf = { 0 }, tk = { 0 };
	const char *out_dir = NULL, *outline = NULL;
	long periods = 4;
	int o, r = 0, charts = PLOT_BOTH;

	select_init(&hr.sel);
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end = NULL;
		double v = 0;

		if (o == O_BAND || o == O_CELL || o == O_BW || o == O_CRITQ || o == O_PERSIST ||
		    o == O_RECENT || o == O_HOTPROP) {
			v = strtod(optarg, &end);
			if (end == optarg || *end || !isfinite(v) || !(v > 0) ||
			    ((o == O_CRITQ || o == O_PERSIST || o == O_RECENT || o == O_HOTPROP) &&
			     v > 1)) {
				r = mb_err(err, MB_EUSAGE, "--%s wants a positive number%s",
					   opt_name(opts, o), o >= O_CRITQ ? " up to 1" : " of metres");
				goto cleanup;
			}
		}
		switch (o) {
		case O_BAND: hr.band = v; hr.band_default = 0; break;
		case O_CELL: hr.cell = v; hr.cell_default = 0; break;
		case O_BW: hr.bw = v; hr.bw_default = 0; break;
		case O_CRITQ: hr.rule.critical_q = v; break;
		case O_PERSIST: hr.rule.persistent_prop = v; break;
		case O_RECENT: hr.rule.recent_prop = v; break;
		case O_HOTPROP: hr.rule.hotspot_prop = v; break;
		case O_PERIODS:
			periods = strtol(optarg, &end, 10);
			if (*end || periods < 1 || periods > MAX_PERIODS)
				r = mb_err(err, MB_EUSAGE, "--periods wants 1..%d", MAX_PERIODS);
			break;
		case O_KNOX: hr.knox_ask = 1; break;
		case O_PERMS:
			hr.perms = (int)strtol(optarg, &end, 10);
			if (*end || hr.perms < 999 || hr.perms > 99999)
				r = mb_err(err, MB_EUSAGE, "--knox-permutations wants 999..99999");
			break;
		case O_KDIST: r = parse_bands(optarg, hr.kd, &hr.nkd, "--knox-distances", err); break;
		case O_KDAYS: r = parse_bands(optarg, hr.kt, &hr.nkt, "--knox-days", err); break;
		case O_SEED: {
			long long sd = strtoll(optarg, &end, 10);

			if (*end || sd < 0)
				r = mb_err(err, MB_EUSAGE, "--seed wants a non-negative integer");
			hr.seed = (uint64_t)sd;
			break;
		}
		case O_OUTLINE: outline = optarg; break;
		case O_OUT: out_dir = optarg; break;
		case O_NOCHARTS: charts = 0; break;
		case O_CHARTS:
			if ((charts = plot_formats_parse(optarg)) < 0)
				r = mb_err(err, MB_EUSAGE, "--charts wants png, svg or both");
			break;
		default:
			if (o >= SEL_FIRST && o < SEL_LAST)
				r = select_option(&hr.sel, o, optarg, err);
			else
				r = -MB_EUSAGE;
		}
		if (r)
			goto cleanup;
	}
	if (optind < argc) {
		r = mb_err(err, MB_EUSAGE, "hotspots: unexpected argument '%s'", argv[optind]);
		goto cleanup;
	}
	if ((r = store_open(c->db_path, STORE_READONLY, &s, err)) ||
	    (r = select_finish(&hr.sel, s, err)))
		goto cleanup;
	int32_t lo, hi;

	if ((r = store_month_range(s, &lo, &hi, err)))
		goto cleanup;
	/* events of the periods only: of the other months the observed universe
	 * needs the snap points (slice_query.keep_set) */
	int32_t keep_from = hr.sel.from - (int32_t)(periods - 1) * (hr.sel.to - hr.sel.from + 1);
	struct slice_query q = { .from = lo < hr.sel.from ? lo : hr.sel.from,
				 .to = hi > hr.sel.to ? hi : hr.sel.to, .include_asb = 1,
				 .extract = 1, .no_source = 1, .no_street_column = 1, .keep_set = 1,
				 .keep_from = keep_from, .keep_to = hr.sel.to };

	select_query(&hr.sel, NULL, 1, &q);
	if ((r = load_events(&hr, s, &q, err)))
		goto cleanup;
	if ((r = hsr_periods(&hr, (size_t)periods, err)) ||
	    (hr.has_days && (r = hsr_knox_events(&hr, err))))
		goto cleanup;
	/* what rests on the events is taken: counts, KDE weights, Knox points */
	slice_release_events(&hr.sl);
	if (hr.n < 2 || hr.npos == 0) {
		/* no micro-beat to test: agency incidents located by coordinates
		 * only are on no street; their dates still allow the Knox test */
		if (!hr.has_days) {
			r = hr.n < 2 ? mb_err(err, MB_EUSAGE, "hotspots: %zu micro-beat(s) in the area:"
					      " nothing to test", hr.n)
				     : mb_err(err, MB_ENOTFOUND, "no micro-beat of the area has"
					      " coordinates");
			goto cleanup;
		}
		hr.knox_only = 1;
	} else if ((r = run_spatial(&hr, s, outline, c->msg, err))) {
		goto cleanup;
	}
	if (hr.has_days && (r = hsr_knox(&hr, err))) {
		/* not asked for: a Knox test that cannot run leaves the rest standing */
		if (hr.knox_only && r == -MB_EUSAGE) {
			char why[sizeof(err->msg)];

			snprintf(why, sizeof(why), "%s", err->msg);
			r = mb_err(err, MB_EUSAGE, "hotspots: %zu micro-beat(s) in the area: nothing to"
				   " test (%s)", hr.n, why);
		}
		if (hr.knox_ask || hr.knox_only || r != -MB_EUSAGE)
			goto cleanup;
		fprintf(c->msg, "microbeat: knox not run: %s\n", err->msg);
		hr.knox_skipped = 1;
		r = 0;
	}
	/* the per-micro-beat and per-cell files are written a row at a time
	 * (hsr_save_*): on the national extract they are 4.5 M cells */
	if ((hr.has_forecast && (r = hsr_table_forecast(&hr, &tf, err))) ||
	    (out_dir && hr.knox_done && (r = hsr_table_knox(&hr, &tk, err))))
		goto cleanup;
	if ((r = print_report(&hr, &tf, c->out, err)))
		goto cleanup;
	if (out_dir) {
		struct plot_batch pb;
		char *tmp = NULL;

		if ((r = emit_dir_begin(out_dir, &tmp, err)))
			goto cleanup;
		plot_batch_begin(&pb, charts);
		if (hr.knox_only)
			r = table_save_csv(&tk, tmp, "knox.csv", err);
		else if (!(r = hsr_save_gistar(&hr, tmp, err)) &&
			 !(r = hsr_save_classes(&hr, tmp, err)) && !(r = hsr_save_kde(&hr, tmp, err)) &&
			 !(r = hr.has_forecast ? table_save_csv(&tf, tmp, "forecast.csv", err) : 0) &&
			 !(r = hr.knox_done ? table_save_csv(&tk, tmp, "knox.csv", err) : 0) &&
			 !(r = hsr_write_geojson(&hr, tmp, err)) && charts)
			r = hsr_write_maps(&hr, tmp, err);
		r = plot_batch_end(&pb, r, err);
		if ((r = emit_dir_finish(r, tmp, out_dir, err)))
			goto cleanup;
	}
cleanup:
	table_release(&tf);
	table_release(&tk);
	for (size_t p = 0; p < MAX_PERIODS; p++)
		hs_gi_release(&hr.gi[p]);
	hs_pai_release(&hr.pai);
	hs_knox_release(&hr.knox);
	free(hr.pattern);
	free(hr.dens);
	free(hr.ring_start);
	free(hr.ox);
	free(hr.oy);
	free(hr.count);
	free(hr.kde_w);
	free(hr.kn_x);
	free(hr.kn_y);
	free(hr.kn_day);
	hsr_universe_release(&hr);
	free(hr.selected);
	slice_release(&hr.sl);
	select_release(&hr.sel);
	store_close(s);
	return r;
}

