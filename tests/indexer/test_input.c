/* test_input.c - idx_input_add_path on temporary trees: walk order, ids, format detection,
 * the id/source/timestamp rules, teasers as their own articles (--teasers), and every kind of
 * bad input reported with file and line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "input.h"

#define MAX_SEEN 32

/* What the callbacks saw. */
struct seen {
    int n;
    struct fmt_article a[MAX_SEEN];
    int nskip;
    char skip_file[MAX_SEEN][512];
    size_t skip_line[MAX_SEEN];
    char skip_reason[MAX_SEEN][320];
    int stop_after; /* on_article returns 7 after this many articles (0: never) */
};

static int on_article(void *ctx, struct fmt_article *a)
{
    struct seen *s = ctx;

    if (s->n >= MAX_SEEN) {
        fmt_article_release(a);
        return 99;
    }
    s->a[s->n++] = *a; /* take ownership */
    return s->stop_after && s->n >= s->stop_after ? 7 : 0;
}

/* Counts articles without keeping them. */
static int count_article(void *ctx, struct fmt_article *a)
{
    struct seen *s = ctx;

    fmt_article_release(a);
    s->n++;
    return 0;
}

static void on_skip(void *ctx, const char *file, size_t line, const char *reason)
{
    struct seen *s = ctx;

    if (s->nskip >= MAX_SEEN)
        return;
    snprintf(s->skip_file[s->nskip], sizeof(s->skip_file[0]), "%s", file);
    s->skip_line[s->nskip] = line;
    snprintf(s->skip_reason[s->nskip], sizeof(s->skip_reason[0]), "%s", reason);
    s->nskip++;
}

static void seen_release(struct seen *s)
{
    for (int i = 0; i < s->n; i++)
        fmt_article_release(&s->a[i]);
    memset(s, 0, sizeof(*s));
}

/* The temporary tree of one test. */
struct tree {
    char root[64];
    char path[600];
};

/* Id of a file REL under the tree root: ids start at the root's last component. */
static void assert_rel_id(const struct tree *t, const char *id, const char *rel)
{
    char want[700];
    const char *base = strrchr(t->root, '/');

    snprintf(want, sizeof(want), "%s/%s", base ? base + 1 : t->root, rel);
    assert_string_equal(id, want);
}

static int setup(void **state)
{
    struct tree *t = calloc(1, sizeof(*t));

    if (!t)
        return -1;
    snprintf(t->root, sizeof(t->root), "/tmp/newsidx-input-XXXXXX");
    if (!mkdtemp(t->root)) {
        free(t);
        return -1;
    }
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct tree *t = *state;
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->root);
    if (system(cmd) != 0)
        return -1;
    free(t);
    return 0;
}

/* Full path of REL in the tree (valid until the next call). */
static const char *at(struct tree *t, const char *rel)
{
    snprintf(t->path, sizeof(t->path), "%s/%s", t->root, rel);
    return t->path;
}

