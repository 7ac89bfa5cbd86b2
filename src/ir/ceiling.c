/* ceiling.c — the most (and the least) a spec can pay (ceiling.h).
 *
 * Each role is evaluated once per roster member of that role (with the member's own
 * cells), or once with roster cells as symbols when no roster is given, in interval
 * arithmetic over the IR: every numeric node gets a range [lo, hi] whose ends are exact
 * decimals or infinite, and whether it may be null. The ranges follow the scorer
 * (score.c) step by step: value and target, achievement, points (a kpi's own
 * expression or the role's scale, missing points as 0 or dropped), the score as the
 * weighted mean, the gates (a failed one pays 0) and the bonus, rounded to the cent as
 * paid. Rounding of a bound goes outward (down for the least, up for the most), so no
 * statement can fall outside the range by a rounding step.
 *
 * A symbolic roster cell is the range [0, 1]: whether a range is bounded does not
 * depend on how large the finite cells are, so the answer "bounded or not" holds for
 * every roster whose numeric cells are not negative (base bonuses, quotas, head
 * counts), while its figures mean nothing and are not shown. A cell that can be 0 is
 * kept: dividing by one is unbounded.
 */
#include "kpic/ceiling.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- ends and ranges ------------------------------------------------------------------ */

/* An end of a computation: a figure or an infinity of a sign, with the reason. */
typedef struct ext {
    int inf; /* -1, 0, +1 */
    dec_t v;
    const char *why;
} ext;

typedef struct rng {
    bool num; /* a number can come out (false: only null, or not a number) */
    bool maybe_null;
    bool symbolic; /* depends on roster cells taken as symbols */
    ext lo, hi;
} rng;

typedef struct analysis {
    ceil_report *report;
    /* not const: a pool's amount, share and cap are lowered when first needed */
    ir_program *p;
    const diag_sink *diags;
    const ceil_roster *roster;
    size_t member; /* with a roster: whose cells */
    /* without a roster: this roster column is the point unit_value (the others stay
     * symbols); -1: none */
    int unit_column;
    dec_t unit_value;
    /* the bonus as computed, before rounding to the cent (a factor per unit is not money) */
    bool unrounded;
    /* the kpi context of the expression being evaluated; NULL outside it */
    const rng *value, *target, *achievement, *score;
    const ast_grades *grades; /* the role's grades table, or NULL */
    /* indicators already evaluated for this member: an indicator used by three others
     * is not walked three times */
    const ast_decl **memo_decl;
    rng *memo;
    size_t memo_len, memo_cap;
} analysis;

static ext fin(dec_t v)
{
    return (ext){ 0, v, NULL };
}

static ext infinite(int sign, const char *why)
{
    return (ext){ sign, { 0 }, why };
}

static rng point(dec_t v)
{
    return (rng){ .num = true, .lo = fin(v), .hi = fin(v) };
}

static rng not_a_number(void)
{
    return (rng){ .num = false, .maybe_null = true };
}

static rng whole_line(const char *why)
{
    return (rng){ .num = true, .lo = infinite(-1, why), .hi = infinite(1, why) };
}

static int ext_cmp(ext a, ext b)
{
    if (a.inf || b.inf) return (a.inf > b.inf) - (a.inf < b.inf);
    return dec_cmp(a.v, b.v);
}

static ext ext_min(ext a, ext b)
{
    return ext_cmp(b, a) < 0 ? b : a;
}

static ext ext_max(ext a, ext b)
{
    return ext_cmp(b, a) > 0 ? b : a;
}

static int ext_sign(ext a)
{
    return a.inf ? a.inf : dec_sign(a.v);
}

/* −E: the sign flips, the reason stays */
static ext ext_neg(ext e)
{
    e.inf = -e.inf;
    if (!e.inf) e.v = dec_neg(e.v);
    return e;
}

/* The range [least, most] of the four results of an operator on the ends of two ranges
 * (products or quotients): each bound of the result is one of them. */
static rng hull4(rng r, const ext p[4])
{
    r.lo = r.hi = p[0];
    for (int i = 1; i < 4; i++) {
        r.lo = ext_min(r.lo, p[i]);
        r.hi = ext_max(r.hi, p[i]);
    }
    return r;
}

static const char *overflow_why = "it can leave the exact decimal range";

static ext ext_add(ext a, ext b)
{
    if (a.inf) return a;
    if (b.inf) return b;
    dec_t r;
    if (dec_add(a.v, b.v, &r) != DEC_OK) return infinite(dec_sign(a.v), overflow_why);
    return fin(r);
}

static ext ext_mul(ext a, ext b)
{
    int sign = ext_sign(a) * ext_sign(b);
    if (sign == 0) return fin(dec_from_int64(0)); /* 0 × ∞ is the bound 0 */
    if (a.inf || b.inf) return infinite(sign, a.inf ? a.why : b.why);
    dec_t r;
    if (dec_mul(a.v, b.v, &r) != DEC_OK) return infinite(sign, overflow_why);
    return fin(r);
}

