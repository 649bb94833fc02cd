/* output.c - formats newsq hits (see output.h). */
#include "output.h"

#include <string.h>

#include "json.h"

/* Append S with control characters (and tabs, newlines) replaced by spaces. */
static int put_clean(struct fmt_buf *b, const char *s, size_t len)
{
    int rc = fmt_buf_reserve(b, len);
    for (size_t i = 0; rc == FMT_OK && i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        b->p[b->len++] = c < 0x20 || c == 0x7f ? ' ' : c;
    }
    return rc;
}

static int put_date(struct fmt_buf *b, int64_t ts, int day_only)
{
    char t[40];
    if (ts == FMT_NO_TIME)
        return fmt_buf_puts(b, day_only ? "no date   " : "");
    fmt_time_format(ts, t, sizeof(t));
    if (day_only && strlen(t) > 10)
        t[10] = '\0';
    return fmt_buf_puts(b, t);
}

/* Share of the score of contribution C (scaled by the decay), in percent. */
static double share(const struct q_out_hit *h, double c)
{
    return h->score > 0.0 ? 100.0 * c * h->decay / h->score : 0.0;
}

static int put_explain_text(struct fmt_buf *b, const struct q_out_hit *h)
{
    int rc = h->decay == 1.0
                 ? fmt_buf_printf(b, "      explain: %.6f = sum of term contributions\n", h->score)
                 : fmt_buf_printf(b, "      explain: %.6g = recency %.6g x sum of term "
                                     "contributions (shown scaled)\n",
                                  h->score, h->decay);
    for (size_t i = 0; rc == FMT_OK && i < h->nex; i++) {
        const struct q_explain_term *t = &h->ex[i];
        if (!t->w || !t->w->scoring) {
            rc = fmt_buf_printf(b, "        %s: filter, no score\n", t->w ? t->w->label : "?");
            continue;
        }
        rc = fmt_buf_printf(b,
                            "        %s: %.6g (%.1f%%) = idf %.4f x tf~ %.4f / (k1 + tf~); "
                            "tf title %u body %u, len title %u body %u, norm title %.4f "
                            "body %.4f\n",
                            t->w->label, t->contrib * h->decay, share(h, t->contrib),
                            t->w->idf, t->tfn, t->tf[0], t->tf[1], t->len[0], t->len[1],
                            t->norm[0], t->norm[1]);
    }
    return rc;
}

int q_output_text(struct fmt_buf *b, const struct q_out_hit *h)
{
    const struct fmt_article *a = h->a;
    int rc = fmt_buf_printf(b, "%4zu. %.4f  ", h->rank, h->score);
    if (rc == FMT_OK)
        rc = put_date(b, a->timestamp, 1);
    if (rc == FMT_OK)
        rc = fmt_buf_puts(b, "  ");
    if (rc == FMT_OK)
        rc = a->source[0] ? put_clean(b, a->source, strlen(a->source)) : fmt_buf_puts(b, "-");
    if (rc == FMT_OK)
        rc = fmt_buf_puts(b, "\n      ");
    if (rc == FMT_OK && h->title) /* already clean, with highlights */
        rc = fmt_buf_append(b, h->title, h->title_len);
    else if (rc == FMT_OK)
        rc = a->title[0] ? put_clean(b, a->title, strlen(a->title))
                         : fmt_buf_puts(b, "(untitled)");
    if (rc == FMT_OK)
        rc = fmt_buf_puts(b, "\n      id: ");
    if (rc == FMT_OK)
        rc = put_clean(b, a->id, strlen(a->id));
    if (rc == FMT_OK && a->url[0] && strcmp(a->url, a->id) != 0) {
        rc = fmt_buf_puts(b, "\n      url: ");
        if (rc == FMT_OK)
            rc = put_clean(b, a->url, strlen(a->url));
    }
    if (rc == FMT_OK && h->snippet_len > 0) {
        rc = fmt_buf_puts(b, "\n      ");
        if (rc == FMT_OK) /* the snippet is already clean, and may hold highlights */
            rc = fmt_buf_append(b, h->snippet, h->snippet_len);
    }
    if (rc == FMT_OK)
        rc = fmt_buf_putc(b, '\n');
    if (rc == FMT_OK && h->ex)
        rc = put_explain_text(b, h);
    if (rc == FMT_OK)
        rc = fmt_buf_putc(b, '\n');
    return rc;
}

static int put_key_string(struct fmt_buf *b, const char *key, const char *s, size_t len)
{
    int rc = fmt_buf_printf(b, ",\"%s\":", key);
    return rc == FMT_OK ? fmt_json_put_string(b, s, len) : rc;
}

