/* manifest.h - the MANIFEST file that names an index's live segments, their deletion
 * bitmaps and the analyzer settings; plus the deletion bitmap files. Format in manifest.c. */
#ifndef FMT_MANIFEST_H
#define FMT_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer.h"
#include "err.h"

#define FMT_MANIFEST_VERSION 1

struct fmt_manifest_seg {
    uint32_t id;       /* file seg-<id>.nxs */
    uint32_t ndocs;
    uint32_t ndeleted; /* docs marked in the deletion bitmap */
    uint64_t del_gen;  /* generation whose bitmap file holds the deletions; 0 = none */
};

struct fmt_manifest {
    uint64_t generation;        /* +1 on every commit */
    struct fmt_analyzer_cfg analyzer;
    uint32_t next_seg;          /* id of the next segment to write */
    int64_t last_commit;        /* epoch seconds of the last commit, 0 never */
    int64_t last_rebuild;       /* epoch seconds of the last completed rebuild, 0 never */
    uint64_t dups_skipped;      /* duplicates skipped over the index's life */
    struct fmt_manifest_seg *segs; /* owned; oldest first */
    size_t nsegs;
};

void fmt_manifest_init(struct fmt_manifest *m);
void fmt_manifest_release(struct fmt_manifest *m);
/* Append a segment entry. FMT_OK or FMT_ENOMEM. */
int fmt_manifest_add_seg(struct fmt_manifest *m, const struct fmt_manifest_seg *s);
/* Read DIR/MANIFEST. FMT_ENOTFOUND when there is none, FMT_ECORRUPT (bad CRC or syntax,
 * message names the line), FMT_EVERSION, FMT_EIO. */
int fmt_manifest_read(const char *dir, struct fmt_manifest *m, struct fmt_err *err);
/* Commit M: write DIR/MANIFEST.tmp, fsync, rename over DIR/MANIFEST, fsync DIR. */
int fmt_manifest_write(const char *dir, const struct fmt_manifest *m, struct fmt_err *err);

/* "DIR/seg-000012.nxs" and "DIR/seg-000012.del-7" into OUT. */
void fmt_seg_filename(const char *dir, uint32_t id, char *out, size_t cap);
void fmt_del_filename(const char *dir, uint32_t id, uint64_t gen, char *out, size_t cap);

/* Deletion bitmaps: bit d set = doc d deleted. File: ceil(ndocs/8) bytes then u32 CRC32. */
int fmt_delmap_write(const char *path, const uint8_t *bits, uint32_t ndocs, struct fmt_err *err);
/* Read into a new malloc'd array of ceil(ndocs/8) bytes (*bits, caller frees). */
int fmt_delmap_read(const char *path, uint32_t ndocs, uint8_t **bits, struct fmt_err *err);

#endif
