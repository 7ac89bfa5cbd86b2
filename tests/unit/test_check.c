/* Unit tests for the checker (check.h and its private check_internal.h).
 *
 * What is easier to pin down directly than through golden files: exact decimal
 * arithmetic on literals (weights and scale bounds), the unit table, scale coverage at
 * open and closed edges, the annotations later stages rely on, and a long chain of
 * indicators (the cycle search must not recurse once per indicator).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check_internal.h"
#include "kpic/ast.h"
#include "kpic/check.h"

/* ---- checking a spec given as text -------------------------------------------------- */

typedef struct checked {
    diag_sink diags;
    ast_spec *spec;
    chk_model *model;
} checked;

static const char roster[] =
    "staff \"staff.csv\" { id text  role text  base_bonus money  quota int }\n"
    "source orders \"orders.csv\" {\n"
    "  customer_id text\n  staff_id text staff\n  amount money\n  paid_at date time\n"
    "  channel text\n}\n"
    "source logins \"logins.csv\" { user_id text  active_on date time }\n";

/* Parses and checks text (after the roster and two sources above when with_roster). */
static void check_text(checked *c, const char *text, bool with_roster)
{
    diag_init(&c->diags);
    size_t len = strlen(text) + (with_roster ? strlen(roster) : 0);
    char *copy = xmalloc(len + 1);
    snprintf(copy, len + 1, "%s%s", with_roster ? roster : "", text);
    uint32_t file = diag_add_file(&c->diags, "t.kpi", copy, len);
    ast_spec *spec = xcalloc(1, sizeof *spec);
    arena_init(&spec->mem);
    spec->diags = &c->diags;
    ast_file *f = ast_parse_file(&spec->mem, &c->diags, file);
    ptr_vec_push(&spec->mem, &spec->files, f);
    for (size_t i = 0; i < f->decls.len; i++) ptr_vec_push(&spec->mem, &spec->decls, f->decls.items[i]);
    if (c->diags.errors) diag_print(&c->diags, stderr, DIAG_FORMAT_TEXT);
    assert_int_equal(c->diags.errors, 0); /* the samples are syntactically valid */
    c->spec = spec;
    c->model = chk_check(spec);
}

static void checked_free(checked *c)
{
    ast_free_spec(c->spec);
    diag_free(&c->diags);
}

/* The n-th diagnostic's message (in report order), or "" when there are fewer. */
static const char *message(const checked *c, size_t n)
{
    if (n >= c->diags.diags.len) return "";
    return ((diagnostic *)c->diags.diags.items[n])->message;
}

static const char *code(const checked *c, size_t n)
{
    if (n >= c->diags.diags.len) return "";
    return ((diagnostic *)c->diags.diags.items[n])->code;
}

static void expect_clean(const char *text)
{
    checked c;
    check_text(&c, text, true);
    if (c.diags.diags.len) diag_print(&c.diags, stderr, DIAG_FORMAT_TEXT);
    assert_int_equal(c.diags.diags.len, 0);
    checked_free(&c);
}

/* Exactly one diagnostic, with this code and message. */
static void expect_one(const char *text, const char *want_code, const char *want_message)
{
    checked c;
    check_text(&c, text, true);
    if (c.diags.diags.len != 1) diag_print(&c.diags, stderr, DIAG_FORMAT_TEXT);
    assert_int_equal(c.diags.diags.len, 1);
    assert_string_equal(code(&c, 0), want_code);
    assert_string_equal(message(&c, 0), want_message);
    checked_free(&c);
}

static ast_decl *find(const checked *c, const char *name);

/* ---- exact decimals ------------------------------------------------------------------ */

static chk_exact lit(arena *mem, const char *text)
{
    chk_exact v;
    size_t n = strlen(text);
    bool percent = n && text[n - 1] == '%';
    char *digits = arena_strndup(mem, text, percent ? n - 1 : n);
    assert_true(chk_exact_parse(mem, digits, percent, &v));
    return v;
}

