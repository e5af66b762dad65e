/*
 * assess_sections — the analysis sections of the assessment pack's report:
 * micro-beats, trends, places, deep dives, hot spots and the partner
 * overlay, each from its step's tables and Markdown, with its charts.
 */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "assess_internal.h"
#include "microbeat/emit.h"
#include "microbeat/plot.h"

/* The hot-spot step's console summary as a list, less its forecast table
 * (given from forecast.csv below); indented lines continue the item. */
static void hotspot_lines(FILE *o, const struct step *s)
{
	const char *p = s->md;
	int skip = 0;
	while (p && *p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char line[1200];
		snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), p);
		p += n + (e != NULL);
		if (strncmp(line, "Forecast accuracy of the previous", 33) == 0)
			skip = 1;
		if (!line[0])
			skip = 0;
		if (skip || !line[0])
			continue;
		fputs(line[0] == ' ' ? "  " : "- ", o);
		as_md(o, line[0] == ' ' ? line + strspn(line, " ") : line);
		fputs("\n", o);
	}
	fputs("\n", o);
}

/* Hot spots (Gi*), their patterns over the periods, and how well last
 * period's hot list forecast this one. */
static void hotspots(FILE *o, struct run *R)
{
	const struct step *s = as_step_named(R, "hotspots");
	struct csvtab f = { 0 };
	fputs("## Hotspots\n\n", o);
	if (!s || s->state != 1) {
		as_missing(o, s, "hotspots", "hotspots");
		return;
	}
	hotspot_lines(o, s);
	if (as_read_table(R, "hotspots-forecast.csv", &f) == 0 && f.nrows) {
		fputs("**Forecast: last period's busiest micro-beats as this period's hot list**\n\n"
		      "| Top % listed | Micro-beats listed | Crimes on them (of all) | Hit rate | PAI | "
		      "PEI | RRI | Also in this period's top list |\n"
		      "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n", o);
		for (size_t r = 0; r < f.nrows; r++) {
			fputs("| ", o);
			as_md(o, as_fld(&f, r, "top_pct"));
			fputs("% | ", o);
			as_md(o, as_fld(&f, r, "streets_listed"));
			fputs(" | ", o);
			as_md(o, as_fld(&f, r, "crimes_in_list"));
			fputs(" (of ", o);
			as_md(o, as_fld(&f, r, "crimes"));
			fputs(") | ", o);
			as_pct(o, as_fld(&f, r, "hit_rate"));
			fprintf(o, " | %.2f | %.2f | %.2f | ", as_num(as_fld(&f, r, "pai")),
				as_num(as_fld(&f, r, "pei")), as_num(as_fld(&f, r, "rri")));
			as_pct(o, as_fld(&f, r, "list_overlap"));
			fputs(" |\n", o);
		}
		fputs("\nHit rate: the share of this period's crimes on the listed micro-beats. PAI "
		      "(predictive accuracy index): that share over the share of micro-beats listed "
		      "(1 = no better than chance). PEI: PAI against the best list possible (1 = "
		      "perfect). RRI: crimes forecast over crimes found on the list (1 = the level was "
		      "forecast exactly). `tables/hotspots-forecast.csv`; definitions in "
		      "docs/methods-hotspots.md.\n\n", o);
	}
	csvtab_release(&f);
	as_chart(o, R, s, "hotspot_map.svg", "Getis-Ord Gi* hot spots");
	as_chart(o, R, s, "hotspot_kde.svg", "Kernel density");
}

/* Sum of the partner columns (from column 2 on) of row r. */
static double partner_sum(const struct csvtab *t, size_t r)
{
	double v = 0;
	for (size_t c = 2; c < t->ncols; c++) {
		double x = as_num(t->rows[r].f[c]);
		if (!isnan(x))
			v += x;
	}
	return v;
}

/* The rows of t ordered by column key, descending (NULL: by the partner
 * events summed), ties in table order: an index array the caller frees, or
 * NULL on memory failure. */
/* Row i's ranking value: column kc, or (kc < 0) its partner events summed. */
static double rank_value(const struct csvtab *t, long kc, size_t i)
{
	return kc >= 0 ? as_num(t->rows[i].f[kc]) : partner_sum(t, i);
}

static size_t *rank_rows(const struct csvtab *t, const char *key)
{
	long kc = key ? csvtab_col(t, key) : -1;
	size_t n = t->nrows ? t->nrows : 1;
	size_t *ix = malloc(n * sizeof *ix);
	double *v = malloc(n * sizeof *v);
	if (!ix || !v) {
		free(ix);
		free(v);
		return NULL;
	}
	/* insertion sort: stable, and the tables are a few hundred rows */
	for (size_t i = 0; i < t->nrows; i++) {
		v[i] = rank_value(t, kc, i);
		size_t j = i;
		while (j > 0 && v[ix[j - 1]] < v[i]) {
			ix[j] = ix[j - 1];
			j--;
		}
		ix[j] = i;
	}
	free(v);
	return ix;
}

