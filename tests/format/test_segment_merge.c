/* test_segment_merge.c - the segment merger: its output equals the segment the builder
 * writes for the same live articles, byte for byte up to the doc store and stored doc by
 * stored doc after it (deletions, terms in only some inputs, lists crossing 128-doc
 * blocks, positions, near-dup keys, many sources, inputs left empty by deletions, spill
 * files, one or two threads: the same file), copies doc-store blocks whose docs all stay
 * live as they are, passes fmt_seg_verify, and leaves no file behind, also when an input
 * is corrupt or a temporary cannot be created. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer.h"
#include "article.h"
#include "buf.h"
#include "io.h"
#include "same_segment.h"
#include "segment.h"
#include "segment_merge.h"

#define MAX_IN 4

struct fixture {
    char dir[64];
    struct fmt_analyzer *an;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    struct fmt_analyzer_cfg cfg;

    snprintf(fx->dir, sizeof(fx->dir), "/tmp/nx-merge-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    fmt_analyzer_cfg_default(&cfg);
    assert_int_equal(fmt_analyzer_new(&fx->an, &cfg, NULL), FMT_OK);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    DIR *d = opendir(fx->dir);
    struct dirent *e;
    char path[512];

    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", fx->dir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(fx->dir);
    fmt_analyzer_free(fx->an);
    free(fx);
    return 0;
}

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

/* Article K of input SEG (deterministic): words common to all (long lists), words of its
 * input only, a word of its own, repeated words (tf > 1, positions), a source among
 * NSOURCES. */
static void make_article(struct fmt_article *a, uint32_t k, unsigned seg, unsigned nsources)
{
    struct fmt_buf t, b, s;
    uint32_t r = k * 2654435761u + 7;
    char id[32], url[96];
    unsigned nw = 5 + lcg(&r) % 60;

    fmt_buf_init(&t);
    fmt_buf_init(&b);
    fmt_buf_init(&s);
    fmt_buf_printf(&t, "w%u w%u headline%u", lcg(&r) % 40, lcg(&r) % 9, k % 3);
    for (unsigned i = 0; i < nw; i++)
        fmt_buf_printf(&b, "w%u ", lcg(&r) % 50);
    fmt_buf_printf(&b, "only%u uniq%u common common", seg, k);
    if (k % 5 == 0)
        fmt_buf_printf(&b, " rare%u", k % 11);
    fmt_buf_printf(&s, "Source %u", k % nsources);
    fmt_buf_terminate(&t);
    fmt_buf_terminate(&b);
    fmt_buf_terminate(&s);
    snprintf(id, sizeof(id), "doc-%u", k);
    snprintf(url, sizeof(url), "https://news.example/%u/w%u/story", k % 13, k % 50);
    assert_int_equal(fmt_article_init(a), FMT_OK);
    fmt_article_set(&a->id, id, strlen(id));
    fmt_article_set(&a->title, (const char *)t.p, t.len);
    fmt_article_set(&a->body, (const char *)b.p, b.len);
    fmt_article_set(&a->source, (const char *)s.p, s.len);
    fmt_article_set(&a->url, url, strlen(url));
    a->timestamp = k % 17 == 0 ? FMT_NO_TIME : 1700000000 + (int64_t)k * 3600;
    fmt_buf_release(&t);
    fmt_buf_release(&b);
    fmt_buf_release(&s);
}

/* Add article K (of input SEG) as the writer would: content hash and, for some, two
 * near-dup band keys. */
static void add_article(struct fmt_seg_builder *b, uint32_t k, unsigned seg, unsigned nsources)
{
    struct fmt_article a;
    uint32_t doc, tfs[2] = {1 + k % 5, 3};
    uint8_t keys[6] = {0, (uint8_t)(k % 7), 1, 1, (uint8_t)(k % 3), 0};

    make_article(&a, k, seg, nsources);
    assert_int_equal(fmt_seg_builder_add(b, &a, 0x9e37ull * (k + 1), &doc, NULL), FMT_OK);
    if (k % 3 == 0)
        assert_int_equal(fmt_seg_builder_add_keys(b, doc, FMT_NS_NEARDUP, keys, 3, tfs, 2, NULL),
                         FMT_OK);
    fmt_article_release(&a);
}

