/* test_analyzer.c - unit tests for format/analyzer.c: UTF-8 validation and repair, every
 * tokenizer rule of docs/ANALYSIS.md, positions and byte offsets, stemming and its cache. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <libstemmer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "buf.h"

#define MAX_TOKS 64

struct tokinfo {
    uint32_t pos;
    size_t start;
    size_t end;
};

/* Collects tokens: terms joined by single spaces in `terms`, details of the first MAX_TOKS. */
struct collect {
    struct fmt_buf terms;
    size_t n;
    struct tokinfo tok[MAX_TOKS];
    size_t stop_at; /* when > 0: return 42 from the stop_at-th token */
    char sep;       /* between terms; ' ' unless set */
};

static int collect_fn(void *ctx, const struct fmt_token *t)
{
    struct collect *c = ctx;

    if (c->n > 0)
        assert_int_equal(fmt_buf_putc(&c->terms, (uint8_t)(c->sep ? c->sep : ' ')), FMT_OK);
    assert_int_equal(fmt_buf_append(&c->terms, t->term, t->len), FMT_OK);
    if (c->n < MAX_TOKS) {
        c->tok[c->n].pos = t->pos;
        c->tok[c->n].start = t->start;
        c->tok[c->n].end = t->end;
    }
    c->n++;
    if (c->stop_at && c->n == c->stop_at)
        return 42;
    return 0;
}

static void collect_init(struct collect *c)
{
    memset(c, 0, sizeof(*c));
    fmt_buf_init(&c->terms);
}

/* Run the analyzer over TEXT[0..len) and return the joined terms (owned by C). */
static const char *run_len(struct fmt_analyzer *an, const char *text, size_t len, int stemmed,
                           struct collect *c)
{
    int rc;

    collect_init(c);
    if (stemmed)
        rc = fmt_analyze(an, text, len, collect_fn, c);
    else
        rc = fmt_analyze_unstemmed(an, text, len, collect_fn, c);
    assert_int_equal(rc, FMT_OK);
    assert_int_equal(fmt_buf_terminate(&c->terms), FMT_OK);
    return (const char *)c->terms.p;
}

static struct fmt_analyzer *new_analyzer(const char *language, int fold)
{
    struct fmt_analyzer_cfg cfg;
    struct fmt_analyzer *an = NULL;
    struct fmt_err err = {0};

    fmt_analyzer_cfg_default(&cfg);
    snprintf(cfg.language, sizeof(cfg.language), "%s", language);
    cfg.fold_diacritics = fold;
    assert_int_equal(fmt_analyzer_new(&an, &cfg, &err), FMT_OK);
    assert_non_null(an);
    return an;
}

struct tcase {
    const char *in;
    const char *want; /* terms joined by one space */
};

static void check_cases(struct fmt_analyzer *an, const struct tcase *cases, size_t n,
                        int stemmed)
{
    struct collect c;
    size_t i;

    for (i = 0; i < n; i++) {
        const char *got = run_len(an, cases[i].in, strlen(cases[i].in), stemmed, &c);
        if (strcmp(got, cases[i].want) != 0)
            print_error("input \"%s\": got \"%s\", want \"%s\"\n", cases[i].in, got,
                        cases[i].want);
        assert_string_equal(got, cases[i].want);
        fmt_buf_release(&c.terms);
    }
}

#define CHECK_CASES(an, cases, stemmed)                                                     \
    check_cases(an, cases, sizeof(cases) / sizeof(cases[0]), stemmed)

/* ---- configuration ----------------------------------------------------------------------- */

static void test_cfg_default_is_english_with_diacritic_folding(void **state)
{
    struct fmt_analyzer_cfg cfg;

    (void)state;
    memset(&cfg, 0x55, sizeof(cfg));
    fmt_analyzer_cfg_default(&cfg);
    assert_string_equal(cfg.language, "english");
    assert_int_equal(cfg.fold_diacritics, 1);
}

static void test_null_cfg_means_defaults(void **state)
{
    struct fmt_analyzer *an = NULL;
    struct collect c;

    (void)state;
    assert_int_equal(fmt_analyzer_new(&an, NULL, NULL), FMT_OK);
    assert_string_equal(run_len(an, "Running cafés", strlen("Running cafés"), 1, &c), "run cafe");
    fmt_buf_release(&c.terms);
    fmt_analyzer_free(an);
}

static void test_unknown_language_is_einval_naming_it(void **state)
{
    struct fmt_analyzer_cfg cfg;
    struct fmt_analyzer *an = (struct fmt_analyzer *)&cfg; /* must be reset to NULL */
    struct fmt_err err = {0};

    (void)state;
    fmt_analyzer_cfg_default(&cfg);
    snprintf(cfg.language, sizeof(cfg.language), "xx");
    assert_int_equal(fmt_analyzer_new(&an, &cfg, &err), FMT_EINVAL);
    assert_null(an);
    assert_int_equal(err.code, FMT_EINVAL);
    assert_string_equal(err.msg, "unknown analyzer language \"xx\"");
}

