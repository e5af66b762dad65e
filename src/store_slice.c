/* store_slice — load the events of a period x area x types into columnar arrays. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "microbeat/places.h"
#include "microbeat/slice.h"
#include "microbeat/util.h"
#include "store_internal.h"
#include "store_scope.h"

/* What scan_row needs: the query, the slice being filled, the lookups made
 * before the event scan, and the unlocated events gathered on the way. */
struct scan {
	const struct slice_query *q;  /* period, area, types */
	struct slice *sl;             /* located events go here */
	const struct scope *sc;       /* the area selection */
	const uint32_t *loc_street;   /* snap point id -> street id */
	const uint32_t *loc_lsoa;     /* snap point id -> LSOA id */
	int64_t *unl_by_source;       /* unlocated events a source */
	uint8_t *src_covers;          /* sources with a located event in the area */
	int32_t pfrom, pto;           /* the analysis period (per-source counts) */
	int32_t *loc_last;            /* snap point id -> its latest month in the scan + 1 (0 =
					 not seen), whatever the area: its identity (snap_identity) */
	size_t cap;                   /* capacity of sl's event columns */
	size_t nccap;                 /* capacity of sl's nc_ columns */
	int32_t *um;                  /* unlocated events: month */
	uint32_t *uc, *us;            /* ... category, source */
	size_t un, ucap;              /* how many, capacity */
	int oom;                      /* out of memory: the scan stopped */
	int extract;                  /* fill the force-extract columns (q->extract, rows held) */
	sqlite3_stmt *unit_st;        /* block scan with a layer: an event's unit in it */
	int db_failed;                /* block scan: a unit lookup failed */
	uint8_t *seen_mark;           /* keep window: snap point -> listed in sl->seen_* */
	size_t seencap;               /* capacity of sl's seen_ columns */
};

/* Where the selector puts an event: 2 in the area, 1 outside it, 0 nowhere
 * it can test (docs/methods.md, "Area selection"); *unit its unit of the layer.
 * loc: snap point (0 none); xy: it has coordinates; eunit: the dense unit of
 * an agency row coded to a unit (0 none). */
static int place_event(const struct scan *k, uint32_t loc, int xy, uint32_t eunit, uint32_t *unit)
{
	const struct scope *sc = k->sc;
	uint32_t l;

	*unit = 0;
	/* everywhere: a point needs no LSOA (a lookup a located event saves) */
	if (!sc->layer_id && sc->kind == SCOPE_ALL && xy)
		return 2;
	l = loc < k->sl->nloc ? k->loc_lsoa[loc] : 0;
	if (!sc->layer_id) {
		if (sc->kind == SCOPE_ALL)
			return l ? 2 : 0;
		return l ? (sc->lsoa_in[l] ? 2 : 1) : 0;
	}
	if (eunit)
		*unit = eunit;
	else if (xy)
		*unit = sc->loc_unit[loc];
	else if (l)
		*unit = sc->lsoa_unit[l < sc->nlsoa ? l : 0];
	if (sc->kind == SCOPE_AUTHORITY) {
		if (l)
			return sc->lsoa_in[l] ? 2 : 1;
		/* a point without an LSOA code (a fire service's incident): the
		 * layer's boundaries put it in a unit of the authority or not;
		 * a row coded to a unit, likewise */
		if (sc->unit_auth && (eunit || (xy && sc->boundaries)) && *unit && *unit < sc->nunit)
			return sc->unit_auth[*unit] ? 2 : 1;
		return 0;
	}
	if (!eunit && !l && !(xy && sc->boundaries))
		return 0;
	return scope_unit_in(sc, *unit) ? 2 : 1;
}

/* File one event without coordinates placed in the area. */
static int add_nc(struct scan *k, int32_t month, uint32_t cat, uint32_t unit, uint32_t src)
{
	struct slice *sl = k->sl;

	if (sl->n_nc == k->nccap) {
		size_t ncap = k->nccap ? k->nccap * 2 : 1024;
		int ok = 1;

		REGROW(sl->nc_month, ncap, ok);
		REGROW(sl->nc_category, ncap, ok);
		REGROW(sl->nc_unit, ncap, ok);
		REGROW(sl->nc_source, ncap, ok);
		if (!ok)
			return -1;
		k->nccap = ncap;
	}
	sl->nc_month[sl->n_nc] = month;
	sl->nc_category[sl->n_nc] = cat;
	sl->nc_unit[sl->n_nc] = unit;
	sl->nc_source[sl->n_nc] = src;
	sl->n_nc++;
	return 0;
}

/* A located event of the area outside the keep window: list its snap point
 * the first time (slice_query.keep_set). */
static int add_seen(struct scan *k, uint32_t loc, uint32_t unit)
{
	struct slice *sl = k->sl;

	/* without a branch on whether it was listed (about as often yes as no
	 * in a store's first months): the entry is written at nseen either way
	 * and kept by counting it */
	int listed = k->seen_mark[loc];

	k->seen_mark[loc] = 1;
	if (sl->nseen == k->seencap) {
		size_t ncap = k->seencap ? k->seencap * 2 : 4096;
		int ok = 1;

		REGROW(sl->seen_loc, ncap, ok);
		REGROW(sl->seen_pos, ncap, ok);
		if (k->sc->layer_id)
			REGROW(sl->seen_unit, ncap, ok);
		if (!ok)
			return -1;
		k->seencap = ncap;
	}
	sl->seen_loc[sl->nseen] = loc;
	sl->seen_pos[sl->nseen] = sl->n;
	if (sl->seen_unit)
		sl->seen_unit[sl->nseen] = unit;
	sl->nseen += !listed;
	return 0;
}

/* File one event into the slice: month, category, snap point (0 none),
 * source, event.flags, the dense unit of an agency row coded to a unit of the
 * layer (0 none) and its force-extract fields packed (EXTRA_PACKED; 0 none).
 * 0, or -1 when out of memory. */
