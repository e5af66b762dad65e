/*
 * assess_report — the sections of the assessment pack's report.md, written
 * from the steps' tables (tables/) and their own Markdown: the summary, the
 * scanning matrix, the review of current priorities, the candidates, one
 * section per analysis and the partner overlay; then report.html from it.
 */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "assess_internal.h"
#include "microbeat/emit.h"
#include "microbeat/select.h"

/* The first clause of a verdict (up to the first "; "). */
void as_first_clause(const char *s, char *out, size_t cap)
{
	const char *e = strstr(s, "; ");
	size_t n = e ? (size_t)(e - s) : strlen(s);
	if (n >= cap)
		n = cap - 1;
	memcpy(out, s, n);
	out[n] = 0;
}

/* "LAST vs PREV (+P%)": the percentage only when both counts reach the
 * stated minimum (a percentage of a handful misleads). */
void as_change_md(FILE *o, const struct run *R, const char *last, const char *prev)
{
	double a = as_num(last), b = as_num(prev);
	as_md(o, last);
	fputs(" vs ", o);
	as_md(o, prev);
	if (isnan(a) || isnan(b))
		return;
	if (a < R->cfg->min_count_pct || b < R->cfg->min_count_pct)
		fprintf(o, " (below %d: no percentage)", R->cfg->min_count_pct);
	else if (fabs(100.0 * (a - b) / b) < 0.5)
		fputs(" (0%)", o); /* not "-0%" */
	else
		fprintf(o, " (%+.0f%%)", 100.0 * (a - b) / b);
}

/* Below the minimum, trends' "HEAD: PCT year on year (CI LO to HI), SIG (p X)"
 * reads "HEAD: the year-on-year change is SIG (p X)" (docs/methods.md §6): a
 * percentage of a handful misleads in the verdict as in the counts beside
 * it, and the test still says what it judged ("Rising over the period" is
 * the long-run trend's headline: its year on year may be not significant).
 * Other clauses ("Too few crimes to judge ...", a rate ratio's "A against B
 * the year before ...") are printed as they are. */
void as_verdict_clause(const struct run *R, const char *verdict, const char *last,
		       const char *prev, char *out, size_t cap)
{
	double a = as_num(last), b = as_num(prev);
	char *head, *yoy, *sig, rest[400];

	as_first_clause(verdict, out, cap);
	if (isnan(a) || isnan(b) || (a >= R->cfg->min_count_pct && b >= R->cfg->min_count_pct))
		return;
	head = strstr(out, ": ");
	yoy = strstr(out, " year on year (");
	if (!head || !yoy || head > yoy || !(sig = strstr(yoy, "), ")))
		return;
	snprintf(rest, sizeof rest, "%s", sig + 3);
	snprintf(head + 2, cap - (size_t)(head + 2 - out), "the year-on-year change is %s", rest);
}

void as_long_run_test(const char *verdict, char *out, size_t cap)
{
	const char *lr = strstr(verdict, "; long-run trend "), *sig, *end;

	out[0] = '\0';
	if (!lr || !(sig = strstr(lr, "), ")))
		return;
	sig += 3;
	end = strstr(sig, "; ");
	snprintf(out, cap, "; the long-run trend is %.*s", (int)(end ? end - sig : (long)strlen(sig)),
		 sig);
}

/* The harm weight of each type (harm file, else the shipped CCHI). */
static double harm_weight(const struct csvtab *w, const char *type)
{
	for (size_t r = 0; r < w->nrows; r++)
		if (w->ncols >= 2 && strcmp(w->rows[r].f[0], type) == 0)
			return as_num(w->rows[r].f[1]);
	return NAN;
}

/* One priority place in a line: the categories it is credibly above
 * expectation on (observed, expected, shrunk rate ratio) and its share of
 * the power few. */
