/* hotspot_prep — 'hotspots': the run's data: counted types, the micro-beats and their
 * positions, the periods' counts, the default Gi* band, the Knox events
 * (docs/methods-hotspots.md §0-§2, §6). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gsl/gsl_statistics_double.h>

#include "hotspot_internal.h"
#include "microbeat/util.h"

/* Which categories count; an unknown --types name is an error. */
int hsr_pick_types(struct hs_run *hr, struct mb_error *err)
{
	struct slice *sl = &hr->sl;

	hr->selected = calloc(sl->ncat, 1);
	if (!hr->selected)
		return mb_err(err, MB_ENOMEM, "out of memory");
	for (size_t i = 0; i < hr->sel.ntypes; i++) {
		int found = 0;

		for (size_t c = 1; c < sl->ncat; c++)
			found |= sl->cat_name[c] && strcasecmp(sl->cat_name[c], hr->sel.types[i]) == 0;
		if (!found)
			return mb_err(err, MB_ENOTFOUND, "crime type '%s' is not in the store",
				      hr->sel.types[i]);
	}
	for (size_t c = 1; c < sl->ncat; c++)
		hr->selected[c] = (uint8_t)select_type_on(&hr->sel, sl->cat_name[c]);
	return 0;
}

/* Every month of [a, b] loaded (b < slice end). */
static int months_loaded(const struct slice *sl, int32_t a, int32_t b)
{
	if (a < sl->month_from || b > sl->month_to)
		return 0;
	for (int32_t m = a; m <= b; m++)
		if (!sl->month_present[m - sl->month_from])
			return 0;
	return 1;
}

/* The universe (the observed one of 'concentration': a micro-beat of the
 * area with an event in any loaded month) and its positions: the mean of
 * the micro-beat's snap points (docs/methods-hotspots.md §1). */
