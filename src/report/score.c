/* score.c — computing statements (see score.h): who is scored, and per kpi the target,
 * achievement, points and weights; then the score, the gates and the bonus.
 *
 * Every number is an exact decimal (decimal.h, 18 places) from the indicator value to
 * the bonus. Quotients (achievement, rescaled weights) are rounded to 18 places once;
 * the bonus is rounded to 0.01 half away from zero once, at the end. Nothing is
 * rounded for display here: that is the outputs' business (score_output.c).
 * A bonus that is a part of a pool is known only once every statement of the period
 * is: score_compute divides the pools last (score_pool.c).
 */
#include "score_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


#include "kpic/hash.h"

/* ---- values ------------------------------------------------------------------------- */

/* "until 2025-05-15", "from 2025-05-16", "2025-05-12 to 2025-05-31": a roster row's
 * days with its last day included, whatever the roster's end convention. */
static void role_days_text(const eval_staff *who, char *buf, size_t size)
{
    char from[DATE_FORMAT_SIZE], to[DATE_FORMAT_SIZE];
    if (who->has_start) date_format(who->start, from, sizeof from);
    if (who->has_end) {
        date_t last = who->end;
        date_add_days(who->end, -1, &last);
        date_format(last, to, sizeof to);
    }
    if (who->has_start && who->has_end) snprintf(buf, size, "%s to %s", from, to);
    else if (who->has_start) snprintf(buf, size, "from %s", from);
    else if (who->has_end) snprintf(buf, size, "until %s", to);
    else snprintf(buf, size, "every day");
}

char *score_role_days_note(const eval_session *s, size_t period, int staff)
{
    size_t count, period_count;
    const eval_staff *roster = eval_roster(s, &count);
    const period_t *periods = eval_periods(s, &period_count);
    if (staff < 0 || (size_t)staff >= count || period >= period_count || roster[staff].id_rows < 2)
        return NULL;
    period_t p = periods[period];
    char *text = NULL;
    size_t len = 0, employed = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out) abort();
    char label[PERIOD_LABEL_SIZE];
    period_format(p, label, sizeof label);
    fprintf(out, "roles in %s:", label);
    for (int k = roster[staff].first_row; k >= 0; k = roster[k].next_row) {
        const eval_staff *who = &roster[k];
        if (!eval_staff_is_employed(who, p)) continue;
        char days[2 * DATE_FORMAT_SIZE + 8];
        role_days_text(who, days, sizeof days);
        fprintf(out, "%s %s %s", employed++ ? "," : "", who->role && who->role[0] ? who->role : "(no role)",
                days);
    }
    fprintf(out, "; kpi values are %s's for the whole period", roster[staff].id);
    fclose(out);
    if (employed < 2) {
        free(text);
        return NULL;
    }
    return text;
}

const char *score_reason_text(score_reason reason)
{
    return reason == SCORE_ROLE_NOT_DECLARED ? "role not declared" : "not employed in period";
}

const char *score_closest_role(const chk_model *model, const char *role)
{
    const char **names = xcalloc(model->roles.len + 1, sizeof *names);
    const char *near = NULL;
    for (size_t i = 0; i < model->roles.len; i++) {
        names[i] = ((const ast_decl *)model->roles.items[i])->name;
        if (!near && strcasecmp(names[i], role) == 0) near = names[i];
    }
    if (!near) near = diag_closest(role, names, model->roles.len);
    free(names);
    return near;
}

/* ---- requiring ---------------------------------------------------------------------- */

void score_require_role(eval_session *s, const ast_decl *role)
{
    for (int i = 0; i < role->u.role.item_count; i++) {
        const ast_role_item *it = &role->u.role.items[i];
        switch (it->kind) {
        case ROLE_KPI:
            if (it->ref) eval_require_indicator(s, it->ref);
            if (it->has_target && it->target) eval_require(s, it->target);
            if (it->points) eval_require(s, it->points);
            break;
        case ROLE_GATE:
        case ROLE_BONUS:
            if (it->expr) eval_require(s, it->expr);
            if (it->share) eval_require(s, it->share);
            if (it->cap) eval_require(s, it->cap);
            if (it->floor) eval_require(s, it->floor);
            if (it->pool && it->ref) eval_require(s, it->ref->u.pool.amount);
            break;
        case ROLE_POINTS:
        case ROLE_MISSING:
        case ROLE_GRADES: break;
        }
    }
}

