/* cmd_concentration — 'microbeat concentration': micro-beats and the power few. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "microbeat/beats.h"
#include "microbeat/cli.h"
#include "microbeat/conc.h"
#include "microbeat/emit.h"
#include "microbeat/plot.h"
#include "microbeat/report.h"
#include "microbeat/select.h"
#include "microbeat/slice.h"
#include "microbeat/store.h"
#include "microbeat/util.h"
#include "microbeat/universe.h"
#include "microbeat/weights.h"
#include "cmd_concentration_internal.h"

#define ASB "Anti-social behaviour"
/* Chance draws cost one binomial per street: above this many street-draws the
 * Monte Carlo is cut down (the analytic Poisson value is printed beside it). */
#define CHANCE_BUDGET 4000000.0
/* The most street-draws any run does, --chance-draws included: 2 x 10^7 is
 * 4-7 s here (~150-300 ns a street-draw, 14,353 streets: 1,393 draws), where
 * --chance-draws 100000 ran past 100 s with nothing shown (issue 21). */
#define CHANCE_MAX_WORK 20000000.0

enum { O_KIND = 1, O_HARM, O_COMPARE, O_TOP, O_SEED, O_DRAWS, O_UNIT, O_BY };


/* Are all months a..b loaded for the area's sources? (the slice spans them) */
static int store_months_cover(const struct slice *sl, int32_t a, int32_t b)
{
	(void)sl;
	for (int32_t m = a; m <= b; m++)
		if (!sl->month_present || m < sl->month_from || m > sl->month_to ||
		    !sl->month_present[m - sl->month_from])
			return 0;
	return 1;
}

/* Which categories count; an unknown --types name is an error. */
static int pick_types(struct conc_run *cr, struct mb_error *err)
{
	struct slice *sl = &cr->sl;

	cr->selected = calloc(sl->ncat, 1);
	if (!cr->selected)
		return mb_err(err, MB_ENOMEM, "out of memory");
	for (size_t i = 0; i < cr->sel.ntypes; i++) {
		int found = 0;

		for (size_t c = 1; c < sl->ncat; c++)
			found |= sl->cat_name[c] && strcasecmp(sl->cat_name[c], cr->sel.types[i]) == 0;
		if (!found)
			return mb_err(err, MB_ENOTFOUND, "crime type '%s' is not in the store",
				      cr->sel.types[i]);
	}
	for (size_t c = 1; c < sl->ncat; c++)
		cr->selected[c] = (uint8_t)select_type_on(&cr->sel, sl->cat_name[c]);
	return 0;
}

/* The universe's recipe from the run's options. */
static struct beats_spec spec_of(const struct conc_run *cr)
{
	return (struct beats_spec){
		.kind = cr->kind, .gazetteer = cr->gazetteer, .member = cr->member,
		.selected = cr->selected, .weight = cr->weight, .harm = cr->harm,
		.from = cr->sel.from, .to = cr->sel.to, .street_unit = cr->street_unit,
		.unit_code = cr->unit_code, .nunit = cr->nunit, .unit_of_loc = cr->unit_of_loc,
	};
}

/* Build the universe and count crimes per street (now, before, harm). */
static int count_streets(struct conc_run *cr, struct mb_error *err)
{
	struct beats_spec sp;

	cr->gazetteer = cr->sl.gazetteer_loaded;
	sp = spec_of(cr);
	return beats_count(&cr->sl, &sp, &cr->b, err);
}

/* The rows of the list (docs/methods-concentration.md §5b): the power few
 * and the streets tied with the n-th (conc_hot_list: which of several equal
 * streets made the n would be down to index order), then with
 * --compare-previous the former hot streets (hot in the previous period
 * only), by previous count. */
static int list_rows(struct conc_run *cr, struct mb_error *err)
{
	uint8_t *in = calloc(cr->b.n + 1, 1);
	size_t *rows = NULL, k = 0;
	int r;

	cr->tie = calloc(cr->b.n + 1, 1);
	if (!in || !cr->tie) {
		free(in);
		return mb_err(err, MB_ENOMEM, "out of memory");
	}
	if ((r = conc_hot_list(cr->b.count, cr->b.n, cr->top_pct, &cr->top, &cr->nhot, &cr->nn, err))) {
		free(in);
		return r;
	}
	rows = malloc((cr->b.n + 1) * sizeof(*rows));
	if (!rows) {
		free(in);
		return mb_err(err, MB_ENOMEM, "out of memory");
	}
	for (; k < cr->nhot; k++) {
		rows[k] = cr->top[k];
		in[rows[k]] = 1;
		/* every row with the n-th's count, when one beyond n shares it */
		cr->tie[k] = cr->nhot > cr->nn && cr->b.count[rows[k]] == cr->b.count[cr->top[cr->nn - 1]];
	}
	if (cr->compare && cr->res->stab.present) {
		size_t first = k;

		for (size_t u = 0; u < cr->b.n; u++)
			if (!in[u] && cr->res->stab.cls[u] == 3) {
				/* insertion by previous count, then index: a few dozen rows */
				size_t j = k++;

				while (j > first && cr->b.prev[rows[j - 1]] < cr->b.prev[u])
					j--;
				memmove(rows + j + 1, rows + j, (k - 1 - j) * sizeof(*rows));
				rows[j] = u;
			}
	}
	free(in);
	free(cr->top);
	cr->top = rows;
	cr->ntop = k;
	return 0;
}

