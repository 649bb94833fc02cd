/* test_check.c - idx_check on clean and damaged indexes: each problem named with its
 * file, and a randomized corruption run (>= 200 flipped bytes and truncations over
 * segments, deletion bitmaps and the manifest) in which check must report damage and every
 * reader path must return an error code rather than crash (this binary runs under ASan). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "manifest.h"
#include "snapshot.h"
#include "writer.h"

struct msgs {
    char text[8][512];
    size_t n;
};

static void collect(void *ctx, const char *msg)
{
    struct msgs *m = ctx;

    if (m->n < 8)
        snprintf(m->text[m->n++], sizeof(m->text[0]), "%s", msg);
}

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

/* An index of 3 segments (merging off), two with deletion bitmaps. */
static int setup(void **state)
{
    char *dir = malloc(64);
    struct idx_writer_opts o;
    struct idx_writer *w;
    struct fmt_err err;
    int found;

    snprintf(dir, 64, "/tmp/nx-check-XXXXXX");
    assert_non_null(mkdtemp(dir));
    idx_writer_opts_default(&o);
    o.merge_factor = 0;
    assert_int_equal(idx_writer_open(&w, dir, &o, &err), FMT_OK);
    for (unsigned i = 0; i < 150; i++) {
        struct fmt_article a;
        enum idx_add_outcome out;
        char buf[200];
        assert_int_equal(fmt_article_init(&a), FMT_OK);
        snprintf(buf, sizeof(buf), "art-%u", i);
        fmt_article_set(&a.id, buf, strlen(buf));
        snprintf(buf, sizeof(buf), "Headline %u about %s", i, i % 2 ? "nato" : "markets");
        fmt_article_set(&a.title, buf, strlen(buf));
        snprintf(buf, sizeof(buf), "Body text %u with the peace deal, talks and words %u", i,
                 i * 31 % 97);
        fmt_article_set(&a.body, buf, strlen(buf));
        fmt_article_set(&a.source, i % 3 ? "BBC News" : "Reuters", i % 3 ? 8 : 7);
        a.timestamp = 1700000000 + i;
        assert_int_equal(idx_writer_add(w, &a, &out, &err), FMT_OK);
        fmt_article_release(&a);
        if (i % 50 == 49)
            assert_int_equal(idx_writer_commit(w, &err), FMT_OK);
    }
    assert_int_equal(idx_writer_delete(w, "art-3", &found, &err), FMT_OK);
    assert_int_equal(idx_writer_delete(w, "art-140", &found, &err), FMT_OK);
    assert_int_equal(idx_writer_commit(w, &err), FMT_OK);
    idx_writer_close(w);
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    rm_rf(*state);
    free(*state);
    return 0;
}

/* Name of the Nth file of DIR whose name matches KIND (".nxs", ".del-", "MANIFEST"). */
static int nth_file(const char *dir, const char *kind, size_t n, char *out, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char names[16][256];
    size_t count = 0;

    while ((e = readdir(d)))
        if (strstr(e->d_name, kind) && count < 16 && strcmp(e->d_name, "MANIFEST.tmp"))
            snprintf(names[count++], sizeof(names[0]), "%s", e->d_name);
    closedir(d);
    if (!count)
        return 0;
    snprintf(out, cap, "%s/%s", dir, names[n % count]);
    return 1;
}

static void test_check_clean_index_reports_nothing(void **state)
{
    struct msgs m = {.n = 0};
    struct idx_check_summary sum;

    assert_int_equal(idx_check(*state, collect, &m, &sum, NULL), FMT_OK);
    assert_int_equal(m.n, 0);
    assert_int_equal(sum.segments, 3);
    assert_int_equal(sum.articles, 148);
}

static void test_check_reports_every_problem_with_file_names(void **state)
{
    const char *dir = *state;
    char seg[256], del[256];
    struct msgs m = {.n = 0};
    struct idx_check_summary sum;
    FILE *f;

    assert_true(nth_file(dir, ".nxs", 1, seg, sizeof(seg)));
    assert_true(nth_file(dir, ".del-", 0, del, sizeof(del)));
    assert_int_equal(unlink(seg), 0);
    f = fopen(del, "r+b");
    fputc(0xff, f);
    fclose(f);
    assert_int_equal(idx_check(dir, collect, &m, &sum, NULL), FMT_ECORRUPT);
    assert_int_equal(m.n, 2);
    assert_int_equal(sum.problems, 2);
    assert_true(strstr(m.text[0], seg) || strstr(m.text[1], seg));
    assert_true(strstr(m.text[0], del) || strstr(m.text[1], del));
    assert_true(strstr(m.text[0], "missing") || strstr(m.text[1], "missing"));
}

static void test_check_unreadable_manifest_still_verifies_segments(void **state)
{
    const char *dir = *state;
    char path[256], seg[256];
    struct msgs m = {.n = 0};
    struct idx_check_summary sum;
    FILE *f;

    snprintf(path, sizeof(path), "%s/MANIFEST", dir);
    f = fopen(path, "r+b");
    fputc('X', f);
    fclose(f);
    assert_true(nth_file(dir, ".nxs", 0, seg, sizeof(seg)));
    assert_int_equal(truncate(seg, 100), 0);
    assert_int_equal(idx_check(dir, collect, &m, &sum, NULL), FMT_ECORRUPT);
    assert_int_equal(m.n, 2);
    assert_non_null(strstr(m.text[0], "MANIFEST"));
    assert_non_null(strstr(m.text[1], seg));
}