static int scan_event(struct scan *k, int32_t month, uint32_t cat, uint32_t loc, uint32_t src,
		      int flags, uint32_t eunit, int64_t x)
{
	struct slice *sl = k->sl;
	uint32_t unit;
	int xy, where;

	if (cat >= sl->ncat || !sl->cat_selected[cat] || loc >= sl->nloc || src >= sl->nsource ||
	    !sl->src_on[src])
		return 0;
	xy = !(flags & 1);
	/* the snap point's latest month, whatever the area: its identity
	 * (snap_identity; none without micro-beats, loc_last NULL) */
	if (xy && k->loc_last) {
		int32_t *last = &k->loc_last[loc];

		*last = month + 1 > *last ? month + 1 : *last;
	}
	where = place_event(k, loc, xy, eunit, &unit);
	if (month >= k->pfrom && month <= k->pto) {
		if (where == 2)
			sl->src_placed[(size_t)src * sl->ncat + cat]++;
		else if (where == 0)
			sl->src_unplaced[(size_t)src * sl->ncat + cat]++;
	}
	if (!xy && where == 2)
		return add_nc(k, month, cat, unit, src);
	if (!xy && where == 0) {
		/* no place at all: the force's, reported beside the area's figures */
		k->unl_by_source[src]++;
		if (k->un == k->ucap) {
			size_t ncap = k->ucap ? k->ucap * 2 : 4096;
			int ok = 1;

			REGROW(k->um, ncap, ok);
			REGROW(k->uc, ncap, ok);
			REGROW(k->us, ncap, ok);
			if (!ok)
				return -1;
			k->ucap = ncap;
		}
		k->um[k->un] = month;
		k->uc[k->un] = cat;
		k->us[k->un] = src;
		k->un++;
		return 0;
	}
	if (!xy || where != 2)
		return 0;
	if (k->seen_mark && (month < k->q->keep_from || month > k->q->keep_to)) {
		k->src_covers[src] = 1;
		return add_seen(k, loc, unit);
	}
	if (sl->n == k->cap) {
		size_t ncap = k->cap ? k->cap * 2 : 65536;
		int ok = 1;

		REGROW(sl->month, ncap, ok);
		REGROW(sl->category, ncap, ok);
		if (!k->q->no_beats && !k->q->no_street_column)
			REGROW(sl->street, ncap, ok);
		if (!k->q->no_beats)
			REGROW(sl->location, ncap, ok);
		if (!k->q->no_source)
			REGROW(sl->source, ncap, ok);
		if (k->sc->layer_id && !k->q->no_unit_column)
			REGROW(sl->unit, ncap, ok);
		if (k->extract) {
			REGROW(sl->day, ncap, ok);
			REGROW(sl->minute, ncap, ok);
			REGROW(sl->subgroup, ncap, ok);
			REGROW(sl->da, ncap, ok);
			REGROW(sl->hate, ncap, ok);
		}
		if (!ok)
			return -1;
		k->cap = ncap;
	}
	sl->month[sl->n] = (int16_t)month;     /* store_slice_load checked both fit */
	sl->category[sl->n] = (uint16_t)cat;
	if (sl->street)
		sl->street[sl->n] = k->loc_street[loc];
	if (sl->location)
		sl->location[sl->n] = loc;
	if (sl->source)
		sl->source[sl->n] = src;
	if (sl->unit)
		sl->unit[sl->n] = unit;
	if (k->extract) {
		uint32_t sg = (uint32_t)((x >> 30) & 0xffff), hs = (uint32_t)((x >> 46) & 0xffff);

		sl->day[sl->n] = (int32_t)(x & 0x1ffff) - 1;
		sl->minute[sl->n] = (int16_t)((x >> 17) & 0x7ff) - 1;
		sl->da[sl->n] = (int8_t)((x >> 28) & 3) - 1;
		sl->subgroup[sl->n] = sg < sl->nsubgroup ? sg : 0;
		sl->hate[sl->n] = hs < sl->nhate ? hs : 0;
	}
	k->src_covers[src] = 1;
	sl->n++;
	return 0;
}

/* The dense unit of a store unit id (0 when it is none of the layer's). */
static uint32_t dense_unit(const struct scan *k, int64_t id)
{
	return id >= 0 && (size_t)id < k->sc->ndense ? k->sc->dense[id] : 0;
}

/* mb_slice_row(month, category_id, location_id, source_id, flags, unit_id,
 * extra): one event row of the row scan (scan_event; unit_id: the store unit
 * an agency row is coded to in the layer, or NULL; extra: its force-extract
 * fields packed, or NULL). SQL function, not a step and five column calls a
 * row from C: the scan of the national bench (6 M rows) took 0.58 s this way
 * against 0.76 s. Registered for the one statement, DIRECTONLY. */
static void scan_row(sqlite3_context *ctx, int argc, sqlite3_value **v)
{
	struct scan *k = sqlite3_user_data(ctx);
	uint32_t eunit = 0;
	int64_t x = 0;

	(void)argc;
	if (sqlite3_value_type(v[5]) != SQLITE_NULL)
		eunit = dense_unit(k, sqlite3_value_int64(v[5]));
	if (k->extract && sqlite3_value_type(v[6]) != SQLITE_NULL)
		x = sqlite3_value_int64(v[6]);
	if (scan_event(k, sqlite3_value_int(v[0]), (uint32_t)sqlite3_value_int64(v[1]),
		       (uint32_t)sqlite3_value_int64(v[2]), (uint32_t)sqlite3_value_int64(v[3]),
		       sqlite3_value_int(v[4]), eunit, x)) {
		k->oom = 1;
		sqlite3_result_error_nomem(ctx);
	}
}

/* The events of a column block (store_blocks_scan), filed as scan_row files
 * rows: an agency row coded to a unit (flags bit 0) has its unit of the
 * layer looked up in event_unit. */
static int scan_block(void *ctx, const struct store_evrows *rows)
{
	struct scan *k = ctx;

	for (size_t i = 0; i < rows->n; i++) {
		uint32_t eunit = 0;

		if ((rows->flags[i] & 1) && k->unit_st) {
			int64_t uid;

			/* a failed lookup would file the event in no unit, unsaid */
			if (store_event_unit_of(k->unit_st, rows->id[i], &uid)) {
				k->db_failed = 1;
				return -MB_EDB;
			}
			eunit = uid >= 0 ? dense_unit(k, uid) : 0;
		}
		if (scan_event(k, rows->month[i], rows->category[i], rows->location[i],
			       rows->source[i], (int)rows->flags[i], eunit, 0)) {
			k->oom = 1;
			return -MB_ENOMEM;
		}
	}
	return 0;
}

