/* bm25.c - the BM25F formula (see bm25.h; Robertson & Zaragoza, "The Probabilistic
 * Relevance Framework: BM25 and Beyond", 2009, section 3.4, with per-field b). */
#include "bm25.h"

#include <math.h>

void q_bm25_params_default(struct q_bm25_params *p)
{
    p->k1 = 1.2;
    p->b = 0.75;
    p->w[0] = 2.0;
    p->w[1] = 1.0;
}

void q_bm25_init(struct q_bm25 *bm, const struct q_bm25_params *p, double avg_title,
                 double avg_body)
{
    bm->p = *p;
    bm->avglen[0] = avg_title;
    bm->avglen[1] = avg_body;
}

double q_bm25_idf(uint64_t ndocs, uint64_t df)
{
    double n = (double)df;
    double big = (double)ndocs;
    if (big < n)
        big = n; /* df still counts deleted docs: keep N - n >= 0 */
    return log(1.0 + (big - n + 0.5) / (n + 0.5));
}
