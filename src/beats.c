/* beats — the street universe of a selection and the crimes on each
 * micro-beat (include/microbeat/beats.h; docs/methods-concentration.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "microbeat/beats.h"
#include "microbeat/conc.h"
#include "microbeat/dict.h"
#include "microbeat/emit.h"
#include "microbeat/slice.h"

/* Does a street pass the spec's kind? */
static int kind_ok(const struct beats_spec *sp, const struct slice_street *t)
{
	return sp->kind == 0 || (sp->kind == 1 && !t->place) || (sp->kind == 2 && t->place);
}

size_t beats_number(const struct slice *sl, const uint8_t *keep, int32_t *pos, uint32_t *ids)
{
	size_t n = 0;

	if (sl->nstreet)
		pos[0] = -1;
	for (size_t id = 1; id < sl->nstreet; id++) {
		int in = sl->street_in_area[id] && (!keep || keep[id]);

		pos[id] = in ? (int32_t)n : -1;
		if (in)
			ids[n++] = (uint32_t)id;
	}
	return n;
}

/* What key_by_unit works with. */
struct unit_keys {
	const struct slice *sl;
	const struct beats_spec *sp;
	struct beats *b;
	struct dict *keys;   /* (unit, name) or (0, place id) -> universe index + 1 */
	struct dict *bycode; /* unit code -> unit id */
};

/* The universe index of micro-beat `street` at snap point `loc` (pass 0:
 * an event's) or of gazetteer street `street` (pass 1), numbered when first
 * met: *u, or -1 when it is in no unit or not in the universe. */
static int key_one(struct unit_keys *uk, int pass, uint32_t street, uint32_t loc, int32_t *u)
{
	const struct slice *sl = uk->sl;
	const struct beats_spec *sp = uk->sp;
	const struct slice_street *t = &sl->streets[street];
	char key[4200];
	uint32_t unit;

	*u = -1;
	/* a place is a snap point: a gazetteer row named like one adds none */
	if (!street || (pass && (!t->gazetteer || !sl->street_in_area[street] || t->place)) ||
	    !kind_ok(sp, t))
		return 0;
	unit = pass ? dict_get(uk->bycode, t->area, strlen(t->area)) : sp->unit_of_loc[loc];
	if (!unit)
		return 0; /* in no unit of the layer */
	size_t len = strlen(t->name);

	if (len + 4 > sizeof(key))
		return 0;
	if (pass == 0 && sp->member && !sp->member[street])
		return 0; /* not in the frozen universe */
	memcpy(key, &unit, 4);
	memcpy(key + 4, t->name, len);
	if (t->place) {
		/* a place is one snap point whatever the unit: keyed on its own id
		 * (unit 0 never keys a street) */
		len = 4;
		memset(key, 0, 4);
		memcpy(key + 4, &street, 4);
	}
	uint32_t v = dict_get(uk->keys, key, len + 4);

	if (!v) {
		v = (uint32_t)++uk->b->n;
		if (dict_put(uk->keys, key, len + 4, v))
			return -1;
		uk->b->ustreet[v - 1] = street;
		uk->b->ucode[v - 1] = sp->unit_code[unit];
	}
	*u = (int32_t)v - 1;
	return 0;
}

/* street_unit: a micro-beat is the normalised name within a unit of the layer
 * (survives LSOA code changes). Gazetteer streets join through their area code.
 * Keys are numbered in the scan's order: the events, and among them the snap
 * points of the events outside the keep window (sl->seen_*), each where its
 * first such event was; then the gazetteer's streets. */
static int key_by_unit(const struct slice *sl, const struct beats_spec *sp, struct beats *b,
		       struct mb_error *err)
{
	struct unit_keys uk = { .sl = sl, .sp = sp, .b = b, .keys = dict_new(),
				.bycode = dict_new() };
	size_t j = 0;
	int r = 0;

	b->ucode = calloc(sl->nstreet + sl->n + sl->nseen + 1, sizeof(*b->ucode));
	if (!uk.keys || !uk.bycode || !b->ucode)
		goto oom;
	for (size_t u = 1; u < sp->nunit; u++)
		if (sp->unit_code[u] && dict_put(uk.bycode, sp->unit_code[u],
						 strlen(sp->unit_code[u]), (uint32_t)u))
			goto oom;
	for (size_t i = 0; i <= sl->n; i++) {
		for (; j < sl->nseen && sl->seen_pos[j] <= i; j++) {
			uint32_t loc = sl->seen_loc[j];

			if (key_one(&uk, 0, sl->loc_beat[loc], loc, &b->seen_u[j]))
				goto oom;
		}
		if (i < sl->n && key_one(&uk, 0, slice_event_beat(sl, i), sl->location[i], &b->ev_u[i]))
			goto oom;
	}
	for (size_t i = 1; sp->gazetteer && i < sl->nstreet; i++) {
		int32_t u;

		if (key_one(&uk, 1, (uint32_t)i, 0, &u))
			goto oom;
	}
	goto cleanup;
oom:
	r = mb_err(err, MB_ENOMEM, "out of memory");
cleanup:
	dict_free(uk.keys);
	dict_free(uk.bycode);
	return r;
}

