/* fuzz_transcode.c -- libFuzzer target for reading other encodings (transcode.h).
 *
 * Input: byte 0 picks the declared encoding; the rest is the file.  The target
 * converts it and, when that succeeds, checks that the result is valid UTF-8 and has
 * exactly the file's line breaks (LF and CR characters: the CSV reader's line numbers
 * depend on it, see transcode.h); when it fails, that the error has a message and a
 * line within the file.  tc_looks_like must accept any bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kpic/transcode.h"

static const char *const ENCODINGS[] = {"GBK", "GB18030", "UTF-16", "UTF-16LE", "UTF-16BE", "BIG5"};

static bool valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
        if (len == 0 || c > 0xF4 || i + len > n)
            return false;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
        i += len;
    }
    return true;
}

/* LF and CR characters in the file, read in its encoding's code units. */
static void count_breaks(const char *encoding, const unsigned char *s, size_t n, size_t *lf,
                         size_t *cr)
{
    *lf = *cr = 0;
    bool utf16 = strncmp(encoding, "UTF-16", 6) == 0;
    if (!utf16) {
        for (size_t i = 0; i < n; i++) {
            *lf += s[i] == '\n';
            *cr += s[i] == '\r';
        }
        return;
    }
    bool be = strcmp(encoding, "UTF-16BE") == 0 ||
              (strcmp(encoding, "UTF-16") == 0 && n >= 2 && s[0] == 0xFE && s[1] == 0xFF);
    for (size_t i = 0; i + 1 < n; i += 2) {
        unsigned unit = be ? (unsigned)s[i] << 8 | s[i + 1] : (unsigned)s[i + 1] << 8 | s[i];
        *lf += unit == '\n';
        *cr += unit == '\r';
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *encoding = ENCODINGS[data[0] % (sizeof ENCODINGS / sizeof ENCODINGS[0])];
    const unsigned char *file = data + 1;
    size_t len = size - 1;
    (void)tc_looks_like(file, len);
    unsigned char *out;
    size_t out_len;
    tc_error err;
    if (!tc_to_utf8(encoding, file, len, &out, &out_len, &err)) {
        if (out != NULL || err.message[0] == '\0' || err.line > len + 1)
            abort();
        return 0;
    }
    if (!valid_utf8(out, out_len))
        abort();
    size_t lf, cr, out_lf = 0, out_cr = 0;
    count_breaks(encoding, file, len, &lf, &cr);
    for (size_t i = 0; i < out_len; i++) {
        out_lf += out[i] == '\n';
        out_cr += out[i] == '\r';
    }
    if (lf != out_lf || cr != out_cr)
        abort();
    free(out);
    return 0;
}
