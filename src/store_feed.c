/* store_feed — in-memory rows as a table, so the bulk writer inserts a whole
 * batch with one INSERT ... SELECT.
 *
 * A run of a prepared statement costs the open of its cursors, a seek to the
 * end of the table and the halt (~1 us); a row ~0.2 us. Binding parameters
 * costs a call a value on top. Four virtual tables, one a kind of row (event,
 * street, snap point, outcome row), read the rows the writer points them at
 * (struct feed) through xColumn: a batch of events is one statement instead
 * of 256, and a batch's new streets, new snap points and outcome rows one
 * statement each instead of one a row. A fifth shows gazetteer streets
 * (store_gaz.c: rec_dim rows, lon/lat as a snap point's, s2 the area code).
 *
 * They live in the connection's temp schema (created when a store is opened
 * for writing, gone when it closes: nothing in the store file) and the
 * writer names them temp.mb_feed_*, so a table or view of the same name in a
 * store cannot stand in for them (an unqualified name would find the store's
 * first). They are DIRECTONLY (no trigger or view can name them), not
 * eponymous, and hold no text of their own: strings go to SQLite as values,
 * as bound parameters do. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "microbeat/store.h"
#include "store_internal.h"

/* The columns of each kind, in the order of the INSERT's column list. */
static const char *const FEED_DECL[FEED_KINDS] = {
	"CREATE TABLE x(import_id, line, ext_id, month, category_id, outcome_id, location_id,"
	" source_id, falls_id, flags)",
	"CREATE TABLE x(id, name_norm, lsoa_id)",
	"CREATE TABLE x(id, name, lon, lat, lsoa_id, street_id)",
	"CREATE TABLE x(import_id, line, crime_id, month, outcome_id)",
	"CREATE TABLE x(id, name_norm, lon, lat, lsoa_id, area_code)",
};
static const char *const FEED_NAME[FEED_KINDS] = { "mb_feed_event", "mb_feed_street",
						   "mb_feed_location", "mb_feed_outcome",
						   "mb_feed_gaz" };

struct feed_vtab {
	sqlite3_vtab base;  /* SQLite's part */
	struct feed *feed;  /* the rows, set by the writer before each statement */
};

struct feed_cursor {
	sqlite3_vtab_cursor base; /* SQLite's part */
	size_t i;                 /* current row */
};

static int feed_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
			sqlite3_vtab **out, char **errmsg)
{
	struct feed *f = aux;
	struct feed_vtab *t;
	int rc;

	(void)argc;
	(void)argv;
	(void)errmsg;
	if ((rc = sqlite3_declare_vtab(db, FEED_DECL[f->kind])) != SQLITE_OK)
		return rc;
	sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
	if (!(t = sqlite3_malloc(sizeof(*t))))
		return SQLITE_NOMEM;
	memset(t, 0, sizeof(*t));
	t->feed = f;
	*out = &t->base;
	return SQLITE_OK;
}

static int feed_disconnect(sqlite3_vtab *vt)
{
	sqlite3_free(vt);
	return SQLITE_OK;
}

/* CREATE VIRTUAL TABLE: as connecting. A function of its own, not
 * feed_connect itself: SQLite makes a module whose xCreate is its xConnect
 * eponymous (usable by its bare name), which these are not to be. */
static int feed_create(sqlite3 *db, void *aux, int argc, const char *const *argv,
		       sqlite3_vtab **out, char **errmsg)
{
	return feed_connect(db, aux, argc, argv, out, errmsg);
}

static int feed_best_index(sqlite3_vtab *vt, sqlite3_index_info *info)
{
	(void)vt;
	info->estimatedCost = 1e6;
	info->estimatedRows = 8192;
	return SQLITE_OK;
}

static int feed_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out)
{
	struct feed_cursor *c = sqlite3_malloc(sizeof(*c));

	(void)vt;
	if (!c)
		return SQLITE_NOMEM;
	memset(c, 0, sizeof(*c));
	*out = &c->base;
	return SQLITE_OK;
}

static int feed_close(sqlite3_vtab_cursor *cur)
{
	sqlite3_free(cur);
	return SQLITE_OK;
}

static int feed_filter(sqlite3_vtab_cursor *cur, int idx, const char *idxstr, int argc,
		       sqlite3_value **argv)
{
	(void)idx;
	(void)idxstr;
	(void)argc;
	(void)argv;
	((struct feed_cursor *)cur)->i = 0;
	return SQLITE_OK;
}

static int feed_next(sqlite3_vtab_cursor *cur)
{
	((struct feed_cursor *)cur)->i++;
	return SQLITE_OK;
}

static int feed_eof(sqlite3_vtab_cursor *cur)
{
	const struct feed *f = ((struct feed_vtab *)cur->pVtab)->feed;

	return ((struct feed_cursor *)cur)->i >= f->n;
}

/* An id, NULL when 0 (no such thing). */
static void result_id(sqlite3_context *ctx, uint32_t id)
{
	if (id)
		sqlite3_result_int64(ctx, id);
	else
		sqlite3_result_null(ctx);
}

