/* score_grades.c — ranking the members of roles with grades and grading them by quota
 * (see score.h, docs/language.md §9.4): the members of every role ranked on one table
 * form one group per period; score_grade_assign (score_plan.c) does the arithmetic,
 * and each member's bonus is evaluated once their grade is known.
 */
#include "score_internal.h"

#include <stdlib.h>
#include <string.h>

#include "kpic/ir.h"

const ast_grades **score_grade_tables(const chk_model *model, size_t *count)
{
    *count = 0;
    const ast_grades **out = NULL;
    for (size_t i = 0; i < model->roles.len; i++) {
        const ast_grades *g = ast_role_grades(model->roles.items[i]);
        if (!g) continue;
        bool seen = false;
        for (size_t k = 0; k < *count && !seen; k++) seen = out[k] == g;
        if (seen) continue;
        out = xrealloc(out, (*count + 1) * sizeof *out);
        out[(*count)++] = g;
    }
    return out;
}

void score_grade_context(const score_grade_place *place, eval_grade_context *out)
{
    const ast_grades *g = place->grades;
    out->grade = eval_null();
    if (g && place->grade >= 0 && place->grade < g->row_count) {
        out->grade.kind = VAL_TEXT;
        out->grade.as.text = g->rows[place->grade].name;
    }
    out->rank = place->rank > 0 ? eval_num(dec_from_int64(place->rank)) : eval_null();
    out->percentile = place->percentile;
    out->factor = place->factor;
}

/* Ranks the N members of one group on table G and sets their places; RUN (may be NULL)
 * gets the distribution. */
static void rank_group(const ast_grades *g, score_statement **members, size_t n, score_grade_run *run)
{
    size_t grades = (size_t)g->row_count;
    dec_t *quotas = xcalloc(grades + 1, sizeof *quotas);
    eval_value *factors = xcalloc(grades + 1, sizeof *factors);
    for (size_t k = 0; k < grades; k++) {
        const ast_grade *row = &g->rows[k];
        if (!row->rest && !lower_number_literal(row->quota, &quotas[k])) quotas[k] = dec_from_int64(0);
        dec_t f;
        factors[k] = row->factor && lower_number_literal(row->factor, &f) ? eval_num(f) : eval_null();
    }
    eval_value *scores = xcalloc(n + 1, sizeof *scores);
    bool *rankable = xcalloc(n + 1, sizeof *rankable);
    int *rank = xcalloc(n + 1, sizeof *rank), *grade = xcalloc(n + 1, sizeof *grade);
    size_t ranked = 0;
    for (size_t i = 0; i < n; i++) {
        scores[i] = members[i]->score;
        /* a failed gate pays nothing and must not take a quota place from someone scored */
        rankable[i] = members[i]->gates_passed;
        ranked += rankable[i] && scores[i].kind == VAL_NUM;
    }
    size_t *places = xcalloc(grades + 1, sizeof *places);
    if (score_grade_assign(scores, rankable, n, quotas, grades, rank, grade) != SCORE_GRADE_OK ||
        score_grade_bounds(quotas, grades, ranked, places) != SCORE_GRADE_OK) {
        /* the checker refuses such a table; grade no one rather than guess */
        for (size_t i = 0; i < n; i++) rank[i] = 0, grade[i] = (int)grades - 1;
    }
    for (size_t i = 0; i < n; i++) {
        score_grade_place *p = &members[i]->grade;
        int before = p->settled ? p->grade : -1;
        p->grades = g;
        p->settled = true;
        p->rank = rank[i];
        p->grade = grade[i];
        p->factor = factors[grade[i]];
        p->ranked = ranked;
        p->members = n;
        p->tied = 0;
        p->percentile = eval_null();
        if (before >= 0 && before != grade[i] && p->before_regrade < 0) p->before_regrade = before;
        if (!rank[i]) continue;
        size_t below = 0;
        for (size_t j = 0; j < n; j++) {
            if (!rank[j]) continue;
            int cmp = dec_cmp(scores[j].as.num, scores[i].as.num);
            below += cmp < 0;
            p->tied += cmp == 0;
        }
        dec_t pct = dec_from_int64(1);
        if (ranked > 1)
            dec_div(dec_from_int64((int64_t)below), dec_from_int64((int64_t)ranked - 1), DEC_PLACES, &pct);
        p->percentile = eval_num(pct);
    }
    for (size_t i = 0; i < n; i++) score_grade_context(&members[i]->grade, &members[i]->grade.values);
    if (run) {
        run->grades = g;
        run->members = n;
        run->ranked = ranked;
        run->counts = xcalloc(grades + 1, sizeof *run->counts);
        run->places = places;
        places = NULL;
        run->lowest = xcalloc(grades + 1, sizeof *run->lowest);
        for (size_t k = 0; k < grades; k++) run->lowest[k] = eval_null();
        for (size_t i = 0; i < n; i++) {
            run->counts[grade[i]]++;
            if (!rank[i]) continue;
            eval_value *low = &run->lowest[grade[i]];
            if (low->kind != VAL_NUM || dec_cmp(scores[i].as.num, low->as.num) < 0) *low = scores[i];
        }
    }
    free(places);
    free(quotas);
    free(factors);
    free(scores);
    free(rankable);
    free(rank);
    free(grade);
}

