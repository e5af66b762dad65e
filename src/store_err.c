/* store_err — the store's SQL primitives (run, prepare, step a write) and its
 * one translation of SQLite errors into messages: every store_*.c file runs
 * statements and reports through it; it depends on nothing of theirs. */
#include <errno.h>
#include <sqlite3.h>
#include <string.h>

#include "microbeat/common.h"
#include "store_internal.h"

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

int store_step_reset(struct store *s, sqlite3_stmt *st, struct mb_error *err)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_err(s, err, "writing to the store");
	return 0;
}

int store_max_id(struct store *s, const char *sql, size_t *n, struct mb_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	*n = 1;
	if ((r = store_prepare(s, &st, sql, err)))
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*n = (size_t)sqlite3_column_int64(st, 0) + 1;
	else if (rc != SQLITE_DONE)
		r = store_db_err(s, err, "reading the size of a table");
	sqlite3_finalize(st);
	return r;
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
