/* plan.h - turn a parsed query (query/parse.h) into iterator trees over an index snapshot
 * and run it: matching, BM25F scoring into a top-k heap, counting, explaining one hit.
 *
 * Planning happens once per query against the whole snapshot: leaves are analyzed with
 * the index's analyzer (a word that yields several terms becomes a phrase of them, a word
 * that yields none is dropped), prefixes are expanded over every segment's dictionary
 * into one global list of terms, and each term's idf is computed from global statistics.
 * Evaluation then binds the plan to each segment in turn (q_iter trees, see iter.h), so
 * segments are independent and a global doc id is fmt_snapshot_base(i) + local doc.
 *
 * Field semantics: default words search FMT_NS_TEXT (title and body, BM25F); title: and
 * body: use the same posting lists and require tf > 0 in that field (and phrase positions
 * in that field); url: searches FMT_NS_URL; source: matches a whole folded source name in
 * FMT_NS_SOURCE. url: and source: terms filter without scoring. Terms under NOT never
 * score. idf's n is the global df (title-only df for title: terms; body: terms use the
 * any-field df, since the index keeps no body-only df). */
#ifndef Q_PLAN_H
#define Q_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer.h"
#include "bm25.h"
#include "err.h"
#include "iter.h"
#include "parse.h"
#include "snapshot.h"
#include "snippet.h"
#include "topk.h"

#define Q_PLAN_MAX_PREFIX 1000 /* most terms a prefix may expand to */

struct q_plan_opts {
    struct q_bm25_params bm25;
    int64_t since;              /* --since: first second, Q_DATE_MIN when unset */
    int64_t until;              /* --until: last second, Q_DATE_MAX when unset */
    const char *const *sources; /* --source names as typed (borrowed), any of them */
    size_t nsources;
    double half_life;           /* --recency: seconds; 0 (default) turns decay off */
    int64_t now;                /* the clock --recency measures age against */
};

/* Defaults: BM25 defaults, no date or source filter. */
void q_plan_opts_default(struct q_plan_opts *o);

struct q_plan; /* defined in plan.c */

/* Plan ROOT against SNAP. AN must be an analyzer built from fmt_snapshot_analyzer(SNAP);
 * SNAP, AN and O's strings are borrowed and must outlive the plan. FMT_OK; FMT_EINVAL
 * with *ERR_COL (1-based, 0 when the whole query is meant) for a query with nothing to
 * search for, an exclusion-only query without a date or source filter, or a prefix that
 * matches more than Q_PLAN_MAX_PREFIX terms; FMT_ENOMEM; FMT_ECORRUPT from the index. */
int q_plan_new(struct q_plan **out, const struct q_node *root, const struct fmt_snapshot *snap,
               struct fmt_analyzer *an, const struct q_plan_opts *o, size_t *err_col,
               struct fmt_err *err);
void q_plan_free(struct q_plan *p);

/* Evaluate over every segment: *COUNT receives the number of live matching articles and,
 * unless TOPK is NULL, every match is scored and offered to TOPK. FMT_OK, FMT_ENOMEM or
 * FMT_ECORRUPT. */
int q_plan_search(struct q_plan *p, struct q_topk *topk, uint64_t *count, struct fmt_err *err);

/* Called for each live match of q_plan_run, in doc order, after scoring (H->score is 0
 * when the run does not score). Returns FMT_OK to go on, or an error that stops the run. */
typedef int (*q_match_fn)(void *ctx, const struct fmt_seg *seg, uint32_t doc,
                          const struct q_hit *h, struct fmt_err *err);

/* What q_plan_run does with each match: offer it to TOPK (if not NULL), pass it to FN (if
 * not NULL); SCORE asks for scores even without TOPK. */
struct q_run {
    struct q_topk *topk;
    q_match_fn fn;
    void *ctx;
    int score;
    int prune;  /* 1: only TOPK's hits are wanted (no FN, relevance order): matches that
                   cannot enter TOPK may be skipped unscored (block-max MaxScore), *COUNT
                   is then only the number of matches scored. The hits are the same. */
};

/* Evaluate over every segment as R says; *COUNT receives the number of live matches
 * (with R->prune: of the matches scored).
 * Scores are BM25F times q_plan_decay. FMT_OK, FN's error, FMT_ENOMEM or FMT_ECORRUPT. */
int q_plan_run(struct q_plan *p, const struct q_run *r, uint64_t *count, struct fmt_err *err);

/* The --recency factor of an article with timestamp TS: 2^(-age / half_life), age = now
 * - TS clamped at 0 (future dates count as now); 0 for an undated article; 1 when recency
 * is off. Articles older than about 1000 half-lives underflow to 0 (then tie by doc id). */
double q_plan_decay(const struct q_plan *p, int64_t ts);

/* Score global doc GDOC again, calling FN for each term leaf on it (see q_iter_score);
 * *SCORE receives the BM25F sum of the leaves (q_plan_search's score without the
 * q_plan_decay factor). FMT_OK, FMT_ENOTFOUND (GDOC does
 * not match), FMT_ENOMEM or FMT_ECORRUPT. */
int q_plan_explain(struct q_plan *p, uint64_t gdoc, q_explain_fn fn, void *ctx, double *score,
                   struct fmt_err *err);

/* Segment index and local doc of global doc GDOC. FMT_OK or FMT_ENOTFOUND. */
int q_plan_locate(const struct fmt_snapshot *snap, uint64_t gdoc, size_t *seg, uint32_t *doc);

/* The positive title/body terms and prefixes of the query, for snippet highlighting.
 * Borrowed from P. */
const struct q_snip_term *q_plan_snip_terms(const struct q_plan *p, size_t *n);

/* The scorer's parameters and global statistics. Borrowed from P. */
const struct q_bm25 *q_plan_bm25(const struct q_plan *p);

#endif
