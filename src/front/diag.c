/* diag.c — source files, positions and the diagnostics sink (see diag.h). */
#include "kpic/diag.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "kpic/json.h"

#ifndef KPIC_VERSION
#define KPIC_VERSION "0.1.0"
#endif

void diag_init(diag_sink *s)
{
    memset(s, 0, sizeof *s);
    arena_init(&s->mem);
}

void diag_free(diag_sink *s)
{
    for (size_t i = 0; i < s->file_count; i++) {
        free(s->files[i].path);
        free(s->files[i].text);
        free(s->files[i].line_starts);
    }
    free(s->files);
    arena_free(&s->mem);
    memset(s, 0, sizeof *s);
}

uint32_t diag_add_file(diag_sink *s, const char *path, char *text, size_t len)
{
    if (s->file_count == s->file_cap) {
        s->file_cap = s->file_cap ? s->file_cap * 2 : 4;
        s->files = xrealloc(s->files, s->file_cap * sizeof *s->files);
    }
    diag_file *f = &s->files[s->file_count];
    f->path = xstrdup(path);
    f->text = text;
    f->len = len;
    /* A line ends at LF, CRLF or a lone CR (old Mac files), as in CSV data. */
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n' || (text[i] == '\r' && (i + 1 == len || text[i + 1] != '\n'))) lines++;
    f->line_starts = xmalloc(lines * sizeof *f->line_starts);
    f->line_count = 0;
    /* a UTF-8 byte-order mark is not part of line 1: columns and excerpts start after it */
    f->line_starts[f->line_count++] = len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n' || (text[i] == '\r' && (i + 1 == len || text[i + 1] != '\n')))
            f->line_starts[f->line_count++] = (uint32_t)(i + 1);
    return (uint32_t)s->file_count++;
}

uint32_t diag_load_file(diag_sink *s, const char *path, bool text_only, const char **why)
{
    FILE *in = fopen(path, "rb");
    if (!in) {
        *why = strerror(errno);
        return DIAG_NO_FILE;
    }
    size_t cap = 1 << 16, len = 0;
    char *text = xmalloc(cap + 1);
    for (;;) {
        size_t n = fread(text + len, 1, cap - len, in);
        len += n;
        if (n == 0) break;
        if (len == cap) {
            /* spans are 32-bit offsets: a spec of 4 GiB is not a spec */
            if (cap >= (size_t)UINT32_MAX / 2) {
                free(text);
                fclose(in);
                *why = "file too large";
                return DIAG_NO_FILE;
            }
            cap *= 2;
            text = xrealloc(text, cap + 1);
        }
    }
    bool failed = ferror(in);
    int err = errno;
    fclose(in);
    if (failed) {
        free(text);
        *why = strerror(err ? err : EIO);
        return DIAG_NO_FILE;
    }
    text[len] = '\0';
    /* Diagnostics quote the files they point into: a file that is not text (an
     * import of /proc/self/environ, of a binary) is refused unquoted, so a spec
     * cannot make kpic print bytes that were never a spec. */
    bool is_text = true;
    for (size_t i = 0; text_only && is_text && i < len;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n =
            utf8proc_iterate((const utf8proc_uint8_t *)text + i, (utf8proc_ssize_t)(len - i), &cp);
        is_text = n > 0 && cp != 0;
        i += n > 0 ? (size_t)n : 1;
    }
    if (!is_text) {
        free(text);
        *why = "not a kpic spec (it is not UTF-8 text)";
        return DIAG_NO_FILE;
    }
    return diag_add_file(s, path, text, len);
}

const diag_file *diag_get_file(const diag_sink *s, uint32_t file)
{
    return file < s->file_count ? &s->files[file] : NULL;
}

/* Characters (code points) in text[from, to); an invalid byte counts as one. */
static unsigned count_chars(const char *text, uint32_t from, uint32_t to)
{
    unsigned n = 0;
    for (uint32_t i = from; i < to; i++)
        if (((unsigned char)text[i] & 0xC0) != 0x80) n++;
    return n;
}

static size_t line_index(const diag_file *f, uint32_t offset)
{
    size_t lo = 0, hi = f->line_count;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->line_starts[mid] <= offset) lo = mid;
        else hi = mid;
    }
    return lo;
}

