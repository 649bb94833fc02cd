/* buf.h - growable byte buffer used by every encoder. */
#ifndef FMT_BUF_H
#define FMT_BUF_H

#include <stddef.h>
#include <stdint.h>

/* len <= cap; p == NULL iff cap == 0. The buffer owns p. */
struct fmt_buf {
    uint8_t *p;
    size_t len;
    size_t cap;
};

void fmt_buf_init(struct fmt_buf *b);
void fmt_buf_release(struct fmt_buf *b);
/* Make room for EXTRA more bytes. FMT_OK or FMT_ENOMEM. */
int fmt_buf_reserve(struct fmt_buf *b, size_t extra);
int fmt_buf_append(struct fmt_buf *b, const void *data, size_t len);
int fmt_buf_putc(struct fmt_buf *b, uint8_t c);
int fmt_buf_puts(struct fmt_buf *b, const char *s);
int fmt_buf_put_varint(struct fmt_buf *b, uint64_t v);
int fmt_buf_put_u16le(struct fmt_buf *b, uint16_t v);
int fmt_buf_put_u32le(struct fmt_buf *b, uint32_t v);
int fmt_buf_put_u64le(struct fmt_buf *b, uint64_t v);
/* printf-style append. */
int fmt_buf_printf(struct fmt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append a NUL without counting it in len, so p can be used as a C string. */
int fmt_buf_terminate(struct fmt_buf *b);
/* Hand the bytes to the caller (who frees them) and reset B. */
uint8_t *fmt_buf_steal(struct fmt_buf *b);

#endif