void score_require(eval_session *s, const chk_model *model)
{
    for (size_t i = 0; i < model->roles.len; i++) score_require_role(s, model->roles.items[i]);
}

/* ---- achievement and scales --------------------------------------------------------- */

eval_value score_achievement(ast_comparator cmp, eval_value value, eval_value target)
{
    if (value.kind != VAL_NUM || target.kind != VAL_NUM || dec_sign(target.as.num) == 0) return eval_null();
    dec_t q;
    if (dec_div(value.as.num, target.as.num, DEC_PLACES, &q) != DEC_OK) return eval_null();
    if (cmp == CMP_GE) return eval_num(q);
    dec_t r;
    if (dec_sub(dec_from_int64(2), q, &r) != DEC_OK) return eval_null();
    return eval_num(dec_sign(r) < 0 ? dec_from_int64(0) : r);
}

/* The first scale call in N (outside aggregates, shifts and `in` tests) whose numeric
 * input lies outside every interval, evaluated as N is: of an `if`, only the branch
 * taken. NULL when there is none. */
typedef struct scale_search {
    eval_session *s;
    size_t period;
    int staff;
    const eval_kpi_context *ctx;
    dec_t *input;
    const ast_decl *found;
} scale_search;

static void search_scale(const ir_node *n, void *arg)
{
    scale_search *q = arg;
    if (!n || q->found) return;
    switch (n->kind) {
    case IR_IF: {
        eval_value c = eval_node_value(q->s, n->a, q->period, q->staff, q->ctx);
        search_scale(n->a, q);
        search_scale(c.kind == VAL_BOOL && c.as.b ? n->b : n->c, q);
        return;
    }
    case IR_SCALE: {
        eval_value x = eval_node_value(q->s, n->a, q->period, q->staff, q->ctx);
        if (x.kind == VAL_NUM && eval_scale_row(q->s, n->u.decl, x.as.num) < 0) {
            *q->input = x.as.num;
            q->found = n->u.decl;
            return;
        }
        search_scale(n->a, q);
        return;
    }
    case IR_AGGREGATE:
    case IR_ROWS:
    case IR_PREVIOUS:
    case IR_LAST_YEAR:
    case IR_IN_LIST:
    case IR_IN_SET:
    case IR_IN_PERIOD:
    case IR_IN_PREVIOUS_PERIOD:
    case IR_BEFORE_PERIOD: return;
    default: ir_each_child(n, search_scale, q); return;
    }
}

static const ast_decl *find_out_of_scale(eval_session *s, const ast_expr *e, size_t period, int staff,
                                         const eval_kpi_context *ctx, dec_t *input)
{
    scale_search q = { s, period, staff, ctx, input, NULL };
    search_scale(e ? ir_of(eval_program(s), e) : NULL, &q);
    return q.found;
}

/* ---- one statement ------------------------------------------------------------------ */

/* V rounded half away from zero to the cent, as a bonus is (null stays null). */
static eval_value cents(eval_value v)
{
    dec_t r;
    if (v.kind != VAL_NUM) return v;
    return dec_round(v.as.num, 2, &r) == DEC_OK ? eval_num(r) : eval_null();
}

void score_statement_free(score_statement *st)
{
    free(st->kpis);
    free(st->gates);
    free(st->adjustments);
    if (st->grade.run) score_grade_run_free(st->grade.run);
    free(st->grade.run);
    st->grade.run = NULL;
    st->kpis = NULL;
    st->gates = NULL;
    st->adjustments = NULL;
}

void score_statement_compute(eval_session *s, ast_decl *role, size_t period, int staff, score_statement *out)
{
    score_statement_compute_with(s, role, period, staff, NULL, out);
}

