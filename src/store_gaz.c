/* store_gaz — load a street gazetteer into the street table (the street universe). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "microbeat/dict.h"
#include "microbeat/gazetteer.h"
#include "microbeat/places.h"
#include "store_internal.h"

#define MATCH_METRES 1000.0

/* Observed street of a name, for gazetteers without LSOA codes. */
struct near {
	uint32_t street;  /* street id */
	double lon, lat;  /* one of its snap points */
	uint32_t next;    /* next index with the same name (0 = none), 1-based */
};

/* Approximate ground distance in metres (equirectangular; fine within 1 km). */
static double metres(double lon1, double lat1, double lon2, double lat2)
{
	double k = 111320.0, x = (lon2 - lon1) * k * cos((lat1 + lat2) * M_PI / 360.0);
	double y = (lat2 - lat1) * 110574.0;

	return sqrt(x * x + y * y);
}

int store_gazetteer_load(struct store *s, const struct gazetteer *g, int replace,
			 struct gaz_stats *gs, struct mb_error *err)
{
	struct dict *lsoa = dict_new(), *street = dict_new(), *byname = dict_new();
	sqlite3_stmt *st = NULL, *ins_street = NULL, *upd = NULL, *ins_lsoa = NULL, *ins_alias = NULL;
	struct near *near = NULL;
	size_t nnear = 0;
	uint32_t next_lsoa = 1, next_street = 1;
	/* keys hold whole names, however long: a name cut short would not match the same street
	 * named in the crime data */
	size_t kcap = 4096, longest = 0;
	char *key = malloc(kcap), *norm = NULL;
	int r, rc, in_tx = 0;

	for (size_t i = 0; i < g->n; i++) {
		size_t l = strlen(g->rows[i].name);

		if (l > longest)
			longest = l;
	}
	norm = malloc(longest + 1);

