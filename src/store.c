/* store — the SQLite store: open, schema and migration, transactions. Its
 * other jobs: store_ckpt.c (checkpoints), store_dims.c (dimensions),
 * store_import.c (imports, batches, partitions). */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "microbeat/dict.h"
#include "microbeat/store.h"
#include "microbeat/util.h"
#include "store_internal.h"

/* Version 1 of the schema (design §2). Small integers in event; strings live
 * in dimension tables; coordinates and LSOA belong to the snap point. */
static const char SCHEMA_V1[] =
	"CREATE TABLE import("
	" id INTEGER PRIMARY KEY, path TEXT NOT NULL, name TEXT NOT NULL, sha256 BLOB,"
	" format TEXT NOT NULL, source TEXT, started TEXT NOT NULL, finished TEXT,"
	" rows_read INTEGER NOT NULL DEFAULT 0, rows_loaded INTEGER NOT NULL DEFAULT 0,"
	" rows_duplicate INTEGER NOT NULL DEFAULT 0, rows_rejected INTEGER NOT NULL DEFAULT 0,"
	" blank_lines INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,"
	" first_event INTEGER, last_event INTEGER, replaced_by INTEGER);"
	"CREATE INDEX import_sha ON import(sha256);"
	"CREATE INDEX import_name ON import(name, bytes);"
	"CREATE TABLE source(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	" kind TEXT NOT NULL DEFAULT 'police');"
	"CREATE TABLE category(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, harm REAL);"
	"CREATE TABLE outcome(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
	"CREATE TABLE lsoa(id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE, name TEXT NOT NULL);"
	"CREATE TABLE lsoa_name(lsoa_id INTEGER NOT NULL, name TEXT NOT NULL,"
	" PRIMARY KEY(lsoa_id, name)) WITHOUT ROWID;"
	"CREATE TABLE street(id INTEGER PRIMARY KEY, name_norm TEXT NOT NULL, lsoa_id INTEGER,"
	" kind TEXT NOT NULL DEFAULT 'street', gazetteer INTEGER NOT NULL DEFAULT 0,"
	" lon REAL, lat REAL, area_code TEXT);"
	"CREATE TABLE location(id INTEGER PRIMARY KEY, name TEXT NOT NULL, lon REAL, lat REAL,"
	" lsoa_id INTEGER, street_id INTEGER);"
	"CREATE TABLE event(id INTEGER PRIMARY KEY, import_id INTEGER NOT NULL, line INTEGER NOT NULL,"
	" ext_id, month INTEGER NOT NULL, category_id INTEGER NOT NULL, outcome_id INTEGER,"
	" location_id INTEGER, source_id INTEGER NOT NULL, falls_id INTEGER,"
	" flags INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE import_month(import_id INTEGER NOT NULL, source_id INTEGER NOT NULL,"
	" month INTEGER NOT NULL, rows INTEGER NOT NULL, PRIMARY KEY(import_id, source_id, month))"
	" WITHOUT ROWID;"
	"CREATE INDEX import_month_sm ON import_month(source_id, month);"
	"CREATE TABLE partition(kind INTEGER NOT NULL, key TEXT NOT NULL, month INTEGER NOT NULL,"
	" import_id INTEGER NOT NULL, PRIMARY KEY(kind, key, month)) WITHOUT ROWID;"
	"CREATE TABLE reject(id INTEGER PRIMARY KEY, import_id INTEGER NOT NULL,"
	" line INTEGER NOT NULL, col INTEGER NOT NULL, duplicate INTEGER NOT NULL DEFAULT 0,"
	" reason TEXT NOT NULL, raw BLOB);"
	"CREATE INDEX reject_import ON reject(import_id);"
	"CREATE TABLE outcome_row(import_id INTEGER NOT NULL, line INTEGER NOT NULL,"
	" crime_id BLOB NOT NULL, month INTEGER NOT NULL, outcome_id INTEGER NOT NULL);"
	"CREATE INDEX outcome_row_crime ON outcome_row(crime_id, month);"
	"CREATE INDEX outcome_row_import ON outcome_row(import_id);"
	/* the latest outcome of each crime: outcome rows of the latest month win */
	"CREATE VIEW crime_outcome AS SELECT crime_id, outcome_id, max(month) AS month"
	" FROM outcome_row GROUP BY crime_id;"
	"CREATE TABLE stop_search(id INTEGER PRIMARY KEY, import_id INTEGER NOT NULL,"
	" line INTEGER NOT NULL, month INTEGER NOT NULL, type TEXT, date TEXT, operation TEXT,"
	" operation_name TEXT, lat REAL, lon REAL, gender TEXT, age_range TEXT,"
	" self_ethnicity TEXT, officer_ethnicity TEXT, legislation TEXT, object TEXT,"
	" outcome TEXT, outcome_linked TEXT, removal TEXT);"
	"CREATE INDEX stop_search_import ON stop_search(import_id);"
	/* geography, filled by 'areas' and 'streets' */
	"CREATE TABLE layer(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	" method TEXT NOT NULL, path TEXT);"
	"CREATE TABLE unit(id INTEGER PRIMARY KEY, layer_id INTEGER NOT NULL, code TEXT NOT NULL,"
	" name TEXT NOT NULL, population REAL, UNIQUE(layer_id, code));"
	"CREATE TABLE lsoa_unit(lsoa_code TEXT NOT NULL, unit_id INTEGER NOT NULL,"
	" weight REAL NOT NULL DEFAULT 1, PRIMARY KEY(lsoa_code, unit_id)) WITHOUT ROWID;"
	"CREATE TABLE location_unit(location_id INTEGER NOT NULL, layer_id INTEGER NOT NULL,"
	" unit_id INTEGER, PRIMARY KEY(location_id, layer_id)) WITHOUT ROWID;"
	"CREATE TABLE event_unit(event_id INTEGER NOT NULL, layer_id INTEGER NOT NULL,"
	" unit_id INTEGER NOT NULL, PRIMARY KEY(event_id, layer_id)) WITHOUT ROWID;"
	/* the frozen observed universe, filled by 'streets --observed' (store_universe.c,
	 * which creates them in a store made before they were added) */
	"CREATE TABLE universe(id INTEGER PRIMARY KEY CHECK (id = 1),"
	" month_from INTEGER NOT NULL, month_to INTEGER NOT NULL, months INTEGER NOT NULL,"
	" streets INTEGER NOT NULL, frozen TEXT NOT NULL);"
	"CREATE TABLE universe_member(street_id INTEGER NOT NULL,"
	" location_id INTEGER NOT NULL, PRIMARY KEY(street_id, location_id)) WITHOUT ROWID;";

