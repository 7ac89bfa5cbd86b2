/* Unit tests for the lowering stage (lower.c, ir.h).
 *
 * What the back ends rely on: every construct of the language lowers to its own node
 * kind with literals decoded and names bound; an aggregate written several times is one
 * interned ir_agg (pointer identity), a different where or window is another one, and
 * aggregates that differ only in `having` share a key family.
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

static const char header[] =
    "period month\n"
    "staff \"staff.csv\" { id text  role text  base_bonus money  quota int }\n"
    "source orders \"orders.csv\" {\n"
    "  customer_id text\n  staff_id text staff\n  amount money\n  paid_at date time\n"
    "  channel text\n  refunded bool\n}\n";

static ir_node *body(const lowered *l, const char *indicator)
{
    ast_decl *d = chk_find(l->model, indicator);
    assert_non_null(d);
    ir_node *n = ir_indicator(l->ir, d);
    assert_non_null(n);
    return n;
}

static ir_agg *agg_of(const lowered *l, const char *indicator)
{
    ir_node *n = body(l, indicator);
    assert_int_equal(n->kind, IR_AGGREGATE);
    return n->u.agg;
}

/* ---- every node kind ---------------------------------------------------------------- */

static const char every_kind[] =
    "set buyers = orders.customer_id where not refunded\n"
    "set loyal = orders.customer_id over last 90 days\n"
    "  having count() >= 2 and sum(amount where amount > 0) > 100 and min(paid_at) in period\n"
    "indicator revenue money per staff = sum(orders.amount)\n"
    "indicator n count per staff = count(orders)\n"
    "indicator total money = sum(orders.amount)\n"
    "indicator growth ratio per staff = revenue / previous(revenue) - 1\n"
    "indicator yoy ratio = last_year(total) / total\n"
    "indicator age days = days(max(orders.paid_at), period.end)\n"
    "indicator gap count per staff = max(staff.quota - n, 0)\n"
    "indicator low count per staff = min(n, 30)\n"
    "indicator rnd money per staff = round(abs(revenue - 4.5), 2)\n"
    "indicator prev count = distinct(orders.customer_id\n"
    "  where paid_at in previous period or paid_at before period over all time)\n"
    "indicator bounds count = count(orders where paid_at >= period.start and paid_at < period.end\n"
    "  and paid_at <= 2025-12-31 and paid_at > 2020-01-01 and channel != \"x\" and refunded = true)\n"
    "indicator mix count = count(orders where channel in (\"app\", \"web\") and customer_id in loyal)\n"
    "indicator signed money = sum(if orders.refunded then -orders.amount else orders.amount * 1)\n"
    "indicator share percent = 25% * 1\n"
    "indicator plus money per staff = revenue + 1\n"
    "indicator either money per staff = coalesce(revenue, 0)\n"
    "indicator loyal_n count = count(loyal)\n"
    "scale standard { [0%, 100%) -> 0 .. 100  [100%, inf) -> 100 }\n"
    "role sales {\n"
    "  kpi revenue weight 50% target >= previous(revenue) * 110%\n"
    "  kpi n weight 50% target <= 5  points if value >= target then 100 else standard(achievement)\n"
    "  points standard\n"
    "  gate employed > 0 and score >= 0\n"
    "  grades {\n"
    "    A top 20% factor 1.5\n"
    "    B rest    factor 1\n"
    "  }\n"
    "  bonus staff.base_bonus * score / 100 * employed * grade_factor * (1 + percentile)\n"
    "    * (if grade = \"A\" and rank <= 1 then 2 else 1)\n"
    "}\n";

typedef struct kinds_seen {
    bool seen[IR_KIND_COUNT];
    hmap walked;
    const ir_program *ir;
} kinds_seen;

static void see(const ir_node *n, void *ctx);

static void see_agg(kinds_seen *k, const ir_agg *a)
{
    if (!a || hmap_get_or_put(&k->walked, (uint64_t)(uintptr_t)a, 1) != HMAP_NONE) return;
    if (a->arg) see(a->arg, k);
    if (a->where) see(a->where, k);
    if (a->having) see(a->having, k);
    if (a->rows_node) see(a->rows_node, k);
    see_agg(k, a->member_set_agg);
}

static void see(const ir_node *n, void *ctx)
{
    kinds_seen *k = ctx;
    k->seen[n->kind] = true;
    if (n->kind == IR_AGGREGATE || n->kind == IR_IN_SET) see_agg(k, n->u.agg);
    ir_each_child(n, see, ctx);
}

