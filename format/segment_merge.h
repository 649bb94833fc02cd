/* segment_merge.h - the segment merger: writes one segment file holding the live docs of
 * several segments, by a streaming k-way merge of their dictionaries, posting lists,
 * columns and doc stores (no text is analyzed again). The algorithm and its memory bounds
 * are described at the top of segment_merge.c; the file layout at the top of
 * segment_write.c. */
#ifndef FMT_SEGMENT_MERGE_H
#define FMT_SEGMENT_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "segment.h"

/* One input: an open segment and its deletion bitmap (bit d of byte d / 8, LSB first, set
 * when doc d is deleted; ceil(ndocs / 8) bytes), NULL when nothing is deleted. Both
 * borrowed for the duration of fmt_seg_merge. */
struct fmt_seg_merge_input {
    const struct fmt_seg *seg;
    const uint8_t *deleted;
};

#define FMT_SEG_MERGE_SPILL ((size_t)8 << 20) /* default of fmt_seg_merge_opts.spill_bytes */

struct fmt_seg_merge_opts {
    size_t spill_bytes; /* one term's encoded blocks, the positions section and the
                         * dictionary are held in memory up to this many bytes each, then
                         * moved to temporary files PATH.post.tmp, PATH.pos.tmp and
                         * PATH.dict.tmp (removed before fmt_seg_merge returns); 0 means
                         * FMT_SEG_MERGE_SPILL */
    unsigned threads;   /* 2: a helper thread encodes postings while the caller's merges
                         * them, and compresses the doc store while the caller's re-packs
                         * it, and the inputs' checksums are checked on a thread beside the
                         * doc-store copy; 1: the caller's thread only; 0: 2 on a machine
                         * with 2+ CPUs, else 1. The file written is the same either way. */
};

/* Write to PATH (created exclusively, fsynced, closed; every write through format/io) the
 * segment holding the live docs of IN[0..n) in order: input i's live docs, renumbered
 * densely, follow input i - 1's. The file is the one fmt_seg_builder_write would write
 * for the same articles added in that order with the same content hashes and near-dup
 * keys. When no doc is live nothing is written and *NDOCS = 0; otherwise *NDOCS receives
 * the docs written. OPTS may be NULL (defaults). On failure no file is left behind (PATH
 * and the temporaries are removed). FMT_OK, FMT_EIO (message names the file), FMT_ENOMEM,
 * FMT_ECORRUPT (an input is damaged; message names it and the byte), FMT_EINVAL (more
 * than UINT32_MAX - 1 live docs). */
int fmt_seg_merge(const struct fmt_seg_merge_input *in, size_t n, const char *path,
                  const struct fmt_seg_merge_opts *opts, uint32_t *ndocs, struct fmt_err *err);

#endif