static void prio_brief(FILE *o, const struct csvtab *prio, size_t r, const struct csvtab *fm)
{
	const char *code = as_fld(prio, r, "unit_code");
	size_t k = 0;
	fputs("  - **", o);
	as_md(o, as_fld(prio, r, "unit_name"));
	fputs("** (rank ", o);
	as_md(o, as_fld(prio, r, "rank"));
	fputs("): ", o);
	for (size_t i = 0; i < fm->nrows; i++) {
		if (strcmp(as_fld(fm, i, "unit_code"), code) || strcmp(as_fld(fm, i, "credible"), "yes"))
			continue;
		fputs(k++ ? "; " : "above expectation on ", o);
		as_md(o, as_fld(fm, i, "category"));
		double e = as_num(as_fld(fm, i, "expected"));
		/* a small expectation to a tenth: "8 vs 0 expected" read as impossible */
		fprintf(o, " %.0f vs %.*f expected (RR %.2f)", as_num(as_fld(fm, i, "observed")),
			e < 10 ? 1 : 0, e, as_num(as_fld(fm, i, "rr_shrunk")));
	}
	if (!k)
		fputs("no single category credibly above expectation; a priority by harm", o);
	double held = as_num(as_fld(prio, r, "hot_streets_held"));
	if (!isnan(held) && held > 0)
		fprintf(o, "; holds %.0f of the categories' top-3%% streets, a street counted once "
			   "for each category it is hot in (%.0f expected from its share of streets)", held,
			as_num(as_fld(prio, r, "hot_streets_expected")));
	fputs(".\n", o);
}

/* Did a deep dive answer the domestic-abuse question (force extract loaded)? */
static int dive_has_da(const struct run *R)
{
	for (size_t i = 0; i < R->nsteps; i++)
		if (strncmp(R->steps[i].name, "deepdive-", 9) == 0 && R->steps[i].state == 1 &&
		    R->steps[i].md && strstr(R->steps[i].md, "Is domestic abuse driving the change?"))
			return 1;
	return 0;
}

/* A deep dive's answer in a line: its crimes against the previous period,
 * its rate against the rest of the district, and what drives the change by
 * domestic-abuse flag when the force extract is loaded. */
static void dive_brief(FILE *o, const struct run *R, const struct step *s)
{
	static const char DA[] = "Is domestic abuse driving the change?\n\n";
	char tn[200];
	struct csvtab c = { 0 };
	fputs("**", o);
	as_md(o, s->title + 11);
	fputs("**: ", o);
	snprintf(tn, sizeof tn, "%s-counts_by_type_year.csv", s->name);
	if (as_read_table(R, tn, &c) == 0 && c.nrows) {
		fputs("the selection recorded ", o);
		as_change_md(o, R, as_fld(&c, 0, "period"), as_fld(&c, 0, "previous period"));
		fputs(" crimes (this period vs the previous)", o);
		double a = as_num(as_fld(&c, 0, "per 1,000 residents"));
		double b = as_num(as_fld(&c, 0, "rest of district per 1,000"));
		if (!isnan(a) && !isnan(b))
			fprintf(o, "; %.1f per 1,000 residents against %.1f in the rest of the district",
				a, b);
		fputs(". ", o);
	}
	csvtab_release(&c);
	/* the DA answer: the paragraph under the deep dive's own heading */
	const char *h = s->md ? strstr(s->md, DA) : NULL;
	if (h) {
		h += sizeof DA - 1;
		const char *e = strstr(h, "\n\n");
		fputs("Domestic abuse: ", o);
		for (const char *q = h; *q && (!e || q < e); q++)
			fputc(*q == '\n' ? ' ' : *q, o);
	}
	fputs("\n", o);
}

