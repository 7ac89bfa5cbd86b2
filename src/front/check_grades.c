/* check_grades.c — the checks of a forced distribution (docs/language.md §9.4, §10.14):
 * a grades table's rows (names, the order of `top`, `next` and `rest`, quotas that add
 * up to at most 100%, factors on every grade or on none, each a number 0 or more), a
 * role's `grades` line (one per role, a declared table when it names one), and the
 * declared tables nobody ranks on.
 */
#include "check_internal.h"

#include <string.h>
#include <strings.h>

static bool is_number_literal(const ast_expr *e)
{
    if (e->kind == EX_UNARY && e->u.op.op == OP_NEG) e = e->u.op.lhs;
    return e->kind == EX_NUMBER || e->kind == EX_PERCENT;
}

static const char *literal_kind(const ast_expr *e)
{
    switch (e->kind) {
    case EX_STRING: return "text";
    case EX_DATE: return "a date";
    case EX_INF: return "infinite";
    default: return "not a number";
    }
}

/* The quota of ROW as an exact decimal fraction; false after an error. */
static bool check_quota(chk_ctx *c, const char *owner, const ast_grade *row, chk_exact *out)
{
    const ast_expr *q = row->quota;
    if (!is_number_literal(q) || !chk_exact_literal(c->mem, q, out) || out->inf) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, q->span, "grade-quota",
                                    "the quota of grade '%s' in %s must be a percentage, but '%s' is %s",
                                    row->name, owner, chk_snippet(c, q->span), literal_kind(q));
        diag_hint(c->diags, d, "e.g. '%s %s 20%%': the share of the ranked members the grade takes",
                  row->name, diag_span_text(c->diags, row->word_span, c->mem));
        return false;
    }
    if (!chk_literal_number(c, q)) return false;
    chk_exact zero;
    chk_exact_parse(c->mem, "0", false, &zero);
    if (out->neg || chk_exact_cmp(*out, zero) == 0) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, q->span, "grade-quota",
                                    "the quota of grade '%s' in %s is %s: the grade would never be given",
                                    row->name, owner, chk_snippet(c, q->span));
        diag_hint(c->diags, d, "a quota is a share above 0%%, e.g. 20%%; remove the grade if it is not used");
        return false;
    }
    return true;
}

/* The factor of ROW: a number or percentage, 0 or more. */
static bool check_factor(chk_ctx *c, const char *owner, const ast_grade *row)
{
    const ast_expr *f = row->factor;
    chk_exact v;
    if (!is_number_literal(f) || !chk_exact_literal(c->mem, f, &v) || v.inf) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, f->span, "grade-factor",
                                    "the factor of grade '%s' in %s must be a number, but '%s' is %s",
                                    row->name, owner, chk_snippet(c, f->span), literal_kind(f));
        diag_hint(c->diags, d,
                  "a factor multiplies a bonus: write 'factor 1.5' or 'factor 150%%' (0 pays nothing)");
        return false;
    }
    if (!chk_literal_number(c, f)) return false;
    if (v.neg) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, f->span, "grade-factor",
                                    "the factor of grade '%s' in %s is negative (%s)", row->name, owner,
                                    chk_snippet(c, f->span));
        diag_hint(
            c->diags, d,
            "a bonus times a negative factor would take money from the member; 'factor 0' pays nothing");
        return false;
    }
    return true;
}