/* One merge input: articles [first, first + n) of input number SEG, and its deletions. */
struct spec {
    uint32_t first, n;
    unsigned del_every; /* delete doc d when d % del_every == del_at; 0: none */
    unsigned del_at;
    int del_all;
};

static int spec_deleted(const struct spec *s, uint32_t d)
{
    return s->del_all || (s->del_every && d % s->del_every == s->del_at);
}

static void read_file(const char *path, struct fmt_buf *out)
{
    struct fmt_err err;

    fmt_buf_init(out);
    assert_int_equal(fmt_io_read_file(path, out, &err), FMT_OK);
}

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

/* Build each spec as its own segment, merge them with their deletions, and check the
 * result against a segment built directly from the live articles (assert_same_segment)
 * and through fmt_seg_verify. Returns the merged doc count; the merged file's bytes go to
 * *KEPT when KEPT is not NULL. */
static uint32_t merge_and_compare(struct fixture *fx, const struct spec *sp, size_t nspec,
                                  unsigned nsources, size_t spill, unsigned threads,
                                  struct fmt_buf *kept)
{
    char in_path[MAX_IN][128], out[128], ref[128];
    struct fmt_seg *seg[MAX_IN], *merged;
    struct fmt_seg_merge_input in[MAX_IN];
    uint8_t *bits[MAX_IN];
    struct fmt_seg_merge_opts opts = {spill, threads};
    struct fmt_err err;
    uint32_t ndocs = 0, live = 0;

    for (size_t i = 0; i < nspec; i++) {
        snprintf(in_path[i], sizeof(in_path[i]), "%s/in-%zu.nxs", fx->dir, i);
        {
            struct fmt_seg_builder *bb;
            assert_int_equal(fmt_seg_builder_new(&bb, fx->an, NULL), FMT_OK);
            for (uint32_t d = 0; d < sp[i].n; d++)
                add_article(bb, sp[i].first + d, (unsigned)i, nsources);
            assert_int_equal(fmt_seg_builder_write(bb, in_path[i], &err), FMT_OK);
            fmt_seg_builder_free(bb);
        }
        assert_int_equal(fmt_seg_open(&seg[i], in_path[i], &err), FMT_OK);
        bits[i] = NULL;
        for (uint32_t d = 0; d < sp[i].n; d++) {
            if (spec_deleted(&sp[i], d)) {
                if (!bits[i])
                    bits[i] = calloc((sp[i].n + 7) / 8, 1);
                bits[i][d >> 3] |= (uint8_t)(1u << (d & 7));
            } else {
                live++;
            }
        }
        in[i].seg = seg[i];
        in[i].deleted = bits[i];
    }
    snprintf(out, sizeof(out), "%s/merged.nxs", fx->dir);
    snprintf(ref, sizeof(ref), "%s/ref.nxs", fx->dir);
    assert_int_equal(fmt_seg_merge(in, nspec, out, &opts, &ndocs, &err), FMT_OK);
    assert_int_equal(ndocs, live);
    if (live) {
        struct fmt_seg_builder *rb;
        assert_int_equal(fmt_seg_builder_new(&rb, fx->an, NULL), FMT_OK);
        for (size_t i = 0; i < nspec; i++)
            for (uint32_t d = 0; d < sp[i].n; d++)
                if (!spec_deleted(&sp[i], d))
                    add_article(rb, sp[i].first + d, (unsigned)i, nsources);
        assert_int_equal(fmt_seg_builder_write(rb, ref, &err), FMT_OK);
        fmt_seg_builder_free(rb);
        assert_int_equal(fmt_seg_open(&merged, out, &err), FMT_OK);
        assert_int_equal(fmt_seg_verify(merged, &err), FMT_OK);
        assert_int_equal(fmt_seg_stats(merged)->ndocs, live);
        fmt_seg_close(merged);
        assert_same_segment(out, ref);
        if (kept)
            read_file(out, kept);
    } else {
        assert_int_equal(access(out, F_OK), -1); /* nothing written */
    }
    /* the inputs, the output and the reference: no temporary is left */
    assert_int_equal(count_files(fx->dir), (int)nspec + (live ? 2 : 0));
    for (size_t i = 0; i < nspec; i++) {
        fmt_seg_close(seg[i]);
        free(bits[i]);
        unlink(in_path[i]);
    }
    unlink(out);
    unlink(ref);
    return ndocs;
}

