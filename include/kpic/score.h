/* score.h — the scorer: turning indicator values into statements (docs/language.md §9, docs/cli.md).
 *
 * Owns: who is scored in a period (declared role, employed at least one day) and who
 * is listed as unscored with a reason; per kpi the target, achievement, points
 * (the role's scale or the kpi's own expression), weight and weighted points; the
 * `missing` rules (zero, or skip with the other weights rescaled); the score; the
 * gates; the bonus, rounded once at the end, or a part of a bonus pool divided among
 * the statements that share it (score_pool.c); the ranks and grades of roles with a
 * forced distribution, before their bonus (score_grades.c). Also the outputs of `kpic score`
 * (table, JSON, CSV, Markdown, HTML: score_output.c) and `kpic explain`
 * (score_explain.c).
 *
 * Lifecycle: eval_new → score_require (every expression of every role) →
 * eval_execute → score_compute → score_render … → score_free → eval_free.
 *
 * Numbers stay exact decimals (decimal.h) through the whole computation; only the
 * outputs round, and the bonus is rounded half away from zero to 0.01 exactly once,
 * in score_compute (so 3410.275 gives 3410.28).
 */
#ifndef KPIC_SCORE_H
#define KPIC_SCORE_H

#include <stdbool.h>
#include <stddef.h>

#include "kpic/ast.h"
#include "kpic/check.h"
#include "kpic/decimal.h"
#include "kpic/diag.h"
#include "kpic/eval.h"
#include "kpic/period.h"

/* Why a roster row has no statement for a period. */
typedef enum score_reason {
    SCORE_ROLE_NOT_DECLARED, /* its role names no `role` of the spec (or is empty) */
    SCORE_NOT_EMPLOYED       /* start/end leave no day of the period */
} score_reason;

/* "role not declared", "not employed in period" (the JSON `reason` strings). */
const char *score_reason_text(score_reason reason);

/* The declared role ROLE most likely meant: the one equal to it ignoring case, else
 * the closest by edit distance (diag_closest); NULL when none is close. */
const char *score_closest_role(const chk_model *model, const char *role);

/* For a person who changed roles (several roster rows of one id, docs/language.md §3
 * staff), when another of their rows is employed in PERIOD too: the note every format
 * gives their statements, naming each role's days and saying that kpi values are the
 * person's for the whole period:
 *     roles in 2025-05: promotion until 2025-05-15, operations from 2025-05-16; kpi
 *     values are t01's for the whole period
 * malloc'd; NULL for everyone else. */
char *score_role_days_note(const eval_session *s, size_t period, int staff);

/* One kpi line of a statement. */
typedef struct score_kpi {
    const ast_role_item *item; /* the `kpi` line of the role */
    ast_decl *indicator;       /* item->ref */
    eval_value value;          /* the indicator for the staff member (a team-wide one: its total) */
    eval_value target;         /* null without `target`, or when its expression is null */
    /* >=: value/T; <=: max(0, 2 − value/T); null when value or target is null or T = 0 */
    eval_value achievement;
    eval_value points;     /* null when they could not be computed (the kpi is missing) */
    const ast_decl *scale; /* the role's scale when the points came from it, else NULL */
    int scale_row;         /* with scale: the interval the achievement fell in, -1 none */
    /* a scale whose input lay outside every interval: the role's scale applied to the
     * achievement, or a scale called in the kpi's own points; NULL when none */
    const ast_decl *out_of_scale;
    dec_t out_of_scale_input; /* that input */
    dec_t weight;             /* as declared (0.35 for 35%) */
    /* what the kpi counts with: the declared weight, rescaled under `missing skip` so that
     * the kept weights sum to 1; 0 for a dropped kpi */
    dec_t effective_weight;
    dec_t weighted; /* effective_weight × points; 0 for a missing kpi */
    bool missing;   /* points are null */
    bool dropped;   /* missing under `missing skip`: left out of the score */
    /* the indicator's value before an adjustment (= value when none overrides it) */
    eval_value value_computed;
    const struct score_adjustment *override; /* the `kpi` adjustment that set value, or NULL */
} score_kpi;

/* One gate of a statement. */
typedef struct score_gate {
    const ast_role_item *item; /* the `gate` line */
    eval_value value;          /* the condition: true, false or null */
    bool passed;               /* value is true (null fails) */
} score_gate;

