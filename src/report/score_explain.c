/* score_explain.c — `kpic explain`: the chain from the data to one staff member's
 * bonus, and expressions shown with their values filled in (score_internal.h).
 *
 * An explanation evaluates nothing the scorer does not: it reads the same session.
 * To show what an aggregate inside previous() or last_year() gave, the session is
 * created with those shifted periods as periods of its own (score_trace_periods), so
 * eval_value_of() can be asked for them; and to show how many rows an aggregate saw,
 * the count of its rows (the IR's ir_agg.rows: its source, where and window) is
 * required too (score_trace_require) and computed in the same single pass.
 */
#include "score_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kpic/hash.h"
#include "kpic/ir.h"

/* ---- small helpers ------------------------------------------------------------------- */

FILE *score_memstream(char **buf, size_t *len)
{
    return xopen_memstream(buf, len);
}

void score_memstream_close(FILE *f)
{
    xclose_memstream(f);
}

/* V as people read it in UNIT, written to OUT. */
static void put_value(FILE *out, eval_value v, ast_unit unit)
{
    char buf[128];
    eval_format_value(v, unit, buf, sizeof buf);
    fputs(buf, out);
}

static void put_num(FILE *out, dec_t d, ast_unit unit)
{
    put_value(out, eval_num(d), unit);
}

static ast_unit dim_unit(ast_dim d)
{
    switch (d) {
    case DIM_MONEY: return UNIT_MONEY;
    case DIM_RATIO: return UNIT_PERCENT;
    case DIM_COUNT: return UNIT_COUNT;
    case DIM_DAYS: return UNIT_DAYS;
    case DIM_POINTS: return UNIT_POINTS;
    case DIM_NUMBER: break;
    }
    return UNIT_NUMBER;
}

/* Does SCALE give percentages (its points are written with '%')? */
static bool scale_gives_percent(const ast_decl *scale)
{
    return scale->dim == DIM_RATIO ||
           (scale->u.scale.row_count > 0 && scale->u.scale.rows[0].from->kind == EX_PERCENT);
}

ast_unit score_expr_unit(const ast_expr *e, const score_kpi *kpi)
{
    switch (e->kind) {
    case EX_NAME:
    case EX_MEMBER:
        switch (e->ref_kind) {
        case REF_INDICATOR: return e->ref->u.indicator.unit;
        case REF_VALUE:
        case REF_TARGET:
            if (kpi && kpi->indicator) return kpi->indicator->u.indicator.unit;
            break;
        case REF_ACHIEVEMENT: return UNIT_PERCENT;
        case REF_SCORE: return UNIT_POINTS;
        case REF_EMPLOYED: return UNIT_RATIO;
        case REF_PERCENTILE: return UNIT_PERCENT;
        case REF_RANK:
        case REF_GRADE_FACTOR: return UNIT_NUMBER;
        case REF_STAFF_COLUMN:
        case REF_COLUMN:
            if (e->ref && e->column >= 0 && e->column < e->ref->u.source.column_count)
                return e->ref->u.source.columns[e->column].type == COLTYPE_MONEY ? UNIT_MONEY : UNIT_NUMBER;
            break;
        default: break;
        }
        break;
    case EX_CALL:
        if ((e->call_kind == CALL_PREVIOUS || e->call_kind == CALL_LAST_YEAR) && e->u.call.args.len)
            return score_expr_unit(e->u.call.args.items[0], kpi);
        if (e->call_kind == CALL_SCALE && e->ref)
            return scale_gives_percent(e->ref) ? UNIT_PERCENT : UNIT_POINTS;
        break;
    default: break;
    }
    return dim_unit(e->dim);
}

/* ---- filled-in expressions --------------------------------------------------------- */

typedef struct fill_ctx {
    eval_session *s;
    size_t period; /* index into the session's periods */
    int staff;
    const score_statement *st;
    const score_kpi *kpi;
    eval_kpi_context ctx;
} fill_ctx;

static fill_ctx make_fill(eval_session *s, const score_statement *st, const score_kpi *kpi)
{
    fill_ctx c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.period = st->period;
    c.staff = st->staff;
    c.st = st;
    c.kpi = kpi;
    if (kpi) {
        c.ctx.value = kpi->value;
        c.ctx.target = kpi->target;
        c.ctx.achievement = kpi->achievement;
        c.ctx.score = eval_null();
    } else {
        c.ctx.score = st->score;
        if (st->grade.settled) c.ctx.grades = &st->grade.values;
    }
    c.ctx.employed = st->employed;
    return c;
}

/* Is E shown as its value (rather than taken apart)? */
static bool is_leaf(const ast_expr *e)
{
    switch (e->kind) {
    case EX_NAME:
    case EX_MEMBER: return true;
    case EX_CALL:
        switch (e->call_kind) {
        case CALL_FN_MIN:
        case CALL_FN_MAX:
        case CALL_FN_ABS:
        case CALL_FN_ROUND:
        case CALL_FN_DAYS:
        case CALL_FN_COALESCE: return false;
        default: return true;
        }
    default: return false;
    }
}

static void fill(FILE *out, const fill_ctx *c, const ast_expr *e, int parent_prec);

static void fill_child(FILE *out, const fill_ctx *c, const ast_expr *e, bool paren)
{
    if (paren) fputc('(', out);
    fill(out, c, e, paren ? 0 : 9);
    if (paren) fputc(')', out);
}

/* A leaf's value. Negative numbers get parentheses inside an operation. */
static void fill_leaf(FILE *out, const fill_ctx *c, const ast_expr *e, int parent_prec)
{
    if (e->ref_kind == REF_EMPLOYED && (e->kind == EX_NAME) && c->st->employed_days.den > 0) {
        period_fraction f = c->st->employed_days;
        if (f.num == f.den) fputs("1", out);
        else fprintf(out, "%d/%d", (int)f.num, (int)f.den);
        return;
    }
    eval_value v = eval_value_of(c->s, (ast_expr *)e, c->period, c->staff, &c->ctx);
    bool paren = parent_prec < 9 && parent_prec > 0 && v.kind == VAL_NUM && dec_sign(v.as.num) < 0;
    if (paren) fputc('(', out);
    if (v.kind == VAL_TEXT) fprintf(out, "\"%s\"", v.as.text);
    else put_value(out, v, score_expr_unit(e, c->kpi));
    if (paren) fputc(')', out);
}

