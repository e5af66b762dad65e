/*
 * emit — typed tables written as CSV, Markdown, console text and HTML, and the
 * escaping of untrusted text for each. Atomic files and output folders are in
 * emit_files.c. See include/microbeat/emit.h and docs/output.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "microbeat/emit.h"
#include "microbeat/util.h"

/* Shown for a blank cell in Markdown, text and HTML (an en dash). */
#define BLANK_MARK "\xe2\x80\x93"

/* ---- output with a sticky error -------------------------------------------- */

/* A stream plus a flag set by the first failed write (SQLite's pRc pattern),
 * and for the table writers a buffer that gathers small writes into few
 * fwrite calls (stdio locks the stream on every call). */
struct out {
	FILE *f;    /* destination */
	int bad;    /* non-zero once a write failed; later writes do nothing */
	char *buf;  /* NULL: write through; else bytes not yet given to f */
	size_t n;   /* bytes waiting in buf */
	size_t cap; /* size of buf */
};

/* Give the buffered bytes to the stream. */
static void out_flush(struct out *o)
{
	if (!o->bad && o->n && fwrite(o->buf, 1, o->n, o->f) != o->n)
		o->bad = 1;
	o->n = 0;
}

/* Write n bytes of s unless an error is already set. */
static void out_n(struct out *o, const char *s, size_t n)
{
	if (o->bad || n == 0)
		return;
	if (o->buf) {
		if (o->n + n > o->cap)
			out_flush(o);
		if (n <= o->cap) {
			memcpy(o->buf + o->n, s, n);
			o->n += n;
			return;
		}
	}
	if (!o->bad && fwrite(s, 1, n, o->f) != n)
		o->bad = 1;
}

/* Write the NUL-terminated s unless an error is already set. */
static void out_s(struct out *o, const char *s)
{
	out_n(o, s, strlen(s));
}

/* Size of the buffer of a table writer. */
#define OUT_BUF 16384

/* Write one byte unless an error is already set. */
static void out_c(struct out *o, int c)
{
	if (o->buf && o->n < o->cap && !o->bad)
		o->buf[o->n++] = (char)c;
	else if (o->buf)
		out_n(o, &(char){ (char)c }, 1);
	else if (!o->bad && putc(c, o->f) == EOF)
		o->bad = 1;
}

/* Write n spaces. */
static void out_pad(struct out *o, size_t n)
{
	while (n-- > 0)
		out_c(o, ' ');
}

/* Flush and check the stream; return 0 or MB_EIO (as a negative code). */
static int out_finish(struct out *o, const char *what, struct mb_error *err)
{
	out_flush(o);
	if (!o->bad && fflush(o->f) == EOF)
		o->bad = 1;
	if (!o->bad && ferror(o->f))
		o->bad = 1;
	if (o->bad)
		return mb_err(err, MB_EIO, "cannot write %s: %s", what,
			errno ? strerror(errno) : "write error");
	return 0;
}

/* ---- UTF-8 ---------------------------------------------------------------- */

