/* io.c - checked, buffered, fsynced file writes with test-only fault injection (see io.h). */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec.h"

#define FLUSH_AT (1u << 20) /* write in 1 MiB chunks */

enum fault_op { OP_WRITE, OP_FSYNC, OP_RENAME };

/* Test hook state (see io.h): parsed once from NEWSIDX_FAULT. */
static struct {
    int parsed;
    int op;       /* enum fault_op, or 3 for any */
    long nth;
    int crash;
    long count;
} fault;

/* Returns 0 to go on, or an errno value the operation must fail with. */
static int fault_check(enum fault_op op)
{
    const char *spec;

    if (!fault.parsed) {
        fault.parsed = 1;
        fault.nth = 0;
        spec = getenv("NEWSIDX_FAULT");
        if (spec && *spec) {
            static const char *names[] = {"write", "fsync", "rename", "any"};
            for (int i = 0; i < 4; i++) {
                size_t n = strlen(names[i]);
                if (!strncmp(spec, names[i], n) && spec[n] == ':') {
                    char *end;
                    fault.op = i;
                    fault.nth = strtol(spec + n + 1, &end, 10);
                    fault.crash = !strcmp(end, ":crash");
                }
            }
        }
    }
    if (fault.nth <= 0 || (fault.op != 3 && fault.op != (int)op))
        return 0;
    if (++fault.count != fault.nth)
        return 0;
    if (fault.crash)
        _exit(137);
    {
        const char *e = getenv("NEWSIDX_FAULT_ERRNO");
        return e && !strcmp(e, "ENOSPC") ? ENOSPC : EIO;
    }
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        int injected = fault_check(OP_WRITE);
        ssize_t n;
        if (injected) {
            errno = injected;
            return -1;
        }
        n = write(fd, p, len > (1u << 30) ? (1u << 30) : len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int checked_fsync(int fd)
{
    int injected = fault_check(OP_FSYNC);

    if (injected) {
        errno = injected;
        return -1;
    }
    return fsync(fd);
}

int fmt_file_create(struct fmt_file *f, const char *path, struct fmt_err *err)
{
    memset(f, 0, sizeof(*f));
    f->fd = -1;
    f->path = strdup(path);
    if (!f->path)
        return fmt_errorf(err, FMT_ENOMEM, "%s: out of memory", path);
    f->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (f->fd < 0) {
        int e = errno;
        free(f->path);
        f->path = NULL;
        return fmt_errorf(err, FMT_EIO, "%s: cannot create: %s", path, strerror(e));
    }
    return FMT_OK;
}

static void file_flush(struct fmt_file *f)
{
    if (f->rc != FMT_OK || f->buf.len == 0)
        return;
    if (write_all(f->fd, f->buf.p, f->buf.len) < 0)
        f->rc = fmt_errorf(&f->err, FMT_EIO, "%s: write failed: %s", f->path, strerror(errno));
    f->buf.len = 0;
}

static void append(struct fmt_file *f, const void *data, size_t len)
{
    f->off += len;
    if (len >= FLUSH_AT) {
        file_flush(f);
        if (f->rc == FMT_OK && write_all(f->fd, data, len) < 0)
            f->rc = fmt_errorf(&f->err, FMT_EIO, "%s: write failed: %s", f->path,
                               strerror(errno));
        return;
    }
    if (fmt_buf_append(&f->buf, data, len) != FMT_OK) {
        f->rc = fmt_errorf(&f->err, FMT_ENOMEM, "%s: out of memory", f->path);
        return;
    }
    if (f->buf.len >= FLUSH_AT)
        file_flush(f);
}

void fmt_file_append(struct fmt_file *f, const void *data, size_t len)
{
    if (f->rc != FMT_OK || len == 0)
        return;
    f->crc = fmt_crc32(f->crc, data, len);
    append(f, data, len);
}

void fmt_file_append_crc(struct fmt_file *f, const void *data, size_t len, uint32_t crc)
{
    if (f->rc != FMT_OK || len == 0)
        return;
    f->crc = fmt_crc32_combine(f->crc, crc, len);
    append(f, data, len);
}

int fmt_file_commit(struct fmt_file *f, struct fmt_err *err)
{
    int rc;

    file_flush(f);
    if (f->rc == FMT_OK && checked_fsync(f->fd) < 0)
        f->rc = fmt_errorf(&f->err, FMT_EIO, "%s: fsync failed: %s", f->path, strerror(errno));
    if (f->rc == FMT_OK && close(f->fd) < 0)
        f->rc = fmt_errorf(&f->err, FMT_EIO, "%s: close failed: %s", f->path, strerror(errno));
    else if (f->rc != FMT_OK)
        close(f->fd);
    f->fd = -1;
    rc = f->rc;
    if (rc != FMT_OK) {
        if (err)
            *err = f->err;
        unlink(f->path);
    }
    fmt_buf_release(&f->buf);
    free(f->path);
    f->path = NULL;
    return rc;
}

void fmt_file_abort(struct fmt_file *f)
{
    if (f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
    if (f->path)
        unlink(f->path);
    free(f->path);
    f->path = NULL;
    fmt_buf_release(&f->buf);
}

int fmt_io_write_file(const char *path, const void *data, size_t len, struct fmt_err *err)
{
    struct fmt_file f;
    int rc = fmt_file_create(&f, path, err);

    if (rc != FMT_OK)
        return rc;
    fmt_file_append(&f, data, len);
    return fmt_file_commit(&f, err);
}

int fmt_io_rename(const char *from, const char *to, struct fmt_err *err)
{
    int injected = fault_check(OP_RENAME);

    if (injected)
        return fmt_errorf(err, FMT_EIO, "%s: rename failed: %s", to, strerror(injected));
    if (rename(from, to) < 0)
        return fmt_errorf(err, FMT_EIO, "%s: rename failed: %s", to, strerror(errno));
    return FMT_OK;
}

int fmt_io_sync_dir(const char *dir, struct fmt_err *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = FMT_OK;

    if (fd < 0)
        return fmt_errorf(err, FMT_EIO, "%s: %s", dir, strerror(errno));
    if (checked_fsync(fd) < 0)
        rc = fmt_errorf(err, FMT_EIO, "%s: fsync failed: %s", dir, strerror(errno));
    close(fd);
    return rc;
}

int fmt_io_read_file(const char *path, struct fmt_buf *buf, struct fmt_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = FMT_OK;

    buf->len = 0;
    if (fd < 0) {
        if (errno == ENOENT)
            return fmt_errorf(err, FMT_ENOTFOUND, "%s: no such file", path);
        return fmt_errorf(err, FMT_EIO, "%s: %s", path, strerror(errno));
    }
    for (;;) {
        ssize_t n;
        if (fmt_buf_reserve(buf, 65536) != FMT_OK) {
            rc = fmt_errorf(err, FMT_ENOMEM, "%s: out of memory", path);
            break;
        }
        n = read(fd, buf->p + buf->len, buf->cap - buf->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = fmt_errorf(err, FMT_EIO, "%s: read failed: %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        buf->len += (size_t)n;
    }
    close(fd);
    return rc;
}
