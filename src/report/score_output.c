/* score_output.c — the outputs of `kpic score`: table, JSON, CSV, Markdown and HTML.
 *
 * Numbers for machines (JSON, CSV), rounded half away from zero from the exact
 * decimals, trailing zeros dropped:
 *   value, target   as `kpic eval` writes them: money to 2 places, an integer as its
 *                   digits, any other number as the shortest digits that read back
 *                   as the same double (percent and ratio as plain fractions)
 *   achievement     4 places (1.0833)
 *   weight          6 places: the effective weight (rescaled under `missing skip`;
 *                   0 for a dropped kpi), so that weighted = weight × points
 *   points,         2 places (104.17, 41.67, 101.2); a missing kpi has points 0 under
 *   weighted, score `missing zero` and null under `missing skip`; weighted is 0 for both
 *   bonus           always 2 places (5600.00), as money is paid
 *   employed        6 places (0.645161 for 20 of 31 days); the days are in the notes
 *   null            JSON null; an empty CSV cell
 * Numbers for people (table, Markdown, HTML) come from eval_format_value(): values by
 * the indicator's unit, achievement as a percentage, points with at most 2 places,
 * money with 2 places and thousands separators.
 *
 * Every format says why a bonus is what it is with the same words: the notes of
 * statement_reasons(), the gates with their values, the reason of an unscored row.
 *
 * Output is deterministic: periods in session order, roles in declaration order,
 * staff in roster order; no clock, no locale, no addresses.
 */
#include "score_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "eval_output.h"
#include "kpic/hash.h"
#include "kpic/ir.h"
#include "kpic/json.h"
#include "kpic/markup.h"

/* Holds any number text: dec_format() plus separators, '%', sign. */
#define NUM_SIZE (DEC_FORMAT_SIZE + 32)

/* ---- shared pieces -------------------------------------------------------------------- */

typedef struct render_ctx {
    const score_result *r;
    const score_render_options *o;
    eval_session *s;
    const period_t *periods;
    size_t period_count;
    const eval_staff *roster;
    size_t roster_count;
    const eval_source_stats *sources;
    size_t source_count;
    size_t *st_begin; /* [period_count + 1]: where each period's statements start */
    size_t *un_begin; /* [period_count + 1]: the same for the unscored rows */
    arena mem;        /* texts that live as long as the rendering */
} render_ctx;

/* V to PLACES decimals, trailing zeros dropped unless KEEP. */
static void write_fixed(FILE *out, dec_t v, unsigned places, bool keep)
{
    json_write_decimal(out, v, places, keep);
}

static bool is_integral(dec_t v)
{
    dec_t r;
    return dec_round(v, 0, &r) == DEC_OK && dec_cmp(r, v) == 0;
}

/* A value or target for machines, by the indicator's unit (as `kpic eval`). */
static void write_unit_number(FILE *out, dec_t v, ast_unit unit)
{
    if (unit == UNIT_MONEY) write_fixed(out, v, 2, false);
    else if (is_integral(v)) write_fixed(out, v, 0, false);
    else json_write_double(out, dec_to_double(v));
}

/* A number to PLACES (KEEP: all of them), or JSON null / an empty CSV cell. */
static void write_machine_places(FILE *out, eval_value v, unsigned places, bool keep, bool json)
{
    if (v.kind == VAL_NUM) write_fixed(out, v.as.num, places, keep);
    else if (json) fputs("null", out);
}

static void write_machine_unit(FILE *out, eval_value v, ast_unit unit, bool json)
{
    if (v.kind == VAL_NUM) write_unit_number(out, v.as.num, unit);
    else if (json) fputs("null", out);
}

/* A value as people read it. */
static const char *people(render_ctx *c, eval_value v, ast_unit unit)
{
    char buf[NUM_SIZE];
    eval_format_value(v, unit, buf, sizeof buf);
    return arena_strndup(&c->mem, buf, strlen(buf));
}

static const char *people_num(render_ctx *c, dec_t d, ast_unit unit)
{
    return people(c, eval_num(d), unit);
}

/* A copy of S fit for one line: control characters become spaces. NULL gives "". */
static const char *one_line(render_ctx *c, const char *s)
{
    if (!s) return "";
    char *out = arena_strndup(&c->mem, s, strlen(s));
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = ' ';
    return out;
}

static ast_unit kpi_unit(const score_kpi *k)
{
    return k->indicator ? k->indicator->u.indicator.unit : UNIT_NUMBER;
}

/* The points a kpi shows: 0 when missing (zero mode), null when dropped. */
static eval_value shown_points(const score_kpi *k)
{
    if (k->dropped) return eval_null();
    if (k->missing) return eval_num(dec_from_int64(0));
    return k->points;
}

static const char *period_text(render_ctx *c, size_t p)
{
    char buf[PERIOD_LABEL_SIZE];
    period_format(c->periods[p], buf, sizeof buf);
    return arena_strndup(&c->mem, buf, strlen(buf));
}

/* "2025-05-01 to 2025-05-31", or "" for a one-day period. */
static const char *period_days_text(render_ctx *c, size_t p, const char *sep)
{
    const period_t *per = &c->periods[p];
    if (per->end - per->start <= 1) return "";
    char a[DATE_FORMAT_SIZE], b[DATE_FORMAT_SIZE];
    date_format(per->start, a, sizeof a);
    date_format(per->end - 1, b, sizeof b);
    return arena_printf(&c->mem, "%s%s%s", a, sep, b);
}

static const char *role_title(render_ctx *c, const ast_decl *role)
{
    return role->u.role.label ? arena_printf(&c->mem, "%s %s", role->name, one_line(c, role->u.role.label))
                              : role->name;
}

static const char *gate_text(render_ctx *c, const score_gate *g)
{
    return diag_span_text(c->o->diags, g->item->expr->span, &c->mem);
}

/* The condition with its values filled in: "25% <= 20%". */
static const char *gate_values(render_ctx *c, const score_statement *st, const score_gate *g)
{
    char *filled = score_filled_text(c->s, st, NULL, g->item->expr);
    const char *text = arena_strndup(&c->mem, filled, strlen(filled));
    free(filled);
    return text;
}

/* What the condition gave: "true", "false" or "n/a" (which fails). */
static const char *gate_result(const score_gate *g)
{
    return g->value.kind == VAL_BOOL ? (g->value.as.b ? "true" : "false") : "n/a";
}

/* "complaint_rate <= 20% (25% <= 20% is false)" for a failed gate. */
static const char *gate_failure(render_ctx *c, const score_statement *st, const score_gate *g)
{
    return arena_printf(&c->mem, "%s (%s is %s)", gate_text(c, g), gate_values(c, st, g), gate_result(g));
}

/* Every gate with its values and its result, "; "-separated:
 * "complaint_rate <= 20%: passed (10% <= 20%)", "…: failed (25% <= 20% is false)".
 * "" for a role without gates. */
static const char *gates_summary(render_ctx *c, const score_statement *st)
{
    const char *text = "";
    for (size_t g = 0; g < st->gate_count; g++) {
        const score_gate *gate = &st->gates[g];
        text = arena_printf(&c->mem, "%s%s%s: %s (%s%s%s)", text, g ? "; " : "", gate_text(c, gate),
                            gate->passed ? "passed" : "failed", gate_values(c, st, gate),
                            gate->passed ? "" : " is ", gate->passed ? "" : gate_result(gate));
    }
    return text;
}

/* Why a kpi has no points, and what that did: "value n/a, 0 points",
 * "-500% outside scale curve, dropped". NULL for a kpi with points. */
static const char *missing_reason(render_ctx *c, const score_kpi *kp)
{
    if (!kp->missing) return NULL;
    const char *why;
    if (kp->out_of_scale) {
        char input[NUM_SIZE];
        /* an achievement is a percentage; a scale call's input is shown as the scale's
         * bounds are written (as the warning shows it), so -5 against [0%, 60%) reads
         * -500% */
        if (kp->scale) eval_format_value(eval_num(kp->out_of_scale_input), UNIT_PERCENT, input, sizeof input);
        else eval_scale_input_text(c->s, kp->out_of_scale, kp->out_of_scale_input, input, sizeof input);
        why = arena_printf(&c->mem, "%s %s outside scale %s", kp->scale ? "achievement" : "input", input,
                           kp->out_of_scale->name);
    } else if (kp->value.kind != VAL_NUM) {
        why = "value n/a";
    } else if (kp->item->has_target && kp->target.kind != VAL_NUM) {
        why = "target n/a";
    } else if (kp->item->has_target && kp->achievement.kind != VAL_NUM) {
        why = "target is 0";
    } else {
        why = "points n/a";
    }
    return arena_printf(&c->mem, "%s, %s", why, kp->dropped ? "dropped" : "0 points");
}

static bool same_value(eval_value a, eval_value b)
{
    if (a.kind != b.kind) return false;
    return a.kind != VAL_NUM || dec_cmp(a.as.num, b.as.num) == 0;
}

/* One adjustment as every format words it:
 *     revenue adjusted: 900.00 → 1,200.00 (late order booked in June; approved by 王经理)
 *     bonus set to 5,000.00 (…; approved by …)
 *     bonus adjusted by +500.00 (…; approved by …) */
static const char *adjustment_note(render_ctx *c, const score_statement *st, const score_adjustment *a)
{
    const char *why = arena_printf(&c->mem, "(%s; approved by %s)", a->reason, a->approved_by);
    switch (a->kind) {
    case SCORE_ADJUST_KPI:
        for (size_t k = 0; k < st->kpi_count; k++) {
            const score_kpi *kp = &st->kpis[k];
            if (kp->override != a) continue;
            return arena_printf(&c->mem, "%s adjusted: %s → %s %s", a->kpi,
                                people(c, kp->value_computed, kpi_unit(kp)),
                                people_num(c, a->amount, kpi_unit(kp)), why);
        }
        return arena_printf(&c->mem, "%s adjusted to %s %s", a->kpi, people_num(c, a->amount, UNIT_NUMBER),
                            why);
    case SCORE_ADJUST_BONUS_SET:
        return arena_printf(&c->mem, "bonus set to %s %s", people_num(c, a->amount, UNIT_MONEY), why);
    case SCORE_ADJUST_BONUS_ADD:
        return arena_printf(&c->mem, "bonus adjusted by %s%s %s", dec_sign(a->amount) >= 0 ? "+" : "",
                            people_num(c, a->amount, UNIT_MONEY), why);
    }
    return "";
}

/* Where a pooled bonus came from, as every format words it:
 *     pool sales_pool: 28.72% of the shares, held at the cap 4,000.00
 *     pool sales_pool: 28.72% of the shares, raised to the floor 1,000.00
 *     pool sales_pool: 28.72% of the shares
 *     pool sales_pool: no part (a gate failed | the share is n/a | the share is 0)
 * The percentage is the member's claim over every member's, before caps and floors. */
static const char *pool_note(render_ctx *c, const score_statement *st)
{
    const score_pool_part *part = &st->pool;
    const char *name = part->pool->name;
    if (part->place == SCORE_POOL_NO_PART || dec_sign(part->shares) <= 0) {
        const char *why = !st->gates_passed             ? "a gate failed"
                          : part->share.kind != VAL_NUM ? "the share is n/a"
                                                        : "the share is 0";
        return arena_printf(&c->mem, "pool %s: no part (%s)", name, why);
    }
    dec_t fraction;
    const char *pct = "?";
    if (dec_div(part->claim, part->shares, DEC_PLACES, &fraction) == DEC_OK)
        pct = people_num(c, fraction, UNIT_PERCENT);
    const char *text = arena_printf(&c->mem, "pool %s: %s of the shares", name, pct);
    if (part->place == SCORE_POOL_AT_CAP)
        text = arena_printf(&c->mem, "%s, held at the cap %s", text, people(c, part->cap, UNIT_MONEY));
    else if (part->place == SCORE_POOL_AT_FLOOR)
        text = arena_printf(&c->mem, "%s, raised to the floor %s", text, people(c, part->floor, UNIT_MONEY));
    return text;
}

