/* reuters2jsonl.c - convert Reuters-21578 SGML files to JSON Lines for `newsidx add`.
 *
 *   reuters2jsonl reut2-000.sgm ... > reuters.jsonl
 *
 * Each <REUTERS NEWID="N"> becomes one line
 *   {"id":"reuters-N","title":...,"source":"Reuters","timestamp":"1987-02-26T15:01:01Z",
 *    "body":...}
 * - title: <TITLE>, else the first line of the body, else "(untitled)"; white space runs
 *   become one space.
 * - body: the <BODY> text (the <DATELINE> is a sibling, so it is not included); without a
 *   BODY, the <TEXT> content minus its TITLE, DATELINE and AUTHOR elements. Hard-wrapped
 *   lines are joined into paragraphs (an indented line starts a new one) and paragraphs are
 *   joined with "\n". The closing "Reuter" signature is dropped (on its own line or after a
 *   run of spaces at the very end).
 * - entities &lt; &gt; &amp; &quot; &#N; are decoded; control characters (&#2; &#3; &#5;
 *   ... and raw ones) are dropped; bytes that are not valid UTF-8 are read as Latin-1 (one
 *   file of the corpus has such a byte).
 * - timestamp: DATE "26-FEB-1987 15:01:01.79" (fraction dropped). A DATE that is not a real
 *   date and time keeps the article without a timestamp key and prints
 *   "reut2-NNN.sgm:LINE: bad DATE \"...\": timestamp dropped" on stderr.
 * Exit status: 0, 1 when a file could not be read or stdout failed, 2 on usage errors. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "article.h"
#include "buf.h"
#include "err.h"
#include "json.h"

/* A span of the input file. */
struct span {
    const char *p;
    size_t len;
};

static const char *find(const char *p, const char *end, const char *needle)
{
    size_t n = strlen(needle);

    while (p + n <= end) {
        const char *q = memchr(p, needle[0], (size_t)(end - p) - n + 1);
        if (!q)
            return NULL;
        if (memcmp(q, needle, n) == 0)
            return q;
        p = q + 1;
    }
    return NULL;
}

/* Content of the first <TAG ...>...</TAG> in [p, end); 0 when absent. *OPEN gets the start
 * of the opening tag when not NULL. */
static int element(const char *p, const char *end, const char *tag, struct span *out,
                   const char **open)
{
    char o[32], c[32];
    const char *s, *gt, *e;

    snprintf(o, sizeof(o), "<%s", tag);
    snprintf(c, sizeof(c), "</%s>", tag);
    for (s = p; (s = find(s, end, o)) != NULL; s++) {
        const char *after = s + strlen(o);
        if (after < end && (*after == '>' || *after == ' '))
            break;
    }
    if (!s || !(gt = memchr(s, '>', (size_t)(end - s))) || !(e = find(gt, end, c)))
        return 0;
    out->p = gt + 1;
    out->len = (size_t)(e - out->p);
    if (open)
        *open = s;
    return 1;
}

/* Length of a valid UTF-8 sequence at s[0..n), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t k = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;

    if (k == 0 || s[0] > 0xf4 || n < k)
        return 0;
    for (size_t i = 1; i < k; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return k;
}

static int put_cp(struct fmt_buf *b, unsigned cp)
{
    if (cp < 0x80)
        return fmt_buf_putc(b, (uint8_t)cp);
    if (cp < 0x800)
        return fmt_buf_putc(b, (uint8_t)(0xc0 | cp >> 6)) |
               fmt_buf_putc(b, (uint8_t)(0x80 | (cp & 0x3f)));
    return fmt_buf_putc(b, (uint8_t)(0xe0 | cp >> 12)) |
           fmt_buf_putc(b, (uint8_t)(0x80 | (cp >> 6 & 0x3f))) |
           fmt_buf_putc(b, (uint8_t)(0x80 | (cp & 0x3f)));
}

/* Decode entities in S into B, dropping control characters except '\n'; tabs become
 * spaces. With STRIP_TAGS, <...> markup is dropped too. */
