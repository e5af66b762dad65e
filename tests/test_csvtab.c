/*
 * Tests for csvtab.c, the reader of small CSV inputs: tables of inputs with
 * the rows, fields and physical line numbers expected (counted by hand), and
 * of malformed inputs with the exact FILE:LINE:COL the message must name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "microbeat/csvtab.h"

/* A well-formed input and what it must read as. */
struct ok_case {
	const char *name;      /* what the case is about */
	const char *in;        /* the bytes (NUL-terminated; no NUL inside) */
	size_t nrows;          /* data rows expected */
	const char *head0;     /* first header field */
	long line[4];          /* physical line of each row's first byte */
	const char *f[4][2];   /* the first two fields of each row (NULL: not checked) */
};

static const struct ok_case OK[] = {
	{ "LF", "a,b\n1,2\n3,4\n", 2, "a", { 2, 3 }, { { "1", "2" }, { "3", "4" } } },
	{ "CRLF", "a,b\r\n1,2\r\n3,4\r\n", 2, "a", { 2, 3 }, { { "1", "2" }, { "3", "4" } } },
	{ "CR only", "a,b\r1,2\r3,4\r", 2, "a", { 2, 3 }, { { "1", "2" }, { "3", "4" } } },
	{ "no final line end", "a,b\n1,2", 1, "a", { 2 }, { { "1", "2" } } },
	{ "BOM stripped once", "\xEF\xBB\xBF" "a,b\n\xEF\xBB\xBF,2\n", 1, "a", { 2 },
	  { { "\xEF\xBB\xBF", "2" } } },
	{ "multi-line quoted field (LF)", "a,b\n\"x\ny\",1\n\"z\",2\n", 2, "a", { 2, 4 },
	  { { "x\ny", "1" }, { "z", "2" } } },
	{ "multi-line quoted field (CRLF)", "a,b\r\n\"x\r\ny\r\nz\",1\r\nq,2\r\n", 2, "a", { 2, 5 },
	  { { "x\r\ny\r\nz", "1" }, { "q", "2" } } },
	{ "multi-line quoted field (CR)", "a,b\r\"x\ry\",1\rq,2\r", 2, "a", { 2, 4 },
	  { { "x\ry", "1" }, { "q", "2" } } },
	{ "blank lines skipped, counted", "a,b\n\n1,2\n\n\n3,4\n", 2, "a", { 3, 6 },
	  { { "1", "2" }, { "3", "4" } } },
	{ "trimmed", " a , b \n 1 ,\t2\t\n", 1, "a", { 2 }, { { "1", "2" } } },
	{ "doubled quotes", "a,b\n\"he said \"\"hi\"\"\",\"1,5\"\n", 1, "a", { 2 },
	  { { "he said \"hi\"", "1,5" } } },
	{ "blanks around a quoted field", "a,b\n  \"x\"  ,y\n", 1, "a", { 2 }, { { "x", "y" } } },
	{ "empty fields", "a,b\n,\n", 1, "a", { 2 }, { { "", "" } } },
	{ "header only", "a,b\n", 0, "a", { 0 }, { { NULL, NULL } } },
	{ "UTF-8 text", "a,b\nM\xC3\xA9lanie,\xE2\x82\xAC\n", 1, "a", { 2 },
	  { { "M\xC3\xA9lanie", "\xE2\x82\xAC" } } },
};

static void test_reads(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(OK) / sizeof(OK[0]); k++) {
		const struct ok_case *c = &OK[k];
		struct mb_error err = { 0, "" };
		struct csvtab t;
		int r = csvtab_read_mem("t.csv", c->in, strlen(c->in), &t, &err);

		if (r)
			print_error("case '%s': %s\n", c->name, err.msg);
		assert_int_equal(r, 0);
		assert_int_equal(t.nrows, c->nrows);
		assert_string_equal(t.head[0], c->head0);
		for (size_t i = 0; i < c->nrows; i++) {
			if (t.rows[i].line != c->line[i])
				print_error("case '%s' row %zu: line %ld\n", c->name, i, t.rows[i].line);
			assert_int_equal(t.rows[i].line, c->line[i]);
			for (int j = 0; j < 2; j++)
				if (c->f[i][j])
					assert_string_equal(t.rows[i].f[j], c->f[i][j]);
		}
		csvtab_release(&t);
	}
}

/* A malformed input and the start of the message it must give. */
struct bad_case {
	const char *name;  /* what the case is about */
	const char *in;    /* the bytes */
	size_t len;        /* their number (inputs may hold NUL) */
	const char *msg;   /* expected message prefix */
};

