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

#include "kpic/ast.h"
#include "kpic/check.h"
#include "kpic/ir.h"
#include "kpic/period.h"
#include "kpic/score.h"

typedef struct lowered {
    diag_sink diags;
    ast_spec *spec;
    chk_model *model;
    ir_program *ir;
} lowered;

static const char header[] =
    "period month\n"
    "staff \"staff.csv\" { id text  role text  base_bonus money  quota money }\n"
    "source orders \"orders.csv\" { staff_id text staff  amount money  paid_at date time }\n"
    "indicator revenue money per staff = sum(orders.amount)\n"
    "indicator growth money per staff = revenue - previous(revenue)\n"
    "indicator yearly money per staff = last_year(previous(sum(orders.amount)))\n"
    "indicator team money = sum(orders.amount)\n";

/* Parses, checks (which must be clean) and lowers HEADER + TEXT. */
static void lower_text(lowered *l, const char *text)
{
    diag_init(&l->diags);
    size_t len = strlen(header) + strlen(text);
    char *copy = xmalloc(len + 1);
    snprintf(copy, len + 1, "%s%s", header, text);
    uint32_t file = diag_add_file(&l->diags, "t.kpi", copy, len);
    ast_spec *spec = xcalloc(1, sizeof *spec);
    arena_init(&spec->mem);
    spec->diags = &l->diags;
    ast_file *f = ast_parse_file(&spec->mem, &l->diags, file);
    ptr_vec_push(&spec->mem, &spec->files, f);
    for (size_t i = 0; i < f->decls.len; i++) ptr_vec_push(&spec->mem, &spec->decls, f->decls.items[i]);
    l->spec = spec;
    l->model = chk_check(spec);
    if (l->diags.errors) diag_print(&l->diags, stderr, DIAG_FORMAT_TEXT);
    assert_int_equal(l->diags.errors, 0);
    l->ir = lower_spec(&spec->mem, l->model);
}

static void lowered_free(lowered *l)
{
    ir_program_free(l->ir);
    ast_free_spec(l->spec);
    diag_free(&l->diags);
}

static period_t parse(const char *text, ast_grain grain)
{
    period_t p;
    assert_int_equal(period_parse(text, strlen(text), grain, &p, NULL, 0), PERIOD_OK);
    return p;
}

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
    lower_text(&l, "role promotion quarter {\n"
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
