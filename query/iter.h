/* iter.h - document iterators over one segment: terms, AND (with exclusions), OR,
 * phrases, date ranges and "every document".
 *
 * Iterators are document-at-a-time: q_iter_advance(it, target) moves IT to its first
 * matching local doc >= target (it->doc, FMT_DOC_END when exhausted) and never moves
 * backwards; "next" is advance(it, it->doc + 1). Composite iterators drive their kids the
 * same way, so a tree answers any boolean query:
 *   AND     advances its cheapest kid (lowest cost = df) and gallops the others to that
 *           candidate with fmt_postings_advance; a candidate on which any exclusion kid
 *           lands is skipped (this is NOT);
 *   OR      is the union of its kids, kept in a min-heap on their current doc, so moving
 *           past a doc touches only the kids on it (O(m log n) for m kids on the doc,
 *           not a scan of all n kids: a prefix may expand to 1000 terms);
 *   SYNONYM an OR whose kids are one virtual term (a prefix's expansions): it scores as a
 *           single term whose tf per field is the sum of its kids' tf (as Xapian's
 *           OP_SYNONYM), with the idf shared by all expansions (plan.c);
 *   PHRASE  is an AND of term kids whose positions, checked only on docs where all kids
 *           agree, hold the terms at their offsets within ONE field (rarest kid first,
 *           the others decoded only while a start is left; with 3+ kids the costliest is
 *           moved only where the others' positions already line up);
 *   DATE    scans the timestamp column; ALL lists every doc (the positive side of a
 *           query that only excludes).
 * Nothing allocates while iterating; all iterators of one segment live in a q_iters set.
 *
 * Scoring: q_iter_score() sums the BM25F contributions of the scoring term leaves that
 * are on DOC (exclusion kids are never visited). A phrase contributes its terms' BM25F
 * contributions computed from their whole tf in the searched fields (not the phrase
 * frequency): the same number the words would give as an AND query, so "peace deal" and
 * peace deal rank the docs the phrase matches alike, and the statistics stay per term.
 * Dynamic pruning: q_iter_bound gives an upper bound of the score over a range of docs
 * from the skip blocks' bounds (block-max); plan.c uses it for block-max MaxScore. A term
 * leaf advanced with a score floor (q_iter_advance_above) passes over blocks by their
 * bound and docs by their exact tf~ read straight from the decoded block; a pruned AND or
 * PHRASE moves its lead that way against the floor minus the other kids' block bounds. */
#ifndef Q_ITER_H
#define Q_ITER_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "bm25.h"
#include "err.h"
#include "segment.h"

/* How one query term scores; shared by the term's iterators in every segment. */
struct q_term_w {
    double idf;        /* from global statistics (q_bm25_idf) */
    unsigned fields;   /* searched fields for tf~: bit 0 title, bit 1 body */
    int scoring;       /* 0: filters only (source, url, terms under NOT) */
    const char *label; /* term for --explain and "matches" ("nato", "title:nato"), borrowed
                          for the life of the iterators */
};

/* A cached threshold: the tf~ that a term leaf's score must exceed for the score plus
 * REST to exceed FLOOR (iter.c's t_need), for scorer BM (NULL: none yet). */
struct q_tneed {
    const struct q_bm25 *bm;
    double floor, rest, tneed;
};

enum q_iter_kind { Q_IT_EMPTY, Q_IT_ALL, Q_IT_TERM, Q_IT_AND, Q_IT_OR, Q_IT_PHRASE, Q_IT_DATE };