void score_rank_statements(eval_session *s, score_statement **sts, size_t n, const ast_grades *const *tables,
                           size_t table_count, score_grade_run *runs)
{
    score_statement **members = xcalloc(n + 1, sizeof *members);
    for (size_t k = 0; k < table_count; k++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (sts[i]->grade.grades == tables[k]) members[m++] = sts[i];
        rank_group(tables[k], members, m, runs ? &runs[k] : NULL);
    }
    free(members);
    for (size_t i = 0; i < n; i++)
        if (sts[i]->grade.grades && sts[i]->grade.settled) score_statement_bonus(s, sts[i]);
}

void score_grade_run_free(score_grade_run *run)
{
    free(run->counts);
    free(run->places);
    free(run->lowest);
    run->counts = run->places = NULL;
    run->lowest = NULL;
}

void score_grade_runs_free(score_result *r)
{
    for (size_t i = 0; i < r->grade_run_count; i++) score_grade_run_free(&r->grade_runs[i]);
    free(r->grade_runs);
    r->grade_runs = NULL;
    r->grade_run_count = 0;
}

void score_settle_grades(score_result *r, const bool *periods_wanted)
{
    size_t table_count, period_count;
    const ast_grades **tables = score_grade_tables(r->model, &table_count);
    const period_t *periods = eval_periods(r->session, &period_count);
    if (!table_count) return;
    if (!r->grade_runs) {
        r->grade_run_count = period_count * table_count;
        r->grade_runs = xcalloc(r->grade_run_count + 1, sizeof *r->grade_runs);
    }
    score_statement **sts = xcalloc(r->statement_count + 1, sizeof *sts);
    for (size_t p = 0, begin = 0; p < period_count; p++) {
        size_t end = begin;
        while (end < r->statement_count && r->statements[end].period == p) end++;
        if (!periods_wanted || periods_wanted[p]) {
            for (size_t i = begin; i < end; i++) sts[i - begin] = &r->statements[i];
            score_grade_run *runs = &r->grade_runs[p * table_count];
            for (size_t k = 0; k < table_count; k++) {
                score_grade_run_free(&runs[k]);
                runs[k].period = p;
            }
            score_rank_statements(r->session, sts, end - begin, tables, table_count, runs);
            /* a table of roles with another period grain is not ranked in this period */
            for (size_t k = 0; k < table_count; k++) {
                if (score_roles_grain(r->model, &tables[k]->roles) == periods[p].grain) continue;
                score_grade_run_free(&runs[k]);
                memset(&runs[k], 0, sizeof runs[k]);
                runs[k].period = p;
            }
        }
        begin = end;
    }
    free(sts);
    free(tables);
}

/* Whether dividing ST's pool or ranking ST needs the ranking of others. */
static bool waits_on_ranking(const score_statement *st)
{
    if (st->grade.grades) return true;
    const ast_decl *pool = st->pool.pool;
    for (size_t k = 0; pool && k < pool->u.pool.roles.len; k++)
        if (ast_role_grades(pool->u.pool.roles.items[k])) return true;
    return false;
}

/* Every other roster row scored in ST's period (with A's `kpi` rows), ST in its place
 * in roster order, ranked; *OTHERS holds the statements made here. */