static void fill(FILE *out, const fill_ctx *c, const ast_expr *e, int parent_prec)
{
    if (is_leaf(e)) {
        fill_leaf(out, c, e, parent_prec);
        return;
    }
    switch (e->kind) {
    case EX_NUMBER:
    case EX_PERCENT:
    case EX_DATE:
    case EX_STRING: fputs(e->u.lit.raw ? e->u.lit.raw : e->u.lit.text, out); return;
    case EX_BOOL: fputs(e->u.lit.boolean ? "true" : "false", out); return;
    case EX_INF: fputs("inf", out); return;
    case EX_UNARY: {
        ast_prec p = ast_precedence(e);
        fputs(e->u.op.op == OP_NOT ? "not " : "-", out);
        fill_child(out, c, e->u.op.lhs, ast_precedence(e->u.op.lhs) < p);
        return;
    }
    case EX_BINARY: {
        ast_prec p = ast_precedence(e);
        ast_op op = e->u.op.op;
        fill_child(out, c, e->u.op.lhs, ast_precedence(e->u.op.lhs) < p);
        fputc(' ', out);
        fputs(op == OP_MUL ? "×" : ast_op_text(op), out);
        fputc(' ', out);
        ast_prec rp = ast_precedence(e->u.op.rhs);
        bool strict = op == OP_SUB || op == OP_DIV || p == 4;
        if (is_leaf(e->u.op.rhs)) fill(out, c, e->u.op.rhs, p);
        else fill_child(out, c, e->u.op.rhs, rp < p || (strict && rp == p));
        return;
    }
    case EX_IF:
        fputs("if ", out);
        fill(out, c, e->u.cond.cond, 0);
        fputs(" then ", out);
        fill(out, c, e->u.cond.then_expr, 0);
        fputs(" else ", out);
        fill(out, c, e->u.cond.else_expr, 0);
        return;
    case EX_IN_LIST:
        fill_child(out, c, e->u.in.lhs, ast_precedence(e->u.in.lhs) <= AST_PREC_CMP);
        fputs(" in (", out);
        for (size_t i = 0; i < e->u.in.items.len; i++) {
            if (i) fputs(", ", out);
            fill(out, c, e->u.in.items.items[i], 0);
        }
        fputc(')', out);
        return;
    case EX_IN_SET:
        fill_child(out, c, e->u.in.lhs, ast_precedence(e->u.in.lhs) <= AST_PREC_CMP);
        fprintf(out, " in %s", e->u.in.set_name);
        return;
    case EX_IN_PERIOD:
        fill_child(out, c, e->u.in.lhs, ast_precedence(e->u.in.lhs) <= AST_PREC_CMP);
        fputs(e->u.in.rel == PERIOD_IN            ? " in period"
              : e->u.in.rel == PERIOD_IN_PREVIOUS ? " in previous period"
                                                  : " before period",
              out);
        return;
    case EX_CALL:
        fprintf(out, "%s(", e->u.call.name);
        for (size_t i = 0; i < e->u.call.args.len; i++) {
            if (i) fputs(", ", out);
            fill(out, c, e->u.call.args.items[i], 0);
        }
        fputc(')', out);
        return;
    default: fputs("?", out); return;
    }
}

void score_write_filled(FILE *out, eval_session *s, const score_statement *st, const score_kpi *kpi,
                        ast_expr *e)
{
    fill_ctx c = make_fill(s, st, kpi);
    fill(out, &c, e, 0);
}

char *score_filled_text(eval_session *s, const score_statement *st, const score_kpi *kpi, ast_expr *e)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = score_memstream(&buf, &len);
    score_write_filled(f, s, st, kpi, e);
    score_memstream_close(f);
    return buf;
}

/* ---- the periods an explanation needs ----------------------------------------------- */

period_t *score_trace_periods(const ir_program *program, const ast_decl *role, period_t p, size_t *count)
{
    ir_periods reached = { 0 };
    ir_role_periods(program, role, p, IR_REACH_EVALUATED, &reached);
    period_t *periods = reached.items;
    *count = reached.count < PERIOD_RANGE_MAX ? reached.count : PERIOD_RANGE_MAX;
    reached.items = NULL;
    ir_periods_free(&reached);
    return periods;
}

/* ---- row counts ------------------------------------------------------------------------ */

struct score_trace {
    hmap rows_of;          /* aggregate node → index into rows */
    const ast_expr **rows; /* each aggregate whose rows are counted (eval_rows_of) */
    size_t count, cap;
    hmap walked; /* indicators already walked */
};

static void trace_rows(score_trace *t, eval_session *s, ast_expr *e)
{
    if (!e) return;
    switch (e->kind) {
    case EX_NAME:
        if (e->ref_kind == REF_INDICATOR && e->ref &&
            hmap_get_or_put(&t->walked, (uint64_t)(uintptr_t)e->ref, 1) == HMAP_NONE)
            trace_rows(t, s, e->ref->u.indicator.expr);
        return;
    case EX_UNARY: trace_rows(t, s, e->u.op.lhs); return;
    case EX_BINARY:
        trace_rows(t, s, e->u.op.lhs);
        trace_rows(t, s, e->u.op.rhs);
        return;
    case EX_IF:
        trace_rows(t, s, e->u.cond.cond);
        trace_rows(t, s, e->u.cond.then_expr);
        trace_rows(t, s, e->u.cond.else_expr);
        return;
    case EX_IN_LIST:
    case EX_IN_SET:
    case EX_IN_PERIOD:
        trace_rows(t, s, e->u.in.lhs);
        for (size_t i = 0; e->kind == EX_IN_LIST && i < e->u.in.items.len; i++)
            trace_rows(t, s, e->u.in.items.items[i]);
        return;
    case EX_CALL: {
        /* an aggregate: the count of its rows is the IR's (ir_agg.rows) */
        bool aggregate =
            (e->call_kind >= CALL_COUNT && e->call_kind <= CALL_DISTINCT && e->agg_source) ||
            (e->call_kind == CALL_SET_SIZE && e->ref && e->ref->u.set.column && e->ref->u.set.column->ref);
        if (!aggregate) {
            for (size_t i = 0; i < e->u.call.args.len; i++) trace_rows(t, s, e->u.call.args.items[i]);
            return;
        }
        if (hmap_get(&t->rows_of, (uint64_t)(uintptr_t)e) != HMAP_NONE) return;
        if (t->count == t->cap) {
            t->cap = t->cap ? 2 * t->cap : 32;
            t->rows = xrealloc(t->rows, t->cap * sizeof *t->rows);
        }
        hmap_put(&t->rows_of, (uint64_t)(uintptr_t)e, (uint32_t)t->count);
        t->rows[t->count++] = e;
        eval_require_rows(s, e);
        return;
    }
    default: return;
    }
}