/* Busiest snap point and dominant types of each listed row. */
static int describe_top(struct conc_run *cr, struct mb_error *err)
{
	struct beats_spec sp = spec_of(cr);

	return beats_describe(&cr->sl, &sp, &cr->b, cr->top, cr->ntop, &cr->busiest_loc,
			      &cr->dominant, err);
}

/* The unit of layer j holding row k's snap point, or NULL. */
static const char *row_unit(const struct conc_run *cr, size_t k, size_t j)
{
	uint32_t loc = cr->busiest_loc[k], u;

	if (!loc || loc >= cr->sl.nloc || !cr->ll.unit_of[j])
		return NULL;
	u = cr->ll.unit_of[j][loc];
	return u && u < cr->ll.nunit[j] ? cr->ll.unit_name[j][u] : NULL;
}

/* Where each row is, in words a map reader can use (beats_label): a place's
 * search starts from its own snap point, else its busiest one. */
static int name_rows(struct conc_run *cr, struct mb_error *err)
{
	uint32_t *beat = malloc((cr->ntop + 1) * sizeof(*beat));
	int r;

	cr->label = calloc(cr->ntop + 1, sizeof(*cr->label));
	cr->near = calloc(cr->ntop + 1, sizeof(*cr->near));
	if (!beat || !cr->label || !cr->near) {
		free(beat);
		return mb_err(err, MB_ENOMEM, "out of memory");
	}
	for (size_t k = 0; k < cr->ntop; k++)
		beat[k] = cr->b.ustreet[cr->top[k]];
	r = beats_label(&cr->sl, beat, cr->busiest_loc, cr->ntop, cr->label, cr->near, err);
	free(beat);
	return r;
}

/* The measures table (concentration.csv). */
static int build_measures(const struct conc_run *cr, struct table *t, struct mb_error *err)
{
	struct beats_summary m = {
		.b = &cr->b, .res = cr->res, .hres = cr->hres,
		.months_total = cr->sel.months_total, .months_used = cr->sel.months_used,
		.gazetteer = cr->gazetteer, .frozen = cr->uni.present, .umonths = cr->umonths,
		.ufrom = cr->ufrom, .uto = cr->uto, .nn = cr->nn, .nhot = cr->nhot,
	};

	return beats_measures(&m, t, err);
}

static const char *class_name(int c)
{
	static const char *const names[] = { "", "persistent", "emerging", "former" };

	return c >= 0 && c <= 3 ? names[c] : "";
}

/* The power-few table (hot_streets.csv): one row per listed micro-beat with
 * where it is (label, LSOA, the unit of every loaded layer, nearest street of
 * a place) and its figures. Columns are machine names; --format md renames
 * them (md_hot). */
static int build_hot(const struct conc_run *cr, struct table *t, struct mb_error *err)
{
	static const char *const head[HOT_HEAD] = { "rank", "street", "label", "kind", "cutoff_tie",
						    "lsoa", "lsoa_name" };
	static const char *const tail[] = { "near_street", "area", "longitude", "latitude",
					    "crimes", "harm", "previous_crimes", "change", "class",
					    "dominant_types" };
	const size_t nh = ARRAY_SIZE(head), nt = ARRAY_SIZE(tail);
	const size_t L = cr->ll.n, ncol = nh + L + nt;
	const struct slice *sl = &cr->sl;
	const char **cols = calloc(ncol, sizeof(*cols));
	char title[128];
	int r;

	if (!cols)
		return mb_err(err, MB_ENOMEM, "out of memory");
	for (size_t i = 0; i < nh; i++)
		cols[i] = head[i];
	for (size_t j = 0; j < L; j++)
		cols[nh + j] = cr->ll.name[j];
	for (size_t i = 0; i < nt; i++)
		cols[nh + L + i] = tail[i];
	snprintf(title, sizeof(title), "The power few: top %d%% of streets", cr->top_pct);
	r = table_init(t, title, cols, ncol, err);
	free(cols);
	if (r)
		return r;
	for (size_t k = 0; k < cr->ntop; k++) {
		size_t u = cr->top[k], row, c = nh + L;
		const struct slice_street *s = &sl->streets[cr->b.ustreet[u]];
		uint32_t loc = cr->busiest_loc[k];
		double lon = s->snap ? s->lon : loc ? sl->loc_lon[loc] : s->lon;
		double lat = s->snap ? s->lat : loc ? sl->loc_lat[loc] : s->lat;
		int hot = k < cr->nhot;

		if ((r = table_add_row(t, &row, err)) ||
		    (r = hot ? table_set_int(t, row, 0, (int64_t)k + 1, err)
			     : table_set_blank(t, row, 0, err)) ||
		    (r = table_set_text(t, row, 1, s->name, err)) ||
		    (r = table_set_text(t, row, 2, cr->label[k], err)) ||
		    (r = table_set_text(t, row, 3, s->place ? "place" : "street", err)) ||
		    (r = table_set_text(t, row, 4, cr->tie[k] && hot ? (k < cr->nn ? "tied" :
				     "tied, beyond n") : "", err)) ||
		    (r = table_set_text(t, row, 5, s->lsoa, err)) ||
		    (r = table_set_text(t, row, 6, s->lsoa_name, err)))
			return r;
		for (size_t j = 0; j < L; j++)
			if ((r = table_set_text(t, row, nh + j, row_unit(cr, k, j), err)))
				return r;
		if ((r = table_set_text(t, row, c, cr->near[k] ? sl->streets[cr->near[k]].name : NULL,
					err)) ||
		    (r = table_set_text(t, row, c + 1, cr->b.ucode ? cr->b.ucode[u] : s->area, err)) ||
		    (r = table_set_double(t, row, c + 2, lon, 6, err)) ||
		    (r = table_set_double(t, row, c + 3, lat, 6, err)) ||
		    (r = table_set_int(t, row, c + 4, (int64_t)cr->b.count[u], err)) ||
		    (r = cr->harm ? table_set_double(t, row, c + 5, cr->b.harmc[u], 2, err)
				  : table_set_blank(t, row, c + 5, err)))
			return r;
		if (cr->compare) {
			if ((r = table_set_int(t, row, c + 6, (int64_t)cr->b.prev[u], err)) ||
			    (r = table_set_int(t, row, c + 7, (int64_t)(cr->b.count[u] - cr->b.prev[u]),
					       err)) ||
			    (r = table_set_text(t, row, c + 8, class_name(cr->res->stab.cls[u]), err)))
				return r;
		}
		if ((r = table_set_text(t, row, c + 9, cr->dominant[k], err)))
			return r;
	}
	return 0;
}