/* The force-extract fields of an event as one integer (the scan's seventh
 * argument): day + 1 in bits 0..16, minute + 1 in 17..27, DA flag + 1 in
 * 28..29, subgroup id in 30..45, hate strand id in 46..61 (0 = unknown). An
 * event's row is the latest import's of its Crime ID and month; an agency
 * event (a text id or none: not a police.uk Crime ID) gets its own day and
 * time (event_when) if any. */
#define EXTRA_PACKED                                                                        \
	"CASE WHEN typeof(ext_id) = 'blob' THEN (SELECT (coalesce(x.day, -1) + 1)"           \
	" | ((coalesce(x.minute, -1) + 1) << 17) | ((coalesce(x.da, -1) + 1) << 28)"         \
	" | (coalesce(x.subgroup_id, 0) << 30) | (coalesce(x.hate_id, 0) << 46)"             \
	" FROM event_extra x WHERE x.crime_id = event.ext_id AND x.month = event.month"     \
	" ORDER BY x.import_id DESC LIMIT 1) ELSE (SELECT (w.day + 1)"                      \
	" | ((coalesce(w.minute, -1) + 1) << 17) FROM event_when w"                         \
	" WHERE w.event_id = event.id) END"

/* Grow the micro-beat arrays of sl (and the caller's offset arrays) to n:
 * in place up to cap, the entries they were allocated with. */
static int grow_beats(struct slice *sl, size_t n, size_t cap, uint32_t **offs, size_t noffs)
{
	int ok = 1;

	if (n > cap) {
		REGROW(sl->streets, n, ok);
		REGROW(sl->street_in_area, n, ok);
		for (size_t i = 0; i < noffs; i++)
			REGROW(offs[i], n, ok);
	}
	if (!ok)
		return -1;
	for (size_t i = sl->nstreet; i < n; i++) {
		memset(&sl->streets[i], 0, sizeof(sl->streets[i]));
		sl->street_in_area[i] = 0;
		for (size_t j = 0; j < noffs; j++)
			offs[j][i] = 0;
	}
	return 0;
}

/* The snap points at one pair of coordinates (snap_identity): an open-addressed
 * table of group ids, each group found by the coordinates of its best member
 * (all of a group's members have the same ones), so no key is copied: 4 bytes
 * a slot where a dictionary of 16-byte keys took ~40 bytes an entry. */
struct coord_groups {
	uint32_t *slot;  /* group id, 0 = empty */
	size_t mask;     /* slots - 1 (a power of two, at least twice the entries) */
};

/* The hash of a pair of coordinates, by their bits (as the old key was). */
static size_t coord_hash(double lon, double lat)
{
	uint64_t a, b;

	memcpy(&a, &lon, 8);
	memcpy(&b, &lat, 8);
	uint64_t h = (a ^ (b * 0x9e3779b97f4a7c15u)) * 0xbf58476d1ce4e5b9u;

	return (size_t)(h ^ (h >> 31));
}

/* The slot of (lon, lat): a group whose best member has them, or the empty
 * slot where a new group goes. */
static uint32_t *coord_find(const struct coord_groups *cg, const struct slice *sl,
			    const uint32_t *best, double lon, double lat)
{
	for (size_t i = coord_hash(lon, lat) & cg->mask;; i = (i + 1) & cg->mask) {
		uint32_t g = cg->slot[i];

		if (!g || (memcmp(&sl->loc_lon[best[g]], &lon, 8) == 0 &&
			   memcmp(&sl->loc_lat[best[g]], &lat, 8) == 0))
			return &cg->slot[i];
	}
}

/* slice_put_str with a 4-byte offset (the per-street arrays are 4 bytes an
 * entry, not 8: 13 MB less for a national gazetteer); -1 when the strings
 * pass 4 GB, as if out of memory. */
static int put_str32(struct slice *sl, const char *p, uint32_t *off)
{
	size_t o;

	if (slice_put_str(sl, p, &o) || o > UINT32_MAX)
		return -1;
	*off = (uint32_t)o;
	return 0;
}

/* What loc_put and street_put fill: store_slice_load's arrays. */
struct dimctx {
	const struct slice_query *q;
	struct slice *sl;
	uint32_t *loc_street, *loc_lsoa;  /* per snap point */
	size_t nlsoa;
	const struct scope *sc;           /* the area (streets) */
	const uint32_t *lsoa_code_off, *lsoa_name_off; /* per LSOA id */
	uint32_t *st_name, *st_lsoa, *st_area, *st_lname; /* per street: string offsets */
	struct mb_error *err;
};

/* One snap point (a row of location, or of its dimension block). */
static int loc_put(void *ctx, const struct dimb_row *d)
{
	struct dimctx *c = ctx;
	size_t id = (size_t)d->id;

	if (d->id < 0 || id >= c->sl->nloc)
		return 0;
	c->loc_lsoa[id] = d->lsoa < c->nlsoa ? d->lsoa : 0;
	if (c->q->no_beats)
		return 0;
	c->sl->loc_lon[id] = d->lon;
	c->sl->loc_lat[id] = d->lat;
	c->loc_street[id] = d->street;
	return 0;
}

/* One street (a row of street, or of its dimension block): its name, codes,
 * point, and whether it lies in the area. */
static int street_put(void *ctx, const struct dimb_row *d)
{
	struct dimctx *c = ctx;
	struct slice *sl = c->sl;
	const struct scope *sc = c->sc;
	size_t id = (size_t)d->id, l = d->lsoa, nlsoa = c->nlsoa;
	const char *name = d->name, *acode = d->area ? d->area : "";

	if (d->id < 0 || id >= sl->nstreet)
		return 0;
	struct slice_street *t = &sl->streets[id];

	/* no area code (every street but the gazetteer's): offset 0 reads as "" */
	if (put_str32(sl, name, &c->st_name[id]) ||
	    (*acode && put_str32(sl, acode, &c->st_area[id])))
		return mb_err(c->err, MB_ENOMEM, "out of memory loading the slice");
	c->st_lsoa[id] = l < nlsoa ? c->lsoa_code_off[l] : 0;
	c->st_lname[id] = l < nlsoa ? c->lsoa_name_off[l] : 0;
	t->store_id = (uint32_t)id;
	t->place = places_is_place(name);
	t->gazetteer = d->gazetteer;
	t->lon = d->lon;
	t->lat = d->lat;
	if (t->gazetteer)
		sl->gazetteer_loaded = 1;
	if (sc->layer_id && sc->kind != SCOPE_AUTHORITY) {
		/* by its LSOA's lookup unit or its gazetteer area code; its
		 * snap points below add the units their points lie in */
		int in = l < nlsoa && scope_lsoa_in(sc, (uint32_t)l);

		for (size_t u = 1; !in && *acode && u < sc->nunit; u++)
			in = scope_unit_in(sc, (uint32_t)u) && strcasecmp(sc->unit_code[u], acode) == 0;
		sl->street_in_area[id] = (uint8_t)in;
	} else {
		sl->street_in_area[id] = (uint8_t)(l < nlsoa && scope_lsoa_in(sc, (uint32_t)l));
		if (sc->kind == SCOPE_ALL && !sc->layer_id)
			sl->street_in_area[id] = 1;
	}
	return 0;
}