static score_trace *trace_new(void)
{
    score_trace *t = xcalloc(1, sizeof *t);
    hmap_init(&t->rows_of);
    hmap_init(&t->walked);
    return t;
}

score_trace *score_trace_require_indicator(eval_session *s, ast_spec *spec, ast_decl *indicator)
{
    (void)spec; /* the rows' counts no longer need nodes in the spec's arena */
    score_trace *t = trace_new();
    eval_require_indicator(s, indicator);
    if (hmap_get_or_put(&t->walked, (uint64_t)(uintptr_t)indicator, 1) == HMAP_NONE)
        trace_rows(t, s, indicator->u.indicator.expr);
    return t;
}

score_trace *score_trace_require(eval_session *s, ast_spec *spec, const ast_decl *role)
{
    (void)spec; /* the rows' counts no longer need nodes in the spec's arena */
    score_trace *t = trace_new();
    score_require_role(s, role);
    for (int i = 0; i < role->u.role.item_count; i++) {
        const ast_role_item *it = &role->u.role.items[i];
        if (it->kind == ROLE_KPI) {
            if (it->ref && hmap_get_or_put(&t->walked, (uint64_t)(uintptr_t)it->ref, 1) == HMAP_NONE)
                trace_rows(t, s, it->ref->u.indicator.expr);
            if (it->has_target) trace_rows(t, s, it->target);
            trace_rows(t, s, it->points);
        } else if (it->kind == ROLE_GATE || it->kind == ROLE_BONUS) {
            trace_rows(t, s, it->expr);
            trace_rows(t, s, it->share);
            trace_rows(t, s, it->cap);
            trace_rows(t, s, it->floor);
            if (it->pool && it->ref) {
                /* the part depends on every member's share: their roles are scored too */
                trace_rows(t, s, it->ref->u.pool.amount);
                for (size_t k = 0; k < it->ref->u.pool.roles.len; k++)
                    if (it->ref->u.pool.roles.items[k] != role)
                        score_require_role(s, it->ref->u.pool.roles.items[k]);
            }
        }
    }
    return t;
}

void score_trace_free(score_trace *t)
{
    if (!t) return;
    hmap_free(&t->rows_of);
    hmap_free(&t->walked);
    free(t->rows);
    free(t);
}

/* ---- the explanation ------------------------------------------------------------------- */

/* Column of the values after the labels ("achievement  "). */
#define LABEL_WIDTH 13

typedef struct explain_ctx {
    FILE *out;
    score_trace *t;
    eval_session *s;
    const diag_sink *diags;
    const score_statement *st;
    arena mem; /* source texts */
    const period_t *periods;
    size_t period_count;
    hmap shown; /* (indicator, period) whose formula was already traced */
} explain_ctx;

static const char *src_text(explain_ctx *x, kp_span span)
{
    return diag_span_text(x->diags, span, &x->mem);
}

static void indent(explain_ctx *x, int depth)
{
    fprintf(x->out, "%*s", 2 + 2 * depth, "");
}

static void label(explain_ctx *x, const char *name)
{
    fprintf(x->out, "  %-*s", LABEL_WIDTH, name);
}

/* The index of period P among the session's periods, or -1. */
static int period_index(const explain_ctx *x, period_t p)
{
    for (size_t i = 0; i < x->period_count; i++)
        if (period_same(x->periods[i], p)) return (int)i;
    return -1;
}

static void period_note(explain_ctx *x, size_t period)
{
    if (period == x->st->period) return;
    char buf[PERIOD_LABEL_SIZE];
    period_format(x->periods[period], buf, sizeof buf);
    fprintf(x->out, " in %s", buf);
}

static void trace(explain_ctx *x, ast_expr *e, size_t period, const eval_kpi_context *ctx,
                  const score_kpi *kpi, int depth);

/* A line for an indicator, then (the first time) the trace of its formula. */
static void trace_indicator(explain_ctx *x, ast_decl *ind, size_t period, int depth)
{
    indent(x, depth);
    eval_value v = eval_indicator_value(x->s, ind, period, x->st->staff);
    fprintf(x->out, "%s = ", ind->name);
    put_value(x->out, v, ind->u.indicator.unit);
    period_note(x, period);
    if (!ind->u.indicator.per_staff) fputs(" (team-wide)", x->out);
    uint64_t key = hash_u64((uint64_t)(uintptr_t)ind) ^ period;
    bool first = hmap_get_or_put(&x->shown, key, 1) == HMAP_NONE;
    fprintf(x->out, "   = %s", src_text(x, ind->u.indicator.expr->span));
    if (eval_values_given(x->s)) {
        /* computed elsewhere: its aggregates were never seen here */
        fputs("   (from --values)\n", x->out);
        return;
    }
    if (!first) {
        fputs("   (as above)\n", x->out);
        return;
    }
    fputc('\n', x->out);
    trace(x, ind->u.indicator.expr, period, NULL, NULL, depth + 1);
}

/* The row of SCALE that X fell in, as written: "[60%, 100%) -> 60 .. 100". */
static void put_scale_row(explain_ctx *x, const ast_decl *scale, dec_t input)
{
    int row = eval_scale_row(x->s, scale, input);
    if (row < 0) {
        fprintf(x->out, "outside every interval of scale %s", scale->name);
        return;
    }
    fprintf(x->out, "scale %s, %s", scale->name, src_text(x, scale->u.scale.rows[row].span));
}

