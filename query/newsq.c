/* newsq.c - the newsq command: search a newsidx index and print ranked hits.
 * Option parsing, index location, exit codes and printing live here; the work is done by
 * parse.h (query text -> tree), plan.h (tree -> iterators, BM25F, top-k), snippet.h and
 * output.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analyzer.h"
#include "arena.h"
#include "buf.h"
#include "config.h"
#include "err.h"
#include "group.h"
#include "output.h"
#include "parse.h"
#include "paths.h"
#include "plan.h"
#include "snapshot.h"
#include "snippet.h"
#include "topk.h"

enum {
    EXIT_HITS = 0,
    EXIT_NOHITS = 1,
    EXIT_USAGE = 2,
    EXIT_INDEX = 3,
    EXIT_IOERR = 74,
};

/* Release builds leave the index mappings to the kernel: exit tears the whole address
 * space down at once, about 0.3 ms sooner than fmt_snapshot_close's munmap per segment
 * (15 segments on a 1M-article index). Sanitized builds release everything, so that
 * LeakSanitizer still checks the query path. */
#if defined(__SANITIZE_ADDRESS__)
#define NEWSQ_TEARDOWN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NEWSQ_TEARDOWN 1
#endif
#endif
#ifndef NEWSQ_TEARDOWN
#define NEWSQ_TEARDOWN 0
#endif

#define MAX_N 1000000u       /* largest -n */
#define MAX_OFFSET 10000000u /* largest --offset */

static const char usage_text[] =
    "usage: newsq [OPTIONS] QUERY...\n"
    "Search a newsidx index and print the best matching articles, ranked by BM25F.\n"
    "\n"
    "Query (words are ANDed; see docs/QUERY.md):\n"
    "  nato ukraine              all words        \"peace deal\"    a phrase\n"
    "  nato OR otan, -russia, NOT x, ( )         sanction*       a prefix\n"
    "  title:nato body:x url:x source:\"BBC News\"   date:2025-02 date:2025-01..2025-02\n"
    "\n"
    "Options:\n"
    "  --index DIR        the index (default: $NEWSIDX_INDEX, else index: in the\n"
    "                     configuration, else $XDG_DATA_HOME/newsidx, else\n"
    "                     ~/.local/share/newsidx)\n"
    "  --config FILE      configuration (default: $NEWSIDX_CONFIG, ./newsidx.yaml,\n"
    "                     $XDG_CONFIG_HOME/newsidx/config.yaml): index path and ranking\n"
    "                     parameters (k1, b, title and body weights)\n"
    "  -n, --limit N      print at most N hits (default 10)\n"
    "  --offset K         skip the first K hits (paging)\n"
    "  --json             JSON Lines, one object per hit (id, rank, score, title, source,\n"
    "                     timestamp, url, snippet, matches); same as --format json\n"
    "  --format F         text (default), json, ids (one id per line) or tsv\n"
    "  --any              words are ORed instead of ANDed\n"
    "  --since D          only articles at or after D: YYYY, YYYY-MM, YYYY-MM-DD, ISO 8601,\n"
    "                     or relative Nh, Nd, Nw, Nm, Ny (ago); undated articles never match\n"
    "  --until D          only articles up to the end of D (same forms)\n"
    "  --source NAME      only articles from source NAME (whole name, any case);\n"
    "                     repeat for several sources\n"
    "  --sort ORDER       relevance (default), date (newest first) or -date (oldest\n"
    "                     first); undated articles come last; ties by index order\n"
    "  --per-source N     at most N hits from any one source (collapse); off by default\n"
    "  --recency H        multiply scores by 2^(-age/H), H a half-life such as 30d, 12h,\n"
    "                     2w (fresh news first; undated articles score 0); off by default\n"
    "  --facets LIST      also count the matches per source and/or month: source,month\n"
    "  --stats            print the number of matches and the time taken (text: to\n"
    "                     stderr; --json: a final {\"stats\":...} line)\n"
    "  --snippet-width N  snippet size in bytes (default 160; 0: no snippet)\n"
    "  --count            print only the number of matching articles\n"
    "  --explain          show each term's idf, tf per field, length norm and its share\n"
    "                     of the score (the shares add up to the score)\n"
    "  --color WHEN       highlight matches: auto (default: when stdout is a terminal and\n"
    "                     NO_COLOR is unset), always or never\n"
    "  -h, --help         print this help and exit\n"
    "\n"
    "Exit status:\n"
    "  0  at least one hit printed (--count: at least one match)\n"
    "  1  nothing found (or --offset past the last hit)\n"
    "  2  usage or query error (the message points at the column)\n"
    "  3  no index at the location (run newsidx add first), or the index is damaged or\n"
    "     unreadable\n"
    " 74  writing the output failed\n";

