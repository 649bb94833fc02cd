/* input.c - walk PATHs, detect formats, reject bad input, dispatch to the parsers.
 *
 * Reading: every file is read with read(2) in chunks of READ_CHUNK bytes. The first
 * HEAD_BYTES decide "binary file" (a NUL byte) and, in AUTO mode, the format. JSON Lines are
 * streamed through a line reader whose buffer never grows past about twice opts.max_line:
 * a longer line is skipped by scanning for its newline chunk by chunk, without keeping it.
 * Saved pages and front-matter files are read whole (at most IDX_INPUT_MAX_TEXT_FILE), and
 * the line-length limit is checked while reading, so a 50 MB one-line page is rejected after
 * reading a little more than max_line bytes. */
#include "input.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer.h"
#include "buf.h"
#include "frontmatter.h"
#include "jsonl.h"
#include "page.h"

#define HEAD_BYTES 8192   /* a NUL byte in these makes a binary file */
#define READ_CHUNK 65536

struct walk {
    const struct idx_input_opts *o;
    idx_article_fn on_article;
    idx_skip_fn on_skip;
    void *ctx;
    struct fmt_err *err;
    size_t root_len;                 /* bytes of a walked path before the relative id */
    size_t depth;                    /* directories open below the root */
    dev_t dev[IDX_INPUT_MAX_DEPTH + 1]; /* the open directories, to refuse cycles */
    ino_t ino[IDX_INPUT_MAX_DEPTH + 1];
};

/* One input file being read. */
struct src {
    int fd;
    const char *name;   /* shown in skip reports: the path, or "stdin" */
    const char *relid;  /* id of the file's article(s), before the ":line" of JSON Lines */
    int64_t mtime;      /* FMT_NO_TIME unless a regular file */
    struct fmt_buf buf; /* bytes read so far (the head, then more) */
    int eof;
};

int idx_format_parse(const char *name, enum idx_format *out)
{
    static const struct {
        const char *name;
        enum idx_format f;
    } names[] = {{"auto", IDX_FORMAT_AUTO},         {"page", IDX_FORMAT_PAGE},
                 {"markdown", IDX_FORMAT_MARKDOWN}, {"md", IDX_FORMAT_MARKDOWN},
                 {"jsonl", IDX_FORMAT_JSONL}};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i].name) == 0) {
            *out = names[i].f;
            return FMT_OK;
        }
    return FMT_EINVAL;
}

void idx_input_opts_default(struct idx_input_opts *o)
{
    o->format = IDX_FORMAT_AUTO;
    o->source = NULL;
    o->timestamp = FMT_NO_TIME;
    o->max_line = IDX_INPUT_MAX_LINE_DEFAULT;
    o->teasers = 0;
}