static void write_bytes(struct tree *t, const char *rel, const void *data, size_t len)
{
    int fd = open(at(t, rel), O_WRONLY | O_CREAT | O_TRUNC, 0644);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

static void write_text(struct tree *t, const char *rel, const char *text)
{
    write_bytes(t, rel, text, strlen(text));
}

static void mkdir_in(struct tree *t, const char *rel)
{
    assert_int_equal(mkdir(at(t, rel), 0755), 0);
}

static void set_mtime(struct tree *t, const char *rel, time_t when)
{
    struct timeval tv[2] = {{when, 0}, {when, 0}};

    assert_int_equal(utimes(at(t, rel), tv), 0);
}

static int add(struct tree *t, const char *rel, const struct idx_input_opts *o, struct seen *s)
{
    struct idx_input_opts def;
    struct fmt_err err;

    if (!o) {
        idx_input_opts_default(&def);
        o = &def;
    }
    return idx_input_add_path(rel ? at(t, rel) : t->root, o, on_article, on_skip, s, &err);
}

static void test_input_format_names_parse(void **state)
{
    enum idx_format f;

    (void)state;
    assert_int_equal(idx_format_parse("page", &f), FMT_OK);
    assert_int_equal(f, IDX_FORMAT_PAGE);
    assert_int_equal(idx_format_parse("md", &f), FMT_OK);
    assert_int_equal(f, IDX_FORMAT_MARKDOWN);
    assert_int_equal(idx_format_parse("markdown", &f), FMT_OK);
    assert_int_equal(f, IDX_FORMAT_MARKDOWN);
    assert_int_equal(idx_format_parse("jsonl", &f), FMT_OK);
    assert_int_equal(f, IDX_FORMAT_JSONL);
    assert_int_equal(idx_format_parse("auto", &f), FMT_OK);
    assert_int_equal(f, IDX_FORMAT_AUTO);
    assert_int_equal(idx_format_parse("xml", &f), FMT_EINVAL);
    assert_int_equal(idx_format_parse("", &f), FMT_EINVAL);
}

static void test_input_walks_directories_in_sorted_order_skipping_dotfiles(void **state)
{
    struct tree *t = *state;
    struct seen s = {0};

    mkdir_in(t, "a");
    mkdir_in(t, "a/inner");
    mkdir_in(t, ".git");
    write_text(t, "b.txt", "Page B\nBody of B.\n");
    write_text(t, "a/z.md", "---\ntitle: Z\n---\nBody of Z.\n");
    write_text(t, "a/c.jsonl", "{\"title\":\"C1\"}\n\n{\"title\":\"C2\",\"id\":\"c-two\"}\n");
    write_text(t, "a/inner/d.txt", "Page D\nBody of D.\n");
    write_text(t, ".hidden.txt", "Hidden\nNo.\n");
    write_text(t, ".git/config.txt", "Hidden\nNo.\n");
    write_text(t, "A.txt", "Capital A\nSorted before lowercase by byte value.\n");
    assert_int_equal(add(t, NULL, NULL, &s), FMT_OK);
    assert_int_equal(s.nskip, 0);
    assert_int_equal(s.n, 6);
    assert_rel_id(t, s.a[0].id, "A.txt");
    assert_rel_id(t, s.a[1].id, "a/c.jsonl:1");
    assert_string_equal(s.a[1].title, "C1");
    assert_string_equal(s.a[2].id, "c-two");
    assert_rel_id(t, s.a[3].id, "a/inner/d.txt");
    assert_rel_id(t, s.a[4].id, "a/z.md");
    assert_string_equal(s.a[4].title, "Z");
    assert_rel_id(t, s.a[5].id, "b.txt");
    seen_release(&s);
    /* a trailing slash on the root gives the same ids, starting at the root's name */
    snprintf(t->path, sizeof(t->path), "%s/a/", t->root);
    {
        struct idx_input_opts o;
        struct fmt_err err;
        idx_input_opts_default(&o);
        assert_int_equal(idx_input_add_path(t->path, &o, on_article, on_skip, &s, &err), FMT_OK);
    }
    assert_int_equal(s.n, 4);
    assert_string_equal(s.a[0].id, "a/c.jsonl:1");
    assert_string_equal(s.a[3].id, "a/z.md");
    seen_release(&s);
}

static void test_input_file_argument_id_is_path_as_given(void **state)
{
    struct tree *t = *state;
    struct seen s = {0};

    write_text(t, "one.txt", "One\nBody.\n");
    assert_int_equal(add(t, "one.txt", NULL, &s), FMT_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.a[0].id, at(t, "one.txt"));
    seen_release(&s);
}

static void test_input_id_prefers_record_id_then_url(void **state)
{
    struct tree *t = *state;
    struct seen s = {0};

    write_text(t, "r.jsonl", "{\"id\":\"given\",\"url\":\"https://e.org/u\"}\n"
                             "{\"url\":\"https://e.org/only-url\"}\n"
                             "{\"title\":\"neither\"}\n");
    write_text(t, "u.md", "---\nurl: https://e.org/md\ntitle: M\n---\nb\n");
    assert_int_equal(add(t, NULL, NULL, &s), FMT_OK);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.a[0].id, "given");
    assert_string_equal(s.a[1].id, "https://e.org/only-url");
    assert_rel_id(t, s.a[2].id, "r.jsonl:3");
    assert_string_equal(s.a[3].id, "https://e.org/md");
    seen_release(&s);
}

