/* test_snippet.c - snippet window choice, word-boundary cuts and highlighting. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "snippet.h"

static int setup(void **state)
{
    struct fmt_analyzer_cfg cfg;
    struct fmt_analyzer *an = NULL;
    fmt_analyzer_cfg_default(&cfg);
    if (fmt_analyzer_new(&an, &cfg, NULL) != FMT_OK)
        return -1;
    *state = an;
    return 0;
}

static int teardown(void **state)
{
    fmt_analyzer_free(*state);
    return 0;
}

/* Snippet of TEXT for TERMS (NUL-terminated analyzed terms) with [ ] highlights. */
static char *snip(void *an, const char *text, const char *const *terms, size_t n,
                  size_t width)
{
    struct q_snip_term t[8];
    struct q_snip_opts o;
    struct fmt_buf out = {NULL, 0, 0};
    for (size_t i = 0; i < n; i++) {
        t[i].term = terms[i];
        t[i].len = strlen(terms[i]);
        t[i].prefix = terms[i][t[i].len - 1] == '*';
        if (t[i].prefix)
            t[i].len--;
    }
    q_snip_opts_default(&o);
    o.width = width;
    o.hl_on = "[";
    o.hl_off = "]";
    assert_int_equal(q_snippet(an, text, strlen(text), t, n, &o, &out, NULL), FMT_OK);
    assert_int_equal(fmt_buf_terminate(&out), FMT_OK);
    return (char *)out.p;
}

static const char filler[] =
    "Alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike "
    "november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee "
    "zulu. ";

static void test_snippet_picks_the_window_with_most_matches(void **state)
{
    char text[2048];
    const char *terms[] = {"nato", "ukrain"};
    snprintf(text, sizeof(text), "Nato was mentioned once. %s%s%s"
             "Nato rules out Ukraine membership, Nato says, and Ukraine objects. %s",
             filler, filler, filler, filler);
    char *s = snip(*state, text, terms, 2, 100);
    assert_non_null(strstr(s, "[Nato] rules out [Ukraine] membership, [Nato] says"));
    assert_null(strstr(s, "mentioned once"));
    assert_true(strncmp(s, "\xe2\x80\xa6", 3) == 0);
    free(s);
}

static void test_snippet_cuts_at_word_boundaries_with_ellipses(void **state)
{
    char text[2048];
    const char *terms[] = {"sierra"};
    snprintf(text, sizeof(text), "%s%s", filler, filler);
    char *s = snip(*state, text, terms, 1, 40);
    size_t n = strlen(s);
    /* starts and ends with an ellipsis, and the words next to them are whole words */
    assert_true(n > 6);
    assert_memory_equal(s, "\xe2\x80\xa6", 3);
    assert_memory_equal(s + n - 3, "\xe2\x80\xa6", 3);
    const char *first = s + 3;
    size_t flen = strcspn(first, " ");
    char word[64];
    assert_true(flen < sizeof(word) - 2);
    word[0] = ' ';
    memcpy(word + 1, first, flen);
    word[flen + 1] = ' ';
    word[flen + 2] = '\0';
    assert_non_null(strstr(text, word)); /* " word " exists in the text */
    const char *lastsp = s + n - 3;
    while (lastsp > s && lastsp[-1] != ' ')
        lastsp--;
    size_t llen = (size_t)(s + n - 3 - lastsp);
    word[0] = ' ';
    memcpy(word + 1, lastsp, llen);
    word[llen + 1] = ' ';
    word[llen + 2] = '\0';
    assert_non_null(strstr(text, word));
    assert_non_null(strstr(s, "[sierra]"));
    free(s);
}

static void test_snippet_without_match_is_the_start_of_the_body(void **state)
{
    char text[2048];
    const char *terms[] = {"absent"};
    snprintf(text, sizeof(text), "%s%s", filler, filler);
    char *s = snip(*state, text, terms, 1, 50);
    assert_true(strncmp(s, "Alpha bravo charlie", 19) == 0);
    assert_null(strchr(s, '['));
    size_t n = strlen(s);
    assert_memory_equal(s + n - 3, "\xe2\x80\xa6", 3);
    assert_true(n - 3 <= 50);
    free(s);
}

static void test_snippet_of_short_body_is_whole_and_collapses_white_space(void **state)
{
    const char *terms[] = {"deal"};
    char *s = snip(*state, "  Peace   deal\n\nsigned.\t", terms, 1, 160);
    assert_string_equal(s, "Peace [deal] signed.");
    free(s);
}

static void test_snippet_highlights_stemmed_and_prefix_matches(void **state)
{
    const char *terms[] = {"sanction*", "impos"};
    char *s = snip(*state, "The EU imposed sanctions; sanctioning continues.", terms, 2, 160);
    assert_string_equal(s, "The EU [imposed] [sanctions]; [sanctioning] continues.");
    free(s);
}

static void test_snippet_replaces_control_characters(void **state)
{
    const char *terms[] = {"x"};
    char *s = snip(*state, "a\033[31mred\x7f", terms, 1, 160);
    assert_null(strchr(s, '\033'));
    assert_null(strchr(s, '\x7f'));
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snippet_picks_the_window_with_most_matches),
        cmocka_unit_test(test_snippet_cuts_at_word_boundaries_with_ellipses),
        cmocka_unit_test(test_snippet_without_match_is_the_start_of_the_body),
        cmocka_unit_test(test_snippet_of_short_body_is_whole_and_collapses_white_space),
        cmocka_unit_test(test_snippet_highlights_stemmed_and_prefix_matches),
        cmocka_unit_test(test_snippet_replaces_control_characters),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
