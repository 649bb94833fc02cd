/* bbc2jsonl.c - convert the BBC corpus (DIR/<topic>/NNN.txt: title on line 1, then the
 * body) to JSON Lines, so that newsidx and the SQLite FTS5 driver read identical text.
 *
 *   bbc2jsonl ../shared/corpora/bbc > bbc.jsonl
 *
 * One line per file, topics and files in name order:
 *   {"id":"bbc/<topic>/NNN","title":...,"source":"BBC","body":...}
 * title: the first line, trimmed; body: the remaining non-blank lines, trimmed, joined with
 * "\n". No timestamp (the corpus has none). Bytes that are not valid UTF-8 are read as
 * Latin-1 (as tools/reuters2jsonl does), so every line is valid UTF-8.
 * Exit status: 0, 1 when a file could not be read or stdout failed, 2 on usage errors. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "json.h"

/* Length of the valid UTF-8 sequence at P (at most N bytes), 0 when invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len, i;
    unsigned cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

/* Append S[0..n) to OUT as valid UTF-8 (bad bytes read as Latin-1). */
static int put_utf8(struct fmt_buf *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    int rc = FMT_OK;

    while (i < n && rc == FMT_OK) {
        size_t l = utf8_len(p + i, n - i);
        if (l) {
            rc = fmt_buf_append(out, p + i, l);
            i += l;
        } else {
            rc = fmt_buf_putc(out, (uint8_t)(0xc0 | (p[i] >> 6)));
            if (rc == FMT_OK)
                rc = fmt_buf_putc(out, (uint8_t)(0x80 | (p[i] & 0x3f)));
            i++;
        }
    }
    return rc;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Build the title and body of the file text T[0..n) into TITLE and BODY (valid UTF-8). */
static int split_article(const char *t, size_t n, struct fmt_buf *title, struct fmt_buf *body)
{
    size_t i = 0;
    int first = 1;
    int rc = FMT_OK;

    while (i < n && rc == FMT_OK) {
        const char *nl = memchr(t + i, '\n', n - i);
        size_t e = nl ? (size_t)(nl - t) : n;
        size_t a = i, b = e;
        while (a < b && is_space(t[a]))
            a++;
        while (b > a && is_space(t[b - 1]))
            b--;
        if (b > a) {
            if (first) {
                rc = put_utf8(title, t + a, b - a);
                first = 0;
            } else {
                if (body->len)
                    rc = fmt_buf_putc(body, '\n');
                if (rc == FMT_OK)
                    rc = put_utf8(body, t + a, b - a);
            }
        }
        i = e + 1;
    }
    return rc;
}

static int read_file(const char *path, struct fmt_buf *out)
{
    FILE *f = fopen(path, "rb");
    char chunk[65536];
    size_t got;
    int rc = 0;

    out->len = 0;
    if (!f)
        return -1;
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (fmt_buf_append(out, chunk, got) != FMT_OK) {
            rc = -1;
            break;
        }
    if (ferror(f))
        rc = -1;
    fclose(f);
    return rc;
}

static int dir_filter(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

static int txt_filter(const struct dirent *d)
{
    size_t n = strlen(d->d_name);

    return d->d_name[0] != '.' && n > 4 && !strcmp(d->d_name + n - 4, ".txt");
}

/* Convert every .txt file in ROOT/TOPIC; returns 0, or 1 when something failed. */
static int convert_topic(const char *root, const char *topic, struct fmt_buf *scratch)
{
    char dir[2048], path[4096];
    struct dirent **names = NULL;
    struct fmt_buf title, body, line;
    int n, i, status = 0;

    fmt_buf_init(&title);
    fmt_buf_init(&body);
    fmt_buf_init(&line);
    if (snprintf(dir, sizeof(dir), "%s/%s", root, topic) >= (int)sizeof(dir)) {
        fprintf(stderr, "bbc2jsonl: %s/%s: path too long\n", root, topic);
        return 1;
    }
    n = scandir(dir, &names, txt_filter, alphasort);
    if (n < 0) {
        /* a plain file at the top level (README.TXT): not a topic */
        if (errno != ENOTDIR)
            status = 1, fprintf(stderr, "bbc2jsonl: %s: %s\n", dir, strerror(errno));
        goto out;
    }
    for (i = 0; i < n; i++) {
        size_t nl = strlen(names[i]->d_name) - 4;
        int rc;
        if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) >= (int)sizeof(path)) {
            fprintf(stderr, "bbc2jsonl: %s/%s: path too long\n", dir, names[i]->d_name);
            status = 1;
            continue;
        }
        if (read_file(path, scratch) != 0) {
            fprintf(stderr, "bbc2jsonl: %s: cannot read\n", path);
            status = 1;
            continue;
        }
        title.len = body.len = line.len = 0;
        rc = split_article((const char *)scratch->p, scratch->len, &title, &body);
        if (rc == FMT_OK)
            rc = fmt_buf_printf(&line, "{\"id\":\"bbc/%s/%.*s\",\"title\":", topic, (int)nl,
                                names[i]->d_name);
        if (rc == FMT_OK)
            rc = fmt_json_put_string(&line, (const char *)title.p, title.len);
        if (rc == FMT_OK)
            rc = fmt_buf_puts(&line, ",\"source\":\"BBC\",\"body\":");
        if (rc == FMT_OK)
            rc = fmt_json_put_string(&line, (const char *)body.p, body.len);
        if (rc == FMT_OK)
            rc = fmt_buf_puts(&line, "}\n");
        if (rc != FMT_OK) {
            fprintf(stderr, "bbc2jsonl: %s: out of memory\n", path);
            status = 1;
            break;
        }
        if (fwrite(line.p, 1, line.len, stdout) != line.len) {
            fprintf(stderr, "bbc2jsonl: write failed: %s\n", strerror(errno));
            status = 1;
            break;
        }
    }
out:
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    fmt_buf_release(&title);
    fmt_buf_release(&body);
    fmt_buf_release(&line);
    return status;
}

int main(int argc, char **argv)
{
    struct dirent **topics = NULL;
    struct fmt_buf scratch;
    int n, i, status = 0;

    if (argc != 2) {
        fputs("usage: bbc2jsonl BBC_DIR > out.jsonl\n", stderr);
        return 2;
    }
    n = scandir(argv[1], &topics, dir_filter, alphasort);
    if (n < 0) {
        fprintf(stderr, "bbc2jsonl: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    fmt_buf_init(&scratch);
    for (i = 0; i < n; i++) {
        if (!status && convert_topic(argv[1], topics[i]->d_name, &scratch) != 0)
            status = 1;
        free(topics[i]);
    }
    free(topics);
    fmt_buf_release(&scratch);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "bbc2jsonl: write failed: %s\n", strerror(errno));
        status = 1;
    }
    return status;
}
