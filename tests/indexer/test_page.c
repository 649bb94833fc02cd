/* test_page.c - saved-page parser: title, image line, body up to "-", teasers, source. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "page.h"

/* Contents of NEWSIDX_ROOT/../shared/REL (malloc'd, *LEN set), or NULL when absent. */
static char *read_shared(const char *rel, size_t *len)
{
    const char *root = getenv("NEWSIDX_ROOT");
    char path[4096];
    FILE *f;
    char *p;
    long n;

    if (!root)
        return NULL;
    snprintf(path, sizeof(path), "%s/../shared/%s", root, rel);
    f = fopen(path, "rb");
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    p[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void parse_ok(const char *text, struct fmt_article *a)
{
    struct fmt_err err;
    size_t line = 99;

    assert_int_equal(idx_page_parse(text, strlen(text), a, &line, &err), FMT_OK);
}

static void test_page_sample_title_body_and_source(void **state)
{
    struct fmt_article a;
    struct fmt_err err;
    size_t len = 0, line;
    char *text = read_shared("samples/thehill-hegseth-nato-ukraine.txt", &len);

    (void)state;
    if (!text)
        skip();
    assert_int_equal(idx_page_parse(text, len, &a, &line, &err), FMT_OK);
    assert_string_equal(a.title,
                        "Hegseth rules out NATO membership for Ukraine in peace deal with Russia");
    assert_string_equal(a.source, "The Hill");
    assert_true(strncmp(a.body, "Defense Secretary Pete Hegseth said Wednesday", 45) == 0);
    assert_non_null(strstr(a.body, "primarily focused on the security of Europe."));
    assert_null(strstr(a.body, "inflation"));
    assert_null(strstr(a.body, "Larry Summers"));
    assert_null(strstr(a.body, "More from"));
    assert_null(strstr(a.body, "wp-content")); /* the image line */
    assert_null(strstr(a.body, "\n\n"));
    assert_string_equal(a.id, "");
    assert_string_equal(a.url, "");
    assert_true(a.timestamp == FMT_NO_TIME);
    fmt_article_release(&a);
    free(text);
}

static void test_page_bbc_corpus_file_without_teasers(void **state)
{
    struct fmt_article a;
    struct fmt_err err;
    size_t len = 0, line;
    char *text = read_shared("corpora/bbc/business/001.txt", &len);

    (void)state;
    if (!text)
        skip();
    assert_int_equal(idx_page_parse(text, len, &a, &line, &err), FMT_OK);
    assert_string_equal(a.title, "Ad sales boost Time Warner profit");
    assert_true(strncmp(a.body, "Quarterly profits at US media giant TimeWarner", 46) == 0);
    assert_null(strstr(a.body, "\n\n")); /* blank lines between paragraphs dropped */
    assert_non_null(strchr(a.body, '\n'));
    assert_string_equal(a.source, "");
    fmt_article_release(&a);
    free(text);
}

static void test_page_body_stops_at_first_dash_line(void **state)
{
    struct fmt_article a;

    (void)state;
    parse_ok("\n\n  Title here  \r\n"
             "First paragraph.\r\n"
             "\r\n"
             "  Second - with a dash inside.\n"
             " - \n"
             "Teaser headline\n"
             "Teaser summary.Other News - 5m -\n"
             "More from Example Times\n"
             "-\n"
             "Another teaser\n",
             &a);
    assert_string_equal(a.title, "Title here");
    assert_string_equal(a.body, "First paragraph.\nSecond - with a dash inside.");
    assert_string_equal(a.source, "Example Times");
    fmt_article_release(&a);
}

static void test_page_more_header_directly_before_dash_ends_body(void **state)
{
    struct fmt_article a;

    (void)state;
    parse_ok("T\nBody one.\nMore from Wire Daily\n-\nTeaser\n", &a);
    assert_string_equal(a.body, "Body one.");
    assert_string_equal(a.source, "Wire Daily");
    fmt_article_release(&a);
    /* a body line that merely starts with "More from" stays */
    parse_ok("T\nMore from the minister later.\nEnd.\n", &a);
    assert_string_equal(a.body, "More from the minister later.\nEnd.");
    assert_string_equal(a.source, "");
    fmt_article_release(&a);
}

static void test_page_more_in_header_is_not_a_source(void **state)
{
    struct fmt_article a;

    (void)state;
    parse_ok("T\nBody.\n-\nMore in Politics\n-\nx\nMore from The Paper\n-\ny\n", &a);
    assert_string_equal(a.source, "The Paper");
    fmt_article_release(&a);
}

static void test_page_image_line_only_skipped_right_after_title(void **state)
{
    struct fmt_article a;

    (void)state;
    parse_ok("T\n\n![alt text](https://example.org/a.jpg)\nBody.\n![kept](x.png)\n", &a);
    assert_string_equal(a.body, "Body.\n![kept](x.png)");
    fmt_article_release(&a);
}

static void test_page_title_only_has_empty_body(void **state)
{
    struct fmt_article a;

    (void)state;
    parse_ok("Just a headline", &a);
    assert_string_equal(a.title, "Just a headline");
    assert_string_equal(a.body, "");
    fmt_article_release(&a);
}

static void test_page_blank_text_is_rejected(void **state)
{
    struct fmt_article a;
    struct fmt_err err;
    size_t line = 99;

    (void)state;
    assert_int_equal(idx_page_parse(" \n\t\r\n\n", 6, &a, &line, &err), FMT_EINVAL);
    assert_string_equal(err.msg, "blank file");
    assert_int_equal(line, 0);
    assert_int_equal(idx_page_parse("", 0, &a, NULL, &err), FMT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_sample_title_body_and_source),
        cmocka_unit_test(test_page_bbc_corpus_file_without_teasers),
        cmocka_unit_test(test_page_body_stops_at_first_dash_line),
        cmocka_unit_test(test_page_more_header_directly_before_dash_ends_body),
        cmocka_unit_test(test_page_more_in_header_is_not_a_source),
        cmocka_unit_test(test_page_image_line_only_skipped_right_after_title),
        cmocka_unit_test(test_page_title_only_has_empty_body),
        cmocka_unit_test(test_page_blank_text_is_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