static void test_unterminated_language_is_einval(void **state)
{
    struct fmt_analyzer_cfg cfg;
    struct fmt_analyzer *an = NULL;
    struct fmt_err err = {0};

    (void)state;
    fmt_analyzer_cfg_default(&cfg);
    memset(cfg.language, 'e', sizeof(cfg.language));
    assert_int_equal(fmt_analyzer_new(&an, &cfg, &err), FMT_EINVAL);
    assert_null(an);
    assert_non_null(strstr(err.msg, "analyzer language"));
}

static void test_other_snowball_languages_load(void **state)
{
    static const char *langs[] = {"french", "german", "russian", "spanish", "porter"};
    struct fmt_analyzer *an;
    struct collect c;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(langs) / sizeof(langs[0]); i++) {
        an = new_analyzer(langs[i], 1);
        run_len(an, "words", 5, 1, &c);
        assert_int_equal(c.n, 1);
        fmt_buf_release(&c.terms);
        fmt_analyzer_free(an);
    }
    an = new_analyzer("french", 1);
    assert_string_equal(run_len(an, "continuellement", 15, 1, &c), "continuel");
    fmt_buf_release(&c.terms);
    fmt_analyzer_free(an);
}

static void test_free_accepts_null(void **state)
{
    (void)state;
    fmt_analyzer_free(NULL);
}

/* ---- folding --------------------------------------------------------------------------- */

static void test_folding_lowercases_and_strips_diacritics(void **state)
{
    static const struct tcase cases[] = {
        {"Café", "cafe"},
        {"KYIV", "kyiv"},
        {"Straße", "strasse"},
        {"cafe\xcc\x81", "cafe"}, /* NFD: e + U+0301 */
        {"ÉCOLE Über naïve", "ecole uber naive"},
        {"Zürich São Paulo Łódź", "zurich sao paulo łodz"}, /* Ł has no decomposition */
        {"Київ", "киів"}, /* ї is і + diaeresis */
        {"МОСКВА", "москва"},
        {"ΑΘΉΝΑ", "αθηνα"},
        {"\xef\xac\x81nance", "finance"},                      /* U+FB01 fi ligature */
        {"\xef\xbc\xb4\xef\xbd\x8f\xef\xbd\x8b\xef\xbd\x99\xef\xbd\x8f", "tokyo"}, /* fullwidth */
        {"MiXeD CaSe", "mixed case"},
    };

    struct fmt_analyzer *an = new_analyzer("english", 1);

    (void)state;
    CHECK_CASES(an, cases, 0);
    fmt_analyzer_free(an);
}

static void test_folding_keeps_diacritics_when_disabled(void **state)
{
    static const struct tcase cases[] = {
        {"Café", "café"},
        {"cafe\xcc\x81", "café"}, /* composed to NFC */
        {"Straße", "strasse"},
        {"ÉCOLE", "école"},
    };
    struct fmt_analyzer *an = new_analyzer("english", 0);

    (void)state;
    CHECK_CASES(an, cases, 0);
    fmt_analyzer_free(an);
}

static void test_folding_happens_before_stemming(void **state)
{
    static const struct tcase cases[] = {
        {"RUNNING", "run"},
        {"Cafés", "cafe"},
        {"NATIONS", "nation"},
    };
    struct fmt_analyzer *an = new_analyzer("english", 1);

    (void)state;
    CHECK_CASES(an, cases, 1);
    fmt_analyzer_free(an);
}

static void test_word_of_only_marks_is_dropped_when_folding(void **state)
{
    struct fmt_analyzer *an = new_analyzer("english", 1);
    struct collect c;

    (void)state;
    /* a stray U+0301 after a space forms a word that folds to nothing: no position taken */
    assert_string_equal(run_len(an, "a \xcc\x81 b", 6, 1, &c), "a b");
    assert_int_equal(c.tok[1].pos, 1);
    fmt_buf_release(&c.terms);
    fmt_analyzer_free(an);
}

/* ---- apostrophes ----------------------------------------------------------------------- */

static void test_apostrophes_inside_words_stay_and_possessive_is_stemmed(void **state)
{
    static const struct tcase cases[] = {
        {"Kyiv's", "kyiv"},
        {"Kyiv’s", "kyiv"},
        {"KYIV’S", "kyiv"},
        {"'tis", "tis"},
        {"students'", "student"},
        {"students’", "student"},
        {"O'Brien", "o'brien"},
        {"rock 'n' roll", "rock n roll"},
        {"the 90's", "the 90 s"},
        {"’quoted’", "quot"},
    };
    struct fmt_analyzer *an = new_analyzer("english", 1);

    (void)state;
    CHECK_CASES(an, cases, 1);
    fmt_analyzer_free(an);
}

static void test_apostrophes_are_normalized_in_unstemmed_words(void **state)
{
    static const struct tcase cases[] = {
        {"Kyiv’s", "kyiv's"},
        {"Kyiv's", "kyiv's"},
        {"don’t", "don't"},
        {"Kyiv’’s", "kyiv s"}, /* two apostrophes are not between two letters */
    };
    struct fmt_analyzer *an = new_analyzer("english", 1);

    (void)state;
    CHECK_CASES(an, cases, 0);
    fmt_analyzer_free(an);
}

/* ---- acronyms -------------------------------------------------------------------------- */

