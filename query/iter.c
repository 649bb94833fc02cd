/* iter.c - document iterators over one segment (see iter.h for the algorithms). */
#include "iter.h"

#include "codec.h"

#include <math.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define PHRASE_MAXK 64 /* a phrase's words beyond this many are not checked */

void q_iters_init(struct q_iters *s)
{
    q_arena_init(&s->mem);
    s->terms = NULL;
}

void q_iters_release(struct q_iters *s)
{
    for (struct q_iter *t = s->terms; t; t = t->next_term)
        fmt_postings_release(t->post);
    s->terms = NULL;
    q_arena_release(&s->mem);
}

static struct q_iter *new_iter(struct q_iters *s, enum q_iter_kind kind)
{
    struct q_iter *it = q_arena_alloc(&s->mem, sizeof(*it));
    if (it) {
        it->kind = kind;
        it->doc = 0;
    }
    return it;
}

static int oom(struct fmt_err *err)
{
    return fmt_errorf(err, FMT_ENOMEM, "query: out of memory building iterators");
}

int q_iter_empty(struct q_iters *s, struct q_iter **out, struct fmt_err *err)
{
    *out = new_iter(s, Q_IT_EMPTY);
    if (!*out)
        return oom(err);
    (*out)->doc = FMT_DOC_END;
    (*out)->started = 1;
    return FMT_OK;
}

int q_iter_all(struct q_iters *s, const struct fmt_seg *seg, struct q_iter **out,
               struct fmt_err *err)
{
    struct q_iter *it = new_iter(s, Q_IT_ALL);
    if (!it)
        return oom(err);
    it->seg = seg;
    it->ndocs = fmt_seg_stats(seg)->ndocs;
    it->cost = it->ndocs;
    *out = it;
    return FMT_OK;
}

int q_iter_date(struct q_iters *s, const struct fmt_seg *seg, int64_t lo, int64_t hi,
                struct q_iter **out, struct fmt_err *err)
{
    int rc = q_iter_all(s, seg, out, err);
    if (rc == FMT_OK) {
        (*out)->kind = Q_IT_DATE;
        (*out)->lo = lo;
        (*out)->hi = hi;
    }
    return rc;
}

int q_iter_term_info(struct q_iters *s, const struct fmt_seg *seg,
                     const struct fmt_term_info *ti, unsigned require,
                     const struct q_term_w *w, struct q_iter **out, struct fmt_err *err)
{
    struct q_iter *it = new_iter(s, Q_IT_TERM);
    int rc;
    if (!it)
        return oom(err);
    it->post = q_arena_alloc(&s->mem, sizeof(*it->post));
    if (!it->post)
        return oom(err);
    rc = fmt_postings_open(it->post, seg, ti, err);
    if (rc != FMT_OK)
        return rc;
    it->seg = seg;
    it->ndocs = fmt_seg_stats(seg)->ndocs;
    it->cost = require == 1u && ti->ns == FMT_NS_TEXT ? ti->df_title : ti->df;
    it->require = require;
    it->w = w;
    it->next_term = s->terms; /* from here on q_iters_release releases the cursor */
    s->terms = it;
    *out = it;
    return FMT_OK;
}

int q_iter_term(struct q_iters *s, const struct fmt_seg *seg, uint8_t ns, const char *term,
                size_t len, unsigned require, const struct q_term_w *w, struct q_iter **out,
                struct fmt_err *err)
{
    struct fmt_term_info ti;
    int rc = fmt_seg_lookup(seg, ns, term, len, &ti, err);
    if (rc == FMT_ENOTFOUND)
        return q_iter_empty(s, out, err);
    if (rc != FMT_OK)
        return rc;
    return q_iter_term_info(s, seg, &ti, require, w, out, err);
}

static struct q_iter **copy_kids(struct q_iters *s, struct q_iter *const *kids, size_t n)
{
    struct q_iter **k = q_arena_alloc(&s->mem, (n ? n : 1) * sizeof(*k));
    if (k && kids && n)
        memcpy(k, kids, n * sizeof(*k));
    return k;
}

/* Insertion sort by cost: the cheapest kid leads the conjunction. Stable, so equal costs
 * keep query order. */
static void sort_by_cost(struct q_iter **k, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct q_iter *x = k[i];
        size_t j = i;
        while (j > 0 && k[j - 1]->cost > x->cost) {
            k[j] = k[j - 1];
            j--;
        }
        k[j] = x;
    }
}

static int make_conj(struct q_iters *s, enum q_iter_kind kind, struct q_iter *const *kids,
                     size_t nkids, struct q_iter *const *excl, size_t nexcl,
                     struct q_iter **out, struct fmt_err *err)
{
    struct q_iter *it;
    size_t ne = 0;
    for (size_t i = 0; i < nkids; i++)
        if (kids[i]->kind == Q_IT_EMPTY)
            return q_iter_empty(s, out, err);
    if (nkids == 0)
        return q_iter_empty(s, out, err);
    it = new_iter(s, kind);
    if (!it)
        return oom(err);
    it->kids = copy_kids(s, kids, nkids);
    it->drive = copy_kids(s, kids, nkids);
    it->excl = copy_kids(s, excl, nexcl);
    if (!it->kids || !it->drive || !it->excl)
        return oom(err);
    for (size_t i = 0; i < nexcl; i++)
        if (excl[i]->kind != Q_IT_EMPTY)
            it->excl[ne++] = excl[i];
    it->nkids = nkids;
    it->nexcl = ne;
    if (kind == Q_IT_AND && nkids == 1 && ne == 0) {
        *out = kids[0];
        return FMT_OK;
    }
    sort_by_cost(it->drive, nkids);
    it->cost = UINT64_MAX;
    for (size_t i = 0; i < nkids; i++)
        if (kids[i]->cost < it->cost)
            it->cost = kids[i]->cost;
    if (it->drive[0]->kind == Q_IT_TERM && it->drive[0]->ndocs > 0) {
        /* the other kids are on most of the lead's docs (estimated from their costs as
         * if independent): filter the lead by score before moving them (advance_conj) */
        double agree = 1.0;
        for (size_t i = 1; i < nkids; i++)
            agree *= fmin(1.0, (double)it->drive[i]->cost / it->drive[0]->ndocs);
        it->lead_above = agree >= 0.5;
    }
    *out = it;
    return FMT_OK;
}

