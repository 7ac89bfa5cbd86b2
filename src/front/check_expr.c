/* check_expr.c — the checker's expression rules: names, types, units, grain, aggregates.
 *
 * One recursive walk (depth bounded by AST_MAX_DEPTH) resolves every name, classifies
 * every call, and infers each node's type, dimension and per-staff grain, reporting each
 * problem once at the node that is wrong. A wrong node gets TYPE_ERROR; nodes above it
 * stay quiet about it, so one typo gives one message.
 *
 * The unit table (docs/language.md §4–5; N = number, the dimensionless unit of literals and of
 * int/number columns, which adapts to its neighbour):
 *
 *   leaves       count(SRC), count(SET), count() in having, distinct(…)   count
 *                sum/avg/min/max(X)                                     X's unit
 *                money column → money; int/number column, literal → N
 *                percent literal → ratio; days(a, b) → days
 *                indicator → its declared unit (percent and ratio: ratio)
 *                scale call → ratio when its outputs are percentages, else N
 *                score → points; achievement, employed → ratio;
 *                value, target → the kpi indicator's unit
 *   + - = != < <= > >=, if/else branches, min/max(a, b), `in (…)` items:
 *                equal units; N takes the other side's unit
 *   ×            N × X → X;  ratio × X → X;
 *                count × money|days|points → money|days|points (amount per item × items)
 *                money × points → money (a score grades an amount: base_bonus * score / 100)
 *                anything else (count × count, money × money, …) is an error
 *   ÷            X ÷ N → X;  X ÷ ratio → X;  X ÷ X → ratio (count/count, money/money, …);
 *                money|days|points ÷ count → money|days|points (per-item average)
 *                anything else (N ÷ count, count ÷ money, ratio ÷ count, …) is an error
 *   unary -, abs, round, previous, last_year: the operand's unit
 *
 * A literal N is only a scale factor, but an N that comes from data (an int or number
 * column such as staff.quota or a quantity, an indicator declared `number`) may stand
 * for any unit: the checker tracks the set of units such a value may have (chk_dims)
 * and applies the table to every member. So `new_users / staff.quota` is a count (quota
 * a plain factor) or a ratio (quota a count): declaring it `percent` is right, and so
 * is comparing `staff.quota - new_users` with a count. A value is wrong only when no
 * reading of it fits; e->dim holds the first fitting reading (the declared unit at the
 * top of an indicator).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_internal.h"

static void percent_pair(chk_ctx *c, const chk_scope *s, const ast_expr *a, const ast_expr *b);

/* ---- the unit table --------------------------------------------------------------- */

bool chk_dim_unify(ast_dim a, ast_dim b, ast_dim *out)
{
    if (a == DIM_NUMBER) *out = b;
    else if (b == DIM_NUMBER || a == b) *out = a;
    else return false;
    return true;
}

static bool amount(ast_dim d)
{
    return d == DIM_MONEY || d == DIM_DAYS || d == DIM_POINTS;
}

bool chk_dim_mul(ast_dim a, ast_dim b, ast_dim *out)
{
    if (a == DIM_NUMBER || a == DIM_RATIO) *out = b;
    else if (b == DIM_NUMBER || b == DIM_RATIO) *out = a;
    else if (a == DIM_COUNT && amount(b)) *out = b;
    else if (b == DIM_COUNT && amount(a)) *out = a;
    /* points grade an amount of money: base_bonus * score / 100 (docs/decisions.md) */
    else if ((a == DIM_MONEY && b == DIM_POINTS) || (a == DIM_POINTS && b == DIM_MONEY)) *out = DIM_MONEY;
    else return false;
    return true;
}

bool chk_dim_div(ast_dim a, ast_dim b, ast_dim *out)
{
    if (b == DIM_NUMBER || b == DIM_RATIO) *out = a;
    else if (a == b) *out = DIM_RATIO;
    else if (b == DIM_COUNT && amount(a)) *out = a;
    else return false;
    return true;
}

chk_dims chk_dims_op(chk_dims a, chk_dims b, bool (*f)(ast_dim, ast_dim, ast_dim *))
{
    chk_dims out = 0;
    for (int i = 0; i <= DIM_POINTS; i++) {
        if (!(a & CHK_DIM(i))) continue;
        for (int j = 0; j <= DIM_POINTS; j++) {
            ast_dim d;
            if ((b & CHK_DIM(j)) && f((ast_dim)i, (ast_dim)j, &d)) out |= CHK_DIM(d);
        }
    }
    return out;
}

bool chk_dims_fit(chk_dims m, ast_dim want)
{
    return (m & (CHK_DIM(want) | CHK_DIM(DIM_NUMBER))) != 0;
}

/* ---- dimension sets of the nodes that have more than one --------------------------- */

static size_t wide_slot(const chk_ctx *c, const ast_expr *e)
{
    size_t mask = c->wide.cap - 1;
    size_t i = ((uintptr_t)e >> 4) * 2654435761u & mask;
    while (c->wide.keys[i] && c->wide.keys[i] != e) i = (i + 1) & mask;
    return i;
}

chk_dims chk_dims_of(const chk_ctx *c, const ast_expr *e)
{
    if (e->type != TYPE_NUM) return 0;
    if (c->wide.len) {
        size_t i = wide_slot(c, e);
        if (c->wide.keys[i]) return c->wide.dims[i];
    }
    return CHK_DIM(e->dim);
}

/* Records that e may have any dimension of m (e->dim being one of them). */
static void widen(chk_ctx *c, const ast_expr *e, chk_dims m)
{
    if (m == CHK_DIM(e->dim)) return;
    if (2 * (c->wide.len + 1) > c->wide.cap) {
        /* grow: the old arrays are left in the arena, as ptr_vec does */
        const ast_expr **keys = c->wide.keys;
        chk_dims *dims = c->wide.dims;
        size_t old = c->wide.cap;
        c->wide.cap = old ? old * 2 : 64;
        c->wide.keys = arena_alloc(c->mem, c->wide.cap * sizeof *keys);
        c->wide.dims = arena_alloc(c->mem, c->wide.cap * sizeof *dims);
        for (size_t i = 0; i < old; i++) {
            if (!keys[i]) continue;
            size_t k = wide_slot(c, keys[i]);
            c->wide.keys[k] = keys[i];
            c->wide.dims[k] = dims[i];
        }
    }
    size_t k = wide_slot(c, e);
    if (!c->wide.keys[k]) c->wide.len++;
    c->wide.keys[k] = e;
    c->wide.dims[k] = m;
}

/* e is a number with the dimensions m: its e->dim is preferred when that is one of
 * them, else the first. */
static void num_result(chk_ctx *c, ast_expr *e, chk_dims m, ast_dim preferred)
{
    e->type = TYPE_NUM;
    if (m & CHK_DIM(preferred)) {
        e->dim = preferred;
    } else {
        int i = 0;
        while (i < DIM_POINTS && !(m & CHK_DIM(i))) i++;
        e->dim = (ast_dim)i;
    }
    widen(c, e, m);
}

/* ---- small helpers ---------------------------------------------------------------- */

static const char *type_name(ast_type t)
{
    switch (t) {
    case TYPE_NUM: return "a number";
    case TYPE_BOOL: return "true/false";
    case TYPE_TEXT: return "text";
    case TYPE_DATE: return "a date";
    case TYPE_SET: return "a set";
    case TYPE_SOURCE: return "a source";
    case TYPE_ERROR: break;
    }
    return "invalid";
}

/* "a count", "money", … : a dimension inside a sentence */
const char *chk_dim_phrase(ast_dim d)
{
    switch (d) {
    case DIM_NUMBER: return "a plain number";
    case DIM_COUNT: return "a count";
    case DIM_MONEY: return "money";
    case DIM_RATIO: return "a ratio";
    case DIM_DAYS: return "days";
    case DIM_POINTS: return "points";
    }
    return "?";
}

/* What an operand is, for messages: its type, or for numbers its unit. */
static const char *what(const ast_expr *e)
{
    return e->type == TYPE_NUM ? chk_dim_phrase(e->dim) : type_name(e->type);
}

/* The same without an article, for parentheses: "(money)", "(date)". */
static const char *word(const ast_expr *e)
{
    switch (e->type) {
    case TYPE_NUM: return chk_dim_name(e->dim);
    case TYPE_BOOL: return "true/false";
    case TYPE_TEXT: return "text";
    case TYPE_DATE: return "date";
    default: return type_name(e->type);
    }
}

/* Sets e's type and its one dimension. */
static void result(ast_expr *e, ast_type t, ast_dim d)
{
    e->type = t;
    e->dim = d;
}

/* The type (and for numbers the dimension) of a column's values. */
static ast_type column_type(const ast_column *col, ast_dim *dim)
{
    *dim = DIM_NUMBER;
    switch (col->type) {
    case COLTYPE_TEXT: return TYPE_TEXT;
    case COLTYPE_INT:
    case COLTYPE_NUMBER: return TYPE_NUM;
    case COLTYPE_MONEY: *dim = DIM_MONEY; return TYPE_NUM;
    case COLTYPE_DATE: return TYPE_DATE;
    case COLTYPE_BOOL: return TYPE_BOOL;
    }
    return TYPE_ERROR;
}

/* e names column col of src (a source or the roster). */
static void column_result(chk_ctx *c, ast_expr *e, ast_ref_kind kind, ast_decl *src, int col)
{
    e->ref_kind = kind;
    e->ref = src;
    e->column = col;
    e->type = column_type(&src->u.source.columns[col], &e->dim);
    /* an int or number column may hold a count, an amount, a quota: any unit */
    if (e->type == TYPE_NUM && e->dim == DIM_NUMBER) widen(c, e, CHK_DIMS_ANY);
}

