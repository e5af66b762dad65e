/*
 * fuzz_pool.h — included by a harness just before it compiles a source file
 * into itself (#include "../../src/ingest_parse.c"): that file's malloc, calloc,
 * realloc and free then go through a small pool that keeps its large blocks
 * (128 KiB and up: the parser's state, ~350 KB, its 1 MiB read buffer, the
 * 1 MiB key arena of each of its five dictionaries once src/dict.c is included too)
 * from one input to the next. Under ASan every such block is a fresh mmap,
 * page faults and a munmap: two thirds of the time of an input of a few
 * hundred bytes. calloc zeroes a pooled block, and it keeps ASan's redzones
 * (it was allocated at its exact size), so overflows are caught as before;
 * a use after free of one is not (poisoning the blocks while they wait cost
 * more than the mmaps: ~1.3 MB of shadow written an input), nor a leak of
 * one. Smaller blocks are the allocator's as before.
 */
#ifndef MB_FUZZ_POOL_H
#define MB_FUZZ_POOL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define POOL_MIN (16u * 1024u) /* smallest block kept */
#define POOL_SLOTS 32

static struct {
	void *p;  /* the block, NULL = empty slot */
	size_t n; /* its size */
	int out;  /* handed out (else waiting) */
} fuzz_pool[POOL_SLOTS];

/* A block of n bytes (n >= POOL_MIN), from the pool when one waits. */
static void *fuzz_pool_get(size_t n)
{
	int empty = -1;

	for (int i = 0; i < POOL_SLOTS; i++) {
		if (fuzz_pool[i].p && !fuzz_pool[i].out && fuzz_pool[i].n == n) {
			fuzz_pool[i].out = 1;
			return fuzz_pool[i].p;
		}
		if (!fuzz_pool[i].p && empty < 0)
			empty = i;
	}
	void *p = malloc(n);

	if (p && empty >= 0) {
		fuzz_pool[empty].p = p;
		fuzz_pool[empty].n = n;
		fuzz_pool[empty].out = 1;
	}
	return p;
}

/* The slot holding p, or -1. */
static int fuzz_pool_slot(const void *p)
{
	for (int i = 0; p && i < POOL_SLOTS; i++)
		if (fuzz_pool[i].p == p)
			return i;
	return -1;
}

static __attribute__((unused)) void *fuzz_malloc(size_t n)
{
	return n >= POOL_MIN ? fuzz_pool_get(n) : malloc(n);
}

static __attribute__((unused)) void *fuzz_calloc(size_t k, size_t size)
{
	size_t n = k * size;

	if (size && n / size != k)
		return NULL;
	if (n < POOL_MIN)
		return calloc(k, size);
	void *p = fuzz_pool_get(n);

	if (p)
		memset(p, 0, n);
	return p;
}

static __attribute__((unused)) void *fuzz_realloc(void *p, size_t n)
{
	if (fuzz_pool_slot(p) >= 0)
		abort(); /* the pooled blocks are never resized: a new user must be taught */
	return realloc(p, n);
}

static __attribute__((unused)) void fuzz_free(void *p)
{
	int i = fuzz_pool_slot(p);

	if (i < 0) {
		free(p);
		return;
	}
	if (!fuzz_pool[i].out)
		abort(); /* double free */
	fuzz_pool[i].out = 0;
}

#define malloc(n) fuzz_malloc(n)
#define calloc(k, n) fuzz_calloc(k, n)
#define realloc(p, n) fuzz_realloc(p, n)
#define free(p) fuzz_free(p)

#endif

/* After the source file: the harness's own code allocates as usual. (Include
 * this header again with FUZZ_POOL_END defined.) */
#ifdef FUZZ_POOL_END
#undef malloc
#undef calloc
#undef realloc
#undef free
#endif
