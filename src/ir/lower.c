/* lower.c — lowering a checked spec to the IR (see ir.h).
 *
 * One walk per declaration turns checker-annotated syntax into IR nodes. Aggregates are
 * interned by structure as they are lowered (hash of the lowered nodes, then a deep
 * comparison), so every later stage identifies an aggregate by its pointer; nothing
 * after this file compares aggregates by text or structure.
 */
#include "kpic/ir.h"

#include <stdlib.h>
#include <string.h>

/* ---- names ------------------------------------------------------------------------ */

const char *ir_kind_name(ir_kind kind)
{
    static const char *const names[IR_KIND_COUNT] = {
        [IR_NUMBER] = "number",
        [IR_DATE] = "date",
        [IR_TEXT] = "text",
        [IR_BOOL] = "bool",
        [IR_NULL] = "null",
        [IR_COLUMN] = "column",
        [IR_STAFF_COLUMN] = "staff_column",
        [IR_PERIOD_START] = "period_start",
        [IR_PERIOD_END] = "period_end",
        [IR_INDICATOR] = "indicator",
        [IR_AGGREGATE] = "aggregate",
        [IR_GROUP_AGGREGATE] = "group_aggregate",
        [IR_ROWS] = "rows",
        [IR_VALUE] = "value",
        [IR_TARGET] = "target",
        [IR_ACHIEVEMENT] = "achievement",
        [IR_EMPLOYED] = "employed",
        [IR_SCORE] = "score",
        [IR_NEG] = "neg",
        [IR_NOT] = "not",
        [IR_ADD] = "add",
        [IR_SUB] = "sub",
        [IR_MUL] = "mul",
        [IR_DIV] = "div",
        [IR_EQ] = "eq",
        [IR_NE] = "ne",
        [IR_LT] = "lt",
        [IR_LE] = "le",
        [IR_GT] = "gt",
        [IR_GE] = "ge",
        [IR_AND] = "and",
        [IR_OR] = "or",
        [IR_IF] = "if",
        [IR_IN_LIST] = "in_list",
        [IR_IN_SET] = "in_set",
        [IR_IN_PERIOD] = "in_period",
        [IR_IN_PREVIOUS_PERIOD] = "in_previous_period",
        [IR_BEFORE_PERIOD] = "before_period",
        [IR_ABS] = "abs",
        [IR_ROUND] = "round",
        [IR_DAYS] = "days",
        [IR_MIN] = "min",
        [IR_MAX] = "max",
        [IR_SCALE] = "scale",
        [IR_PREVIOUS] = "previous",
        [IR_LAST_YEAR] = "last_year",
        [IR_COALESCE] = "coalesce",
        [IR_GRADE] = "grade",
        [IR_RANK] = "rank",
        [IR_PERCENTILE] = "percentile",
        [IR_GRADE_FACTOR] = "grade_factor",
    };
    return (unsigned)kind < IR_KIND_COUNT && names[kind] ? names[kind] : "?";
}

const char *ir_agg_kind_name(ir_agg_kind kind)
{
    switch (kind) {
    case IR_AGG_COUNT: return "count";
    case IR_AGG_SUM: return "sum";
    case IR_AGG_AVG: return "avg";
    case IR_AGG_MIN: return "min";
    case IR_AGG_MAX: return "max";
    case IR_AGG_DISTINCT: return "distinct";
    case IR_AGG_SET: return "set";
    }
    return "?";
}

void ir_each_child(const ir_node *n, void (*fn)(const ir_node *child, void *ctx), void *ctx)
{
    if (!n) return;
    if (n->kind == IR_GROUP_AGGREGATE) {
        if (n->u.group.arg) fn(n->u.group.arg, ctx);
        if (n->u.group.where) fn(n->u.group.where, ctx);
        return;
    }
    if (n->a) fn(n->a, ctx);
    if (n->b) fn(n->b, ctx);
    if (n->c) fn(n->c, ctx);
    for (size_t i = 0; i < n->item_count; i++) fn(n->items[i], ctx);
}

static void uses_period_child(const ir_node *child, void *ctx)
{
    bool *uses = ctx;
    if (!*uses) *uses = ir_uses_period(child);
}

