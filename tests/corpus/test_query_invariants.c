/* test_query_invariants.c - the query language against brute force on the real corpora.
 *
 * Extends test_differential.c (same naive side: every article analyzed a second time into
 * token arrays) to the constructs of docs/QUERY.md that test does not cover: field scopes
 * (title:, body:, source:), NOT and -word, nested groups, prefixes (with the synonym score
 * of plan.c), date ranges, and the --since/--until/--source filters. BBC articles get a
 * "BBC News" source and synthetic 2005 dates (one in 20 undated) so that sources and dates
 * vary; Reuters keeps its own. Random query trees are printed as query text, answered by
 * the index, and evaluated naively on the token arrays: the sets must be equal. Then the
 * invariants a reader relies on: title:x hits have x in the title, filtered hits lie in
 * the range, date sorts are ordered, -word hits lack the word, explain adds up.
 * Skips when ../shared/corpora is absent. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer.h"
#include "arena.h"
#include "input.h"
#include "parse.h"
#include "plan.h"
#include "snapshot.h"
#include "topk.h"
#include "writer.h"

#define NQUERIES 400

/* ---- naive side: term ids and token arrays --------------------------------------------- */

struct naive_doc {
    uint32_t *tok[2]; /* term ids of title and body tokens, in order */
    uint32_t len[2];
    char *words;      /* plain query-safe words of the body, '\n'-separated, in order, with
                         '\t' marking a gap (a word that was not query-safe) */
    int64_t ts;       /* timestamp or FMT_NO_TIME */
    int bbc;          /* source "BBC News" (else Reuters) */
};

struct naive {
    char **terms;      /* id -> term */
    uint32_t *table;   /* open addressing: id + 1 */
    size_t nterms, cap, table_cap;
    struct naive_doc *docs;
    size_t ndocs, docs_cap;
    struct fmt_analyzer *an;
    /* scratch while analyzing one field */
    uint32_t *cur;
    size_t ncur, cur_cap;
};

static uint32_t hash_str(const char *s, size_t n)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static uint32_t term_id(struct naive *nv, const char *s, size_t n, int insert)
{
    size_t slot;

    if (nv->nterms * 2 >= nv->table_cap) {
        size_t cap = nv->table_cap ? nv->table_cap * 2 : 1 << 16;
        uint32_t *t = calloc(cap, sizeof(*t));
        assert_non_null(t);
        for (size_t i = 0; i < nv->nterms; i++) {
            slot = hash_str(nv->terms[i], strlen(nv->terms[i])) & (cap - 1);
            while (t[slot])
                slot = (slot + 1) & (cap - 1);
            t[slot] = (uint32_t)i + 1;
        }
        free(nv->table);
        nv->table = t;
        nv->table_cap = cap;
    }
    slot = hash_str(s, n) & (nv->table_cap - 1);
    while (nv->table[slot]) {
        const char *t = nv->terms[nv->table[slot] - 1];
        if (strlen(t) == n && !memcmp(t, s, n))
            return nv->table[slot] - 1;
        slot = (slot + 1) & (nv->table_cap - 1);
    }
    if (!insert)
        return UINT32_MAX;
    if (nv->nterms == nv->cap) {
        nv->cap = nv->cap ? nv->cap * 2 : 1024;
        nv->terms = realloc(nv->terms, nv->cap * sizeof(*nv->terms));
        assert_non_null(nv->terms);
    }
    nv->terms[nv->nterms] = strndup(s, n);
    nv->table[slot] = (uint32_t)nv->nterms + 1;
    return (uint32_t)nv->nterms++;
}

static int on_naive_token(void *ctx, const struct fmt_token *tok)
{
    struct naive *nv = ctx;

    if (tok->len > 255)
        return 0; /* the index drops such terms too (FMT_MAX_TERM) */
    if (nv->ncur == nv->cur_cap) {
        nv->cur_cap = nv->cur_cap ? nv->cur_cap * 2 : 256;
        nv->cur = realloc(nv->cur, nv->cur_cap * sizeof(*nv->cur));
        assert_non_null(nv->cur);
    }
    nv->cur[nv->ncur++] = term_id(nv, tok->term, tok->len, 1);
    return 0;
}

/* Query-safe words of the body: ASCII letters and digits only, not an operator. */
struct words_ctx {
    const char *text;
    char *out;
    size_t len, cap;
};

static int on_word(void *ctx, const struct fmt_token *tok)
{
    struct words_ctx *w = ctx;
    size_t n = tok->end - tok->start;
    int safe = n > 0 && n < 40;

    for (size_t i = 0; i < n && safe; i++) {
        char c = w->text[tok->start + i];
        safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    }
    if (safe && (!strncmp(w->text + tok->start, "OR", n) || !strncmp(w->text + tok->start, "AND", n) ||
                 !strncmp(w->text + tok->start, "NOT", n)))
        safe = 0;
    if (w->len + n + 2 >= w->cap) {
        w->cap = (w->cap + n + 2) * 2;
        w->out = realloc(w->out, w->cap);
        assert_non_null(w->out);
    }
    if (safe) {
        memcpy(w->out + w->len, w->text + tok->start, n);
        w->len += n;
    } else {
        w->out[w->len++] = '\t';
    }
    w->out[w->len++] = '\n';
    w->out[w->len] = 0;
    return 0;
}

