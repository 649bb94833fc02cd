/* check.c - verify an index and report every problem with the file it is in. Read-only:
 * safe to run while a writer commits. A commit publishes a new MANIFEST and then removes
 * the files only the old one named, so a check of the old manifest can find a segment
 * "missing" that was merely replaced. Problems are therefore held back until the pass
 * ends; when there were some and the MANIFEST has changed meanwhile, the pass is run
 * again on the new one (up to CHECK_TRIES times), as format/snapshot.c does for readers. */
#include "check.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "manifest.h"
#include "segment.h"

#define CHECK_TRIES 5

struct checker {
    const char *dir;
    struct idx_check_summary *sum;
    struct fmt_buf problems; /* messages found in this pass, each NUL-terminated */
    int nomem;               /* a message could not be kept */
};

static void problem(struct checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct checker *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    c->sum->problems++;
    if (fmt_buf_append(&c->problems, msg, strlen(msg) + 1) != FMT_OK)
        c->nomem = 1;
}

/* Open and fully verify the segment at PATH; *NDOCS gets its doc count (0 when broken). */
static int check_segment(struct checker *c, const char *path, uint32_t *ndocs)
{
    struct fmt_seg *seg;
    struct fmt_err e = {0, ""};
    struct stat st;
    int rc;

    *ndocs = 0;
    if (stat(path, &st) < 0 && errno == ENOENT) {
        problem(c, "%s: missing (named by %s/MANIFEST)", path, c->dir);
        return FMT_OK;
    }
    rc = fmt_seg_open(&seg, path, &e);
    if (rc == FMT_ENOMEM)
        return rc;
    if (rc != FMT_OK) {
        problem(c, "%s", e.msg);
        return FMT_OK;
    }
    rc = fmt_seg_verify(seg, &e);
    if (rc == FMT_ENOMEM) {
        fmt_seg_close(seg);
        return rc;
    }
    if (rc != FMT_OK)
        problem(c, "%s", e.msg);
    else
        *ndocs = fmt_seg_stats(seg)->ndocs;
    fmt_seg_close(seg);
    return FMT_OK;
}

static uint32_t popcount(const uint8_t *bits, uint32_t ndocs, int *stray)
{
    uint32_t n = 0;

    *stray = 0;
    for (uint32_t d = 0; d < ((ndocs + 7) & ~7u); d++) {
        if (!(bits[d >> 3] & (1u << (d & 7))))
            continue;
        if (d >= ndocs)
            *stray = 1;
        else
            n++;
    }
    return n;
}

static int check_delmap(struct checker *c, const struct fmt_manifest_seg *ms)
{
    char path[4096];
    struct fmt_err e = {0, ""};
    uint8_t *bits;
    uint32_t n;
    int rc, stray;

    if (!ms->del_gen) {
        if (ms->ndeleted)
            problem(c, "%s/MANIFEST: segment %u has %u deleted articles but no bitmap", c->dir,
                    ms->id, ms->ndeleted);
        return FMT_OK;
    }
    fmt_del_filename(c->dir, ms->id, ms->del_gen, path, sizeof(path));
    rc = fmt_delmap_read(path, ms->ndocs, &bits, &e);
    if (rc == FMT_ENOMEM)
        return rc;
    if (rc != FMT_OK) {
        problem(c, "%s", e.msg);
        return FMT_OK;
    }
    n = popcount(bits, ms->ndocs, &stray);
    if (n != ms->ndeleted)
        problem(c, "%s: %u deleted articles, %s/MANIFEST says %u", path, n, c->dir,
                ms->ndeleted);
    if (stray)
        problem(c, "%s: bits set past the segment's %u articles", path, ms->ndocs);
    free(bits);
    return FMT_OK;
}