struct opts {
    const char *index;
    const char *config;
    size_t n;
    size_t offset;
    enum q_out_format format;
    int any;
    const char *since, *until;
    const char **sources;
    size_t nsources;
    enum q_sort sort;
    int count;
    int explain;
    int color; /* -1 auto, 0 never, 1 always */
    size_t per_source; /* 0: off */
    const char *recency; /* half-life, or NULL */
    unsigned facets;   /* Q_FACET_* */
    int stats;
    size_t snippet_width;
    char *query;
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("newsq: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'newsq --help' for more information.\n", stderr);
    return EXIT_USAGE;
}

static int parse_size(const char *s, size_t max, size_t *out)
{
    char *end;
    unsigned long long v;
    if (!s[0] || s[0] == '-' || s[0] == '+')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = (size_t)v;
    return 0;
}

/* A --recency half-life "30d": seconds, or -1 when malformed. Units h, d, w, m (30 days),
 * y (365 days), 1 to 6 digits. */
static double parse_duration(const char *s)
{
    size_t n = strspn(s, "0123456789");
    double unit;
    if (n == 0 || n > 6 || !s[n] || s[n + 1])
        return -1;
    switch (s[n] | 0x20) {
    case 'h':
        unit = 3600;
        break;
    case 'd':
        unit = 86400;
        break;
    case 'w':
        unit = 7 * 86400;
        break;
    case 'm':
        unit = 30 * 86400;
        break;
    case 'y':
        unit = 365 * 86400;
        break;
    default:
        return -1;
    }
    return strtod(s, NULL) * unit;
}

/* Join ARGV[0..argc) with single spaces into a malloc'd string. */
static char *join_args(char **argv, int argc)
{
    struct fmt_buf b;
    fmt_buf_init(&b);
    for (int i = 0; i < argc; i++)
        if ((i > 0 && fmt_buf_putc(&b, ' ') != FMT_OK) || fmt_buf_puts(&b, argv[i]) != FMT_OK ||
            fmt_buf_terminate(&b) != FMT_OK) {
            fmt_buf_release(&b);
            return NULL;
        }
    if (fmt_buf_terminate(&b) != FMT_OK)
        return NULL;
    return (char *)fmt_buf_steal(&b);
}

/* One option: its long name, whether it takes a value, and what it sets. */
enum opt_id { O_INDEX, O_LIMIT, O_OFFSET, O_JSON, O_FORMAT, O_ANY, O_SINCE, O_UNTIL,
              O_SOURCE, O_SORT, O_COUNT, O_EXPLAIN, O_COLOR, O_HELP, O_PER_SOURCE, O_RECENCY,
              O_FACETS, O_STATS, O_SNIPPET_WIDTH, O_CONFIG };

struct opt_def {
    const char *name;
    int has_arg;
    enum opt_id id;
};

static const struct opt_def opt_defs[] = {
    {"index", 1, O_INDEX},   {"limit", 1, O_LIMIT},     {"offset", 1, O_OFFSET},
    {"json", 0, O_JSON},     {"format", 1, O_FORMAT},   {"any", 0, O_ANY},
    {"since", 1, O_SINCE},   {"until", 1, O_UNTIL},     {"source", 1, O_SOURCE},
    {"sort", 1, O_SORT},     {"count", 0, O_COUNT},     {"explain", 0, O_EXPLAIN},
    {"color", 1, O_COLOR},   {"colour", 1, O_COLOR},    {"help", 0, O_HELP},
    {"per-source", 1, O_PER_SOURCE}, {"recency", 1, O_RECENCY}, {"facets", 1, O_FACETS},
    {"stats", 0, O_STATS},   {"snippet-width", 1, O_SNIPPET_WIDTH}, {"config", 1, O_CONFIG},
};

