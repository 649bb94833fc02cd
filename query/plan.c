/* plan.c - query planning and evaluation (see plan.h).
 *
 * Planning
 *   The parse tree is rewritten into plan nodes (struct pnode): every leaf is analyzed
 *   with the index's analyzer and becomes a TERM (one term), a PHRASE (a word or quoted
 *   text yielding several terms, with their analyzer positions as offsets) or nothing
 *   (no term: the leaf is dropped, and so is an operator left without operands). A
 *   prefix is expanded once over all segments into an OR of the matching dictionary
 *   terms (each scored as its own term), so that the idf of each expansion is global.
 *   NOT kids of an AND become its exclusions; a bare NOT (or an AND of NOTs only) is
 *   "every article except", which the caller only allows together with a date or source
 *   filter. The --since/--until/--source filters are ANDed onto the root as non-scoring
 *   kids: the conjunction leads with its cheapest kid, so a rare source drives the scan.
 *
 * Evaluation
 *   For each segment the plan is bound to iterators (iter.h) and walked document at a
 *   time; deleted docs are skipped; each live match is counted and, unless counting only,
 *   scored (BM25F, bm25.h) and offered to the top-k heap with its global doc id. */
#include "plan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum pk { PK_TERM, PK_PHRASE, PK_AND, PK_OR, PK_NOT, PK_DATE, PK_ALL };

struct pnode {
    enum pk kind;
    uint8_t ns;           /* TERM: namespace */
    unsigned require;     /* TERM: field mask the doc must have tf in (0: any) */
    unsigned pfields;     /* PHRASE: fields the phrase may occur in */
    const char *term;     /* TERM: analyzed term (arena) */
    size_t len;
    struct q_term_w w;    /* TERM: scoring; OR of a prefix: the synonym's shared weight */
    uint64_t df;          /* TERM (scoring): global document frequency */
    struct fmt_term_info *ti; /* TERM (scoring): each segment's entry from the df lookup,
                                 df 0 where absent; NULL: bind looks the term up */
    int syn;              /* OR: a prefix's expansions, scored as one term (w) */
    struct pnode **kids;  /* AND: positive kids; OR; PHRASE: TERM kids; NOT: the kid */
    size_t nkids;
    struct pnode **excl;  /* AND: excluded kids */
    size_t nexcl;
    uint32_t *offs;       /* PHRASE: kid positions within the phrase */
    int64_t lo, hi;       /* DATE */
};

struct q_plan {
    struct q_arena mem;              /* every pnode and string */
    const struct fmt_snapshot *snap; /* borrowed */
    struct fmt_analyzer *an;         /* borrowed */
    struct q_bm25 bm;
    struct pnode *root;              /* query AND filters */
    double half_life;                /* --recency in seconds, 0: off */
    int64_t now;                     /* the clock for --recency */
    struct fmt_buf snip;             /* struct q_snip_term[] for highlighting */
    size_t *err_col;                 /* planning only */
};

struct tok {
    const char *term;
    size_t len;
    uint32_t pos;
};

struct tok_list {
    struct q_plan *p;
    struct fmt_buf toks; /* struct tok[] */
    int rc;
};

void q_plan_opts_default(struct q_plan_opts *o)
{
    q_bm25_params_default(&o->bm25);
    o->since = Q_DATE_MIN;
    o->until = Q_DATE_MAX;
    o->sources = NULL;
    o->nsources = 0;
    o->half_life = 0.0;
    o->now = 0;
}

static int oom(struct fmt_err *err)
{
    return fmt_errorf(err, FMT_ENOMEM, "query: out of memory");
}

static int on_tok(void *ctx, const struct fmt_token *t)
{
    struct tok_list *l = ctx;
    struct tok k;
    k.term = q_arena_strndup(&l->p->mem, t->term, t->len);
    k.len = t->len;
    k.pos = t->pos;
    if (!k.term || fmt_buf_append(&l->toks, &k, sizeof(k)) != FMT_OK) {
        l->rc = FMT_ENOMEM;
        return 1;
    }
    return 0;
}

/* Analyze TEXT (stemmed unless UNSTEMMED) into *toks (caller releases l->toks). */
static int analyze(struct q_plan *p, const char *text, size_t len, int unstemmed,
                   struct tok_list *l, struct fmt_err *err)
{
    int rc;
    l->p = p;
    fmt_buf_init(&l->toks);
    l->rc = FMT_OK;
    rc = unstemmed ? fmt_analyze_unstemmed(p->an, text, len, on_tok, l)
                   : fmt_analyze(p->an, text, len, on_tok, l);
    if (l->rc != FMT_OK || rc != FMT_OK)
        return oom(err);
    return FMT_OK;
}

static size_t ntoks(const struct tok_list *l)
{
    return l->toks.len / sizeof(struct tok);
}

static const struct tok *toks(const struct tok_list *l)
{
    return (const struct tok *)(const void *)l->toks.p;
}

