/* segment_merge.c - the segment merger: one new segment file from the live docs of several
 * segments, without analyzing any text again (segment_merge.h; the file layout is at the
 * top of segment_write.c).
 *
 * Doc numbering
 * -------------
 * Inputs come in index order. Deleted docs are dropped and the live ones are renumbered
 * densely in order: input i's first live doc follows input i - 1's last. A doc's new id is
 * base(i) + d - (deleted docs of input i before d); the count comes from a rank table
 * (deleted docs before each 64-doc word of the bitmap) plus a popcount of at most 8 bytes.
 *
 * Postings: a k-way merge of the dictionaries
 * -------------------------------------------
 * Every input's dictionary is walked in key order (namespace byte + term) at once, the
 * current keys of all inputs kept in a binary heap ordered by (key, input). For the
 * smallest key, every input holding it contributes its posting list, inputs in order, so
 * the merged list is ascending in the new ids. Lists are read a block at a time
 * (fmt_postings_next_block); deleted docs are skipped; the surviving postings refill
 * 128-doc output blocks. A term whose every posting is deleted gets no entry; df and
 * df_title count what is written. Each full output block is encoded exactly as the
 * builder encodes it (segenc.c): its skip entry carries the block's last doc, its length,
 * its positions length, max tf per field and the shortest title and body length among its
 * postings, read from the inputs' length columns, which the output copies.
 *
 * Positions need no decoding beyond the Rice codes: a doc's position deltas (title then
 * body, each field from 0) do not depend on its neighbours, so the deltas of a live doc
 * are copied from the input block's codes to the output block's, which is Rice-coded
 * again with its own parameter (segenc_rice_pick), as the builder does for the same docs.
 *
 * The output is one sequential file. The positions section follows the postings section,
 * so the positions written while the postings are merged go to a spill buffer; so do the
 * current term's encoded blocks, which follow its skip table, and the dictionary, which
 * follows the positions. A spill buffer stays in memory up to opts.spill_bytes and then
 * continues in a temporary file beside the output (PATH.pos.tmp, PATH.post.tmp,
 * PATH.dict.tmp), written through format/io like the output (so the fault tests cover it)
 * and copied into the output when its section or list is complete. The temporaries are
 * unlinked before fmt_seg_merge returns, on every path; after a crash the writer's
 * leftover cleanup removes them (seg-*.tmp, indexer/writer.c).
 *
 * Columns, sources and doc store
 * ------------------------------
 * The length, timestamp and source columns of live docs are copied column by column from
 * the inputs' mappings. Source ids are renumbered by first use among the live docs in the
 * new order, which is how the builder numbers them, and names equal across inputs share
 * one id. The doc store: an input block whose docs all stay live (the doc-store index
 * tells which docs a block holds) is copied as it is, compressed bytes and all (after the
 * output block being filled, if any, is written), so a compaction without deletions
 * neither inflates nor compresses anything; instead the input's checksum is checked once
 * (fmt_seg_check_crc: CRC32 of the whole file runs about ten times faster than inflating
 * its doc store), so that a damaged input still fails the merge. The other blocks are
 * re-packed: inflated, each live doc's stored bytes appended to the output block, which is
 * compressed and written when it passes FMT_SEG_DOC_BLOCK bytes, as the builder does
 * (with 2+ CPUs a helper thread compresses while the calling thread re-packs and writes:
 * zpipe below, and the checksums are checked on a thread beside the copy: crc_thread).
 * Compact of 1M generated articles from 9 segments: 26-29 s when every block was
 * re-packed, 15.6 s copying blocks but inflating them to check them, 10.3 s with the
 * checksum. So the file equals a builder's for the same articles, hashes and
 * near-dup keys added in the same order byte for byte up to the doc store, whose blocks
 * may be cut differently, and stored doc by stored doc after it
 * (tests/format/test_segment_merge.c checks both).
 *
 * Memory
 * ------
 * Bounded by the spill limit and by block-sized buffers, not by the size of a list or a
 * section, except for what is proportional to the output's blocks: the sparse dictionary
 * index (4 bytes per 32 terms) and the doc-store index (16 bytes per ~8 KiB doc-store
 * block) are built in memory and written at the end; the dictionary itself (about 9 bytes
 * per term, 27.5 MB for 3.1M terms) goes to a third spill buffer (PATH.dict.tmp) in
 * SPILL_DICT pieces as it is encoded. Also held: per input a term iterator, the
 * rank table (4 bytes per 64 docs, only with deletions) and a source map (4 bytes per
 * source); per term its skip table (about 10 bytes per 128 postings); per block the
 * position deltas of one input block and one output block (the tokens of 128 docs);
 * with two threads, the blocks and terms on their way to the encoding thread (at most
 * ENC_JOBS batches of about ENC_BATCH bytes, 2 MiB).
 * The inputs are read through their mappings, whose pages would count in the resident set
 * as they are touched: each input's postings, positions and doc store are read once in
 * file order, so every MiB (or 64 doc-store blocks) the pages behind are handed back
 * (fmt_seg_drop_pages; they stay in the page cache), and so are the dictionary pages
 * behind the term walk (fmt_term_iter) and the columns once copied.
 */
#include "segment_merge.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "io.h"
#include "segenc.h"
#include "segformat.h"
#include "worker.h"

#define RICE_UNPICKED UINT32_MAX /* encode_block's k: pick it there (see encpipe) */
#define MAX_KEY 4096             /* as the reader: longest dictionary key */
#define COPY_CHUNK ((size_t)1 << 20) /* bytes read back from a spill file at a time */
#define COL_CHUNK 65536          /* column bytes gathered before an append */
#define DROP_EVERY ((uint64_t)1 << 20) /* input bytes read between fmt_seg_drop_pages */
#define DROP_DOC_BLOCKS 64       /* input doc-store blocks read between drops */
#define SPILL_DICT 65536         /* dictionary bytes moved to its spill buffer at a time */

/* ---- spill buffers ------------------------------------------------------------------ */

/* Bytes appended in runs (a run: one term's blocks, or the whole positions section),
 * held in memory up to LIMIT and then continued in a temporary file. */
struct spill {
    struct fmt_buf mem;  /* the current run while it is in memory */
    struct fmt_file f;   /* the temporary file, f.fd >= 0 once created */
    int rfd;             /* read descriptor of the same file, -1 before */
    char *path;          /* owned */
    size_t limit;
    int in_file;         /* the current run is in the file, from run_off to f.off */
    uint64_t run_off;
};

static int spill_init(struct spill *s, const char *path, const char *suffix, size_t limit)
{
    size_t len = strlen(path) + strlen(suffix) + 1;

    memset(s, 0, sizeof(*s));
    s->f.fd = -1;
    s->rfd = -1;
    s->limit = limit;
    s->path = malloc(len);
    if (!s->path)
        return FMT_ENOMEM;
    snprintf(s->path, len, "%s%s", path, suffix);
    return FMT_OK;
}

static void spill_release(struct spill *s)
{
    fmt_file_abort(&s->f); /* closes and unlinks the temporary file, if any */
    if (s->rfd >= 0)
        close(s->rfd);
    fmt_buf_release(&s->mem);
    free(s->path);
}

static int spill_failed(struct spill *s, struct fmt_err *err)
{
    if (err)
        *err = s->f.err;
    return s->f.rc;
}

