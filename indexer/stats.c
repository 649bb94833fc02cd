/* stats.c - index figures for `newsidx stats`: counts from the manifest, dates and
 * sources from the per-doc columns of live articles, bytes from the files. */
#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "article.h"
#include "manifest.h"
#include "neardup.h"
#include "snapshot.h"

struct tally {
    struct idx_source_count *v;
    size_t n, cap;
};

static int tally_add(struct tally *t, const char *name, size_t len, uint64_t count)
{
    char key[128];

    if (len >= sizeof(key))
        len = sizeof(key) - 1;
    memcpy(key, name, len);
    key[len] = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (!strcmp(t->v[i].name, key)) {
            t->v[i].count += count;
            return FMT_OK;
        }
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 32;
        struct idx_source_count *v = realloc(t->v, cap * sizeof(*v));
        if (!v)
            return FMT_ENOMEM;
        t->v = v;
        t->cap = cap;
    }
    memcpy(t->v[t->n].name, key, len + 1);
    t->v[t->n++].count = count;
    return FMT_OK;
}

static int by_count(const void *a, const void *b)
{
    const struct idx_source_count *x = a, *y = b;

    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->name, y->name);
}

static uint64_t file_size(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Dates and sources of segment I's live articles. */
static int scan_segment(const struct fmt_snapshot *s, size_t i, struct idx_stats *out,
                        struct tally *t)
{
    const struct fmt_seg *seg = fmt_snapshot_seg(s, i);
    const struct fmt_seg_stats *st = fmt_seg_stats(seg);
    uint64_t *per = calloc(st->nsources ? st->nsources : 1, sizeof(*per));
    int rc = FMT_OK;

    if (!per)
        return FMT_ENOMEM;
    for (uint32_t d = 0; d < st->ndocs; d++) {
        int64_t ts;
        uint32_t src;
        if (fmt_snapshot_deleted(s, i, d))
            continue;
        ts = fmt_seg_timestamp(seg, d);
        if (ts == FMT_NO_TIME) {
            out->undated++;
        } else {
            if (out->min_time == FMT_NO_TIME || ts < out->min_time)
                out->min_time = ts;
            if (out->max_time == FMT_NO_TIME || ts > out->max_time)
                out->max_time = ts;
        }
        src = fmt_seg_source_id(seg, d);
        if (src < st->nsources)
            per[src]++;
    }
    for (uint32_t k = 0; k < st->nsources && rc == FMT_OK; k++) {
        size_t len;
        const char *name;
        if (!per[k])
            continue;
        name = fmt_seg_source_name(seg, k, &len);
        rc = tally_add(t, name ? name : "", name ? len : 0, per[k]);
    }
    free(per);
    return rc;
}

int idx_stats_collect(const char *dir, struct idx_stats *out, struct fmt_err *err)
{
    struct fmt_snapshot *s;
    const struct fmt_manifest *m;
    struct tally t = {NULL, 0, 0};
    char path[4096];
    int rc = fmt_snapshot_open(&s, dir, err);

    memset(out, 0, sizeof(*out));
    out->min_time = out->max_time = FMT_NO_TIME;
    if (rc != FMT_OK)
        return rc;
    m = fmt_snapshot_manifest(s);
    out->articles = fmt_snapshot_stats(s)->ndocs;
    out->segments = fmt_snapshot_nsegs(s);
    out->generation = m->generation;
    out->dups_skipped = m->dups_skipped;
    out->last_commit = m->last_commit;
    out->last_rebuild = m->last_rebuild;
    out->analyzer = m->analyzer;
    snprintf(path, sizeof(path), "%s/MANIFEST", dir);
    out->bytes_manifest = file_size(path);
    for (size_t i = 0; i < out->segments && rc == FMT_OK; i++) {
        const struct fmt_seg_stats *st = fmt_seg_stats(fmt_snapshot_seg(s, i));
        out->stored += st->ndocs;
        out->terms += st->nterms;
        out->bytes_segments += st->file_bytes;
        if (m->segs[i].del_gen) {
            fmt_del_filename(dir, m->segs[i].id, m->segs[i].del_gen, path, sizeof(path));
            out->bytes_delmaps += file_size(path);
        }
        rc = scan_segment(s, i, out, &t);
    }
    if (rc == FMT_OK) {
        out->deleted = out->stored - out->articles;
        out->dead_ratio = out->stored ? (double)out->deleted / (double)out->stored : 0;
        qsort(t.v, t.n, sizeof(*t.v), by_count);
        out->nsources = t.n;
        out->ntop = t.n < IDX_STATS_TOP ? t.n : IDX_STATS_TOP;
        if (out->ntop)
            memcpy(out->top, t.v, out->ntop * sizeof(*t.v));
    } else {
        rc = fmt_errorf(err, rc, "%s: out of memory", dir);
    }
    free(t.v);
    fmt_snapshot_close(s);
    return rc;
}

int idx_stats_near_duplicates(const char *dir, double threshold, struct idx_stats *out,
                              struct fmt_err *err)
{
    struct fmt_snapshot *s;
    struct idx_nd_clusters c;
    int rc = fmt_snapshot_open(&s, dir, err);

    if (rc != FMT_OK)
        return rc;
    rc = idx_neardup_clusters(s, threshold, &c, err);
    if (rc == FMT_OK) {
        out->near_clusters = c.nclusters;
        out->near_articles = c.nmembers;
        out->near_threshold = threshold;
    }
    idx_nd_clusters_release(&c);
    fmt_snapshot_close(s);
    return rc;
}
