/* segment_write.c - the in-memory segment builder and the writer of segment files.
 *
 * Articles are analyzed as they are added; each distinct term (namespace byte + term
 * bytes) gets an entry in the open-addressing hash table of one of two inverters (the
 * keys the builder makes itself, and the analyzed fields: struct inverter) that
 * accumulates its postings and positions as varints. fmt_seg_builder_write() sorts the terms and writes the file below
 * in one sequential pass. The block, positions, dictionary, doc-store and footer encoders
 * are in segenc.c, shared with the segment merger (segment_merge.c), which writes the same
 * layout from existing segments.
 *
 * Segment file layout (all integers little-endian; varint = LEB128, see codec.h):
 *
 *   header    u64 magic "EWNXSEG1", u32 FMT_SEG_VERSION, u32 0
 *   postings  per term, in dictionary order:
 *               varint skip_len               [df > 128] bytes of the skip table that
 *                                             follows; a list of one block has neither
 *                                             (the reader derives its bound from the block)
 *               skip table, one entry per 128-doc block:
 *                 varint last_delta           last doc - (previous block's last doc + 1),
 *                                             the first block counts from doc 0
 *                 varint block_len            bytes of the block
 *                 varint pos_len              [positions namespaces] positions bytes
 *                 varint max_tf[nfields]      largest tf of each field in the block
 *                 varint min_len[2]           [text namespace] shortest title and body
 *                                             length among docs with tf > 0 there (0 if none)
 *               blocks, 128 docs each (the last may be shorter; n follows from df); the
 *               doc gaps are doc - previous doc - 1, the previous doc of the first block
 *               being -1 and of later blocks their last doc:
 *                 n > FMT_SEG_SMALL_BLOCK (2): patched bit-packed arrays (codec.h: a
 *                 width byte, n low parts, exceptions for the few wider values)
 *                   patched gaps[n]
 *                   patched tf[nfields][n]    text: raw tf, which may be 0 in one field;
 *                                             other namespaces: tf - 1
 *                 n <= 2: per doc, varints
 *                   text: gap, body_tf << 1 | (title_tf > 0), [title_tf > 0] title_tf - 1
 *                   other namespaces: gap << 1 | (tf > 1), [tf > 1] tf - 2
 *   positions per term with positions, one block per postings block (its skip entry's
 *             pos_len bytes; the term's pos_len for a one-block list):
 *               u8     head                   Rice parameter k (0..31), | 0x80 (split)
 *               split (every quotient <= 56; codec.h, the common case):
 *                 bits low                    the k low bits of each delta d, LSB first,
 *                                             zero-padded to a byte
 *                 bits unary                  q = d >> k of each delta as q zero bits and
 *                                             a one bit, zero-padded: a reader finds the
 *                                             c-th code by counting one bits, and its low
 *                                             bits at c * k (c = the tfs before the doc)
 *               interleaved (otherwise):
 *                 bits codes                  per delta the unary q then the k low bits;
 *                                             q >= 24 is 24 zero bits and d in 32 bits;
 *                                             zero-padded to a byte
 *             deltas per doc in posting order: title positions then body positions (tf of
 *             each field many), each minus the previous position of the same field (the
 *             first from 0)
 *   dict      front-coded blocks of FMT_SEG_DICT_BLOCK terms in byte order of the key
 *             (namespace byte + term):
 *               varint post_off, varint pos_off   of the block's first term
 *               per term: varint shared, varint suffix_len, suffix bytes, varint df,
 *                         [text] varint df_title, varint post_len, [positions] pos_len
 *             a term's offsets are the previous term's offsets plus its lengths
 *   dictidx   u32 byte offset of each dict block within the dict section
 *   columns   u32 title_len[ndocs], u32 body_len[ndocs] (tokens), i64 timestamp[ndocs]
 *             (INT64_MIN = none), u32 source_id[ndocs]
 *   sources   varint count, then count x (varint len, UTF-8 bytes); id = index
 *   docstore  zlib streams, each holding whole docs: 5 x (varint len, bytes) for id,
 *             title, source, url, body
 *   docidx    per doc-store block: u32 first_doc, u32 raw_len, u64 offset in docstore
 *   footer    FMT_SEG_FOOTER bytes: 8 x (u64 off, u64 len) for the sections above in this
 *             order, u32 ndocs, u32 nterms, u32 nsources, u32 ndocblocks,
 *             u64 title_len_sum, u64 body_len_sum, u32 body_crc (CRC32 of every byte
 *             before the footer), u32 version, u64 magic, u32 footer_crc (CRC32 of the
 *             footer bytes before it)
 *
 * Example (a real dump, tools/nxdump --term T:nato): ten docs, doc 5 titled "NATO" with
 * body "talks of nato and more nato" (6 tokens), doc 9 with body "the nato summit" (3 tokens):
 *   postings   05                      df 2: a small block; doc 5: gap 5 (5 - -1 - 1)
 *              05 00                   body tf 2 << 1 | title flag 1, title tf 1 - 1
 *              03 02                   doc 9: gap 3 (9 - 5 - 1), body tf 1 << 1 | 0
 *   positions  80                      split, k 0 (deltas 0, 2, 3, 1: 10 bits with k 0 or
 *                                      1); no low bits with k 0
 *              89 02                   unary: doc 5: title 0 -> 1; body 2 5 -> 001 0001;
 *                                      doc 9: body 1 -> 01; LSB first: 1001 0001 01
 *   dict entry df 2, df_title 1, post_len 5, pos_len 3
 * Three to 128 docs make one block of patched arrays, e.g. for docs 1, 4, 9 with body tfs
 * 1, 1, 2 and no title hit: 03 11 01 (width 3, gaps 1 2 4), 00 (width 0: title tfs all 0),
 * 02 25 (width 2, body tfs 1 1 2); a block of 128 gaps that are all small but one takes
 * the small width plus that one as an exception (codec.h).
 * With 129 or more docs the list starts with skip_len and one skip entry per block, e.g.
 * 09 06 04 01 02 01 03 for a block ending at doc 9: last_delta 9, block_len 6, pos_len 4,
 * max_tf title 1 body 2, min_len title 1 body 3.
 */
#include "segment.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "io.h"
#include "segenc.h"
#include "segformat.h"
#include "worker.h"

#define NO_DOC UINT32_MAX

#define BATCH 16 /* occurrences looked up together (batch_add) */
#define WRITE_AHEAD 8 /* terms prefetched ahead while writing (write_terms) */
#define TERM_BUF_FIRST 16     /* bytes of a term buffer's first allocation, from a slab */
#define SLAB_SIZE (64 * 1024) /* bytes of a slab of first allocations */
#define POS_PASS_MIN_TERMS 4096 /* fewer terms: a thread costs more than it saves */

/* An occurrence waiting in the batch; its key is in builder.batch_keys. */
struct pending {
    uint32_t koff;  /* offset of the key in batch_keys */
    uint32_t len;   /* key bytes (namespace byte + term) */
    uint32_t hash;
    uint32_t pos;
    unsigned field;
    int stem;       /* the key is a folded word to be stemmed (fmt_token.stem) */
};

/* A folded word of the segment and the term its stem is (see word_term). */
struct word_slot {
    uint64_t head;     /* the key's first 8 bytes (namespace byte + word), zero-padded */
    uint32_t hash;     /* key_hash of the key */
    uint32_t term;     /* the term's index + 1, NO_TERM for a dropped one; 0: empty */
    uint32_t key_off;  /* the whole key in inverter.word_keys */
    uint32_t key_len;
};

#define NO_TERM UINT32_MAX /* a word whose stem is too long to index */
#define BATCH_KEYS (BATCH * 64) /* bytes of batch_keys used for keys (+ 8 of slack) */

/* Accumulated postings of one term while the segment is in memory. */
struct term_entry {
    uint64_t head[2];   /* the key's first 16 bytes, zero-padded: most keys compare here */
    uint32_t key_off;   /* offset of the key (ns byte + term) in its inverter.keys */
    uint32_t key_len;
    uint32_t df;
    uint32_t df_title;
    uint32_t last_doc;  /* last doc whose posting is in post, NO_DOC before the first */
    uint32_t cur_doc;   /* doc now being added, NO_DOC when not in the current doc */
    union {
        struct {        /* while the doc cur_doc is added (term_touch resets them) */
            uint32_t cur_tf[2];
            uint32_t last_pos;  /* previous position in cur_field, for deltas */
            int cur_field;      /* field of the last appended position, -1 at doc start */
        };
        uint64_t pos_bytes; /* while the file is written: the term's encoded positions
                             * bytes, left by the positions pass */
    };
    struct fmt_buf post; /* per doc: varint gap, varint tf[nfields] */
    struct fmt_buf pos;  /* per doc: position deltas, title then body */
};

/* The terms of some namespaces and their postings while the segment is in memory: the
 * builder has two, kw for the keys it adds itself (ids, hashes, sources, near-duplicate
 * band keys) and text for the analyzed fields (text and url namespaces). With two
 * threads the helper runs the text one (the calling thread never touches it until the
 * helper is drained), so the per-token work is all on the helper; their namespaces do
 * not overlap, and the segment's terms are the two sets side by side (term_at). */
struct inverter {
    struct fmt_analyzer *an;     /* text: the analyzer of the thread that runs it */
    struct term_entry *terms;    /* nterms used, terms_cap allocated */
    size_t nterms, terms_cap;
    uint64_t *table;             /* open addressing: hash << 32 | (term index + 1), 0 = empty;
                                  * the hash bits spare a probe the term entry's cache line */
    size_t table_cap;            /* power of two, load <= 1/2 */
    struct fmt_buf keys;         /* all term keys back to back */
    struct fmt_buf slabs;        /* uint8_t * each, to SLAB_SIZE bytes: first term buffers */
    uint8_t *slab;               /* the last slab, or NULL */
    size_t slab_used;            /* bytes of it handed out */
    uint32_t *touched;           /* term indexes seen in the current doc */
    size_t ntouched, touched_cap;
    size_t bytes;                /* heap estimate of the arrays above but keys */
    /* text: the analyzed words (namespace byte + folded word) of the current field, queued
     * (batch_add), and each word of the segment's term (word_term) */
    struct pending batch[BATCH]; /* queued words, nbatch used */
    unsigned nbatch;
    size_t batch_used;           /* bytes of batch_keys used */
    uint8_t batch_keys[BATCH_KEYS + 8]; /* + 8: fmt_analyzer_stem reads past a word */
    struct word_slot *word_tab;  /* open addressing, word_cap slots (power of two; 0 until
                                  * the first field), nwords used, load <= 3/4 */
    size_t word_cap, nwords;
    struct fmt_buf word_keys;    /* keys of the words longer than 8 bytes, back to back */
    uint32_t cur_doc;
    unsigned cur_field;
    uint8_t cur_ns;
};

