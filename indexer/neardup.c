/* neardup.c - near-duplicate detection: MinHash sketches over word shingles, LSH band keys
 * in the index, candidate search at ingest and the cluster scan of `newsidx dups`.
 *
 * What counts as a near-duplicate
 * -------------------------------
 * Syndicated rewrites of one wire story: the same body with another headline, a dateline
 * added ("LONDON (Reuters) -"), a paragraph added or cut at the end. Two articles are
 * near-duplicates when the Jaccard similarity J = |A n B| / |A u B| of their sets of word
 * 5-shingles (A, B: every run of 5 consecutive words of the body) is at least a threshold
 * T, 0.8 by default (near_duplicates.threshold in the configuration, --near-threshold,
 * `dups --threshold`; from 0.5 to 1). The headline is not shingled. A body of fewer than
 * IDX_ND_MIN_WORDS (25) words gets no sketch and is never a near-duplicate: short items
 * (dividend notices, one-line briefs) share most of their words by template while being
 * different news. A changed dateline of d words changes at most d + 4 shingles, an added
 * paragraph of p words adds p shingles: a 300-word story (296 shingles) with both (d = 4,
 * p = 40) keeps J = 296 / 340 = 0.87.
 *
 * Words here are not the analyzer's: a word is a run of ASCII letters and digits and
 * non-ASCII bytes, ASCII case folded. Running the Unicode analyzer a second time over every
 * body cost about 10% of the ingest time; rewrites of one story keep its spelling, so the
 * byte-level split finds the same shingles, and it does not depend on the index's analyzer
 * settings (sketches are comparable across a `rebuild` that changes them).
 *
 * The sketch: one-permutation MinHash with densification
 * -------------------------------------------------------
 * Classic MinHash applies K independent hash functions to every shingle and keeps each
 * function's minimum: Pr[min_k(A) = min_k(B)] = J. That costs K hashes per shingle. We use
 * one-permutation hashing (Li, Owen, Zhang 2012): each shingle gets one 64-bit hash h; its
 * top 7 bits choose one of K = 128 bins and its low 16 bits are the value; each bin keeps
 * its minimum value. For a bin that is not empty in A u B, the minimum of A u B in that
 * bin is in A n B with probability J, so the bins agree with probability J (plus a chance
 * 16-bit value collision, (1 - J) / 65536: a bias below 0.00002). Empty bins (bodies of
 * fewer than a few hundred shingles leave some) are filled by optimal densification
 * (Shrivastava 2017): empty bin i takes the value of the first non-empty bin among j_1,
 * j_2, ... where j_t = hash(i, t) mod K, a sequence that is the same for every text, so the
 * estimator stays unbiased. The estimate of J is the fraction of equal bins; its standard
 * error is about sqrt(J (1 - J) / K): 0.035 at J = 0.8 (tests/indexer/test_neardup.c checks
 * estimates against exact J over random pairs). Cost: one pass over the bytes, one mix per
 * word and per shingle, no allocation (a ring of the last 5 word hashes).
 *
 * Finding candidates: LSH banding
 * -------------------------------
 * Bins 0..23 form b = 8 bands of r = 3 rows. A band's key is a hash of its 3 values; two
 * texts share a band key with probability J^3, and at least one of 8 with
 *     P(J) = 1 - (1 - J^3)^8:
 *     J     0.1    0.2    0.3    0.5    0.6    0.7    0.8     0.9
 *     P     0.008  0.062  0.197  0.656  0.857  0.965  0.9968  1.0000
 * so at the default threshold 0.8 a near-duplicate at exactly 0.8 is missed once in 300
 * (rewrites are mostly above 0.85, where P > 0.999), and unrelated stories (J near 0) are
 * rarely even compared. Below 0.5 recall falls off: thresholds are kept >= 0.5. 16 bands
 * of 4 rows (recall 0.9998 at 0.8) were measured first: twice the keys cost 0.25 s more on
 * the 23,000 articles of Reuters + BBC, for recall that 8 x 3 nearly matches.
 *
 * Band keys in the index (namespace FMT_NS_NEARDUP, 'M')
 * ------------------------------------------------------
 * A band key is 1 + 12 + 16 bits of its hash: the term is 3 bytes (band number, then a
 * 12-bit bucket, little-endian) and the posting's tf is 1 + the 16 check bits. So a segment
 * holds at most 8 x 4096 'M' terms whatever its size (a term per key would add one
 * dictionary entry, one buffer in the builder, per article and band: a third slower ingest),
 * each article adds 8 postings (about 3 bytes each), and two articles share a band key
 * when they share the term and the tf. They are added with fmt_seg_builder_add_keys;
 * merges copy them like any other term (format/segment_merge.c), so they survive
 * compaction. Indexes written before this have no 'M' terms: `newsidx rebuild` adds them.
 *
 * At ingest (idx_neardup_find), the new article's band keys are looked up in the builder's
 * in-memory table (struct idx_neardup: full band key -> builder docs, with their sketches,
 * counted in the memory budget) and in every segment (one term lookup per band, postings
 * with other check bits skipped); each candidate is verified by comparing full 128-bin
 * sketches, a segment doc's sketch being recomputed from its stored body.
 *
 * Those segment lookups were half of the calling thread's time in a long add (1M
 * articles into 9 segments: 8 dictionary lookups and posting scans per segment per
 * article), and nearly all of them find nothing. So after IDX_ND_FILTER_AFTER searches the
 * writer's session builds a Bloom filter of every band key in its segments and builder
 * (indexer/keyfilter.c, about 10 bits a key, counted in idx_neardup_bytes and so in the
 * memory budget, and built only when it fits in a quarter of the budget: 64 MiB of the
 * default 256 hold the keys of 4.4M articles) and keeps adding the keys of each new
 * article; a band key the filter says no segment holds is not looked up. Deleted
 * articles' keys stay in it and merges only drop keys, so it never says "absent" for a
 * key a segment holds; when it fills up it is rebuilt from the segments with 1.5 times
 * the room. A short add never builds it.
 *
 * `newsidx dups` (idx_neardup_clusters) reads every 'M' posting of live articles, one band
 * per pass (memory holds 1/8 of them at a time), sorts them by band key, verifies every
 * pair of articles sharing a key by their sketches, and joins the pairs at or above T with
 * union-find (single linkage: a cluster can hold A ~ B ~ C where A and C are further apart
 * than T; each member's similarity to the first is shown).
 */
#include "neardup.h"

#include <stdlib.h>
#include <string.h>

#include "keyfilter.h"

