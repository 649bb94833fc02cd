/* json.c - JSON string escaping and a recursive-descent reader for one JSON object.
 *
 * Grammar (RFC 8259), over bytes:
 *   value  = object | array | string | number | "true" | "false" | "null"
 *   object = '{' [ string ':' value *( ',' string ':' value ) ] '}'
 *   array  = '[' [ value *( ',' value ) ] ']'
 *   number = [ '-' ] ( '0' | [1-9] *DIGIT ) [ '.' 1*DIGIT ] [ ( 'e' | 'E' ) [ '+' | '-' ]
 *            1*DIGIT ]
 * White space is space, tab, CR and LF. Errors name the 1-based byte column. */
#include "json.h"

#include <stdint.h>
#include <string.h>

static const char hexdig[] = "0123456789abcdef";

int fmt_json_put_string(struct fmt_buf *b, const char *s, size_t len)
{
    size_t run = 0; /* start of the pending run of bytes that need no escape */
    char esc[6] = {'\\', 'u', '0', '0', 0, 0};

    if (fmt_buf_putc(b, '"') != FMT_OK)
        return FMT_ENOMEM;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *rep = NULL;
        size_t rlen = 2;

        switch (c) {
        case '"': rep = "\\\""; break;
        case '\\': rep = "\\\\"; break;
        case '\n': rep = "\\n"; break;
        case '\t': rep = "\\t"; break;
        case '\r': rep = "\\r"; break;
        case '\b': rep = "\\b"; break;
        case '\f': rep = "\\f"; break;
        default:
            if (c >= 0x20 && c != 0x7f)
                continue;
            esc[4] = hexdig[c >> 4];
            esc[5] = hexdig[c & 15];
            rep = esc;
            rlen = 6;
        }
        if (fmt_buf_append(b, s + run, i - run) != FMT_OK ||
            fmt_buf_append(b, rep, rlen) != FMT_OK)
            return FMT_ENOMEM;
        run = i + 1;
    }
    if (fmt_buf_append(b, s + run, len - run) != FMT_OK || fmt_buf_putc(b, '"') != FMT_OK)
        return FMT_ENOMEM;
    return FMT_OK;
}

/* Parser state over one buffer. */
struct parser {
    const char *p;
    size_t len;
    size_t i;              /* next byte to read */
    unsigned depth;        /* open arrays and objects */
    struct fmt_buf key;    /* decoded key of the current top-level member */
    struct fmt_buf val;    /* decoded string value (or scratch for nested strings) */
    struct fmt_buf inner;  /* keys of nested objects (never reported) */
    size_t *err_col;
    struct fmt_err *err;
};

static int fail(struct parser *ps, size_t at, const char *what)
{
    if (ps->err_col)
        *ps->err_col = at + 1;
    if (at >= ps->len)
        return fmt_errorf(ps->err, FMT_EINVAL, "%s at column %zu (end of line)", what, at + 1);
    return fmt_errorf(ps->err, FMT_EINVAL, "%s at column %zu", what, at + 1);
}

static void skip_ws(struct parser *ps)
{
    while (ps->i < ps->len) {
        char c = ps->p[ps->i];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            break;
        ps->i++;
    }
}