static void test_merge_is_byte_identical_to_a_direct_build(void **state)
{
    /* lists cross 128-doc blocks within and across inputs; "only1" exists in one input;
     * the second input loses every doc and its words vanish */
    const struct spec sp[] = {
        {0, 300, 7, 3, 0},
        {300, 9, 0, 0, 1},
        {309, 451, 4, 1, 0},
        {760, 130, 0, 0, 0},
    };

    struct fmt_buf one, two;

    /* the doc store compressed on the calling thread and on a helper: the same file */
    assert_int_equal(merge_and_compare(*state, sp, 4, 23, 0, 1, &one), 300 - 43 + 451 - 113 + 130);
    assert_int_equal(merge_and_compare(*state, sp, 4, 23, 0, 2, &two), 300 - 43 + 451 - 113 + 130);
    assert_int_equal(one.len, two.len);
    assert_memory_equal(one.p, two.p, one.len);
    fmt_buf_release(&one);
    fmt_buf_release(&two);
}

static int contains(const struct fmt_buf *hay, const uint8_t *needle, size_t n)
{
    for (size_t i = 0; i + n <= hay->len; i++)
        if (hay->p[i] == needle[0] && !memcmp(hay->p + i, needle, n))
            return 1;
    return 0;
}

/* The doc-store blocks of inputs without deletions reach the output as they are (no
 * second compression); the blocks of an input with deletions in each do not. */
static void test_merge_copies_whole_live_blocks(void **state)
{
    struct fixture *fx = *state;
    const struct spec sp[] = {{0, 300, 0, 0, 0}, {300, 200, 9, 4, 0}, {500, 300, 0, 0, 0}};
    struct fmt_seg *seg[3];
    struct fmt_buf merged;
    struct fmt_err err;
    char path[3][128];

    merge_and_compare(fx, sp, 3, 4, 0, 2, &merged);
    for (unsigned i = 0; i < 3; i++) {
        struct fmt_seg_builder *bb;
        uint32_t found = 0, n;
        snprintf(path[i], sizeof(path[i]), "%s/again-%u.nxs", fx->dir, i);
        assert_int_equal(fmt_seg_builder_new(&bb, fx->an, NULL), FMT_OK);
        for (uint32_t d = 0; d < sp[i].n; d++)
            add_article(bb, sp[i].first + d, i, 4);
        assert_int_equal(fmt_seg_builder_write(bb, path[i], &err), FMT_OK);
        fmt_seg_builder_free(bb);
        assert_int_equal(fmt_seg_open(&seg[i], path[i], &err), FMT_OK);
        n = fmt_seg_doc_blocks(seg[i]);
        assert_true(n >= 3);
        for (uint32_t blk = 0; blk < n; blk++) {
            const uint8_t *z;
            uint32_t bfirst, raw_len;
            size_t zlen = fmt_seg_doc_block_zlib(seg[i], blk, &z, &bfirst, &raw_len);
            assert_true(zlen > 0);
            found += contains(&merged, z, zlen);
        }
        /* the input with deletions: re-packed (every block loses docs) */
        assert_int_equal(found, i == 1 ? 0 : n);
        {
            const uint8_t *z;
            uint32_t bfirst, raw_len;
            assert_int_equal(fmt_seg_doc_block_zlib(seg[i], n, &z, &bfirst, &raw_len), 0);
        }
        fmt_seg_close(seg[i]);
        unlink(path[i]);
    }
    fmt_buf_release(&merged);
}

static void test_merge_without_deletions_and_many_sources(void **state)
{
    const struct spec sp[] = {{0, 200, 0, 0, 0}, {200, 1, 0, 0, 0}, {201, 700, 0, 0, 0}};

    assert_int_equal(merge_and_compare(*state, sp, 3, 500, 0, 0, NULL), 901);
}