#define BAND_BINS (IDX_ND_BANDS * IDX_ND_ROWS)
#define BIN_BITS 7 /* log2(IDX_ND_BINS) */
#define PER_KEY_CAP 32
#define FIND_CAP 256
#define GROUP_CAP 1000 /* docs of one band key compared pairwise by the cluster scan */

_Static_assert(1u << BIN_BITS == IDX_ND_BINS, "BIN_BITS must match IDX_ND_BINS");
_Static_assert(BAND_BINS <= IDX_ND_BINS, "bands must fit in the bins");

static inline uint64_t mix64(uint64_t x)
{
    /* splitmix64 finalizer: every input bit affects every output bit */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

/* ---- words and shingles ------------------------------------------------------------- */

#define FNV_BASIS 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull
#define SCAN_BYTES 512 /* bytes scanned for words before those words are shingled */

/* Word bytes: ASCII letters and digits and every byte of a non-ASCII UTF-8 sequence. */
#define IS_WORD_BYTE(c)                                                                     \
    (((c) >= '0' && (c) <= '9') || ((c) >= 'A' && (c) <= 'Z') || ((c) >= 'a' && (c) <= 'z') || \
     (c) >= 0x80)
/* A word byte case folded, 0 for the others (no word byte folds to 0). */
#define WORD_FOLD(c) (uint8_t)(!IS_WORD_BYTE(c) ? 0 : (c) >= 'A' && (c) <= 'Z' ? (c) + 32 : (c))
/* The 256 values F(0) .. F(255), for a table indexed by a byte. */
#define T4(F, c) F(c), F(c + 1), F(c + 2), F(c + 3)
#define T16(F, c) T4(F, c), T4(F, c + 4), T4(F, c + 8), T4(F, c + 12)
#define T64(F, c) T16(F, c), T16(F, c + 16), T16(F, c + 32), T16(F, c + 48)
#define T256(F) {T64(F, 0), T64(F, 64), T64(F, 128), T64(F, 192)}
static const uint8_t word_byte[256] = T256(IS_WORD_BYTE);
static const uint8_t word_fold[256] = T256(WORD_FOLD);

static inline uint8_t fold_byte(uint8_t c)
{
    return (uint8_t)(c >= 'A' && c <= 'Z' ? c + 32 : c);
}

/* Calls SHINGLE(ctx, hash) for every run of IDX_ND_SHINGLE consecutive words of TEXT
 * (all its words when it has fewer) and returns the number of words. *CHAIN, when not
 * NULL, continues the content hash (idx_content_hash) over the same word bytes: a second,
 * independent multiply chain in the same loop costs almost nothing, a second pass over the
 * body cost 4% of the ingest time.
 *
 * A word's hash is mix64 of FNV-1a over its folded bytes, xor its length; a shingle's is
 * mix64 of its words' hashes chained oldest first. The byte loop has no branch on the
 * bytes (a branch per word end was mispredicted about once a word): every byte goes
 * through both FNV chains, a separator as the identity of the content hash (xor 0, times
 * 1) and as a reset of the word hash (times 0, and FNV_BASIS xored in at the next word's
 * first byte), and every byte stores the word hash so far, the slot taken only at a word
 * end. Every SCAN_BYTES bytes the words found are shingled. Inlined into each caller, so
 * that SHINGLE is too. The byte loop now runs at about the latency of the content hash's
 * multiply chain (xor, multiply: some 4 cycles a byte, separators included), at 2.5 times
 * the speed of the branching loop; classifying 64 bytes at a time with SSE2 took a third
 * of its instructions away and gained nothing measurable, so it was left out. */
typedef void (*shingle_fn)(void *ctx, uint64_t h);

#define SHINGLE_BASIS 0x2545f4914f6cdd1dull
_Static_assert(IDX_ND_SHINGLE == 5, "shingles() keeps the last 5 word hashes in r0..r4");

static inline uint64_t shingle_hash(uint64_t sh, uint64_t word)
{
    return (sh ^ word) * 0x9fb21c651e98df25ull;
}

/* The byte loop's state between calls. */
struct word_scan {
    uint64_t h;   /* FNV-1a of the current word so far; 0 after a separator */
    uint64_t len; /* bytes of the current word so far */
    uint64_t in;  /* 1 when the last byte scanned is a word byte */
    uint64_t all; /* the content hash */
};

/* Scans [P, STOP): the hash (FNV-1a ^ length) of every word ending in it into FOUND (at
 * most (STOP - P + 1) / 2 + 1 entries), returns how many. Not inlined: it has the
 * registers to itself (inlined, it ran 10% slower). */
static __attribute__((noinline)) size_t scan_words(struct word_scan *s, const uint8_t *p,
                                                    const uint8_t *stop, uint64_t *found)
{
    uint64_t h = s->h, len = s->len, in = s->in, all = s->all;
    size_t n = 0;

    for (; p < stop; p++) {
        uint64_t w = word_byte[*p], m = 0 - w, c = word_fold[*p];
        found[n] = h ^ len;
        n += in & (w ^ 1);
        h = (h ^ c ^ (FNV_BASIS & (in - 1))) * (FNV_PRIME & m);
        all = (all ^ c) * (1 + ((FNV_PRIME - 1) & m));
        len = (len + 1) & m;
        in = w;
    }
    s->h = h;
    s->len = len;
    s->in = in;
    s->all = all;
    return n;
}

static inline __attribute__((always_inline)) uint64_t
shingles(const char *text, size_t len, shingle_fn fn, void *ctx, uint64_t *chain)
{
    const uint8_t *p = (const uint8_t *)text, *end = p + len;
    uint64_t r0 = 0, r1 = 0, r2 = 0, r3 = 0, r4 = 0; /* the last 5 word hashes, oldest first */
    uint64_t words = 0, found[SCAN_BYTES / 2 + 2];
    struct word_scan s = {0, 0, 0, chain ? *chain : 0};

    while (p < end) {
        const uint8_t *stop = (size_t)(end - p) > SCAN_BYTES ? p + SCAN_BYTES : end;
        size_t n = scan_words(&s, p, stop, found);
        p = stop;
        if (p == end && s.in)
            found[n++] = s.h ^ s.len;
        for (size_t i = 0; i < n; i++) {
            r0 = r1, r1 = r2, r2 = r3, r3 = r4, r4 = mix64(found[i]);
            if (++words >= IDX_ND_SHINGLE)
                fn(ctx, mix64(shingle_hash(shingle_hash(shingle_hash(shingle_hash(
                             shingle_hash(SHINGLE_BASIS, r0), r1), r2), r3), r4)));
        }
    }
    if (words > 0 && words < IDX_ND_SHINGLE) {
        uint64_t ring[IDX_ND_SHINGLE] = {r0, r1, r2, r3, r4}, sh = SHINGLE_BASIS;
        for (uint64_t k = IDX_ND_SHINGLE - words; k < IDX_ND_SHINGLE; k++)
            sh = shingle_hash(sh, ring[k]);
        fn(ctx, mix64(sh));
    }
    if (chain)
        *chain = s.all;
    return words;
}

/* ---- the content hash ------------------------------------------------------------------ */

/* FNV-1a over the word bytes of S (the shingles' words, case folded, everything between
 * words dropped), continuing from H. */
static uint64_t chain_words(uint64_t h, const char *s)
{
    for (const uint8_t *p = (const uint8_t *)s; *p; p++)
        if (word_byte[*p])
            h = (h ^ fold_byte(*p)) * FNV_PRIME;
    return h;
}

/* The title/body boundary, so that moving words between the two changes the hash. */
static uint64_t chain_boundary(uint64_t h)
{
    return (h ^ 0xff) * FNV_PRIME;
}

uint64_t idx_content_hash(const struct fmt_article *a)
{
    uint64_t h = chain_boundary(chain_words(FNV_BASIS, a->title));

    h = chain_boundary(chain_words(h, a->body));
    return h ? h : 1;
}

/* ---- sketches ------------------------------------------------------------------------ */

/* Densification probes: PROBE(i, t) = j_t of bin i (see the top), mix64 of i << 32 + t
 * written out as a constant expression, so that the compiler fills the table of the
 * first PROBES of every bin; later ones are computed (densify_from). */
#define PROBES 8
#define XSHIFT(x, s) ((x) ^ ((x) >> (s)))
#define MIX64_CONST(x)                                                                      \
    XSHIFT(XSHIFT(XSHIFT(x, 30) * 0xbf58476d1ce4e5b9ull, 27) * 0x94d049bb133111ebull, 31)
#define PROBE(i, t) (uint8_t)(MIX64_CONST(((uint64_t)(i) << 32) + (t)) >> (64 - BIN_BITS))
#define PROBE_ROW(i)                                                                        \
    {PROBE(i, 1), PROBE(i, 2), PROBE(i, 3), PROBE(i, 4),                                    \
     PROBE(i, 5), PROBE(i, 6), PROBE(i, 7), PROBE(i, 8)}
#define PROBE_ROWS4(i) PROBE_ROW(i), PROBE_ROW(i + 1), PROBE_ROW(i + 2), PROBE_ROW(i + 3)
#define PROBE_ROWS16(i)                                                                     \
    PROBE_ROWS4(i), PROBE_ROWS4(i + 4), PROBE_ROWS4(i + 8), PROBE_ROWS4(i + 12)

static const uint8_t probe[IDX_ND_BINS][PROBES] = {
    PROBE_ROWS16(0),  PROBE_ROWS16(16), PROBE_ROWS16(32), PROBE_ROWS16(48),
    PROBE_ROWS16(64), PROBE_ROWS16(80), PROBE_ROWS16(96), PROBE_ROWS16(112),
};

_Static_assert(IDX_ND_BINS == 128, "the probe table has 128 rows");

#define EMPTY_BIN UINT32_MAX /* a bin's minimum before any shingle fell in it */

static inline __attribute__((always_inline)) void bin_shingle(void *ctx, uint64_t h)
{
    uint32_t *min = ctx, v = (uint16_t)h;
    unsigned bin = (unsigned)(h >> (64 - BIN_BITS));

    min[bin] = v < min[bin] ? v : min[bin];
}

/* The first non-empty bin among empty bin I's probes from the T-th (1-based) on. */
static unsigned densify_from(const uint32_t *min, unsigned i, uint64_t t)
{
    /* at least one bin is filled, so this ends (expected < IDX_ND_BINS steps) */
    for (;; t++) {
        unsigned j = t <= PROBES ? probe[i][t - 1]
                                 : (unsigned)(mix64(((uint64_t)i << 32) + t) >> (64 - BIN_BITS));
        if (min[j] != EMPTY_BIN)
            return j;
    }
}

/* OUT's values from the bins' minimums, empty bins filled (optimal densification). Most
 * empty bins find a filled one among their first 4 probes: those are tested at once
 * rather than one branch each. */
static void densify(const uint32_t *min, struct idx_sketch *out)
{
    uint64_t empty[IDX_ND_BINS / 64] = {0};

    for (unsigned i = 0; i < IDX_ND_BINS; i++) {
        out->v[i] = (uint16_t)min[i];
        empty[i / 64] |= (uint64_t)(min[i] >> 31) << (i % 64); /* EMPTY_BIN: top bit set */
    }
    for (unsigned k = 0; k < IDX_ND_BINS / 64; k++) {
        for (uint64_t e = empty[k]; e; e &= e - 1) {
            unsigned i = k * 64 + (unsigned)__builtin_ctzll(e), j;
            const uint8_t *pr = probe[i];
            unsigned miss = min[pr[0]] >> 31 | (min[pr[1]] >> 31) << 1 |
                            (min[pr[2]] >> 31) << 2 | (min[pr[3]] >> 31) << 3;
            j = miss != 15 ? pr[__builtin_ctz(~miss)] : densify_from(min, i, 5);
            out->v[i] = (uint16_t)min[j];
        }
    }
}

/* Sketch of TEXT, continuing the content hash *CHAIN over it when CHAIN is not NULL. */
static void sketch_text(const char *text, size_t len, struct idx_sketch *out, uint64_t *chain)
{
    uint32_t min[IDX_ND_BINS];
    uint64_t words;

    memset(min, 0xff, sizeof(min));
    words = shingles(text, len, bin_shingle, min, chain);
    if (words < IDX_ND_MIN_WORDS) {
        memset(out, 0, sizeof(*out));
        return;
    }
    densify(min, out);
    out->nshingles = (uint32_t)(words - (IDX_ND_SHINGLE - 1));
}

void idx_sketch_text(const char *text, size_t len, struct idx_sketch *out)
{
    sketch_text(text, len, out, NULL);
}

void idx_sketch_article(const struct fmt_article *a, struct idx_sketch *out, uint64_t *content_hash)
{
    uint64_t h;

    if (!content_hash) {
        sketch_text(a->body, strlen(a->body), out, NULL);
        return;
    }
    h = chain_boundary(chain_words(FNV_BASIS, a->title));
    sketch_text(a->body, strlen(a->body), out, &h);
    h = chain_boundary(h);
    *content_hash = h ? h : 1;
}

double idx_sketch_similarity(const struct idx_sketch *a, const struct idx_sketch *b)
{
    unsigned same = 0;

    if (!a->nshingles || !b->nshingles)
        return 0;
    for (unsigned i = 0; i < IDX_ND_BINS; i++)
        same += a->v[i] == b->v[i];
    return (double)same / IDX_ND_BINS;
}

void idx_sketch_band_keys(const struct idx_sketch *s,
                          uint8_t terms[IDX_ND_BANDS * IDX_ND_TERM_BYTES],
                          uint32_t tfs[IDX_ND_BANDS])
{
    for (unsigned t = 0; t < IDX_ND_BANDS; t++) {
        uint64_t h = 0x6a09e667f3bcc909ull + t;
        uint8_t *term = terms + t * IDX_ND_TERM_BYTES;
        for (unsigned r = 0; r < IDX_ND_ROWS; r++)
            h = (h ^ s->v[t * IDX_ND_ROWS + r]) * 0x9fb21c651e98df25ull;
        h = mix64(h);
        term[0] = (uint8_t)t;
        term[1] = (uint8_t)h;
        term[2] = (uint8_t)((h >> 8) & ((1u << (IDX_ND_BUCKET_BITS - 8)) - 1));
        tfs[t] = 1 + (uint32_t)((h >> 32) & ((1u << IDX_ND_CHECK_BITS) - 1));
    }
}

/* One number for a band key (term and tf): band, bucket and check bits. */
static uint64_t full_key(const uint8_t *term, uint32_t tf)
{
    uint64_t bucket = term[1] | (uint64_t)term[2] << 8;

    return (uint64_t)term[0] << (IDX_ND_BUCKET_BITS + IDX_ND_CHECK_BITS) |
           bucket << IDX_ND_CHECK_BITS | (uint64_t)(tf - 1);
}

int idx_neardup_add_keys(struct fmt_seg_builder *b, uint32_t doc, const struct idx_sketch *s,
                         struct fmt_err *err)
{
    uint8_t terms[IDX_ND_BANDS * IDX_ND_TERM_BYTES];
    uint32_t tfs[IDX_ND_BANDS];

    if (!s->nshingles)
        return FMT_OK;
    idx_sketch_band_keys(s, terms, tfs);
    return fmt_seg_builder_add_keys(b, doc, FMT_NS_NEARDUP, terms, IDX_ND_TERM_BYTES, tfs,
                                    IDX_ND_BANDS, err);
}

/* ---- exact Jaccard (tests, calibration) ------------------------------------------------ */

struct set_ctx {
    uint64_t *v;
    size_t n, cap;
    int oom;
};

static void collect_shingle(void *ctx, uint64_t h)
{
    struct set_ctx *c = ctx;

    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        uint64_t *p = c->oom ? NULL : realloc(c->v, cap * sizeof(*p));
        if (!p) {
            c->oom = 1;
            return;
        }
        c->v = p;
        c->cap = cap;
    }
    c->v[c->n++] = h;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

    return (a > b) - (a < b);
}

