/* topk.h - the best K hits of a query: a bounded min-heap of (score, global doc).
 *
 * Order (best first): relevance sorts by score descending, ties by smaller global doc id
 * (older segment first, then earlier doc); date sorts by timestamp descending (newest
 * first, FMT_NO_TIME last), date ascending the reverse except that FMT_NO_TIME stays last;
 * all ties by smaller global doc id. The heap's root is the worst
 * kept hit, so a push costs O(log K) and no allocation. */
#ifndef Q_TOPK_H
#define Q_TOPK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum q_sort {
    Q_SORT_RELEVANCE = 0, /* score descending */
    Q_SORT_DATE = 1,      /* newest first, undated last */
    Q_SORT_DATE_ASC = 2,  /* oldest first (--sort -date), undated last */
};

struct q_hit {
    double score;  /* BM25F score */
    uint64_t doc;  /* global doc id: fmt_snapshot_base(seg) + local doc */
    int64_t ts;    /* timestamp (FMT_NO_TIME when none); used by Q_SORT_DATE */
};

struct q_topk {
    struct q_hit *h;  /* heap array of k entries, owned; h[0] is the worst kept hit */
    size_t n;         /* hits kept, n <= k */
    size_t k;         /* capacity */
    enum q_sort sort;
};

/* Make T empty with room for K hits (K may be 0: keeps nothing). FMT_OK or FMT_ENOMEM. */
int q_topk_init(struct q_topk *t, size_t k, enum q_sort sort, struct fmt_err *err);
void q_topk_release(struct q_topk *t);

/* 1 when A ranks before B under SORT. */
int q_hit_better(const struct q_hit *a, const struct q_hit *b, enum q_sort sort);

/* Offer a hit; kept when T is not full or it beats the worst kept hit. */
void q_topk_push(struct q_topk *t, const struct q_hit *hit);

/* 1 when T is full, so that a hit must beat *worst (then set) to get in: the threshold
 * for dynamic pruning (MaxScore/WAND). */
int q_topk_threshold(const struct q_topk *t, struct q_hit *worst);

/* Sort the kept hits best first, in place; returns them (T->n of them; borrowed from T).
 * T is no longer a heap afterwards: release it or init again. */
const struct q_hit *q_topk_finish(struct q_topk *t);

#endif
