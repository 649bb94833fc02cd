/* writer.h - the single index writer: holds the LOCK, buffers added articles in a segment
 * builder, flushes it to a segment file when it passes the memory budget, resolves
 * replacements and duplicates, and commits new manifests. */
#ifndef IDX_WRITER_H
#define IDX_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer.h"
#include "article.h"
#include "err.h"

#define IDX_DEFAULT_BUDGET ((size_t)256 << 20)
#define IDX_DEFAULT_MERGE_FACTOR 10u

struct idx_writer_opts {
    size_t mem_budget;                /* flush the builder past this many bytes */
    double wait_seconds;              /* wait this long for the LOCK, then FMT_ELOCKED */
    struct fmt_analyzer_cfg analyzer; /* used only when creating a new index */
    int analyzer_given;               /* 1: refuse to open an index with other settings */
    int keep_duplicates;              /* 1: index identical title+body under other ids */
    unsigned threads;                 /* 1: build on the caller's thread only; 2: a helper
                                         thread analyzes and compresses, and merges
                                         compress their doc store on one (default: 2 when
                                         the machine has 2 or more CPUs) */
    double near_threshold;            /* near-duplicates (neardup.c): estimated Jaccard of
                                         body shingles at or above this counts; <= 0 turns
                                         the check off (band keys are indexed anyway) */
    int skip_near_duplicates;         /* 1: do not index a near-duplicate of a live article
                                         under another id (default 0: count it only) */
    unsigned merge_factor;            /* tiered merges at commit (merge.c); < 2 disables */
    int rebuild;                      /* 1: start a new generation: the committed segments
                                         are ignored (they keep serving readers) and the
                                         first commit replaces them all, recording the
                                         rebuild time; with analyzer_given the analyzer
                                         may change */
};

void idx_writer_opts_default(struct idx_writer_opts *o);

/* IDX_NEAR_DUPLICATE: skipped as a near-duplicate (only with skip_near_duplicates; a
 * near-duplicate that is indexed is IDX_ADDED and counted in near_duplicates). */
enum idx_add_outcome { IDX_ADDED, IDX_REPLACED, IDX_DUPLICATE, IDX_NEAR_DUPLICATE };

/* Writer totals since open. */
struct idx_writer_counts {
    uint64_t added, replaced, duplicates, deleted;
    uint64_t near_duplicates; /* new ids near-duplicating a live article (skipped or not) */
    uint64_t merges;        /* merges run (policy or compact) */
    uint64_t merged_docs;   /* live articles rewritten by them */
};

struct idx_writer; /* defined in writer.c */

/* Open (creating DIR and a new index if needed) and take the writer lock; removes files
 * left over from a crashed writer. FMT_ELOCKED with "index is locked by pid N",
 * FMT_EIO, FMT_ECORRUPT, FMT_EINVAL (analyzer mismatch: message says to rebuild). */
int idx_writer_open(struct idx_writer **out, const char *dir, const struct idx_writer_opts *o,
                    struct fmt_err *err);
/* Add A (borrowed). *outcome says whether it was new, replaced an id, or was skipped as a
 * duplicate of another id's article. FMT_EINVAL for an article that cannot be indexed
 * (message names its id); FMT_EIO/FMT_ENOMEM are fatal for the batch. */
int idx_writer_add(struct idx_writer *w, const struct fmt_article *a, enum idx_add_outcome *outcome,
                   struct fmt_err *err);
/* Mark ID deleted. *found = 0 when no live article has it. */
int idx_writer_delete(struct idx_writer *w, const char *id, int *found, struct fmt_err *err);
/* Make everything added or deleted so far durable and visible (a new manifest). */
int idx_writer_commit(struct idx_writer *w, struct fmt_err *err);
/* Merge every segment into one, dropping deleted articles, and commit (an index whose
 * every article is deleted is left without segments). Query results are unchanged.
 * FMT_OK, FMT_EIO, FMT_ENOMEM, FMT_ECORRUPT. */
int idx_writer_compact(struct idx_writer *w, struct fmt_err *err);
/* Segments the writer holds now (committed, flushed or merged). */
size_t idx_writer_nsegs(const struct idx_writer *w);
/* Release the lock. Uncommitted work is dropped (its files are removed now or at the next
 * open). Accepts NULL. */
void idx_writer_close(struct idx_writer *w);
const struct idx_writer_counts *idx_writer_counts(const struct idx_writer *w);

#endif