/* Sorted distinct shingle hashes of TEXT into C. */
static int shingle_set(const char *text, size_t len, struct set_ctx *c)
{
    size_t n = 0;

    shingles(text, len, collect_shingle, c, NULL);
    if (c->oom)
        return FMT_ENOMEM;
    if (c->n)
        qsort(c->v, c->n, sizeof(*c->v), cmp_u64);
    for (size_t i = 0; i < c->n; i++)
        if (i == 0 || c->v[i] != c->v[i - 1])
            c->v[n++] = c->v[i];
    c->n = n;
    return FMT_OK;
}

int idx_shingle_jaccard(const char *x, size_t xlen, const char *y, size_t ylen, double *out)
{
    struct set_ctx a = {NULL, 0, 0, 0}, b = {NULL, 0, 0, 0};
    size_t i = 0, j = 0, both = 0;
    int rc = shingle_set(x, xlen, &a);

    *out = 0;
    if (rc == FMT_OK)
        rc = shingle_set(y, ylen, &b);
    if (rc == FMT_OK) {
        while (i < a.n && j < b.n) {
            if (a.v[i] == b.v[j]) {
                both++;
                i++;
                j++;
            } else if (a.v[i] < b.v[j]) {
                i++;
            } else {
                j++;
            }
        }
        if (a.n + b.n)
            *out = (double)both / (double)(a.n + b.n - both);
    }
    free(a.v);
    free(b.v);
    return rc;
}