static int put_explain_json(struct fmt_buf *b, const struct q_out_hit *h)
{
    int rc = fmt_buf_printf(b, ",\"decay\":%.17g,\"explain\":[", h->decay);
    for (size_t i = 0; rc == FMT_OK && i < h->nex; i++) {
        const struct q_explain_term *t = &h->ex[i];
        const char *label = t->w ? t->w->label : "";
        if (i > 0)
            rc = fmt_buf_putc(b, ',');
        if (rc == FMT_OK)
            rc = fmt_buf_puts(b, "{\"term\":");
        if (rc == FMT_OK)
            rc = fmt_json_put_string(b, label, strlen(label));
        if (rc == FMT_OK)
            rc = fmt_buf_printf(b,
                                ",\"scoring\":%s,\"idf\":%.17g,\"tf\":[%u,%u],"
                                "\"len\":[%u,%u],\"norm\":[%.17g,%.17g],\"tfn\":%.17g,"
                                "\"contribution\":%.17g,\"share\":%.17g}",
                                t->w && t->w->scoring ? "true" : "false",
                                t->w && t->w->scoring ? t->w->idf : 0.0, t->tf[0], t->tf[1],
                                t->len[0], t->len[1], t->norm[0], t->norm[1], t->tfn,
                                t->contrib * h->decay, share(h, t->contrib) / 100.0);
    }
    return rc == FMT_OK ? fmt_buf_putc(b, ']') : rc;
}

int q_output_json(struct fmt_buf *b, const struct q_out_hit *h)
{
    const struct fmt_article *a = h->a;
    int rc = fmt_buf_printf(b, "{\"rank\":%zu", h->rank);
    if (rc == FMT_OK)
        rc = put_key_string(b, "id", a->id, strlen(a->id));
    if (rc == FMT_OK)
        rc = fmt_buf_printf(b, ",\"score\":%.17g", h->score);
    if (rc == FMT_OK)
        rc = put_key_string(b, "title", a->title, strlen(a->title));
    if (rc == FMT_OK)
        rc = put_key_string(b, "source", a->source, strlen(a->source));
    if (rc == FMT_OK && a->timestamp == FMT_NO_TIME) {
        rc = fmt_buf_puts(b, ",\"timestamp\":null");
    } else if (rc == FMT_OK) {
        char t[40];
        fmt_time_format(a->timestamp, t, sizeof(t));
        rc = put_key_string(b, "timestamp", t, strlen(t));
    }
    if (rc == FMT_OK)
        rc = put_key_string(b, "url", a->url, strlen(a->url));
    if (rc == FMT_OK)
        rc = put_key_string(b, "snippet", h->snippet ? h->snippet : "", h->snippet_len);
    if (rc == FMT_OK)
        rc = fmt_buf_puts(b, ",\"matches\":[");
    for (size_t i = 0; rc == FMT_OK && i < h->nmatches; i++) {
        if (i > 0)
            rc = fmt_buf_putc(b, ',');
        if (rc == FMT_OK)
            rc = fmt_json_put_string(b, h->matches[i], strlen(h->matches[i]));
    }
    if (rc == FMT_OK)
        rc = fmt_buf_putc(b, ']');
    if (rc == FMT_OK && h->ex)
        rc = put_explain_json(b, h);
    if (rc == FMT_OK)
        rc = fmt_buf_puts(b, "}\n");
    return rc;
}

int q_output_ids(struct fmt_buf *b, const struct q_out_hit *h)
{
    int rc = put_clean(b, h->a->id, strlen(h->a->id));
    return rc == FMT_OK ? fmt_buf_putc(b, '\n') : rc;
}

int q_output_tsv(struct fmt_buf *b, const struct q_out_hit *h)
{
    const struct fmt_article *a = h->a;
    int rc = fmt_buf_printf(b, "%zu\t%.6f\t", h->rank, h->score);
    if (rc == FMT_OK)
        rc = put_date(b, a->timestamp, 0);
    const char *f[] = {a->source, a->title, a->id, a->url};
    for (size_t i = 0; rc == FMT_OK && i < 4; i++) {
        rc = fmt_buf_putc(b, '\t');
        if (rc == FMT_OK)
            rc = put_clean(b, f[i], strlen(f[i]));
    }
    return rc == FMT_OK ? fmt_buf_putc(b, '\n') : rc;
}

int q_output_hit(struct fmt_buf *b, enum q_out_format fmt, const struct q_out_hit *h)
{
    switch (fmt) {
    case Q_OUT_JSON:
        return q_output_json(b, h);
    case Q_OUT_IDS:
        return q_output_ids(b, h);
    case Q_OUT_TSV:
        return q_output_tsv(b, h);
    case Q_OUT_TEXT:
        break;
    }
    return q_output_text(b, h);
}