static int hex4(struct parser *ps, size_t at, unsigned *out)
{
    unsigned v = 0;

    if (ps->len - at < 4)
        return -1;
    for (size_t k = 0; k < 4; k++) {
        char c = ps->p[at + k];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static int put_utf8(struct fmt_buf *b, uint32_t cp)
{
    uint8_t u[4];
    size_t n;

    if (cp < 0x80) {
        u[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (uint8_t)(0xc0 | cp >> 6);
        u[1] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (uint8_t)(0xe0 | cp >> 12);
        u[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        u[2] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (uint8_t)(0xf0 | cp >> 18);
        u[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
        u[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        u[3] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return fmt_buf_append(b, u, n);
}

/* \uXXXX at ps->i (just past the 'u'), with a following low surrogate when needed. */
static int unicode_escape(struct parser *ps, struct fmt_buf *out)
{
    size_t at = ps->i - 2; /* the backslash */
    unsigned hi, lo;

    if (hex4(ps, ps->i, &hi) != 0)
        return fail(ps, at, "bad \\u escape (4 hex digits expected)");
    ps->i += 4;
    if (hi >= 0xdc00 && hi <= 0xdfff)
        return fail(ps, at, "lone low surrogate");
    if (hi >= 0xd800 && hi <= 0xdbff) {
        if (ps->len - ps->i < 6 || ps->p[ps->i] != '\\' || ps->p[ps->i + 1] != 'u' ||
            hex4(ps, ps->i + 2, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
            return fail(ps, at, "lone high surrogate");
        ps->i += 6;
        return put_utf8(out, 0x10000 + ((uint32_t)(hi - 0xd800) << 10) + (lo - 0xdc00));
    }
    return put_utf8(out, hi);
}

#define BYTES_01 0x0101010101010101ull
#define BYTES_80 0x8080808080808080ull

/* Whether one of the 8 bytes of W is '"', '\\' or a control character (< 0x20): the
 * "has a zero byte" and "has a byte less than n" tests of bit twiddling (exact as a yes/no,
 * a hit in one byte can only add false hits in the bytes above it). */
static inline int has_special(uint64_t w)
{
    uint64_t quote = w ^ (BYTES_01 * '"'), bslash = w ^ (BYTES_01 * '\\');

    return (((quote - BYTES_01) & ~quote) | ((bslash - BYTES_01) & ~bslash) |
            ((w - BYTES_01 * 0x20) & ~w)) & BYTES_80 ? 1 : 0;
}

/* Index of the first '"', '\\' or control character in P[i..len), or len. Article bodies
 * are long runs without one: 8 bytes are checked at a time. */
static size_t plain_run_end(const char *p, size_t i, size_t len)
{
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (has_special(w))
            break;
    }
    for (; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"' || c == '\\' || c < 0x20)
            break;
    }
    return i;
}

/* String at ps->i (on the opening quote), decoded into OUT (reset first). */
static int parse_string(struct parser *ps, struct fmt_buf *out)
{
    out->len = 0;
    ps->i++;
    for (;;) {
        size_t run = ps->i;
        int rc;

        ps->i = plain_run_end(ps->p, ps->i, ps->len);
        if (fmt_buf_append(out, ps->p + run, ps->i - run) != FMT_OK)
            return fmt_errorf(ps->err, FMT_ENOMEM, "out of memory");
        if (ps->i >= ps->len)
            return fail(ps, ps->i, "unterminated string");
        if (ps->p[ps->i] == '"') {
            ps->i++;
            break;
        }
        if (ps->p[ps->i] != '\\')
            return fail(ps, ps->i, "unescaped control character in string");
        if (ps->i + 1 >= ps->len)
            return fail(ps, ps->i + 1, "unterminated string");
        {
            char e = ps->p[ps->i + 1];
            static const char from[] = "\"\\/bfnrt";
            static const char to[] = "\"\\/\b\f\n\r\t";
            const char *k = e ? memchr(from, e, sizeof(from) - 1) : NULL;

            ps->i += 2;
            if (k)
                rc = fmt_buf_putc(out, (uint8_t)to[k - from]);
            else if (e == 'u')
                rc = unicode_escape(ps, out);
            else
                return fail(ps, ps->i - 2, "invalid escape");
            if (rc == FMT_ENOMEM)
                return fmt_errorf(ps->err, FMT_ENOMEM, "out of memory");
            if (rc != FMT_OK)
                return rc;
        }
    }
    if (fmt_buf_terminate(out) != FMT_OK)
        return fmt_errorf(ps->err, FMT_ENOMEM, "out of memory");
    return FMT_OK;
}

static int is_digit(struct parser *ps)
{
    return ps->i < ps->len && ps->p[ps->i] >= '0' && ps->p[ps->i] <= '9';
}

static int parse_number(struct parser *ps)
{
    if (ps->p[ps->i] == '-')
        ps->i++;
    if (!is_digit(ps))
        return fail(ps, ps->i, "bad number: digit expected");
    if (ps->p[ps->i] == '0')
        ps->i++;
    else
        while (is_digit(ps))
            ps->i++;
    if (ps->i < ps->len && ps->p[ps->i] == '.') {
        ps->i++;
        if (!is_digit(ps))
            return fail(ps, ps->i, "bad number: digit expected after '.'");
        while (is_digit(ps))
            ps->i++;
    }
    if (ps->i < ps->len && (ps->p[ps->i] == 'e' || ps->p[ps->i] == 'E')) {
        ps->i++;
        if (ps->i < ps->len && (ps->p[ps->i] == '+' || ps->p[ps->i] == '-'))
            ps->i++;
        if (!is_digit(ps))
            return fail(ps, ps->i, "bad number: digit expected in exponent");
        while (is_digit(ps))
            ps->i++;
    }
    return FMT_OK;
}

static int parse_value(struct parser *ps, struct fmt_json_value *v);

/* Object or array at ps->i; with FN and depth 1, members go to FN. */
static int parse_container(struct parser *ps, fmt_json_member_fn fn, void *ctx)
{
    char close = ps->p[ps->i] == '{' ? '}' : ']';
    int rc;

    if (++ps->depth > FMT_JSON_MAX_DEPTH)
        return fail(ps, ps->i, "nesting deeper than 64");
    ps->i++;
    skip_ws(ps);
    if (ps->i < ps->len && ps->p[ps->i] == close) {
        ps->i++;
        ps->depth--;
        return FMT_OK;
    }
    for (;;) {
        struct fmt_json_value v;

        skip_ws(ps);
        if (close == '}') {
            if (ps->i >= ps->len || ps->p[ps->i] != '"')
                return fail(ps, ps->i, "expected '\"' (a key)");
            rc = parse_string(ps, ps->depth == 1 ? &ps->key : &ps->inner);
            if (rc != FMT_OK)
                return rc;
            skip_ws(ps);
            if (ps->i >= ps->len || ps->p[ps->i] != ':')
                return fail(ps, ps->i, "expected ':'");
            ps->i++;
            skip_ws(ps);
        }
        rc = parse_value(ps, &v);
        if (rc != FMT_OK)
            return rc;
        if (fn && ps->depth == 1) {
            rc = fn(ctx, (const char *)ps->key.p, ps->key.len, &v);
            if (rc != 0)
                return rc;
        }
        skip_ws(ps);
        if (ps->i < ps->len && ps->p[ps->i] == ',') {
            ps->i++;
            continue;
        }
        if (ps->i < ps->len && ps->p[ps->i] == close) {
            ps->i++;
            ps->depth--;
            return FMT_OK;
        }
        return fail(ps, ps->i, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int literal(struct parser *ps, const char *word, enum fmt_json_type t,
                   struct fmt_json_value *v)
{
    size_t n = strlen(word);

    if (ps->len - ps->i < n || memcmp(ps->p + ps->i, word, n) != 0)
        return fail(ps, ps->i, "unexpected character");
    ps->i += n;
    v->type = t;
    return FMT_OK;
}

static int parse_value(struct parser *ps, struct fmt_json_value *v)
{
    size_t start = ps->i;
    int rc;

    v->s = NULL;
    v->len = 0;
    v->col = start + 1;
    if (ps->i >= ps->len)
        return fail(ps, ps->i, "expected a value");
    switch (ps->p[ps->i]) {
    case '{':
    case '[':
        v->type = ps->p[ps->i] == '{' ? FMT_JSON_OBJECT : FMT_JSON_ARRAY;
        return parse_container(ps, NULL, NULL);
    case '"':
        rc = parse_string(ps, &ps->val);
        v->type = FMT_JSON_STRING;
        v->s = (const char *)ps->val.p;
        v->len = ps->val.len;
        return rc;
    case 't':
        return literal(ps, "true", FMT_JSON_TRUE, v);
    case 'f':
        return literal(ps, "false", FMT_JSON_FALSE, v);
    case 'n':
        return literal(ps, "null", FMT_JSON_NULL, v);
    default:
        if (ps->p[ps->i] != '-' && (ps->p[ps->i] < '0' || ps->p[ps->i] > '9'))
            return fail(ps, ps->i, "expected a value");
        rc = parse_number(ps);
        v->type = FMT_JSON_NUMBER;
        v->s = ps->p + start;
        v->len = ps->i - start;
        return rc;
    }
}

int fmt_json_parse_object(const char *text, size_t len, fmt_json_member_fn fn, void *ctx,
                          size_t *err_col, struct fmt_err *err)
{
    struct parser ps = {.p = text, .len = len, .err_col = err_col, .err = err};
    int rc;

    fmt_buf_init(&ps.key);
    fmt_buf_init(&ps.val);
    fmt_buf_init(&ps.inner);
    skip_ws(&ps);
    if (ps.i >= len || text[ps.i] != '{') {
        rc = fail(&ps, ps.i, "expected '{'");
        goto out;
    }
    rc = parse_container(&ps, fn, ctx);
    if (rc != FMT_OK)
        goto out;
    skip_ws(&ps);
    if (ps.i != len)
        rc = fail(&ps, ps.i, "unexpected text after the object");
out:
    fmt_buf_release(&ps.key);
    fmt_buf_release(&ps.val);
    fmt_buf_release(&ps.inner);
    return rc;
}
