/*
 * cmd_assess — 'microbeat assess': the strategic assessment pack. Runs the
 * analyses in-process (a table of steps: command, argv from the config, the
 * files it contributes), each into charts/STEP/ of the pack, moves their CSV
 * tables to tables/; assess_report.c then writes report.md from those tables
 * and the commands' own Markdown, and report.html from it (assess_html.c).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <malloc.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "microbeat/cli.h"
#include "assess_internal.h"
#include "microbeat/emit.h"
#include "microbeat/plot.h"
#include "microbeat/select.h"
#include "microbeat/util.h"

static int av_add(struct argvb *a, const char *s)
{
	if (GROW(a->v, a->n + 2, a->cap))
		return -1;
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
	if (GROW(R->steps, R->nsteps + 1, R->cap))
		return NULL;
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

/* --charts svg for step s when the pack draws SVG alone (PNG and SVG is
 * every command's default), unless the step draws no charts (--no-charts:
 * the later option would win). */
static int chart_args(const struct run *R, struct step *s)
{
	for (size_t i = 0; i < s->av.n; i++)
		if (strcmp(s->av.v[i], "--no-charts") == 0)
			return 0;
	return R->charts == PLOT_SVG ? args(s, "--charts", "svg", NULL) : 0;
}

/* The --out folder of step s inside the pack. */
static int out_args(const struct run *R, struct step *s)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/charts/%s", R->tmp, s->name);
	return args(s, "--format", "md", "--out", dir, NULL) || chart_args(R, s);
}


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
	if (R->partner_only && args(s, "--exclude-types", R->partner_only, NULL))
		return NOMEM(R);
	if (R->cfg->primary && args(s, "--primary", R->cfg->primary, NULL))
		return NOMEM(R);
	return out_args(R, s) ? NOMEM(R) : 0;
}

/* Does the comma list have name as an item (before index upto)? */
int as_in_list(const char *list, const char *name, size_t len)
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
	if (tp->check_seen && as_in_list(tp->seen, theme, strlen(theme)))
		return 0;
	char name[64], sl[48], title[200];
	as_slug(theme, sl, sizeof sl);
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
	if (as_each_item(R->cfg->themes, plan_one_theme, &tp))
		return NOMEM(R);
	tp.check_seen = 1;
	if (as_each_item(R->cfg->prev_themes, plan_one_theme, &tp))
		return NOMEM(R);
	return 0;
}

/* The selectors of partner source k's events: those of police data, or for
 * a source with coordinates only every unit of the layer (the area's name
 * matches LSOA names, which such events lack; the layer places them by point
 * in polygon). */
static int agency_args(const struct run *R, struct step *s, size_t k, int window)
{
	const struct assess_config *cfg = R->cfg;
	if (!R->agencies[k - 1].by_layer)
		return common_args(R, s, window);
	if (args(s, "--layer", cfg->layer, "--area", "all", "--from",
		 window ? R->win_from : R->cur_from, "--to", window ? R->win_to : R->cur_to, NULL))
		return -1;
	if (cfg->allow_gaps && args(s, "--allow-gaps", NULL))
		return -1;
	return 0;
}

/* Concentration of each category of one scan table (its stdout: the measures). */
static int plan_conc_of(struct run *R, const char *cmd, const char *table, size_t agency)
{
	struct csvtab y;
	if (as_read_table(R, table, &y))
		return 0;
	for (size_t r = 0; r < y.nrows; r++) {
		const char *series = as_fld(&y, r, "series");
		if (strcmp(series, "Total") == 0 ||
		    (as_num(as_fld(&y, r, "last12")) == 0 && as_num(as_fld(&y, r, "prev12")) == 0))
			continue; /* nothing to concentrate (left out of the matrix too) */
		char name[128], title[200];
		as_conc_name(agency, series, name, sizeof name);
		if (as_step_named(R, name))
			continue;
		snprintf(title, sizeof title, "micro-beats: %s", series);
		struct step *s = new_step(R, cmd, name, title);
		int bad = !s;
		if (s) {
			s->agency = agency;
			bad = agency ? agency_args(R, s, agency, 0) ||
					       args(s, "--source", R->agencies[agency - 1].name, NULL)
				     : common_args(R, s, 0);
		}
		if (bad || args(s, "--types", series, "--no-charts", "--format", "csv",
				"--chance-draws", "20", NULL)) {
			csvtab_release(&y);
			return -1;
		}
		s->no_out = 1;
	}
	csvtab_release(&y);
	return 0;
}

/* Concentration of each category of the scans: crime types, police ASB and
 * every partner source's categories. */