static void test_exact_parse_and_compare(void **state)
{
    (void)state;
    arena mem;
    arena_init(&mem);
    assert_int_equal(chk_exact_cmp(lit(&mem, "60%"), lit(&mem, "0.6")), 0);
    assert_int_equal(chk_exact_cmp(lit(&mem, "60%"), lit(&mem, "0.600000")), 0);
    assert_int_equal(chk_exact_cmp(lit(&mem, "000.5"), lit(&mem, "50%")), 0);
    assert_int_equal(chk_exact_cmp(lit(&mem, "0"), lit(&mem, "0.000%")), 0);
    assert_int_equal(chk_exact_cmp(lit(&mem, "59.999999999999999999999%"), lit(&mem, "0.6")), -1);
    assert_int_equal(chk_exact_cmp(lit(&mem, "0.1000000000000000000000000001"), lit(&mem, "0.1")), 1);
    assert_int_equal(chk_exact_cmp(lit(&mem, "1200"), lit(&mem, "999.99")), 1);
    assert_int_equal(chk_exact_cmp(lit(&mem, "100000000000000000000000000000"),
                                   lit(&mem, "99999999999999999999999999999.9")),
                     1);
    assert_int_equal(chk_exact_cmp(lit(&mem, "0.05"), lit(&mem, "0.5")), -1);

    chk_exact neg = lit(&mem, "0.5"), inf = { false, true, "", 0 }, ninf = { true, true, "", 0 };
    neg.neg = true;
    assert_int_equal(chk_exact_cmp(ninf, neg), -1);
    assert_int_equal(chk_exact_cmp(neg, lit(&mem, "0")), -1);
    assert_int_equal(chk_exact_cmp(inf, lit(&mem, "1000000000000")), 1);
    assert_int_equal(chk_exact_cmp(inf, inf), 0);
    assert_int_equal(chk_exact_cmp(ninf, inf), -1);

    chk_exact bad;
    assert_false(chk_exact_parse(&mem, "1.2.3", false, &bad));
    assert_false(chk_exact_parse(&mem, "", false, &bad));
    assert_false(chk_exact_parse(&mem, "-1", false, &bad));
    arena_free(&mem);
}

static void test_exact_add_and_format(void **state)
{
    (void)state;
    arena mem;
    arena_init(&mem);
    /* the classic: 33.3% + 33.3% + 33.4% is exactly 100%, 0.1 + 0.2 is exactly 0.3 */
    chk_exact sum =
        chk_exact_add(&mem, chk_exact_add(&mem, lit(&mem, "33.3%"), lit(&mem, "33.3%")), lit(&mem, "33.4%"));
    assert_int_equal(chk_exact_cmp(sum, lit(&mem, "100%")), 0);
    assert_string_equal(chk_exact_format(&mem, sum, 2), "100");
    assert_int_equal(chk_exact_cmp(chk_exact_add(&mem, lit(&mem, "0.1"), lit(&mem, "0.2")), lit(&mem, "0.3")),
                     0);
    /* carries across the point and into a new digit */
    assert_string_equal(chk_exact_format(&mem, chk_exact_add(&mem, lit(&mem, "99.95"), lit(&mem, "0.05")), 0),
                        "100");
    assert_string_equal(
        chk_exact_format(&mem, chk_exact_add(&mem, lit(&mem, "0.999"), lit(&mem, "0.001")), 0), "1");
    assert_string_equal(chk_exact_format(&mem, chk_exact_add(&mem, lit(&mem, "0"), lit(&mem, "0")), 0), "0");
    assert_string_equal(chk_exact_format(&mem, chk_exact_add(&mem, lit(&mem, "1200"), lit(&mem, "0.5%")), 0),
                        "1200.005");

    assert_string_equal(chk_exact_format(&mem, lit(&mem, "0.333"), 2), "33.3");
    assert_string_equal(chk_exact_format(&mem, lit(&mem, "0.9"), 2), "90");
    assert_string_equal(chk_exact_format(&mem, lit(&mem, "1.5"), 2), "150");
    assert_string_equal(chk_exact_format(&mem, lit(&mem, "0.00005"), 2), "0.005");
    assert_string_equal(chk_exact_format(&mem, lit(&mem, "12.5%"), 0), "0.125");
    assert_string_equal(chk_exact_format(&mem, lit(&mem, "100"), 1), "1000");
    assert_string_equal(chk_exact_format(&mem, lit(&mem, "100"), -1), "10");
    assert_string_equal(chk_exact_format(&mem, lit(&mem, "100"), -3), "0.1");
    assert_string_equal(chk_exact_format(&mem, lit(&mem, "120"), -2), "1.2");
    chk_exact inf = { true, true, "", 0 };
    assert_string_equal(chk_exact_format(&mem, inf, 2), "-inf");
    arena_free(&mem);
}

