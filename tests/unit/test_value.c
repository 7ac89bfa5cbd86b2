/* Unit tests for value.c: the semantics of every operator on runtime values, which the
 * interpreter, the scorer and explain share (docs/language.md §8.1 for the null rules). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kpic/value.h"

static val_t num(const char *text)
{
    val_t v;
    dec_t d;
    assert_int_equal(dec_parse(text, strlen(text), DEC_PLACES, &d), DEC_OK);
    val_set_num(&v, d);
    return v;
}

static val_t null_value(void)
{
    val_t v;
    val_set_null(&v);
    return v;
}

static val_t boolean(bool b)
{
    val_t v;
    val_set_bool(&v, b);
    return v;
}

static val_t text(const char *s)
{
    val_t v;
    val_set_text(&v, s, strlen(s));
    return v;
}

static val_t date(const char *s)
{
    val_t v;
    date_t d;
    assert_int_equal(date_parse(s, strlen(s), &d), DATE_OK);
    val_set_date(&v, d);
    return v;
}

static void assert_num(const val_t *v, const char *want)
{
    assert_int_equal(v->kind, VAL_NUM);
    char buf[DEC_FORMAT_SIZE];
    dec_format(v->as.num, 2, buf, sizeof buf);
    assert_string_equal(buf, want);
}

static void test_arithmetic(void **state)
{
    (void)state;
    val_t a = num("7.5"), b = num("2"), z = num("0"), n = null_value(), out;
    assert_int_equal(val_arith_op(VAL_ADD, &a, &b, &out), DEC_OK);
    assert_num(&out, "9.50");
    val_arith_op(VAL_SUB, &a, &b, &out);
    assert_num(&out, "5.50");
    val_arith_op(VAL_MUL, &a, &b, &out);
    assert_num(&out, "15.00");
    val_arith_op(VAL_DIV, &a, &b, &out);
    assert_num(&out, "3.75");
    /* division by zero is null, not an error */
    assert_int_equal(val_arith_op(VAL_DIV, &a, &z, &out), DEC_OK);
    assert_int_equal(out.kind, VAL_NULL);
    /* a null operand, or a non-number, gives null */
    val_arith_op(VAL_ADD, &a, &n, &out);
    assert_int_equal(out.kind, VAL_NULL);
    val_t t = text("1");
    val_arith_op(VAL_ADD, &t, &a, &out);
    assert_int_equal(out.kind, VAL_NULL);
    /* leaving the exact range is reported, and the value is null */
    val_t big = num("170141183460469231731");
    assert_int_equal(val_arith_op(VAL_MUL, &big, &b, &out), DEC_OVERFLOW);
    assert_int_equal(out.kind, VAL_NULL);
    val_neg(&a, &out);
    assert_num(&out, "-7.50");
    val_neg(&n, &out);
    assert_int_equal(out.kind, VAL_NULL);
}

