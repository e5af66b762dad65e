/*
 * dict — string interning: byte keys to small integer ids, in memory.
 *
 * Keys are copied into an arena owned by the dict; ids are whatever the caller
 * assigns (the store's row ids). Lookup and insert are O(1) expected
 * (open addressing, a 64-bit multiply-xorshift hash, full-key comparison on
 * hash match).
 */
#ifndef MICROBEAT_DICT_H
#define MICROBEAT_DICT_H

#include <stddef.h>
#include <stdint.h>

struct dict;

/* Create an empty dict; NULL on out of memory. Free with dict_free(). */
struct dict *dict_new(void);

/* Free the dict and every key it holds; NULL is allowed. */
void dict_free(struct dict *d);

/* Return the id stored for key (len bytes), or 0 when absent (ids are > 0). */
uint32_t dict_get(const struct dict *d, const void *key, size_t len);

/* Store key -> id (id > 0; key must be absent). Return 0, or -1 on out of memory. */
int dict_put(struct dict *d, const void *key, size_t len, uint32_t id);

/* Interning in one probe: return the id stored for key; when absent, store
 * key -> new_id (> 0), set *added and return new_id. 0 on out of memory. */
uint32_t dict_get_or_put(struct dict *d, const void *key, size_t len, uint32_t new_id,
			 int *added);

/* dict_get_or_put() for a key whose dict_hash() the caller has already: h. */
uint32_t dict_get_or_put_h(struct dict *d, const void *key, size_t len, uint64_t h,
			   uint32_t new_id, int *added);

/* Hints for a lookup of hash h coming soon (batched lookups hide memory
 * latency): dict_prefetch() loads the slot, and dict_prefetch_key(), once the
 * slot is in cache, the key it holds. Neither changes anything. */
void dict_prefetch(const struct dict *d, uint64_t h);
void dict_prefetch_key(const struct dict *d, uint64_t h);

/* Size the table for n entries at once (a bulk load that knows its size:
 * no doubling, each rehashing every entry, on the way). Return 0, or -1 on
 * out of memory (the dict is then unchanged). */
int dict_reserve(struct dict *d, size_t n);

/* Remove every entry whose id is greater than max_id (undo after a rollback).
 * Return 0, or -1 on out of memory (the dict is then unchanged). */
int dict_truncate(struct dict *d, uint32_t max_id);

/* Number of entries. */
size_t dict_count(const struct dict *d);

/* Bytes of memory held (table and arena), for the memory budget. */
size_t dict_bytes(const struct dict *d);

/* The 64-bit hash used by the dict, exposed for other fingerprints. */
uint64_t dict_hash(const void *key, size_t len);

#endif
