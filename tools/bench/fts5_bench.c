/* fts5_bench.c - the SQLite FTS5 side of the benchmark (tools/bench/run.sh).
 *
 *   fts5_bench build DB FILE.jsonl...   index the articles into a new database DB
 *   fts5_bench query DB N MATCH         one query in FTS5 MATCH syntax (the third column of
 *                                       queries.tsv), top N by bm25, printed (whole-process)
 *   fts5_bench inproc DB QUERIES ITER   every query of QUERIES ITER times after a warm-up,
 *                                       prepared once: per-type median/p99 in microseconds
 *   fts5_bench translate QUERY          print the FTS5 MATCH text for a newsq query
 *   fts5_bench version                  print the SQLite library version
 *
 * The table is
 *   CREATE VIRTUAL TABLE docs USING fts5(title, body, id UNINDEXED, source UNINDEXED,
 *                                        ts UNINDEXED, tokenize='porter unicode61')
 * (title and body are searched; id, source and timestamp are stored, as newsidx stores
 * them). The build inserts every article in one transaction, then runs FTS5's 'optimize'
 * (one b-tree segment, the best case for queries). Ranking is bm25(docs, 2.0, 1.0): the
 * title weighs 2 and the body 1, as in newsidx's BM25F defaults.
 *
 * Queries: the FTS5 column of tools/bench/queries.tsv; a MATCH text ending in
 * " @ts LO HI" is a date-filtered query: "AND ts >= LO AND ts < HI" is added to the SQL
 * (FTS5 has no date syntax; ts is the stored ISO 8601 text, so strings compare as dates).
 * A query file without that column is translated from newsq syntax (words, OR, AND and
 * "phrases"; words are quoted so that none is read as an FTS5 operator or column filter).
 *
 * inproc prints, tab-separated:
 *   Q <n> <matches>                        matches of query n (1-based), counted once
 *   T <type> <p50_us> <p95_us> <p99_us> <samples>   per query type
 * Exit status: 0; query: 1 when nothing matched; 2 usage; 3 SQLite or input errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "benchutil.h"
#include "buf.h"
#include "err.h"
#include "json.h"

#define SCHEMA                                                                             \
    "CREATE VIRTUAL TABLE docs USING fts5(title, body, id UNINDEXED, source UNINDEXED, "  \
    "ts UNINDEXED, tokenize='porter unicode61')"
#define RANK "bm25(docs, 2.0, 1.0)"

/* The fields of one JSON Lines article, copied out of the parser's callback. */
struct article {
    struct fmt_buf f[5]; /* title, body, id, source, ts */
    int have[5];
};

static const char *const field_names[5] = {"title", "body", "id", "source", "timestamp"};

static int on_member(void *ctx, const char *key, size_t klen, const struct fmt_json_value *v)
{
    struct article *a = ctx;
    size_t i;

    if (v->type != FMT_JSON_STRING)
        return 0;
    for (i = 0; i < 5; i++)
        if (strlen(field_names[i]) == klen && !memcmp(key, field_names[i], klen)) {
            a->f[i].len = 0;
            if (fmt_buf_append(&a->f[i], v->s, v->len) != FMT_OK)
                return FMT_ENOMEM;
            a->have[i] = 1;
        }
    return 0;
}

static int sql_fail(sqlite3 *db, const char *what)
{
    fprintf(stderr, "fts5_bench: %s: %s\n", what, sqlite3_errmsg(db));
    return 3;
}

static int exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "fts5_bench: %s: %s\n", sql, msg ? msg : "error");
        sqlite3_free(msg);
        return 3;
    }
    return 0;
}

/* Insert every article of PATH with INS; *COUNT is incremented per article. */
static int load_file(sqlite3 *db, sqlite3_stmt *ins, const char *path, struct article *a,
                     size_t *count)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    int status = 0;

    if (!f) {
        fprintf(stderr, "fts5_bench: %s: %s\n", path, strerror(errno));
        return 3;
    }
    while ((len = getline(&line, &cap, f)) >= 0) {
        struct fmt_err err;
        size_t i;
        int rc;
        lineno++;
        if (len <= 1)
            continue;
        memset(a->have, 0, sizeof(a->have));
        rc = fmt_json_parse_object(line, (size_t)len, on_member, a, NULL, &err);
        if (rc != FMT_OK) {
            fprintf(stderr, "fts5_bench: %s:%zu: %s\n", path, lineno,
                    rc == FMT_ENOMEM ? "out of memory" : err.msg);
            status = 3;
            break;
        }
        for (i = 0; i < 5; i++) {
            if (a->have[i])
                rc = sqlite3_bind_text64(ins, (int)i + 1, (const char *)a->f[i].p,
                                         a->f[i].len, SQLITE_STATIC, SQLITE_UTF8);
            else
                rc = sqlite3_bind_null(ins, (int)i + 1);
            if (rc != SQLITE_OK)
                break;
        }
        if (rc == SQLITE_OK && sqlite3_step(ins) != SQLITE_DONE)
            rc = SQLITE_ERROR;
        sqlite3_reset(ins);
        if (rc != SQLITE_OK) {
            fprintf(stderr, "fts5_bench: %s:%zu: insert: %s\n", path, lineno,
                    sqlite3_errmsg(db));
            status = 3;
            break;
        }
        (*count)++;
    }
    if (!status && ferror(f)) {
        fprintf(stderr, "fts5_bench: %s: read error\n", path);
        status = 3;
    }
    free(line);
    fclose(f);
    return status;
}

