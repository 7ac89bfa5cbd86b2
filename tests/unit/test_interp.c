/* Unit tests for the IR interpreter (interp.c) with leaves of the test's own: the cells
 * of a row, the order and laziness of evaluation (and/or, if, coalesce), shifts in
 * time, set membership, overflow reporting, and interp_true against interp_eval on the
 * shapes of a where. The evaluator supplies the same leaves from its session; the
 * golden tests cover that side. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kpic/interp.h"

static arena mem;

static ir_node *node(ir_kind kind, ir_node *a, ir_node *b)
{
    ir_node *n = arena_alloc(&mem, sizeof *n);
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->a = a;
    n->b = b;
    return n;
}

static ir_node *number(const char *text)
{
    ir_node *n = node(IR_NUMBER, NULL, NULL);
    assert_int_equal(dec_parse(text, strlen(text), DEC_PLACES, &n->u.number), DEC_OK);
    return n;
}

static ir_node *string(const char *text)
{
    ir_node *n = node(IR_TEXT, NULL, NULL);
    n->u.text.text = text;
    n->u.text.text_len = strlen(text);
    return n;
}

/* ---- leaves that record what they were asked ---------------------------------------- */

typedef struct calls {
    int indicator, aggregate, in_set, overflow, context;
    period_t last_period;
    val_t last_key;
} calls;

static void leaf_indicator(const interp_env *env, const ast_decl *indicator, val_t *out)
{
    (void)indicator;
    calls *c = env->ctx;
    c->indicator++;
    c->last_period = env->period;
    val_set_num(out, dec_from_int64(42));
}

static void leaf_aggregate(const interp_env *env, const ir_node *n, val_t *out)
{
    (void)n;
    (void)out; /* an aggregate over no rows: null */
    ((calls *)env->ctx)->aggregate++;
}

static bool leaf_in_set(const interp_env *env, const ir_agg *set, const val_t *x)
{
    (void)set;
    calls *c = env->ctx;
    c->in_set++;
    c->last_key = *x;
    return x->kind == VAL_TEXT && x->as.text.len == 3;
}

static void leaf_overflow(const interp_env *env, const ir_node *n)
{
    (void)n;
    ((calls *)env->ctx)->overflow++;
}

static void leaf_context(const interp_env *env, ir_kind which, val_t *out)
{
    calls *c = env->ctx;
    c->context++;
    if (which == IR_VALUE) val_set_num(out, dec_from_int64(7));
}

static const interp_leaves leaves = {
    .indicator = leaf_indicator,
    .aggregate = leaf_aggregate,
    .in_set = leaf_in_set,
    .overflow = leaf_overflow,
    .context = leaf_context,
};

static period_t may(void)
{
    period_t p;
    char msg[PERIOD_MESSAGE_SIZE];
    assert_int_equal(period_parse("2025-05", 7, GRAIN_MONTH, &p, msg, sizeof msg), PERIOD_OK);
    return p;
}

static interp_env env_of(calls *c)
{
    memset(c, 0, sizeof *c);
    interp_env env = { .leaves = &leaves, .ctx = c, .period = may(), .group = -1 };
    return env;
}

/* ---- tests ------------------------------------------------------------------------- */

static void test_row_cells(void **state)
{
    (void)state;
    ast_decl orders, other;
    memset(&orders, 0, sizeof orders);
    memset(&other, 0, sizeof other);
    csvr_cell cells[2];
    memset(cells, 0, sizeof cells);
    assert_int_equal(dec_parse("120.50", 6, DEC_PLACES, &cells[0].as.dec), DEC_OK);
    cells[1].as.text = (csvr_text){ "web", 3 };
    ir_node *amount = node(IR_COLUMN, NULL, NULL);
    amount->u.column.source = &orders;
    amount->u.column.index = 0;
    amount->u.column.type = COLTYPE_MONEY;
    ir_node *channel = node(IR_COLUMN, NULL, NULL);
    channel->u.column.source = &orders;
    channel->u.column.index = 1;
    channel->u.column.type = COLTYPE_TEXT;
    /* amount >= 100 and channel = "web" */
    ir_node *cond = node(IR_AND, node(IR_GE, amount, number("100")), node(IR_EQ, channel, string("web")));
    calls c;
    interp_env env = env_of(&c);
    env.cells = cells;
    env.source = &orders;
    assert_true(interp_true(&env, cond));
    cells[1].is_null = true; /* null = "web" is null: the row fails */
    assert_false(interp_true(&env, cond));
    val_t v;
    interp_eval(&env, channel, &v);
    assert_int_equal(v.kind, VAL_NULL);
    env.source = &other; /* another source's row: no cell */
    interp_eval(&env, amount, &v);
    assert_int_equal(v.kind, VAL_NULL);
    assert_true(interp_true(&env, NULL)); /* no condition: every row */
}

