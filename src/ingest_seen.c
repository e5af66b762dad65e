/* ingest_seen — the set of the row ids (Crime IDs) seen in one file, to
 * recognise duplicates.
 *
 * 4,096 shards, picked by the top 12 bits of the id's 64-bit hash, each an
 * open-addressed table of 64-bit slots holding the next 40 bits of the hash
 * (the fingerprint) and the line of the first occurrence (24 bits). 8 bytes a
 * row at most 7/8 full and growing by half: ~80-120 MB for 8.8 M rows in one
 * file; growth copies one shard, not the whole set. Two different ids are taken
 * for one when their hashes agree in 52 bits: with n rows in a file that
 * happens with probability about n^2 / 2^53 (1e-8 at 10,000 rows, 1e-6 at
 * 100,000, 9e-3 at 8.8 million).
 * A file's first SEEN_FLAT_MAX x 7/8 ids go in one flat table of the whole
 * 64-bit hashes and their lines (16 bytes a slot, at most 1 MB), doubling as it
 * fills: the ~12,000 ids of a monthly force file then cost one probe of one
 * table, where the shards take two cache misses (shard, then slot). A file that
 * outgrows it moves into the shards, which are what the bounds above describe.
 * Every failure (out of memory) leaves the set as it was. */
#include <stdint.h>
#include <stdlib.h>

#include "ingest_internal.h"

#define SEEN_FLAT_MIN 4096u
#define SEEN_FLAT_MAX 65536u
#define SEEN_SHARDS 4096u

struct seen_shard {
	uint64_t *slot;    /* fingerprint << 24 | line, 0 = empty */
	uint32_t cap, n;   /* slots, used */
};

/* Tables of up to SEEN_SMALL slots come from blocks of SEEN_BLOCK bytes,
 * zeroed once and cut in order (a small file fills thousands of shards with a
 * few ids each: one calloc a shard was a measurable cost); larger ones are
 * allocated alone and freed as they grow. A block's outgrown tables are
 * reclaimed with the file, at most ~2 x 4,096 x SEEN_SMALL x 8 bytes. */
#define SEEN_SMALL 256u
#define SEEN_BLOCK (1u << 20)
struct seen_block {
	struct seen_block *next; /* older block */
	size_t used;             /* bytes cut */
	uint64_t slot[];         /* SEEN_BLOCK bytes of zeroed slots */
};

struct seen_flat {
	uint64_t h;    /* the id's hash, 0 = empty (a hash of 0 is kept as 1) */
	uint32_t line; /* of its first occurrence, as a shard slot keeps it */
};

/* A zeroed table of cap slots; NULL on out of memory. */
static uint64_t *seen_table(struct seen *set, uint32_t cap)
{
	size_t bytes = (size_t)cap * sizeof(uint64_t);

	if (cap > SEEN_SMALL)
		return calloc(cap, sizeof(uint64_t));
	if (!set->block || SEEN_BLOCK - set->block->used < bytes) {
		struct seen_block *b = calloc(1, sizeof(*b) + SEEN_BLOCK);

		if (!b)
			return NULL;
		b->next = set->block;
		set->block = b;
	}
	uint64_t *t = set->block->slot + set->block->used / sizeof(uint64_t);

	set->block->used += bytes;
	return t;
}

/* Home slot of a slot value in a table of cap slots: the fingerprint's top
 * 32 bits scaled to the table (the value alone places it when growing). */
static uint32_t seen_home(uint64_t v, uint32_t cap)
{
	return (uint32_t)(((v >> 32) * (uint64_t)cap) >> 32);
}

/* The shard of hash h and its fingerprint there (never 0). */
static struct seen_shard *seen_shard_of(const struct seen *set, uint64_t h, uint64_t *fp)
{
	*fp = (h >> 12) & ((UINT64_C(1) << 40) - 1);
	if (!*fp)
		*fp = 1;
	return &set->sh[h >> 52];
}

/* seen_add once the set is sharded (h != 0). */
static int seen_shard_add(struct seen *set, uint64_t h, uint32_t line, uint32_t *first)
{
	uint64_t fp;
	struct seen_shard *s = seen_shard_of(set, h, &fp);

	*first = 0;
	if ((uint64_t)(s->n + 1) * 8 > (uint64_t)s->cap * 7) {
		uint32_t ncap = s->cap ? s->cap + s->cap / 2 : 8;
		uint64_t *ns = seen_table(set, ncap);

		if (!ns)
			return -MB_ENOMEM;
		for (uint32_t i = 0; i < s->cap; i++) {
			if (!s->slot[i])
				continue;
			uint32_t j = seen_home(s->slot[i], ncap);

			while (ns[j])
				j = j + 1 == ncap ? 0 : j + 1;
			ns[j] = s->slot[i];
		}
		if (s->cap > SEEN_SMALL)
			free(s->slot);
		s->slot = ns;
		s->cap = ncap;
	}
	uint64_t v = fp << SEEN_LINE_BITS | (line < SEEN_LINE_MASK ? line : SEEN_EARLIER);
	uint32_t j = seen_home(v, s->cap);

	while (s->slot[j]) {
		if (s->slot[j] >> SEEN_LINE_BITS == fp) {
			*first = (uint32_t)(s->slot[j] & SEEN_LINE_MASK);
			return 0;
		}
		j = j + 1 == s->cap ? 0 : j + 1;
	}
	s->slot[j] = v;
	s->n++;
	return 0;
}

