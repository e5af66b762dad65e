/*
 * assess_appendix — the back of the assessment pack: the disclosure-controlled
 * publication table, the data-quality ledger (read from the store, read-only),
 * the methods appendix generated from the definitions used, the "generated"
 * line and the layer's priorities as GeoJSON.
 */
#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "assess_internal.h"
#include "microbeat/disclosure.h"
#include "microbeat/emit.h"
#include "microbeat/util.h"

/* The publication table: counts by unit and category with disclosure control. */
int as_publication(FILE *o, struct run *R, const struct csvtab *fm, struct mb_error *err)
{
	fputs("## Publication table (disclosure-controlled)\n\n", o);
	if (!fm->nrows) {
		fputs("_Needs the priorities (an area layer)._\n\n", o);
		return 0;
	}
	/* units and categories in the order the matrix gives them */
	const char **units = calloc(fm->nrows, sizeof *units), **cats = calloc(fm->nrows, sizeof *cats);
	int64_t *v = NULL;
	unsigned char *st = NULL;
	size_t nu = 0, nc = 0;
	int r = 0;
	struct table t = { 0 };
	const char **cols = NULL;
	if (!units || !cats) {
		r = NOMEM(R);
		goto cleanup;
	}
	for (size_t i = 0; i < fm->nrows; i++) {
		const char *u = as_fld(fm, i, "unit_name"), *c = as_fld(fm, i, "category");
		size_t k;
		for (k = 0; k < nu && strcmp(units[k], u); k++)
			;
		if (k == nu)
			units[nu++] = u;
		for (k = 0; k < nc && strcmp(cats[k], c); k++)
			;
		if (k == nc)
			cats[nc++] = c;
	}
	v = calloc(nu * nc, sizeof *v);
	st = calloc(nu * nc, 1);
	cols = calloc(nc + 2, sizeof *cols);
	if (!v || !st || !cols) {
		r = NOMEM(R);
		goto cleanup;
	}
	for (size_t i = 0; i < fm->nrows; i++) {
		size_t a, b;
		for (a = 0; strcmp(units[a], as_fld(fm, i, "unit_name")); a++)
			;
		for (b = 0; strcmp(cats[b], as_fld(fm, i, "category")); b++)
			;
		double x = as_num(as_fld(fm, i, "observed"));
		v[a * nc + b] = isnan(x) || x < 0 ? 0 : (int64_t)llround(x);
	}
	if ((r = disclosure_suppress(v, nu, nc, R->cfg->suppress, st, err)))
		goto cleanup;
	cols[0] = "unit";
	for (size_t b = 0; b < nc; b++)
		cols[b + 1] = cats[b];
	cols[nc + 1] = "Total";
	char title[200];
	/* the flags matrix's categories: crimes, and the partners' events with them */
	snprintf(title, sizeof title, "%s by unit and category, %s..%s (counts below %d shown "
				      "as <%d; x = hidden so that they cannot be worked out)",
		 R->nagencies ? "Crimes and partner events" : "Crimes", R->win_from, R->win_to,
		 R->cfg->suppress, R->cfg->suppress);
	if ((r = table_init(&t, title, cols, nc + 2, err)))
		goto cleanup;
	char lt[16];
	snprintf(lt, sizeof lt, "<%d", R->cfg->suppress);
	int64_t grand = 0;
	for (size_t a = 0; a <= nu && !r; a++) {
		size_t row;
		if ((r = table_add_row(&t, &row, err)))
			break;
		r = table_set_text(&t, row, 0, a < nu ? units[a] : "Total", err);
		int64_t rs = 0;
		for (size_t b = 0; b < nc && !r; b++) {
			int64_t cs = 0;
			if (a < nu) {
				cs = v[a * nc + b];
				rs += cs;
				if (st[a * nc + b])
					r = table_set_text(&t, row, b + 1,
							   st[a * nc + b] == DISCLOSE_PRIMARY ? lt : "x", err);
				else
					r = table_set_int(&t, row, b + 1, cs, err);
			} else {
				for (size_t k = 0; k < nu; k++)
					cs += v[k * nc + b];
				r = table_set_int(&t, row, b + 1, cs, err);
			}
		}
		if (a < nu)
			grand += rs;
		if (!r)
			r = table_set_int(&t, row, nc + 1, a < nu ? rs : grand, err);
	}
	if (r)
		goto cleanup;
	char tdir[4200];
	snprintf(tdir, sizeof tdir, "%s/tables", R->tmp);
	if ((r = table_save_csv(&t, tdir, "publication_counts.csv", err)))
		goto cleanup;
	size_t np = 0, ns = 0;
	for (size_t i = 0; i < nu * nc; i++) {
		np += st[i] == DISCLOSE_PRIMARY;
		ns += st[i] == DISCLOSE_SECONDARY;
	}
	fprintf(o, "For publication: %zu of %zu cells are below %d and shown as <%d; %zu more are "
		   "hidden (x) so that none of them can be worked out from the row and column totals "
		   "(`tables/publication_counts.csv`; the rule is in the methods appendix).\n\n",
		np, nu * nc, R->cfg->suppress, R->cfg->suppress, ns);
	r = table_write_md(&t, o, err);
	fputs("\n", o);
cleanup:
	table_release(&t);
	free(units);
	free(cats);
	free(v);
	free(st);
	free(cols);
	return r;
}


