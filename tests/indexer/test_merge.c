/* test_merge.c - the tiered merge policy (table-driven), merges at commit (1,000
 * single-article commits), compact (query results identical before and after, deleted
 * articles dropped, one output segment whatever the memory budget, byte-identical to a
 * fresh build of the live articles; duplicates, replacements and rm still work on its
 * output), leftover merge temporaries, and rebuild. */
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

#include "arena.h"
#include "io.h"
#include "manifest.h"
#include "merge.h"
#include "parse.h"
#include "plan.h"
#include "same_segment.h"
#include "snapshot.h"
#include "topk.h"
#include "writer.h"

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

static int setup(void **state)
{
    char *dir = malloc(64);

    snprintf(dir, 64, "/tmp/nx-merge-XXXXXX");
    assert_non_null(mkdtemp(dir));
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    rm_rf(*state);
    free(*state);
    return 0;
}

/* ---- policy ------------------------------------------------------------------------- */

static void test_merge_tier_is_floor_log_factor(void **state)
{
    (void)state;
    assert_int_equal(idx_merge_tier(0, 10), 0);
    assert_int_equal(idx_merge_tier(9, 10), 0);
    assert_int_equal(idx_merge_tier(10, 10), 1);
    assert_int_equal(idx_merge_tier(99, 10), 1);
    assert_int_equal(idx_merge_tier(100, 10), 2);
    assert_int_equal(idx_merge_tier(7, 2), 2);
}

