/* same_segment.h - a test helper (include after cmocka.h): two segment files hold the same
 * index, byte for byte up to the doc store (postings, positions, dictionary, columns,
 * sources) and stored article by stored article after it, whose blocks may be cut
 * differently (a merge copies whole live doc-store blocks of its inputs as they are). */
#ifndef NEWSIDX_TEST_SAME_SEGMENT_H
#define NEWSIDX_TEST_SAME_SEGMENT_H

#include <string.h>

#include "article.h"
#include "buf.h"
#include "codec.h"
#include "io.h"
#include "segformat.h"
#include "segment.h"

/* Offset of the doc store in the segment file held in F. */
static inline uint64_t same_segment_docstore(const struct fmt_buf *f)
{
    assert_true(f->len > FMT_SEG_FOOTER);
    return fmt_get_u64le(f->p + f->len - FMT_SEG_FOOTER + SEC_DOCSTORE * 16);
}

static inline void assert_same_segment(const char *path_a, const char *path_b)
{
    struct fmt_buf a, b, sa, sb;
    struct fmt_seg *ma, *mb;
    struct fmt_err err;

    fmt_buf_init(&a);
    fmt_buf_init(&b);
    assert_int_equal(fmt_io_read_file(path_a, &a, &err), FMT_OK);
    assert_int_equal(fmt_io_read_file(path_b, &b, &err), FMT_OK);
    assert_int_equal(same_segment_docstore(&a), same_segment_docstore(&b));
    assert_memory_equal(a.p, b.p, same_segment_docstore(&a));
    fmt_buf_release(&a);
    fmt_buf_release(&b);
    assert_int_equal(fmt_seg_open(&ma, path_a, &err), FMT_OK);
    assert_int_equal(fmt_seg_open(&mb, path_b, &err), FMT_OK);
    assert_int_equal(fmt_seg_stats(ma)->ndocs, fmt_seg_stats(mb)->ndocs);
    fmt_buf_init(&sa);
    fmt_buf_init(&sb);
    for (uint32_t d = 0; d < fmt_seg_stats(ma)->ndocs; d++) {
        struct fmt_article x, y;
        assert_int_equal(fmt_seg_doc(ma, d, &sa, &x, &err), FMT_OK);
        assert_int_equal(fmt_seg_doc(mb, d, &sb, &y, &err), FMT_OK);
        assert_string_equal(x.id, y.id);
        assert_string_equal(x.title, y.title);
        assert_string_equal(x.source, y.source);
        assert_string_equal(x.url, y.url);
        assert_string_equal(x.body, y.body);
        assert_true(x.timestamp == y.timestamp);
        fmt_article_release(&x);
        fmt_article_release(&y);
    }
    fmt_buf_release(&sa);
    fmt_buf_release(&sb);
    fmt_seg_close(ma);
    fmt_seg_close(mb);
}

#endif
