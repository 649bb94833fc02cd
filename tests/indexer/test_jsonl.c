/* test_jsonl.c - JSON Lines record parser: fields, aliases, types, errors with columns. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "jsonl.h"

static int parse(const char *line, struct fmt_article *a, size_t *col, struct fmt_err *err)
{
    return idx_jsonl_parse_line(line, strlen(line), a, col, err);
}

static void test_jsonl_extracts_all_fields(void **state)
{
    struct fmt_article a;
    struct fmt_err err;

    (void)state;
    assert_int_equal(parse("{\"id\":\"w-1\",\"title\":\"Talks resume\",\"source\":\"Wire\","
                           "\"timestamp\":\"2025-02-14T09:30:00Z\",\"url\":\"https://e.org/1\","
                           "\"body\":\"Line one.\\nLine two.\",\"tags\":[\"a\",{\"b\":null}]}",
                           &a, NULL, &err),
                     FMT_OK);
    assert_string_equal(a.id, "w-1");
    assert_string_equal(a.title, "Talks resume");
    assert_string_equal(a.source, "Wire");
    assert_string_equal(a.url, "https://e.org/1");
    assert_string_equal(a.body, "Line one.\nLine two.");
    assert_true(a.timestamp == 1739525400);
    fmt_article_release(&a);
}

static void test_jsonl_missing_fields_are_empty_and_no_time(void **state)
{
    struct fmt_article a;
    struct fmt_err err;

    (void)state;
    assert_int_equal(parse("{\"title\":\"Only a title\"}", &a, NULL, &err), FMT_OK);
    assert_string_equal(a.id, "");
    assert_string_equal(a.source, "");
    assert_string_equal(a.body, "");
    assert_true(a.timestamp == FMT_NO_TIME);
    fmt_article_release(&a);
    assert_int_equal(parse("{\"title\":null,\"date\":null,\"body\":\"b\"}", &a, NULL, &err),
                     FMT_OK);
    assert_string_equal(a.title, "");
    assert_true(a.timestamp == FMT_NO_TIME);
    fmt_article_release(&a);
}

static void test_jsonl_aliases_and_canonical_name_wins(void **state)
{
    struct fmt_article a;
    struct fmt_err err;

    (void)state;
    assert_int_equal(parse("{\"text\":\"from text\",\"published\":\"2025-02-12\"}", &a, NULL,
                           &err),
                     FMT_OK);
    assert_string_equal(a.body, "from text");
    assert_true(a.timestamp == 1739318400);
    fmt_article_release(&a);
    assert_int_equal(parse("{\"body\":\"canonical\",\"content\":\"alias\",\"time\":1,"
                           "\"timestamp\":2,\"date\":3}",
                           &a, NULL, &err),
                     FMT_OK);
    assert_string_equal(a.body, "canonical");
    assert_true(a.timestamp == 2);
    fmt_article_release(&a);
    assert_int_equal(parse("{\"content\":\"c\",\"text\":\"t\"}", &a, NULL, &err), FMT_OK);
    assert_string_equal(a.body, "t");
    fmt_article_release(&a);
}

static void test_jsonl_numeric_timestamp_and_id(void **state)
{
    struct fmt_article a;
    struct fmt_err err;

    (void)state;
    assert_int_equal(parse("{\"id\":42,\"timestamp\":1739525400.75}", &a, NULL, &err), FMT_OK);
    assert_string_equal(a.id, "42");
    assert_true(a.timestamp == 1739525400);
    fmt_article_release(&a);
    assert_int_equal(parse("{\"date\":\"2025-02-14 10:30:00+01:00\"}", &a, NULL, &err), FMT_OK);
    assert_true(a.timestamp == 1739525400);
    fmt_article_release(&a);
}

static void test_jsonl_escapes_and_surrogates_in_fields(void **state)
{
    struct fmt_article a;
    struct fmt_err err;
    size_t col = 0;

    (void)state;
    assert_int_equal(parse("{\"title\":\"Kyiv\\u2019s \\\"deal\\\" \\ud83d\\ude00\"}", &a, NULL,
                           &err),
                     FMT_OK);
    assert_string_equal(a.title, "Kyiv\xe2\x80\x99s \"deal\" \xf0\x9f\x98\x80");
    fmt_article_release(&a);
    assert_int_equal(parse("{\"title\":\"x\\udc00\"}", &a, &col, &err), FMT_EINVAL);
    assert_string_equal(err.msg, "broken JSON: lone low surrogate at column 12");
    assert_int_equal(col, 12);
}

static void test_jsonl_broken_json_reports_column(void **state)
{
    struct fmt_article a;
    struct fmt_err err;
    size_t col = 0;

    (void)state;
    assert_int_equal(parse("{\"title\" \"x\"}", &a, &col, &err), FMT_EINVAL);
    assert_string_equal(err.msg, "broken JSON: expected ':' at column 10");
    assert_int_equal(col, 10);
    assert_int_equal(parse("{\"title\":\"x\",", &a, &col, &err), FMT_EINVAL);
    assert_string_equal(err.msg, "broken JSON: expected '\"' (a key) at column 14 (end of line)");
    assert_int_equal(parse("[\"not an object\"]", &a, &col, &err), FMT_EINVAL);
    assert_string_equal(err.msg, "broken JSON: expected '{' at column 1");
}

static void test_jsonl_wrong_types_and_bad_values_are_rejected(void **state)
{
    static const struct {
        const char *line;
        const char *msg;
    } cases[] = {
        {"{\"title\":[\"a\"]}", "\"title\" must be a string at column 10"},
        {"{\"body\":true}", "\"body\" must be a string at column 9"},
        {"{\"id\":{}}", "\"id\" must be a string at column 7"},
        {"{\"date\":\"yesterday\"}", "bad timestamp \"yesterday\" at column 9"},
        {"{\"timestamp\":\"2025-02-30\"}", "bad timestamp \"2025-02-30\" at column 14"},
        {"{\"timestamp\":true}", "\"timestamp\" must be a string or a number at column 14"},
        {"{\"timestamp\":1e300}", "bad timestamp \"1e300\" at column 14"},
        {"{\"body\":\"a\\u0000b\"}", "\\u0000 in \"body\" at column 9"},
    };
    struct fmt_article a;
    struct fmt_err err;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t col = 0;
        assert_int_equal(parse(cases[i].line, &a, &col, &err), FMT_EINVAL);
        assert_string_equal(err.msg, cases[i].msg);
        assert_true(col > 0);
    }
}

static void test_jsonl_blank_line_is_not_found(void **state)
{
    struct fmt_article a;
    struct fmt_err err;

    (void)state;
    assert_int_equal(parse("", &a, NULL, &err), FMT_ENOTFOUND);
    assert_int_equal(parse("  \t\r", &a, NULL, &err), FMT_ENOTFOUND);
}

static void test_jsonl_unknown_keys_with_deep_values_are_skipped(void **state)
{
    struct fmt_article a;
    struct fmt_err err;

    (void)state;
    assert_int_equal(parse("{\"meta\":{\"title\":\"inner\",\"x\":[[[{\"body\":1}]]]},"
                           "\"title\":\"outer\",\"n\":-0.5e-3,\"ok\":false}",
                           &a, NULL, &err),
                     FMT_OK);
    assert_string_equal(a.title, "outer");
    assert_string_equal(a.body, "");
    fmt_article_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonl_extracts_all_fields),
        cmocka_unit_test(test_jsonl_missing_fields_are_empty_and_no_time),
        cmocka_unit_test(test_jsonl_aliases_and_canonical_name_wins),
        cmocka_unit_test(test_jsonl_numeric_timestamp_and_id),
        cmocka_unit_test(test_jsonl_escapes_and_surrogates_in_fields),
        cmocka_unit_test(test_jsonl_broken_json_reports_column),
        cmocka_unit_test(test_jsonl_wrong_types_and_bad_values_are_rejected),
        cmocka_unit_test(test_jsonl_blank_line_is_not_found),
        cmocka_unit_test(test_jsonl_unknown_keys_with_deep_values_are_skipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
