/* store_gaz — load a street gazetteer into the street table (the street universe).
 *
 * Every row is first resolved in memory to a street: one the store holds
 * (found by its key, LSOA id and normalised name, or for a gazetteer without
 * LSOA codes by name within 1 km) or a new one. What the row-by-row load did
 * to a street, one UPDATE or INSERT a row in file order, is then folded into
 * one final row a street (the last coordinates given win, the last row's area
 * code) and written through the feed table temp.mb_feed_gaz in id order, one
 * INSERT ... ON CONFLICT DO UPDATE a batch: new streets are appended at the
 * table's end, matched ones updated in place in order. On the national bench
 * (800,003 rows, 408,174 streets seen in crime data) the writes cost ~0.4 s
 * of CPU, against ~1.5 s for a statement a row in gazetteer order (a random
 * walk over the street table). A gazetteer the store holds already is
 * replaced in memory (read_located) and each statement leaves a row that
 * holds its final values alone, so loading the same file again writes no
 * page. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "microbeat/dict.h"
#include "microbeat/gazetteer.h"
#include "microbeat/places.h"
#include "microbeat/util.h"
#include "store_internal.h"

#define MATCH_METRES 1000.0

/* Streets a feed statement writes. */
#define FEED_BATCH 8192

/* Bytes of new streets' names a feed statement holds (names may be long). */
#define FEED_TEXT ((size_t)1 << 20)

/* Observed street of a name, for gazetteers without LSOA codes. */
struct near {
	uint32_t slot;    /* its street (index into the load's slots) */
	double lon, lat;  /* one of its snap points */
	uint32_t next;    /* next index with the same name (0 = none), 1-based */
};

/* A street the load may write: one the store holds, or one it adds. Row
 * numbers are 1-based (0 = none). */
struct gslot {
	uint32_t id;      /* street id */
	uint32_t lsoa;    /* LSOA id of a new street (0 = none) */
	uint32_t first;   /* row that added it (new streets) */
	uint32_t last;    /* last row resolved to it: its area code is the street's */
	uint32_t coord;   /* last such row with coordinates: they are the street's */
	uint8_t unmark;   /* the old gazetteer's, kept for its snap points: unmarked unless
			   * a row resolves to it (the old gazetteer replaced in memory) */
};

/* The load's state. */
struct gaz_load {
	struct store *s;            /* the store, in the load's transaction */
	const struct gazetteer *g;  /* the rows (set by store_gazetteer_finish) */
	int has_lsoa;               /* the streets were read for rows with LSOA codes */
	struct dict *lsoa;          /* LSOA code -> id */
	struct dict *street;        /* LSOA id (4 bytes) + normalised name -> slot + 1 */
	struct dict *byname;        /* normalised name -> first near index + 1 (no LSOA column) */
	struct dict *alias;         /* LSOA id + LSOA name already written to lsoa_name */
	struct gslot *slot;         /* the store's streets (in id order), then the new ones */
	size_t nslot, scap;         /* used / allocated */
	size_t nstore;              /* slots of the store's streets */
	int flagged;                /* one of them is marked as the gazetteer's */
	uint8_t *located;           /* street id -> a snap point names it (read only when
				     * the store holds a gazetteer, to replace it in memory) */
	size_t nlocated;            /* ids located covers */
	uint32_t *gone;             /* the old gazetteer's crime-free streets: deleted unless
				     * a new street takes the id again */
	size_t ngone, gcap;         /* used / allocated */
	int in_tx;                  /* the load's transaction is open */
	struct near *near;          /* observed streets with a point (no LSOA column) */
	size_t nnear, ncap;         /* used / allocated */
	uint32_t next_lsoa;         /* id of the next new LSOA */
	uint32_t next_street;       /* id of the next new street */
	char *key;                  /* scratch key: LSOA id and a whole name, however long (a
				     * name cut short would not match the street in crime data) */
	size_t kcap;                /* bytes allocated in key */
	size_t longest;             /* longest street name of the file */
	const char *memo_code;      /* LSOA code of the previous row (rows come grouped by LSOA) */
	uint32_t memo_id;           /* its id */
	sqlite3_stmt *ins_lsoa;     /* INSERT INTO lsoa */
	sqlite3_stmt *ins_alias;    /* INSERT OR IGNORE INTO lsoa_name */
	int cache_was;              /* the store's cache_size, put back at the end (0 = unset) */
	long written;               /* street rows the writes changed */
	int unmarked;               /* the old gazetteer was unmarked in SQL (reread) */
};

