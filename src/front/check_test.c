/* check_test.c — checking the tests of a spec (docs/language.md "Tests").
 *
 * A test is checked like the rest of the spec, before anything runs: what it names
 * must exist, what it expects must be written in the unit of what it looks at (a
 * percent indicator expects 25%, money expects a plain number), and an expectation
 * about a staff member needs a roster in the test. `kpic test` relies on these
 * annotations and checks at run time only what depends on the data.
 */
#include <string.h>
#include <strings.h>

#include "check_internal.h"
#include "kpic/period.h"

/* The unit an expectation's value is written in, or -1 where no value is compared. */
static int target_unit(const ast_expect *e)
{
    switch (e->target) {
    case EXPECT_INDICATOR: return e->ref ? (int)e->ref->u.indicator.unit : -1;
    case EXPECT_SCORE:
    case EXPECT_POINTS: return UNIT_POINTS;
    case EXPECT_BONUS: return UNIT_MONEY;
    case EXPECT_ACHIEVEMENT:
    case EXPECT_PERCENTILE: return UNIT_RATIO;
    case EXPECT_RANK: return UNIT_COUNT;
    case EXPECT_GATE:
    case EXPECT_UNSCORED:
    case EXPECT_GRADE: return -1;
    }
    return -1;
}

static const char *target_word(const ast_expect *e)
{
    switch (e->target) {
    case EXPECT_INDICATOR: return "indicator";
    case EXPECT_SCORE: return "score";
    case EXPECT_BONUS: return "bonus";
    case EXPECT_POINTS: return "points";
    case EXPECT_ACHIEVEMENT: return "achievement";
    case EXPECT_GATE: return "gate";
    case EXPECT_UNSCORED: return "unscored";
    case EXPECT_GRADE: return "grade";
    case EXPECT_RANK: return "rank";
    case EXPECT_PERCENTILE: return "percentile";
    }
    return "?";
}

/* A signed literal's exact value: percentages divided by 100. False when it does not
 * fit the evaluator's decimals (reported). */
static bool literal_value(chk_ctx *c, const ast_expr *e, dec_t *out)
{
    bool neg = e->kind == EX_UNARY;
    const ast_expr *lit = neg ? e->u.op.lhs : e;
    if (lit->kind == EX_INF) {
        diag_report(c->diags, DIAG_ERROR, e->span, "expect-value",
                    "an expectation's value is a number, not inf");
        return false;
    }
    dec_t v;
    dec_status st = dec_parse(lit->u.lit.text, strlen(lit->u.lit.text), 16, &v);
    if (st == DEC_OK && lit->kind == EX_PERCENT) st = dec_div(v, dec_from_int64(100), 18, &v);
    if (st != DEC_OK) {
        diag_report(c->diags, DIAG_ERROR, e->span, "expect-value", "value '%s' cannot be compared: %s",
                    chk_snippet(c, e->span), dec_status_text(st));
        return false;
    }
    *out = neg ? dec_neg(v) : v;
    return true;
}

static bool is_percent(const ast_expr *e)
{
    return (e->kind == EX_UNARY ? e->u.op.lhs : e)->kind == EX_PERCENT;
}

/* The value of an expectation written in its target's unit: percentages for percent
 * indicators (25%, not 25 or 0.25), plain numbers for money, counts, points, days and
 * numbers; a ratio and an achievement take either. */
static void check_value_unit(chk_ctx *c, const ast_expect *e, const ast_expr *v)
{
    int unit = target_unit(e);
    if (unit < 0) return;
    bool percent = is_percent(v);
    const char *what = e->target == EXPECT_INDICATOR ? arena_printf(c->mem, "'%s', a %s indicator,", e->name,
                                                                    ast_unit_name((ast_unit)unit))
                                                     : arena_printf(c->mem, "%s", target_word(e));
    if (unit == UNIT_PERCENT && !percent) {
        diagnostic *d =
            diag_report(c->diags, DIAG_ERROR, v->span, "expect-unit", "%s is expected as a percentage", what);
        const char *written = chk_snippet(c, v->span);
        dec_t x, hundred;
        char as_fraction[DEC_FORMAT_SIZE] = "";
        if (dec_parse(written, strlen(written), 16, &x) == DEC_OK &&
            dec_mul(x, dec_from_int64(100), &hundred) == DEC_OK) {
            dec_format(hundred, DEC_PLACES, as_fraction, sizeof as_fraction);
            size_t n = strlen(as_fraction);
            while (n > 0 && as_fraction[n - 1] == '0') as_fraction[--n] = '\0';
            if (n > 0 && as_fraction[n - 1] == '.') as_fraction[--n] = '\0';
        }
        if (as_fraction[0])
            diag_hint(c->diags, d,
                      "write it with '%%': %s%% if %s is a fraction, %s%% if it is "
                      "already in percent",
                      as_fraction, written, written);
        else diag_hint(c->diags, d, "write the value with '%%'");
    } else if (percent && unit != UNIT_PERCENT && unit != UNIT_RATIO) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, v->span, "expect-unit",
                                    "%s is not a percentage: it is expected as a plain number", what);
        diag_hint(c->diags, d, "write %s as a number, without '%%'",
                  unit == UNIT_MONEY ? "the amount" : "the value");
    }
}