/* Without street_unit: the area's streets observed (any event in any loaded
 * month, or the frozen list) or, with the gazetteer, listed there. */
static int key_by_street(const struct slice *sl, const struct beats_spec *sp, struct beats *b,
			 struct mb_error *err)
{
	uint8_t *keep = calloc(sl->nstreet, 1);

	if (!keep)
		return mb_err(err, MB_ENOMEM, "out of memory");
	for (size_t i = 0; i < sl->n; i++)
		keep[slice_event_beat(sl, i)] = 1;
	for (size_t j = 0; j < sl->nseen; j++)
		keep[sl->loc_beat[sl->seen_loc[j]]] = 1;
	for (size_t id = 1; id < sl->nstreet; id++) {
		const struct slice_street *t = &sl->streets[id];
		int obs = sp->member ? sp->member[id] : keep[id];

		keep[id] = (obs || (sp->gazetteer && t->gazetteer && !t->place)) && kind_ok(sp, t);
	}
	b->n = beats_number(sl, keep, b->uindex, b->ustreet);
	free(keep);
	for (size_t j = 0; j < sl->nseen; j++)
		b->seen_u[j] = b->uindex[sl->loc_beat[sl->seen_loc[j]]];
	return 0;
}

/* beats_event_u, inlined in the loops over every event below. */
static inline int32_t event_u(const struct beats *b, const struct slice *sl, size_t i)
{
	if (b->ev_u)
		return b->ev_u[i];
	if (b->loc_u)
		return b->loc_u[sl->location[i]];
	return b->uindex[slice_event_beat(sl, i)];
}

int32_t beats_event_u(const struct beats *b, const struct slice *sl, size_t i)
{
	return event_u(b, sl, i);
}

int beats_count(const struct slice *sl, const struct beats_spec *sp, struct beats *b,
		struct mb_error *err)
{
	int32_t len = sp->to - sp->from + 1;
	int32_t pfrom = sp->from - len, pto = sp->from - 1;
	int r;

	b->uindex = malloc((sl->nstreet + 1) * sizeof(*b->uindex));
	b->ustreet = malloc((sl->nstreet + sl->n + sl->nseen + 1) * sizeof(*b->ustreet));
	b->ev_u = sp->street_unit ? malloc((sl->n + 1) * sizeof(*b->ev_u)) : NULL;
	b->seen_u = malloc((sl->nseen + 1) * sizeof(*b->seen_u));
	if (!b->uindex || !b->ustreet || (sp->street_unit && !b->ev_u) || !b->seen_u)
		return mb_err(err, MB_ENOMEM, "out of memory");
	r = sp->street_unit ? key_by_unit(sl, sp, b, err) : key_by_street(sl, sp, b, err);
	if (r)
		return r;
	/* each snap point's universe index once (1.2 M nationally) instead of two
	 * scattered lookups for each event (6 M) here and in beats_describe: when
	 * the events outnumber half the store's snap points (not a district's
	 * slice of a national store) */
	if (!b->ev_u && !sl->street && sl->loc_beat && sl->nloc && sl->n > sl->nloc / 2) {
		if (!(b->loc_u = malloc(sl->nloc * sizeof(*b->loc_u))))
			return mb_err(err, MB_ENOMEM, "out of memory");
		for (size_t l = 0; l < sl->nloc; l++)
			b->loc_u[l] = b->uindex[sl->loc_beat[l]];
	}
	b->count = calloc(b->n + 1, sizeof(double));
	b->prev = calloc(b->n + 1, sizeof(double));
	b->harmc = calloc(b->n + 1, sizeof(double));
	if (!b->count || !b->prev || !b->harmc)
		return mb_err(err, MB_ENOMEM, "out of memory");
	for (size_t i = 0; i < sl->n; i++) {
		uint32_t c = sl->category[i];
		int32_t m = sl->month[i], u;

		if (!sp->selected[c])
			continue;
		u = event_u(b, sl, i);
		if (m >= sp->from && m <= sp->to) {
			if (u < 0) {
				b->crimes_outside++;
				continue;
			}
			b->count[u] += 1;
			if (sp->harm && isfinite(sp->weight[c]))
				b->harmc[u] += sp->weight[c];
		} else if (u >= 0 && m >= pfrom && m <= pto) {
			b->prev[u] += 1;
		}
	}
	for (size_t i = 0; i < sl->n_unloc; i++)
		if (sp->selected[sl->unloc_category[i]] && sl->unloc_month[i] >= sp->from &&
		    sl->unloc_month[i] <= sp->to)
			b->unlocated++;
	for (size_t i = 0; i < sl->n_nc; i++)
		if (sp->selected[sl->nc_category[i]] && sl->nc_month[i] >= sp->from &&
		    sl->nc_month[i] <= sp->to)
			b->placed_no_street++;
	return 0;
}