/* "sales_pool 销售奖金池 10,000.00: 10,000.00 paid to 3 of 5 members" (and what was
 * not paid out), for the summaries of the table, Markdown and HTML. */
static const char *pool_summary(render_ctx *c, const score_pool_run *run)
{
    const ast_decl *pool = run->pool;
    size_t with_part = 0;
    for (size_t i = c->st_begin[run->period]; i < c->st_begin[run->period + 1]; i++) {
        const score_statement *st = &c->r->statements[i];
        with_part += st->pool.pool == pool && st->pool.place != SCORE_POOL_NO_PART;
    }
    const char *title =
        pool->u.pool.label ? arena_printf(&c->mem, "%s %s", pool->name, pool->u.pool.label) : pool->name;
    const char *text = arena_printf(&c->mem, "%s %s: %s paid to %zu of %zu member%s", title,
                                    people(c, run->amount, UNIT_MONEY), people_num(c, run->paid, UNIT_MONEY),
                                    with_part, run->members, run->members == 1 ? "" : "s");
    if (dec_sign(run->undistributed) != 0)
        text =
            arena_printf(&c->mem, "%s, %s not paid out", text, people_num(c, run->undistributed, UNIT_MONEY));
    return text;
}

/* Whether ROLE is scored in period P: a role with a period of its own (a quarter) is
 * shown in its periods only, the others in the spec's (docs/language.md "Role periods"). */
static bool role_in_period(const render_ctx *c, const ast_decl *role, size_t p)
{
    return role->u.role.grain == c->periods[p].grain;
}

/* The pools divided in period P, in declaration order: *COUNT of them. */
static const score_pool_run *pools_in(const render_ctx *c, size_t p, size_t *count)
{
    size_t n = c->r->model->pools.len;
    n = c->r->pools && p * n < c->r->pool_count ? n : 0;
    /* a pool of roles with another period grain than P's is not divided in P */
    score_pool_run *live = arena_alloc((arena *)&c->mem, (n + 1) * sizeof *live);
    *count = 0;
    for (size_t i = 0; i < n; i++)
        if (c->r->pools[p * n + i].pool) live[(*count)++] = c->r->pools[p * n + i];
    return live;
}

/* ---- grades (docs/language.md §9.4) ---- */

/* The grade's name, or "" when the statement's role has no grades. */
static const char *grade_text(const score_statement *st)
{
    const score_grade_place *g = &st->grade;
    return g->grades && g->settled ? g->grades->rows[g->grade].name : "";
}

/* "1", "1 (tie)" or "-" for a member who is not ranked. */
static const char *rank_text(render_ctx *c, const score_statement *st)
{
    const score_grade_place *g = &st->grade;
    if (!g->grades || !g->settled) return "";
    if (!g->rank) return "-";
    return g->tied > 1 ? arena_printf(&c->mem, "%d=", g->rank) : arena_printf(&c->mem, "%d", g->rank);
}

/* The grade's factor for people ("1.5"), or "" without factors. */
static const char *factor_text(render_ctx *c, const score_statement *st)
{
    const score_grade_place *g = &st->grade;
    return g->grades && g->settled && g->factor.kind == VAL_NUM ? people(c, g->factor, UNIT_NUMBER) : "";
}

/* Why a member is not ranked, or had their grade changed by others' adjustments:
 *     not ranked (a gate failed): grade C
 *     not ranked (no score): grade C
 *     grade B after other members' kpi adjustments ranked the group again: A before */
static const char *grade_note(render_ctx *c, const score_statement *st)
{
    const score_grade_place *g = &st->grade;
    if (!g->grades || !g->settled) return NULL;
    if (g->before_regrade >= 0)
        return arena_printf(&c->mem,
                            "grade %s after other members' kpi adjustments ranked the group again: %s before",
                            grade_text(st), g->grades->rows[g->before_regrade].name);
    if (!g->rank)
        return arena_printf(&c->mem, "not ranked (%s): grade %s",
                            !st->gates_passed ? "a gate failed" : "no score", grade_text(st));
    return NULL;
}

/* A role's members by grade: "grades: A 2, B 3, C 2 (2 not ranked); 5 of 7 ranked",
 * and the roles ranked with it when its table is shared. */
static const char *grade_distribution(render_ctx *c, const ast_decl *role, const size_t *idx, size_t n)
{
    const ast_grades *g = ast_role_grades(role);
    if (!g || n == 0) return NULL;
    const char *text = "grades:";
    size_t ranked = 0, unranked = 0;
    for (size_t i = 0; i < n; i++) {
        const score_grade_place *p = &c->r->statements[idx[i]].grade;
        ranked += p->rank > 0;
        unranked += p->settled && p->rank == 0;
    }
    for (int k = 0; k < g->row_count; k++) {
        size_t count = 0;
        for (size_t i = 0; i < n; i++) {
            const score_grade_place *p = &c->r->statements[idx[i]].grade;
            count += p->settled && p->grade == k;
        }
        text = arena_printf(&c->mem, "%s%s %s %zu", text, k ? "," : "", g->rows[k].name, count);
        if (k + 1 == g->row_count && unranked)
            text = arena_printf(&c->mem, "%s (%zu not ranked)", text, unranked);
    }
    text = arena_printf(&c->mem, "%s; %zu of %zu ranked", text, ranked, n);
    if (g->decl) {
        text = arena_printf(&c->mem, "%s on grades %s", text, g->decl->name);
        const char *with = "";
        for (size_t r = 0; r < g->roles.len; r++) {
            const ast_decl *other = g->roles.items[r];
            if (other != role) with = arena_printf(&c->mem, "%s%s%s", with, *with ? ", " : "", other->name);
        }
        if (*with) text = arena_printf(&c->mem, "%s, ranked together with %s", text, with);
    }
    return text;
}

/* One group's distribution in a period, for the summaries: "grades company 公司考评
 * (sales, support): A 2, B 3, C 3; 7 of 8 ranked; cut-offs A 2 places, A–B 5". */
static const char *grade_run_summary(render_ctx *c, const score_grade_run *run)
{
    const ast_grades *g = run->grades;
    const char *title = !g->decl ? "grades"
                        : g->decl->u.grades.label
                            ? arena_printf(&c->mem, "grades %s %s", g->decl->name, g->decl->u.grades.label)
                            : arena_printf(&c->mem, "grades %s", g->decl->name);
    const char *roles = "";
    for (size_t r = 0; r < g->roles.len; r++)
        roles = arena_printf(&c->mem, "%s%s%s", roles, r ? ", " : "",
                             ((const ast_decl *)g->roles.items[r])->name);
    const char *text = arena_printf(&c->mem, "%s (%s):", title, roles);
    for (int k = 0; k < g->row_count; k++)
        text = arena_printf(&c->mem, "%s%s %s %zu", text, k ? "," : "", g->rows[k].name,
                            run->counts ? run->counts[k] : 0);
    text = arena_printf(&c->mem, "%s; %zu of %zu ranked; cut-offs", text, run->ranked, run->members);
    for (int k = 0; run->places && k + 1 < g->row_count; k++)
        text = arena_printf(&c->mem, "%s%s %s%s%s %zu place%s", text, k ? "," : "", k ? g->rows[0].name : "",
                            k ? "–" : "", g->rows[k].name, run->places[k], run->places[k] == 1 ? "" : "s");
    return text;
}

/* The groups ranked in period P: *COUNT of them. */
static const score_grade_run *grade_runs_in(const render_ctx *c, size_t p, size_t *count)
{
    size_t n = c->period_count ? c->r->grade_run_count / c->period_count : 0;
    n = n && p * n < c->r->grade_run_count ? n : 0;
    /* a table of roles with another period grain than P's is not ranked in P */
    score_grade_run *live = arena_alloc((arena *)&c->mem, (n + 1) * sizeof *live);
    *count = 0;
    for (size_t i = 0; i < n; i++)
        if (c->r->grade_runs[p * n + i].grades) live[(*count)++] = c->r->grade_runs[p * n + i];
    return live;
}

/* The reasons a statement's bonus is what it is, in this order: partial employment,
 * missing kpis with why, failed gates with their values, a score or bonus without a
 * value, a role without a bonus; then each adjustment (file order) and the bonus the
 * rules computed when the adjustments changed it. *COUNT of them (0: a full bonus by
 * the rules). */
static const char **statement_reasons(render_ctx *c, const score_statement *st, size_t *count)
{
    const char **notes =
        arena_alloc(&c->mem, (st->kpi_count + st->gate_count + st->adjustment_count + 10) * sizeof *notes);
    size_t n = 0;
    if (st->employed_days.den > 0 && st->employed_days.num != st->employed_days.den)
        notes[n++] =
            arena_printf(&c->mem, "employed %d/%d", (int)st->employed_days.num, (int)st->employed_days.den);
    char *roles = score_role_days_note(c->r->session, st->period, st->staff);
    if (roles) {
        notes[n++] = arena_printf(&c->mem, "%s", roles);
        free(roles);
    }
    for (size_t k = 0; k < st->kpi_count; k++) {
        const score_kpi *kp = &st->kpis[k];
        if (kp->missing)
            notes[n++] = arena_printf(&c->mem, "%s missing (%s)", kp->item->indicator, missing_reason(c, kp));
    }
    for (size_t g = 0; g < st->gate_count; g++)
        if (!st->gates[g].passed)
            notes[n++] = arena_printf(&c->mem, "gate failed: %s", gate_failure(c, st, &st->gates[g]));
    if (st->score.kind == VAL_NULL) notes[n++] = "every kpi missing";
    const char *graded = grade_note(c, st);
    if (graded) notes[n++] = graded;
    if (st->grade.bonus_before.kind == VAL_NUM)
        notes[n++] =
            arena_printf(&c->mem, "bonus ranked again after other members' kpi adjustments: %s before",
                         people(c, st->grade.bonus_before, UNIT_MONEY));
    if (st->pool.pool && st->pool.settled) notes[n++] = pool_note(c, st);
    if (st->pool.pool && st->pool.before_redivision.kind == VAL_NUM)
        notes[n++] =
            arena_printf(&c->mem, "pool %s divided again after other members' kpi adjustments: %s before",
                         st->pool.pool->name, people(c, st->pool.before_redivision, UNIT_MONEY));
    if (!st->has_bonus) notes[n++] = "role has no bonus";
    else if (st->gates_passed && st->bonus.kind == VAL_NULL)
        notes[n++] = "bonus n/a: its expression has no value";
    for (size_t a = 0; a < st->adjustment_count; a++) notes[n++] = adjustment_note(c, st, st->adjustments[a]);
    if (st->adjustment_count && !same_value(st->bonus, st->bonus_computed))
        notes[n++] = arena_printf(&c->mem, "computed bonus %s", people(c, st->bonus_computed, UNIT_MONEY));
    *count = n;
    return notes;
}

/* The reasons joined with "; ", or "". */
static const char *statement_notes(render_ctx *c, const score_statement *st)
{
    size_t n;
    const char **notes = statement_reasons(c, st, &n);
    const char *text = "";
    for (size_t i = 0; i < n; i++) text = arena_printf(&c->mem, "%s%s%s", text, i ? "; " : "", notes[i]);
    return text;
}

/* Why a roster row is unscored, with the declared role its role is closest to:
 * "role not declared (did you mean 'promotion'?)". */
static const char *unscored_note(render_ctx *c, const score_unscored *u)
{
    const char *reason = score_reason_text(u->reason);
    const char *role = c->roster[u->staff].role;
    const char *near =
        u->reason == SCORE_ROLE_NOT_DECLARED && role ? score_closest_role(c->r->model, role) : NULL;
    return near ? arena_printf(&c->mem, "%s (did you mean '%s'?)", reason, near) : reason;
}

/* The rows skipped under --skip-bad-rows, per source that had any:
 * "orders: 5 rows skipped; tickets: 1 row skipped"; "" when none was. */
