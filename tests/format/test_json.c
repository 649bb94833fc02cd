/* test_json.c - JSON string escaping and the one-object JSON reader. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "json.h"

/* Collects the members the reader reports. */
struct members {
    int n;
    char keys[8][32];
    enum fmt_json_type types[8];
    char vals[8][64];
    size_t lens[8];
};

static int collect(void *ctx, const char *key, size_t klen, const struct fmt_json_value *v)
{
    struct members *m = ctx;

    if (m->n >= 8 || klen >= 32 || v->len >= 64)
        return 99;
    memcpy(m->keys[m->n], key, klen);
    m->keys[m->n][klen] = 0;
    m->types[m->n] = v->type;
    if (v->s)
        memcpy(m->vals[m->n], v->s, v->len);
    m->vals[m->n][v->len] = 0;
    m->lens[m->n] = v->len;
    m->n++;
    return 0;
}

static int parse(const char *text, struct members *m, size_t *col, struct fmt_err *err)
{
    memset(m, 0, sizeof(*m));
    return fmt_json_parse_object(text, strlen(text), collect, m, col, err);
}

static void put(struct fmt_buf *b, const char *s, size_t len)
{
    b->len = 0;
    assert_int_equal(fmt_json_put_string(b, s, len), FMT_OK);
    assert_int_equal(fmt_buf_terminate(b), FMT_OK);
}

static void test_put_string_escapes_quotes_backslashes_and_controls(void **state)
{
    struct fmt_buf b;
    const char in[] = "a\"b\\c\nd\te\r\x01\x1f\x7f";

    (void)state;
    fmt_buf_init(&b);
    put(&b, in, sizeof(in) - 1);
    assert_string_equal((char *)b.p, "\"a\\\"b\\\\c\\nd\\te\\r\\u0001\\u001f\\u007f\"");
    put(&b, "x\0y", 3);
    assert_string_equal((char *)b.p, "\"x\\u0000y\"");
    put(&b, "Kyiv\xe2\x80\x99s", 8);
    assert_string_equal((char *)b.p, "\"Kyiv\xe2\x80\x99s\"");
    put(&b, "", 0);
    assert_string_equal((char *)b.p, "\"\"");
    fmt_buf_release(&b);
}

static void test_put_string_output_reads_back_identically(void **state)
{
    struct fmt_buf b, line;
    struct members m;
    char all[256];
    struct fmt_err err;

    (void)state;
    for (int i = 0; i < 255; i++)
        all[i] = (char)(i + 1);
    all[255] = 0;
    fmt_buf_init(&b);
    fmt_buf_init(&line);
    put(&b, all + 1, 60); /* bytes 2..61, all control and ASCII punctuation */
    assert_int_equal(fmt_buf_puts(&line, "{\"k\":"), FMT_OK);
    assert_int_equal(fmt_buf_append(&line, b.p, b.len), FMT_OK);
    assert_int_equal(fmt_buf_puts(&line, "}"), FMT_OK);
    assert_int_equal(fmt_json_parse_object((char *)line.p, line.len, collect,
                                           memset(&m, 0, sizeof(m)), NULL, &err),
                     FMT_OK);
    assert_int_equal(m.n, 1);
    assert_int_equal(m.lens[0], 60);
    assert_memory_equal(m.vals[0], all + 1, 60);
    fmt_buf_release(&b);
    fmt_buf_release(&line);
}

