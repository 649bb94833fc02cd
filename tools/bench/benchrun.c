/* benchrun.c - process-level measurements for tools/bench/run.sh.
 *
 *   benchrun time LOG CMD ARG...
 *       run CMD once, its stdout and stderr to LOG; print, tab-separated,
 *       "wall_s cpu_s maxrss_kib exit_status" (CPU = user + system of the child, peak RSS
 *       = the child's ru_maxrss from wait4). Exit status 0 when CMD ran (whatever it
 *       returned), 3 when it could not be started.
 *   benchrun procq QUERIES REPEAT LABEL CMD ARG... [:: LABEL CMD ARG...]...
 *       whole-process query latency: for every query of QUERIES, each command (with the
 *       argument "{}" replaced by the newsq query, "{fts5}" and "{xapian}" by the query's
 *       FTS5 and Xapian columns of QUERIES) runs once as warm-up, then REPEAT rounds
 *       run every query with every command in turn (interleaved, so that machine noise hits
 *       all engines alike), stdout and stderr to /dev/null. Exit status 0 and 1 count as
 *       answers ("nothing found" is an answer); any other is an error. Prints per label and
 *       query type "T label type p50_ms p95_ms p99_ms samples errors". Exits 3 when anything
 *       failed (the first failure is described on stderr). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchutil.h"

struct result {
    double wall_s, cpu_s;
    long maxrss_kib;
    int status; /* exit status, or 128 + signal */
};

/* Run ARGV with stdout and stderr sent to OUTPATH (truncated, or "/dev/null"). 0 or -1
 * when it could not be started (message on stderr). */
static int run(char *const *argv, const char *outpath, struct result *res)
{
    struct rusage ru;
    uint64_t t0;
    int wst = 0, fds[2], child_errno = 0;
    ssize_t got;
    pid_t pid, w;

    /* the child reports a failed open or exec through a close-on-exec pipe */
    if (pipe(fds) != 0 || fcntl(fds[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(fds[1], F_SETFD, FD_CLOEXEC) != 0) {
        fprintf(stderr, "benchrun: pipe: %s\n", strerror(errno));
        return -1;
    }
    t0 = bench_now_ns();
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "benchrun: fork: %s\n", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        int fd = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int nul = open("/dev/null", O_RDONLY);
        if (fd >= 0 && nul >= 0 && dup2(fd, 1) >= 0 && dup2(fd, 2) >= 0 && dup2(nul, 0) >= 0) {
            close(fd);
            close(nul);
            execvp(argv[0], argv);
        }
        child_errno = errno;
        if (write(fds[1], &child_errno, sizeof(child_errno)) < 0)
            _exit(127);
        _exit(127);
    }
    close(fds[1]);
    do
        w = wait4(pid, &wst, 0, &ru);
    while (w < 0 && errno == EINTR);
    res->wall_s = (double)(bench_now_ns() - t0) / 1e9;
    do
        got = read(fds[0], &child_errno, sizeof(child_errno));
    while (got < 0 && errno == EINTR);
    close(fds[0]);
    if (w < 0) {
        fprintf(stderr, "benchrun: wait4: %s\n", strerror(errno));
        return -1;
    }
    if (got == (ssize_t)sizeof(child_errno)) {
        fprintf(stderr, "benchrun: %s: %s\n", argv[0], strerror(child_errno));
        return -1;
    }
    res->cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    res->maxrss_kib = ru.ru_maxrss;
    res->status = WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst);
    return 0;
}

static int cmd_time(const char *log, char **argv)
{
    struct result r;

    if (run(argv, log, &r) != 0)
        return 3;
    printf("%.3f\t%.3f\t%ld\t%d\n", r.wall_s, r.cpu_s, r.maxrss_kib, r.status);
    return fflush(stdout) == 0 ? 0 : 3;
}

/* The argument for template argument ARG: "{}" the newsq query, "{fts5}" and "{xapian}"
 * the query's FTS5 and Xapian columns (the newsq text when the file has none). */
static char *slot(char *arg, const struct bench_query *q)
{
    if (!strcmp(arg, "{}"))
        return q->text;
    if (!strcmp(arg, "{fts5}"))
        return q->fts5 ? q->fts5 : q->text;
    if (!strcmp(arg, "{xapian}"))
        return q->xapian ? q->xapian : q->text;
    return arg;
}

