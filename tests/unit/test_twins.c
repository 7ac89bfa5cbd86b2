/* Unit tests for twin aggregates across two programs (twins.c, ir.h ir_agg_twins).
 *
 * `kpic diff` computes an aggregate of the second spec once when the first spec holds
 * its twin: so "twins" must mean the same figure from the same rows — the same kind,
 * window, argument, where and having, literals equal by value, columns by index — and
 * nothing whose evaluation does more than give a value (arithmetic, scales, sets, the
 * roster, indicators). A false "yes" would pay someone the other spec's figure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lowered_spec.h"

#include "kpic/ast.h"
#include "kpic/check.h"
#include "kpic/ir.h"

#define HEADER                                                                                    \
    "period month\n"                                                                              \
    "staff \"staff.csv\" { id text  role text }\n"                                                \
    "source orders \"orders.csv\" {\n"                                                            \
    "  customer text  staff_id text staff  amount money  fee money  paid_at date time\n"          \
    "  channel text  refunded bool\n"                                                             \
    "}\n"                                                                                         \
    "scale tiers { [0, 100) -> 1  [100, inf) -> 2 }\n"                                            \
    "set big_buyers = orders.customer having sum(amount) >= 500\n"

/* The aggregate of an indicator whose formula is one aggregate call. */
static const ir_agg *agg_of(const lowered *l, const char *indicator)
{
    const ast_decl *d = chk_find(l->model, indicator);
    assert_non_null(d);
    const ir_node *n = ir_indicator(l->ir, d);
    assert_non_null(n);
    assert_int_equal(n->kind, IR_AGGREGATE);
    return n->u.agg;
}

/* Whether the aggregate of `indicator x UNIT = A` in one program and of `= B` in another
 * are twins; A and B are written "UNIT FORMULA". */
static bool twins(const char *a, const char *b)
{
    char text_a[512], text_b[512];
    snprintf(text_a, sizeof text_a, "indicator x %s\n", a);
    snprintf(text_b, sizeof text_b, "indicator x %s\n", b);
    *strchr(text_a + strlen("indicator x "), ' ') = '=';
    *strchr(text_b + strlen("indicator x "), ' ') = '=';
    lowered la, lb;
    lower_text(&la, HEADER, text_a);
    lower_text(&lb, HEADER, text_b);
    bool same = ir_agg_twins(agg_of(&la, "x"), agg_of(&lb, "x"));
    lowered_free(&la);
    lowered_free(&lb);
    return same;
}

static void test_written_alike(void **state)
{
    (void)state;
    static const char *const alike[] = {
        "count count(orders)",
        "money sum(orders.amount)",
        "money avg(orders.amount where not refunded)",
        "count count(orders where paid_at < 2025-06-01)",
        "count count(orders where channel in (\"web\", \"app\") and amount >= 100.50)",
        "count count(orders where paid_at >= 2025-05-03 or channel = \"商店\")",
        "count count(orders where paid_at in period)",
        "money sum(orders.amount over last 3 months)",
        "money sum(orders.amount over year to date)",
        "count distinct(orders.customer)",
        "count distinct(orders.customer having count() >= 2)",
        "count distinct(orders.customer where not refunded having sum(amount) >= 100 and count() > 1)",
        "count count(orders where coalesce(channel, \"none\") = \"web\")",
        "count count(orders where days(paid_at, period.end) <= 7)",
    };
    for (size_t i = 0; i < sizeof alike / sizeof *alike; i++) {
        if (!twins(alike[i], alike[i])) fail_msg("not twins: %s", alike[i]);
    }
}

static void test_written_otherwise(void **state)
{
    (void)state;
    static const char *const pairs[][2] = {
        /* another literal, column, kind, where, window or having */
        { "count count(orders where amount >= 100)", "count count(orders where amount >= 200)" },
        { "count count(orders where amount >= 100)", "count count(orders where amount > 100)" },
        { "count count(orders where channel = \"web\")", "count count(orders where channel = \"Web\")" },
        { "count count(orders where paid_at >= 2025-05-03)", "count count(orders where paid_at >= 2025-05-04)" },
        { "count count(orders where refunded)", "count count(orders where not refunded)" },
        { "count count(orders where channel in (\"web\", \"app\"))", "count count(orders where channel in (\"web\"))" },
        { "money sum(orders.amount)", "money sum(orders.fee)" },
        { "money sum(orders.amount)", "money avg(orders.amount)" },
        { "money min(orders.amount)", "money max(orders.amount)" },
        { "count count(orders)", "count count(orders where refunded)" },
        { "money sum(orders.amount over last 3 months)", "money sum(orders.amount over last 2 months)" },
        { "money sum(orders.amount over last 3 months)", "money sum(orders.amount over last 3 weeks)" },
        { "money sum(orders.amount)", "money sum(orders.amount over all time)" },
        { "count distinct(orders.customer having count() >= 2)", "count distinct(orders.customer having count() >= 3)" },
        { "count distinct(orders.customer having count() >= 2)", "count distinct(orders.customer)" },
        { "count distinct(orders.customer)", "count distinct(orders.channel)" },
    };
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
        if (twins(pairs[i][0], pairs[i][1])) fail_msg("twins: %s / %s", pairs[i][0], pairs[i][1]);
        if (twins(pairs[i][1], pairs[i][0])) fail_msg("twins: %s / %s", pairs[i][1], pairs[i][0]);
    }
}

