/* segment.h - immutable segment files: the in-memory builder that writes them and the
 * mmap-based reader (dictionary lookup, postings cursors, columns, doc store).
 * The on-disk layout is documented at the top of segment_write.c. */
#ifndef FMT_SEGMENT_H
#define FMT_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer.h"
#include "article.h"
#include "buf.h"
#include "err.h"

#define FMT_DOC_END UINT32_MAX /* cursor position past the last posting */
#define FMT_MAX_TERM 255       /* longer analyzed terms are not indexed */
#define FMT_MAX_ID 4000        /* longest article id in bytes */

/* Term namespaces: the first byte of every dictionary key. */
enum fmt_ns {
    FMT_NS_HASH = 'H',   /* content hash of normalized title+body (duplicates), 1 field */
    FMT_NS_ID = 'I',     /* exact article id, 1 field, one posting */
    FMT_NS_NEARDUP = 'M', /* MinHash LSH band buckets (indexer/neardup.c), 1 field, tf =
                           * check bits, no positions */
    FMT_NS_SOURCE = 'S', /* whole folded source name ("bbc news"), 1 field */
    FMT_NS_TEXT = 'T',   /* analyzed title+body terms, 2 fields (title, body), positions */
    FMT_NS_URL = 'U',    /* analyzed url tokens, 1 field, positions */
};

enum fmt_field { FMT_FIELD_TITLE = 0, FMT_FIELD_BODY = 1 };

/* ---- Writing ---------------------------------------------------------------------- */

struct fmt_seg_builder; /* defined in segment_write.c */

/* New empty builder. Borrowed AN must outlive the builder (it analyzes added articles). */
int fmt_seg_builder_new(struct fmt_seg_builder **out, struct fmt_analyzer *an,
                        struct fmt_err *err);
void fmt_seg_builder_free(struct fmt_seg_builder *b);

/* Analyze and add A (borrowed, copied). *DOC receives the segment-local doc id (0, 1, ...).
 * HASH is the article's content hash (for FMT_NS_HASH), 0 to index none. */
int fmt_seg_builder_add(struct fmt_seg_builder *b, const struct fmt_article *a, uint64_t hash,
                        uint32_t *doc, struct fmt_err *err);

uint32_t fmt_seg_builder_ndocs(const struct fmt_seg_builder *b);
/* Heap bytes held by the builder (the figure compared with the memory budget). */
size_t fmt_seg_builder_bytes(const struct fmt_seg_builder *b);
/* Last local doc whose postings hold TERM of namespace NS (an id or a content hash),
 * or FMT_DOC_END. */
uint32_t fmt_seg_builder_find(const struct fmt_seg_builder *b, uint8_t ns, const void *term,
                              size_t len);
/* Add NKEYS keyword terms of KEY_LEN bytes each (KEYS[k * key_len ...], borrowed) in
 * namespace NS (a 1-field namespace without positions, not FMT_NS_ID or FMT_NS_HASH) to
 * DOC, which must be the doc just added (ndocs - 1), with tf TFS[k] (>= 1; TFS NULL: 1).
 * A key given twice keeps its first posting. Used for the near-duplicate band keys,
 * whose tf carries check bits (indexer/neardup.c). FMT_OK, FMT_EINVAL, FMT_ENOMEM. */
int fmt_seg_builder_add_keys(struct fmt_seg_builder *b, uint32_t doc, uint8_t ns,
                             const uint8_t *keys, size_t key_len, const uint32_t *tfs,
                             size_t nkeys, struct fmt_err *err);

/* Use NTHREADS threads in all (0 or 1: the caller's only, the default; more than 2 gives
 * the same as 2): a helper thread analyzes and indexes title, body and url and
 * compresses doc-store blocks while the caller's thread does the rest. CFG must be the
 * settings AN was made with (the helper makes its own analyzer). Call before the first
 * add. The written segment is byte-identical to a one-thread build. FMT_OK, FMT_EINVAL,
 * FMT_ENOMEM. */
int fmt_seg_builder_set_threads(struct fmt_seg_builder *b, unsigned nthreads,
                                const struct fmt_analyzer_cfg *cfg, struct fmt_err *err);

/* Write the segment to PATH (created exclusively, fsynced, closed) through format/io.
 * FMT_OK, FMT_EIO (message names the path) or FMT_ENOMEM. The builder is unchanged. */
int fmt_seg_builder_write(struct fmt_seg_builder *b, const char *path, struct fmt_err *err);

/* ---- Reading ---------------------------------------------------------------------- */

struct fmt_seg; /* defined in segment_read.c */

struct fmt_seg_stats {
    uint32_t ndocs;
    uint32_t nterms;
    uint32_t nsources;
    uint64_t title_len_sum; /* tokens in all titles */
    uint64_t body_len_sum;  /* tokens in all bodies */
    uint64_t file_bytes;
};

