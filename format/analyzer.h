/* analyzer.h - text analysis: UTF-8 validation, folding, tokenizing, stemming.
 *
 * The same analyzer (same settings) runs at index time and at query time; the settings
 * are recorded in the index manifest. */
#ifndef FMT_ANALYZER_H
#define FMT_ANALYZER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct fmt_analyzer_cfg {
    char language[32];   /* Snowball algorithm name ("english", "french", ...) or "none" */
    int fold_diacritics; /* 1: "café" and "cafe" are the same term (default 1) */
};

/* Defaults: english, diacritics folded. */
void fmt_analyzer_cfg_default(struct fmt_analyzer_cfg *cfg);

struct fmt_analyzer; /* defined in analyzer.c; holds the stemmer and scratch buffers */

/* One token. term is borrowed: valid only during the callback. */
struct fmt_token {
    const char *term; /* folded, stemmed term, UTF-8, not NUL-terminated */
    size_t len;
    uint32_t pos;     /* 0, 1, 2, ... within this call */
    size_t start;     /* byte offset of the word in the input text */
    size_t end;       /* byte offset just past the word */
    int stem;         /* fmt_analyze_deferred only: term is the folded word and still
                       * to be stemmed (fmt_analyzer_stem); 0 everywhere else */
};

/* Return 0 to continue, anything else stops fmt_analyze, which returns that value. */
typedef int (*fmt_token_fn)(void *ctx, const struct fmt_token *tok);

/* New analyzer for CFG. FMT_EINVAL (unknown language, message names it) or FMT_ENOMEM. */
int fmt_analyzer_new(struct fmt_analyzer **out, const struct fmt_analyzer_cfg *cfg,
                     struct fmt_err *err);
void fmt_analyzer_free(struct fmt_analyzer *an);

/* Tokenize TEXT[0..len) and call FN for every term in order. Invalid UTF-8 bytes are
 * treated as U+FFFD (a separator). Returns FMT_OK, FMT_ENOMEM, or FN's nonzero value. */
int fmt_analyze(struct fmt_analyzer *an, const char *text, size_t len, fmt_token_fn fn,
                void *ctx);

/* Same tokenizer but no stemming: folded words only (used for prefix queries, so that
 * "sanction*" expands the unstemmed prefix against stemmed terms is handled by caller). */
int fmt_analyze_unstemmed(struct fmt_analyzer *an, const char *text, size_t len,
                          fmt_token_fn fn, void *ctx);

/* fmt_analyze for finding known terms (snippets): FN sees only the tokens whose term
 * starts with a byte flagged in FIRST[256], with the positions fmt_analyze gives. With a
 * stemmer that never changes a word's first letter (english: Porter2 only rewrites
 * suffixes, and its exception list keeps first letters) or without one, the other words
 * are not even stemmed, which is most of the cost of a snippet. */
int fmt_analyze_first(struct fmt_analyzer *an, const char *text, size_t len,
                      const uint8_t first[256], fmt_token_fn fn, void *ctx);

/* fmt_analyze without its last step: each token's term is the folded word, and its stem
 * flag says whether fmt_analyze would stem it, which fmt_analyzer_stem then does. For a
 * caller that remembers per word where its stem led (the segment builder: folded word ->
 * term), so that a repeated word costs one lookup instead of two. */
int fmt_analyze_deferred(struct fmt_analyzer *an, const char *text, size_t len,
                         fmt_token_fn fn, void *ctx);

/* The stem of the folded word TERM[0..len), 1 <= len, as fmt_analyze gives it, through the
 * stem cache; borrowed, valid until the next call on AN. TERM must stay readable for 8
 * bytes past its end (they are read and ignored). FMT_OK or FMT_ENOMEM. */
int fmt_analyzer_stem(struct fmt_analyzer *an, const char *term, size_t len,
                      const char **stem, size_t *slen);

/* Number of invalid UTF-8 sequences in TEXT[0..len) (0 when the text is valid). If
 * FIRST_BAD is not NULL it receives the byte offset of the first one. */
size_t fmt_utf8_invalid(const char *text, size_t len, size_t *first_bad);

/* Copy TEXT to a new malloc'd NUL-terminated string where each invalid sequence is
 * replaced by U+FFFD. NULL when out of memory. */
char *fmt_utf8_repair(const char *text, size_t len, size_t *nbad);

#endif
