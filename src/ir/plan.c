/* plan.c — aggregate planning (see plan.h). */
#include "kpic/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- aggregates -------------------------------------------------------------------- */

void plan_init(plan *p, arena *mem, chk_model *model, const ir_program *ir)
{
    memset(p, 0, sizeof *p);
    p->mem = mem;
    p->model = model;
    p->ir = ir;
    hmap_init(&p->agg_of_ir);
    hmap_init(&p->instance_of);
    hmap_init(&p->visited);
}

void plan_free(plan *p)
{
    hmap_free(&p->agg_of_ir);
    hmap_free(&p->instance_of);
    hmap_free(&p->visited);
}

static uint64_t pointer_key(const void *ptr)
{
    return (uint64_t)(uintptr_t)ptr;
}

/* The plan's record of interned aggregate A, made on its first use. */
static plan_agg *agg_of(plan *p, const ir_agg *a)
{
    uint32_t id = hmap_get(&p->agg_of_ir, (uint64_t)a->id);
    if (id != HMAP_NONE) return p->aggs.items[id];
    plan_agg *agg = arena_alloc(p->mem, sizeof *agg);
    memset(agg, 0, sizeof *agg);
    agg->id = (int)p->aggs.len;
    agg->ir = a;
    agg->kind = a->kind == IR_AGG_SET ? IR_AGG_DISTINCT : a->kind;
    agg->set = a->set;
    agg->source = a->source;
    agg->arg = a->arg;
    agg->where = a->where;
    agg->having = a->having;
    agg->over = a->window.syntax;
    agg->per_staff = a->set ? a->set->per_staff : false;
    agg->where_uses_period = a->where_uses_period;
    agg->arg_uses_period = a->arg_uses_period;
    agg->member_set = a->member_set;
    agg->key_family = a->key_family;
    agg->syntax = a->set ? NULL : a->syntax;
    hmap_put(&p->agg_of_ir, (uint64_t)a->id, (uint32_t)agg->id);
    ptr_vec_push(p->mem, &p->aggs, agg);
    return agg;
}

/* A month and the quarter it opens start on one day: a session may hold periods of
 * several grains (a role with its own period), so the grain is part of the key. */
static uint64_t instance_key(const plan_agg *agg, period_t period)
{
    return ((uint64_t)(uint32_t)agg->id << 35) | ((uint64_t)period.grain << 32) | (uint32_t)period.start;
}

static int row_level(plan *p, const ir_node *e, period_t period, plan_instance *user);

static plan_instance *instance(plan *p, plan_agg *agg, period_t period)
{
    uint64_t key = instance_key(agg, period);
    uint32_t found = hmap_get(&p->instance_of, key);
    if (found != HMAP_NONE) return p->instances.items[found];
    plan_instance *in = arena_alloc(p->mem, sizeof *in);
    memset(in, 0, sizeof *in);
    in->agg = agg;
    in->period = period;
    if (!period_window(period, agg->over, &in->window)) p->shift_overflow = true;
    hmap_put(&p->instance_of, key, (uint32_t)p->instances.len);
    ptr_vec_push(p->mem, &p->instances, in);
    ptr_vec_push(p->mem, &agg->instances, in);
    /* sets tested in the where or having must be complete first */
    int level = row_level(p, agg->where, period, in);
    int h = row_level(p, agg->having, period, in);
    in->level = h > level ? h : level;
    if (agg->member_set) {
        plan_instance *set = instance(p, agg_of(p, agg->ir->member_set_agg), period);
        ptr_vec_push(p->mem, &set->needed_with, in);
        if (set->level > in->level) in->level = set->level;
    }
    if (in->level > p->max_level) p->max_level = in->level;
    return in;
}

typedef struct level_walk {
    plan *p;
    period_t period;
    plan_instance *user;
    int level;
} level_walk;

static void level_child(const ir_node *child, void *ctx)
{
    level_walk *w = ctx;
    int l = row_level(w->p, child, w->period, w->user);
    if (l > w->level) w->level = l;
}

/* The level an instance needs so that every set its row expression tests is done:
 * one more than the highest of those sets' levels (0 when it tests none). */