/* Folded source name: the unstemmed words joined by single spaces (as the builder does). */
static int fold_source(struct q_plan *p, const char *text, size_t len, const char **out,
                       size_t *olen, struct fmt_err *err)
{
    struct tok_list l;
    struct fmt_buf b;
    int rc = analyze(p, text, len, 1, &l, err);
    fmt_buf_init(&b);
    for (size_t i = 0; rc == FMT_OK && i < ntoks(&l); i++) {
        if (i > 0 && fmt_buf_putc(&b, ' ') != FMT_OK)
            rc = oom(err);
        if (rc == FMT_OK && fmt_buf_append(&b, toks(&l)[i].term, toks(&l)[i].len) != FMT_OK)
            rc = oom(err);
    }
    if (rc == FMT_OK) {
        *out = q_arena_strndup(&p->mem, b.len ? (const char *)b.p : "", b.len);
        *olen = b.len;
        if (!*out)
            rc = oom(err);
    }
    fmt_buf_release(&b);
    fmt_buf_release(&l.toks);
    return rc;
}

static struct pnode *new_node(struct q_plan *p, enum pk kind, size_t nkids)
{
    struct pnode *n = q_arena_alloc(&p->mem, sizeof(*n));
    if (!n)
        return NULL;
    n->kind = kind;
    n->kids = q_arena_alloc(&p->mem, (nkids ? nkids : 1) * sizeof(*n->kids));
    return n->kids ? n : NULL;
}

/* Scope of a field: namespace, required fields, scored/phrase fields, label prefix. */
struct scope {
    uint8_t ns;
    unsigned require;
    unsigned fields;
    const char *label;
};

static struct scope scope_of(enum q_field f)
{
    struct scope s = {FMT_NS_TEXT, 0, 3u, ""};
    if (f == Q_FIELD_TITLE) {
        s.require = s.fields = 1u;
        s.label = "title:";
    } else if (f == Q_FIELD_BODY) {
        s.require = s.fields = 2u;
        s.label = "body:";
    } else if (f == Q_FIELD_URL) {
        s.ns = FMT_NS_URL;
        s.fields = 1u;
        s.label = "url:";
    } else if (f == Q_FIELD_SOURCE) {
        s.ns = FMT_NS_SOURCE;
        s.fields = 1u;
        s.label = "source:";
    }
    return s;
}

static int make_term(struct q_plan *p, const struct scope *sc, const char *term, size_t len,
                     int neg, struct pnode **out, struct fmt_err *err)
{
    struct pnode *n = new_node(p, PK_TERM, 0);
    size_t llen = strlen(sc->label) + len + 1;
    char *label = q_arena_alloc(&p->mem, llen);
    if (!n || !label)
        return oom(err);
    snprintf(label, llen, "%s%.*s", sc->label, (int)len, term);
    n->ns = sc->ns;
    n->require = sc->require;
    n->term = term;
    n->len = len;
    n->w.fields = sc->fields;
    n->w.label = label;
    n->w.scoring = !neg && sc->ns == FMT_NS_TEXT;
    if (n->w.scoring) {
        size_t nsegs = fmt_snapshot_nsegs(p->snap);
        uint64_t df;
        int rc;
        n->ti = q_arena_alloc(&p->mem, (nsegs ? nsegs : 1) * sizeof(*n->ti));
        if (!n->ti)
            return oom(err);
        rc = fmt_snapshot_lookup(p->snap, sc->ns, term, len, sc->require == 1u, &df, n->ti, err);
        if (rc != FMT_OK)
            return rc;
        n->w.idf = q_bm25_idf(fmt_snapshot_stats(p->snap)->ndocs, df);
        n->df = df;
    }
    *out = n;
    return FMT_OK;
}

static int add_snip(struct q_plan *p, const char *term, size_t len, int prefix,
                    struct fmt_err *err)
{
    struct q_snip_term t = {term, len, prefix};
    if (fmt_buf_append(&p->snip, &t, sizeof(t)) != FMT_OK)
        return oom(err);
    return FMT_OK;
}

/* TERM or PHRASE of the analyzed text of a word or quoted leaf; NULL when no term. */
static int plan_words(struct q_plan *p, const struct q_node *q, int neg, struct pnode **out,
                      struct fmt_err *err)
{
    struct scope sc = scope_of(q->field);
    struct tok_list l;
    int rc;
    *out = NULL;
    if (q->field == Q_FIELD_SOURCE) {
        const char *name;
        size_t len;
        rc = fold_source(p, q->text, q->len, &name, &len, err);
        if (rc != FMT_OK || len == 0)
            return rc;
        return make_term(p, &sc, name, len, neg, out, err);
    }
    rc = analyze(p, q->text, q->len, 0, &l, err);
    size_t n = ntoks(&l);
    const struct tok *t = toks(&l);
    if (rc == FMT_OK && n == 1)
        rc = make_term(p, &sc, t[0].term, t[0].len, neg, out, err);
    if (rc == FMT_OK && n > 1) {
        struct pnode *ph = new_node(p, PK_PHRASE, n);
        if (!ph || !(ph->offs = q_arena_alloc(&p->mem, n * sizeof(uint32_t))))
            rc = oom(err);
        for (size_t i = 0; rc == FMT_OK && i < n; i++) {
            ph->offs[i] = t[i].pos - t[0].pos;
            rc = make_term(p, &sc, t[i].term, t[i].len, neg, &ph->kids[i], err);
        }
        if (rc == FMT_OK) {
            ph->nkids = n;
            ph->pfields = sc.fields;
            *out = ph;
        }
    }
    for (size_t i = 0; rc == FMT_OK && !neg && sc.ns == FMT_NS_TEXT && i < n; i++)
        rc = add_snip(p, t[i].term, t[i].len, 0, err);
    fmt_buf_release(&l.toks);
    return rc;
}

