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
    unsigned bits = 0;

    for (size_t i = 0; i < n; i++)
        all |= v[i];
    while (all) {
        bits++;
        all >>= 1;
    }
    return bits;
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

void fmt_bitunpack(uint32_t *out, const uint8_t *in, size_t n, unsigned bits)
{
    uint64_t mask = bits == 32 ? 0xffffffffu : ((uint64_t)1 << bits) - 1;
    size_t nbytes = fmt_bitpack_size(n, bits);
    size_t bitpos = 0;

    if (bits == 0) {
        memset(out, 0, n * sizeof(*out));
        return;
    }
    for (size_t i = 0; i < n; i++, bitpos += bits) {
        size_t byte = bitpos >> 3;
        uint64_t w = 0;
        size_t take = nbytes - byte < 8 ? nbytes - byte : 8;
        if (take == 8) {
            memcpy(&w, in + byte, 8); /* little-endian hosts; see below */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
            w = __builtin_bswap64(w);
#endif
        } else {
            for (size_t k = 0; k < take; k++)
                w |= (uint64_t)in[byte + k] << (8 * k);
        }
        out[i] = (uint32_t)((w >> (bitpos & 7)) & mask);
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
