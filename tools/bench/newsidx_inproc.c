/* newsidx_inproc.c - in-process query latency of the newsidx query library, the counterpart
 * of `fts5_bench inproc` (tools/bench/run.sh).
 *
 *   newsidx_inproc [--no-prune] INDEX QUERIES ITER
 *
 * Opens the index snapshot and analyzer once, then for every query of QUERIES (one warm-up
 * pass, then ITER passes over the whole list) times what newsq does per query minus output:
 * q_parse, q_plan_new, q_plan_run into a top-10 heap with dynamic pruning (as newsq without
 * --count/--stats; --no-prune: every match scored), q_topk_finish and freeing. The match
 * counts are taken in the untimed warm-up pass (q_plan_search, exact). Prints, tab-separated:
 *   Q <n> <matches>                        matches of query n (1-based)
 *   T <type> <p50_us> <p95_us> <p99_us> <samples>   per query type
 * Exit status: 0; 2 usage or a query the library rejects; 3 the index cannot be read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyzer.h"
#include "arena.h"
#include "benchutil.h"
#include "err.h"
#include "parse.h"
#include "plan.h"
#include "snapshot.h"
#include "topk.h"

struct ctx {
    const struct fmt_snapshot *snap;
    struct fmt_analyzer *an;
    struct q_plan_opts popts;
    struct q_parse_opts qopts;
};

/* Run TEXT once, top 10; *MATCHES gets the match count (exact unless PRUNE). FMT_OK or an
 * error code (message in ERR). */
static int run_query(struct ctx *cx, const char *text, int prune, uint64_t *matches,
                     struct fmt_err *err)
{
    struct q_arena mem;
    struct q_node *root = NULL;
    struct q_plan *plan = NULL;
    struct q_topk topk;
    size_t col = 0;
    int rc;

    q_arena_init(&mem);
    rc = q_parse(text, &cx->qopts, &mem, &root, &col, err);
    if (rc != FMT_OK)
        goto out_arena;
    rc = q_plan_new(&plan, root, cx->snap, cx->an, &cx->popts, &col, err);
    if (rc != FMT_OK)
        goto out_arena;
    rc = q_topk_init(&topk, 10, Q_SORT_RELEVANCE, err);
    if (rc != FMT_OK)
        goto out_plan;
    {
        struct q_run run = {&topk, NULL, NULL, 0, prune};
        rc = q_plan_run(plan, &run, matches, err);
    }
    if (rc == FMT_OK) {
        const struct q_hit *h = q_topk_finish(&topk);
        volatile uint64_t first = topk.n ? h[0].doc : 0;
        (void)first;
    }
    q_topk_release(&topk);
out_plan:
    q_plan_free(plan);
out_arena:
    q_arena_release(&mem);
    return rc;
}

int main(int argc, char **argv)
{
    struct fmt_snapshot *snap = NULL;
    struct bench_queries qs;
    struct bench_samples *per = NULL;
    struct fmt_err err;
    struct ctx cx;
    char *end;
    long iter, r;
    size_t i, t;
    int status = 0, rc, prune = 1;

    if (argc == 5 && !strcmp(argv[1], "--no-prune")) {
        prune = 0;
        argc--;
        argv++;
    }
    if (argc != 4) {
        fputs("usage: newsidx_inproc [--no-prune] INDEX QUERIES ITER\n", stderr);
        return 2;
    }
    iter = strtol(argv[3], &end, 10);
    if (*end || iter < 1) {
        fputs("newsidx_inproc: ITER must be a positive number\n", stderr);
        return 2;
    }
    if (bench_queries_load(&qs, argv[2]) != 0)
        return 2;
    memset(&cx, 0, sizeof(cx));
    rc = fmt_snapshot_open(&snap, argv[1], &err);
    if (rc != FMT_OK) {
        fprintf(stderr, "newsidx_inproc: %s: %s\n", argv[1], err.msg);
        status = 3;
        goto out;
    }
    cx.snap = snap;
    rc = fmt_analyzer_new(&cx.an, fmt_snapshot_analyzer(snap), &err);
    if (rc != FMT_OK) {
        fprintf(stderr, "newsidx_inproc: analyzer: %s\n", err.msg);
        status = 3;
        goto out;
    }
    q_plan_opts_default(&cx.popts);
    cx.qopts.default_or = 0;
    cx.qopts.now = (int64_t)time(NULL);
    per = calloc(qs.ntypes, sizeof(*per));
    if (!per) {
        fputs("newsidx_inproc: out of memory\n", stderr);
        status = 3;
        goto out;
    }
    for (i = 0; i < qs.n; i++) { /* warm-up and match counts */
        uint64_t n = 0;
        rc = run_query(&cx, qs.q[i].text, 0, &n, &err);
        if (rc != FMT_OK) {
            fprintf(stderr, "newsidx_inproc: query %zu (%s): %s\n", i + 1, qs.q[i].text,
                    err.msg);
            status = rc == FMT_EINVAL ? 2 : 3;
            goto out;
        }
        printf("Q\t%zu\t%llu\n", i + 1, (unsigned long long)n);
        if (prune && run_query(&cx, qs.q[i].text, 1, &n, &err) != FMT_OK) {
            fprintf(stderr, "newsidx_inproc: query %zu: %s\n", i + 1, err.msg);
            status = 3;
            goto out;
        }
    }
    for (r = 0; r < iter; r++)
        for (i = 0; i < qs.n; i++) {
            uint64_t n = 0, t0 = bench_now_ns();
            rc = run_query(&cx, qs.q[i].text, prune, &n, &err);
            if (rc != FMT_OK) {
                fprintf(stderr, "newsidx_inproc: query %zu: %s\n", i + 1, err.msg);
                status = 3;
                goto out;
            }
            if (bench_samples_add(&per[qs.q[i].type_idx],
                                  (double)(bench_now_ns() - t0) / 1e3) != 0) {
                fputs("newsidx_inproc: out of memory\n", stderr);
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
    if (per)
        for (t = 0; t < qs.ntypes; t++)
            bench_samples_release(&per[t]);
    free(per);
    fmt_analyzer_free(cx.an);
    fmt_snapshot_close(snap);
    bench_queries_release(&qs);
    if (fflush(stdout) != 0 && !status)
        status = 3;
    return status;
}
