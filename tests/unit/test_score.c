/* Unit tests for the scorer (score.c) and its outputs: achievement for both
 * comparators, scale intervals at their edges as written, the bonus rounded once and
 * exactly in decimal (3100.25 × 1.1 = 3410.275 → 3410.28), proration by `employed`,
 * `missing zero` and `missing skip` (rescaled weights; every kpi missing gives no
 * score), gates (null fails), unscored roster rows, source text of expressions, and
 * the same bytes from the same input. Specs and CSV files are written to a temporary
 * folder and run through the whole pipeline: load, check, evaluate, score. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kpic/hash.h"
#include "kpic/score.h"
#include "score_internal.h"

/* ---- helpers ------------------------------------------------------------------------ */

static dec_t N(const char *text)
{
    dec_t d;
    if (dec_parse(text, strlen(text), DEC_PLACES, &d) != DEC_OK) fail_msg("bad test number %s", text);
    return d;
}

static eval_value num(const char *text)
{
    eval_value v = { .kind = VAL_NUM };
    v.as.num = N(text);
    return v;
}

static const eval_value null_value = { .kind = VAL_NULL };

static eval_value num_value_of(dec_t d)
{
    eval_value v = { .kind = VAL_NUM };
    v.as.num = d;
    return v;
}

/* V is a number and prints as WANT at 18 places, trailing zeros dropped. */
static void check_exact(eval_value v, const char *want)
{
    assert_int_equal(v.kind, VAL_NUM);
    char buf[DEC_FORMAT_SIZE];
    dec_format(v.as.num, DEC_PLACES, buf, sizeof buf);
    char *end = buf + strlen(buf);
    while (end > buf && end[-1] == '0') end--;
    if (end > buf && end[-1] == '.') end--;
    *end = '\0';
    assert_string_equal(buf, want);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A spec with its data in a fresh temporary folder, loaded, checked, evaluated for
 * PERIOD and scored. */
typedef struct run {
    char dir[64];
    diag_sink diags;
    ast_spec *spec;
    chk_model *model;
    eval_session *session;
    score_result *result;
} run;

static run *start(const char *spec_text, const char *staff_csv, const char *orders_csv, const char *period)
{
    run *r = calloc(1, sizeof *r);
    strcpy(r->dir, "/tmp/kpic-score-XXXXXX");
    assert_non_null(mkdtemp(r->dir));
    write_file(r->dir, "t.kpi", spec_text);
    write_file(r->dir, "staff.csv", staff_csv);
    write_file(r->dir, "orders.csv", orders_csv);
    diag_init(&r->diags);
    char path[512];
    snprintf(path, sizeof path, "%s/t.kpi", r->dir);
    r->spec = ast_load_spec(&r->diags, path);
    assert_non_null(r->spec);
    r->model = chk_check(r->spec);
    if (r->diags.errors) diag_print(&r->diags, stderr, DIAG_FORMAT_TEXT);
    assert_int_equal(r->diags.errors, 0);
    period_t p;
    char msg[PERIOD_MESSAGE_SIZE];
    assert_int_equal(period_parse(period, strlen(period), r->model->grain, &p, msg, sizeof msg), PERIOD_OK);
    eval_options opts = { 0 };
    r->session = eval_new(r->spec, r->model, &p, 1, &opts, &r->diags);
    score_require(r->session, r->model);
    if (!eval_execute(r->session)) diag_print(&r->diags, stderr, DIAG_FORMAT_TEXT);
    assert_int_equal(r->diags.errors, 0);
    r->result = score_compute(r->session, r->model, &r->diags);
    return r;
}

static void finish(run *r)
{
    score_free(r->result);
    eval_free(r->session);
    ast_free_spec(r->spec);
    diag_free(&r->diags);
    const char *names[] = { "t.kpi", "staff.csv", "orders.csv" };
    char path[512];
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", r->dir, names[i]);
        unlink(path);
    }
    rmdir(r->dir);
    free(r);
}

/* The statement of staff ID (NULL if not scored). */
static const score_statement *statement(const run *r, const char *id)
{
    size_t n;
    const eval_staff *roster = eval_roster(r->session, &n);
    for (size_t i = 0; i < r->result->statement_count; i++)
        if (!strcmp(roster[r->result->statements[i].staff].id, id)) return &r->result->statements[i];
    return NULL;
}

