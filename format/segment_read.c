/* segment_read.c - reads segment files through a read-only mmap: footer checks, dictionary
 * lookup and prefix walks, postings cursors, columns and the doc store. The layout is
 * documented at the top of segment_write.c. Every length read from the file is bounds-checked
 * and bad bytes give FMT_ECORRUPT naming the file and byte offset. */
#include "segment.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "codec.h"
#include "segenc.h"
#include "segformat.h"

#define MAX_KEY 4096 /* longest dictionary key the reader accepts (builder enforces it) */

struct fmt_seg {
    char *path;
    const uint8_t *map;
    size_t size;
    const uint8_t *sec[SEC_COUNT]; /* start of each section in the mapping */
    uint64_t sec_len[SEC_COUNT];
    struct fmt_seg_stats stats;
    uint32_t ndocblocks;
    uint32_t ndictblocks;
    uint32_t *source_off; /* nsources + 1 offsets into the sources section (names) */
    uint32_t *source_len;
};

/* Decoding position in one dictionary block. */
struct dict_cur {
    const uint8_t *p, *end;
    uint8_t key[MAX_KEY];
    size_t key_len;
    uint64_t post_off, pos_off;
    struct fmt_term_info ti;
};

static int corrupt(const struct fmt_seg *seg, const uint8_t *at, const char *what,
                   struct fmt_err *err)
{
    size_t off = at >= seg->map && at <= seg->map + seg->size ? (size_t)(at - seg->map) : 0;

    return fmt_errorf(err, FMT_ECORRUPT, "%s: %s at byte %zu", seg->path, what, off);
}

static int check_footer(struct fmt_seg *seg, struct fmt_err *err)
{
    const uint8_t *foot, *q;
    uint64_t foot_start;

    if (seg->size < FMT_SEG_HEADER + FMT_SEG_FOOTER)
        return fmt_errorf(err, FMT_ECORRUPT, "%s: truncated segment (%zu bytes)", seg->path,
                          seg->size);
    foot_start = seg->size - FMT_SEG_FOOTER;
    foot = seg->map + foot_start;
    q = foot + SEC_COUNT * 16;
    if (fmt_get_u64le(seg->map) != FMT_SEG_MAGIC || fmt_get_u64le(q + 40) != FMT_SEG_MAGIC)
        return fmt_errorf(err, FMT_ECORRUPT, "%s: bad magic", seg->path);
    if (fmt_get_u32le(q + 48) != fmt_crc32(0, foot, (size_t)(q + 48 - foot)))
        return fmt_errorf(err, FMT_ECORRUPT, "%s: footer checksum mismatch at byte %llu",
                          seg->path, (unsigned long long)foot_start);
    if (fmt_get_u32le(q + 36) != FMT_SEG_VERSION || fmt_get_u32le(seg->map + 8) != FMT_SEG_VERSION)
        return fmt_errorf(err, FMT_EVERSION, "%s: segment format version %u, expected %u",
                          seg->path, fmt_get_u32le(q + 36), FMT_SEG_VERSION);
    for (int s = 0; s < SEC_COUNT; s++) {
        uint64_t off = fmt_get_u64le(foot + 16 * s), len = fmt_get_u64le(foot + 16 * s + 8);
        if (off < FMT_SEG_HEADER || off > foot_start || len > foot_start - off)
            return fmt_errorf(err, FMT_ECORRUPT, "%s: section %d out of bounds", seg->path, s);
        seg->sec[s] = seg->map + off;
        seg->sec_len[s] = len;
    }
    seg->stats.ndocs = fmt_get_u32le(q);
    seg->stats.nterms = fmt_get_u32le(q + 4);
    seg->stats.nsources = fmt_get_u32le(q + 8);
    seg->ndocblocks = fmt_get_u32le(q + 12);
    seg->stats.title_len_sum = fmt_get_u64le(q + 16);
    seg->stats.body_len_sum = fmt_get_u64le(q + 24);
    seg->stats.file_bytes = seg->size;
    if (seg->sec_len[SEC_COLUMNS] != (uint64_t)seg->stats.ndocs * 20 ||
        seg->sec_len[SEC_DICTIDX] % 4 ||
        seg->sec_len[SEC_DOCIDX] != (uint64_t)seg->ndocblocks * FMT_SEG_DOCIDX_ENTRY)
        return fmt_errorf(err, FMT_ECORRUPT, "%s: section sizes do not match the counts",
                          seg->path);
    seg->ndictblocks = (uint32_t)(seg->sec_len[SEC_DICTIDX] / 4);
    return FMT_OK;
}

static int load_sources(struct fmt_seg *seg, struct fmt_err *err)
{
    const uint8_t *p = seg->sec[SEC_SOURCES], *end = p + seg->sec_len[SEC_SOURCES];
    uint64_t count, len;
    size_t n = fmt_varint_decode(p, end, &count);

    if (!n || count != seg->stats.nsources)
        return corrupt(seg, p, "bad source table", err);
    p += n;
    seg->source_off = calloc(count + 1, sizeof(uint32_t));
    seg->source_len = calloc(count + 1, sizeof(uint32_t));
    if (!seg->source_off || !seg->source_len)
        return fmt_errorf(err, FMT_ENOMEM, "%s: out of memory", seg->path);
    for (uint64_t i = 0; i < count; i++) {
        n = fmt_varint_decode(p, end, &len);
        if (!n || len > (uint64_t)(end - p - n))
            return corrupt(seg, p, "bad source name", err);
        p += n;
        seg->source_off[i] = (uint32_t)(p - seg->sec[SEC_SOURCES]);
        seg->source_len[i] = (uint32_t)len;
        p += len;
    }
    return FMT_OK;
}

