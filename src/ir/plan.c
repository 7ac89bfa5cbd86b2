/* plan.c — aggregate planning (see plan.h). */
#include "kpic/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- structural identity ----------------------------------------------------------
 * Two aggregates are the same when their canonical text is the same: names are
 * resolved (a column prints as source.column whether written bare or qualified),
 * literals print their value, spacing and parentheses do not exist. */

typedef struct canon_buf {
    char *data;
    size_t len, cap;
} canon_buf;

static void put(canon_buf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->data = xrealloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, s, n + 1);
    b->len += n;
}

static void putf(canon_buf *b, const char *fmt, long long v)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, fmt, v);
    put(b, tmp);
}

static void canon_window(canon_buf *b, const ast_window *w)
{
    if (!w || w->kind == WINDOW_PERIOD) return;
    put(b, " over ");
    switch (w->kind) {
    case WINDOW_ALL_TIME: put(b, "all"); break;
    case WINDOW_YEAR_TO_DATE: put(b, "ytd"); break;
    default:
        putf(b, "last%lld", (long long)w->count);
        put(b, w->unit == WINDOW_DAYS ? "d" : w->unit == WINDOW_WEEKS ? "w" : "m");
    }
}

static void canon_expr(canon_buf *b, const ast_expr *e);

/* A call: NAME(ARGS where WHERE having HAVING over OVER), each clause when present. */
static void canon_call(canon_buf *b, const char *name, ast_expr *const *args, size_t argc,
                       const ast_expr *where, const ast_expr *having, const ast_window *over)
{
    put(b, "(");
    put(b, name);
    for (size_t i = 0; i < argc; i++) {
        put(b, " ");
        canon_expr(b, args[i]);
    }
    if (where) { put(b, " where "); canon_expr(b, where); }
    if (having) { put(b, " having "); canon_expr(b, having); }
    canon_window(b, over);
    put(b, ")");
}

static void canon_expr(canon_buf *b, const ast_expr *e)
{
    if (!e) {
        put(b, "_");
        return;
    }
    switch (e->kind) {
    case EX_ERROR: put(b, "!"); return;
    case EX_NUMBER: put(b, "n:"); put(b, e->u.lit.text); return;
    case EX_PERCENT: put(b, "p:"); put(b, e->u.lit.text); return;
    case EX_DATE: put(b, "d:"); put(b, e->u.lit.text); return;
    case EX_STRING: put(b, "s:"); putf(b, "%lld:", (long long)strlen(e->u.lit.text)); put(b, e->u.lit.text); return;
    case EX_BOOL: put(b, e->u.lit.boolean ? "true" : "false"); return;
    case EX_INF: put(b, "inf"); return;
    case EX_NAME:
    case EX_MEMBER:
        if ((e->ref_kind == REF_COLUMN || e->ref_kind == REF_STAFF_COLUMN) && e->ref) {
            put(b, e->ref->name);
            put(b, ".");
            put(b, e->ref->u.source.columns[e->column].name);
        } else if (e->ref) {
            put(b, e->ref->name);
        } else if (e->kind == EX_NAME) {
            put(b, e->u.name.name);
        } else {
            put(b, e->u.member.base);
            put(b, ".");
            put(b, e->u.member.member);
        }
        return;
    case EX_UNARY:
        put(b, "(");
        put(b, ast_op_text(e->u.op.op));
        put(b, " ");
        canon_expr(b, e->u.op.lhs);
        put(b, ")");
        return;
    case EX_BINARY:
        put(b, "(");
        canon_expr(b, e->u.op.lhs);
        put(b, " ");
        put(b, ast_op_text(e->u.op.op));
        put(b, " ");
        canon_expr(b, e->u.op.rhs);
        put(b, ")");
        return;
    case EX_IF:
        put(b, "(if ");
        canon_expr(b, e->u.cond.cond);
        put(b, " ");
        canon_expr(b, e->u.cond.then_expr);
        put(b, " ");
        canon_expr(b, e->u.cond.else_expr);
        put(b, ")");
        return;
    case EX_IN_LIST:
        put(b, "(in ");
        canon_expr(b, e->u.in.lhs);
        for (size_t i = 0; i < e->u.in.items.len; i++) {
            put(b, " ");
            canon_expr(b, e->u.in.items.items[i]);
        }
        put(b, ")");
        return;
    case EX_IN_SET:
        put(b, "(inset ");
        canon_expr(b, e->u.in.lhs);
        put(b, " ");
        put(b, e->u.in.set_name);
        put(b, ")");
        return;
    case EX_IN_PERIOD:
        put(b, "(inperiod");
        putf(b, "%lld ", (long long)e->u.in.rel);
        canon_expr(b, e->u.in.lhs);
        put(b, ")");
        return;
    case EX_CALL:
        canon_call(b, e->u.call.name, (ast_expr *const *)e->u.call.args.items, e->u.call.args.len,
                   e->u.call.where, e->u.call.having, e->u.call.over);
        return;
    }
}