/* B is never 0 here: a divisor range holding 0 is handled before. */
static ext ext_div(ext a, ext b)
{
    int sign = ext_sign(a) * ext_sign(b);
    if (a.inf) return infinite(sign, a.why); /* ∞ / ∞ bounds nothing either */
    if (ext_sign(a) == 0 || b.inf) return fin(dec_from_int64(0));
    dec_t r;
    if (dec_div(a.v, b.v, DEC_PLACES, &r) != DEC_OK) return infinite(sign, overflow_why);
    return fin(r);
}

/* The smallest range holding A and B (either may hold no number). */
static rng join(rng a, rng b)
{
    if (!a.num) {
        b.maybe_null |= a.maybe_null;
        return b;
    }
    if (!b.num) {
        a.maybe_null |= b.maybe_null;
        return a;
    }
    return (rng){ .num = true,
                  .maybe_null = a.maybe_null || b.maybe_null,
                  .symbolic = a.symbolic || b.symbolic,
                  .lo = ext_min(a.lo, b.lo),
                  .hi = ext_max(a.hi, b.hi) };
}

/* The flags two operands pass on to their result. */
static rng from_operands(rng a, rng b)
{
    return (rng){ .num = a.num && b.num,
                  .maybe_null = a.maybe_null || b.maybe_null || !a.num || !b.num,
                  .symbolic = a.symbolic || b.symbolic };
}

static rng negate(rng a)
{
    if (!a.num) return a;
    rng r = a;
    r.lo = ext_neg(a.hi);
    r.hi = ext_neg(a.lo);
    return r;
}

static rng add(rng a, rng b, bool subtract)
{
    rng r = from_operands(a, b);
    if (!r.num) return r;
    if (subtract) b = negate(b);
    r.lo = ext_add(a.lo, b.lo);
    r.hi = ext_add(a.hi, b.hi);
    return r;
}

static rng multiply(rng a, rng b)
{
    rng r = from_operands(a, b);
    if (!r.num) return r;
    ext p[4] = { ext_mul(a.lo, b.lo), ext_mul(a.lo, b.hi), ext_mul(a.hi, b.lo), ext_mul(a.hi, b.hi) };
    return hull4(r, p);
}

static rng divide(analysis *an, rng a, rng b, const ir_node *divisor)
{
    rng r = from_operands(a, b);
    if (!r.num) return r;
    if (ext_sign(b.lo) <= 0 && ext_sign(b.hi) >= 0) {
        /* the divisor can be 0 (null) or as near 0 as it likes: no bound, unless the
         * dividend is 0 */
        r.maybe_null = true;
        if (ext_sign(a.lo) == 0 && ext_sign(a.hi) == 0) {
            r.lo = r.hi = fin(dec_from_int64(0));
            return r;
        }
        const char *text = diag_span_text(an->diags, divisor->span, &an->report->mem);
        const char *why = arena_printf(&an->report->mem, "it divides by `%s`, which can be 0", text);
        return (rng){ .num = true,
                      .maybe_null = true,
                      .symbolic = r.symbolic,
                      .lo = infinite(-1, why),
                      .hi = infinite(1, why) };
    }
    ext q[4] = { ext_div(a.lo, b.lo), ext_div(a.lo, b.hi), ext_div(a.hi, b.lo), ext_div(a.hi, b.hi) };
    return hull4(r, q);
}

/* min() or max() of two ranges: the least or the most of each end. */
static rng pick(rng a, rng b, bool least)
{
    rng r = from_operands(a, b);
    if (!r.num) return r;
    r.lo = least ? ext_min(a.lo, b.lo) : ext_max(a.lo, b.lo);
    r.hi = least ? ext_min(a.hi, b.hi) : ext_max(a.hi, b.hi);
    return r;
}

static rng absolute(rng a)
{
    if (!a.num || ext_sign(a.lo) >= 0) return a;
    rng minus = negate(a);
    if (ext_sign(a.hi) <= 0) return minus;
    rng r = a;
    r.lo = fin(dec_from_int64(0));
    r.hi = ext_max(a.hi, minus.hi);
    return r;
}


/* Rounding to PLACES never moves a value past the next multiple of 10^-PLACES, so the
 * least end goes down to one and the most end up to one. */
static ext round_outward(ext e, unsigned places, bool up)
{
    if (e.inf) return e;
    dec_t r, step = dec_from_int64(1);
    if (dec_round(e.v, places, &r) != DEC_OK) return e;
    int c = dec_cmp(r, e.v);
    if (c == 0 || (up && c > 0) || (!up && c < 0)) return fin(r);
    for (unsigned i = 0; i < places; i++) dec_div(step, dec_from_int64(10), DEC_PLACES, &step);
    dec_t moved;
    if ((up ? dec_add(r, step, &moved) : dec_sub(r, step, &moved)) != DEC_OK) return e;
    return fin(moved);
}