int fmt_seg_open(struct fmt_seg **out, const char *path, struct fmt_err *err)
{
    struct fmt_seg *seg = NULL;
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc;

    *out = NULL;
    if (fd < 0)
        return fmt_errorf(err, FMT_EIO, "%s: %s", path, strerror(errno));
    seg = calloc(1, sizeof(*seg));
    if (!seg || !(seg->path = strdup(path))) {
        rc = fmt_errorf(err, FMT_ENOMEM, "%s: out of memory", path);
        goto out_free;
    }
    if (fstat(fd, &st) < 0) {
        rc = fmt_errorf(err, FMT_EIO, "%s: %s", path, strerror(errno));
        goto out_free;
    }
    seg->size = (size_t)st.st_size;
    if (seg->size < FMT_SEG_HEADER + FMT_SEG_FOOTER) {
        rc = fmt_errorf(err, FMT_ECORRUPT, "%s: truncated segment (%zu bytes)", path, seg->size);
        goto out_free;
    }
    seg->map = mmap(NULL, seg->size, PROT_READ, MAP_SHARED, fd, 0);
    if (seg->map == MAP_FAILED) {
        seg->map = NULL;
        rc = fmt_errorf(err, FMT_EIO, "%s: mmap: %s", path, strerror(errno));
        goto out_free;
    }
    /* queries touch a few blocks here and there: no read-ahead of whole sections */
    (void)madvise((void *)seg->map, seg->size, MADV_RANDOM);
    rc = check_footer(seg, err);
    if (rc == FMT_OK)
        rc = load_sources(seg, err);
    if (rc != FMT_OK)
        goto out_free;
    *out = seg;
    seg = NULL;
out_free:
    fmt_seg_close(seg);
    close(fd); /* the mapping outlives the descriptor */
    return rc;
}

void fmt_seg_close(struct fmt_seg *seg)
{
    if (!seg)
        return;
    if (seg->map)
        munmap((void *)seg->map, seg->size);
    free(seg->source_off);
    free(seg->source_len);
    free(seg->path);
    free(seg);
}

const struct fmt_seg_stats *fmt_seg_stats(const struct fmt_seg *seg)
{
    return &seg->stats;
}

const char *fmt_seg_path(const struct fmt_seg *seg)
{
    return seg->path;
}

/* ---- dictionary ------------------------------------------------------------------- */

static int dict_block_open(const struct fmt_seg *seg, uint32_t blk, struct dict_cur *c,
                           struct fmt_err *err)
{
    const uint8_t *base = seg->sec[SEC_DICT];
    uint64_t start = fmt_get_u32le(seg->sec[SEC_DICTIDX] + 4 * (size_t)blk);
    uint64_t end = blk + 1 < seg->ndictblocks
                       ? fmt_get_u32le(seg->sec[SEC_DICTIDX] + 4 * (size_t)(blk + 1))
                       : seg->sec_len[SEC_DICT];
    size_t n;

    if (start > end || end > seg->sec_len[SEC_DICT])
        return corrupt(seg, seg->sec[SEC_DICTIDX] + 4 * (size_t)blk, "bad dictionary index", err);
    c->p = base + start;
    c->end = base + end;
    c->key_len = 0;
    if (!(n = fmt_varint_decode(c->p, c->end, &c->post_off)))
        return corrupt(seg, c->p, "bad dictionary block", err);
    c->p += n;
    if (!(n = fmt_varint_decode(c->p, c->end, &c->pos_off)))
        return corrupt(seg, c->p, "bad dictionary block", err);
    c->p += n;
    return FMT_OK;
}

/* Decode the next entry; FMT_ENOTFOUND at the end of the block. */
static int dict_next(const struct fmt_seg *seg, struct dict_cur *c, struct fmt_err *err)
{
    uint64_t shared, suffix, v;
    const uint8_t *at = c->p;
    size_t n;

    if (c->p >= c->end)
        return FMT_ENOTFOUND;
#define GET(x)                                                                                     \
    do {                                                                                           \
        if (!(n = fmt_varint_decode(c->p, c->end, &(x))))                                          \
            return corrupt(seg, at, "bad dictionary entry", err);                                  \
        c->p += n;                                                                                 \
    } while (0)
    GET(shared);
    GET(suffix);
    if (shared > c->key_len || suffix > MAX_KEY - shared || suffix > (uint64_t)(c->end - c->p) ||
        shared + suffix == 0)
        return corrupt(seg, at, "bad dictionary entry", err);
    memcpy(c->key + shared, c->p, suffix);
    c->p += suffix;
    c->key_len = shared + suffix;
    c->ti.ns = c->key[0];
    GET(v);
    c->ti.df = (uint32_t)v;
    c->ti.df_title = 0;
    if (c->ti.ns == FMT_NS_TEXT) {
        GET(v);
        c->ti.df_title = (uint32_t)v;
    }
    c->ti.post_off = c->post_off;
    GET(c->ti.post_len);
    c->post_off += c->ti.post_len;
    c->ti.pos_off = c->pos_off;
    c->ti.pos_len = 0;
    if (fmt_ns_has_positions(c->ti.ns))
        GET(c->ti.pos_len);
    c->pos_off += c->ti.pos_len;
#undef GET
    if (c->ti.df == 0 || c->ti.df > seg->stats.ndocs || c->ti.df_title > c->ti.df ||
        c->ti.post_off + c->ti.post_len > seg->sec_len[SEC_POSTINGS] ||
        c->ti.pos_off + c->ti.pos_len > seg->sec_len[SEC_POSITIONS])
        return corrupt(seg, at, "dictionary entry out of bounds", err);
    return FMT_OK;
}

static int key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);

    return c ? c : (alen > blen) - (alen < blen);
}

/* Open the last dictionary block whose first key is <= KEY (block 0 if none). */
static int dict_seek(const struct fmt_seg *seg, const uint8_t *key, size_t len,
                     struct dict_cur *c, uint32_t *blk, struct fmt_err *err)
{
    uint32_t lo = 0, hi = seg->ndictblocks;
    int rc;

    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        rc = dict_block_open(seg, mid, c, err);
        if (rc == FMT_OK)
            rc = dict_next(seg, c, err);
        if (rc != FMT_OK)
            return rc == FMT_ENOTFOUND ? corrupt(seg, c->p, "empty dictionary block", err) : rc;
        if (key_cmp(c->key, c->key_len, key, len) <= 0)
            lo = mid;
        else
            hi = mid;
    }
    *blk = lo;
    return dict_block_open(seg, lo, c, err);
}

int fmt_seg_lookup(const struct fmt_seg *seg, uint8_t ns, const char *term, size_t len,
                   struct fmt_term_info *out, struct fmt_err *err)
{
    struct dict_cur c;
    uint8_t key[MAX_KEY];
    uint32_t blk;
    int rc;