/* Version 2: force extracts (docs/methods.md, "Force extracts"). An extract
 * row is keyed by the police.uk Crime ID and month it attaches to, not by an
 * event id: a police.uk crime keeps its extract fields when its month is
 * re-released (new event ids), and an extract may be imported before the
 * police.uk files. An import's rows of one month are one partition (kind 5). */
static const char SCHEMA_V2[] =
	"CREATE TABLE offence_subgroup(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
	"CREATE TABLE hate_strand(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
	"CREATE TABLE event_extra(crime_id BLOB NOT NULL, month INTEGER NOT NULL,"
	" import_id INTEGER NOT NULL, line INTEGER NOT NULL, day INTEGER, minute INTEGER,"
	" ho_code TEXT, subgroup_id INTEGER, da INTEGER, hate INTEGER, hate_id INTEGER,"
	" street TEXT, parish TEXT, PRIMARY KEY(crime_id, month, import_id)) WITHOUT ROWID;"
	"CREATE INDEX event_extra_import ON event_extra(import_id, month);"
	/* the day and time of an agency event whose map's date_format has %d */
	"CREATE TABLE event_when(event_id INTEGER PRIMARY KEY, day INTEGER NOT NULL,"
	" minute INTEGER);";

/* Version 3: the column blocks of the events (store_blocks.c), per import and
 * month; the migration also builds them for the imports already held. */
static const char SCHEMA_V3[] =
	"CREATE TABLE event_block(id INTEGER PRIMARY KEY, import_id INTEGER NOT NULL,"
	" month INTEGER NOT NULL, first_id INTEGER NOT NULL, last_id INTEGER NOT NULL,"
	" n INTEGER NOT NULL, data BLOB NOT NULL);"
	"CREATE UNIQUE INDEX event_block_import ON event_block(import_id, month);"
	"CREATE INDEX event_block_month ON event_block(month);";

/* Version 4: the dimension blocks (store_dimblocks.c), the columns of street
 * and location the slice reads. microbeat's connections run without triggers
 * (open_db) and keep the blocks true themselves; another program's write to
 * street or location fires these, which delete that table's blocks, so that
 * nothing reads a stale copy. The migration builds them for what is held. */
