/* codec.c - varints, bit-packing and CRC32 (the byte-level codecs of the segment format). */
#include "codec.h"

#include <string.h>
#include <zlib.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

size_t fmt_varint_encode(uint8_t *out, uint64_t v)
{
    size_t n = 0;

    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

size_t fmt_varint_decode_slow(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    unsigned shift = 0;
    size_t n = 0;

    while (p + n < end && n < FMT_VARINT_MAX) {
        uint8_t c = p[n++];
        if (shift == 63 && (c & 0x7e))
            return 0; /* more than 64 bits */
        x |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = x;
            return n;
        }
        shift += 7;
    }
    return 0;
}

void fmt_bitpack(uint8_t *out, const uint32_t *v, size_t n, unsigned bits)
{
    uint64_t acc = 0;
    unsigned have = 0; /* bits in acc, < 32 between values: a value fits beside them */
    size_t o = 0;

    if (bits == 0)
        return;
    for (size_t i = 0; i < n; i++) {
        acc |= (uint64_t)v[i] << have;
        have += bits;
        if (have >= 32) { /* 4 whole bytes: one store instead of a byte loop */
            fmt_put_u32le(out + o, (uint32_t)acc);
            o += 4;
            acc >>= 32;
            have -= 32;
        }
    }
    for (; have > 0; have = have > 8 ? have - 8 : 0) {
        out[o++] = (uint8_t)acc;
        acc >>= 8;
    }
}

static inline uint64_t load_le64(const uint8_t *p)
{
    uint64_t w;

    memcpy(&w, p, 8);
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

/* Unpack 8 values of BITS bits from the BITS bytes at IN (value k at bit k * BITS). Inlined
 * into one copy per width (the switch below), so every offset, shift and mask is a
 * constant and the 8 values are independent (no loop-carried chain but the pointers): up
 * to 8 bits, one 64-bit load holds the whole group; wider, value k lies in the 8 bytes at
 * byte (k * bits) / 8 (shift <= 7, 7 + 32 <= 64). Reads the bytes
 * [0, unpack8_reach(bits)) of IN. */
static inline __attribute__((always_inline)) void unpack8(uint32_t *out, const uint8_t *in,
                                                         unsigned bits)
{
    const uint64_t mask = bits == 32 ? 0xffffffffu : ((uint64_t)1 << bits) - 1;

    /* written out 8 times: gcc -O2 does not unroll the loop, and then shifts by %cl */
    if (bits <= 8) {
        uint64_t w = load_le64(in);
#define V(k) out[k] = (uint32_t)((w >> ((k) * bits)) & mask)
        V(0); V(1); V(2); V(3); V(4); V(5); V(6); V(7);
#undef V
    } else {
#define V(k) out[k] = (uint32_t)((load_le64(in + (((k) * bits) >> 3)) >> (((k) * bits) & 7)) & mask)
        V(0); V(1); V(2); V(3); V(4); V(5); V(6); V(7);
#undef V
    }
}

static inline size_t unpack8_reach(unsigned bits)
{
    return bits <= 8 ? 8 : ((7 * bits) >> 3) + 8;
}

/* Unpack N values of BITS bits, 8 at a time (unpack8): the groups whose loads stay within
 * the packed bytes straight from IN, the last few (whose loads would reach past them; up to
 * 56 of 128 values at 1 bit) from a zero-padded copy of the bytes left. */
static inline __attribute__((always_inline)) void unpack_width(uint32_t *out, const uint8_t *in,
                                                              size_t n, unsigned bits)
{
    size_t nbytes = fmt_bitpack_size(n, bits), reach = unpack8_reach(bits);
    size_t ngroups = n / 8, g = 0, i, base, len, nk, need;
    uint8_t tail[64];
    uint32_t tmp[64];

    for (; g < ngroups && g * bits + reach <= nbytes; g++)
        unpack8(out + 8 * g, in + g * bits, bits);
    i = 8 * g;
    if (i == n)
        return;
    /* the values left from a copy of their bytes (fewer than reach <= 36), zero-padded as
     * far as the last group's loads reach: for every n and width at most 7 groups and 53
     * bytes (checked exhaustively for n < 5000) */
    base = g * bits;
    len = nbytes - base;
    nk = (n - i + 7) / 8;
    need = (nk - 1) * bits + reach;
    memcpy(tail, in + base, len);
    memset(tail + len, 0, need - len);
    for (size_t k = 0; k < nk; k++)
        unpack8(tmp + 8 * k, tail + k * bits, bits);
    memcpy(out + i, tmp, (n - i) * sizeof(*out));
}

void fmt_bitunpack(uint32_t *out, const uint8_t *in, size_t n, unsigned bits)
{
    switch (bits) {
    case 0:
        memset(out, 0, n * sizeof(*out));
        break;
#define W(b)                                                                                       \
    case b:                                                                                        \
        unpack_width(out, in, n, b);                                                               \
        break;
        W(1) W(2) W(3) W(4) W(5) W(6) W(7) W(8) W(9) W(10) W(11) W(12) W(13) W(14) W(15) W(16)
        W(17) W(18) W(19) W(20) W(21) W(22) W(23) W(24) W(25) W(26) W(27) W(28) W(29) W(30)
        W(31) W(32)
#undef W
    default:
        break; /* callers reject widths above 32 */
    }
}

/* Values of V[0..n) wider than B bits, i.e. > 2^B - 1; four at a time with SSE2. */
static inline size_t count_wider(const uint32_t *v, size_t n, unsigned b)
{
    size_t e = 0, i = 0;
#ifdef __SSE2__
    __m128i acc = _mm_setzero_si128(), zero = _mm_setzero_si128();
    __m128i shift = _mm_cvtsi32_si128((int)b);

    for (; i + 4 <= n; i += 4) {
        __m128i x = _mm_srl_epi32(_mm_loadu_si128((const __m128i *)(v + i)), shift);
        acc = _mm_sub_epi32(acc, _mm_cmpeq_epi32(x, zero)); /* counts the narrow ones */
    }
    acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, _MM_SHUFFLE(1, 0, 3, 2)));
    acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, _MM_SHUFFLE(2, 3, 0, 1)));
    e = i - (size_t)(uint32_t)_mm_cvtsi128_si32(acc);
