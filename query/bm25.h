/* bm25.h - BM25F scoring over the title and body fields (docs/DESIGN.md "Queries").
 *
 * For a query term t and a document d:
 *   tf~(t,d) = sum over searched fields f of w_f * tf(t,f) / (1 - b + b * len_f / avglen_f)
 *   score   += idf(t) * tf~ / (k1 + tf~)
 *   idf(t)   = ln(1 + (N - n + 0.5) / (n + 0.5))
 * with N the live articles and n the global document frequency of t. The statistics are
 * global (format/snapshot.h), so a score does not depend on how the index is split. */
#ifndef Q_BM25_H
#define Q_BM25_H

#include <stdint.h>

/* Ranking parameters. */
struct q_bm25_params {
    double k1;   /* tf saturation, 1.2 */
    double b;    /* length normalization strength, 0.75 */
    double w[2]; /* field weights: [0] title (2.0), [1] body (1.0) */
};

/* Everything a scorer needs that is the same for all documents of one query. */
struct q_bm25 {
    struct q_bm25_params p;
    double avglen[2]; /* mean title and body length over live articles (0: no such text) */
};

/* Defaults: k1 1.2, b 0.75, title weight 2, body weight 1. */
void q_bm25_params_default(struct q_bm25_params *p);

/* Fill BM with P and the global mean field lengths AVG_TITLE, AVG_BODY. */
void q_bm25_init(struct q_bm25 *bm, const struct q_bm25_params *p, double avg_title,
                 double avg_body);

/* idf = ln(1 + (N - n + 0.5) / (n + 0.5)). N < n (df counts deleted docs until a merge)
 * is clamped so that the idf stays positive. */
double q_bm25_idf(uint64_t ndocs, uint64_t df);

/* The three below are inline: they run for every candidate doc. */

/* Length normalization of field F (0 title, 1 body) for a field LEN tokens long:
 * 1 - b + b * len / avglen_f (1 when avglen_f is 0). */
static inline double q_bm25_norm(const struct q_bm25 *bm, unsigned f, uint32_t len)
{
    if (bm->avglen[f] <= 0.0)
        return 1.0;
    return 1.0 - bm->p.b + bm->p.b * (double)len / bm->avglen[f];
}

/* tf~ of a term with frequencies TF[2] in fields of lengths LEN[2]. FIELDS is a bit mask
 * of the searched fields (bit 0 title, bit 1 body); the others count 0. */
static inline double q_bm25_tfn(const struct q_bm25 *bm, unsigned fields,
                                const uint32_t tf[2], const uint32_t len[2])
{
    double t = 0.0;
    for (unsigned f = 0; f < 2; f++)
        if ((fields >> f & 1u) && tf[f] > 0)
            t += bm->p.w[f] * (double)tf[f] / q_bm25_norm(bm, f, len[f]);
    return t;
}

/* One term's contribution: idf * tfn / (k1 + tfn); 0 when tfn is 0. */
static inline double q_bm25_contrib(const struct q_bm25 *bm, double idf, double tfn)
{
    if (tfn <= 0.0)
        return 0.0;
    return idf * tfn / (bm->p.k1 + tfn);
}

#endif