int q_iter_and(struct q_iters *s, struct q_iter *const *kids, size_t nkids,
               struct q_iter *const *excl, size_t nexcl, struct q_iter **out,
               struct fmt_err *err)
{
    return make_conj(s, Q_IT_AND, kids, nkids, excl, nexcl, out, err);
}

int q_iter_phrase(struct q_iters *s, struct q_iter *const *kids, const uint32_t *offs,
                  size_t nkids, unsigned fields, struct q_iter **out, struct fmt_err *err)
{
    int rc = make_conj(s, Q_IT_PHRASE, kids, nkids, NULL, 0, out, err);
    if (rc != FMT_OK || (*out)->kind != Q_IT_PHRASE)
        return rc;
    (*out)->offs = q_arena_alloc(&s->mem, nkids * sizeof(uint32_t));
    if (!(*out)->offs)
        return oom(err);
    memcpy((*out)->offs, offs, nkids * sizeof(uint32_t));
    (*out)->pfields = fields;
    if (nkids >= 3 && nkids <= PHRASE_MAXK) { /* the offsets in drive order */
        (*out)->doffs = q_arena_alloc(&s->mem, nkids * sizeof(uint32_t));
        if (!(*out)->doffs)
            return oom(err);
        for (size_t d = 0; d < nkids; d++)
            for (size_t k = 0; k < nkids; k++)
                if ((*out)->drive[d] == (*out)->kids[k])
                    (*out)->doffs[d] = offs[k];
    }
    return FMT_OK;
}

int q_iter_or(struct q_iters *s, struct q_iter *const *kids, size_t nkids, struct q_iter **out,
              struct fmt_err *err)
{
    struct q_iter *it;
    size_t n = 0;
    for (size_t i = 0; i < nkids; i++)
        n += kids[i]->kind != Q_IT_EMPTY;
    if (n == 0)
        return q_iter_empty(s, out, err);
    it = new_iter(s, Q_IT_OR);
    if (!it || !(it->kids = copy_kids(s, NULL, n)))
        return oom(err);
    for (size_t i = 0; i < nkids; i++)
        if (kids[i]->kind != Q_IT_EMPTY) {
            it->kids[it->nkids++] = kids[i];
            it->cost += kids[i]->cost;
        }
    if (n == 1) {
        *out = it->kids[0];
        return FMT_OK;
    }
    it->heap = q_arena_alloc(&s->mem, n * sizeof(*it->heap));
    it->on = q_arena_alloc(&s->mem, n * sizeof(*it->on));
    if (!it->heap || !it->on)
        return oom(err);
    *out = it;
    return FMT_OK;
}

int q_iter_synonym(struct q_iters *s, struct q_iter *const *kids, size_t nkids,
                   const struct q_term_w *w, struct q_iter **out, struct fmt_err *err)
{
    int rc = q_iter_or(s, kids, nkids, out, err);
    if (rc == FMT_OK && (*out)->kind == Q_IT_OR)
        (*out)->syn = w;
    return rc;
}

/* ---- Advancing ---------------------------------------------------------------------- */

static int term_has_field(const struct q_iter *it)
{
    const struct fmt_postings *p = it->post;
    if (it->require == 0)
        return 1;
    if ((it->require & 1u) && p->tf[0][p->i] > 0)
        return 1;
    return (it->require & 2u) && p->nfields > 1 && p->tf[1][p->i] > 0;
}

static inline int advance_term(struct q_iter *it, uint32_t target, struct fmt_err *err)
{
    int rc = fmt_postings_advance_fast(it->post, target, err);
    while (rc == FMT_OK && it->post->doc != FMT_DOC_END && !term_has_field(it))
        rc = fmt_postings_next(it->post, err);
    it->doc = it->post->doc;
    return rc;
}

/* 1 when the N term KIDS (all on the same doc; OFFS their positions within the phrase)
 * hold the phrase in one of it->pfields. A field where a kid has tf 0 is passed over unread. Otherwise positions are decoded lazily,
 * rarest kid (lowest tf) first: its positions give candidate phrase starts (CH at a time),
 * which each further kid, decoded only while some start is left, filters; so a frequent
 * kid's positions are mostly never decoded. */
static int phrase_matches(struct q_iter *it, struct q_iter *const *kids, const uint32_t *offs,
                          size_t n, int *rc, struct fmt_err *err)
{
    enum { CH = 64 };
    const uint32_t *pos[PHRASE_MAXK];
    size_t npos[PHRASE_MAXK], at[PHRASE_MAXK], ord[PHRASE_MAXK];
    uint32_t tf[PHRASE_MAXK], cand[CH];
    *rc = FMT_OK;
    if (n > PHRASE_MAXK)
        n = PHRASE_MAXK;
    for (unsigned f = 0; f < 2; f++) {
        if (!(it->pfields >> f & 1u))
            continue;
        size_t k, r0;
        for (k = 0; k < n; k++) { /* insertion sort of the kids by tf, 0 ends the field */
            size_t j = k;
            tf[k] = fmt_postings_tf(kids[k]->post, (enum fmt_field)f);
            if (tf[k] == 0)
                break;
            for (; j > 0 && tf[ord[j - 1]] > tf[k]; j--)
                ord[j] = ord[j - 1];
            ord[j] = k;
            npos[k] = SIZE_MAX; /* not decoded yet */
            at[k] = 0;
        }
        if (k < n)
            continue;
        r0 = ord[0];
        *rc = fmt_postings_positions(kids[r0]->post, (enum fmt_field)f, &pos[r0],
                                     &npos[r0], err);
        if (*rc != FMT_OK)
            return 0;
        for (size_t a = 0; a < npos[r0];) {
            size_t nc = 0;
            int last = 0; /* a kid ran out of positions: no later chunk can match */
            for (; a < npos[r0] && nc < CH; a++)
                if (pos[r0][a] >= offs[r0])
                    cand[nc++] = pos[r0][a] - offs[r0];
            for (size_t j = 1; j < n && nc > 0; j++) {
                size_t kk = ord[j], keep = 0;
                if (npos[kk] == SIZE_MAX) {
                    *rc = fmt_postings_positions(kids[kk]->post, (enum fmt_field)f,
                                                 &pos[kk], &npos[kk], err);
                    if (*rc != FMT_OK)
                        return 0;
                }
                for (size_t c = 0; c < nc; c++) {
                    uint64_t want = (uint64_t)cand[c] + offs[kk];
                    while (at[kk] < npos[kk] && pos[kk][at[kk]] < want)
                        at[kk]++;
                    if (at[kk] == npos[kk]) {
                        last = 1; /* nor can this start or a later one */
                        break;
                    }
                    if (pos[kk][at[kk]] == want)
                        cand[keep++] = cand[c];
                }
                nc = keep;
            }
            if (nc > 0)
                return 1;
            if (last)
                break;
        }
    }
    return 0;
}

