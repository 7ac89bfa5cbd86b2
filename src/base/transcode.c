/* transcode.c — data files in other encodings, converted to UTF-8 with the C
 * library's iconv (transcode.h).  The whole file is converted at once: a source in
 * another encoding is an export of modest size, and converting it up front keeps
 * the CSV reader's own paths (chunks, threads, line numbers) those of UTF-8. */
#include "kpic/transcode.h"

#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* tc_looks_like judges a file from this many bytes at its start. */
#define LOOK_BYTES (1u << 20)

static void set_error(tc_error *err, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(tc_error *err, uint64_t line, const char *fmt, ...)
{
    err->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

bool tc_is_utf8(const char *name)
{
    return strcasecmp(name, "UTF-8") == 0 || strcasecmp(name, "UTF8") == 0;
}

bool tc_encoding_known(const char *name)
{
    if (name[0] == '\0') return false;
    iconv_t cd = iconv_open("UTF-8", name);
    if (cd == (iconv_t)-1) return false;
    iconv_close(cd);
    return true;
}

/* The 1-based line holding the end of the N bytes of UTF-8 at S: LF, CRLF and a
 * lone CR each end a line, as in the CSV reader. */
static uint64_t line_at(const unsigned char *s, size_t n)
{
    uint64_t line = 1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') line++;
        else if (s[i] == '\r' && (i + 1 >= n || s[i + 1] != '\n')) line++;
    }
    return line;
}

/* Whether the N bytes at S convert from ENCODING without error. */
static bool converts(const char *encoding, const unsigned char *s, size_t n)
{
    iconv_t cd = iconv_open("UTF-8", encoding);
    if (cd == (iconv_t)-1) return false;
    char scratch[4096];
    char *in = (char *)s;
    size_t left = n;
    bool ok = true;
    while (left > 0) {
        char *o = scratch;
        size_t room = sizeof scratch;
        if (iconv(cd, &in, &left, &o, &room) == (size_t)-1 && errno != E2BIG) {
            /* a character cut by the end of the sample is not the file's fault */
            ok = errno == EINVAL && n == LOOK_BYTES;
            break;
        }
    }
    iconv_close(cd);
    return ok;
}

static bool valid_utf8(const unsigned char *s, size_t n, bool *any_high)
{
    *any_high = false;
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        *any_high = true;
        size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
        if (len == 0 || c > 0xF4) return false;
        if (i + len > n) return n == LOOK_BYTES; /* cut by the sample's end */
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80) return false;
        /* overlong forms, surrogates and code points past U+10FFFF */
        if ((c == 0xE0 && s[i + 1] < 0xA0) || (c == 0xED && s[i + 1] > 0x9F) ||
            (c == 0xF0 && s[i + 1] < 0x90) || (c == 0xF4 && s[i + 1] > 0x8F))
            return false;
        i += len;
    }
    return true;
}

const char *tc_looks_like(const unsigned char *s, size_t len)
{
    size_t n = len < LOOK_BYTES ? len : LOOK_BYTES;
    if (n >= 2 && ((s[0] == 0xFF && s[1] == 0xFE) || (s[0] == 0xFE && s[1] == 0xFF))) return "UTF-16";
    /* CSV is full of ASCII (commas, digits, line breaks), which UTF-16 writes with a
     * NUL byte beside it: NULs on one side of most pairs mean UTF-16. */
    size_t pairs = n / 2 < 4096 ? n / 2 : 4096, nul_even = 0, nul_odd = 0;
    for (size_t i = 0; i < pairs; i++) {
        nul_even += s[2 * i] == 0;
        nul_odd += s[2 * i + 1] == 0;
    }
    if (pairs >= 2 && (nul_even * 3 >= pairs || nul_odd * 3 >= pairs)) return "UTF-16";
    bool any_high;
    if (valid_utf8(s, n, &any_high)) return "UTF-8";
    if (converts("GB18030", s, n)) return "GB18030";
    return NULL;
}

/* Appends to MSG (of SIZE bytes, holding a message) what to do about a file that is
 * not ENCODING, judged from its bytes. */
static void suggest(char *msg, size_t size, const char *encoding, const unsigned char *s, size_t len)
{
    size_t at = strlen(msg);
    const char *like = tc_looks_like(s, len);
    if (like != NULL && tc_is_utf8(like))
        snprintf(msg + at, size - at,
                 "; the file looks like UTF-8: remove the encoding line, UTF-8 is the default");
    else if (like != NULL && strcasecmp(like, encoding) != 0)
        snprintf(msg + at, size - at, "; the file looks like %s: declare encoding \"%s\" in the source block",
                 strcmp(like, "GB18030") == 0 ? "GBK/GB18030" : like, like);
    else
        snprintf(msg + at, size - at,
                 "; convert the file to UTF-8, or declare the encoding it is written in");
}

/* The byte order of a UTF-16 file: the iconv name to convert with, and how many bytes
 * of byte-order mark to skip.  False with *ERR filled for a contradicting mark. */