/* Where a member's part of a pool ended (docs/language.md §9.2). */
typedef enum score_pool_place {
    SCORE_POOL_PROPORTIONAL, /* in proportion to the share */
    SCORE_POOL_AT_CAP,       /* held at the cap; the rest went to the others */
    SCORE_POOL_AT_FLOOR,     /* raised to the floor out of the others' parts */
    SCORE_POOL_NO_PART       /* a failed gate, or a share of 0 or without a value */
} score_pool_place;

/* A statement's part of a pool: the bonus of a role whose line is
 * `bonus pool NAME share EXPR [cap EXPR] [floor EXPR]`. */
typedef struct score_pool_part {
    const ast_decl *pool;      /* DECL_POOL; NULL when the bonus is a formula */
    const ast_role_item *item; /* the `bonus pool` line */
    eval_value share;          /* the share expression's value */
    eval_value cap, floor;     /* rounded to the cent; null when not declared */
    dec_t claim;               /* the share counted: 0 after a failed gate or without a value */
    score_pool_place place;
    bool settled; /* the pool was divided: the bonus is the part */
    /* the pool in the statement's period, as on every member's statement */
    dec_t amount;   /* rounded to the cent */
    dec_t shares;   /* every member's claim added up */
    size_t members; /* the statements sharing it */
    /* when another member's `kpi` adjustment divided the pool again and changed this part
     * (this statement has no adjustment of its own): the part before; else null */
    eval_value before_redivision;
} score_pool_part;

/* A statement's place in the ranking of a role with grades (docs/language.md §9.4):
 * the members of every role ranked on one table, in one period, form one group. */
typedef struct score_grade_place {
    const ast_grades *grades; /* the role's table; NULL when the role has no grades */
    bool settled;             /* the group was ranked: the fields below and the bonus are set */
    /* 1 = the best score, ties share one; 0: not ranked (no score, or a failed gate) */
    int rank;
    int grade;         /* index into grades->rows (not ranked: the last grade) */
    eval_value factor; /* the grade's factor; null when the table has none */
    /* the share of the other ranked members with a lower score (100% when ranked alone);
     * null when not ranked */
    eval_value percentile;
    size_t tied;            /* ranked members sharing this rank (1: no tie) */
    size_t ranked, members; /* the group in this period: ranked members, statements */
    /* the grade before other members' `kpi` adjustments ranked the group again, when it
     * changed; else -1 */
    int before_regrade;
    /* the same for the bonus (not a pool's part, whose note is the pool's): when it
     * changed; else null */
    eval_value bonus_before;
    eval_grade_context values; /* what the bonus reads: grade, rank, percentile, factor */
    /* score_settle_one (explain): the group's distribution, owned by the statement; NULL
     * in a score_result, which holds its runs */
    struct score_grade_run *run;
} score_grade_place;

/* The scoring of one staff member in one period. */
typedef struct score_statement {
    size_t period;   /* index into the session's periods */
    int staff;       /* index into eval_roster */
    ast_decl *role;  /* DECL_ROLE */
    score_kpi *kpis; /* in the role's order */
    size_t kpi_count;
    eval_value score; /* Σ weighted, exact; null only when every kpi was dropped */
    score_gate *gates;
    size_t gate_count;
    bool gates_passed;             /* every gate passed (true without gates) */
    eval_value employed;           /* the fraction of the period's days employed */
    period_fraction employed_days; /* the same as days / days of the period */
    bool has_bonus;                /* the role has a `bonus` line */
    eval_value bonus_exact;        /* the bonus expression's value, unrounded (null without one) */
    /* rounded half away from zero to 0.01; 0 when a gate failed (and the role has a
     * bonus); null without a bonus line or when the expression is null; after adjustments */
    eval_value bonus;
    eval_value bonus_computed;                   /* the bonus as the rules give it, before any adjustment */
    const struct score_adjustment **adjustments; /* applied to this statement, file order */
    size_t adjustment_count;
    score_pool_part pool;    /* the bonus as a part of a pool (pool.pool not NULL) */
    score_grade_place grade; /* the ranking (grade.grades not NULL) */
} score_statement;

