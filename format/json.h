/* json.h - JSON string writer and a small JSON object reader (one JSON Lines record).
 *
 * The writer escapes every control character so that any stored text yields valid JSON.
 * The reader is a recursive-descent parser over one buffer (objects, arrays, strings,
 * numbers, true/false/null, nesting at most FMT_JSON_MAX_DEPTH) that reports the members of
 * the top-level object to a callback. It does not build a tree. */
#ifndef FMT_JSON_H
#define FMT_JSON_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

#define FMT_JSON_MAX_DEPTH 64 /* deepest accepted nesting of arrays and objects */

/* Append S[0..len) to B as a quoted JSON string: '"' and '\\' are escaped, \n \t \r \b \f
 * by name and every other byte below 0x20 (and 0x7f) as \u00XX. Bytes >= 0x80 are copied
 * as they are (the caller gives valid UTF-8). FMT_OK or FMT_ENOMEM. */
int fmt_json_put_string(struct fmt_buf *b, const char *s, size_t len);

enum fmt_json_type {
    FMT_JSON_NULL,
    FMT_JSON_FALSE,
    FMT_JSON_TRUE,
    FMT_JSON_NUMBER,
    FMT_JSON_STRING,
    FMT_JSON_ARRAY,
    FMT_JSON_OBJECT,
};

/* One member value of the top-level object, lent to the callback. */
struct fmt_json_value {
    enum fmt_json_type type;
    const char *s; /* STRING: decoded UTF-8 (may hold NUL bytes from \u0000), NUMBER: the
                    * literal text; NULL for other types. Borrowed: valid during the
                    * callback only */
    size_t len;    /* bytes at s */
    size_t col;    /* 1-based byte column of the value's first character */
};

/* Called for each member of the top-level object, in order (duplicates included). KEY is
 * decoded, borrowed for the call, and NUL-terminated (it may also hold NUL bytes: use
 * KLEN). Return 0 to go on; anything else stops the parse and is returned. */
typedef int (*fmt_json_member_fn)(void *ctx, const char *key, size_t klen,
                                  const struct fmt_json_value *v);

/* Parse TEXT[0..len) as exactly one JSON object, with optional white space around it.
 * FN (may be NULL: validate only) sees each top-level member; nested arrays and objects are
 * checked and skipped. Returns FMT_OK, FMT_ENOMEM, FN's nonzero value, or FMT_EINVAL with
 * err->msg like "expected ':' at column 12" and *ERR_COL (when not NULL) set to that 1-based
 * byte column. \uXXXX escapes decode to UTF-8, surrogate pairs combine, a lone surrogate is
 * an error. Raw bytes >= 0x80 are copied unchecked: validate UTF-8 beforehand. */
int fmt_json_parse_object(const char *text, size_t len, fmt_json_member_fn fn, void *ctx,
                          size_t *err_col, struct fmt_err *err);

#endif