void as_ledger(FILE *o, struct run *R, const struct csvtab *conc)
{
	fputs("## Data-quality ledger\n\n### Sources\n\n", o);
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	if (sqlite3_open_v2(R->c->db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db,
			       "SELECT id, name, format, hex(sha256), rows_read, rows_loaded,"
			       " rows_duplicate, rows_rejected, replaced_by FROM import"
			       " WHERE finished IS NOT NULL ORDER BY id",
			       -1, &st, NULL) == SQLITE_OK) {
		fputs("| Import | File | Kind | SHA-256 | Rows read | Loaded | Duplicate | Rejected "
		      "| Replaced by |\n| ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |\n", o);
		while (sqlite3_step(st) == SQLITE_ROW) {
			fprintf(o, "| %lld | ", (long long)sqlite3_column_int64(st, 0));
			as_md(o, (const char *)sqlite3_column_text(st, 1));
			fputs(" | ", o);
			as_md(o, (const char *)sqlite3_column_text(st, 2));
			fputs(" | ", o);
			const char *h = (const char *)sqlite3_column_text(st, 3);
			fprintf(o, "`%s` | %lld | %lld | %lld | %lld | ", h ? h : "",
				(long long)sqlite3_column_int64(st, 4), (long long)sqlite3_column_int64(st, 5),
				(long long)sqlite3_column_int64(st, 6), (long long)sqlite3_column_int64(st, 7));
			if (sqlite3_column_type(st, 8) != SQLITE_NULL)
				fprintf(o, "#%lld", (long long)sqlite3_column_int64(st, 8));
			fputs(" |\n", o);
		}
		fputs("\nA file with a later \"Replaced by\" was a police.uk monthly partition that a newer "
		      "release replaced whole (its rows are no longer counted).\n\n", o);
	} else {
		fputs("_The store's import list could not be read._\n\n", o);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);

	fputs("### Coverage, unlocated crime, LSOA vintages, rejects\n\n", o);
	const struct step *s = as_step_named(R, "");
	if (s && s->state == 1 && s->md) {
		/* an indented code block: no line of it (a file or source name
		 * included) can close it, as a ``` line would close a fence */
		const char *p = s->md;
		while (*p) {
			const char *e = strchr(p, '\n');
			size_t n = e ? (size_t)(e - p + 1) : strlen(p);
			fputs("    ", o);
			fwrite(p, 1, n, o);
			if (!e)
				fputc('\n', o);
			p += n;
		}
		fputs("\n", o);
	}
	fputs("### The street universe\n\n", o);
	if (conc->nrows) {
		fputs("Concentration counts micro-beats against a universe of ", o);
		as_md(o, as_measure(conc, "streets"));
		fputs(" streets: ", o);
		fputs(strcmp(as_measure(conc, "universe_gazetteer"), "1") == 0
			      ? "the loaded gazetteer's streets plus any observed ones it lacks"
		      : strcmp(as_measure(conc, "universe_frozen"), "1") == 0
			      ? "the frozen observed universe"
			      : "every street seen in the loaded months (a lower bound)",
		      o);
		fputs("; it rests on ", o);
		as_md(o, as_measure(conc, "universe_months"));
		fputs(" months, ", o);
		as_md(o, as_measure(conc, "universe_first_month"));
		fputs(" to ", o);
		as_md(o, as_measure(conc, "universe_last_month"));
		fputs(".\n\n", o);
	}
	fputs("### Limits of police.uk data\n\n"
	      "- Monthly only: no day or time of offence.\n"
	      "- Locations are snapped to anonymised points (the centre of a street or a named place "
	      "such as a petrol station), so a micro-beat is a snap point, not an address; crimes "
	      "with no location are counted force-wide only.\n"
	      "- No domestic-abuse flag, no offence subgroup (violence without injury, stalking and "
	      "harassment are inside one category), no hate-crime strand.\n"
	      "- Recorded crime: a change can be a change in recording or reporting.\n"
	      "- Monthly files are re-issued; the store keeps the latest release of each month.\n\n",
	      o);
}

