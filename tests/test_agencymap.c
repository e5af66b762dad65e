/*
 * Tests for agencymap.c: loading and validating agency column maps (INI),
 * binding them to a CSV header, and parsing dates and months. Expected month
 * indexes are computed by hand as (year - 2000) * 12 + (month - 1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "microbeat/agencymap.h"

#define FIX "tests/fixtures/geo/"

/* Temporary directory for generated INI files, made by the group setup. */
static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mb_agencymap_XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/map.ini", tmpdir);
	unlink(path);
	return rmdir(tmpdir);
}

/* Write text to tmpdir/map.ini and return its path (static buffer). */
static const char *write_ini(const char *text)
{
	static char path[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/map.ini", tmpdir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	return path;
}

static struct agencymap *load_ok(const char *path)
{
	struct agencymap *m = NULL;
	struct mb_error err = { 0, "" };
	int rc = agencymap_load(path, &m, &err);

	if (rc)
		print_error("%s\n", err.msg);
	assert_int_equal(rc, 0);
	assert_non_null(m);
	return m;
}

static void test_fire_map(void **state)
{
	struct agencymap *m = load_ok(FIX "fire.ini");

	(void)state;
	assert_string_equal(m->source_name, "Cambridgeshire Fire and Rescue");
	assert_int_equal(m->location, AGENCYMAP_LOC_BNG);
	assert_int_equal(m->when, AGENCYMAP_WHEN_DATE);
	assert_string_equal(m->date_format, "%d/%m/%Y");
	/* inline "; ..." comments are not part of the value */
	assert_string_equal(m->col[AGENCYMAP_ID].name, "incident_ref");
	assert_int_equal(m->col[AGENCYMAP_ID].line, 6);
	assert_string_equal(m->col[AGENCYMAP_DATE].name, "call_date");
	assert_string_equal(m->col[AGENCYMAP_CATEGORY].name, "incident_type");
	assert_string_equal(m->col[AGENCYMAP_EASTING].name, "easting");
	assert_string_equal(m->col[AGENCYMAP_NORTHING].name, "northing");
	assert_null(m->col[AGENCYMAP_MONTH].name);
	assert_null(m->col[AGENCYMAP_LSOA].name);
	assert_null(m->unit_layer);
	for (int f = 0; f < AGENCYMAP_NFIELDS; f++)
		assert_int_equal(m->col[f].index, -1);
	assert_string_equal(agencymap_field_key(AGENCYMAP_NORTHING), "northing");
	agencymap_free(m);
}

static void test_unit_map(void **state)
{
	struct agencymap *m = load_ok(FIX "council_asb.ini");

	(void)state;
	assert_int_equal(m->location, AGENCYMAP_LOC_UNIT);
	assert_int_equal(m->when, AGENCYMAP_WHEN_MONTH);
	assert_string_equal(m->unit_layer, "parish");
	assert_string_equal(m->col[AGENCYMAP_UNIT].name, "Parish Code");
	assert_null(m->col[AGENCYMAP_ID].name);
	assert_null(m->date_format);
	agencymap_free(m);
}

static void test_other_locations(void **state)
{
	static const struct { const char *ini; enum agencymap_location loc; } cases[] = {
		{ "[columns]\ncategory = c\nmonth = m\nlongitude = x\nlatitude = y\n",
			AGENCYMAP_LOC_LONLAT },
		{ "[columns]\ncategory = c\nmonth = m\nlsoa = LSOA code\n", AGENCYMAP_LOC_LSOA },
		{ "[Columns]\nCategory = c\nMONTH = m\nunit_layer = ward\nunit = w\n",
			AGENCYMAP_LOC_UNIT },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct agencymap *m = load_ok(write_ini(cases[i].ini));

		assert_int_equal(m->location, cases[i].loc);
		assert_null(m->source_name);
		agencymap_free(m);
	}
}

static void test_invalid_maps(void **state)
{
	/* ini text, expected message after the file name */
	static const struct { const char *ini, *msg; } cases[] = {
		{ "[columns]\ncategory = t\nfoo = bar\nlsoa = l\nmonth = m\n",
			":3: unknown key 'foo' in [columns]" },
		{ "[source]\nname = a\nowner = b\n", ":3: unknown key 'owner' in [source]" },
		{ "[source]\nname = a\n[colums]\ncategory = t\n", ":4: unknown section [colums]" },
		{ "category = t\n", ":1: key 'category' outside a section" },
		{ "[columns]\ncategory = t\nthis line has no equals sign\n",
			":3: syntax error (expected '[section]' or 'key = value')" },
		{ "[columns]\ncategory = t\ncategory = u\n",
			":3: key 'category' given twice (first on line 2)" },
		{ "[columns]\ncategory =\n", ":2: empty value for 'category'" },
		{ "[columns]\nmonth = m\nlsoa = l\n", ": missing 'category' in [columns]" },
		{ "[columns]\ncategory = c\ndate = d\ndate_format = %Y-%m-%d\nmonth = m\nlsoa = l\n",
			":5: 'month' conflicts with 'date' (line 3): give one" },
		{ "[columns]\ncategory = c\nlsoa = l\n",
			": no date: give 'date' (with 'date_format') or 'month' in [columns]" },
		{ "[columns]\ncategory = c\ndate = d\nlsoa = l\n", ":3: 'date' needs a 'date_format'" },
		{ "[columns]\ncategory = c\nmonth = m\ndate_format = %Y\nlsoa = l\n",
			":4: 'date_format' given without 'date'" },
		{ "[columns]\ncategory = c\ndate = d\ndate_format = %d/%m/%Y %j\nlsoa = l\n",
			":4: bad date_format '%d/%m/%Y %j': unsupported directive '%j'" },
		{ "[columns]\ncategory = c\ndate = d\ndate_format = %d/%m/%Y %H\nlsoa = l\n",
			":4: bad date_format '%d/%m/%Y %H': %H and %M go together" },
		{ "[columns]\ncategory = c\ndate = d\ndate_format = %d/%m\nlsoa = l\n",
			":4: bad date_format '%d/%m': it needs %Y or %y" },
		{ "[columns]\ncategory = c\ndate = d\ndate_format = %d/%Y\nlsoa = l\n",
			":4: bad date_format '%d/%Y': it needs %m" },
		{ "[columns]\ncategory = c\ndate = d\ndate_format = %Y%y%m\nlsoa = l\n",
			":4: bad date_format '%Y%y%m': it has both %Y and %y" },
		{ "[columns]\ncategory = c\ndate = d\ndate_format = %d%d%m%Y\nlsoa = l\n",
			":4: bad date_format '%d%d%m%Y': a directive appears twice" },
		{ "[columns]\ncategory = c\ndate = d\ndate_format = %*%m%Y\nlsoa = l\n",
			":4: bad date_format '%*%m%Y': '%*' must come last" },
		{ "[columns]\ncategory = c\ndate = d\ndate_format = %m%Y%\nlsoa = l\n",
			":4: bad date_format '%m%Y%': it ends with a lone '%'" },
		{ "[columns]\ncategory = c\nmonth = m\nlongitude = x\nlatitude = y\n"
			"easting = e\nnorthing = n\n",
			":6: location 'easting' and 'northing' conflicts with 'longitude' and "
			"'latitude' (line 4): give exactly one location" },
		{ "[columns]\ncategory = c\nmonth = m\nlsoa = l\nunit = u\nunit_layer = parish\n",
			":5: location 'unit' and 'unit_layer' conflicts with 'lsoa' (line 4)" },
		{ "[columns]\ncategory = c\nmonth = m\nlongitude = x\n",
			":4: incomplete location: give 'longitude' and 'latitude'" },
		{ "[columns]\ncategory = c\nmonth = m\nnorthing = n\n",
			":4: incomplete location: give 'easting' and 'northing'" },
		{ "[columns]\ncategory = c\nmonth = m\nunit = u\n",
			":4: incomplete location: give 'unit' and 'unit_layer'" },
		{ "[columns]\ncategory = c\nmonth = m\nunit_layer = parish\n",
			":4: incomplete location: give 'unit' and 'unit_layer'" },
		{ "[columns]\ncategory = c\nmonth = m\n",
			": no location: give 'longitude' + 'latitude', 'easting' + 'northing', "
			"'lsoa', or 'unit' + 'unit_layer' in [columns]" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path = write_ini(cases[i].ini);
		struct agencymap *m = (struct agencymap *)&cases; /* must be reset to NULL */
		struct mb_error err = { 0, "" };
		char want[512];
		int rc = agencymap_load(path, &m, &err);

		snprintf(want, sizeof(want), "%s%s", path, cases[i].msg);
		if (rc != -MB_EDATA || strncmp(err.msg, want, strlen(want)) != 0)
			print_error("case %zu: rc %d, got '%s'\n  want '%s'\n", i, rc, err.msg, want);
		assert_int_equal(rc, -MB_EDATA);
		assert_int_equal(err.code, MB_EDATA);
		assert_null(m);
		assert_int_equal(strncmp(err.msg, want, strlen(want)), 0);
	}
}

static void test_missing_file(void **state)
{
	struct agencymap *m = NULL;
	struct mb_error err = { 0, "" };

	(void)state;
	assert_int_equal(agencymap_load(FIX "nope.ini", &m, &err), -MB_EIO);
	assert_null(m);
	assert_string_equal(err.msg, "cannot open '" FIX "nope.ini': No such file or directory");
}

static void test_bind(void **state)
{
	static const char *const header[] = {
		"\xEF\xBB\xBFIncident_Ref", " CALL_DATE ", "station", "Incident_Type\t",
		"Easting", "NORTHING",
	};
	static const char *const missing[] = { "incident_ref", "call_date", "incident_type",
		"easting" };
	static const char *const twice[] = { "incident_ref", "call_date", "incident_type",
		"easting", "northing", "Easting" };
	struct agencymap *m = load_ok(FIX "fire.ini");
	struct mb_error err = { 0, "" };

	(void)state;
	assert_int_equal(agencymap_bind(m, header, 6, &err), 0);
	assert_int_equal(m->col[AGENCYMAP_ID].index, 0);
	assert_int_equal(m->col[AGENCYMAP_DATE].index, 1);
	assert_int_equal(m->col[AGENCYMAP_CATEGORY].index, 3);
	assert_int_equal(m->col[AGENCYMAP_EASTING].index, 4);
	assert_int_equal(m->col[AGENCYMAP_NORTHING].index, 5);
	assert_int_equal(m->col[AGENCYMAP_MONTH].index, -1);
	assert_int_equal(m->col[AGENCYMAP_LSOA].index, -1);
	assert_int_equal(m->header_fields, 6);

	assert_int_equal(agencymap_bind(m, missing, 4, &err), -MB_EDATA);
	assert_string_equal(err.msg, FIX "fire.ini: column 'northing' (key 'northing', line 11) "
		"not found in the CSV header");
	for (int f = 0; f < AGENCYMAP_NFIELDS; f++)
		assert_int_equal(m->col[f].index, -1);
	assert_int_equal(m->header_fields, 0);

	assert_int_equal(agencymap_bind(m, twice, 6, &err), -MB_EDATA);
	assert_string_equal(err.msg, FIX "fire.ini: column 'easting' (key 'easting', line 10) "
		"appears more than once in the header (fields 4 and 6)");
	assert_int_equal(m->col[AGENCYMAP_ID].index, -1);
	agencymap_free(m);
}

/* One parse case: format (NULL = month mode), text, expected index or reason. */
struct date_case {
	const char *format;  /* date_format, or NULL for a YYYY-MM month column */
	const char *text;    /* field text */
	int ok;              /* 1 when accepted */
	int month;           /* expected months since 2000-01 when accepted */
	const char *reason;  /* expected reason when rejected */
};

static void test_parse_dates(void **state)
{
	static const struct date_case cases[] = {
		{ "%d/%m/%Y", "01/02/2024", 1, 289, NULL },   /* (24)*12 + 1 */
		{ "%d/%m/%Y", "1/2/2024", 1, 289, NULL },
		{ "%d/%m/%Y", " 05/06/2021\t", 1, 257, NULL }, /* 21*12 + 5 */
		{ "%d/%m/%Y", "29/02/2024", 1, 289, NULL },   /* leap year */
		{ "%d/%m/%Y", "29/02/2000", 1, 1, NULL },     /* divisible by 400: leap */
		{ "%d/%m/%Y", "31/12/2100", 1, 1211, NULL },  /* 100*12 + 11 */
		{ "%d/%m/%Y", "01/01/1990", 1, -120, NULL },  /* -10*12 */
		{ "%d/%m/%Y", "29/02/2023", 0, 0, "day out of range for the month" },
		{ "%d/%m/%Y", "29/02/2100", 0, 0, "day out of range for the month" }, /* not leap */
		{ "%d/%m/%Y", "31/04/2024", 0, 0, "day out of range for the month" },
		{ "%d/%m/%Y", "00/01/2024", 0, 0, "day out of range for the month" },
		{ "%d/%m/%Y", "15/13/2024", 0, 0, "month out of range 1..12" },
		{ "%d/%m/%Y", "15/00/2024", 0, 0, "month out of range 1..12" },
		{ "%d/%m/%Y", "15/06/1989", 0, 0, "year outside 1990..2100" },
		{ "%d/%m/%Y", "15/06/2101", 0, 0, "year outside 1990..2100" },
		{ "%d/%m/%Y", "05-06-2021", 0, 0, "date does not match date_format" },
		{ "%d/%m/%Y", "05/06/21", 0, 0, "date does not match date_format" },
		{ "%d/%m/%Y", "123/06/2021", 0, 0, "date does not match date_format" },
		{ "%d/%m/%Y", "05/06/2021x", 0, 0, "trailing text after the date" },
		{ "%d/%m/%Y", "05/06/2021 10:00", 0, 0, "trailing text after the date" },
		{ "%d/%m/%Y", "  ", 0, 0, "empty date" },
		{ "%y%m%d", "240131", 1, 288, NULL },
		{ "%y%m%d", "991231", 1, -1, NULL },          /* 1999-12 */
		{ "%y%m%d", "890101", 1, 1068, NULL },        /* 2089-01: 89*12 */
		{ "%Y-%m-%d%*", "2024-03-05 13:45", 1, 290, NULL },
		{ "%Y-%m-%d%*", "2024-03-05", 1, 290, NULL },
		{ "%Y-%m-%dT%*", "2024-03-05T13:45:00Z", 1, 290, NULL },
		{ "%m/%Y", "3/2024", 1, 290, NULL },
		{ "%d.%m.%Y 100%%", "05.03.2024 100%", 1, 290, NULL },
		{ NULL, "2024-03", 1, 290, NULL },
		{ NULL, "  2000-01\t", 1, 0, NULL },
		{ NULL, "1990-01", 1, -120, NULL },
		{ NULL, "2024-3", 0, 0, "not a YYYY-MM month" },
		{ NULL, "2024-03-01", 0, 0, "not a YYYY-MM month" },
		{ NULL, "03/2024", 0, 0, "not a YYYY-MM month" },
		{ NULL, "2024-13", 0, 0, "month out of range 1..12" },
		{ NULL, "1989-12", 0, 0, "year outside 1990..2100" },
		{ NULL, "", 0, 0, "empty month" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char ini[256];
		struct agencymap *m;
		const char *reason = NULL;
		int month = -9999, rc;

		if (cases[i].format)
			snprintf(ini, sizeof(ini), "[columns]\ncategory = c\nlsoa = l\ndate = d\n"
				"date_format = %s\n", cases[i].format);
		else
			snprintf(ini, sizeof(ini), "[columns]\ncategory = c\nlsoa = l\nmonth = m\n");
		m = load_ok(write_ini(ini));
		rc = agencymap_parse_month(m, cases[i].text, &month, &reason);
		if ((rc == 0) != cases[i].ok || (rc == 0 && month != cases[i].month)
			|| (rc != 0 && strcmp(reason, cases[i].reason) != 0))
			print_error("case %zu '%s' with '%s': rc %d month %d reason '%s'\n", i,
				cases[i].text, cases[i].format ? cases[i].format : "YYYY-MM", rc, month,
				reason ? reason : "");
		if (cases[i].ok) {
			assert_int_equal(rc, 0);
			assert_int_equal(month, cases[i].month);
		} else {
			assert_int_equal(rc, -MB_EDATA);
			assert_string_equal(reason, cases[i].reason);
		}
		agencymap_free(m);
	}
}

static void test_parse_length(void **state)
{
	/* a field lent by libcsv is not NUL-terminated: only len bytes count */
	static const char buf[] = "2024-03XYZ";
	struct agencymap *m = load_ok(write_ini("[columns]\ncategory = c\nlsoa = l\nmonth = m\n"));
	int month = 0;

	(void)state;
	assert_int_equal(agencymap_parse_month_n(m, buf, 7, &month, NULL), 0);
	assert_int_equal(month, 290);
	assert_int_equal(agencymap_parse_month_n(m, buf, 8, &month, NULL), -MB_EDATA);
	agencymap_free(m);
	agencymap_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fire_map),
		cmocka_unit_test(test_unit_map),
		cmocka_unit_test(test_other_locations),
		cmocka_unit_test(test_invalid_maps),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_bind),
		cmocka_unit_test(test_parse_dates),
		cmocka_unit_test(test_parse_length),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
