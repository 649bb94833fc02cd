/* test_topk.c - the bounded top-k heap: ordering, ties, capacity and date order. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>

#include "article.h"
#include "topk.h"

static struct q_hit hit(double score, uint64_t doc, int64_t ts)
{
    struct q_hit h = {score, doc, ts};
    return h;
}

static void test_topk_keeps_the_k_best_in_score_order(void **state)
{
    struct q_topk t;
    struct q_hit in[] = {hit(1.0, 0, 0), hit(5.0, 1, 0), hit(3.0, 2, 0), hit(4.0, 3, 0),
                         hit(0.5, 4, 0), hit(2.0, 5, 0)};
    (void)state;
    assert_int_equal(q_topk_init(&t, 3, Q_SORT_RELEVANCE, NULL), FMT_OK);
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
        q_topk_push(&t, &in[i]);
    const struct q_hit *h = q_topk_finish(&t);
    assert_int_equal(t.n, 3);
    assert_int_equal(h[0].doc, 1);
    assert_int_equal(h[1].doc, 3);
    assert_int_equal(h[2].doc, 2);
    q_topk_release(&t);
}

static void test_topk_breaks_score_ties_by_smaller_doc_id(void **state)
{
    struct q_topk t;
    (void)state;
    assert_int_equal(q_topk_init(&t, 2, Q_SORT_RELEVANCE, NULL), FMT_OK);
    /* pushed in descending doc order: the smaller ids must win the tie */
    for (uint64_t d = 10; d > 0; d--) {
        struct q_hit x = hit(2.5, d, 0);
        q_topk_push(&t, &x);
    }
    const struct q_hit *h = q_topk_finish(&t);
    assert_int_equal(t.n, 2);
    assert_int_equal(h[0].doc, 1);
    assert_int_equal(h[1].doc, 2);
    q_topk_release(&t);
}

static void test_topk_date_sort_is_newest_first_missing_last(void **state)
{
    struct q_topk t;
    struct q_hit in[] = {hit(9.0, 0, FMT_NO_TIME), hit(1.0, 1, 100), hit(1.0, 2, 300),
                         hit(1.0, 3, 200), hit(1.0, 4, 300)};
    (void)state;
    assert_int_equal(q_topk_init(&t, 5, Q_SORT_DATE, NULL), FMT_OK);
    for (size_t i = 0; i < 5; i++)
        q_topk_push(&t, &in[i]);
    const struct q_hit *h = q_topk_finish(&t);
    assert_int_equal(t.n, 5);
    assert_int_equal(h[0].doc, 2); /* ts 300, smaller id than 4 */
    assert_int_equal(h[1].doc, 4);
    assert_int_equal(h[2].doc, 3);
    assert_int_equal(h[3].doc, 1);
    assert_int_equal(h[4].doc, 0); /* no timestamp: last despite the best score */
    q_topk_release(&t);
}

static void test_topk_with_fewer_hits_than_k_returns_all_sorted(void **state)
{
    struct q_topk t;
    struct q_hit a = hit(1.0, 7, 0), b = hit(2.0, 9, 0);
    (void)state;
    assert_int_equal(q_topk_init(&t, 10, Q_SORT_RELEVANCE, NULL), FMT_OK);
    q_topk_push(&t, &a);
    q_topk_push(&t, &b);
    struct q_hit worst;
    assert_int_equal(q_topk_threshold(&t, &worst), 0);
    const struct q_hit *h = q_topk_finish(&t);
    assert_int_equal(t.n, 2);
    assert_int_equal(h[0].doc, 9);
    assert_int_equal(h[1].doc, 7);
    q_topk_release(&t);
}

static void test_topk_threshold_is_the_worst_kept_hit_when_full(void **state)
{
    struct q_topk t;
    (void)state;
    assert_int_equal(q_topk_init(&t, 2, Q_SORT_RELEVANCE, NULL), FMT_OK);
    struct q_hit a = hit(1.0, 1, 0), b = hit(3.0, 2, 0), c = hit(2.0, 3, 0);
    q_topk_push(&t, &a);
    q_topk_push(&t, &b);
    q_topk_push(&t, &c);
    struct q_hit worst;
    assert_int_equal(q_topk_threshold(&t, &worst), 1);
    assert_int_equal(worst.doc, 3);
    q_topk_release(&t);
}

static void test_topk_zero_capacity_keeps_nothing(void **state)
{
    struct q_topk t;
    struct q_hit a = hit(1.0, 1, 0);
    (void)state;
    assert_int_equal(q_topk_init(&t, 0, Q_SORT_RELEVANCE, NULL), FMT_OK);
    q_topk_push(&t, &a);
    q_topk_finish(&t);
    assert_int_equal(t.n, 0);
    q_topk_release(&t);
}

static int cmp_ref(const void *x, const void *y)
{
    const struct q_hit *a = x, *b = y;
    if (q_hit_better(a, b, Q_SORT_RELEVANCE))
        return -1;
    return q_hit_better(b, a, Q_SORT_RELEVANCE) ? 1 : 0;
}

static void test_topk_agrees_with_a_full_sort_on_random_input(void **state)
{
    enum { N = 2000, K = 37 };
    static struct q_hit all[N];
    struct q_topk t;
    uint32_t x = 12345;
    (void)state;
    assert_int_equal(q_topk_init(&t, K, Q_SORT_RELEVANCE, NULL), FMT_OK);
    for (size_t i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        all[i] = hit((double)(x >> 24 & 31), (uint64_t)((i * 7919) % N), 0);
        q_topk_push(&t, &all[i]);
    }
    qsort(all, N, sizeof(all[0]), cmp_ref);
    const struct q_hit *h = q_topk_finish(&t);
    assert_int_equal(t.n, K);
    for (size_t i = 0; i < K; i++) {
        assert_int_equal(h[i].doc, all[i].doc);
        assert_true(h[i].score == all[i].score);
    }
    q_topk_release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topk_keeps_the_k_best_in_score_order),
        cmocka_unit_test(test_topk_breaks_score_ties_by_smaller_doc_id),
        cmocka_unit_test(test_topk_date_sort_is_newest_first_missing_last),
        cmocka_unit_test(test_topk_with_fewer_hits_than_k_returns_all_sorted),
        cmocka_unit_test(test_topk_threshold_is_the_worst_kept_hit_when_full),
        cmocka_unit_test(test_topk_zero_capacity_keeps_nothing),
        cmocka_unit_test(test_topk_agrees_with_a_full_sort_on_random_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