/* Move the current run from memory to the file (creating it the first time). */
static int spill_to_file(struct spill *s, struct fmt_err *err)
{
    if (s->f.fd < 0) {
        int rc = fmt_file_create(&s->f, s->path, err);
        if (rc != FMT_OK)
            return rc;
        s->rfd = open(s->path, O_RDONLY | O_CLOEXEC);
        if (s->rfd < 0)
            return fmt_errorf(err, FMT_EIO, "%s: %s", s->path, strerror(errno));
    }
    s->run_off = s->f.off;
    s->in_file = 1;
    fmt_file_append(&s->f, s->mem.p, s->mem.len);
    s->mem.len = 0;
    return s->f.rc != FMT_OK ? spill_failed(s, err) : FMT_OK;
}

static int spill_append(struct spill *s, const void *p, size_t len, struct fmt_err *err)
{
    if (!s->in_file) {
        int rc;
        if (s->mem.len + len <= s->limit) {
            if (fmt_buf_append(&s->mem, p, len) != FMT_OK)
                return fmt_errorf(err, FMT_ENOMEM, "%s: out of memory", s->path);
            return FMT_OK;
        }
        if ((rc = spill_to_file(s, err)) != FMT_OK)
            return rc;
    }
    fmt_file_append(&s->f, p, len);
    return s->f.rc != FMT_OK ? spill_failed(s, err) : FMT_OK;
}

/* Append the current run to OUT (reading back what the file layer has written, then what
 * it still buffers), through CHUNK. */
static int spill_copy(struct spill *s, struct fmt_file *out, struct fmt_buf *chunk,
                      struct fmt_err *err)
{
    uint64_t on_disk, off;

    if (!s->in_file) {
        fmt_file_append(out, s->mem.p, s->mem.len);
        return FMT_OK;
    }
    on_disk = s->f.off - s->f.buf.len;
    chunk->len = 0;
    if (on_disk > s->run_off && fmt_buf_reserve(chunk, COPY_CHUNK) != FMT_OK)
        return fmt_errorf(err, FMT_ENOMEM, "%s: out of memory", s->path);
    for (off = s->run_off; off < on_disk;) {
        size_t want = on_disk - off < COPY_CHUNK ? (size_t)(on_disk - off) : COPY_CHUNK;
        ssize_t got = pread(s->rfd, chunk->p, want, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return fmt_errorf(err, FMT_EIO, "%s: read failed: %s", s->path,
                              got < 0 ? strerror(errno) : "unexpected end of file");
        fmt_file_append(out, chunk->p, (size_t)got);
        off += (uint64_t)got;
    }
    if (s->f.buf.len) {
        size_t skip = s->run_off > on_disk ? (size_t)(s->run_off - on_disk) : 0;
        fmt_file_append(out, s->f.buf.p + skip, s->f.buf.len - skip);
    }
    return FMT_OK;
}

/* Start a new run (a run that went to the file stays there, unread, until release). */
static void spill_reset(struct spill *s)
{
    s->mem.len = 0;
    s->in_file = 0;
}

/* ---- inputs ------------------------------------------------------------------------- */

struct input {
    const struct fmt_seg *seg;
    const uint8_t *deleted;  /* bitmap, NULL when nothing is deleted */
    uint32_t ndocs;
    uint32_t base;           /* new id of its first live doc */
    uint32_t *rank;          /* deleted docs before doc 64 * w, per w; NULL when deleted is */
    uint32_t *src_map;       /* its source id -> new source id, UINT32_MAX unused */
    struct fmt_term_iter *it;
    const uint8_t *key;      /* current term (borrowed from it), NULL when exhausted */
    size_t key_len;
    struct fmt_term_info ti;
    uint64_t read[2];        /* postings and positions bytes merged so far (the sections
                              * are in dictionary order) */
    uint64_t dropped[2];     /* of which handed back with fmt_seg_drop_pages */
    int crc_checked;         /* its checksum was found right (copy_docs), or is being
                              * checked by the checksum thread (write_docstore) */
};

static int is_deleted(const struct input *in, uint32_t d)
{
    return in->deleted && (in->deleted[d >> 3] >> (d & 7)) & 1;
}

/* New id of live doc D of IN. */
static uint32_t new_id(const struct input *in, uint32_t d)
{
    uint32_t dead;

    if (!in->rank)
        return in->base + d;
    dead = in->rank[d >> 6];
    for (uint32_t b = (d & ~63u) >> 3; b < d >> 3; b++)
        dead += (uint32_t)__builtin_popcount(in->deleted[b]);
    dead += (uint32_t)__builtin_popcount(in->deleted[d >> 3] & ((1u << (d & 7)) - 1));
    return in->base + d - dead;
}

static int make_rank(struct input *in)
{
    size_t nwords = ((size_t)in->ndocs + 63) / 64, nbytes = ((size_t)in->ndocs + 7) / 8;
    uint32_t dead = 0;

    in->rank = malloc((nwords ? nwords : 1) * sizeof(*in->rank));
    if (!in->rank)
        return FMT_ENOMEM;
    for (size_t w = 0; w < nwords; w++) {
        in->rank[w] = dead;
        for (size_t b = w * 8; b < w * 8 + 8 && b < nbytes; b++)
            dead += (uint32_t)__builtin_popcount(in->deleted[b]);
    }
    return FMT_OK;
}

/* ---- the merged source table -------------------------------------------------------- */

struct srcs {
    struct fmt_buf names;  /* per source: varint len, bytes (the sources section after its
                            * count) */
    uint32_t *off, *len;   /* per new source id: its name's bytes in names */
    uint32_t n, cap;
    uint32_t *slots;       /* open addressing: id + 1, 0 empty; nslots a power of two,
                            * load <= 1/2 */
    size_t nslots;
};

static uint32_t hash_name(const char *p, size_t n)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)p[i]) * 16777619u;
    return h;
}

