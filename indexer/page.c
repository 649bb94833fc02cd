/* page.c - saved-page text parser (layout in page.h): the page's own article, and its
 * teaser lists read apart (essay above idx_page_teasers). */
#include "page.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "buf.h"

/* One line of the input, trimmed of blanks at both ends (and of the CR of a CRLF). */
struct line {
    const char *p;
    size_t len;
};

/* Next line of TEXT at *POS, trimmed; 0 at the end of the text. */
static int next_line(const char *text, size_t len, size_t *pos, struct line *l)
{
    const char *s, *nl;
    size_t n;

    if (*pos >= len)
        return 0;
    s = text + *pos;
    nl = memchr(s, '\n', len - *pos);
    n = nl ? (size_t)(nl - s) : len - *pos;
    *pos += n + (nl != NULL);
    while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    l->p = s;
    l->len = n;
    return 1;
}

static int line_is(const struct line *l, const char *word)
{
    return l->len == strlen(word) && memcmp(l->p, word, l->len) == 0;
}

static int has_prefix(const struct line *l, const char *prefix)
{
    size_t n = strlen(prefix);

    return l->len > n && memcmp(l->p, prefix, n) == 0;
}

static int contains(const struct line *l, const char *needle)
{
    size_t n = strlen(needle);

    for (size_t i = 0; i + n <= l->len; i++)
        if (memcmp(l->p + i, needle, n) == 0)
            return 1;
    return 0;
}

/* "![alt](target)" */
static int is_image_line(const struct line *l)
{
    return l->len >= 5 && l->p[0] == '!' && l->p[1] == '[' && l->p[l->len - 1] == ')' &&
           contains(l, "](");
}

/* "More from X" or "More in X": a teaser section header. */
static int is_more_header(const struct line *l)
{
    return has_prefix(l, "More from ") || has_prefix(l, "More in ");
}

/* The next non-empty line after POS is exactly "-". */
static int dash_follows(const char *text, size_t len, size_t pos)
{
    struct line l;

    while (next_line(text, len, &pos, &l))
        if (l.len > 0)
            return line_is(&l, "-");
    return 0;
}

/* Body paragraphs from POS up to the first "-" line (or a "More from X" header directly
 * followed by one), joined with "\n" into BODY (NULL: only find the end); *POS is left
 * after the last body line. */
static int read_body(const char *text, size_t len, size_t *pos, struct fmt_buf *body)
{
    struct line l;
    size_t at = *pos;

    while (next_line(text, len, &at, &l)) {
        if (line_is(&l, "-") || (is_more_header(&l) && dash_follows(text, len, at)))
            break;
        *pos = at;
        if (l.len == 0 || !body)
            continue;
        if ((body->len > 0 && fmt_buf_putc(body, '\n') != FMT_OK) ||
            fmt_buf_append(body, l.p, l.len) != FMT_OK)
            return FMT_ENOMEM;
    }
    return body ? fmt_buf_terminate(body) : FMT_OK;
}

/* X of the first "More from X" line at or after POS, or an empty line. */
static struct line find_source(const char *text, size_t len, size_t pos)
{
    struct line l, none = {"", 0};

    while (next_line(text, len, &pos, &l))
        if (has_prefix(&l, "More from ")) {
            l.p += strlen("More from ");
            l.len -= strlen("More from ");
            return l;
        }
    return none;
}

/* Find the title (*TITLE; empty for a blank text) and skip one image line directly after
 * it; returns the offset where the body starts. */
static size_t read_head(const char *text, size_t len, struct line *title)
{
    struct line l = {"", 0};
    size_t pos = 0, before;

    title->p = "";
    title->len = 0;
    while (next_line(text, len, &pos, title) && title->len == 0)
        ;
    before = pos;
    while (next_line(text, len, &pos, &l) && l.len == 0)
        ;
    return l.len > 0 && is_image_line(&l) ? pos : before;
}

int idx_page_parse(const char *text, size_t len, struct fmt_article *out, size_t *line,
                   struct fmt_err *err)
{
    struct fmt_buf body;
    struct line title, src;
    size_t pos;
    int rc;

