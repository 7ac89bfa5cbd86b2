/* interp.c — the IR interpreter (see interp.h). */
#include "kpic/interp.h"

#include <stddef.h>

/* A cell of the row being read; null outside a pass over N's source. */
static void row_cell(const interp_env *env, const ir_node *n, val_t *out)
{
    if (n->u.column.source != env->source || !env->cells) return;
    const csvr_cell *c = &env->cells[n->u.column.index]; /* every declared column is read */
    if (c->is_null) return;
    switch (n->u.column.type) {
    case COLTYPE_INT: val_set_num(out, dec_from_int64(c->as.i)); return;
    case COLTYPE_NUMBER:
    case COLTYPE_MONEY: val_set_num(out, c->as.dec); return;
    case COLTYPE_DATE: val_set_date(out, c->as.date); return;
    case COLTYPE_BOOL: val_set_bool(out, c->as.b); return;
    default: val_set_text(out, c->as.text.ptr, c->as.text.len); return;
    }
}

static void arith(const interp_env *env, const ir_node *n, val_arith op, val_t *out)
{
    val_t a, b;
    interp_eval(env, n->a, &a);
    interp_eval(env, n->b, &b);
    if (val_arith_op(op, &a, &b, out) == DEC_OVERFLOW && env->leaves->overflow) env->leaves->overflow(env, n);
}

/* x * employed (either side) with employed's exact fraction: false when N is not such a
 * product or the leaves have no fraction for it, and nothing was evaluated. */
static bool prorated(const interp_env *env, const ir_node *n, val_t *out)
{
    const ir_node *share = n->b->kind == IR_EMPLOYED ? n->b : n->a->kind == IR_EMPLOYED ? n->a : NULL;
    int64_t num, den;
    if (!share || !env->leaves->employed_fraction || !env->leaves->employed_fraction(env, &num, &den))
        return false;
    val_t x, employed;
    interp_eval(env, share == n->b ? n->a : n->b, &x);
    dec_t product, quotient;
    if (x.kind == VAL_NUM && dec_mul(x.as.num, dec_from_int64(num), &product) == DEC_OK &&
        dec_div(product, dec_from_int64(den), DEC_PLACES, &quotient) == DEC_OK) {
        val_set_num(out, quotient);
        return true;
    }
    /* null, or x × days alone leaves the range: the product as written */
    interp_eval(env, share, &employed);
    if (val_arith_op(VAL_MUL, &x, &employed, out) == DEC_OVERFLOW && env->leaves->overflow)
        env->leaves->overflow(env, n);
    return true;
}

/* An operand of a comparison or an `in` list, as interp_eval gives it: a row's cell and
 * a constant without a call (a where runs them on every row). */
static inline void operand(const interp_env *env, const ir_node *n, val_t *out)
{
    switch (n->kind) {
    case IR_COLUMN:
        val_set_null(out);
        row_cell(env, n, out);
        return;
    case IR_NUMBER: val_set_num(out, n->u.number); return;
    case IR_TEXT: val_set_text(out, n->u.text.text, n->u.text.text_len); return;
    default: interp_eval(env, n, out); return;
    }
}

/* N's comparison (IR_EQ … IR_GE) of its two sides. */
static void compare(const interp_env *env, const ir_node *n, val_t *out)
{
    static const val_cmp ops[] = { [IR_EQ] = VAL_EQ, [IR_NE] = VAL_NE, [IR_LT] = VAL_LT,
                                   [IR_LE] = VAL_LE, [IR_GT] = VAL_GT, [IR_GE] = VAL_GE };
    val_t a, b;
    operand(env, n->a, &a);
    operand(env, n->b, &b);
    val_compare_op(ops[n->kind], &a, &b, out);
}

/* `x in (items)`: the items are evaluated in turn until one matches (none when x is
 * null). */
static void in_list(const interp_env *env, const ir_node *n, val_t *out)
{
    val_t a, b;
    operand(env, n->a, &a);
    val_in_start(&a, out);
    if (a.kind == VAL_NULL) return;
    bool saw_null = false;
    for (size_t i = 0; i < n->item_count; i++) {
        operand(env, n->items[i], &b);
        if (val_in_item(&a, &b, &saw_null, out)) return;
    }
    val_in_end(&a, saw_null, out);
}

/* and/or: the right side is not evaluated when the left decides */
static void logic(const interp_env *env, const ir_node *n, bool is_or, val_t *out)
{
    val_t a, b;
    interp_eval(env, n->a, &a);
    if (val_decides(is_or, &a)) {
        val_set_bool(out, is_or);
        return;
    }
    interp_eval(env, n->b, &b);
    val_logic(is_or, &a, &b, out);
}

static void shifted(const interp_env *env, const ir_node *n, val_t *out)
{
    interp_env moved = *env;
    bool ok = n->kind == IR_PREVIOUS ? period_previous(env->period, &moved.period)
                                     : period_last_year(env->period, &moved.period);
    if (ok) interp_eval(&moved, n->a, out);
}