/* Approximate ground distance in metres (equirectangular; fine within 1 km). */
static double metres(double lon1, double lat1, double lon2, double lat2)
{
	double k = 111320.0, x = (lon2 - lon1) * k * cos((lat1 + lat2) * M_PI / 360.0);
	double y = (lat2 - lat1) * 110574.0;

	return sqrt(x * x + y * y);
}

static int oom(struct mb_error *err)
{
	return mb_err(err, MB_ENOMEM, "out of memory");
}

/* Refuse a gazetteer without streets, naming what the store holds. */
static int refuse_empty(struct store *s, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	long held = 0;
	int r;

	if ((r = store_prepare(s, &st, "SELECT count(*) FROM street WHERE gazetteer = 1", err)))
		return r;
	if (sqlite3_step(st) != SQLITE_ROW) {
		r = store_db_err(s, err, "reading the gazetteer");
		goto cleanup;
	}
	held = sqlite3_column_int64(st, 0);
	r = held ? mb_err(err, MB_EDATA, "the gazetteer file holds no streets: the loaded"
			  " gazetteer (%ld streets) is kept; give --replace to clear it", held)
		 : mb_err(err, MB_EDATA, "the gazetteer file holds no streets");
cleanup:
	sqlite3_finalize(st);
	return r;
}

/* The store's LSOA codes into ld->lsoa. */
static int read_lsoas(struct gaz_load *ld, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = store_prepare(ld->s, &st, "SELECT id, code FROM lsoa", err)))
		return r;
	while (sqlite3_step(st) == SQLITE_ROW) {
		uint32_t id = (uint32_t)sqlite3_column_int64(st, 0);

		if (dict_put(ld->lsoa, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
			     id)) {
			r = oom(err);
			break;
		}
		if (id >= ld->next_lsoa)
			ld->next_lsoa = id + 1;
	}
	sqlite3_finalize(st);
	return r;
}

/* Chain observed street slot (a point lon, lat) under its name in ld->byname. */
static int near_add(struct gaz_load *ld, const void *name, size_t len, uint32_t slot, double lon,
		    double lat)
{
	uint32_t head = dict_get(ld->byname, name, len);

	if (GROW(ld->near, ld->nnear + 1, ld->ncap))
		return -1;
	ld->near[ld->nnear++] = (struct near){ slot, lon, lat, 0 };
	if (!head)
		return dict_put(ld->byname, name, len, (uint32_t)ld->nnear);
	/* insert after the head so the head index stays valid */
	ld->near[ld->nnear - 1].next = ld->near[head - 1].next;
	ld->near[head - 1].next = (uint32_t)ld->nnear;
	return 0;
}

/* Leave out street id of the old gazetteer that no snap point names: it goes
 * with the old gazetteer (unless a new street takes its id again). */
static int street_gone(struct gaz_load *ld, uint32_t id, struct mb_error *err)
{
	if (GROW(ld->gone, ld->ngone + 1, ld->gcap))
		return oom(err);
	ld->gone[ld->ngone++] = id;
	return 0;
}

/* Take one street of the store (a row of read_streets' query) as a slot. */
static int street_take(struct gaz_load *ld, sqlite3_stmt *st, struct mb_error *err)
{
	uint32_t id = (uint32_t)sqlite3_column_int64(st, 0), l = (uint32_t)sqlite3_column_int64(st, 1);
	size_t len = (size_t)sqlite3_column_bytes(st, 2);
	const void *name = sqlite3_column_blob(st, 2);
	uint32_t slot = (uint32_t)ld->nslot;
	int added, old = sqlite3_column_int64(st, 5) == 1;

	if (old && ld->located && (id >= ld->nlocated || !ld->located[id]))
		return street_gone(ld, id, err);
	if (id >= ld->next_street)
		ld->next_street = id + 1;
	if (GROW(ld->slot, ld->nslot + 1, ld->scap) || store_key_room(&ld->key, &ld->kcap, len + 4))
		return oom(err);
	ld->slot[ld->nslot++] = (struct gslot){ .id = id, .unmark = old && ld->located };
	ld->flagged |= old;
	memcpy(ld->key, &l, 4);
	if (len)
		memcpy(ld->key + 4, name, len);
	/* the first street of a key keeps it */
	if (!dict_get_or_put(ld->street, ld->key, len + 4, slot + 1, &added))
		return oom(err);
	if (!ld->has_lsoa && sqlite3_column_type(st, 3) != SQLITE_NULL &&
	    near_add(ld, name, len, slot, sqlite3_column_double(st, 3), sqlite3_column_double(st, 4)))
		return oom(err);
	return 0;
}