/* ---- the unit table ------------------------------------------------------------------ */

static void test_unit_table(void **state)
{
    (void)state;
    ast_dim d;
    /* docs/language.md §4–5 */
    assert_true(chk_dim_div(DIM_COUNT, DIM_COUNT, &d) && d == DIM_RATIO);
    assert_true(chk_dim_div(DIM_MONEY, DIM_MONEY, &d) && d == DIM_RATIO);
    assert_true(chk_dim_div(DIM_MONEY, DIM_COUNT, &d) && d == DIM_MONEY);
    assert_true(chk_dim_mul(DIM_COUNT, DIM_RATIO, &d) && d == DIM_COUNT);
    assert_true(chk_dim_mul(DIM_RATIO, DIM_COUNT, &d) && d == DIM_COUNT);
    assert_true(chk_dim_mul(DIM_MONEY, DIM_NUMBER, &d) && d == DIM_MONEY);
    assert_true(chk_dim_mul(DIM_RATIO, DIM_RATIO, &d) && d == DIM_RATIO);
    assert_true(chk_dim_div(DIM_COUNT, DIM_NUMBER, &d) && d == DIM_COUNT);
    assert_true(chk_dim_div(DIM_DAYS, DIM_COUNT, &d) && d == DIM_DAYS);
    assert_true(chk_dim_mul(DIM_COUNT, DIM_MONEY, &d) && d == DIM_MONEY);
    assert_true(chk_dim_div(DIM_MONEY, DIM_RATIO, &d) && d == DIM_MONEY);
    assert_true(chk_dim_unify(DIM_NUMBER, DIM_MONEY, &d) && d == DIM_MONEY);
    assert_true(chk_dim_unify(DIM_COUNT, DIM_NUMBER, &d) && d == DIM_COUNT);
    assert_true(chk_dim_unify(DIM_RATIO, DIM_RATIO, &d) && d == DIM_RATIO);
    /* and what has no unit */
    assert_false(chk_dim_unify(DIM_MONEY, DIM_COUNT, &d));
    assert_false(chk_dim_unify(DIM_RATIO, DIM_POINTS, &d));
    assert_false(chk_dim_mul(DIM_MONEY, DIM_MONEY, &d));
    assert_false(chk_dim_mul(DIM_COUNT, DIM_COUNT, &d));
    assert_false(chk_dim_div(DIM_COUNT, DIM_MONEY, &d));
    assert_false(chk_dim_div(DIM_NUMBER, DIM_COUNT, &d));
    assert_false(chk_dim_div(DIM_RATIO, DIM_MONEY, &d));
}

