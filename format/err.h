/* err.h - status codes and error messages shared by every module. */
#ifndef FMT_ERR_H
#define FMT_ERR_H

enum fmt_status {
    FMT_OK = 0,
    FMT_ENOMEM = -1,
    FMT_EIO = -2,       /* read/write/fsync failed, disk full: exit 74 for writers */
    FMT_ECORRUPT = -3,  /* file bytes make no sense: exit 3 */
    FMT_EVERSION = -4,  /* written by another format version: exit 3 */
    FMT_ELOCKED = -5,   /* another writer holds LOCK: exit 75 */
    FMT_EINVAL = -6,    /* bad argument, bad input, bad query: exit 2 (or skipped input) */
    FMT_ENOTFOUND = -7, /* lookup missed; not an error for most callers */
};

/* Error detail. Written only on failure; msg starts lowercase, has no final period and
 * names the file, line or byte. */
struct fmt_err {
    int code;
    char msg[256];
};

/* Record CODE and a printf-style message in ERR (which may be NULL); returns CODE so that
 * callers can write `return fmt_errorf(err, FMT_EIO, "%s: ...", path);`. */
int fmt_errorf(struct fmt_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Short name of a status code ("corrupt", "i/o error", ...). Static string. */
const char *fmt_strstatus(int code);

#endif