    if (line)
        *line = 0;
    pos = read_head(text, len, &title);
    if (title.len == 0)
        return fmt_errorf(err, FMT_EINVAL, "blank file");
    if (fmt_article_init(out) != FMT_OK)
        return fmt_errorf(err, FMT_ENOMEM, "out of memory");
    fmt_buf_init(&body);
    rc = read_body(text, len, &pos, &body);
    if (rc != FMT_OK)
        goto fail;
    src = find_source(text, len, pos);
    if (fmt_article_set(&out->title, title.p, title.len) != FMT_OK ||
        fmt_article_set(&out->source, src.p, src.len) != FMT_OK)
        goto fail;
    free(out->body);
    out->body = (char *)fmt_buf_steal(&body);
    return FMT_OK;
fail:
    fmt_buf_release(&body);
    fmt_article_release(out);
    return fmt_errorf(err, FMT_ENOMEM, "out of memory");
}

/*
 * Teasers
 *
 * The lists after the body look like this (one item = two lines):
 *
 *   -
 *   Hegseth sets out hard line on European defence and Nato         <- headline
 *   The US defence secretary tells Europe ... defence.BBC News - 20m -
 *   Hopes for Ukraine peace deal framework at Munich Security Conference
 *   Yahoo News - 2d -                                               <- no summary
 *   A Trump peace plan for Ukraine?
 *   Reports suggest a proposed US peace plan could be unveiled this week.BBC News - 4d
 *   More from The Hill                                              <- header, then "-"
 *   -
 *
 * Reading the lists. After the body, blank lines and "-" lines are passed over; a
 * "More from X" / "More in X" line followed by a "-" line is a header. Any other line is a
 * headline if the next non-empty line is an age line: "<text> - <N><m|h|d>", optionally
 * followed by " -" (the last item of a list has none). A headline without an age line
 * after it is not a teaser and is passed over alone (the next line gets its own chance), and
 * a line that is itself an age line is never taken as a headline, so a missing line costs
 * at most one item. Nothing here fails: malformed lists only mean fewer teasers.
 *
 * Telling the source from the summary. The page glues the source name to the end of the
 * summary without a separator ("...future defence.BBC News", "...back from RussiaABC
 * News"), so the split is a heuristic, in this order:
 *
 *  1. Sources the page names reliably (X of each "More from X" header, the whole text of
 *     items without a summary, and sources found after punctuation by rule 3) are "known".
 *     If the text ends with a known source glued to the summary (no blank before it) or is
 *     exactly one, the longest such source wins; a name that only this item gave does
 *     not count. This recovers camel-case names ("McClatchy DC",
 *     "TechCrunch") that rule 3b would cut, when the page names them elsewhere.
 *  2. Only the last IDX_TEASER_SOURCE_WORDS words can hold the source. A glue point is a
 *     position inside a word where an uppercase letter follows (a) sentence punctuation
 *     . ? ! " ” ’ … or (b) a lowercase letter or a digit.
 *  3. The last of those words that has a glue point holds the start of the source: at its
 *     last (a) glue point when it has one ("Crimea.NBC", "...The"), else at its last (b)
 *     glue point ("RussiaABC"). Glue points in the text's first word are ignored: a summary
 *     has at least one word of its own, so "McClatchy DC - 2h" is a source alone.
 *  4. No glue point: a text of at most IDX_TEASER_SOURCE_WORDS words is the source alone
 *     ("Yahoo News - 2d -"); a longer one is all summary with an unknown (empty) source.
 *
 * A summary ending in a camel-case word splits right ("...on YouTubeBBC News"). Known misses,
 * unless rule 1 knows the name from elsewhere on the page: a camel-case source glued
 * without punctuation ("...moreTechCrunch" gives "Crunch"), a one-word summary
 * ("Exclusive.Reuters" is taken for a source), an apostrophe before a capital in the glued
 * word ("O’BrienCNN" gives "BrienCNN"), a source with punctuation before a capital
 * ("U.S. News").
 *
 * Repeats. The same story often appears under "More from X" and "More in Y"; items whose
 * folded headline (utf8proc case folding, diacritics stripped, quote and dash styles lumped
 * together, white space collapsed) has the same 64-bit FNV-1a hash as an earlier item are
 * dropped. That hash is also what callers build a stable id from.
 */