static void naive_add(struct naive *nv, const struct fmt_article *a)
{
    struct naive_doc *d;
    const char *f[2] = {a->title, a->body};
    struct words_ctx w = {a->body, NULL, 0, 0};

    if (nv->ndocs == nv->docs_cap) {
        nv->docs_cap = nv->docs_cap ? nv->docs_cap * 2 : 1024;
        nv->docs = realloc(nv->docs, nv->docs_cap * sizeof(*nv->docs));
        assert_non_null(nv->docs);
    }
    d = &nv->docs[nv->ndocs++];
    for (int k = 0; k < 2; k++) {
        nv->ncur = 0;
        assert_int_equal(fmt_analyze(nv->an, f[k], strlen(f[k]), on_naive_token, nv), 0);
        d->len[k] = (uint32_t)nv->ncur;
        d->tok[k] = malloc((nv->ncur ? nv->ncur : 1) * sizeof(uint32_t));
        memcpy(d->tok[k], nv->cur, nv->ncur * sizeof(uint32_t));
    }
    assert_int_equal(fmt_analyze_unstemmed(nv->an, a->body, strlen(a->body), on_word, &w), 0);
    d->words = w.out ? w.out : strdup("");
    d->ts = a->timestamp;
    d->bbc = !strcmp(a->source, "BBC News");
}

static void naive_free(struct naive *nv)
{
    for (size_t i = 0; i < nv->ndocs; i++) {
        free(nv->docs[i].tok[0]);
        free(nv->docs[i].tok[1]);
        free(nv->docs[i].words);
    }
    for (size_t i = 0; i < nv->nterms; i++)
        free(nv->terms[i]);
    free(nv->terms);
    free(nv->table);
    free(nv->docs);
    free(nv->cur);
}


/* ---- loading: BBC with a source and synthetic dates, Reuters as it is ------------------ */

struct load_ctx {
    struct naive *nv;
    struct idx_writer *w;
    int bbc;
};

static int on_article(void *ctx, struct fmt_article *a)
{
    struct load_ctx *c = ctx;
    enum idx_add_outcome outcome;
    struct fmt_err err;
    int rc;

    if (c->bbc) {
        uint32_t h = hash_str(a->id, strlen(a->id));
        fmt_article_set(&a->source, "BBC News", 8);
        /* 2005-01-01 plus up to 400 days; one in 20 undated */
        a->timestamp = h % 20 == 0 ? FMT_NO_TIME
                                   : 1104537600 + (int64_t)(h % 400) * 86400 + (h >> 9) % 86400;
    }
    rc = idx_writer_add(c->w, a, &outcome, &err);
    if (rc == FMT_OK) {
        assert_int_equal(outcome, IDX_ADDED);
        if (c->nv)
            naive_add(c->nv, a);
    } else {
        assert_int_equal(rc, FMT_EINVAL);
    }
    fmt_article_release(a);
    return 0;
}

static void on_skip(void *ctx, const char *file, size_t line, const char *reason)
{
    (void)ctx;
    (void)file;
    (void)line;
    (void)reason;
}

static const char *corpus_root(char *buf, size_t cap)
{
    const char *root = getenv("NEWSIDX_ROOT");
    struct stat st;

    snprintf(buf, cap, "%s/../shared/corpora/bbc", root ? root : ".");
    return stat(buf, &st) == 0 ? buf : NULL;
}

static void build_index(const char *dir, struct naive *nv)
{
    struct idx_writer_opts wo;
    struct idx_input_opts in;
    struct load_ctx c;
    struct fmt_err err;
    char bbc[4096];
    const char *jsonl = getenv("NEWSIDX_REUTERS_JSONL");

    idx_writer_opts_default(&wo);
    wo.mem_budget = (size_t)4 << 20; /* several segments */
    wo.keep_duplicates = 1;
    idx_input_opts_default(&in);
    in.timestamp = 0;
    assert_int_equal(idx_writer_open(&c.w, dir, &wo, &err), FMT_OK);
    c.nv = nv;
    c.bbc = 1;
    assert_non_null(corpus_root(bbc, sizeof(bbc)));
    assert_int_equal(idx_input_add_path(bbc, &in, on_article, on_skip, &c, &err), FMT_OK);
    c.bbc = 0;
    if (jsonl && *jsonl)
        assert_int_equal(idx_input_add_path(jsonl, &in, on_article, on_skip, &c, &err), FMT_OK);
    assert_int_equal(idx_writer_commit(c.w, &err), FMT_OK);
    idx_writer_close(c.w);
}

/* ---- random query trees ----------------------------------------------------------------- */

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

enum nk { N_TERM, N_PHRASE, N_PREFIX, N_SOURCE, N_DATE, N_AND, N_OR, N_NOT };

struct nnode {
    enum nk kind;
    unsigned fields;        /* TERM/PHRASE/PREFIX: 1 title, 2 body, 3 both */
    uint32_t terms[4];      /* TERM: terms[0]; PHRASE: nterms */
    size_t nterms;
    char *prefix_mark;      /* PREFIX: per term id, 1 when the term starts with the prefix */
    int bbc;                /* SOURCE */
    int64_t lo, hi;         /* DATE */
    struct nnode *kids[3];
    size_t nkids;
};

struct gen {
    struct naive *nv;
    struct nnode pool[64];
    size_t npool;
    char text[1024];
    size_t len;
    int has_prefix;
};