/* Apply option ID with value ARG. Returns -1 to go on, else an exit status. */
static int apply_opt(struct opts *o, enum opt_id id, const char *arg)
{
    switch (id) {
    case O_INDEX:
        o->index = arg;
        break;
    case O_LIMIT:
        if (parse_size(arg, MAX_N, &o->n) != 0 || o->n == 0)
            return usage_error("-n wants a number from 1 to 1000000, not \"%s\"", arg);
        break;
    case O_OFFSET:
        if (parse_size(arg, MAX_OFFSET, &o->offset) != 0)
            return usage_error("--offset wants a number from 0 to 10000000, not \"%s\"", arg);
        break;
    case O_JSON:
        o->format = Q_OUT_JSON;
        break;
    case O_FORMAT:
        if (!strcmp(arg, "text"))
            o->format = Q_OUT_TEXT;
        else if (!strcmp(arg, "json"))
            o->format = Q_OUT_JSON;
        else if (!strcmp(arg, "ids"))
            o->format = Q_OUT_IDS;
        else if (!strcmp(arg, "tsv"))
            o->format = Q_OUT_TSV;
        else
            return usage_error("--format is text, json, ids or tsv, not \"%s\"", arg);
        break;
    case O_ANY:
        o->any = 1;
        break;
    case O_SINCE:
        o->since = arg;
        break;
    case O_UNTIL:
        o->until = arg;
        break;
    case O_SOURCE: {
        const char **s = realloc(o->sources, (o->nsources + 1) * sizeof(*s));
        if (!s)
            return usage_error("%s", "out of memory");
        o->sources = s;
        o->sources[o->nsources++] = arg;
        break;
    }
    case O_SORT:
        if (!strcmp(arg, "relevance"))
            o->sort = Q_SORT_RELEVANCE;
        else if (!strcmp(arg, "date"))
            o->sort = Q_SORT_DATE;
        else if (!strcmp(arg, "-date"))
            o->sort = Q_SORT_DATE_ASC;
        else
            return usage_error("--sort is relevance, date or -date, not \"%s\"", arg);
        break;
    case O_COUNT:
        o->count = 1;
        break;
    case O_EXPLAIN:
        o->explain = 1;
        break;
    case O_COLOR:
        if (!strcmp(arg, "auto"))
            o->color = -1;
        else if (!strcmp(arg, "always"))
            o->color = 1;
        else if (!strcmp(arg, "never"))
            o->color = 0;
        else
            return usage_error("--color is auto, always or never, not \"%s\"", arg);
        break;
    case O_HELP:
        fputs(usage_text, stdout);
        return EXIT_HITS;
    case O_PER_SOURCE:
        if (parse_size(arg, MAX_N, &o->per_source) != 0 || o->per_source == 0)
            return usage_error("--per-source wants a number from 1 to 1000000, not \"%s\"",
                               arg);
        break;
    case O_RECENCY:
        if (parse_duration(arg) <= 0)
            return usage_error("--recency wants a half-life such as 30d, 12h or 2w "
                               "(units h, d, w, m, y), not \"%s\"",
                               arg);
        o->recency = arg;
        break;
    case O_FACETS: {
        struct fmt_err err;
        if (q_facets_parse(arg, &o->facets, &err) != FMT_OK)
            return usage_error("--facets: %s", err.msg);
        break;
    }
    case O_STATS:
        o->stats = 1;
        break;
    case O_CONFIG:
        o->config = arg;
        break;
    case O_SNIPPET_WIDTH:
        if (parse_size(arg, 100000, &o->snippet_width) != 0)
            return usage_error("--snippet-width wants a number from 0 to 100000, not \"%s\"",
                               arg);
        break;
    }
    return -1;
}

