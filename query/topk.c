/* topk.c - bounded min-heap of hits (see topk.h). */
#include "topk.h"

#include <stdlib.h>

#include "article.h"

int q_topk_init(struct q_topk *t, size_t k, enum q_sort sort, struct fmt_err *err)
{
    t->h = NULL;
    t->n = 0;
    t->k = k;
    t->sort = sort;
    if (k == 0)
        return FMT_OK;
    t->h = calloc(k, sizeof(*t->h));
    if (!t->h)
        return fmt_errorf(err, FMT_ENOMEM, "top-k: out of memory for %zu hits", k);
    return FMT_OK;
}

void q_topk_release(struct q_topk *t)
{
    free(t->h);
    t->h = NULL;
    t->n = t->k = 0;
}

int q_hit_better(const struct q_hit *a, const struct q_hit *b, enum q_sort sort)
{
    if (sort == Q_SORT_DATE) {
        if (a->ts != b->ts)
            return a->ts > b->ts; /* FMT_NO_TIME is INT64_MIN: last */
    } else if (sort == Q_SORT_DATE_ASC) {
        if (a->ts != b->ts)
            return b->ts == FMT_NO_TIME || (a->ts != FMT_NO_TIME && a->ts < b->ts);
    } else if (a->score != b->score) {
        return a->score > b->score;
    }
    return a->doc < b->doc;
}

/* Min-heap on "better": the parent is worse than (or equal to) its children. */
static void sift_down(struct q_hit *h, size_t n, size_t i, enum q_sort sort)
{
    struct q_hit x = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && q_hit_better(&h[c], &h[c + 1], sort))
            c++; /* the worse child */
        if (!q_hit_better(&x, &h[c], sort))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

static void sift_up(struct q_hit *h, size_t i, enum q_sort sort)
{
    struct q_hit x = h[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!q_hit_better(&h[parent], &x, sort))
            break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = x;
}

void q_topk_push(struct q_topk *t, const struct q_hit *hit)
{
    if (t->k == 0)
        return;
    if (t->n < t->k) {
        t->h[t->n] = *hit;
        sift_up(t->h, t->n, t->sort);
        t->n++;
        return;
    }
    if (!q_hit_better(hit, &t->h[0], t->sort))
        return;
    t->h[0] = *hit;
    sift_down(t->h, t->n, 0, t->sort);
}

int q_topk_threshold(const struct q_topk *t, struct q_hit *worst)
{
    if (t->k == 0 || t->n < t->k)
        return 0;
    *worst = t->h[0];
    return 1;
}

const struct q_hit *q_topk_finish(struct q_topk *t)
{
    /* heap sort: repeatedly move the worst to the end of the shrinking heap */
    for (size_t n = t->n; n > 1; n--) {
        struct q_hit x = t->h[0];
        t->h[0] = t->h[n - 1];
        t->h[n - 1] = x;
        sift_down(t->h, n - 1, 0, t->sort);
    }
    return t->h;
}