/* hot_streets.geojson: points for QGIS (jansson escapes the text). */
static int build_geojson(const struct conc_run *cr, struct emit_features *ef,
			 struct mb_error *err)
{
	const struct slice *sl = &cr->sl;
	int r;

	/* a feature at a time: the whole tree of a national list was ~70 MB */
	for (size_t k = 0; k < cr->ntop; k++) {
		size_t u = cr->top[k];
		const struct slice_street *s = &sl->streets[cr->b.ustreet[u]];
		uint32_t loc = cr->busiest_loc[k];
		double lon = s->snap ? s->lon : loc ? sl->loc_lon[loc] : s->lon;
		double lat = s->snap ? s->lat : loc ? sl->loc_lat[loc] : s->lat;
		json_t *f = json_object(), *g = json_object(), *p = json_object();

		if (!isfinite(lon) || !isfinite(lat)) {
			json_decref(f);
			json_decref(g);
			json_decref(p);
			continue;
		}
		json_object_set_new(g, "type", json_string("Point"));
		json_object_set_new(g, "coordinates", json_pack("[f, f]", lon, lat));
		if (k < cr->nhot)
			json_object_set_new(p, "rank", json_integer((json_int_t)k + 1));
		json_object_set_new(p, "street", json_string(s->name));
		json_object_set_new(p, "label", json_string(cr->label[k]));
		json_object_set_new(p, "kind", json_string(s->place ? "place" : "street"));
		json_object_set_new(p, "cutoff_tie", json_boolean(cr->tie[k] && k < cr->nhot));
		json_object_set_new(p, "lsoa", json_string(s->lsoa));
		json_object_set_new(p, "lsoa_name", json_string(s->lsoa_name));
		for (size_t j = 0; j < cr->ll.n; j++) {
			const char *un = row_unit(cr, k, j);

			json_object_set_new(p, cr->ll.name[j], un ? json_string(un) : json_null());
		}
		json_object_set_new(p, "crimes", json_integer((json_int_t)cr->b.count[u]));
		if (cr->harm)
			json_object_set_new(p, "harm", json_real(cr->b.harmc[u]));
		if (cr->compare) {
			json_object_set_new(p, "previous_crimes", json_integer((json_int_t)cr->b.prev[u]));
			json_object_set_new(p, "class", json_string(class_name(cr->res->stab.cls[u])));
		}
		json_object_set_new(p, "dominant_types", json_string(cr->dominant[k]));
		json_object_set_new(f, "type", json_string("Feature"));
		json_object_set_new(f, "geometry", g);
		json_object_set_new(f, "properties", p);
		if ((r = emit_features_add(ef, f, err)))
			return r;
	}
	return 0;
}