static const char *skipped_note(render_ctx *c)
{
    return eval_skipped_text(c->sources, c->source_count, &c->mem);
}

/* The statements of ROLE in period P, in roster order (indices into r->statements). */
static size_t role_statements(const render_ctx *c, size_t p, const ast_decl *role, size_t *out)
{
    size_t n = 0;
    for (size_t i = c->st_begin[p]; i < c->st_begin[p + 1]; i++)
        if (c->r->statements[i].role == role) out[n++] = i;
    return n;
}

/* Sum of the bonuses of ROLE's statements (every role's when ROLE is NULL) in period
 * P; *COUNT statements, *NULLS of them without a bonus value. Exact: score_compute
 * has added the same totals and, when one overflows, set total_overflow, on which the
 * command fails and writes nothing. */
static dec_t bonus_total(const render_ctx *c, size_t p, const ast_decl *role, size_t *count, size_t *nulls)
{
    dec_t sum = { 0 };
    *count = *nulls = 0;
    for (size_t i = c->st_begin[p]; i < c->st_begin[p + 1]; i++) {
        const score_statement *st = &c->r->statements[i];
        if (role && st->role != role) continue;
        (*count)++;
        if (st->bonus.kind != VAL_NUM) {
            (*nulls)++;
            continue;
        }
        dec_t next;
        if (dec_add(sum, st->bonus.as.num, &next) == DEC_OK) sum = next;
    }
    return sum;
}

static bool role_has_bonus(const ast_decl *role)
{
    for (int i = 0; i < role->u.role.item_count; i++)
        if (role->u.role.items[i].kind == ROLE_BONUS) return true;
    return false;
}

static size_t unscored_in(const render_ctx *c, size_t p)
{
    return c->un_begin[p + 1] - c->un_begin[p];
}

static size_t scored_in(const render_ctx *c, size_t p)
{
    return c->st_begin[p + 1] - c->st_begin[p];
}

/* The person of roster row ROW: their first row (a person with a row per role has
 * several); every row of a person with one row is its own. */
static int person_of(const render_ctx *c, int row)
{
    return c->roster[row].id_rows > 1 ? c->roster[row].first_row : row;
}

/* The bonus of the person of statement I, added up over their statements in its
 * period (a person who changed roles has one per role); *COUNT statements, *KNOWN false
 * when one has no bonus value. */
static dec_t person_bonus(const render_ctx *c, size_t i, size_t *count, bool *known)
{
    const score_statement *st = &c->r->statements[i];
    int person = person_of(c, st->staff);
    dec_t sum = { 0 };
    *count = 0;
    *known = true;
    for (size_t j = c->st_begin[st->period]; j < c->st_begin[st->period + 1]; j++) {
        const score_statement *other = &c->r->statements[j];
        if (person_of(c, other->staff) != person) continue;
        (*count)++;
        dec_t next;
        if (other->bonus.kind == VAL_NUM && dec_add(sum, other->bonus.as.num, &next) == DEC_OK) sum = next;
        else *known = false;
    }
    return sum;
}

static const char *staff_text(render_ctx *c, const eval_staff *who);

/* The people of period P with more than one statement (a roster row per role), in
 * roster order: *WHO "t01 王一", *PAY "promotion 1,530.00 + operations 2,784.00 =
 * 4,314.00"; *N of them (arrays in c->mem). */
static void several_roles(render_ctx *c, size_t p, size_t *n, const char ***who, const char ***pay)
{
    const score_result *r = c->r;
    size_t cap = scored_in(c, p) + 1;
    *who = arena_alloc(&c->mem, cap * sizeof **who);
    *pay = arena_alloc(&c->mem, cap * sizeof **pay);
    *n = 0;
    for (size_t i = c->st_begin[p]; i < c->st_begin[p + 1]; i++) {
        const eval_staff *person = &c->roster[r->statements[i].staff];
        size_t count;
        bool known;
        dec_t sum = person_bonus(c, i, &count, &known);
        if (count < 2) continue;
        bool first = true;
        for (size_t j = c->st_begin[p]; j < i && first; j++)
            first = person_of(c, r->statements[j].staff) != person_of(c, r->statements[i].staff);
        if (!first) continue;
        const char *text = "";
        size_t shown = 0;
        for (size_t j = i; j < c->st_begin[p + 1]; j++) {
            const score_statement *other = &r->statements[j];
            if (person_of(c, other->staff) != person_of(c, r->statements[i].staff)) continue;
            text = arena_printf(&c->mem, "%s%s%s %s", text, shown++ ? " + " : "",
                                one_line(c, other->role->name), people(c, other->bonus, UNIT_MONEY));
        }
        (*who)[*n] = staff_text(c, person);
        (*pay)[(*n)++] =
            arena_printf(&c->mem, "%s = %s", text, known ? people_num(c, sum, UNIT_MONEY) : "n/a");
    }
}

/* How many people the statements of period P are for: a person in two roles is one. */
static size_t people_in(const render_ctx *c, size_t p)
{
    size_t n = 0;
    for (size_t i = c->st_begin[p]; i < c->st_begin[p + 1]; i++) {
        int person = person_of(c, c->r->statements[i].staff);
        bool seen = false;
        for (size_t j = c->st_begin[p]; j < i && !seen; j++)
            seen = person_of(c, c->r->statements[j].staff) == person;
        n += !seen;
    }
    return n;
}

/* ---- JSON (docs/json.md) ----------------------------------------------------------------- */

static void json_string_or_null(FILE *out, const char *s)
{
    if (s) json_write_string(out, s);
    else fputs("null", out);
}

/* , "bonus_computed": …, "adjustments": [{"kind", "kpi", "amount", "computed",
 * "reason", "approved_by", "line"}…] — only on a statement that was adjusted. */
static void json_adjustments(FILE *out, const score_statement *st)
{
    fputs(", \"bonus_computed\": ", out);
    write_machine_places(out, st->bonus_computed, 2, true, true);
    fputs(",\n   \"adjustments\": [", out);
    for (size_t i = 0; i < st->adjustment_count; i++) {
        const score_adjustment *a = st->adjustments[i];
        fputs(i ? ", {\"kind\": " : "{\"kind\": ", out);
        json_write_string(out, score_adjust_kind_name(a->kind));
        fputs(", \"kpi\": ", out);
        json_string_or_null(out, a->kpi);
        fputs(", \"amount\": ", out);
        eval_value computed = st->bonus_computed;
        ast_unit unit = UNIT_MONEY;
        for (size_t k = 0; k < st->kpi_count; k++)
            if (st->kpis[k].override == a) {
                computed = st->kpis[k].value_computed;
                unit = kpi_unit(&st->kpis[k]);
            }
        if (a->kind == SCORE_ADJUST_KPI) write_machine_unit(out, eval_num(a->amount), unit, true);
        else write_machine_places(out, eval_num(a->amount), 2, true, true);
        fputs(", \"computed\": ", out);
        if (a->kind == SCORE_ADJUST_KPI) write_machine_unit(out, computed, unit, true);
        else write_machine_places(out, computed, 2, true, true);
        fputs(", \"reason\": ", out);
        json_write_string(out, a->reason);
        fputs(", \"approved_by\": ", out);
        json_write_string(out, a->approved_by);
        fprintf(out, ", \"line\": %u}", a->line);
    }
    fputc(']', out);
}

static const char *const pool_place_names[] = { "proportional", "cap", "floor", "none" };

/* , "pool": {"name", "share", "claim", "cap", "floor", "place", "amount", "shares"} —
 * only on a statement whose bonus is a part of a pool. */
static void json_pool_part(FILE *out, const score_statement *st)
{
    const score_pool_part *part = &st->pool;
    fputs(",\n   \"pool\": {\"name\": ", out);
    json_write_string(out, part->pool->name);
    fputs(", \"share\": ", out);
    write_machine_unit(out, part->share, UNIT_NUMBER, true);
    fputs(", \"claim\": ", out);
    write_machine_unit(out, eval_num(part->claim), UNIT_NUMBER, true);
    fputs(", \"cap\": ", out);
    write_machine_places(out, part->cap, 2, true, true);
    fputs(", \"floor\": ", out);
    write_machine_places(out, part->floor, 2, true, true);
    fputs(", \"place\": ", out);
    json_write_string(out, pool_place_names[part->place]);
    fputs(", \"amount\": ", out);
    write_machine_places(out, eval_num(part->amount), 2, true, true);
    fputs(", \"shares\": ", out);
    write_machine_unit(out, eval_num(part->shares), UNIT_NUMBER, true);
    fputc('}', out);
}

/* ,\n "pools": [{"period", "name", "label", "amount", "paid", "undistributed",
 * "members"}…] — only when the spec declares pools. */
/* A ranked statement's place: "grade": {"name", "rank", "tied", "percentile",
 * "factor", "ranked", "members", "grades", "before"}. */
static void json_grade(FILE *out, const score_statement *st)
{
    const score_grade_place *g = &st->grade;
    fputs(",\n   \"grade\": {\"name\": ", out);
    json_write_string(out, g->grades->rows[g->grade].name);
    fputs(", \"rank\": ", out);
    if (g->rank) fprintf(out, "%d", g->rank);
    else fputs("null", out);
    fprintf(out, ", \"tied\": %zu, \"percentile\": ", g->tied);
    write_machine_places(out, g->percentile, 4, false, true);
    fputs(", \"factor\": ", out);
    write_machine_unit(out, g->factor, UNIT_NUMBER, true);
    fprintf(out, ", \"ranked\": %zu, \"members\": %zu, \"grades\": ", g->ranked, g->members);
    json_string_or_null(out, g->grades->decl ? g->grades->decl->name : NULL);
    fputs(", \"before\": ", out);
    json_string_or_null(out, g->before_regrade >= 0 ? g->grades->rows[g->before_regrade].name : NULL);
    fputc('}', out);
}

/* "grades": per period, each table roles rank on: its roles, the members, and per
 * grade its quota, factor, the places its quota gives (cumulative), how many got it
 * and the lowest score among them. */
static void json_grade_runs(FILE *out, render_ctx *c)
{
    fputs(",\n \"grades\": [", out);
    for (size_t i = 0, shown = 0; i < c->r->grade_run_count; i++) {
        const score_grade_run *run = &c->r->grade_runs[i];
        const ast_grades *g = run->grades;
        if (!g) continue; /* a table of roles with another period grain */
        fputs(shown++ ? ",\n  {\"period\": " : "\n  {\"period\": ", out);
        json_write_string(out, period_text(c, run->period));
        fputs(", \"grades\": ", out);
        json_string_or_null(out, g && g->decl ? g->decl->name : NULL);
        fputs(", \"roles\": [", out);
        for (size_t r = 0; g && r < g->roles.len; r++) {
            if (r) fputs(", ", out);
            json_write_string(out, ((const ast_decl *)g->roles.items[r])->name);
        }
        fprintf(out, "], \"members\": %zu, \"ranked\": %zu,\n   \"distribution\": [", run->members,
                run->ranked);
        for (int k = 0; g && run->counts && k < g->row_count; k++) {
            const ast_grade *row = &g->rows[k];
            dec_t v;
            fputs(k ? ", {\"grade\": " : "{\"grade\": ", out);
            json_write_string(out, row->name);
            fputs(", \"quota\": ", out);
            write_machine_unit(out,
                               !row->rest && lower_number_literal(row->quota, &v) ? eval_num(v) : eval_null(),
                               UNIT_RATIO, true);
            fputs(", \"factor\": ", out);
            write_machine_unit(out, lower_number_literal(row->factor, &v) ? eval_num(v) : eval_null(),
                               UNIT_NUMBER, true);
            fprintf(out, ", \"places\": %zu, \"count\": %zu, \"lowest_score\": ", run->places[k],
                    run->counts[k]);
            write_machine_places(out, run->lowest[k], 2, false, true);
            fputc('}', out);
        }
        fputs("]}", out);
    }
    fputc(']', out);
}