static void summary(FILE *o, struct run *R, const struct csvtab *conc, const struct csvtab *yoy,
		    const struct csvtab *trend, const struct csvtab *prio, const struct csvtab *fm)
{
	fputs("## Summary\n\n", o);
	if (conc->nrows) {
		fputs("- **Micro-beats.** The busiest 3% of the ", o);
		as_md(o, as_measure(conc, "streets"));
		fputs(" streets hold ", o);
		as_pct(o, as_measure(conc, "top3_share"));
		fputs(" of the ", o);
		as_md(o, as_measure(conc, "crimes"));
		fputs(" crimes; chance alone would put ", o);
		as_pct(o, as_measure(conc, "chance_top3_share"));
		fputs(" there. Half of all crime is on ", o);
		as_pct(o, as_measure(conc, "bandwidth50"));
		fputs(" of streets, and ", o);
		as_pct(o, as_measure(conc, "crime_free_share"));
		fputs(" of streets had none.\n", o);
	} else {
		fputs("- **Micro-beats.** The concentration analysis did not run (see below).\n", o);
	}
	size_t rises = 0;
	for (size_t r = 0; r < trend->nrows; r++) {
		const char *v = as_fld(trend, r, "verdict");
		if (strncmp(v, "Rising", 6) != 0)
			continue;
		const char *series = as_fld(trend, r, "series");
		long y = as_row_of(yoy, "series", series);
		char clause[400];
		if (y >= 0)
			as_verdict_clause(R, v, as_fld(yoy, (size_t)y, "last12"),
					  as_fld(yoy, (size_t)y, "prev12"), clause, sizeof clause);
		else
			as_first_clause(v, clause, sizeof clause);
		fputs(rises++ ? "  - " : "- **Rises tested as real.** Year on year (last 12 months vs the 12 before):\n  - ", o);
		fputs("**", o);
		as_md(o, strcmp(series, "Total") ? series : "All crime");
		fputs("**: ", o);
		if (y >= 0)
			as_change_md(o, R, as_fld(yoy, (size_t)y, "last12"), as_fld(yoy, (size_t)y, "prev12"));
		fputs(" — ", o);
		as_md(o, clause);
		fputs(".\n", o);
	}
	if (!rises)
		fputs("- **Rises.** No crime type rose beyond what chance and the usual month-to-month "
		      "swing explain.\n", o);
	else
		fprintf(o, "  - What they cannot tell: whether a rise is more crime or more recording "
			   "(police.uk gives recorded crime only), and nothing below the police.uk "
			   "category (no offence subgroup, no domestic-abuse flag)%s.\n",
			dive_has_da(R) ? "; the deep dives below answer those from the force "
					 "extract for their places"
				       : "");
	size_t np = 0;
	for (size_t r = 0; r < prio->nrows; r++) {
		if (strcmp(as_fld(prio, r, "priority"), "yes") != 0)
			continue;
		if (!np++)
			fprintf(o, "- **Geographic priorities** (%s over %s..%s against what the "
				   "unit's residents predict, after shrinkage; the full reasons are "
				   "under the candidate priorities):\n",
				R->nagencies ? "crimes and partner events" : "crimes", R->win_from, R->win_to);
		prio_brief(o, prio, r, fm);
	}
	if (!np)
		fputs(R->cfg->layer ? "- **Geographic priorities.** No unit of the layer met the "
				      "priority rule.\n"
				    : "- **Geographic priorities.** No area layer was configured "
				      "(`layer =` in [assessment]).\n",
		      o);
	size_t nd = 0;
	for (size_t i = 0; i < R->nsteps; i++) {
		const struct step *s = &R->steps[i];
		if (strncmp(s->name, "deepdive-", 9) != 0 || s->state != 1 || !s->md)
			continue;
		fputs(nd++ ? "  - " : "- **Deep dives:**\n  - ", o);
		dive_brief(o, R, s);
	}
	if (!nd)
		fputs(R->cfg->ndives ? "- **Deep dives.** None ran (see their section).\n"
				     : "- **Deep dives.** None configured.\n",
		      o);
	fputs("\n", o);
}

/* The concentration cell of category series (agency 0 = police data):
 * the top-3% share, or why there is none. */