static void test_merge_pick_table(void **state)
{
    static const struct {
        uint64_t live[48];
        size_t n;
        unsigned factor;
        int due;
        size_t start, end;
    } cases[] = {
        /* fewer than factor segments: nothing */
        {{1, 1, 1}, 3, 10, 0, 0, 0},
        /* ten tier-0 segments in a row merge */
        {{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 10, 10, 1, 0, 10},
        /* a big segment first: the ten small ones after it merge */
        {{500, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1}, 11, 10, 1, 1, 11},
        /* tiers interleaved: no run of ten */
        {{50, 1, 50, 1, 50, 1, 50, 1, 50, 1}, 10, 10, 0, 0, 0},
        /* factor 3: the lowest tier goes first, and the newest run within it */
        {{10, 10, 10, 1, 1, 1, 1}, 7, 3, 1, 4, 7},
        /* factor < 2 disables merging */
        {{1, 1, 1, 1}, 4, 1, 0, 0, 0},
        /* factor 2, alternating tiers, more than 4 * factor segments: safety net takes the
         * two adjacent segments with the fewest articles */
        {{8, 1, 8, 1, 8, 1, 8, 1, 8, 0}, 10, 2, 1, 8, 10},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t s = 99, e = 99;
        int due = idx_merge_pick(cases[i].live, cases[i].n, cases[i].factor, &s, &e);
        assert_int_equal(due, cases[i].due);
        if (due) {
            assert_int_equal(s, cases[i].start);
            assert_int_equal(e, cases[i].end);
        }
    }
}

/* ---- writer helpers ----------------------------------------------------------------- */

static void article(struct fmt_article *a, unsigned i, const char *extra)
{
    char buf[256];

    assert_int_equal(fmt_article_init(a), FMT_OK);
    snprintf(buf, sizeof(buf), "id-%u", i);
    fmt_article_set(&a->id, buf, strlen(buf));
    snprintf(buf, sizeof(buf), "Title %u %s", i, i % 3 ? "nato" : "summit");
    fmt_article_set(&a->title, buf, strlen(buf));
    snprintf(buf, sizeof(buf), "Body of article %u about nato talks%s and %s words %u", i,
             i % 4 ? " in brussels" : "", extra, i * 7919 % 101);
    fmt_article_set(&a->body, buf, strlen(buf));
    snprintf(buf, sizeof(buf), "Source %u", i % 5);
    fmt_article_set(&a->source, buf, strlen(buf));
    a->timestamp = 1700000000 + (int64_t)i * 3600;
}

static void add_n(struct idx_writer *w, unsigned from, unsigned to, const char *extra,
                  unsigned commit_every)
{
    struct fmt_err err;

    for (unsigned i = from; i < to; i++) {
        struct fmt_article a;
        enum idx_add_outcome o;
        article(&a, i, extra);
        assert_int_equal(idx_writer_add(w, &a, &o, &err), FMT_OK);
        fmt_article_release(&a);
        if (commit_every && (i + 1 - from) % commit_every == 0)
            assert_int_equal(idx_writer_commit(w, &err), FMT_OK);
    }
}

static struct idx_writer *open_writer(const char *dir, size_t budget, unsigned factor)
{
    struct idx_writer_opts o;
    struct idx_writer *w;
    struct fmt_err err;

    idx_writer_opts_default(&o);
    if (budget)
        o.mem_budget = budget;
    o.merge_factor = factor;
    assert_int_equal(idx_writer_open(&w, dir, &o, &err), FMT_OK);
    return w;
}

static size_t manifest_segs(const char *dir)
{
    struct fmt_manifest m;
    size_t n;

    assert_int_equal(fmt_manifest_read(dir, &m, NULL), FMT_OK);
    n = m.nsegs;
    fmt_manifest_release(&m);
    return n;
}

static void test_merge_1000_single_commits_leave_few_segments(void **state)
{
    const char *dir = *state;
    struct idx_writer *w = open_writer(dir, 0, IDX_DEFAULT_MERGE_FACTOR);
    size_t most = 0;

    for (unsigned i = 0; i < 1000; i++) {
        add_n(w, i, i + 1, "x", 1);
        if (idx_writer_nsegs(w) > most)
            most = idx_writer_nsegs(w);
    }
    assert_true(most <= 27);            /* 9 per tier, 3 tiers below 1,000 */
    assert_int_equal(idx_writer_nsegs(w), 1); /* 1,000 = one tier-3 segment */
    idx_writer_close(w);
    assert_int_equal(manifest_segs(dir), 1);
}

static void test_merge_without_policy_keeps_every_commit(void **state)
{
    const char *dir = *state;
    struct idx_writer *w = open_writer(dir, 0, 0);

    add_n(w, 0, 30, "x", 1);
    assert_int_equal(idx_writer_nsegs(w), 30);
    idx_writer_close(w);
}

/* ---- query results before and after ------------------------------------------------- */

struct result {
    char ids[20][32];
    double scores[20];
    size_t n;
    uint64_t count;
};

static void run_query(const char *dir, const char *query, struct result *r)
{
    struct fmt_snapshot *snap;
    struct fmt_analyzer *an;
    struct q_arena mem;
    struct q_node *root;
    struct q_plan *plan;
    struct q_plan_opts po;
    struct q_parse_opts pa = {0, 1800000000};
    struct q_topk topk;
    struct fmt_buf scratch;
    const struct q_hit *hits;
    size_t col;

    memset(r, 0, sizeof(*r));
    assert_int_equal(fmt_snapshot_open(&snap, dir, NULL), FMT_OK);
    assert_int_equal(fmt_analyzer_new(&an, fmt_snapshot_analyzer(snap), NULL), FMT_OK);
    q_arena_init(&mem);
    assert_int_equal(q_parse(query, &pa, &mem, &root, &col, NULL), FMT_OK);
    q_plan_opts_default(&po);
    assert_int_equal(q_plan_new(&plan, root, snap, an, &po, &col, NULL), FMT_OK);
    assert_int_equal(q_topk_init(&topk, 20, Q_SORT_RELEVANCE, NULL), FMT_OK);
    assert_int_equal(q_plan_search(plan, &topk, &r->count, NULL), FMT_OK);
    r->n = topk.n;
    hits = q_topk_finish(&topk);
    fmt_buf_init(&scratch);
    for (size_t i = 0; i < r->n; i++) {
        size_t seg;
        uint32_t doc;
        struct fmt_article a;
        assert_int_equal(q_plan_locate(snap, hits[i].doc, &seg, &doc), FMT_OK);
        assert_int_equal(fmt_seg_doc(fmt_snapshot_seg(snap, seg), doc, &scratch, &a, NULL),
                         FMT_OK);
        snprintf(r->ids[i], sizeof(r->ids[i]), "%s", a.id);
        r->scores[i] = hits[i].score;
        fmt_article_release(&a);
    }
    fmt_buf_release(&scratch);
    q_topk_release(&topk);
    q_plan_free(plan);
    q_arena_release(&mem);
    fmt_analyzer_free(an);
    fmt_snapshot_close(snap);
}

static void assert_same(const struct result *a, const struct result *b)
{
    assert_int_equal(a->count, b->count);
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_string_equal(a->ids[i], b->ids[i]);
        assert_true(a->scores[i] == b->scores[i]); /* bit-identical, not approximately */
    }
}

static const char *const queries[] = {"nato", "summit", "nato brussels", "\"nato talks\"",
                                      "brussels OR summit", "title:summit -brussels"};
#define NQUERIES (sizeof(queries) / sizeof(queries[0]))