static const char SCHEMA_V4[] =
	"CREATE TABLE dim_block(id INTEGER PRIMARY KEY, kind INTEGER NOT NULL,"
	" first_id INTEGER NOT NULL, last_id INTEGER NOT NULL, data BLOB NOT NULL);"
	"CREATE UNIQUE INDEX dim_block_kind ON dim_block(kind, first_id, last_id);"
	DIMB_TRIGGER("location_dim_i", "INSERT", "location", "0") ";"
	DIMB_TRIGGER("location_dim_u", "UPDATE", "location", "0") ";"
	DIMB_TRIGGER("location_dim_d", "DELETE", "location", "0") ";"
	DIMB_TRIGGER("street_dim_i", "INSERT", "street", "1") ";"
	DIMB_TRIGGER("street_dim_u", "UPDATE", "street", "1") ";"
	DIMB_TRIGGER("street_dim_d", "DELETE", "street", "1") ";";

/* Migrations: index i upgrades user_version i to i + 1. */
static const char *const MIGRATIONS[] = { SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4 };

/* Read PRAGMA user_version into *version. Return 0 or -MB_EDB. */
static int schema_version(struct store *s, int *version, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	*version = 0;
	if ((r = store_prepare(s, &st, "PRAGMA user_version", err)))
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int(st, 0);
	else if (rc != SQLITE_DONE)
		r = store_db_err(s, err, "reading the store");
	sqlite3_finalize(st);
	return r;
}

/* Bring the schema to STORE_SCHEMA_VERSION. Return 0 or -MB_EDB. */
static int migrate(struct store *s, struct mb_error *err)
{
	int version = 0, r;

	/* the usual case, an up-to-date store, needs no write lock */
	if ((r = schema_version(s, &version, err)))
		return r;
	if (version == STORE_SCHEMA_VERSION)
		return 0;
	/* Take the write lock (waiting up to the busy timeout), then read the
	 * version again: another command may have created or migrated the store
	 * since the read above, and must not be migrated twice. */
	if ((r = store_begin(s, err)) || (r = schema_version(s, &version, err)))
		goto fail;
	if (version > STORE_SCHEMA_VERSION) {
		r = mb_err(err, MB_EDB, "store '%s' has schema %d, newer than this program's %d",
			   s->path, version, STORE_SCHEMA_VERSION);
		goto fail;
	}
	for (int v = version; v < STORE_SCHEMA_VERSION; v++) {
		if ((r = store_exec(s, MIGRATIONS[v], err)))
			goto fail;
	}
	/* a store from before the column blocks: build them for what it holds */
	int64_t built = 0;

	if (version >= 1 && version < 3 && (r = store_blocks_build_all(s, &built, err)))
		goto fail;
	if (built)
		fprintf(stderr, "microbeat: store '%s' upgraded to schema %d: column blocks built for"
			" %lld imports\n", s->path, STORE_SCHEMA_VERSION, (long long)built);
	/* a store from before the dimension blocks: build them for what it holds */
	if (version >= 1 && version < 4) {
		if ((r = store_dimblocks_build_all(s, err)))
			goto fail;
		fprintf(stderr, "microbeat: store '%s' upgraded to schema %d: dimension blocks built"
			" for its streets and snap points\n", s->path, STORE_SCHEMA_VERSION);
	}
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", STORE_SCHEMA_VERSION);
	if ((r = store_exec(s, sql, err)) || (r = store_commit(s, err)))
		goto fail;
	return 0;
fail:
	store_rollback(s);
	return r;
}

/* Percent-encode path into a "file:" URI opening it immutable (no locks, no
 * -wal or -shm files). Return the URI (free with sqlite3_free) or NULL. */
static char *immutable_uri(const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(path);
	/* "file://" + 3 bytes per path byte + "?immutable=1" + NUL */
	char *u = sqlite3_malloc64(7 + 3 * (sqlite3_uint64)n + 13), *o = u;

	if (!u)
		return NULL;
	/* an absolute path gets an empty authority so "//x" stays a path */
	memcpy(o, path[0] == '/' ? "file://" : "file:", path[0] == '/' ? 7 : 5);
	o += path[0] == '/' ? 7 : 5;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("/-._~", *p)) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	memcpy(o, "?immutable=1", 13);
	return u;
}

/* Is the store's write-ahead log missing or empty (nothing committed that is
 * not yet in the main file)? */