static void test_acronyms_with_dots_become_one_word(void **state)
{
    static const struct tcase cases[] = {
        {"U.S.", "us"},
        {"U.S", "us"},
        {"U.S.A.", "usa"},
        {"e.g.", "eg"},
        {"i.e., this", "ie this"},
        {"U.S.-led", "us led"},
        {"the U.S. army", "the us army"},
        {"J.R.R. Tolkien", "jrr tolkien"},
        {"É.U.", "eu"},
        {"plan B. Then", "plan b then"},
        {"x.com", "x com"},
        {"A.Smith", "a smith"},
        {"a...b", "a b"},
        {"U.Sa", "u sa"},
    };
    struct fmt_analyzer *an = new_analyzer("english", 1);

    (void)state;
    CHECK_CASES(an, cases, 0);
    fmt_analyzer_free(an);
}

static void test_acronym_span_includes_final_dot(void **state)
{
    struct fmt_analyzer *an = new_analyzer("english", 1);
    struct collect c;

    (void)state;
    assert_string_equal(run_len(an, "U.S.-led", 8, 1, &c), "us led");
    assert_int_equal(c.tok[0].start, 0);
    assert_int_equal(c.tok[0].end, 4);
    assert_int_equal(c.tok[1].start, 5);
    assert_int_equal(c.tok[1].end, 8);
    fmt_buf_release(&c.terms);
    /* a single letter is no acronym: its dot ends the sentence */
    assert_string_equal(run_len(an, "plan B. Then", 12, 1, &c), "plan b then");
    assert_int_equal(c.tok[1].start, 5);
    assert_int_equal(c.tok[1].end, 6);
    fmt_buf_release(&c.terms);
    assert_string_equal(run_len(an, "in U.S", 6, 1, &c), "in us");
    assert_int_equal(c.tok[1].start, 3);
    assert_int_equal(c.tok[1].end, 6);
    fmt_buf_release(&c.terms);
    fmt_analyzer_free(an);
}

/* ---- hyphens ----------------------------------------------------------------------------- */

static void test_hyphens_split_words_at_consecutive_positions(void **state)
{
    static const struct tcase cases[] = {
        {"multi-agent", "multi agent"},
        {"post-war", "post war"},
        {"state-of-the-art", "state of the art"},
        {"Kyiv–Moscow", "kyiv moscow"}, /* en dash */
        {"well‐known", "well known"},   /* U+2010 hyphen */
    };
    struct fmt_analyzer *an = new_analyzer("english", 1);
    struct collect c;

    (void)state;
    CHECK_CASES(an, cases, 0);
    run_len(an, "multi-agent", 11, 1, &c);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.tok[0].pos, 0);
    assert_int_equal(c.tok[1].pos, 1);
    fmt_buf_release(&c.terms);
    fmt_analyzer_free(an);
}

static void test_soft_hyphen_and_joiners_inside_words_are_dropped(void **state)
{
    static const struct tcase cases[] = {
        {"news\xc2\xadpaper", "newspaper"},       /* U+00AD soft hyphen */
        {"news\xe2\x81\xa0paper", "newspaper"},   /* U+2060 word joiner */
        {"end\xc2\xad the", "end the"},           /* soft hyphen at the end of a word */
        {"a \xe2\x80\x8d b", "a b"},              /* ZWJ between separators */
    };
    struct fmt_analyzer *an = new_analyzer("english", 1);

    (void)state;
    CHECK_CASES(an, cases, 0);
    fmt_analyzer_free(an);
}

/* ---- numbers ----------------------------------------------------------------------------- */

static void test_numbers_keep_internal_dots_and_drop_commas(void **state)
{
    static const struct tcase cases[] = {
        {"1,750", "1750"},
        {"2.27", "2.27"},
        {"20.04", "20.04"},
        {"$800", "800"},
        {"3%", "3"},
        {"1,000,000.50", "1000000.50"},
        {"in 2020.", "in 2020"},
        {"in 2020.The", "in 2020 the"},
        {".5", "5"},
        {"7-3", "7 3"},
        {"1,,2", "1 2"},
        {"v1.2", "v1.2"},
        {"1990s", "1990s"},
    };
    struct fmt_analyzer *an = new_analyzer("english", 1);

    (void)state;
    CHECK_CASES(an, cases, 1);
    fmt_analyzer_free(an);
}

/* ---- separators -------------------------------------------------------------------------- */

static void test_punctuation_and_symbols_separate_words(void **state)
{
    static const struct tcase cases[] = {
        {"AT&T", "at t"},
        {"hello, world!", "hello world"},
        {"foo_bar", "foo bar"},
        {"a/b", "a b"},
        {"C++", "c"},
        {"#tag @user", "tag user"},
        {"tab\tnew\nline\r\n", "tab new line"},
        {"a\xc2\xa0" "b", "a b"},              /* NBSP */
        {"peace\xf0\x9f\x95\x8a" "deal", "peace deal"}, /* emoji */
        {"«quoted» “text”", "quoted text"},
        {"...", ""},
        {"   ", ""},
    };
    struct fmt_analyzer *an = new_analyzer("none", 1);

    (void)state;
    CHECK_CASES(an, cases, 1);
    fmt_analyzer_free(an);
}