static void test_every_kind(void **state)
{
    (void)state;
    lowered l;
    lower_text(&l, header, every_kind);
    kinds_seen k;
    memset(&k, 0, sizeof k);
    hmap_init(&k.walked);
    for (size_t i = 0; i < l.model->indicators.len; i++)
        see(ir_indicator(l.ir, l.model->indicators.items[i]), &k);
    for (size_t i = 0; i < l.model->sets.len; i++) see_agg(&k, ir_set(l.ir, l.model->sets.items[i]));
    const ast_decl *role = chk_find(l.model, "sales");
    const ir_role_item *items = ir_role(l.ir, role);
    assert_non_null(items);
    for (int i = 0; i < role->u.role.item_count; i++) {
        const ir_node *parts[] = { items[i].weight, items[i].target, items[i].points, items[i].expr };
        for (size_t j = 0; j < 4; j++)
            if (parts[j]) see(parts[j], &k);
    }
    hmap_free(&k.walked);
    for (int kind = 0; kind < IR_KIND_COUNT; kind++) {
        if (kind == IR_NULL) continue; /* only for unresolved nodes */
        if (!k.seen[kind]) fail_msg("no node of kind %s", ir_kind_name((ir_kind)kind));
    }
    lowered_free(&l);
}

/* ---- literals and names -------------------------------------------------------------- */

static void test_literals_and_names(void **state)
{
    (void)state;
    lowered l;
    lower_text(&l, header, every_kind);

    const ir_node *share = body(&l, "share");
    assert_int_equal(share->kind, IR_MUL);
    assert_int_equal(share->a->kind, IR_NUMBER);
    char buf[DEC_FORMAT_SIZE];
    dec_format(share->a->u.number, 2, buf, sizeof buf);
    assert_string_equal(buf, "0.25"); /* a percentage is its fraction */
    assert_int_equal(share->a->dim, DIM_RATIO);

    const ir_node *rnd = body(&l, "rnd");
    assert_int_equal(rnd->kind, IR_ROUND);
    assert_int_equal(rnd->u.places, 2);
    assert_int_equal(rnd->a->kind, IR_ABS);
    assert_int_equal(rnd->a->a->kind, IR_SUB);
    assert_int_equal(rnd->a->a->a->kind, IR_INDICATOR);
    assert_ptr_equal(rnd->a->a->a->u.decl, chk_find(l.model, "revenue"));
    assert_true(rnd->per_staff);
    assert_int_equal(rnd->dim, DIM_MONEY);

    const ir_node *gap = body(&l, "gap");
    assert_int_equal(gap->kind, IR_MAX);
    assert_int_equal(gap->a->a->kind, IR_STAFF_COLUMN);
    assert_ptr_equal(gap->a->a->u.column.source, l.model->roster);
    assert_int_equal(gap->a->a->u.column.type, COLTYPE_INT);

    /* bounds: a date literal decoded, a text literal with its length, a bool */
    ir_agg *bounds = agg_of(&l, "bounds");
    const ir_node *w = bounds->where;
    while (w->kind == IR_AND) w = w->b; /* the last conjunct */
    assert_int_equal(w->kind, IR_EQ);
    assert_int_equal(w->a->kind, IR_COLUMN);
    assert_int_equal(w->a->u.column.type, COLTYPE_BOOL);
    assert_int_equal(w->b->kind, IR_BOOL);
    assert_true(w->b->u.boolean);
    assert_true(bounds->where_uses_period);
    assert_false(bounds->arg_uses_period);

    const ir_node *age = body(&l, "age");
    assert_int_equal(age->kind, IR_DAYS);
    assert_int_equal(age->a->kind, IR_AGGREGATE);
    assert_int_equal(age->a->u.agg->kind, IR_AGG_MAX);
    assert_int_equal(age->a->type, TYPE_DATE);
    assert_int_equal(age->b->kind, IR_PERIOD_END);
    assert_int_equal(age->dim, DIM_DAYS);

    const ir_node *yoy = body(&l, "yoy");
    assert_int_equal(yoy->kind, IR_DIV);
    assert_int_equal(yoy->a->kind, IR_LAST_YEAR);
    assert_int_equal(yoy->a->a->kind, IR_INDICATOR);

    /* the kpi context and a scale */
    const ast_decl *role = chk_find(l.model, "sales");
    const ir_role_item *items = ir_role(l.ir, role);
    const ir_node *points = items[1].points;
    assert_int_equal(points->kind, IR_IF);
    assert_int_equal(points->a->kind, IR_GE);
    assert_int_equal(points->a->a->kind, IR_VALUE);
    assert_int_equal(points->a->b->kind, IR_TARGET);
    assert_int_equal(points->c->kind, IR_SCALE);
    assert_ptr_equal(points->c->u.decl, chk_find(l.model, "standard"));
    assert_int_equal(points->c->a->kind, IR_ACHIEVEMENT);
    assert_int_equal(items[0].target->kind, IR_MUL);
    assert_int_equal(items[0].target->a->kind, IR_PREVIOUS);
    const ir_scale *scale = ir_scale_of(l.ir, chk_find(l.model, "standard"));
    assert_non_null(scale);
    assert_int_equal(scale->row_count, 2);
    assert_true(scale->percent);
    assert_true(scale->rows[0].linear);
    assert_int_equal(scale->rows[1].hi_inf, 1);
    dec_format(scale->rows[0].hi, 2, buf, sizeof buf);
    assert_string_equal(buf, "1.00");

    /* a syntax node maps to its lowered node */
    const ast_decl *total = chk_find(l.model, "total");
    assert_ptr_equal(ir_of(l.ir, total->u.indicator.expr), body(&l, "total"));
    assert_ptr_equal(lower_expr(l.ir, total->u.indicator.expr), body(&l, "total"));
    lowered_free(&l);
}