/* ---- aggregates -------------------------------------------------------------------- */

void plan_init(plan *p, arena *mem, chk_model *model)
{
    memset(p, 0, sizeof *p);
    p->mem = mem;
    p->model = model;
    strtab_init(&p->canon);
    strtab_init(&p->families);
    hmap_init(&p->agg_of_node);
    hmap_init(&p->instance_of);
    hmap_init(&p->visited);
}

void plan_free(plan *p)
{
    strtab_free(&p->canon);
    strtab_free(&p->families);
    hmap_free(&p->agg_of_node);
    hmap_free(&p->instance_of);
    hmap_free(&p->visited);
}

static uint64_t pointer_key(const void *ptr)
{
    return (uint64_t)(uintptr_t)ptr;
}

static bool uses_period(const ast_expr *e)
{
    if (!e) return false;
    switch (e->kind) {
    case EX_IN_PERIOD: case EX_IN_SET: return true;
    case EX_MEMBER: return e->ref_kind == REF_PERIOD_START || e->ref_kind == REF_PERIOD_END;
    case EX_UNARY: return uses_period(e->u.op.lhs);
    case EX_BINARY: return uses_period(e->u.op.lhs) || uses_period(e->u.op.rhs);
    case EX_IF:
        return uses_period(e->u.cond.cond) || uses_period(e->u.cond.then_expr) ||
               uses_period(e->u.cond.else_expr);
    case EX_IN_LIST:
        if (uses_period(e->u.in.lhs)) return true;
        for (size_t i = 0; i < e->u.in.items.len; i++)
            if (uses_period(e->u.in.items.items[i])) return true;
        return false;
    case EX_CALL:
        for (size_t i = 0; i < e->u.call.args.len; i++)
            if (uses_period(e->u.call.args.items[i])) return true;
        return uses_period(e->u.call.where);
    default:
        return false;
    }
}

/* The group aggregates (count(), sum(col) …) inside a having, each given a slot. */
static void collect_slots(plan *p, plan_agg *agg, ast_expr *e)
{
    if (!e) return;
    switch (e->kind) {
    case EX_UNARY: collect_slots(p, agg, e->u.op.lhs); return;
    case EX_BINARY: collect_slots(p, agg, e->u.op.lhs); collect_slots(p, agg, e->u.op.rhs); return;
    case EX_IF:
        collect_slots(p, agg, e->u.cond.cond);
        collect_slots(p, agg, e->u.cond.then_expr);
        collect_slots(p, agg, e->u.cond.else_expr);
        return;
    case EX_IN_LIST: case EX_IN_SET: case EX_IN_PERIOD:
        collect_slots(p, agg, e->u.in.lhs);
        for (size_t i = 0; e->kind == EX_IN_LIST && i < e->u.in.items.len; i++)
            collect_slots(p, agg, e->u.in.items.items[i]);
        return;
    case EX_CALL:
        if (e->call_kind >= CALL_COUNT && e->call_kind <= CALL_DISTINCT) {
            ptr_vec_push(p->mem, &agg->slots, e);
            return;
        }
        for (size_t i = 0; i < e->u.call.args.len; i++) collect_slots(p, agg, e->u.call.args.items[i]);
        return;
    default:
        return;
    }
}

int plan_slot_of(const plan_agg *agg, const ast_expr *group_aggregate)
{
    for (size_t i = 0; i < agg->slots.len; i++)
        if (agg->slots.items[i] == group_aggregate) return (int)i;
    return -1;
}

static plan_agg *new_agg(plan *p, const char *canon)
{
    uint32_t before = (uint32_t)p->canon.count;
    uint32_t id = strtab_intern(&p->canon, canon, strlen(canon));
    if (id < before) return p->aggs.items[id];
    plan_agg *agg = arena_alloc(p->mem, sizeof *agg);
    agg->id = (int)id;
    ptr_vec_push(p->mem, &p->aggs, agg);
    return agg;
}

/* The key family of a distinct aggregate or set over COLUMN (see plan.h): its
 * structure written as a distinct() call without `having`, so that a set and a
 * distinct() with the same column, where and window share one too. */
static int key_family(plan *p, ast_expr *column, const ast_expr *where, const ast_window *over)
{
    canon_buf b = {0};
    canon_call(&b, "distinct", &column, 1, where, NULL, over);
    int family = (int)strtab_intern(&p->families, b.data, strlen(b.data));
    free(b.data);
    return family;
}

