/* score_needs.c — what scoring reads when the values come from elsewhere (score.h,
 * score_values_needed): the indicators the roles name and the periods they are read in.
 */
#include "score_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct needs {
    const chk_model *model;
    bool *indicator_used; /* by index in model->indicators */
    period_t *periods;
    size_t count, cap;
} needs;

static void add_period(needs *n, period_t p)
{
    for (size_t i = 0; i < n->count; i++)
        if (n->periods[i].start == p.start) return;
    if (n->count == n->cap) {
        n->cap = n->cap ? 2 * n->cap : 16;
        n->periods = xrealloc(n->periods, n->cap * sizeof *n->periods);
    }
    n->periods[n->count++] = p;
}

typedef struct walk {
    needs *n;
    period_t period;
} walk;

static void walk_expr(const ast_expr *e, void *ctx);

static void note_indicator(needs *n, const ast_decl *indicator, period_t p)
{
    for (size_t i = 0; i < n->model->indicators.len; i++)
        if (n->model->indicators.items[i] == indicator) n->indicator_used[i] = true;
    add_period(n, p);
}

/* An indicator named in a role's expression is read as a value (its formula is the
 * engine's), in the period the expression is evaluated for: previous() and
 * last_year() move that period. Aggregates are not written in roles (language.md §9). */
static void walk_expr(const ast_expr *e, void *ctx)
{
    walk *w = ctx;
    if (!e) return;
    if (e->kind == EX_NAME) {
        if (e->ref_kind == REF_INDICATOR && e->ref) note_indicator(w->n, e->ref, w->period);
        return;
    }
    if (e->kind == EX_CALL && (e->call_kind == CALL_PREVIOUS || e->call_kind == CALL_LAST_YEAR)) {
        walk inner = *w;
        bool ok = e->call_kind == CALL_PREVIOUS ? period_previous(w->period, &inner.period)
                                                : period_last_year(w->period, &inner.period);
        if (!ok) return; /* before year 1: the run reports it (eval_execute) */
        for (size_t i = 0; i < e->u.call.args.len; i++) walk_expr(e->u.call.args.items[i], &inner);
        return;
    }
    ast_expr_each_child(e, walk_expr, w);
}

static int by_start(const void *a, const void *b)
{
    const period_t *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

void score_values_needed(const chk_model *model, const period_t *periods, size_t period_count,
                         ast_decl ***indicators, size_t *indicator_count, period_t **needed,
                         size_t *needed_count)
{
    needs n;
    memset(&n, 0, sizeof n);
    n.model = model;
    n.indicator_used = xcalloc(model->indicators.len + 1, sizeof *n.indicator_used);
    for (size_t p = 0; p < period_count; p++) {
        add_period(&n, periods[p]);
        walk w = { &n, periods[p] };
        /* the expressions score_require_role requires, in the same order */
        for (size_t r = 0; r < model->roles.len; r++) {
            const ast_decl *role = model->roles.items[r];
            for (int i = 0; i < role->u.role.item_count; i++) {
                const ast_role_item *it = &role->u.role.items[i];
                if (it->kind == ROLE_KPI) {
                    if (it->ref) note_indicator(&n, it->ref, periods[p]);
                    if (it->has_target) walk_expr(it->target, &w);
                    walk_expr(it->points, &w);
                } else if (it->kind == ROLE_GATE || it->kind == ROLE_BONUS) {
                    walk_expr(it->expr, &w);
                    walk_expr(it->share, &w);
                    walk_expr(it->cap, &w);
                    walk_expr(it->floor, &w);
                    if (it->pool && it->ref) walk_expr(it->ref->u.pool.amount, &w);
                }
            }
        }
    }
    *indicators = xcalloc(model->indicators.len + 1, sizeof **indicators);
    *indicator_count = 0;
    for (size_t i = 0; i < model->indicators.len; i++)
        if (n.indicator_used[i]) (*indicators)[(*indicator_count)++] = model->indicators.items[i];
    qsort(n.periods, n.count, sizeof *n.periods, by_start);
    *needed = n.periods;
    *needed_count = n.count;
    free(n.indicator_used);
}
