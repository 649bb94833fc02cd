/* test_iter.c - AND, OR, NOT, phrase, field-scope and date iterators over tiny segments
 * built with the segment builder in a temporary directory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer.h"
#include "article.h"
#include "bm25.h"
#include "iter.h"
#include "segment.h"

struct doc_spec {
    const char *title;
    const char *body;
    int64_t ts;
};

struct fixture {
    struct fmt_analyzer *an;
    struct fmt_seg *seg;
    struct q_iters its;
    char dir[64];
    char path[128];
};

static int build(struct fixture *fx, const struct doc_spec *docs, size_t n)
{
    struct fmt_analyzer_cfg cfg;
    struct fmt_seg_builder *b = NULL;
    int rc;
    fmt_analyzer_cfg_default(&cfg);
    if (fmt_analyzer_new(&fx->an, &cfg, NULL) != FMT_OK)
        return -1;
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_iter.XXXXXX");
    if (!mkdtemp(fx->dir))
        return -1;
    snprintf(fx->path, sizeof(fx->path), "%s/seg", fx->dir);
    if (fmt_seg_builder_new(&b, fx->an, NULL) != FMT_OK)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct fmt_article a;
        char id[32];
        uint32_t doc;
        snprintf(id, sizeof(id), "doc%zu", i);
        fmt_article_init(&a);
        fmt_article_set(&a.id, id, strlen(id));
        fmt_article_set(&a.title, docs[i].title, strlen(docs[i].title));
        fmt_article_set(&a.body, docs[i].body, strlen(docs[i].body));
        a.timestamp = docs[i].ts;
        rc = fmt_seg_builder_add(b, &a, 0, &doc, NULL);
        fmt_article_release(&a);
        if (rc != FMT_OK || doc != i)
            return -1;
    }
    rc = fmt_seg_builder_write(b, fx->path, NULL);
    fmt_seg_builder_free(b);
    if (rc != FMT_OK)
        return -1;
    if (fmt_seg_open(&fx->seg, fx->path, NULL) != FMT_OK)
        return -1;
    q_iters_init(&fx->its);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    q_iters_release(&fx->its);
    fmt_seg_close(fx->seg);
    fmt_analyzer_free(fx->an);
    unlink(fx->path);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static const struct doc_spec small[] = {
    /* 0 */ {"Nato summit", "Leaders discuss a peace deal for Ukraine.", 1000},
    /* 1 */ {"Russia talks", "Russia rejects the peace deal; Nato responds.", 2000},
    /* 2 */ {"Markets", "Inflation rises. Deal or no deal, the peace is far.", FMT_NO_TIME},
    /* 3 */ {"Talks of peace", "Deal signed in Riyadh.", 3000},
    /* 4 */ {"Nato and Ukraine", "Ukraine asks Nato for membership.", 4000},
};

static int setup_small(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    if (!fx)
        return -1;
    *state = fx;
    return build(fx, small, sizeof(small) / sizeof(small[0]));
}

/* The analyzed term of WORD (first token). */
struct first_term {
    char buf[64];
    size_t len;
};

static int on_first(void *ctx, const struct fmt_token *tok)
{
    struct first_term *t = ctx;
    t->len = tok->len < sizeof(t->buf) ? tok->len : sizeof(t->buf) - 1;
    memcpy(t->buf, tok->term, t->len);
    t->buf[t->len] = '\0';
    return 1;
}

static struct q_iter *term(struct fixture *fx, const char *word, unsigned require,
                           const struct q_term_w *w)
{
    struct first_term t = {{0}, 0};
    struct q_iter *it = NULL;
    fmt_analyze(fx->an, word, strlen(word), on_first, &t);
    assert_int_equal(q_iter_term(&fx->its, fx->seg, FMT_NS_TEXT, t.buf, t.len, require, w, &it,
                                 NULL),
                     FMT_OK);
    return it;
}

/* All docs of IT as a bit mask. */
static unsigned docs_of(struct q_iter *it)
{
    unsigned mask = 0;
    assert_int_equal(q_iter_advance(it, 0, NULL), FMT_OK);
    while (it->doc != FMT_DOC_END) {
        assert_true(it->doc < 32);
        mask |= 1u << it->doc;
        assert_int_equal(q_iter_advance(it, it->doc + 1, NULL), FMT_OK);
    }
    return mask;
}

#define D(n) (1u << (n))

