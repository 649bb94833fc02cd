/* writer.c - the index writer: lock, builder, flushes, replacements, duplicates, commits.
 *
 * Commit protocol
 * ---------------
 * New segment files and new deletion bitmaps are written under names no manifest uses yet
 * (segment ids from next-segment upward, bitmaps suffixed with the new generation), each
 * fsynced by format/io. Then the manifest for generation G+1 is written beside the old one,
 * fsynced, renamed over it, and the directory is fsynced. Only after that are files of
 * generation G that G+1 no longer names removed. A crash at any point leaves generation G
 * intact; whatever G+1 had written is unreferenced and removed by the next writer open.
 *
 * Replacements and duplicates
 * ---------------------------
 * Every article is indexed under its id (namespace I) and its content hash (namespace H).
 * Adding an id that a live article has marks that article deleted (in its segment's
 * bitmap, or in the builder's pending deletions) and adds the new one. An article whose
 * hash matches a live article under another id is skipped as a duplicate unless
 * keep_duplicates is set. Near-duplicates (rewrites of the same story under another id)
 * are looked up through the MinHash band keys every article is also indexed under
 * (namespace M, neardup.c): counted, and skipped only with skip_near_duplicates.
 *
 * Merges and rebuilds
 * -------------------
 * After flushing the builder, a commit runs the tiered merge policy of merge.c: each run
 * of adjacent segments is rewritten into one new segment file (a new id, same place in the
 * segment order; format/segment_merge.c merges their postings, columns and doc stores)
 * before the manifest is written, so one rename publishes the new articles and the merged
 * segments together; the merged inputs are removed with the other files the new manifest
 * no longer names. A merge's temporary files (seg-*.tmp) are removed by the merge itself,
 * or after a crash as leftovers. A writer opened with opts.rebuild starts with
 * no segments: it builds a whole new generation beside the old one, which keeps serving,
 * and its first commit names only the new segments (and records last-rebuild). A failed
 * commit leaves the writer broken: every later call returns the first error, and the
 * files it wrote are leftovers for the next open. A failure of the final directory fsync
 * comes after the rename, so that commit may be visible (and may or may not survive a
 * power loss): the writer then removes nothing at all, and the index on disk is the old
 * or the new generation, both complete.
 */
#include "writer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "manifest.h"
#include "merge.h"
#include "neardup.h"
#include "segment.h"

/* A segment the writer knows: committed (in the manifest) or flushed since open. */
struct wseg {
    uint32_t id;
    uint32_t ndocs;
    struct fmt_seg *seg;  /* opened for id and hash lookups */
    uint8_t *deleted;     /* bitmap, ceil(ndocs/8) bytes, or NULL when none deleted */
    uint32_t ndeleted;
    uint64_t del_gen;     /* generation of the bitmap file on disk, 0 none */
    int dirty;            /* deletions changed since the last commit */
};

struct idx_writer {
    char *dir;
    int lock_fd;
    struct idx_writer_opts opts;
    struct fmt_manifest m;          /* the last committed manifest */
    struct fmt_analyzer *an;
    struct wseg *segs;
    size_t nsegs, segs_cap;
    size_t ncommitted_segs;          /* segs[0..n) are the committed ones at open */
    struct fmt_seg_builder *b;
    struct idx_neardup *nd;          /* sketches and band keys of the builder's docs */
    struct fmt_buf b_deleted;        /* bitmap of builder docs deleted before the flush */
    uint32_t next_seg;
    uint64_t dups_pending;
    uint32_t adds_since_drop;        /* adds since the segments' pages were last dropped */
    int manifest_ok;                 /* m was read (or is new): leftovers may be judged */
    int broken;                      /* first error of a failed commit, sticky; 0 none */
    struct idx_writer_counts counts;
};

#define DROP_PAGES_EVERY 1024 /* adds between two fmt_seg_drop_all_pages of every segment */

void idx_writer_opts_default(struct idx_writer_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->mem_budget = IDX_DEFAULT_BUDGET;
    o->threads = sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 2 : 1;
    o->merge_factor = IDX_DEFAULT_MERGE_FACTOR;
    o->near_threshold = IDX_ND_DEFAULT_THRESHOLD;
    fmt_analyzer_cfg_default(&o->analyzer);
}