#endif
    for (; i < n; i++)
        e += (v[i] >> b) != 0;
    return e;
}

/* The bitwise OR of V[0..n). */
static inline uint32_t or_all(const uint32_t *v, size_t n)
{
    uint32_t all = 0;
    size_t i = 0;
#ifdef __SSE2__
    __m128i acc = _mm_setzero_si128();

    for (; i + 4 <= n; i += 4)
        acc = _mm_or_si128(acc, _mm_loadu_si128((const __m128i *)(v + i)));
    acc = _mm_or_si128(acc, _mm_shuffle_epi32(acc, _MM_SHUFFLE(1, 0, 3, 2)));
    acc = _mm_or_si128(acc, _mm_shuffle_epi32(acc, _MM_SHUFFLE(2, 3, 0, 1)));
    all = (uint32_t)_mm_cvtsi128_si32(acc);
#endif
    for (; i < n; i++)
        all |= v[i];
    return all;
}

size_t fmt_patch_encode(uint8_t *out, const uint32_t *v, size_t n)
{
    uint32_t low[FMT_BLOCK], high[FMT_BLOCK], all;
    uint8_t idx[FMT_BLOCK];
    size_t best_size, o, e = 0;
    unsigned maxb, best;

    all = or_all(v, n);
    maxb = all ? 32u - (unsigned)__builtin_clz(all) : 0u;
    best = maxb;
    best_size = 1 + fmt_bitpack_size(n, maxb);
    for (unsigned b = maxb; b-- > 0;) { /* exceptions: the values wider than b */
        size_t size, wider = count_wider(v, n, b);
        if (3 + wider >= best_size)
            break; /* a narrower width has as many exceptions or more: never smaller */
        size = 1 + fmt_bitpack_size(n, b) + 2 + wider + fmt_bitpack_size(wider, maxb - b);
        if (size < best_size) {
            best_size = size;
            best = b;
        }
    }
    if (best < maxb) { /* split: low parts, and per exception its index and high part */
        uint32_t mask = (uint32_t)(((uint64_t)1 << best) - 1);
        for (size_t i = 0; i < n; i++) {
            uint32_t h = v[i] >> best;
            low[i] = v[i] & mask;
            high[e] = h;
            idx[e] = (uint8_t)i;
            e += h != 0;
        }
    }
    out[0] = (uint8_t)(best | (e ? FMT_PATCH_EXC : 0));
    memset(out + 1, 0, fmt_bitpack_size(n, best));
    fmt_bitpack(out + 1, e ? low : v, n, best);
    o = 1 + fmt_bitpack_size(n, best);
    if (e) {
        unsigned hb = maxb - best;
        out[o++] = (uint8_t)(e - 1);
        out[o++] = (uint8_t)hb;
        memcpy(out + o, idx, e);
        o += e;
        memset(out + o, 0, fmt_bitpack_size(e, hb));
        fmt_bitpack(out + o, high, e, hb);
        o += fmt_bitpack_size(e, hb);
    }
    return o;
}