static void test_iter_term_lists_docs_with_the_word_in_any_field(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(docs_of(term(fx, "nato", 0, NULL)), D(0) | D(1) | D(4));
    assert_int_equal(docs_of(term(fx, "absentword", 0, NULL)), 0);
}

static void test_iter_title_scope_requires_the_word_in_the_title(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(docs_of(term(fx, "nato", 1u, NULL)), D(0) | D(4));
    assert_int_equal(docs_of(term(fx, "nato", 2u, NULL)), D(1) | D(4));
}

static void test_iter_and_intersects(void **state)
{
    struct fixture *fx = *state;
    struct q_iter *k[2] = {term(fx, "nato", 0, NULL), term(fx, "ukraine", 0, NULL)}, *it;
    assert_int_equal(q_iter_and(&fx->its, k, 2, NULL, 0, &it, NULL), FMT_OK);
    assert_int_equal(docs_of(it), D(0) | D(4));
}

static void test_iter_and_with_a_missing_term_is_empty(void **state)
{
    struct fixture *fx = *state;
    struct q_iter *k[2] = {term(fx, "nato", 0, NULL), term(fx, "zzzz", 0, NULL)}, *it;
    assert_int_equal(q_iter_and(&fx->its, k, 2, NULL, 0, &it, NULL), FMT_OK);
    assert_int_equal(docs_of(it), 0);
}

static void test_iter_or_unites(void **state)
{
    struct fixture *fx = *state;
    struct q_iter *k[3] = {term(fx, "inflation", 0, NULL), term(fx, "riyadh", 0, NULL),
                           term(fx, "zzzz", 0, NULL)},
                  *it;
    assert_int_equal(q_iter_or(&fx->its, k, 3, &it, NULL), FMT_OK);
    assert_int_equal(docs_of(it), D(2) | D(3));
}

static void test_iter_not_excludes(void **state)
{
    struct fixture *fx = *state;
    struct q_iter *pos = term(fx, "deal", 0, NULL), *ex = term(fx, "russia", 0, NULL), *it;
    assert_int_equal(q_iter_and(&fx->its, &pos, 1, &ex, 1, &it, NULL), FMT_OK);
    assert_int_equal(docs_of(it), D(0) | D(2) | D(3));
}

static void test_iter_pure_negation_uses_all_docs(void **state)
{
    struct fixture *fx = *state;
    struct q_iter *all, *ex = term(fx, "nato", 0, NULL), *it;
    assert_int_equal(q_iter_all(&fx->its, fx->seg, &all, NULL), FMT_OK);
    assert_int_equal(q_iter_and(&fx->its, &all, 1, &ex, 1, &it, NULL), FMT_OK);
    assert_int_equal(docs_of(it), D(2) | D(3));
}

static struct q_iter *phrase(struct fixture *fx, const char *a, const char *b, unsigned fields)
{
    struct q_iter *k[2] = {term(fx, a, 0, NULL), term(fx, b, 0, NULL)}, *it;
    uint32_t offs[2] = {0, 1};
    assert_int_equal(q_iter_phrase(&fx->its, k, offs, 2, fields, &it, NULL), FMT_OK);
    return it;
}

static void test_iter_phrase_needs_adjacent_positions_in_order(void **state)
{
    struct fixture *fx = *state;
    /* doc 2 has "deal ... peace" (not adjacent), doc 3 has "peace" in the title and
     * "Deal" starting the body: a phrase never crosses the title/body boundary */
    assert_int_equal(docs_of(phrase(fx, "peace", "deal", 3u)), D(0) | D(1));
    assert_int_equal(docs_of(phrase(fx, "deal", "peace", 3u)), 0);
}

static void test_iter_phrase_in_title_scope_checks_title_positions_only(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(docs_of(phrase(fx, "nato", "summit", 1u)), D(0));
    assert_int_equal(docs_of(phrase(fx, "peace", "deal", 1u)), 0);
    assert_int_equal(docs_of(phrase(fx, "nato", "summit", 2u)), 0);
}

static void test_iter_date_range_skips_docs_without_time(void **state)
{
    struct fixture *fx = *state;
    struct q_iter *it;
    assert_int_equal(q_iter_date(&fx->its, fx->seg, 1500, 3000, &it, NULL), FMT_OK);
    assert_int_equal(docs_of(it), D(1) | D(3));
    assert_int_equal(q_iter_date(&fx->its, fx->seg, INT64_MIN + 1, INT64_MAX, &it, NULL),
                     FMT_OK);
    assert_int_equal(docs_of(it), D(0) | D(1) | D(3) | D(4));
}