#define AGE_MAX_DIGITS 6 /* "999999d" at most: keeps age * unit far from overflow */
#define KNOWN_MAX 64     /* known source names kept per page (bounds rule 1's cost) */

enum split { SPLIT_WHOLE, SPLIT_PUNCT, SPLIT_CASE, SPLIT_NONE };

/* Source names the page gives reliably (rule 1). Slices of the text. */
struct known {
    struct line name[KNOWN_MAX];
    size_t from[KNOWN_MAX]; /* the one item that gave the name, or SIZE_MAX: a header or
                               several items */
    size_t n;
};

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Next non-empty line at *POS into L; 0 at the end of the text. */
static int next_nonempty(const char *text, size_t len, size_t *pos, struct line *l)
{
    while (next_line(text, len, pos, l))
        if (l->len > 0)
            return 1;
    return 0;
}

/* Back over " - " ending just before byte N of P: the index of the byte before its first
 * blank, or 0 when P[..n) does not end that way (or nothing precedes it). */
static size_t before_dash(const char *p, size_t n)
{
    if (n == 0 || !is_blank(p[n - 1]))
        return 0;
    while (n > 0 && is_blank(p[n - 1]))
        n--;
    if (n == 0 || p[n - 1] != '-')
        return 0;
    n--;
    if (n == 0 || !is_blank(p[n - 1]))
        return 0;
    while (n > 0 && is_blank(p[n - 1]))
        n--;
    return n;
}

/* Parse "<rest> - <N><m|h|d>" with an optional final " -". On success *REST is the text
 * before " - " (non-empty, trimmed) and *AGE the age in seconds; 0 when L is no age line. */
static int parse_age_line(const struct line *l, struct line *rest, int64_t *age)
{
    const char *p = l->p;
    size_t n = l->len, end;
    int64_t v = 0, unit;

    if (n >= 2 && p[n - 1] == '-' && is_blank(p[n - 2])) {
        n -= 2;
        while (n > 0 && is_blank(p[n - 1]))
            n--;
    }
    if (n == 0)
        return 0;
    switch (p[n - 1]) {
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    default: return 0;
    }
    end = --n;
    while (n > 0 && end - n < AGE_MAX_DIGITS + 1 && p[n - 1] >= '0' && p[n - 1] <= '9')
        n--;
    if (n == end || end - n > AGE_MAX_DIGITS)
        return 0;
    for (size_t i = n; i < end; i++)
        v = v * 10 + (p[i] - '0');
    n = before_dash(p, n);
    if (n == 0)
        return 0;
    rest->p = p;
    rest->len = n;
    *age = v * unit;
    return 1;
}

/* Class of the code point at P (LEN bytes left): 'u' uppercase or titlecase letter, 'l'
 * lowercase letter or digit, 'p' sentence punctuation, 'o' anything else. *N its bytes. */
static char cp_class(const char *p, size_t len, size_t *n)
{
    utf8proc_int32_t cp;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)p,
                                          (utf8proc_ssize_t)(len < 4 ? len : 4), &cp);

    if (k <= 0) {
        *n = 1;
        return 'o';
    }
    *n = (size_t)k;
    switch (cp) {
    case '.': case '?': case '!': case '"':
    case 0x201D: /* ” */
    case 0x2019: /* ’ */
    case 0x2026: /* … */
        return 'p';
    }
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LT:
        return 'u';
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_ND:
        return 'l';
    default:
        return 'o';
    }
}

/* Rules 2-3 inside the word P[start..end): *AT the chosen glue point; SPLIT_NONE if none. */
static enum split glue_in_word(const char *p, size_t start, size_t end, size_t *at)
{
    size_t i = start, n, punct = 0, lower = 0;
    char prev = 'o', c;