/* Options may come anywhere among the query words ("newsq nato --json"). Only known
 * option names (--name, --name=value, -n N, -nN with digits, -h) are options, so
 * "-russia" and "-nato" stay query words; after "--" everything is query. Returns -1 to go on, else an exit status. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
    char **words = calloc((size_t)argc + 1, sizeof(*words));
    int nwords = 0, rc = -1, only_words = 0;
    if (!words)
        return usage_error("%s", "out of memory");
    for (int i = 1; i < argc && rc < 0; i++) {
        const char *a = argv[i], *val = NULL;
        const struct opt_def *d = NULL;
        if (only_words || a[0] != '-' || a[1] == '\0') {
            words[nwords++] = argv[i];
            continue;
        }
        if (!strcmp(a, "--")) {
            only_words = 1;
            continue;
        }
        if (a[1] == '-') {
            size_t nlen = strcspn(a + 2, "=");
            for (size_t k = 0; k < sizeof(opt_defs) / sizeof(opt_defs[0]); k++)
                if (strlen(opt_defs[k].name) == nlen && !strncmp(opt_defs[k].name, a + 2, nlen))
                    d = &opt_defs[k];
            if (!d) {
                rc = usage_error("unknown option %s", a);
                break;
            }
            if (a[2 + nlen] == '=') {
                if (!d->has_arg) {
                    rc = usage_error("option --%s takes no value", d->name);
                    break;
                }
                val = a + 3 + nlen;
            }
        } else if (!strcmp(a, "-h")) {
            d = &opt_defs[14]; /* help */
        } else if (a[1] == 'n' && strspn(a + 2, "0123456789") == strlen(a + 2)) {
            d = &opt_defs[1]; /* -n N or -nN; "-nato" is a negated word */
            if (a[2])
                val = a + 2;
        } else {
            words[nwords++] = argv[i]; /* "-russia": a negated query word */
            continue;
        }
        if (d->has_arg && !val) {
            if (i + 1 >= argc) {
                rc = usage_error("option %s needs a value", a);
                break;
            }
            val = argv[++i];
        }
        rc = apply_opt(o, d->id, val);
    }
    if (rc < 0 && nwords == 0)
        rc = usage_error("%s", "no query given");
    if (rc < 0 && !(o->query = join_args(words, nwords)))
        rc = usage_error("%s", "out of memory");
    free(words);
    return rc;
}

/* --index, else $NEWSIDX_INDEX, else $XDG_DATA_HOME/newsidx, else ~/.local/share/newsidx.
 * Writes into BUF; returns NULL when no location can be made. */
static const char *index_dir(const struct opts *o, const struct fmt_config *cfg, char *buf,
                             size_t cap)
{
    return fmt_index_dir(o->index, cfg->index, buf, cap, NULL) == FMT_OK ? buf : NULL;
}

/* Print "newsq: MSG", then the query and a caret under 1-based byte column COL (0: no
 * caret). The caret counts characters, not bytes, so it lines up under UTF-8 text. */
static void query_error(const char *query, const char *msg, size_t col)
{
    fprintf(stderr, "newsq: %s\n", msg);
    if (col == 0)
        return;
    fprintf(stderr, "    %s\n    ", query);
    for (size_t i = 0; i + 1 < col && query[i]; i++)
        if (((unsigned char)query[i] & 0xC0) != 0x80)
            fputc(query[i] == '\t' ? '\t' : ' ', stderr);
    fputs("^\n", stderr);
}

/* Collects the distinct labels of the terms on a hit (and the explain rows). */
struct hit_terms {
    struct q_explain_term ex[256];
    size_t nex;
    const char *labels[256];
    size_t nlabels;
};

static void on_term(void *ctx, const struct q_explain_term *t)
{
    struct hit_terms *h = ctx;
    if (h->nex < sizeof(h->ex) / sizeof(h->ex[0]))
        h->ex[h->nex++] = *t;
    if (!t->w || !t->w->label)
        return;
    for (size_t i = 0; i < h->nlabels; i++)
        if (!strcmp(h->labels[i], t->w->label))
            return;
    if (h->nlabels < sizeof(h->labels) / sizeof(h->labels[0]))
        h->labels[h->nlabels++] = t->w->label;
}

struct session {
    const struct opts *o;
    struct fmt_snapshot *snap;
    struct fmt_analyzer *an;
    struct q_plan *plan;
    struct hit_terms *ht; /* per-hit scratch (large, so on the heap) */
    int color;
    struct timespec t0;   /* start, for --stats */
};

