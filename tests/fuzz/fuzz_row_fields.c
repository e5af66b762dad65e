/*
 * libFuzzer harness: the import's field validators, each against a reference
 * written here (no parse, no store): the whole input is one field given to
 *   utf8_ok         = ref_utf8 (fuzz_rows.h: shortest form, no surrogates, <= U+10FFFF);
 *   parse_double    (on a NUL-terminated copy, as the row buffer's fields are)
 *                   accepted: strtod() reads the whole field to the same finite value
 *                   (same sign of zero), without a range error; a plain decimal
 *                   ([+-]digits[.digits], at most 40 bytes, finite, no range error)
 *                   is accepted; nothing but digits, sign, point and exponent is
 *                   accepted (no hex, no spaces: issue 21 item 6);
 *   hex32           accepted exactly for 64 hex digits (either case), decoded as a
 *                   byte-by-byte reference decodes them;
 *   month_parse     accepted exactly for YYYY-MM in 2000-01..2099-12, months since 2000-01;
 *   lsoa_code_ok    = a capital letter and 8 digits;
 *   ingest_normalise_name  the output fits, is NUL-terminated, no longer than the input,
 *                   has no ASCII lower case, no blank at either end, no two blanks in a row;
 *   agencymap_parse_month_n with a month map: accepted exactly for YYYY-MM (blanks and
 *                   tabs around) with a year in 1990..2100; with date_format %d/%m/%Y:
 *                   accepted exactly for D/M/YYYY (1-2 digit day and month) naming a
 *                   real day of such a year; months since 2000-01 in both.
 *
 * src/ingest_rows.c (with the parser's other files, which fuzz_rows.h names) is
 * compiled into this harness to reach its static validators; scripts/fuzz.sh links
 * the harness without their objects.
 */
#include "../../src/ingest_queue.c"
#include "../../src/ingest_seen.c"
#include "../../src/ingest_rows.c"
#include "../../src/ingest_reject.c"
#include "../../src/ingest_parse.c"
#include "microbeat/places.h"

#include "fuzz_rows.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct agencymap *map_month, *map_dmy; /* the two maps */

static void maps_free(void)
{
	agencymap_free(map_month);
	agencymap_free(map_dmy);
}

