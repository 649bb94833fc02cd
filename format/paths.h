/* paths.h - where the index lives: --index DIR, else $NEWSIDX_INDEX, else the config
 * file's index:, else $XDG_DATA_HOME/newsidx, else ~/.local/share/newsidx. */
#ifndef FMT_PATHS_H
#define FMT_PATHS_H

#include <stddef.h>

#include "err.h"

/* Resolve the index directory into OUT. OPTION is --index (or NULL), CONFIGURED the config
 * file's index: value (or NULL). FMT_OK or FMT_EINVAL when no rule gives a path (no HOME). */
int fmt_index_dir(const char *option, const char *configured, char *out, size_t cap,
                  struct fmt_err *err);

#endif
