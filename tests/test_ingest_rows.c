/* Unit tests: the row checks of the police.uk import (issue 21, items 3, 6 and 11), one table
 * of inputs and the messages and counts each must give: NUL bytes, strict numbers, real
 * stop-and-search dates, and the physical line of rows broken in their first field or in
 * files with CR-only line ends. Each case imports into a store of its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "microbeat/ingest.h"
#include "microbeat/store.h"

#define STREET_H "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location," \
		 "LSOA code,LSOA name,Crime type,Last outcome category,Context"
#define STOP_H "Type,Date,Part of a policing operation,Policing operation,Latitude,Longitude," \
	       "Gender,Age range,Self-defined ethnicity,Officer-defined ethnicity,Legislation," \
	       "Object of search,Outcome,Outcome linked to object of search," \
	       "Removal of more than just outer clothing"
#define ID1 "1111111111111111111111111111111111111111111111111111111111111111"
#define ID2 "2222222222222222222222222222222222222222222222222222222222222222"
#define ROW(id, lon) id ",2024-07,T,T," lon ",52.2,On or near X,E01010001,T 001A,Burglary,,"
#define STOP(date, lat) "Person search," date ",,," lat ",0.1,Male,18-24,,,,,Arrest,,"

/* One input and what importing it must give. */
struct row_case {
	const char *name;   /* what it checks */
	const char *data;   /* the file (may hold NUL bytes) */
	size_t len;         /* its bytes */
	long loaded;        /* rows loaded */
	long rejected;      /* rows rejected */
	const char *msg;    /* a message printed ("LINE:COL: reason" start), or NULL */
};

#define IN(s) s, sizeof(s) - 1

static const struct row_case CASES[] = {
	{ "clean", IN(STREET_H "\n" ROW(ID1, "0.1") "\n" ROW(ID2, "-0.25") "\n"), 2, 0, NULL },
	{ "NUL in a field", IN(STREET_H "\n" ROW(ID1, "0.1") "\n" ID2 ",2024-07,T,T,0.1,52.2,X,"
			       "E01010001,T 001A,Violence\0 and sexual offences,,\n"),
	  1, 1, "3:114: NUL byte in column 10" },
	{ "NUL in the first field", IN(STREET_H "\n\0" ROW(ID1, "0.1") "\n"), 0, 1,
	  "2:1: NUL byte in column 1" },
	{ "hexadecimal longitude", IN(STREET_H "\n" ROW(ID1, "0x1") "\n"), 0, 1,
	  "2:78: longitude '0x1' is not a number" },
	{ "infinite longitude", IN(STREET_H "\n" ROW(ID1, "inf") "\n"), 0, 1,
	  "2:78: longitude 'inf' is not a number" },
	{ "exponent", IN(STREET_H "\n" ROW(ID1, "1e-1") "\n"), 0, 1,
	  "2:78: longitude '1e-1' is not a number" },
	{ "two points", IN(STREET_H "\n" ROW(ID1, "0.1.2") "\n"), 0, 1,
	  "2:78: longitude '0.1.2' is not a number" },
	{ "a sign alone", IN(STREET_H "\n" ROW(ID1, "-") "\n"), 0, 1,
	  "2:78: longitude '-' is not a number" },
	{ "18 digits", IN(STREET_H "\n" ROW(ID1, "0.123456789012345678") "\n"), 1, 0, NULL },
	{ "bad quote in the first field", IN(STREET_H "\n" ROW(ID1, "0.1") "\n\"ab\"c,2024-07\n"
					    ROW(ID2, "0.1") "\n"),
	  2, 1, "3:1: malformed quoting in column 1" },
	{ "bad quote after a quoted line break",
	  IN(STREET_H "\n" ID1 ",2024-07,T,T,0.1,52.2,\"On or\nnear X\",E01010001,T 001A,Burglary,,\n"
		      "\"x\"y\n" ROW(ID2, "0.1") "\n"),
	  2, 1, "4:1: malformed quoting in column 1" },
	{ "CR-only line ends", IN(STREET_H "\r" ROW(ID1, "0.1") "\r\"x\"y,1\r" ROW(ID2, "0x2") "\r"),
	  1, 2, "3:1: malformed quoting in column 1" },
	{ "CR-only: the line after a broken row", IN(STREET_H "\r" ROW(ID1, "0.1") "\r\"x\"y,1\r"
						     ROW(ID2, "0x2") "\r"),
	  1, 2, "4:78: longitude '0x2' is not a number" },
	{ "CR LF line ends", IN(STREET_H "\r\n\r\n" ROW(ID1, "0.1") "\r\n" ROW(ID2, "0x2") "\r\n"), 1, 1,
	  "4:78: longitude '0x2'" },
	{ "no last line end, last row whole", IN(STREET_H "\n" ROW(ID1, "0.1") "\n" ROW(ID2, "0x2")),
	  1, 1, "3:78: longitude '0x2'" },
	{ "no last line end, last row cut", IN(STREET_H "\n" ROW(ID1, "0.1") "\n" ID2 ",2024-07,T"),
	  0, 0, "3:75: the file ends mid-row" },
	{ "stop: a leap day", IN(STOP_H "\n" STOP("2024-02-29T10:43:00+00:00", "52.2") "\n"), 1, 0,
	  NULL },
	{ "stop: 30 February", IN(STOP_H "\n" STOP("2024-02-30T10:43:00+00:00", "52.2") "\n"), 0, 1,
	  "2:15: date '2024-02-30T10:43:00+00:00' is not an ISO date" },
	{ "stop: 29 February 2023", IN(STOP_H "\n" STOP("2023-02-29", "52.2") "\n"), 0, 1,
	  "2:15: date '2023-02-29'" },
	{ "stop: hour 24", IN(STOP_H "\n" STOP("2024-02-01T24:00:00Z", "52.2") "\n"), 0, 1,
	  "2:15: date" },
	{ "stop: date only, and Z", IN(STOP_H "\n" STOP("2024-02-01", "52.2") "\n"
					       STOP("2024-02-01T10:43Z", "52.2") "\n"),
	  2, 0, NULL },
	{ "stop: text after the date", IN(STOP_H "\n" STOP("2024-02-01 or so", "52.2") "\n"), 0, 1,
	  "2:15: date" },
	{ "stop: hexadecimal latitude", IN(STOP_H "\n" STOP("2024-02-01", "0x34") "\n"), 0, 1,
	  "2:28: latitude '0x34' is not a number" },
};