long emit_utf8_next(const char *str, size_t n, size_t *len)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char c = s[0];
	size_t need;
	long cp, min;

	*len = 1;
	if (c < 0x80)
		return c;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1; cp = c & 0x1F; min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2; cp = c & 0x0F; min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3; cp = c & 0x07; min = 0x10000;
	} else {
		return -1;
	}
	if (n < need + 1)
		return -1;
	for (size_t i = 1; i <= need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	/* Overlong forms, UTF-16 surrogates and values past U+10FFFF are invalid. */
	if (cp < min || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
		return -1;
	*len = need + 1;
	return cp;
}

/* Non-zero for characters the console writer turns into a space: C0/C1
 * controls, DEL and the Unicode line/paragraph separators. */
static int is_control(long cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029;
}

/* Non-zero for bidi embedding, override and isolate controls, which could
 * reorder the rest of a console line; the console writer drops them. */
static int is_bidi_control(long cp)
{
	return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Display columns of a printable code point: 0 for combining marks and
 * invisible format characters, 2 for East Asian wide/fullwidth, else 1.
 * The ranges are the common blocks, not the whole of Unicode's EastAsianWidth. */
static int cp_width(long cp)
{
	static const long zero[][2] = {
		{0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x0610, 0x061A},
		{0x064B, 0x065F}, {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x200B, 0x200F},
		{0x202A, 0x202E}, {0x2060, 0x2064}, {0x2066, 0x206F}, {0x20D0, 0x20FF},
		{0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xFEFF, 0xFEFF},
	};
	static const long wide[][2] = {
		{0x1100, 0x115F}, {0x2E80, 0x303E}, {0x3041, 0x33FF}, {0x3400, 0x4DBF},
		{0x4E00, 0x9FFF}, {0xA000, 0xA4CF}, {0xAC00, 0xD7A3}, {0xF900, 0xFAFF},
		{0xFE30, 0xFE4F}, {0xFF00, 0xFF60}, {0xFFE0, 0xFFE6}, {0x1F300, 0x1F64F},
		{0x1F900, 0x1F9FF}, {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
	};

	for (size_t i = 0; i < ARRAY_SIZE(zero); i++)
		if (cp >= zero[i][0] && cp <= zero[i][1])
			return 0;
	for (size_t i = 0; i < ARRAY_SIZE(wide); i++)
		if (cp >= wide[i][0] && cp <= wide[i][1])
			return 2;
	return 1;
}

size_t emit_text_width(const char *s)
{
	size_t n, w = 0, len;

	if (!s)
		return 0;
	n = strlen(s);
	for (size_t i = 0; i < n; i += len) {
		long cp = emit_utf8_next(s + i, n - i, &len);

		if (cp < 0 || is_control(cp))
			w += 1;
		else
			w += (size_t)cp_width(cp);
	}
	return w;
}

/* Write s for a console: controls → space, invalid bytes → '?', bidi
 * controls dropped; the width matches emit_text_width. */
static void out_text_clean(struct out *o, const char *s)
{
	size_t n = strlen(s), len;

	for (size_t i = 0; i < n; i += len) {
		long cp = emit_utf8_next(s + i, n - i, &len);

		if (cp < 0)
			out_c(o, '?');
		else if (is_control(cp))
			out_c(o, ' ');
		else if (!is_bidi_control(cp))
			out_n(o, s + i, len);
	}
}

int emit_text_clean(const char *s, FILE *f, struct mb_error *err)
{
	struct out o = { .f = f };

	errno = 0;
	if (s)
		out_text_clean(&o, s);
	if (o.bad)
		return mb_err(err, MB_EIO, "cannot write text: %s",
			      errno ? strerror(errno) : "write error");
	return 0;
}

/* ---- tables --------------------------------------------------------------- */

/* A block of a table's text store; blocks are never moved, so a cell's text
 * stays where it is while rows are added. */
struct table_text_block {
	struct table_text_block *next; /* the block filled before this one */
	size_t used;                   /* bytes of data taken */
	size_t cap;                    /* bytes of data */
	char data[];                   /* the strings, NUL-terminated, end to end */
};

/* Bytes of the first block of a text store; each later one is twice the last
 * (up to TEXT_BLOCK_MAX), or as large as one string needs. */
#define TEXT_BLOCK_MIN 4096
#define TEXT_BLOCK_MAX (1024 * 1024)

/* A copy of the n bytes at s (plus a NUL) in t's text store, or NULL. */
static char *text_copy(struct table *t, const char *s, size_t n)
{
	struct table_text_block *b = t->text;
	char *d;

	if (!b || b->cap - b->used < n + 1) {
		size_t cap = b ? (b->cap < TEXT_BLOCK_MAX ? 2 * b->cap : b->cap) : TEXT_BLOCK_MIN;

		if (cap < n + 1)
			cap = n + 1;
		b = malloc(offsetof(struct table_text_block, data) + cap);
		if (!b)
			return NULL;
		b->next = t->text;
		b->used = 0;
		b->cap = cap;
		t->text = b;
	}
	d = b->data + b->used;
	memcpy(d, s, n);
	d[n] = '\0';
	b->used += n + 1;
	return d;
}

/* Duplicate s (NULL stays NULL); set *fail on allocation failure. */
static char *dup_or_null(const char *s, int *fail)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*fail = 1;
	return d;
}

int table_init(struct table *t, const char *title, const char *const *cols,
	size_t ncols, struct mb_error *err)
{
	int fail = 0;

	memset(t, 0, sizeof(*t));
	if (ncols == 0 || !cols)
		return mb_err(err, MB_EUSAGE, "a table needs at least one column");
	for (size_t c = 0; c < ncols; c++)
		if (!cols[c])
			return mb_err(err, MB_EUSAGE, "table column %zu has no name", c);
	t->cols = calloc(ncols, sizeof(*t->cols));
	if (!t->cols)
		goto nomem;
	t->ncols = ncols;
	t->title = dup_or_null(title, &fail);
	for (size_t c = 0; c < ncols; c++)
		t->cols[c] = dup_or_null(cols[c], &fail);
	if (fail)
		goto nomem;
	return 0;
nomem:
	table_release(t);
	return mb_err(err, MB_ENOMEM, "out of memory building a table");
}

void table_release(struct table *t)
{
	if (!t)
		return;
	while (t->text) {
		struct table_text_block *next = t->text->next;

		free(t->text);
		t->text = next;
	}
	free(t->cells);
	for (size_t c = 0; t->cols && c < t->ncols; c++)
		free(t->cols[c]);
	free(t->cols);
	free(t->title);
	memset(t, 0, sizeof(*t));
}

int table_add_row(struct table *t, size_t *row, struct mb_error *err)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct table_cell *cells;

		if (cap > SIZE_MAX / t->ncols / sizeof(*cells))
			return mb_err(err, MB_ENOMEM, "table too large");
		cells = realloc(t->cells, cap * t->ncols * sizeof(*cells));
		if (!cells)
			return mb_err(err, MB_ENOMEM, "out of memory adding a table row");
		t->cells = cells;
		t->cap = cap;
	}
	memset(&t->cells[t->nrows * t->ncols], 0, t->ncols * sizeof(*t->cells));
	if (row)
		*row = t->nrows;
	t->nrows++;
	return 0;
}