static int srcs_grow(struct srcs *t)
{
    size_t cap = t->nslots ? t->nslots * 2 : 64, mask = cap - 1;
    uint32_t *slots = calloc(cap, sizeof(*slots));
    uint32_t ncap = t->cap ? t->cap * 2 : 32;
    uint32_t *off = realloc(t->off, ncap * sizeof(*off)), *len;

    if (off)
        t->off = off;
    len = off ? realloc(t->len, ncap * sizeof(*len)) : NULL;
    if (len)
        t->len = len;
    if (!slots || !off || !len) {
        free(slots);
        return FMT_ENOMEM;
    }
    t->cap = ncap;
    for (uint32_t id = 0; id < t->n; id++) {
        size_t s = hash_name((const char *)t->names.p + t->off[id], t->len[id]) & mask;
        while (slots[s])
            s = (s + 1) & mask;
        slots[s] = id + 1;
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = cap;
    return FMT_OK;
}

/* New id of source NAME (LEN bytes), added when new. FMT_OK or FMT_ENOMEM. */
static int srcs_id(struct srcs *t, const char *name, size_t len, uint32_t *id)
{
    size_t mask, s;
    uint32_t v;

    if ((t->n + 1) * 2 > t->nslots || t->n == t->cap) {
        if (srcs_grow(t) != FMT_OK)
            return FMT_ENOMEM;
    }
    mask = t->nslots - 1;
    for (s = hash_name(name, len) & mask; (v = t->slots[s]) != 0; s = (s + 1) & mask) {
        if (t->len[v - 1] == len && !memcmp(t->names.p + t->off[v - 1], name, len)) {
            *id = v - 1;
            return FMT_OK;
        }
    }
    if (fmt_buf_put_varint(&t->names, len) != FMT_OK ||
        fmt_buf_append(&t->names, name, len) != FMT_OK)
        return FMT_ENOMEM;
    t->off[t->n] = (uint32_t)(t->names.len - len);
    t->len[t->n] = (uint32_t)len;
    t->slots[s] = t->n + 1;
    *id = t->n++;
    return FMT_OK;
}

static void srcs_release(struct srcs *t)
{
    fmt_buf_release(&t->names);
    free(t->off);
    free(t->len);
    free(t->slots);
}

/* ---- the merger --------------------------------------------------------------------- */

struct zpipe; /* the doc store's compression thread, below */
struct encpipe; /* the encoding thread of the term merge, below */

struct merger {
    struct input *in;
    size_t n;
    size_t *heap;                 /* inputs with a current key, a min-heap on (key, index) */
    size_t nheap;
    size_t *cur;                  /* inputs holding the key being merged, ascending */
    size_t ncur;
    uint8_t key[MAX_KEY];         /* the key being merged */
    size_t key_len;
    struct fmt_file f;            /* the output */
    uint64_t sec_off[SEC_COUNT], sec_len[SEC_COUNT];
    struct segenc_dict dict;      /* its unspilled tail in dict.dict */
    struct spill dictsp;          /* the dict section's spilled head */
    struct spill blocks;          /* the current term's encoded blocks */
    struct spill pos;             /* the positions section */
    struct fmt_buf skip;          /* the current term's skip table */
    struct fmt_buf scratch;       /* one encoded block or positions block */
    struct segenc_zip zip;        /* the calling thread's deflate stream */
    struct fmt_buf chunk;         /* spill read-back and column buffer */
    struct segenc_block blk;      /* the output block being filled */
    uint32_t *posv;               /* its position deltas, nposv used, posv_cap allocated */
    size_t nposv, posv_cap;
    uint32_t *inpos;              /* one input block's position deltas */
    size_t inpos_cap;
    uint32_t prev_doc;            /* last doc of the term's previous output block, or -1 */
    uint32_t df, df_title;        /* of the term so far */
    uint64_t term_pos_len;        /* positions bytes of the term so far */
    uint64_t pos_off;             /* positions bytes of the terms before it */
    uint32_t ndocs;               /* live docs, the output's */
    uint64_t len_sum[2];
    struct srcs src;
    struct fmt_buf docidx;
    uint32_t ndocblocks;
    struct zpipe *zp;             /* the doc store's compression thread, or NULL */
    struct encpipe *ep;           /* the encoding thread of merge_terms, or NULL */
};

static int corrupt_input(const struct input *in, const char *what, struct fmt_err *err)
{
    return fmt_errorf(err, FMT_ECORRUPT, "%s: %s", fmt_seg_path(in->seg), what);
}

static int grow_u32(uint32_t **v, size_t *cap, size_t need)
{
    uint32_t *p;
    size_t c;

    if (need <= *cap)
        return FMT_OK;
    c = need < 1024 ? 1024 : need * 2;
    if (!(p = realloc(*v, c * sizeof(*p))))
        return FMT_ENOMEM;
    *v = p;
    *cap = c;
    return FMT_OK;
}

/* Bases, rank tables, source maps, length sums and the merged source table. */
static int plan(struct merger *m, struct fmt_err *err)
{
    uint64_t next = 0;

    for (size_t i = 0; i < m->n; i++) {
        struct input *in = &m->in[i];
        const struct fmt_seg_stats *st = fmt_seg_stats(in->seg);
        in->ndocs = st->ndocs;
        in->base = (uint32_t)next;
        in->src_map = malloc((st->nsources ? st->nsources : 1) * sizeof(uint32_t));
        if (!in->src_map || (in->deleted && make_rank(in) != FMT_OK))
            return fmt_errorf(err, FMT_ENOMEM, "out of memory");
        memset(in->src_map, 0xff, (st->nsources ? st->nsources : 1) * sizeof(uint32_t));
        for (uint32_t d = 0; d < in->ndocs; d++) {
            uint32_t s;
            if (is_deleted(in, d))
                continue;
            next++;
            m->len_sum[0] += fmt_seg_field_len(in->seg, d, FMT_FIELD_TITLE);
            m->len_sum[1] += fmt_seg_field_len(in->seg, d, FMT_FIELD_BODY);
            if ((s = fmt_seg_source_id(in->seg, d)) >= st->nsources)
                return corrupt_input(in, "bad source id", err);
            if (in->src_map[s] == UINT32_MAX) {
                size_t len;
                const char *name = fmt_seg_source_name(in->seg, s, &len);
                if (srcs_id(&m->src, name, len, &in->src_map[s]) != FMT_OK)
                    return fmt_errorf(err, FMT_ENOMEM, "out of memory");
            }
        }
        if (next > UINT32_MAX - 1)
            return fmt_errorf(err, FMT_EINVAL, "merge of more than %u articles", UINT32_MAX - 1);
    }
    m->ndocs = (uint32_t)next;
    return FMT_OK;
}

/* -- the k-way walk over the dictionaries -- */

static int key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);

    return c ? c : (alen > blen) - (alen < blen);
}

static int heap_less(const struct merger *m, size_t a, size_t b)
{
    const struct input *x = &m->in[a], *y = &m->in[b];
    int c = key_cmp(x->key, x->key_len, y->key, y->key_len);

    return c < 0 || (c == 0 && a < b);
}

static void heap_push(struct merger *m, size_t i)
{
    size_t k = m->nheap++;

    while (k > 0 && heap_less(m, i, m->heap[(k - 1) / 2])) {
        m->heap[k] = m->heap[(k - 1) / 2];
        k = (k - 1) / 2;
    }
    m->heap[k] = i;
}

static size_t heap_pop(struct merger *m)
{
    size_t top = m->heap[0], last = m->heap[--m->nheap], k = 0;

    for (;;) {
        size_t c = 2 * k + 1;
        if (c >= m->nheap)
            break;
        if (c + 1 < m->nheap && heap_less(m, m->heap[c + 1], m->heap[c]))
            c++;
        if (!heap_less(m, m->heap[c], last))
            break;
        m->heap[k] = m->heap[c];
        k = c;
    }
    if (m->nheap)
        m->heap[k] = last;
    return top;
}

/* Move input I to its next term and back into the heap (unless exhausted). */
static int input_next(struct merger *m, size_t i, struct fmt_err *err)
{
    struct input *in = &m->in[i];
    int rc = fmt_term_iter_next(in->it, &in->key, &in->key_len, &in->ti, err);

    if (rc == FMT_ENOTFOUND) {
        in->key = NULL;
        return FMT_OK;
    }
    if (rc != FMT_OK)
        return rc;
    if (in->key_len == 0 || in->key_len > MAX_KEY ||
        (m->key_len && key_cmp(in->key, in->key_len, m->key, m->key_len) <= 0))
        return corrupt_input(in, "dictionary out of order", err);
    heap_push(m, i);
    return FMT_OK;
}

/* -- one term -- */

/* Encode output block BLK of namespace NS, with its position deltas POSV[0..NPOSV), to the
 * current term's blocks and the positions section (encoding side: see encpipe). */
static int encode_block(struct merger *m, uint8_t ns, const struct segenc_block *blk,
                        const uint32_t *posv, size_t nposv, unsigned k, uint64_t pos_len,
                        struct fmt_err *err)
{
    int rc;

    if (fmt_ns_has_positions(ns)) {
        if (k == RICE_UNPICKED)
            k = segenc_rice_pick(posv, nposv, &pos_len);
        m->scratch.len = 0;
        if (segenc_rice_block(&m->scratch, posv, nposv, k, pos_len) != FMT_OK)
            return fmt_errorf(err, FMT_ENOMEM, "out of memory");
        if ((rc = spill_append(&m->pos, m->scratch.p, m->scratch.len, err)) != FMT_OK)
            return rc;
        m->term_pos_len += pos_len;
    }
    m->scratch.len = 0;
    if (segenc_block(&m->scratch, &m->skip, ns, blk, m->prev_doc, pos_len) != FMT_OK)
        return fmt_errorf(err, FMT_ENOMEM, "out of memory");
    if ((rc = spill_append(&m->blocks, m->scratch.p, m->scratch.len, err)) != FMT_OK)
        return rc;
    m->prev_doc = blk->docs[blk->n - 1];
    return FMT_OK;
}

