/* test_codec.c - varints, bit-packing (every width, full and partial blocks, exact-size
 * buffers) and CRC32 against known values. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "codec.h"

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void test_varint_roundtrips_boundaries_and_u64_max(void **state)
{
    static const struct {
        uint64_t v;
        size_t len;
    } cases[] = {{0, 1},          {1, 1},           {127, 1},         {128, 2},
                 {16383, 2},      {16384, 3},       {UINT32_MAX, 5},  {(uint64_t)1 << 35, 6},
                 {UINT64_MAX, 10}};
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t buf[FMT_VARINT_MAX];
        uint64_t back = 0;
        size_t n = fmt_varint_encode(buf, cases[i].v);
        assert_int_equal(n, cases[i].len);
        assert_int_equal(fmt_varint_decode(buf, buf + n, &back), n);
        assert_true(back == cases[i].v);
        assert_int_equal(fmt_varint_decode(buf, buf + n - 1, &back), 0); /* truncated */
    }
}

static void test_varint_rejects_more_than_64_bits(void **state)
{
    uint8_t buf[11] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0};
    uint64_t v;
    (void)state;

    assert_int_equal(fmt_varint_decode(buf, buf + sizeof(buf), &v), 0);
}

static void test_varint_encodes_300_as_ac_02(void **state)
{
    uint8_t buf[FMT_VARINT_MAX];
    (void)state;

    assert_int_equal(fmt_varint_encode(buf, 300), 2);
    assert_int_equal(buf[0], 0xac);
    assert_int_equal(buf[1], 0x02);
}

/* Bits needed for the largest of N values (0 when all are zero): plain packing's width. */
static unsigned width_of_largest(const uint32_t *v, size_t n)
{
    uint32_t all = 0;

    for (size_t i = 0; i < n; i++)
        all |= v[i];
    return all ? 32u - (unsigned)__builtin_clz(all) : 0u;
}

/* Every width 0..32 and block sizes from 1 to 128, unpacked from an exact-size heap buffer
 * (ASan catches a read past the packed bytes). */
static void test_bitpack_roundtrips_every_width_and_length(void **state)
{
    static const size_t lens[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 100, 127, 128};
    uint64_t seed = 0x1234567;
    (void)state;

    for (unsigned bits = 0; bits <= 32; bits++) {
        for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
            size_t n = lens[li], size = fmt_bitpack_size(n, bits);
            uint32_t in[FMT_BLOCK], out[FMT_BLOCK + 1];
            uint64_t mask = bits == 32 ? 0xffffffffu : ((uint64_t)1 << bits) - 1;
            uint8_t *packed = malloc(size ? size : 1);
            assert_non_null(packed);
            memset(packed, 0, size ? size : 1);
            for (size_t i = 0; i < n; i++)
                in[i] = (uint32_t)(next_rand(&seed) & mask);
            if (n && bits)
                in[n - 1] = (uint32_t)mask; /* the widest value last: the tail path */
            fmt_bitpack(packed, in, n, bits);
            memset(out, 0xa5, sizeof(out));
            fmt_bitunpack(out, packed, n, bits);
            assert_memory_equal(in, out, n * sizeof(uint32_t));
            assert_int_equal(out[n], 0xa5a5a5a5u); /* nothing written past n */
            free(packed);
        }
    }
}

static void test_bitpack_is_lsb_first(void **state)
{
    uint32_t v[3] = {5, 3, 1};
    uint8_t out[2] = {0, 0};
    (void)state;

    fmt_bitpack(out, v, 3, 3); /* 101 011 001 -> bits 0-8: 1,0,1, 1,1,0, 1,0,0 */
    assert_int_equal(out[0], 0x5d);
    assert_int_equal(out[1], 0x00);
}