/* Whether the store holds a gazetteer into ld->flagged; if it does, which
 * streets a snap point names into ld->located: read_streets then replaces
 * the old gazetteer in memory (its other streets left out, the rest to be
 * unmarked), so that only what the new one changes is written. */
static int read_located(struct gaz_load *ld, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	size_t n;
	int r, rc;

	/* store_max_id gives the value + 1: 2 when a street is marked */
	if ((r = store_max_id(ld->s, "SELECT EXISTS(SELECT 1 FROM street WHERE gazetteer = 1)",
			      &n, err)) || n < 2)
		return r;
	ld->flagged = 1;
	if ((r = store_max_id(ld->s, "SELECT max(id) FROM street", &ld->nlocated, err)))
		return r;
	if (!(ld->located = calloc(ld->nlocated, 1)))
		return oom(err);
	if ((r = store_prepare(ld->s, &st,
			       "SELECT street_id FROM location WHERE street_id IS NOT NULL", err)))
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_int64 id = sqlite3_column_int64(st, 0);

		if (id > 0 && (size_t)id < ld->nlocated)
			ld->located[id] = 1;
	}
	/* a scan cut short would take located streets for crime-free ones */
	if (rc != SQLITE_DONE)
		r = store_db_err(ld->s, err, "reading the snap points' streets");
	sqlite3_finalize(st);
	return r;
}

/* The store's streets as slots, in id order, keyed in ld->street (and, for a
 * gazetteer without LSOA codes, one point each under its name). */
static int read_streets(struct gaz_load *ld, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc = SQLITE_DONE;

	/* a point per observed street is needed only to match rows without an LSOA code */
	if ((r = store_prepare(ld->s, &st,
			       ld->has_lsoa
				       ? "SELECT id, coalesce(lsoa_id, 0), name_norm, NULL, NULL,"
					 " gazetteer FROM street"
				       : "SELECT s.id, coalesce(s.lsoa_id, 0), s.name_norm, min(l.lon),"
					 " min(l.lat), s.gazetteer FROM street s LEFT JOIN location l"
					 " ON l.street_id = s.id GROUP BY s.id",
			       err)))
		return r;
	while (!r && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = street_take(ld, st, err);
	/* a scan cut short would add streets the store holds again */
	if (!r && rc != SQLITE_DONE)
		r = store_db_err(ld->s, err, "reading the streets");
	sqlite3_finalize(st);
	ld->nstore = ld->nslot;
	return r;
}

/* Read the streets again with a point each, for rows without LSOA codes,
 * after unmarking the old gazetteer if the store holds one (a new gazetteer
 * replaces the old: crime-free streets it added go, the others are no
 * longer marked; here in SQL, as the points are read from the store). */
static int reread(struct gaz_load *ld, struct mb_error *err)
{
	int r;

	if (ld->flagged &&
	    (r = store_exec(ld->s,
			    "DELETE FROM street WHERE gazetteer = 1 AND id NOT IN"
			    " (SELECT street_id FROM location WHERE street_id IS NOT NULL);"
			    "UPDATE street SET gazetteer = 0, area_code = NULL WHERE gazetteer = 1",
			    err)))
		return r;
	ld->unmarked = ld->flagged;
	dict_free(ld->street);
	dict_free(ld->byname);
	free(ld->located);
	ld->located = NULL;
	ld->ngone = 0;
	ld->street = dict_new();
	ld->byname = dict_new();
	if (!ld->street || !ld->byname ||
	    dict_reserve(ld->street, (size_t)ld->nstore + ld->g->n))
		return oom(err);
	ld->nslot = ld->nnear = 0;
	ld->next_street = 1;
	ld->flagged = 0;
	ld->has_lsoa = ld->g->has_lsoa;
	return read_streets(ld, err);
}

/* Step a bound statement and reset it; the load's error on failure. */
static int step(struct gaz_load *ld, sqlite3_stmt *st, struct mb_error *err)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_db_err(ld->s, err, "loading the gazetteer");
}