static rng round_range(rng a, unsigned places)
{
    if (!a.num) return a;
    a.lo = round_outward(a.lo, places, false);
    a.hi = round_outward(a.hi, places, true);
    return a;
}

/* ---- scales ----------------------------------------------------------------------- */

static ext row_bound(const ir_scale_row *row, bool high)
{
    int inf = high ? row->hi_inf : row->lo_inf;
    return inf ? infinite(inf, NULL) : fin(high ? row->hi : row->lo);
}

/* The points a linear row gives at X (a finite point of the row). */
static ext row_at(const ir_scale_row *row, ext x)
{
    if (!row->linear) return fin(row->from);
    dec_t dx, span, rise, t, out;
    if (dec_sub(x.v, row->lo, &dx) != DEC_OK || dec_sub(row->hi, row->lo, &span) != DEC_OK ||
        dec_sub(row->to, row->from, &rise) != DEC_OK || dec_mul(dx, rise, &t) != DEC_OK ||
        dec_div(t, span, DEC_PLACES, &t) != DEC_OK || dec_add(row->from, t, &out) != DEC_OK)
        return fin(row->from);
    return fin(out);
}

/* The points of SCALE over every input in X: the rows X reaches, each giving its
 * constant or its line between the ends X reaches. Inputs outside every row give null. */
static rng scale_range(const ir_scale *scale, rng x)
{
    rng out = { .num = false, .maybe_null = x.maybe_null || !x.num, .symbolic = x.symbolic };
    if (!x.num) return out;
    bool covered_lo = false, covered_hi = false;
    for (int i = 0; i < scale->row_count; i++) {
        const ir_scale_row *row = &scale->rows[i];
        ext lo = row_bound(row, false), hi = row_bound(row, true);
        /* the part of X in this row: empty when X lies wholly on one side (an open end
         * the range only touches counts as reached: a bound, not an exact set) */
        if (ext_cmp(x.hi, lo) < 0 || ext_cmp(x.lo, hi) > 0) continue;
        if (ext_cmp(x.hi, lo) == 0 && !row->lo_closed && !lo.inf) continue;
        if (ext_cmp(x.lo, hi) == 0 && !row->hi_closed && !hi.inf) continue;
        ext from = ext_max(x.lo, lo), to = ext_min(x.hi, hi);
        ext a = row->linear ? row_at(row, from) : fin(row->from);
        ext b = row->linear ? row_at(row, to) : fin(row->from);
        rng part = { .num = true, .lo = ext_min(a, b), .hi = ext_max(a, b) };
        out = join(out, part);
        if (ext_cmp(lo, x.lo) <= 0) covered_lo = true;
        if (ext_cmp(hi, x.hi) >= 0) covered_hi = true;
    }
    /* gaps are impossible (the checker rejects them), so only the ends can fall out */
    if (!covered_lo || !covered_hi) out.maybe_null = true;
    /* an input reaching past every row gives every row's points, whatever the symbols
     * it came from stand for: achievement = value / staff.quota with an unbounded value */
    ext first = row_bound(&scale->rows[0], false), last = row_bound(&scale->rows[scale->row_count - 1], true);
    out.symbolic = x.symbolic && !(ext_cmp(x.lo, first) <= 0 && ext_cmp(x.hi, last) >= 0);
    return out;
}

/* ---- evaluating a node -------------------------------------------------------------- */

static rng eval(analysis *an, const ir_node *n);

static const char *node_text(analysis *an, const ir_node *n)
{
    return diag_span_text(an->diags, n->span, &an->report->mem);
}

static rng indicator_range(analysis *an, const ast_decl *decl)
{
    for (size_t i = 0; i < an->memo_len; i++)
        if (an->memo_decl[i] == decl) return an->memo[i];
    const ir_node *body = ir_indicator(an->p, decl);
    rng r = body ? eval(an, body) : not_a_number();
    /* name the indicator rather than the aggregate deep inside it */
    if (r.num && (r.lo.inf || r.hi.inf)) {
        const char *why = arena_printf(&an->report->mem, "indicator '%s' has no %s bound", decl->name,
                                       r.lo.inf && r.hi.inf ? "upper or lower"
                                       : r.hi.inf           ? "upper"
                                                            : "lower");
        if (r.lo.inf) r.lo.why = why;
        if (r.hi.inf) r.hi.why = why;
    }
    if (an->memo_len == an->memo_cap) {
        an->memo_cap = an->memo_cap ? an->memo_cap * 2 : 16;
        an->memo_decl = realloc(an->memo_decl, an->memo_cap * sizeof *an->memo_decl);
        an->memo = realloc(an->memo, an->memo_cap * sizeof *an->memo);
        if (!an->memo_decl || !an->memo) abort();
    }
    an->memo_decl[an->memo_len] = decl;
    an->memo[an->memo_len++] = r;
    return r;
}