/* Fetch, snippet and print the hit H of rank RANK into OUT. */
static int print_hit(struct session *s, const struct q_hit *h, size_t rank, struct fmt_buf *out,
                     struct fmt_buf *scratch, struct fmt_err *err)
{
    struct hit_terms *ht = s->ht;
    struct fmt_article a;
    struct fmt_buf snip, title;
    struct q_snip_opts so;
    struct q_out_hit oh;
    size_t seg, nsnip;
    uint32_t doc;
    double score;
    int rc;
    if (q_plan_locate(s->snap, h->doc, &seg, &doc) != FMT_OK)
        return fmt_errorf(err, FMT_ECORRUPT, "hit %llu is outside the index",
                          (unsigned long long)h->doc);
    memset(ht, 0, sizeof(*ht));
    /* the per-term breakdown is needed only for --explain and JSON's "matches"; it
     * re-binds the segment's iterators, so text, ids and tsv output skip it */
    if (s->o->explain || s->o->format == Q_OUT_JSON) {
        rc = q_plan_explain(s->plan, h->doc, on_term, ht, &score, err);
        if (rc != FMT_OK)
            return rc == FMT_ENOTFOUND ? fmt_errorf(err, FMT_ECORRUPT, "hit vanished") : rc;
    }
    rc = fmt_seg_doc(fmt_snapshot_seg(s->snap, seg), doc, scratch, &a, err);
    if (rc != FMT_OK)
        return rc;
    fmt_buf_init(&snip);
    fmt_buf_init(&title);
    q_snip_opts_default(&so);
    so.width = s->o->snippet_width;
    if (s->color && s->o->format == Q_OUT_TEXT) {
        so.hl_on = "\033[1m";
        so.hl_off = "\033[0m";
    }
    const struct q_snip_term *st = q_plan_snip_terms(s->plan, &nsnip);
    if ((s->o->format == Q_OUT_TEXT || s->o->format == Q_OUT_JSON) && so.width > 0)
        rc = q_snippet(s->an, a.body, strlen(a.body), st, nsnip, &so, &snip, err);
    if (rc == FMT_OK && s->o->format == Q_OUT_TEXT && s->color) {
        so.width = strlen(a.title) + 1; /* the whole title, highlighted */
        rc = q_snippet(s->an, a.title, strlen(a.title), st, nsnip, &so, &title, err);
    }
    if (rc == FMT_OK) {
        memset(&oh, 0, sizeof(oh));
        oh.rank = rank;
        oh.score = h->score;
        oh.decay = q_plan_decay(s->plan, a.timestamp);
        oh.a = &a;
        oh.title = title.len ? (const char *)title.p : NULL;
        oh.title_len = title.len;
        oh.snippet = (const char *)snip.p;
        oh.snippet_len = snip.len;
        oh.matches = ht->labels;
        oh.nmatches = ht->nlabels;
        oh.ex = s->o->explain ? ht->ex : NULL;
        oh.nex = ht->nex;
        rc = q_output_hit(out, s->o->format, &oh);
        if (rc != FMT_OK)
            rc = fmt_errorf(err, rc, "out of memory formatting a hit");
    }
    fmt_buf_release(&title);
    fmt_buf_release(&snip);
    fmt_article_release(&a);
    return rc;
}

static int write_out(struct fmt_buf *out)
{
    if (out->len && fwrite(out->p, 1, out->len, stdout) != out->len)
        return -1;
    out->len = 0;
    return 0;
}

/* What the match callback feeds: the --per-source collapse and the --facets counts. */
struct grouping {
    struct q_collapse *collapse; /* NULL: off */
    struct q_facets *facets;     /* NULL: off */
};

static int on_match(void *ctx, const struct fmt_seg *seg, uint32_t doc, const struct q_hit *h,
                    struct fmt_err *err)
{
    struct grouping *g = ctx;
    size_t len;
    const char *src = fmt_seg_source_name(seg, fmt_seg_source_id(seg, doc), &len);
    int rc = FMT_OK;
    if (g->collapse)
        rc = q_collapse_push(g->collapse, src, len, h, err);
    if (rc == FMT_OK && g->facets)
        rc = q_facets_add(g->facets, src, len, h->ts, err);
    return rc;
}

static double elapsed_ms(const struct session *s)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - s->t0.tv_sec) * 1e3 + (double)(t.tv_nsec - s->t0.tv_nsec) / 1e6;
}