static void json_pools(FILE *out, render_ctx *c)
{
    fputs(",\n \"pools\": [", out);
    for (size_t i = 0, shown = 0; i < c->r->pool_count; i++) {
        const score_pool_run *run = &c->r->pools[i];
        if (!run->pool) continue; /* a pool of roles with another period grain */
        fputs(shown++ ? ",\n  {\"period\": " : "\n  {\"period\": ", out);
        json_write_string(out, period_text(c, run->period));
        fputs(", \"name\": ", out);
        json_write_string(out, run->pool->name);
        fputs(", \"label\": ", out);
        json_string_or_null(out, run->pool->u.pool.label);
        fputs(", \"amount\": ", out);
        write_machine_places(out, run->amount, 2, true, true);
        fputs(", \"paid\": ", out);
        write_machine_places(out, eval_num(run->paid), 2, true, true);
        fputs(", \"undistributed\": ", out);
        write_machine_places(out, eval_num(run->undistributed), 2, true, true);
        fprintf(out, ", \"members\": %zu}", run->members);
    }
    fputc(']', out);
}

/* {"spec": …, "spec_sha256": …, "imports": [{"path", "sha256"}…], "periods": […],
 *  "sources": [{"name", "path", "sha256", "rows", "skipped"}…],
 *  "statements": [{"period", "staff_id", "name", "role", "kpis": [{"indicator",
 *    "value", "target", "comparator", "achievement", "points", "weight", "weighted",
 *    "missing", "dropped", "missing_reason"}…], "score", "gates": [{"condition",
 *    "passed", "values", "result"}…], "gates_passed", "employed", "employed_days",
 *    "period_days", "bonus", "notes": […]}…],
 *  "unscored": [{"period", "staff_id", "role", "reason", "name", "note"}…]}
 * `imports`, the `period` of an unscored row and every field after §3.1's own in an
 * object extend §3.1 compatibly: they say why a bonus is what it is. */
static void json_unscored(FILE *out, render_ctx *c);

static void render_json(FILE *out, render_ctx *c)
{
    const score_result *r = c->r;
    const ast_spec *spec = c->o->spec;
    char hex[65] = "";
    const diag_file *main_file =
        spec && spec->files.len ? diag_get_file(c->o->diags, ((ast_file *)spec->files.items[0])->file) : NULL;
    if (main_file) hash_sha256_hex(main_file->text, main_file->len, hex);
    fputs("{\"spec\": ", out);
    json_write_string(out, c->o->spec_path ? c->o->spec_path : (main_file ? main_file->path : ""));
    fputs(", \"spec_sha256\": ", out);
    json_write_string(out, hex);
    fputs(",\n \"imports\": [", out);
    for (size_t i = 1; spec && i < spec->files.len; i++) {
        const diag_file *f = diag_get_file(c->o->diags, ((ast_file *)spec->files.items[i])->file);
        hash_sha256_hex(f->text, f->len, hex);
        fputs(i > 1 ? ", {\"path\": " : "{\"path\": ", out);
        json_write_string(out, f->path);
        fputs(", \"sha256\": ", out);
        json_write_string(out, hex);
        fputc('}', out);
    }
    fputs("],\n \"periods\": [", out);
    for (size_t p = 0; p < c->period_count; p++) {
        if (p) fputs(", ", out);
        json_write_string(out, period_text(c, p));
    }
    fputs("],\n \"sources\": ", out);
    eval_write_sources_json(out, c->sources, c->source_count);
    fputs(",\n \"statements\": [", out);
    for (size_t i = 0; i < r->statement_count; i++) {
        const score_statement *st = &r->statements[i];
        const eval_staff *who = &c->roster[st->staff];
        fputs(i ? ",\n  {\"period\": " : "\n  {\"period\": ", out);
        json_write_string(out, period_text(c, st->period));
        fputs(", \"staff_id\": ", out);
        json_write_string(out, who->id);
        fputs(", \"name\": ", out);
        json_string_or_null(out, who->name);
        fputs(", \"role\": ", out);
        json_write_string(out, st->role->name);
        fputs(",\n   \"kpis\": [", out);
        for (size_t k = 0; k < st->kpi_count; k++) {
            const score_kpi *kp = &st->kpis[k];
            fputs(k ? ",\n    {\"indicator\": " : "\n    {\"indicator\": ", out);
            json_write_string(out, kp->item->indicator);
            fputs(", \"value\": ", out);
            write_machine_unit(out, kp->value, kpi_unit(kp), true);
            fputs(", \"target\": ", out);
            write_machine_unit(out, kp->target, kpi_unit(kp), true);
            fputs(", \"comparator\": ", out);
            if (kp->item->has_target) json_write_string(out, ast_comparator_text(kp->item->comparator));
            else fputs("null", out);
            fputs(", \"achievement\": ", out);
            write_machine_places(out, kp->achievement, 4, false, true);
            fputs(", \"points\": ", out);
            write_machine_places(out, shown_points(kp), 2, false, true);
            fputs(", \"weight\": ", out);
            write_fixed(out, kp->effective_weight, 6, false);
            fputs(", \"weighted\": ", out);
            write_fixed(out, kp->weighted, 2, false);
            fprintf(out, ", \"missing\": %s, \"dropped\": %s, \"missing_reason\": ",
                    kp->missing ? "true" : "false", kp->dropped ? "true" : "false");
            json_string_or_null(out, missing_reason(c, kp));
            if (kp->override) {
                fputs(", \"value_computed\": ", out);
                write_machine_unit(out, kp->value_computed, kpi_unit(kp), true);
            }
            fputc('}', out);
        }
        fputs("],\n   \"score\": ", out);
        write_machine_places(out, st->score, 2, false, true);
        fputs(", \"gates\": [", out);
        for (size_t g = 0; g < st->gate_count; g++) {
            fputs(g ? ", {\"condition\": " : "{\"condition\": ", out);
            json_write_string(out, gate_text(c, &st->gates[g]));
            fprintf(out, ", \"passed\": %s, \"values\": ", st->gates[g].passed ? "true" : "false");
            json_write_string(out, gate_values(c, st, &st->gates[g]));
            fputs(", \"result\": ", out);
            fputs(st->gates[g].value.kind == VAL_BOOL ? gate_result(&st->gates[g]) : "null", out);
            fputc('}', out);
        }
        fprintf(out, "], \"gates_passed\": %s,\n   \"employed\": ", st->gates_passed ? "true" : "false");
        write_machine_places(out, st->employed, 6, false, true);
        fprintf(out, ", \"employed_days\": %d, \"period_days\": %d", (int)st->employed_days.num,
                (int)st->employed_days.den);
        fputs(",\n   \"bonus\": ", out);
        write_machine_places(out, st->bonus, 2, true, true);
        if (st->pool.pool) json_pool_part(out, st);
        if (st->grade.grades && st->grade.settled) json_grade(out, st);
        if (st->adjustment_count) json_adjustments(out, st);
        size_t person_count;
        bool person_known;
        dec_t person_sum = person_bonus(c, i, &person_count, &person_known);
        if (person_count > 1) {
            fputs(", \"person_bonus\": ", out);
            write_machine_places(out, person_known ? eval_num(person_sum) : eval_null(), 2, true, true);
        }
        fputs(", \"notes\": [", out);
        size_t note_count;
        const char **notes = statement_reasons(c, st, &note_count);
        for (size_t k = 0; k < note_count; k++) {
            if (k) fputs(", ", out);
            json_write_string(out, notes[k]);
        }
        fputs("]}", out);
    }
    fputs("],\n \"unscored\": [", out);
    json_unscored(out, c);
    fputc(']', out);
    if (r->model->pools.len) json_pools(out, c);
    if (r->grade_run_count) json_grade_runs(out, c);
    fputs("}\n", out);
}

static void json_unscored(FILE *out, render_ctx *c)
{
    const score_result *r = c->r;
    for (size_t i = 0; i < r->unscored_count; i++) {
        const score_unscored *u = &r->unscored[i];
        const eval_staff *who = &c->roster[u->staff];
        fputs(i ? ",\n  {\"period\": " : "\n  {\"period\": ", out);
        json_write_string(out, period_text(c, u->period));
        fputs(", \"staff_id\": ", out);
        json_write_string(out, who->id);
        fputs(", \"role\": ", out);
        json_string_or_null(out, who->role);
        fputs(", \"reason\": ", out);
        json_write_string(out, score_reason_text(u->reason));
        fputs(", \"name\": ", out);
        json_string_or_null(out, who->name);
        fputs(", \"note\": ", out);
        json_write_string(out, unscored_note(c, u));
        fputc('}', out);
    }
}

/* ---- CSV (docs/json.md) ------------------------------------------------------------------ */


/* The columns after docs/json.md's own, which say why a bonus is what it is. */
#define CSV_HEADER                                                                     \
    "period,staff_id,name,role,kpi,value,target,comparator,achievement,points,weight," \
    "weighted,score,bonus,status,employed,missing,gates,notes,skipped\n"

/* The text columns of a CSV row: a field each, comma-led. */
static void csv_text(FILE *out, const char *s)
{
    fputc(',', out);
    eval_write_csv_field(out, s);
}

/* The unscored roster rows of period P in either CSV: period, id, name and role, then
 * MIDDLE (the empty cells up to and with the status `unscored`), the reason as the
 * notes, and the skipped-rows note. */
/* HEADER (ending in a line end), with grades followed by three more columns after
 * `skipped`: rank,grade,factor (empty for a role without grades and an unscored row;
 * rank empty when not ranked), so that a spec without grades gives the same bytes as
 * before. */
static void csv_header(FILE *out, const char *header, bool graded)
{
    if (!graded) {
        fputs(header, out);
        return;
    }
    fwrite(header, 1, strlen(header) - 1, out);
    fputs(",rank,grade,factor\n", out);
}

static void csv_grade_cells(FILE *out, render_ctx *c, const score_statement *st)
{
    const score_grade_place *g = &st->grade;
    fputc(',', out);
    if (g->grades && g->settled && g->rank) fprintf(out, "%d", g->rank);
    csv_text(out, grade_text(st));
    fputc(',', out);
    if (g->grades && g->settled) write_machine_unit(out, g->factor, UNIT_NUMBER, false);
    (void)c;
}

static void csv_unscored_rows(FILE *out, render_ctx *c, size_t p, const char *label, const char *middle,
                              const char *skipped)
{
    for (size_t i = c->un_begin[p]; i < c->un_begin[p + 1]; i++) {
        const score_unscored *u = &c->r->unscored[i];
        const eval_staff *who = &c->roster[u->staff];
        eval_write_csv_field(out, label);
        csv_text(out, who->id);
        csv_text(out, who->name);
        csv_text(out, who->role);
        fputs(middle, out);
        csv_text(out, unscored_note(c, u));
        csv_text(out, skipped);
        if (c->r->grade_run_count) fputs(",,,", out);
        fputc('\n', out);
    }
}

/* period,staff_id,name,role,kpi,value,target,comparator,achievement,points,weight,
 * weighted,score,bonus (docs/json.md), then status,employed,missing,gates,notes,skipped:
 * a row per staff member and kpi, score, bonus, employed, gates, notes and skipped
 * repeated; `missing` says why this kpi has no points and what that did. Then per
 * unscored roster row one row with status `unscored`, an empty kpi, every number empty
 * and the reason in `notes`, so that a pivot table over kpi or status keeps them apart.
 * LF line ends. */