/* Import c into a new store; check the counts and the message. Return the
 * number of checks failed (each printed). */
static int run_case(const struct row_case *c)
{
	int bad = 0;
	char dir[] = "/tmp/mb-test-rows-XXXXXX", path[64], wal[80], *msgs = NULL;
	size_t msgs_len = 0;
	struct store *s = NULL;
	struct mb_error err = { 0 };
	struct ingest_summary sum;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.db", dir);
	assert_int_equal(store_open(path, 0, &s, &err), 0);
	FILE *in = fmemopen((void *)c->data, c->len, "r");
	FILE *msg = open_memstream(&msgs, &msgs_len);
	FILE *out = fopen("/dev/null", "w");

	assert_non_null(in);
	assert_non_null(msg);
	assert_non_null(out);
	struct ingest_opts o = { .out = out, .msg = msg, .max_shown = 10 };

	(void)ingest_stream(s, in, "t.csv", &o, &sum, &err);
	fclose(in);
	fclose(out);
	fclose(msg);
	store_close(s);
	if (sum.total.rows_loaded != c->loaded || sum.total.rows_rejected != c->rejected) {
		print_error("%s: %lld loaded, %lld rejected; want %ld, %ld (messages: %s)\n", c->name,
			    (long long)sum.total.rows_loaded, (long long)sum.total.rows_rejected,
			    c->loaded, c->rejected, msgs);
		bad++;
	}
	assert_int_equal(sum.total.rows_read, sum.total.rows_loaded + sum.total.rows_duplicate +
						      sum.total.rows_rejected);
	if (c->msg) {
		char want[160];

		snprintf(want, sizeof(want), "microbeat: t.csv:%s", c->msg);
		if (!strstr(msgs, want)) {
			print_error("%s: want '%s' in: %s\n", c->name, want, msgs);
			bad++;
		}
	}
	free(msgs);
	unlink(path);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", path);
	unlink(wal);
	rmdir(dir);
	return bad;
}

static void test_row_cases(void **state)
{
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++)
		bad += run_case(&CASES[i]);
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_row_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