    if (seg->ndictblocks == 0 || len + 1 > MAX_KEY)
        return FMT_ENOTFOUND;
    key[0] = ns;
    memcpy(key + 1, term, len);
    rc = dict_seek(seg, key, len + 1, &c, &blk, err);
    while (rc == FMT_OK && (rc = dict_next(seg, &c, err)) == FMT_OK) {
        int cmp = key_cmp(c.key, c.key_len, key, len + 1);
        if (cmp == 0) {
            *out = c.ti;
            return FMT_OK;
        }
        if (cmp > 0)
            return FMT_ENOTFOUND;
    }
    return rc;
}

int fmt_seg_prefix(const struct fmt_seg *seg, uint8_t ns, const char *prefix, size_t len,
                   fmt_term_fn fn, void *ctx, struct fmt_err *err)
{
    struct dict_cur c;
    uint8_t key[MAX_KEY];
    uint32_t blk;
    int rc;

    if (seg->ndictblocks == 0 || len + 1 > MAX_KEY)
        return FMT_OK;
    key[0] = ns;
    memcpy(key + 1, prefix, len);
    rc = dict_seek(seg, key, len + 1, &c, &blk, err);
    while (rc == FMT_OK) {
        rc = dict_next(seg, &c, err);
        if (rc == FMT_ENOTFOUND) {
            if (++blk >= seg->ndictblocks)
                return FMT_OK;
            rc = dict_block_open(seg, blk, &c, err);
            continue;
        }
        if (rc != FMT_OK)
            return rc;
        if (c.key_len >= len + 1 && !memcmp(c.key, key, len + 1)) {
            rc = fn(ctx, (const char *)c.key + 1, c.key_len - 1, &c.ti);
            if (rc)
                return rc;
        } else if (key_cmp(c.key, c.key_len, key, len + 1) > 0) {
            return FMT_OK;
        }
    }
    return rc;
}

struct fmt_term_iter {
    const struct fmt_seg *seg;
    uint32_t blk;      /* dictionary block of c */
    int open;          /* c is on block blk */
    struct dict_cur c;
};

int fmt_term_iter_open(struct fmt_term_iter **out, const struct fmt_seg *seg,
                       struct fmt_err *err)
{
    struct fmt_term_iter *it = calloc(1, sizeof(*it));

    *out = NULL;
    if (!it)
        return fmt_errorf(err, FMT_ENOMEM, "%s: out of memory", seg->path);
    it->seg = seg;
    *out = it;
    return FMT_OK;
}

int fmt_term_iter_next(struct fmt_term_iter *it, const uint8_t **key, size_t *len,
                       struct fmt_term_info *ti, struct fmt_err *err)
{
    const struct fmt_seg *seg = it->seg;
    int rc;

    for (;;) {
        if (!it->open) {
            if (it->blk >= seg->ndictblocks)
                return FMT_ENOTFOUND;
            if (it->blk % 64 == 0) /* a one-pass walk: hand back the pages behind it */
                fmt_seg_drop_pages(seg, SEC_DICT,
                                   fmt_get_u32le(seg->sec[SEC_DICTIDX] + 4 * (size_t)it->blk));
            if ((rc = dict_block_open(seg, it->blk, &it->c, err)) != FMT_OK)
                return rc;
            it->open = 1;
        }
        rc = dict_next(seg, &it->c, err);
        if (rc == FMT_OK)
            break;
        if (rc != FMT_ENOTFOUND)
            return rc;
        it->open = 0;
        it->blk++;
    }
    *key = it->c.key;
    *len = it->c.key_len;
    *ti = it->c.ti;
    return FMT_OK;
}

void fmt_term_iter_close(struct fmt_term_iter *it)
{
    free(it);
}

/* ---- postings --------------------------------------------------------------------- */

int fmt_postings_open(struct fmt_postings *p, const struct fmt_seg *seg,
                      const struct fmt_term_info *ti, struct fmt_err *err)
{
    const uint8_t *base = seg->sec[SEC_POSTINGS] + ti->post_off;
    const uint8_t *end = base + ti->post_len;
    uint64_t skip_len;
    size_t n;

    memset(p, 0, offsetof(struct fmt_postings, docs));
    p->positions = NULL;
    p->positions_cap = 0;
    p->seg = seg;
    p->ti = *ti;
    p->nfields = fmt_ns_fields(ti->ns);
    p->nblocks = (ti->df + FMT_BLOCK - 1) / FMT_BLOCK;
    p->doc = FMT_DOC_END;
    p->single = p->nblocks == 1;
    n = 0;
    skip_len = 0;
    if (!p->single) { /* a one-block list starts with its block */
        n = fmt_varint_decode(base, end, &skip_len);
        if (!n || skip_len == 0 || skip_len > (uint64_t)(end - base - n))
            return corrupt(seg, base, "bad skip table", err);
    }
    p->skip = base + n;
    p->skip_end = p->skip + skip_len;
    p->blocks = p->skip_end;
    p->blocks_len = (uint64_t)(end - p->blocks);
    p->pos_base = ti->pos_len ? seg->sec[SEC_POSITIONS] + ti->pos_off : NULL;
    return FMT_OK;
}

void fmt_postings_release(struct fmt_postings *p)
{
    free(p->positions);
    p->positions = NULL;
    p->positions_cap = 0;
}

static int load_block(struct fmt_postings *p, struct fmt_err *err);

/* The one block of a single-block list: no skip entry, so decode it for its bound, and
 * leave it unloaded like a skipped-to block (the doc cursor has not moved). */
static int skip_single(struct fmt_postings *p, struct fmt_err *err)
{
    int rc;

    p->prev_last = UINT32_MAX;
    p->block_off = 0;
    p->block_len = p->blocks_len;
    p->pos_block_off = 0;
    p->pos_next_off = p->ti.pos_len;
    p->block = 1;
    rc = load_block(p, err);
    p->loaded = 0;
    return rc;
}

/* Move the skip cursor to the next block's entry (without decoding the block, except for
 * single-block lists). */