static void test_input_timestamp_rules(void **state)
{
    struct tree *t = *state;
    struct seen s = {0};
    struct idx_input_opts o;

    write_text(t, "p.txt", "Page\nBody.\n");
    write_text(t, "f.md", "---\ntitle: F\n---\nb\n");
    write_text(t, "g.md", "---\ntitle: G\ndate: 2025-02-12\n---\nb\n");
    write_text(t, "j.jsonl", "{\"title\":\"no date\"}\n{\"title\":\"d\",\"date\":\"2025-02-12\"}\n");
    set_mtime(t, "p.txt", 1700000000);
    set_mtime(t, "f.md", 1700000001);
    assert_int_equal(add(t, NULL, NULL, &s), FMT_OK);
    assert_int_equal(s.n, 5); /* f.md g.md j.jsonl(2) p.txt */
    assert_true(s.a[0].timestamp == 1700000001); /* mtime */
    assert_true(s.a[1].timestamp == 1739318400); /* given date */
    assert_true(s.a[2].timestamp == FMT_NO_TIME); /* JSON Lines without a date */
    assert_true(s.a[3].timestamp == 1739318400);
    assert_true(s.a[4].timestamp == 1700000000);
    seen_release(&s);
    idx_input_opts_default(&o);
    o.timestamp = 1600000000; /* --timestamp beats mtime, not a given date */
    assert_int_equal(add(t, NULL, &o, &s), FMT_OK);
    assert_true(s.a[0].timestamp == 1600000000);
    assert_true(s.a[1].timestamp == 1739318400);
    assert_true(s.a[2].timestamp == 1600000000);
    assert_true(s.a[4].timestamp == 1600000000);
    seen_release(&s);
}

static void test_input_source_rules(void **state)
{
    struct tree *t = *state;
    struct seen s = {0};
    struct idx_input_opts o;

    write_text(t, "1.txt", "Page\nBody.\n-\nTeaser\nMore from The Daily\n-\nx\n");
    write_text(t, "2.jsonl", "{\"title\":\"a\",\"source\":\"Own\"}\n{\"title\":\"b\"}\n");
    write_text(t, "3.md", "---\ntitle: M\nsource: Own MD\n---\nb\n");
    assert_int_equal(add(t, NULL, NULL, &s), FMT_OK);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.a[0].source, "The Daily");
    assert_string_equal(s.a[1].source, "Own");
    assert_string_equal(s.a[2].source, "");
    assert_string_equal(s.a[3].source, "Own MD");
    seen_release(&s);
    idx_input_opts_default(&o);
    o.source = "Cmdline";
    assert_int_equal(add(t, NULL, &o, &s), FMT_OK);
    assert_string_equal(s.a[0].source, "Cmdline"); /* --source beats "More from X" */
    assert_string_equal(s.a[1].source, "Own");     /* the record's own source wins */
    assert_string_equal(s.a[2].source, "Cmdline");
    assert_string_equal(s.a[3].source, "Own MD");
    seen_release(&s);
}

static void test_input_detects_format_by_extension_and_content(void **state)
{
    struct tree *t = *state;
    struct seen s = {0};
    struct idx_input_opts o;

    write_text(t, "a.txt", "---\ntitle: Front matter in a .txt\n---\nbody\n");
    write_text(t, "b.txt", "  {\"title\":\"JSON in a .txt\"}\n");
    write_text(t, "c.ndjson", "{\"title\":\"ndjson\"}\n");
    write_text(t, "d.markdown", "# Heading title\n\nBody.\n");
    write_text(t, "e.json", "{\"title\":\"json\"}\n");
    write_text(t, "f", "\xef\xbb\xbf{\"title\":\"BOM then JSON\"}\n");
    assert_int_equal(add(t, NULL, NULL, &s), FMT_OK);
    assert_int_equal(s.nskip, 0);
    assert_int_equal(s.n, 6);
    assert_string_equal(s.a[0].title, "Front matter in a .txt");
    assert_string_equal(s.a[1].title, "JSON in a .txt");
    assert_rel_id(t, s.a[1].id, "b.txt:1");
    assert_string_equal(s.a[2].title, "ndjson");
    assert_string_equal(s.a[3].title, "Heading title");
    assert_string_equal(s.a[4].title, "json");
    assert_string_equal(s.a[5].title, "BOM then JSON");
    seen_release(&s);
    idx_input_opts_default(&o);
    o.format = IDX_FORMAT_PAGE; /* forced: the JSON text is a page title */
    assert_int_equal(add(t, "e.json", &o, &s), FMT_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.a[0].title, "{\"title\":\"json\"}");
    seen_release(&s);
}

static void test_input_skips_empty_and_binary_files(void **state)
{
    struct tree *t = *state;
    struct seen s = {0};
    char bin[100] = "\x7f" "ELF";

    write_text(t, "empty.txt", "");
    write_bytes(t, "image.jpg", bin, sizeof(bin));
    write_text(t, "blank.txt", "\n  \n\t\n");
    write_text(t, "blank.jsonl", "\n\n");
    write_text(t, "ok.txt", "Fine\nBody.\n");
    assert_int_equal(add(t, NULL, NULL, &s), FMT_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.a[0].title, "Fine");
    assert_int_equal(s.nskip, 4);
    assert_string_equal(s.skip_file[0], at(t, "blank.jsonl"));
    assert_string_equal(s.skip_reason[0], "blank file");
    assert_string_equal(s.skip_file[1], at(t, "blank.txt"));
    assert_string_equal(s.skip_reason[1], "blank file");
    assert_string_equal(s.skip_file[2], at(t, "empty.txt"));
    assert_int_equal(s.skip_line[2], 0);
    assert_string_equal(s.skip_reason[2], "empty file");
    assert_string_equal(s.skip_file[3], at(t, "image.jpg"));
    assert_int_equal(s.skip_line[3], 0);
    assert_string_equal(s.skip_reason[3], "binary file");
    seen_release(&s);
}

