/* check.h - `newsidx check`: verify everything an index is made of and report every
 * problem found (not only the first), each naming the file. */
#ifndef IDX_CHECK_H
#define IDX_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Called once per problem; MSG (borrowed for the call) names the file, e.g.
 * "idx/seg-000003.nxs: checksum mismatch (bytes 0 to 81234)". */
typedef void (*idx_check_fn)(void *ctx, const char *msg);

struct idx_check_summary {
    size_t segments;   /* segments the manifest names */
    uint64_t articles; /* live articles by the manifest's counts */
    size_t problems;   /* problems reported */
};

/* Check DIR: the MANIFEST (checksum, syntax, version, duplicate or out-of-range segment
 * ids), every segment it names (present, footer, whole-file CRC, structure, doc count
 * matching the manifest) and every deletion bitmap (present, size, CRC, deleted count
 * matching the manifest). When the manifest itself is unreadable, every seg-*.nxs file in
 * DIR is still verified. Returns FMT_OK when clean, FMT_ECORRUPT when FN was called at
 * least once, FMT_ENOTFOUND when DIR holds no index, FMT_ENOMEM. Never writes. */
int idx_check(const char *dir, idx_check_fn fn, void *ctx, struct idx_check_summary *sum,
              struct fmt_err *err);

#endif