/* One command of procq: a label and an argv with "{}" slots. */
struct engine {
    const char *label;
    char **argv;       /* template, borrowed from main's argv */
    char **cur;        /* argv with the query substituted, owned (pointers borrowed) */
    size_t argc;
    struct bench_samples *per; /* per query type, owned */
    size_t errors;
};

static int cmd_procq(const char *qpath, const char *repstr, int argc, char **argv)
{
    struct bench_queries qs;
    struct engine *eng = NULL;
    size_t neng = 0, e, i, t;
    char *end;
    long rep = strtol(repstr, &end, 10), r;
    int status = 0, k;

    if (*end || rep < 1) {
        fputs("benchrun: REPEAT must be a positive number\n", stderr);
        return 2;
    }
    if (bench_queries_load(&qs, qpath) != 0)
        return 2;
    eng = calloc((size_t)argc, sizeof(*eng)); /* more than enough */
    if (!eng)
        goto nomem;
    for (k = 0; k < argc;) {
        struct engine *g = &eng[neng++];
        int start = k;
        while (k < argc && strcmp(argv[k], "::"))
            k++;
        if (k - start < 2) {
            fputs("benchrun: procq needs LABEL CMD... groups separated by ::\n", stderr);
            status = 2;
            goto out;
        }
        g->label = argv[start];
        g->argv = argv + start + 1;
        g->argc = (size_t)(k - start - 1);
        g->cur = calloc(g->argc + 1, sizeof(*g->cur));
        g->per = calloc(qs.ntypes, sizeof(*g->per));
        if (!g->cur || !g->per)
            goto nomem;
        if (k < argc)
            k++; /* the "::" */
    }
    for (r = -1; r < rep; r++) /* round -1 is the warm-up */
        for (i = 0; i < qs.n; i++)
            for (e = 0; e < neng; e++) {
                struct engine *g = &eng[e];
                struct result res;
                size_t a;
                for (a = 0; a < g->argc; a++)
                    g->cur[a] = slot(g->argv[a], &qs.q[i]);
                if (run(g->cur, "/dev/null", &res) != 0) {
                    status = 3;
                    goto out;
                }
                if (res.status > 1) {
                    if (g->errors++ == 0)
                        fprintf(stderr, "benchrun: %s: query %zu (%s) exited %d\n", g->label,
                                i + 1, qs.q[i].text, res.status);
                    status = 3;
                    continue;
                }
                if (r >= 0 && bench_samples_add(&g->per[qs.q[i].type_idx],
                                                res.wall_s * 1e3) != 0)
                    goto nomem;
            }
    for (e = 0; e < neng; e++)
        for (t = 0; t < qs.ntypes; t++) {
            double p50 = bench_median(&eng[e].per[t]);
            printf("T\t%s\t%s\t%.2f\t%.2f\t%.2f\t%zu\t%zu\n", eng[e].label, qs.types[t],
                   p50, bench_percentile(&eng[e].per[t], 95),
                   bench_percentile(&eng[e].per[t], 99), eng[e].per[t].n, eng[e].errors);
        }
    goto out;
nomem:
    fputs("benchrun: out of memory\n", stderr);
    status = 3;
out:
    for (e = 0; eng && e < neng; e++) {
        if (eng[e].per)
            for (t = 0; t < qs.ntypes; t++)
                bench_samples_release(&eng[e].per[t]);
        free(eng[e].per);
        free(eng[e].cur);
    }
    free(eng);
    bench_queries_release(&qs);
    if (fflush(stdout) != 0 && !status)
        status = 3;
    return status;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "time"))
        return cmd_time(argv[2], argv + 3);
    if (argc >= 6 && !strcmp(argv[1], "procq"))
        return cmd_procq(argv[2], argv[3], argc - 4, argv + 4);
    fputs("usage: benchrun time LOG CMD ARG...\n"
          "       benchrun procq QUERIES REPEAT LABEL CMD ARG... [:: LABEL CMD ARG...]...\n",
          stderr);
    return 2;
}