/* Whether some role has a kpi on INDICATOR, and the most gates a role has. */
static bool is_kpi(const chk_model *m, const char *indicator)
{
    for (size_t r = 0; r < m->roles.len; r++) {
        const ast_decl *role = m->roles.items[r];
        for (int i = 0; i < role->u.role.item_count; i++)
            if (role->u.role.items[i].kind == ROLE_KPI && !strcmp(role->u.role.items[i].indicator, indicator))
                return true;
    }
    return false;
}

static int most_gates(const chk_model *m)
{
    int most = 0;
    for (size_t r = 0; r < m->roles.len; r++) {
        const ast_decl *role = m->roles.items[r];
        int n = 0;
        for (int i = 0; i < role->u.role.item_count; i++) n += role->u.role.items[i].kind == ROLE_GATE;
        if (n > most) most = n;
    }
    return most;
}

/* `grade[ID] = "A"`: a text compared for equality, naming a grade of some role's table.
 * A name no table has would make the expectation fail on every run, or (with !=) hold on
 * every run, whatever the ranking. */
static void check_grade_expect(chk_ctx *c, const ast_expect *e)
{
    bool text = e->value && e->value->kind == EX_STRING;
    if (!text) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, e->value ? e->value->span : e->span, "expect-value",
                                    "a grade is a name, expected in quotes");
        diag_hint(c->diags, d, "write grade[%s] = \"A\"", e->staff ? e->staff : "STAFF");
        return;
    }
    if (e->op != OP_EQ && e->op != OP_NE) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, e->op_span, "expect-check",
                                    "grades are compared with = or !=, not %s", ast_op_text(e->op));
        diag_hint(c->diags, d, "expect rank[%s] or percentile[%s] to compare places",
                  e->staff ? e->staff : "STAFF", e->staff ? e->staff : "STAFF");
        return;
    }
    const char *want = e->value->u.lit.text;
    ptr_vec names = { 0 };
    for (size_t r = 0; r < c->model->roles.len; r++) {
        const ast_grades *g = ast_role_grades(c->model->roles.items[r]);
        for (int k = 0; g && k < g->row_count; k++) {
            if (!strcmp(g->rows[k].name, want)) return;
            ptr_vec_push(c->mem, &names, (void *)g->rows[k].name);
        }
    }
    if (!names.len) return; /* check_ranked said so */
    diagnostic *d = diag_report(c->diags, DIAG_ERROR, e->value->span, "unknown-grade",
                                "\"%s\" is not a grade of any role, so the expectation never holds", want);
    const char *near = NULL, *list = "";
    for (size_t k = 0; k < names.len && !near; k++)
        if (!strcasecmp(names.items[k], want)) near = names.items[k];
    if (!near) near = chk_closest(c, want, (const char *const *)names.items, names.len);
    if (near) diag_hint(c->diags, d, "did you mean \"%s\"?", near);
    for (size_t k = 0; k < names.len; k++)
        list = arena_printf(c->mem, "%s%s\"%s\"", list, k ? ", " : "", (const char *)names.items[k]);
    diag_hint(c->diags, d, "the grades are %s", list);
}

/* grade[…], rank[…] and percentile[…] need a role that ranks its members. */
static void check_ranked(chk_ctx *c, const ast_expect *e)
{
    for (size_t r = 0; r < c->model->roles.len; r++)
        if (ast_role_grades(c->model->roles.items[r])) return;
    diagnostic *d = diag_report(c->diags, DIAG_ERROR, e->target_span, "expect-target",
                                "no role of the spec has grades, so no one has a %s", target_word(e));
    diag_hint(c->diags, d, "a role ranks its members with a `grades { … }` line (docs/language.md §9.4)");
}