void score_statement_compute_with(eval_session *s, ast_decl *role, size_t period, int staff,
                                  const score_adjustment *const *overrides, score_statement *out)
{
    memset(out, 0, sizeof *out);
    out->period = period;
    out->staff = staff;
    out->role = role;
    out->gates_passed = true;

    const ast_role_item *items = role->u.role.items;
    int n = role->u.role.item_count;
    const ast_decl *scale = NULL;
    const ast_role_item *bonus = NULL;
    bool skip = false;
    size_t kpis = 0, gates = 0;
    for (int i = 0; i < n; i++) {
        switch (items[i].kind) {
        case ROLE_KPI: kpis++; break;
        case ROLE_GATE: gates++; break;
        case ROLE_POINTS:
            if (!scale) scale = items[i].ref;
            break;
        case ROLE_BONUS:
            if (!bonus) bonus = &items[i];
            break;
        case ROLE_MISSING: skip = items[i].missing_skip; break;
        case ROLE_GRADES: break;
        }
    }
    out->kpis = xcalloc(kpis ? kpis : 1, sizeof *out->kpis);
    out->gates = xcalloc(gates ? gates : 1, sizeof *out->gates);

    size_t period_count, roster_count;
    const period_t *periods = eval_periods(s, &period_count);
    const eval_staff *roster = eval_roster(s, &roster_count);
    out->employed = eval_employed(s, period, staff);
    if (period < period_count && staff >= 0 && (size_t)staff < roster_count)
        out->employed_days = eval_staff_employed(&roster[staff], periods[period]);

    /* kpis: value, target, achievement, points */
    for (int i = 0; i < n; i++) {
        const ast_role_item *it = &items[i];
        if (it->kind != ROLE_KPI) continue;
        score_kpi *k = &out->kpis[out->kpi_count++];
        k->item = it;
        k->indicator = it->ref;
        k->scale_row = -1;
        k->value_computed = it->ref ? eval_indicator_value(s, it->ref, period, staff) : eval_null();
        k->override = overrides ? overrides[out->kpi_count - 1] : NULL;
        k->value = k->override ? eval_num(k->override->amount) : k->value_computed;
        /* a target may be prorated: staff.quota * employed */
        eval_kpi_context target_ctx = { eval_null(), eval_null(),   eval_null(),
                                        eval_null(), out->employed, NULL };
        k->target = it->has_target && it->target ? eval_value_of(s, it->target, period, staff, &target_ctx)
                                                 : eval_null();
        k->achievement =
            it->has_target ? score_achievement(it->comparator, k->value, k->target) : eval_null();
        eval_value w = eval_value_of(s, it->weight, period, staff, NULL);
        k->weight = w.kind == VAL_NUM ? w.as.num : dec_from_int64(0);
        if (it->points) {
            eval_kpi_context ctx = { k->value, k->target, k->achievement, eval_null(), out->employed, NULL };
            k->points = eval_value_of(s, it->points, period, staff, &ctx);
            if (k->points.kind != VAL_NUM)
                k->out_of_scale =
                    find_out_of_scale(s, it->points, period, staff, &ctx, &k->out_of_scale_input);
        } else if (scale && k->achievement.kind == VAL_NUM) {
            k->scale = scale;
            k->scale_row = eval_scale_row(s, scale, k->achievement.as.num);
            k->points = eval_scale(s, scale, k->achievement.as.num);
            if (k->points.kind != VAL_NUM && k->scale_row < 0) {
                k->out_of_scale = scale;
                k->out_of_scale_input = k->achievement.as.num;
            }
        } else {
            k->scale = scale;
            k->points = eval_null();
        }
        if (k->points.kind != VAL_NUM) {
            k->points = eval_null();
            k->missing = true;
            k->dropped = skip;
        }
    }

    /* weights and score: score = Σ (weight × points) / W over the kept kpis, where W is
     * the sum of their weights (1 exactly unless `missing skip` dropped some), so that
     * the effective weights of the kept kpis sum to 1 */
    dec_t total_weight = { 0 }, total = { 0 };
    bool overflow = false;
    for (size_t i = 0; i < out->kpi_count; i++) {
        score_kpi *k = &out->kpis[i];
        if (k->dropped) continue;
        overflow |= dec_add(total_weight, k->weight, &total_weight) != DEC_OK;
        if (k->missing) continue;
        dec_t wp;
        overflow |= dec_mul(k->weight, k->points.as.num, &wp) != DEC_OK;
        overflow |= dec_add(total, wp, &total) != DEC_OK;
    }
    bool scored = !overflow && dec_sign(total_weight) != 0;
    dec_t score = { 0 };
    if (scored) scored = dec_div(total, total_weight, DEC_PLACES, &score) == DEC_OK;
    out->score = scored ? eval_num(score) : eval_null();
    for (size_t i = 0; i < out->kpi_count; i++) {
        score_kpi *k = &out->kpis[i];
        if (k->dropped || !scored) continue;
        if (dec_div(k->weight, total_weight, DEC_PLACES, &k->effective_weight) != DEC_OK)
            k->effective_weight = dec_from_int64(0);
        if (k->missing) continue;
        dec_t wp;
        if (dec_mul(k->weight, k->points.as.num, &wp) != DEC_OK ||
            dec_div(wp, total_weight, DEC_PLACES, &k->weighted) != DEC_OK)
            k->weighted = dec_from_int64(0);
    }

    /* gates: each must be true; null fails */
    eval_kpi_context role_ctx = { eval_null(), eval_null(), eval_null(), out->score, out->employed, NULL };
    for (int i = 0; i < n; i++) {
        const ast_role_item *it = &items[i];
        if (it->kind != ROLE_GATE) continue;
        score_gate *g = &out->gates[out->gate_count++];
        g->item = it;
        g->value = eval_value_of(s, it->expr, period, staff, &role_ctx);
        g->passed = g->value.kind == VAL_BOOL && g->value.as.b;
        out->gates_passed &= g->passed;
    }

    /* bonus: rounded once, here; a role with grades waits for its members to be ranked
     * (score_rank_statements), since the bonus may read the grade */
    out->bonus_exact = eval_null();
    out->bonus = eval_null();
    out->grade.grades = ast_role_grades(role);
    out->grade.before_regrade = -1;
    out->has_bonus = bonus != NULL;
    if (out->grade.grades) {
        if (bonus && bonus->pool) {
            out->pool.pool = bonus->ref;
            out->pool.item = bonus;
        }
        out->bonus_computed = out->bonus;
        return;
    }
    score_statement_bonus(s, out);
}

