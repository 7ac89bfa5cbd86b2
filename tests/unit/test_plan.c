/* Unit tests for the planner: deduplication by structure, shifted periods, and the
 * scheduling that keeps each source to one pass where the sets allow it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kpic/ast.h"
#include "kpic/check.h"
#include "kpic/ir.h"
#include "kpic/plan.h"

typedef struct fixture {
    diag_sink diags;
    ast_spec *spec;
    chk_model *model;
    arena mem;
    ir_program *ir;
    plan plan;
} fixture;

static const char header[] =
    "period month\n"
    "source orders \"o.csv\" {\n  customer_id text\n  staff_id text staff\n  amount money\n  paid_at date time\n}\n"
    "source reads \"r.csv\" {\n  user_id text\n  staff_id text staff\n  read_at date time\n}\n"
    "source channels \"c.csv\" {\n  channel text\n  is_paid bool\n}\n"
    "staff \"s.csv\" {\n  id text\n  name text\n  role text\n}\n";

static void load(fixture *f, const char *body)
{
    memset(f, 0, sizeof *f);
    diag_init(&f->diags);
    size_t len = strlen(header) + strlen(body);
    char *text = xmalloc(len + 1);
    strcpy(text, header);
    strcat(text, body);
    uint32_t file = diag_add_file(&f->diags, "/nonexistent/plan.kpi", text, len);
    f->spec = ast_load_spec_file(&f->diags, file);
    f->model = chk_check(f->spec);
    if (f->diags.errors) diag_print(&f->diags, stderr, DIAG_FORMAT_TEXT);
    assert_int_equal(f->diags.errors, 0);
    arena_init(&f->mem);
    f->ir = lower_spec(&f->mem, f->model);
    plan_init(&f->plan, &f->mem, f->model, f->ir);
}

static void done(fixture *f)
{
    plan_free(&f->plan);
    ir_program_free(f->ir);
    arena_free(&f->mem);
    ast_free_spec(f->spec);
    diag_free(&f->diags);
}

static period_t may(void)
{
    period_t p;
    char msg[PERIOD_MESSAGE_SIZE];
    assert_int_equal(period_parse("2025-05", 7, GRAIN_MONTH, &p, msg, sizeof msg), PERIOD_OK);
    return p;
}

static void plan_all(fixture *f, period_t p)
{
    for (size_t i = 0; i < f->model->indicators.len; i++)
        plan_indicator(&f->plan, f->model->indicators.items[i], p);
    plan_schedule(&f->plan);
}

/* The read levels at which instances of a source are computed, as a bit set. */
static unsigned levels_of(fixture *f, const char *source)
{
    unsigned bits = 0;
    for (size_t i = 0; i < f->plan.instances.len; i++) {
        plan_instance *in = f->plan.instances.items[i];
        if (!strcmp(in->agg->source->name, source)) bits |= 1u << in->read_level;
    }
    return bits;
}

static void test_identical_aggregates_are_planned_once(void **state)
{
    (void)state;
    fixture f;
    load(&f, "indicator a money = sum(orders.amount)\n"
             "indicator b money per staff = sum( orders.amount ) + 1\n"
             "indicator c money = previous(sum(orders.amount))\n");
    plan_all(&f, may());
    /* one aggregate; instances for May (a, b) and April (c) */
    assert_int_equal(f.plan.aggs.len, 1);
    assert_int_equal(f.plan.instances.len, 2);
    plan_agg *agg = f.plan.aggs.items[0];
    assert_true(agg->per_staff); /* b needs the staff groups */
    done(&f);
}

static void test_set_of_another_source_comes_first(void **state)
{
    (void)state;
    fixture f;
    load(&f, "set buyers = orders.customer_id\n"
             "indicator r count = distinct(reads.user_id where user_id in buyers)\n"
             "indicator n count = count(orders)\n"
             "indicator k count = count(reads)\n");
    plan_all(&f, may());
    assert_int_equal(f.plan.max_level, 1);
    /* orders is read once, before reads: count(orders) joins the pass of the set */
    assert_int_equal(levels_of(&f, "orders"), 1u << 0);
    assert_int_equal(levels_of(&f, "reads"), 1u << 1);
    done(&f);
}

/* The example library's shape: a set over orders filters reads, and an orders
 * aggregate tests a set over channels. Taking the sets as early as they can be
 * computed would read orders at level 0 (for its set) and again at level 1 (for the
 * aggregate that waits for channels); one level per source reads each once:
 * channels, then orders, then reads. */
static void test_each_source_once_when_the_sets_allow(void **state)
{
    (void)state;
    fixture f;
    load(&f, "set buyers = orders.customer_id\n"
             "set paid = channels.channel where is_paid\n"
             "indicator r count = distinct(reads.user_id where user_id in buyers)\n"
             "indicator p money = sum(orders.amount where customer_id in paid)\n"
             "indicator n count = count(orders)\n");
    plan_all(&f, may());
    assert_int_equal(levels_of(&f, "channels"), 1u << 0);
    assert_int_equal(levels_of(&f, "orders"), 1u << 1);
    assert_int_equal(levels_of(&f, "reads"), 1u << 2);
    assert_int_equal(f.plan.max_level, 2);
    done(&f);
}

