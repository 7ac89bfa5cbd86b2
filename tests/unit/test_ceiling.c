/* Unit tests for the ceiling analysis (ceiling.h): capped scales, linear segments, own
 * points with and without a cap, gates, missing skip, roster columns with and without a
 * roster, divisions that can reach 0, and the reasons given for a missing bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kpic/ast.h"
#include "kpic/ceiling.h"
#include "kpic/check.h"
#include "kpic/ir.h"

typedef struct fixture {
    diag_sink diags;
    ast_spec *spec;
    chk_model *model;
    arena mem;
    ir_program *ir;
    ceil_report report;
} fixture;

static const char header[] =
    "period month\n"
    "source orders \"o.csv\" {\n  staff_id text staff\n  amount money\n  paid_at date time\n}\n"
    "staff \"s.csv\" {\n  id text\n  role text\n  base_bonus money\n  quota money\n  headcount int\n}\n"
    "indicator revenue money per staff = sum(orders.amount)\n"
    "indicator n count per staff = count(orders)\n"
    "scale standard {\n  [0%, 60%) -> 0\n  [60%, 100%) -> 60 .. 100\n  [100%, 150%) -> 100 .. 150\n"
    "  [150%, inf) -> 150\n}\n"
    "scale pay {\n  [0, 60) -> 0%\n  [60, 100) -> 50% .. 100%\n  [100, inf) -> 120%\n}\n";

/* A roster given as text: "role base_bonus quota" per member, cells as numbers. */
typedef struct roster_fixture {
    const char *roles[8];
    const char *cells[8][3]; /* base_bonus, quota, headcount: columns 2, 3 and 4 */
    size_t count;
} roster_fixture;

static const char *roster_role(void *ctx, size_t member)
{
    return ((roster_fixture *)ctx)->roles[member];
}

static bool roster_number(void *ctx, size_t member, int column, dec_t *out)
{
    roster_fixture *r = ctx;
    if (column < 2 || column > 4 || !r->cells[member][column - 2]) return false;
    const char *text = r->cells[member][column - 2];
    return dec_parse(text, strlen(text), 18, out) == DEC_OK;
}

static roster_fixture hundred = { .roles = { "r" }, .cells = { { "100", "1", "1" } }, .count = 1 };

static void analyze(fixture *f, const char *body, roster_fixture *roster)
{
    memset(f, 0, sizeof *f);
    diag_init(&f->diags);
    size_t len = strlen(header) + strlen(body);
    char *text = malloc(len + 1);
    strcpy(text, header);
    strcat(text, body);
    uint32_t file = diag_add_file(&f->diags, "/nonexistent/ceiling.kpi", text, len);
    f->spec = ast_load_spec_file(&f->diags, file);
    f->model = chk_check(f->spec);
    if (f->diags.errors) diag_print(&f->diags, stderr, DIAG_FORMAT_TEXT);
    assert_int_equal(f->diags.errors, 0);
    arena_init(&f->mem);
    f->ir = lower_spec(&f->mem, f->model);
    ceil_roster r = { 0 };
    if (roster) r = (ceil_roster){ roster->count, roster_role, roster_number, roster };
    ceil_analyze(&f->report, f->ir, &f->diags, roster ? &r : NULL);
}

static void done(fixture *f)
{
    ceil_report_free(&f->report);
    ir_program_free(f->ir);
    arena_free(&f->mem);
    ast_free_spec(f->spec);
    diag_free(&f->diags);
}

static void assert_end(const ceil_end *e, const char *expected)
{
    assert_false(e->infinite);
    char buf[64];
    dec_format(e->value, 2, buf, sizeof buf);
    assert_string_equal(buf, expected);
}

static const ceil_role *role(fixture *f, const char *name)
{
    for (size_t i = 0; i < f->report.role_count; i++)
        if (!strcmp(f->report.roles[i].role->name, name)) return &f->report.roles[i];
    fail_msg("no role %s", name);
    return NULL;
}

