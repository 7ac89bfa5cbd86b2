/* Unit tests for what scoring reads when the values come from elsewhere
 * (score_needs.c, score_values_needed: the indicators and periods `kpic score --engine`
 * fetches): the indicators the roles name in declaration order, not those only other
 * indicators use; every period a role's previous() reaches; and a month and the
 * quarter it opens (a role of its own period) both fetched, sorted by first day.
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
#include "kpic/score.h"

static const char header[] = SHIFTS_HEADER;

/* The labels of PERIODS, comma-separated. */
static const char *labels(const period_t *periods, size_t count)
{
    static char text[512];
    size_t len = 0;
    text[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        char label[PERIOD_LABEL_SIZE];
        period_format(periods[i], label, sizeof label);
        len += (size_t)snprintf(text + len, sizeof text - len, "%s%s", i ? "," : "", label);
    }
    return text;
}

static void test_role_periods(void **state)
{
    (void)state;
    lowered l;
    lower_text(&l, header, "role promotion quarter {\n"
                   "  kpi growth weight 100% target >= previous(revenue) points achievement * 100\n"
                   "  bonus staff.base_bonus * score / 100\n"
                   "}\n"
                   "role sales {\n"
                   "  kpi yearly weight 100% target >= staff.quota points achievement * 100\n"
                   "  bonus staff.base_bonus * score / 100\n"
                   "}\n");
    /* the periods score --period 2025-04..2025-06 evaluates (score_periods) */
    period_t at[] = { parse("2025-04", GRAIN_MONTH), parse("2025-05", GRAIN_MONTH),
                      parse("2025-06", GRAIN_MONTH), parse("2025-Q2", GRAIN_QUARTER) };
    ast_decl **indicators;
    period_t *needed;
    size_t indicator_count, needed_count;
    score_values_needed(l.ir, at, 4, &indicators, &indicator_count, &needed, &needed_count);
    assert_string_equal(labels(needed, needed_count), "2025-Q1,2025-03,2025-04,2025-Q2,2025-05,2025-06");
    assert_int_equal(indicator_count, 3); /* team is named by no role */
    assert_string_equal(indicators[0]->name, "revenue");
    assert_string_equal(indicators[1]->name, "growth");
    assert_string_equal(indicators[2]->name, "yearly");
    free(indicators);
    free(needed);
    lowered_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_role_periods),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
