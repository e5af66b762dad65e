/* csvtab — the one reader for small CSV inputs. See include/microbeat/csvtab.h. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "microbeat/csvtab.h"
#include "microbeat/util.h"

/* Largest file read (bytes): small inputs are read whole; a national
 * gazetteer is a few tens of megabytes. */
#define CSVTAB_FILE_MAX ((size_t)1 << 30)

/* Parser state over one buffer. */
struct cparse {
	const char *buf;        /* the bytes */
	size_t n;               /* their number */
	size_t i;               /* next byte */
	long line;              /* physical line of byte i */
	size_t lstart;          /* offset of that line's first byte */
	char *scratch;          /* a quoted field being unescaped */
	size_t scap;            /* bytes allocated in scratch */
	char **f;               /* fields of the row being read */
	struct csvtab_pos *pos; /* their places */
	size_t nf, fcap;        /* fields read / allocated */
	struct csvtab *t;       /* the table filled */
	struct mb_error *err;   /* where a problem goes */
	csvtab_row_fn sink;     /* data rows go here, not to t->rows (csvtab_scan), or NULL */
	void *ctx;              /* the sink's own argument */
	char *rb;               /* sink mode: the data row's fields, NUL-separated (no malloc a field) */
	size_t rbn, rbcap;      /* bytes used / allocated in rb */
	size_t *off;            /* sink mode: where each field starts in rb (rb may move) */
	size_t ocap;            /* offsets allocated */
};

size_t csvtab_bom(const char *s, size_t n)
{
	return n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

/* Bytes of the valid UTF-8 sequence of at least two bytes at p[0..n) (p[0]
 * >= 0x80), or 0 when it is invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0], min;
	size_t k;

	if ((c & 0xE0) == 0xC0) {
		k = 1, min = 0x80, c &= 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		k = 2, min = 0x800, c &= 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		k = 3, min = 0x10000, c &= 0x07;
	} else {
		return 0;
	}
	if (k >= n)
		return 0;
	for (size_t j = 1; j <= k; j++) {
		if ((p[j] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (p[j] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	return k + 1;
}

size_t csvtab_utf8_bad(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if (!(k = utf8_seq(p + i, n - i)))
			return i;
		i += k;
	}
	return n;
}

int csvtab_number(const char *s, double *v)
{
	const char *p = s;
	char *end;
	size_t digits = 0;

	if (*p == '+' || *p == '-')
		p++;
	for (; *p >= '0' && *p <= '9'; p++)
		digits++;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			digits++;
	if (!digits)
		return -1;
	if (*p == 'e' || *p == 'E') {
		size_t ed = 0;

		p++;
		if (*p == '+' || *p == '-')
			p++;
		for (; *p >= '0' && *p <= '9'; p++)
			ed++;
		if (!ed)
			return -1;
	}
	if (*p)
		return -1;
	errno = 0;
	*v = strtod(s, &end);
	if (*end)
		return -1;
	/* out of range: an overflow (inf), a subnormal (1e-320: strtod says ERANGE),
	 * or a non-zero text that underflowed to 0 */
	if (!isfinite(*v) || (*v != 0 && fabs(*v) < DBL_MIN))
		return -2;
	if (*v == 0)
		for (const char *q = s; *q && *q != 'e' && *q != 'E'; q++)
			if (*q >= '1' && *q <= '9')
				return -2;
	return 0;
}