static int wal_empty(const char *path)
{
	size_t n = strlen(path);
	char *w = malloc(n + 5);
	FILE *f;
	int empty = 1;

	if (!w)
		return 0;
	memcpy(w, path, n);
	memcpy(w + n, "-wal", 5);
	f = fopen(w, "rb");
	if (f) {
		empty = fgetc(f) == EOF;
		fclose(f);
	} else if (errno != ENOENT) {
		empty = 0;
	}
	free(w);
	return empty;
}

/* Set up a read-only connection: cache pragmas, then the read transaction
 * it keeps until closed, and the schema check. The first read fixes the
 * snapshot (WAL), so every later read sees the store as it was here, whatever
 * commits meanwhile. Return 0 or -MB_EDB. */
static int read_snapshot(struct store *s, struct mb_error *err)
{
	int version = 0, r;

	if ((r = store_exec(s, "PRAGMA cache_size=-2048; PRAGMA temp_store=MEMORY", err)) ||
	    (r = store_exec(s, "BEGIN", err)) || (r = schema_version(s, &version, err)))
		return r;
	/* an older schema lacks only tables added since (readers check for them:
	 * store_has_table), so a store made by an earlier version stays readable */
	if (version < 1 || version > STORE_SCHEMA_VERSION)
		return mb_err(err, MB_EDB, "'%s' is not a microbeat store (schema %d)", s->path,
			      version);
	return 0;
}

/* SQLite's memory statistics take a global mutex on every allocation; nothing
 * here reads them (sqlite3_config only works before the library initialises) */
static void sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Open the connection: path with flags, or uri (SQLITE_OPEN_URI) when set. */
static int open_db(struct store *s, const char *uri, int oflags, struct mb_error *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, sqlite_setup);
	if (sqlite3_open_v2(uri ? uri : s->path, &s->db,
			    oflags | SQLITE_OPEN_NOMUTEX | (uri ? SQLITE_OPEN_URI : 0),
			    NULL) != SQLITE_OK)
		return mb_err(err, MB_EDB, "cannot open store '%s': %s", s->path,
			      s->db ? sqlite3_errmsg(s->db) : "out of memory");
	sqlite3_busy_timeout(s->db, 10000);
	/* the schema's only triggers mark the dimension blocks stale for other
	 * programs' writes; microbeat's writers keep the blocks true themselves
	 * (store_dimblocks.c), and a bulk load must not fire one per row */
	if (sqlite3_db_config(s->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, (int *)NULL) != SQLITE_OK)
		return mb_err(err, MB_EDB, "cannot open store '%s': %s", s->path,
			      sqlite3_errmsg(s->db));
	sqlite3_extended_result_codes(s->db, 0);
	return 0;
}

/* The program's own objects: what MIGRATIONS create, in a scratch in-memory
 * database, as "type name sql" lines (a NULL sql as empty). Derived, not
 * listed, so that every table a later migration adds is known here too.
 * Return 0 or a negative code; *out (count *n) and its strings are the
 * caller's to free. */
static int expected_schema(char ***out, int *n, struct mb_error *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char **v = NULL;
	size_t cap = 0;
	int r = 0;

	*out = NULL;
	*n = 0;
	if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (int i = 0; i < STORE_SCHEMA_VERSION; i++)
		if (sqlite3_exec(db, MIGRATIONS[i], NULL, NULL, NULL) != SQLITE_OK) {
			r = BUG(err, "the store's schema does not build (%s)", sqlite3_errmsg(db));
			goto cleanup;
		}
	if (sqlite3_prepare_v2(db, "SELECT printf('%s %s %s', type, name, coalesce(sql, ''))"
				   " FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
			       -1, &st, NULL) != SQLITE_OK) {
		r = BUG(err, "%s", sqlite3_errmsg(db));
		goto cleanup;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (GROW(v, (size_t)*n + 1, cap)) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
		if (!(v[*n] = strdup((const char *)sqlite3_column_text(st, 0)))) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto cleanup;
		}
		(*n)++;
	}
cleanup:
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (r) {
		while (*n > 0)
			free(v[--*n]);
		free(v);
		return r;
	}
	*out = v;
	return 0;
}

/* Refuse a store holding an object microbeat did not create: a trigger on
 * event would delete or change what an import writes while the import counts
 * it as loaded (issue 21: "7866 loaded", 0 stored); a view or table could
 * stand in for one of ours. Every object of the main schema (but SQLite's
 * own, sqlite_*) must be one of expected_schema's, with the same definition.
 * Return 0, or -MB_EDB naming the first stranger. */
