/* reach.c — the periods an expression reaches (ir.h, ir_*_periods): the period it is
 * evaluated for and those its previous() and last_year() move to. One walk serves
 * explain (the periods its run evaluates), scoring from values computed elsewhere (the
 * periods --engine fetches) and kpic sql (the periods it returns rows for), so that
 * what one of them reads the others provide.
 */
#include <stdlib.h>
#include <string.h>

#include "kpic/arena.h"
#include "kpic/ir.h"
#include "kpic/period.h"

typedef struct reach_state {
    const ir_program *p;
    ir_reach reach;
    ir_periods *out;
    /* IR_REACH_EVALUATED: (indicator, period) whose formula was walked already, so that
     * an indicator read by many others is walked once per period */
    const ast_decl **seen_decl;
    period_t *seen_at;
    size_t seen_count, seen_cap;
} reach_state;

typedef struct reach_frame {
    reach_state *s;
    period_t at; /* the period the node is evaluated for */
} reach_frame;

void ir_periods_add(ir_periods *out, period_t p)
{
    for (size_t i = 0; i < out->count; i++)
        if (period_same(out->items[i], p)) return;
    if (out->count == out->cap) {
        out->cap = out->cap ? 2 * out->cap : 16;
        out->items = xrealloc(out->items, out->cap * sizeof *out->items);
    }
    out->items[out->count++] = p;
}

static void add_indicator(ir_periods *out, const ast_decl *indicator)
{
    for (size_t i = 0; i < out->indicator_count; i++)
        if (out->indicators[i] == indicator) return;
    if (out->indicator_count == out->indicator_cap) {
        out->indicator_cap = out->indicator_cap ? 2 * out->indicator_cap : 16;
        out->indicators = xrealloc(out->indicators, out->indicator_cap * sizeof *out->indicators);
    }
    out->indicators[out->indicator_count++] = indicator;
}

static bool first_walk(reach_state *s, const ast_decl *indicator, period_t at)
{
    for (size_t i = 0; i < s->seen_count; i++)
        if (s->seen_decl[i] == indicator && period_same(s->seen_at[i], at)) return false;
    if (s->seen_count == s->seen_cap) {
        s->seen_cap = s->seen_cap ? 2 * s->seen_cap : 32;
        s->seen_decl = xrealloc(s->seen_decl, s->seen_cap * sizeof *s->seen_decl);
        s->seen_at = xrealloc(s->seen_at, s->seen_cap * sizeof *s->seen_at);
    }
    s->seen_decl[s->seen_count] = indicator;
    s->seen_at[s->seen_count++] = at;
    return true;
}

static void visit(const ir_node *n, void *ctx);

/* INDICATOR's value read for F's period: as a value, or through its formula. */
static void read_indicator(reach_frame *f, const ast_decl *indicator)
{
    reach_state *s = f->s;
    add_indicator(s->out, indicator);
    if (s->reach == IR_REACH_VALUES) {
        ir_periods_add(s->out, f->at);
        return;
    }
    if (first_walk(s, indicator, f->at)) visit(ir_indicator(s->p, indicator), f);
}

static void visit(const ir_node *n, void *ctx)
{
    reach_frame *f = ctx;
    if (!n) return;
    switch (n->kind) {
    case IR_INDICATOR: read_indicator(f, n->u.decl); return;
    case IR_PREVIOUS:
    case IR_LAST_YEAR: {
        reach_frame shifted = { f->s, f->at };
        bool ok = n->kind == IR_PREVIOUS ? period_previous(f->at, &shifted.at)
                                         : period_last_year(f->at, &shifted.at);
        if (!ok) return; /* before year 1: the run refuses it */
        if (f->s->reach == IR_REACH_EVALUATED) ir_periods_add(f->s->out, shifted.at);
        visit(n->a, &shifted);
        return;
    }
    default: ir_each_child(n, visit, f);
    }
}

static void walk_done(reach_state *s)
{
    free(s->seen_decl);
    free(s->seen_at);
}

void ir_expr_periods(const ir_program *p, const ir_node *n, period_t at, ir_reach reach, ir_periods *out)
{
    reach_state s = { p, reach, out, NULL, NULL, 0, 0 };
    reach_frame f = { &s, at };
    ir_periods_add(out, at);
    visit(n, &f);
    walk_done(&s);
}

void ir_role_periods(const ir_program *p, const ast_decl *role, period_t at, ir_reach reach, ir_periods *out)
{
    reach_state s = { p, reach, out, NULL, NULL, 0, 0 };
    reach_frame f = { &s, at };
    ir_periods_add(out, at);
    const ir_role_item *items = ir_role(p, role);
    for (int i = 0; items && i < role->u.role.item_count; i++) {
        const ast_role_item *it = &role->u.role.items[i];
        const ir_role_item *lowered = &items[i];
        if (it->kind == ROLE_KPI && it->ref) read_indicator(&f, it->ref);
        const ir_node *const parts[] = { lowered->weight, lowered->target, lowered->points, lowered->expr,
                                         lowered->share,  lowered->cap,    lowered->floor,  lowered->amount };
        for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) visit(parts[k], &f);
    }
    walk_done(&s);
}

void ir_model_periods(const ir_program *p, const period_t *at, size_t count, ir_reach reach, ir_periods *out)
{
    for (size_t i = 0; i < count; i++) {
        ir_periods_add(out, at[i]);
        for (size_t r = 0; r < p->model->roles.len; r++)
            ir_role_periods(p, p->model->roles.items[r], at[i], reach, out);
    }
}

void ir_periods_free(ir_periods *set)
{
    free(set->items);
    free((void *)set->indicators);
    memset(set, 0, sizeof *set);
}