void beats_release(struct beats *b)
{
	free(b->ustreet);
	free(b->uindex);
	free(b->ev_u);
	free(b->loc_u);
	free(b->seen_u);
	free(b->ucode);
	free(b->count);
	free(b->prev);
	free(b->harmc);
	*b = (struct beats){ 0 };
}

/* The two commonest types of cn (counts per category) with their shares of
 * tot, into buf: "Burglary 50%; Robbery 25%". Zeroes the two picked. */
static void two_commonest(const struct slice *sl, double *cn, double tot, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int pick = 0; pick < 2; pick++) {
		size_t best = 0;

		for (size_t c = 1; c < sl->ncat; c++)
			if (cn[c] > 0 && (!best || cn[c] > cn[best]))
				best = c;
		if (!best || tot <= 0)
			break;
		int w = snprintf(buf + o, size - o, "%s%s %.0f%%", pick ? "; " : "",
				 sl->cat_name[best], 100.0 * cn[best] / tot);

		if (w > 0 && (size_t)w < size - o)
			o += (size_t)w;
		cn[best] = 0;
	}
}

int beats_describe(const struct slice *sl, const struct beats_spec *sp, const struct beats *b,
		   const size_t *top, size_t ntop, uint32_t **busiest, char ***dominant,
		   struct mb_error *err)
{
	int32_t *slot = malloc((b->n + 1) * sizeof(*slot));
	uint32_t *loc_n = calloc(sl->nloc + 1, sizeof(*loc_n));
	double *cat_n = calloc((ntop + 1) * sl->ncat, sizeof(double));
	int r = 0;

	*busiest = calloc(ntop + 1, sizeof(**busiest));
	*dominant = calloc(ntop + 1, sizeof(**dominant));
	if (!slot || !*busiest || !*dominant || !loc_n || !cat_n) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t u = 0; u < b->n; u++)
		slot[u] = -1;
	for (size_t k = 0; k < ntop; k++)
		slot[top[k]] = (int32_t)k;
	for (size_t i = 0; i < sl->n; i++) {
		int32_t u = event_u(b, sl, i);

		if (u < 0 || slot[u] < 0 || !sp->selected[sl->category[i]] ||
		    sl->month[i] < sp->from || sl->month[i] > sp->to)
			continue;
		loc_n[sl->location[i]] += 1;
		cat_n[(size_t)slot[u] * sl->ncat + sl->category[i]] += 1;
		uint32_t *best = &(*busiest)[slot[u]];

		if (!*best || loc_n[sl->location[i]] > loc_n[*best] ||
		    (loc_n[sl->location[i]] == loc_n[*best] && sl->location[i] < *best))
			*best = sl->location[i];
	}
	/* a listed micro-beat without crime in the period (a former hot street):
	 * the snap point of its first event in the scan's order (those outside
	 * the keep window where the first of them was) */
	size_t missing = 0;

	for (size_t k = 0; k < ntop; k++)
		missing += !(*busiest)[k];
	for (size_t i = 0, j = 0; missing && i <= sl->n; i++) {
		for (; j < sl->nseen && sl->seen_pos[j] <= i; j++) {
			int32_t v = b->seen_u[j];

			if (v >= 0 && slot[v] >= 0 && !(*busiest)[slot[v]]) {
				(*busiest)[slot[v]] = sl->seen_loc[j];
				missing--;
			}
		}
		int32_t u = i < sl->n ? event_u(b, sl, i) : -1;

		if (u >= 0 && slot[u] >= 0 && !(*busiest)[slot[u]]) {
			(*busiest)[slot[u]] = sl->location[i];
			missing--;
		}
	}
	for (size_t k = 0; k < ntop; k++) {
		char buf[256];

		two_commonest(sl, &cat_n[k * sl->ncat], b->count[top[k]], buf, sizeof(buf));
		if (!((*dominant)[k] = strdup(buf))) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
	}
cleanup:
	free(slot);
	free(loc_n);
	free(cat_n);
	return r;
}

