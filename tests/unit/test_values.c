/* Unit tests of values.h: the numbers of a values file (exact, exponents applied to the
 * digits, places beyond 18 rounded), the checks of a row against the spec that no golden
 * case reaches (a staff id for a team-wide indicator, escapes in JSON), and the answers
 * given to the evaluator. */
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
#include "kpic/values.h"

static const char spec_text[] =
    "source orders \"orders.csv\" {\n  staff_id text staff\n  amount money\n  paid_at date time\n}\n"
    "staff \"staff.csv\" {\n  id text\n  role text\n}\n"
    "indicator revenue money per staff = sum(orders.amount)\n"
    "indicator team_revenue money = sum(orders.amount)\n"
    "indicator share percent per staff = revenue / team_revenue\n";

typedef struct fixture {
    diag_sink diags;
    ast_spec *spec;
    chk_model *model;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    diag_init(&f->diags);
    char *text = strdup(spec_text);
    uint32_t file = diag_add_file(&f->diags, "/nonexistent-kpic-test/spec.kpi", text, strlen(text));
    f->spec = ast_load_spec_file(&f->diags, file);
    f->model = chk_check(f->spec);
    assert_int_equal(f->diags.errors, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    ast_free_spec(f->spec);
    diag_free(&f->diags);
    free(f);
    return 0;
}

static void assert_number(const char *text, const char *want)
{
    dec_t d;
    const char *why = NULL;
    if (!vals_parse_number(text, strlen(text), &d, &why)) fail_msg("'%s' refused: %s", text, why);
    char got[DEC_FORMAT_SIZE];
    dec_format(d, 18, got, sizeof got);
    assert_string_equal(got, want);
}

static void assert_not_number(const char *text, const char *why_part)
{
    dec_t d;
    const char *why = NULL;
    if (vals_parse_number(text, strlen(text), &d, &why)) fail_msg("'%s' accepted", text);
    assert_non_null(strstr(why, why_part));
}

static void numbers(void **state)
{
    (void)state;
    assert_number("12.5", "12.500000000000000000");
    assert_number("-0.25", "-0.250000000000000000");
    assert_number("+.5", "0.500000000000000000");
    assert_number("1575.40", "1575.400000000000000000");
    assert_number("1.0E-5", "0.000010000000000000");
    assert_number("2.5e3", "2500.000000000000000000");
    assert_number("3.3333333333333335E-1", "0.333333333333333350");
    /* the 19th place rounds half away from zero, exactly */
    assert_number("0.1234567890123456785", "0.123456789012345679");
    assert_number("-0.1234567890123456785", "-0.123456789012345679");
    assert_number("0.1234567890123456784", "0.123456789012345678");
    assert_number("00012", "12.000000000000000000");
    assert_number("1e-40", "0.000000000000000000");
    assert_not_number("", "not a number");
    assert_not_number("1,000.00", "not a number");
    assert_not_number("25%", "fraction");
    assert_not_number("1e", "exponent");
    assert_not_number("NULL", "not a number");
    assert_not_number("inf", "not a number");
    assert_not_number("1e30", "out of range");
    assert_not_number(" 1", "not a number");
}

static vals_file *read_text(fixture *f, const char *text)
{
    return vals_read_memory("v.csv", text, strlen(text), f->model, &f->diags);
}

static const diagnostic *last(const fixture *f)
{
    return f->diags.diags.items[f->diags.diags.len - 1];
}

static void team_wide_with_staff(void **state)
{
    fixture *f = *state;
    vals_file *v = read_text(f, "period,indicator,staff_id,value\n2025-05,team_revenue,s01,10\n");
    assert_null(v);
    assert_non_null(strstr(last(f)->message, "team-wide"));
    assert_int_equal(last(f)->ext_line, 2);
    assert_int_equal(last(f)->ext_col, 3);
}

static ast_decl *indicator(fixture *f, const char *name)
{
    return chk_find(f->model, name);
}

static void answers(void **state)
{
    fixture *f = *state;
    vals_file *v = read_text(f, "indicator,period,value,staff_id\n"
                                "revenue,2025-05,10.5,s01\n"
                                "revenue,2025-05,,s02\n"
                                "team_revenue,2025-05,20.25,\n");
    assert_non_null(v);
    eval_options o;
    memset(&o, 0, sizeof o);
    vals_attach(v, &o);
    period_t p;
    char msg[PERIOD_MESSAGE_SIZE];
    assert_int_equal(period_parse("2025-05", 7, GRAIN_MONTH, &p, msg, sizeof msg), PERIOD_OK);
    eval_value a = o.given_values(o.given_values_ctx, indicator(f, "revenue"), p, "s01");
    assert_int_equal(a.kind, VAL_NUM);
    eval_value b = o.given_values(o.given_values_ctx, indicator(f, "revenue"), p, "s02");
    assert_int_equal(b.kind, VAL_NULL);
    eval_value t = o.given_values(o.given_values_ctx, indicator(f, "team_revenue"), p, NULL);
    assert_int_equal(t.kind, VAL_NUM);
    assert_true(vals_report_missing(v, &f->diags));
    /* asked for and absent: an error naming the first, counting the rest */
    o.given_values(o.given_values_ctx, indicator(f, "revenue"), p, "s03");
    o.given_values(o.given_values_ctx, indicator(f, "revenue"), p, "s04");
    o.given_values(o.given_values_ctx, indicator(f, "revenue"), p, NULL);
    assert_false(vals_report_missing(v, &f->diags));
    assert_non_null(strstr(last(f)->message, "staff 's03' and others"));
    eval_source_stats s = vals_source(v);
    assert_string_equal(s.name, "values");
    assert_int_equal(s.rows, 3);
    vals_free(v);
}

static void json_escapes(void **state)
{
    fixture *f = *state;
    /* "\u0072evenue" is revenue; a staff id with an escaped Chinese character */
    const char *text = "{\"indicators\": [{\"name\": \"\\u0072evenue\", \"unit\": \"money\", \"values\": "
                       "[{\"period\": \"2025-05\", \"total\": 1.5, \"staff\": {\"\\u5f20\": 2}}]}]}";
    vals_file *v = read_text(f, text);
    assert_non_null(v);
    assert_int_equal(vals_source(v).rows, 2);
    vals_free(v);
    /* NUL through an escape, a lone surrogate, a control character: refused */
    static const char *const bad[] = {
        "{\"indicators\": [{\"name\": \"re\\u0000\", \"values\": []}]}",
        "{\"indicators\": [{\"name\": \"\\ud800\", \"values\": []}]}",
        "{\"indicators\": [{\"name\": \"a\tb\", \"values\": []}]}",
        "{\"indicators\": [{\"name\": \"revenue\", \"values\": [{\"period\": \"2025-05\", \"total\": \"1\"}]}]}",
        "{\"indicators\": []} x",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t errors = f->diags.errors;
        assert_null(read_text(f, bad[i]));
        assert_true(f->diags.errors > errors);
    }
}

static void nul_bytes(void **state)
{
    fixture *f = *state;
    static const char text[] = "period,indicator,staff_id,value\n2025-05,revenue,s\0,1\n";
    assert_null(vals_read_memory("v.csv", text, sizeof text - 1, f->model, &f->diags));
    assert_non_null(strstr(last(f)->message, "NUL"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(numbers),
        cmocka_unit_test_setup_teardown(team_wide_with_staff, setup, teardown),
        cmocka_unit_test_setup_teardown(answers, setup, teardown),
        cmocka_unit_test_setup_teardown(json_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(nul_bytes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