/* What snap_identity needs from store_slice_load. */
struct ident {
	const int32_t *loc_last;      /* snap point -> latest month in the scan + 1, 0 = unseen */
	const uint32_t *loc_street;   /* snap point -> the store's street of its own row */
	const uint32_t *loc_lsoa;     /* snap point -> LSOA id of its own row */
	size_t nlsoa;                 /* entries of the two below */
	const uint32_t *lsoa_code_off; /* LSOA id -> code (string offset + 1) */
	const uint32_t *lsoa_name_off; /* LSOA id -> its names (string offset + 1) */
	uint32_t **offs;              /* per-street string offsets: name, lsoa code, area, names */
	size_t cap;                   /* entries of sl->streets, street_in_area and offs */
};

/* One identity per snap point across LSOA vintages (docs/methods-concentration.md
 * §0). police.uk recoded LSOAs (2011 -> 2021 codes): the store keeps a snap
 * point once per code, so the same coordinates appear as several location rows
 * and a street as several (LSOA, name) streets. Every row at one pair of
 * coordinates takes the street of the row seen in the latest month of the scan
 * (ties: the newer row), so a recoded street is one micro-beat; a place-kind
 * snap point ("PETROL STATION") becomes a micro-beat of its own, never merged
 * with another place of the same name. Events are re-pointed; a store street
 * whose seen snap points all moved elsewhere leaves the area's universe. */
static int snap_identity(struct slice *sl, const struct ident *id, struct mb_error *err)
{
	struct coord_groups cg = { 0 };
	uint32_t *best = calloc(sl->nloc + 1, sizeof(*best)), *grp = calloc(sl->nloc, sizeof(*grp));
	uint32_t *vbeat = calloc(sl->nloc, sizeof(*vbeat));
	uint8_t *mark = calloc(sl->nstreet, 1);
	uint32_t ng = 0;
	size_t nvirt = 0, nstore = sl->nstreet, nscanned = 0; /* snap points the scan met */
	int r = 0;

	for (size_t l = 1; l < sl->nloc; l++)
		nscanned += id->loc_last[l] != 0;
	for (cg.mask = 15; cg.mask < 2 * nscanned; cg.mask = cg.mask * 2 + 1)
		;
	cg.slot = mb_calloc_huge(cg.mask + 1, sizeof(*cg.slot));
	sl->loc_beat = calloc(sl->nloc, sizeof(*sl->loc_beat));
	if (!cg.slot || !best || !grp || !vbeat || !mark || !sl->loc_beat)
		goto oom;
	for (size_t l = 1; l < sl->nloc; l++) {
		if (!id->loc_last[l])
			continue;
		if (!isfinite(sl->loc_lon[l]) || !isfinite(sl->loc_lat[l])) {
			grp[l] = ++ng;
			best[ng] = (uint32_t)l;
			continue;
		}
		uint32_t *at = coord_find(&cg, sl, best, sl->loc_lon[l], sl->loc_lat[l]);

		if (!*at) {
			*at = ++ng;
			best[ng] = (uint32_t)l;
		}
		uint32_t g = *at;

		grp[l] = g;
		/* ids ascend, so ">=" lets the newer row win a tie */
		if (!best[g] || id->loc_last[l] >= id->loc_last[best[g]])
			best[g] = (uint32_t)l;
	}
	for (size_t l = 1; l < sl->nloc; l++) {
		if (!grp[l])
			continue;
		uint32_t c = best[grp[l]], st = id->loc_street[c];

		if (st && st < nstore && sl->streets[st].place) {
			if (!vbeat[c])
				vbeat[c] = (uint32_t)++nvirt; /* numbered now, placed below */
			sl->loc_beat[l] = UINT32_MAX - vbeat[c];
		} else {
			sl->loc_beat[l] = st < nstore ? st : 0;
		}
	}
	if (nvirt && grow_beats(sl, nstore + nvirt, id->cap, id->offs, 4))
		goto oom;
	sl->nstreet = nstore + nvirt;
	for (size_t c = 1; c < sl->nloc; c++) {
		if (!vbeat[c])
			continue;
		size_t v = nstore + vbeat[c] - 1;
		uint32_t st = id->loc_street[c], q = id->loc_lsoa[c];
		struct slice_street *t = &sl->streets[v];

		t->place = 1;
		t->snap = (uint32_t)c;
		t->store_id = st;
		t->lon = sl->loc_lon[c];
		t->lat = sl->loc_lat[c];
		id->offs[0][v] = id->offs[0][st];
		id->offs[1][v] = q < id->nlsoa ? id->lsoa_code_off[q] : 0;
		id->offs[3][v] = q < id->nlsoa ? id->lsoa_name_off[q] : 0;
	}
	for (size_t l = 1; l < sl->nloc; l++)
		if (sl->loc_beat[l] > UINT32_MAX - (uint32_t)nvirt - 1)
			sl->loc_beat[l] = (uint32_t)nstore + (UINT32_MAX - sl->loc_beat[l]) - 1;
	/* a store street seen only under another identity: 1 = seen, 2 = kept */
	for (size_t l = 1; l < sl->nloc; l++) {
		if (!grp[l])
			continue;
		if (id->loc_street[l] < nstore && !mark[id->loc_street[l]])
			mark[id->loc_street[l]] = 1;
		if (sl->loc_beat[l] && sl->loc_beat[l] < nstore)
			mark[sl->loc_beat[l]] = 2;
	}
	for (size_t st = 1; st < nstore; st++)
		if (mark[st] == 1)
			sl->street_in_area[st] = 0;
	for (size_t i = 0; i < sl->n; i++) {
		uint32_t b = sl->location[i] < sl->nloc ? sl->loc_beat[sl->location[i]] : 0;

		if (sl->street)
			sl->street[i] = b;
		sl->street_in_area[b] = b != 0; /* the event passed the area filter */
	}
	for (size_t j = 0; j < sl->nseen; j++) {
		uint32_t b = sl->loc_beat[sl->seen_loc[j]];

		sl->street_in_area[b] = b != 0; /* so did an event outside the keep window */
	}
	goto cleanup;
oom:
	r = mb_err(err, MB_ENOMEM, "out of memory keying snap points");
cleanup:
	free(cg.slot);
	free(best);
	free(grp);
	free(vbeat);
	free(mark);
	return r;
}

