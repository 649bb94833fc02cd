/* benchutil.c - clock, query file loader and latency statistics for tools/bench. */
#include "benchutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t bench_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);

    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* LINE is TYPE<TAB>newsq[<TAB>fts5[<TAB>xapian]], NUL-terminated, TYPE of TLEN bytes. */
static int add_query(struct bench_queries *qs, const char *type, size_t tlen, const char *text,
                     size_t xlen)
{
    char *col[3] = {NULL, NULL, NULL};
    size_t c = 0;
    struct bench_query *nq;
    size_t i;

    nq = realloc(qs->q, (qs->n + 1) * sizeof(*nq));
    if (!nq)
        return -1;
    qs->q = nq;
    nq = &qs->q[qs->n];
    while (c < 3) {
        const char *tab = memchr(text, '\t', xlen);
        size_t l = tab ? (size_t)(tab - text) : xlen;
        col[c] = dup_n(text, l);
        if (!col[c])
            break;
        c++;
        if (!tab)
            break;
        xlen -= l + 1;
        text = tab + 1;
    }
    nq->type = dup_n(type, tlen);
    nq->text = col[0];
    nq->fts5 = col[1];
    nq->xapian = col[2];
    if (!nq->type || !col[0] || (c > 1 && !col[1]) || (c > 2 && !col[2])) {
        free(nq->type);
        free(col[0]);
        free(col[1]);
        free(col[2]);
        return -1;
    }
    qs->n++;
    for (i = 0; i < qs->ntypes; i++)
        if (!strcmp(qs->types[i], nq->type))
            break;
    if (i == qs->ntypes) {
        char **nt = realloc(qs->types, (qs->ntypes + 1) * sizeof(*nt));
        if (!nt)
            return -1;
        qs->types = nt;
        qs->types[qs->ntypes++] = nq->type;
    }
    nq->type_idx = i;
    return 0;
}

int bench_queries_load(struct bench_queries *qs, const char *path)
{
    FILE *f;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    size_t lineno = 0;
    int rc = 0;

    memset(qs, 0, sizeof(*qs));
    f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    while ((len = getline(&line, &cap, f)) >= 0) {
        char *tab;
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        tab = strchr(line, '\t');
        if (!tab || tab == line || tab[1] == '\0') {
            fprintf(stderr, "%s:%zu: expected TYPE<TAB>query[<TAB>fts5[<TAB>xapian]]\n", path,
                    lineno);
            rc = -1;
            break;
        }
        if (add_query(qs, line, (size_t)(tab - line), tab + 1, strlen(tab + 1)) != 0) {
            fprintf(stderr, "%s:%zu: out of memory\n", path, lineno);
            rc = -1;
            break;
        }
    }
    free(line);
    fclose(f);
    if (rc == 0 && qs->n == 0) {
        fprintf(stderr, "%s: no queries\n", path);
        rc = -1;
    }
    if (rc != 0)
        bench_queries_release(qs);
    return rc;
}

void bench_queries_release(struct bench_queries *qs)
{
    size_t i;

    for (i = 0; i < qs->n; i++) {
        free(qs->q[i].type);
        free(qs->q[i].text);
        free(qs->q[i].fts5);
        free(qs->q[i].xapian);
    }
    free(qs->q);
    free(qs->types);
    memset(qs, 0, sizeof(*qs));
}

int bench_samples_add(struct bench_samples *s, double x)
{
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        double *nv = realloc(s->v, nc * sizeof(*nv));
        if (!nv)
            return -1;
        s->v = nv;
        s->cap = nc;
    }
    s->v[s->n++] = x;
    return 0;
}

void bench_samples_release(struct bench_samples *s)
{
    free(s->v);
    memset(s, 0, sizeof(*s));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

double bench_median(struct bench_samples *s)
{
    if (s->n == 0)
        return 0;
    qsort(s->v, s->n, sizeof(*s->v), cmp_double);
    if (s->n % 2)
        return s->v[s->n / 2];
    return (s->v[s->n / 2 - 1] + s->v[s->n / 2]) / 2;
}

double bench_percentile(struct bench_samples *s, double p)
{
    size_t rank;

    if (s->n == 0)
        return 0;
    qsort(s->v, s->n, sizeof(*s->v), cmp_double);
    rank = (size_t)ceil(p / 100.0 * (double)s->n);
    if (rank < 1)
        rank = 1;
    if (rank > s->n)
        rank = s->n;
    return s->v[rank - 1];
}
