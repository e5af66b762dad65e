/* microbeat — the foundations of util.h: array growth, internal errors, u64 order. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "microbeat/util.h"

int mb_grow(void **v, size_t *cap, size_t n, size_t sz)
{
	if (n <= *cap)
		return 0;
	size_t ncap = *cap ? *cap : 16;
	while (ncap < n) {
		if (ncap > SIZE_MAX / 2)
			return -1;
		ncap *= 2;
	}
	if (sz && ncap > SIZE_MAX / sz)
		return -1;
	void *p = realloc(*v, ncap * sz);
	if (!p)
		return -1;
	*v = p;
	*cap = ncap;
	return 0;
}

int mb_bug(struct mb_error *err, const char *file, int line, const char *fmt, ...)
{
	if (err) {
		char what[384];
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(what, sizeof what, fmt, ap);
		va_end(ap);
		snprintf(err->msg, sizeof err->msg, "internal error at %s:%d: %s (a bug in microbeat: "
			 "please report it)", file, line, what);
		err->code = MB_EBUG;
	}
	return -MB_EBUG;
}

int mb_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

void *mb_malloc_huge(size_t bytes)
{
	const size_t huge = (size_t)2 << 20;

	if (bytes < huge)
		return malloc(bytes ? bytes : 1);
	size_t len = (bytes + huge - 1) & ~(huge - 1);
	void *p = aligned_alloc(huge, len);

	if (p)
		madvise(p, len, MADV_HUGEPAGE);
	return p;
}

void *mb_reserve_huge(size_t n, size_t cap, size_t size)
{
	if (cap < n)
		cap = n;
	if (size && cap > SIZE_MAX / size)
		return NULL;
	void *p = mb_malloc_huge(cap * size);

	if (p)
		memset(p, 0, n * size);
	return p;
}

void *mb_calloc_huge(size_t n, size_t size)
{
	return mb_reserve_huge(n, n, size);
}
