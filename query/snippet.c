/* snippet.c - choose, cut and highlight the excerpt shown under each hit (see snippet.h).
 *
 * Window choice: the match spans come out of the analyzer in text order. For each span i
 * taken as the window's first match, the window [start_i, start_i + width) holds the
 * spans i..j whose end fits; a two-pointer sweep finds the i with the most spans in
 * linear time. A third of the unused room goes before the first match as left context.
 * Cuts move to white space so no word (and no UTF-8 sequence) is split. */
#include "snippet.h"

#include <stdint.h>
#include <string.h>

#define MAX_SPANS 65536 /* matches remembered per body: enough for any real article */

struct span {
    size_t start, end;
};

struct collect {
    const struct q_snip_term *terms;
    size_t nterms;
    struct fmt_buf spans; /* struct span[] */
    int rc;
};

static int term_matches(const struct collect *c, const struct fmt_token *tok)
{
    for (size_t i = 0; i < c->nterms; i++) {
        const struct q_snip_term *t = &c->terms[i];
        if (t->prefix ? tok->len >= t->len && memcmp(tok->term, t->term, t->len) == 0
                      : tok->len == t->len && memcmp(tok->term, t->term, t->len) == 0)
            return 1;
    }
    return 0;
}

static int on_token(void *ctx, const struct fmt_token *tok)
{
    struct collect *c = ctx;
    struct span s;
    if (!term_matches(c, tok))
        return 0;
    if (c->spans.len / sizeof(s) >= MAX_SPANS)
        return 1; /* enough: stop analyzing */
    s.start = tok->start;
    s.end = tok->end;
    if (fmt_buf_append(&c->spans, &s, sizeof(s)) != FMT_OK) {
        c->rc = FMT_ENOMEM;
        return 1;
    }
    return 0;
}

static int is_space(unsigned char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* Index of the first span of the best window, and one past its last. */
static void best_window(const struct span *sp, size_t n, size_t width, size_t *first,
                        size_t *last)
{
    size_t best = 0, best_count = 0, j = 0;
    for (size_t i = 0; i < n; i++) {
        if (j < i)
            j = i;
        while (j < n && sp[j].end - sp[i].start <= width)
            j++;
        if (j - i > best_count) {
            best_count = j - i;
            best = i;
        }
    }
    *first = best;
    *last = best + (best_count ? best_count : 1);
}

/* Move START back to a UTF-8 character boundary. */
static size_t char_boundary(const char *text, size_t pos)
{
    while (pos > 0 && ((unsigned char)text[pos] & 0xC0) == 0x80)
        pos--;
    return pos;
}

/* Choose [*ws, *we) around spans first..last (or the text's start when there are none). */
static void cut_window(const char *text, size_t len, const struct span *sp, size_t nsp,
                       size_t width, size_t *ws, size_t *we)
{
    size_t start = 0, must_start = 0, must_end = 0;
    if (nsp > 0) {
        size_t first, last;
        best_window(sp, nsp, width, &first, &last);
        must_start = sp[first].start;
        must_end = sp[last - 1].end;
        size_t used = must_end - must_start;
        size_t lead = used < width ? (width - used) / 3 : 0;
        start = must_start > lead ? must_start - lead : 0;
        /* begin at a word start: after white space, but never past the first match */
        while (start > 0 && start < must_start && !is_space((unsigned char)text[start - 1]))
            start++;
        start = char_boundary(text, start);
    }
    while (start < len && is_space((unsigned char)text[start]))
        start++;
    size_t end = start + width < len ? start + width : len;
    if (end < must_end)
        end = must_end;
    if (end < len && !is_space((unsigned char)text[end])) {
        size_t e = end;
        while (e > start && e > must_end && !is_space((unsigned char)text[e - 1]))
            e--;
        if (e > start && e > must_end) {
            end = e;
        } else { /* one long word: finish it rather than split it */
            while (end < len && !is_space((unsigned char)text[end]))
                end++;
        }
    }
    *ws = start;
    *we = end;
}

static int emit(struct fmt_buf *out, const char *text, size_t ws, size_t we, size_t len,
                const struct span *sp, size_t nsp, const struct q_snip_opts *o)
{
    static const char ellipsis[] = "\xe2\x80\xa6"; /* U+2026 */
    size_t k = 0, in_match_end = 0;
    int in_match = 0, pending_space = 0, rc = FMT_OK;
    for (size_t p = 0; p < ws; p++)
        if (!is_space((unsigned char)text[p])) { /* text was cut before the window */
            rc = fmt_buf_puts(out, ellipsis);
            break;
        }
    while (k < nsp && sp[k].start < ws)
        k++;
    for (size_t p = ws; p < we && rc == FMT_OK; p++) {
        unsigned char ch = (unsigned char)text[p];
        if (in_match && p == in_match_end) {
            rc = fmt_buf_puts(out, o->hl_off);
            in_match = 0;
        }
        if (is_space(ch) || ch < 0x20 || ch == 0x7f) {
            pending_space = 1;
            continue;
        }
        if (pending_space && rc == FMT_OK)
            rc = fmt_buf_putc(out, ' ');
        pending_space = 0;
        if (k < nsp && p == sp[k].start && sp[k].end <= we && rc == FMT_OK) {
            rc = fmt_buf_puts(out, o->hl_on);
            in_match = 1;
            in_match_end = sp[k].end;
            k++;
        }
        if (rc == FMT_OK)
            rc = fmt_buf_putc(out, ch);
    }
    if (in_match && rc == FMT_OK)
        rc = fmt_buf_puts(out, o->hl_off);
    if (rc == FMT_OK && we < len) {
        size_t p = we;
        while (p < len && is_space((unsigned char)text[p]))
            p++;
        if (p < len)
            rc = fmt_buf_puts(out, ellipsis);
    }
    return rc;
}

void q_snip_opts_default(struct q_snip_opts *o)
{
    o->width = 160;
    o->hl_on = "";
    o->hl_off = "";
}

int q_snippet(struct fmt_analyzer *an, const char *text, size_t len,
              const struct q_snip_term *terms, size_t nterms, const struct q_snip_opts *o,
              struct fmt_buf *out, struct fmt_err *err)
{
    struct collect c = {terms, nterms, {NULL, 0, 0}, FMT_OK};
    size_t ws, we;
    int rc = FMT_OK;
    if (nterms > 0) {
        uint8_t first[256] = {0}; /* first bytes of the terms: other words cannot match */
        for (size_t i = 0; i < nterms; i++) {
            if (terms[i].len > 0)
                first[(uint8_t)terms[i].term[0]] = 1;
            else if (terms[i].prefix)
                memset(first, 1, sizeof(first));
        }
        rc = fmt_analyze_first(an, text, len, first, on_token, &c);
        if (c.rc != FMT_OK)
            rc = c.rc;
        else if (rc > 0)
            rc = FMT_OK; /* stopped at MAX_SPANS */
        if (rc != FMT_OK) {
            fmt_buf_release(&c.spans);
            return fmt_errorf(err, rc, "snippet: %s", fmt_strstatus(rc));
        }
    }
    const struct span *sp = (const struct span *)(void *)c.spans.p;
    size_t nsp = c.spans.len / sizeof(struct span);
    cut_window(text, len, sp, nsp, o->width, &ws, &we);
    rc = emit(out, text, ws, we, len, sp, nsp, o);
    fmt_buf_release(&c.spans);
    if (rc != FMT_OK)
        return fmt_errorf(err, rc, "snippet: out of memory");
    return FMT_OK;
}