struct sum {
    double total;
    int n;
};

static void on_explain(void *ctx, const struct q_explain_term *t)
{
    struct sum *s = ctx;
    s->total += t->contrib;
    s->n++;
}

static void test_iter_and_score_is_the_sum_of_term_contributions(void **state)
{
    struct fixture *fx = *state;
    struct q_bm25_params p;
    struct q_bm25 bm;
    struct q_term_w wn = {1.5, 3u, 1, "nato"}, wu = {0.7, 3u, 1, "ukrain"};
    struct q_iter *k[2] = {term(fx, "nato", 0, &wn), term(fx, "ukraine", 0, &wu)}, *it;
    struct sum s = {0.0, 0};
    q_bm25_params_default(&p);
    q_bm25_init(&bm, &p, 2.0, 6.0);
    assert_int_equal(q_iter_and(&fx->its, k, 2, NULL, 0, &it, NULL), FMT_OK);
    assert_int_equal(q_iter_advance(it, 4, NULL), FMT_OK);
    assert_int_equal(it->doc, 4);
    double score = q_iter_score(it, 4, &bm, on_explain, &s);
    /* doc 4: title "Nato and Ukraine" (3 tokens), body "Ukraine asks Nato for
     * membership." (5 tokens); each term has tf 1 in title and 1 in body */
    double nt = 0.25 + 0.75 * 3.0 / 2.0, nb = 0.25 + 0.75 * 5.0 / 6.0;
    double tfn = 2.0 / nt + 1.0 / nb;
    double want = 1.5 * tfn / (1.2 + tfn) + 0.7 * tfn / (1.2 + tfn);
    assert_true(fabs(score - want) < 1e-12);
    assert_int_equal(s.n, 2);
    assert_true(fabs(s.total - score) < 1e-12);
}

static void test_iter_or_scores_only_kids_on_the_doc(void **state)
{
    struct fixture *fx = *state;
    struct q_bm25_params p;
    struct q_bm25 bm;
    struct q_term_w wi = {2.0, 3u, 1, "inflat"}, wr = {3.0, 3u, 1, "riyadh"};
    struct q_iter *k[2] = {term(fx, "inflation", 0, &wi), term(fx, "riyadh", 0, &wr)}, *it;
    struct sum s = {0.0, 0};
    q_bm25_params_default(&p);
    q_bm25_init(&bm, &p, 2.0, 6.0);
    assert_int_equal(q_iter_or(&fx->its, k, 2, &it, NULL), FMT_OK);
    assert_int_equal(q_iter_advance(it, 0, NULL), FMT_OK);
    assert_int_equal(it->doc, 2);
    double score = q_iter_score(it, 2, &bm, on_explain, &s);
    assert_int_equal(s.n, 1);
    assert_true(score > 0.0 && score < 2.0);
}

/* A longer segment: galloping across 128-doc postings blocks. */
static int setup_large(void **state)
{
    enum { N = 1000 };
    static struct doc_spec docs[N];
    static char bodies[N][64];
    struct fixture *fx = calloc(1, sizeof(*fx));
    if (!fx)
        return -1;
    *state = fx;
    for (size_t i = 0; i < N; i++) {
        snprintf(bodies[i], sizeof(bodies[i]), "common words here%s%s",
                 i % 97 == 0 ? " rare" : "", i % 3 == 0 ? " third" : "");
        docs[i].title = "t";
        docs[i].body = bodies[i];
        docs[i].ts = (int64_t)i;
    }
    return build(fx, docs, N);
}

static void test_iter_and_gallops_across_blocks(void **state)
{
    struct fixture *fx = *state;
    struct q_iter *k[3] = {term(fx, "common", 0, NULL), term(fx, "third", 0, NULL),
                           term(fx, "rare", 0, NULL)},
                  *it;
    size_t n = 0;
    assert_int_equal(q_iter_and(&fx->its, k, 3, NULL, 0, &it, NULL), FMT_OK);
    assert_int_equal(q_iter_advance(it, 0, NULL), FMT_OK);
    for (uint32_t want = 0; want < 1000; want++) {
        if (want % 97 != 0 || want % 3 != 0)
            continue;
        assert_int_equal(it->doc, want);
        n++;
        assert_int_equal(q_iter_advance(it, it->doc + 1, NULL), FMT_OK);
    }
    assert_int_equal(it->doc, FMT_DOC_END);
    assert_int_equal(n, 4); /* 0, 291, 582, 873 */
}