static void put(struct gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct gen *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(g->text + g->len, sizeof(g->text) - g->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        g->len += (size_t)n < sizeof(g->text) - g->len ? (size_t)n : sizeof(g->text) - g->len - 1;
}

static size_t count_words(const char *words)
{
    size_t n = 0;
    for (const char *p = words; *p; p++)
        n += *p == '\n';
    return n;
}

static int word_at(const char *words, size_t i, const char **s, size_t *n)
{
    const char *p = words;
    for (size_t k = 0; k < i; k++) {
        p = strchr(p, '\n');
        if (!p)
            return 0;
        p++;
    }
    if (!*p || *p == '\t')
        return 0;
    *s = p;
    *n = (size_t)(strchr(p, '\n') - p);
    return 1;
}

struct single_ctx {
    struct naive *nv;
    uint32_t id;
    size_t n;
};

static int on_single(void *ctx, const struct fmt_token *tok)
{
    struct single_ctx *c = ctx;
    c->id = term_id(c->nv, tok->term, tok->len, 0);
    c->n++;
    return 0;
}

static uint32_t analyze_word(struct naive *nv, const char *s, size_t n, int unstemmed)
{
    struct single_ctx c = {nv, UINT32_MAX, 0};
    if (unstemmed)
        fmt_analyze_unstemmed(nv->an, s, n, on_single, &c);
    else
        fmt_analyze(nv->an, s, n, on_single, &c);
    return c.n == 1 ? c.id : UINT32_MAX;
}

/* A random query-safe word of a random doc (D, when not NULL, picks the doc). */
static int pick_word(struct gen *g, const struct naive_doc *d, const char **s, size_t *n)
{
    size_t nw;
    if (!d)
        d = &g->nv->docs[rnd() % g->nv->ndocs];
    nw = count_words(d->words);
    return nw > 0 && word_at(d->words, rnd() % nw, s, n);
}

static struct nnode *new_nnode(struct gen *g, enum nk kind)
{
    struct nnode *n;
    if (g->npool == sizeof(g->pool) / sizeof(g->pool[0]))
        return NULL;
    n = &g->pool[g->npool++];
    memset(n, 0, sizeof(*n));
    n->kind = kind;
    n->fields = 3;
    return n;
}

static const char *field_prefix(unsigned fields)
{
    return fields == 1 ? "title:" : fields == 2 ? "body:" : "";
}

/* Dates in YYYY-MM-DD or YYYY-MM, from the Reuters months or the synthetic BBC year. */
static void random_date(char *buf, size_t cap)
{
    if (rnd() % 2)
        snprintf(buf, cap, "1987-%02d-%02d", 2 + (int)(rnd() % 9), 1 + (int)(rnd() % 28));
    else if (rnd() % 2)
        snprintf(buf, cap, "2005-%02d", 1 + (int)(rnd() % 12));
    else
        snprintf(buf, cap, "2005-%02d-%02d", 1 + (int)(rnd() % 12), 1 + (int)(rnd() % 28));
}

static int64_t date_of(const char *s, int upper)
{
    struct fmt_err err;
    int64_t t;
    assert_int_equal(q_date_parse(s, 0, upper, &t, &err), FMT_OK);
    return t;
}

static struct nnode *gen_leaf(struct gen *g, const struct naive_doc *d)
{
    unsigned r = (unsigned)(rnd() % 100);
    const char *s;
    size_t n;
    struct nnode *x;
    if (r < 8) { /* source */
        if (!(x = new_nnode(g, N_SOURCE)))
            return NULL;
        x->bbc = rnd() % 2;
        put(g, "%s", x->bbc ? (rnd() % 2 ? "source:\"BBC News\"" : "source:\"bbc NEWS\"")
                             : (rnd() % 2 ? "source:reuters" : "source:Reuters"));
        return x;
    }
    if (r < 18) { /* date range */
        char a[16], b[16];
        if (!(x = new_nnode(g, N_DATE)))
            return NULL;
        random_date(a, sizeof(a));
        random_date(b, sizeof(b));
        switch (rnd() % 4) {
        case 0:
            if (strcmp(a, b) > 0) {
                char t[16];
                memcpy(t, a, sizeof(t));
                memcpy(a, b, sizeof(a));
                memcpy(b, t, sizeof(b));
            }
            x->lo = date_of(a, 0);
            x->hi = date_of(b, 1);
            if (x->lo > x->hi)
                x->hi = x->lo; /* 2005-03..2005-03-01 style: keep it valid */
            put(g, "date:%s..%s", a, x->hi == x->lo ? a : b);
            if (x->hi == x->lo)
                x->hi = date_of(a, 1);
            break;
        case 1:
            x->lo = date_of(a, 0);
            x->hi = Q_DATE_MAX;
            put(g, "date:>=%s", a);
            break;
        case 2:
            x->lo = Q_DATE_MIN;
            x->hi = date_of(a, 0) - 1;
            put(g, "date:<%s", a);
            break;
        default:
            x->lo = date_of(a, 0);
            x->hi = date_of(a, 1);
            put(g, "date:%s", a);
        }
        return x;
    }
    if (r < 36) { /* prefix of 4+ letters */
        uint32_t id;
        if (!pick_word(g, d, &s, &n) || n < 5 || (id = analyze_word(g->nv, s, n, 1)) ==
                                                     UINT32_MAX)
            return NULL;
        if (!(x = new_nnode(g, N_PREFIX)))
            return NULL;
        size_t plen = 4 + rnd() % (n - 4 < 3 ? n - 4 : 3);
        char p[64];
        if (plen > sizeof(p) - 1)
            return NULL;
        /* the unstemmed, folded prefix: lowercase ASCII of the word */
        for (size_t i = 0; i < plen; i++)
            p[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
        p[plen] = 0;
        x->fields = rnd() % 4 == 0 ? 1 : 3;
        x->prefix_mark = calloc(g->nv->nterms, 1);
        assert_non_null(x->prefix_mark);
        for (size_t t = 0; t < g->nv->nterms; t++)
            x->prefix_mark[t] = !strncmp(g->nv->terms[t], p, plen);
        put(g, "%s%.*s*", field_prefix(x->fields), (int)plen, s);
        g->has_prefix = 1;
        return x;
    }
    if (r < 45) { /* phrase of 2-3 consecutive words */
        const struct naive_doc *pd = &g->nv->docs[rnd() % g->nv->ndocs];
        size_t nw = count_words(pd->words), want = 2 + rnd() % 2, start;
        if (nw < want)
            return NULL;
        if (!(x = new_nnode(g, N_PHRASE)))
            return NULL;
        x->fields = rnd() % 5 == 0 ? 2 : 3;
        start = rnd() % (nw - want + 1);
        put(g, "%s\"", field_prefix(x->fields));
        for (size_t k = 0; k < want; k++) {
            if (!word_at(pd->words, start + k, &s, &n) ||
                (x->terms[k] = analyze_word(g->nv, s, n, 0)) == UINT32_MAX)
                return NULL;
            put(g, "%s%.*s", k ? " " : "", (int)n, s);
        }
        x->nterms = want;
        put(g, "\"");
        return x;
    }
    if (!pick_word(g, d, &s, &n) || !(x = new_nnode(g, N_TERM)))
        return NULL;
    if ((x->terms[0] = analyze_word(g->nv, s, n, 0)) == UINT32_MAX)
        return NULL;
    x->nterms = 1;
    r = (unsigned)(rnd() % 10);
    x->fields = r < 2 ? 1 : r < 3 ? 2 : 3;
    put(g, "%s%.*s", field_prefix(x->fields), (int)n, s);
    return x;
}

/* A random tree of depth <= DEPTH; D is a doc the leaves prefer (so ANDs meet). */
static struct nnode *gen_node(struct gen *g, int depth, const struct naive_doc *d)
{
    unsigned r = (unsigned)(rnd() % 100);
    struct nnode *x;
    if (depth == 0 || r < 35)
        return gen_leaf(g, rnd() % 3 ? d : NULL);
    x = new_nnode(g, r < 70 ? N_AND : N_OR);
    if (!x)
        return NULL;
    x->nkids = 2 + rnd() % 2;
    put(g, "(");
    for (size_t k = 0; k < x->nkids; k++) {
        int neg = x->kind == N_AND && k > 0 && rnd() % 3 == 0;
        if (k > 0)
            put(g, "%s", x->kind == N_OR ? " OR " : rnd() % 2 ? " AND " : " ");
        if (neg) {
            struct nnode *nn = new_nnode(g, N_NOT);
            if (!nn)
                return NULL;
            put(g, "%s", rnd() % 2 ? "-" : "NOT ");
            nn->nkids = 1;
            if (!(nn->kids[0] = gen_node(g, depth - 1, NULL)))
                return NULL;
            x->kids[k] = nn;
        } else if (!(x->kids[k] = gen_node(g, depth - 1, d))) {
            return NULL;
        }
    }
    put(g, ")");
    return x;
}

static void gen_free(struct gen *g)
{
    for (size_t i = 0; i < g->npool; i++)
        free(g->pool[i].prefix_mark);
    g->npool = 0;
}

/* ---- naive evaluation ------------------------------------------------------------------ */

static uint32_t tf_in(const struct naive_doc *d, int f, uint32_t t)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < d->len[f]; i++)
        n += d->tok[f][i] == t;
    return n;
}