struct q_iter {
    enum q_iter_kind kind;
    uint32_t doc;           /* current doc; FMT_DOC_END when exhausted */
    int started;            /* 0 until the first advance */
    uint64_t cost;          /* upper estimate of matching docs (df; ndocs for scans) */
    const struct fmt_seg *seg;
    uint32_t ndocs;         /* docs in seg */
    /* TERM */
    struct fmt_postings *post; /* owned by the q_iters set (released there) */
    unsigned require;       /* doc must have tf > 0 in one of these fields; 0: any */
    const struct q_term_w *w; /* scoring; NULL: filter only */
    uint32_t ub_block;      /* q_iter_score_ub's cache: post->block whose ub_a holds (0:
                               none), computed with ub_bm */
    const struct q_bm25 *ub_bm;
    double ub_a[2];         /* w_f / norm(min_len_f) of that block (0: field not scored) */
    struct q_tneed need[2]; /* the tf~ over ub_a a score needs: [0] q_iter_may_exceed's,
                               [1] q_iter_pass_alone's */
    const struct q_bm25 *sc_bm; /* iter.c's term_above cache, for sc_bm (NULL: none): */
    const uint8_t *sc_col[2];   /* the length columns, */
    double sc_m[2], sc_a[2], sc_b[2]; /* w_f (0: not searched), norm = a_f + b_f * len, */
    double sc_floor, sc_rest, sc_tneed, sc_c; /* the tf~ and score needed for these */
    struct q_iter *next_term; /* list of the set's term iterators */
    /* AND, OR, PHRASE */
    struct q_iter **kids;   /* in query order: scores are summed in this order, so they
                               do not depend on per-segment statistics */
    struct q_iter **drive;  /* AND, PHRASE: the kids by cost, cheapest (the lead) first */
    size_t nkids;
    struct q_iter **excl;   /* AND: docs where one of these is found are skipped */
    size_t nexcl;
    uint64_t *heap;         /* OR: the unexhausted kids as keys kids[i]->doc << 32 | i, a
                               min-heap; nheap of them */
    size_t nheap;
    uint32_t *on;           /* OR: scratch for scoring (the kids on a doc), nkids slots */
    int built;              /* OR: 1 once the heap holds the kids */
    const struct q_term_w *syn; /* OR: non-NULL for a synonym group, scored as one term */
    uint32_t *offs;         /* PHRASE: position of each kid relative to the phrase start */
    uint32_t *doffs;        /* PHRASE of 3 to 64 kids: offs in drive order (the kids but
                               the costliest are checked before it is moved); else NULL */
    unsigned pfields;       /* PHRASE: fields it may occur in (bit 0 title, bit 1 body) */
    /* DATE */
    int64_t lo, hi;         /* inclusive; docs with FMT_NO_TIME never match */
    /* AND, PHRASE at the root of a pruned run: when floor_bm is set, a doc all kids agree
     * on whose q_iter_score is <= floor is passed over before the exclusion and position
     * checks (it could not enter the top k). NULL (the default): off. */
    const struct q_bm25 *floor_bm;
    double floor;
    double rest;            /* pruned AND, PHRASE: the bounds of the kids but the lead */
    uint32_t rest_lim;      /* summed over docs up to rest_lim (valid when rest_ok) */
    int rest_ok;
    int lead_above;         /* AND, PHRASE: filter the lead that way (the other kids are
                               on most of its docs, so leapfrogging would skip few) */
};

/* All iterators built for one segment. All-zero is a valid empty set. */
struct q_iters {
    struct q_arena mem;     /* iterators, kid arrays, postings cursors */
    struct q_iter *terms;   /* term iterators, whose postings need releasing */
};

void q_iters_init(struct q_iters *s);
/* Release every iterator of S (and their positions scratch). S is empty afterwards. */
void q_iters_release(struct q_iters *s);

/* Constructors. Each returns FMT_OK with *out set, FMT_ENOMEM, or FMT_ECORRUPT from the
 * segment reader; they simplify (an AND with an empty kid is empty, an OR drops empty
 * kids, an empty OR is empty, a one-kid AND/OR without exclusions is its kid). Kid arrays
 * are copied. Borrowed W, SEG and labels must outlive S. */
int q_iter_empty(struct q_iters *s, struct q_iter **out, struct fmt_err *err);
int q_iter_all(struct q_iters *s, const struct fmt_seg *seg, struct q_iter **out,
               struct fmt_err *err);
/* Term TERM[0..len) of namespace NS: empty when SEG lacks it. REQUIRE as in q_iter. */
int q_iter_term(struct q_iters *s, const struct fmt_seg *seg, uint8_t ns, const char *term,
                size_t len, unsigned require, const struct q_term_w *w, struct q_iter **out,
                struct fmt_err *err);
/* Same, from a term already looked up (a prefix walk's fmt_term_info). */
int q_iter_term_info(struct q_iters *s, const struct fmt_seg *seg,
                     const struct fmt_term_info *ti, unsigned require,
                     const struct q_term_w *w, struct q_iter **out, struct fmt_err *err);
int q_iter_and(struct q_iters *s, struct q_iter *const *kids, size_t nkids,
               struct q_iter *const *excl, size_t nexcl, struct q_iter **out,
               struct fmt_err *err);
int q_iter_or(struct q_iters *s, struct q_iter *const *kids, size_t nkids, struct q_iter **out,
              struct fmt_err *err);
/* An OR of term iterators (or empty ones) that scores as one term with weight W: tf per
 * field summed over the kids on the doc. One kid left: that kid (which should carry W). */
int q_iter_synonym(struct q_iters *s, struct q_iter *const *kids, size_t nkids,
                   const struct q_term_w *w, struct q_iter **out, struct fmt_err *err);
/* KIDS must be term iterators (or empty) of a namespace with positions; OFFS[i] is kid
 * i's position within the phrase; FIELDS the fields the phrase may occur in. */
int q_iter_phrase(struct q_iters *s, struct q_iter *const *kids, const uint32_t *offs,
                  size_t nkids, unsigned fields, struct q_iter **out, struct fmt_err *err);
int q_iter_date(struct q_iters *s, const struct fmt_seg *seg, int64_t lo, int64_t hi,
                struct q_iter **out, struct fmt_err *err);

/* Move IT to its first match >= TARGET (no-op when already there). FMT_OK or
 * FMT_ECORRUPT/FMT_ENOMEM from the segment reader. */
int q_iter_advance(struct q_iter *it, uint32_t target, struct fmt_err *err);