/* ---- the builder's table ------------------------------------------------------------- */

struct nd_entry {
    uint64_t key;  /* band key (full_key) */
    uint32_t sk;   /* index in sketches */
    uint32_t next; /* next entry in the same slot + 1, 0 at the end */
};

struct nd_sketch {
    uint32_t doc;
    struct idx_sketch s;
};

struct idx_neardup {
    struct nd_sketch *sk;      /* builder docs with a sketch, in doc order */
    size_t nsk, capsk;
    struct nd_entry *e;        /* IDX_ND_BANDS per sketch */
    size_t ne, cape;
    uint32_t *slot;            /* head entry + 1 per slot, 0 empty; power-of-two size */
    size_t nslot;
    struct fmt_buf scratch;    /* doc store decompression */
    struct idx_keyfilter segkeys; /* band keys of the segments and builder (see the top) */
    int segkeys_on;            /* segkeys holds them all: a "no" skips the segments */
    uint64_t searches;         /* idx_neardup_find calls since segkeys was last valid */
    size_t filter_max;         /* the most bytes segkeys may take */
};

int idx_neardup_new(struct idx_neardup **out, size_t filter_max, struct fmt_err *err)
{
    struct idx_neardup *nd = calloc(1, sizeof(*nd));

    *out = NULL;
    if (!nd)
        return fmt_errorf(err, FMT_ENOMEM, "near-duplicate table: out of memory");
    nd->filter_max = filter_max;
    fmt_buf_init(&nd->scratch);
    *out = nd;
    return FMT_OK;
}

void idx_neardup_free(struct idx_neardup *nd)
{
    if (!nd)
        return;
    free(nd->sk);
    free(nd->e);
    free(nd->slot);
    fmt_buf_release(&nd->scratch);
    idx_keyfilter_release(&nd->segkeys);
    free(nd);
}

void idx_neardup_clear(struct idx_neardup *nd)
{
    nd->nsk = 0;
    nd->ne = 0;
    if (nd->slot)
        memset(nd->slot, 0, nd->nslot * sizeof(*nd->slot));
}

size_t idx_neardup_bytes(const struct idx_neardup *nd)
{
    return sizeof(*nd) + nd->capsk * sizeof(*nd->sk) + nd->cape * sizeof(*nd->e) +
           nd->nslot * sizeof(*nd->slot) + nd->scratch.cap + idx_keyfilter_bytes(&nd->segkeys);
}