static int term_above(struct q_iter *it, uint32_t target, uint32_t lim, double floor,
                      double rest, const struct q_bm25 *bm, struct fmt_err *err);

/* q_iter_advance with a started term leaf's step inline (a conjunction's inner loop). */
static inline int advance_kid(struct q_iter *k, uint32_t target, struct fmt_err *err)
{
    if (k->kind == Q_IT_TERM && k->started && target != FMT_DOC_END)
        return k->doc >= target ? FMT_OK : advance_term(k, target, err);
    return q_iter_advance(k, target, err);
}

/* The two cheapest kids, if terms without field filters, both with a decoded block: the
 * first doc of both blocks from their cursors on, by a merge of the doc arrays (no
 * per-step calls). Found: both cursors move there, 1. None: *DOC becomes the doc after
 * the end of the shorter block, -1 (the caller moves on from there only if that is past
 * the first kid's doc, as the second kid does not move). Not applicable: 0. */
static int merge_pair(struct q_iter *it, uint32_t *doc)
{
    struct q_iter *x = it->drive[0], *y = it->drive[1];
    struct fmt_postings *p, *q;
    uint32_t i, j, ni, nj;
    if (x->kind != Q_IT_TERM || y->kind != Q_IT_TERM || x->require || y->require ||
        !x->started || !y->started || y->doc == FMT_DOC_END || x->doc == FMT_DOC_END)
        return 0;
    p = x->post;
    q = y->post;
    if (!p->loaded || !q->loaded)
        return 0;
    i = p->i;
    j = q->i;
    ni = p->n;
    nj = q->n;
#ifdef __SSE2__
    /* 4 docs of each side at a time: every pair compared at once (the second side rotated
     * three times); without a match, the side whose 4th doc is smaller moves on by 4 (both
     * when equal). Blocks are met in order, so the first match is the first common doc. */
    while (i + 4 <= ni && j + 4 <= nj) {
        __m128i va = _mm_loadu_si128((const __m128i *)(const void *)(p->docs + i));
        __m128i vb = _mm_loadu_si128((const __m128i *)(const void *)(q->docs + j));
        __m128i m = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi32(va, vb),
                         _mm_cmpeq_epi32(va, _mm_shuffle_epi32(vb, 0x39))),
            _mm_or_si128(_mm_cmpeq_epi32(va, _mm_shuffle_epi32(vb, 0x4e)),
                         _mm_cmpeq_epi32(va, _mm_shuffle_epi32(vb, 0x93))));
        int mask = _mm_movemask_ps(_mm_castsi128_ps(m));
        uint32_t amax = p->docs[i + 3], bmax = q->docs[j + 3];
        if (mask) {
            i += (uint32_t)__builtin_ctz((unsigned)mask); /* the first doc of x matched */
            break; /* the loop below finds it (j stays at most 3 docs behind) */
        }
        i += amax <= bmax ? 4 : 0;
        j += bmax <= amax ? 4 : 0;
    }
#endif
    while (i < ni && j < nj) {
        uint32_t a = p->docs[i], b = q->docs[j];
        if (a == b) { /* both cursors straight there (started, no field filter) */
            p->i = i;
            p->doc = a;
            x->doc = a;
            q->i = j;
            q->doc = a;
            y->doc = a;
            return 1;
        }
        i += a < b;
        j += b < a;
    }
    *doc = (p->docs[ni - 1] < q->docs[nj - 1] ? p->docs[ni - 1] : q->docs[nj - 1]) + 1;
    return -1;
}

/* A pruned AND or PHRASE: it->rest gets the sum of the bounds of the kids other than the
 * lead over [DOC, it->rest_lim] (q_iter_bound). */
static int rest_bound(struct q_iter *it, uint32_t doc, struct fmt_err *err)
{
    it->rest = 0.0;
    it->rest_lim = FMT_DOC_END;
    it->rest_ok = 0;
    for (size_t k = 1; k < it->nkids; k++) {
        double ub;
        uint32_t upto;
        int rc = q_iter_bound(it->drive[k], doc, it->floor_bm, &ub, &upto, err);
        if (rc != FMT_OK)
            return rc;
        it->rest += ub;
        if (upto < it->rest_lim)
            it->rest_lim = upto;
    }
    it->rest_ok = 1;
    return FMT_OK;
}

/* AND and PHRASE: leapfrog from TARGET until all kids agree, no exclusion is on the doc
 * and (for a phrase) the positions line up. */
