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

double q_bm25_norm(const struct q_bm25 *bm, unsigned f, uint32_t len)
{
    if (bm->avglen[f] <= 0.0)
        return 1.0;
    return 1.0 - bm->p.b + bm->p.b * (double)len / bm->avglen[f];
}

double q_bm25_tfn(const struct q_bm25 *bm, unsigned fields, const uint32_t tf[2],
                  const uint32_t len[2])
{
    double t = 0.0;
    for (unsigned f = 0; f < 2; f++)
        if ((fields >> f & 1u) && tf[f] > 0)
            t += bm->p.w[f] * (double)tf[f] / q_bm25_norm(bm, f, len[f]);
    return t;
}

double q_bm25_contrib(const struct q_bm25 *bm, double idf, double tfn)
{
    if (tfn <= 0.0)
        return 0.0;
    return idf * tfn / (bm->p.k1 + tfn);
}