static void render_csv(FILE *out, render_ctx *c)
{
    const score_result *r = c->r;
    const char *skipped = skipped_note(c);
    if (c->o->bom) fputs("\xEF\xBB\xBF", out);
    bool graded = c->r->grade_run_count > 0;
    csv_header(out, CSV_HEADER, graded);
    for (size_t p = 0; p < c->period_count; p++) {
        const char *label = period_text(c, p);
        for (size_t i = c->st_begin[p]; i < c->st_begin[p + 1]; i++) {
            const score_statement *st = &r->statements[i];
            const eval_staff *who = &c->roster[st->staff];
            const char *notes = statement_notes(c, st), *gates = gates_summary(c, st);
            for (size_t k = 0; k < st->kpi_count; k++) {
                const score_kpi *kp = &st->kpis[k];
                eval_write_csv_field(out, label);
                csv_text(out, who->id);
                csv_text(out, who->name);
                csv_text(out, st->role->name);
                csv_text(out, kp->item->indicator);
                fputc(',', out);
                write_machine_unit(out, kp->value, kpi_unit(kp), false);
                fputc(',', out);
                write_machine_unit(out, kp->target, kpi_unit(kp), false);
                fputc(',', out);
                if (kp->item->has_target) fputs(ast_comparator_text(kp->item->comparator), out);
                fputc(',', out);
                write_machine_places(out, kp->achievement, 4, false, false);
                fputc(',', out);
                write_machine_places(out, shown_points(kp), 2, false, false);
                fputc(',', out);
                write_fixed(out, kp->effective_weight, 6, false);
                fputc(',', out);
                write_fixed(out, kp->weighted, 2, false);
                fputc(',', out);
                write_machine_places(out, st->score, 2, false, false);
                fputc(',', out);
                write_machine_places(out, st->bonus, 2, true, false);
                fputs(",scored,", out);
                write_machine_places(out, st->employed, 6, false, false);
                csv_text(out, missing_reason(c, kp));
                csv_text(out, gates);
                csv_text(out, notes);
                csv_text(out, skipped);
                if (graded) csv_grade_cells(out, c, st);
                fputc('\n', out);
            }
        }
        csv_unscored_rows(out, c, p, label, ",,,,,,,,,,,unscored,,,", skipped);
    }
}

/* "gate complaint_rate <= 20%: passed by 3, failed by 2 (bonus 0.00)" per gate of
 * ROLE over its N statements IDX, each line starting with PREFIX. */
static const char **gate_tallies(render_ctx *c, const ast_decl *role, const size_t *idx, size_t n,
                                 size_t *count)
{
    const score_statement *first = &c->r->statements[idx[0]];
    const char **lines = arena_alloc(&c->mem, (first->gate_count + 1) * sizeof *lines);
    for (size_t g = 0; g < first->gate_count; g++) {
        size_t passed = 0;
        for (size_t i = 0; i < n; i++) passed += c->r->statements[idx[i]].gates[g].passed;
        lines[g] = arena_printf(&c->mem, "gate %s: passed by %zu, failed by %zu%s",
                                gate_text(c, &first->gates[g]), passed, n - passed,
                                role_has_bonus(role) ? " (a failed gate makes the bonus 0.00)" : "");
    }
    *count = first->gate_count;
    return lines;
}

/* period,staff_id,name,role,status,score,bonus,employed,gates,notes,skipped — the
 * CSV of --summary: one row per statement and per unscored roster row, in the order of
 * the full CSV, with the same cells; no kpi columns, so that a bonus is on one row only
 * and a Sum of `bonus` in a pivot table is the payroll total. LF line ends. */
static void render_csv_summary(FILE *out, render_ctx *c)
{
    const score_result *r = c->r;
    const char *skipped = skipped_note(c);
    if (c->o->bom) fputs("\xEF\xBB\xBF", out);
    bool graded = c->r->grade_run_count > 0;
    csv_header(out, "period,staff_id,name,role,status,score,bonus,employed,gates,notes,skipped\n", graded);
    for (size_t p = 0; p < c->period_count; p++) {
        const char *label = period_text(c, p);
        for (size_t i = c->st_begin[p]; i < c->st_begin[p + 1]; i++) {
            const score_statement *st = &r->statements[i];
            const eval_staff *who = &c->roster[st->staff];
            eval_write_csv_field(out, label);
            csv_text(out, who->id);
            csv_text(out, who->name);
            csv_text(out, st->role->name);
            fputs(",scored,", out);
            write_machine_places(out, st->score, 2, false, false);
            fputc(',', out);
            write_machine_places(out, st->bonus, 2, true, false);
            fputc(',', out);
            write_machine_places(out, st->employed, 6, false, false);
            csv_text(out, gates_summary(c, st));
            csv_text(out, statement_notes(c, st));
            csv_text(out, skipped);
            if (graded) csv_grade_cells(out, c, st);
            fputc('\n', out);
        }
        csv_unscored_rows(out, c, p, label, ",unscored,,,,", skipped);
    }
}

/* ---- table ---------------------------------------------------------------------------------- */

#define GROUP_GAP 3
#define CELL_GAP  2

static size_t max_size(size_t a, size_t b)
{
    return a > b ? a : b;
}

static const char *staff_text(render_ctx *c, const eval_staff *who)
{
    return who->name ? arena_printf(&c->mem, "%s %s", one_line(c, who->id), one_line(c, who->name))
                     : one_line(c, who->id);
}

static void spaces(FILE *out, size_t n)
{
    for (size_t i = 0; i < n; i++) fputc(' ', out);
}

/* One role's block in one period: a header of kpi names, a sub-header, a row per
 * staff member (kpi value, achievement, points; score, bonus, notes). */
static void table_role(FILE *out, render_ctx *c, const ast_decl *role, const size_t *idx, size_t n)
{
    const score_result *r = c->r;
    const score_statement *first = &r->statements[idx[0]];
    size_t nk = first->kpi_count;
    /* cells[row][col]: col 0 staff, then 3 per kpi, then score, with grades rank, grade
     * and factor, then bonus, notes */
    size_t graded = ast_role_grades(role) ? 3 : 0;
    size_t score_col = 1 + 3 * nk, bonus_col = score_col + 1 + graded, notes_col = bonus_col + 1;
    size_t ncol = notes_col + 1;
    static const char *const grade_head[] = { "rank", "grade", "factor" };
    const char ***cells = arena_alloc(&c->mem, n * sizeof *cells);
    size_t *width = arena_alloc(&c->mem, ncol * sizeof *width);
    static const char *const sub[] = { "value", "achieved", "points" };
    width[0] = eval_display_width("staff");
    for (size_t k = 0; k < nk; k++)
        for (size_t j = 0; j < 3; j++) width[1 + 3 * k + j] = strlen(sub[j]);
    width[score_col] = strlen("score");
    for (size_t j = 0; j < graded; j++) width[score_col + 1 + j] = strlen(grade_head[j]);
    width[bonus_col] = strlen("bonus");
    width[notes_col] = 0;
    for (size_t i = 0; i < n; i++) {
        const score_statement *st = &r->statements[idx[i]];
        const char **row = arena_alloc(&c->mem, ncol * sizeof *row);
        row[0] = staff_text(c, &c->roster[st->staff]);
        for (size_t k = 0; k < nk && k < st->kpi_count; k++) {
            const score_kpi *kp = &st->kpis[k];
            row[1 + 3 * k] = people(c, kp->value, kpi_unit(kp));
            row[2 + 3 * k] = people(c, kp->achievement, UNIT_PERCENT);
            row[3 + 3 * k] = people(c, shown_points(kp), UNIT_POINTS);
        }
        row[score_col] = people(c, st->score, UNIT_POINTS);
        if (graded) {
            row[score_col + 1] = rank_text(c, st);
            row[score_col + 2] = grade_text(st);
            row[score_col + 3] = factor_text(c, st);
        }
        row[bonus_col] = people(c, st->bonus, UNIT_MONEY);
        row[notes_col] = statement_notes(c, st);
        for (size_t j = 0; j < ncol; j++)
            width[j] = max_size(width[j], eval_display_width(row[j] ? row[j] : ""));
        cells[i] = row;
    }
    /* a kpi name wider than its three columns widens the value column */
    for (size_t k = 0; k < nk; k++) {
        size_t name = eval_display_width(first->kpis[k].item->indicator);
        size_t group = width[1 + 3 * k] + width[2 + 3 * k] + width[3 + 3 * k] + 2 * CELL_GAP;
        if (name > group) width[1 + 3 * k] += name - group;
    }

    fprintf(out, "%s: %zu scored\n", role_title(c, role), n);
    /* header 1: kpi names over their groups */
    fputs("  ", out);
    spaces(out, width[0]);
    for (size_t k = 0; k < nk; k++) {
        size_t group = width[1 + 3 * k] + width[2 + 3 * k] + width[3 + 3 * k] + 2 * CELL_GAP;
        spaces(out, GROUP_GAP);
        if (k + 1 < nk) eval_write_padded(out, first->kpis[k].item->indicator, group, false);
        else fputs(first->kpis[k].item->indicator, out);
    }
    fputc('\n', out);
    /* header 2 */
    fputs("  ", out);
    eval_write_padded(out, "staff", width[0], false);
    for (size_t k = 0; k < nk; k++) {
        spaces(out, GROUP_GAP);
        for (size_t j = 0; j < 3; j++) {
            if (j) spaces(out, CELL_GAP);
            eval_write_padded(out, sub[j], width[1 + 3 * k + j], true);
        }
    }
    spaces(out, GROUP_GAP);
    eval_write_padded(out, "score", width[score_col], true);
    for (size_t j = 0; j < graded; j++) {
        spaces(out, CELL_GAP);
        eval_write_padded(out, grade_head[j], width[score_col + 1 + j], j != 1);
    }
    spaces(out, CELL_GAP);
    eval_write_padded(out, "bonus", width[bonus_col], true);
    fputc('\n', out);
    for (size_t i = 0; i < n; i++) {
        const char **row = cells[i];
        fputs("  ", out);
        eval_write_padded(out, row[0], width[0], false);
        for (size_t k = 0; k < nk; k++) {
            spaces(out, GROUP_GAP);
            for (size_t j = 0; j < 3; j++) {
                if (j) spaces(out, CELL_GAP);
                eval_write_padded(out, row[1 + 3 * k + j] ? row[1 + 3 * k + j] : "", width[1 + 3 * k + j],
                                  true);
            }
        }
        spaces(out, GROUP_GAP);
        eval_write_padded(out, row[score_col], width[score_col], true);
        for (size_t j = 0; j < graded; j++) {
            spaces(out, CELL_GAP);
            eval_write_padded(out, row[score_col + 1 + j], width[score_col + 1 + j], j != 1);
        }
        spaces(out, CELL_GAP);
        eval_write_padded(out, row[bonus_col], width[bonus_col], true);
        if (*row[notes_col]) {
            spaces(out, CELL_GAP);
            fputs(row[notes_col], out);
        }
        fputc('\n', out);
    }
    size_t gates;
    const char **tallies = gate_tallies(c, role, idx, n, &gates);
    for (size_t g = 0; g < gates; g++) fprintf(out, "  %s\n", one_line(c, tallies[g]));
    const char *distribution = grade_distribution(c, role, idx, n);
    if (distribution) fprintf(out, "  %s\n", one_line(c, distribution));
}

/* "5 scored", or "5 statements of 4 staff scored" when someone has a statement in each
 * of two roles (a transfer): a count of statements read as people would be one too many. */
static const char *scored_text(render_ctx *c, size_t p)
{
    size_t statements = scored_in(c, p), people = people_in(c, p);
    if (people == statements) return arena_printf(&c->mem, "%zu scored", statements);
    return arena_printf(&c->mem, "%zu statements of %zu staff scored", statements, people);
}

/* The closing summary of one period: how many were scored, who was not and why, and
 * the bonus by role with the total. */
