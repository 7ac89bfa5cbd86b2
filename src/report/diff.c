/* diff.c — what a change to a spec changes (see diff.h).
 *
 * Declarations are matched by kind and name; a name that changed kind counts as one
 * removed and one added. Expressions are compared by their text as written with
 * comments dropped and white space collapsed (diag_span_text), so a reformatted
 * spec has no differences. Values are compared exactly (decimal equality; null only
 * equals null), staff by id, so a roster that gained or lost people still lines up.
 * Everything found is recorded in the report first and written afterwards, so the three
 * formats say the same and the summary can come before the details it sums.
 */
#include "kpic/diff.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eval_output.h"
#include "kpic/fmt.h"
#include "kpic/hash.h"
#include "kpic/json.h"
#include "kpic/markup.h"
#include "kpic/score.h"

/* One difference between the definitions. */
typedef struct def_change {
    char op;                    /* '~' changed, '+' added by NEW, '-' dropped by NEW */
    const char *what;           /* "indicator revenue", "role sales: kpi big" */
    const char *field;          /* '~': "formula", "weight"; NULL for '+' and '-' */
    const char *before, *after; /* '~': the two values; '+': what was added ("" none) */
} def_change;

/* An indicator value both specs define that moved. */
typedef struct value_change {
    const char *indicator;
    const char *staff; /* staff id, NULL for the total */
    eval_value before, after;
    ast_unit before_unit, after_unit;
} value_change;

/* One side of a staff member's statement. */
typedef struct side_statement {
    const char *role;        /* NULL: unscored (or not on this roster) */
    const char *reason;      /* with role NULL: why */
    eval_value score, bonus; /* null when unscored; bonus null without a value */
    bool has_bonus;          /* the role has a `bonus` line */
    const char *grade;       /* the grade of a role with grades; else NULL */
} side_statement;

/* A staff member whose statement moved. */
typedef struct person_change {
    const char *id, *name; /* name NULL when the roster has none */
    side_statement before, after;
    dec_t bonus_change; /* after − before, a missing bonus counting 0 */
    bool score_moved;   /* both scores are numbers */
    dec_t score_change; /* of the scores rounded to 2 places, as shown */
    size_t order;       /* roster order: the tie-break of the sort */
} person_change;

/* The bonuses of one role (matched by name) on each side. */
typedef struct role_total {
    const char *role;
    size_t staff_before, staff_after; /* statements with this role */
    dec_t bonus_before, bonus_after, change;
} role_total;

/* The results of one period. */
typedef struct period_diff {
    const char *label;
    dec_t total_before, total_after, total_change;
    role_total *roles;
    size_t role_count;
    size_t gain, lose, cross_gate, cross_interval, become_scored, become_unscored;
    ptr_vec people; /* person_change*, sorted by the size of the change */
    ptr_vec values; /* value_change* */
} period_diff;

struct diff_report {
    arena mem;
    const char *old_label, *new_label;
    ptr_vec defs;                         /* def_change* */
    const char *period_text;              /* NULL: definitions only */
    ptr_vec periods;                      /* period_diff* */
    const score_adjustments *adjustments; /* applied to both sides' statements; may be NULL */
};

void diff_set_adjustments(diff_report *r, const score_adjustments *a)
{
    r->adjustments = a;
}

/* The state of one comparison. */
typedef struct differ {
    diff_report *r;
    arena *mem; /* the report's */
    const ast_spec *old_spec, *new_spec;
    const chk_model *old_model, *new_model;
    diag_sink *errors; /* results: where a total out of range is reported */
    size_t changes;
} differ;

/* ---- recording a difference of the definitions --------------------------------------- */

static void record(differ *f, char op, const char *what, const char *field, const char *before,
                   const char *after)
{
    def_change *c = arena_alloc(f->mem, sizeof *c);
    *c = (def_change){ op, what, field, before, after };
    ptr_vec_push(f->mem, &f->r->defs, c);
    f->changes++;
}

static void changed(differ *f, const char *what, const char *field, const char *before, const char *after)
{
    record(f, '~', what, field, before, after);
}