static rng aggregate_range(analysis *an, const ir_node *n)
{
    const ir_agg *agg = n->u.agg;
    const char *text =
        agg->syntax ? diag_span_text(an->diags, agg->syntax->span, &an->report->mem) : node_text(an, n);
    const char *why = arena_printf(&an->report->mem, "`%s` has no bound", text);
    switch (agg->kind) {
    case IR_AGG_COUNT:
    case IR_AGG_DISTINCT:
    case IR_AGG_SET: return (rng){ .num = true, .lo = fin(dec_from_int64(0)), .hi = infinite(1, why) };
    case IR_AGG_SUM: return whole_line(why);
    default: {
        /* avg/min/max lie within their argument's values; a column has no bound */
        rng r = agg->arg ? eval(an, agg->arg) : whole_line(why);
        r.maybe_null = true;
        if (r.lo.inf) r.lo.why = why;
        if (r.hi.inf) r.hi.why = why;
        return r;
    }
    }
}

static rng staff_cell(analysis *an, const ir_node *n)
{
    if (n->type != TYPE_NUM) return not_a_number();
    if (!an->roster && n->u.column.index == an->unit_column) return point(an->unit_value);
    if (!an->roster) {
        rng r = { .num = true,
                  .symbolic = true,
                  .maybe_null = true,
                  .lo = fin(dec_from_int64(0)),
                  .hi = fin(dec_from_int64(1)) };
        return r;
    }
    dec_t v;
    if (!an->roster->number(an->roster->ctx, an->member, n->u.column.index, &v)) return not_a_number();
    return point(v);
}

static rng context_leaf(const rng *leaf)
{
    return leaf ? *leaf : not_a_number();
}

/* The kpi context leaf N reads (value, target, achievement, score), or NULL. */
static const rng **leaf_slot(analysis *an, const ir_node *n)
{
    switch (n->kind) {
    case IR_VALUE: return &an->value;
    case IR_TARGET: return &an->target;
    case IR_ACHIEVEMENT: return &an->achievement;
    case IR_SCORE: return &an->score;
    default: return NULL;
    }
}

/* `if LEAF OP CONSTANT then … else …` (or CONSTANT OP LEAF): each branch sees the leaf
 * only where it takes that branch, so `if achievement >= 1 then 100 else
 * achievement * 100` is at most 100. A branch no value can take is left out. */
static rng branches(analysis *an, const ir_node *n)
{
    const ir_node *cond = n->a;
    bool cmp = cond->kind == IR_GE || cond->kind == IR_GT || cond->kind == IR_LE || cond->kind == IR_LT;
    const ir_node *leaf = NULL, *constant = NULL;
    bool leaf_left = true;
    if (cmp && leaf_slot(an, cond->a) && cond->b->kind == IR_NUMBER) {
        leaf = cond->a;
        constant = cond->b;
    } else if (cmp && leaf_slot(an, cond->b) && cond->a->kind == IR_NUMBER) {
        leaf = cond->b;
        constant = cond->a;
        leaf_left = false;
    }
    const rng **slot = leaf ? leaf_slot(an, leaf) : NULL;
    if (!slot || !*slot || !(*slot)->num) return join(eval(an, n->b), eval(an, n->c));
    /* with the leaf on the left: >= and > hold above the constant, <= and < below */
    bool above = cond->kind == IR_GE || cond->kind == IR_GT;
    if (!leaf_left) above = !above;
    const rng *whole = *slot;
    ext c = fin(constant->u.number);
    rng when_true = *whole, when_false = *whole;
    if (above) {
        when_true.lo = ext_max(whole->lo, c);
        when_false.hi = ext_min(whole->hi, c);
    } else {
        when_true.hi = ext_min(whole->hi, c);
        when_false.lo = ext_max(whole->lo, c);
    }
    rng out = { .num = false };
    if (ext_cmp(when_true.lo, when_true.hi) <= 0) {
        *slot = &when_true;
        out = join(out, eval(an, n->b));
    }
    /* the else branch also takes a null condition, with the leaf null */
    rng null_only = not_a_number();
    bool reachable = ext_cmp(when_false.lo, when_false.hi) <= 0;
    if (reachable || whole->maybe_null) {
        *slot = reachable ? &when_false : &null_only;
        out = join(out, eval(an, n->c));
    }
    *slot = whole;
    return out;
}

/* grade_factor: between the least and the most factor of the role's table (a member
 * who is not ranked gets the last grade's, which is among them). */
