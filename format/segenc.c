/* segenc.c - encoders shared by the segment builder and the segment merger (see segenc.h;
 * the bytes they write are specified at the top of segment_write.c). */
#include "segenc.h"

#include <string.h>
#include <zlib.h>

#include "segment.h"

/* Append V[0..n) as a patched bit-packed array (codec.h). */
static int put_patched(struct fmt_buf *out, const uint32_t *v, uint32_t n)
{
    if (fmt_buf_reserve(out, FMT_PATCH_MAX(n)) != FMT_OK)
        return FMT_ENOMEM;
    out->len += fmt_patch_encode(out->p + out->len, v, n);
    return FMT_OK;
}

/* A block of at most FMT_SEG_SMALL_BLOCK docs as varints (segment_write.c). */
static int put_small(struct fmt_buf *out, uint8_t ns, const uint32_t *gaps,
                     const struct segenc_block *blk)
{
    int rc = 0;

    for (uint32_t i = 0; i < blk->n; i++) {
        uint32_t title = blk->tf[0][i], body = blk->tf[1][i];
        if (ns == FMT_NS_TEXT) {
            rc |= fmt_buf_put_varint(out, gaps[i]);
            rc |= fmt_buf_put_varint(out, (uint64_t)body << 1 | (title > 0));
            if (title > 0)
                rc |= fmt_buf_put_varint(out, title - 1);
        } else {
            rc |= fmt_buf_put_varint(out, (uint64_t)gaps[i] << 1 | (title > 1));
            if (title > 1)
                rc |= fmt_buf_put_varint(out, title - 2);
        }
    }
    return rc ? FMT_ENOMEM : FMT_OK;
}

int segenc_block(struct fmt_buf *out, struct fmt_buf *skip, uint8_t ns,
                 const struct segenc_block *blk, uint32_t prev_doc, uint64_t pos_len)
{
    unsigned nf = fmt_ns_fields(ns);
    uint32_t n = blk->n, gaps[FMT_BLOCK], vals[FMT_BLOCK];
    uint32_t max_tf[2] = {0, 0}, min_len[2] = {0, 0};
    uint32_t last_delta = blk->docs[n - 1] - (prev_doc + 1); /* prev -1 wraps to 0 */
    size_t start = out->len;
    int rc = FMT_OK;

    for (uint32_t i = 0; i < n; i++) {
        gaps[i] = blk->docs[i] - prev_doc - 1; /* wraps correctly for prev_doc = -1 */
        prev_doc = blk->docs[i];
        for (unsigned f = 0; f < nf; f++) {
            uint32_t tf = blk->tf[f][i];
            if (tf > max_tf[f])
                max_tf[f] = tf;
            if (ns == FMT_NS_TEXT && tf) {
                uint32_t l = blk->len[f][i];
                if (min_len[f] == 0 || l < min_len[f])
                    min_len[f] = l;
            }
        }
    }
    if (n <= FMT_SEG_SMALL_BLOCK) {
        rc = put_small(out, ns, gaps, blk);
    } else {
        rc = put_patched(out, gaps, n);
        for (unsigned f = 0; f < nf && rc == FMT_OK; f++) {
            for (uint32_t i = 0; i < n; i++)
                vals[i] = ns == FMT_NS_TEXT ? blk->tf[f][i] : blk->tf[f][i] - 1;
            rc = put_patched(out, vals, n);
        }
    }
    if (rc != FMT_OK)
        return rc;
    rc |= fmt_buf_put_varint(skip, last_delta);
    rc |= fmt_buf_put_varint(skip, out->len - start);
    if (fmt_ns_has_positions(ns))
        rc |= fmt_buf_put_varint(skip, pos_len);
    for (unsigned f = 0; f < nf; f++)
        rc |= fmt_buf_put_varint(skip, max_tf[f]);
    if (ns == FMT_NS_TEXT) {
        rc |= fmt_buf_put_varint(skip, min_len[0]);
        rc |= fmt_buf_put_varint(skip, min_len[1]);
    }
    return rc ? FMT_ENOMEM : FMT_OK;
}

unsigned segenc_rice_pick(const uint32_t *v, size_t n, uint64_t *len)
{
    uint64_t bits, split;
    unsigned k = fmt_rice_pick(v, n, &bits);

    if ((split = fmt_rice_split_size(v, n, k)) > 0) {
        *len = 1 + split;
        return k | SEGENC_POS_SPLIT;
    }
    *len = 1 + (bits + 7) / 8;
    return k;
}

int segenc_rice_block(struct fmt_buf *out, const uint32_t *v, size_t n, unsigned head,
                      uint64_t len)
{
    unsigned k = head & ~SEGENC_POS_SPLIT;

    if (fmt_buf_reserve(out, (size_t)len) != FMT_OK)
        return FMT_ENOMEM;
    out->p[out->len] = (uint8_t)head;
    if (head & SEGENC_POS_SPLIT)
        out->len += 1 + fmt_rice_split_encode(out->p + out->len + 1, v, n, k);
    else
        out->len += 1 + fmt_rice_encode(out->p + out->len + 1, v, n, k);
    return FMT_OK;
}

void segenc_dict_init(struct segenc_dict *d)
{
    memset(d, 0, sizeof(*d));
    fmt_buf_init(&d->dict);
    fmt_buf_init(&d->dictidx);
    fmt_buf_init(&d->prev_key);
}