void score_statement_bonus(eval_session *s, score_statement *out)
{
    const ast_role_item *bonus = NULL;
    for (int i = 0; i < out->role->u.role.item_count && !bonus; i++)
        if (out->role->u.role.items[i].kind == ROLE_BONUS) bonus = &out->role->u.role.items[i];
    size_t period = out->period;
    int staff = out->staff;
    eval_kpi_context role_ctx = { eval_null(), eval_null(), eval_null(), out->score, out->employed, NULL };
    if (out->grade.grades && out->grade.settled) role_ctx.grades = &out->grade.values;
    out->bonus_exact = eval_null();
    out->bonus = eval_null();
    if (bonus && bonus->pool) {
        /* a part of a pool: only the claim is known here; score_pool_settle divides */
        out->has_bonus = true;
        score_pool_part *part = &out->pool;
        part->pool = bonus->ref;
        part->item = bonus;
        part->share = eval_value_of(s, bonus->share, period, staff, &role_ctx);
        part->cap = bonus->cap ? cents(eval_value_of(s, bonus->cap, period, staff, &role_ctx)) : eval_null();
        part->floor =
            bonus->floor ? cents(eval_value_of(s, bonus->floor, period, staff, &role_ctx)) : eval_null();
        part->claim = dec_from_int64(0);
        if (out->gates_passed && part->share.kind == VAL_NUM) part->claim = part->share.as.num;
        part->place = dec_sign(part->claim) > 0 ? SCORE_POOL_PROPORTIONAL : SCORE_POOL_NO_PART;
    } else if (bonus) {
        out->has_bonus = true;
        out->bonus_exact = eval_value_of(s, bonus->expr, period, staff, &role_ctx);
        dec_t rounded;
        if (!out->gates_passed) out->bonus = eval_num(dec_from_int64(0));
        else if (out->bonus_exact.kind == VAL_NUM &&
                 dec_round(out->bonus_exact.as.num, 2, &rounded) == DEC_OK)
            out->bonus = eval_num(rounded);
    }
    out->bonus_computed = out->bonus;
}

/* ---- every statement ----------------------------------------------------------------- */

static const char *staff_label(const eval_staff *who, char *buf, size_t size)
{
    if (who->name) snprintf(buf, size, "'%s' (%s)", who->id, who->name);
    else snprintf(buf, size, "'%s'", who->id);
    return buf;
}

