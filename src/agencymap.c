/*
 * microbeat — agency column maps (INI via inih). See include/microbeat/agencymap.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "microbeat/agencymap.h"
#include "microbeat/csvtab.h"
#include "microbeat/util.h"

/* INI keys of [columns] that name a column, by enum agencymap_field. */
static const char *const am_keys[AGENCYMAP_NFIELDS] = {
	"id", "date", "month", "category", "longitude", "latitude",
	"easting", "northing", "lsoa", "unit", "time", "ho_code", "subgroup", "da", "hate",
	"hate_strand", "street", "parish",
};

/* The flag lists' keys, by enum agencymap_flag and yes (0) / no (1). */
static const char *const am_flag_keys[AGENCYMAP_NFLAGS][2] = {
	{ "da_yes", "da_no" }, { "hate_yes", "hate_no" },
};

/* The default yes / no values of a flag. */
static const char *const am_flag_default[2] = { "Y,Yes,1,True", "N,No,0,False" };

/* State shared by the line reader and the inih handler while loading. */
struct am_parse {
	struct agencymap *map;   /* the map being filled */
	FILE *fp;                /* the INI file */
	int line;                /* lines read so far = line of the current key */
	int err_line;            /* line of the first handler error, 0 if none */
	int err_code;            /* MB_EDATA or MB_ENOMEM for that error */
	char reason[300];        /* its message, without the "FILE:LINE: " prefix */
	int name_line;           /* line of [source] name, 0 if absent */
	int unit_layer_line;     /* line of unit_layer, 0 if absent */
	int date_format_line;    /* line of date_format, 0 if absent */
	int time_format_line;    /* line of time_format, 0 if absent */
	int kind_line;           /* line of [source] kind, 0 if absent */
	char *kind;              /* [source] kind as given, NULL if absent */
};

/* Duplicate a string; NULL on OOM. */
static char *am_strdup(const char *s)
{
	size_t len = strlen(s) + 1;
	char *p = malloc(len);

	if (p)
		memcpy(p, s, len);
	return p;
}

/* inih line reader: fgets that counts lines, so the handler knows its line. */
static char *am_reader(char *str, int num, void *stream)
{
	struct am_parse *ps = stream;
	char *r = fgets(str, num, ps->fp);

	if (r)
		ps->line++;
	return r;
}

/* Find the first NUL byte of fp (then rewound): 1 with its line and column,
 * 0 when there is none, -1 on a read error. fgets would stop a line at a NUL
 * and inih would take "Violence\0 and ..." as "Violence". */
static int am_find_nul(FILE *fp, int *line, long *col)
{
	char buf[4096];
	size_t n;
	int found = 0;

	*line = 1;
	*col = 1;
	while (!found && (n = fread(buf, 1, sizeof(buf), fp)) > 0) {
		for (size_t i = 0; i < n; i++) {
			if (buf[i] == '\0') {
				found = 1;
				break;
			}
			if (buf[i] == '\n') {
				(*line)++;
				*col = 1;
			} else {
				(*col)++;
			}
		}
	}
	if (ferror(fp))
		return -1;
	rewind(fp);
	return found;
}