/* The two charts: Lorenz curve (with chance) and the power-few bars. */
static int write_charts(const struct conc_run *cr, const char *dir, struct mb_error *err)
{
	const struct conc_lorenz *L = &cr->res->lorenz;
	const struct slice *sl = &cr->sl;
	double *x = malloc((L->n + 1) * sizeof(double)), *y = malloc((L->n + 1) * sizeof(double));
	double *cy = malloc((L->n + 1) * sizeof(double));
	size_t nb = cr->nhot < 25 ? cr->nhot : 25;
	const char **labels = calloc(nb + 1, sizeof(char *));
	double *bars = calloc(nb + 1, sizeof(double));
	char **own = calloc(nb + 1, sizeof(char *));
	char title[160];
	int r = 0, chance_ok = 1;

	if (!x || !y || !cy || !labels || !bars || !own) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < L->n; i++) {
		x[i] = 100 * L->streets[i];
		y[i] = 100 * L->crime[i];
		cy[i] = 100 * (isfinite(L->chance[i]) ? L->chance[i] : L->poisson[i]);
		chance_ok &= isfinite(cy[i]);
	}
	if (cr->gazetteer)
		snprintf(title, sizeof(title), "Concentration of crime across %zu streets, %s", cr->b.n,
			 cr->sel.period_label);
	else /* an observed universe says what it rests on */
		snprintf(title, sizeof(title),
			 "Concentration of crime across %zu streets (seen in %d months), %s", cr->b.n,
			 (int)cr->umonths, cr->sel.period_label);
	size_t k3 = cr->res->top_n[CONC_TOP3];
	struct plot_lorenz pl = {
		.title = title, .what = "crime", .n = L->n, .x = x, .y = y,
		.n_chance = chance_ok ? L->n : 0, .chance_x = x, .chance_y = cy,
		.mark_p = 3, .mark_x = cr->b.n ? 100.0 * (double)k3 / (double)cr->b.n : NAN,
		.mark_y = 100 * cr->res->top_share[CONC_TOP3],
	};

	if (L->n && (r = plot_lorenz(dir, "lorenz", &pl, err)))
		goto cleanup;
	for (size_t k = 0; k < nb; k++) {
		const struct slice_street *s = &sl->streets[cr->b.ustreet[cr->top[k]]];
		const char *where = cr->ll.n && row_unit(cr, k, 0) ? row_unit(cr, k, 0) : s->lsoa;
		size_t len = strlen(cr->label[k]) + strlen(where) + 4;

		own[k] = malloc(len);
		if (!own[k]) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
		snprintf(own[k], len, "%s (%s)", cr->label[k], where);
		labels[k] = own[k];
		bars[k] = cr->b.count[cr->top[k]];
	}
	snprintf(title, sizeof(title), "The power few: busiest streets, %s", cr->sel.period_label);
	struct plot_hot_streets ph = { .title = title, .value_label = "Crimes", .n = nb,
				       .label = labels, .count = bars };

	if (nb)
		r = plot_hot_streets(dir, "hot_streets", &ph, err);
cleanup:
	for (size_t k = 0; own && k < nb; k++)
		free(own[k]);
	free(own);
	free(labels);
	free(bars);
	free(x);
	free(y);
	free(cy);
	return r;
}

/* One row of by_unit.csv: the headline figures of r. */
static int unit_row(struct table *t, const char *code, const char *name, size_t n,
		    const struct conc_result *r, struct mb_error *err)
{
	size_t row;
	int rc;

	if ((rc = table_add_row(t, &row, err)) || (rc = table_set_text(t, row, 0, code, err)) ||
	    (rc = table_set_text(t, row, 1, name, err)) ||
	    (rc = table_set_int(t, row, 2, (int64_t)n, err)) ||
	    (rc = table_set_int(t, row, 3, (int64_t)llround(r->crimes), err)))
		return rc;
	double v[6] = { r->top_share[CONC_TOP3], r->chance.top_poisson[CONC_TOP3],
			r->crime_free_share, r->band50, r->gini, r->gini_gen };

	for (size_t c = 0; c < 6; c++)
		if ((rc = isfinite(v[c]) && r->crimes > 0 ? table_set_double(t, row, 4 + c, v[c], 12, err)
							  : table_set_blank(t, row, 4 + c, err)))
			return rc;
	return 0;
}

/* The distinct (unit, micro-beat) pairs of --by LAYER, sorted, and where each
 * event's pair is: nearly every micro-beat lies in one unit, so each keeps
 * its first unit and that pair's index in arrays by micro-beat, and only the
 * pairs of a micro-beat in a second unit are looked up in the sorted list
 * (a sort of every event's pair and a search per event took 7 s of a
 * national year). */
struct unit_pairs {
	uint64_t *pairs;    /* (unit << 32 | universe index), ascending, distinct */
	size_t np;          /* entries of pairs */
	uint32_t *first;    /* universe index -> its first unit met (0 none) */
	uint32_t *first_at; /* universe index -> index in pairs of (first, it) */
};

/* Note one pair of unit and universe index u: a first unit, or a pair for
 * the list (*more, *nmore, *cap; duplicates removed later). */
static int unit_pair_note(struct unit_pairs *up, uint32_t unit, int32_t u, uint64_t **more,
			  size_t *nmore, size_t *cap)
{
	if (!up->first[u]) {
		up->first[u] = unit;
		return 0;
	}
	if (up->first[u] == unit)
		return 0;
	if (GROW(*more, *nmore + 1, *cap))
		return -1;
	(*more)[(*nmore)++] = ((uint64_t)unit << 32) | (uint32_t)u;
	return 0;
}

static int unit_pairs_build(const struct conc_run *cr, struct unit_pairs *up,
			    struct mb_error *err)
{
	const struct slice *sl = &cr->sl;
	size_t n = cr->b.n, nmore = 0, cap = 0;
	uint64_t *more = NULL;