static void test_iter_not_over_many_blocks_counts_the_complement(void **state)
{
    struct fixture *fx = *state;
    struct q_iter *pos = term(fx, "common", 0, NULL), *ex = term(fx, "third", 0, NULL), *it;
    size_t n = 0;
    assert_int_equal(q_iter_and(&fx->its, &pos, 1, &ex, 1, &it, NULL), FMT_OK);
    assert_int_equal(q_iter_advance(it, 0, NULL), FMT_OK);
    while (it->doc != FMT_DOC_END) {
        assert_true(it->doc % 3 != 0);
        n++;
        assert_int_equal(q_iter_advance(it, it->doc + 1, NULL), FMT_OK);
    }
    assert_int_equal(n, 666);
}

/* An OR of many kids (a heap) gives the union, with every doc once, and scores each doc
 * as the sum of the kids on it, in kid order. */
static void test_iter_or_of_many_kids_is_the_union_and_sums_kid_scores(void **state)
{
    struct fixture *fx = *state;
    const char *words[] = {"nato", "russia", "inflation", "riyadh", "membership", "zzzz",
                           "peace", "deal", "markets", "talks", "leaders", "yyyy"};
    enum { NW = sizeof(words) / sizeof(words[0]) };
    struct q_term_w w[NW];
    struct q_iter *k[NW], *it, *single;
    struct q_bm25 bm;
    struct q_bm25_params p;
    unsigned want = 0;
    q_bm25_params_default(&p);
    q_bm25_init(&bm, &p, 2.0, 8.0);
    for (size_t i = 0; i < NW; i++) {
        w[i].idf = 1.0 + (double)i;
        w[i].fields = 3u;
        w[i].scoring = 1;
        w[i].label = words[i];
        k[i] = term(fx, words[i], 0, &w[i]);
        want |= i == 5 || i == 11 ? 0 : docs_of(term(fx, words[i], 0, NULL));
    }
    assert_int_equal(q_iter_or(&fx->its, k, NW, &it, NULL), FMT_OK);
    assert_int_equal(it->kind, Q_IT_OR);
    assert_int_equal(q_iter_advance(it, 0, NULL), FMT_OK);
    unsigned got = 0;
    while (it->doc != FMT_DOC_END) {
        uint32_t doc = it->doc;
        assert_false(got & D(doc));
        got |= D(doc);
        double sum = 0.0;
        for (size_t i = 0; i < NW; i++) { /* each kid alone, fresh iterators */
            single = term(fx, words[i], 0, &w[i]);
            assert_int_equal(q_iter_advance(single, doc, NULL), FMT_OK);
            if (single->doc == doc)
                sum += q_iter_score(single, doc, &bm, NULL, NULL);
        }
        assert_true(fabs(q_iter_score(it, doc, &bm, NULL, NULL) - sum) < 1e-12);
        assert_int_equal(q_iter_advance(it, doc + 1, NULL), FMT_OK);
    }
    assert_int_equal(got, want);
}

struct syn_seen {
    int calls;
    uint32_t tf[2];
    double contrib;
};

static void on_syn(void *ctx, const struct q_explain_term *t)
{
    struct syn_seen *s = ctx;
    s->calls++;
    s->tf[0] = t->tf[0];
    s->tf[1] = t->tf[1];
    s->contrib = t->contrib;
}

/* A synonym group scores once per doc with the kids' tf summed. */
static void test_iter_synonym_scores_summed_tf_once(void **state)
{
    struct fixture *fx = *state;
    struct q_term_w w = {2.0, 3u, 1, "x*"};
    struct q_iter *k[2] = {term(fx, "nato", 0, &w), term(fx, "ukraine", 0, &w)}, *it;
    struct q_bm25 bm;
    struct q_bm25_params p;
    struct syn_seen seen = {0, {0, 0}, 0.0};
    q_bm25_params_default(&p);
    q_bm25_init(&bm, &p, 2.0, 8.0);
    assert_int_equal(q_iter_synonym(&fx->its, k, 2, &w, &it, NULL), FMT_OK);
    assert_int_equal(q_iter_advance(it, 4, NULL), FMT_OK);
    assert_int_equal(it->doc, 4); /* "Nato and Ukraine" / "Ukraine asks Nato for membership." */
    double s = q_iter_score(it, 4, &bm, on_syn, &seen);
    assert_int_equal(seen.calls, 1);
    assert_int_equal(seen.tf[0], 2);
    assert_int_equal(seen.tf[1], 2);
    uint32_t tf[2] = {2, 2}, len[2] = {fmt_seg_field_len(fx->seg, 4, FMT_FIELD_TITLE),
                                       fmt_seg_field_len(fx->seg, 4, FMT_FIELD_BODY)};
    double want = q_bm25_contrib(&bm, 2.0, q_bm25_tfn(&bm, 3u, tf, len));
    assert_true(fabs(s - want) < 1e-12);
    assert_true(fabs(seen.contrib - want) < 1e-12);
}