static void conc_cell(FILE *o, const struct run *R, size_t agency, const char *series)
{
	char name[128];
	struct csvtab c = { 0 };
	int got = 0;
	if (!agency && strcmp(series, "Total") == 0) {
		got = as_read_table(R, "concentration-concentration.csv", &c) == 0;
	} else {
		as_conc_name(agency, series, name, sizeof name);
		const struct step *cs = as_find_step(R, name);
		struct mb_error e = { 0 };
		if (cs && cs->md)
			got = csvtab_read_mem(cs->title, cs->md, cs->mdlen, &c, &e) == 0;
	}
	if (!got)
		fputs("–", o);
	else if (as_num(as_measure(&c, "crimes")) == 0)
		fputs("n/a: not on streets", o); /* LSOA or coordinates only, no snap point */
	else
		as_pct(o, as_measure(&c, "top3_share"));
	csvtab_release(&c);
}

/* One row of the matrix: category, source, change, verdict, harm, concentration. */
static void matrix_row(FILE *o, const struct run *R, const struct csvtab *yoy, size_t r,
		       const struct csvtab *trend, const char *label, const char *source,
		       size_t agency, const char *harm)
{
	const char *series = as_fld(yoy, r, "series");
	long t = as_row_of(trend, "series", series);
	char clause[400] = "";
	if (t >= 0)
		as_verdict_clause(R, as_fld(trend, (size_t)t, "verdict"), as_fld(yoy, r, "last12"),
				  as_fld(yoy, r, "prev12"), clause, sizeof clause);
	fputs("| ", o);
	as_md(o, label ? label : series);
	fputs(" | ", o);
	as_md(o, source);
	fputs(" | ", o);
	as_change_md(o, R, as_fld(yoy, r, "last12"), as_fld(yoy, r, "prev12"));
	fputs(" | ", o);
	as_md(o, clause);
	fprintf(o, " | %s | ", harm);
	conc_cell(o, R, agency, series);
	fputs(" |\n", o);
}

/* The community-safety rows of one scan step (police ASB or a partner source). */
static size_t community_rows(FILE *o, struct run *R, const struct step *s)
{
	char yn[200], tn[200];
	struct csvtab y = { 0 }, t = { 0 };
	size_t n = 0;
	if (!s || s->state != 1)
		return 0;
	snprintf(yn, sizeof yn, "%s-yoy.csv", s->name);
	snprintf(tn, sizeof tn, "%s-trend.csv", s->name);
	if (as_read_table(R, yn, &y) == 0 && as_read_table(R, tn, &t) == 0) {
		const char *src = s->agency ? R->agencies[s->agency - 1].name : "police.uk (incidents)";
		for (size_t r = 0; r < y.nrows; r++) {
			const char *series = as_fld(&y, r, "series");
			if (as_num(as_fld(&y, r, "last12")) == 0 && as_num(as_fld(&y, r, "prev12")) == 0)
				continue; /* another source's category */
			if (!s->agency && strcmp(series, "Total") == 0)
				continue; /* ASB alone: its total is its one row */
			n++;
			matrix_row(o, R, &y, r, &t,
				   strcmp(series, "Total") == 0 ? "All events of the source" : NULL, src,
				   s->agency, "n/a");
		}
	}
	csvtab_release(&y);
	csvtab_release(&t);
	return n;
}

/* Is series a category some partner source recorded in the two years? */
static int partner_category(const struct run *R, const char *series)
{
	for (size_t i = 0; i < R->nsteps; i++) {
		const struct step *s = &R->steps[i];
		char yn[200];
		struct csvtab y = { 0 };
		if (!s->agency || strncmp(s->name, "agency-", 7) != 0 || s->state != 1)
			continue;
		snprintf(yn, sizeof yn, "%s-yoy.csv", s->name);
		long r = as_read_table(R, yn, &y) ? -1 : as_row_of(&y, "series", series);
		int hit = r >= 0 && (as_num(as_fld(&y, (size_t)r, "last12")) != 0 ||
				     as_num(as_fld(&y, (size_t)r, "prev12")) != 0);
		csvtab_release(&y);
		if (hit)
			return 1;
	}
	return 0;
}