static int phrase_in(const struct naive_doc *d, int f, const struct nnode *x)
{
    for (uint32_t i = 0; i + x->nterms <= d->len[f]; i++) {
        size_t k = 0;
        while (k < x->nterms && d->tok[f][i + k] == x->terms[k])
            k++;
        if (k == x->nterms)
            return 1;
    }
    return 0;
}

static int naive_eval(const struct naive_doc *d, const struct nnode *x)
{
    switch (x->kind) {
    case N_TERM:
        for (int f = 0; f < 2; f++)
            if ((x->fields >> f & 1u) && tf_in(d, f, x->terms[0]) > 0)
                return 1;
        return 0;
    case N_PHRASE:
        for (int f = 0; f < 2; f++)
            if ((x->fields >> f & 1u) && phrase_in(d, f, x))
                return 1;
        return 0;
    case N_PREFIX:
        for (int f = 0; f < 2; f++)
            if (x->fields >> f & 1u)
                for (uint32_t i = 0; i < d->len[f]; i++)
                    if (x->prefix_mark[d->tok[f][i]])
                        return 1;
        return 0;
    case N_SOURCE:
        return d->bbc == x->bbc;
    case N_DATE:
        return d->ts != FMT_NO_TIME && d->ts >= x->lo && d->ts <= x->hi;
    case N_AND:
        for (size_t k = 0; k < x->nkids; k++)
            if (!naive_eval(d, x->kids[k]))
                return 0;
        return 1;
    case N_OR:
        for (size_t k = 0; k < x->nkids; k++)
            if (naive_eval(d, x->kids[k]))
                return 1;
        return 0;
    case N_NOT:
        return !naive_eval(d, x->kids[0]);
    }
    return 0;
}

/* ---- the index side ---------------------------------------------------------------------- */

struct engine {
    struct fmt_snapshot *snap;
    struct fmt_analyzer *an;
};

static void engine_open(struct engine *e, const char *dir)
{
    struct fmt_err err;
    assert_int_equal(fmt_snapshot_open(&e->snap, dir, &err), FMT_OK);
    assert_int_equal(fmt_analyzer_new(&e->an, fmt_snapshot_analyzer(e->snap), &err), FMT_OK);
}

static void engine_close(struct engine *e)
{
    fmt_analyzer_free(e->an);
    fmt_snapshot_close(e->snap);
}

/* Plan TEXT with O (NULL: defaults). FMT_OK with *plan, or the planner's error. */
static int engine_plan(struct engine *e, struct q_arena *mem, const char *text,
                       const struct q_plan_opts *o, struct q_plan **plan, struct fmt_err *err)
{
    struct q_parse_opts po = {0, 0};
    struct q_plan_opts def;
    struct q_node *root;
    size_t col;
    int rc;
    q_plan_opts_default(&def);
    rc = q_parse(text, &po, mem, &root, &col, err);
    if (rc != FMT_OK)
        fail_msg("query %s: %s", text, err->msg);
    return q_plan_new(plan, root, e->snap, e->an, o ? o : &def, &col, err);
}

/* All hits of TEXT in SORT order (k = every doc); returns the count, or SIZE_MAX when the
 * planner refuses the query (too broad a prefix, exclusion only). */
