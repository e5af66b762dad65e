/*
 * Tests for force extracts (issue 19): the map keys of kind = extract, the
 * date/time and flag parsers, and a small store where an extract's rows
 * attach to police.uk crimes by Crime ID and month and come back through
 * store_slice_load(extract = 1) aligned with the slice's events. Expected
 * day numbers were computed independently with Python's datetime
 * ((date(2024, 7, 15) - date(2000, 1, 1)).days = 8962, 2024-02-29 -> 8825).
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
#include "microbeat/ingest.h"
#include "microbeat/slice.h"
#include "microbeat/store.h"

/* Temporary directory for the INI files and the store, made by the group setup. */
static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mb_extract_XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Write text to tmpdir/name and return its path (static buffer). */
static const char *write_file(const char *name, const char *text)
{
	static char path[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
	return path;
}

static const char MAP[] =
	"[source]\nname = Test Constabulary (force extract)\nkind = extract\n"
	"[columns]\nid = ref\ndate = when\ndate_format = %d/%m/%Y %H:%M\n"
	"subgroup = sub\nda = da\nda_yes = Y, yes\nda_no = N\nhate = hate\nhate_strand = strand\n"
	"parish = parish\n";

/* Load text as a map: 0 or the error code, message in err. */
static int load(const char *text, struct agencymap **m, struct mb_error *err)
{
	return agencymap_load(write_file("map.ini", text), m, err);
}

static void test_map_keys(void **state)
{
	struct agencymap *m = NULL;
	struct mb_error err = { 0, "" };

	(void)state;
	assert_int_equal(load(MAP, &m, &err), 0);
	assert_int_equal(m->extract, 1);
	assert_int_equal(m->date_has_time, 1);
	assert_int_equal(m->flag[AGENCYMAP_FLAG_DA].n[0], 2);
	assert_string_equal(m->flag[AGENCYMAP_FLAG_DA].v[0][1], "yes");
	/* defaults for hate: Y,Yes,1,True / N,No,0,False */
	assert_int_equal(agencymap_flag_n(m, AGENCYMAP_FLAG_HATE, " true ", 6), 1);
	assert_int_equal(agencymap_flag_n(m, AGENCYMAP_FLAG_HATE, "0", 1), 0);
	assert_int_equal(agencymap_flag_n(m, AGENCYMAP_FLAG_HATE, "  ", 2), -1);
	assert_int_equal(agencymap_flag_n(m, AGENCYMAP_FLAG_DA, "maybe", 5), -2);
	assert_int_equal(agencymap_flag_n(m, AGENCYMAP_FLAG_DA, "YES", 3), 1);
	agencymap_free(m);

	/* an extract needs its Crime ID; location and category keys are refused */
	assert_int_equal(load("[source]\nname = x\nkind = extract\n[columns]\nmonth = m\n", &m, &err),
			 -MB_EDATA);
	assert_non_null(strstr(err.msg, "needs 'id'"));
	assert_int_equal(load("[source]\nname = x\nkind = extract\n[columns]\nid = i\nmonth = m\n"
			      "lsoa = l\n", &m, &err), -MB_EDATA);
	assert_non_null(strstr(err.msg, ":7: 'lsoa' is not used in a force extract"));
	/* extract keys in an agency map */
	assert_int_equal(load("[source]\nname = x\n[columns]\nmonth = m\ncategory = c\nlsoa = l\n"
			      "da = d\n", &m, &err), -MB_EDATA);
	assert_non_null(strstr(err.msg, ":7: 'da' is a force-extract key"));
	assert_int_equal(load("[source]\nname = x\nkind = partner\n[columns]\nmonth = m\n", &m, &err),
			 -MB_EDATA);
	assert_non_null(strstr(err.msg, ":3: unknown kind 'partner'"));
	/* a value meaning both yes and no; time twice; %H without %M */
	assert_int_equal(load("[source]\nname = x\nkind = extract\n[columns]\nid = i\nmonth = m\n"
			      "da = d\nda_yes = Y,1\nda_no = N,1\n", &m, &err), -MB_EDATA);
	assert_non_null(strstr(err.msg, "means both yes and no"));
	assert_int_equal(load("[source]\nname = x\nkind = extract\n[columns]\nid = i\ndate = d\n"
			      "date_format = %Y-%m-%d %H:%M\ntime = t\n", &m, &err), -MB_EDATA);
	assert_non_null(strstr(err.msg, "'time' conflicts with %H"));
	assert_int_equal(load("[source]\nname = x\nkind = extract\n[columns]\nid = i\ndate = d\n"
			      "date_format = %Y-%m-%d %H\n", &m, &err), -MB_EDATA);
	assert_non_null(strstr(err.msg, "%H and %M go together"));
	assert_null(m);
}

static void test_when(void **state)
{
	struct agencymap *m = NULL;
	struct mb_error err = { 0, "" };
	struct agencymap_when_out w;
	const char *why = NULL;
	int minute;

	(void)state;
	assert_int_equal(load(MAP, &m, &err), 0);
	assert_int_equal(agencymap_parse_when_n(m, "15/07/2024 23:59", 16, &w, &why), 0);
	assert_int_equal(w.month, 24 * 12 + 6);
	assert_int_equal(w.day, 8962);
	assert_int_equal(w.minute, 23 * 60 + 59);
	assert_int_equal(agencymap_parse_when_n(m, "29/02/2024 0:05", 15, &w, &why), 0);
	assert_int_equal(w.day, 8825);
	assert_int_equal(w.minute, 5);
	assert_int_equal(agencymap_parse_when_n(m, "01/01/2000 00:00", 16, &w, &why), 0);
	assert_int_equal(w.day, 0);
	assert_int_equal(agencymap_parse_when_n(m, "15/07/2024 24:00", 16, &w, &why), -MB_EDATA);
	assert_string_equal(why, "hour out of range 0..23");
	assert_int_equal(agencymap_parse_when_n(m, "15/07/2024 12:60", 16, &w, &why), -MB_EDATA);
	assert_string_equal(why, "minute out of range 0..59");
	assert_int_equal(agencymap_parse_when_n(m, "15/07/2024", 10, &w, &why), -MB_EDATA);
	agencymap_free(m);
	/* a time column with its own format; blank = unknown */
	assert_int_equal(load("[source]\nname = x\nkind = extract\n[columns]\nid = i\ndate = d\n"
			      "date_format = %Y-%m-%d\ntime = t\ntime_format = %H%M\n", &m, &err), 0);
	assert_int_equal(agencymap_parse_time_n(m, "0930", 4, &minute, &why), 0);
	assert_int_equal(minute, 9 * 60 + 30);
	assert_int_equal(agencymap_parse_time_n(m, " ", 1, &minute, &why), 0);
	assert_int_equal(minute, -1);
	assert_int_equal(agencymap_parse_time_n(m, "09:30", 5, &minute, &why), -MB_EDATA);
	assert_int_equal(agencymap_parse_when_n(m, "2024-07-15", 10, &w, &why), 0);
	assert_int_equal(w.minute, -1);
	assert_int_equal(w.day, 8962);
	agencymap_free(m);
}

/* Three crimes (Burglary, Robbery, Drugs) and an ASB row in 2024-07. */
#define CID(c) #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c \
	#c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c \
	#c #c #c #c #c #c #c
static const char STREET[] =
	"Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
	"Crime type,Last outcome category,Context\n"
	CID(a) ",2024-07,Test Constabulary,Test Constabulary,0.1,52.1,On or near High Street,"
	"E01000001,Testshire 001A,Burglary,Under investigation,\n"
	CID(b) ",2024-07,Test Constabulary,Test Constabulary,0.1,52.1,On or near High Street,"
	"E01000001,Testshire 001A,Robbery,Under investigation,\n"
	CID(c) ",2024-07,Test Constabulary,Test Constabulary,0.1,52.1,On or near Mill Lane,"
	"E01000001,Testshire 001A,Drugs,Under investigation,\n"
	",2024-07,Test Constabulary,Test Constabulary,0.1,52.1,On or near Mill Lane,"
	"E01000001,Testshire 001A,Anti-social behaviour,,\n";

/* Rows for a and b (not c), one for a crime never loaded (d), and two bad rows. */
static const char EXTRACT[] =
	"ref,when,sub,da,hate,strand,parish\n"
	CID(a) ",15/07/2024 23:59,Non-residential burglary,N,N,,Milton\n"
	CID(b) ",01/07/2024 00:05,Robbery of personal property,yes,Y,Race,Milton\n"
	CID(d) ",02/07/2024 10:00,Other,N,,,Milton\n"
	CID(e) ",02/07/2024 10:00,Other,maybe,N,,Milton\n"
	CID(f) ",31/06/2024 10:00,Other,N,N,,Milton\n";

static int import(struct store *s, const char *name, const char *text, const char *map,
		  struct ingest_summary *sum)
{
	struct ingest_opts o = { .out = stdout, .msg = stderr, .max_shown = 10, .map_path = map,
				 .quiet = 1 };
	struct mb_error err = { 0, "" };
	FILE *fp = fmemopen((void *)text, strlen(text), "r");
	int rc;

	assert_non_null(fp);
	memset(sum, 0, sizeof(*sum));
	rc = ingest_stream(s, fp, name, &o, sum, &err);
	fclose(fp);
	return rc;
}

/* The agency event's row of event_when, read with the sqlite3 shell: day 8962, 08:30. */
static void sqlite_check_when(const char *db)
{
	char cmd[256], out[64] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "sqlite3 '%s' 'SELECT day, minute FROM event_when'", db);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(out, sizeof(out), p));
	pclose(p);
	assert_string_equal(out, "8962|510\n");
}