static void scanning(FILE *o, struct run *R, const struct csvtab *yoy, const struct csvtab *trend,
		     const struct csvtab *w)
{
	fputs("## Scanning matrix\n\n", o);
	if (!yoy->nrows) {
		as_missing(o, as_step_named(R, "scan"), "trends", "the scan of every crime type");
		return;
	}
	fprintf(o, "Every crime type and community-safety category in %s: volume in the last 12 "
		   "months against the 12 before (%s..%s), the tested verdict, the share of harm "
		   "(Cambridge Crime Harm Index days; crimes only) and how concentrated it is (share "
		   "of the category's events on its busiest 3%% of streets). A percentage change is "
		   "shown only when both counts are at least %d, in the counts and in the verdict. "
		   "The source column says where each row comes from: police.uk crimes, police.uk "
		   "anti-social behaviour incidents, or a partner's own records. The police.uk crime "
		   "types are tested together as one family under the FDR, and so are each partner's "
		   "categories: a type's verdict here can differ from its verdict in a theme below, "
		   "where the theme's types are a smaller family of their own.\n\n",
		R->label, R->win_from, R->win_to, R->cfg->min_count_pct);
	double total = 0;
	for (size_t r = 0; r < yoy->nrows; r++) {
		double h = harm_weight(w, as_fld(yoy, r, "series"));
		double n = as_num(as_fld(yoy, r, "last12"));
		if (strcmp(as_fld(yoy, r, "series"), "Total") && !isnan(h) && !isnan(n))
			total += h * n;
	}
	fputs("| Category | Source | Last 12 months vs previous 12 | Verdict | Harm share (CCHI) | "
	      "Top 3% of streets hold |\n| --- | --- | --- | --- | ---: | ---: |\n", o);
	size_t nzero = 0;
	for (size_t r = 0; r < yoy->nrows; r++) {
		const char *series = as_fld(yoy, r, "series");
		if (as_num(as_fld(yoy, r, "last12")) == 0 && as_num(as_fld(yoy, r, "prev12")) == 0) {
			nzero++; /* named below the table */
			continue;
		}
		char harm[32] = "–";
		double h = harm_weight(w, series), n = as_num(as_fld(yoy, r, "last12"));
		if (strcmp(series, "Total") == 0)
			snprintf(harm, sizeof harm, "100%%");
		else if (!isnan(h) && !isnan(n) && total > 0)
			snprintf(harm, sizeof harm, "%.1f%%", 100.0 * h * n / total);
		matrix_row(o, R, yoy, r, trend, strcmp(series, "Total") ? NULL : "All crime",
			   "police.uk crimes", 0, harm);
	}
	size_t ncs = community_rows(o, R, as_step_named(R, "asb"));
	for (size_t i = 0; i < R->nsteps; i++)
		if (strncmp(R->steps[i].name, "agency-", 7) == 0)
			ncs += community_rows(o, R, &R->steps[i]);
	fputs("\nA category with fewer events than 3% of the streets has all of them on its busiest "
	      "3% by construction (100%); read its concentration from its count.", o);
	if (R->nagencies)
		fputs(" Partner events recorded with an LSOA code or coordinates only are not on a "
		      "police.uk street: their concentration is n/a, and the partner overlay places "
		      "them.", o);
	fputs("\n\n", o);
	for (size_t k = 0; k < R->nagencies; k++) {
		if (!R->agencies[k].by_layer)
			continue;
		as_md(o, R->agencies[k].name);
		fputs(" records coordinates only (no LSOA): its events are counted in the units of "
		      "the layer ", o);
		as_md(o, R->cfg->layer);
		fputs(" (point in polygon), the other rows in the area's LSOAs.\n\n", o);
	}
	if (!ncs)
		fputs("No community-safety category beyond crime was loaded (police.uk anti-social "
		      "behaviour and partner data: `microbeat import --map`).\n\n", o);
	for (size_t r = 0; r < yoy->nrows; r++)
		if (as_num(as_fld(yoy, r, "last12")) == 0 && as_num(as_fld(yoy, r, "prev12")) == 0 &&
		    partner_category(R, as_fld(yoy, r, "series")))
			nzero--; /* a partner's category, in the matrix from its source */
	if (nzero) {
		fputs("No police.uk crime in either year: ", o);
		for (size_t r = 0, k = 0; r < yoy->nrows; r++) {
			if (as_num(as_fld(yoy, r, "last12")) != 0 || as_num(as_fld(yoy, r, "prev12")) != 0 ||
			    partner_category(R, as_fld(yoy, r, "series")))
				continue;
			if (k++)
				fputs(", ", o);
			as_md(o, as_fld(yoy, r, "series"));
		}
		fputs(".\n\n", o);
	}
}