#define B(name, lit, msg) { name, lit, sizeof(lit) - 1, msg }
static const struct bad_case BAD[] = {
	B("NUL byte", "a,b\n1,V\0x\n", "t.csv:2:4: NUL byte"),
	B("NUL in the header", "a,\0\n1,2\n", "t.csv:1:3: NUL byte"),
	B("invalid UTF-8", "a,b\n1,\xFF\n", "t.csv:2:3: invalid UTF-8"),
	B("overlong UTF-8", "a,b\n1,\xC0\xAF\n", "t.csv:2:3: invalid UTF-8"),
	B("UTF-16 surrogate", "a,b\n1,x\xED\xA0\x80\n", "t.csv:2:4: invalid UTF-8"),
	B("truncated UTF-8 at the end", "a,b\n1,\xE2\x82", "t.csv:2:3: invalid UTF-8"),
	B("column after the BOM", "\xEF\xBB\xBF" "a,\xFF\n", "t.csv:1:3: invalid UTF-8"),
	B("bad byte after a multi-line field", "a,b\n\"x\ny\",1\n1,\xFF\n",
	  "t.csv:4:3: invalid UTF-8"),
	B("bad byte in a CR-only file", "a,b\r1,2\r1,\xFF\r", "t.csv:3:3: invalid UTF-8"),
	B("bad byte in a CRLF file", "a,b\r\n1,2\r\n1,\xFF\r\n", "t.csv:3:3: invalid UTF-8"),
	B("unterminated quote in a first field", "a,b\n1,2\n\"abc,3\n",
	  "t.csv:3:1: unterminated quoted field"),
	B("unterminated quote after a CR-only line", "a,b\r1,2\r3,\"x\r",
	  "t.csv:3:3: unterminated quoted field"),
	B("text after a closing quote", "a,b\n\"x\"y,1\n", "t.csv:2:4: text after a closing quote"),
	B("quote inside an unquoted field", "a,b\nx\"y,1\n", "t.csv:2:2: quote inside an unquoted"),
	B("short row", "a,b,c\n1,2\n", "t.csv:2:1: this row has 2 fields, the header 3"),
	B("long row", "a,b\n1,2,3\n", "t.csv:2:5: this row has 3 fields, the header 2"),
	B("short row after a multi-line field", "a,b\n\"1\n\n2\",3\n4\n",
	  "t.csv:5:1: this row has 1 fields, the header 2"),
	B("empty file", "", "t.csv:1:1: empty file"),
	B("only blank lines", "\n\r\n\r", "t.csv:1:1: empty file"),
};

static void test_refusals(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(BAD) / sizeof(BAD[0]); k++) {
		const struct bad_case *c = &BAD[k];
		struct mb_error err = { 0, "" };
		struct csvtab t;
		int r = csvtab_read_mem("t.csv", c->in, c->len, &t, &err);

		if (r != -MB_EDATA || strncmp(err.msg, c->msg, strlen(c->msg)) != 0)
			print_error("case '%s': r %d, message '%s', want '%s'\n", c->name, r, err.msg,
				    c->msg);
		assert_int_equal(r, -MB_EDATA);
		assert_memory_equal(err.msg, c->msg, strlen(c->msg));
		assert_null(t.rows);
		assert_null(t.head);
	}
}

/* A field of CSVTAB_FIELD_MAX bytes reads; one more byte is refused, never cut. */
static void test_field_max(void **state)
{
	size_t n = CSVTAB_FIELD_MAX + 16;
	char *buf = malloc(n + 8);
	struct mb_error err = { 0, "" };
	struct csvtab t;

	(void)state;
	assert_non_null(buf);
	for (int quoted = 0; quoted < 2; quoted++) {
		for (int extra = 0; extra < 2; extra++) {
			size_t len = 0, flen = CSVTAB_FIELD_MAX + (size_t)extra;

			memcpy(buf, "a\n", 2);
			len = 2;
			if (quoted)
				buf[len++] = '"';
			memset(buf + len, 'x', flen);
			len += flen;
			if (quoted)
				buf[len++] = '"';
			buf[len++] = '\n';
			int r = csvtab_read_mem("t.csv", buf, len, &t, &err);

			if (extra) {
				assert_int_equal(r, -MB_EDATA);
				assert_non_null(strstr(err.msg, "t.csv:2:1: field longer than"));
			} else {
				assert_int_equal(r, 0);
				assert_int_equal(strlen(t.rows[0].f[0]), CSVTAB_FIELD_MAX);
				csvtab_release(&t);
			}
		}
	}
	free(buf);
}