int csvtab_lsoa_code_ok(const char *s)
{
	if (strlen(s) != 9 || s[0] < 'A' || s[0] > 'Z')
		return 0;
	for (size_t i = 1; i < 9; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* Fill err with "NAME:LINE:COL: message" for byte offset off of p; return -code. */
static int at_err(const struct cparse *p, long line, size_t lstart, size_t off, int code,
		  const char *what)
{
	return mb_err(p->err, code, "%s:%ld:%zu: %s", p->t->path, line, off - lstart + 1, what);
}

/* Line and line start of byte offset off (for a byte found before parsing). */
static void locate_off(const char *buf, size_t from, size_t off, long *line, size_t *lstart)
{
	*line = 1;
	*lstart = from;
	for (size_t i = from; i < off; i++) {
		/* buf[off] is the offending byte, never a line end: buf[i + 1] is readable */
		if (buf[i] == '\n' || (buf[i] == '\r' && buf[i + 1] != '\n')) {
			(*line)++;
			*lstart = i + 1;
		}
	}
}

/* Offset of the first NUL byte or invalid UTF-8 sequence of s[0..n), or n:
 * one pass, 8 bytes a step over plain ASCII (the file may be large and
 * memory is slow: a memchr and a second pass cost ~0.1 s on a national
 * gazetteer). */
static size_t first_bad(const char *s, size_t n)
{
	const uint64_t lo = 0x0101010101010101ULL, hi = 0x8080808080808080ULL;
	size_t i = 0;

	while (i < n) {
		uint64_t w;
		size_t k;

		if (i + 8 <= n) {
			memcpy(&w, s + i, 8);
			/* no byte >= 0x80 and no zero byte (w - lo would borrow through it) */
			if (!(w & hi) && !((w - lo) & ~w & hi)) {
				i += 8;
				continue;
			}
		}
		if (!s[i])
			return i;
		if (!((unsigned char)s[i] & 0x80)) {
			i++;
			continue;
		}
		if (!(k = utf8_seq((const unsigned char *)s + i, n - i)))
			return i;
		i += k;
	}
	return n;
}

/* Refuse NUL bytes and invalid UTF-8 anywhere in the file, at their place. */
static int check_bytes(struct cparse *p, size_t from)
{
	size_t off = from + first_bad(p->buf + from, p->n - from);
	size_t lstart;
	long line;

	if (off >= p->n)
		return 0;
	locate_off(p->buf, from, off, &line, &lstart);
	return at_err(p, line, lstart, off, MB_EDATA,
		      p->buf[off] == '\0' ? "NUL byte (a binary file, or text saved as UTF-16?)"
					  : "invalid UTF-8 (save the file as UTF-8)");
}

/* Consume the line end at p->i (CRLF, LF or a lone CR). */
static void eat_eol(struct cparse *p)
{
	if (p->buf[p->i] == '\r')
		p->i++;
	if (p->i < p->n && p->buf[p->i] == '\n')
		p->i++;
	p->line++;
	p->lstart = p->i;
}

/* Append byte c to the scratch field; -1 on OOM. */
static int scratch_put(struct cparse *p, size_t *len, char c)
{
	if (*len + 1 >= p->scap && GROW(p->scratch, *len + 2, p->scap))
		return -1;
	p->scratch[(*len)++] = c;
	return 0;
}

/* Make room for n fields in the row being read; -1 on OOM. */
static int fields_room(struct cparse *p, size_t n)
{
	if (n > p->fcap) {
		size_t nc = p->fcap ? 2 * p->fcap : 16;
		char **v = realloc(p->f, nc * sizeof(*v));
		struct csvtab_pos *w;

		if (!v)
			return -1;
		p->f = v;
		if (!(w = realloc(p->pos, nc * sizeof(*w))))
			return -1;
		p->pos = w;
		p->fcap = nc;
	}
	return 0;
}

/* Sink mode: add the trimmed field s[0..len) at pos to the row buffer (one
 * copy into memory reused row after row, instead of a malloc a field). */
static int push_lent(struct cparse *p, const char *s, size_t len, struct csvtab_pos pos)
{
	if ((p->nf == p->fcap && fields_room(p, p->nf + 1)) ||
	    (p->nf == p->ocap && GROW(p->off, p->nf + 1, p->ocap)) ||
	    (p->rbn + len + 1 > p->rbcap && GROW(p->rb, p->rbn + len + 1, p->rbcap)))
		return mb_err(p->err, MB_ENOMEM, "out of memory reading '%s'", p->t->path);
	memcpy(p->rb + p->rbn, s, len);
	p->rb[p->rbn + len] = '\0';
	p->off[p->nf] = p->rbn;
	p->rbn += len + 1;
	p->pos[p->nf++] = pos;
	return 0;
}

/* Add the field s[0..len) (trimmed here) at pos to the current row. */
static int push_field(struct cparse *p, const char *s, size_t len, struct csvtab_pos pos)
{
	char *f;

	while (len && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (p->sink && p->t->head)
		return push_lent(p, s, len, pos);
	if (fields_room(p, p->nf + 1) || !(f = malloc(len + 1)))
		return mb_err(p->err, MB_ENOMEM, "out of memory reading '%s'", p->t->path);
	memcpy(f, s, len);
	f[len] = '\0';
	p->f[p->nf] = f;
	p->pos[p->nf++] = pos;
	return 0;
}

/* Read one field at p->i into the current row. */
static int read_field(struct cparse *p)
{
	struct csvtab_pos pos = { p->line, (long)(p->i - p->lstart + 1) };
	size_t start = p->i, len = 0;

	while (p->i < p->n && (p->buf[p->i] == ' ' || p->buf[p->i] == '\t'))
		p->i++;
	if (p->i < p->n && p->buf[p->i] == '"') {
		long qline = p->line;
		size_t qstart = p->lstart, qoff = p->i;

		for (p->i++;; p->i++) {
			char c;

			if (p->i >= p->n)
				return at_err(p, qline, qstart, qoff, MB_EDATA,
					      "unterminated quoted field (it opens here)");
			c = p->buf[p->i];
			if (c == '"') {
				if (p->i + 1 < p->n && p->buf[p->i + 1] == '"') {
					p->i++;
				} else {
					p->i++;
					break;
				}
			}
			if (len >= CSVTAB_FIELD_MAX)
				return mb_err(p->err, MB_EDATA, "%s:%ld:%ld: field longer than %d bytes",
					      p->t->path, pos.line, pos.col, CSVTAB_FIELD_MAX);
			if (scratch_put(p, &len, c))
				return mb_err(p->err, MB_ENOMEM, "out of memory reading '%s'",
					      p->t->path);
			if (c == '\n' || (c == '\r' && (p->i + 1 >= p->n || p->buf[p->i + 1] != '\n'))) {
				p->line++;
				p->lstart = p->i + 1;
			}
		}
		while (p->i < p->n && (p->buf[p->i] == ' ' || p->buf[p->i] == '\t'))
			p->i++;
		if (p->i < p->n && p->buf[p->i] != ',' && p->buf[p->i] != '\r' && p->buf[p->i] != '\n')
			return at_err(p, p->line, p->lstart, p->i, MB_EDATA,
				      "text after a closing quote (a quote inside a field is"
				      " written \"\")");
		return push_field(p, p->scratch ? p->scratch : "", len, pos);
	}
	for (; p->i < p->n; p->i++) {
		char c = p->buf[p->i];

		if (c == ',' || c == '\r' || c == '\n')
			break;
		if (c == '"')
			return at_err(p, p->line, p->lstart, p->i, MB_EDATA,
				      "quote inside an unquoted field (quote the whole field)");
	}
	if (p->i - start > CSVTAB_FIELD_MAX)
		return mb_err(p->err, MB_EDATA, "%s:%ld:%ld: field longer than %d bytes", p->t->path,
			      pos.line, pos.col, CSVTAB_FIELD_MAX);
	return push_field(p, p->buf + start, p->i - start, pos);
}

/* Free the fields of the current row (lent fields live in the row buffer). */
static void row_drop(struct cparse *p)
{
	for (size_t j = 0; j < p->nf && !(p->sink && p->t->head); j++)
		free(p->f[j]);
	p->nf = 0;
	p->rbn = 0;
}

/* A data row of line whose field count differs from the header's. */
static int count_err(struct cparse *p, long line)
{
	const struct csvtab *t = p->t;
	long col = p->nf > t->ncols ? p->pos[t->ncols].col : 1;
	long l = p->nf > t->ncols ? p->pos[t->ncols].line : line;

	return mb_err(p->err, MB_EDATA, "%s:%ld:%ld: this row has %zu fields, the header %zu",
		      t->path, l, col, p->nf, t->ncols);
}

/* Sink mode: point the data row's fields into the row buffer and lend the
 * row to the sink (blank lines and field counts checked as for a table). */
static int row_lend(struct cparse *p, long line)
{
	struct csvtab_row r = { p->f, p->pos, line };
	int rc = 0;

	for (size_t j = 0; j < p->nf; j++)
		p->f[j] = p->rb + p->off[j];
	if (p->nf == 1 && !p->f[0][0]) /* a blank line */
		goto done;
	if (p->nf != p->t->ncols) {
		rc = count_err(p, line);
		goto done;
	}
	rc = p->sink(p->ctx, p->t, &r, p->err);
done:
	p->nf = 0;
	p->rbn = 0;
	return rc;
}

/* Make the fields read the header or the next data row. */
static int row_end(struct cparse *p, long line)
{
	struct csvtab *t = p->t;

	if (p->sink && t->head)
		return row_lend(p, line);

	if (p->nf == 1 && !p->f[0][0]) { /* a blank line */
		row_drop(p);
		return 0;
	}
	if (!t->head) {
		t->head = p->f;
		t->head_pos = p->pos;
		t->ncols = p->nf;
		t->head_line = line;
		p->f = NULL;
		p->pos = NULL;
		p->nf = p->fcap = 0;
		return 0;
	}
	if (p->nf != t->ncols)
		return count_err(p, line);
	if (GROW(t->rows, t->nrows + 1, t->cap))
		return mb_err(p->err, MB_ENOMEM, "out of memory reading '%s'", t->path);
	struct csvtab_row *r = &t->rows[t->nrows];

	r->f = malloc(p->nf * sizeof(char *));
	r->pos = malloc(p->nf * sizeof(*r->pos));
	if (!r->f || !r->pos) {
		free(r->f);
		free(r->pos);
		return mb_err(p->err, MB_ENOMEM, "out of memory reading '%s'", t->path);
	}
	memcpy(r->f, p->f, p->nf * sizeof(char *));
	memcpy(r->pos, p->pos, p->nf * sizeof(*r->pos));
	r->line = line;
	t->nrows++;
	p->nf = 0;
	return 0;
}

/* Parse buf[0..n) into t, or lend its data rows to sink when not NULL. */
static int parse_mem(const char *name, const char *buf, size_t n, struct csvtab *t,
		     csvtab_row_fn sink, void *ctx, struct mb_error *err)
{
	struct cparse p = { .buf = buf, .n = n, .line = 1, .t = t, .err = err, .sink = sink,
			    .ctx = ctx };
	int r;

	memset(t, 0, sizeof(*t));
	if (!(t->path = strdup(name)))
		return mb_err(err, MB_ENOMEM, "out of memory");
	p.i = p.lstart = csvtab_bom(buf, n);
	if ((r = check_bytes(&p, p.i)))
		goto cleanup;
	while (p.i < p.n) {
		long line = p.line;

		for (;;) {
			if ((r = read_field(&p)))
				goto cleanup;
			if (p.i < p.n && p.buf[p.i] == ',') {
				p.i++;
				continue;
			}
			break;
		}
		if (p.i < p.n)
			eat_eol(&p);
		if ((r = row_end(&p, line)))
			goto cleanup;
	}
	if (!t->head)
		r = mb_err(err, MB_EDATA, "%s:1:1: empty file (no header)", t->path);
cleanup:
	row_drop(&p);
	free(p.f);
	free(p.pos);
	free(p.scratch);
	free(p.rb);
	free(p.off);
	if (r)
		csvtab_release(t);
	return r;
}

int csvtab_read_mem(const char *name, const char *buf, size_t n, struct csvtab *t,
		    struct mb_error *err)
{
	return parse_mem(name, buf, n, t, NULL, NULL, err);
}

/* Buffers from this size up are backed by transparent huge pages. */
#define HUGE_BYTES ((size_t)4 << 20)

/* A buffer of n bytes (n >= HUGE_BYTES) in 2 MB pages where the kernel gives
 * them: a 49 MB gazetteer otherwise takes ~12,000 page faults to read. NULL
 * on OOM; free() releases it. */
static char *huge_alloc(size_t n)
{
	void *p = NULL;

	if (posix_memalign(&p, (size_t)2 << 20, n))
		return NULL;
	madvise(p, n, MADV_HUGEPAGE);
	return p;
}

/* Read the file at path whole and parse it (into t, or lent to sink). */
static int read_file(const char *path, struct csvtab *t, csvtab_row_fn sink, void *ctx,
		     struct mb_error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, first = 65536;
	struct stat st;
	int r = 0;

	memset(t, 0, sizeof(*t));
	if (!f)
		return mb_err(err, MB_EIO, "cannot open '%s': %s", path, strerror(errno));
	/* a file of known size is read into one buffer of its size (a byte more,
	 * to see the end), not copied through doublings: 49 MB moved less */
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (size_t)st.st_size < CSVTAB_FILE_MAX)
		first = (size_t)st.st_size + 1;
	if (first >= HUGE_BYTES && !(buf = huge_alloc(first))) {
		r = mb_err(err, MB_ENOMEM, "out of memory reading '%s'", path);
		goto cleanup;
	}
	cap = buf ? first : 0;
	for (;;) {
		if (n == cap) {
			size_t nc = cap ? 2 * cap : first;
			char *v;

			if (cap >= CSVTAB_FILE_MAX) {
				r = mb_err(err, MB_EDATA, "%s: larger than %zu MB: not a small input",
					   path, CSVTAB_FILE_MAX >> 20);
				goto cleanup;
			}
			if (!(v = realloc(buf, nc))) {
				r = mb_err(err, MB_ENOMEM, "out of memory reading '%s'", path);
				goto cleanup;
			}
			buf = v;
			cap = nc;
		}
		size_t got = fread(buf + n, 1, cap - n, f);

		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		r = mb_err(err, MB_EIO, "error reading '%s': %s", path, strerror(errno));
		goto cleanup;
	}
	r = parse_mem(path, buf ? buf : "", n, t, sink, ctx, err);
cleanup:
	fclose(f);
	free(buf);
	return r;
}

int csvtab_read(const char *path, struct csvtab *t, struct mb_error *err)
{
	return read_file(path, t, NULL, NULL, err);
}

int csvtab_scan(const char *path, struct csvtab *t, csvtab_row_fn sink, void *ctx,
		struct mb_error *err)
{
	return read_file(path, t, sink, ctx, err);
}

void csvtab_release(struct csvtab *t)
{
	for (size_t i = 0; i < t->nrows; i++) {
		for (size_t j = 0; j < t->ncols; j++)
			free(t->rows[i].f[j]);
		free(t->rows[i].f);
		free(t->rows[i].pos);
	}
	for (size_t j = 0; t->head && j < t->ncols; j++)
		free(t->head[j]);
	free(t->head);
	free(t->head_pos);
	free(t->rows);
	free(t->path);
	memset(t, 0, sizeof(*t));
}

long csvtab_col(const struct csvtab *t, const char *name)
{
	for (size_t j = 0; name && j < t->ncols; j++)
		if (strcasecmp(t->head[j], name) == 0)
			return (long)j;
	return -1;
}

long csvtab_pick(const struct csvtab *t, const char *const *aliases)
{
	long c = -1;

	for (size_t i = 0; aliases && aliases[i] && c < 0; i++)
		c = csvtab_col(t, aliases[i]);
	return c;
}

/* csvtab_err() for row r, with fmt's arguments in ap. */
static int row_verr(const struct csvtab *t, const struct csvtab_row *r, long col,
		    struct mb_error *err, int code, const char *fmt, va_list ap)
{
	long line = col >= 0 ? r->pos[col].line : r->line;
	long c = col >= 0 ? r->pos[col].col : 1;
	char msg[400];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	return mb_err(err, code, "%s:%ld:%ld: %s", t->path, line, c, msg);
}

int csvtab_row_err(const struct csvtab *t, const struct csvtab_row *r, long col,
		   struct mb_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = row_verr(t, r, col, err, code, fmt, ap);
	va_end(ap);
	return rc;
}

int csvtab_err(const struct csvtab *t, size_t row, long col, struct mb_error *err, int code,
	       const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = row_verr(t, &t->rows[row], col, err, code, fmt, ap);
	va_end(ap);
	return rc;
}