static size_t warnings_with(const run *r, const char *code)
{
    size_t n = 0;
    for (size_t i = 0; i < r->diags.diags.len; i++) {
        const diagnostic *d = r->diags.diags.items[i];
        n += d->severity == DIAG_WARNING && d->code && !strcmp(d->code, code);
    }
    return n;
}

static const char orders_header[] = "order_id,staff_id,amount,paid_at\n";

/* A spec over orders with one role; ROLE_BODY is the inside of `role sales { … }`. */
static char *spec_with(const char *scales, const char *role_body)
{
    static char text[4096];
    snprintf(text, sizeof text,
             "period month\n"
             "source orders \"orders.csv\" {\n  order_id text\n  staff_id text staff\n"
             "  amount money\n  paid_at date time\n}\n"
             "staff \"staff.csv\" {\n  id text\n  name text\n  role text\n  base_bonus money\n"
             "  start date\n  end date\n}\n"
             "indicator revenue money per staff = sum(orders.amount)\n"
             "indicator order_count count per staff = count(orders)\n"
             "indicator avg_amount money per staff = avg(orders.amount)\n"
             "indicator max_amount money per staff = max(orders.amount)\n"
             "%s\nrole sales {\n%s\n}\n",
             scales, role_body);
    return text;
}

static const char flat_scale[] =
    "scale flat {\n  [0%, 100%) -> 0 .. 100\n  [100%, 150%) -> 100 .. 150\n  [150%, inf) -> 150\n}\n";

/* ---- achievement ------------------------------------------------------------------------ */

static void test_achievement(void **state)
{
    (void)state;
    check_exact(score_achievement(CMP_GE, num("1300"), num("1200")), "1.083333333333333333");
    check_exact(score_achievement(CMP_GE, num("0"), num("5")), "0");
    check_exact(score_achievement(CMP_GE, num("-1"), num("4")), "-0.25");
    /* lower is better: 2 − value/T, never below 0 */
    check_exact(score_achievement(CMP_LE, num("0.04"), num("0.05")), "1.2");
    check_exact(score_achievement(CMP_LE, num("0"), num("0.05")), "2");
    check_exact(score_achievement(CMP_LE, num("0.1"), num("0.05")), "0");
    check_exact(score_achievement(CMP_LE, num("0.25"), num("0.1")), "0");
    /* null value or target, or a target of 0: no achievement */
    assert_int_equal(score_achievement(CMP_GE, null_value, num("5")).kind, VAL_NULL);
    assert_int_equal(score_achievement(CMP_GE, num("5"), null_value).kind, VAL_NULL);
    assert_int_equal(score_achievement(CMP_GE, num("5"), num("0")).kind, VAL_NULL);
    assert_int_equal(score_achievement(CMP_LE, num("5"), num("0")).kind, VAL_NULL);
}

static void test_reason_text(void **state)
{
    (void)state;
    assert_string_equal(score_reason_text(SCORE_ROLE_NOT_DECLARED), "role not declared");
    assert_string_equal(score_reason_text(SCORE_NOT_EMPLOYED), "not employed in period");
}

/* ---- scale rows at their edges ------------------------------------------------------------- */