/* A roster row left out of one period, never silently. */
typedef struct score_unscored {
    size_t period; /* index into the session's periods */
    int staff;     /* index into eval_roster */
    score_reason reason;
} score_unscored;

/* One pool divided in one period. */
typedef struct score_pool_run {
    size_t period;        /* index into the session's periods */
    const ast_decl *pool; /* DECL_POOL */
    eval_value amount;    /* rounded to the cent; null when it had no value */
    /* the parts added up: the amount, unless every member was capped or no one had a share */
    dec_t paid;
    dec_t undistributed; /* amount − paid */
    size_t members;      /* statements sharing it */
    bool failed;         /* an error was reported: no part is paid */
} score_pool_run;

/* One group ranked in one period: its grade distribution (docs/language.md §9.4). */
typedef struct score_grade_run {
    size_t period; /* index into the session's periods */
    const ast_grades *grades;
    size_t members, ranked; /* statements; those ranked */
    size_t *counts;         /* per grade: members given it (the unranked in the last) */
    /* per grade: the ranked places grades 0..k take together by their quotas (the cut-off
     * after rounding) */
    size_t *places;
    /* per grade: the lowest score given it among the ranked; null when no ranked member
     * has it */
    eval_value *lowest;
} score_grade_run;

/* Every statement of a run: per period (session order), the scored roster rows in
 * roster order; and every unscored roster row in the same order. */
typedef struct score_result {
    eval_session *session; /* not owned */
    chk_model *model;      /* not owned */
    score_statement *statements;
    size_t statement_count;
    score_unscored *unscored;
    size_t unscored_count;
    /* a period's bonus total, of a role or of every role, leaves the exact decimal range:
     * reported as an error; the run must fail rather than print a partial sum */
    bool total_overflow;
    score_pool_run *pools; /* per period, each pool of the spec in declaration order */
    size_t pool_count;
    /* a pool could not be divided (a located error): the run must fail and write nothing,
     * as for total_overflow */
    bool pool_failed;
    /* per period, each table roles rank on, in the order of the first role using it */
    score_grade_run *grade_runs;
    size_t grade_run_count;
} score_result;

/* Marks everything scoring needs as required: every kpi's indicator, target and own
 * points, every gate and bonus of every role. Call between eval_new and eval_execute. */
void score_require(eval_session *s, const chk_model *model);
/* The same for one role. */
void score_require_role(eval_session *s, const ast_decl *role);

/* What scoring PERIODS reads when the indicators' values are computed elsewhere (an
 * engine's query, `--engine`): every indicator the roles of PROGRAM's model name (a
 * kpi's indicator, targets, points, gates, bonuses, shares, caps, floors, pools'
 * amounts), in declaration order, and the periods they are read in, sorted: PERIODS and
 * every period previous() and last_year() in those expressions reach (ir_model_periods,
 * IR_REACH_VALUES). Indicators used only inside other indicators' formulas are not
 * listed: the engine computes them. Both arrays malloc'd. */
void score_values_needed(const ir_program *program, const period_t *periods, size_t period_count,
                         ast_decl ***indicators, size_t *indicator_count, period_t **needed,
                         size_t *needed_count);

/* The periods a scoring run of the spec's periods R evaluates (docs/language.md "Role
 * periods"): each period of R, each followed by the periods of the roles' own coarser
 * grains that end with it and lie wholly inside R (2025-04..2025-06 with a quarterly role:
 * 2025-04, 2025-05, 2025-06, 2025-Q2). A role's period that R covers only in part is a
 * located note in DIAGS (may be NULL) naming the period to ask for. malloc'd. */
period_t *score_periods(const chk_model *model, const period_range *r, diag_sink *diags, size_t *count);

/* Scores every roster row in every period of an executed session. Warnings go to
 * diags: a roster role that is not declared (once per role, with the role meant), an
 * achievement outside every interval of the scale (once per staff member and kpi,
 * naming the value), a statement whose kpis were all dropped, a bonus expression
 * without a value. A bonus total that overflows is an error there, with
 * total_overflow set: the caller must then write nothing and fail (exit 1). Free with
 * score_free. */
score_result *score_compute(eval_session *s, chk_model *model, diag_sink *diags);
void score_free(score_result *r);

struct score_adjustments;