/* Open PATH, map it and verify the footer (magic, version, footer CRC, section bounds).
 * The body CRC is checked only by fmt_seg_verify (it reads the whole file).
 * On success *out owns the mapping (fmt_seg_close). FMT_EIO, FMT_ECORRUPT, FMT_EVERSION. */
int fmt_seg_open(struct fmt_seg **out, const char *path, struct fmt_err *err);
void fmt_seg_close(struct fmt_seg *seg);
/* Check the CRC32 of the whole file and every structural invariant (sorted dictionary,
 * block bounds, doc ids in range). FMT_OK or FMT_ECORRUPT naming the byte offset. */
int fmt_seg_verify(const struct fmt_seg *seg, struct fmt_err *err);
const struct fmt_seg_stats *fmt_seg_stats(const struct fmt_seg *seg);
const char *fmt_seg_path(const struct fmt_seg *seg);

/* Sections of a segment file, in file order (the layout at the top of segment_write.c). */
#define FMT_SEG_SECTIONS 8

/* Sizes of one segment, for tools/nxdump and size reports. */
struct fmt_seg_sizes {
    uint64_t section[FMT_SEG_SECTIONS]; /* bytes of each section, in file order */
    uint64_t file;                      /* bytes of the whole file */
    uint64_t terms;                     /* dictionary entries, all namespaces */
    uint64_t postings;                  /* (term, doc) pairs, all namespaces */
    uint64_t text_postings;             /* those of FMT_NS_TEXT */
    uint64_t positions;                 /* positions stored (text and url namespaces) */
    uint64_t skip_bytes;                /* skip tables, part of the postings section */
};

/* Name of section I (< FMT_SEG_SECTIONS): "postings", "positions", "dict", ... */
const char *fmt_seg_section_name(unsigned i);
/* Walk the dictionary and every posting list of SEG and fill *out. Reads the whole index
 * part of the file (not the doc store). FMT_OK or FMT_ECORRUPT. */
int fmt_seg_sizes(const struct fmt_seg *seg, struct fmt_seg_sizes *out, struct fmt_err *err);

struct fmt_term_info;
/* Raw bytes of TI's postings (skip table and blocks) and positions in SEG's mapping,
 * borrowed until fmt_seg_close; *pos is NULL when the term has none. For tools/nxdump. */
void fmt_seg_term_bytes(const struct fmt_seg *seg, const struct fmt_term_info *ti,
                        const uint8_t **post, const uint8_t **pos);

/* Where a term's postings live; filled by lookup, consumed by fmt_postings_open. */
struct fmt_term_info {
    uint32_t df;       /* documents in the list */
    uint32_t df_title; /* FMT_NS_TEXT: documents with the term in the title */
    uint64_t post_off; /* byte offset of the skip table + blocks in the postings section */
    uint64_t post_len;
    uint64_t pos_off;  /* byte offset of the positions in the positions section */
    uint64_t pos_len;  /* 0 when the namespace has no positions */
    uint8_t ns;        /* enum fmt_ns */
};

/* Find TERM (without the namespace byte) in namespace NS. FMT_OK, FMT_ENOTFOUND,
 * FMT_ECORRUPT. Touches one dictionary block after a binary search of the sparse index. */
int fmt_seg_lookup(const struct fmt_seg *seg, uint8_t ns, const char *term, size_t len,
                   struct fmt_term_info *out, struct fmt_err *err);

/* Called for each term of a prefix walk; TERM is borrowed for the call. Nonzero stops. */
typedef int (*fmt_term_fn)(void *ctx, const char *term, size_t len,
                           const struct fmt_term_info *ti);
/* Every term of namespace NS starting with PREFIX, in byte order. Returns FMT_OK,
 * FMT_ECORRUPT or FN's nonzero value. */
int fmt_seg_prefix(const struct fmt_seg *seg, uint8_t ns, const char *prefix, size_t len,
                   fmt_term_fn fn, void *ctx, struct fmt_err *err);

/* A walk over every term of a segment in key order, for one-pass readers (merges): the
 * dictionary pages behind it leave the resident set (fmt_seg_drop_pages). */
struct fmt_term_iter; /* defined in segment_read.c */
/* Start before SEG's first term. *out is owned by the caller (fmt_term_iter_close) and
 * borrows SEG. FMT_OK or FMT_ENOMEM. */
int fmt_term_iter_open(struct fmt_term_iter **out, const struct fmt_seg *seg,
                       struct fmt_err *err);
/* The next term: *KEY (namespace byte + term; borrowed until the next call), *LEN bytes,
 * and *TI. FMT_OK, FMT_ENOTFOUND after the last term, FMT_ECORRUPT. */