static int skip_next(struct fmt_postings *p, struct fmt_err *err)
{
    const uint8_t *at = p->skip;
    uint64_t v[7] = {0};
    unsigned count = 2 + (p->pos_base != NULL) + p->nfields + (p->ti.ns == FMT_NS_TEXT) * 2;
    size_t n;

    if (p->single)
        return skip_single(p, err);
    for (unsigned k = 0; k < count; k++) {
        if (!(n = fmt_varint_decode(p->skip, p->skip_end, &v[k])))
            return corrupt(p->seg, at, "bad skip entry", err);
        p->skip += n;
    }
    p->prev_last = p->block ? p->bound.last_doc : UINT32_MAX;
    p->bound.last_doc = (uint32_t)(p->prev_last + 1 + v[0]);
    p->block_off += p->block ? p->block_len : 0;
    p->block_len = v[1];
    {
        unsigned k = 2;
        uint64_t pos_len = p->pos_base ? v[k++] : 0;
        p->pos_block_off = p->pos_next_off;
        p->pos_next_off += pos_len;
        p->bound.max_tf[0] = (uint32_t)v[k++];
        p->bound.max_tf[1] = p->nfields == 2 ? (uint32_t)v[k++] : 0;
        p->bound.min_len[0] = p->ti.ns == FMT_NS_TEXT ? (uint32_t)v[k++] : 0;
        p->bound.min_len[1] = p->ti.ns == FMT_NS_TEXT ? (uint32_t)v[k++] : 0;
    }
    p->block++;
    p->loaded = 0;
    if (v[0] >= p->seg->stats.ndocs || p->bound.last_doc >= p->seg->stats.ndocs ||
        p->block_off + p->block_len > p->blocks_len || p->pos_next_off > p->ti.pos_len)
        return corrupt(p->seg, at, "skip entry out of bounds", err);
    return FMT_OK;
}

/* Bound of a single-block list from its decoded N docs (what the skip entry would say). */
static void single_bound(struct fmt_postings *p, uint32_t n)
{
    struct fmt_block_bound *bd = &p->bound;

    memset(bd, 0, sizeof(*bd));
    bd->last_doc = p->docs[n - 1];
    for (unsigned f = 0; f < 2; f++) {
        for (uint32_t i = 0; i < n; i++) {
            uint32_t tf = p->tf[f][i];
            if (tf > bd->max_tf[f])
                bd->max_tf[f] = tf;
            if (p->ti.ns == FMT_NS_TEXT && tf) {
                uint32_t len = fmt_seg_field_len(p->seg, p->docs[i], (enum fmt_field)f);
                if (bd->min_len[f] == 0 || len < bd->min_len[f])
                    bd->min_len[f] = len;
            }
        }
    }
}

/* Decode a block of at most FMT_SEG_SMALL_BLOCK docs (varints) into gaps and tfs. */
static int load_small(struct fmt_postings *p, const uint8_t *b, const uint8_t *end, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        uint64_t v, t = 0;
        size_t k = fmt_varint_decode(b, end, &v);
        if (!k)
            return -1;
        b += k;
        if (p->nfields == 2) {
            if (!(k = fmt_varint_decode(b, end, &t)))
                return -1;
            b += k;
            p->docs[i] = (uint32_t)v;
            p->tf[1][i] = (uint32_t)(t >> 1);
            p->tf[0][i] = 0;
            v = t & 1; /* title flag */
        } else {
            p->docs[i] = (uint32_t)(v >> 1);
            p->tf[0][i] = 0;
            v &= 1; /* tf > 1 flag */
        }
        if (v) {
            if (!(k = fmt_varint_decode(b, end, &t)) || t >= UINT32_MAX - 1)
                return -1;
            b += k;
            p->tf[0][i] = (uint32_t)t + 1;
        }
    }
    return b == end ? 0 : -1;
}

/* Decode the block the skip cursor is on. */
static int load_block(struct fmt_postings *p, struct fmt_err *err)
{
    const uint8_t *b = p->blocks + p->block_off, *end = b + p->block_len;
    uint32_t n = p->block == p->nblocks ? p->ti.df - FMT_BLOCK * (p->nblocks - 1) : FMT_BLOCK;
    uint32_t doc;

    if (n <= FMT_SEG_SMALL_BLOCK) {
        if (load_small(p, b, end, n) != 0)
            return corrupt(p->seg, b, "bad small postings block", err);
    } else {
        size_t k = fmt_patch_decode(p->docs, b, (size_t)(end - b), n);
        for (unsigned f = 0; f < p->nfields && k; f++) {
            b += k;
            k = fmt_patch_decode(p->tf[f], b, (size_t)(end - b), n);
        }
        if (!k || k != (size_t)(end - b))
            return corrupt(p->seg, b, "bad postings block", err);
    }
    doc = p->prev_last;
    for (uint32_t i = 0; i < n; i++) {
        doc = doc + 1 + p->docs[i];
        p->docs[i] = doc;
    }
    if (p->single && doc >= p->seg->stats.ndocs)
        return corrupt(p->seg, p->blocks, "doc id out of range", err);
    if (!p->single && doc != p->bound.last_doc)
        return corrupt(p->seg, p->blocks + p->block_off, "postings block disagrees with skip entry",
                       err);
    if (p->nfields == 1) {
        for (uint32_t i = 0; i < n; i++)
            p->tf[0][i] += 1;
        memset(p->tf[1], 0, n * sizeof(uint32_t));
    }
    if (p->single)
        single_bound(p, n);
    p->n = n;
    p->i = 0;
    p->loaded = 1;
    p->pos_scan_i = 0;
    p->pos_scan_off = 0;
    p->pos_scan_code = 0;
    p->pos_codes = 0;
    return FMT_OK;
}

int fmt_postings_next(struct fmt_postings *p, struct fmt_err *err)
{
    int rc;

    if (p->done)
        return FMT_OK;
    if (p->loaded && p->i + 1 < p->n) {
        p->doc = p->docs[++p->i];
        return FMT_OK;
    }
    if (!p->loaded && p->block > 0) {
        /* the skip cursor moved ahead (shallow_advance): start at that block */
    } else {
        if (p->block >= p->nblocks) {
            p->doc = FMT_DOC_END;
            p->done = 1;
            p->loaded = 0;
            return FMT_OK;
        }
        if ((rc = skip_next(p, err)) != FMT_OK)
            return rc;
    }
    if ((rc = load_block(p, err)) != FMT_OK)
        return rc;
    p->doc = p->docs[0];
    return FMT_OK;
}