void chk_grades_table(chk_ctx *c, ast_grades *g, const char *owner)
{
    bool ok = true;
    if (g->row_count < 2) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, g->span, "grade-count",
                                    "%s has %d grade%s; a forced distribution needs at least two", owner,
                                    g->row_count, g->row_count == 1 ? "" : "s");
        diag_hint(c->diags, d,
                  "e.g. grades { A top 20%% factor 1.5  B next 70%% factor 1  C rest factor 0.5 }");
        ok = false;
    }
    chk_exact sum;
    chk_exact_parse(c->mem, "0", false, &sum);
    bool sum_known = true;
    int factors = 0;
    const ast_grade *without_factor = NULL;
    for (int i = 0; i < g->row_count; i++) {
        const ast_grade *row = &g->rows[i];
        for (int j = 0; j < i; j++) {
            if (strcmp(g->rows[j].name, row->name)) continue;
            diagnostic *d = diag_report(c->diags, DIAG_ERROR, row->name_span, "duplicate-grade",
                                        "grade '%s' is named twice in %s", row->name, owner);
            diag_note(c->diags, d, g->rows[j].name_span, "first named here");
            diag_hint(c->diags, d, "each grade has its own name: A, B, C or 优秀, 良好, 合格");
            ok = false;
            break;
        }
        bool last = i + 1 == g->row_count;
        const char *word = diag_span_text(c->diags, row->word_span, c->mem);
        if (row->rest && !last) {
            diagnostic *d =
                diag_report(c->diags, DIAG_ERROR, row->word_span, "grade-order",
                            "grade '%s' is the rest, but grades follow it in %s", row->name, owner);
            diag_hint(c->diags, d,
                      "the rest takes everyone below the grades above it, so it is the last grade");
            ok = false;
        } else if (!row->rest && last && g->row_count >= 2) {
            diagnostic *d =
                diag_report(c->diags, DIAG_ERROR, row->word_span, "grade-order",
                            "the last grade of %s, '%s', is not the rest, so members below the quotas "
                            "would have no grade",
                            owner, row->name);
            diag_hint(c->diags, d,
                      "write '%s rest' (everyone below the grades above), or add a last grade such as "
                      "'C rest'",
                      row->name);
            ok = false;
        } else if (i == 0 && !strcmp(word, "next")) {
            diagnostic *d =
                diag_report(c->diags, DIAG_ERROR, row->word_span, "grade-order",
                            "the first grade of %s says 'next', but no grade comes before it", owner);
            diag_hint(c->diags, d, "write '%s top …' for the first grade", row->name);
            ok = false;
        } else if (i > 0 && !strcmp(word, "top")) {
            /* `B top 90%` could mean the top 90% together with A: a quota counted twice
             * changes who gets which grade, so the reading is never guessed */
            diagnostic *d =
                diag_report(c->diags, DIAG_ERROR, row->word_span, "grade-order",
                            "grade '%s' says 'top', but only the first grade does: the quotas follow "
                            "each other",
                            row->name);
            diag_hint(c->diags, d,
                      "write '%s next %s': its own share after the grades above (A top 20%%, B next "
                      "70%% is 20%% A and 70%% B)",
                      row->name, row->quota ? chk_snippet(c, row->quota->span) : "20%");
            ok = false;
        }
        if (row->quota) {
            chk_exact q;
            if (check_quota(c, owner, row, &q)) sum = chk_exact_add(c->mem, sum, q);
            else ok = sum_known = false;
        } else if (!row->rest) {
            ok = sum_known = false; /* reported by the parser */
        }
        if (row->factor) {
            factors++;
            ok = check_factor(c, owner, row) && ok;
        } else if (!without_factor) {
            without_factor = row;
        }
    }
    if (factors > 0 && without_factor) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, without_factor->name_span, "grade-factor",
                                    "grade '%s' of %s has no factor, but other grades have one",
                                    without_factor->name, owner);
        diag_hint(c->diags, d,
                  "give every grade a factor ('%s factor 0' pays nothing), so that grade_factor has a value "
                  "for everyone",
                  without_factor->name);
        ok = false;
    }
    chk_exact hundred;
    chk_exact_parse(c->mem, "100", true, &hundred);
    if (sum_known && g->row_count >= 2) {
        int cmp = chk_exact_cmp(sum, hundred);
        const ast_grade *rest = &g->rows[g->row_count - 1];
        if (cmp > 0) {
            diagnostic *d = diag_report(c->diags, DIAG_ERROR, g->span, "grade-quotas",
                                        "the quotas of %s add up to %s%%, more than 100%%", owner,
                                        chk_exact_format(c->mem, sum, 2));
            diag_hint(c->diags, d,
                      "each quota is a grade's own share after the grades above it; together they are at "
                      "most 100%%, and the last grade (the rest) takes what is left");
            ok = false;
        } else if (cmp == 0 && rest->rest) {
            diagnostic *d =
                diag_report(c->diags, DIAG_WARNING, rest->name_span, "empty-grade",
                            "the quotas of %s add up to 100%%, so grade '%s' (the rest) is given only to "
                            "members who are not ranked",
                            owner, rest->name);
            diag_hint(c->diags, d,
                      "lower a quota to leave room for '%s', or drop the last quota and make its grade "
                      "the rest",
                      rest->name);
        }
    }
    g->valid = ok;
    g->has_factors = factors == g->row_count && factors > 0;
}

void chk_grades_decl(chk_ctx *c, ast_decl *d)
{
    chk_grades_table(c, d->u.grades.table, arena_printf(c->mem, "grades '%s'", d->name));
}

