/* store — the SQLite store: schema and migration, imports, dimensions, events. */
#include <errno.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "microbeat/dict.h"
#include "microbeat/store.h"
#include "store_internal.h"

static void ckpt_stop(struct store *s);
static void ckpt_restart(struct store *s);

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

/* Migrations: index i upgrades user_version i to i + 1. */
static const char *const MIGRATIONS[] = { SCHEMA_V1, SCHEMA_V2 };

/* Set err from the connection's last error, prefixed with what; return -MB_EDB. */
int store_db_err(struct store *s, struct mb_error *err, const char *what)
{
	int rc = sqlite3_errcode(s->db);

	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return mb_err(err, MB_EDB, "%s: store '%s' is locked by another process (%s)", what,
			      s->path, sqlite3_errmsg(s->db));
	if (rc == SQLITE_READONLY)
		return mb_err(err, MB_EDB, "%s: store '%s' is read-only", what, s->path);
	if (rc == SQLITE_FULL || (rc == SQLITE_IOERR && sqlite3_system_errno(s->db) == ENOSPC))
		return mb_err(err, MB_EIO, "%s: disk full writing '%s'", what, s->path);
	/* the file or its folder (where the -wal and -shm files live) */
	if (rc == SQLITE_CANTOPEN || rc == SQLITE_PERM || rc == SQLITE_IOERR)
		return mb_err(err, MB_EDB, "%s: cannot read or write store '%s' or its folder (%s)",
			      what, s->path, sqlite3_errmsg(s->db));
	if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT)
		return mb_err(err, MB_EDB, "%s: '%s' is not a microbeat store or is damaged (%s)",
			      what, s->path, sqlite3_errmsg(s->db));
	return mb_err(err, MB_EDB, "%s: %s", what, sqlite3_errmsg(s->db));
}

int store_exec(struct store *s, const char *sql, struct mb_error *err)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int r = store_db_err(s, err, "store");

		/* err->msg cannot be both the destination and an argument of mb_err
		 * (overlapping vsnprintf): copy it first */
		if (msg && err && !strstr(err->msg, msg)) {
			char head[sizeof(err->msg)];

			snprintf(head, sizeof(head), "%s", err->msg);
			mb_err(err, err->code, "%s (%s)", head, msg);
		}
		sqlite3_free(msg);
		return r;
	}
	return 0;
}

