/* test_parse.c - unit tests for query/parse.c (the query language of docs/QUERY.md) and
 * query/arena.c: table-driven query -> S-expression and query -> error + column cases,
 * dates with a pinned clock, columns of nodes, nesting limits and long queries. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "article.h"
#include "buf.h"
#include "err.h"
#include "parse.h"

/* The pinned "now" of every test: 2025-02-12T10:00:00Z. */
static int64_t pinned_now(void)
{
    int64_t t = 0;

    assert_int_equal(fmt_time_parse("2025-02-12T10:00:00Z", 20, &t), FMT_OK);
    return t;
}

/* Parse Q and compare its printed tree with WANT (message names the query on mismatch). */
static void expect_tree(const char *q, int default_or, const char *want)
{
    struct q_parse_opts opts = {default_or, pinned_now()};
    struct q_arena mem;
    struct q_node *root = NULL;
    struct fmt_err err = {0, ""};
    struct fmt_buf out;
    size_t col = 99;
    int rc;

    q_arena_init(&mem);
    fmt_buf_init(&out);
    rc = q_parse(q, &opts, &mem, &root, &col, &err);
    if (rc != FMT_OK)
        fail_msg("query [%s]: rc %d (%s), want %s", q, rc, err.msg, want);
    assert_non_null(root);
    assert_int_equal(col, 0);
    assert_int_equal(q_node_print(root, &out), FMT_OK);
    assert_int_equal(fmt_buf_terminate(&out), FMT_OK);
    if (strcmp((char *)out.p, want) != 0)
        fail_msg("query [%s]:\n   got %s\n  want %s", q, (char *)out.p, want);
    fmt_buf_release(&out);
    q_arena_release(&mem);
}

/* Parse Q, expect FMT_EINVAL with a message containing WANT and pointing at column COL. */
static void expect_error(const char *q, const char *want, size_t want_col)
{
    struct q_parse_opts opts = {0, pinned_now()};
    struct q_arena mem;
    struct q_node *root = (struct q_node *)&opts; /* must be reset to NULL */
    struct fmt_err err = {0, ""};
    size_t col = 0;
    char suffix[64];
    int rc;

    q_arena_init(&mem);
    rc = q_parse(q, &opts, &mem, &root, &col, &err);
    if (rc != FMT_EINVAL)
        fail_msg("query [%.60s]: rc %d, want FMT_EINVAL (%s)", q, rc, want);
    assert_null(root);
    assert_int_equal(err.code, FMT_EINVAL);
    if (!strstr(err.msg, want))
        fail_msg("query [%.60s]: message \"%s\" lacks \"%s\"", q, err.msg, want);
    if (col != want_col)
        fail_msg("query [%.60s]: column %zu, want %zu (%s)", q, col, want_col, err.msg);
    snprintf(suffix, sizeof(suffix), " at column %zu", want_col);
    assert_non_null(strstr(err.msg, suffix));
    assert_null(strchr(err.msg, '\n'));
    q_arena_release(&mem);
}

struct tree_case {
    const char *q;
    const char *want;
};

static void run_tree_cases(const struct tree_case *c, size_t n, int default_or)
{
    for (size_t i = 0; i < n; i++)
        expect_tree(c[i].q, default_or, c[i].want);
}

#define RUN(cases, default_or) run_tree_cases(cases, sizeof(cases) / sizeof(cases[0]), default_or)