static size_t engine_search(struct engine *e, const char *text, const struct q_plan_opts *o,
                            enum q_sort sort, size_t k, struct q_topk *topk,
                            const struct q_hit **hits)
{
    struct q_arena mem;
    struct q_plan *plan;
    struct fmt_err err;
    uint64_t count = 0;
    int rc;
    q_arena_init(&mem);
    rc = engine_plan(e, &mem, text, o, &plan, &err);
    if (rc == FMT_EINVAL) {
        q_arena_release(&mem);
        return SIZE_MAX;
    }
    if (rc != FMT_OK)
        fail_msg("query %s: %s", text, err.msg);
    assert_int_equal(q_topk_init(topk, k, sort, &err), FMT_OK);
    assert_int_equal(q_plan_search(plan, topk, &count, &err), FMT_OK);
    *hits = q_topk_finish(topk);
    q_plan_free(plan);
    q_arena_release(&mem);
    return (size_t)count;
}

/* ---- the tests ------------------------------------------------------------------------- */

struct world {
    struct naive nv;
    char dir[64];
    struct engine e;
};

static struct world *W;

static int setup_world(void **state)
{
    char bbc[4096];
    struct fmt_err err;
    (void)state;
    if (!corpus_root(bbc, sizeof(bbc)))
        return 0;
    W = calloc(1, sizeof(*W));
    assert_non_null(W);
    assert_int_equal(fmt_analyzer_new(&W->nv.an, NULL, &err), FMT_OK);
    snprintf(W->dir, sizeof(W->dir), "/tmp/nx-qinv-XXXXXX");
    assert_non_null(mkdtemp(W->dir));
    build_index(W->dir, &W->nv);
    engine_open(&W->e, W->dir);
    return 0;
}

static int teardown_world(void **state)
{
    char cmd[128];
    (void)state;
    if (!W)
        return 0;
    engine_close(&W->e);
    fmt_analyzer_free(W->nv.an);
    naive_free(&W->nv);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", W->dir);
    assert_int_equal(system(cmd), 0);
    free(W);
    W = NULL;
    return 0;
}

static void test_random_query_trees_match_brute_force(void **state)
{
    struct naive *nv;
    char *expect;
    int checked = 0, with_hits = 0, with_prefix = 0, refused = 0;
    (void)state;
    if (!W)
        skip();
    nv = &W->nv;
    assert_int_equal(fmt_snapshot_stats(W->e.snap)->ndocs, nv->ndocs);
    assert_true(fmt_snapshot_nsegs(W->e.snap) >= 3);
    expect = calloc(nv->ndocs, 1);
    assert_non_null(expect);
    while (checked < NQUERIES) {
        struct gen g;
        struct nnode *root;
        struct q_topk tk;
        const struct q_hit *hits;
        size_t nexpect = 0, n;
        memset(&g, 0, sizeof(g));
        g.nv = nv;
        root = gen_node(&g, 3, &nv->docs[rnd() % nv->ndocs]);
        if (!root || g.len + 2 >= sizeof(g.text)) {
            gen_free(&g);
            continue;
        }
        for (size_t d = 0; d < nv->ndocs; d++) {
            expect[d] = (char)naive_eval(&nv->docs[d], root);
            nexpect += (size_t)expect[d];
        }
        n = engine_search(&W->e, g.text, NULL, Q_SORT_RELEVANCE, nv->ndocs, &tk, &hits);
        if (n == SIZE_MAX) { /* refused: exclusion-only or too broad a prefix */
            refused++;
            gen_free(&g);
            continue;
        }
        if (n != nexpect)
            fail_msg("query %s: index %zu hits, naive %zu", g.text, n, nexpect);
        for (size_t i = 0; i < n; i++) {
            if (hits[i].doc >= nv->ndocs || !expect[hits[i].doc])
                fail_msg("query %s: doc %llu should not match", g.text,
                         (unsigned long long)hits[i].doc);
            expect[hits[i].doc] = 0;
            if (i > 0 && !q_hit_better(&hits[i - 1], &hits[i], Q_SORT_RELEVANCE))
                fail_msg("query %s: ranks %zu and %zu out of order", g.text, i - 1, i);
        }
        q_topk_release(&tk);
        with_hits += n > 0;
        with_prefix += g.has_prefix;
        checked++;
        gen_free(&g);
    }
    free(expect);
    print_message("%d queries, %d with hits, %d with a prefix, %d refused\n", checked,
                  with_hits, with_prefix, refused);
    assert_true(with_hits >= NQUERIES / 4);
    assert_true(with_prefix >= NQUERIES / 20);
}

/* Top K of TEXT through q_plan_run with or without dynamic pruning, into HITS (k slots);
 * returns how many, or SIZE_MAX when refused. */
static size_t run_topk_opts(const char *text, const struct q_plan_opts *o, size_t k, int prune,
                            struct q_hit *out)
{
    struct q_arena mem;
    struct q_plan *plan;
    struct q_topk tk;
    struct fmt_err err;
    uint64_t count = 0;
    size_t n;
    int rc;
    q_arena_init(&mem);
    rc = engine_plan(&W->e, &mem, text, o, &plan, &err);
    if (rc == FMT_EINVAL) {
        q_arena_release(&mem);
        return SIZE_MAX;
    }
    if (rc != FMT_OK)
        fail_msg("query %s: %s", text, err.msg);
    assert_int_equal(q_topk_init(&tk, k, Q_SORT_RELEVANCE, &err), FMT_OK);
    {
        struct q_run r = {&tk, NULL, NULL, 1, prune};
        assert_int_equal(q_plan_run(plan, &r, &count, &err), FMT_OK);
    }
    n = tk.n;
    memcpy(out, q_topk_finish(&tk), n * sizeof(*out));
    assert_true(count >= n);
    q_topk_release(&tk);
    q_plan_free(plan);
    q_arena_release(&mem);
    return n;
}

