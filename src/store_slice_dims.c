/* store_slice_dims — what a slice is keyed by: its string storage, the
 * categories and sources (with the --types/--source filters), the force
 * extract's subgroup and strand names, and the layer's units. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "microbeat/slice.h"
#include "microbeat/util.h"
#include "store_internal.h"
#include "store_scope.h"

#define ASB "Anti-social behaviour"

int slice_put_str(struct slice *sl, const char *p, size_t *off)
{
	size_t n = strlen(p ? p : "") + 1;

	*off = 0;
	if (n > SIZE_MAX - sl->strings_used ||
	    GROW(sl->strings, sl->strings_used + n, sl->strings_cap))
		return -1;
	memcpy(sl->strings + sl->strings_used, p ? p : "", n);
	sl->strings_used += n;
	*off = sl->strings_used - n + 1;
	return 0;
}

static int in_list(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(name, list[i]) == 0)
			return 1;
	return 0;
}

int slice_load_categories(struct store *s, const struct slice_query *q, struct slice *sl,
			  size_t *cat_off, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = store_prepare(s, &st, "SELECT id, name, harm FROM category", err)))
		return r;
	while (sqlite3_step(st) == SQLITE_ROW) {
		size_t id = (size_t)sqlite3_column_int64(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);

		if (id >= sl->ncat)
			continue;
		if (slice_put_str(sl, name, &cat_off[id])) {
			sqlite3_finalize(st);
			return mb_err(err, MB_ENOMEM, "out of memory loading the slice");
		}
		sl->cat_harm[id] = sqlite3_column_type(st, 2) == SQLITE_NULL ? NAN
						: sqlite3_column_double(st, 2);
		int sel;

		if (q->ntypes)
			sel = in_list(name, q->types, q->ntypes);
		else
			sel = q->include_asb || strcasecmp(name, ASB) != 0;
		if (sel && q->nexclude && in_list(name, q->exclude, q->nexclude))
			sel = 0;
		sl->cat_selected[id] = (uint8_t)sel;
	}
	sqlite3_finalize(st);
	for (size_t i = 0; i < q->ntypes; i++) {
		int found = 0;

		for (size_t id = 1; id < sl->ncat && !found; id++)
			found = cat_off[id] && strcasecmp(sl->strings + cat_off[id] - 1, q->types[i]) == 0;
		if (!found)
			return mb_err(err, MB_ENOTFOUND,
				      "crime type '%s' is not in the store (see 'microbeat info')",
				      q->types[i]);
	}
	return 0;
}

int slice_load_extract_names(struct store *s, struct slice *sl, const char *max_sql,
			     const char *sql, size_t *n, char ***names, size_t **off,
			     struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = store_max_id(s, max_sql, n, err)))
		return r;
	if (*n > 0xffff)
		return mb_err(err, MB_EDB, "the store holds more than 65535 offence subgroups or"
			      " hate strands");
	*names = calloc(*n, sizeof(char *));
	*off = calloc(*n, sizeof(size_t));
	if (!*names || !*off)
		return mb_err(err, MB_ENOMEM, "out of memory loading the slice");
	if ((r = store_prepare(s, &st, sql, err)))
		return r;
	while (sqlite3_step(st) == SQLITE_ROW) {
		size_t id = (size_t)sqlite3_column_int64(st, 0);

		if (id >= *n)
			continue;
		if (slice_put_str(sl, (const char *)sqlite3_column_text(st, 1), &(*off)[id])) {
			sqlite3_finalize(st);
			return mb_err(err, MB_ENOMEM, "out of memory loading the slice");
		}
	}
	sqlite3_finalize(st);
	return 0;
}

int slice_extract_held(struct store *s, int *yes, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = store_has_table(s, "event_extra", yes, err)) || !*yes)
		return r;
	if ((r = store_prepare(s, &st, "SELECT EXISTS (SELECT 1 FROM event_extra)"
				   " OR EXISTS (SELECT 1 FROM event_when)", err)))
		return r;
	*yes = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

int slice_load_sources(struct store *s, const struct slice_query *q, struct slice *sl,
		       size_t *src_off, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = store_prepare(s, &st, "SELECT id, name FROM source", err)))
		return r;
	while (sqlite3_step(st) == SQLITE_ROW) {
		size_t id = (size_t)sqlite3_column_int64(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);

		if (id >= sl->nsource)
			continue;
		if (slice_put_str(sl, name, &src_off[id])) {
			sqlite3_finalize(st);
			return mb_err(err, MB_ENOMEM, "out of memory loading the slice");
		}
		sl->src_on[id] = !q->nsources || in_list(name, q->sources, q->nsources);
	}
	sqlite3_finalize(st);
	for (size_t i = 0; i < q->nsources; i++) {
		int found = 0;

		for (size_t id = 1; id < sl->nsource && !found; id++)
			found = src_off[id] && strcasecmp(sl->strings + src_off[id] - 1, q->sources[i]) == 0;
		if (!found)
			return mb_err(err, MB_ENOTFOUND,
				      "source '%s' is not in the store (see 'microbeat info')",
				      q->sources[i]);
	}
	if ((r = store_prepare(s, &st, "SELECT DISTINCT m.source_id FROM import_month m JOIN import i"
				       " ON i.id = m.import_id WHERE i.format = 'street'", err)))
		return r;
	while (sqlite3_step(st) == SQLITE_ROW) {
		size_t id = (size_t)sqlite3_column_int64(st, 0);

		if (id < sl->nsource)
			sl->src_police[id] = 1;
	}
	sqlite3_finalize(st);
	if (q->police_only && !q->nsources)
		for (size_t id = 1; id < sl->nsource; id++)
			sl->src_on[id] &= sl->src_police[id];
	return 0;
}

int slice_copy_units(const struct scope *sc, struct slice *sl, struct mb_error *err)
{
	if (!sc->layer_id)
		return 0;
	sl->nunit = sc->nunit;
	sl->unit_code = calloc(sc->nunit, sizeof(char *));
	sl->unit_name = calloc(sc->nunit, sizeof(char *));
	sl->unit_chosen = calloc(sc->nunit, 1);
	if (!sl->unit_code || !sl->unit_name || !sl->unit_chosen)
		return mb_err(err, MB_ENOMEM, "out of memory");
	for (size_t u = 1; u < sc->nunit; u++) {
		sl->unit_code[u] = strdup(sc->unit_code[u] ? sc->unit_code[u] : "");
		sl->unit_name[u] = strdup(sc->unit_name[u] ? sc->unit_name[u] : "");
		if (!sl->unit_code[u] || !sl->unit_name[u])
			return mb_err(err, MB_ENOMEM, "out of memory");
		sl->unit_chosen[u] = sc->kind == SCOPE_AUTHORITY || scope_unit_in(sc, (uint32_t)u);
	}
	/* the column exists even when no event is loaded */
	sl->unit = malloc(sizeof(uint32_t));
	return sl->unit ? 0 : mb_err(err, MB_ENOMEM, "out of memory");
}