/* ---- Prefix expansion ------------------------------------------------------------- */

struct expansion {
    struct q_plan *p;
    struct fmt_buf terms; /* struct tok[] (pos unused), sorted and unique between segments */
    size_t in_seg;        /* terms added by the current segment's walk */
    int rc;
};

static int on_prefix_term(void *ctx, const char *term, size_t len,
                          const struct fmt_term_info *ti)
{
    struct expansion *e = ctx;
    struct tok t = {NULL, len, 0};
    (void)ti;
    if (++e->in_seg > Q_PLAN_MAX_PREFIX)
        return 1; /* this segment alone has too many */
    t.term = q_arena_strndup(&e->p->mem, term, len);
    if (!t.term || fmt_buf_append(&e->terms, &t, sizeof(t)) != FMT_OK) {
        e->rc = FMT_ENOMEM;
        return 1;
    }
    return 0;
}

static int cmp_tok(const void *x, const void *y)
{
    const struct tok *a = x, *b = y;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->term, b->term, n);
    if (c != 0)
        return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

static size_t sort_unique(struct fmt_buf *b)
{
    struct tok *t = (struct tok *)(void *)b->p;
    size_t n = b->len / sizeof(*t), m = 0;
    if (n > 1)
        qsort(t, n, sizeof(*t), cmp_tok);
    for (size_t i = 0; i < n; i++)
        if (m == 0 || cmp_tok(&t[m - 1], &t[i]) != 0)
            t[m++] = t[i];
    b->len = m * sizeof(*t);
    return m;
}

static int too_broad(struct q_plan *p, const struct q_node *q, struct fmt_err *err)
{
    if (p->err_col)
        *p->err_col = q->col;
    return fmt_errorf(err, FMT_EINVAL,
                      "prefix \"%s*\" is too broad (matches more than %d terms; type more "
                      "letters) at column %zu",
                      q->text, Q_PLAN_MAX_PREFIX, q->col);
}

/* The synonym group of a prefix's N expansions (OR->kids): one virtual term whose idf
 * comes from the sum of the expansions' global dfs, capped at N articles (an upper bound
 * of the union's df, exact when no article holds two expansions). Every expansion then
 * shares that idf and the label "prefix*", so a rare expansion ("electrodes" for elect*)
 * cannot outrank the common ones by its own high idf, and a doc holding several
 * expansions scores their summed tf once (Xapian's OP_SYNONYM for wildcards). */
static int make_synonym(struct q_plan *p, struct pnode *or, const struct scope *sc,
                        const char *prefix, size_t plen, int neg, struct fmt_err *err)
{
    uint64_t ndocs = fmt_snapshot_stats(p->snap)->ndocs, sum = 0;
    size_t llen = strlen(sc->label) + plen + 2;
    char *label = q_arena_alloc(&p->mem, llen);
    if (!label)
        return oom(err);
    snprintf(label, llen, "%s%.*s*", sc->label, (int)plen, prefix);
    or->syn = 1;
    or->w.fields = sc->fields;
    or->w.label = label;
    or->w.scoring = !neg && sc->ns == FMT_NS_TEXT;
    for (size_t i = 0; i < or->nkids; i++)
        sum += or->kids[i]->df;
    or->df = sum < ndocs ? sum : ndocs;
    or->w.idf = or->w.scoring ? q_bm25_idf(ndocs, or->df) : 0.0;
    for (size_t i = 0; i < or->nkids; i++)
        or->kids[i]->w = or->w;
    return FMT_OK;
}