static int cmd_build(const char *dbpath, int nfiles, char **files)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL;
    struct article a;
    size_t count = 0, i;
    int status, k;

    memset(&a, 0, sizeof(a));
    for (i = 0; i < 5; i++)
        fmt_buf_init(&a.f[i]);
    if (remove(dbpath) != 0 && errno != ENOENT) {
        fprintf(stderr, "fts5_bench: %s: %s\n", dbpath, strerror(errno));
        return 3;
    }
    if (sqlite3_open(dbpath, &db) != SQLITE_OK) {
        status = sql_fail(db, dbpath);
        goto out;
    }
    status = exec(db, SCHEMA);
    if (!status)
        status = exec(db, "BEGIN");
    if (!status && sqlite3_prepare_v2(db,
                                      "INSERT INTO docs(title, body, id, source, ts) "
                                      "VALUES (?1, ?2, ?3, ?4, ?5)",
                                      -1, &ins, NULL) != SQLITE_OK)
        status = sql_fail(db, "prepare insert");
    for (k = 0; !status && k < nfiles; k++)
        status = load_file(db, ins, files[k], &a, &count);
    if (!status)
        status = exec(db, "COMMIT");
    if (!status)
        status = exec(db, "INSERT INTO docs(docs) VALUES('optimize')");
    if (!status)
        printf("docs\t%zu\n", count);
out:
    sqlite3_finalize(ins);
    if (db && sqlite3_close(db) != SQLITE_OK && !status)
        status = sql_fail(db, "close");
    for (i = 0; i < 5; i++)
        fmt_buf_release(&a.f[i]);
    return status;
}

/* Translate the newsq query Q into FTS5 MATCH syntax in OUT (NUL-terminated). -1 on a
 * construct this benchmark does not use (message on stderr). */
static int translate(const char *q, struct fmt_buf *out)
{
    const char *p = q;
    int rc = FMT_OK;

    out->len = 0;
    while (*p && rc == FMT_OK) {
        const char *s;
        if (*p == ' ' || *p == '\t') {
            p++;
            continue;
        }
        if (out->len)
            rc = fmt_buf_putc(out, ' ');
        if (rc != FMT_OK)
            break;
        if (*p == '"') {
            s = strchr(p + 1, '"');
            if (!s) {
                fprintf(stderr, "fts5_bench: unterminated phrase in: %s\n", q);
                return -1;
            }
            rc = fmt_buf_append(out, p, (size_t)(s - p) + 1);
            p = s + 1;
            continue;
        }
        s = p;
        while (*s && *s != ' ' && *s != '\t' && *s != '"')
            s++;
        if ((s - p == 2 && !memcmp(p, "OR", 2)) || (s - p == 3 && !memcmp(p, "AND", 3))) {
            rc = fmt_buf_append(out, p, (size_t)(s - p));
        } else if (strchr("-()*", *p) || memchr(p, ':', (size_t)(s - p)) || s[-1] == '*') {
            fprintf(stderr, "fts5_bench: unsupported newsq syntax in: %s\n", q);
            return -1;
        } else {
            rc = fmt_buf_putc(out, '"');
            if (rc == FMT_OK)
                rc = fmt_buf_append(out, p, (size_t)(s - p));
            if (rc == FMT_OK)
                rc = fmt_buf_putc(out, '"');
        }
        p = s;
    }
    if (rc == FMT_OK)
        rc = fmt_buf_terminate(out);
    if (rc != FMT_OK) {
        fputs("fts5_bench: out of memory\n", stderr);
        return -1;
    }
    return 0;
}

