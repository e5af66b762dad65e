/*
 * cmd_assess — 'microbeat assess': the strategic assessment pack. Runs the
 * analyses in-process (a table of steps: command, argv from the config, the
 * files it contributes), each into charts/STEP/ of the pack, moves their CSV
 * tables to tables/, then writes report.md from those tables and the
 * commands' own Markdown, and report.html from report.md (assess_html.c).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "microbeat/assess.h"
#include "microbeat/cli.h"
#include "microbeat/csvtab.h"
#include "microbeat/disclosure.h"
#include "microbeat/emit.h"
#include "microbeat/select.h"

/* A growing argv of owned strings. */
struct argvb {
	char **v;      /* the strings, NULL-terminated */
	size_t n, cap; /* used and allocated (cap counts the NULL) */
};

/* One analysis run for the pack. */
struct step {
	const char *cmd;  /* command name (static) */
	char name[64];    /* folder under charts/ and prefix of its tables ("" = no --out) */
	char title[200];  /* shown on the terminal */
	struct argvb av;  /* its argv */
	int state;        /* 1 ran, 0 not in this build, -1 failed */
	char *md;         /* its standard output (Markdown or CSV), owned */
	size_t mdlen;     /* bytes in md */
	char why[600];    /* why it failed */
	int no_out;       /* writes no folder (its standard output is the result) */
};

/* The assessment being built. */
struct run {
	struct cli *c;                   /* global context */
	const struct assess_config *cfg; /* the assessment */
	char *tmp;                       /* the pack being written */
	char cur_from[16], cur_to[16];     /* the assessment period (12 months) */
	char win_from[16], win_to[16];     /* the 24 months that end with it (change) */
	char label[64];                  /* the period in words */
	struct step *steps;              /* steps planned so far */
	size_t nsteps, cap;              /* used and allocated */
	size_t done;                     /* steps already run */
	int defaults_used;               /* no --config */
};

static int av_add(struct argvb *a, const char *s)
{
	if (a->n + 2 > a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 16;
		char **p = realloc(a->v, nc * sizeof *p);
		if (!p)
			return -1;
		a->v = p;
		a->cap = nc;
	}
	if (!(a->v[a->n] = strdup(s)))
		return -1;
	a->n++;
	a->v[a->n] = NULL;
	return 0;
}

static void av_free(struct argvb *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof *a);
}

/* Plan a new step of command cmd; NULL on memory failure. */
static struct step *new_step(struct run *R, const char *cmd, const char *name, const char *title)
{
	if (R->nsteps == R->cap) {
		size_t nc = R->cap ? R->cap * 2 : 16;
		struct step *p = realloc(R->steps, nc * sizeof *p);
		if (!p)
			return NULL;
		R->steps = p;
		R->cap = nc;
	}
	struct step *s = &R->steps[R->nsteps++];
	memset(s, 0, sizeof *s);
	s->cmd = cmd;
	snprintf(s->name, sizeof s->name, "%s", name);
	snprintf(s->title, sizeof s->title, "%s", title);
	if (av_add(&s->av, cmd)) {
		R->nsteps--;
		return NULL;
	}
	return s;
}

/* Append argument pairs (NULL-terminated list of strings) to s. */
static int args(struct step *s, ...)
{
	va_list ap;
	const char *a;
	int r = 0;
	va_start(ap, s);
	while ((a = va_arg(ap, const char *)))
		if (av_add(&s->av, a))
			r = -1;
	va_end(ap);
	return r;
}

/* The selectors every step shares: area, period, gaps. */
static int common_args(const struct run *R, struct step *s, int window)
{
	const struct assess_config *cfg = R->cfg;
	if (cfg->area && args(s, "--area", cfg->area, NULL))
		return -1;
	if (args(s, "--from", window ? R->win_from : R->cur_from, "--to",
		 window ? R->win_to : R->cur_to, NULL))
		return -1;
	if (cfg->allow_gaps && args(s, "--allow-gaps", NULL))
		return -1;
	return 0;
}

/* The --out folder of step s inside the pack. */
static int out_args(const struct run *R, struct step *s)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/charts/%s", R->tmp, s->name);
	return args(s, "--format", "md", "--out", dir, NULL);
}

/* Keep only [A-Za-z0-9-] of s (lower case) for a folder name. */
static void slug(const char *s, char *out, size_t cap)
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

static int read_table(const struct run *R, const char *name, struct csvtab *t);
static const char *fld(const struct csvtab *t, size_t r, const char *col);
static double num(const char *s);

#define NOMEM(R) mb_err(err, MB_ENOMEM, "out of memory")

/* ---- the steps: one plan function per entry of STEPS ---------------------- */

static int plan_info(struct run *R, const char *cmd, struct mb_error *err)
{
	if (!new_step(R, cmd, "", "data quality: what the store holds"))
		return NOMEM(R);
	return 0;
}

static int plan_concentration(struct run *R, const char *cmd, struct mb_error *err)
{
	struct step *s = new_step(R, cmd, "concentration", "micro-beats: concentration and the power few");
	if (!s || common_args(R, s, 0) || args(s, "--compare-previous", NULL))
		return NOMEM(R);
	if (R->cfg->harm) {
		char h[4200];
		snprintf(h, sizeof h, "--harm=%s", R->cfg->harm);
		if (args(s, h, NULL))
			return NOMEM(R);
	} else if (args(s, "--harm", NULL)) {
		return NOMEM(R);
	}
	if (R->cfg->layer && args(s, "--by", R->cfg->layer, NULL))
		return NOMEM(R);
	return out_args(R, s) ? NOMEM(R) : 0;
}

static int plan_scan(struct run *R, const char *cmd, struct mb_error *err)
{
	struct step *s = new_step(R, cmd, "scan", "trends: every crime type (scanning matrix)");
	if (!s || common_args(R, s, 1) || args(s, "--by", "type", "--fdr", R->cfg->fdr, NULL))
		return NOMEM(R);
	if (R->cfg->primary && args(s, "--primary", R->cfg->primary, NULL))
		return NOMEM(R);
	return out_args(R, s) ? NOMEM(R) : 0;
}

/* Does the comma list have name as an item (before index upto)? */
static int in_list(const char *list, const char *name, size_t len)
{
	const char *p = list;
	while (p && *p) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		while (n && p[n - 1] == ' ')
			n--;
		if (n == len && strncmp(p, name, len) == 0)
			return 1;
		p = e;
	}
	return 0;
}

/* Call fn for every item of the comma list (trimmed, non-empty). */
static int each_item(const char *list, int (*fn)(void *, const char *), void *u)
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

/* Carrier for plan_themes' per-item callback. */
struct theme_plan {
	struct run *R;       /* the run */
	const char *cmd;     /* command */
	const char *seen;    /* themes already planned (the first list) */
	int check_seen;      /* skip items in seen */
};

static int plan_one_theme(void *u, const char *theme)
{
	struct theme_plan *tp = u;
	if (tp->check_seen && in_list(tp->seen, theme, strlen(theme)))
		return 0;
	char name[64], sl[48], title[200];
	slug(theme, sl, sizeof sl);
	snprintf(name, sizeof name, "theme-%s", sl);
	for (size_t i = 0; i < tp->R->nsteps; i++)
		if (strcmp(tp->R->steps[i].name, name) == 0)
			return 0;
	snprintf(title, sizeof title, "trends: theme %s", theme);
	struct step *s = new_step(tp->R, tp->cmd, name, title);
	if (!s || common_args(tp->R, s, 1) ||
	    args(s, "--theme", theme, "--by", "type", "--fdr", tp->R->cfg->fdr, NULL) ||
	    out_args(tp->R, s))
		return -1;
	return 0;
}

static int plan_themes(struct run *R, const char *cmd, struct mb_error *err)
{
	struct theme_plan tp = { R, cmd, R->cfg->themes, 0 };
	if (each_item(R->cfg->themes, plan_one_theme, &tp))
		return NOMEM(R);
	tp.check_seen = 1;
	if (each_item(R->cfg->prev_themes, plan_one_theme, &tp))
		return NOMEM(R);
	return 0;
}