    for (; i < end; i += n) {
        c = cp_class(p + i, end - i, &n);
        if (c == 'u' && prev == 'p' && i > start)
            punct = i;
        else if (c == 'u' && prev == 'l' && i > start)
            lower = i;
        prev = c;
    }
    *at = punct ? punct : lower;
    return punct ? SPLIT_PUNCT : lower ? SPLIT_CASE : SPLIT_NONE;
}

/* Rules 2-4 on REST (summary + source): *AT the byte where the source starts (REST->len
 * when unknown). */
static enum split split_source(const struct line *rest, size_t *at)
{
    size_t start[IDX_TEASER_SOURCE_WORDS + 1], end[IDX_TEASER_SOURCE_WORDS + 1];
    size_t nw = 0, i = rest->len;
    enum split how;

    while (nw <= IDX_TEASER_SOURCE_WORDS && i > 0) {
        while (i > 0 && is_blank(rest->p[i - 1]))
            i--;
        if (i == 0)
            break;
        end[nw] = i;
        while (i > 0 && !is_blank(rest->p[i - 1]))
            i--;
        start[nw++] = i;
    }
    for (size_t k = 0; k < nw && k < IDX_TEASER_SOURCE_WORDS && start[k] > 0; k++) {
        how = glue_in_word(rest->p, start[k], end[k], at);
        if (how != SPLIT_NONE)
            return how;
    }
    if (nw <= IDX_TEASER_SOURCE_WORDS) {
        *at = 0;
        return SPLIT_WHOLE;
    }
    *at = rest->len;
    return SPLIT_NONE;
}

/* Note source P[0..len) given by item ITEM (SIZE_MAX: by a header). */
static void known_add(struct known *k, const char *p, size_t len, size_t item)
{
    for (size_t i = 0; i < k->n; i++)
        if (k->name[i].len == len && memcmp(k->name[i].p, p, len) == 0) {
            if (k->from[i] != item)
                k->from[i] = SIZE_MAX;
            return;
        }
    if (len == 0 || k->n == KNOWN_MAX)
        return;
    k->name[k->n].p = p;
    k->name[k->n].len = len;
    k->from[k->n++] = item;
}

/* Rule 1 on teaser T, item ITEM: move the split to the longest known source that ends its
 * text glued to the summary (or is the whole text). A name only this item gave does not
 * count: rule 1 must not confirm the item's own guess ("O’BrienCNN" gives "BrienCNN"). */
static void apply_known(const struct known *k, struct idx_teaser *t, size_t item)
{
    const char *p = t->summary;
    size_t len = t->summary_len + t->source_len, best = 0;

    for (size_t i = 0; i < k->n; i++) {
        size_t kl = k->name[i].len;
        if (k->from[i] != item && kl > best && kl <= len &&
            memcmp(p + len - kl, k->name[i].p, kl) == 0 &&
            (kl == len || !is_blank(p[len - kl - 1])))
            best = kl;
    }
    if (best == 0)
        return;
    t->summary_len = len - best;
    t->source = p + len - best;
    t->source_len = best;
}

/* FNV-1a 64 of the folded headline (folding described above). FMT_OK or FMT_ENOMEM. */
static int headline_key(const char *p, size_t len, uint64_t *key)
{
    utf8proc_uint8_t *folded = NULL;
    utf8proc_ssize_t n;
    const uint8_t *s = (const uint8_t *)p;
    uint64_t h = 14695981039346656037ULL;
    int space = 0, started = 0;

    n = utf8proc_map((const utf8proc_uint8_t *)p, (utf8proc_ssize_t)len, &folded,
                     UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD |
                         UTF8PROC_STRIPMARK | UTF8PROC_LUMP);
    if (n == UTF8PROC_ERROR_NOMEM)
        return FMT_ENOMEM;
    if (n >= 0) { /* else: not valid UTF-8 after all; hash the raw bytes */
        s = folded;
        len = (size_t)n;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ' ' || s[i] == '\t') {
            space = 1;
            continue;
        }
        if (space && started) {
            h ^= ' ';
            h *= 1099511628211ULL;
        }
        space = 0;
        started = 1;
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    free(folded);
    *key = h;
    return FMT_OK;
}