/* The cell (row, col) emptied for a new value, or NULL (err set) when out of
 * range. A text it held stays in the store until the table is released. */
static struct table_cell *cell_reset(struct table *t, size_t row, size_t col,
	struct mb_error *err)
{
	struct table_cell *c;

	if (row >= t->nrows || col >= t->ncols) {
		mb_err(err, MB_EUSAGE, "table cell (%zu, %zu) out of range", row, col);
		return NULL;
	}
	c = &t->cells[row * t->ncols + col];
	memset(c, 0, sizeof(*c));
	return c;
}

int table_set_text(struct table *t, size_t row, size_t col, const char *s,
	struct mb_error *err)
{
	struct table_cell *c = cell_reset(t, row, col, err);

	if (!c)
		return -MB_EUSAGE;
	if (!s)
		return 0;
	c->text = text_copy(t, s, strlen(s));
	if (!c->text)
		return mb_err(err, MB_ENOMEM, "out of memory setting a table cell");
	c->kind = TABLE_TEXT;
	return 0;
}

int table_set_int(struct table *t, size_t row, size_t col, int64_t v,
	struct mb_error *err)
{
	struct table_cell *c = cell_reset(t, row, col, err);

	if (!c)
		return -MB_EUSAGE;
	c->kind = TABLE_INT;
	c->i = v;
	return 0;
}

int table_set_double(struct table *t, size_t row, size_t col, double v, int prec,
	struct mb_error *err)
{
	struct table_cell *c = cell_reset(t, row, col, err);

