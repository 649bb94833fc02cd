/* test_frontmatter.c - Markdown with YAML front matter: keys, aliases, errors with lines. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "frontmatter.h"

static int parse(const char *text, struct fmt_article *a, size_t *line, struct fmt_err *err)
{
    return idx_frontmatter_parse(text, strlen(text), a, line, err);
}

static void test_frontmatter_extracts_keys_and_body(void **state)
{
    struct fmt_article a;
    struct fmt_err err;
    size_t line = 99;

    (void)state;
    assert_int_equal(parse("---\n"
                           "title: \"Talks on a ceasefire: day two\"\n"
                           "source: Example Wire\n"
                           "date: 2025-02-14T09:30:00Z\n"
                           "url: https://example.org/geneva\n"
                           "id: geneva-2\n"
                           "tags: [nato, ukraine]\n"
                           "author: {name: A. Writer, email: a@example.org}\n"
                           "---\n"
                           "\n"
                           "First paragraph with *emphasis*.\n"
                           "\n"
                           "Second paragraph.  \n\n",
                           &a, &line, &err),
                     FMT_OK);
    assert_string_equal(a.title, "Talks on a ceasefire: day two");
    assert_string_equal(a.source, "Example Wire");
    assert_string_equal(a.url, "https://example.org/geneva");
    assert_string_equal(a.id, "geneva-2");
    assert_true(a.timestamp == 1739525400);
    assert_string_equal(a.body, "First paragraph with *emphasis*.\n\nSecond paragraph.");
    fmt_article_release(&a);
}

static void test_frontmatter_date_aliases_and_formats(void **state)
{
    struct fmt_article a;
    struct fmt_err err;

    (void)state;
    assert_int_equal(parse("---\npublished: '2025-02-12'\ntitle: T\n---\nb\n", &a, NULL, &err),
                     FMT_OK);
    assert_true(a.timestamp == 1739318400);
    fmt_article_release(&a);
    assert_int_equal(parse("---\nTimestamp: 1739318400\ntitle: T\n---\nb\n", &a, NULL, &err),
                     FMT_OK);
    assert_true(a.timestamp == 1739318400);
    fmt_article_release(&a);
    /* date is canonical and wins over its aliases in any order */
    assert_int_equal(parse("---\npublished: 2000-01-01\ndate: 2025-02-12 00:00:00\n"
                           "timestamp: 1999-01-01\n---\nb\n",
                           &a, NULL, &err),
                     FMT_OK);
    assert_true(a.timestamp == 1739318400);
    fmt_article_release(&a);
    assert_int_equal(parse("---\ntitle: T\ndate: ~\n---\nb\n", &a, NULL, &err), FMT_OK);
    assert_true(a.timestamp == FMT_NO_TIME);
    fmt_article_release(&a);
}

static void test_frontmatter_broken_yaml_reports_file_line(void **state)
{
    struct fmt_article a;
    struct fmt_err err;
    size_t line = 0;

    (void)state;
    /* an unterminated quoted scalar runs to the end of the block, line 4 of the file */
    assert_int_equal(parse("---\ntitle: ok\nsource: \"unterminated\n---\nbody\n", &a, &line,
                           &err),
                     FMT_EINVAL);
    assert_true(strncmp(err.msg, "broken YAML: ", 13) == 0);
    assert_int_equal(line, 4);
    assert_int_equal(parse("---\ntitle: ok\nsource: x\n  bad: indent: here\n---\nbody\n", &a,
                           &line, &err),
                     FMT_EINVAL);
    assert_string_equal(err.msg, "broken YAML: mapping values are not allowed in this context");
    assert_int_equal(line, 4);
}

static void test_frontmatter_bad_date_names_its_line(void **state)
{
    struct fmt_article a;
    struct fmt_err err;
    size_t line = 0;

    (void)state;
    assert_int_equal(parse("---\ntitle: T\n\ndate: \"next Tuesday\"\n---\nb\n", &a, &line, &err),
                     FMT_EINVAL);
    assert_string_equal(err.msg, "bad date \"next Tuesday\"");
    assert_int_equal(line, 4);
    assert_int_equal(parse("---\ndate: 2025-02-12T25:61:00Z\n---\nb\n", &a, &line, &err),
                     FMT_EINVAL);
    assert_int_equal(line, 2);
}

static void test_frontmatter_structural_errors(void **state)
{
    struct fmt_article a;
    struct fmt_err err;
    size_t line = 0;

    (void)state;
    assert_int_equal(parse("---\ntitle: T\nno closing fence\n", &a, &line, &err), FMT_EINVAL);
    assert_string_equal(err.msg, "front matter has no closing \"---\" line");
    assert_int_equal(line, 1);
    assert_int_equal(parse("---\n- a\n- b\n---\nbody\n", &a, &line, &err), FMT_EINVAL);
    assert_string_equal(err.msg, "front matter is not a mapping");
    assert_int_equal(line, 2);
    assert_int_equal(parse("---\ntitle:\n  - a\n  - b\n---\nbody\n", &a, &line, &err),
                     FMT_EINVAL);
    assert_string_equal(err.msg, "\"title\" must be a single value");
    assert_int_equal(line, 3);
    assert_int_equal(parse("---\ntitle: \"a\\0b\"\n---\nbody\n", &a, &line, &err), FMT_EINVAL);
    assert_string_equal(err.msg, "NUL character in \"title\"");
}

static void test_frontmatter_title_from_heading_when_missing(void **state)
{
    struct fmt_article a;
    struct fmt_err err;

    (void)state;
    assert_int_equal(parse("---\nsource: S\n---\n\n# Rates held steady ##\n\nThe bank said.\n", &a,
                           NULL, &err),
                     FMT_OK);
    assert_string_equal(a.title, "Rates held steady");
    assert_string_equal(a.body, "The bank said.");
    fmt_article_release(&a);
    assert_int_equal(parse("Setext title\n============\nBody.\r\nMore.\r\n", &a, NULL, &err),
                     FMT_OK);
    assert_string_equal(a.title, "Setext title");
    assert_string_equal(a.body, "Body.\nMore.");
    assert_string_equal(a.source, "");
    fmt_article_release(&a);
}

static void test_frontmatter_crlf_and_empty_block(void **state)
{
    struct fmt_article a;
    struct fmt_err err;

    (void)state;
    assert_int_equal(parse("---\r\ntitle: CRLF\r\n---\r\nbody line\r\n", &a, NULL, &err), FMT_OK);
    assert_string_equal(a.title, "CRLF");
    assert_string_equal(a.body, "body line");
    fmt_article_release(&a);
    assert_int_equal(parse("---\n---\nOnly body\n", &a, NULL, &err), FMT_OK);
    assert_string_equal(a.title, "Only body");
    fmt_article_release(&a);
    assert_int_equal(parse("---\ntags: [a]\n---\n\n", &a, NULL, &err), FMT_EINVAL);
    assert_string_equal(err.msg, "blank file");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frontmatter_extracts_keys_and_body),
        cmocka_unit_test(test_frontmatter_date_aliases_and_formats),
        cmocka_unit_test(test_frontmatter_broken_yaml_reports_file_line),
        cmocka_unit_test(test_frontmatter_bad_date_names_its_line),
        cmocka_unit_test(test_frontmatter_structural_errors),
        cmocka_unit_test(test_frontmatter_title_from_heading_when_missing),
        cmocka_unit_test(test_frontmatter_crlf_and_empty_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