	memset(gs, 0, sizeof(*gs));
	if (!lsoa || !street || !byname || !key || !norm) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	if ((r = store_begin(s, err)))
		goto cleanup;
	in_tx = 1;
	if (!g->n && !replace) {
		long held = 0;

		if ((r = store_prepare(s, &st, "SELECT count(*) FROM street WHERE gazetteer = 1", err)))
			goto cleanup;
		if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
			r = store_db_err(s, err, "reading the gazetteer");
			goto cleanup;
		}
		held = sqlite3_column_int64(st, 0);
		r = held ? mb_err(err, MB_EDATA, "the gazetteer file holds no streets: the loaded"
				  " gazetteer (%ld streets) is kept; give --replace to clear it", held)
			 : mb_err(err, MB_EDATA, "the gazetteer file holds no streets");
		goto cleanup;
	}
	/* a new gazetteer replaces the old: crime-free streets it added go */
	if ((r = store_exec(s,
			    "DELETE FROM street WHERE gazetteer = 1 AND id NOT IN"
			    " (SELECT street_id FROM location WHERE street_id IS NOT NULL);"
			    "UPDATE street SET gazetteer = 0, area_code = NULL WHERE gazetteer = 1",
			    err)))
		goto cleanup;
	if ((r = store_prepare(s, &st, "SELECT id, code FROM lsoa", err)))
		goto cleanup;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint32_t id = (uint32_t)sqlite3_column_int64(st, 0);

		if (dict_put(lsoa, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1), id)) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
		if (id >= next_lsoa)
			next_lsoa = id + 1;
	}
	sqlite3_finalize(st);
	st = NULL;
	/* a point per observed street is needed only to match rows without an LSOA code */
	if ((r = store_prepare(s, &st,
			       g->has_lsoa ? "SELECT id, coalesce(lsoa_id, 0), name_norm, NULL, NULL FROM street"
					   : "SELECT s.id, coalesce(s.lsoa_id, 0), s.name_norm, min(l.lon),"
					     " min(l.lat) FROM street s LEFT JOIN location l"
					     " ON l.street_id = s.id GROUP BY s.id",
			       err)))
		goto cleanup;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint32_t id = (uint32_t)sqlite3_column_int64(st, 0), l = (uint32_t)sqlite3_column_int64(st, 1);
		size_t len = (size_t)sqlite3_column_bytes(st, 2);
		const void *name = sqlite3_column_blob(st, 2);

		if (id >= next_street)
			next_street = id + 1;
		if (store_key_room(&key, &kcap, len + 4)) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
		memcpy(key, &l, 4);
		if (len)
			memcpy(key + 4, name, len);
		if (!dict_get(street, key, len + 4) && dict_put(street, key, len + 4, id)) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
		if (!g->has_lsoa && sqlite3_column_type(st, 3) != SQLITE_NULL) {
			struct near *nn = realloc(near, (nnear + 1) * sizeof(*near));

			if (!nn) {
				r = mb_err(err, MB_ENOMEM, "out of memory");
				goto cleanup;
			}
			near = nn;
			near[nnear] = (struct near){ id, sqlite3_column_double(st, 3),
						     sqlite3_column_double(st, 4), 0 };
			/* chain same-name streets: the dict holds the first index of each name */
			uint32_t head = dict_get(byname, name, len);

			near[nnear].next = 0;
			nnear++;
			if (!head && dict_put(byname, name, len, (uint32_t)nnear)) {
				r = mb_err(err, MB_ENOMEM, "out of memory");
				goto cleanup;
			}
			if (head) {
				/* insert after the head so the head index stays valid */
				near[nnear - 1].next = near[head - 1].next;
				near[head - 1].next = (uint32_t)nnear;
			}
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((r = store_prepare(s, &ins_street,
			       "INSERT INTO street(id, name_norm, lsoa_id, gazetteer, lon, lat, area_code)"
			       " VALUES(?, ?, nullif(?, 0), 1, ?, ?, ?)",
			       err)) ||
	    (r = store_prepare(s, &upd,
			       "UPDATE street SET gazetteer = 1, lon = coalesce(?2, lon),"
			       " lat = coalesce(?3, lat), area_code = ?4 WHERE id = ?1",
			       err)) ||
	    (r = store_prepare(s, &ins_lsoa, "INSERT INTO lsoa(id, code, name) VALUES(?, ?, ?)", err)) ||
	    (r = store_prepare(s, &ins_alias,
			       "INSERT OR IGNORE INTO lsoa_name(lsoa_id, name) VALUES(?, ?)", err)))
		goto cleanup;
	if (store_key_room(&key, &kcap, longest + 4)) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < g->n; i++) {
		const struct gaz_row *row = &g->rows[i];
		uint32_t l = 0, id = 0;
		size_t n = ingest_normalise_name(row->name, strlen(row->name), norm, longest + 1);

		gs->rows++;
		if (row->lsoa && *row->lsoa) {
			size_t cl = strlen(row->lsoa);

			l = dict_get(lsoa, row->lsoa, cl);
			if (!l) {
				/* an LSOA with no crime yet: known by its code (and name if given) */
				l = next_lsoa++;
				sqlite3_bind_int64(ins_lsoa, 1, l);
				sqlite3_bind_text(ins_lsoa, 2, row->lsoa, -1, SQLITE_STATIC);
				sqlite3_bind_text(ins_lsoa, 3, row->lsoa_name ? row->lsoa_name : "", -1,
						  SQLITE_STATIC);
				rc = sqlite3_step(ins_lsoa);
				sqlite3_reset(ins_lsoa);
				if (rc != SQLITE_DONE || dict_put(lsoa, row->lsoa, cl, l)) {
					r = store_db_err(s, err, "loading the gazetteer");
					goto cleanup;
				}
			}
			if (row->lsoa_name && *row->lsoa_name) {
				sqlite3_bind_int64(ins_alias, 1, l);
				sqlite3_bind_text(ins_alias, 2, row->lsoa_name, -1, SQLITE_STATIC);
				sqlite3_step(ins_alias);
				sqlite3_reset(ins_alias);
			}
		}
		memcpy(key, &l, 4);
		memcpy(key + 4, norm, n);
		id = dict_get(street, key, n + 4);
		if (!id && !g->has_lsoa && !isnan(row->lon)) {
			double best = MATCH_METRES;

			for (uint32_t k = dict_get(byname, norm, n); k; k = near[k - 1].next) {
				double d = metres(row->lon, row->lat, near[k - 1].lon, near[k - 1].lat);

				if (d <= best) {
					best = d;
					id = near[k - 1].street;
				}
			}
		}
		if (id) {
			sqlite3_bind_int64(upd, 1, id);
			if (!isnan(row->lon) && !isnan(row->lat)) {
				sqlite3_bind_double(upd, 2, row->lon);
				sqlite3_bind_double(upd, 3, row->lat);
			} else {
				sqlite3_bind_null(upd, 2);
				sqlite3_bind_null(upd, 3);
			}
			if (row->area)
				sqlite3_bind_text(upd, 4, row->area, -1, SQLITE_STATIC);
			else
				sqlite3_bind_null(upd, 4);
			rc = sqlite3_step(upd);
			sqlite3_reset(upd);
			gs->matched++;
		} else {
			id = next_street++;
			sqlite3_bind_int64(ins_street, 1, id);
			sqlite3_bind_text(ins_street, 2, norm, (int)n, SQLITE_STATIC);
			sqlite3_bind_int64(ins_street, 3, l);
			if (!isnan(row->lon) && !isnan(row->lat)) {
				sqlite3_bind_double(ins_street, 4, row->lon);
				sqlite3_bind_double(ins_street, 5, row->lat);
			} else {
				sqlite3_bind_null(ins_street, 4);
				sqlite3_bind_null(ins_street, 5);
			}
			if (row->area)
				sqlite3_bind_text(ins_street, 6, row->area, -1, SQLITE_STATIC);
			else
				sqlite3_bind_null(ins_street, 6);
			rc = sqlite3_step(ins_street);
			sqlite3_reset(ins_street);
			if (rc == SQLITE_DONE && dict_put(street, key, n + 4, id)) {
				r = mb_err(err, MB_ENOMEM, "out of memory");
				goto cleanup;
			}
			gs->added++;
		}
		if (rc != SQLITE_DONE) {
			r = store_db_err(s, err, "loading the gazetteer");
			goto cleanup;
		}
	}
	/* rows sharing a key count once in the universe */
	if ((r = store_prepare(s, &st, "SELECT count(*) FROM street WHERE gazetteer = 1", err)))
		goto cleanup;
	if (sqlite3_step(st) == SQLITE_ROW)
		gs->merged = gs->rows - sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	r = store_commit(s, err);
	in_tx = 0;
cleanup:
	sqlite3_finalize(st);
	sqlite3_finalize(ins_street);
	sqlite3_finalize(upd);
	sqlite3_finalize(ins_lsoa);
	sqlite3_finalize(ins_alias);
	if (in_tx)
		store_rollback(s);
	dict_free(lsoa);
	dict_free(street);
	dict_free(byname);
	free(near);
	free(key);
	free(norm);
	return r;
}
