/* beats_label — where a micro-beat is, in words a map reader can use: a
 * place's kind and its nearest street (include/microbeat/beats.h,
 * docs/methods-concentration.md §5b). Shared by 'concentration' (its hot
 * rows) and 'deepdive' (its partner overlay). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "microbeat/beats.h"
#include "microbeat/slice.h"

/* "PETROL STATION" -> "Petrol station" into out (ASCII letters only change). */
static void sentence_case(const char *s, char *out, size_t cap)
{
	size_t o = 0;

	for (; *s && o + 1 < cap; s++, o++)
		out[o] = (char)(o == 0 ? *s : (*s >= 'A' && *s <= 'Z' ? *s + 32 : *s));
	out[o] = '\0';
}

/* A street snap point in an lsoa_index, its coordinates copied beside it: a
 * place's search reads one run of memory, not the slice's scattered arrays. */
struct lsoa_pt {
	double lon, lat; /* sl->loc_lon[loc], sl->loc_lat[loc] */
	uint32_t beat;   /* sl->loc_beat[loc]: its street micro-beat */
};

/* The LSOAs of the listed places, each with the street snap points filed
 * under it, so a place searches its own LSOA only. An LSOA is known by the
 * address of its code in the slice's string storage (one code, one address). */
struct lsoa_index {
	uintptr_t *key; /* hash table (open addressing): an LSOA's address, 0 = empty */
	uint32_t *slot; /* per table entry: the LSOA's slot 0..m-1 */
	size_t mask;    /* table entries - 1 (a power of two, at least twice m) */
	size_t m;       /* LSOAs */
	size_t *start;  /* per slot: its first entry in pts; start[m] = the total */
	struct lsoa_pt *pts; /* street snap points grouped by slot, in snap point order */
};

/* The table entry of key: its own, or the empty one where it would go. */
static size_t lsoa_find(const struct lsoa_index *ix, uintptr_t key)
{
	size_t h = (size_t)(((uint64_t)key >> 3) * 0x9E3779B97F4A7C15ull >> 20) & ix->mask;

	while (ix->key[h] && ix->key[h] != key)
		h = (h + 1) & ix->mask;
	return h;
}

/* The slot of the LSOA at address lsoa, or UINT32_MAX when not indexed. */
static uint32_t lsoa_slot(const struct lsoa_index *ix, const char *lsoa)
{
	size_t h = lsoa_find(ix, (uintptr_t)lsoa);

	return ix->key[h] ? ix->slot[h] : UINT32_MAX;
}

static void lsoa_index_free(struct lsoa_index *ix)
{
	free(ix->key);
	free(ix->slot);
	free(ix->start);
	free(ix->pts);
}

/* Micro-beat beat[k] of sl when it is a place with a usable point (*at: its
 * snap point, else at_of[k] when given): the one whose LSOA nearest_street
 * searches; NULL otherwise. */
static const struct slice_street *row_place(const struct slice *sl, const uint32_t *beat,
					    const uint32_t *at_of, size_t k, uint32_t *at)
{
	const struct slice_street *t = &sl->streets[beat[k]];

	*at = t->snap ? t->snap : at_of ? at_of[k] : 0;
	return t->place && *at && *at < sl->nloc && isfinite(sl->loc_lat[*at]) ? t : NULL;
}

/* Index the LSOAs of the listed places (the keys), then every street snap
 * point with coordinates in one of them (a counting sort by slot: no sort of
 * all the snap points). */