/* Concentration of each crime type of the scan (its stdout: the measures). */
static int plan_conc_types(struct run *R, const char *cmd, struct mb_error *err)
{
	struct csvtab y;
	if (read_table(R, "scan-yoy.csv", &y))
		return 0;
	for (size_t r = 0; r < y.nrows; r++) {
		const char *series = fld(&y, r, "series");
		if (strcmp(series, "Total") == 0 ||
		    (num(fld(&y, r, "last12")) == 0 && num(fld(&y, r, "prev12")) == 0))
			continue; /* nothing to concentrate (left out of the matrix too) */
		char name[64], sl[48], title[200];
		slug(series, sl, sizeof sl);
		snprintf(name, sizeof name, "conc-%s", sl);
		snprintf(title, sizeof title, "micro-beats: %s", series);
		struct step *s = new_step(R, cmd, name, title);
		if (!s || common_args(R, s, 0) ||
		    args(s, "--types", series, "--no-charts", "--format", "csv", "--chance-draws", "20",
			 NULL)) {
			csvtab_release(&y);
			return NOMEM(R);
		}
		s->no_out = 1;
	}
	csvtab_release(&y);
	return 0;
}

static int plan_flags(struct run *R, const char *cmd, struct mb_error *err)
{
	if (!R->cfg->layer)
		return 0; /* no layer: no geographic priorities (said in the report) */
	struct step *s = new_step(R, cmd, "flags", "priorities: places flagged on several categories");
	if (!s || args(s, "--layer", R->cfg->layer, NULL) || common_args(R, s, 1) ||
	    args(s, "--fdr", R->cfg->fdr, "--rr-threshold", R->cfg->rr_threshold, "--min-flags",
		 R->cfg->min_flags, "--top", R->cfg->top, NULL))
		return NOMEM(R);
	if (R->cfg->harm && args(s, "--harm", R->cfg->harm, NULL))
		return NOMEM(R);
	return out_args(R, s) ? NOMEM(R) : 0;
}

static int plan_deepdives(struct run *R, const char *cmd, struct mb_error *err)
{
	for (size_t i = 0; i < R->cfg->ndives; i++) {
		const struct assess_dive *d = &R->cfg->dives[i];
		char name[64], sl[48], title[200];
		slug(d->name, sl, sizeof sl);
		snprintf(name, sizeof name, "deepdive-%s", sl);
		snprintf(title, sizeof title, "deep dive: %s", d->name);
		struct step *s = new_step(R, cmd, name, title);
		if (!s)
			return NOMEM(R);
		if (d->layer && args(s, "--layer", d->layer, NULL))
			return NOMEM(R);
		if (args(s, "--area", d->area ? d->area : R->cfg->area ? R->cfg->area : "all", NULL))
			return NOMEM(R);
		if (args(s, "--from", R->cur_from, "--to", R->cur_to, NULL))
			return NOMEM(R);
		if (R->cfg->allow_gaps && args(s, "--allow-gaps", NULL))
			return NOMEM(R);
		if (d->theme && args(s, "--theme", d->theme, NULL))
			return NOMEM(R);
		if (d->types && args(s, "--types", d->types, NULL))
			return NOMEM(R);
		if (out_args(R, s))
			return NOMEM(R);
	}
	return 0;
}

static int plan_hotspots(struct run *R, const char *cmd, struct mb_error *err)
{
	struct step *s = new_step(R, cmd, "hotspots", "hotspots: Gi* and the forecast");
	char dir[4096];

	if (!s)
		return NOMEM(R);
	/* hotspots has no --format: its console text is a plain summary */
	snprintf(dir, sizeof dir, "%s/charts/%s", R->tmp, s->name);
	if (common_args(R, s, 1) || args(s, "--out", dir, NULL))
		return NOMEM(R);
	return 0;
}

/* The analyses of the pack, in order. Adding one is one entry: the command,
 * and a plan function that builds its argv from the config (several steps
 * for a list); its tables and charts land in tables/ and charts/ by the
 * step's name, and the report renders its section when they exist. A
 * command missing from this build is named in the report, not an error. */
static const struct step_kind {
	const char *cmd; /* command name in cli.c's table */
	int (*plan)(struct run *R, const char *cmd, struct mb_error *err); /* builds its steps */
} STEPS[] = {
	{ "info", plan_info },
	{ "concentration", plan_concentration },
	{ "trends", plan_scan },
	{ "concentration", plan_conc_types },
	{ "trends", plan_themes },
	{ "flags", plan_flags },
	{ "deepdive", plan_deepdives },
	{ "hotspots", plan_hotspots },
};

/* ---- running the steps ------------------------------------------------------ */

