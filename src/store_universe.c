/* store_universe — the frozen observed street universe; snap points' units in every layer. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "microbeat/slice.h"
#include "microbeat/universe.h"
#include "microbeat/util.h"
#include "store_internal.h"

/* The two tables, as in store.c's schema (a store made before they were
 * added gets them on the first freeze). */
#define UNIVERSE_SQL                                                                  \
	"CREATE TABLE IF NOT EXISTS universe(id INTEGER PRIMARY KEY CHECK (id = 1),"  \
	" month_from INTEGER NOT NULL, month_to INTEGER NOT NULL, months INTEGER NOT NULL," \
	" streets INTEGER NOT NULL, frozen TEXT NOT NULL);"                            \
	"CREATE TABLE IF NOT EXISTS universe_member(street_id INTEGER NOT NULL,"      \
	" location_id INTEGER NOT NULL, PRIMARY KEY(street_id, location_id)) WITHOUT ROWID;"

/* The key of snap-point row l of micro-beat b. */
static uint64_t row_key(const struct slice *sl, size_t l, uint32_t b)
{
	return (uint64_t)sl->loc_street[l] << 32 | (sl->streets[b].place ? (uint32_t)l : 0u);
}

static int cmp_key(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

int universe_slice_keys(const struct slice *sl, const uint8_t *beat_on, uint64_t **keys,
			size_t *n, struct mb_error *err)
{
	*n = 0;
	*keys = malloc(sl->nloc * sizeof(**keys) + 1);
	if (!*keys)
		return mb_err(err, MB_ENOMEM, "out of memory");
	for (size_t l = 1; l < sl->nloc; l++) {
		uint32_t b = sl->loc_beat ? sl->loc_beat[l] : 0;

		if (b && b < sl->nstreet && beat_on[b] && sl->loc_street[l])
			(*keys)[(*n)++] = row_key(sl, l, b);
	}
	return 0;
}

int universe_slice_members(const struct universe *u, const struct slice *sl, uint8_t **member,
			   struct mb_error *err)
{
	*member = calloc(sl->nstreet + 1, 1);
	if (!*member)
		return mb_err(err, MB_ENOMEM, "out of memory");
	for (size_t l = 1; l < sl->nloc && u->n; l++) {
		uint32_t b = sl->loc_beat ? sl->loc_beat[l] : 0;
		uint64_t k;

		if (!b || b >= sl->nstreet || (*member)[b])
			continue;
		k = row_key(sl, l, b);
		(*member)[b] = bsearch(&k, u->key, u->n, sizeof(*u->key), cmp_key) != NULL;
	}
	return 0;
}

/* Does the store hold table name? (*yes 0/1) */
static int has_table(struct store *s, const char *name, int *yes, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = store_prepare(s, &st, "SELECT 1 FROM sqlite_schema WHERE type = 'table'"
				       " AND name = ?", err)))
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);

	*yes = rc == SQLITE_ROW;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_db_err(s, err, "reading the store");
}

int store_universe_load(struct store *s, struct universe *u, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc, yes, own = 0;
	size_t cap = 0;

	memset(u, 0, sizeof(*u));
	if ((r = store_read_begin(s, &own, err)))
		return r;
	if ((r = has_table(s, "universe", &yes, err)) || !yes)
		goto cleanup;
	if ((r = store_prepare(s, &st, "SELECT month_from, month_to, months, streets, frozen"
				       " FROM universe WHERE id = 1", err)))
		goto cleanup;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		u->present = 1;
		u->from = sqlite3_column_int(st, 0);
		u->to = sqlite3_column_int(st, 1);
		u->months = sqlite3_column_int(st, 2);
		u->streets = sqlite3_column_int64(st, 3);
		snprintf(u->frozen, sizeof(u->frozen), "%s", (const char *)sqlite3_column_text(st, 4));
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		r = store_db_err(s, err, "reading the frozen universe");
		goto cleanup;
	}
	if (!u->present)
		goto cleanup;
	if ((r = store_prepare(s, &st, "SELECT street_id, location_id FROM universe_member"
				       " ORDER BY street_id, location_id", err)))
		goto cleanup;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (GROW(u->key, u->n + 1, cap)) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
		u->key[u->n++] = (uint64_t)sqlite3_column_int64(st, 0) << 32 |
				 (uint32_t)sqlite3_column_int64(st, 1);
	}
	if (rc != SQLITE_DONE)
		r = store_db_err(s, err, "reading the frozen universe");
cleanup:
	sqlite3_finalize(st);
	store_read_end(s, own);
	if (r)
		universe_release(u);
	return r;
}

