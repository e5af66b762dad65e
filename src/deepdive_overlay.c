/* deepdive_overlay — section 8 of 'microbeat deepdive': partner agencies'
 * events near the power-few micro-beats (metres on the ground) and per unit
 * (docs/methods-deepdive.md §8). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "microbeat/areas.h"
#include "microbeat/beats.h"
#include "microbeat/csvtab.h"
#include "microbeat/emit.h"
#include "microbeat/outcomes.h"
#include "microbeat/plot.h"
#include "microbeat/store.h"
#include "microbeat/trend.h"
#include "deepdive_internal.h"

/* Metres between two WGS84 points (haversine on the mean sphere). */
static double metres_between(double lon1, double lat1, double lon2, double lat2)
{
	double p1 = lat1 * M_PI / 180, p2 = lat2 * M_PI / 180, dp = p2 - p1;
	double dl = (lon2 - lon1) * M_PI / 180;
	double h = sin(dp / 2) * sin(dp / 2) + cos(p1) * cos(p2) * sin(dl / 2) * sin(dl / 2);

	return 2 * EARTH_M * asin(sqrt(h > 1 ? 1 : h));
}

/* Events of source k in the slice's period, placed or not: a force extract's
 * source has none (its rows attach to police.uk crimes), nor has an agency
 * with nothing in the period, and neither is a partner column. */
static int64_t source_events(const struct slice *O, uint32_t k)
{
	int64_t n = 0;

	for (size_t c = 0; O->src_placed && O->src_unplaced && c < O->ncat; c++)
		n += O->src_placed[k * O->ncat + c] + O->src_unplaced[k * O->ncat + c];
	return n;
}