static int advance_conj(struct q_iter *it, uint32_t target, struct fmt_err *err)
{
    uint32_t doc = target;
    int rc;
    for (;;) {
        struct q_iter *lead = it->drive[0];
        if (it->floor_bm && it->lead_above) {
            /* pruning: the lead passes over docs where it cannot score enough even with
             * the other kids' block bounds, without moving them */
            if (!it->rest_ok || doc > it->rest_lim) {
                rc = rest_bound(it, doc, err);
                if (rc != FMT_OK)
                    goto end;
            }
            rc = term_above(lead, doc, it->rest_lim, it->floor, it->rest, it->floor_bm, err);
            if (rc != FMT_OK || lead->doc == FMT_DOC_END)
                goto end;
            if (lead->doc > it->rest_lim) { /* unchecked: bound the rest from there */
                doc = lead->doc;
                continue;
            }
        } else {
            rc = advance_kid(lead, doc, err);
            if (rc != FMT_OK || lead->doc == FMT_DOC_END)
                goto end;
            if (it->nkids >= 2) {
                uint32_t next = doc;
                if (merge_pair(it, &next) < 0 && next > lead->doc) {
                    doc = next; /* none in the decoded blocks: from past the first end */
                    continue;
                }
            }
        }
        doc = lead->doc;
        int ok = 1;
        size_t k = 1;
        for (; k < it->nkids; k++) {
            if (k == it->nkids - 1 && it->doffs) {
                /* a phrase's costliest kid (a stopword, often) is moved, and its block
                 * decoded, only where the other kids' positions line up */
                ok = phrase_matches(it, it->drive, it->doffs, k, &rc, err);
                if (rc != FMT_OK)
                    goto end;
                if (!ok)
                    break;
            }
            rc = advance_kid(it->drive[k], doc, err);
            if (rc != FMT_OK || it->drive[k]->doc == FMT_DOC_END)
                goto end;
            if (it->drive[k]->doc != doc)
                break;
        }
        if (k < it->nkids && !ok) {
            doc++;
            continue;
        }
        if (k < it->nkids) {
            doc = it->drive[k]->doc; /* the lead catches up with the laggard */
            continue;
        }
        ok = 1;
        if (it->floor_bm) { /* pruning: the score (cheap) before positions (costly), and
                             * a bound without the length column (cheaper) before that */
            double ub = 0.0, sc = 0.0;
            for (size_t j = 0; j < it->nkids; j++)
                ub += q_iter_score_ub(it->kids[j], doc, it->floor_bm);
            ok = ub * (1.0 + 1e-9) > it->floor;
            for (size_t j = 0; ok && j < it->nkids; j++)
                sc += q_iter_score(it->kids[j], doc, it->floor_bm, NULL, NULL);
            ok = ok && sc > it->floor;
        }
        for (size_t e = 0; e < it->nexcl && ok; e++) {
            rc = q_iter_advance(it->excl[e], doc, err);
            if (rc != FMT_OK)
                goto end;
            ok = it->excl[e]->doc != doc;
        }
        if (ok && it->kind == Q_IT_PHRASE) {
            ok = phrase_matches(it, it->kids, it->offs, it->nkids, &rc, err);
            if (rc != FMT_OK)
                goto end;
        }
        if (ok) {
            it->doc = doc;
            return FMT_OK;
        }
        doc++; /* doc < FMT_DOC_END, so doc + 1 <= FMT_DOC_END */
    }
end:
    it->doc = FMT_DOC_END;
    return rc;
}

/* The OR heap holds keys (kid's current doc << 32 | kid index): ordered by doc, then by
 * kid index (deterministic), compared without touching the kids. */
static inline uint64_t heap_key(const struct q_iter *it, size_t k)
{
    return (uint64_t)it->kids[k]->doc << 32 | k;
}

static inline uint32_t heap_kid(uint64_t key)
{
    return (uint32_t)key;
}

static void heap_down(struct q_iter *it, size_t i)
{
    uint64_t *h = it->heap, x = h[i];
    size_t n = it->nheap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && h[c + 1] < h[c])
            c++;
        if (h[c] >= x)
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

/* Advance every kid to TARGET and heapify the ones left (first advance only). */
static int build_heap(struct q_iter *it, uint32_t target, struct fmt_err *err)
{
    it->built = 1;
    it->nheap = 0;
    for (size_t k = 0; k < it->nkids; k++) {
        int rc = q_iter_advance(it->kids[k], target, err);
        if (rc != FMT_OK)
            return rc;
        if (it->kids[k]->doc != FMT_DOC_END)
            it->heap[it->nheap++] = heap_key(it, k);
    }
    for (size_t i = it->nheap / 2; i-- > 0;)
        heap_down(it, i);
    return FMT_OK;
}

static int advance_or(struct q_iter *it, uint32_t target, struct fmt_err *err)
{
    int rc = FMT_OK;
    if (!it->built)
        rc = build_heap(it, target, err);
    while (rc == FMT_OK && it->nheap > 0 && (uint32_t)(it->heap[0] >> 32) < target) {
        uint32_t ki = heap_kid(it->heap[0]);
        struct q_iter *k = it->kids[ki];
        rc = advance_kid(k, target, err);
        if (rc == FMT_OK && k->doc == FMT_DOC_END)
            it->heap[0] = it->heap[--it->nheap];
        else
            it->heap[0] = heap_key(it, ki);
        if (it->nheap > 0)
            heap_down(it, 0);
    }
    it->doc = rc == FMT_OK && it->nheap > 0 ? (uint32_t)(it->heap[0] >> 32) : FMT_DOC_END;
    return rc;
}

static void advance_scan(struct q_iter *it, uint32_t target)
{
    uint32_t d = target;
    if (it->kind == Q_IT_DATE)
        while (d < it->ndocs) {
            int64_t ts = fmt_seg_timestamp(it->seg, d);
            if (ts != FMT_NO_TIME && ts >= it->lo && ts <= it->hi)
                break;
            d++;
        }
    it->doc = d < it->ndocs ? d : FMT_DOC_END;
}

int q_iter_advance(struct q_iter *it, uint32_t target, struct fmt_err *err)
{
    if (it->started && it->doc >= target)
        return FMT_OK;
    it->started = 1;
    if (target == FMT_DOC_END) {
        it->doc = FMT_DOC_END;
        return FMT_OK;
    }
    switch (it->kind) {
    case Q_IT_TERM:
        return advance_term(it, target, err);
    case Q_IT_AND:
    case Q_IT_PHRASE:
        return advance_conj(it, target, err);
    case Q_IT_OR:
        return advance_or(it, target, err);
    case Q_IT_ALL:
    case Q_IT_DATE:
        advance_scan(it, target);
        return FMT_OK;
    case Q_IT_EMPTY:
        break;
    }
    it->doc = FMT_DOC_END;
    return FMT_OK;
}

/* ---- Scoring ------------------------------------------------------------------------ */

static double score_term(const struct q_iter *it, uint32_t doc, const struct q_bm25 *bm,
                         q_explain_fn fn, void *ctx)
{
    const struct fmt_postings *p = it->post;
    struct q_explain_term ex;
    ex.w = it->w;
    ex.tf[0] = p->tf[0][p->i];
    ex.tf[1] = p->nfields > 1 ? p->tf[1][p->i] : 0;
    ex.tfn = 0.0;
    ex.contrib = 0.0;
    ex.len[0] = ex.len[1] = 0;
    ex.norm[0] = ex.norm[1] = 1.0;
    if (it->w && it->w->scoring && p->ti.ns == FMT_NS_TEXT) {
        /* a field without the term adds nothing: its length (a cache miss in the column,
         * mostly the title's) is read only for --explain, which shows it */
        for (unsigned f = 0; f < 2; f++)
            if ((it->w->fields >> f & 1u) && (fn || ex.tf[f] > 0)) {
                ex.len[f] = fmt_seg_field_len(it->seg, doc, (enum fmt_field)f);
                ex.norm[f] = q_bm25_norm(bm, f, ex.len[f]);
            }
        ex.tfn = q_bm25_tfn(bm, it->w->fields, ex.tf, ex.len);
        ex.contrib = q_bm25_contrib(bm, it->w->idf, ex.tfn);
    }
    if (fn)
        fn(ctx, &ex);
    return ex.contrib;
}

