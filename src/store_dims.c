/* store_dims — the dimension tables (sources, categories, outcomes, LSOAs,
 * streets, snap points): loaded into the import's dictionaries, and written. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "microbeat/dict.h"
#include "microbeat/store.h"
#include "microbeat/util.h"
#include "store_internal.h"

/* Build the location dictionary key: lsoa id, micro-degrees, name. */
size_t store_location_key(char *buf, size_t cap, uint32_t lsoa, int has_coord, double lon,
			  double lat, const char *name, size_t name_len)
{
	int64_t x = has_coord ? (int64_t)(lon * 1e6 + (lon < 0 ? -0.5 : 0.5)) : INT64_MIN;
	int64_t y = has_coord ? (int64_t)(lat * 1e6 + (lat < 0 ? -0.5 : 0.5)) : INT64_MIN;
	size_t n = 4 + 16 + name_len;

	if (n > cap)
		return 0;
	memcpy(buf, &lsoa, 4);
	memcpy(buf + 4, &x, 8);
	memcpy(buf + 12, &y, 8);
	if (name_len)
		memcpy(buf + 20, name, name_len);
	return n;
}

/* Load "SELECT id, key..." rows into dict d; track the max id in *next. */
static int load_simple(struct store *s, const char *sql, struct dict *d, uint32_t *next,
		       struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	*next = 1;
	if ((r = store_prepare(s, &st, sql, err)))
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint32_t id = (uint32_t)sqlite3_column_int64(st, 0);
		const void *k = sqlite3_column_blob(st, 1);
		size_t len = (size_t)sqlite3_column_bytes(st, 1);

		if (dict_put(d, k ? k : "", len, id) != 0) {
			sqlite3_finalize(st);
			return mb_err(err, MB_ENOMEM, "out of memory loading dimensions");
		}
		if (id >= *next)
			*next = id + 1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_db_err(s, err, "loading dimensions");
	return 0;
}

/* room for a key of `need` bytes in the growing buffer *buf (capacity *cap); 0 or -1 */
int store_key_room(char **buf, size_t *cap, size_t need)
{
	return GROW(*buf, need, *cap);
}

static int load_keyed(struct store *s, struct dims *d, char **kbuf, size_t *kcap,
		      struct mb_error *err);

/* The dictionaries keep every key whole, however long (a name of 64 KiB makes a key of 64 KiB
 * plus a few bytes): a key left out here would be inserted again as a new row next import. */
int store_dims_load(struct store *s, struct dims *d, struct mb_error *err)
{
	int r;

	d->source = dict_new();
	d->category = dict_new();
	d->outcome = dict_new();
	d->lsoa = dict_new();
	d->lsoa_name = dict_new();
	d->street = dict_new();
	d->location = dict_new();
	if (!d->source || !d->category || !d->outcome || !d->lsoa || !d->lsoa_name || !d->street ||
	    !d->location)
		return mb_err(err, MB_ENOMEM, "out of memory");
	if ((r = load_simple(s, "SELECT id, name FROM source", d->source, &d->next[DIM_SOURCE], err)) ||
	    (r = load_simple(s, "SELECT id, name FROM category", d->category,
			     &d->next[DIM_CATEGORY], err)) ||
	    (r = load_simple(s, "SELECT id, name FROM outcome", d->outcome, &d->next[DIM_OUTCOME],
			     err)) ||
	    (r = load_simple(s, "SELECT id, code FROM lsoa", d->lsoa, &d->next[DIM_LSOA], err)))
		return r;
	char *key = NULL;
	size_t cap = 0;
	r = load_keyed(s, d, &key, &cap, err);
	free(key);
	return r;
}