static void check_expect(chk_ctx *c, const ast_decl *test, ast_expect *e, bool has_roster)
{
    if ((e->target == EXPECT_GRADE || e->target == EXPECT_RANK || e->target == EXPECT_PERCENTILE) &&
        e->name) {
        /* an indicator named rank keeps the meaning rank[s01] had before rankings */
        chk_entry *entry = chk_lookup(c, e->name);
        if (entry && entry->decl->kind == DECL_INDICATOR) e->target = EXPECT_INDICATOR;
    }
    if (e->target == EXPECT_GRADE || e->target == EXPECT_RANK || e->target == EXPECT_PERCENTILE)
        check_ranked(c, e);
    if (e->target == EXPECT_INDICATOR || e->target == EXPECT_POINTS || e->target == EXPECT_ACHIEVEMENT) {
        if (!e->name) return; /* a syntax error already said what to write */
        chk_entry *entry = chk_lookup(c, e->name);
        if (!entry || entry->decl->kind != DECL_INDICATOR) {
            diagnostic *d = entry ? diag_report(c->diags, DIAG_ERROR, e->name_span, "expect-target",
                                                "'%s' is %s, not an indicator", e->name,
                                                chk_kind_phrase(entry->decl->kind))
                                  : diag_report(c->diags, DIAG_ERROR, e->name_span, "undefined-name",
                                                "unknown indicator '%s'", e->name);
            if (!entry) chk_hint_closest(c, d, e->name, &c->cand_indicators);
            if (e->target == EXPECT_INDICATOR)
                diag_hint(c->diags, d,
                          "an expectation looks at an indicator (NAME or NAME[STAFF]), "
                          "or at score, bonus, points, achievement, gate or unscored of a staff member");
            return;
        }
        e->ref = entry->decl;
        if (e->target != EXPECT_INDICATOR && !is_kpi(c->model, e->name)) {
            diagnostic *d =
                diag_report(c->diags, DIAG_ERROR, e->name_span, "expect-target",
                            "indicator '%s' is not a kpi of any role: it has no %s", e->name, target_word(e));
            diag_hint(c->diags, d, "expect its value instead: expect %s[%s] = …", e->name,
                      e->staff ? e->staff : "STAFF");
        }
        if (e->target == EXPECT_INDICATOR && e->staff && !e->ref->u.indicator.per_staff) {
            diagnostic *d =
                diag_report(c->diags, DIAG_ERROR, e->staff_span, "expect-grain",
                            "indicator '%s' is team-wide: it has no value per staff member", e->name);
            diag_hint(c->diags, d, "expect its total: expect %s = …", e->name);
        }
    }
    if (e->target == EXPECT_GATE && e->gate > most_gates(c->model)) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, e->member_span, "expect-target",
                                    "no role has a gate %d", e->gate);
        diag_hint(c->diags, d,
                  "gates are numbered from 1 in the order a role writes them; "
                  "the most any role has is %d",
                  most_gates(c->model));
    }
    if (e->staff && !has_roster) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, e->staff_span, "test-roster",
                                    "test '%s' expects something of staff member '%s' but gives no roster",
                                    test->name, e->staff);
        diag_hint(c->diags, d,
                  "give the test a roster: a 'data staff' block with the roster's "
                  "header line and a row for '%s'",
                  e->staff);
    }

    bool outcome = e->target == EXPECT_GATE || e->target == EXPECT_UNSCORED;
    switch (e->check) {
    case EXPECT_PASSED:
    case EXPECT_FAILED:
        if (e->target != EXPECT_GATE) {
            diagnostic *d = diag_report(c->diags, DIAG_ERROR, e->span, "expect-check",
                                        "only a gate is expected to have passed or failed");
            diag_hint(c->diags, d, "write gate[STAFF] passed, or gate[STAFF].N failed");
        }
        return;
    case EXPECT_HOLDS:
        if (e->target != EXPECT_UNSCORED) {
            diagnostic *d = diag_report(c->diags, DIAG_ERROR, e->span, "expect-check",
                                        "nothing is expected of %s", chk_snippet(c, e->target_span));
            diag_hint(c->diags, d,
                      e->target == EXPECT_GATE ? "write passed or failed after it"
                                               : "write = VALUE, within 0.1%% of VALUE, or is null after it");
        }
        return;
    case EXPECT_NULL:
        if (outcome) {
            diagnostic *d = diag_report(c->diags, DIAG_ERROR, e->span, "expect-check", "%s is never null",
                                        chk_snippet(c, e->target_span));
            diag_hint(c->diags, d,
                      e->target == EXPECT_GATE ? "write passed or failed after it"
                                               : "write unscored[STAFF] alone");
        }
        return;
    case EXPECT_COMPARE:
    case EXPECT_WITHIN:
        if (e->target == EXPECT_GRADE) {
            if (e->check == EXPECT_WITHIN) {
                diagnostic *d =
                    diag_report(c->diags, DIAG_ERROR, e->span, "expect-check",
                                "a grade is a name: it is equal or not, never within a tolerance");
                diag_hint(c->diags, d, "write grade[%s] = \"A\"", e->staff ? e->staff : "STAFF");
                return;
            }
            check_grade_expect(c, e);
            return;
        }
        if (e->value && e->value->kind == EX_STRING) {
            diagnostic *d = diag_report(c->diags, DIAG_ERROR, e->value->span, "expect-value",
                                        "%s is a number, not a text", chk_snippet(c, e->target_span));
            diag_hint(c->diags, d, "only grade[STAFF] is expected as a name in quotes");
            return;
        }
        if (outcome) {
            diagnostic *d = diag_report(c->diags, DIAG_ERROR, e->span, "expect-check", "%s is not a number",
                                        chk_snippet(c, e->target_span));
            diag_hint(c->diags, d,
                      e->target == EXPECT_GATE ? "write passed or failed after it"
                                               : "write unscored[STAFF] alone");
            return;
        }
        check_value_unit(c, e, e->value);
        literal_value(c, e->value, &e->expected);
        if (e->check == EXPECT_WITHIN) {
            if (!is_percent(e->tolerance) || e->tolerance->kind == EX_UNARY) {
                diagnostic *d = diag_report(c->diags, DIAG_ERROR, e->tolerance->span, "expect-value",
                                            "a tolerance is a percentage of the expected value");
                diag_hint(c->diags, d, "write within 0.1%% of VALUE");
            } else {
                literal_value(c, e->tolerance, &e->relative);
            }
        }
        return;
    }
}