static void table_summary(FILE *out, render_ctx *c, size_t p)
{
    const score_result *r = c->r;
    const chk_model *m = r->model;
    size_t unscored = unscored_in(c, p);
    fprintf(out, "summary %s: %s, %zu unscored\n", period_text(c, p), scored_text(c, p), unscored);
    if (unscored) {
        size_t w_staff = 0, w_role = 0;
        for (size_t i = c->un_begin[p]; i < c->un_begin[p + 1]; i++) {
            const eval_staff *who = &c->roster[r->unscored[i].staff];
            w_staff = max_size(w_staff, eval_display_width(staff_text(c, who)));
            w_role = max_size(w_role, eval_display_width(one_line(c, who->role ? who->role : "(none)")));
        }
        fputs("  unscored\n", out);
        for (size_t i = c->un_begin[p]; i < c->un_begin[p + 1]; i++) {
            const eval_staff *who = &c->roster[r->unscored[i].staff];
            fputs("    ", out);
            eval_write_padded(out, staff_text(c, who), w_staff, false);
            spaces(out, CELL_GAP);
            eval_write_padded(out, one_line(c, who->role ? who->role : "(none)"), w_role, false);
            spaces(out, CELL_GAP);
            fprintf(out, "%s\n", one_line(c, unscored_note(c, &r->unscored[i])));
        }
    }
    /* bonus by role */
    size_t nr = m->roles.len;
    const char **names = arena_alloc(&c->mem, (nr + 1) * sizeof *names);
    const char **counts = arena_alloc(&c->mem, (nr + 1) * sizeof *counts);
    const char **sums = arena_alloc(&c->mem, (nr + 1) * sizeof *sums);
    size_t wn = strlen("total"), wc = 0, ws = 0, all = 0, all_nulls = 0;
    dec_t total = { 0 };
    for (size_t i = 0; i <= nr; i++) {
        size_t count, nulls;
        dec_t sum;
        if (i < nr) {
            const ast_decl *role = m->roles.items[i];
            names[i] = NULL;
            if (!role_in_period(c, role, p)) continue;
            sum = bonus_total(c, p, role, &count, &nulls);
            names[i] = role_title(c, role);
            all += count;
            all_nulls += role_has_bonus(role) ? nulls : 0;
            dec_t next;
            if (dec_add(total, sum, &next) == DEC_OK) total = next;
            if (!role_has_bonus(role)) sums[i] = "no bonus";
            else if (nulls)
                sums[i] = arena_printf(&c->mem, "%s (%zu n/a)", people_num(c, sum, UNIT_MONEY), nulls);
            else sums[i] = people_num(c, sum, UNIT_MONEY);
        } else {
            count = people_in(c, p) < all ? people_in(c, p) : all;
            names[i] = "total";
            sums[i] = all_nulls
                          ? arena_printf(&c->mem, "%s (%zu n/a)", people_num(c, total, UNIT_MONEY), all_nulls)
                          : people_num(c, total, UNIT_MONEY);
        }
        counts[i] = arena_printf(&c->mem, "%zu", count);
        wn = max_size(wn, eval_display_width(names[i]));
        wc = max_size(wc, strlen(counts[i]));
        ws = max_size(ws, eval_display_width(sums[i]));
    }
    fputs("  bonus by role\n", out);
    for (size_t i = 0; i <= nr; i++) {
        if (!names[i]) continue;
        fputs("    ", out);
        eval_write_padded(out, names[i], wn, false);
        spaces(out, CELL_GAP);
        eval_write_padded(out, counts[i], wc, true);
        fputs(" staff", out);
        spaces(out, CELL_GAP);
        eval_write_padded(out, sums[i], ws, true);
        fputc('\n', out);
    }
    /* a person in several roles: what each role pays them and their total */
    size_t several;
    const char **who_text, **pay_text;
    several_roles(c, p, &several, &who_text, &pay_text);
    if (several) fputs("  staff in several roles\n", out);
    for (size_t i = 0; i < several; i++) fprintf(out, "    %s  %s\n", who_text[i], pay_text[i]);
    size_t pool_count;
    const score_pool_run *pools = pools_in(c, p, &pool_count);
    if (pool_count) fputs("  pools\n", out);
    for (size_t i = 0; i < pool_count; i++) fprintf(out, "    %s\n", one_line(c, pool_summary(c, &pools[i])));
    size_t run_count;
    const score_grade_run *runs = grade_runs_in(c, p, &run_count);
    if (run_count) fputs("  grades\n", out);
    for (size_t i = 0; i < run_count; i++)
        fprintf(out, "    %s\n", one_line(c, grade_run_summary(c, &runs[i])));
}

static void sources_lines(FILE *out, render_ctx *c, const char *prefix)
{
    for (size_t k = 0; k < c->source_count; k++) {
        const eval_source_stats *src = &c->sources[k];
        if (!src->read) continue;
        fprintf(out, "%ssource %s: %" PRIu64 " rows read, %" PRIu64 " skipped (%s)\n", prefix,
                one_line(c, src->name), src->rows, src->skipped, one_line(c, src->path));
    }
}

/* Per period: its label, a block per role with statements, the summary. Then the
 * sources read. */
static void render_table(FILE *out, render_ctx *c)
{
    const score_result *r = c->r;
    size_t *idx = arena_alloc(&c->mem, (r->statement_count + 1) * sizeof *idx);
    for (size_t p = 0; p < c->period_count; p++) {
        if (p) fputc('\n', out);
        const char *days = period_days_text(c, p, " to ");
        fprintf(out, "%s%s%s%s\n", period_text(c, p), *days ? " (" : "", days, *days ? ")" : "");
        for (size_t i = 0; i < r->model->roles.len; i++) {
            const ast_decl *role = r->model->roles.items[i];
            if (!role_in_period(c, role, p)) continue;
            size_t n = role_statements(c, p, role, idx);
            fputc('\n', out);
            if (n == 0) {
                fprintf(out, "%s: nobody scored\n", role_title(c, role));
                continue;
            }
            table_role(out, c, role, idx, n);
        }
        fputc('\n', out);
        table_summary(out, c, p);
    }
    fputc('\n', out);
    sources_lines(out, c, "");
}

/* ---- Markdown ---------------------------------------------------------------------------- */

/* S for a Markdown table cell (markup.h). */
static const char *md(render_ctx *c, const char *s)
{
    return markup_md(&c->mem, s);
}

static void render_md(FILE *out, render_ctx *c)
{
    const score_result *r = c->r;
    const char *spec = c->o->spec_path ? c->o->spec_path : "";
    fprintf(out, "# KPI statements: %s\n\n", md(c, spec));
    fputs("Each kpi cell: value · achievement → points. A missing kpi scores 0 points, "
          "or is dropped with the other weights rescaled under `missing skip`.\n",
          out);
    size_t *idx = arena_alloc(&c->mem, (r->statement_count + 1) * sizeof *idx);
    for (size_t p = 0; p < c->period_count; p++) {
        const char *days = period_days_text(c, p, " to ");
        fprintf(out, "\n## %s%s%s%s\n\n", period_text(c, p), *days ? " (" : "", days, *days ? ")" : "");
        fprintf(out, "%s, %zu unscored.\n", scored_text(c, p), unscored_in(c, p));
        for (size_t i = 0; i < r->model->roles.len; i++) {
            const ast_decl *role = r->model->roles.items[i];
            if (!role_in_period(c, role, p)) continue;
            size_t n = role_statements(c, p, role, idx);
            fprintf(out, "\n### %s\n\n", md(c, role_title(c, role)));
            if (n == 0) {
                fputs("Nobody scored.\n", out);
                continue;
            }
            const score_statement *first = &r->statements[idx[0]];
            bool graded = ast_role_grades(role) != NULL;
            fputs("| staff | name |", out);
            for (size_t k = 0; k < first->kpi_count; k++)
                fprintf(out, " %s |", md(c, first->kpis[k].item->indicator));
            fputs(graded ? " score | rank | grade | factor | bonus | notes |\n|---|---|"
                         : " score | bonus | notes |\n|---|---|",
                  out);
            for (size_t k = 0; k < first->kpi_count; k++) fputs("--:|", out);
            fputs(graded ? "--:|--:|---|--:|--:|---|\n" : "--:|--:|---|\n", out);
            for (size_t j = 0; j < n; j++) {
                const score_statement *st = &r->statements[idx[j]];
                const eval_staff *who = &c->roster[st->staff];
                fprintf(out, "| %s | %s |", md(c, who->id), md(c, who->name));
                for (size_t k = 0; k < st->kpi_count; k++) {
                    const score_kpi *kp = &st->kpis[k];
                    fprintf(out, " %s · %s → %s |", md(c, people(c, kp->value, kpi_unit(kp))),
                            md(c, people(c, kp->achievement, UNIT_PERCENT)),
                            md(c, people(c, shown_points(kp), UNIT_POINTS)));
                }
                fprintf(out, " **%s** |", md(c, people(c, st->score, UNIT_POINTS)));
                if (graded)
                    fprintf(out, " %s | %s | %s |", md(c, rank_text(c, st)), md(c, grade_text(st)),
                            md(c, factor_text(c, st)));
                fprintf(out, " %s | %s |\n", md(c, people(c, st->bonus, UNIT_MONEY)),
                        md(c, statement_notes(c, st)));
            }
            size_t gates;
            const char **tallies = gate_tallies(c, role, idx, n, &gates);
            const char *distribution = grade_distribution(c, role, idx, n);
            if (gates || distribution) fputc('\n', out);
            for (size_t g = 0; g < gates; g++) fprintf(out, "- %s\n", md(c, tallies[g]));
            if (distribution) fprintf(out, "- %s\n", md(c, distribution));
        }
        if (unscored_in(c, p)) {
            fputs("\n### Unscored\n\n| staff | name | role | reason |\n|---|---|---|---|\n", out);
            for (size_t i = c->un_begin[p]; i < c->un_begin[p + 1]; i++) {
                const score_unscored *u = &r->unscored[i];
                const eval_staff *who = &c->roster[u->staff];
                fprintf(out, "| %s | %s | %s | %s |\n", md(c, who->id), md(c, who->name), md(c, who->role),
                        md(c, unscored_note(c, u)));
            }
        }
        fputs("\n### Bonus by role\n\n| role | staff | bonus |\n|---|--:|--:|\n", out);
        size_t all = 0;
        dec_t total = { 0 };
        for (size_t i = 0; i < r->model->roles.len; i++) {
            const ast_decl *role = r->model->roles.items[i];
            if (!role_in_period(c, role, p)) continue;
            size_t count, nulls;
            dec_t sum = bonus_total(c, p, role, &count, &nulls);
            all += count;
            dec_t next;
            if (dec_add(total, sum, &next) == DEC_OK) total = next;
            fprintf(out, "| %s | %zu | %s%s |\n", md(c, role_title(c, role)), count,
                    role_has_bonus(role) ? people_num(c, sum, UNIT_MONEY) : "no bonus",
                    nulls && role_has_bonus(role) ? arena_printf(&c->mem, " (%zu n/a)", nulls) : "");
        }
        fprintf(out, "| **total** | %zu | **%s** |\n", people_in(c, p) < all ? people_in(c, p) : all,
                people_num(c, total, UNIT_MONEY));
        size_t several;
        const char **who_text, **pay_text;
        several_roles(c, p, &several, &who_text, &pay_text);
        if (several) fputs("\n### Staff in several roles\n\n", out);
        for (size_t i = 0; i < several; i++)
            fprintf(out, "* %s: %s\n", md(c, who_text[i]), md(c, pay_text[i]));
        size_t pool_count;
        const score_pool_run *pools = pools_in(c, p, &pool_count);
        if (pool_count) fputs("\n### Pools\n\n", out);
        for (size_t i = 0; i < pool_count; i++) fprintf(out, "* %s\n", md(c, pool_summary(c, &pools[i])));
        size_t run_count;
        const score_grade_run *runs = grade_runs_in(c, p, &run_count);
        if (run_count) fputs("\n### Grades\n\n", out);
        for (size_t i = 0; i < run_count; i++) fprintf(out, "* %s\n", md(c, grade_run_summary(c, &runs[i])));
    }
    fputs("\n## Sources\n\n| source | path | rows | skipped | sha256 |\n|---|---|--:|--:|---|\n", out);
    for (size_t k = 0; k < c->source_count; k++) {
        const eval_source_stats *src = &c->sources[k];
        if (!src->read) continue;
        fprintf(out, "| %s | %s | %" PRIu64 " | %" PRIu64 " | `%s` |\n", md(c, src->name), md(c, src->path),
                src->rows, src->skipped, src->sha256);
    }
    if (c->o->spec && c->o->spec->files.len) {
        const diag_file *f = diag_get_file(c->o->diags, ((ast_file *)c->o->spec->files.items[0])->file);
        char hex[65];
        hash_sha256_hex(f->text, f->len, hex);
        fprintf(out, "\nSpec `%s`, sha256 `%s`.\n", md(c, spec), hex);
    }
}