static void test_scale_edges(void **state)
{
    (void)state;
    run *r = start(spec_with("scale std {\n  [0%, 60%) -> 0\n  [60%, 100%) -> 60 .. 90\n"
                             "  [100%, 150%) -> 100 .. 150\n  [150%, inf) -> 150\n}\n"
                             "scale adj {\n  [0, 80] -> -20%\n  (80, 100] -> 10%\n  (100, inf) -> 20%\n}\n",
                             "  kpi order_count weight 100% target >= 1\n  points std"),
                   "id,name,role,base_bonus,start,end\n", orders_header, "2025-05");
    const ast_decl *std = chk_find(r->model, "std"), *adj = chk_find(r->model, "adj");
    assert_non_null(std);
    assert_non_null(adj);
    /* [a, b): the lower edge is in, the upper edge belongs to the next row */
    assert_int_equal(eval_scale_row(r->session, std, N("0.6")), 1);
    assert_int_equal(eval_scale_row(r->session, std, N("0.599999999999999999")), 0);
    assert_int_equal(eval_scale_row(r->session, std, N("1")), 2);
    assert_int_equal(eval_scale_row(r->session, std, N("0.999999999999999999")), 1);
    assert_int_equal(eval_scale_row(r->session, std, N("1.5")), 3);
    assert_int_equal(eval_scale_row(r->session, std, N("-0.01")), -1);
    /* and eval_scale takes its points from that row: 100 at exactly 100%, not 90 */
    check_exact(eval_scale(r->session, std, N("1")), "100");
    check_exact(eval_scale(r->session, std, N("0.8")), "75");
    /* (a, b]: the upper edge is in, the lower edge belongs to the row before */
    assert_int_equal(eval_scale_row(r->session, adj, N("80")), 0);
    assert_int_equal(eval_scale_row(r->session, adj, N("80.000000000000000001")), 1);
    assert_int_equal(eval_scale_row(r->session, adj, N("100")), 1);
    assert_int_equal(eval_scale_row(r->session, adj, N("100.000000000000000001")), 2);
    check_exact(eval_scale(r->session, adj, N("100")), "0.1");
    finish(r);
}

/* ---- the bonus, rounded once and exactly ----------------------------------------------------- */

static void test_bonus_rounding(void **state)
{
    (void)state;
    /* 3100.25 × 1.1 = 3410.275 exactly, held exactly (no binary floating point on the
     * way): half away from zero gives 3410.28. The second staff member joined on
     * 2025-05-12: 5000 × 1.1 × 20/31 = 3548.387… → 3548.39. */
    run *r = start(spec_with(flat_scale, "  kpi order_count weight 100% target >= 1\n  points flat\n"
                                         "  bonus staff.base_bonus * 1.1 * employed"),
                   "id,name,role,base_bonus,start,end\n"
                   "s01,甲,sales,3100.25,,\n"
                   "s02,乙,sales,5000.00,2025-05-12,\n",
                   "order_id,staff_id,amount,paid_at\no1,s01,10.00,2025-05-03\no2,s02,10.00,2025-05-13\n",
                   "2025-05");
    const score_statement *a = statement(r, "s01"), *b = statement(r, "s02");
    assert_non_null(a);
    assert_non_null(b);
    check_exact(a->bonus_exact, "3410.275");
    check_exact(a->bonus, "3410.28");
    char buf[DEC_FORMAT_SIZE];
    dec_format(a->bonus.as.num, 2, buf, sizeof buf);
    assert_string_equal(buf, "3410.28");
    assert_int_equal(b->employed_days.num, 20);
    assert_int_equal(b->employed_days.den, 31);
    check_exact(b->bonus, "3548.39");
    /* the bonus is rounded only at the end: the exact value keeps its digits */
    check_exact(b->bonus_exact, "3548.387096774193548387"); /* 5500 × 20 / 31, one division */
    finish(r);
}

/* ---- missing kpis ------------------------------------------------------------------------- */

static void test_missing_zero(void **state)
{
    (void)state;
    /* s01 has no orders: avg_amount is null → missing, 0 points, weight kept. */
    run *r = start(spec_with(flat_scale, "  kpi order_count weight 50% target >= 2\n"
                                         "  kpi avg_amount weight 50% target >= 10\n  points flat"),
                   "id,name,role,base_bonus,start,end\ns01,甲,sales,100.00,,\n",
                   "order_id,staff_id,amount,paid_at\no1,s02,10.00,2025-05-03\n", "2025-05");
    const score_statement *st = statement(r, "s01");
    assert_non_null(st);
    assert_int_equal(st->kpi_count, 2);
    assert_false(st->kpis[0].missing);
    check_exact(st->kpis[0].points, "0");
    assert_true(st->kpis[1].missing);
    assert_false(st->kpis[1].dropped);
    check_exact(num_value_of(st->kpis[1].effective_weight), "0.5");
    check_exact(st->score, "0");
    assert_int_equal(st->bonus.kind, VAL_NULL); /* no bonus line */
    finish(r);
}