/* The --facets block and the --stats summary, after the hits. */
static int print_tail(struct session *s, const struct q_facets *facets, uint64_t count,
                      size_t shown, struct fmt_buf *out)
{
    const struct opts *o = s->o;
    int json = o->format == Q_OUT_JSON, rc = FMT_OK;
    if (facets && o->format != Q_OUT_IDS)
        rc = q_facets_format(facets, json, out);
    if (rc == FMT_OK && o->stats && json)
        rc = fmt_buf_printf(out, "{\"stats\":{\"total\":%llu,\"shown\":%zu,\"offset\":%zu,"
                                 "\"elapsed_ms\":%.3f}}\n",
                            (unsigned long long)count, shown, o->offset, elapsed_ms(s));
    else if (rc == FMT_OK && o->stats)
        fprintf(stderr, "newsq: %llu matches, %zu shown, %.3f ms\n", (unsigned long long)count,
                shown, elapsed_ms(s));
    return rc;
}

static int run_search(struct session *s, struct fmt_err *err)
{
    const struct opts *o = s->o;
    struct q_topk topk = {NULL, 0, 0, Q_SORT_RELEVANCE};
    struct q_collapse collapse;
    struct q_facets facets;
    struct grouping g = {NULL, NULL};
    struct q_run run = {NULL, on_match, &g, 0, 0};
    struct fmt_buf out, scratch;
    const struct q_hit *hits = NULL;
    size_t nhits = 0, shown = 0;
    uint64_t count = 0;
    int rc = FMT_OK, status = EXIT_NOHITS;
    fmt_buf_init(&out);
    fmt_buf_init(&scratch);
    q_facets_init(&facets, o->facets);
    memset(&collapse, 0, sizeof(collapse));
    if (o->facets)
        g.facets = &facets;
    if (!o->count) {
        s->ht = calloc(1, sizeof(*s->ht));
        if (!s->ht)
            rc = fmt_errorf(err, FMT_ENOMEM, "out of memory");
        if (rc == FMT_OK && o->per_source) {
            rc = q_collapse_init(&collapse, o->per_source, o->sort, err);
            g.collapse = &collapse;
            run.score = 1;
        } else if (rc == FMT_OK) {
            rc = q_topk_init(&topk, o->offset + o->n, o->sort, err);
            run.topk = &topk;
        }
    }
    if (!g.collapse && !g.facets)
        run.fn = NULL;
    /* the exact count is printed only by --count and --stats */
    run.prune = !run.fn && !o->stats && !o->count;
    if (rc == FMT_OK)
        rc = q_plan_run(s->plan, &run, &count, err);
    if (rc == FMT_OK && g.collapse)
        rc = q_collapse_finish(&collapse, o->offset + o->n, &hits, &nhits, err);
    else if (rc == FMT_OK && run.topk) {
        hits = q_topk_finish(&topk);
        nhits = topk.n;
    }
    if (rc != FMT_OK) {
        fprintf(stderr, "newsq: %s\n", err->msg);
        status = EXIT_INDEX;
        goto out;
    }
    if (o->count) {
        fmt_buf_printf(&out, "%llu\n", (unsigned long long)count);
        status = count ? EXIT_HITS : EXIT_NOHITS;
    }
    for (size_t i = o->offset; i < nhits; i++) {
        rc = print_hit(s, &hits[i], i + 1, &out, &scratch, err);
        if (rc != FMT_OK) {
            fprintf(stderr, "newsq: %s\n", err->msg);
            status = EXIT_INDEX;
            goto out;
        }
        if (write_out(&out) != 0)
            goto io_error;
        shown++;
        status = EXIT_HITS;
    }
    if (print_tail(s, g.facets, count, shown, &out) != FMT_OK) {
        fputs("newsq: out of memory\n", stderr);
        status = EXIT_INDEX;
        goto out;
    }
    if (write_out(&out) != 0)
        goto io_error;
    goto out;
io_error:
    fprintf(stderr, "newsq: writing output: %s\n", strerror(errno));
    status = EXIT_IOERR;
out:
    fmt_buf_release(&out);
    fmt_buf_release(&scratch);
    q_topk_release(&topk);
    q_collapse_release(&collapse);
    q_facets_release(&facets);
    return status;
}