/* The warnings of docs/language.md §9 that a run should not keep quiet: a scale input
 * outside every interval (once per staff member and kpi, with how many more periods
 * had it), a statement whose kpis were all dropped, a bonus without a value. */
static void report_warnings(const score_result *r, diag_sink *diags)
{
    size_t period_count, roster_count;
    const period_t *periods = eval_periods(r->session, &period_count);
    const eval_staff *roster = eval_roster(r->session, &roster_count);
    hmap first, seen; /* (staff, kpi item) → its first statement; → times */
    hmap_init(&first);
    hmap_init(&seen);
    for (size_t i = 0; i < r->statement_count; i++) {
        const score_statement *st = &r->statements[i];
        for (size_t k = 0; k < st->kpi_count; k++) {
            if (!st->kpis[k].out_of_scale) continue;
            uint64_t key = ((uint64_t)(uint32_t)st->staff << 20) | k; /* one role per staff member */
            hmap_get_or_put(&first, key, (uint32_t)i);
            uint32_t times = hmap_get(&seen, key);
            hmap_put(&seen, key, times == HMAP_NONE ? 1 : times + 1);
        }
    }
    char who[256], input[DEC_FORMAT_SIZE + 16], label[PERIOD_LABEL_SIZE];
    for (size_t i = 0; i < r->statement_count; i++) {
        const score_statement *st = &r->statements[i];
        const eval_staff *person = &roster[st->staff];
        staff_label(person, who, sizeof who);
        period_format(periods[st->period], label, sizeof label);
        for (size_t k = 0; k < st->kpi_count; k++) {
            const score_kpi *kp = &st->kpis[k];
            if (!kp->out_of_scale) continue;
            uint64_t key = ((uint64_t)(uint32_t)st->staff << 20) | k;
            if (hmap_get(&first, key) != (uint32_t)i) continue;
            eval_scale_input_text(r->session, kp->out_of_scale, kp->out_of_scale_input, input, sizeof input);
            diagnostic *d =
                diag_report(diags, DIAG_WARNING, kp->item->span, "scale-range",
                            "staff %s, kpi '%s', %s: %s %s lies outside every interval of scale '%s'; "
                            "the kpi is missing",
                            who, kp->item->indicator, label, kp->scale ? "achievement" : "the scale input",
                            input, kp->out_of_scale->name);
            size_t extra = hmap_get(&seen, key) - 1;
            if (extra) diag_hint(diags, d, "the same in %zu more period%s", extra, extra == 1 ? "" : "s");
        }
        if (st->score.kind == VAL_NULL)
            diag_report(diags, DIAG_WARNING, st->role->name_span, "no-score",
                        "staff %s, %s: every kpi of role '%s' is missing, so there is no score", who, label,
                        st->role->name);
        if (st->has_bonus && st->bonus.kind == VAL_NULL && !st->pool.pool) {
            for (int it = 0; it < st->role->u.role.item_count; it++) {
                const ast_role_item *b = &st->role->u.role.items[it];
                if (b->kind != ROLE_BONUS) continue;
                diag_report(diags, DIAG_WARNING, b->span, "no-bonus",
                            "staff %s, %s: the bonus of role '%s' has no value (n/a)", who, label,
                            st->role->name);
                break;
            }
        }
    }
    hmap_free(&first);
    hmap_free(&seen);
}

/* A roster row whose role names no declared role, while it is employed in one of the
 * periods, is scored nowhere: most often a typo (`Promotion` for `promotion`), which
 * must not pass as a line of the unscored list. One warning per distinct role, at the
 * role cell of its first such row, with the declared role meant or the declared roles.
 * An empty role is the way to say "no role" and is not reported. */