static void test_patch_roundtrips_with_outliers(void **state)
{
    static const size_t lens[] = {1, 2, 3, 8, 17, 64, 127, 128};
    uint64_t seed = 777;
    (void)state;

    for (unsigned bits = 0; bits <= 32; bits++) {
        for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
            for (unsigned outliers = 0; outliers <= 3; outliers++) {
                size_t n = lens[li], size;
                uint32_t in[FMT_BLOCK], out[FMT_BLOCK + 1];
                uint8_t enc[FMT_PATCH_MAX(FMT_BLOCK) + 1];
                uint64_t mask = bits == 32 ? 0xffffffffu : ((uint64_t)1 << bits) - 1;
                for (size_t i = 0; i < n; i++)
                    in[i] = (uint32_t)(next_rand(&seed) & mask);
                for (unsigned k = 0; k < outliers; k++)
                    in[next_rand(&seed) % n] = UINT32_MAX >> k; /* wide values anywhere */
                memset(enc, 0xee, sizeof(enc));
                size = fmt_patch_encode(enc, in, n);
                assert_true(size >= 1 && size <= FMT_PATCH_MAX(n));
                assert_int_equal(enc[size], 0xee); /* nothing written past the end */
                memset(out, 0xa5, sizeof(out));
                assert_int_equal(fmt_patch_decode(out, enc, size, n), size);
                assert_memory_equal(in, out, n * sizeof(uint32_t));
                assert_int_equal(out[n], 0xa5a5a5a5u);
                /* never longer than plain packing behind a width byte */
                assert_true(size <= 1 + fmt_bitpack_size(n, width_of_largest(in, n)));
                /* every shorter input is rejected, not read past */
                for (size_t cut = 0; cut < size; cut++)
                    assert_int_equal(fmt_patch_decode(out, enc, cut, n), 0);
            }
        }
    }
}

/* The size of V[0..n) patched at width B (all values wider than B as exceptions), the
 * encoding's own formula written out, for an oracle over every width. */
static size_t patched_size(const uint32_t *v, size_t n, unsigned b, unsigned maxb)
{
    size_t e = 0;

    for (size_t i = 0; i < n; i++)
        e += b < 32 && (v[i] >> b) != 0;
    if (e == 0)
        return 1 + fmt_bitpack_size(n, b);
    return 1 + fmt_bitpack_size(n, b) + 2 + e + fmt_bitpack_size(e, maxb - b);
}

static void test_patch_picks_the_smallest_width(void **state)
{
    uint64_t seed = 99;
    (void)state;

    for (unsigned round = 0; round < 20000; round++) {
        size_t n = 1 + next_rand(&seed) % FMT_BLOCK, size, best_size;
        unsigned bits = (unsigned)(next_rand(&seed) % 33), maxb, best;
        uint32_t v[FMT_BLOCK];
        uint8_t enc[FMT_PATCH_MAX(FMT_BLOCK)];
        uint64_t mask = bits == 32 ? 0xffffffffu : ((uint64_t)1 << bits) - 1;
        for (size_t i = 0; i < n; i++) {
            v[i] = (uint32_t)(next_rand(&seed) & mask) >> (next_rand(&seed) % 8);
            if (next_rand(&seed) % 16 == 0)
                v[i] = (uint32_t)next_rand(&seed) >> (next_rand(&seed) % 32); /* outliers */
        }
        maxb = width_of_largest(v, n);
        best = maxb;
        best_size = patched_size(v, n, maxb, maxb);
        for (unsigned b = maxb; b-- > 0;) /* ties: the wider width */
            if (patched_size(v, n, b, maxb) < best_size) {
                best_size = patched_size(v, n, b, maxb);
                best = b;
            }
        size = fmt_patch_encode(enc, v, n);
        assert_int_equal(size, best_size);
        assert_int_equal(enc[0] & ~FMT_PATCH_EXC, best);
    }
}

static void test_patch_makes_outliers_exceptions(void **state)
{
    uint32_t v[FMT_BLOCK], out[FMT_BLOCK];
    uint8_t enc[FMT_PATCH_MAX(FMT_BLOCK)];
    size_t size;
    (void)state;

    for (size_t i = 0; i < FMT_BLOCK; i++)
        v[i] = 1;
    v[5] = 1000; /* 10 bits: plain packing would take 1 + 160 bytes */
    size = fmt_patch_encode(enc, v, FMT_BLOCK);
    /* head, 128 x 1 bit, count - 1, hb, index 5, 1000 >> 1 = 500 in 9 bits */
    assert_int_equal(size, 1 + 16 + 2 + 1 + 2);
    assert_int_equal(enc[0], 1 | FMT_PATCH_EXC);
    assert_int_equal(enc[17], 0);
    assert_int_equal(enc[18], 9);
    assert_int_equal(enc[19], 5);
    assert_int_equal(fmt_patch_decode(out, enc, size, FMT_BLOCK), size);
    assert_memory_equal(v, out, sizeof(v));
    /* damaged headers are errors: width 33, hb 0, an index out of range, indexes out of
     * order, and a width that overflows with the high part */
    enc[0] = 33;
    assert_int_equal(fmt_patch_decode(out, enc, size, FMT_BLOCK), 0);
    enc[0] = 1 | FMT_PATCH_EXC;
    enc[18] = 0;
    assert_int_equal(fmt_patch_decode(out, enc, size, FMT_BLOCK), 0);
    enc[18] = 32;
    assert_int_equal(fmt_patch_decode(out, enc, size, FMT_BLOCK), 0);
    enc[18] = 9;
    assert_int_equal(fmt_patch_decode(out, enc, size, 5), 0); /* index 5 of 5 values */
    v[6] = 1000; /* two exceptions, then swap their indexes */
    size = fmt_patch_encode(enc, v, FMT_BLOCK);
    assert_int_equal(enc[17], 1);
    enc[19] = 6;
    enc[20] = 5;
    assert_int_equal(fmt_patch_decode(out, enc, size, FMT_BLOCK), 0);
}

