/* stats.h - `newsidx stats`: figures about an index gathered from one reader snapshot. */
#ifndef IDX_STATS_H
#define IDX_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer.h"
#include "err.h"

#define IDX_STATS_TOP 10

struct idx_source_count {
    char name[128];  /* source name as stored ("" when articles had none), truncated */
    uint64_t count;  /* live articles */
};

struct idx_stats {
    uint64_t articles;       /* live articles */
    uint64_t stored;         /* articles in segments, live or deleted */
    uint64_t deleted;        /* stored - articles: replaced or removed, not yet merged away */
    double dead_ratio;       /* deleted / stored, 0 for an empty index */
    size_t segments;
    uint64_t generation;
    uint64_t dups_skipped;   /* duplicates skipped over the index's life */
    uint64_t terms;          /* dictionary entries summed over segments (all namespaces) */
    uint64_t bytes_segments; /* seg-*.nxs files the manifest names */
    uint64_t bytes_delmaps;  /* their deletion bitmaps */
    uint64_t bytes_manifest;
    int64_t min_time;        /* earliest timestamp of a live article, FMT_NO_TIME if none */
    int64_t max_time;
    uint64_t undated;        /* live articles without a timestamp */
    struct idx_source_count top[IDX_STATS_TOP]; /* most frequent sources, most first */
    size_t ntop;
    size_t nsources;         /* distinct sources over live articles */
    int64_t last_commit;     /* epoch seconds, 0 never */
    int64_t last_rebuild;
    struct fmt_analyzer_cfg analyzer;
    /* near-duplicates (idx_stats_near_duplicates; 0 from idx_stats_collect) */
    uint64_t near_clusters;  /* clusters of near-duplicate live articles */
    uint64_t near_articles;  /* articles in them */
    double near_threshold;   /* the threshold they were found with */
};

/* Gather the figures of the index in DIR. FMT_OK, FMT_ENOTFOUND (no index), FMT_ECORRUPT,
 * FMT_EVERSION, FMT_EIO, FMT_ENOMEM. */
int idx_stats_collect(const char *dir, struct idx_stats *out, struct fmt_err *err);
/* Fill the near_* figures of OUT: the clusters `newsidx dups` lists at THRESHOLD
 * (indexer/neardup.c). Same codes. */
int idx_stats_near_duplicates(const char *dir, double threshold, struct idx_stats *out,
                              struct fmt_err *err);

#endif