static void skipf(struct walk *w, const char *file, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void skipf(struct walk *w, const char *file, size_t line, const char *fmt, ...)
{
    char reason[320];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    if (w->on_skip)
        w->on_skip(w->ctx, file, line, reason);
}

/* Read more bytes into s->buf (up to WANT); sets s->eof at the end. FMT_OK or FMT_EIO. */
static int read_more(struct walk *w, struct src *s, size_t want)
{
    ssize_t n;

    if (fmt_buf_reserve(&s->buf, want) != FMT_OK)
        return fmt_errorf(w->err, FMT_ENOMEM, "%s: out of memory", s->name);
    do
        n = read(s->fd, s->buf.p + s->buf.len, want);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return fmt_errorf(w->err, FMT_EIO, "%s: %s", s->name, strerror(errno));
    if (n == 0)
        s->eof = 1;
    s->buf.len += (size_t)n;
    return FMT_OK;
}

/* 1-based line of byte OFF in TEXT. */
static size_t line_of(const char *text, size_t off)
{
    size_t line = 1;

    for (const char *p = text; (p = memchr(p, '\n', (size_t)(text + off - p))) != NULL; p++)
        line++;
    return line;
}

/* Apply the id, source and timestamp rules to A. LINE is the JSON Lines line (0 for other
 * formats). FMT_OK, or FMT_ENOMEM with A released. */
static int apply_rules(struct walk *w, const struct src *s, enum idx_format f, size_t line,
                       struct fmt_article *a)
{
    int rc = FMT_OK;

    if (a->id[0] == 0 && a->url[0] != 0)
        rc = fmt_article_set(&a->id, a->url, strlen(a->url));
    else if (a->id[0] == 0 && f == IDX_FORMAT_JSONL) {
        struct fmt_buf b;
        fmt_buf_init(&b);
        rc = fmt_buf_printf(&b, "%s:%zu", s->relid, line);
        if (rc == FMT_OK)
            rc = fmt_article_set(&a->id, (char *)b.p, b.len);
        fmt_buf_release(&b);
    } else if (a->id[0] == 0)
        rc = fmt_article_set(&a->id, s->relid, strlen(s->relid));
    if (rc == FMT_OK && w->o->source && (a->source[0] == 0 || f == IDX_FORMAT_PAGE))
        rc = fmt_article_set(&a->source, w->o->source, strlen(w->o->source));
    if (rc != FMT_OK) {
        fmt_article_release(a);
        return fmt_errorf(w->err, FMT_ENOMEM, "%s: out of memory", s->name);
    }
    if (a->timestamp == FMT_NO_TIME)
        a->timestamp = w->o->timestamp;
    if (a->timestamp == FMT_NO_TIME && f != IDX_FORMAT_JSONL)
        a->timestamp = s->mtime;
    return FMT_OK;
}

/* Apply the rules to A and hand it over; either way A is no longer the caller's. */
static int deliver(struct walk *w, const struct src *s, enum idx_format f, size_t line,
                   struct fmt_article *a)
{
    int rc = apply_rules(w, s, f, line, a);

    return rc != FMT_OK ? rc : w->on_article(w->ctx, a);
}

/* Line reader over s->buf for JSON Lines. */
struct lines {
    struct src *s;
    size_t max_line;
    size_t start;    /* first byte of the next line in s->buf */
    size_t scanned;  /* bytes from start already known to hold no '\n' */
    uint64_t off;    /* file offset of s->buf.p[0] */
    size_t lineno;   /* lines returned so far */
};

enum { LINE_OK, LINE_LONG, LINE_END };

/* Drop the rest of an overlong line: read chunks into the emptied buffer until a '\n'. */
static int discard_line(struct walk *w, struct lines *lr)
{
    struct src *s = lr->s;
    const uint8_t *nl;
    int rc;

    for (;;) {
        lr->off += s->buf.len;
        s->buf.len = 0;
        lr->start = lr->scanned = 0;
        if (s->eof)
            return FMT_OK;
        rc = read_more(w, s, READ_CHUNK);
        if (rc != FMT_OK)
            return rc;
        nl = memchr(s->buf.p, '\n', s->buf.len);
        if (nl) {
            lr->start = lr->scanned = (size_t)(nl - s->buf.p) + 1;
            return FMT_OK;
        }
    }
}

/* Next line into P and LEN (without its '\n') and LINE_OFF; returns LINE_OK, LINE_LONG (the line
 * was skipped), LINE_END, or a negative status. */
static int next_line(struct walk *w, struct lines *lr, const char **p, size_t *len,
                     uint64_t *line_off)
{
    struct src *s = lr->s;
    int rc;

    for (;;) {
        const uint8_t *base = s->buf.p + lr->start;
        size_t avail = s->buf.len - lr->start;
        const uint8_t *nl = avail > lr->scanned ? memchr(base + lr->scanned, '\n',
                                                         avail - lr->scanned)
                                                : NULL;

        if (nl || (s->eof && avail > 0)) {
            *p = (const char *)base;
            *len = nl ? (size_t)(nl - base) : avail;
            *line_off = lr->off + lr->start;
            lr->start += *len + (nl != NULL);
            lr->scanned = 0;
            lr->lineno++;
            return *len > lr->max_line ? LINE_LONG : LINE_OK;
        }
        lr->scanned = avail;
        if (avail > lr->max_line) {
            lr->lineno++;
            rc = discard_line(w, lr);
            return rc != FMT_OK ? rc : LINE_LONG;
        }
        if (s->eof)
            return LINE_END;
        if (lr->start > 0) { /* keep the partial line only */
            memmove(s->buf.p, base, avail);
            s->buf.len = avail;
            lr->off += lr->start;
            lr->start = 0;
        }
        rc = read_more(w, s, s->buf.cap - s->buf.len >= READ_CHUNK ? s->buf.cap - s->buf.len
                                                                   : READ_CHUNK);
        if (rc != FMT_OK)
            return rc;
    }
}

/* Check and parse one JSON Lines line; deliver its article. */
static int jsonl_line(struct walk *w, struct src *s, size_t lineno, const char *p, size_t len,
                      uint64_t off, int *records)
{
    struct fmt_article a;
    struct fmt_err perr;
    const char *z;
    size_t bad;
    int rc;

    if (len > 0 && p[len - 1] == '\r')
        len--;
    if (off == 0 && len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
        p += 3; /* UTF-8 byte order mark */
        len -= 3;
        off += 3;
    }
    z = memchr(p, 0, len);
    if (z) {
        ++*records;
        skipf(w, s->name, lineno, "NUL byte at byte %llu",
              (unsigned long long)(off + (size_t)(z - p)));
        return FMT_OK;
    }
    if (fmt_utf8_invalid(p, len, &bad) > 0) {
        ++*records;
        skipf(w, s->name, lineno, "invalid UTF-8 at byte %llu", (unsigned long long)(off + bad));
        return FMT_OK;
    }
    rc = idx_jsonl_parse_line(p, len, &a, NULL, &perr);
    if (rc == FMT_ENOTFOUND)
        return FMT_OK;
    if (rc == FMT_EINVAL) {
        skipf(w, s->name, lineno, "%s", perr.msg);
        ++*records;
        return FMT_OK;
    }
    if (rc != FMT_OK)
        return fmt_errorf(w->err, rc, "%s:%zu: %s", s->name, lineno, perr.msg);
    ++*records;
    return deliver(w, s, IDX_FORMAT_JSONL, lineno, &a);
}

static int read_jsonl(struct walk *w, struct src *s)
{
    struct lines lr = {.s = s, .max_line = w->o->max_line};
    const char *p = NULL;
    size_t len = 0;
    uint64_t off = 0;
    int records = 0, rc;

    for (;;) {
        rc = next_line(w, &lr, &p, &len, &off);
        if (rc == LINE_END)
            break;
        if (rc < 0)
            return rc;
        if (rc == LINE_LONG) {
            skipf(w, s->name, lr.lineno, "line longer than %zu bytes", lr.max_line);
            records++;
            continue;
        }
        rc = jsonl_line(w, s, lr.lineno, p, len, off, &records);
        if (rc != FMT_OK)
            return rc;
    }
    if (records == 0)
        skipf(w, s->name, 0, "blank file");
    return FMT_OK;
}

/* Read the rest of a saved page or front-matter file into s->buf, checking the line
 * length and file size as the bytes arrive. FMT_OK with *SKIPPED set when the file was
 * reported and must be dropped. */
static int read_text(struct walk *w, struct src *s, int *skipped)
{
    size_t line_start = 0, lineno = 1, scan = 0;
    int rc;

    *skipped = 0;
    for (;;) {
        const uint8_t *nl;

        while ((nl = memchr(s->buf.p + scan, '\n', s->buf.len - scan)) != NULL) {
            if ((size_t)(nl - s->buf.p) - line_start > w->o->max_line)
                break;
            line_start = scan = (size_t)(nl - s->buf.p) + 1;
            lineno++;
        }
        if (nl || s->buf.len - line_start > w->o->max_line) {
            skipf(w, s->name, lineno, "line longer than %zu bytes", w->o->max_line);
            *skipped = 1;
            return FMT_OK;
        }
        scan = s->buf.len;
        if (s->eof)
            return FMT_OK;
        if (s->buf.len > IDX_INPUT_MAX_TEXT_FILE) {
            skipf(w, s->name, 0, "file larger than %zu bytes", IDX_INPUT_MAX_TEXT_FILE);
            *skipped = 1;
            return FMT_OK;
        }
        rc = read_more(w, s, READ_CHUNK);
        if (rc != FMT_OK)
            return rc;
    }
}

/* Hand over teaser T of a page timed PAGE_TIME as its own article; ID holds
 * "<page id>#teaser-" and gets the key appended. */
static int deliver_teaser(struct walk *w, const struct src *s, const struct idx_teaser *t,
                          struct fmt_buf *id, int64_t page_time)
{
    struct fmt_article a;

    if (fmt_buf_printf(id, "%016" PRIx64, t->key) != FMT_OK)
        return fmt_errorf(w->err, FMT_ENOMEM, "%s: out of memory", s->name);
    if (fmt_article_init(&a) != FMT_OK)
        return fmt_errorf(w->err, FMT_ENOMEM, "%s: out of memory", s->name);
    if (fmt_article_set(&a.id, (const char *)id->p, id->len) != FMT_OK ||
        fmt_article_set(&a.title, t->title, t->title_len) != FMT_OK ||
        fmt_article_set(&a.body, t->summary, t->summary_len) != FMT_OK ||
        fmt_article_set(&a.source, t->source, t->source_len) != FMT_OK) {
        fmt_article_release(&a);
        return fmt_errorf(w->err, FMT_ENOMEM, "%s: out of memory", s->name);
    }
    /* approximate: "45m" says 45 minutes before the page was saved, rounded by the site */
    if (page_time != FMT_NO_TIME && page_time >= INT64_MIN + 1 + t->age)
        a.timestamp = page_time - t->age;
    return w->on_article(w->ctx, &a);
}

/* Deliver saved page PAGE (parsed from TEXT[0..len)), then its teasers (rules in input.h).
 * PAGE is no longer the caller's. */
static int deliver_page_and_teasers(struct walk *w, const struct src *s, const char *text,
                                    size_t len, struct fmt_article *page)
{
    struct idx_teaser *t = NULL;
    struct fmt_err perr;
    struct fmt_buf id;
    size_t n = 0, base;
    int64_t when;
    int rc;

    rc = apply_rules(w, s, IDX_FORMAT_PAGE, 0, page);
    if (rc != FMT_OK)
        return rc;
    fmt_buf_init(&id);
    when = page->timestamp;
    if (fmt_buf_printf(&id, "%s#teaser-", page->id) != FMT_OK) {
        fmt_article_release(page);
        return fmt_errorf(w->err, FMT_ENOMEM, "%s: out of memory", s->name);
    }
    base = id.len;
    rc = w->on_article(w->ctx, page);
    if (rc != FMT_OK)
        goto out;
    rc = idx_page_teasers(text, len, &t, &n, &perr);
    if (rc != FMT_OK) {
        rc = fmt_errorf(w->err, rc, "%s: %s", s->name, perr.msg);
        goto out;
    }
    for (size_t i = 0; i < n && rc == FMT_OK; i++) {
        id.len = base;
        rc = deliver_teaser(w, s, &t[i], &id, when);
    }
out:
    free(t);
    fmt_buf_release(&id);
    return rc;
}

static int parse_text(struct walk *w, struct src *s, enum idx_format f)
{
    const char *text;
    size_t len, bad, line = 0;
    struct fmt_article a;
    struct fmt_err perr;
    const char *z;
    int rc, skipped;

    rc = read_text(w, s, &skipped);
    if (rc != FMT_OK || skipped)
        return rc;
    text = (const char *)s->buf.p;
    len = s->buf.len;
    z = memchr(text, 0, len);
    if (z) {
        bad = (size_t)(z - text);
        skipf(w, s->name, line_of(text, bad), "NUL byte at byte %zu", bad);
        return FMT_OK;
    }
    if (fmt_utf8_invalid(text, len, &bad) > 0) {
        skipf(w, s->name, line_of(text, bad), "invalid UTF-8 at byte %zu", bad);
        return FMT_OK;
    }
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
        text += 3; /* byte order mark */
        len -= 3;
    }
    if (f == IDX_FORMAT_PAGE)
        rc = idx_page_parse(text, len, &a, &line, &perr);
    else
        rc = idx_frontmatter_parse(text, len, &a, &line, &perr);
    if (rc == FMT_EINVAL) {
        skipf(w, s->name, line, "%s", perr.msg);
        return FMT_OK;
    }
    if (rc != FMT_OK)
        return fmt_errorf(w->err, rc, "%s: %s", s->name, perr.msg);
    if (f == IDX_FORMAT_PAGE && w->o->teasers)
        return deliver_page_and_teasers(w, s, text, len, &a);
    return deliver(w, s, f, 0, &a);
}