/* Synonym OR of every term of namespace SC->ns starting with PREFIX, over all segments. */
static int expand(struct q_plan *p, const struct q_node *q, const struct scope *sc,
                  const char *prefix, size_t plen, int neg, struct pnode **out,
                  struct fmt_err *err)
{
    struct expansion e = {p, {NULL, 0, 0}, 0, FMT_OK};
    struct pnode *or = NULL;
    size_t n = 0;
    int rc = FMT_OK;
    for (size_t i = 0; rc == FMT_OK && i < fmt_snapshot_nsegs(p->snap); i++) {
        e.in_seg = 0;
        rc = fmt_seg_prefix(fmt_snapshot_seg(p->snap, i), sc->ns, prefix, plen, on_prefix_term,
                            &e, err);
        if (e.rc != FMT_OK)
            rc = oom(err);
        else if (rc > 0 || (rc == FMT_OK && (n = sort_unique(&e.terms)) > Q_PLAN_MAX_PREFIX))
            rc = too_broad(p, q, err);
    }
    if (rc == FMT_OK && !(or = new_node(p, PK_OR, n)))
        rc = oom(err);
    for (size_t i = 0; rc == FMT_OK && i < n; i++) {
        const struct tok *t = (const struct tok *)(const void *)e.terms.p + i;
        rc = make_term(p, sc, t->term, t->len, neg, &or->kids[i], err);
    }
    if (rc == FMT_OK) {
        or->nkids = n; /* an OR of nothing matches nothing (it is not dropped) */
        rc = make_synonym(p, or, sc, prefix, plen, neg, err);
    }
    if (rc == FMT_OK)
        *out = or;
    fmt_buf_release(&e.terms);
    return rc;
}

/* A prefix leaf: the last word of the unstemmed analysis is the prefix (stems are mostly
 * prefixes of their words, so "sanction*" finds "sanction", "sanctions" -> "sanction");
 * any earlier words of the leaf ("U.S.-le*") are required as plain terms. */
static int plan_prefix(struct q_plan *p, const struct q_node *q, int neg, struct pnode **out,
                       struct fmt_err *err)
{
    struct scope sc = scope_of(q->field);
    struct tok_list u, s;
    struct pnode *and = NULL, *px = NULL;
    int rc;
    *out = NULL;
    if (q->field == Q_FIELD_SOURCE) {
        const char *name;
        size_t len;
        rc = fold_source(p, q->text, q->len, &name, &len, err);
        if (rc != FMT_OK || len == 0)
            return rc;
        return expand(p, q, &sc, name, len, neg, out, err);
    }
    rc = analyze(p, q->text, q->len, 1, &u, err);
    if (rc != FMT_OK)
        return rc;
    rc = analyze(p, q->text, q->len, 0, &s, err);
    size_t n = ntoks(&u);
    if (rc == FMT_OK && n > 0) {
        const struct tok *last = &toks(&u)[n - 1];
        rc = expand(p, q, &sc, last->term, last->len, neg, &px, err);
        if (rc == FMT_OK && !neg && sc.ns == FMT_NS_TEXT)
            rc = add_snip(p, last->term, last->len, 1, err);
    }
    if (rc == FMT_OK && n > 1 && ntoks(&s) == n) {
        if (!(and = new_node(p, PK_AND, n)))
            rc = oom(err);
        for (size_t i = 0; rc == FMT_OK && i + 1 < n; i++) {
            const struct tok *t = &toks(&s)[i];
            rc = make_term(p, &sc, t->term, t->len, neg, &and->kids[i], err);
            if (rc == FMT_OK && !neg && sc.ns == FMT_NS_TEXT)
                rc = add_snip(p, t->term, t->len, 0, err);
        }
        if (rc == FMT_OK) {
            and->kids[n - 1] = px;
            and->nkids = n;
            px = and;
        }
    }
    if (rc == FMT_OK)
        *out = px;
    fmt_buf_release(&u.toks);
    fmt_buf_release(&s.toks);
    return rc;
}

/* ---- Operators -------------------------------------------------------------------- */

static int plan_node(struct q_plan *p, const struct q_node *q, int neg, struct pnode **out,
                     struct fmt_err *err);

static int plan_and(struct q_plan *p, const struct q_node *q, int neg, struct pnode **out,
                    struct fmt_err *err)
{
    struct pnode *n = new_node(p, PK_AND, q->nkids);
    int rc = FMT_OK;
    *out = NULL;
    if (!n || !(n->excl = q_arena_alloc(&p->mem, q->nkids * sizeof(*n->excl))))
        return oom(err);
    for (size_t i = 0; i < q->nkids && rc == FMT_OK; i++) {
        struct pnode *k;
        rc = plan_node(p, q->kids[i], neg, &k, err);
        if (rc != FMT_OK || !k)
            continue;
        if (k->kind == PK_NOT)
            n->excl[n->nexcl++] = k->kids[0];
        else
            n->kids[n->nkids++] = k;
    }
    if (rc != FMT_OK || n->nkids + n->nexcl == 0)
        return rc;
    if (n->nkids == 0) { /* only exclusions: everything but them */
        struct pnode *all = new_node(p, PK_ALL, 0);
        if (!all)
            return oom(err);
        n->kids[n->nkids++] = all;
    }
    *out = n->nkids == 1 && n->nexcl == 0 ? n->kids[0] : n;
    return FMT_OK;
}