/* One line per value E reads that is worth showing: aggregates (with their rows),
 * indicators (with their formulas, traced in turn), previous()/last_year() (with the
 * period, traced in it) and scale calls (with the interval). */
static void trace(explain_ctx *x, ast_expr *e, size_t period, const eval_kpi_context *ctx,
                  const score_kpi *kpi, int depth)
{
    if (!e || depth > 40) return;
    int staff = x->st->staff;
    switch (e->kind) {
    case EX_NAME:
        if (e->ref_kind == REF_INDICATOR && e->ref) trace_indicator(x, e->ref, period, depth);
        return;
    case EX_UNARY: trace(x, e->u.op.lhs, period, ctx, kpi, depth); return;
    case EX_BINARY:
        trace(x, e->u.op.lhs, period, ctx, kpi, depth);
        trace(x, e->u.op.rhs, period, ctx, kpi, depth);
        return;
    case EX_IF:
        trace(x, e->u.cond.cond, period, ctx, kpi, depth);
        trace(x, e->u.cond.then_expr, period, ctx, kpi, depth);
        trace(x, e->u.cond.else_expr, period, ctx, kpi, depth);
        return;
    case EX_IN_LIST:
    case EX_IN_SET:
    case EX_IN_PERIOD: trace(x, e->u.in.lhs, period, ctx, kpi, depth); return;
    case EX_CALL: break;
    default: return;
    }
    if ((e->call_kind >= CALL_COUNT && e->call_kind <= CALL_DISTINCT) || e->call_kind == CALL_SET_SIZE) {
        indent(x, depth);
        eval_value v = eval_value_of(x->s, e, period, staff, ctx);
        fprintf(x->out, "%s = ", src_text(x, e->span));
        put_value(x->out, v, score_expr_unit(e, kpi));
        period_note(x, period);
        uint32_t at = hmap_get(&x->t->rows_of, (uint64_t)(uintptr_t)e);
        if (at != HMAP_NONE) {
            eval_value rows = eval_rows_of(x->s, x->t->rows[at], period, staff);
            int64_t n = 0;
            if (rows.kind == VAL_NUM && dec_to_int64(rows.as.num, &n) == DEC_OK)
                fprintf(x->out, "   (%lld row%s)", (long long)n, n == 1 ? "" : "s");
        }
        fputc('\n', x->out);
        return;
    }
    if (e->call_kind == CALL_PREVIOUS || e->call_kind == CALL_LAST_YEAR) {
        period_t shifted;
        bool ok = e->call_kind == CALL_PREVIOUS ? period_previous(x->periods[period], &shifted)
                                                : period_last_year(x->periods[period], &shifted);
        int at = ok ? period_index(x, shifted) : -1;
        indent(x, depth);
        eval_value v = eval_value_of(x->s, e, period, staff, ctx);
        fprintf(x->out, "%s = ", src_text(x, e->span));
        put_value(x->out, v, score_expr_unit(e, kpi));
        period_note(x, period);
        if (ok) {
            char buf[PERIOD_LABEL_SIZE];
            period_format(shifted, buf, sizeof buf);
            fprintf(x->out, "   (the value in %s)", buf);
        }
        fputc('\n', x->out);
        if (at >= 0 && e->u.call.args.len) trace(x, e->u.call.args.items[0], (size_t)at, ctx, kpi, depth + 1);
        return;
    }
    if (e->call_kind == CALL_SCALE && e->ref && e->u.call.args.len) {
        trace(x, e->u.call.args.items[0], period, ctx, kpi, depth);
        eval_value in = eval_value_of(x->s, e->u.call.args.items[0], period, staff, ctx);
        indent(x, depth);
        eval_value v = eval_value_of(x->s, e, period, staff, ctx);
        fprintf(x->out, "%s = ", src_text(x, e->span));
        put_value(x->out, v, score_expr_unit(e, kpi));
        if (in.kind == VAL_NUM) {
            fputs("   (", x->out);
            put_value(x->out, in, score_expr_unit(e->u.call.args.items[0], kpi));
            fputs(": ", x->out);
            put_scale_row(x, e->ref, in.as.num);
            fputc(')', x->out);
        }
        fputc('\n', x->out);
        return;
    }
    for (size_t i = 0; i < e->u.call.args.len; i++)
        trace(x, e->u.call.args.items[i], period, ctx, kpi, depth);
}

/* "EXPR = FILLED = RESULT": the filled-in form only when it says something new. */
static void put_equation(explain_ctx *x, ast_expr *e, const score_kpi *kpi, eval_value result, ast_unit unit)
{
    const char *text = src_text(x, e->span);
    fputs(text, x->out);
    if (e->kind == EX_NUMBER || e->kind == EX_PERCENT) return;
    if (!is_leaf(e)) {
        char *filled = score_filled_text(x->s, x->st, kpi, e);
        if (strcmp(filled, text)) fprintf(x->out, " = %s", filled);
        free(filled);
    }
    fputs(" = ", x->out);
    put_value(x->out, result, unit);
}