struct fmt_seg_builder {
    struct fmt_analyzer *an;     /* borrowed */
    struct inverter kw, text;
    /* columns */
    struct fmt_buf title_len, body_len, timestamp, source_id;
    /* sources: names back to back with their offsets */
    struct fmt_buf source_names; /* varint len + bytes each, the sources section body */
    char **sources;
    size_t nsources, sources_cap;
    /* doc store */
    struct fmt_buf doc_raw;      /* current uncompressed block */
    uint32_t doc_raw_first;      /* first doc of the current block */
    struct fmt_buf doc_z;        /* compressed blocks */
    uint32_t doc_z_crc;          /* CRC32 of doc_z, kept as blocks are added (with two
                                  * threads computed where each block is compressed) */
    struct segenc_zip zip;       /* the calling thread's deflate stream */
    struct fmt_buf doc_idx;      /* docidx entries */
    uint32_t ndocblocks;
    uint32_t ndocs;
    uint64_t len_sum[2];
    size_t bytes;                /* heap estimate of the builder itself */
    struct pipe *pipe;           /* helper thread (fmt_seg_builder_set_threads), or NULL */
};

/* The N <= 8 bytes at P as a little-endian number, read with loads that stay inside them
 * (overlapping when N is not a power of two). A memcpy of a variable length into a local
 * followed by a word read stalls on store forwarding. */
static inline uint64_t short_le(const uint8_t *p, size_t n)
{
    if (n >= 4)
        return fmt_get_u32le(p) | (uint64_t)fmt_get_u32le(p + n - 4) << (8 * (n - 4));
    if (n == 0)
        return 0;
    return p[0] | (uint64_t)p[n / 2] << (8 * (n / 2)) | (uint64_t)p[n - 1] << (8 * (n - 1));
}

/* Hash of the key NS + TERM[0..len) (namespace byte, then the term), from its two parts:
 * no key has to be assembled first. In memory only (the term table, the helper's doc
 * aggregation). */
static uint32_t key_hash(uint8_t ns, const uint8_t *term, size_t len)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (len + 1) ^ (uint64_t)ns << 56;

    for (; len >= 8; term += 8, len -= 8) {
        h = (h ^ fmt_get_u64le(term)) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    h = (h ^ short_le(term, len)) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return (uint32_t)h;
}

/* key_hash of a whole key (LEN >= 1 bytes). */
static uint32_t hash_bytes(const uint8_t *key, size_t len)
{
    return key_hash(key[0], key + 1, len - 1);
}

/* A term's two buffers (postings, positions) start with TERM_BUF_FIRST bytes carved from
 * the builder's slabs, enough for most of them for good (half the terms of a segment
 * occur in one doc: a few bytes each), and move to malloc when they outgrow it (doubling
 * from 64 bytes). Before, every term's buffers were two mallocs of 64 bytes: malloc,
 * realloc and their page faults were 5% of a one-thread ingest. A buffer is on a slab
 * iff 0 < cap <= TERM_BUF_FIRST. */
static int term_buf_reserve(struct inverter *inv, struct fmt_buf *buf, size_t extra)
{
    size_t need = buf->len + extra, cap;
    uint8_t *p;

    if (need <= buf->cap)
        return FMT_OK;
    if (buf->cap == 0 && need <= TERM_BUF_FIRST) {
        if (!inv->slab || inv->slab_used + TERM_BUF_FIRST > SLAB_SIZE) {
            uint8_t *slab = malloc(SLAB_SIZE);
            if (!slab || fmt_buf_append(&inv->slabs, &slab, sizeof(slab)) != FMT_OK) {
                free(slab);
                return FMT_ENOMEM;
            }
            inv->slab = slab;
            inv->slab_used = 0;
            inv->bytes += SLAB_SIZE;
        }
        buf->p = inv->slab + inv->slab_used;
        buf->cap = TERM_BUF_FIRST;
        inv->slab_used += TERM_BUF_FIRST;
        return FMT_OK;
    }
    for (cap = buf->cap > TERM_BUF_FIRST ? buf->cap * 2 : 64; cap < need; cap *= 2)
        ;
    if (buf->cap > TERM_BUF_FIRST) {
        p = realloc(buf->p, cap);
        if (!p)
            return FMT_ENOMEM;
        inv->bytes += cap - buf->cap;
    } else {
        p = malloc(cap);
        if (!p)
            return FMT_ENOMEM;
        if (buf->len)
            memcpy(p, buf->p, buf->len);
        inv->bytes += cap;
    }
    buf->p = p;
    buf->cap = cap;
    return FMT_OK;
}

static void term_buf_release(struct fmt_buf *buf)
{
    if (buf->cap > TERM_BUF_FIRST)
        free(buf->p);
    fmt_buf_init(buf);
}

static int inverter_init(struct inverter *inv, struct fmt_analyzer *an)
{
    inv->an = an;
    inv->table_cap = 1 << 14;
    inv->table = calloc(inv->table_cap, sizeof(*inv->table));
    inv->bytes = inv->table_cap * sizeof(*inv->table);
    return inv->table ? FMT_OK : FMT_ENOMEM;
}

static void inverter_release(struct inverter *inv)
{
    for (size_t i = 0; i < inv->nterms; i++) {
        term_buf_release(&inv->terms[i].post);
        term_buf_release(&inv->terms[i].pos);
    }
    for (size_t i = 0; i < inv->slabs.len; i += sizeof(uint8_t *)) {
        uint8_t *slab;
        memcpy(&slab, inv->slabs.p + i, sizeof(slab));
        free(slab);
    }
    fmt_buf_release(&inv->slabs);
    free(inv->terms);
    free(inv->table);
    free(inv->touched);
    fmt_buf_release(&inv->keys);
    free(inv->word_tab);
    fmt_buf_release(&inv->word_keys);
}

int fmt_seg_builder_new(struct fmt_seg_builder **out, struct fmt_analyzer *an,
                        struct fmt_err *err)
{
    struct fmt_seg_builder *b = calloc(1, sizeof(*b));

    *out = NULL;
    if (!b)
        return fmt_errorf(err, FMT_ENOMEM, "segment builder: out of memory");
    b->an = an;
    if (inverter_init(&b->kw, an) != FMT_OK || inverter_init(&b->text, an) != FMT_OK) {
        inverter_release(&b->kw);
        inverter_release(&b->text);
        free(b);
        return fmt_errorf(err, FMT_ENOMEM, "segment builder: out of memory");
    }
    b->bytes = sizeof(*b);
    *out = b;
    return FMT_OK;
}

static void pipe_stop(struct fmt_seg_builder *b);

void fmt_seg_builder_free(struct fmt_seg_builder *b)
{
    if (!b)
        return;
    pipe_stop(b);
    inverter_release(&b->kw);
    inverter_release(&b->text);
    for (size_t i = 0; i < b->nsources; i++)
        free(b->sources[i]);
    free(b->sources);
    fmt_buf_release(&b->title_len);
    fmt_buf_release(&b->body_len);
    fmt_buf_release(&b->timestamp);
    fmt_buf_release(&b->source_id);
    fmt_buf_release(&b->source_names);
    fmt_buf_release(&b->doc_raw);
    fmt_buf_release(&b->doc_z);
    fmt_buf_release(&b->doc_idx);
    segenc_zip_release(&b->zip);
    free(b);
}

uint32_t fmt_seg_builder_ndocs(const struct fmt_seg_builder *b)
{
    return b->ndocs;
}

static size_t pipe_bytes(const struct fmt_seg_builder *b);

/* Per term beyond the tracked buffer capacities: malloc's header and rounding for the two
 * buffers once they outgrow their slab bytes (2 x 16; an over-estimate for the many terms
 * that never do), and what fmt_seg_builder_write adds for it (a 16-byte sort record and
 * about 16 bytes of dictionary entry). */
#define TERM_OVERHEAD 64

static size_t inverter_bytes(const struct inverter *inv)
{
    return inv->bytes + inv->keys.cap + inv->nterms * TERM_OVERHEAD;
}

size_t fmt_seg_builder_bytes(const struct fmt_seg_builder *b)
{
    return b->bytes + b->doc_z.cap + b->doc_raw.cap + b->title_len.cap * 5 + b->doc_idx.cap +
           b->source_names.cap + inverter_bytes(&b->kw) +
           (b->pipe ? pipe_bytes(b) : inverter_bytes(&b->text));
}

static int table_grow(struct inverter *inv)
{
    size_t cap = inv->table_cap * 2;
    uint64_t *t = calloc(cap, sizeof(*t));

    if (!t)
        return FMT_ENOMEM;
    for (size_t i = 0; i < inv->table_cap; i++) {
        uint64_t v = inv->table[i];
        size_t s;
        if (!v)
            continue;
        s = (size_t)(v >> 32) & (cap - 1);
        while (t[s])
            s = (s + 1) & (cap - 1);
        t[s] = v;
    }
    inv->bytes += (cap - inv->table_cap) * sizeof(*t);
    free(inv->table);
    inv->table = t;
    inv->table_cap = cap;
    return FMT_OK;
}

/* HEAD = the first 16 bytes of the LEN >= 1 bytes at KEY as two little-endian numbers,
 * zero-padded, read with loads that stay inside the key (short_le): a memcpy of a variable
 * length into HEAD followed by its word reads stalled on store forwarding, a third of the
 * lookup's time. */