/* Divides POOL in period PERIOD among the N MEMBERS (their statements, in roster
 * order): each gets a part in proportion to their claim within their cap and floor,
 * to the cent, the parts adding up to the pool exactly (score_pool_distribute). Sets
 * each member's bonus and pool fields, and *RUN. A pool without a value or below 0, a
 * negative share, a cap or floor below 0 or without a value, a floor above its cap,
 * floors above the pool: located errors in DIAGS (may be NULL), false, no part paid.
 * Caps that leave money over, a pool no one has a share of: warnings. */
bool score_pool_settle(eval_session *s, const ast_decl *pool, size_t period, score_statement **members,
                       size_t n, diag_sink *diags, score_pool_run *run);

/* For `kpic explain` of ST (period 0) when its bonus is a part of a pool: scores every
 * other roster row of period 0 whose role shares the pool (with the `kpi` rows of A
 * for them, when A is not NULL) and divides the pool. False after an error. */
bool score_pool_settle_one(eval_session *s, score_statement *st, const struct score_adjustments *a,
                           diag_sink *diags);

/* For `kpic explain` of ST (period 0) when its bonus waits on others: a role with
 * grades (its group is ranked: every other roster row of period 0 is scored, with the
 * `kpi` rows of A when A is not NULL) or a part of a pool (divided as by
 * score_pool_settle_one). Sets ST's grade place and bonus. False after an error. */
bool score_settle_one(eval_session *s, score_statement *st, const struct score_adjustments *a,
                      diag_sink *diags);

/* Frees what RUN's arrays hold. */
void score_grade_run_free(score_grade_run *run);

/* Scores one staff member (roster index) with ROLE in period PERIOD (index) into *OUT,
 * whose arrays are malloc'd (release with score_statement_free). Reports nothing. */
void score_statement_compute(eval_session *s, ast_decl *role, size_t period, int staff, score_statement *out);
void score_statement_free(score_statement *st);

/* The achievement of VALUE against TARGET (docs/language.md §9): CMP_GE value/T, CMP_LE
 * max(0, 2 − value/T), to 18 places; null when either is not a number or T = 0. */
eval_value score_achievement(ast_comparator cmp, eval_value value, eval_value target);


/* ---- audited adjustments (score_adjust.c) ---- */

/* What one row of an adjustments file does. */
typedef enum score_adjust_kind {
    SCORE_ADJUST_KPI,       /* `kpi`: the kpi's value becomes amount; scoring reruns */
    SCORE_ADJUST_BONUS_ADD, /* `bonus_add`: amount (money, may be negative) is added */
    SCORE_ADJUST_BONUS_SET  /* `bonus_set`: the bonus becomes amount (money) */
} score_adjust_kind;

/* "kpi", "bonus_add", "bonus_set". */
const char *score_adjust_kind_name(score_adjust_kind kind);

/* One row of an adjustments file. */
typedef struct score_adjustment {
    score_adjust_kind kind;
    char *staff_id;
    period_t period;
    char *kpi;         /* SCORE_ADJUST_KPI: the kpi's indicator; NULL otherwise */
    dec_t amount;      /* the kpi's new value, or money (a multiple of 0.01) */
    char *reason;      /* never empty */
    char *approved_by; /* never empty */
    /* the optional `role` column: which of a person's roles (a roster row per role) the
     * row adjusts; NULL when empty */
    char *role;
    unsigned line; /* the file line its record starts on */
} score_adjustment;

/* An adjustments file, read whole (they are short: one row per decision). */
typedef struct score_adjustments {
    char *path;              /* as given */
    char sha256[65];         /* of the file's bytes */
    score_adjustment *items; /* in file order */
    size_t count;
    /* field numbers of staff_id, period, kind, kpi, amount, reason, approved_by and the
     * optional role: where errors point */
    unsigned column[8];
} score_adjustments;

/* Reads PATH, a CSV with the columns staff_id, period, kind, kpi, amount, reason,
 * approved_by (others are ignored), periods written in GRAIN's form. Every bad row or
 * cell is a located error in DIAGS (path:line:field); returns NULL after any error,
 * with *IO_ERROR set when the file could not be read at all (exit 2, not 1). */