/* Record the first handler error; return 0 so inih reports the line too. */
static int am_fail(struct am_parse *ps, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int am_fail(struct am_parse *ps, int code, const char *fmt, ...)
{
	va_list ap;

	if (ps->err_line == 0) {
		ps->err_line = ps->line;
		ps->err_code = code;
		va_start(ap, fmt);
		vsnprintf(ps->reason, sizeof(ps->reason), fmt, ap);
		va_end(ap);
	}
	return 0;
}

/* Store a string value once into *slot, remembering its line in *line. */
static int am_set(struct am_parse *ps, char **slot, int *line, const char *name,
	const char *value)
{
	if (*slot)
		return am_fail(ps, MB_EDATA, "key '%s' given twice (first on line %d)", name, *line);
	if (value[0] == '\0')
		return am_fail(ps, MB_EDATA, "empty value for '%s'", name);
	*slot = am_strdup(value);
	if (!*slot)
		return am_fail(ps, MB_ENOMEM, "out of memory");
	*line = ps->line;
	return 1;
}

/* inih handler: accept the known keys of [source] and [columns]. */
static int am_handler(void *user, const char *section, const char *name, const char *value)
{
	struct am_parse *ps = user;
	struct agencymap *m = ps->map;

	if (ps->err_line)
		return 1; /* keep the first error only */
	if (section[0] == '\0')
		return am_fail(ps, MB_EDATA, "key '%s' outside a section", name);
	if (strcasecmp(section, "source") == 0) {
		if (strcasecmp(name, "name") == 0)
			return am_set(ps, &m->source_name, &ps->name_line, name, value);
		if (strcasecmp(name, "kind") == 0)
			return am_set(ps, &ps->kind, &ps->kind_line, name, value);
		return am_fail(ps, MB_EDATA, "unknown key '%s' in [%s]", name, section);
	}
	if (strcasecmp(section, "columns") != 0)
		return am_fail(ps, MB_EDATA, "unknown section [%s]", section);
	if (strcasecmp(name, "date_format") == 0)
		return am_set(ps, &m->date_format, &ps->date_format_line, name, value);
	if (strcasecmp(name, "unit_layer") == 0)
		return am_set(ps, &m->unit_layer, &ps->unit_layer_line, name, value);
	if (strcasecmp(name, "time_format") == 0)
		return am_set(ps, &m->time_format, &ps->time_format_line, name, value);
	for (int g = 0; g < AGENCYMAP_NFLAGS; g++)
		for (int yn = 0; yn < 2; yn++)
			if (strcasecmp(name, am_flag_keys[g][yn]) == 0)
				return am_set(ps, &m->flag[g].text[yn], &m->flag[g].line[yn], name, value);
	for (int f = 0; f < AGENCYMAP_NFIELDS; f++)
		if (strcasecmp(name, am_keys[f]) == 0)
			return am_set(ps, &m->col[f].name, &m->col[f].line, name, value);
	return am_fail(ps, MB_EDATA, "unknown key '%s' in [%s]", name, section);
}

/* Compile a date_format (time = 0) or time_format (time = 1) into steps
 * (cap of them), *n steps. Return NULL, or a static reason (bad: the
 * unsupported directive). */
static const char *am_compile_format(struct agencymap_fmt_step *steps, size_t cap, size_t *n_out,
	const char *fmt, int time, char *bad)
{
	int seen[128] = { 0 };
	size_t n = 0;

	for (const char *p = fmt; *p; p++) {
		struct agencymap_fmt_step st = { 'L', *p };

		if (n > 0 && steps[n - 1].kind == '*')
			return "'%*' must come last";
		if (*p == '%') {
			p++;
			if (*p == '\0')
				return "it ends with a lone '%'";
			if (*p == '%') {
				st.lit = '%';
			} else if (strchr(time ? "HMS" : "dmYyHMS*", *p)) {
				st.kind = *p;
				st.lit = 0;
				if (seen[(unsigned char)*p]++)
					return "a directive appears twice";
			} else {
				bad[0] = '%';
				bad[1] = *p;
				bad[2] = '\0';
				return "unsupported directive";
			}
		}
		if (n == cap)
			return "it is too long";
		steps[n++] = st;
	}
	if (seen['H'] != seen['M'])
		return "%H and %M go together";
	if (seen['S'] && !seen['M'])
		return "%S needs %H and %M";
	if (time) {
		if (!seen['H'])
			return "it needs %H and %M";
	} else {
		if (seen['Y'] && seen['y'])
			return "it has both %Y and %y";
		if (!seen['m'])
			return "it needs %m";
		if (!seen['Y'] && !seen['y'])
			return "it needs %Y or %y";
	}
	*n_out = n;
	return NULL;
}

/* Split a flag's comma-separated yes or no list into trimmed values. */
static int am_flag_split(struct agencymap_flagvals *fv, int yn, const char *text)
{
	const char *p = text;

	while (*p) {
		const char *q = strchr(p, ',');
		size_t len = q ? (size_t)(q - p) : strlen(p);
		const char *a = p;

		while (len && (*a == ' ' || *a == '\t')) {
			a++;
			len--;
		}
		while (len && (a[len - 1] == ' ' || a[len - 1] == '\t'))
			len--;
		if (!len)
			return -1;
		if (fv->n[yn] == AGENCYMAP_FLAG_VALUES)
			return -2;
		if (!(fv->v[yn][fv->n[yn]] = malloc(len + 1)))
			return -3;
		memcpy(fv->v[yn][fv->n[yn]], a, len);
		fv->v[yn][fv->n[yn]++][len] = '\0';
		if (!q)
			break;
		p = q + 1;
	}
	return fv->n[yn] ? 0 : -1;
}

/* Check the extract keys (kind, time, flags) of a map; 0 or MB_EDATA/MB_ENOMEM. */
static int am_validate_extract(struct agencymap *m, const struct am_parse *ps,
	struct mb_error *err)
{
	static const int loc_keys[] = { AGENCYMAP_CATEGORY, AGENCYMAP_LONGITUDE, AGENCYMAP_LATITUDE,
		AGENCYMAP_EASTING, AGENCYMAP_NORTHING, AGENCYMAP_LSOA, AGENCYMAP_UNIT };
	const char *path = m->path, *why;
	char bad[3] = "";

	if (!m->extract) {
		for (int f = AGENCYMAP_TIME; f < AGENCYMAP_NFIELDS; f++)
			if (m->col[f].name)
				return mb_err(err, MB_EDATA, "%s:%d: '%s' is a force-extract key: give"
					" 'kind = extract' in [source]", path, m->col[f].line, am_keys[f]);
		for (int g = 0; g < AGENCYMAP_NFLAGS; g++)
			for (int yn = 0; yn < 2; yn++)
				if (m->flag[g].text[yn])
					return mb_err(err, MB_EDATA, "%s:%d: '%s' is a force-extract key:"
						" give 'kind = extract' in [source]", path,
						m->flag[g].line[yn], am_flag_keys[g][yn]);
		if (m->time_format)
			return mb_err(err, MB_EDATA, "%s:%d: 'time_format' is a force-extract key: give"
				" 'kind = extract' in [source]", path, ps->time_format_line);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(loc_keys); i++)
		if (m->col[loc_keys[i]].name)
			return mb_err(err, MB_EDATA, "%s:%d: '%s' is not used in a force extract (its"
				" rows attach to police.uk crimes, which give the type and place): remove"
				" it", path, m->col[loc_keys[i]].line, am_keys[loc_keys[i]]);
	if (m->unit_layer)
		return mb_err(err, MB_EDATA, "%s:%d: 'unit_layer' is not used in a force extract:"
			" remove it", path, ps->unit_layer_line);
	if (!m->col[AGENCYMAP_ID].name)
		return mb_err(err, MB_EDATA, "%s: a force extract needs 'id' (the Crime ID column)"
			" in [columns]", path);
	if (m->time_format && !m->col[AGENCYMAP_TIME].name)
		return mb_err(err, MB_EDATA, "%s:%d: 'time_format' given without 'time'", path,
			ps->time_format_line);
	if (m->col[AGENCYMAP_TIME].name) {
		if (m->date_has_time)
			return mb_err(err, MB_EDATA, "%s:%d: 'time' conflicts with %%H in date_format"
				" (line %d): give one", path, m->col[AGENCYMAP_TIME].line,
				ps->date_format_line);
		why = am_compile_format(m->tfmt, ARRAY_SIZE(m->tfmt), &m->tfmt_len,
			m->time_format ? m->time_format : "%H:%M", 1, bad);
		if (why)
			return mb_err(err, MB_EDATA, "%s:%d: bad time_format '%s': %s%s%s%s", path,
				ps->time_format_line, m->time_format, why, bad[0] ? " '" : "", bad,
				bad[0] ? "'" : "");
	}
	for (int g = 0; g < AGENCYMAP_NFLAGS; g++) {
		int col = g == AGENCYMAP_FLAG_DA ? AGENCYMAP_DA : AGENCYMAP_HATE;

		for (int yn = 0; yn < 2; yn++) {
			int rs;

			if (m->flag[g].text[yn] && !m->col[col].name)
				return mb_err(err, MB_EDATA, "%s:%d: '%s' given without '%s'", path,
					m->flag[g].line[yn], am_flag_keys[g][yn], am_keys[col]);
			rs = am_flag_split(&m->flag[g], yn,
				m->flag[g].text[yn] ? m->flag[g].text[yn] : am_flag_default[yn]);
			if (rs == -3)
				return mb_err(err, MB_ENOMEM, "out of memory");
			if (rs)
				return mb_err(err, MB_EDATA, "%s:%d: bad '%s': %s", path, m->flag[g].line[yn],
					am_flag_keys[g][yn], rs == -2 ? "more than 16 values"
					: "an empty value (give comma-separated values)");
		}
		for (size_t i = 0; i < m->flag[g].n[0]; i++)
			for (size_t j = 0; j < m->flag[g].n[1]; j++)
				if (strcasecmp(m->flag[g].v[0][i], m->flag[g].v[1][j]) == 0)
					return mb_err(err, MB_EDATA, "%s:%d: '%s' means both yes and no"
						" ('%s' and '%s')", path,
						m->flag[g].line[1] ? m->flag[g].line[1] : m->flag[g].line[0],
						m->flag[g].v[0][i], am_flag_keys[g][0], am_flag_keys[g][1]);
	}
	return 0;
}

/* The line of the first key of a location group, 0 if none of it is given. */
static int am_group_line(const struct agencymap *m, int a, int b, int extra_line)
{
	int la = a >= 0 ? m->col[a].line : 0, lb = b >= 0 ? m->col[b].line : 0;
	int best = 0;

	if (la && (!best || la < best))
		best = la;
	if (lb && (!best || lb < best))
		best = lb;
	if (extra_line && (!best || extra_line < best))
		best = extra_line;
	return best;
}

/* Check the combination of keys; return 0 or MB_EDATA with err set. */
static int am_validate(struct agencymap *m, const struct am_parse *ps, struct mb_error *err)
{
	/* location groups: key a, key b (or -1), whether unit_layer belongs to it */
	static const struct { int a, b, layer; enum agencymap_location loc; const char *need; } g[] = {
		{ AGENCYMAP_LONGITUDE, AGENCYMAP_LATITUDE, 0, AGENCYMAP_LOC_LONLAT,
			"'longitude' and 'latitude'" },
		{ AGENCYMAP_EASTING, AGENCYMAP_NORTHING, 0, AGENCYMAP_LOC_BNG,
			"'easting' and 'northing'" },
		{ AGENCYMAP_LSOA, -1, 0, AGENCYMAP_LOC_LSOA, "'lsoa'" },
		{ AGENCYMAP_UNIT, -1, 1, AGENCYMAP_LOC_UNIT, "'unit' and 'unit_layer'" },
	};
	const char *path = m->path, *why;
	int first = -1, first_line = 0;
	char bad[3] = "";

	int r;

	if (ps->kind) {
		if (strcasecmp(ps->kind, "extract") == 0)
			m->extract = 1;
		else if (strcasecmp(ps->kind, "agency") != 0)
			return mb_err(err, MB_EDATA, "%s:%d: unknown kind '%s': give 'agency' or 'extract'",
				path, ps->kind_line, ps->kind);
	}
	if (!m->extract && !m->col[AGENCYMAP_CATEGORY].name)
		return mb_err(err, MB_EDATA, "%s: missing 'category' in [columns]", path);
	/* when */
	if (m->col[AGENCYMAP_DATE].name && m->col[AGENCYMAP_MONTH].name) {
		int ld = m->col[AGENCYMAP_DATE].line, lm = m->col[AGENCYMAP_MONTH].line;

		return mb_err(err, MB_EDATA, "%s:%d: '%s' conflicts with '%s' (line %d): give one",
			path, ld > lm ? ld : lm, ld > lm ? "date" : "month",
			ld > lm ? "month" : "date", ld > lm ? lm : ld);
	}
	if (m->col[AGENCYMAP_MONTH].name) {
		if (m->date_format)
			return mb_err(err, MB_EDATA, "%s:%d: 'date_format' given without 'date'",
				path, ps->date_format_line);
		m->when = AGENCYMAP_WHEN_MONTH;
	} else if (m->col[AGENCYMAP_DATE].name) {
		if (!m->date_format)
			return mb_err(err, MB_EDATA, "%s:%d: 'date' needs a 'date_format'",
				path, m->col[AGENCYMAP_DATE].line);
		why = am_compile_format(m->fmt, ARRAY_SIZE(m->fmt), &m->fmt_len,
			m->date_format, 0, bad);
		if (why)
			return mb_err(err, MB_EDATA, "%s:%d: bad date_format '%s': %s%s%s%s", path,
				ps->date_format_line, m->date_format, why, bad[0] ? " '" : "", bad,
				bad[0] ? "'" : "");
		m->when = AGENCYMAP_WHEN_DATE;
		for (size_t i = 0; i < m->fmt_len; i++)
			m->date_has_time |= m->fmt[i].kind == 'H';
	} else {
		return mb_err(err, MB_EDATA, "%s: no date: give 'date' (with 'date_format') or "
			"'month' in [columns]", path);
	}
	if ((r = am_validate_extract(m, ps, err)))
		return r;
	if (m->extract)
		return 0; /* no location: the police.uk crime's */
	/* where: exactly one complete group */
	for (size_t i = 0; i < ARRAY_SIZE(g); i++) {
		int line = am_group_line(m, g[i].a, g[i].b, g[i].layer ? ps->unit_layer_line : 0);
		int complete = m->col[g[i].a].name && (g[i].b < 0 || m->col[g[i].b].name)
			&& (!g[i].layer || m->unit_layer);

		if (!line)
			continue;
		if (first >= 0)
			return mb_err(err, MB_EDATA, "%s:%d: location %s conflicts with %s (line %d): "
				"give exactly one location", path, line, g[i].need, g[first].need,
				first_line);
		if (!complete)
			return mb_err(err, MB_EDATA, "%s:%d: incomplete location: give %s", path,
				line, g[i].need);
		first = (int)i;
		first_line = line;
		m->location = g[i].loc;
	}
	if (first < 0)
		return mb_err(err, MB_EDATA, "%s: no location: give 'longitude' + 'latitude', "
			"'easting' + 'northing', 'lsoa', or 'unit' + 'unit_layer' in [columns]", path);
	return 0;
}

int agencymap_load(const char *path, struct agencymap **out, struct mb_error *err)
{
	struct am_parse ps;
	struct agencymap *m = NULL;
	int rc = 0, line;

	*out = NULL;
	memset(&ps, 0, sizeof(ps));
	m = calloc(1, sizeof(*m));
	if (!m || !(m->path = am_strdup(path))) {
		rc = mb_err(err, MB_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (int f = 0; f < AGENCYMAP_NFIELDS; f++)
		m->col[f].index = -1;
	ps.map = m;
	ps.fp = fopen(path, "r");
	if (!ps.fp) {
		rc = mb_err(err, MB_EIO, "cannot open '%s': %s", path, strerror(errno));
		goto cleanup;
	}
	{
		long col;
		int nul = am_find_nul(ps.fp, &line, &col);

		if (nul) {
			rc = nul < 0 ? mb_err(err, MB_EIO, "cannot read '%s'", path)
				     : mb_err(err, MB_EDATA, "%s:%d:%ld: NUL byte in the column map", path,
					      line, col);
			goto cleanup;
		}
	}
	line = ini_parse_stream(am_reader, &ps, am_handler, &ps);
	if (line == -2 || (ps.err_line && ps.err_code == MB_ENOMEM)) {
		rc = mb_err(err, MB_ENOMEM, "%s: out of memory", path);
		goto cleanup;
	}
	if (ferror(ps.fp)) {
		rc = mb_err(err, MB_EIO, "cannot read '%s'", path);
		goto cleanup;
	}
	if (line > 0) {
		if (ps.err_line == line)
			rc = mb_err(err, MB_EDATA, "%s:%d: %s", path, line, ps.reason);
		else
			rc = mb_err(err, MB_EDATA, "%s:%d: syntax error (expected '[section]' or "
				"'key = value')", path, line);
		goto cleanup;
	}
	rc = am_validate(m, &ps, err);
	if (rc)
		goto cleanup;
	*out = m;
	m = NULL;
cleanup:
	if (ps.fp)
		fclose(ps.fp);
	free(ps.kind);
	agencymap_free(m);
	return rc;
}

void agencymap_free(struct agencymap *map)
{
	if (!map)
		return;
	for (int f = 0; f < AGENCYMAP_NFIELDS; f++)
		free(map->col[f].name);
	free(map->path);
	free(map->source_name);
	free(map->unit_layer);
	free(map->date_format);
	free(map->time_format);
	for (int g = 0; g < AGENCYMAP_NFLAGS; g++)
		for (int yn = 0; yn < 2; yn++) {
			free(map->flag[g].text[yn]);
			for (size_t i = 0; i < map->flag[g].n[yn]; i++)
				free(map->flag[g].v[yn][i]);
		}
	free(map);
}

const char *agencymap_field_key(enum agencymap_field f)
{
	return f >= 0 && f < AGENCYMAP_NFIELDS ? am_keys[f] : "?";
}

/* Trim spaces and tabs from both ends of [*s, *s + *len). */
static void am_trim(const char **s, size_t *len)
{
	while (*len > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

int agencymap_bind(struct agencymap *map, const char *const header_fields[],
	size_t nfields, struct mb_error *err)
{
	int rc = 0;

	for (int f = 0; f < AGENCYMAP_NFIELDS; f++)
		map->col[f].index = -1;
	map->header_fields = 0;
	for (int f = 0; f < AGENCYMAP_NFIELDS && rc == 0; f++) {
		const char *want = map->col[f].name;
		size_t wlen;

		if (!want)
			continue;
		wlen = strlen(want);
		for (size_t i = 0; i < nfields; i++) {
			const char *h = header_fields[i];
			size_t hlen = strlen(h);

			if (i == 0) {
				size_t bom = csvtab_bom(h, hlen);

				h += bom;
				hlen -= bom;
			}
			am_trim(&h, &hlen);
			if (hlen != wlen || strncasecmp(h, want, wlen) != 0)
				continue;
			if (map->col[f].index >= 0) {
				rc = mb_err(err, MB_EDATA, "%s: column '%s' (key '%s', line %d) appears "
					"more than once in the header (fields %ld and %zu)", map->path, want,
					am_keys[f], map->col[f].line, map->col[f].index + 1, i + 1);
				break;
			}
			map->col[f].index = (long)i;
		}
		if (rc == 0 && map->col[f].index < 0)
			rc = mb_err(err, MB_EDATA, "%s: column '%s' (key '%s', line %d) not found in "
				"the CSV header", map->path, want, am_keys[f], map->col[f].line);
	}
	if (rc) {
		for (int f = 0; f < AGENCYMAP_NFIELDS; f++)
			map->col[f].index = -1;
		return rc;
	}
	map->header_fields = nfields;
	return 0;
}

/* Read exactly (min..max) decimal digits at *p (bounded by end) into *v. */
static int am_digits(const char **p, const char *end, int min, int max, int *v)
{
	int n = 0, x = 0;

	while (*p < end && n < max && **p >= '0' && **p <= '9') {
		x = x * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	*v = x;
	return n >= min;
}

/* Days in month m (1..12) of year y, Gregorian. */
static int am_days_in_month(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* Set *reason (if wanted) and return -MB_EDATA. */
static int am_reject(const char **reason, const char *why)
{
	if (reason)
		*reason = why;
	return -MB_EDATA;
}

/* Days from 2000-01-01 to y-m-d (Gregorian; negative before 2000). */
static int am_days_since_2000(int y, int m, int d)
{
	/* days from civil (H. Hinnant's algorithm), shifted to 2000-03-01 = 0 era */
	int yy = y - (m <= 2);
	int era = (yy >= 0 ? yy : yy - 399) / 400;
	int yoe = yy - era * 400;
	int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468 - 10957;
}

/* Run the time steps of a format (H, M, S, literals) over [*p, end). */
static int am_time_step(const struct agencymap_fmt_step *st, const char **p, const char *end,
	int *hour, int *min, int *sec)
{
	switch (st->kind) {
	case 'H': return am_digits(p, end, 1, 2, hour);
	case 'M': return am_digits(p, end, 2, 2, min);
	case 'S': return am_digits(p, end, 2, 2, sec);
	case 'L': {
		int ok = *p < end && **p == st->lit;

		*p += ok;
		return ok;
	}
	default: return 0;
	}
}

int agencymap_parse_when_n(const struct agencymap *map, const char *text, size_t len,
	struct agencymap_when_out *w, const char **reason)
{
	const char *p, *end;
	int year = -1, month = -1, day = -1, hour = -1, min = -1, sec = -1;

	w->month = 0;
	w->day = -1;
	w->minute = -1;
	am_trim(&text, &len);
	if (len == 0)
		return am_reject(reason, map->when == AGENCYMAP_WHEN_DATE ? "empty date" : "empty month");
	p = text;
	end = text + len;
	if (map->when == AGENCYMAP_WHEN_MONTH) {
		if (!am_digits(&p, end, 4, 4, &year) || p == end || *p++ != '-'
			|| !am_digits(&p, end, 2, 2, &month) || p != end)
			return am_reject(reason, "not a YYYY-MM month");
	} else {
		for (size_t i = 0; i < map->fmt_len; i++) {
			const struct agencymap_fmt_step *st = &map->fmt[i];
			int ok = 1;

			switch (st->kind) {
			case 'd': ok = am_digits(&p, end, 1, 2, &day); break;
			case 'm': ok = am_digits(&p, end, 1, 2, &month); break;
			case 'Y': ok = am_digits(&p, end, 4, 4, &year); break;
			case 'y':
				/* pivot matches the accepted range: 90-99 -> 1990s, else 2000s */
				ok = am_digits(&p, end, 2, 2, &year);
				year += year >= 90 ? 1900 : 2000;
				break;
			case '*': p = end; break;
			default: ok = am_time_step(st, &p, end, &hour, &min, &sec); break;
			}
			if (!ok)
				return am_reject(reason, "date does not match date_format");
		}
		if (p != end)
			return am_reject(reason, "trailing text after the date");
	}
	if (month < 1 || month > 12)
		return am_reject(reason, "month out of range 1..12");
	if (year < 1990 || year > 2100)
		return am_reject(reason, "year outside 1990..2100");
	if (day != -1 && (day < 1 || day > am_days_in_month(year, month)))
		return am_reject(reason, "day out of range for the month");
	if (hour > 23)
		return am_reject(reason, "hour out of range 0..23");
	if (min > 59)
		return am_reject(reason, "minute out of range 0..59");
	if (sec > 59)
		return am_reject(reason, "second out of range 0..59");
	w->month = (year - 2000) * 12 + (month - 1);
	if (day != -1)
		w->day = am_days_since_2000(year, month, day);
	if (hour != -1 && min != -1)
		w->minute = hour * 60 + min;
	return 0;
}

int agencymap_parse_month_n(const struct agencymap *map, const char *text, size_t len,
	int *month_index, const char **reason)
{
	struct agencymap_when_out w;
	int r = agencymap_parse_when_n(map, text, len, &w, reason);

	if (r == 0)
		*month_index = w.month;
	return r;
}

int agencymap_parse_time_n(const struct agencymap *map, const char *text, size_t len,
	int *minute, const char **reason)
{
	const char *p, *end;
	int hour = -1, min = -1, sec = -1;

	*minute = -1;
	am_trim(&text, &len);
	if (len == 0)
		return 0;
	p = text;
	end = text + len;
	for (size_t i = 0; i < map->tfmt_len; i++)
		if (!am_time_step(&map->tfmt[i], &p, end, &hour, &min, &sec))
			return am_reject(reason, "time does not match time_format");
	if (p != end)
		return am_reject(reason, "trailing text after the time");
	if (hour > 23)
		return am_reject(reason, "hour out of range 0..23");
	if (min > 59)
		return am_reject(reason, "minute out of range 0..59");
	if (sec > 59)
		return am_reject(reason, "second out of range 0..59");
	*minute = hour * 60 + min;
	return 0;
}

int agencymap_flag_n(const struct agencymap *map, enum agencymap_flag which, const char *text,
	size_t len)
{
	const struct agencymap_flagvals *fv = &map->flag[which];

	am_trim(&text, &len);
	if (len == 0)
		return -1;
	for (int yn = 0; yn < 2; yn++)
		for (size_t i = 0; i < fv->n[yn]; i++)
			if (strlen(fv->v[yn][i]) == len && strncasecmp(fv->v[yn][i], text, len) == 0)
				return yn == 0 ? 1 : 0;
	return -2;
}

int agencymap_parse_month(const struct agencymap *map, const char *text,
	int *month_index, const char **reason)
{
	return agencymap_parse_month_n(map, text, strlen(text), month_index, reason);
}