static rng factor_range(analysis *an)
{
    const ast_grades *g = an->grades;
    rng out = { .num = true };
    bool any = false;
    for (int k = 0; g && k < g->row_count; k++) {
        dec_t f;
        if (!lower_number_literal(g->rows[k].factor, &f)) continue;
        if (!any || dec_cmp(f, out.lo.v) < 0) out.lo = fin(f);
        if (!any || dec_cmp(f, out.hi.v) > 0) out.hi = fin(f);
        any = true;
    }
    return any ? out : not_a_number();
}

static rng eval(analysis *an, const ir_node *n)
{
    switch (n->kind) {
    case IR_NUMBER: return point(n->u.number);
    case IR_STAFF_COLUMN: return staff_cell(an, n);
    case IR_INDICATOR: return indicator_range(an, n->u.decl);
    case IR_AGGREGATE: return aggregate_range(an, n);
    case IR_ROWS: {
        const char *why =
            arena_printf(&an->report->mem, "the number of rows of `%s` has no bound", node_text(an, n));
        return (rng){ .num = true, .lo = fin(dec_from_int64(0)), .hi = infinite(1, why) };
    }
    case IR_VALUE: return context_leaf(an->value);
    case IR_TARGET: return context_leaf(an->target);
    case IR_ACHIEVEMENT: return context_leaf(an->achievement);
    case IR_SCORE: return context_leaf(an->score);
    case IR_EMPLOYED: return (rng){ .num = true, .lo = fin(dec_from_int64(0)), .hi = fin(dec_from_int64(1)) };
    case IR_GRADE_FACTOR: return factor_range(an);
    case IR_PERCENTILE:
        return (rng){
            .num = true, .maybe_null = true, .lo = fin(dec_from_int64(0)), .hi = fin(dec_from_int64(1))
        };
    case IR_RANK: {
        const char *why = "`rank` grows with the number of members ranked";
        return (rng){ .num = true, .maybe_null = true, .lo = fin(dec_from_int64(1)), .hi = infinite(1, why) };
    }
    case IR_NEG: return negate(eval(an, n->a));
    case IR_ADD: return add(eval(an, n->a), eval(an, n->b), false);
    case IR_SUB: return add(eval(an, n->a), eval(an, n->b), true);
    case IR_MUL: return multiply(eval(an, n->a), eval(an, n->b));
    case IR_DIV: return divide(an, eval(an, n->a), eval(an, n->b), n->b);
    case IR_IF: return n->type == TYPE_NUM ? branches(an, n) : not_a_number();
    case IR_ABS: return absolute(eval(an, n->a));
    case IR_ROUND: return round_range(eval(an, n->a), n->u.places);
    case IR_MIN: return pick(eval(an, n->a), eval(an, n->b), true);
    case IR_MAX: return pick(eval(an, n->a), eval(an, n->b), false);
    case IR_SCALE: {
        const ir_scale *scale = ir_scale_of(an->p, n->u.decl);
        return scale ? scale_range(scale, eval(an, n->a)) : not_a_number();
    }
    case IR_COALESCE: {
        /* b only where a is null */
        rng a = eval(an, n->a);
        if (a.num && !a.maybe_null) return a;
        rng b = eval(an, n->b);
        if (a.num) {
            a.maybe_null = false;
            return join(a, b);
        }
        return b;
    }
    case IR_PREVIOUS:
    case IR_LAST_YEAR: {
        rng r = eval(an, n->a);
        r.maybe_null = true;
        return r;
    }
    case IR_DAYS: {
        if (n->type != TYPE_NUM) return not_a_number();
        const char *why = arena_printf(
            &an->report->mem, "`%s` counts days between dates, which have no bound", node_text(an, n));
        return whole_line(why);
    }
    default:
        /* conditions, dates, texts, row cells: no number a bonus could grow with */
        if (n->type == TYPE_NUM)
            return whole_line(arena_printf(&an->report->mem, "`%s` has no bound", node_text(an, n)));
        return not_a_number();
    }
}

/* ---- a role ----------------------------------------------------------------------- */

static const ast_decl *role_scale(const ast_decl *role)
{
    for (int i = 0; i < role->u.role.item_count; i++)
        if (role->u.role.items[i].kind == ROLE_POINTS) return role->u.role.items[i].ref;
    return NULL;
}

static bool role_skips_missing(const ast_decl *role)
{
    for (int i = 0; i < role->u.role.item_count; i++)
        if (role->u.role.items[i].kind == ROLE_MISSING) return role->u.role.items[i].missing_skip;
    return false;
}

/* Achievement as score.c computes it: value / target, or max(0, 2 − value / target)
 * when lower is better; null when the target is 0. */
static rng achievement_range(analysis *an, const ast_role_item *it, rng value, rng target,
                             const ir_node *target_node)
{
    rng q = divide(an, value, target, target_node);
    if (!q.num || it->comparator == CMP_GE) return q;
    rng r = add(point(dec_from_int64(2)), q, true);
    return pick(r, point(dec_from_int64(0)), false);
}