	if (!c)
		return -MB_EUSAGE;
	c->kind = TABLE_DOUBLE;
	c->d = v;
	c->prec = prec < 0 ? 0 : prec > 17 ? 17 : prec;
	return 0;
}

int table_set_blank(struct table *t, size_t row, size_t col, struct mb_error *err)
{
	return cell_reset(t, row, col, err) ? 0 : -MB_EUSAGE;
}

const char *emit_number(double v, int prec, char *buf, size_t size)
{
	if (!isfinite(v))
		return NULL;
	snprintf(buf, size, "%.*f", prec, v);
	if (buf[0] == '-' && strspn(buf + 1, "0.") == strlen(buf + 1))
		memmove(buf, buf + 1, strlen(buf));
	return buf;
}

/* Format a numeric cell into buf and return it; return NULL for a blank cell
 * (including non-finite doubles) and the cell's own text for a text cell
 * (doubles as emit_number). */
static const char *cell_str(const struct table_cell *c, char *buf, size_t size)
{
	switch (c->kind) {
	case TABLE_TEXT:
		return c->text;
	case TABLE_INT:
		snprintf(buf, size, "%" PRId64, c->i);
		return buf;
	case TABLE_DOUBLE:
		return emit_number(c->d, c->prec, buf, size);
	default:
		return NULL;
	}
}

/* Non-zero when cell c is written as a number. */
static int cell_numeric(const struct table_cell *c)
{
	return c->kind == TABLE_INT || (c->kind == TABLE_DOUBLE && isfinite(c->d));
}

/* Non-zero when column col holds at least one number and no text. */
static int col_numeric(const struct table *t, size_t col)
{
	int any = 0;

	for (size_t r = 0; r < t->nrows; r++) {
		const struct table_cell *c = &t->cells[r * t->ncols + col];

		if (c->kind == TABLE_TEXT)
			return 0;
		if (cell_numeric(c))
			any = 1;
	}
	return any;
}

/* Size of the buffer a formatted number needs ("%.17f" of 1e308 is ~330 bytes). */
#define NUM_BUF 400

/* ---- CSV ------------------------------------------------------------------- */

/* Non-zero when the n bytes at s are an unsigned decimal number: digits with
 * at most one point (a digit on one side at least), then an optional exponent. */
static int plain_number(const char *s, size_t n)
{
	size_t i = 0, digits = 0;

	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++, digits++;
	if (i < n && s[i] == '.')
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
	if (!digits)
		return 0;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t e = 0;

		if (++i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			e++;
		if (!e)
			return 0;
	}
	return i == n;
}

/* Non-zero when the n bytes at s start like a formula (see table_write_csv). */
static int formula_like_n(const char *s, size_t n)
{
	static const char *const wide[] = {
		"\xef\xbc\x9d", /* U+FF1D FULLWIDTH EQUALS SIGN */
		"\xef\xbc\x8b", /* U+FF0B FULLWIDTH PLUS SIGN */
		"\xef\xbc\x8d", /* U+FF0D FULLWIDTH HYPHEN-MINUS */
		"\xef\xbc\xa0", /* U+FF20 FULLWIDTH COMMERCIAL AT */
	};

	if (!s || !n)
		return 0;
	/* a lone "-" (the "no flag" cell) and a plain signed number ("-3",
	 * "+1.5e-3") are data to a spreadsheet, not formulas: prefixing them
	 * would turn a number into text */
	if ((s[0] == '-' || s[0] == '+') && (n == 1 ? s[0] == '-' : plain_number(s + 1, n - 1)))
		return 0;
	/* OWASP "CSV injection": cells starting with these are run as formulas
	 * (or DDE commands) by Excel, LibreOffice and Google Sheets. */
	if (s[0] && strchr("=+-@\t\r\n", s[0]))
		return 1;
	for (size_t i = 0; n >= 3 && i < ARRAY_SIZE(wide); i++)
		if (memcmp(s, wide[i], 3) == 0)
			return 1;
	return 0;
}

