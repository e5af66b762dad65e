/* conc_report — how 'microbeat concentration' shows its figures on stdout:
 * the headline, the console tables, and --format md's plain words. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "microbeat/emit.h"
#include "microbeat/util.h"
#include "cmd_concentration_internal.h"

/* Say how many events of the period in the area have no coordinates. */
static void print_no_street(int64_t no_street, FILE *out)
{
	if (no_street)
		fprintf(out, "%lld events in the area have no coordinates (placed by LSOA or unit"
			" code): in no street's count.\n", (long long)no_street);
}

/* Plain-English names of the measures for --format md, and how to show
 * each value: 'p' a share as a percentage with one decimal, 'i' a count,
 * 'g' a coefficient with three decimals, 't' text as it is. A measure not
 * listed keeps its machine name and a general format. */
static const struct { const char *name, *words; char style; } MD_MEASURES[] = {
	{ "streets", "Micro-beats (N)", 'i' },
	{ "streets_active", "Micro-beats with crime", 'i' },
	{ "crimes", "Crimes", 'i' },
	{ "crimes_unlocated", "Crimes with no location (force-wide)", 'i' },
	{ "top1_share", "Share of crime on the top 1% of micro-beats", 'p' },
	{ "top3_share", "Share of crime on the top 3%", 'p' },
	{ "top5_share", "Share of crime on the top 5%", 'p' },
	{ "top10_share", "Share of crime on the top 10%", 'p' },
	{ "top20_share", "Share of crime on the top 20%", 'p' },
	{ "crime_free_share", "Crime-free micro-beats", 'p' },
	{ "bandwidth25", "Micro-beats holding a quarter of crime", 'p' },
	{ "bandwidth50", "Micro-beats holding half of crime", 'p' },
	{ "gini", "Gini coefficient", 'g' },
	{ "gini_generalized", "Generalised Gini", 'g' },
	{ "gini_generalized_bias_corrected", "Generalised Gini, bias-corrected", 'g' },
	{ "gini_generalized_ci_low", "Generalised Gini, 95% interval from", 'g' },
	{ "gini_generalized_ci_high", "Generalised Gini, 95% interval to", 'g' },
	{ "universe_gazetteer", "Universe from a gazetteer (1 = yes)", 'i' },
	{ "universe_frozen", "Universe frozen (1 = yes)", 'i' },
	{ "universe_months", "Months the universe rests on", 'i' },
	{ "universe_first_month", "First of them", 't' },
	{ "universe_last_month", "Last of them", 't' },
	{ "hot_n", "Power few listed (n)", 'i' },
	{ "hot_tied_added", "Tied with the n-th, listed too", 'i' },
	{ "crimes_outside_universe_kind", "Crimes on micro-beats outside the universe or kind", 'i' },
	{ "chance_draws", "Chance simulations", 'i' },
	{ "chance_top3_share", "Top 3% share by chance alone", 'p' },
	{ "chance_top3_share_low", "By chance, 95% range from", 'p' },
	{ "chance_top3_share_high", "By chance, 95% range to", 'p' },
	{ "chance_top3_share_poisson", "By chance (Poisson approximation)", 'p' },
	{ "excess_top3_share", "Top 3% share beyond chance (points)", 'p' },
	{ "chance_gini", "Gini by chance alone", 'g' },
	{ "chance_gini_poisson", "Gini by chance (Poisson approximation)", 'g' },
	{ "excess_gini", "Gini beyond chance", 'g' },
	{ "harm_total", "Harm (CCHI days)", 'i' },
	{ "harm_top1_share", "Share of harm on the top 1%", 'p' },
	{ "harm_top3_share", "Share of harm on the top 3%", 'p' },
	{ "harm_top5_share", "Share of harm on the top 5%", 'p' },
	{ "harm_top10_share", "Share of harm on the top 10%", 'p' },
	{ "harm_top20_share", "Share of harm on the top 20%", 'p' },
	{ "harm_bandwidth50", "Micro-beats holding half of harm", 'p' },
	{ "harm_gini", "Gini of harm", 'g' },
	{ "previous_crimes", "Crimes in the previous period", 'i' },
	{ "stability_jaccard_top3", "Hot list overlap with the previous period (Jaccard)", 'g' },
	{ "stability_spearman", "Rank correlation with the previous period (Spearman)", 'g' },
	{ "hot_persistent", "Hot in both periods", 'i' },
	{ "hot_emerging", "Hot now only (emerging)", 'i' },
	{ "hot_former", "Hot before only (former)", 'i' },
};