static int plan_conc_types(struct run *R, const char *cmd, struct mb_error *err)
{
	if (plan_conc_of(R, cmd, "scan-yoy.csv", 0) || plan_conc_of(R, cmd, "asb-yoy.csv", 0))
		return NOMEM(R);
	for (size_t k = 1; k <= R->nagencies; k++) {
		char t[200], sl[100];
		as_slug(R->agencies[k - 1].name, sl, sizeof sl);
		snprintf(t, sizeof t, "agency-%s-yoy.csv", sl);
		if (plan_conc_of(R, cmd, t, k))
			return NOMEM(R);
	}
	return 0;
}

/* The partner (agency) sources in the store, sorted (none: an empty list). */
static int load_agencies(struct run *R, struct mb_error *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int r = 0;
	size_t cap = 0;
	if (sqlite3_open_v2(R->c->db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "SELECT DISTINCT source FROM import WHERE format = 'agency' AND"
			       " finished IS NOT NULL AND source IS NOT NULL ORDER BY source",
			       -1, &st, NULL) != SQLITE_OK)
		goto cleanup; /* an older store: no partner data */
	while (!r && sqlite3_step(st) == SQLITE_ROW) {
		const char *n = (const char *)sqlite3_column_text(st, 0);
		if (!n || !*n)
			continue;
		if (GROW(R->agencies, R->nagencies + 1, cap) ||
		    !(R->agencies[R->nagencies].name = strdup(n)))
			r = NOMEM(R);
		else
			R->agencies[R->nagencies++].by_layer = 0;
	}
	sqlite3_finalize(st);
	st = NULL;
	/* how each source's events are placed: by LSOA (like police.uk) or by
	 * coordinates only (a fire service's eastings and northings) */
	if (r || sqlite3_prepare_v2(db,
				    "SELECT total(l.lsoa_id IS NOT NULL), total(l.lon IS NOT NULL)"
				    " FROM event e JOIN source s ON s.id = e.source_id"
				    " LEFT JOIN location l ON l.id = e.location_id WHERE s.name = ?",
				    -1, &st, NULL) != SQLITE_OK)
		goto cleanup;
	for (size_t k = 0; k < R->nagencies; k++) {
		sqlite3_reset(st);
		if (sqlite3_bind_text(st, 1, R->agencies[k].name, -1, SQLITE_STATIC) == SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW)
			R->agencies[k].by_layer = R->cfg->layer && sqlite3_column_double(st, 0) <
								    0.5 * sqlite3_column_double(st, 1);
	}
cleanup:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return r;
}

/* The categories only partner sources record (a fire service's incident
 * types), as a comma list in R->partner_only: the scan of crime types leaves
 * them out (they are no police crime; the partners' own rows test them). */
static int partner_only(struct run *R, struct mb_error *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *list = NULL;
	size_t len = 0;
	FILE *f = NULL;
	int r = 0;
	if (!R->nagencies)
		return 0;
	if (!(f = open_memstream(&list, &len)))
		return NOMEM(R);
	if (sqlite3_open_v2(R->c->db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db,
			       "SELECT c.name FROM category c WHERE EXISTS (SELECT 1 FROM event e"
			       " WHERE e.category_id = c.id) AND NOT EXISTS (SELECT 1 FROM event e"
			       " JOIN source s ON s.id = e.source_id WHERE e.category_id = c.id AND"
			       " s.name NOT IN (SELECT source FROM import WHERE format = 'agency'"
			       " AND source IS NOT NULL)) ORDER BY c.name",
			       -1, &st, NULL) == SQLITE_OK) {
		size_t n = 0;
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *c = (const char *)sqlite3_column_text(st, 0);
			if (c && *c && !strchr(c, ','))
				fprintf(f, "%s%s", n++ ? "," : "", c);
		}
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (fclose(f))
		r = NOMEM(R);
	if (!r && len)
		R->partner_only = list;
	else
		free(list);
	return r;
}

/* Community safety beyond crime: police.uk anti-social behaviour incidents,
 * and each partner source's categories (one family of tests per source). */
static int plan_community(struct run *R, const char *cmd, struct mb_error *err)
{
	struct step *s = new_step(R, cmd, "asb", "community safety: anti-social behaviour (police.uk)");
	if (!s || common_args(R, s, 1) ||
	    args(s, "--types", "Anti-social behaviour", "--by", "type", "--fdr", R->cfg->fdr,
		 "--no-charts", NULL) ||
	    out_args(R, s))
		return NOMEM(R);
	int r = 0;
	for (size_t k = 1; k <= R->nagencies; k++) {
		char name[160], sl[100], title[200];
		as_slug(R->agencies[k - 1].name, sl, sizeof sl);
		snprintf(name, sizeof name, "agency-%s", sl);
		snprintf(title, sizeof title, "community safety: %s", R->agencies[k - 1].name);
		if (!(s = new_step(R, cmd, name, title)))
			return NOMEM(R);
		s->agency = k;
		if (agency_args(R, s, k, 1) ||
		    args(s, "--source", R->agencies[k - 1].name, "--by", "type", "--fdr", R->cfg->fdr,
			 "--no-charts", NULL) ||
		    out_args(R, s))
			return NOMEM(R);
	}
	return r;
}

