/* markup.c — escaping for Markdown and HTML (see markup.h). */
#include "kpic/markup.h"

#include <string.h>

const char *markup_md(arena *mem, const char *s)
{
    if (!s) return "";
    size_t n = strlen(s);
    char *out = arena_alloc(mem, 2 * n + 1), *o = out;
    for (const char *p = s; *p; p++) {
        if (*p == '|' || *p == '\\' || *p == '`' || *p == '*' || *p == '_' || *p == '<' || *p == '[')
            *o++ = '\\';
        *o++ = (unsigned char)*p < 0x20 ? ' ' : *p;
    }
    *o = '\0';
    return out;
}

void markup_html(FILE *out, const char *s)
{
    if (!s) return;
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        default:
            if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t') fputc(' ', out);
            else fputc(*p, out);
        }
    }
}