static void test_nul_bytes_separate_words(void **state)
{
    struct fmt_analyzer *an = new_analyzer("english", 1);
    struct collect c;

    (void)state;
    assert_string_equal(run_len(an, "ab\0cd", 5, 1, &c), "ab cd");
    fmt_buf_release(&c.terms);
    fmt_analyzer_free(an);
}

/* ---- positions and byte offsets ---------------------------------------------------------- */

static void test_positions_count_tokens_and_offsets_point_at_original_text(void **state)
{
    static const char text[] = "  Hello, wörld! U.S.-led 1,750 Kyiv’s";
    static const struct tokinfo want[] = {
        {0, 2, 7}, {1, 9, 15}, {2, 17, 21}, {3, 22, 25}, {4, 26, 31}, {5, 32, 40},
    };
    struct fmt_analyzer *an = new_analyzer("english", 1);
    struct collect c;
    size_t i;

    (void)state;
    assert_string_equal(run_len(an, text, sizeof(text) - 1, 1, &c),
                        "hello world us led 1750 kyiv");
    assert_int_equal(c.n, 6);
    for (i = 0; i < 6; i++) {
        assert_int_equal(c.tok[i].pos, want[i].pos);
        assert_int_equal(c.tok[i].start, want[i].start);
        assert_int_equal(c.tok[i].end, want[i].end);
    }
    assert_memory_equal(text + c.tok[1].start, "wörld", c.tok[1].end - c.tok[1].start);
    assert_memory_equal(text + c.tok[5].start, "Kyiv’s", c.tok[5].end - c.tok[5].start);
    fmt_buf_release(&c.terms);
    fmt_analyzer_free(an);
}

static void test_positions_restart_at_zero_for_each_call(void **state)
{
    struct fmt_analyzer *an = new_analyzer("english", 1);
    struct collect c;

    (void)state;
    run_len(an, "one two", 7, 1, &c);
    fmt_buf_release(&c.terms);
    run_len(an, "three", 5, 1, &c);
    assert_int_equal(c.tok[0].pos, 0);
    assert_int_equal(c.tok[0].start, 0);
    fmt_buf_release(&c.terms);
    fmt_analyzer_free(an);
}

static void test_overlong_words_are_dropped_without_a_position(void **state)
{
    struct fmt_analyzer *an = new_analyzer("english", 1);
    struct collect c;
    char *text = malloc(2004);
    char ok[300];

    (void)state;
    assert_non_null(text);
    text[0] = 'x';
    text[1] = ' ';
    memset(text + 2, 'a', 2000);
    text[2002] = ' ';
    text[2003] = 'y';
    assert_string_equal(run_len(an, text, 2004, 1, &c), "x y");
    assert_int_equal(c.tok[1].pos, 1);
    assert_int_equal(c.tok[1].start, 2003);
    fmt_buf_release(&c.terms);
    /* 255 bytes is still a term */
    memset(ok, 'b', 256);
    run_len(an, ok, 255, 0, &c);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.terms.len, 255);
    fmt_buf_release(&c.terms);
    run_len(an, ok, 256, 0, &c);
    assert_int_equal(c.n, 0);
    fmt_buf_release(&c.terms);
    free(text);
    fmt_analyzer_free(an);
}

/* ---- invalid UTF-8 ----------------------------------------------------------------------- */

struct utf8case {
    const char *in;
    size_t len;
    size_t nbad;
    size_t first_bad;
    const char *repaired;
};

#define U8(s) s, sizeof(s) - 1
#define FFFD "\xef\xbf\xbd"

static const struct utf8case utf8cases[] = {
    {U8("plain ascii"), 0, 0, "plain ascii"},
    {U8("caf\xc3\xa9 \xf0\x9f\x98\x80"), 0, 0, "caf\xc3\xa9 \xf0\x9f\x98\x80"},
    {U8("\xff"), 1, 0, FFFD},
    {U8("a\xff" "b"), 1, 1, "a" FFFD "b"},
    {U8("\x80"), 1, 0, FFFD},                          /* lone continuation byte */
    {U8("ab\xe2\x82"), 1, 2, "ab" FFFD},               /* truncated at the end */
    {U8("\xe2\x82" "x"), 1, 0, FFFD "x"},              /* truncated in the middle */
    {U8("\xf0\x9f\x98"), 1, 0, FFFD},                  /* truncated 4-byte sequence */
    {U8("\xc0\xaf"), 2, 0, FFFD FFFD},                 /* overlong '/' */
    {U8("\xe0\x80\xaf"), 3, 0, FFFD FFFD FFFD},        /* overlong '/' */
    {U8("\xf0\x80\x80\xaf"), 4, 0, FFFD FFFD FFFD FFFD},
    {U8("\xed\xa0\x80"), 3, 0, FFFD FFFD FFFD},        /* surrogate U+D800 */
    {U8("\xf4\x90\x80\x80"), 4, 0, FFFD FFFD FFFD FFFD}, /* U+110000 */
    {U8("ok\xf5\xfe"), 2, 2, "ok" FFFD FFFD},
};