/* A reference to an indicator (or its value/target in a kpi's points): its declared
 * unit; one declared `number` may stand for any. */
static void indicator_result(chk_ctx *c, ast_expr *e, const ast_decl *ind)
{
    result(e, TYPE_NUM, chk_unit_dim(ind->u.indicator.unit));
    if (ind->u.indicator.unit == UNIT_NUMBER) widen(c, e, CHK_DIMS_ANY);
}

/* The description of the owner for grain messages: "team-wide indicator 'x'". */
static const char *owner_phrase(chk_ctx *c, const chk_scope *s)
{
    if (s->owner && s->owner->kind == DECL_SET) return arena_printf(c->mem, "set '%s'", s->owner->name);
    if (s->owner) return arena_printf(c->mem, "team-wide indicator '%s'", s->owner->name);
    return "this expression";
}

/* Child scope for an aggregate's argument, where or having. */
static chk_scope sub_scope(const chk_scope *s, chk_scope_kind kind, ast_decl *source, const char *clause)
{
    chk_scope sub = *s;
    sub.kind = kind;
    sub.source = source;
    sub.binding = false;
    sub.bound = NULL;
    sub.quiet = source == NULL;
    sub.clause = clause;
    sub.per_staff = false;
    return sub;
}

/* Requires a condition; reports what it is instead. */
void chk_require_bool(chk_ctx *c, ast_expr *e, const char *role)
{
    if (e->type == TYPE_ERROR || e->type == TYPE_BOOL) return;
    diagnostic *d =
        diag_report(c->diags, DIAG_ERROR, e->span, "type-mismatch",
                    "%s must be true or false, but '%s' is %s", role, chk_snippet(c, e->span), what(e));
    if (e->type == TYPE_NUM) diag_hint(c->diags, d, "compare it, e.g. %s > 0", chk_snippet(c, e->span));
}

/* Requires a number; returns false (after reporting) otherwise. */
static bool require_num(chk_ctx *c, ast_expr *e, const char *role)
{
    if (e->type == TYPE_ERROR) return false;
    if (e->type == TYPE_NUM) return true;
    diagnostic *d =
        diag_report(c->diags, DIAG_ERROR, e->span, "type-mismatch", "%s needs a number, but '%s' is %s", role,
                    chk_snippet(c, e->span), type_name(e->type));
    if (e->type == TYPE_DATE)
        diag_hint(c->diags, d, "days(from, to) gives the number of days between two dates");
    return false;
}

/* ---- names ------------------------------------------------------------------------ */

static bool is_kpi_name(const char *n)
{
    return !strcmp(n, "value") || !strcmp(n, "target") || !strcmp(n, "achievement");
}

static bool is_bonus_name(const char *n)
{
    return !strcmp(n, "score") || !strcmp(n, "employed");
}

static bool is_grade_name(const char *n)
{
    return !strcmp(n, "grade") || !strcmp(n, "rank") || !strcmp(n, "percentile") ||
           !strcmp(n, "grade_factor");
}

/* grade, rank, percentile and grade_factor in the bonus of a role with grades. */
static void grade_name(chk_ctx *c, chk_scope *s, ast_expr *e)
{
    const char *n = e->u.name.name;
    e->per_staff = true;
    if (!strcmp(n, "grade")) {
        e->ref_kind = REF_GRADE;
        result(e, TYPE_TEXT, DIM_NUMBER);
    } else if (!strcmp(n, "rank")) {
        e->ref_kind = REF_RANK;
        result(e, TYPE_NUM, DIM_NUMBER);
    } else if (!strcmp(n, "percentile")) {
        e->ref_kind = REF_PERCENTILE;
        result(e, TYPE_NUM, DIM_RATIO);
    } else {
        e->ref_kind = REF_GRADE_FACTOR;
        result(e, TYPE_NUM, DIM_NUMBER);
        if (s->grades->valid && !s->grades->has_factors) {
            diagnostic *d =
                diag_report(c->diags, DIAG_ERROR, e->span, "grade-factor",
                            "'grade_factor' needs a factor on every grade, but the grades of role '%s' "
                            "have none",
                            s->role->name);
            diag_hint(c->diags, d,
                      "write the factor after each grade: A top 20%% factor 1.5  B next 70%% factor 1  "
                      "C rest factor 0.5");
            result(e, TYPE_ERROR, DIM_NUMBER);
        }
    }
}

/* value/target/achievement in a kpi's points, score/employed in bonus and gate. Returns
 * true when the name was one of those (handled, possibly with an error). */
static bool contextual_name(chk_ctx *c, chk_scope *s, ast_expr *e)
{
    const char *n = e->u.name.name;
    if (s->kind == SCOPE_ROLE && s->kpi && is_kpi_name(n)) {
        ast_role_item *k = s->kpi;
        e->per_staff = true;
        if (!strcmp(n, "achievement")) {
            e->ref_kind = REF_ACHIEVEMENT;
            result(e, TYPE_NUM, DIM_RATIO);
        } else {
            e->ref_kind = !strcmp(n, "value") ? REF_VALUE : REF_TARGET;
            ast_decl *ind = k->ref;
            if (ind) indicator_result(c, e, ind);
        }
        if (strcmp(n, "value") && !k->has_target) {
            diagnostic *d = diag_report(c->diags, DIAG_ERROR, e->span, "misplaced",
                                        "kpi '%s' has no target, so '%s' is not defined", k->indicator, n);
            diag_hint(c->diags, d, "give the kpi a target, e.g. target >= 100");
            result(e, TYPE_ERROR, DIM_NUMBER);
        }
        return true;
    }
    if (s->kind == SCOPE_ROLE && s->grades && is_grade_name(n)) {
        grade_name(c, s, e);
        return true;
    }
    /* employed prorates targets (`staff.quota * employed`) as well as the bonus */
    bool available = !strcmp(n, "score") ? s->bonus_gate : s->employed || s->bonus_gate;
    if (s->kind == SCOPE_ROLE && available && is_bonus_name(n)) {
        e->per_staff = true;
        bool score = !strcmp(n, "score");
        e->ref_kind = score ? REF_SCORE : REF_EMPLOYED;
        result(e, TYPE_NUM, score ? DIM_POINTS : DIM_RATIO);
        return true;
    }
    return false;
}

static void report_unknown_name(chk_ctx *c, chk_scope *s, ast_expr *e)
{
    const char *n = e->u.name.name;
    if (s->quiet) return;
    diagnostic *d;
    ptr_vec cands = { 0 };
    bool in_rows = (s->kind == SCOPE_ROW || s->kind == SCOPE_GROUP) && s->source;
    if (in_rows) {
        d = diag_report(c->diags, DIAG_ERROR, e->span, "undefined-name", "unknown column '%s' in source '%s'",
                        n, s->source->name);
        for (int i = 0; i < s->source->u.source.column_count; i++)
            ptr_vec_push(c->mem, &cands, (void *)s->source->u.source.columns[i].name);
    } else if (is_grade_name(n) && s->kind == SCOPE_ROLE) {
        /* a ranking's names where the role has no ranking, or before it is known */
        d = diag_report(c->diags, DIAG_ERROR, e->span, "misplaced",
                        "'%s' is only defined in the bonus of a role with grades", n);
        if (s->in_gate)
            diag_hint(c->diags, d,
                      "gates decide who is ranked (a member who fails one is not), so a gate cannot read "
                      "the ranking; use '%s' in the bonus",
                      n);
        else if (!s->bonus_gate)
            diag_hint(c->diags, d,
                      "the ranking is by score, so only the bonus, after the score, can read it");
        else
            diag_hint(c->diags, d,
                      "rank the members of role '%s' by score: grades { A top 20%% factor 1.5  B next "
                      "70%% factor 1  C rest factor 0.5 }",
                      s->role ? s->role->name : "");
        return;
    } else if (is_kpi_name(n) || is_bonus_name(n)) {
        /* a role's own names, used where they mean nothing */
        bool kpi = is_kpi_name(n);
        d = diag_report(c->diags, DIAG_ERROR, e->span, "misplaced", "'%s' is only defined in %s", n,
                        kpi                   ? "a kpi's points expression"
                        : !strcmp(n, "score") ? "a role's bonus and gates"
                                              : "a role's targets, points, gates and bonus");
        return;
    } else {
        d = diag_report(c->diags, DIAG_ERROR, e->span, "undefined-name", "unknown indicator '%s'", n);
    }
    if (s->kind == SCOPE_ROLE && s->kpi) {
        ptr_vec_push(c->mem, &cands, "value");
        ptr_vec_push(c->mem, &cands, "target");
        ptr_vec_push(c->mem, &cands, "achievement");
    }
    if (s->kind == SCOPE_ROLE && s->bonus_gate) ptr_vec_push(c->mem, &cands, "score");
    if (s->kind == SCOPE_ROLE && (s->bonus_gate || s->employed)) ptr_vec_push(c->mem, &cands, "employed");
    if (s->kind == SCOPE_ROLE && s->grades) {
        ptr_vec_push(c->mem, &cands, "grade");
        ptr_vec_push(c->mem, &cands, "rank");
        ptr_vec_push(c->mem, &cands, "percentile");
        if (s->grades->has_factors) ptr_vec_push(c->mem, &cands, "grade_factor");
    }
    /* the closer of the nearest local name and the nearest indicator (the indicators
     * are not copied into the list: a spec may have thousands) */
    const char *near = chk_closest(c, n, (const char *const *)cands.items, cands.len);
    const char *ind =
        chk_closest(c, n, (const char *const *)c->cand_indicators.items, c->cand_indicators.len);
    if (!near || (ind && diag_edit_distance(n, ind, 64) < diag_edit_distance(n, near, 64))) near = ind;
    if (near) {
        diag_hint(c->diags, d, "did you mean '%s'?", near);
        return;
    }
    /* a bare column where SOURCE.COLUMN is needed */
    if (s->kind == SCOPE_ROW || s->kind == SCOPE_FORMULA || s->kind == SCOPE_ROLE) {
        for (size_t i = 0; i < c->model->sources.len; i++) {
            ast_decl *src = c->model->sources.items[i];
            if (src == s->source) continue;
            if (chk_find_column(src, n) >= 0) {
                diag_hint(c->diags, d, "a column is written SOURCE.COLUMN: did you mean '%s.%s'?", src->name,
                          n);
                return;
            }
        }
    }
}

