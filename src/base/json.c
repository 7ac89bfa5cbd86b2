/* json.c — JSON string and number writing (see json.h). */
#include "kpic/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void json_write_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20 || *p == 0x7f) fprintf(out, "\\u%04x", *p);
            else fputc(*p, out);
        }
    }
    fputc('"', out);
}

void json_write_double(FILE *out, double v)
{
    if (!isfinite(v)) {
        fputs("null", out);
        return;
    }
    if (v == 0) { /* also folds -0 */
        fputs("0", out);
        return;
    }
    if (fabs(v) < 1e15 && v == floor(v)) {
        fprintf(out, "%.0f", v);
        return;
    }
    /* the fewest digits that read back as the same double */
    char buf[40];
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(buf, sizeof buf, "%.*g", precision, v);
        if (strtod(buf, NULL) == v) break;
    }
    fputs(buf, out);
}

void json_write_decimal(FILE *out, dec_t v, unsigned places, bool keep_zeros)
{
    char buf[DEC_FORMAT_SIZE];
    if (keep_zeros) dec_format(v, places, buf, sizeof buf);
    else dec_format_trimmed(v, places, buf, sizeof buf);
    fputs(buf, out);
}