static bool word_byte(unsigned char c)
{
    return c >= 0x80 || c == '_' || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* TEXT (from diag_span_text) without the spaces that do not separate two words, outside
 * strings: `count( orders )` and `count(orders)` give one key, `not refunded` keeps its
 * space. Two expressions are the same code when their keys are equal. */
static const char *code_key(differ *f, const char *text)
{
    char *out = arena_alloc(f->mem, strlen(text) + 1), *o = out;
    bool in_string = false;
    for (const char *p = text; *p; p++) {
        if (in_string) {
            *o++ = *p;
            if (*p == '\\' && p[1]) *o++ = *++p;
            else if (*p == '"') in_string = false;
            continue;
        }
        if (*p == ' ' && !(o > out && word_byte((unsigned char)o[-1]) && word_byte((unsigned char)p[1])))
            continue;
        if (*p == '"') in_string = true;
        *o++ = *p;
    }
    *o = '\0';
    return out;
}

static void compare(differ *f, const char *what, const char *field, const char *before, const char *after)
{
    if (strcmp(before, after) != 0) changed(f, what, field, before, after);
}

/* compare() for expressions: a difference in spacing alone is none */
static void compare_code(differ *f, const char *what, const char *field, const char *before,
                         const char *after)
{
    if (strcmp(code_key(f, before), code_key(f, after)) != 0) changed(f, what, field, before, after);
}

/* compare() of two texts as written that are the same code when their keys are equal */
static void compare_keyed(differ *f, const char *what, const char *field, const char *before,
                          const char *after, const char *before_key, const char *after_key)
{
    if (strcmp(before_key, after_key) != 0) changed(f, what, field, before, after);
}

/* An expression as written, or (CANONICAL) as `kpic fmt` prints it: the key that says
 * whether two are the same code, so that fmt dropping redundant parentheses is never a
 * difference. */
static const char *expr_text(const ast_expr *e, const diag_sink *diags, arena *mem, bool canonical)
{
    if (!canonical) return diag_span_text(diags, e->span, mem);
    char *text = fmt_expr(e, diags);
    const char *copy = arena_printf(mem, "%s", text);
    free(text);
    return copy;
}

static void added(differ *f, const char *what, const char *detail)
{
    record(f, '+', what, NULL, detail, NULL);
}

static void removed(differ *f, const char *what)
{
    record(f, '-', what, NULL, NULL, NULL);
}

static const char *old_text(differ *f, kp_span span)
{
    return diag_span_text(f->old_spec->diags, span, f->mem);
}

static const char *new_text(differ *f, kp_span span)
{
    return diag_span_text(f->new_spec->diags, span, f->mem);
}

static const char *quoted(differ *f, const char *s)
{
    return s ? arena_printf(f->mem, "\"%s\"", s) : "(none)";
}

/* The declaration of the same kind and name in the other model, or NULL. */
static const ast_decl *counterpart(const chk_model *other, const ast_decl *decl)
{
    const ast_decl *d = chk_find(other, decl->kind == DECL_STAFF ? "staff" : decl->name);
    return d && d->kind == decl->kind ? d : NULL;
}

/* ---- what each kind of declaration says ---------------------------------------------- */

static const char *unit_text(differ *f, const ast_decl *ind)
{
    return arena_printf(f->mem, "%s%s", ast_unit_name(ind->u.indicator.unit),
                        ind->u.indicator.per_staff ? " per staff" : "");
}

/* A column's type and flags, then how the export writes it (a changed format reads
 * the same file differently, so it is a difference). */
static const char *column_text(differ *f, const ast_column *c)
{
    const char *text = arena_printf(f->mem, "%s%s%s", ast_coltype_name(c->type), c->is_time ? " time" : "",
                                    c->is_staff ? " staff" : "");
    if (c->header) text = arena_printf(f->mem, "%s header \"%s\"", text, c->header);
    if (c->format) text = arena_printf(f->mem, "%s format \"%s\"", text, c->format);
    if (c->convention) text = arena_printf(f->mem, "%s convention \"%s\"", text, c->convention);
    if (c->true_word)
        text = arena_printf(f->mem, "%s true \"%s\" false \"%s\"", text, c->true_word, c->false_word);
    return text;
}

static const char *set_text(const ast_decl *set, const diag_sink *diags, arena *mem)
{
    return diag_span_text(diags, ast_set_definition_span(set), mem);
}

static const char *scale_text(const ast_decl *scale, const diag_sink *diags, arena *mem)
{
    const char *text = "";
    for (int i = 0; i < scale->u.scale.row_count; i++) {
        const ast_scale_row *r = &scale->u.scale.rows[i];
        text = arena_printf(mem, "%s%s%s", text, i ? "; " : "", diag_span_text(diags, r->span, mem));
    }
    return text;
}

/* The item of ROLE of the given kind (the kpi of INDICATOR for ROLE_KPI), or NULL. */
static const ast_role_item *role_item(const ast_decl *role, ast_role_item_kind kind, const char *indicator)
{
    for (int i = 0; i < role->u.role.item_count; i++) {
        const ast_role_item *it = &role->u.role.items[i];
        if (it->kind == kind && (!indicator || !strcmp(it->indicator, indicator))) return it;
    }
    return NULL;
}

static const char *target_text(const ast_role_item *k, const diag_sink *diags, arena *mem, bool canonical)
{
    if (!k->has_target) return "(none)";
    return arena_printf(mem, "%s %s", ast_comparator_text(k->comparator),
                        expr_text(k->target, diags, mem, canonical));
}

static const char *kpi_text(const ast_role_item *k, const diag_sink *diags, arena *mem)
{
    return arena_printf(mem, "%sweight %s target %s%s%s", k->shared ? "shared " : "",
                        k->weight ? diag_span_text(diags, k->weight->span, mem) : "?",
                        target_text(k, diags, mem, false), k->points ? " points " : "",
                        k->points ? diag_span_text(diags, k->points->span, mem) : "");
}

static const char *expr_or_none(const ast_role_item *it, const diag_sink *diags, arena *mem, bool canonical)
{
    if (it && it->pool) {
        /* a part of a pool, in fmt's order (share, cap, floor), so that reordering the
         * clauses is no difference */
        const char *text =
            arena_printf(mem, "pool %s share %s", it->pool, expr_text(it->share, diags, mem, canonical));
        if (it->cap) text = arena_printf(mem, "%s cap %s", text, expr_text(it->cap, diags, mem, canonical));
        if (it->floor)
            text = arena_printf(mem, "%s floor %s", text, expr_text(it->floor, diags, mem, canonical));
        return text;
    }
    return it && it->expr ? expr_text(it->expr, diags, mem, canonical) : "(none)";
}

/* A grades table in fmt's words: "A top 20% factor 1.5, B next 70% factor 1, C rest
 * factor 0.5" (a changed quota or factor is a change in pay). */
static const char *grades_text(const ast_grades *g, const diag_sink *diags, arena *mem, bool canonical)
{
    if (!g) return "(none)";
    const char *text = "";
    for (int k = 0; k < g->row_count; k++) {
        const ast_grade *row = &g->rows[k];
        text = arena_printf(mem, "%s%s%s %s", text, k ? ", " : "", row->name,
                            row->rest ? "rest"
                            : k       ? "next"
                                      : "top");
        if (row->quota) text = arena_printf(mem, "%s %s", text, expr_text(row->quota, diags, mem, canonical));
        if (row->factor)
            text = arena_printf(mem, "%s factor %s", text, expr_text(row->factor, diags, mem, canonical));
    }
    return text;
}

/* A role's grades line: the table written in it, or "grades NAME"; "(none)". */
static const char *role_grades_text(const ast_decl *role, const diag_sink *diags, arena *mem, bool canonical)
{
    const ast_role_item *it = role_item(role, ROLE_GRADES, NULL);
    if (!it) return "(none)";
    if (it->grades_name) return arena_printf(mem, "grades %s", it->grades_name);
    return arena_printf(mem, "{ %s }", grades_text(it->grades, diags, mem, canonical));
}

/* ---- the comparisons ---------------------------------------------------------------- */

/* A source's `key (…)` lines as written, "(none)" without: a key decides which rows
 * are bad, so adding or changing one is a difference. */
static const char *keys_text(differ *f, const ast_decl *d)
{
    if (!d->u.source.key_line_count) return "(none)";
    const char *text = "";
    for (int k = 0; k < d->u.source.key_line_count; k++) {
        const ast_key_line *kl = &d->u.source.key_lines[k];
        text = arena_printf(f->mem, "%s%s(", text, k ? " " : "");
        for (int j = 0; j < kl->count; j++)
            text = arena_printf(f->mem, "%s%s%s", text, j ? ", " : "", kl->columns[j]);
        text = arena_printf(f->mem, "%s)", text);
    }
    return text;
}

static void diff_columns(differ *f, const char *what, const ast_decl *o, const ast_decl *n)
{
    compare(f, what, "key", keys_text(f, o), keys_text(f, n));
    compare(f, what, "encoding", o->u.source.encoding ? quoted(f, o->u.source.encoding) : "UTF-8",
            n->u.source.encoding ? quoted(f, n->u.source.encoding) : "UTF-8");
    compare(f, what, "file", o->u.source.path, n->u.source.path);
    for (int i = 0; i < n->u.source.column_count; i++) {
        const ast_column *nc = &n->u.source.columns[i];
        const ast_column *oc = NULL;
        for (int k = 0; k < o->u.source.column_count && !oc; k++)
            if (!strcmp(o->u.source.columns[k].name, nc->name)) oc = &o->u.source.columns[k];
        const char *field = arena_printf(f->mem, "column %s", nc->name);
        if (!oc) added(f, arena_printf(f->mem, "%s: %s", what, field), column_text(f, nc));
        else compare(f, what, field, column_text(f, oc), column_text(f, nc));
    }
    for (int k = 0; k < o->u.source.column_count; k++) {
        const ast_column *oc = &o->u.source.columns[k];
        bool kept = false;
        for (int i = 0; i < n->u.source.column_count && !kept; i++)
            kept = !strcmp(n->u.source.columns[i].name, oc->name);
        if (!kept) removed(f, arena_printf(f->mem, "%s: column %s", what, oc->name));
    }
}

static void diff_indicator(differ *f, const char *what, const ast_decl *o, const ast_decl *n)
{
    compare(f, what, "label", quoted(f, o->u.indicator.label), quoted(f, n->u.indicator.label));
    compare(f, what, "unit", unit_text(f, o), unit_text(f, n));
    compare_keyed(f, what, "formula", old_text(f, o->u.indicator.expr->span),
                  new_text(f, n->u.indicator.expr->span),
                  expr_text(o->u.indicator.expr, f->old_spec->diags, f->mem, true),
                  expr_text(n->u.indicator.expr, f->new_spec->diags, f->mem, true));
    compare(f, what, "note", quoted(f, o->u.indicator.note), quoted(f, n->u.indicator.note));
}

/* Items of a list (gates, expectations) whose order does not matter: report the ones
 * that went and came, spacing aside. */
static void diff_list(differ *f, const char *what, const ptr_vec *olds, const ptr_vec *news)
{
    for (int pass = 0; pass < 2; pass++) {
        const ptr_vec *from = pass ? news : olds, *to = pass ? olds : news;
        for (size_t i = 0; i < from->len; i++) {
            bool kept = false;
            for (size_t k = 0; k < to->len && !kept; k++)
                kept = !strcmp(code_key(f, from->items[i]), code_key(f, to->items[k]));
            if (kept) continue;
            const char *item = arena_printf(f->mem, "%s: %s", what, (const char *)from->items[i]);
            if (pass) added(f, item, "");
            else removed(f, item);
        }
    }
}

static void diff_role(differ *f, const char *what, const ast_decl *o, const ast_decl *n)
{
    const diag_sink *od = f->old_spec->diags, *nd = f->new_spec->diags;
    compare(f, what, "label", quoted(f, o->u.role.label), quoted(f, n->u.role.label));
    /* the period a role is scored in (docs/language.md "Role periods"): the checker set it
     * to the spec's when none is written */
    compare(f, what, "period", ast_grain_name(o->u.role.grain), ast_grain_name(n->u.role.grain));
    for (int i = 0; i < n->u.role.item_count; i++) {
        const ast_role_item *nk = &n->u.role.items[i];
        if (nk->kind != ROLE_KPI) continue;
        const ast_role_item *ok = role_item(o, ROLE_KPI, nk->indicator);
        const char *kpi = arena_printf(f->mem, "%s: kpi %s", what, nk->indicator);
        if (!ok) {
            added(f, kpi, kpi_text(nk, nd, f->mem));
            continue;
        }
        compare(f, kpi, "shared", ok->shared ? "yes" : "no", nk->shared ? "yes" : "no");
        compare_keyed(f, kpi, "weight", ok->weight ? old_text(f, ok->weight->span) : "?",
                      nk->weight ? new_text(f, nk->weight->span) : "?",
                      ok->weight ? expr_text(ok->weight, od, f->mem, true) : "?",
                      nk->weight ? expr_text(nk->weight, nd, f->mem, true) : "?");
        compare_keyed(f, kpi, "target", target_text(ok, od, f->mem, false),
                      target_text(nk, nd, f->mem, false), target_text(ok, od, f->mem, true),
                      target_text(nk, nd, f->mem, true));
        compare_keyed(f, kpi, "points", ok->points ? old_text(f, ok->points->span) : "(the role's)",
                      nk->points ? new_text(f, nk->points->span) : "(the role's)",
                      ok->points ? expr_text(ok->points, od, f->mem, true) : "(the role's)",
                      nk->points ? expr_text(nk->points, nd, f->mem, true) : "(the role's)");
    }
    for (int i = 0; i < o->u.role.item_count; i++) {
        const ast_role_item *ok = &o->u.role.items[i];
        if (ok->kind == ROLE_KPI && !role_item(n, ROLE_KPI, ok->indicator))
            removed(f, arena_printf(f->mem, "%s: kpi %s", what, ok->indicator));
    }
    const ast_role_item *op = role_item(o, ROLE_POINTS, NULL), *np = role_item(n, ROLE_POINTS, NULL);
    compare(f, what, "points", op ? op->scale : "(none)", np ? np->scale : "(none)");
    const ast_role_item *om = role_item(o, ROLE_MISSING, NULL), *nm = role_item(n, ROLE_MISSING, NULL);
    compare(f, what, "missing", om && om->missing_skip ? "skip" : "zero",
            nm && nm->missing_skip ? "skip" : "zero");
    /* gates are a list of conditions: report the ones that went and came */
    ptr_vec old_gates = { 0 }, new_gates = { 0 };
    for (int pass = 0; pass < 2; pass++) {
        const ast_decl *role = pass ? n : o;
        for (int i = 0; i < role->u.role.item_count; i++) {
            const ast_role_item *g = &role->u.role.items[i];
            if (g->kind != ROLE_GATE) continue;
            /* as fmt prints it: a gate fmt re-parenthesised is the same gate */
            const char *text = expr_text(g->expr, pass ? nd : od, f->mem, true);
            ptr_vec_push(f->mem, pass ? &new_gates : &old_gates,
                         (void *)arena_printf(f->mem, "gate %s", text));
        }
    }
    diff_list(f, what, &old_gates, &new_gates);
    compare_keyed(f, what, "grades", role_grades_text(o, od, f->mem, false),
                  role_grades_text(n, nd, f->mem, false), role_grades_text(o, od, f->mem, true),
                  role_grades_text(n, nd, f->mem, true));
    const ast_role_item *ob = role_item(o, ROLE_BONUS, NULL), *nb = role_item(n, ROLE_BONUS, NULL);
    compare_keyed(f, what, "bonus", expr_or_none(ob, od, f->mem, false), expr_or_none(nb, nd, f->mem, false),
                  expr_or_none(ob, od, f->mem, true), expr_or_none(nb, nd, f->mem, true));
}

/* What an added declaration is, in one line. */
static const char *summary(differ *f, const ast_decl *d)
{
    const diag_sink *nd = f->new_spec->diags;
    switch (d->kind) {
    case DECL_INDICATOR:
        return arena_printf(
            f->mem, "%s%s%s = %s", d->u.indicator.label ? quoted(f, d->u.indicator.label) : "",
            d->u.indicator.label ? " " : "", unit_text(f, d), new_text(f, d->u.indicator.expr->span));
    case DECL_SET: return set_text(d, nd, f->mem);
    case DECL_SCALE: return scale_text(d, nd, f->mem);
    case DECL_SOURCE: return quoted(f, d->u.source.path);
    case DECL_POOL: return new_text(f, d->u.pool.amount->span);
    case DECL_GRADES: return grades_text(d->u.grades.table, nd, f->mem, false);
    case DECL_ROLE: {
        size_t kpis = 0;
        for (int i = 0; i < d->u.role.item_count; i++) kpis += d->u.role.items[i].kind == ROLE_KPI;
        return arena_printf(f->mem, "%zu kpi%s", kpis, kpis == 1 ? "" : "s");
    }
    default: return "";
    }
}

static void diff_kind(differ *f, const ptr_vec *olds, const ptr_vec *news)
{
    for (size_t i = 0; i < news->len; i++) {
        const ast_decl *n = news->items[i];
        const ast_decl *o = counterpart(f->old_model, n);
        const char *what = arena_printf(f->mem, "%s %s", chk_kind_word(n->kind), n->name);
        if (!o) {
            added(f, what, summary(f, n));
            continue;
        }
        switch (n->kind) {
        case DECL_SOURCE: diff_columns(f, what, o, n); break;
        case DECL_SET:
            compare_code(f, what, "definition", set_text(o, f->old_spec->diags, f->mem),
                         set_text(n, f->new_spec->diags, f->mem));
            break;
        case DECL_INDICATOR: diff_indicator(f, what, o, n); break;
        case DECL_SCALE:
            compare_code(f, what, "intervals", scale_text(o, f->old_spec->diags, f->mem),
                         scale_text(n, f->new_spec->diags, f->mem));
            break;
        case DECL_POOL:
            compare_keyed(f, what, "amount",
                          diag_span_text(f->old_spec->diags, o->u.pool.amount->span, f->mem),
                          diag_span_text(f->new_spec->diags, n->u.pool.amount->span, f->mem),
                          expr_text(o->u.pool.amount, f->old_spec->diags, f->mem, true),
                          expr_text(n->u.pool.amount, f->new_spec->diags, f->mem, true));
            break;
        case DECL_GRADES:
            compare(f, what, "label", quoted(f, o->u.grades.label), quoted(f, n->u.grades.label));
            compare_keyed(f, what, "table", grades_text(o->u.grades.table, f->old_spec->diags, f->mem, false),
                          grades_text(n->u.grades.table, f->new_spec->diags, f->mem, false),
                          grades_text(o->u.grades.table, f->old_spec->diags, f->mem, true),
                          grades_text(n->u.grades.table, f->new_spec->diags, f->mem, true));
            break;
        default: diff_role(f, what, o, n); break;
        }
    }
    for (size_t i = 0; i < olds->len; i++) {
        const ast_decl *o = olds->items[i];
        if (!counterpart(f->new_model, o))
            removed(f, arena_printf(f->mem, "%s %s", chk_kind_word(o->kind), o->name));
    }
}

/* ---- tests ------------------------------------------------------------------------------ */

/* A test changes no figure, but a reviewer should see one that was weakened or
 * dropped in the same pull request as a definition change. */
static const ast_decl *test_named(const chk_model *m, const char *name)
{
    for (size_t i = 0; i < m->tests.len; i++) {
        const ast_decl *t = m->tests.items[i];
        if (!strcmp(t->name, name)) return t;
    }
    return NULL;
}

static const ast_test_data *test_data_for(const ast_decl *test, const char *source)
{
    for (int i = 0; i < test->u.test.data_count; i++)
        if (!strcmp(test->u.test.data[i].source, source)) return &test->u.test.data[i];
    return NULL;
}

/* Inline rows on one line (` | ` between rows), so every output format shows them. */
static const char *test_data_text(differ *f, const ast_test_data *d)
{
    if (d->path) return arena_printf(f->mem, "from %s", quoted(f, d->path));
    const char *text = "{";
    for (int i = 0; i < d->line_count; i++)
        text = arena_printf(f->mem, "%s%s%s", text, i ? " | " : " ", d->lines[i]);
    return arena_printf(f->mem, "%s }", text);
}

static void diff_test(differ *f, const char *what, const ast_decl *o, const ast_decl *n)
{
    compare(f, what, "period", o->u.test.period ? o->u.test.period : "(none)",
            n->u.test.period ? n->u.test.period : "(none)");
    for (int pass = 0; pass < 2; pass++) {
        const ast_decl *from = pass ? n : o, *to = pass ? o : n;
        for (int i = 0; i < from->u.test.data_count; i++) {
            const ast_test_data *d = &from->u.test.data[i];
            const ast_test_data *other = test_data_for(to, d->source);
            const char *item = arena_printf(f->mem, "%s: data %s", what, d->source);
            if (!other) {
                if (pass) added(f, item, test_data_text(f, d));
                else removed(f, item);
            } else if (pass) {
                compare(f, what, arena_printf(f->mem, "data %s", d->source), test_data_text(f, other),
                        test_data_text(f, d));
            }
        }
    }
    /* expectations are a list, like gates */
    ptr_vec old_expects = { 0 }, new_expects = { 0 };
    for (int i = 0; i < o->u.test.expect_count; i++)
        ptr_vec_push(f->mem, &old_expects, (void *)old_text(f, o->u.test.expects[i].span));
    for (int i = 0; i < n->u.test.expect_count; i++)
        ptr_vec_push(f->mem, &new_expects, (void *)new_text(f, n->u.test.expects[i].span));
    diff_list(f, what, &old_expects, &new_expects);
}

static void diff_tests(differ *f)
{
    for (size_t i = 0; i < f->new_model->tests.len; i++) {
        const ast_decl *n = f->new_model->tests.items[i];
        const ast_decl *o = test_named(f->old_model, n->name);
        const char *what = arena_printf(f->mem, "test %s", quoted(f, n->name));
        if (!o) {
            int count = n->u.test.expect_count;
            added(f, what, arena_printf(f->mem, "%d expectation%s", count, count == 1 ? "" : "s"));
        } else {
            diff_test(f, what, o, n);
        }
    }
    for (size_t i = 0; i < f->old_model->tests.len; i++) {
        const ast_decl *o = f->old_model->tests.items[i];
        if (!test_named(f->new_model, o->name))
            removed(f, arena_printf(f->mem, "test %s", quoted(f, o->name)));
    }
}

size_t diff_definitions(diff_report *r, const ast_spec *old_spec, const chk_model *old_model,
                        const ast_spec *new_spec, const chk_model *new_model)
{
    differ f = { .r = r,
                 .mem = &r->mem,
                 .old_spec = old_spec,
                 .new_spec = new_spec,
                 .old_model = old_model,
                 .new_model = new_model };
    compare(&f, "period", "grain", ast_grain_name(old_model->grain), ast_grain_name(new_model->grain));
    compare(&f, "currency", "code", quoted(&f, old_model->currency), quoted(&f, new_model->currency));
    diff_kind(&f, &old_model->sources, &new_model->sources);
    if (old_model->roster && new_model->roster)
        diff_columns(&f, "staff (the roster)", old_model->roster, new_model->roster);
    diff_kind(&f, &old_model->sets, &new_model->sets);
    diff_kind(&f, &old_model->indicators, &new_model->indicators);
    diff_kind(&f, &old_model->scales, &new_model->scales);
    diff_kind(&f, &old_model->pools, &new_model->pools);
    diff_kind(&f, &old_model->grades, &new_model->grades);
    diff_kind(&f, &old_model->roles, &new_model->roles);
    diff_tests(&f);
    return f.changes;
}

/* ---- what each role can pay ------------------------------------------------------------ */

static const ceil_role *ceiling_of(const ceil_report *c, const char *role)
{
    for (size_t i = 0; i < c->role_count; i++)
        if (!strcmp(c->roles[i].role->name, role)) return &c->roles[i];
    return NULL;
}

static const char *ceiling_end(differ *f, const chk_model *m, const ceil_role *cr, bool high)
{
    char buf[128];
    if (!cr->has_bonus) return "no bonus";
    return arena_printf(f->mem, "%s", ceil_end_text(m, cr, &cr->bonus, high, UNIT_MONEY, buf, sizeof buf));
}

static const char *payout_text(differ *f, const ceil_end *total)
{
    if (total->infinite) return "no limit";
    char buf[DEC_FORMAT_SIZE + 16];
    eval_format_value(eval_num(total->value), UNIT_MONEY, buf, sizeof buf);
    return arena_printf(f->mem, "%s", buf);
}

size_t diff_ceilings(diff_report *r, const ceil_report *old_ceiling, const chk_model *old_model,
                     const ceil_report *new_ceiling, const chk_model *new_model)
{
    differ f = { .r = r, .mem = &r->mem, .old_model = old_model, .new_model = new_model };
    /* roles on one side only are listed with the definitions already */
    for (size_t i = 0; i < new_ceiling->role_count; i++) {
        const ceil_role *n = &new_ceiling->roles[i];
        const ceil_role *o = ceiling_of(old_ceiling, n->role->name);
        if (!o) continue;
        const char *what = arena_printf(f.mem, "ceiling of role %s", n->role->name);
        compare(&f, what, "most per person", ceiling_end(&f, old_model, o, true),
                ceiling_end(&f, new_model, n, true));
        compare(&f, what, "least per person", ceiling_end(&f, old_model, o, false),
                ceiling_end(&f, new_model, n, false));
    }
    if (old_ceiling->roster && new_ceiling->roster)
        compare(&f, "ceiling", "the maximum payout of the roster", payout_text(&f, &old_ceiling->total),
                payout_text(&f, &new_ceiling->total));
    return f.changes;
}

/* ---- results -------------------------------------------------------------------------- */

/* Equal values: null equals null here, unlike in a row condition. */
static bool same_value(eval_value a, eval_value b)
{
    bool ok;
    if (a.kind == VAL_NULL || b.kind == VAL_NULL) return a.kind == b.kind;
    return eval_compare_values(&a, &b, &ok) == 0 && ok;
}

/* The two rosters lined up by staff id, and each side's statements by (period, staff):
 * built once, so a roster of thousands is not searched for every line. */
typedef struct lineup {
    size_t old_count, new_count;
    int *old_of_new;  /* [new staff]: its index in the old roster, or -1 */
    bool *old_in_new; /* [old staff]: on the new roster too */
    const score_statement **old_statement, **new_statement; /* [period * count + staff] */
    const char **old_reason, **new_reason;                  /* why unscored ("not scored" when neither) */
} lineup;

static void index_result(differ *f, const score_result *r, size_t periods, size_t count,
                         const score_statement ***statement, const char ***reason)
{
    size_t cells = periods * count + 1;
    *statement = arena_alloc(f->mem, cells * sizeof **statement);
    *reason = arena_alloc(f->mem, cells * sizeof **reason);
    for (size_t i = 0; i < cells; i++) {
        (*statement)[i] = NULL;
        (*reason)[i] = "not scored";
    }
    for (size_t i = 0; i < r->statement_count; i++)
        (*statement)[r->statements[i].period * count + (size_t)r->statements[i].staff] = &r->statements[i];
    for (size_t i = 0; i < r->unscored_count; i++)
        (*reason)[r->unscored[i].period * count + (size_t)r->unscored[i].staff] =
            score_reason_text(r->unscored[i].reason);
}

/* "id␟role␟n" (n: how many earlier rows of the id have that role): what a roster row is
 * matched by first across the two sides. */
static const char *roster_row_key(differ *f, const eval_staff *roster, size_t i)
{
    const eval_staff *row = &roster[i];
    const char *role = row->role ? row->role : "";
    int n = 0;
    for (int k = row->id_rows > 1 ? row->first_row : -1; k >= 0 && (size_t)k < i; k = roster[k].next_row)
        n += !strcmp(roster[k].role ? roster[k].role : "", role);
    return arena_printf(f->mem, "%s\x1f%s\x1f%d", row->id, role, n);
}

static void line_up(differ *f, lineup *l, const score_result *or_, const score_result *nr, size_t periods)
{
    const eval_staff *oroster = eval_roster(or_->session, &l->old_count);
    const eval_staff *nroster = eval_roster(nr->session, &l->new_count);
    strtab old_ids;
    strtab_init(&old_ids);
    /* a person who changed roles has a row per role: rows are matched by id and role
     * (and, for two rows in one role, their order); a row's key is unique, so the key's
     * number is the old row's index */
    for (size_t i = 0; i < l->old_count; i++) {
        const char *key = roster_row_key(f, oroster, i);
        strtab_intern(&old_ids, key, strlen(key));
    }
    l->old_of_new = arena_alloc(f->mem, (l->new_count + 1) * sizeof *l->old_of_new);
    l->old_in_new = arena_alloc(f->mem, (l->old_count + 1) * sizeof *l->old_in_new);
    memset(l->old_in_new, 0, (l->old_count + 1) * sizeof *l->old_in_new);
    for (size_t i = 0; i < l->new_count; i++) {
        const char *key = roster_row_key(f, nroster, i);
        uint32_t at = strtab_find(&old_ids, key, strlen(key));
        l->old_of_new[i] = at == HMAP_NONE ? -1 : (int)at;
        if (at != HMAP_NONE) l->old_in_new[at] = true;
    }
    /* then by id alone, in roster order: a person whose role the new roster changed */
    for (size_t i = 0; i < l->new_count; i++) {
        if (l->old_of_new[i] >= 0) continue;
        for (size_t o = 0; o < l->old_count; o++)
            if (!l->old_in_new[o] && !strcmp(oroster[o].id, nroster[i].id)) {
                l->old_of_new[i] = (int)o;
                l->old_in_new[o] = true;
                break;
            }
    }
    strtab_free(&old_ids);
    index_result(f, or_, periods, l->old_count, &l->old_statement, &l->old_reason);
    index_result(f, nr, periods, l->new_count, &l->new_statement, &l->new_reason);
}

static void value_moved(differ *f, period_diff *pd, const char *indicator, const char *staff, eval_value a,
                        eval_value b, ast_unit au, ast_unit bu)
{
    if (same_value(a, b)) return;
    value_change *c = arena_alloc(f->mem, sizeof *c);
    /* a text value lives in its session, which the report outlives */
    if (a.kind == VAL_TEXT) a.as.text = arena_printf(f->mem, "%s", a.as.text ? a.as.text : "");
    if (b.kind == VAL_TEXT) b.as.text = arena_printf(f->mem, "%s", b.as.text ? b.as.text : "");
    *c = (value_change){ indicator, staff, a, b, au, bu };
    ptr_vec_push(f->mem, &pd->values, c);
}

static void diff_values(differ *f, period_diff *pd, const lineup *l, eval_session *os, eval_session *ns,
                        size_t p)
{
    size_t count;
    const eval_staff *nroster = eval_roster(ns, &count);
    for (size_t i = 0; i < f->new_model->indicators.len; i++) {
        ast_decl *n = f->new_model->indicators.items[i];
        ast_decl *o = (ast_decl *)counterpart(f->old_model, n);
        if (!o) continue;
        ast_unit ou = o->u.indicator.unit, nu = n->u.indicator.unit;
        const char *name = arena_printf(f->mem, "%s", n->name);
        value_moved(f, pd, name, NULL, eval_indicator_value(os, o, p, -1), eval_indicator_value(ns, n, p, -1),
                    ou, nu);
        if (!o->u.indicator.per_staff || !n->u.indicator.per_staff) continue;
        for (size_t s = 0; s < l->new_count; s++) {
            /* a person's rows share their values: one line per person */
            if (l->old_of_new[s] < 0 || (nroster[s].id_rows > 1 && nroster[s].first_row != (int)s)) continue;
            eval_value a = eval_indicator_value(os, o, p, l->old_of_new[s]);
            eval_value b = eval_indicator_value(ns, n, p, (int)s);
            if (!same_value(a, b))
                value_moved(f, pd, name, arena_printf(f->mem, "%s", nroster[s].id), a, b, ou, nu);
        }
    }
}

static side_statement side_of(differ *f, const score_statement *st, const char *reason)
{
    side_statement s = { .score = eval_null(), .bonus = eval_null() };
    if (!st) {
        s.reason = reason;
        return s;
    }
    s.role = arena_printf(f->mem, "%s", st->role->name);
    s.score = st->score;
    s.bonus = st->bonus;
    s.has_bonus = st->has_bonus;
    if (st->grade.grades && st->grade.settled) s.grade = st->grade.grades->rows[st->grade.grade].name;
    return s;
}

static dec_t bonus_or_zero(eval_value bonus)
{
    return bonus.kind == VAL_NUM ? bonus.as.num : dec_from_int64(0);
}

/* Both scored with the same role and some kpi's achievement fell in another interval of
 * the role's scale. */
static bool crossed_interval(const score_statement *a, const score_statement *b)
{
    if (!a || !b || strcmp(a->role->name, b->role->name) != 0) return false;
    for (size_t i = 0; i < b->kpi_count; i++) {
        const score_kpi *nk = &b->kpis[i];
        for (size_t k = 0; k < a->kpi_count; k++) {
            const score_kpi *ok = &a->kpis[k];
            if (strcmp(ok->item->indicator, nk->item->indicator) != 0) continue;
            if (ok->scale && nk->scale && ok->scale_row != nk->scale_row) return true;
        }
    }
    return false;
}

/* Reports that WHAT in PERIOD left the exact decimal range; returns false. A total is
 * never shown wrong or clipped. */
static bool out_of_range(differ *f, const char *what, const char *period)
{
    kp_span none = { DIAG_NO_FILE, 0, 0 };
    diagnostic *d =
        diag_report(f->errors, DIAG_ERROR, none, "overflow",
                    "diff: the %s in %s leaves the exact decimal range (|value| < 1.7e20)", what, period);
    diag_hint(f->errors, d, "a bonus this large is a mistake in a bonus expression or in the data it reads");
    return false;
}

/* Adds V to *TOTAL; false (after reporting) when the sum leaves the range. */
static bool add_total(differ *f, dec_t *total, dec_t v, const char *what, const char *period)
{
    return dec_add(*total, v, total) == DEC_OK || out_of_range(f, what, period);
}

static role_total *role_named(period_diff *pd, const char *name)
{
    for (size_t i = 0; i < pd->role_count; i++)
        if (!strcmp(pd->roles[i].role, name)) return &pd->roles[i];
    return NULL;
}

/* Per role the staff and bonuses on each side, and the totals. */
static bool sum_bonuses(differ *f, period_diff *pd, const score_result *or_, const score_result *nr, size_t p)
{
    size_t cap = f->old_model->roles.len + f->new_model->roles.len;
    pd->roles = arena_alloc(f->mem, (cap + 1) * sizeof *pd->roles);
    for (int pass = 0; pass < 2; pass++) {
        const ptr_vec *roles = pass ? &f->old_model->roles : &f->new_model->roles;
        for (size_t i = 0; i < roles->len; i++) {
            const ast_decl *role = roles->items[i];
            if (role_named(pd, role->name)) continue;
            pd->roles[pd->role_count++] = (role_total){ .role = arena_printf(f->mem, "%s", role->name) };
        }
    }
    for (int side = 0; side < 2; side++) {
        const score_result *res = side ? nr : or_;
        for (size_t i = 0; i < res->statement_count; i++) {
            const score_statement *st = &res->statements[i];
            if (st->period != p) continue;
            role_total *t = role_named(pd, st->role->name);
            dec_t bonus = bonus_or_zero(st->bonus);
            const char *what = arena_printf(f->mem, "total bonus of role %s", t->role);
            if (side) {
                t->staff_after++;
                if (!add_total(f, &t->bonus_after, bonus, what, pd->label)) return false;
                if (!add_total(f, &pd->total_after, bonus, "total bonus", pd->label)) return false;
            } else {
                t->staff_before++;
                if (!add_total(f, &t->bonus_before, bonus, what, pd->label)) return false;
                if (!add_total(f, &pd->total_before, bonus, "total bonus", pd->label)) return false;
            }
        }
    }
    for (size_t i = 0; i < pd->role_count; i++) {
        role_total *t = &pd->roles[i];
        if (dec_sub(t->bonus_after, t->bonus_before, &t->change) != DEC_OK)
            return out_of_range(f, arena_printf(f->mem, "change of role %s's total bonus", t->role),
                                pd->label);
    }
    return dec_sub(pd->total_after, pd->total_before, &pd->total_change) == DEC_OK ||
           out_of_range(f, "change of the total bonus", pd->label);
}

/* Records the staff member's statement when it moved, and counts what moved. */
static bool person(differ *f, period_diff *pd, const char *id, const char *name, size_t order,
                   const score_statement *a, const char *a_reason, const score_statement *b,
                   const char *b_reason)
{
    bool same_role = a && b && !strcmp(a->role->name, b->role->name);
    bool moved = a || b ? !same_role || !same_value(a->score, b->score) || !same_value(a->bonus, b->bonus)
                        : strcmp(a_reason, b_reason) != 0;
    if (!moved) return true;
    person_change c = { .id = arena_printf(f->mem, "%s", id),
                        .name = name ? arena_printf(f->mem, "%s", name) : NULL,
                        .before = side_of(f, a, a_reason),
                        .after = side_of(f, b, b_reason),
                        .order = order };
    if (dec_sub(bonus_or_zero(c.after.bonus), bonus_or_zero(c.before.bonus), &c.bonus_change) != DEC_OK)
        return out_of_range(f, arena_printf(f->mem, "change of %s's bonus", id), pd->label);
    /* the difference of the scores as shown (2 places), so that 56.67 → 62.01 reads +5.34
     * and not the +5.33 of the unrounded scores */
    dec_t shown_before, shown_after;
    c.score_moved = c.before.score.kind == VAL_NUM && c.after.score.kind == VAL_NUM &&
                    dec_round(c.before.score.as.num, 2, &shown_before) == DEC_OK &&
                    dec_round(c.after.score.as.num, 2, &shown_after) == DEC_OK &&
                    dec_sub(shown_after, shown_before, &c.score_change) == DEC_OK;
    int sign = dec_sign(c.bonus_change);
    pd->gain += sign > 0;
    pd->lose += sign < 0;
    pd->cross_gate += a && b && a->gates_passed != b->gates_passed;
    pd->cross_interval += crossed_interval(a, b);
    pd->become_scored += !a && b;
    pd->become_unscored += a && !b;
    person_change *keep = arena_alloc(f->mem, sizeof *keep);
    *keep = c;
    ptr_vec_push(f->mem, &pd->people, keep);
    return true;
}

/* Largest bonus change first, then largest score change, then roster order. */
static int by_size_of_change(const void *x, const void *y)
{
    const person_change *a = *(person_change *const *)x, *b = *(person_change *const *)y;
    int c = dec_cmp(dec_abs(b->bonus_change), dec_abs(a->bonus_change));
    if (c) return c;
    dec_t sa = a->score_moved ? dec_abs(a->score_change) : dec_from_int64(0);
    dec_t sb = b->score_moved ? dec_abs(b->score_change) : dec_from_int64(0);
    c = dec_cmp(sb, sa);
    if (c) return c;
    return a->order < b->order ? -1 : a->order > b->order;
}

static bool diff_statements(differ *f, period_diff *pd, const lineup *l, const score_result *or_,
                            const score_result *nr, size_t p)
{
    size_t count;
    const eval_staff *oroster = eval_roster(or_->session, &count),
                     *nroster = eval_roster(nr->session, &count);
    for (size_t s = 0; s < l->new_count; s++) {
        int o = l->old_of_new[s];
        const score_statement *a = o >= 0 ? l->old_statement[p * l->old_count + (size_t)o] : NULL;
        const char *a_reason = o >= 0 ? l->old_reason[p * l->old_count + (size_t)o] : "not on the roster";
        if (!person(f, pd, nroster[s].id, nroster[s].name, s, a, a_reason,
                    l->new_statement[p * l->new_count + s], l->new_reason[p * l->new_count + s]))
            return false;
    }
    for (size_t o = 0; o < l->old_count; o++) {
        if (l->old_in_new[o]) continue;
        if (!person(f, pd, oroster[o].id, oroster[o].name, l->new_count + o,
                    l->old_statement[p * l->old_count + o], l->old_reason[p * l->old_count + o], NULL,
                    "not on the roster"))
            return false;
    }
    if (pd->people.len > 1)
        qsort(pd->people.items, pd->people.len, sizeof *pd->people.items, by_size_of_change);
    return true;
}

bool diff_results(diff_report *r, const char *period_text, eval_session *old_session, chk_model *old_model,
                  diag_sink *old_diags, eval_session *new_session, chk_model *new_model, diag_sink *new_diags)
{
    differ f = {
        .r = r, .mem = &r->mem, .old_model = old_model, .new_model = new_model, .errors = new_diags
    };
    r->period_text = arena_printf(&r->mem, "%s", period_text);
    score_result *or_ = score_compute(old_session, old_model, old_diags);
    score_result *nr = score_compute(new_session, new_model, new_diags);
    /* an adjustment that does not fit a side (a kpi NEW removed) is an error there */
    bool adjusted = true;
    if (r->adjustments) {
        adjusted = score_adjust_apply(or_, r->adjustments, old_diags);
        adjusted = score_adjust_apply(nr, r->adjustments, new_diags) && adjusted;
    }
    /* a spec's own bonus total out of range is reported, located, by the scorer: no
     * second message about the same sum, and no diff of figures that do not exist */
    if (!adjusted || or_->total_overflow || nr->total_overflow || or_->pool_failed || nr->pool_failed) {
        score_free(or_);
        score_free(nr);
        return false;
    }
    size_t count;
    const period_t *periods = eval_periods(new_session, &count);
    lineup l;
    line_up(&f, &l, or_, nr, count);
    bool ok = true;
    for (size_t p = 0; p < count && ok; p++) {
        char label[PERIOD_LABEL_SIZE];
        period_format(periods[p], label, sizeof label);
        period_diff *pd = arena_alloc(&r->mem, sizeof *pd);
        memset(pd, 0, sizeof *pd);
        pd->label = arena_printf(&r->mem, "%s", label);
        ptr_vec_push(&r->mem, &r->periods, pd);
        diff_values(&f, pd, &l, old_session, new_session, p);
        ok = sum_bonuses(&f, pd, or_, nr, p) && diff_statements(&f, pd, &l, or_, nr, p);
    }
    score_free(or_);
    score_free(nr);
    return ok;
}

bool diff_differs(const diff_report *r)
{
    if (r->defs.len) return true;
    for (size_t i = 0; i < r->periods.len; i++) {
        const period_diff *pd = r->periods.items[i];
        if (pd->people.len || pd->values.len) return true;
    }
    return false;
}

diff_report *diff_new(const char *old_label, const char *new_label)
{
    diff_report *r = xcalloc(1, sizeof *r);
    arena_init(&r->mem);
    r->old_label = arena_printf(&r->mem, "%s", old_label);
    r->new_label = arena_printf(&r->mem, "%s", new_label);
    return r;
}

void diff_free(diff_report *r)
{
    if (!r) return;
    arena_free(&r->mem);
    free(r);
}

/* ---- writing the report --------------------------------------------------------------- */

typedef struct writer {
    FILE *out;
    arena mem; /* texts made while writing */
    const diff_report *r;
} writer;

static const char *value_text(writer *w, eval_value v, ast_unit unit)
{
    char buf[128];
    eval_format_value(v, unit, buf, sizeof buf);
    return arena_printf(&w->mem, "%s", buf);
}

static const char *money(writer *w, dec_t v)
{
    return value_text(w, eval_num(v), UNIT_MONEY);
}

/* A change with its sign: "+50.00", "-300.00", "0.00". */
static const char *signed_text(writer *w, dec_t v, ast_unit unit)
{
    int sign = dec_sign(v);
    return arena_printf(&w->mem, "%s%s",
                        sign > 0   ? "+"
                        : sign < 0 ? "-"
                                   : "",
                        value_text(w, eval_num(dec_abs(v)), unit));
}

static const char *before_after(writer *w, const char *before, const char *after)
{
    return strcmp(before, after) ? arena_printf(&w->mem, "%s → %s", before, after) : before;
}

static const char *side_role(writer *w, const side_statement *s)
{
    return s->role ? s->role : arena_printf(&w->mem, "unscored (%s)", s->reason);
}

static const char *side_score(writer *w, const side_statement *s)
{
    return s->role ? value_text(w, s->score, UNIT_POINTS) : "—";
}

static const char *side_bonus(writer *w, const side_statement *s)
{
    if (!s->role) return "—";
    return s->has_bonus ? value_text(w, s->bonus, UNIT_MONEY) : "none";
}

static const char *staff_text(writer *w, const person_change *c)
{
    return c->name && *c->name ? arena_printf(&w->mem, "%s %s", c->id, c->name) : c->id;
}

/* A table: a header and rows of NCOL cells; RIGHT marks the columns of numbers. */
typedef struct table {
    size_t ncol;
    const char *const *head;
    const bool *right;
    ptr_vec rows; /* const char *[ncol] */
} table;

static void table_row(writer *w, table *t, const char **cells)
{
    const char **row = arena_alloc(&w->mem, t->ncol * sizeof *row);
    memcpy(row, cells, t->ncol * sizeof *row);
    ptr_vec_push(&w->mem, &t->rows, row);
}

/* A copy of S fit for one line, as `kpic score` shows names: control characters (a line
 * break inside a quoted CSV name) become spaces. */
static const char *one_line(writer *w, const char *s)
{
    char *out = arena_strndup(&w->mem, s, strlen(s));
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = ' ';
    return out;
}

/* Columns aligned by display width (a Chinese character takes two), indented by two. */
static void table_text(writer *w, table *t)
{
    for (size_t i = 0; i < t->rows.len; i++) {
        const char **row = t->rows.items[i];
        for (size_t j = 0; j < t->ncol; j++) row[j] = one_line(w, row[j]);
    }
    size_t width[8] = { 0 };
    for (size_t j = 0; j < t->ncol; j++) width[j] = eval_display_width(t->head[j]);
    for (size_t i = 0; i < t->rows.len; i++) {
        const char **row = t->rows.items[i];
        for (size_t j = 0; j < t->ncol; j++) {
            size_t cw = eval_display_width(row[j]);
            if (cw > width[j]) width[j] = cw;
        }
    }
    for (size_t i = 0; i <= t->rows.len; i++) {
        const char *const *row = i ? (const char *const *)t->rows.items[i - 1] : t->head;
        fputs("  ", w->out);
        for (size_t j = 0; j < t->ncol; j++) {
            if (j) fputs("  ", w->out);
            /* no trailing spaces after the last column */
            eval_write_padded(w->out, row[j], j + 1 < t->ncol || t->right[j] ? width[j] : 0, t->right[j]);
        }
        fputc('\n', w->out);
    }
}

/* A Markdown table, every cell escaped (a '|' in a name or label cannot break it). */
static void table_md(writer *w, const table *t)
{
    for (size_t i = 0; i <= t->rows.len + 1; i++) {
        for (size_t j = 0; j < t->ncol; j++) {
            fputs(j ? " | " : "| ", w->out);
            if (i == 1) fputs(t->right[j] ? "---:" : "---", w->out);
            else fputs(markup_md(&w->mem, i ? ((const char **)t->rows.items[i - 2])[j] : t->head[j]), w->out);
        }
        fputs(" |\n", w->out);
    }
}

static void role_table(writer *w, const period_diff *pd, table *t)
{
    static const char *const head[] = { "role", "staff", "bonus before", "bonus after", "change" };
    static const bool right[] = { false, true, true, true, true };
    *t = (table){ 5, head, right, { 0 } };
    size_t staff_before = 0, staff_after = 0;
    for (size_t i = 0; i < pd->role_count; i++) {
        const role_total *rt = &pd->roles[i];
        staff_before += rt->staff_before;
        staff_after += rt->staff_after;
        if (!rt->staff_before && !rt->staff_after) continue;
        const char *cells[] = { rt->role,
                                before_after(w, arena_printf(&w->mem, "%zu", rt->staff_before),
                                             arena_printf(&w->mem, "%zu", rt->staff_after)),
                                money(w, rt->bonus_before), money(w, rt->bonus_after),
                                signed_text(w, rt->change, UNIT_MONEY) };
        table_row(w, t, cells);
    }
    const char *total[] = { "total",
                            before_after(w, arena_printf(&w->mem, "%zu", staff_before),
                                         arena_printf(&w->mem, "%zu", staff_after)),
                            money(w, pd->total_before), money(w, pd->total_after),
                            signed_text(w, pd->total_change, UNIT_MONEY) };
    table_row(w, t, total);
}

static void staff_table(writer *w, const period_diff *pd, table *t)
{
    static const char *const head[] = { "staff", "role", "score", "Δ score", "bonus", "Δ bonus" };
    static const bool right[] = { false, false, true, true, true, true };
    /* with grades on either side, a grade column after the score: a quota that moved a
     * member from B to A shows as B → A (a spec without grades keeps its columns) */
    static const char *const graded_head[] = { "staff", "role",  "score",  "Δ score",
                                               "grade", "bonus", "Δ bonus" };
    static const bool graded_right[] = { false, false, true, true, false, true, true };
    bool graded = false;
    for (size_t i = 0; i < pd->people.len && !graded; i++) {
        const person_change *c = pd->people.items[i];
        graded = c->before.grade || c->after.grade;
    }
    *t = graded ? (table){ 7, graded_head, graded_right, { 0 } } : (table){ 6, head, right, { 0 } };
    for (size_t i = 0; i < pd->people.len; i++) {
        const person_change *c = pd->people.items[i];
        const char *grade =
            before_after(w, c->before.grade ? c->before.grade : "—", c->after.grade ? c->after.grade : "—");
        const char *cells[] = { staff_text(w, c),
                                before_after(w, side_role(w, &c->before), side_role(w, &c->after)),
                                before_after(w, side_score(w, &c->before), side_score(w, &c->after)),
                                c->score_moved ? signed_text(w, c->score_change, UNIT_POINTS) : "",
                                before_after(w, side_bonus(w, &c->before), side_bonus(w, &c->after)),
                                signed_text(w, c->bonus_change, UNIT_MONEY) };
        const char *graded_cells[] = { cells[0], cells[1], cells[2], cells[3], grade, cells[4], cells[5] };
        table_row(w, t, graded ? graded_cells : cells);
    }
}

static void values_table(writer *w, const period_diff *pd, table *t)
{
    static const char *const head[] = { "indicator", "staff", "before", "after" };
    static const bool right[] = { false, false, true, true };
    *t = (table){ 4, head, right, { 0 } };
    for (size_t i = 0; i < pd->values.len; i++) {
        const value_change *c = pd->values.items[i];
        const char *cells[] = { c->indicator, c->staff ? c->staff : "(total)",
                                value_text(w, c->before, c->before_unit),
                                value_text(w, c->after, c->after_unit) };
        table_row(w, t, cells);
    }
}

static const char *people_counts(writer *w, const period_diff *pd)
{
    return arena_printf(
        &w->mem,
        "%zu gain, %zu lose, %zu cross a gate, %zu cross a scale interval, %zu become scored, "
        "%zu become unscored",
        pd->gain, pd->lose, pd->cross_gate, pd->cross_interval, pd->become_scored, pd->become_unscored);
}

/* What a period without a moved statement says, explicitly. */
static const char *no_statement(writer *w, const period_diff *pd)
{
    return arena_printf(&w->mem, "changes no statement in %s%s", pd->label,
                        pd->values.len ? "" : ", nor any indicator value");
}

/* One difference of the definitions as the text lines of the original `kpic diff`:
 * "WHAT: FIELD BEFORE → AFTER", or the two values on -/+ lines of their own when long;
 * "+ WHAT: DETAIL", "- WHAT". INDENT goes before each line, SUB before the -/+ lines. */
static void def_line(FILE *out, const def_change *c, const char *indent, const char *sub)
{
    if (c->op == '+') fprintf(out, "%s+ %s%s%s\n", indent, c->what, *c->before ? ": " : "", c->before);
    else if (c->op == '-') fprintf(out, "%s- %s\n", indent, c->what);
    else if (strlen(c->before) + strlen(c->after) <= 60)
        fprintf(out, "%s%s: %s %s → %s\n", indent, c->what, c->field, c->before, c->after);
    else fprintf(out, "%s%s: %s\n%s- %s\n%s+ %s\n", indent, c->what, c->field, sub, c->before, sub, c->after);
}

static void render_text(writer *w)
{
    const diff_report *r = w->r;
    fprintf(w->out, "%s → %s\n", r->old_label, r->new_label);
    for (size_t p = 0; p < r->periods.len; p++) {
        const period_diff *pd = r->periods.items[p];
        table t;
        fprintf(w->out, "\nimpact in %s:\n", pd->label);
        fprintf(w->out, "  total bonus %s → %s (%s)\n", money(w, pd->total_before), money(w, pd->total_after),
                signed_text(w, pd->total_change, UNIT_MONEY));
        role_table(w, pd, &t);
        table_text(w, &t);
        if (!pd->people.len) {
            fprintf(w->out, "  %s\n", no_statement(w, pd));
        } else {
            fprintf(w->out, "  people: %s\n", people_counts(w, pd));
            fprintf(w->out, "\nstaff in %s, largest change first:\n", pd->label);
            staff_table(w, pd, &t);
            table_text(w, &t);
        }
        if (pd->values.len) {
            fprintf(w->out, "\nindicator values in %s:\n", pd->label);
            values_table(w, pd, &t);
            table_text(w, &t);
        }
    }
    fputs("\ndefinitions:\n", w->out);
    for (size_t i = 0; i < r->defs.len; i++) def_line(w->out, r->defs.items[i], "  ", "      ");
    if (!r->defs.len) fputs("  no differences\n", w->out);
}

/* A code fence longer than any run of backticks in the definitions, so that no label or
 * note can close it early. */
static const char *fence(writer *w)
{
    size_t longest = 0;
    for (size_t i = 0; i < w->r->defs.len; i++) {
        const def_change *c = w->r->defs.items[i];
        const char *texts[] = { c->what, c->field, c->before, c->after };
        for (size_t k = 0; k < 4; k++) {
            size_t run = 0;
            for (const char *s = texts[k]; s && *s; s++) {
                run = *s == '`' ? run + 1 : 0;
                if (run > longest) longest = run;
            }
        }
    }
    size_t n = longest < 3 ? 3 : longest + 1;
    char *f = arena_alloc(&w->mem, n + 1);
    memset(f, '`', n);
    f[n] = '\0';
    return f;
}

static void render_md(writer *w)
{
    const diff_report *r = w->r;
    fprintf(w->out, "### kpic diff: %s → %s\n", markup_md(&w->mem, r->old_label),
            markup_md(&w->mem, r->new_label));
    for (size_t p = 0; p < r->periods.len; p++) {
        const period_diff *pd = r->periods.items[p];
        table t;
        fprintf(w->out, "\n#### Impact in %s\n\n", pd->label);
        fprintf(w->out, "Total bonus: **%s → %s (%s)**\n\n", money(w, pd->total_before),
                money(w, pd->total_after), signed_text(w, pd->total_change, UNIT_MONEY));
        role_table(w, pd, &t);
        table_md(w, &t);
        if (!pd->people.len) {
            fprintf(w->out, "\nThe new spec %s.\n", no_statement(w, pd));
        } else {
            fprintf(w->out, "\nPeople: %s.\n", people_counts(w, pd));
            fprintf(
                w->out,
                "\n<details><summary>Staff whose statement changed in %s (%zu), largest change first</summary>\n\n",
                pd->label, pd->people.len);
            staff_table(w, pd, &t);
            table_md(w, &t);
            fputs("\n</details>\n", w->out);
        }
        if (pd->values.len) {
            fprintf(w->out, "\n<details><summary>Indicator values that changed in %s (%zu)</summary>\n\n",
                    pd->label, pd->values.len);
            values_table(w, pd, &t);
            table_md(w, &t);
            fputs("\n</details>\n", w->out);
        }
    }
    if (!r->defs.len) {
        fputs("\nDefinitions: no differences.\n", w->out);
        return;
    }
    const char *f = fence(w);
    fprintf(w->out, "\n<details><summary>Definitions (%zu change%s)</summary>\n\n%sdiff\n", r->defs.len,
            r->defs.len == 1 ? "" : "s", f);
    for (size_t i = 0; i < r->defs.len; i++) def_line(w->out, r->defs.items[i], "", "");
    fprintf(w->out, "%s\n\n</details>\n", f);
}

/* ---- JSON ---- */

static void json_dec(writer *w, dec_t v, unsigned places, bool keep)
{
    json_write_decimal(w->out, v, places, keep);
}

static void json_money(writer *w, dec_t v)
{
    json_dec(w, v, 2, true);
}

/* A value as a JSON number: money to the cent, anything else exactly; null for null. */
static void json_value(writer *w, eval_value v, ast_unit unit)
{
    if (v.kind == VAL_NUM) json_dec(w, v.as.num, unit == UNIT_MONEY ? 2 : DEC_PLACES, unit == UNIT_MONEY);
    else if (v.kind == VAL_NULL) fputs("null", w->out);
    else json_write_string(w->out, value_text(w, v, unit));
}

static void json_opt_string(writer *w, const char *s)
{
    if (s) json_write_string(w->out, s);
    else fputs("null", w->out);
}

static void json_side(writer *w, const side_statement *s)
{
    fputs("{\"role\": ", w->out);
    json_opt_string(w, s->role);
    fputs(", \"unscored\": ", w->out);
    json_opt_string(w, s->role ? NULL : s->reason);
    fputs(", \"score\": ", w->out);
    if (s->score.kind == VAL_NUM) json_dec(w, s->score.as.num, 2, false);
    else fputs("null", w->out);
    fputs(", \"bonus\": ", w->out);
    if (s->bonus.kind == VAL_NUM) json_money(w, s->bonus.as.num);
    else fputs("null", w->out);
    if (s->grade) {
        fputs(", \"grade\": ", w->out);
        json_opt_string(w, s->grade);
    }
    fputs("}", w->out);
}

static void json_definitions(writer *w)
{
    fputs("  \"definitions\": [", w->out);
    for (size_t i = 0; i < w->r->defs.len; i++) {
        const def_change *c = w->r->defs.items[i];
        fputs(i ? ",\n    {\"change\": " : "\n    {\"change\": ", w->out);
        json_write_string(w->out, c->op == '+' ? "added" : c->op == '-' ? "removed" : "changed");
        fputs(", \"what\": ", w->out);
        json_write_string(w->out, c->what);
        if (c->op == '~') {
            fputs(", \"field\": ", w->out);
            json_write_string(w->out, c->field);
            fputs(", \"before\": ", w->out);
            json_write_string(w->out, c->before);
            fputs(", \"after\": ", w->out);
            json_write_string(w->out, c->after);
        } else if (c->op == '+') {
            fputs(", \"detail\": ", w->out);
            json_write_string(w->out, c->before);
        }
        fputs("}", w->out);
    }
    fputs(w->r->defs.len ? "\n  ]" : "]", w->out);
}

static void json_period(writer *w, const period_diff *pd)
{
    FILE *out = w->out;
    fputs("    {\"period\": ", out);
    json_write_string(out, pd->label);
    fputs(",\n     \"total_bonus\": {\"before\": ", out);
    json_money(w, pd->total_before);
    fputs(", \"after\": ", out);
    json_money(w, pd->total_after);
    fputs(", \"change\": ", out);
    json_money(w, pd->total_change);
    fputs("},\n     \"roles\": [", out);
    for (size_t i = 0; i < pd->role_count; i++) {
        const role_total *t = &pd->roles[i];
        fputs(i ? ",\n       {\"role\": " : "\n       {\"role\": ", out);
        json_write_string(out, t->role);
        fprintf(out, ", \"staff_before\": %zu, \"staff_after\": %zu, \"bonus_before\": ", t->staff_before,
                t->staff_after);
        json_money(w, t->bonus_before);
        fputs(", \"bonus_after\": ", out);
        json_money(w, t->bonus_after);
        fputs(", \"change\": ", out);
        json_money(w, t->change);
        fputs("}", out);
    }
    fprintf(
        out,
        "],\n     \"people\": {\"gain\": %zu, \"lose\": %zu, \"cross_gate\": %zu, \"cross_interval\": %zu, "
        "\"become_scored\": %zu, \"become_unscored\": %zu},\n",
        pd->gain, pd->lose, pd->cross_gate, pd->cross_interval, pd->become_scored, pd->become_unscored);
    fprintf(out, "     \"changes_statements\": %s,\n     \"staff\": [", pd->people.len ? "true" : "false");
    for (size_t i = 0; i < pd->people.len; i++) {
        const person_change *c = pd->people.items[i];
        fputs(i ? ",\n       {\"id\": " : "\n       {\"id\": ", out);
        json_write_string(out, c->id);
        fputs(", \"name\": ", out);
        json_opt_string(w, c->name);
        fputs(",\n        \"before\": ", out);
        json_side(w, &c->before);
        fputs(",\n        \"after\": ", out);
        json_side(w, &c->after);
        fputs(",\n        \"score_change\": ", out);
        if (c->score_moved) json_dec(w, c->score_change, 2, false);
        else fputs("null", out);
        fputs(", \"bonus_change\": ", out);
        json_money(w, c->bonus_change);
        fputs("}", out);
    }
    fputs("],\n     \"indicator_values\": [", out);
    for (size_t i = 0; i < pd->values.len; i++) {
        const value_change *c = pd->values.items[i];
        fputs(i ? ",\n       {\"indicator\": " : "\n       {\"indicator\": ", out);
        json_write_string(out, c->indicator);
        fputs(", \"staff\": ", out);
        json_opt_string(w, c->staff);
        fputs(", \"before\": ", out);
        json_value(w, c->before, c->before_unit);
        fputs(", \"after\": ", out);
        json_value(w, c->after, c->after_unit);
        fputs("}", out);
    }
    fputs("]}", out);
}

static void render_json(writer *w)
{
    const diff_report *r = w->r;
    fputs("{\n  \"old\": ", w->out);
    json_write_string(w->out, r->old_label);
    fputs(",\n  \"new\": ", w->out);
    json_write_string(w->out, r->new_label);
    fputs(",\n  \"period\": ", w->out);
    json_opt_string(w, r->period_text);
    fprintf(w->out, ",\n  \"differs\": %s,\n", diff_differs(r) ? "true" : "false");
    json_definitions(w);
    fputs(",\n  \"periods\": [", w->out);
    for (size_t p = 0; p < r->periods.len; p++) {
        fputs(p ? ",\n" : "\n", w->out);
        json_period(w, r->periods.items[p]);
    }
    fputs(r->periods.len ? "\n  ]\n}\n" : "]\n}\n", w->out);
}

char *diff_render(const diff_report *r, diff_format format, size_t *len)
{
    char *text = NULL;
    size_t size = 0;
    writer w = { .out = xopen_memstream(&text, &size), .r = r };
    arena_init(&w.mem);
    if (format == DIFF_FORMAT_JSON) render_json(&w);
    else if (format == DIFF_FORMAT_MD) render_md(&w);
    else render_text(&w);
    xclose_memstream(w.out);
    arena_free(&w.mem);
    *len = size;
    return text;
}

/* ---- a spec from a git revision, or from stdin -------------------------------------- */

bool diff_is_revision_path(const char *arg)
{
    const char *colon = strchr(arg, ':');
    if (!colon || colon == arg || !colon[1]) return false;
    struct stat st;
    return stat(arg, &st) != 0;
}

/* Runs git with ARGV (no shell: the revision and path are arguments, never parsed as
 * commands) and returns its stdout, malloc'd and NUL-terminated, when it exits 0; NULL
 * otherwise. Its stderr is dropped: every failure gets kpic's own message. */
static char *run_git(const char *const *argv, size_t *len)
{
    int out[2];
    if (pipe(out) != 0) return NULL;
    pid_t pid = fork();
    if (pid < 0) {
        close(out[0]);
        close(out[1]);
        return NULL;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, STDIN_FILENO);
            dup2(null, STDERR_FILENO);
        }
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        execvp("git", (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    size_t cap = 4096, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (n + 1 >= cap) buf = xrealloc(buf, cap *= 2);
        ssize_t got = read(out[0], buf + n, cap - n - 1);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        n += (size_t)got;
    }
    close(out[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

/* The first line of a git answer, without its line break. */
static char *git_line(const char *const *argv)
{
    char *text = run_git(argv, NULL);
    if (text) text[strcspn(text, "\n")] = '\0';
    return text;
}

/* PATH (with '/' separators) with "." and empty segments dropped and ".." applied;
 * NULL when a ".." climbs above its start. Allocated in MEM. */
static char *normal_path(arena *mem, const char *path)
{
    char *out = arena_alloc(mem, strlen(path) + 1);
    size_t n = 0;
    for (const char *p = path; *p;) {
        size_t seg = strcspn(p, "/");
        if (seg == 2 && p[0] == '.' && p[1] == '.') {
            if (n == 0) return NULL;
            while (n > 0 && out[n - 1] != '/') n--;
            if (n > 0) n--;
        } else if (seg && !(seg == 1 && p[0] == '.')) {
            if (n) out[n++] = '/';
            memcpy(out + n, p, seg);
            n += seg;
        }
        p += seg;
        while (*p == '/') p++;
    }
    out[n] = '\0';
    return out;
}

/* Where a revision's files are read from. */
typedef struct revision {
    arena mem;
    const char *name;   /* as the user wrote it, for messages */
    char *commit;       /* the full id it stood for when kpic started */
    char *root;         /* the repository's top folder, absolute */
    const char *prefix; /* the current folder under the root: "" or "a/b/" */
    char why[512];      /* the last read failure */
} revision;

/* PATH as the loader names it (relative to the current folder, or absolute) as a path
 * from the repository root, or NULL when it lies outside the repository. */
static const char *root_relative(revision *rev, const char *path)
{
    size_t root_len = strlen(rev->root);
    if (path[0] == '/') {
        if (strncmp(path, rev->root, root_len) != 0 || path[root_len] != '/') return NULL;
        return normal_path(&rev->mem, path + root_len + 1);
    }
    return normal_path(&rev->mem, arena_printf(&rev->mem, "%s%s", rev->prefix, path));
}

static char *read_from_revision(void *ctx, const char *path, size_t *len, const char **why)
{
    revision *rev = ctx;
    const char *rel = root_relative(rev, path);
    if (!rel || !*rel) {
        snprintf(rev->why, sizeof rev->why, "it is outside the git repository of revision %s", rev->name);
        *why = rev->why;
        return NULL;
    }
    const char *object = arena_printf(&rev->mem, "%s:%s", rev->commit, rel);
    const char *argv[] = { "git", "-C", rev->root, "cat-file", "blob", object, NULL };
    char *text = run_git(argv, len);
    if (!text) {
        snprintf(rev->why, sizeof rev->why, "there is no file '%s' in revision %s", rel, rev->name);
        *why = rev->why;
    }
    return text;
}

ast_spec *diff_load_revision(diag_sink *diags, const char *arg, const ast_load_options *options, char **why)
{
    const char *colon = strchr(arg, ':');
    revision rev = { .why = "" };
    arena_init(&rev.mem);
    ast_spec *spec = NULL;
    *why = NULL;
    rev.name = arena_strndup(&rev.mem, arg, (size_t)(colon - arg));
    const char *path = colon + 1;
    const char *top[] = { "git", "rev-parse", "--show-toplevel", NULL };
    const char *prefix[] = { "git", "rev-parse", "--show-prefix", NULL };
    rev.root = git_line(top);
    char *cwd_prefix = rev.root ? git_line(prefix) : NULL;
    if (!rev.root || !cwd_prefix) {
        *why = xstrdup("REV:PATH reads a spec from a git revision, but the current folder is not in a git "
                       "repository (or git cannot be run)");
        goto done;
    }
    rev.prefix = arena_printf(&rev.mem, "%s", cwd_prefix);
    /* a revision that starts with '-' would be read by git as an option */
    const char *commit_of = arena_printf(&rev.mem, "%s^{commit}", rev.name);
    const char *verify[] = { "git", "rev-parse", "--verify", "--quiet", commit_of, NULL };
    rev.commit = rev.name[0] == '-' ? NULL : git_line(verify);
    if (!rev.commit) {
        size_t n = strlen(rev.name) + 128;
        *why = xmalloc(n);
        snprintf(*why, n,
                 "'%s' is no revision of the git repository here (try a branch, a tag or a commit id)",
                 rev.name);
        goto done;
    }
    /* as in `git show REV:PATH`: from the root, or from here with ./ or ../ */
    bool from_here =
        !strncmp(path, "./", 2) || !strncmp(path, "../", 3) || !strcmp(path, ".") || !strcmp(path, "..");
    const char *rel =
        normal_path(&rev.mem, from_here ? arena_printf(&rev.mem, "%s%s", rev.prefix, path) : path);
    if (!rel || !*rel) {
        size_t n = strlen(path) + 64;
        *why = xmalloc(n);
        snprintf(*why, n, "'%s' is outside the git repository", path);
        goto done;
    }
    /* the loader's name for it: the same file in the working tree, from here */
    size_t plen = strlen(rev.prefix);
    const char *local;
    if (!strncmp(rel, rev.prefix, plen)) {
        local = rel + plen;
    } else {
        local = rel;
        for (const char *p = rev.prefix; *p; p++)
            if (*p == '/') local = arena_printf(&rev.mem, "../%s", local);
    }
    ast_load_options from_git = { 0 };
    if (options) from_git = *options;
    from_git.read = read_from_revision;
    from_git.read_ctx = &rev;
    spec = ast_load_spec_with(diags, local, &from_git);
done:
    free(rev.root);
    free(cwd_prefix);
    free(rev.commit);
    arena_free(&rev.mem);
    return spec;
}

ast_spec *diff_load_stdin(diag_sink *diags)
{
    size_t cap = 4096, n = 0;
    char *text = xmalloc(cap);
    for (;;) {
        if (n + 1 >= cap) text = xrealloc(text, cap *= 2);
        size_t got = fread(text + n, 1, cap - n - 1, stdin);
        n += got;
        if (got == 0) break;
    }
    if (ferror(stdin)) {
        free(text);
        kp_span none = { DIAG_NO_FILE, 0, 0 };
        diag_report(diags, DIAG_ERROR, none, "io", "cannot read the spec from stdin: %s", strerror(errno));
        return NULL;
    }
    text[n] = '\0';
    return ast_load_spec_file(diags, diag_add_file(diags, "<stdin>", text, n));
}