/* Write the LSOA name of row (LSOA l) to lsoa_name, once a pair. */
static int lsoa_alias(struct gaz_load *ld, const struct gaz_row *row, uint32_t l,
		      struct mb_error *err)
{
	size_t len = strlen(row->lsoa_name);
	int added = 0;

	if (store_key_room(&ld->key, &ld->kcap, len + 4))
		return oom(err);
	memcpy(ld->key, &l, 4);
	memcpy(ld->key + 4, row->lsoa_name, len);
	if (!dict_get_or_put(ld->alias, ld->key, len + 4, 1, &added))
		return oom(err);
	if (!added)
		return 0;
	sqlite3_bind_int64(ld->ins_alias, 1, l);
	sqlite3_bind_text(ld->ins_alias, 2, row->lsoa_name, -1, SQLITE_STATIC);
	sqlite3_step(ld->ins_alias);
	sqlite3_reset(ld->ins_alias);
	return 0;
}

/* The LSOA id of row (0 when it has no code), adding an LSOA the store lacks. */
static int row_lsoa(struct gaz_load *ld, const struct gaz_row *row, uint32_t *l, struct mb_error *err)
{
	size_t cl;
	int r;

	*l = 0;
	if (!row->lsoa || !*row->lsoa)
		return 0;
	if (ld->memo_code && strcmp(ld->memo_code, row->lsoa) == 0) {
		*l = ld->memo_id;
	} else {
		cl = strlen(row->lsoa);
		*l = dict_get(ld->lsoa, row->lsoa, cl);
		if (!*l) {
			/* an LSOA with no crime yet: known by its code (and name if given) */
			*l = ld->next_lsoa++;
			sqlite3_bind_int64(ld->ins_lsoa, 1, *l);
			sqlite3_bind_text(ld->ins_lsoa, 2, row->lsoa, -1, SQLITE_STATIC);
			sqlite3_bind_text(ld->ins_lsoa, 3, row->lsoa_name ? row->lsoa_name : "", -1,
					  SQLITE_STATIC);
			if ((r = step(ld, ld->ins_lsoa, err)))
				return r;
			if (dict_put(ld->lsoa, row->lsoa, cl, *l))
				return oom(err);
		}
		ld->memo_code = row->lsoa;
		ld->memo_id = *l;
	}
	if (row->lsoa_name && *row->lsoa_name)
		return lsoa_alias(ld, row, *l, err);
	return 0;
}

/* The nearest observed street named norm within 1 km of row (slot + 1), or 0. */
static uint32_t near_find(const struct gaz_load *ld, const struct gaz_row *row, const char *norm,
			  size_t n)
{
	double best = MATCH_METRES;
	uint32_t found = 0;

	for (uint32_t k = dict_get(ld->byname, norm, n); k; k = ld->near[k - 1].next) {
		const struct near *c = &ld->near[k - 1];
		double d = metres(row->lon, row->lat, c->lon, c->lat);

		if (d <= best) {
			best = d;
			found = c->slot + 1;
		}
	}
	return found;
}

/* Resolve row i to its street (a slot), adding a new one when none matches. */
static int row_resolve(struct gaz_load *ld, size_t i, struct gaz_stats *gs, struct mb_error *err)
{
	const struct gaz_row *row = &ld->g->rows[i];
	char *norm;
	uint32_t l, k;
	size_t n;
	int r;

	/* first: writing an LSOA name may move the key */
	if ((r = row_lsoa(ld, row, &l, err)))
		return r;
	norm = ld->key + 4;
	n = ingest_normalise_name(row->name, strlen(row->name), norm, ld->longest + 1);
	memcpy(ld->key, &l, 4);
	k = dict_get(ld->street, ld->key, n + 4);
	if (!k && !ld->g->has_lsoa && !isnan(row->lon))
		k = near_find(ld, row, norm, n);
	if (k) {
		gs->matched++;
	} else {
		if (GROW(ld->slot, ld->nslot + 1, ld->scap))
			return oom(err);
		ld->slot[ld->nslot] = (struct gslot){ .id = ld->next_street++, .lsoa = l,
						      .first = (uint32_t)i + 1 };
		k = (uint32_t)++ld->nslot;
		if (dict_put(ld->street, ld->key, n + 4, k))
			return oom(err);
		gs->added++;
	}
	ld->slot[k - 1].last = (uint32_t)i + 1;
	if (!isnan(row->lon) && !isnan(row->lat))
		ld->slot[k - 1].coord = (uint32_t)i + 1;
	return 0;
}

