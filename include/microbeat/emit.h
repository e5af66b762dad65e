/*
 * emit — the output layer's tables and files: typed tables written as
 * spreadsheet-safe CSV, Markdown, aligned console text and HTML, plus atomic
 * file and folder helpers so that a killed run never leaves a half-written
 * file or assessment pack that looks complete. No statistics, no SQLite.
 *
 * Every writer checks each fputs/fprintf/putc, flushes the stream at the end
 * and checks ferror(), so a full disk fails loudly with MB_EIO. A writer that
 * fails may have written part of the table. File formats and the safety rules
 * are described in docs/output.md.
 */
#ifndef MICROBEAT_EMIT_H
#define MICROBEAT_EMIT_H

#include <stdint.h>
#include <stdio.h>

#include "microbeat/common.h"

/* What a table cell holds. */
enum table_kind {
	TABLE_BLANK = 0, /* missing / not applicable: empty in CSV, "–" elsewhere */
	TABLE_TEXT,      /* a string (UTF-8), neutralised in CSV when formula-like */
	TABLE_INT,       /* a signed integer, written as a number */
	TABLE_DOUBLE     /* a double, written as a number with a fixed precision */
};

/* One typed cell (16 bytes: a table of 25,000 rows x 17 columns is 7 MB). */
struct table_cell {
	union {
		char *text;   /* TABLE_TEXT: copy of the string in the table's text store */
		int64_t i;    /* TABLE_INT: the value */
		double d;     /* TABLE_DOUBLE: the value (NaN/inf are written blank) */
	};
	enum table_kind kind; /* which member of the union is meaningful */
	int prec;             /* TABLE_DOUBLE: digits after the point (0..17) */
};

/* A block of the text store: the cells' strings, many to one allocation. */
struct table_text_block;

/* A table: a title, named columns and rows of typed cells (row-major). */
struct table {
	char *title;              /* owned; may be NULL (no caption/heading) */
	char **cols;              /* owned column names, ncols of them */
	size_t ncols;             /* number of columns (>= 1) */
	size_t nrows;             /* number of rows added so far */
	size_t cap;               /* rows allocated in cells */
	struct table_cell *cells; /* nrows * ncols cells; cell (r, c) = cells[r*ncols+c] */
	struct table_text_block *text; /* owned: the text cells' strings (a malloc per
					  cell cost ~0.3 M calls on the national list) */
};

/* Set up t with a copy of title (may be NULL) and of the ncols column names
 * (ncols >= 1, none NULL). On failure t holds nothing to release. */
int table_init(struct table *t, const char *title, const char *const *cols,
	size_t ncols, struct mb_error *err);

/* Free everything t owns; t may then be initialised again. NULL-safe. */
void table_release(struct table *t);

/* Append a row of blank cells; *row (may be NULL) receives its index. */
int table_add_row(struct table *t, size_t *row, struct mb_error *err);

/* Set cell (row, col) to a copy of s (NULL = blank). Fails with MB_EUSAGE
 * when row or col is out of range, MB_ENOMEM when the copy fails. */
int table_set_text(struct table *t, size_t row, size_t col, const char *s,
	struct mb_error *err);

/* Set cell (row, col) to the integer v. Fails with MB_EUSAGE when out of range. */
int table_set_int(struct table *t, size_t row, size_t col, int64_t v,
	struct mb_error *err);

/* Set cell (row, col) to v shown with prec digits after the point (clamped to
 * 0..17). NaN and infinities are written as blank. MB_EUSAGE when out of range. */
int table_set_double(struct table *t, size_t row, size_t col, double v, int prec,
	struct mb_error *err);

/* Set cell (row, col) to blank (missing). MB_EUSAGE when out of range. */
int table_set_blank(struct table *t, size_t row, size_t col, struct mb_error *err);

/* Write t as CSV: a header row of column names then one line per row, LF line
 * endings, fields quoted per RFC 4180 when they contain , " CR or LF. Text
 * cells (and column names) that a spreadsheet would run as a formula — first
 * character = + - @ TAB CR LF or a full-width ＝ ＋ － ＠ — get a leading
 * apostrophe, except a plain signed number ("-3") and a lone "-", which are
 * data. Numeric cells are written as plain numbers. No title line, no
 * BOM. Return 0, or MB_EIO when a write fails. */
int table_write_csv(const struct table *t, FILE *f, struct mb_error *err);

/* Write t as a Markdown pipe table, preceded by "**title**" and a blank line
 * when t has a title. Cell text has \ | < > ` * _ [ ] ~ & backslash-escaped
 * and CR/LF/TAB turned into spaces; numeric columns are right-aligned. */
