/* paths.c - index directory resolution (rules in paths.h). */
#include "paths.h"

#include <stdio.h>
#include <stdlib.h>

int fmt_index_dir(const char *option, const char *configured, char *out, size_t cap,
                  struct fmt_err *err)
{
    const char *env = getenv("NEWSIDX_INDEX");
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    int n;

    if (option && *option)
        n = snprintf(out, cap, "%s", option);
    else if (env && *env)
        n = snprintf(out, cap, "%s", env);
    else if (configured && *configured)
        n = snprintf(out, cap, "%s", configured);
    else if (xdg && *xdg)
        n = snprintf(out, cap, "%s/newsidx", xdg);
    else if (home && *home)
        n = snprintf(out, cap, "%s/.local/share/newsidx", home);
    else
        return fmt_errorf(err, FMT_EINVAL, "no index directory: use --index DIR or set HOME");
    if (n < 0 || (size_t)n >= cap)
        return fmt_errorf(err, FMT_EINVAL, "index path too long");
    return FMT_OK;
}