void as_methods(FILE *o, struct run *R)
{
	const struct assess_config *c = R->cfg;
	fputs("## Methods\n\nGenerated from the definitions this pack used.\n\n", o);
	fprintf(o, "- **Period.** The assessment period is %s (%s..%s); changes compare its last 12 "
		   "months with the 12 before, over %s..%s.\n",
		R->label, R->cur_from, R->cur_to, R->win_from, R->win_to);
	fputs("- **Micro-beats.** A micro-beat is a police.uk snap point (a street segment or a "
	      "place); concentration is the share of crime on the busiest 1, 3, 5, 10 and 20% of the "
	      "street universe, the Gini coefficient and the generalised Gini, each against a "
	      "Monte Carlo of the same crimes spread by chance (seed 1, 200 draws; 20 draws for the "
	      "per-type column of the scanning matrix). Harm weights: ", o);
	as_md(o, c->harm ? c->harm : "the Cambridge Crime Harm Index (datasets/harm_cchi.csv)");
	fputs(".\n", o);
	fprintf(o, "- **Trends.** Year-on-year change is a quasi-Poisson rate ratio (over-dispersion "
		   "phi from the monthly series), with the Poisson exact test as a secondary check; "
		   "several crime types are tested together under the Benjamini-Hochberg false "
		   "discovery rate q = %s with FCR-adjusted intervals%s; trend and seasonality by "
		   "a quasi-Poisson model with seasonal terms and the seasonal Kendall test; control "
		   "charts are c-charts on a baseline before the last 3 months, with run rules.\n",
		c->fdr, c->primary ? " (the primary series is tested alone in the scan of every "
				     "type; within a theme it is one of the theme's types)" : "");
	if (c->layer) {
		fputs("- **Priorities.** Units of the layer ", o);
		as_md(o, c->layer);
		fprintf(o, " are compared per 1,000 residents (opportunity crime against its own "
			   "denominator); rate ratios are shrunk by empirical Bayes; a category is "
			   "credible when P(RR > %s) >= 0.95; a unit is a priority when credible on at "
			   "least %s categories or in the top %s by harm-weighted excess with "
			   "P(RR > 1) > 0.95; flags H (over-dispersion-adjusted funnel), R (rise) and C "
			   "(control chart) are each under the FDR (q = %s).\n",
			c->rr_threshold, c->min_flags, c->top, c->fdr);
	}
	fputs("- **Community safety.** Police.uk anti-social behaviour incidents and each partner "
	      "source's categories are scanned as the crime types are (year on year), each partner's "
	      "categories one FDR family of their own; they carry no harm share (the CCHI weighs "
	      "crimes). A partner source whose events carry coordinates and no LSOA is counted in "
	      "the units of the layer (point in polygon).\n", o);
	fputs("- **Hot spots.** Getis-Ord Gi* on the micro-beats over the assessment period, "
	      "classes under the Benjamini-Hochberg FDR across micro-beats; patterns over the loaded "
	      "12-month periods ending with it; the previous 12 months' busiest micro-beats scored "
	      "as a forecast (hit rate, PAI, PEI, RRI).\n", o);
	fputs("- **Partner overlay.** Partner events within 100 m of a power-few micro-beat's snap "
	      "points (LSOA-only events counted in its LSOA, apart), and per unit by coordinates or "
	      "by LSOA or unit code, over the whole area for the assessment period.\n", o);
	fprintf(o, "- **Small numbers.** A percentage change is shown only when both counts are at "
		   "least %d, and always with its counts.\n", c->min_count_pct);
	fprintf(o, "- **Disclosure control.** In the publication table a count from 1 to %d is shown "
		   "as <%d (primary suppression); further cells are hidden (x) until every row and "
		   "column holds none or at least two hidden cells summing to at least %d and no "
		   "hidden cell is fixed by the totals (each lies on a cycle of hidden cells, so it "
		   "can move up and down with every total unchanged); zeros are shown.\n",
		c->suppress - 1, c->suppress, c->suppress);
	fputs("\n**References.** Weisburd, D. (2015), The law of crime concentration and the "
	      "criminology of place, *Criminology* 53(2). Sherman, L., Neyroud, P. and Neyroud, E. "
	      "(2016), The Cambridge Crime Harm Index, *Policing* 10(3). Benjamini, Y. and Hochberg, "
	      "Y. (1995), Controlling the false discovery rate, *JRSS B* 57(1). Benjamini, Y. and "
	      "Yekutieli, D. (2005), False discovery rate-adjusted multiple confidence intervals, "
	      "*JASA* 100. Spiegelhalter, D. (2005), Funnel plots for comparing institutional "
	      "performance, *Statistics in Medicine* 24. Hirsch, R., Slack, J. and Smith, R. (1982), "
	      "Techniques of trend analysis for monthly water quality data (seasonal Kendall), "
	      "*Water Resources Research* 18. Ord, J. K. and Getis, A. (1995), Local spatial "
	      "autocorrelation statistics, *Geographical Analysis* 27(4). Chainey, S., Tompson, L. "
	      "and Uhlig, S. (2008), The utility of hotspot mapping for predicting spatial patterns "
	      "of crime, *Security Journal* 21. Hundepool, A. et al. (2012), *Statistical Disclosure "
	      "Control*, Wiley. Full definitions: docs/methods*.md.\n", o);
}