static size_t run_topk(const char *text, size_t k, int prune, struct q_hit *out)
{
    return run_topk_opts(text, NULL, k, prune, out);
}

/* Dynamic pruning (block-max MaxScore) skips matches that cannot enter the top k: the
 * kept hits, their order and their scores are exactly those of the full evaluation, for
 * frequent words (many 128-doc blocks), ORs of rare and frequent words, prefixes,
 * phrases, fields, and random query trees, at k = 1, 3 and 10. */
static const char *const fixed[] = {
    "the", "said", "the OR chess", "market OR film OR election", "year OR the OR of",
    "\"of the\"", "\"prime minister\"", "oil price", "title:oil OR body:market",
    "elect*", "govern* OR the", "oil OR (market price)", "the -said", "film OR music",
    "the OR a OR to OR in OR and", "minist* year", "title:market OR said"};

static void test_pruned_top_k_equals_exhaustive_top_k(void **state)
{
    static const size_t ks[] = {1, 3, 10};
    struct q_hit a[10], b[10];
    int checked = 0, pruned_fewer = 0;
    (void)state;
    if (!W)
        skip();
    for (size_t q = 0; q < sizeof(fixed) / sizeof(*fixed) + 200; q++) {
        struct gen g;
        const char *text;
        memset(&g, 0, sizeof(g));
        g.nv = &W->nv;
        if (q < sizeof(fixed) / sizeof(*fixed)) {
            text = fixed[q];
        } else {
            struct nnode *root = gen_node(&g, 3, &W->nv.docs[rnd() % W->nv.ndocs]);
            if (!root || g.len + 2 >= sizeof(g.text)) {
                gen_free(&g);
                continue;
            }
            text = g.text;
        }
        for (size_t j = 0; j < sizeof(ks) / sizeof(*ks); j++) {
            size_t na = run_topk(text, ks[j], 0, a), nb;
            if (na == SIZE_MAX)
                break;
            nb = run_topk(text, ks[j], 1, b);
            if (na != nb)
                fail_msg("query %s, k %zu: %zu hits exhaustive, %zu pruned", text, ks[j], na,
                         nb);
            for (size_t i = 0; i < na; i++)
                if (a[i].doc != b[i].doc || a[i].score != b[i].score)
                    fail_msg("query %s, k %zu, rank %zu: doc %llu (%.17g) exhaustive, "
                             "%llu (%.17g) pruned", text, ks[j], i + 1,
                             (unsigned long long)a[i].doc, a[i].score,
                             (unsigned long long)b[i].doc, b[i].score);
            checked++;
        }
        gen_free(&g);
    }
    /* pruning must actually skip matches on some of the fixed queries */
    for (size_t q = 0; q < sizeof(fixed) / sizeof(*fixed); q++) {
        struct q_arena mem;
        struct q_plan *plan;
        struct q_topk tk;
        struct fmt_err err;
        uint64_t all = 0, scored = 0;
        q_arena_init(&mem);
        if (engine_plan(&W->e, &mem, fixed[q], NULL, &plan, &err) != FMT_OK) {
            q_arena_release(&mem);
            continue;
        }
        for (int prune = 0; prune < 2; prune++) {
            struct q_run r = {&tk, NULL, NULL, 1, prune};
            assert_int_equal(q_topk_init(&tk, 10, Q_SORT_RELEVANCE, &err), FMT_OK);
            assert_int_equal(q_plan_run(plan, &r, prune ? &scored : &all, &err), FMT_OK);
            q_topk_release(&tk);
        }
        pruned_fewer += scored < all;
        q_plan_free(plan);
        q_arena_release(&mem);
    }
    print_message("%d (query, k) pairs compared; pruning skipped matches in %d of %zu fixed "
                  "queries\n", checked, pruned_fewer, sizeof(fixed) / sizeof(*fixed));
    assert_true(checked >= 300);
    assert_true(pruned_fewer >= 3);
}

/* The same with the length normalization at its ends (b = 1: a field of length 0 has norm
 * 0; b = 0: none), where the pruning's division-free tests must still never pass over a
 * hit. */
static void test_pruned_equals_exhaustive_at_extreme_b(void **state)
{
    static const double bs[] = {0.0, 1.0};
    static const size_t ks[] = {1, 10};
    struct q_hit a[10], b[10];
    (void)state;
    if (!W)
        skip();
    for (size_t bi = 0; bi < sizeof(bs) / sizeof(*bs); bi++) {
        struct q_plan_opts o;
        q_plan_opts_default(&o);
        o.bm25.b = bs[bi];
        for (size_t q = 0; q < sizeof(fixed) / sizeof(*fixed); q++)
            for (size_t j = 0; j < sizeof(ks) / sizeof(*ks); j++) {
                size_t na = run_topk_opts(fixed[q], &o, ks[j], 0, a), nb;
                if (na == SIZE_MAX)
                    break;
                nb = run_topk_opts(fixed[q], &o, ks[j], 1, b);
                assert_int_equal(na, nb);
                for (size_t i = 0; i < na; i++)
                    if (a[i].doc != b[i].doc || a[i].score != b[i].score)
                        fail_msg("query %s, b %g, k %zu, rank %zu: doc %llu exhaustive, %llu "
                                 "pruned", fixed[q], bs[bi], ks[j], i + 1,
                                 (unsigned long long)a[i].doc, (unsigned long long)b[i].doc);
            }
    }
}

/* A prefix alone scores as one term: idf of min(N, sum of the expansions' df) times the
 * saturated tf summed over expansions (plan.c). */
