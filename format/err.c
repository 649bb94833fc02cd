/* err.c - fmt_errorf() and status names. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>

int fmt_errorf(struct fmt_err *err, int code, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return code;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

const char *fmt_strstatus(int code)
{
    switch (code) {
    case FMT_OK:
        return "ok";
    case FMT_ENOMEM:
        return "out of memory";
    case FMT_EIO:
        return "i/o error";
    case FMT_ECORRUPT:
        return "index damaged";
    case FMT_EVERSION:
        return "unsupported format version";
    case FMT_ELOCKED:
        return "index locked";
    case FMT_EINVAL:
        return "invalid input";
    case FMT_ENOTFOUND:
        return "not found";
    }
    return "unknown error";
}