static void explain_kpi(explain_ctx *x, const score_kpi *k, bool skip_mode)
{
    FILE *out = x->out;
    const ast_role_item *it = k->item;
    ast_decl *ind = k->indicator;
    ast_unit unit = ind ? ind->u.indicator.unit : UNIT_NUMBER;
    fprintf(out, "kpi %s", it->indicator);
    if (ind && ind->u.indicator.label) fprintf(out, " %s", ind->u.indicator.label);
    if (ind)
        fprintf(out, " (%s%s)", ast_unit_name(unit),
                ind->u.indicator.per_staff ? ", per staff" : ", team-wide");
    fputc('\n', out);

    /* formula, aggregates, sub-indicators */
    if (ind) {
        label(x, "formula");
        fprintf(out, "%s\n", src_text(x, ind->u.indicator.expr->span));
        hmap_put(&x->shown, hash_u64((uint64_t)(uintptr_t)ind) ^ x->st->period, 1);
        if (eval_values_given(x->s)) {
            indent(x, 1);
            fputs("computed elsewhere: the value is from --values\n", out);
        } else {
            trace(x, ind->u.indicator.expr, x->st->period, NULL, NULL, 1);
        }
    }
    label(x, "value");
    if (k->override) {
        /* what the formula gave, then what an approved adjustment made it */
        put_value(out, k->value_computed, unit);
        fputc('\n', out);
        label(x, "adjusted");
        put_value(out, k->value, unit);
        fprintf(out, "   (%s; approved by %s; adjustments line %u)\n", k->override->reason,
                k->override->approved_by, k->override->line);
    } else {
        put_value(out, k->value, unit);
        fputc('\n', out);
    }

    /* target */
    label(x, "target");
    if (!it->has_target) {
        fputs("none (the kpi has its own points)\n", out);
    } else {
        fprintf(out, "%s ", ast_comparator_text(it->comparator));
        put_equation(x, it->target, k, k->target, unit);
        fprintf(out, "   (%s)\n", it->comparator == CMP_GE ? "higher is better" : "lower is better");
        trace(x, it->target, x->st->period, NULL, k, 1);
    }

    /* achievement */
    if (it->has_target) {
        label(x, "achievement");
        fputs(it->comparator == CMP_GE ? "value / target = " : "max(0, 2 - value / target) = ", out);
        if (it->comparator == CMP_LE) fputs("max(0, 2 - ", out);
        put_value(out, k->value, unit);
        fputs(" / ", out);
        put_value(out, k->target, unit);
        if (it->comparator == CMP_LE) fputc(')', out);
        fputs(" = ", out);
        put_value(out, k->achievement, UNIT_PERCENT);
        if (k->achievement.kind == VAL_NULL) {
            if (k->value.kind == VAL_NULL) fputs("   (the value is n/a)", out);
            else if (k->target.kind == VAL_NULL) fputs("   (the target is n/a)", out);
            else if (k->target.kind == VAL_NUM && dec_sign(k->target.as.num) == 0)
                fputs("   (the target is 0: division by zero)", out);
        }
        fputc('\n', out);
    }

    /* points */
    label(x, "points");
    if (it->points) {
        put_equation(x, it->points, k, k->points, UNIT_POINTS);
        fputc('\n', out);
        eval_kpi_context ctx = { k->value, k->target, k->achievement, eval_null(), x->st->employed, NULL };
        trace(x, it->points, x->st->period, &ctx, k, 1);
    } else if (k->scale && k->achievement.kind == VAL_NUM && k->scale_row >= 0) {
        put_value(out, k->achievement, UNIT_PERCENT);
        fputs(" on ", out);
        put_scale_row(x, k->scale, k->achievement.as.num);
        fputs(" = ", out);
        put_value(out, k->points, UNIT_POINTS);
        fputc('\n', out);
    } else if (k->scale && k->achievement.kind == VAL_NUM) {
        fputs("n/a: ", out);
        put_value(out, k->achievement, UNIT_PERCENT);
        fprintf(out, " lies outside every interval of scale %s\n", k->scale->name);
    } else {
        fprintf(out, "n/a (no achievement to apply scale %s to)\n", k->scale ? k->scale->name : "?");
    }
    if (k->missing) {
        label(x, "");
        if (k->out_of_scale && !k->scale) {
            char buf[128];
            eval_format_value(eval_num(k->out_of_scale_input), UNIT_PERCENT, buf, sizeof buf);
            fprintf(out, "%s lies outside every interval of scale %s; ", buf, k->out_of_scale->name);
        }
        fputs(skip_mode ? "missing: dropped, and the other weights rescaled (missing skip)\n"
                        : "missing: scores 0 points\n",
              out);
    }

    /* weight and weighted */
    label(x, "weight");
    put_num(out, k->weight, UNIT_PERCENT);
    if (k->dropped) {
        fputs(" -> 0% (dropped)", out);
    } else if (dec_cmp(k->weight, k->effective_weight) != 0) {
        /* the kept weights: weight / effective weight */
        dec_t kept;
        fputs(" -> ", out);
        put_num(out, k->effective_weight, UNIT_PERCENT);
        if (dec_sign(k->effective_weight) != 0 &&
            dec_div(k->weight, k->effective_weight, 6, &kept) == DEC_OK) {
            fputs(" (", out);
            put_num(out, k->weight, UNIT_PERCENT);
            fputs(" / ", out);
            put_num(out, kept, UNIT_PERCENT);
            fputs(", the weights of the kpis that are not missing)", out);
        }
    }
    fputc('\n', out);
    label(x, "weighted");
    if (k->dropped) {
        fputs("n/a (dropped)\n", out);
    } else {
        put_num(out, k->effective_weight, UNIT_PERCENT);
        fputs(" × ", out);
        put_value(out, k->missing ? eval_num(dec_from_int64(0)) : k->points, UNIT_POINTS);
        fputs(" = ", out);
        put_num(out, k->weighted, UNIT_POINTS);
        fputc('\n', out);
    }
}

/* How many weighted points the score line adds up (the kpis not dropped). */
static size_t terms_shown(const score_statement *st)
{
    size_t n = 0;
    for (size_t i = 0; i < st->kpi_count; i++) n += !st->kpis[i].dropped;
    return n;
}

static void explain_header(FILE *out, eval_session *s, int staff, const char *role_text, size_t period)
{
    size_t pc, rc;
    const period_t *periods = eval_periods(s, &pc);
    const eval_staff *roster = eval_roster(s, &rc);
    const eval_staff *who = &roster[staff];
    char label[PERIOD_LABEL_SIZE], a[DATE_FORMAT_SIZE], b[DATE_FORMAT_SIZE];
    period_format(periods[period], label, sizeof label);
    fprintf(out, "%s", who->id);
    if (who->name) fprintf(out, " %s", who->name);
    fprintf(out, " — %s — %s", role_text, label);
    if (periods[period].end - periods[period].start > 1) {
        date_format(periods[period].start, a, sizeof a);
        date_format(periods[period].end - 1, b, sizeof b);
        fprintf(out, " (%s to %s)", a, b);
    }
    fputc('\n', out);
}