/* The partner overlay: partner events on the power few and per unit beside
 * crime, over the whole area (a deep dive of everything). */
static int plan_overlay(struct run *R, const char *cmd, struct mb_error *err)
{
	if (!R->nagencies)
		return 0; /* no partner data: said in the section */
	struct step *s = new_step(R, cmd, "overlay", "partner overlay: partner events beside crime");
	if (!s)
		return NOMEM(R);
	if ((R->cfg->layer && args(s, "--layer", R->cfg->layer, NULL)) ||
	    args(s, "--area", R->cfg->layer ? "all" : R->cfg->area ? R->cfg->area : "all",
		 "--from", R->cur_from, "--to", R->cur_to, NULL) ||
	    (R->cfg->allow_gaps && args(s, "--allow-gaps", NULL)) || out_args(R, s))
		return NOMEM(R);
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
		as_slug(d->name, sl, sizeof sl);
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
	/* the assessment period: patterns over the loaded periods of its length
	 * that end with it, the forecast from the one before */
	if (common_args(R, s, 0) || args(s, "--out", dir, NULL) || chart_args(R, s))
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
	{ "trends", plan_community },
	{ "concentration", plan_conc_types },
	{ "trends", plan_themes },
	{ "flags", plan_flags },
	{ "deepdive", plan_deepdives },
	{ "deepdive", plan_overlay },
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
		if (GROW(names, n + 1, cap)) {
			r = NOMEM(R);
			break;
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
	const struct cli_command *cmd = R->c->find ? R->c->find(s->cmd) : NULL;
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
	sub.in_pack = 1;
	optind = 0;
	int r = cmd->run(&sub, (int)s->av.n, s->av.v, &e);

	/* give back what the step freed: each step's peak is then its own, not
	 * stacked on the free space the steps before left in the heap */
#ifdef __GLIBC__
	malloc_trim(0);
#endif
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

/* ---- the period and the pack folder ----------------------------------------- */

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

static int mkdir_in(const char *dir, const char *name, struct mb_error *err)
{
	char *p = NULL;
	int r = emit_subdir(dir, name, &p, err);
	free(p);
	return r;
}

/* 'microbeat assess': parse --config/--out, plan and run the steps, write the
 * report; the pack folder replaces DIR whole at the end (emit_dir_*). */
int cmd_assess(struct cli *c, int argc, char **argv, struct mb_error *err)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "out", required_argument, NULL, 'o' },
		{ "charts", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *out = NULL;
	struct assess_config cfg;
	struct run R = { .c = c, .cfg = &cfg, .charts = PLOT_BOTH };
	char *ini = NULL;
	size_t inilen = 0;
	int r, opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': config = optarg; break;
		case 'o': out = optarg; break;
		case 'g':
			R.charts = plot_formats_parse(optarg);
			if (R.charts == PLOT_PNG)
				return mb_err(err, MB_EUSAGE, "assess: --charts wants svg or both "
					"(report.html inlines the SVG charts)");
			if (R.charts < 0)
				return mb_err(err, MB_EUSAGE, "--charts wants svg or both");
			break;
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
	if (r || (r = as_save(R.tmp, "assessment.ini", ini, inilen, err)))
		goto finish;

	if ((r = load_agencies(&R, err)) || (r = partner_only(&R, err)))
		goto finish;
	/* Large blocks mapped and unmapped as each step frees them, as in a
	 * command run alone: glibc raises its mmap threshold to the largest block
	 * freed (up to 32 MB), after which a step's arrays came from the heap and
	 * what it freed mid-step stayed resident (a national category's step
	 * peaked at 248 MB in the pack against 195 MB alone). A set threshold
	 * stays put. */
#ifdef __GLIBC__
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
	for (size_t k = 0; k < ARRAY_SIZE(STEPS); k++) {
		if ((r = STEPS[k].plan(&R, STEPS[k].cmd, err)))
			goto finish;
		for (; R.done < R.nsteps; R.done++)
			if ((r = run_step(&R, &R.steps[R.done], R.done + 1, err)))
				goto finish;
	}
	if ((r = as_write_report(&R, err)))
		goto finish;
finish:
	r = emit_dir_finish(r, R.tmp, out, err);
	R.tmp = NULL;
	if (!r) {
		fprintf(c->out, "%s/report.html\n", out);
	}
cleanup:
	for (size_t i = 0; i < R.nsteps; i++) {
		av_free(&R.steps[i].av);
		free(R.steps[i].md);
	}
	free(R.steps);
	for (size_t i = 0; i < R.nagencies; i++)
		free(R.agencies[i].name);
	free(R.agencies);
	free(R.partner_only);
	free(ini);
	assess_config_release(&cfg);
	return r;
}