/* The events of the period through the row table (mb_slice_row over a
 * scan of event), with the force-extract fields when k->extract. */
static int scan_rows(struct store *s, struct scan *k, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc = SQLITE_ERROR;

	if (sqlite3_create_function(s->db, "mb_slice_row", 7, SQLITE_UTF8 | SQLITE_DIRECTONLY, k,
				    scan_row, NULL, NULL) != SQLITE_OK)
		return store_db_err(s, err, "loading events");
	/* an agency row coded to a unit is only looked up with a layer; the
	 * extract fields only when asked for and held */
#define SCAN_HEAD "SELECT count(mb_slice_row(month, category_id, coalesce(location_id, 0)," \
		  " source_id, flags, "
#define SCAN_UNIT "CASE WHEN flags & 1 THEN (SELECT eu.unit_id FROM event_unit eu" \
		  " WHERE eu.event_id = event.id AND eu.layer_id = ?3) END"
#define SCAN_TAIL ")) FROM event WHERE id BETWEEN ?4 AND ?5 AND month BETWEEN ?1 AND ?2"
	static const char *const scan_sql[2][2] = {
		{ SCAN_HEAD "NULL, NULL" SCAN_TAIL, SCAN_HEAD "NULL, " EXTRA_PACKED SCAN_TAIL },
		{ SCAN_HEAD SCAN_UNIT ", NULL" SCAN_TAIL,
		  SCAN_HEAD SCAN_UNIT ", " EXTRA_PACKED SCAN_TAIL },
	};
#undef SCAN_HEAD
#undef SCAN_UNIT
#undef SCAN_TAIL
	int64_t lo, hi;

	/* the months' rows lie within their column blocks' ids (store_month_ids) */
	r = store_month_ids(s, k->q->from, k->q->to, &lo, &hi, err);
	if (!r)
		r = store_prepare(s, &st, scan_sql[k->sc->layer_id != 0][k->extract != 0], err);
	if (!r) {
		sqlite3_bind_int(st, 1, k->q->from);
		sqlite3_bind_int(st, 2, k->q->to);
		sqlite3_bind_int64(st, 4, lo);
		sqlite3_bind_int64(st, 5, hi);
		if (k->sc->layer_id)
			sqlite3_bind_int64(st, 3, k->sc->layer_id);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
	}
	/* gone before k goes out of scope, whatever happened */
	sqlite3_create_function(s->db, "mb_slice_row", 7, SQLITE_UTF8, NULL, NULL, NULL, NULL);
	if (r)
		return r;
	if (k->oom)
		return mb_err(err, MB_ENOMEM, "out of memory loading events");
	if (rc != SQLITE_ROW)
		return store_db_err(s, err, "loading events");
	return 0;
}

int store_month_ids(struct store *s, int32_t from, int32_t to, int64_t *lo, int64_t *hi,
		    struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc, blocks = 0;

	*lo = INT64_MIN;
	*hi = INT64_MAX;
	if ((r = store_has_table(s, "event_block", &blocks, err)) || !blocks)
		return r;
	if ((r = store_prepare(s, &st,
			       "SELECT min(first_id), max(last_id) FROM event_block"
			       " WHERE month BETWEEN ?1 AND ?2",
			       err)))
		return r;
	sqlite3_bind_int(st, 1, from);
	sqlite3_bind_int(st, 2, to);
	rc = sqlite3_step(st);
	/* no block of the months: no row either; the whole table is then read all the same */
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*lo = sqlite3_column_int64(st, 0);
		*hi = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : store_db_err(s, err, "listing the column blocks");
}

/* The events of the period through the column blocks (store_blocks.c): the
 * same events in the same order as scan_rows, without the extract fields. */
static int scan_blocks(struct store *s, struct scan *k, struct mb_error *err)
{
	struct slice *sl = k->sl;
	size_t n = 0;
	int r;

	/* the event columns at their largest size at once, on huge pages: no
	 * doubling and copying, a fault per 2 MB */
	int32_t from = k->q->from, to = k->q->to;

	if (k->seen_mark) {
		from = k->q->keep_from > from ? k->q->keep_from : from;
		to = k->q->keep_to < to ? k->q->keep_to : to;
	}
	if (from <= to && (r = store_blocks_rows(s, from, to, &n, err)))
		return r;
	if (n && !sl->month) {
		free(sl->unit); /* slice_copy_units' placeholder, when a layer is loaded */
		sl->unit = NULL;
		int ok = (sl->month = mb_malloc_huge(n * sizeof(*sl->month))) &&
			 (sl->category = mb_malloc_huge(n * sizeof(*sl->category))) &&
			 (k->q->no_beats || k->q->no_street_column ||
			  (sl->street = mb_malloc_huge(n * sizeof(*sl->street)))) &&
			 (k->q->no_beats || (sl->location = mb_malloc_huge(n * sizeof(*sl->location)))) &&
			 (k->q->no_source || (sl->source = mb_malloc_huge(n * sizeof(*sl->source)))) &&
			 (!k->sc->layer_id || k->q->no_unit_column ||
			  (sl->unit = mb_malloc_huge(n * sizeof(*sl->unit))));

		if (!ok)
			return mb_err(err, MB_ENOMEM, "out of memory loading events");
		k->cap = n;
	}
	/* an agency row's unit code is looked up only when some event holds one */
	if (k->sc->layer_id && (r = store_event_unit_stmt(s, k->sc->layer_id, &k->unit_st, err)))
		return r;
	r = store_blocks_scan(s, k->q->from, k->q->to, !k->unit_st, scan_block, k, err);
	sqlite3_finalize(k->unit_st);
	k->unit_st = NULL;
	if (r == -MB_ENOMEM && k->oom)
		r = mb_err(err, MB_ENOMEM, "out of memory loading events");
	else if (r == -MB_EDB && k->db_failed)
		r = store_db_err(s, err, "loading events: an event's unit code");
	return r;
}