/* "from START until END, exclusive": a roster member's employment, either side open. */
static void write_employment(FILE *out, const eval_staff *who)
{
    char date[DATE_FORMAT_SIZE];
    if (who->has_start) {
        date_format(who->start, date, sizeof date);
        fprintf(out, "from %s", date);
    }
    if (who->has_end) {
        date_format(who->end, date, sizeof date);
        if (who->end_is_last_day) {
            /* the roster gave the last day employed; show it as written */
            date_t last = who->end;
            date_add_days(who->end, -1, &last);
            date_format(last, date, sizeof date);
            fprintf(out, "%suntil %s, the last day", who->has_start ? " " : "", date);
        } else {
            fprintf(out, "%suntil %s, exclusive", who->has_start ? " " : "", date);
        }
    }
}

static void explain_employment(FILE *out, eval_session *s, const score_statement *st)
{
    size_t rc;
    const eval_staff *who = &eval_roster(s, &rc)[st->staff];
    fprintf(out, "employed %d/%d days", (int)st->employed_days.num, (int)st->employed_days.den);
    if (who->has_start || who->has_end) {
        fputs(" (employment ", out);
        write_employment(out, who);
        fputc(')', out);
    }
    fputc('\n', out);
    char *roles = score_role_days_note(s, st->period, st->staff);
    if (roles) {
        fprintf(out, "%s\n", roles);
        free(roles);
    }
}

/* The bonus adjustments of ST, each with its reason and approver, after the bonus the
 * rules give (kpi overrides are shown at their kpi). */
static void explain_bonus_adjustments(explain_ctx *x, const score_statement *st)
{
    FILE *out = x->out;
    bool any = false;
    for (size_t i = 0; i < st->adjustment_count; i++) {
        const score_adjustment *a = st->adjustments[i];
        if (a->kind == SCORE_ADJUST_KPI) continue;
        if (!any) {
            fprintf(out, "%-*s", LABEL_WIDTH + 2, "computed");
            put_value(out, st->bonus_computed, UNIT_MONEY);
            fputc('\n', out);
            any = true;
        }
        fprintf(out, "%-*s", LABEL_WIDTH + 2, "adjusted");
        if (a->kind == SCORE_ADJUST_BONUS_SET) {
            fputs("set to ", out);
        } else if (dec_sign(a->amount) >= 0) {
            fputc('+', out);
        }
        put_num(out, a->amount, UNIT_MONEY);
        fprintf(out, "   (%s; approved by %s; adjustments line %u)\n", a->reason, a->approved_by, a->line);
    }
}

/* Why a member of a role with grades got their grade: the table, how many were
 * ranked, their rank and what it means (ties, percentile), the places each grade's
 * quota gives after rounding, and where the rank falls among them. */
static void explain_grade(explain_ctx *x, const score_statement *st)
{
    FILE *out = x->out;
    const score_grade_place *g = &st->grade;
    const ast_grades *table = g->grades;
    const char *name = table->rows[g->grade].name;
    fprintf(out, "%-*s%s", LABEL_WIDTH + 2, "grade", name);
    if (g->factor.kind == VAL_NUM) {
        fputs(", factor ", out);
        put_value(out, g->factor, UNIT_NUMBER);
    }
    if (table->decl) {
        fprintf(out, "   (grades %s, ranking the roles ", table->decl->name);
        for (size_t r = 0; r < table->roles.len; r++)
            fprintf(out, "%s%s", r ? ", " : "", ((const ast_decl *)table->roles.items[r])->name);
        fputs(" together)", out);
    }
    fputc('\n', out);
    if (g->before_regrade >= 0) {
        label(x, "before");
        fprintf(out, "%s, before other members' kpi adjustments ranked the group again\n",
                table->rows[g->before_regrade].name);
    }
    label(x, "table");
    for (int k = 0; k < table->row_count; k++) {
        const ast_grade *row = &table->rows[k];
        fprintf(out, "%s%s %s", k ? ", " : "", row->name, row->rest ? "rest" : k == 0 ? "top" : "next");
        if (row->quota) fprintf(out, " %s", src_text(x, row->quota->span));
    }
    fputc('\n', out);
    label(x, "ranked");
    fprintf(out, "%zu of %zu members (a failed gate or no score is not ranked)\n", g->ranked, g->members);
    label(x, "rank");
    if (!g->rank) {
        fprintf(out, "not ranked (%s): the last grade, %s\n",
                !st->gates_passed ? "a gate failed" : "no score", name);
        return;
    }
    fprintf(out, "%d: %d ranked member%s scored higher than ", g->rank, g->rank - 1, g->rank == 2 ? "" : "s");
    put_value(out, st->score, UNIT_POINTS);
    if (g->tied > 1) fprintf(out, "; tied with %zu other%s", g->tied - 1, g->tied == 2 ? "" : "s");
    fputc('\n', out);
    label(x, "percentile");
    size_t below = g->ranked - (size_t)g->rank - (g->tied - 1);
    if (g->ranked > 1) fprintf(out, "%zu of the other %zu ranked scored lower = ", below, g->ranked - 1);
    else fputs("ranked alone = ", out);
    put_value(out, g->percentile, UNIT_PERCENT);
    fputc('\n', out);
    const score_grade_run *run = g->run;
    if (!run || !run->places) return;
    label(x, "places");
    dec_t cumulative = dec_from_int64(0);
    for (int k = 0; k + 1 < table->row_count; k++) {
        dec_t q, count;
        if (!lower_number_literal(table->rows[k].quota, &q)) continue;
        dec_add(cumulative, q, &cumulative);
        fprintf(out, "%s%s%s%s ", k ? "; " : "", k ? table->rows[0].name : "", k ? "–" : "",
                table->rows[k].name);
        put_num(out, cumulative, UNIT_PERCENT);
        fprintf(out, " × %zu = ", run->ranked);
        if (dec_mul(cumulative, dec_from_int64((int64_t)run->ranked), &count) == DEC_OK)
            put_num(out, count, UNIT_NUMBER);
        fprintf(out, " → %zu place%s", run->places[k], run->places[k] == 1 ? "" : "s");
    }
    fputs("   (rounded half up; the top grade keeps at least one)\n", out);
    label(x, "so");
    int above = g->rank - 1;
    int k = 0;
    while (k + 1 < table->row_count && (size_t)above >= run->places[k]) k++;
    if (k == 0)
        fprintf(out, "%d scored higher, fewer than %s's %zu place%s: %s", above, table->rows[0].name,
                run->places[0], run->places[0] == 1 ? "" : "s", name);
    else
        fprintf(out, "%d scored higher: past the %zu place%s above %s%s: %s", above, run->places[k - 1],
                run->places[k - 1] == 1 ? "" : "s", name,
                k + 1 < table->row_count ? arena_printf(&x->mem, ", within %zu", run->places[k]) : "", name);
    if (g->tied > 1 && (size_t)above + g->tied > (k + 1 < table->row_count ? run->places[k] : run->ranked))
        fputs("   (the tie takes the better grade together, beyond its quota)", out);
    fputc('\n', out);
}

