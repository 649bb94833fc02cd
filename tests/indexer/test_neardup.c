/* test_neardup.c - near-duplicate detection: the MinHash sketch (identical, disjoint,
 * short and rewritten texts; estimate against exact Jaccard over random pairs), the LSH
 * band keys, the writer's ingest check (builder and committed segments, skipping, and
 * with the segments' band keys in a filter after many searches), and the cluster scan of `newsidx dups` (deletions, compaction). Texts are generated from a
 * seeded PRNG: no corpus text. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "neardup.h"
#include "snapshot.h"
#include "writer.h"

/* ---- generated text --------------------------------------------------------------- */

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Pseudo word number W (stories draw from 5,000, so texts share common words, as news
 * does, but rarely whole 5-word runs). */
static void put_word(struct fmt_buf *b, uint64_t w)
{
    uint64_t h = w * 0x9e3779b97f4a7c15ull + 1;
    size_t n = 3 + (size_t)(w % 7);

    if (b->len)
        assert_int_equal(fmt_buf_putc(b, ' '), FMT_OK);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(fmt_buf_putc(b, (uint8_t)('a' + (h >> (5 * i)) % 26)), FMT_OK);
    }
}

/* NWORDS generated words of story SEED into B (appended), NUL-terminated. */
static void story(struct fmt_buf *b, uint64_t seed, size_t nwords)
{
    uint64_t s = seed * 2654435761u + 88172645463325252ull;

    for (size_t i = 0; i < nwords; i++)
        put_word(b, rnd(&s) % 5000);
    assert_int_equal(fmt_buf_terminate(b), FMT_OK);
}

static double sim_of(const char *x, const char *y)
{
    struct idx_sketch a, b;

    idx_sketch_text(x, strlen(x), &a);
    idx_sketch_text(y, strlen(y), &b);
    return idx_sketch_similarity(&a, &b);
}

/* ---- sketches ------------------------------------------------------------------------ */

static void test_sketch_of_identical_texts_is_similarity_one(void **state)
{
    struct fmt_buf t;

    (void)state;
    fmt_buf_init(&t);
    story(&t, 1, 300);
    assert_true(sim_of((char *)t.p, (char *)t.p) == 1.0);
    fmt_buf_release(&t);
}

static void test_sketch_ignores_case_and_punctuation(void **state)
{
    const char *x = "The central bank held rates at 4.75% on Thursday, saying growth had "
                    "slowed; analysts had expected a cut after weak retail sales, and "
                    "markets fell sharply in early trading as investors reconsidered bets";
    const char *y = "THE CENTRAL BANK HELD RATES AT 4 75 ON THURSDAY SAYING GROWTH HAD "
                    "SLOWED ANALYSTS HAD EXPECTED A CUT AFTER WEAK RETAIL SALES AND "
                    "MARKETS FELL SHARPLY IN EARLY TRADING AS INVESTORS RECONSIDERED BETS";

    (void)state;
    assert_true(sim_of(x, y) == 1.0);
}

static void test_sketch_of_disjoint_texts_is_near_zero(void **state)
{
    struct fmt_buf x, y;

    (void)state;
    fmt_buf_init(&x);
    fmt_buf_init(&y);
    story(&x, 2, 300);
    story(&y, 3, 300);
    assert_true(sim_of((char *)x.p, (char *)y.p) < 0.05);
    fmt_buf_release(&x);
    fmt_buf_release(&y);
}

static void test_sketch_of_short_text_is_empty_and_never_similar(void **state)
{
    struct idx_sketch s;
    const char *brief = "Qtly div 12 cts vs 12 cts prior Pay April 15 Record April 1 Reuter";

    (void)state;
    idx_sketch_text(brief, strlen(brief), &s);
    assert_int_equal(s.nshingles, 0);
    assert_true(idx_sketch_similarity(&s, &s) == 0);
    idx_sketch_text("", 0, &s);
    assert_int_equal(s.nshingles, 0);
}

/* idx_sketch_article computes the content hash in its pass over the body; the values are
 * those of the stored FMT_NS_HASH terms of existing indexes, so they are pinned. */