/* Keys of rows resolved ahead, hashed and prefetched (a probe of the
 * national street dictionary, ~50 MB, otherwise waits on memory twice). */
#define AHEAD 16

/* A row's key, made ahead of its lookup. */
struct ahead {
	uint64_t h;       /* dict_hash of the key */
	size_t len;       /* key bytes: LSOA id and normalised name */
};

/* Make row i's key at key (LSOA id, normalised name) and its hash into *a, and
 * prefetch its slot of the street dictionary. */
static int row_key(struct gaz_load *ld, size_t i, char *key, struct ahead *a, struct mb_error *err)
{
	const struct gaz_row *row = &ld->g->rows[i];
	uint32_t l;
	int r;

	if ((r = row_lsoa(ld, row, &l, err)))
		return r;
	memcpy(key, &l, 4);
	a->len = 4 + ingest_normalise_name(row->name, strlen(row->name), key + 4, ld->longest + 1);
	a->h = dict_hash(key, a->len);
	dict_prefetch(ld->street, a->h);
	return 0;
}

/* Resolve row i, whose key and its hash are at key and a: the street of the
 * key, or a new one. */
static int row_lookup(struct gaz_load *ld, size_t i, const char *key, const struct ahead *a,
		      struct gaz_stats *gs, struct mb_error *err)
{
	const struct gaz_row *row = &ld->g->rows[i];
	uint32_t l, k;
	int added;

	if (GROW(ld->slot, ld->nslot + 1, ld->scap) ||
	    !(k = dict_get_or_put_h(ld->street, key, a->len, a->h, (uint32_t)ld->nslot + 1, &added)))
		return oom(err);
	if (added) {
		memcpy(&l, key, 4);
		ld->slot[ld->nslot++] = (struct gslot){ .id = ld->next_street++, .lsoa = l,
							.first = (uint32_t)i + 1 };
		gs->added++;
	} else {
		gs->matched++;
	}
	ld->slot[k - 1].last = (uint32_t)i + 1;
	if (!isnan(row->lon) && !isnan(row->lat))
		ld->slot[k - 1].coord = (uint32_t)i + 1;
	return 0;
}

/* Resolve every row of a gazetteer with LSOA codes, keys made AHEAD rows
 * before their lookup (and the slot's key prefetched half way). */
static int resolve_keyed(struct gaz_load *ld, struct gaz_stats *gs, struct mb_error *err)
{
	size_t n = ld->g->n, w = ld->longest + 5;
	struct ahead a[AHEAD];
	char *keys = malloc(AHEAD * w);
	int r = 0;

	if (!keys)
		return oom(err);
	for (size_t i = 0; i < n + AHEAD && !r; i++) {
		if (i >= AHEAD && (r = row_lookup(ld, i - AHEAD, keys + (i % AHEAD) * w,
						  &a[i % AHEAD], gs, err)))
			break;
		if (i < n)
			r = row_key(ld, i, keys + (i % AHEAD) * w, &a[i % AHEAD], err);
		if (i >= AHEAD / 2 && i - AHEAD / 2 < n)
			dict_prefetch_key(ld->street, a[(i - AHEAD / 2) % AHEAD].h);
	}
	free(keys);
	return r;
}

/* Run st over the n feed rows d (temp.mb_feed_gaz). */
static int feed_run(struct gaz_load *ld, sqlite3_stmt *st, const struct rec_dim *d, size_t n,
		    struct mb_error *err)
{
	struct feed *f = &ld->s->feed[FEED_GAZ];
	int r;

	f->rows = d;
	f->n = n;
	r = step(ld, st, err);
	ld->written += sqlite3_changes(ld->s->db);
	f->rows = NULL;
	f->n = 0;
	return r;
}

/* The final row of slot k as a feed row (only its id for a slot no row
 * resolved to); a new street's normalised name goes to text (room for the
 * longest name). */