/* The grain rules for using a per-staff value (a per-staff indicator or staff.COL):
 * row conditions and team-wide definitions cannot. Returns false after reporting. */
static bool per_staff_allowed(chk_ctx *c, chk_scope *s, ast_expr *e, const char *thing)
{
    if (s->kind == SCOPE_ROW || s->kind == SCOPE_GROUP) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, e->span, "grain",
                                    "%s differs per staff member and cannot be used in %s", thing, s->clause);
        if (s->owner && s->owner->kind == DECL_SET)
            diag_hint(c->diags, d, "set '%s' is company-wide", s->owner->name);
        else
            diag_hint(
                c->diags, d,
                "a condition is evaluated row by row, also for the team total, so it cannot depend on the staff member");
        return false;
    }
    if (s->kind == SCOPE_FORMULA && !s->per_staff) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, e->span, "grain",
                                    "%s uses %s, which differs per staff member", owner_phrase(c, s), thing);
        if (s->owner) diag_hint(c->diags, d, "add 'per staff' to '%s'", s->owner->name);
        return false;
    }
    return true;
}

/* A bare name: a role's own names, a column of the scope's source, or an indicator. */
static void check_name(chk_ctx *c, chk_scope *s, ast_expr *e)
{
    const char *n = e->u.name.name;
    if (contextual_name(c, s, e)) return;
    if ((s->kind == SCOPE_ROW || s->kind == SCOPE_GROUP) && s->source) {
        int col = chk_find_column(s->source, n);
        if (col >= 0) {
            if (s->kind == SCOPE_GROUP) {
                diagnostic *d = diag_report(
                    c->diags, DIAG_ERROR, e->span, "aggregate",
                    "column '%s' differs between the rows of a group; in %s use it inside an aggregate", n,
                    s->clause);
                diag_hint(c->diags, d, "e.g. min(%s), max(%s) or count(where %s …)", n, n, n);
                return;
            }
            column_result(c, e, REF_COLUMN, s->source, col);
            return;
        }
    }
    chk_entry *en = chk_lookup(c, n);
    if (!en) {
        report_unknown_name(c, s, e);
        return;
    }
    ast_decl *d = en->decl;
    if (d->kind != DECL_INDICATOR) {
        diagnostic *r = diag_report(c->diags, DIAG_ERROR, e->span, "wrong-kind", "'%s' is %s, not a value", n,
                                    chk_kind_phrase(d->kind));
        if (d->kind == DECL_SET)
            diag_hint(c->diags, r, "count(%s) is its size; 'x in %s' tests membership", n, n);
        else if (d->kind == DECL_SOURCE) diag_hint(c->diags, r, "count(%s) counts its rows", n);
        else if (d->kind == DECL_SCALE) diag_hint(c->diags, r, "a scale is called like a function: %s(x)", n);
        else if (d->kind == DECL_POOL)
            diag_hint(c->diags, r,
                      "a role takes a part of it with 'bonus pool %s share EXPR'; to read its amount, "
                      "define an indicator for it",
                      n);
        return;
    }
    if (s->kind == SCOPE_ROW || s->kind == SCOPE_GROUP) {
        /* rows are filtered while the data is read, before any indicator has a value */
        diagnostic *r = diag_report(c->diags, DIAG_ERROR, e->span, "misplaced",
                                    "indicator '%s' cannot be used inside %s", n, s->clause);
        diag_hint(
            c->diags, r,
            "rows are filtered while the data is read, before indicators have values; compare with a number, or test membership in a set");
        result(e, TYPE_ERROR, DIM_NUMBER);
        return;
    }
    e->ref_kind = REF_INDICATOR;
    e->ref = d;
    indicator_result(c, e, d);
    chk_add_edge(c, s, en, e->span);
    if (d->u.indicator.per_staff) {
        e->per_staff = true;
        if (!per_staff_allowed(c, s, e, arena_printf(c->mem, "indicator '%s'", n)))
            result(e, TYPE_ERROR, DIM_NUMBER);
    }
}

/* base.member: period.start|end, staff.COL, or SRC.COL (inside an aggregate only). */
static void check_member(chk_ctx *c, chk_scope *s, ast_expr *e)
{
    const char *base = e->u.member.base, *member = e->u.member.member;
    kp_span mspan = e->u.member.member_span;
    if (!strcmp(base, "period")) {
        if (!strcmp(member, "start") || !strcmp(member, "end")) {
            e->ref_kind = member[0] == 's' ? REF_PERIOD_START : REF_PERIOD_END;
            result(e, TYPE_DATE, DIM_NUMBER);
            return;
        }
        diagnostic *d =
            diag_report(c->diags, DIAG_ERROR, mspan, "undefined-name", "unknown period member '%s'", member);
        static const char *const members[] = { "start", "end" };
        const char *near = diag_closest(member, members, 2);
        if (near) diag_hint(c->diags, d, "did you mean '%s'?", near);
        else diag_hint(c->diags, d, "a period has 'start' and 'end' (exclusive)");
        return;
    }
    if (!strcmp(base, "staff")) {
        ast_decl *roster = c->model->roster;
        if (!roster) return; /* the missing roster is reported */
        int col = chk_find_column(roster, member);
        if (col < 0) {
            diagnostic *d = diag_report(c->diags, DIAG_ERROR, mspan, "undefined-name",
                                        "unknown staff column '%s'", member);
            ptr_vec cands = { 0 };
            for (int i = 0; i < roster->u.source.column_count; i++)
                ptr_vec_push(c->mem, &cands, (void *)roster->u.source.columns[i].name);
            const char *near = chk_closest(c, member, (const char *const *)cands.items, cands.len);
            if (near) diag_hint(c->diags, d, "did you mean '%s'?", near);
            return;
        }
        column_result(c, e, REF_STAFF_COLUMN, roster, col);
        e->per_staff = true;
        if (!per_staff_allowed(c, s, e, arena_printf(c->mem, "'staff.%s'", member)))
            result(e, TYPE_ERROR, DIM_NUMBER);
        return;
    }
    chk_entry *en = chk_lookup(c, base);
    if (!en) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, e->u.member.base_span, "undefined-name",
                                    "unknown source '%s'", base);
        chk_hint_closest(c, d, base, &c->cand_sources);
        return;
    }
    if (en->decl->kind != DECL_SOURCE) {
        diag_report(c->diags, DIAG_ERROR, e->u.member.base_span, "wrong-kind", "'%s' is %s, not a source",
                    base, chk_kind_phrase(en->decl->kind));
        return;
    }
    ast_decl *src = en->decl;
    int col = chk_find_column(src, member);
    if (col < 0) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, mspan, "undefined-name",
                                    "unknown column '%s' in source '%s'", member, base);
        ptr_vec cands = { 0 };
        for (int i = 0; i < src->u.source.column_count; i++)
            ptr_vec_push(c->mem, &cands, (void *)src->u.source.columns[i].name);
        chk_hint_closest(c, d, member, &cands);
        return;
    }
    column_result(c, e, REF_COLUMN, src, col);
    if (s->kind == SCOPE_FORMULA || s->kind == SCOPE_ROLE) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, e->span, "aggregate",
                                    "column '%s.%s' is used outside an aggregate", base, member);
        ast_coltype t = src->u.source.columns[col].type;
        const char *example = t == COLTYPE_DATE   ? arena_printf(c->mem, "max(%s.%s)", base, member)
                              : t == COLTYPE_TEXT ? arena_printf(c->mem, "distinct(%s.%s)", base, member)
                              : t == COLTYPE_BOOL ? arena_printf(c->mem, "count(%s where %s)", base, member)
                                                  : arena_printf(c->mem, "sum(%s.%s)", base, member);
        diag_hint(c->diags, d, "a column has one value per row: aggregate it, e.g. %s", example);
        result(e, TYPE_ERROR, DIM_NUMBER);
        return;
    }
    if (s->kind == SCOPE_GROUP) {
        diagnostic *d = diag_report(
            c->diags, DIAG_ERROR, e->span, "aggregate",
            "column '%s.%s' differs between the rows of a group; in %s use it inside an aggregate", base,
            member, s->clause);
        diag_hint(c->diags, d, "e.g. min(%s) or max(%s)", member, member);
        result(e, TYPE_ERROR, DIM_NUMBER);
        return;
    }
    if (s->binding && !s->bound) {
        s->bound = src;
        return;
    }
    ast_decl *want = s->binding ? s->bound : s->source;
    if (want && want != src) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, e->span, "aggregate",
                                    "'%s.%s' is not a column of '%s': %s can only use columns of '%s'", base,
                                    member, want->name, s->clause, want->name);
        diag_hint(
            c->diags, d,
            "an aggregate ranges over the rows of one source; a set can carry values across sources: x in SET");
        result(e, TYPE_ERROR, DIM_NUMBER);
    }
}

