/* merge.c - the tiered merge policy and the segment copy that merges run.
 *
 * Why merge
 * ---------
 * Every commit that added articles writes at least one new segment. A nightly job that
 * commits often (or `add --commit-every 1`) would leave thousands of tiny segments, and a
 * query pays a dictionary lookup per term per segment. Merging rewrites adjacent segments
 * into one, which also drops deleted (replaced or removed) articles for good.
 *
 * Tiers
 * -----
 * A segment's tier is floor(log_F(live articles)) with F the merge factor (default 10,
 * configurable as merge.factor): tier 0 holds segments of fewer than 10 live articles,
 * tier 1 fewer than 100, and so on. When F adjacent segments share a tier they are merged
 * into one segment, which then (usually) belongs to the next tier. This is the
 * logarithmic policy of Lucene's LogMergePolicy: an article is rewritten about once per
 * tier, so the total write cost is O(n log n), and the index holds at most F - 1 segments
 * per tier, about (F - 1) * log_F(n) segments in all; 1,000 single-article commits end
 * with at most 27 segments (9 per tier), and usually far fewer.
 *
 * Only adjacent segments
 * ----------------------
 * Global doc order (the segment order of the manifest, then the local doc id) is the
 * tie-break order for equal scores and the order of `export`. A merge replaces a run of
 * adjacent segments by its output at the same place and copies articles in order, so the
 * global order of the live articles never changes, and neither do query results: the
 * global statistics (N, df, average lengths) count live articles only.
 *
 * The safety net
 * --------------
 * Deletions can shrink a segment into a lower tier between two bigger ones, and tiers that
 * alternate never form a run of F. So when the index holds more than 4 * F segments, the
 * run of F adjacent segments with the fewest live articles is merged whatever their tiers.
 *
 * Choosing among due runs
 * -----------------------
 * The lowest tier goes first (small merges are cheap and may complete a run of the next
 * tier), and within it the newest run, where new small segments gather. The writer calls
 * idx_merge_pick again after every merge until it returns 0, inside the commit, so the
 * commit's single manifest rename publishes the new articles and the merges together.
 *
 * The copy
 * --------
 * A merge writes exactly one segment, whatever the size of its inputs, by a streaming
 * k-way merge of their dictionaries, posting lists, columns and doc stores
 * (format/segment_merge.c): no text is analyzed again and no near-dup key or content hash
 * recomputed (they are terms of namespaces M and H and merge like any other), and memory
 * does not grow with the inputs. So big segments do merge, and `compact` leaves one.
 */
#include "merge.h"

#include <stdlib.h>

unsigned idx_merge_tier(uint64_t live, unsigned factor)
{
    unsigned t = 0;

    if (factor < 2)
        return 0;
    while (live >= factor) {
        live /= factor;
        t++;
    }
    return t;
}

/* The run of FACTOR adjacent segments with the fewest live articles. */
static void smallest_window(const uint64_t *live, size_t n, unsigned factor, size_t *start)
{
    uint64_t sum = 0, best = UINT64_MAX;

    for (size_t i = 0; i < n; i++) {
        sum += live[i];
        if (i >= factor)
            sum -= live[i - factor];
        if (i + 1 >= factor && sum < best) {
            best = sum;
            *start = i + 1 - factor;
        }
    }
}

int idx_merge_pick(const uint64_t *live, size_t n, unsigned factor, size_t *start, size_t *end)
{
    unsigned best_tier = UINT32_MAX;
    size_t run = 0;

    if (factor < 2 || n < factor)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned t = idx_merge_tier(live[i], factor);
        run = (i > 0 && t == idx_merge_tier(live[i - 1], factor)) ? run + 1 : 1;
        if (run >= factor && t <= best_tier) {
            best_tier = t; /* later (newer) runs of the same tier win */
            *start = i + 1 - factor;
            *end = i + 1;
        }
    }
    if (best_tier != UINT32_MAX)
        return 1;
    if (n > (size_t)4 * factor) {
        smallest_window(live, n, factor, start);
        *end = *start + factor;
        return 1;
    }
    return 0;
}

int idx_merge_copy(const struct fmt_seg_merge_input *in, size_t n, const char *path,
                   unsigned threads, uint64_t *nout, struct fmt_err *err)
{
    struct fmt_seg_merge_opts opts = {0, threads};
    uint32_t ndocs = 0;
    int rc = fmt_seg_merge(in, n, path, &opts, &ndocs, err);

    *nout = ndocs;
    return rc;
}
