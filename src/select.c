/* select — period, area and type selectors shared by the analysis commands. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "microbeat/csvtab.h"
#include "microbeat/emit.h"
#include "microbeat/select.h"
#include "microbeat/slice.h"
#include "microbeat/store.h"

void select_init(struct selection *sel)
{
	memset(sel, 0, sizeof(*sel));
	sel->from = sel->to = -1;
}

void select_release(struct selection *sel)
{
	for (size_t i = 0; i < sel->ntypes; i++)
		free(sel->types[i]);
	for (size_t i = 0; i < sel->nexclude; i++)
		free(sel->exclude[i]);
	for (size_t i = 0; i < sel->nsources; i++)
		free(sel->sources[i]);
	select_init(sel);
}

/* Split a comma-separated list into owned, trimmed entries. */
static int split_list(const char *arg, char **out, size_t *n, size_t cap, struct mb_error *err)
{
	const char *p = arg;

	while (*p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len) {
			if (*n >= cap)
				return mb_err(err, MB_EUSAGE, "too many types (at most %zu)", cap);
			out[*n] = strndup(p, len);
			if (!out[*n])
				return mb_err(err, MB_ENOMEM, "out of memory");
			(*n)++;
		}
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

/* Parse a 4-digit year 2000..2099. */
static int parse_year(const char *arg, int *y)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || v < 2000 || v > 2099)
		return -1;
	*y = (int)v;
	return 0;
}

int mb_data_path(const char *name, char *out, size_t cap, struct mb_error *err)
{
	const char *env = getenv("MB_DATA");
	char exe[4096];
	ssize_t n;

	if (env && *env) {
		snprintf(out, cap, "%s/%s", env, name);
		if (access(out, R_OK) == 0)
			return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');

		if (slash)
			*slash = '\0';
		snprintf(out, cap, "%s/datasets/%s", exe, name);
		if (access(out, R_OK) == 0)
			return 0;
		snprintf(out, cap, "%s/../share/microbeat/datasets/%s", exe, name);
		if (access(out, R_OK) == 0)
			return 0;
	}
	return mb_err(err, MB_ENOTFOUND, "data file '%s' not found (set MB_DATA to its folder)",
		      name);
}

/* Add the crime types of theme name from datasets/themes.csv (read with
 * csvtab: the header names the columns, it is never a theme; a row's types
 * may be a quoted comma-separated list). */
static int load_theme(struct selection *sel, const char *name, struct mb_error *err)
{
	static const char *const theme_col[] = { "theme", NULL };
	static const char *const type_col[] = { "crime_type", "type", "category", NULL };
	char path[4096];
	struct csvtab t;
	long tc, kc;
	int r, found = 0;

	if ((r = mb_data_path("themes.csv", path, sizeof(path), err)) ||
	    (r = csvtab_read(path, &t, err)))
		return r;
	tc = csvtab_pick(&t, theme_col);
	kc = csvtab_pick(&t, type_col);
	if (tc < 0 || kc < 0) {
		r = mb_err(err, MB_EDATA, "%s:%ld:1: the header wants columns 'theme' and 'crime_type'",
			   path, t.head_line);
		goto cleanup;
	}
	for (size_t i = 0; i < t.nrows && !r; i++) {
		if (strcasecmp(t.rows[i].f[tc], name) != 0)
			continue;
		r = split_list(t.rows[i].f[kc], sel->types, &sel->ntypes, 64, err);
		found = 1;
	}
	if (!r && !found)
		r = mb_err(err, MB_ENOTFOUND, "theme '%s' is not in %s", name, path);
	if (!r)
		snprintf(sel->theme, sizeof(sel->theme), "%s", name);
cleanup:
	csvtab_release(&t);
	return r;
}