static int schema_check(struct store *s, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	char **want = NULL;
	int n = 0, r, rc;

	if ((r = expected_schema(&want, &n, err)))
		return r;
	if ((r = store_prepare(s, &st,
			       "SELECT type, name, printf('%s %s %s', type, name, coalesce(sql, ''))"
			       " FROM main.sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
			       " ORDER BY rowid", err)))
		goto cleanup;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *got = (const char *)sqlite3_column_text(st, 2);
		int known = 0, named = 0;
		const char *type = (const char *)sqlite3_column_text(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);
		size_t tn = strlen(type) + 1 + strlen(name) + 1;

		for (int i = 0; i < n && !known; i++) {
			known = strcmp(want[i], got) == 0;
			named |= strncmp(want[i], got, tn) == 0;
		}
		if (known)
			continue;
		char shown[MB_SHOWN_MAX];

		r = mb_err(err, MB_EDB,
			   "store '%s' holds %s '%s' %s: refusing to write to it (remove it with"
			   " sqlite3, or use a new store)",
			   s->path, type, mb_shown(name, shown, sizeof(shown)),
			   named ? "with a definition microbeat did not give it"
				 : "that microbeat did not create");
		goto cleanup;
	}
	if (rc != SQLITE_DONE)
		r = store_db_err(s, err, "reading the store's schema");
cleanup:
	sqlite3_finalize(st);
	for (int i = 0; i < n; i++)
		free(want[i]);
	free(want);
	return r;
}

static int store_open_once(const char *path, int flags, struct store **out, struct mb_error *err)
{
	struct store *s = calloc(1, sizeof(*s));
	int r;

	*out = NULL;
	if (!s)
		return mb_err(err, MB_ENOMEM, "out of memory");
	s->path = strdup(path);
	if (!s->path) {
		free(s);
		return mb_err(err, MB_ENOMEM, "out of memory");
	}
	struct stat pst;

	/* SQLite says only "disk I/O error" or "unable to open database file" */
	if (stat(path, &pst) == 0 && S_ISDIR(pst.st_mode)) {
		char shown[MB_SHOWN_MAX];

		r = mb_err(err, MB_EIO, "store '%s' is a folder, not a file (give --db a file name)",
			   mb_shown(path, shown, sizeof(shown)));
		goto fail;
	}
	int oflags = (flags & STORE_READONLY) ? SQLITE_OPEN_READONLY
					      : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;

	if ((r = open_db(s, NULL, oflags, err)))
		goto fail;
	/* SQLite opens a file it may not write read-only without saying so */
	if (!(flags & STORE_READONLY) && sqlite3_db_readonly(s->db, "main") == 1) {
		r = mb_err(err, MB_EDB, "store '%s' is read-only (no write permission on the file)",
			   path);
		goto fail;
	}
	if (!(flags & STORE_READONLY)) {
		/* WAL: readers see a consistent snapshot while an import writes;
		 * synchronous=NORMAL is durable at checkpoints and never corrupts. */
		/* 16 KB pages for a new store (an existing one keeps its own):
		 * a quarter of the WAL frames and of their partial-page writes of
		 * 4 KB pages (a frame is a page and a 24-byte header), measured
		 * ~0.3 s less committing of the national bench */
		if ((r = store_exec(s, "PRAGMA page_size=16384", err)) ||
		    (r = store_exec(s, "PRAGMA journal_mode=WAL", err)) ||
		    (r = store_exec(s, "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;"
				       "PRAGMA temp_store=MEMORY; PRAGMA foreign_keys=OFF", err)) ||
		    (r = migrate(s, err)) || (r = schema_check(s, err)) ||
		    (r = store_feed_register(s, err)))
			goto fail;
	} else if ((r = read_snapshot(s, err))) {
		/* A WAL store in a folder this user cannot write: without a -shm
		 * file SQLite cannot share the WAL index, and cannot create one.
		 * With no -wal content the main file is the whole store: read it
		 * immutable (no locks; a writer with more rights starting meanwhile
		 * would not be seen). */
		int rc = sqlite3_extended_errcode(s->db) & 0xff;

		if (rc != SQLITE_READONLY && rc != SQLITE_CANTOPEN)
			goto fail;
		if (!wal_empty(path)) {
			r = mb_err(err, MB_EDB,
				   "cannot read store '%s': its folder is not writable and its"
				   " write-ahead log ('%s-wal') holds changes not yet in the file"
				   " (open it once with write access to merge them)",
				   path, path);
			goto fail;
		}
		char *uri = immutable_uri(path);

		sqlite3_close(s->db);
		s->db = NULL;
		if (!uri) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			goto fail;
		}
		r = open_db(s, uri, SQLITE_OPEN_READONLY, err);
		sqlite3_free(uri);
		if (r || (r = read_snapshot(s, err)))
			goto fail;
	}
	*out = s;
	return 0;
