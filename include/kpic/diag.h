/* diag.h — source files and the one diagnostics sink every stage reports into.
 *
 * Owns: the text of every loaded spec file, the mapping from byte offsets to
 * line:column (columns count characters, not bytes, so carets under Chinese text line
 * up), and the list of diagnostics with their printing as text (source line + caret
 * underline + hints), JSON and SARIF 2.1.0.
 *
 * Stages never print; they report here and keep going, so a user sees every error of a
 * run at once. Spans are byte offsets into a file's text, turned into lines and columns
 * only when a diagnostic is printed.
 */
#ifndef KPIC_DIAG_H
#define KPIC_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kpic/arena.h"

/* A half-open byte range [start, end) of one loaded file. */
typedef struct kp_span {
    uint32_t file; /* index into the sink's files; DIAG_NO_FILE for none */
    uint32_t start;
    uint32_t end;
} kp_span;

#define DIAG_NO_FILE UINT32_MAX

typedef enum diag_severity { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE } diag_severity;

typedef enum diag_format { DIAG_FORMAT_TEXT, DIAG_FORMAT_JSON, DIAG_FORMAT_SARIF } diag_format;

typedef struct diag_file {
    char *path; /* as the user named it (or as resolved from an import) */
    char *text; /* the whole file, NUL-terminated; owned by the sink */
    size_t len;
    uint32_t *line_starts; /* byte offset of each line's first byte */
    size_t line_count;
} diag_file;

typedef struct diag_note_entry {
    kp_span span;
    char *message;
} diag_note_entry;

typedef struct diagnostic {
    diag_severity severity;
    const char *code; /* stable rule id, e.g. "undefined-name"; SARIF ruleId */
    kp_span span;
    char *message;
    ptr_vec hints; /* char*: "did you mean 'buyers'?" */
    ptr_vec notes; /* diag_note_entry*: related locations ("first defined here") */
    size_t seq;    /* report order, to keep sorting stable */
    /* A location outside the loaded specs (a CSV data file): path:line:field. Used
     * when span.file is DIAG_NO_FILE; ext_line 0 means the file as a whole. */
    const char *ext_path;
    unsigned ext_line, ext_col;
} diagnostic;

typedef struct diag_sink {
    arena mem; /* messages, hints, notes */
    diag_file *files;
    size_t file_count, file_cap;
    ptr_vec diags; /* diagnostic* */
    size_t errors, warnings;
} diag_sink;

void diag_init(diag_sink *s);
void diag_free(diag_sink *s);

/* Registers a file's text, taking ownership of the malloc'd text (len bytes, followed by
 * a NUL). Returns the file index used in spans. */
uint32_t diag_add_file(diag_sink *s, const char *path, char *text, size_t len);

/* Reads a whole file into the sink. Returns the file index, or DIAG_NO_FILE after
 * storing the OS error message in *why (static or sink-owned string). With TEXT_ONLY
 * (a file a spec names, not the user), a file that is not UTF-8 text without NUL
 * bytes is refused the same way ("not a kpic spec") and none of its bytes are kept:
 * diagnostics quote only the files in the sink. */
uint32_t diag_load_file(diag_sink *s, const char *path, bool text_only, const char **why);

const diag_file *diag_get_file(const diag_sink *s, uint32_t file);

/* The source text of SPAN, as one line: comments dropped, every run of white space
 * one space (strings kept as written). Allocated in MEM; "" for no span. */
const char *diag_span_text(const diag_sink *s, kp_span span, arena *mem);

/* 1-based line and character column of a byte offset. */
void diag_position(const diag_sink *s, uint32_t file, uint32_t offset, unsigned *line, unsigned *column);

/* Records a diagnostic and returns it so hints and notes can be attached. */
diagnostic *diag_report(diag_sink *s, diag_severity sev, kp_span span, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* A diagnostic about a data file: printed as path:line:col (col is the CSV field
 * number), or path:line, or path alone when line is 0. */
diagnostic *diag_report_data(diag_sink *s, diag_severity sev, const char *path, unsigned line, unsigned col,
                             const char *code, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
void diag_hint(diag_sink *s, diagnostic *d, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void diag_note(diag_sink *s, diagnostic *d, kp_span span, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Drops from S every diagnostic about a data file (no span in a spec) that says exactly
 * what one of SHOWN says, at the same place, and adjusts S's counts. Two specs run on the
 * same data (`kpic diff`) see the same data problems; each is printed once. */
void diag_drop_repeats(diag_sink *s, const diag_sink *shown);

/* Prints every diagnostic, ordered by file then position (report order among equals).
 * Text ends with a summary line ("2 errors, 1 warning") when there is anything to say. */
void diag_print(diag_sink *s, FILE *out, diag_format format);

/* "did you mean" support: Levenshtein distance over code points, capped at limit+1. */
size_t diag_edit_distance(const char *a, const char *b, size_t limit);
/* The candidate closest to name within a distance that scales with its length, or NULL. */
const char *diag_closest(const char *name, const char *const *candidates, size_t count);

#endif
