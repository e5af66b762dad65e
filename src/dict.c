/* dict — open-addressing hash table from byte strings to ids, keys in an arena. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "microbeat/dict.h"

#define ARENA_BLOCK (1u << 20)
#define HUGE_PAGE (2u << 20)

/* Zeroed memory for a large table: at least 2 MB comes from mmap, aligned to
 * 2 MB and marked for transparent huge pages (random lookups over tens of MB
 * otherwise miss the TLB on nearly every probe); smaller from calloc. */
static void *table_alloc(size_t bytes)
{
	if (bytes < HUGE_PAGE)
		return calloc(1, bytes);
	size_t len = (bytes + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
	char *p = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	size_t lead = (size_t)(-(uintptr_t)p & (HUGE_PAGE - 1));

	if (lead)
		munmap(p, lead);
	if (HUGE_PAGE - lead)
		munmap(p + lead + len, HUGE_PAGE - lead);
	p += lead;
	madvise(p, len, MADV_HUGEPAGE);
	return p;
}

static void table_free(void *p, size_t bytes)
{
	if (!p)
		return;
	if (bytes < HUGE_PAGE) {
		free(p);
		return;
	}
	munmap(p, (bytes + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1));
}

/* One slot of the table; empty when id == 0. */
struct slot {
	uint64_t hash;     /* dict_hash() of the key */
	const char *key;   /* key bytes in the arena */
	uint32_t len;      /* key length in bytes */
	uint32_t id;       /* caller's id, > 0 */
};

/* One block of the key arena. */
struct block {
	struct block *next; /* older block */
	size_t used;        /* bytes used in data */
	size_t size;        /* capacity of data */
	size_t huge;        /* bytes from table_alloc(), 0 = from malloc */
	char data[];        /* the keys */
};

struct dict {
	struct slot *slots; /* table of cap slots */
	size_t cap;         /* power of two */
	size_t count;       /* occupied slots */
	struct block *arena; /* newest block first */
	size_t arena_bytes; /* total arena capacity */
};

uint64_t dict_hash(const void *key, size_t len)
{
	/* 8 bytes a step (multiply-xorshift mixing): interning is on the per-row
	 * hot path of the import, where byte-at-a-time FNV was measurably slow */
	const unsigned char *p = key;
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ (len * 0xff51afd7ed558ccdULL);

	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 31;
		p += 8;
		len -= 8;
	}
	uint64_t t = 0;

	memcpy(&t, p, len);
	h = (h ^ t) * 0x94d049bb133111ebULL;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return h;
}

struct dict *dict_new(void)
{
	struct dict *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->cap = 1024;
	d->slots = table_alloc(d->cap * sizeof(*d->slots));
	if (!d->slots) {
		free(d);
		return NULL;
	}
	return d;
}

void dict_free(struct dict *d)
{
	if (!d)
		return;
	while (d->arena) {
		struct block *b = d->arena;

		d->arena = b->next;
		if (b->huge)
			table_free(b, b->huge);
		else
			free(b);
	}
	table_free(d->slots, d->cap * sizeof(*d->slots));
	free(d);
}

/* Find the slot holding key, or the empty slot where it would go. */
static struct slot *find(const struct dict *d, uint64_t h, const void *key, size_t len)
{
	size_t mask = d->cap - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct slot *s = &d->slots[i];

		if (!s->id)
			return s;
		if (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0)
			return s;
	}
}

uint32_t dict_get(const struct dict *d, const void *key, size_t len)
{
	return find(d, dict_hash(key, len), key, len)->id;
}

/* Move the entries to a table of ncap slots. Return 0, or -1 on out of memory. */
static int resize(struct dict *d, size_t ncap)
{
	struct slot *ns = table_alloc(ncap * sizeof(*ns));

	if (!ns)
		return -1;
	for (size_t i = 0; i < d->cap; i++) {
		struct slot *s = &d->slots[i];

		if (!s->id)
			continue;
		for (size_t j = s->hash & (ncap - 1);; j = (j + 1) & (ncap - 1)) {
			if (!ns[j].id) {
				ns[j] = *s;
				break;
			}
		}
	}
	table_free(d->slots, d->cap * sizeof(*d->slots));
	d->slots = ns;
	d->cap = ncap;
	return 0;
}

