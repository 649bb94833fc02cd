/* page.c - saved-page text parser (layout in page.h). */
#include "page.h"

#include <string.h>

#include "buf.h"

/* One line of the input, trimmed of blanks at both ends (and of the CR of a CRLF). */
struct line {
    const char *p;
    size_t len;
};

/* Next line of TEXT at *POS, trimmed; 0 at the end of the text. */
static int next_line(const char *text, size_t len, size_t *pos, struct line *l)
{
    const char *s, *nl;
    size_t n;

    if (*pos >= len)
        return 0;
    s = text + *pos;
    nl = memchr(s, '\n', len - *pos);
    n = nl ? (size_t)(nl - s) : len - *pos;
    *pos += n + (nl != NULL);
    while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    l->p = s;
    l->len = n;
    return 1;
}

static int line_is(const struct line *l, const char *word)
{
    return l->len == strlen(word) && memcmp(l->p, word, l->len) == 0;
}

static int has_prefix(const struct line *l, const char *prefix)
{
    size_t n = strlen(prefix);

    return l->len > n && memcmp(l->p, prefix, n) == 0;
}

static int contains(const struct line *l, const char *needle)
{
    size_t n = strlen(needle);

    for (size_t i = 0; i + n <= l->len; i++)
        if (memcmp(l->p + i, needle, n) == 0)
            return 1;
    return 0;
}

/* "![alt](target)" */
static int is_image_line(const struct line *l)
{
    return l->len >= 5 && l->p[0] == '!' && l->p[1] == '[' && l->p[l->len - 1] == ')' &&
           contains(l, "](");
}

/* "More from X" or "More in X": a teaser section header. */
static int is_more_header(const struct line *l)
{
    return has_prefix(l, "More from ") || has_prefix(l, "More in ");
}

/* The next non-empty line after POS is exactly "-". */
static int dash_follows(const char *text, size_t len, size_t pos)
{
    struct line l;

    while (next_line(text, len, &pos, &l))
        if (l.len > 0)
            return line_is(&l, "-");
    return 0;
}

/* Body paragraphs from POS up to the first "-" line (or a "More from X" header directly
 * followed by one), joined with "\n"; *POS is left after the last body line. */
static int read_body(const char *text, size_t len, size_t *pos, struct fmt_buf *body)
{
    struct line l;
    size_t at = *pos;

    while (next_line(text, len, &at, &l)) {
        if (line_is(&l, "-") || (is_more_header(&l) && dash_follows(text, len, at)))
            break;
        *pos = at;
        if (l.len == 0)
            continue;
        if ((body->len > 0 && fmt_buf_putc(body, '\n') != FMT_OK) ||
            fmt_buf_append(body, l.p, l.len) != FMT_OK)
            return FMT_ENOMEM;
    }
    return fmt_buf_terminate(body);
}

/* X of the first "More from X" line at or after POS, or an empty line. */
static struct line find_source(const char *text, size_t len, size_t pos)
{
    struct line l, none = {"", 0};

    while (next_line(text, len, &pos, &l))
        if (has_prefix(&l, "More from ")) {
            l.p += strlen("More from ");
            l.len -= strlen("More from ");
            return l;
        }
    return none;
}

int idx_page_parse(const char *text, size_t len, struct fmt_article *out, size_t *line,
                   struct fmt_err *err)
{
    struct fmt_buf body;
    struct line title = {"", 0}, l, src;
    size_t pos = 0, before;
    int rc;

    if (line)
        *line = 0;
    while (next_line(text, len, &pos, &title) && title.len == 0)
        ;
    if (title.len == 0)
        return fmt_errorf(err, FMT_EINVAL, "blank file");
    before = pos; /* skip one image line directly after the title */
    while (next_line(text, len, &pos, &l) && l.len == 0)
        ;
    if (!(l.len > 0 && is_image_line(&l)))
        pos = before;
    if (fmt_article_init(out) != FMT_OK)
        return fmt_errorf(err, FMT_ENOMEM, "out of memory");
    fmt_buf_init(&body);
    rc = read_body(text, len, &pos, &body);
    if (rc != FMT_OK)
        goto fail;
    src = find_source(text, len, pos);
    if (fmt_article_set(&out->title, title.p, title.len) != FMT_OK ||
        fmt_article_set(&out->source, src.p, src.len) != FMT_OK)
        goto fail;
    free(out->body);
    out->body = (char *)fmt_buf_steal(&body);
    return FMT_OK;
fail:
    fmt_buf_release(&body);
    fmt_article_release(out);
    return fmt_errorf(err, FMT_ENOMEM, "out of memory");
}
