/* eval_render.h — the output of `kpic eval` (eval_output.c): a session's values as a
 * table, JSON (docs/json.md) or CSV (docs/cli.md).
 *
 * A header of its own, so that the writer depends on the evaluator and never the
 * other way round: eval.h knows nothing of its outputs.
 */
#ifndef KPIC_EVAL_RENDER_H
#define KPIC_EVAL_RENDER_H

#include <stddef.h>

#include "kpic/ast.h"
#include "kpic/eval.h"

/* EVAL_FORMAT_VALUES: the values file `--values` reads and `kpic sql`'s query returns,
 * `period,indicator,staff_id,value`, every number exact (docs/cli.md). */
typedef enum eval_format {
    EVAL_FORMAT_TABLE,
    EVAL_FORMAT_JSON,
    EVAL_FORMAT_CSV,
    EVAL_FORMAT_VALUES
} eval_format;

/* Writes the values of the given indicators for every period of the session into a
 * malloc'd buffer (*len bytes), in the format of docs/json.md (JSON) or the table and
 * CSV layouts of docs/cli.md. */
char *eval_render(eval_session *s, ast_decl *const *indicators, size_t count, eval_format format,
                  size_t *len);
/* eval_render for values computed elsewhere (eval_options.given_values): GIVEN, where
 * they came from, is listed among the sources after the roster. */
char *eval_render_given(eval_session *s, ast_decl *const *indicators, size_t count, eval_format format,
                        const eval_source_stats *given, size_t *len);

#endif