static void test_laziness(void **state)
{
    (void)state;
    calls c;
    interp_env env = env_of(&c);
    val_t v;
    ir_node *f = node(IR_BOOL, NULL, NULL), *ind = node(IR_INDICATOR, NULL, NULL);
    /* false and X: X is not evaluated; true or X neither */
    interp_eval(&env, node(IR_AND, f, node(IR_GT, ind, number("1"))), &v);
    assert_true(v.kind == VAL_BOOL && !v.as.b);
    ir_node *t = node(IR_BOOL, NULL, NULL);
    t->u.boolean = true;
    interp_eval(&env, node(IR_OR, t, node(IR_GT, ind, number("1"))), &v);
    assert_true(v.kind == VAL_BOOL && v.as.b);
    assert_int_equal(c.indicator, 0);
    /* coalesce(a, b): b only when a is null */
    interp_eval(&env, node(IR_COALESCE, number("5"), ind), &v);
    assert_int_equal(c.indicator, 0);
    assert_int_equal(dec_cmp(v.as.num, dec_from_int64(5)), 0);
    ir_node *agg = node(IR_AGGREGATE, NULL, NULL);
    interp_eval(&env, node(IR_COALESCE, agg, ind), &v);
    assert_int_equal(c.aggregate, 1);
    assert_int_equal(c.indicator, 1);
    assert_int_equal(dec_cmp(v.as.num, dec_from_int64(42)), 0);
    /* if with a null condition takes the else branch, and only it */
    ir_node *iff = node(IR_IF, agg, ind);
    iff->c = number("9");
    interp_eval(&env, iff, &v);
    assert_int_equal(c.indicator, 1);
    assert_int_equal(dec_cmp(v.as.num, dec_from_int64(9)), 0);
}

static void test_shifts(void **state)
{
    (void)state;
    calls c;
    interp_env env = env_of(&c);
    val_t v;
    ir_node *ind = node(IR_INDICATOR, NULL, NULL);
    char label[PERIOD_LABEL_SIZE];
    interp_eval(&env, node(IR_PREVIOUS, ind, NULL), &v);
    period_format(c.last_period, label, sizeof label);
    assert_string_equal(label, "2025-04");
    interp_eval(&env, node(IR_LAST_YEAR, node(IR_PREVIOUS, ind, NULL), NULL), &v);
    period_format(c.last_period, label, sizeof label);
    assert_string_equal(label, "2024-04");
    /* the environment itself is not moved */
    interp_eval(&env, node(IR_PERIOD_START, NULL, NULL), &v);
    assert_int_equal(v.as.date, may().start);
    /* `x in period` against the (shifted) period */
    ir_node *start = node(IR_PERIOD_START, NULL, NULL);
    interp_eval(&env, node(IR_PREVIOUS, node(IR_IN_PREVIOUS_PERIOD, start, NULL), NULL), &v);
    assert_true(v.kind == VAL_BOOL && !v.as.b); /* April 1st is not in March */
    interp_eval(&env, node(IR_IN_PERIOD, start, NULL), &v);
    assert_true(v.kind == VAL_BOOL && v.as.b);
}

static void test_sets_context_and_overflow(void **state)
{
    (void)state;
    calls c;
    interp_env env = env_of(&c);
    val_t v;
    ir_node *agg = node(IR_AGGREGATE, NULL, NULL);
    interp_eval(&env, node(IR_IN_SET, agg, NULL), &v); /* null in SET: null, no lookup */
    assert_int_equal(v.kind, VAL_NULL);
    assert_int_equal(c.in_set, 0);
    interp_eval(&env, node(IR_IN_SET, string("abc"), NULL), &v);
    assert_true(v.kind == VAL_BOOL && v.as.b);
    assert_int_equal(c.in_set, 1);
    assert_int_equal(c.last_key.as.text.len, 3);
    interp_eval(&env, node(IR_MUL, node(IR_VALUE, NULL, NULL), number("2")), &v);
    assert_int_equal(dec_cmp(v.as.num, dec_from_int64(14)), 0);
    interp_eval(&env, node(IR_TARGET, NULL, NULL), &v);
    assert_int_equal(v.kind, VAL_NULL);
    assert_int_equal(c.context, 2);
    ir_node *big = number("170141183460469231731");
    interp_eval(&env, node(IR_ADD, big, big), &v);
    assert_int_equal(v.kind, VAL_NULL);
    assert_int_equal(c.overflow, 1);
    interp_eval(&env, node(IR_DIV, big, number("0")), &v); /* null, not an overflow */
    assert_int_equal(c.overflow, 1);
    /* a leaf the environment does not supply gives null */
    interp_eval(&env, node(IR_STAFF_COLUMN, NULL, NULL), &v);
    assert_int_equal(v.kind, VAL_NULL);
}