static int plan_or(struct q_plan *p, const struct q_node *q, int neg, struct pnode **out,
                   struct fmt_err *err)
{
    struct pnode *n = new_node(p, PK_OR, q->nkids);
    int rc = FMT_OK;
    *out = NULL;
    if (!n)
        return oom(err);
    for (size_t i = 0; i < q->nkids && rc == FMT_OK; i++) {
        struct pnode *k;
        rc = plan_node(p, q->kids[i], neg, &k, err);
        if (rc == FMT_OK && k)
            n->kids[n->nkids++] = k;
    }
    if (rc == FMT_OK && n->nkids > 0)
        *out = n->nkids == 1 ? n->kids[0] : n;
    return rc;
}

static int plan_node(struct q_plan *p, const struct q_node *q, int neg, struct pnode **out,
                     struct fmt_err *err)
{
    struct pnode *n;
    int rc;
    *out = NULL;
    switch (q->kind) {
    case Q_TERM:
    case Q_PHRASE:
        return plan_words(p, q, neg, out, err);
    case Q_PREFIX:
        return plan_prefix(p, q, neg, out, err);
    case Q_AND:
        return plan_and(p, q, neg, out, err);
    case Q_OR:
        return plan_or(p, q, neg, out, err);
    case Q_NOT:
        rc = plan_node(p, q->kids[0], 1, out, err);
        if (rc != FMT_OK || !*out)
            return rc;
        if (!(n = new_node(p, PK_NOT, 1)))
            return oom(err);
        n->kids[0] = *out;
        n->nkids = 1;
        *out = n;
        return FMT_OK;
    case Q_DATE:
        if (!(n = new_node(p, PK_DATE, 0)))
            return oom(err);
        n->lo = q->lo;
        n->hi = q->hi;
        *out = n;
        return FMT_OK;
    }
    return FMT_OK;
}

/* The --since/--until/--source filters ANDed onto ROOT. */
static int add_filters(struct q_plan *p, const struct q_plan_opts *o, struct fmt_err *err)
{
    struct pnode *and = new_node(p, PK_AND, 3), *src = NULL;
    struct scope sc = scope_of(Q_FIELD_SOURCE);
    int rc = FMT_OK;
    if (!and)
        return oom(err);
    and->kids[and->nkids++] = p->root;
    if (o->since != Q_DATE_MIN || o->until != Q_DATE_MAX) {
        struct pnode *d = new_node(p, PK_DATE, 0);
        if (!d)
            return oom(err);
        d->lo = o->since;
        d->hi = o->until;
        and->kids[and->nkids++] = d;
    }
    if (o->nsources > 0) {
        if (!(src = new_node(p, PK_OR, o->nsources)))
            return oom(err);
        for (size_t i = 0; rc == FMT_OK && i < o->nsources; i++) {
            const char *name;
            size_t len;
            rc = fold_source(p, o->sources[i], strlen(o->sources[i]), &name, &len, err);
            if (rc == FMT_OK)
                rc = make_term(p, &sc, name, len, 1, &src->kids[src->nkids++], err);
        }
        and->kids[and->nkids++] = src;
    }
    if (rc == FMT_OK && and->nkids > 1)
        p->root = and;
    return rc;
}

void q_plan_free(struct q_plan *p)
{
    if (!p)
        return;
    fmt_buf_release(&p->snip);
    q_arena_release(&p->mem);
    free(p);
}

int q_plan_new(struct q_plan **out, const struct q_node *root, const struct fmt_snapshot *snap,
               struct fmt_analyzer *an, const struct q_plan_opts *o, size_t *err_col,
               struct fmt_err *err)
{
    const struct fmt_index_stats *st = fmt_snapshot_stats(snap);
    struct q_plan *p = calloc(1, sizeof(*p));
    int filtered = o->since != Q_DATE_MIN || o->until != Q_DATE_MAX || o->nsources > 0;
    int rc;
    *out = NULL;
    if (err_col)
        *err_col = 0;
    if (!p)
        return oom(err);
    q_arena_init(&p->mem);
    fmt_buf_init(&p->snip);
    p->snap = snap;
    p->an = an;
    p->err_col = err_col;
    p->half_life = o->half_life;
    p->now = o->now;
    q_bm25_init(&p->bm, &o->bm25, st->avg_len[0], st->avg_len[1]);
    if (q_node_is_negative_only(root) && !filtered) {
        rc = fmt_errorf(err, FMT_EINVAL, "query only excludes words: add a word to search "
                                         "for, or a --since, --until or --source filter");
        goto fail;
    }
    rc = plan_node(p, root, 0, &p->root, err);
    if (rc == FMT_OK && !p->root)
        rc = fmt_errorf(err, FMT_EINVAL, "query has no searchable words");
    if (rc == FMT_OK)
        rc = add_filters(p, o, err);
    if (rc != FMT_OK)
        goto fail;
    p->err_col = NULL;
    *out = p;
    return FMT_OK;
fail:
    q_plan_free(p);
    return rc;
}

/* ---- Evaluation ------------------------------------------------------------------- */