static void slot_row(const struct gaz_load *ld, size_t k, char *text, struct rec_dim *d)
{
	const struct gslot *sl = &ld->slot[k];
	const struct gaz_row *rows = ld->g->rows;

	*d = (struct rec_dim){ .id = sl->id, .ref = sl->lsoa };
	if (sl->last)
		d->s2 = rows[sl->last - 1].area;
	if (sl->coord) {
		d->has_coord = 1;
		d->lon = rows[sl->coord - 1].lon;
		d->lat = rows[sl->coord - 1].lat;
	}
	/* a street the store holds keeps its name: "" only passes NOT NULL */
	d->s1 = "";
	if (sl->first) {
		const char *name = rows[sl->first - 1].name;

		ingest_normalise_name(name, strlen(name), text, ld->longest + 1);
		d->s1 = text;
	}
}

/* Whether write_slots writes slot k: a street the rows resolved to, or
 * (unmarking) one of the old gazetteer that none did. */
static int slot_wanted(const struct gaz_load *ld, size_t k, int unmarking)
{
	const struct gslot *sl = &ld->slot[k];

	return unmarking ? sl->unmark && !sl->last : sl->last != 0;
}

/* Write the slots [from, to) the rows touched (or, unmarking, those to
 * unmark) with st, a batch a statement (up to FEED_BATCH streets and
 * FEED_TEXT bytes of names). */
static int write_slots(struct gaz_load *ld, sqlite3_stmt *st, size_t from, size_t to,
		       int unmarking, struct mb_error *err)
{
	size_t tcap = FEED_TEXT + ld->longest + 1, n = 0, used = 0;
	struct rec_dim *d = malloc(FEED_BATCH * sizeof(*d));
	char *text = malloc(tcap);
	int r = 0;

	if (!d || !text) {
		r = oom(err);
		goto cleanup;
	}
	for (size_t k = from; k < to && !r; k++) {
		if (!slot_wanted(ld, k, unmarking))
			continue;
		slot_row(ld, k, text + used, &d[n]);
		used += strlen(d[n].s1) + 1;
		if (++n == FEED_BATCH || used > FEED_TEXT) {
			r = feed_run(ld, st, d, n, err);
			n = used = 0;
		}
	}
	if (!r && n)
		r = feed_run(ld, st, d, n, err);
cleanup:
	free(d);
	free(text);
	return r;
}

/* Delete the old gazetteer's crime-free streets whose ids no new street
 * takes (new streets take ids from the first new slot's on). */
static int drop_gone(struct gaz_load *ld, sqlite3_stmt *st, struct mb_error *err)
{
	uint32_t lo = ld->nslot > ld->nstore ? ld->slot[ld->nstore].id : UINT32_MAX;
	struct rec_dim *d = malloc(FEED_BATCH * sizeof(*d));
	size_t n = 0;
	int r = 0;

	if (!d)
		return oom(err);
	for (size_t i = 0; i < ld->ngone && !r; i++) {
		if (ld->gone[i] >= lo && ld->gone[i] < ld->next_street)
			continue;
		d[n++] = (struct rec_dim){ .id = ld->gone[i], .s1 = "" };
		if (n == FEED_BATCH) {
			r = feed_run(ld, st, d, n, err);
			n = 0;
		}
	}
	if (!r && n)
		r = feed_run(ld, st, d, n, err);
	free(d);
	return r;
}

/* The statements of write_streets, in the order they run. */
enum { W_DROP, W_UNMARK, W_HELD, W_NEW, W_STATEMENTS };

/* Each writes only rows that change, so that a gazetteer loaded again
 * rewrites no page it leaves as it was (the old gazetteer is replaced in
 * memory: read_located). A street the store holds is updated (a conflict on
 * its id; the feed's name is then not used); a new street is inserted, or,
 * taking again the id of one of the old gazetteer's, replaces that row's
 * every column. "= 0" writes a zero coordinate whatever its sign, as SQL
 * compares -0.0 equal to 0.0. */