/* Up to max rows of table name (a deep dive's overlay table: a name, crimes,
 * one column per partner source) as Markdown, ordered as rank_rows. Returns
 * the rows in the table. */
static size_t overlay_table(FILE *o, const struct run *R, const char *name, const char *key,
			    size_t max)
{
	struct csvtab t = { 0 };
	size_t *ix = NULL, n = 0;
	if (as_read_table(R, name, &t) || t.ncols < 3 || !t.nrows || !(ix = rank_rows(&t, key)))
		goto cleanup;
	n = t.nrows;
	fputs("|", o);
	for (size_t c = 0; c < t.ncols; c++) {
		fputs(" ", o);
		as_md(o, t.head[c]);
		fputs(" |", o);
	}
	fputs("\n|", o);
	for (size_t c = 0; c < t.ncols; c++)
		fputs(c ? " ---: |" : " --- |", o);
	fputs("\n", o);
	for (size_t i = 0; i < t.nrows && i < max; i++) {
		fputs("|", o);
		for (size_t c = 0; c < t.ncols; c++) {
			fputs(" ", o);
			as_md(o, t.rows[ix[i]].f[c]);
			fputs(" |", o);
		}
		fputs("\n", o);
	}
	/* rows cut off at max that rank level with the last shown: said, not
	 * left to look like a smaller value */
	if (t.nrows > max && max > 0) {
		long kc = key ? csvtab_col(&t, key) : -1;
		double last = rank_value(&t, kc, ix[max - 1]);
		size_t ties = 0;

		for (size_t i = max; i < t.nrows && rank_value(&t, kc, ix[i]) == last; i++)
			ties++;
		if (ties)
			fprintf(o, "\n_%zu more row%s tie%s with the last one shown (%g): all are in the "
				   "table._\n", ties, ties == 1 ? "" : "s", ties == 1 ? "s" : "", last);
	}
	fputs("\n", o);
cleanup:
	free(ix);
	csvtab_release(&t);
	return n;
}

/* What the n rows of the overlay's power-few table are, from the step's own
 * power_few.csv (the same micro-beats in the same order, with their class):
 * *now in the period's power few (persistent or emerging), *former in the
 * previous period's only. 0, or -1 when that table is unreadable or its rows
 * are not the n. */
static int overlay_classes(const struct run *R, size_t n, size_t *now, size_t *former)
{
	struct csvtab t = { 0 };
	int r = -1;
	*now = *former = 0;
	if (as_read_table(R, "overlay-power_few.csv", &t) || t.nrows != n)
		goto cleanup;
	for (size_t i = 0; i < t.nrows; i++) {
		const char *c = as_fld(&t, i, "class");
		if (strcmp(c, "former") == 0)
			++*former;
		else if (strcmp(c, "persistent") == 0 || strcmp(c, "emerging") == 0)
			++*now;
	}
	if (*now + *former == n)
		r = 0;
cleanup:
	csvtab_release(&t);
	return r;
}

/* charts/overlay/partner_units: the units with most partner events (all
 * sources, placed by coordinates or matched by code), at most 20 bars. 0, or
 * an error (the section then goes without the chart). */
static int partner_chart(const struct run *R, struct mb_error *err)
{
	struct csvtab t = { 0 };
	struct plot_dat d = { 0 };
	size_t *ix = NULL, n = 0;
	char dir[4200], title[300];
	int r = 0;
	snprintf(dir, sizeof dir, "%s/charts/overlay", R->tmp);
	if (as_read_table(R, "overlay-overlay_units.csv", &t) || t.ncols < 3 || !t.nrows)
		goto cleanup;
	if (!(ix = rank_rows(&t, NULL))) {
		r = NOMEM(R);
		goto cleanup;
	}
	if ((r = plot_dat_open(&d, dir, "partner_units.dat", err)))
		goto cleanup;
	for (size_t i = 0; i < t.nrows && n < 20; i++) {
		double v = partner_sum(&t, ix[i]);
		if (v <= 0)
			break;
		plot_dat_int(&d, (int64_t)++n);
		plot_dat_num(&d, v);
		plot_dat_text(&d, t.rows[ix[i]].f[0]);
		plot_dat_endrow(&d);
	}
	if ((r = plot_dat_close(&d, err)) || !n)
		goto cleanup;
	if ((r = plot_dat_open(&d, dir, "partner_units-meta.dat", err)))
		goto cleanup;
	snprintf(title, sizeof title, "Partner events per unit, %s..%s (all partner sources)",
		 R->cur_from, R->cur_to);
	plot_dat_text(&d, title);
	plot_dat_text(&d, "Partner events");
	plot_dat_int(&d, (int64_t)n);
	plot_dat_endrow(&d);
	if (!(r = plot_dat_close(&d, err))) {
		struct plot_batch pb;

		/* a batch of its own, drawn here: the report reads its SVG next */
		plot_batch_begin(&pb, R->charts);
		r = plot_render("hot_streets", "partner_units", dir, err);
		r = plot_batch_end(&pb, r, err);
	}
cleanup:
	free(ix);
	csvtab_release(&t);
	return r;
}