/* Section 8: the partner overlay. */
int dd_sec_overlay(struct dd_run *d, struct store *s, const struct hot *h, struct mb_error *err)
{
	const struct slice *O = &d->O;
	size_t na = 0, *aidx = calloc(O->nsource ? O->nsource : 1, sizeof(size_t));
	uint32_t *asrc = calloc(O->nsource ? O->nsource : 1, sizeof(uint32_t));
	const char **cols = NULL;
	struct table t = { 0 }, tu = { 0 };
	struct lsoa_events le = { 0 };
	double *cnt = NULL, *lcnt = NULL;
	uint8_t *has_l = NULL;
	char (*lname)[200] = NULL;
	char **lbl = NULL; /* per row: where it is (beats_label) */
	int r = 0;

	fprintf(d->md, "## Partner overlay\n\n");
	if (!aidx || !asrc) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	if (d->has_overlay)
		for (uint32_t k = 1; k < O->nsource; k++)
			if (!O->src_police[k] && O->src_on[k] && source_events(O, k) > 0) {
				aidx[k] = ++na;
				asrc[na - 1] = k;
			}
	if (!na) {
		fprintf(d->md, "No partner agency's data (fire, council ASB, road collisions ...) is"
			" loaded: load it with `microbeat import --source NAME --map MAP.ini`.\n\n");
		goto cleanup;
	}
	if (!(cols = calloc(3 + 2 * na, sizeof(char *))) || !(cnt = calloc(h->nlist * na + 1, sizeof(double)))) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	/* the snap points of each power-few micro-beat (sp_of[k] .. sp_of[k + 1] in sp) */
	size_t nsp = 0, *sp_of = calloc(h->nlist + 1, sizeof(size_t));
	uint32_t *sp = calloc(d->S.nloc ? d->S.nloc : 1, sizeof(uint32_t));

	if (!sp_of || !sp) {
		free(sp_of);
		free(sp);
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t k = 0; k < h->nlist; k++) {
		sp_of[k] = nsp;
		for (uint32_t l = 1; l < d->S.nloc; l++)
			if (d->S.loc_beat[l] == h->list[k] && isfinite(d->S.loc_lon[l]) && nsp < d->S.nloc)
				sp[nsp++] = l;
	}
	sp_of[h->nlist] = nsp;
	/* per power-few micro-beat: agency events within d->metres of any of its snap points */
	for (size_t i = 0; i < O->n; i++) {
		uint32_t src = O->source[i], l = O->location[i];

		if (!aidx[src] || !dd_in_period(d, O->month[i]) || l >= O->nloc || !isfinite(O->loc_lon[l]))
			continue;
		for (size_t k = 0; k < h->nlist; k++) {
			int near = 0;

			for (size_t j = sp_of[k]; j < sp_of[k + 1] && !near; j++)
				near = metres_between(d->S.loc_lon[sp[j]], d->S.loc_lat[sp[j]], O->loc_lon[l],
						      O->loc_lat[l]) <= d->metres;
			cnt[k * na + aidx[src] - 1] += near;
		}
	}
	free(sp_of);
	free(sp);
	/* agency events with an LSOA code only: matched to the micro-beat's LSOA, said so */
	if ((r = store_lsoa_events(s, d->sel.from, d->sel.to, &le, err)))
		goto cleanup;
	if (!(lcnt = calloc(h->nlist * na + 1, sizeof(double))) || !(has_l = calloc(na + 1, 1)) ||
	    !(lname = calloc(na + 1, 200))) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < le.n; i++) {
		if (le.source[i] >= O->nsource || !aidx[le.source[i]])
			continue;
		size_t a = aidx[le.source[i]] - 1;

		has_l[a] = 1;
		for (size_t k = 0; k < h->nlist; k++)
			if (d->S.streets[h->list[k]].lsoa[0] && strcmp(le.lsoa[i], d->S.streets[h->list[k]].lsoa) == 0)
				lcnt[k * na + a]++;
	}
	/* a place by its kind and nearest street, as concentration's hot_streets.csv
	 * labels it: a district has several places called "PETROL STATION" */
	if (!(lbl = calloc(h->nlist + 1, sizeof(*lbl)))) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	if ((r = beats_label(&d->S, h->list, NULL, h->nlist, lbl, NULL, err)))
		goto cleanup;
	size_t ncol = 2;

	cols[0] = "micro-beat";
	cols[1] = "crimes";
	for (size_t a = 0; a < na; a++) {
		cols[ncol++] = O->source_name[asrc[a]];
		if (has_l[a]) {
			snprintf(lname[a], 200, "%s (LSOA only: in the micro-beat's LSOA)", O->source_name[asrc[a]]);
			cols[ncol++] = lname[a];
		}
	}
	if ((r = table_init(&t, "Partner events near the power-few micro-beats", cols, ncol, err)))
		goto cleanup;
	size_t best = h->nlist;
	double bestv = 0;
	int any_l = 0;

	for (size_t k = 0; k < h->nlist && !r; k++) {
		size_t row, i = dd_hot_index(h, h->list[k]), col = 2;
		double tot = 0;

		if ((r = table_add_row(&t, &row, err)) ||
		    (r = table_set_text(&t, row, 0, lbl[k], err)) ||
		    (r = table_set_int(&t, row, 1, (int64_t)h->cur[i], err)))
			break;
		for (size_t a = 0; a < na && !r; a++) {
			tot += cnt[k * na + a];
			r = table_set_int(&t, row, col++, (int64_t)cnt[k * na + a], err);
			if (!r && has_l[a]) {
				any_l = 1;
				r = table_set_int(&t, row, col++, (int64_t)lcnt[k * na + a], err);
			}
		}
		if (tot > bestv) {
			bestv = tot;
			best = k;
		}
	}
	if (r)
		goto cleanup;
	fprintf(d->md, "Partner agencies' events of the period within %.0f metres (on the ground) of"
		" any snap point of each power-few micro-beat, beside its crimes. ", d->metres);
	if (best < h->nlist) {
		fprintf(d->md, "Where partners' problems coincide most: ");
		if ((r = dd_put(d, lbl[best], err)))
			goto cleanup;
		fprintf(d->md, " (%.0f crimes, %.0f partner event%s nearby).", h->cur[dd_hot_index(h, h->list[best])], bestv, bestv == 1 ? "" : "s");
	} else {
		fprintf(d->md, "No partner event lies that close to a power-few micro-beat.");
	}
	if (any_l)
		fprintf(d->md, " Partner events with only an LSOA code (no coordinates) cannot be placed"
			" on a street: they are counted in the micro-beat's LSOA, in their own column,"
			" and say more about the neighbourhood than about the street.");
	fprintf(d->md, "\n\n");
	if ((r = dd_emit_table(&d->out, &t, "overlay_power_few.csv", err)))
		goto cleanup;
	/* per unit: agency events placed in it by coordinates, and by LSOA or unit code */
	if (d->S.unit && d->S.nunit > 1 && O->unit) {
		size_t nu = d->S.nunit;
		double *uc = calloc(nu * na * 2 + 1, sizeof(double)), *crime = calloc(nu, sizeof(double));
		const char **ucols = calloc(2 + 2 * na, sizeof(char *));
		char (*cn)[200] = calloc(2 * na + 1, 200);

		if (!uc || !crime || !ucols || !cn) {
			free(uc);
			free(crime);
			free(ucols);
			free(cn);
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
		/* unit ids of O and S: the same layer, matched by code */
		for (size_t i = 0; i < d->S.n; i++)
			if (d->S.unit[i] < nu && d->on[d->S.category[i]] && dd_in_period(d, d->S.month[i]))
				crime[d->S.unit[i]]++;
		for (size_t i = 0; i < O->n + O->n_nc; i++) {
			int nc = i >= O->n;
			size_t j = nc ? i - O->n : i;
			uint32_t src = nc ? O->nc_source[j] : O->source[j], ou = nc ? O->nc_unit[j] : O->unit[j];
			int32_t m = nc ? O->nc_month[j] : O->month[j];

			if (!aidx[src] || !dd_in_period(d, m) || !ou || ou >= O->nunit)
				continue;
			for (uint32_t u = 1; u < nu; u++)
				if (d->S.unit_chosen[u] && strcmp(d->S.unit_code[u], O->unit_code[ou]) == 0)
					uc[(u * na + aidx[src] - 1) * 2 + nc]++;
		}
		ucols[0] = "unit";
		ucols[1] = "crimes";
		for (size_t a = 0; a < na; a++) {
			snprintf(cn[2 * a], 200, "%s (by coordinates)", O->source_name[asrc[a]]);
			snprintf(cn[2 * a + 1], 200, "%s (by LSOA or unit code)", O->source_name[asrc[a]]);
			ucols[2 + 2 * a] = cn[2 * a];
			ucols[3 + 2 * a] = cn[2 * a + 1];
		}
		if (!(r = table_init(&tu, "Partner events per unit", ucols, 2 + 2 * na, err)))
			for (uint32_t u = 1; u < nu && !r; u++) {
				size_t row;

				if (!d->S.unit_chosen[u])
					continue;
				if ((r = table_add_row(&tu, &row, err)) ||
				    (r = table_set_text(&tu, row, 0, d->S.unit_name[u], err)) ||
				    (r = table_set_int(&tu, row, 1, (int64_t)crime[u], err)))
					break;
				for (size_t k = 0; k < 2 * na && !r; k++)
					r = table_set_int(&tu, row, 2 + k, (int64_t)uc[u * na * 2 + k], err);
			}
		free(uc);
		free(crime);
		free(ucols);
		free(cn);
		if (r)
			goto cleanup;
		fprintf(d->md, "Per unit of the selection: partner events placed in the unit by their"
			" coordinates (point in polygon), and those with only an LSOA or unit code,"
			" matched at that level (they cannot be placed on a micro-beat).\n\n");
		if ((r = dd_emit_table(&d->out, &tu, "overlay_units.csv", err)))
			goto cleanup;
	}
	/* a chart of empty partner bars says nothing: the sentence above says why */
	if (d->charts && d->dir && h->nlist && best == h->nlist)
		fprintf(d->md, "(No overlay chart: no partner event within %.0f metres of a power-few"
			" micro-beat; --overlay-metres widens the distance.)\n\n", d->metres);
	if (d->charts && d->dir && h->nlist && best < h->nlist) {
		/* the table's first rows only: a whole district's hundred rows in one
		 * chart print their names and counts on top of each other */
		size_t nbar = h->nlist < OVERLAY_CHART_ROWS ? h->nlist : OVERLAY_CHART_ROWS;
		const char **lab = calloc(nbar, sizeof(char *));
		double *v = calloc(nbar, sizeof(double)), *cr = calloc(nbar, sizeof(double));

		if (!lab || !v || !cr) {
			free(lab);
			free(v);
			free(cr);
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
		for (size_t k = 0; k < nbar; k++) {
			lab[k] = lbl[k];
			cr[k] = h->cur[dd_hot_index(h, h->list[k])];
			for (size_t a = 0; a < na; a++)
				v[k] += cnt[k * na + a];
		}
		char what[200], tl[700];
		const char *xl = "Events in the period";

		/* the period's power few come first, by crimes (section 4), then
		 * the former ones; the title counts each for what it is and stays
		 * short enough for the chart's width */
		size_t nf = h->nlist - h->nc; /* former */

		if (nbar == h->nlist && !nf)
			snprintf(what, sizeof(what), "crimes and partner events within %.0f m, power-few"
				 " micro-beats", d->metres);
		else if (nbar == h->nlist)
			snprintf(what, sizeof(what), "crimes and partner events within %.0f m, %zu power-few"
				 " and %zu former micro-beats", d->metres, h->nc, nf);
		else if (nbar <= h->nc)
			snprintf(what, sizeof(what), "crimes and partner events within %.0f m, top %zu of %zu"
				 " power-few micro-beats", d->metres, nbar, h->nc);
		else
			snprintf(what, sizeof(what), "crimes and partner events within %.0f m, %zu power-few"
				 " and %zu of %zu former micro-beats", d->metres, h->nc, nbar - h->nc, nf);
		dd_chart_title(&d->out, what, tl, sizeof(tl));
		if (nbar < h->nlist)
			xl = "Events in the period (every micro-beat is in the CSV table)";
		r = dd_draw_bars(d->dir, "overlay", tl, xl, nbar, lab, cr,
			      "Crimes (selected types)", v, "Partner events (all agencies)", NAN, err);
		free(lab);
		free(v);
		free(cr);
		if (r)
			goto cleanup;
		fprintf(d->md, "![Partner overlay](overlay.%s)\n\n", plot_formats_ext(d->charts));
	}
cleanup:
	table_release(&t);
	table_release(&tu);
	free(aidx);
	free(asrc);
	free(cols);
	free(cnt);
	free(lcnt);
	free(has_l);
	free(lname);
	for (size_t k = 0; lbl && k < h->nlist; k++)
		free(lbl[k]);
	free(lbl);
	lsoa_events_release(&le);
	return r;
}

/* Load the partner agencies' events of the period over the district. */
int dd_load_overlay(struct dd_run *d, struct store *s, struct mb_error *err)
{
	const char *names[64];
	size_t n = 0;
	int r;

	for (uint32_t k = 1; k < d->D.nsource && n < 64; k++)
		if (!d->D.src_police[k] && d->D.source_name[k])
			names[n++] = d->D.source_name[k];
	if (!n)
		return 0;
	struct slice_query q = { .from = d->sel.from, .to = d->sel.to, .include_asb = 1 };

	select_query(&d->sel, NULL, 0, &q);
	q.area = d->sel.layer ? "all" : NULL;
	q.sources = names;
	q.nsources = n;
	q.police_only = 0;
	q.types = NULL;
	q.ntypes = 0;
	if ((r = store_slice_load(s, &q, &d->O, err)))
		return r;
	d->has_overlay = 1;
	return 0;
}