static int lock_index(struct idx_writer *w, struct fmt_err *err)
{
    char path[4096], pid[32];
    struct timespec nap = {0, 50 * 1000 * 1000};
    double waited = 0;
    int n;

    snprintf(path, sizeof(path), "%s/LOCK", w->dir);
    w->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (w->lock_fd < 0)
        return fmt_errorf(err, FMT_EIO, "%s: %s", path, strerror(errno));
    while (flock(w->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK && errno != EINTR)
            return fmt_errorf(err, FMT_EIO, "%s: lock: %s", path, strerror(errno));
        if (waited >= w->opts.wait_seconds) {
            ssize_t r = pread(w->lock_fd, pid, sizeof(pid) - 1, 0);
            pid[r > 0 ? r : 0] = 0;
            pid[strcspn(pid, "\n")] = 0;
            return fmt_errorf(err, FMT_ELOCKED, "index is locked by pid %s (%s)",
                              pid[0] ? pid : "?", w->dir);
        }
        nanosleep(&nap, NULL);
        waited += 0.05;
    }
    n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(w->lock_fd, 0) < 0 || pwrite(w->lock_fd, pid, (size_t)n, 0) != n)
        return fmt_errorf(err, FMT_EIO, "%s: %s", path, strerror(errno));
    return FMT_OK;
}

/* 1 when NAME is a file the manifest M references (or the lock/manifest itself). */
static int referenced(const struct fmt_manifest *m, const char *name)
{
    unsigned id;
    unsigned long long gen;
    char tail[8];
    size_t len = strlen(name);

    if (len >= 4 && !strcmp(name + len - 4, ".tmp"))
        return 0; /* MANIFEST.tmp; a merge's seg-NNNNNN.nxs.pos.tmp, .post.tmp, .dict.tmp */
    if (sscanf(name, "seg-%6u.nxs%1s", &id, tail) == 1) {
        for (size_t i = 0; i < m->nsegs; i++)
            if (m->segs[i].id == id)
                return 1;
        return 0;
    }
    if (sscanf(name, "seg-%6u.del-%llu%1s", &id, &gen, tail) == 2) {
        for (size_t i = 0; i < m->nsegs; i++)
            if (m->segs[i].id == id && m->segs[i].del_gen == gen)
                return 1;
        return 0;
    }
    return 1;
}