score_adjustments *score_adjust_read(const char *path, ast_grain grain, diag_sink *diags, bool *io_error);
/* The same over SIZE bytes at DATA named NAME (tests and the fuzzer). */
score_adjustments *score_adjust_read_memory(const char *name, const void *data, size_t size, ast_grain grain,
                                            diag_sink *diags);
void score_adjust_free(score_adjustments *a);

/* Applies A to the statements of R (after score_compute): every row must name a
 * staff member scored in one of R's periods, a `kpi` row a kpi of their role, a bonus
 * row a role with a bonus line whose bonus has a value (bonus_add); one `bonus_set`
 * and one override per kpi at most per statement. Violations are located errors in
 * DIAGS and make it return false (the caller writes nothing and exits 1). Order per
 * statement: kpi overrides (scoring reruns from the new values), then bonus_set, then
 * each bonus_add in file order. */
bool score_adjust_apply(score_result *r, const score_adjustments *a, diag_sink *diags);

/* The same for the one statement ST of session S (kpic explain): rows for other staff
 * members or periods are not applied, but a staff id the roster lacks is an error. */
bool score_adjust_statement(eval_session *s, score_statement *st, const score_adjustments *a,
                            diag_sink *diags);

/* For kpic explain of roster row STAFF, unscored in the session's period 0 for
 * REASON: a row of A for that person and period is an error (there is no statement to
 * adjust), as is a staff id the roster lacks. */
bool score_adjust_unscored(eval_session *s, int staff, score_reason reason, const score_adjustments *a,
                           diag_sink *diags);

/* A statement's kpi values as the `kpi` rows of A set them for its staff member and
 * the session's period PERIOD (rows that name no kpi of its role are left to
 * score_adjust_statement to report): one entry per kpi line, NULL for none; malloc'd,
 * NULL when no row applies. */
const score_adjustment **score_adjust_overrides(eval_session *s, const ast_decl *role, size_t period,
                                                int staff, const score_adjustments *a);

/* ---- bonus pools: the arithmetic (score_plan.c) ---- */

/* One person's claim on a pool. */
typedef struct score_pool_member {
    dec_t share; /* ≥ 0; 0 (a failed gate, no score) takes no part */
    bool has_cap, has_floor;
    dec_t cap, floor; /* money in cents, ≥ 0, floor ≤ cap; only for a share > 0 */
} score_pool_member;

typedef enum score_pool_status {
    SCORE_POOL_OK, /* the parts add up to the pool exactly */
    /* every member with a share is at a bound and the caps leave *UNDISTRIBUTED (> 0) over */
    SCORE_POOL_CAPPED,
    SCORE_POOL_NO_SHARES, /* no member has a share > 0: the whole pool is left over */
    /* the floors of the members with a share add up to more than the pool: no part is paid
     * (every OUT is 0) */
    SCORE_POOL_FLOORS_EXCEED,
    /* a negative amount or share, a pool, cap or floor not in cents, a floor above its cap */
    SCORE_POOL_INVALID,
    SCORE_POOL_OVERFLOW /* a sum left the exact range: no part is paid */
} score_pool_status;

/* Divides AMOUNT among the N members M in proportion to their shares, each within its
 * cap and floor, what a cap cuts off going to the others in the same proportion;
 * OUT[i] gets member i's part in cents. The parts add up to AMOUNT exactly (less
 * *UNDISTRIBUTED under SCORE_POOL_CAPPED), each within a cent of its exact part: the
 * cents left after cutting every part down go to the largest remainders, ties to the
 * member listed first (list them in roster order). Deterministic. */
score_pool_status score_pool_distribute(dec_t amount, const score_pool_member *m, size_t n, dec_t *out,
                                        dec_t *undistributed);

/* ---- forced distribution: ranks and grades (score_plan.c) ---- */

typedef enum score_grade_status {
    SCORE_GRADE_OK,
    SCORE_GRADE_INVALID /* no grade, a negative quota, quotas above 100% */
} score_grade_status;

/* Ranks the N members by SCORES, highest first, and grades them by quota: QUOTAS[k]
 * is grade k's fraction of the ranked members (the last grade takes the rest; its
 * quota is not read). Ranked are the members with RANKABLE[i] and a numeric score;
 * the others get RANK 0 and the last grade. RANK[i] is 1 + the number of ranked
 * members with a strictly higher score (ties share a rank: 1, 2, 2, 4). Grade k's
 * cumulative boundary is round half up (cumulative quota × ranked count), and the
 * first grade holds at least one member when its quota is above 0; a member whose
 * rank − 1 is below grade k's boundary (and not below k − 1's) gets grade k, so a tie
 * takes the better grade together even beyond its quota. */
