/* plan.h — the planner: which aggregates, over which windows, from which source.
 *
 * Owns: turning the expressions a run needs (their IR, ir.h) into a list of aggregate
 * instances. An aggregate (count/sum/avg/min/max/distinct or a set) is the IR's
 * interned ir_agg, so `sum(orders.amount)` written in five indicators is computed once.
 * An instance is an aggregate in one concrete period: previous() and last_year() shift
 * the period of everything under them, so `previous(revenue)` for 2025-05 plans the
 * aggregates of `revenue` for 2025-04. Each instance knows its window (the date range
 * its rows must fall in) and its level: sets used in a `where` or `having` must be
 * complete before the instances that test membership in them, so instances are
 * computed level by level (a source is read once per level that needs it; one level
 * in specs that test membership only in sets of other sources).
 */
#ifndef KPIC_PLAN_H
#define KPIC_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "kpic/ast.h"
#include "kpic/check.h"
#include "kpic/hash.h"
#include "kpic/ir.h"
#include "kpic/period.h"

typedef struct plan_instance plan_instance;

/* An interned aggregate (ir.h) the run needs. The row expressions are the IR's; the
 * fields the evaluator reads per row are copied here so that a pass touches one
 * struct. */
typedef struct plan_agg {
    int id;                        /* index in plan.aggs, in planning order */
    const ir_agg *ir;              /* the aggregate: identity, having slots, key family */
    ir_agg_kind kind;              /* IR_AGG_COUNT … IR_AGG_DISTINCT; a set is IR_AGG_DISTINCT */
    const ast_decl *set;           /* the set this aggregate computes, or NULL */
    const ast_decl *source;        /* whose rows it ranges over */
    const ir_node *arg;            /* row expression (sum…), column (distinct, set), or NULL */
    const ir_node *where, *having; /* NULL when absent (where: see member_set) */
    const ast_window *over;        /* NULL: the period */
    bool per_staff;                /* some planned use needs it per staff member */
    bool where_uses_period;        /* the where depends on the instance (period, sets) */
    bool arg_uses_period;          /* so does the argument (rare: period.end − a date) */
    const ast_decl *member_set;    /* see ir_agg.member_set */
    int key_family;                /* ir_agg.key_family */
    /* the first planned call, for messages (its argument as written); NULL for a set */
    const ast_expr *syntax;
    ptr_vec instances; /* plan_instance* */
} plan_agg;

struct plan_instance {
    plan_agg *agg;
    period_t period;        /* the period the aggregate is evaluated for */
    period_interval window; /* rows whose time lies here count */
    int level;              /* the earliest level it can be computed at */
    int read_level;         /* the level it is computed at (plan_schedule) */
    ptr_vec needed_by;      /* plan_instance* whose where/having test this set */
    /* plan_instance* intersected with this set when they finish: computed in the same pass
     * or a later one */
    ptr_vec needed_with;
    void *state; /* the evaluator's accumulators */
};

typedef struct plan {
    arena *mem;
    chk_model *model;
    const ir_program *ir;
    ptr_vec aggs;      /* plan_agg*, by id */
    ptr_vec instances; /* plan_instance*, in planning order */
    int max_level;
    hmap agg_of_ir;      /* ir_agg id → plan_agg id */
    hmap instance_of;    /* (agg id, period) → index in instances */
    hmap visited;        /* (indicator or set decl, period) already walked */
    bool shift_overflow; /* a period shifted out of the calendar */
} plan;

void plan_init(plan *p, arena *mem, chk_model *model, const ir_program *ir);
void plan_free(plan *p);

/* Plans every aggregate that expr needs when evaluated for period. */
void plan_expr(plan *p, const ir_node *expr, period_t period);
/* The same for an indicator's formula. */
void plan_indicator(plan *p, const ast_decl *indicator, period_t period);
/* The count of the rows aggregate USE (an IR_AGGREGATE node) ranged over (ir_agg.rows),
 * at USE's grain: what explain shows next to a figure. */
void plan_rows(plan *p, const ir_node *use, period_t period);

/* Sets read_level of every instance. When the sources' needs allow it, each source gets
 * one level (after every source whose sets it tests), so every source is read once.
 * Otherwise (a source's own set filters it, or two sources test each other's sets),
 * every instance goes to the latest level it can wait for: sets just before their
 * first user, everything else into an existing pass over its source where possible. */
void plan_schedule(plan *p);

/* The planned instance of an aggregate (or of a set) in period; NULL if none was
 * planned (a planner bug, or a period shifted out of range). */
plan_instance *plan_find(const plan *p, const ir_agg *aggregate, period_t period);
plan_instance *plan_find_set(const plan *p, const ast_decl *set, period_t period);

#endif