static void test_utf8_invalid_counts_maximal_bad_subparts(void **state)
{
    size_t i, first;

    (void)state;
    for (i = 0; i < sizeof(utf8cases) / sizeof(utf8cases[0]); i++) {
        first = 12345;
        assert_int_equal(fmt_utf8_invalid(utf8cases[i].in, utf8cases[i].len, &first),
                         utf8cases[i].nbad);
        if (utf8cases[i].nbad)
            assert_int_equal(first, utf8cases[i].first_bad);
        else
            assert_int_equal(first, 12345); /* untouched */
        assert_int_equal(fmt_utf8_invalid(utf8cases[i].in, utf8cases[i].len, NULL),
                         utf8cases[i].nbad);
    }
    assert_int_equal(fmt_utf8_invalid("", 0, NULL), 0);
}

static void test_utf8_repair_replaces_each_bad_sequence_with_fffd(void **state)
{
    size_t i, nbad;
    char *out;

    (void)state;
    for (i = 0; i < sizeof(utf8cases) / sizeof(utf8cases[0]); i++) {
        nbad = 999;
        out = fmt_utf8_repair(utf8cases[i].in, utf8cases[i].len, &nbad);
        assert_non_null(out);
        assert_string_equal(out, utf8cases[i].repaired);
        assert_int_equal(nbad, utf8cases[i].nbad);
        assert_int_equal(fmt_utf8_invalid(out, strlen(out), NULL), 0);
        free(out);
    }
    out = fmt_utf8_repair("", 0, NULL);
    assert_non_null(out);
    assert_string_equal(out, "");
    free(out);
}

static void test_invalid_utf8_separates_words(void **state)
{
    static const struct tcase cases[] = {
        {"abc\xff" "def", "abc def"},
        {"caf\xc3" "x", "caf x"},          /* truncated sequence */
        {"a\xc0\xaf" "b", "a b"},          /* overlong */
        {"a\xed\xa0\x80" "b", "a b"},      /* surrogate */
        {"\xe2\x80", ""},                  /* only a truncated sequence */
        {"1\xff" ",2", "1 2"},
        {"Kyiv\xe2\x80" "s", "kyiv s"},    /* truncated U+2019 is no apostrophe */
        {"U.\xff" "S.", "u s"},
    };
    struct fmt_analyzer *an = new_analyzer("english", 1);
    struct collect c;

    (void)state;
    CHECK_CASES(an, cases, 0);
    run_len(an, "abc\xff" "def", 7, 1, &c);
    assert_int_equal(c.tok[0].end, 3);
    assert_int_equal(c.tok[1].start, 4);
    assert_int_equal(c.tok[1].pos, 1);
    fmt_buf_release(&c.terms);
    fmt_analyzer_free(an);
}

/* ---- inputs, languages, callbacks ----------------------------------------------------------- */

/* fmt_analyze_deferred hands on folded words flagged for stemming; stemming the flagged
 * ones with fmt_analyzer_stem gives fmt_analyze's tokens exactly (and the unflagged ones
 * are fmt_analyze's as they are: numbers). */
struct deferred {
    struct fmt_analyzer *an;
    struct collect *c;
    size_t flagged;
};

static int stem_flagged(void *ctx, const struct fmt_token *t)
{
    struct deferred *d = ctx;
    struct fmt_token s = *t;
    char word[300];

    if (t->stem) {
        assert_true(t->len < sizeof(word) - 8);
        memcpy(word, t->term, t->len); /* fmt_analyzer_stem may read 8 bytes past it */
        memset(word + t->len, 0x5a, 8);
        assert_int_equal(fmt_analyzer_stem(d->an, word, t->len, &s.term, &s.len), FMT_OK);
        d->flagged++;
    }
    return collect_fn(d->c, &s);
}

static void test_deferred_stemming_gives_the_same_tokens(void **state)
{
    static const char text[] = "The ministers were running late; 3.14 NATO's U.S. allies "
                                "r\xc3\xa9sum\xc3\xa9s, 1,000 hopefully-agreed talks ran.";
    struct fmt_analyzer *an = new_analyzer("english", 1);
    struct collect want, got;
    struct deferred d;

    (void)state;
    run_len(an, text, sizeof(text) - 1, 1, &want);
    collect_init(&got);
    d.an = an;
    d.c = &got;
    d.flagged = 0;
    assert_int_equal(fmt_analyze_deferred(an, text, sizeof(text) - 1, stem_flagged, &d), FMT_OK);
    assert_int_equal(fmt_buf_terminate(&got.terms), FMT_OK);
    assert_string_equal((const char *)got.terms.p, (const char *)want.terms.p);
    assert_int_equal(got.n, want.n);
    for (size_t i = 0; i < got.n; i++) {
        assert_int_equal(got.tok[i].pos, want.tok[i].pos);
        assert_int_equal(got.tok[i].start, want.tok[i].start);
    }
    assert_true(d.flagged > 0 && d.flagged < got.n); /* the numbers are not flagged */
    fmt_buf_release(&want.terms);
    fmt_buf_release(&got.terms);
    fmt_analyzer_free(an);
}

static void test_empty_input_yields_no_tokens(void **state)
{
    struct fmt_analyzer *an = new_analyzer("english", 1);
    struct collect c;

    (void)state;
    assert_string_equal(run_len(an, "", 0, 1, &c), "");
    assert_int_equal(c.n, 0);
    fmt_buf_release(&c.terms);
    collect_init(&c);
    assert_int_equal(fmt_analyze(an, NULL, 0, collect_fn, &c), FMT_OK);
    assert_int_equal(fmt_analyze_unstemmed(an, NULL, 0, collect_fn, &c), FMT_OK);
    assert_int_equal(c.n, 0);
    fmt_analyzer_free(an);
}