/* Load map text into *m through a temporary file; abort if that fails. */
static void map_load(const char *name, const char *text, struct agencymap **m)
{
	char path[512];
	struct mb_error err = { 0 };

	fuzz_path(path, sizeof(path), name);
	fuzz_write(path, text, strlen(text));
	if (agencymap_load(path, m, &err)) {
		fprintf(stderr, "fuzz: %s\n", err.msg);
		abort();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	map_load("month.ini", "[source]\nname = M\n[columns]\nmonth = m\ncategory = c\nlsoa = l\n",
		 &map_month);
	map_load("dmy.ini", "[source]\nname = D\n[columns]\ndate = d\ndate_format = %d/%m/%Y\n"
			    "category = c\nlsoa = l\n",
		 &map_dmy);
	atexit(maps_free);
	return 0;
}

/* Read 1 to max digits at *i of p[0..n) into *v; 0 when there are none. */
static int digits(const char *p, size_t n, size_t *i, int min, int max, int *v)
{
	int k = 0;

	*v = 0;
	while (*i < n && k < max && p[*i] >= '0' && p[*i] <= '9') {
		*v = *v * 10 + (p[*i] - '0');
		(*i)++;
		k++;
	}
	return k >= min;
}

/* parse_double() reads a field of the row buffer, NUL-terminated (strtod may
 * look at the byte after it): give it a copy that is. */
static void check_parse_double(const char *field, size_t n)
{
	char *buf = malloc(n + 1), *end;
	const char *p = buf;
	double v = 0, r;

	if (!buf)
		abort();
	memcpy(buf, field, n);
	buf[n] = '\0';
	int ok = parse_double(p, n, &v) == 0;

	errno = 0;
	r = strtod(buf, &end);
	int ref_ok = n > 0 && end == buf + n && errno == 0 && isfinite(r);
	if (ok) {
		ROWS_CHECK(ref_ok && isfinite(v) && v == r && !signbit(v) == !signbit(r));
		ROWS_CHECK(plain_decimal(p, n));
	}
	/* a plain decimal is accepted */
	size_t i = n && (p[0] == '+' || p[0] == '-');
	size_t d1 = strspn(buf + i, "0123456789"), d2 = 0;

	if (i + d1 < n && buf[i + d1] == '.')
		d2 = strspn(buf + i + d1 + 1, "0123456789") + 1;
	if (n <= 40 && d1 > 0 && i + d1 + d2 == n && ref_ok)
		ROWS_CHECK(ok);
	free(buf);
}

static void check_hex32(const char *p, size_t n)
{
	uint8_t out[32], ref[32];
	int ok = hex32(p, n, out) == 0, ref_ok = n == 64;

	for (size_t i = 0; ref_ok && i < 64; i++) {
		int c = (unsigned char)p[i], h;

		if (c >= '0' && c <= '9')
			h = c - '0';
		else if (c >= 'a' && c <= 'f')
			h = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			h = c - 'A' + 10;
		else {
			ref_ok = 0;
			break;
		}
		if (i % 2 == 0)
			ref[i / 2] = (uint8_t)(h << 4);
		else
			ref[i / 2] |= (uint8_t)h;
	}
	ROWS_CHECK(ok == ref_ok);
	if (ok)
		ROWS_CHECK(memcmp(out, ref, 32) == 0);
}

static void check_month_parse(const char *p, size_t n)
{
	int32_t m = -1;
	int ok = month_parse(p, n, &m) == 0, y = 0, mm = 0;
	size_t i = 0;
	int ref_ok = n == 7 && digits(p, n, &i, 4, 4, &y) && p[i++] == '-' &&
		     digits(p, n, &i, 2, 2, &mm) && i == 7 && y >= 2000 && y <= 2099 && mm >= 1 &&
		     mm <= 12;

	ROWS_CHECK(ok == ref_ok);
	if (ok)
		ROWS_CHECK(m == (y - 2000) * 12 + mm - 1);
}

static void check_normalise(const char *p, size_t n)
{
	static char out[ROWS_MAX_INPUT + 1];
	size_t cap = n % 97 + 1; /* sometimes short of the name */
	size_t o = ingest_normalise_name(p, n, out, cap);

	ROWS_CHECK(o < cap && out[o] == '\0' && o <= n);
	for (size_t i = 0; i < o; i++) {
		ROWS_CHECK(!(out[i] >= 'a' && out[i] <= 'z'));
		if (out[i] == ' ')
			ROWS_CHECK(i > 0 && i + 1 < o && out[i + 1] != ' ');
		ROWS_CHECK(!strchr("\t\n\r\f\v", out[i]) || !out[i]);
	}
}

static void check_agency_month(const char *p, size_t n)
{
	const char *reason = NULL;
	int m = 0, ok, y = 0, mm = 0, d = 0, ref_ok;
	size_t i = 0;

	/* blanks and tabs around are trimmed */
	while (n && (*p == ' ' || *p == '\t'))
		p++, n--;
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	ok = agencymap_parse_month_n(map_month, p, n, &m, &reason) == 0;
	ref_ok = digits(p, n, &i, 4, 4, &y) && i < n && p[i++] == '-' && digits(p, n, &i, 2, 2, &mm) &&
		 i == n && y >= 1990 && y <= 2100 && mm >= 1 && mm <= 12;
	ROWS_CHECK(ok == ref_ok && (ok || (reason && *reason)));
	if (ok)
		ROWS_CHECK(m == (y - 2000) * 12 + mm - 1);

	i = 0;
	ok = agencymap_parse_month_n(map_dmy, p, n, &m, &reason) == 0;
	ref_ok = digits(p, n, &i, 1, 2, &d) && i < n && p[i++] == '/' && digits(p, n, &i, 1, 2, &mm) &&
		 i < n && p[i++] == '/' && digits(p, n, &i, 4, 4, &y) && i == n && y >= 1990 &&
		 y <= 2100 && mm >= 1 && mm <= 12 && d >= 1 && d <= days_in(y, mm);
	ROWS_CHECK(ok == ref_ok && (ok || (reason && *reason)));
	if (ok)
		ROWS_CHECK(m == (y - 2000) * 12 + mm - 1);
}

/* Check every validator on the input as one field. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;

	if (size > ROWS_MAX_INPUT)
		return 0;
	ROWS_CHECK(utf8_ok(data, size) == ref_utf8(data, size));
	check_parse_double(p, size);
	check_hex32(p, size);
	check_month_parse(p, size);
	ROWS_CHECK(lsoa_code_ok(p, size) == ref_lsoa_code(p, size));
	check_normalise(p, size);
	check_agency_month(p, size);
	return 0;
}