/* Two sources that each test the other's set: no order reads both once. Every set
 * still comes before the pass that tests it. */
static void test_sources_testing_each_others_sets(void **state)
{
    (void)state;
    fixture f;
    load(&f, "set buyers = orders.customer_id\n"
             "set readers = reads.user_id\n"
             "indicator r count = count(reads where user_id in buyers)\n"
             "indicator o count = count(orders where customer_id in readers)\n");
    plan_all(&f, may());
    for (size_t i = 0; i < f.plan.instances.len; i++) {
        plan_instance *set = f.plan.instances.items[i];
        for (size_t u = 0; u < set->needed_by.len; u++)
            assert_true(((plan_instance *)set->needed_by.items[u])->read_level > set->read_level);
    }
    assert_int_equal(levels_of(&f, "orders"), (1u << 0) | (1u << 1));
    assert_int_equal(levels_of(&f, "reads"), (1u << 0) | (1u << 1));
    done(&f);
}

static void test_own_set_is_intersected_not_reread(void **state)
{
    (void)state;
    fixture f;
    load(
        &f,
        "set new_customers = orders.customer_id over all time having min(paid_at) in period\n"
        "indicator repeat_new count per staff = distinct(orders.customer_id where customer_id in new_customers)\n"
        "indicator n count = count(orders)\n");
    plan_all(&f, may());
    assert_int_equal(levels_of(&f, "orders"), 1u << 0);
    int found = 0;
    for (size_t i = 0; i < f.plan.aggs.len; i++) {
        plan_agg *agg = f.plan.aggs.items[i];
        if (agg->member_set) {
            found++;
            assert_string_equal(agg->member_set->name, "new_customers");
            assert_null(agg->where);
        }
    }
    assert_int_equal(found, 1);
    done(&f);
}

static void test_membership_with_other_conditions_waits_for_the_set(void **state)
{
    (void)state;
    fixture f;
    /* the where does more than test the set: the set must be complete before the pass */
    load(&f, "set big = orders.customer_id where amount > 100\n"
             "indicator x count = distinct(orders.customer_id where customer_id in big and amount < 5)\n");
    plan_all(&f, may());
    assert_int_equal(levels_of(&f, "orders"), (1u << 0) | (1u << 1));
    done(&f);
}

/* The key family of the aggregate planned for indicator NAME. */
static int family_of(fixture *f, const char *name)
{
    for (size_t i = 0; i < f->model->indicators.len; i++) {
        ast_decl *ind = f->model->indicators.items[i];
        if (strcmp(ind->name, name) != 0) continue;
        plan_instance *in = plan_find(&f->plan, ir_indicator(f->ir, ind)->u.agg, may());
        assert_non_null(in);
        return in->agg->key_family;
    }
    fail_msg("no indicator %s", name);
    return -2;
}

static void test_key_families(void **state)
{
    (void)state;
    fixture f;
    load(&f, "set big = orders.customer_id having sum(amount) >= 30\n"
             "indicator buyers count = distinct(orders.customer_id)\n"
             "indicator repeat count per staff = distinct(orders.customer_id having count() >= 2)\n"
             "indicator spenders count = distinct( orders.customer_id having sum(orders.amount) > 9 )\n"
             "indicator big_ones count = distinct(orders.customer_id where amount > 100)\n"
             "indicator ever count = distinct(orders.customer_id over all time)\n"
             "indicator staffs count = distinct(orders.staff_id)\n"
             "indicator orders_n count = count(orders)\n"
             "indicator n_big count = count(big)\n");
    plan_all(&f, may());
    int family = family_of(&f, "buyers");
    assert_true(family >= 0);
    /* having does not matter, nor how the column is written */
    assert_int_equal(family_of(&f, "repeat"), family);
    assert_int_equal(family_of(&f, "spenders"), family);
    plan_instance *set = plan_find_set(&f.plan, f.model->sets.items[0], may());
    assert_non_null(set);
    assert_int_equal(set->agg->key_family, family);
    /* a where, a window or another column does */
    assert_int_not_equal(family_of(&f, "big_ones"), family);
    assert_int_not_equal(family_of(&f, "ever"), family);
    assert_int_not_equal(family_of(&f, "staffs"), family);
    assert_int_equal(family_of(&f, "orders_n"), -1); /* not a distinct */
    done(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_families),
        cmocka_unit_test(test_identical_aggregates_are_planned_once),
        cmocka_unit_test(test_set_of_another_source_comes_first),
        cmocka_unit_test(test_each_source_once_when_the_sets_allow),
        cmocka_unit_test(test_sources_testing_each_others_sets),
        cmocka_unit_test(test_own_set_is_intersected_not_reread),
        cmocka_unit_test(test_membership_with_other_conditions_waits_for_the_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