static int lsoa_index_build(const struct slice *sl, const uint32_t *beat, const uint32_t *at_of,
			    size_t n, struct lsoa_index *ix)
{
	size_t cap = 16, np = 0;
	uint32_t *of = NULL, at;

	while (cap < 2 * n + 2)
		cap *= 2;
	ix->mask = cap - 1;
	ix->key = calloc(cap, sizeof(*ix->key));
	ix->slot = malloc(cap * sizeof(*ix->slot));
	if (!ix->key || !ix->slot)
		return -1;
	for (size_t k = 0; k < n; k++) {
		const struct slice_street *t = row_place(sl, beat, at_of, k, &at);
		size_t h;

		if (!t || ix->key[h = lsoa_find(ix, (uintptr_t)t->lsoa)])
			continue;
		ix->key[h] = (uintptr_t)t->lsoa;
		ix->slot[h] = (uint32_t)ix->m++;
	}
	ix->start = calloc(ix->m + 2, sizeof(*ix->start));
	of = malloc((sl->nloc + 1) * sizeof(*of));
	if (!ix->start || !of) {
		free(of);
		return -1;
	}
	for (size_t l = 0; l < sl->nloc; l++) {
		uint32_t b = sl->loc_beat && l ? sl->loc_beat[l] : 0;

		of[l] = UINT32_MAX;
		if (b && b < sl->nstreet && !sl->streets[b].place && *sl->streets[b].lsoa &&
		    isfinite(sl->loc_lon[l]) && isfinite(sl->loc_lat[l]) &&
		    (of[l] = lsoa_slot(ix, sl->streets[b].lsoa)) != UINT32_MAX)
			ix->start[of[l] + 2]++;
	}
	for (size_t i = 2; i < ix->m + 2; i++) /* start[s + 2]: counts, then start[s + 1]: ends */
		ix->start[i] += ix->start[i - 1];
	np = ix->start[ix->m + 1];
	ix->pts = malloc((np + 1) * sizeof(*ix->pts));
	if (!ix->pts) {
		free(of);
		return -1;
	}
	for (size_t l = 0; l < sl->nloc; l++)
		if (of[l] != UINT32_MAX)
			ix->pts[ix->start[of[l] + 1]++] = (struct lsoa_pt){ sl->loc_lon[l], sl->loc_lat[l],
									    sl->loc_beat[l] };
	free(of);
	return 0;
}

/* The nearest street snap point to `at` among pts[lo..hi) (one LSOA): its
 * micro-beat, 0 when none; the first of equally near ones. Equirectangular
 * distance. */
static uint32_t nearest_street(const struct slice *sl, const struct lsoa_pt *pts, size_t lo,
			       size_t hi, uint32_t at)
{
	double best = INFINITY, c = cos(sl->loc_lat[at] * M_PI / 180);
	double lon = sl->loc_lon[at], lat = sl->loc_lat[at];
	uint32_t beat = 0;

	for (size_t i = lo; i < hi; i++) {
		double dx = (pts[i].lon - lon) * c, dy = pts[i].lat - lat;

		if (dx * dx + dy * dy < best) {
			best = dx * dx + dy * dy;
			beat = pts[i].beat;
		}
	}
	return beat;
}

int beats_label(const struct slice *sl, const uint32_t *beat, const uint32_t *at_of, size_t n,
		char **label, uint32_t *near, struct mb_error *err)
{
	struct lsoa_index ix = { 0 };
	int r = 0;

	memset(label, 0, n * sizeof(*label));
	if (lsoa_index_build(sl, beat, at_of, n, &ix)) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t k = 0; k < n; k++) {
		uint32_t at, s, by = 0;
		const struct slice_street *p = row_place(sl, beat, at_of, k, &at);
		const struct slice_street *t = &sl->streets[beat[k]];
		char buf[512], kind[128];

		if (p && (s = lsoa_slot(&ix, p->lsoa)) != UINT32_MAX)
			by = nearest_street(sl, ix.pts, ix.start[s], ix.start[s + 1], at);
		if (near)
			near[k] = by;
		sentence_case(t->name, kind, sizeof(kind));
		if (!t->place)
			snprintf(buf, sizeof(buf), "%s", t->name);
		else if (by)
			snprintf(buf, sizeof(buf), "%s, near %s", kind, sl->streets[by].name);
		else
			snprintf(buf, sizeof(buf), "%s", kind);
		if (!(label[k] = strdup(buf))) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
	}
cleanup:
	lsoa_index_free(&ix);
	return r;
}
