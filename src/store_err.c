/* microbeat — the store's one translation of SQLite errors into messages
 * (every store_*.c file reports through it; it depends on nothing of theirs). */
#include <errno.h>
#include <sqlite3.h>

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
