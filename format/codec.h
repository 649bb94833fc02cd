/* codec.h - little-endian integers, varints, 128-value bit-packing and CRC32. */
#ifndef FMT_CODEC_H
#define FMT_CODEC_H

#include <stddef.h>
#include <stdint.h>

#define FMT_VARINT_MAX 10 /* bytes of the longest u64 varint */
#define FMT_BLOCK 128     /* values per bit-packed block */

static inline void fmt_put_u16le(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void fmt_put_u32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void fmt_put_u64le(uint8_t *p, uint64_t v)
{
    fmt_put_u32le(p, (uint32_t)v);
    fmt_put_u32le(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t fmt_get_u16le(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t fmt_get_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static inline uint64_t fmt_get_u64le(const uint8_t *p)
{
    return (uint64_t)fmt_get_u32le(p) | ((uint64_t)fmt_get_u32le(p + 4) << 32);
}

/* LEB128: 7 bits a byte, low group first, high bit = more. Writes at most
 * FMT_VARINT_MAX bytes to OUT; returns the count. */
size_t fmt_varint_encode(uint8_t *out, uint64_t v);

/* Decode one varint from [p, end). Returns bytes consumed, or 0 if the input is truncated
 * or longer than a u64 (the caller reports FMT_ECORRUPT). */
size_t fmt_varint_decode_slow(const uint8_t *p, const uint8_t *end, uint64_t *v);

static inline size_t fmt_varint_decode(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
    if (p < end && *p < 0x80) { /* most values fit one byte: no call, no loop */
        *v = *p;
        return 1;
    }
    if (end - p >= 2 && p[1] < 0x80) { /* most others two (position deltas, rare terms' gaps) */
        *v = (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
        return 2;
    }
    return fmt_varint_decode_slow(p, end, v);
}

/* Bytes taken by N values of BITS bits each, byte-padded. */
static inline size_t fmt_bitpack_size(size_t n, unsigned bits)
{
    return (n * bits + 7) / 8;
}

/* Pack N values (each < 2^BITS, BITS <= 32) LSB first into OUT, which must hold
 * fmt_bitpack_size(n, bits) bytes. */
void fmt_bitpack(uint8_t *out, const uint32_t *v, size_t n, unsigned bits);

/* Inverse of fmt_bitpack. IN must hold fmt_bitpack_size(n, bits) bytes: the caller checks. */
void fmt_bitunpack(uint32_t *out, const uint8_t *in, size_t n, unsigned bits);

/* Patched bit-packing (the PFor idea of Zukowski et al., 2006): N <= FMT_BLOCK values as
 * their low B bits, plus exceptions for the few values that need more bits, so that one
 * outlier does not widen all of them:
 *   u8     head          B (0..32), | FMT_PATCH_EXC when exceptions follow
 *   bytes  low           N x B bits (fmt_bitpack of value & (2^B - 1))
 *   and with FMT_PATCH_EXC:
 *   u8     count - 1     exceptions, 1..N
 *   u8     hb            bits of their high parts, 1..32 - B
 *   u8     index[count]  ascending positions of the exceptions in 0..N-1
 *   bytes  high          count x hb bits (fmt_bitpack of value >> B)
 * The encoder picks the B that takes the fewest bytes (ties: the wider B, fewer patches);
 * without exceptions it is plain bit-packing behind one byte. */
#define FMT_PATCH_EXC 0x80
#define FMT_PATCH_MAX(n) (1 + 4 * (size_t)(n)) /* bytes the encoding of N values can take */

/* Write V[0..n) (n <= FMT_BLOCK) to OUT, which must hold FMT_PATCH_MAX(n) bytes. Returns
 * the bytes written. */
size_t fmt_patch_encode(uint8_t *out, const uint32_t *v, size_t n);
/* Decode N values (n <= FMT_BLOCK) from the AVAIL bytes at IN into OUT. Returns the bytes
 * read, or 0 when they are not a valid encoding (the caller reports FMT_ECORRUPT). */
size_t fmt_patch_decode(uint32_t *out, const uint8_t *in, size_t avail, size_t n);

/* Rice codes (Golomb codes with a power-of-two divisor 2^k), for position deltas: value v is
 * q = v >> k as q zero bits and a one bit, then the k low bits of v, LSB first in a byte
 * stream. A quotient of FMT_RICE_ESC or more is written as FMT_RICE_ESC zero bits followed by
 * v in 32 bits, so an outlier costs at most FMT_RICE_ESC + 32 bits. */
#define FMT_RICE_ESC 24
#define FMT_RICE_MAX_K 31

/* The k (0..FMT_RICE_MAX_K) that codes V[0..n) in the fewest bits; *bits receives them. */
unsigned fmt_rice_pick(const uint32_t *v, size_t n, uint64_t *bits);
/* Bits taken by V[0..n) with parameter K. */
uint64_t fmt_rice_bits(const uint32_t *v, size_t n, unsigned k);
/* Write V[0..n) with parameter K to OUT, which must hold (fmt_rice_bits(v, n, k) + 7) / 8
 * bytes; the last byte is zero-padded. Returns the bytes written. */
size_t fmt_rice_encode(uint8_t *out, const uint32_t *v, size_t n, unsigned k);

/* Reading cursor over a Rice-coded byte range [p, p + nbits / 8). */
struct fmt_rice_reader {
    const uint8_t *p;
    uint64_t bit;   /* next bit to read */
    uint64_t nbits; /* bits in the range */
    unsigned k;
};
/* Decode the next value into *v. 0 on success, -1 when the range ends inside a code. */
int fmt_rice_next(struct fmt_rice_reader *r, uint32_t *v);

/* Split Rice layout: the same codes with their two parts in two streams, so that a reader
 * can jump to the c-th code: the low parts at bit c * k of the first, the unary parts found
 * by counting one bits (a word at a time) in the second.
 *   bytes  low     N x k bits: value & (2^k - 1), LSB first, zero-padded to a byte
 *   bytes  unary   per value q = value >> k zero bits and a one bit, zero-padded
 * No escapes: usable when every quotient is at most FMT_RICE_SPLIT_MAXQ. */
#define FMT_RICE_SPLIT_MAXQ 56

/* Bytes of V[0..n) in the split layout with parameter K, or 0 when a quotient is above
 * FMT_RICE_SPLIT_MAXQ. */
uint64_t fmt_rice_split_size(const uint32_t *v, size_t n, unsigned k);
/* Write V[0..n) to OUT, which must hold fmt_rice_split_size(v, n, k) (> 0) bytes. Returns
 * the bytes written. */
size_t fmt_rice_split_encode(uint8_t *out, const uint32_t *v, size_t n, unsigned k);

/* Reading cursor over a split block of N codes. */
struct fmt_rice_split {
    const uint8_t *low, *unary;
    uint64_t unary_bits; /* bits of the unary stream */
    uint64_t n;          /* codes in the block */
    uint64_t code;       /* next code to read */
    uint64_t ubit;       /* where its unary part starts */
    unsigned k;
};
/* Open the LEN bytes at P as N codes with parameter K (<= FMT_RICE_MAX_K). 0, or -1 when
 * LEN cannot hold the low parts. */
int fmt_rice_split_open(struct fmt_rice_split *r, const uint8_t *p, uint64_t len, uint64_t n,
                        unsigned k);
/* Move to code C (>= r->code, <= n) counting one bits. 0, or -1 when the stream ends. */
int fmt_rice_split_seek(struct fmt_rice_split *r, uint64_t c);
/* Decode the next code into *v. 0, or -1 when past the last code or the stream is bad. */
int fmt_rice_split_next(struct fmt_rice_split *r, uint32_t *v);
/* Decode the next COUNT codes into OUT[0..count) (fmt_rice_split_next in a loop without a
 * call per code). 0, or -1 as fmt_rice_split_next (OUT then partly written). */
int fmt_rice_split_read(struct fmt_rice_split *r, uint32_t *out, uint64_t count);

/* CRC32 (zlib's polynomial), continuing from CRC (start with 0). */
uint32_t fmt_crc32(uint32_t crc, const void *data, size_t len);
/* CRC32 of A's bytes followed by B's bytes, from CRC_A, CRC_B and B's length. */
uint32_t fmt_crc32_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);

#endif