score_grade_status score_grade_assign(const eval_value *scores, const bool *rankable, size_t n,
                                      const dec_t *quotas, size_t grade_count, int *rank, int *grade);

/* The cumulative boundaries score_grade_assign grades RANKED members by: BOUND[k] is
 * how many ranked places grades 0..k take together (the last is RANKED). */
score_grade_status score_grade_bounds(const dec_t *quotas, size_t grade_count, size_t ranked, size_t *bound);

/* ---- outputs (score_output.c) ---- */

typedef enum score_format {
    SCORE_FORMAT_TABLE,
    SCORE_FORMAT_JSON,
    SCORE_FORMAT_CSV,
    SCORE_FORMAT_MD,
    SCORE_FORMAT_HTML
} score_format;

typedef struct score_render_options {
    const char *spec_path;  /* as given on the command line: JSON `spec` */
    const ast_spec *spec;   /* its files: spec_sha256 and `imports` */
    const diag_sink *diags; /* the spec's text: gate conditions, explanations */
    bool bom;               /* CSV: start with a UTF-8 byte-order mark */
    /* CSV: a row per statement and per unscored row, without the kpi columns (what payroll
     * adds up) */
    bool summary;
    /* --adjustments: listed among the sources; may be NULL */
    const score_adjustments *adjustments;
    /* --values: the values file, listed among the sources (before adjustments); may be
     * NULL */
    const eval_source_stats *values;
} score_render_options;

/* The statements of R in FORMAT (docs/cli.md; JSON and CSV exactly docs/json.md),
 * malloc'd, NUL-terminated, *LEN bytes. Same input, same bytes: nothing depends on
 * the clock, the locale or addresses. Aborts on out of memory. */
char *score_render(const score_result *r, score_format format, const score_render_options *o, size_t *len);


/* ---- `kpic explain` (score_explain.c) ---- */

typedef struct score_trace score_trace;

/* The periods an explanation of ROLE in period P evaluates: P first, then every
 * distinct period that previous() and last_year() reach from the role's expressions
 * (through indicators, transitively; ir_role_periods of PROGRAM), at most
 * PERIOD_RANGE_MAX. malloc'd; *COUNT ≥ 1. */
period_t *score_trace_periods(const ir_program *program, const ast_decl *role, period_t p, size_t *count);

/* Requires what explaining ROLE needs in session S (whose first period is the one
 * explained): the role's expressions, and for each aggregate they reach a count of
 * the rows it saw (extra count() nodes allocated in SPEC's arena). Call before
 * eval_execute; free with score_trace_free. */
score_trace *score_trace_require(eval_session *s, ast_spec *spec, const ast_decl *role);
void score_trace_free(score_trace *t);

/* The explanation of ST (scored in the session's period 0) as text: per kpi (only
 * KPI when not NULL) the formula, each aggregate with its value and rows, the value,
 * the target and where it came from, the achievement, the scale interval, points,
 * weight and weighted points; then the score, each gate with its values, and the
 * bonus expression with its numbers filled in. malloc'd, *LEN bytes. */
char *score_explain(score_trace *t, eval_session *s, const diag_sink *diags, const score_statement *st,
                    const char *kpi, size_t *len);

/* The same for one indicator (`kpic test` explains an actual value with it): its
 * expressions and a count of the rows of each aggregate it reaches. */
score_trace *score_trace_require_indicator(eval_session *s, ast_spec *spec, ast_decl *indicator);
/* The explanation of INDICATOR's value in period 0, for STAFF (-1: the total): its
 * formula, then the value with each aggregate and indicator it uses, as in
 * score_explain. malloc'd, *LEN bytes. */
char *score_explain_indicator(score_trace *t, eval_session *s, const diag_sink *diags, ast_decl *indicator,
                              int staff, size_t *len);
/* The explanation for a roster row that is not scored in period 0. */
char *score_explain_unscored(eval_session *s, const chk_model *model, int staff, score_reason reason,
                             size_t *len);

#endif