/* Columns by alias, messages at a field's place, a field's place on a later line. */
static void test_pick_and_err(void **state)
{
	static const char *const aliases[] = { "nope", "LSOA21CD", "code", NULL };
	static const char in[] = "code,lsoa21cd,name\nX,\"a\nb\",  n\n";
	struct mb_error err = { 0, "" };
	struct csvtab t;

	(void)state;
	assert_int_equal(csvtab_read_mem("t.csv", in, sizeof(in) - 1, &t, &err), 0);
	assert_int_equal(csvtab_col(&t, "NAME"), 2);
	assert_int_equal(csvtab_col(&t, "missing"), -1);
	assert_int_equal(csvtab_pick(&t, aliases), 1);
	assert_int_equal(csvtab_err(&t, 0, 2, &err, MB_EDATA, "bad %s", "name"), -MB_EDATA);
	assert_string_equal(err.msg, "t.csv:3:4: bad name"); /* after "b\"," on line 3 */
	assert_int_equal(csvtab_err(&t, 0, -1, &err, MB_EDATA, "row"), -MB_EDATA);
	assert_string_equal(err.msg, "t.csv:2:1: row");
	csvtab_release(&t);
}

/* The strict number parser: 0 ok, -1 not a number, -2 out of a double's range. */
static void test_number(void **state)
{
	static const struct { const char *s; int r; double v; } C[] = {
		{ "1", 0, 1 }, { "-2.5e3", 0, -2500 }, { "+3", 0, 3 }, { "1.", 0, 1 },
		{ ".5", 0, 0.5 }, { "0e-400", 0, 0 }, { "1e308", 0, 1e308 }, { "194.21", 0, 194.21 },
		{ "1e309", -2, 0 }, { "1e-320", -2, 0 }, { "1e-400", -2, 0 }, { "-1e-400", -2, 0 },
		{ "0x34", -1, 0 }, { "inf", -1, 0 }, { "nan", -1, 0 }, { "", -1, 0 }, { " 1", -1, 0 },
		{ "1 ", -1, 0 }, { ".", -1, 0 }, { "1e", -1, 0 }, { "e5", -1, 0 }, { "1,5", -1, 0 },
		{ "--1", -1, 0 }, { "abc", -1, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(C) / sizeof(C[0]); i++) {
		double v = NAN;
		int r = csvtab_number(C[i].s, &v);

		if (r != C[i].r)
			print_error("'%s': %d, want %d\n", C[i].s, r, C[i].r);
		assert_int_equal(r, C[i].r);
		if (!r)
			assert_true(v == C[i].v);
	}
}

static void test_lsoa_and_bom(void **state)
{
	(void)state;
	assert_true(csvtab_lsoa_code_ok("E01018218"));
	assert_true(csvtab_lsoa_code_ok("W01001909"));
	assert_false(csvtab_lsoa_code_ok("NOTLSOA"));
	assert_false(csvtab_lsoa_code_ok("e01018218"));
	assert_false(csvtab_lsoa_code_ok("E0101821"));
	assert_false(csvtab_lsoa_code_ok("E010182180"));
	assert_false(csvtab_lsoa_code_ok("E01O18218"));
	assert_int_equal(csvtab_bom("\xEF\xBB\xBFx", 4), 3);
	assert_int_equal(csvtab_bom("\xEF\xBB", 2), 0);
	assert_int_equal(csvtab_bom("abc", 3), 0);
	assert_int_equal(csvtab_utf8_bad("ab\xC3\xA9", 4), 4);
	assert_int_equal(csvtab_utf8_bad("ab\xC3", 3), 2);
	assert_int_equal(csvtab_utf8_bad("\xF4\x90\x80\x80", 4), 0); /* past U+10FFFF */
	assert_int_equal(csvtab_utf8_bad("\xF0\x9F\x98\x80", 4), 4); /* U+1F600 */
}

/* csvtab_read: a missing file is MB_EIO naming it; a file reads like memory. */
static void test_read_file(void **state)
{
	char path[] = "/tmp/mb_csvtab_XXXXXX";
	struct mb_error err = { 0, "" };
	struct csvtab t;
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("a,b\r1,2\r", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(csvtab_read(path, &t, &err), 0);
	assert_int_equal(t.nrows, 1);
	assert_int_equal(t.rows[0].line, 2);
	assert_string_equal(t.path, path);
	csvtab_release(&t);
	unlink(path);
	assert_int_equal(csvtab_read(path, &t, &err), -MB_EIO);
	assert_non_null(strstr(err.msg, "cannot open"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_field_max),
		cmocka_unit_test(test_pick_and_err),
		cmocka_unit_test(test_number),
		cmocka_unit_test(test_lsoa_and_bom),
		cmocka_unit_test(test_read_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