int fmt_term_iter_next(struct fmt_term_iter *it, const uint8_t **key, size_t *len,
                       struct fmt_term_info *ti, struct fmt_err *err);
void fmt_term_iter_close(struct fmt_term_iter *it);

/* Upper bounds for the docs of one 128-doc block, for block-max WAND/MaxScore:
 * a doc's BM25F contribution is at most what these would give. */
struct fmt_block_bound {
    uint32_t last_doc;   /* last doc id in the block */
    uint32_t max_tf[2];  /* largest tf per field (title, body) in the block */
    uint32_t min_len[2]; /* shortest field length among the block's docs with tf > 0 */
};

/* A forward cursor over one posting list; lives on the caller's stack or in a query
 * iterator; no heap except the positions scratch (fmt_postings_release frees it). */
struct fmt_postings {
    const struct fmt_seg *seg;
    struct fmt_term_info ti;
    const uint8_t *skip, *skip_end; /* unread skip entries */
    const uint8_t *blocks;          /* first block */
    const uint8_t *pos_base;        /* positions of this term, or NULL */
    uint32_t nfields;               /* 2 for FMT_NS_TEXT, else 1 */
    uint32_t nblocks, block;        /* blocks in the list; index of the loaded block + 1 */
    uint32_t n;                     /* docs in the loaded block */
    uint32_t i;                     /* index of the current doc within the block */
    uint32_t doc;                   /* current doc id, FMT_DOC_END when exhausted */
    uint64_t blocks_len;            /* bytes from blocks to the end of the list */
    uint64_t block_off;             /* offset of the skip cursor's block from blocks */
    uint64_t block_len;             /* its length */
    uint64_t pos_block_off;         /* positions offset of the skip cursor's block */
    uint64_t pos_next_off;          /* positions offset of the block after it */
    uint32_t pos_scan_i;            /* doc index whose positions start at pos_scan_off */
    uint64_t pos_scan_off;          /* bit offset in the loaded block's position codes
                                     * (split blocks: in the unary stream) */
    uint64_t pos_scan_code;         /* split blocks: index of doc pos_scan_i's first code */
    uint64_t pos_codes;             /* split blocks: codes in the block, 0 = not counted */
    struct fmt_block_bound bound;   /* bound of the block the skip cursor is on */
    int loaded;                     /* 1 when docs[] etc. hold the skip cursor's block */
    int done;                       /* 1 once the cursor has moved past the last posting */
    int single;                     /* one block, no skip entry: its bound is computed
                                     * from the decoded block */
    uint32_t prev_last;             /* last doc of the block before the skip cursor's */
    uint32_t docs[128];
    uint32_t tf[2][128];
    uint32_t *positions;            /* scratch for fmt_postings_positions */
    size_t positions_cap;
};

/* Position the cursor before the first posting of TI in SEG. FMT_OK or FMT_ECORRUPT. */
int fmt_postings_open(struct fmt_postings *p, const struct fmt_seg *seg,
                      const struct fmt_term_info *ti, struct fmt_err *err);
void fmt_postings_release(struct fmt_postings *p);
/* Move to the next posting (p->doc, FMT_DOC_END at the end). FMT_OK or FMT_ECORRUPT. */
int fmt_postings_next(struct fmt_postings *p, struct fmt_err *err);
/* Move to the first posting with doc >= TARGET (never backwards). FMT_OK or FMT_ECORRUPT. */
int fmt_postings_advance(struct fmt_postings *p, uint32_t target, struct fmt_err *err);
/* Move the skip cursor (not the doc cursor) to the block that may contain TARGET and return
 * its bound in *out (last_doc == FMT_DOC_END past the end). Decodes no block. */
int fmt_postings_shallow_advance(struct fmt_postings *p, uint32_t target,
                                 struct fmt_block_bound *out, struct fmt_err *err);
/* fmt_postings_advance with its most common case inline: TARGET within the decoded block
 * (a conjunction's step), a scan of docs[] without a call. Same results. */
static inline int fmt_postings_advance_fast(struct fmt_postings *p, uint32_t target,
                                            struct fmt_err *err)
{
    if (p->loaded && p->doc != FMT_DOC_END && target <= p->docs[p->n - 1]) {
        uint32_t i = p->i;
        while (p->docs[i] < target)
            i++;
        p->i = i;
        p->doc = p->docs[i];
        return FMT_OK;
    }
    return fmt_postings_advance(p, target, err);
}
/* tf of the current doc in FIELD (FMT_FIELD_TITLE/BODY; 1-field namespaces use TITLE). */
static inline uint32_t fmt_postings_tf(const struct fmt_postings *p, enum fmt_field field)
{
    return p->tf[field][p->i];
}
/* Positions of the current doc in FIELD, ascending. *pos is borrowed until the next call
 * on P. FMT_OK (n may be 0), FMT_ECORRUPT, FMT_ENOMEM. */
