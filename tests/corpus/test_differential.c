/* test_differential.c - the index against brute force on the real corpora.
 *
 * Every article of BBC (saved pages) and Reuters (JSON Lines made by reuters2jsonl; the
 * test runner puts its path in $NEWSIDX_REUTERS_JSONL) is analyzed a second time into
 * plain token arrays. Random queries (words, AND, OR, phrases of 2-4 words drawn from real
 * articles) are answered by the index through the query library and by a naive scan of
 * those arrays; the matching sets must be equal and every score must equal a naive BM25F
 * (docs/DESIGN.md) to 1e-6 relative. The same runs over an index split into many segments.
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

#define NQUERIES 220

/* ---- naive side: term ids and token arrays --------------------------------------------- */

struct naive_doc {
    uint32_t *tok[2]; /* term ids of title and body tokens, in order */
    uint32_t len[2];
    char *words;      /* plain query-safe words of the body, '\n'-separated, in order, with
                         '\t' marking a gap (a word that was not query-safe) */
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

/* ---- loading the corpora into both sides ---------------------------------------------- */

struct load_ctx {
    struct naive *nv;
    struct idx_writer *w;
};

static int on_article(void *ctx, struct fmt_article *a)
{
    struct load_ctx *c = ctx;
    enum idx_add_outcome outcome;
    struct fmt_err err;
    int rc = idx_writer_add(c->w, a, &outcome, &err);

    if (rc == FMT_OK) {
        assert_int_equal(outcome, IDX_ADDED);
        naive_add(c->nv, a);
    } else {
        assert_int_equal(rc, FMT_EINVAL); /* an article the index refuses: not in either */
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

/* Build an index of both corpora in DIR with BUDGET bytes of builder memory; fill NV when
 * not NULL (the naive side is the same for every split). */
static void build_index(const char *dir, size_t budget, struct naive *nv)
{
    struct idx_writer_opts wo;
    struct idx_input_opts in;
    struct load_ctx c;
    struct fmt_err err;
    struct naive scratch;
    char bbc[4096];
    const char *jsonl = getenv("NEWSIDX_REUTERS_JSONL");

    memset(&scratch, 0, sizeof(scratch));
    idx_writer_opts_default(&wo);
    wo.mem_budget = budget;
    wo.keep_duplicates = 1;
    idx_input_opts_default(&in);
    in.timestamp = 0;
    assert_int_equal(idx_writer_open(&c.w, dir, &wo, &err), FMT_OK);
    if (!nv) {
        scratch.an = NULL;
        nv = &scratch;
        assert_int_equal(fmt_analyzer_new(&nv->an, NULL, &err), FMT_OK);
    }
    c.nv = nv;
    assert_non_null(corpus_root(bbc, sizeof(bbc)));
    assert_int_equal(idx_input_add_path(bbc, &in, on_article, on_skip, &c, &err), FMT_OK);
    if (jsonl && *jsonl)
        assert_int_equal(idx_input_add_path(jsonl, &in, on_article, on_skip, &c, &err), FMT_OK);
    assert_int_equal(idx_writer_commit(c.w, &err), FMT_OK);
    idx_writer_close(c.w);
    if (nv == &scratch) {
        fmt_analyzer_free(scratch.an);
        naive_free(&scratch);
    }
}

/* ---- queries ----------------------------------------------------------------------------- */

enum qkind { QK_WORD, QK_AND2, QK_AND3, QK_OR2, QK_OR3, QK_PHRASE };

struct query {
    char text[512];
    enum qkind kind;
    uint32_t terms[4]; /* analyzed term ids */
    size_t nterms;
};

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* The I-th line of WORDS (or NULL when it is a gap or out of range). */
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

static size_t count_words(const char *words)
{
    size_t n = 0;

    for (const char *p = words; *p; p++)
        n += *p == '\n';
    return n;
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

/* Analyze one query word: its single term id, or UINT32_MAX when it is not one term. */
static uint32_t analyze_word(struct naive *nv, const char *s, size_t n)
{
    struct single_ctx c = {nv, UINT32_MAX, 0};

    fmt_analyze(nv->an, s, n, on_single, &c);
    return c.n == 1 ? c.id : UINT32_MAX;
}

static int make_query(struct naive *nv, struct query *q)
{
    static const enum qkind kinds[] = {QK_WORD, QK_AND2, QK_AND3, QK_OR2, QK_OR3, QK_PHRASE,
                                       QK_PHRASE};
    size_t want, len = 0;
    const struct naive_doc *d = NULL;

    q->kind = kinds[rnd() % (sizeof(kinds) / sizeof(kinds[0]))];
    want = q->kind == QK_WORD ? 1 : q->kind == QK_AND2 || q->kind == QK_OR2 ? 2 : 3;
    if (q->kind == QK_PHRASE)
        want = 2 + rnd() % 3;
    q->nterms = 0;
    if (q->kind == QK_PHRASE) {
        size_t nw, start;
        d = &nv->docs[rnd() % nv->ndocs];
        nw = count_words(d->words);
        if (nw < want)
            return 0;
        start = rnd() % (nw - want + 1);
        len += (size_t)snprintf(q->text, sizeof(q->text), "\"");
        for (size_t k = 0; k < want; k++) {
            const char *s;
            size_t n;
            if (!word_at(d->words, start + k, &s, &n))
                return 0;
            q->terms[q->nterms] = analyze_word(nv, s, n);
            if (q->terms[q->nterms++] == UINT32_MAX)
                return 0;
            len += (size_t)snprintf(q->text + len, sizeof(q->text) - len, "%s%.*s", k ? " " : "",
                                    (int)n, s);
        }
        snprintf(q->text + len, sizeof(q->text) - len, "\"");
        return 1;
    }
    for (size_t k = 0; k < want; k++) {
        /* AND words come from one doc so that they meet; OR words from anywhere */
        const char *s;
        size_t n, nw;
        if (k == 0 || q->kind == QK_OR2 || q->kind == QK_OR3)
            d = &nv->docs[rnd() % nv->ndocs];
        nw = count_words(d->words);
        if (nw == 0 || !word_at(d->words, rnd() % nw, &s, &n))
            return 0;
        q->terms[q->nterms] = analyze_word(nv, s, n);
        if (q->terms[q->nterms] == UINT32_MAX)
            return 0;
        for (size_t j = 0; j < q->nterms; j++)
            if (q->terms[j] == q->terms[q->nterms])
                return 0; /* distinct terms only */
        q->nterms++;
        len += (size_t)snprintf(q->text + len, sizeof(q->text) - len, "%s%.*s",
                                k ? (q->kind == QK_OR2 || q->kind == QK_OR3 ? " OR " : " ") : "",
                                (int)n, s);
    }
    return 1;
}

/* ---- naive evaluation and BM25F ------------------------------------------------------ */

static uint32_t tf_in(const struct naive_doc *d, int f, uint32_t t)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < d->len[f]; i++)
        n += d->tok[f][i] == t;
    return n;
}

static int phrase_in(const struct naive_doc *d, int f, const struct query *q)
{
    for (uint32_t i = 0; i + q->nterms <= d->len[f]; i++) {
        size_t k = 0;
        while (k < q->nterms && d->tok[f][i + k] == q->terms[k])
            k++;
        if (k == q->nterms)
            return 1;
    }
    return 0;
}

static int naive_match(const struct naive_doc *d, const struct query *q)
{
    int any = 0, all = 1;

    if (q->kind == QK_PHRASE)
        return phrase_in(d, 0, q) || phrase_in(d, 1, q);
    for (size_t k = 0; k < q->nterms; k++) {
        int has = tf_in(d, 0, q->terms[k]) + tf_in(d, 1, q->terms[k]) > 0;
        any |= has;
        all &= has;
    }
    return q->kind == QK_OR2 || q->kind == QK_OR3 ? any : all;
}

struct naive_stats {
    double avg[2];
    uint64_t *df; /* per term id, docs with the term in title or body */
};

static void naive_stats_init(struct naive *nv, struct naive_stats *st)
{
    uint64_t sum[2] = {0, 0};
    uint64_t *seen = calloc(nv->nterms, sizeof(uint64_t));

    st->df = calloc(nv->nterms, sizeof(uint64_t));
    assert_non_null(st->df);
    assert_non_null(seen);
    for (size_t d = 0; d < nv->ndocs; d++) {
        for (int f = 0; f < 2; f++) {
            sum[f] += nv->docs[d].len[f];
            for (uint32_t i = 0; i < nv->docs[d].len[f]; i++) {
                uint32_t t = nv->docs[d].tok[f][i];
                if (seen[t] != d + 1) {
                    seen[t] = d + 1;
                    st->df[t]++;
                }
            }
        }
    }
    st->avg[0] = (double)sum[0] / (double)nv->ndocs;
    st->avg[1] = (double)sum[1] / (double)nv->ndocs;
    free(seen);
}

/* BM25F as docs/DESIGN.md states it, written out independently of query/bm25.c. Every
 * positive query term contributes (a phrase: each of its terms, with its whole tf). */
static double naive_score(const struct naive *nv, const struct naive_stats *st, size_t doc,
                          const struct query *q)
{
    const double k1 = 1.2, b = 0.75, w[2] = {2.0, 1.0};
    const struct naive_doc *d = &nv->docs[doc];
    double N = (double)nv->ndocs, score = 0;

    for (size_t k = 0; k < q->nterms; k++) {
        double n = (double)st->df[q->terms[k]], tfn = 0;
        double idf = log(1 + (N - n + 0.5) / (n + 0.5));
        for (int f = 0; f < 2; f++)
            tfn += w[f] * tf_in(d, f, q->terms[k]) / (1 - b + b * d->len[f] / st->avg[f]);
        if (tfn > 0)
            score += idf * tfn / (k1 + tfn);
    }
    return score;
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

/* All hits of TEXT, best first; returns the count. */
static size_t engine_search(struct engine *e, const char *text, size_t k, struct q_topk *topk,
                            const struct q_hit **hits)
{
    struct q_parse_opts po = {0, 0};
    struct q_plan_opts o;
    struct q_arena mem;
    struct q_node *root;
    struct q_plan *plan;
    struct fmt_err err;
    uint64_t count = 0;
    size_t col;

    q_arena_init(&mem);
    q_plan_opts_default(&o);
    if (q_parse(text, &po, &mem, &root, &col, &err) != FMT_OK)
        fail_msg("query %s: %s", text, err.msg);
    if (q_plan_new(&plan, root, e->snap, e->an, &o, &col, &err) != FMT_OK)
        fail_msg("query %s: %s", text, err.msg);
    assert_int_equal(q_topk_init(topk, k, Q_SORT_RELEVANCE, &err), FMT_OK);
    assert_int_equal(q_plan_search(plan, topk, &count, &err), FMT_OK);
    *hits = q_topk_finish(topk);
    assert_int_equal(topk->n, count < k ? count : k);
    q_plan_free(plan);
    q_arena_release(&mem);
    return (size_t)count;
}

static int close_enough(double a, double b)
{
    return fabs(a - b) <= 1e-6 * fmax(fabs(a), fabs(b)) + 1e-12;
}

/* Check NQUERIES random queries against the naive side; returns how many had hits. */
static int run_queries(struct naive *nv, const char *dir, const char *other_dir)
{
    struct naive_stats st;
    struct engine e, o;
    char *expect = calloc(nv->ndocs, 1);
    int checked = 0, with_hits = 0;

    assert_non_null(expect);
    naive_stats_init(nv, &st);
    engine_open(&e, dir);
    engine_open(&o, other_dir);
    assert_int_equal(fmt_snapshot_stats(e.snap)->ndocs, nv->ndocs);
    rng_state = 0x9e3779b97f4a7c15ull;
    while (checked < NQUERIES) {
        struct query q;
        struct q_topk tk, tk2;
        const struct q_hit *hits, *hits2;
        size_t nexpect = 0, n, n2;
        if (!make_query(nv, &q))
            continue;
        for (size_t d = 0; d < nv->ndocs; d++) {
            expect[d] = (char)naive_match(&nv->docs[d], &q);
            nexpect += (size_t)expect[d];
        }
        n = engine_search(&e, q.text, nv->ndocs, &tk, &hits);
        if (n != nexpect)
            fail_msg("query %s: index %zu hits, naive %zu", q.text, n, nexpect);
        for (size_t i = 0; i < n; i++) {
            double want;
            if (hits[i].doc >= nv->ndocs || !expect[hits[i].doc])
                fail_msg("query %s: doc %llu should not match", q.text,
                         (unsigned long long)hits[i].doc);
            expect[hits[i].doc] = 0; /* each doc once */
            want = naive_score(nv, &st, (size_t)hits[i].doc, &q);
            if (!close_enough(hits[i].score, want))
                fail_msg("query %s: doc %llu score %.9g, naive %.9g", q.text,
                         (unsigned long long)hits[i].doc, hits[i].score, want);
        }
        /* the other split gives the same ranked list (ids and scores) */
        n2 = engine_search(&o, q.text, 50, &tk2, &hits2);
        assert_int_equal(n2, n);
        for (size_t i = 0; i < tk2.n; i++) {
            assert_int_equal(hits2[i].doc, hits[i].doc);
            if (!close_enough(hits2[i].score, hits[i].score))
                fail_msg("query %s: rank %zu score %.9g vs %.9g across splits", q.text, i,
                         hits2[i].score, hits[i].score);
        }
        q_topk_release(&tk);
        q_topk_release(&tk2);
        with_hits += n > 0;
        checked++;
    }
    engine_close(&e);
    engine_close(&o);
    free(st.df);
    free(expect);
    return with_hits;
}

static void test_index_matches_brute_force_on_corpora(void **state)
{
    char one[64] = "/tmp/nx-diff1-XXXXXX", many[64] = "/tmp/nx-diffN-XXXXXX", bbc[4096];
    struct naive nv;
    struct fmt_err err;
    struct fmt_snapshot *s;
    int with_hits;

    (void)state;
    if (!corpus_root(bbc, sizeof(bbc)))
        skip();
    memset(&nv, 0, sizeof(nv));
    assert_int_equal(fmt_analyzer_new(&nv.an, NULL, &err), FMT_OK);
    assert_non_null(mkdtemp(one));
    assert_non_null(mkdtemp(many));
    build_index(one, (size_t)1 << 30, &nv);
    build_index(many, (size_t)3 << 20, NULL);
    assert_int_equal(fmt_snapshot_open(&s, one, &err), FMT_OK);
    assert_int_equal(fmt_snapshot_nsegs(s), 1);
    fmt_snapshot_close(s);
    assert_int_equal(fmt_snapshot_open(&s, many, &err), FMT_OK);
    assert_true(fmt_snapshot_nsegs(s) >= 3);
    fmt_snapshot_close(s);

    with_hits = run_queries(&nv, one, many);
    assert_true(with_hits >= NQUERIES / 2);
    with_hits = run_queries(&nv, many, one);
    assert_true(with_hits >= NQUERIES / 2);

    fmt_analyzer_free(nv.an);
    naive_free(&nv);
    {
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "rm -rf %s %s", one, many);
        assert_int_equal(system(cmd), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_matches_brute_force_on_corpora),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