static const char *const WRITE_SQL[W_STATEMENTS] = {
	"DELETE FROM street WHERE id IN (SELECT id FROM temp.mb_feed_gaz)",
	"UPDATE street SET gazetteer = 0, area_code = NULL"
	" WHERE id IN (SELECT id FROM temp.mb_feed_gaz)",
	"INSERT INTO street(id, name_norm, lsoa_id, gazetteer, lon, lat, area_code)"
	" SELECT id, name_norm, lsoa_id, 1, lon, lat, area_code"
	" FROM temp.mb_feed_gaz WHERE true ON CONFLICT(id) DO UPDATE SET"
	" gazetteer = 1, lon = coalesce(excluded.lon, lon),"
	" lat = coalesce(excluded.lat, lat), area_code = excluded.area_code"
	" WHERE gazetteer IS NOT 1 OR lon IS NOT coalesce(excluded.lon, lon)"
	" OR lat IS NOT coalesce(excluded.lat, lat) OR area_code IS NOT excluded.area_code"
	" OR excluded.lon = 0 OR excluded.lat = 0",
	"INSERT INTO street(id, name_norm, lsoa_id, gazetteer, lon, lat, area_code)"
	" SELECT id, name_norm, lsoa_id, 1, lon, lat, area_code"
	" FROM temp.mb_feed_gaz WHERE true ON CONFLICT(id) DO UPDATE SET"
	" name_norm = excluded.name_norm, lsoa_id = excluded.lsoa_id, kind = 'street',"
	" gazetteer = 1, lon = excluded.lon, lat = excluded.lat, area_code = excluded.area_code"
	" WHERE name_norm IS NOT excluded.name_norm OR lsoa_id IS NOT excluded.lsoa_id"
	" OR kind IS NOT 'street' OR gazetteer IS NOT 1 OR lon IS NOT excluded.lon"
	" OR lat IS NOT excluded.lat OR area_code IS NOT excluded.area_code"
	" OR excluded.lon = 0 OR excluded.lat = 0",
};

/* Write the streets in id order: what the old row-by-row load left, each
 * statement a batch of up to FEED_BATCH streets. Measured against UPDATE
 * ... FROM for the matched streets: 0.19 s against 0.25 s CPU for 408,174. */
static int write_streets(struct gaz_load *ld, struct mb_error *err)
{
	sqlite3_stmt *st[W_STATEMENTS] = { NULL };
	int r = 0;

	for (int i = 0; i < W_STATEMENTS && !r; i++)
		r = store_prepare(ld->s, &st[i], WRITE_SQL[i], err);
	if (r || (r = drop_gone(ld, st[W_DROP], err)) ||
	    (r = write_slots(ld, st[W_UNMARK], 0, ld->nstore, 1, err)) ||
	    (r = write_slots(ld, st[W_HELD], 0, ld->nstore, 0, err)))
		goto cleanup;
	r = write_slots(ld, st[W_NEW], ld->nstore, ld->nslot, 0, err);
cleanup:
	for (int i = 0; i < W_STATEMENTS; i++)
		sqlite3_finalize(st[i]);
	return r;
}

/* Resolve every row and write the streets; the counts into gs. */
static int load_rows(struct gaz_load *ld, struct gaz_stats *gs, struct mb_error *err)
{
	const struct gazetteer *g = ld->g;
	size_t touched = 0;
	int r;

	if (store_key_room(&ld->key, &ld->kcap, ld->longest + 5))
		return oom(err);
	if ((r = store_prepare(ld->s, &ld->ins_lsoa, "INSERT INTO lsoa(id, code, name) VALUES(?, ?, ?)",
			       err)) ||
	    (r = store_prepare(ld->s, &ld->ins_alias,
			       "INSERT OR IGNORE INTO lsoa_name(lsoa_id, name) VALUES(?, ?)", err)))
		return r;
	gs->rows = (long)g->n;
	double t = gazetteer_clock();

	if (g->has_lsoa)
		r = resolve_keyed(ld, gs, err);
	for (size_t i = 0; i < g->n && !g->has_lsoa && !r; i++)
		r = row_resolve(ld, i, gs, err);
	gs->match_s = gazetteer_clock() - t;
	t = gazetteer_clock();
	if (r || (r = write_streets(ld, err)))
		return r;
	gs->write_s = gazetteer_clock() - t;
	gs->written = ld->written;
	/* rows sharing a key count once in the universe */
	for (size_t k = 0; k < ld->nslot; k++)
		touched += ld->slot[k].last != 0;
	gs->merged = gs->rows - (long)touched;
	return 0;
}

