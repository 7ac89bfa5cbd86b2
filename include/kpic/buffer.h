/* buffer.h — one growable byte buffer (prefix buf_).
 *
 * Owns: text built a piece at a time in malloc'd memory (messages, rejects lines, SQL,
 * formatted specs). The bytes may hold NULs; a NUL always follows the last byte, so
 * text built from C strings can be used as one without a final append.
 */
#ifndef KPIC_BUFFER_H
#define KPIC_BUFFER_H

#include <stddef.h>

typedef struct byte_buf {
    char *data; /* NULL until the first byte; then NUL-terminated */
    size_t len, cap;
} byte_buf;

/* Room for EXTRA more bytes (and the NUL after them), growing by doubling. */
void buf_reserve(byte_buf *b, size_t extra);
void buf_add(byte_buf *b, const void *bytes, size_t len);
void buf_puts(byte_buf *b, const char *text);
void buf_printf(byte_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The bytes as a C string: "" while B is empty. */
static inline const char *buf_text(const byte_buf *b)
{
    return b->data ? b->data : "";
}
/* Hands the bytes to the caller (malloc'd, NUL-terminated; "" when empty) and empties B. */
char *buf_take(byte_buf *b);
void buf_free(byte_buf *b);

#endif