	up->first = calloc(n + 1, sizeof(*up->first));
	up->first_at = calloc(n + 1, sizeof(*up->first_at));
	if (!up->first || !up->first_at)
		goto oom;
	for (size_t i = 0; i < sl->n; i++) {
		int32_t u = beats_event_u(&cr->b, sl, i);

		if (u >= 0 && sl->unit[i] && sl->unit_chosen[sl->unit[i]] &&
		    unit_pair_note(up, sl->unit[i], u, &more, &nmore, &cap))
			goto oom;
	}
	for (size_t j = 0; sl->seen_unit && j < sl->nseen; j++)
		if (cr->b.seen_u[j] >= 0 && sl->seen_unit[j] && sl->unit_chosen[sl->seen_unit[j]] &&
		    unit_pair_note(up, sl->seen_unit[j], cr->b.seen_u[j], &more, &nmore, &cap))
			goto oom;
	for (size_t u = 0; u < n; u++) {
		if (!up->first[u])
			continue;
		if (GROW(more, nmore + 1, cap))
			goto oom;
		more[nmore++] = ((uint64_t)up->first[u] << 32) | (uint32_t)u;
	}
	qsort(more, nmore, sizeof(*more), mb_cmp_u64);
	for (size_t i = 0; i < nmore; i++) {
		if (up->np && more[i] == more[up->np - 1])
			continue;
		uint32_t unit = (uint32_t)(more[i] >> 32), u = (uint32_t)more[i];

		if (up->first[u] == unit)
			up->first_at[u] = (uint32_t)up->np;
		more[up->np++] = more[i];
	}
	up->pairs = more;
	return 0;
oom:
	free(more);
	return mb_err(err, MB_ENOMEM, "out of memory");
}

/* The index in up->pairs of (unit, u), or up->np when it is not there. */
static size_t unit_pair_at(const struct unit_pairs *up, uint32_t unit, uint32_t u)
{
	if (up->first[u] == unit)
		return up->first_at[u];
	uint64_t key = ((uint64_t)unit << 32) | u;
	const uint64_t *hit = bsearch(&key, up->pairs, up->np, sizeof(*up->pairs), mb_cmp_u64);

	return hit ? (size_t)(hit - up->pairs) : up->np;
}

static void unit_pairs_release(struct unit_pairs *up)
{
	free(up->pairs);
	free(up->first);
	free(up->first_at);
	*up = (struct unit_pairs){ 0 };
}

/* --by LAYER (by_unit.csv): the headline figures per selected unit, a
 * micro-beat of a unit being a universe street's snap points in the unit (a
 * street crossing a boundary is a micro-beat in each unit, with the crimes
 * of its snap points there); the unit's universe is the universe streets
 * with an event in it in any loaded month (observed, a lower bound). The
 * first row is the whole selection. */
static int build_by_unit(const struct conc_run *cr, const struct conc_params *par, struct table *t,
			 struct mb_error *err)
{
	static const char *const cols[] = { "unit_code", "unit_name", "streets", "crimes",
					    "top3_share", "chance_top3_share_poisson",
					    "crime_free_share", "bandwidth50", "gini", "gini_generalized" };
	const struct slice *sl = &cr->sl;
	struct unit_pairs up = { 0 };
	double *cnt = NULL;
	struct conc_params p = *par;
	size_t np = 0;
	uint64_t *pairs = NULL;
	int r;

	p.chance_draws = 0;
	p.boot_draws = 0;
	if ((r = table_init(t, "Concentration by unit", cols, 10, err)) ||
	    (r = unit_row(t, "", sl->scope_label, cr->b.n, cr->res, err)) ||
	    (r = unit_pairs_build(cr, &up, err)))
		goto cleanup;
	pairs = up.pairs;
	np = up.np;
	cnt = calloc(np + 1, sizeof(double));
	if (!cnt) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < sl->n; i++) {
		int32_t u = beats_event_u(&cr->b, sl, i);

		if (u < 0 || !sl->unit[i] || !cr->selected[sl->category[i]] ||
		    sl->month[i] < cr->sel.from || sl->month[i] > cr->sel.to)
			continue;
		size_t at = unit_pair_at(&up, sl->unit[i], (uint32_t)u);

		if (at < np)
			cnt[at] += 1;
	}
	/* units in name order */
	for (uint8_t *done = calloc(sl->nunit + 1, 1);; ) {
		size_t best = 0;

		if (!done) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
		for (size_t u = 1; u < sl->nunit; u++)
			if (!done[u] && sl->unit_chosen[u] &&
			    (!best || strcmp(sl->unit_name[u], sl->unit_name[best]) < 0))
				best = u;
		if (!best) {
			free(done);
			break;
		}
		done[best] = 1;
		size_t a = 0, b;

		while (a < np && (pairs[a] >> 32) < best)
			a++;
		for (b = a; b < np && (pairs[b] >> 32) == best; b++)
			;
		if (a == b)
			continue; /* no event in the unit in any loaded month */
		struct conc_result *res = NULL;

		if ((r = conc_compute(cnt + a, NULL, b - a, &p, &res, err)) == 0)
			r = unit_row(t, sl->unit_code[best], sl->unit_name[best], b - a, res, err);
		conc_result_free(res);
		if (r) {
			free(done);
			goto cleanup;
		}
	}
	r = 0;
cleanup:
	unit_pairs_release(&up);
	free(cnt);
	return r;
}

/* What the output folder holds, for report_write_dir. */
struct conc_pack {
	const struct conc_run *cr;        /* the run */
	const struct table *tm, *th, *tb; /* concentration.csv, hot_streets.csv, by_unit.csv */
	struct emit_features *geo;        /* hot_streets.geojson, built in memory */
};

