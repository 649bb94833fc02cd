/* group.c - interned names, per-source collapse and facet counts (see group.h). */
#include "group.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "article.h"
#include "json.h"

static int oom(struct fmt_err *err)
{
    return fmt_errorf(err, FMT_ENOMEM, "query: out of memory grouping hits");
}

/* ---- interned names ------------------------------------------------------------------ */

void q_names_init(struct q_names *t)
{
    memset(t, 0, sizeof(*t));
    fmt_buf_init(&t->bytes);
}

void q_names_release(struct q_names *t)
{
    fmt_buf_release(&t->bytes);
    free(t->off);
    free(t->len);
    free(t->slots);
    memset(t, 0, sizeof(*t));
}

static uint32_t hash_bytes(const char *s, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

const char *q_names_get(const struct q_names *t, uint32_t i, size_t *len)
{
    *len = t->len[i];
    return (const char *)t->bytes.p + t->off[i];
}

static int same(const struct q_names *t, uint32_t i, const char *s, size_t n)
{
    return t->len[i] == n && (n == 0 || memcmp(t->bytes.p + t->off[i], s, n) == 0);
}

static int grow_slots(struct q_names *t)
{
    size_t cap = t->slots_cap ? t->slots_cap * 2 : 64;
    uint32_t *s = calloc(cap, sizeof(*s));
    if (!s)
        return FMT_ENOMEM;
    for (uint32_t i = 0; i < t->n; i++) {
        size_t len;
        const char *name = q_names_get(t, i, &len);
        size_t k = hash_bytes(name, len) & (cap - 1);
        while (s[k])
            k = (k + 1) & (cap - 1);
        s[k] = i + 1;
    }
    free(t->slots);
    t->slots = s;
    t->slots_cap = cap;
    return FMT_OK;
}

int q_names_intern(struct q_names *t, const char *name, size_t len, uint32_t *idx,
                   struct fmt_err *err)
{
    size_t k;
    if ((t->n + 1) * 2 > t->slots_cap && grow_slots(t) != FMT_OK)
        return oom(err);
    k = hash_bytes(name, len) & (t->slots_cap - 1);
    while (t->slots[k]) {
        if (same(t, t->slots[k] - 1, name, len)) {
            *idx = t->slots[k] - 1;
            return FMT_OK;
        }
        k = (k + 1) & (t->slots_cap - 1);
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        size_t *off = realloc(t->off, cap * sizeof(*off));
        if (!off)
            return oom(err);
        t->off = off;
        size_t *l = realloc(t->len, cap * sizeof(*l));
        if (!l)
            return oom(err);
        t->len = l;
        t->cap = cap;
    }
    t->off[t->n] = t->bytes.len;
    t->len[t->n] = len;
    if (len && fmt_buf_append(&t->bytes, name, len) != FMT_OK)
        return oom(err);
    t->slots[k] = (uint32_t)t->n + 1;
    *idx = (uint32_t)t->n++;
    return FMT_OK;
}

/* ---- collapse ------------------------------------------------------------------------ */

int q_collapse_init(struct q_collapse *c, size_t per, enum q_sort sort, struct fmt_err *err)
{
    (void)err;
    memset(c, 0, sizeof(*c));
    q_names_init(&c->names);
    c->per = per;
    c->sort = sort;
    return FMT_OK;
}

void q_collapse_release(struct q_collapse *c)
{
    for (size_t i = 0; i < c->nheaps; i++)
        q_topk_release(&c->heaps[i]);
    free(c->heaps);
    free(c->merged);
    q_names_release(&c->names);
    memset(c, 0, sizeof(*c));
}

int q_collapse_push(struct q_collapse *c, const char *source, size_t len, const struct q_hit *h,
                    struct fmt_err *err)
{
    uint32_t i;
    int rc = q_names_intern(&c->names, source, len, &i, err);
    if (rc != FMT_OK)
        return rc;
    if (i >= c->nheaps) { /* a new name: i == nheaps */
        struct q_topk *hp = realloc(c->heaps, (c->nheaps + 1) * sizeof(*hp));
        if (!hp)
            return oom(err);
        c->heaps = hp;
        rc = q_topk_init(&c->heaps[c->nheaps], c->per, c->sort, err);
        if (rc != FMT_OK)
            return rc;
        c->nheaps++;
    }
    q_topk_push(&c->heaps[i], h);
    return FMT_OK;
}

int q_collapse_finish(struct q_collapse *c, size_t k, const struct q_hit **hits, size_t *n,
                      struct fmt_err *err)
{
    struct q_topk all;
    size_t total = 0;
    int rc;
    for (size_t i = 0; i < c->nheaps; i++)
        total += c->heaps[i].n;
    rc = q_topk_init(&all, k < total ? k : total, c->sort, err);
    if (rc != FMT_OK)
        return rc;
    for (size_t i = 0; i < c->nheaps; i++)
        for (size_t j = 0; j < c->heaps[i].n; j++)
            q_topk_push(&all, &c->heaps[i].h[j]);
    q_topk_finish(&all);
    free(c->merged);
    c->merged = all.h; /* keep the sorted array; all is not released */
    *hits = c->merged;
    *n = all.n;
    return FMT_OK;
}

/* ---- facets -------------------------------------------------------------------------- */

void q_facets_init(struct q_facets *f, unsigned which)
{
    f->which = which;
    q_names_init(&f->sources);
    q_names_init(&f->months);
    fmt_buf_init(&f->scount);
    fmt_buf_init(&f->mcount);
}

void q_facets_release(struct q_facets *f)
{
    q_names_release(&f->sources);
    q_names_release(&f->months);
    fmt_buf_release(&f->scount);
    fmt_buf_release(&f->mcount);
}

int q_facets_parse(const char *list, unsigned *which, struct fmt_err *err)
{
    const char *p = list;
    *which = 0;
    for (;;) {
        size_t n = strcspn(p, ",");
        if (n == 6 && !strncmp(p, "source", n))
            *which |= Q_FACET_SOURCE;
        else if (n == 5 && !strncmp(p, "month", n))
            *which |= Q_FACET_MONTH;
        else
            return fmt_errorf(err, FMT_EINVAL,
                              "unknown facet \"%.*s\" (facets are source and month)", (int)n,
                              p);
        if (!p[n])
            return FMT_OK;
        p += n + 1;
    }
}

static int count(struct q_names *t, struct fmt_buf *counts, const char *name, size_t len,
                 struct fmt_err *err)
{
    uint32_t i;
    uint64_t zero = 0;
    int rc = q_names_intern(t, name, len, &i, err);
    if (rc != FMT_OK)
        return rc;
    if (i * sizeof(uint64_t) >= counts->len &&
        fmt_buf_append(counts, &zero, sizeof(zero)) != FMT_OK)
        return oom(err);
    ((uint64_t *)(void *)counts->p)[i]++;
    return FMT_OK;
}

int q_facets_add(struct q_facets *f, const char *source, size_t len, int64_t ts,
                 struct fmt_err *err)
{
    int rc = FMT_OK;
    if (f->which & Q_FACET_SOURCE)
        rc = count(&f->sources, &f->scount, source, len, err);
    if (rc == FMT_OK && (f->which & Q_FACET_MONTH)) {
        char m[40] = "undated";
        if (ts != FMT_NO_TIME) {
            fmt_time_format(ts, m, sizeof(m));
            m[7] = '\0'; /* YYYY-MM of YYYY-MM-DDTHH:MM:SSZ */
        }
        rc = count(&f->months, &f->mcount, m, strlen(m), err);
    }
    return rc;
}

/* Sorting facet rows: by count descending then name (sources), or by name (months). */
struct row {
    const char *name;
    size_t len;
    uint64_t n;
};

static int cmp_name(const struct row *a, const struct row *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->name, b->name, n);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

static int cmp_by_count(const void *x, const void *y)
{
    const struct row *a = x, *b = y;
    if (a->n != b->n)
        return a->n > b->n ? -1 : 1;
    return cmp_name(a, b);
}

static int cmp_by_name(const void *x, const void *y)
{
    return cmp_name(x, y);
}

static int put_block(const struct q_names *t, const struct fmt_buf *counts, const char *label,
                     int by_count, int json, int first, struct fmt_buf *out)
{
    const uint64_t *c = (const uint64_t *)(const void *)counts->p;
    struct row *rows = calloc(t->n ? t->n : 1, sizeof(*rows));
    int rc = FMT_OK;
    if (!rows)
        return FMT_ENOMEM;
    for (uint32_t i = 0; i < t->n; i++) {
        rows[i].name = q_names_get(t, i, &rows[i].len);
        rows[i].n = c[i];
    }
    qsort(rows, t->n, sizeof(*rows), by_count ? cmp_by_count : cmp_by_name);
    rc = json ? fmt_buf_printf(out, "%s\"%s\":{", first ? "" : ",", label)
              : fmt_buf_printf(out, "%s:\n", label);
    for (size_t i = 0; rc == FMT_OK && i < t->n; i++) {
        if (json) {
            if (i > 0)
                rc = fmt_buf_putc(out, ',');
            if (rc == FMT_OK)
                rc = fmt_json_put_string(out, rows[i].name, rows[i].len);
            if (rc == FMT_OK)
                rc = fmt_buf_printf(out, ":%llu", (unsigned long long)rows[i].n);
        } else {
            rc = fmt_buf_printf(out, "  %8llu  ", (unsigned long long)rows[i].n);
            for (size_t k = 0; rc == FMT_OK && k < rows[i].len; k++) {
                unsigned char ch = (unsigned char)rows[i].name[k];
                rc = fmt_buf_putc(out, ch < 0x20 || ch == 0x7f ? ' ' : ch);
            }
            if (rc == FMT_OK && rows[i].len == 0)
                rc = fmt_buf_puts(out, "(no source)");
            if (rc == FMT_OK)
                rc = fmt_buf_putc(out, '\n');
        }
    }
    if (rc == FMT_OK && json)
        rc = fmt_buf_putc(out, '}');
    free(rows);
    return rc;
}

int q_facets_format(const struct q_facets *f, int json, struct fmt_buf *out)
{
    int rc = json ? fmt_buf_puts(out, "{\"facets\":{") : FMT_OK;
    int first = 1;
    if (rc == FMT_OK && (f->which & Q_FACET_SOURCE)) {
        rc = put_block(&f->sources, &f->scount, "source", 1, json, first, out);
        first = 0;
    }
    if (rc == FMT_OK && (f->which & Q_FACET_MONTH))
        rc = put_block(&f->months, &f->mcount, "month", 0, json, first, out);
    if (rc == FMT_OK && json)
        rc = fmt_buf_puts(out, "}}\n");
    return rc;
}