static void test_merge_through_spill_files_is_identical(void **state)
{
    /* 64-byte spill limit: every term's blocks and the positions go through files */
    const struct spec sp[] = {{0, 400, 3, 0, 0}, {400, 260, 5, 2, 0}};

    merge_and_compare(*state, sp, 2, 7, 64, 2, NULL);
}

static void test_merge_of_one_input_is_the_input(void **state)
{
    const struct spec sp[] = {{0, 333, 0, 0, 0}};

    assert_int_equal(merge_and_compare(*state, sp, 1, 5, 0, 1, NULL), 333);
}

static void test_merge_with_every_doc_deleted_writes_nothing(void **state)
{
    const struct spec sp[] = {{0, 40, 0, 0, 1}, {40, 3, 1, 0, 0}};

    assert_int_equal(merge_and_compare(*state, sp, 2, 3, 0, 2, NULL), 0);
}

/* Write a 300-article input, damage it with DAMAGE (on the file's bytes), merge it alone
 * with THREADS threads: FMT_ECORRUPT with WANT in the message, and nothing left but the
 * input. */
static void merge_damaged_input(struct fixture *fx, void (*damage)(struct fmt_buf *),
                                const char *want, unsigned threads)
{
    struct fmt_seg_merge_opts opts = {0, threads};
    char in_path[128], out[128];
    struct fmt_seg *seg;
    struct fmt_seg_merge_input in;
    struct fmt_buf data;
    struct fmt_err err;
    uint32_t ndocs;
    FILE *f;

    snprintf(in_path, sizeof(in_path), "%s/in.nxs", fx->dir);
    snprintf(out, sizeof(out), "%s/merged.nxs", fx->dir);
    {
        struct fmt_seg_builder *b;
        assert_int_equal(fmt_seg_builder_new(&b, fx->an, NULL), FMT_OK);
        for (uint32_t d = 0; d < 300; d++)
            add_article(b, d, 0, 5);
        assert_int_equal(fmt_seg_builder_write(b, in_path, &err), FMT_OK);
        fmt_seg_builder_free(b);
    }
    read_file(in_path, &data);
    damage(&data);
    f = fopen(in_path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data.p, 1, data.len, f), data.len);
    fclose(f);
    fmt_buf_release(&data);
    assert_int_equal(fmt_seg_open(&seg, in_path, &err), FMT_OK);
    in.seg = seg;
    in.deleted = NULL;
    assert_int_equal(fmt_seg_merge(&in, 1, out, &opts, &ndocs, &err), FMT_ECORRUPT);
    assert_non_null(strstr(err.msg, want));
    fmt_seg_close(seg);
    assert_int_equal(count_files(fx->dir), 1); /* no output, no temporaries */
    assert_int_equal(unlink(in_path), 0);
}

/* the start of the postings section overwritten (the footer stays valid) */
static void damage_postings(struct fmt_buf *f)
{
    memset(f->p + 16, 0xff, 64);
}

/* one bit of the doc store flipped */
static void damage_docstore(struct fmt_buf *f)
{
    f->p[same_segment_docstore(f) + 40] ^= 0x10;
}

static void test_merge_of_a_corrupt_input_fails_cleanly(void **state)
{
    merge_damaged_input(*state, damage_postings, "in.nxs", 1);
    merge_damaged_input(*state, damage_postings, "in.nxs", 2);
}

/* A byte flipped in the doc store of an input whose blocks are copied as they are: the
 * checksum catches it, checked before the copy with one thread and beside it (on a thread
 * of its own) with two. */
static void test_merge_of_a_damaged_doc_store_fails_on_the_checksum(void **state)
{
    merge_damaged_input(*state, damage_docstore, "in.nxs: checksum mismatch", 1);
    merge_damaged_input(*state, damage_docstore, "in.nxs: checksum mismatch", 2);
}

/* A temporary file that cannot be created (its name is taken by a directory) fails the
 * merge with FMT_EIO naming it, and nothing is left behind. */
