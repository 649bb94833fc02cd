/* test_segment.c - segment builder + reader: round trips of postings, positions, columns,
 * doc store, block boundaries, prefix walks, and corruption detection. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer.h"
#include "article.h"
#include "segment.h"

struct fixture {
    char dir[64];
    char path[128];
    struct fmt_analyzer *an;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    struct fmt_analyzer_cfg cfg;

    snprintf(fx->dir, sizeof(fx->dir), "/tmp/nx-seg-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->path, sizeof(fx->path), "%s/seg.nxs", fx->dir);
    fmt_analyzer_cfg_default(&cfg);
    assert_int_equal(fmt_analyzer_new(&fx->an, &cfg, NULL), FMT_OK);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    unlink(fx->path);
    rmdir(fx->dir);
    fmt_analyzer_free(fx->an);
    free(fx);
    return 0;
}

static void add(struct fmt_seg_builder *b, const char *id, const char *title, const char *body,
                const char *source, int64_t ts)
{
    struct fmt_article a;
    uint32_t doc;

    assert_int_equal(fmt_article_init(&a), FMT_OK);
    fmt_article_set(&a.id, id, strlen(id));
    fmt_article_set(&a.title, title, strlen(title));
    fmt_article_set(&a.body, body, strlen(body));
    fmt_article_set(&a.source, source, strlen(source));
    a.timestamp = ts;
    assert_int_equal(fmt_seg_builder_add(b, &a, 0, &doc, NULL), FMT_OK);
    fmt_article_release(&a);
}

static void test_segment_roundtrips_small_docs(void **state)
{
    struct fixture *fx = *state;
    struct fmt_seg_builder *b;
    struct fmt_seg *seg;
    struct fmt_term_info ti;
    struct fmt_postings p;
    struct fmt_err err;
    const uint32_t *pos;
    size_t n, len;
    struct fmt_buf scratch;
    struct fmt_article a;

    assert_int_equal(fmt_seg_builder_new(&b, fx->an, NULL), FMT_OK);
    add(b, "a", "NATO talks", "The NATO summit talks about NATO.", "BBC News", 100);
    add(b, "b", "Weather", "Rain in Brussels.", "Reuters", FMT_NO_TIME);
    add(b, "c", "Ukraine", "Peace deal with NATO nato", "BBC News", 300);
    assert_int_equal(fmt_seg_builder_find(b, FMT_NS_ID, "b", 1), 1);
    assert_int_equal(fmt_seg_builder_find(b, FMT_NS_ID, "zz", 2), FMT_DOC_END);
    assert_int_equal(fmt_seg_builder_write(b, fx->path, &err), FMT_OK);
    fmt_seg_builder_free(b);

    assert_int_equal(fmt_seg_open(&seg, fx->path, &err), FMT_OK);
    assert_int_equal(fmt_seg_verify(seg, &err), FMT_OK);
    assert_int_equal(fmt_seg_stats(seg)->ndocs, 3);
    assert_int_equal(fmt_seg_lookup(seg, FMT_NS_TEXT, "nato", 4, &ti, &err), FMT_OK);
    assert_int_equal(ti.df, 2);
    assert_int_equal(ti.df_title, 1);
    assert_int_equal(fmt_postings_open(&p, seg, &ti, &err), FMT_OK);
    assert_int_equal(fmt_postings_next(&p, &err), FMT_OK);
    assert_int_equal(p.doc, 0);
    assert_int_equal(fmt_postings_tf(&p, FMT_FIELD_TITLE), 1);
    assert_int_equal(fmt_postings_tf(&p, FMT_FIELD_BODY), 2);
    assert_int_equal(fmt_postings_positions(&p, FMT_FIELD_BODY, &pos, &n, &err), FMT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(pos[0], 1);
    assert_int_equal(pos[1], 5);
    assert_int_equal(fmt_postings_positions(&p, FMT_FIELD_TITLE, &pos, &n, &err), FMT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(pos[0], 0);
    assert_int_equal(fmt_postings_next(&p, &err), FMT_OK);
    assert_int_equal(p.doc, 2);
    assert_int_equal(fmt_postings_tf(&p, FMT_FIELD_BODY), 2);
    assert_int_equal(fmt_postings_positions(&p, FMT_FIELD_BODY, &pos, &n, &err), FMT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(pos[0], 3);
    assert_int_equal(pos[1], 4);
    assert_int_equal(fmt_postings_next(&p, &err), FMT_OK);
    assert_int_equal(p.doc, FMT_DOC_END);
    fmt_postings_release(&p);

    assert_int_equal(fmt_seg_lookup(seg, FMT_NS_TEXT, "missing", 7, &ti, &err), FMT_ENOTFOUND);
    assert_int_equal(fmt_seg_lookup(seg, FMT_NS_SOURCE, "bbc news", 8, &ti, &err), FMT_OK);
    assert_int_equal(ti.df, 2);
    assert_int_equal(fmt_seg_lookup(seg, FMT_NS_ID, "c", 1, &ti, &err), FMT_OK);
    assert_int_equal(fmt_seg_field_len(seg, 0, FMT_FIELD_TITLE), 2);
    assert_int_equal(fmt_seg_field_len(seg, 0, FMT_FIELD_BODY), 6);
    assert_int_equal(fmt_seg_timestamp(seg, 1), FMT_NO_TIME);
    assert_int_equal(fmt_seg_timestamp(seg, 2), 300);
    assert_memory_equal(fmt_seg_source_name(seg, fmt_seg_source_id(seg, 1), &len), "Reuters", 7);
    assert_int_equal(len, 7);

    fmt_buf_init(&scratch);
    assert_int_equal(fmt_seg_doc(seg, 2, &scratch, &a, &err), FMT_OK);
    assert_string_equal(a.id, "c");
    assert_string_equal(a.body, "Peace deal with NATO nato");
    assert_string_equal(a.source, "BBC News");
    assert_int_equal(a.timestamp, 300);
    fmt_article_release(&a);
    fmt_buf_release(&scratch);
    fmt_seg_close(seg);
}

/* Folded words whose stem is the same make one term (the builder maps each word to its
 * term once, word_term), with one and two threads; a word seen again after a new one
 * keeps its term. */