static void test_input_nul_after_first_8k_is_reported_with_line(void **state)
{
    struct tree *t = *state;
    struct seen s = {0};
    size_t n = 10000;
    char *text = malloc(n);

    assert_non_null(text);
    memset(text, 'x', n);
    memcpy(text, "Title\n", 6);
    text[5000] = '\n'; /* line 3 starts at 5001 */
    text[9000] = 0;
    text[n - 1] = '\n';
    write_bytes(t, "late-nul.txt", text, n);
    memcpy(text, "{\"title\":\"a\"}\n{\"title\":\"b\"}\n", 28);
    write_bytes(t, "late-nul.jsonl", text, 28);
    assert_int_equal(add(t, "late-nul.txt", NULL, &s), FMT_OK);
    assert_int_equal(s.n, 0);
    assert_int_equal(s.nskip, 1);
    assert_int_equal(s.skip_line[0], 3);
    assert_string_equal(s.skip_reason[0], "NUL byte at byte 9000");
    seen_release(&s);
    free(text);
}

static void test_input_nul_in_jsonl_past_8k_skips_only_that_line(void **state)
{
    struct tree *t = *state;
    struct seen s = {0};
    static char text[16384];
    size_t len = 0, nul_at;

    for (int i = 0; i < 100; i++) /* 100 lines of 100 bytes: lines 1..100 */
        len += (size_t)snprintf(text + len, sizeof(text) - len,
                                "{\"title\":\"pad %03d\",\"body\":\"%070d\"}\n", i, 0);
    assert_int_equal(len, 10000);
    len += (size_t)snprintf(text + len, sizeof(text) - len, "{\"title\":\"b?\"}\n");
    nul_at = len - 4;
    text[nul_at] = 0; /* line 101 */
    len += (size_t)snprintf(text + len, sizeof(text) - len, "{\"title\":\"last\"}\n");
    write_bytes(t, "nul.jsonl", text, len);
    {
        struct idx_input_opts o;
        struct fmt_err err;
        idx_input_opts_default(&o);
        o.max_line = 200;
        assert_int_equal(idx_input_add_path(at(t, "nul.jsonl"), &o, count_article, on_skip, &s,
                                            &err),
                         FMT_OK);
    }
    assert_int_equal(s.n, 101);
    assert_int_equal(s.nskip, 1);
    assert_int_equal(s.skip_line[0], 101);
    assert_string_equal(s.skip_reason[0], "NUL byte at byte 10011");
    assert_int_equal(nul_at, 10011);
}

static void test_input_invalid_utf8_reports_file_line_and_byte(void **state)
{
    struct tree *t = *state;
    struct seen s = {0};

    write_text(t, "bad.txt", "Title\nGood line.\nBad \xff byte.\n");
    write_text(t, "bad.jsonl", "{\"title\":\"ok 1\"}\n{\"title\":\"caf\xc3\"}\n{\"title\":\"ok 3\"}\n");
    write_text(t, "bad.md", "---\ntitle: \"\xe2\x82\"\n---\nb\n");
    assert_int_equal(add(t, NULL, NULL, &s), FMT_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.a[0].title, "ok 1");
    assert_string_equal(s.a[1].title, "ok 3");
    assert_rel_id(t, s.a[1].id, "bad.jsonl:3");
    assert_int_equal(s.nskip, 3);
    assert_string_equal(s.skip_file[0], at(t, "bad.jsonl"));
    assert_int_equal(s.skip_line[0], 2);
    assert_string_equal(s.skip_reason[0], "invalid UTF-8 at byte 30");
    assert_string_equal(s.skip_file[1], at(t, "bad.md"));
    assert_int_equal(s.skip_line[1], 2);
    assert_string_equal(s.skip_reason[1], "invalid UTF-8 at byte 12");
    assert_string_equal(s.skip_file[2], at(t, "bad.txt"));
    assert_int_equal(s.skip_line[2], 3);
    assert_string_equal(s.skip_reason[2], "invalid UTF-8 at byte 21");
    seen_release(&s);
}

