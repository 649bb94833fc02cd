/* frontmatter.h - Markdown or text with a YAML front matter block, parsed with libyaml.
 *
 *   ---
 *   title: "Talks on a ceasefire resume in Geneva"
 *   source: Example Wire
 *   date: 2025-02-14T09:30:00Z          (aliases: published, timestamp)
 *   url: https://example.org/geneva
 *   id: geneva-talks                    (any other key, such as tags or author, is ignored)
 *   ---
 *   Body text in Markdown, kept as text.
 *
 * Keys are matched without regard to case; the canonical name wins over its aliases. A
 * file without the block is accepted too. When there is no title key, the first non-empty
 * body line becomes the title (a leading "#" heading marker stripped) and leaves the body. */
#ifndef IDX_FRONTMATTER_H
#define IDX_FRONTMATTER_H

#include <stddef.h>

#include "article.h"
#include "err.h"

/* Parse TEXT[0..len) (valid UTF-8 without NUL bytes; CRLF accepted). On FMT_OK, *OUT (set
 * up here; the caller releases it) holds title, source, url, id, body (leading blank lines
 * and trailing white space removed, CRs of CRLFs dropped) and timestamp (FMT_NO_TIME without
 * a date key; dates are ISO 8601 per fmt_time_parse, or all-digit epoch seconds). On
 * FMT_EINVAL, *OUT holds nothing, err->msg is the reason ("broken YAML: <libyaml problem>",
 * "bad date \"soon\"", "front matter has no closing \"---\" line", "front matter is not a
 * mapping", "\"title\" must be a single value", "blank file") and *LINE (when not NULL) the
 * 1-based line in TEXT, 0 for the whole file. FMT_ENOMEM when out of memory. */
int idx_frontmatter_parse(const char *text, size_t len, struct fmt_article *out, size_t *line,
                          struct fmt_err *err);

#endif