/* A bonus that is a part of a pool: the line as written, the share with its numbers
 * filled in and its fraction of every member's, the pool's amount, the cap and floor,
 * and where the part ended (proportional, at the cap, at the floor, no part). */
static void explain_pool_part(explain_ctx *x, const score_statement *st, const ast_role_item *bonus)
{
    FILE *out = x->out;
    const score_pool_part *part = &st->pool;
    kp_span line = { bonus->span.file, bonus->pool_span.start - 5, bonus->span.end };
    fprintf(out, "%s\n", src_text(x, line));
    eval_kpi_context ctx = { eval_null(), eval_null(),  eval_null(),
                             st->score,   st->employed, st->grade.settled ? &st->grade.values : NULL };

    label(x, "share");
    char *filled = score_filled_text(x->s, st, NULL, bonus->share);
    fprintf(out, "%s = %s = ", src_text(x, bonus->share->span), filled);
    free(filled);
    put_value(out, part->share, UNIT_NUMBER);
    if (!st->gates_passed) fputs("   (a gate failed: no part)", out);
    else if (part->share.kind != VAL_NUM) fputs("   (n/a: no part)", out);
    fputc('\n', out);
    trace(x, bonus->share, st->period, &ctx, NULL, 1);

    label(x, "pool");
    fprintf(out, "%s = %s = ", part->pool->name, src_text(x, part->pool->u.pool.amount->span));
    put_num(out, part->amount, UNIT_MONEY);
    fprintf(out, "   (shared by %zu member%s, shares adding up to ", part->members,
            part->members == 1 ? "" : "s");
    put_num(out, part->shares, UNIT_NUMBER);
    fputs(")\n", out);
    trace(x, part->pool->u.pool.amount, st->period, NULL, NULL, 1);
    if (bonus->cap) {
        label(x, "cap");
        fprintf(out, "%s = ", src_text(x, bonus->cap->span));
        put_value(out, part->cap, UNIT_MONEY);
        fputc('\n', out);
    }
    if (bonus->floor) {
        label(x, "floor");
        fprintf(out, "%s = ", src_text(x, bonus->floor->span));
        put_value(out, part->floor, UNIT_MONEY);
        fputc('\n', out);
    }
    label(x, "part");
    if (part->place == SCORE_POOL_NO_PART) {
        fputs("no part of the pool = ", out);
    } else {
        dec_t fraction;
        if (dec_div(part->claim, part->shares, DEC_PLACES, &fraction) == DEC_OK) {
            put_num(out, fraction, UNIT_PERCENT);
            fputs(" of the shares", out);
        }
        if (part->place == SCORE_POOL_AT_CAP)
            fputs(", above the cap: held at it (the rest goes to the others) = ", out);
        else if (part->place == SCORE_POOL_AT_FLOOR)
            fputs(", below the floor: raised to it out of the others' parts = ", out);
        else fputs(": in proportion to it, of what the others' caps and floors leave, to the cent = ", out);
    }
    put_value(out, st->bonus_exact, UNIT_MONEY);
    fputc('\n', out);
}

