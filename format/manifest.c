/* manifest.c - read and commit the MANIFEST; deletion bitmap files.
 *
 * MANIFEST is UTF-8 text, one record a line, so that a person can read it:
 *
 *   newsidx-manifest 1
 *   generation 7
 *   analyzer english 1                  language, diacritic folding
 *   next-segment 5
 *   last-commit 1764300000
 *   last-rebuild 0
 *   duplicates 3
 *   segment 3 1000 2 6                  id, docs, deleted docs, deletion-bitmap generation
 *   segment 4 50 0 0
 *   crc 1a2b3c4d                        CRC32 of every byte before this line, hex
 *
 * A commit writes MANIFEST.tmp, fsyncs it, renames it over MANIFEST and fsyncs the
 * directory, so a reader sees the old or the new manifest, never a mix.
 *
 * Deletion bitmap seg-<id>.del-<generation>: ceil(ndocs / 8) bytes, bit (d % 8) of byte
 * d / 8 set when doc d is deleted, then u32 CRC32 of those bytes. A new generation's
 * deletions go to a new file; the old one is removed once the manifest no longer names it.
 */
#include "manifest.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "codec.h"
#include "io.h"

void fmt_manifest_init(struct fmt_manifest *m)
{
    memset(m, 0, sizeof(*m));
    fmt_analyzer_cfg_default(&m->analyzer);
}

void fmt_manifest_release(struct fmt_manifest *m)
{
    free(m->segs);
    m->segs = NULL;
    m->nsegs = 0;
}

int fmt_manifest_add_seg(struct fmt_manifest *m, const struct fmt_manifest_seg *s)
{
    struct fmt_manifest_seg *segs = realloc(m->segs, (m->nsegs + 1) * sizeof(*segs));

    if (!segs)
        return FMT_ENOMEM;
    m->segs = segs;
    m->segs[m->nsegs++] = *s;
    return FMT_OK;
}

void fmt_seg_filename(const char *dir, uint32_t id, char *out, size_t cap)
{
    snprintf(out, cap, "%s/seg-%06" PRIu32 ".nxs", dir, id);
}

void fmt_del_filename(const char *dir, uint32_t id, uint64_t gen, char *out, size_t cap)
{
    snprintf(out, cap, "%s/seg-%06" PRIu32 ".del-%" PRIu64, dir, id, gen);
}

int fmt_manifest_write(const char *dir, const struct fmt_manifest *m, struct fmt_err *err)
{
    struct fmt_buf b;
    char tmp[4096], path[4096];
    int rc = FMT_OK;

    fmt_buf_init(&b);
    rc |= fmt_buf_printf(&b, "newsidx-manifest %d\ngeneration %" PRIu64 "\n",
                         FMT_MANIFEST_VERSION, m->generation);
    rc |= fmt_buf_printf(&b, "analyzer %s %d\nnext-segment %" PRIu32 "\n", m->analyzer.language,
                         m->analyzer.fold_diacritics, m->next_seg);
    rc |= fmt_buf_printf(&b, "last-commit %" PRId64 "\nlast-rebuild %" PRId64 "\n",
                         m->last_commit, m->last_rebuild);
    rc |= fmt_buf_printf(&b, "duplicates %" PRIu64 "\n", m->dups_skipped);
    for (size_t i = 0; i < m->nsegs; i++)
        rc |= fmt_buf_printf(&b, "segment %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu64 "\n",
                             m->segs[i].id, m->segs[i].ndocs, m->segs[i].ndeleted,
                             m->segs[i].del_gen);
    rc |= fmt_buf_printf(&b, "crc %08" PRIx32 "\n", fmt_crc32(0, b.p, b.len));
    if (rc != FMT_OK) {
        fmt_buf_release(&b);
        return fmt_errorf(err, FMT_ENOMEM, "%s/MANIFEST: out of memory", dir);
    }
    snprintf(tmp, sizeof(tmp), "%s/MANIFEST.tmp", dir);
    snprintf(path, sizeof(path), "%s/MANIFEST", dir);
    remove(tmp);
    rc = fmt_io_write_file(tmp, b.p, b.len, err);
    fmt_buf_release(&b);
    if (rc == FMT_OK)
        rc = fmt_io_rename(tmp, path, err);
    if (rc == FMT_OK)
        rc = fmt_io_sync_dir(dir, err);
    if (rc != FMT_OK)
        remove(tmp);
    return rc;
}

/* Parse one line (NUL-terminated, no newline) into M. */
static int parse_line(const char *path, size_t lineno, char *line, struct fmt_manifest *m,
                      struct fmt_err *err)
{
    char word[32], lang[32];
    unsigned long long a, b, c, d;
    long long t;
    int fold, n = 0;