/* Indexes of the OR kids on DOC (the heap's top subtree), sorted: returns how many. */
static size_t kids_on(const struct q_iter *it, uint32_t doc)
{
    uint32_t *on = it->on;
    size_t n = 0, stack_top = 0;
    if (it->nheap == 0 || (uint32_t)(it->heap[0] >> 32) != doc)
        return 0;
    /* walk the subtree of heap slots whose kid is on DOC; the slots wait in on[n..) */
    on[it->nkids - 1 - stack_top++] = 0;
    while (stack_top > 0) {
        size_t slot = on[it->nkids - stack_top--];
        on[n++] = heap_kid(it->heap[slot]);
        for (size_t c = 2 * slot + 1; c <= 2 * slot + 2 && c < it->nheap; c++)
            if ((uint32_t)(it->heap[c] >> 32) == doc)
                on[it->nkids - 1 - stack_top++] = (uint32_t)c;
    }
    for (size_t i = 1; i < n; i++) { /* insertion sort: few kids share a doc */
        uint32_t x = on[i];
        size_t j = i;
        while (j > 0 && on[j - 1] > x) {
            on[j] = on[j - 1];
            j--;
        }
        on[j] = x;
    }
    return n;
}

/* A synonym group on DOC: one term with the kids' tf summed per field. */
static double score_synonym(const struct q_iter *it, uint32_t doc, const struct q_bm25 *bm,
                            q_explain_fn fn, void *ctx)
{
    size_t n = kids_on(it, doc);
    struct q_explain_term ex;
    const struct q_term_w *w = it->syn;
    int text = 0;
    memset(&ex, 0, sizeof(ex));
    ex.w = w;
    ex.norm[0] = ex.norm[1] = 1.0;
    for (size_t i = 0; i < n; i++) {
        const struct q_iter *k = it->kids[it->on[i]];
        const struct fmt_postings *p = k->post;
        ex.tf[0] += p->tf[0][p->i];
        ex.tf[1] += p->nfields > 1 ? p->tf[1][p->i] : 0;
        text = p->ti.ns == FMT_NS_TEXT;
    }
    if (w->scoring && text && n > 0) {
        for (unsigned f = 0; f < 2; f++)
            if ((w->fields >> f & 1u) && (fn || ex.tf[f] > 0)) {
                ex.len[f] = fmt_seg_field_len(it->kids[it->on[0]]->seg, doc, (enum fmt_field)f);
                ex.norm[f] = q_bm25_norm(bm, f, ex.len[f]);
            }
        ex.tfn = q_bm25_tfn(bm, w->fields, ex.tf, ex.len);
        ex.contrib = q_bm25_contrib(bm, w->idf, ex.tfn);
    }
    if (fn)
        fn(ctx, &ex);
    return ex.contrib;
}

double q_iter_score(const struct q_iter *it, uint32_t doc, const struct q_bm25 *bm,
                    q_explain_fn fn, void *ctx)
{
    double s = 0.0;
    switch (it->kind) {
    case Q_IT_TERM:
        return it->doc == doc ? score_term(it, doc, bm, fn, ctx) : 0.0;
    case Q_IT_OR:
        if (it->doc != doc)
            return 0.0;
        if (it->syn)
            return score_synonym(it, doc, bm, fn, ctx);
        for (size_t i = 0, n = kids_on(it, doc); i < n; i++)
            s += q_iter_score(it->kids[it->on[i]], doc, bm, fn, ctx);
        return s;
    case Q_IT_AND:
    case Q_IT_PHRASE:
        if (it->doc != doc)
            return 0.0;
        for (size_t k = 0; k < it->nkids; k++)
            if (it->kids[k]->doc == doc)
                s += q_iter_score(it->kids[k], doc, bm, fn, ctx);
        return s;
    default:
        return 0.0;
    }
}

/* Fill IT's ub_a for the block of its skip cursor (a scoring text term leaf). A field
 * without the term in the block gets 0, not w / norm(0), which is infinite with b = 1:
 * the callers multiply every doc's tf by it, 0 included. */
static inline void ub_factors(struct q_iter *it, const struct q_bm25 *bm)
{
    const struct fmt_postings *p = it->post;
    if (it->ub_block != p->block || it->ub_bm != bm) {
        for (unsigned f = 0; f < 2; f++)
            it->ub_a[f] = it->w->fields >> f & 1u && p->bound.max_tf[f] > 0
                              ? bm->p.w[f] / q_bm25_norm(bm, f, p->bound.min_len[f])
                              : 0.0;
        it->ub_block = p->block;
        it->ub_bm = bm;
    }
}

/* A term leaf on DOC: its tf over the loaded block's shortest lengths (see iter.h). The
 * per-field factors w_f / norm(min_len_f) are computed once per block: tf * (w / norm)
 * may round a few ulps below q_bm25_tfn's w * tf / norm, far inside the callers' margin. */
static double ub_term(struct q_iter *it, uint32_t doc, const struct q_bm25 *bm)
{
    const struct fmt_postings *p = it->post;
    double t = 0.0;
    if (!p->loaded || p->docs[p->i] != doc)
        return score_term(it, doc, bm, NULL, NULL);
    if (!it->w || !it->w->scoring || p->ti.ns != FMT_NS_TEXT)
        return 0.0;
    ub_factors(it, bm);
    /* no branch on tf > 0 (mispredicted where the title holds the term now and then): a
     * text term has both fields, and a 0 tf adds an exact 0 to the finite factors */
    t = (double)p->tf[0][p->i] * it->ub_a[0] + (double)p->tf[1][p->i] * it->ub_a[1];
    return q_bm25_contrib(bm, it->w->idf, t);
}

