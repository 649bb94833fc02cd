/* snapshot.c - a reader's point-in-time view: manifest read once, segments mapped,
 * deletion bitmaps loaded, global statistics computed over live articles. */
#include "snapshot.h"

#include <stdlib.h>
#include <string.h>

#include "manifest.h"

struct snap_seg {
    struct fmt_seg *seg;
    uint8_t *deleted; /* bitmap or NULL when nothing is deleted */
    uint64_t base;    /* global doc id of local doc 0 */
};

struct fmt_snapshot {
    struct fmt_manifest m;
    struct snap_seg *segs;
    size_t nsegs;
    struct fmt_index_stats stats;
};

void fmt_snapshot_close(struct fmt_snapshot *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nsegs; i++) {
        fmt_seg_close(s->segs[i].seg);
        free(s->segs[i].deleted);
    }
    free(s->segs);
    fmt_manifest_release(&s->m);
    free(s);
}

static int open_seg(struct fmt_snapshot *s, const char *dir, size_t i, struct fmt_err *err)
{
    const struct fmt_manifest_seg *ms = &s->m.segs[i];
    struct snap_seg *ss = &s->segs[i];
    char path[4096];
    int rc;

    fmt_seg_filename(dir, ms->id, path, sizeof(path));
    rc = fmt_seg_open(&ss->seg, path, err);
    if (rc == FMT_EIO) { /* a file the manifest names is missing or unreadable */
        char msg[sizeof(err->msg)] = "";
        if (err)
            memcpy(msg, err->msg, sizeof(msg));
        msg[sizeof(msg) - 1] = 0;
        rc = fmt_errorf(err, FMT_ECORRUPT, "%s", msg);
    }
    if (rc != FMT_OK)
        return rc;
    if (fmt_seg_stats(ss->seg)->ndocs != ms->ndocs)
        return fmt_errorf(err, FMT_ECORRUPT, "%s: %u docs, manifest says %u", path,
                          fmt_seg_stats(ss->seg)->ndocs, ms->ndocs);
    if (ms->del_gen) {
        fmt_del_filename(dir, ms->id, ms->del_gen, path, sizeof(path));
        rc = fmt_delmap_read(path, ms->ndocs, &ss->deleted, err);
    }
    return rc;
}

/* N and mean field lengths over live articles. */
static void compute_stats(struct fmt_snapshot *s)
{
    uint64_t n = 0, len[2] = {0, 0};

    for (size_t i = 0; i < s->nsegs; i++) {
        const struct fmt_seg *seg = s->segs[i].seg;
        const struct fmt_seg_stats *st = fmt_seg_stats(seg);
        n += st->ndocs;
        len[0] += st->title_len_sum;
        len[1] += st->body_len_sum;
        if (!s->segs[i].deleted)
            continue;
        for (uint32_t d = 0; d < st->ndocs; d++) {
            if (!(s->segs[i].deleted[d >> 3] & (1u << (d & 7))))
                continue;
            n--;
            len[0] -= fmt_seg_field_len(seg, d, FMT_FIELD_TITLE);
            len[1] -= fmt_seg_field_len(seg, d, FMT_FIELD_BODY);
        }
    }
    s->stats.ndocs = n;
    s->stats.avg_len[0] = n ? (double)len[0] / (double)n : 0;
    s->stats.avg_len[1] = n ? (double)len[1] / (double)n : 0;
}

/* Read the manifest into S and open everything it names. *READ_MANIFEST = 1 once the
 * manifest itself was read (so a later failure may be a writer's commit in between). */
static int snapshot_load(struct fmt_snapshot *s, const char *dir, int *read_manifest,
                         struct fmt_err *err)
{
    uint64_t base = 0;
    int rc;

    *read_manifest = 0;
    rc = fmt_manifest_read(dir, &s->m, err);
    if (rc == FMT_ENOTFOUND)
        rc = fmt_errorf(err, FMT_ENOTFOUND, "no index at %s", dir);
    if (rc != FMT_OK)
        return rc;
    *read_manifest = 1;
    s->segs = calloc(s->m.nsegs ? s->m.nsegs : 1, sizeof(*s->segs));
    if (!s->segs)
        return fmt_errorf(err, FMT_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->m.nsegs; i++) {
        s->nsegs = i + 1;
        rc = open_seg(s, dir, i, err);
        if (rc != FMT_OK)
            return rc;
        s->segs[i].base = base;
        base += s->m.segs[i].ndocs;
    }
    compute_stats(s);
    return FMT_OK;
}