/* Renames the infinite ends of R after the item they come from, keeping the first
 * cause: "the points `achievement * 100` of kpi 'x' have no cap: achievement …". */
static void blame(analysis *an, rng *r, const char *what)
{
    if (r->lo.inf)
        r->lo.why = arena_printf(&an->report->mem, "%s: %s", what, r->lo.why ? r->lo.why : "no bound");
    if (r->hi.inf)
        r->hi.why = arena_printf(&an->report->mem, "%s: %s", what, r->hi.why ? r->hi.why : "no bound");
}

/* The pool ROLE's bonus is a part of, or NULL. */
static const ast_decl *role_pool(const ast_decl *role)
{
    for (int i = 0; i < role->u.role.item_count; i++) {
        const ast_role_item *it = &role->u.role.items[i];
        if (it->kind == ROLE_BONUS && it->pool) return it->ref;
    }
    return NULL;
}

/* A part of a pool (`bonus pool NAME share … cap … floor …`): never more than the pool
 * or the cap, and 0 for a member whose gate fails or who has no share. */
static rng pool_part(analysis *an, const ast_role_item *it)
{
    const ast_decl *pool = it->ref;
    rng amount = eval(an, lower_expr(an->p, pool->u.pool.amount));
    rng part = { .num = true,
                 .lo = fin(dec_from_int64(0)),
                 .hi = amount.num ? amount.hi : infinite(1, NULL) };
    if (part.hi.inf && !part.hi.why)
        part.hi.why =
            arena_printf(&an->report->mem, "the amount of pool '%s' has no upper bound", pool->name);
    else if (amount.num && amount.hi.inf)
        part.hi.why = arena_printf(&an->report->mem, "the amount of pool '%s' has no upper bound: %s",
                                   pool->name, amount.hi.why ? amount.hi.why : "no bound");
    part.symbolic = amount.symbolic;
    if (it->cap) {
        rng cap = eval(an, lower_expr(an->p, it->cap));
        if (cap.num && ext_cmp(cap.hi, part.hi) < 0) {
            part.hi = cap.hi;
            part.symbolic = cap.symbolic;
        }
    }
    if (ext_sign(part.hi) < 0) part.hi = fin(dec_from_int64(0));
    return part;
}

/* One member's (or the symbolic) score and bonus for ROLE. */
static void analyze_role_once(analysis *an, const ast_decl *role, rng *score_out, rng *bonus_out)
{
    const ir_role_item *items = ir_role(an->p, role);
    const ast_decl *scale_decl = role_scale(role);
    const ir_scale *scale = scale_decl ? ir_scale_of(an->p, scale_decl) : NULL;
    bool skip = role_skips_missing(role);
    rng weighted = point(dec_from_int64(0)), total_weight = point(dec_from_int64(0));
    rng any_points = { .num = false };
    an->grades = ast_role_grades(role);
    for (int i = 0; i < role->u.role.item_count; i++) {
        const ast_role_item *it = &role->u.role.items[i];
        if (it->kind != ROLE_KPI || !items) continue;
        const ir_role_item *lowered = &items[i];
        rng value = it->ref ? indicator_range(an, it->ref) : not_a_number();
        /* a target may read employed, never value or achievement */
        an->value = an->target = an->achievement = an->score = NULL;
        rng target = it->has_target && lowered->target ? eval(an, lowered->target) : not_a_number();
        rng achievement = it->has_target && lowered->target
                              ? achievement_range(an, it, value, target, lowered->target)
                              : not_a_number();
        if (achievement.num && achievement.hi.inf && !achievement.hi.why)
            achievement.hi.why = "achievement has no upper bound";
        rng points;
        if (lowered->points) {
            an->value = &value;
            an->target = &target;
            an->achievement = &achievement;
            points = eval(an, lowered->points);
            an->value = an->target = an->achievement = NULL;
            blame(an, &points,
                  arena_printf(&an->report->mem, "the points `%s` of kpi '%s' have no %s",
                               node_text(an, lowered->points), it->indicator,
                               points.hi.inf ? "cap" : "floor"));
        } else if (scale && achievement.num) {
            points = scale_range(scale, achievement);
        } else {
            points = not_a_number();
        }
        rng weight = lowered->weight ? eval(an, lowered->weight) : point(dec_from_int64(0));
        if (skip) {
            /* a weighted mean of the kpis kept lies between their least and most points */
            any_points = join(any_points, points);
            continue;
        }
        /* missing points score 0 */
        if (points.maybe_null || !points.num) points = join(points, point(dec_from_int64(0)));
        points.maybe_null = false;
        weighted = add(weighted, multiply(weight, points), false);
        total_weight = add(total_weight, weight, false);
    }
    rng score;
    if (skip) {
        score = any_points;
        score.maybe_null = true; /* every kpi dropped: no score */
    } else {
        score = total_weight.num && ext_sign(total_weight.lo) > 0 ? divide(an, weighted, total_weight, NULL)
                                                                  : not_a_number();
    }
    *score_out = score;

    rng bonus = not_a_number();
    for (int i = 0; i < role->u.role.item_count; i++) {
        const ast_role_item *it = &role->u.role.items[i];
        if (it->kind != ROLE_BONUS || !items) continue;
        an->score = &score;
        if (it->pool && it->ref) bonus = pool_part(an, it);
        else if (items[i].expr) bonus = eval(an, items[i].expr);
        an->score = NULL;
        break;
    }
    bool gates = false;
    for (int i = 0; i < role->u.role.item_count; i++) gates |= role->u.role.items[i].kind == ROLE_GATE;
    if (gates && bonus.num) bonus = join(bonus, point(dec_from_int64(0))); /* a failed gate pays 0 */
    *bonus_out = an->unrounded ? bonus : round_range(bonus, 2);
}