static int emit_block(struct merger *m, uint8_t ns, struct fmt_err *err);

/* Move the live postings of P's loaded block (input IN) into output blocks. */
static int take_block(struct merger *m, const struct input *in, const struct fmt_postings *p,
                      uint8_t ns, struct fmt_err *err)
{
    int has_pos = fmt_ns_has_positions(ns);
    uint64_t count = 0, q = 0;
    const uint8_t *title_len = fmt_seg_len_column(in->seg, FMT_FIELD_TITLE);
    const uint8_t *body_len = fmt_seg_len_column(in->seg, FMT_FIELD_BODY);
    int rc;

    if (has_pos) {
        for (uint32_t j = 0; j < p->n; j++)
            count += (uint64_t)p->tf[0][j] + p->tf[1][j];
        if (count > SIZE_MAX / 8 || grow_u32(&m->inpos, &m->inpos_cap, (size_t)count) != FMT_OK)
            return fmt_errorf(err, FMT_ENOMEM, "out of memory");
        if ((rc = fmt_postings_block_deltas(p, m->inpos, count, err)) != FMT_OK)
            return rc;
    }
    for (uint32_t j = 0; j < p->n; j++) {
        uint32_t d = p->docs[j], i = m->blk.n;
        uint32_t c = has_pos ? p->tf[0][j] + p->tf[1][j] : 0;
        if (is_deleted(in, d)) {
            q += c;
            continue;
        }
        m->blk.docs[i] = new_id(in, d);
        m->blk.tf[0][i] = p->tf[0][j];
        m->blk.tf[1][i] = p->tf[1][j];
        if (ns == FMT_NS_TEXT) { /* the columns directly: no call per posting */
            m->blk.len[0][i] = fmt_get_u32le(title_len + 4 * (size_t)d);
            m->blk.len[1][i] = fmt_get_u32le(body_len + 4 * (size_t)d);
        }
        if (c) {
            if (grow_u32(&m->posv, &m->posv_cap, m->nposv + c) != FMT_OK)
                return fmt_errorf(err, FMT_ENOMEM, "out of memory");
            memcpy(m->posv + m->nposv, m->inpos + q, c * sizeof(*m->posv));
            m->nposv += c;
            q += c;
        }
        m->df++;
        m->df_title += p->tf[0][j] > 0;
        if (++m->blk.n == FMT_BLOCK && (rc = emit_block(m, ns, err)) != FMT_OK)
            return rc;
    }
    return FMT_OK;
}

/* Append the finished term KEY (skip table, blocks) to the postings section and its entry
 * to the dictionary, and start the next term (encoding side). */
static int finish_term(struct merger *m, const uint8_t *key, size_t key_len, uint32_t df,
                       uint32_t df_title, struct fmt_err *err)
{
    uint8_t head[FMT_VARINT_MAX];
    uint64_t start = m->f.off - m->sec_off[SEC_POSTINGS];
    size_t hl;
    int rc;

    hl = 0;
    if (df > FMT_BLOCK)
        hl = fmt_varint_encode(head, m->skip.len);
    else
        m->skip.len = 0; /* one block: no skip_len, no skip entry (segment_write.c) */
    fmt_file_append(&m->f, head, hl);
    fmt_file_append(&m->f, m->skip.p, m->skip.len);
    if ((rc = spill_copy(&m->blocks, &m->f, &m->chunk, err)) != FMT_OK)
        return rc;
    if (segenc_dict_add(&m->dict, key, key_len, df, df_title, start,
                        m->f.off - m->sec_off[SEC_POSTINGS] - start, m->pos_off,
                        m->term_pos_len) != FMT_OK)
        return fmt_errorf(err, FMT_ENOMEM, "out of memory");
    m->pos_off += m->term_pos_len;
    if (m->dict.dict.len >= SPILL_DICT) {
        if ((rc = spill_append(&m->dictsp, m->dict.dict.p, m->dict.dict.len, err)) != FMT_OK)
            return rc;
        m->dict.base += m->dict.dict.len;
        m->dict.dict.len = 0;
    }
    m->skip.len = 0;
    spill_reset(&m->blocks);
    m->prev_doc = UINT32_MAX;
    m->term_pos_len = 0;
    return FMT_OK;
}

static int emit_term(struct merger *m, struct fmt_err *err);

/* Note that IN's current term is merged; hand the pages read back every DROP_EVERY bytes
 * (ALL: everything up to there), so that the resident set does not grow with the inputs:
 * the mappings are read once, in order. */
static void drop_read(struct input *in, int all)
{
    in->read[0] = in->ti.post_off + in->ti.post_len;
    in->read[1] = in->ti.pos_off + in->ti.pos_len;
    for (unsigned s = 0; s < 2; s++) {
        if (all || in->read[s] - in->dropped[s] >= DROP_EVERY) {
            fmt_seg_drop_pages(in->seg, s, in->read[s]); /* sections 0, 1: postings, positions */
            in->dropped[s] = in->read[s];
        }
    }
}

/* Merge the lists of m->key from the inputs m->cur[0..ncur). */
static int merge_term(struct merger *m, struct fmt_err *err)
{
    uint8_t ns = m->key[0];
    int rc = FMT_OK;

    m->blk.n = 0;
    m->nposv = 0;
    m->df = m->df_title = 0;
    for (size_t k = 0; k < m->ncur && rc == FMT_OK; k++) {
        const struct input *in = &m->in[m->cur[k]];
        struct fmt_postings p;
        if (in->ti.ns != ns)
            return corrupt_input(in, "bad dictionary entry", err);
        rc = fmt_postings_open(&p, in->seg, &in->ti, err);
        while (rc == FMT_OK && (rc = fmt_postings_next_block(&p, err)) == FMT_OK &&
               p.doc != FMT_DOC_END)
            rc = take_block(m, in, &p, ns, err);
        fmt_postings_release(&p);
        drop_read(&m->in[m->cur[k]], 0);
    }
    if (rc == FMT_OK && m->blk.n)
        rc = emit_block(m, ns, err);
    if (rc == FMT_OK && m->df)
        rc = emit_term(m, err);
    return rc;
}

/* -- the encoding thread --
 *
 * With 2+ CPUs the term merge runs as two stages: the calling thread walks the
 * dictionaries, decodes the inputs' blocks and fills output blocks (merge_term,
 * take_block); a helper thread encodes each full block (patched arrays, Rice-coded
 * positions, skip entry) and each finished term (skip table, blocks, dictionary entry)
 * into the output (encode_block, finish_term). They meet in a ring of ENC_JOBS jobs taken
 * in order, so the file is the same as with one thread (tests/format/test_segment_merge.c
 * compares them). A job is a batch of events: one job per block and term took the lock
 * and woke a thread millions of times on a 1M compaction and made it slower (10.8 s
 * against 9.6 on one thread); batches of 256 KiB made it 7.7 s. Each block's positions
 * encoding (Rice parameter and size, segenc_rice_pick) is picked by the less busy thread:
 * the calling thread when it had to wait for a free job as it began the batch (the helper
 * is behind), the helper otherwise (the block's event then says RICE_UNPICKED). While the
 * helper runs it owns the output, the
 * spills, the dictionary, scratch and chunk, and the current term's encoding state (skip
 * table, prev_doc, term_pos_len, pos_off); the calling thread owns the inputs and the
 * block being filled. A helper error stops the calling thread at its next job. */

