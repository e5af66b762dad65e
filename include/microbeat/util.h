/*
 * microbeat — small foundations every layer may use (in the manner of git's
 * git-compat-util.h): growth of arrays, array sizes, internal errors, and the
 * one comparison qsort needs everywhere. Nothing here knows about the store,
 * files or statistics.
 */
#ifndef MICROBEAT_UTIL_H
#define MICROBEAT_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "microbeat/common.h"

/* Number of elements of a true array (not a pointer). */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Make *v (elements of size sz, capacity *cap) hold at least n elements:
 * the capacity at least doubles (from 16), so n pushes cost O(n). On failure
 * (out of memory, or n * sz overflowing size_t) *v and *cap are unchanged and
 * -1 is returned; 0 otherwise. */
int mb_grow(void **v, size_t *cap, size_t n, size_t sz);

/* The one growth idiom: GROW(p, n, cap) makes array p (capacity cap) hold at
 * least n elements; 0, or -1 on out of memory with p and cap unchanged. */
#define GROW(p, n, cap) mb_grow((void **)&(p), &(cap), (n), sizeof(*(p)))

/* malloc() for a large array written in full once (a slice's event columns):
 * from 2 MB up, 2 MB aligned and marked for transparent huge pages, so that
 * filling it takes one page fault per 2 MB instead of per 4 KB (a quarter of
 * the time of loading a national year went to faults). Free with free(). */
void *mb_malloc_huge(size_t bytes);

/* calloc() on mb_malloc_huge(): the same for a large zeroed array. */
void *mb_calloc_huge(size_t n, size_t size);

/* mb_malloc_huge() of cap elements of which the first n are zeroed: an array
 * that may grow to cap in place (a realloc() of a block this size copies it
 * whole, so the old and the new are both resident at once); the untouched
 * tail costs address space, not memory. */
void *mb_reserve_huge(size_t n, size_t cap, size_t size);

/* Report a broken internal invariant (a bug in microbeat, not bad input):
 * fills err with MB_EBUG naming the source line; returns -MB_EBUG. */
#define BUG(err, ...) mb_bug((err), __FILE__, __LINE__, __VA_ARGS__)
int mb_bug(struct mb_error *err, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* qsort comparison of two uint64_t, ascending. */
int mb_cmp_u64(const void *a, const void *b);

#endif