/* Written alike, but computing them leaves a trace in the session (an overflow that
 * fails the run, a scale's misses, a set or the roster read through it): never shared. */
static void test_not_only_a_value(void **state)
{
    (void)state;
    static const char *const own[] = {
        "money sum(orders.amount * 2)",
        "money sum(orders.amount + orders.fee)",
        "money sum(orders.amount - orders.fee)",
        "money sum(orders.amount / 2)",
        "money sum(-orders.amount)",
        "money sum(abs(orders.amount))",
        "money sum(round(orders.amount, 0))",
        "count count(orders where amount * 2 >= 100)",
        "number sum(tiers(orders.amount))",
        "count count(orders where customer in big_buyers)",
        "count distinct(orders.customer having sum(amount) * 2 >= 100)",
        "count count(big_buyers)",
    };
    for (size_t i = 0; i < sizeof own / sizeof *own; i++) {
        if (twins(own[i], own[i])) fail_msg("shared although it does more than give a value: %s", own[i]);
    }
}

/* The same column name at another place of a source declared otherwise is another
 * column to the pass (cells are read by index). */
static void test_columns_by_index(void **state)
{
    (void)state;
    lowered la, lb;
    lower_text(&la, HEADER, "indicator x money = sum(orders.amount)\n");
    lower_text(&lb,
               "period month\n"
               "staff \"staff.csv\" { id text  role text }\n"
               "source orders \"orders.csv\" {\n"
               "  customer text  staff_id text staff  fee money  amount money  paid_at date time\n"
               "  channel text  refunded bool\n"
               "}\n",
               "indicator x money = sum(orders.amount)\n");
    assert_false(ir_agg_twins(agg_of(&la, "x"), agg_of(&lb, "x")));
    lowered_free(&la);
    lowered_free(&lb);
}

static void test_expressions(void **state)
{
    (void)state;
    lowered la, lb;
    lower_text(&la, HEADER, "indicator x count = count(orders where amount >= 1)\n");
    lower_text(&lb, HEADER, "indicator x count = count(orders where amount >= 1)\n");
    const ir_agg *a = agg_of(&la, "x"), *b = agg_of(&lb, "x");
    assert_true(ir_expr_twins(NULL, a->source, NULL, b->source));
    assert_false(ir_expr_twins(a->where, a->source, NULL, b->source));
    assert_true(ir_expr_twins(a->where, a->source, b->where, b->source));
    /* a column of another source than the one named */
    assert_false(ir_expr_twins(a->where, b->source, b->where, b->source));
    lowered_free(&la);
    lowered_free(&lb);
}

/* The parts: the same keys whatever the having; the same slots whatever the threshold. */
static void test_keys_and_slots(void **state)
{
    (void)state;
    lowered la, lb;
    lower_text(&la, HEADER,
               "indicator a count = distinct(orders.customer having count() >= 2)\n"
               "indicator b count = distinct(orders.customer where not refunded)\n");
    lower_text(&lb, HEADER,
               "indicator a count = distinct(orders.customer having count() >= 3)\n"
               "indicator b count = distinct(orders.customer having sum(amount) >= 3)\n"
               "indicator c count = distinct(orders.customer)\n");
    const ir_agg *a2 = agg_of(&la, "a"), *a_where = agg_of(&la, "b");
    const ir_agg *b3 = agg_of(&lb, "a"), *b_sum = agg_of(&lb, "b"), *b_plain = agg_of(&lb, "c");
    assert_true(ir_agg_same_keys(a2, b3));
    assert_true(ir_agg_same_keys(a2, b_sum));
    assert_true(ir_agg_same_keys(a2, b_plain));
    assert_false(ir_agg_same_keys(a_where, b_plain)); /* another where: other rows */
    assert_true(ir_agg_same_slots(a2, b3));
    assert_false(ir_agg_same_slots(a2, b_sum)); /* count() is not sum(amount) */
    assert_false(ir_agg_same_slots(a2, b_plain));
    assert_false(ir_agg_twins(a2, b3)); /* another having */
    lowered_free(&la);
    lowered_free(&lb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_written_alike),
        cmocka_unit_test(test_written_otherwise),
        cmocka_unit_test(test_not_only_a_value),
        cmocka_unit_test(test_columns_by_index),
        cmocka_unit_test(test_expressions),
        cmocka_unit_test(test_keys_and_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