    if (sscanf(line, "%31s%n", word, &n) != 1)
        return fmt_errorf(err, FMT_ECORRUPT, "%s:%zu: empty line", path, lineno);
#define BAD() fmt_errorf(err, FMT_ECORRUPT, "%s:%zu: bad %s line", path, lineno, word)
    if (!strcmp(word, "newsidx-manifest")) {
        if (sscanf(line + n, "%llu", &a) != 1)
            return BAD();
        if (a != FMT_MANIFEST_VERSION)
            return fmt_errorf(err, FMT_EVERSION, "%s: manifest version %llu, expected %d", path,
                              a, FMT_MANIFEST_VERSION);
    } else if (!strcmp(word, "generation")) {
        if (sscanf(line + n, "%llu", &a) != 1)
            return BAD();
        m->generation = a;
    } else if (!strcmp(word, "analyzer")) {
        if (sscanf(line + n, "%31s %d", lang, &fold) != 2)
            return BAD();
        snprintf(m->analyzer.language, sizeof(m->analyzer.language), "%s", lang);
        m->analyzer.fold_diacritics = fold;
    } else if (!strcmp(word, "next-segment")) {
        if (sscanf(line + n, "%llu", &a) != 1 || a > UINT32_MAX)
            return BAD();
        m->next_seg = (uint32_t)a;
    } else if (!strcmp(word, "last-commit") || !strcmp(word, "last-rebuild")) {
        if (sscanf(line + n, "%lld", &t) != 1)
            return BAD();
        *(word[5] == 'c' ? &m->last_commit : &m->last_rebuild) = t;
    } else if (!strcmp(word, "duplicates")) {
        if (sscanf(line + n, "%llu", &a) != 1)
            return BAD();
        m->dups_skipped = a;
    } else if (!strcmp(word, "segment")) {
        struct fmt_manifest_seg s;
        if (sscanf(line + n, "%llu %llu %llu %llu", &a, &b, &c, &d) != 4 || a > UINT32_MAX ||
            b > UINT32_MAX || c > b)
            return BAD();
        s.id = (uint32_t)a;
        s.ndocs = (uint32_t)b;
        s.ndeleted = (uint32_t)c;
        s.del_gen = d;
        if (fmt_manifest_add_seg(m, &s) != FMT_OK)
            return fmt_errorf(err, FMT_ENOMEM, "%s: out of memory", path);
    } else {
        return fmt_errorf(err, FMT_ECORRUPT, "%s:%zu: unknown record \"%s\"", path, lineno, word);
    }
#undef BAD
    return FMT_OK;
}

int fmt_manifest_read(const char *dir, struct fmt_manifest *m, struct fmt_err *err)
{
    char path[4096];
    struct fmt_buf b;
    size_t start = 0, lineno = 0, crc_at;
    int rc;

    fmt_manifest_init(m);
    snprintf(path, sizeof(path), "%s/MANIFEST", dir);
    fmt_buf_init(&b);
    rc = fmt_io_read_file(path, &b, err);
    if (rc == FMT_OK && fmt_buf_terminate(&b) != FMT_OK)
        rc = fmt_errorf(err, FMT_ENOMEM, "%s: out of memory", path);
    if (rc != FMT_OK)
        goto out;
    /* the last line is "crc XXXXXXXX" over everything before it */
    crc_at = b.len;
    while (crc_at > 0 && b.p[crc_at - 1] == '\n')
        crc_at--;
    while (crc_at > 0 && b.p[crc_at - 1] != '\n')
        crc_at--;
    {
        /* exactly "crc " + 8 lowercase hex digits + "\n" ends the file: any flipped or
         * missing byte after the checksummed part is damage too */
        static const char hex[] = "0123456789abcdef";
        unsigned long crc;
        int shape = b.len - crc_at == 13 && !memcmp(b.p + crc_at, "crc ", 4) &&
                    b.p[b.len - 1] == '\n';
        for (size_t k = crc_at + 4; shape && k < crc_at + 12; k++)
            shape = b.p[k] && strchr(hex, b.p[k]) != NULL;
        if (!shape || sscanf((char *)b.p + crc_at, "crc %8lx", &crc) != 1 ||
            crc != fmt_crc32(0, b.p, crc_at)) {
            rc = fmt_errorf(err, FMT_ECORRUPT, "%s: checksum mismatch", path);
            goto out;
        }
    }
    while (start < crc_at && rc == FMT_OK) {
        char *nl = memchr(b.p + start, '\n', crc_at - start);
        if (!nl)
            break;
        *nl = 0;
        lineno++;
        if (lineno == 1 && strncmp((char *)b.p + start, "newsidx-manifest ", 17))
            rc = fmt_errorf(err, FMT_ECORRUPT, "%s:1: not a newsidx manifest", path);
        else
            rc = parse_line(path, lineno, (char *)b.p + start, m, err);
        start = (size_t)((uint8_t *)nl - b.p) + 1;
    }
    if (rc == FMT_OK && lineno == 0)
        rc = fmt_errorf(err, FMT_ECORRUPT, "%s: empty manifest", path);
out:
    fmt_buf_release(&b);
    if (rc != FMT_OK)
        fmt_manifest_release(m);
    return rc;
}

int fmt_delmap_write(const char *path, const uint8_t *bits, uint32_t ndocs, struct fmt_err *err)
{
    size_t n = ((size_t)ndocs + 7) / 8;
    uint8_t crc[4];
    struct fmt_file f;
    int rc = fmt_file_create(&f, path, err);

    if (rc != FMT_OK)
        return rc;
    fmt_file_append(&f, bits, n);
    fmt_put_u32le(crc, fmt_crc32(0, bits, n));
    fmt_file_append(&f, crc, 4);
    return fmt_file_commit(&f, err);
}

int fmt_delmap_read(const char *path, uint32_t ndocs, uint8_t **bits, struct fmt_err *err)
{
    size_t n = ((size_t)ndocs + 7) / 8;
    struct fmt_buf b;
    int rc;

    *bits = NULL;
    fmt_buf_init(&b);
    rc = fmt_io_read_file(path, &b, err);
    if (rc == FMT_ENOTFOUND)
        rc = fmt_errorf(err, FMT_ECORRUPT, "%s: deletion bitmap missing", path);
    if (rc == FMT_OK && (b.len != n + 4 || fmt_get_u32le(b.p + n) != fmt_crc32(0, b.p, n)))
        rc = fmt_errorf(err, FMT_ECORRUPT, "%s: bad deletion bitmap", path);
    if (rc != FMT_OK) {
        fmt_buf_release(&b);
        return rc;
    }
    *bits = fmt_buf_steal(&b);
    return FMT_OK;
}