/* Write the tables, the GeoJSON and (unless --no-charts) the charts into dir. */
static int write_pack(void *ctx, const char *dir, struct mb_error *err)
{
	const struct conc_pack *p = ctx;
	const struct conc_run *cr = p->cr;
	int r;

	if (!(r = table_save_csv(p->tm, dir, "concentration.csv", err)) &&
	    !(r = table_save_csv(p->th, dir, "hot_streets.csv", err)) &&
	    !(r = cr->by ? table_save_csv(p->tb, dir, "by_unit.csv", err) : 0) &&
	    !(r = emit_features_save(p->geo, dir, "hot_streets.geojson", err)) && cr->charts)
		r = write_charts(cr, dir, err);
	return r;
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A long chance Monte Carlo says how long it will take before it starts:
 * the time of 1% of its draws (at least 10; the same streets and crimes, less
 * the time of none), times 100. */
static int say_chance_time(const struct conc_run *cr, const struct conc_params *par, FILE *msg,
			   struct mb_error *err)
{
	struct conc_params cal = *par;
	struct conc_result *res = NULL;
	double t0, t1, t2;
	int r;

	cal.boot_draws = 0;
	t0 = mono_now();
	cal.chance_draws = 0;
	if ((r = conc_compute(cr->b.count, NULL, cr->b.n, &cal, &res, err)))
		return r;
	conc_result_free(res);
	res = NULL;
	t1 = mono_now();
	cal.chance_draws = par->chance_draws / 100 > 10 ? par->chance_draws / 100 : 10;
	if ((r = conc_compute(cr->b.count, NULL, cr->b.n, &cal, &res, err)))
		return r;
	conc_result_free(res);
	t2 = mono_now();
	double per = ((t2 - t1) - (t1 - t0)) / cal.chance_draws;
	double total = per > 0 ? per * par->chance_draws : 0.0;

	if (total < 1)
		fprintf(msg, "microbeat: %d chance draws over %zu streets: under a second\n",
			par->chance_draws, cr->b.n);
	else
		fprintf(msg, "microbeat: %d chance draws over %zu streets: about %.0f s\n",
			par->chance_draws, cr->b.n, total);
	fflush(msg);
	return 0;
}

/* The chance draws of a run on a thread of their own (conc_chance_alone):
 * they need only the universe's size and crimes, so they run from the count
 * on, while the figures are computed and the power few listed, described,
 * named, tabled and put in GeoJSON (~0.4 s of a national year). */
struct chance_job {
	size_t n;                        /* streets */
	double crimes;                   /* their crimes */
	const struct conc_params *par;   /* the draws and the seed */
	struct conc_result *draws;       /* the draw figures (conc_chance_take) */
	struct mb_error err;             /* the thread's error */
	int rc;                          /* conc_chance_alone's return */
	pthread_t th;                    /* the thread */
	int running;                     /* 1 = started, not yet joined */
};

static void *chance_main(void *arg)
{
	struct chance_job *j = arg;

	j->rc = conc_chance_alone(j->n, j->crimes, j->par, &j->draws, &j->err);
	return NULL;
}

/* Start the draws (inline when no thread can be had). */
static int chance_start(struct chance_job *j, struct mb_error *err)
{
	if (pthread_create(&j->th, NULL, chance_main, j) == 0) {
		j->running = 1;
		return 0;
	}
	return conc_chance_alone(j->n, j->crimes, j->par, &j->draws, err);
}

/* Wait for the draws and put them into res; their error, if any, into err. */
static int chance_wait(struct chance_job *j, struct conc_result *res, struct mb_error *err)
{
	if (j->running) {
		pthread_join(j->th, NULL);
		j->running = 0;
		if (j->rc) {
			*err = j->err;
			return j->rc;
		}
	}
	return j->draws ? conc_chance_take(res, j->draws, err) : 0;
}

int cmd_concentration(struct cli *c, int argc, char **argv, struct mb_error *err)
{
	static const struct option opts[] = {
		SELECT_LONG_OPTIONS,
		{ "kind", required_argument, NULL, O_KIND },
		{ "harm", optional_argument, NULL, O_HARM },
		{ "compare-previous", no_argument, NULL, O_COMPARE },
		{ "top", required_argument, NULL, O_TOP },
		REPORT_LONG_OPTIONS,
		{ "seed", required_argument, NULL, O_SEED },
		{ "chance-draws", required_argument, NULL, O_DRAWS },
		{ "street-unit", required_argument, NULL, O_UNIT },
		{ "by", required_argument, NULL, O_BY },
		{ NULL, 0, NULL, 0 },
	};
	struct conc_run cr = { .top_pct = 3 };
	struct chance_job chance = { 0 };
	struct emit_features geo = { 0 };
	struct store *s = NULL;
	struct conc_params par;
	struct table tm = { 0 }, th = { 0 }, tb = { 0 };
	struct report_opts ro;
	const char *harm_file = NULL;
	int o, r = 0, draws = -1;
	long seed = 1;

	select_init(&cr.sel);
	report_init(&ro);
	conc_params_init(&par);
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end;

		switch (o) {
		case O_KIND:
			if (strcmp(optarg, "all") == 0) cr.kind = 0;
			else if (strcmp(optarg, "street") == 0) cr.kind = 1;
			else if (strcmp(optarg, "place") == 0) cr.kind = 2;
			else r = mb_err(err, MB_EUSAGE, "--kind wants street, place or all");
			break;
		case O_HARM: cr.harm = 1; harm_file = optarg; break;
		case O_COMPARE: cr.compare = 1; break;
		case O_TOP:
			cr.top_pct = (int)strtol(optarg, &end, 10);
			if (*end || cr.top_pct < 1 || cr.top_pct > 100)
				r = mb_err(err, MB_EUSAGE, "--top wants a percentage 1..100");
			break;
		case O_SEED:
			seed = strtol(optarg, &end, 10);
			if (*end || seed < 0)
				r = mb_err(err, MB_EUSAGE, "--seed wants a non-negative integer");
			break;
		case O_DRAWS:
			draws = (int)strtol(optarg, &end, 10);
			if (*end || draws < 0 || draws > 100000)
				r = mb_err(err, MB_EUSAGE, "--chance-draws wants 0..100000");
			break;
		case O_UNIT: cr.street_unit = optarg; break;
		case O_BY: cr.by = optarg; break;
		default:
			if (o >= SEL_FIRST && o < SEL_LAST)
				r = select_option(&cr.sel, o, optarg, err);
			else if (o >= REPORT_FIRST && o < REPORT_LAST)
				r = report_option(&ro, o, optarg, err);
			else
				r = -MB_EUSAGE;
		}
		if (r)
			goto cleanup;
	}
	if (optind < argc) {
		r = mb_err(err, MB_EUSAGE, "concentration: unexpected argument '%s'", argv[optind]);
		goto cleanup;
	}
	if ((r = report_open(c->db_path, &cr.sel, &s, err)))
		goto cleanup;
	cr.charts = ro.charts;
	/* every loaded month: the observed universe is every street ever seen */
	int32_t lo, hi;

	if ((r = store_month_range(s, &lo, &hi, err)))
		goto cleanup;
	if (cr.by && cr.sel.layer && strcmp(cr.by, cr.sel.layer) != 0) {
		r = mb_err(err, MB_EUSAGE, "--by '%s' and --layer '%s' differ: --by uses the layer of"
			   " --layer", cr.by, cr.sel.layer);
		goto cleanup;
	}
	/* events of the period (and the previous one) only: of the other months
	 * the observed universe needs the snap points (slice_query.keep_set) */
	struct slice_query q = { .from = lo < cr.sel.from ? lo : cr.sel.from,
				 .to = hi > cr.sel.to ? hi : cr.sel.to, .include_asb = 1,
				 .no_source = 1, .keep_set = 1, .no_street_column = 1,
				 .keep_from = cr.compare ? 2 * cr.sel.from - cr.sel.to - 1 : cr.sel.from,
				 .keep_to = cr.sel.to };

	select_query(&cr.sel, cr.by, 1, &q);

	if ((r = report_load(s, &cr.sel, &q, &cr.sl, err)) || (r = pick_types(&cr, err)) ||
	    (r = store_universe_load(s, &cr.uni, err)) ||
	    (r = store_loc_layers(s, &cr.sl, &cr.ll, err)))
		goto cleanup;
	if (cr.uni.present && (r = universe_slice_members(&cr.uni, &cr.sl, &cr.member, err)))
		goto cleanup;
	cr.umonths = cr.uni.present ? cr.uni.months : cr.sl.months_loaded;
	cr.ufrom = cr.uni.present ? cr.uni.from : cr.sl.loaded_first;
	cr.uto = cr.uni.present ? cr.uni.to : cr.sl.loaded_last;
	if (cr.harm && (r = weights_load(harm_file, &cr.sl, &cr.weight, c->msg, err)))
		goto cleanup;
	if (cr.street_unit && (r = store_location_units(s, cr.street_unit, &cr.sl, &cr.unit_of_loc,
							&cr.unit_code, &cr.nunit, err)))
		goto cleanup;
	if ((r = count_streets(&cr, err)))
		goto cleanup;
	if (cr.compare) {
		/* a previous period the store does not cover would read as "all new" */
		int32_t len = cr.sel.to - cr.sel.from + 1, pfrom = cr.sel.from - len;
		char a[8], b[8];

		month_format(pfrom, a);
		month_format(cr.sel.from - 1, b);
		if (pfrom < lo || cr.sel.from - 1 > hi || !store_months_cover(&cr.sl, pfrom, cr.sel.from - 1)) {
			fprintf(c->msg,
				"microbeat: the previous period %s..%s is not fully loaded (a gap or before"
				" the first import): stability not computed\n", a, b);
			cr.compare = 0;
		}
	}
	par.seed = (uint64_t)seed;
	par.chance_draws = 200;
	if (draws >= 0 && (double)cr.b.n * draws > CHANCE_MAX_WORK) {
		par.chance_draws = (int)(CHANCE_MAX_WORK / (double)cr.b.n);
		if (par.chance_draws < 5)
			par.chance_draws = 5;
		fprintf(c->msg,
			"microbeat: --chance-draws %d over %zu streets is past the cap of 2 x 10^7"
			" street-draws: %d draws instead\n", draws, cr.b.n, par.chance_draws);
	} else if (draws >= 0) {
		par.chance_draws = draws;
	} else if ((double)cr.b.n * par.chance_draws > CHANCE_BUDGET) {
		par.chance_draws = (int)(CHANCE_BUDGET / (double)cr.b.n);
		if (par.chance_draws < 5)
			par.chance_draws = 5;
		fprintf(c->msg,
			"microbeat: %zu streets: %d chance draws instead of 200 (--chance-draws N to"
			" change); the analytic Poisson value is shown beside them\n",
			cr.b.n, par.chance_draws);
	}
	if (cr.b.n > 200000 && draws < 0)
		par.boot_draws = 200;
	/* only when asked for: the default stays within CHANCE_BUDGET (but for
	 * its 5-draw floor on the largest areas, where 10 timing draws would
	 * cost more than they tell); not in assess's pack, whose per-category
	 * steps ask for their draws (the timing draws cost ~0.3 s a national
	 * category there, and the pack says its steps as they run) */
	if (draws >= 0 && !c->in_pack && (double)cr.b.n * par.chance_draws > CHANCE_BUDGET &&
	    (r = say_chance_time(&cr, &par, c->msg, err)))
		goto cleanup;
	struct conc_params mp = par;

	/* the draws from here, beside the figures (crime counts: their sum is exact) */
	chance.n = cr.b.n;
	for (size_t u = 0; u < cr.b.n; u++)
		chance.crimes += cr.b.count[u];
	chance.par = &par;
	if ((r = chance_start(&chance, err)))
		goto cleanup;
	mp.defer_chance = 1;
	if ((r = conc_compute(cr.b.count, cr.compare ? cr.b.prev : NULL, cr.b.n, &mp, &cr.res, err)))
		goto cleanup;
	if (cr.harm) {
		struct conc_params hp = par;

		hp.chance_draws = 0;
		hp.boot_draws = 0;
		if ((r = conc_compute(cr.b.harmc, NULL, cr.b.n, &hp, &cr.hres, err)))
			goto cleanup;
	}
	if (cr.by && (r = build_by_unit(&cr, &par, &tb, err)))
		goto cleanup;
	free(cr.sl.unit); /* by_unit's alone (24 MB of a national year) */
	cr.sl.unit = NULL;
	if ((r = list_rows(&cr, err)) || (r = describe_top(&cr, err)))
		goto cleanup;
	/* done with the events: the tables and files need the streets' figures */
	slice_release_events(&cr.sl);
	free(cr.b.ev_u);
	cr.b.ev_u = NULL;
	free(cr.b.loc_u);
	cr.b.loc_u = NULL;
	/* what needs no chance figures is built while the draws run: the power
	 * few's table and, for the folder, their GeoJSON (~0.15 s nationally) */
	if ((r = name_rows(&cr, err)) || (r = build_hot(&cr, &th, err)) ||
	    (ro.out_dir && ((r = emit_features_open_mem(&geo, err)) ||
			    (r = build_geojson(&cr, &geo, err)))) ||
	    (r = chance_wait(&chance, cr.res, err)) || (r = build_measures(&cr, &tm, err)))
		goto cleanup;
	if ((r = conc_print_report(&cr, &tm, &th, ro.format, c->out, err)))
		goto cleanup;
	if (cr.by && ro.format != REPORT_CSV) {
		fputc('\n', c->out);
		r = ro.format == REPORT_MD ? table_write_md(&tb, c->out, err)
					   : table_write_console(&tb, 4, tb.nrows, c->out, err);
		if (r)
			goto cleanup;
		/* the first row's universe is not the units' (methods.md, --by) */
		fprintf(c->out, "%sA unit's streets are its observed micro-beats: those with an"
			" event in the unit in any loaded month (a street crossing a boundary is"
			" one in each unit). The first row is the whole selection's universe%s,"
			" so the units' streets do not add up to it.\n",
			ro.format == REPORT_MD ? "\n" : "",
			cr.sl.gazetteer_loaded ? ", which also holds the gazetteer's streets with no"
						 " event (the units' crime-free shares leave those out)"
					       : "");
	}
	struct conc_pack pack = { .cr = &cr, .tm = &tm, .th = &th, .tb = &tb, .geo = &geo };

	r = report_write_dir(&ro, write_pack, &pack, err);
cleanup:
	if (chance.running) {
		pthread_join(chance.th, NULL);
		chance.running = 0;
	}
	conc_result_free(chance.draws);
	emit_features_discard(&geo);
	table_release(&tm);
	table_release(&th);
	table_release(&tb);
	conc_result_free(cr.res);
	conc_result_free(cr.hres);
	for (size_t k = 0; cr.dominant && k < cr.ntop; k++)
		free(cr.dominant[k]);
	free(cr.dominant);
	for (size_t k = 0; cr.label && k < cr.ntop; k++)
		free(cr.label[k]);
	free(cr.label);
	free(cr.near);
	free(cr.tie);
	universe_release(&cr.uni);
	free(cr.member);
	loc_layers_release(&cr.ll);
	free(cr.busiest_loc);
	free(cr.top);
	beats_release(&cr.b);
	store_units_free(cr.unit_of_loc, cr.unit_code, cr.nunit);
	free(cr.selected);
	free(cr.weight);
	slice_release(&cr.sl);
	select_release(&cr.sel);
	store_close(s);
	return r;
}