static void test_prefix_scores_as_one_synonym_term(void **state)
{
    const char *prefixes[] = {"elect", "sanction", "oil", "minist", "footb"};
    struct naive *nv;
    (void)state;
    if (!W)
        skip();
    nv = &W->nv;
    double avg[2] = {0, 0};
    for (size_t d = 0; d < nv->ndocs; d++)
        for (int f = 0; f < 2; f++)
            avg[f] += nv->docs[d].len[f];
    avg[0] /= (double)nv->ndocs;
    avg[1] /= (double)nv->ndocs;
    for (size_t q = 0; q < sizeof(prefixes) / sizeof(prefixes[0]); q++) {
        char text[64], *mark = calloc(nv->nterms, 1);
        uint64_t sum = 0;
        struct q_topk tk;
        const struct q_hit *hits;
        size_t plen = strlen(prefixes[q]), n, nexp = 0;
        assert_non_null(mark);
        for (size_t t = 0; t < nv->nterms; t++)
            mark[t] = !strncmp(nv->terms[t], prefixes[q], plen);
        for (size_t d = 0; d < nv->ndocs; d++) {
            char *seen = NULL;
            for (int f = 0; f < 2; f++)
                for (uint32_t i = 0; i < nv->docs[d].len[f]; i++) {
                    uint32_t t = nv->docs[d].tok[f][i];
                    if (!mark[t] || mark[t] == 2)
                        continue;
                    if (!seen)
                        seen = calloc(nv->nterms, 1);
                    if (!seen[t]) {
                        seen[t] = 1;
                        sum++; /* df of term t counts this doc once */
                    }
                }
            free(seen);
        }
        snprintf(text, sizeof(text), "%s*", prefixes[q]);
        n = engine_search(&W->e, text, NULL, Q_SORT_RELEVANCE, nv->ndocs, &tk, &hits);
        assert_true(n != SIZE_MAX && n > 0);
        double N = (double)nv->ndocs, df = fmin((double)sum, N);
        double idf = log(1 + (N - df + 0.5) / (df + 0.5));
        for (size_t i = 0; i < n; i++) {
            const struct naive_doc *d = &nv->docs[hits[i].doc];
            double tfn = 0;
            for (int f = 0; f < 2; f++) {
                uint32_t tf = 0;
                for (uint32_t k = 0; k < d->len[f]; k++)
                    tf += mark[d->tok[f][k]] != 0;
                tfn += (f ? 1.0 : 2.0) * tf / (1 - 0.75 + 0.75 * d->len[f] / avg[f]);
            }
            double want = idf * tfn / (1.2 + tfn);
            if (fabs(want - hits[i].score) > 1e-6 * fmax(want, 1.0))
                fail_msg("%s doc %llu: score %.9g, naive %.9g", text,
                         (unsigned long long)hits[i].doc, hits[i].score, want);
            nexp++;
        }
        assert_int_equal(nexp, n);
        q_topk_release(&tk);
        free(mark);
    }
    { /* "s*" has thousands of expansions: refused with a message naming the prefix */
        struct q_arena mem;
        struct q_plan *plan = NULL;
        struct fmt_err err;
        q_arena_init(&mem);
        assert_int_equal(engine_plan(&W->e, &mem, "nato s*", NULL, &plan, &err), FMT_EINVAL);
        assert_non_null(strstr(err.msg, "prefix \"s*\" is too broad"));
        assert_non_null(strstr(err.msg, "at column 6"));
        q_arena_release(&mem);
    }
}

/* A random single word of a random doc, as query text; its term id in *id. */
static int random_word(char *buf, size_t cap, uint32_t *id)
{
    const struct naive_doc *d = &W->nv.docs[rnd() % W->nv.ndocs];
    size_t nw = count_words(d->words), n;
    const char *s;
    if (nw == 0 || !word_at(d->words, rnd() % nw, &s, &n) || n + 1 > cap)
        return 0;
    if ((*id = analyze_word(&W->nv, s, n, 0)) == UINT32_MAX)
        return 0;
    snprintf(buf, cap, "%.*s", (int)n, s);
    return 1;
}

static void test_title_hits_have_the_word_in_the_title(void **state)
{
    int checked = 0;
    (void)state;
    if (!W)
        skip();
    while (checked < 50) {
        char w[64], text[80];
        uint32_t id;
        struct q_topk tk;
        const struct q_hit *hits;
        if (!random_word(w, sizeof(w), &id))
            continue;
        snprintf(text, sizeof(text), "title:%s", w);
        size_t n = engine_search(&W->e, text, NULL, Q_SORT_RELEVANCE, 1000, &tk, &hits);
        for (size_t i = 0; i < tk.n; i++)
            if (tf_in(&W->nv.docs[hits[i].doc], 0, id) == 0)
                fail_msg("%s: doc %llu lacks it in the title", text,
                         (unsigned long long)hits[i].doc);
        (void)n;
        q_topk_release(&tk);
        checked++;
    }
}

static void test_excluded_word_never_in_hits(void **state)
{
    int checked = 0;
    (void)state;
    if (!W)
        skip();
    while (checked < 50) {
        char a[64], b[64], text[160];
        uint32_t ida, idb;
        struct q_topk tk;
        const struct q_hit *hits;
        if (!random_word(a, sizeof(a), &ida) || !random_word(b, sizeof(b), &idb) || ida == idb)
            continue;
        snprintf(text, sizeof(text), "%s -%s", a, b);
        engine_search(&W->e, text, NULL, Q_SORT_RELEVANCE, W->nv.ndocs, &tk, &hits);
        for (size_t i = 0; i < tk.n; i++) {
            const struct naive_doc *d = &W->nv.docs[hits[i].doc];
            if (tf_in(d, 0, idb) + tf_in(d, 1, idb) > 0 || tf_in(d, 0, ida) + tf_in(d, 1, ida) == 0)
                fail_msg("%s: doc %llu", text, (unsigned long long)hits[i].doc);
        }
        q_topk_release(&tk);
        checked++;
    }
}