static inline void key_head(const uint8_t *key, size_t len, uint64_t head[2])
{
    if (len >= 16) {
        head[0] = fmt_get_u64le(key);
        head[1] = fmt_get_u64le(key + 8);
    } else if (len > 8) {
        head[0] = fmt_get_u64le(key);
        head[1] = fmt_get_u64le(key + len - 8) >> (8 * (16 - len));
    } else {
        head[0] = short_le(key, len);
        head[1] = 0;
    }
}

/* Index of the entry for KEY, inserting it if new; -1 when out of memory. */
static long term_find_h(struct inverter *inv, const uint8_t *key, size_t len, uint32_t h,
                        int insert)
{
    size_t mask = inv->table_cap - 1, s = h & mask;
    struct term_entry *e;
    uint64_t v, head[2];

    key_head(key, len, head);
    while ((v = inv->table[s]) != 0) {
        if ((uint32_t)(v >> 32) == h) {
            e = &inv->terms[(uint32_t)v - 1];
            if (e->key_len == len && e->head[0] == head[0] && e->head[1] == head[1] &&
                (len <= sizeof(head) || !memcmp(inv->keys.p + e->key_off + sizeof(head),
                                                key + sizeof(head), len - sizeof(head))))
                return (long)(uint32_t)v - 1;
        }
        s = (s + 1) & mask;
    }
    if (!insert)
        return -1;
    if (inv->nterms == inv->terms_cap) {
        size_t cap = inv->terms_cap ? inv->terms_cap * 2 : 1024;
        struct term_entry *t = realloc(inv->terms, cap * sizeof(*t));
        if (!t)
            return -1;
        inv->bytes += (cap - inv->terms_cap) * sizeof(*t);
        inv->terms = t;
        inv->terms_cap = cap;
    }
    if (inv->keys.len + len > UINT32_MAX || fmt_buf_append(&inv->keys, key, len) != FMT_OK)
        return -1;
    e = &inv->terms[inv->nterms];
    memset(e, 0, sizeof(*e));
    e->head[0] = head[0];
    e->head[1] = head[1];
    e->key_off = (uint32_t)(inv->keys.len - len);
    e->key_len = (uint32_t)len;
    e->last_doc = NO_DOC;
    e->cur_doc = NO_DOC;
    inv->table[s] = (uint64_t)h << 32 | (uint32_t)++inv->nterms;
    if (inv->nterms * 2 > inv->table_cap && table_grow(inv) != FMT_OK)
        return -1;
    return (long)inv->nterms - 1;
}

/* Second stage of a batched lookup, once the table slot of hash H has been prefetched:
 * prefetch the term entry it most likely points at (its key head and its buffers). */
static inline void prefetch_entry(const struct inverter *inv, uint32_t h)
{
    uint64_t v = inv->table[h & (inv->table_cap - 1)];

    if (v && (uint32_t)(v >> 32) == h) {
        const struct term_entry *e = &inv->terms[(uint32_t)v - 1];
        __builtin_prefetch(e);
        __builtin_prefetch(&e->pos);
    }
}

static long term_find(struct inverter *inv, const uint8_t *key, size_t len, int insert)
{
    return term_find_h(inv, key, len, hash_bytes(key, len), insert);
}

/* Append to a term's buffer, keeping the heap estimate current. */
static inline int tracked_varint(struct inverter *inv, struct fmt_buf *buf, uint32_t v)
{
    uint8_t *q;

    if (buf->cap - buf->len < 5 && term_buf_reserve(inv, buf, 5) != FMT_OK) /* a u32 varint */
        return FMT_ENOMEM;
    q = buf->p + buf->len;
    if (v < 0x80) {
        *q = (uint8_t)v;
        buf->len++;
    } else {
        buf->len += fmt_varint_encode(q, v);
    }
    return FMT_OK;
}

/* Start term I (entry E) in the current doc unless it is in it already: list it in
 * touched for finish_doc and zero its counts. */
static inline int term_touch(struct inverter *inv, long i, struct term_entry *e)
{
    if (e->cur_doc == inv->cur_doc)
        return FMT_OK;
    if (inv->ntouched == inv->touched_cap) {
        size_t cap = inv->touched_cap ? inv->touched_cap * 2 : 256;
        uint32_t *t = realloc(inv->touched, cap * sizeof(*t));
        if (!t)
            return FMT_ENOMEM;
        inv->bytes += (cap - inv->touched_cap) * sizeof(*t);
        inv->touched = t;
        inv->touched_cap = cap;
    }
    inv->touched[inv->ntouched++] = (uint32_t)i;
    e->cur_doc = inv->cur_doc;
    e->cur_tf[0] = e->cur_tf[1] = 0;
    e->cur_field = -1;
    return FMT_OK;
}

/* Record one occurrence of term I (namespace NS) in the current doc, in FIELD at POS. */
static int add_term_occurrence(struct inverter *inv, long i, uint8_t ns, unsigned field,
                               uint32_t pos)
{
    struct term_entry *e = &inv->terms[i];

    if (term_touch(inv, i, e) != FMT_OK)
        return FMT_ENOMEM;
    e->cur_tf[field]++;
    if (!fmt_ns_has_positions(ns))
        return FMT_OK;
    if (e->cur_field != (int)field) {
        e->cur_field = (int)field;
        e->last_pos = 0;
    }
    if (tracked_varint(inv, &e->pos, pos - e->last_pos) != FMT_OK)
        return FMT_ENOMEM;
    e->last_pos = pos;
    return FMT_OK;
}

/* Record one occurrence of KEY in the current doc, in FIELD at POS (positions only for
 * namespaces that keep them). */
static int add_occurrence(struct inverter *inv, const uint8_t *key, size_t len, unsigned field,
                          uint32_t pos)
{
    long i = term_find(inv, key, len, 1);

    return i < 0 ? FMT_ENOMEM : add_term_occurrence(inv, i, key[0], field, pos);
}

/* ---- folded word -> term ------------------------------------------------------------
 * The text inverter analyzes with fmt_analyze_deferred and keeps, for each folded word of
 * the segment (key: namespace byte + word), the index of the term its stem is: a repeated
 * word costs one lookup here where the stem cache and the term table cost two (two
 * hashes, two probes, a key copy). A new word is stemmed through the analyzer's cache and
 * found in, or added to, the term table once. A word without a letter is its own term, so
 * its key hash is the term's. */

static void word_tab_release(struct inverter *inv)
{
    inv->bytes -= inv->word_cap * sizeof(*inv->word_tab) + inv->word_keys.cap;
    free(inv->word_tab);
    fmt_buf_release(&inv->word_keys);
    inv->word_tab = NULL;
    inv->word_cap = inv->nwords = 0;
}

static int word_tab_grow(struct inverter *inv)
{
    size_t cap = inv->word_cap ? inv->word_cap * 2 : 1 << 14;
    struct word_slot *t = calloc(cap, sizeof(*t));

    if (!t)
        return FMT_ENOMEM;
    for (size_t i = 0; i < inv->word_cap; i++) {
        const struct word_slot *w = &inv->word_tab[i];
        size_t s = w->hash & (cap - 1);
        if (!w->term)
            continue;
        while (t[s].term)
            s = (s + 1) & (cap - 1);
        t[s] = *w;
    }
    inv->bytes += (cap - inv->word_cap) * sizeof(*t);
    free(inv->word_tab);
    inv->word_tab = t;
    inv->word_cap = cap;
    return FMT_OK;
}

/* The term of the word KEY (LEN bytes, hash H; STEM: to be stemmed) as an index, adding
 * the word and if need be the term; -1 for a word whose stem is too long to index, -2 when
 * out of memory. KEY stays readable 8 bytes past its end (batch_keys). */
static long word_term(struct inverter *inv, const uint8_t *key, size_t len, uint32_t h,
                      int stem)
{
    size_t mask = inv->word_cap - 1, s = h & mask;
    uint64_t head = short_le(key, len < 8 ? len : 8);
    struct word_slot *w;
    long t;

    for (; (w = &inv->word_tab[s])->term; s = (s + 1) & mask)
        if (w->hash == h && w->key_len == len && w->head == head &&
            (len <= 8 || !memcmp(inv->word_keys.p + w->key_off + 8, key + 8, len - 8)))
            return w->term == NO_TERM ? -1 : (long)w->term - 1;
    if (!stem) {
        if ((t = term_find_h(inv, key, len, h, 1)) < 0)
            return -2; /* out of memory: not a dropped word */
    } else {
        uint8_t skey[FMT_MAX_TERM + 1];
        const char *st;
        size_t sl;
        if (fmt_analyzer_stem(inv->an, (const char *)key + 1, len - 1, &st, &sl) != FMT_OK)
            return -2;
        if (sl > FMT_MAX_TERM) {
            t = -1; /* as on_counted_token drops it */
        } else {
            skey[0] = key[0];
            memcpy(skey + 1, st, sl);
            t = term_find(inv, skey, sl + 1, 1);
            if (t < 0)
                return -2;
        }
    }
    if (inv->word_keys.len + len > UINT32_MAX)
        return -2;
    if (len > 8) {
        size_t cap = inv->word_keys.cap;
        if (fmt_buf_append(&inv->word_keys, key, len) != FMT_OK)
            return -2;
        inv->bytes += inv->word_keys.cap - cap;
    }
    w->head = head;
    w->hash = h;
    w->term = t < 0 ? NO_TERM : (uint32_t)t + 1;
    w->key_off = len > 8 ? (uint32_t)(inv->word_keys.len - len) : 0;
    w->key_len = (uint32_t)len;
    if (++inv->nwords * 4 > inv->word_cap * 3 && word_tab_grow(inv) != FMT_OK)
        return -2;
    return t;
}

/* Words are queued BATCH at a time: each one's word slot is prefetched when it is queued;
 * when the batch is full the term entries the slots point at are prefetched, then all are
 * looked up, so the cache misses of a batch overlap (the tables and the entries are
 * megabytes: a lookup is two misses). Order is kept: the batch is flushed before anything
 * else reads the term table (end of each field). */