void diag_position(const diag_sink *s, uint32_t file, uint32_t offset, unsigned *line, unsigned *column)
{
    const diag_file *f = diag_get_file(s, file);
    if (!f) {
        *line = *column = 0;
        return;
    }
    if (offset > f->len) offset = (uint32_t)f->len;
    size_t li = line_index(f, offset);
    *line = (unsigned)li + 1;
    *column = count_chars(f->text, f->line_starts[li], offset) + 1;
}

/* Messages quote names and cells from data (a staff name with a line break, a tab in an
 * id): a control character printed raw would break the one-line-per-diagnostic layout
 * that editors and CI parse, so it is shown as \xNN, as the CSV reader shows bad bytes. */
static char *vformat(arena *a, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0) n = 0;
    char *p = arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    size_t controls = 0;
    for (const unsigned char *c = (const unsigned char *)p; *c; c++) controls += *c < 0x20 || *c == 0x7f;
    if (!controls) return p;
    char *escaped = arena_alloc(a, (size_t)n + 3 * controls + 1), *o = escaped;
    for (const unsigned char *c = (const unsigned char *)p; *c; c++) {
        if (*c < 0x20 || *c == 0x7f) o += sprintf(o, "\\x%02X", *c);
        else *o++ = (char)*c;
    }
    *o = '\0';
    return escaped;
}

diagnostic *diag_report(diag_sink *s, diag_severity sev, kp_span span, const char *code, const char *fmt, ...)
{
    diagnostic *d = arena_alloc(&s->mem, sizeof *d);
    d->severity = sev;
    d->code = code;
    d->span = span;
    d->seq = s->diags.len;
    va_list ap;
    va_start(ap, fmt);
    d->message = vformat(&s->mem, fmt, ap);
    va_end(ap);
    ptr_vec_push(&s->mem, &s->diags, d);
    if (sev == DIAG_ERROR) s->errors++;
    else if (sev == DIAG_WARNING) s->warnings++;
    return d;
}

diagnostic *diag_report_data(diag_sink *s, diag_severity sev, const char *path, unsigned line, unsigned col,
                             const char *code, const char *fmt, ...)
{
    kp_span none = { DIAG_NO_FILE, 0, 0 };
    diagnostic *d = diag_report(s, sev, none, code, "%s", "");
    va_list ap;
    va_start(ap, fmt);
    d->message = vformat(&s->mem, fmt, ap);
    va_end(ap);
    d->ext_path = arena_strndup(&s->mem, path, strlen(path));
    d->ext_line = line;
    d->ext_col = col;
    return d;
}

void diag_hint(diag_sink *s, diagnostic *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *hint = vformat(&s->mem, fmt, ap);
    va_end(ap);
    ptr_vec_push(&s->mem, &d->hints, hint);
}

void diag_note(diag_sink *s, diagnostic *d, kp_span span, const char *fmt, ...)
{
    diag_note_entry *n = arena_alloc(&s->mem, sizeof *n);
    n->span = span;
    va_list ap;
    va_start(ap, fmt);
    n->message = vformat(&s->mem, fmt, ap);
    va_end(ap);
    ptr_vec_push(&s->mem, &d->notes, n);
}