/* ---- interning ----------------------------------------------------------------------- */

static void test_interning(void **state)
{
    (void)state;
    lowered l;
    lower_text(&l, header, "indicator a money = sum(orders.amount)\n"
                   "indicator b money = sum(orders.amount) * 2\n"
                   "indicator c money = 1 + sum(orders.amount)\n"
                   "indicator d money = sum(orders.amount) / 2\n"
                   "indicator e money = -sum(orders.amount)\n"
                   "indicator refunds money = sum(orders.amount where refunded)\n"
                   "indicator refunds2 money = sum(orders.amount where orders.refunded)\n"
                   "indicator all_time money = sum(orders.amount over all time)\n"
                   "indicator last3 money = sum(orders.amount over last 3 months)\n"
                   "indicator last3w money = sum(orders.amount over last 3 weeks)\n"
                   "indicator refund_n count = count(orders where refunded)\n"
                   "indicator big count = count(orders where amount >= 1000)\n"
                   "indicator big2 count = count(orders where amount >= 1000.0)\n");
    ir_agg *sum = agg_of(&l, "a");
    assert_int_equal(sum->kind, IR_AGG_SUM);
    assert_int_equal(sum->arg->kind, IR_COLUMN);
    assert_ptr_equal(body(&l, "b")->a->u.agg, sum);
    assert_ptr_equal(body(&l, "c")->b->u.agg, sum);
    assert_ptr_equal(body(&l, "d")->a->u.agg, sum);
    assert_ptr_equal(body(&l, "e")->a->u.agg, sum);
    ir_agg *refunds = agg_of(&l, "refunds");
    assert_ptr_not_equal(refunds, sum);
    assert_ptr_equal(agg_of(&l, "refunds2"), refunds); /* bare or qualified column */
    assert_ptr_not_equal(agg_of(&l, "all_time"), sum);
    assert_int_equal(agg_of(&l, "all_time")->window.kind, WINDOW_ALL_TIME);
    ir_agg *last3 = agg_of(&l, "last3");
    assert_int_equal(last3->window.kind, WINDOW_LAST);
    assert_int_equal(last3->window.count, 3);
    assert_int_equal(last3->window.unit, WINDOW_MONTHS);
    assert_ptr_not_equal(agg_of(&l, "last3w"), last3);
    assert_ptr_equal(agg_of(&l, "big2"), agg_of(&l, "big")); /* equal values */
    /* the rows of an aggregate: the interned count with its where and window */
    ir_agg *refund_n = agg_of(&l, "refund_n");
    assert_ptr_equal(refunds->rows, refund_n);
    assert_ptr_equal(refund_n->rows, refund_n);
    assert_int_equal(sum->rows->kind, IR_AGG_COUNT);
    assert_null(sum->rows->where);
    assert_int_equal(sum->rows_node->kind, IR_ROWS);
    assert_ptr_equal(sum->rows_node->u.agg, sum);
    assert_int_equal(sum->key_family, -1);
    /* ids are the index in aggs */
    for (size_t i = 0; i < l.ir->aggs.len; i++) assert_int_equal(((ir_agg *)l.ir->aggs.items[i])->id, (int)i);
    assert_true(l.ir->lowered_calls >= 13);
    lowered_free(&l);
}

/* One lowering per spec: ir_program_of lowers on its first call and hands every later
 * consumer (the ceiling check, each run, doc, sql) that same program, which lives and
 * dies with the spec. */