/* ---- operators -------------------------------------------------------------------- */

/* -x on numbers, not x on conditions. */
static void check_unary(chk_ctx *c, chk_scope *s, ast_expr *e)
{
    ast_expr *x = e->u.op.lhs;
    chk_expr(c, s, x);
    e->per_staff = x->per_staff;
    if (x->type == TYPE_ERROR) return;
    if (e->u.op.op == OP_NOT) {
        if (x->type != TYPE_BOOL) {
            diag_report(c->diags, DIAG_ERROR, x->span, "type-mismatch",
                        "'not' needs a condition, but '%s' is %s", chk_snippet(c, x->span), what(x));
            return;
        }
        result(e, TYPE_BOOL, DIM_NUMBER);
        return;
    }
    if (!require_num(c, x, "'-'")) return;
    num_result(c, e, chk_dims_of(c, x), x->dim);
}

/* An operand as messages quote it: 'name', or a string literal in its own quotes. */
static const char *quoted(chk_ctx *c, const ast_expr *e)
{
    if (e->kind == EX_STRING) return chk_snippet(c, e->span);
    return arena_printf(c->mem, "'%s'", chk_snippet(c, e->span));
}

static const char *arith_verb(ast_op op)
{
    switch (op) {
    case OP_ADD: return "add";
    case OP_SUB: return "subtract";
    case OP_MUL: return "multiply";
    case OP_DIV: return "divide";
    default: return "compare";
    }
}

/* "cannot add 'a' (money) and 'b' (count)" in the shape each operator reads best. */
static diagnostic *operand_error(chk_ctx *c, ast_expr *e, const char *code, const char *why_l,
                                 const char *why_r)
{
    ast_op op = e->u.op.op;
    ast_expr *l = e->u.op.lhs, *r = e->u.op.rhs;
    const char *ls = quoted(c, l), *rs = quoted(c, r);
    if (op == OP_SUB)
        return diag_report(c->diags, DIAG_ERROR, e->span, code, "cannot subtract %s (%s) from %s (%s)", rs,
                           why_r, ls, why_l);
    const char *joint = op == OP_ADD ? "and" : op == OP_MUL || op == OP_DIV ? "by" : "with";
    return diag_report(c->diags, DIAG_ERROR, e->span, code, "cannot %s %s (%s) %s %s (%s)", arith_verb(op),
                       ls, why_l, joint, rs, why_r);
}

static bool looks_like_date(const char *t)
{
    if (strlen(t) != 10 || t[4] != '-' || t[7] != '-') return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (t[i] < '0' || t[i] > '9')) return false;
    return true;
}

/* A formula that checks, for the hint of a unit error of the operator e (+ - * / or a
 * comparison) whose operands l and r have the units shown: it keeps what the author
 * wrote and changes only what the units need. */
static void unit_example(chk_ctx *c, diagnostic *d, const ast_expr *e)
{
    ast_op op = e->u.op.op;
    const ast_expr *l = e->u.op.lhs, *r = e->u.op.rhs;
    const char *ls = chk_snippet(c, l->span), *rs = chk_snippet(c, r->span);
    bool compare = op >= OP_EQ && op <= OP_GE;
    const char *formula = NULL;
    ast_dim dim = l->dim;
    if ((op == OP_ADD || op == OP_SUB) && r->dim == DIM_RATIO) {
        /* revenue + 10%: a percentage of revenue is added by multiplying */
        formula = arena_printf(c->mem, "%s * (1 %s %s)", ls, op == OP_ADD ? "+" : "-", rs);
    } else if ((op == OP_ADD || op == OP_SUB) && l->dim == DIM_RATIO) {
        formula = arena_printf(c->mem, "%s * (1 %s %s)", rs, op == OP_ADD ? "+" : "-", ls);
        dim = r->dim;
    } else if ((l->dim == DIM_MONEY && r->dim == DIM_POINTS) ||
               (l->dim == DIM_POINTS && r->dim == DIM_MONEY)) {
        /* base_bonus + score: the score grades the money */
        const char *money = l->dim == DIM_MONEY ? ls : rs, *points = l->dim == DIM_MONEY ? rs : ls;
        formula = arena_printf(c->mem, "%s * %s / 100", money, points);
        dim = DIM_MONEY;
    } else if (compare || op == OP_ADD || op == OP_SUB) {
        formula = arena_printf(c->mem, "%s %s 100", ls, ast_op_text(op));
    } else if (op == OP_MUL) {
        formula = arena_printf(c->mem, "%s * 110%%", ls);
    } else if (op == OP_DIV && (l->dim == DIM_NUMBER || l->dim == DIM_RATIO)) {
        /* 1 / n, 50% / n: a share of a count is a product */
        formula = arena_printf(c->mem, "%s * %s", ls, rs);
        dim = r->dim;
    } else {
        formula = arena_printf(c->mem, "%s / 2", ls);
    }
    if (compare) diag_hint(c->diags, d, "e.g. '%s' checks", formula);
    else diag_hint(c->diags, d, "e.g. '%s' checks (%s)", formula, chk_dim_phrase(dim));
}

/* and/or on conditions; comparisons on two values of one type (numbers of one unit,
 * text and true/false only with = and !=); arithmetic by the unit table. */
static void check_binary(chk_ctx *c, chk_scope *s, ast_expr *e)
{
    ast_op op = e->u.op.op;
    ast_expr *l = e->u.op.lhs, *r = e->u.op.rhs;
    chk_expr(c, s, l);
    chk_expr(c, s, r);
    e->per_staff = l->per_staff || r->per_staff;
    if (l->type == TYPE_ERROR || r->type == TYPE_ERROR) return;

    if (op == OP_AND || op == OP_OR) {
        ast_expr *bad = l->type != TYPE_BOOL ? l : r->type != TYPE_BOOL ? r : NULL;
        if (bad) {
            diag_report(c->diags, DIAG_ERROR, bad->span, "type-mismatch",
                        "'%s' needs conditions on both sides, but '%s' is %s", ast_op_text(op),
                        chk_snippet(c, bad->span), what(bad));
            return;
        }
        result(e, TYPE_BOOL, DIM_NUMBER);
        return;
    }

    bool compare = op >= OP_EQ && op <= OP_GE;
    if (compare) {
        bool equality = op == OP_EQ || op == OP_NE;
        if (l->type != r->type) {
            diagnostic *d = operand_error(c, e, "type-mismatch", word(l), word(r));
            ast_expr *str = l->kind == EX_STRING ? l : r->kind == EX_STRING ? r : NULL;
            ast_expr *other = str == l ? r : l;
            if (str && other->type == TYPE_DATE && looks_like_date(str->u.lit.text))
                diag_hint(c->diags, d, "write a date without quotes: %s", str->u.lit.text);
            return;
        }
        if (!equality && (l->type == TYPE_TEXT || l->type == TYPE_BOOL)) {
            diagnostic *d =
                diag_report(c->diags, DIAG_ERROR, e->u.op.op_span, "type-mismatch",
                            "'%s' orders numbers and dates, not %s", ast_op_text(op), type_name(l->type));
            diag_hint(c->diags, d, "compare %s with '=' or '!='", type_name(l->type));
            return;
        }
        if (l->type == TYPE_NUM) {
            if (!chk_dims_op(chk_dims_of(c, l), chk_dims_of(c, r), chk_dim_unify)) {
                diagnostic *dg =
                    operand_error(c, e, "unit-mismatch", chk_dim_name(l->dim), chk_dim_name(r->dim));
                diag_hint(c->diags, dg, "both sides need the same unit; a plain number adapts to either");
                unit_example(c, dg, e);
                return;
            }
            percent_pair(c, s, l, r);
        }
        result(e, TYPE_BOOL, DIM_NUMBER);
        return;
    }

    /* arithmetic */
    if (l->type != TYPE_NUM || r->type != TYPE_NUM) {
        diagnostic *d = operand_error(c, e, "type-mismatch", word(l), word(r));
        if (l->type == TYPE_DATE && r->type == TYPE_DATE && op == OP_SUB)
            diag_hint(c->diags, d, "days(%s, %s) gives the number of days from one to the other",
                      chk_snippet(c, r->span), chk_snippet(c, l->span));
        else diag_hint(c->diags, d, "arithmetic needs numbers on both sides");
        return;
    }
    bool (*table)(ast_dim, ast_dim, ast_dim *) = op == OP_MUL   ? chk_dim_mul
                                                 : op == OP_DIV ? chk_dim_div
                                                                : chk_dim_unify;
    chk_dims dims = chk_dims_op(chk_dims_of(c, l), chk_dims_of(c, r), table);
    /* a ratio has no unit, so a plain number scaled by one is still a plain number that
     * adapts: `target >= 4 * employed` on a count kpi */
    chk_dims ld = chk_dims_of(c, l), rd = chk_dims_of(c, r);
    const chk_dims number = CHK_DIM(DIM_NUMBER), ratio = CHK_DIM(DIM_RATIO);
    if (op == OP_MUL && (((ld & number) && (rd & ratio)) || ((ld & ratio) && (rd & number)))) dims |= number;
    ast_dim dim = DIM_NUMBER;
    if (!table(l->dim, r->dim, &dim)) dim = DIM_NUMBER;
    if (!dims) {
        diagnostic *d = operand_error(c, e, "unit-mismatch", chk_dim_name(l->dim), chk_dim_name(r->dim));
        if (op == OP_ADD || op == OP_SUB)
            diag_hint(c->diags, d, "both sides need the same unit; a plain number adapts to either");
        else if (op == OP_DIV)
            diag_hint(
                c->diags, d,
                "count/count and money/money give a ratio, money/count gives money, X/number and X/ratio keep X's unit");
        else
            diag_hint(
                c->diags, d,
                "a number or a ratio times X keeps X's unit; count times money, days or points gives that unit; money times points is money");
        unit_example(c, d, e);
        return;
    }
    if (op == OP_ADD || op == OP_SUB) percent_pair(c, s, l, r);
    num_result(c, e, dims, dim);
}