#define ENC_JOBS 8
#define ENC_BATCH (256u << 10) /* event bytes per job: one lock and wake-up per batch */

/* A job is a batch of events, all 32-bit words (so that arrays stay aligned):
 *   block: 0, ns, n, docs[n], tf[0][n], tf[1][n], len[0][n], len[1][n], nposv, k,
 *          pos_len low and high words (segenc_rice_pick of posv), posv[nposv]
 *   term:  1, key_len, df, df_title, key bytes zero-padded to whole words */
struct enc_job {
    struct fmt_buf ev;
};

struct encpipe {
    struct fmt_worker w;          /* w.done: a job done (room for another) */
    struct merger *m;
    uint64_t submitted, done;     /* under mu */
    int quit;                     /* under mu */
    int rc;                       /* under mu: the helper's first error, then it only drains */
    struct fmt_err err;
    struct enc_job *fill;         /* calling thread: the batch being filled, or NULL */
    int caller_picks;             /* calling thread: it picks the positions encodings of
                                   * the batch being filled (it waited for it) */
    struct segenc_block blk;      /* helper: the block being encoded */
    struct enc_job jobs[ENC_JOBS];
};

/* Encode the events of job J (helper). */
static int run_batch(struct encpipe *ep, const struct enc_job *j, struct fmt_err *err)
{
    const uint32_t *w = (const uint32_t *)(const void *)j->ev.p;
    const uint32_t *end = w + j->ev.len / 4;
    int rc = FMT_OK;

    while (w < end && rc == FMT_OK) {
        if (w[0] == 0) {
            uint32_t n = w[2];
            struct segenc_block *b = &ep->blk;
            uint8_t ns = (uint8_t)w[1];
            w += 3;
            b->n = n;
            memcpy(b->docs, w, n * sizeof(*w));
            memcpy(b->tf[0], w + n, n * sizeof(*w));
            memcpy(b->tf[1], w + 2 * n, n * sizeof(*w));
            memcpy(b->len[0], w + 3 * n, n * sizeof(*w));
            memcpy(b->len[1], w + 4 * n, n * sizeof(*w));
            w += 5 * n;
            rc = encode_block(ep->m, ns, b, w + 4, w[0], w[1], w[2] | (uint64_t)w[3] << 32, err);
            w += 4 + w[0];
        } else {
            uint32_t key_len = w[1];
            rc = finish_term(ep->m, (const uint8_t *)(w + 4), key_len, w[2], w[3], err);
            w += 4 + (key_len + 3) / 4;
        }
    }
    return rc;
}

static void *encpipe_main(void *arg)
{
    struct encpipe *ep = arg;
    struct fmt_err err = {0, ""};
    int failed = 0;

    pthread_mutex_lock(&ep->w.mu);
    for (;;) {
        struct enc_job *j;
        int rc = FMT_OK;
        while (!ep->quit && ep->done == ep->submitted)
            pthread_cond_wait(&ep->w.work, &ep->w.mu);
        if (ep->done == ep->submitted)
            break; /* quit, and nothing left */
        j = &ep->jobs[ep->done % ENC_JOBS];
        pthread_mutex_unlock(&ep->w.mu);
        if (!failed)
            rc = run_batch(ep, j, &err);
        pthread_mutex_lock(&ep->w.mu);
        if (rc != FMT_OK) {
            failed = 1;
            ep->rc = rc;
            ep->err = err;
        }
        ep->done++;
        pthread_cond_signal(&ep->w.done);
    }
    pthread_mutex_unlock(&ep->w.mu);
    return NULL;
}

/* Start the helper for M (NULL when it cannot be: the calling thread then encodes). */
static struct encpipe *encpipe_start(struct merger *m)
{
    struct encpipe *ep = calloc(1, sizeof(*ep));

    if (!ep)
        return NULL;
    ep->m = m;
    if (fmt_worker_start(&ep->w, encpipe_main, ep) == 0)
        return ep;
    free(ep);
    return NULL;
}

/* Hand the batch being filled to the helper. */
static void encpipe_submit(struct encpipe *ep)
{
    if (!ep->fill)
        return;
    ep->fill = NULL;
    pthread_mutex_lock(&ep->w.mu);
    ep->submitted++;
    pthread_cond_signal(&ep->w.work);
    pthread_mutex_unlock(&ep->w.mu);
}

/* Room for WORDS more words in the batch being filled (starting one, and waiting for a
 * free job, when there is none); the helper's error instead if it has failed. */
static int encpipe_room(struct encpipe *ep, size_t words, uint32_t **w, struct fmt_err *err)
{
    if (!ep->fill) {
        int rc;
        pthread_mutex_lock(&ep->w.mu);
        ep->caller_picks = ep->submitted - ep->done == ENC_JOBS;
        while (ep->rc == FMT_OK && ep->submitted - ep->done == ENC_JOBS)
            pthread_cond_wait(&ep->w.done, &ep->w.mu);
        rc = ep->rc;
        if (rc != FMT_OK)
            *err = ep->err;
        else
            ep->fill = &ep->jobs[ep->submitted % ENC_JOBS];
        pthread_mutex_unlock(&ep->w.mu);
        if (rc != FMT_OK)
            return rc;
        ep->fill->ev.len = 0;
    }
    if (fmt_buf_reserve(&ep->fill->ev, words * 4) != FMT_OK)
        return fmt_errorf(err, FMT_ENOMEM, "out of memory");
    *w = (uint32_t *)(void *)(ep->fill->ev.p + ep->fill->ev.len);
    ep->fill->ev.len += words * 4;
    return FMT_OK;
}

/* Submit what is filled and wait until every job is done; the helper's error, if any. */
static int encpipe_drain(struct encpipe *ep, struct fmt_err *err)
{
    int rc;

    encpipe_submit(ep);
    pthread_mutex_lock(&ep->w.mu);
    while (ep->done < ep->submitted)
        pthread_cond_wait(&ep->w.done, &ep->w.mu);
    rc = ep->rc;
    if (rc != FMT_OK)
        *err = ep->err;
    pthread_mutex_unlock(&ep->w.mu);
    return rc;
}

/* Stop the helper once it has done what it was given, and free it. Accepts NULL. */
static void encpipe_stop(struct encpipe *ep)
{
    if (!ep)
        return;
    fmt_worker_stop(&ep->w, &ep->quit);
    for (size_t i = 0; i < ENC_JOBS; i++)
        fmt_buf_release(&ep->jobs[i].ev);
    free(ep);
}

/* The filled block m->blk (namespace NS) goes to be encoded: to the helper, or here. */
static int emit_block(struct merger *m, uint8_t ns, struct fmt_err *err)
{
    uint32_t n = m->blk.n, *w;
    uint64_t pos_len = 0;
    unsigned k = RICE_UNPICKED;
    int rc;

    if (!m->ep) {
        rc = encode_block(m, ns, &m->blk, m->posv, m->nposv, k, pos_len, err);
    } else if ((rc = encpipe_room(m->ep, 7 + 5 * (size_t)n + m->nposv, &w, err)) == FMT_OK) {
        if (m->ep->caller_picks && fmt_ns_has_positions(ns))
            k = segenc_rice_pick(m->posv, m->nposv, &pos_len);
        w[0] = 0;
        w[1] = ns;
        w[2] = n;
        w += 3;
        memcpy(w, m->blk.docs, n * sizeof(*w));
        memcpy(w + n, m->blk.tf[0], n * sizeof(*w));
        memcpy(w + 2 * n, m->blk.tf[1], n * sizeof(*w));
        memcpy(w + 3 * n, m->blk.len[0], n * sizeof(*w));
        memcpy(w + 4 * n, m->blk.len[1], n * sizeof(*w));
        w += 5 * n;
        w[0] = (uint32_t)m->nposv;
        w[1] = k;
        w[2] = (uint32_t)pos_len;
        w[3] = (uint32_t)(pos_len >> 32);
        if (m->nposv) /* none in namespaces without positions (posv may be NULL) */
            memcpy(w + 4, m->posv, m->nposv * sizeof(*w));
        if (m->ep->fill->ev.len >= ENC_BATCH)
            encpipe_submit(m->ep);
    }
    m->blk.n = 0;
    m->nposv = 0;
    return rc;
}