static void test_since_until_and_source_filters_hold(void **state)
{
    const char *words[] = {"oil", "price", "government", "market", "film"};
    (void)state;
    if (!W)
        skip();
    for (size_t q = 0; q < 40; q++) {
        char a[16], b[16];
        struct q_plan_opts o;
        struct q_topk tk;
        const struct q_hit *hits;
        const char *src = "BBC News";
        random_date(a, sizeof(a));
        random_date(b, sizeof(b));
        q_plan_opts_default(&o);
        o.since = date_of(strcmp(a, b) < 0 ? a : b, 0);
        o.until = date_of(strcmp(a, b) < 0 ? b : a, 1);
        if (q % 3 == 0) {
            o.sources = &src;
            o.nsources = 1;
        }
        size_t n = engine_search(&W->e, words[q % 5], &o, Q_SORT_RELEVANCE, W->nv.ndocs, &tk,
                                 &hits);
        size_t want = 0;
        for (size_t d = 0; d < W->nv.ndocs; d++) {
            const struct naive_doc *nd = &W->nv.docs[d];
            uint32_t id = analyze_word(&W->nv, words[q % 5], strlen(words[q % 5]), 0);
            want += nd->ts != FMT_NO_TIME && nd->ts >= o.since && nd->ts <= o.until &&
                    (!o.nsources || nd->bbc) && tf_in(nd, 0, id) + tf_in(nd, 1, id) > 0;
        }
        assert_int_equal(n, want);
        for (size_t i = 0; i < tk.n; i++) {
            const struct naive_doc *d = &W->nv.docs[hits[i].doc];
            assert_true(d->ts != FMT_NO_TIME && d->ts >= o.since && d->ts <= o.until);
            assert_int_equal(hits[i].ts, d->ts);
            if (o.nsources)
                assert_true(d->bbc);
        }
        q_topk_release(&tk);
    }
}

static void test_date_sorts_are_ordered_with_undated_last(void **state)
{
    const char *queries[] = {"oil", "film OR music", "title:bank*", "market -price"};
    (void)state;
    if (!W)
        skip();
    for (size_t q = 0; q < sizeof(queries) / sizeof(queries[0]); q++)
        for (int asc = 0; asc < 2; asc++) {
            struct q_topk tk;
            const struct q_hit *hits;
            enum q_sort sort = asc ? Q_SORT_DATE_ASC : Q_SORT_DATE;
            size_t n = engine_search(&W->e, queries[q], NULL, sort, W->nv.ndocs, &tk, &hits);
            assert_true(n > 0 && n != SIZE_MAX);
            int undated_seen = 0;
            for (size_t i = 0; i < tk.n; i++) {
                if (hits[i].ts == FMT_NO_TIME) {
                    undated_seen = 1;
                    continue;
                }
                assert_false(undated_seen); /* undated last */
                if (i > 0 && hits[i - 1].ts != FMT_NO_TIME)
                    assert_true(asc ? hits[i - 1].ts <= hits[i].ts
                                    : hits[i - 1].ts >= hits[i].ts);
                if (i > 0 && hits[i - 1].ts == hits[i].ts)
                    assert_true(hits[i - 1].doc < hits[i].doc);
            }
            q_topk_release(&tk);
        }
}

struct sum_ctx {
    double sum;
    size_t n;
};

static void on_explain(void *ctx, const struct q_explain_term *t)
{
    struct sum_ctx *c = ctx;
    c->sum += t->contrib;
    c->n++;
}

static void test_explain_shares_add_up_to_the_score(void **state)
{
    const char *queries[] = {"oil prices", "elect* -football", "title:(bank OR banks) rate",
                             "\"interest rates\" OR inflation", "opec (price* OR output)",
                             "source:reuters OR title:(coffee OR film)", "film award*", "u.s. dollar"};
    (void)state;
    if (!W)
        skip();
    for (size_t q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
        struct q_arena mem;
        struct q_plan *plan;
        struct fmt_err err;
        struct q_topk tk;
        uint64_t count;
        q_arena_init(&mem);
        assert_int_equal(engine_plan(&W->e, &mem, queries[q], NULL, &plan, &err), FMT_OK);
        assert_int_equal(q_topk_init(&tk, 30, Q_SORT_RELEVANCE, &err), FMT_OK);
        assert_int_equal(q_plan_search(plan, &tk, &count, &err), FMT_OK);
        const struct q_hit *hits = q_topk_finish(&tk);
        if (tk.n == 0)
            fail_msg("%s: no hits", queries[q]);
        for (size_t i = 0; i < tk.n; i++) {
            struct sum_ctx c = {0, 0};
            double score;
            assert_int_equal(q_plan_explain(plan, hits[i].doc, on_explain, &c, &score, &err),
                             FMT_OK);
            assert_true(c.n > 0);
            assert_true(fabs(c.sum - hits[i].score) <= 1e-6);
            assert_true(fabs(score - hits[i].score) <= 1e-6);
        }
        q_topk_release(&tk);
        q_plan_free(plan);
        q_arena_release(&mem);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_query_trees_match_brute_force),
        cmocka_unit_test(test_prefix_scores_as_one_synonym_term),
        cmocka_unit_test(test_pruned_top_k_equals_exhaustive_top_k),
        cmocka_unit_test(test_pruned_equals_exhaustive_at_extreme_b),
        cmocka_unit_test(test_title_hits_have_the_word_in_the_title),
        cmocka_unit_test(test_excluded_word_never_in_hits),
        cmocka_unit_test(test_since_until_and_source_filters_hold),
        cmocka_unit_test(test_date_sorts_are_ordered_with_undated_last),
        cmocka_unit_test(test_explain_shares_add_up_to_the_score),
    };
    return cmocka_run_group_tests(tests, setup_world, teardown_world);
}