/* The partner overlay: partner events beside crime on the power few and in
 * each unit, from its own whole-area step. */
static void overlay(FILE *o, struct run *R)
{
	const struct step *s = as_step_named(R, "overlay");
	fputs("## Partner overlay\n\n", o);
	if (!R->nagencies) {
		fputs("_No partner data is loaded (fire service, council anti-social behaviour and "
		      "other agencies' records: `microbeat import --map`), so there is nothing to "
		      "overlay._\n\n", o);
		return;
	}
	if (!s || s->state != 1) {
		as_missing(o, s, "deepdive", "the partner overlay");
		return;
	}
	fprintf(o, "Partner agencies' events of %s (%s..%s) beside police crime, over the whole "
		   "area. On the power few: partner events within 100 metres (on the ground) of the "
		   "micro-beat's snap points; events with only an LSOA code cannot be placed on a "
		   "street and are counted in the micro-beat's LSOA, in their own column (they say "
		   "more about the neighbourhood than the street).\n\n",
		R->label, R->cur_from, R->cur_to);
	fputs("**Partner events near the power few** (the 15 with most crime)\n\n", o);
	size_t n = overlay_table(o, R, "overlay-overlay_power_few.csv", "crimes", 15), now, former;
	/* the table lists the previous period's power few too (the deep dive's
	 * section 4): its rows are not all "the power few" */
	int known = n && overlay_classes(R, n, &now, &former) == 0;
	if (known && former)
		fprintf(o, "All %zu rows, the %zu micro-beat%s of the power few (ties at the cut "
			   "included) and the %zu former one%s (in the previous period's power few "
			   "only): `tables/overlay-overlay_power_few.csv`.\n\n",
			n, now, now == 1 ? "" : "s", former, former == 1 ? "" : "s");
	else if (known)
		fprintf(o, "All %zu micro-beat%s of the power few (ties at the cut included): "
			   "`tables/overlay-overlay_power_few.csv`.\n\n", n, n == 1 ? "" : "s");
	else
		fprintf(o, "All %zu rows: `tables/overlay-overlay_power_few.csv`.\n\n", n);
	fputs("**Partner events per unit** (the 15 units with most partner events; placed by "
	      "coordinates, or matched by LSOA or unit code)\n\n", o);
	n = overlay_table(o, R, "overlay-overlay_units.csv", NULL, 15);
	fprintf(o, "All %zu units: `tables/overlay-overlay_units.csv`. An event with only an LSOA "
		   "code is matched to a unit only when the layer has an LSOA lookup (units built "
		   "from LSOAs); without one such a source counts none per unit here, and its events "
		   "are in the scanning matrix and, by LSOA, beside the power few above. Deep dives "
		   "of chosen places have their own overlay above.\n\n", n);
	/* the step's own overlay chart has a bar per micro-beat of the power few
	 * (over a hundred on a whole district): the units with most partner
	 * events read better */
	struct mb_error e = { 0 };
	if (partner_chart(R, &e) == 0)
		as_chart(o, R, s, "partner_units.svg", "Partner events per unit");
}

