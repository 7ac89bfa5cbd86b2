/* diff.c — what a change to a spec changes (see diff.h).
 *
 * Declarations are matched by kind and name; a name that changed kind counts as one
 * removed and one added. Expressions are compared by their text as written with
 * comments dropped and white space collapsed (diag_span_text), so a reformatted
 * spec has no differences. Values are compared exactly (decimal equality; null only
 * equals null), staff by id, so a roster that gained or lost people still lines up.
 */
#include "kpic/diff.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "kpic/hash.h"
#include "kpic/score.h"

typedef struct differ {
    FILE *out;
    arena mem;
    const ast_spec *old_spec, *new_spec;
    const chk_model *old_model, *new_model;
    size_t changes;
} differ;

/* ---- how a difference is written ---------------------------------------------------- */

/* "  WHAT: FIELD BEFORE → AFTER", or, when either side is long, the two on lines of
 * their own under "  WHAT: FIELD". */
static void changed(differ *f, const char *what, const char *field, const char *before,
                    const char *after)
{
    f->changes++;
    if (strlen(before) + strlen(after) <= 60) {
        fprintf(f->out, "  %s: %s %s → %s\n", what, field, before, after);
    } else {
        fprintf(f->out, "  %s: %s\n      - %s\n      + %s\n", what, field, before, after);
    }
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
    char *out = arena_alloc(&f->mem, strlen(text) + 1), *o = out;
    bool in_string = false;
    for (const char *p = text; *p; p++) {
        if (in_string) {
            *o++ = *p;
            if (*p == '\\' && p[1]) *o++ = *++p;
            else if (*p == '"') in_string = false;
            continue;
        }
        if (*p == ' ' && !(o > out && word_byte((unsigned char)o[-1]) && word_byte((unsigned char)p[1]))) continue;
        if (*p == '"') in_string = true;
        *o++ = *p;
    }
    *o = '\0';
    return out;
}

static void compare(differ *f, const char *what, const char *field, const char *before,
                    const char *after)
{
    if (strcmp(before, after) != 0) changed(f, what, field, before, after);
}

/* compare() for expressions: a difference in spacing alone is none */
static void compare_code(differ *f, const char *what, const char *field, const char *before,
                         const char *after)
{
    if (strcmp(code_key(f, before), code_key(f, after)) != 0) changed(f, what, field, before, after);
}

static void added(differ *f, const char *what, const char *detail)
{
    f->changes++;
    fprintf(f->out, "  + %s%s%s\n", what, *detail ? ": " : "", detail);
}

static void removed(differ *f, const char *what)
{
    f->changes++;
    fprintf(f->out, "  - %s\n", what);
}

static const char *old_text(differ *f, kp_span span)
{
    return diag_span_text(f->old_spec->diags, span, &f->mem);
}

static const char *new_text(differ *f, kp_span span)
{
    return diag_span_text(f->new_spec->diags, span, &f->mem);
}

static const char *quoted(differ *f, const char *s)
{
    return s ? arena_printf(&f->mem, "\"%s\"", s) : "(none)";
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
    return arena_printf(&f->mem, "%s%s", ast_unit_name(ind->u.indicator.unit),
                        ind->u.indicator.per_staff ? " per staff" : "");
}

/* A column's type and flags, then how the export writes it (a changed format reads
 * the same file differently, so it is a difference). */