static int path_join(char *out, size_t cap, const char *a, const char *b)
{
	int n = snprintf(out, cap, "%s/%s", a, b);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Move step s's CSV tables to tables/NAME-FILE.csv and its GeoJSON to the
 * pack's top (the power few as hot_streets.geojson); drop its pack marker. */
static int collect(struct run *R, struct step *s, struct mb_error *err)
{
	char dir[4096], from[4600], to[4600];
	snprintf(dir, sizeof dir, "%s/charts/%s", R->tmp, s->name);
	DIR *d = opendir(dir);
	if (!d)
		return 0; /* wrote nothing */
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **p = realloc(names, cap * sizeof *p);
			if (!p) {
				r = NOMEM(R);
				break;
			}
			names = p;
		}
		if (!(names[n] = strdup(de->d_name))) {
			r = NOMEM(R);
			break;
		}
		n++;
	}
	closedir(d);
	if (!r)
		qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; !r && i < n; i++) {
		const char *f = names[i];
		size_t len = strlen(f);
		if (path_join(from, sizeof from, dir, f)) {
			r = mb_err(err, MB_EUSAGE, "%s/%s: path too long", dir, f);
			break;
		}
		if (strcmp(f, EMIT_PACK_MARKER) == 0) {
			unlink(from);
			continue;
		}
		if (len > 4 && strcmp(f + len - 4, ".csv") == 0)
			snprintf(to, sizeof to, "%s/tables/%s-%s", R->tmp, s->name, f);
		else if (len > 8 && strcmp(f + len - 8, ".geojson") == 0)
			snprintf(to, sizeof to, "%s/%s%s%s", R->tmp,
				 strcmp(s->name, "concentration") ? s->name : "",
				 strcmp(s->name, "concentration") ? "-" : "", f);
		else
			continue;
		if (rename(from, to))
			r = mb_err(err, MB_EIO, "%s: cannot move into the pack: %s", from,
				   strerror(errno));
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

/* Run step s in-process; a failure is recorded in s (and said), not fatal. */
static int run_step(struct run *R, struct step *s, size_t k, struct mb_error *err)
{
	const struct cli_command *cmd = cli_find(s->cmd);
	if (!cmd) {
		s->state = 0;
		return 0;
	}
	if (!R->c->quiet)
		fprintf(R->c->msg, "assess: [%zu] %s\n", k, s->title);
	FILE *mf = open_memstream(&s->md, &s->mdlen);
	if (!mf)
		return NOMEM(R);
	struct cli sub = *R->c;
	struct mb_error e = { 0 };
	sub.out = mf;
	sub.quiet = 1;
	optind = 0;
	int r = cmd->run(&sub, (int)s->av.n, s->av.v, &e);
	if (fclose(mf))
		r = r ? r : -MB_ENOMEM;
	if (r) {
		s->state = -1;
		snprintf(s->why, sizeof s->why, "%s", e.msg[0] ? e.msg : "failed");
		fprintf(R->c->msg, "assess: %s did not run: %s\n", s->title, MB_SHOWN(s->why));
		return 0;
	}
	s->state = 1;
	return s->name[0] && !s->no_out ? collect(R, s, err) : 0;
}

static struct step *find_step(const struct run *R, const char *name)
{
	for (size_t i = 0; i < R->nsteps; i++)
		if (strcmp(R->steps[i].name, name) == 0 && R->steps[i].state == 1)
			return &R->steps[i];
	return NULL;
}

/* Read tables/NAME (0 ok; -1 absent or unreadable: the section says so). */
static int read_table(const struct run *R, const char *name, struct csvtab *t)
{
	char path[4200];
	struct mb_error e = { 0 };
	snprintf(path, sizeof path, "%s/tables/%s", R->tmp, name);
	memset(t, 0, sizeof *t);
	return csvtab_read(path, t, &e) ? -1 : 0;
}

/* Field col of row r of t ("" when absent). */
static const char *fld(const struct csvtab *t, size_t r, const char *col)
{
	long c = csvtab_col(t, col);
	return c < 0 || r >= t->nrows ? "" : t->rows[r].f[c];
}

/* The value of measure name in a measure,value table ("" when absent). */
static const char *measure(const struct csvtab *t, const char *name)
{
	for (size_t r = 0; r < t->nrows; r++)
		if (strcmp(fld(t, r, "measure"), name) == 0)
			return fld(t, r, "value");
	return "";
}

/* Row of t whose column col equals v, or -1. */
static long row_of(const struct csvtab *t, const char *col, const char *v)
{
	for (size_t r = 0; r < t->nrows; r++)
		if (strcmp(fld(t, r, col), v) == 0)
			return (long)r;
	return -1;
}

static double num(const char *s)
{
	char *e;
	if (!s || !*s)
		return NAN;
	double v = strtod(s, &e);
	return *e ? NAN : v;
}

/* ---- report.md -------------------------------------------------------------- */

/* Untrusted text (names from the data) as Markdown. */
static void M(FILE *o, const char *s)
{
	struct mb_error e = { 0 };
	emit_md_escape(s, o, &e);
}

/* The first clause of a verdict (up to the first "; "). */
static void first_clause(const char *s, char *out, size_t cap)
{
	const char *e = strstr(s, "; ");
	size_t n = e ? (size_t)(e - s) : strlen(s);
	if (n >= cap)
		n = cap - 1;
	memcpy(out, s, n);
	out[n] = 0;
}

/* "LAST vs PREV (+P%)": the percentage only when both counts reach the
 * stated minimum (a percentage of a handful misleads). */
static void change_md(FILE *o, const struct run *R, const char *last, const char *prev)
{
	double a = num(last), b = num(prev);
	M(o, last);
	fputs(" vs ", o);
	M(o, prev);
	if (isnan(a) || isnan(b))
		return;
	if (a < R->cfg->min_count_pct || b < R->cfg->min_count_pct)
		fprintf(o, " (below %d: no percentage)", R->cfg->min_count_pct);
	else
		fprintf(o, " (%+.0f%%)", 100.0 * (a - b) / b);
}

static void pct(FILE *o, const char *share)
{
	double v = num(share);
	if (isnan(v))
		fputs("–", o);
	else
		fprintf(o, "%.1f%%", 100.0 * v);
}

/* Embed a command's Markdown output, its headings pushed under the section. */
static void embed(FILE *o, const struct step *s)
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
		/* a chart of the step's own folder ("![alt](monthly.png)"): its SVG in the pack */
		if (img && img[1] == '[' && (e = memchr(img, ']', n - (size_t)(img - p))) &&
		    e[1] == '(' && !memchr(e, '/', n - (size_t)(e - p))) {
			const char *close = memchr(e, ')', n - (size_t)(e - p));
			const char *dot = close ? close - 4 : NULL;

			if (dot && dot > e && memcmp(dot, ".png", 4) == 0) {
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

/* A chart of step s, when it exists: ![alt](charts/STEP/FILE.svg). */
static void chart(FILE *o, const struct run *R, const struct step *s, const char *file,
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

/* Why a step's section is empty. */
static void missing(FILE *o, const struct step *s, const char *cmd, const char *what)
{
	if (!s) {
		fprintf(o, "_Not in this pack: %s._\n\n", what);
		return;
	}
	if (s->state == 0)
		fprintf(o, "_Not in this pack: this build of microbeat has no '%s' command._\n\n", cmd);
	else if (s->state < 0) {
		fputs("_This analysis did not run: ", o);
		M(o, s->why);
		fputs("._\n\n", o);
	}
}

static struct step *step_named(const struct run *R, const char *name)
{
	for (size_t i = 0; i < R->nsteps; i++)
		if (strcmp(R->steps[i].name, name) == 0)
			return &R->steps[i];
	return NULL;
}

/* The harm weight of each type (harm file, else the shipped CCHI). */
static double harm_weight(const struct csvtab *w, const char *type)
{
	for (size_t r = 0; r < w->nrows; r++)
		if (w->ncols >= 2 && strcmp(w->rows[r].f[0], type) == 0)
			return num(w->rows[r].f[1]);
	return NAN;
}

static void summary(FILE *o, struct run *R, const struct csvtab *conc, const struct csvtab *yoy,
		    const struct csvtab *trend, const struct csvtab *prio)
{
	fputs("## Summary\n\n", o);
	if (conc->nrows) {
		fputs("- **Micro-beats.** The busiest 3% of the ", o);
		M(o, measure(conc, "streets"));
		fputs(" streets hold ", o);
		pct(o, measure(conc, "top3_share"));
		fputs(" of the ", o);
		M(o, measure(conc, "crimes"));
		fputs(" crimes; chance alone would put ", o);
		pct(o, measure(conc, "chance_top3_share"));
		fputs(" there. Half of all crime is on ", o);
		pct(o, measure(conc, "bandwidth50"));
		fputs(" of streets, and ", o);
		pct(o, measure(conc, "crime_free_share"));
		fputs(" of streets had none.\n", o);
	} else {
		fputs("- **Micro-beats.** The concentration analysis did not run (see below).\n", o);
	}
	size_t rises = 0;
	for (size_t r = 0; r < trend->nrows; r++) {
		const char *v = fld(trend, r, "verdict");
		if (strncmp(v, "Rising", 6) != 0)
			continue;
		const char *series = fld(trend, r, "series");
		long y = row_of(yoy, "series", series);
		char clause[400];
		first_clause(v, clause, sizeof clause);
		fputs(rises++ ? "  - " : "- **Rises tested as real.** Year on year (last 12 months vs the 12 before):\n  - ", o);
		fputs("**", o);
		M(o, series);
		fputs("**: ", o);
		if (y >= 0)
			change_md(o, R, fld(yoy, (size_t)y, "last12"), fld(yoy, (size_t)y, "prev12"));
		fputs(" — ", o);
		M(o, clause);
		fputs(".\n", o);
	}
	if (!rises)
		fputs("- **Rises.** No crime type rose beyond what chance and the usual month-to-month "
		      "swing explain.\n", o);
	else
		fputs("  - What they cannot tell: whether a rise is more crime or more recording "
		      "(police.uk gives recorded crime only), and nothing below the police.uk "
		      "category (no offence subgroup, no domestic-abuse flag).\n", o);
	size_t np = 0;
	for (size_t r = 0; r < prio->nrows; r++) {
		if (strcmp(fld(prio, r, "priority"), "yes") != 0)
			continue;
		fputs(np++ ? "  - " : "- **Geographic priorities** (harm-weighted excess after "
				     "shrinkage, with why):\n  - ", o);
		fputs("**", o);
		M(o, fld(prio, r, "unit_name"));
		fputs("** (rank ", o);
		M(o, fld(prio, r, "rank"));
		fputs("): ", o);
		M(o, fld(prio, r, "why"));
		fputs("\n", o);
	}
	if (!np)
		fputs(R->cfg->layer ? "- **Geographic priorities.** No unit of the layer met the "
				      "priority rule.\n"
				    : "- **Geographic priorities.** No area layer was configured "
				      "(`layer =` in [assessment]).\n",
		      o);
	size_t nd = 0;
	for (size_t i = 0; i < R->nsteps; i++) {
		const struct step *s = &R->steps[i];
		if (strncmp(s->name, "deepdive-", 9) != 0 || s->state != 1 || !s->md)
			continue;
		/* the deep dive's answer: its first paragraph that is not a heading */
		const char *p = s->md;
		while (*p == '#' || *p == '\n' || *p == '*') {
			const char *e = strchr(p, '\n');
			if (!e)
				break;
			p = e + 1;
		}
		const char *e = strstr(p, "\n\n");
		fputs(nd++ ? "  - " : "- **Deep dives:**\n  - ", o);
		M(o, s->title + 11);
		fputs(": ", o);
		for (const char *q = p; *q && (!e || q < e); q++)
			fputc(*q == '\n' ? ' ' : *q, o);
		fputs("\n", o);
	}
	if (!nd)
		fputs(R->cfg->ndives ? "- **Deep dives.** None ran (see their section).\n"
				     : "- **Deep dives.** None configured.\n",
		      o);
	fputs("\n", o);
}

static void scanning(FILE *o, struct run *R, const struct csvtab *yoy, const struct csvtab *trend,
		     const struct csvtab *w)
{
	fputs("## Scanning matrix\n\n", o);
	if (!yoy->nrows) {
		missing(o, step_named(R, "scan"), "trends", "the scan of every crime type");
		return;
	}
	fprintf(o, "Every crime type in %s: volume in the last 12 months against the 12 before "
		   "(%s..%s), the tested verdict, the share of harm (Cambridge Crime Harm Index "
		   "days) and how concentrated it is (share of the type's crime on its busiest 3%% "
		   "of streets). A percentage change is shown only when both counts are at least %d.\n\n",
		R->label, R->win_from, R->win_to, R->cfg->min_count_pct);
	double total = 0;
	for (size_t r = 0; r < yoy->nrows; r++) {
		double h = harm_weight(w, fld(yoy, r, "series"));
		double n = num(fld(yoy, r, "last12"));
		if (strcmp(fld(yoy, r, "series"), "Total") && !isnan(h) && !isnan(n))
			total += h * n;
	}
	fputs("| Category | Last 12 months vs previous 12 | Verdict | Harm share (CCHI) | "
	      "Top 3% of streets hold |\n| --- | --- | --- | ---: | ---: |\n", o);
	size_t nzero = 0;
	for (size_t r = 0; r < yoy->nrows; r++) {
		const char *series = fld(yoy, r, "series");
		if (num(fld(yoy, r, "last12")) == 0 && num(fld(yoy, r, "prev12")) == 0) {
			nzero++; /* named below the table */
			continue;
		}
		long t = row_of(trend, "series", series);
		char clause[400] = "";
		if (t >= 0)
			first_clause(fld(trend, (size_t)t, "verdict"), clause, sizeof clause);
		fputs("| ", o);
		M(o, series);
		fputs(" | ", o);
		change_md(o, R, fld(yoy, r, "last12"), fld(yoy, r, "prev12"));
		fputs(" | ", o);
		M(o, clause);
		fputs(" | ", o);
		double h = harm_weight(w, series), n = num(fld(yoy, r, "last12"));
		if (strcmp(series, "Total") == 0)
			fputs("100%", o);
		else if (!isnan(h) && !isnan(n) && total > 0)
			fprintf(o, "%.1f%%", 100.0 * h * n / total);
		else
			fputs("–", o);
		fputs(" | ", o);
		char name[64], sl[48];
		slug(series, sl, sizeof sl);
		snprintf(name, sizeof name, "conc-%s", strcmp(series, "Total") ? sl : "all");
		const struct step *cs = find_step(R, name);
		struct csvtab c = { 0 };
		int got = 0;
		if (strcmp(series, "Total") == 0) {
			got = read_table(R, "concentration-concentration.csv", &c) == 0;
		} else if (cs && cs->md) {
			struct mb_error e = { 0 };
			got = csvtab_read_mem(cs->title, cs->md, cs->mdlen, &c, &e) == 0;
		}
		if (got)
			pct(o, measure(&c, "top3_share"));
		else
			fputs("–", o);
		csvtab_release(&c);
		fputs(" |\n", o);
	}
	fputs("\nA type with fewer crimes than 3% of the streets has all of them on its busiest 3% "
	      "by construction (100%); read its concentration from its count.\n\n", o);
	if (nzero) {
		fputs("Nothing in either year (as police crimes; agency categories are counted in the "
		      "partner overlay): ", o);
		for (size_t r = 0, k = 0; r < yoy->nrows; r++) {
			if (num(fld(yoy, r, "last12")) != 0 || num(fld(yoy, r, "prev12")) != 0)
				continue;
			if (k++)
				fputs(", ", o);
			M(o, fld(yoy, r, "series"));
		}
		fputs(".\n\n", o);
	}
}

/* Sum observed (or another column) over the categories of one unit. */
static double unit_sum(const struct csvtab *fm, const char *unit, const char *col)
{
	double s = 0;
	for (size_t r = 0; r < fm->nrows; r++)
		if (strcmp(fld(fm, r, "unit_name"), unit) == 0 || strcmp(fld(fm, r, "unit_code"), unit) == 0) {
			double v = num(fld(fm, r, col));
			if (!isnan(v))
				s += v;
		}
	return s;
}

/* Carrier for the review's per-item callbacks. */
struct review {
	FILE *o;                 /* report */
	struct run *R;           /* run */
	const struct csvtab *prio, *fm; /* priorities.csv, flags_matrix.csv */
};

static int review_place(void *u, const char *place)
{
	struct review *rv = u;
	FILE *o = rv->o;
	fputs("| ", o);
	M(o, place);
	fputs(" | ", o);
	long r = row_of(rv->prio, "unit_name", place);
	if (r < 0)
		r = row_of(rv->prio, "unit_code", place);
	if (r < 0) {
		fputs("not a unit of the layer | | |\n", o);
		return 0;
	}
	char last[32], prev[32];
	snprintf(last, sizeof last, "%.0f", unit_sum(rv->fm, fld(rv->prio, (size_t)r, "unit_code"), "rise_later"));
	snprintf(prev, sizeof prev, "%.0f", unit_sum(rv->fm, fld(rv->prio, (size_t)r, "unit_code"), "rise_earlier"));
	change_md(o, rv->R, last, prev);
	fputs(" | rank ", o);
	M(o, fld(rv->prio, (size_t)r, "rank"));
	fputs(", harm RR ", o);
	M(o, fld(rv->prio, (size_t)r, "harm_rr"));
	fputs(", credible on ", o);
	M(o, fld(rv->prio, (size_t)r, "categories_credible"));
	fputs(" categories | ", o);
	fputs(strcmp(fld(rv->prio, (size_t)r, "priority"), "yes") == 0 ? "still a priority"
									 : "no longer meets the rule",
	      o);
	fputs(" |\n", o);
	return 0;
}

static int review_theme(void *u, const char *theme)
{
	struct review *rv = u;
	FILE *o = rv->o;
	char name[64], sl[48], tn[120];
	slug(theme, sl, sizeof sl);
	snprintf(name, sizeof name, "theme-%s", sl);
	snprintf(tn, sizeof tn, "%s-trend.csv", name);
	fputs("| ", o);
	M(o, theme);
	fputs(" | ", o);
	struct csvtab y = { 0 }, t = { 0 };
	char yn[120];
	snprintf(yn, sizeof yn, "%s-yoy.csv", name);
	if (!find_step(rv->R, name) || read_table(rv->R, yn, &y) || read_table(rv->R, tn, &t)) {
		fputs("the theme's trends did not run | | |\n", o);
	} else {
		change_md(o, rv->R, fld(&y, 0, "last12"), fld(&y, 0, "prev12"));
		char clause[400];
		first_clause(fld(&t, 0, "verdict"), clause, sizeof clause);
		fputs(" | ", o);
		M(o, clause);
		fputs(" | ", o);
		fputs(strncmp(clause, "Rising", 6) == 0 ? "rising: still a priority" : "not rising", o);
		fputs(" |\n", o);
	}
	csvtab_release(&y);
	csvtab_release(&t);
	return 0;
}

static void review(FILE *o, struct run *R, const struct csvtab *prio, const struct csvtab *fm)
{
	struct review rv = { o, R, prio, fm };
	fputs("## Review of current priorities\n\n", o);
	if (!R->cfg->prev_places && !R->cfg->prev_themes) {
		fputs("_The config names no priorities from the last assessment ([previous] places, "
		      "themes)._\n\n", o);
		return;
	}
	fprintf(o, "What changed since the last assessment in each of its priorities: the last 12 "
		   "months (to %s) against the 12 before.\n\n", R->win_to);
	if (R->cfg->prev_places) {
		fputs("| Place | Crimes, last 12 vs previous 12 | Where it stands now | Verdict |\n"
		      "| --- | --- | --- | --- |\n", o);
		each_item(R->cfg->prev_places, review_place, &rv);
		fputs("\n", o);
	}
	if (R->cfg->prev_themes) {
		fputs("| Theme | Crimes, last 12 vs previous 12 | Tested verdict | Now |\n"
		      "| --- | --- | --- | --- |\n", o);
		each_item(R->cfg->prev_themes, review_theme, &rv);
		fputs("\n", o);
	}
}

static void candidates(FILE *o, struct run *R, const struct csvtab *prio, const struct csvtab *yoy,
		       const struct csvtab *trend)
{
	fputs("## Candidate priorities\n\n"
	      "The evidence behind each candidate for the coming year; the recommendations are "
	      "the analyst's.\n\n", o);
	size_t n = 0;
	for (size_t r = 0; r < prio->nrows; r++) {
		if (strcmp(fld(prio, r, "priority"), "yes") != 0)
			continue;
		n++;
		fputs("- Place: **", o);
		M(o, fld(prio, r, "unit_name"));
		fputs("** — ", o);
		M(o, fld(prio, r, "why"));
		fputs("\n", o);
	}
	for (size_t r = 0; r < trend->nrows; r++) {
		const char *series = fld(trend, r, "series");
		if (strncmp(fld(trend, r, "verdict"), "Rising", 6) != 0 || strcmp(series, "Total") == 0)
			continue;
		n++;
		long y = row_of(yoy, "series", series);
		fputs("- Crime type: **", o);
		M(o, series);
		fputs("** — ", o);
		if (y >= 0)
			change_md(o, R, fld(yoy, (size_t)y, "last12"), fld(yoy, (size_t)y, "prev12"));
		fputs("; ", o);
		M(o, fld(trend, r, "verdict"));
		fputs("\n", o);
	}
	if (!n)
		fputs("_No place met the priority rule and no crime type rose beyond chance._\n", o);
	fputs("\n", o);
}

static void sections(FILE *o, struct run *R, const struct csvtab *hot, const struct csvtab *fm)
{
	const struct step *s;

	fputs("## Micro-beats: the power few\n\n", o);
	s = step_named(R, "concentration");
	if (s && s->state == 1) {
		embed(o, s);
		chart(o, R, s, "lorenz.svg", "Lorenz curve: share of crime against share of streets");
		chart(o, R, s, "hot_streets.svg", "The power few: busiest streets");
		if (hot->nrows && fm->nrows) {
			fputs("**The power few with their units** (top 20)\n\n"
			      "| Rank | Street | Unit | Crimes | Class |\n| ---: | --- | --- | ---: | --- |\n", o);
			for (size_t r = 0; r < hot->nrows && r < 20; r++) {
				long u = row_of(fm, "unit_code", fld(hot, r, "area"));
				fputs("| ", o);
				M(o, fld(hot, r, "rank"));
				fputs(" | ", o);
				M(o, fld(hot, r, "label"));
				fputs(" | ", o);
				M(o, u >= 0 ? fld(fm, (size_t)u, "unit_name") : fld(hot, r, "area"));
				fputs(" | ", o);
				M(o, fld(hot, r, "crimes"));
				fputs(" | ", o);
				M(o, fld(hot, r, "class"));
				fputs(" |\n", o);
			}
			fputs("\nEvery street of the power few is in `tables/concentration-hot_streets.csv` "
			      "and, with its point, in `hot_streets.geojson`.\n\n", o);
		}
	} else {
		missing(o, s, "concentration", "concentration");
	}

	fputs("## Trends: is it a real rise?\n\n", o);
	s = step_named(R, "scan");
	if (s && s->state == 1) {
		fputs("### Every crime type\n\n", o);
		embed(o, s);
		chart(o, R, s, "yoy.svg", "Year-on-year change by crime type");
	} else {
		missing(o, s, "trends", "trends");
	}
	for (size_t i = 0; i < R->nsteps; i++) {
		s = &R->steps[i];
		if (strncmp(s->name, "theme-", 6) != 0)
			continue;
		fputs("### Theme ", o);
		M(o, s->title + 14);
		fputs("\n\n", o);
		if (s->state != 1) {
			missing(o, s, "trends", "trends");
			continue;
		}
		embed(o, s);
		chart(o, R, s, "yoy.svg", "Year-on-year change");
		char f[32];
		for (int k = 0; k < 100; k++) {
			snprintf(f, sizeof f, "monthly_%02d.svg", k);
			char path[4300];
			snprintf(path, sizeof path, "%s/charts/%s/%s", R->tmp, s->name, f);
			if (access(path, F_OK))
				break;
			chart(o, R, s, f, "Monthly counts with trend and control limit");
		}
		chart(o, R, s, "seasonal.svg", "Seasonal pattern");
	}

	fputs("## Priorities: places\n\n", o);
	s = step_named(R, "flags");
	if (s && s->state == 1) {
		embed(o, s);
		chart(o, R, s, "heatmap.svg", "Flags by unit and category");
		chart(o, R, s, "funnel.svg", "Funnel plot: rate against population");
	} else {
		missing(o, s, "flags", "no area layer configured (`layer =` in [assessment])");
	}

	fputs("## Deep dives\n\n", o);
	size_t nd = 0;
	for (size_t i = 0; i < R->nsteps; i++) {
		s = &R->steps[i];
		if (strncmp(s->name, "deepdive-", 9) != 0)
			continue;
		nd++;
		fputs("### ", o);
		M(o, s->title + 11);
		fputs("\n\n", o);
		if (s->state != 1) {
			missing(o, s, "deepdive", "deep dive");
			continue;
		}
		embed(o, s);
		/* every chart the deep dive drew */
		char dir[4200];
		snprintf(dir, sizeof dir, "%s/charts/%s", R->tmp, s->name);
		struct dirent **de = NULL;
		int n = scandir(dir, &de, NULL, alphasort);
		for (int k = 0; k < n; k++) {
			size_t l = strlen(de[k]->d_name);
			if (l > 4 && strcmp(de[k]->d_name + l - 4, ".svg") == 0 && emit_name_ok(de[k]->d_name))
				chart(o, R, s, de[k]->d_name, "Deep dive chart");
			free(de[k]);
		}
		free(de);
	}
	if (!nd)
		fputs("_No deep dive configured ([deepdive NAME] sections)._\n\n", o);

	fputs("## Hotspots\n\n", o);
	s = step_named(R, "hotspots");
	if (s && s->state == 1) {
		embed(o, s);
		chart(o, R, s, "hotspot_map.svg", "Getis-Ord Gi* hot spots");
		chart(o, R, s, "hotspot_kde.svg", "Kernel density");
	} else {
		missing(o, s, "hotspots", "hotspots");
	}

	fputs("## Partner overlay\n\n", o);
	size_t ran = 0;
	for (size_t i = 0; i < R->nsteps; i++)
		ran += strncmp(R->steps[i].name, "deepdive-", 9) == 0 && R->steps[i].state == 1;
	if (ran)
		fputs("Partner events (fire service, council ASB and other agency data) on the power "
		      "few are set out in each deep dive above.\n\n", o);
	else
		fputs("_The partner overlay (agency events on the power few) is part of a deep dive; "
		      "none ran in this pack. Agency events loaded are listed per source in the "
		      "ledger's coverage grid._\n\n", o);
}

/* The publication table: counts by unit and category with disclosure control. */
static int publication(FILE *o, struct run *R, const struct csvtab *fm, struct mb_error *err)
{
	fputs("## Publication table (disclosure-controlled)\n\n", o);
	if (!fm->nrows) {
		fputs("_Needs the priorities (an area layer)._\n\n", o);
		return 0;
	}
	/* units and categories in the order the matrix gives them */
	const char **units = calloc(fm->nrows, sizeof *units), **cats = calloc(fm->nrows, sizeof *cats);
	int64_t *v = NULL;
	unsigned char *st = NULL;
	size_t nu = 0, nc = 0;
	int r = 0;
	struct table t = { 0 };
	const char **cols = NULL;
	if (!units || !cats) {
		r = NOMEM(R);
		goto cleanup;
	}
	for (size_t i = 0; i < fm->nrows; i++) {
		const char *u = fld(fm, i, "unit_name"), *c = fld(fm, i, "category");
		size_t k;
		for (k = 0; k < nu && strcmp(units[k], u); k++)
			;
		if (k == nu)
			units[nu++] = u;
		for (k = 0; k < nc && strcmp(cats[k], c); k++)
			;
		if (k == nc)
			cats[nc++] = c;
	}
	v = calloc(nu * nc, sizeof *v);
	st = calloc(nu * nc, 1);
	cols = calloc(nc + 2, sizeof *cols);
	if (!v || !st || !cols) {
		r = NOMEM(R);
		goto cleanup;
	}
	for (size_t i = 0; i < fm->nrows; i++) {
		size_t a, b;
		for (a = 0; strcmp(units[a], fld(fm, i, "unit_name")); a++)
			;
		for (b = 0; strcmp(cats[b], fld(fm, i, "category")); b++)
			;
		double x = num(fld(fm, i, "observed"));
		v[a * nc + b] = isnan(x) || x < 0 ? 0 : (int64_t)llround(x);
	}
	if ((r = disclosure_suppress(v, nu, nc, R->cfg->suppress, st, err)))
		goto cleanup;
	cols[0] = "unit";
	for (size_t b = 0; b < nc; b++)
		cols[b + 1] = cats[b];
	cols[nc + 1] = "Total";
	char title[200];
	snprintf(title, sizeof title, "Crimes by unit and category, %s..%s (counts below %d shown "
				      "as <%d; x = hidden so that they cannot be worked out)",
		 R->win_from, R->win_to, R->cfg->suppress, R->cfg->suppress);
	if ((r = table_init(&t, title, cols, nc + 2, err)))
		goto cleanup;
	char lt[16];
	snprintf(lt, sizeof lt, "<%d", R->cfg->suppress);
	int64_t grand = 0;
	for (size_t a = 0; a <= nu && !r; a++) {
		size_t row;
		if ((r = table_add_row(&t, &row, err)))
			break;
		r = table_set_text(&t, row, 0, a < nu ? units[a] : "Total", err);
		int64_t rs = 0;
		for (size_t b = 0; b < nc && !r; b++) {
			int64_t cs = 0;
			if (a < nu) {
				cs = v[a * nc + b];
				rs += cs;
				if (st[a * nc + b])
					r = table_set_text(&t, row, b + 1,
							   st[a * nc + b] == DISCLOSE_PRIMARY ? lt : "x", err);
				else
					r = table_set_int(&t, row, b + 1, cs, err);
			} else {
				for (size_t k = 0; k < nu; k++)
					cs += v[k * nc + b];
				r = table_set_int(&t, row, b + 1, cs, err);
			}
		}
		if (a < nu)
			grand += rs;
		if (!r)
			r = table_set_int(&t, row, nc + 1, a < nu ? rs : grand, err);
	}
	if (r)
		goto cleanup;
	char tdir[4200];
	snprintf(tdir, sizeof tdir, "%s/tables", R->tmp);
	if ((r = table_save_csv(&t, tdir, "publication_counts.csv", err)))
		goto cleanup;
	size_t np = 0, ns = 0;
	for (size_t i = 0; i < nu * nc; i++) {
		np += st[i] == DISCLOSE_PRIMARY;
		ns += st[i] == DISCLOSE_SECONDARY;
	}
	fprintf(o, "For publication: %zu of %zu cells are below %d and shown as <%d; %zu more are "
		   "hidden (x) so that none of them can be worked out from the row and column totals "
		   "(`tables/publication_counts.csv`; the rule is in the methods appendix).\n\n",
		np, nu * nc, R->cfg->suppress, R->cfg->suppress, ns);
	r = table_write_md(&t, o, err);
	fputs("\n", o);
cleanup:
	table_release(&t);
	free(units);
	free(cats);
	free(v);
	free(st);
	free(cols);
	return r;
}

/* Months since 2000-01 as YYYY-MM. */
static void ym(int m, char out[16])
{
	snprintf(out, 16, "%04d-%02d", 2000 + m / 12, m % 12 + 1);
}

static int parse_ym(const char *s, int *m)
{
	int y, mo;
	char tail;
	if (sscanf(s, "%4d-%2d%c", &y, &mo, &tail) != 2 || y < 2000 || y > 2100 || mo < 1 || mo > 12)
		return -1;
	*m = (y - 2000) * 12 + mo - 1;
	return 0;
}

static void ledger(FILE *o, struct run *R, const struct csvtab *conc)
{
	fputs("## Data-quality ledger\n\n### Sources\n\n", o);
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	if (sqlite3_open_v2(R->c->db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db,
			       "SELECT id, name, format, hex(sha256), rows_read, rows_loaded,"
			       " rows_duplicate, rows_rejected, replaced_by FROM import"
			       " WHERE finished IS NOT NULL ORDER BY id",
			       -1, &st, NULL) == SQLITE_OK) {
		fputs("| Import | File | Kind | SHA-256 | Rows read | Loaded | Duplicate | Rejected "
		      "| Replaced by |\n| ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |\n", o);
		while (sqlite3_step(st) == SQLITE_ROW) {
			fprintf(o, "| %lld | ", (long long)sqlite3_column_int64(st, 0));
			M(o, (const char *)sqlite3_column_text(st, 1));
			fputs(" | ", o);
			M(o, (const char *)sqlite3_column_text(st, 2));
			fputs(" | ", o);
			const char *h = (const char *)sqlite3_column_text(st, 3);
			fprintf(o, "`%s` | %lld | %lld | %lld | %lld | ", h ? h : "",
				(long long)sqlite3_column_int64(st, 4), (long long)sqlite3_column_int64(st, 5),
				(long long)sqlite3_column_int64(st, 6), (long long)sqlite3_column_int64(st, 7));
			if (sqlite3_column_type(st, 8) != SQLITE_NULL)
				fprintf(o, "#%lld", (long long)sqlite3_column_int64(st, 8));
			fputs(" |\n", o);
		}
		fputs("\nA file with a later \"Replaced by\" was a police.uk monthly partition that a newer "
		      "release replaced whole (its rows are no longer counted).\n\n", o);
	} else {
		fputs("_The store's import list could not be read._\n\n", o);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);

	fputs("### Coverage, unlocated crime, LSOA vintages, rejects\n\n", o);
	const struct step *s = step_named(R, "");
	if (s && s->state == 1 && s->md) {
		/* an indented code block: no line of it (a file or source name
		 * included) can close it, as a ``` line would close a fence */
		const char *p = s->md;
		while (*p) {
			const char *e = strchr(p, '\n');
			size_t n = e ? (size_t)(e - p + 1) : strlen(p);
			fputs("    ", o);
			fwrite(p, 1, n, o);
			if (!e)
				fputc('\n', o);
			p += n;
		}
		fputs("\n", o);
	}
	fputs("### The street universe\n\n", o);
	if (conc->nrows) {
		fputs("Concentration counts micro-beats against a universe of ", o);
		M(o, measure(conc, "streets"));
		fputs(" streets: ", o);
		fputs(strcmp(measure(conc, "universe_gazetteer"), "1") == 0
			      ? "the loaded gazetteer's streets plus any observed ones it lacks"
		      : strcmp(measure(conc, "universe_frozen"), "1") == 0
			      ? "the frozen observed universe"
			      : "every street seen in the loaded months (a lower bound)",
		      o);
		fputs("; it rests on ", o);
		M(o, measure(conc, "universe_months"));
		fputs(" months, ", o);
		M(o, measure(conc, "universe_first_month"));
		fputs(" to ", o);
		M(o, measure(conc, "universe_last_month"));
		fputs(".\n\n", o);
	}
	fputs("### Limits of police.uk data\n\n"
	      "- Monthly only: no day or time of offence.\n"
	      "- Locations are snapped to anonymised points (the centre of a street or a named place "
	      "such as a petrol station), so a micro-beat is a snap point, not an address; crimes "
	      "with no location are counted force-wide only.\n"
	      "- No domestic-abuse flag, no offence subgroup (violence without injury, stalking and "
	      "harassment are inside one category), no hate-crime strand.\n"
	      "- Recorded crime: a change can be a change in recording or reporting.\n"
	      "- Monthly files are re-issued; the store keeps the latest release of each month.\n\n",
	      o);
}

static void methods(FILE *o, struct run *R)
{
	const struct assess_config *c = R->cfg;
	fputs("## Methods\n\nGenerated from the definitions this pack used.\n\n", o);
	fprintf(o, "- **Period.** The assessment period is %s (%s..%s); changes compare its last 12 "
		   "months with the 12 before (%s..%s).\n",
		R->label, R->cur_from, R->cur_to, R->win_from, R->win_to);
	fputs("- **Micro-beats.** A micro-beat is a police.uk snap point (a street segment or a "
	      "place); concentration is the share of crime on the busiest 1, 3, 5, 10 and 20% of the "
	      "street universe, the Gini coefficient and the generalised Gini, each against a "
	      "Monte Carlo of the same crimes spread by chance (seed 1, 200 draws; 20 draws for the "
	      "per-type column of the scanning matrix). Harm weights: ", o);
	M(o, c->harm ? c->harm : "the Cambridge Crime Harm Index (datasets/harm_cchi.csv)");
	fputs(".\n", o);
	fprintf(o, "- **Trends.** Year-on-year change is a quasi-Poisson rate ratio (over-dispersion "
		   "phi from the monthly series), with the Poisson exact test as a secondary check; "
		   "several crime types are tested together under the Benjamini-Hochberg false "
		   "discovery rate q = %s with FCR-adjusted intervals%s; trend and seasonality by "
		   "a quasi-Poisson model with seasonal terms and the seasonal Kendall test; control "
		   "charts are c-charts on a baseline before the last 3 months, with run rules.\n",
		c->fdr, c->primary ? " (the primary series is tested alone)" : "");
	if (c->layer) {
		fputs("- **Priorities.** Units of the layer ", o);
		M(o, c->layer);
		fprintf(o, " are compared per 1,000 residents (opportunity crime against its own "
			   "denominator); rate ratios are shrunk by empirical Bayes; a category is "
			   "credible when P(RR > %s) >= 0.95; a unit is a priority when credible on at "
			   "least %s categories or in the top %s by harm-weighted excess with "
			   "P(RR > 1) > 0.95; flags H (over-dispersion-adjusted funnel), R (rise) and C "
			   "(control chart) are each under the FDR (q = %s).\n",
			c->rr_threshold, c->min_flags, c->top, c->fdr);
	}
	fprintf(o, "- **Small numbers.** A percentage change is shown only when both counts are at "
		   "least %d, and always with its counts.\n", c->min_count_pct);
	fprintf(o, "- **Disclosure control.** In the publication table a count from 1 to %d is shown "
		   "as <%d (primary suppression); further cells are hidden (x) until every row and "
		   "column holds none or at least two hidden cells summing to at least %d and no "
		   "hidden cell is fixed by the totals (each lies on a cycle of hidden cells, so it "
		   "can move up and down with every total unchanged); zeros are shown.\n",
		c->suppress - 1, c->suppress, c->suppress);
	fputs("\n**References.** Weisburd, D. (2015), The law of crime concentration and the "
	      "criminology of place, *Criminology* 53(2). Sherman, L., Neyroud, P. and Neyroud, E. "
	      "(2016), The Cambridge Crime Harm Index, *Policing* 10(3). Benjamini, Y. and Hochberg, "
	      "Y. (1995), Controlling the false discovery rate, *JRSS B* 57(1). Benjamini, Y. and "
	      "Yekutieli, D. (2005), False discovery rate-adjusted multiple confidence intervals, "
	      "*JASA* 100. Spiegelhalter, D. (2005), Funnel plots for comparing institutional "
	      "performance, *Statistics in Medicine* 24. Hirsch, R., Slack, J. and Smith, R. (1982), "
	      "Techniques of trend analysis for monthly water quality data (seasonal Kendall), "
	      "*Water Resources Research* 18. Hundepool, A. et al. (2012), *Statistical Disclosure "
	      "Control*, Wiley. Full definitions: docs/methods*.md.\n", o);
}

/* The latest month any import holds (months since 2000-01), or -1. */
static int latest_month(const char *db_path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int m = -1;
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT max(month) FROM import_month", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		m = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return m;
}

/* The one "generated" line: SOURCE_DATE_EPOCH when set (reproducible builds). */
static void generated(FILE *o, const struct run *R)
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
	M(o, db ? db + 1 : R->c->db_path);
	fputs(" and `assessment.ini` (in this folder: rerun with `microbeat assess --config "
	      "assessment.ini`)._\n\n", o);
}

/* Write the n bytes at p into dir/name atomically. */
static int save(const char *dir, const char *name, const char *p, size_t n, struct mb_error *err)
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

static int mkdir_in(const char *dir, const char *name, struct mb_error *err)
{
	char *p = NULL;
	int r = emit_subdir(dir, name, &p, err);
	free(p);
	return r;
}

/* LAYER_priorities.geojson: the layer's boundaries (from the file it was
 * loaded from) with the priority fields of flags-priorities.csv, for QGIS.
 * Returns 0, or 1 when it could not be written (said in the report). */
static int layer_geojson(struct run *R, const struct csvtab *prio, char *why, size_t cap,
			 struct mb_error *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char path[4096] = "", field[256] = "";
	json_t *in = NULL, *out = NULL;
	char *text = NULL;
	int r = 1;

	if (sqlite3_open_v2(R->c->db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT path, method FROM layer WHERE name = ?", -1, &st, NULL) ==
		    SQLITE_OK &&
	    sqlite3_bind_text(st, 1, R->cfg->layer, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(st, 0);
		const char *m = (const char *)sqlite3_column_text(st, 1);
		const char *c = m ? strstr(m, "code=") : NULL;
		if (p)
			snprintf(path, sizeof path, "%s", p);
		if (c) {
			size_t n = strcspn(c + 5, " ");
			if (n < sizeof field) {
				memcpy(field, c + 5, n);
				field[n] = 0;
			}
		}
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (!path[0] || !field[0]) {
		snprintf(why, cap, "the layer was loaded without boundaries");
		goto cleanup;
	}
	json_error_t je;
	if (!(in = json_load_file(path, 0, &je))) {
		snprintf(why, cap, "its boundaries file %s cannot be read now", path);
		goto cleanup;
	}
	json_t *feats = json_object_get(in, "features");
	out = json_pack("{s:s, s:[]}", "type", "FeatureCollection", "features");
	if (!out || !json_is_array(feats)) {
		snprintf(why, cap, "its boundaries file %s holds no features", path);
		goto cleanup;
	}
	json_t *arr = json_object_get(out, "features");
	static const char *const cols[] = { "unit_code", "unit_name", "rank", "priority",
		"population", "harm_excess", "harm_rr", "p_harm_rr_gt_1", "categories_credible",
		"categories_flagged", "hot_streets_held", "hot_streets_expected", "why" };
	size_t i;
	json_t *f;
	json_array_foreach(feats, i, f) {
		const char *code = json_string_value(
			json_object_get(json_object_get(f, "properties"), field));
		long row = code ? row_of(prio, "unit_code", code) : -1;
		if (row < 0)
			continue;
		json_t *props = json_object(), *nf = json_object();
		if (!props || !nf) {
			json_decref(props);
			json_decref(nf);
			r = NOMEM(R);
			goto cleanup;
		}
		for (size_t k = 0; k < sizeof(cols) / sizeof(cols[0]); k++) {
			const char *v = fld(prio, (size_t)row, cols[k]);
			double x = num(v);
			json_object_set_new(props, cols[k],
					    k > 1 && k != 3 && k != 12 && !isnan(x) ? json_real(x)
										 : json_string(v));
		}
		json_object_set_new(nf, "type", json_string("Feature"));
		json_object_set_new(nf, "properties", props);
		json_object_set(nf, "geometry", json_object_get(f, "geometry"));
		json_array_append_new(arr, nf);
	}
	if (!(text = json_dumps(out, JSON_PRESERVE_ORDER | JSON_COMPACT | JSON_REAL_PRECISION(10)))) {
		r = NOMEM(R);
		goto cleanup;
	}
	char name[200], sl[100];
	slug(R->cfg->layer, sl, sizeof sl);
	snprintf(name, sizeof name, "%s_priorities.geojson", sl);
	if ((r = save(R->tmp, name, text, strlen(text), err)))
		goto cleanup;
	snprintf(why, cap, "%s", name);
	r = 0;
cleanup:
	free(text);
	json_decref(in);
	json_decref(out);
	return r;
}

int cmd_assess(struct cli *c, int argc, char **argv, struct mb_error *err)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *out = NULL;
	struct assess_config cfg;
	struct run R = { .c = c, .cfg = &cfg };
	struct csvtab conc = { 0 }, yoy = { 0 }, trend = { 0 }, prio = { 0 }, fm = { 0 }, hot = { 0 },
		      w = { 0 };
	char *md = NULL, *html = NULL, *ini = NULL;
	size_t mdlen = 0, htmllen = 0, inilen = 0;
	FILE *o = NULL;
	int r, opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': config = optarg; break;
		case 'o': out = optarg; break;
		default: return -MB_EUSAGE;
		}
	}
	if (optind < argc)
		return mb_err(err, MB_EUSAGE, "unexpected argument '%s'", argv[optind]);
	if (!out)
		return mb_err(err, MB_EUSAGE, "assess needs --out DIR (the pack folder)");
	if ((r = assess_config_defaults(&cfg, err)))
		return r;
	if (config) {
		if ((r = assess_config_load(&cfg, config, err)))
			goto cleanup;
	} else {
		R.defaults_used = 1;
		fprintf(c->msg, "assess: no --config: using the defaults (everything loaded, the 12 "
				"months to the latest loaded month, no layer so no geographic "
				"priorities, no themes, no deep dives, fdr 0.05, suppress 5; "
				"see 'microbeat assess --help')\n");
	}
	/* the period */
	int from, to;
	if (cfg.fy) {
		char *e;
		long y = strtol(cfg.fy, &e, 10);
		if (*e || y < 2000 || y > 2099) {
			r = mb_err(err, MB_EDATA, "%s: fy must be a year such as 2025, not '%s'",
				   config ? config : "config", cfg.fy);
			goto cleanup;
		}
		from = (int)(y - 2000) * 12 + 3;
		to = from + 11;
		snprintf(R.label, sizeof R.label, "FY %ld/%02ld", y, (y + 1) % 100);
	} else if (cfg.from) {
		if (parse_ym(cfg.from, &from) || parse_ym(cfg.to, &to) || to < from) {
			r = mb_err(err, MB_EDATA, "%s: from/to must be YYYY-MM, from before to",
				   config ? config : "config");
			goto cleanup;
		}
		snprintf(R.label, sizeof R.label, "%s..%s", cfg.from, cfg.to);
	} else {
		to = latest_month(c->db_path);
		if (to < 0) {
			r = mb_err(err, MB_ENOTFOUND, "%s: the store holds no months (import first)",
				   c->db_path);
			goto cleanup;
		}
		from = to - 11;
		ym(from, R.cur_from);
		ym(to, R.cur_to);
		snprintf(R.label, sizeof R.label, "%s..%s", R.cur_from, R.cur_to);
	}
	ym(from, R.cur_from);
	ym(to, R.cur_to);
	ym(to - 23, R.win_from);
	ym(to, R.win_to);

	if ((r = emit_dir_begin(out, &R.tmp, err)))
		goto cleanup;
	if ((r = mkdir_in(R.tmp, "tables", err)) || (r = mkdir_in(R.tmp, "charts", err)))
		goto finish;
	/* the config as used */
	FILE *fi = open_memstream(&ini, &inilen);
	if (!fi) {
		r = NOMEM(&R);
		goto finish;
	}
	r = assess_config_write(&cfg, fi, err);
	if (fclose(fi) && !r)
		r = NOMEM(&R);
	if (r || (r = save(R.tmp, "assessment.ini", ini, inilen, err)))
		goto finish;

	for (size_t k = 0; k < sizeof(STEPS) / sizeof(STEPS[0]); k++) {
		if ((r = STEPS[k].plan(&R, STEPS[k].cmd, err)))
			goto finish;
		for (; R.done < R.nsteps; R.done++)
			if ((r = run_step(&R, &R.steps[R.done], R.done + 1, err)))
				goto finish;
	}
	if (!c->quiet)
		fprintf(c->msg, "assess: writing the report\n");
	read_table(&R, "concentration-concentration.csv", &conc);
	read_table(&R, "concentration-hot_streets.csv", &hot);
	read_table(&R, "scan-yoy.csv", &yoy);
	read_table(&R, "scan-trend.csv", &trend);
	read_table(&R, "flags-priorities.csv", &prio);
	read_table(&R, "flags-flags_matrix.csv", &fm);
	{
		char wp[4096];
		struct mb_error e = { 0 };
		if (cfg.harm)
			snprintf(wp, sizeof wp, "%s", cfg.harm);
		if (cfg.harm || mb_data_path("harm_cchi.csv", wp, sizeof wp, &e) == 0)
			csvtab_read(wp, &w, &e);
	}

	if (!(o = open_memstream(&md, &mdlen))) {
		r = NOMEM(&R);
		goto finish;
	}
	char title[300];
	snprintf(title, sizeof title, "Strategic assessment: %s, %s",
		 cfg.area ? cfg.area : "all loaded areas", R.label);
	fputs("# ", o);
	M(o, title);
	fputs("\n\n", o);
	generated(o, &R);
	if (R.defaults_used)
		fputs("_No config was given: the defaults were used (everything loaded, the 12 months "
		      "to the latest loaded month, no area layer, no themes, no deep dives); "
		      "`assessment.ini` lists them._\n\n", o);
	summary(o, &R, &conc, &yoy, &trend, &prio);
	scanning(o, &R, &yoy, &trend, &w);
	review(o, &R, &prio, &fm);
	candidates(o, &R, &prio, &yoy, &trend);
	sections(o, &R, &hot, &fm);
	if ((r = publication(o, &R, &fm, err)))
		goto finish;
	if (cfg.layer && prio.nrows) {
		char gj[600];
		int g = layer_geojson(&R, &prio, gj, sizeof gj, err);
		if (g < 0) {
			r = g;
			goto finish;
		}
		fputs("## Maps\n\n", o);
		if (g == 0) {
			fputs("The priorities of every unit, with the unit's boundary, are in `", o);
			M(o, gj);
			fputs("` (fields as in `tables/flags-priorities.csv`); the power few are in "
			      "`hot_streets.geojson`. Both open in QGIS.\n\n", o);
		} else {
			fputs("_No priorities map: ", o);
			M(o, gj);
			fputs("._ The power few are in `hot_streets.geojson`.\n\n", o);
		}
	}
	ledger(o, &R, &conc);
	methods(o, &R);
	if (fclose(o)) {
		o = NULL;
		r = NOMEM(&R);
		goto finish;
	}
	o = NULL;
	if ((r = save(R.tmp, "report.md", md, mdlen, err)))
		goto finish;
	FILE *h = open_memstream(&html, &htmllen);
	if (!h) {
		r = NOMEM(&R);
		goto finish;
	}
	r = assess_render_html(md, mdlen, title, R.tmp, h, err);
	if (fclose(h) && !r)
		r = NOMEM(&R);
	if (r || (r = save(R.tmp, "report.html", html, htmllen, err)))
		goto finish;
finish:
	r = emit_dir_finish(r, R.tmp, out, err);
	R.tmp = NULL;
	if (!r) {
		fprintf(c->out, "%s/report.html\n", out);
	}
cleanup:
	if (o)
		fclose(o);
	for (size_t i = 0; i < R.nsteps; i++) {
		av_free(&R.steps[i].av);
		free(R.steps[i].md);
	}
	free(R.steps);
	csvtab_release(&conc);
	csvtab_release(&yoy);
	csvtab_release(&trend);
	csvtab_release(&prio);
	csvtab_release(&fm);
	csvtab_release(&hot);
	csvtab_release(&w);
	free(md);
	free(html);
	free(ini);
	assess_config_release(&cfg);
	return r;
}