/* if C then A else B: C a condition, A and B of one type and unit. */
static void check_if(chk_ctx *c, chk_scope *s, ast_expr *e)
{
    ast_expr *k = e->u.cond.cond, *a = e->u.cond.then_expr, *b = e->u.cond.else_expr;
    chk_expr(c, s, k);
    chk_expr(c, s, a);
    chk_expr(c, s, b);
    e->per_staff = k->per_staff || a->per_staff || b->per_staff;
    chk_require_bool(c, k, "the condition of 'if'");
    if (k->type != TYPE_BOOL || a->type == TYPE_ERROR || b->type == TYPE_ERROR) return;
    if (a->type != b->type) {
        diag_report(c->diags, DIAG_ERROR, e->span, "type-mismatch",
                    "the branches of 'if' differ: '%s' is %s but '%s' is %s", chk_snippet(c, a->span),
                    type_name(a->type), chk_snippet(c, b->span), type_name(b->type));
        return;
    }
    if (a->type != TYPE_NUM) {
        result(e, a->type, DIM_NUMBER);
        return;
    }
    chk_dims dims = chk_dims_op(chk_dims_of(c, a), chk_dims_of(c, b), chk_dim_unify);
    if (!dims) {
        diagnostic *dg = diag_report(c->diags, DIAG_ERROR, e->span, "unit-mismatch",
                                     "the branches of 'if' have different units: '%s' is %s but '%s' is %s",
                                     chk_snippet(c, a->span), chk_dim_phrase(a->dim), chk_snippet(c, b->span),
                                     chk_dim_phrase(b->dim));
        diag_hint(c->diags, dg, "both branches need the same unit; a plain number adapts to either");
        diag_hint(c->diags, dg, "e.g. 'if %s then %s else 0' checks (%s)", chk_snippet(c, k->span),
                  chk_snippet(c, a->span), chk_dim_phrase(a->dim));
        return;
    }
    ast_dim d;
    if (!chk_dim_unify(a->dim, b->dim, &d)) d = DIM_NUMBER;
    percent_pair(c, s, a, b);
    num_result(c, e, dims, d);
}

/* x in (a, b, …): every item of x's type and unit. */
static void check_in_list(chk_ctx *c, chk_scope *s, ast_expr *e)
{
    ast_expr *x = e->u.in.lhs;
    chk_expr(c, s, x);
    e->per_staff = x->per_staff;
    bool ok = x->type != TYPE_ERROR;
    for (size_t i = 0; i < e->u.in.items.len; i++) {
        ast_expr *item = e->u.in.items.items[i];
        chk_expr(c, s, item);
        e->per_staff |= item->per_staff;
        if (item->type == TYPE_ERROR) {
            ok = false;
            continue;
        }
        if (x->type == TYPE_ERROR) continue;
        if (item->type != x->type) {
            diag_report(c->diags, DIAG_ERROR, item->span, "type-mismatch", "'%s' is %s, but '%s' is %s",
                        chk_snippet(c, item->span), type_name(item->type), chk_snippet(c, x->span),
                        type_name(x->type));
            ok = false;
        } else if (x->type == TYPE_NUM &&
                   !chk_dims_op(chk_dims_of(c, x), chk_dims_of(c, item), chk_dim_unify)) {
            diagnostic *d =
                diag_report(c->diags, DIAG_ERROR, item->span, "unit-mismatch", "'%s' is %s, but '%s' is %s",
                            chk_snippet(c, item->span), chk_dim_phrase(item->dim), chk_snippet(c, x->span),
                            chk_dim_phrase(x->dim));
            diag_hint(c->diags, d,
                      "the items need the unit of '%s'; a plain number adapts, e.g. '%s in (1, 2)' checks",
                      chk_snippet(c, x->span), chk_snippet(c, x->span));
            ok = false;
        }
    }
    if (!ok) return;
    for (size_t i = 0; i < e->u.in.items.len; i++) percent_pair(c, s, x, e->u.in.items.items[i]);
    result(e, TYPE_BOOL, DIM_NUMBER);
}

/* x in SET: SET a set whose column has x's type. */
static void check_in_set(chk_ctx *c, chk_scope *s, ast_expr *e)
{
    ast_expr *x = e->u.in.lhs;
    chk_expr(c, s, x);
    /* membership tests the company-wide set: it adds no per-staff grain */
    e->per_staff = x->per_staff;
    const char *n = e->u.in.set_name;
    chk_entry *en = chk_lookup(c, n);
    if (!en) {
        diagnostic *d =
            diag_report(c->diags, DIAG_ERROR, e->u.in.set_span, "undefined-name", "unknown set '%s'", n);
        chk_hint_closest(c, d, n, &c->cand_sets);
        return;
    }
    if (en->decl->kind != DECL_SET) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, e->u.in.set_span, "wrong-kind",
                                    "'%s' is %s, not a set", n, chk_kind_phrase(en->decl->kind));
        diag_hint(
            c->diags, d,
            "'in' tests membership of a set (set NAME = SOURCE.COLUMN) or of a list: x in (\"a\", \"b\")");
        return;
    }
    e->ref_kind = REF_SET;
    e->ref = en->decl;
    chk_add_edge(c, s, en, e->u.in.set_span);
    if (x->type == TYPE_ERROR) return;
    int col;
    ast_decl *src = chk_set_source(c, en->decl, &col);
    if (src) {
        ast_dim dim;
        ast_type t = column_type(&src->u.source.columns[col], &dim);
        if (t != x->type) {
            diag_report(c->diags, DIAG_ERROR, e->span, "type-mismatch",
                        "'%s' is %s, but set '%s' holds %s values (%s.%s)", chk_snippet(c, x->span),
                        type_name(x->type), n, ast_coltype_name(src->u.source.columns[col].type), src->name,
                        src->u.source.columns[col].name);
            return;
        }
    }
    result(e, TYPE_BOOL, DIM_NUMBER);
}

/* d in period | in previous period | before period: d a date. */
static void check_in_period(chk_ctx *c, chk_scope *s, ast_expr *e)
{
    ast_expr *x = e->u.in.lhs;
    chk_expr(c, s, x);
    e->per_staff = x->per_staff;
    if (x->type == TYPE_ERROR) return;
    if (x->type != TYPE_DATE) {
        static const char *const rel[] = { "in period", "in previous period", "before period" };
        diag_report(c->diags, DIAG_ERROR, x->span, "type-mismatch", "'%s' needs a date, but '%s' is %s",
                    rel[e->u.in.rel], chk_snippet(c, x->span), what(x));
        return;
    }
    result(e, TYPE_BOOL, DIM_NUMBER);
}

/* ---- calls ------------------------------------------------------------------------ */

/* Whether the call has want_min..want_max arguments; reports when not. */
static bool arg_count(chk_ctx *c, ast_expr *e, size_t want_min, size_t want_max)
{
    size_t n = e->u.call.args.len;
    if (n >= want_min && n <= want_max) return true;
    const char *fn = e->u.call.name;
    if (want_min == want_max)
        diag_report(c->diags, DIAG_ERROR, e->span, "arguments", "%s() takes %zu argument%s, not %zu", fn,
                    want_min, want_min == 1 ? "" : "s", n);
    else
        diag_report(c->diags, DIAG_ERROR, e->span, "arguments", "%s() takes %zu or %zu arguments, not %zu",
                    fn, want_min, want_max, n);
    return false;
}

static ast_expr *arg(const ast_expr *e, size_t i)
{
    return e->u.call.args.items[i];
}

/* Clauses on something that is not an aggregate. */
static void no_clauses(chk_ctx *c, ast_expr *e, const char *what_it_is)
{
    if (e->u.call.where)
        diag_report(c->diags, DIAG_ERROR, e->u.call.where->span, "aggregate",
                    "'where' applies to aggregates, not to %s", what_it_is);
    if (e->u.call.having)
        diag_report(c->diags, DIAG_ERROR, e->u.call.having->span, "aggregate",
                    "'having' applies to distinct() and sets, not to %s", what_it_is);
    if (e->u.call.over)
        diag_report(c->diags, DIAG_ERROR, e->u.call.over->span, "aggregate",
                    "'over' applies to aggregates, not to %s", what_it_is);
}