static int batch_flush(struct inverter *inv)
{
    int rc = FMT_OK;

    for (unsigned i = 0; i < inv->nbatch; i++) {
        const struct word_slot *w = &inv->word_tab[inv->batch[i].hash & (inv->word_cap - 1)];
        if (w->hash == inv->batch[i].hash && w->term && w->term != NO_TERM)
            __builtin_prefetch(&inv->terms[w->term - 1]);
    }
    for (unsigned i = 0; i < inv->nbatch && rc == FMT_OK; i++) {
        const struct pending *q = &inv->batch[i];
        const uint8_t *key = inv->batch_keys + q->koff;
        long t = word_term(inv, key, q->len, q->hash, q->stem);
        if (t == -2)
            rc = FMT_ENOMEM;
        else if (t >= 0)
            rc = add_term_occurrence(inv, t, key[0], q->field, q->pos);
    }
    inv->nbatch = 0;
    inv->batch_used = 0;
    return rc;
}

static int batch_add(struct inverter *inv, uint8_t ns, unsigned field, const char *term,
                     size_t len, uint32_t pos, int stem)
{
    struct pending *q;
    uint8_t *key;
    int rc;

    if ((inv->nbatch == BATCH || inv->batch_used + len + 1 > BATCH_KEYS) &&
        (rc = batch_flush(inv)) != FMT_OK)
        return rc;
    q = &inv->batch[inv->nbatch++];
    key = inv->batch_keys + inv->batch_used;
    key[0] = ns;
    memcpy(key + 1, term, len);
    q->koff = (uint32_t)inv->batch_used;
    q->len = (uint32_t)len + 1;
    q->hash = key_hash(ns, (const uint8_t *)term, len);
    q->field = field;
    q->pos = pos;
    q->stem = stem;
    inv->batch_used += len + 1;
    __builtin_prefetch(&inv->word_tab[q->hash & (inv->word_cap - 1)]);
    return FMT_OK;
}

/* Count tokens while indexing them; the count is the field length. */
struct count_ctx {
    struct inverter *inv;
    uint32_t n;
};

static int on_counted_token(void *ctx, const struct fmt_token *tok)
{
    struct count_ctx *c = ctx;
    struct inverter *inv = c->inv;

    c->n++;
    if (tok->len > FMT_MAX_TERM && !tok->stem)
        return FMT_OK; /* longer "words" are noise (base64, URLs glued together); a word
                        * to be stemmed is judged by its stem (word_term) */
    return batch_add(inv, inv->cur_ns, inv->cur_field, tok->term, tok->len, tok->pos,
                     tok->stem);
}

/* Join the folded, unstemmed words of a source name with single spaces. */
struct join_ctx {
    struct fmt_buf *out;
};

static int on_source_word(void *ctx, const struct fmt_token *tok)
{
    struct join_ctx *j = ctx;

    if (j->out->len > 1 && fmt_buf_putc(j->out, ' ') != FMT_OK)
        return FMT_ENOMEM;
    return fmt_buf_append(j->out, tok->term, tok->len);
}

static int source_id_of(struct fmt_seg_builder *b, const char *name, uint32_t *id)
{
    size_t len = strlen(name);

    for (size_t i = 0; i < b->nsources; i++) {
        if (!strcmp(b->sources[i], name)) {
            *id = (uint32_t)i;
            return FMT_OK;
        }
    }
    if (b->nsources == b->sources_cap) {
        size_t cap = b->sources_cap ? b->sources_cap * 2 : 16;
        char **s = realloc(b->sources, cap * sizeof(*s));
        if (!s)
            return FMT_ENOMEM;
        b->sources = s;
        b->sources_cap = cap;
    }
    b->sources[b->nsources] = strdup(name);
    if (!b->sources[b->nsources])
        return FMT_ENOMEM;
    if (fmt_buf_put_varint(&b->source_names, len) != FMT_OK ||
        fmt_buf_append(&b->source_names, name, len) != FMT_OK)
        return FMT_ENOMEM;
    *id = (uint32_t)b->nsources++;
    return FMT_OK;
}

static int pipe_compress(struct fmt_seg_builder *b);

static int doc_block_close(struct fmt_seg_builder *b)
{
    uint64_t off = b->doc_z.len;

    if (b->doc_raw.len == 0)
        return FMT_OK;
    if (b->pipe)
        return pipe_compress(b);
    if (segenc_deflate(&b->zip, &b->doc_z, b->doc_raw.p, b->doc_raw.len) != FMT_OK)
        return FMT_ENOMEM;
    b->doc_z_crc = fmt_crc32(b->doc_z_crc, b->doc_z.p + off, b->doc_z.len - off);
    if (segenc_docidx_add(&b->doc_idx, b->doc_raw_first, (uint32_t)b->doc_raw.len, off) != FMT_OK)
        return FMT_ENOMEM;
    b->doc_raw.len = 0;
    b->ndocblocks++;
    return FMT_OK;
}

static int store_doc(struct fmt_seg_builder *b, const struct fmt_article *a)
{
    const char *f[] = {a->id, a->title, a->source, a->url, a->body};

    if (b->doc_raw.len == 0)
        b->doc_raw_first = b->ndocs;
    for (size_t i = 0; i < 5; i++) {
        size_t len = strlen(f[i]);
        if (fmt_buf_put_varint(&b->doc_raw, len) != FMT_OK ||
            fmt_buf_append(&b->doc_raw, f[i], len) != FMT_OK)
            return FMT_ENOMEM;
    }
    if (b->doc_raw.len >= FMT_SEG_DOC_BLOCK)
        return doc_block_close(b);
    return FMT_OK;
}

/* Turn the current doc's accumulated tfs into postings. */
static int finish_doc(struct inverter *inv)
{
    for (size_t k = 0; k < inv->ntouched; k++) {
        struct term_entry *e = &inv->terms[inv->touched[k]];
        uint32_t gap = e->last_doc == NO_DOC ? inv->cur_doc : inv->cur_doc - e->last_doc - 1;
        uint8_t ns = inv->keys.p[e->key_off];
        if (tracked_varint(inv, &e->post, gap) != FMT_OK ||
            tracked_varint(inv, &e->post, e->cur_tf[0]) != FMT_OK)
            return FMT_ENOMEM;
        if (fmt_ns_fields(ns) == 2 && tracked_varint(inv, &e->post, e->cur_tf[1]) != FMT_OK)
            return FMT_ENOMEM;
        e->df++;
        e->df_title += e->cur_tf[0] > 0;
        e->last_doc = inv->cur_doc;
        e->cur_doc = NO_DOC;
    }
    inv->ntouched = 0;
    return FMT_OK;
}

static int analyze_field(struct inverter *inv, uint8_t ns, unsigned field, const char *text,
                         uint32_t *len)
{
    struct count_ctx c = {inv, 0};
    int rc;

    if (!inv->word_cap && word_tab_grow(inv) != FMT_OK)
        return FMT_ENOMEM;
    inv->cur_ns = ns;
    inv->cur_field = field;
    rc = fmt_analyze_deferred(inv->an, text, strlen(text), on_counted_token, &c);
    if (rc == FMT_OK)
        rc = batch_flush(inv);
    if (len)
        *len = c.n;
    return rc;
}

/* Index the analyzed fields of doc DOC into INV (the text inverter); LEN = the title's and
 * the body's tokens. */
static int analyze_doc(struct inverter *inv, uint32_t doc, const char *title, const char *body,
                       const char *url, uint32_t len[2])
{
    int rc;

    inv->cur_doc = doc;
    rc = analyze_field(inv, FMT_NS_TEXT, FMT_FIELD_TITLE, title, &len[0]);
    if (rc == FMT_OK)
        rc = analyze_field(inv, FMT_NS_TEXT, FMT_FIELD_BODY, body, &len[1]);
    if (rc == FMT_OK)
        rc = analyze_field(inv, FMT_NS_URL, 0, url, NULL);
    return rc == FMT_OK ? finish_doc(inv) : rc;
}

static int add_keyword(struct inverter *inv, uint8_t ns, const void *term, size_t len)
{
    uint8_t key[FMT_MAX_ID + 1];

    if (len > FMT_MAX_ID)
        return FMT_OK; /* ids are checked by the caller; a longer source name is not indexed */
    key[0] = ns;
    memcpy(key + 1, term, len);
    return add_occurrence(inv, key, len + 1, 0, 0);
}

/* Index the keys of doc b->ndocs that the builder makes itself (id, content HASH unless 0,
 * source name) into the kw inverter and finish the doc there. */
static int add_keywords(struct fmt_seg_builder *b, const struct fmt_article *a, uint64_t hash)
{
    struct inverter *kw = &b->kw;
    struct fmt_buf name;
    struct join_ctx jc = {&name};
    int rc;

    kw->cur_doc = b->ndocs;
    rc = a->id[0] ? add_keyword(kw, FMT_NS_ID, a->id, strlen(a->id)) : FMT_OK;
    if (rc == FMT_OK && hash) {
        uint8_t h[8];
        fmt_put_u64le(h, hash);
        rc = add_keyword(kw, FMT_NS_HASH, h, sizeof(h));
    }
    fmt_buf_init(&name);
    if (rc == FMT_OK && a->source[0]) {
        rc = fmt_analyze_unstemmed(b->an, a->source, strlen(a->source), on_source_word, &jc);
        if (rc == FMT_OK && name.len)
            rc = add_keyword(kw, FMT_NS_SOURCE, name.p, name.len);
    }
    fmt_buf_release(&name);
    return rc == FMT_OK ? finish_doc(kw) : rc;
}

static int add_piped(struct fmt_seg_builder *b, const struct fmt_article *a, uint64_t hash,
                     uint32_t *doc, struct fmt_err *err);