/* standard caps at 150, pay at 120%: 1000 × 120% = 1200.00 at most; a miss pays 0 */
static void test_capped_scale(void **state)
{
    (void)state;
    fixture f;
    analyze(&f,
            "role sales {\n  kpi revenue weight 60% target >= 1000\n  kpi n weight 40% target >= 4\n"
            "  points standard\n  bonus 1000 * pay(score)\n}\n",
            NULL);
    const ceil_role *r = role(&f, "sales");
    assert_true(r->has_bonus);
    assert_true(r->score.known);
    assert_end(&r->score.lo, "0.00");
    assert_end(&r->score.hi, "150.00");
    assert_end(&r->bonus.lo, "0.00");
    assert_end(&r->bonus.hi, "1200.00");
    done(&f);
}

/* own points min(achievement * 100, 120) cap one kpi; `achievement * 100` on the other
 * has no cap, and the reason names it */
static void test_uncapped_points(void **state)
{
    (void)state;
    fixture f;
    analyze(
        &f,
        "role r {\n  kpi revenue weight 50% target >= 1000 points min(achievement * 100, 120)\n"
        "  kpi n weight 50% target >= 4 points achievement * 100\n  bonus staff.base_bonus * score / 100\n}\n",
        NULL);
    const ceil_role *r = role(&f, "r");
    assert_true(r->bonus.hi.infinite);
    assert_non_null(strstr(r->bonus.hi.why, "the points `achievement * 100` of kpi 'n' have no cap"));
    ceil_warn(&f.report, &f.diags);
    assert_int_equal(f.diags.warnings, 1);
    done(&f);
}

/* a gate makes 0 possible; linear segments interpolate exactly */
static void test_gate_and_linear(void **state)
{
    (void)state;
    fixture f;
    analyze(&f,
            "scale lin {\n  [0%, 100%) -> 50 .. 80\n  [100%, inf) -> 90\n}\n"
            "role r {\n  kpi revenue weight 100% target >= 1000\n  points lin\n  gate n >= 2\n"
            "  bonus staff.base_bonus + staff.base_bonus * score / 100\n}\n",
            &hundred);
    const ceil_role *r = role(&f, "r");
    assert_end(&r->score.lo, "0.00"); /* a negative revenue falls out of the scale: missing */
    assert_end(&r->score.hi, "90.00");
    assert_end(&r->bonus.lo, "0.00"); /* the gate */
    assert_end(&r->bonus.hi, "190.00");
    done(&f);
}

/* roster columns: symbols without a roster (bounded, figures unknown), each member's
 * own cells with one; the total adds every member's most */
static void test_roster_columns(void **state)
{
    (void)state;
    const char *body = "role sales {\n  kpi revenue weight 50% target >= staff.quota * employed\n"
                       "  kpi n weight 50% target >= 4\n  points standard\n"
                       "  bonus staff.base_bonus * pay(score) * employed\n}\n"
                       "role idle {\n  kpi revenue weight 100% target >= 1\n  points standard\n}\n";
    fixture f;
    analyze(&f, body, NULL);
    const ceil_role *r = role(&f, "sales");
    assert_false(r->bonus.known);
    assert_false(r->bonus.hi.infinite);
    assert_false(role(&f, "idle")->has_bonus);
    /* … but it is base_bonus times a factor of at most 120% */
    assert_int_equal(r->unit_column, 2);
    assert_true(r->per_unit.known);
    assert_end(&r->per_unit.lo, "0.00");
    assert_end(&r->per_unit.hi, "1.20");
    done(&f);

    roster_fixture roster = {
        .roles = { "sales", "sales", "idle", "other" },
        .cells = { { "1000", "5000" }, { "2500.50", "8000" }, { "9999", "1" }, { "7777", "1" } },
        .count = 4
    };
    analyze(&f, body, &roster);
    r = role(&f, "sales");
    assert_true(r->bonus.known);
    assert_int_equal(r->members, 2);
    assert_end(&r->bonus.hi, "3000.60");    /* 2500.50 × 120% */
    assert_end(&r->total, "4200.60");       /* + 1000 × 120% */
    assert_end(&f.report.total, "4200.60"); /* idle has no bonus, other no role */
    done(&f);
}

/* a bonus over an indicator is unbounded; dividing by a roster column that can be 0
 * too, but not with a roster whose cells are not 0 */