/* Format of NAME (NULL for stdin) by extension, else by the first bytes HEAD[0..len). */
static enum idx_format detect(const char *name, const char *head, size_t len)
{
    const char *base = name ? strrchr(name, '/') : NULL;
    const char *dot;
    size_t i = 0;

    base = base ? base + 1 : name;
    dot = base ? strrchr(base, '.') : NULL;
    if (dot && dot != base) {
        dot++;
        if (!strcasecmp(dot, "jsonl") || !strcasecmp(dot, "ndjson") || !strcasecmp(dot, "json"))
            return IDX_FORMAT_JSONL;
        if (!strcasecmp(dot, "md") || !strcasecmp(dot, "markdown"))
            return IDX_FORMAT_MARKDOWN;
    }
    if (len >= 3 && memcmp(head, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    if ((len - i >= 4 && memcmp(head + i, "---\n", 4) == 0) ||
        (len - i >= 5 && memcmp(head + i, "---\r\n", 5) == 0))
        return IDX_FORMAT_MARKDOWN;
    while (i < len && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n'))
        i++;
    if (i < len && head[i] == '{')
        return IDX_FORMAT_JSONL;
    return IDX_FORMAT_PAGE;
}

/* Read and dispatch one open file. DETECT_NAME is NULL for stdin. */
static int add_fd(struct walk *w, struct src *s, const char *detect_name)
{
    struct stat st;
    enum idx_format f;
    int rc;

    s->mtime = FMT_NO_TIME;
    if (fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode))
        s->mtime = (int64_t)st.st_mtime;
    fmt_buf_init(&s->buf);
    s->eof = 0;
    while (!s->eof && s->buf.len < HEAD_BYTES) {
        rc = read_more(w, s, HEAD_BYTES - s->buf.len);
        if (rc != FMT_OK)
            goto out;
    }
    rc = FMT_OK;
    if (s->buf.len == 0) {
        skipf(w, s->name, 0, "empty file");
        goto out;
    }
    if (memchr(s->buf.p, 0, s->buf.len)) {
        skipf(w, s->name, 0, "binary file");
        goto out;
    }
    f = w->o->format != IDX_FORMAT_AUTO
            ? w->o->format
            : detect(detect_name, (const char *)s->buf.p, s->buf.len);
    rc = f == IDX_FORMAT_JSONL ? read_jsonl(w, s) : parse_text(w, s, f);
out:
    fmt_buf_release(&s->buf);
    return rc;
}

/* Open PATH and add it. TOP: PATH was given by the caller, so failing to open it is
 * FMT_EIO rather than a skipped entry. */
static int add_file(struct walk *w, const char *path, const char *relid, int top)
{
    struct src s = {.name = path, .relid = relid};
    int rc;

    s.fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (s.fd < 0) {
        if (top)
            return fmt_errorf(w->err, FMT_EIO, "%s: %s", path, strerror(errno));
        skipf(w, path, 0, "cannot open: %s", strerror(errno));
        return FMT_OK;
    }
    rc = add_fd(w, &s, path);
    close(s.fd);
    return rc;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in directory PATH, without dotfiles. *OUT is malloc'd (free each name and
 * the array). FMT_OK, FMT_ENOMEM, or FMT_EIO with errno set. */
static int list_dir(const char *path, char ***out, size_t *n)
{
    DIR *d = opendir(path);
    struct dirent *e;
    char **names = NULL, **grown;
    size_t cap = 0;
    int rc = FMT_OK;

    *n = 0;
    if (!d)
        return FMT_EIO;
    for (;;) {
        errno = 0;
        e = readdir(d);
        if (!e) {
            rc = errno ? FMT_EIO : FMT_OK;
            break;
        }
        if (e->d_name[0] == '.')
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            grown = realloc(names, cap * sizeof(*names));
            if (!grown) {
                rc = FMT_ENOMEM;
                break;
            }
            names = grown;
        }
        names[*n] = strdup(e->d_name);
        if (!names[*n]) {
            rc = FMT_ENOMEM;
            break;
        }
        ++*n;
    }
    closedir(d);
    if (*n > 1)
        qsort(names, *n, sizeof(*names), cmp_names);
    *out = names;
    return rc;
}

static int add_entry(struct walk *w, const char *path, int top);

static int add_dir(struct walk *w, const char *path, const struct stat *st, int top)
{
    char **names = NULL;
    size_t n = 0, plen = strlen(path);
    int rc, saved;

    for (size_t i = 0; i < w->depth; i++)
        if (w->dev[i] == st->st_dev && w->ino[i] == st->st_ino) {
            skipf(w, path, 0, "directory cycle (a link to a parent), not followed");
            return FMT_OK;
        }
    if (w->depth >= IDX_INPUT_MAX_DEPTH) {
        skipf(w, path, 0, "directories nested deeper than %d", IDX_INPUT_MAX_DEPTH);
        return FMT_OK;
    }
    rc = list_dir(path, &names, &n);
    saved = errno;
    if (rc == FMT_EIO && top) {
        rc = fmt_errorf(w->err, FMT_EIO, "%s: %s", path, strerror(saved));
        goto out;
    }
    if (rc == FMT_EIO) {
        skipf(w, path, 0, "cannot read directory: %s", strerror(saved));
        rc = FMT_OK;
        goto out;
    }
    if (rc != FMT_OK) {
        rc = fmt_errorf(w->err, rc, "%s: out of memory", path);
        goto out;
    }
    w->dev[w->depth] = st->st_dev;
    w->ino[w->depth] = st->st_ino;
    w->depth++;
    for (size_t i = 0; i < n && rc == FMT_OK; i++) {
        struct fmt_buf child;
        fmt_buf_init(&child);
        if (fmt_buf_printf(&child, "%s%s%s", path, plen && path[plen - 1] == '/' ? "" : "/",
                           names[i]) != FMT_OK)
            rc = fmt_errorf(w->err, FMT_ENOMEM, "%s: out of memory", path);
        else
            rc = add_entry(w, (char *)child.p, 0);
        fmt_buf_release(&child);
    }
    w->depth--;
out:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

static int add_entry(struct walk *w, const char *path, int top)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        if (top)
            return fmt_errorf(w->err, FMT_EIO, "%s: %s", path, strerror(errno));
        skipf(w, path, 0, "cannot read: %s", strerror(errno));
        return FMT_OK;
    }
    if (S_ISDIR(st.st_mode))
        return add_dir(w, path, &st, top);
    if (!top && !S_ISREG(st.st_mode)) {
        skipf(w, path, 0, "not a regular file");
        return FMT_OK;
    }
    return add_file(w, path, top ? path : path + w->root_len, top);
}