/* Free the shards' own tables and the shard array (the blocks stay). */
static void seen_shards_free(struct seen *set)
{
	if (!set->sh)
		return;
	for (uint32_t i = 0; i < SEEN_SHARDS; i++)
		if (set->sh[i].cap > SEEN_SMALL)
			free(set->sh[i].slot);
	free(set->sh);
	set->sh = NULL;
}

/* Move the flat table into the shards. On failure the shards made so far are
 * dropped and the flat table stays: the set is as it was. */
static int seen_flat_to_shards(struct seen *set)
{
	uint32_t first;

	if (!(set->sh = calloc(SEEN_SHARDS, sizeof(*set->sh))))
		return -MB_ENOMEM;
	for (uint32_t i = 0; i < set->fcap; i++)
		if (set->flat[i].h && seen_shard_add(set, set->flat[i].h, set->flat[i].line, &first)) {
			seen_shards_free(set);
			return -MB_ENOMEM;
		}
	free(set->flat);
	set->flat = NULL;
	set->fcap = set->fn = 0;
	return 0;
}

/* Grow the flat table, or move it into the shards once it would pass
 * SEEN_FLAT_MAX slots; 0, or -MB_ENOMEM with the set as it was. */
static int seen_flat_grow(struct seen *set)
{
	uint32_t ncap = set->fcap ? set->fcap * 2 : SEEN_FLAT_MIN;
	struct seen_flat *old = set->flat;
	uint32_t ocap = set->fcap;

	if (ncap > SEEN_FLAT_MAX)
		return seen_flat_to_shards(set);
	struct seen_flat *t = calloc(ncap, sizeof(*t));

	if (!t)
		return -MB_ENOMEM;
	for (uint32_t i = 0; i < ocap; i++) {
		if (!old[i].h)
			continue;
		uint32_t j = (uint32_t)old[i].h & (ncap - 1);

		while (t[j].h)
			j = (j + 1) & (ncap - 1);
		t[j] = old[i];
	}
	free(old);
	set->flat = t;
	set->fcap = ncap;
	return 0;
}

int seen_add(struct seen *set, uint64_t h, uint32_t line, uint32_t *first)
{
	int r;

	*first = 0;
	if (!h)
		h = 1; /* 0 marks an empty slot; 1 has the same shard and fingerprint */
	if (!set->sh && (uint64_t)(set->fn + 1) * 8 > (uint64_t)set->fcap * 7 &&
	    (r = seen_flat_grow(set)))
		return r;
	if (set->sh)
		return seen_shard_add(set, h, line, first);
	uint32_t mask = set->fcap - 1, j = (uint32_t)h & mask;

	while (set->flat[j].h) {
		if (set->flat[j].h == h) {
			*first = set->flat[j].line;
			return 0;
		}
		j = (j + 1) & mask;
	}
	set->flat[j].h = h;
	set->flat[j].line = line < SEEN_LINE_MASK ? line : SEEN_EARLIER;
	set->fn++;
	return 0;
}

uint32_t seen_find(const struct seen *set, uint64_t h)
{
	if (!h)
		h = 1;
	if (set->sh) {
		uint64_t fp;
		const struct seen_shard *s = seen_shard_of(set, h, &fp);

		if (!s->cap)
			return 0;
		for (uint32_t j = seen_home(fp << SEEN_LINE_BITS, s->cap); s->slot[j];
		     j = j + 1 == s->cap ? 0 : j + 1)
			if (s->slot[j] >> SEEN_LINE_BITS == fp)
				return (uint32_t)(s->slot[j] & SEEN_LINE_MASK);
		return 0;
	}
	if (!set->fcap)
		return 0;
	uint32_t mask = set->fcap - 1;

	for (uint32_t j = (uint32_t)h & mask; set->flat[j].h; j = (j + 1) & mask)
		if (set->flat[j].h == h)
			return set->flat[j].line;
	return 0;
}

void seen_release(struct seen *set)
{
	seen_shards_free(set);
	free(set->flat);
	while (set->block) {
		struct seen_block *b = set->block;

		set->block = b->next;
		free(b);
	}
	*set = (struct seen){ 0 };
}