size_t fmt_patch_decode(uint32_t *out, const uint8_t *in, size_t avail, size_t n)
{
    uint32_t high[FMT_BLOCK];
    unsigned b, hb;
    size_t used, e;
    int prev = -1;

    if (avail < 1 || n > FMT_BLOCK || (b = in[0] & ~FMT_PATCH_EXC) > 32)
        return 0;
    used = 1 + fmt_bitpack_size(n, b);
    if (used > avail)
        return 0;
    fmt_bitunpack(out, in + 1, n, b);
    if (!(in[0] & FMT_PATCH_EXC))
        return used;
    if (avail - used < 2)
        return 0;
    e = (size_t)in[used] + 1;
    hb = in[used + 1];
    used += 2;
    if (e > n || hb == 0 || b + hb > 32 || avail - used < e + fmt_bitpack_size(e, hb))
        return 0;
    fmt_bitunpack(high, in + used + e, e, hb);
    for (size_t k = 0; k < e; k++) {
        int idx = in[used + k];
        if (idx <= prev || (size_t)idx >= n)
            return 0;
        out[idx] |= high[k] << b;
        prev = idx;
    }
    return used + e + fmt_bitpack_size(e, hb);
}

uint64_t fmt_rice_bits(const uint32_t *v, size_t n, unsigned k)
{
    uint64_t bits = 0;

    for (size_t i = 0; i < n; i++) {
        uint32_t q = v[i] >> k;
        bits += q < FMT_RICE_ESC ? q + 1 + k : FMT_RICE_ESC + 32;
    }
    return bits;
}

unsigned fmt_rice_pick(const uint32_t *v, size_t n, uint64_t *bits)
{
    uint64_t sum = 0, best;
    unsigned k0 = 0, k;

    for (size_t i = 0; i < n; i++)
        sum += v[i];
    /* the optimum is near log2(mean); try the neighbours too (exact sizes, small sets) */
    if (n && sum / n > 0)
        k0 = 63u - (unsigned)__builtin_clzll(sum / n);
    k = k0 ? k0 - 1 : 0;
    best = fmt_rice_bits(v, n, k);
    for (unsigned c = k + 1; c <= k0 + 1 && c <= FMT_RICE_MAX_K; c++) {
        uint64_t b = fmt_rice_bits(v, n, c);
        if (b < best) {
            best = b;
            k = c;
        }
    }
    *bits = best;
    return k;
}

/* LSB-first bit writer. */
struct bitw {
    uint8_t *out;
    size_t o;
    uint64_t acc;
    unsigned have;
};

static inline void bitw_put(struct bitw *w, uint64_t v, unsigned n) /* n <= 32 */
{
    w->acc |= v << w->have;
    w->have += n;
    while (w->have >= 8) {
        w->out[w->o++] = (uint8_t)w->acc;
        w->acc >>= 8;
        w->have -= 8;
    }
}

size_t fmt_rice_encode(uint8_t *out, const uint32_t *v, size_t n, unsigned k)
{
    struct bitw w = {out, 0, 0, 0};
    const uint64_t low = ((uint64_t)1 << k) - 1;

    for (size_t i = 0; i < n; i++) {
        uint32_t q = v[i] >> k;
        if (q < FMT_RICE_ESC) {
            bitw_put(&w, 0, q); /* q zeros (q < 24) */
            bitw_put(&w, 1, 1);
            if (k)
                bitw_put(&w, v[i] & low, k);
        } else {
            bitw_put(&w, 0, FMT_RICE_ESC);
            bitw_put(&w, v[i], 32);
        }
    }
    if (w.have)
        out[w.o++] = (uint8_t)w.acc;
    return w.o;
}

/* Up to 57 bits of the stream of NBITS bits at P from bit BIT on (fewer near the end; the
 * rest are zero). */
static inline uint64_t stream_peek(const uint8_t *p, uint64_t nbits, uint64_t bit)
{
    size_t byte = (size_t)(bit >> 3), nbytes = (size_t)((nbits + 7) >> 3);
    uint64_t w = 0;

    if (nbytes - byte >= 8) {
        w = load_le64(p + byte);
    } else {
        for (size_t k = 0; byte + k < nbytes; k++)
            w |= (uint64_t)p[byte + k] << (8 * k);
    }
    return w >> (bit & 7);
}

static inline uint64_t rice_peek(const struct fmt_rice_reader *r)
{
    return stream_peek(r->p, r->nbits, r->bit);
}