static const char *column_text(differ *f, const ast_column *c)
{
    const char *text = arena_printf(&f->mem, "%s%s%s", ast_coltype_name(c->type),
                                    c->is_time ? " time" : "", c->is_staff ? " staff" : "");
    if (c->header) text = arena_printf(&f->mem, "%s header \"%s\"", text, c->header);
    if (c->format) text = arena_printf(&f->mem, "%s format \"%s\"", text, c->format);
    if (c->true_word)
        text = arena_printf(&f->mem, "%s true \"%s\" false \"%s\"", text, c->true_word,
                            c->false_word);
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

static const char *target_text(const ast_role_item *k, const diag_sink *diags, arena *mem)
{
    if (!k->has_target) return "(none)";
    return arena_printf(mem, "%s %s", ast_comparator_text(k->comparator), diag_span_text(diags, k->target->span, mem));
}

static const char *kpi_text(const ast_role_item *k, const diag_sink *diags, arena *mem)
{
    return arena_printf(mem, "weight %s target %s%s%s", k->weight ? diag_span_text(diags, k->weight->span, mem) : "?",
                        target_text(k, diags, mem), k->points ? " points " : "",
                        k->points ? diag_span_text(diags, k->points->span, mem) : "");
}

static const char *expr_or_none(const ast_role_item *it, const diag_sink *diags, arena *mem)
{
    return it && it->expr ? diag_span_text(diags, it->expr->span, mem) : "(none)";
}

/* ---- the comparisons ---------------------------------------------------------------- */

static void diff_columns(differ *f, const char *what, const ast_decl *o, const ast_decl *n)
{
    compare(f, what, "encoding", o->u.source.encoding ? quoted(f, o->u.source.encoding) : "UTF-8",
            n->u.source.encoding ? quoted(f, n->u.source.encoding) : "UTF-8");
    compare(f, what, "file", o->u.source.path, n->u.source.path);
    for (int i = 0; i < n->u.source.column_count; i++) {
        const ast_column *nc = &n->u.source.columns[i];
        const ast_column *oc = NULL;
        for (int k = 0; k < o->u.source.column_count && !oc; k++)
            if (!strcmp(o->u.source.columns[k].name, nc->name)) oc = &o->u.source.columns[k];
        const char *field = arena_printf(&f->mem, "column %s", nc->name);
        if (!oc) added(f, arena_printf(&f->mem, "%s: %s", what, field), column_text(f, nc));
        else compare(f, what, field, column_text(f, oc), column_text(f, nc));
    }
    for (int k = 0; k < o->u.source.column_count; k++) {
        const ast_column *oc = &o->u.source.columns[k];
        bool kept = false;
        for (int i = 0; i < n->u.source.column_count && !kept; i++) kept = !strcmp(n->u.source.columns[i].name, oc->name);
        if (!kept) removed(f, arena_printf(&f->mem, "%s: column %s", what, oc->name));
    }
}

static void diff_indicator(differ *f, const char *what, const ast_decl *o, const ast_decl *n)
{
    compare(f, what, "label", quoted(f, o->u.indicator.label), quoted(f, n->u.indicator.label));
    compare(f, what, "unit", unit_text(f, o), unit_text(f, n));
    compare_code(f, what, "formula", old_text(f, o->u.indicator.expr->span), new_text(f, n->u.indicator.expr->span));
    compare(f, what, "note", quoted(f, o->u.indicator.note), quoted(f, n->u.indicator.note));
}

static void diff_role(differ *f, const char *what, const ast_decl *o, const ast_decl *n)
{
    const diag_sink *od = f->old_spec->diags, *nd = f->new_spec->diags;
    compare(f, what, "label", quoted(f, o->u.role.label), quoted(f, n->u.role.label));
    for (int i = 0; i < n->u.role.item_count; i++) {
        const ast_role_item *nk = &n->u.role.items[i];
        if (nk->kind != ROLE_KPI) continue;
        const ast_role_item *ok = role_item(o, ROLE_KPI, nk->indicator);
        const char *kpi = arena_printf(&f->mem, "%s: kpi %s", what, nk->indicator);
        if (!ok) {
            added(f, kpi, kpi_text(nk, nd, &f->mem));
            continue;
        }
        compare_code(f, kpi, "weight", ok->weight ? old_text(f, ok->weight->span) : "?",
                nk->weight ? new_text(f, nk->weight->span) : "?");
        compare_code(f, kpi, "target", target_text(ok, od, &f->mem), target_text(nk, nd, &f->mem));
        compare_code(f, kpi, "points", ok->points ? old_text(f, ok->points->span) : "(the role's)",
                nk->points ? new_text(f, nk->points->span) : "(the role's)");
    }
    for (int i = 0; i < o->u.role.item_count; i++) {
        const ast_role_item *ok = &o->u.role.items[i];
        if (ok->kind == ROLE_KPI && !role_item(n, ROLE_KPI, ok->indicator))
            removed(f, arena_printf(&f->mem, "%s: kpi %s", what, ok->indicator));
    }
    const ast_role_item *op = role_item(o, ROLE_POINTS, NULL), *np = role_item(n, ROLE_POINTS, NULL);
    compare(f, what, "points", op ? op->scale : "(none)", np ? np->scale : "(none)");
    const ast_role_item *om = role_item(o, ROLE_MISSING, NULL), *nm = role_item(n, ROLE_MISSING, NULL);
    compare(f, what, "missing", om && om->missing_skip ? "skip" : "zero", nm && nm->missing_skip ? "skip" : "zero");
    /* gates are a list of conditions: report the ones that went and came */
    for (int pass = 0; pass < 2; pass++) {
        const ast_decl *from = pass ? n : o, *to = pass ? o : n;
        const diag_sink *fd = pass ? nd : od, *td = pass ? od : nd;
        for (int i = 0; i < from->u.role.item_count; i++) {
            const ast_role_item *g = &from->u.role.items[i];
            if (g->kind != ROLE_GATE) continue;
            const char *text = diag_span_text(fd, g->expr->span, &f->mem);
            bool kept = false;
            for (int k = 0; k < to->u.role.item_count && !kept; k++)
                kept = to->u.role.items[k].kind == ROLE_GATE &&
                       !strcmp(code_key(f, text), code_key(f, diag_span_text(td, to->u.role.items[k].expr->span, &f->mem)));
            if (kept) continue;
            const char *gate = arena_printf(&f->mem, "%s: gate %s", what, text);
            if (pass) added(f, gate, "");
            else removed(f, gate);
        }
    }
    compare_code(f, what, "bonus", expr_or_none(role_item(o, ROLE_BONUS, NULL), od, &f->mem),
            expr_or_none(role_item(n, ROLE_BONUS, NULL), nd, &f->mem));
}

/* What an added declaration is, in one line. */
static const char *summary(differ *f, const ast_decl *d)
{
    const diag_sink *nd = f->new_spec->diags;
    switch (d->kind) {
    case DECL_INDICATOR:
        return arena_printf(&f->mem, "%s%s%s = %s", d->u.indicator.label ? quoted(f, d->u.indicator.label) : "",
                            d->u.indicator.label ? " " : "", unit_text(f, d), new_text(f, d->u.indicator.expr->span));
    case DECL_SET: return set_text(d, nd, &f->mem);
    case DECL_SCALE: return scale_text(d, nd, &f->mem);
    case DECL_SOURCE: return quoted(f, d->u.source.path);
    case DECL_ROLE: {
        size_t kpis = 0;
        for (int i = 0; i < d->u.role.item_count; i++) kpis += d->u.role.items[i].kind == ROLE_KPI;
        return arena_printf(&f->mem, "%zu kpi%s", kpis, kpis == 1 ? "" : "s");
    }
    default: return "";
    }
}

static void diff_kind(differ *f, const ptr_vec *olds, const ptr_vec *news)
{
    for (size_t i = 0; i < news->len; i++) {
        const ast_decl *n = news->items[i];
        const ast_decl *o = counterpart(f->old_model, n);
        const char *what = arena_printf(&f->mem, "%s %s", chk_kind_word(n->kind), n->name);
        if (!o) {
            added(f, what, summary(f, n));
            continue;
        }
        switch (n->kind) {
        case DECL_SOURCE: diff_columns(f, what, o, n); break;
        case DECL_SET:
            compare_code(f, what, "definition", set_text(o, f->old_spec->diags, &f->mem),
                    set_text(n, f->new_spec->diags, &f->mem));
            break;
        case DECL_INDICATOR: diff_indicator(f, what, o, n); break;
        case DECL_SCALE:
            compare_code(f, what, "intervals", scale_text(o, f->old_spec->diags, &f->mem),
                    scale_text(n, f->new_spec->diags, &f->mem));
            break;
        default: diff_role(f, what, o, n); break;
        }
    }
    for (size_t i = 0; i < olds->len; i++) {
        const ast_decl *o = olds->items[i];
        if (!counterpart(f->new_model, o)) removed(f, arena_printf(&f->mem, "%s %s", chk_kind_word(o->kind), o->name));
    }
}

size_t diff_definitions(FILE *out, const ast_spec *old_spec, const chk_model *old_model,
                        const ast_spec *new_spec, const chk_model *new_model)
{
    differ f = {.out = out, .old_spec = old_spec, .new_spec = new_spec, .old_model = old_model, .new_model = new_model};
    arena_init(&f.mem);
    compare(&f, "period", "grain", ast_grain_name(old_model->grain), ast_grain_name(new_model->grain));
    compare(&f, "currency", "code", quoted(&f, old_model->currency), quoted(&f, new_model->currency));
    diff_kind(&f, &old_model->sources, &new_model->sources);
    if (old_model->roster && new_model->roster) diff_columns(&f, "staff (the roster)", old_model->roster, new_model->roster);
    diff_kind(&f, &old_model->sets, &new_model->sets);
    diff_kind(&f, &old_model->indicators, &new_model->indicators);
    diff_kind(&f, &old_model->scales, &new_model->scales);
    diff_kind(&f, &old_model->roles, &new_model->roles);
    arena_free(&f.mem);
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

static const char *shown(differ *f, eval_value v, ast_unit unit)
{
    char buf[128];
    eval_format_value(v, unit, buf, sizeof buf);
    return arena_printf(&f->mem, "%s", buf);
}

/* The two rosters lined up by staff id, and each side's statements by (period, staff):
 * built once, so a roster of thousands is not searched for every line. */
typedef struct lineup {
    size_t old_count, new_count;
    int *old_of_new;                    /* [new staff]: its index in the old roster, or -1 */
    bool *old_in_new;                   /* [old staff]: on the new roster too */
    const score_statement **old_statement, **new_statement; /* [period * count + staff] */
    const char **old_reason, **new_reason;  /* why unscored ("not scored" when neither) */
} lineup;

static void index_result(differ *f, const score_result *r, size_t periods, size_t count,
                         const score_statement ***statement, const char ***reason)
{
    size_t cells = periods * count + 1;
    *statement = arena_alloc(&f->mem, cells * sizeof **statement);
    *reason = arena_alloc(&f->mem, cells * sizeof **reason);
    for (size_t i = 0; i < cells; i++) {
        (*statement)[i] = NULL;
        (*reason)[i] = "not scored";
    }
    for (size_t i = 0; i < r->statement_count; i++)
        (*statement)[r->statements[i].period * count + (size_t)r->statements[i].staff] = &r->statements[i];
    for (size_t i = 0; i < r->unscored_count; i++)
        (*reason)[r->unscored[i].period * count + (size_t)r->unscored[i].staff] = score_reason_text(r->unscored[i].reason);
}

static void line_up(differ *f, lineup *l, const score_result *or_, const score_result *nr, size_t periods)
{
    const eval_staff *oroster = eval_roster(or_->session, &l->old_count);
    const eval_staff *nroster = eval_roster(nr->session, &l->new_count);
    strtab old_ids;
    strtab_init(&old_ids);
    /* roster ids are unique (a duplicate is an error), so an id's number is its index */
    for (size_t i = 0; i < l->old_count; i++) strtab_intern(&old_ids, oroster[i].id, strlen(oroster[i].id));
    l->old_of_new = arena_alloc(&f->mem, (l->new_count + 1) * sizeof *l->old_of_new);
    l->old_in_new = arena_alloc(&f->mem, (l->old_count + 1) * sizeof *l->old_in_new);
    memset(l->old_in_new, 0, (l->old_count + 1) * sizeof *l->old_in_new);
    for (size_t i = 0; i < l->new_count; i++) {
        uint32_t at = strtab_find(&old_ids, nroster[i].id, strlen(nroster[i].id));
        l->old_of_new[i] = at == HMAP_NONE ? -1 : (int)at;
        if (at != HMAP_NONE) l->old_in_new[at] = true;
    }
    strtab_free(&old_ids);
    index_result(f, or_, periods, l->old_count, &l->old_statement, &l->old_reason);
    index_result(f, nr, periods, l->new_count, &l->new_statement, &l->new_reason);
}

static void diff_values(differ *f, const lineup *l, eval_session *os, eval_session *ns, size_t p, const char *label)
{
    size_t count;
    const eval_staff *nroster = eval_roster(ns, &count);
    for (size_t i = 0; i < f->new_model->indicators.len; i++) {
        ast_decl *n = f->new_model->indicators.items[i];
        ast_decl *o = (ast_decl *)counterpart(f->old_model, n);
        if (!o) continue;
        ast_unit ou = o->u.indicator.unit, nu = n->u.indicator.unit;
        const char *what = arena_printf(&f->mem, "%s %s", label, n->name);
        eval_value a = eval_indicator_value(os, o, p, -1), b = eval_indicator_value(ns, n, p, -1);
        if (!same_value(a, b)) changed(f, what, "total", shown(f, a, ou), shown(f, b, nu));
        if (!o->u.indicator.per_staff || !n->u.indicator.per_staff) continue;
        for (size_t s = 0; s < l->new_count; s++) {
            if (l->old_of_new[s] < 0) continue;
            a = eval_indicator_value(os, o, p, l->old_of_new[s]);
            b = eval_indicator_value(ns, n, p, (int)s);
            if (!same_value(a, b)) changed(f, what, nroster[s].id, shown(f, a, ou), shown(f, b, nu));
        }
    }
}

static const char *statement_text(differ *f, const score_statement *st, const char *reason)
{
    if (!st) return arena_printf(&f->mem, "unscored (%s)", reason);
    return arena_printf(&f->mem, "%s, score %s, bonus %s", st->role->name, shown(f, st->score, UNIT_POINTS),
                        st->has_bonus ? shown(f, st->bonus, UNIT_MONEY) : "none");
}

/* One line per staff member whose statement moved: "score A → B, bonus C → D" when the
 * role stayed (roles of the two specs match by name), else the whole statement before
 * and after (another role, or scored on one side only). */
static void compare_statements(differ *f, const char *who, const score_statement *a, const char *a_reason,
                               const score_statement *b, const char *b_reason)
{
    if (a && b && !strcmp(a->role->name, b->role->name)) {
        const char *parts = "";
        eval_value pairs[2][2] = {{a->score, b->score}, {a->bonus, b->bonus}};
        const char *names[2] = {"score", "bonus"};
        ast_unit units[2] = {UNIT_POINTS, UNIT_MONEY};
        for (int i = 0; i < 2; i++) {
            if (same_value(pairs[i][0], pairs[i][1])) continue;
            parts = arena_printf(&f->mem, "%s%s%s %s → %s", parts, *parts ? ", " : "", names[i],
                                 shown(f, pairs[i][0], units[i]), shown(f, pairs[i][1], units[i]));
        }
        if (*parts) {
            f->changes++;
            fprintf(f->out, "  %s (%s): %s\n", who, b->role->name, parts);
        }
        return;
    }
    compare(f, who, "statement", statement_text(f, a, a_reason), statement_text(f, b, b_reason));
}

static void diff_statements(differ *f, const lineup *l, const score_result *or_, const score_result *nr,
                            size_t p, const char *label)
{
    size_t count;
    const eval_staff *oroster = eval_roster(or_->session, &count), *nroster = eval_roster(nr->session, &count);
    for (size_t s = 0; s < l->new_count; s++) {
        int o = l->old_of_new[s];
        const score_statement *a = o >= 0 ? l->old_statement[p * l->old_count + (size_t)o] : NULL;
        const char *a_reason = o >= 0 ? l->old_reason[p * l->old_count + (size_t)o] : "not on the roster";
        const score_statement *b = l->new_statement[p * l->new_count + s];
        const char *b_reason = l->new_reason[p * l->new_count + s];
        const char *who = arena_printf(&f->mem, "%s staff %s%s%s", label, nroster[s].id,
                                       nroster[s].name ? " " : "", nroster[s].name ? nroster[s].name : "");
        compare_statements(f, who, a, a_reason, b, b_reason);
    }
    for (size_t o = 0; o < l->old_count; o++) {
        if (l->old_in_new[o]) continue;
        compare(f, arena_printf(&f->mem, "%s staff %s", label, oroster[o].id), "statement",
                statement_text(f, l->old_statement[p * l->old_count + o], l->old_reason[p * l->old_count + o]),
                "not on the roster");
    }
}

size_t diff_results(FILE *out, eval_session *old_session, chk_model *old_model, diag_sink *old_diags,
                    eval_session *new_session, chk_model *new_model, diag_sink *new_diags)
{
    differ f = {.out = out, .old_model = old_model, .new_model = new_model};
    arena_init(&f.mem);
    score_result *or_ = score_compute(old_session, old_model, old_diags);
    score_result *nr = score_compute(new_session, new_model, new_diags);
    size_t count;
    const period_t *periods = eval_periods(new_session, &count);
    lineup l;
    line_up(&f, &l, or_, nr, count);
    for (size_t p = 0; p < count; p++) {
        char label[PERIOD_LABEL_SIZE];
        period_format(periods[p], label, sizeof label);
        diff_values(&f, &l, old_session, new_session, p, label);
        diff_statements(&f, &l, or_, nr, p, label);
    }
    score_free(or_);
    score_free(nr);
    arena_free(&f.mem);
    return f.changes;
}
