/* jsonl.c - JSON Lines record parser (keys and aliases in jsonl.h). */
#include "jsonl.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "json.h"

enum field { F_ID, F_TITLE, F_SOURCE, F_URL, F_BODY, F_TIME, F_COUNT };

static const struct key {
    const char *name;
    enum field field;
    int rank; /* 0 = the canonical name; a lower rank wins */
} keys[] = {
    {"id", F_ID, 0},          {"title", F_TITLE, 0},   {"source", F_SOURCE, 0},
    {"url", F_URL, 0},        {"body", F_BODY, 0},     {"text", F_BODY, 1},
    {"content", F_BODY, 2},   {"timestamp", F_TIME, 0}, {"date", F_TIME, 1},
    {"published", F_TIME, 2}, {"time", F_TIME, 3},
};

static const char *const field_names[F_COUNT] = {"id", "title", "source", "url", "body",
                                                 "timestamp"};

struct record {
    struct fmt_article *a;
    int rank[F_COUNT];  /* rank of the key that set each field, or -1 */
    size_t *col;
    struct fmt_err *err;
};

/* Reject the record: WHAT (already formatted) at 1-based column COL. */
static int bad(struct record *r, size_t col, const char *what)
{
    if (r->col)
        *r->col = col;
    return fmt_errorf(r->err, FMT_EINVAL, "%s at column %zu", what, col);
}

/* Epoch seconds from a JSON number literal (fraction truncated). */
static int number_time(const char *s, size_t len, int64_t *out)
{
    char tmp[64];
    char *end;
    double d;

    if (len >= sizeof(tmp))
        return FMT_EINVAL;
    memcpy(tmp, s, len);
    tmp[len] = 0;
    errno = 0;
    d = strtod(tmp, &end);
    if (errno != 0 || *end != 0 || !(fabs(d) < 1e15))
        return FMT_EINVAL;
    *out = (int64_t)d;
    return FMT_OK;
}

static int set_time(struct record *r, const struct fmt_json_value *v)
{
    int64_t t;
    int rc;

    if (v->type == FMT_JSON_NUMBER)
        rc = number_time(v->s, v->len, &t);
    else if (v->type == FMT_JSON_STRING && v->len == 0)
        return FMT_OK; /* "" is no date */
    else if (v->type == FMT_JSON_STRING)
        rc = fmt_time_parse(v->s, v->len, &t);
    else
        return bad(r, v->col, "\"timestamp\" must be a string or a number");
    if (rc != FMT_OK) {
        char what[80];
        int n = v->len < 40 ? (int)v->len : 40;

        while (n > 0 && n < (int)v->len && ((unsigned char)v->s[n] & 0xc0) == 0x80)
            n--; /* cut at a character boundary */

        snprintf(what, sizeof(what), "bad timestamp \"%.*s%s\"", n, v->s,
                 v->len > 40 ? "..." : "");
        return bad(r, v->col, what);
    }
    r->a->timestamp = t;
    return FMT_OK;
}

static int set_string(struct record *r, enum field f, const struct fmt_json_value *v)
{
    char **dst[] = {&r->a->id, &r->a->title, &r->a->source, &r->a->url, &r->a->body};

    char what[64];

    if (v->type != FMT_JSON_STRING && !(f == F_ID && v->type == FMT_JSON_NUMBER)) {
        snprintf(what, sizeof(what), "\"%s\" must be a string", field_names[f]);
        return bad(r, v->col, what);
    }
    if (memchr(v->s, 0, v->len)) {
        snprintf(what, sizeof(what), "\\u0000 in \"%s\"", field_names[f]);
        return bad(r, v->col, what);
    }
    if (fmt_article_set(dst[f], v->s, v->len) != FMT_OK)
        return fmt_errorf(r->err, FMT_ENOMEM, "out of memory");
    return FMT_OK;
}

static int on_member(void *ctx, const char *key, size_t klen, const struct fmt_json_value *v)
{
    struct record *r = ctx;
    const struct key *k = NULL;
    int rc;

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strlen(keys[i].name) == klen && memcmp(keys[i].name, key, klen) == 0)
            k = &keys[i];
    if (!k || (r->rank[k->field] >= 0 && r->rank[k->field] < k->rank))
        return 0;
    if (v->type == FMT_JSON_NULL)
        return 0;
    rc = k->field == F_TIME ? set_time(r, v) : set_string(r, k->field, v);
    if (rc == FMT_OK)
        r->rank[k->field] = k->rank;
    return rc;
}

int idx_jsonl_parse_line(const char *line, size_t len, struct fmt_article *out, size_t *col,
                         struct fmt_err *err)
{
    struct record r = {.a = out, .col = col, .err = err};
    struct fmt_err jerr;
    size_t i = 0;
    int rc;

    if (col)
        *col = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n'))
        i++;
    if (i == len)
        return FMT_ENOTFOUND;
    if (fmt_article_init(out) != FMT_OK)
        return fmt_errorf(err, FMT_ENOMEM, "out of memory");
    for (int f = 0; f < F_COUNT; f++)
        r.rank[f] = -1;
    jerr.code = FMT_OK;
    rc = fmt_json_parse_object(line, len, on_member, &r, col, &jerr);
    if (jerr.code != FMT_OK) /* the grammar's error; on_member writes to err directly */
        rc = fmt_errorf(err, jerr.code, "%s%s", jerr.code == FMT_EINVAL ? "broken JSON: " : "",
                        jerr.msg);
    if (rc != FMT_OK)
        fmt_article_release(out);
    return rc;
}