static void test_check_no_index_is_notfound(void **state)
{
    struct idx_check_summary sum;
    struct fmt_err err;
    struct msgs m = {.n = 0};

    (void)state;
    assert_int_equal(idx_check("/nonexistent/nx", collect, &m, &sum, &err), FMT_ENOTFOUND);
}

/* ---- randomized damage -------------------------------------------------------------- */

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int walk_term(void *ctx, const char *term, size_t len, const struct fmt_term_info *ti)
{
    const struct fmt_seg *seg = ctx;
    struct fmt_postings p;
    const uint32_t *pos;
    size_t n;
    int rc = fmt_postings_open(&p, seg, ti, NULL);

    (void)term;
    (void)len;
    while (rc == FMT_OK && (rc = fmt_postings_next(&p, NULL)) == FMT_OK && p.doc != FMT_DOC_END)
        if (p.pos_base)
            rc = fmt_postings_positions(&p, FMT_FIELD_BODY, &pos, &n, NULL);
    if (rc == FMT_OK || rc == FMT_ECORRUPT)
        fmt_postings_release(&p);
    return 0;
}

/* Everything a reader does, on a possibly damaged index: must not crash. */
static void read_everything(const char *dir)
{
    struct fmt_snapshot *s;
    struct fmt_buf scratch;
    uint64_t df;

    if (fmt_snapshot_open(&s, dir, NULL) != FMT_OK)
        return;
    fmt_buf_init(&scratch);
    fmt_snapshot_df(s, FMT_NS_TEXT, "nato", 4, 0, &df, NULL);
    for (size_t i = 0; i < fmt_snapshot_nsegs(s); i++) {
        const struct fmt_seg *seg = fmt_snapshot_seg(s, i);
        for (uint32_t d = 0; d < fmt_seg_stats(seg)->ndocs; d++) {
            struct fmt_article a;
            size_t len;
            (void)fmt_seg_field_len(seg, d, FMT_FIELD_BODY);
            (void)fmt_seg_timestamp(seg, d);
            (void)fmt_seg_source_name(seg, fmt_seg_source_id(seg, d), &len);
            if (fmt_seg_doc(seg, d, &scratch, &a, NULL) == FMT_OK)
                fmt_article_release(&a);
        }
        fmt_seg_prefix(seg, FMT_NS_TEXT, "", 0, walk_term, (void *)seg, NULL);
        fmt_seg_prefix(seg, FMT_NS_ID, "", 0, walk_term, (void *)seg, NULL);
    }
    fmt_buf_release(&scratch);
    fmt_snapshot_close(s);
}

static void put_file(const char *path, const uint8_t *p, size_t len)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, len, f), len);
    fclose(f);
}

static void test_check_detects_random_damage_without_crashing(void **state)
{
    static const char *const kinds[] = {".nxs", ".del-", "MANIFEST"};
    const char *dir = *state;
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    size_t runs = 0, per_kind[3] = {0, 0, 0};

    for (int round = 0; round < 240; round++) {
        int kind = round % 3;
        char path[256];
        struct fmt_buf orig;
        uint8_t *copy;
        size_t len;
        struct msgs m = {.n = 0};
        struct idx_check_summary sum;
        int rc;

        assert_true(nth_file(dir, kinds[kind], next_rand(&seed), path, sizeof(path)));
        fmt_buf_init(&orig);
        {
            FILE *f = fopen(path, "rb");
            uint8_t chunk[4096];
            size_t n;
            assert_non_null(f);
            while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                fmt_buf_append(&orig, chunk, n);
            fclose(f);
        }
        len = orig.len;
        copy = malloc(len);
        memcpy(copy, orig.p, len);
        if (next_rand(&seed) % 4 == 0) {
            len = (size_t)(next_rand(&seed) % orig.len); /* truncate */
        } else {
            int flips = 1 + (int)(next_rand(&seed) % 3);
            for (int k = 0; k < flips; k++)
                copy[next_rand(&seed) % len] ^= (uint8_t)(1 + next_rand(&seed) % 255);
        }
        if (len == orig.len && !memcmp(copy, orig.p, len)) { /* flips cancelled out */
            free(copy);
            fmt_buf_release(&orig);
            continue;
        }
        put_file(path, copy, len);
        rc = idx_check(dir, collect, &m, &sum, NULL);
        if (rc != FMT_ECORRUPT)
            fail_msg("round %d: damage to %s (len %zu of %zu) not detected", round, path, len,
                     orig.len);
        assert_true(m.n >= 1);
        read_everything(dir);
        put_file(path, orig.p, orig.len);
        free(copy);
        fmt_buf_release(&orig);
        runs++;
        per_kind[kind]++;
    }
    assert_true(runs >= 200);
    assert_true(per_kind[0] >= 60 && per_kind[1] >= 60 && per_kind[2] >= 60);
    assert_int_equal(idx_check(dir, collect, &(struct msgs){.n = 0},
                               &(struct idx_check_summary){0}, NULL),
                     FMT_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_check_clean_index_reports_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_reports_every_problem_with_file_names, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_check_unreadable_manifest_still_verifies_segments,
                                        setup, teardown),
        cmocka_unit_test(test_check_no_index_is_notfound),
        cmocka_unit_test_setup_teardown(test_check_detects_random_damage_without_crashing, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