/* Double the table. Return 0, or -1 on out of memory. */
static int grow(struct dict *d)
{
	return resize(d, d->cap * 2);
}

int dict_reserve(struct dict *d, size_t n)
{
	size_t cap = d->cap;

	while ((n + 1) * 10 > cap * 7) {
		if (cap > SIZE_MAX / 2 / sizeof(struct slot))
			return -1;
		cap *= 2;
	}
	return cap == d->cap ? 0 : resize(d, cap);
}

/* Copy len bytes into the arena; NULL on out of memory. */
static const char *arena_copy(struct dict *d, const void *key, size_t len)
{
	struct block *b = d->arena;

	if (!b || b->size - b->used < len) {
		size_t size = len > ARENA_BLOCK ? len : ARENA_BLOCK;
		/* a large dictionary's keys are probed at random too: huge pages */
		size_t huge = d->arena_bytes >= 2 * ARENA_BLOCK && len <= HUGE_PAGE - sizeof(*b)
				      ? HUGE_PAGE : 0;

		b = huge ? table_alloc(huge) : malloc(sizeof(*b) + size);
		if (!b)
			return NULL;
		if (huge)
			size = huge - sizeof(*b);
		b->next = d->arena;
		b->used = 0;
		b->size = size;
		b->huge = huge;
		d->arena = b;
		d->arena_bytes += size;
	}
	char *p = b->data + b->used;

	if (len)
		memcpy(p, key, len);
	b->used += len;
	return p;
}

int dict_put(struct dict *d, const void *key, size_t len, uint32_t id)
{
	int added;

	/* the key is absent (the caller says so): this inserts it */
	return dict_get_or_put(d, key, len, id, &added) ? 0 : -1;
}

uint32_t dict_get_or_put(struct dict *d, const void *key, size_t len, uint32_t new_id,
			 int *added)
{
	return dict_get_or_put_h(d, key, len, dict_hash(key, len), new_id, added);
}

uint32_t dict_get_or_put_h(struct dict *d, const void *key, size_t len, uint64_t h,
			   uint32_t new_id, int *added)
{
	*added = 0;
	if ((d->count + 1) * 10 > d->cap * 7 && grow(d) != 0)
		return 0;
	struct slot *s = find(d, h, key, len);

	if (s->id)
		return s->id;
	const char *copy = arena_copy(d, key, len);

	if (!copy)
		return 0;
	s->hash = h;
	s->key = copy;
	s->len = (uint32_t)len;
	s->id = new_id;
	d->count++;
	*added = 1;
	return new_id;
}

void dict_prefetch(const struct dict *d, uint64_t h)
{
	__builtin_prefetch(&d->slots[h & (d->cap - 1)]);
}

void dict_prefetch_key(const struct dict *d, uint64_t h)
{
	const struct slot *s = &d->slots[h & (d->cap - 1)];

	if (s->id && s->hash == h)
		__builtin_prefetch(s->key);
}

int dict_truncate(struct dict *d, uint32_t max_id)
{
	/* Rebuild the table without the removed entries (arena bytes are kept). */
	struct slot *old = d->slots;
	size_t ocap = d->cap;
	struct slot *ns = table_alloc(ocap * sizeof(*ns));

	if (!ns)
		return -1;
	d->count = 0;
	for (size_t i = 0; i < ocap; i++) {
		if (!old[i].id || old[i].id > max_id)
			continue;
		for (size_t j = old[i].hash & (ocap - 1);; j = (j + 1) & (ocap - 1)) {
			if (!ns[j].id) {
				ns[j] = old[i];
				break;
			}
		}
		d->count++;
	}
	table_free(old, ocap * sizeof(*old));
	d->slots = ns;
	return 0;
}

size_t dict_count(const struct dict *d)
{
	return d->count;
}

size_t dict_bytes(const struct dict *d)
{
	return d->cap * sizeof(struct slot) + d->arena_bytes;
}
