/* fuzz_cellfmt.c -- libFuzzer target for declared cell formats (cellfmt.h).
 *
 * Input: byte 0 picks the kind (date, number, bool); then the pattern (for bool,
 * the true word, a NUL, the false word) up to a NUL; then cells separated by '\n'.
 * Any pattern is compiled; when it compiles, every cell is read, and
 *   - a number cell that reads must give a plain decimal that dec_parse accepts
 *     (it may be too precise or too large, never a syntax error), with at most the
 *     pattern's places;
 *   - a date cell that reads must give a date within DATE_MIN..DATE_MAX;
 *   - a bool cell is 1 only for the true word and 0 only for the false word.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kpic/cellfmt.h"
#include "kpic/decimal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int kind = data[0] % 3;
    const char *rest = (const char *)data + 1;
    size_t left = size - 1;
    char pattern[CFMT_TEXT_MAX * 2], second[CFMT_TEXT_MAX * 2] = "";
    const char *nul = memchr(rest, '\0', left);
    size_t plen = nul ? (size_t)(nul - rest) : left;
    if (plen >= sizeof pattern)
        return 0;
    memcpy(pattern, rest, plen);
    pattern[plen] = '\0';
    rest += nul ? plen + 1 : plen;
    left -= nul ? plen + 1 : plen;
    if (kind == 2) {
        nul = memchr(rest, '\0', left);
        size_t slen = nul ? (size_t)(nul - rest) : left;
        if (slen >= sizeof second)
            return 0;
        memcpy(second, rest, slen);
        second[slen] = '\0';
        rest += nul ? slen + 1 : slen;
        left -= nul ? slen + 1 : slen;
    }
    cfmt f;
    char why[256];
    bool ok = kind == 0   ? cfmt_compile_date(pattern, &f, why, sizeof why)
              : kind == 1 ? cfmt_compile_number(pattern, &f, why, sizeof why)
                          : cfmt_compile_bool(pattern, second, &f, why, sizeof why);
    if (!ok) {
        if (strlen(why) == 0)
            abort(); /* every refusal says why */
        return 0;
    }
    while (left > 0) {
        const char *eol = memchr(rest, '\n', left);
        size_t len = eol ? (size_t)(eol - rest) : left;
        if (kind == 0) {
            date_t d;
            if (cfmt_parse_date(&f, rest, len, &d) == DATE_OK && (d < DATE_MIN || d > DATE_MAX))
                abort();
        } else if (kind == 1) {
            char plain[CFMT_NUMBER_MAX];
            size_t plain_len;
            if (cfmt_number_text(&f, rest, len, plain, &plain_len)) {
                dec_t v;
                if (plain_len != strlen(plain) || dec_parse(plain, plain_len, DEC_PLACES, &v) == DEC_SYNTAX)
                    abort();
                const char *point = strchr(plain, '.');
                size_t places = point ? strlen(point + 1) : 0;
                if (places < f.min_places || places > f.max_places)
                    abort();
            }
        } else {
            int b = cfmt_parse_bool(&f, rest, len);
            bool is_true = strlen(pattern) == len && memcmp(pattern, rest, len) == 0;
            bool is_false = strlen(second) == len && memcmp(second, rest, len) == 0;
            if (b != (is_true ? 1 : is_false ? 0 : -1))
                abort();
        }
        rest += eol ? len + 1 : len;
        left -= eol ? len + 1 : len;
    }
    return 0;
}
