/* frontmatter.c - YAML front matter + Markdown body parser (rules in frontmatter.h).
 *
 * The YAML block is read with libyaml's event API: STREAM-START, DOCUMENT-START, then a
 * MAPPING-START whose children alternate key and value events until MAPPING-END. Values of
 * unknown keys may be any node; they are skipped by counting start and end events. libyaml
 * lines are 0-based and start after the opening "---", so file line = mark.line + 2. */
#include "frontmatter.h"

#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "buf.h"

enum field { F_ID, F_TITLE, F_SOURCE, F_URL, F_DATE, F_COUNT };

static const struct key {
    const char *name;
    enum field field;
    int rank; /* 0 = canonical name; lower wins */
} keys[] = {
    {"id", F_ID, 0},     {"title", F_TITLE, 0},    {"source", F_SOURCE, 0},
    {"url", F_URL, 0},   {"date", F_DATE, 0},      {"published", F_DATE, 1},
    {"timestamp", F_DATE, 2},
};

#define YAML_FIRST_LINE 2 /* file line of libyaml's line 0 */

struct fm {
    yaml_parser_t parser;
    struct fmt_article *a;
    int rank[F_COUNT];
    size_t *line;
    struct fmt_err *err;
};

static int fail(struct fm *f, size_t line, int code, const char *what, const char *arg)
{
    if (f->line)
        *f->line = line;
    return fmt_errorf(f->err, code, what, arg);
}

static int next_event(struct fm *f, yaml_event_t *ev)
{
    if (yaml_parser_parse(&f->parser, ev))
        return FMT_OK;
    if (f->parser.error == YAML_MEMORY_ERROR)
        return fail(f, 0, FMT_ENOMEM, "out of memory%s", "");
    return fail(f, f->parser.problem_mark.line + YAML_FIRST_LINE, FMT_EINVAL, "broken YAML: %s",
                f->parser.problem ? f->parser.problem : "unknown error");
}

/* Consume the rest of the node that EV starts (nothing more for scalars and aliases). */
static int skip_node(struct fm *f, const yaml_event_t *ev)
{
    size_t depth = ev->type == YAML_SEQUENCE_START_EVENT || ev->type == YAML_MAPPING_START_EVENT;
    yaml_event_t e;
    int rc;

    while (depth > 0) {
        rc = next_event(f, &e);
        if (rc != FMT_OK)
            return rc;
        if (e.type == YAML_SEQUENCE_START_EVENT || e.type == YAML_MAPPING_START_EVENT)
            depth++;
        else if (e.type == YAML_SEQUENCE_END_EVENT || e.type == YAML_MAPPING_END_EVENT)
            depth--;
        yaml_event_delete(&e);
    }
    return FMT_OK;
}

static int is_null(const yaml_event_t *ev)
{
    const char *v = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;

    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    return n == 0 || (n == 1 && v[0] == '~') || (n == 4 && strncasecmp(v, "null", 4) == 0);
}

static int parse_date(const char *v, size_t n, int64_t *out)
{
    size_t i = 0;
    int64_t t = 0;

    if (fmt_time_parse(v, n, out) == FMT_OK)
        return FMT_OK;
    if (n == 0 || n > 15)
        return FMT_EINVAL;
    for (; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return FMT_EINVAL;
        t = t * 10 + (v[i] - '0');
    }
    *out = t;
    return FMT_OK;
}