/* 300 articles over many segments, replacements and deletions in several of them. */
static void build_messy_index(const char *dir)
{
    struct idx_writer *w = open_writer(dir, 0, 0);
    struct fmt_err err;
    int found;

    for (unsigned k = 0; k < 10; k++)
        add_n(w, k * 30, k * 30 + 30, "first", 0), idx_writer_commit(w, &err);
    add_n(w, 40, 60, "replaced", 0); /* replaces 20 articles of segment 1 */
    assert_int_equal(idx_writer_commit(w, &err), FMT_OK);
    for (unsigned i = 100; i < 300; i += 7) {
        char id[32];
        snprintf(id, sizeof(id), "id-%u", i);
        assert_int_equal(idx_writer_delete(w, id, &found, &err), FMT_OK);
        assert_int_equal(found, 1);
    }
    assert_int_equal(idx_writer_commit(w, &err), FMT_OK);
    assert_int_equal(idx_writer_nsegs(w), 11);
    idx_writer_close(w);
}

static void test_compact_keeps_query_results_identical(void **state)
{
    const char *dir = *state;
    struct result before[NQUERIES], after;
    struct idx_writer *w;
    struct fmt_snapshot *snap;
    struct fmt_err err;

    build_messy_index(dir);
    for (size_t q = 0; q < NQUERIES; q++)
        run_query(dir, queries[q], &before[q]);
    assert_true(before[0].count > 0);
    w = open_writer(dir, 0, 10);
    assert_int_equal(idx_writer_compact(w, &err), FMT_OK);
    assert_int_equal(idx_writer_nsegs(w), 1);
    idx_writer_close(w);
    assert_int_equal(manifest_segs(dir), 1);
    assert_int_equal(fmt_snapshot_open(&snap, dir, NULL), FMT_OK);
    /* 300 articles, 29 deleted; the 20 replaced ones are live once */
    assert_int_equal(fmt_seg_stats(fmt_snapshot_seg(snap, 0))->ndocs, 300 - 29);
    assert_int_equal(fmt_snapshot_stats(snap)->ndocs, 300 - 29);
    fmt_snapshot_close(snap);
    for (size_t q = 0; q < NQUERIES; q++) {
        run_query(dir, queries[q], &after);
        assert_same(&before[q], &after);
    }
}

static void test_compact_makes_one_segment_under_a_small_memory_budget(void **state)
{
    const char *dir = *state;
    struct result before, after;
    struct idx_writer *w;
    struct fmt_err err;

    build_messy_index(dir);
    run_query(dir, "nato brussels", &before);
    w = open_writer(dir, 4096, 10); /* the budget bounds the builder, not merges */
    assert_int_equal(idx_writer_compact(w, &err), FMT_OK);
    assert_int_equal(idx_writer_nsegs(w), 1);
    idx_writer_close(w);
    assert_int_equal(manifest_segs(dir), 1);
    run_query(dir, "nato brussels", &after);
    assert_same(&before, &after);
}

/* The merged segment is the one a fresh index of the live articles, added in the same
 * order, would write: postings, positions, dictionary, columns and sources byte for byte,
 * and the same stored articles (the doc store's blocks may be cut differently: a merge
 * copies input blocks that keep all their articles as they are). */
static void test_compact_output_equals_a_fresh_build_of_the_live_articles(void **state)
{
    const char *dir = *state;
    char fresh[96], merged_path[4096], fresh_path[4096];
    struct fmt_snapshot *snap, *fsnap;
    const struct fmt_seg *seg;
    struct idx_writer_opts o;
    struct idx_writer *w;
    struct fmt_buf scratch;
    struct fmt_err err;

    build_messy_index(dir);
    w = open_writer(dir, 0, 10);
    assert_int_equal(idx_writer_compact(w, &err), FMT_OK);
    idx_writer_close(w);
    assert_int_equal(fmt_snapshot_open(&snap, dir, NULL), FMT_OK);
    assert_int_equal(fmt_snapshot_nsegs(snap), 1);
    seg = fmt_snapshot_seg(snap, 0);
    snprintf(merged_path, sizeof(merged_path), "%s", fmt_seg_path(seg));

    snprintf(fresh, sizeof(fresh), "%s-fresh", dir);
    idx_writer_opts_default(&o);
    o.threads = 1;
    o.keep_duplicates = 1;
    o.merge_factor = 0;
    assert_int_equal(idx_writer_open(&w, fresh, &o, &err), FMT_OK);
    fmt_buf_init(&scratch);
    for (uint32_t d = 0; d < fmt_seg_stats(seg)->ndocs; d++) {
        struct fmt_article art;
        enum idx_add_outcome out;
        assert_int_equal(fmt_seg_doc(seg, d, &scratch, &art, &err), FMT_OK);
        assert_int_equal(idx_writer_add(w, &art, &out, &err), FMT_OK);
        assert_int_equal(out, IDX_ADDED);
        fmt_article_release(&art);
    }
    fmt_buf_release(&scratch);
    assert_int_equal(idx_writer_commit(w, &err), FMT_OK);
    idx_writer_close(w);
    assert_int_equal(fmt_snapshot_open(&fsnap, fresh, NULL), FMT_OK);
    assert_int_equal(fmt_snapshot_nsegs(fsnap), 1);
    snprintf(fresh_path, sizeof(fresh_path), "%s", fmt_seg_path(fmt_snapshot_seg(fsnap, 0)));
    fmt_snapshot_close(fsnap);
    fmt_snapshot_close(snap);
    assert_same_segment(merged_path, fresh_path);
    rm_rf(fresh);
}

