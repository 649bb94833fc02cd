/* buf.c - growable byte buffer. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "err.h"

void fmt_buf_init(struct fmt_buf *b)
{
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
}

void fmt_buf_release(struct fmt_buf *b)
{
    free(b->p);
    fmt_buf_init(b);
}

int fmt_buf_reserve(struct fmt_buf *b, size_t extra)
{
    size_t need = b->len + extra;
    size_t cap;
    uint8_t *p;

    if (need < b->len)
        return FMT_ENOMEM;
    if (need <= b->cap)
        return FMT_OK;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = realloc(b->p, cap);
    if (!p)
        return FMT_ENOMEM;
    b->p = p;
    b->cap = cap;
    return FMT_OK;
}

int fmt_buf_append(struct fmt_buf *b, const void *data, size_t len)
{
    if (len == 0)
        return FMT_OK;
    if (fmt_buf_reserve(b, len) != FMT_OK)
        return FMT_ENOMEM;
    memcpy(b->p + b->len, data, len);
    b->len += len;
    return FMT_OK;
}

int fmt_buf_putc(struct fmt_buf *b, uint8_t c)
{
    if (b->len == b->cap && fmt_buf_reserve(b, 1) != FMT_OK)
        return FMT_ENOMEM;
    b->p[b->len++] = c;
    return FMT_OK;
}

int fmt_buf_puts(struct fmt_buf *b, const char *s)
{
    return fmt_buf_append(b, s, strlen(s));
}

int fmt_buf_put_varint(struct fmt_buf *b, uint64_t v)
{
    if (fmt_buf_reserve(b, FMT_VARINT_MAX) != FMT_OK)
        return FMT_ENOMEM;
    b->len += fmt_varint_encode(b->p + b->len, v);
    return FMT_OK;
}

int fmt_buf_put_u16le(struct fmt_buf *b, uint16_t v)
{
    if (fmt_buf_reserve(b, 2) != FMT_OK)
        return FMT_ENOMEM;
    fmt_put_u16le(b->p + b->len, v);
    b->len += 2;
    return FMT_OK;
}

int fmt_buf_put_u32le(struct fmt_buf *b, uint32_t v)
{
    if (fmt_buf_reserve(b, 4) != FMT_OK)
        return FMT_ENOMEM;
    fmt_put_u32le(b->p + b->len, v);
    b->len += 4;
    return FMT_OK;
}

int fmt_buf_put_u64le(struct fmt_buf *b, uint64_t v)
{
    if (fmt_buf_reserve(b, 8) != FMT_OK)
        return FMT_ENOMEM;
    fmt_put_u64le(b->p + b->len, v);
    b->len += 8;
    return FMT_OK;
}

int fmt_buf_printf(struct fmt_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return FMT_EINVAL;
    if (fmt_buf_reserve(b, (size_t)n + 1) != FMT_OK)
        return FMT_ENOMEM;
    va_start(ap, fmt);
    vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return FMT_OK;
}

int fmt_buf_terminate(struct fmt_buf *b)
{
    if (fmt_buf_reserve(b, 1) != FMT_OK)
        return FMT_ENOMEM;
    b->p[b->len] = 0;
    return FMT_OK;
}

uint8_t *fmt_buf_steal(struct fmt_buf *b)
{
    uint8_t *p = b->p;

    fmt_buf_init(b);
    return p;
}
