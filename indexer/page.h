/* page.h - parser for saved-page text: title line, optional image line, body, teasers.
 *
 * Layout (see docs/INPUT.md):
 *   Hegseth rules out NATO membership ...        <- first non-empty line: title
 *   ![alt](https://.../photo.jpg)                <- optional Markdown image line, skipped
 *   Defense Secretary Pete Hegseth said ...      <- body paragraphs (blank lines ignored)
 *   -                                            <- first line that is exactly "-": body ends
 *   <teaser headline> / <summary>Source - 20m -  <- navigation, never in the body
 *   More from The Hill                           <- first "More from X" gives the source
 * The BBC corpus files are the same layout without the teasers. */
#ifndef IDX_PAGE_H
#define IDX_PAGE_H

#include <stddef.h>

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

#endif
