/* test_bm25.c - the BM25F formula against numbers computed by hand. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include "bm25.h"

static void assert_close(double got, double want)
{
    if (fabs(got - want) > 1e-9) {
        print_error("got %.12f, want %.12f\n", got, want);
        fail();
    }
}

static void test_bm25_defaults_are_k1_1_2_b_0_75_title_2_body_1(void **state)
{
    struct q_bm25_params p;
    (void)state;
    q_bm25_params_default(&p);
    assert_close(p.k1, 1.2);
    assert_close(p.b, 0.75);
    assert_close(p.w[0], 2.0);
    assert_close(p.w[1], 1.0);
}

static void test_bm25_idf_matches_hand_computed_values(void **state)
{
    (void)state;
    /* N = 10, n = 2: ln(1 + 8.5 / 2.5) = ln(4.4) */
    assert_close(q_bm25_idf(10, 2), 1.4816045409242156);
    /* N = 1000, n = 1: ln(1 + 999.5 / 1.5) */
    assert_close(q_bm25_idf(1000, 1), log(1.0 + 999.5 / 1.5));
    /* a term in every doc still has a small positive idf: ln(1 + 0.5 / 10.5) */
    assert_close(q_bm25_idf(10, 10), 0.046520015634892817);
    /* df above N (deleted docs counted) is clamped to N */
    assert_close(q_bm25_idf(5, 7), log(1.0 + 0.5 / 7.5));
}

static void test_bm25_score_of_title_and_body_matches_hand_computation(void **state)
{
    struct q_bm25_params p;
    struct q_bm25 bm;
    uint32_t tf[2] = {1, 3};
    uint32_t len[2] = {10, 200};
    (void)state;
    q_bm25_params_default(&p);
    q_bm25_init(&bm, &p, 8.0, 400.0);
    /* title norm: 0.25 + 0.75 * 10/8 = 1.1875; body norm: 0.25 + 0.75 * 0.5 = 0.625
     * tf~ = 2 * 1 / 1.1875 + 1 * 3 / 0.625 = 1.684210526315789 + 4.8 = 6.484210526315789 */
    assert_close(q_bm25_norm(&bm, 0, 10), 1.1875);
    assert_close(q_bm25_norm(&bm, 1, 200), 0.625);
    double tfn = q_bm25_tfn(&bm, 3u, tf, len);
    assert_close(tfn, 6.484210526315789);
    /* idf ln(4.4) = 1.4816045409242156; contrib = idf * 6.4842105 / 7.6842105 */
    assert_close(q_bm25_contrib(&bm, q_bm25_idf(10, 2), tfn), 1.2502306811086532);
}

static void test_bm25_title_scope_ignores_body_frequency(void **state)
{
    struct q_bm25_params p;
    struct q_bm25 bm;
    uint32_t tf[2] = {1, 3};
    uint32_t len[2] = {10, 200};
    (void)state;
    q_bm25_params_default(&p);
    q_bm25_init(&bm, &p, 8.0, 400.0);
    assert_close(q_bm25_tfn(&bm, 1u, tf, len), 2.0 / 1.1875);
    assert_close(q_bm25_tfn(&bm, 2u, tf, len), 4.8);
}

static void test_bm25_zero_tf_contributes_nothing(void **state)
{
    struct q_bm25_params p;
    struct q_bm25 bm;
    uint32_t tf[2] = {0, 0};
    uint32_t len[2] = {5, 5};
    (void)state;
    q_bm25_params_default(&p);
    q_bm25_init(&bm, &p, 5.0, 5.0);
    assert_close(q_bm25_contrib(&bm, 2.0, q_bm25_tfn(&bm, 3u, tf, len)), 0.0);
}

static void test_bm25_zero_average_length_does_not_divide_by_zero(void **state)
{
    struct q_bm25_params p;
    struct q_bm25 bm;
    (void)state;
    q_bm25_params_default(&p);
    q_bm25_init(&bm, &p, 0.0, 0.0);
    assert_close(q_bm25_norm(&bm, 0, 0), 1.0);
}

static void test_bm25_more_occurrences_score_higher_but_saturate(void **state)
{
    struct q_bm25_params p;
    struct q_bm25 bm;
    uint32_t len[2] = {10, 100};
    uint32_t t1[2] = {0, 1}, t2[2] = {0, 2}, t100[2] = {0, 100};
    (void)state;
    q_bm25_params_default(&p);
    q_bm25_init(&bm, &p, 10.0, 100.0);
    double idf = q_bm25_idf(100, 10);
    double s1 = q_bm25_contrib(&bm, idf, q_bm25_tfn(&bm, 3u, t1, len));
    double s2 = q_bm25_contrib(&bm, idf, q_bm25_tfn(&bm, 3u, t2, len));
    double s100 = q_bm25_contrib(&bm, idf, q_bm25_tfn(&bm, 3u, t100, len));
    assert_true(s1 < s2);
    assert_true(s2 < s100);
    assert_true(s100 < idf);
    /* tf 1, norm 1: contrib = idf * 1 / 2.2 */
    assert_close(s1, idf / 2.2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bm25_defaults_are_k1_1_2_b_0_75_title_2_body_1),
        cmocka_unit_test(test_bm25_idf_matches_hand_computed_values),
        cmocka_unit_test(test_bm25_score_of_title_and_body_matches_hand_computation),
        cmocka_unit_test(test_bm25_title_scope_ignores_body_frequency),
        cmocka_unit_test(test_bm25_zero_tf_contributes_nothing),
        cmocka_unit_test(test_bm25_zero_average_length_does_not_divide_by_zero),
        cmocka_unit_test(test_bm25_more_occurrences_score_higher_but_saturate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