/* The numeric roster column the bonus expression reads, when it reads exactly one
 * (directly: not through an indicator); -1 otherwise. */
typedef struct column_search {
    int column;
    bool several;
} column_search;

static void find_staff_column(const ir_node *n, void *ctx)
{
    column_search *cs = ctx;
    if (n->kind == IR_STAFF_COLUMN && n->type == TYPE_NUM) {
        if (cs->column >= 0 && cs->column != n->u.column.index) cs->several = true;
        cs->column = n->u.column.index;
    }
    ir_each_child(n, find_staff_column, ctx);
}

static const ir_node *bonus_node(const ir_program *p, const ast_decl *role)
{
    const ir_role_item *items = ir_role(p, role);
    for (int i = 0; items && i < role->u.role.item_count; i++)
        if (role->u.role.items[i].kind == ROLE_BONUS) return items[i].expr;
    return NULL;
}

static bool ends_equal(ext a, ext b)
{
    return !a.inf && !b.inf && dec_cmp(a.v, b.v) == 0;
}

/* Without a roster, the bonus of most roles is a multiple of one roster column
 * (staff.base_bonus × a factor of the score): evaluated with that cell at 1 and at 2,
 * the ends double exactly when it is, and the first range is the factor's. */
static bool per_unit(analysis *an, const ast_decl *role, int *column, rng *factor)
{
    const ir_node *bonus = bonus_node(an->p, role);
    column_search cs = { -1, false };
    if (bonus) find_staff_column(bonus, &cs);
    if (cs.column < 0 || cs.several) return false;
    rng one, two, score;
    an->unit_column = cs.column;
    an->unrounded = true;
    an->unit_value = dec_from_int64(1);
    an->memo_len = 0;
    analyze_role_once(an, role, &score, &one);
    an->unit_value = dec_from_int64(2);
    an->memo_len = 0;
    analyze_role_once(an, role, &score, &two);
    an->unit_column = -1;
    an->unrounded = false;
    an->memo_len = 0;
    if (!one.num || !two.num || one.symbolic || two.symbolic) return false;
    ext lo2 = ext_mul(one.lo, fin(dec_from_int64(2))), hi2 = ext_mul(one.hi, fin(dec_from_int64(2)));
    if (!ends_equal(lo2, two.lo) || !ends_equal(hi2, two.hi)) return false;
    *column = cs.column;
    *factor = one;
    return true;
}

static ceil_end to_end(ext e)
{
    return (ceil_end){ .infinite = e.inf != 0, .value = e.v, .why = e.why };
}

static ceil_range to_range(rng r)
{
    if (!r.num) return (ceil_range){ .known = false };
    return (ceil_range){ .lo = to_end(r.lo), .hi = to_end(r.hi), .known = !r.symbolic };
}

static void reset_memo(analysis *an)
{
    an->memo_len = 0;
}