/* ---- HTML ------------------------------------------------------------------------------------ */

static void html(FILE *out, const char *s)
{
    markup_html(out, s);
}

static const char html_style[] =
    ":root{--ink:#1f2933;--muted:#616e7c;--line:#d9e2ec;--bg:#f5f7fa;--good:#2f855a;"
    "--mid:#c05621;--bad:#c53030;--bar:#3e7cb1}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;padding:24px 32px;font:14px/1.45 system-ui,-apple-system,'Segoe UI',"
    "'Noto Sans CJK SC','WenQuanYi Zen Hei','PingFang SC','Microsoft YaHei',sans-serif;color:var(--ink);background:#fff}\n"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 8px;padding-bottom:4px;"
    "border-bottom:2px solid var(--ink)}h3{font-size:16px;margin:22px 0 8px}\n"
    "small,.muted{color:var(--muted);font-weight:normal}\n"
    "code{font:12px ui-monospace,'DejaVu Sans Mono',monospace;background:var(--bg);padding:1px 4px;"
    "border-radius:3px;word-break:break-all}\n"
    "table{border-collapse:collapse;margin:6px 0 12px}\n"
    "th,td{border-bottom:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}\n"
    "th{background:var(--bg);font-weight:600}\n"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    ".role{border:1px solid var(--line);border-radius:6px;padding:4px 16px 12px;margin:14px 0}\n"
    ".charts{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}\n"
    "figure{margin:0}figcaption{font-size:12px;color:var(--muted)}\n"
    ".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:12px}\n"
    ".card{border:1px solid var(--line);border-radius:6px;padding:8px 12px}\n"
    ".card h4{margin:0 0 4px;font-size:14px}\n"
    ".card table{width:100%;font-size:12px}\n"
    ".missing td{color:var(--muted);font-style:italic}\n"
    ".fail{color:var(--bad);font-weight:600}.pass{color:var(--good)}\n"
    ".totals td{font-weight:600}\n";

/* A colour for an achievement: at or above target green, from 60% amber, below red. */
static const char *achievement_colour(eval_value a)
{
    if (a.kind != VAL_NUM) return "#9aa5b1";
    if (dec_cmp(a.as.num, dec_from_int64(1)) >= 0) return "#2f855a";
    dec_t sixty;
    dec_parse("0.6", 3, 2, &sixty);
    return dec_cmp(a.as.num, sixty) >= 0 ? "#dd6b20" : "#c53030";
}

/* An SVG histogram of the scores of N statements: bins of 10 points from 0 up to the
 * highest score (at least 150); null scores are counted below the chart. */
static void svg_histogram(FILE *out, render_ctx *c, const size_t *idx, size_t n)
{
    const score_result *r = c->r;
    int64_t top = 150, nulls = 0;
    for (size_t i = 0; i < n; i++) {
        const score_statement *st = &r->statements[idx[i]];
        int64_t v;
        if (st->score.kind == VAL_NUM && dec_to_int64(st->score.as.num, &v) == DEC_OK && v + 10 > top)
            top = v + 10 > 400 ? 400 : (v / 10 + 1) * 10;
    }
    int bins = (int)(top / 10);
    int counts[40] = { 0 };
    int most = 1;
    for (size_t i = 0; i < n; i++) {
        const score_statement *st = &r->statements[idx[i]];
        int64_t v;
        if (st->score.kind != VAL_NUM) {
            nulls++;
            continue;
        }
        /* the bin: the highest multiple of 10 at or below the score */
        v = 0;
        for (int b = bins - 1; b >= 0; b--) {
            if (dec_cmp(st->score.as.num, dec_from_int64(10 * (int64_t)b)) >= 0) {
                v = b;
                break;
            }
        }
        counts[v]++;
        if (counts[v] > most) most = counts[v];
    }
    const int bw = 14, h = 120, left = 28, bottom = 22, width = left + bins * bw + 10;
    fprintf(out,
            "<figure><svg width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"score distribution\">\n",
            width, h + bottom + 8, width, h + bottom + 8);
    fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#9aa5b1\"/>\n", left, h + 4,
            left + bins * bw, h + 4);
    for (int b = 0; b < bins; b++) {
        int bh = counts[b] * (h - 10) / most;
        int x = left + b * bw;
        if (counts[b]) {
            const char *colour = b >= 10 ? "#2f855a" : b >= 6 ? "#dd6b20" : "#c53030";
            fprintf(
                out,
                "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"><title>%d–%d: %d</title></rect>\n",
                x + 1, h + 4 - bh, bw - 2, bh, colour, b * 10, b * 10 + 10, counts[b]);
            fprintf(
                out,
                "<text x=\"%d\" y=\"%d\" font-size=\"9\" text-anchor=\"middle\" fill=\"#1f2933\">%d</text>\n",
                x + bw / 2, h + 1 - bh, counts[b]);
        }
        if (b % 5 == 0)
            fprintf(
                out,
                "<text x=\"%d\" y=\"%d\" font-size=\"9\" text-anchor=\"middle\" fill=\"#616e7c\">%d</text>\n",
                x, h + 16, b * 10);
    }
    fprintf(out,
            "<text x=\"%d\" y=\"%d\" font-size=\"9\" text-anchor=\"middle\" fill=\"#616e7c\">%d</text>\n",
            left + bins * bw, h + 16, bins * 10);
    fputs("</svg><figcaption>score distribution (bins of 10 points)", out);
    if (nulls) fprintf(out, "; %lld without a score", (long long)nulls);
    fputs("</figcaption></figure>\n", out);
}

/* An SVG of one kpi's achievement per staff member: a bar each, a line at 100%,
 * bars capped at 200%. */
static void svg_achievement(FILE *out, render_ctx *c, const size_t *idx, size_t n, size_t k)
{
    const score_result *r = c->r;
    const score_statement *first = &r->statements[idx[0]];
    const int row = 16, left = 120, scale_w = 180, top = 6;
    int width = left + scale_w + 84, height = top + (int)n * row + 16;
    fprintf(out,
            "<figure><svg width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"achievement of ",
            width, height, width, height);
    html(out, first->kpis[k].item->indicator);
    fputs("\">\n", out);
    int x100 = left + scale_w / 2, bottom = top + (int)n * row;
    fprintf(out,
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#52606d\" stroke-dasharray=\"3 2\"/>\n",
            x100, top, x100, bottom);
    for (size_t i = 0; i < n; i++) {
        const score_statement *st = &r->statements[idx[i]];
        const score_kpi *kp = &st->kpis[k];
        int y = top + (int)i * row;
        fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\" fill=\"#1f2933\">",
                left - 6, y + 11);
        html(out, staff_text(c, &c->roster[st->staff]));
        fputs("</text>\n", out);
        if (kp->achievement.kind == VAL_NUM) {
            dec_t scaled, cap = dec_from_int64(2);
            dec_t a = dec_cmp(kp->achievement.as.num, cap) > 0 ? cap : kp->achievement.as.num;
            int64_t px = 0;
            if (dec_mul(a, dec_from_int64(scale_w / 2), &scaled) == DEC_OK) dec_to_int64(scaled, &px);
            if (px < 0) px = 0;
            fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%lld\" height=\"%d\" fill=\"%s\"/>\n", left, y + 2,
                    (long long)px, row - 5, achievement_colour(kp->achievement));
        }
        /* the figure in a column of its own, right of the 200% mark */
        fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"end\" fill=\"%s\">", width - 4,
                y + 11, kp->achievement.kind == VAL_NUM ? "#1f2933" : "#9aa5b1");
        html(out, people(c, kp->achievement, UNIT_PERCENT));
        if (kp->missing) fputs(kp->dropped ? " (dropped)" : " (missing)", out);
        fputs("</text>\n", out);
    }
    fprintf(out,
            "<text x=\"%d\" y=\"%d\" font-size=\"9\" text-anchor=\"middle\" fill=\"#616e7c\">100%%</text>\n",
            x100, bottom + 11);
    fprintf(out,
            "<text x=\"%d\" y=\"%d\" font-size=\"9\" text-anchor=\"middle\" fill=\"#616e7c\">200%%+</text>\n",
            left + scale_w, bottom + 11);
    fputs("</svg><figcaption>achievement: ", out);
    html(out, first->kpis[k].item->indicator);
    if (first->kpis[k].indicator && first->kpis[k].indicator->u.indicator.label) {
        fputc(' ', out);
        html(out, first->kpis[k].indicator->u.indicator.label);
    }
    fputs("</figcaption></figure>\n", out);
}

static void html_card(FILE *out, render_ctx *c, const score_statement *st)
{
    const eval_staff *who = &c->roster[st->staff];
    fputs("<div class=\"card\"><h4>", out);
    html(out, staff_text(c, who));
    fputs(" <span class=\"muted\">score ", out);
    html(out, people(c, st->score, UNIT_POINTS));
    fputs(" · bonus ", out);
    html(out, people(c, st->bonus, UNIT_MONEY));
    if (st->employed_days.den > 0 && st->employed_days.num != st->employed_days.den)
        fprintf(out, " · employed %d/%d", (int)st->employed_days.num, (int)st->employed_days.den);
    if (st->grade.grades && st->grade.settled) {
        fputs(" · grade ", out);
        html(out, grade_text(st));
        if (*factor_text(c, st)) {
            fputs(" (factor ", out);
            html(out, factor_text(c, st));
            fputc(')', out);
        }
        fputs(" · rank ", out);
        html(out, st->grade.rank ? arena_printf(&c->mem, "%s of %zu", rank_text(c, st), st->grade.ranked)
                                 : "none (not ranked)");
    }
    fputs("</span></h4>\n<table><tr><th>kpi</th><th class=\"n\">value</th><th class=\"n\">target</th>"
          "<th class=\"n\">achievement</th><th class=\"n\">points</th><th class=\"n\">weight</th>"
          "<th class=\"n\">weighted</th></tr>\n",
          out);
    for (size_t k = 0; k < st->kpi_count; k++) {
        const score_kpi *kp = &st->kpis[k];
        fprintf(out, "<tr%s><td>", kp->missing ? " class=\"missing\"" : "");
        html(out, kp->item->indicator);
        if (kp->missing) {
            fputs(" (missing: ", out);
            html(out, missing_reason(c, kp));
            fputc(')', out);
        }
        fputs("</td><td class=\"n\">", out);
        html(out, people(c, kp->value, kpi_unit(kp)));
        fputs("</td><td class=\"n\">", out);
        if (kp->item->has_target) fputs(kp->item->comparator == CMP_GE ? "&ge; " : "&le; ", out);
        html(out, people(c, kp->target, kpi_unit(kp)));
        fputs("</td><td class=\"n\">", out);
        html(out, people(c, kp->achievement, UNIT_PERCENT));
        fputs("</td><td class=\"n\">", out);
        html(out, people(c, shown_points(kp), UNIT_POINTS));
        fputs("</td><td class=\"n\">", out);
        html(out, people_num(c, kp->effective_weight, UNIT_PERCENT));
        fputs("</td><td class=\"n\">", out);
        html(out, people_num(c, kp->weighted, UNIT_POINTS));
        fputs("</td></tr>\n", out);
    }
    fputs("</table>\n", out);
    for (size_t g = 0; g < st->gate_count; g++) {
        const score_gate *gate = &st->gates[g];
        fprintf(out, "<div class=\"%s\">gate ", gate->passed ? "pass" : "fail");
        html(out, gate->passed
                      ? arena_printf(&c->mem, "%s (%s)", gate_text(c, gate), gate_values(c, st, gate))
                      : gate_failure(c, st, gate));
        fputs(gate->passed ? ": passed" : st->has_bonus ? ": failed, bonus 0.00" : ": failed", out);
        fputs("</div>\n", out);
    }
    fputs("</div>\n", out);
}