int select_option(struct selection *sel, int code, const char *arg, struct mb_error *err)
{
	int32_t m;
	int y;

	/* one way to give the period: --fy 2024 --from 2025-01 was silently
	 * combined into 2025-01..2025-03 (issue 21) */
	if ((code == SEL_FROM || code == SEL_TO) && sel->period_given == 2)
		return mb_err(err, MB_EUSAGE, "--%s cannot be combined with %s: give the period one way",
			      code == SEL_FROM ? "from" : "to",
			      strncmp(sel->period_label, "FY ", 3) == 0 ? "--fy" : "--year");
	if ((code == SEL_FY || code == SEL_YEAR) && sel->period_given == 1)
		return mb_err(err, MB_EUSAGE, "--%s cannot be combined with --from or --to: give the"
					      " period one way", code == SEL_FY ? "fy" : "year");
	switch (code) {
	case SEL_FROM:
	case SEL_TO:
		if (month_parse(arg, strlen(arg), &m))
			return mb_err(err, MB_EUSAGE, "--%s wants YYYY-MM, not '%s'",
				      code == SEL_FROM ? "from" : "to", arg);
		if (code == SEL_FROM)
			sel->from = m;
		else
			sel->to = m;
		sel->period_given = 1;
		return 0;
	case SEL_FY:
		if (parse_year(arg, &y))
			return mb_err(err, MB_EUSAGE, "--fy wants a year such as 2024, not '%s'", arg);
		if (sel->period_given == 2 && sel->from != (y - 2000) * 12 + 3)
			return mb_err(err, MB_EUSAGE, "--fy %d conflicts with the period already given (%s)",
				      y, sel->period_label);
		sel->from = (y - 2000) * 12 + 3; /* April */
		sel->to = sel->from + 11;         /* March of the next year */
		sel->period_given = 2;
		snprintf(sel->period_label, sizeof(sel->period_label), "FY %d/%02d", y, (y + 1) % 100);
		return 0;
	case SEL_YEAR:
		if (parse_year(arg, &y))
			return mb_err(err, MB_EUSAGE, "--year wants a year such as 2024, not '%s'", arg);
		if (sel->period_given == 2 && sel->from != (y - 2000) * 12)
			return mb_err(err, MB_EUSAGE, "--year %d conflicts with the period already given (%s)",
				      y, sel->period_label);
		sel->from = (y - 2000) * 12;
		sel->to = sel->from + 11;
		sel->period_given = 2;
		snprintf(sel->period_label, sizeof(sel->period_label), "%d", y);
		return 0;
	case SEL_AREA: sel->area = arg; return 0;
	case SEL_LAYER: sel->layer = arg; return 0;
	case SEL_TYPES: return split_list(arg, sel->types, &sel->ntypes, 64, err);
	case SEL_EXCLUDE: return split_list(arg, sel->exclude, &sel->nexclude, 64, err);
	case SEL_THEME: return load_theme(sel, arg, err);
	case SEL_SOURCE: return split_list(arg, sel->sources, &sel->nsources, 64, err);
	case SEL_ALLOW_GAPS: sel->allow_gaps = 1; return 0;
	default: return mb_err(err, MB_EUSAGE, "unknown selector");
	}
}

int select_finish(struct selection *sel, struct store *s, struct mb_error *err)
{
	int32_t lo, hi;
	int r;

	if (sel->from < 0 || sel->to < 0) {
		if ((r = store_month_range(s, &lo, &hi, err)))
			return r;
		if (hi < 0)
			return mb_err(err, MB_ENOTFOUND, "the store holds no events: import some first");
		if (sel->to < 0)
			sel->to = sel->from >= 0 && sel->from > hi ? sel->from : hi;
		if (sel->from < 0)
			sel->from = sel->to - 11;
	}
	if (sel->from > sel->to)
		return mb_err(err, MB_EUSAGE, "the period is empty: --from is after --to");
	if (!sel->period_label[0] || sel->period_given != 2) {
		char a[8], b[8];

		month_format(sel->from, a);
		month_format(sel->to, b);
		snprintf(sel->period_label, sizeof(sel->period_label), "%s..%s", a, b);
	}
	return 0;
}