/* A merge that dies leaves temporaries and an unreferenced output; the next writer open
 * removes them. */
static void test_writer_open_removes_merge_temporaries(void **state)
{
    const char *dir = *state;
    const char *names[] = {"seg-000900.nxs", "seg-000900.nxs.pos.tmp", "seg-000900.nxs.post.tmp",
                           "seg-000900.nxs.dict.tmp"};
    char path[512];
    struct idx_writer *w;

    build_messy_index(dir);
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        assert_int_equal(fmt_io_write_file(path, "x", 1, NULL), FMT_OK);
    }
    w = open_writer(dir, 0, 0);
    idx_writer_close(w);
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        assert_int_equal(access(path, F_OK), -1);
    }
}

static void test_compact_removes_merged_files(void **state)
{
    const char *dir = *state;
    struct idx_writer *w;
    struct fmt_err err;
    DIR *d;
    struct dirent *e;
    size_t files = 0;

    build_messy_index(dir);
    w = open_writer(dir, 0, 10);
    assert_int_equal(idx_writer_compact(w, &err), FMT_OK);
    idx_writer_close(w);
    d = opendir(dir);
    while ((e = readdir(d)))
        files += !strncmp(e->d_name, "seg-", 4);
    closedir(d);
    assert_int_equal(files, 1); /* one segment, no deletion bitmap */
}

/* Ids, content hashes and deletions keep working on a merged segment: an exact copy under
 * another id is a duplicate, an existing id is replaced, rm finds it. */
static void test_duplicates_replacements_and_rm_after_compact(void **state)
{
    const char *dir = *state;
    struct fmt_article a;
    enum idx_add_outcome out;
    struct idx_writer *w;
    struct fmt_snapshot *snap;
    struct fmt_err err;
    int found;

    build_messy_index(dir);
    w = open_writer(dir, 0, 10);
    assert_int_equal(idx_writer_compact(w, &err), FMT_OK);
    idx_writer_close(w);
    w = open_writer(dir, 0, 10);
    article(&a, 5, "first"); /* live, in the merged segment */
    fmt_article_set(&a.id, "a-copy", 6);
    assert_int_equal(idx_writer_add(w, &a, &out, &err), FMT_OK);
    assert_int_equal(out, IDX_DUPLICATE);
    fmt_article_release(&a);
    article(&a, 7, "changed");
    assert_int_equal(idx_writer_add(w, &a, &out, &err), FMT_OK);
    assert_int_equal(out, IDX_REPLACED);
    fmt_article_release(&a);
    assert_int_equal(idx_writer_delete(w, "id-8", &found, &err), FMT_OK);
    assert_int_equal(found, 1);
    assert_int_equal(idx_writer_delete(w, "id-107", &found, &err), FMT_OK);
    assert_int_equal(found, 0); /* deleted before the compact: dropped by it */
    assert_int_equal(idx_writer_commit(w, &err), FMT_OK);
    idx_writer_close(w);
    assert_int_equal(fmt_snapshot_open(&snap, dir, NULL), FMT_OK);
    assert_int_equal(fmt_snapshot_stats(snap)->ndocs, 300 - 29 - 1);
    fmt_snapshot_close(snap);
}

/* ---- rebuild ------------------------------------------------------------------------ */