int fmt_seg_builder_add(struct fmt_seg_builder *b, const struct fmt_article *a, uint64_t hash,
                        uint32_t *doc, struct fmt_err *err)
{
    uint32_t len[2] = {0, 0}, src;
    int rc;

    if (b->ndocs == UINT32_MAX - 1)
        return fmt_errorf(err, FMT_EINVAL, "segment full");
    if (strlen(a->id) > FMT_MAX_ID)
        return fmt_errorf(err, FMT_EINVAL, "id longer than %d bytes", FMT_MAX_ID);
    if (b->pipe)
        return add_piped(b, a, hash, doc, err);
    rc = analyze_doc(&b->text, b->ndocs, a->title, a->body, a->url, len);
    if (rc == FMT_OK)
        rc = add_keywords(b, a, hash);
    if (rc == FMT_OK)
        rc = source_id_of(b, a->source, &src);
    if (rc == FMT_OK)
        rc = store_doc(b, a);
    if (rc == FMT_OK &&
        (fmt_buf_put_u32le(&b->title_len, len[0]) != FMT_OK ||
         fmt_buf_put_u32le(&b->body_len, len[1]) != FMT_OK ||
         fmt_buf_put_u64le(&b->timestamp, (uint64_t)a->timestamp) != FMT_OK ||
         fmt_buf_put_u32le(&b->source_id, src) != FMT_OK))
        rc = FMT_ENOMEM;
    if (rc != FMT_OK)
        return fmt_errorf(err, FMT_ENOMEM, "%s: out of memory while indexing", a->id);
    b->len_sum[0] += len[0];
    b->len_sum[1] += len[1];
    *doc = b->ndocs++;
    return FMT_OK;
}

uint32_t fmt_seg_builder_find(const struct fmt_seg_builder *b, uint8_t ns, const void *term,
                              size_t len)
{
    uint8_t key[FMT_MAX_ID + 2];
    long i;

    if (len > FMT_MAX_ID)
        return FMT_DOC_END;
    key[0] = ns;
    memcpy(key + 1, term, len);
    i = term_find((struct inverter *)&b->kw, key, len + 1, 0);
    return i < 0 ? FMT_DOC_END : b->kw.terms[i].last_doc;
}

int fmt_seg_builder_add_keys(struct fmt_seg_builder *b, uint32_t doc, uint8_t ns,
                             const uint8_t *keys, size_t key_len, const uint32_t *tfs,
                             size_t nkeys, struct fmt_err *err)
{
    struct inverter *kw = &b->kw;
    uint8_t key[BATCH][FMT_MAX_TERM + 1];
    uint32_t hash[BATCH];

    if (b->ndocs == 0 || doc != b->ndocs - 1 || key_len == 0 || key_len > FMT_MAX_TERM ||
        fmt_ns_fields(ns) != 1 || fmt_ns_has_positions(ns) || ns == FMT_NS_ID ||
        ns == FMT_NS_HASH)
        return fmt_errorf(err, FMT_EINVAL, "segment builder: bad keys for doc %u", doc);
    for (size_t k = 0; k < nkeys; k++) {
        long i;
        struct term_entry *e;
        if (k % BATCH == 0) {
            /* hash the next BATCH keys and prefetch their table slots first (as batch_add) */
            for (size_t m = 0; m < BATCH && k + m < nkeys; m++) {
                key[m][0] = ns;
                memcpy(key[m] + 1, keys + (k + m) * key_len, key_len);
                hash[m] = hash_bytes(key[m], key_len + 1);
                __builtin_prefetch(&kw->table[hash[m] & (kw->table_cap - 1)]);
            }
            for (size_t m = 0; m < BATCH && k + m < nkeys; m++)
                prefetch_entry(kw, hash[m]);
        }
        i = term_find_h(kw, key[k % BATCH], key_len + 1, hash[k % BATCH], 1);
        if (i < 0)
            return fmt_errorf(err, FMT_ENOMEM, "segment builder: out of memory");
        e = &kw->terms[i];
        if (e->last_doc == doc)
            continue; /* the same key twice for one doc: the first posting stays */
        /* the doc is finished: append its posting directly, as finish_doc would */
        if (tracked_varint(kw, &e->post, e->last_doc == NO_DOC ? doc : doc - e->last_doc - 1) !=
                FMT_OK ||
            tracked_varint(kw, &e->post, tfs && tfs[k] ? tfs[k] : 1) != FMT_OK)
            return fmt_errorf(err, FMT_ENOMEM, "segment builder: out of memory");
        e->df++;
        e->df_title++;
        e->last_doc = doc;
    }
    return FMT_OK;
}

static int pipe_drain(struct fmt_seg_builder *b);

/* ---- writing the file ------------------------------------------------------------- */

/* The segment's terms are the kw inverter's, then the text inverter's: term I of
 * seg_nterms(b), its entry and its key. */
static inline size_t seg_nterms(const struct fmt_seg_builder *b)
{
    return b->kw.nterms + b->text.nterms;
}

static inline struct term_entry *term_at(const struct fmt_seg_builder *b, size_t i)
{
    return i < b->kw.nterms ? &b->kw.terms[i] : &b->text.terms[i - b->kw.nterms];
}

static inline const uint8_t *term_key(const struct fmt_seg_builder *b, size_t i)
{
    const struct inverter *inv = i < b->kw.nterms ? &b->kw : &b->text;

    return inv->keys.p + term_at(b, i)->key_off;
}

/* A term as the radix sort sees it: the first 8 bytes of its key as one number. */
struct sort_rec {
    uint64_t prefix;  /* key bytes 0..7 big-endian, zero-padded: orders like the bytes */
    uint32_t term;
    uint32_t len;
};

/* A term as qsort sees it (qsort has no context argument: the key pointer is here). */
struct key_rec {
    const uint8_t *key;
    uint32_t len;
    uint32_t term;
};

static int cmp_key_rec(const void *x, const void *y)
{
    const struct key_rec *a = x, *b = y;
    int c = memcmp(a->key, b->key, a->len < b->len ? a->len : b->len);

    return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* Put the N records at R, which share their prefix, in byte order of their whole keys;
 * SCRATCH has room for N key_recs. */
static void sort_run(const struct fmt_seg_builder *b, struct sort_rec *r, size_t n,
                     struct key_rec *scratch)
{
    for (size_t i = 0; i < n; i++) {
        scratch[i].key = term_key(b, r[i].term);
        scratch[i].len = r[i].len;
        scratch[i].term = r[i].term;
    }
    qsort(scratch, n, sizeof(*scratch), cmp_key_rec);
    for (size_t i = 0; i < n; i++) {
        r[i].term = scratch[i].term;
        r[i].len = scratch[i].len;
    }
}

/* The builder's term indexes in byte order of their keys, the dictionary's order: *OUT
 * (nterms of them; free() it). A least-significant-byte-first radix sort of the keys' first
 * 8 bytes, then a qsort of each run of keys that those do not tell apart (ids share theirs:
 * "Ireuters"). For the 148,587 terms of Reuters + BBC it takes 5 ms where a qsort of them
 * all took 27, in the same two arrays of 16 bytes a term as glibc's qsort (a merge sort). */
static int sort_terms(const struct fmt_seg_builder *b, uint32_t **out)
{
    size_t n = seg_nterms(b), count[8][256];
    struct sort_rec *r = malloc((n ? n : 1) * sizeof(*r)), *t = malloc((n ? n : 1) * sizeof(*t));
    uint32_t *order;

    _Static_assert(sizeof(struct key_rec) <= sizeof(struct sort_rec), "sort scratch");
    *out = NULL;
    if (!r || !t) {
        free(r);
        free(t);
        return FMT_ENOMEM;
    }
    memset(count, 0, sizeof(count));
    for (size_t i = 0; i < n; i++) {
        const uint8_t *h = (const uint8_t *)term_at(b, i)->head; /* the key's first 16 bytes */
        uint64_t p = 0;
        for (unsigned k = 0; k < 8; k++)
            p = p << 8 | h[k];
        r[i].prefix = p;
        r[i].term = (uint32_t)i;
        r[i].len = term_at(b, i)->key_len;
        for (unsigned d = 0; d < 8; d++)
            count[d][(p >> (8 * d)) & 255]++;
    }
    for (unsigned d = 0; d < 8 && n; d++) {
        unsigned shift = 8 * d;
        size_t sum = 0;
        struct sort_rec *s;
        if (count[d][(r[0].prefix >> shift) & 255] == n)
            continue; /* every key has the same byte here */
        for (unsigned v = 0; v < 256; v++) {
            size_t c = count[d][v];
            count[d][v] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            t[count[d][(r[i].prefix >> shift) & 255]++] = r[i];
        s = r;
        r = t;
        t = s;
    }
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && r[j].prefix == r[i].prefix; j++)
            ;
        if (j - i > 1)
            sort_run(b, r + i, j - i, (struct key_rec *)(void *)t);
    }
    free(t);
    /* the indexes, in place: order[i] lies at or before r[i], which is read first */
    order = (uint32_t *)(void *)r;
    for (size_t i = 0; i < n; i++) {
        uint32_t term = r[i].term;
        order[i] = term;
    }
    *out = order;
    return FMT_OK;
}

/* Writer state for one pass over the sorted terms. */
struct seg_out {
    struct fmt_file f;
    uint64_t sec_off[SEC_COUNT], sec_len[SEC_COUNT];
    struct segenc_dict dict;
    struct fmt_buf skip, blocks;
    uint64_t post_off, pos_off;    /* running offsets of the next term */
    struct segenc_block blk;       /* the block being encoded */
    uint64_t term_pos_len;         /* bytes of the current term's encoded positions */
    uint32_t *posv;                /* one block's position deltas, posv_cap allocated */
    size_t posv_cap;
};

/* Decode the next COUNT position varints at *PP (< END) into o->posv and choose their
 * encoding: *k = the head byte (segenc_rice_pick), *len = the block's encoded bytes. */
static int block_positions(struct seg_out *o, const uint8_t **pp, const uint8_t *end,
                           uint64_t count, unsigned *k, uint64_t *len)
{
    if (count > o->posv_cap) {
        size_t cap = count < 1024 ? 1024 : (size_t)count * 2;
        uint32_t *v = realloc(o->posv, cap * sizeof(*v));
        if (!v)
            return FMT_ENOMEM;
        o->posv = v;
        o->posv_cap = cap;
    }
    for (uint64_t i = 0; i < count; i++) {
        uint64_t v = 0;
        size_t n = fmt_varint_decode(*pp, end, &v);
        *pp += n ? n : 1; /* the builder wrote them: never truncated */
        o->posv[i] = (uint32_t)v;
    }
    *k = segenc_rice_pick(o->posv, (size_t)count, len);
    return FMT_OK;
}