static void test_content_hash_from_the_sketch_pass_is_the_pinned_hash(void **state)
{
    struct fmt_article a;
    struct idx_sketch s1, s2;
    uint64_t h;
    struct fmt_buf body;

    (void)state;
    memset(&a, 0, sizeof(a));
    a.title = "Caf\xc3\xa9 owners' U.S. deal";
    a.body = "  The cafe-owners, in KYIV's (\xe2\x80\x9cold\xe2\x80\x9d) town... signed 20.04 deals!";
    assert_true(idx_content_hash(&a) == 0x9e2e0d8af0bd76c3ull);
    idx_sketch_article(&a, &s1, &h);
    assert_true(h == 0x9e2e0d8af0bd76c3ull);
    a.title = "Cafe";
    a.body = "";
    idx_sketch_article(&a, &s1, &h);
    assert_true(h == 0x14c069ece04c67deull && idx_content_hash(&a) == h);
    /* moving a word from the title to the body changes the hash */
    a.title = "";
    a.body = "Cafe";
    assert_true(idx_content_hash(&a) != 0x14c069ece04c67deull);
    /* a long body: same sketch with and without the hash, same hash both ways */
    fmt_buf_init(&body);
    story(&body, 5, 400);
    a.title = "Wire copy";
    a.body = (char *)body.p;
    idx_sketch_article(&a, &s1, &h);
    idx_sketch_article(&a, &s2, NULL);
    assert_memory_equal(&s1, &s2, sizeof(s1));
    assert_true(s1.nshingles > 0 && h == idx_content_hash(&a));
    fmt_buf_release(&body);
}

/* FNV-1a over a sketch's values and count, and a content hash. */
static uint64_t sketch_digest(const struct idx_sketch *s, uint64_t content_hash)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (unsigned i = 0; i < IDX_ND_BINS; i++)
        h = (h ^ s->v[i]) * 0x100000001b3ull;
    return ((h ^ s->nshingles) * 0x100000001b3ull) ^ content_hash;
}

/* Sketches and content hashes are stored in existing indexes and compared with those of
 * new articles, so they are pinned: a 25-word body (most bins densified, many past the
 * table of first probes) and pieces of a body with mixed separators, capitals and
 * non-ASCII words cut around the byte loop's 512-byte steps: a word across a step, text
 * ending on a separator, inside a word and on a step. */
static void test_sketches_and_content_hashes_are_pinned(void **state)
{
    static const struct {
        size_t off, len; /* len 0: to the end */
        uint64_t digest;
    } want[] = {
        {0, 512, 0x6f9bafa1d7bced20ull}, /* "- " */
        {0, 513, 0xeae84c3d3c381adbull}, /* "- d": a word past the step */
        {0, 514, 0x33e3a10ca9aa9dc7ull},
        {1, 512, 0x48bc1f42ed9e53b2ull}, /* "- d": ends in a word on the step */
        {0, 1024, 0x7c5ff6b996ae93c5ull},
        {0, 0, 0x3fe9ab3984b67598ull},   /* ends in "na\xc3\xafve" */
        {1, 0, 0xe5c897a6e1adaa65ull},
        {2, 0, 0x467cbc7349830b31ull},   /* "dn...": a word across the step */
    };
    static const char *sep[] = {" ", ", ", "\n\n", " \xe2\x80\x94 ", "-", " (", ") "};
    struct fmt_buf b, cut;
    struct fmt_article a;
    struct idx_sketch s;
    uint64_t r = 99, h;

    (void)state;
    memset(&a, 0, sizeof(a));
    a.title = "Pinned";
    fmt_buf_init(&b);
    fmt_buf_init(&cut);
    story(&b, 7, 25);
    a.body = (char *)b.p;
    idx_sketch_article(&a, &s, &h);
    assert_true(s.nshingles == 21);
    assert_true(sketch_digest(&s, h) == 0x7494d30433974b48ull);
    b.len = 0;
    for (size_t i = 0; b.len < 2000; i++) {
        size_t at = b.len;
        if (i % 11 == 3) {
            assert_int_equal(fmt_buf_append(&b, " caf\xc3\xa9 na\xc3\xafve", 13), FMT_OK);
        } else {
            put_word(&b, rnd(&r) % 5000);
            if (i % 5 == 0)
                b.p[at + 1] = (uint8_t)(b.p[at + 1] - 32); /* after put_word's space */
        }
        if (i % 3 == 0)
            assert_int_equal(fmt_buf_append(&b, sep[i % 7], strlen(sep[i % 7])), FMT_OK);
    }
    assert_int_equal(fmt_buf_terminate(&b), FMT_OK);
    for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
        size_t len = want[k].len ? want[k].len : b.len - want[k].off;
        cut.len = 0;
        assert_int_equal(fmt_buf_append(&cut, b.p + want[k].off, len), FMT_OK);
        assert_int_equal(fmt_buf_terminate(&cut), FMT_OK);
        a.body = (char *)cut.p;
        idx_sketch_article(&a, &s, &h);
        assert_true(s.nshingles > 0 && sketch_digest(&s, h) == want[k].digest);
    }
    fmt_buf_release(&b);
    fmt_buf_release(&cut);
}

