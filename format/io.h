/* io.h - the one layer every index write goes through: no stdio, no writable mmap; checked
 * write, fsync, rename and close; a failed fsync fails the command and is never retried.
 *
 * Fault injection for crash and disk-full tests: when the environment variable
 * NEWSIDX_FAULT is "OP:N" (OP one of write, fsync, rename, any), the Nth such operation of
 * the process fails with EIO ("eio") or, with "OP:N:crash", the process _exit(137)s right
 * before it, as a kill -9 would. NEWSIDX_FAULT_ERRNO=ENOSPC makes failures ENOSPC. The
 * counter is the only process-wide state in the library and exists only for these tests. */
#ifndef FMT_IO_H
#define FMT_IO_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/* A file being written: data is buffered in buf and written in large chunks. */
struct fmt_file {
    int fd;          /* -1 when closed */
    char *path;      /* owned copy, for messages and unlink on abort */
    struct fmt_buf buf;
    uint64_t off;    /* bytes appended so far (written + buffered) */
    uint32_t crc;    /* CRC32 of every byte appended so far */
    int rc;          /* sticky: the first error wins */
    struct fmt_err err;
};

/* Create PATH exclusively (O_CREAT|O_EXCL). FMT_OK or FMT_EIO. */
int fmt_file_create(struct fmt_file *f, const char *path, struct fmt_err *err);
/* Append bytes (buffered). Errors are sticky and reported by fmt_file_commit. */
void fmt_file_append(struct fmt_file *f, const void *data, size_t len);
/* The same for bytes whose CRC32 (fmt_crc32(0, data, len)) the caller has already, e.g.
 * computed on another thread while they were produced: the file's CRC is combined with
 * it, not computed again. */
void fmt_file_append_crc(struct fmt_file *f, const void *data, size_t len, uint32_t crc);
/* Flush, fsync and close. Returns the first error of the file's life; on error the file
 * is closed and unlinked. */
int fmt_file_commit(struct fmt_file *f, struct fmt_err *err);
/* Close and unlink without committing (on any failure path). Accepts a closed file. */
void fmt_file_abort(struct fmt_file *f);

/* Whole-file helper: create, write, fsync, close. */
int fmt_io_write_file(const char *path, const void *data, size_t len, struct fmt_err *err);
int fmt_io_rename(const char *from, const char *to, struct fmt_err *err);
/* fsync a directory so that renames and creations in it are durable. */
int fmt_io_sync_dir(const char *dir, struct fmt_err *err);
/* Read a whole (small) file into BUF. FMT_OK, FMT_ENOTFOUND or FMT_EIO. */
int fmt_io_read_file(const char *path, struct fmt_buf *buf, struct fmt_err *err);

#endif
