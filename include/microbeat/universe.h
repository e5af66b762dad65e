/*
 * universe — the frozen observed street universe, and where each snap point
 * lies in every loaded area layer (for naming micro-beats).
 *
 * 'microbeat streets --observed --from A --to B' freezes the micro-beats seen
 * in months A..B into the store (tables universe and universe_member); the
 * analyses then use that N until the analyst freezes again, so later imports
 * no longer move it (docs/methods-concentration.md §0).
 */
#ifndef MICROBEAT_UNIVERSE_H
#define MICROBEAT_UNIVERSE_H

#include <stddef.h>
#include <stdint.h>

#include "microbeat/common.h"

struct store;
struct slice;

/* A frozen observed universe as read back from the store. */
struct universe {
	int present;       /* 1 = a universe is frozen in the store */
	int32_t from, to;  /* the months it was frozen over (months since 2000-01) */
	int32_t months;    /* how many of them were loaded when it was frozen */
	int64_t streets;   /* member micro-beats when it was frozen */
	char frozen[32];   /* when (UTC, ISO 8601) */
	uint64_t *key;     /* member keys, sorted (universe_slice_keys) */
	size_t n;          /* entries of key */
};

/* The keys of the micro-beats of sl with beat_on[id] set (sl->nstreet
 * entries): one per snap-point row of each, its own row's store street id
 * << 32 | (for a place) the row's snap point id. Keying on every row, not on
 * the micro-beat's current street, keeps a member a member when a later
 * import gives its snap points a newer LSOA. *keys is malloc'ed. */
int universe_slice_keys(const struct slice *sl, const uint8_t *beat_on, uint64_t **keys,
			size_t *n, struct mb_error *err);

/* *member (sl->nstreet entries, malloc'ed): 1 for each micro-beat of sl one of
 * whose snap-point rows has a key in u. */
int universe_slice_members(const struct universe *u, const struct slice *sl, uint8_t **member,
			   struct mb_error *err);

/* Read the frozen universe into *u (zeroed first; u->present = 0 when none,
 * also for a store made before the tables existed). Free with
 * universe_release(). */
int store_universe_load(struct store *s, struct universe *u, struct mb_error *err);

/* Replace the frozen universe with the n keys (any order, duplicates
 * allowed) of `beats` micro-beats frozen over months from..to of which
 * `months` are loaded; one transaction. The store must be open for writing. */
int store_universe_save(struct store *s, int32_t from, int32_t to, int32_t months,
			int64_t beats, const uint64_t *keys, size_t n, struct mb_error *err);

/* Streets of the loaded gazetteer (*n = 0 when none). */
int store_gazetteer_count(struct store *s, int64_t *n, struct mb_error *err);

/* Drop the frozen universe: analyses use every loaded month again. */
int store_universe_clear(struct store *s, struct mb_error *err);

/* Free what u holds; u may be loaded again. */
void universe_release(struct universe *u);

/* Where snap points lie in every loaded area layer: for layer j (in load
 * order), name[j] and unit_name[j][unit_of[j][loc]] (NULL = in no unit). */
struct loc_layers {
	size_t n;            /* layers */
	char **name;         /* layer names (owned) */
	uint32_t **unit_of;  /* per layer: snap point id -> unit id (0 = none), sl->nloc entries */
	char ***unit_name;   /* per layer: unit id -> unit name (owned; NULL gaps) */
	size_t *nunit;       /* per layer: entries of unit_name[j] */
};

/* Fill *ll for every layer loaded in the store (none: ll->n = 0). */
int store_loc_layers(struct store *s, const struct slice *sl, struct loc_layers *ll,
		     struct mb_error *err);
void loc_layers_release(struct loc_layers *ll);

#endif