static void test_segment_words_of_one_stem_make_one_term(void **state)
{
    struct fixture *fx = *state;

    for (unsigned nthreads = 1; nthreads <= 2; nthreads++) {
        struct fmt_seg_builder *b;
        struct fmt_analyzer_cfg cfg;
        struct fmt_seg *seg;
        struct fmt_term_info ti;
        struct fmt_postings p;
        struct fmt_err err;
        const uint32_t *pos;
        size_t n;

        fmt_analyzer_cfg_default(&cfg);
        assert_int_equal(fmt_seg_builder_new(&b, fx->an, NULL), FMT_OK);
        assert_int_equal(fmt_seg_builder_set_threads(b, nthreads, &cfg, &err), FMT_OK);
        add(b, "a", "Talks", "talking TALK peace talks talk", "BBC News", 100);
        add(b, "b", "Peace", "talked about peace", "BBC News", 200);
        assert_int_equal(fmt_seg_builder_write(b, fx->path, &err), FMT_OK);
        fmt_seg_builder_free(b);

        assert_int_equal(fmt_seg_open(&seg, fx->path, &err), FMT_OK);
        assert_int_equal(fmt_seg_lookup(seg, FMT_NS_TEXT, "talk", 4, &ti, &err), FMT_OK);
        assert_int_equal(ti.df, 2);
        assert_int_equal(ti.df_title, 1);
        assert_int_equal(fmt_seg_lookup(seg, FMT_NS_TEXT, "talks", 5, &ti, &err),
                         FMT_ENOTFOUND);
        assert_int_equal(fmt_seg_lookup(seg, FMT_NS_TEXT, "talk", 4, &ti, &err), FMT_OK);
        assert_int_equal(fmt_postings_open(&p, seg, &ti, &err), FMT_OK);
        assert_int_equal(fmt_postings_next(&p, &err), FMT_OK);
        assert_int_equal(p.doc, 0);
        assert_int_equal(fmt_postings_tf(&p, FMT_FIELD_TITLE), 1);
        assert_int_equal(fmt_postings_tf(&p, FMT_FIELD_BODY), 4);
        assert_int_equal(fmt_postings_positions(&p, FMT_FIELD_BODY, &pos, &n, &err), FMT_OK);
        assert_int_equal(n, 4);
        assert_int_equal(pos[0], 0);
        assert_int_equal(pos[1], 1);
        assert_int_equal(pos[2], 3);
        assert_int_equal(pos[3], 4);
        assert_int_equal(fmt_postings_next(&p, &err), FMT_OK);
        assert_int_equal(p.doc, 1);
        assert_int_equal(fmt_postings_tf(&p, FMT_FIELD_BODY), 1);
        assert_int_equal(fmt_postings_next(&p, &err), FMT_OK);
        assert_int_equal(p.doc, FMT_DOC_END);
        fmt_postings_release(&p);
        fmt_seg_close(seg);
        assert_int_equal(unlink(fx->path), 0);
    }
}

