/* benchutil.h - shared pieces of the tools/bench programs: a monotonic clock, the query
 * file (tools/bench/queries.tsv: "TYPE<TAB>newsq query[<TAB>FTS5 text[<TAB>Xapian text]]"
 * per line, '#' comments) and per-type
 * latency samples summarized as median and p99.
 *
 * Built only by tools/bench/run.sh, never by the Makefile's generic tools rule. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic time in nanoseconds. */
uint64_t bench_now_ns(void);

struct bench_query {
    char *type; /* owned by the bench_queries */
    char *text; /* the query in newsq syntax, owned */
    char *fts5; /* the same in FTS5 syntax (third column), owned; NULL when absent */
    char *xapian; /* the same in Xapian QueryParser syntax (fourth column), owned or NULL */
    size_t type_idx; /* index into bench_queries.types */
};

struct bench_queries {
    struct bench_query *q;
    size_t n;
    char **types; /* distinct types in first-seen order (borrowed from q[].type) */
    size_t ntypes;
};

/* Load PATH. Returns 0, or -1 with a message on stderr (these are programs, not library
 * code: the message names the file and line). */
int bench_queries_load(struct bench_queries *qs, const char *path);
void bench_queries_release(struct bench_queries *qs);

/* A growable array of samples (any unit). */
struct bench_samples {
    double *v;
    size_t n;
    size_t cap;
};

/* 0 or -1 when out of memory. */
int bench_samples_add(struct bench_samples *s, double x);
void bench_samples_release(struct bench_samples *s);
/* Sorts the samples; median (mean of the middle two when even) and nearest-rank P-th
 * percentile (0 < p <= 100). 0 when empty. */
double bench_median(struct bench_samples *s);
double bench_percentile(struct bench_samples *s, double p);

#endif