/* Add one "measure,value" row. */
static int measure(struct table *t, const char *name, double v, int prec, struct mb_error *err)
{
	size_t row;
	int r;

	if ((r = table_add_row(t, &row, err)) || (r = table_set_text(t, row, 0, name, err)))
		return r;
	if (!isfinite(v))
		return table_set_blank(t, row, 1, err);
	if (prec < 0)
		return table_set_int(t, row, 1, (int64_t)llround(v), err);
	return table_set_double(t, row, 1, v, prec, err);
}

/* Add one "measure,text" row. */
static int measure_text(struct table *t, const char *name, const char *v, struct mb_error *err)
{
	size_t row;
	int r;

	if ((r = table_add_row(t, &row, err)) || (r = table_set_text(t, row, 0, name, err)))
		return r;
	return table_set_text(t, row, 1, v, err);
}

/* The measures table (concentration.csv): beats.h. */
int beats_measures(const struct beats_summary *m, struct table *t, struct mb_error *err)
{
	static const char *const cols[] = { "measure", "value" };
	static const char *const top_names[CONC_NPCT] = { "top1_share", "top3_share", "top5_share",
							  "top10_share", "top20_share" };
	const struct conc_result *r = m->res;
	const struct beats *b = m->b;
	int rc;

	if ((rc = table_init(t, "Concentration", cols, 2, err)))
		return rc;
#define M(name, v, p) \
	do { if ((rc = measure(t, name, v, p, err))) return rc; } while (0)
	M("streets", (double)r->n_streets, -1);
	M("streets_active", (double)r->n_active, -1);
	M("crimes", r->crimes, -1);
	M("crimes_unlocated", (double)b->unlocated, -1);
	M("crimes_unlocated_is_force_wide", 1, -1);
	M("events_in_area_without_coordinates", (double)b->placed_no_street, -1);
	M("months_in_period", m->months_total, -1);
	M("months_used", m->months_used, -1);
	for (int i = 0; i < CONC_NPCT; i++)
		M(top_names[i], r->top_share[i], 12);
	M("crime_free_share", r->crime_free_share, 12);
	M("bandwidth25", r->band25, 12);
	M("bandwidth50", r->band50, 12);
	M("gini", r->gini, 12);
	M("gini_generalized", r->gini_gen, 12);
	M("gini_generalized_bias_corrected", r->gini_gen_bc, 12);
	M("gini_generalized_ci_low", r->gini_gen_lo, 12);
	M("gini_generalized_ci_high", r->gini_gen_hi, 12);
	M("universe_gazetteer", m->gazetteer ? 1 : 0, -1);
	M("universe_frozen", m->frozen ? 1 : 0, -1);
	/* what the observed part of the universe rests on (§0) */
	M("universe_months", m->umonths, -1);
	{
		char first[8] = "", last[8] = "";

		if (m->umonths) {
			month_format(m->ufrom, first);
			month_format(m->uto, last);
		}
		if ((rc = measure_text(t, "universe_first_month", first, err)) ||
		    (rc = measure_text(t, "universe_last_month", last, err)))
			return rc;
	}
	M("hot_n", (double)m->nn, -1);
	M("hot_tied_added", (double)(m->nhot - m->nn), -1);
	M("crimes_outside_universe_kind", (double)b->crimes_outside, -1);
	M("chance_draws", r->chance.draws, -1);
	M("chance_top3_share", r->chance.top_mean[CONC_TOP3], 12);
	M("chance_top3_share_low", r->chance.top_lo[CONC_TOP3], 12);
	M("chance_top3_share_high", r->chance.top_hi[CONC_TOP3], 12);
	M("chance_top3_share_poisson", r->chance.top_poisson[CONC_TOP3], 12);
	M("excess_top3_share", r->chance.top_excess[CONC_TOP3], 12);
	M("chance_gini", r->chance.gini_mean, 12);
	M("chance_gini_poisson", r->chance.gini_poisson, 12);
	M("excess_gini", r->chance.gini_excess, 12);
	if (m->hres) {
		const struct conc_result *h = m->hres;

		M("harm_total", h->crimes, 4);
		for (int i = 0; i < CONC_NPCT; i++) {
			char name[32];

			snprintf(name, sizeof(name), "harm_%s", top_names[i]);
			M(name, h->top_share[i], 12);
		}
		M("harm_bandwidth50", h->band50, 12);
		M("harm_gini", h->gini, 12);
	}
	if (r->stab.present) {
		M("previous_crimes", r->stab.prev_crimes, -1);
		M("stability_jaccard_top3", r->stab.jaccard, 12);
		M("stability_spearman", r->stab.spearman, 12);
		M("hot_persistent", (double)r->stab.n_both, -1);
		M("hot_emerging", (double)r->stab.n_emerging, -1);
		M("hot_former", (double)r->stab.n_former, -1);
	}
#undef M
	return 0;
}
