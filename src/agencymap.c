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

/* INI keys of [columns] that name a column, by enum agencymap_field. */
static const char *const am_keys[AGENCYMAP_NFIELDS] = {
	"id", "date", "month", "category", "longitude", "latitude",
	"easting", "northing", "lsoa", "unit",
};

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
		return am_fail(ps, MB_EDATA, "unknown key '%s' in [%s]", name, section);
	}
	if (strcasecmp(section, "columns") != 0)
		return am_fail(ps, MB_EDATA, "unknown section [%s]", section);
	if (strcasecmp(name, "date_format") == 0)
		return am_set(ps, &m->date_format, &ps->date_format_line, name, value);
	if (strcasecmp(name, "unit_layer") == 0)
		return am_set(ps, &m->unit_layer, &ps->unit_layer_line, name, value);
	for (int f = 0; f < AGENCYMAP_NFIELDS; f++)
		if (strcasecmp(name, am_keys[f]) == 0)
			return am_set(ps, &m->col[f].name, &m->col[f].line, name, value);
	return am_fail(ps, MB_EDATA, "unknown key '%s' in [%s]", name, section);
}

/* Compile date_format into map->fmt. Return NULL, or a static reason. */
static const char *am_compile_format(struct agencymap *m, const char *fmt, char *bad)
{
	int seen[128] = { 0 };
	size_t n = 0;

	for (const char *p = fmt; *p; p++) {
		struct agencymap_fmt_step st = { 'L', *p };

		if (n > 0 && m->fmt[n - 1].kind == '*')
			return "'%*' must come last";
		if (*p == '%') {
			p++;
			if (*p == '\0')
				return "it ends with a lone '%'";
			if (*p == '%') {
				st.lit = '%';
			} else if (strchr("dmYy*", *p)) {
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
		if (n == sizeof(m->fmt) / sizeof(m->fmt[0]))
			return "it is too long";
		m->fmt[n++] = st;
	}
	if (seen['Y'] && seen['y'])
		return "it has both %Y and %y";
	if (!seen['m'])
		return "it needs %m";
	if (!seen['Y'] && !seen['y'])
		return "it needs %Y or %y";
	m->fmt_len = n;
	return NULL;
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

	if (!m->col[AGENCYMAP_CATEGORY].name)
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
		why = am_compile_format(m, m->date_format, bad);
		if (why)
			return mb_err(err, MB_EDATA, "%s:%d: bad date_format '%s': %s%s%s%s", path,
				ps->date_format_line, m->date_format, why, bad[0] ? " '" : "", bad,
				bad[0] ? "'" : "");
		m->when = AGENCYMAP_WHEN_DATE;
	} else {
		return mb_err(err, MB_EDATA, "%s: no date: give 'date' (with 'date_format') or "
			"'month' in [columns]", path);
	}
	/* where: exactly one complete group */
	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
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

int agencymap_parse_month_n(const struct agencymap *map, const char *text, size_t len,
	int *month_index, const char **reason)
{
	const char *p, *end;
	int year = -1, month = -1, day = -1;

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
			case 'L': ok = p < end && *p == st->lit; p += ok; break;
			case 'd': ok = am_digits(&p, end, 1, 2, &day); break;
			case 'm': ok = am_digits(&p, end, 1, 2, &month); break;
			case 'Y': ok = am_digits(&p, end, 4, 4, &year); break;
			case 'y':
				/* pivot matches the accepted range: 90-99 -> 1990s, else 2000s */
				ok = am_digits(&p, end, 2, 2, &year);
				year += year >= 90 ? 1900 : 2000;
				break;
			case '*': p = end; break;
			default: ok = 0; break;
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
	*month_index = (year - 2000) * 12 + (month - 1);
	return 0;
}

int agencymap_parse_month(const struct agencymap *map, const char *text,
	int *month_index, const char **reason)
{
	return agencymap_parse_month_n(map, text, strlen(text), month_index, reason);
}
