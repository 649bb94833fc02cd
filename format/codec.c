/* codec.c - varints, bit-packing and CRC32 (the byte-level codecs of the segment format). */
#include "codec.h"

#include <string.h>
#include <zlib.h>

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

size_t fmt_varint_decode(const uint8_t *p, const uint8_t *end, uint64_t *v)
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

unsigned fmt_bits_needed(const uint32_t *v, size_t n)
{
    uint32_t all = 0;

    for (size_t i = 0; i < n; i++)
        all |= v[i];
    return all ? 32u - (unsigned)__builtin_clz(all) : 0u;
}

void fmt_bitpack(uint8_t *out, const uint32_t *v, size_t n, unsigned bits)
{
    uint64_t acc = 0;
    unsigned have = 0;
    size_t o = 0;

    if (bits == 0)
        return;
    for (size_t i = 0; i < n; i++) {
        acc |= (uint64_t)v[i] << have;
        have += bits;
        while (have >= 8) {
            out[o++] = (uint8_t)acc;
            acc >>= 8;
            have -= 8;
        }
    }
    if (have)
        out[o] = (uint8_t)acc;
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

/* Unpack N values of BITS bits. Inlined into one copy per width (the switch below), so the
 * shifts and masks are constants and the main loop has no branch: value i lies in the 8
 * bytes at (i * bits) / 8 (shift <= 7, 7 + 32 <= 64). The last few values, whose 8-byte
 * window would reach past the packed bytes, are assembled byte by byte. */
static inline __attribute__((always_inline)) void unpack_width(uint32_t *out, const uint8_t *in,
                                                              size_t n, unsigned bits)
{
    const uint64_t mask = bits == 32 ? 0xffffffffu : ((uint64_t)1 << bits) - 1;
    size_t nbytes = fmt_bitpack_size(n, bits), i = 0, fast = 0;

    if (nbytes >= 8) {
        fast = ((nbytes - 8) * 8 + 7) / bits + 1;
        if (fast > n)
            fast = n;
    }
    for (; i < fast; i++) {
        size_t bp = i * bits;
        out[i] = (uint32_t)((load_le64(in + (bp >> 3)) >> (bp & 7)) & mask);
    }
    for (; i < n; i++) {
        size_t bp = i * bits, byte = bp >> 3;
        uint64_t w = 0;
        for (size_t k = 0; byte + k < nbytes && k < 8; k++)
            w |= (uint64_t)in[byte + k] << (8 * k);
        out[i] = (uint32_t)((w >> (bp & 7)) & mask);
    }
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

uint32_t fmt_crc32(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;

    while (len > 0) {
        uInt chunk = len > 0x40000000u ? 0x40000000u : (uInt)len;
        crc = (uint32_t)crc32(crc, p, chunk);
        p += chunk;
        len -= chunk;
    }
    return crc;
}
