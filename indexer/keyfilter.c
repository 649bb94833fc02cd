/* keyfilter.c - a blocked Bloom filter of 64-bit key hashes (keyfilter.h).
 *
 * A key sets K_BITS bits, all in one 512-bit block (Putze, Sanders, Singler, "Cache-,
 * Hash- and Space-Efficient Bloom Filters", 2007): a lookup reads one cache line instead
 * of K_BITS random ones. The block is chosen by the hash's low 32 bits (scaled to the
 * block count, which need not be a power of two); the bit positions are 9-bit slices of
 * the high half of a second, multiplied form of the hash. At BITS_PER_KEY bits per key
 * and 5 bits set per key about 1% of the absent keys answer "maybe" when the filter holds
 * its capacity (tests/indexer/test_keyfilter.c measures it).
 * Nothing is stored on disk.
 */
#include "keyfilter.h"

#include <stdlib.h>
#include <string.h>

#define BLOCK_WORDS 8     /* 512 bits */
#define BITS_PER_KEY 10   /* before rounding the block count up */
#define K_BITS 5          /* bits set per key */

/* Blocks for CAPACITY keys (at least one). */
static size_t blocks_for(size_t capacity)
{
    size_t n = (capacity * BITS_PER_KEY + 511) / 512;

    return n ? n : 1;
}

size_t idx_keyfilter_bytes_for(size_t capacity)
{
    return blocks_for(capacity) * BLOCK_WORDS * sizeof(uint64_t);
}

int idx_keyfilter_init(struct idx_keyfilter *f, size_t capacity)
{
    size_t n = blocks_for(capacity);

    memset(f, 0, sizeof(*f));
    if (n > UINT32_MAX)
        return -1;
    f->words = calloc(n * BLOCK_WORDS, sizeof(*f->words));
    if (!f->words)
        return -1;
    f->nblocks = n;
    f->capacity = capacity;
    return 0;
}

void idx_keyfilter_release(struct idx_keyfilter *f)
{
    free(f->words);
    memset(f, 0, sizeof(*f));
}

/* The block of HASH and, in *BITS, the second hash whose 9-bit slices are the positions. */
static inline uint64_t *block_of(const struct idx_keyfilter *f, uint64_t hash, uint64_t *bits)
{
    *bits = (hash >> 32 | hash << 32) * 0x9e3779b97f4a7c15ull;
    return f->words + (size_t)((hash & 0xffffffffu) * f->nblocks >> 32) * BLOCK_WORDS;
}

void idx_keyfilter_add(struct idx_keyfilter *f, uint64_t hash)
{
    uint64_t bits, *b;

    if (!f->words)
        return;
    b = block_of(f, hash, &bits);
    for (int k = 0; k < K_BITS; k++) {
        unsigned pos = (unsigned)(bits >> (55 - 9 * k) & 511);
        b[pos >> 6] |= 1ull << (pos & 63);
    }
    f->nkeys++;
}

int idx_keyfilter_may_hold(const struct idx_keyfilter *f, uint64_t hash)
{
    uint64_t bits;
    const uint64_t *b;

    if (!f->words)
        return 1;
    b = block_of(f, hash, &bits);
    for (int k = 0; k < K_BITS; k++) {
        unsigned pos = (unsigned)(bits >> (55 - 9 * k) & 511);
        if (!(b[pos >> 6] >> (pos & 63) & 1))
            return 0;
    }
    return 1;
}

size_t idx_keyfilter_bytes(const struct idx_keyfilter *f)
{
    return f->nblocks * BLOCK_WORDS * sizeof(*f->words);
}