static void test_segment_sizes_count_postings_and_positions(void **state)
{
    struct fixture *fx = *state;
    struct fmt_seg_builder *b;
    struct fmt_seg *seg;
    struct fmt_seg_sizes sz;
    struct fmt_term_info ti;
    const uint8_t *post, *pos;
    struct fmt_err err;
    uint64_t sum = 0;

    assert_int_equal(fmt_seg_builder_new(&b, fx->an, NULL), FMT_OK);
    add(b, "a", "NATO talks", "The NATO summit talks about NATO.", "BBC News", 100);
    add(b, "b", "Weather", "Rain in Brussels.", "Reuters", FMT_NO_TIME);
    add(b, "c", "Ukraine", "Peace deal with NATO nato", "BBC News", 300);
    assert_int_equal(fmt_seg_builder_write(b, fx->path, &err), FMT_OK);
    fmt_seg_builder_free(b);
    assert_int_equal(fmt_seg_open(&seg, fx->path, &err), FMT_OK);
    assert_int_equal(fmt_seg_sizes(seg, &sz, &err), FMT_OK);
    /* tokens: titles 2 + 1 + 1, bodies 6 + 3 + 5 */
    assert_int_equal(sz.positions, 18);
    /* distinct (term, doc): 5 + 4 + 5 text, 3 ids, 3 sources */
    assert_int_equal(sz.text_postings, 14);
    assert_int_equal(sz.postings, 20);
    assert_int_equal(sz.terms, fmt_seg_stats(seg)->nterms);
    for (unsigned i = 0; i < FMT_SEG_SECTIONS; i++)
        sum += sz.section[i];
    assert_true(sum < sz.file && sz.file == fmt_seg_stats(seg)->file_bytes);
    assert_string_equal(fmt_seg_section_name(0), "postings");
    assert_string_equal(fmt_seg_section_name(FMT_SEG_SECTIONS - 1), "docidx");
    assert_int_equal(sz.skip_bytes, 0); /* lists of <= 128 docs have no skip table */
    /* nato: docs 0 (title 0, body 1 5) and 2 (body 3 4): deltas 0 1 4 3 1 as Rice codes,
     * k 1 (13 bits, k 0 would take 14), split: head 0x81; low bits 0 1 0 1 1 = 1a;
     * unary q 0 0 2 1 0 = 1 1 001 01 1 = d3 (LSB first) */
    assert_int_equal(fmt_seg_lookup(seg, FMT_NS_TEXT, "nato", 4, &ti, &err), FMT_OK);
    fmt_seg_term_bytes(seg, &ti, &post, &pos);
    assert_non_null(pos);
    assert_int_equal(ti.pos_len, 3);
    assert_memory_equal(pos, "\x81\x1a\xd3", 3);
    /* a one-block list has no skip entry: its bound comes from the block, and the doc
     * cursor still starts at the first posting. Two docs make a small block of varints:
     * doc 0: gap 0, body tf 2 << 1 | title flag, title tf - 1; doc 2: gap 1, 2 << 1 */
    assert_int_equal(ti.post_len, 5);
    assert_memory_equal(post, "\x00\x05\x00\x01\x04", 5);
    {
        struct fmt_postings p;
        struct fmt_block_bound bd;
        assert_int_equal(fmt_postings_open(&p, seg, &ti, &err), FMT_OK);
        assert_int_equal(fmt_postings_shallow_advance(&p, 0, &bd, &err), FMT_OK);
        assert_int_equal(bd.last_doc, 2);
        assert_int_equal(bd.max_tf[0], 1);
        assert_int_equal(bd.max_tf[1], 2);
        assert_int_equal(bd.min_len[0], 2);
        assert_int_equal(bd.min_len[1], 5);
        assert_int_equal(fmt_postings_next(&p, &err), FMT_OK);
        assert_int_equal(p.doc, 0);
        assert_int_equal(fmt_postings_shallow_advance(&p, 3, &bd, &err), FMT_OK);
        assert_int_equal(bd.last_doc, FMT_DOC_END);
        fmt_postings_release(&p);
    }
    fmt_seg_close(seg);
}