static plan_agg *agg_of_call(plan *p, ast_expr *e)
{
    uint32_t id = hmap_get(&p->agg_of_node, pointer_key(e));
    if (id != HMAP_NONE) return p->aggs.items[id];
    canon_buf b = {0};
    canon_expr(&b, e);
    plan_agg *agg = new_agg(p, b.data);
    free(b.data);
    if (!agg->source) {
        agg->kind = e->call_kind;
        agg->source = e->agg_source;
        agg->arg = e->u.call.args.len ? e->u.call.args.items[0] : NULL;
        if (agg->kind == CALL_COUNT) agg->arg = NULL;   /* count(SRC): the source is no value */
        agg->where = e->u.call.where;
        agg->having = e->u.call.having;
        agg->over = e->u.call.over;
        agg->key_family = agg->kind == CALL_DISTINCT && agg->arg
                              ? key_family(p, agg->arg, agg->where, agg->over) : -1;
        /* `distinct(S.c where c in SET)` with SET over S: keeping the values of c that
         * are in SET at the end gives the same count (the where depends on c alone)
         * without waiting for SET before reading S */
        const ast_expr *w = agg->where;
        if (agg->kind == CALL_DISTINCT && w && w->kind == EX_IN_SET && agg->arg &&
            agg->arg->ref_kind == REF_COLUMN && w->u.in.lhs->ref_kind == REF_COLUMN &&
            w->u.in.lhs->ref == agg->arg->ref && w->u.in.lhs->column == agg->arg->column &&
            w->ref && w->ref->u.set.column->ref == agg->source) {
            agg->member_set = w->ref;
            agg->where = NULL;
        }
        agg->where_uses_period = uses_period(agg->where);
        agg->arg_uses_period = uses_period(agg->arg);
        collect_slots(p, agg, agg->having);
    }
    agg->per_staff |= e->per_staff;
    hmap_put(&p->agg_of_node, pointer_key(e), (uint32_t)agg->id);
    return agg;
}

static plan_agg *agg_of_set(plan *p, ast_decl *set)
{
    uint32_t id = hmap_get(&p->agg_of_node, pointer_key(set));
    if (id != HMAP_NONE) return p->aggs.items[id];
    char *canon = arena_printf(p->mem, "set:%s", set->name);
    plan_agg *agg = new_agg(p, canon);
    agg->kind = CALL_DISTINCT;
    agg->set = set;
    agg->arg = set->u.set.column;
    agg->source = set->u.set.column->ref;
    agg->where = set->u.set.where;
    agg->having = set->u.set.having;
    agg->over = set->u.set.over;
    agg->key_family = key_family(p, agg->arg, agg->where, agg->over);
    agg->per_staff = set->per_staff;
    agg->where_uses_period = uses_period(agg->where);
    agg->arg_uses_period = uses_period(agg->arg);
    collect_slots(p, agg, agg->having);
    hmap_put(&p->agg_of_node, pointer_key(set), (uint32_t)agg->id);
    return agg;
}

static uint64_t instance_key(const plan_agg *agg, period_t period)
{
    return ((uint64_t)(uint32_t)agg->id << 32) | (uint32_t)period.start;
}

static int row_level(plan *p, ast_expr *e, period_t period, plan_instance *user);

static plan_instance *instance(plan *p, plan_agg *agg, period_t period)
{
    uint64_t key = instance_key(agg, period);
    uint32_t found = hmap_get(&p->instance_of, key);
    if (found != HMAP_NONE) return p->instances.items[found];
    plan_instance *in = arena_alloc(p->mem, sizeof *in);
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
        plan_instance *set = instance(p, agg_of_set(p, agg->member_set), period);
        ptr_vec_push(p->mem, &set->needed_with, in);
        if (set->level > in->level) in->level = set->level;
    }
    if (in->level > p->max_level) p->max_level = in->level;
    return in;
}

/* The level an instance needs so that every set its row expression tests is done:
 * one more than the highest of those sets' levels (0 when it tests none). */