/* The term m->key is complete (m->df > 0): to the helper, or written here. */
static int emit_term(struct merger *m, struct fmt_err *err)
{
    size_t kw = (m->key_len + 3) / 4;
    uint32_t *w;
    int rc;

    if (!m->ep)
        return finish_term(m, m->key, m->key_len, m->df, m->df_title, err);
    if ((rc = encpipe_room(m->ep, 4 + kw, &w, err)) != FMT_OK)
        return rc;
    w[0] = 1;
    w[1] = (uint32_t)m->key_len;
    w[2] = m->df;
    w[3] = m->df_title;
    w[3 + kw] = 0; /* the padding */
    memcpy(w + 4, m->key, m->key_len);
    if (m->ep->fill->ev.len >= ENC_BATCH)
        encpipe_submit(m->ep);
    return FMT_OK;
}

static int merge_terms(struct merger *m, unsigned threads, struct fmt_err *err)
{
    int rc = FMT_OK;

    for (size_t i = 0; i < m->n && rc == FMT_OK; i++) {
        if ((rc = fmt_term_iter_open(&m->in[i].it, m->in[i].seg, err)) == FMT_OK)
            rc = input_next(m, i, err);
    }
    m->sec_off[SEC_POSTINGS] = m->f.off;
    m->prev_doc = UINT32_MAX;
    m->ep = threads >= 2 ? encpipe_start(m) : NULL;
    while (rc == FMT_OK && m->nheap) {
        const struct input *top = &m->in[m->heap[0]];
        m->key_len = top->key_len;
        memcpy(m->key, top->key, top->key_len);
        m->ncur = 0;
        while (m->nheap && !key_cmp(m->in[m->heap[0]].key, m->in[m->heap[0]].key_len, m->key,
                                    m->key_len))
            m->cur[m->ncur++] = heap_pop(m);
        rc = merge_term(m, err);
        for (size_t k = 0; k < m->ncur && rc == FMT_OK; k++)
            rc = input_next(m, m->cur[k], err);
    }
    if (m->ep) {
        struct fmt_err ignored; /* the calling thread's error, if any, is the one reported */
        int erc = encpipe_drain(m->ep, rc == FMT_OK ? err : &ignored);
        if (rc == FMT_OK)
            rc = erc;
        encpipe_stop(m->ep);
        m->ep = NULL;
    }
    m->sec_len[SEC_POSTINGS] = m->f.off - m->sec_off[SEC_POSTINGS];
    if (rc != FMT_OK)
        return rc;
    for (size_t i = 0; i < m->n; i++)
        drop_read(&m->in[i], 1);
    m->sec_off[SEC_POSITIONS] = m->f.off;
    rc = spill_copy(&m->pos, &m->f, &m->chunk, err);
    m->sec_len[SEC_POSITIONS] = m->f.off - m->sec_off[SEC_POSITIONS];
    return rc;
}

/* -- columns, sources, doc store -- */

static void put_col(struct merger *m, const void *v, size_t len)
{
    if (m->chunk.len + len > m->chunk.cap) {
        fmt_file_append(&m->f, m->chunk.p, m->chunk.len);
        m->chunk.len = 0;
    }
    memcpy(m->chunk.p + m->chunk.len, v, len);
    m->chunk.len += len;
}

static int write_columns(struct merger *m, struct fmt_err *err)
{
    m->chunk.len = 0;
    if (fmt_buf_reserve(&m->chunk, COL_CHUNK) != FMT_OK)
        return fmt_errorf(err, FMT_ENOMEM, "out of memory");
    m->sec_off[SEC_COLUMNS] = m->f.off;
    for (int col = 0; col < 4; col++) {
        for (size_t i = 0; i < m->n; i++) {
            const struct input *in = &m->in[i];
            for (uint32_t d = 0; d < in->ndocs; d++) {
                uint8_t v[8];
                if (is_deleted(in, d))
                    continue;
                if (col == 3) {
                    fmt_put_u32le(v, in->src_map[fmt_seg_source_id(in->seg, d)]);
                    put_col(m, v, 4);
                } else if (col == 2) {
                    fmt_put_u64le(v, (uint64_t)fmt_seg_timestamp(in->seg, d));
                    put_col(m, v, 8);
                } else {
                    fmt_put_u32le(v, fmt_seg_field_len(in->seg, d, (enum fmt_field)col));
                    put_col(m, v, 4);
                }
            }
        }
    }
    fmt_file_append(&m->f, m->chunk.p, m->chunk.len);
    m->chunk.len = 0;
    m->sec_len[SEC_COLUMNS] = m->f.off - m->sec_off[SEC_COLUMNS];
    for (size_t i = 0; i < m->n; i++)
        fmt_seg_drop_pages(m->in[i].seg, SEC_COLUMNS, UINT64_MAX); /* read for the last time */
    return FMT_OK;
}

/* Bytes of the stored doc at P (< END): 5 x (varint len, bytes); 0 when malformed. */
static size_t doc_span(const uint8_t *p, const uint8_t *end)
{
    const uint8_t *q = p;

    for (int k = 0; k < 5; k++) {
        uint64_t len;
        size_t n = fmt_varint_decode(q, end, &len);
        if (!n || len > (uint64_t)(end - q - n))
            return 0;
        q += n + len;
    }
    return (size_t)(q - p);
}

/* -- the doc store's compression thread --
 *
 * Deflating the re-packed doc store is the largest single cost of a merge (about 40% of
 * a 1M-article compact). With 2+ CPUs the calling thread inflates the input blocks and
 * packs live docs into output blocks while a helper thread compresses them: blocks go
 * through a ring of ZJOBS jobs in order and the calling thread writes each one when it is
 * done, so every write happens on the calling thread in the same order and with the same
 * bytes as without the helper (the fault tests count operations; the file is identical).
 * Counters: submitted >= done >= written; jobs in [written, submitted) are the helper's
 * until done passes them (their raw buffers are read-only to both threads meanwhile). */

#define ZJOBS 16

struct zjob {
    struct fmt_buf raw; /* the block's stored docs */
    struct fmt_buf z;   /* its zlib stream, once done */
    uint32_t first;     /* its first doc */
    int rc;
};

struct zpipe {
    struct fmt_worker w;          /* w.done: a block compressed */
    uint64_t submitted, done, written;
    int quit;
    struct zjob jobs[ZJOBS];
};

static void *zpipe_main(void *arg)
{
    struct zpipe *zp = arg;
    struct segenc_zip zip;

    segenc_zip_init(&zip);
    pthread_mutex_lock(&zp->w.mu);
    for (;;) {
        struct zjob *j;
        while (!zp->quit && zp->done == zp->submitted)
            pthread_cond_wait(&zp->w.work, &zp->w.mu);
        if (zp->quit)
            break;
        j = &zp->jobs[zp->done % ZJOBS];
        pthread_mutex_unlock(&zp->w.mu);
        j->z.len = 0;
        j->rc = segenc_deflate(&zip, &j->z, j->raw.p, j->raw.len);
        pthread_mutex_lock(&zp->w.mu);
        zp->done++;
        pthread_cond_signal(&zp->w.done);
    }
    pthread_mutex_unlock(&zp->w.mu);
    segenc_zip_release(&zip);
    return NULL;
}