/* The syndicated rewrite: another headline (not sketched), a dateline, a last paragraph. */
static void rewrite(struct fmt_buf *out, const char *body, uint64_t extra_seed, size_t extra)
{
    struct fmt_buf tail;

    fmt_buf_init(&tail);
    story(&tail, extra_seed, extra);
    assert_int_equal(fmt_buf_printf(out, "LONDON (Reuters) - %s\n\n%s", body, (char *)tail.p),
                     FMT_OK);
    assert_int_equal(fmt_buf_terminate(out), FMT_OK);
    fmt_buf_release(&tail);
}

static void test_rewrite_with_dateline_and_extra_paragraph_is_above_threshold(void **state)
{
    struct fmt_buf body, re;
    double exact, est;

    (void)state;
    fmt_buf_init(&body);
    fmt_buf_init(&re);
    story(&body, 4, 300);
    rewrite(&re, (char *)body.p, 5, 30);
    assert_int_equal(idx_shingle_jaccard((char *)body.p, body.len, (char *)re.p, re.len, &exact),
                     FMT_OK);
    assert_true(exact > 0.85 && exact < 0.95); /* 296 / (296 + 3 + 30) = 0.90 */
    est = sim_of((char *)body.p, (char *)re.p);
    assert_true(est >= IDX_ND_DEFAULT_THRESHOLD);
    assert_true(fabs(est - exact) < 0.12);
    fmt_buf_release(&body);
    fmt_buf_release(&re);
}

/* Story SEED of N words where each word is replaced with probability P by a word no
 * story uses. */
static void mutate(struct fmt_buf *out, uint64_t seed, size_t n, double p, uint64_t *r)
{
    uint64_t s = seed * 2654435761u + 88172645463325252ull;

    for (size_t i = 0; i < n; i++) {
        uint64_t w = rnd(&s) % 5000;
        if ((double)(rnd(r) % 10000) / 10000 < p)
            w = 5000 + rnd(r) % 100000;
        put_word(out, w);
    }
    assert_int_equal(fmt_buf_terminate(out), FMT_OK);
}

static void test_estimate_tracks_exact_jaccard_over_random_pairs(void **state)
{
    uint64_t r = 12345;
    double sum_err = 0, sum_abs = 0, worst = 0;
    int n = 0, spread[4] = {0, 0, 0, 0};

    (void)state;
    for (int k = 0; k < 200; k++) {
        struct fmt_buf a, b;
        size_t words = 80 + rnd(&r) % 600;
        double p = (double)(rnd(&r) % 1000) / 4000; /* replace up to 25% of the words */
        double exact, est, e;
        fmt_buf_init(&a);
        fmt_buf_init(&b);
        story(&a, 100 + (uint64_t)k, words);
        mutate(&b, 100 + (uint64_t)k, words, p, &r);
        assert_int_equal(idx_shingle_jaccard((char *)a.p, a.len, (char *)b.p, b.len, &exact),
                         FMT_OK);
        est = sim_of((char *)a.p, (char *)b.p);
        e = est - exact;
        sum_err += e;
        sum_abs += fabs(e);
        worst = fabs(e) > worst ? fabs(e) : worst;
        spread[exact < 0.25 ? 0 : exact < 0.5 ? 1 : exact < 0.75 ? 2 : 3]++;
        n++;
        fmt_buf_release(&a);
        fmt_buf_release(&b);
    }
    /* standard error sqrt(J(1-J)/128) <= 0.045: 4.5 sigma at worst, unbiased on average */
    assert_true(worst < 0.2);
    assert_true(sum_abs / n < 0.05);
    assert_true(fabs(sum_err / n) < 0.015);
    for (int i = 0; i < 4; i++)
        assert_true(spread[i] >= 10); /* the pairs cover the whole range of J */
}