static void test_language_none_disables_stemming(void **state)
{
    static const struct tcase cases[] = {
        {"Running nations", "running nations"},
        {"Kyiv’s", "kyiv's"},
        {"Cafés", "cafes"},
    };
    struct fmt_analyzer *an = new_analyzer("none", 1);

    (void)state;
    CHECK_CASES(an, cases, 1);
    fmt_analyzer_free(an);
}

static void test_unstemmed_emits_folded_words(void **state)
{
    struct fmt_analyzer *an = new_analyzer("english", 1);
    struct collect c;

    (void)state;
    assert_string_equal(run_len(an, "Sanctions RUNNING", 17, 0, &c), "sanctions running");
    fmt_buf_release(&c.terms);
    assert_string_equal(run_len(an, "Sanctions RUNNING", 17, 1, &c), "sanction run");
    fmt_buf_release(&c.terms);
    fmt_analyzer_free(an);
}

static void test_callback_stop_value_propagates(void **state)
{
    struct fmt_analyzer *an = new_analyzer("english", 1);
    struct collect c;

    (void)state;
    collect_init(&c);
    c.stop_at = 2;
    assert_int_equal(fmt_analyze(an, "one two three four", 18, collect_fn, &c), 42);
    assert_int_equal(c.n, 2);
    fmt_buf_release(&c.terms);
    collect_init(&c);
    c.stop_at = 1;
    assert_int_equal(fmt_analyze_unstemmed(an, "one two", 7, collect_fn, &c), 42);
    assert_int_equal(c.n, 1);
    fmt_buf_release(&c.terms);
    fmt_analyzer_free(an);
}

static int check_last_fn(void *ctx, const struct fmt_token *t)
{
    struct tokinfo *last = ctx;

    assert_true(t->start < t->end);
    if (last->end > 0 || last->pos > 0) {
        assert_int_equal(t->pos, last->pos + 1);
        assert_true(t->start >= last->end);
    }
    last->pos = t->pos;
    last->start = t->start;
    last->end = t->end;
    return 0;
}

/* A sentence of 10 tokens repeated to just over 1 MB. */
static void test_one_megabyte_input(void **state)
{
    static const char sentence[] = "The U.S.-led coalition's 1,750 troops entered Kyiv’s old "
                                   "town. ";
    static const char *terms[] = {"the", "us", "led", "coalit", "1750",
                                  "troop", "enter", "kyiv", "old", "town"};
    const size_t slen = sizeof(sentence) - 1;
    const size_t reps = (1024 * 1024) / slen + 1;
    struct fmt_analyzer *an = new_analyzer("english", 1);
    char *text = malloc(reps * slen);
    struct tokinfo last = {0, 0, 0};
    struct collect c;
    size_t i;

    (void)state;
    assert_non_null(text);
    for (i = 0; i < reps; i++)
        memcpy(text + i * slen, sentence, slen);
    collect_init(&c);
    c.sep = '\n';
    assert_int_equal(fmt_analyze(an, text, reps * slen, collect_fn, &c), FMT_OK);
    assert_int_equal(c.n, reps * 10);
    assert_int_equal(fmt_buf_terminate(&c.terms), FMT_OK);
    {
        /* every term in order */
        char *p = (char *)c.terms.p, *nl;
        for (i = 0; i < c.n; i++) {
            nl = strchr(p, '\n');
            if (nl)
                *nl = 0;
            assert_string_equal(p, terms[i % 10]);
            p = nl ? nl + 1 : p + strlen(p);
        }
    }
    fmt_buf_release(&c.terms);
    /* positions and offsets run on to the last word */
    assert_int_equal(fmt_analyze(an, text, reps * slen, check_last_fn, &last), FMT_OK);
    assert_int_equal(last.pos, reps * 10 - 1);
    assert_int_equal(last.start, reps * slen - 6);
    assert_int_equal(last.end, reps * slen - 2);
    free(text);
    fmt_analyzer_free(an);
}

static void test_one_megabyte_input_has_increasing_positions_and_offsets(void **state)
{
    const size_t len = 1024 * 1024;
    struct fmt_analyzer *an = new_analyzer("english", 1);
    char *text = malloc(len);
    struct tokinfo last = {0, 0, 0};
    uint32_t seed = 12345;
    size_t i;

    (void)state;
    assert_non_null(text);
    /* pseudo-random bytes biased to letters and separators, including invalid UTF-8 */
    for (i = 0; i < len; i++) {
        seed = seed * 1103515245u + 12345u;
        switch ((seed >> 16) % 8) {
        case 0:
            text[i] = ' ';
            break;
        case 1:
            text[i] = "'.,-’"[(seed >> 8) % 5];
            break;
        case 2:
            text[i] = (char)(0x80 + (seed >> 8) % 0x80);
            break;
        default:
            text[i] = (char)('a' + (seed >> 8) % 26);
        }
    }
    assert_int_equal(fmt_analyze(an, text, len, check_last_fn, &last), FMT_OK);
    assert_true(last.pos > 10000);
    assert_true(last.end <= len);
    free(text);
    fmt_analyzer_free(an);
}