/* Build the same 3,000 articles into PATH with NTHREADS threads. */
static void build_many(struct fixture *fx, const char *path, unsigned nthreads)
{
    static const char *const words[] = {"nato", "summit", "peace", "talks", "rain",
                                        "brussels", "ukraine", "deal", "markets", "oil",
                                        "café", "U.S.", "Kyiv's", "2025", "inflation"};
    struct fmt_seg_builder *b;
    struct fmt_analyzer_cfg cfg;
    struct fmt_err err;
    uint64_t seed = 12345;

    fmt_analyzer_cfg_default(&cfg);
    assert_int_equal(fmt_seg_builder_new(&b, fx->an, NULL), FMT_OK);
    assert_int_equal(fmt_seg_builder_set_threads(b, nthreads, &cfg, &err), FMT_OK);
    for (int d = 0; d < 3000; d++) {
        char id[32], title[256], body[4096];
        size_t tl = 0, bl = 0;
        uint32_t doc;
        struct fmt_article a;
        int nb = 5 + (int)(seed % 300);
        for (int k = 0; k < 4; k++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            tl += (size_t)snprintf(title + tl, sizeof(title) - tl, "%s ", words[(seed >> 33) % 15]);
        }
        for (int k = 0; k < nb; k++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            bl += (size_t)snprintf(body + bl, sizeof(body) - bl, "%s%u ", words[(seed >> 33) % 15],
                                   (unsigned)(seed >> 60));
        }
        snprintf(id, sizeof(id), "doc-%d", d);
        assert_int_equal(fmt_article_init(&a), FMT_OK);
        fmt_article_set(&a.id, id, strlen(id));
        fmt_article_set(&a.title, title, tl);
        fmt_article_set(&a.body, body, bl);
        fmt_article_set(&a.source, d % 3 ? "BBC News" : "Reuters", d % 3 ? 8 : 7);
        fmt_article_set(&a.url, "https://example.org/a/b", 23);
        a.timestamp = 1000 + d;
        assert_int_equal(fmt_seg_builder_add(b, &a, 0x1234 + (uint64_t)d, &doc, &err), FMT_OK);
        assert_int_equal(doc, (uint32_t)d);
        fmt_article_release(&a);
        /* ids are indexed at once, even while the helper still analyzes the text */
        assert_int_equal(fmt_seg_builder_find(b, FMT_NS_ID, id, strlen(id)), (uint32_t)d);
    }
    assert_true(fmt_seg_builder_bytes(b) > 0);
    assert_int_equal(fmt_seg_builder_write(b, path, &err), FMT_OK);
    fmt_seg_builder_free(b);
}

/* Assert that the files at P1 and P2 hold the same bytes. */
static void assert_same_bytes(const char *p1, const char *p2)
{
    FILE *f1 = fopen(p1, "rb"), *f2 = fopen(p2, "rb");
    long n1, n2;
    int c1, c2;

    assert_non_null(f1);
    assert_non_null(f2);
    fseek(f1, 0, SEEK_END);
    fseek(f2, 0, SEEK_END);
    n1 = ftell(f1);
    n2 = ftell(f2);
    assert_int_equal(n1, n2);
    rewind(f1);
    rewind(f2);
    do {
        c1 = fgetc(f1);
        c2 = fgetc(f2);
        assert_int_equal(c1, c2);
    } while (c1 != EOF);
    fclose(f1);
    fclose(f2);
}