static void report_undeclared_roles(const score_result *r, diag_sink *diags)
{
    size_t roster_count, source_count;
    const eval_staff *roster = eval_roster(r->session, &roster_count);
    const eval_source_stats *sources = eval_sources(r->session, &source_count);
    const ast_decl *staff_source = r->model->roster;
    unsigned role_column = 0;
    for (int i = 0; staff_source && i < staff_source->u.source.column_count; i++)
        if (!strcmp(staff_source->u.source.columns[i].name, "role")) role_column = (unsigned)i + 1;
    const char *path = source_count ? sources[source_count - 1].path : NULL;
    bool *reported = xcalloc(roster_count + 1, sizeof *reported);
    bool *seen = xcalloc(roster_count + 1, sizeof *seen); /* an unscored row for a role not declared */
    for (size_t i = 0; i < r->unscored_count; i++)
        if (r->unscored[i].reason == SCORE_ROLE_NOT_DECLARED) seen[r->unscored[i].staff] = true;
    size_t period_count;
    const period_t *periods = eval_periods(r->session, &period_count);
    for (size_t i = 0; i < roster_count; i++) {
        const eval_staff *who = &roster[i];
        if (!seen[i] || reported[i] || !who->role || !*who->role) continue;
        bool employed = false;
        for (size_t p = 0; p < period_count && !employed; p++)
            employed = eval_staff_is_employed(who, periods[p]);
        if (!employed) continue;
        size_t more = 0;
        for (size_t j = i + 1; j < roster_count; j++) {
            if (!seen[j] || reported[j] || !roster[j].role || strcmp(roster[j].role, who->role)) continue;
            reported[j] = true;
            more++;
        }
        char label[256];
        diagnostic *d =
            diag_report_data(diags, DIAG_WARNING, path, (unsigned)who->line, role_column, "undeclared-role",
                             "role '%s' of staff %s is not declared in the spec; %s not scored", who->role,
                             staff_label(who, label, sizeof label), more ? "these rows are" : "the row is");
        const char *near = score_closest_role(r->model, who->role);
        if (near) {
            diag_hint(diags, d, "did you mean '%s'?", near);
        } else {
            char *roles = NULL;
            size_t len = 0;
            FILE *f = xopen_memstream(&roles, &len);
            for (size_t k = 0; k < r->model->roles.len; k++)
                fprintf(f, "%s%s", k ? ", " : "", ((const ast_decl *)r->model->roles.items[k])->name);
            xclose_memstream(f);
            diag_hint(diags, d, "the declared roles: %s; an empty role means no role", roles ? roles : "");
            free(roles);
        }
        if (more)
            diag_hint(diags, d, "%zu more roster row%s ha%s role '%s'", more, more == 1 ? "" : "s",
                      more == 1 ? "s" : "ve", who->role);
    }
    free(reported);
    free(seen);
}

/* The span of ROLE's bonus line (its name without one). */
static kp_span bonus_span(const ast_decl *role)
{
    for (int i = 0; i < role->u.role.item_count; i++)
        if (role->u.role.items[i].kind == ROLE_BONUS) return role->u.role.items[i].span;
    return role->name_span;
}

/* Every output prints per period the bonus total of each role and of every role; each
 * is added here in exact decimals, and one that leaves the range is an error (the
 * outputs must never print a sum that left an amount out). */
void score_check_totals(score_result *r, diag_sink *diags)
{
    size_t period_count;
    const period_t *periods = eval_periods(r->session, &period_count);
    char label[PERIOD_LABEL_SIZE];
    for (size_t p = 0, i = 0; p < period_count; p++) {
        size_t begin = i;
        while (i < r->statement_count && r->statements[i].period == p) i++;
        period_format(periods[p], label, sizeof label);
        dec_t all = { 0 };
        bool all_ok = true, role_overflow = false;
        const ast_decl *last_role = NULL;
        for (size_t k = 0; k < r->model->roles.len; k++) {
            const ast_decl *role = r->model->roles.items[k];
            dec_t sum = { 0 };
            bool ok = true;
            for (size_t j = begin; j < i && ok; j++) {
                const score_statement *st = &r->statements[j];
                if (st->role != role || st->bonus.kind != VAL_NUM) continue;
                ok = dec_add(sum, st->bonus.as.num, &sum) == DEC_OK;
                last_role = role;
            }
            if (!ok) {
                r->total_overflow = role_overflow = true;
                all_ok = false;
                if (!diags) continue;
                diagnostic *d =
                    diag_report(diags, DIAG_ERROR, bonus_span(role), "overflow",
                                "the bonus total of role '%s' in %s overflows: it leaves the exact "
                                "decimal range (|value| < 1.7e20)",
                                role->name, label);
                diag_hint(diags, d, "a bonus this large is most likely a wrong cell in the roster");
                continue;
            }
            if (all_ok) all_ok = dec_add(all, sum, &all) == DEC_OK;
        }
        if (!all_ok && !role_overflow) {
            r->total_overflow = true;
            if (!diags || !last_role) continue;
            diagnostic *d = diag_report(diags, DIAG_ERROR, bonus_span(last_role), "overflow",
                                        "the bonus total of %s (every role) overflows: it leaves the exact "
                                        "decimal range (|value| < 1.7e20)",
                                        label);
            diag_hint(diags, d, "a bonus this large is most likely a wrong cell in the roster");
        }
    }
}