static void test_input_broken_json_line_is_skipped_and_others_indexed(void **state)
{
    struct tree *t = *state;
    struct seen s = {0};

    write_text(t, "mixed.jsonl", "{\"title\":\"first\"}\r\n"
                                 "{\"title\" \"second\"}\n"
                                 "\n"
                                 "{\"title\":\"fourth\",\"date\":\"tomorrow\"}\n"
                                 "{\"title\":\"fifth\"}");
    assert_int_equal(add(t, "mixed.jsonl", NULL, &s), FMT_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.a[0].title, "first");
    assert_string_equal(s.a[1].title, "fifth");
    snprintf(t->path, sizeof(t->path), "%s/mixed.jsonl:5", t->root);
    assert_string_equal(s.a[1].id, t->path);
    assert_int_equal(s.nskip, 2);
    assert_int_equal(s.skip_line[0], 2);
    assert_string_equal(s.skip_reason[0], "broken JSON: expected ':' at column 10");
    assert_int_equal(s.skip_line[1], 4);
    assert_string_equal(s.skip_reason[1], "bad timestamp \"tomorrow\" at column 26");
    seen_release(&s);
}

static void test_input_broken_yaml_is_skipped_with_line(void **state)
{
    struct tree *t = *state;
    struct seen s = {0};

    write_text(t, "a.md", "---\ntitle: fine\nsource: a: b\nurl: x\n---\nbody\n");
    write_text(t, "b.md", "---\ntitle: Good\n---\nbody\n");
    write_text(t, "c.md", "---\ntitle: T\ndate: someday\n---\nbody\n");
    assert_int_equal(add(t, NULL, NULL, &s), FMT_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.a[0].title, "Good");
    assert_int_equal(s.nskip, 2);
    assert_string_equal(s.skip_file[0], at(t, "a.md"));
    assert_string_equal(s.skip_reason[0],
                        "broken YAML: mapping values are not allowed in this context");
    assert_int_equal(s.skip_line[0], 3);
    assert_string_equal(s.skip_file[1], at(t, "c.md"));
    assert_int_equal(s.skip_line[1], 3);
    assert_string_equal(s.skip_reason[1], "bad date \"someday\"");
    seen_release(&s);
}

static void test_input_line_longer_than_max_line_is_skipped(void **state)
{
    struct tree *t = *state;
    struct seen s = {0};
    struct idx_input_opts o;
    char text[400];

    idx_input_opts_default(&o);
    o.max_line = 100;
    snprintf(text, sizeof(text), "{\"title\":\"short\"}\n{\"title\":\"%0200d\"}\n{\"title\":\"end\"}\n", 7);
    write_text(t, "long.jsonl", text);
    snprintf(text, sizeof(text), "Title\nok\n%0150d\n", 7);
    write_text(t, "long.txt", text);
    assert_int_equal(add(t, NULL, &o, &s), FMT_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.a[0].title, "short");
    assert_string_equal(s.a[1].title, "end");
    assert_rel_id(t, s.a[1].id, "long.jsonl:3");
    assert_int_equal(s.nskip, 2);
    assert_int_equal(s.skip_line[0], 2);
    assert_string_equal(s.skip_reason[0], "line longer than 100 bytes");
    assert_string_equal(s.skip_file[1], at(t, "long.txt"));
    assert_int_equal(s.skip_line[1], 3);
    assert_string_equal(s.skip_reason[1], "line longer than 100 bytes");
    seen_release(&s);
}