static void test_parse_words_phrases_and_operators(void **state)
{
    static const struct tree_case cases[] = {
        {"nato", "(TERM nato)"},
        {"  nato  ", "(TERM nato)"},
        {"nato ukraine", "(AND (TERM nato) (TERM ukraine))"},
        {"nato\tukraine\nkyiv", "(AND (TERM nato) (TERM ukraine) (TERM kyiv))"},
        {"nato AND ukraine", "(AND (TERM nato) (TERM ukraine))"},
        {"nato && ukraine", "(AND (TERM nato) (TERM ukraine))"},
        {"nato OR otan", "(OR (TERM nato) (TERM otan))"},
        {"nato | otan", "(OR (TERM nato) (TERM otan))"},
        {"nato || otan", "(OR (TERM nato) (TERM otan))"},
        {"\"peace deal\"", "(PHRASE \"peace deal\")"},
        {"\"peace  (deal) OR\"", "(PHRASE \"peace  (deal) OR\")"},
        {"nato \"peace deal\"", "(AND (TERM nato) (PHRASE \"peace deal\"))"},
        {"\"a\"\"b\"", "(AND (PHRASE \"a\") (PHRASE \"b\"))"},
        {"nato\"peace\"", "(AND (TERM nato) (PHRASE \"peace\"))"},
        {"-russia", "(NOT (TERM russia))"},
        {"NOT russia", "(NOT (TERM russia))"},
        {"nato -russia", "(AND (TERM nato) (NOT (TERM russia)))"},
        {"nato NOT russia", "(AND (TERM nato) (NOT (TERM russia)))"},
        {"-\"peace deal\"", "(NOT (PHRASE \"peace deal\"))"},
        {"-(a b)", "(NOT (AND (TERM a) (TERM b)))"},
        {"NOT(a)", "(NOT (TERM a))"},
        {"NOT NOT a", "(TERM a)"},
        {"NOT -a", "(TERM a)"},
        {"(nato)", "(TERM nato)"},
        {"((nato))", "(TERM nato)"},
        {"(nato OR otan) ukraine", "(AND (OR (TERM nato) (TERM otan)) (TERM ukraine))"},
        {"(a)(b)", "(AND (TERM a) (TERM b))"},
        /* lowercase keywords and quoted keywords are words */
        {"or and not", "(AND (TERM or) (TERM and) (TERM not))"},
        {"\"OR\"", "(PHRASE \"OR\")"},
        {"-OR", "(NOT (TERM OR))"},
        {"ORANGE ANDES NOTE", "(AND (TERM ORANGE) (TERM ANDES) (TERM NOTE))"},
    };

    (void)state;
    RUN(cases, 0);
}

static void test_parse_precedence_not_and_or(void **state)
{
    static const struct tree_case cases[] = {
        {"a OR b c", "(OR (TERM a) (AND (TERM b) (TERM c)))"},
        {"a b OR c", "(OR (AND (TERM a) (TERM b)) (TERM c))"},
        {"a OR b AND c", "(OR (TERM a) (AND (TERM b) (TERM c)))"},
        {"a AND b OR c AND d", "(OR (AND (TERM a) (TERM b)) (AND (TERM c) (TERM d)))"},
        {"NOT a b", "(AND (NOT (TERM a)) (TERM b))"},
        {"NOT a OR b", "(OR (NOT (TERM a)) (TERM b))"},
        {"a OR NOT b", "(OR (TERM a) (NOT (TERM b)))"},
        {"-a OR -b", "(OR (NOT (TERM a)) (NOT (TERM b)))"},
        {"(a OR b) (c OR d)", "(AND (OR (TERM a) (TERM b)) (OR (TERM c) (TERM d)))"},
        {"a (b OR c) AND d", "(AND (TERM a) (OR (TERM b) (TERM c)) (TERM d))"},
        /* nested same-kind operators are flattened */
        {"(a b) c", "(AND (TERM a) (TERM b) (TERM c))"},
        {"a OR (b OR c) OR d", "(OR (TERM a) (TERM b) (TERM c) (TERM d))"},
        {"a (b (c d))", "(AND (TERM a) (TERM b) (TERM c) (TERM d))"},
        {"a OR b OR c", "(OR (TERM a) (TERM b) (TERM c))"},
    };

    (void)state;
    RUN(cases, 0);
}

static void test_parse_default_or_joins_juxtaposed_words_with_or(void **state)
{
    static const struct tree_case cases[] = {
        {"a b", "(OR (TERM a) (TERM b))"},
        {"a b c", "(OR (TERM a) (TERM b) (TERM c))"},
        {"a AND b", "(AND (TERM a) (TERM b))"},
        {"a b AND c", "(OR (TERM a) (AND (TERM b) (TERM c)))"},
        {"a AND b c", "(OR (AND (TERM a) (TERM b)) (TERM c))"},
        {"a OR b c", "(OR (TERM a) (TERM b) (TERM c))"},
        {"a -b", "(OR (TERM a) (NOT (TERM b)))"},
        {"(a b) AND c", "(AND (OR (TERM a) (TERM b)) (TERM c))"},
        {"nato", "(TERM nato)"},
    };

    (void)state;
    RUN(cases, 1);
}