/* A plain number from data adapts in division too; a literal stays a plain factor. */
static void test_adapting_numbers(void **state)
{
    (void)state;
    expect_clean("indicator n count per staff = count(orders)\n"
                 "indicator attainment percent per staff = n / staff.quota\n"
                 "indicator left count per staff = staff.quota - n\n"
                 "indicator per_quota ratio per staff = staff.quota / n\n"
                 "indicator thousands money = sum(orders.amount) / 1000\n");
    expect_one("indicator r percent = sum(orders.amount) / 2\n", "unit-mismatch",
               "indicator 'r' is declared percent but its formula is money (money / number)");
    expect_one("indicator r ratio = 2 / count(orders)\n", "unit-mismatch",
               "cannot divide '2' (number) by 'count(orders)' (count)");
    /* the declared unit is the reading kept in the annotation */
    checked c;
    check_text(&c,
               "indicator n count per staff = count(orders)\n"
               "indicator a percent per staff = n / staff.quota\n",
               true);
    assert_int_equal(c.diags.diags.len, 0);
    assert_int_equal(find(&c, "a")->u.indicator.expr->dim, DIM_RATIO);
    checked_free(&c);
}

/* ---- weights ------------------------------------------------------------------------- */

static const char kpis[] = "indicator a count per staff = count(orders)\n"
                           "indicator b money per staff = sum(orders.amount)\n"
                           "indicator c percent per staff = a / count(orders)\n"
                           "scale s { [0%, 100%) -> 0 .. 100  [100%, inf) -> 100 }\n";

static void test_weights_exact(void **state)
{
    (void)state;
    char text[1024];
    snprintf(text, sizeof text,
             "%srole r { kpi a weight 33.3%% target >= 1 kpi b weight 33.3%% target >= 1 "
             "kpi c weight 33.4%% target >= 1 points s }\n",
             kpis);
    expect_clean(text);
    snprintf(text, sizeof text,
             "%srole r { kpi a weight 0.5 target >= 1 kpi b weight 25%% target >= 1 "
             "kpi c weight 0.25 target >= 1 points s }\n",
             kpis);
    expect_clean(text);
    snprintf(text, sizeof text,
             "%srole r { kpi a weight 33.3%% target >= 1 kpi b weight 33.3%% target >= 1 "
             "kpi c weight 33.3%% target >= 1 points s }\n",
             kpis);
    expect_one(text, "weights", "the weights of role 'r' add up to 99.9%, not 100%");
    snprintf(text, sizeof text,
             "%srole r { kpi a weight 50.0000000000000001%% target >= 1 "
             "kpi b weight 50%% target >= 1 points s }\n",
             kpis);
    expect_one(text, "weights", "the weights of role 'r' add up to 100.0000000000000001%, not 100%");
}

/* ---- scale coverage ------------------------------------------------------------------- */

static void scale_case(const char *rows, const char *want_code, const char *want_message)
{
    char text[512];
    snprintf(text, sizeof text, "scale s { %s }\n", rows);
    if (want_code) expect_one(text, want_code, want_message);
    else expect_clean(text);
}