static size_t slot_of(const struct idx_neardup *nd, uint64_t key)
{
    return (size_t)mix64(key) & (nd->nslot - 1);
}

static int rehash(struct idx_neardup *nd, size_t nslot)
{
    uint32_t *slot = calloc(nslot, sizeof(*slot));

    if (!slot)
        return FMT_ENOMEM;
    free(nd->slot);
    nd->slot = slot;
    nd->nslot = nslot;
    for (size_t i = 0; i < nd->ne; i++) {
        size_t s = slot_of(nd, nd->e[i].key);
        nd->e[i].next = nd->slot[s];
        nd->slot[s] = (uint32_t)i + 1;
    }
    return FMT_OK;
}

int idx_neardup_put(struct idx_neardup *nd, uint32_t doc, const struct idx_sketch *s)
{
    uint8_t terms[IDX_ND_BANDS * IDX_ND_TERM_BYTES];
    uint32_t tfs[IDX_ND_BANDS];

    if (!s->nshingles)
        return FMT_OK;
    if (nd->nsk == nd->capsk) {
        size_t cap = nd->capsk ? nd->capsk * 2 : 256;
        struct nd_sketch *p = realloc(nd->sk, cap * sizeof(*p));
        if (!p)
            return FMT_ENOMEM;
        nd->sk = p;
        nd->capsk = cap;
    }
    if (nd->ne + IDX_ND_BANDS > nd->cape) {
        size_t cap = nd->cape ? nd->cape * 2 : 256 * IDX_ND_BANDS;
        struct nd_entry *p = realloc(nd->e, cap * sizeof(*p));
        if (!p || cap > UINT32_MAX) {
            if (p)
                nd->e = p;
            return FMT_ENOMEM;
        }
        nd->e = p;
        nd->cape = cap;
    }
    if ((nd->ne + IDX_ND_BANDS) * 2 > nd->nslot &&
        rehash(nd, nd->nslot ? nd->nslot * 2 : 8192) != FMT_OK)
        return FMT_ENOMEM;
    nd->sk[nd->nsk].doc = doc;
    nd->sk[nd->nsk].s = *s;
    idx_sketch_band_keys(s, terms, tfs);
    for (unsigned t = 0; t < IDX_ND_BANDS; t++) {
        struct nd_entry *e = &nd->e[nd->ne];
        size_t sl;
        e->key = full_key(terms + t * IDX_ND_TERM_BYTES, tfs[t]);
        e->sk = (uint32_t)nd->nsk;
        sl = slot_of(nd, e->key);
        e->next = nd->slot[sl];
        nd->slot[sl] = (uint32_t)++nd->ne;
        if (nd->segkeys_on)
            idx_keyfilter_add(&nd->segkeys, mix64(e->key));
    }
    nd->nsk++;
    if (nd->segkeys_on && nd->segkeys.nkeys > nd->segkeys.capacity) {
        nd->segkeys_on = 0; /* full: the next search rebuilds it */
        nd->searches = IDX_ND_FILTER_AFTER - 1;
    }
    return FMT_OK;
}

/* ---- ingest search ------------------------------------------------------------------- */

struct find_state {
    struct idx_neardup *nd;
    const struct idx_nd_view *v;
    const struct idx_sketch *s;
    double threshold;
    struct idx_nd_match *m;
    int found;
    unsigned checked;          /* candidates verified so far */
    struct {                   /* candidates already seen (at most FIND_CAP) */
        size_t seg;
        uint32_t doc;
    } seen[FIND_CAP];
};

/* 1 when (SEG, DOC) was seen before; else records it. */
static int seen_before(struct find_state *f, size_t seg, uint32_t doc)
{
    for (unsigned i = 0; i < f->checked; i++)
        if (f->seen[i].seg == seg && f->seen[i].doc == doc)
            return 1;
    f->seen[f->checked].seg = seg;
    f->seen[f->checked].doc = doc;
    f->checked++;
    return 0;
}

static void consider(struct find_state *f, size_t seg, uint32_t doc, const struct idx_sketch *o)
{
    double sim = idx_sketch_similarity(f->s, o);

    if (sim >= f->threshold) {
        f->found = 1;
        f->m->seg = seg;
        f->m->doc = doc;
        f->m->similarity = sim;
    }
}

static void find_in_builder(struct find_state *f, const uint8_t *terms, const uint32_t *tfs)
{
    struct idx_neardup *nd = f->nd;

    if (!nd->nslot)
        return;
    for (unsigned t = 0; t < IDX_ND_BANDS && !f->found; t++) {
        uint64_t key = full_key(terms + t * IDX_ND_TERM_BYTES, tfs[t]);
        unsigned per_key = 0;
        for (uint32_t i = nd->slot[slot_of(nd, key)]; i && !f->found; i = nd->e[i - 1].next) {
            const struct nd_entry *e = &nd->e[i - 1];
            const struct nd_sketch *c = &nd->sk[e->sk];
            if (e->key != key || !f->v->live(f->v->ctx, f->v->nsegs, c->doc))
                continue;
            if (per_key++ >= PER_KEY_CAP || f->checked >= FIND_CAP)
                break;
            if (!seen_before(f, f->v->nsegs, c->doc))
                consider(f, f->v->nsegs, c->doc, &c->s);
        }
    }
}

/* Verify doc DOC of segment I: recompute its sketch from the stored body. */
static int check_seg_doc(struct find_state *f, size_t i, uint32_t doc, struct fmt_err *err)
{
    struct fmt_article a;
    struct idx_sketch o;
    int rc = fmt_seg_doc(f->v->seg(f->v->ctx, i), doc, &f->nd->scratch, &a, err);

    if (rc != FMT_OK)
        return rc;
    idx_sketch_article(&a, &o, NULL);
    fmt_article_release(&a);
    consider(f, i, doc, &o);
    return FMT_OK;
}

static int find_in_seg(struct find_state *f, size_t i, const uint8_t *term, uint32_t tf,
                       struct fmt_err *err)
{
    const struct fmt_seg *seg = f->v->seg(f->v->ctx, i);
    struct fmt_term_info ti;
    struct fmt_postings p;
    unsigned per_key = 0;
    int rc = fmt_seg_lookup(seg, FMT_NS_NEARDUP, (const char *)term, IDX_ND_TERM_BYTES, &ti, err);

