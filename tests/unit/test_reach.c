/* Unit tests for the periods an expression reaches (reach.c, ir.h ir_*_periods).
 *
 * What explain, `kpic score --engine` and `kpic sql` rely on: the period asked for
 * comes first; previous() and last_year() move it, nested ones from the moved period;
 * IR_REACH_VALUES stops at an indicator (its value is read there) while
 * IR_REACH_EVALUATED follows its formula; a shift before year 1 reaches nothing; a
 * month and the quarter it opens (a role of its own period) are two periods; a pool's
 * share, cap, floor and amount are walked like the rest of a role.
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
#include "kpic/period.h"

static const char header[] = SHIFTS_HEADER;

/* The labels of SET's periods, comma-separated, in its order. */
static const char *labels(const ir_periods *set)
{
    static char text[512];
    size_t len = 0;
    text[0] = '\0';
    for (size_t i = 0; i < set->count; i++) {
        char label[PERIOD_LABEL_SIZE];
        period_format(set->items[i], label, sizeof label);
        len += (size_t)snprintf(text + len, sizeof text - len, "%s%s", i ? "," : "", label);
    }
    return text;
}

static const ast_decl *role(const lowered *l, const char *name)
{
    const ast_decl *d = chk_find(l->model, name);
    assert_non_null(d);
    return d;
}

static void test_expression(void **state)
{
    (void)state;
    lowered l;
    lower_text(&l, header, "");
    period_t may = parse("2025-05", GRAIN_MONTH);
    ir_node *growth = ir_indicator(l.ir, chk_find(l.model, "growth"));

    ir_periods set = { 0 };
    ir_expr_periods(l.ir, growth, may, IR_REACH_EVALUATED, &set);
    assert_string_equal(labels(&set), "2025-05,2025-04");
    ir_periods_free(&set);

    /* revenue is read as a value in both periods */
    ir_expr_periods(l.ir, growth, may, IR_REACH_VALUES, &set);
    assert_string_equal(labels(&set), "2025-05,2025-04");
    assert_int_equal(set.indicator_count, 1);
    assert_string_equal(set.indicators[0]->name, "revenue");
    ir_periods_free(&set);

    /* nested shifts over an aggregate: only evaluated, no indicator read */
    ir_node *yearly = ir_indicator(l.ir, chk_find(l.model, "yearly"));
    ir_expr_periods(l.ir, yearly, may, IR_REACH_EVALUATED, &set);
    assert_string_equal(labels(&set), "2025-05,2024-05,2024-04");
    ir_periods_free(&set);
    ir_expr_periods(l.ir, yearly, may, IR_REACH_VALUES, &set);
    assert_string_equal(labels(&set), "2025-05");
    assert_int_equal(set.indicator_count, 0);
    ir_periods_free(&set);

    /* before year 1: nothing */
    ir_expr_periods(l.ir, growth, parse("0001-01", GRAIN_MONTH), IR_REACH_EVALUATED, &set);
    assert_string_equal(labels(&set), "0001-01");
    ir_periods_free(&set);
    lowered_free(&l);
}

static void test_role(void **state)
{
    (void)state;
    lowered l;
    lower_text(&l, header, "role sales {\n"
                   "  kpi growth weight 100% target >= previous(growth) points achievement * 100\n"
                   "  gate previous(staff.quota) >= 0\n"
                   "  bonus staff.base_bonus * score / 100\n"
                   "}\n");
    period_t may = parse("2025-05", GRAIN_MONTH);
    ir_periods set = { 0 };
    /* growth's formula at 2025-05 reaches 2025-04; its target reads growth at 2025-04,
     * whose formula reaches 2025-03; the gate moves to 2025-04 and reads no indicator */
    ir_role_periods(l.ir, role(&l, "sales"), may, IR_REACH_EVALUATED, &set);
    assert_string_equal(labels(&set), "2025-05,2025-04,2025-03");
    ir_periods_free(&set);
    ir_role_periods(l.ir, role(&l, "sales"), may, IR_REACH_VALUES, &set);
    assert_string_equal(labels(&set), "2025-05,2025-04");
    assert_int_equal(set.indicator_count, 1);
    assert_string_equal(set.indicators[0]->name, "growth");
    ir_periods_free(&set);
    lowered_free(&l);
}

static void test_pool(void **state)
{
    (void)state;
    lowered l;
    lower_text(&l, header, "pool shared = last_year(team) * 3%\n"
                   "role sales {\n"
                   "  kpi revenue weight 100% target >= staff.quota points achievement * 100\n"
                   "  bonus pool shared share previous(revenue) cap previous(previous(revenue)) "
                   "floor 0\n"
                   "}\n");
    ir_periods set = { 0 };
    ir_role_periods(l.ir, role(&l, "sales"), parse("2025-05", GRAIN_MONTH), IR_REACH_VALUES, &set);
    assert_string_equal(labels(&set), "2025-05,2025-04,2025-03,2024-05");
    assert_int_equal(set.indicator_count, 2);
    assert_string_equal(set.indicators[0]->name, "revenue");
    assert_string_equal(set.indicators[1]->name, "team");
    ir_periods_free(&set);
    lowered_free(&l);
}

/* A month and the quarter it opens share a first day and are two periods: every role
 * is walked for each period given, the quarterly one reaching the quarter before. */
static void test_role_periods(void **state)
{
    (void)state;
    lowered l;
    lower_text(&l, header, "role promotion quarter {\n"
                   "  kpi revenue weight 100% target >= previous(revenue) points achievement * 100\n"
                   "  bonus staff.base_bonus * score / 100\n"
                   "}\n"
                   "role sales {\n"
                   "  kpi revenue weight 100% target >= staff.quota points achievement * 100\n"
                   "  bonus staff.base_bonus * score / 100\n"
                   "}\n");
    period_t at[] = { parse("2025-04", GRAIN_MONTH), parse("2025-Q2", GRAIN_QUARTER) };
    ir_periods set = { 0 };
    ir_model_periods(l.ir, at, 2, IR_REACH_VALUES, &set);
    assert_string_equal(labels(&set), "2025-04,2025-03,2025-Q2,2025-Q1");
    ir_periods_free(&set);
    lowered_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expression),
        cmocka_unit_test(test_role),
        cmocka_unit_test(test_pool),
        cmocka_unit_test(test_role_periods),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