/* Docs over several postings blocks with varied field lengths and tfs. */
static int setup_varied(void **state)
{
    enum { N = 600 };
    static struct doc_spec docs[N];
    static char titles[N][96], bodies[N][512];
    struct fixture *fx = calloc(1, sizeof(*fx));
    if (!fx)
        return -1;
    *state = fx;
    for (size_t i = 0; i < N; i++) {
        size_t t = 0, b = 0;
        t += (size_t)snprintf(titles[i] + t, sizeof(titles[i]) - t, "%s", i % 7 ? "news" : "alpha");
        for (size_t k = 0; k < i % 9; k++)
            t += (size_t)snprintf(titles[i] + t, sizeof(titles[i]) - t, " filler");
        for (size_t k = 0; k <= i % 5; k++)
            b += (size_t)snprintf(bodies[i] + b, sizeof(bodies[i]) - b, "alpha ");
        if (i % 2)
            b += (size_t)snprintf(bodies[i] + b, sizeof(bodies[i]) - b, "beta beta ");
        for (size_t k = 0; k < i % 41; k++)
            b += (size_t)snprintf(bodies[i] + b, sizeof(bodies[i]) - b, "pad ");
        docs[i].title = titles[i];
        docs[i].body = bodies[i];
        docs[i].ts = (int64_t)i;
    }
    return build(fx, docs, N);
}

/* q_iter_score_ub never falls below q_iter_score, on terms, AND and OR, and equals it on a
 * doc whose lengths are its block's shortest. */
static void test_iter_score_ub_bounds_the_score_without_the_length_column(void **state)
{
    struct fixture *fx = *state;
    struct q_term_w wa = {1.3, 3u, 1, "alpha"}, wb = {2.1, 3u, 1, "beta"};
    struct q_bm25_params p;
    struct q_bm25 bm;
    q_bm25_params_default(&p);
    q_bm25_init(&bm, &p, 4.0, 20.0);
    for (int shape = 0; shape < 3; shape++) {
        struct q_iter *k[2] = {term(fx, "alpha", 0, &wa), term(fx, "beta", 0, &wb)}, *it = k[0];
        size_t n = 0, equal = 0;
        if (shape == 1)
            assert_int_equal(q_iter_and(&fx->its, k, 2, NULL, 0, &it, NULL), FMT_OK);
        else if (shape == 2)
            assert_int_equal(q_iter_or(&fx->its, k, 2, &it, NULL), FMT_OK);
        assert_int_equal(q_iter_advance(it, 0, NULL), FMT_OK);
        while (it->doc != FMT_DOC_END) {
            double sc = q_iter_score(it, it->doc, &bm, NULL, NULL);
            double ub = q_iter_score_ub(it, it->doc, &bm);
            assert_true(sc > 0.0);
            assert_true(ub >= sc * (1.0 - 1e-12));
            equal += ub == sc;
            n++;
            assert_int_equal(q_iter_advance(it, it->doc + 1, NULL), FMT_OK);
        }
        assert_int_equal(n, shape == 1 ? 300 : 600);
        assert_true(equal > 0 && equal < n);
    }
}

/* Docs over several blocks, two in three with an empty title, "alpha" in every body
 * (and in the other titles) with varied tf and lengths. */
static int setup_empty_titles(void **state)
{
    enum { N = 400 };
    static struct doc_spec docs[N];
    static char bodies[N][512];
    struct fixture *fx = calloc(1, sizeof(*fx));
    if (!fx)
        return -1;
    *state = fx;
    for (size_t i = 0; i < N; i++) {
        size_t b = 0;
        for (size_t k = 0; k <= i % 4; k++)
            b += (size_t)snprintf(bodies[i] + b, sizeof(bodies[i]) - b, "alpha ");
        for (size_t k = 0; k < i % 37; k++)
            b += (size_t)snprintf(bodies[i] + b, sizeof(bodies[i]) - b, "pad ");
        docs[i].title = i % 3 ? "" : "alpha news";
        docs[i].body = bodies[i];
        docs[i].ts = (int64_t)i;
    }
    return build(fx, docs, N);
}