/* The measures table as --format md shows it (plain words, percentages). */
static int md_measures(const struct table *m, struct table *t, struct mb_error *err)
{
	static const char *const cols[] = { "Measure", "Value" };
	int r;

	if ((r = table_init(t, "Concentration", cols, 2, err)))
		return r;
	for (size_t i = 0; i < m->nrows; i++) {
		const struct table_cell *name = &m->cells[i * 2], *v = &m->cells[i * 2 + 1];
		const char *words = name->text;
		char style = 0, buf[64] = "";
		double x = v->kind == TABLE_DOUBLE ? v->d : (double)v->i;
		size_t row;

		for (size_t k = 0; k < ARRAY_SIZE(MD_MEASURES); k++)
			if (strcmp(MD_MEASURES[k].name, name->text) == 0) {
				words = MD_MEASURES[k].words;
				style = MD_MEASURES[k].style;
			}
		if (v->kind == TABLE_TEXT)
			snprintf(buf, sizeof(buf), "%s", v->text);
		else if (v->kind == TABLE_BLANK || !isfinite(x))
			buf[0] = '\0';
		else if (style == 'p')
			snprintf(buf, sizeof(buf), "%.1f%%", 100 * x);
		else if (style == 'g')
			snprintf(buf, sizeof(buf), "%.3f", x);
		else if (style == 'i' || v->kind == TABLE_INT)
			snprintf(buf, sizeof(buf), "%.0f", x);
		else
			snprintf(buf, sizeof(buf), "%.4g", x);
		if ((r = table_add_row(t, &row, err)) || (r = table_set_text(t, row, 0, words, err)) ||
		    (r = buf[0] ? table_set_text(t, row, 1, buf, err) : table_set_blank(t, row, 1, err)))
			return r;
	}
	return 0;
}

/* The power-few list as --format md shows it: where each row is in words
 * (the label, every layer's unit, the LSOA name), its figures, plain column
 * names; coordinates and codes stay in the CSV. */
static int md_hot(const struct conc_run *cr, const struct table *h, struct table *t,
		  struct mb_error *err)
{
	/* machine column -> words, in the order shown; the layers' units follow "Where" */
	static const struct { const char *col, *words; } KEEP[] = {
		{ "rank", "Rank" }, { "label", "Where" }, { "lsoa_name", "LSOA" },
		{ "cutoff_tie", "Tied at the cut-off" }, { "crimes", "Crimes" }, { "harm", "Harm (days)" },
		{ "previous_crimes", "Crimes before" }, { "change", "Change" }, { "class", "Hot list" },
		{ "dominant_types", "Main crime types" },
	};
	const char *words[64];
	size_t src[64], n = 0;
	char layer_words[16][64];
	int r;

	for (size_t k = 0; k < ARRAY_SIZE(KEEP); k++) {
		const char *col = KEEP[k].col;

		if ((!cr->harm && strcmp(col, "harm") == 0) ||
		    (!cr->compare && (strcmp(col, "previous_crimes") == 0 ||
				      strcmp(col, "change") == 0 || strcmp(col, "class") == 0)))
			continue;
		for (size_t c = 0; c < h->ncols; c++)
			if (strcmp(h->cols[c], col) == 0) {
				words[n] = KEEP[k].words;
				src[n++] = c;
			}
		/* the layer columns follow build_hot's head[] */
		for (size_t j = 0; strcmp(col, "label") == 0 && j < cr->ll.n && j < 16; j++) {
			snprintf(layer_words[j], sizeof(layer_words[j]), "%s", cr->ll.name[j]);
			if (layer_words[j][0] >= 'a' && layer_words[j][0] <= 'z')
				layer_words[j][0] = (char)(layer_words[j][0] - 32);
			words[n] = layer_words[j];
			src[n++] = HOT_HEAD + j;
		}
	}
	if ((r = table_init(t, h->title, words, n, err)))
		return r;
	for (size_t i = 0; i < h->nrows; i++) {
		size_t row;

		if ((r = table_add_row(t, &row, err)))
			return r;
		for (size_t c = 0; c < n; c++) {
			const struct table_cell *v = &h->cells[i * h->ncols + src[c]];

			r = v->kind == TABLE_TEXT ? table_set_text(t, row, c, v->text, err)
			  : v->kind == TABLE_INT ? table_set_int(t, row, c, v->i, err)
			  : v->kind == TABLE_DOUBLE ? table_set_double(t, row, c, v->d, v->prec, err)
			  : table_set_blank(t, row, c, err);
			if (r)
				return r;
		}
	}
	return 0;
}

