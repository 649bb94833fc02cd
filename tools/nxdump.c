/* nxdump.c - print the structures of an index: per segment the section sizes, counts and
 * the compression figures (bytes per posting, bytes per position), and on request one
 * term's dictionary entry with the hex bytes of its postings and positions.
 *
 *   nxdump INDEXDIR|SEGFILE...                 sizes of every live segment, then totals
 *   nxdump --term NS:TERM INDEXDIR|SEGFILE...  also the entry of TERM in namespace NS
 *                                               (T text, U url, I id, S source, H hash)
 *
 * A directory is read through its MANIFEST (live segments in order). Exit status 0, 2 on
 * bad usage, 3 when a file is damaged or unreadable.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "manifest.h"
#include "segment.h"

struct totals {
    struct fmt_seg_sizes s;
    uint64_t ndocs;
    size_t nsegs;
};

static void hex(const char *label, const uint8_t *p, uint64_t n)
{
    printf("  %s (%" PRIu64 " bytes):", label, n);
    for (uint64_t i = 0; i < n && i < 256; i++)
        printf(" %02x", p[i]);
    printf(n > 256 ? " ...\n" : "\n");
}

static void print_sizes(const struct fmt_seg_sizes *s, uint64_t ndocs)
{
    for (unsigned i = 0; i < FMT_SEG_SECTIONS; i++)
        printf("  %-10s %12" PRIu64 " bytes  %5.1f%%\n", fmt_seg_section_name(i), s->section[i],
               s->file ? 100.0 * (double)s->section[i] / (double)s->file : 0.0);
    printf("  %-10s %12" PRIu64 " bytes\n", "file", s->file);
    printf("  docs %" PRIu64 ", terms %" PRIu64 ", postings %" PRIu64 " (text %" PRIu64
           "), positions %" PRIu64 "\n",
           ndocs, s->terms, s->postings, s->text_postings, s->positions);
    printf("  postings section: %.3f bytes/posting (skip tables %" PRIu64 " bytes)\n",
           s->postings ? (double)s->section[0] / (double)s->postings : 0.0, s->skip_bytes);
    printf("  positions section: %.3f bytes/position\n",
           s->positions ? (double)s->section[1] / (double)s->positions : 0.0);
}

/* Print the dictionary entry, postings bytes and positions bytes of NS:TERM in SEG. */
static int dump_term(const struct fmt_seg *seg, const char *spec)
{
    struct fmt_term_info ti;
    struct fmt_err err;
    int rc;

    rc = fmt_seg_lookup(seg, (uint8_t)spec[0], spec + 2, strlen(spec + 2), &ti, &err);
    if (rc == FMT_ENOTFOUND) {
        printf("  term %s: not in this segment\n", spec);
        return FMT_OK;
    }
    if (rc != FMT_OK) {
        fprintf(stderr, "nxdump: %s\n", err.msg);
        return rc;
    }
    printf("  term %s: df %u, df_title %u, postings at %" PRIu64 " (%" PRIu64
           " bytes), positions at %" PRIu64 " (%" PRIu64 " bytes)\n",
           spec, ti.df, ti.df_title, ti.post_off, ti.post_len, ti.pos_off, ti.pos_len);
    {
        const uint8_t *post, *pos;
        fmt_seg_term_bytes(seg, &ti, &post, &pos);
        hex("postings", post, ti.post_len);
        if (ti.pos_len)
            hex("positions", pos, ti.pos_len);
    }
    {
        struct fmt_postings p;
        rc = fmt_postings_open(&p, seg, &ti, &err);
        while (rc == FMT_OK && (rc = fmt_postings_next(&p, &err)) == FMT_OK &&
               p.doc != FMT_DOC_END) {
            printf("    doc %u tf %u/%u", p.doc, fmt_postings_tf(&p, FMT_FIELD_TITLE),
                   fmt_postings_tf(&p, FMT_FIELD_BODY));
            for (int f = 0; f < 2 && rc == FMT_OK && ti.pos_len; f++) {
                const uint32_t *v;
                size_t n;
                rc = fmt_postings_positions(&p, (enum fmt_field)f, &v, &n, &err);
                printf(" %s[", f ? "body" : "title");
                for (size_t k = 0; rc == FMT_OK && k < n && k < 16; k++)
                    printf(k ? " %u" : "%u", v[k]);
                printf(n > 16 ? " ...]" : "]");
            }
            printf("\n");
        }
        fmt_postings_release(&p);
        if (rc != FMT_OK)
            fprintf(stderr, "nxdump: %s\n", err.msg);
    }
    return rc;
}

static int dump_seg(const char *path, const char *term, struct totals *t)
{
    struct fmt_seg *seg;
    struct fmt_seg_sizes s;
    struct fmt_err err;
    int rc = fmt_seg_open(&seg, path, &err);

    if (rc == FMT_OK)
        rc = fmt_seg_sizes(seg, &s, &err);
    if (rc != FMT_OK) {
        fprintf(stderr, "nxdump: %s\n", err.msg);
        fmt_seg_close(seg);
        return rc;
    }
    printf("%s\n", path);
    print_sizes(&s, fmt_seg_stats(seg)->ndocs);
    if (term)
        rc = dump_term(seg, term);
    for (unsigned i = 0; i < FMT_SEG_SECTIONS; i++)
        t->s.section[i] += s.section[i];
    t->s.file += s.file;
    t->s.terms += s.terms;
    t->s.postings += s.postings;
    t->s.text_postings += s.text_postings;
    t->s.positions += s.positions;
    t->s.skip_bytes += s.skip_bytes;
    t->ndocs += fmt_seg_stats(seg)->ndocs;
    t->nsegs++;
    fmt_seg_close(seg);
    return rc;
}

static int dump_dir(const char *dir, const char *term, struct totals *t)
{
    struct fmt_manifest m;
    struct fmt_err err;
    int rc;

    fmt_manifest_init(&m);
    rc = fmt_manifest_read(dir, &m, &err);
    if (rc != FMT_OK) {
        fprintf(stderr, "nxdump: %s\n", err.msg);
        return rc;
    }
    for (size_t i = 0; i < m.nsegs && rc == FMT_OK; i++) {
        char path[4096];
        fmt_seg_filename(dir, m.segs[i].id, path, sizeof(path));
        rc = dump_seg(path, term, t);
    }
    fmt_manifest_release(&m);
    return rc;
}

int main(int argc, char **argv)
{
    struct totals t;
    const char *term = NULL;
    int i = 1, rc = FMT_OK;

    memset(&t, 0, sizeof(t));
    if (i + 1 < argc && !strcmp(argv[i], "--term")) {
        term = argv[i + 1];
        i += 2;
        if (strlen(term) < 3 || term[1] != ':') {
            fprintf(stderr, "nxdump: --term wants NS:TERM, e.g. T:nato\n");
            return 2;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "usage: nxdump [--term NS:TERM] INDEXDIR|SEGFILE...\n");
        return 2;
    }
    for (; i < argc && rc == FMT_OK; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
            rc = dump_dir(argv[i], term, &t);
        else
            rc = dump_seg(argv[i], term, &t);
    }
    if (rc == FMT_OK && t.nsegs > 1) {
        printf("total (%zu segments)\n", t.nsegs);
        print_sizes(&t.s, t.ndocs);
    }
    return rc == FMT_OK ? 0 : 3;
}