int emit_csv_formula_like(const char *s)
{
	return formula_like_n(s, s ? strlen(s) : 0);
}

/* Write the n bytes at s as a CSV field; neutralise only when text is set
 * (numbers are written as they are). */
static void out_csv_field(struct out *o, const char *s, size_t n, int text)
{
	const char *p, *q, *end = s + n;
	int neutral, quote = 0;

	if (!s)
		return;
	neutral = text && formula_like_n(s, n);
	for (size_t i = 0; i < n && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
	if (quote)
		out_c(o, '"');
	if (neutral)
		out_c(o, '\'');
	if (!quote) { /* no '"' to double either */
		out_n(o, s, n);
		return;
	}
	for (p = s; (q = memchr(p, '"', (size_t)(end - p))); p = q + 1) {
		out_n(o, p, (size_t)(q + 1 - p));
		out_c(o, '"');
	}
	out_n(o, p, (size_t)(end - p));
	out_c(o, '"');
}

int emit_csv_field_n(const char *s, size_t n, FILE *f, struct mb_error *err)
{
	struct out o = { .f = f };

	errno = 0;
	out_csv_field(&o, s, s ? n : 0, 1);
	if (o.bad)
		return mb_err(err, MB_EIO, "cannot write csv field: %s",
			      errno ? strerror(errno) : "write error");
	return 0;
}

int emit_csv_field(const char *s, FILE *f, struct mb_error *err)
{
	return emit_csv_field_n(s, s ? strlen(s) : 0, f, err);
}

int table_write_csv(const struct table *t, FILE *f, struct mb_error *err)
{
	char ob[OUT_BUF];
	struct out o = { .f = f, .buf = ob, .cap = sizeof(ob) };
	char buf[NUM_BUF];

	errno = 0;
	for (size_t c = 0; c < t->ncols; c++) {
		if (c)
			out_c(&o, ',');
		out_csv_field(&o, t->cols[c], t->cols[c] ? strlen(t->cols[c]) : 0, 1);
	}
	out_c(&o, '\n');
	for (size_t r = 0; r < t->nrows && !o.bad; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const struct table_cell *cell = &t->cells[r * t->ncols + c];

			if (c)
				out_c(&o, ',');
			const char *v = cell_str(cell, buf, sizeof(buf));

			out_csv_field(&o, v, v ? strlen(v) : 0, cell->kind == TABLE_TEXT);
		}
		out_c(&o, '\n');
	}
	return out_finish(&o, "csv table", err);
}

/* ---- Markdown -------------------------------------------------------------- */

/* Write s as Markdown inline text: CommonMark backslash escapes for the
 * characters that could start markup, a table break or raw HTML; line breaks
 * and tabs become spaces; other control characters, bidi controls and bytes
 * that are not UTF-8 become visible escapes (rendered "\x1b", "\u202e"), as
 * on the console (mb_shown): an ESC sequence pasted from a report or shown
 * by a terminal pager must not act. */
static void out_md_text(struct out *o, const char *s)
{
	size_t n = strlen(s), len;

	for (size_t i = 0; i < n; i += len) {
		long cp = emit_utf8_next(s + i, n - i, &len);
		char esc[16];

		if (cp == '\r' || cp == '\n' || cp == '\t') {
			out_c(o, ' ');
		} else if (cp < 0 || is_control(cp) || is_bidi_control(cp) || cp == 0x200E ||
			   cp == 0x200F) {
			/* the backslash is itself escaped: Markdown shows it */
			if (cp < 0)
				snprintf(esc, sizeof(esc), "\\\\x%02x", (unsigned char)s[i]);
			else
				snprintf(esc, sizeof(esc), cp < 0x80 ? "\\\\x%02lx" : "\\\\u%04lx", cp);
			out_s(o, esc);
		} else {
			if (cp < 0x80 && strchr("\\|<>`*_[]~&", (int)cp))
				out_c(o, '\\');
			out_n(o, s + i, len);
		}
	}
}