int store_prepare(struct store *s, sqlite3_stmt **st, const char *sql, struct mb_error *err)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
		return store_db_err(s, err, "prepare");
	return 0;
}

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

	if ((r = store_exec(s, "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY", err)) ||
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
	int r = 0, cap = 0;

	*out = NULL;
	*n = 0;
	if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		r = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (int i = 0; i < STORE_SCHEMA_VERSION; i++)
		if (sqlite3_exec(db, MIGRATIONS[i], NULL, NULL, NULL) != SQLITE_OK) {
			r = mb_err(err, MB_EDB, "internal error: the store's schema does not build (%s)",
				   sqlite3_errmsg(db));
			goto cleanup;
		}
	if (sqlite3_prepare_v2(db, "SELECT printf('%s %s %s', type, name, coalesce(sql, ''))"
				   " FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
			       -1, &st, NULL) != SQLITE_OK) {
		r = mb_err(err, MB_EDB, "internal error: %s", sqlite3_errmsg(db));
		goto cleanup;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (*n == cap) {
			char **nv = realloc(v, (size_t)(cap = cap ? cap * 2 : 64) * sizeof(*nv));

			if (!nv) {
				r = mb_err(err, MB_ENOMEM, "out of memory");
				goto cleanup;
			}
			v = nv;
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
	ckpt_stop(s);
	for (size_t i = 0; i < sizeof(s->ins) / sizeof(s->ins[0]); i++)
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
	ckpt_restart(s);
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
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- background checkpoints while bulk loading ---------------------------
 * A checkpoint copies the WAL into the store file and syncs both: done in the
 * writer's COMMIT (wal_autocheckpoint) it holds the import up for the copy
 * and the fsyncs. While bulk loading, a thread with its own connection runs
 * a PASSIVE checkpoint each time CKPT_BYTES more were committed (the
 * writer's wal hook says how many); PASSIVE never blocks the writer or
 * readers. The WAL cannot restart while the writer keeps appending, so once it
 * holds CKPT_RESTART bytes the writer, between two files, runs a RESTART
 * checkpoint itself: by then nearly everything is copied, so it costs about
 * one fsync, and the WAL starts again from the beginning. Small steps keep
 * what is left to copy when the import ends (on its critical path) small:
 * with 64 MB / 256 MB the end took ~0.15 s, with 8 MB / 64 MB ~0.01 s, and
 * the smaller WAL file is rewritten in place more often (less system time). */
#define CKPT_BYTES (8 << 20)     /* in WAL frames: CKPT_BYTES / page size */
#define CKPT_RESTART (64 << 20)

struct ckpt {
	pthread_t th;        /* the checkpointing thread */
	pthread_mutex_t mu;  /* guards what follows */
	pthread_cond_t cv;   /* signalled by the hook and at stop */
	sqlite3 *db;         /* the thread's own connection */
	int frames;          /* frames in the WAL after the last commit */
	int last;            /* frames when the last checkpoint started */
	int stop;            /* bulk loading is over */
	int every;           /* frames between two checkpoints */
	int restart;         /* frames past which the writer restarts the WAL */
};

/* The store's page size in bytes (SQLite's default when it cannot say). */
static int page_size(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int ps = 4096;

	if (sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) >= 512)
		ps = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return ps;
}

/* The writer's wal hook: called after each commit with the WAL's size. */
static int ckpt_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct ckpt *c = arg;

	(void)db;
	(void)name;
	pthread_mutex_lock(&c->mu);
	c->frames = frames;
	if (frames < c->last) /* the WAL restarted */
		c->last = 0;
	if (frames - c->last >= c->every)
		pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return SQLITE_OK;
}

static void *ckpt_main(void *arg)
{
	struct ckpt *c = arg;

	prctl(PR_SET_NAME, "mb-ckpt"); /* named for perf and top */
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->stop && c->frames - c->last < c->every)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->stop)
			break;
		c->last = c->frames;
		pthread_mutex_unlock(&c->mu);
		/* a failure (disk full...) leaves the frames in the WAL, where
		 * they are safe; the writer's own checkpoints will retry */
		sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* Start the checkpointing thread; 0, or -1 (then the writer checkpoints). */
static int ckpt_start(struct store *s)
{
	struct ckpt *c = calloc(1, sizeof(*c));

	if (!c)
		return -1;
	if (sqlite3_open_v2(s->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
		    SQLITE_OK ||
	    sqlite3_exec(c->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_close(c->db);
		free(c);
		return -1;
	}
	int ps = page_size(s->db);

	c->every = CKPT_BYTES / ps;
	c->restart = CKPT_RESTART / ps;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (pthread_create(&c->th, NULL, ckpt_main, c) != 0) {
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->cv);
		sqlite3_close(c->db);
		free(c);
		return -1;
	}
	s->ck = c;
	sqlite3_wal_hook(s->db, ckpt_hook, c);
	return 0;
}

static void ckpt_stop(struct store *s)
{
	struct ckpt *c = s->ck;

	if (!c)
		return;
	sqlite3_wal_hook(s->db, NULL, NULL);
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->th, NULL);
	sqlite3_close(c->db);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
	s->ck = NULL;
}

/* Writer, between two files: restart a WAL grown past CKPT_RESTART. */
static void ckpt_restart(struct store *s)
{
	struct ckpt *c = s->ck;
	int frames;

	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	frames = c->frames;
	pthread_mutex_unlock(&c->mu);
	if (frames >= c->restart)
		sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
}

void store_bulk_mode(struct store *s, int on)
{
	/* bulk loading appends: a 16 MB page cache does as well as 64 MB and
	 * leaves room for the import's duplicate set under the 200 MB bound */
	if (on) {
		sqlite3_exec(s->db, "PRAGMA cache_size=-16384", NULL, NULL, NULL);
		if (!s->ck && ckpt_start(s) != 0) {
			char q[64];

			snprintf(q, sizeof(q), "PRAGMA wal_autocheckpoint=%d",
				 CKPT_BYTES / page_size(s->db));
			sqlite3_exec(s->db, q, NULL, NULL, NULL);
		}
	} else {
		ckpt_stop(s);
		sqlite3_exec(s->db, "PRAGMA wal_autocheckpoint=1000; PRAGMA cache_size=-65536", NULL,
			     NULL, NULL);
		sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	}
}

/* ---- dimensions ---------------------------------------------------------- */

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
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap : 4096;
	while (ncap < need)
		ncap *= 2;
	char *nb = realloc(*buf, ncap);
	if (!nb)
		return -1;
	*buf = nb;
	*cap = ncap;
	return 0;
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

		if (store_key_room(kbuf, kcap, len + 4)) {
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
		if (store_key_room(kbuf, kcap, len + 4)) {
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

		if (store_key_room(kbuf, kcap, nlen + 64)) {
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

/* ---- imports ------------------------------------------------------------- */

static void now_iso(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int store_import_by_sha(struct store *s, const uint8_t sha[32], int64_t *id,
			struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	*id = 0;
	/* only an import that still holds all it loaded counts (issue 21 item 1: a
	 * file whose partition a later release replaced was refused as
	 * "unchanged" and could not restore it): not replaced, and for events
	 * every row still counted in its months (a partition of an agency file
	 * can be replaced month by month) */
	if ((r = store_prepare(s, &st,
			       "SELECT id FROM import i WHERE sha256 = ? AND finished IS NOT NULL"
			       " AND replaced_by IS NULL AND (format NOT IN ('street', 'agency', 'extract')"
			       " OR (format <> 'extract' AND rows_loaded = (SELECT coalesce(sum(rows), 0)"
			       " FROM import_month m WHERE m.import_id = i.id))"
			       " OR (format = 'extract' AND rows_loaded = (SELECT count(*)"
			       " FROM event_extra x WHERE x.import_id = i.id))) ORDER BY id DESC LIMIT 1",
			       err)))
		return r;
	sqlite3_bind_blob(st, 1, sha, 32, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

int store_import_seen(struct store *s, const char *name, int64_t bytes, int *yes,
		      struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	*yes = 0;
	if ((r = store_prepare(s, &st, "SELECT 1 FROM import WHERE name = ? AND bytes = ? LIMIT 1",
			       err)))
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, bytes);
	*yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return 0;
}

int store_import_create(struct store *s, const char *path, const char *format,
			const char *source, int64_t *id, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	char now[32];
	const char *base = strrchr(path, '/');
	int r;

	now_iso(now);
	if ((r = store_prepare(s, &st,
			       "INSERT INTO import(path, name, format, source, started)"
			       " VALUES(?, ?, ?, ?, ?)",
			       err)))
		return r;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, base ? base + 1 : path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, format, -1, SQLITE_STATIC);
	if (source)
		sqlite3_bind_text(st, 4, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = store_db_err(s, err, "recording the import");
		sqlite3_finalize(st);
		return r;
	}
	sqlite3_finalize(st);
	*id = sqlite3_last_insert_rowid(s->db);
	s->first_event = 0;
	s->last_event = 0;
	return 0;
}

/* Statements of the bulk writer, prepared once per connection. */
enum ins {
	INS_SOURCE, INS_CATEGORY, INS_OUTCOME, INS_LSOA, INS_LSOA_NAME, INS_EVENTS, INS_REJECT, INS_OUTCOME_ROWS, INS_STOP, INS_EVENT_UNIT, INS_STREETS,
	INS_LOCATIONS, INS_SUBGROUP, INS_STRAND, INS_EXTRA, INS_WHEN
};

static const char *const INS_SQL[] = {
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

/* Return the prepared statement i, preparing it on first use; NULL on error. */
static sqlite3_stmt *ins(struct store *s, enum ins i, struct mb_error *err)
{
	if (!s->ins[i] && store_prepare(s, &s->ins[i], INS_SQL[i], err))
		return NULL;
	return s->ins[i];
}

/* Step a bound insert statement and reset it. Return 0 or -MB_EDB. */
static int step_reset(struct store *s, sqlite3_stmt *st, struct mb_error *err)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_err(s, err, "writing to the store");
	return 0;
}

/* One row of the small dimensions (kinds below DIM_LOCAL; streets and snap
 * points go through store_dims_write). */
static int write_dim(struct store *s, const struct rec_dim *d, struct mb_error *err)
{
	static const enum ins which[DIM_LOCAL] = { INS_SOURCE, INS_CATEGORY, INS_OUTCOME, INS_LSOA,
						   INS_LSOA_NAME };

	if ((unsigned)d->kind >= DIM_LOCAL)
		return mb_err(err, MB_EDB, "internal error: a dimension row of kind %d", (int)d->kind);
	sqlite3_stmt *st = ins(s, which[d->kind], err);

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
	int r = step_reset(s, st, err);

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
		return mb_err(err, MB_EDB, "internal error: bulk dimension rows of kind %d", (int)kind);
	if (!n)
		return 0;
	int street = kind == DIM_STREET;
	sqlite3_stmt *st = ins(s, street ? INS_STREETS : INS_LOCATIONS, err);

	if (!st)
		return -MB_EDB;
	return store_feed_run(s, st, street ? FEED_STREET : FEED_LOCATION, d, n, 0, err);
}

/* Bind text (NULL for a NULL pointer) to parameter i. */
static void bind_text_or_null(sqlite3_stmt *st, int i, const char *p)
{
	if (p)
		sqlite3_bind_text(st, i, p, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Write a batch's force-extract rows, with their new subgroups and strands. */
static int write_extras(struct store *s, int64_t import_id, const struct batch *b,
			struct mb_error *err)
{
	sqlite3_stmt *st = ins(s, INS_EXTRA, err), *sg = ins(s, INS_SUBGROUP, err),
		     *hs = ins(s, INS_STRAND, err);
	int r;

	if (!st || !sg || !hs)
		return -MB_EDB;
	for (size_t i = 0; i < b->extras.n; i++) {
		const struct rec_extra *x = &b->extras.v[i];

		if (x->subgroup) {
			sqlite3_bind_text(sg, 1, x->subgroup, -1, SQLITE_STATIC);
			if ((r = step_reset(s, sg, err)))
				return r;
		}
		if (x->strand) {
			sqlite3_bind_text(hs, 1, x->strand, -1, SQLITE_STATIC);
			if ((r = step_reset(s, hs, err)))
				return r;
		}
		sqlite3_clear_bindings(st);
		sqlite3_bind_blob(st, 1, x->crime_id, 32, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, x->month);
		sqlite3_bind_int64(st, 3, import_id);
		sqlite3_bind_int64(st, 4, x->line);
		if (x->day >= 0)
			sqlite3_bind_int(st, 5, x->day);
		if (x->minute >= 0)
			sqlite3_bind_int(st, 6, x->minute);
		bind_text_or_null(st, 7, x->ho_code);
		bind_text_or_null(st, 8, x->subgroup);
		if (x->da >= 0)
			sqlite3_bind_int(st, 9, x->da);
		if (x->hate >= 0)
			sqlite3_bind_int(st, 10, x->hate);
		bind_text_or_null(st, 11, x->strand);
		bind_text_or_null(st, 12, x->street);
		bind_text_or_null(st, 13, x->parish);
		if ((r = step_reset(s, st, err)))
			return r;
	}
	return 0;
}

int store_batch_write(struct store *s, int64_t import_id, const struct batch *b,
		      struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	for (size_t i = 0; i < b->dims.n; i++)
		if ((r = write_dim(s, &b->dims.v[i], err)))
			return r;
	if (b->events.n) {
		if (!(st = ins(s, INS_EVENTS, err)))
			return -MB_EDB;
		if ((r = store_feed_run(s, st, FEED_EVENT, b->events.v, b->events.n, import_id, err)))
			return r;
		/* the rows of one INSERT get consecutive rowids (max + 1 each): an
		 * import's events are the range first_event..last_event */
		int64_t last = sqlite3_last_insert_rowid(s->db);
		int64_t first = last - (int64_t)b->events.n + 1;

		if (!s->first_event)
			s->first_event = first;
		s->last_event = last;
		for (size_t j = 0; j < b->events.n; j++) {
			const struct rec_event *e = &b->events.v[j];

			if (e->has_when) {
				sqlite3_stmt *ew = ins(s, INS_WHEN, err);

				if (!ew)
					return -MB_EDB;
				sqlite3_bind_int64(ew, 1, first + (int64_t)j);
				sqlite3_bind_int(ew, 2, e->day);
				if (e->minute >= 0)
					sqlite3_bind_int(ew, 3, e->minute);
				else
					sqlite3_bind_null(ew, 3);
				if ((r = step_reset(s, ew, err)))
					return r;
			}
			if (!e->unit)
				continue;
			sqlite3_stmt *eu = ins(s, INS_EVENT_UNIT, err);

			if (!eu)
				return -MB_EDB;
			sqlite3_bind_int64(eu, 1, first + (int64_t)j);
			sqlite3_bind_int64(eu, 2, e->layer);
			sqlite3_bind_int64(eu, 3, e->unit);
			if ((r = step_reset(s, eu, err)))
				return r;
		}
	}
	if (b->rejects.n && !(st = ins(s, INS_REJECT, err)))
		return -MB_EDB;
	for (size_t i = 0; i < b->rejects.n; i++) {
		const struct rec_reject *j = &b->rejects.v[i];

		sqlite3_bind_int64(st, 1, import_id);
		sqlite3_bind_int64(st, 2, j->line);
		sqlite3_bind_int64(st, 3, j->col);
		sqlite3_bind_int(st, 4, j->duplicate);
		sqlite3_bind_text(st, 5, j->reason, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 6, j->raw, (int)j->raw_len, SQLITE_STATIC);
		if ((r = step_reset(s, st, err)))
			return r;
	}
	if (b->outcomes.n) {
		if (!(st = ins(s, INS_OUTCOME_ROWS, err)))
			return -MB_EDB;
		if ((r = store_feed_run(s, st, FEED_OUTCOME, b->outcomes.v, b->outcomes.n, import_id,
					err)))
			return r;
	}
	if (b->extras.n && (r = write_extras(s, import_id, b, err)))
		return r;
	if (b->stops.n && !(st = ins(s, INS_STOP, err)))
		return -MB_EDB;
	for (size_t i = 0; i < b->stops.n; i++) {
		const struct rec_stop *p = &b->stops.v[i];
		/* columns after (import, line, month): type..operation_name, lat, lon, rest */
		static const int fmap[STOP_NFIELDS] = { 4, 5, 6, 7, 0, 0, 10, 11, 12, 13, 14, 15, 16,
							17, 18 };

		sqlite3_clear_bindings(st);
		sqlite3_bind_int64(st, 1, import_id);
		sqlite3_bind_int64(st, 2, p->line);
		sqlite3_bind_int(st, 3, p->month);
		for (int f = 0; f < STOP_NFIELDS; f++)
			if (fmap[f] && p->f[f] && p->f[f][0])
				sqlite3_bind_text(st, fmap[f], p->f[f], -1, SQLITE_STATIC);
		if (p->has_coord) {
			sqlite3_bind_double(st, 8, p->lat);
			sqlite3_bind_double(st, 9, p->lon);
		}
		if ((r = step_reset(s, st, err)))
			return r;
	}
	return 0;
}

int store_import_finish(struct store *s, int64_t import_id, const struct import_stats *stt,
			const uint8_t sha[32], const char *format, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	char now[32];
	int r;

	now_iso(now);
	if ((r = store_prepare(s, &st,
			       "UPDATE import SET finished = ?, rows_read = ?, rows_loaded = ?,"
			       " rows_duplicate = ?, rows_rejected = ?, blank_lines = ?, bytes = ?,"
			       " sha256 = ?, first_event = nullif(?, 0), last_event = nullif(?, 0),"
			       " format = ? WHERE id = ?",
			       err)))
		return r;
	sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, stt->rows_read);
	sqlite3_bind_int64(st, 3, stt->rows_loaded);
	sqlite3_bind_int64(st, 4, stt->rows_duplicate);
	sqlite3_bind_int64(st, 5, stt->rows_rejected);
	sqlite3_bind_int64(st, 6, stt->blank_lines);
	sqlite3_bind_int64(st, 7, stt->bytes);
	sqlite3_bind_blob(st, 8, sha, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, s->first_event);
	sqlite3_bind_int64(st, 10, s->last_event);
	sqlite3_bind_text(st, 11, format, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 12, import_id);
	r = sqlite3_step(st) == SQLITE_DONE ? 0 : store_db_err(s, err, "recording the import");
	sqlite3_finalize(st);
	return r;
}

int store_import_month_add(struct store *s, int64_t import_id, uint32_t source, int32_t month,
			   int64_t rows, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = store_prepare(s, &st,
			       "INSERT INTO import_month(import_id, source_id, month, rows)"
			       " VALUES(?, ?, ?, ?) ON CONFLICT DO UPDATE SET rows = rows + excluded.rows",
			       err)))
		return r;
	sqlite3_bind_int64(st, 1, import_id);
	sqlite3_bind_int64(st, 2, source);
	sqlite3_bind_int(st, 3, month);
	sqlite3_bind_int64(st, 4, rows);
	r = sqlite3_step(st) == SQLITE_DONE ? 0 : store_db_err(s, err, "recording coverage");
	sqlite3_finalize(st);
	return r;
}

/* Run sql with ?1..?n bound to v[0..n) and return the first column of its
 * first row in *out (0 when there is none). */
static int scalarv(struct store *s, const char *sql, const int64_t *v, int n, int64_t *out,
		   struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r;

	*out = 0;
	if ((r = store_prepare(s, &st, sql, err)))
		return r;
	for (int i = 0; i < n; i++)
		sqlite3_bind_int64(st, i + 1, v[i]);
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_err(s, err, "comparing releases");
	return 0;
}

/* Compare the events of one source and month of import old_id with the
 * current import's (new_id, written in s->first_event..s->last_event) by id
 * (Crime ID, or an agency's id) and add the counts to d. */
static int diff_events(struct store *s, int64_t old_id, int64_t new_id, uint32_t source,
		       int32_t month, struct partition_diff *d, struct mb_error *err)
{
	int r;
	/* ?1 = old import, ?2 = source, ?3 = month; ?4..?6 = this import's range and id */
	const int64_t v[6] = { old_id, source, month, s->first_event, s->last_event, new_id };
#define OLD_ROWS " FROM event WHERE id BETWEEN (SELECT first_event FROM import WHERE id = ?1) AND" \
		 " (SELECT last_event FROM import WHERE id = ?1) AND import_id = ?1 AND source_id = ?2" \
		 " AND month = ?3"
#define NEW_ROWS " WHERE e.id BETWEEN ?4 AND ?5 AND e.import_id = ?6 AND e.source_id = ?2 AND" \
		 " e.month = ?3"
	int64_t with_id = 0, matched = 0, unchanged = 0, added = 0, noid_after = 0, noid_before = 0;

	if ((r = store_exec(s,
			    "CREATE TEMP TABLE IF NOT EXISTS diff_old(ext_id BLOB PRIMARY KEY,"
			    " c INTEGER, o INTEGER, l INTEGER) WITHOUT ROWID; DELETE FROM temp.diff_old;",
			    err)))
		return r;
	if ((r = scalarv(s,
			 "INSERT OR IGNORE INTO temp.diff_old SELECT ext_id, category_id, outcome_id,"
			 " location_id" OLD_ROWS " AND ext_id IS NOT NULL AND ?4 = ?4 AND ?5 = ?5"
			 " AND ?6 = ?6",
			 v, 6, &(int64_t){ 0 }, err)) ||
	    (r = scalarv(s, "SELECT count(*) FROM temp.diff_old", v, 0, &with_id, err)) ||
	    (r = scalarv(s,
			 "SELECT count(*) FROM event e JOIN temp.diff_old o ON o.ext_id = e.ext_id"
			 NEW_ROWS " AND o.c = e.category_id AND o.o IS e.outcome_id"
			 " AND o.l IS e.location_id AND ?1 = ?1",
			 v, 6, &unchanged, err)) ||
	    (r = scalarv(s,
			 "SELECT count(*) FROM event e JOIN temp.diff_old o ON o.ext_id = e.ext_id"
			 NEW_ROWS " AND ?1 = ?1",
			 v, 6, &matched, err)) ||
	    (r = scalarv(s, "SELECT count(*) FROM event e" NEW_ROWS " AND e.ext_id IS NOT NULL"
			 " AND ?1 = ?1", v, 6, &added, err)) ||
	    (r = scalarv(s, "SELECT count(*) FROM event e" NEW_ROWS " AND e.ext_id IS NULL"
			 " AND ?1 = ?1", v, 6, &noid_after, err)) ||
	    (r = scalarv(s, "SELECT count(*)" OLD_ROWS " AND ext_id IS NULL", v, 3, &noid_before,
			 err)))
		return r;
#undef OLD_ROWS
#undef NEW_ROWS
	d->unchanged += unchanged;
	d->changed += matched - unchanged;
	d->added += added - matched;
	d->removed += with_id - matched;
	d->noid_before += noid_before;
	d->noid_after += noid_after;
	d->old_rows += with_id + noid_before;
	d->lost += with_id - matched + (noid_before > noid_after ? noid_before - noid_after : 0);
	return store_exec(s, "DELETE FROM temp.diff_old", err);
}

/* Compare an extract's rows of one month in import old_id with import
 * new_id's by Crime ID (extract fields as a whole) and add the counts to d. */
static int diff_extras(struct store *s, int64_t old_id, int64_t new_id, int32_t month,
		       struct partition_diff *d, struct mb_error *err)
{
	const int64_t v[3] = { old_id, new_id, month };
	int64_t old_n = 0, new_n = 0, matched = 0, unchanged = 0;
	int r;

	if ((r = scalarv(s, "SELECT count(*) FROM event_extra WHERE import_id = ?1 AND month = ?3"
			 " AND ?2 = ?2", v, 3, &old_n, err)) ||
	    (r = scalarv(s, "SELECT count(*) FROM event_extra WHERE import_id = ?2 AND month = ?3"
			 " AND ?1 = ?1", v, 3, &new_n, err)) ||
	    (r = scalarv(s, "SELECT count(*) FROM event_extra o JOIN event_extra n"
			 " ON n.crime_id = o.crime_id AND n.month = o.month AND n.import_id = ?2"
			 " WHERE o.import_id = ?1 AND o.month = ?3", v, 3, &matched, err)) ||
	    (r = scalarv(s, "SELECT count(*) FROM event_extra o JOIN event_extra n"
			 " ON n.crime_id = o.crime_id AND n.month = o.month AND n.import_id = ?2"
			 " WHERE o.import_id = ?1 AND o.month = ?3 AND n.day IS o.day"
			 " AND n.minute IS o.minute AND n.ho_code IS o.ho_code"
			 " AND n.subgroup_id IS o.subgroup_id AND n.da IS o.da AND n.hate IS o.hate"
			 " AND n.hate_id IS o.hate_id AND n.street IS o.street AND n.parish IS o.parish",
			 v, 3, &unchanged, err)))
		return r;
	d->unchanged += unchanged;
	d->changed += matched - unchanged;
	d->added += new_n - matched;
	d->removed += old_n - matched;
	d->old_rows += old_n;
	d->lost += old_n - matched;
	return 0;
}

int store_extract_attached(struct store *s, int64_t import_id, int64_t *attached,
			   struct mb_error *err)
{
	/* the police.uk crimes of the months the extract covers (each import's
	 * events are a range of ids; no index on Crime ID is needed) */
	const int64_t v[1] = { import_id };

	/* driven from the events (a look-up in event_extra's key each): driven
	 * from the extract rows it scanned a month's events a row (minutes) */
	return scalarv(s,
		       "SELECT count(*) FROM import i CROSS JOIN event e ON e.id BETWEEN i.first_event"
		       " AND i.last_event AND e.import_id = i.id WHERE i.format = 'street'"
		       " AND i.replaced_by IS NULL AND i.id IN (SELECT import_id FROM import_month"
		       " WHERE month IN (SELECT DISTINCT month FROM event_extra WHERE import_id = ?1))"
		       " AND EXISTS (SELECT 1 FROM event_extra x WHERE x.crime_id = e.ext_id"
		       " AND x.month = e.month AND x.import_id = ?1)",
		       v, 1, attached, err);
}

/* What a partition of kind holds, in words (for messages). */
static const char *part_words(enum part_kind kind)
{
	switch (kind) {
	case PART_STREET: return "street crimes";
	case PART_OUTCOMES: return "outcome rows";
	case PART_STOP: return "stop-and-search rows";
	case PART_EXTRACT: return "force-extract rows";
	default: return "events";
	}
}

/* Delete what import old holds of partition (kind, source, month): the
 * whole import, or for an agency partition its events of that month only. */
static int partition_drop(struct store *s, enum part_kind kind, uint32_t source, int32_t month,
			  int64_t old, int64_t import_id, struct mb_error *err)
{
	const int64_t v[3] = { old, source, month };
	int64_t left = 0;
	int r;

	if (kind == PART_EXTRACT) {
		/* an extract's month: its rows of that month, nothing else */
		if ((r = scalarv(s, "DELETE FROM event_extra WHERE import_id = ?1 AND month = ?3", v, 3,
				 &left, err)) ||
		    (r = scalarv(s, "SELECT count(*) FROM event_extra WHERE import_id = ?1", v, 1,
				 &left, err)))
			return r;
		if (!left)
			r = scalarv(s, "UPDATE import SET replaced_by = ?2 WHERE id = ?1",
				    (const int64_t[]){ old, import_id }, 2, &left, err);
		return r;
	}
	if (kind != PART_AGENCY) {
		if ((r = scalarv(s,
				 "DELETE FROM event WHERE id BETWEEN"
				 " (SELECT first_event FROM import WHERE id = ?1) AND"
				 " (SELECT last_event FROM import WHERE id = ?1) AND import_id = ?1",
				 v, 1, &left, err)) ||
		    (r = scalarv(s, "DELETE FROM outcome_row WHERE import_id = ?1", v, 1, &left, err)) ||
		    (r = scalarv(s, "DELETE FROM stop_search WHERE import_id = ?1", v, 1, &left, err)) ||
		    (r = scalarv(s, "DELETE FROM import_month WHERE import_id = ?1", v, 1, &left, err)))
			return r;
		return scalarv(s, "UPDATE import SET replaced_by = ?2 WHERE id = ?1",
			       (const int64_t[]){ old, import_id }, 2, &left, err);
	}
#define MONTH_ROWS " FROM event WHERE id BETWEEN (SELECT first_event FROM import WHERE id = ?1)" \
		   " AND (SELECT last_event FROM import WHERE id = ?1) AND import_id = ?1" \
		   " AND source_id = ?2 AND month = ?3"
	if ((r = scalarv(s, "DELETE FROM event_unit WHERE event_id IN (SELECT id" MONTH_ROWS ")", v,
			 3, &left, err)) ||
	    (r = scalarv(s, "DELETE FROM event_when WHERE event_id IN (SELECT id" MONTH_ROWS ")", v,
			 3, &left, err)) ||
	    (r = scalarv(s, "DELETE" MONTH_ROWS, v, 3, &left, err)) ||
	    (r = scalarv(s,
			 "DELETE FROM import_month WHERE import_id = ?1 AND source_id = ?2"
			 " AND month = ?3",
			 v, 3, &left, err)) ||
	    (r = scalarv(s, "SELECT count(*) FROM import_month WHERE import_id = ?1", v, 1, &left,
			 err)))
		return r;
#undef MONTH_ROWS
	/* an import none of whose months is left is replaced as a whole */
	if (!left)
		r = scalarv(s, "UPDATE import SET replaced_by = ?2 WHERE id = ?1",
			    (const int64_t[]){ old, import_id }, 2, &left, err);
	return r;
}

int store_partition_holder(struct store *s, enum part_kind kind, const char *key, int32_t month,
			   int64_t *holder, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	*holder = 0;
	if ((r = store_prepare(s, &st,
			       "SELECT import_id FROM partition WHERE kind = ? AND key = ? AND month = ?",
			       err)))
		return r;
	sqlite3_bind_int(st, 1, kind);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, month);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*holder = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_err(s, err, "reading partitions");
	return 0;
}

int store_partition_claim(struct store *s, enum part_kind kind, const char *key, int32_t month,
			  uint32_t source, int64_t import_id, double max_removed,
			  struct partition_diff *diff, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int64_t old = 0;
	int r;

	if ((r = store_partition_holder(s, kind, key, month, &old, err)))
		return r;
	if (old && old != import_id) {
		struct partition_diff one = { .replaced_import = old };

		if (kind == PART_STREET || kind == PART_AGENCY) {
			if ((r = diff_events(s, old, import_id, source, month, &one, err)))
				return r;
		} else if (kind == PART_EXTRACT) {
			if ((r = diff_extras(s, old, import_id, month, &one, err)))
				return r;
		} else {
			const char *sql = kind == PART_OUTCOMES
						  ? "SELECT count(*) FROM outcome_row WHERE import_id = ?1"
						  : "SELECT count(*) FROM stop_search WHERE import_id = ?1";
			int64_t now = 0;

			if ((r = scalarv(s, sql, &old, 1, &one.old_rows, err)) ||
			    (r = scalarv(s, sql, &import_id, 1, &now, err)))
				return r;
			one.lost = one.old_rows > now ? one.old_rows - now : 0;
		}
		/* a release that drops a large share of what the store holds is a
		 * partial or cut file more often than a real revision (issue 21 item 1) */
		if (max_removed < 1 && one.lost > 0 && (double)one.lost > max_removed * (double)one.old_rows)
			return mb_err(err, MB_EDATA,
				      "this release would remove %lld of the %lld %s (%.1f%%) that import"
				      " #%lld holds for %04d-%02d, more than --max-removed %g%%: not"
				      " applied, the store is unchanged (a partial or cut file? --replace"
				      " applies it)",
				      (long long)one.lost, (long long)one.old_rows, part_words(kind),
				      100.0 * (double)one.lost / (double)one.old_rows, (long long)old,
				      2000 + month / 12, month % 12 + 1, 100.0 * max_removed);
		if ((r = partition_drop(s, kind, source, month, old, import_id, err)))
			return r;
		if (!diff->replaced_import)
			diff->replaced_import = old;
		diff->months++;
		diff->added += one.added;
		diff->removed += one.removed;
		diff->changed += one.changed;
		diff->unchanged += one.unchanged;
		diff->noid_before += one.noid_before;
		diff->noid_after += one.noid_after;
		diff->old_rows += one.old_rows;
		diff->lost += one.lost;
	}
	if ((r = store_prepare(s, &st,
			       "INSERT INTO partition(kind, key, month, import_id) VALUES(?, ?, ?, ?)"
			       " ON CONFLICT DO UPDATE SET import_id = excluded.import_id",
			       err)))
		return r;
	sqlite3_bind_int(st, 1, kind);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, month);
	sqlite3_bind_int64(st, 4, import_id);
	r = sqlite3_step(st) == SQLITE_DONE ? 0 : store_db_err(s, err, "recording the partition");
	sqlite3_finalize(st);
	return r;
}

/* Append field p (n bytes) to the CSV row in *buf (length *len, capacity
 * *cap), comma first unless it is the row's first, quoted when it must be. */
static int csv_put(char **buf, size_t *len, size_t *cap, const char *p, size_t n, int first)
{
	if (store_key_room(buf, cap, *len + 2 * n + 4))
		return -1;
	char *o = *buf + *len;

	if (!first)
		*o++ = ',';
	int q = 0;

	for (size_t i = 0; i < n && !q; i++)
		q = p[i] == ',' || p[i] == '"' || p[i] == '\n' || p[i] == '\r';
	if (q)
		*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '"')
			*o++ = '"';
		*o++ = p[i];
	}
	if (q)
		*o++ = '"';
	*len = (size_t)(o - *buf);
	return 0;
}