/* Iterators of N over segment SI (SEG). */
static int bind(const struct pnode *n, size_t si, const struct fmt_seg *seg, struct q_iters *s,
                struct q_iter **out, struct fmt_err *err)
{
    struct q_iter **kids = NULL, **excl = NULL;
    int rc = FMT_OK;
    switch (n->kind) {
    case PK_TERM:
        if (!n->ti)
            return q_iter_term(s, seg, n->ns, n->term, n->len, n->require, &n->w, out, err);
        if (n->ti[si].df == 0)
            return q_iter_empty(s, out, err);
        return q_iter_term_info(s, seg, &n->ti[si], n->require, &n->w, out, err);
    case PK_DATE:
        return q_iter_date(s, seg, n->lo, n->hi, out, err);
    case PK_ALL:
        return q_iter_all(s, seg, out, err);
    default:
        break;
    }
    kids = q_arena_alloc(&s->mem, (n->nkids + 1) * sizeof(*kids));
    excl = q_arena_alloc(&s->mem, (n->nexcl + 1) * sizeof(*excl));
    if (!kids || !excl)
        return oom(err);
    for (size_t i = 0; rc == FMT_OK && i < n->nkids; i++)
        rc = bind(n->kids[i], si, seg, s, &kids[i], err);
    for (size_t i = 0; rc == FMT_OK && i < n->nexcl; i++)
        rc = bind(n->excl[i], si, seg, s, &excl[i], err);
    if (rc != FMT_OK)
        return rc;
    switch (n->kind) {
    case PK_PHRASE:
        return q_iter_phrase(s, kids, n->offs, n->nkids, n->pfields, out, err);
    case PK_AND:
        return q_iter_and(s, kids, n->nkids, excl, n->nexcl, out, err);
    case PK_OR:
        if (n->syn)
            return q_iter_synonym(s, kids, n->nkids, &n->w, out, err);
        return q_iter_or(s, kids, n->nkids, out, err);
    case PK_NOT: {
        struct q_iter *all;
        rc = q_iter_all(s, seg, &all, err);
        if (rc != FMT_OK)
            return rc;
        return q_iter_and(s, &all, 1, kids, 1, out, err);
    }
    default:
        return q_iter_empty(s, out, err);
    }
}

double q_plan_decay(const struct q_plan *p, int64_t ts)
{
    double age;
    if (p->half_life <= 0.0)
        return 1.0;
    if (ts == FMT_NO_TIME)
        return 0.0;
    age = ts >= p->now ? 0.0 : (double)p->now - (double)ts;
    return exp2(-age / p->half_life);
}

/* One kid of the pruned walk and its bound over the current range. */
struct pkid {
    double ub;
    struct q_iter *it;
    size_t qi; /* query order */
};

static int cmp_pkid(const void *x, const void *y)
{
    const struct pkid *a = x, *b = y;
    if (a->ub != b->ub)
        return a->ub < b->ub ? -1 : 1;
    return (a->qi > b->qi) - (a->qi < b->qi);
}

/* Score live doc D of segment I (KIDS: the N clauses whose sum is the root's score, in
 * query order, as q_iter_score sums them) and offer it to TOPK. Once TOPK is full, a doc
 * whose column-free bound (q_iter_score_ub) is no better than the worst kept hit is passed
 * over unscored: docs come in global id order, so it would lose even a tie. Without
 * --recency the timestamp (another column) is read only for a doc that enters. */
static void offer(struct q_plan *p, size_t i, struct q_iter *const *kids, size_t n, uint32_t d,
                  struct q_topk *topk, uint64_t *count)
{
    const struct fmt_seg *seg = fmt_snapshot_seg(p->snap, i);
    struct q_hit h = {0.0, fmt_snapshot_base(p->snap, i) + d, 0}, worst;
    int full;
    if (fmt_snapshot_deleted(p->snap, i, d))
        return;
    ++*count;
    full = q_topk_threshold(topk, &worst);
    if (full && n == 1) {
        if (!q_iter_may_exceed(kids[0], d, worst.score, &p->bm))
            return;
    } else if (full) {
        double ub = 0.0;
        size_t on = 0, last = 0;
        for (size_t q = 0; q < n; q++)
            if (kids[q]->doc == d) {
                on++;
                last = q;
            }
        if (on == 1) { /* a doc of one clause: its own test, often without a division */
            if (!q_iter_may_exceed(kids[last], d, worst.score, &p->bm))
                return;
        } else {
            for (size_t q = 0; q < n; q++)
                if (kids[q]->doc == d)
                    ub += q_iter_score_ub(kids[q], d, &p->bm);
            if (ub * (1.0 + 1e-9) <= worst.score)
                return;
        }
    }
    for (size_t q = 0; q < n; q++)
        if (kids[q]->doc == d)
            h.score += q_iter_score(kids[q], d, &p->bm, NULL, NULL);
    if (p->half_life <= 0.0 && full && !q_hit_better(&h, &worst, topk->sort))
        return; /* relevance order: the score and doc id decide, not the time */
    h.ts = fmt_seg_timestamp(seg, d);
    h.score *= q_plan_decay(p, h.ts);
    q_topk_push(topk, &h);
}

