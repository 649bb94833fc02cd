/* group.h - hits grouped by a name: --per-source (collapse: at most N hits of one source
 * in the ranked list) and --facets (counts of matches per source and per month).
 *
 * Both key on the source name as stored in the segment's source column, so they read no
 * stored document. Names are interned in a small open-addressing table; a match costs a
 * hash of its source name and no allocation once its name is known. */
#ifndef Q_GROUP_H
#define Q_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "topk.h"

/* Interned names: each distinct byte string gets the next index 0, 1, 2, ... */
struct q_names {
    struct fmt_buf bytes;  /* the names, back to back */
    size_t *off;           /* off[i], len[i]: name i within bytes */
    size_t *len;
    uint32_t *slots;       /* hash table of index + 1, 0 empty; cap slots (power of 2) */
    size_t n, cap, slots_cap;
};

void q_names_init(struct q_names *t);
void q_names_release(struct q_names *t);
/* Index of NAME[0..len), added when new. FMT_OK or FMT_ENOMEM. */
int q_names_intern(struct q_names *t, const char *name, size_t len, uint32_t *idx,
                   struct fmt_err *err);
/* Name I (borrowed until the next intern), not NUL-terminated. */
const char *q_names_get(const struct q_names *t, uint32_t i, size_t *len);

/* --per-source: the best hits in SORT order such that no source keeps more than PER
 * hits. Exact: each source keeps its own top PER, and the union is merged at the end. */
struct q_collapse {
    struct q_names names;
    struct q_topk *heaps; /* one per name, capacity per */
    size_t nheaps;
    size_t per;
    enum q_sort sort;
    struct q_hit *merged; /* q_collapse_finish's result, owned */
};

int q_collapse_init(struct q_collapse *c, size_t per, enum q_sort sort, struct fmt_err *err);
void q_collapse_release(struct q_collapse *c);
/* Offer hit H of source SOURCE[0..len). FMT_OK or FMT_ENOMEM. */
int q_collapse_push(struct q_collapse *c, const char *source, size_t len, const struct q_hit *h,
                    struct fmt_err *err);
/* The kept hits, best first, at most K of them (*n). Borrowed from C. FMT_OK or
 * FMT_ENOMEM. */
int q_collapse_finish(struct q_collapse *c, size_t k, const struct q_hit **hits, size_t *n,
                      struct fmt_err *err);

/* --facets: counts of matching articles per source name and per month (YYYY-MM, UTC;
 * "undated" for articles without a timestamp). */
enum { Q_FACET_SOURCE = 1, Q_FACET_MONTH = 2 };

struct q_facets {
    unsigned which;          /* Q_FACET_* bits */
    struct q_names sources;
    struct q_names months;
    struct fmt_buf scount;   /* uint64_t per source name */
    struct fmt_buf mcount;   /* uint64_t per month name */
};

void q_facets_init(struct q_facets *f, unsigned which);
void q_facets_release(struct q_facets *f);
/* Parse a --facets list such as "source,month" into Q_FACET_* bits. FMT_OK or FMT_EINVAL
 * naming the unknown facet. */
int q_facets_parse(const char *list, unsigned *which, struct fmt_err *err);
/* Count one matching article. FMT_OK or FMT_ENOMEM. */
int q_facets_add(struct q_facets *f, const char *source, size_t len, int64_t ts,
                 struct fmt_err *err);
/* Text: a "source:" block of "  COUNT  NAME" lines by count descending (then name), a
 * "month:" block by month ascending. JSON (one line): {"facets":{"source":{NAME:COUNT,
 * ...},"month":{...}}}. Appended to OUT. FMT_OK or FMT_ENOMEM. */
int q_facets_format(const struct q_facets *f, int json, struct fmt_buf *out);

#endif