static int compare_diags(const void *a, const void *b)
{
    const diagnostic *x = *(const diagnostic *const *)a, *y = *(const diagnostic *const *)b;
    /* file-less diagnostics (command line, I/O) first, then by file, then by position */
    uint64_t fx = x->span.file == DIAG_NO_FILE ? 0 : (uint64_t)x->span.file + 1;
    uint64_t fy = y->span.file == DIAG_NO_FILE ? 0 : (uint64_t)y->span.file + 1;
    if (fx != fy) return fx < fy ? -1 : 1;
    if (x->span.start != y->span.start) return x->span.start < y->span.start ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static const char *severity_name(diag_severity sev)
{
    return sev == DIAG_ERROR ? "error" : sev == DIAG_WARNING ? "warning" : "note";
}

/* Display columns a character takes in a terminal: Chinese characters take two. */
static int char_width(utf8proc_int32_t cp)
{
    int w = utf8proc_charwidth(cp);
    return w < 0 ? 1 : w;
}

/* Prints the source line of span and a caret underline of the span (to the end of the
 * first line when the span runs over several). Tabs in the line are kept in the
 * underline so the caret stays aligned whatever the tab width. */
static void print_excerpt(const diag_sink *s, FILE *out, kp_span span)
{
    const diag_file *f = diag_get_file(s, span.file);
    if (!f) return;
    uint32_t start = span.start > f->len ? (uint32_t)f->len : span.start;
    size_t li = line_index(f, start);
    uint32_t line_start = f->line_starts[li];
    if (start < line_start) start = line_start; /* a span on a byte-order mark */
    uint32_t line_end = li + 1 < f->line_count ? f->line_starts[li + 1] - 1 : (uint32_t)f->len;
    if (line_end > line_start && f->text[line_end - 1] == '\r') line_end--;
    uint32_t end = span.end < start ? start : span.end;
    if (end > line_end) end = line_end;

    char gutter[16];
    int gw = snprintf(gutter, sizeof gutter, "%5zu", li + 1);
    fprintf(out, "%s | ", gutter);
    /* echo the line, replacing bytes that are not valid UTF-8 so the terminal stays sane */
    const utf8proc_uint8_t *text = (const utf8proc_uint8_t *)f->text;
    for (uint32_t i = line_start; i < line_end;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(text + i, line_end - i, &cp);
        if (n <= 0) {
            fputs("\xEF\xBF\xBD", out);
            i++;
            continue;
        }
        if (cp < 0x20 && cp != '\t') fputc(' ', out);
        else fwrite(text + i, 1, (size_t)n, out);
        i += (uint32_t)n;
    }
    fprintf(out, "\n%*s | ", gw, "");
    for (uint32_t i = line_start; i < start;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(text + i, start - i, &cp);
        if (n <= 0) {
            n = 1;
            cp = 0xFFFD;
        }
        if (cp == '\t') fputc('\t', out);
        else fprintf(out, "%*s", cp < 0x20 ? 1 : char_width(cp), "");
        i += (uint32_t)n;
    }
    fputc('^', out);
    bool caret_done = false;
    for (uint32_t i = start; i < end;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(text + i, end - i, &cp);
        if (n <= 0) {
            n = 1;
            cp = 0xFFFD;
        }
        int w = cp < 0x20 ? 1 : char_width(cp);
        /* the caret already stands in the first column of the first character */
        for (int k = caret_done ? 0 : 1; k < w; k++) fputc('~', out);
        caret_done = true;
        i += (uint32_t)n;
    }
    fputc('\n', out);
}

static void print_data_location(FILE *out, const diagnostic *d)
{
    if (d->ext_line && d->ext_col) fprintf(out, "%s:%u:%u: ", d->ext_path, d->ext_line, d->ext_col);
    else if (d->ext_line) fprintf(out, "%s:%u: ", d->ext_path, d->ext_line);
    else fprintf(out, "%s: ", d->ext_path);
}

static void print_location(const diag_sink *s, FILE *out, kp_span span)
{
    const diag_file *f = diag_get_file(s, span.file);
    if (!f) {
        fputs("kpic: ", out);
        return;
    }
    unsigned line, col;
    diag_position(s, span.file, span.start, &line, &col);
    fprintf(out, "%s:%u:%u: ", f->path, line, col);
}

static void print_text(const diag_sink *s, FILE *out, diagnostic **sorted, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        diagnostic *d = sorted[i];
        if (d->ext_path) print_data_location(out, d);
        else print_location(s, out, d->span);
        fprintf(out, "%s: %s\n", severity_name(d->severity), d->message);
        print_excerpt(s, out, d->span);
        for (size_t h = 0; h < d->hints.len; h++)
            fprintf(out, "      = hint: %s\n", (const char *)d->hints.items[h]);
        for (size_t k = 0; k < d->notes.len; k++) {
            diag_note_entry *note = d->notes.items[k];
            print_location(s, out, note->span);
            fprintf(out, "note: %s\n", note->message);
            print_excerpt(s, out, note->span);
        }
    }
    if (s->errors || s->warnings) {
        if (s->errors) fprintf(out, "%zu error%s", s->errors, s->errors == 1 ? "" : "s");
        if (s->errors && s->warnings) fputs(", ", out);
        if (s->warnings) fprintf(out, "%zu warning%s", s->warnings, s->warnings == 1 ? "" : "s");
        fputc('\n', out);
    }
}