    if (rc == FMT_ENOTFOUND)
        return FMT_OK;
    if (rc == FMT_OK)
        rc = fmt_postings_open(&p, seg, &ti, err);
    if (rc != FMT_OK)
        return rc;
    while (!f->found && (rc = fmt_postings_next(&p, err)) == FMT_OK && p.doc != FMT_DOC_END) {
        if (fmt_postings_tf(&p, FMT_FIELD_TITLE) != tf || !f->v->live(f->v->ctx, i, p.doc))
            continue; /* same bucket, other check bits: another band key */
        if (per_key++ >= PER_KEY_CAP || f->checked >= FIND_CAP)
            break;
        if (!seen_before(f, i, p.doc) && (rc = check_seg_doc(f, i, p.doc, err)) != FMT_OK)
            break;
    }
    fmt_postings_release(&p);
    return rc;
}

struct keys_ctx {
    const struct fmt_seg *seg;
    struct idx_keyfilter *f;
    struct fmt_err *err;
};

/* Term callback of the prefix walk: every band key of the term, deleted docs' too. */
static int filter_term(void *ctx, const char *term, size_t len, const struct fmt_term_info *ti)
{
    struct keys_ctx *k = ctx;
    struct fmt_postings p;
    int rc;

    if (len != IDX_ND_TERM_BYTES)
        return FMT_OK; /* not ours */
    if ((rc = fmt_postings_open(&p, k->seg, ti, k->err)) != FMT_OK)
        return rc;
    while ((rc = fmt_postings_next(&p, k->err)) == FMT_OK && p.doc != FMT_DOC_END)
        idx_keyfilter_add(k->f, mix64(full_key((const uint8_t *)term,
                                               fmt_postings_tf(&p, FMT_FIELD_TITLE))));
    fmt_postings_release(&p);
    return rc;
}

/* (Re)build nd->segkeys from the band keys of V's segments and of the builder's docs. */
static int build_segkeys(struct idx_neardup *nd, const struct idx_nd_view *v,
                         struct fmt_err *err)
{
    size_t docs = nd->nsk, cap;
    int rc = FMT_OK;

    for (size_t i = 0; i < v->nsegs; i++)
        docs += fmt_seg_stats(v->seg(v->ctx, i))->ndocs;
    cap = docs * IDX_ND_BANDS * 3 / 2 + 4096;
    idx_keyfilter_release(&nd->segkeys);
    if (idx_keyfilter_bytes_for(cap) > nd->filter_max ||
        idx_keyfilter_init(&nd->segkeys, cap) != 0)
        return FMT_ENOMEM; /* too big for the budget, or no memory: search without it */
    for (size_t i = 0; i < v->nsegs && rc == FMT_OK; i++) {
        struct keys_ctx k = {v->seg(v->ctx, i), &nd->segkeys, err};
        rc = fmt_seg_prefix(k.seg, FMT_NS_NEARDUP, "", 0, filter_term, &k, err);
    }
    for (size_t i = 0; i < nd->ne && rc == FMT_OK; i++)
        idx_keyfilter_add(&nd->segkeys, mix64(nd->e[i].key));
    if (rc != FMT_OK) {
        idx_keyfilter_release(&nd->segkeys);
        return rc == FMT_ENOMEM ? fmt_errorf(err, rc, "out of memory") : rc;
    }
    nd->segkeys_on = 1;
    return FMT_OK;
}

/* Bit t set: band key t (TERMS, TFS) may be in one of V's segments. */
static int segment_bands(struct idx_neardup *nd, const struct idx_nd_view *v,
                         const uint8_t *terms, const uint32_t *tfs, unsigned *bands,
                         struct fmt_err *err)
{
    *bands = (1u << IDX_ND_BANDS) - 1;
    if (!nd->segkeys_on && ++nd->searches >= IDX_ND_FILTER_AFTER) {
        int rc = build_segkeys(nd, v, err);
        nd->searches = 0;
        if (rc == FMT_ENOMEM)
            return FMT_OK; /* search without it; try again later */
        if (rc != FMT_OK)
            return rc;
    }
    if (!nd->segkeys_on)
        return FMT_OK;
    for (unsigned t = 0; t < IDX_ND_BANDS; t++)
        if (!idx_keyfilter_may_hold(&nd->segkeys,
                                    mix64(full_key(terms + t * IDX_ND_TERM_BYTES, tfs[t]))))
            *bands &= ~(1u << t);
    return FMT_OK;
}

int idx_neardup_find(struct idx_neardup *nd, const struct idx_nd_view *v,
                     const struct idx_sketch *s, double threshold, struct idx_nd_match *m,
                     int *found, struct fmt_err *err)
{
    unsigned bands = 0;
    uint8_t terms[IDX_ND_BANDS * IDX_ND_TERM_BYTES];
    uint32_t tfs[IDX_ND_BANDS];
    struct find_state *f;
    int rc = FMT_OK;

    *found = 0;
    if (!s->nshingles)
        return FMT_OK;
    f = malloc(sizeof(*f));
    if (!f)
        return fmt_errorf(err, FMT_ENOMEM, "out of memory");
    f->nd = nd;
    f->v = v;
    f->s = s;
    f->threshold = threshold;
    f->m = m;
    f->found = 0;
    f->checked = 0;
    idx_sketch_band_keys(s, terms, tfs);
    find_in_builder(f, terms, tfs);
    if (!f->found && v->nsegs)
        rc = segment_bands(nd, v, terms, tfs, &bands, err);
    for (size_t i = v->nsegs; i-- > 0 && !f->found && rc == FMT_OK && bands;)
        for (unsigned t = 0; t < IDX_ND_BANDS && !f->found && rc == FMT_OK; t++)
            if (bands >> t & 1)
                rc = find_in_seg(f, i, terms + t * IDX_ND_TERM_BYTES, tfs[t], err);
    *found = f->found;
    free(f);
    return rc;
}

/* ---- cluster scan ---------------------------------------------------------------------- */

struct scan_key {  /* one posting of a band key: a live doc holding it */
    uint64_t key;  /* full_key */
    uint32_t seg;
    uint32_t doc;
};

struct scan_node {
    uint64_t gdoc;   /* global doc id: snapshot base + local */
    size_t seg;
    uint32_t doc;
    uint32_t parent; /* union-find */
    uint32_t sk;     /* index in sketches + 1, 0 not computed yet */
};

struct scan {
    const struct fmt_snapshot *snap;
    double threshold;
    struct scan_key *keys;      /* postings of the current pass (one band) */
    size_t nkeys, capkeys;
    size_t cur_seg;
    struct scan_node *nodes;
    size_t nnodes, capnodes;
    uint32_t *map;              /* gdoc hash -> node index + 1 */
    size_t nmap;
    struct idx_sketch *sketches;
    size_t nsketches, capsketches;
    uint32_t *group;            /* node indexes of the current key group */
    size_t ngroup, capgroup;
    struct fmt_buf scratch;
    uint64_t pairs;
    struct fmt_err *err;
};

