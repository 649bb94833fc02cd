/* merge.h - segment merging: the tiered merge policy that keeps the number of segments
 * logarithmic in the number of articles, and the copy that rewrites the live articles of
 * adjacent segments into new segments (used by commits, `compact` and nothing else).
 * The policy is explained at the top of merge.c. */
#ifndef IDX_MERGE_H
#define IDX_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer.h"
#include "err.h"
#include "segment.h"

#define IDX_MERGE_FACTOR_DEFAULT 10u

/* Tier of a segment with LIVE articles: 0 below FACTOR, 1 below FACTOR^2, ... */
unsigned idx_merge_tier(uint64_t live, unsigned factor);

/* Choose one run of adjacent segments to merge, given each segment's live article count
 * LIVE[0..n) in index order (oldest first). Returns 1 and [*start, *end) when a merge is
 * due, 0 when the segments are in shape. FACTOR < 2 disables merging (returns 0). */
int idx_merge_pick(const uint64_t *live, size_t n, unsigned factor, size_t *start, size_t *end);

/* One input of a merge: a segment and its deletion bitmap (NULL when nothing is deleted).
 * Both borrowed for the duration of idx_merge_copy. */
struct idx_merge_input {
    const struct fmt_seg *seg;
    const uint8_t *deleted;
};

/* Called with a builder that holds a finished output segment: the callee writes it (the
 * builder is freed by idx_merge_copy afterwards). FMT_OK or an error, which stops the copy. */
typedef int (*idx_merge_emit_fn)(void *ctx, struct fmt_seg_builder *b, struct fmt_err *err);

/* Re-add every live article of IN[0..n), in order, to fresh builders using AN (the index's
 * analyzer, borrowed) and each article's content hash (idx_content_hash), so the output
 * indexes exactly what the inputs did minus deleted articles. A builder that passes BUDGET
 * bytes is handed to EMIT and a new one started, so memory stays bounded: the output may
 * be several segments. Nothing is emitted when no article is live. Articles are streamed
 * one at a time from the doc stores. FMT_OK, FMT_ECORRUPT, FMT_ENOMEM or EMIT's error.
 * *NOUT receives the number of live articles copied. */
int idx_merge_copy(const struct idx_merge_input *in, size_t n, struct fmt_analyzer *an,
                   size_t budget, idx_merge_emit_fn emit, void *ctx, uint64_t *nout,
                   struct fmt_err *err);

#endif