static void test_parse_punctuation_words_never_fail(void **state)
{
    static const struct tree_case cases[] = {
        {"AT&T U.S. $800 c++ 20.04 Kyiv's multi-agent",
         "(AND (TERM AT&T) (TERM U.S.) (TERM $800) (TERM c++) (TERM 20.04) (TERM Kyiv's) "
         "(TERM multi-agent))"},
        {"nato & ukraine", "(AND (TERM nato) (TERM ukraine))"},
        {"nato - ukraine", "(AND (TERM nato) (TERM ukraine))"},
        {"nato ... ukraine", "(AND (TERM nato) (TERM ukraine))"},
        {"nato -- ukraine", "(AND (TERM nato) (TERM ukraine))"},
        {"nato ----- ukraine", "(AND (TERM nato) (TERM ukraine))"},
        {"nato -", "(TERM nato)"},
        {"(nato -)", "(TERM nato)"},
        {"nato -...", "(TERM nato)"},
        {"nato (...)", "(TERM nato)"},
        {"nato OR ...", "(TERM nato)"},
        {"nato \"\" \" ! \"", "(TERM nato)"},
        {"--x", "(TERM --x)"},
        {"-$800", "(NOT (TERM $800))"},
        {"a-b", "(TERM a-b)"},
        {"100%", "(TERM 100%)"},
        {"élan Łódź", "(AND (TERM élan) (TERM Łódź))"},
        {"nato — ukraine", "(AND (TERM nato) (TERM —) (TERM ukraine))"},
        {"http://example.com/a?b=c", "(TERM http://example.com/a?b=c)"},
        {"10:30 2025-02-12T10:00:00Z", "(AND (TERM 10:30) (TERM 2025-02-12T10:00:00Z))"},
        {"Note: this", "(AND (TERM Note:) (TERM this))"},
        {"(see:)", "(TERM see:)"},
        {"x2:y", "(TERM x2:y)"},
        {"a:b:c", "(TERM a:b:c)" /* overwritten below: unknown field */},
    };

    (void)state;
    run_tree_cases(cases, sizeof(cases) / sizeof(cases[0]) - 1, 0);
    expect_error(cases[sizeof(cases) / sizeof(cases[0]) - 1].q, "unknown field \"a\"", 1);
}

static void test_parse_trailing_star_makes_prefix(void **state)
{
    static const struct tree_case cases[] = {
        {"sanction*", "(PREFIX sanction)"},
        {"sanction**", "(PREFIX sanction)"},
        {"nato sanction*", "(AND (TERM nato) (PREFIX sanction))"},
        {"-sanction*", "(NOT (PREFIX sanction))"},
        {"a*b", "(TERM a*b)"},
        {"*ism", "(TERM *ism)"},
        {"c++*", "(PREFIX c++)"},
        {"nato *", "(TERM nato)"},
        {"nato $*", "(TERM nato)"},
        {"\"peace de\"*", "(PHRASE \"peace de\")"},
        {"\"sanction*\"", "(PHRASE \"sanction*\")"},
    };

    (void)state;
    RUN(cases, 0);
}

static void test_parse_fields_scope_words_phrases_and_groups(void **state)
{
    static const struct tree_case cases[] = {
        {"title:nato", "(TERM title:nato)"},
        {"TITLE:nato", "(TERM title:nato)"},
        {"Body:nato", "(TERM body:nato)"},
        {"url:https://example.com/a", "(TERM url:https://example.com/a)"},
        {"title:sanction*", "(PREFIX title:sanction)"},
        {"source:\"BBC News\"", "(PHRASE source:\"BBC News\")"},
        {"title:(nato OR otan)", "(OR (TERM title:nato) (TERM title:otan))"},
        {"title:(nato otan) ukraine",
         "(AND (TERM title:nato) (TERM title:otan) (TERM ukraine))"},
        {"title:(a body:b \"c d\")", "(AND (TERM title:a) (TERM body:b) (PHRASE title:\"c d\"))"},
        {"title:(a -(b OR c))",
         "(AND (TERM title:a) (NOT (OR (TERM title:b) (TERM title:c))))"},
        {"title:nato ukraine", "(AND (TERM title:nato) (TERM ukraine))"},
        {"title: nato", "(TERM title:nato)"},
        {"-title:nato", "(NOT (TERM title:nato))"},
        {"title:-nato", "(NOT (TERM title:nato))"},
        {"title:NOT nato", "(AND (TERM title:NOT) (TERM nato))"},
        {"title: NOT nato", "(NOT (TERM title:nato))"},
        {"body:OR", "(TERM body:OR)"},
        {"title:body:x", "(TERM body:x)"},
        {"title:U.S.", "(TERM title:U.S.)"},
        {"title:...", "(NULL)" /* placeholder: an empty query, checked below */},
    };

    (void)state;
    run_tree_cases(cases, sizeof(cases) / sizeof(cases[0]) - 1, 0);
    expect_error("title:...", "empty query", 1);
}