static int setup(void **state)
{
    (void)state;
    arena_init(&mem);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    arena_free(&mem);
    return 0;
}

/* interp_true decides a where without making a value for each node: over every
 * combination of not, and, or and comparisons (to two levels) of boolean cells (true,
 * false, null), a text cell, constants and a leaf that counts its calls, it agrees
 * with interp_eval's value and asks the leaves exactly what interp_eval asks. */
static void test_where_shapes(void **state)
{
    (void)state;
    ast_decl orders;
    memset(&orders, 0, sizeof orders);
    csvr_cell cells[4];
    memset(cells, 0, sizeof cells);
    cells[0].as.b = true;
    cells[1].as.b = false;
    cells[2].is_null = true;
    cells[3].as.text = (csvr_text){ "web", 3 };
    ir_node *leaf[8];
    size_t n_leaf = 0;
    for (int i = 0; i < 3; i++) {
        ir_node *col = node(IR_COLUMN, NULL, NULL);
        col->u.column.source = &orders;
        col->u.column.index = i;
        col->u.column.type = COLTYPE_BOOL;
        leaf[n_leaf++] = col;
    }
    ir_node *channel = node(IR_COLUMN, NULL, NULL);
    channel->u.column.source = &orders;
    channel->u.column.index = 3;
    channel->u.column.type = COLTYPE_TEXT;
    leaf[n_leaf++] = node(IR_EQ, channel, string("web"));
    leaf[n_leaf++] = node(IR_NE, channel, string("app"));
    leaf[n_leaf++] = node(IR_LT, channel, number("1")); /* kinds differ: null */
    /* 42 > 1 through a leaf that counts its calls, and an aggregate over no rows (null) */
    leaf[n_leaf++] = node(IR_GT, node(IR_INDICATOR, NULL, NULL), number("1"));
    leaf[n_leaf++] = node(IR_GE, node(IR_AGGREGATE, NULL, NULL), number("0"));
    static const ir_kind joins[] = { IR_AND, IR_OR };
    ir_node *one[8 + 8 + 2 * 8 * 8];
    size_t n_one = 0;
    for (size_t i = 0; i < n_leaf; i++) {
        one[n_one++] = leaf[i];
        one[n_one++] = node(IR_NOT, leaf[i], NULL);
    }
    for (size_t j = 0; j < 2; j++)
        for (size_t a = 0; a < n_leaf; a++)
            for (size_t b = 0; b < n_leaf; b++) one[n_one++] = node(joins[j], leaf[a], leaf[b]);
    size_t checked = 0;
    for (size_t j = 0; j < 2; j++)
        for (size_t a = 0; a < n_one; a += 7)
            for (size_t b = 0; b < n_one; b += 5) {
                ir_node *shapes[] = { node(joins[j], one[a], one[b]),
                                      node(IR_NOT, node(joins[j], one[a], one[b]), NULL), one[a] };
                for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
                    calls by_eval, by_true;
                    interp_env env = env_of(&by_eval);
                    env.cells = cells;
                    env.source = &orders;
                    val_t v;
                    interp_eval(&env, shapes[k], &v);
                    bool want = v.kind == VAL_BOOL && v.as.b;
                    interp_env env2 = env_of(&by_true);
                    env2.cells = cells;
                    env2.source = &orders;
                    assert_int_equal(interp_true(&env2, shapes[k]), want);
                    assert_int_equal(by_true.indicator, by_eval.indicator);
                    assert_int_equal(by_true.aggregate, by_eval.aggregate);
                    checked++;
                }
            }
    assert_true(checked > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_row_cells),    cmocka_unit_test(test_laziness),
        cmocka_unit_test(test_shifts),       cmocka_unit_test(test_sets_context_and_overflow),
        cmocka_unit_test(test_where_shapes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