/* Re-encode the varint postings of E as skip table + blocks, appended to the file. The
 * positions pass has encoded E's positions already (when its namespace keeps them) and
 * left their bytes in e->pos_bytes and, for a list of more than one block, each block's
 * bytes at *LENS, one u32 a block (advanced past them): the skip entries and the
 * dictionary need them. */
static int write_postings(const struct fmt_seg_builder *b, struct seg_out *o,
                          const struct term_entry *e, uint8_t ns, const uint32_t **lens)
{
    const uint8_t *p = e->post.p, *end = p + e->post.len;
    unsigned nf = fmt_ns_fields(ns);
    uint32_t doc = UINT32_MAX, n = 0, block_prev = UINT32_MAX;
    uint64_t pos_len = 0;
    uint8_t head[FMT_VARINT_MAX];
    struct segenc_block *blk = &o->blk;
    int rc = FMT_OK;

    o->skip.len = 0;
    o->blocks.len = 0;
    o->term_pos_len = 0;
    for (uint32_t k = 0; k < e->df && rc == FMT_OK; k++) {
        uint64_t gap, tf[2] = {0, 0};
        p += fmt_varint_decode(p, end, &gap);
        for (unsigned f = 0; f < nf; f++)
            p += fmt_varint_decode(p, end, &tf[f]);
        doc = doc + 1 + (uint32_t)gap;
        blk->docs[n] = doc;
        blk->tf[0][n] = (uint32_t)tf[0];
        blk->tf[1][n] = (uint32_t)tf[1];
        if (ns == FMT_NS_TEXT) {
            blk->len[0][n] = fmt_get_u32le(b->title_len.p + 4 * (size_t)doc);
            blk->len[1][n] = fmt_get_u32le(b->body_len.p + 4 * (size_t)doc);
        }
        if (++n == FMT_BLOCK || k + 1 == e->df) {
            pos_len = 0;
            if (fmt_ns_has_positions(ns))
                pos_len = e->df > FMT_BLOCK ? *(*lens)++ : e->pos_bytes;
            o->term_pos_len += pos_len;
            blk->n = n;
            rc = segenc_block(&o->blocks, &o->skip, ns, blk, block_prev, pos_len);
            block_prev = blk->docs[n - 1];
            n = 0;
        }
    }
    if (rc != FMT_OK)
        return rc;
    {
        /* one block: no skip_len, no skip entry (the reader computes the bound from it) */
        size_t hl = e->df > FMT_BLOCK ? fmt_varint_encode(head, o->skip.len) : 0;
        if (hl == 0)
            o->skip.len = 0;
        fmt_file_append(&o->f, head, hl);
        fmt_file_append(&o->f, o->skip.p, o->skip.len);
        fmt_file_append(&o->f, o->blocks.p, o->blocks.len);
        o->post_off += hl + o->skip.len + o->blocks.len;
    }
    return FMT_OK;
}

static void begin_section(struct seg_out *o, enum seg_section s)
{
    o->sec_off[s] = o->f.off;
}

static void end_section(struct seg_out *o, enum seg_section s)
{
    o->sec_len[s] = o->f.off - o->sec_off[s];
}

static void append_section(struct seg_out *o, enum seg_section s, const struct fmt_buf *data)
{
    begin_section(o, s);
    fmt_file_append(&o->f, data->p, data->len);
    end_section(o, s);
}

/* Append E's positions, per block of FMT_BLOCK docs u8 k and the Rice codes, to OUT;
 * *TOTAL = the bytes appended. A list of more than one block also leaves each block's
 * bytes at LENS, one u32 a block. */
static int write_positions(struct seg_out *o, const struct term_entry *e, uint8_t ns,
                           struct fmt_buf *out, uint32_t *lens, uint64_t *total)
{
    const uint8_t *p = e->post.p, *end = p + e->post.len;
    const uint8_t *pp = e->pos.p, *pend = pp ? pp + e->pos.len : pp; /* NULL: no positions */
    unsigned nf = fmt_ns_fields(ns);
    uint64_t npos = 0, sum = 0;
    uint32_t n = 0;

    for (uint32_t d = 0; d < e->df; d++) {
        uint64_t v;
        p += fmt_varint_decode(p, end, &v); /* gap */
        for (unsigned f = 0; f < nf; f++) {
            p += fmt_varint_decode(p, end, &v);
            npos += v;
        }
        if (++n == FMT_BLOCK || d + 1 == e->df) {
            unsigned k;
            uint64_t len;
            if (block_positions(o, &pp, pend, npos, &k, &len) != FMT_OK ||
                segenc_rice_block(out, o->posv, (size_t)npos, k, len) != FMT_OK)
                return FMT_ENOMEM;
            if (e->df > FMT_BLOCK)
                *lens++ = (uint32_t)len;
            sum += len;
            n = 0;
            npos = 0;
        }
    }
    *total = sum;
    return FMT_OK;
}

/* The positions pass over the sorted terms, into a buffer (POS: the whole positions
 * section, about 5% of the builder's memory, 3.6 MB for all of Reuters + BBC). For every
 * term it leaves the term's positions bytes in its pos_bytes and, for a list of more than
 * one block, each block's bytes in LENS (one u32 a block of those lists, in term order: 4
 * bytes a 128 postings), which the postings (skip entries) and the dictionary need. With
 * one thread the calling thread runs it a term at a time just before the term's postings,
 * so that each term's buffers are read once, while they are in the cache (a second pass
 * over all terms after the postings section cost 5% of a one-thread ingest). With two
 * threads (and POS_PASS_MIN_TERMS terms or more) it runs on a thread of its own while the
 * calling thread writes the postings section and the dictionary: it publishes in DONE how
 * many terms it has finished, and the calling thread sleeps when it catches up (until the
 * pass is POS_PASS_AHEAD terms ahead, so that it does not wake for each term). Both passes
 * read the term buffers only. */
struct pos_pass {
    struct fmt_seg_builder *b;
    const uint32_t *order; /* the terms in dictionary order */
    struct seg_out o;    /* scratch only (posv); its file is unused */
    struct fmt_buf pos;
    uint32_t pos_crc;    /* CRC32 of pos, computed by the pass when it is done */
    uint32_t *lens;
    uint32_t *lens_end;  /* where the pass writes the next block lengths */
    atomic_size_t done;  /* order[0, done) encoded: their pos_bytes and lens are written */
    atomic_size_t want;  /* 0, or the done count the calling thread sleeps for */
    atomic_int rc;       /* the first error; done jumps to nterms after it */
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

#define POS_PASS_AHEAD 1024

/* Encode the positions of term I of the pass (when its namespace keeps positions). */
static int pos_pass_step(struct pos_pass *pp, size_t i)
{
    struct term_entry *e = term_at(pp->b, pp->order[i]);
    uint8_t ns = term_key(pp->b, pp->order[i])[0];
    int rc;

    if (!fmt_ns_has_positions(ns))
        return FMT_OK;
    rc = write_positions(&pp->o, e, ns, &pp->pos, pp->lens_end, &e->pos_bytes);
    if (rc == FMT_OK && e->df > FMT_BLOCK)
        pp->lens_end += (e->df + FMT_BLOCK - 1) / FMT_BLOCK;
    return rc;
}

static void *pos_pass_main(void *arg)
{
    struct pos_pass *pp = arg;
    size_t n = seg_nterms(pp->b), w;

    for (size_t i = 0; i < n; i++) {
        int rc = pos_pass_step(pp, i);
        if (rc != FMT_OK) {
            atomic_store(&pp->rc, rc);
            i = n - 1; /* publish every term: the writer stops at rc */
        }
        atomic_store(&pp->done, i + 1);
        w = atomic_load(&pp->want);
        if (w && i + 1 >= w) {
            pthread_mutex_lock(&pp->mu);
            pthread_cond_signal(&pp->cv);
            pthread_mutex_unlock(&pp->mu);
        }
    }
    pp->pos_crc = fmt_crc32(0, pp->pos.p, pp->pos.len); /* read after the join */
    return NULL;
}

/* Wait until the positions pass has finished term I of N. */
static void pos_pass_wait(struct pos_pass *pp, size_t i, size_t n)
{
    size_t w = i + POS_PASS_AHEAD < n ? i + POS_PASS_AHEAD : n;

    if (atomic_load_explicit(&pp->done, memory_order_acquire) > i)
        return;
    pthread_mutex_lock(&pp->mu);
    atomic_store(&pp->want, w);
    while (atomic_load(&pp->done) < w)
        pthread_cond_wait(&pp->cv, &pp->mu);
    atomic_store(&pp->want, 0);
    pthread_mutex_unlock(&pp->mu);
}

static void seg_out_release(struct seg_out *o);

static void pos_pass_free(struct pos_pass *pp)
{
    if (!pp)
        return;
    fmt_buf_release(&pp->pos);
    seg_out_release(&pp->o);
    free(pp->lens);
    free(pp);
}

/* A positions pass over the terms in ORDER, with NLENS block lengths; NULL when out of
 * memory. */
static struct pos_pass *pos_pass_new(struct fmt_seg_builder *b, const uint32_t *order,
                                     size_t nlens)
{
    struct pos_pass *pp = calloc(1, sizeof(*pp));

    if (!pp)
        return NULL;
    pp->b = b;
    pp->order = order;
    segenc_dict_init(&pp->o.dict);
    fmt_buf_init(&pp->pos);
    atomic_init(&pp->done, 0);
    atomic_init(&pp->want, 0);
    atomic_init(&pp->rc, FMT_OK);
    if (!(pp->lens = malloc((nlens ? nlens : 1) * sizeof(*pp->lens)))) {
        free(pp);
        return NULL;
    }
    pp->lens_end = pp->lens;
    return pp;
}

static int write_terms(struct fmt_seg_builder *b, struct seg_out *o)
{
    uint32_t *order;
    struct pos_pass *pp;
    const uint32_t *lens;
    pthread_t thread;
    size_t n = seg_nterms(b), nlens = 0;
    int rc = FMT_OK, threaded = 0;

    if (sort_terms(b, &order) != FMT_OK)
        return FMT_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const struct term_entry *e = term_at(b, i);
        if (e->df > FMT_BLOCK && fmt_ns_has_positions(term_key(b, i)[0]))
            nlens += (e->df + FMT_BLOCK - 1) / FMT_BLOCK;
    }
    if (!(pp = pos_pass_new(b, order, nlens))) {
        free(order);
        return FMT_ENOMEM;
    }
    if (b->pipe && n >= POS_PASS_MIN_TERMS) {
        if (pthread_mutex_init(&pp->mu, NULL) == 0) {
            if (pthread_cond_init(&pp->cv, NULL) == 0) {
                threaded = pthread_create(&thread, NULL, pos_pass_main, pp) == 0;
                if (!threaded)
                    pthread_cond_destroy(&pp->cv);
            }
            if (!threaded)
                pthread_mutex_destroy(&pp->mu);
        }
    }
    lens = pp->lens;
    begin_section(o, SEC_POSTINGS);
    for (size_t i = 0; i < n && rc == FMT_OK; i++) {
        const struct term_entry *e = term_at(b, order[i]);
        const uint8_t *key = term_key(b, order[i]);
        uint64_t start = o->post_off;
        /* the terms are in key order, scattered in memory: fetch ahead, the entry of the
         * term WRITE_AHEAD on, then what the entry of the term half as far points at */
        if (i + WRITE_AHEAD < n)
            __builtin_prefetch(term_at(b, order[i + WRITE_AHEAD]));
        if (i + WRITE_AHEAD / 2 < n) {
            const struct term_entry *f = term_at(b, order[i + WRITE_AHEAD / 2]);
            __builtin_prefetch(f->post.p);
            __builtin_prefetch(f->pos.p);
            __builtin_prefetch(term_key(b, order[i + WRITE_AHEAD / 2]));
        }
        if (threaded && fmt_ns_has_positions(key[0])) {
            pos_pass_wait(pp, i, n);
            if ((rc = atomic_load(&pp->rc)) != FMT_OK)
                break;
        } else if (!threaded && (rc = pos_pass_step(pp, i)) != FMT_OK) {
            break;
        }
        rc = write_postings(b, o, e, key[0], &lens);
        if (rc == FMT_OK)
            rc = segenc_dict_add(&o->dict, key, e->key_len, e->df, e->df_title, start,
                                 o->post_off - start, o->pos_off, o->term_pos_len);
        o->pos_off += o->term_pos_len;
    }
    end_section(o, SEC_POSTINGS);
    begin_section(o, SEC_POSITIONS);
    if (threaded) {
        pthread_join(thread, NULL);
        pthread_cond_destroy(&pp->cv);
        pthread_mutex_destroy(&pp->mu);
        if (rc == FMT_OK)
            rc = atomic_load(&pp->rc);
        if (rc == FMT_OK)
            fmt_file_append_crc(&o->f, pp->pos.p, pp->pos.len, pp->pos_crc);
    } else if (rc == FMT_OK) {
        fmt_file_append(&o->f, pp->pos.p, pp->pos.len);
    }
    end_section(o, SEC_POSITIONS);
    pos_pass_free(pp);
    free(order);
    return rc;
}

