/* input.h - the article input side of `newsidx add`: walks PATHs, detects each file's
 * format, rejects bad input with a reason, and hands parsed articles to a callback.
 *
 * Rules (docs/INPUT.md has the user-facing version):
 *   id         the record's id, else its url, else the path inside the root given to
 *              idx_input_add_path starting with the root's last component ("bbc/business"
 *              gives "business/001.txt"; a root "." or "..": relative to itself; a file
 *              argument: its path as given; "-": "stdin"); JSON
 *              Lines records without id and url get "<relpath>:<line>" ("stdin:<line>").
 *   timestamp  the record's date, else opts.timestamp, else for saved pages and
 *              front-matter files the file's mtime (not for a pipe on stdin), else
 *              FMT_NO_TIME.
 *   source     the record's source, else opts.source, else (saved pages) X of the first
 *              "More from X" header, else "".
 * Teasers (opts.teasers, saved pages only): each teaser item after the page's body becomes
 * an article delivered right after the page's own, in page order, repeats within the page
 * once: title = headline, body = summary, source = the source glued to the summary (never
 * opts.source, which names the page's publisher), url "", timestamp = the page's timestamp
 * (rule above) minus the teaser's age ("45m"), FMT_NO_TIME when the page has none, and id =
 * "<page id>#teaser-<16 hex digits of the folded-headline hash>", so adding the page again
 * replaces its teasers instead of duplicating them. A malformed teaser list never skips
 * the page: at worst it yields fewer teasers.
 * Bad input never fails the walk: it is reported to the skip callback and skipped (a whole
 * file for saved pages and front matter, one line for JSON Lines). */
#ifndef IDX_INPUT_H
#define IDX_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "article.h"
#include "err.h"

#define IDX_INPUT_MAX_LINE_DEFAULT ((size_t)1 << 20) /* 1 MiB */
/* Saved pages and front-matter files are read whole; larger ones are skipped. JSON Lines
 * files are streamed and have no size limit. */
#define IDX_INPUT_MAX_TEXT_FILE ((size_t)64 << 20)
#define IDX_INPUT_MAX_DEPTH 256 /* deepest directory nesting walked */

enum idx_format { IDX_FORMAT_AUTO = 0, IDX_FORMAT_PAGE, IDX_FORMAT_MARKDOWN, IDX_FORMAT_JSONL };

/* Parse "page", "markdown" (or "md"), "jsonl", "auto". FMT_OK or FMT_EINVAL. */
int idx_format_parse(const char *name, enum idx_format *out);

struct idx_input_opts {
    enum idx_format format;   /* AUTO: by extension (.jsonl/.ndjson/.json -> jsonl, .md/.markdown
                                 -> markdown, else content: a leading "---\n" -> markdown,
                                 a leading '{' -> jsonl, else page) */
    const char *source;       /* --source NAME, or NULL; borrowed */
    int64_t timestamp;        /* --timestamp, or FMT_NO_TIME (then mtime rule below) */
    size_t max_line;          /* longest accepted line in bytes (default 1 MiB), longer = bad input */
    int teasers;              /* --teasers: nonzero delivers each teaser of a saved page as its
                                 own article after the page's (rules below); 0 (default):
                                 teasers are dropped */
};

/* AUTO, no source, FMT_NO_TIME, IDX_INPUT_MAX_LINE_DEFAULT, teasers off. */
void idx_input_opts_default(struct idx_input_opts *o);

/* Called for each parsed article; the callee takes ownership of *a's strings (it must call
 * fmt_article_release). Nonzero return stops the walk and is returned by idx_input_add_path. */
typedef int (*idx_article_fn)(void *ctx, struct fmt_article *a);

/* Called for each skipped input: FILE and LINE (1-based; 0 when the whole file) and a reason
 * such as "invalid UTF-8 at byte 17", "NUL byte", "binary file", "empty file",
 * "broken JSON: expected ':' at column 12", "line longer than 1048576 bytes". FILE and
 * REASON are borrowed for the call. */
typedef void (*idx_skip_fn)(void *ctx, const char *file, size_t line, const char *reason);

/* Add PATH (a file, a directory walked recursively in sorted order, skipping dotfiles, or "-"
 * for stdin). Returns FMT_OK, FMT_EIO (unreadable path, message in err), or the callback's
 * nonzero value. Bad input is never an error here: it goes to SKIP and the walk goes on.
 * FMT_ENOMEM when out of memory. Inside a directory, entries that cannot be opened or are
 * not regular files are skipped with a reason; a read error is FMT_EIO. */
int idx_input_add_path(const char *path, const struct idx_input_opts *opts,
                       idx_article_fn on_article, idx_skip_fn on_skip, void *ctx,
                       struct fmt_err *err);

#endif