/* Ids of files under a directory root start at the root's last component, so that
 * `add bbc/business bbc/tech` gives "business/001.txt" and "tech/001.txt" rather than two
 * "001.txt"; a root named "." or ".." (or "/") gives ids relative to the root itself. */
static size_t root_id_start(const char *path, size_t plen)
{
    size_t end = plen, start;

    while (end > 1 && path[end - 1] == '/')
        end--;
    start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    if (end == start || (end - start == 1 && path[start] == '.') ||
        (end - start == 2 && path[start] == '.' && path[start + 1] == '.'))
        return plen + (plen > 0 && path[plen - 1] != '/');
    return start;
}

int idx_input_add_path(const char *path, const struct idx_input_opts *opts,
                       idx_article_fn on_article, idx_skip_fn on_skip, void *ctx,
                       struct fmt_err *err)
{
    struct walk w = {.o = opts, .on_article = on_article, .on_skip = on_skip, .ctx = ctx,
                     .err = err};
    size_t plen = strlen(path);

    if (strcmp(path, "-") == 0) {
        struct src s = {.fd = STDIN_FILENO, .name = "stdin", .relid = "stdin"};
        return add_fd(&w, &s, NULL);
    }
    w.root_len = root_id_start(path, plen);
    return add_entry(&w, path, 1);
}