/* Sum observed (or another column) over the categories of one unit. */
static double unit_sum(const struct csvtab *fm, const char *unit, const char *col)
{
	double s = 0;
	for (size_t r = 0; r < fm->nrows; r++)
		if (strcmp(as_fld(fm, r, "unit_name"), unit) == 0 || strcmp(as_fld(fm, r, "unit_code"), unit) == 0) {
			double v = as_num(as_fld(fm, r, col));
			if (!isnan(v))
				s += v;
		}
	return s;
}

/* Carrier for the review's per-item callbacks. */
struct review {
	FILE *o;                 /* report */
	struct run *R;           /* run */
	const struct csvtab *prio, *fm; /* priorities.csv, flags_matrix.csv */
};

static int review_place(void *u, const char *place)
{
	struct review *rv = u;
	FILE *o = rv->o;
	fputs("| ", o);
	as_md(o, place);
	fputs(" | ", o);
	long r = as_row_of(rv->prio, "unit_name", place);
	if (r < 0)
		r = as_row_of(rv->prio, "unit_code", place);
	if (r < 0) {
		fputs("not a unit of the layer | | |\n", o);
		return 0;
	}
	char last[32], prev[32];
	snprintf(last, sizeof last, "%.0f", unit_sum(rv->fm, as_fld(rv->prio, (size_t)r, "unit_code"), "rise_later"));
	snprintf(prev, sizeof prev, "%.0f", unit_sum(rv->fm, as_fld(rv->prio, (size_t)r, "unit_code"), "rise_earlier"));
	as_change_md(o, rv->R, last, prev);
	fputs(" | rank ", o);
	as_md(o, as_fld(rv->prio, (size_t)r, "rank"));
	fprintf(o, ", harm RR %.2f", as_num(as_fld(rv->prio, (size_t)r, "harm_rr")));
	fputs(", credible on ", o);
	as_md(o, as_fld(rv->prio, (size_t)r, "categories_credible"));
	fputs(" categories | ", o);
	fputs(strcmp(as_fld(rv->prio, (size_t)r, "priority"), "yes") == 0 ? "still a priority"
									 : "no longer meets the rule",
	      o);
	fputs(" |\n", o);
	return 0;
}

static int review_theme(void *u, const char *theme)
{
	struct review *rv = u;
	FILE *o = rv->o;
	char name[64], sl[48], tn[120];
	as_slug(theme, sl, sizeof sl);
	snprintf(name, sizeof name, "theme-%s", sl);
	snprintf(tn, sizeof tn, "%s-trend.csv", name);
	fputs("| ", o);
	as_md(o, theme);
	fputs(" | ", o);
	struct csvtab y = { 0 }, t = { 0 };
	char yn[120];
	snprintf(yn, sizeof yn, "%s-yoy.csv", name);
	if (!as_find_step(rv->R, name) || as_read_table(rv->R, yn, &y) || as_read_table(rv->R, tn, &t)) {
		fputs("the theme's trends did not run | | |\n", o);
	} else {
		as_change_md(o, rv->R, as_fld(&y, 0, "last12"), as_fld(&y, 0, "prev12"));
		char clause[400];
		as_verdict_clause(rv->R, as_fld(&t, 0, "verdict"), as_fld(&y, 0, "last12"),
				  as_fld(&y, 0, "prev12"), clause, sizeof clause);
		fputs(" | ", o);
		as_md(o, clause);
		fputs(" | ", o);
		fputs(strncmp(clause, "Rising", 6) == 0 ? "rising: still a priority" : "not rising", o);
		fputs(" |\n", o);
	}
	csvtab_release(&y);
	csvtab_release(&t);
	return 0;
}