void chk_tests(chk_ctx *c)
{
    const ptr_vec *tests = &c->model->tests;
    for (size_t t = 0; t < tests->len; t++) {
        ast_decl *test = tests->items[t];
        for (size_t u = 0; u < t; u++) {
            const ast_decl *first = tests->items[u];
            if (strcmp(first->name, test->name)) continue;
            diagnostic *d = diag_report(c->diags, DIAG_ERROR, test->name_span, "duplicate-test",
                                        "a second test named \"%s\"", test->name);
            diag_note(c->diags, d, first->name_span, "the first is here");
            diag_hint(c->diags, d, "give each test its own name: --filter selects tests by name");
            break;
        }
        if (!test->u.test.period) {
            diagnostic *d = diag_report(c->diags, DIAG_ERROR, test->name_span, "test-period",
                                        "test \"%s\" has no period", test->name);
            diag_hint(c->diags, d, "write the period it runs for as --period takes it, e.g. period 2025-05");
        } else {
            period_t p;
            char msg[256];
            if (period_parse(test->u.test.period, strlen(test->u.test.period), c->model->grain, &p, msg,
                             sizeof msg) != PERIOD_OK)
                diag_report(c->diags, DIAG_ERROR, test->u.test.period_span, "test-period", "%s", msg);
        }
        bool has_roster = false;
        for (int i = 0; i < test->u.test.data_count; i++) {
            ast_test_data *data = &test->u.test.data[i];
            for (int j = 0; j < i; j++) {
                if (strcmp(test->u.test.data[j].source, data->source)) continue;
                diagnostic *d = diag_report(c->diags, DIAG_ERROR, data->source_span, "duplicate-data",
                                            "the data of '%s' is given twice", data->source);
                diag_note(c->diags, d, test->u.test.data[j].source_span, "first given here");
                break;
            }
            if (!strcmp(data->source, "staff")) {
                data->ref = c->model->roster;
                has_roster = true;
                continue;
            }
            chk_entry *entry = chk_lookup(c, data->source);
            if (entry && entry->decl->kind == DECL_SOURCE) {
                data->ref = entry->decl;
                continue;
            }
            diagnostic *d = diag_report(c->diags, DIAG_ERROR, data->source_span, "unknown-source",
                                        "'%s' is not a source", data->source);
            if (entry)
                diag_hint(c->diags, d, "'%s' is %s; a test gives data for sources and for staff",
                          data->source, chk_kind_phrase(entry->decl->kind));
            else chk_hint_closest(c, d, data->source, &c->cand_sources);
        }
        for (int i = 0; i < test->u.test.expect_count; i++)
            check_expect(c, test, &test->u.test.expects[i], has_roster);
    }
}