int fmt_postings_advance(struct fmt_postings *p, uint32_t target, struct fmt_err *err)
{
    int rc;

    if (p->loaded && p->doc >= target && p->doc != FMT_DOC_END)
        return FMT_OK;
    if (p->done)
        return FMT_OK;
    while (p->block == 0 || p->bound.last_doc < target) {
        if (p->block >= p->nblocks) {
            p->doc = FMT_DOC_END;
            p->done = 1;
            p->loaded = 0;
            return FMT_OK;
        }
        if ((rc = skip_next(p, err)) != FMT_OK)
            return rc;
    }
    if (!p->loaded && (rc = load_block(p, err)) != FMT_OK)
        return rc;
    {
        uint32_t i = p->i; /* a local index: no store to *p per doc passed over */
        while (p->docs[i] < target)
            i++;
        p->i = i;
    }
    p->doc = p->docs[p->i];
    return FMT_OK;
}

int fmt_postings_shallow_advance(struct fmt_postings *p, uint32_t target,
                                 struct fmt_block_bound *out, struct fmt_err *err)
{
    int rc;

    while (p->block == 0 || p->bound.last_doc < target) {
        if (p->block >= p->nblocks) {
            out->last_doc = FMT_DOC_END;
            out->max_tf[0] = out->max_tf[1] = 0;
            out->min_len[0] = out->min_len[1] = 0;
            return FMT_OK;
        }
        if ((rc = skip_next(p, err)) != FMT_OK)
            return rc;
    }
    *out = p->bound;
    return FMT_OK;
}

int fmt_postings_next_block(struct fmt_postings *p, struct fmt_err *err)
{
    int rc;

    if (p->done)
        return FMT_OK;
    if (p->loaded || p->block == 0) { /* else the skip cursor is on an unloaded block */
        if (p->block >= p->nblocks) {
            p->doc = FMT_DOC_END;
            p->done = 1;
            p->loaded = 0;
            return FMT_OK;
        }
        if ((rc = skip_next(p, err)) != FMT_OK)
            return rc;
    }
    if (p->single)
        p->loaded = 1; /* skip_single decoded the one block for its bound */
    else if ((rc = load_block(p, err)) != FMT_OK)
        return rc;
    p->doc = p->docs[0];
    return FMT_OK;
}

/* The positions block of P's loaded block: its head byte checked, *len bytes after it. */
static int pos_block(const struct fmt_postings *p, const uint8_t **blk, uint64_t *len,
                     struct fmt_err *err)
{
    *blk = p->pos_base + p->pos_block_off;
    if (p->pos_next_off <= p->pos_block_off ||
        ((*blk)[0] & ~SEGENC_POS_SPLIT) > FMT_RICE_MAX_K)
        return corrupt(p->seg, *blk, "bad positions block", err);
    *len = p->pos_next_off - p->pos_block_off - 1;
    return FMT_OK;
}

/* Codes in P's loaded positions block: the sum of the block's tfs. */
static uint64_t pos_codes(const struct fmt_postings *p)
{
    uint64_t n = 0;

    for (uint32_t i = 0; i < p->n; i++)
        n += (uint64_t)p->tf[0][i] + p->tf[1][i];
    return n;
}

int fmt_postings_block_deltas(const struct fmt_postings *p, uint32_t *out, uint64_t count,
                              struct fmt_err *err)
{
    const uint8_t *blk;
    uint64_t len = 0;
    int rc;

    if (count == 0)
        return FMT_OK;
    if (!p->pos_base || !p->loaded)
        return corrupt(p->seg, p->blocks, "positions missing", err);
    if ((rc = pos_block(p, &blk, &len, err)) != FMT_OK)
        return rc;
    if (blk[0] & SEGENC_POS_SPLIT) {
        struct fmt_rice_split s;
        if (fmt_rice_split_open(&s, blk + 1, len, count, blk[0] & ~SEGENC_POS_SPLIT) != 0)
            return corrupt(p->seg, blk, "truncated positions", err);
        if (fmt_rice_split_read(&s, out, count) != 0)
            return corrupt(p->seg, blk, "truncated positions", err);
    } else {
        struct fmt_rice_reader r = {blk + 1, 0, len * 8, blk[0]};
        for (uint64_t i = 0; i < count; i++)
            if (fmt_rice_next(&r, &out[i]) != 0)
                return corrupt(p->seg, blk, "truncated positions", err);
    }
    return FMT_OK;
}

/* Skip COUNT codes of R; 0 or -1 when the block ends first. While 8 whole bytes are left,
 * codes are stepped over within one 64-bit load (a count of trailing zeros each, no value
 * assembled); an escaped code, a code across the load's end and the last bytes go through
 * fmt_rice_next. */
static int rice_skip(struct fmt_rice_reader *r, uint64_t count)
{
    uint64_t nbytes = r->nbits >> 3;
    unsigned k = r->k;
    uint32_t v;

    while (count) {
        uint64_t byte = r->bit >> 3, w;
        unsigned avail, used = 0;
        if (byte > nbytes || nbytes - byte < 8)
            break;
        w = fmt_get_u64le(r->p + byte) >> (r->bit & 7);
        avail = 64 - (unsigned)(r->bit & 7);
        while (count && used < avail) {
            uint64_t x = w >> used;
            unsigned q;
            if (!x)
                break;
            q = (unsigned)__builtin_ctzll(x);
            if (q >= FMT_RICE_ESC || used + q + 1 + k > avail)
                break;
            used += q + 1 + k;
            count--;
        }
        r->bit += used;
        if (used == 0 && count) {
            if (fmt_rice_next(r, &v) != 0)
                return -1;
            count--;
        }
    }
    for (; count; count--)
        if (fmt_rice_next(r, &v) != 0)
            return -1;
    return 0;
}

/* Make room for N positions in p->positions. */
static int positions_room(struct fmt_postings *p, uint32_t n, struct fmt_err *err)
{
    if (n > p->positions_cap) {
        size_t cap = n < 64 ? 64 : n;
        uint32_t *np = realloc(p->positions, cap * sizeof(*np));
        if (!np)
            return fmt_errorf(err, FMT_ENOMEM, "out of memory");
        p->positions = np;
        p->positions_cap = cap;
    }
    return FMT_OK;
}

/* The split block's reader S moved to the first code of P's current doc in FIELD (codec.h):
 * the doc's first code is the sum of the tfs before it, found by counting one bits from
 * the scan cursor on. */
static int split_seek(struct fmt_postings *p, const uint8_t *blk, uint64_t len,
                      enum fmt_field field, struct fmt_rice_split *s, struct fmt_err *err)
{
    uint64_t c;