static int row_level(plan *p, const ir_node *e, period_t period, plan_instance *user)
{
    if (!e) return 0;
    level_walk w = { p, period, user, 0 };
    if (e->kind == IR_IN_SET) {
        plan_instance *set = instance(p, agg_of(p, e->u.agg), period);
        ptr_vec_push(p->mem, &set->needed_by, user);
        w.level = set->level + 1;
    }
    ir_each_child(e, level_child, &w);
    return w.level;
}

static bool first_visit(plan *p, const void *decl, period_t period)
{
    uint64_t key = hash_u64(pointer_key(decl)) ^ ((uint64_t)period.grain << 40) ^ (uint32_t)period.start;
    /* a collision only costs a skipped walk if two (decl, period) pairs share a key,
     * so store the pointer's low bits as the value and compare */
    uint32_t tag = (uint32_t)(pointer_key(decl) >> 4);
    uint32_t seen = hmap_get(&p->visited, key);
    if (seen == tag) return false;
    hmap_put(&p->visited, key, tag);
    return true;
}

typedef struct expr_walk {
    plan *p;
    period_t period;
} expr_walk;

static void expr_child(const ir_node *child, void *ctx)
{
    expr_walk *w = ctx;
    plan_expr(w->p, child, w->period);
}

void plan_expr(plan *p, const ir_node *e, period_t period)
{
    if (!e) return;
    switch (e->kind) {
    case IR_INDICATOR: plan_indicator(p, e->u.decl, period); return;
    case IR_IN_SET:
        plan_expr(p, e->a, period);
        instance(p, agg_of(p, e->u.agg), period);
        return;
    case IR_AGGREGATE: {
        plan_agg *agg = agg_of(p, e->u.agg);
        agg->per_staff |= e->per_staff;
        if (!agg->syntax && !agg->set) agg->syntax = e->syntax;
        instance(p, agg, period);
        return;
    }
    case IR_ROWS: {
        plan_agg *agg = agg_of(p, e->u.agg->rows);
        agg->per_staff |= e->per_staff;
        instance(p, agg, period);
        return;
    }
    case IR_PREVIOUS:
    case IR_LAST_YEAR: {
        period_t shifted;
        bool ok =
            e->kind == IR_PREVIOUS ? period_previous(period, &shifted) : period_last_year(period, &shifted);
        if (!ok) {
            p->shift_overflow = true;
            return;
        }
        plan_expr(p, e->a, shifted);
        return;
    }
    default: {
        expr_walk w = { p, period };
        ir_each_child(e, expr_child, &w);
        return;
    }
    }
}

void plan_indicator(plan *p, const ast_decl *indicator, period_t period)
{
    if (!first_visit(p, indicator, period)) return;
    plan_expr(p, ir_indicator(p->ir, indicator), period);
}

void plan_rows(plan *p, const ir_node *use, period_t period)
{
    if (!use || use->kind != IR_AGGREGATE || !use->u.agg->rows) return;
    plan_agg *agg = agg_of(p, use->u.agg->rows);
    agg->per_staff |= use->per_staff;
    instance(p, agg, period);
}

plan_instance *plan_find(const plan *p, const ir_agg *aggregate, period_t period)
{
    if (!aggregate) return NULL;
    uint32_t id = hmap_get(&p->agg_of_ir, (uint64_t)aggregate->id);
    if (id == HMAP_NONE) return NULL;
    uint32_t found = hmap_get(&p->instance_of, instance_key(p->aggs.items[id], period));
    return found == HMAP_NONE ? NULL : p->instances.items[found];
}

plan_instance *plan_find_set(const plan *p, const ast_decl *set, period_t period)
{
    return plan_find(p, ir_set(p->ir, set), period);
}

/* read_level of an instance, from those of the instances that test it (memoised in
 * read_level; -1 = not yet known). Users always have a higher level, so this ends. */
