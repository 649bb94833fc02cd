/* newsidx.c - the `newsidx` command: add, rm, stats, check, export (and the lifecycle
 * commands). Maps library status codes to the exit codes of docs/DESIGN.md. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "article.h"
#include "buf.h"
#include "check.h"
#include "config.h"
#include "input.h"
#include "json.h"
#include "manifest.h"
#include "neardup.h"
#include "paths.h"
#include "segment.h"
#include "snapshot.h"
#include "stats.h"
#include "writer.h"

enum {
    EXIT_OK = 0,
    EXIT_SKIPPED = 1,
    EXIT_USAGE = 2,
    EXIT_DAMAGED = 3,
    EXIT_IOERR = 74,
    EXIT_LOCKED = 75,
};

/* What every command gets: the index directory and the effective configuration. */
struct cli {
    const char *dir;
    const struct fmt_config *cfg;
    const char *index_opt; /* --index as given, or NULL */
};

/* Writer options from the configuration: memory budget, merge factor and, when the
 * configuration names one, the analyzer (an index built with another one is refused). */
static void writer_opts_from_config(struct idx_writer_opts *wo, const struct fmt_config *cfg)
{
    idx_writer_opts_default(wo);
    wo->mem_budget = cfg->memory_budget_mb * 1024 * 1024;
    wo->merge_factor = cfg->merge_factor;
    wo->near_threshold = cfg->near_threshold;
    wo->skip_near_duplicates = cfg->near_skip;
    if (cfg->line[FMT_CFG_LANGUAGE] || cfg->line[FMT_CFG_DIACRITICS]) {
        wo->analyzer = cfg->analyzer;
        wo->analyzer_given = 1;
    }
}

static const char usage_text[] =
    "usage: newsidx [--index DIR] COMMAND [OPTIONS] [ARGS]\n"
    "\n"
    "commands:\n"
    "  add [--format auto|page|markdown|jsonl] [--source NAME] [--timestamp ISO]\n"
    "      [--keep-duplicates] [--teasers] [--mem-budget MB] [--commit-every N]\n"
    "      [--threads N]        (default 2 on a machine with 2+ CPUs: a helper thread\n"
    "                           analyzes and compresses; 1 builds on one thread)\n"
    "      [--near-threshold T] [--skip-near-duplicates] [--wait SECONDS]\n"
    "      [-v] [PATH...|-]     index files, directories (recursively) or stdin;\n"
    "                           without PATH, the configuration's sources\n"
    "  rebuild [same options as add, no --commit-every] [PATH...|-]\n"
    "                           build a new generation and switch to it atomically\n"
    "  compact [--mem-budget MB] [--threads N] [--wait SECONDS] [-v]\n"
    "                           merge all segments into one, dropping deleted articles\n"
    "  rm [--from-file FILE] [--wait SECONDS] ID...   delete articles by id\n"
    "  stats [--json]           articles, segments, deletions, dates, sources, bytes\n"
    "  dups [--threshold T] [--json]\n"
    "                           list clusters of near-duplicate articles\n"
    "  check                    verify every file; exit 3 and name each problem\n"
    "  export                   print every stored article as JSON Lines\n"
    "  config                   print the effective configuration and its origins\n"
    "\n"
    "index: --index DIR, else $NEWSIDX_INDEX, else index: in the configuration, else\n"
    "       $XDG_DATA_HOME/newsidx, else ~/.local/share/newsidx\n"
    "configuration: --config FILE, else $NEWSIDX_CONFIG, else ./newsidx.yaml, else\n"
    "       $XDG_CONFIG_HOME/newsidx/config.yaml (~/.config/newsidx/config.yaml)\n"
    "exit codes: 0 ok, 1 some inputs skipped, 2 usage error, 3 index damaged or\n"
    "            unreadable, 74 a write failed (index unchanged), 75 index locked\n";

static int usage(const char *msg)
{
    if (msg)
        fprintf(stderr, "newsidx: %s\n", msg);
    fputs(usage_text, stderr);
    return EXIT_USAGE;
}

static int exit_code(int rc)
{
    switch (rc) {
    case FMT_OK:
        return EXIT_OK;
    case FMT_ECORRUPT:
    case FMT_EVERSION:
    case FMT_ENOTFOUND:
        return EXIT_DAMAGED;
    case FMT_ELOCKED:
        return EXIT_LOCKED;
    case FMT_EINVAL:
        return EXIT_USAGE;
    default:
        return EXIT_IOERR;
    }
}

static int fail(int rc, const struct fmt_err *err)
{
    fprintf(stderr, "newsidx: %s\n", err->msg[0] ? err->msg : fmt_strstatus(rc));
    return exit_code(rc);
}

/* ---- add ---------------------------------------------------------------------------- */

struct add_ctx {
    struct idx_writer *w;
    struct fmt_err err;
    uint64_t skipped;
    uint64_t since_commit;
    uint64_t commit_every;
    int fatal;
};