static void test_comparisons(void **state)
{
    (void)state;
    val_t out;
    bool ok;
    val_t ab = text("ab"), abc = text("abc"), b = text("b");
    assert_int_equal(val_compare(&ab, &abc, &ok), -1); /* a prefix comes first */
    assert_true(ok);
    assert_int_equal(val_compare(&b, &abc, &ok), 1);
    val_t one = num("1"), one0 = num("1.0"), n = null_value();
    assert_int_equal(val_compare(&one, &one0, &ok), 0);
    assert_true(ok);
    val_compare(&one, &ab, &ok); /* kinds differ */
    assert_false(ok);
    val_compare(&n, &n, &ok); /* null is not comparable */
    assert_false(ok);
    val_compare_op(VAL_LE, &one, &one0, &out);
    assert_true(out.kind == VAL_BOOL && out.as.b);
    val_compare_op(VAL_NE, &one, &one0, &out);
    assert_true(out.kind == VAL_BOOL && !out.as.b);
    val_compare_op(VAL_EQ, &one, &n, &out);
    assert_int_equal(out.kind, VAL_NULL);
    val_t d1 = date("2025-05-01"), d2 = date("2025-05-31");
    val_compare_op(VAL_LT, &d1, &d2, &out);
    assert_true(out.kind == VAL_BOOL && out.as.b);
    val_t f = boolean(false), t = boolean(true);
    assert_int_equal(val_compare(&f, &t, &ok), -1);
    /* equality without ordering: texts of one length, first byte or none differ */
    val_t web = text("web"), wex = text("wex"), app = text("app"), empty = text(""), empty2 = text("");
    val_t web2 = text("web");
    assert_true(val_equal(&web, &web2, &ok) && ok);
    assert_false(val_equal(&web, &wex, &ok));
    assert_true(ok);
    assert_false(val_equal(&web, &app, &ok));
    assert_false(val_equal(&ab, &abc, &ok));
    assert_true(val_equal(&empty, &empty2, &ok) && ok);
    assert_false(val_equal(&empty, &ab, &ok));
    assert_true(val_equal(&one, &one0, &ok) && ok);
    assert_false(val_equal(&one, &ab, &ok)); /* kinds differ */
    assert_false(ok);
    assert_false(val_equal(&n, &n, &ok));
    assert_false(ok);
    val_compare_op(VAL_EQ, &web, &web2, &out);
    assert_true(out.kind == VAL_BOOL && out.as.b);
    val_compare_op(VAL_NE, &web, &wex, &out);
    assert_true(out.kind == VAL_BOOL && out.as.b);
    val_compare_op(VAL_NE, &web, &n, &out);
    assert_int_equal(out.kind, VAL_NULL);
    val_compare_op(VAL_NE, &one, &ab, &out);
    assert_int_equal(out.kind, VAL_NULL);
}

/* SQL's three-valued and/or: every pair of true, false and null. */
static void test_logic(void **state)
{
    (void)state;
    val_t v[3] = { boolean(true), boolean(false), null_value() };
    /* expected: 1 true, 0 false, -1 null; [a][b] */
    const int and_table[3][3] = { { 1, 0, -1 }, { 0, 0, 0 }, { -1, 0, -1 } };
    const int or_table[3][3] = { { 1, 1, 1 }, { 1, 0, -1 }, { 1, -1, -1 } };
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            for (int is_or = 0; is_or <= 1; is_or++) {
                val_t out;
                val_logic(is_or, &v[i], &v[j], &out);
                int want = is_or ? or_table[i][j] : and_table[i][j];
                int got = out.kind == VAL_NULL ? -1 : out.as.b;
                if (got != want) fail_msg("%s[%d][%d] = %d, want %d", is_or ? "or" : "and", i, j, got, want);
            }
    assert_true(val_decides(false, &v[1])); /* false and … */
    assert_true(val_decides(true, &v[0]));  /* true or … */
    assert_false(val_decides(false, &v[2]));
    val_t out;
    val_not(&v[2], &out);
    assert_int_equal(out.kind, VAL_NULL);
    val_not(&v[0], &out);
    assert_true(out.kind == VAL_BOOL && !out.as.b);
}

static void test_functions(void **state)
{
    (void)state;
    val_t out, n = null_value();
    val_t d1 = date("2025-05-03"), d2 = date("2025-06-01");
    val_days(&d1, &d2, &out);
    assert_num(&out, "29.00");
    val_days(&d2, &d1, &out);
    assert_num(&out, "-29.00");
    val_days(&d1, &n, &out);
    assert_int_equal(out.kind, VAL_NULL);
    val_t h = num("2.5"), mh = num("-2.5"), x = num("1.005");
    val_round(&h, 0, &out);
    assert_num(&out, "3.00"); /* half away from zero */
    val_round(&mh, 0, &out);
    assert_num(&out, "-3.00");
    val_round(&x, 2, &out);
    assert_num(&out, "1.01");
    val_abs(&mh, &out);
    assert_num(&out, "2.50");
    val_min_max(false, &h, &mh, &out);
    assert_num(&out, "-2.50");
    val_min_max(true, &h, &mh, &out);
    assert_num(&out, "2.50");
    val_min_max(true, &h, &n, &out);
    assert_int_equal(out.kind, VAL_NULL);
    val_min_max(false, &d1, &d2, &out);
    assert_true(out.kind == VAL_DATE && out.as.date == d1.as.date);
}