static void test_parse_date_filters_make_inclusive_ranges(void **state)
{
    static const struct tree_case cases[] = {
        {"date:2025", "(DATE 2025-01-01T00:00:00Z 2025-12-31T23:59:59Z)"},
        {"date:2025-02", "(DATE 2025-02-01T00:00:00Z 2025-02-28T23:59:59Z)"},
        {"date:2024-02", "(DATE 2024-02-01T00:00:00Z 2024-02-29T23:59:59Z)"},
        {"date:2025-12", "(DATE 2025-12-01T00:00:00Z 2025-12-31T23:59:59Z)"},
        {"date:2025-02-12", "(DATE 2025-02-12T00:00:00Z 2025-02-12T23:59:59Z)"},
        {"date:2025-02-12T10:00:00Z", "(DATE 2025-02-12T10:00:00Z 2025-02-12T10:00:00Z)"},
        {"date:2025-02-12T12:00:00+02:00", "(DATE 2025-02-12T10:00:00Z 2025-02-12T10:00:00Z)"},
        {"date:2025-01..2025-02", "(DATE 2025-01-01T00:00:00Z 2025-02-28T23:59:59Z)"},
        {"date:2025-02-01..", "(DATE 2025-02-01T00:00:00Z *)"},
        {"date:..2025-02-01", "(DATE * 2025-02-01T23:59:59Z)"},
        {"date:2025-02-12..2025-02-12", "(DATE 2025-02-12T00:00:00Z 2025-02-12T23:59:59Z)"},
        {"date:>=2025-02", "(DATE 2025-02-01T00:00:00Z *)"},
        {"date:<=2025-02", "(DATE * 2025-02-28T23:59:59Z)"},
        {"date:>2025-02", "(DATE 2025-03-01T00:00:00Z *)"},
        {"date:<2025-02", "(DATE * 2025-01-31T23:59:59Z)"},
        {"date:7d", "(DATE 2025-02-05T10:00:00Z *)"},
        {"date:12h", "(DATE 2025-02-11T22:00:00Z *)"},
        {"date:3w", "(DATE 2025-01-22T10:00:00Z *)"},
        {"date:2m", "(DATE 2024-12-12T10:00:00Z *)"},
        {"date:1y", "(DATE 2024-02-12T10:00:00Z *)"},
        {"date:0d", "(DATE 2025-02-12T10:00:00Z *)"},
        {"date:14d..7d", "(DATE 2025-01-29T10:00:00Z 2025-02-05T10:00:00Z)"},
        {"date:<7d", "(DATE * 2025-02-05T09:59:59Z)"},
        {"date:2025-01..7D", "(DATE 2025-01-01T00:00:00Z 2025-02-05T10:00:00Z)"},
        {"DATE:2025", "(DATE 2025-01-01T00:00:00Z 2025-12-31T23:59:59Z)"},
        {"date: 2025", "(DATE 2025-01-01T00:00:00Z 2025-12-31T23:59:59Z)"},
        {"nato date:2025-02 -russia",
         "(AND (TERM nato) (DATE 2025-02-01T00:00:00Z 2025-02-28T23:59:59Z) "
         "(NOT (TERM russia)))"},
        {"-date:2025", "(NOT (DATE 2025-01-01T00:00:00Z 2025-12-31T23:59:59Z))"},
        {"(date:2025)", "(DATE 2025-01-01T00:00:00Z 2025-12-31T23:59:59Z)"},
        {"title:date:2025", "(DATE 2025-01-01T00:00:00Z 2025-12-31T23:59:59Z)"},
    };

    (void)state;
    RUN(cases, 0);
}

