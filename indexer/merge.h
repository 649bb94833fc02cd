/* merge.h - segment merging: the tiered merge policy that keeps the number of segments
 * logarithmic in the number of articles, and the copy that rewrites the live articles of
 * adjacent segments into one new segment (used by commits, `compact` and nothing else).
 * The policy is explained at the top of merge.c. */
#ifndef IDX_MERGE_H
#define IDX_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "segment_merge.h"

#define IDX_MERGE_FACTOR_DEFAULT 10u

/* Tier of a segment with LIVE articles: 0 below FACTOR, 1 below FACTOR^2, ... */
unsigned idx_merge_tier(uint64_t live, unsigned factor);

/* Choose one run of adjacent segments to merge, given each segment's live article count
 * LIVE[0..n) in index order (oldest first). Returns 1 and [*start, *end) when a merge is
 * due, 0 when the segments are in shape. FACTOR < 2 disables merging (returns 0). */
int idx_merge_pick(const uint64_t *live, size_t n, unsigned factor, size_t *start, size_t *end);

/* Write the live articles of IN[0..n) (segments and deletion bitmaps, borrowed), in
 * order, as one new segment file at PATH
 * (fmt_seg_merge: postings, columns and stored articles are copied, nothing re-analyzed),
 * so the output indexes exactly what the inputs did minus deleted articles. Nothing is
 * written when no article is live. THREADS as fmt_seg_merge_opts.threads (1: the
 * caller's thread only). On failure no file is left at PATH. *NOUT receives
 * the number of live articles written. FMT_OK, FMT_EIO, FMT_ECORRUPT, FMT_ENOMEM. */
int idx_merge_copy(const struct fmt_seg_merge_input *in, size_t n, const char *path,
                   unsigned threads, uint64_t *nout, struct fmt_err *err);

#endif