static int push_key(struct scan *sc, uint64_t key, uint32_t doc)
{
    if (sc->nkeys == sc->capkeys) {
        size_t cap = sc->capkeys ? sc->capkeys * 2 : 1024;
        struct scan_key *p = realloc(sc->keys, cap * sizeof(*p));
        if (!p)
            return FMT_ENOMEM;
        sc->keys = p;
        sc->capkeys = cap;
    }
    sc->keys[sc->nkeys].key = key;
    sc->keys[sc->nkeys].seg = (uint32_t)sc->cur_seg;
    sc->keys[sc->nkeys].doc = doc;
    sc->nkeys++;
    return FMT_OK;
}

/* Term callback of the prefix walk: every live posting of the band term. */
static int collect_key(void *ctx, const char *term, size_t len, const struct fmt_term_info *ti)
{
    struct scan *sc = ctx;
    const struct fmt_seg *seg = fmt_snapshot_seg(sc->snap, sc->cur_seg);
    struct fmt_postings p;
    int rc;

    if (len != IDX_ND_TERM_BYTES)
        return FMT_OK; /* not ours */
    if ((rc = fmt_postings_open(&p, seg, ti, sc->err)) != FMT_OK)
        return rc;
    while ((rc = fmt_postings_next(&p, sc->err)) == FMT_OK && p.doc != FMT_DOC_END) {
        uint32_t tf = fmt_postings_tf(&p, FMT_FIELD_TITLE);
        if (fmt_snapshot_deleted(sc->snap, sc->cur_seg, p.doc))
            continue;
        if (push_key(sc, full_key((const uint8_t *)term, tf), p.doc) != FMT_OK) {
            rc = fmt_errorf(sc->err, FMT_ENOMEM, "out of memory");
            break;
        }
    }
    fmt_postings_release(&p);
    return rc;
}

static int cmp_scan_key(const void *x, const void *y)
{
    const struct scan_key *a = x, *b = y;

    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if (a->seg != b->seg)
        return a->seg < b->seg ? -1 : 1;
    return (a->doc > b->doc) - (a->doc < b->doc);
}

static int map_grow(struct scan *sc)
{
    size_t n = sc->nmap ? sc->nmap * 2 : 4096;
    uint32_t *m = calloc(n, sizeof(*m));

    if (!m)
        return FMT_ENOMEM;
    free(sc->map);
    sc->map = m;
    sc->nmap = n;
    for (size_t i = 0; i < sc->nnodes; i++) {
        size_t s = (size_t)mix64(sc->nodes[i].gdoc) & (n - 1);
        while (m[s])
            s = (s + 1) & (n - 1);
        m[s] = (uint32_t)i + 1;
    }
    return FMT_OK;
}

/* Node of global doc (SEG, DOC), created if new; UINT32_MAX when out of memory. */
static uint32_t node_of(struct scan *sc, size_t seg, uint32_t doc)
{
    uint64_t g = fmt_snapshot_base(sc->snap, seg) + doc;
    size_t s;

    if ((sc->nnodes + 1) * 2 > sc->nmap && map_grow(sc) != FMT_OK)
        return UINT32_MAX;
    s = (size_t)mix64(g) & (sc->nmap - 1);
    while (sc->map[s]) {
        if (sc->nodes[sc->map[s] - 1].gdoc == g)
            return sc->map[s] - 1;
        s = (s + 1) & (sc->nmap - 1);
    }
    if (sc->nnodes == sc->capnodes) {
        size_t cap = sc->capnodes ? sc->capnodes * 2 : 1024;
        struct scan_node *p = realloc(sc->nodes, cap * sizeof(*p));
        if (!p || cap >= UINT32_MAX) {
            if (p)
                sc->nodes = p;
            return UINT32_MAX;
        }
        sc->nodes = p;
        sc->capnodes = cap;
    }
    sc->nodes[sc->nnodes] = (struct scan_node){g, seg, doc, (uint32_t)sc->nnodes, 0};
    sc->map[s] = (uint32_t)++sc->nnodes;
    return (uint32_t)sc->nnodes - 1;
}

static uint32_t uf_find(struct scan *sc, uint32_t x)
{
    while (sc->nodes[x].parent != x) {
        sc->nodes[x].parent = sc->nodes[sc->nodes[x].parent].parent; /* path halving */
        x = sc->nodes[x].parent;
    }
    return x;
}

static void uf_union(struct scan *sc, uint32_t a, uint32_t b)
{
    a = uf_find(sc, a);
    b = uf_find(sc, b);
    if (a == b)
        return;
    if (sc->nodes[a].gdoc < sc->nodes[b].gdoc)
        sc->nodes[b].parent = a; /* the root is the oldest member */
    else
        sc->nodes[a].parent = b;
}

/* Sketch of node N, computed from its stored body once. NULL on error (in sc->err). */
static const struct idx_sketch *node_sketch(struct scan *sc, uint32_t n, int *rc)
{
    struct scan_node *node = &sc->nodes[n];
    struct fmt_article a;

    if (node->sk)
        return &sc->sketches[node->sk - 1];
    if (sc->nsketches == sc->capsketches) {
        size_t cap = sc->capsketches ? sc->capsketches * 2 : 256;
        struct idx_sketch *p = realloc(sc->sketches, cap * sizeof(*p));
        if (!p) {
            *rc = fmt_errorf(sc->err, FMT_ENOMEM, "out of memory");
            return NULL;
        }
        sc->sketches = p;
        sc->capsketches = cap;
    }
    *rc = fmt_seg_doc(fmt_snapshot_seg(sc->snap, node->seg), node->doc, &sc->scratch, &a,
                      sc->err);
    if (*rc != FMT_OK)
        return NULL;
    idx_sketch_article(&a, &sc->sketches[sc->nsketches], NULL);
    fmt_article_release(&a);
    node->sk = (uint32_t)++sc->nsketches;
    return &sc->sketches[node->sk - 1];
}

static int group_push(struct scan *sc, uint32_t node)
{
    if (sc->ngroup == sc->capgroup) {
        size_t cap = sc->capgroup ? sc->capgroup * 2 : 64;
        uint32_t *p = realloc(sc->group, cap * sizeof(*p));
        if (!p)
            return FMT_ENOMEM;
        sc->group = p;
        sc->capgroup = cap;
    }
    sc->group[sc->ngroup++] = node;
    return FMT_OK;
}