static void test_missing_skip(void **state)
{
    (void)state;
    /* s01: orders 3 of 2 → 150% → 150; avg_amount's target previous(avg_amount) is null
     * (no April orders) → dropped; max_amount 30 of 40 → 75% → 75. Weights 50/30/20
     * without the dropped 30: 50/70 and 20/70.
     * score = (0.5 × 150 + 0.2 × 75) / 0.7 = 90 / 0.7 = 128.571428…
     * s02 has no orders at all: orders 0 → 0 points (count gives 0, not null), the
     * other two are null and dropped, so orders counts alone: score 0. */
    run *r = start(spec_with(flat_scale, "  kpi order_count weight 50% target >= 2\n"
                                         "  kpi avg_amount weight 30% target >= previous(avg_amount)\n"
                                         "  kpi max_amount weight 20% target >= 40\n"
                                         "  points flat\n  missing skip"),
                   "id,name,role,base_bonus,start,end\ns01,甲,sales,100.00,,\ns02,乙,sales,100.00,,\n",
                   "order_id,staff_id,amount,paid_at\no1,s01,10.00,2025-05-03\n"
                   "o2,s01,20.00,2025-05-04\no3,s01,30.00,2025-05-05\n",
                   "2025-05");
    const score_statement *st = statement(r, "s01");
    assert_non_null(st);
    assert_true(st->kpis[1].missing); /* previous(avg_amount) is null: no April orders */
    assert_true(st->kpis[1].dropped);
    check_exact(num_value_of(st->kpis[1].effective_weight), "0");
    check_exact(num_value_of(st->kpis[0].effective_weight), "0.714285714285714286");
    check_exact(num_value_of(st->kpis[2].effective_weight), "0.285714285714285714");
    check_exact(st->kpis[0].points, "150");
    check_exact(st->kpis[2].points, "75");
    check_exact(st->score, "128.571428571428571429");
    const score_statement *none = statement(r, "s02");
    assert_non_null(none);
    check_exact(none->score, "0");
    assert_true(none->kpis[1].dropped);
    assert_true(none->kpis[2].dropped);
    check_exact(num_value_of(none->kpis[0].effective_weight), "1");
    finish(r);
}

static void test_all_missing_no_score(void **state)
{
    (void)state;
    /* every kpi dropped under `missing skip`: no score, a warning, and the bonus (which
     * needs the score) has no value either, with its own warning */
    run *r = start(spec_with("scale flat {\n  [0%, inf) -> 100\n}\nscale adj {\n  [0, inf) -> 10%\n}\n",
                             "  kpi avg_amount weight 50% target >= 10\n"
                             "  kpi max_amount weight 50% target >= 10\n"
                             "  points flat\n  missing skip\n"
                             "  bonus staff.base_bonus * (1 + adj(score))"),
                   "id,name,role,base_bonus,start,end\ns01,甲,sales,100.00,,\n", orders_header, "2025-05");
    const score_statement *st = statement(r, "s01");
    assert_non_null(st);
    assert_int_equal(st->score.kind, VAL_NULL);
    assert_int_equal(st->bonus.kind, VAL_NULL);
    assert_int_equal(warnings_with(r, "no-score"), 1);
    assert_int_equal(warnings_with(r, "no-bonus"), 1);
    finish(r);
}

static void test_out_of_scale(void **state)
{
    (void)state;
    /* a negative value gives a negative achievement: outside [0%, …) → missing, and one
     * warning naming the staff member, kpi and value */
    run *r = start(spec_with(flat_scale, "  kpi revenue weight 50% target >= 100\n"
                                         "  kpi order_count weight 50% target >= 1\n  points flat"),
                   "id,name,role,base_bonus,start,end\ns01,甲,sales,100.00,,\n",
                   "order_id,staff_id,amount,paid_at\no1,s01,-50.00,2025-05-03\n", "2025-05");
    const score_statement *st = statement(r, "s01");
    assert_non_null(st);
    check_exact(st->kpis[0].achievement, "-0.5");
    assert_true(st->kpis[0].missing);
    assert_ptr_equal(st->kpis[0].out_of_scale, chk_find(r->model, "flat"));
    check_exact(st->score, "50");
    assert_int_equal(warnings_with(r, "scale-range"), 1);
    const diagnostic *d = NULL;
    for (size_t i = 0; i < r->diags.diags.len; i++) {
        const diagnostic *x = r->diags.diags.items[i];
        if (x->code && !strcmp(x->code, "scale-range")) d = x;
    }
    assert_non_null(d);
    assert_non_null(strstr(d->message, "'s01'"));
    assert_non_null(strstr(d->message, "'revenue'"));
    assert_non_null(strstr(d->message, "-50%"));
    finish(r);
}