int emit_md_escape(const char *s, FILE *f, struct mb_error *err)
{
	struct out o = { .f = f };
	const char *p = s ? s : "";
	size_t sp = strspn(p, " \t"), d = strspn(p + sp, "0123456789");

	errno = 0;
	/* at the start of a line a name could also open a heading, a list item,
	 * a rule or a setext underline: escape that first character too */
	out_pad(&o, sp);
	p += sp;
	if (p[0] && strchr("#+-=", p[0])) {
		out_c(&o, '\\');
	} else if (d && (p[d] == '.' || p[d] == ')')) {
		out_n(&o, p, d);
		out_c(&o, '\\');
		p += d;
	}
	out_md_text(&o, p);
	if (o.bad)
		return mb_err(err, MB_EIO, "cannot write markdown: %s",
			      errno ? strerror(errno) : "write error");
	return 0;
}

int table_write_md(const struct table *t, FILE *f, struct mb_error *err)
{
	char ob[OUT_BUF];
	struct out o = { .f = f, .buf = ob, .cap = sizeof(ob) };
	char buf[NUM_BUF];

	errno = 0;
	if (t->title) {
		out_s(&o, "**");
		out_md_text(&o, t->title);
		out_s(&o, "**\n\n");
	}
	out_c(&o, '|');
	for (size_t c = 0; c < t->ncols; c++) {
		out_c(&o, ' ');
		out_md_text(&o, t->cols[c]);
		out_s(&o, " |");
	}
	out_s(&o, "\n|");
	for (size_t c = 0; c < t->ncols; c++)
		out_s(&o, col_numeric(t, c) ? " ---: |" : " --- |");
	out_c(&o, '\n');
	for (size_t r = 0; r < t->nrows && !o.bad; r++) {
		out_c(&o, '|');
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = cell_str(&t->cells[r * t->ncols + c], buf, sizeof(buf));

			out_c(&o, ' ');
			out_md_text(&o, s ? s : BLANK_MARK);
			out_s(&o, " |");
		}
		out_c(&o, '\n');
	}
	return out_finish(&o, "markdown table", err);
}

/* ---- console text ---------------------------------------------------------- */

int table_write_text(const struct table *t, FILE *f, struct mb_error *err)
{
	char ob[OUT_BUF];
	struct out o = { .f = f, .buf = ob, .cap = sizeof(ob) };
	char buf[NUM_BUF];
	size_t *w = NULL;
	int *num = NULL;
	int rc = 0;

	errno = 0;
	w = calloc(t->ncols, sizeof(*w));
	num = calloc(t->ncols, sizeof(*num));
	if (!w || !num) {
		rc = mb_err(err, MB_ENOMEM, "out of memory writing a table");
		goto cleanup;
	}
	for (size_t c = 0; c < t->ncols; c++) {
		w[c] = emit_text_width(t->cols[c]);
		num[c] = col_numeric(t, c);
		for (size_t r = 0; r < t->nrows; r++) {
			const char *s = cell_str(&t->cells[r * t->ncols + c], buf, sizeof(buf));
			size_t cw = emit_text_width(s ? s : BLANK_MARK);

			if (cw > w[c])
				w[c] = cw;
		}
	}
	if (t->title) {
		out_text_clean(&o, t->title);
		out_c(&o, '\n');
	}
	for (size_t c = 0; c < t->ncols; c++) {
		size_t pad = w[c] - emit_text_width(t->cols[c]);

		if (c)
			out_s(&o, "  ");
		if (num[c])
			out_pad(&o, pad);
		out_text_clean(&o, t->cols[c]);
		if (!num[c] && c + 1 < t->ncols)
			out_pad(&o, pad);
	}
	out_c(&o, '\n');
	for (size_t c = 0; c < t->ncols; c++) {
		if (c)
			out_s(&o, "  ");
		for (size_t i = 0; i < w[c]; i++)
			out_c(&o, '-');
	}
	out_c(&o, '\n');
	for (size_t r = 0; r < t->nrows && !o.bad; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = cell_str(&t->cells[r * t->ncols + c], buf, sizeof(buf));
			size_t pad;

			if (!s)
				s = BLANK_MARK;
			pad = w[c] - emit_text_width(s);
			if (c)
				out_s(&o, "  ");
			if (num[c])
				out_pad(&o, pad);
			out_text_clean(&o, s);
			if (!num[c] && c + 1 < t->ncols)
				out_pad(&o, pad);
		}
		out_c(&o, '\n');
	}
	rc = out_finish(&o, "text table", err);