/* The source of count(SRC) or the set of count(SET). */
static ast_decl *count_target(chk_ctx *c, chk_scope *s, ast_expr *e, bool *is_set)
{
    ast_expr *a = arg(e, 0);
    *is_set = false;
    if (a->kind != EX_NAME) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, a->span, "aggregate",
                                    "count() takes a source or a set, not '%s'", chk_snippet(c, a->span));
        if (a->kind == EX_MEMBER)
            diag_hint(c->diags, d, "count(%s) counts rows; distinct(%s) counts different values",
                      a->u.member.base, chk_snippet(c, a->span));
        return NULL;
    }
    chk_entry *en = chk_lookup(c, a->u.name.name);
    if (!en) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, a->span, "undefined-name",
                                    "unknown source or set '%s'", a->u.name.name);
        chk_hint_closest(c, d, a->u.name.name, &c->cand_sources_sets);
        return NULL;
    }
    if (en->decl->kind == DECL_SOURCE) {
        a->ref_kind = REF_SOURCE;
        a->ref = en->decl;
        a->type = TYPE_SOURCE;
        return en->decl;
    }
    if (en->decl->kind == DECL_SET) {
        a->ref_kind = REF_SET;
        a->ref = en->decl;
        a->type = TYPE_SET;
        *is_set = true;
        chk_add_edge(c, s, en, a->span);
        return en->decl;
    }
    diagnostic *d = diag_report(c->diags, DIAG_ERROR, a->span, "wrong-kind",
                                "count() takes a source or a set, and '%s' is %s", a->u.name.name,
                                chk_kind_phrase(en->decl->kind));
    if (en->decl->kind == DECL_INDICATOR)
        diag_hint(c->diags, d, "use the indicator by its name, without count()");
    return NULL;
}

/* A per-staff formula groups every aggregate by its source's staff column. */
static void aggregate_grain(chk_ctx *c, chk_scope *s, ast_expr *e, ast_decl *src, ast_decl *set)
{
    if (s->kind != SCOPE_FORMULA || !s->per_staff) return;
    e->per_staff = true;
    if (!src || chk_has_staff_column(src)) return;
    diagnostic *d;
    if (set)
        d = diag_report(
            c->diags, DIAG_ERROR, e->span, "grain",
            "indicator '%s' is per staff, so count(%s) counts per staff, but set '%s' is over source '%s', which has no staff column",
            s->owner->name, set->name, set->name, src->name);
    else
        d = diag_report(c->diags, DIAG_ERROR, e->span, "grain",
                        "indicator '%s' is per staff, but source '%s' has no staff column", s->owner->name,
                        src->name);
    diag_hint(c->diags, d,
              "mark the column that holds the staff id with 'staff', or drop 'per staff' from '%s'",
              s->owner->name);
    result(e, TYPE_ERROR, DIM_NUMBER);
}

/* count, sum, avg, min, max (one argument) and distinct: where they may appear, their
 * source (from SRC, SRC.COL, or the enclosing having's group), their clauses, their
 * type and unit, and their grain. */
static void check_aggregate(chk_ctx *c, chk_scope *s, ast_expr *e, ast_call_kind kind)
{
    const char *fn = e->u.call.name;
    size_t n = e->u.call.args.len;
    e->call_kind = kind;
    if (s->kind == SCOPE_ROW) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, e->span, "aggregate",
                                    "%s() cannot be used inside %s: aggregates do not nest", fn, s->clause);
        diag_hint(c->diags, d, "define the inner aggregate as an indicator, or use a set");
        return;
    }
    if (s->kind == SCOPE_ROLE) {
        diagnostic *d =
            diag_report(c->diags, DIAG_ERROR, e->span, "misplaced", "%s() cannot be used in a role", fn);
        diag_hint(c->diags, d, "define an indicator for it and use the indicator's name");
        return;
    }
    bool group = s->kind == SCOPE_GROUP;
    if (e->u.call.having && (kind != CALL_DISTINCT || group)) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, e->u.call.having->span, "aggregate",
                                    group ? "'having' cannot be nested inside another 'having'"
                                          : "'having' applies to distinct() and sets, not to %s()",
                                    fn);
        if (!group) diag_hint(c->diags, d, "use 'where' to filter rows");
    }
    if (group && e->u.call.over) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, e->u.call.over->span, "aggregate",
                                    "inside 'having', %s() takes no 'over'", fn);
        diag_hint(c->diags, d, "it ranges over the group's rows in the window of the enclosing aggregate");
    }

    if (group && kind == CALL_DISTINCT) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, e->span, "aggregate",
                                    "distinct() cannot be used inside 'having'");
        diag_hint(
            c->diags, d,
            "inside 'having' the aggregates are count(), sum(), avg(), min() and max() over the group's rows");
        return;
    }
    ast_decl *src = NULL, *set = NULL;
    bool ok = true;
    ast_dim dim = DIM_COUNT;
    chk_dims dims = CHK_DIM(DIM_COUNT);
    ast_type type = TYPE_NUM;
    switch (kind) {
    case CALL_COUNT:
        if (group) {
            src = s->source;
            if (n > 0) {
                diagnostic *d =
                    diag_report(c->diags, DIAG_ERROR, arg(e, 0)->span, "aggregate",
                                "inside 'having', count() takes no source: it counts the rows of the group");
                diag_hint(c->diags, d, "write count() or count(where …)");
                ok = false;
            }
            break;
        }
        if (n == 0) {
            diagnostic *d =
                diag_report(c->diags, DIAG_ERROR, e->span, "aggregate",
                            "count() without a source counts the rows of a group, only inside 'having'");
            diag_hint(c->diags, d, "write count(SOURCE) or count(SET)");
            return;
        }
        if (!arg_count(c, e, 1, 1)) return;
        {
            bool is_set;
            ast_decl *t = count_target(c, s, e, &is_set);
            if (!t) return;
            if (is_set) {
                set = t;
                e->call_kind = CALL_SET_SIZE;
                e->ref_kind = REF_SET;
                e->ref = set;
                no_clauses(c, e, arena_printf(c->mem, "count(%s), the size of a set", set->name));
                src = chk_set_source(c, set, NULL);
                e->agg_source = src; /* the rows the set is drawn from */
                if (s->per_staff) set->per_staff = true;
                result(e, TYPE_NUM, DIM_COUNT);
                aggregate_grain(c, s, e, src, set);
                return;
            }
            src = t;
            e->ref_kind = REF_SOURCE;
            e->ref = src;
        }
        break;
    case CALL_SUM:
    case CALL_AVG:
    case CALL_MIN:
    case CALL_MAX: {
        if (!arg_count(c, e, 1, 1)) return;
        ast_expr *x = arg(e, 0);
        chk_scope sub = sub_scope(s, SCOPE_ROW, group ? s->source : NULL,
                                  arena_printf(c->mem, "the argument of %s()", fn));
        if (!group) {
            sub.binding = true;
            sub.quiet = false;
        }
        chk_expr(c, &sub, x);
        src = group ? s->source : sub.bound;
        if (x->type == TYPE_ERROR) {
            ok = false;
            break;
        }
        if (!group && !src) {
            diagnostic *d = diag_report(c->diags, DIAG_ERROR, x->span, "aggregate",
                                        "%s() needs a column to range over, but '%s' uses none", fn,
                                        chk_snippet(c, x->span));
            diag_hint(c->diags, d, "write the column as SOURCE.COLUMN, e.g. %s(orders.amount)", fn);
            ok = false;
            break;
        }
        bool minmax = kind == CALL_MIN || kind == CALL_MAX;
        if (x->type == TYPE_NUM || (minmax && x->type == TYPE_DATE)) {
            type = x->type;
            dim = x->dim;
            dims = chk_dims_of(c, x);
        } else {
            diagnostic *d = diag_report(
                c->diags, DIAG_ERROR, x->span, "type-mismatch", "%s() needs %s, but '%s' is %s", fn,
                minmax ? "numbers or dates" : "numbers", chk_snippet(c, x->span), type_name(x->type));
            if (x->type == TYPE_DATE)
                diag_hint(c->diags, d,
                          "min() and max() take dates; days(from, to) turns two dates into a number");
            else if (x->type == TYPE_BOOL)
                diag_hint(c->diags, d, "count rows where it holds: count(%s where …)",
                          src ? src->name : "SOURCE");
            ok = false;
        }
        break;
    }
    case CALL_DISTINCT: {
        if (!arg_count(c, e, 1, 1)) return;
        ast_expr *x = arg(e, 0);
        chk_scope sub = sub_scope(s, SCOPE_ROW, group ? s->source : NULL, "the argument of distinct()");
        if (!group) {
            sub.binding = true;
            sub.quiet = false;
        }
        chk_expr(c, &sub, x);
        src = group ? s->source : sub.bound;
        if (x->type == TYPE_ERROR) {
            ok = false;
            break;
        }
        if (x->ref_kind != REF_COLUMN) {
            diagnostic *d = diag_report(c->diags, DIAG_ERROR, x->span, "aggregate",
                                        "distinct() takes a column, not '%s'", chk_snippet(c, x->span));
            diag_hint(c->diags, d, group ? "write distinct(COLUMN)" : "write distinct(SOURCE.COLUMN)");
            ok = false;
        }
        break;
    }
    default: return;
    }

    e->agg_source = src;
    if (e->u.call.where) {
        chk_scope sub = sub_scope(s, SCOPE_ROW, src, "a where condition");
        chk_expr(c, &sub, e->u.call.where);
        chk_require_bool(c, e->u.call.where, "a where condition");
    }
    if (e->u.call.having && kind == CALL_DISTINCT && !group) {
        chk_scope sub = sub_scope(s, SCOPE_GROUP, src, "a having condition");
        chk_expr(c, &sub, e->u.call.having);
        chk_require_bool(c, e->u.call.having, "a having condition");
    }
    if (!ok) return;
    if (type == TYPE_NUM) num_result(c, e, dims, dim);
    else result(e, type, dim);
    aggregate_grain(c, s, e, src, NULL);
}