/* LAYER_priorities.geojson: the layer's boundaries (from the file it was
 * loaded from) with the priority fields of flags-priorities.csv, for QGIS.
 * Returns 0, or 1 when it could not be written (said in the report). */
int as_layer_geojson(struct run *R, const struct csvtab *prio, char *why, size_t cap,
			 struct mb_error *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char path[4096] = "", field[256] = "";
	json_t *in = NULL, *out = NULL;
	char *text = NULL;
	int r = 1;

	if (sqlite3_open_v2(R->c->db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT path, method FROM layer WHERE name = ?", -1, &st, NULL) ==
		    SQLITE_OK &&
	    sqlite3_bind_text(st, 1, R->cfg->layer, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(st, 0);
		const char *m = (const char *)sqlite3_column_text(st, 1);
		const char *c = m ? strstr(m, "code=") : NULL;
		if (p)
			snprintf(path, sizeof path, "%s", p);
		if (c) {
			size_t n = strcspn(c + 5, " ");
			if (n < sizeof field) {
				memcpy(field, c + 5, n);
				field[n] = 0;
			}
		}
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (!path[0] || !field[0]) {
		snprintf(why, cap, "the layer was loaded without boundaries");
		goto cleanup;
	}
	json_error_t je;
	if (!(in = json_load_file(path, 0, &je))) {
		snprintf(why, cap, "its boundaries file %s cannot be read now", path);
		goto cleanup;
	}
	json_t *feats = json_object_get(in, "features");
	out = json_pack("{s:s, s:[]}", "type", "FeatureCollection", "features");
	if (!out || !json_is_array(feats)) {
		snprintf(why, cap, "its boundaries file %s holds no features", path);
		goto cleanup;
	}
	json_t *arr = json_object_get(out, "features");
	static const char *const cols[] = { "unit_code", "unit_name", "rank", "priority",
		"population", "harm_excess", "harm_rr", "p_harm_rr_gt_1", "categories_credible",
		"categories_flagged", "hot_streets_held", "hot_streets_expected", "why" };
	size_t i;
	json_t *f;
	json_array_foreach(feats, i, f) {
		const char *code = json_string_value(
			json_object_get(json_object_get(f, "properties"), field));
		long row = code ? as_row_of(prio, "unit_code", code) : -1;
		if (row < 0)
			continue;
		json_t *props = json_object(), *nf = json_object();
		if (!props || !nf) {
			json_decref(props);
			json_decref(nf);
			r = NOMEM(R);
			goto cleanup;
		}
		for (size_t k = 0; k < ARRAY_SIZE(cols); k++) {
			const char *v = as_fld(prio, (size_t)row, cols[k]);
			double x = as_num(v);
			json_object_set_new(props, cols[k],
					    k > 1 && k != 3 && k != 12 && !isnan(x) ? json_real(x)
										 : json_string(v));
		}
		json_object_set_new(nf, "type", json_string("Feature"));
		json_object_set_new(nf, "properties", props);
		json_object_set(nf, "geometry", json_object_get(f, "geometry"));
		json_array_append_new(arr, nf);
	}
	if (!(text = json_dumps(out, JSON_PRESERVE_ORDER | JSON_COMPACT | JSON_REAL_PRECISION(10)))) {
		r = NOMEM(R);
		goto cleanup;
	}
	char name[200], sl[100];
	as_slug(R->cfg->layer, sl, sizeof sl);
	snprintf(name, sizeof name, "%s_priorities.geojson", sl);
	if ((r = as_save(R->tmp, name, text, strlen(text), err)))
		goto cleanup;
	snprintf(why, cap, "%s", name);
	r = 0;
cleanup:
	free(text);
	json_decref(in);
	json_decref(out);
	return r;
}