/* Parse and plan the query; on failure print the error and return the exit status. */
static int prepare(struct session *s, struct q_arena *mem, struct q_plan_opts *po,
                   struct fmt_err *err)
{
    const struct opts *o = s->o;
    struct q_parse_opts qo = {o->any, (int64_t)time(NULL)};
    po->now = qo.now;
    po->half_life = o->recency ? parse_duration(o->recency) : 0.0;
    struct q_node *root = NULL;
    size_t col = 0;
    int rc;
    if (o->since && q_date_parse(o->since, qo.now, 0, &po->since, err) != FMT_OK)
        return usage_error("--since: %s", err->msg);
    if (o->until && q_date_parse(o->until, qo.now, 1, &po->until, err) != FMT_OK)
        return usage_error("--until: %s", err->msg);
    po->sources = o->sources;
    po->nsources = o->nsources;
    rc = q_parse(o->query, &qo, mem, &root, &col, err);
    if (rc == FMT_OK)
        rc = q_plan_new(&s->plan, root, s->snap, s->an, po, &col, err);
    if (rc == FMT_EINVAL) {
        query_error(o->query, err->msg, col);
        return EXIT_USAGE;
    }
    if (rc != FMT_OK) {
        fprintf(stderr, "newsq: %s\n", err->msg);
        return EXIT_INDEX;
    }
    return -1;
}

int main(int argc, char **argv)
{
    struct opts o = {NULL, NULL, 10, 0, Q_OUT_TEXT, 0, NULL, NULL, NULL, 0, Q_SORT_RELEVANCE,
                     0, 0, -1, 0, NULL, 0, 0, 160, NULL};
    struct session s = {&o, NULL, NULL, NULL, NULL, 0, {0, 0}};
    struct q_plan_opts po;
    struct q_arena mem;
    struct fmt_err err = {0, ""};
    struct fmt_config cfg;
    char dirbuf[4096];
    const char *dir;
    int status, rc;
    fmt_config_init(&cfg);
    q_arena_init(&mem);
    q_plan_opts_default(&po);
    clock_gettime(CLOCK_MONOTONIC, &s.t0);
    status = parse_opts(argc, argv, &o);
    if (status >= 0)
        goto out;
    if (fmt_config_load(o.config, &cfg, &err) != FMT_OK) {
        fprintf(stderr, "newsq: %s\n", err.msg);
        status = EXIT_USAGE;
        goto out;
    }
    po.bm25.k1 = cfg.k1;
    po.bm25.b = cfg.b;
    po.bm25.w[0] = cfg.title_weight;
    po.bm25.w[1] = cfg.body_weight;
    dir = index_dir(&o, &cfg, dirbuf, sizeof(dirbuf));
    if (!dir) {
        status = usage_error("%s", "no index location: use --index DIR or set NEWSIDX_INDEX");
        goto out;
    }
    rc = fmt_snapshot_open(&s.snap, dir, &err);
    if (rc == FMT_ENOTFOUND) {
        fprintf(stderr, "newsq: no index at %s (run newsidx add first)\n", dir);
        status = EXIT_INDEX;
        goto out;
    }
    if (rc != FMT_OK) {
        fprintf(stderr, "newsq: %s\n", err.msg);
        status = EXIT_INDEX;
        goto out;
    }
    rc = fmt_analyzer_new(&s.an, fmt_snapshot_analyzer(s.snap), &err);
    if (rc != FMT_OK) {
        fprintf(stderr, "newsq: index analyzer: %s\n", err.msg);
        status = EXIT_INDEX;
        goto out;
    }
    if (o.color < 0) {
        const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
        s.color = isatty(STDOUT_FILENO) && !(nc && nc[0]) && !(term && !strcmp(term, "dumb"));
    } else {
        s.color = o.color;
    }
    status = prepare(&s, &mem, &po, &err);
    if (status < 0)
        status = run_search(&s, &err);
    if (status != EXIT_IOERR && (fflush(stdout) != 0 || ferror(stdout))) {
        fprintf(stderr, "newsq: writing output: %s\n", strerror(errno));
        status = EXIT_IOERR;
    }
out:
    if (!NEWSQ_TEARDOWN) {
        fflush(stdout); /* a write error was already reported above */
        _exit(status);
    }
    free(s.ht);
    q_plan_free(s.plan);
    q_arena_release(&mem);
    fmt_analyzer_free(s.an);
    fmt_snapshot_close(s.snap);
    free(o.sources);
    free(o.query);
    fmt_config_release(&cfg);
    return status;
}