static void test_scale_edges(void **state)
{
    (void)state;
    scale_case("[0, 60) -> 0  [60, 100) -> 1", NULL, NULL);
    scale_case("[0, 60] -> 0  (60, 100) -> 1", NULL, NULL);
    scale_case("[0, 60] -> 0  [60, 100) -> 1", "scale-overlap", "in scale 's', [60, 100) overlaps [0, 60]");
    scale_case("[0, 60) -> 0  (60, 100) -> 1", "scale-gap", "scale 's' leaves 60 uncovered");
    scale_case("[0, 60) -> 0  [70, 100) -> 1", "scale-gap", "scale 's' leaves [60, 70) uncovered");
    scale_case("[0, 60] -> 0  (70, 100) -> 1", "scale-gap", "scale 's' leaves (60, 70] uncovered");
    scale_case("(-inf, 0) -> 0  [0, inf) -> 1", NULL, NULL);
    /* 60% and 0.6 are one number */
    scale_case("[0, 0.6) -> 0  [60%, 1] -> 1", NULL, NULL);
    scale_case("[0%, 60%] -> 0  [0.6, 1] -> 1", "scale-overlap", "in scale 's', [0.6, 1] overlaps [0%, 60%]");
    scale_case("[0%, 60%) -> 0  (0.6, 1] -> 1", "scale-gap", "scale 's' leaves 60% uncovered");
    /* a row inside a wider earlier row overlaps it even though it follows the previous row */
    scale_case("[0, 100) -> 0  [10, 20) -> 1", "scale-overlap", "in scale 's', [10, 20) overlaps [0, 100)");
    scale_case("[10, 20) -> 0  [0, 5) -> 1", "scale-order",
               "rows of scale 's' are not sorted: [0, 5) comes after [10, 20)");
    scale_case("[5, 5] -> 0  (5, 6) -> 1", NULL, NULL);
    scale_case("[5, 5) -> 0", "scale-bound", "[5, 5) in scale 's' is empty");
    scale_case("[6, 5) -> 0", "scale-bound", "[6, 5) in scale 's' is empty");
    scale_case("[0, inf] -> 0", "scale-bound", "[0, inf] in scale 's' includes 'inf', which is not a number");
    scale_case("[-inf, 0) -> 0", "scale-bound",
               "[-inf, 0) in scale 's' includes '-inf', which is not a number");
    scale_case("[inf, 0) -> 0", "scale-bound", "the lower bound of [inf, 0) in scale 's' cannot be 'inf'");
    scale_case("[0, 1) -> 0 .. inf", "scale-bound",
               "scale 's' gives 'inf' for [0, 1), but 'inf' is only a bound");
    scale_case("[0, inf) -> 0 .. 1", "scale-linear",
               "the linear segment 0 .. 1 needs a finite interval, but [0, inf) is unbounded");
    scale_case("[0, 1) -> -5% .. 0%  [1, 2) -> 5%", NULL, NULL);
    scale_case("[-5, -1) -> 0  [-1, 2) -> 5", NULL, NULL);
}

/* ---- annotations ---------------------------------------------------------------------- */

static ast_decl *find(const checked *c, const char *name)
{
    ast_decl *d = chk_find(c->model, name);
    assert_non_null(d);
    return d;
}