void ceil_analyze(ceil_report *out, ir_program *p, const diag_sink *diags, const ceil_roster *roster)
{
    memset(out, 0, sizeof *out);
    arena_init(&out->mem);
    const chk_model *m = p->model;
    out->role_count = m->roles.len;
    out->roles = arena_alloc(&out->mem, (m->roles.len + 1) * sizeof *out->roles);
    out->roster = roster != NULL;
    analysis an = { .report = out, .p = p, .diags = diags, .roster = roster, .unit_column = -1 };
    ext grand = fin(dec_from_int64(0));
    for (size_t r = 0; r < m->roles.len; r++) {
        const ast_decl *role = m->roles.items[r];
        ceil_role *cr = &out->roles[r];
        memset(cr, 0, sizeof *cr);
        cr->role = role;
        cr->unit_column = -1;
        for (int i = 0; i < role->u.role.item_count; i++)
            cr->has_bonus |= role->u.role.items[i].kind == ROLE_BONUS;
        rng score = { .num = false }, bonus = { .num = false };
        ext total = fin(dec_from_int64(0));
        if (roster) {
            for (size_t k = 0; k < roster->count; k++) {
                const char *who = roster->role_of(roster->ctx, k);
                if (!who || strcmp(who, role->name) != 0) continue;
                an.member = k;
                reset_memo(&an);
                rng s, b;
                analyze_role_once(&an, role, &s, &b);
                score = cr->members ? join(score, s) : s;
                bonus = cr->members ? join(bonus, b) : b;
                if (b.num) total = ext_add(total, ext_max(b.hi, fin(dec_from_int64(0))));
                cr->members++;
            }
        }
        if (!cr->members) {
            /* no member (or no roster): the role as written, its cells symbolic */
            const ceil_roster *saved = an.roster;
            an.roster = NULL;
            reset_memo(&an);
            analyze_role_once(&an, role, &score, &bonus);
            rng factor;
            cr->unit_column = -1;
            if (cr->has_bonus && bonus.num && bonus.symbolic && !bonus.lo.inf && !bonus.hi.inf &&
                per_unit(&an, role, &cr->unit_column, &factor))
                cr->per_unit = to_range(factor);
            an.roster = saved;
        }
        cr->score = to_range(score);
        cr->bonus = cr->has_bonus ? to_range(bonus) : (ceil_range){ .known = false };
        const ast_decl *pool = role_pool(role);
        if (pool) {
            /* together the members never get more than the pool */
            rng amount = eval(&an, lower_expr(p, pool->u.pool.amount));
            if (amount.num && !amount.symbolic && ext_cmp(amount.hi, total) < 0) total = amount.hi;
        }
        cr->total = to_end(total);
        if (cr->has_bonus && !pool) grand = ext_add(grand, total);
    }
    /* a pool counts once, however many roles share it */
    for (size_t k = 0; k < m->pools.len; k++) {
        const ast_decl *pool = m->pools.items[k];
        ext shared = fin(dec_from_int64(0));
        for (size_t r = 0; r < out->role_count; r++)
            if (role_pool(out->roles[r].role) == pool)
                shared = ext_add(shared, (ext){ out->roles[r].total.infinite, out->roles[r].total.value,
                                                out->roles[r].total.why });
        rng amount = eval(&an, lower_expr(p, pool->u.pool.amount));
        if (amount.num && !amount.symbolic && ext_cmp(amount.hi, shared) < 0) shared = amount.hi;
        grand = ext_add(grand, shared);
    }
    out->total = to_end(grand);
    free(an.memo_decl);
    free(an.memo);
}

size_t ceil_gaps(const ceil_role *cr, ceil_gap out[4])
{
    size_t n = 0;
    for (int which = 0; which < 2; which++) {
        const ceil_range *range = which ? &cr->bonus : &cr->score;
        if (which && !cr->has_bonus) continue;
        for (int high = 1; high >= 0; high--) {
            const ceil_end *e = high ? &range->hi : &range->lo;
            if (e->infinite)
                out[n++] = (ceil_gap){ which ? "bonus" : "score", high, e->why ? e->why : "unknown" };
        }
    }
    return n;
}

void ceil_report_free(ceil_report *r)
{
    arena_free(&r->mem);
    memset(r, 0, sizeof *r);
}

void ceil_warn(const ceil_report *r, diag_sink *diags)
{
    for (size_t i = 0; i < r->role_count; i++) {
        const ceil_role *cr = &r->roles[i];
        if (!cr->has_bonus || !cr->bonus.hi.infinite) continue;
        const ast_decl *role = cr->role;
        kp_span span = role->name_span;
        for (int k = 0; k < role->u.role.item_count; k++)
            if (role->u.role.items[k].kind == ROLE_BONUS) span = role->u.role.items[k].span;
        diagnostic *d =
            diag_report(diags, DIAG_WARNING, span, "unbounded-bonus", "role '%s' can pay any amount: %s",
                        role->name, cr->bonus.hi.why ? cr->bonus.hi.why : "its bonus has no upper bound");
        if (role_pool(role))
            diag_hint(diags, d,
                      "cap each part (`bonus pool %s share … cap staff.base_bonus * 2`) or the pool's amount "
                      "(`min(…, 50_000)`)",
                      role_pool(role)->name);
        else
            diag_hint(
                diags, d,
                "cap what grows without limit, e.g. `points min(achievement * 100, 150)` or a scale whose "
                "last row is constant (`[150%%, inf) -> 150`)");
    }
}

void ceil_check_spec(ast_spec *spec, const chk_model *model, diag_sink *diags)
{
    ceil_report report;
    ceil_analyze(&report, ir_program_of(spec, model), diags, NULL);
    ceil_warn(&report, diags);
    ceil_report_free(&report);
}