static void test_band_keys_collide_for_near_copies_not_for_unrelated(void **state)
{
    struct fmt_buf x, y, z;
    struct idx_sketch a, b, c;
    uint8_t ta[IDX_ND_BANDS * IDX_ND_TERM_BYTES], tb[sizeof(ta)], tc[sizeof(ta)];
    uint32_t fa[IDX_ND_BANDS], fb[IDX_ND_BANDS], fc[IDX_ND_BANDS];
    int ab = 0, ac = 0;

    (void)state;
    fmt_buf_init(&x);
    fmt_buf_init(&y);
    fmt_buf_init(&z);
    story(&x, 7, 400);
    rewrite(&y, (char *)x.p, 8, 10);
    story(&z, 9, 400);
    idx_sketch_text((char *)x.p, x.len, &a);
    idx_sketch_text((char *)y.p, y.len, &b);
    idx_sketch_text((char *)z.p, z.len, &c);
    idx_sketch_band_keys(&a, ta, fa);
    idx_sketch_band_keys(&b, tb, fb);
    idx_sketch_band_keys(&c, tc, fc);
    for (int t = 0; t < IDX_ND_BANDS; t++) {
        const size_t o = (size_t)t * IDX_ND_TERM_BYTES;
        assert_int_equal(ta[o], t); /* the band number leads the term */
        assert_true(fa[t] >= 1 && fa[t] <= 1u << IDX_ND_CHECK_BITS);
        ab += !memcmp(ta + o, tb + o, IDX_ND_TERM_BYTES) && fa[t] == fb[t];
        ac += !memcmp(ta + o, tc + o, IDX_ND_TERM_BYTES) && fa[t] == fc[t];
    }
    assert_true(ab >= 2);
    assert_int_equal(ac, 0);
    fmt_buf_release(&x);
    fmt_buf_release(&y);
    fmt_buf_release(&z);
}

/* ---- the writer and the cluster scan ----------------------------------------------------- */

static void rm_rf(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];

    if (!d)
        return;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static enum idx_add_outcome add(struct idx_writer *w, const char *id, const char *title,
                                const char *body)
{
    struct fmt_article a;
    struct fmt_err err = {0, ""};
    enum idx_add_outcome out;

    assert_int_equal(fmt_article_init(&a), FMT_OK);
    assert_int_equal(fmt_article_set(&a.id, id, strlen(id)), FMT_OK);
    assert_int_equal(fmt_article_set(&a.title, title, strlen(title)), FMT_OK);
    assert_int_equal(fmt_article_set(&a.body, body, strlen(body)), FMT_OK);
    assert_int_equal(idx_writer_add(w, &a, &out, &err), FMT_OK);
    fmt_article_release(&a);
    return out;
}

struct texts {
    struct fmt_buf orig, re1, re2, other;
};

static void texts_make(struct texts *t)
{
    fmt_buf_init(&t->orig);
    fmt_buf_init(&t->re1);
    fmt_buf_init(&t->re2);
    fmt_buf_init(&t->other);
    story(&t->orig, 20, 350);
    rewrite(&t->re1, (char *)t->orig.p, 21, 25);
    rewrite(&t->re2, (char *)t->orig.p, 22, 15);
    story(&t->other, 23, 350);
}

static void texts_release(struct texts *t)
{
    fmt_buf_release(&t->orig);
    fmt_buf_release(&t->re1);
    fmt_buf_release(&t->re2);
    fmt_buf_release(&t->other);
}