static int cmp_key_then_index(const void *a, const void *b)
{
    const struct idx_teaser *x = *(const struct idx_teaser *const *)a;
    const struct idx_teaser *y = *(const struct idx_teaser *const *)b;

    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* Drop items whose key appeared earlier, keeping page order. *N updated. */
static int drop_repeats(struct idx_teaser *t, size_t *n)
{
    struct idx_teaser **by;
    size_t kept = 0;

    if (*n < 2)
        return FMT_OK;
    by = malloc(*n * sizeof(*by));
    if (!by)
        return FMT_ENOMEM;
    for (size_t i = 0; i < *n; i++)
        by[i] = &t[i];
    qsort(by, *n, sizeof(*by), cmp_key_then_index);
    for (size_t i = 1; i < *n; i++)
        if (by[i]->key == by[i - 1]->key)
            by[i]->title = NULL; /* a repeat: marked for removal */
    free(by);
    for (size_t i = 0; i < *n; i++)
        if (t[i].title)
            t[kept++] = t[i];
    *n = kept;
    return FMT_OK;
}

/* Append the item HEAD + REST (age AGE) to *T; rules 2-4 applied, known sources noted. */
static int add_item(struct idx_teaser **t, size_t *n, size_t *cap, const struct line *head,
                    const struct line *rest, int64_t age, struct known *known)
{
    struct idx_teaser *it;
    enum split how;
    size_t at;

    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        struct idx_teaser *grown = realloc(*t, c * sizeof(**t));
        if (!grown)
            return FMT_ENOMEM;
        *t = grown;
        *cap = c;
    }
    it = &(*t)[(*n)++];
    how = split_source(rest, &at);
    it->title = head->p;
    it->title_len = head->len;
    it->summary = rest->p;
    it->summary_len = at; /* no blank before a glue point: summary + source stay adjacent */
    it->source = rest->p + at;
    it->source_len = rest->len - at;
    it->age = age;
    it->key = 0;
    if (how == SPLIT_WHOLE || how == SPLIT_PUNCT)
        known_add(known, it->source, it->source_len, *n - 1);
    return FMT_OK;
}

int idx_page_teasers(const char *text, size_t len, struct idx_teaser **out, size_t *n,
                     struct fmt_err *err)
{
    struct known known = {.n = 0};
    struct idx_teaser *t = NULL;
    struct line title, l, next, rest;
    size_t pos, after, cnt = 0, cap = 0;
    int64_t age;
    int rc = FMT_OK;

    *out = NULL;
    *n = 0;
    pos = read_head(text, len, &title);
    if (title.len == 0)
        return FMT_OK;
    (void)read_body(text, len, &pos, NULL); /* FMT_OK without a buffer */
    while (rc == FMT_OK && next_nonempty(text, len, &pos, &l)) {
        if (line_is(&l, "-"))
            continue;
        if (is_more_header(&l) && dash_follows(text, len, pos)) {
            if (has_prefix(&l, "More from "))
                known_add(&known, l.p + strlen("More from "), l.len - strlen("More from "),
                          SIZE_MAX);
            continue;
        }
        after = pos;
        if (parse_age_line(&l, &rest, &age) || !next_nonempty(text, len, &after, &next) ||
            !parse_age_line(&next, &rest, &age))
            continue; /* not a headline: passed over alone */
        pos = after;
        rc = add_item(&t, &cnt, &cap, &l, &rest, age, &known);
    }
    for (size_t i = 0; rc == FMT_OK && i < cnt; i++) {
        apply_known(&known, &t[i], i);
        rc = headline_key(t[i].title, t[i].title_len, &t[i].key);
    }
    if (rc == FMT_OK)
        rc = drop_repeats(t, &cnt);
    if (rc != FMT_OK) {
        free(t);
        return fmt_errorf(err, rc, "out of memory");
    }
    if (cnt == 0) {
        free(t);
        t = NULL;
    }
    *out = t;
    *n = cnt;
    return FMT_OK;
}
