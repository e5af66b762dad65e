/*
 * assess_util — the small helpers every part of the assessment pack uses
 * (Markdown escaping, charts and steps by name, table fields, the one
 * "generated" line): they depend on no other file of the pack, so the pack's
 * files form no ring.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "assess_internal.h"
#include "microbeat/csvtab.h"
#include "microbeat/emit.h"

/* Untrusted text (names from the data) as Markdown. */
void as_md(FILE *o, const char *s)
{
	struct mb_error e = { 0 };
	emit_md_escape(s, o, &e);
}

/* A chart of step s, when it exists: ![alt](charts/STEP/FILE.svg). */
void as_chart(FILE *o, const struct run *R, const struct step *s, const char *file,
		  const char *alt)
{
	char path[4200];
	struct stat st;
	if (!s)
		return;
	snprintf(path, sizeof path, "%s/charts/%s/%s", R->tmp, s->name, file);
	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return;
	fprintf(o, "![%s](charts/%s/%s)\n\n", alt, s->name, file);
}

struct step *as_step_named(const struct run *R, const char *name)
{
	for (size_t i = 0; i < R->nsteps; i++)
		if (strcmp(R->steps[i].name, name) == 0)
			return &R->steps[i];
	return NULL;
}

/* The one "generated" line: SOURCE_DATE_EPOCH when set (reproducible builds). */
void as_generated(FILE *o, const struct run *R)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	time_t t = time(NULL);
	if (sde && *sde) {
		char *e;
		long long v = strtoll(sde, &e, 10);
		if (!*e && v >= 0)
			t = (time_t)v;
	}
	struct tm tm;
	char buf[64];
	gmtime_r(&t, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
	const char *db = strrchr(R->c->db_path, '/');
	fprintf(o, "_Generated %s by microbeat %s from the store ", buf, MB_VERSION);
	as_md(o, db ? db + 1 : R->c->db_path);
	fputs(" and `assessment.ini` (in this folder: rerun with `microbeat assess --config "
	      "assessment.ini`)._\n\n", o);
}

/* Field col of row r of t ("" when absent). */
const char *as_fld(const struct csvtab *t, size_t r, const char *col)
{
	long c = csvtab_col(t, col);
	return c < 0 || r >= t->nrows ? "" : t->rows[r].f[c];
}

void as_conc_name(size_t agency, const char *series, char *out, size_t cap)
{
	char sl[48];
	as_slug(series, sl, sizeof sl);
	if (agency)
		snprintf(out, cap, "conc-a%zu-%s", agency, sl);
	else
		snprintf(out, cap, "conc-%s", sl);
}

/* The value of measure name in a measure,value table ("" when absent). */
const char *as_measure(const struct csvtab *t, const char *name)
{
	for (size_t r = 0; r < t->nrows; r++)
		if (strcmp(as_fld(t, r, "measure"), name) == 0)
			return as_fld(t, r, "value");
	return "";
}

/* Call fn for every item of the comma list (trimmed, non-empty). */
int as_each_item(const char *list, int (*fn)(void *, const char *), void *u)
{
	const char *p = list;
	char item[256];
	while (p && *p) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		while (n && p[n - 1] == ' ')
			n--;
		if (n && n < sizeof item) {
			memcpy(item, p, n);
			item[n] = 0;
			int r = fn(u, item);
			if (r)
				return r;
		}
		p = e;
	}
	return 0;
}

double as_num(const char *s)
{
	char *e;
	if (!s || !*s)
		return NAN;
	double v = strtod(s, &e);
	return *e ? NAN : v;
}

/* Keep only [A-Za-z0-9-] of s (lower case) for a folder name. */
void as_slug(const char *s, char *out, size_t cap)
{
	size_t o = 0;
	for (; *s && o + 1 < cap; s++) {
		char ch = *s;
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
			out[o++] = ch;
		else if (o && out[o - 1] != '-')
			out[o++] = '-';
	}
	while (o && out[o - 1] == '-')
		o--;
	out[o] = 0;
	if (!o)
		snprintf(out, cap, "x");
}

/* Embed a command's Markdown output, its headings pushed under the section. */
void as_embed(FILE *o, const struct step *s)
{
	if (!s || !s->md)
		return;
	const char *p = s->md;
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p + 1) : strlen(p);
		const char *img = memchr(p, '!', n);

		if (*p == '#')
			fputs("##", o);
		/* a chart of the step's own folder ("![alt](monthly.png)", or .svg when the
		 * pack draws SVG alone): its SVG in the pack */
		if (img && img[1] == '[' && (e = memchr(img, ']', n - (size_t)(img - p))) &&
		    e[1] == '(' && !memchr(e, '/', n - (size_t)(e - p))) {
			const char *close = memchr(e, ')', n - (size_t)(e - p));
			const char *dot = close ? close - 4 : NULL;

			if (dot && dot > e && (memcmp(dot, ".png", 4) == 0 || memcmp(dot, ".svg", 4) == 0)) {
				fwrite(p, 1, (size_t)(e + 2 - p), o);
				fprintf(o, "charts/%s/", s->name);
				fwrite(e + 2, 1, (size_t)(dot - e - 2), o);
				fputs(".svg", o);
				fwrite(close, 1, n - (size_t)(close - p), o);
				p += n;
				continue;
			}
		}
		fwrite(p, 1, n, o);
		p += n;
	}
	fputs("\n\n", o);
}

/* Row of t whose column col equals v, or -1. */
long as_row_of(const struct csvtab *t, const char *col, const char *v)
{
	for (size_t r = 0; r < t->nrows; r++)
		if (strcmp(as_fld(t, r, col), v) == 0)
			return (long)r;
	return -1;
}

struct step *as_find_step(const struct run *R, const char *name)
{
	for (size_t i = 0; i < R->nsteps; i++)
		if (strcmp(R->steps[i].name, name) == 0 && R->steps[i].state == 1)
			return &R->steps[i];
	return NULL;
}

/* Read tables/NAME (0 ok; -1 absent or unreadable: the section says so). */
int as_read_table(const struct run *R, const char *name, struct csvtab *t)
{
	char path[4200];
	struct mb_error e = { 0 };
	snprintf(path, sizeof path, "%s/tables/%s", R->tmp, name);
	memset(t, 0, sizeof *t);
	return csvtab_read(path, t, &e) ? -1 : 0;
}

/* Why a step's section is empty. */
void as_missing(FILE *o, const struct step *s, const char *cmd, const char *what)
{
	if (!s) {
		fprintf(o, "_Not in this pack: %s._\n\n", what);
		return;
	}
	if (s->state == 0)
		fprintf(o, "_Not in this pack: this build of microbeat has no '%s' command._\n\n", cmd);
	else if (s->state < 0) {
		fputs("_This analysis did not run: ", o);
		as_md(o, s->why);
		fputs("._\n\n", o);
	}
}

/* Write the n bytes at p into dir/name atomically. */
int as_save(const char *dir, const char *name, const char *p, size_t n, struct mb_error *err)
{
	struct emit_file af;
	int r = emit_open_atomic(dir, name, &af, err);
	if (r)
		return r;
	if (fwrite(p, 1, n, af.fp) != n) {
		emit_abort_atomic(&af);
		return mb_err(err, MB_EIO, "%s/%s: write failed: %s", dir, name, strerror(errno));
	}
	return emit_commit_atomic(&af, err);
}

void as_pct(FILE *o, const char *share)
{
	double v = as_num(share);
	if (isnan(v))
		fputs("–", o);
	else
		fprintf(o, "%.1f%%", 100.0 * v);
}
