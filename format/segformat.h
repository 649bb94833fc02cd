/* segformat.h - constants of the segment file layout shared by segment_write.c (which
 * documents the layout at its top) and segment_read.c. Internal to format/. */
#ifndef FMT_SEGFORMAT_H
#define FMT_SEGFORMAT_H

#include <stdint.h>

#define FMT_SEG_MAGIC 0x31474553584e5745ull /* "EWNXSEG1" little-endian: bytes "EWNXSEG1" */
#define FMT_SEG_VERSION 4 /* 2: one-block lists have no skip entry; 3: Rice positions;
                            4: patched bit-packing, small blocks as varints, no skip_len
                            for one-block lists */
#define FMT_SEG_HEADER 16        /* u64 magic, u32 version, u32 zero */
#define FMT_SEG_SMALL_BLOCK 2     /* blocks of this many docs or fewer are varints */
#define FMT_SEG_DICT_BLOCK 32    /* terms per front-coded dictionary block */
#define FMT_SEG_DOC_BLOCK 8192   /* raw bytes per doc-store block (about): small, because a
                                    query hit inflates its whole block */

enum seg_section {
    SEC_POSTINGS,
    SEC_POSITIONS,
    SEC_DICT,
    SEC_DICTIDX,
    SEC_COLUMNS,
    SEC_SOURCES,
    SEC_DOCSTORE,
    SEC_DOCIDX,
    SEC_COUNT
};

/* Footer: SEC_COUNT x (u64 off, u64 len), u32 ndocs, u32 nterms, u32 nsources,
 * u32 ndocblocks, u64 title_len_sum, u64 body_len_sum, u32 body_crc, u32 version,
 * u64 magic, u32 footer_crc. */
#define FMT_SEG_FOOTER (SEC_COUNT * 16 + 4 * 4 + 8 * 2 + 4 + 4 + 8 + 4)

/* Doc-store block index entry: u32 first_doc, u32 raw_len, u64 offset. */
#define FMT_SEG_DOCIDX_ENTRY 16

static inline unsigned fmt_ns_fields(uint8_t ns)
{
    return ns == 'T' ? 2 : 1;
}

static inline int fmt_ns_has_positions(uint8_t ns)
{
    return ns == 'T' || ns == 'U';
}

#endif