double q_iter_score_ub(struct q_iter *it, uint32_t doc, const struct q_bm25 *bm)
{
    double s = 0.0;
    if (it->doc != doc)
        return 0.0;
    switch (it->kind) {
    case Q_IT_TERM:
        return ub_term(it, doc, bm);
    case Q_IT_OR:
        if (it->syn)
            return score_synonym(it, doc, bm, NULL, NULL);
        for (size_t i = 0, n = kids_on(it, doc); i < n; i++)
            s += q_iter_score_ub(it->kids[it->on[i]], doc, bm);
        return s;
    case Q_IT_AND:
    case Q_IT_PHRASE:
        for (size_t k = 0; k < it->nkids; k++)
            s += q_iter_score_ub(it->kids[k], doc, bm);
        return s;
    default:
        return 0.0;
    }
}

/* ---- Score upper bounds (dynamic pruning) ------------------------------------------- */

static void bound_none(double *ub, uint32_t *upto)
{
    *ub = 0.0;
    *upto = FMT_DOC_END;
}

/* A synonym group: one term whose tf is the kids' summed tf, so the bound sums the kids'
 * max tf per field over the shortest length of any kid with that field. */
static int bound_synonym(struct q_iter *it, uint32_t target, const struct q_bm25 *bm,
                         double *ub, uint32_t *upto, struct fmt_err *err)
{
    uint32_t tf[2] = {0, 0}, len[2] = {UINT32_MAX, UINT32_MAX};
    int text = 0;
    for (size_t k = 0; k < it->nkids; k++) {
        struct q_iter *kid = it->kids[k];
        struct fmt_block_bound b;
        int rc;
        if (kid->kind != Q_IT_TERM)
            continue;
        if (!kid->started && (rc = q_iter_advance(kid, target, err)) != FMT_OK)
            return rc; /* as for a term leaf in q_iter_bound */
        if (kid->doc == FMT_DOC_END)
            continue;
        rc = fmt_postings_shallow_advance(kid->post, target, &b, err);
        if (rc != FMT_OK)
            return rc;
        if (b.last_doc == FMT_DOC_END)
            continue;
        if (b.last_doc < *upto)
            *upto = b.last_doc;
        text |= kid->post->ti.ns == FMT_NS_TEXT;
        for (unsigned f = 0; f < 2; f++)
            if (b.max_tf[f] > 0) {
                tf[f] += b.max_tf[f];
                if (b.min_len[f] < len[f])
                    len[f] = b.min_len[f];
            }
    }
    for (unsigned f = 0; f < 2; f++)
        if (len[f] == UINT32_MAX)
            len[f] = 0;
    if (it->syn->scoring && text)
        *ub = q_bm25_contrib(bm, it->syn->idf, q_bm25_tfn(bm, it->syn->fields, tf, len));
    return FMT_OK;
}

/* AND, PHRASE and a plain OR: the sum of the kids' bounds, over the shortest range. */
static int bound_sum(struct q_iter *it, uint32_t target, const struct q_bm25 *bm, double *ub,
                     uint32_t *upto, struct fmt_err *err)
{
    double sum = 0.0;
    for (size_t k = 0; k < it->nkids; k++) {
        double kub;
        uint32_t kupto;
        int rc = q_iter_bound(it->kids[k], target, bm, &kub, &kupto, err);
        if (rc != FMT_OK)
            return rc;
        sum += kub;
        if (kupto < *upto)
            *upto = kupto;
    }
    *ub = sum;
    return FMT_OK;
}

int q_iter_bound(struct q_iter *it, uint32_t target, const struct q_bm25 *bm, double *ub,
                 uint32_t *upto, struct fmt_err *err)
{
    struct fmt_block_bound b;
    int rc;
    bound_none(ub, upto);
    if ((it->started && it->doc == FMT_DOC_END) || target == FMT_DOC_END)
        return FMT_OK;
    switch (it->kind) {
    case Q_IT_TERM:
        /* a cursor that never moved first goes to TARGET: fmt_postings_advance would take
         * a single-block list whose skip cursor moved first for an exhausted one */
        if (!it->started && (rc = q_iter_advance(it, target, err)) != FMT_OK)
            return rc;
        if (it->doc == FMT_DOC_END)
            return FMT_OK;
        rc = fmt_postings_shallow_advance(it->post, target, &b, err);
        if (rc != FMT_OK || b.last_doc == FMT_DOC_END)
            return rc;
        *upto = b.last_doc;
        if (it->w && it->w->scoring && it->post->ti.ns == FMT_NS_TEXT)
            *ub = q_bm25_contrib(bm, it->w->idf,
                                 q_bm25_tfn(bm, it->w->fields, b.max_tf, b.min_len));
        return FMT_OK;
    case Q_IT_OR:
        if (it->syn)
            return bound_synonym(it, target, bm, ub, upto, err);
        /* a plain OR is bounded like a conjunction: by the sum of its kids */
        return bound_sum(it, target, bm, ub, upto, err);
    case Q_IT_AND:
    case Q_IT_PHRASE:
        return bound_sum(it, target, bm, ub, upto, err);
    default:
        return FMT_OK;
    }
}

/* ---- Advancing past docs that cannot score enough (dynamic pruning) ----------------- */

/* The tf~ (ub_term's sum over the block's shortest lengths) that term leaf IT must exceed
 * on a doc for the doc's score to exceed FLOOR when the rest of the query adds at most
 * REST: -1 when every doc may, INFINITY when none can. The margins (relative 1e-9, far
 * above the rounding of these sums) only make it pass more docs. */
static double t_need_w(const struct q_term_w *w, int text, const struct q_bm25 *bm,
                       double floor, double rest)
{
    double c = floor - rest - 1e-9 * (fabs(floor) + fabs(rest)), idf;
    if (c <= 0.0)
        return -1.0;
    if (!w || !w->scoring || !text)
        return INFINITY; /* it adds 0 */
    idf = w->idf;
    if (c >= idf) /* idf * t / (k1 + t) < idf */
        return INFINITY;
    return bm->p.k1 * c / (idf - c) * (1.0 - 1e-9);
}

static double t_need(const struct q_iter *it, const struct q_bm25 *bm, double floor,
                     double rest)
{
    return t_need_w(it->w, it->post->ti.ns == FMT_NS_TEXT, bm, floor, rest);
}

