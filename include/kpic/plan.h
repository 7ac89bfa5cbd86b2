/* plan.h — the planner: which aggregates, over which windows, from which source.
 *
 * Owns: turning the expressions a run needs into a deduplicated list of aggregate
 * instances. An aggregate (count/sum/avg/min/max/distinct or a set) is identified by
 * its structure, so `sum(orders.amount)` written in five indicators is computed once.
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
#include "kpic/period.h"

typedef struct plan_instance plan_instance;

/* An aggregate, deduplicated by structure. */
typedef struct plan_agg {
    int id;
    ast_call_kind kind;         /* CALL_COUNT … CALL_DISTINCT; a set is CALL_DISTINCT */
    ast_decl *set;              /* the set this aggregate computes, or NULL */
    ast_decl *source;           /* whose rows it ranges over */
    ast_expr *arg;              /* row expression (sum…), column (distinct, set), or NULL */
    ast_expr *where, *having;   /* NULL when absent */
    const ast_window *over;     /* NULL: the period */
    bool per_staff;             /* grouped by the source's staff column as well */
    bool where_uses_period;     /* the where depends on the instance (period, sets) */
    bool arg_uses_period;       /* so does the argument (rare: period.end − a date) */
    ptr_vec slots;              /* ast_expr*: the group aggregates inside `having` */
    ast_decl *member_set;       /* distinct(S.c where c in SET), SET over S: the where is
                                   dropped and the keys are intersected with SET at the
                                   end, so S is not read a second time for SET */
    int key_family;             /* distinct aggregates and sets: equal when they collect the
                                   same keys from the same rows (argument, where, window)
                                   and differ at most in `having`, so that one pass can
                                   record the keys once for all of them; -1 otherwise */
    ptr_vec instances;          /* plan_instance* */
} plan_agg;

struct plan_instance {
    plan_agg *agg;
    period_t period;            /* the period the aggregate is evaluated for */
    period_interval window;     /* rows whose time lies here count */
    int level;                  /* the earliest level it can be computed at */
    int read_level;             /* the level it is computed at (plan_schedule) */
    ptr_vec needed_by;          /* plan_instance* whose where/having test this set */
    ptr_vec needed_with;        /* plan_instance* intersected with this set when they
                                   finish: computed in the same pass or a later one */
    void *state;                /* the evaluator's accumulators */
};

typedef struct plan {
    arena *mem;
    chk_model *model;
    ptr_vec aggs;               /* plan_agg*, by id */
    ptr_vec instances;          /* plan_instance*, in planning order */
    int max_level;
    strtab canon;               /* structural text of each aggregate → agg id */
    strtab families;            /* structural text without `having` → key family */
    hmap agg_of_node;           /* ast_expr* / set decl → agg id */
    hmap instance_of;           /* (agg id, period) → index in instances */
    hmap visited;               /* (indicator or set decl, period) already walked */
    bool shift_overflow;        /* a period shifted out of the calendar */
} plan;

void plan_init(plan *p, arena *mem, chk_model *model);
void plan_free(plan *p);

/* Plans every aggregate that expr needs when evaluated for period. */
void plan_expr(plan *p, ast_expr *expr, period_t period);
/* The same for an indicator's formula. */
void plan_indicator(plan *p, ast_decl *indicator, period_t period);

/* Sets read_level of every instance. When the sources' needs allow it, each source gets
 * one level (after every source whose sets it tests), so every source is read once.
 * Otherwise (a source's own set filters it, or two sources test each other's sets),
 * every instance goes to the latest level it can wait for: sets just before their
 * first user, everything else into an existing pass over its source where possible. */
void plan_schedule(plan *p);

/* The planned instance of an aggregate node (or of a set) in period; NULL if none
 * was planned (a planner bug, or a period shifted out of range). */
plan_instance *plan_find(plan *p, ast_expr *aggregate, period_t period);
plan_instance *plan_find_set(plan *p, ast_decl *set, period_t period);

/* The slot index of a group aggregate inside an aggregate's `having`. */
int plan_slot_of(const plan_agg *agg, const ast_expr *group_aggregate);

#endif