static int decode(struct span s, struct fmt_buf *b, int strip_tags)
{
    static const struct {
        const char *name;
        char c;
    } ents[] = {{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}};
    const unsigned char *p = (const unsigned char *)s.p, *end = p + s.len;
    int rc = FMT_OK;

    while (p < end && rc == FMT_OK) {
        size_t k;
        if (*p == '&') {
            size_t i;
            for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
                size_t n = strlen(ents[i].name);
                if ((size_t)(end - p) >= n && memcmp(p, ents[i].name, n) == 0) {
                    rc = fmt_buf_putc(b, (uint8_t)ents[i].c);
                    p += n;
                    break;
                }
            }
            if (i < sizeof(ents) / sizeof(ents[0]))
                continue;
            if (end - p > 3 && p[1] == '#' && isdigit(p[2])) {
                unsigned v = 0;
                const unsigned char *q = p + 2;
                while (q < end && isdigit(*q) && v < 0x10000)
                    v = v * 10 + (unsigned)(*q++ - '0');
                if (q < end && *q == ';') {
                    if (v >= 0x20 && v != 0x7f && v < 0xd800)
                        rc = put_cp(b, v);
                    else if (v == '\n')
                        rc = fmt_buf_putc(b, '\n');
                    p = q + 1;
                    continue;
                }
            }
            rc = fmt_buf_putc(b, '&');
            p++;
        } else if (strip_tags && *p == '<') {
            const unsigned char *gt = memchr(p, '>', (size_t)(end - p));
            p = gt ? gt + 1 : end;
        } else if (*p == '\t') {
            rc = fmt_buf_putc(b, ' ');
            p++;
        } else if (*p < 0x20 && *p != '\n') {
            p++;
        } else if (*p == 0x7f) {
            p++;
        } else if (*p < 0x80) {
            rc = fmt_buf_putc(b, *p++);
        } else if ((k = utf8_len(p, (size_t)(end - p))) > 0) {
            rc = fmt_buf_append(b, p, k);
            p += k;
        } else {
            rc = put_cp(b, *p++); /* Latin-1 */
        }
    }
    return rc;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Append the text T[0..n) to OUT as paragraphs: lines are trimmed, an indented line or a
 * blank line starts a new paragraph, other lines join the current one with a space. A
 * closing "Reuter" signature (any case) is dropped. */
static int paragraphs(const char *t, size_t n, struct fmt_buf *out)
{
    size_t pos = 0;
    int fresh = 1, rc = FMT_OK;

    while (n > 0 && is_blank(t[n - 1]))
        n--;
    /* the signature: "Reuter" ending the text on its own line or after a run of spaces
     * ("REUTER" after any space); some articles carry two */
    while (n >= 6 && strncasecmp(t + n - 6, "reuter", 6) == 0) {
        size_t k = n - 6;
        while (k > 0 && (t[k - 1] == ' ' || t[k - 1] == '\t'))
            k--;
        if (!(k == 0 || t[k - 1] == '\n' || n - 6 - k >= 2 ||
              (n - 6 - k == 1 && memcmp(t + n - 6, "REUTER", 6) == 0)))
            break;
        n = k;
        while (n > 0 && is_blank(t[n - 1]))
            n--;
    }
    while (pos < n && rc == FMT_OK) {
        const char *nl = memchr(t + pos, '\n', n - pos);
        size_t e = nl ? (size_t)(nl - t) : n, s = pos;
        int indented = s < e && (t[s] == ' ' || t[s] == '\t');

        while (s < e && is_blank(t[s]))
            s++;
        while (e > s && is_blank(t[e - 1]))
            e--;
        if (s == e) {
            fresh = 1;
        } else {
            if (out->len > 0)
                rc |= fmt_buf_putc(out, (fresh || indented) ? '\n' : ' ');
            rc |= fmt_buf_append(out, t + s, e - s);
            fresh = 0;
        }
        pos = nl ? (size_t)(nl - t) + 1 : n;
    }
    return rc;
}