int table_write_md(const struct table *t, FILE *f, struct mb_error *err);

/* Write t as an aligned console table (title line, header, dashes, rows; two
 * spaces between columns; numbers right-aligned). Widths count display
 * columns: one per code point, none for combining marks and invisible format
 * characters (e.g. U+200F), two for East Asian wide characters. Control
 * characters become spaces and invalid UTF-8 bytes become '?'. */
int table_write_text(const struct table *t, FILE *f, struct mb_error *err);

/* Write t as an HTML <table> (with <caption> when titled, <thead>, <tbody>;
 * numeric cells carry class="num"). All text is escaped by emit_html_escape. */
/* Write t as CSV into dir/name atomically (emit_open_atomic rules for name). */
int table_save_csv(const struct table *t, const char *dir, const char *name, struct mb_error *err);

/* Like table_write_text, for reading on a terminal: at most max_rows rows and
 * numbers with at most max_prec decimals (the files keep full precision). */
int table_write_console(const struct table *t, int max_prec, size_t max_rows, FILE *f,
			struct mb_error *err);

int table_write_html(const struct table *t, FILE *f, struct mb_error *err);

/* Write s (NULL = nothing) to f with & < > " ' replaced by HTML entities.
 * Return 0, or MB_EIO when a write fails. Like emit_csv_field it does not
 * flush: on a buffered stream a full disk shows at the caller's fflush. */
int emit_html_escape(const char *s, FILE *f, struct mb_error *err);

/* Write s (NULL = nothing) as Markdown text outside a table, e.g. a line
 * before one: escaped like a table_write_md cell (\ | < > ` * _ [ ] ~ &,
 * CR/LF/TAB as spaces), and, as it may start a line, a first # + - = (after
 * spaces) or the . or ) after leading digits is escaped too, so it opens no
 * heading, list, rule or HTML. Return 0, or MB_EIO when a write fails. */
int emit_md_escape(const char *s, FILE *f, struct mb_error *err);

/* Write s (NULL = nothing) for a terminal, cleaned like a table_write_text
 * cell: controls become spaces, invalid UTF-8 bytes '?', bidi controls are
 * dropped. Return 0, or MB_EIO when a write fails. */
int emit_text_clean(const char *s, FILE *f, struct mb_error *err);

/* Write s (NULL = empty) as one CSV field: neutralised with a leading
 * apostrophe when formula-like (see table_write_csv), then quoted per
 * RFC 4180 when needed. Return 0, or MB_EIO. */
int emit_csv_field(const char *s, FILE *f, struct mb_error *err);

/* Like emit_csv_field for the n bytes at s (NULL = empty), which may hold NUL
 * bytes (e.g. the raw text of a rejected row). */
int emit_csv_field_n(const char *s, size_t n, FILE *f, struct mb_error *err);

/* Decode the UTF-8 code point at s (n > 0 bytes available). Set *len to the
 * bytes it takes (1 for an invalid byte) and return it, or -1 when the bytes
 * are invalid (overlong, surrogate, truncated, beyond U+10FFFF). */
long emit_utf8_next(const char *s, size_t n, size_t *len);

/* Display width of the UTF-8 string s (rules as in table_write_text). */
size_t emit_text_width(const char *s);

/* Non-zero when s would be neutralised by emit_csv_field (formula-like). */
int emit_csv_formula_like(const char *s);

/* ---- atomic files and folders ------------------------------------------- */

/* A file being written atomically: readers see the old file or the new one. */
struct emit_file {
	FILE *fp;         /* stream to write to; NULL when not open */
	char *tmp_path;   /* owned: "dir/.name.tmp", removed on abort */
	char *final_path; /* owned: "dir/name", the rename target */
};

/* Non-zero when name is a safe file name chosen by the program: non-empty, at
 * most 200 bytes, no '/', no control characters, not starting with '.'. */
int emit_name_ok(const char *name);

/* Open dir/.name.tmp for writing (created exclusively, mode 0666 & ~umask; a
 * stale temporary left by a killed run is replaced). name must pass
 * emit_name_ok (names come from the program, never from data) else MB_EUSAGE.
 * On success af is open and must be finished with emit_commit_atomic or
 * emit_abort_atomic; on failure af holds nothing. */
int emit_open_atomic(const char *dir, const char *name, struct emit_file *af,
	struct mb_error *err);