/* Dynamic pruning: an upper bound *UB of q_iter_score(IT, doc) for every doc in
 * [TARGET, *UPTO] (*UPTO >= TARGET; FMT_DOC_END when the bound holds to the end). Term
 * leaves read the bound of their skip block (fmt_postings_shallow_advance: max tf per
 * field, shortest field length) and score it with their q_term_w: the same arithmetic as
 * the real score, on tf values no smaller and lengths no larger, so never below it; a
 * synonym sums its kids' max tf; AND, OR and PHRASE sum their kids' bounds over the
 * shortest of their ranges; filters (date, all) bound 0. Moves skip cursors only (IT's
 * current doc stays valid) and never allocates. FMT_OK or FMT_ECORRUPT. */
int q_iter_bound(struct q_iter *it, uint32_t target, const struct q_bm25 *bm, double *ub,
                 uint32_t *upto, struct fmt_err *err);

/* Dynamic pruning: move IT to its first match >= TARGET whose score plus REST may exceed
 * FLOOR, or to its first match past LIM unchecked. A term leaf passes over whole blocks
 * whose bound (q_iter_bound) cannot, without decoding them, and over docs of a decoded
 * block whose exact tf~ cannot; no doc passed over scores above FLOOR - REST. Other
 * kinds: as q_iter_advance. Errors as q_iter_advance. */
int q_iter_advance_above(struct q_iter *it, uint32_t target, uint32_t lim, double floor,
                         double rest, const struct q_bm25 *bm, struct fmt_err *err);

/* Dynamic pruning: 0 when q_iter_score(IT, DOC) (IT on DOC) is surely <= FLOOR. A
 * synonym group tests its exact tf~ and a term leaf the tf~ of q_iter_score_ub without a
 * division (against the tf~ the floor needs, cached per floor); other kinds
 * q_iter_score_ub. */
int q_iter_may_exceed(struct q_iter *it, uint32_t doc, double floor, const struct q_bm25 *bm);

/* Dynamic pruning of a disjunction: ESS[0..ne) (all advanced, some maybe to FMT_DOC_END)
 * are the clauses that drive it, NON[0..nn) the others. While the smallest current doc of
 * ESS, up to LIM, is on one of them only, that one is a term leaf whose q_iter_score_ub
 * there cannot exceed FLOOR, and no clause of NON (advanced to it) is on it, the kid moves
 * on past it: such a doc could not enter. The caller then goes on from the smallest doc
 * of ESS. Errors as q_iter_advance. */
int q_iter_pass_alone(struct q_iter *const *ess, size_t ne, struct q_iter *const *non,
                      size_t nn, uint32_t lim, double floor, const struct q_bm25 *bm,
                      struct fmt_err *err);

/* The same for a synonym group IT (an OR made by q_iter_synonym, advanced) that alone
 * makes the score: while its current doc, up to LIM, is on one of its kids only and that
 * kid's q_iter_score_ub there (the group's weight: the group's score bound with that kid's
 * tf alone) cannot exceed FLOOR, the kid moves on. Other kinds: nothing. Errors as
 * q_iter_advance. */
int q_iter_pass_alone_syn(struct q_iter *it, uint32_t lim, double floor,
                          const struct q_bm25 *bm, struct fmt_err *err);

/* What one term leaf contributed to one doc's score (for --explain and "matches"). */
struct q_explain_term {
    const struct q_term_w *w;
    uint32_t tf[2];    /* tf in title and body (1-field namespaces: tf[0]) */
    uint32_t len[2];   /* field lengths of the doc */
    double norm[2];    /* 1 - b + b * len / avglen per field */
    double tfn;        /* tf~ */
    double contrib;    /* idf * tf~ / (k1 + tf~); 0 for filter terms */
};
typedef void (*q_explain_fn)(void *ctx, const struct q_explain_term *t);

/* BM25F score of DOC, on which IT must be positioned (it->doc == DOC). FN, if not NULL,
 * is called for each term leaf on DOC (scoring or not) in tree order (a synonym group
 * once, with its summed tf); the contributions it sees add up to the returned score, in
 * the same order. OR kids are visited in query order whatever their heap order, so the
 * floating-point sum does not depend on how the index is split. */
double q_iter_score(const struct q_iter *it, uint32_t doc, const struct q_bm25 *bm,
                    q_explain_fn fn, void *ctx);

/* An upper bound of q_iter_score(IT, DOC) (IT on DOC) that reads no per-doc column: a
 * term leaf scores its own tf over the shortest field lengths of the block its cursor has
 * loaded (fmt_block_bound.min_len, no longer than DOC's), with the same arithmetic as the
 * real score, so never below it beyond rounding (compare with a relative margin, as for
 * q_iter_bound); a leaf whose cursor holds no bound for DOC and a synonym group score
 * exactly. The pruned walk (plan.c) rejects most candidates with it without touching the
 * length column, which in a fresh process costs page faults and cache misses. Term leaves
 * keep per-block factors in IT (ub_block, ub_a): one division per doc, not five. */
double q_iter_score_ub(struct q_iter *it, uint32_t doc, const struct q_bm25 *bm);

#endif