/* "26-FEB-1987 15:01:01.79" (extra spaces and trailing junk allowed) to seconds. */
static int parse_date(const char *s, size_t n, int64_t *out)
{
    static const char months[] = "JANFEBMARAPRMAYJUNJULAUGSEPOCTNOVDEC";
    char iso[32], mon[4] = {0};
    unsigned d = 0, y = 0, h = 0, mi = 0, se = 0;
    size_t i = 0, k;
    const char *m;

    while (i < n && s[i] == ' ')
        i++;
    for (k = 0; i < n && isdigit((unsigned char)s[i]) && k < 2; k++)
        d = d * 10 + (unsigned)(s[i++] - '0');
    if (k == 0 || i + 5 > n || s[i] != '-' || s[i + 4] != '-')
        return FMT_EINVAL;
    memcpy(mon, s + i + 1, 3);
    i += 5;
    m = strstr(months, mon);
    if (!m || (m - months) % 3 != 0)
        return FMT_EINVAL;
    for (k = 0; i < n && isdigit((unsigned char)s[i]) && k < 4; k++)
        y = y * 10 + (unsigned)(s[i++] - '0');
    if (k != 4)
        return FMT_EINVAL;
    while (i < n && s[i] == ' ')
        i++;
    if (i + 8 > n || !isdigit((unsigned char)s[i]) || !isdigit((unsigned char)s[i + 1]) ||
        s[i + 2] != ':' || !isdigit((unsigned char)s[i + 3]) ||
        !isdigit((unsigned char)s[i + 4]) || s[i + 5] != ':' ||
        !isdigit((unsigned char)s[i + 6]) || !isdigit((unsigned char)s[i + 7]))
        return FMT_EINVAL;
    h = (unsigned)((s[i] - '0') * 10 + s[i + 1] - '0');
    mi = (unsigned)((s[i + 3] - '0') * 10 + s[i + 4] - '0');
    se = (unsigned)((s[i + 6] - '0') * 10 + s[i + 7] - '0');
    i += 8;
    if (i < n && isdigit((unsigned char)s[i])) /* "605:12:19": three-digit hour */
        return FMT_EINVAL;
    snprintf(iso, sizeof(iso), "%04u-%02u-%02uT%02u:%02u:%02uZ", y,
             (unsigned)((m - months) / 3 + 1), d, h, mi, se);
    return fmt_time_parse(iso, strlen(iso), out);
}

/* Whole file PATH into *OUT (malloc'd). */
static int slurp(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct fmt_buf b;
    char chunk[65536];
    size_t n;

    if (!f)
        return FMT_EIO;
    fmt_buf_init(&b);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (fmt_buf_append(&b, chunk, n) != FMT_OK) {
            fclose(f);
            fmt_buf_release(&b);
            return FMT_ENOMEM;
        }
    if (ferror(f) || fmt_buf_terminate(&b) != FMT_OK) {
        fclose(f);
        fmt_buf_release(&b);
        return FMT_EIO;
    }
    fclose(f);
    *len = b.len;
    *out = (char *)fmt_buf_steal(&b);
    return FMT_OK;
}

/* Body of one article (between <REUTERS ...> and </REUTERS>) as described at the top. */
static int article_body(const char *p, const char *end, struct fmt_buf *body)
{
    struct fmt_buf raw;
    struct span s, text;
    const char *open;
    int rc;

    fmt_buf_init(&raw);
    if (element(p, end, "BODY", &s, NULL)) {
        rc = decode(s, &raw, 0);
    } else if (element(p, end, "TEXT", &text, NULL)) {
        /* TEXT minus its TITLE, DATELINE and AUTHOR elements, other markup stripped */
        const char *q = text.p, *tend = text.p + text.len;
        rc = FMT_OK;
        while (rc == FMT_OK && q < tend) {
            const char *next = tend, *cut_end = tend;
            static const char *const drop[] = {"TITLE", "DATELINE", "AUTHOR"};
            for (size_t i = 0; i < 3; i++)
                if (element(q, tend, drop[i], &s, &open) && open < next) {
                    next = open;
                    cut_end = s.p + s.len + strlen(drop[i]) + 3;
                }
            s.p = q;
            s.len = (size_t)(next - q);
            rc = decode(s, &raw, 1);
            q = cut_end;
        }
    } else {
        rc = FMT_OK;
    }
    if (rc == FMT_OK)
        rc = paragraphs((const char *)raw.p, raw.len, body);
    fmt_buf_release(&raw);
    return rc;
}

/* Collapse white space runs of T[0..n) into single spaces, trimmed, into OUT. */
static int squeeze(const char *t, size_t n, struct fmt_buf *out)
{
    int rc = FMT_OK, space = 0;

    for (size_t i = 0; i < n && rc == FMT_OK; i++) {
        if (is_blank(t[i])) {
            space = out->len > 0;
            continue;
        }
        if (space)
            rc = fmt_buf_putc(out, ' ');
        space = 0;
        if (rc == FMT_OK)
            rc = fmt_buf_putc(out, (uint8_t)t[i]);
    }
    return rc;
}

static size_t count_lines(const char *from, const char *to)
{
    size_t n = 0;

    for (const char *q = from; (q = memchr(q, '\n', (size_t)(to - q))) != NULL; q++)
        n++;
    return n;
}

/* Convert one article [p, end) into a JSON line appended to OUT. LINE is the 1-based line
 * of p in FILE (for messages). */
static int convert(const char *file, size_t line, const char *p, const char *end,
                   struct fmt_buf *out)
{
    struct fmt_buf title, body, tmp;
    struct span s;
    const char *open, *id, *idend;
    char when[32];
    int64_t t = FMT_NO_TIME;
    int rc = FMT_OK;