static void render_html(FILE *out, render_ctx *c)
{
    const score_result *r = c->r;
    const char *spec = c->o->spec_path ? c->o->spec_path : "";
    fputs("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>KPI statements: ",
          out);
    html(out, spec);
    fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>KPI statements</h1>\n", html_style);
    fputs("<p class=\"muted\">spec <code>", out);
    html(out, spec);
    fputs("</code>", out);
    if (c->o->spec && c->o->spec->files.len) {
        const diag_file *f = diag_get_file(c->o->diags, ((ast_file *)c->o->spec->files.items[0])->file);
        char hex[65];
        hash_sha256_hex(f->text, f->len, hex);
        fprintf(out, " sha256 <code>%s</code>", hex);
    }
    fputs("</p>\n", out);
    size_t *idx = arena_alloc(&c->mem, (r->statement_count + 1) * sizeof *idx);
    for (size_t p = 0; p < c->period_count; p++) {
        const char *days = period_days_text(c, p, " – ");
        size_t all, nulls;
        dec_t total = bonus_total(c, p, NULL, &all, &nulls);
        fprintf(out, "<section class=\"period\" id=\"p%s\">\n<h2>%s <small>%s</small></h2>\n",
                period_text(c, p), period_text(c, p), days);
        fprintf(out, "<p>%zu scored · %zu unscored · total bonus %s</p>\n", scored_in(c, p),
                unscored_in(c, p), people_num(c, total, UNIT_MONEY));
        for (size_t i = 0; i < r->model->roles.len; i++) {
            const ast_decl *role = r->model->roles.items[i];
            if (!role_in_period(c, role, p)) continue;
            size_t n = role_statements(c, p, role, idx);
            size_t count, role_nulls;
            dec_t sum = bonus_total(c, p, role, &count, &role_nulls);
            fputs("<section class=\"role\">\n<h3>", out);
            html(out, role_title(c, role));
            fprintf(out, " <small>%zu scored", n);
            if (role_has_bonus(role)) fprintf(out, " · bonus %s", people_num(c, sum, UNIT_MONEY));
            fputs("</small></h3>\n", out);
            if (n == 0) {
                fputs("<p class=\"muted\">Nobody scored.</p>\n</section>\n", out);
                continue;
            }
            const score_statement *first = &r->statements[idx[0]];
            fputs("<div class=\"charts\">\n", out);
            svg_histogram(out, c, idx, n);
            for (size_t k = 0; k < first->kpi_count; k++) svg_achievement(out, c, idx, n, k);
            fputs("</div>\n<table>\n<tr><th>staff</th>", out);
            for (size_t k = 0; k < first->kpi_count; k++) {
                fputs("<th class=\"n\">", out);
                html(out, first->kpis[k].item->indicator);
                fputs("</th>", out);
            }
            bool graded = ast_role_grades(role) != NULL;
            fputs(
                graded
                    ? "<th class=\"n\">score</th><th class=\"n\">rank</th><th>grade</th><th class=\"n\">factor</th>"
                      "<th class=\"n\">bonus</th><th>notes</th></tr>\n"
                    : "<th class=\"n\">score</th><th class=\"n\">bonus</th><th>notes</th></tr>\n",
                out);
            for (size_t j = 0; j < n; j++) {
                const score_statement *st = &r->statements[idx[j]];
                fputs("<tr><td>", out);
                html(out, staff_text(c, &c->roster[st->staff]));
                fputs("</td>", out);
                for (size_t k = 0; k < st->kpi_count; k++) {
                    fputs("<td class=\"n\">", out);
                    html(out, people(c, shown_points(&st->kpis[k]), UNIT_POINTS));
                    fputs("</td>", out);
                }
                fputs("<td class=\"n\"><b>", out);
                html(out, people(c, st->score, UNIT_POINTS));
                if (graded) {
                    fputs("</b></td><td class=\"n\">", out);
                    html(out, rank_text(c, st));
                    fputs("</td><td>", out);
                    html(out, grade_text(st));
                    fputs("</td><td class=\"n\">", out);
                    html(out, factor_text(c, st));
                    fputs("</td><td class=\"n\">", out);
                } else {
                    fputs("</b></td><td class=\"n\">", out);
                }
                html(out, people(c, st->bonus, UNIT_MONEY));
                fputs("</td><td>", out);
                html(out, statement_notes(c, st));
                fputs("</td></tr>\n", out);
            }
            fputs("</table>\n", out);
            const char *distribution = grade_distribution(c, role, idx, n);
            if (distribution) {
                fputs("<p>", out);
                html(out, distribution);
                fputs("</p>\n", out);
            }
            fputs("<p class=\"muted\">points per kpi; each statement in full:</p>\n<div class=\"cards\">\n",
                  out);
            for (size_t j = 0; j < n; j++) html_card(out, c, &r->statements[idx[j]]);
            fputs("</div>\n</section>\n", out);
        }
        if (unscored_in(c, p)) {
            fprintf(out, "<h3 id=\"unscored-%s\">Unscored</h3>\n", period_text(c, p));
            fputs("<table>\n<tr><th>staff</th><th>role</th><th>reason</th></tr>\n", out);
            for (size_t i = c->un_begin[p]; i < c->un_begin[p + 1]; i++) {
                const score_unscored *u = &r->unscored[i];
                const eval_staff *who = &c->roster[u->staff];
                fputs("<tr><td>", out);
                html(out, staff_text(c, who));
                fputs("</td><td>", out);
                html(out, who->role ? who->role : "(none)");
                fputs("</td><td>", out);
                html(out, unscored_note(c, u));
                fputs("</td></tr>\n", out);
            }
            fputs("</table>\n", out);
        }
        fputs(
            "<h3>Bonus by role</h3>\n<table>\n<tr><th>role</th><th class=\"n\">staff</th><th class=\"n\">bonus</th></tr>\n",
            out);
        for (size_t i = 0; i < r->model->roles.len; i++) {
            const ast_decl *role = r->model->roles.items[i];
            if (!role_in_period(c, role, p)) continue;
            size_t count, role_nulls;
            dec_t sum = bonus_total(c, p, role, &count, &role_nulls);
            fputs("<tr><td>", out);
            html(out, role_title(c, role));
            fprintf(out, "</td><td class=\"n\">%zu</td><td class=\"n\">%s</td></tr>\n", count,
                    role_has_bonus(role) ? people_num(c, sum, UNIT_MONEY) : "no bonus");
        }
        fprintf(
            out,
            "<tr class=\"totals\"><td>total</td><td class=\"n\">%zu</td><td class=\"n\">%s</td></tr>\n</table>\n",
            people_in(c, p) < all ? people_in(c, p) : all, people_num(c, total, UNIT_MONEY));
        size_t several;
        const char **who_text, **pay_text;
        several_roles(c, p, &several, &who_text, &pay_text);
        if (several) fputs("<h3>Staff in several roles</h3>\n<ul>\n", out);
        for (size_t i = 0; i < several; i++) {
            fputs("<li>", out);
            html(out, who_text[i]);
            fputs(": ", out);
            html(out, pay_text[i]);
            fputs("</li>\n", out);
        }
        if (several) fputs("</ul>\n", out);
        size_t pool_count;
        const score_pool_run *pools = pools_in(c, p, &pool_count);
        if (pool_count) fputs("<h3>Pools</h3>\n<ul>\n", out);
        for (size_t i = 0; i < pool_count; i++) {
            fputs("<li>", out);
            html(out, pool_summary(c, &pools[i]));
            fputs("</li>\n", out);
        }
        if (pool_count) fputs("</ul>\n", out);
        size_t run_count;
        const score_grade_run *runs = grade_runs_in(c, p, &run_count);
        if (run_count) fputs("<h3>Grades</h3>\n<ul>\n", out);
        for (size_t i = 0; i < run_count; i++) {
            fputs("<li>", out);
            html(out, grade_run_summary(c, &runs[i]));
            fputs("</li>\n", out);
        }
        if (run_count) fputs("</ul>\n", out);
        fputs("</section>\n", out);
    }
    fputs(
        "<h2 id=\"sources\">Sources</h2>\n<table>\n<tr><th>source</th><th>path</th><th class=\"n\">rows</th>"
        "<th class=\"n\">skipped</th><th>sha256</th></tr>\n",
        out);
    for (size_t k = 0; k < c->source_count; k++) {
        const eval_source_stats *src = &c->sources[k];
        if (!src->read) continue;
        fputs("<tr><td>", out);
        html(out, src->name);
        fputs("</td><td><code>", out);
        html(out, src->path);
        fprintf(out,
                "</code></td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64
                "</td><td><code>%s</code></td></tr>\n",
                src->rows, src->skipped, src->sha256);
    }
    fputs("</table>\n</body>\n</html>\n", out);
}

/* ---- entry point -------------------------------------------------------------------------- */

char *score_render(const score_result *r, score_format format, const score_render_options *o, size_t *len)
{
    render_ctx c;
    memset(&c, 0, sizeof c);
    c.r = r;
    c.o = o;
    c.s = r->session;
    c.periods = eval_periods(r->session, &c.period_count);
    c.roster = eval_roster(r->session, &c.roster_count);
    c.sources = eval_sources(r->session, &c.source_count);
    arena_init(&c.mem);
    if (o->values) {
        /* the values file stands for the sources the values were computed from */
        eval_source_stats *all = arena_alloc(&c.mem, (c.source_count + 1) * sizeof *all);
        memcpy(all, c.sources, c.source_count * sizeof *all);
        all[c.source_count++] = *o->values;
        c.sources = all;
    }
    if (o->adjustments) {
        /* the adjustments file is a source of the figures like any data file */
        eval_source_stats *all = arena_alloc(&c.mem, (c.source_count + 1) * sizeof *all);
        memcpy(all, c.sources, c.source_count * sizeof *all);
        eval_source_stats *adj = &all[c.source_count++];
        memset(adj, 0, sizeof *adj);
        adj->name = "adjustments";
        adj->path = o->adjustments->path;
        memcpy(adj->sha256, o->adjustments->sha256, sizeof adj->sha256);
        adj->rows = o->adjustments->count;
        adj->read = true;
        c.sources = all;
    }
    /* statements and unscored rows come grouped by period, in period order */
    c.st_begin = arena_alloc(&c.mem, (c.period_count + 1) * sizeof *c.st_begin);
    c.un_begin = arena_alloc(&c.mem, (c.period_count + 1) * sizeof *c.un_begin);
    for (size_t p = 0, i = 0, j = 0; p <= c.period_count; p++) {
        while (i < r->statement_count && r->statements[i].period < p) i++;
        while (j < r->unscored_count && r->unscored[j].period < p) j++;
        c.st_begin[p] = p == c.period_count ? r->statement_count : i;
        c.un_begin[p] = p == c.period_count ? r->unscored_count : j;
    }
    char *buf = NULL;
    size_t size = 0;
    FILE *out = score_memstream(&buf, &size);
    switch (format) {
    case SCORE_FORMAT_JSON: render_json(out, &c); break;
    case SCORE_FORMAT_CSV:
        if (o->summary) render_csv_summary(out, &c);
        else render_csv(out, &c);
        break;
    case SCORE_FORMAT_MD: render_md(out, &c); break;
    case SCORE_FORMAT_HTML: render_html(out, &c); break;
    case SCORE_FORMAT_TABLE: render_table(out, &c); break;
    }
    score_memstream_close(out);
    arena_free(&c.mem);
    if (len) *len = size;
    return buf;
}
