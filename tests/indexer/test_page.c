/* test_page.c - saved-page parser: title, image line, body up to "-", source, and the teaser
 * lists read apart by idx_page_teasers (items, source split, ages, repeats, bad lists). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "page.h"

/* Contents of NEWSIDX_ROOT/REL (malloc'd, *LEN set), or NULL when absent. */
static char *read_root(const char *rel, size_t *len)
{
    const char *root = getenv("NEWSIDX_ROOT");
    char path[4096];
    FILE *f;
    char *p;
    long n;

    if (!root)
        return NULL;
    snprintf(path, sizeof(path), "%s/%s", root, rel);
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

/* Contents of NEWSIDX_ROOT/../shared/REL, or NULL when absent. */
static char *read_shared(const char *rel, size_t *len)
{
    char path[600];

    snprintf(path, sizeof(path), "../shared/%s", rel);
    return read_root(path, len);
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

/* --- teasers ---------------------------------------------------------------------------- */

/* Expected teaser: headline, exact source, age in seconds, and the summary's last bytes. */
struct want_teaser {
    const char *title;
    const char *source;
    int64_t age;
    const char *summary_end;
};

static void assert_slice(const char *p, size_t len, const char *want)
{
    char got[1024];

    assert_true(len < sizeof(got));
    memcpy(got, p, len);
    got[len] = 0;
    assert_string_equal(got, want);
}

static void assert_ends_with(const char *p, size_t len, const char *end)
{
    size_t n = strlen(end);

    if (len < n || memcmp(p + len - n, end, n) != 0)
        fail_msg("summary \"%.*s\" does not end with \"%s\"", (int)len, p, end);
}

static void assert_teasers(const char *text, size_t len, const struct want_teaser *want,
                           size_t nwant)
{
    struct idx_teaser *t = NULL;
    struct fmt_err err;
    size_t n = 99;

    assert_int_equal(idx_page_teasers(text, len, &t, &n, &err), FMT_OK);
    assert_int_equal(n, nwant);
    for (size_t i = 0; i < n; i++) {
        assert_slice(t[i].title, t[i].title_len, want[i].title);
        assert_slice(t[i].source, t[i].source_len, want[i].source);
        assert_true(t[i].age == want[i].age);
        assert_ends_with(t[i].summary, t[i].summary_len, want[i].summary_end);
        /* summary + source is the line before " - <age>": adjacent slices */
        assert_ptr_equal(t[i].summary + t[i].summary_len, t[i].source);
        for (size_t j = 0; j < i; j++)
            assert_true(t[i].key != t[j].key);
    }
    free(t);
}

/* Teasers of TEXT (a C string); the caller frees *T. */
static size_t teasers_of(const char *text, struct idx_teaser **t)
{
    struct fmt_err err;
    size_t n = 99;

    assert_int_equal(idx_page_teasers(text, strlen(text), t, &n, &err), FMT_OK);
    assert_true((n == 0) == (*t == NULL));
    return n;
}

static void test_page_teasers_of_the_hill_sample_have_exact_sources(void **state)
{
    static const struct want_teaser want[] = {
        {"Hegseth sets out hard line on European defence and Nato", "BBC News", 20 * 60,
         "responsibility for Ukraine's future defence."},
        {"Hegseth rules out Ukraine NATO membership in any ceasefire with Russia", "CBS News",
         45 * 60, "must step up to secure Ukraine."},
        {"Hegseth visits NATO as allies await US Ukraine plans", "ABC News", 3600,
         "winning all its territory back from Russia"},
        {"Ukraine and Russia trade long-range attacks as officials probe possibilities for peace",
         "ABC News", 86400, "struck an important oil refinery inside Russia"},
        {"Russia attacks Ukraine's capital, rules out returning any occupied land", "CBS News",
         3 * 3600, "occupied territory for a peace deal."},
        {"Pete Hegseth tells NATO that a return to Ukraine's 2014 borders is 'unrealistic'",
         "NBC News", 4 * 3600, "before 2014, when Russia annexed Crimea."},
        {"Hopes for Ukraine peace deal framework at Munich Security Conference", "Yahoo News",
         2 * 86400, ""},
        {"Ukraine war live: All Putin\u2019s conditions must be met before peace deal can be "
         "agreed, says Russian minister",
         "The Guardian", 2 * 86400, "the upcoming Munich Security Conference ..."},
        {"A Trump peace plan for Ukraine?", "BBC News", 4 * 86400,
         "could be unveiled this week."},
        {"No, asylum seekers are not invading the country", "The Hill", 26 * 60,
         "more likely to foment it."},
        {"Larry Summers sounds alarm over inflation under Trump", "The Hill", 29 * 60,
         "inflation rose unexpectedly to 3 percent ..."},
        {"Who is Alexander Vinnik, Russian exchanged for Marc Fogel", "The Hill", 30 * 60,
         "earlier this week, the White House ..."},
        {"House Democrats call for investigation into top DOJ officials", "The Hill", 37 * 60,
         "in taking actions on cases in which they were ..."},
        {"Senate tees up final vote on RFK Jr. to lead HHS", "The Hill", 50 * 60,
         "a key step that puts him on the precipice ..."},
    };
    size_t len = 0;
    char *text = read_shared("samples/thehill-hegseth-nato-ukraine.txt", &len);

    (void)state;
    if (!text)
        skip();
    /* the five "More in Politics" items repeat "More from The Hill": delivered once */
    assert_teasers(text, len, want, sizeof(want) / sizeof(want[0]));
    free(text);
}

static void test_page_teasers_of_the_project_sample(void **state)
{
    static const struct want_teaser want[] = {
        {"Kyiv says drone strikes hit fuel depot near the border", "Harbor Wire", 35 * 60,
         "Russian units in the south."},
        {"Inflation surprise pushes bond yields higher", "Harbor Wire", 3600,
         "will stay high for longer."},
        {"Grain exporters report record shipments through Black Sea corridor",
         "The Ledger Review", 3 * 3600, "naval escorts became routine."},
        {"City council approves late-night bus routes", "Northgate Herald", 20 * 60,
         "with outer neighbourhoods."},
        {"Local bakery wins regional bread prize", "Northgate Herald", 2 * 3600,
         "at the spring fair."},
        {"Election officials prepare recount in coastal province", "Northgate Herald",
         4 * 3600, "fewer than 900 votes."},
    };
    size_t len = 0;
    char *text = read_root("samples/nato-ministers-ukraine-membership.txt", &len);

    (void)state;
    if (!text)
        skip();
    assert_teasers(text, len, want, sizeof(want) / sizeof(want[0]));
    free(text);
}

static void test_page_teaser_without_summary_and_last_without_trailing_dash(void **state)
{
    static const struct want_teaser want[] = {
        {"Only a source", "Yahoo News", 2 * 86400, ""},
        {"Source of five words alone", "The Times of South Wales", 3600, ""},
        {"Last of the list", "Example Wire", 50 * 60, "Summary ends here."},
    };
    const char *text = "T\nBody.\n-\n"
                       "Only a source\nYahoo News - 2d -\n"
                       "Source of five words alone\nThe Times of South Wales - 1h -\n"
                       "Last of the list\nSummary ends here.Example Wire - 50m\n";

    (void)state;
    assert_teasers(text, strlen(text), want, 3);
}

static void test_page_teaser_ages_are_minutes_hours_days(void **state)
{
    struct idx_teaser *t;

    (void)state;
    assert_int_equal(teasers_of("T\nB\n-\na\nS - 1m -\nb\nS - 7h\nc\nS - 10d -\n"
                                "d\nS  -  999999d  -\n",
                                &t),
                     4);
    assert_true(t[0].age == 60);
    assert_true(t[1].age == 7 * 3600);
    assert_true(t[2].age == 10 * 86400);
    assert_true(t[3].age == (int64_t)999999 * 86400);
    free(t);
    /* not age lines: unknown unit, no number, too many digits, no " - ", nothing before */
    assert_int_equal(teasers_of("T\nB\n-\na\nS - 5y -\nb\nS - m -\nc\nS - 1234567d -\n"
                                "d\nS -5m -\ne\nS- 5m\nf\n- 5m -\ng\n5m\n",
                                &t),
                     0);
}

static void test_page_headline_without_age_line_is_not_a_teaser(void **state)
{
    struct idx_teaser *t;

    (void)state;
    /* "Orphan" has no age line; the line after it gets its own chance as a headline */
    assert_int_equal(teasers_of("T\nBody.\n-\nOrphan headline\nReal headline\n"
                                "A summary.Wire One - 5m -\nAnother orphan\n",
                                &t),
                     1);
    assert_slice(t[0].title, t[0].title_len, "Real headline");
    assert_slice(t[0].source, t[0].source_len, "Wire One");
    free(t);
    /* an age line is never a headline: a missing headline costs one item, not the next */
    assert_int_equal(teasers_of("T\nB\n-\nH1\nS1.Wire - 1m -\nS2.Wire - 2m -\nH3\n"
                                "S3.Wire - 3m -\n",
                                &t),
                     2);
    assert_slice(t[0].title, t[0].title_len, "H1");
    assert_slice(t[1].title, t[1].title_len, "H3");
    assert_true(t[1].age == 180);
    free(t);
}

static void test_page_teaser_source_split_rules(void **state)
{
    static const struct want_teaser want[] = {
        /* punctuation wins over a case boundary in the same word */
        {"p1", "CNN", 60, "in the U.S."},
        {"p1b", "Apple Insider", 60, "the new iPhone."},
        /* the last case boundary of the glued word */
        {"p2", "BBC News", 60, "launched on YouTube"},
        /* a later word with a glue point beats punctuation in earlier words */
        {"p3", "ABC News", 60, "hit the U.S. economy"},
        /* curly quote, ellipsis character, question mark, digit before the source */
        {"p4", "Sky News", 60, "called it \u2018a disgrace\u2019"},
        {"p5", "The Paper", 60, "and more\u2026"},
        {"p6", "Le Monde", 60, "what next?"},
        {"p7", "Wire", 60, "rose 3.5"},
        /* non-ASCII capital after punctuation */
        {"p8", "\u00d6sterreich Heute", 60, "die Verhandlungen."},
        /* glue points in the first word are ignored: a source alone (so a one-word summary
           is not told apart, unless rule 1 knows the source) */
        {"p9", "McClatchy DC", 60, ""},
        {"p9b", "Exclusive.Reuters", 60, ""},
        /* a long text without a glue point: all summary, source unknown */
        {"p10", "", 60, "with no source glued to it at all"},
        /* glue further back than five words is not a source */
        {"p11", "", 60, "one two three four five six"},
    };
    const char *text = "T\nB\n-\n"
                       "p1\nSanctions widen in the U.S.CNN - 1m -\n"
                       "p1b\nReviews of the new iPhone.Apple Insider - 1m -\n"
                       "p2\nThe model launched on YouTubeBBC News - 1m -\n"
                       "p3\nPrices hit the U.S. economyABC News - 1m -\n"
                       "p4\nThe minister called it \u2018a disgrace\u2019Sky News - 1m -\n"
                       "p5\nExcerpts and more\u2026The Paper - 1m -\n"
                       "p6\nAnd what next?Le Monde - 1m -\n"
                       "p7\nPrices rose 3.5Wire - 1m -\n"
                       "p8\nEs geht um die Verhandlungen.\u00d6sterreich Heute - 1m -\n"
                       "p9\nMcClatchy DC - 1m -\n"
                       "p9b\nExclusive.Reuters - 1m -\n"
                       "p10\nA long summary line with no source glued to it at all - 1m -\n"
                       "p11\nA.B one two three four five six - 1m -\n";

    (void)state;
    assert_teasers(text, strlen(text), want, sizeof(want) / sizeof(want[0]));
}

static void test_page_teaser_known_sources_recover_camel_case_names(void **state)
{
    static const struct want_teaser want[] = {
        /* alone, "textTechCrunch" would split at its last case boundary: "Crunch" */
        {"a", "TechCrunch", 60, "startups raised more"},
        {"b", "TechCrunch", 120, "Funding fell."},
        /* "More from McClatchy DC" names a source the same way */
        {"c", "McClatchy DC", 180, "council votes tonight"},
        /* a known source glued after a case boundary the heuristic misses */
        {"d", "CNN", 240, "said Conan O\u2019Brien"},
        {"e", "CNN", 300, "Another one."},
        /* a one-word summary is told apart only by a known source */
        {"f", "CNN", 360, "Exclusive."},
    };
    const char *text = "T\nB\n-\n"
                       "a\nSome startups raised moreTechCrunch - 1m -\n"
                       "b\nFunding fell.TechCrunch - 2m -\n"
                       "c\nThe council votes tonightMcClatchy DC - 3m -\n"
                       "d\nThe host said Conan O\u2019BrienCNN - 4m -\n"
                       "e\nAnother one.CNN - 5m -\n"
                       "f\nExclusive.CNN - 6m -\n"
                       "More from McClatchy DC\n-\n";

    (void)state;
    assert_teasers(text, strlen(text), want, sizeof(want) / sizeof(want[0]));
}

static void test_page_teaser_repeats_are_dropped_by_folded_headline(void **state)
{
    struct idx_teaser *t;

    (void)state;
    assert_int_equal(teasers_of("T\nB\n-\n"
                                "Hegseth\u2019s  NATO line\nS.Wire - 1m -\n"
                                "Other story\nS.Wire - 2m -\n"
                                "More in Politics\n-\n"
                                "hegseth's NATO LINE\nS.Wire - 3m -\n"      /* case, quote, space */
                                "H\u00e9gseth\u2019s NATO line \nS.Wire - 4m -\n" /* accent */
                                "Third story\nS.Wire - 5m -\n",
                                &t),
                     3);
    assert_slice(t[0].title, t[0].title_len, "Hegseth\u2019s  NATO line"); /* first one kept */
    assert_true(t[0].age == 60);
    assert_slice(t[1].title, t[1].title_len, "Other story");
    assert_slice(t[2].title, t[2].title_len, "Third story");
    free(t);
}

static void test_page_teaser_key_is_pinned(void **state)
{
    struct idx_teaser *t;

    (void)state;
    /* ids of indexed teasers are built from this hash: changing it duplicates old teasers */
    assert_int_equal(teasers_of("T\nB\n-\nHegseth sets out hard line on European defence and "
                                "Nato\nS.BBC News - 20m -\n",
                                &t),
                     1);
    assert_true(t[0].key == 0xa9bfdeb9965b29d6ULL);
    free(t);
}

static void test_page_without_teaser_lists_has_no_teasers(void **state)
{
    struct idx_teaser *t;
    struct fmt_err err;
    size_t n = 99;

    (void)state;
    /* no "-" line: every line is body, even one that looks like a teaser */
    assert_int_equal(teasers_of("T\nHeadline-like line\nSummary.Wire - 5m -\n", &t), 0);
    assert_int_equal(teasers_of("T\nBody.\n-\n", &t), 0);
    assert_int_equal(teasers_of("T\n", &t), 0);
    assert_int_equal(idx_page_teasers("", 0, &t, &n, &err), FMT_OK);
    assert_int_equal(n, 0);
    assert_null(t);
}

static void test_page_malformed_teaser_lists_never_fail_the_page(void **state)
{
    const char *text = "Title\nBody one.\nBody two.\n-\n-\n - \nMore from\nMore in X\n"
                       "H\n- 5m\n - 5m - \nMore from Y\nH2\n\n\nS.Wire - 5m -\n-\n"
                       "Dangling headline";
    struct fmt_article a;
    struct idx_teaser *t;
    struct fmt_err err;
    size_t n, len = 0;
    char *hill = read_shared("samples/thehill-hegseth-nato-ukraine.txt", &len);

    (void)state;
    parse_ok(text, &a);
    assert_string_equal(a.body, "Body one.\nBody two.");
    fmt_article_release(&a);
    assert_int_equal(teasers_of(text, &t), 1); /* H2 with its age line after blank lines */
    assert_slice(t[0].title, t[0].title_len, "H2");
    free(t);
    if (!hill)
        return;
    /* every prefix of the sample: both parsers succeed, slices stay inside the text */
    for (size_t cut = 1; cut <= len; cut++) {
        char *p = malloc(cut);
        assert_non_null(p);
        memcpy(p, hill, cut);
        assert_int_equal(idx_page_parse(p, cut, &a, NULL, &err), FMT_OK);
        assert_null(strstr(a.body, "inflation"));
        fmt_article_release(&a);
        assert_int_equal(idx_page_teasers(p, cut, &t, &n, &err), FMT_OK);
        assert_true(n <= 14);
        for (size_t i = 0; i < n; i++) {
            assert_true(t[i].title >= p && t[i].title + t[i].title_len <= p + cut);
            assert_true(t[i].summary >= p && t[i].source + t[i].source_len <= p + cut);
        }
        free(t);
        free(p);
    }
    free(hill);
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
        cmocka_unit_test(test_page_teasers_of_the_hill_sample_have_exact_sources),
        cmocka_unit_test(test_page_teasers_of_the_project_sample),
        cmocka_unit_test(test_page_teaser_without_summary_and_last_without_trailing_dash),
        cmocka_unit_test(test_page_teaser_ages_are_minutes_hours_days),
        cmocka_unit_test(test_page_headline_without_age_line_is_not_a_teaser),
        cmocka_unit_test(test_page_teaser_source_split_rules),
        cmocka_unit_test(test_page_teaser_known_sources_recover_camel_case_names),
        cmocka_unit_test(test_page_teaser_repeats_are_dropped_by_folded_headline),
        cmocka_unit_test(test_page_teaser_key_is_pinned),
        cmocka_unit_test(test_page_without_teaser_lists_has_no_teasers),
        cmocka_unit_test(test_page_malformed_teaser_lists_never_fail_the_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