/* ---- gates and who is scored ----------------------------------------------------------------- */

static void test_gates_and_unscored(void **state)
{
    (void)state;
    /* gate avg_amount >= 5: s01 passes (10), s02 fails (2), s03 has no orders (null
     * fails). s04 has role 'intern' (undeclared); s05 left on 2025-05-01 (end
     * exclusive: no day of May). */
    run *r = start(spec_with(flat_scale, "  kpi order_count weight 100% target >= 1\n  points flat\n"
                                         "  gate avg_amount >= 5\n  bonus staff.base_bonus"),
                   "id,name,role,base_bonus,start,end\n"
                   "s01,甲,sales,100.00,,\ns02,乙,sales,100.00,,\ns03,丙,sales,100.00,,\n"
                   "s04,丁,intern,100.00,,\ns05,戊,sales,100.00,,2025-05-01\n",
                   "order_id,staff_id,amount,paid_at\no1,s01,10.00,2025-05-03\no2,s02,2.00,2025-05-04\n",
                   "2025-05");
    assert_int_equal(r->result->statement_count, 3);
    const score_statement *a = statement(r, "s01"), *b = statement(r, "s02"), *c = statement(r, "s03");
    assert_true(a->gates_passed);
    check_exact(a->bonus, "100");
    assert_false(b->gates_passed);
    assert_int_equal(b->gates[0].value.kind, VAL_BOOL);
    check_exact(b->bonus, "0"); /* 0.00, not null */
    assert_false(c->gates_passed);
    assert_int_equal(c->gates[0].value.kind, VAL_NULL);
    check_exact(c->bonus, "0");
    check_exact(b->bonus_exact, "100"); /* what it would have been */
    assert_int_equal(r->result->unscored_count, 2);
    size_t n;
    const eval_staff *roster = eval_roster(r->session, &n);
    assert_string_equal(roster[r->result->unscored[0].staff].id, "s04");
    assert_int_equal(r->result->unscored[0].reason, SCORE_ROLE_NOT_DECLARED);
    assert_string_equal(roster[r->result->unscored[1].staff].id, "s05");
    assert_int_equal(r->result->unscored[1].reason, SCORE_NOT_EMPLOYED);
    finish(r);
}

/* ---- adjustments ----------------------------------------------------------------------------- */

static size_t errors_with(const diag_sink *d, const char *code)
{
    size_t n = 0;
    for (size_t i = 0; i < d->diags.len; i++) {
        const diagnostic *g = d->diags.items[i];
        n += g->severity == DIAG_ERROR && g->code && !strcmp(g->code, code);
    }
    return n;
}

static void test_adjust_read(void **state)
{
    (void)state;
    diag_sink d;
    diag_init(&d);
    static const char good[] = "extra,staff_id,period,kind,kpi,amount,reason,approved_by\n"
                               "x,s01,2025-05,kpi,order_count,3,late orders,A\n"
                               "x,s01,2025-05,bonus_add,,-0.10,\"advance, May\",B\n";
    score_adjustments *a = score_adjust_read_memory("adj.csv", good, sizeof good - 1, GRAIN_MONTH, &d);
    assert_non_null(a);
    assert_int_equal(d.errors, 0);
    assert_int_equal(a->count, 2);
    assert_int_equal(a->items[0].kind, SCORE_ADJUST_KPI);
    assert_string_equal(a->items[0].kpi, "order_count");
    assert_int_equal(a->items[1].kind, SCORE_ADJUST_BONUS_ADD);
    assert_null(a->items[1].kpi);
    assert_string_equal(a->items[1].reason, "advance, May");
    assert_int_equal(a->items[1].line, 3);
    assert_int_equal(dec_cmp(a->items[1].amount, N("-0.1")), 0);
    assert_int_equal(a->column[0], 2); /* staff_id is the second field */
    assert_int_equal(strlen(a->sha256), 64);
    score_adjust_free(a);

    /* a quarter in a monthly spec is read: it names the statement of a quarterly role
     * (docs/language.md "Role periods"); one no role has is outside the run when applied */
    static const char quarter[] =
        "staff_id,period,kind,kpi,amount,reason,approved_by\ns01,2025-Q2,bonus_add,,1,r,a\n";
    a = score_adjust_read_memory("adj.csv", quarter, sizeof quarter - 1, GRAIN_MONTH, &d);
    assert_non_null(a);
    assert_int_equal(a->items[0].period.grain, GRAIN_QUARTER);
    score_adjust_free(a);

    /* every bad row is reported, and nothing is returned */
    static const char bad[] = "staff_id,period,kind,kpi,amount,reason,approved_by\n"
                              "s01,2025-05,bonus_set,,1.005,r,a\n"
                              "s01,2025-W20,bonus_set,,1,r,a\n"
                              "s01,2025-05,kpi,,1,r,a\n"
                              "s01,2025-05,bonus_set,,1,r,\n";
    a = score_adjust_read_memory("adj.csv", bad, sizeof bad - 1, GRAIN_MONTH, &d);
    assert_null(a);
    assert_int_equal(errors_with(&d, "adjustment"), 4);
    diag_free(&d);
}