static void test_reader_reports_members_with_types(void **state)
{
    struct members m;
    struct fmt_err err;

    (void)state;
    assert_int_equal(parse(" {\"id\": \"a1\", \"n\": -12.5e+3, \"t\": true, \"f\": false,"
                           " \"z\": null, \"arr\": [1, {\"x\": [\"y\"]}], \"o\": {}} ",
                           &m, NULL, &err),
                     FMT_OK);
    assert_int_equal(m.n, 7);
    assert_string_equal(m.keys[0], "id");
    assert_int_equal(m.types[0], FMT_JSON_STRING);
    assert_string_equal(m.vals[0], "a1");
    assert_int_equal(m.types[1], FMT_JSON_NUMBER);
    assert_string_equal(m.vals[1], "-12.5e+3");
    assert_int_equal(m.types[2], FMT_JSON_TRUE);
    assert_int_equal(m.types[3], FMT_JSON_FALSE);
    assert_int_equal(m.types[4], FMT_JSON_NULL);
    assert_string_equal(m.keys[5], "arr");
    assert_int_equal(m.types[5], FMT_JSON_ARRAY);
    assert_string_equal(m.keys[6], "o");
    assert_int_equal(m.types[6], FMT_JSON_OBJECT);
}

static void test_reader_nested_keys_do_not_clobber_top_level_key(void **state)
{
    struct members m;
    struct fmt_err err;

    (void)state;
    assert_int_equal(parse("{\"meta\":{\"inner\":{\"deeper\":1}},\"title\":\"T\"}", &m, NULL, &err),
                     FMT_OK);
    assert_int_equal(m.n, 2);
    assert_string_equal(m.keys[0], "meta");
    assert_string_equal(m.keys[1], "title");
}

static void test_reader_decodes_all_escapes(void **state)
{
    struct members m;
    struct fmt_err err;

    (void)state;
    assert_int_equal(parse("{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}", &m, NULL, &err), FMT_OK);
    assert_string_equal(m.vals[0], "\"\\/\b\f\n\r\t");
    assert_int_equal(parse("{\"s\":\"caf\\u00e9 \\u20AC\"}", &m, NULL, &err), FMT_OK);
    assert_string_equal(m.vals[0], "caf\xc3\xa9 \xe2\x82\xac");
    assert_int_equal(parse("{\"s\":\"a\\u0000b\"}", &m, NULL, &err), FMT_OK);
    assert_int_equal(m.lens[0], 3);
    assert_memory_equal(m.vals[0], "a\0b", 3);
    assert_int_equal(parse("{\"k\\u0041\":1}", &m, NULL, &err), FMT_OK);
    assert_string_equal(m.keys[0], "kA");
}

static void test_reader_combines_surrogate_pairs(void **state)
{
    struct members m;
    struct fmt_err err;

    (void)state;
    /* U+1F600 and U+10FFFF */
    assert_int_equal(parse("{\"s\":\"\\uD83D\\uDE00|\\udbff\\udfff\"}", &m, NULL, &err), FMT_OK);
    assert_string_equal(m.vals[0], "\xf0\x9f\x98\x80|\xf4\x8f\xbf\xbf");
}

static void test_reader_rejects_lone_surrogates_with_column(void **state)
{
    struct members m;
    struct fmt_err err;
    size_t col = 0;

    (void)state;
    assert_int_equal(parse("{\"s\":\"ab\\ud83d\"}", &m, &col, &err), FMT_EINVAL);
    assert_int_equal(col, 9);
    assert_string_equal(err.msg, "lone high surrogate at column 9");
    assert_int_equal(parse("{\"s\":\"\\ude00x\"}", &m, &col, &err), FMT_EINVAL);
    assert_int_equal(col, 7);
    assert_string_equal(err.msg, "lone low surrogate at column 7");
    /* a high surrogate followed by a non-surrogate escape is lone too */
    assert_int_equal(parse("{\"s\":\"\\ud83d\\u0041\"}", &m, &col, &err), FMT_EINVAL);
    assert_non_null(strstr(err.msg, "lone high surrogate"));
}

