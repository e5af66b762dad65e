/* trend_series — the monthly series of 'microbeat trends': the total and one
 * per type, area or unit, counted from the slice. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "microbeat/store.h"
#include "trends_internal.h"

/* The area series key of a street: its LSOA name without the final letter
 * ("South Cambridgeshire 016A" -> "South Cambridgeshire 016"), i.e. the MSOA. */
static void area_key(const char *lsoa_name, char *out, size_t cap)
{
	size_t n = strlen(lsoa_name);

	if (n > 1 && lsoa_name[n - 1] >= 'A' && lsoa_name[n - 1] <= 'Z' && lsoa_name[n - 2] >= '0' &&
	    lsoa_name[n - 2] <= '9')
		n--;
	snprintf(out, cap, "%.*s", (int)n, lsoa_name);
}

static int add_series(struct trends_run *tr, const char *name, struct mb_error *err)
{
	if (tr->ns >= MAX_SERIES)
		return mb_err(err, MB_EUSAGE, "more than %d series: narrow --types or --area", MAX_SERIES);
	struct series *x = &tr->s[tr->ns];

	x->name = strdup(name);
	x->count = calloc((size_t)tr->nspan, sizeof(double));
	if (!x->name || !x->count)
		return mb_err(err, MB_ENOMEM, "out of memory");
	x->q = NAN;
	x->contrib = NAN;
	tr->ns++;
	return 0;
}

/* Build the series and their monthly counts. */
int trends_build_series(struct trends_run *tr, struct store *s, struct mb_error *err)
{
	struct slice *sl = &tr->sl;
	int32_t *sid_of = NULL; /* category or street -> series index */
	uint8_t *on = NULL;     /* category -> selected (select_type_on once, not an event) */
	char key[256];
	int r = 0;

	tr->s = calloc(MAX_SERIES, sizeof(*tr->s));
	if (!tr->s)
		return mb_err(err, MB_ENOMEM, "out of memory");
	if ((r = add_series(tr, tr->by == 0 ? "All selected crime" : "Total", err)))
		return r;
	for (size_t i = 0; i < tr->sel.ntypes; i++) {
		int found = 0;

		for (size_t c = 1; c < sl->ncat; c++)
			found |= sl->cat_name[c] && strcasecmp(sl->cat_name[c], tr->sel.types[i]) == 0;
		if (!found)
			return mb_err(err, MB_ENOTFOUND, "crime type '%s' is not in the store",
				      tr->sel.types[i]);
	}
	size_t nkey = tr->by == 2 ? sl->nstreet : tr->by == 3 ? sl->nunit + 1 : sl->ncat;

	sid_of = malloc(nkey * sizeof(*sid_of));
	on = calloc(sl->ncat + 1, 1);
	if (!sid_of || !on) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t c = 1; c < sl->ncat; c++)
		on[c] = (uint8_t)select_type_on(&tr->sel, sl->cat_name[c]);
	for (size_t k = 0; k < nkey; k++)
		sid_of[k] = -1;
	if (tr->by == 1) {
		/* one series per selected type, in name order */
		for (;;) {
			size_t best = 0;

			for (size_t c = 1; c < sl->ncat; c++)
				if (sid_of[c] < 0 && select_type_on(&tr->sel, sl->cat_name[c]) &&
				    (!best || strcmp(sl->cat_name[c], sl->cat_name[best]) < 0))
					best = c;
			if (!best)
				break;
			sid_of[best] = (int32_t)tr->ns;
			if ((r = add_series(tr, sl->cat_name[best], err)))
				goto cleanup;
		}
	} else if (tr->by == 2) {
		/* one series per MSOA-like prefix of the LSOA name; never a key that
		   mixes LSOA vintages (docs/methods.md §4) */
		char **names = NULL, example[300];
		size_t renum = 0;

		if ((r = store_lsoa_renumbered(s, sl, &renum, example, sizeof(example), err)))
			goto cleanup;
		if (renum) {
			r = mb_err(err, MB_EUSAGE, "--by area keys a series on the MSOA in the LSOA name, but"
				   " %zu LSOAs of the area were renumbered between census vintages (%s):"
				   " the series would mix vintages; use --by LAYER (e.g. wards, placed by"
				   " point in polygon)", renum, example);
			goto cleanup;
		}
		if ((r = store_lsoa_names(s, sl, &names, err)))
			goto cleanup;
		for (size_t id = 1; id < sl->nstreet; id++) {
			if (!sl->street_in_area[id] || !names[id])
				continue;
			area_key(names[id], key, sizeof(key));
			int32_t found = -1;

			for (size_t k = 1; k < tr->ns && found < 0; k++)
				if (strcmp(tr->s[k].name, key) == 0)
					found = (int32_t)k;
			if (found < 0) {
				found = (int32_t)tr->ns;
				if ((r = add_series(tr, key, err))) {
					store_lsoa_names_free(sl, names);
					goto cleanup;
				}
			}
			sid_of[id] = found;
		}
		store_lsoa_names_free(sl, names);
	} else if (tr->by == 3) {
		/* one series per selected unit with an event in the span, in name order */
		uint8_t *has = calloc(sl->nunit + 1, 1);

		if (!has) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
		for (size_t i = 0; i < sl->n; i++)
			has[sl->unit[i]] = 1;
		for (size_t i = 0; i < sl->n_nc; i++)
			has[sl->nc_unit[i]] = 1;
		for (;;) {
			size_t best = 0;

			for (size_t u = 1; u < sl->nunit; u++)
				if (sid_of[u] < 0 && has[u] && sl->unit_chosen[u] &&
				    (!best || strcmp(sl->unit_name[u], sl->unit_name[best]) < 0))
					best = u;
			if (!best)
				break;
			sid_of[best] = (int32_t)tr->ns;
			if ((r = add_series(tr, sl->unit_name[best], err))) {
				free(has);
				goto cleanup;
			}
		}
		free(has);
	}
	/* events placed in the area without coordinates (agency rows by LSOA or
	   unit code) count in the area's series, on no street */
	for (size_t i = 0; i < sl->n_nc; i++) {
		uint32_t c = sl->nc_category[i];
		int32_t m = sl->nc_month[i] - tr->span_from;

		if (m < 0 || m >= tr->nspan || c >= sl->ncat || !on[c])
			continue;
		tr->s[0].count[m] += 1;
		int32_t k = tr->by == 1 ? sid_of[c] : tr->by == 3 ? sid_of[sl->nc_unit[i]] : -1;

		if (k > 0)
			tr->s[k].count[m] += 1;
	}
	for (size_t i = 0; i < sl->n; i++) {
		uint32_t c = sl->category[i];
		int32_t m = sl->month[i] - tr->span_from;

		if (m < 0 || m >= tr->nspan || c >= sl->ncat || !on[c])
			continue;
		tr->s[0].count[m] += 1;
		int32_t k = tr->by == 1 ? sid_of[c] : tr->by == 2 ? sid_of[sl->street[i]]
			  : tr->by == 3 ? sid_of[sl->unit[i]] : -1;

		if (k > 0)
			tr->s[k].count[m] += 1;
	}
cleanup:
	free(sid_of);
	free(on);
	return r;
}