/* 1 when the MANIFEST in DIR now differs from M (generation or segment list). */
static int manifest_changed(const char *dir, const struct fmt_manifest *m)
{
    struct fmt_manifest now;
    int changed;

    if (fmt_manifest_read(dir, &now, NULL) != FMT_OK)
        return 0;
    changed = now.generation != m->generation || now.nsegs != m->nsegs;
    for (size_t i = 0; !changed && i < m->nsegs; i++)
        changed = now.segs[i].id != m->segs[i].id || now.segs[i].del_gen != m->segs[i].del_gen;
    fmt_manifest_release(&now);
    return changed;
}

/* A writer's commit may land between our manifest read and the segment opens: it renames
 * its MANIFEST into place and then removes the files of the old generation, so a file our
 * (old) manifest names can vanish. When opening fails and the MANIFEST has changed since
 * we read it, start over from the new one; when it has not changed, the failure is real
 * damage and is reported. */
#define SNAPSHOT_TRIES 8

int fmt_snapshot_open(struct fmt_snapshot **out, const char *dir, struct fmt_err *err)
{
    *out = NULL;
    for (int tries = 1;; tries++) {
        struct fmt_snapshot *s = calloc(1, sizeof(*s));
        int rc, read_manifest, retry;
        if (!s)
            return fmt_errorf(err, FMT_ENOMEM, "out of memory");
        rc = snapshot_load(s, dir, &read_manifest, err);
        if (rc == FMT_OK) {
            *out = s;
            return FMT_OK;
        }
        retry = read_manifest && rc != FMT_ENOMEM && tries < SNAPSHOT_TRIES &&
                manifest_changed(dir, &s->m);
        fmt_snapshot_close(s);
        if (!retry)
            return rc;
    }
}

const struct fmt_manifest *fmt_snapshot_manifest(const struct fmt_snapshot *s)
{
    return &s->m;
}

const struct fmt_analyzer_cfg *fmt_snapshot_analyzer(const struct fmt_snapshot *s)
{
    return &s->m.analyzer;
}

const struct fmt_index_stats *fmt_snapshot_stats(const struct fmt_snapshot *s)
{
    return &s->stats;
}

size_t fmt_snapshot_nsegs(const struct fmt_snapshot *s)
{
    return s->nsegs;
}

const struct fmt_seg *fmt_snapshot_seg(const struct fmt_snapshot *s, size_t i)
{
    return s->segs[i].seg;
}

uint64_t fmt_snapshot_base(const struct fmt_snapshot *s, size_t i)
{
    return s->segs[i].base;
}

int fmt_snapshot_deleted(const struct fmt_snapshot *s, size_t i, uint32_t doc)
{
    const uint8_t *d = s->segs[i].deleted;

    return d && (d[doc >> 3] & (1u << (doc & 7)));
}

/* Live postings of TI in segment I: the df minus deleted docs (decodes the list only
 * when the segment has deletions). */
static int live_df(const struct fmt_snapshot *s, size_t i, const struct fmt_term_info *ti,
                   int title_only, uint64_t *df, struct fmt_err *err)
{
    struct fmt_postings p;
    uint64_t n = 0;
    int rc;

    if (!s->segs[i].deleted) {
        *df = title_only ? ti->df_title : ti->df;
        return FMT_OK;
    }
    rc = fmt_postings_open(&p, s->segs[i].seg, ti, err);
    while (rc == FMT_OK && (rc = fmt_postings_next(&p, err)) == FMT_OK && p.doc != FMT_DOC_END)
        n += !fmt_snapshot_deleted(s, i, p.doc) &&
             (!title_only || fmt_postings_tf(&p, FMT_FIELD_TITLE) > 0);
    fmt_postings_release(&p);
    *df = n;
    return rc;
}

int fmt_snapshot_lookup(const struct fmt_snapshot *s, uint8_t ns, const char *term, size_t len,
                        int title_only, uint64_t *df, struct fmt_term_info *infos,
                        struct fmt_err *err)
{
    *df = 0;
    for (size_t i = 0; i < s->nsegs; i++) {
        struct fmt_term_info ti;
        uint64_t n;
        int rc = fmt_seg_lookup(s->segs[i].seg, ns, term, len, &ti, err);
        if (infos) {
            memset(&infos[i], 0, sizeof(infos[i]));
            if (rc == FMT_OK)
                infos[i] = ti;
        }
        if (rc == FMT_ENOTFOUND)
            continue;
        if (rc == FMT_OK)
            rc = live_df(s, i, &ti, title_only, &n, err);
        if (rc != FMT_OK)
            return rc;
        *df += n;
    }
    return FMT_OK;
}

int fmt_snapshot_df(const struct fmt_snapshot *s, uint8_t ns, const char *term, size_t len,
                    int title_only, uint64_t *df, struct fmt_err *err)
{
    return fmt_snapshot_lookup(s, ns, term, len, title_only, df, NULL, err);
}