int select_type_on(const struct selection *sel, const char *name)
{
	int on = 0;

	if (!name)
		return 0;
	if (sel->ntypes) {
		for (size_t i = 0; i < sel->ntypes; i++)
			on |= strcasecmp(sel->types[i], name) == 0;
	} else {
		on = strcasecmp(name, "Anti-social behaviour") != 0;
	}
	for (size_t i = 0; i < sel->nexclude; i++)
		if (strcasecmp(sel->exclude[i], name) == 0)
			on = 0;
	return on;
}

int select_check_gaps(struct selection *sel, const struct slice *sl, struct mb_error *err)
{
	size_t o = 0;

	sel->months_used = 0;
	sel->months_total = sel->to - sel->from + 1;
	sel->gaps[0] = '\0';
	for (int32_t m = sel->from; m <= sel->to; m++) {
		int in = sl->month_present && m >= sl->month_from && m <= sl->month_to &&
			 sl->month_present[m - sl->month_from];

		if (in) {
			sel->months_used++;
			continue;
		}
		int32_t e = m;
		char a[8], b[8];

		while (e + 1 <= sel->to && !(e + 1 >= sl->month_from && e + 1 <= sl->month_to &&
					    sl->month_present && sl->month_present[e + 1 - sl->month_from]))
			e++;
		month_format(m, a);
		month_format(e, b);
		if (o < sizeof(sel->gaps)) {
			int w = e > m ? snprintf(sel->gaps + o, sizeof(sel->gaps) - o, "%s%s..%s",
						 o ? ", " : "", a, b)
				      : snprintf(sel->gaps + o, sizeof(sel->gaps) - o, "%s%s",
						 o ? ", " : "", a);

			o += w > 0 ? (size_t)w : 0;
		}
		m = e;
	}
	if (!sel->months_used)
		return mb_err(err, MB_EUSAGE, "no month of %s is loaded: nothing to analyse (see"
			      " 'microbeat info' for the months in the store)", sel->period_label);
	if (sel->months_used < sel->months_total && !sel->allow_gaps)
		return mb_err(err, MB_EUSAGE, "%d of the %d months of %s are not loaded (%s): a missing"
			      " month is missing, not zero; give --allow-gaps to analyse the %d loaded"
			      " months", sel->months_total - sel->months_used, sel->months_total,
			      sel->period_label, sel->gaps, sel->months_used);
	return 0;
}

void select_print_months(const struct selection *sel, FILE *f)
{
	if (sel->months_used < sel->months_total)
		fprintf(f, "Months used: %d of %d (not loaded: %s; --allow-gaps).\n", sel->months_used,
			sel->months_total, sel->gaps);
}

int select_police_only(const struct selection *sel)
{
	return !sel->nsources && !sel->ntypes;
}

void select_print_sources(const struct selection *sel, const struct slice *sl, FILE *f)
{
	int first = 1;

	for (size_t i = 1; i < sl->nsource; i++) {
		int64_t in = 0, none = 0;

		for (size_t c = 1; c < sl->ncat; c++)
			if (sl->cat_selected[c] && select_type_on(sel, sl->cat_name[c])) {
				in += sl->src_placed[i * sl->ncat + c];
				none += sl->src_unplaced[i * sl->ncat + c];
			}
		if (!sl->src_on[i] || (!in && !none))
			continue;
		fputs(first ? "Events by source: " : "; ", f);
		emit_text_clean(sl->source_name[i] ? sl->source_name[i] : "?", f, NULL);
		fprintf(f, " %lld placed in the area, %lld not placed", (long long)in, (long long)none);
		first = 0;
	}
	if (!first)
		fputs(".\n", f);
}

void select_query(const struct selection *sel, const char *by_layer, int police_default,
		  struct slice_query *q)
{
	q->area = sel->area;
	q->layer = sel->layer ? sel->layer : by_layer;
	q->sources = (const char *const *)sel->sources;
	q->nsources = sel->nsources;
	q->police_only = police_default && select_police_only(sel);
	q->period_set = 1;
	q->period_from = sel->from;
	q->period_to = sel->to;
}
