/*
 * csvtab — the one reader for small CSV inputs (LSOA lookups, populations,
 * street gazetteers, harm weights, themes): a whole file read into a table of
 * owned strings, with the physical place of every field for messages.
 *
 * Rules (docs/methods.md, "Small input files"): RFC 4180 fields separated by
 * ','; rows end at LF, CRLF or a lone CR (each counts one physical line, also
 * inside a quoted field); a UTF-8 byte-order mark at the start of the file is
 * stripped once; blank lines are skipped; the first row is the header; spaces
 * and tabs around every field are trimmed. The file is refused whole, with
 * FILE:LINE:COL of the offending byte, on a NUL byte, invalid UTF-8, a quote
 * inside an unquoted field, text after a closing quote, an unterminated
 * quoted field (at its opening quote), a field over CSVTAB_FIELD_MAX bytes, or
 * a data row whose field count differs from the header's. Small inputs are
 * all or nothing: a reader that refuses a file loads none of it.
 *
 * The import's fast path (ingest.c) keeps its own streaming parser.
 * Every function returning int returns 0 or a negative MB_E* code, err filled.
 */
#ifndef MICROBEAT_CSVTAB_H
#define MICROBEAT_CSVTAB_H

#include <stddef.h>

#include "microbeat/common.h"

/* Longest field accepted (bytes): a longer one is a file error, never cut. */
#define CSVTAB_FIELD_MAX 65536

/* Where a field starts in the file: 1-based physical line and byte column. */
struct csvtab_pos {
	long line;  /* physical line (LF, CRLF and CR each end one) */
	long col;   /* byte column within that line (the BOM counts) */
};

/* One data row: ncols fields of the header. */
struct csvtab_row {
	char **f;               /* fields, NUL-terminated and trimmed (owned) */
	struct csvtab_pos *pos; /* where each field starts (owned) */
	long line;              /* physical line of the row's first byte */
};

/* A small CSV file read whole. */
struct csvtab {
	char *path;             /* file name used in messages (owned copy) */
	char **head;            /* header fields, trimmed, BOM stripped (owned) */
	struct csvtab_pos *head_pos; /* where each header field starts */
	size_t ncols;           /* fields of the header */
	long head_line;         /* physical line of the header */
	struct csvtab_row *rows; /* data rows in file order */
	size_t nrows;           /* data rows */
	size_t cap;             /* rows allocated */
};

/* Read the file at path into *t (zeroed first). MB_EIO when it cannot be
 * opened or read, MB_EDATA (FILE:LINE:COL: problem) when malformed or when it
 * has no header, MB_ENOMEM. On failure *t holds nothing to release. */
int csvtab_read(const char *path, struct csvtab *t, struct mb_error *err);

/* The same over the n bytes at buf; name is used in messages. */
int csvtab_read_mem(const char *name, const char *buf, size_t n, struct csvtab *t,
		    struct mb_error *err);

/* A data row lent by csvtab_scan(): row->f and row->pos are valid during the
 * call only. Return 0 to go on, or a negative MB_E* code (err filled) to stop
 * the scan with that error. */
typedef int (*csvtab_row_fn)(void *ctx, const struct csvtab *t, const struct csvtab_row *row,
			     struct mb_error *err);

/* csvtab_read() for a large input, without the rows' copies: the file is
 * checked and parsed by the same rules, the header kept in *t (path, head,
 * ncols, head_line; no rows) and each data row lent to sink in file order
 * as it is parsed. A malformed file fails at its place as csvtab_read()
 * does, but after the rows before it went to sink. Release t with
 * csvtab_release(). */
int csvtab_scan(const char *path, struct csvtab *t, csvtab_row_fn sink, void *ctx,
		struct mb_error *err);

/* Free what t holds (NULL-safe fields; t may be reused after). */
void csvtab_release(struct csvtab *t);

/* Index of the header column named name (case-insensitive), or -1. */
long csvtab_col(const struct csvtab *t, const char *name);

/* Index of the first column named by aliases (a NULL-terminated list, tried
 * in order), or -1 when none is present. */
long csvtab_pick(const struct csvtab *t, const char *const *aliases);

/* Fill err with code and "FILE:LINE:COL: message" for field col of data row
 * row (col < 0: the row's first byte); return -code. */
int csvtab_err(const struct csvtab *t, size_t row, long col, struct mb_error *err, int code,
	       const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* csvtab_err() for a row lent by csvtab_scan(). */
int csvtab_row_err(const struct csvtab *t, const struct csvtab_row *r, long col,
		   struct mb_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Bytes of a UTF-8 byte-order mark at the start of s[0..n): 3 or 0. */
size_t csvtab_bom(const char *s, size_t n);

/* Offset of the first invalid UTF-8 byte of s[0..n) (overlongs, surrogates
 * and code points past U+10FFFF are invalid), or n when all is valid. */
size_t csvtab_utf8_bad(const char *s, size_t n);

/* Strict decimal number: optional sign, digits with an optional '.', an
 * optional exponent; nothing else (no hex, inf, nan, blanks). Return 0 with
 * *v set, -1 when s is not such a number, -2 when it is but does not fit a
 * double (overflow, or a non-zero value below DBL_MIN). */
int csvtab_number(const char *s, double *v);

/* Is s an LSOA / Data Zone code (an upper-case letter and 8 digits), the rule
 * the import applies to the LSOA column of street files? */
int csvtab_lsoa_code_ok(const char *s);

#endif