static void test_slice_columns(void **state)
{
	struct store *s = NULL;
	struct mb_error err = { 0, "" };
	struct ingest_summary sum;
	struct slice sl;
	char db[128];
	const char *map;
	int64_t attached = -1;

	(void)state;
	snprintf(db, sizeof(db), "%s/x.db", tmpdir);
	assert_int_equal(store_open(db, 0, &s, &err), 0);
	assert_int_equal(import(s, "2024-07-test-street.csv", STREET, NULL, &sum), 0);
	assert_int_equal(sum.total.rows_loaded, 4);
	map = write_file("map.ini", MAP);
	/* two rows rejected (DA "maybe", 31 June): the run says so, counts add up */
	assert_int_equal(import(s, "extract.csv", EXTRACT, map, &sum), -MB_EDATA);
	assert_int_equal(sum.total.rows_read, 5);
	assert_int_equal(sum.total.rows_loaded, 3);
	assert_int_equal(sum.total.rows_rejected, 2);
	assert_int_equal(store_extract_attached(s, 2, &attached, &err), 0);
	assert_int_equal(attached, 2);

	struct slice_query q = { .from = 24 * 12, .to = 24 * 12 + 11, .include_asb = 1,
				 .police_only = 1, .extract = 1 };

	memset(&sl, 0, sizeof(sl));
	assert_int_equal(store_slice_load(s, &q, &sl, &err), 0);
	assert_int_equal(sl.n, 4); /* the extract made no event */
	assert_non_null(sl.day);
	assert_non_null(sl.subgroup_name);
	assert_int_equal(sl.nsubgroup, 4); /* three names + 1 */
	assert_int_equal(sl.nhate, 2);     /* Race + 1 */
	int seen = 0;

	for (size_t i = 0; i < sl.n; i++) {
		const char *cat = sl.cat_name[sl.category[i]];
		const char *sub = sl.subgroup[i] ? sl.subgroup_name[sl.subgroup[i]] : NULL;

		if (strcmp(cat, "Burglary") == 0) {
			assert_int_equal(sl.day[i], 8962);
			assert_int_equal(sl.minute[i], 23 * 60 + 59);
			assert_int_equal(sl.da[i], 0);
			assert_int_equal(sl.hate[i], 0);
			assert_string_equal(sub, "Non-residential burglary");
			seen |= 1;
		} else if (strcmp(cat, "Robbery") == 0) {
			assert_int_equal(sl.day[i], 8962 - 14);
			assert_int_equal(sl.minute[i], 5);
			assert_int_equal(sl.da[i], 1);
			assert_string_equal(sl.hate_name[sl.hate[i]], "Race");
			assert_string_equal(sub, "Robbery of personal property");
			seen |= 2;
		} else { /* Drugs (no extract row) and ASB (no Crime ID) */
			assert_int_equal(sl.day[i], -1);
			assert_int_equal(sl.minute[i], -1);
			assert_int_equal(sl.da[i], -1);
			assert_int_equal(sl.subgroup[i], 0);
			assert_int_equal(sl.hate[i], 0);
			seen |= 4;
		}
	}
	assert_int_equal(seen, 7);
	slice_release(&sl);
	/* without extract = 1 the columns stay NULL */
	q.extract = 0;
	assert_int_equal(store_slice_load(s, &q, &sl, &err), 0);
	assert_int_equal(sl.n, 4);
	assert_null(sl.day);
	assert_null(sl.subgroup_name);
	slice_release(&sl);
	/* an agency event whose date has a day (and time) gets them too (event_when) */
	map = write_file("fire.ini", "[source]\nname = Test Fire\n[columns]\nid = ref\n"
				     "date = d\ndate_format = %d/%m/%Y %H:%M\ncategory = c\nlongitude = x\n"
				     "latitude = y\n");
	assert_int_equal(import(s, "fire.csv", "ref,d,c,x,y\nF1,15/07/2024 08:30,Fire,0.1,52.1\n",
				map, &sum), 0);
	const char *const fire[] = { "Test Fire" };

	q.extract = 1;
	q.sources = fire;
	q.nsources = 1;
	memset(&sl, 0, sizeof(sl));
	assert_int_equal(store_slice_load(s, &q, &sl, &err), 0);
	assert_int_equal(sl.n, 1);
	assert_int_equal(sl.day[0], 8962);
	assert_int_equal(sl.minute[0], 8 * 60 + 30);
	assert_int_equal(sl.da[0], -1);
	assert_int_equal(sl.subgroup[0], 0);
	slice_release(&sl);
	sqlite_check_when(db);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_keys),
		cmocka_unit_test(test_when),
		cmocka_unit_test(test_slice_columns),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