int fmt_rice_next(struct fmt_rice_reader *r, uint32_t *v)
{
    uint64_t w, left;
    unsigned q;

    if (r->bit >= r->nbits)
        return -1;
    left = r->nbits - r->bit;
    w = rice_peek(r);
    if (left < 57)
        w &= ((uint64_t)1 << left) - 1;
    q = w ? (unsigned)__builtin_ctzll(w) : 64;
    if (q < FMT_RICE_ESC) {
        if (left < (uint64_t)q + 1 + r->k)
            return -1;
        r->bit += q + 1;
        *v = ((uint32_t)q << r->k) |
             (r->k ? (uint32_t)(rice_peek(r) & (((uint64_t)1 << r->k) - 1)) : 0);
        r->bit += r->k;
        return 0;
    }
    if (left < FMT_RICE_ESC + 32)
        return -1;
    r->bit += FMT_RICE_ESC;
    *v = (uint32_t)rice_peek(r);
    r->bit += 32;
    return 0;
}

uint64_t fmt_rice_split_size(const uint32_t *v, size_t n, unsigned k)
{
    uint64_t unary = 0;

    for (size_t i = 0; i < n; i++) {
        uint32_t q = v[i] >> k;
        if (q > FMT_RICE_SPLIT_MAXQ)
            return 0;
        unary += q + 1;
    }
    return ((uint64_t)n * k + 7) / 8 + (unary + 7) / 8;
}

size_t fmt_rice_split_encode(uint8_t *out, const uint32_t *v, size_t n, unsigned k)
{
    struct bitw w = {out, 0, 0, 0};
    const uint64_t low = ((uint64_t)1 << k) - 1;

    if (k) {
        for (size_t i = 0; i < n; i++)
            bitw_put(&w, v[i] & low, k);
        if (w.have)
            out[w.o++] = (uint8_t)w.acc;
    }
    w.acc = 0;
    w.have = 0;
    for (size_t i = 0; i < n; i++) {
        bitw_put(&w, 0, v[i] >> k); /* q <= 56 zeros: have + q < 64 */
        bitw_put(&w, 1, 1);
    }
    if (w.have)
        out[w.o++] = (uint8_t)w.acc;
    return w.o;
}

/* One bits of X without a call: the build targets baseline x86-64, where
 * __builtin_popcountll is a libgcc call (1.4% of a phrase benchmark run). */
static inline unsigned ones64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (unsigned)((x * 0x0101010101010101ull) >> 56);
}

int fmt_rice_split_open(struct fmt_rice_split *r, const uint8_t *p, uint64_t len, uint64_t n,
                        unsigned k)
{
    uint64_t low_len = (n * k + 7) / 8;

    if (k > FMT_RICE_MAX_K || n > UINT64_MAX / 64 || low_len > len)
        return -1;
    r->low = p;
    r->unary = p + low_len;
    r->unary_bits = (len - low_len) * 8;
    r->n = n;
    r->k = k;
    r->code = 0;
    r->ubit = 0;
    return 0;
}

int fmt_rice_split_seek(struct fmt_rice_split *r, uint64_t c)
{
    uint64_t need = c - r->code; /* one bits to pass */

    if (c < r->code || c > r->n)
        return -1;
    while (need) {
        uint64_t w, left;
        unsigned valid, ones;
        if (r->ubit >= r->unary_bits)
            return -1;
        left = r->unary_bits - r->ubit;
        valid = 57; /* stream_peek holds at least 57 bits */
        if (left < valid)
            valid = (unsigned)left;
        w = stream_peek(r->unary, r->unary_bits, r->ubit) & (((uint64_t)1 << valid) - 1);
        ones = ones64(w);
        if (ones >= need) {
            for (uint64_t i = 1; i < need; i++)
                w &= w - 1; /* clear the lowest one */
            r->ubit += (unsigned)__builtin_ctzll(w) + 1;
            break;
        }
        need -= ones;
        r->ubit += valid;
    }
    r->code = c;
    return 0;
}

/* fmt_rice_split_next, inlined into it and into fmt_rice_split_read's loop. */
static inline __attribute__((always_inline)) int split_next(struct fmt_rice_split *r,
                                                           uint32_t *v)
{
    uint64_t w, x;
    unsigned q;

    if (r->code >= r->n || r->ubit >= r->unary_bits)
        return -1;
    w = stream_peek(r->unary, r->unary_bits, r->ubit);
    if (r->unary_bits - r->ubit < 57)
        w &= ((uint64_t)1 << (r->unary_bits - r->ubit)) - 1;
    if (!w)
        return -1;
    q = (unsigned)__builtin_ctzll(w);
    x = (uint64_t)q << r->k;
    if (r->k)
        x |= stream_peek(r->low, r->n * r->k, r->code * r->k) & (((uint64_t)1 << r->k) - 1);
    if (x > UINT32_MAX)
        return -1;
    *v = (uint32_t)x;
    r->ubit += q + 1;
    r->code++;
    return 0;
}