static void test_rice_split_roundtrips_and_seeks(void **state)
{
    uint32_t v[600], back;
    uint8_t out[8192];
    uint64_t seed = 4242;
    (void)state;

    for (size_t i = 0; i < 600; i++)
        v[i] = (uint32_t)(next_rand(&seed) % (i % 7 == 0 ? 3000 : 40));
    for (unsigned k = 0; k <= 12; k++) {
        uint64_t size = fmt_rice_split_size(v, 600, k);
        struct fmt_rice_split r;
        if (size == 0) {
            uint32_t maxv = 0;
            for (size_t i = 0; i < 600; i++)
                maxv = v[i] > maxv ? v[i] : maxv;
            assert_true(maxv >> k > FMT_RICE_SPLIT_MAXQ); /* refused only for a big quotient */
            continue;
        }
        assert_true(size <= sizeof(out));
        assert_int_equal(fmt_rice_split_encode(out, v, 600, k), size);
        /* read all in order */
        assert_int_equal(fmt_rice_split_open(&r, out, size, 600, k), 0);
        for (size_t i = 0; i < 600; i++) {
            assert_int_equal(fmt_rice_split_next(&r, &back), 0);
            assert_int_equal(back, v[i]);
        }
        assert_int_equal(fmt_rice_split_next(&r, &back), -1); /* past the last code */
        /* the same in runs (fmt_rice_split_read), and one run too many */
        assert_int_equal(fmt_rice_split_open(&r, out, size, 600, k), 0);
        for (size_t i = 0; i < 600; i += 1 + i % 11) {
            uint32_t run[11];
            size_t c = 1 + i % 11 < 600 - i ? 1 + i % 11 : 600 - i;
            assert_int_equal(fmt_rice_split_read(&r, run, c), 0);
            for (size_t j = 0; j < c; j++)
                assert_int_equal(run[j], v[i + j]);
        }
        assert_int_equal(fmt_rice_split_read(&r, &back, 1), -1);
        /* jump forward by counting one bits, from the start and from a cursor */
        for (uint64_t c = 0; c < 600; c += 1 + c / 3) {
            assert_int_equal(fmt_rice_split_open(&r, out, size, 600, k), 0);
            assert_int_equal(fmt_rice_split_seek(&r, c), 0);
            assert_int_equal(fmt_rice_split_next(&r, &back), 0);
            assert_int_equal(back, v[c]);
            if (c + 77 < 600) {
                assert_int_equal(fmt_rice_split_seek(&r, c + 77), 0);
                assert_int_equal(fmt_rice_split_next(&r, &back), 0);
                assert_int_equal(back, v[c + 77]);
            }
            assert_int_equal(fmt_rice_split_seek(&r, c), -1); /* never backwards */
        }
        /* a cut stream fails, whether it cuts the low parts or the unary ones */
        assert_int_equal(fmt_rice_split_open(&r, out, (600 * k) / 8 - (k ? 1 : 0), 600, k),
                         k ? -1 : 0);
        assert_int_equal(fmt_rice_split_open(&r, out, size - 1, 600, k), 0);
        assert_int_equal(fmt_rice_split_seek(&r, 600), -1);
    }
    v[3] = 57u << 2; /* a quotient of 57 with k 2: not in the split layout */
    assert_int_equal(fmt_rice_split_size(v, 600, 2), 0);
}

static void test_rice_roundtrips_every_k_with_outliers(void **state)
{
    uint32_t v[300], back;
    uint8_t *out;
    uint64_t seed = 99;
    (void)state;

    for (size_t i = 0; i < 300; i++)
        v[i] = (uint32_t)(next_rand(&seed) % 200);
    v[7] = UINT32_MAX; /* escapes */
    v[100] = 1u << 20;
    v[299] = 0;
    for (unsigned k = 0; k <= FMT_RICE_MAX_K; k++) {
        uint64_t bits = fmt_rice_bits(v, 300, k);
        size_t size = (size_t)((bits + 7) / 8);
        struct fmt_rice_reader r;
        out = malloc(size);
        assert_non_null(out);
        assert_int_equal(fmt_rice_encode(out, v, 300, k), size);
        r.p = out;
        r.bit = 0;
        r.nbits = (uint64_t)size * 8;
        r.k = k;
        for (size_t i = 0; i < 300; i++) {
            assert_int_equal(fmt_rice_next(&r, &back), 0);
            assert_int_equal(back, v[i]);
        }
        assert_true(r.bit == bits);
        free(out);
    }
}