/* Split a " @ts LO HI" suffix off M (in place): *LO and *HI point into M, or stay NULL. */
static void split_date(char *m, char **lo, char **hi)
{
    char *at = strstr(m, " @ts ");

    *lo = *hi = NULL;
    if (!at)
        return;
    *at = '\0';
    *lo = at + 5;
    *hi = strchr(*lo, ' ');
    if (*hi)
        *(*hi)++ = '\0';
    else
        *lo = NULL;
}

#define SQL_RANKED_WHERE "WHERE docs MATCH ?1 "
#define SQL_DATED_WHERE "WHERE docs MATCH ?1 AND ts >= ?3 AND ts < ?4 "

static int cmd_query(const char *dbpath, const char *nstr, const char *query)
{
    char *lo, *hi;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    struct fmt_buf m;
    char *end;
    long n = strtol(nstr, &end, 10);
    int status = 0, rank = 0, rc;

    if (*end || n < 1) {
        fputs("fts5_bench: N must be a positive number\n", stderr);
        return 2;
    }
    fmt_buf_init(&m);
    if (fmt_buf_append(&m, query, strlen(query)) != FMT_OK || fmt_buf_terminate(&m) != FMT_OK) {
        fmt_buf_release(&m);
        return 3;
    }
    split_date((char *)m.p, &lo, &hi);
    if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        status = sql_fail(db, dbpath);
        goto out;
    }
#define SQL_QUERY(WHERE)                                                                   \
    "SELECT id, title, source, ts, " RANK " AS s, snippet(docs, 1, '[', ']', '...', 16) "    \
    "FROM docs " WHERE "ORDER BY s LIMIT ?2"
    if (sqlite3_prepare_v2(db, lo ? SQL_QUERY(SQL_DATED_WHERE) : SQL_QUERY(SQL_RANKED_WHERE),
                           -1, &st, NULL) != SQLITE_OK) {
        status = sql_fail(db, "prepare query");
        goto out;
    }
    sqlite3_bind_text(st, 1, (const char *)m.p, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, n);
    if (lo) {
        sqlite3_bind_text(st, 3, lo, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, hi, -1, SQLITE_STATIC);
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *ts = sqlite3_column_text(st, 3);
        printf("%d. %.3f  %s  %s  %s  [%s]\n   %s\n", ++rank, -sqlite3_column_double(st, 4),
               ts ? (const char *)ts : "-", (const char *)sqlite3_column_text(st, 2),
               (const char *)sqlite3_column_text(st, 1),
               (const char *)sqlite3_column_text(st, 0),
               (const char *)sqlite3_column_text(st, 5));
    }
    if (rc != SQLITE_DONE)
        status = sql_fail(db, "query");
    else if (rank == 0)
        status = 1;
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    fmt_buf_release(&m);
    if (fflush(stdout) != 0 && !status)
        status = 3;
    return status;
}

/* One query of the in-process run: MATCH text and optional date bounds (into m's buffer). */
struct fq {
    struct fmt_buf m;
    char *lo, *hi;
};