static void test_indicator_and_division(void **state)
{
    (void)state;
    fixture f;
    analyze(&f, "role r {\n  kpi n weight 100% target >= 4\n  points standard\n  bonus revenue * 3%\n}\n",
            NULL);
    assert_true(role(&f, "r")->bonus.hi.infinite);
    assert_non_null(strstr(role(&f, "r")->bonus.hi.why, "indicator 'revenue'"));
    done(&f);

    const char *body = "role r {\n  kpi n weight 100% target >= 4\n  points standard\n"
                       "  bonus staff.base_bonus * pay(score) / staff.headcount\n}\n";
    analyze(&f, body, NULL);
    assert_true(role(&f, "r")->bonus.hi.infinite);
    assert_non_null(strstr(role(&f, "r")->bonus.hi.why, "divides by `staff.headcount`, which can be 0"));
    done(&f);
    roster_fixture roster = { .roles = { "r" }, .cells = { { "100", "1", "4" } }, .count = 1 };
    analyze(&f, body, &roster);
    assert_end(&role(&f, "r")->bonus.hi, "30.00"); /* 100 × 120% / 4 */
    done(&f);
}

/* missing skip: the score is a mean of the kept kpis, between their least and most */
static void test_missing_skip(void **state)
{
    (void)state;
    fixture f;
    analyze(&f,
            "role r {\n  kpi revenue weight 70% target >= 10 points min(max(achievement * 100, 20), 110)\n"
            "  kpi n weight 30% target >= 4\n  points standard\n  missing skip\n"
            "  bonus staff.base_bonus * score / 100\n}\n",
            &hundred);
    const ceil_role *r = role(&f, "r");
    assert_end(&r->score.lo, "0.00");
    assert_end(&r->score.hi, "150.00");
    assert_end(&r->bonus.hi, "150.00");
    done(&f);
}

/* rounding goes outward, so 1/3 of 100 is bounded by 33.34 above and 33.33 below */
static void test_rounding_outward(void **state)
{
    (void)state;
    fixture f;
    analyze(&f,
            "role r {\n  kpi n weight 100% target >= 4\n  points standard\n  bonus staff.base_bonus / 3\n}\n",
            &hundred);
    const ceil_role *r = role(&f, "r");
    assert_end(&r->bonus.lo, "33.33");
    assert_end(&r->bonus.hi, "33.34");
    done(&f);
}

/* an if on the achievement: the else branch only sees achievements below 1, so
 * `achievement * 100` there is below 100 and the points are capped */
static void test_if_narrows(void **state)
{
    (void)state;
    fixture f;
    analyze(&f,
            "role r {\n  kpi revenue weight 50% target >= 10\n"
            "    points if achievement >= 1 then 100 else max(achievement * 100, 20)\n"
            "  kpi n weight 50% target >= 4\n  points standard\n  bonus staff.base_bonus * score / 100\n}\n",
            &hundred);
    const ceil_role *r = role(&f, "r");
    assert_end(&r->score.hi, "125.00"); /* 50% × 100 + 50% × 150 */
    assert_end(&r->bonus.hi, "125.00");
    done(&f);
}

/* coalesce(a, b) takes b only where a is null: a scale that can miss, with a fallback */
static void test_coalesce(void **state)
{
    (void)state;
    fixture f;
    analyze(&f,
            "scale part {\n  [0%, 100%) -> 0 .. 100\n}\n"
            "role r {\n  kpi revenue weight 50% target >= 10 points coalesce(part(achievement), 110)\n"
            "  kpi n weight 50% target >= 4\n  points standard\n  bonus staff.base_bonus * score / 100\n}\n",
            &hundred);
    const ceil_role *r = role(&f, "r");
    assert_end(&r->score.hi, "130.00"); /* 50% × 110 + 50% × 150 */
    done(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capped_scale),
        cmocka_unit_test(test_uncapped_points),
        cmocka_unit_test(test_gate_and_linear),
        cmocka_unit_test(test_roster_columns),
        cmocka_unit_test(test_indicator_and_division),
        cmocka_unit_test(test_missing_skip),
        cmocka_unit_test(test_rounding_outward),
        cmocka_unit_test(test_if_narrows),
        cmocka_unit_test(test_coalesce),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