/* Flush, fsync and close af's stream, rename the temporary onto dir/name and
 * fsync dir. On any failure the temporary is removed and MB_EIO returned.
 * Either way af is released (fp NULL, paths freed). */
int emit_commit_atomic(struct emit_file *af, struct mb_error *err);

/* Write the JSON value v (a GeoJSON FeatureCollection, say) into dir/name
 * atomically, indented, ASCII-escaped, with a final newline; v is always
 * released (json_decref), success or not. MB_EIO on a write error. */
/* A number as a table cell writes it: prec decimals, a negative zero
 * ("-0.00") without its sign; NULL (a blank cell) when v is not finite.
 * buf holds size bytes. */
const char *emit_number(double v, int prec, char *buf, size_t size);

struct json_t;
int emit_json_save(struct json_t *v, const char *dir, const char *name, struct mb_error *err);

/* A GeoJSON FeatureCollection written into dir/name a feature at a time: the
 * bytes emit_json_save gives for {"type": "FeatureCollection", "features":
 * [...]} without holding the whole tree (a national list is 25k features).
 * Open; add each feature (a JSON object, always released; MB_ENOMEM); close
 * (commit, as emit_commit_atomic), or emit_abort_atomic(&ef->af) on failure. */
struct emit_features {
	struct emit_file af; /* the file being written (in memory: af.fp alone) */
	size_t n;            /* features written */
	char *buf;           /* in memory: the text so far (open_memstream) */
	size_t len;          /* ... its bytes */
};
int emit_features_open(const char *dir, const char *name, struct emit_features *ef,
		       struct mb_error *err);
int emit_features_add(struct emit_features *ef, struct json_t *f, struct mb_error *err);
int emit_features_close(struct emit_features *ef, struct mb_error *err);

/* The same collection built in memory first, to be written later: open (MB_ENOMEM), add
 * features as above, then save it into dir/name (atomically, as emit_features_close; the
 * memory is freed either way) or discard it. Discarding is harmless after a save and
 * on a zeroed ef. */
int emit_features_open_mem(struct emit_features *ef, struct mb_error *err);
int emit_features_save(struct emit_features *ef, const char *dir, const char *name,
		       struct mb_error *err);
void emit_features_discard(struct emit_features *ef);

/* Close af's stream and remove its temporary; af is released. NULL-safe and
 * harmless on an already released af. */
void emit_abort_atomic(struct emit_file *af);

/* Create the folder dir/name (name must pass emit_name_ok; an existing folder
 * is fine) and return its path in *path (caller frees with free()). */
int emit_subdir(const char *dir, const char *name, char **path, struct mb_error *err);

/* Name of the marker file that identifies a folder made by emit_dir_begin. */
#define EMIT_PACK_MARKER ".microbeat-pack"

/* Start writing a pack that will become final_dir: create the fresh folder
 * "final_dir.tmp.XXXXXX" beside it (with an EMIT_PACK_MARKER file inside)
 * and return its path in *tmpdir (caller frees with free()). Missing parent
 * folders are made. Fails at once (MB_EUSAGE) when final_dir exists and is
 * not a folder that emit_dir_commit may replace. */
int emit_dir_begin(const char *final_dir, char **tmpdir, struct mb_error *err);

/* End a pack begun with emit_dir_begin: when rc is 0 commit tmpdir as
 * final_dir (emit_dir_commit), else (or when that fails) remove tmpdir. Frees
 * tmpdir. Returns rc, or the commit's error. A run killed before this leaves
 * final_dir as it was (absent, or the earlier pack whole) and an unfinished
 * "final_dir.tmp.XXXXXX" beside it. */
int emit_dir_finish(int rc, char *tmpdir, const char *final_dir, struct mb_error *err);

/* Put the finished tmpdir in place as final_dir (mode 0755). When final_dir
 * exists it must be a folder that is empty or holds EMIT_PACK_MARKER (a pack
 * written earlier), else MB_EUSAGE and nothing changes — so a mistaken
 * --out $HOME is never deleted. The old folder is renamed aside, the new one
 * renamed in, then the old one removed. On failure tmpdir is left for
 * emit_dir_abort and the old pack, if any, is back in place. */
int emit_dir_commit(const char *tmpdir, const char *final_dir, struct mb_error *err);

/* Remove tmpdir and everything under it (it must be a folder made by
 * emit_dir_begin: one holding EMIT_PACK_MARKER, else nothing is removed).
 * Return 0, or MB_EIO / MB_EUSAGE. */
int emit_dir_abort(const char *tmpdir, struct mb_error *err);

#endif