/* Run ST (rank query, the dated one when Q has dates) with Q; rows are read and dropped. */
static int run_ranked(sqlite3_stmt *st, const struct fq *q)
{
    int rc;

    sqlite3_bind_text(st, 1, (const char *)q->m.p, -1, SQLITE_STATIC);
    if (q->lo) {
        sqlite3_bind_text(st, 3, q->lo, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, q->hi, -1, SQLITE_STATIC);
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        volatile sqlite3_int64 id = sqlite3_column_int64(st, 0);
        volatile double s = sqlite3_column_double(st, 1);
        (void)id;
        (void)s;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int cmd_inproc(const char *dbpath, const char *qpath, const char *iterstr)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st[2] = {NULL, NULL}, *cnt[2] = {NULL, NULL}; /* [1]: date-filtered */
    struct bench_queries qs;
    struct bench_samples *per = NULL;
    struct fq *m = NULL;
    char *end;
    long iter = strtol(iterstr, &end, 10);
    size_t i, t;
    long r;
    int status = 0;

    if (*end || iter < 1) {
        fputs("fts5_bench: ITER must be a positive number\n", stderr);
        return 2;
    }
    if (bench_queries_load(&qs, qpath) != 0)
        return 2;
    per = calloc(qs.ntypes, sizeof(*per));
    m = calloc(qs.n, sizeof(*m));
    if (!per || !m) {
        fputs("fts5_bench: out of memory\n", stderr);
        status = 3;
        goto out;
    }
    for (i = 0; i < qs.n; i++) {
        if (qs.q[i].fts5) {
            if (fmt_buf_append(&m[i].m, qs.q[i].fts5, strlen(qs.q[i].fts5)) != FMT_OK ||
                fmt_buf_terminate(&m[i].m) != FMT_OK) {
                fputs("fts5_bench: out of memory\n", stderr);
                status = 3;
                goto out;
            }
            split_date((char *)m[i].m.p, &m[i].lo, &m[i].hi);
        } else if (translate(qs.q[i].text, &m[i].m) != 0) {
            status = 2;
            goto out;
        }
    }
    if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        status = sql_fail(db, dbpath);
        goto out;
    }
    if (sqlite3_prepare_v2(db,
                           "SELECT rowid, " RANK " AS s FROM docs " SQL_RANKED_WHERE
                           "ORDER BY s LIMIT 10",
                           -1, &st[0], NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT rowid, " RANK " AS s FROM docs " SQL_DATED_WHERE
                           "ORDER BY s LIMIT 10",
                           -1, &st[1], NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT count(*) FROM docs " SQL_RANKED_WHERE, -1, &cnt[0],
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT count(*) FROM docs " SQL_DATED_WHERE, -1, &cnt[1],
                           NULL) != SQLITE_OK) {
        status = sql_fail(db, "prepare");
        goto out;
    }
    /* warm-up and match counts (not timed) */
    for (i = 0; i < qs.n; i++) {
        sqlite3_stmt *c = cnt[m[i].lo != NULL];
        sqlite3_bind_text(c, 1, (const char *)m[i].m.p, -1, SQLITE_STATIC);
        if (m[i].lo) {
            sqlite3_bind_text(c, 3, m[i].lo, -1, SQLITE_STATIC);
            sqlite3_bind_text(c, 4, m[i].hi, -1, SQLITE_STATIC);
        }
        if (sqlite3_step(c) != SQLITE_ROW || run_ranked(st[m[i].lo != NULL], &m[i]) != 0) {
            status = sql_fail(db, qs.q[i].text);
            goto out;
        }
        printf("Q\t%zu\t%lld\n", i + 1, (long long)sqlite3_column_int64(c, 0));
        sqlite3_reset(c);
    }
    for (r = 0; r < iter; r++)
        for (i = 0; i < qs.n; i++) {
            uint64_t t0 = bench_now_ns();
            if (run_ranked(st[m[i].lo != NULL], &m[i]) != 0) {
                status = sql_fail(db, qs.q[i].text);
                goto out;
            }
            if (bench_samples_add(&per[qs.q[i].type_idx],
                                  (double)(bench_now_ns() - t0) / 1e3) != 0) {
                fputs("fts5_bench: out of memory\n", stderr);
                status = 3;
                goto out;
            }
        }
    for (t = 0; t < qs.ntypes; t++) {
        double p50 = bench_median(&per[t]);
        printf("T\t%s\t%.1f\t%.1f\t%.1f\t%zu\n", qs.types[t], p50,
               bench_percentile(&per[t], 95), bench_percentile(&per[t], 99), per[t].n);
    }
out:
    for (i = 0; i < 2; i++) {
        sqlite3_finalize(st[i]);
        sqlite3_finalize(cnt[i]);
    }
    sqlite3_close(db);
    if (per)
        for (t = 0; t < qs.ntypes; t++)
            bench_samples_release(&per[t]);
    if (m)
        for (i = 0; i < qs.n; i++)
            fmt_buf_release(&m[i].m);
    free(per);
    free(m);
    bench_queries_release(&qs);
    if (fflush(stdout) != 0 && !status)
        status = 3;
    return status;
}

static int usage(void)
{
    fputs("usage: fts5_bench build DB FILE.jsonl...\n"
          "       fts5_bench query DB N MATCH\n"
          "       fts5_bench inproc DB QUERIES ITER\n"
          "       fts5_bench translate QUERY\n"
          "       fts5_bench version\n",
          stderr);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "build"))
        return cmd_build(argv[2], argc - 3, argv + 3);
    if (argc == 5 && !strcmp(argv[1], "query"))
        return cmd_query(argv[2], argv[3], argv[4]);
    if (argc == 5 && !strcmp(argv[1], "inproc"))
        return cmd_inproc(argv[2], argv[3], argv[4]);
    if (argc == 2 && !strcmp(argv[1], "version")) {
        puts(sqlite3_libversion());
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "translate")) {
        struct fmt_buf m;
        int rc;
        fmt_buf_init(&m);
        rc = translate(argv[2], &m);
        if (rc == 0)
            puts((const char *)m.p);
        fmt_buf_release(&m);
        return rc == 0 ? 0 : 2;
    }
    return usage();
}