static void test_coalesce(void **state)
{
    (void)state;
    val_t out, n = null_value(), a = num("5"), b = num("7"), t = text("shop");
    val_coalesce(&a, &b, &out);
    assert_num(&out, "5.00");
    val_coalesce(&n, &b, &out);
    assert_num(&out, "7.00");
    val_coalesce(&n, &n, &out);
    assert_int_equal(out.kind, VAL_NULL);
    val_coalesce(&n, &t, &out);
    assert_int_equal(out.kind, VAL_TEXT);
    assert_int_equal(out.as.text.len, 4);
    val_t f = boolean(false);
    val_coalesce(&f, &n, &out); /* false is a value */
    assert_true(out.kind == VAL_BOOL && !out.as.b);
}

/* x in (items): null when x is null; true on a match; else null if an item was null. */
static bool feed(const val_t *x, const val_t *items, size_t count, val_t *out)
{
    val_in_start(x, out);
    if (x->kind == VAL_NULL) return false;
    bool saw_null = false;
    for (size_t i = 0; i < count; i++)
        if (val_in_item(x, &items[i], &saw_null, out)) return true;
    val_in_end(x, saw_null, out);
    return false;
}

static void test_in_list(void **state)
{
    (void)state;
    val_t out, app = text("app"), x = text("x"), n = null_value();
    val_t items[] = { text("web"), null_value(), text("app") };
    assert_true(feed(&app, items, 3, &out));
    assert_true(out.kind == VAL_BOOL && out.as.b);
    feed(&x, items, 3, &out);
    assert_int_equal(out.kind, VAL_NULL); /* no match, a null item */
    feed(&x, items, 1, &out);
    assert_true(out.kind == VAL_BOOL && !out.as.b);
    feed(&n, items, 3, &out);
    assert_int_equal(out.kind, VAL_NULL);
}

static void test_keys_and_conversions(void **state)
{
    (void)state;
    unsigned char buf[sizeof(dec_t)], buf2[sizeof(dec_t)];
    const void *k1, *k2;
    val_t one = num("1"), one0 = num("1.00"), t = text("abc");
    size_t l1 = val_key(&one, buf, &k1), l2 = val_key(&one0, buf2, &k2);
    assert_int_equal(l1, l2);
    assert_memory_equal(k1, k2, l1); /* equal numbers, equal keys */
    assert_int_equal(val_key(&t, buf, &k1), 3);
    assert_ptr_equal(k1, t.as.text.ptr);
    eval_value e = eval_num(one.as.num);
    val_t back;
    val_from_eval(&e, &back);
    assert_num(&back, "1.00");
    eval_value s = val_to_eval(&t);
    assert_int_equal(s.kind, VAL_TEXT);
    assert_string_equal(s.as.text, "abc");
    val_from_eval(&s, &back);
    assert_int_equal(back.as.text.len, 3);
}

/* The text of a value for people (value.c's eval_format_value), one case per unit. */
static void test_text(void **state)
{
    (void)state;
    char buf[VAL_NUMBER_TEXT_SIZE];
    val_t money = num("-1234.005"), pct = num("0.3333"), plain = num("3.00");
    eval_format_value(val_to_eval(&money), UNIT_MONEY, buf, sizeof buf);
    assert_string_equal(buf, "-1,234.01"); /* half away from zero */
    eval_format_value(val_to_eval(&pct), UNIT_PERCENT, buf, sizeof buf);
    assert_string_equal(buf, "33.3%");
    eval_format_value(val_to_eval(&plain), UNIT_COUNT, buf, sizeof buf);
    assert_string_equal(buf, "3");
    eval_format_value(eval_null(), UNIT_MONEY, buf, sizeof buf);
    assert_string_equal(buf, "n/a");
    val_t d = date("2025-05-01");
    eval_format_value(val_to_eval(&d), UNIT_NUMBER, buf, sizeof buf);
    assert_string_equal(buf, "2025-05-01");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arithmetic),
        cmocka_unit_test(test_comparisons),
        cmocka_unit_test(test_logic),
        cmocka_unit_test(test_functions),
        cmocka_unit_test(test_coalesce),
        cmocka_unit_test(test_in_list),
        cmocka_unit_test(test_keys_and_conversions),
        cmocka_unit_test(test_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
