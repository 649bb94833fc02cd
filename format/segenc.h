/* segenc.h - the encoders that the segment builder (segment_write.c) and the segment
 * merger (segment_merge.c) share, so both write the same bytes for the same postings:
 * posting blocks with their skip entries, Rice-coded position blocks, front-coded
 * dictionary entries, doc-store blocks, header and footer. The layout they write is
 * documented at the top of segment_write.c. Internal to format/. */
#ifndef FMT_SEGENC_H
#define FMT_SEGENC_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "buf.h"
#include "codec.h"
#include "io.h"
#include "segformat.h"

#define SEGENC_ZLIB_LEVEL 1 /* doc store; level 6 was 2.7x slower (commit log) */

/* One postings block being encoded: up to FMT_BLOCK docs of one term, ascending. */
struct segenc_block {
    uint32_t n;                   /* docs in the block */
    uint32_t docs[FMT_BLOCK];     /* doc ids */
    uint32_t tf[2][FMT_BLOCK];    /* raw tf per field (1-field namespaces use tf[0], >= 1) */
    uint32_t len[2][FMT_BLOCK];   /* FMT_NS_TEXT: the doc's title and body lengths, for the
                                   * skip entry's min_len; unused in other namespaces */
};

/* Encode block BLK of namespace NS whose previous block ended at PREV_DOC (UINT32_MAX for
 * the first block) and whose positions take POS_LEN bytes: the block's bytes are appended
 * to OUT and its skip entry (last_delta, block_len, [pos_len], max_tf, [min_len]) to SKIP.
 * FMT_OK or FMT_ENOMEM. */
int segenc_block(struct fmt_buf *out, struct fmt_buf *skip, uint8_t ns,
                 const struct segenc_block *blk, uint32_t prev_doc, uint64_t pos_len);

/* Head byte of a positions block: the Rice parameter k (0..31), | SEGENC_POS_SPLIT when the
 * block is in the split layout (codec.h: low parts, then unary parts), else the codes are
 * interleaved with escapes (fmt_rice_encode). */
#define SEGENC_POS_SPLIT 0x80

/* Head byte (k, and SEGENC_POS_SPLIT unless a quotient is too large for the split layout)
 * for one block's position deltas V[0..n), and the bytes of the encoded block (head byte +
 * codes) in *len. */
unsigned segenc_rice_pick(const uint32_t *v, size_t n, uint64_t *len);
/* Append the positions block of V[0..n) with head HEAD and length LEN (both from
 * segenc_rice_pick) to OUT. FMT_OK or FMT_ENOMEM. */
int segenc_rice_block(struct fmt_buf *out, const uint32_t *v, size_t n, unsigned head,
                      uint64_t len);

/* The dictionary and its sparse index, built in memory while terms are written in key
 * order. */
struct segenc_dict {
    struct fmt_buf dict;     /* the dict section, from byte base on */
    uint64_t base;           /* dict bytes the caller has taken out of dict (and moved on:
                              * the merger spills them); 0 for the builder */
    struct fmt_buf dictidx;  /* the dictidx section */
    struct fmt_buf prev_key; /* key of the last term added (front coding) */
    uint32_t in_block;       /* terms in the current dict block */
    uint32_t nterms;         /* terms added */
};

void segenc_dict_init(struct segenc_dict *d);
void segenc_dict_release(struct segenc_dict *d);
/* Add the entry of KEY (namespace byte + term, greater than the previous key) whose
 * postings start at POST_OFF (POST_LEN bytes) and positions at POS_OFF (POS_LEN bytes).
 * FMT_OK or FMT_ENOMEM. */
int segenc_dict_add(struct segenc_dict *d, const uint8_t *key, size_t key_len, uint32_t df,
                    uint32_t df_title, uint64_t post_off, uint64_t post_len, uint64_t pos_off,
                    uint64_t pos_len);

/* A deflate stream reused from doc-store block to block (deflateReset), where compress2
 * set up and tore down zlib's state for every 8 KiB block: zlib time -25% (24 MB of
 * Reuters + BBC in 8 KiB blocks: 0.40 -> 0.29 s), the same bytes. One per thread; zero it
 * with segenc_zip_init, free it with segenc_zip_release. */
struct segenc_zip {
    z_stream z;
    int ready; /* deflateInit done */
};

void segenc_zip_init(struct segenc_zip *zip);
void segenc_zip_release(struct segenc_zip *zip);
/* Append the zlib stream of RAW[0..len) (SEGENC_ZLIB_LEVEL) to OUT, byte for byte what
 * compress2 writes. FMT_OK, FMT_ENOMEM. */
int segenc_deflate(struct segenc_zip *zip, struct fmt_buf *out, const void *raw, size_t len);
/* Append one docidx entry to OUT. FMT_OK or FMT_ENOMEM. */
int segenc_docidx_add(struct fmt_buf *out, uint32_t first_doc, uint32_t raw_len, uint64_t off);

/* What the footer records beside the section table. */
struct segenc_counts {
    uint32_t ndocs, nterms, nsources, ndocblocks;
    uint64_t len_sum[2]; /* title and body tokens of all docs */
};

/* Append the file header to F (which must be empty). */
void segenc_header(struct fmt_file *f);
/* Append the footer: section table OFF/LEN (SEC_COUNT each), C, and the CRCs. */
void segenc_footer(struct fmt_file *f, const uint64_t *off, const uint64_t *len,
                   const struct segenc_counts *c);

#endif