/* ---- stem cache ---------------------------------------------------------------------------- */

/* Append word number I: letters only, with a suffix the stemmer changes. */
static void put_word(struct fmt_buf *b, size_t i)
{
    static const char *suffix[] = {"ing", "s", "ed", "ation", "", "ness", "ly"};
    char w[16];
    size_t k = 0, v = i;

    do {
        w[k++] = (char)('a' + v % 26);
        v /= 26;
    } while (v);
    assert_int_equal(fmt_buf_append(b, w, k), FMT_OK);
    assert_int_equal(fmt_buf_printf(b, "%s%s", suffix[i % 7], i % 5 ? " " : ", "), FMT_OK);
}

/* Text of 3 * N words: N distinct ones (more than the cache holds, so it is cleared on the
 * way), each followed by a hot word (cache hits) and a recent one (hits and misses). */
static char *cache_workload(size_t n, size_t *len)
{
    struct fmt_buf b;
    size_t i;

    fmt_buf_init(&b);
    for (i = 0; i < n; i++) {
        put_word(&b, i);
        put_word(&b, i % 97);
        put_word(&b, i - i % 5000);
    }
    assert_int_equal(fmt_buf_terminate(&b), FMT_OK);
    *len = b.len;
    return (char *)fmt_buf_steal(&b);
}

static void test_stem_cache_never_changes_results(void **state)
{
    const size_t nwords = 3 * 100000;
    struct fmt_analyzer *an = new_analyzer("english", 1);
    struct sb_stemmer *sb = sb_stemmer_new("english", "UTF_8");
    struct collect plain, first, second;
    struct fmt_buf want;
    size_t len, i;
    char *text = cache_workload(nwords / 3, &len);
    char *p, *nl;

    (void)state;
    assert_non_null(sb);
    collect_init(&plain);
    plain.sep = '\n';
    assert_int_equal(fmt_analyze_unstemmed(an, text, len, collect_fn, &plain), FMT_OK);
    assert_int_equal(plain.n, nwords);
    assert_int_equal(fmt_buf_terminate(&plain.terms), FMT_OK);
    collect_init(&first);
    first.sep = '\n';
    assert_int_equal(fmt_analyze(an, text, len, collect_fn, &first), FMT_OK);
    assert_int_equal(fmt_buf_terminate(&first.terms), FMT_OK);
    collect_init(&second);
    second.sep = '\n';
    assert_int_equal(fmt_analyze(an, text, len, collect_fn, &second), FMT_OK);
    assert_int_equal(fmt_buf_terminate(&second.terms), FMT_OK);
    assert_string_equal((char *)first.terms.p, (char *)second.terms.p);

    /* and both equal the stemmer called directly on each folded word */
    fmt_buf_init(&want);
    p = (char *)plain.terms.p;
    for (i = 0; i < nwords; i++) {
        const sb_symbol *s;
        nl = strchr(p, '\n');
        s = sb_stemmer_stem(sb, (const sb_symbol *)p,
                            (int)(nl ? (size_t)(nl - p) : strlen(p)));
        assert_non_null(s);
        if (i > 0)
            assert_int_equal(fmt_buf_putc(&want, '\n'), FMT_OK);
        assert_int_equal(fmt_buf_append(&want, s, (size_t)sb_stemmer_length(sb)), FMT_OK);
        p = nl ? nl + 1 : p;
    }
    assert_int_equal(fmt_buf_terminate(&want), FMT_OK);
    assert_string_equal((char *)first.terms.p, (char *)want.p);

    fmt_buf_release(&want);
    fmt_buf_release(&plain.terms);
    fmt_buf_release(&first.terms);
    fmt_buf_release(&second.terms);
    sb_stemmer_delete(sb);
    free(text);
    fmt_analyzer_free(an);
}

static void test_stem_cache_is_per_analyzer_and_words_alternate_correctly(void **state)
{
    static const struct tcase cases[] = {
        {"running runs ran running runner runs", "run run ran run runner run"},
        {"nations national nation nations", "nation nation nation nation"},
    };
    struct fmt_analyzer *a = new_analyzer("english", 1);
    struct fmt_analyzer *b = new_analyzer("english", 1);

    (void)state;
    CHECK_CASES(a, cases, 1);
    CHECK_CASES(a, cases, 1);
    CHECK_CASES(b, cases, 1);
    fmt_analyzer_free(a);
    fmt_analyzer_free(b);
}

/* fmt_analyze_first passes exactly the tokens of fmt_analyze whose term starts with a
 * flagged byte, with the same positions and offsets, whether or not the language lets it
 * skip stemming the others (english: Porter2 keeps first letters, even for its exceptional
 * forms; german: stemmed, then filtered). */