static void test_rebuild_replaces_generation_and_old_reader_keeps_working(void **state)
{
    const char *dir = *state;
    struct idx_writer_opts o;
    struct idx_writer *w = open_writer(dir, 0, 10);
    struct fmt_snapshot *old, *now;
    struct fmt_manifest m;
    struct fmt_err err;
    struct fmt_buf scratch;
    struct fmt_article a;

    add_n(w, 0, 50, "old", 0);
    assert_int_equal(idx_writer_commit(w, &err), FMT_OK);
    idx_writer_close(w);
    assert_int_equal(fmt_snapshot_open(&old, dir, NULL), FMT_OK);

    idx_writer_opts_default(&o);
    o.rebuild = 1;
    assert_int_equal(idx_writer_open(&w, dir, &o, &err), FMT_OK);
    assert_int_equal(idx_writer_nsegs(w), 0);
    add_n(w, 100, 120, "new", 0); /* other ids: the old 50 must be gone after */
    assert_int_equal(idx_writer_commit(w, &err), FMT_OK);
    idx_writer_close(w);

    assert_int_equal(fmt_snapshot_open(&now, dir, NULL), FMT_OK);
    assert_int_equal(fmt_snapshot_stats(now)->ndocs, 20);
    assert_int_equal(fmt_snapshot_stats(old)->ndocs, 50);
    /* the old view still reads its (now unlinked) mapped segment */
    fmt_buf_init(&scratch);
    assert_int_equal(fmt_seg_doc(fmt_snapshot_seg(old, 0), 49, &scratch, &a, NULL), FMT_OK);
    assert_string_equal(a.id, "id-49");
    fmt_article_release(&a);
    fmt_buf_release(&scratch);
    fmt_snapshot_close(old);
    fmt_snapshot_close(now);
    assert_int_equal(fmt_manifest_read(dir, &m, NULL), FMT_OK);
    assert_true(m.last_rebuild > 0);
    assert_true(m.last_rebuild == m.last_commit);
    fmt_manifest_release(&m);
}

static void test_rebuild_without_commit_leaves_old_index(void **state)
{
    const char *dir = *state;
    struct idx_writer_opts o;
    struct idx_writer *w = open_writer(dir, 0, 10);
    struct fmt_snapshot *s;
    struct fmt_err err;

    add_n(w, 0, 10, "old", 0);
    assert_int_equal(idx_writer_commit(w, &err), FMT_OK);
    idx_writer_close(w);
    idx_writer_opts_default(&o);
    o.rebuild = 1;
    o.mem_budget = 4096; /* flushes segment files that no manifest names */
    assert_int_equal(idx_writer_open(&w, dir, &o, &err), FMT_OK);
    add_n(w, 100, 200, "new", 0);
    idx_writer_close(w); /* as if the rebuild failed */
    assert_int_equal(fmt_snapshot_open(&s, dir, NULL), FMT_OK);
    assert_int_equal(fmt_snapshot_stats(s)->ndocs, 10);
    fmt_snapshot_close(s);
}

static void test_rebuild_may_change_analyzer_but_add_may_not(void **state)
{
    const char *dir = *state;
    struct idx_writer_opts o;
    struct idx_writer *w = open_writer(dir, 0, 10);
    struct fmt_snapshot *s;
    struct fmt_err err;

    add_n(w, 0, 5, "x", 0);
    assert_int_equal(idx_writer_commit(w, &err), FMT_OK);
    idx_writer_close(w);
    idx_writer_opts_default(&o);
    snprintf(o.analyzer.language, sizeof(o.analyzer.language), "none");
    o.analyzer_given = 1;
    assert_int_equal(idx_writer_open(&w, dir, &o, &err), FMT_EINVAL);
    assert_non_null(strstr(err.msg, "rebuild"));
    o.rebuild = 1;
    assert_int_equal(idx_writer_open(&w, dir, &o, &err), FMT_OK);
    add_n(w, 0, 5, "x", 0);
    assert_int_equal(idx_writer_commit(w, &err), FMT_OK);
    idx_writer_close(w);
    assert_int_equal(fmt_snapshot_open(&s, dir, NULL), FMT_OK);
    assert_string_equal(fmt_snapshot_analyzer(s)->language, "none");
    fmt_snapshot_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_tier_is_floor_log_factor),
        cmocka_unit_test(test_merge_pick_table),
        cmocka_unit_test_setup_teardown(test_merge_1000_single_commits_leave_few_segments,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_without_policy_keeps_every_commit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_compact_keeps_query_results_identical, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_compact_makes_one_segment_under_a_small_memory_budget,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_compact_output_equals_a_fresh_build_of_the_live_articles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_open_removes_merge_temporaries, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_replacements_and_rm_after_compact, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_compact_removes_merged_files, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_rebuild_replaces_generation_and_old_reader_keeps_working, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rebuild_without_commit_leaves_old_index, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rebuild_may_change_analyzer_but_add_may_not,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