static int load_keyed(struct store *s, struct dims *d, char **kbuf, size_t *kcap,
		      struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	char *key;
	int r, rc;

	/* lsoa_name and street keys start with a binary id: built here in C */
	if ((r = store_prepare(s, &st, "SELECT lsoa_id, name FROM lsoa_name", err)))
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint32_t l = (uint32_t)sqlite3_column_int64(st, 0);
		size_t len = (size_t)sqlite3_column_bytes(st, 1);

		if (GROW(*kbuf, len + 4, *kcap)) {
			sqlite3_finalize(st);
			return mb_err(err, MB_ENOMEM, "out of memory");
		}
		key = *kbuf;
		memcpy(key, &l, 4);
		if (len)
			memcpy(key + 4, sqlite3_column_blob(st, 1), len);
		if (dict_put(d->lsoa_name, key, len + 4, 1)) {
			sqlite3_finalize(st);
			return mb_err(err, MB_ENOMEM, "out of memory");
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_db_err(s, err, "loading dimensions");
	d->next[DIM_LSOA_NAME] = 2; /* loaded aliases carry id 1; new ones count up */

	d->next[DIM_STREET] = 1;
	if ((r = store_prepare(s, &st, "SELECT id, coalesce(lsoa_id, 0), name_norm FROM street", err)))
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint32_t id = (uint32_t)sqlite3_column_int64(st, 0);
		uint32_t l = (uint32_t)sqlite3_column_int64(st, 1);
		size_t len = (size_t)sqlite3_column_bytes(st, 2);

		if (id >= d->next[DIM_STREET])
			d->next[DIM_STREET] = id + 1;
		if (GROW(*kbuf, len + 4, *kcap)) {
			sqlite3_finalize(st);
			return mb_err(err, MB_ENOMEM, "out of memory");
		}
		key = *kbuf;
		memcpy(key, &l, 4);
		if (len)
			memcpy(key + 4, sqlite3_column_blob(st, 2), len);
		if (dict_get(d->street, key, len + 4) == 0 && dict_put(d->street, key, len + 4, id)) {
			sqlite3_finalize(st);
			return mb_err(err, MB_ENOMEM, "out of memory");
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_db_err(s, err, "loading dimensions");

	d->next[DIM_LOCATION] = 1;
	if ((r = store_prepare(s, &st,
			       "SELECT id, coalesce(lsoa_id, 0), lon IS NOT NULL, lon, lat, name"
			       " FROM location",
			       err)))
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint32_t id = (uint32_t)sqlite3_column_int64(st, 0);
		size_t nlen = (size_t)sqlite3_column_bytes(st, 5);

		if (GROW(*kbuf, nlen + 64, *kcap)) {
			sqlite3_finalize(st);
			return mb_err(err, MB_ENOMEM, "out of memory");
		}
		size_t n = store_location_key(
			*kbuf, *kcap, (uint32_t)sqlite3_column_int64(st, 1),
			sqlite3_column_int(st, 2), sqlite3_column_double(st, 3),
			sqlite3_column_double(st, 4), (const char *)sqlite3_column_blob(st, 5),
			(size_t)sqlite3_column_bytes(st, 5));

		if (id >= d->next[DIM_LOCATION])
			d->next[DIM_LOCATION] = id + 1;
		if (n && dict_put(d->location, *kbuf, n, id)) {
			sqlite3_finalize(st);
			return mb_err(err, MB_ENOMEM, "out of memory");
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_db_err(s, err, "loading dimensions");
	return 0;
}

void store_dims_release(struct dims *d)
{
	dict_free(d->source);
	dict_free(d->category);
	dict_free(d->outcome);
	dict_free(d->lsoa);
	dict_free(d->lsoa_name);
	dict_free(d->street);
	dict_free(d->location);
	memset(d, 0, sizeof(*d));
}

/* One row of the small dimensions (kinds below DIM_LOCAL; streets and snap
 * points go through store_dims_write). */
static int write_dim(struct store *s, const struct rec_dim *d, struct mb_error *err)
{
	static const enum ins which[DIM_LOCAL] = { INS_SOURCE, INS_CATEGORY, INS_OUTCOME, INS_LSOA,
						   INS_LSOA_NAME };

	if ((unsigned)d->kind >= DIM_LOCAL)
		return BUG(err, "a dimension row of kind %d", (int)d->kind);
	sqlite3_stmt *st = store_ins(s, which[d->kind], err);

	if (!st)
		return -MB_EDB;
	sqlite3_clear_bindings(st);
	if (d->kind != DIM_LSOA_NAME)
		sqlite3_bind_int64(st, 1, d->id);
	sqlite3_bind_text(st, 2, d->s1, -1, SQLITE_STATIC);
	if (d->kind == DIM_LSOA)
		sqlite3_bind_text(st, 3, d->s2 ? d->s2 : "", -1, SQLITE_STATIC);
	if (d->kind == DIM_LSOA_NAME)
		sqlite3_bind_int64(st, 4, d->ref);
	int r = store_step_reset(s, st, err);

	/* every LSOA's first name is also an alias, for name-prefix selection */
	if (!r && d->kind == DIM_LSOA) {
		struct rec_dim alias = { .kind = DIM_LSOA_NAME, .ref = d->id, .s1 = d->s2 ? d->s2 : "" };

		r = write_dim(s, &alias, err);
	}
	return r;
}

int store_dim_write(struct store *s, const struct rec_dim *d, struct mb_error *err)
{
	return write_dim(s, d, err);
}

int store_dims_write(struct store *s, enum dim_kind kind, const struct rec_dim *d, size_t n,
		     struct mb_error *err)
{
	if (kind != DIM_STREET && kind != DIM_LOCATION)
		return BUG(err, "bulk dimension rows of kind %d", (int)kind);
	if (!n)
		return 0;
	int street = kind == DIM_STREET;
	sqlite3_stmt *st = store_ins(s, street ? INS_STREETS : INS_LOCATIONS, err);

	if (!st)
		return -MB_EDB;
	int r = store_feed_run(s, st, street ? FEED_STREET : FEED_LOCATION, d, n, 0, err);

	if (!r)
		store_dimblocks_gather(s, street, d, n);
	return r;
}

/* The SQL of each statement of enum ins (store_internal.h). */
static const char *const INS_SQL[INS_COUNT] = {
	"INSERT INTO source(id, name) VALUES(?1, ?2)",
	"INSERT INTO category(id, name) VALUES(?1, ?2)",
	"INSERT INTO outcome(id, name) VALUES(?1, ?2)",
	"INSERT INTO lsoa(id, code, name) VALUES(?1, ?2, ?3)",
	"INSERT OR IGNORE INTO lsoa_name(lsoa_id, name) VALUES(?4, ?2)",
	/* a batch's events, new streets, new snap points, outcome rows: one statement each
	 * (store_feed.c; the feeds give NULL for a 0 id). Named with their schema,
	 * temp: a table or view of the same name in a store cannot stand in. */
	"INSERT INTO event(import_id, line, ext_id, month, category_id, outcome_id, location_id,"
	" source_id, falls_id, flags) SELECT * FROM temp.mb_feed_event",
	"INSERT INTO reject(import_id, line, col, duplicate, reason, raw) VALUES(?, ?, ?, ?, ?, ?)",
	"INSERT INTO outcome_row(import_id, line, crime_id, month, outcome_id)"
	" SELECT * FROM temp.mb_feed_outcome",
	"INSERT INTO stop_search(import_id, line, month, type, date, operation, operation_name,"
	" lat, lon, gender, age_range, self_ethnicity, officer_ethnicity, legislation, object,"
	" outcome, outcome_linked, removal) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
	" ?, ?)",
	"INSERT INTO event_unit(event_id, layer_id, unit_id) VALUES(?, ?, ?)",
	"INSERT INTO street(id, name_norm, lsoa_id) SELECT * FROM temp.mb_feed_street",
	"INSERT INTO location(id, name, lon, lat, lsoa_id, street_id)"
	" SELECT * FROM temp.mb_feed_location",
	"INSERT INTO offence_subgroup(name) VALUES(?1) ON CONFLICT DO NOTHING",
	"INSERT INTO hate_strand(name) VALUES(?1) ON CONFLICT DO NOTHING",
	/* extract rows are few (a force's year is ~10^5): one statement a row */
	"INSERT INTO event_extra(crime_id, month, import_id, line, day, minute, ho_code,"
	" subgroup_id, da, hate, hate_id, street, parish) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7,"
	" (SELECT id FROM offence_subgroup WHERE name = ?8), ?9, ?10,"
	" (SELECT id FROM hate_strand WHERE name = ?11), ?12, ?13)",
	"INSERT INTO event_when(event_id, day, minute) VALUES(?1, ?2, ?3)",
};

sqlite3_stmt *store_ins(struct store *s, enum ins i, struct mb_error *err)
{
	if (!s->ins[i] && store_prepare(s, &s->ins[i], INS_SQL[i], err))
		return NULL;
	return s->ins[i];
}