/* Append "%s " of WORD to BUF (CAP bytes, *LEN used). */
static void put_word(char *buf, size_t cap, size_t *len, const char *word)
{
    *len += (size_t)snprintf(buf + *len, cap - *len, "%s ", word);
    assert_true(*len < cap);
}

/* Docs whose terms repeat within and across title, body and url: big ones (thousands of
 * distinct terms, position gaps over 127, a token longer than FMT_MAX_TERM) between small
 * ones, a first doc without any text, and 20 near-dup keys per doc, one of them twice. */
static void build_mixed(struct fixture *fx, const char *path, unsigned nthreads)
{
    static char body[120000];
    char title[256], word[400], id[32];
    struct fmt_seg_builder *b;
    struct fmt_analyzer_cfg cfg;
    struct fmt_err err;

    fmt_analyzer_cfg_default(&cfg);
    assert_int_equal(fmt_seg_builder_new(&b, fx->an, NULL), FMT_OK);
    assert_int_equal(fmt_seg_builder_set_threads(b, nthreads, &cfg, &err), FMT_OK);
    for (int d = 0; d < 40; d++) {
        size_t tl = 0, bl = 0;
        uint8_t keys[20 * 3];
        uint32_t tfs[20], doc;
        struct fmt_article a;
        int big = d % 4 == 1, n = big ? 3000 + 100 * d : 3 + d;
        put_word(title, sizeof(title), &tl, "nato");
        put_word(title, sizeof(title), &tl, d % 2 ? "summit" : "peace");
        put_word(title, sizeof(title), &tl, "nato");
        for (int k = 0; k < n; k++) {
            if (k % 50 == 0)
                put_word(body, sizeof(body), &bl, "nato");
            else if (k % 301 == 7)
                put_word(body, sizeof(body), &bl, "summit");
            snprintf(word, sizeof(word), "w%dq%d", (k * 7 + d) % (big ? 2500 : 40), k % 3);
            put_word(body, sizeof(body), &bl, word);
        }
        if (big) {
            memset(word, 'x', 300);
            word[300] = '\0';
            put_word(body, sizeof(body), &bl, word); /* longer than FMT_MAX_TERM */
            put_word(body, sizeof(body), &bl, "peace");
        }
        snprintf(id, sizeof(id), "mixed-%d", d);
        assert_int_equal(fmt_article_init(&a), FMT_OK);
        fmt_article_set(&a.id, id, strlen(id));
        if (d > 0) { /* doc 0 has no text at all */
            fmt_article_set(&a.title, title, tl);
            fmt_article_set(&a.body, body, bl);
            fmt_article_set(&a.url, "https://nato.int/nato/summit/2025/nato", 38);
        }
        fmt_article_set(&a.source, "Reuters", 7);
        a.timestamp = 5000 + d;
        assert_int_equal(fmt_seg_builder_add(b, &a, 0, &doc, &err), FMT_OK);
        assert_int_equal(doc, (uint32_t)d);
        fmt_article_release(&a);
        for (int k = 0; k < 20; k++) {
            int v = k == 19 ? 0 : k; /* key 0 again: the first posting stays */
            keys[3 * k] = (uint8_t)v;
            keys[3 * k + 1] = (uint8_t)(k < 10 ? 0 : d);
            keys[3 * k + 2] = 1;
            tfs[k] = 2 + (uint32_t)v;
        }
        assert_int_equal(
            fmt_seg_builder_add_keys(b, doc, FMT_NS_NEARDUP, keys, 3, tfs, 20, &err), FMT_OK);
    }
    assert_int_equal(fmt_seg_builder_write(b, path, &err), FMT_OK);
    fmt_seg_builder_free(b);
}