static void review(FILE *o, struct run *R, const struct csvtab *prio, const struct csvtab *fm)
{
	struct review rv = { o, R, prio, fm };
	fputs("## Review of current priorities\n\n", o);
	if (!R->cfg->prev_places && !R->cfg->prev_themes) {
		fputs("_The config names no priorities from the last assessment ([previous] places, "
		      "themes)._\n\n", o);
		return;
	}
	fprintf(o, "What changed since the last assessment in each of its priorities: the last 12 "
		   "months (to %s) against the 12 before.\n\n", R->win_to);
	if (R->cfg->prev_places) {
		fputs("| Place | Crimes, last 12 vs previous 12 | Where it stands now | Verdict |\n"
		      "| --- | --- | --- | --- |\n", o);
		as_each_item(R->cfg->prev_places, review_place, &rv);
		fputs("\n", o);
	}
	if (R->cfg->prev_themes) {
		fputs("| Theme | Crimes, last 12 vs previous 12 | Tested verdict | Now |\n"
		      "| --- | --- | --- | --- |\n", o);
		as_each_item(R->cfg->prev_themes, review_theme, &rv);
		fputs("\n", o);
	}
}

static void candidates(FILE *o, struct run *R, const struct csvtab *prio, const struct csvtab *yoy,
		       const struct csvtab *trend)
{
	fputs("## Candidate priorities\n\n"
	      "The evidence behind each candidate for the coming year; the recommendations are "
	      "the analyst's.\n\n", o);
	size_t n = 0;
	for (size_t r = 0; r < prio->nrows; r++) {
		if (strcmp(as_fld(prio, r, "priority"), "yes") != 0)
			continue;
		n++;
		fputs("- Place: **", o);
		as_md(o, as_fld(prio, r, "unit_name"));
		fputs("** — ", o);
		as_md(o, as_fld(prio, r, "why"));
		fputs("\n", o);
	}
	for (size_t r = 0; r < trend->nrows; r++) {
		const char *series = as_fld(trend, r, "series");
		if (strncmp(as_fld(trend, r, "verdict"), "Rising", 6) != 0 || strcmp(series, "Total") == 0)
			continue;
		n++;
		long y = as_row_of(yoy, "series", series);
		fputs("- Crime type: **", o);
		as_md(o, series);
		fputs("** — ", o);
		const char *v = as_fld(trend, r, "verdict");
		char clause[400];
		if (y >= 0) {
			const char *last = as_fld(yoy, (size_t)y, "last12"), *prev = as_fld(yoy, (size_t)y, "prev12");
			as_change_md(o, R, last, prev);
			/* the whole verdict, but below the minimum its first clause
			 * and its long-run trend's test without percentages (the other
			 * clauses carry them too) */
			if (as_num(last) < R->cfg->min_count_pct || as_num(prev) < R->cfg->min_count_pct) {
				char lr[200];
				size_t k;

				as_verdict_clause(R, v, last, prev, clause, sizeof clause);
				as_long_run_test(v, lr, sizeof lr);
				k = strlen(clause);
				snprintf(clause + k, sizeof clause - k, "%s", lr);
				v = clause;
			}
		}
		fputs("; ", o);
		as_md(o, v);
		fputs("\n", o);
	}
	if (!n)
		fputs("_No place met the priority rule and no crime type rose beyond chance._\n", o);
	fputs("\n", o);
}