static void test_parse_reports_each_error_with_its_column(void **state)
{
    static const struct {
        const char *q;
        const char *want;
        size_t col;
    } cases[] = {
        {"\"peace deal", "unbalanced '\"'", 1},
        {"nato \"peace", "unbalanced '\"'", 6},
        {"\"a\" \"b", "unbalanced '\"'", 5},
        {"(nato", "unbalanced '('", 1},
        {"a (b (c)", "unbalanced '('", 3},
        {"nato)", "unbalanced ')'", 5},
        {")", "unbalanced ')'", 1},
        {"(a) b)", "unbalanced ')'", 6},
        {"nato OR", "dangling operator \"OR\" (nothing after it)", 6},
        {"nato |", "dangling operator \"|\" (nothing after it)", 6},
        {"nato AND", "dangling operator \"AND\" (nothing after it)", 6},
        {"AND nato", "dangling operator \"AND\" (nothing before it)", 1},
        {"OR nato", "dangling operator \"OR\" (nothing before it)", 1},
        {"&& nato", "dangling operator \"&&\" (nothing before it)", 1},
        {"NOT", "dangling operator \"NOT\" (nothing after it)", 1},
        {"nato NOT", "dangling operator \"NOT\" (nothing after it)", 6},
        {"a OR OR b", "dangling operator \"OR\" (nothing after it)", 3},
        {"a AND OR b", "dangling operator \"AND\" (nothing after it)", 3},
        {"(OR a)", "dangling operator \"OR\" (nothing before it)", 2},
        {"(a OR)", "dangling operator \"OR\" (nothing after it)", 4},
        {"NOT )", "dangling operator \"NOT\"", 1},
        {"()", "empty group \"()\"", 1},
        {"a ( )", "empty group", 3},
        {"-()", "empty group", 2},
        {"foo:bar", "unknown field \"foo\"", 1},
        {"nato Foo:(a b)", "unknown field \"Foo\"", 6},
        {"nato foo:\"a b\"", "unknown field \"foo\"", 6},
        {"x -foo:bar", "unknown field \"foo\"", 4},
        {"title:", "expected a word, phrase or group after \"title:\"", 1},
        {"(title:)", "after \"title:\"", 2},
        {"nato source: OR x", "after \"source:\"", 6},
        {"date:", "expected a date or range after \"date:\"", 1},
        {"a date:(2025)", "expected a date or range after \"date:\"", 3},
        {"date:2025-13", "bad date \"2025-13\"", 6},
        {"date:2025-02-30", "bad date \"2025-02-30\"", 6},
        {"date:foo", "bad date \"foo\"", 6},
        {"date:7x", "bad date \"7x\"", 6},
        {"date:1234567d", "bad date", 6},
        {"date:2025..2025-13", "bad date \"2025-13\"", 12},
        {"date:>=x", "bad date \"x\"", 8},
        {"date:<", "bad date \"\"", 7},
        {"date:..", "bad date range", 6},
        {"date:2025..2024", "empty date range \"2025..2024\"", 6},
        {"date:>2025-02-12T10:00:00Z..", "bad date", 7},
        {"", "empty query", 1},
        {"   ", "empty query", 1},
        {"... & -", "empty query", 1},
        {"-russia OR", "dangling operator \"OR\"", 9},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_error(cases[i].q, cases[i].want, cases[i].col);
}

/* A query made of COUNT copies of UNIT, wrapped in PRE/POST. Caller frees. */
static char *repeat(const char *pre, const char *unit, size_t count, const char *post)
{
    size_t lp = strlen(pre), lu = strlen(unit), ls = strlen(post);
    char *s = malloc(lp + lu * count + ls + 1);
    char *p = s;

    assert_non_null(s);
    memcpy(p, pre, lp);
    p += lp;
    for (size_t i = 0; i < count; i++, p += lu)
        memcpy(p, unit, lu);
    memcpy(p, post, ls + 1);
    return s;
}

static void test_parse_limits_nesting_depth(void **state)
{
    char *open = repeat("", "(", 1000, "a");
    char *q = repeat(open, ")", 1000, "");
    char *ok_open = repeat("", "(", Q_PARSE_MAX_DEPTH, "a");
    char *ok = repeat(ok_open, ")", Q_PARSE_MAX_DEPTH, "");
    char *nots = repeat("", "NOT ", 1000, "a");
    char *minus = repeat("", "-(", 1000, "a");
    char *fields = repeat("", "title:", 1000, "a");

    (void)state;
    expect_error(q, "nests too deeply", Q_PARSE_MAX_DEPTH + 1);
    expect_error(open, "nests too deeply", Q_PARSE_MAX_DEPTH + 1);
    expect_error(nots, "nests too deeply", 4 * Q_PARSE_MAX_DEPTH + 1);
    expect_error(minus, "nests too deeply", 101);
    expect_error(fields, "nests too deeply", 6 * Q_PARSE_MAX_DEPTH + 1);
    expect_tree(ok, 0, "(TERM a)");
    free(open);
    free(q);
    free(ok_open);
    free(ok);
    free(nots);
    free(minus);
    free(fields);
}

static void test_parse_handles_long_flat_queries(void **state)
{
    struct q_parse_opts opts = {0, 0};
    struct q_arena mem;
    struct q_node *root = NULL;
    struct fmt_err err;
    char *and_q = repeat("", "word ", 20000, "last");
    char *or_q = repeat("", "w OR ", 20000, "last");

    (void)state;
    q_arena_init(&mem);
    assert_int_equal(q_parse(and_q, &opts, &mem, &root, NULL, &err), FMT_OK);
    assert_int_equal(root->kind, Q_AND);
    assert_int_equal(root->nkids, 20001);
    assert_string_equal(root->kids[20000]->text, "last");
    assert_int_equal(root->kids[20000]->col, 5 * 20000 + 1);
    assert_int_equal(q_parse(or_q, &opts, &mem, &root, NULL, &err), FMT_OK);
    assert_int_equal(root->kind, Q_OR);
    assert_int_equal(root->nkids, 20001);
    opts.default_or = 1;
    assert_int_equal(q_parse(and_q, &opts, &mem, &root, NULL, &err), FMT_OK);
    assert_int_equal(root->kind, Q_OR);
    assert_int_equal(root->nkids, 20001);
    q_arena_release(&mem);
    free(and_q);
    free(or_q);
}

/* Parse Q (must succeed) into MEM. */
static struct q_node *parse_ok(const char *q, struct q_arena *mem)
{
    struct q_parse_opts opts = {0, pinned_now()};
    struct q_node *root = NULL;
    struct fmt_err err = {0, ""};

    if (q_parse(q, &opts, mem, &root, NULL, &err) != FMT_OK)
        fail_msg("query [%s]: %s", q, err.msg);
    return root;
}

static void test_parse_leaves_keep_raw_text_and_byte_columns(void **state)
{
    struct q_arena mem;
    struct q_node *n;

    (void)state;
    q_arena_init(&mem);
    n = parse_ok("nato -russia", &mem);
    assert_int_equal(n->col, 1);
    assert_int_equal(n->kids[0]->col, 1);
    assert_int_equal(n->kids[1]->kind, Q_NOT);
    assert_int_equal(n->kids[1]->col, 6);
    assert_int_equal(n->kids[1]->kids[0]->col, 7);
    assert_null(n->kids[1]->text);
    assert_int_equal(n->field, Q_FIELD_DEFAULT);

    n = parse_ok("  title:Kyiv's", &mem);
    assert_int_equal(n->kind, Q_TERM);
    assert_int_equal(n->field, Q_FIELD_TITLE);
    assert_string_equal(n->text, "Kyiv's");
    assert_int_equal(n->len, 6);
    assert_int_equal(n->col, 9);

    n = parse_ok("élan \"Peace  Deal\"", &mem); /* é is two bytes */
    assert_string_equal(n->kids[0]->text, "élan");
    assert_int_equal(n->kids[1]->kind, Q_PHRASE);
    assert_string_equal(n->kids[1]->text, "Peace  Deal");
    assert_int_equal(n->kids[1]->col, 7);

    n = parse_ok("x date:2025", &mem);
    assert_int_equal(n->kids[1]->kind, Q_DATE);
    assert_int_equal(n->kids[1]->col, 3);
    assert_int_equal(n->kids[1]->field, Q_FIELD_DEFAULT);
    assert_null(n->kids[1]->kids);

    n = parse_ok("NOT x", &mem);
    assert_int_equal(n->col, 1);
    assert_int_equal(n->nkids, 1);
    assert_int_equal(n->kids[0]->col, 5);

    n = parse_ok("sanction* (a OR b)", &mem);
    assert_int_equal(n->kids[0]->kind, Q_PREFIX);
    assert_string_equal(n->kids[0]->text, "sanction");
    assert_int_equal(n->kids[0]->len, 8);
    assert_int_equal(n->kids[1]->col, 12);
    q_arena_release(&mem);
}

static void test_parse_detects_negative_only_queries(void **state)
{
    static const struct {
        const char *q;
        int want;
    } cases[] = {
        {"-russia", 1},         {"NOT x", 1},         {"-a -b", 1},
        {"a OR -b", 1},         {"-(a b)", 1},        {"(-a) OR (-b)", 1},
        {"title:-x", 1},        {"nato", 0},          {"a -b", 0},
        {"-a b", 0},            {"a OR b", 0},        {"date:2025 -x", 0},
        {"(a OR -b) c", 0},     {"\"a b\" -c", 0},    {"NOT NOT a", 0},
    };
    struct q_arena mem;

    (void)state;
    q_arena_init(&mem);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (q_node_is_negative_only(parse_ok(cases[i].q, &mem)) != cases[i].want)
            fail_msg("query [%s]: negative-only should be %d", cases[i].q, cases[i].want);
    }
    assert_int_equal(q_node_is_negative_only(NULL), 0);
    q_arena_release(&mem);
}