static void check_first(struct fmt_analyzer *an, const char *text, const uint8_t first[256])
{
    struct collect all, got, want;
    size_t i, n = strlen(text);

    collect_init(&all);
    assert_int_equal(fmt_analyze(an, text, n, collect_fn, &all), FMT_OK);
    assert_true(all.n < MAX_TOKS);
    assert_int_equal(fmt_buf_terminate(&all.terms), FMT_OK);
    collect_init(&want);
    {
        const char *t = (const char *)all.terms.p;
        for (i = 0; i < all.n; i++) {
            size_t len = strcspn(t, " ");
            if (first[(uint8_t)t[0]]) {
                struct fmt_token tok = {t, len, all.tok[i].pos, all.tok[i].start,
                                        all.tok[i].end, 0};
                assert_int_equal(collect_fn(&want, &tok), 0);
            }
            t += len + (t[len] == ' ');
        }
    }
    collect_init(&got);
    assert_int_equal(fmt_analyze_first(an, text, n, first, collect_fn, &got), FMT_OK);
    assert_int_equal(fmt_buf_terminate(&want.terms), FMT_OK);
    assert_int_equal(fmt_buf_terminate(&got.terms), FMT_OK);
    assert_string_equal((char *)got.terms.p, (char *)want.terms.p);
    assert_int_equal(got.n, want.n);
    for (i = 0; i < got.n; i++) {
        assert_int_equal(got.tok[i].pos, want.tok[i].pos);
        assert_int_equal(got.tok[i].start, want.tok[i].start);
        assert_int_equal(got.tok[i].end, want.tok[i].end);
    }
    fmt_buf_release(&all.terms);
    fmt_buf_release(&want.terms);
    fmt_buf_release(&got.terms);
}

static void test_analyze_first_passes_the_tokens_starting_with_flagged_bytes(void **state)
{
    static const char text[] =
        "Skies skis dying lying tying idly gently ugly early only singly news yes "
        "Kyiv's U.S. 3,141.5 Über STRASSE straße Éclair ñandú generously running "
        "relational possibility hoping cries agreed succeeded \xce\xb1\xce\xb8\xce\xae\xce\xbd\xce\xb1";
    static const char *const sets[] = {"s", "dlty", "u", "3k", "e\xc3", "gr", "abcdefghijklmnopqrstuvwxyz",
                                       "\xce", ""};
    static const char *const langs[] = {"english", "german", "none"};
    (void)state;
    for (size_t l = 0; l < sizeof(langs) / sizeof(langs[0]); l++)
        for (int fold = 0; fold <= 1; fold++) {
            struct fmt_analyzer *an = new_analyzer(langs[l], fold);
            for (size_t k = 0; k < sizeof(sets) / sizeof(sets[0]); k++) {
                uint8_t first[256] = {0};
                for (const char *c = sets[k]; *c; c++)
                    first[(uint8_t)*c] = 1;
                check_first(an, text, first);
            }
            fmt_analyzer_free(an);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cfg_default_is_english_with_diacritic_folding),
        cmocka_unit_test(test_null_cfg_means_defaults),
        cmocka_unit_test(test_unknown_language_is_einval_naming_it),
        cmocka_unit_test(test_unterminated_language_is_einval),
        cmocka_unit_test(test_other_snowball_languages_load),
        cmocka_unit_test(test_free_accepts_null),
        cmocka_unit_test(test_folding_lowercases_and_strips_diacritics),
        cmocka_unit_test(test_folding_keeps_diacritics_when_disabled),
        cmocka_unit_test(test_folding_happens_before_stemming),
        cmocka_unit_test(test_word_of_only_marks_is_dropped_when_folding),
        cmocka_unit_test(test_apostrophes_inside_words_stay_and_possessive_is_stemmed),
        cmocka_unit_test(test_apostrophes_are_normalized_in_unstemmed_words),
        cmocka_unit_test(test_acronyms_with_dots_become_one_word),
        cmocka_unit_test(test_acronym_span_includes_final_dot),
        cmocka_unit_test(test_hyphens_split_words_at_consecutive_positions),
        cmocka_unit_test(test_soft_hyphen_and_joiners_inside_words_are_dropped),
        cmocka_unit_test(test_numbers_keep_internal_dots_and_drop_commas),
        cmocka_unit_test(test_punctuation_and_symbols_separate_words),
        cmocka_unit_test(test_nul_bytes_separate_words),
        cmocka_unit_test(test_positions_count_tokens_and_offsets_point_at_original_text),
        cmocka_unit_test(test_positions_restart_at_zero_for_each_call),
        cmocka_unit_test(test_overlong_words_are_dropped_without_a_position),
        cmocka_unit_test(test_utf8_invalid_counts_maximal_bad_subparts),
        cmocka_unit_test(test_utf8_repair_replaces_each_bad_sequence_with_fffd),
        cmocka_unit_test(test_invalid_utf8_separates_words),
        cmocka_unit_test(test_empty_input_yields_no_tokens),
        cmocka_unit_test(test_deferred_stemming_gives_the_same_tokens),
        cmocka_unit_test(test_language_none_disables_stemming),
        cmocka_unit_test(test_unstemmed_emits_folded_words),
        cmocka_unit_test(test_callback_stop_value_propagates),
        cmocka_unit_test(test_one_megabyte_input),
        cmocka_unit_test(test_one_megabyte_input_has_increasing_positions_and_offsets),
        cmocka_unit_test(test_stem_cache_never_changes_results),
        cmocka_unit_test(test_stem_cache_is_per_analyzer_and_words_alternate_correctly),
        cmocka_unit_test(test_analyze_first_passes_the_tokens_starting_with_flagged_bytes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