char *score_explain(score_trace *t, eval_session *s, const diag_sink *diags, const score_statement *st,
                    const char *kpi, size_t *len)
{
    char *buf = NULL;
    size_t size = 0;
    explain_ctx x;
    memset(&x, 0, sizeof x);
    x.out = score_memstream(&buf, &size);
    x.t = t;
    x.s = s;
    x.diags = diags;
    x.st = st;
    arena_init(&x.mem);
    hmap_init(&x.shown);
    x.periods = eval_periods(s, &x.period_count);
    FILE *out = x.out;

    const ast_decl *role = st->role;
    bool skip_mode = false;
    const ast_role_item *bonus = NULL;
    for (int i = 0; i < role->u.role.item_count; i++) {
        if (role->u.role.items[i].kind == ROLE_MISSING) skip_mode = role->u.role.items[i].missing_skip;
        if (role->u.role.items[i].kind == ROLE_BONUS && !bonus) bonus = &role->u.role.items[i];
    }
    char *role_text = role->u.role.label ? arena_printf(&x.mem, "%s %s", role->name, role->u.role.label)
                                         : arena_printf(&x.mem, "%s", role->name);
    explain_header(out, s, st->staff, role_text, st->period);
    explain_employment(out, s, st);

    for (size_t i = 0; i < st->kpi_count; i++) {
        if (kpi && strcmp(st->kpis[i].item->indicator, kpi)) continue;
        fputc('\n', out);
        explain_kpi(&x, &st->kpis[i], skip_mode);
    }
    fputc('\n', out);

    /* score */
    fprintf(out, "%-*s", LABEL_WIDTH + 2, "score");
    if (!kpi) {
        size_t terms = 0;
        for (size_t i = 0; i < st->kpi_count; i++) {
            if (st->kpis[i].dropped) continue;
            if (terms++) fputs(" + ", out);
            put_num(out, st->kpis[i].weighted, UNIT_POINTS);
        }
        if (terms != 1) fputs(terms ? " = " : "nothing to add = ", out);
    }
    if (kpi || terms_shown(st) != 1) put_value(out, st->score, UNIT_POINTS);
    if (st->score.kind == VAL_NULL) fputs("   (every kpi is missing)", out);
    fputc('\n', out);

    /* gates */
    if (!kpi) {
        for (size_t i = 0; i < st->gate_count; i++) {
            const score_gate *g = &st->gates[i];
            fprintf(out, "%-*s%s: %s\n", LABEL_WIDTH + 2, "gate", src_text(&x, g->item->expr->span),
                    g->passed ? "passed" : "failed");
            char *filled = score_filled_text(s, st, NULL, g->item->expr);
            label(&x, "");
            fprintf(out, "%s is ", filled);
            put_value(out, g->value, UNIT_NUMBER);
            if (g->value.kind == VAL_NULL) fputs(" (n/a fails)", out);
            fputc('\n', out);
            free(filled);
            eval_kpi_context ctx = { eval_null(), eval_null(), eval_null(), st->score, st->employed, NULL };
            trace(&x, g->item->expr, st->period, &ctx, NULL, 1);
        }
        if (st->gate_count == 0) fprintf(out, "%-*snone\n", LABEL_WIDTH + 2, "gates");
    }

    if (st->grade.grades && st->grade.settled && !kpi) explain_grade(&x, st);

    /* bonus */
    fprintf(out, "%-*s", LABEL_WIDTH + 2, "bonus");
    if (!bonus) {
        fprintf(out, "n/a (role %s has no bonus line)\n", role->name);
    } else if (kpi) {
        put_value(out, st->bonus, UNIT_MONEY);
        fputs("   (run without --kpi for the score, gates and bonus)\n", out);
    } else if (bonus->pool) {
        explain_pool_part(&x, st, bonus);
        explain_bonus_adjustments(&x, st);
        fprintf(out, "%-*s", LABEL_WIDTH + 2, "bonus paid");
        put_value(out, st->bonus, UNIT_MONEY);
        fputc('\n', out);
    } else {
        fprintf(out, "%s\n", src_text(&x, bonus->expr->span));
        label(&x, "");
        char *filled = score_filled_text(s, st, NULL, bonus->expr);
        fprintf(out, "= %s = ", filled);
        free(filled);
        if (st->bonus_exact.kind == VAL_NUM) {
            char exact[DEC_FORMAT_SIZE];
            dec_format(st->bonus_exact.as.num, DEC_PLACES, exact, sizeof exact);
            /* the exact digits, trailing zeros dropped, when rounding changed them */
            size_t n = strlen(exact);
            while (n > 0 && exact[n - 1] == '0') exact[--n] = '\0';
            if (n > 0 && exact[n - 1] == '.') exact[--n] = '\0';
            dec_t rounded;
            if (dec_round(st->bonus_exact.as.num, 2, &rounded) == DEC_OK &&
                dec_cmp(rounded, st->bonus_exact.as.num) != 0) {
                fprintf(out, "%s, rounded half away from zero to ", exact);
                put_num(out, rounded, UNIT_MONEY);
            } else {
                put_value(out, st->bonus_exact, UNIT_MONEY);
            }
        } else {
            fputs("n/a", out);
        }
        fputc('\n', out);
        eval_kpi_context ctx = { eval_null(), eval_null(),  eval_null(),
                                 st->score,   st->employed, st->grade.settled ? &st->grade.values : NULL };
        trace(&x, bonus->expr, st->period, &ctx, NULL, 1);
        if (!st->gates_passed) {
            label(&x, "");
            fputs("a gate failed, so the bonus is ", out);
            put_value(out, st->bonus, UNIT_MONEY);
            fputc('\n', out);
        }
        explain_bonus_adjustments(&x, st);
        fprintf(out, "%-*s", LABEL_WIDTH + 2, "bonus paid");
        put_value(out, st->bonus, UNIT_MONEY);
        fputc('\n', out);
    }

    hmap_free(&x.shown);
    arena_free(&x.mem);
    score_memstream_close(out);
    if (len) *len = size;
    return buf;
}

char *score_explain_indicator(score_trace *t, eval_session *s, const diag_sink *diags, ast_decl *indicator,
                              int staff, size_t *len)
{
    char *buf = NULL;
    size_t size = 0;
    /* the tracer reads the period and the staff member from a statement */
    score_statement st;
    memset(&st, 0, sizeof st);
    st.staff = staff;
    explain_ctx x;
    memset(&x, 0, sizeof x);
    x.out = score_memstream(&buf, &size);
    x.t = t;
    x.s = s;
    x.diags = diags;
    x.st = &st;
    arena_init(&x.mem);
    hmap_init(&x.shown);
    x.periods = eval_periods(s, &x.period_count);
    trace_indicator(&x, indicator, 0, -1);
    hmap_free(&x.shown);
    arena_free(&x.mem);
    score_memstream_close(x.out);
    if (len) *len = size;
    return buf;
}

char *score_explain_unscored(eval_session *s, const chk_model *model, int staff, score_reason reason,
                             size_t *len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *out = score_memstream(&buf, &size);
    size_t rc, pc;
    const eval_staff *who = &eval_roster(s, &rc)[staff];
    const period_t *periods = eval_periods(s, &pc);
    char role_text[256];
    snprintf(role_text, sizeof role_text, "%s", who->role ? who->role : "(no role)");
    explain_header(out, s, staff, role_text, 0);
    fputs("not scored: ", out);
    if (reason == SCORE_ROLE_NOT_DECLARED) {
        if (who->role) fprintf(out, "role '%s' is not declared in the spec", who->role);
        else fputs("the roster gives no role", out);
        fputs(" (roles: ", out);
        for (size_t i = 0; i < model->roles.len; i++)
            fprintf(out, "%s%s", i ? ", " : "", ((ast_decl *)model->roles.items[i])->name);
        fputc(')', out);
        const char *near = who->role ? score_closest_role(model, who->role) : NULL;
        if (near) fprintf(out, "; did you mean '%s'?", near);
        fputc('\n', out);
    } else {
        char label[PERIOD_LABEL_SIZE];
        period_format(periods[0], label, sizeof label);
        fprintf(out, "not employed on any day of %s (employment ", label);
        write_employment(out, who);
        fputs(")\n", out);
    }
    score_memstream_close(out);
    if (len) *len = size;
    return buf;
}