static void test_reader_reports_column_of_syntax_errors(void **state)
{
    static const struct {
        const char *text;
        size_t col;
        const char *msg;
    } cases[] = {
        {"{\"title\" \"x\"}", 10, "expected ':' at column 10"},
        {"{\"a\":1,}", 8, "expected '\"' (a key) at column 8"},
        {"{\"a\":1 \"b\":2}", 8, "expected ',' or '}' at column 8"},
        {"{\"a\":tru}", 6, "unexpected character at column 6"},
        {"{\"a\":01}", 7, "expected ',' or '}' at column 7"},
        {"{\"a\":-}", 7, "bad number: digit expected at column 7"},
        {"{\"a\":1.}", 8, "bad number: digit expected after '.' at column 8"},
        {"{\"a\":\"x\\q\"}", 8, "invalid escape at column 8"},
        {"{\"a\":\"x\\u12g4\"}", 8, "bad \\u escape (4 hex digits expected) at column 8"},
        {"{\"a\":\"tab\there\"}", 10, "unescaped control character in string at column 10"},
        {"{\"a\":\"open", 11, "unterminated string at column 11 (end of line)"},
        {"{\"a\":[1,2}", 10, "expected ',' or ']' at column 10"},
        {"[1]", 1, "expected '{' at column 1"},
        {"", 1, "expected '{' at column 1 (end of line)"},
        {"{} x", 4, "unexpected text after the object at column 4"},
        {"{\"a\":}", 6, "expected a value at column 6"},
    };
    struct members m;
    struct fmt_err err;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t col = 0;
        assert_int_equal(parse(cases[i].text, &m, &col, &err), FMT_EINVAL);
        assert_string_equal(err.msg, cases[i].msg);
        assert_int_equal(col, cases[i].col);
    }
}

static void test_reader_limits_nesting_to_64(void **state)
{
    char deep[256];
    size_t n = 0;
    struct members m;
    struct fmt_err err;

    (void)state;
    /* {"a": + 63 '[' + 63 ']' + } = depth 64: accepted */
    n = (size_t)snprintf(deep, sizeof(deep), "{\"a\":");
    memset(deep + n, '[', 63);
    memset(deep + n + 63, ']', 63);
    deep[n + 126] = '}';
    deep[n + 127] = 0;
    assert_int_equal(parse(deep, &m, NULL, &err), FMT_OK);
    /* one more level: rejected, not a stack overflow */
    memset(deep + n, '[', 64);
    memset(deep + n + 64, ']', 64);
    deep[n + 128] = '}';
    deep[n + 129] = 0;
    assert_int_equal(parse(deep, &m, NULL, &err), FMT_EINVAL);
    assert_non_null(strstr(err.msg, "nesting deeper than 64"));
}

static int stop_at_second(void *ctx, const char *key, size_t klen, const struct fmt_json_value *v)
{
    int *n = ctx;

    (void)key;
    (void)klen;
    (void)v;
    return ++*n == 2 ? 42 : 0;
}

static void test_reader_returns_callback_value_and_validates_without_callback(void **state)
{
    int n = 0;
    const char *text = "{\"a\":1,\"b\":2,\"c\":3}";

    (void)state;
    assert_int_equal(fmt_json_parse_object(text, strlen(text), stop_at_second, &n, NULL, NULL),
                     42);
    assert_int_equal(n, 2);
    assert_int_equal(fmt_json_parse_object(text, strlen(text), NULL, NULL, NULL, NULL), FMT_OK);
    assert_int_equal(fmt_json_parse_object("{\"a\"}", 5, NULL, NULL, NULL, NULL), FMT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_string_escapes_quotes_backslashes_and_controls),
        cmocka_unit_test(test_put_string_output_reads_back_identically),
        cmocka_unit_test(test_reader_reports_members_with_types),
        cmocka_unit_test(test_reader_nested_keys_do_not_clobber_top_level_key),
        cmocka_unit_test(test_reader_decodes_all_escapes),
        cmocka_unit_test(test_reader_combines_surrogate_pairs),
        cmocka_unit_test(test_reader_rejects_lone_surrogates_with_column),
        cmocka_unit_test(test_reader_reports_column_of_syntax_errors),
        cmocka_unit_test(test_reader_limits_nesting_to_64),
        cmocka_unit_test(test_reader_returns_callback_value_and_validates_without_callback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
