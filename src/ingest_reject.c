/*
 * ingest_reject — how a row is refused: its reason with file, line and column,
 * and its text re-quoted as CSV for the rejects table. The parser (malformed
 * CSV) and the row validators (bad values) both report through it; it depends
 * on neither, so they form no ring.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest_internal.h"

int needs_quote(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] == ',' || p[i] == '"' || p[i] == '\n' || p[i] == '\r')
			return 1;
	return 0;
}

uint32_t field_col(const struct pfile *f, int i)
{
	size_t col = 1;
	int n = f->nf < MAX_FIELDS ? f->nf : MAX_FIELDS;

	for (int j = 0; j < i && j < n; j++) {
		size_t len = f->flen[j];

		if (needs_quote(fld(f, j), len)) {
			len += 2;
			for (size_t k = 0; k < f->flen[j]; k++)
				len += fld(f, j)[k] == '"';
		}
		col += len + 1;
	}
	return (uint32_t)col;
}

/* Reconstruct the row as CSV text into the batch arena (offset-pointer). */
static const char *row_raw(struct pfile *f, size_t *raw_len)
{
	size_t cap = 16;
	int n = f->nf < MAX_FIELDS ? f->nf : MAX_FIELDS;

	for (int j = 0; j < n; j++)
		cap += 2 * f->flen[j] + 3;
	char *tmp = malloc(cap);

	if (!tmp) {
		f->oom = 1;
		return NULL;
	}
	size_t o = 0;

	for (int j = 0; j < n; j++) {
		const char *p = fld(f, j);
		size_t len = f->flen[j];

		if (j)
			tmp[o++] = ',';
		if (needs_quote(p, len)) {
			tmp[o++] = '"';
			for (size_t k = 0; k < len; k++) {
				if (p[k] == '"')
					tmp[o++] = '"';
				tmp[o++] = p[k];
			}
			tmp[o++] = '"';
		} else {
			memcpy(tmp + o, p, len);
			o += len;
		}
	}
	const char *r = astr(f->b, tmp, o, &f->oom);

	free(tmp);
	*raw_len = o;
	return r;
}

void reject(struct pfile *f, uint32_t line, uint32_t col, int duplicate, const char *fmt, ...)
{
	char reason[512];
	va_list ap;
	struct rec_reject *j;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (VEC_PUSH(f->b->rejects, j)) {
		f->oom = 1;
		return;
	}
	j->line = line;
	j->col = col;
	j->duplicate = duplicate;
	if (!duplicate) {
		f->rej_line = line;
		f->rej_col = col;
	}
	j->reason = astr(f->b, reason, strlen(reason), &f->oom);
	j->raw = row_raw(f, &j->raw_len);
	if (duplicate)
		f->st.rows_duplicate++;
	else
		f->st.rows_rejected++;
}
