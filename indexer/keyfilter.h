/* keyfilter.h - a blocked Bloom filter of 64-bit keys: "certainly absent" or "maybe
 * present", in one cache line per lookup. The writer uses it to skip searching its
 * segments for near-duplicate band keys that none of them holds (neardup.c). */
#ifndef NEWSIDX_KEYFILTER_H
#define NEWSIDX_KEYFILTER_H

#include <stddef.h>
#include <stdint.h>

struct idx_keyfilter {
    uint64_t *words; /* nblocks blocks of 8 words (512 bits, one cache line) */
    size_t nblocks;  /* at most 2^32 */
    size_t nkeys;    /* keys added */
    size_t capacity; /* keys it was sized for (at least 10 bits each) */
};

/* An empty filter sized for CAPACITY keys (false positives about 1% up to there); 0, or
 * -1 when out of memory (F then holds no memory and answers "maybe" to every key). */
int idx_keyfilter_init(struct idx_keyfilter *f, size_t capacity);
void idx_keyfilter_release(struct idx_keyfilter *f);

/* HASH must be a well-mixed 64-bit hash of the key (every bit depends on every key bit). */
void idx_keyfilter_add(struct idx_keyfilter *f, uint64_t hash);
/* 0: no key with this hash was added; 1: maybe one was. */
int idx_keyfilter_may_hold(const struct idx_keyfilter *f, uint64_t hash);

size_t idx_keyfilter_bytes(const struct idx_keyfilter *f);
/* What idx_keyfilter_init(CAPACITY) allocates. */
size_t idx_keyfilter_bytes_for(size_t capacity);

#endif
