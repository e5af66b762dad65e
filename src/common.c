/* microbeat — shared error helpers. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "microbeat/common.h"

int mb_err(struct mb_error *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		err->code = code;
	}
	return -code;
}

int mb_exit_code(int code)
{
	if (code < 0)
		code = -code;
	switch (code) {
	case MB_OK: return MB_EXIT_OK;
	case MB_EUSAGE: return MB_EXIT_USAGE;
	case MB_EIO: return MB_EXIT_IO;
	case MB_EDATA: return MB_EXIT_DATA;
	case MB_EDB: return MB_EXIT_DB;
	case MB_ENOTFOUND: return MB_EXIT_NOTFOUND;
	case MB_EBUG: return MB_EXIT_BUG;
	default: return MB_EXIT_FAILURE;
	}
}

int month_parse(const char *s, size_t len, int32_t *month)
{
	if (len != 7 || s[4] != '-')
		return -1;
	for (int i = 0; i < 7; i++)
		if (i != 4 && (s[i] < '0' || s[i] > '9'))
			return -1;
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int m = (s[5] - '0') * 10 + (s[6] - '0');

	if (y < 2000 || y > 2099 || m < 1 || m > 12)
		return -1;
	*month = (y - 2000) * 12 + (m - 1);
	return 0;
}

void month_format(int32_t month, char out[8])
{
	if (month < 0 || month >= 12 * 8000) {
		memcpy(out, "?", 2);
		return;
	}
	unsigned y = 2000u + (unsigned)month / 12u, m = (unsigned)month % 12u + 1u;

	out[0] = (char)('0' + y / 1000);
	out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10);
	out[3] = (char)('0' + y % 10);
	out[4] = '-';
	out[5] = (char)('0' + m / 10);
	out[6] = (char)('0' + m % 10);
	out[7] = '\0';
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when it is not one
 * (overlong, surrogate, above U+10FFFF, cut short). */
static size_t utf8_len(const unsigned char *p)
{
	unsigned c = p[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

/* The code point of the valid n-byte UTF-8 sequence at p. */
static uint32_t utf8_cp(const unsigned char *p, size_t n)
{
	static const unsigned char lead[5] = { 0, 0x7F, 0x1F, 0x0F, 0x07 };
	uint32_t cp = p[0] & lead[n];

	for (size_t i = 1; i < n; i++)
		cp = cp << 6 | (p[i] & 0x3F);
	return cp;
}

/* Is cp shown escaped: C0, DEL, C1, or a bidirectional control (U+200E/F,
 * U+202A..E, U+2066..9: they reorder what follows them on screen)? */
static int cp_escaped(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x200E || cp == 0x200F ||
	       (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

const char *mb_shown(const char *s, char *buf, size_t cap)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t o = 0, n;

	for (n = 0; p[n];) {
		size_t k = utf8_len(p + n);

		if (!k || cp_escaped(utf8_cp(p + n, k)))
			break;
		n += k;
	}
	if (!p[n])
		return (const char *)p;
	for (size_t i = 0; p[i];) {
		size_t k = utf8_len(p + i);
		char esc[16];
		size_t e;

		if (!k) {
			e = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", p[i]);
			k = 1;
		} else if (cp_escaped(utf8_cp(p + i, k))) {
			uint32_t cp = utf8_cp(p + i, k);

			e = (size_t)(cp < 0x80 ? snprintf(esc, sizeof(esc), "\\x%02x", (unsigned)cp)
					       : snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)cp));
		} else {
			memcpy(esc, p + i, k);
			e = k;
		}
		if (o + e + 4 > cap) {
			/* no room: cut at a whole character, and say so */
			memcpy(buf + o, "...", 4);
			return buf;
		}
		memcpy(buf + o, esc, e);
		o += e;
		i += k;
	}
	buf[o] = '\0';
	return buf;
}