static void test_writer_counts_rewritten_copy_in_builder_and_in_segments(void **state)
{
    char dir[64];
    struct idx_writer_opts o;
    struct idx_writer *w;
    struct texts t;

    (void)state;
    texts_make(&t);
    snprintf(dir, sizeof(dir), "/tmp/nx-neardup-XXXXXX");
    assert_non_null(mkdtemp(dir));
    idx_writer_opts_default(&o);
    assert_int_equal(idx_writer_open(&w, dir, &o, NULL), FMT_OK);
    assert_int_equal(add(w, "wire-1", "Talks collapse", (char *)t.orig.p), IDX_ADDED);
    assert_int_equal(add(w, "other-1", "Something else", (char *)t.other.p), IDX_ADDED);
    assert_int_equal(idx_writer_counts(w)->near_duplicates, 0);
    /* a rewrite under another id while the original is still in the builder */
    assert_int_equal(add(w, "paper-1", "Talks end without a deal", (char *)t.re1.p), IDX_ADDED);
    assert_int_equal(idx_writer_counts(w)->near_duplicates, 1);
    assert_int_equal(idx_writer_commit(w, NULL), FMT_OK);
    /* and once it is in a committed segment */
    assert_int_equal(add(w, "paper-2", "No deal", (char *)t.re2.p), IDX_ADDED);
    assert_int_equal(idx_writer_counts(w)->near_duplicates, 2);
    /* replacing an id with its own rewrite is a replacement, not a near-duplicate */
    assert_int_equal(add(w, "paper-2", "No deal (updated)", (char *)t.re1.p), IDX_REPLACED);
    assert_int_equal(idx_writer_counts(w)->near_duplicates, 2);
    assert_int_equal(idx_writer_commit(w, NULL), FMT_OK);
    idx_writer_close(w);

    /* a later session, and a threshold no rewrite reaches */
    o.near_threshold = 1.0;
    assert_int_equal(idx_writer_open(&w, dir, &o, NULL), FMT_OK);
    assert_int_equal(add(w, "paper-3", "Deal off", (char *)t.re2.p), IDX_ADDED);
    assert_int_equal(idx_writer_counts(w)->near_duplicates, 0);
    idx_writer_close(w); /* not committed */
    rm_rf(dir);
    texts_release(&t);
}

static void test_writer_skips_near_duplicates_when_asked(void **state)
{
    char dir[64];
    struct idx_writer_opts o;
    struct idx_writer *w;
    struct fmt_snapshot *s;
    struct texts t;

    (void)state;
    texts_make(&t);
    snprintf(dir, sizeof(dir), "/tmp/nx-neardup-XXXXXX");
    assert_non_null(mkdtemp(dir));
    idx_writer_opts_default(&o);
    o.skip_near_duplicates = 1;
    assert_int_equal(idx_writer_open(&w, dir, &o, NULL), FMT_OK);
    assert_int_equal(add(w, "wire-1", "Talks collapse", (char *)t.orig.p), IDX_ADDED);
    assert_int_equal(add(w, "paper-1", "Talks end", (char *)t.re1.p), IDX_NEAR_DUPLICATE);
    assert_int_equal(add(w, "other-1", "Something else", (char *)t.other.p), IDX_ADDED);
    assert_int_equal(idx_writer_commit(w, NULL), FMT_OK);
    assert_int_equal(add(w, "paper-2", "No deal", (char *)t.re2.p), IDX_NEAR_DUPLICATE);
    assert_int_equal(idx_writer_counts(w)->near_duplicates, 2);
    assert_int_equal(idx_writer_commit(w, NULL), FMT_OK);
    idx_writer_close(w);
    assert_int_equal(fmt_snapshot_open(&s, dir, NULL), FMT_OK);
    assert_int_equal(fmt_snapshot_stats(s)->ndocs, 2);
    fmt_snapshot_close(s);
    rm_rf(dir);
    texts_release(&t);
}

/* A long session: past IDX_ND_FILTER_AFTER searches the segments' band keys go into a
 * filter that is rebuilt as it fills; rewrites of articles from before it was built, from
 * earlier segments and from the builder are all still found (a filter that wrongly said
 * "absent" would lose them), and unrelated articles are not counted. */
