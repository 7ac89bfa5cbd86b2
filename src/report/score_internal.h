/* score_internal.h — private to the scorer's files (score.c, score_adjust.c,
 * score_output.c, score_explain.c) and their unit tests: expressions shown with their
 * values filled in, the way `kpic explain` and the gate notes of every format show
 * them; recomputing a statement under adjustments.
 */
#ifndef KPIC_SCORE_INTERNAL_H
#define KPIC_SCORE_INTERNAL_H

#include <stdio.h>

#include "kpic/score.h"

/* The unit a value of E is shown in: an indicator's declared unit, money for a money
 * column, a percentage for achievement and for scales that give percentages, points
 * for score; otherwise from the checker's dimension (ratio as a percentage). KPI (may
 * be NULL) gives the unit of `value` and `target`. */
ast_unit score_expr_unit(const ast_expr *e, const score_kpi *kpi);

/* Writes E as written but with every value it reads — indicators, aggregates,
 * previous()/last_year(), scale calls, staff columns, value/target/achievement,
 * score, employed — replaced by that value as people read it:
 *     staff.base_bonus * (1 + adjust(score)) * employed
 *     → 5,000.00 × (1 + 10%) × 20/31
 * Evaluated for statement ST (its period and staff member) with KPI's context when
 * KPI is not NULL (targets, points), else the role's (gates, bonus). */
void score_write_filled(FILE *out, eval_session *s, const score_statement *st, const score_kpi *kpi,
                        ast_expr *e);

/* The same as a malloc'd string. */
char *score_filled_text(eval_session *s, const score_statement *st, const score_kpi *kpi, ast_expr *e);

/* score_statement_compute with kpi values set by adjustments: OVERRIDES (NULL: none)
 * has one entry per kpi line of ROLE in order, a `kpi` adjustment or NULL for the
 * indicator's own value (score.c). */
void score_statement_compute_with(eval_session *s, ast_decl *role, size_t period, int staff,
                                  const score_adjustment *const *overrides, score_statement *out);

/* The bonus of OUT (score.c): a formula rounded to the cent, or a pool's claim, with
 * the grade context when OUT's role has grades (which must then be settled). */
void score_statement_bonus(eval_session *s, score_statement *out);

/* What the bonus of a ranked member reads as grade, rank, percentile and grade_factor
 * (score_grades.c). */
void score_grade_context(const score_grade_place *place, eval_grade_context *out);

/* Ranks the statements STS (one period) of every role with grades, group by group,
 * then evaluates their bonus (score_grades.c); RUNS (may be NULL) gets one entry per
 * table in TABLES order, TABLES being every table of the model's roles (score_grade_tables). */
void score_rank_statements(eval_session *s, score_statement **sts, size_t n, const ast_grades *const *tables,
                           size_t table_count, score_grade_run *runs);
/* Every table the roles of MODEL rank on, in the order of the first role using it;
 * malloc'd (NULL when none). */
const ast_grades **score_grade_tables(const chk_model *model, size_t *count);
/* Ranks every group of R in each period P with PERIODS_WANTED[P] (every period when
 * NULL) and evaluates their bonuses; fills R's grade runs. */
void score_settle_grades(score_result *r, const bool *periods_wanted);
void score_grade_runs_free(score_result *r);
/* Warns about each member of a role with grades who has no score: not ranked, they are
 * given the last grade, and a bonus that reads grade_factor pays its factor. */
void score_grades_report(const score_result *r, diag_sink *diags);

/* Adds up each period's bonus totals, per role and of every role; one that leaves the
 * exact range is an error in DIAGS (may be NULL) and sets R->total_overflow (score.c). */
void score_check_totals(score_result *r, diag_sink *diags);

/* The period grain a pool or a grades table shared by ROLES is settled in: the roles' (one
 * grain, the checker sees to it), or the spec's when no role shares it. */
ast_grain score_roles_grain(const chk_model *model, const ptr_vec *roles);
/* Divides every pool of R again in each period P with PERIODS_WANTED[P] (every period
 * when NULL), after statements changed (score.c): score_compute, and the `kpi` rows of
 * an adjustments file, which change members' shares. Sets R->pool_failed on an error. */
void score_settle_pools(score_result *r, const bool *periods_wanted, diag_sink *diags);

/* An open_memstream or abort with a message (the outputs' buffers). */
FILE *score_memstream(char **buf, size_t *len);
/* Closes a memstream from score_memstream, aborting on a write error. */
void score_memstream_close(FILE *f);

#endif /* KPIC_SCORE_INTERNAL_H */