int store_universe_save(struct store *s, int32_t from, int32_t to, int32_t months,
			int64_t beats, const uint64_t *keys, size_t n, struct mb_error *err)
{
	const int clear = keys == NULL; /* store_universe_clear */
	sqlite3_stmt *st = NULL;
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	int r;

	if (!gmtime_r(&now, &tm) || !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(when, sizeof(when), "unknown");
	if ((r = store_begin(s, err)))
		return r;
	if ((r = store_exec(s, UNIVERSE_SQL "DELETE FROM universe; DELETE FROM universe_member;",
			    err)))
		goto fail;
	if (clear)
		return store_commit(s, err);
	if ((r = store_prepare(s, &st, "INSERT OR IGNORE INTO universe_member(street_id,"
				       " location_id) VALUES (?, ?)", err)))
		goto fail;
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)(keys[i] >> 32));
		sqlite3_bind_int64(st, 2, (sqlite3_int64)(keys[i] & 0xffffffffu));
		if (sqlite3_step(st) != SQLITE_DONE) {
			r = store_db_err(s, err, "freezing the universe");
			goto fail;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((r = store_prepare(s, &st, "INSERT INTO universe(id, month_from, month_to, months,"
				       " streets, frozen) VALUES (1, ?, ?, ?, ?, ?)", err)))
		goto fail;
	sqlite3_bind_int(st, 1, from);
	sqlite3_bind_int(st, 2, to);
	sqlite3_bind_int(st, 3, months);
	sqlite3_bind_int64(st, 4, beats);
	sqlite3_bind_text(st, 5, when, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = store_db_err(s, err, "freezing the universe");
		goto fail;
	}
	sqlite3_finalize(st);
	return store_commit(s, err);
fail:
	sqlite3_finalize(st);
	store_rollback(s);
	return r;
}

int store_universe_clear(struct store *s, struct mb_error *err)
{
	return store_universe_save(s, 0, 0, 0, 0, NULL, 0, err);
}

void universe_release(struct universe *u)
{
	free(u->key);
	memset(u, 0, sizeof(*u));
}

/* unit id -> name for one layer (names[id], n entries, owned). */
static int unit_names(struct store *s, const char *layer, size_t n, char ***names,
		      struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	char **v = calloc(n + 1, sizeof(*v));
	int r, rc;

	*names = NULL;
	if (!v)
		return mb_err(err, MB_ENOMEM, "out of memory");
	if ((r = store_prepare(s, &st, "SELECT u.id, u.name FROM unit u JOIN layer l"
				       " ON l.id = u.layer_id WHERE l.name = ?", err))) {
		free(v);
		return r;
	}
	sqlite3_bind_text(st, 1, layer, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t id = (size_t)sqlite3_column_int64(st, 0);

		if (id < n && !v[id] && !(v[id] = strdup((const char *)sqlite3_column_text(st, 1)))) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return rc == SQLITE_NOMEM ? mb_err(err, MB_ENOMEM, "out of memory")
					  : store_db_err(s, err, "loading unit names");
	}
	*names = v;
	return 0;
}

int store_loc_layers(struct store *s, const struct slice *sl, struct loc_layers *ll,
		     struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int r = 0, rc;

	memset(ll, 0, sizeof(*ll));
	if ((r = store_prepare(s, &st, "SELECT name FROM layer ORDER BY id", err)))
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (GROW(ll->name, ll->n + 1, cap)) {
			rc = SQLITE_NOMEM;
			break;
		}
		if (!(ll->name[ll->n] = strdup((const char *)sqlite3_column_text(st, 0)))) {
			rc = SQLITE_NOMEM;
			break;
		}
		ll->n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		r = rc == SQLITE_NOMEM ? mb_err(err, MB_ENOMEM, "out of memory")
				       : store_db_err(s, err, "loading layers");
		goto fail;
	}
	ll->unit_of = calloc(ll->n + 1, sizeof(*ll->unit_of));
	ll->unit_name = calloc(ll->n + 1, sizeof(*ll->unit_name));
	ll->nunit = calloc(ll->n + 1, sizeof(*ll->nunit));
	if (!ll->unit_of || !ll->unit_name || !ll->nunit) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t j = 0; j < ll->n; j++) {
		char **codes = NULL;
		size_t n = 0;

		if ((r = store_location_units(s, ll->name[j], sl, &ll->unit_of[j], &codes, &n, err)))
			goto fail;
		store_units_free(NULL, codes, n);
		ll->nunit[j] = n;
		if ((r = unit_names(s, ll->name[j], n, &ll->unit_name[j], err)))
			goto fail;
	}
	return 0;
fail:
	loc_layers_release(ll);
	return r;
}

void loc_layers_release(struct loc_layers *ll)
{
	for (size_t j = 0; j < ll->n; j++) {
		free(ll->name[j]);
		if (ll->unit_of)
			free(ll->unit_of[j]);
		for (size_t u = 0; ll->unit_name && ll->unit_name[j] && u < ll->nunit[j]; u++)
			free(ll->unit_name[j][u]);
		if (ll->unit_name)
			free(ll->unit_name[j]);
	}
	free(ll->name);
	free(ll->unit_of);
	free(ll->unit_name);
	free(ll->nunit);
	memset(ll, 0, sizeof(*ll));
}

int store_gazetteer_count(struct store *s, int64_t *n, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	*n = 0;
	if ((r = store_prepare(s, &st, "SELECT count(*) FROM street WHERE gazetteer = 1", err)))
		return r;
	if (sqlite3_step(st) == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	else
		r = store_db_err(s, err, "reading the store");
	sqlite3_finalize(st);
	return r;
}
