/*
 * microbeat — shared error type and exit codes.
 *
 * Ownership rule for the whole API (stated once): a function that returns a
 * pointer through an out-parameter transfers ownership to the caller, who frees
 * it with the matching x_free(); structs passed in by pointer stay the caller's.
 * Functions return 0 on success and a negative MB_E* code on failure, with the
 * details in a caller-owned struct mb_error.
 */
#ifndef MICROBEAT_COMMON_H
#define MICROBEAT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define MB_VERSION "0.1.0"

/* Error codes returned (negated) by library functions. */
enum mb_code {
	MB_OK = 0,
	MB_EUSAGE = 1,   /* bad command line or option value */
	MB_EIO = 2,      /* file could not be read or written */
	MB_EDATA = 3,    /* input data malformed (file, line, column in msg) */
	MB_EDB = 4,      /* the store failed (SQLite error, locked, read-only) */
	MB_ENOMEM = 5,   /* out of memory */
	MB_ENOTFOUND = 6, /* a named area, layer or category does not exist */
	MB_EBUG = 7      /* an internal invariant broke: a bug in microbeat (util.h BUG()) */
};

/* Process exit codes: only main() turns results into these. */
enum mb_exit {
	MB_EXIT_OK = 0,       /* success */
	MB_EXIT_FAILURE = 1,  /* generic failure */
	MB_EXIT_USAGE = 2,    /* bad command line */
	MB_EXIT_DATA = 3,     /* some input rejected or a file skipped (work done) */
	MB_EXIT_IO = 4,       /* cannot read or write a file */
	MB_EXIT_DB = 5,       /* store error (locked, read-only, corrupt) */
	MB_EXIT_NOTFOUND = 6, /* named area, layer or category not found */
	MB_EXIT_BUG = 70      /* internal error: a bug to report (sysexits' EX_SOFTWARE) */
};

/* Error details; owned by the caller, filled by the callee on failure. */
struct mb_error {
	int code;        /* one of enum mb_code, 0 when no error */
	char msg[512];   /* human-readable, lower case, no trailing full stop */
};

/* Set err (may be NULL) to code and a printf-style message; return -code. */
int mb_err(struct mb_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Map an enum mb_code to the process exit code. */
int mb_exit_code(int code);

/* Parse "YYYY-MM" (exactly 7 bytes, year 2000..2099, month 01..12) into
 * months since 2000-01. Return 0, or -1 when malformed or out of range. */
int month_parse(const char *s, size_t len, int32_t *month);

/* Format months since 2000-01 as "YYYY-MM" into out (8 bytes with NUL). */
void month_format(int32_t month, char out[8]);

/* Buffer size for mb_shown (escaped text longer than this is cut, ending "...") */
#define MB_SHOWN_MAX 1024

/* Text from outside (file and zip entry names, source, layer, unit and
 * category names) made safe to print on a terminal or in Markdown: control
 * characters (C0, DEL, C1), bidirectional overrides and bytes that are not
 * UTF-8 become visible escapes ("\x1b", "\u0085", "\u202e"), so no escape
 * sequence reaches the terminal and a name cannot disguise itself. Return s
 * itself when it needs no escaping (no copy, no length limit), else buf (cap
 * bytes, cap >= 8) holding the escaped text. s may be NULL (returns ""). */
const char *mb_shown(const char *s, char *buf, size_t cap);

/* mb_shown into a buffer that lives until the end of the enclosing block:
 * for a printf argument, fprintf(f, "%s", MB_SHOWN(name)). */
#define MB_SHOWN(s) mb_shown((s), (char[MB_SHOWN_MAX]){ 0 }, MB_SHOWN_MAX)

#endif