/* line, column, end_line, end_column (exclusive) of a span */
static void span_range(const diag_sink *s, kp_span span, unsigned r[4])
{
    diag_position(s, span.file, span.start, &r[0], &r[1]);
    diag_position(s, span.file, span.end < span.start ? span.start : span.end, &r[2], &r[3]);
}

static void print_json(const diag_sink *s, FILE *out, diagnostic **sorted, size_t n)
{
    fputs("[", out);
    for (size_t i = 0; i < n; i++) {
        diagnostic *d = sorted[i];
        const diag_file *f = diag_get_file(s, d->span.file);
        unsigned r[4] = { 0, 0, 0, 0 };
        if (f) span_range(s, d->span, r);
        if (d->ext_path) {
            r[0] = r[2] = d->ext_line;
            r[1] = d->ext_col;
            r[3] = d->ext_col ? d->ext_col + 1 : 0;
        }
        fputs(i ? ",\n " : "\n ", out);
        fputs("{\"file\": ", out);
        if (f) json_write_string(out, f->path);
        else if (d->ext_path) json_write_string(out, d->ext_path);
        else fputs("null", out);
        fprintf(out, ", \"line\": %u, \"column\": %u, \"end_line\": %u, \"end_column\": %u, ", r[0], r[1],
                r[2], r[3]);
        fprintf(out, "\"severity\": \"%s\", \"code\": ", severity_name(d->severity));
        json_write_string(out, d->code ? d->code : "");
        fputs(", \"message\": ", out);
        json_write_string(out, d->message);
        fputs(", \"hints\": [", out);
        for (size_t h = 0; h < d->hints.len; h++) {
            if (h) fputs(", ", out);
            json_write_string(out, d->hints.items[h]);
        }
        fputs("], \"notes\": [", out);
        for (size_t k = 0; k < d->notes.len; k++) {
            diag_note_entry *note = d->notes.items[k];
            const diag_file *nf = diag_get_file(s, note->span.file);
            unsigned nr[4] = { 0, 0, 0, 0 };
            if (nf) span_range(s, note->span, nr);
            fputs(k ? ", {\"file\": " : "{\"file\": ", out);
            if (nf) json_write_string(out, nf->path);
            else fputs("null", out);
            fprintf(out,
                    ", \"line\": %u, \"column\": %u, \"end_line\": %u, \"end_column\": %u, "
                    "\"message\": ",
                    nr[0], nr[1], nr[2], nr[3]);
            json_write_string(out, note->message);
            fputs("}", out);
        }
        fputs("]}", out);
    }
    fputs(n ? "\n]\n" : "]\n", out);
}

static void sarif_region(const diag_sink *s, FILE *out, kp_span span)
{
    const diag_file *f = diag_get_file(s, span.file);
    unsigned r[4];
    span_range(s, span, r);
    fputs("\"physicalLocation\": {\"artifactLocation\": {\"uri\": ", out);
    json_write_string(out, f->path);
    fprintf(out,
            "}, \"region\": {\"startLine\": %u, \"startColumn\": %u, \"endLine\": %u, "
            "\"endColumn\": %u}}",
            r[0], r[1], r[2], r[3]);
}

/* SARIF 2.1.0: one run, rules named by diagnostic code, a result per diagnostic, hints
 * appended to the message text, notes as related locations. */