static void test_writer_finds_rewrites_after_the_segment_filter_is_on(void **state)
{
    const unsigned n_orig = 30, n_filler = IDX_ND_FILTER_AFTER + 1500;
    char dir[64], id[32];
    struct idx_writer_opts o;
    struct idx_writer *w;
    struct fmt_buf b;

    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/nx-neardup-XXXXXX");
    assert_non_null(mkdtemp(dir));
    idx_writer_opts_default(&o);
    o.threads = 1;
    assert_int_equal(idx_writer_open(&w, dir, &o, NULL), FMT_OK);
    for (unsigned i = 0; i < n_orig + n_filler; i++) {
        fmt_buf_init(&b);
        story(&b, 1000 + i, 40 + i % 50);
        snprintf(id, sizeof(id), "a-%u", i);
        assert_int_equal(add(w, id, "Story", (char *)b.p), IDX_ADDED);
        fmt_buf_release(&b);
        if (i % 400 == 399) /* segments */
            assert_int_equal(idx_writer_commit(w, NULL), FMT_OK);
    }
    assert_int_equal(idx_writer_counts(w)->near_duplicates, 0);
    /* rewrites of the first articles (in the first segment, before the filter) and of
     * later ones (added after it was built and rebuilt, in a committed segment) */
    for (unsigned k = 0; k < 2 * n_orig; k++) {
        unsigned i = k < n_orig ? k : n_filler - 450 + k;
        struct fmt_buf orig, re;
        fmt_buf_init(&orig);
        fmt_buf_init(&re);
        story(&orig, 1000 + i, 40 + i % 50);
        rewrite(&re, (char *)orig.p, 5000 + k, 3);
        snprintf(id, sizeof(id), "re-%u", k);
        assert_int_equal(add(w, id, "Rewrite", (char *)re.p), IDX_ADDED);
        fmt_buf_release(&orig);
        fmt_buf_release(&re);
    }
    assert_int_equal(idx_writer_counts(w)->near_duplicates, 2 * n_orig);
    idx_writer_close(w);
    rm_rf(dir);
}

/* Ids of cluster K, in order, joined with spaces. */
static void cluster_ids(const struct fmt_snapshot *s, const struct idx_nd_clusters *c, size_t k,
                        char *out, size_t cap)
{
    struct fmt_buf scratch;
    size_t len = 0;

    fmt_buf_init(&scratch);
    out[0] = 0;
    for (size_t i = c->start[k]; i < c->start[k + 1]; i++) {
        struct fmt_article a;
        assert_int_equal(fmt_seg_doc(fmt_snapshot_seg(s, c->members[i].seg), c->members[i].doc,
                                     &scratch, &a, NULL),
                         FMT_OK);
        len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? " " : "", a.id);
        if (i == c->start[k])
            assert_true(c->members[i].similarity == 1.0);
        else
            assert_true(c->members[i].similarity >= IDX_ND_DEFAULT_THRESHOLD);
        fmt_article_release(&a);
    }
    fmt_buf_release(&scratch);
}

static void expect_clusters(const char *dir, const char *want)
{
    struct fmt_snapshot *s;
    struct idx_nd_clusters c;
    char ids[256];

    assert_int_equal(fmt_snapshot_open(&s, dir, NULL), FMT_OK);
    assert_int_equal(idx_neardup_clusters(s, IDX_ND_DEFAULT_THRESHOLD, &c, NULL), FMT_OK);
    if (!want) {
        assert_int_equal(c.nclusters, 0);
    } else {
        assert_int_equal(c.nclusters, 1);
        cluster_ids(s, &c, 0, ids, sizeof(ids));
        assert_string_equal(ids, want);
    }
    idx_nd_clusters_release(&c);
    fmt_snapshot_close(s);
}

static void test_clusters_span_segments_skip_deleted_and_survive_compaction(void **state)
{
    char dir[64];
    struct idx_writer_opts o;
    struct idx_writer *w;
    struct texts t;
    int found;

    (void)state;
    texts_make(&t);
    snprintf(dir, sizeof(dir), "/tmp/nx-neardup-XXXXXX");
    assert_non_null(mkdtemp(dir));
    idx_writer_opts_default(&o);
    o.merge_factor = 0;
    assert_int_equal(idx_writer_open(&w, dir, &o, NULL), FMT_OK);
    add(w, "wire-1", "Talks collapse", (char *)t.orig.p);
    add(w, "other-1", "Something else", (char *)t.other.p);
    assert_int_equal(idx_writer_commit(w, NULL), FMT_OK);
    add(w, "paper-1", "Talks end", (char *)t.re1.p);
    assert_int_equal(idx_writer_commit(w, NULL), FMT_OK);
    add(w, "paper-2", "No deal", (char *)t.re2.p);
    assert_int_equal(idx_writer_commit(w, NULL), FMT_OK);
    assert_int_equal(idx_writer_nsegs(w), 3);
    expect_clusters(dir, "wire-1 paper-1 paper-2");

    assert_int_equal(idx_writer_delete(w, "paper-1", &found, NULL), FMT_OK);
    assert_int_equal(idx_writer_commit(w, NULL), FMT_OK);
    expect_clusters(dir, "wire-1 paper-2");

    /* compaction re-adds every article: the band keys must come back with them */
    assert_int_equal(idx_writer_compact(w, NULL), FMT_OK);
    assert_int_equal(idx_writer_nsegs(w), 1);
    expect_clusters(dir, "wire-1 paper-2");
    assert_int_equal(idx_writer_delete(w, "wire-1", &found, NULL), FMT_OK);
    assert_int_equal(idx_writer_commit(w, NULL), FMT_OK);
    expect_clusters(dir, NULL);
    idx_writer_close(w);
    rm_rf(dir);
    texts_release(&t);
}