static void on_skip(void *ctx, const char *file, size_t line, const char *reason)
{
    struct add_ctx *c = ctx;

    c->skipped++;
    if (line)
        fprintf(stderr, "newsidx: %s:%zu: %s (skipped)\n", file, line, reason);
    else
        fprintf(stderr, "newsidx: %s: %s (skipped)\n", file, reason);
}

static int on_article(void *ctx, struct fmt_article *a)
{
    struct add_ctx *c = ctx;
    enum idx_add_outcome outcome;
    int rc = idx_writer_add(c->w, a, &outcome, &c->err);

    if (rc == FMT_EINVAL) {
        on_skip(c, a->id, 0, c->err.msg);
        rc = FMT_OK;
    } else if (rc == FMT_OK && c->commit_every && ++c->since_commit >= c->commit_every) {
        c->since_commit = 0;
        rc = idx_writer_commit(c->w, &c->err);
    }
    fmt_article_release(a);
    if (rc != FMT_OK)
        c->fatal = rc;
    return rc;
}

static int parse_double(const char *s, double *out)
{
    char *end;

    errno = 0;
    *out = strtod(s, &end);
    return errno || end == s || *end || *out < 0 ? -1 : 0;
}

/* add and rebuild: REBUILD = 1 builds a new generation that replaces the index. */
static int ingest(const struct cli *cl, int argc, char **argv, int rebuild)
{
    const char *dir = cl->dir;
    int format_given = 0;
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'},
        {"source", required_argument, NULL, 's'},
        {"timestamp", required_argument, NULL, 't'},
        {"keep-duplicates", no_argument, NULL, 'k'},
        {"near-threshold", required_argument, NULL, 'N'},
        {"skip-near-duplicates", no_argument, NULL, 'K'},
        {"teasers", no_argument, NULL, 'T'},
        {"mem-budget", required_argument, NULL, 'm'},
        {"threads", required_argument, NULL, 'j'},
        {"commit-every", required_argument, NULL, 'c'},
        {"wait", required_argument, NULL, 'W'},
        {"verbose", no_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    struct idx_input_opts in;
    struct idx_writer_opts wo;
    struct add_ctx c;
    int opt, rc = FMT_OK, verbose = 0;
    double d;

    idx_input_opts_default(&in);
    writer_opts_from_config(&wo, cl->cfg);
    memset(&c, 0, sizeof(c));
    optind = 1;
    while ((opt = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
        switch (opt) {
        case 'f':
            if (idx_format_parse(optarg, &in.format) != FMT_OK)
                return usage("--format must be auto, page, markdown or jsonl");
            format_given = 1;
            break;
        case 's':
            in.source = optarg;
            break;
        case 't':
            if (fmt_time_parse(optarg, strlen(optarg), &in.timestamp) != FMT_OK)
                return usage("--timestamp takes an ISO 8601 date such as 2025-02-12T10:00:00Z");
            break;
        case 'k':
            wo.keep_duplicates = 1;
            break;
        case 'N':
            if (parse_double(optarg, &wo.near_threshold) || wo.near_threshold > 1 ||
                (wo.near_threshold != 0 && wo.near_threshold < IDX_ND_MIN_THRESHOLD))
                return usage("--near-threshold takes a similarity from 0.5 to 1 (0: off)");
            break;
        case 'K':
            wo.skip_near_duplicates = 1;
            break;
        case 'T':
            in.teasers = 1;
            break;
        case 'm':
            if (parse_double(optarg, &d) || d < 1)
                return usage("--mem-budget takes a size in MiB (at least 1)");
            wo.mem_budget = (size_t)(d * 1024 * 1024);
            break;
        case 'j':
            if (parse_double(optarg, &d) || d < 1 || d > 64)
                return usage("--threads takes 1 or 2 (more counts as 2)");
            wo.threads = (unsigned)d;
            break;
        case 'c':
            if (parse_double(optarg, &d) || d < 1)
                return usage("--commit-every takes a positive number of articles");
            c.commit_every = (uint64_t)d;
            break;
        case 'W':
            if (parse_double(optarg, &wo.wait_seconds))
                return usage("--wait takes a number of seconds");
            break;
        case 'v':
            verbose = 1;
            break;
        default:
            return usage(NULL);
        }
    }
    if (optind >= argc && cl->cfg->nsources == 0)
        return usage(rebuild ? "rebuild needs a PATH (or - for stdin) or sources: in the "
                               "configuration"
                             : "add needs a PATH (or - for stdin) or sources: in the "
                               "configuration");
    if (rebuild && c.commit_every)
        return usage("rebuild commits once, at the end: --commit-every is for add");
    wo.rebuild = rebuild;
    rc = idx_writer_open(&c.w, dir, &wo, &c.err);
    if (rc != FMT_OK)
        return fail(rc, &c.err);
    for (int i = optind; i < argc && rc == FMT_OK; i++) {
        rc = idx_input_add_path(argv[i], &in, on_article, on_skip, &c, &c.err);
        if (rc == FMT_EIO && !c.fatal) { /* an unreadable PATH argument: skip it */
            on_skip(&c, argv[i], 0, c.err.msg);
            rc = FMT_OK;
        }
    }
    for (size_t i = 0; optind >= argc && i < cl->cfg->nsources && rc == FMT_OK; i++) {
        const struct fmt_config_source *src = &cl->cfg->sources[i];
        struct idx_input_opts sin = in;
        if (!format_given && idx_format_parse(src->format, &sin.format) != FMT_OK)
            sin.format = IDX_FORMAT_AUTO; /* config.c accepts only names input.c knows */
        if (!in.source && src->source)
            sin.source = src->source;
        sin.teasers = in.teasers || src->teasers;
        rc = idx_input_add_path(src->path, &sin, on_article, on_skip, &c, &c.err);
        if (rc == FMT_EIO && !c.fatal) {
            on_skip(&c, src->path, 0, c.err.msg);
            rc = FMT_OK;
        }
    }
    if (rc == FMT_OK && rebuild && idx_writer_counts(c.w)->added == 0) {
        fprintf(stderr, "newsidx: rebuild read no articles; the index is unchanged\n");
        idx_writer_close(c.w);
        return EXIT_SKIPPED;
    }
    if (rc == FMT_OK)
        rc = idx_writer_commit(c.w, &c.err);
    if (rc == FMT_OK && (verbose || c.skipped || isatty(2))) {
        const struct idx_writer_counts *n = idx_writer_counts(c.w);
        fprintf(stderr,
                "newsidx: added %" PRIu64 ", replaced %" PRIu64 ", duplicates skipped %" PRIu64
                ", near-duplicates %" PRIu64 " (%s), inputs skipped %" PRIu64 "\n",
                n->added, n->replaced, n->duplicates, n->near_duplicates,
                wo.skip_near_duplicates ? "skipped" : "kept", c.skipped);
    }
    idx_writer_close(c.w);
    if (rc != FMT_OK)
        return fail(rc, &c.err);
    return c.skipped ? EXIT_SKIPPED : EXIT_OK;
}

/* 1 when DIR holds a MANIFEST; else 0 with "no index at DIR" in ERR. */
static int index_exists(const char *dir, struct fmt_err *err)
{
    char path[4096 + 16];
    struct stat st;

    snprintf(path, sizeof(path), "%s/MANIFEST", dir);
    if (stat(path, &st) == 0)
        return 1;
    fmt_errorf(err, FMT_ENOTFOUND, "no index at %s", dir);
    return 0;
}

static int cmd_compact(const struct cli *cl, int argc, char **argv)
{
    const char *dir = cl->dir;
    static const struct option longopts[] = {
        {"mem-budget", required_argument, NULL, 'm'},
        {"threads", required_argument, NULL, 'j'},
        {"wait", required_argument, NULL, 'W'},
        {"verbose", no_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    struct idx_writer_opts wo;
    struct idx_writer *w;
    struct fmt_err err = {0, ""};
    int opt, rc, verbose = 0;
    double d;

    writer_opts_from_config(&wo, cl->cfg);
    wo.analyzer_given = 0; /* compact keeps the index's analyzer */
    optind = 1;
    while ((opt = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
        if (opt == 'm' && !parse_double(optarg, &d) && d >= 1)
            wo.mem_budget = (size_t)(d * 1024 * 1024);
        else if (opt == 'j' && !parse_double(optarg, &d) && d >= 1 && d <= 64)
            wo.threads = (unsigned)d;
        else if (opt == 'W' && !parse_double(optarg, &wo.wait_seconds))
            ;
        else if (opt == 'v')
            verbose = 1;
        else
            return usage(NULL);
    }
    if (optind < argc)
        return usage("compact takes no arguments");
    if (!index_exists(dir, &err)) /* never create an index just to compact it */
        return fail(FMT_ENOTFOUND, &err);
    rc = idx_writer_open(&w, dir, &wo, &err);
    if (rc != FMT_OK)
        return fail(rc, &err);
    rc = idx_writer_compact(w, &err);
    if (rc == FMT_OK && (verbose || isatty(2)))
        fprintf(stderr, "newsidx: compacted into %zu segment(s), %" PRIu64 " articles\n",
                idx_writer_nsegs(w), idx_writer_counts(w)->merged_docs);
    idx_writer_close(w);
    return rc == FMT_OK ? EXIT_OK : fail(rc, &err);
}

/* ---- rm ----------------------------------------------------------------------------- */

static int delete_one(struct idx_writer *w, const char *id, uint64_t *missing, struct fmt_err *err)
{
    int found, rc = idx_writer_delete(w, id, &found, err);

    if (rc == FMT_OK && !found) {
        fprintf(stderr, "newsidx: %s: no such article\n", id);
        (*missing)++;
    }
    return rc;
}

static int delete_from_file(struct idx_writer *w, const char *path, uint64_t *missing,
                            struct fmt_err *err)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = FMT_OK;

    if (!f)
        return fmt_errorf(err, FMT_EINVAL, "%s: %s", path, strerror(errno));
    while (rc == FMT_OK && (n = getline(&line, &cap, f)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (n > 0)
            rc = delete_one(w, line, missing, err);
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return rc;
}

static int cmd_rm(const char *dir, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"from-file", required_argument, NULL, 'f'},
        {"wait", required_argument, NULL, 'W'},
        {NULL, 0, NULL, 0},
    };
    struct idx_writer_opts wo;
    struct idx_writer *w;
    struct fmt_err err = {0, ""};
    const char *from = NULL;
    uint64_t missing = 0;
    int opt, rc;

    idx_writer_opts_default(&wo);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (opt == 'f')
            from = optarg;
        else if (opt == 'W' && !parse_double(optarg, &wo.wait_seconds))
            ;
        else
            return usage(NULL);
    }
    if (optind >= argc && !from)
        return usage("rm needs ids (or --from-file FILE)");
    if (!index_exists(dir, &err))
        return fail(FMT_ENOTFOUND, &err);
    rc = idx_writer_open(&w, dir, &wo, &err);
    if (rc != FMT_OK)
        return fail(rc, &err);
    if (from)
        rc = delete_from_file(w, from, &missing, &err);
    for (int i = optind; i < argc && rc == FMT_OK; i++)
        rc = delete_one(w, argv[i], &missing, &err);
    if (rc == FMT_OK)
        rc = idx_writer_commit(w, &err);
    idx_writer_close(w);
    if (rc != FMT_OK)
        return fail(rc, &err);
    return missing ? EXIT_SKIPPED : EXIT_OK;
}

/* ---- read-only commands --------------------------------------------------------------- */

static int open_snapshot(const char *dir, struct fmt_snapshot **s, struct fmt_err *err)
{
    int rc = fmt_snapshot_open(s, dir, err);

    if (rc == FMT_ENOTFOUND)
        fmt_errorf(err, rc, "no index at %s (run `newsidx add` first)", dir);
    return rc;
}

/* ISO 8601 of epoch seconds T, or NULL when T is 0/none (JSON null, text "never"). */
static const char *iso_or_null(int64_t t, char *buf, size_t cap)
{
    if (t == 0 || t == FMT_NO_TIME)
        return NULL;
    fmt_time_format(t, buf, cap);
    return buf;
}

static int put_json_time(struct fmt_buf *b, const char *key, int64_t t)
{
    char ts[40];
    const char *iso = iso_or_null(t, ts, sizeof(ts));

    return fmt_buf_printf(b, ",\"%s\":", key) |
           (iso ? fmt_buf_printf(b, "\"%s\"", iso) : fmt_buf_puts(b, "null"));
}

static int stats_json(struct fmt_buf *b, const struct idx_stats *st)
{
    int rc = fmt_buf_printf(b,
                            "{\"articles\":%" PRIu64 ",\"segments\":%zu,\"deleted\":%" PRIu64
                            ",\"dead_ratio\":%.4f,\"duplicates_skipped\":%" PRIu64
                            ",\"terms\":%" PRIu64 ",\"generation\":%" PRIu64,
                            st->articles, st->segments, st->deleted, st->dead_ratio,
                            st->dups_skipped, st->terms, st->generation);

    rc |= fmt_buf_printf(b,
                         ",\"near_duplicates\":{\"articles\":%" PRIu64 ",\"clusters\":%" PRIu64
                         ",\"threshold\":%.2f}",
                         st->near_articles, st->near_clusters, st->near_threshold);

    rc |= fmt_buf_printf(b,
                         ",\"bytes\":{\"segments\":%" PRIu64 ",\"deletions\":%" PRIu64
                         ",\"manifest\":%" PRIu64 ",\"total\":%" PRIu64 "}",
                         st->bytes_segments, st->bytes_delmaps, st->bytes_manifest,
                         st->bytes_segments + st->bytes_delmaps + st->bytes_manifest);
    rc |= put_json_time(b, "first_timestamp", st->min_time);
    rc |= put_json_time(b, "last_timestamp", st->max_time);
    rc |= fmt_buf_printf(b, ",\"undated\":%" PRIu64 ",\"sources\":%zu,\"top_sources\":[",
                         st->undated, st->nsources);
    for (size_t i = 0; i < st->ntop; i++) {
        rc |= fmt_buf_puts(b, i ? ",{\"source\":" : "{\"source\":");
        rc |= fmt_json_put_string(b, st->top[i].name, strlen(st->top[i].name));
        rc |= fmt_buf_printf(b, ",\"count\":%" PRIu64 "}", st->top[i].count);
    }
    rc |= fmt_buf_puts(b, "]");
    rc |= put_json_time(b, "last_commit", st->last_commit);
    rc |= put_json_time(b, "last_rebuild", st->last_rebuild);
    rc |= fmt_buf_puts(b, ",\"analyzer\":{\"language\":");
    rc |= fmt_json_put_string(b, st->analyzer.language, strlen(st->analyzer.language));
    rc |= fmt_buf_printf(b, ",\"diacritics\":%s}}\n",
                         st->analyzer.fold_diacritics ? "true" : "false");
    return rc ? FMT_ENOMEM : FMT_OK;
}

static int stats_text(struct fmt_buf *b, const char *dir, const struct idx_stats *st)
{
    char t1[40], t2[40];
    const char *a1, *a2;
    int rc = 0;

    rc |= fmt_buf_printf(b, "index               %s\n", dir);
    rc |= fmt_buf_printf(b, "articles            %" PRIu64 "\n", st->articles);
    rc |= fmt_buf_printf(b, "segments            %zu\n", st->segments);
    rc |= fmt_buf_printf(b, "deleted             %" PRIu64 " (%.1f%% of stored articles)\n",
                         st->deleted, st->dead_ratio * 100);
    rc |= fmt_buf_printf(b, "duplicates skipped  %" PRIu64 "\n", st->dups_skipped);
    rc |= fmt_buf_printf(b,
                         "near-duplicates     %" PRIu64 " articles in %" PRIu64
                         " clusters (similarity >= %.2f)\n",
                         st->near_articles, st->near_clusters, st->near_threshold);
    rc |= fmt_buf_printf(b, "terms               %" PRIu64 " (summed over segments)\n",
                         st->terms);
    rc |= fmt_buf_printf(b,
                         "bytes               %" PRIu64 " segments, %" PRIu64
                         " deletion bitmaps, %" PRIu64 " manifest\n",
                         st->bytes_segments, st->bytes_delmaps, st->bytes_manifest);
    a1 = iso_or_null(st->min_time, t1, sizeof(t1));
    a2 = iso_or_null(st->max_time, t2, sizeof(t2));
    if (a1)
        rc |= fmt_buf_printf(b, "dates               %s to %s", a1, a2);
    else
        rc |= fmt_buf_puts(b, "dates               none");
    rc |= fmt_buf_printf(b, " (%" PRIu64 " undated)\n", st->undated);
    rc |= fmt_buf_printf(b, "sources             %zu\n", st->nsources);
    for (size_t i = 0; i < st->ntop; i++)
        rc |= fmt_buf_printf(b, "  %10" PRIu64 "  %s\n", st->top[i].count,
                             st->top[i].name[0] ? st->top[i].name : "(no source)");
    a1 = iso_or_null(st->last_commit, t1, sizeof(t1));
    a2 = iso_or_null(st->last_rebuild, t2, sizeof(t2));
    rc |= fmt_buf_printf(b, "last commit         %s\nlast rebuild        %s\n",
                         a1 ? a1 : "never", a2 ? a2 : "never");
    rc |= fmt_buf_printf(b, "analyzer            %s, diacritics %s\n", st->analyzer.language,
                         st->analyzer.fold_diacritics ? "folded" : "kept");
    return rc ? FMT_ENOMEM : FMT_OK;
}

static int cmd_stats(const char *dir, double near_threshold, int argc, char **argv)
{
    struct idx_stats st;
    struct fmt_err err = {0, ""};
    struct fmt_buf b;
    int json = argc > 1 && !strcmp(argv[1], "--json");
    int rc;

    if (argc > 1 + json)
        return usage("stats takes only --json");
    rc = idx_stats_collect(dir, &st, &err);
    if (rc == FMT_OK)
        rc = idx_stats_near_duplicates(dir, near_threshold, &st, &err);
    if (rc == FMT_ENOTFOUND)
        fmt_errorf(&err, rc, "no index at %s (run `newsidx add` first)", dir);
    if (rc != FMT_OK)
        return fail(rc, &err);
    fmt_buf_init(&b);
    rc = json ? stats_json(&b, &st) : stats_text(&b, dir, &st);
    if (rc == FMT_OK && (fwrite(b.p, 1, b.len, stdout) != b.len || fflush(stdout) != 0))
        rc = fmt_errorf(&err, FMT_EIO, "stdout: %s", strerror(errno));
    else if (rc != FMT_OK)
        fmt_errorf(&err, rc, "out of memory");
    fmt_buf_release(&b);
    return rc == FMT_OK ? EXIT_OK : fail(rc, &err);
}

/* ---- dups --------------------------------------------------------------------------- */

/* One member of a near-duplicate cluster: text "  0.94  ID  TITLE" or a JSON object. */
static int dups_member(struct fmt_buf *b, const struct fmt_article *a, double sim, int json,
                       int first)
{
    char ts[40];
    int rc = 0;

    if (!json) {
        rc |= fmt_buf_printf(b, "  %.2f  %s  %s\n", sim, a->id, a->title[0] ? a->title : "-");
        return rc ? FMT_ENOMEM : FMT_OK;
    }
    rc |= fmt_buf_puts(b, first ? "{\"id\":" : ",{\"id\":");
    rc |= fmt_json_put_string(b, a->id, strlen(a->id));
    rc |= fmt_buf_puts(b, ",\"title\":");
    rc |= fmt_json_put_string(b, a->title, strlen(a->title));
    rc |= fmt_buf_puts(b, ",\"source\":");
    rc |= fmt_json_put_string(b, a->source, strlen(a->source));
    rc |= fmt_buf_puts(b, ",\"timestamp\":");
    if (a->timestamp == FMT_NO_TIME) {
        rc |= fmt_buf_puts(b, "null");
    } else {
        fmt_time_format(a->timestamp, ts, sizeof(ts));
        rc |= fmt_buf_printf(b, "\"%s\"", ts);
    }
    rc |= fmt_buf_printf(b, ",\"similarity\":%.4f}", sim);
    return rc ? FMT_ENOMEM : FMT_OK;
}

static int dups_print(const struct fmt_snapshot *s, const struct idx_nd_clusters *c, int json,
                      double threshold, struct fmt_err *err)
{
    struct fmt_buf scratch, out;
    int rc = FMT_OK;

    fmt_buf_init(&scratch);
    fmt_buf_init(&out);
    for (size_t k = 0; k < c->nclusters && rc == FMT_OK; k++) {
        size_t from = c->start[k], to = c->start[k + 1];
        out.len = 0;
        if (json)
            rc = fmt_buf_printf(&out, "{\"cluster\":%zu,\"size\":%zu,\"articles\":[", k + 1,
                                to - from);
        else
            rc = fmt_buf_printf(&out, "%scluster %zu: %zu articles\n", k ? "\n" : "", k + 1,
                                to - from);
        for (size_t i = from; i < to && rc == FMT_OK; i++) {
            const struct idx_nd_member *m = &c->members[i];
            struct fmt_article a;
            rc = fmt_seg_doc(fmt_snapshot_seg(s, m->seg), m->doc, &scratch, &a, err);
            if (rc != FMT_OK)
                break;
            rc = dups_member(&out, &a, m->similarity, json, i == from);
            fmt_article_release(&a);
        }
        if (rc == FMT_OK && json)
            rc = fmt_buf_puts(&out, "]}\n") ? FMT_ENOMEM : FMT_OK;
        if (rc == FMT_ENOMEM)
            fmt_errorf(err, rc, "out of memory");
        else if (rc == FMT_OK && fwrite(out.p, 1, out.len, stdout) != out.len)
            rc = fmt_errorf(err, FMT_EIO, "stdout: %s", strerror(errno));
    }
    if (rc == FMT_OK && !json)
        printf("%s%zu clusters, %zu articles (similarity >= %.2f)\n", c->nclusters ? "\n" : "",
               c->nclusters, c->nmembers, threshold);
    if (rc == FMT_OK && fflush(stdout) != 0)
        rc = fmt_errorf(err, FMT_EIO, "stdout: %s", strerror(errno));
    fmt_buf_release(&scratch);
    fmt_buf_release(&out);
    return rc;
}

static int cmd_dups(const struct cli *cl, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"threshold", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    double threshold = cl->cfg->near_threshold;
    struct fmt_snapshot *s;
    struct idx_nd_clusters c;
    struct fmt_err err = {0, ""};
    int opt, rc, json = 0;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (opt == 't') {
            if (parse_double(optarg, &threshold) || threshold < IDX_ND_MIN_THRESHOLD ||
                threshold > 1)
                return usage("--threshold takes a similarity from 0.5 to 1");
        } else if (opt == 'j') {
            json = 1;
        } else {
            return usage(NULL);
        }
    }
    if (optind < argc)
        return usage("dups takes no arguments");
    rc = open_snapshot(cl->dir, &s, &err);
    if (rc != FMT_OK)
        return fail(rc, &err);
    rc = idx_neardup_clusters(s, threshold, &c, &err);
    if (rc == FMT_OK)
        rc = dups_print(s, &c, json, threshold, &err);
    idx_nd_clusters_release(&c);
    fmt_snapshot_close(s);
    return rc == FMT_OK ? EXIT_OK : fail(rc, &err);
}

static void report_problem(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "newsidx: %s\n", msg);
}

static int cmd_check(const char *dir, int argc)
{
    struct idx_check_summary sum;
    struct fmt_err err = {0, ""};
    int rc;

    if (argc > 1)
        return usage("check takes no arguments");
    rc = idx_check(dir, report_problem, NULL, &sum, &err);
    if (rc == FMT_ECORRUPT) {
        fprintf(stderr, "newsidx: %s: %zu problem%s found; see docs/OPERATIONS.md to recover\n",
                dir, sum.problems, sum.problems == 1 ? "" : "s");
        return EXIT_DAMAGED;
    }
    if (rc != FMT_OK)
        return fail(rc, &err);
    printf("ok: %zu segments, %" PRIu64 " articles\n", sum.segments, sum.articles);
    return EXIT_OK;
}

static int export_article(struct fmt_buf *out, const struct fmt_article *a)
{
    char ts[40];
    int rc = 0;

    rc |= fmt_buf_puts(out, "{\"id\":");
    rc |= fmt_json_put_string(out, a->id, strlen(a->id));
    rc |= fmt_buf_puts(out, ",\"title\":");
    rc |= fmt_json_put_string(out, a->title, strlen(a->title));
    rc |= fmt_buf_puts(out, ",\"source\":");
    rc |= fmt_json_put_string(out, a->source, strlen(a->source));
    rc |= fmt_buf_puts(out, ",\"timestamp\":");
    if (a->timestamp == FMT_NO_TIME) {
        rc |= fmt_buf_puts(out, "null");
    } else {
        fmt_time_format(a->timestamp, ts, sizeof(ts));
        rc |= fmt_buf_printf(out, "\"%s\"", ts);
    }
    rc |= fmt_buf_puts(out, ",\"url\":");
    rc |= fmt_json_put_string(out, a->url, strlen(a->url));
    rc |= fmt_buf_puts(out, ",\"body\":");
    rc |= fmt_json_put_string(out, a->body, strlen(a->body));
    rc |= fmt_buf_puts(out, "}\n");
    return rc ? FMT_ENOMEM : FMT_OK;
}

static int cmd_export(const char *dir, int argc)
{
    struct fmt_snapshot *s;
    struct fmt_err err = {0, ""};
    struct fmt_buf scratch, out;
    int rc;

    if (argc > 1)
        return usage("export takes no arguments");
    rc = open_snapshot(dir, &s, &err);
    if (rc != FMT_OK)
        return fail(rc, &err);
    fmt_buf_init(&scratch);
    fmt_buf_init(&out);
    for (size_t i = 0; i < fmt_snapshot_nsegs(s) && rc == FMT_OK; i++) {
        const struct fmt_seg *seg = fmt_snapshot_seg(s, i);
        for (uint32_t d = 0; d < fmt_seg_stats(seg)->ndocs && rc == FMT_OK; d++) {
            struct fmt_article a;
            if (fmt_snapshot_deleted(s, i, d))
                continue;
            rc = fmt_seg_doc(seg, d, &scratch, &a, &err);
            if (rc != FMT_OK)
                break;
            out.len = 0;
            rc = export_article(&out, &a);
            fmt_article_release(&a);
            if (rc == FMT_OK && fwrite(out.p, 1, out.len, stdout) != out.len)
                rc = fmt_errorf(&err, FMT_EIO, "stdout: %s", strerror(errno));
        }
    }
    fmt_buf_release(&scratch);
    fmt_buf_release(&out);
    fmt_snapshot_close(s);
    if (rc == FMT_OK && fflush(stdout) != 0)
        rc = fmt_errorf(&err, FMT_EIO, "stdout: %s", strerror(errno));
    return rc == FMT_OK ? EXIT_OK : fail(rc, &err);
}

/* ---- config ------------------------------------------------------------------------- */

/* "# FILE:LINE" or "# default" for key K. */
static int put_origin(struct fmt_buf *b, const struct fmt_config *cfg, enum fmt_config_key k)
{
    if (cfg->line[k])
        return fmt_buf_printf(b, "  # %s:%u\n", cfg->file, cfg->line[k]);
    return fmt_buf_puts(b, "  # default\n");
}

static int put_str(struct fmt_buf *b, const char *s)
{
    return fmt_json_put_string(b, s, strlen(s)); /* a JSON string is a YAML string */
}

static int config_text(struct fmt_buf *b, const struct cli *cl)
{
    const struct fmt_config *c = cl->cfg;
    const char *env = getenv("NEWSIDX_INDEX");
    int rc = 0;

    if (c->file[0])
        rc |= fmt_buf_printf(b, "# configuration file: %s\n", c->file);
    else
        rc |= fmt_buf_puts(b, "# no configuration file found: defaults\n");
    rc |= fmt_buf_puts(b, "index: ");
    rc |= put_str(b, cl->dir);
    if (cl->index_opt && *cl->index_opt)
        rc |= fmt_buf_puts(b, "  # --index\n");
    else if (env && *env)
        rc |= fmt_buf_puts(b, "  # $NEWSIDX_INDEX\n");
    else
        rc |= c->index ? put_origin(b, c, FMT_CFG_INDEX)
                       : fmt_buf_puts(b, "  # default ($XDG_DATA_HOME/newsidx)\n");
    rc |= fmt_buf_puts(b, "analyzer:\n  language: ");
    rc |= put_str(b, c->analyzer.language);
    rc |= put_origin(b, c, FMT_CFG_LANGUAGE);
    rc |= fmt_buf_printf(b, "  diacritics: %s", c->analyzer.fold_diacritics ? "true" : "false");
    rc |= put_origin(b, c, FMT_CFG_DIACRITICS);
    rc |= fmt_buf_printf(b, "ranking:\n  k1: %g", c->k1);
    rc |= put_origin(b, c, FMT_CFG_K1);
    rc |= fmt_buf_printf(b, "  b: %g", c->b);
    rc |= put_origin(b, c, FMT_CFG_B);
    rc |= fmt_buf_printf(b, "  title_weight: %g", c->title_weight);
    rc |= put_origin(b, c, FMT_CFG_TITLE_WEIGHT);
    rc |= fmt_buf_printf(b, "  body_weight: %g", c->body_weight);
    rc |= put_origin(b, c, FMT_CFG_BODY_WEIGHT);
    rc |= fmt_buf_printf(b, "memory_budget: %zu", c->memory_budget_mb);
    rc |= put_origin(b, c, FMT_CFG_MEMORY_BUDGET);
    rc |= fmt_buf_printf(b, "merge:\n  factor: %u", c->merge_factor);
    rc |= put_origin(b, c, FMT_CFG_MERGE_FACTOR);
    rc |= fmt_buf_printf(b, "near_duplicates:\n  threshold: %g", c->near_threshold);
    rc |= put_origin(b, c, FMT_CFG_NEAR_THRESHOLD);
    rc |= fmt_buf_printf(b, "  skip: %s", c->near_skip ? "true" : "false");
    rc |= put_origin(b, c, FMT_CFG_NEAR_SKIP);
    rc |= fmt_buf_puts(b, c->nsources ? "sources:" : "sources: []");
    rc |= put_origin(b, c, FMT_CFG_SOURCES);
    for (size_t i = 0; i < c->nsources; i++) {
        const struct fmt_config_source *s = &c->sources[i];
        rc |= fmt_buf_puts(b, "  - path: ");
        rc |= put_str(b, s->path);
        rc |= fmt_buf_printf(b, "  # %s:%u\n    format: %s\n", c->file, s->line, s->format);
        if (s->source) {
            rc |= fmt_buf_puts(b, "    source: ");
            rc |= put_str(b, s->source);
            rc |= fmt_buf_puts(b, "\n");
        }
        rc |= fmt_buf_printf(b, "    teasers: %s\n", s->teasers ? "true" : "false");
    }
    return rc ? FMT_ENOMEM : FMT_OK;
}

static int cmd_config(const struct cli *cl, int argc)
{
    struct fmt_buf b;
    struct fmt_err err = {0, ""};
    int rc;

    if (argc > 1)
        return usage("config takes no arguments");
    fmt_buf_init(&b);
    rc = config_text(&b, cl);
    if (rc != FMT_OK)
        fmt_errorf(&err, rc, "out of memory");
    else if (fwrite(b.p, 1, b.len, stdout) != b.len || fflush(stdout) != 0)
        rc = fmt_errorf(&err, FMT_EIO, "stdout: %s", strerror(errno));
    fmt_buf_release(&b);
    return rc == FMT_OK ? EXIT_OK : fail(rc, &err);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"index", required_argument, NULL, 'i'},
        {"config", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *index_opt = NULL, *config_opt = NULL;
    char dir[4096];
    struct fmt_err err = {0, ""};
    struct fmt_config cfg;
    struct cli cl;
    const char *cmd;
    int opt, rc;

#ifdef M_ARENA_MAX
    /* One malloc arena for all threads: the helper threads (segment builder, merges)
     * would each get an arena of their own, whose freed buffers glibc keeps; a 1M-article
     * add peaked at 324 MiB RSS that way, 287 MiB with one arena (budget 256 + 64), at
     * the same speed (41.1 s): the threads allocate rarely. */
    mallopt(M_ARENA_MAX, 1);
#endif

    /* global options stop at the command name */
    while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'i':
            index_opt = optarg;
            break;
        case 'C':
            config_opt = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_OK;
        default:
            return usage(NULL);
        }
    }
    if (optind >= argc)
        return usage("missing command");
    if (fmt_config_load(config_opt, &cfg, &err) != FMT_OK) {
        fprintf(stderr, "newsidx: %s\n", err.msg);
        fmt_config_release(&cfg);
        return EXIT_USAGE;
    }
    if (fmt_index_dir(index_opt, cfg.index, dir, sizeof(dir), &err) != FMT_OK) {
        fmt_config_release(&cfg);
        return usage(err.msg);
    }
    cl.dir = dir;
    cl.cfg = &cfg;
    cl.index_opt = index_opt;
    cmd = argv[optind];
    argc -= optind;
    argv += optind;
    if (!strcmp(cmd, "add"))
        rc = ingest(&cl, argc, argv, 0);
    else if (!strcmp(cmd, "rebuild"))
        rc = ingest(&cl, argc, argv, 1);
    else if (!strcmp(cmd, "compact"))
        rc = cmd_compact(&cl, argc, argv);
    else if (!strcmp(cmd, "rm"))
        rc = cmd_rm(dir, argc, argv);
    else if (!strcmp(cmd, "stats"))
        rc = cmd_stats(dir, cfg.near_threshold, argc, argv);
    else if (!strcmp(cmd, "dups"))
        rc = cmd_dups(&cl, argc, argv);
    else if (!strcmp(cmd, "check"))
        rc = cmd_check(dir, argc);
    else if (!strcmp(cmd, "export"))
        rc = cmd_export(dir, argc);
    else if (!strcmp(cmd, "config"))
        rc = cmd_config(&cl, argc);
    else {
        fprintf(stderr, "newsidx: unknown command \"%s\"\n", cmd);
        rc = usage(NULL);
    }
    fmt_config_release(&cfg);
    return rc;
}
