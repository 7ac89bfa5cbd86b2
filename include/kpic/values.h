/* values.h — indicator values computed elsewhere: the file `--values FILE` gives to
 * `kpic score`, `kpic explain` and `kpic diff` (docs/cli.md, `--values FILE`).
 *
 * Owns: reading such a file — the CSV a warehouse returns for `kpic sql`'s query
 * (header `period,indicator,staff_id,value`, other columns ignored, so kpic eval's own
 * CSV reads too) or kpic eval's JSON (docs/json.md) — checking every row against the
 * spec (a known indicator, a period of the spec's grain, a staff id on the roster, a
 * number for the indicator's unit, one row per indicator, period and staff member), and
 * answering the evaluator's questions for indicator values in place of the sources
 * (eval_options.given_values), remembering every question it could not answer.
 *
 * Lifecycle: vals_read → vals_attach (to the eval_options of a session) → eval_execute
 * → vals_check_roster → scoring → vals_report_missing → vals_free.
 *
 * A value is kept exactly as its digits say, as an exact decimal (decimal.h): digits
 * beyond 18 places are rounded half away from zero, and an exponent (`2.5E-1`, as
 * engines print a DOUBLE) is applied to the digits, never through a double.
 */
#ifndef KPIC_VALUES_H
#define KPIC_VALUES_H

#include <stdbool.h>
#include <stddef.h>

#include "kpic/check.h"
#include "kpic/decimal.h"
#include "kpic/diag.h"
#include "kpic/eval.h"

typedef struct vals_file vals_file;

/* Reads PATH (CSV, or JSON when its first non-blank byte is '{') against MODEL. Every
 * bad row or value is a located error in DIAGS (path:line:field); returns NULL after
 * any error, with *IO_ERROR set when the file could not be read at all (exit 2, not
 * 1). */
vals_file *vals_read(const char *path, const chk_model *model, diag_sink *diags, bool *io_error);
/* The same over SIZE bytes at DATA, named NAME in messages (tests and the fuzzer). */
vals_file *vals_read_memory(const char *name, const void *data, size_t size, const chk_model *model,
                            diag_sink *diags);
void vals_free(vals_file *v);

/* Values an engine returns row by row (`--engine`, pg_engine.h) instead of a file:
 * vals_begin, vals_add for each row (period, indicator, staff_id, value: kpic sql's
 * columns as text, NULL for SQL NULL), vals_end. Every row is checked as a file's row
 * is; errors are reported at NAME (the connection, no password), row ROW, field 1–4.
 * vals_end returns NULL (and frees V) when any row was refused. */
vals_file *vals_begin(const char *name, const chk_model *model, diag_sink *diags);
void vals_add(vals_file *v, unsigned row, const char *period, const char *indicator, const char *staff_id,
              const char *value);
vals_file *vals_end(vals_file *v);

/* Makes the sessions created with OPTIONS take their indicator values from V (which
 * must outlive them) instead of reading the sources. */
void vals_attach(vals_file *v, eval_options *options);

/* After eval_execute: every staff id of V must be on the session's roster; each that is
 * not is an error at its row. False when there was one. */
bool vals_check_roster(vals_file *v, const eval_session *session, diag_sink *diags);

/* After scoring: an error for each indicator and period the run asked for and V does
 * not hold (one per indicator and period, naming the first staff member missing and
 * how many are). False when there was one: the run writes nothing. */
bool vals_report_missing(vals_file *v, diag_sink *diags);

/* The file as one more entry of an output's `sources`: name "values", the path as
 * given, the SHA-256 of its bytes, its rows (values). */
eval_source_stats vals_source(const vals_file *v);

/* The value text rules of the file (the module header), for tests: *OUT gets TEXT's
 * number; false with *WHY when TEXT is not one. */
bool vals_parse_number(const char *text, size_t len, dec_t *out, const char **why);

#endif
