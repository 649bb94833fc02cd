/* test_keyfilter.c - the blocked Bloom filter: every added key is "maybe" (no false
 * negatives), absent keys are "maybe" for about 1% at capacity and far fewer below it, a
 * filter without memory answers "maybe" to everything, and its size follows its capacity. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "keyfilter.h"

/* splitmix64: distinct, well-mixed hashes for the keys 0, 1, 2, ... */
static uint64_t hash_of(uint64_t k)
{
    uint64_t z = k + 0x9e3779b97f4a7c15ull;

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Fraction of N absent keys (numbered from 1 << 40) that F says it may hold. */
static double false_positive_rate(const struct idx_keyfilter *f, unsigned n)
{
    unsigned fp = 0;

    for (unsigned i = 0; i < n; i++)
        fp += idx_keyfilter_may_hold(f, hash_of((1ull << 40) + i));
    return (double)fp / n;
}

static void test_added_keys_are_always_maybe(void **state)
{
    struct idx_keyfilter f;

    (void)state;
    assert_int_equal(idx_keyfilter_init(&f, 100000), 0);
    for (uint64_t k = 0; k < 100000; k++)
        idx_keyfilter_add(&f, hash_of(k));
    assert_int_equal(f.nkeys, 100000);
    for (uint64_t k = 0; k < 100000; k++)
        assert_true(idx_keyfilter_may_hold(&f, hash_of(k)));
    idx_keyfilter_release(&f);
}

static void test_false_positives_stay_near_one_percent_at_capacity(void **state)
{
    struct idx_keyfilter f;
    double at_tenth, at_full;

    (void)state;
    assert_int_equal(idx_keyfilter_init(&f, 200000), 0);
    assert_true(false_positive_rate(&f, 100000) == 0); /* empty: never */
    for (uint64_t k = 0; k < 20000; k++)
        idx_keyfilter_add(&f, hash_of(k));
    at_tenth = false_positive_rate(&f, 200000);
    for (uint64_t k = 20000; k < 200000; k++)
        idx_keyfilter_add(&f, hash_of(k));
    at_full = false_positive_rate(&f, 200000);
    /* 10 bits a key, 5 of 512 bits of a block per key: about 1% at capacity */
    assert_true(at_tenth < 0.0005);
    assert_true(at_full > 0.001 && at_full < 0.02);
    idx_keyfilter_release(&f);
}

static void test_size_follows_capacity_and_a_released_filter_says_maybe(void **state)
{
    struct idx_keyfilter f;

    (void)state;
    assert_int_equal(idx_keyfilter_init(&f, 0), 0);
    assert_int_equal(idx_keyfilter_bytes(&f), 64); /* one block */
    idx_keyfilter_release(&f);
    assert_int_equal(idx_keyfilter_init(&f, 1u << 20), 0);
    assert_int_equal(idx_keyfilter_bytes(&f), (1u << 20) * 10 / 8); /* 10 bits a key */
    assert_int_equal(idx_keyfilter_bytes_for(1u << 20), idx_keyfilter_bytes(&f));
    assert_int_equal(idx_keyfilter_bytes_for(0), 64);
    idx_keyfilter_release(&f);
    /* no memory: adds are ignored, every key is "maybe" (a caller then searches) */
    assert_int_equal(idx_keyfilter_bytes(&f), 0);
    idx_keyfilter_add(&f, hash_of(1));
    assert_true(idx_keyfilter_may_hold(&f, hash_of(2)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_added_keys_are_always_maybe),
        cmocka_unit_test(test_false_positives_stay_near_one_percent_at_capacity),
        cmocka_unit_test(test_size_follows_capacity_and_a_released_filter_says_maybe),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