/* Block-max MaxScore over ROOT of segment I (relevance order, top-k only). A lone term
 * walks with q_iter_advance_above against the threshold instead. The "kids" are
 * the clauses of a plain OR root, else ROOT alone. For the doc range [target, end] where
 * every kid's block bound holds (q_iter_bound), kids sorted by bound are split: the
 * lowest ones whose bounds sum to at most the top-k threshold are non-essential (a doc
 * only they match cannot enter) and never drive; candidates are the next doc of the
 * essential kids; a range with no essential kid is skipped whole. Candidates are scored
 * exactly as q_iter_score does (kids on the doc, in query order), so hits are unchanged. */
static int run_pruned(struct q_plan *p, size_t i, struct q_iters *s, struct q_iter *root,
                      struct q_topk *topk, uint64_t *count, struct fmt_err *err)
{
    struct q_iter **kids = &root, **order;
    size_t n = 1, ness = 0;
    struct pkid *k;
    uint32_t target = 0, end = 0;
    int have_range = 0, rc = FMT_OK;
    double nonsum = 0.0;
    if (root->kind == Q_IT_TERM) { /* one term: its advance skips what cannot enter */
        while (rc == FMT_OK) {
            struct q_hit worst;
            if (q_topk_threshold(topk, &worst))
                rc = q_iter_advance_above(root, target, FMT_DOC_END, worst.score, 0.0,
                                          &p->bm, err);
            else
                rc = q_iter_advance(root, target, err);
            if (rc != FMT_OK || root->doc == FMT_DOC_END)
                break;
            offer(p, i, &root, 1, root->doc, topk, count);
            target = root->doc + 1;
        }
        return rc;
    }
    if (root->kind == Q_IT_OR && !root->syn) {
        kids = root->kids;
        n = root->nkids;
    }
    k = q_arena_alloc(&s->mem, n * sizeof(*k));
    order = q_arena_alloc(&s->mem, n * sizeof(*order));
    if (!k || !order)
        return fmt_errorf(err, FMT_ENOMEM, "query: out of memory");
    for (size_t j = 0; j < n; j++) {
        k[j].it = kids[j];
        k[j].qi = j;
        k[j].ub = 0.0;
    }
    while (rc == FMT_OK && target != FMT_DOC_END) {
        struct q_hit worst;
        uint32_t d = FMT_DOC_END;
        if (q_topk_threshold(topk, &worst)) {
            if (n == 1 && (root->kind == Q_IT_AND || root->kind == Q_IT_PHRASE)) {
                root->floor_bm = &p->bm; /* its advance skips docs scoring <= worst */
                root->floor = worst.score;
            }
            if (!have_range || target > end) {
                end = FMT_DOC_END;
                for (size_t j = 0; j < n && rc == FMT_OK; j++) {
                    uint32_t u;
                    rc = q_iter_bound(k[j].it, target, &p->bm, &k[j].ub, &u, err);
                    if (u < end)
                        end = u;
                }
                if (rc != FMT_OK)
                    break;
                if (n > 1)
                    qsort(k, n, sizeof(*k), cmp_pkid);
                have_range = 1;
            }
            nonsum = 0.0;
            for (ness = 0; ness < n; ness++) { /* the margin covers rounding in the sums */
                if ((nonsum + k[ness].ub) * (1.0 + 1e-9) > worst.score)
                    break;
                nonsum += k[ness].ub;
            }
            if (ness == n) { /* nothing in [target, end] can enter */
                target = end == FMT_DOC_END ? FMT_DOC_END : end + 1;
                continue;
            }
        } else {
            ness = 0;
            nonsum = 0.0;
            have_range = 0;
        }
        for (size_t j = 0; j < n && rc == FMT_OK; j++) {
            order[j] = k[j].it; /* the non-essential kids, then the essential ones */
            if (j >= ness)
                rc = q_iter_advance(k[j].it, target, err);
        }
        if (rc == FMT_OK && have_range && n > 1) /* docs of one clause that cannot enter */
            rc = q_iter_pass_alone(order + ness, n - ness, order, ness, end, worst.score,
                                   &p->bm, err);
        else if (rc == FMT_OK && have_range) /* of one expansion of a prefix */
            rc = q_iter_pass_alone_syn(root, end, worst.score, &p->bm, err);
        if (rc != FMT_OK)
            break;
        for (size_t j = ness; j < n; j++)
            if (order[j]->doc < d)
                d = order[j]->doc;
        if (ness > 0 && have_range && d > end) { /* only non-essential kids in range */
            target = end + 1;
            continue;
        }
        if (d == FMT_DOC_END)
            break;
        for (size_t j = 0; j < ness && rc == FMT_OK; j++)
            rc = q_iter_advance(k[j].it, d, err);
        if (rc != FMT_OK)
            break;
        target = d + 1;
        offer(p, i, kids, n, d, topk, count);
        /* one essential clause: the rest of its range is scored without re-planning */
        while (n == 1 && have_range && target <= end && rc == FMT_OK) {
            rc = q_iter_advance(root, target, err);
            if (rc == FMT_OK && q_topk_threshold(topk, &worst)) /* the floor rose */
                rc = q_iter_pass_alone_syn(root, end, worst.score, &p->bm, err);
            d = root->doc;
            if (rc != FMT_OK || d > end)
                break; /* d == FMT_DOC_END > end too, unless end is FMT_DOC_END */
            if (d == FMT_DOC_END) {
                target = FMT_DOC_END;
                break;
            }
            target = d + 1;
            offer(p, i, kids, n, d, topk, count);
        }
    }
    return rc;
}