    if (p->pos_codes == 0)
        p->pos_codes = pos_codes(p);
    if (fmt_rice_split_open(s, blk + 1, len, p->pos_codes, blk[0] & ~SEGENC_POS_SPLIT) != 0)
        return corrupt(p->seg, blk, "truncated positions", err);
    if (p->pos_scan_i > p->i) {
        p->pos_scan_i = 0;
        p->pos_scan_off = 0;
        p->pos_scan_code = 0;
    }
    c = p->pos_scan_code;
    for (uint32_t j = p->pos_scan_i; j < p->i; j++)
        c += (uint64_t)p->tf[0][j] + p->tf[1][j];
    s->code = p->pos_scan_code;
    s->ubit = p->pos_scan_off;
    if (fmt_rice_split_seek(s, c) != 0)
        return corrupt(p->seg, blk, "truncated positions", err);
    p->pos_scan_i = p->i;
    p->pos_scan_code = c;
    p->pos_scan_off = s->ubit;
    if (field == FMT_FIELD_BODY && fmt_rice_split_seek(s, c + p->tf[0][p->i]) != 0)
        return corrupt(p->seg, blk, "truncated positions", err);
    return FMT_OK;
}

/* The interleaved block's reader R moved to the first code of P's current doc in FIELD. */
static int interleaved_seek(struct fmt_postings *p, const uint8_t *blk, uint64_t len,
                            enum fmt_field field, struct fmt_rice_reader *r,
                            struct fmt_err *err)
{
    uint64_t count = 0; /* the codes of the docs before this one, skipped at once */

    r->p = blk + 1;
    r->nbits = len * 8;
    r->k = blk[0];
    if (p->pos_scan_i > p->i) {
        p->pos_scan_i = 0;
        p->pos_scan_off = 0;
    }
    r->bit = p->pos_scan_off; /* bit offset of doc pos_scan_i's first position */
    for (; p->pos_scan_i < p->i; p->pos_scan_i++)
        count += (uint64_t)p->tf[0][p->pos_scan_i] + p->tf[1][p->pos_scan_i];
    if (rice_skip(r, count) != 0)
        return corrupt(p->seg, blk, "truncated positions", err);
    p->pos_scan_off = r->bit;
    if (field == FMT_FIELD_BODY && rice_skip(r, p->tf[0][p->i]) != 0)
        return corrupt(p->seg, blk, "truncated positions", err);
    return FMT_OK;
}

int fmt_postings_positions(struct fmt_postings *p, enum fmt_field field, const uint32_t **pos,
                           size_t *n, struct fmt_err *err)
{
    const uint8_t *blk;
    uint32_t want = p->tf[field][p->i], prev = 0, *out;
    uint64_t len = 0;
    int rc, bad = 0;

    *n = 0;
    *pos = p->positions;
    if (!p->pos_base || !p->loaded || want == 0)
        return FMT_OK;
    if ((rc = pos_block(p, &blk, &len, err)) != FMT_OK ||
        (rc = positions_room(p, want, err)) != FMT_OK)
        return rc;
    out = p->positions;
    if (blk[0] & SEGENC_POS_SPLIT) {
        struct fmt_rice_split s;
        if ((rc = split_seek(p, blk, len, field, &s, err)) != FMT_OK)
            return rc;
        bad = fmt_rice_split_read(&s, out, want) != 0;
    } else {
        struct fmt_rice_reader r;
        if ((rc = interleaved_seek(p, blk, len, field, &r, err)) != FMT_OK)
            return rc;
        for (uint32_t k = 0; k < want && !bad; k++)
            bad = fmt_rice_next(&r, &out[k]) != 0;
    }
    for (uint32_t k = 0; k < want && !bad; k++) { /* deltas to positions */
        bad = out[k] > UINT32_MAX - prev;
        prev += out[k];
        out[k] = prev;
    }
    if (bad)
        return corrupt(p->seg, blk, "bad position", err);
    *pos = out;
    *n = want;
    return FMT_OK;
}

/* ---- columns and doc store -------------------------------------------------------- */

uint32_t fmt_seg_field_len(const struct fmt_seg *seg, uint32_t doc, enum fmt_field field)
{
    size_t n = seg->stats.ndocs;

    return fmt_get_u32le(seg->sec[SEC_COLUMNS] + 4 * ((size_t)field * n + doc));
}

const uint8_t *fmt_seg_len_column(const struct fmt_seg *seg, enum fmt_field field)
{
    return seg->sec[SEC_COLUMNS] + 4 * (size_t)field * seg->stats.ndocs;
}

int64_t fmt_seg_timestamp(const struct fmt_seg *seg, uint32_t doc)
{
    size_t n = seg->stats.ndocs;

    return (int64_t)fmt_get_u64le(seg->sec[SEC_COLUMNS] + 8 * n + 8 * (size_t)doc);
}

uint32_t fmt_seg_source_id(const struct fmt_seg *seg, uint32_t doc)
{
    size_t n = seg->stats.ndocs;

    return fmt_get_u32le(seg->sec[SEC_COLUMNS] + 16 * n + 4 * (size_t)doc);
}

const char *fmt_seg_source_name(const struct fmt_seg *seg, uint32_t id, size_t *len)
{
    if (id >= seg->stats.nsources) {
        *len = 0;
        return "";
    }
    *len = seg->source_len[id];
    return (const char *)seg->sec[SEC_SOURCES] + seg->source_off[id];
}

/* Read one varint-length string at *p into *field. */
static int take_string(const struct fmt_seg *seg, const uint8_t **p, const uint8_t *end,
                       char **field, struct fmt_err *err)
{
    uint64_t len = 0;
    size_t n = fmt_varint_decode(*p, end, &len);

    if (!n || len > (uint64_t)(end - *p - n))
        return fmt_errorf(err, FMT_ECORRUPT, "%s: bad stored document", seg->path);
    *p += n;
    if (field && fmt_article_set(field, (const char *)*p, len) != FMT_OK)
        return fmt_errorf(err, FMT_ENOMEM, "out of memory");
    *p += len;
    return FMT_OK;
}

/* Where doc-store block BLK (< ndocblocks) is: bytes [*off, *end) of the doc store, 0 or
 * -1 when its index entry points outside the doc store. */