static bool utf16_order(const char *encoding, const unsigned char *in, size_t len, const char **name,
                        size_t *skip, tc_error *err)
{
    bool le_mark = len >= 2 && in[0] == 0xFF && in[1] == 0xFE;
    bool be_mark = len >= 2 && in[0] == 0xFE && in[1] == 0xFF;
    *skip = le_mark || be_mark ? 2 : 0;
    if (strcasecmp(encoding, "UTF-16") == 0) {
        *name = be_mark ? "UTF-16BE" : "UTF-16LE";
        return true;
    }
    bool want_le = strcasecmp(encoding, "UTF-16LE") == 0;
    *name = want_le ? "UTF-16LE" : "UTF-16BE";
    if ((want_le && be_mark) || (!want_le && le_mark)) {
        set_error(err, 1,
                  "the file starts with a %s byte-order mark but is declared %s; declare "
                  "encoding \"UTF-16\" to take the order from the mark",
                  be_mark ? "big-endian" : "little-endian", encoding);
        return false;
    }
    return true;
}

/* Whether a file declared UTF-16 can be: one with a byte-order mark, or with a NUL byte
 * early on. UTF-16 writes every ASCII character (each comma and line break of a CSV)
 * with a NUL byte beside it, while any pair of bytes is some UTF-16 character: a GBK
 * or UTF-8 file declared UTF-16 would otherwise convert, silently, into nonsense. */
static bool utf16_plausible(const unsigned char *in, size_t len, size_t skip)
{
    if (skip > 0 || len < 2) return true;
    size_t n = len < LOOK_BYTES ? len : LOOK_BYTES;
    return memchr(in, 0, n) != NULL;
}

bool tc_to_utf8(const char *encoding, const unsigned char *in, size_t len, unsigned char **out,
                size_t *out_len, tc_error *err)
{
    *out = NULL;
    *out_len = 0;
    const char *name = encoding;
    size_t skip = 0;
    bool utf16 = strcasecmp(encoding, "UTF-16") == 0 || strcasecmp(encoding, "UTF-16LE") == 0 ||
                 strcasecmp(encoding, "UTF-16BE") == 0;
    if (utf16 && !utf16_order(encoding, in, len, &name, &skip, err)) return false;
    if (utf16 && !utf16_plausible(in, len, skip)) {
        set_error(err, 1,
                  "the file is declared %s but has no byte-order mark and no NUL byte, "
                  "which UTF-16 writes beside every comma and line break",
                  encoding);
        suggest(err->message, sizeof err->message, encoding, in, len);
        return false;
    }
    iconv_t cd = iconv_open("UTF-8", name);
    if (cd == (iconv_t)-1) {
        set_error(err, 0, "unknown encoding \"%s\": iconv cannot convert from it", encoding);
        return false;
    }
    /* UTF-8 takes at most 3 bytes for each 2 bytes of UTF-16 or GB18030 (4-byte
     * GB18030 characters take at most 4), so 1.5 times the input plus a margin is
     * usually enough; the loop grows the buffer otherwise. */
    size_t cap = len + len / 2 + 16;
    unsigned char *buf = malloc(cap);
    char *src = (char *)in + skip;
    size_t left = len - skip;
    size_t used = 0;
    bool ok = buf != NULL;
    if (!ok) set_error(err, 0, "out of memory converting the file from %s", encoding);
    while (ok) {
        char *dst = (char *)buf + used;
        size_t room = cap - used;
        size_t rc = left > 0 ? iconv(cd, &src, &left, &dst, &room) : iconv(cd, NULL, NULL, &dst, &room);
        used = (size_t)(dst - (char *)buf);
        if (rc != (size_t)-1 && left == 0) break;
        if (rc == (size_t)-1 && errno == E2BIG) {
            unsigned char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                set_error(err, 0, "out of memory converting the file from %s", encoding);
                ok = false;
                break;
            }
            buf = bigger;
            cap *= 2;
            continue;
        }
        if (rc == (size_t)-1) {
            size_t at = (size_t)(src - (const char *)in);
            char shown[32] = "";
            size_t n = 0;
            for (size_t k = 0; k < 4 && at + k < len; k++)
                n += (size_t)snprintf(shown + n, sizeof shown - n, "%s0x%02X", k ? " " : "", in[at + k]);
            if (errno == EINVAL)
                set_error(err, line_at(buf, used),
                          "the file ends inside a character: bytes %s at byte offset %zu "
                          "are not complete %s",
                          shown, at, encoding);
            else
                set_error(err, line_at(buf, used), "bytes %s at byte offset %zu are not valid %s", shown, at,
                          encoding);
            suggest(err->message, sizeof err->message, encoding, in, len);
            ok = false;
        }
        break;
    }
    iconv_close(cd);
    if (!ok) {
        free(buf);
        return false;
    }
    *out = buf;
    *out_len = used;
    return true;
}