cleanup:
	free(w);
	free(num);
	return rc;
}

int table_write_console(const struct table *t, int max_prec, size_t max_rows, FILE *f,
			struct mb_error *err)
{
	struct table v = *t;
	size_t n = t->nrows < max_rows ? t->nrows : max_rows;
	struct table_cell *cells = malloc((n * t->ncols + 1) * sizeof(*cells));
	int rc;

	if (!cells)
		return mb_err(err, MB_ENOMEM, "out of memory writing a table");
	/* a view: the same texts, fewer rows, doubles rounded for reading */
	if (n) /* an empty table has no cells (NULL): memcpy must not see it */
		memcpy(cells, t->cells, n * t->ncols * sizeof(*cells));
	for (size_t i = 0; i < n * t->ncols; i++)
		if (cells[i].kind == TABLE_DOUBLE && cells[i].prec > max_prec)
			cells[i].prec = max_prec;
	v.cells = cells;
	v.nrows = n;
	rc = table_write_text(&v, f, err);
	free(cells);
	return rc;
}


/* ---- HTML ------------------------------------------------------------------ */

/* Write s with the five HTML-significant characters as entities. */
static void out_html(struct out *o, const char *s)
{
	for (const char *p = s; p && *p; p++) {
		switch (*p) {
		case '&': out_s(o, "&amp;"); break;
		case '<': out_s(o, "&lt;"); break;
		case '>': out_s(o, "&gt;"); break;
		case '"': out_s(o, "&quot;"); break;
		case '\'': out_s(o, "&#39;"); break;
		default: out_c(o, *p); break;
		}
	}
}

int emit_html_escape(const char *s, FILE *f, struct mb_error *err)
{
	struct out o = { .f = f };

	errno = 0;
	out_html(&o, s);
	if (o.bad)
		return mb_err(err, MB_EIO, "cannot write html: %s",
			errno ? strerror(errno) : "write error");
	return 0;
}

int table_write_html(const struct table *t, FILE *f, struct mb_error *err)
{
	char ob[OUT_BUF];
	struct out o = { .f = f, .buf = ob, .cap = sizeof(ob) };
	char buf[NUM_BUF];

	errno = 0;
	out_s(&o, "<table>\n");
	if (t->title) {
		out_s(&o, "<caption>");
		out_html(&o, t->title);
		out_s(&o, "</caption>\n");
	}
	out_s(&o, "<thead><tr>");
	for (size_t c = 0; c < t->ncols; c++) {
		out_s(&o, "<th scope=\"col\">");
		out_html(&o, t->cols[c]);
		out_s(&o, "</th>");
	}
	out_s(&o, "</tr></thead>\n<tbody>\n");
	for (size_t r = 0; r < t->nrows && !o.bad; r++) {
		out_s(&o, "<tr>");
		for (size_t c = 0; c < t->ncols; c++) {
			const struct table_cell *cell = &t->cells[r * t->ncols + c];
			const char *s = cell_str(cell, buf, sizeof(buf));

			out_s(&o, cell_numeric(cell) ? "<td class=\"num\">" : "<td>");
			out_html(&o, s ? s : BLANK_MARK);
			out_s(&o, "</td>");
		}
		out_s(&o, "</tr>\n");
	}
	out_s(&o, "</tbody>\n</table>\n");
	return out_finish(&o, "html table", err);
}