/* Docs of keys[from, to) (one band key, live docs) into sc->group, at most GROUP_CAP. */
static int gather_group(struct scan *sc, size_t from, size_t to)
{
    sc->ngroup = 0;
    for (size_t k = from; k < to && sc->ngroup < GROUP_CAP; k++) {
        uint32_t n = node_of(sc, sc->keys[k].seg, sc->keys[k].doc);
        if (n == UINT32_MAX || group_push(sc, n) != FMT_OK)
            return fmt_errorf(sc->err, FMT_ENOMEM, "out of memory");
    }
    return FMT_OK;
}

/* Compare every pair of the group not yet in one cluster; join the similar ones. */
static int verify_group(struct scan *sc)
{
    int rc = FMT_OK;

    for (size_t i = 0; i < sc->ngroup && rc == FMT_OK; i++) {
        for (size_t j = i + 1; j < sc->ngroup && rc == FMT_OK; j++) {
            const struct idx_sketch *a, *b;
            uint32_t x = sc->group[i], y = sc->group[j];
            if (uf_find(sc, x) == uf_find(sc, y))
                continue;
            if (!(a = node_sketch(sc, x, &rc)))
                break;
            if (!(b = node_sketch(sc, y, &rc)))
                break;
            a = &sc->sketches[sc->nodes[x].sk - 1]; /* b's realloc may have moved a */
            sc->pairs++;
            if (idx_sketch_similarity(a, b) >= sc->threshold)
                uf_union(sc, x, y);
        }
    }
    return rc;
}

/* One pass: the keys of band FIRST (the first byte of its terms). */
static int scan_pass(struct scan *sc, uint8_t first)
{
    size_t nsegs = fmt_snapshot_nsegs(sc->snap);
    int rc = FMT_OK;

    sc->nkeys = 0;
    for (size_t i = 0; i < nsegs && rc == FMT_OK; i++) {
        sc->cur_seg = i;
        rc = fmt_seg_prefix(fmt_snapshot_seg(sc->snap, i), FMT_NS_NEARDUP, (const char *)&first,
                            1, collect_key, sc, sc->err);
        if (rc == FMT_ENOMEM)
            rc = fmt_errorf(sc->err, rc, "out of memory");
    }
    if (rc != FMT_OK)
        return rc;
    if (sc->nkeys > 1)
        qsort(sc->keys, sc->nkeys, sizeof(*sc->keys), cmp_scan_key);
    for (size_t k = 0, end; k < sc->nkeys && rc == FMT_OK; k = end) {
        for (end = k; end < sc->nkeys && sc->keys[end].key == sc->keys[k].key; end++)
            ;
        if (end - k < 2)
            continue;
        rc = gather_group(sc, k, end);
        if (rc == FMT_OK && sc->ngroup >= 2)
            rc = verify_group(sc);
    }
    return rc;
}

/* qsort has no context: sort (root gdoc, gdoc, node) records. */
struct member_rec {
    uint64_t root_gdoc;
    uint64_t gdoc;
    uint32_t node;
};

static int cmp_member(const void *x, const void *y)
{
    const struct member_rec *a = x, *b = y;

    if (a->root_gdoc != b->root_gdoc)
        return a->root_gdoc < b->root_gdoc ? -1 : 1;
    return (a->gdoc > b->gdoc) - (a->gdoc < b->gdoc);
}

/* Turn the union-find forest into OUT's clusters. */
static int build_clusters(struct scan *sc, struct idx_nd_clusters *out)
{
    struct member_rec *recs;
    size_t n = 0, *size;
    int rc = FMT_OK;

    if (!sc->nnodes)
        return FMT_OK;
    size = calloc(sc->nnodes, sizeof(*size));
    recs = malloc(sc->nnodes * sizeof(*recs));
    if (!size || !recs) {
        free(size);
        free(recs);
        return fmt_errorf(sc->err, FMT_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < sc->nnodes; i++)
        size[uf_find(sc, i)]++;
    for (uint32_t i = 0; i < sc->nnodes; i++) {
        uint32_t r = uf_find(sc, i);
        if (size[r] < 2)
            continue;
        recs[n].root_gdoc = sc->nodes[r].gdoc;
        recs[n].gdoc = sc->nodes[i].gdoc;
        recs[n].node = i;
        n++;
    }
    if (n > 1)
        qsort(recs, n, sizeof(*recs), cmp_member);
    out->members = malloc((n ? n : 1) * sizeof(*out->members));
    out->start = malloc((n / 2 + 2) * sizeof(*out->start));
    if (!out->members || !out->start) {
        rc = fmt_errorf(sc->err, FMT_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n && rc == FMT_OK; i++) {
        const struct scan_node *node = &sc->nodes[recs[i].node];
        struct idx_nd_member *mb = &out->members[i];
        if (i == 0 || recs[i].root_gdoc != recs[i - 1].root_gdoc)
            out->start[out->nclusters++] = i;
        mb->seg = node->seg;
        mb->doc = node->doc;
        mb->similarity = 1;
        if (recs[i].gdoc != recs[i].root_gdoc) {
            const struct idx_sketch *a, *b;
            uint32_t root = recs[out->start[out->nclusters - 1]].node;
            if ((a = node_sketch(sc, recs[i].node, &rc)) && (b = node_sketch(sc, root, &rc))) {
                a = &sc->sketches[sc->nodes[recs[i].node].sk - 1];
                mb->similarity = idx_sketch_similarity(a, b);
            }
        }
    }
    out->nmembers = n;
    out->start[out->nclusters] = n;
out:
    free(size);
    free(recs);
    return rc;
}

static void scan_release(struct scan *sc)
{
    free(sc->keys);
    free(sc->nodes);
    free(sc->map);
    free(sc->sketches);
    free(sc->group);
    fmt_buf_release(&sc->scratch);
}

int idx_neardup_clusters(const struct fmt_snapshot *s, double threshold,
                         struct idx_nd_clusters *out, struct fmt_err *err)
{
    struct scan sc;
    int rc;

    memset(out, 0, sizeof(*out));
    memset(&sc, 0, sizeof(sc));
    sc.snap = s;
    sc.threshold = threshold;
    sc.err = err;
    fmt_buf_init(&sc.scratch);
    rc = FMT_OK;
    for (unsigned band = 0; band < IDX_ND_BANDS && rc == FMT_OK; band++)
        rc = scan_pass(&sc, (uint8_t)band);
    if (rc == FMT_OK)
        rc = build_clusters(&sc, out);
    out->pairs_checked = sc.pairs;
    scan_release(&sc);
    if (rc != FMT_OK)
        idx_nd_clusters_release(out);
    return rc;
}

void idx_nd_clusters_release(struct idx_nd_clusters *c)
{
    free(c->members);
    free(c->start);
    memset(c, 0, sizeof(*c));
}