static void test_parse_rejects_missing_arguments(void **state)
{
    struct q_parse_opts opts = {0, 0};
    struct q_arena mem;
    struct q_node *root = NULL;
    struct fmt_err err = {0, ""};
    size_t col = 7;

    (void)state;
    q_arena_init(&mem);
    assert_int_equal(q_parse(NULL, &opts, &mem, &root, &col, &err), FMT_EINVAL);
    assert_int_equal(col, 0);
    assert_int_equal(q_parse("a", NULL, &mem, &root, &col, &err), FMT_EINVAL);
    assert_int_equal(q_parse("a", &opts, NULL, &root, &col, &err), FMT_EINVAL);
    assert_int_equal(q_parse("a", &opts, &mem, NULL, &col, &err), FMT_EINVAL);
    /* err and err_col may be NULL */
    assert_int_equal(q_parse("(", &opts, &mem, &root, NULL, NULL), FMT_EINVAL);
    assert_null(root);
    q_arena_release(&mem);
}

static int64_t at(const char *iso)
{
    int64_t t = 0;

    assert_int_equal(fmt_time_parse(iso, strlen(iso), &t), FMT_OK);
    return t;
}

static void test_date_parse_absolute_relative_and_bounds(void **state)
{
    static const struct {
        const char *s;
        int is_upper;
        const char *now;
        const char *want;
    } cases[] = {
        {"2025", 0, "2025-02-12T10:00:00Z", "2025-01-01T00:00:00Z"},
        {"2025", 1, "2025-02-12T10:00:00Z", "2025-12-31T23:59:59Z"},
        {"2025-02", 0, "2025-02-12T10:00:00Z", "2025-02-01T00:00:00Z"},
        {"2025-02", 1, "2025-02-12T10:00:00Z", "2025-02-28T23:59:59Z"},
        {"2025-02-01", 0, "2025-02-12T10:00:00Z", "2025-02-01T00:00:00Z"},
        {"2025-02-28", 1, "2025-02-12T10:00:00Z", "2025-02-28T23:59:59Z"},
        {"2025-02-12T10:30:00Z", 1, "2025-02-12T10:00:00Z", "2025-02-12T10:30:00Z"},
        {"2025-02-12 10:30:00", 0, "2025-02-12T10:00:00Z", "2025-02-12T10:30:00Z"},
        {"7d", 0, "2025-02-12T10:00:00Z", "2025-02-05T10:00:00Z"},
        {"7d", 1, "2025-02-12T10:00:00Z", "2025-02-05T10:00:00Z"},
        {"12h", 0, "2025-02-12T10:00:00Z", "2025-02-11T22:00:00Z"},
        {"3w", 1, "2025-02-12T10:00:00Z", "2025-01-22T10:00:00Z"},
        {"1m", 0, "2025-03-31T12:00:00Z", "2025-02-28T12:00:00Z"},
        {"13m", 0, "2025-03-31T12:00:00Z", "2024-02-29T12:00:00Z"},
        {"1y", 0, "2024-02-29T08:00:00Z", "2023-02-28T08:00:00Z"},
        {"2M", 0, "2025-01-15T00:00:00Z", "2024-11-15T00:00:00Z"},
        {"1d", 0, "1970-01-01T00:00:00Z", "1969-12-31T00:00:00Z"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fmt_err err = {0, ""};
        int64_t out = 0;
        char got[40];
        int rc = q_date_parse(cases[i].s, at(cases[i].now), cases[i].is_upper, &out, &err);
        if (rc != FMT_OK)
            fail_msg("date [%s]: %s", cases[i].s, err.msg);
        fmt_time_format(out, got, sizeof(got));
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("date [%s] upper=%d: got %s want %s", cases[i].s, cases[i].is_upper, got,
                     cases[i].want);
    }
}

static void test_date_parse_rejects_bad_dates(void **state)
{
    static const char *const bad[] = {"",        "2025-13",  "2025-02-30", "25",
                                      "7",       "d",        "7x",         "-7d",
                                      "1234567d", "2025-2",   "2025..",     " 2025",
                                      "2025 ",   "20250212", "7 d",        "today"};
    int64_t out = 42;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct fmt_err err = {0, ""};
        if (q_date_parse(bad[i], pinned_now(), 0, &out, &err) != FMT_EINVAL)
            fail_msg("date [%s] was accepted", bad[i]);
        assert_int_equal(err.code, FMT_EINVAL);
        assert_non_null(strstr(err.msg, "bad date \""));
        assert_non_null(strstr(err.msg, bad[i]));
    }
    assert_int_equal(out, 42);
    assert_int_equal(q_date_parse(NULL, 0, 0, &out, NULL), FMT_EINVAL);
}