static int block_range(const struct fmt_seg *seg, uint32_t blk, uint64_t *off, uint64_t *end)
{
    const uint8_t *e = seg->sec[SEC_DOCIDX] + (size_t)blk * FMT_SEG_DOCIDX_ENTRY;

    *off = fmt_get_u64le(e + 8);
    *end = blk + 1 < seg->ndocblocks ? fmt_get_u64le(e + FMT_SEG_DOCIDX_ENTRY + 8)
                                     : seg->sec_len[SEC_DOCSTORE];
    return *off <= *end && *end <= seg->sec_len[SEC_DOCSTORE] ? 0 : -1;
}

/* Inflate doc-store block BLK into SCRATCH; *first receives its first doc. */
static int inflate_block(const struct fmt_seg *seg, uint32_t blk, struct fmt_buf *scratch,
                         uint32_t *first, struct fmt_err *err)
{
    const uint8_t *e = seg->sec[SEC_DOCIDX] + (size_t)blk * FMT_SEG_DOCIDX_ENTRY;
    uint32_t raw_len = fmt_get_u32le(e + 4);
    uint64_t off, end;
    uLongf out_len = raw_len;

    *first = fmt_get_u32le(e);
    if (block_range(seg, blk, &off, &end) != 0 || raw_len > (1u << 30))
        return corrupt(seg, e, "bad doc-store index", err);
    scratch->len = 0;
    if (fmt_buf_reserve(scratch, raw_len + 1) != FMT_OK)
        return fmt_errorf(err, FMT_ENOMEM, "out of memory");
    if (uncompress(scratch->p, &out_len, seg->sec[SEC_DOCSTORE] + off, (uLong)(end - off)) !=
            Z_OK ||
        out_len != raw_len)
        return corrupt(seg, seg->sec[SEC_DOCSTORE] + off, "bad compressed doc block", err);
    scratch->len = raw_len;
    return FMT_OK;
}

uint32_t fmt_seg_doc_blocks(const struct fmt_seg *seg)
{
    return seg->ndocblocks;
}

int fmt_seg_doc_block(const struct fmt_seg *seg, uint32_t blk, struct fmt_buf *scratch,
                      uint32_t *first, struct fmt_err *err)
{
    if (blk >= seg->ndocblocks)
        return fmt_errorf(err, FMT_ECORRUPT, "%s: doc-store block %u out of range", seg->path,
                          blk);
    return inflate_block(seg, blk, scratch, first, err);
}

size_t fmt_seg_doc_block_zlib(const struct fmt_seg *seg, uint32_t blk, const uint8_t **z,
                              uint32_t *first, uint32_t *raw_len)
{
    const uint8_t *e = seg->sec[SEC_DOCIDX] + (size_t)blk * FMT_SEG_DOCIDX_ENTRY;
    uint64_t off, end;

    if (blk >= seg->ndocblocks || block_range(seg, blk, &off, &end) != 0)
        return 0;
    *z = seg->sec[SEC_DOCSTORE] + off;
    *first = fmt_get_u32le(e);
    *raw_len = fmt_get_u32le(e + 4);
    return (size_t)(end - off);
}

int fmt_seg_doc(const struct fmt_seg *seg, uint32_t doc, struct fmt_buf *scratch,
                struct fmt_article *out, struct fmt_err *err)
{
    uint32_t lo = 0, hi = seg->ndocblocks, first;
    const uint8_t *p, *end;
    int rc;

    if (doc >= seg->stats.ndocs || seg->ndocblocks == 0)
        return fmt_errorf(err, FMT_ECORRUPT, "%s: doc %u out of range", seg->path, doc);
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (fmt_get_u32le(seg->sec[SEC_DOCIDX] + (size_t)mid * FMT_SEG_DOCIDX_ENTRY) <= doc)
            lo = mid;
        else
            hi = mid;
    }
    rc = inflate_block(seg, lo, scratch, &first, err);
    if (rc != FMT_OK)
        return rc;
    if (first > doc)
        return corrupt(seg, seg->sec[SEC_DOCIDX], "bad doc-store index", err);
    p = scratch->p;
    end = p + scratch->len;
    for (uint32_t d = first; d < doc; d++) {
        for (int k = 0; k < 5; k++)
            if ((rc = take_string(seg, &p, end, NULL, err)) != FMT_OK)
                return rc;
    }
    if ((rc = fmt_article_init(out)) != FMT_OK)
        return fmt_errorf(err, rc, "out of memory");
    {
        char **f[] = {&out->id, &out->title, &out->source, &out->url, &out->body};
        for (int k = 0; k < 5 && rc == FMT_OK; k++)
            rc = take_string(seg, &p, end, f[k], err);
    }
    if (rc != FMT_OK) {
        fmt_article_release(out);
        return rc;
    }
    out->timestamp = fmt_seg_timestamp(seg, doc);
    return FMT_OK;
}

/* ---- pages -------------------------------------------------------------------------- */

/* Drop the whole pages of [off, off + len) of the mapping from the resident set. */
static void drop_range(const struct fmt_seg *seg, size_t off, size_t len)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), a = (off + page - 1) / page * page;
    size_t b = (off + len) / page * page;

    if (b > a)
        (void)madvise((void *)(seg->map + a), b - a, MADV_DONTNEED);
}

void fmt_seg_drop_pages(const struct fmt_seg *seg, unsigned section, uint64_t upto)
{
    if (section >= SEC_COUNT)
        return;
    if (upto > seg->sec_len[section])
        upto = seg->sec_len[section];
    drop_range(seg, (size_t)(seg->sec[section] - seg->map), (size_t)upto);
}

void fmt_seg_drop_all_pages(const struct fmt_seg *seg)
{
    drop_range(seg, 0, seg->size);
}

void fmt_seg_drop_doc_blocks(const struct fmt_seg *seg, uint32_t blk)
{
    const uint8_t *e = seg->sec[SEC_DOCIDX] + (size_t)blk * FMT_SEG_DOCIDX_ENTRY;
    uint64_t upto = blk < seg->ndocblocks ? fmt_get_u64le(e + 8) : seg->sec_len[SEC_DOCSTORE];

    fmt_seg_drop_pages(seg, SEC_DOCSTORE, upto);
}

/* ---- sizes ------------------------------------------------------------------------- */

_Static_assert(SEC_COUNT == FMT_SEG_SECTIONS, "segment.h and segformat.h disagree");

const char *fmt_seg_section_name(unsigned i)
{
    static const char *const names[SEC_COUNT] = {"postings", "positions", "dict",     "dictidx",
                                                 "columns",  "sources",   "docstore", "docidx"};

    return i < SEC_COUNT ? names[i] : "?";
}