static int check_manifest_segs(struct checker *c, const struct fmt_manifest *m)
{
    for (size_t i = 0; i < m->nsegs; i++) {
        const struct fmt_manifest_seg *ms = &m->segs[i];
        char path[4096];
        uint32_t ndocs;
        int rc;

        for (size_t j = 0; j < i; j++)
            if (m->segs[j].id == ms->id)
                problem(c, "%s/MANIFEST: segment %u listed twice", c->dir, ms->id);
        if (ms->id >= m->next_seg)
            problem(c, "%s/MANIFEST: segment %u is not below next-segment %u", c->dir, ms->id,
                    m->next_seg);
        if (ms->del_gen > m->generation)
            problem(c, "%s/MANIFEST: segment %u bitmap generation %llu is in the future",
                    c->dir, ms->id, (unsigned long long)ms->del_gen);
        fmt_seg_filename(c->dir, ms->id, path, sizeof(path));
        if ((rc = check_segment(c, path, &ndocs)) != FMT_OK)
            return rc;
        if (ndocs && ndocs != ms->ndocs)
            problem(c, "%s: %u articles, %s/MANIFEST says %u", path, ndocs, c->dir, ms->ndocs);
        if ((rc = check_delmap(c, ms)) != FMT_OK)
            return rc;
        c->sum->articles += ms->ndocs - ms->ndeleted;
    }
    c->sum->segments = m->nsegs;
    return FMT_OK;
}

/* The manifest is unreadable: verify whatever segment files are there. */
static int check_all_segment_files(struct checker *c)
{
    DIR *d = opendir(c->dir);
    struct dirent *e;
    char path[4096];
    int rc = FMT_OK;

    if (!d)
        return FMT_OK;
    while (rc == FMT_OK && (e = readdir(d))) {
        uint32_t ndocs;
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "seg-", 4) || len < 8 || strcmp(e->d_name + len - 4, ".nxs"))
            continue;
        snprintf(path, sizeof(path), "%s/%s", c->dir, e->d_name);
        rc = check_segment(c, path, &ndocs);
    }
    closedir(d);
    return rc;
}

/* One pass over DIR; *GEN gets the generation of the manifest it read (0: unreadable). */
static int check_pass(struct checker *c, uint64_t *gen, struct fmt_err *err)
{
    struct fmt_manifest m;
    struct fmt_err e = {0, ""};
    int rc;

    *gen = 0;
    rc = fmt_manifest_read(c->dir, &m, &e);
    if (rc == FMT_ENOTFOUND)
        return fmt_errorf(err, rc, "no index at %s", c->dir);
    if (rc == FMT_ENOMEM)
        return fmt_errorf(err, rc, "%s", e.msg);
    if (rc != FMT_OK) {
        problem(c, "%s", e.msg);
        rc = check_all_segment_files(c);
    } else {
        *gen = m.generation;
        rc = check_manifest_segs(c, &m);
        fmt_manifest_release(&m);
    }
    if (rc != FMT_OK || c->nomem)
        return fmt_errorf(err, FMT_ENOMEM, "%s: out of memory", c->dir);
    return FMT_OK;
}

/* 1 when DIR's MANIFEST now has another generation than GEN (a commit happened). */
static int manifest_moved(const char *dir, uint64_t gen)
{
    struct fmt_manifest m;
    int moved;

    if (fmt_manifest_read(dir, &m, NULL) != FMT_OK)
        return 0;
    moved = m.generation != gen;
    fmt_manifest_release(&m);
    return moved;
}

int idx_check(const char *dir, idx_check_fn fn, void *ctx, struct idx_check_summary *sum,
              struct fmt_err *err)
{
    struct checker c = {dir, sum, {0}, 0};
    uint64_t gen;
    int rc;

    fmt_buf_init(&c.problems);
    for (int tries = 1;; tries++) {
        memset(sum, 0, sizeof(*sum));
        c.problems.len = 0;
        rc = check_pass(&c, &gen, err);
        if (rc != FMT_OK || !sum->problems || !gen || tries == CHECK_TRIES ||
            !manifest_moved(dir, gen))
            break;
    }
    if (rc == FMT_OK)
        for (size_t off = 0; off < c.problems.len; off += strlen((char *)c.problems.p + off) + 1)
            fn(ctx, (char *)c.problems.p + off);
    fmt_buf_release(&c.problems);
    if (rc != FMT_OK)
        return rc;
    return sum->problems ? FMT_ECORRUPT : FMT_OK;
}