static void event_column(sqlite3_context *ctx, const struct feed *f, const struct rec_event *e,
			 int col)
{
	switch (col) {
	case 0: sqlite3_result_int64(ctx, f->import_id); break;
	case 1: sqlite3_result_int64(ctx, e->line); break;
	case 2:
		if (e->id_kind == 1)
			sqlite3_result_blob(ctx, e->crime_id, 32, SQLITE_STATIC);
		else if (e->id_kind == 2)
			sqlite3_result_text(ctx, e->text_id, -1, SQLITE_STATIC);
		else
			sqlite3_result_null(ctx);
		break;
	case 3: sqlite3_result_int(ctx, e->month); break;
	case 4: sqlite3_result_int64(ctx, e->category); break;
	case 5: result_id(ctx, e->outcome); break;
	case 6: result_id(ctx, e->location); break;
	case 7: sqlite3_result_int64(ctx, e->source); break;
	case 8: result_id(ctx, e->falls); break;
	default: sqlite3_result_int64(ctx, e->flags); break;
	}
}

static void dim_column(sqlite3_context *ctx, const struct rec_dim *d, int col, int location,
		       int gaz)
{
	switch (col) {
	case 0: sqlite3_result_int64(ctx, d->id); break;
	case 1: sqlite3_result_text(ctx, d->s1, -1, SQLITE_STATIC); break;
	case 2:
		if (!location)
			result_id(ctx, d->ref);
		else if (d->has_coord)
			sqlite3_result_double(ctx, d->lon);
		else
			sqlite3_result_null(ctx);
		break;
	case 3:
		if (d->has_coord)
			sqlite3_result_double(ctx, d->lat);
		else
			sqlite3_result_null(ctx);
		break;
	case 4: result_id(ctx, d->ref); break;
	default:
		if (!gaz)
			result_id(ctx, d->ref2);
		else if (d->s2)
			sqlite3_result_text(ctx, d->s2, -1, SQLITE_STATIC);
		else
			sqlite3_result_null(ctx);
		break;
	}
}

static void outcome_column(sqlite3_context *ctx, const struct feed *f,
			   const struct rec_outcome *o, int col)
{
	switch (col) {
	case 0: sqlite3_result_int64(ctx, f->import_id); break;
	case 1: sqlite3_result_int64(ctx, o->line); break;
	case 2: sqlite3_result_blob(ctx, o->crime_id, 32, SQLITE_STATIC); break;
	case 3: sqlite3_result_int(ctx, o->month); break;
	default: sqlite3_result_int64(ctx, o->outcome); break;
	}
}

static int feed_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
	const struct feed *f = ((struct feed_vtab *)cur->pVtab)->feed;
	size_t i = ((struct feed_cursor *)cur)->i;

	if (f->kind == FEED_EVENT)
		event_column(ctx, f, &((const struct rec_event *)f->rows)[i], col);
	else if (f->kind == FEED_OUTCOME)
		outcome_column(ctx, f, &((const struct rec_outcome *)f->rows)[i], col);
	else
		dim_column(ctx, &((const struct rec_dim *)f->rows)[i], col,
			   f->kind == FEED_LOCATION || f->kind == FEED_GAZ, f->kind == FEED_GAZ);
	return SQLITE_OK;
}

static int feed_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
	*rowid = (sqlite3_int64)((struct feed_cursor *)cur)->i;
	return SQLITE_OK;
}

static const sqlite3_module FEED_MODULE = {
	.iVersion = 0,
	.xCreate = feed_create,
	.xConnect = feed_connect,
	.xBestIndex = feed_best_index,
	.xDisconnect = feed_disconnect,
	.xDestroy = feed_disconnect, /* nothing is kept beyond the connection */
	.xOpen = feed_open,
	.xClose = feed_close,
	.xFilter = feed_filter,
	.xNext = feed_next,
	.xEof = feed_eof,
	.xColumn = feed_column,
	.xRowid = feed_rowid,
};

int store_feed_register(struct store *s, struct mb_error *err)
{
	for (int k = 0; k < FEED_KINDS; k++) {
		char sql[128];

		s->feed[k].kind = k;
		/* module and table share the name; both are fixed strings */
		snprintf(sql, sizeof(sql), "CREATE VIRTUAL TABLE temp.%s USING %s", FEED_NAME[k],
			 FEED_NAME[k]);
		if (sqlite3_create_module_v2(s->db, FEED_NAME[k], &FEED_MODULE, &s->feed[k], NULL) !=
			    SQLITE_OK ||
		    sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
			return store_db_err(s, err, "making the bulk writer's tables");
	}
	return 0;
}

int store_feed_run(struct store *s, sqlite3_stmt *st, enum feed_kind kind, const void *rows,
		   size_t n, int64_t import_id, struct mb_error *err)
{
	struct feed *f = &s->feed[kind];
	int rc;

	f->rows = rows;
	f->n = n;
	f->import_id = import_id;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	f->rows = NULL;
	f->n = 0;
	if (rc != SQLITE_DONE)
		return store_db_err(s, err, "writing to the store");
	return 0;
}