/* Store the value event EV of the known key K. */
static int set_field(struct fm *f, const struct key *k, const yaml_event_t *ev)
{
    char **dst[] = {&f->a->id, &f->a->title, &f->a->source, &f->a->url};
    const char *v = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    size_t line = ev->start_mark.line + YAML_FIRST_LINE;
    char shown[64];

    if (ev->type != YAML_SCALAR_EVENT)
        return fail(f, line, FMT_EINVAL, "\"%s\" must be a single value", k->name);
    if (is_null(ev))
        return FMT_OK;
    if (memchr(v, 0, n))
        return fail(f, line, FMT_EINVAL, "NUL character in \"%s\"", k->name);
    if (k->field == F_DATE) {
        if (parse_date(v, n, &f->a->timestamp) == FMT_OK)
            return FMT_OK;
        snprintf(shown, sizeof(shown), "%.*s%s", n > 40 ? 40 : (int)n, v, n > 40 ? "..." : "");
        return fail(f, line, FMT_EINVAL, "bad date \"%s\"", shown);
    }
    if (fmt_article_set(dst[k->field], v, n) != FMT_OK)
        return fail(f, 0, FMT_ENOMEM, "out of memory%s", "");
    return FMT_OK;
}

static const struct key *find_key(const yaml_event_t *ev)
{
    if (ev->type != YAML_SCALAR_EVENT)
        return NULL;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (ev->data.scalar.length == strlen(keys[i].name) &&
            strncasecmp((const char *)ev->data.scalar.value, keys[i].name,
                        ev->data.scalar.length) == 0)
            return &keys[i];
    return NULL;
}

/* Key/value pairs of the root mapping, up to its MAPPING-END. */
static int read_mapping(struct fm *f)
{
    yaml_event_t key, val;
    const struct key *k;
    int rc;

    for (;;) {
        rc = next_event(f, &key);
        if (rc != FMT_OK)
            return rc;
        if (key.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&key);
            return FMT_OK;
        }
        k = find_key(&key);
        rc = skip_node(f, &key);
        yaml_event_delete(&key);
        if (rc == FMT_OK)
            rc = next_event(f, &val);
        if (rc != FMT_OK)
            return rc;
        if (k && (f->rank[k->field] < 0 || f->rank[k->field] >= k->rank)) {
            rc = set_field(f, k, &val);
            if (rc == FMT_OK && !(val.type == YAML_SCALAR_EVENT && is_null(&val)))
                f->rank[k->field] = k->rank;
        } else {
            rc = skip_node(f, &val);
        }
        yaml_event_delete(&val);
        if (rc != FMT_OK)
            return rc;
    }
}

/* Parse YAML[0..len) into f->a. */
static int read_yaml(struct fm *f, const char *yaml, size_t len)
{
    yaml_event_t ev;
    int rc, done = 0;

    if (!yaml_parser_initialize(&f->parser))
        return fail(f, 0, FMT_ENOMEM, "out of memory%s", "");
    yaml_parser_set_input_string(&f->parser, (const unsigned char *)yaml, len);
    for (int f_ = 0; f_ < F_COUNT; f_++)
        f->rank[f_] = -1;
    while (!done) {
        rc = next_event(f, &ev);
        if (rc != FMT_OK)
            break;
        if (ev.type == YAML_MAPPING_START_EVENT) {
            rc = read_mapping(f);
        } else if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_ALIAS_EVENT ||
                   (ev.type == YAML_SCALAR_EVENT && !is_null(&ev))) {
            rc = fail(f, ev.start_mark.line + YAML_FIRST_LINE, FMT_EINVAL,
                      "front matter is not a mapping%s", "");
        }
        done = ev.type == YAML_STREAM_END_EVENT || ev.type == YAML_DOCUMENT_END_EVENT;
        yaml_event_delete(&ev);
        if (rc != FMT_OK)
            break;
    }
    yaml_parser_delete(&f->parser);
    return rc;
}

/* Length of the line at TEXT[pos..len) without its "\n", and *NEXT past it. */
static size_t line_at(const char *text, size_t len, size_t pos, size_t *next)
{
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

    *next = pos + n + (nl != NULL);
    return n;
}

/* The line is "---" (or "..." when END), with trailing blanks or a CR allowed. */
static int is_fence(const char *s, size_t n, int end)
{
    while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return n == 3 && (memcmp(s, "---", 3) == 0 || (end && memcmp(s, "...", 3) == 0));
}

/* Copy TEXT[0..len) into OUT without the CRs of CRLFs, leading blank lines and trailing
 * white space. */