/* abs(x), round(x, places), days(from, to), min(a, b), max(a, b), coalesce(a, b). */
static void check_function(chk_ctx *c, chk_scope *s, ast_expr *e, ast_call_kind kind)
{
    const char *fn = e->u.call.name;
    e->call_kind = kind;
    no_clauses(c, e, arena_printf(c->mem, "%s()", fn));
    size_t want = kind == CALL_FN_ABS ? 1 : 2;
    if (!arg_count(c, e, want, want)) {
        for (size_t i = 0; i < e->u.call.args.len; i++) chk_expr(c, s, arg(e, i));
        return;
    }
    ast_expr *a = arg(e, 0), *b = want == 2 ? arg(e, 1) : NULL;
    chk_expr(c, s, a);
    e->per_staff = a->per_staff;
    if (kind == CALL_FN_ROUND) {
        /* the places are a literal, so the evaluator rounds each value the same way */
        b->type = TYPE_NUM;
        bool whole = b->kind == EX_NUMBER && !strchr(b->u.lit.text, '.');
        if (!whole || strlen(b->u.lit.text) > 2 || atoi(b->u.lit.text) > 18) {
            diagnostic *d = diag_report(c->diags, DIAG_ERROR, b->span, "arguments",
                                        "the places of round() must be a whole number from 0 to 18, not '%s'",
                                        chk_snippet(c, b->span));
            diag_hint(c->diags, d, "e.g. round(x, 2)");
            return;
        }
        if (require_num(c, a, "round()")) num_result(c, e, chk_dims_of(c, a), a->dim);
        return;
    }
    if (b) {
        chk_expr(c, s, b);
        e->per_staff |= b->per_staff;
    }
    if (a->type == TYPE_ERROR || (b && b->type == TYPE_ERROR)) return;
    switch (kind) {
    case CALL_FN_ABS:
        if (require_num(c, a, "abs()")) num_result(c, e, chk_dims_of(c, a), a->dim);
        return;
    case CALL_FN_DAYS: {
        ast_expr *bad = a->type != TYPE_DATE ? a : b->type != TYPE_DATE ? b : NULL;
        if (bad) {
            diag_report(c->diags, DIAG_ERROR, bad->span, "type-mismatch",
                        "days() takes two dates, but '%s' is %s", chk_snippet(c, bad->span), what(bad));
            return;
        }
        result(e, TYPE_NUM, DIM_DAYS);
        return;
    }
    default: { /* min(a, b), max(a, b), coalesce(a, b) */
        bool coalesce = kind == CALL_FN_COALESCE;
        bool scalar = a->type != TYPE_SET && a->type != TYPE_SOURCE;
        if (a->type != b->type || !scalar || (!coalesce && a->type != TYPE_NUM && a->type != TYPE_DATE)) {
            diag_report(c->diags, DIAG_ERROR, e->span, "type-mismatch",
                        coalesce ? "%s() takes two values of one type, but '%s' is %s and '%s' is %s"
                                 : "%s() takes two numbers or two dates, but '%s' is %s and '%s' is %s",
                        fn, chk_snippet(c, a->span), type_name(a->type), chk_snippet(c, b->span),
                        type_name(b->type));
            return;
        }
        if (a->type != TYPE_NUM) {
            result(e, a->type, DIM_NUMBER);
            return;
        }
        chk_dims dims = chk_dims_op(chk_dims_of(c, a), chk_dims_of(c, b), chk_dim_unify);
        if (!dims) {
            diagnostic *dg = diag_report(c->diags, DIAG_ERROR, e->span, "unit-mismatch",
                                         "cannot take the %s of '%s' (%s) and '%s' (%s)",
                                         kind == CALL_FN_MIN   ? "minimum"
                                         : kind == CALL_FN_MAX ? "maximum"
                                                               : "first non-null",
                                         chk_snippet(c, a->span), chk_dim_name(a->dim),
                                         chk_snippet(c, b->span), chk_dim_name(b->dim));
            diag_hint(c->diags, dg, "both need the same unit; a plain number adapts to either");
            diag_hint(c->diags, dg, "e.g. '%s(%s, 100)' checks (%s)", fn, chk_snippet(c, a->span),
                      chk_dim_phrase(a->dim));
            return;
        }
        ast_dim d;
        if (!chk_dim_unify(a->dim, b->dim, &d)) d = DIM_NUMBER;
        percent_pair(c, s, a, b);
        num_result(c, e, dims, d);
        return;
    }
    }
}

/* previous(x), last_year(x): one whole value shifted in time, never inside a row
 * condition; the type and unit of x. */
static void check_time_shift(chk_ctx *c, chk_scope *s, ast_expr *e, ast_call_kind kind)
{
    const char *fn = e->u.call.name;
    e->call_kind = kind;
    no_clauses(c, e, arena_printf(c->mem, "%s()", fn));
    if (s->kind == SCOPE_ROW || s->kind == SCOPE_GROUP) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, e->span, "misplaced", "%s() cannot be used in %s",
                                    fn, s->clause);
        diag_hint(
            c->diags, d,
            "it shifts a whole indicator or aggregate to another period; use a window such as 'over last 3 months' inside an aggregate");
        return;
    }
    if (!arg_count(c, e, 1, 1)) {
        for (size_t i = 0; i < e->u.call.args.len; i++) chk_expr(c, s, arg(e, i));
        return;
    }
    ast_expr *a = arg(e, 0);
    chk_expr(c, s, a);
    e->per_staff = a->per_staff;
    if (a->type == TYPE_ERROR) return;
    if (a->type == TYPE_NUM) num_result(c, e, chk_dims_of(c, a), a->dim);
    else result(e, a->type, a->dim);
}

/* SCALE(x): one number (a ratio when the bounds are percentages); gives the scale's
 * output unit. */
static void check_scale_call(chk_ctx *c, chk_scope *s, ast_expr *e, ast_decl *scale)
{
    e->call_kind = CALL_SCALE;
    e->ref_kind = REF_SCALE;
    e->ref = scale;
    no_clauses(c, e, arena_printf(c->mem, "scale '%s'", scale->name));
    if (!arg_count(c, e, 1, 1)) {
        for (size_t i = 0; i < e->u.call.args.len; i++) chk_expr(c, s, arg(e, i));
        return;
    }
    ast_expr *a = arg(e, 0);
    chk_expr(c, s, a);
    e->per_staff = a->per_staff;
    if (!require_num(c, a, arena_printf(c->mem, "scale '%s'", scale->name))) return;
    if (chk_scale_takes_ratio(scale) && !chk_dims_fit(chk_dims_of(c, a), DIM_RATIO)) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, a->span, "unit-mismatch",
                                    "scale '%s' maps ratios (its bounds are percentages), but '%s' is %s",
                                    scale->name, chk_snippet(c, a->span), chk_dim_phrase(a->dim));
        diag_hint(
            c->diags, d,
            "pass a ratio such as achievement, or write the bounds as plain numbers; e.g. '%s(achievement)' checks",
            scale->name);
        return;
    }
    const char *percent = chk_percent_subject(c, s, a);
    if (percent) chk_warn_percent_scale(c, scale, percent, a->span);
    result(e, TYPE_NUM, scale->dim);
}

/* Tells built-ins, scales and unknown names apart (CALL_* in e->call_kind). */
static void check_call(chk_ctx *c, chk_scope *s, ast_expr *e)
{
    const char *fn = e->u.call.name;
    size_t n = e->u.call.args.len;
    static const struct {
        const char *name;
        ast_call_kind kind;
    } builtins[] = {
        { "count", CALL_COUNT },
        { "sum", CALL_SUM },
        { "avg", CALL_AVG },
        { "min", CALL_MIN },
        { "max", CALL_MAX },
        { "distinct", CALL_DISTINCT },
        { "abs", CALL_FN_ABS },
        { "round", CALL_FN_ROUND },
        { "days", CALL_FN_DAYS },
        { "previous", CALL_PREVIOUS },
        { "last_year", CALL_LAST_YEAR },
        { "coalesce", CALL_FN_COALESCE },
    };
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        if (strcmp(fn, builtins[i].name)) continue;
        ast_call_kind k = builtins[i].kind;
        if ((k == CALL_MIN || k == CALL_MAX) && n == 2)
            check_function(c, s, e, k == CALL_MIN ? CALL_FN_MIN : CALL_FN_MAX);
        else if (k == CALL_MIN || k == CALL_MAX) {
            if (n > 2) {
                arg_count(c, e, 1, 2);
                return;
            }
            check_aggregate(c, s, e, k);
        } else if (k >= CALL_COUNT && k <= CALL_DISTINCT) check_aggregate(c, s, e, k);
        else if (k == CALL_PREVIOUS || k == CALL_LAST_YEAR) check_time_shift(c, s, e, k);
        else check_function(c, s, e, k);
        return;
    }
    chk_entry *en = chk_lookup(c, fn);
    if (en && en->decl->kind == DECL_SCALE) {
        check_scale_call(c, s, e, en->decl);
        return;
    }
    if (en) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, e->u.call.name_span, "wrong-kind",
                                    "'%s' is %s, not a function", fn, chk_kind_phrase(en->decl->kind));
        if (en->decl->kind == DECL_SET) diag_hint(c->diags, d, "count(%s) is its size", fn);
        else if (en->decl->kind == DECL_SOURCE) diag_hint(c->diags, d, "count(%s) counts its rows", fn);
    } else {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, e->u.call.name_span, "undefined-name",
                                    "unknown function '%s'", fn);
        chk_hint_closest(c, d, fn, &c->cand_calls);
    }
    /* The arguments are left alone: what they may contain depends on what the call was
     * meant to be (a misspelt sum() takes a column), so checking them would only add
     * messages that the fix makes moot. */
}

