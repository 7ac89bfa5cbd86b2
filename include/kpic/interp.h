/* interp.h — the interpreter of the IR (ir.h): one for row conditions and figures.
 *
 * Owns: walking an IR node to its value. Operators are value.h's; the leaves that are
 * not in the node itself come from an environment: the cells of the row being read
 * (data, decoded here, since every row pays for them), and through callbacks the
 * evaluator's finished aggregates, memoised indicators, set membership, the roster,
 * the kpi context and scales. The native evaluator (eval.c) is its user; a test can
 * give it leaves of its own.
 */
#ifndef KPIC_INTERP_H
#define KPIC_INTERP_H

#include <stdbool.h>

#include "kpic/csv_reader.h"
#include "kpic/ir.h"
#include "kpic/period.h"
#include "kpic/value.h"

typedef struct interp_env interp_env;

/* The leaves an environment supplies; any may be NULL where it cannot occur (a NULL
 * leaf gives null). OUT is null on entry. */
typedef struct interp_leaves {
    /* IR_INDICATOR: the indicator's value for env's period and group */
    void (*indicator)(const interp_env *env, const ast_decl *indicator, val_t *out);
    /* IR_AGGREGATE, IR_ROWS: the finished aggregate for env's period and group */
    void (*aggregate)(const interp_env *env, const ir_node *n, val_t *out);
    /* IR_GROUP_AGGREGATE: the group's accumulator in slot n->u.group.slot */
    void (*group)(const interp_env *env, const ir_node *n, val_t *out);
    /* IR_IN_SET: whether X (not null) is a key of set aggregate SET in env's period */
    bool (*in_set)(const interp_env *env, const ir_agg *set, const val_t *x);
    /* IR_STAFF_COLUMN: the roster cell of env's group */
    void (*staff_cell)(const interp_env *env, const ir_node *n, val_t *out);
    /* IR_VALUE … IR_SCORE: the kpi context */
    void (*context)(const interp_env *env, ir_kind which, val_t *out);
    /* IR_EMPLOYED as the exact fraction its value was rounded from (days employed / days
     * of the period), or false when there is none: x * employed is then x × NUM / DEN,
     * one rounding instead of two (310.31 × 50% × 1/31 is 5.005 and pays 5.01; through
     * the 18-place 1/31 it was 5.00499…96 and paid 5.00) */
    bool (*employed_fraction)(const interp_env *env, int64_t *num, int64_t *den);
    /* IR_SCALE: scale n->u.decl applied to X, a number (a miss is the leaf's to count) */
    void (*scale)(const interp_env *env, const ir_node *n, dec_t x, val_t *out);
    /* arithmetic at N left the exact decimal range (N's value is null; the run fails) */
    void (*overflow)(const interp_env *env, const ir_node *n);
} interp_leaves;

struct interp_env {
    const interp_leaves *leaves;
    void *ctx;       /* the leaves' state */
    period_t period; /* the period evaluated for (shifts change it) */
    int group;       /* roster index, or -1 for the company */
    const void *kpi; /* the leaves' kpi context, or NULL */
    /* the row being read (IR_COLUMN), or NULL outside a pass */
    const csvr_cell *cells;
    const ast_decl *source;
    const void *slots; /* inside `having`: the group's accumulators (leaves') */
};

/* N's value in ENV into OUT. */
void interp_eval(const interp_env *env, const ir_node *n, val_t *out);
/* Whether N is true in ENV (a row condition: false and null both fail); true for NULL. */
bool interp_true(const interp_env *env, const ir_node *n);

#endif