static void test_print_appends_to_the_buffer(void **state)
{
    struct q_arena mem;
    struct fmt_buf out;

    (void)state;
    q_arena_init(&mem);
    fmt_buf_init(&out);
    assert_int_equal(fmt_buf_puts(&out, "tree: "), FMT_OK);
    assert_int_equal(q_node_print(parse_ok("url:x", &mem), &out), FMT_OK);
    assert_int_equal(fmt_buf_terminate(&out), FMT_OK);
    assert_string_equal((char *)out.p, "tree: (TERM url:x)");
    assert_string_equal(q_field_name(Q_FIELD_SOURCE), "source");
    assert_string_equal(q_field_name(Q_FIELD_DEFAULT), "");
    fmt_buf_release(&out);
    q_arena_release(&mem);
}

static void test_arena_allocations_are_aligned_zeroed_and_distinct(void **state)
{
    struct q_arena mem;
    unsigned char *prev = NULL;

    (void)state;
    q_arena_init(&mem);
    for (size_t i = 0; i < 5000; i++) {
        size_t size = i % 37;
        unsigned char *p = q_arena_alloc(&mem, size);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
        for (size_t k = 0; k < size; k++)
            assert_int_equal(p[k], 0);
        memset(p, 0xAB, size);
        assert_true(p != prev);
        prev = p;
    }
    q_arena_release(&mem);
    assert_null(mem.head);
    q_arena_release(&mem); /* releasing an empty arena is fine */
}