static void test_program_of_spec(void **state)
{
    (void)state;
    lowered l;
    lower_text(&l, header, "indicator a money = sum(orders.amount)\n");
    ir_program *first = ir_program_of(l.spec, l.model);
    assert_non_null(first);
    assert_ptr_not_equal(first, l.ir); /* lower_spec itself always lowers anew */
    size_t calls = first->lowered_calls;
    assert_ptr_equal(ir_program_of(l.spec, l.model), first);
    assert_int_equal(first->lowered_calls, calls);
    assert_ptr_equal(ast_spec_attached(l.spec, l.model), first);
    lowered_free(&l); /* frees it: LeakSanitizer would say otherwise */
}

static void test_key_families(void **state)
{
    (void)state;
    lowered l;
    lower_text(&l, header, "set buyers = orders.customer_id where not refunded\n"
                   "set repeat = orders.customer_id where not refunded having count() >= 2\n"
                   "indicator all_buyers count = distinct(orders.customer_id)\n"
                   "indicator repeaters count = distinct(orders.customer_id having count() >= 2)\n"
                   "indicator big count = distinct(orders.customer_id having sum(amount) > 100)\n"
                   "indicator ever count = distinct(orders.customer_id over all time)\n"
                   "indicator kept count = distinct(orders.customer_id where not refunded)\n"
                   "indicator kept_buyers count = distinct(orders.customer_id where customer_id in buyers)\n"
                   "indicator buyers_n count = count(buyers)\n");
    ir_agg *all = agg_of(&l, "all_buyers"), *rep = agg_of(&l, "repeaters"), *big = agg_of(&l, "big");
    assert_ptr_not_equal(all, rep);
    assert_ptr_not_equal(rep, big);
    assert_true(all->key_family >= 0);
    assert_int_equal(rep->key_family, all->key_family);
    assert_int_equal(big->key_family, all->key_family);
    assert_int_not_equal(agg_of(&l, "ever")->key_family, all->key_family);
    /* a set and a distinct() collecting the same keys share a family, not an identity */
    ir_agg *buyers = ir_set(l.ir, chk_find(l.model, "buyers"));
    ir_agg *repeat = ir_set(l.ir, chk_find(l.model, "repeat"));
    assert_int_equal(buyers->kind, IR_AGG_SET);
    assert_ptr_not_equal(agg_of(&l, "kept"), buyers);
    assert_int_equal(agg_of(&l, "kept")->key_family, buyers->key_family);
    assert_int_equal(repeat->key_family, buyers->key_family);
    assert_int_not_equal(buyers->key_family, all->key_family);
    /* having: one slot per group aggregate */
    assert_int_equal(rep->slot_count, 1);
    assert_int_equal(rep->slots[0]->kind, IR_GROUP_AGGREGATE);
    assert_int_equal(rep->slots[0]->u.group.kind, IR_AGG_COUNT);
    assert_int_equal(big->slots[0]->u.group.kind, IR_AGG_SUM);
    assert_int_equal(big->slots[0]->u.group.arg->kind, IR_COLUMN);
    /* count(SET) is the set's aggregate */
    assert_ptr_equal(agg_of(&l, "buyers_n"), buyers);
    /* distinct(S.c where c in SET), SET over S: intersected with SET at the end */
    ir_agg *kb = agg_of(&l, "kept_buyers");
    assert_ptr_equal(kb->member_set, chk_find(l.model, "buyers"));
    assert_ptr_equal(kb->member_set_agg, buyers);
    assert_null(kb->where);
    assert_false(kb->where_uses_period);
    assert_non_null(kb->rows->where); /* the rows it ranged over still pass it */
    assert_int_equal(kb->rows->where->kind, IR_IN_SET);
    lowered_free(&l);
}

static void test_grain(void **state)
{
    (void)state;
    lowered l;
    lower_text(&l, header, "set buyers = orders.customer_id\n"
                   "indicator team money = sum(orders.amount where refunded)\n"
                   "indicator mine money per staff = sum(orders.amount where refunded)\n"
                   "indicator sets count per staff = count(buyers)\n");
    ir_agg *sum = agg_of(&l, "team");
    assert_ptr_equal(agg_of(&l, "mine"), sum);
    assert_true(sum->per_staff); /* one use per staff is enough */
    assert_false(body(&l, "team")->per_staff);
    assert_true(body(&l, "mine")->per_staff);
    assert_true(sum->rows->per_staff);
    assert_true(sum->rows_node->per_staff);
    assert_true(ir_set(l.ir, chk_find(l.model, "buyers"))->per_staff);
    lowered_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind),   cmocka_unit_test(test_literals_and_names),
        cmocka_unit_test(test_interning),    cmocka_unit_test(test_program_of_spec),
        cmocka_unit_test(test_key_families), cmocka_unit_test(test_grain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
