/* neardup.h - near-duplicate detection: MinHash sketches of word shingles (one-permutation
 * hashing with densification), LSH band keys indexed as FMT_NS_NEARDUP terms, the writer's
 * in-memory table of the sketches of the articles it is building, and the whole-index
 * cluster scan behind `newsidx dups`. The maths is at the top of neardup.c. */
#ifndef IDX_NEARDUP_H
#define IDX_NEARDUP_H

#include <stddef.h>
#include <stdint.h>

#include "article.h"
#include "err.h"
#include "segment.h"
#include "snapshot.h"

#define IDX_ND_SHINGLE 5      /* words per shingle */
#define IDX_ND_BINS 128       /* MinHash values per sketch */
#define IDX_ND_BANDS 8        /* LSH bands, each over IDX_ND_ROWS consecutive bins */
#define IDX_ND_ROWS 3         /* bands use bins [0, BANDS * ROWS); verification uses all */
#define IDX_ND_TERM_BYTES 3   /* band term: band number, 12-bit bucket (little-endian) */
#define IDX_ND_BUCKET_BITS 12 /* band hash bits in the term ... */
#define IDX_ND_CHECK_BITS 16  /* ... and in the posting's tf (tf - 1) */
#define IDX_ND_MIN_WORDS 25   /* shorter bodies get no sketch: never near-duplicates */
#define IDX_ND_FILTER_AFTER 1024 /* a writer's searches before it filters segment lookups */
#define IDX_ND_DEFAULT_THRESHOLD 0.8 /* estimated Jaccard at or above which two match */
#define IDX_ND_MIN_THRESHOLD 0.5     /* below this LSH recall falls off (neardup.c) */

/* The MinHash sketch of one text. */
struct idx_sketch {
    uint16_t v[IDX_ND_BINS]; /* minimum shingle hash per bin (empty bins densified) */
    uint32_t nshingles;      /* shingles hashed; 0: text too short, v is meaningless */
};

/* Sketch of TEXT[0..len): words are runs of ASCII letters and digits and non-ASCII bytes,
 * ASCII case folded; shingles of IDX_ND_SHINGLE words. Texts of fewer than
 * IDX_ND_MIN_WORDS words get nshingles = 0. No allocation. */
void idx_sketch_text(const char *text, size_t len, struct idx_sketch *out);
/* Sketch of an article: its body (the headline is left out, so a rewritten headline does
 * not matter). With CONTENT_HASH not NULL, also its idx_content_hash, in the same pass. */
void idx_sketch_article(const struct fmt_article *a, struct idx_sketch *out,
                        uint64_t *content_hash);
/* Hash of the normalized title + body used to spot syndicated copies: FNV-1a over the
 * sketch's word bytes (ASCII letters and digits case folded, non-ASCII bytes as they are;
 * spaces and punctuation ignored), title and body separated; never 0. */
uint64_t idx_content_hash(const struct fmt_article *a);
/* Estimated Jaccard similarity of the two shingle sets: the fraction of equal bins.
 * 0 when either sketch is empty. */
double idx_sketch_similarity(const struct idx_sketch *a, const struct idx_sketch *b);
/* The IDX_ND_BANDS band keys of S (nshingles > 0) as indexed: TERMS (IDX_ND_TERM_BYTES
 * each, back to back, without the namespace byte) and the tf of each posting. Two
 * articles share a band key when both the term and the tf are equal. */
void idx_sketch_band_keys(const struct idx_sketch *s,
                          uint8_t terms[IDX_ND_BANDS * IDX_ND_TERM_BYTES],
                          uint32_t tfs[IDX_ND_BANDS]);
/* Add the band keys of S (nothing when empty) to DOC, the doc just added to B. */
int idx_neardup_add_keys(struct fmt_seg_builder *b, uint32_t doc, const struct idx_sketch *s,
                         struct fmt_err *err);

/* Exact Jaccard similarity of the shingle sets of two texts (for tests and calibration;
 * allocates). FMT_OK or FMT_ENOMEM. */
int idx_shingle_jaccard(const char *x, size_t xlen, const char *y, size_t ylen, double *out);

/* ---- ingest: candidates among indexed articles and the builder's ------------------------ */

struct idx_neardup; /* defined in neardup.c: band table + sketches of the builder's docs */

/* New empty table. FILTER_MAX: the most bytes the filter of the segments' band keys may
 * take (see the top of neardup.c; the writer gives a quarter of its memory budget); a
 * filter that would need more is not built and the segments are searched key by key. */
int idx_neardup_new(struct idx_neardup **out, size_t filter_max, struct fmt_err *err);
void idx_neardup_free(struct idx_neardup *nd);
/* Forget every builder doc (after the builder was written to a segment). */
void idx_neardup_clear(struct idx_neardup *nd);
/* Remember builder doc DOC with sketch S (copied; nothing when S is empty). FMT_ENOMEM. */
int idx_neardup_put(struct idx_neardup *nd, uint32_t doc, const struct idx_sketch *s);
/* Heap bytes held (counted against the writer's memory budget). */
size_t idx_neardup_bytes(const struct idx_neardup *nd);

/* What idx_neardup_find searches: the writer's segments (oldest first) and its builder. */
struct idx_nd_view {
    size_t nsegs;
    const struct fmt_seg *(*seg)(void *ctx, size_t i);
    int (*live)(void *ctx, size_t i, uint32_t doc); /* 1: a candidate; i == nsegs: builder */
    void *ctx;
};

struct idx_nd_match {
    size_t seg;        /* segment index in the view, nsegs for the builder */
    uint32_t doc;      /* local doc id */
    double similarity; /* estimated Jaccard */
};

/* Look for an article sharing a band key with S (builder first, then segments newest
 * first) whose sketch is at least THRESHOLD similar; *found = 1 and *m on the first.
 * At most 32 candidates per band key and 256 in all are verified. FMT_OK, FMT_ECORRUPT,
 * FMT_ENOMEM. */
int idx_neardup_find(struct idx_neardup *nd, const struct idx_nd_view *v,
                     const struct idx_sketch *s, double threshold, struct idx_nd_match *m,
                     int *found, struct fmt_err *err);

/* ---- whole index: clusters (`newsidx dups`, stats) --------------------------------------- */

struct idx_nd_member {
    size_t seg;        /* snapshot segment index */
    uint32_t doc;      /* local doc id */
    double similarity; /* estimated Jaccard with the first member of its cluster (1 for it) */
};

struct idx_nd_clusters {
    struct idx_nd_member *members; /* owned; clusters back to back, each in index order */
    size_t nmembers;
    size_t *start;                 /* owned; cluster c is members[start[c], start[c + 1]) */
    size_t nclusters;              /* start has nclusters + 1 entries (when not 0) */
    uint64_t pairs_checked;        /* candidate pairs whose sketches were compared */
};

/* Clusters of live articles of S that are near-duplicates (estimated Jaccard >= THRESHOLD,
 * single linkage over pairs sharing a band key), ordered by their first member. Reads
 * only band keys and the stored text of candidates. FMT_OK, FMT_ECORRUPT, FMT_ENOMEM.
 * *out is empty on failure; release it either way. */
int idx_neardup_clusters(const struct fmt_snapshot *s, double threshold,
                         struct idx_nd_clusters *out, struct fmt_err *err);
void idx_nd_clusters_release(struct idx_nd_clusters *c);

#endif