/* Start the helper (NULL when it cannot be: the calling thread then compresses). */
static struct zpipe *zpipe_start(void)
{
    struct zpipe *zp = calloc(1, sizeof(*zp));

    if (!zp)
        return NULL;
    if (fmt_worker_start(&zp->w, zpipe_main, zp) == 0)
        return zp;
    free(zp);
    return NULL;
}

/* Stop the helper (jobs not yet written are dropped) and free it. Accepts NULL. */
static void zpipe_stop(struct zpipe *zp)
{
    if (!zp)
        return;
    fmt_worker_stop(&zp->w, &zp->quit);
    for (size_t i = 0; i < ZJOBS; i++) {
        fmt_buf_release(&zp->jobs[i].raw);
        fmt_buf_release(&zp->jobs[i].z);
    }
    free(zp);
}

/* Append one compressed block (RAW_LEN raw bytes from doc FIRST) and its docidx entry. */
static int put_doc_block(struct merger *m, const uint8_t *z, size_t zlen, uint32_t first,
                         size_t raw_len, struct fmt_err *err)
{
    if (segenc_docidx_add(&m->docidx, first, (uint32_t)raw_len,
                          m->f.off - m->sec_off[SEC_DOCSTORE]) != FMT_OK)
        return fmt_errorf(err, FMT_ENOMEM, "out of memory");
    fmt_file_append(&m->f, z, zlen);
    m->ndocblocks++;
    return FMT_OK;
}

/* Wait for the oldest unwritten job and write it. */
static int zpipe_write_one(struct merger *m, struct fmt_err *err)
{
    struct zpipe *zp = m->zp;
    struct zjob *j;

    pthread_mutex_lock(&zp->w.mu);
    while (zp->done == zp->written)
        pthread_cond_wait(&zp->w.done, &zp->w.mu);
    pthread_mutex_unlock(&zp->w.mu);
    j = &zp->jobs[zp->written % ZJOBS];
    if (j->rc != FMT_OK)
        return fmt_errorf(err, FMT_ENOMEM, "out of memory");
    zp->written++;
    return put_doc_block(m, j->z.p, j->z.len, j->first, j->raw.len, err);
}

/* Write every block handed to the helper (in order). */
static int zpipe_drain(struct merger *m, struct fmt_err *err)
{
    int rc = FMT_OK;

    while (rc == FMT_OK && m->zp && m->zp->written < m->zp->submitted)
        rc = zpipe_write_one(m, err);
    return rc;
}

/* Hand the pending block RAW to the helper (RAW gets the job's old buffer, emptied). */
static int zpipe_submit(struct merger *m, struct fmt_buf *raw, uint32_t first,
                        struct fmt_err *err)
{
    struct zpipe *zp = m->zp;
    struct zjob *j;
    struct fmt_buf t;
    int rc;

    if (zp->submitted - zp->written == ZJOBS && (rc = zpipe_write_one(m, err)) != FMT_OK)
        return rc;
    j = &zp->jobs[zp->submitted % ZJOBS];
    t = j->raw;
    j->raw = *raw;
    j->first = first;
    *raw = t;
    raw->len = 0;
    pthread_mutex_lock(&zp->w.mu);
    zp->submitted++;
    pthread_cond_signal(&zp->w.work);
    pthread_mutex_unlock(&zp->w.mu);
    return FMT_OK;
}

/* Compress the pending doc-store block RAW (first doc FIRST) into the file (through the
 * helper when there is one). */
static int doc_block_close(struct merger *m, struct fmt_buf *raw, uint32_t first,
                           struct fmt_err *err)
{
    int rc;

    if (raw->len == 0)
        return FMT_OK;
    if (m->zp)
        return zpipe_submit(m, raw, first, err);
    m->scratch.len = 0;
    if (segenc_deflate(&m->zip, &m->scratch, raw->p, raw->len) != FMT_OK)
        return fmt_errorf(err, FMT_ENOMEM, "out of memory");
    rc = put_doc_block(m, m->scratch.p, m->scratch.len, first, raw->len, err);
    raw->len = 0;
    return rc;
}

/* Copy the live docs of IN into the output doc store, through RAW (the pending block,
 * whose first doc is *FIRST) and INFL (one inflated input block); *OD counts new ids. An
 * input block whose docs all stay live (the doc-store index says which docs it holds) is
 * written as it is, compressed bytes and all, after the pending block; before the first
 * such block the input's checksum is checked (fmt_seg_check_crc, a tenth of the cost of
 * inflating it; with two threads crc_thread checks it instead, beside the copy), so that
 * a damaged input still fails the merge. The other blocks are inflated and their live
 * docs re-packed. */
static int copy_docs(struct merger *m, struct input *in, struct fmt_buf *raw,
                     struct fmt_buf *infl, uint32_t *first, uint32_t *od, struct fmt_err *err)
{
    uint32_t d = 0, nblocks = fmt_seg_doc_blocks(in->seg);
    int rc;

    for (uint32_t blk = 0; blk < nblocks; blk++) {
        const uint8_t *p, *end, *z, *nz;
        uint32_t bfirst, raw_len, next, nraw;
        int all_live = 1;
        size_t zlen = fmt_seg_doc_block_zlib(in->seg, blk, &z, &bfirst, &raw_len);
        if (blk % DROP_DOC_BLOCKS == DROP_DOC_BLOCKS - 1)
            fmt_seg_drop_doc_blocks(in->seg, blk + 1); /* read once, in order */
        next = in->ndocs;
        if (blk + 1 < nblocks && !fmt_seg_doc_block_zlib(in->seg, blk + 1, &nz, &next, &nraw))
            next = 0; /* a bad next entry: fails below */
        if (!zlen || bfirst != d || next <= bfirst || next > in->ndocs)
            return corrupt_input(in, "doc-store index out of order", err);
        for (uint32_t k = bfirst; k < next && all_live; k++)
            all_live = !is_deleted(in, k);
        if (all_live && !in->crc_checked) {
            if ((rc = fmt_seg_check_crc(in->seg, err)) != FMT_OK)
                return rc;
            in->crc_checked = 1;
        }
        if (all_live) {
            if ((rc = doc_block_close(m, raw, *first, err)) != FMT_OK ||
                (rc = zpipe_drain(m, err)) != FMT_OK ||
                (rc = put_doc_block(m, z, zlen, *od, raw_len, err)) != FMT_OK)
                return rc;
            *od += next - bfirst;
            d = next;
            continue;
        }
        if ((rc = fmt_seg_doc_block(in->seg, blk, infl, &bfirst, err)) != FMT_OK)
            return rc;
        for (p = infl->p, end = p + infl->len; p < end; d++) {
            size_t span = doc_span(p, end);
            if (!span || d >= next)
                return corrupt_input(in, "bad stored document", err);
            if (!is_deleted(in, d)) {
                if (raw->len == 0)
                    *first = *od;
                if (fmt_buf_append(raw, p, span) != FMT_OK)
                    return fmt_errorf(err, FMT_ENOMEM, "out of memory");
                ++*od;
                if (raw->len >= FMT_SEG_DOC_BLOCK &&
                    (rc = doc_block_close(m, raw, *first, err)) != FMT_OK)
                    return rc;
            }
            p += span;
        }
        if (d != next)
            return corrupt_input(in, "doc-store block disagrees with its index", err);
    }
    if (d != in->ndocs)
        return corrupt_input(in, "doc store disagrees with the doc count", err);
    fmt_seg_drop_doc_blocks(in->seg, nblocks);
    return FMT_OK;
}