/* First index >= I of term leaf IT's decoded block whose doc may score above TNEED in
 * tf~ (t_need), or the index of its first doc past LIM, or p->n. Each doc's exact tf~
 * w0 tf0 / n0 + w1 tf1 / n1 (n_f = 1 - b + b len_f / avglen_f; both lengths are read for
 * every doc, as a branch on tf_f > 0 would be mispredicted, e.g. on every third doc of
 * "the") is tested as w0 tf0 n1 + w1 tf1 n0 > TNEED n0 n1: no division, no branch but the
 * two exits; the rounding differs from q_bm25_tfn's by a few ulps, far inside t_need's
 * margin. */
static uint32_t scan_tfn(const struct q_iter *it, uint32_t i, uint32_t lim, double tneed)
{
    const struct fmt_postings *p = it->post;
    const uint8_t *const *col = it->sc_col;
    const double *m = it->sc_m, *a = it->sc_a, *b = it->sc_b;
    uint32_t n = p->n;
    for (; i < n; i++) {
        uint32_t d = p->docs[i];
        if (d > lim) /* per doc: a binary search for LIM first cost more (16% of a pruned
                      * "said it"), as most calls stop within a few docs */
            return i;
        double x0 = m[0] * (double)p->tf[0][i], x1 = m[1] * (double)p->tf[1][i];
        double l0 = a[0] + b[0] * (double)fmt_get_u32le(col[0] + 4 * (size_t)d);
        double l1 = a[1] + b[1] * (double)fmt_get_u32le(col[1] + 4 * (size_t)d);
        /* n_f only has to be positive where x_f is 0 (it cancels out); a length of 0
         * gives 0 with b = 1: such an n_f becomes tiny (maxsd, no branch) */
        double n0 = l0 > 1e-300 ? l0 : 1e-300, n1 = l1 > 1e-300 ? l1 : 1e-300;
        if (x0 * n1 + x1 * n0 > tneed * n0 * n1)
            return i;
    }
    return n;
}

/* Term leaf IT to its first doc >= TARGET whose score may exceed FLOOR - REST (as
 * q_iter_advance_above), or to its first doc past LIM unchecked. Whole blocks go by their
 * skip entries' bounds (q_iter_bound) without being decoded; a decoded block's docs are
 * tested with their exact tf~ (scan_tfn). */
static int term_above(struct q_iter *it, uint32_t target, uint32_t lim, double floor,
                      double rest, const struct q_bm25 *bm, struct fmt_err *err)
{
    double tneed, c;
    int rc;
    if (it->sc_bm != bm) { /* scan_tfn's constants */
        for (unsigned f = 0; f < 2; f++) {
            it->sc_col[f] = fmt_seg_len_column(it->seg, (enum fmt_field)f);
            it->sc_m[f] = it->w && it->w->fields >> f & 1u ? bm->p.w[f] : 0.0;
            it->sc_a[f] = bm->avglen[f] > 0.0 ? 1.0 - bm->p.b : 1.0;
            it->sc_b[f] = bm->avglen[f] > 0.0 ? bm->p.b / bm->avglen[f] : 0.0;
        }
        it->sc_bm = bm;
        it->sc_floor = NAN; /* compares unequal: t_need below */
    }
    if (floor != it->sc_floor || rest != it->sc_rest) {
        it->sc_tneed = t_need(it, bm, floor, rest);
        it->sc_c = floor - rest - 1e-9 * (fabs(floor) + fabs(rest));
        it->sc_floor = floor;
        it->sc_rest = rest;
    }
    tneed = it->sc_tneed;
    c = it->sc_c;
    if (tneed < 0.0)
        return q_iter_advance(it, target, err);
    for (;;) {
        const struct fmt_postings *p = it->post;
        double ub = 0.0;
        uint32_t upto = FMT_DOC_END, i;
        if (target > lim || target == FMT_DOC_END)
            return q_iter_advance(it, target, err);
        if (p->loaded && p->doc != FMT_DOC_END && target <= p->docs[p->n - 1]) {
            /* in the decoded block, admitted by its bound when entered (or before the
             * floor was set: testing it again is not needed for correctness) */
            upto = p->docs[p->n - 1];
            ub = INFINITY;
            rc = FMT_OK;
        } else {
            rc = q_iter_bound(it, target, bm, &ub, &upto, err);
        }
        if (rc != FMT_OK || (it->started && it->doc == FMT_DOC_END))
            return rc;
        if (ub <= c) { /* no doc of the block can */
            target = upto == FMT_DOC_END ? FMT_DOC_END : upto + 1;
            continue;
        }
        rc = q_iter_advance(it, target, err);
        if (rc != FMT_OK || it->doc == FMT_DOC_END || it->doc > lim)
            return rc;
        if (it->doc > upto || !p->loaded) { /* a require filter moved it on */
            target = it->doc;
            continue;
        }
        i = scan_tfn(it, p->i, lim, tneed);
        if (i == p->n) {
            target = p->docs[p->n - 1] + 1;
            continue;
        }
        if (i == p->i)
            return FMT_OK;
        target = p->docs[i];
        rc = q_iter_advance(it, target, err);
        if (rc != FMT_OK || it->doc == target || it->doc > lim)
            return rc;
        target = it->doc; /* a require filter passed over the doc: check the next */
    }
}

int q_iter_advance_above(struct q_iter *it, uint32_t target, uint32_t lim, double floor,
                         double rest, const struct q_bm25 *bm, struct fmt_err *err)
{
    if (it->kind == Q_IT_TERM)
        return term_above(it, target, lim, floor, rest, bm, err);
    return q_iter_advance(it, target, err);
}

/* A synonym group on DOC: 1 when its score may exceed FLOOR. Its tf~ (score_synonym's,
 * summed tf over the shared length norms) is tested against t_need_w without a division,
 * as scan_tfn does, with the constants and the threshold cached in IT (sc_*). */