static void test_arena_serves_large_blocks_and_strings(void **state)
{
    struct q_arena mem;
    unsigned char *small, *big, *after;
    char *s;

    (void)state;
    q_arena_init(&mem);
    small = q_arena_alloc(&mem, 8);
    big = q_arena_alloc(&mem, 1 << 20);
    assert_non_null(big);
    memset(big, 1, 1 << 20);
    after = q_arena_alloc(&mem, 8);
    assert_non_null(after);
    assert_true(after == small + _Alignof(max_align_t) ||
                after == small + 8); /* still bumping in the first block */
    assert_null(q_arena_alloc(&mem, SIZE_MAX));
    s = q_arena_strndup(&mem, "abcdef", 3);
    assert_string_equal(s, "abc");
    s = q_arena_strdup(&mem, "Kyiv's");
    assert_string_equal(s, "Kyiv's");
    s = q_arena_strndup(&mem, "", 0);
    assert_string_equal(s, "");
    assert_true(mem.total >= (1u << 20));
    q_arena_release(&mem);
    assert_int_equal(mem.total, 0);
    assert_non_null(q_arena_alloc(&mem, 16)); /* reusable after release */
    q_arena_release(&mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_words_phrases_and_operators),
        cmocka_unit_test(test_parse_precedence_not_and_or),
        cmocka_unit_test(test_parse_default_or_joins_juxtaposed_words_with_or),
        cmocka_unit_test(test_parse_punctuation_words_never_fail),
        cmocka_unit_test(test_parse_trailing_star_makes_prefix),
        cmocka_unit_test(test_parse_fields_scope_words_phrases_and_groups),
        cmocka_unit_test(test_parse_date_filters_make_inclusive_ranges),
        cmocka_unit_test(test_parse_reports_each_error_with_its_column),
        cmocka_unit_test(test_parse_limits_nesting_depth),
        cmocka_unit_test(test_parse_handles_long_flat_queries),
        cmocka_unit_test(test_parse_leaves_keep_raw_text_and_byte_columns),
        cmocka_unit_test(test_parse_detects_negative_only_queries),
        cmocka_unit_test(test_parse_rejects_missing_arguments),
        cmocka_unit_test(test_date_parse_absolute_relative_and_bounds),
        cmocka_unit_test(test_date_parse_rejects_bad_dates),
        cmocka_unit_test(test_print_appends_to_the_buffer),
        cmocka_unit_test(test_arena_allocations_are_aligned_zeroed_and_distinct),
        cmocka_unit_test(test_arena_serves_large_blocks_and_strings),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
