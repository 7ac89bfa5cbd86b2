/* buffer.c — one growable byte buffer (see buffer.h). */
#include "kpic/buffer.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpic/arena.h"

void buf_reserve(byte_buf *b, size_t extra)
{
    if (extra >= SIZE_MAX / 2 - b->len) abort(); /* cannot happen for text that fits in memory */
    if (b->len + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void buf_add(byte_buf *b, const void *bytes, size_t len)
{
    buf_reserve(b, len);
    if (len) memcpy(b->data + b->len, bytes, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void buf_puts(byte_buf *b, const char *text)
{
    buf_add(b, text, strlen(text));
}

void buf_printf(byte_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *buf_take(byte_buf *b)
{
    char *out = b->data ? b->data : xstrdup("");
    *b = (byte_buf){ 0 };
    return out;
}

void buf_free(byte_buf *b)
{
    free(b->data);
    *b = (byte_buf){ 0 };
}