int as_write_report(struct run *R, struct mb_error *err)
{
	const struct assess_config *cfg = R->cfg;
	struct csvtab conc = { 0 }, yoy = { 0 }, trend = { 0 }, prio = { 0 }, fm = { 0 }, hot = { 0 },
		      w = { 0 };
	char *md = NULL;
	size_t mdlen = 0;
	FILE *o = NULL;
	int r = 0;

	if (!R->c->quiet)
		fprintf(R->c->msg, "assess: writing the report\n");
	as_read_table(R, "concentration-concentration.csv", &conc);
	as_read_table(R, "concentration-hot_streets.csv", &hot);
	as_read_table(R, "scan-yoy.csv", &yoy);
	as_read_table(R, "scan-trend.csv", &trend);
	as_read_table(R, "flags-priorities.csv", &prio);
	as_read_table(R, "flags-flags_matrix.csv", &fm);
	{
		char wp[4096];
		struct mb_error e = { 0 };
		if (cfg->harm)
			snprintf(wp, sizeof wp, "%s", cfg->harm);
		if (cfg->harm || mb_data_path("harm_cchi.csv", wp, sizeof wp, &e) == 0)
			csvtab_read(wp, &w, &e);
	}

	if (!(o = open_memstream(&md, &mdlen))) {
		r = NOMEM(R);
		goto cleanup;
	}
	char title[300];
	snprintf(title, sizeof title, "Strategic assessment: %s, %s",
		 cfg->area ? cfg->area : "all loaded areas", R->label);
	fputs("# ", o);
	as_md(o, title);
	fputs("\n\n", o);
	as_generated(o, R);
	if (R->defaults_used)
		fputs("_No config was given: the defaults were used (everything loaded, the 12 months "
		      "to the latest loaded month, no area layer, no themes, no deep dives); "
		      "`assessment.ini` lists them._\n\n", o);
	summary(o, R, &conc, &yoy, &trend, &prio, &fm);
	scanning(o, R, &yoy, &trend, &w);
	review(o, R, &prio, &fm);
	candidates(o, R, &prio, &yoy, &trend);
	as_sections(o, R, &hot, &fm);
	if ((r = as_publication(o, R, &fm, err)))
		goto cleanup;
	if (cfg->layer && prio.nrows) {
		char gj[600];
		int g = as_layer_geojson(R, &prio, gj, sizeof gj, err);
		if (g < 0) {
			r = g;
			goto cleanup;
		}
		fputs("## Maps\n\n", o);
		if (g == 0) {
			/* the file's name in a code span as it is (a span shows a
			 * Markdown escape as typed: "parish\_priorities"); it is the
			 * layer's slug (letters, digits, '-') and "_priorities.geojson" */
			fputs("The priorities of every unit, with the unit's boundary, are in `", o);
			if (strchr(gj, '`'))
				as_md(o, gj);
			else
				fputs(gj, o);
			fputs("` (fields as in `tables/flags-priorities.csv`); the power few are in "
			      "`hot_streets.geojson`. Both open in QGIS.\n\n", o);
		} else {
			fputs("_No priorities map: ", o);
			as_md(o, gj);
			fputs("._ The power few are in `hot_streets.geojson`.\n\n", o);
		}
	}
	as_ledger(o, R, &conc);
	as_methods(o, R);
	if (fclose(o)) {
		o = NULL;
		r = NOMEM(R);
		goto cleanup;
	}
	o = NULL;
	if ((r = as_save(R->tmp, "report.md", md, mdlen, err)))
		goto cleanup;
	/* written straight to its file (a national pack's is ~50 MB), atomically */
	struct emit_file hf;

	if ((r = emit_open_atomic(R->tmp, "report.html", &hf, err)))
		goto cleanup;
	r = assess_render_html(md, mdlen, title, R->tmp, hf.fp, err);
	if (r)
		emit_abort_atomic(&hf);
	else
		r = emit_commit_atomic(&hf, err);
cleanup:
	if (o)
		fclose(o);
	csvtab_release(&conc);
	csvtab_release(&yoy);
	csvtab_release(&trend);
	csvtab_release(&prio);
	csvtab_release(&fm);
	csvtab_release(&hot);
	csvtab_release(&w);
	free(md);
	return r;
}