int fmt_rice_split_next(struct fmt_rice_split *r, uint32_t *v)
{
    return split_next(r, v);
}

int fmt_rice_split_read(struct fmt_rice_split *r, uint32_t *out, uint64_t count)
{
    for (uint64_t i = 0; i < count; i++)
        if (split_next(r, &out[i]) != 0)
            return -1;
    return 0;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_CLMUL_CRC 1
#include <smmintrin.h>
#include <wmmintrin.h>

/* CRC32 by carry-less multiplication, after Gopal et al., "Fast CRC Computation for
 * Generic Polynomials Using PCLMULQDQ Instruction" (Intel, 2009): four 128-bit lanes are
 * folded forward 64 bytes at a time (x^(4*128+32) and x^(4*128-32) mod P), then into one
 * lane, then to 64 and 32 bits (Barrett reduction with P and floor(x^64 / P)); all
 * constants bit-reflected as the polynomial is. CRC is the register as zlib keeps it
 * (inverted); LEN >= 64 and a multiple of 16. */
__attribute__((target("sse4.1,pclmul"))) static inline __m128i fold(__m128i x, __m128i k,
                                                                      __m128i next)
{
    return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00),
                                       _mm_clmulepi64_si128(x, k, 0x11)),
                         next);
}

__attribute__((target("sse4.1,pclmul"))) static uint32_t crc32_clmul(uint32_t crc,
                                                                     const uint8_t *p,
                                                                     size_t len)
{
    const __m128i k1k2 = _mm_set_epi64x(0x01c6e41596, 0x0154442bd4);
    const __m128i k3k4 = _mm_set_epi64x(0x00ccaa009e, 0x01751997d0);
    const __m128i k5 = _mm_set_epi64x(0, 0x0163cd6124);
    const __m128i poly = _mm_set_epi64x(0x01f7011641, 0x01db710641);
    const __m128i mask32 = _mm_setr_epi32(-1, 0, -1, 0);
    __m128i x1 = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i x2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
    __m128i x4 = _mm_loadu_si128((const __m128i *)(const void *)(p + 48));
    __m128i t;

    x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)crc));
    for (p += 64, len -= 64; len >= 64; p += 64, len -= 64) {
        x1 = fold(x1, k1k2, _mm_loadu_si128((const __m128i *)(const void *)p));
        x2 = fold(x2, k1k2, _mm_loadu_si128((const __m128i *)(const void *)(p + 16)));
        x3 = fold(x3, k1k2, _mm_loadu_si128((const __m128i *)(const void *)(p + 32)));
        x4 = fold(x4, k1k2, _mm_loadu_si128((const __m128i *)(const void *)(p + 48)));
    }
    /* the four lanes into one, then the 16-byte blocks left */
    x1 = fold(fold(fold(x1, k3k4, x2), k3k4, x3), k3k4, x4);
    for (; len >= 16; p += 16, len -= 16)
        x1 = fold(x1, k3k4, _mm_loadu_si128((const __m128i *)(const void *)p));
    /* 128 -> 64 bits */
    t = _mm_clmulepi64_si128(x1, k3k4, 0x10);
    x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), t);
    t = _mm_srli_si128(x1, 4);
    x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, mask32), k5, 0x00), t);
    /* 64 -> 32 bits */
    t = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), poly, 0x10);
    t = _mm_clmulepi64_si128(_mm_and_si128(t, mask32), poly, 0x00);
    return (uint32_t)_mm_extract_epi32(_mm_xor_si128(x1, t), 1);
}
#endif

uint32_t fmt_crc32(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;

#ifdef HAVE_CLMUL_CRC
    static int clmul = -1;
    if (clmul < 0)
        clmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
    if (clmul && len >= 64) {
        size_t n = len & ~(size_t)15;
        crc = ~crc32_clmul(~crc, p, n);
        p += n;
        len -= n;
    }
#endif
    while (len > 0) {
        uInt chunk = len > 0x40000000u ? 0x40000000u : (uInt)len;
        crc = (uint32_t)crc32(crc, p, chunk);
        p += chunk;
        len -= chunk;
    }
    return crc;
}

uint32_t fmt_crc32_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b)
{
    return (uint32_t)crc32_combine(crc_a, crc_b, (z_off_t)len_b);
}