static void test_adjust_apply(void **state)
{
    (void)state;
    static const char staff[] =
        "id,name,role,base_bonus,start,end\ns01,甲,sales,1000.00,,\ns02,乙,sales,1000.00,,\n"
        "s03,丙,intern,1.00,,\n";
    static const char orders[] =
        "order_id,staff_id,amount,paid_at\no1,s01,10.00,2025-05-03\no2,s01,10.00,2025-05-04\n"
        "o3,s02,10.00,2025-05-04\n";
    /* order_count against 2 on flat: 2 orders 100 points, 1 order 50 */
    const char *body =
        "  kpi order_count weight 100% target >= 2\n  points flat\n  bonus staff.base_bonus * score / 100";
    run *r = start(spec_with(flat_scale, body), staff, orders, "2025-05");
    assert_int_equal(dec_cmp(statement(r, "s02")->bonus.as.num, N("500")), 0);
    static const char rows[] = "staff_id,period,kind,kpi,amount,reason,approved_by\n"
                               "s02,2025-05,kpi,order_count,3,o4 booked late,A\n"
                               "s01,2025-05,bonus_add,,-0.01,rounding,B\n"
                               "s02,2025-05,bonus_add,,0.25,bonus,B\n";
    score_adjustments *a = score_adjust_read_memory("adj.csv", rows, sizeof rows - 1, GRAIN_MONTH, &r->diags);
    assert_non_null(a);
    assert_true(score_adjust_apply(r->result, a, &r->diags));
    const score_statement *s2 = statement(r, "s02");
    /* 3 of 2 = 150% -> 150 points; 1000 * 150 / 100 = 1500, + 0.25 */
    check_exact(s2->kpis[0].value, "3");
    check_exact(s2->kpis[0].value_computed, "1");
    check_exact(s2->score, "150");
    check_exact(s2->bonus, "1500.25");
    check_exact(s2->bonus_computed, "500");
    assert_int_equal(s2->adjustment_count, 2);
    assert_ptr_equal(s2->kpis[0].override, &a->items[0]);
    check_exact(statement(r, "s01")->bonus, "999.99");
    /* the JSON of an adjusted statement */
    score_render_options o = { "t.kpi", r->spec, &r->diags, false, false, a, NULL };
    size_t len;
    char *json = score_render(r->result, SCORE_FORMAT_JSON, &o, &len);
    assert_non_null(strstr(json, "\"bonus\": 1500.25, \"bonus_computed\": 500.00,"));
    assert_non_null(strstr(json, "\"value_computed\": 1}"));
    assert_non_null(strstr(json, "{\"name\": \"adjustments\", \"path\": \"adj.csv\""));
    free(json);
    score_adjust_free(a);

    /* rows that do not fit the run: errors, and no statement changes */
    static const char wrong[] = "staff_id,period,kind,kpi,amount,reason,approved_by\n"
                                "s01,2025-05,bonus_set,,1,r,a\n"
                                "s01,2025-05,bonus_set,,2,r,a\n"
                                "s03,2025-05,bonus_set,,2,r,a\n"
                                "s01,2025-04,bonus_set,,2,r,a\n"
                                "s02,2025-05,kpi,revenue,2,r,a\n";
    size_t before = r->diags.errors;
    a = score_adjust_read_memory("adj.csv", wrong, sizeof wrong - 1, GRAIN_MONTH, &r->diags);
    assert_non_null(a);
    assert_false(score_adjust_apply(r->result, a, &r->diags));
    assert_int_equal(r->diags.errors - before, 4);
    check_exact(statement(r, "s01")->bonus, "999.99");
    score_adjust_free(a);
    finish(r);
}