static score_statement **period_ranked(eval_session *s, score_statement *st, const score_adjustments *a,
                                       size_t *n, score_statement **others, size_t *other_count,
                                       const ast_grades *const *tables, size_t table_count,
                                       score_grade_run *runs)
{
    size_t roster_count, period_count;
    const eval_staff *roster = eval_roster(s, &roster_count);
    const period_t *periods = eval_periods(s, &period_count);
    *others = xcalloc(roster_count + 1, sizeof **others);
    score_statement **all = xcalloc(roster_count + 1, sizeof *all);
    *n = *other_count = 0;
    for (size_t i = 0; i < roster_count; i++) {
        if ((int)i == st->staff) {
            all[(*n)++] = st;
            continue;
        }
        const eval_staff *who = &roster[i];
        ast_decl *role = NULL;
        /* only roles ranked on a table this group uses matter to it */
        for (size_t k = 0; who->role && k < table_count && !role; k++)
            for (size_t r = 0; r < tables[k]->roles.len && !role; r++)
                if (!strcmp(((ast_decl *)tables[k]->roles.items[r])->name, who->role))
                    role = tables[k]->roles.items[r];
        if (st->pool.pool)
            for (size_t k = 0; who->role && !role && k < st->pool.pool->u.pool.roles.len; k++)
                if (!strcmp(((ast_decl *)st->pool.pool->u.pool.roles.items[k])->name, who->role))
                    role = st->pool.pool->u.pool.roles.items[k];
        if (!role || !eval_staff_is_employed(who, periods[st->period])) continue;
        const score_adjustment **overrides =
            a ? score_adjust_overrides(s, role, st->period, (int)i, a) : NULL;
        score_statement_compute_with(s, role, st->period, (int)i, overrides, &(*others)[*other_count]);
        free(overrides);
        all[(*n)++] = &(*others)[(*other_count)++];
    }
    score_rank_statements(s, all, *n, tables, table_count, runs);
    return all;
}

/* The tables ST's group and ST's pool's members rank on. */
static const ast_grades **tables_of(const score_statement *st, size_t *count)
{
    *count = 0;
    const ast_grades **out = xcalloc(1 + (st->pool.pool ? st->pool.pool->u.pool.roles.len : 0), sizeof *out);
    if (st->grade.grades) out[(*count)++] = st->grade.grades;
    for (size_t k = 0; st->pool.pool && k < st->pool.pool->u.pool.roles.len; k++) {
        const ast_grades *g = ast_role_grades(st->pool.pool->u.pool.roles.items[k]);
        bool seen = !g;
        for (size_t j = 0; j < *count && !seen; j++) seen = out[j] == g;
        if (!seen) out[(*count)++] = g;
    }
    return out;
}

bool score_settle_one(eval_session *s, score_statement *st, const score_adjustments *a, diag_sink *diags)
{
    if (!waits_on_ranking(st)) return !st->pool.pool || score_pool_settle_one(s, st, a, diags);
    size_t table_count, n, other_count;
    const ast_grades **tables = tables_of(st, &table_count);
    score_statement *others;
    /* the group's distribution, for explain's cut-offs */
    score_grade_run *runs = xcalloc(table_count + 1, sizeof *runs);
    score_statement **all = period_ranked(s, st, a, &n, &others, &other_count, tables, table_count, runs);
    for (size_t k = 0; k < table_count; k++) {
        runs[k].period = st->period;
        if (k == 0 && st->grade.grades) {
            if (st->grade.run) {
                score_grade_run_free(st->grade.run);
                free(st->grade.run);
            }
            st->grade.run = xcalloc(1, sizeof *st->grade.run);
            *st->grade.run = runs[0];
        } else {
            score_grade_run_free(&runs[k]);
        }
    }
    free(runs);
    bool ok = true;
    if (st->pool.pool) {
        score_statement **members = xcalloc(n + 1, sizeof *members);
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (all[i]->pool.pool == st->pool.pool) members[m++] = all[i];
        score_pool_run run;
        ok = score_pool_settle(s, st->pool.pool, st->period, members, m, diags, &run);
        free(members);
    }
    for (size_t i = 0; i < other_count; i++) score_statement_free(&others[i]);
    free(others);
    free(all);
    free(tables);
    return ok;
}


void score_grades_report(const score_result *r, diag_sink *diags)
{
    size_t period_count, roster_count;
    const period_t *periods = eval_periods(r->session, &period_count);
    const eval_staff *roster = eval_roster(r->session, &roster_count);
    char label[PERIOD_LABEL_SIZE];
    for (size_t i = 0; i < r->statement_count; i++) {
        const score_statement *st = &r->statements[i];
        const score_grade_place *g = &st->grade;
        if (!g->grades || !g->settled || g->rank || !st->gates_passed || st->score.kind == VAL_NUM) continue;
        const eval_staff *who = &roster[st->staff];
        period_format(periods[st->period], label, sizeof label);
        const char *last = g->grades->rows[g->grade].name;
        diagnostic *d =
            diag_report(diags, DIAG_WARNING, g->grades->rows[g->grade].name_span, "unranked",
                        "staff '%s'%s%s%s, %s: no score, so not ranked; given grade %s, the last", who->id,
                        who->name ? " (" : "", who->name ? who->name : "", who->name ? ")" : "", label, last);
        diag_hint(diags, d,
                  "a member without a score takes no quota place from those scored (docs/language.md "
                  "§9.4); to pay otherwise, decide the bonus with bonus_set in an adjustments file");
    }
}
