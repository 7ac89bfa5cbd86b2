/* diff.h — `kpic diff`: what a change to a spec changes.
 *
 * Owns: comparing two checked specs declaration by declaration, matched by kind and
 * name (period and currency; sources and the roster with their columns; sets;
 * indicators: label, unit, per staff, formula, note; scales; roles: kpis with weight,
 * target and points, the points scale, missing mode, gates, bonus), formulas compared
 * as written with comments and spacing ignored; and, for a period, comparing the two
 * specs' results on the same data: every indicator both define, total and per staff,
 * and every staff member's statement (role, score, bonus, scored or not).
 */
#ifndef KPIC_DIFF_H
#define KPIC_DIFF_H

#include <stddef.h>
#include <stdio.h>

#include "kpic/ast.h"
#include "kpic/check.h"
#include "kpic/eval.h"

/* Writes one line (or a line and its -/+ lines) per difference between the definitions
 * of OLD and NEW to OUT, indented by two spaces; returns how many differences. */
size_t diff_definitions(FILE *out, const ast_spec *old_spec, const chk_model *old_model,
                        const ast_spec *new_spec, const chk_model *new_model);

/* For two executed sessions over the same periods, with every indicator required and
 * scoring required (score_require): writes the indicator values that differ (period,
 * indicator, total or staff id, old → new), then the statements that differ; returns
 * how many differences. Each spec's sink takes its scorer's warnings. */
size_t diff_results(FILE *out, eval_session *old_session, chk_model *old_model, diag_sink *old_diags,
                    eval_session *new_session, chk_model *new_model, diag_sink *new_diags);

#endif