static int row_level(plan *p, ast_expr *e, period_t period, plan_instance *user)
{
    if (!e) return 0;
    int level = 0;
    switch (e->kind) {
    case EX_IN_SET: {
        plan_instance *set = instance(p, agg_of_set(p, e->ref), period);
        ptr_vec_push(p->mem, &set->needed_by, user);
        level = set->level + 1;
        int l = row_level(p, e->u.in.lhs, period, user);
        return l > level ? l : level;
    }
    case EX_UNARY: return row_level(p, e->u.op.lhs, period, user);
    case EX_BINARY: {
        int a = row_level(p, e->u.op.lhs, period, user), b = row_level(p, e->u.op.rhs, period, user);
        return a > b ? a : b;
    }
    case EX_IF: {
        int a = row_level(p, e->u.cond.cond, period, user);
        int b = row_level(p, e->u.cond.then_expr, period, user);
        int c = row_level(p, e->u.cond.else_expr, period, user);
        return a > b ? (a > c ? a : c) : (b > c ? b : c);
    }
    case EX_IN_LIST: case EX_IN_PERIOD:
        level = row_level(p, e->u.in.lhs, period, user);
        for (size_t i = 0; e->kind == EX_IN_LIST && i < e->u.in.items.len; i++) {
            int l = row_level(p, e->u.in.items.items[i], period, user);
            if (l > level) level = l;
        }
        return level;
    case EX_CALL:
        for (size_t i = 0; i < e->u.call.args.len; i++) {
            int l = row_level(p, e->u.call.args.items[i], period, user);
            if (l > level) level = l;
        }
        if (e->u.call.where) {
            int l = row_level(p, e->u.call.where, period, user);
            if (l > level) level = l;
        }
        return level;
    default:
        return 0;
    }
}

static bool first_visit(plan *p, const void *decl, period_t period)
{
    uint64_t key = hash_u64(pointer_key(decl)) ^ (uint32_t)period.start;
    /* a collision only costs a skipped walk if two (decl, period) pairs share a key,
     * so store the pointer's low bits as the value and compare */
    uint32_t tag = (uint32_t)(pointer_key(decl) >> 4);
    uint32_t seen = hmap_get(&p->visited, key);
    if (seen == tag) return false;
    hmap_put(&p->visited, key, tag);
    return true;
}

void plan_expr(plan *p, ast_expr *e, period_t period)
{
    if (!e) return;
    switch (e->kind) {
    case EX_NAME:
        if (e->ref_kind == REF_INDICATOR) plan_indicator(p, e->ref, period);
        return;
    case EX_UNARY: plan_expr(p, e->u.op.lhs, period); return;
    case EX_BINARY: plan_expr(p, e->u.op.lhs, period); plan_expr(p, e->u.op.rhs, period); return;
    case EX_IF:
        plan_expr(p, e->u.cond.cond, period);
        plan_expr(p, e->u.cond.then_expr, period);
        plan_expr(p, e->u.cond.else_expr, period);
        return;
    case EX_IN_LIST:
        plan_expr(p, e->u.in.lhs, period);
        for (size_t i = 0; i < e->u.in.items.len; i++) plan_expr(p, e->u.in.items.items[i], period);
        return;
    case EX_IN_SET:
        plan_expr(p, e->u.in.lhs, period);
        instance(p, agg_of_set(p, e->ref), period);
        return;
    case EX_IN_PERIOD:
        plan_expr(p, e->u.in.lhs, period);
        return;
    case EX_CALL:
        switch (e->call_kind) {
        case CALL_COUNT: case CALL_SUM: case CALL_AVG: case CALL_MIN: case CALL_MAX:
        case CALL_DISTINCT:
            instance(p, agg_of_call(p, e), period);
            return;
        case CALL_SET_SIZE: {
            plan_agg *agg = agg_of_set(p, e->ref);
            agg->per_staff |= e->per_staff;
            instance(p, agg, period);
            return;
        }
        case CALL_PREVIOUS: case CALL_LAST_YEAR: {
            period_t shifted;
            bool ok = e->call_kind == CALL_PREVIOUS ? period_previous(period, &shifted)
                                                    : period_last_year(period, &shifted);
            if (!ok) {
                p->shift_overflow = true;
                return;
            }
            plan_expr(p, e->u.call.args.items[0], shifted);
            return;
        }
        default:
            for (size_t i = 0; i < e->u.call.args.len; i++) plan_expr(p, e->u.call.args.items[i], period);
            return;
        }
    default:
        return;
    }
}

void plan_indicator(plan *p, ast_decl *indicator, period_t period)
{
    if (!first_visit(p, indicator, period)) return;
    plan_expr(p, indicator->u.indicator.expr, period);
}

plan_instance *plan_find(plan *p, ast_expr *aggregate, period_t period)
{
    uint32_t id = hmap_get(&p->agg_of_node, pointer_key(aggregate));
    if (id == HMAP_NONE) return NULL;
    uint32_t found = hmap_get(&p->instance_of, instance_key(p->aggs.items[id], period));
    return found == HMAP_NONE ? NULL : p->instances.items[found];
}

plan_instance *plan_find_set(plan *p, ast_decl *set, period_t period)
{
    uint32_t id = hmap_get(&p->agg_of_node, pointer_key(set));
    if (id == HMAP_NONE) return NULL;
    uint32_t found = hmap_get(&p->instance_of, instance_key(p->aggs.items[id], period));
    return found == HMAP_NONE ? NULL : p->instances.items[found];
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