static void test_segment_two_threads_match_one_on_repeated_terms_and_big_docs(void **state)
{
    struct fixture *fx = *state;
    char path2[160];
    struct fmt_seg *seg;
    struct fmt_term_info ti;
    struct fmt_err err;
    const uint8_t key0[3] = {0, 0, 1}, key12[3] = {12, 5, 1};

    snprintf(path2, sizeof(path2), "%s/seg2.nxs", fx->dir);
    build_mixed(fx, fx->path, 1);
    build_mixed(fx, path2, 2);
    assert_same_bytes(fx->path, path2);
    assert_int_equal(fmt_seg_open(&seg, path2, &err), FMT_OK);
    assert_int_equal(fmt_seg_verify(seg, &err), FMT_OK);
    assert_int_equal(fmt_seg_lookup(seg, FMT_NS_TEXT, "nato", 4, &ti, &err), FMT_OK);
    assert_int_equal(ti.df, 39);
    assert_int_equal(ti.df_title, 39);
    assert_true(ti.pos_len > 0);
    assert_int_equal(fmt_seg_lookup(seg, FMT_NS_URL, "nato", 4, &ti, &err), FMT_OK);
    assert_int_equal(ti.df, 39);
    assert_int_equal(fmt_seg_lookup(seg, FMT_NS_NEARDUP, (const char *)key0, 3, &ti, &err),
                     FMT_OK);
    assert_int_equal(ti.df, 40);
    assert_int_equal(fmt_seg_lookup(seg, FMT_NS_NEARDUP, (const char *)key12, 3, &ti, &err),
                     FMT_OK);
    assert_int_equal(ti.df, 1);
    fmt_seg_close(seg);
    unlink(path2);
}

static void test_segment_two_threads_write_identical_bytes(void **state)
{
    struct fixture *fx = *state;
    char path2[160];
    struct fmt_seg *seg;
    struct fmt_err err;

    snprintf(path2, sizeof(path2), "%s/seg2.nxs", fx->dir);
    build_many(fx, fx->path, 1);
    build_many(fx, path2, 2);
    assert_same_bytes(fx->path, path2);
    assert_int_equal(fmt_seg_open(&seg, path2, &err), FMT_OK);
    assert_int_equal(fmt_seg_verify(seg, &err), FMT_OK);
    assert_int_equal(fmt_seg_stats(seg)->ndocs, 3000);
    assert_true(fmt_seg_stats(seg)->body_len_sum > 3000 * 5);
    fmt_seg_close(seg);
    unlink(path2);
}

struct prefix_ctx {
    char seen[16][32];
    int n;
};

static int on_prefix(void *ctx, const char *term, size_t len, const struct fmt_term_info *ti)
{
    struct prefix_ctx *c = ctx;

    (void)ti;
    assert_true(c->n < 16);
    snprintf(c->seen[c->n++], 32, "%.*s", (int)len, term);
    return 0;
}