static void test_rice_layout_and_truncation(void **state)
{
    uint32_t v[2] = {5, 1}, back;
    uint8_t out[2];
    struct fmt_rice_reader r = {out, 0, 8, 1};
    (void)state;

    /* k 1: 5 = q 2 -> 0 0 1, low bit 1; 1 = q 0 -> 1, low 1: bits 0,0,1,1, 1,1 -> 0x3c */
    assert_int_equal(fmt_rice_bits(v, 2, 1), 6);
    assert_int_equal(fmt_rice_encode(out, v, 2, 1), 1);
    assert_int_equal(out[0], 0x3c);
    assert_int_equal(fmt_rice_next(&r, &back), 0);
    assert_int_equal(back, 5);
    assert_int_equal(fmt_rice_next(&r, &back), 0);
    assert_int_equal(back, 1);
    assert_int_equal(fmt_rice_next(&r, &back), -1); /* only padding zeros left */
    r.bit = 0;
    r.nbits = 3; /* ends inside the first code's low bits */
    assert_int_equal(fmt_rice_next(&r, &back), -1);
}

static void test_rice_pick_finds_the_smallest_k(void **state)
{
    uint32_t v[64];
    uint64_t bits, best = UINT64_MAX;
    unsigned k;
    (void)state;

    for (size_t i = 0; i < 64; i++)
        v[i] = (uint32_t)(i * 37 % 150);
    k = fmt_rice_pick(v, 64, &bits);
    for (unsigned c = 0; c <= FMT_RICE_MAX_K; c++)
        if (fmt_rice_bits(v, 64, c) < best)
            best = fmt_rice_bits(v, 64, c);
    assert_true(bits == best);
    assert_true(fmt_rice_bits(v, 64, k) == best);
}

static void test_crc32_matches_zlib_check_value(void **state)
{
    (void)state;

    assert_int_equal(fmt_crc32(0, "123456789", 9), 0xcbf43926u);
    assert_int_equal(fmt_crc32(fmt_crc32(0, "1234", 4), "56789", 5), 0xcbf43926u);
}

/* Long inputs take the carry-less multiplication path where the CPU has it: every length
 * from 0 to 1100 at every offset in 16 bytes, and a few long ones, against zlib's own
 * crc32 and continued from a nonzero CRC. */
static void test_crc32_matches_zlib_at_every_length(void **state)
{
    static uint8_t buf[(1 << 16) + 16];
    uint64_t seed = 31337;
    (void)state;

    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)next_rand(&seed);
    for (size_t len = 0; len <= 1100; len++)
        for (size_t off = 0; off < 16; off++) {
            uint32_t start = (uint32_t)next_rand(&seed);
            assert_int_equal(fmt_crc32(start, buf + off, len),
                             (uint32_t)crc32(start, buf + off, (uInt)len));
        }
    for (size_t len = 1 << 12; len <= 1 << 16; len = len * 2 + 7)
        assert_int_equal(fmt_crc32(0, buf + 3, len), (uint32_t)crc32(0, buf + 3, (uInt)len));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varint_roundtrips_boundaries_and_u64_max),
        cmocka_unit_test(test_varint_rejects_more_than_64_bits),
        cmocka_unit_test(test_varint_encodes_300_as_ac_02),
        cmocka_unit_test(test_bitpack_roundtrips_every_width_and_length),
        cmocka_unit_test(test_bitpack_is_lsb_first),
        cmocka_unit_test(test_patch_roundtrips_with_outliers),
        cmocka_unit_test(test_patch_makes_outliers_exceptions),
        cmocka_unit_test(test_patch_picks_the_smallest_width),
        cmocka_unit_test(test_rice_split_roundtrips_and_seeks),
        cmocka_unit_test(test_rice_roundtrips_every_k_with_outliers),
        cmocka_unit_test(test_rice_layout_and_truncation),
        cmocka_unit_test(test_rice_pick_finds_the_smallest_k),
        cmocka_unit_test(test_crc32_matches_zlib_check_value),
        cmocka_unit_test(test_crc32_matches_zlib_at_every_length),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
