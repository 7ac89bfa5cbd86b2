/* eval_output.h — private to eval_output.c and its unit tests: the layouts of
 * `kpic eval` (table, JSON, CSV) over a plain grid of values.
 *
 * eval_render() (eval_render.h) reads its periods, roster, sources and values from an
 * evaluation session and hands them to eval_render_grid() as an eval_grid; a test
 * can build the same grid from arrays, with no spec, data or session.
 */
#ifndef KPIC_EVAL_OUTPUT_H
#define KPIC_EVAL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "kpic/arena.h"
#include "kpic/eval.h"
#include "kpic/eval_render.h"

/* The value of indicator INDICATOR (index into eval_grid.indicators) in period
 * PERIOD (index into eval_grid.periods) for staff member STAFF (index into
 * eval_grid.staff), or the total with STAFF = -1.  Called only with STAFF >= 0 for
 * per-staff indicators; may be called more than once for the same cell and must
 * then give the same value. */
typedef eval_value (*eval_grid_value_fn)(void *ctx, size_t period, size_t indicator, int staff);

/* Everything one `kpic eval` output shows. */
typedef struct eval_grid {
    const period_t *periods; /* in output order */
    size_t period_count;
    ast_decl *const *indicators; /* DECL_INDICATOR: name, label, unit, per_staff */
    size_t indicator_count;
    const eval_staff *staff; /* the roster, in its order */
    size_t staff_count;
    const eval_source_stats *sources; /* only those with `read` set are shown */
    size_t source_count;
    eval_grid_value_fn value;
    void *ctx; /* passed to value */
} eval_grid;

/* The bytes of G in FORMAT, malloc'd, their count in *LEN (LEN may be NULL); a NUL
 * follows them.  Same grid, same bytes.  Aborts on out of memory, like xmalloc. */
char *eval_render_grid(const eval_grid *g, eval_format format, size_t *len);

/* Terminal columns S takes: Chinese and other wide characters 2, combining marks 0,
 * everything else 1; a byte that is not part of valid UTF-8 and a control character
 * count 1 each (the table shows them as U+FFFD and a space). */
size_t eval_display_width(const char *s);

/* Writes S to OUT padded with spaces to WIDTH display columns (nothing added when S
 * is already as wide): after S, or before it when RIGHT_ALIGN. */
void eval_write_padded(FILE *out, const char *s, size_t width, bool right_align);

/* Writes text S as one CSV field (RFC 4180): quoted, with quotes doubled, when it
 * holds a comma, a quote, a line break, or starts or ends with a space. NULL is an
 * empty field. Text a spreadsheet would run as a formula — starting with = + - @, a
 * tab or a carriage return, and not a plain number such as -12.5 — is written with a
 * ' before it (docs/cli.md, "CSV and spreadsheets"). Shared by every CSV writer of
 * the outputs; numbers are written as they are, never through it. */
void eval_write_csv_field(FILE *out, const char *s);

/* The rows skipped under --skip-bad-rows, per source read that had any:
 * "orders: 5 rows skipped; tickets: 1 row skipped", allocated in MEM; "" when no row
 * was skipped. The CSV outputs' `skipped` column. */
const char *eval_skipped_text(const eval_source_stats *sources, size_t count, arena *mem);

/* Writes the `sources` array of the eval and score JSON: the sources read, each as
 * {"name", "path", "sha256", "rows", "skipped"}. */
void eval_write_sources_json(FILE *out, const eval_source_stats *sources, size_t count);

#endif /* KPIC_EVAL_OUTPUT_H */
