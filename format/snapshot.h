/* snapshot.h - a reader's point-in-time view of an index: the manifest's live segments,
 * their deletion bitmaps, the analyzer settings and the global BM25 statistics.
 * Readers never lock: the manifest is read once at open and the view never changes. */
#ifndef FMT_SNAPSHOT_H
#define FMT_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer.h"
#include "err.h"
#include "segment.h"

struct fmt_snapshot; /* defined in snapshot.c */
struct fmt_manifest; /* manifest.h */

/* Global statistics over the live articles of all segments (deleted ones excluded). */
struct fmt_index_stats {
    uint64_t ndocs;        /* live articles: N in the idf */
    double avg_len[2];     /* mean title and body length in tokens over live articles */
};

/* Open the index in DIR. FMT_ENOTFOUND when DIR holds no index, FMT_ECORRUPT or
 * FMT_EVERSION (message names the file), FMT_EIO. *out owns everything (close). */
int fmt_snapshot_open(struct fmt_snapshot **out, const char *dir, struct fmt_err *err);
void fmt_snapshot_close(struct fmt_snapshot *s);

/* The manifest the view was opened from (generation, times, counts). Borrowed from S. */
const struct fmt_manifest *fmt_snapshot_manifest(const struct fmt_snapshot *s);
const struct fmt_analyzer_cfg *fmt_snapshot_analyzer(const struct fmt_snapshot *s);
const struct fmt_index_stats *fmt_snapshot_stats(const struct fmt_snapshot *s);
size_t fmt_snapshot_nsegs(const struct fmt_snapshot *s);
const struct fmt_seg *fmt_snapshot_seg(const struct fmt_snapshot *s, size_t i);
/* Global doc id of segment I's doc 0: segments are ordered oldest first and global ids
 * (base + local) give the tie-break order for equal scores. */
uint64_t fmt_snapshot_base(const struct fmt_snapshot *s, size_t i);
/* 1 when DOC of segment I is deleted (replaced or removed). */
int fmt_snapshot_deleted(const struct fmt_snapshot *s, size_t i, uint32_t doc);
/* Global document frequency of a term over live articles: the sum of its df over segments,
 * minus deleted docs (counted by decoding the list in segments that have deletions), so
 * scores never depend on how the index is split or merged. For FMT_NS_TEXT, TITLE_ONLY
 * counts docs with the term in the title. FMT_OK or FMT_ECORRUPT. */
int fmt_snapshot_df(const struct fmt_snapshot *s, uint8_t ns, const char *term, size_t len,
                    int title_only, uint64_t *df, struct fmt_err *err);
/* fmt_snapshot_df that also keeps what each segment's dictionary said, so that a query
 * binding the term to segment I later needs no second lookup: INFOS (fmt_snapshot_nsegs(s)
 * slots, caller's) receives segment I's entry in INFOS[I], with df 0 when segment I does
 * not hold the term (a real entry has df >= 1). */
int fmt_snapshot_lookup(const struct fmt_snapshot *s, uint8_t ns, const char *term, size_t len,
                        int title_only, uint64_t *df, struct fmt_term_info *infos,
                        struct fmt_err *err);

#endif