static void test_builder_add_keys_refuses_other_than_the_last_doc(void **state)
{
    struct fmt_analyzer_cfg cfg;
    struct fmt_analyzer *an;
    struct fmt_seg_builder *b;
    struct fmt_article a;
    struct fmt_err err = {0, ""};
    const uint8_t key[3] = {1, 2, 3};
    const uint32_t tf = 7;
    uint32_t doc;

    (void)state;
    fmt_analyzer_cfg_default(&cfg);
    assert_int_equal(fmt_analyzer_new(&an, &cfg, NULL), FMT_OK);
    assert_int_equal(fmt_seg_builder_new(&b, an, NULL), FMT_OK);
    assert_int_equal(fmt_seg_builder_add_keys(b, 0, FMT_NS_NEARDUP, key, 3, &tf, 1, &err),
                     FMT_EINVAL); /* no doc yet */
    assert_int_equal(fmt_article_init(&a), FMT_OK);
    assert_int_equal(fmt_article_set(&a.id, "x", 1), FMT_OK);
    assert_int_equal(fmt_seg_builder_add(b, &a, 0, &doc, NULL), FMT_OK);
    assert_int_equal(fmt_seg_builder_add(b, &a, 0, &doc, NULL), FMT_OK);
    assert_int_equal(fmt_seg_builder_add_keys(b, 0, FMT_NS_NEARDUP, key, 3, &tf, 1, &err),
                     FMT_EINVAL);
    assert_int_equal(fmt_seg_builder_add_keys(b, 1, FMT_NS_TEXT, key, 3, &tf, 1, &err),
                     FMT_EINVAL);
    assert_int_equal(fmt_seg_builder_add_keys(b, 1, FMT_NS_NEARDUP, key, 3, &tf, 1, &err),
                     FMT_OK);
    assert_int_equal(fmt_seg_builder_find(b, FMT_NS_NEARDUP, key, 3), 1);
    fmt_article_release(&a);
    fmt_seg_builder_free(b);
    fmt_analyzer_free(an);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sketch_of_identical_texts_is_similarity_one),
        cmocka_unit_test(test_sketch_ignores_case_and_punctuation),
        cmocka_unit_test(test_sketch_of_disjoint_texts_is_near_zero),
        cmocka_unit_test(test_sketch_of_short_text_is_empty_and_never_similar),
        cmocka_unit_test(test_content_hash_from_the_sketch_pass_is_the_pinned_hash),
        cmocka_unit_test(test_sketches_and_content_hashes_are_pinned),
        cmocka_unit_test(test_rewrite_with_dateline_and_extra_paragraph_is_above_threshold),
        cmocka_unit_test(test_estimate_tracks_exact_jaccard_over_random_pairs),
        cmocka_unit_test(test_band_keys_collide_for_near_copies_not_for_unrelated),
        cmocka_unit_test(test_writer_counts_rewritten_copy_in_builder_and_in_segments),
        cmocka_unit_test(test_writer_skips_near_duplicates_when_asked),
        cmocka_unit_test(test_writer_finds_rewrites_after_the_segment_filter_is_on),
        cmocka_unit_test(test_clusters_span_segments_skip_deleted_and_survive_compaction),
        cmocka_unit_test(test_builder_add_keys_refuses_other_than_the_last_doc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
