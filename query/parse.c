/* parse.c - recursive-descent parser for the newsq query language (grammar and the
 * reasons behind its choices: docs/QUERY.md).
 *
 * The lexer is pulled one token at a time by the parser, so errors are reported roughly
 * in reading order. It is context-sensitive in two places: a '-' or "field:" glued to
 * the start of a word is a token of its own, and the word after it is "glued" (operator
 * keywords are not recognized there: "-OR" and "title:AND" search for the words).
 *
 * Punctuation-only words ("-", "&", "...") and empty phrases are dropped: parse functions
 * return FMT_OK with a NULL node for them, and the operators above skip NULL kids. */
#include "parse.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "article.h"

#define DATE_FORMS "YYYY, YYYY-MM, YYYY-MM-DD, YYYY-MM-DDThh:mm:ssZ or 7d, 12h, 3w, 2m, 1y"
#define SHOW 40 /* at most this many bytes of user text are quoted in a message */

enum tok_kind { T_END, T_WORD, T_PHRASE, T_LPAREN, T_RPAREN, T_AND, T_OR, T_NOT, T_FIELD, T_DATE };

struct tok {
    enum tok_kind kind;
    size_t off;         /* byte offset in the query of the token's first byte */
    const char *s;      /* WORD/PHRASE: text (WORD without trailing '*'s); AND/OR/NOT:
                           spelling; FIELD: the name; points into the query */
    size_t len;         /* bytes at s */
    int prefix;         /* WORD: was typed with a trailing '*' */
    enum q_field field; /* FIELD */
    int64_t lo, hi;     /* DATE: the inclusive range */
};

struct parser {
    const char *q;                 /* the query */
    size_t n;                      /* strlen(q) */
    size_t pos;                    /* lexer position: where the next token starts */
    int glued;                     /* next token continues a word after '-' or "field:" */
    struct tok tok;                /* current token */
    const struct q_parse_opts *opts;
    struct q_arena *mem;
    enum q_field field;            /* scope of the leaves being parsed */
    size_t depth;                  /* current nesting of groups, negations, fields */
    size_t err_col;                /* 1-based column of the error, set with the error */
    struct fmt_err *err;
};

/* Growable list of kids, malloc'd scratch while an AND/OR is being parsed. */
struct kids {
    struct q_node **v;
    size_t n;
    size_t cap;
};

static int syntax_error(struct parser *p, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int syntax_error(struct parser *p, size_t off, const char *fmt, ...)
{
    char msg[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    p->err_col = off + 1;
    return fmt_errorf(p->err, FMT_EINVAL, "%s at column %zu", msg, off + 1);
}

static int no_memory(struct parser *p)
{
    fmt_errorf(p->err, FMT_ENOMEM, "out of memory while parsing the query");
    return FMT_ENOMEM; /* a constant, so that the compiler sees callers' rc != FMT_OK */
}

static int show_len(size_t len)
{
    return (int)(len < SHOW ? len : SHOW);
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Ends a word: whitespace, parentheses, quotes. */
static int is_break(unsigned char c)
{
    return is_space(c) || c == '(' || c == ')' || c == '"';
}

static int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* 1 when S[0..len) has something the analyzer could index: an ASCII letter or digit, or
 * any non-ASCII byte (the analyzer decides about Unicode punctuation). */
static int has_word_char(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_alpha(c) || is_digit(c) || c >= 0x80)
            return 1;
    }
    return 0;
}

static int span_is(const char *s, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(s, word, len) == 0;
}

/* ASCII case-insensitive comparison of S[0..len) with the lowercase WORD. */
static int span_is_nocase(const char *s, size_t len, const char *word)
{
    if (strlen(word) != len)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (c != (unsigned char)word[i])
            return 0;
    }
    return 1;
}

/* ---- dates ---------------------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static unsigned month_days(int64_t y, unsigned m)
{
    static const unsigned dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 ? 28u + (unsigned)leap : dm[m - 1];
}

/* NOW minus MONTHS calendar months, same time of day, day clamped to the month's end
 * (March 31 minus one month is February 28 or 29). -1 when NOW is out of range. */