/* The load's page cache: the store's streets are read once and written in
 * id order, so a small cache does as well as the store's 64 MB, and its
 * dirty pages reach the WAL while the load writes rather than all at its
 * commit. National bench, best of 3: commit 0.48 -> 0.37 s, peak RSS 223 ->
 * 205 MB (a gazetteer loaded again: 237 -> 202 MB). The store's size is
 * put back when the load ends. */
#define LOAD_CACHE_KB 4096

/* Free ld, rolling its transaction back if it is open. */
static void load_free(struct gaz_load *ld)
{
	if (!ld)
		return;
	sqlite3_finalize(ld->ins_lsoa);
	sqlite3_finalize(ld->ins_alias);
	if (ld->in_tx)
		store_rollback(ld->s);
	store_cache_restore(ld->s, ld->cache_was);
	dict_free(ld->lsoa);
	dict_free(ld->street);
	dict_free(ld->byname);
	dict_free(ld->alias);
	free(ld->slot);
	free(ld->near);
	free(ld->located);
	free(ld->gone);
	free(ld->key);
	free(ld);
}

int store_gazetteer_begin(struct store *s, struct gaz_load **out, struct mb_error *err)
{
	struct gaz_load *ld = calloc(1, sizeof(*ld));
	size_t n;
	int r;

	*out = NULL;
	if (!ld)
		return oom(err);
	*ld = (struct gaz_load){ .s = s, .lsoa = dict_new(), .street = dict_new(),
				 .byname = dict_new(), .alias = dict_new(), .next_lsoa = 1,
				 .next_street = 1, .has_lsoa = 1 };
	if (!ld->lsoa || !ld->street || !ld->byname || !ld->alias) {
		r = oom(err);
		goto fail;
	}
	if ((r = store_cache_small(s, LOAD_CACHE_KB, &ld->cache_was, err)))
		goto fail;
	if ((r = store_begin(s, err)))
		goto fail;
	ld->in_tx = 1;
	/* the street dictionary sized once, while the file is read (a hint: the
	 * rows are not read yet): for the store's streets and as many new ones,
	 * or, if it holds a gazetteer, which a new one mostly gives again, for
	 * as many as it holds (twice would double a national table to 100 MB) */
	if ((r = read_lsoas(ld, err)) ||
	    (r = store_max_id(s, "SELECT count(*) FROM street", &n, err)) ||
	    (r = read_located(ld, err)) ||
	    (dict_reserve(ld->street, ld->flagged ? n : 2 * n) && (r = oom(err))) ||
	    (r = read_streets(ld, err)))
		goto fail;
	*out = ld;
	return 0;
fail:
	load_free(ld);
	return r;
}

void store_gazetteer_abandon(struct gaz_load *ld)
{
	load_free(ld);
}

int store_gazetteer_finish(struct gaz_load *ld, const struct gazetteer *g, int replace,
			   struct gaz_stats *gs, struct mb_error *err)
{
	int r;

	memset(gs, 0, sizeof(*gs));
	ld->g = g;
	ld->longest = g->longest;
	if (!g->n && !replace) {
		r = refuse_empty(ld->s, err);
		goto cleanup;
	}
	/* sized once: every row may add a street (the store's are in already) */
	if (dict_reserve(ld->street, dict_count(ld->street) + g->n)) {
		r = oom(err);
		goto cleanup;
	}
	if ((ld->has_lsoa != g->has_lsoa && (r = reread(ld, err))) ||
	    (r = load_rows(ld, gs, err)))
		goto cleanup;
	/* the street blocks copy the rows: built again when a row changed (a
	 * load that changes nothing writes nothing) */
	if ((ld->written || ld->unmarked) &&
	    ((r = store_dimblocks_drop(ld->s, DIMB_STREET, err)) ||
	     (r = store_dimblocks_extend(ld->s, err))))
		goto cleanup;
	double t = gazetteer_clock();

	r = store_commit(ld->s, err);
	gs->commit_s = gazetteer_clock() - t;
	ld->in_tx = 0;
cleanup:
	load_free(ld);
	return r;
}

int store_gazetteer_load(struct store *s, const struct gazetteer *g, int replace,
			 struct gaz_stats *gs, struct mb_error *err)
{
	struct gaz_load *ld;
	int r;

	memset(gs, 0, sizeof(*gs));
	if ((r = store_gazetteer_begin(s, &ld, err)))
		return r;
	return store_gazetteer_finish(ld, g, replace, gs, err);
}