/* q_iter_advance_above passes over docs, never one that scores above the floor, also with
 * b = 1, where an empty title's length normalization is 0 (the division-free test must
 * not multiply a body hit by it); q_iter_score_ub stays a bound there. */
static void test_iter_advance_above_keeps_every_doc_above_the_floor(void **state)
{
    enum { N = 400 };
    struct fixture *fx = *state;
    struct q_term_w w = {1.7, 3u, 1, "alpha"};
    static const double bs[] = {0.75, 1.0};
    for (size_t bi = 0; bi < sizeof(bs) / sizeof(*bs); bi++) {
        struct q_bm25_params p;
        struct q_bm25 bm;
        double sc[N], sorted[N], floor;
        int seen[N] = {0};
        size_t n = 0, visited = 0;
        struct q_iter *it = term(fx, "alpha", 0, &w);
        q_bm25_params_default(&p);
        p.b = bs[bi];
        q_bm25_init(&bm, &p, 1.0, 20.0);
        assert_int_equal(q_iter_advance(it, 0, NULL), FMT_OK);
        for (; it->doc != FMT_DOC_END; n++) {
            assert_int_equal(it->doc, n);
            sc[n] = sorted[n] = q_iter_score(it, it->doc, &bm, NULL, NULL);
            assert_int_equal(q_iter_advance(it, it->doc + 1, NULL), FMT_OK);
        }
        assert_int_equal(n, N);
        for (size_t i = 1; i < N; i++) /* insertion sort: the floor is the 90th percentile */
            for (size_t j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
                double t = sorted[j];
                sorted[j] = sorted[j - 1];
                sorted[j - 1] = t;
            }
        floor = sorted[N * 9 / 10];
        it = term(fx, "alpha", 0, &w);
        for (uint32_t t = 0;;) {
            assert_int_equal(q_iter_advance_above(it, t, FMT_DOC_END, floor, 0.0, &bm, NULL),
                             FMT_OK);
            if (it->doc == FMT_DOC_END)
                break;
            seen[it->doc] = 1;
            visited++;
            t = it->doc + 1;
        }
        for (size_t i = 0; i < N; i++)
            if (sc[i] > floor && !seen[i])
                fail_msg("b %g: doc %zu scores %.17g above the floor %.17g, passed over",
                         bs[bi], i, sc[i], floor);
        assert_true(visited < N); /* and it did pass over some */
        /* a term in no title: the bound's title factor must not be w / norm(0) = inf */
        it = term(fx, "pad", 0, &w);
        assert_int_equal(q_iter_advance(it, 0, NULL), FMT_OK);
        for (n = 0; it->doc != FMT_DOC_END; n++) {
            double s = q_iter_score(it, it->doc, &bm, NULL, NULL);
            assert_true(q_iter_score_ub(it, it->doc, &bm) >= s * (1.0 - 1e-12));
            assert_int_equal(q_iter_advance(it, it->doc + 1, NULL), FMT_OK);
        }
        assert_true(n > 300);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_iter_term_lists_docs_with_the_word_in_any_field,
                                        setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_iter_title_scope_requires_the_word_in_the_title,
                                        setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_iter_and_intersects, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_iter_and_with_a_missing_term_is_empty,
                                        setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_iter_or_unites, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_iter_or_of_many_kids_is_the_union_and_sums_kid_scores,
                                        setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_iter_synonym_scores_summed_tf_once, setup_small,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_iter_not_excludes, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_iter_pure_negation_uses_all_docs, setup_small,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_iter_phrase_needs_adjacent_positions_in_order,
                                        setup_small, teardown),
        cmocka_unit_test_setup_teardown(
            test_iter_phrase_in_title_scope_checks_title_positions_only, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_iter_date_range_skips_docs_without_time,
                                        setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_iter_and_score_is_the_sum_of_term_contributions,
                                        setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_iter_or_scores_only_kids_on_the_doc, setup_small,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_iter_score_ub_bounds_the_score_without_the_length_column,
                                        setup_varied, teardown),
        cmocka_unit_test_setup_teardown(test_iter_advance_above_keeps_every_doc_above_the_floor,
                                        setup_empty_titles, teardown),
        cmocka_unit_test_setup_teardown(test_iter_and_gallops_across_blocks, setup_large,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_iter_not_over_many_blocks_counts_the_complement,
                                        setup_large, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