bool ir_uses_period(const ir_node *n)
{
    if (!n) return false;
    switch (n->kind) {
    case IR_PERIOD_START:
    case IR_PERIOD_END:
    case IR_IN_SET:
    case IR_IN_PERIOD:
    case IR_IN_PREVIOUS_PERIOD:
    case IR_BEFORE_PERIOD: return true;
    default: {
        bool uses = false;
        ir_each_child(n, uses_period_child, &uses);
        return uses;
    }
    }
}

/* ---- structure: hash and equality of lowered nodes ------------------------------------
 * Used only to intern aggregates. Dimensions and grain are left out, as the checker's
 * inference may give the same literal different units in different places while the
 * value computed is the same. */

static uint64_t mix(uint64_t h, uint64_t v)
{
    return hash_u64(h ^ (v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2)));
}

static uint64_t ptr_bits(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

static uint64_t node_hash(const ir_node *n)
{
    if (!n) return 0x5bd1e995u;
    uint64_t h = mix(0, (uint64_t)n->kind);
    switch (n->kind) {
    case IR_NUMBER: h = mix(h, hash_bytes(&n->u.number, sizeof n->u.number)); break;
    case IR_DATE: h = mix(h, (uint64_t)(int64_t)n->u.date); break;
    case IR_BOOL: h = mix(h, n->u.boolean); break;
    case IR_TEXT: h = mix(h, hash_bytes(n->u.text.text, n->u.text.text_len)); break;
    case IR_COLUMN:
    case IR_STAFF_COLUMN: h = mix(mix(h, ptr_bits(n->u.column.source)), (uint64_t)n->u.column.index); break;
    case IR_INDICATOR:
    case IR_SCALE: h = mix(h, ptr_bits(n->u.decl)); break;
    case IR_AGGREGATE:
    case IR_IN_SET:
    case IR_ROWS: h = mix(h, ptr_bits(n->u.agg)); break;
    case IR_GROUP_AGGREGATE:
        h = mix(mix(h, (uint64_t)n->u.group.kind), (uint64_t)n->u.group.slot);
        h = mix(h, node_hash(n->u.group.arg));
        return mix(h, node_hash(n->u.group.where));
    case IR_ROUND: h = mix(h, n->u.places); break;
    default: break;
    }
    h = mix(h, node_hash(n->a));
    h = mix(h, node_hash(n->b));
    h = mix(h, node_hash(n->c));
    for (size_t i = 0; i < n->item_count; i++) h = mix(h, node_hash(n->items[i]));
    return h;
}

static bool node_equal(const ir_node *x, const ir_node *y)
{
    if (x == y) return true;
    if (!x || !y || x->kind != y->kind) return false;
    if (!ir_literal_equal(x, y)) return false;
    switch (x->kind) {
    case IR_COLUMN:
    case IR_STAFF_COLUMN:
        if (x->u.column.source != y->u.column.source || x->u.column.index != y->u.column.index) return false;
        break;
    case IR_INDICATOR:
    case IR_SCALE:
        if (x->u.decl != y->u.decl) return false;
        break;
    case IR_AGGREGATE:
    case IR_IN_SET:
    case IR_ROWS:
        if (x->u.agg != y->u.agg) return false;
        break;
    case IR_GROUP_AGGREGATE:
        return x->u.group.kind == y->u.group.kind && x->u.group.slot == y->u.group.slot &&
               node_equal(x->u.group.arg, y->u.group.arg) && node_equal(x->u.group.where, y->u.group.where);
    case IR_ROUND:
        if (x->u.places != y->u.places) return false;
        break;
    default: break;
    }
    if (x->item_count != y->item_count) return false;
    for (size_t i = 0; i < x->item_count; i++)
        if (!node_equal(x->items[i], y->items[i])) return false;
    return node_equal(x->a, y->a) && node_equal(x->b, y->b) && node_equal(x->c, y->c);
}

static bool window_equal(const ir_window *a, const ir_window *b)
{
    if (a->kind != b->kind) return false;
    return a->kind != WINDOW_LAST || (a->count == b->count && a->unit == b->unit);
}

static uint64_t window_hash(const ir_window *w)
{
    uint64_t h = mix(0x77, (uint64_t)w->kind);
    if (w->kind == WINDOW_LAST) h = mix(mix(h, (uint64_t)w->count), (uint64_t)w->unit);
    return h;
}

/* What a key family shares: the rows and the keys, not the having. */
static uint64_t family_hash(const ir_agg *a)
{
    uint64_t h = mix(ptr_bits(a->source), node_hash(a->arg));
    return mix(mix(h, node_hash(a->where)), window_hash(&a->window));
}

static bool family_equal(const ir_agg *a, const ir_agg *b)
{
    return a->source == b->source && node_equal(a->arg, b->arg) && node_equal(a->where, b->where) &&
           window_equal(&a->window, &b->window);
}

static uint64_t agg_hash(const ir_agg *a)
{
    return mix(mix(family_hash(a), (uint64_t)a->kind), node_hash(a->having));
}

static bool agg_equal(const ir_agg *a, const ir_agg *b)
{
    return a->kind == b->kind && a->set == b->set && family_equal(a, b) && node_equal(a->having, b->having);
}

/* ---- the program --------------------------------------------------------------------- */

static uint64_t key_of(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

static void *form_of(const ir_program *p, const void *decl)
{
    uint32_t at = hmap_get(&p->decl_index, key_of(decl));
    return at == HMAP_NONE ? NULL : p->forms.items[at];
}

static void set_form(ir_program *p, const void *decl, void *form)
{
    hmap_put(&p->decl_index, key_of(decl), (uint32_t)p->forms.len);
    ptr_vec_push(p->mem, &p->forms, form);
}

ir_node *ir_indicator(const ir_program *p, const ast_decl *indicator)
{
    return indicator && indicator->kind == DECL_INDICATOR ? form_of(p, indicator) : NULL;
}

ir_agg *ir_set(const ir_program *p, const ast_decl *set)
{
    return set && set->kind == DECL_SET ? form_of(p, set) : NULL;
}

const ir_role_item *ir_role(const ir_program *p, const ast_decl *role)
{
    return role && role->kind == DECL_ROLE ? form_of(p, role) : NULL;
}

const ir_scale *ir_scale_of(const ir_program *p, const ast_decl *scale)
{
    return scale && scale->kind == DECL_SCALE ? form_of(p, scale) : NULL;
}

ir_node *ir_of(const ir_program *p, const ast_expr *e)
{
    uint32_t at = hmap_get(&p->node_index, key_of(e));
    return at == HMAP_NONE ? NULL : p->nodes.items[at];
}

static void release_program(void *p)
{
    ir_program_free(p);
}

ir_program *ir_program_of(ast_spec *spec, const chk_model *model)
{
    ir_program *p = ast_spec_attached(spec, model);
    if (!p) {
        p = lower_spec(&spec->mem, model);
        ast_spec_attach(spec, model, p, release_program);
    }
    return p;
}

void ir_program_free(ir_program *p)
{
    if (!p) return;
    hmap_free(&p->decl_index);
    hmap_free(&p->node_index);
    hmap_free(&p->intern_index);
    hmap_free(&p->family_index);
}

/* ---- lowering -------------------------------------------------------------------------- */

/* What lowering is inside of: the aggregate whose having holds group aggregates. */
typedef struct lower_ctx {
    ir_program *p;
    ptr_vec *slots; /* the enclosing having's group aggregates, or NULL */
} lower_ctx;

static ir_node *lower_node(lower_ctx *c, const ast_expr *e);
static ir_agg *lower_set(ir_program *p, const ast_decl *set);

static ir_node *new_node(ir_program *p, ir_kind kind, const ast_expr *e)
{
    ir_node *n = arena_alloc(p->mem, sizeof *n);
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->depth = 1;
    if (e) {
        n->type = e->type;
        n->dim = e->dim;
        n->per_staff = e->per_staff;
        n->span = e->span;
        n->syntax = e;
    }
    return n;
}

static void deepen(ir_node *n, const ir_node *child)
{
    if (child && child->depth + 1 > n->depth) n->depth = (uint16_t)(child->depth + 1);
}

static void finish_depth(ir_node *n)
{
    deepen(n, n->a);
    deepen(n, n->b);
    deepen(n, n->c);
    for (size_t i = 0; i < n->item_count; i++) deepen(n, n->items[i]);
    if (n->kind == IR_GROUP_AGGREGATE) {
        deepen(n, n->u.group.arg);
        deepen(n, n->u.group.where);
    }
}

static ir_agg *intern(ir_program *p, ir_agg *fresh)
{
    uint64_t h = agg_hash(fresh);
    for (uint64_t k = h;; k++) {
        uint32_t at = hmap_get(&p->intern_index, k);
        if (at == HMAP_NONE) {
            hmap_put(&p->intern_index, k, (uint32_t)p->aggs.len);
            break;
        }
        ir_agg *old = p->aggs.items[at];
        if (agg_equal(old, fresh)) return old;
    }
    fresh->id = (int)p->aggs.len;
    ptr_vec_push(p->mem, &p->aggs, fresh);
    return fresh;
}

static int family_of(ir_program *p, ir_agg *agg)
{
    uint64_t h = family_hash(agg);
    for (uint64_t k = h;; k++) {
        uint32_t at = hmap_get(&p->family_index, k);
        if (at == HMAP_NONE) {
            hmap_put(&p->family_index, k, (uint32_t)agg->id);
            return p->family_count++;
        }
        ir_agg *first = p->aggs.items[at];
        if (family_equal(first, agg)) return first->key_family;
    }
}

/* The rows aggregate AGG (whose where as written is WHERE) ranges over: an interned count. */
static void attach_rows(ir_program *p, ir_agg *agg, ir_node *where)
{
    if (agg->kind == IR_AGG_COUNT) {
        agg->rows = agg;
    } else {
        ir_agg *count = arena_alloc(p->mem, sizeof *count);
        memset(count, 0, sizeof *count);
        count->kind = IR_AGG_COUNT;
        count->source = agg->source;
        count->where = where;
        count->window = agg->window;
        count->key_family = -1;
        count->where_uses_period = ir_uses_period(where);
        count->syntax = agg->syntax;
        agg->rows = intern(p, count);
        if (agg->rows == count) attach_rows(p, count, where);
    }
    ir_node *rows = new_node(p, IR_ROWS, NULL);
    rows->type = TYPE_NUM;
    rows->dim = DIM_COUNT;
    rows->u.agg = agg;
    rows->span = agg->syntax ? agg->syntax->span : agg->set ? agg->set->span : rows->span;
    agg->rows_node = rows;
}

/* Finishes a freshly built aggregate: interns it and, when it is new, works out what
 * depends on its final identity. */
static ir_agg *settle_agg(ir_program *p, ir_agg *fresh, ptr_vec *slots)
{
    ir_agg *agg = intern(p, fresh);
    if (agg != fresh) return agg;
    agg->slots = (ir_node **)slots->items;
    agg->slot_count = slots->len;
    agg->key_family = agg->kind == IR_AGG_DISTINCT || agg->kind == IR_AGG_SET ? family_of(p, agg) : -1;
    ir_node *where = agg->where;
    /* `distinct(S.c where c in SET)` with SET over S: keeping the values of c that are
     * in SET at the end gives the same count (the where depends on c alone) without
     * waiting for SET before reading S */
    if (agg->kind == IR_AGG_DISTINCT && where && where->kind == IR_IN_SET && agg->arg &&
        agg->arg->kind == IR_COLUMN && where->a && where->a->kind == IR_COLUMN &&
        where->a->u.column.source == agg->arg->u.column.source &&
        where->a->u.column.index == agg->arg->u.column.index && where->u.agg->source == agg->source) {
        agg->member_set_agg = where->u.agg;
        agg->member_set = where->u.agg->set;
        agg->where = NULL;
    }
    agg->where_uses_period = ir_uses_period(agg->where);
    agg->arg_uses_period = ir_uses_period(agg->arg);
    attach_rows(p, agg, where);
    return agg;
}

static void window_of(ir_window *w, const ast_window *over)
{
    memset(w, 0, sizeof *w);
    w->kind = over ? over->kind : WINDOW_PERIOD;
    if (over && over->kind != WINDOW_PERIOD) w->syntax = over;
    if (over && over->kind == WINDOW_LAST) {
        w->count = over->count;
        w->unit = over->unit;
    }
}

static ir_agg_kind agg_kind(ast_call_kind k)
{
    switch (k) {
    case CALL_SUM: return IR_AGG_SUM;
    case CALL_AVG: return IR_AGG_AVG;
    case CALL_MIN: return IR_AGG_MIN;
    case CALL_MAX: return IR_AGG_MAX;
    case CALL_DISTINCT: return IR_AGG_DISTINCT;
    default: return IR_AGG_COUNT;
    }
}

static ir_agg *lower_set(ir_program *p, const ast_decl *set)
{
    ir_agg *known = form_of(p, set);
    if (known) return known;
    ir_agg *agg = arena_alloc(p->mem, sizeof *agg);
    memset(agg, 0, sizeof *agg);
    agg->kind = IR_AGG_SET;
    agg->set = set;
    agg->id = (int)p->aggs.len;
    agg->per_staff = set->per_staff;
    ptr_vec_push(p->mem, &p->aggs, agg);
    set_form(p, set, agg); /* before its clauses: they may name other sets */
    const ast_expr *column = set->u.set.column;
    agg->source = column ? column->ref : NULL;
    ptr_vec slots = { 0 };
    lower_ctx c = { p, NULL };
    agg->arg = column ? lower_node(&c, column) : NULL;
    agg->where = set->u.set.where ? lower_node(&c, set->u.set.where) : NULL;
    c.slots = &slots;
    agg->having = set->u.set.having ? lower_node(&c, set->u.set.having) : NULL;
    window_of(&agg->window, set->u.set.over);
    agg->slots = (ir_node **)slots.items;
    agg->slot_count = slots.len;
    agg->key_family = agg->source ? family_of(p, agg) : -1;
    agg->where_uses_period = ir_uses_period(agg->where);
    agg->arg_uses_period = ir_uses_period(agg->arg);
    attach_rows(p, agg, agg->where);
    return agg;
}

/* count(…), sum(…), …, distinct(…) outside a having: an interned aggregate. */
static ir_node *lower_aggregate(lower_ctx *c, const ast_expr *e, ir_node *n)
{
    ir_program *p = c->p;
    ir_agg *fresh = arena_alloc(p->mem, sizeof *fresh);
    memset(fresh, 0, sizeof *fresh);
    fresh->kind = agg_kind(e->call_kind);
    fresh->source = e->agg_source;
    fresh->syntax = e;
    lower_ctx inner = { p, NULL };
    if (e->call_kind != CALL_COUNT && e->u.call.args.len)
        fresh->arg = lower_node(&inner, e->u.call.args.items[0]);
    if (e->u.call.where) fresh->where = lower_node(&inner, e->u.call.where);
    ptr_vec slots = { 0 };
    inner.slots = &slots;
    if (e->u.call.having) fresh->having = lower_node(&inner, e->u.call.having);
    window_of(&fresh->window, e->u.call.over);
    p->lowered_calls++;
    ir_agg *agg = settle_agg(p, fresh, &slots);
    agg->per_staff |= e->per_staff;
    n->kind = IR_AGGREGATE;
    n->u.agg = agg;
    return n;
}

/* An aggregate inside a having: over the rows of one group, in a slot of the enclosing
 * aggregate. */
static ir_node *lower_group_aggregate(lower_ctx *c, const ast_expr *e, ir_node *n)
{
    lower_ctx inner = { c->p, NULL };
    n->kind = IR_GROUP_AGGREGATE;
    n->u.group.kind = agg_kind(e->call_kind == CALL_DISTINCT ? CALL_COUNT : e->call_kind);
    if (e->call_kind != CALL_COUNT && e->u.call.args.len)
        n->u.group.arg = lower_node(&inner, e->u.call.args.items[0]);
    if (e->u.call.where) n->u.group.where = lower_node(&inner, e->u.call.where);
    n->u.group.slot = (int)c->slots->len;
    ptr_vec_push(c->p->mem, c->slots, n);
    return n;
}

static bool decode_number(const ast_expr *e, dec_t *out)
{
    const char *text = e->u.lit.text;
    bool percent = e->kind == EX_PERCENT;
    if (!text || dec_parse(text, strlen(text), percent ? DEC_PLACES - 2 : DEC_PLACES, out) != DEC_OK)
        return false;
    return !percent || dec_div(*out, dec_from_int64(100), DEC_PLACES, out) == DEC_OK;
}

bool lower_number_literal(const ast_expr *e, dec_t *out)
{
    if (!e) return false;
    if (e->kind == EX_UNARY && e->u.op.op == OP_NEG) {
        if (!lower_number_literal(e->u.op.lhs, out)) return false;
        *out = dec_neg(*out);
        return true;
    }
    return (e->kind == EX_NUMBER || e->kind == EX_PERCENT) && decode_number(e, out);
}

static ir_kind op_kind(ast_op op)
{
    switch (op) {
    case OP_NEG: return IR_NEG;
    case OP_NOT: return IR_NOT;
    case OP_ADD: return IR_ADD;
    case OP_SUB: return IR_SUB;
    case OP_MUL: return IR_MUL;
    case OP_DIV: return IR_DIV;
    case OP_EQ: return IR_EQ;
    case OP_NE: return IR_NE;
    case OP_LT: return IR_LT;
    case OP_LE: return IR_LE;
    case OP_GT: return IR_GT;
    case OP_GE: return IR_GE;
    case OP_AND: return IR_AND;
    case OP_OR: return IR_OR;
    }
    return IR_NULL;
}

static ir_node *arg_node(lower_ctx *c, const ast_expr *e, size_t i)
{
    return i < e->u.call.args.len ? lower_node(c, e->u.call.args.items[i]) : NULL;
}

static void lower_call(lower_ctx *c, const ast_expr *e, ir_node *n)
{
    switch (e->call_kind) {
    case CALL_COUNT:
    case CALL_SUM:
    case CALL_AVG:
    case CALL_MIN:
    case CALL_MAX:
    case CALL_DISTINCT:
        if (c->slots) lower_group_aggregate(c, e, n);
        else lower_aggregate(c, e, n);
        return;
    case CALL_SET_SIZE: {
        ir_agg *set = e->ref ? lower_set(c->p, e->ref) : NULL;
        if (!set) return;
        set->per_staff |= e->per_staff;
        n->kind = IR_AGGREGATE;
        n->u.agg = set;
        return;
    }
    case CALL_FN_MIN: n->kind = IR_MIN; break;
    case CALL_FN_MAX: n->kind = IR_MAX; break;
    case CALL_FN_ABS: n->kind = IR_ABS; break;
    case CALL_FN_DAYS: n->kind = IR_DAYS; break;
    case CALL_FN_COALESCE: n->kind = IR_COALESCE; break;
    case CALL_PREVIOUS: n->kind = IR_PREVIOUS; break;
    case CALL_LAST_YEAR: n->kind = IR_LAST_YEAR; break;
    case CALL_SCALE:
        n->kind = IR_SCALE;
        n->u.decl = e->ref;
        break;
    case CALL_FN_ROUND: {
        const ast_expr *places = e->u.call.args.len > 1 ? e->u.call.args.items[1] : NULL;
        n->kind = IR_ROUND;
        n->u.places = places && places->u.lit.text ? (unsigned)atoi(places->u.lit.text) : 0;
        n->a = arg_node(c, e, 0);
        return;
    }
    default: return; /* unresolved: stays IR_NULL */
    }
    n->a = arg_node(c, e, 0);
    if (n->kind == IR_MIN || n->kind == IR_MAX || n->kind == IR_DAYS || n->kind == IR_COALESCE)
        n->b = arg_node(c, e, 1);
}

static void lower_reference(lower_ctx *c, const ast_expr *e, ir_node *n)
{
    switch (e->ref_kind) {
    case REF_INDICATOR:
        n->kind = IR_INDICATOR;
        n->u.decl = e->ref;
        return;
    case REF_COLUMN:
    case REF_STAFF_COLUMN:
        if (!e->ref || e->column < 0 || e->column >= e->ref->u.source.column_count) return;
        n->kind = e->ref_kind == REF_COLUMN ? IR_COLUMN : IR_STAFF_COLUMN;
        n->u.column.source = e->ref;
        n->u.column.index = e->column;
        n->u.column.type = e->ref->u.source.columns[e->column].type;
        return;
    case REF_PERIOD_START: n->kind = IR_PERIOD_START; return;
    case REF_PERIOD_END: n->kind = IR_PERIOD_END; return;
    case REF_VALUE: n->kind = IR_VALUE; return;
    case REF_TARGET: n->kind = IR_TARGET; return;
    case REF_ACHIEVEMENT: n->kind = IR_ACHIEVEMENT; return;
    case REF_SCORE: n->kind = IR_SCORE; return;
    case REF_EMPLOYED: n->kind = IR_EMPLOYED; return;
    case REF_GRADE: n->kind = IR_GRADE; return;
    case REF_RANK: n->kind = IR_RANK; return;
    case REF_PERCENTILE: n->kind = IR_PERCENTILE; return;
    case REF_GRADE_FACTOR: n->kind = IR_GRADE_FACTOR; return;
    default: (void)c; return;
    }
}

static ir_node *lower_node(lower_ctx *c, const ast_expr *e)
{
    ir_program *p = c->p;
    ir_node *known = ir_of(p, e);
    if (known) return known;
    ir_node *n = new_node(p, IR_NULL, e);
    switch (e->kind) {
    case EX_NUMBER:
    case EX_PERCENT:
        if (decode_number(e, &n->u.number)) n->kind = IR_NUMBER;
        break;
    case EX_DATE:
        if (e->u.lit.text && date_parse(e->u.lit.text, strlen(e->u.lit.text), &n->u.date) == DATE_OK)
            n->kind = IR_DATE;
        break;
    case EX_STRING:
        n->kind = IR_TEXT;
        n->u.text.text = e->u.lit.text ? e->u.lit.text : "";
        n->u.text.text_len = strlen(n->u.text.text);
        break;
    case EX_BOOL:
        n->kind = IR_BOOL;
        n->u.boolean = e->u.lit.boolean;
        break;
    case EX_NAME:
    case EX_MEMBER: lower_reference(c, e, n); break;
    case EX_UNARY:
        n->kind = op_kind(e->u.op.op);
        n->a = lower_node(c, e->u.op.lhs);
        break;
    case EX_BINARY:
        n->kind = op_kind(e->u.op.op);
        n->a = lower_node(c, e->u.op.lhs);
        n->b = lower_node(c, e->u.op.rhs);
        break;
    case EX_IF:
        n->kind = IR_IF;
        n->a = lower_node(c, e->u.cond.cond);
        n->b = lower_node(c, e->u.cond.then_expr);
        n->c = lower_node(c, e->u.cond.else_expr);
        break;
    case EX_IN_LIST:
        n->kind = IR_IN_LIST;
        n->a = lower_node(c, e->u.in.lhs);
        n->item_count = e->u.in.items.len;
        n->items = arena_alloc(p->mem, (n->item_count ? n->item_count : 1) * sizeof *n->items);
        for (size_t i = 0; i < n->item_count; i++) n->items[i] = lower_node(c, e->u.in.items.items[i]);
        break;
    case EX_IN_SET:
        n->a = lower_node(c, e->u.in.lhs);
        if (e->ref) {
            n->kind = IR_IN_SET;
            n->u.agg = lower_set(p, e->ref);
        }
        break;
    case EX_IN_PERIOD:
        n->kind = e->u.in.rel == PERIOD_IN            ? IR_IN_PERIOD
                  : e->u.in.rel == PERIOD_IN_PREVIOUS ? IR_IN_PREVIOUS_PERIOD
                                                      : IR_BEFORE_PERIOD;
        n->a = lower_node(c, e->u.in.lhs);
        break;
    case EX_CALL: lower_call(c, e, n); break;
    default: break;
    }
    if (n->kind == IR_NULL) n->a = n->b = n->c = NULL;
    finish_depth(n);
    hmap_put(&p->node_index, key_of(e), (uint32_t)p->nodes.len);
    ptr_vec_push(p->mem, &p->nodes, n);
    return n;
}

static ir_node *lower_top(ir_program *p, const ast_expr *e)
{
    if (!e) return NULL;
    lower_ctx c = { p, NULL };
    return lower_node(&c, e);
}

/* A use may have asked for a per-staff breakdown that the count of the rows must
 * follow. */
static void settle_grain(ir_program *p)
{
    for (size_t i = 0; i < p->aggs.len; i++) {
        ir_agg *a = p->aggs.items[i];
        if (a->rows && a->per_staff) a->rows->per_staff = true;
    }
    for (size_t i = 0; i < p->aggs.len; i++) {
        ir_agg *a = p->aggs.items[i];
        if (a->rows_node) a->rows_node->per_staff = a->per_staff;
    }
}

ir_node *lower_expr(ir_program *p, const ast_expr *e)
{
    ir_node *n = lower_top(p, e);
    settle_grain(p);
    return n;
}

/* A scale bound or output: a signed number or percent, or ±inf. */
static bool scale_literal(const ast_expr *e, dec_t *value, int *infinite)
{
    bool negative = false;
    *infinite = 0;
    memset(value, 0, sizeof *value);
    if (!e) return false;
    if (e->kind == EX_UNARY && e->u.op.op == OP_NEG) {
        negative = true;
        e = e->u.op.lhs;
    }
    if (e->kind == EX_INF) {
        *infinite = negative ? -1 : 1;
        return true;
    }
    if ((e->kind != EX_NUMBER && e->kind != EX_PERCENT) || !decode_number(e, value)) return false;
    if (negative) *value = dec_neg(*value);
    return true;
}

static ir_scale *lower_scale(ir_program *p, const ast_decl *scale)
{
    ir_scale *s = arena_alloc(p->mem, sizeof *s);
    memset(s, 0, sizeof *s);
    s->decl = scale;
    s->row_count = scale->u.scale.row_count;
    s->rows = arena_alloc(p->mem, (size_t)(s->row_count ? s->row_count : 1) * sizeof *s->rows);
    for (int i = 0; i < s->row_count; i++) {
        const ast_scale_row *row = &scale->u.scale.rows[i];
        ir_scale_row *r = &s->rows[i];
        int inf;
        memset(r, 0, sizeof *r);
        r->lo_closed = row->lo_closed;
        r->hi_closed = row->hi_closed;
        scale_literal(row->lo, &r->lo, &r->lo_inf);
        scale_literal(row->hi, &r->hi, &r->hi_inf);
        scale_literal(row->from, &r->from, &inf);
        r->linear = row->to != NULL;
        if (row->to) scale_literal(row->to, &r->to, &inf);
    }
    s->percent =
        s->row_count > 0 && scale->u.scale.rows[0].hi && scale->u.scale.rows[0].lo &&
        (scale->u.scale.rows[0].hi->kind == EX_PERCENT || scale->u.scale.rows[0].lo->kind == EX_PERCENT);
    set_form(p, scale, s);
    return s;
}

static void lower_role(ir_program *p, const ast_decl *role)
{
    int n = role->u.role.item_count;
    ir_role_item *items = arena_alloc(p->mem, (size_t)(n ? n : 1) * sizeof *items);
    memset(items, 0, (size_t)(n ? n : 1) * sizeof *items);
    for (int i = 0; i < n; i++) {
        const ast_role_item *it = &role->u.role.items[i];
        if (it->kind == ROLE_KPI) {
            items[i].weight = lower_top(p, it->weight);
            items[i].target = it->has_target ? lower_top(p, it->target) : NULL;
            items[i].points = lower_top(p, it->points);
        } else if (it->kind == ROLE_GATE || it->kind == ROLE_BONUS) {
            items[i].expr = lower_top(p, it->expr);
            items[i].share = lower_top(p, it->share);
            items[i].cap = lower_top(p, it->cap);
            items[i].floor = lower_top(p, it->floor);
            if (it->pool && it->ref) items[i].amount = lower_top(p, it->ref->u.pool.amount);
        }
    }
    set_form(p, role, items);
}

ir_program *lower_spec(arena *mem, const chk_model *model)
{
    ir_program *p = arena_alloc(mem, sizeof *p);
    memset(p, 0, sizeof *p);
    p->mem = mem;
    p->model = model;
    hmap_init(&p->decl_index);
    hmap_init(&p->node_index);
    hmap_init(&p->intern_index);
    hmap_init(&p->family_index);
    for (size_t i = 0; i < model->scales.len; i++) lower_scale(p, model->scales.items[i]);
    for (size_t i = 0; i < model->sets.len; i++) lower_set(p, model->sets.items[i]);
    for (size_t i = 0; i < model->indicators.len; i++) {
        const ast_decl *ind = model->indicators.items[i];
        if (form_of(p, ind) || !ind->u.indicator.expr) continue;
        set_form(p, ind, lower_top(p, ind->u.indicator.expr));
    }
    for (size_t i = 0; i < model->roles.len; i++) lower_role(p, model->roles.items[i]);
    settle_grain(p);
    return p;
}