/* Add the postings and positions of one term to *out. */
static int term_sizes(const struct fmt_seg *seg, const struct fmt_term_info *ti,
                      struct fmt_seg_sizes *out, struct fmt_err *err)
{
    struct fmt_postings p;
    int rc = fmt_postings_open(&p, seg, ti, err);

    if (rc != FMT_OK)
        return rc;
    out->postings += ti->df;
    out->text_postings += ti->ns == FMT_NS_TEXT ? ti->df : 0;
    out->skip_bytes += (uint64_t)(p.blocks - (seg->sec[SEC_POSTINGS] + ti->post_off));
    if (ti->pos_len) {
        while ((rc = fmt_postings_next(&p, err)) == FMT_OK && p.doc != FMT_DOC_END)
            out->positions += (uint64_t)p.tf[0][p.i] + p.tf[1][p.i];
    }
    fmt_postings_release(&p);
    return rc;
}

void fmt_seg_term_bytes(const struct fmt_seg *seg, const struct fmt_term_info *ti,
                        const uint8_t **post, const uint8_t **pos)
{
    *post = seg->sec[SEC_POSTINGS] + ti->post_off;
    *pos = ti->pos_len ? seg->sec[SEC_POSITIONS] + ti->pos_off : NULL;
}

int fmt_seg_sizes(const struct fmt_seg *seg, struct fmt_seg_sizes *out, struct fmt_err *err)
{
    int rc = FMT_OK;

    memset(out, 0, sizeof(*out));
    for (unsigned s = 0; s < SEC_COUNT; s++)
        out->section[s] = seg->sec_len[s];
    out->file = seg->size;
    for (uint32_t blk = 0; blk < seg->ndictblocks && rc == FMT_OK; blk++) {
        struct dict_cur c;
        rc = dict_block_open(seg, blk, &c, err);
        while (rc == FMT_OK && (rc = dict_next(seg, &c, err)) == FMT_OK) {
            out->terms++;
            rc = term_sizes(seg, &c.ti, out, err);
        }
        if (rc == FMT_ENOTFOUND)
            rc = FMT_OK;
    }
    return rc;
}

/* ---- verification ----------------------------------------------------------------- */

static int verify_postings(const struct fmt_seg *seg, const struct fmt_term_info *ti,
                           struct fmt_err *err)
{
    struct fmt_postings p;
    uint32_t count = 0, title = 0;
    int rc = fmt_postings_open(&p, seg, ti, err);

    while (rc == FMT_OK && (rc = fmt_postings_next(&p, err)) == FMT_OK && p.doc != FMT_DOC_END) {
        const uint32_t *pos;
        size_t n;
        count++;
        title += p.tf[0][p.i] > 0;
        if (ti->ns == FMT_NS_TEXT && p.tf[0][p.i] + p.tf[1][p.i] == 0)
            rc = corrupt(seg, p.blocks, "posting with tf 0", err);
        for (int f = 0; f < 2 && rc == FMT_OK && p.pos_base; f++)
            rc = fmt_postings_positions(&p, (enum fmt_field)f, &pos, &n, err);
    }
    if (rc == FMT_OK && (count != ti->df || (ti->ns == FMT_NS_TEXT && title != ti->df_title)))
        rc = corrupt(seg, p.blocks, "posting count disagrees with dictionary", err);
    fmt_postings_release(&p);
    return rc;
}

#define CRC_CHUNK (4u << 20) /* bytes checksummed between two drops of the pages behind */

int fmt_seg_check_crc(const struct fmt_seg *seg, struct fmt_err *err)
{
    size_t foot = seg->size - FMT_SEG_FOOTER;
    uint32_t body_crc = fmt_get_u32le(seg->map + foot + SEC_COUNT * 16 + 32), crc = 0;

    (void)madvise((void *)seg->map, foot, MADV_SEQUENTIAL);
    for (size_t off = 0; off < foot; off += CRC_CHUNK) {
        size_t n = foot - off < CRC_CHUNK ? foot - off : CRC_CHUNK;
        crc = fmt_crc32(crc, seg->map + off, n);
        drop_range(seg, off, n);
    }
    (void)madvise((void *)seg->map, foot, MADV_NORMAL);
    if (crc != body_crc)
        return fmt_errorf(err, FMT_ECORRUPT, "%s: checksum mismatch (bytes 0 to %zu)", seg->path,
                          foot);
    return FMT_OK;
}

int fmt_seg_verify(const struct fmt_seg *seg, struct fmt_err *err)
{
    uint8_t prev[MAX_KEY];
    size_t prev_len = 0;
    uint32_t nterms = 0;
    struct fmt_buf scratch;
    int rc = fmt_seg_check_crc(seg, err);

    if (rc != FMT_OK)
        return rc;
    (void)madvise((void *)seg->map, seg->size, MADV_SEQUENTIAL); /* verify reads it all */
    for (uint32_t blk = 0; blk < seg->ndictblocks && rc == FMT_OK; blk++) {
        struct dict_cur c;
        rc = dict_block_open(seg, blk, &c, err);
        while (rc == FMT_OK && (rc = dict_next(seg, &c, err)) == FMT_OK) {
            if (nterms && key_cmp(prev, prev_len, c.key, c.key_len) >= 0)
                return corrupt(seg, c.p, "dictionary out of order", err);
            memcpy(prev, c.key, c.key_len);
            prev_len = c.key_len;
            nterms++;
            rc = verify_postings(seg, &c.ti, err);
        }
        if (rc == FMT_ENOTFOUND)
            rc = FMT_OK;
    }
    if (rc == FMT_OK && nterms != seg->stats.nterms)
        return fmt_errorf(err, FMT_ECORRUPT, "%s: %u terms, footer says %u", seg->path, nterms,
                          seg->stats.nterms);
    fmt_buf_init(&scratch);
    for (uint32_t d = 0; d < seg->stats.ndocs && rc == FMT_OK; d++) {
        struct fmt_article a;
        if (fmt_seg_source_id(seg, d) >= seg->stats.nsources)
            rc = fmt_errorf(err, FMT_ECORRUPT, "%s: doc %u has a bad source id", seg->path, d);
        else if ((rc = fmt_seg_doc(seg, d, &scratch, &a, err)) == FMT_OK)
            fmt_article_release(&a);
    }
    fmt_buf_release(&scratch);
    return rc;
}