int store_slice_load(struct store *s, const struct slice_query *q, struct slice *sl,
		     struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	size_t nlsoa = 0, bcap, *cat_off = NULL, *src_off = NULL;
	uint32_t *st_name = NULL, *st_lsoa = NULL, *st_area = NULL, *st_lname = NULL;
	uint32_t *lsoa_name_off = NULL, *lsoa_code_off = NULL;
	int32_t *loc_last = NULL;
	uint8_t *src_covers = NULL;
	uint32_t *loc_street = NULL, *loc_lsoa = NULL;
	int64_t *unl_by_source = NULL;
	/* unlocated events before the source filter: month, category, source */
	int32_t *um = NULL;
	uint32_t *uc = NULL, *us = NULL;
	size_t un = 0;
	size_t *sg_off = NULL, *hs_off = NULL;
	struct scope sc = { 0 };
	int r, rc, own = 0, extract = 0, blocks = 0, cache_kb = 0;

	memset(sl, 0, sizeof(*sl));
	/* one snapshot: the sizes read first must hold for the rows read after */
	if ((r = store_read_begin(s, &own, err)))
		return r;
	/* everything here is read once: a writer's connection (streets
	 * --observed) reads it through a small page cache too, not its 64 MB */
	if ((r = store_cache_small(s, 2048, &cache_kb, err)))
		goto cleanup;
	if ((r = store_max_id(s, "SELECT max(id) FROM category", &sl->ncat, err)) ||
	    (r = store_max_id(s, "SELECT max(id) FROM street", &sl->nstreet, err)) ||
	    (r = store_max_id(s, "SELECT max(id) FROM location", &sl->nloc, err)) ||
	    (r = store_max_id(s, "SELECT max(id) FROM source", &sl->nsource, err)) ||
	    (r = store_max_id(s, "SELECT max(id) FROM lsoa", &nlsoa, err)))
		goto cleanup;
	/* the event columns hold a month and a category id in 16 bits each */
	if (sl->ncat > (size_t)UINT16_MAX + 1) {
		r = mb_err(err, MB_EDATA, "the store holds a category id above 65,535 (%zu): the"
			   " analyses take ids up to 65,535", sl->ncat - 1);
		goto cleanup;
	}
	if (q->from < INT16_MIN || q->to > INT16_MAX) {
		r = mb_err(err, MB_EUSAGE, "months from %d to %d (since 2000-01) are out of the"
			   " analyses' range (16 bits)", (int)q->from, (int)q->to);
		goto cleanup;
	}
	if (q->no_beats)
		sl->nstreet = 1;
	sl->cat_name = calloc(sl->ncat, sizeof(char *));
	sl->cat_harm = calloc(sl->ncat, sizeof(double));
	sl->cat_selected = calloc(sl->ncat, 1);
	cat_off = calloc(sl->ncat, sizeof(size_t));
	/* room for a micro-beat of every snap point (snap_identity's places) */
	bcap = sl->nstreet + (q->no_beats ? 0 : sl->nloc);
	sl->streets = mb_reserve_huge(sl->nstreet, bcap, sizeof(*sl->streets));
	sl->street_in_area = calloc(bcap, 1);
	st_name = mb_reserve_huge(sl->nstreet, bcap, sizeof(*st_name));
	st_lsoa = mb_reserve_huge(sl->nstreet, bcap, sizeof(*st_lsoa));
	st_area = mb_reserve_huge(sl->nstreet, bcap, sizeof(*st_area));
	if (!q->no_beats) {
		sl->loc_lon = mb_calloc_huge(sl->nloc, sizeof(double));
		sl->loc_lat = mb_calloc_huge(sl->nloc, sizeof(double));
	}
	loc_street = mb_calloc_huge(sl->nloc, sizeof(uint32_t));
	loc_lsoa = mb_calloc_huge(sl->nloc, sizeof(uint32_t));
	sl->source_name = calloc(sl->nsource, sizeof(char *));
	sl->src_placed = calloc(sl->nsource * sl->ncat, sizeof(int64_t));
	sl->src_unplaced = calloc(sl->nsource * sl->ncat, sizeof(int64_t));
	sl->src_police = calloc(sl->nsource, 1);
	sl->src_on = calloc(sl->nsource, 1);
	src_off = calloc(sl->nsource, sizeof(size_t));
	src_covers = calloc(sl->nsource, 1);
	unl_by_source = calloc(sl->nsource, sizeof(int64_t));
	lsoa_code_off = calloc(nlsoa, sizeof(*lsoa_code_off));
	lsoa_name_off = calloc(nlsoa, sizeof(*lsoa_name_off));
	st_lname = mb_reserve_huge(sl->nstreet, bcap, sizeof(*st_lname));
	/* a snap point's latest month (its identity): micro-beats alone need it */
	if (!q->no_beats)
		loc_last = mb_calloc_huge(sl->nloc, sizeof(int32_t));
	sl->nstreet_store = sl->nstreet;
	if (!lsoa_name_off || !st_lname || (!q->no_beats && !loc_last)) {
		r = mb_err(err, MB_ENOMEM, "out of memory loading the slice");
		goto cleanup;
	}
	if (!sl->cat_name || !sl->cat_harm || !sl->cat_selected || !cat_off || !sl->streets ||
	    !sl->street_in_area || !st_name || !st_lsoa || !st_area ||
	    (!q->no_beats && (!sl->loc_lon || !sl->loc_lat)) ||
	    !loc_street || !loc_lsoa || !sl->source_name || !sl->src_placed ||
	    !sl->src_unplaced || !sl->src_police || !sl->src_on || !src_off || !src_covers ||
	    !unl_by_source || !lsoa_code_off) {
		r = mb_err(err, MB_ENOMEM, "out of memory loading the slice");
		goto cleanup;
	}
	if ((r = slice_load_categories(s, q, sl, cat_off, err)) ||
	    (r = slice_load_sources(s, q, sl, src_off, err)))
		goto cleanup;
	if (q->extract && ((r = slice_extract_held(s, &extract, err)) ||
			   (extract &&
			    ((r = slice_load_extract_names(s, sl, "SELECT max(id) FROM offence_subgroup",
						     "SELECT id, name FROM offence_subgroup",
						     &sl->nsubgroup, &sl->subgroup_name, &sg_off,
						     err)) ||
			     (r = slice_load_extract_names(s, sl, "SELECT max(id) FROM hate_strand",
						     "SELECT id, name FROM hate_strand", &sl->nhate,
						     &sl->hate_name, &hs_off, err))))))
		goto cleanup;

	/* LSOA codes */
	if ((r = store_prepare(s, &st, "SELECT id, code FROM lsoa", err)))
		goto cleanup;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t id = (size_t)sqlite3_column_int64(st, 0);

		if (id < nlsoa && !lsoa_code_off[id] &&
		    put_str32(sl, (const char *)sqlite3_column_text(st, 1), &lsoa_code_off[id])) {
			r = mb_err(err, MB_ENOMEM, "out of memory loading the slice");
			goto cleanup;
		}
	}
	/* a read cut short would leave the slice's dimensions partial */
	if (st && rc != SQLITE_DONE) {
		r = store_db_err(s, err, "loading the slice's dimensions");
		goto cleanup;
	}
	sqlite3_finalize(st);
	st = NULL;

	/* snap points: from the dimension blocks, else the rows */
	struct dimctx dc = { .q = q, .sl = sl, .loc_street = loc_street, .loc_lsoa = loc_lsoa,
			     .nlsoa = nlsoa, .err = err };

	if ((r = store_dim_rows(s, DIMB_LOCATION, loc_put, &dc, err)))
		goto cleanup;

	/* the area: an authority, LSOA code or units of the layer (store_scope.h) */
	if ((r = scope_resolve(s, q->area, q->layer, sl->nloc, loc_lsoa, nlsoa, &sc, err)) ||
	    (r = slice_copy_units(&sc, sl, err)))
		goto cleanup;
	if (q->no_unit_column) {
		free(sl->unit); /* slice_copy_units' one-entry column: none is kept */
		sl->unit = NULL;
	}
	snprintf(sl->scope_label, sizeof(sl->scope_label), "%s", sc.label);
	sl->scope_units = sc.kind == SCOPE_UNITS;

	/* every name police.uk gave each LSOA code (renumbered between releases) */
	if ((r = store_prepare(s, &st, "SELECT lsoa_id, group_concat(name, '; ') FROM (SELECT"
				       " lsoa_id, name FROM lsoa_name ORDER BY lsoa_id, name)"
				       " GROUP BY lsoa_id", err)))
		goto cleanup;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t id = (size_t)sqlite3_column_int64(st, 0);

		if (id < nlsoa && put_str32(sl, (const char *)sqlite3_column_text(st, 1),
					    &lsoa_name_off[id])) {
			r = mb_err(err, MB_ENOMEM, "out of memory loading the slice");
			goto cleanup;
		}
	}
	/* a read cut short would leave the slice's dimensions partial */
	if (st && rc != SQLITE_DONE) {
		r = store_db_err(s, err, "loading the slice's dimensions");
		goto cleanup;
	}
	sqlite3_finalize(st);
	st = NULL;

	/* streets: from the dimension blocks, else the rows */
	dc.sc = &sc;
	dc.lsoa_code_off = lsoa_code_off;
	dc.lsoa_name_off = lsoa_name_off;
	dc.st_name = st_name;
	dc.st_lsoa = st_lsoa;
	dc.st_area = st_area;
	dc.st_lname = st_lname;
	if (!q->no_beats && (r = store_dim_rows(s, DIMB_STREET, street_put, &dc, err)))
		goto cleanup;
	if (sc.layer_id && sc.kind != SCOPE_AUTHORITY)
		for (size_t loc = 1; loc < sl->nloc; loc++)
			if (loc_street[loc] && loc_street[loc] < sl->nstreet &&
			    scope_unit_in(&sc, sc.loc_unit[loc]))
				sl->street_in_area[loc_street[loc]] = 1;

	/* events of the period: filter in memory (faster than a join in SQL), each
	 * row handed to scan_row by SQLite itself (scan_row's comment) */
	struct scan k = { .q = q, .sl = sl, .sc = &sc, .loc_street = loc_street,
			  .loc_lsoa = loc_lsoa,
			  .unl_by_source = unl_by_source, .src_covers = src_covers,
			  .pfrom = q->period_set ? q->period_from : q->from,
			  .pto = q->period_set ? q->period_to : q->to,
			  .loc_last = loc_last };

	k.extract = extract;
	if (q->keep_set && !(k.seen_mark = calloc(sl->nloc + 1, 1))) {
		r = mb_err(err, MB_ENOMEM, "out of memory loading the slice");
		goto cleanup;
	}
	/* the column blocks unless the force-extract fields are wanted (they
	 * are in event_extra, read by the row scan) or the store predates them */
	if (!(r = store_has_table(s, "event_block", &blocks, err)))
		r = extract || !blocks ? scan_rows(s, &k, err) : scan_blocks(s, &k, err);
	um = k.um;
	uc = k.uc;
	us = k.us;
	un = k.un;
	free(k.seen_mark);
	if (r)
		goto cleanup;
	uint32_t *offs[4] = { st_name, st_lsoa, st_area, st_lname };
	struct ident ident = { .loc_last = loc_last, .loc_street = loc_street, .loc_lsoa = loc_lsoa,
			       .nlsoa = nlsoa, .lsoa_code_off = lsoa_code_off,
			       .lsoa_name_off = lsoa_name_off, .offs = offs, .cap = bcap };

	r = q->no_beats ? 0 : snap_identity(sl, &ident, err);
	sl->loc_street = loc_street; /* handed over: freed by slice_release */
	loc_street = NULL;
	st_name = offs[0];
	st_lsoa = offs[1];
	st_area = offs[2];
	st_lname = offs[3];
	if (r)
		goto cleanup;
	sl->unloc_month = malloc((un + 1) * sizeof(int32_t));
	sl->unloc_category = malloc((un + 1) * sizeof(uint32_t));
	if (!sl->unloc_month || !sl->unloc_category) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < sl->n_nc; i++)
		src_covers[sl->nc_source[i]] = 1;
	for (size_t i = 0; i < un; i++) {
		if ((sc.kind == SCOPE_ALL && !sc.layer_id) || src_covers[us[i]]) {
			sl->unloc_month[sl->n_unloc] = um[i];
			sl->unloc_category[sl->n_unloc] = uc[i];
			sl->n_unloc++;
		}
	}
	sl->unlocated = (int64_t)sl->n_unloc;

	/* months present: an import covers the month for a source of the area */
	int nm = q->to >= q->from ? q->to - q->from + 1 : 0;

	sl->month_from = q->from;
	sl->month_to = q->to;

	sl->month_present = calloc((size_t)nm + 1, 1);
	if (!sl->month_present) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	if ((r = store_prepare(s, &st,
			       "SELECT m.source_id, m.month FROM import_month m JOIN import i"
			       " ON i.id = m.import_id WHERE i.replaced_by IS NULL"
			       " AND m.month BETWEEN ?1 AND ?2",
			       err)))
		goto cleanup;
	sqlite3_bind_int(st, 1, q->from);
	sqlite3_bind_int(st, 2, q->to);
	int any_cover = 0;

	for (size_t i = 1; i < sl->nsource; i++)
		any_cover |= src_covers[i];
	while (sqlite3_step(st) == SQLITE_ROW) {
		size_t src = (size_t)sqlite3_column_int64(st, 0);
		int32_t m = sqlite3_column_int(st, 1);

		/* a month of a source the filter leaves out is no month of the analysis */
		if (src < sl->nsource && sl->src_on[src] && (!any_cover || src_covers[src]))
			sl->month_present[m - q->from] = 1;
	}
	sqlite3_finalize(st);
	st = NULL;
	sl->loaded_first = sl->loaded_last = -1;
	for (int i = 0; i < nm; i++) {
		if (!sl->month_present[i])
			continue;
		sl->months_loaded++;
		if (sl->loaded_first < 0)
			sl->loaded_first = q->from + i;
		sl->loaded_last = q->from + i;
	}
	if ((r = store_prepare(s, &st, "SELECT min(month), max(month) FROM import_month", err)))
		goto cleanup;
	if (sqlite3_step(st) == SQLITE_ROW) {
		sl->months_min = sqlite3_column_int(st, 0);
		sl->months_max = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	st = NULL;

	/* offsets -> pointers, now that the storage no longer moves */
	for (size_t i = 1; i < sl->ncat; i++)
		sl->cat_name[i] = cat_off[i] ? sl->strings + cat_off[i] - 1 : NULL;
	for (size_t i = 1; i < sl->nsource; i++)
		sl->source_name[i] = src_off[i] ? sl->strings + src_off[i] - 1 : NULL;
	for (size_t i = 1; i < sl->nstreet; i++) {
		sl->streets[i].name = st_name[i] ? sl->strings + st_name[i] - 1 : "";
		sl->streets[i].lsoa = st_lsoa[i] ? sl->strings + st_lsoa[i] - 1 : "";
		sl->streets[i].area = st_area[i] ? sl->strings + st_area[i] - 1 : "";
		sl->streets[i].lsoa_name = st_lname[i] ? sl->strings + st_lname[i] - 1 : "";
	}
	for (size_t i = 1; extract && i < sl->nsubgroup; i++)
		sl->subgroup_name[i] = sg_off[i] ? sl->strings + sg_off[i] - 1 : NULL;
	for (size_t i = 1; extract && i < sl->nhate; i++)
		sl->hate_name[i] = hs_off[i] ? sl->strings + hs_off[i] - 1 : NULL;
	/* held but no event in the slice: the columns exist, empty */
	if (extract && !sl->day) {
		sl->day = malloc(sizeof(*sl->day));
		sl->minute = malloc(sizeof(*sl->minute));
		sl->subgroup = malloc(sizeof(*sl->subgroup));
		sl->da = malloc(sizeof(*sl->da));
		sl->hate = malloc(sizeof(*sl->hate));
		if (!sl->day || !sl->minute || !sl->subgroup || !sl->da || !sl->hate) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
	}
	r = 0;
cleanup:
	sqlite3_finalize(st);
	scope_release(&sc);
	free(cat_off);
	free(src_off);
	free(sg_off);
	free(hs_off);
	free(st_name);
	free(st_lsoa);
	free(st_area);
	free(st_lname);
	free(lsoa_name_off);
	free(loc_last);
	free(lsoa_code_off);
	free(src_covers);
	free(loc_street);
	free(loc_lsoa);
	free(unl_by_source);
	free(um);
	free(uc);
	free(us);
	store_cache_restore(s, cache_kb);
	store_read_end(s, own);
	if (r)
		slice_release(sl);
	return r;
}