static int clean_body(const char *text, size_t len, struct fmt_buf *out)
{
    size_t start, end = len, pos = 0, next;

    while (pos < len) { /* skip blank lines */
        size_t n = line_at(text, len, pos, &next), k = 0;
        while (k < n && (text[pos + k] == ' ' || text[pos + k] == '\t' || text[pos + k] == '\r'))
            k++;
        if (k < n)
            break;
        pos = next;
    }
    start = pos;
    while (end > start && (text[end - 1] == ' ' || text[end - 1] == '\t' ||
                           text[end - 1] == '\r' || text[end - 1] == '\n'))
        end--;
    for (size_t i = start; i < end; i++)
        if (!(text[i] == '\r' && i + 1 < end && text[i + 1] == '\n') &&
            fmt_buf_putc(out, (uint8_t)text[i]) != FMT_OK)
            return FMT_ENOMEM;
    return fmt_buf_terminate(out);
}

/* Move the first line of BODY (a "# heading" marker stripped; a Setext underline dropped)
 * into TITLE. */
static int title_from_body(struct fmt_article *a)
{
    const char *b = a->body;
    size_t len = strlen(b), next, n = line_at(b, len, 0, &next), s = 0, after;

    while (s < n && b[s] == '#')
        s++;
    while (s < n && (b[s] == ' ' || b[s] == '\t'))
        s++;
    while (n > s && (b[n - 1] == ' ' || b[n - 1] == '\t' || b[n - 1] == '#'))
        n--;
    if (fmt_article_set(&a->title, b + s, n - s) != FMT_OK)
        return FMT_ENOMEM;
    if (next < len) { /* Setext: "Title" then "=====" or "-----" */
        size_t u = line_at(b, len, next, &after), k = 0;
        while (k < u && (b[next + k] == '=' || b[next + k] == '-'))
            k++;
        if (u > 0 && k == u)
            next = after;
    }
    while (next < len && (b[next] == '\n' || b[next] == ' ' || b[next] == '\t'))
        next++;
    memmove(a->body, b + next, len - next + 1);
    return FMT_OK;
}

int idx_frontmatter_parse(const char *text, size_t len, struct fmt_article *out, size_t *line,
                          struct fmt_err *err)
{
    struct fm f = {.a = out, .line = line, .err = err};
    struct fmt_buf body;
    size_t pos = 0, next, n, yaml_start = 0, body_start = 0;
    int rc;

    if (line)
        *line = 0;
    n = line_at(text, len, 0, &next);
    if (is_fence(text, n, 0) && next > n) { /* "---" then a newline: a front matter block */
        yaml_start = pos = next;
        for (;;) {
            if (pos >= len)
                return fail(&f, 1, FMT_EINVAL, "front matter has no closing \"---\" line%s",
                            "");
            n = line_at(text, len, pos, &next);
            if (is_fence(text + pos, n, 1))
                break;
            pos = next;
        }
        body_start = next;
    }
    if (fmt_article_init(out) != FMT_OK)
        return fmt_errorf(err, FMT_ENOMEM, "out of memory");
    fmt_buf_init(&body);
    rc = body_start > 0 ? read_yaml(&f, text + yaml_start, pos - yaml_start) : FMT_OK;
    if (rc != FMT_OK)
        goto fail;
    if (clean_body(text + body_start, len - body_start, &body) != FMT_OK)
        goto nomem;
    free(out->body);
    out->body = (char *)fmt_buf_steal(&body);
    if (out->title[0] == 0 && out->body[0] != 0 && title_from_body(out) != FMT_OK)
        goto nomem;
    if (out->title[0] == 0 && out->body[0] == 0) {
        rc = fmt_errorf(err, FMT_EINVAL, "blank file");
        goto fail;
    }
    return FMT_OK;
nomem:
    rc = fmt_errorf(err, FMT_ENOMEM, "out of memory");
fail:
    fmt_buf_release(&body);
    fmt_article_release(out);
    return rc;
}