/* The text of column i of st's row (NULL as ""), its length in *n. */
static const char *col_text(sqlite3_stmt *st, int i, size_t *n)
{
	const char *p = (const char *)sqlite3_column_text(st, i);

	*n = p ? (size_t)sqlite3_column_bytes(st, i) : 0;
	return p ? p : "";
}

/* Keep each street row of st (see store_duplicates_held: the row's import and
 * line, the holder's, then its values; column 15 the number of identical rows
 * held when it has no Crime ID, else 0) as a duplicate in reject, its raw text
 * the row rebuilt from the values loaded. */
static int held_rejects(struct store *s, sqlite3_stmt *st, struct mb_error *err)
{
	sqlite3_stmt *ins = NULL;
	char *raw = NULL, reason[256], num[80];
	size_t cap = 0;
	int r, rc;

	if ((r = store_prepare(s, &ins,
			       "INSERT INTO reject(import_id, line, col, duplicate, reason, raw)"
			       " VALUES(?, ?, 1, 1, ?, ?)",
			       err)))
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t len = 0, n;
		const unsigned char *id = sqlite3_column_blob(st, 4);
		int idn = sqlite3_column_bytes(st, 4), m = sqlite3_column_int(st, 5), bad = 0;

		for (int i = 0; i < idn && i < 32; i++)
			snprintf(num + 2 * i, 3, "%02x", id[i]);
		bad |= csv_put(&raw, &len, &cap, num, idn > 0 ? 2 * (size_t)(idn < 32 ? idn : 32) : 0, 1);
		n = (size_t)snprintf(num, sizeof(num), "%04d-%02d", 2000 + m / 12, m % 12 + 1);
		bad |= csv_put(&raw, &len, &cap, num, n, 0);
		for (int c = 6; c <= 14; c++) {
			const char *p;

			if ((c == 8 || c == 9) && sqlite3_column_type(st, c) != SQLITE_NULL) {
				n = (size_t)snprintf(num, sizeof(num), "%.6f", sqlite3_column_double(st, c));
				p = num;
			} else {
				p = col_text(st, c, &n);
			}
			bad |= csv_put(&raw, &len, &cap, p, n, 0);
		}
		bad |= csv_put(&raw, &len, &cap, "", 0, 0); /* Context: not stored */
		if (bad) {
			r = mb_err(err, MB_ENOMEM, "out of memory");
			break;
		}
		if (sqlite3_column_int64(st, 15))
			snprintf(reason, sizeof(reason),
				 "duplicate row without Crime ID (%lld rows of this type, place and"
				 " outcome already held for this month and force, the first by import"
				 " #%lld, line %lld)",
				 (long long)sqlite3_column_int64(st, 15),
				 (long long)sqlite3_column_int64(st, 2), (long long)sqlite3_column_int64(st, 3));
		else
			snprintf(reason, sizeof(reason),
				 "duplicate Crime ID (held for this month and force by import #%lld, line"
				 " %lld)",
				 (long long)sqlite3_column_int64(st, 2), (long long)sqlite3_column_int64(st, 3));
		sqlite3_bind_int64(ins, 1, sqlite3_column_int64(st, 0));
		sqlite3_bind_int64(ins, 2, sqlite3_column_int64(st, 1));
		sqlite3_bind_text(ins, 3, reason, -1, SQLITE_STATIC);
		sqlite3_bind_blob(ins, 4, raw, (int)len, SQLITE_STATIC);
		if ((r = step_reset(s, ins, err)))
			break;
	}
	if (!r && rc != SQLITE_DONE)
		r = store_db_err(s, err, "reading held Crime IDs");
	sqlite3_finalize(ins);
	free(raw);
	return r;
}