static int months_before(int64_t now, int64_t months, int64_t *out)
{
    const int64_t lim = INT64_C(1) << 50;
    int64_t days, rem, y, mi, y2;
    unsigned m, d, m2;

    if (now < -lim || now > lim)
        return -1;
    days = floor_div(now, 86400);
    rem = now - days * 86400;
    fmt_civil_from_days(days, &y, &m, &d);
    mi = y * 12 + (int64_t)m - 1 - months;
    y2 = floor_div(mi, 12);
    m2 = (unsigned)(mi - y2 * 12) + 1;
    if (d > month_days(y2, m2))
        d = month_days(y2, m2);
    *out = fmt_days_from_civil(y2, m2, d) * 86400 + rem;
    return 0;
}

/* Relative date "7d": 1 to 6 digits and a unit h, d, w, m (months) or y. */
static int relative_date(const char *s, size_t len, int64_t now, int64_t *out)
{
    int64_t v = 0, sec;

    if (len < 2 || len > 7)
        return -1;
    for (size_t i = 0; i + 1 < len; i++) {
        if (!is_digit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    switch (s[len - 1]) {
    case 'h':
    case 'H':
        sec = v * 3600;
        break;
    case 'd':
    case 'D':
        sec = v * 86400;
        break;
    case 'w':
    case 'W':
        sec = v * 7 * 86400;
        break;
    case 'm':
    case 'M':
        return months_before(now, v, out);
    case 'y':
    case 'Y':
        return months_before(now, v * 12, out);
    default:
        return -1;
    }
    if (now < Q_DATE_MIN + sec)
        return -1;
    *out = now - sec;
    return 0;
}

static int digits_at(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;

    for (size_t i = 0; i < n; i++) {
        if (!is_digit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Absolute date: the period [*lo, *hi] it names (a year, month, day or second). */
static int absolute_date(const char *s, size_t len, int64_t *lo, int64_t *hi)
{
    int64_t y, m, t;

    if (len == 4 && digits_at(s, 4, &y) == 0) {
        *lo = fmt_days_from_civil(y, 1, 1) * 86400;
        *hi = fmt_days_from_civil(y + 1, 1, 1) * 86400 - 1;
        return 0;
    }
    if (len == 7 && digits_at(s, 4, &y) == 0 && s[4] == '-' && digits_at(s + 5, 2, &m) == 0) {
        if (m < 1 || m > 12)
            return -1;
        *lo = fmt_days_from_civil(y, (unsigned)m, 1) * 86400;
        *hi = (m == 12 ? fmt_days_from_civil(y + 1, 1, 1)
                       : fmt_days_from_civil(y, (unsigned)m + 1, 1)) * 86400 - 1;
        return 0;
    }
    if (fmt_time_parse(s, len, &t) != FMT_OK)
        return -1;
    *lo = t;
    *hi = len == 10 ? t + 86399 : t; /* a bare day covers the day, a time one second */
    return 0;
}

/* One date, absolute or relative: its period [*lo, *hi] (one second for a relative date,
 * *relative set to 1). 0 or -1. */
static int date_point(const char *s, size_t len, int64_t now, int64_t *lo, int64_t *hi,
                      int *relative)
{
    *relative = 0;
    if (absolute_date(s, len, lo, hi) == 0)
        return 0;
    if (relative_date(s, len, now, lo) != 0)
        return -1;
    *hi = *lo;
    *relative = 1;
    return 0;
}

int q_date_parse(const char *s, int64_t now, int is_upper, int64_t *out, struct fmt_err *err)
{
    int64_t lo, hi;
    int rel;
    size_t len = s ? strlen(s) : 0;

    if (!s || !out || date_point(s, len, now, &lo, &hi, &rel) != 0)
        return fmt_errorf(err, FMT_EINVAL, "bad date \"%.*s\" (expected %s)", show_len(len),
                          s ? s : "", DATE_FORMS);
    *out = is_upper ? hi : lo;
    return FMT_OK;
}

/* One endpoint of a "date:" range at query offset OFF. */
static int range_point(struct parser *p, const char *s, size_t len, size_t off, int64_t *lo,
                       int64_t *hi, int *rel)
{
    if (date_point(s, len, p->opts->now, lo, hi, rel) != 0)
        return syntax_error(p, off, "bad date \"%.*s\" (expected %s)", show_len(len), s,
                            DATE_FORMS);
    return FMT_OK;
}

/* The text after "date:", S[0..len) at query offset OFF, into T's inclusive range. */
static int date_range(struct parser *p, const char *s, size_t len, size_t off, struct tok *t)
{
    int64_t plo, phi;
    int rel, rc;
    const char *dots = NULL;

    for (size_t i = 0; i + 1 < len && !dots; i++)
        if (s[i] == '.' && s[i + 1] == '.')
            dots = s + i;
    t->lo = Q_DATE_MIN;
    t->hi = Q_DATE_MAX;
    if (len >= 2 && (s[0] == '>' || s[0] == '<') && s[1] == '=') {
        rc = range_point(p, s + 2, len - 2, off + 2, &plo, &phi, &rel);
        if (rc)
            return rc;
        if (s[0] == '>')
            t->lo = plo;
        else
            t->hi = phi;
    } else if (s[0] == '>' || s[0] == '<') {
        rc = range_point(p, s + 1, len - 1, off + 1, &plo, &phi, &rel);
        if (rc)
            return rc;
        if (s[0] == '>')
            t->lo = phi + 1; /* phi < Q_DATE_MAX: dates are far from the int64 limits */
        else
            t->hi = plo - 1;
    } else if (dots) {
        size_t llen = (size_t)(dots - s), roff = llen + 2;
        if (llen == 0 && roff == len)
            return syntax_error(p, off, "bad date range \"..\" (expected D..D, D.. or ..D)");
        if (llen > 0) {
            rc = range_point(p, s, llen, off, &plo, &phi, &rel);
            if (rc)
                return rc;
            t->lo = plo;
        }
        if (roff < len) {
            rc = range_point(p, s + roff, len - roff, off + roff, &plo, &phi, &rel);
            if (rc)
                return rc;
            t->hi = phi;
        }
    } else {
        rc = range_point(p, s, len, off, &plo, &phi, &rel);
        if (rc)
            return rc;
        t->lo = plo;
        t->hi = rel ? Q_DATE_MAX : phi; /* "date:7d" means the last 7 days */
    }
    if (t->lo > t->hi)
        return syntax_error(p, off, "empty date range \"%.*s\" (ends before it starts)",
                            show_len(len), s);
    return FMT_OK;
}

/* ---- lexer ---------------------------------------------------------------------------- */

static int lex_phrase(struct parser *p, size_t i)
{
    const char *open = p->q + i;
    const char *close = memchr(open + 1, '"', p->n - i - 1);

    if (!close)
        return syntax_error(p, i, "unbalanced '\"' (no closing quote)");
    p->tok.kind = T_PHRASE;
    p->tok.s = open + 1;
    p->tok.len = (size_t)(close - open - 1);
    p->pos = (size_t)(close - p->q) + 1;
    return FMT_OK;
}

/* "date:" at offset I, its text after optional spaces from AFTER. */
static int lex_date(struct parser *p, size_t i, size_t after)
{
    size_t a = after, b;

    while (a < p->n && is_space((unsigned char)p->q[a]))
        a++;
    for (b = a; b < p->n && !is_break((unsigned char)p->q[b]); b++)
        ;
    if (a == b)
        return syntax_error(p, i, "expected a date or range after \"%.*s\"",
                            (int)(after - i), p->q + i);
    p->tok.kind = T_DATE;
    p->pos = b;
    return date_range(p, p->q + a, b - a, a, &p->tok);
}

static const struct {
    const char *name;
    enum q_field field;
} fields[] = {
    {"title", Q_FIELD_TITLE},
    {"body", Q_FIELD_BODY},
    {"source", Q_FIELD_SOURCE},
    {"url", Q_FIELD_URL},
};

/* A word Q[i..j), which may begin with a field prefix. */
static int lex_word(struct parser *p, size_t i, size_t j)
{
    const char *q = p->q;
    struct tok *t = &p->tok;
    size_t k = i, after;

    while (k < j && is_alpha((unsigned char)q[k]))
        k++;
    if (k > i && k < j && q[k] == ':') {
        after = k + 1;
        for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
            if (!span_is_nocase(q + i, k - i, fields[f].name))
                continue;
            t->kind = T_FIELD;
            t->field = fields[f].field;
            t->s = q + i;
            t->len = k - i;
            p->pos = after;
            p->glued = after < p->n && !is_space((unsigned char)q[after]);
            return FMT_OK;
        }
        if (span_is_nocase(q + i, k - i, "date"))
            return lex_date(p, i, after);
        /* Unknown name: "Note: x", "(see:)" and "http://x" are words; "foo:bar",
         * "foo:(a b)" and foo:"a b" are mistakes. */
        if (after < p->n && !is_space((unsigned char)q[after]) && q[after] != ')' &&
            !(after + 1 < j && q[after] == '/' && q[after + 1] == '/'))
            return syntax_error(p, i,
                                "unknown field \"%.*s\" (fields are title, body, source, url, "
                                "date)",
                                show_len(k - i), q + i);
    }
    t->kind = T_WORD;
    t->s = q + i;
    t->len = j - i;
    while (t->len > 0 && q[i + t->len - 1] == '*') {
        t->len--;
        t->prefix = 1;
    }
    p->pos = j;
    return FMT_OK;
}

/* Read the next token into p->tok. */
static int lex(struct parser *p)
{
    const char *q = p->q;
    struct tok *t = &p->tok;
    size_t i = p->pos, j;
    int glued = p->glued;

    memset(t, 0, sizeof(*t));
    p->glued = 0;
    while (i < p->n && is_space((unsigned char)q[i]))
        i++;
    t->off = i;
    p->pos = i + 1;
    if (i >= p->n) {
        t->kind = T_END;
        p->pos = i;
        return FMT_OK;
    }
    if (q[i] == '(' || q[i] == ')') {
        t->kind = q[i] == '(' ? T_LPAREN : T_RPAREN;
        return FMT_OK;
    }
    if (q[i] == '"')
        return lex_phrase(p, i);
    for (j = i; j < p->n && !is_break((unsigned char)q[j]); j++)
        ;
    t->s = q + i;
    t->len = j - i;
    if (!glued) {
        if (span_is(t->s, t->len, "OR") || span_is(t->s, t->len, "|") ||
            span_is(t->s, t->len, "||"))
            t->kind = T_OR;
        else if (span_is(t->s, t->len, "AND") || span_is(t->s, t->len, "&&"))
            t->kind = T_AND;
        else if (span_is(t->s, t->len, "NOT"))
            t->kind = T_NOT;
        if (t->kind != T_END) {
            p->pos = j;
            return FMT_OK;
        }
    }
    /* '-' negates what follows it, except a space, ')' or another '-': "- x", "(a -)"
     * and "--x" or "-----" are words (dropped when only punctuation). */
    if (q[i] == '-' && i + 1 < p->n && !is_space((unsigned char)q[i + 1]) && q[i + 1] != ')' &&
        q[i + 1] != '-') {
        t->kind = T_NOT;
        t->len = 1;
        p->glued = 1;
        return FMT_OK;
    }
    return lex_word(p, i, j);
}

/* ---- parser --------------------------------------------------------------------------- */

static int starts_operand(enum tok_kind k)
{
    return k == T_WORD || k == T_PHRASE || k == T_LPAREN || k == T_NOT || k == T_FIELD ||
           k == T_DATE;
}

static int enter(struct parser *p, size_t off)
{
    if (++p->depth > Q_PARSE_MAX_DEPTH)
        return syntax_error(p, off, "query nests too deeply (more than %d levels)",
                            Q_PARSE_MAX_DEPTH);
    return FMT_OK;
}

static int dangling(struct parser *p, const struct tok *op, const char *where)
{
    return syntax_error(p, op->off, "dangling operator \"%.*s\" (nothing %s it)",
                        show_len(op->len), op->s, where);
}

static int new_node(struct parser *p, enum q_kind kind, size_t off, struct q_node **out)
{
    struct q_node *n = q_arena_alloc(p->mem, sizeof(*n));

    if (!n)
        return no_memory(p);
    n->kind = kind;
    n->field = Q_FIELD_DEFAULT;
    n->col = off + 1;
    *out = n;
    return FMT_OK;
}

/* TERM, PREFIX or PHRASE from the current token; *out NULL when it has nothing to search. */
static int new_leaf(struct parser *p, enum q_kind kind, struct q_node **out)
{
    const struct tok *t = &p->tok;
    struct q_node *n = NULL;
    int rc;

    *out = NULL;
    if (!has_word_char(t->s, t->len))
        return FMT_OK;
    rc = new_node(p, kind, t->off, &n);
    if (rc)
        return rc;
    n->field = p->field;
    n->text = q_arena_strndup(p->mem, t->s, t->len);
    if (!n->text)
        return no_memory(p);
    n->len = t->len;
    *out = n;
    return FMT_OK;
}

static int kids_push_one(struct parser *p, struct kids *k, struct q_node *n)
{
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 4;
        struct q_node **v;
        if (cap > SIZE_MAX / sizeof(*v))
            return no_memory(p);
        v = realloc(k->v, cap * sizeof(*v));
        if (!v)
            return no_memory(p);
        k->v = v;
        k->cap = cap;
    }
    k->v[k->n++] = n;
    return FMT_OK;
}

/* Add N (may be NULL: dropped) to an AND/OR of kind KIND, flattening a kid of that kind. */
static int kids_push(struct parser *p, struct kids *k, struct q_node *n, enum q_kind kind)
{
    int rc = FMT_OK;

    if (!n)
        return FMT_OK;
    if (n->kind != kind)
        return kids_push_one(p, k, n);
    for (size_t i = 0; i < n->nkids && rc == FMT_OK; i++)
        rc = kids_push_one(p, k, n->kids[i]);
    return rc;
}

static int kids_finish(struct parser *p, struct kids *k, enum q_kind kind, struct q_node **out)
{
    struct q_node *n = NULL;
    int rc;

    *out = k->n ? k->v[0] : NULL;
    if (k->n < 2)
        return FMT_OK;
    rc = new_node(p, kind, k->v[0]->col - 1, &n);
    if (rc)
        return rc;
    n->kids = q_arena_alloc(p->mem, k->n * sizeof(*n->kids));
    if (!n->kids)
        return no_memory(p);
    memcpy(n->kids, k->v, k->n * sizeof(*n->kids));
    n->nkids = k->n;
    *out = n;
    return FMT_OK;
}

static int parse_or(struct parser *p, struct q_node **out);
static int parse_unary(struct parser *p, struct q_node **out);

static int parse_group(struct parser *p, struct q_node **out)
{
    struct tok open = p->tok;
    int rc = enter(p, open.off);

    if (rc == FMT_OK)
        rc = lex(p);
    if (rc)
        return rc;
    if (p->tok.kind == T_RPAREN)
        return syntax_error(p, open.off, "empty group \"()\"");
    if (p->tok.kind == T_END)
        return syntax_error(p, open.off, "unbalanced '(' (no matching ')')");
    rc = parse_or(p, out);
    if (rc)
        return rc;
    if (p->tok.kind != T_RPAREN)
        return syntax_error(p, open.off, "unbalanced '(' (no matching ')')");
    p->depth--;
    return lex(p);
}

/* field ":" unary: the field scopes every leaf below. */
static int parse_field(struct parser *p, struct q_node **out)
{
    struct tok ft = p->tok;
    enum q_field saved = p->field;
    int rc = enter(p, ft.off);

    if (rc == FMT_OK)
        rc = lex(p);
    if (rc)
        return rc;
    if (!starts_operand(p->tok.kind))
        return syntax_error(p, ft.off, "expected a word, phrase or group after \"%.*s:\"",
                            show_len(ft.len), ft.s);
    p->field = ft.field;
    rc = parse_unary(p, out);
    p->field = saved;
    p->depth--;
    return rc;
}

static int parse_primary(struct parser *p, struct q_node **out)
{
    int rc;

    *out = NULL;
    switch (p->tok.kind) {
    case T_WORD:
        rc = new_leaf(p, p->tok.prefix ? Q_PREFIX : Q_TERM, out);
        return rc ? rc : lex(p);
    case T_PHRASE:
        rc = new_leaf(p, Q_PHRASE, out);
        return rc ? rc : lex(p);
    case T_DATE:
        rc = new_node(p, Q_DATE, p->tok.off, out);
        if (rc)
            return rc;
        (*out)->lo = p->tok.lo;
        (*out)->hi = p->tok.hi;
        return lex(p);
    case T_FIELD:
        return parse_field(p, out);
    case T_LPAREN:
        return parse_group(p, out);
    default: /* callers check starts_operand() first */
        return syntax_error(p, p->tok.off, "unexpected \"%.*s\"", show_len(p->tok.len),
                            p->tok.s ? p->tok.s : "");
    }
}

/* unary := ("NOT" | "-") unary | primary. NOT NOT x is x. */
static int parse_unary(struct parser *p, struct q_node **out)
{
    struct tok op = p->tok;
    struct q_node *kid = NULL, *n = NULL;
    int rc;

    *out = NULL;
    if (op.kind != T_NOT)
        return parse_primary(p, out);
    rc = enter(p, op.off);
    if (rc == FMT_OK)
        rc = lex(p);
    if (rc)
        return rc;
    if (!starts_operand(p->tok.kind))
        return dangling(p, &op, "after");
    rc = parse_unary(p, &kid);
    if (rc)
        return rc;
    p->depth--;
    if (!kid)
        return FMT_OK;
    if (kid->kind == Q_NOT) {
        *out = kid->kids[0];
        return FMT_OK;
    }
    rc = new_node(p, Q_NOT, op.off, &n);
    if (rc)
        return rc;
    n->kids = q_arena_alloc(p->mem, sizeof(*n->kids));
    if (!n->kids)
        return no_memory(p);
    n->kids[0] = kid;
    n->nkids = 1;
    *out = n;
    return FMT_OK;
}

/* and_expr := unary ( "AND" unary | unary )*, the juxtaposed form only when the default
 * operator is AND. */
static int parse_and(struct parser *p, struct q_node **out)
{
    struct kids k = {NULL, 0, 0};
    struct q_node *n;
    int rc;

    *out = NULL;
    rc = parse_unary(p, &n);
    if (rc == FMT_OK)
        rc = kids_push(p, &k, n, Q_AND);
    while (rc == FMT_OK) {
        if (p->tok.kind == T_AND) {
            struct tok op = p->tok;
            rc = lex(p);
            if (rc)
                break;
            if (!starts_operand(p->tok.kind)) {
                rc = dangling(p, &op, "after");
                break;
            }
        } else if (p->opts->default_or || !starts_operand(p->tok.kind)) {
            rc = kids_finish(p, &k, Q_AND, out);
            break;
        }
        rc = parse_unary(p, &n);
        if (rc == FMT_OK)
            rc = kids_push(p, &k, n, Q_AND);
    }
    free(k.v);
    return rc;
}

/* or_expr := and_expr ( "OR" and_expr | and_expr )*, the juxtaposed form only when the
 * default operator is OR. */
static int parse_or(struct parser *p, struct q_node **out)
{
    struct kids k = {NULL, 0, 0};
    struct q_node *n;
    int rc;

    *out = NULL;
    if (p->tok.kind == T_AND || p->tok.kind == T_OR)
        return dangling(p, &p->tok, "before");
    rc = parse_and(p, &n);
    if (rc == FMT_OK)
        rc = kids_push(p, &k, n, Q_OR);
    while (rc == FMT_OK) {
        if (p->tok.kind == T_OR) {
            struct tok op = p->tok;
            rc = lex(p);
            if (rc)
                break;
            if (!starts_operand(p->tok.kind)) {
                rc = dangling(p, &op, "after");
                break;
            }
        } else if (!p->opts->default_or || !starts_operand(p->tok.kind)) {
            rc = kids_finish(p, &k, Q_OR, out);
            break;
        }
        rc = parse_and(p, &n);
        if (rc == FMT_OK)
            rc = kids_push(p, &k, n, Q_OR);
    }
    free(k.v);
    return rc;
}

int q_parse(const char *text, const struct q_parse_opts *opts, struct q_arena *mem,
            struct q_node **root, size_t *err_col, struct fmt_err *err)
{
    struct parser p;
    struct q_node *n = NULL;
    int rc;

    if (root)
        *root = NULL;
    if (err_col)
        *err_col = 0;
    if (!text || !opts || !mem || !root)
        return fmt_errorf(err, FMT_EINVAL, "q_parse: missing argument");
    memset(&p, 0, sizeof(p));
    p.q = text;
    p.n = strlen(text);
    p.opts = opts;
    p.mem = mem;
    p.err = err;
    rc = lex(&p);
    if (rc)
        goto out;
    if (p.tok.kind == T_END) {
        rc = syntax_error(&p, 0, "empty query");
        goto out;
    }
    if (p.tok.kind != T_RPAREN) {
        rc = parse_or(&p, &n);
        if (rc)
            goto out;
    }
    if (p.tok.kind == T_RPAREN) {
        rc = syntax_error(&p, p.tok.off, "unbalanced ')' (no matching '(')");
        goto out;
    }
    if (!n) {
        rc = syntax_error(&p, 0, "empty query (only punctuation, nothing to search for)");
        goto out;
    }
    *root = n;
out:
    if (rc == FMT_EINVAL && err_col)
        *err_col = p.err_col;
    return rc;
}

/* ---- inspection ----------------------------------------------------------------------- */

int q_node_is_negative_only(const struct q_node *n)
{
    if (!n)
        return 0;
    switch (n->kind) {
    case Q_NOT:
        return 1;
    case Q_AND: /* bounded as soon as one kid is */
        for (size_t i = 0; i < n->nkids; i++)
            if (!q_node_is_negative_only(n->kids[i]))
                return 0;
        return 1;
    case Q_OR: /* unbounded as soon as one kid is */
        for (size_t i = 0; i < n->nkids; i++)
            if (q_node_is_negative_only(n->kids[i]))
                return 1;
        return 0;
    default:
        return 0;
    }
}

const char *q_field_name(enum q_field f)
{
    switch (f) {
    case Q_FIELD_TITLE:
        return "title";
    case Q_FIELD_BODY:
        return "body";
    case Q_FIELD_SOURCE:
        return "source";
    case Q_FIELD_URL:
        return "url";
    case Q_FIELD_DEFAULT:
        break;
    }
    return "";
}

static int print_time(struct fmt_buf *out, int64_t t)
{
    char s[40];

    if (t == Q_DATE_MIN || t == Q_DATE_MAX)
        return fmt_buf_puts(out, "*");
    fmt_time_format(t, s, sizeof(s));
    return fmt_buf_puts(out, s);
}

int q_node_print(const struct q_node *n, struct fmt_buf *out)
{
    static const char *const names[] = {"TERM", "PREFIX", "PHRASE", "AND", "OR", "NOT", "DATE"};
    const char *field;
    int rc;

    if (!n)
        return fmt_buf_puts(out, "(NULL)");
    field = q_field_name(n->field);
    rc = fmt_buf_printf(out, "(%s", names[n->kind]);
    switch (n->kind) {
    case Q_TERM:
    case Q_PREFIX:
        if (rc == FMT_OK)
            rc = fmt_buf_printf(out, " %s%s%s", field, *field ? ":" : "", n->text);
        break;
    case Q_PHRASE:
        if (rc == FMT_OK)
            rc = fmt_buf_printf(out, " %s%s\"%s\"", field, *field ? ":" : "", n->text);
        break;
    case Q_DATE:
        if (rc == FMT_OK)
            rc = fmt_buf_putc(out, ' ');
        if (rc == FMT_OK)
            rc = print_time(out, n->lo);
        if (rc == FMT_OK)
            rc = fmt_buf_putc(out, ' ');
        if (rc == FMT_OK)
            rc = print_time(out, n->hi);
        break;
    default:
        for (size_t i = 0; i < n->nkids && rc == FMT_OK; i++) {
            rc = fmt_buf_putc(out, ' ');
            if (rc == FMT_OK)
                rc = q_node_print(n->kids[i], out);
        }
    }
    return rc == FMT_OK ? fmt_buf_putc(out, ')') : rc;
}