static void seg_out_release(struct seg_out *o)
{
    segenc_dict_release(&o->dict);
    fmt_buf_release(&o->skip);
    fmt_buf_release(&o->blocks);
    free(o->posv);
}

int fmt_seg_builder_write(struct fmt_seg_builder *b, const char *path, struct fmt_err *err)
{
    struct seg_out *o = calloc(1, sizeof(*o));
    struct fmt_buf sources;
    struct segenc_counts counts;
    int rc;

    if (!o)
        return fmt_errorf(err, FMT_ENOMEM, "%s: out of memory", path);
    segenc_dict_init(&o->dict);
    fmt_buf_init(&sources);
    rc = doc_block_close(b);
    if (rc == FMT_OK)
        rc = pipe_drain(b);
    word_tab_release(&b->text); /* only adds use it: its memory goes to the sort */
    if (rc == FMT_OK)
        rc = fmt_buf_put_varint(&sources, b->nsources);
    if (rc == FMT_OK)
        rc = fmt_buf_append(&sources, b->source_names.p, b->source_names.len);
    if (rc != FMT_OK) {
        rc = fmt_errorf(err, FMT_ENOMEM, "%s: out of memory", path);
        goto out_free;
    }
    rc = fmt_file_create(&o->f, path, err);
    if (rc != FMT_OK)
        goto out_free;
    segenc_header(&o->f);
    rc = write_terms(b, o);
    if (rc != FMT_OK) {
        fmt_file_abort(&o->f);
        rc = fmt_errorf(err, FMT_ENOMEM, "%s: out of memory", path);
        goto out_free;
    }
    append_section(o, SEC_DICT, &o->dict.dict);
    append_section(o, SEC_DICTIDX, &o->dict.dictidx);
    begin_section(o, SEC_COLUMNS);
    fmt_file_append(&o->f, b->title_len.p, b->title_len.len);
    fmt_file_append(&o->f, b->body_len.p, b->body_len.len);
    fmt_file_append(&o->f, b->timestamp.p, b->timestamp.len);
    fmt_file_append(&o->f, b->source_id.p, b->source_id.len);
    end_section(o, SEC_COLUMNS);
    append_section(o, SEC_SOURCES, &sources);
    begin_section(o, SEC_DOCSTORE);
    fmt_file_append_crc(&o->f, b->doc_z.p, b->doc_z.len, b->doc_z_crc);
    end_section(o, SEC_DOCSTORE);
    append_section(o, SEC_DOCIDX, &b->doc_idx);
    counts.ndocs = b->ndocs;
    counts.nterms = (uint32_t)seg_nterms(b);
    counts.nsources = (uint32_t)b->nsources;
    counts.ndocblocks = b->ndocblocks;
    counts.len_sum[0] = b->len_sum[0];
    counts.len_sum[1] = b->len_sum[1];
    segenc_footer(&o->f, o->sec_off, o->sec_len, &counts);
    rc = fmt_file_commit(&o->f, err);
out_free:
    fmt_buf_release(&sources);
    seg_out_release(o);
    free(o);
    return rc;
}

/* ---- the helper thread -------------------------------------------------------------
 *
 * With fmt_seg_builder_set_threads(b, 2, ...) the builder hands the two costs that need no
 * shared state to one helper thread: indexing title, body and url into the text inverter
 * (with its own analyzer; the calling thread does not touch that inverter until the helper
 * is drained) and zlib-compressing full doc-store blocks. The calling thread keeps
 * everything that the writer may look at between adds (the kw inverter, so that
 * fmt_seg_builder_find stays exact; the columns; the raw doc-store bytes) and fills in
 * each doc's field lengths when it collects the finished job.
 *
 * Compression is the one job either thread can do: when more than PIPE_BEHIND jobs are
 * waiting for the helper, the calling thread compresses the block itself, into the job's
 * slot, before submitting it (the helper passes over it). So the less busy thread takes
 * it, and the collected blocks and their order are the same. Each block's CRC32 is
 * computed where it is compressed, so that the file's CRC takes the doc store as one
 * combined value (fmt_file_append_crc).
 *
 * Jobs go through a ring of PIPE_JOBS slots in submission order; the helper runs them in
 * that order and the builder collects them in that order, so every text term's postings
 * are appended in doc order and doc-store blocks keep their order: the file written is
 * byte-identical to the one-thread builder's. Counters: submitted >= done >= collected;
 * slots in [collected, submitted) belong to the helper until done passes them.
 */

#define PIPE_JOBS 64
#define JOB_DOCS 16              /* docs an ANALYZE job holds at most */
#define JOB_BYTES (64u << 10)    /* text past which it is handed over */
#define PIPE_BEHIND (PIPE_JOBS / 2) /* jobs waiting: past this the caller compresses */

/* JOB_COMPRESSED is a COMPRESS job that the calling thread ran itself before submitting
 * it, because the helper was behind (pipe_compress): the helper skips it. */
enum { JOB_ANALYZE, JOB_COMPRESS, JOB_COMPRESSED };

struct job {
    int kind;
    uint32_t doc;        /* ANALYZE: the first doc; COMPRESS: the block's first doc */
    uint32_t ndocs;      /* ANALYZE: docs doc, doc + 1, ... */
    struct fmt_buf in;   /* ANALYZE: per doc title, body, url, each NUL-terminated;
                          * COMPRESS: raw */
    struct fmt_buf out;  /* COMPRESS: the zlib stream */
    uint32_t len[JOB_DOCS][2]; /* ANALYZE: per doc tokens in title and body */
    uint32_t crc;        /* COMPRESS: CRC32 of out (for the file's CRC, fmt_file_append_crc) */
    int rc;
};

struct pipe {
    struct fmt_worker w;     /* w.done: a job finished */
    struct fmt_analyzer *an; /* the helper's own */
    struct inverter *text;   /* the builder's, the helper's until drained */
    uint64_t submitted, done, collected;
    struct job *open;        /* calling thread: the ANALYZE job being filled, not yet
                              * submitted (it holds slot submitted % PIPE_JOBS) */
    int quit;
    size_t helper_bytes;     /* under mu: out caps of all jobs + the text inverter's bytes,
                              * as of the last finished job (the helper owns those) */
    size_t out_caps;         /* helper only: out caps of all jobs */
    struct job jobs[PIPE_JOBS];
};