void interp_eval(const interp_env *env, const ir_node *n, val_t *out)
{
    const interp_leaves *leaves = env->leaves;
    val_t a, b;
    val_set_null(out);
    switch (n->kind) {
    case IR_NUMBER: val_set_num(out, n->u.number); return;
    case IR_DATE: val_set_date(out, n->u.date); return;
    case IR_TEXT: val_set_text(out, n->u.text.text, n->u.text.text_len); return;
    case IR_BOOL: val_set_bool(out, n->u.boolean); return;
    case IR_NULL: return;
    case IR_COLUMN: row_cell(env, n, out); return;
    case IR_STAFF_COLUMN:
        if (leaves->staff_cell) leaves->staff_cell(env, n, out);
        return;
    case IR_PERIOD_START: val_set_date(out, env->period.start); return;
    case IR_PERIOD_END: val_set_date(out, env->period.end); return;
    case IR_INDICATOR:
        if (leaves->indicator) leaves->indicator(env, n->u.decl, out);
        return;
    case IR_AGGREGATE:
    case IR_ROWS:
        if (leaves->aggregate) leaves->aggregate(env, n, out);
        return;
    case IR_GROUP_AGGREGATE:
        if (leaves->group) leaves->group(env, n, out);
        return;
    case IR_VALUE:
    case IR_TARGET:
    case IR_ACHIEVEMENT:
    case IR_EMPLOYED:
    case IR_SCORE:
    case IR_GRADE:
    case IR_RANK:
    case IR_PERCENTILE:
    case IR_GRADE_FACTOR:
        if (leaves->context) leaves->context(env, n->kind, out);
        return;
    case IR_NEG:
        interp_eval(env, n->a, &a);
        val_neg(&a, out);
        return;
    case IR_NOT:
        interp_eval(env, n->a, &a);
        val_not(&a, out);
        return;
    case IR_ADD: arith(env, n, VAL_ADD, out); return;
    case IR_SUB: arith(env, n, VAL_SUB, out); return;
    case IR_MUL:
        if (!prorated(env, n, out)) arith(env, n, VAL_MUL, out);
        return;
    case IR_DIV: arith(env, n, VAL_DIV, out); return;
    case IR_EQ:
    case IR_NE:
    case IR_LT:
    case IR_LE:
    case IR_GT:
    case IR_GE: compare(env, n, out); return;
    case IR_AND: logic(env, n, false, out); return;
    case IR_OR: logic(env, n, true, out); return;
    case IR_IF:
        interp_eval(env, n->a, &a);
        interp_eval(env, a.kind == VAL_BOOL && a.as.b ? n->b : n->c, out);
        return;
    case IR_IN_LIST: in_list(env, n, out); return;
    case IR_IN_SET:
        interp_eval(env, n->a, &a);
        if (a.kind != VAL_NULL && leaves->in_set) val_set_bool(out, leaves->in_set(env, n->u.agg, &a));
        return;
    case IR_IN_PERIOD:
    case IR_IN_PREVIOUS_PERIOD:
    case IR_BEFORE_PERIOD:
        interp_eval(env, n->a, &a);
        if (a.kind != VAL_DATE) return;
        val_set_bool(out, n->kind == IR_IN_PERIOD            ? period_contains(env->period, a.as.date)
                          : n->kind == IR_IN_PREVIOUS_PERIOD ? period_in_previous(env->period, a.as.date)
                                                             : period_before(env->period, a.as.date));
        return;
    case IR_ABS:
        interp_eval(env, n->a, &a);
        val_abs(&a, out);
        return;
    case IR_ROUND:
        interp_eval(env, n->a, &a);
        val_round(&a, n->u.places, out);
        return;
    case IR_DAYS:
        interp_eval(env, n->a, &a);
        interp_eval(env, n->b, &b);
        val_days(&a, &b, out);
        return;
    case IR_MIN:
    case IR_MAX:
        interp_eval(env, n->a, &a);
        interp_eval(env, n->b, &b);
        val_min_max(n->kind == IR_MAX, &a, &b, out);
        return;
    case IR_SCALE:
        interp_eval(env, n->a, &a);
        if (a.kind == VAL_NUM && leaves->scale) leaves->scale(env, n, a.as.num, out);
        return;
    case IR_PREVIOUS:
    case IR_LAST_YEAR: shifted(env, n, out); return;
    case IR_COALESCE:
        interp_eval(env, n->a, &a);
        val_set_null(&b);
        if (a.kind == VAL_NULL) interp_eval(env, n->b, &b);
        val_coalesce(&a, &b, out);
        return;
    default: return;
    }
}

/* N's value for a where, as interp_eval would give it: 1 true, 0 false, -1 null or not
 * a boolean. A where runs for every aggregate on every row, and its usual shapes —
 * boolean columns, not, and/or, comparisons and `in` lists of columns and constants —
 * are taken apart here without a value made for each node. Every node interp_eval
 * would evaluate is evaluated, in its order (and/or leave the right side alone when the
 * left decides), so a leaf's side effects (an overflow, a scale miss) are the same. */
static int truth(const interp_env *env, const ir_node *n)
{
    val_t a;
    switch (n->kind) {
    case IR_COLUMN:
        if (n->u.column.type == COLTYPE_BOOL && n->u.column.source == env->source && env->cells) {
            const csvr_cell *c = &env->cells[n->u.column.index];
            return c->is_null ? -1 : c->as.b;
        }
        operand(env, n, &a);
        break;
    case IR_NOT: {
        int t = truth(env, n->a);
        return t < 0 ? -1 : !t;
    }
    case IR_AND:
    case IR_OR: {
        int is_or = n->kind == IR_OR;
        int x = truth(env, n->a);
        if (x == is_or) return is_or;
        int y = truth(env, n->b);
        if (y == is_or) return is_or;
        return x < 0 || y < 0 ? -1 : !is_or;
    }
    case IR_EQ:
    case IR_NE:
    case IR_LT:
    case IR_LE:
    case IR_GT:
    case IR_GE: compare(env, n, &a); break;
    case IR_IN_LIST: in_list(env, n, &a); break;
    default: interp_eval(env, n, &a); break;
    }
    return a.kind == VAL_BOOL ? a.as.b : -1;
}

bool interp_true(const interp_env *env, const ir_node *n)
{
    return !n || truth(env, n) == 1;
}