score_result *score_compute(eval_session *s, chk_model *model, diag_sink *diags)
{
    score_result *r = xcalloc(1, sizeof *r);
    r->session = s;
    r->model = model;
    size_t period_count, roster_count;
    const period_t *periods = eval_periods(s, &period_count);
    const eval_staff *roster = eval_roster(s, &roster_count);
    size_t cells = period_count * roster_count;
    r->statements = xcalloc(cells ? cells : 1, sizeof *r->statements);
    r->unscored = xcalloc(cells ? cells : 1, sizeof *r->unscored);
    for (size_t p = 0; p < period_count; p++) {
        for (size_t i = 0; i < roster_count; i++) {
            const eval_staff *who = &roster[i];
            ast_decl *role = who->role ? chk_find(model, who->role) : NULL;
            if (!role || role->kind != DECL_ROLE) {
                if (periods[p].grain == model->grain)
                    r->unscored[r->unscored_count++] = (score_unscored){ p, (int)i, SCORE_ROLE_NOT_DECLARED };
                continue;
            }
            /* a role with its own period is scored in its periods only (docs/language.md
             * "Role periods"), and a role of the spec's grain not in those */
            if (role->u.role.grain != periods[p].grain) continue;
            if (!eval_staff_is_employed(who, periods[p])) {
                r->unscored[r->unscored_count++] = (score_unscored){ p, (int)i, SCORE_NOT_EMPLOYED };
                continue;
            }
            score_statement_compute(s, role, p, (int)i, &r->statements[r->statement_count++]);
        }
    }
    score_settle_grades(r, NULL);
    score_settle_pools(r, NULL, diags);
    for (size_t i = 0; i < r->statement_count; i++)
        if (r->statements[i].pool.pool || r->statements[i].grade.grades)
            r->statements[i].bonus_computed = r->statements[i].bonus;
    if (diags) {
        report_undeclared_roles(r, diags);
        report_warnings(r, diags);
        score_grades_report(r, diags);
    }
    score_check_totals(r, diags);
    return r;
}

ast_grain score_roles_grain(const chk_model *model, const ptr_vec *roles)
{
    return roles->len ? ((const ast_decl *)roles->items[0])->u.role.grain : model->grain;
}

void score_settle_pools(score_result *r, const bool *periods_wanted, diag_sink *diags)
{
    size_t period_count;
    const period_t *periods = eval_periods(r->session, &period_count);
    size_t pools = r->model->pools.len;
    if (!r->pools && pools) r->pools = xcalloc(period_count * pools + 1, sizeof *r->pools);
    r->pool_count = period_count * pools;
    score_statement **members = xcalloc(r->statement_count + 1, sizeof *members);
    for (size_t p = 0, begin = 0; p < period_count; p++) {
        size_t end = begin;
        while (end < r->statement_count && r->statements[end].period == p) end++;
        for (size_t k = 0; k < pools && (!periods_wanted || periods_wanted[p]); k++) {
            const ast_decl *pool = r->model->pools.items[k];
            if (score_roles_grain(r->model, &pool->u.pool.roles) != periods[p].grain) continue;
            size_t n = 0;
            for (size_t i = begin; i < end; i++)
                if (r->statements[i].pool.pool == pool) members[n++] = &r->statements[i];
            if (!score_pool_settle(r->session, pool, p, members, n, diags, &r->pools[p * pools + k]))
                r->pool_failed = true;
        }
        begin = end;
    }
    free(members);
}

void score_free(score_result *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->statement_count; i++) score_statement_free(&r->statements[i]);
    free(r->statements);
    free(r->unscored);
    free(r->pools);
    score_grade_runs_free(r);
    free(r);
}