int fmt_postings_positions(struct fmt_postings *p, enum fmt_field field, const uint32_t **pos,
                           size_t *n, struct fmt_err *err);

/* Block-at-a-time reading (merges): load the next whole block into p->docs/tf[0..p->n)
 * with p->i = 0 and p->doc its first doc, or p->doc = FMT_DOC_END after the last block.
 * Do not mix with advance/shallow_advance. FMT_OK or FMT_ECORRUPT. */
int fmt_postings_next_block(struct fmt_postings *p, struct fmt_err *err);
/* The position deltas of the whole loaded block as stored: per doc in block order its
 * title positions then its body positions, each minus the previous position of the same
 * field of that doc (the first from 0). COUNT must be the sum of the block's tfs (both
 * fields); OUT receives COUNT values. FMT_OK or FMT_ECORRUPT. */
int fmt_postings_block_deltas(const struct fmt_postings *p, uint32_t *out, uint64_t count,
                              struct fmt_err *err);

/* Per-doc columns (O(1), from the mapping). DOC must be < ndocs. */
uint32_t fmt_seg_field_len(const struct fmt_seg *seg, uint32_t doc, enum fmt_field field);
int64_t fmt_seg_timestamp(const struct fmt_seg *seg, uint32_t doc); /* or FMT_NO_TIME */
/* The whole length column of FIELD, ndocs u32le values (fmt_get_u32le(col + 4 * doc) is
 * fmt_seg_field_len), for scans over many docs. Borrowed until fmt_seg_close. */
const uint8_t *fmt_seg_len_column(const struct fmt_seg *seg, enum fmt_field field);
uint32_t fmt_seg_source_id(const struct fmt_seg *seg, uint32_t doc);
/* Source name of a source id (borrowed from the mapping, not NUL-terminated). */
const char *fmt_seg_source_name(const struct fmt_seg *seg, uint32_t id, size_t *len);

/* Stored fields of DOC, decompressed through SCRATCH (caller-owned, reusable) into *OUT,
 * whose strings the caller then owns (fmt_article_release). FMT_OK, FMT_ECORRUPT,
 * FMT_ENOMEM. */
int fmt_seg_doc(const struct fmt_seg *seg, uint32_t doc, struct fmt_buf *scratch,
                struct fmt_article *out, struct fmt_err *err);

/* Doc-store blocks of SEG, and block BLK inflated into SCRATCH (caller-owned): the whole
 * stored docs from *FIRST on, each 5 x (varint len, bytes) for id, title, source, url, body
 * (segment_write.c). FMT_OK, FMT_ECORRUPT, FMT_ENOMEM. */
uint32_t fmt_seg_doc_blocks(const struct fmt_seg *seg);
int fmt_seg_doc_block(const struct fmt_seg *seg, uint32_t blk, struct fmt_buf *scratch,
                      uint32_t *first, struct fmt_err *err);
/* The file's checksum (CRC32 of every byte before the footer) against the footer's:
 * FMT_OK or FMT_ECORRUPT. Reads the whole file, handing its pages back as it goes. */
int fmt_seg_check_crc(const struct fmt_seg *seg, struct fmt_err *err);
/* The compressed bytes of doc-store block BLK as stored (one zlib stream): *Z points into
 * the mapping, *FIRST gets its first doc and *RAW_LEN its inflated length from the index;
 * returns their length, 0 when BLK is out of range or its index entry points outside the
 * doc store. Nothing is checked beyond that (fmt_seg_check_crc checks every byte). A
 * merge copies a block whose docs all stay live without compressing it again. */
size_t fmt_seg_doc_block_zlib(const struct fmt_seg *seg, uint32_t blk, const uint8_t **z,
                              uint32_t *first, uint32_t *raw_len);

/* Readers that go through a segment once in file order (merges) say which bytes they are
 * done with, so that the pages leave the process's resident set (MADV_DONTNEED on the
 * read-only mapping; the page cache keeps them and a later read maps them again): bytes
 * [0, UPTO) of section SECTION (< FMT_SEG_SECTIONS, file order: 0 postings, 1 positions,
 * ... 6 docstore), or the doc store before doc-store block BLK. */
void fmt_seg_drop_pages(const struct fmt_seg *seg, unsigned section, uint64_t upto);
void fmt_seg_drop_doc_blocks(const struct fmt_seg *seg, uint32_t blk);
/* Every page of SEG's file leaves the resident set (for long-running writers that look
 * up ids, hashes and near-duplicate keys in old segments). */
void fmt_seg_drop_all_pages(const struct fmt_seg *seg);

#endif
