/* parse.h - the newsq query language: text -> syntax tree (no index access, no analysis).
 *
 * The grammar, with examples, is in docs/QUERY.md. Leaves keep the words exactly as typed
 * (raw UTF-8, not folded or stemmed) with their byte column, so that the planner can run
 * them through format/analyzer.h and point error messages at them. A leaf may analyze to
 * zero, one or several terms ("AT&T", "U.S.", "multi-agent", "—"): that is the planner's
 * business, not the parser's. */
#ifndef Q_PARSE_H
#define Q_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "err.h"

/* Deepest nesting of groups, negations and field scopes accepted; deeper is FMT_EINVAL. */
#define Q_PARSE_MAX_DEPTH 100

/* Open ends of date ranges. Q_DATE_MIN is above FMT_NO_TIME (INT64_MIN), so an article
 * without a timestamp is never inside a date range. */
#define Q_DATE_MIN (INT64_MIN + 1)
#define Q_DATE_MAX INT64_MAX

enum q_kind {
    Q_TERM,   /* a word: text */
    Q_PREFIX, /* a word typed with a trailing '*': text without the '*'s */
    Q_PHRASE, /* "quoted words": text between the quotes */
    Q_AND,    /* every kid matches */
    Q_OR,     /* at least one kid matches */
    Q_NOT,    /* kids[0] does not match */
    Q_DATE,   /* article timestamp within [lo, hi] */
};

enum q_field {
    Q_FIELD_DEFAULT = 0, /* no scope given: the searched fields (title and body) */
    Q_FIELD_TITLE,
    Q_FIELD_BODY,
    Q_FIELD_SOURCE, /* the planner matches whole source names ("BBC News") */
    Q_FIELD_URL,
};

/* A node of the tree. Every pointer is owned by the arena given to q_parse() and lives
 * until q_arena_release(). */
struct q_node {
    enum q_kind kind;
    enum q_field field;   /* TERM/PREFIX/PHRASE: scope, from the nearest enclosing
                             field:... (title:(a OR b) scopes both a and b); always
                             Q_FIELD_DEFAULT on the other kinds */
    const char *text;     /* TERM/PREFIX/PHRASE: raw text, NUL-terminated, never empty
                             and never only ASCII punctuation; NULL on the other kinds */
    size_t len;           /* strlen(text), 0 when text is NULL */
    size_t col;           /* 1-based byte column in the query: of the word (after any
                             '-' or field prefix), of a phrase's opening quote, of "NOT"
                             or '-', of "date:"; AND/OR: their first kid's column */
    int64_t lo;           /* Q_DATE: first second in range (epoch, UTC), or Q_DATE_MIN */
    int64_t hi;           /* Q_DATE: last second in range, inclusive, or Q_DATE_MAX;
                             lo <= hi always */
    struct q_node **kids; /* AND/OR: nkids >= 2, no kid of the same kind (flattened);
                             NOT: nkids == 1 and the kid is never a NOT; else NULL */
    size_t nkids;
};

struct q_parse_opts {
    int default_or; /* 0: juxtaposed words are ANDed (default); 1: ORed (newsq --any) */
    int64_t now;    /* current time (epoch seconds) for relative dates such as 7d */
};

/* Parse the NUL-terminated query TEXT into *ROOT (allocated from MEM). On failure *ROOT
 * is NULL, MEM may hold partial allocations until q_arena_release(), and for FMT_EINVAL
 * *ERR_COL (if ERR_COL is not NULL) is the 1-based byte column the error points at and
 * err->msg a one-line message ending in "at column N". On success *ERR_COL is 0.
 * Returns FMT_OK, FMT_EINVAL (syntax error, bad date, empty query) or FMT_ENOMEM. */
int q_parse(const char *text, const struct q_parse_opts *opts, struct q_arena *mem,
            struct q_node **root, size_t *err_col, struct fmt_err *err);

/* 1 when N can match documents only by exclusion: it has no term or date filter that
 * every match must satisfy ("-russia", "NOT x", "a OR -b", "-a -b"), so answering it
 * would mean listing every article. 0 otherwise, and for NULL. */
int q_node_is_negative_only(const struct q_node *n);

/* Parse a --since/--until date S: YYYY, YYYY-MM, YYYY-MM-DD, an ISO 8601 time
 * (2025-02-12T10:00:00Z, offsets allowed), or relative Nh, Nd, Nw, Nm (months), Ny
 * meaning NOW minus that much. An absolute date names a period (a year, month, day or
 * second): *OUT is its first second, or its last second when IS_UPPER (so --until
 * 2025-02 means the end of February). Returns FMT_OK or FMT_EINVAL (message in ERR). */
int q_date_parse(const char *s, int64_t now, int is_upper, int64_t *out, struct fmt_err *err);

/* "title", "body", "source", "url", or "" for Q_FIELD_DEFAULT. Static string. */
const char *q_field_name(enum q_field f);

/* Append N to OUT as an S-expression, for tests and debugging:
 *   (AND (TERM nato) (NOT (PHRASE "peace deal")) (PREFIX title:sanction)
 *        (DATE 2025-02-01T00:00:00Z 2025-02-28T23:59:59Z))
 * (on one line, single spaces); open date ends print as "*". FMT_OK or FMT_ENOMEM. */
int q_node_print(const struct q_node *n, struct fmt_buf *out);

#endif
