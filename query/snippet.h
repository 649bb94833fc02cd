/* snippet.h - a short excerpt of an article body around the query's matches.
 *
 * The body is analyzed with the index's analyzer; a token matches when its term equals a
 * query term (or starts with a query prefix). The excerpt is the window of about WIDTH
 * bytes holding the most matched tokens (the earliest such window on ties), cut at word
 * boundaries with "…" at each cut end, white space runs collapsed to one space, control
 * characters replaced by spaces, and each match wrapped in HL_ON/HL_OFF. A body without a
 * match gives its first WIDTH bytes. */
#ifndef Q_SNIPPET_H
#define Q_SNIPPET_H

#include <stddef.h>

#include "analyzer.h"
#include "buf.h"
#include "err.h"

/* One query term to highlight. */
struct q_snip_term {
    const char *term; /* analyzed (folded, stemmed) term, borrowed */
    size_t len;
    int prefix;       /* 1: matches every token whose term starts with TERM */
};

struct q_snip_opts {
    size_t width;       /* target excerpt size in bytes (160) */
    const char *hl_on;  /* inserted before a match ("" or "\033[1m"); borrowed */
    const char *hl_off; /* inserted after a match ("" or "\033[0m"); borrowed */
};

/* Default options: width 160, no highlighting. */
void q_snip_opts_default(struct q_snip_opts *o);

/* Append the excerpt of TEXT[0..len) for the NTERMS TERMS to OUT. AN is the analyzer the
 * index was built with (its scratch state is used, hence not const). FMT_OK or
 * FMT_ENOMEM. */
int q_snippet(struct fmt_analyzer *an, const char *text, size_t len,
              const struct q_snip_term *terms, size_t nterms, const struct q_snip_opts *o,
              struct fmt_buf *out, struct fmt_err *err);

#endif