int q_plan_run(struct q_plan *p, const struct q_run *r, uint64_t *count, struct fmt_err *err)
{
    int rc = FMT_OK;
    int score = r->topk || r->score;
    *count = 0;
    for (size_t i = 0; rc == FMT_OK && i < fmt_snapshot_nsegs(p->snap); i++) {
        const struct fmt_seg *seg = fmt_snapshot_seg(p->snap, i);
        uint64_t base = fmt_snapshot_base(p->snap, i);
        struct q_iters s;
        struct q_iter *root;
        q_iters_init(&s);
        rc = bind(p->root, i, seg, &s, &root, err);
        if (rc == FMT_OK && r->prune && r->topk && !r->fn && r->topk->k > 0 &&
            r->topk->sort == Q_SORT_RELEVANCE) {
            rc = run_pruned(p, i, &s, root, r->topk, count, err);
            q_iters_release(&s);
            continue;
        }
        if (rc == FMT_OK)
            rc = q_iter_advance(root, 0, err);
        while (rc == FMT_OK && root->doc != FMT_DOC_END) {
            uint32_t doc = root->doc;
            if (!fmt_snapshot_deleted(p->snap, i, doc)) {
                struct q_hit h = {0.0, base + doc, fmt_seg_timestamp(seg, doc)};
                ++*count;
                if (score)
                    h.score = q_iter_score(root, doc, &p->bm, NULL, NULL) * q_plan_decay(p, h.ts);
                if (r->topk)
                    q_topk_push(r->topk, &h);
                if (r->fn && (rc = r->fn(r->ctx, seg, doc, &h, err)) != FMT_OK)
                    break;
            }
            rc = q_iter_advance(root, doc + 1, err);
        }
        q_iters_release(&s);
    }
    return rc;
}

int q_plan_search(struct q_plan *p, struct q_topk *topk, uint64_t *count, struct fmt_err *err)
{
    struct q_run r = {topk, NULL, NULL, 0, 0};
    return q_plan_run(p, &r, count, err);
}

int q_plan_locate(const struct fmt_snapshot *snap, uint64_t gdoc, size_t *seg, uint32_t *doc)
{
    size_t lo = 0, hi = fmt_snapshot_nsegs(snap);
    while (lo < hi) { /* last segment whose base <= gdoc */
        size_t mid = lo + (hi - lo) / 2;
        if (fmt_snapshot_base(snap, mid) <= gdoc)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return FMT_ENOTFOUND;
    uint64_t local = gdoc - fmt_snapshot_base(snap, lo - 1);
    if (local >= fmt_seg_stats(fmt_snapshot_seg(snap, lo - 1))->ndocs)
        return FMT_ENOTFOUND;
    *seg = lo - 1;
    *doc = (uint32_t)local;
    return FMT_OK;
}

int q_plan_explain(struct q_plan *p, uint64_t gdoc, q_explain_fn fn, void *ctx, double *score,
                   struct fmt_err *err)
{
    struct q_iters s;
    struct q_iter *root;
    size_t i;
    uint32_t doc;
    int rc;
    *score = 0.0;
    if (q_plan_locate(p->snap, gdoc, &i, &doc) != FMT_OK)
        return FMT_ENOTFOUND;
    q_iters_init(&s);
    rc = bind(p->root, i, fmt_snapshot_seg(p->snap, i), &s, &root, err);
    if (rc == FMT_OK)
        rc = q_iter_advance(root, doc, err);
    if (rc == FMT_OK && (root->doc != doc || fmt_snapshot_deleted(p->snap, i, doc)))
        rc = FMT_ENOTFOUND;
    if (rc == FMT_OK)
        *score = q_iter_score(root, doc, &p->bm, fn, ctx);
    q_iters_release(&s);
    return rc;
}

const struct q_snip_term *q_plan_snip_terms(const struct q_plan *p, size_t *n)
{
    *n = p->snip.len / sizeof(struct q_snip_term);
    return (const struct q_snip_term *)(const void *)p->snip.p;
}

const struct q_bm25 *q_plan_bm25(const struct q_plan *p)
{
    return &p->bm;
}