fail:
	store_close(s);
	return r;
}

/* Open the store; a setup that found it locked (SQLITE_BUSY where SQLite
 * does not call the busy handler: two commands creating one new store, one
 * switching it to WAL while the other reads its schema) is tried again, up to
 * 50 times 0.1 s apart, before the lock is reported (concurrency.sh). */
int store_open(const char *path, int flags, struct store **out, struct mb_error *err)
{
	int r = store_open_once(path, flags, out, err);

	for (int i = 0; i < 50 && r == -MB_EDB && strstr(err->msg, " is locked by another process ("); i++) {
		struct timespec ts = { 0, 100000000L };

		nanosleep(&ts, NULL);
		r = store_open_once(path, flags, out, err);
	}
	return r;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	store_ckpt_stop(s);
	store_blocks_forget(s);
	store_dimblocks_forget(s);
	for (size_t i = 0; i < ARRAY_SIZE(s->ins); i++)
		sqlite3_finalize(s->ins[i]);
	if (s->db)
		sqlite3_close(s->db);
	free(s->path);
	free(s);
}

const char *store_path(const struct store *s)
{
	return s->path;
}

int store_begin(struct store *s, struct mb_error *err)
{
	store_dimblocks_forget(s); /* what an earlier transaction wrote */
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return store_db_err(s, err, "cannot start writing");
	return 0;
}

int store_commit(struct store *s, struct mb_error *err)
{
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		int r = store_db_err(s, err, "commit failed");

		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return r;
	}
	store_ckpt_restart(s);
	return 0;
}

int store_read_begin(struct store *s, int *own, struct mb_error *err)
{
	int r;

	*own = 0;
	if (!sqlite3_get_autocommit(s->db))
		return 0;
	if ((r = store_exec(s, "BEGIN", err)))
		return r;
	*own = 1;
	return 0;
}

void store_read_end(struct store *s, int own)
{
	if (own && !sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
}

void store_rollback(struct store *s)
{
	store_dimblocks_forget(s);
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int store_layer_units(struct store *s, const char *layer, struct dict *d, uint32_t *layer_id,
		      struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	*layer_id = 0;
	if ((r = store_prepare(s, &st, "SELECT id FROM layer WHERE name = ?", err)))
		return r;
	sqlite3_bind_text(st, 1, layer, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		*layer_id = (uint32_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (!*layer_id)
		return mb_err(err, MB_ENOTFOUND,
			      "layer '%s' is not loaded (load it first with 'microbeat areas')", layer);
	if ((r = store_prepare(s, &st, "SELECT id, code FROM unit WHERE layer_id = ?", err)))
		return r;
	sqlite3_bind_int64(st, 1, *layer_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (dict_put(d, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
			     (uint32_t)sqlite3_column_int64(st, 0))) {
			sqlite3_finalize(st);
			return mb_err(err, MB_ENOMEM, "out of memory");
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_db_err(s, err, "loading units");
}

int store_data_version(struct store *s, int64_t *v, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = store_prepare(s, &st, "PRAGMA data_version", err)))
		return r;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return store_db_err(s, err, "reading the store's data version");
	}
	*v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

int store_cache_small(struct store *s, int kb_small, int *kb, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	char sql[48];
	int r, size = 0;

	*kb = 0;
	if ((r = store_prepare(s, &st, "PRAGMA cache_size", err)))
		return r;
	if (sqlite3_step(st) == SQLITE_ROW)
		size = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	/* negative: KiB; positive: pages (at least 16 KB each in a new store) */
	if ((size < 0 && -size <= kb_small) || (size > 0 && size <= kb_small / 16))
		return 0;
	snprintf(sql, sizeof(sql), "PRAGMA cache_size=-%d", kb_small);
	if ((r = store_exec(s, sql, err)))
		return r;
	*kb = size;
	return 0;
}

void store_cache_restore(struct store *s, int kb)
{
	char sql[48];

	if (!kb)
		return;
	snprintf(sql, sizeof(sql), "PRAGMA cache_size=%d", kb);
	sqlite3_exec(s->db, sql, NULL, NULL, NULL);
}