void segenc_dict_release(struct segenc_dict *d)
{
    fmt_buf_release(&d->dict);
    fmt_buf_release(&d->dictidx);
    fmt_buf_release(&d->prev_key);
}

int segenc_dict_add(struct segenc_dict *d, const uint8_t *key, size_t key_len, uint32_t df,
                    uint32_t df_title, uint64_t post_off, uint64_t post_len, uint64_t pos_off,
                    uint64_t pos_len)
{
    uint8_t ns = key[0];
    size_t shared = 0;
    int rc = 0;

    if (d->in_block == FMT_SEG_DICT_BLOCK)
        d->in_block = 0;
    if (d->in_block == 0) {
        rc |= fmt_buf_put_u32le(&d->dictidx, (uint32_t)(d->base + d->dict.len));
        rc |= fmt_buf_put_varint(&d->dict, post_off);
        rc |= fmt_buf_put_varint(&d->dict, pos_off);
    } else {
        while (shared < key_len && shared < d->prev_key.len && d->prev_key.p[shared] == key[shared])
            shared++;
    }
    rc |= fmt_buf_put_varint(&d->dict, shared);
    rc |= fmt_buf_put_varint(&d->dict, key_len - shared);
    rc |= fmt_buf_append(&d->dict, key + shared, key_len - shared);
    rc |= fmt_buf_put_varint(&d->dict, df);
    if (ns == FMT_NS_TEXT)
        rc |= fmt_buf_put_varint(&d->dict, df_title);
    rc |= fmt_buf_put_varint(&d->dict, post_len);
    if (fmt_ns_has_positions(ns))
        rc |= fmt_buf_put_varint(&d->dict, pos_len);
    d->prev_key.len = 0;
    rc |= fmt_buf_append(&d->prev_key, key, key_len);
    d->in_block++;
    d->nterms++;
    return rc ? FMT_ENOMEM : FMT_OK;
}

void segenc_zip_init(struct segenc_zip *zip)
{
    memset(zip, 0, sizeof(*zip));
}

void segenc_zip_release(struct segenc_zip *zip)
{
    if (zip->ready)
        deflateEnd(&zip->z);
    zip->ready = 0;
}

int segenc_deflate(struct segenc_zip *zip, struct fmt_buf *out, const void *raw, size_t len)
{
    uLong bound = compressBound((uLong)len);

    if (len > UINT32_MAX || fmt_buf_reserve(out, bound) != FMT_OK)
        return FMT_ENOMEM;
    if (!zip->ready) {
        memset(&zip->z, 0, sizeof(zip->z));
        if (deflateInit(&zip->z, SEGENC_ZLIB_LEVEL) != Z_OK)
            return FMT_ENOMEM;
        zip->ready = 1;
    } else if (deflateReset(&zip->z) != Z_OK) {
        return FMT_ENOMEM;
    }
    zip->z.next_in = (Bytef *)(uintptr_t)raw;
    zip->z.avail_in = (uInt)len;
    zip->z.next_out = out->p + out->len;
    zip->z.avail_out = (uInt)bound;
    if (deflate(&zip->z, Z_FINISH) != Z_STREAM_END)
        return FMT_ENOMEM;
    out->len += bound - zip->z.avail_out;
    return FMT_OK;
}

int segenc_docidx_add(struct fmt_buf *out, uint32_t first_doc, uint32_t raw_len, uint64_t off)
{
    uint8_t entry[FMT_SEG_DOCIDX_ENTRY];

    fmt_put_u32le(entry, first_doc);
    fmt_put_u32le(entry + 4, raw_len);
    fmt_put_u64le(entry + 8, off);
    return fmt_buf_append(out, entry, sizeof(entry));
}

void segenc_header(struct fmt_file *f)
{
    uint8_t header[FMT_SEG_HEADER] = {0};

    fmt_put_u64le(header, FMT_SEG_MAGIC);
    fmt_put_u32le(header + 8, FMT_SEG_VERSION);
    fmt_file_append(f, header, sizeof(header));
}

void segenc_footer(struct fmt_file *f, const uint64_t *off, const uint64_t *len,
                   const struct segenc_counts *c)
{
    uint8_t foot[FMT_SEG_FOOTER], *q = foot;
    uint32_t body_crc = f->crc;

    for (int s = 0; s < SEC_COUNT; s++, q += 16) {
        fmt_put_u64le(q, off[s]);
        fmt_put_u64le(q + 8, len[s]);
    }
    fmt_put_u32le(q, c->ndocs);
    fmt_put_u32le(q + 4, c->nterms);
    fmt_put_u32le(q + 8, c->nsources);
    fmt_put_u32le(q + 12, c->ndocblocks);
    fmt_put_u64le(q + 16, c->len_sum[0]);
    fmt_put_u64le(q + 24, c->len_sum[1]);
    fmt_put_u32le(q + 32, body_crc);
    fmt_put_u32le(q + 36, FMT_SEG_VERSION);
    fmt_put_u64le(q + 40, FMT_SEG_MAGIC);
    fmt_put_u32le(q + 48, fmt_crc32(0, foot, (size_t)(q + 48 - foot)));
    fmt_file_append(f, foot, sizeof(foot));
}