int store_duplicates_held(struct store *s, int64_t import_id, uint32_t source, int32_t month,
			  int64_t except, int64_t *moved, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	const int64_t v[6] = { source, month, import_id, except, s->first_event, s->last_event };
	int64_t others = 0;
	int r;

	*moved = 0;
	/* the common case, a month no other import holds: one indexed look-up */
	if ((r = scalarv(s,
			 "SELECT count(*) FROM import_month WHERE source_id = ?1 AND month = ?2"
			 " AND import_id NOT IN (?3, ?4)",
			 v, 4, &others, err)) ||
	    !others || !s->first_event)
		return r;
	/* what the other imports hold for (source, month) (each import's events
	 * are a range of ids): Crime IDs, and rows without one (ASB) counted by
	 * type, snap point, outcome and "Falls within", with the first of each
	 * (SQLite takes the bare columns from the row of min()) */
#define HELD " FROM import_month m JOIN import i ON i.id = m.import_id JOIN event e" \
	     " ON e.id BETWEEN i.first_event AND i.last_event AND e.import_id = i.id" \
	     " WHERE m.source_id = ?1 AND m.month = ?2 AND m.import_id NOT IN (?3, ?4)" \
	     " AND e.source_id = ?1 AND e.month = ?2"
#define MINE " FROM event e WHERE e.id BETWEEN ?5 AND ?6 AND e.import_id = ?3" \
	     " AND e.source_id = ?1 AND e.month = ?2 AND ?4 = ?4"
	if ((r = store_exec(s,
			    "CREATE TEMP TABLE IF NOT EXISTS mb_held(ext_id PRIMARY KEY, import_id"
			    " INTEGER, line INTEGER) WITHOUT ROWID;"
			    "CREATE TEMP TABLE IF NOT EXISTS mb_held_noid(c, l, o, fw, n, import_id, line, mid);"
			    "CREATE TEMP TABLE IF NOT EXISTS mb_dup(id INTEGER PRIMARY KEY, holder,"
			    " hline, noid);"
			    "DELETE FROM temp.mb_held; DELETE FROM temp.mb_held_noid;"
			    "DELETE FROM temp.mb_dup;",
			    err)) ||
	    (r = scalarv(s,
			 "INSERT OR IGNORE INTO temp.mb_held SELECT e.ext_id, e.import_id, e.line" HELD
			 " AND e.ext_id IS NOT NULL",
			 v, 4, &others, err)) ||
	    (r = scalarv(s,
			 "INSERT INTO temp.mb_held_noid SELECT e.category_id, e.location_id,"
			 " e.outcome_id, e.falls_id, count(*), e.import_id, e.line, min(e.id)" HELD
			 " AND e.ext_id IS NULL GROUP BY 1, 2, 3, 4",
			 v, 4, &others, err)) ||
	    (r = scalarv(s,
			 "INSERT INTO temp.mb_dup SELECT e.id, h.import_id, h.line, 0"
			 " FROM event e JOIN temp.mb_held h ON h.ext_id = e.ext_id"
			 " WHERE e.id BETWEEN ?5 AND ?6 AND e.import_id = ?3 AND e.source_id = ?1"
			 " AND e.month = ?2 AND ?4 = ?4",
			 v, 6, &others, err)) ||
	    /* rows without id: as many of each kind as are held already */
	    (r = scalarv(s,
			 "INSERT INTO temp.mb_dup SELECT id, imp, ln, n FROM (SELECT e.id, h.import_id"
			 " AS imp, h.line AS ln, h.n, row_number() OVER (PARTITION BY e.category_id,"
			 " e.location_id, e.outcome_id, e.falls_id ORDER BY e.id) AS rn"
			 " FROM event e JOIN temp.mb_held_noid h ON h.c = e.category_id"
			 " AND h.l IS e.location_id AND h.o IS e.outcome_id AND h.fw IS e.falls_id"
			 " WHERE e.id BETWEEN ?5 AND ?6 AND e.import_id = ?3 AND e.source_id = ?1"
			 " AND e.month = ?2 AND e.ext_id IS NULL AND ?4 = ?4) WHERE rn <= n",
			 v, 6, &others, err)))
		return r;
#undef HELD
#undef MINE
	if ((r = store_prepare(s, &st,
			       "SELECT e.import_id, e.line, d.holder, d.hline, e.ext_id, e.month,"
			       " (SELECT name FROM source WHERE id = e.source_id),"
			       " (SELECT name FROM source WHERE id = e.falls_id), l.lon, l.lat, l.name,"
			       " (SELECT code FROM lsoa WHERE id = l.lsoa_id),"
			       " (SELECT name FROM lsoa WHERE id = l.lsoa_id),"
			       " (SELECT name FROM category WHERE id = e.category_id),"
			       " (SELECT name FROM outcome WHERE id = e.outcome_id), d.noid"
			       " FROM temp.mb_dup d JOIN event e ON e.id = d.id"
			       " LEFT JOIN location l ON l.id = e.location_id ORDER BY e.id",
			       err)))
		return r;
	r = held_rejects(s, st, err);
	sqlite3_finalize(st);
	if (r || (r = scalarv(s, "DELETE FROM event WHERE id IN (SELECT id FROM temp.mb_dup)", v, 0,
			      moved, err)))
		return r;
	*moved = sqlite3_changes64(s->db);
	/* the import's events stay the range first_event..last_event: the ids
	 * freed at its end may go to the next import's rows */
	const int64_t range[3] = { s->first_event, s->last_event, import_id };

	if ((r = scalarv(s, "SELECT min(id) FROM event WHERE id BETWEEN ?1 AND ?2 AND import_id = ?3",
			 range, 3, &s->first_event, err)) ||
	    (r = scalarv(s, "SELECT max(id) FROM event WHERE id BETWEEN ?1 AND ?2 AND import_id = ?3",
			 range, 3, &s->last_event, err)))
		return r;
	return store_exec(s,
			  "DELETE FROM temp.mb_held; DELETE FROM temp.mb_held_noid;"
			  " DELETE FROM temp.mb_dup;",
			  err);
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

int store_has_table(struct store *s, const char *name, int *yes, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	*yes = 0;
	if ((r = store_prepare(s, &st,
			       "SELECT 1 FROM main.sqlite_schema WHERE type = 'table' AND name = ?", err)))
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*yes = rc == SQLITE_ROW;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_err(s, err, "reading the store's schema");
	return 0;
}