static void test_annotations(void **state)
{
    (void)state;
    checked c;
    check_text(&c,
               "set buyers = orders.customer_id where channel in (\"a\", \"b\")\n"
               "indicator n count per staff = count(orders)\n"
               "indicator bs count per staff = count(buyers)\n"
               "indicator active count = distinct(logins.user_id where user_id in buyers)\n"
               "indicator aov money per staff = sum(orders.amount) / n\n"
               "indicator share percent per staff = n / previous(n) - 1\n"
               "scale s { [0%, 100%) -> 0 .. 100  [100%, inf) -> 100 }\n"
               "scale adj { [0, 100) -> 0%  [100, inf) -> 10% }\n"
               "role r { kpi n weight 50% target >= staff.quota  kpi aov weight 50% target >= 100\n"
               "  points s  bonus staff.base_bonus * (1 + adj(score)) * employed }\n",
               true);
    assert_int_equal(c.diags.diags.len, 0);
    chk_model *m = c.model;
    assert_int_equal(m->grain, GRAIN_MONTH);
    assert_null(m->currency);
    assert_non_null(m->roster);
    assert_ptr_equal(chk_find(m, "staff"), m->roster);
    assert_int_equal(m->sources.len, 2);
    assert_int_equal(m->indicators.len, 5);
    assert_int_equal(m->sets.len, 1);
    assert_int_equal(m->scales.len, 2);
    assert_int_equal(m->roles.len, 1);
    assert_null(chk_find(m, "nope"));

    ast_decl *orders = find(&c, "orders"), *logins = find(&c, "logins"), *buyers = find(&c, "buyers");
    ast_decl *n = find(&c, "n");
    ast_expr *e = n->u.indicator.expr;
    assert_int_equal(e->call_kind, CALL_COUNT);
    assert_ptr_equal(e->agg_source, orders);
    assert_int_equal(e->ref_kind, REF_SOURCE);
    assert_true(e->per_staff);
    assert_int_equal(e->type, TYPE_NUM);
    assert_int_equal(e->dim, DIM_COUNT);
    assert_true(n->per_staff);
    assert_int_equal(n->dim, DIM_COUNT);

    e = find(&c, "bs")->u.indicator.expr;
    assert_int_equal(e->call_kind, CALL_SET_SIZE);
    assert_ptr_equal(e->ref, buyers);
    assert_ptr_equal(e->agg_source, orders);
    assert_true(e->per_staff);
    assert_true(buyers->per_staff); /* counted per staff somewhere */
    assert_int_equal(buyers->dim, DIM_COUNT);

    e = find(&c, "active")->u.indicator.expr;
    assert_int_equal(e->call_kind, CALL_DISTINCT);
    assert_ptr_equal(e->agg_source, logins);
    assert_false(e->per_staff);
    ast_expr *arg = e->u.call.args.items[0];
    assert_int_equal(arg->ref_kind, REF_COLUMN);
    assert_ptr_equal(arg->ref, logins);
    assert_int_equal(arg->column, 0);
    ast_expr *where = e->u.call.where;
    assert_int_equal(where->kind, EX_IN_SET);
    assert_int_equal(where->ref_kind, REF_SET);
    assert_ptr_equal(where->ref, buyers);
    assert_int_equal(where->u.in.lhs->ref_kind, REF_COLUMN); /* bare column of logins */
    assert_ptr_equal(where->u.in.lhs->ref, logins);

    e = find(&c, "aov")->u.indicator.expr;
    assert_int_equal(e->dim, DIM_MONEY);
    assert_int_equal(e->u.op.lhs->call_kind, CALL_SUM);
    assert_int_equal(e->u.op.lhs->dim, DIM_MONEY);
    assert_int_equal(e->u.op.rhs->ref_kind, REF_INDICATOR);
    assert_ptr_equal(e->u.op.rhs->ref, n);

    e = find(&c, "share")->u.indicator.expr; /* n / previous(n) - 1 */
    assert_int_equal(e->dim, DIM_RATIO);
    assert_int_equal(e->u.op.lhs->u.op.rhs->call_kind, CALL_PREVIOUS);
    assert_int_equal(e->u.op.lhs->u.op.rhs->dim, DIM_COUNT);

    ast_decl *adj = find(&c, "adj");
    assert_int_equal(adj->dim, DIM_RATIO);
    assert_int_equal(find(&c, "s")->dim, DIM_NUMBER);

    ast_decl *r = find(&c, "r");
    ast_role_item *items = r->u.role.items;
    assert_ptr_equal(items[0].ref, n);
    assert_int_equal(items[0].target->ref_kind, REF_STAFF_COLUMN);
    assert_ptr_equal(items[0].target->ref, m->roster);
    assert_int_equal(items[0].target->column, 3);
    assert_true(items[0].target->per_staff);
    assert_ptr_equal(items[2].ref, find(&c, "s")); /* points s */
    ast_expr *bonus = items[3].expr;               /* (base * (1 + adj(score))) * employed */
    assert_int_equal(bonus->dim, DIM_MONEY);
    assert_int_equal(bonus->u.op.rhs->ref_kind, REF_EMPLOYED);
    ast_expr *call = bonus->u.op.lhs->u.op.rhs->u.op.rhs;
    assert_int_equal(call->call_kind, CALL_SCALE);
    assert_ptr_equal(call->ref, adj);
    assert_int_equal(((ast_expr *)call->u.call.args.items[0])->ref_kind, REF_SCORE);
    /* a parenthesised operand's span holds its parentheses, so text quoted from spans
     * (statements, explain, kpic doc) keeps them */
    ast_expr *sum = bonus->u.op.lhs->u.op.rhs; /* (1 + adj(score)) */
    assert_int_equal(sum->kind, EX_BINARY);
    arena mem;
    arena_init(&mem);
    assert_string_equal(diag_span_text(&c.diags, sum->span, &mem), "(1 + adj(score))");
    assert_string_equal(diag_span_text(&c.diags, bonus->span, &mem),
                        "staff.base_bonus * (1 + adj(score)) * employed");
    arena_free(&mem);
    checked_free(&c);
}