/* Many docs and terms: crosses 128-doc postings blocks and 32-term dictionary blocks. */
static void test_segment_many_docs_cross_blocks(void **state)
{
    struct fixture *fx = *state;
    struct fmt_seg_builder *b;
    struct fmt_seg *seg;
    struct fmt_term_info ti;
    struct fmt_postings p;
    struct fmt_err err;
    struct prefix_ctx pc = {0};
    char id[32], body[256];
    uint32_t count = 0;

    assert_int_equal(fmt_seg_builder_new(&b, fx->an, NULL), FMT_OK);
    for (int i = 0; i < 1000; i++) {
        snprintf(id, sizeof(id), "doc%d", i);
        snprintf(body, sizeof(body), "common w%d x%d %s %s", i % 97, i, i % 3 == 0 ? "three" : "",
                 i < 130 ? (i == 129 ? "tail tail tail" : "tail") : "");
        add(b, id, "t", body, "", i);
    }
    assert_int_equal(fmt_seg_builder_write(b, fx->path, &err), FMT_OK);
    fmt_seg_builder_free(b);
    assert_int_equal(fmt_seg_open(&seg, fx->path, &err), FMT_OK);
    assert_int_equal(fmt_seg_verify(seg, &err), FMT_OK);

    assert_int_equal(fmt_seg_lookup(seg, FMT_NS_TEXT, "three", 5, &ti, &err), FMT_OK);
    assert_int_equal(ti.df, 334);
    assert_int_equal(fmt_postings_open(&p, seg, &ti, &err), FMT_OK);
    assert_int_equal(fmt_postings_advance(&p, 500, &err), FMT_OK);
    assert_int_equal(p.doc, 501);
    assert_int_equal(fmt_postings_advance(&p, 501, &err), FMT_OK);
    assert_int_equal(p.doc, 501);
    assert_int_equal(fmt_postings_next(&p, &err), FMT_OK);
    assert_int_equal(p.doc, 504);
    assert_int_equal(fmt_postings_advance(&p, 998, &err), FMT_OK);
    assert_int_equal(p.doc, 999);
    assert_int_equal(fmt_postings_advance(&p, 1000, &err), FMT_OK);
    assert_int_equal(p.doc, FMT_DOC_END);
    fmt_postings_release(&p);

    assert_int_equal(fmt_seg_lookup(seg, FMT_NS_TEXT, "common", 6, &ti, &err), FMT_OK);
    assert_int_equal(fmt_postings_open(&p, seg, &ti, &err), FMT_OK);
    {
        struct fmt_block_bound bb;
        assert_int_equal(fmt_postings_shallow_advance(&p, 300, &bb, &err), FMT_OK);
        assert_int_equal(bb.last_doc, 383);
        assert_int_equal(bb.max_tf[1], 1);
    }
    while (fmt_postings_next(&p, &err) == FMT_OK && p.doc != FMT_DOC_END)
        count++;
    assert_int_equal(count, 1000 - 256); /* started at the block holding 300 */
    fmt_postings_release(&p);

    /* 130 docs: a full block, then a small block of two docs (varints) */
    assert_int_equal(fmt_seg_lookup(seg, FMT_NS_TEXT, "tail", 4, &ti, &err), FMT_OK);
    assert_int_equal(ti.df, 130);
    assert_int_equal(fmt_postings_open(&p, seg, &ti, &err), FMT_OK);
    assert_int_equal(fmt_postings_advance(&p, 128, &err), FMT_OK);
    assert_int_equal(p.doc, 128);
    assert_int_equal(fmt_postings_tf(&p, FMT_FIELD_BODY), 1);
    assert_int_equal(fmt_postings_next(&p, &err), FMT_OK);
    assert_int_equal(p.doc, 129);
    assert_int_equal(fmt_postings_tf(&p, FMT_FIELD_BODY), 3);
    assert_int_equal(fmt_postings_tf(&p, FMT_FIELD_TITLE), 0);
    assert_int_equal(fmt_postings_next(&p, &err), FMT_OK);
    assert_int_equal(p.doc, FMT_DOC_END);
    fmt_postings_release(&p);
    {
        struct fmt_seg_sizes sz;
        assert_int_equal(fmt_seg_sizes(seg, &sz, &err), FMT_OK);
        assert_true(sz.skip_bytes > 0 && sz.skip_bytes < sz.section[0]);
    }

    assert_int_equal(fmt_seg_prefix(seg, FMT_NS_TEXT, "x99", 3, on_prefix, &pc, &err), FMT_OK);
    assert_int_equal(pc.n, 11); /* x99, x990..x999 */
    assert_string_equal(pc.seen[0], "x99");
    assert_string_equal(pc.seen[10], "x999");
    fmt_seg_close(seg);
}

