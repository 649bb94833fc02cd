/* iter.c - document iterators over one segment (see iter.h for the algorithms). */
#include "iter.h"

#include <string.h>

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

static int advance_term(struct q_iter *it, uint32_t target, struct fmt_err *err)
{
    int rc = fmt_postings_advance(it->post, target, err);
    while (rc == FMT_OK && it->post->doc != FMT_DOC_END && !term_has_field(it))
        rc = fmt_postings_next(it->post, err);
    it->doc = it->post->doc;
    return rc;
}

/* 1 when the term kids (all on the same doc) hold the phrase in one of it->pfields. */
static int phrase_matches(struct q_iter *it, int *rc, struct fmt_err *err)
{
    enum { MAXK = 64 };
    const uint32_t *pos[MAXK];
    size_t npos[MAXK], at[MAXK];
    size_t n = it->nkids < MAXK ? it->nkids : MAXK;
    for (unsigned f = 0; f < 2; f++) {
        if (!(it->pfields >> f & 1u))
            continue;
        int empty = 0;
        for (size_t k = 0; k < n && !empty; k++) {
            *rc = fmt_postings_positions(it->kids[k]->post, (enum fmt_field)f, &pos[k],
                                         &npos[k], err);
            if (*rc != FMT_OK)
                return 0;
            empty = npos[k] == 0;
            at[k] = 0;
        }
        if (empty)
            continue;
        for (size_t a = 0; a < npos[0]; a++) {
            if (pos[0][a] < it->offs[0])
                continue;
            uint32_t start = pos[0][a] - it->offs[0];
            size_t k = 1;
            for (; k < n; k++) {
                uint64_t want = (uint64_t)start + it->offs[k];
                while (at[k] < npos[k] && pos[k][at[k]] < want)
                    at[k]++;
                if (at[k] == npos[k])
                    goto next_field; /* no later start can match either */
                if (pos[k][at[k]] != want)
                    break;
            }
            if (k == n)
                return 1;
        }
    next_field:;
    }
    return 0;
}

/* AND and PHRASE: leapfrog from TARGET until all kids agree, no exclusion is on the doc
 * and (for a phrase) the positions line up. */
static int advance_conj(struct q_iter *it, uint32_t target, struct fmt_err *err)
{
    uint32_t doc = target;
    int rc;
    for (;;) {
        struct q_iter *lead = it->drive[0];
        rc = q_iter_advance(lead, doc, err);
        if (rc != FMT_OK || lead->doc == FMT_DOC_END)
            goto end;
        doc = lead->doc;
        size_t k = 1;
        for (; k < it->nkids; k++) {
            rc = q_iter_advance(it->drive[k], doc, err);
            if (rc != FMT_OK || it->drive[k]->doc == FMT_DOC_END)
                goto end;
            if (it->drive[k]->doc != doc)
                break;
        }
        if (k < it->nkids) {
            doc = it->drive[k]->doc; /* the lead catches up with the laggard */
            continue;
        }
        int ok = 1;
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
            ok = phrase_matches(it, &rc, err);
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

/* Heap order of the OR kids: by current doc, then by kid index (deterministic). */
static int heap_less(const struct q_iter *it, uint32_t a, uint32_t b)
{
    uint32_t da = it->kids[a]->doc, db = it->kids[b]->doc;
    return da < db || (da == db && a < b);
}

static void heap_down(struct q_iter *it, size_t i)
{
    uint32_t *h = it->heap, x = h[i];
    size_t n = it->nheap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && heap_less(it, h[c + 1], h[c]))
            c++;
        if (!heap_less(it, h[c], x))
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
            it->heap[it->nheap++] = (uint32_t)k;
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
    while (rc == FMT_OK && it->nheap > 0 && it->kids[it->heap[0]]->doc < target) {
        struct q_iter *k = it->kids[it->heap[0]];
        rc = q_iter_advance(k, target, err);
        if (rc == FMT_OK && k->doc == FMT_DOC_END)
            it->heap[0] = it->heap[--it->nheap];
        if (it->nheap > 0)
            heap_down(it, 0);
    }
    it->doc = rc == FMT_OK && it->nheap > 0 ? it->kids[it->heap[0]]->doc : FMT_DOC_END;
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
    if (it->nheap == 0 || it->kids[it->heap[0]]->doc != doc)
        return 0;
    /* walk the subtree of heap slots whose kid is on DOC; the slots wait in on[n..) */
    on[it->nkids - 1 - stack_top++] = 0;
    while (stack_top > 0) {
        size_t slot = on[it->nkids - stack_top--];
        on[n++] = it->heap[slot];
        for (size_t c = 2 * slot + 1; c <= 2 * slot + 2 && c < it->nheap; c++)
            if (it->kids[it->heap[c]]->doc == doc)
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
    if (it->ub_block != p->block || it->ub_bm != bm) {
        for (unsigned f = 0; f < 2; f++)
            it->ub_a[f] = it->w->fields >> f & 1u
                              ? bm->p.w[f] / q_bm25_norm(bm, f, p->bound.min_len[f])
                              : 0.0;
        it->ub_block = p->block;
        it->ub_bm = bm;
    }
    if (p->tf[0][p->i] > 0)
        t += (double)p->tf[0][p->i] * it->ub_a[0];
    if (p->nfields > 1 && p->tf[1][p->i] > 0)
        t += (double)p->tf[1][p->i] * it->ub_a[1];
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