int hsr_universe(struct hs_run *hr, struct mb_error *err)
{
	struct slice *sl = &hr->sl;
	uint8_t *seen = calloc(sl->nstreet + 1, 1);
	double *cnt = NULL, slon = 0, slat = 0;
	size_t npos = 0;

	hr->uindex = malloc((sl->nstreet + 1) * sizeof(*hr->uindex));
	hr->beat = malloc((sl->nstreet + 1) * sizeof(*hr->beat));
	if (!seen || !hr->uindex || !hr->beat) {
		free(seen);
		return mb_err(err, MB_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < sl->n; i++)
		seen[slice_event_beat(sl, i)] = 1;
	/* the located events outside the keep window: their snap points' micro-beats */
	for (size_t j = 0; j < sl->nseen; j++)
		seen[sl->loc_beat[sl->seen_loc[j]]] = 1;
	hr->uindex[0] = -1;
	for (size_t id = 1; id < sl->nstreet; id++) {
		int in = seen[id] && sl->street_in_area[id];

		hr->uindex[id] = in ? (int32_t)hr->n : -1;
		if (in)
			hr->beat[hr->n++] = (uint32_t)id;
	}
	free(seen);
	hr->lon = calloc(hr->n + 1, sizeof(double));
	hr->lat = calloc(hr->n + 1, sizeof(double));
	hr->x = calloc(hr->n + 1, sizeof(double));
	hr->y = calloc(hr->n + 1, sizeof(double));
	cnt = calloc(hr->n + 1, sizeof(double));
	if (!hr->lon || !hr->lat || !hr->x || !hr->y || !cnt) {
		free(cnt);
		return mb_err(err, MB_ENOMEM, "out of memory");
	}
	for (size_t l = 1; l < sl->nloc; l++) {
		uint32_t b = sl->loc_beat[l];
		int32_t u = b < sl->nstreet ? hr->uindex[b] : -1;

		if (u < 0 || !isfinite(sl->loc_lon[l]) || !isfinite(sl->loc_lat[l]))
			continue;
		hr->lon[u] += sl->loc_lon[l];
		hr->lat[u] += sl->loc_lat[l];
		cnt[u] += 1;
	}
	for (size_t u = 0; u < hr->n; u++) {
		const struct slice_street *t = &sl->streets[hr->beat[u]];

		if (cnt[u] > 0) {
			hr->lon[u] /= cnt[u];
			hr->lat[u] /= cnt[u];
		} else {
			hr->lon[u] = t->lon;
			hr->lat[u] = t->lat;
		}
		if (isfinite(hr->lon[u]) && isfinite(hr->lat[u])) {
			slon += hr->lon[u];
			slat += hr->lat[u];
			npos++;
		}
	}
	free(cnt);
	hr->npos = npos;
	if (npos == 0 && sl->nseen) {
		/* the plane's centre is then the mean of every located event of
		 * every loaded month: the caller loads them all (rare: agency
		 * points on no micro-beat) */
		hr->reload = 1;
		return 0;
	}
	if (npos == 0) {
		/* no micro-beat: events located by coordinates only (agency points,
		 * on no street) still centre the plane for the Knox test */
		for (size_t i = 0; i < sl->n; i++) {
			uint32_t l = sl->location[i];

			if (slice_event_beat(sl, i) == 0 && l && l < sl->nloc && isfinite(sl->loc_lon[l]) &&
			    isfinite(sl->loc_lat[l])) {
				slon += sl->loc_lon[l];
				slat += sl->loc_lat[l];
				npos++;
			}
		}
	}
	if (npos == 0 && !sl->scope_units)
		return mb_err(err, MB_ENOTFOUND, "hotspots: no located event of the selection in %s"
			      " (an authority holds the events whose LSOA lies in it; agency points"
			      " with coordinates only are placed by a layer's boundaries: --layer L"
			      " --area U)", MB_SHOWN(sl->scope_label));
	if (npos == 0)
		return mb_err(err, MB_ENOTFOUND, "hotspots: no located event of the selection in %s",
			      MB_SHOWN(sl->scope_label));
	hr->lon0 = slon / (double)npos;
	hr->lat0 = slat / (double)npos;
	for (size_t u = 0; u < hr->n; u++)
		hs_project(hr->lon[u], hr->lat[u], hr->lon0, hr->lat0, &hr->x[u], &hr->y[u]);
	return 0;
}

void hsr_universe_release(struct hs_run *hr)
{
	free(hr->lon);
	free(hr->lat);
	free(hr->x);
	free(hr->y);
	free(hr->beat);
	free(hr->uindex);
	hr->lon = hr->lat = hr->x = hr->y = NULL;
	hr->beat = NULL;
	hr->uindex = NULL;
	hr->n = hr->npos = 0;
	hr->reload = 0;
}

/* The periods: the selected one and up to want - 1 before it, of equal
 * length, each fully loaded; counts per micro-beat and period, and the
 * KDE's weights: the selected period's crimes on the universe by snap point. */
int hsr_periods(struct hs_run *hr, size_t want, struct mb_error *err)
{
	struct slice *sl = &hr->sl;
	int32_t len = hr->sel.to - hr->sel.from + 1;
	int32_t from[MAX_PERIODS];
	size_t k = 0;

	from[k++] = hr->sel.from;
	while (k < want && months_loaded(sl, hr->sel.from - (int32_t)k * len,
					 hr->sel.from - (int32_t)k * len + len - 1)) {
		from[k] = hr->sel.from - (int32_t)k * len;
		k++;
	}
	hr->nper = k;
	for (size_t t = 0; t < k; t++) {
		char a[8], b[8];

		hr->per_from[t] = from[k - 1 - t];
		month_format(hr->per_from[t], a);
		month_format(hr->per_from[t] + len - 1, b);
		snprintf(hr->per_label[t], sizeof(hr->per_label[t]), "%s..%s", a, b);
	}
	hr->count = calloc(hr->nper * hr->n + 1, sizeof(double));
	hr->kde_w = calloc(sl->nloc + 1, sizeof(*hr->kde_w));
	if (!hr->count || !hr->kde_w)
		return mb_err(err, MB_ENOMEM, "out of memory");
	for (size_t i = 0; i < sl->n; i++) {
		int32_t u = hr->uindex[slice_event_beat(sl, i)], m = sl->month[i];

		if (u < 0 || !hr->selected[sl->category[i]])
			continue;
		for (size_t t = 0; t < hr->nper; t++)
			if (m >= hr->per_from[t] && m < hr->per_from[t] + len) {
				hr->count[t * hr->n + (size_t)u] += 1;
				if (t == hr->nper - 1) {
					hr->events_period++;
					hr->kde_w[sl->location[i]]++;
				}
			}
	}
	return 0;
}

/* The q-quantile (0..1) of the m finite values of v (reordered in place; the
 * ceil(q m)-th smallest), by GSL's selection: no sort of them all. */
double hsr_quantile(double *v, size_t m, double q)
{
	size_t k;

	if (m == 0)
		return NAN;
	k = (size_t)ceil(q * (double)m);
	return gsl_stats_select(v, 1, m, k ? k - 1 : 0);
}

/* Default band: the distance at which 99 % of the micro-beats have a
 * neighbour (the 99th percentile of nearest-neighbour distances), rounded up
 * to 10 m. Not the largest: one remote snap point (a British Transport
 * Police station 100 km off) would set the band for the whole area; the
 * micro-beats beyond it are reported isolated. */
int hsr_default_band(struct hs_run *hr, struct mb_error *err)
{
	double *nn = NULL;
	size_t m = 0;
	int r;

	if ((r = hs_nearest(hr->n, hr->x, hr->y, &nn, err)))
		return r;
	for (size_t u = 0; u < hr->n; u++)
		if (isfinite(nn[u]))
			nn[m++] = nn[u];
	hr->band = ceil(hsr_quantile(nn, m, 0.99) / 10.0) * 10.0;
	free(nn);
	/* at most one micro-beat with coordinates: any band leaves it isolated */
	if (!(hr->band >= 10) || !isfinite(hr->band))
		hr->band = 10;
	return 0;
}

/* ---- Knox ----------------------------------------------------------------------- */

/* Is event i one of the Knox test's (see hsr_knox_events)? */
static int knox_event(const struct hs_run *hr, size_t i, int32_t from, int32_t len)
{
	const struct slice *sl = &hr->sl;
	int32_t mo = sl->month[i];
	uint32_t l = sl->location[i];

	return !(mo < from || mo >= from + len || !hr->selected[sl->category[i]] ||
		 (slice_event_beat(sl, i) && hr->uindex[slice_event_beat(sl, i)] < 0) || sl->day[i] < 0 || l == 0 ||
		 l >= sl->nloc || !isfinite(sl->loc_lon[l]) || !isfinite(sl->loc_lat[l]));
}

/* The Knox test's events: the selected period's dated events of the counted
 * types at their own points, on the plane: a police crime's snap point (its
 * micro-beat in the area's universe), or an agency incident's converted
 * coordinates (such points are on no micro-beat; the slice holds them only
 * when the selector placed them in the area). Taken before the slice's
 * events are freed; the test runs later (hsr_knox). */
int hsr_knox_events(struct hs_run *hr, struct mb_error *err)
{
	struct slice *sl = &hr->sl;
	int32_t len = hr->sel.to - hr->sel.from + 1, from = hr->per_from[hr->nper - 1];
	size_t m = 0;

	for (size_t i = 0; i < sl->n; i++)
		m += (size_t)knox_event(hr, i, from, len);
	hr->kn_x = malloc((m + 1) * sizeof(double));
	hr->kn_y = malloc((m + 1) * sizeof(double));
	hr->kn_day = malloc((m + 1) * sizeof(int32_t));
	if (!hr->kn_x || !hr->kn_y || !hr->kn_day)
		return mb_err(err, MB_ENOMEM, "out of memory");
	m = 0;
	for (size_t i = 0; i < sl->n; i++) {
		uint32_t l = sl->location[i];

		if (!knox_event(hr, i, from, len))
			continue;
		hs_project(sl->loc_lon[l], sl->loc_lat[l], hr->lon0, hr->lat0, &hr->kn_x[m],
			   &hr->kn_y[m]);
		hr->kn_day[m++] = sl->day[i];
	}
	hr->knox_events = m;
	return 0;
}

/* Run the Knox test on the events hsr_knox_events took. */
int hsr_knox(struct hs_run *hr, struct mb_error *err)
{
	int r;

	if (hr->knox_events < 2)
		return mb_err(err, MB_EUSAGE, "knox: fewer than 2 dated events in the period");
	r = hs_knox_run(hr->knox_events, hr->kn_x, hr->kn_y, hr->kn_day, hr->kd, hr->nkd, hr->kt,
			hr->nkt, hr->perms, hr->seed, &hr->knox, err);
	if (!r)
		hr->knox_done = 1;
	return r;
}