/* Remove files of ours that the committed manifest does not name. */
static void remove_leftovers(struct idx_writer *w)
{
    DIR *d = opendir(w->dir);
    struct dirent *e;
    char path[4096];

    if (!d)
        return;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "seg-", 4) && strcmp(e->d_name, "MANIFEST.tmp"))
            continue;
        if (referenced(&w->m, e->d_name))
            continue;
        snprintf(path, sizeof(path), "%s/%s", w->dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

static int push_seg(struct idx_writer *w, uint32_t id, uint32_t ndocs, struct fmt_err *err)
{
    struct wseg *s;
    char path[4096];
    int rc;

    if (w->nsegs == w->segs_cap) {
        size_t cap = w->segs_cap ? w->segs_cap * 2 : 16;
        s = realloc(w->segs, cap * sizeof(*s));
        if (!s)
            return fmt_errorf(err, FMT_ENOMEM, "out of memory");
        w->segs = s;
        w->segs_cap = cap;
    }
    s = &w->segs[w->nsegs];
    memset(s, 0, sizeof(*s));
    s->id = id;
    s->ndocs = ndocs;
    fmt_seg_filename(w->dir, id, path, sizeof(path));
    rc = fmt_seg_open(&s->seg, path, err);
    if (rc != FMT_OK)
        return rc;
    w->nsegs++;
    return FMT_OK;
}

static int load_committed(struct idx_writer *w, struct fmt_err *err)
{
    for (size_t i = 0; i < w->m.nsegs; i++) {
        const struct fmt_manifest_seg *ms = &w->m.segs[i];
        int rc = push_seg(w, ms->id, ms->ndocs, err);
        struct wseg *s = &w->segs[w->nsegs - 1];
        if (rc != FMT_OK)
            return rc;
        s->ndeleted = ms->ndeleted;
        s->del_gen = ms->del_gen;
        if (ms->del_gen) {
            char path[4096];
            fmt_del_filename(w->dir, ms->id, ms->del_gen, path, sizeof(path));
            rc = fmt_delmap_read(path, ms->ndocs, &s->deleted, err);
            if (rc != FMT_OK)
                return rc;
        }
    }
    w->ncommitted_segs = w->nsegs;
    return FMT_OK;
}

/* Highest segment id among DIR's seg-* files (0 when none), so that a rebuild over a
 * damaged manifest never reuses a file name. */
static uint32_t max_seg_id(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    uint32_t max = 0;
    unsigned id;

    if (!d)
        return 0;
    while ((e = readdir(d)))
        if (sscanf(e->d_name, "seg-%6u.", &id) == 1 && id > max)
            max = id;
    closedir(d);
    return max;
}

static int same_analyzer(const struct fmt_analyzer_cfg *a, const struct fmt_analyzer_cfg *b)
{
    return !strcmp(a->language, b->language) && a->fold_diacritics == b->fold_diacritics;
}

/* mkdir -p: the default index directory (~/.local/share/newsidx) may be the first thing
 * created under a new home. Returns 0 or -1 with errno set. */
static int make_dirs(const char *dir)
{
    char path[4096];
    size_t len = strlen(dir);

    if (len == 0 || len >= sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(path, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != 0)
            continue;
        path[i] = 0;
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            return -1;
        path[i] = dir[i];
    }
    return 0;
}

/* A fresh segment builder with the writer's analyzer and thread count. */
static int new_builder(struct idx_writer *w, struct fmt_err *err)
{
    int rc = fmt_seg_builder_new(&w->b, w->an, err);

    if (rc == FMT_OK && w->opts.threads > 1)
        rc = fmt_seg_builder_set_threads(w->b, w->opts.threads, &w->m.analyzer, err);
    return rc;
}

int idx_writer_open(struct idx_writer **out, const char *dir, const struct idx_writer_opts *o,
                    struct fmt_err *err)
{
    struct idx_writer *w = calloc(1, sizeof(*w));
    int rc;

    *out = NULL;
    if (!w || !(w->dir = strdup(dir))) {
        free(w);
        return fmt_errorf(err, FMT_ENOMEM, "out of memory");
    }
    w->lock_fd = -1;
    w->opts = *o;
    fmt_manifest_init(&w->m);
    if (make_dirs(dir) < 0) {
        rc = fmt_errorf(err, FMT_EIO, "%s: cannot create index directory: %s", dir,
                        strerror(errno));
        goto fail;
    }
    if ((rc = lock_index(w, err)) != FMT_OK)
        goto fail;
    rc = fmt_manifest_read(dir, &w->m, err);
    w->manifest_ok = rc == FMT_OK || rc == FMT_ENOTFOUND;
    if (rc == FMT_ENOTFOUND || (rc == FMT_ECORRUPT && o->rebuild)) {
        /* a new index, or a rebuild replacing a damaged one: damaged files stay until the
         * rebuild commits (manifest_ok is 0, so nothing is judged a leftover before) */
        fmt_manifest_init(&w->m);
        w->m.analyzer = o->analyzer;
        w->m.next_seg = max_seg_id(dir) + 1;
        rc = FMT_OK;
    } else if (rc == FMT_OK && o->analyzer_given && !same_analyzer(&w->m.analyzer, &o->analyzer)) {
        if (o->rebuild)
            w->m.analyzer = o->analyzer; /* a rebuild is how the analyzer changes */
        else
            rc = fmt_errorf(err, FMT_EINVAL,
                            "%s: index was built with analyzer \"%s\" (diacritics %d); "
                            "run `newsidx rebuild` to change it",
                            dir, w->m.analyzer.language, w->m.analyzer.fold_diacritics);
    }
    if (rc != FMT_OK)
        goto fail;
    if (w->manifest_ok)
        remove_leftovers(w);
    w->next_seg = w->m.next_seg;
    if ((rc = fmt_analyzer_new(&w->an, &w->m.analyzer, err)) != FMT_OK)
        goto fail;
    if (!o->rebuild && (rc = load_committed(w, err)) != FMT_OK)
        goto fail;
    if ((rc = new_builder(w, err)) != FMT_OK)
        goto fail;
    if ((rc = idx_neardup_new(&w->nd, w->opts.mem_budget / 4, err)) != FMT_OK)
        goto fail;
    *out = w;
    return FMT_OK;
fail:
    idx_writer_close(w);
    return rc;
}

static void release_segs(struct idx_writer *w)
{
    for (size_t i = 0; i < w->nsegs; i++) {
        fmt_seg_close(w->segs[i].seg);
        free(w->segs[i].deleted);
    }
    w->nsegs = 0;
}

void idx_writer_close(struct idx_writer *w)
{
    if (!w)
        return;
    release_segs(w);
    free(w->segs);
    fmt_seg_builder_free(w->b);
    idx_neardup_free(w->nd);
    fmt_buf_release(&w->b_deleted);
    fmt_analyzer_free(w->an);
    if (w->lock_fd >= 0) {
        if (w->manifest_ok)
            remove_leftovers(w); /* flushed but uncommitted segments */
        close(w->lock_fd);        /* releases the flock */
    }
    fmt_manifest_release(&w->m);
    free(w->dir);
    free(w);
}

const struct idx_writer_counts *idx_writer_counts(const struct idx_writer *w)
{
    return &w->counts;
}

static int is_set(const uint8_t *bits, uint32_t d)
{
    return bits && (bits[d >> 3] & (1u << (d & 7)));
}

/* Mark doc D of segment S deleted. */
static int delete_in_seg(struct wseg *s, uint32_t d)
{
    if (!s->deleted) {
        s->deleted = calloc(((size_t)s->ndocs + 7) / 8, 1);
        if (!s->deleted)
            return FMT_ENOMEM;
    }
    if (is_set(s->deleted, d))
        return FMT_OK;
    s->deleted[d >> 3] |= (uint8_t)(1u << (d & 7));
    s->ndeleted++;
    s->dirty = 1;
    return FMT_OK;
}

static int builder_deleted(const struct idx_writer *w, uint32_t d)
{
    return (size_t)(d >> 3) < w->b_deleted.len && is_set(w->b_deleted.p, d);
}

static int builder_delete(struct idx_writer *w, uint32_t d)
{
    size_t need = ((size_t)d >> 3) + 1;

    if (w->b_deleted.len < need) {
        if (fmt_buf_reserve(&w->b_deleted, need - w->b_deleted.len) != FMT_OK)
            return FMT_ENOMEM;
        memset(w->b_deleted.p + w->b_deleted.len, 0, need - w->b_deleted.len);
        w->b_deleted.len = need;
    }
    w->b_deleted.p[d >> 3] |= (uint8_t)(1u << (d & 7));
    return FMT_OK;
}

/* Where a live article with KEY in namespace NS is: segment index (nsegs = the builder)
 * and doc; returns 0 when there is none. */
static int find_live(struct idx_writer *w, uint8_t ns, const void *key, size_t len, size_t *seg,
                     uint32_t *doc, struct fmt_err *err, int *rc)
{
    uint32_t d = fmt_seg_builder_find(w->b, ns, key, len);

    *rc = FMT_OK;
    if (d != FMT_DOC_END && !builder_deleted(w, d)) {
        *seg = w->nsegs;
        *doc = d;
        return 1;
    }
    for (size_t i = w->nsegs; i-- > 0;) {
        struct fmt_term_info ti;
        struct fmt_postings p;
        int r = fmt_seg_lookup(w->segs[i].seg, ns, key, len, &ti, err);
        if (r == FMT_ENOTFOUND)
            continue;
        if (r == FMT_OK)
            r = fmt_postings_open(&p, w->segs[i].seg, &ti, err);
        while (r == FMT_OK && (r = fmt_postings_next(&p, err)) == FMT_OK && p.doc != FMT_DOC_END) {
            if (!is_set(w->segs[i].deleted, p.doc)) {
                *seg = i;
                *doc = p.doc;
                fmt_postings_release(&p);
                return 1;
            }
        }
        if (r == FMT_OK)
            fmt_postings_release(&p);
        if (r != FMT_OK) {
            *rc = r;
            return 0;
        }
    }
    return 0;
}

static int delete_at(struct idx_writer *w, size_t seg, uint32_t doc)
{
    return seg == w->nsegs ? builder_delete(w, doc) : delete_in_seg(&w->segs[seg], doc);
}

static int merge_by_policy(struct idx_writer *w, struct fmt_err *err);

/* Write the builder to a new segment file and start a fresh builder. */
static int flush_builder(struct idx_writer *w, struct fmt_err *err)
{
    uint32_t n = fmt_seg_builder_ndocs(w->b), id = w->next_seg;
    char path[4096];
    int rc;

    if (n == 0)
        return FMT_OK;
    fmt_seg_filename(w->dir, id, path, sizeof(path));
    rc = fmt_seg_builder_write(w->b, path, err);
    if (rc != FMT_OK)
        return rc;
    w->next_seg++;
    if ((rc = push_seg(w, id, n, err)) != FMT_OK)
        return rc;
    for (uint32_t d = 0; d < n; d++)
        if (builder_deleted(w, d) && delete_in_seg(&w->segs[w->nsegs - 1], d) != FMT_OK)
            return fmt_errorf(err, FMT_ENOMEM, "out of memory");
    w->b_deleted.len = 0;
    idx_neardup_clear(w->nd);
    fmt_seg_builder_free(w->b);
    w->b = NULL;
    return new_builder(w, err);
}

/* The writer's segments and builder as neardup.c searches them. */
static const struct fmt_seg *view_seg(void *ctx, size_t i)
{
    const struct idx_writer *w = ctx;

    return w->segs[i].seg;
}

static int view_live(void *ctx, size_t i, uint32_t doc)
{
    const struct idx_writer *w = ctx;

    return i == w->nsegs ? !builder_deleted(w, doc) : !is_set(w->segs[i].deleted, doc);
}

/* Near-duplicate check of a new id's sketch SK: counts it; *skip = 1 when it is to be
 * skipped (opts.skip_near_duplicates). */
static int check_near(struct idx_writer *w, const struct idx_sketch *sk, int *skip,
                      struct fmt_err *err)
{
    struct idx_nd_view v = {w->nsegs, view_seg, view_live, w};
    struct idx_nd_match m;
    int found, rc;

    *skip = 0;
    if (w->opts.near_threshold <= 0 || !sk->nshingles)
        return FMT_OK;
    rc = idx_neardup_find(w->nd, &v, sk, w->opts.near_threshold, &m, &found, err);
    if (rc == FMT_OK && found) {
        w->counts.near_duplicates++;
        *skip = w->opts.skip_near_duplicates;
    }
    return rc;
}

/* Index the band keys of builder doc DOC and remember its sketch. */
static int add_near_keys(struct idx_writer *w, uint32_t doc, const struct idx_sketch *sk,
                         struct fmt_err *err)
{
    int rc = idx_neardup_add_keys(w->b, doc, sk, err);

    if (rc == FMT_OK && idx_neardup_put(w->nd, doc, sk) != FMT_OK)
        rc = fmt_errorf(err, FMT_ENOMEM, "out of memory");
    return rc;
}

int idx_writer_add(struct idx_writer *w, const struct fmt_article *a, enum idx_add_outcome *outcome,
                   struct fmt_err *err)
{
    uint64_t hash;
    struct idx_sketch sk;
    uint8_t hkey[8];
    size_t seg;
    uint32_t doc, newdoc;
    int rc, have_id;

    if (w->broken)
        return fmt_errorf(err, w->broken, "%s: writer failed earlier", w->dir);
    if (++w->adds_since_drop == DROP_PAGES_EVERY) {
        /* id, hash and near-duplicate lookups touch pages all over the older segments'
         * files; left mapped they add up to the size of the index in resident memory
         * (852 MB on a 1M-article add with a 256 MiB budget) */
        w->adds_since_drop = 0;
        for (size_t i = 0; i < w->nsegs; i++)
            fmt_seg_drop_all_pages(w->segs[i].seg);
    }
    /* the sketch is wasted on an exact duplicate, but those are rare, and computing both
     * in one pass over the body is cheaper than a second pass for everyone else */
    idx_sketch_article(a, &sk, &hash);
    for (int k = 0; k < 8; k++)
        hkey[k] = (uint8_t)(hash >> (8 * k));
    have_id = find_live(w, FMT_NS_ID, a->id, strlen(a->id), &seg, &doc, err, &rc);
    if (rc != FMT_OK)
        return rc;
    if (!have_id && !w->opts.keep_duplicates) {
        size_t dseg;
        uint32_t ddoc;
        if (find_live(w, FMT_NS_HASH, hkey, 8, &dseg, &ddoc, err, &rc)) {
            *outcome = IDX_DUPLICATE;
            w->counts.duplicates++;
            w->dups_pending++;
            return FMT_OK;
        }
        if (rc != FMT_OK)
            return rc;
    }
    if (!have_id) {
        int skip;
        if ((rc = check_near(w, &sk, &skip, err)) != FMT_OK)
            return rc;
        if (skip) {
            *outcome = IDX_NEAR_DUPLICATE;
            return FMT_OK;
        }
    }
    rc = fmt_seg_builder_add(w->b, a, hash, &newdoc, err);
    if (rc == FMT_OK)
        rc = add_near_keys(w, newdoc, &sk, err);
    if (rc != FMT_OK)
        return rc;
    if (have_id && delete_at(w, seg, doc) != FMT_OK)
        return fmt_errorf(err, FMT_ENOMEM, "out of memory");
    *outcome = have_id ? IDX_REPLACED : IDX_ADDED;
    w->counts.added += !have_id;
    w->counts.replaced += have_id;
    if (fmt_seg_builder_bytes(w->b) + idx_neardup_bytes(w->nd) > w->opts.mem_budget) {
        /* merging as segments are flushed, not only at commit, keeps their number
         * logarithmic during a long add: every add looks up its id, hash and near-dup
         * keys in every segment */
        rc = flush_builder(w, err);
        return rc == FMT_OK ? merge_by_policy(w, err) : rc;
    }
    return FMT_OK;
}

int idx_writer_delete(struct idx_writer *w, const char *id, int *found, struct fmt_err *err)
{
    size_t seg;
    uint32_t doc;
    int rc;

    *found = 0;
    if (w->broken)
        return fmt_errorf(err, w->broken, "%s: writer failed earlier", w->dir);
    *found = find_live(w, FMT_NS_ID, id, strlen(id), &seg, &doc, err, &rc);
    if (rc != FMT_OK || !*found)
        return rc;
    w->counts.deleted++;
    return delete_at(w, seg, doc) == FMT_OK ? FMT_OK : fmt_errorf(err, FMT_ENOMEM, "out of memory");
}

/* ---- merging ------------------------------------------------------------------------ */

/* Replace segs[start, end) by their merge: one new segment at the same place, or none
 * when no article in them is live. *PROGRESS = 1 when the segment count went down. */
static int merge_range(struct idx_writer *w, size_t start, size_t end, int *progress,
                       struct fmt_err *err)
{
    size_t nin = end - start, nout;
    struct fmt_seg_merge_input *in = calloc(nin ? nin : 1, sizeof(*in));
    struct wseg out;
    uint64_t copied;
    char path[4096];
    int rc;

    *progress = 0;
    if (!in)
        return fmt_errorf(err, FMT_ENOMEM, "out of memory");
    for (size_t i = 0; i < nin; i++) {
        in[i].seg = w->segs[start + i].seg;
        in[i].deleted = w->segs[start + i].ndeleted ? w->segs[start + i].deleted : NULL;
    }
    memset(&out, 0, sizeof(out));
    out.id = w->next_seg;
    fmt_seg_filename(w->dir, out.id, path, sizeof(path));
    rc = idx_merge_copy(in, nin, path, w->opts.threads ? w->opts.threads : 1, &copied, err);
    free(in);
    if (rc != FMT_OK)
        return rc;
    nout = copied > 0;
    if (nout) {
        w->next_seg++;
        out.ndocs = (uint32_t)copied;
        if ((rc = fmt_seg_open(&out.seg, path, err)) != FMT_OK)
            return rc; /* unreferenced: removed as a leftover */
    }
    for (size_t i = start; i < end; i++) {
        fmt_seg_close(w->segs[i].seg);
        free(w->segs[i].deleted);
    }
    memmove(&w->segs[start + nout], &w->segs[end], (w->nsegs - end) * sizeof(*w->segs));
    if (nout)
        w->segs[start] = out;
    w->nsegs = w->nsegs - nin + nout;
    *progress = nout < nin;
    w->counts.merges++;
    w->counts.merged_docs += copied;
    return FMT_OK;
}

/* Run the tiered policy (merge.c) until it has nothing to do (every merge it picks has
 * two or more inputs and one output, so each one makes progress). */
static int merge_by_policy(struct idx_writer *w, struct fmt_err *err)
{
    uint64_t *live = NULL;
    size_t start, end;
    int rc = FMT_OK, progress = 1;

    while (rc == FMT_OK && progress) {
        uint64_t *l = realloc(live, (w->nsegs ? w->nsegs : 1) * sizeof(*l));
        if (!l) {
            rc = fmt_errorf(err, FMT_ENOMEM, "out of memory");
            break;
        }
        live = l;
        for (size_t i = 0; i < w->nsegs; i++)
            live[i] = w->segs[i].ndocs - w->segs[i].ndeleted;
        if (!idx_merge_pick(live, w->nsegs, w->opts.merge_factor, &start, &end))
            break;
        rc = merge_range(w, start, end, &progress, err);
    }
    free(live);
    return rc;
}

/* Commit after optionally running the merge policy (POLICY = 0 for compact, whose merge
 * is already done). */
static int commit(struct idx_writer *w, int policy, struct fmt_err *err)
{
    struct fmt_manifest next;
    uint64_t gen = w->m.generation + 1;
    char path[4096];
    int rc;

    if (w->broken)
        return fmt_errorf(err, w->broken, "%s: writer failed earlier", w->dir);
    rc = flush_builder(w, err);
    if (rc == FMT_OK && policy)
        rc = merge_by_policy(w, err);
    if (rc != FMT_OK) {
        w->broken = rc;
        return rc;
    }
    fmt_manifest_init(&next);
    next.generation = gen;
    next.analyzer = w->m.analyzer;
    next.next_seg = w->next_seg;
    next.last_commit = (int64_t)time(NULL);
    next.last_rebuild = w->opts.rebuild ? next.last_commit : w->m.last_rebuild;
    next.dups_skipped = w->m.dups_skipped + w->dups_pending;
    for (size_t i = 0; i < w->nsegs && rc == FMT_OK; i++) {
        struct wseg *s = &w->segs[i];
        struct fmt_manifest_seg ms = {s->id, s->ndocs, s->ndeleted, s->del_gen};
        if (s->ndeleted == s->ndocs)
            continue; /* nothing live: drop the segment */
        if (s->dirty) {
            fmt_del_filename(w->dir, s->id, gen, path, sizeof(path));
            rc = fmt_delmap_write(path, s->deleted, s->ndocs, err);
            ms.del_gen = gen;
        }
        if (rc == FMT_OK && fmt_manifest_add_seg(&next, &ms) != FMT_OK)
            rc = fmt_errorf(err, FMT_ENOMEM, "out of memory");
    }
    if (rc == FMT_OK)
        rc = fmt_manifest_write(w->dir, &next, err);
    if (rc != FMT_OK) {
        /* When only the directory fsync after the rename failed, the new manifest is
         * already visible: from here on this writer cannot tell which manifest is on disk,
         * so it removes nothing; the next open judges leftovers by what is there. */
        fmt_manifest_release(&next);
        w->broken = rc;
        w->manifest_ok = 0;
        return rc;
    }
    /* committed: adopt the new manifest, forget dropped segments, remove old files */
    fmt_manifest_release(&w->m);
    w->m = next;
    {
        size_t keep = 0;
        for (size_t i = 0; i < w->nsegs; i++) {
            struct wseg *s = &w->segs[i];
            if (s->ndeleted == s->ndocs) {
                fmt_seg_close(s->seg);
                free(s->deleted);
                continue;
            }
            if (s->dirty) {
                s->del_gen = gen;
                s->dirty = 0;
            }
            w->segs[keep++] = *s;
        }
        w->nsegs = keep;
    }
    w->ncommitted_segs = w->nsegs;
    w->dups_pending = 0;
    w->opts.rebuild = 0;
    w->manifest_ok = 1;
    remove_leftovers(w);
    return FMT_OK;
}

int idx_writer_commit(struct idx_writer *w, struct fmt_err *err)
{
    return commit(w, 1, err);
}

int idx_writer_compact(struct idx_writer *w, struct fmt_err *err)
{
    int rc, progress, need = 0;

    if (w->broken)
        return fmt_errorf(err, w->broken, "%s: writer failed earlier", w->dir);
    rc = flush_builder(w, err);
    for (size_t i = 0; i < w->nsegs; i++)
        need |= w->segs[i].ndeleted > 0;
    if (rc == FMT_OK && (need || w->nsegs > 1))
        rc = merge_range(w, 0, w->nsegs, &progress, err);
    if (rc != FMT_OK) {
        w->broken = rc;
        return rc;
    }
    return commit(w, 0, err);
}

size_t idx_writer_nsegs(const struct idx_writer *w)
{
    return w->nsegs;
}
