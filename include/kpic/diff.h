/* diff.h — `kpic diff`: what a change to a spec changes.
 *
 * Owns: comparing two checked specs declaration by declaration, matched by kind and
 * name (period and currency; sources and the roster with their columns; sets;
 * indicators: label, unit, per staff, formula, note; scales; roles: kpis with weight,
 * target and points, the points scale, missing mode, gates, bonus), formulas compared
 * as written with comments and spacing ignored; for a period, comparing the two specs'
 * results: the impact on pay (total bonus and per role, before → after; how many
 * people gain, lose, cross a gate or a scale interval, become scored or unscored),
 * every staff member whose statement moved, sorted by the size of the change, and every
 * indicator value both define that moved; writing all that as text, Markdown (for a
 * pull-request comment) or JSON (docs/schemas/diff.schema.json). Also reading a spec
 * as it was in a git revision (`REV:PATH`) or from stdin (`-`).
 *
 * Lifecycle: diff_new → diff_definitions → diff_results (with a period) →
 * diff_render … → diff_free.
 */
#ifndef KPIC_DIFF_H
#define KPIC_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "kpic/ast.h"
#include "kpic/ceiling.h"
#include "kpic/check.h"
#include "kpic/eval.h"

typedef enum diff_format { DIFF_FORMAT_TEXT, DIFF_FORMAT_MD, DIFF_FORMAT_JSON } diff_format;

typedef struct diff_report diff_report;

/* An empty report comparing OLD_LABEL to NEW_LABEL (the specs as the user named them;
 * copied). */
diff_report *diff_new(const char *old_label, const char *new_label);
void diff_free(diff_report *r);

/* Records every difference between the definitions of OLD and NEW; returns how many. */
size_t diff_definitions(diff_report *r, const ast_spec *old_spec, const chk_model *old_model,
                        const ast_spec *new_spec, const chk_model *new_model);

/* Records how what each role can pay changed (ceiling.h): per role the least and the
 * most per person, and the most for the whole roster when both reports read one
 * ("the maximum payout moves from X to Y"). Returns how many. */
size_t diff_ceilings(diff_report *r, const ceil_report *old_ceiling, const chk_model *old_model,
                     const ceil_report *new_ceiling, const chk_model *new_model);

/* For two executed sessions over the same periods (PERIOD_TEXT as the user wrote it),
 * with every indicator required and scoring required (score_require): records per
 * period the impact summary, the statements that moved and the indicator values that
 * moved. Each spec's sink takes its scorer's warnings. Returns false when a total of
 * bonuses overflows (nothing must be written then): a spec's own total is reported by
 * its scorer in that spec's sink, a sum or change only diff computes in NEW_DIAGS. */
bool diff_results(diff_report *r, const char *period_text, eval_session *old_session, chk_model *old_model,
                  diag_sink *old_diags, eval_session *new_session, chk_model *new_model,
                  diag_sink *new_diags);

/* Applies A (may be NULL; not owned, must outlive R's diff_results) to the statements of
 * both specs in diff_results, after each is scored: the same hand decisions on both
 * sides, so that what differs is what the rules change. */
struct score_adjustments;
void diff_set_adjustments(diff_report *r, const struct score_adjustments *a);

/* Anything differs: a definition, an indicator value or a statement. */
bool diff_differs(const diff_report *r);

/* The report in FORMAT (docs/cli.md), malloc'd, NUL-terminated, *LEN bytes. Same input,
 * same bytes. Aborts on out of memory. */
char *diff_render(const diff_report *r, diff_format format, size_t *len);

/* ---- where a spec comes from ---- */

/* ARG names a spec in a git revision: it is no file on disk and has a ':' after a
 * non-empty revision (`origin/main:kpi-specs/ops.kpi`). */
bool diff_is_revision_path(const char *arg);

/* Loads the spec REV:PATH of ARG with git, from the repository of the current
 * directory: PATH is relative to the repository root, or to the current directory when
 * it starts with `./` or `../` (as in `git show`); its imports are read from the same
 * commit. The files are named by their paths in the working tree (relative to the
 * current directory), so the spec's relative data paths resolve in the working tree.
 * Returns NULL with *WHY (malloc'd) when there is no repository or no such revision
 * (a usage error); otherwise as ast_load_spec (NULL when the main file is not in the
 * revision, with the error in DIAGS). OPTIONS (may be NULL) give the folders the spec
 * may read beyond its project root; their read hook is replaced by git's. */
ast_spec *diff_load_revision(diag_sink *diags, const char *arg, const ast_load_options *options, char **why);

/* Loads a spec whose main file is read from stdin, named `<stdin>`: its relative imports
 * and data paths resolve against the current directory. NULL when stdin cannot be
 * read (the error in DIAGS). */
ast_spec *diff_load_stdin(diag_sink *diags);

#endif