static void test_grain_and_currency(void **state)
{
    (void)state;
    checked c;
    check_text(&c, "period quarter\ncurrency \"CNY\"\n", true);
    assert_int_equal(c.model->grain, GRAIN_QUARTER);
    assert_string_equal(c.model->currency, "CNY");
    checked_free(&c);
}

/* --period and a values file's periods: the spec's grain, else a grain a role is scored
 * in; the message of a period of neither is the spec grain's. */
static void test_scored_periods(void **state)
{
    (void)state;
    checked c;
    check_text(&c,
               "indicator n count per staff = count(orders)\n"
               "role promotion quarter {\n"
               "  kpi n weight 100% target >= 1 points achievement * 100\n"
               "  bonus staff.base_bonus * score / 100\n"
               "}\n",
               true);
    assert_int_equal(c.diags.errors, 0);
    period_t p;
    char msg[PERIOD_MESSAGE_SIZE];
    assert_int_equal(chk_parse_period(c.model, "2025-05", 7, &p, msg, sizeof msg), PERIOD_OK);
    assert_int_equal(p.grain, GRAIN_MONTH);
    assert_int_equal(chk_parse_period(c.model, "2025-Q2", 7, &p, msg, sizeof msg), PERIOD_OK);
    assert_int_equal(p.grain, GRAIN_QUARTER);
    assert_int_equal(chk_parse_period(c.model, "2025", 4, &p, msg, sizeof msg), PERIOD_WRONG_GRAIN);
    assert_non_null(strstr(msg, "month"));
    period_range r;
    assert_int_equal(chk_parse_period_range(c.model, "2025-Q1..2025-Q2", 16, &r, msg, sizeof msg), PERIOD_OK);
    assert_int_equal(r.first.grain, GRAIN_QUARTER);
    assert_int_equal(r.count, 2);
    assert_int_equal(chk_parse_period_range(c.model, "2025-04..2025-06", 16, &r, msg, sizeof msg), PERIOD_OK);
    assert_int_equal(r.first.grain, GRAIN_MONTH);
    assert_int_equal(r.count, 3);
    checked_free(&c);
}

/* A chain of many indicators closed into one cycle: found once, without deep recursion. */
static void test_long_cycle(void **state)
{
    (void)state;
    enum { N = 20000 };
    size_t cap = (size_t)N * 48 + 64;
    char *text = malloc(cap);
    size_t len = 0;
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(text + len, cap - len, "indicator a%d count = a%d + 1\n", i, (i + 1) % N);
    checked c;
    check_text(&c, text, true);
    assert_int_equal(c.diags.errors, 1);
    assert_string_equal(code(&c, 0), "cycle");
    assert_true(strncmp(message(&c, 0), "circular definition: a0 -> a1 -> a2 -> ", 39) == 0);
    const char *msg = message(&c, 0);
    const char *tail = "a19998 -> a19999 -> a0";
    assert_string_equal(msg + strlen(msg) - strlen(tail), tail);
    checked_free(&c);
    free(text);
}

/* No roster at all: one error, at the start of the file. */
static void test_missing_roster(void **state)
{
    (void)state;
    checked c;
    check_text(&c, "indicator x number = 1\n", false);
    assert_int_equal(c.diags.diags.len, 1);
    assert_string_equal(code(&c, 0), "roster");
    diagnostic *d = c.diags.diags.items[0];
    assert_int_equal(d->span.start, 0);
    assert_null(c.model->roster);
    checked_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_parse_and_compare),
        cmocka_unit_test(test_exact_add_and_format),
        cmocka_unit_test(test_unit_table),
        cmocka_unit_test(test_adapting_numbers),
        cmocka_unit_test(test_weights_exact),
        cmocka_unit_test(test_scale_edges),
        cmocka_unit_test(test_annotations),
        cmocka_unit_test(test_grain_and_currency),
        cmocka_unit_test(test_scored_periods),
        cmocka_unit_test(test_long_cycle),
        cmocka_unit_test(test_missing_roster),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