static void print_sarif(const diag_sink *s, FILE *out, diagnostic **sorted, size_t n)
{
    fputs("{\"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n"
          " \"version\": \"2.1.0\",\n"
          " \"runs\": [{\"tool\": {\"driver\": {\"name\": \"kpic\", \"version\": \"" KPIC_VERSION "\", "
          "\"informationUri\": \"https://example.invalid/kpic\", \"rules\": [",
          out);
    /* each distinct code once, in order of first use */
    const char **codes = xcalloc(n + 1, sizeof *codes);
    size_t ncodes = 0;
    for (size_t i = 0; i < n; i++) {
        const char *code = sorted[i]->code ? sorted[i]->code : "kpic";
        size_t k = 0;
        while (k < ncodes && strcmp(codes[k], code)) k++;
        if (k == ncodes) codes[ncodes++] = code;
    }
    for (size_t k = 0; k < ncodes; k++) {
        fputs(k ? ", {\"id\": " : "{\"id\": ", out);
        json_write_string(out, codes[k]);
        fputs("}", out);
    }
    fputs("]}},\n  \"results\": [", out);
    for (size_t i = 0; i < n; i++) {
        diagnostic *d = sorted[i];
        const char *code = d->code ? d->code : "kpic";
        size_t rule = 0;
        while (rule < ncodes && strcmp(codes[rule], code)) rule++;
        fputs(i ? ",\n   " : "\n   ", out);
        fputs("{\"ruleId\": ", out);
        json_write_string(out, code);
        fprintf(out, ", \"ruleIndex\": %zu, \"level\": \"%s\", \"message\": {\"text\": ", rule,
                d->severity == DIAG_ERROR     ? "error"
                : d->severity == DIAG_WARNING ? "warning"
                                              : "note");
        size_t len = strlen(d->message) + 1;
        /* " (hint: " + hint + ")" */
        for (size_t h = 0; h < d->hints.len; h++) len += strlen(d->hints.items[h]) + 9;
        char *text = xmalloc(len);
        strcpy(text, d->message);
        for (size_t h = 0; h < d->hints.len; h++) {
            strcat(text, " (hint: ");
            strcat(text, d->hints.items[h]);
            strcat(text, ")");
        }
        json_write_string(out, text);
        free(text);
        fputs("}", out);
        if (diag_get_file(s, d->span.file)) {
            fputs(", \"locations\": [{", out);
            sarif_region(s, out, d->span);
            fputs("}]", out);
        } else if (d->ext_path) {
            fputs(", \"locations\": [{\"physicalLocation\": {\"artifactLocation\": {\"uri\": ", out);
            json_write_string(out, d->ext_path);
            fputs("}", out);
            if (d->ext_line) fprintf(out, ", \"region\": {\"startLine\": %u}", d->ext_line);
            fputs("}}]", out);
        }
        size_t related = 0;
        for (size_t k = 0; k < d->notes.len; k++) {
            diag_note_entry *note = d->notes.items[k];
            if (!diag_get_file(s, note->span.file)) continue;
            fputs(related++ ? ", " : ", \"relatedLocations\": [", out);
            fprintf(out, "{\"id\": %zu, ", k);
            sarif_region(s, out, note->span);
            fputs(", \"message\": {\"text\": ", out);
            json_write_string(out, note->message);
            fputs("}}", out);
        }
        if (related) fputs("]", out);
        fputs("}", out);
    }
    fputs(n ? "\n  ]}]}\n" : "]}]}\n", out);
    free(codes);
}

static bool same_data_diagnostic(const diagnostic *a, const diagnostic *b)
{
    if (a->span.file != DIAG_NO_FILE || b->span.file != DIAG_NO_FILE) return false;
    if (a->severity != b->severity || strcmp(a->code ? a->code : "", b->code ? b->code : "") != 0)
        return false;
    if ((a->ext_path == NULL) != (b->ext_path == NULL)) return false;
    if (a->ext_path &&
        (strcmp(a->ext_path, b->ext_path) != 0 || a->ext_line != b->ext_line || a->ext_col != b->ext_col))
        return false;
    if (strcmp(a->message, b->message) != 0 || a->hints.len != b->hints.len) return false;
    for (size_t h = 0; h < a->hints.len; h++)
        if (strcmp(a->hints.items[h], b->hints.items[h]) != 0) return false;
    return true;
}

void diag_drop_repeats(diag_sink *s, const diag_sink *shown)
{
    size_t kept = 0;
    for (size_t i = 0; i < s->diags.len; i++) {
        diagnostic *d = s->diags.items[i];
        bool repeat = false;
        for (size_t k = 0; k < shown->diags.len && !repeat; k++)
            repeat = same_data_diagnostic(d, shown->diags.items[k]);
        if (!repeat) {
            s->diags.items[kept++] = d;
        } else if (d->severity == DIAG_ERROR) {
            s->errors--;
        } else if (d->severity == DIAG_WARNING) {
            s->warnings--;
        }
    }
    s->diags.len = kept;
}