void chk_grades_unused(chk_ctx *c, ast_decl *d)
{
    if (d->u.grades.table->roles.len) return;
    diagnostic *r = diag_report(c->diags, DIAG_WARNING, d->name_span, "unused-grades",
                                "grades '%s' is not used by any role: nobody is ranked on it", d->name);
    diag_hint(c->diags, r, "give a role the line 'grades %s', or remove the table", d->name);
}

void chk_role_grades(chk_ctx *c, ast_decl *role, ast_role_item *it)
{
    if (it->grades) {
        chk_grades_table(c, it->grades, arena_printf(c->mem, "the grades of role '%s'", role->name));
    } else {
        chk_entry *en = chk_lookup(c, it->grades_name);
        if (!en) {
            diagnostic *r = diag_report(c->diags, DIAG_ERROR, it->grades_name_span, "undefined-name",
                                        "unknown grades '%s'", it->grades_name);
            const char *near = chk_closest(c, it->grades_name, (const char *const *)c->cand_grades.items,
                                           c->cand_grades.len);
            if (near) diag_hint(c->diags, r, "did you mean '%s'?", near);
            else
                diag_hint(c->diags, r,
                          "declare it outside the role: grades %s { A top 20%% factor 1.5  B next 70%% "
                          "factor 1  C rest factor 0.5 }, or write the table in the role: grades { … }",
                          it->grades_name);
            return;
        }
        if (en->decl->kind != DECL_GRADES) {
            diagnostic *r = diag_report(c->diags, DIAG_ERROR, it->grades_name_span, "wrong-kind",
                                        "'%s' is %s, not a grades table", it->grades_name,
                                        chk_kind_phrase(en->decl->kind));
            diag_hint(c->diags, r,
                      "declare the table outside the role: grades NAME { A top 20%% …  C rest }");
            return;
        }
        it->ref = en->decl;
        it->grades = en->decl->u.grades.table;
    }
    ptr_vec_push(c->mem, &it->grades->roles, role);
}

static bool is_grade_ref(const ast_expr *e)
{
    return e && e->kind == EX_NAME && e->ref_kind == REF_GRADE;
}

/* A text compared with `grade` that names no grade of G: the condition can never hold
 * (`grade = "a"` for `A`), which would pay everyone as if no one had the grade. */
static void check_grade_text(chk_ctx *c, const ast_grades *g, const ast_expr *text)
{
    if (!text || text->kind != EX_STRING || !text->u.lit.text) return;
    const char **names = arena_alloc(c->mem, ((size_t)g->row_count + 1) * sizeof *names);
    for (int k = 0; k < g->row_count; k++) {
        names[k] = g->rows[k].name;
        if (!strcmp(g->rows[k].name, text->u.lit.text)) return;
    }
    diagnostic *d =
        diag_report(c->diags, DIAG_ERROR, text->span, "unknown-grade",
                    "\"%s\" is not a grade of this role, so the comparison never holds", text->u.lit.text);
    const char *near = NULL;
    for (int k = 0; k < g->row_count && !near; k++)
        if (!strcasecmp(names[k], text->u.lit.text)) near = names[k];
    if (!near) near = chk_closest(c, text->u.lit.text, names, (size_t)g->row_count);
    if (near) diag_hint(c->diags, d, "did you mean \"%s\"?", near);
    const char *list = "";
    for (int k = 0; k < g->row_count; k++)
        list = arena_printf(c->mem, "%s%s\"%s\"", list, k ? ", " : "", g->rows[k].name);
    diag_hint(c->diags, d, "the grades are %s", list);
}

typedef struct grade_walk {
    chk_ctx *c;
    const ast_grades *g;
} grade_walk;

static void walk_grade_texts(const ast_expr *e, void *ctx)
{
    grade_walk *w = ctx;
    if (e->kind == EX_BINARY && (e->u.op.op == OP_EQ || e->u.op.op == OP_NE)) {
        if (is_grade_ref(e->u.op.lhs)) check_grade_text(w->c, w->g, e->u.op.rhs);
        if (is_grade_ref(e->u.op.rhs)) check_grade_text(w->c, w->g, e->u.op.lhs);
    } else if (e->kind == EX_IN_LIST && is_grade_ref(e->u.in.lhs)) {
        for (size_t i = 0; i < e->u.in.items.len; i++) check_grade_text(w->c, w->g, e->u.in.items.items[i]);
    }
    ast_expr_each_child(e, walk_grade_texts, ctx);
}

void chk_grade_texts(chk_ctx *c, const ast_grades *g, const ast_expr *e)
{
    if (!g || !e) return;
    grade_walk w = { c, g };
    walk_grade_texts(e, &w);
}