static long max_rss_kib(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void test_input_50mb_single_line_streams_in_bounded_memory(void **state)
{
    struct tree *t = *state;
    struct seen s = {0};
    size_t big = 50u << 20;
    char *chunk = malloc(1 << 20);
    struct timespec t0, t1;
    long rss0;
    int fd;

    assert_non_null(chunk);
    memset(chunk, 'a', 1 << 20);
    fd = open(at(t, "huge.jsonl"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\"title\":\"before\"}\n{\"body\":\"", 28), 28);
    for (size_t done = 0; done < big; done += 1 << 20)
        assert_int_equal(write(fd, chunk, 1 << 20), 1 << 20);
    assert_int_equal(write(fd, "\"}\n{\"title\":\"after\"}\n", 21), 21);
    assert_int_equal(close(fd), 0);
    fd = open(at(t, "huge.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    for (size_t done = 0; done < big; done += 1 << 20)
        assert_int_equal(write(fd, chunk, 1 << 20), 1 << 20);
    assert_int_equal(close(fd), 0);
    free(chunk);
    {
        struct stat st;
        assert_int_equal(stat(at(t, "huge.jsonl"), &st), 0);
        assert_true((size_t)st.st_size > big);
    }

    rss0 = max_rss_kib();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(add(t, NULL, NULL, &s), FMT_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.a[0].title, "before");
    assert_string_equal(s.a[1].title, "after");
    assert_int_equal(s.nskip, 2);
    assert_int_equal(s.skip_line[0], 2);
    assert_string_equal(s.skip_reason[0], "line longer than 1048576 bytes");
    assert_int_equal(s.skip_line[1], 1);
    assert_string_equal(s.skip_reason[1], "line longer than 1048576 bytes");
    /* neither 50 MB line was held in memory (peak grows by a few MiB at most) */
    assert_true(max_rss_kib() - rss0 < 20 * 1024);
    assert_true(t1.tv_sec - t0.tv_sec < 10);
    seen_release(&s);
}

static void test_input_unreadable_path_is_eio(void **state)
{
    struct tree *t = *state;
    struct seen s = {0};
    struct idx_input_opts o;
    struct fmt_err err;

    idx_input_opts_default(&o);
    assert_int_equal(idx_input_add_path(at(t, "missing.txt"), &o, on_article, on_skip, &s, &err),
                     FMT_EIO);
    assert_non_null(strstr(err.msg, "missing.txt"));
    assert_non_null(strstr(err.msg, "No such file"));
    assert_int_equal(s.n + s.nskip, 0);
}

static void test_input_callback_value_stops_the_walk(void **state)
{
    struct tree *t = *state;
    struct seen s = {0};

    write_text(t, "1.txt", "One\nb\n");
    write_text(t, "2.jsonl", "{\"title\":\"a\"}\n{\"title\":\"b\"}\n{\"title\":\"c\"}\n");
    write_text(t, "3.txt", "Three\nb\n");
    s.stop_after = 2;
    assert_int_equal(add(t, NULL, NULL, &s), 7);
    assert_int_equal(s.n, 2);
    seen_release(&s);
}

static void test_input_special_files_and_directory_cycles_are_skipped(void **state)
{
    struct tree *t = *state;
    struct seen s = {0};
    char target[600];

    mkdir_in(t, "d");
    write_text(t, "d/a.txt", "A\nb\n");
    snprintf(target, sizeof(target), "%s", t->root);
    assert_int_equal(symlink(target, at(t, "d/loop")), 0);
    assert_int_equal(mkfifo(at(t, "d/pipe"), 0644), 0);
    assert_int_equal(symlink("/nonexistent/x", at(t, "d/dangling")), 0);
    assert_int_equal(add(t, NULL, NULL, &s), FMT_OK);
    assert_int_equal(s.n, 1);
    assert_rel_id(t, s.a[0].id, "d/a.txt");
    assert_int_equal(s.nskip, 3);
    assert_string_equal(s.skip_file[0], at(t, "d/dangling"));
    assert_true(strncmp(s.skip_reason[0], "cannot read: ", 13) == 0);
    assert_string_equal(s.skip_file[1], at(t, "d/loop"));
    assert_true(strncmp(s.skip_reason[1], "directory cycle", 15) == 0);
    assert_string_equal(s.skip_file[2], at(t, "d/pipe"));
    assert_string_equal(s.skip_reason[2], "not a regular file");
    seen_release(&s);
}

/* Counts the project's own samples and checks the teaser page. */
struct sample_check {
    int n;
    int nato_page_ok;
    int skips;
};

static void count_skip(void *ctx, const char *file, size_t line, const char *reason)
{
    struct sample_check *c = ctx;

    (void)file;
    (void)line;
    (void)reason;
    c->skips++;
}

static int check_sample(void *ctx, struct fmt_article *a)
{
    struct sample_check *c = ctx;

    c->n++;
    if (strcmp(a->id, "samples/nato-ministers-ukraine-membership.txt") == 0)
        c->nato_page_ok = strcmp(a->source, "Northgate Herald") == 0 &&
                          !strstr(a->body, "nflation") && !strstr(a->body, "bakery") &&
                          strstr(a->body, "summit in July.") != NULL;
    fmt_article_release(a);
    return 0;
}

static void test_input_project_samples_all_parse(void **state)
{
    const char *root = getenv("NEWSIDX_ROOT");
    char path[4096];
    struct sample_check c = {0, 0, 0};
    struct idx_input_opts o;
    struct fmt_err err;

    (void)state;
    if (!root)
        skip();
    snprintf(path, sizeof(path), "%s/samples", root);
    idx_input_opts_default(&o);
    assert_int_equal(idx_input_add_path(path, &o, check_sample, count_skip, &c, &err),
                     FMT_OK);
    assert_int_equal(c.skips, 0);
    assert_int_equal(c.n, 12);
    assert_true(c.nato_page_ok);
}

/* A saved page with two teaser lists; "Repeat story" is in both. */
static const char teaser_page[] =
    "Page title\n"
    "Page body mentions nothing else.\n"
    "-\n"
    "First teaser\n"
    "First summary.Wire One - 45m -\n"
    "Repeat story\n"
    "Repeat summary.Wire Two - 2h -\n"
    "No summary here\n"
    "Wire Three - 3d\n"
    "More from The Daily\n"
    "-\n"
    "Repeat story\n"
    "Repeat summary.Wire Two - 2h -\n"
    "Headline without an age line\n"
    "More in Politics\n"
    "-\n"
    "Last one\n"
    "Ends without the dash.The Daily - 5m\n";

static void test_input_teasers_off_by_default_deliver_the_page_only(void **state)
{
    struct tree *t = *state;
    struct seen s = {0};
    struct idx_input_opts o;

    idx_input_opts_default(&o);
    assert_int_equal(o.teasers, 0);
    write_text(t, "p.txt", teaser_page);
    assert_int_equal(add(t, "p.txt", &o, &s), FMT_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.a[0].title, "Page title");
    assert_string_equal(s.a[0].body, "Page body mentions nothing else.");
    seen_release(&s);
}

static void test_input_teasers_become_articles_after_the_page(void **state)
{
    static const struct {
        const char *title, *body, *source;
        int64_t age;
    } want[] = {
        {"First teaser", "First summary.", "Wire One", 45 * 60},
        {"Repeat story", "Repeat summary.", "Wire Two", 2 * 3600},
        {"No summary here", "", "Wire Three", 3 * 86400},
        {"Last one", "Ends without the dash.", "The Daily", 5 * 60},
    };
    struct tree *t = *state;
    struct seen s = {0};
    struct idx_input_opts o;
    const int64_t when = 1739400000; /* 2025-02-12T22:40:00Z */

    idx_input_opts_default(&o);
    o.teasers = 1;
    o.timestamp = when;
    o.source = "Cmdline"; /* names the page's publisher, not the teasers' */
    write_text(t, "p.txt", teaser_page);
    assert_int_equal(add(t, NULL, &o, &s), FMT_OK);
    assert_int_equal(s.nskip, 0);
    assert_int_equal(s.n, 5); /* the page, then its 4 teasers, the repeat once */
    assert_rel_id(t, s.a[0].id, "p.txt");
    assert_string_equal(s.a[0].title, "Page title");
    assert_string_equal(s.a[0].body, "Page body mentions nothing else.");
    assert_string_equal(s.a[0].source, "Cmdline");
    assert_true(s.a[0].timestamp == when);
    for (int i = 1; i < s.n; i++) {
        char prefix[700];
        size_t plen;
        snprintf(prefix, sizeof(prefix), "%s#teaser-", s.a[0].id);
        plen = strlen(prefix);
        assert_true(strncmp(s.a[i].id, prefix, plen) == 0);
        assert_int_equal(strlen(s.a[i].id), plen + 16);
        assert_int_equal(strspn(s.a[i].id + plen, "0123456789abcdef"), 16);
        for (int j = 1; j < i; j++)
            assert_string_not_equal(s.a[i].id, s.a[j].id);
        assert_string_equal(s.a[i].title, want[i - 1].title);
        assert_string_equal(s.a[i].body, want[i - 1].body);
        assert_string_equal(s.a[i].source, want[i - 1].source);
        assert_string_equal(s.a[i].url, "");
        assert_true(s.a[i].timestamp == when - want[i - 1].age);
    }
    seen_release(&s);
}

static void test_input_teaser_ids_are_stable_and_times_follow_mtime(void **state)
{
    struct tree *t = *state;
    struct seen s = {0}, again = {0};
    struct idx_input_opts o;

    idx_input_opts_default(&o);
    o.teasers = 1;
    write_text(t, "p.txt", teaser_page);
    set_mtime(t, "p.txt", 1700000000);
    assert_int_equal(add(t, "p.txt", &o, &s), FMT_OK);
    assert_int_equal(s.n, 5);
    assert_true(s.a[0].timestamp == 1700000000);
    assert_true(s.a[1].timestamp == 1700000000 - 45 * 60);
    /* the page saved again later: same ids (re-adding replaces), times move with it */
    set_mtime(t, "p.txt", 1700086400);
    assert_int_equal(add(t, "p.txt", &o, &again), FMT_OK);
    assert_int_equal(again.n, 5);
    for (int i = 0; i < 5; i++) {
        assert_string_equal(again.a[i].id, s.a[i].id);
        assert_true(again.a[i].timestamp == s.a[i].timestamp + 86400);
    }
    seen_release(&s);
    seen_release(&again);
}

static void test_input_malformed_teaser_list_keeps_the_page(void **state)
{
    struct tree *t = *state;
    struct seen s = {0};
    struct idx_input_opts o;

    idx_input_opts_default(&o);
    o.teasers = 1;
    write_text(t, "p.txt", "Title\nBody.\n-\n-\nMore from\n - 5m -\nlonely headline\n"
                           "- 3h\nMore in X\n-\n\n");
    assert_int_equal(add(t, "p.txt", &o, &s), FMT_OK);
    assert_int_equal(s.nskip, 0);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.a[0].body, "Body.");
    seen_release(&s);
}

static void test_input_teasers_only_for_saved_pages(void **state)
{
    struct tree *t = *state;
    struct seen s = {0};
    struct idx_input_opts o;

    idx_input_opts_default(&o);
    o.teasers = 1;
    write_text(t, "f.md", "---\ntitle: M\n---\nBody.\n-\nHeadline\nSummary.Wire - 5m -\n");
    write_text(t, "j.jsonl", "{\"title\":\"J\",\"body\":\"-\\nHeadline\\nS.Wire - 5m -\"}\n");
    assert_int_equal(add(t, NULL, &o, &s), FMT_OK);
    assert_int_equal(s.n, 2);
    seen_release(&s);
}

static void test_input_teasers_of_the_hill_sample(void **state)
{
    const char *root = getenv("NEWSIDX_ROOT");
    char path[4096];
    struct seen s = {0};
    struct idx_input_opts o;
    struct fmt_err err;

    (void)state;
    if (!root)
        skip();
    snprintf(path, sizeof(path), "%s/../shared/samples/thehill-hegseth-nato-ukraine.txt", root);
    if (access(path, R_OK) != 0)
        skip();
    idx_input_opts_default(&o);
    o.teasers = 1;
    o.timestamp = 1739390400; /* 2025-02-12T20:00:00Z */
    assert_int_equal(idx_input_add_path(path, &o, on_article, on_skip, &s, &err), FMT_OK);
    assert_int_equal(s.n, 15); /* the page and 9 + 5 teasers; "More in Politics" repeats */
    assert_null(strstr(s.a[0].body, "inflation"));
    assert_string_equal(s.a[1].source, "BBC News");
    assert_true(s.a[1].timestamp == 1739390400 - 20 * 60);
    assert_string_equal(s.a[11].title, "Larry Summers sounds alarm over inflation under Trump");
    assert_string_equal(s.a[11].source, "The Hill");
    assert_non_null(strstr(s.a[11].body, "inflation"));
    assert_string_equal(s.a[14].title, "Senate tees up final vote on RFK Jr. to lead HHS");
    seen_release(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_input_format_names_parse),
        cmocka_unit_test(test_input_project_samples_all_parse),
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_input_walks_directories_in_sorted_order_skipping_dotfiles),
        T(test_input_file_argument_id_is_path_as_given),
        T(test_input_id_prefers_record_id_then_url),
        T(test_input_timestamp_rules),
        T(test_input_source_rules),
        T(test_input_detects_format_by_extension_and_content),
        T(test_input_skips_empty_and_binary_files),
        T(test_input_nul_after_first_8k_is_reported_with_line),
        T(test_input_nul_in_jsonl_past_8k_skips_only_that_line),
        T(test_input_invalid_utf8_reports_file_line_and_byte),
        T(test_input_broken_json_line_is_skipped_and_others_indexed),
        T(test_input_broken_yaml_is_skipped_with_line),
        T(test_input_line_longer_than_max_line_is_skipped),
        T(test_input_50mb_single_line_streams_in_bounded_memory),
        T(test_input_unreadable_path_is_eio),
        T(test_input_callback_value_stops_the_walk),
        T(test_input_special_files_and_directory_cycles_are_skipped),
        T(test_input_teasers_off_by_default_deliver_the_page_only),
        T(test_input_teasers_become_articles_after_the_page),
        T(test_input_teaser_ids_are_stable_and_times_follow_mtime),
        T(test_input_malformed_teaser_list_keeps_the_page),
        T(test_input_teasers_only_for_saved_pages),
        T(test_input_teasers_of_the_hill_sample),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