/* With two threads the inputs' checksums are checked on a thread of their own while the
 * calling thread copies the doc store (copy_docs then leaves them alone): the check only
 * has to pass before the merge does, not before a block is copied, as the output is
 * discarded on failure. Serially the check and the copy were the last 1.3 s of a 1M
 * compaction, 0.7 s of it the checksums. */
struct crc_thread {
    pthread_t t;
    const struct merger *m;
    int rc;
    struct fmt_err err;
};

static void *crc_main(void *arg)
{
    struct crc_thread *c = arg;

    c->rc = FMT_OK;
    for (size_t i = 0; i < c->m->n && c->rc == FMT_OK; i++)
        c->rc = fmt_seg_check_crc(c->m->in[i].seg, &c->err);
    return NULL;
}

static int write_docstore(struct merger *m, unsigned threads, struct fmt_err *err)
{
    struct fmt_buf raw, infl;
    struct crc_thread crc;
    uint32_t first = 0, od = 0;
    int rc = FMT_OK, crc_running = 0;

    fmt_buf_init(&raw);
    fmt_buf_init(&infl);
    m->zp = threads >= 2 ? zpipe_start() : NULL;
    if (threads >= 2) {
        crc.m = m;
        crc_running = pthread_create(&crc.t, NULL, crc_main, &crc) == 0;
        for (size_t i = 0; i < m->n && crc_running; i++)
            m->in[i].crc_checked = 1; /* by the thread */
    }
    m->sec_off[SEC_DOCSTORE] = m->f.off;
    for (size_t i = 0; i < m->n && rc == FMT_OK; i++)
        rc = copy_docs(m, &m->in[i], &raw, &infl, &first, &od, err);
    if (rc == FMT_OK)
        rc = doc_block_close(m, &raw, first, err);
    if (rc == FMT_OK)
        rc = zpipe_drain(m, err);
    zpipe_stop(m->zp);
    m->zp = NULL;
    if (crc_running) {
        pthread_join(crc.t, NULL);
        if (rc == FMT_OK && crc.rc != FMT_OK) {
            *err = crc.err;
            rc = crc.rc;
        }
    }
    m->sec_len[SEC_DOCSTORE] = m->f.off - m->sec_off[SEC_DOCSTORE];
    fmt_buf_release(&raw);
    fmt_buf_release(&infl);
    return rc;
}

static void append_section(struct merger *m, enum seg_section s, const void *p, size_t len)
{
    m->sec_off[s] = m->f.off;
    fmt_file_append(&m->f, p, len);
    m->sec_len[s] = len;
}

/* Everything after the header, in file order. */
static int write_body(struct merger *m, unsigned threads, struct fmt_err *err)
{
    struct segenc_counts c;
    uint8_t head[FMT_VARINT_MAX];
    size_t hl;
    int rc = merge_terms(m, threads, err);

    if (rc != FMT_OK)
        return rc;
    m->sec_off[SEC_DICT] = m->f.off;
    if ((rc = spill_copy(&m->dictsp, &m->f, &m->chunk, err)) != FMT_OK)
        return rc;
    fmt_file_append(&m->f, m->dict.dict.p, m->dict.dict.len);
    m->sec_len[SEC_DICT] = m->f.off - m->sec_off[SEC_DICT];
    append_section(m, SEC_DICTIDX, m->dict.dictidx.p, m->dict.dictidx.len);
    if ((rc = write_columns(m, err)) != FMT_OK)
        return rc;
    m->sec_off[SEC_SOURCES] = m->f.off;
    hl = fmt_varint_encode(head, m->src.n);
    fmt_file_append(&m->f, head, hl);
    fmt_file_append(&m->f, m->src.names.p, m->src.names.len);
    m->sec_len[SEC_SOURCES] = m->f.off - m->sec_off[SEC_SOURCES];
    if ((rc = write_docstore(m, threads, err)) != FMT_OK)
        return rc;
    append_section(m, SEC_DOCIDX, m->docidx.p, m->docidx.len);
    c.ndocs = m->ndocs;
    c.nterms = m->dict.nterms;
    c.nsources = m->src.n;
    c.ndocblocks = m->ndocblocks;
    c.len_sum[0] = m->len_sum[0];
    c.len_sum[1] = m->len_sum[1];
    segenc_footer(&m->f, m->sec_off, m->sec_len, &c);
    return FMT_OK;
}

static void merger_release(struct merger *m)
{
    encpipe_stop(m->ep);
    zpipe_stop(m->zp);
    for (size_t i = 0; i < m->n; i++) {
        fmt_term_iter_close(m->in[i].it);
        free(m->in[i].rank);
        free(m->in[i].src_map);
    }
    free(m->in);
    free(m->heap);
    free(m->cur);
    segenc_dict_release(&m->dict);
    spill_release(&m->dictsp);
    spill_release(&m->blocks);
    spill_release(&m->pos);
    fmt_buf_release(&m->skip);
    fmt_buf_release(&m->scratch);
    segenc_zip_release(&m->zip);
    fmt_buf_release(&m->chunk);
    fmt_buf_release(&m->docidx);
    free(m->posv);
    free(m->inpos);
    srcs_release(&m->src);
}

int fmt_seg_merge(const struct fmt_seg_merge_input *in, size_t n, const char *path,
                  const struct fmt_seg_merge_opts *opts, uint32_t *ndocs, struct fmt_err *err)
{
    size_t limit = opts && opts->spill_bytes ? opts->spill_bytes : FMT_SEG_MERGE_SPILL;
    unsigned threads = opts && opts->threads ? opts->threads
                                             : (sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 2 : 1);
    struct merger *m = calloc(1, sizeof(*m));
    int rc;

    *ndocs = 0;
    if (!m)
        return fmt_errorf(err, FMT_ENOMEM, "%s: out of memory", path);
    m->f.fd = -1;
    m->blocks.f.fd = m->pos.f.fd = m->dictsp.f.fd = -1; /* merger_release may run anytime */
    m->blocks.rfd = m->pos.rfd = m->dictsp.rfd = -1;
    segenc_dict_init(&m->dict);
    m->n = n;
    m->in = calloc(n ? n : 1, sizeof(*m->in));
    m->heap = calloc(n ? n : 1, sizeof(*m->heap));
    m->cur = calloc(n ? n : 1, sizeof(*m->cur));
    rc = spill_init(&m->blocks, path, ".post.tmp", limit);
    if (rc == FMT_OK)
        rc = spill_init(&m->pos, path, ".pos.tmp", limit);
    if (rc == FMT_OK)
        rc = spill_init(&m->dictsp, path, ".dict.tmp", limit);
    if (rc != FMT_OK || !m->in || !m->heap || !m->cur) {
        rc = fmt_errorf(err, FMT_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        m->in[i].seg = in[i].seg;
        m->in[i].deleted = in[i].deleted;
    }
    if ((rc = plan(m, err)) != FMT_OK || m->ndocs == 0)
        goto out;
    if ((rc = fmt_file_create(&m->f, path, err)) != FMT_OK)
        goto out;
    segenc_header(&m->f);
    rc = write_body(m, threads, err);
    if (rc != FMT_OK) {
        fmt_file_abort(&m->f);
        goto out;
    }
    rc = fmt_file_commit(&m->f, err); /* reports (and unlinks after) any earlier write error */
    if (rc == FMT_OK)
        *ndocs = m->ndocs;
out:
    merger_release(m);
    free(m);
    return rc;
}