    fmt_buf_init(&title);
    fmt_buf_init(&body);
    fmt_buf_init(&tmp);
    id = find(p, end, "NEWID=\"");
    idend = id ? memchr(id + 7, '"', (size_t)(end - id - 7)) : NULL;
    if (element(p, end, "DATE", &s, &open)) {
        rc = decode(s, &tmp, 0);
        if (rc == FMT_OK && parse_date((const char *)tmp.p, tmp.len, &t) != FMT_OK) {
            size_t n = tmp.len;
            while (n > 0 && is_blank((char)tmp.p[n - 1]))
                n--;
            fprintf(stderr, "%s:%zu: bad DATE \"%.*s\": timestamp dropped\n", file,
                    line + count_lines(p, open), (int)n, (const char *)tmp.p);
            t = FMT_NO_TIME;
        }
    }
    if (rc == FMT_OK)
        rc = article_body(p, end, &body);
    tmp.len = 0;
    if (rc == FMT_OK && element(p, end, "TITLE", &s, NULL))
        rc = decode(s, &tmp, 0);
    if (rc == FMT_OK)
        rc = squeeze((const char *)tmp.p, tmp.len, &title);
    if (rc == FMT_OK && title.len == 0) {
        const char *nl = body.len ? memchr(body.p, '\n', body.len) : NULL;
        size_t n = nl ? (size_t)(nl - (const char *)body.p) : body.len;
        rc = n ? fmt_buf_append(&title, body.p, n) : fmt_buf_puts(&title, "(untitled)");
    }
    if (rc == FMT_OK) {
        rc |= fmt_buf_printf(out, "{\"id\":\"reuters-%.*s\",\"title\":",
                             id && idend ? (int)(idend - id - 7) : 1, id && idend ? id + 7 : "?");
        rc |= fmt_json_put_string(out, (const char *)title.p, title.len);
        rc |= fmt_buf_puts(out, ",\"source\":\"Reuters\"");
        if (t != FMT_NO_TIME) {
            fmt_time_format(t, when, sizeof(when));
            rc |= fmt_buf_printf(out, ",\"timestamp\":\"%s\"", when);
        }
        rc |= fmt_buf_puts(out, ",\"body\":");
        rc |= fmt_json_put_string(out, body.p ? (const char *)body.p : "", body.len);
        rc |= fmt_buf_puts(out, "}\n");
    }
    fmt_buf_release(&title);
    fmt_buf_release(&body);
    fmt_buf_release(&tmp);
    return rc ? FMT_ENOMEM : FMT_OK;
}

/* Convert every <REUTERS> of PATH to stdout. Returns FMT_OK, FMT_EIO or FMT_ENOMEM. */
static int convert_file(const char *path)
{
    const char *base = strrchr(path, '/');
    char *text;
    size_t len, line = 1;
    const char *p, *end, *prev;
    struct fmt_buf out;
    int rc;

    base = base ? base + 1 : path;
    rc = slurp(path, &text, &len);
    if (rc != FMT_OK) {
        fprintf(stderr, "reuters2jsonl: %s: %s\n", path,
                rc == FMT_ENOMEM ? "out of memory" : strerror(errno));
        return rc;
    }
    fmt_buf_init(&out);
    end = text + len;
    prev = text;
    for (p = text; rc == FMT_OK && (p = find(p, end, "<REUTERS")) != NULL;) {
        const char *close = find(p, end, "</REUTERS>");
        if (!close) {
            fprintf(stderr, "%s:%zu: <REUTERS> without </REUTERS>: rest of file ignored\n",
                    base, line + count_lines(prev, p));
            break;
        }
        line += count_lines(prev, p);
        prev = p;
        out.len = 0;
        rc = convert(base, line, p, close, &out);
        if (rc == FMT_OK && fwrite(out.p, 1, out.len, stdout) != out.len)
            rc = FMT_EIO;
        p = close + strlen("</REUTERS>");
    }
    if (rc != FMT_OK)
        fprintf(stderr, "reuters2jsonl: %s: %s\n", path,
                rc == FMT_ENOMEM ? "out of memory" : "write error");
    fmt_buf_release(&out);
    free(text);
    return rc;
}

int main(int argc, char **argv)
{
    int status = 0;

    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fprintf(argc < 2 ? stderr : stdout, "usage: reuters2jsonl FILE.sgm... > out.jsonl\n");
        return argc < 2 ? 2 : 0;
    }
    for (int i = 1; i < argc; i++)
        if (convert_file(argv[i]) != FMT_OK)
            status = 1;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "reuters2jsonl: stdout: %s\n", strerror(errno));
        status = 1;
    }
    return status;
}