void slice_release_events(struct slice *sl)
{
	free(sl->day);
	free(sl->minute);
	free(sl->subgroup);
	free(sl->da);
	free(sl->hate);
	free(sl->month);
	free(sl->category);
	free(sl->street);
	free(sl->location);
	free(sl->source);
	free(sl->unit);
	sl->day = NULL;
	sl->minute = NULL;
	sl->subgroup = NULL;
	sl->da = NULL;
	sl->hate = NULL;
	sl->month = NULL;
	sl->category = NULL;
	sl->street = NULL;
	sl->location = NULL;
	sl->source = NULL;
	sl->unit = NULL;
	sl->n = 0;
}

void slice_release(struct slice *sl)
{
	slice_release_events(sl);
	free(sl->subgroup_name);
	free(sl->hate_name);
	free(sl->seen_loc);
	free(sl->seen_unit);
	free(sl->seen_pos);
	free(sl->cat_name);
	free(sl->cat_harm);
	free(sl->cat_selected);
	free(sl->streets);
	free(sl->street_in_area);
	free(sl->loc_lon);
	free(sl->loc_lat);
	free(sl->loc_beat);
	free(sl->loc_street);
	free(sl->source_name);
	free(sl->month_present);
	free(sl->unloc_month);
	free(sl->unloc_category);
	for (size_t u = 0; sl->unit_code && u < sl->nunit; u++)
		free(sl->unit_code[u]);
	for (size_t u = 0; sl->unit_name && u < sl->nunit; u++)
		free(sl->unit_name[u]);
	free(sl->unit_code);
	free(sl->unit_name);
	free(sl->unit_chosen);
	free(sl->nc_month);
	free(sl->nc_category);
	free(sl->nc_unit);
	free(sl->nc_source);
	free(sl->src_placed);
	free(sl->src_unplaced);
	free(sl->src_police);
	free(sl->src_on);
	free(sl->strings);
	memset(sl, 0, sizeof(*sl));
}