static void test_segment_detects_flipped_and_truncated_bytes(void **state)
{
    struct fixture *fx = *state;
    struct fmt_seg_builder *b;
    struct fmt_seg *seg;
    struct fmt_err err;
    FILE *f;
    long size;
    int detected = 0;

    assert_int_equal(fmt_seg_builder_new(&b, fx->an, NULL), FMT_OK);
    for (int i = 0; i < 300; i++)
        add(b, "x", "title words", "body words and more words", "Src", i);
    assert_int_equal(fmt_seg_builder_write(b, fx->path, &err), FMT_OK);
    fmt_seg_builder_free(b);
    f = fopen(fx->path, "rb");
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fclose(f);
    srand(7);
    for (int round = 0; round < 50; round++) {
        long off = rand() % size;
        unsigned char c;
        int rc;
        f = fopen(fx->path, "r+b");
        fseek(f, off, SEEK_SET);
        assert_int_equal(fread(&c, 1, 1, f), 1);
        fseek(f, off, SEEK_SET);
        c ^= (unsigned char)(1 + rand() % 255);
        fwrite(&c, 1, 1, f);
        fclose(f);
        rc = fmt_seg_open(&seg, fx->path, &err);
        if (rc == FMT_OK) {
            rc = fmt_seg_verify(seg, &err);
            fmt_seg_close(seg);
        }
        detected += rc == FMT_ECORRUPT || rc == FMT_EVERSION;
        assert_int_not_equal(rc, FMT_OK);
        /* rebuild a clean file for the next round */
        assert_int_equal(unlink(fx->path), 0);
        assert_int_equal(fmt_seg_builder_new(&b, fx->an, NULL), FMT_OK);
        for (int i = 0; i < 300; i++)
            add(b, "x", "title words", "body words and more words", "Src", i);
        assert_int_equal(fmt_seg_builder_write(b, fx->path, &err), FMT_OK);
        fmt_seg_builder_free(b);
    }
    assert_int_equal(detected, 50);
    assert_int_equal(truncate(fx->path, size / 2), 0);
    assert_int_equal(fmt_seg_open(&seg, fx->path, &err), FMT_ECORRUPT);
}

/* A short list (one block, no skip entry) moved by shallow_advance before any advance
 * still finds its docs, and a cursor past the end stays there. */
static void test_segment_shallow_advance_then_advance_on_a_short_list(void **state)
{
    struct fixture *fx = *state;
    struct fmt_seg_builder *b;
    struct fmt_seg *seg;
    struct fmt_term_info ti;
    struct fmt_postings p;
    struct fmt_block_bound bb;
    struct fmt_err err;

    assert_int_equal(fmt_seg_builder_new(&b, fx->an, NULL), FMT_OK);
    add(b, "a", "x", "walrus", "", 1);
    add(b, "b", "x", "other", "", 2);
    add(b, "c", "x", "walrus walrus", "", 3);
    assert_int_equal(fmt_seg_builder_write(b, fx->path, &err), FMT_OK);
    fmt_seg_builder_free(b);
    assert_int_equal(fmt_seg_open(&seg, fx->path, &err), FMT_OK);
    assert_int_equal(fmt_seg_lookup(seg, FMT_NS_TEXT, "walrus", 6, &ti, &err), FMT_OK);
    assert_int_equal(fmt_postings_open(&p, seg, &ti, &err), FMT_OK);
    assert_int_equal(fmt_postings_shallow_advance(&p, 1, &bb, &err), FMT_OK);
    assert_int_equal(bb.last_doc, 2);
    assert_int_equal(fmt_postings_advance(&p, 1, &err), FMT_OK);
    assert_int_equal(p.doc, 2);
    assert_int_equal(fmt_postings_tf(&p, FMT_FIELD_BODY), 2);
    assert_int_equal(fmt_postings_next(&p, &err), FMT_OK);
    assert_int_equal(p.doc, FMT_DOC_END);
    assert_int_equal(fmt_postings_next(&p, &err), FMT_OK);
    assert_int_equal(p.doc, FMT_DOC_END);
    assert_int_equal(fmt_postings_advance(&p, 0, &err), FMT_OK);
    assert_int_equal(p.doc, FMT_DOC_END);
    fmt_postings_release(&p);
    fmt_seg_close(seg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_segment_roundtrips_small_docs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segment_words_of_one_stem_make_one_term, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_segment_shallow_advance_then_advance_on_a_short_list,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_segment_many_docs_cross_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segment_sizes_count_postings_and_positions, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_segment_two_threads_write_identical_bytes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_segment_two_threads_match_one_on_repeated_terms_and_big_docs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segment_detects_flipped_and_truncated_bytes, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