/* The headline and the tables on out (cmd_concentration_internal.h). */
int conc_print_report(const struct conc_run *cr, const struct table *m, const struct table *h,
		      enum report_format format, FILE *out, struct mb_error *err)
{
	const struct conc_result *r = cr->res;
	int rc;

	if (format == REPORT_CSV) /* the measures only, machine-readable */
		return table_write_csv(m, out, err);
	char ua[8] = "", ub[8] = "", basis[160];

	if (cr->umonths) {
		month_format(cr->ufrom, ua);
		month_format(cr->uto, ub);
	}
	/* the observed universe grows with every import: say what it rests on */
	snprintf(basis, sizeof(basis), "%s: micro-beats seen in %d loaded months, %s..%s%s",
		 cr->uni.present ? "frozen observed universe, lower bound"
				 : "observed universe, lower bound",
		 (int)cr->umonths, ua, ub, cr->gazetteer ? ", plus the gazetteer's streets" : "");
	fprintf(out, "%s, %s: %zu streets (%s); crimes exclude %s.\n", MB_SHOWN(cr->sl.scope_label),
		cr->sel.period_label, cr->b.n, basis,
		cr->sel.ntypes ? "types not selected" : "Anti-social behaviour (an incident type)");
	if (r->crimes > 0)
		fprintf(out,
			"%.0f%% of streets hold %.0f%% of crime (chance alone: %.0f%%); %.0f%% are"
			" crime-free; half of all crime is on %.1f%% of streets. Gini %.3f"
			" (generalised %.3f; by chance %.3f). Force-wide, %lld crimes had no location"
			" (police.uk gives no area-level figure).\n",
			100.0 * (double)r->top_n[CONC_TOP3] / (double)(r->n_streets ? r->n_streets : 1),
			100 * r->top_share[CONC_TOP3],
			100 * (isfinite(r->chance.top_mean[CONC_TOP3]) ? r->chance.top_mean[CONC_TOP3]
								       : r->chance.top_poisson[CONC_TOP3]),
			100 * r->crime_free_share, 100 * r->band50, r->gini, r->gini_gen,
			isfinite(r->chance.gini_mean) ? r->chance.gini_mean : r->chance.gini_poisson,
			(long long)cr->b.unlocated);
	select_print_months(&cr->sel, out);
	select_print_sources(&cr->sel, &cr->sl, out);
	print_no_street(cr->b.placed_no_street, out);
	fputc('\n', out);
	if (format == REPORT_MD) {
		struct table mm = { 0 }, mh = { 0 };

		if (!(rc = md_measures(m, &mm, err)) && !(rc = md_hot(cr, h, &mh, err)) &&
		    !(rc = table_write_md(&mm, out, err)) && fputc('\n', out) == EOF)
			rc = mb_err(err, MB_EIO, "write error");
		if (!rc)
			rc = table_write_md(&mh, out, err);
		table_release(&mm);
		table_release(&mh);
		return rc;
	}
	if ((rc = table_write_console(m, 4, m->nrows, out, err)) || fputc('\n', out) == EOF)
		return rc ? rc : mb_err(err, MB_EIO, "write error");
	/* the console shows the head of a long list; the files hold all of it */
	if ((rc = table_write_console(h, 6, SHOWN_HOT, out, err)))
		return rc;
	if (h->nrows > SHOWN_HOT)
		fprintf(out, "... and %zu more (all in hot_streets.csv with --out)\n", h->nrows - SHOWN_HOT);
	return 0;
}