/* ---- outputs --------------------------------------------------------------------------------- */

static void test_outputs(void **state)
{
    (void)state;
    run *r =
        start(spec_with(flat_scale, "  kpi order_count weight 100% target >= 1\n  points flat\n"
                                    "  gate avg_amount >= 5\n  bonus staff.base_bonus * 1.1"),
              "id,name,role,base_bonus,start,end\ns01,\"甲, 一\",sales,3100.25,,\ns02,乙,intern,1.00,,\n",
              "order_id,staff_id,amount,paid_at\no1,s01,10.00,2025-05-03\n", "2025-05");
    score_render_options o = { "t.kpi", r->spec, &r->diags, false, false, NULL, NULL };
    size_t len, len2;
    char *json = score_render(r->result, SCORE_FORMAT_JSON, &o, &len);
    char *again = score_render(r->result, SCORE_FORMAT_JSON, &o, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(json, again, len);
    assert_non_null(strstr(json, "\"bonus\": 3410.28, \"notes\": []}"));
    assert_non_null(strstr(json, "\"gates\": [{\"condition\": \"avg_amount >= 5\", \"passed\": true, "
                                 "\"values\": \"10.00 >= 5\", \"result\": true}], \"gates_passed\": true"));
    assert_non_null(strstr(
        json, "{\"indicator\": \"order_count\", \"value\": 1, \"target\": 1, \"comparator\": \">=\", "
              "\"achievement\": 1, \"points\": 100, \"weight\": 1, \"weighted\": 100, \"missing\": false, "
              "\"dropped\": false, \"missing_reason\": null}"));
    assert_non_null(strstr(json, "\"employed\": 1, \"employed_days\": 31, \"period_days\": 31"));
    assert_non_null(strstr(json, "\"reason\": \"role not declared\""));
    free(json);
    free(again);

    o.bom = true;
    char *csv = score_render(r->result, SCORE_FORMAT_CSV, &o, &len);
    assert_memory_equal(
        csv,
        "\xEF\xBB\xBFperiod,staff_id,name,role,kpi,value,target,comparator,"
        "achievement,points,weight,weighted,score,bonus,status,employed,missing,gates,notes,skipped\n",
        148);
    assert_non_null(
        strstr(csv, "2025-05,s01,\"甲, 一\",sales,order_count,1,1,>=,1,100,1,100,100,3410.28,scored,1,,"
                    "avg_amount >= 5: passed (10.00 >= 5),,\n"));
    assert_non_null(strstr(csv, "2025-05,s02,乙,intern,,,,,,,,,,,unscored,,,,role not declared,\n"));
    free(csv);

    const score_statement *st = statement(r, "s01");
    char *filled = score_filled_text(r->session, st, NULL, (ast_expr *)st->role->u.role.items[3].expr);
    assert_string_equal(filled, "3,100.25 × 1.1");
    free(filled);
    finish(r);
}

static void test_sha256_hex(void **state)
{
    (void)state;
    char hex[65];
    hash_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_achievement),          cmocka_unit_test(test_reason_text),
        cmocka_unit_test(test_scale_edges),          cmocka_unit_test(test_bonus_rounding),
        cmocka_unit_test(test_missing_zero),         cmocka_unit_test(test_missing_skip),
        cmocka_unit_test(test_all_missing_no_score), cmocka_unit_test(test_out_of_scale),
        cmocka_unit_test(test_gates_and_unscored),   cmocka_unit_test(test_outputs),
        cmocka_unit_test(test_sha256_hex),           cmocka_unit_test(test_adjust_read),
        cmocka_unit_test(test_adjust_apply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