static void run_job(struct pipe *p, struct segenc_zip *zip, struct job *j)
{
    const char *title = (const char *)j->in.p, *body, *url;

    if (j->kind == JOB_COMPRESSED)
        return; /* done by the calling thread (pipe_compress) */
    j->out.len = 0;
    if (j->kind == JOB_COMPRESS) {
        j->rc = segenc_deflate(zip, &j->out, j->in.p, j->in.len);
        j->crc = fmt_crc32(0, j->out.p, j->out.len);
        return;
    }
    j->rc = FMT_OK;
    for (uint32_t k = 0; k < j->ndocs && j->rc == FMT_OK; k++) {
        body = title + strlen(title) + 1;
        url = body + strlen(body) + 1;
        j->rc = analyze_doc(p->text, j->doc + k, title, body, url, j->len[k]);
        title = url + strlen(url) + 1;
    }
}

static void *pipe_main(void *arg)
{
    struct pipe *p = arg;
    struct segenc_zip zip;

    segenc_zip_init(&zip);
    pthread_mutex_lock(&p->w.mu);
    for (;;) {
        while (!p->quit && p->done == p->submitted)
            pthread_cond_wait(&p->w.work, &p->w.mu);
        if (p->quit)
            break;
        pthread_mutex_unlock(&p->w.mu);
        {
            struct job *j = &p->jobs[p->done % PIPE_JOBS];
            size_t cap = j->out.cap;
            run_job(p, &zip, j);
            p->out_caps += j->out.cap - cap;
        }
        pthread_mutex_lock(&p->w.mu);
        p->helper_bytes = p->out_caps + inverter_bytes(p->text);
        p->done++;
        pthread_cond_signal(&p->w.done);
    }
    pthread_mutex_unlock(&p->w.mu);
    segenc_zip_release(&zip);
    return NULL;
}

/* Fold a finished job into the builder (calling thread). */
static int collect_job(struct fmt_seg_builder *b, struct job *j)
{
    if (j->rc != FMT_OK)
        return j->rc;
    if (j->kind != JOB_ANALYZE) {
        if (segenc_docidx_add(&b->doc_idx, j->doc, (uint32_t)j->in.len, b->doc_z.len) != FMT_OK ||
            fmt_buf_append(&b->doc_z, j->out.p, j->out.len) != FMT_OK)
            return FMT_ENOMEM;
        b->doc_z_crc = fmt_crc32_combine(b->doc_z_crc, j->crc, j->out.len);
        b->ndocblocks++;
        return FMT_OK;
    }
    for (uint32_t k = 0; k < j->ndocs; k++) {
        fmt_put_u32le(b->title_len.p + 4 * ((size_t)j->doc + k), j->len[k][0]);
        fmt_put_u32le(b->body_len.p + 4 * ((size_t)j->doc + k), j->len[k][1]);
        b->len_sum[0] += j->len[k][0];
        b->len_sum[1] += j->len[k][1];
    }
    return FMT_OK;
}

/* Collect finished jobs, waiting until at least UPTO have been collected. */
static int pipe_collect(struct fmt_seg_builder *b, uint64_t upto)
{
    struct pipe *p = b->pipe;

    for (;;) {
        uint64_t avail;
        pthread_mutex_lock(&p->w.mu);
        while (p->collected < upto && p->done == p->collected)
            pthread_cond_wait(&p->w.done, &p->w.mu);
        avail = p->done;
        pthread_mutex_unlock(&p->w.mu);
        if (p->collected == avail)
            return FMT_OK;
        for (; p->collected < avail; p->collected++) {
            int rc = collect_job(b, &p->jobs[p->collected % PIPE_JOBS]);
            if (rc != FMT_OK) {
                p->collected++;
                return rc;
            }
        }
    }
}

/* A free slot for the next job (collecting the oldest when the ring is full). */
static int pipe_slot(struct fmt_seg_builder *b, struct job **j)
{
    struct pipe *p = b->pipe;
    int rc = FMT_OK;

    if (p->submitted - p->collected == PIPE_JOBS)
        rc = pipe_collect(b, p->collected + 1);
    *j = &p->jobs[p->submitted % PIPE_JOBS];
    return rc;
}

/* Hand the filled ANALYZE job over, if there is one. */
static void pipe_submit_open(struct pipe *p);

static void pipe_submit(struct pipe *p)
{
    pthread_mutex_lock(&p->w.mu);
    p->submitted++;
    pthread_cond_signal(&p->w.work);
    pthread_mutex_unlock(&p->w.mu);
}

static void pipe_submit_open(struct pipe *p)
{
    if (p->open) {
        p->open = NULL;
        pipe_submit(p);
    }
}

static int pipe_compress(struct fmt_seg_builder *b)
{
    struct pipe *p = b->pipe;
    struct job *j;
    struct fmt_buf t;
    uint64_t backlog;
    int rc;

    pipe_submit_open(p); /* its slot comes first */
    rc = pipe_slot(b, &j);

    if (rc != FMT_OK)
        return rc;
    j->kind = JOB_COMPRESS;
    j->doc = b->doc_raw_first;
    t = j->in; /* hand the raw block over without copying; keep the slot's old buffer */
    j->in = b->doc_raw;
    b->doc_raw = t;
    b->doc_raw.len = 0;
    pthread_mutex_lock(&p->w.mu);
    backlog = p->submitted - p->done;
    pthread_mutex_unlock(&p->w.mu);
    if (backlog > PIPE_BEHIND) {
        /* the helper is the slower of the two: compress here, into the slot, which the
         * helper then passes over and the block is collected in its turn as before */
        size_t cap = j->out.cap;
        j->out.len = 0;
        j->rc = segenc_deflate(&b->zip, &j->out, j->in.p, j->in.len);
        j->crc = fmt_crc32(0, j->out.p, j->out.len);
        b->bytes += j->out.cap - cap;
        j->kind = JOB_COMPRESSED;
    }
    pipe_submit(p);
    return FMT_OK;
}

static int pipe_drain(struct fmt_seg_builder *b)
{
    if (!b->pipe)
        return FMT_OK;
    pipe_submit_open(b->pipe);
    return pipe_collect(b, b->pipe->submitted);
}

static int add_piped(struct fmt_seg_builder *b, const struct fmt_article *a, uint64_t hash,
                     uint32_t *doc, struct fmt_err *err)
{
    struct job *j = NULL;
    uint32_t src;
    int rc = add_keywords(b, a, hash);

    if (rc == FMT_OK)
        rc = source_id_of(b, a->source, &src);
    if (rc == FMT_OK)
        rc = store_doc(b, a);
    if (rc == FMT_OK &&
        (fmt_buf_put_u32le(&b->title_len, 0) != FMT_OK || /* filled when collected */
         fmt_buf_put_u32le(&b->body_len, 0) != FMT_OK ||
         fmt_buf_put_u64le(&b->timestamp, (uint64_t)a->timestamp) != FMT_OK ||
         fmt_buf_put_u32le(&b->source_id, src) != FMT_OK))
        rc = FMT_ENOMEM;
    if (rc == FMT_OK && !b->pipe->open) {
        rc = pipe_slot(b, &j);
        if (rc == FMT_OK) {
            j->kind = JOB_ANALYZE;
            j->doc = b->ndocs;
            j->ndocs = 0;
            j->in.len = 0;
            b->pipe->open = j;
        }
    }
    if (rc == FMT_OK) {
        j = b->pipe->open;
        if (fmt_buf_append(&j->in, a->title, strlen(a->title) + 1) != FMT_OK ||
            fmt_buf_append(&j->in, a->body, strlen(a->body) + 1) != FMT_OK ||
            fmt_buf_append(&j->in, a->url, strlen(a->url) + 1) != FMT_OK)
            rc = FMT_ENOMEM;
    }
    if (rc != FMT_OK)
        return fmt_errorf(err, FMT_ENOMEM, "%s: out of memory while indexing", a->id);
    j->ndocs++;
    *doc = b->ndocs++;
    if (j->ndocs < JOB_DOCS && j->in.len < JOB_BYTES)
        return FMT_OK;
    /* a full job: hand it over and fold in whatever the helper has finished, without
     * waiting */
    pipe_submit_open(b->pipe);
    if (pipe_collect(b, 0) != FMT_OK)
        return fmt_errorf(err, FMT_ENOMEM, "%s: out of memory while indexing", a->id);
    return FMT_OK;
}

static size_t pipe_bytes(const struct fmt_seg_builder *b)
{
    size_t n = 0;

    if (!b->pipe)
        return 0;
    for (size_t i = 0; i < PIPE_JOBS; i++)
        n += b->pipe->jobs[i].in.cap; /* the calling thread's: the helper only reads in */
    pthread_mutex_lock(&b->pipe->w.mu);
    n += b->pipe->helper_bytes;
    pthread_mutex_unlock(&b->pipe->w.mu);
    return n + sizeof(*b->pipe);
}

static void pipe_stop(struct fmt_seg_builder *b)
{
    struct pipe *p = b->pipe;

    if (!p)
        return;
    fmt_worker_stop(&p->w, &p->quit);
    for (size_t i = 0; i < PIPE_JOBS; i++) {
        fmt_buf_release(&p->jobs[i].in);
        fmt_buf_release(&p->jobs[i].out);
    }
    fmt_analyzer_free(p->an);
    free(p);
    b->pipe = NULL;
    b->text.an = b->an;
}

int fmt_seg_builder_set_threads(struct fmt_seg_builder *b, unsigned nthreads,
                                const struct fmt_analyzer_cfg *cfg, struct fmt_err *err)
{
    struct pipe *p;
    int rc;

    if (b->ndocs || b->pipe)
        return fmt_errorf(err, FMT_EINVAL, "segment builder: threads are set before the first add");
    if (nthreads < 2)
        return FMT_OK;
    if (!(p = calloc(1, sizeof(*p))))
        return fmt_errorf(err, FMT_ENOMEM, "segment builder: out of memory");
    if ((rc = fmt_analyzer_new(&p->an, cfg, err)) != FMT_OK) {
        free(p);
        return rc;
    }
    p->text = &b->text;
    b->text.an = p->an;
    if (fmt_worker_start(&p->w, pipe_main, p) == 0) {
        b->pipe = p;
        return FMT_OK;
    }
    b->text.an = b->an;
    fmt_analyzer_free(p->an);
    free(p);
    return fmt_errorf(err, FMT_ENOMEM, "segment builder: cannot start a thread");
}
