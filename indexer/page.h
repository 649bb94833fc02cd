/* page.h - parser for saved-page text: title line, optional image line, body, teasers.
 *
 * Layout (see docs/INPUT.md):
 *   Hegseth rules out NATO membership ...        <- first non-empty line: title
 *   ![alt](https://.../photo.jpg)                <- optional Markdown image line, skipped
 *   Defense Secretary Pete Hegseth said ...      <- body paragraphs (blank lines ignored)
 *   -                                            <- first line that is exactly "-": body ends
 *   <teaser headline>                            <- teasers: navigation, never in the body;
 *   <summary>Source - 20m -                         idx_page_teasers() reads them apart
 *   More from The Hill                           <- first "More from X" gives the source
 *   -                                            <- a header line is followed by a "-" line
 * The BBC corpus files are the same layout without the teasers. */
#ifndef IDX_PAGE_H
#define IDX_PAGE_H

#include <stddef.h>
#include <stdint.h>

#include "article.h"
#include "err.h"

/* Parse TEXT[0..len) (valid UTF-8 without NUL bytes; CRLF accepted). On FMT_OK, *OUT (set
 * up here; the caller releases it with fmt_article_release) has title and body (paragraphs
 * joined with "\n"), source = X of the first "More from X" header after the body or "", and
 * id, url empty and timestamp FMT_NO_TIME (the caller applies its rules). On failure *OUT
 * holds nothing to release, err->msg is the reason ("blank file") and *LINE (when not NULL)
 * the 1-based line of the problem, 0 for the whole file. Returns FMT_OK, FMT_EINVAL or
 * FMT_ENOMEM. */
int idx_page_parse(const char *text, size_t len, struct fmt_article *out, size_t *line,
                   struct fmt_err *err);

/* Most words a teaser's source name may have; longer tails stay in the summary. */
#define IDX_TEASER_SOURCE_WORDS 5

/* One teaser item of a saved page: a headline line followed by a line
 * "<summary><Source> - <age> -" (the source glued to the end of the summary, the summary
 * optional, the final " -" optional). Every slice points into the parsed text (borrowed:
 * valid while the text is) and is valid UTF-8, trimmed, not NUL-terminated; the summary
 * slice starts at the beginning of its line even when empty, and the source follows it
 * directly (summary + source is the line without its " - <age> -" tail). */
struct idx_teaser {
    const char *title;   /* the headline line */
    size_t title_len;
    const char *summary; /* summary without the source; may be empty (title_len > 0 always) */
    size_t summary_len;
    const char *source;  /* "Yahoo News"; empty when it cannot be told from the summary */
    size_t source_len;
    int64_t age;         /* seconds before the page was saved: "45m" 2700, "1h" 3600, "2d" 172800 */
    uint64_t key;        /* 64-bit FNV-1a of the folded headline (case, diacritics, white space
                            and quote styles folded): equal for a repeated teaser */
};

/* Teasers of saved page TEXT[0..len) (valid UTF-8 without NUL bytes, as for idx_page_parse):
 * every item after the body, in page order, items whose folded headline was already seen
 * dropped (the same story under "More from X" and "More in Y"). A headline not followed by
 * a "... - <age>" line is not a teaser and is passed over; nothing in the teaser lists is an
 * error. How the source is told from the summary is described in page.c and
 * docs/INPUT.md. On FMT_OK *OUT is a malloc'd array of *N teasers (free() it; NULL when
 * *N is 0). Returns FMT_OK or FMT_ENOMEM (then *OUT is NULL and *N 0). */
int idx_page_teasers(const char *text, size_t len, struct idx_teaser **out, size_t *n,
                     struct fmt_err *err);

#endif