void as_sections(FILE *o, struct run *R, const struct csvtab *hot, const struct csvtab *fm)
{
	const struct step *s;

	fputs("## Micro-beats: the power few\n\n", o);
	s = as_step_named(R, "concentration");
	if (s && s->state == 1) {
		as_embed(o, s);
		as_chart(o, R, s, "lorenz.svg", "Lorenz curve: share of crime against share of streets");
		as_chart(o, R, s, "hot_streets.svg", "The power few: busiest streets");
		if (hot->nrows && fm->nrows) {
			fputs("**The power few with their units** (top 20)\n\n"
			      "| Rank | Street | Unit | Crimes | Class |\n| ---: | --- | --- | ---: | --- |\n", o);
			/* the unit: the table's column of the layer (its snap points'
			 * unit, a place's too; the layers' columns lie between
			 * lsoa_name and near_street, so a layer named "area" or "kind"
			 * is not taken for those columns), else the gazetteer's area
			 * code named */
			long lc = -1, c0 = csvtab_col(hot, "lsoa_name"), c1 = csvtab_col(hot, "near_street");

			for (long c = c0 + 1; R->cfg->layer && c0 >= 0 && c < c1; c++)
				if (strcasecmp(hot->head[c], R->cfg->layer) == 0)
					lc = c;
			for (size_t r = 0; r < hot->nrows && r < 20; r++) {
				long u = as_row_of(fm, "unit_code", as_fld(hot, r, "area"));
				fputs("| ", o);
				as_md(o, as_fld(hot, r, "rank"));
				fputs(" | ", o);
				as_md(o, as_fld(hot, r, "label"));
				fputs(" | ", o);
				as_md(o, lc >= 0 && hot->rows[r].f[lc][0] ? hot->rows[r].f[lc]
					 : u >= 0 ? as_fld(fm, (size_t)u, "unit_name") : as_fld(hot, r, "area"));
				fputs(" | ", o);
				as_md(o, as_fld(hot, r, "crimes"));
				fputs(" | ", o);
				as_md(o, as_fld(hot, r, "class"));
				fputs(" |\n", o);
			}
			fputs("\nEvery street of the power few is in `tables/concentration-hot_streets.csv` "
			      "and, with its point, in `hot_streets.geojson`.\n\n", o);
		}
	} else {
		as_missing(o, s, "concentration", "concentration");
	}

	fputs("## Trends: is it a real rise?\n\n", o);
	s = as_step_named(R, "scan");
	if (s && s->state == 1) {
		fputs("### Every crime type\n\n", o);
		as_embed(o, s);
		as_chart(o, R, s, "yoy.svg", "Year-on-year change by crime type");
	} else {
		as_missing(o, s, "trends", "trends");
	}
	for (size_t i = 0; i < R->nsteps; i++) {
		s = &R->steps[i];
		if (strncmp(s->name, "theme-", 6) != 0)
			continue;
		fputs("### Theme ", o);
		as_md(o, s->title + 14);
		fputs("\n\n", o);
		if (s->state != 1) {
			as_missing(o, s, "trends", "trends");
			continue;
		}
		as_embed(o, s);
		as_chart(o, R, s, "yoy.svg", "Year-on-year change");
		char f[32];
		for (int k = 0; k < 100; k++) {
			snprintf(f, sizeof f, "monthly_%02d.svg", k);
			char path[4300];
			snprintf(path, sizeof path, "%s/charts/%s/%s", R->tmp, s->name, f);
			if (access(path, F_OK))
				break;
			as_chart(o, R, s, f, "Monthly counts with trend and control limit");
		}
		as_chart(o, R, s, "seasonal.svg", "Seasonal pattern");
	}

	fputs("## Priorities: places\n\n", o);
	s = as_step_named(R, "flags");
	if (s && s->state == 1) {
		as_embed(o, s);
		as_chart(o, R, s, "heatmap.svg", "Flags by unit and category");
		as_chart(o, R, s, "funnel.svg", "Funnel plot: rate against population");
	} else {
		as_missing(o, s, "flags", "no area layer configured (`layer =` in [assessment])");
	}

	fputs("## Deep dives\n\n", o);
	size_t nd = 0;
	for (size_t i = 0; i < R->nsteps; i++) {
		s = &R->steps[i];
		if (strncmp(s->name, "deepdive-", 9) != 0)
			continue;
		nd++;
		fputs("### ", o);
		as_md(o, s->title + 11);
		fputs("\n\n", o);
		if (s->state != 1) {
			as_missing(o, s, "deepdive", "deep dive");
			continue;
		}
		as_embed(o, s);
		/* every chart the deep dive drew that its own text does not show */
		char dir[4200];
		snprintf(dir, sizeof dir, "%s/charts/%s", R->tmp, s->name);
		struct dirent **de = NULL;
		int n = scandir(dir, &de, NULL, alphasort);
		for (int k = 0; k < n; k++) {
			size_t l = strlen(de[k]->d_name);
			char shown[300];
			/* the deep dive links its charts by this extension */
			snprintf(shown, sizeof shown, "(%.*s.%s)", (int)(l > 4 ? l - 4 : 0),
				 de[k]->d_name, plot_formats_ext(R->charts));
			if (l > 4 && strcmp(de[k]->d_name + l - 4, ".svg") == 0 &&
			    emit_name_ok(de[k]->d_name) && !strstr(s->md ? s->md : "", shown))
				as_chart(o, R, s, de[k]->d_name, "Deep dive chart");
			free(de[k]);
		}
		free(de);
	}
	if (!nd)
		fputs("_No deep dive configured ([deepdive NAME] sections)._\n\n", o);

	hotspots(o, R);
	overlay(o, R);
}