static void test_merge_with_a_failing_spill_file_fails_cleanly(void **state)
{
    struct fixture *fx = *state;
    char in_path[128], out[128], tmp[160];
    struct fmt_seg *seg;
    struct fmt_seg_merge_input in;
    struct fmt_seg_merge_opts opts = {64, 1};
    struct fmt_err err;
    uint32_t ndocs;

    snprintf(in_path, sizeof(in_path), "%s/in.nxs", fx->dir);
    snprintf(out, sizeof(out), "%s/merged.nxs", fx->dir);
    snprintf(tmp, sizeof(tmp), "%s.pos.tmp", out);
    {
        struct fmt_seg_builder *b;
        assert_int_equal(fmt_seg_builder_new(&b, fx->an, NULL), FMT_OK);
        for (uint32_t d = 0; d < 50; d++)
            add_article(b, d, 0, 5);
        assert_int_equal(fmt_seg_builder_write(b, in_path, &err), FMT_OK);
        fmt_seg_builder_free(b);
    }
    assert_int_equal(mkdir(tmp, 0755), 0);
    assert_int_equal(fmt_seg_open(&seg, in_path, &err), FMT_OK);
    in.seg = seg;
    in.deleted = NULL;
    /* one thread, and two: then the encoding thread meets the error and hands it over */
    for (opts.threads = 1; opts.threads <= 2; opts.threads++) {
        err.msg[0] = 0;
        assert_int_equal(fmt_seg_merge(&in, 1, out, &opts, &ndocs, &err), FMT_EIO);
        assert_non_null(strstr(err.msg, "merged.nxs.pos.tmp"));
        assert_int_equal(access(out, F_OK), -1);
    }
    fmt_seg_close(seg);
    assert_int_equal(rmdir(tmp), 0);
    assert_int_equal(count_files(fx->dir), 1); /* only the input */
}

/* Bytes flipped anywhere before the footer: the merge succeeds or says FMT_ECORRUPT (it
 * never reads out of bounds: the sanitized build checks), and leaves only its output. */
static void test_merge_survives_flipped_bytes(void **state)
{
    struct fixture *fx = *state;
    char in_path[128], out[128];
    struct fmt_buf orig;
    struct fmt_err err;

    snprintf(in_path, sizeof(in_path), "%s/in.nxs", fx->dir);
    snprintf(out, sizeof(out), "%s/merged.nxs", fx->dir);
    {
        struct fmt_seg_builder *b;
        assert_int_equal(fmt_seg_builder_new(&b, fx->an, NULL), FMT_OK);
        for (uint32_t d = 0; d < 200; d++)
            add_article(b, d, 0, 5);
        assert_int_equal(fmt_seg_builder_write(b, in_path, &err), FMT_OK);
        fmt_seg_builder_free(b);
    }
    read_file(in_path, &orig);
    for (size_t off = 16; off + 200 < orig.len; off += orig.len / 61) {
        struct fmt_seg *seg;
        struct fmt_seg_merge_input in;
        struct fmt_seg_merge_opts opts = {256, 1 + off % 2};
        uint32_t ndocs;
        FILE *f = fopen(in_path, "wb");
        int rc;
        assert_non_null(f);
        orig.p[off] ^= 0x5a;
        assert_int_equal(fwrite(orig.p, 1, orig.len, f), orig.len);
        fclose(f);
        orig.p[off] ^= 0x5a;
        if (fmt_seg_open(&seg, in_path, &err) != FMT_OK)
            continue; /* caught at open (the source table) */
        in.seg = seg;
        in.deleted = NULL;
        rc = fmt_seg_merge(&in, 1, out, &opts, &ndocs, &err);
        assert_true(rc == FMT_OK || rc == FMT_ECORRUPT);
        fmt_seg_close(seg);
        assert_int_equal(count_files(fx->dir), rc == FMT_OK ? 2 : 1);
        unlink(out);
    }
    fmt_buf_release(&orig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_merge_is_byte_identical_to_a_direct_build, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_merge_copies_whole_live_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_without_deletions_and_many_sources, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_merge_through_spill_files_is_identical, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_merge_of_one_input_is_the_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_with_every_doc_deleted_writes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_merge_of_a_corrupt_input_fails_cleanly, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_merge_of_a_damaged_doc_store_fails_on_the_checksum,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_with_a_failing_spill_file_fails_cleanly,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_survives_flipped_bytes, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
