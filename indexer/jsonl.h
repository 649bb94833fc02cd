/* jsonl.h - one JSON Lines record to an article.
 *
 * Keys (the first name of each row wins over its aliases, whatever their order; a key given
 * twice keeps its last value; unknown keys and their nested values are ignored):
 *   id                                  string or number
 *   title, source, url                  string
 *   timestamp  (date, published, time)  ISO 8601 string, or a number of epoch seconds
 *   body       (text, content)          string
 * null is the same as a missing key. */
#ifndef IDX_JSONL_H
#define IDX_JSONL_H

#include <stddef.h>

#include "article.h"
#include "err.h"

/* Parse LINE[0..len) (one line without its '\n'; valid UTF-8 without NUL bytes). Returns
 * FMT_OK: *OUT (set up here; the caller releases it) holds the record's fields, "" and
 * FMT_NO_TIME for missing ones (the caller applies the id/source/timestamp rules);
 * FMT_ENOTFOUND: the line is blank, *OUT untouched; FMT_EINVAL: *OUT holds nothing,
 * err->msg is the reason ("broken JSON: expected ':' at column 12", "\"title\" must be a
 * string at column 30", "bad timestamp \"yesterday\" at column 9", "\\u0000 in \"body\" at
 * column 40") and *COL (when not NULL) that 1-based byte column; FMT_ENOMEM. */
int idx_jsonl_parse_line(const char *line, size_t len, struct fmt_article *out, size_t *col,
                         struct fmt_err *err);

#endif
