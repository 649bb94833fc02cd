/* test_group.c - interned names, --per-source collapse and --facets counts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "article.h"
#include "group.h"

static void test_names_intern_gives_stable_dense_indexes(void **state)
{
    struct q_names t;
    struct fmt_err err;
    uint32_t a, b, c, again;
    size_t len;
    char name[32];
    (void)state;
    q_names_init(&t);
    assert_int_equal(q_names_intern(&t, "BBC News", 8, &a, &err), FMT_OK);
    assert_int_equal(q_names_intern(&t, "Reuters", 7, &b, &err), FMT_OK);
    assert_int_equal(q_names_intern(&t, "", 0, &c, &err), FMT_OK);
    assert_int_equal(q_names_intern(&t, "BBC News", 8, &again, &err), FMT_OK);
    assert_int_equal(a, 0);
    assert_int_equal(b, 1);
    assert_int_equal(c, 2);
    assert_int_equal(again, 0);
    for (int i = 0; i < 500; i++) { /* forces the table to grow several times */
        uint32_t k;
        snprintf(name, sizeof(name), "source %d", i);
        assert_int_equal(q_names_intern(&t, name, strlen(name), &k, &err), FMT_OK);
        assert_int_equal(k, 3 + (uint32_t)i);
    }
    assert_int_equal(q_names_intern(&t, "Reuters", 7, &again, &err), FMT_OK);
    assert_int_equal(again, 1);
    const char *s = q_names_get(&t, 1, &len);
    assert_int_equal(len, 7);
    assert_memory_equal(s, "Reuters", 7);
    q_names_release(&t);
}

static void test_collapse_caps_hits_per_source_and_keeps_rank_order(void **state)
{
    struct q_collapse c;
    struct fmt_err err;
    const struct q_hit *hits;
    size_t n;
    (void)state;
    assert_int_equal(q_collapse_init(&c, 2, Q_SORT_RELEVANCE, &err), FMT_OK);
    /* source A has the 5 best scores, B and C weaker ones */
    for (int i = 0; i < 5; i++) {
        struct q_hit h = {10.0 - i, (uint64_t)i, 0};
        assert_int_equal(q_collapse_push(&c, "A", 1, &h, &err), FMT_OK);
    }
    for (int i = 0; i < 3; i++) {
        struct q_hit h = {4.0 - i, (uint64_t)(10 + i), 0};
        assert_int_equal(q_collapse_push(&c, "B", 1, &h, &err), FMT_OK);
    }
    struct q_hit hc = {1.5, 20, 0};
    assert_int_equal(q_collapse_push(&c, "C", 1, &hc, &err), FMT_OK);
    assert_int_equal(q_collapse_finish(&c, 10, &hits, &n, &err), FMT_OK);
    assert_int_equal(n, 5); /* 2 of A, 2 of B, 1 of C */
    uint64_t want[] = {0, 1, 10, 11, 20};
    for (size_t i = 0; i < n; i++)
        assert_int_equal(hits[i].doc, want[i]);
    assert_int_equal(q_collapse_finish(&c, 3, &hits, &n, &err), FMT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(hits[2].doc, 10);
    q_collapse_release(&c);
}

static void test_facets_count_sources_and_months(void **state)
{
    struct q_facets f;
    struct fmt_err err;
    struct fmt_buf out;
    int64_t feb, mar;
    unsigned which;
    (void)state;
    assert_int_equal(fmt_time_parse("2025-02-12T10:00:00Z", 20, &feb), FMT_OK);
    assert_int_equal(fmt_time_parse("2025-03-01T00:00:00Z", 20, &mar), FMT_OK);
    assert_int_equal(q_facets_parse("source,month", &which, &err), FMT_OK);
    assert_int_equal(which, Q_FACET_SOURCE | Q_FACET_MONTH);
    assert_int_equal(q_facets_parse("source,week", &which, &err), FMT_EINVAL);
    assert_non_null(strstr(err.msg, "\"week\""));
    q_facets_init(&f, Q_FACET_SOURCE | Q_FACET_MONTH);
    assert_int_equal(q_facets_add(&f, "Reuters", 7, feb, &err), FMT_OK);
    assert_int_equal(q_facets_add(&f, "BBC News", 8, feb, &err), FMT_OK);
    assert_int_equal(q_facets_add(&f, "BBC News", 8, mar, &err), FMT_OK);
    assert_int_equal(q_facets_add(&f, "BBC News", 8, FMT_NO_TIME, &err), FMT_OK);
    fmt_buf_init(&out);
    assert_int_equal(q_facets_format(&f, 0, &out), FMT_OK);
    assert_int_equal(fmt_buf_terminate(&out), FMT_OK);
    assert_string_equal((char *)out.p, "source:\n"
                                       "         3  BBC News\n"
                                       "         1  Reuters\n"
                                       "month:\n"
                                       "         2  2025-02\n"
                                       "         1  2025-03\n"
                                       "         1  undated\n");
    out.len = 0;
    assert_int_equal(q_facets_format(&f, 1, &out), FMT_OK);
    assert_int_equal(fmt_buf_terminate(&out), FMT_OK);
    assert_string_equal((char *)out.p,
                        "{\"facets\":{\"source\":{\"BBC News\":3,\"Reuters\":1},"
                        "\"month\":{\"2025-02\":2,\"2025-03\":1,\"undated\":1}}}\n");
    fmt_buf_release(&out);
    q_facets_release(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_intern_gives_stable_dense_indexes),
        cmocka_unit_test(test_collapse_caps_hits_per_source_and_keeps_rank_order),
        cmocka_unit_test(test_facets_count_sources_and_months),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
