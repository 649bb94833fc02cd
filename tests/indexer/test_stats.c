/* test_stats.c - idx_stats_collect: live counts, deletions and dead ratio, duplicates,
 * date range over live articles only, top sources, bytes per file kind, commit times. */
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

#include "stats.h"
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

static void add(struct idx_writer *w, const char *id, const char *body, const char *source,
                int64_t ts, enum idx_add_outcome expect)
{
    struct fmt_article a;
    enum idx_add_outcome out;

    assert_int_equal(fmt_article_init(&a), FMT_OK);
    fmt_article_set(&a.id, id, strlen(id));
    fmt_article_set(&a.title, "A title", 7);
    fmt_article_set(&a.body, body, strlen(body));
    fmt_article_set(&a.source, source, strlen(source));
    a.timestamp = ts;
    assert_int_equal(idx_writer_add(w, &a, &out, NULL), FMT_OK);
    assert_int_equal(out, expect);
    fmt_article_release(&a);
}

static void test_stats_counts_live_articles_dates_and_sources(void **state)
{
    char dir[64];
    struct idx_writer_opts o;
    struct idx_writer *w;
    struct idx_stats st;
    int found;

    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/nx-stats-XXXXXX");
    assert_non_null(mkdtemp(dir));
    idx_writer_opts_default(&o);
    o.merge_factor = 0;
    assert_int_equal(idx_writer_open(&w, dir, &o, NULL), FMT_OK);
    add(w, "a", "one", "BBC News", 1000, IDX_ADDED);
    add(w, "b", "two", "BBC News", 5000, IDX_ADDED);
    add(w, "c", "three", "Reuters", FMT_NO_TIME, IDX_ADDED);
    add(w, "d", "one", "AP", 9000, IDX_DUPLICATE); /* same title+body as "a" */
    assert_int_equal(idx_writer_commit(w, NULL), FMT_OK);
    add(w, "e", "four", "Reuters", 100, IDX_ADDED);   /* earliest, deleted below */
    add(w, "f", "five", "BBC News", 7000, IDX_ADDED);
    assert_int_equal(idx_writer_delete(w, "e", &found, NULL), FMT_OK);
    assert_int_equal(idx_writer_commit(w, NULL), FMT_OK);
    idx_writer_close(w);

    assert_int_equal(idx_stats_collect(dir, &st, NULL), FMT_OK);
    assert_int_equal(st.articles, 4);
    assert_int_equal(st.stored, 5);
    assert_int_equal(st.deleted, 1);
    assert_true(st.dead_ratio > 0.19 && st.dead_ratio < 0.21);
    assert_int_equal(st.segments, 2);
    assert_int_equal(st.dups_skipped, 1);
    assert_int_equal(st.min_time, 1000); /* the deleted article's 100 does not count */
    assert_int_equal(st.max_time, 7000);
    assert_int_equal(st.undated, 1);
    assert_int_equal(st.nsources, 2);
    assert_int_equal(st.ntop, 2);
    assert_string_equal(st.top[0].name, "BBC News");
    assert_int_equal(st.top[0].count, 3);
    assert_string_equal(st.top[1].name, "Reuters");
    assert_int_equal(st.top[1].count, 1);
    assert_true(st.bytes_segments > 0);
    assert_true(st.bytes_delmaps == 5); /* 1 byte of bits + 4 bytes CRC */
    assert_true(st.bytes_manifest > 0);
    assert_true(st.last_commit > 0);
    assert_int_equal(st.last_rebuild, 0);
    assert_true(st.terms > 0);
    rm_rf(dir);
}

static void test_stats_without_index_is_notfound(void **state)
{
    struct idx_stats st;

    (void)state;
    assert_int_equal(idx_stats_collect("/nonexistent/nx", &st, NULL), FMT_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_counts_live_articles_dates_and_sources),
        cmocka_unit_test(test_stats_without_index_is_notfound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