static int synonym_above(struct q_iter *it, uint32_t doc, double floor, const struct q_bm25 *bm)
{
    size_t n = kids_on(it, doc);
    uint32_t tf[2] = {0, 0};
    double x[2], nf[2] = {1.0, 1.0};
    int text = 0;
    for (size_t i = 0; i < n; i++) {
        const struct fmt_postings *p = it->kids[it->on[i]]->post;
        tf[0] += p->tf[0][p->i];
        tf[1] += p->nfields > 1 ? p->tf[1][p->i] : 0;
        text = p->ti.ns == FMT_NS_TEXT;
    }
    if (n == 0)
        return 0.0 > floor;
    if (it->sc_bm != bm || floor != it->sc_floor) {
        const struct fmt_seg *seg = it->kids[it->on[0]]->seg;
        for (unsigned f = 0; f < 2; f++) {
            it->sc_col[f] = fmt_seg_len_column(seg, (enum fmt_field)f);
            it->sc_m[f] = it->syn->fields >> f & 1u ? bm->p.w[f] : 0.0;
            it->sc_a[f] = bm->avglen[f] > 0.0 ? 1.0 - bm->p.b : 1.0;
            it->sc_b[f] = bm->avglen[f] > 0.0 ? bm->p.b / bm->avglen[f] : 0.0;
        }
        it->sc_tneed = t_need_w(it->syn, text, bm, floor, 0.0);
        it->sc_bm = bm;
        it->sc_floor = floor;
    }
    if (it->sc_tneed < 0.0)
        return 1;
    for (unsigned f = 0; f < 2; f++) {
        x[f] = it->sc_m[f] * (double)tf[f];
        if (x[f] > 0.0)
            nf[f] = it->sc_a[f] +
                    it->sc_b[f] * (double)fmt_get_u32le(it->sc_col[f] + 4 * (size_t)doc);
    }
    return x[0] * nf[1] + x[1] * nf[0] > it->sc_tneed * nf[0] * nf[1];
}

/* A term leaf on DOC (its block decoded): 1 when its ub_term bound plus REST may exceed
 * FLOOR, tested on its tf~ (the bound's monotone argument) against t_need, without the
 * division of q_bm25_contrib. */
static inline int term_may_exceed(struct q_iter *it, struct q_tneed *need, double floor,
                                  double rest, const struct q_bm25 *bm)
{
    const struct fmt_postings *p = it->post;
    double t = 0.0;
    if (need->bm != bm || need->floor != floor || need->rest != rest) {
        need->tneed = t_need(it, bm, floor, rest);
        need->bm = bm;
        need->floor = floor;
        need->rest = rest;
    }
    if (need->tneed < 0.0)
        return 1;
    if (!it->w || !it->w->scoring || p->ti.ns != FMT_NS_TEXT)
        return 0; /* t_need: INFINITY */
    ub_factors(it, bm);
    /* no branch on tf > 0 (mispredicted where the title holds the term now and then): a
     * text term has both fields, and a 0 tf adds an exact 0 to the finite factors */
    t = (double)p->tf[0][p->i] * it->ub_a[0] + (double)p->tf[1][p->i] * it->ub_a[1];
    return t > need->tneed;
}

/* Term leaf IT, on a doc of its decoded block (term_on_block), to its next doc: the next
 * of the block without a scan when there is one and no field filter. */
static inline int term_step(struct q_iter *it, struct fmt_err *err)
{
    struct fmt_postings *p = it->post;
    if (it->require == 0 && p->i + 1 < p->n) {
        p->doc = p->docs[++p->i];
        it->doc = p->doc;
        return FMT_OK;
    }
    return advance_kid(it, it->doc + 1, err);
}

/* 1 when term leaf IT is on DOC with its block decoded (where term_may_exceed applies). */
static inline int term_on_block(const struct q_iter *it, uint32_t doc)
{
    const struct fmt_postings *p = it->post;
    return it->kind == Q_IT_TERM && it->doc == doc && p->loaded && p->docs[p->i] == doc;
}

int q_iter_pass_alone(struct q_iter *const *ess, size_t ne, struct q_iter *const *non,
                      size_t nn, uint32_t lim, double floor, const struct q_bm25 *bm,
                      struct fmt_err *err)
{
    for (;;) {
        uint32_t d = FMT_DOC_END;
        size_t on = 0, m = 0;
        int rc;
        for (size_t j = 0; j < ne; j++) {
            uint32_t x = ess[j]->doc;
            if (x < d) {
                d = x;
                on = 1;
                m = j;
            } else if (x == d) {
                on++;
            }
        }
        if (on != 1 || d > lim || d == FMT_DOC_END || !term_on_block(ess[m], d) ||
            term_may_exceed(ess[m], &ess[m]->need[1], floor, 0.0, bm))
            return FMT_OK;
        for (size_t j = 0; j < nn; j++) {
            if ((rc = advance_kid(non[j], d, err)) != FMT_OK)
                return rc;
            if (non[j]->doc == d)
                return FMT_OK;
        }
        if ((rc = term_step(ess[m], err)) != FMT_OK)
            return rc;
    }
}

int q_iter_pass_alone_syn(struct q_iter *it, uint32_t lim, double floor,
                          const struct q_bm25 *bm, struct fmt_err *err)
{
    if (it->kind != Q_IT_OR || !it->syn || !it->built)
        return FMT_OK;
    while (it->nheap > 0) {
        uint64_t top = it->heap[0];
        uint32_t d = (uint32_t)(top >> 32), ki = heap_kid(top);
        struct q_iter *k = it->kids[ki];
        int rc;
        /* the kids on the top doc are the root's subtree: alone when no child is on it */
        if (d > lim || (it->nheap > 1 && (uint32_t)(it->heap[1] >> 32) == d) ||
            (it->nheap > 2 && (uint32_t)(it->heap[2] >> 32) == d) || !term_on_block(k, d) ||
            term_may_exceed(k, &k->need[1], floor, 0.0, bm))
            break;
        if ((rc = term_step(k, err)) != FMT_OK) {
            it->doc = FMT_DOC_END;
            return rc;
        }
        if (k->doc == FMT_DOC_END)
            it->heap[0] = it->heap[--it->nheap];
        else
            it->heap[0] = heap_key(it, ki);
        if (it->nheap > 0)
            heap_down(it, 0);
    }
    it->doc = it->nheap > 0 ? (uint32_t)(it->heap[0] >> 32) : FMT_DOC_END;
    return FMT_OK;
}

int q_iter_may_exceed(struct q_iter *it, uint32_t doc, double floor, const struct q_bm25 *bm)
{
    if (it->kind == Q_IT_OR && it->syn)
        return it->doc == doc ? synonym_above(it, doc, floor, bm) : 0.0 > floor;
    if (term_on_block(it, doc))
        return term_may_exceed(it, &it->need[0], floor, 0.0, bm);
    return q_iter_score_ub(it, doc, bm) * (1.0 + 1e-9) > floor;
}