/* ---- literals --------------------------------------------------------------------- */

/* How a number or percentage literal decodes (its value is the IR's: lower.c). */
static dec_status literal_status(const ast_expr *e)
{
    const char *text = e->u.lit.text;
    /* a percentage is kept as its fraction: two places go to the division by 100 */
    unsigned places = e->kind == EX_PERCENT ? DEC_PLACES - 2 : DEC_PLACES;
    dec_t v;
    dec_status st = dec_parse(text, strlen(text), places, &v);
    if (st == DEC_OK && e->kind == EX_PERCENT) st = dec_div(v, dec_from_int64(100), DEC_PLACES, &v);
    return st;
}

bool chk_literal_number(chk_ctx *c, const ast_expr *e)
{
    if (e->kind == EX_UNARY && e->u.op.op == OP_NEG) e = e->u.op.lhs;
    if (e->kind != EX_NUMBER && e->kind != EX_PERCENT) return true;
    bool percent = e->kind == EX_PERCENT;
    unsigned places = percent ? DEC_PLACES - 2 : DEC_PLACES;
    dec_status st = literal_status(e);
    if (st == DEC_OK || st == DEC_SYNTAX) return st == DEC_OK; /* malformed: the scanner said so */
    const char *raw = chk_snippet(c, e->span);
    diagnostic *d;
    if (st == DEC_TOO_PRECISE) {
        d = diag_report(c->diags, DIAG_ERROR, e->span, "number-range",
                        "'%s' has more than %u decimal places%s", raw, places,
                        percent ? " (a percentage is kept as a fraction, with 18)" : "");
        diag_hint(c->diags, d,
                  "kpic computes exactly with 18 decimal places; round the literal to at most %u places",
                  places);
    } else {
        d = diag_report(c->diags, DIAG_ERROR, e->span, "number-range",
                        "'%s' is too large for an exact decimal", raw);
        diag_hint(c->diags, d,
                  "numbers go up to 170141183460469231731 (with 18 decimal places kept exactly)");
    }
    return false;
}

/* ---- plain numbers next to percentages ------------------------------------------- */

const char *chk_percent_subject(chk_ctx *c, const chk_scope *s, const ast_expr *e)
{
    if (e->type != TYPE_NUM) return NULL;
    switch (e->kind) {
    case EX_NAME:
        if (e->ref_kind == REF_INDICATOR && e->ref && e->ref->u.indicator.unit == UNIT_PERCENT)
            return arena_printf(c->mem, "'%s', a percent indicator", e->u.name.name);
        if ((e->ref_kind == REF_VALUE || e->ref_kind == REF_TARGET) && s->kpi && s->kpi->ref &&
            s->kpi->ref->u.indicator.unit == UNIT_PERCENT)
            return arena_printf(c->mem, "'%s' of percent kpi '%s'", e->u.name.name, s->kpi->indicator);
        if (e->ref_kind == REF_ACHIEVEMENT) return "'achievement', a percentage";
        return NULL;
    case EX_UNARY: return chk_percent_subject(c, s, e->u.op.lhs);
    case EX_BINARY: {
        const ast_expr *l = e->u.op.lhs, *r = e->u.op.rhs;
        if (e->u.op.op == OP_ADD || e->u.op.op == OP_SUB) {
            const char *p = chk_percent_subject(c, s, l);
            return p ? p : chk_percent_subject(c, s, r);
        }
        /* `rate * 110%` is still a percentage; `rate * 100` is turned into points */
        if (e->u.op.op == OP_MUL && r->kind == EX_PERCENT) return chk_percent_subject(c, s, l);
        if (e->u.op.op == OP_MUL && l->kind == EX_PERCENT) return chk_percent_subject(c, s, r);
        if (e->u.op.op == OP_DIV && r->kind == EX_PERCENT) return chk_percent_subject(c, s, l);
        return NULL;
    }
    case EX_IF: {
        const char *p = chk_percent_subject(c, s, e->u.cond.then_expr);
        return p ? p : chk_percent_subject(c, s, e->u.cond.else_expr);
    }
    case EX_CALL:
        switch (e->call_kind) {
        case CALL_FN_MIN:
        case CALL_FN_MAX:
        case CALL_FN_COALESCE: {
            const char *p = chk_percent_subject(c, s, e->u.call.args.items[0]);
            return p ? p : chk_percent_subject(c, s, e->u.call.args.items[1]);
        }
        case CALL_FN_ABS:
        case CALL_FN_ROUND:
        case CALL_PREVIOUS:
        case CALL_LAST_YEAR:
            return e->u.call.args.len ? chk_percent_subject(c, s, e->u.call.args.items[0]) : NULL;
        default: return NULL;
        }
    default: return NULL;
    }
}

void chk_warn_percent_literals(chk_ctx *c, const chk_scope *s, const ast_expr *e, const char *where)
{
    if (e->type != TYPE_NUM) return;
    switch (e->kind) {
    case EX_NUMBER: {
        chk_exact v, one;
        if (literal_status(e) != DEC_OK || !chk_exact_parse(c->mem, e->u.lit.text, false, &v)) return;
        chk_exact_parse(c->mem, "1", false, &one);
        if (chk_exact_cmp(v, one) <= 0) return;
        diagnostic *d = diag_report(c->diags, DIAG_WARNING, e->span, "percent-literal", "'%s' %s means %s%%",
                                    e->u.lit.raw, where, chk_exact_format(c->mem, v, 2));
        diag_hint(
            c->diags, d,
            "did you mean %s%%? A plain number next to a percentage is a fraction (0.2 is 20%%); write %s%% if that is meant",
            e->u.lit.raw, chk_exact_format(c->mem, v, 2));
        return;
    }
    case EX_UNARY:
        if (e->u.op.op == OP_NEG) chk_warn_percent_literals(c, s, e->u.op.lhs, where);
        return;
    case EX_BINARY:
        if (e->u.op.op != OP_ADD && e->u.op.op != OP_SUB) return;
        if (chk_percent_subject(c, s, e->u.op.lhs) || chk_percent_subject(c, s, e->u.op.rhs)) return;
        chk_warn_percent_literals(c, s, e->u.op.lhs, where);
        chk_warn_percent_literals(c, s, e->u.op.rhs, where);
        return;
    case EX_IF:
        if (chk_percent_subject(c, s, e->u.cond.then_expr) || chk_percent_subject(c, s, e->u.cond.else_expr))
            return;
        chk_warn_percent_literals(c, s, e->u.cond.then_expr, where);
        chk_warn_percent_literals(c, s, e->u.cond.else_expr, where);
        return;
    case EX_CALL:
        if (e->call_kind == CALL_FN_MIN || e->call_kind == CALL_FN_MAX || e->call_kind == CALL_FN_COALESCE) {
            const ast_expr *a = e->u.call.args.items[0], *b = e->u.call.args.items[1];
            if (chk_percent_subject(c, s, a) || chk_percent_subject(c, s, b)) return;
            chk_warn_percent_literals(c, s, a, where);
            chk_warn_percent_literals(c, s, b, where);
        } else if (e->call_kind == CALL_FN_ABS || e->call_kind == CALL_FN_ROUND) {
            chk_warn_percent_literals(c, s, e->u.call.args.items[0], where);
        }
        return;
    default: return;
    }
}

/* Two operands that must share a unit: a plain literal on one side adapts to a
 * percentage on the other. */
static void percent_pair(chk_ctx *c, const chk_scope *s, const ast_expr *a, const ast_expr *b)
{
    const char *pa = chk_percent_subject(c, s, a), *pb = chk_percent_subject(c, s, b);
    if (pa && !pb) chk_warn_percent_literals(c, s, b, arena_printf(c->mem, "next to %s,", pa));
    if (pb && !pa) chk_warn_percent_literals(c, s, a, arena_printf(c->mem, "next to %s,", pb));
}

/* ---- the walk --------------------------------------------------------------------- */

void chk_expr(chk_ctx *c, chk_scope *s, ast_expr *e)
{
    e->type = TYPE_ERROR;
    e->dim = DIM_NUMBER;
    e->per_staff = false;
    switch (e->kind) {
    case EX_ERROR: return;
    case EX_NUMBER:
    case EX_PERCENT:
        chk_literal_number(c, e);
        result(e, TYPE_NUM, e->kind == EX_PERCENT ? DIM_RATIO : DIM_NUMBER);
        return;
    case EX_DATE: result(e, TYPE_DATE, DIM_NUMBER); return;
    case EX_STRING: result(e, TYPE_TEXT, DIM_NUMBER); return;
    case EX_BOOL: result(e, TYPE_BOOL, DIM_NUMBER); return;
    case EX_INF: {
        diagnostic *d =
            diag_report(c->diags, DIAG_ERROR, e->span, "misplaced", "'inf' is only allowed as a scale bound");
        diag_hint(c->diags, d, "e.g. [150%%, inf) -> 150");
        return;
    }
    case EX_NAME: check_name(c, s, e); return;
    case EX_MEMBER: check_member(c, s, e); return;
    case EX_UNARY: check_unary(c, s, e); return;
    case EX_BINARY: check_binary(c, s, e); return;
    case EX_IF: check_if(c, s, e); return;
    case EX_IN_LIST: check_in_list(c, s, e); return;
    case EX_IN_SET: check_in_set(c, s, e); return;
    case EX_IN_PERIOD: check_in_period(c, s, e); return;
    case EX_CALL: check_call(c, s, e); return;
    }
}