void diag_print(diag_sink *s, FILE *final_out, diag_format format)
{
    /* stderr is unbuffered: build the whole text first and write it in one go, or
     * thousands of diagnostics spend seconds in single-byte writes */
    char *text = NULL;
    size_t text_len = 0;
    FILE *out = xopen_memstream(&text, &text_len);
    size_t n = s->diags.len;
    diagnostic **sorted = xmalloc((n + 1) * sizeof *sorted);
    if (n) memcpy(sorted, s->diags.items, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, compare_diags);
    switch (format) {
    case DIAG_FORMAT_TEXT: print_text(s, out, sorted, n); break;
    case DIAG_FORMAT_JSON: print_json(s, out, sorted, n); break;
    case DIAG_FORMAT_SARIF: print_sarif(s, out, sorted, n); break;
    }
    free(sorted);
    xclose_memstream(out);
    fwrite(text, 1, text_len, final_out);
    free(text);
}

/* ---- suggestions ---------------------------------------------------------------- */

/* Decodes s into code points (invalid bytes as themselves); returns the count. */
static size_t decode(const char *s, utf8proc_int32_t *out, size_t cap)
{
    size_t n = 0, len = strlen(s);
    for (size_t i = 0; i < len && n < cap;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k =
            utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &cp);
        if (k <= 0) {
            cp = (unsigned char)s[i];
            k = 1;
        }
        out[n++] = cp;
        i += (size_t)k;
    }
    return n;
}

size_t diag_edit_distance(const char *a, const char *b, size_t limit)
{
    enum { MAX_NAME = 64 };
    utf8proc_int32_t x[MAX_NAME], y[MAX_NAME];
    size_t n = decode(a, x, MAX_NAME), m = decode(b, y, MAX_NAME);
    if ((n > m ? n - m : m - n) > limit) return limit + 1;
    size_t row[MAX_NAME + 1];
    for (size_t j = 0; j <= m; j++) row[j] = j;
    for (size_t i = 1; i <= n; i++) {
        size_t diag = row[0], best = row[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t up = row[j];
            size_t cost = x[i - 1] == y[j - 1] ? 0 : 1;
            size_t v = diag + cost;
            if (up + 1 < v) v = up + 1;
            if (row[j - 1] + 1 < v) v = row[j - 1] + 1;
            row[j] = v;
            diag = up;
            if (v < best) best = v;
        }
        if (best > limit) return limit + 1;
    }
    return row[m] > limit ? limit + 1 : row[m];
}

const char *diag_closest(const char *name, const char *const *candidates, size_t count)
{
    utf8proc_int32_t buf[64];
    size_t len = decode(name, buf, 64);
    /* one edit per three characters, at least one: "buyer" → "buyers", not "x" → "y" */
    size_t limit = len / 3 > 0 ? len / 3 : 1;
    if (len <= 2) limit = len - (len > 0);
    const char *best = NULL;
    size_t best_distance = limit + 1;
    for (size_t i = 0; i < count; i++) {
        if (!candidates[i] || strcmp(candidates[i], name) == 0) continue;
        size_t d = diag_edit_distance(name, candidates[i], limit);
        if (d < best_distance) {
            best_distance = d;
            best = candidates[i];
        }
    }
    return best;
}

const char *diag_span_text(const diag_sink *diags, kp_span span, arena *mem)
{
    const diag_file *f = span.file == DIAG_NO_FILE ? NULL : diag_get_file(diags, span.file);
    if (!f || span.start > span.end || span.end > f->len) return "";
    const char *t = f->text + span.start;
    size_t n = span.end - span.start;
    char *out = arena_alloc(mem, n + 1), *o = out;
    bool in_string = false, space = false;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (in_string) {
            *o++ = c;
            if (c == '\\' && i + 1 < n) *o++ = t[++i];
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '#') {
            while (i + 1 < n && t[i + 1] != '\n' && t[i + 1] != '\r') i++;
            space = true;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = true;
            continue;
        }
        if (space && o > out) *o++ = ' ';
        space = false;
        if (c == '"') in_string = true;
        *o++ = c;
    }
    *o = '\0';
    return out;
}