static int schedule(plan *p, plan_instance *in)
{
    if (in->read_level >= 0) return in->read_level;
    int at = p->max_level;
    for (size_t i = 0; i < in->needed_by.len; i++) {
        int user = schedule(p, in->needed_by.items[i]) - 1;
        if (user < at) at = user;
    }
    for (size_t i = 0; i < in->needed_with.len; i++) {
        int user = schedule(p, in->needed_with.items[i]);
        if (user < at) at = user;
    }
    in->read_level = at < in->level ? in->level : at;
    return in->read_level;
}

/* The index of SOURCE among the model's sources; sources.len when it is none of them. */
static size_t source_index(const plan *p, const ast_decl *source)
{
    size_t k = 0;
    while (k < p->model->sources.len && p->model->sources.items[k] != source) k++;
    return k;
}

/* The global choice: one level per source, so that every source is read exactly once.
 * A set must be complete before the pass that tests it, so a source whose set another
 * source's rows test comes at least one level before that source (and a set
 * intersected at the end of a pass, at most at the same level): the level of a source
 * is its longest path in that graph. A cycle through a "before" edge (a source's own
 * set filters it, or two sources each test the other's set) has no such choice; then
 * false, and the per-instance schedule below reads what it must twice. */
static bool schedule_by_source(plan *p)
{
    size_t nsrc = p->model->sources.len;
    int *level = xcalloc(nsrc + 1, sizeof *level);
    bool changed = true;
    for (size_t round = 0; changed && round <= nsrc; round++) {
        changed = false;
        for (size_t i = 0; i < p->instances.len; i++) {
            plan_instance *set = p->instances.items[i];
            int from = level[source_index(p, set->agg->source)];
            for (int strict = 0; strict <= 1; strict++) {
                ptr_vec *users = strict ? &set->needed_by : &set->needed_with;
                for (size_t u = 0; u < users->len; u++) {
                    plan_instance *user = users->items[u];
                    int *to = &level[source_index(p, user->agg->source)];
                    if (from + strict > *to) {
                        *to = from + strict;
                        changed = true;
                    }
                }
            }
        }
    }
    /* still rising after every path had its chance to be counted: a cycle */
    bool acyclic = !changed;
    int max_level = 0;
    for (size_t i = 0; acyclic && i < p->instances.len; i++) {
        plan_instance *in = p->instances.items[i];
        int at = level[source_index(p, in->agg->source)];
        if (at < in->level) acyclic = false; /* cannot happen: every need is an edge */
        if (at > max_level) max_level = at;
    }
    if (acyclic) {
        for (size_t i = 0; i < p->instances.len; i++) {
            plan_instance *in = p->instances.items[i];
            in->read_level = level[source_index(p, in->agg->source)];
        }
        p->max_level = max_level;
    }
    free(level);
    return acyclic;
}

void plan_schedule(plan *p)
{
    if (schedule_by_source(p)) return;
    for (size_t i = 0; i < p->instances.len; i++) ((plan_instance *)p->instances.items[i])->read_level = -1;
    for (size_t i = 0; i < p->instances.len; i++) schedule(p, p->instances.items[i]);
    /* An instance that nothing waits for may join any earlier pass over its source that
     * comes after its own dependencies: a source whose set feeds another source is then
     * still read once when its other aggregates can go in that pass. The sets and the
     * instances intersected with a set keep their places. */
    int levels = p->max_level + 1;
    size_t nsrc = p->model->sources.len;
    bool *read_at = xcalloc(nsrc * (size_t)levels + 1, sizeof *read_at);
    for (size_t i = 0; i < p->instances.len; i++) {
        plan_instance *in = p->instances.items[i];
        size_t k = source_index(p, in->agg->source);
        if ((!in->agg->set && !in->agg->member_set) || k == nsrc) continue;
        read_at[k * (size_t)levels + (size_t)in->read_level] = true;
    }
    for (size_t i = 0; i < p->instances.len; i++) {
        plan_instance *in = p->instances.items[i];
        if (in->agg->set || in->agg->member_set || in->needed_by.len || in->needed_with.len) continue;
        size_t k = source_index(p, in->agg->source);
        for (int l = in->level; k < nsrc && l < in->read_level; l++)
            if (read_at[k * (size_t)levels + (size_t)l]) {
                in->read_level = l;
                break;
            }
    }
    free(read_at);
}
