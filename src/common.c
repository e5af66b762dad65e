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
