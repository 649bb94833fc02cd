/* output.h - how newsq prints hits: text blocks, JSON Lines, bare ids, TSV, and the
 * --explain breakdown. Each function appends to a buffer; newsq writes it out (library
 * code never prints). */
#ifndef Q_OUTPUT_H
#define Q_OUTPUT_H

#include <stddef.h>

#include "article.h"
#include "buf.h"
#include "iter.h"

enum q_out_format { Q_OUT_TEXT, Q_OUT_JSON, Q_OUT_IDS, Q_OUT_TSV };

/* One hit to print. Everything is borrowed for the call. */
struct q_out_hit {
    size_t rank;                     /* 1-based, offset included */
    double score;                    /* the ranking score: BM25F times decay */
    double decay;                    /* --recency factor (1 when off) */
    const struct fmt_article *a;     /* stored fields */
    const char *title;               /* text: the title with highlights, or NULL: a->title */
    size_t title_len;
    const char *snippet;             /* text: may hold highlight escapes; JSON: plain */
    size_t snippet_len;
    const char *const *matches;      /* distinct labels of the query terms found in it */
    size_t nmatches;
    const struct q_explain_term *ex; /* --explain: each term leaf's share; NULL: none */
    size_t nex;
};

/* Text block:
 *     1. 7.4213  2025-02-12  The Hill
 *        Hegseth rules out NATO membership for Ukraine in peace deal with Russia
 *        id: samples/hegseth.txt
 *        …snippet with the matches highlighted…
 * followed by the explain lines when h->ex is set (each term's idf, tf and length per
 * field, norm, tf~, contribution and its share of the score in percent; with --recency
 * the contributions are scaled by the decay factor so they still add up to the score),
 * then an empty line. Control
 * characters of stored fields are printed as spaces (no escape injection). */
int q_output_text(struct fmt_buf *b, const struct q_out_hit *h);

/* One JSON object and "\n": rank, id, score, title, source, timestamp (ISO 8601 or
 * null), url, snippet, matches, and "explain" when h->ex is set. */
int q_output_json(struct fmt_buf *b, const struct q_out_hit *h);

/* The id and "\n". */
int q_output_ids(struct fmt_buf *b, const struct q_out_hit *h);

/* rank, score, timestamp (or empty), source, title, id, url separated by tabs, "\n";
 * tabs and newlines inside fields become spaces. */
int q_output_tsv(struct fmt_buf *b, const struct q_out_hit *h);

/* Dispatch on FMT. */
int q_output_hit(struct fmt_buf *b, enum q_out_format fmt, const struct q_out_hit *h);

#endif
