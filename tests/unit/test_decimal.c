/* test_decimal.c -- unit tests for decimal.h: parsing, formatting, exact
 * arithmetic, rounding half away from zero and overflow detection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kpic/decimal.h"

/* Parses TEXT with MAX_PLACES, asserting success. */
static dec_t num(const char *text, unsigned max_places)
{
    dec_t v;
    assert_int_equal(dec_parse(text, strlen(text), max_places, &v), DEC_OK);
    return v;
}

static dec_t d18(const char *text)
{
    return num(text, DEC_PLACES);
}

/* Asserts that V formatted to PLACES is EXPECTED. */
static void assert_format(dec_t v, unsigned places, const char *expected)
{
    char buf[DEC_FORMAT_SIZE];
    size_t n = dec_format(v, places, buf, sizeof buf);
    assert_string_equal(buf, expected);
    assert_int_equal(n, strlen(expected));
}

static dec_status parse_status(const char *text, unsigned max_places)
{
    dec_t v;
    return dec_parse(text, strlen(text), max_places, &v);
}

static void test_parse_accepts_plain_decimals(void **state)
{
    (void)state;
    assert_format(d18("0"), 2, "0.00");
    assert_format(d18("-0"), 0, "0");
    assert_format(d18("+1.5"), 1, "1.5");
    assert_format(d18("1."), 1, "1.0");
    assert_format(d18(".5"), 2, "0.50");
    assert_format(d18("-.5"), 1, "-0.5");
    assert_format(d18("007.25"), 2, "7.25");
    assert_format(d18("0.000000000000000001"), 18, "0.000000000000000001");
    assert_format(d18("1.000000000000000000000000"), 0, "1");
    assert_format(num("12.300", 2), 2, "12.30");
    assert_format(num("12.3", 2), 2, "12.30");
    assert_int_equal(dec_sign(d18("-0")), 0);
    /* Longer than 19 characters: the 128-bit path. */
    assert_format(d18("123456789012345678901.5"), 1, "123456789012345678901.5");
    assert_format(d18("0000000000000000000000000000001.25"), 2, "1.25");
    assert_format(d18("-98765432109876543210.123456789012345678"), 18,
                  "-98765432109876543210.123456789012345678");
}

static void test_parse_rejects_everything_else(void **state)
{
    (void)state;
    const char *bad[] = { "",   "-",   "+",   ".",    "-.",    "1,234", "1 234", " 1",
                          "1 ", "1e5", "1E5", "0x10", "1.2.3", "--1",   "+-1",   "1-",
                          "١٢", "12a", "a12", "1.5.", "inf",   "nan",   "\t1",   "1_000" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(parse_status(bad[i], DEC_PLACES), DEC_SYNTAX);
    /* Embedded NUL: the length, not the terminator, delimits the text. */
    dec_t v;
    assert_int_equal(dec_parse("1\0"
                               "2",
                               3, 2, &v),
                     DEC_SYNTAX);
}

static void test_parse_places_limit(void **state)
{
    (void)state;
    assert_int_equal(parse_status("12.345", 2), DEC_TOO_PRECISE);
    assert_int_equal(parse_status("12.3450", 2), DEC_TOO_PRECISE);
    assert_int_equal(parse_status("12.340000", 2), DEC_OK);
    assert_int_equal(parse_status("5.1", 0), DEC_TOO_PRECISE);
    assert_int_equal(parse_status("5.0", 0), DEC_OK);
    assert_int_equal(parse_status("0.0000000000000000001", DEC_PLACES), DEC_TOO_PRECISE);
    assert_int_equal(parse_status("0.00000000000000000010000", DEC_PLACES), DEC_TOO_PRECISE);
    assert_int_equal(parse_status("0.1000000000000000000000", DEC_PLACES), DEC_OK);
}

static void test_parse_range(void **state)
{
    (void)state;
    const char *max = "170141183460469231731.687303715884105727";
    assert_format(d18(max), 18, max);
    assert_format(d18("-170141183460469231731.687303715884105727"), 18,
                  "-170141183460469231731.687303715884105727");
    assert_int_equal(parse_status("170141183460469231731.687303715884105728", 18), DEC_OVERFLOW);
    assert_int_equal(parse_status("-170141183460469231731.687303715884105728", 18), DEC_OVERFLOW);
    assert_int_equal(parse_status("170141183460469231732", 18), DEC_OVERFLOW);
    assert_int_equal(parse_status("99999999999999999999999999999999999999999999", 18), DEC_OVERFLOW);
    assert_int_equal(parse_status("100000000000000000000", 2), DEC_OK);
}

static void test_format_rounds_half_away_from_zero(void **state)
{
    (void)state;
    assert_format(d18("3410.275"), 2, "3410.28");
    assert_format(d18("-3410.275"), 2, "-3410.28");
    assert_format(d18("3410.2749999"), 2, "3410.27");
    assert_format(d18("2.5"), 0, "3");
    assert_format(d18("-2.5"), 0, "-3");
    assert_format(d18("0.5"), 0, "1");
    assert_format(d18("-0.001"), 2, "0.00");
    assert_format(d18("0.05"), 1, "0.1");
    assert_format(d18("1234.5"), 2, "1234.50");
    assert_format(d18("0.000000000000000005"), 17, "0.00000000000000001");
    /* Rounding the largest value up needs one more digit than it has. */
    assert_format(d18("170141183460469231731.687303715884105727"), 0, "170141183460469231732");
    /* Truncation reports the full length, like snprintf. */
    char small[4];
    assert_int_equal(dec_format(d18("123.45"), 2, small, sizeof small), 6);
    assert_string_equal(small, "123");
}

static void test_round(void **state)
{
    (void)state;
    dec_t r;
    assert_int_equal(dec_round(d18("3410.275"), 2, &r), DEC_OK);
    assert_int_equal(dec_cmp(r, d18("3410.28")), 0);
    assert_int_equal(dec_round(d18("-2.5"), 0, &r), DEC_OK);
    assert_int_equal(dec_cmp(r, d18("-3")), 0);
    assert_int_equal(dec_round(d18("2.4999999999"), 0, &r), DEC_OK);
    assert_int_equal(dec_cmp(r, d18("2")), 0);
    assert_int_equal(dec_round(d18("-0.004"), 2, &r), DEC_OK);
    assert_int_equal(dec_sign(r), 0);
    assert_int_equal(dec_round(d18("1.23"), 18, &r), DEC_OK);
    assert_int_equal(dec_cmp(r, d18("1.23")), 0);
    assert_int_equal(dec_round(d18("170141183460469231731.687303715884105727"), 0, &r), DEC_OVERFLOW);
    assert_int_equal(dec_round(d18("170141183460469231731.4"), 0, &r), DEC_OK);
    assert_format(r, 0, "170141183460469231731");
}

static void test_add_sub_overflow(void **state)
{
    (void)state;
    dec_t max = d18("170141183460469231731.687303715884105727");
    dec_t min = dec_neg(max);
    dec_t tiny = d18("0.000000000000000001");
    dec_t r;
    assert_int_equal(dec_add(d18("0.1"), d18("0.2"), &r), DEC_OK);
    assert_int_equal(dec_cmp(r, d18("0.3")), 0);
    assert_int_equal(dec_sub(d18("1"), d18("3.5"), &r), DEC_OK);
    assert_format(r, 1, "-2.5");
    assert_int_equal(dec_add(max, tiny, &r), DEC_OVERFLOW);
    assert_int_equal(dec_sub(min, tiny, &r), DEC_OVERFLOW);
    assert_int_equal(dec_add(min, dec_neg(tiny), &r), DEC_OVERFLOW);
    assert_int_equal(dec_add(max, min, &r), DEC_OK);
    assert_int_equal(dec_sign(r), 0);
    assert_int_equal(dec_add(max, max, &r), DEC_OVERFLOW);
    assert_int_equal(dec_add(min, min, &r), DEC_OVERFLOW);
    assert_int_equal(dec_sub(max, min, &r), DEC_OVERFLOW);
    assert_int_equal(dec_sub(max, tiny, &r), DEC_OK);
    /* Negation and abs never overflow: the range is symmetric. */
    assert_int_equal(dec_cmp(dec_abs(min), max), 0);
}

static void test_mul(void **state)
{
    (void)state;
    dec_t r;
    assert_int_equal(dec_mul(d18("2.5"), d18("2.5"), &r), DEC_OK);
    assert_format(r, 2, "6.25");
    assert_int_equal(dec_mul(d18("-1.5"), d18("2"), &r), DEC_OK);
    assert_format(r, 0, "-3");
    /* 1e12 money x a ratio with 18 digits: exact, the product needs 256 bits. */
    assert_int_equal(dec_mul(d18("1000000000000"), d18("0.123456789012345678"), &r), DEC_OK);
    assert_format(r, 18, "123456789012.345678000000000000");
    assert_int_equal(dec_mul(d18("123456789.12"), d18("0.987654321987654321"), &r), DEC_OK);
    /* Exactly 121932631.35308641875115378752, rounded at 18 places. */
    assert_format(r, 18, "121932631.353086418751153788");
    /* The exact product is rounded half away from zero at 18 places. */
    assert_int_equal(dec_mul(d18("0.000000000000000001"), d18("0.5"), &r), DEC_OK);
    assert_format(r, 18, "0.000000000000000001");
    assert_int_equal(dec_mul(d18("-0.000000000000000001"), d18("0.5"), &r), DEC_OK);
    assert_format(r, 18, "-0.000000000000000001");
    assert_int_equal(dec_mul(d18("0.000000000000000001"), d18("0.4"), &r), DEC_OK);
    assert_int_equal(dec_sign(r), 0);
    assert_int_equal(dec_mul(d18("100000000000000000000"), d18("10"), &r), DEC_OVERFLOW);
    assert_int_equal(dec_mul(d18("-100000000000000000000"), d18("2"), &r), DEC_OVERFLOW);
    assert_int_equal(dec_mul(d18("13043817825332782212"), d18("13043817825332782212"), &r), DEC_OVERFLOW);
    assert_int_equal(dec_mul(d18("0"), d18("170141183460469231731"), &r), DEC_OK);
    assert_int_equal(dec_sign(r), 0);
}

static void test_div(void **state)
{
    (void)state;
    dec_t r;
    assert_int_equal(dec_div(d18("1"), d18("3"), 18, &r), DEC_OK);
    assert_format(r, 18, "0.333333333333333333");
    assert_int_equal(dec_div(d18("2"), d18("3"), 18, &r), DEC_OK);
    assert_format(r, 18, "0.666666666666666667");
    assert_int_equal(dec_div(d18("-2"), d18("3"), 4, &r), DEC_OK);
    assert_format(r, 18, "-0.666700000000000000");
    assert_int_equal(dec_div(d18("10"), d18("4"), 0, &r), DEC_OK);
    assert_format(r, 0, "3");
    assert_int_equal(dec_div(d18("-10"), d18("4"), 0, &r), DEC_OK);
    assert_format(r, 0, "-3");
    assert_int_equal(dec_div(d18("10"), d18("-4"), 1, &r), DEC_OK);
    assert_format(r, 1, "-2.5");
    /* No double rounding: 0.0049999... at 2 places is 0.00, not 0.01. */
    assert_int_equal(dec_div(d18("0.049999999999999999"), d18("10"), 2, &r), DEC_OK);
    assert_format(r, 2, "0.00");
    /* A divisor of more than 64 bits of units takes the long path. */
    assert_int_equal(dec_div(d18("1000000000000"), d18("300000000000"), 18, &r), DEC_OK);
    assert_format(r, 18, "3.333333333333333333");
    assert_int_equal(dec_div(d18("170141183460469231731"), d18("170141183460469231731"), 18, &r), DEC_OK);
    assert_format(r, 0, "1");
    assert_int_equal(dec_div(d18("1"), d18("0"), 2, &r), DEC_DIV_ZERO);
    assert_int_equal(dec_div(d18("100000000000000000000"), d18("0.1"), 0, &r), DEC_OVERFLOW);
    assert_int_equal(dec_div(d18("1"), d18("0.000000000000000001"), 18, &r), DEC_OK);
    assert_format(r, 0, "1000000000000000000");
    assert_int_equal(dec_div(d18("1000"), d18("0.000000000000000001"), 18, &r), DEC_OVERFLOW);
}

static void test_compare_and_conversions(void **state)
{
    (void)state;
    assert_true(dec_cmp(d18("1.5"), d18("1.49")) > 0);
    assert_true(dec_cmp(d18("-1.5"), d18("-1.49")) < 0);
    assert_int_equal(dec_cmp(d18("2.50"), d18("2.5")), 0);
    assert_format(dec_from_int64(INT64_MIN), 0, "-9223372036854775808");
    assert_format(dec_from_int64(INT64_MAX), 2, "9223372036854775807.00");
    int64_t n = 0;
    assert_int_equal(dec_to_int64(d18("2.5"), &n), DEC_OK);
    assert_int_equal(n, 3);
    assert_int_equal(dec_to_int64(d18("-2.5"), &n), DEC_OK);
    assert_int_equal(n, -3);
    assert_int_equal(dec_to_int64(d18("9223372036854775807.4"), &n), DEC_OK);
    assert_true(n == INT64_MAX);
    assert_int_equal(dec_to_int64(d18("9223372036854775807.5"), &n), DEC_OVERFLOW);
    assert_int_equal(dec_to_int64(d18("-9223372036854775808.4"), &n), DEC_OK);
    assert_true(n == INT64_MIN);
    assert_int_equal(dec_to_int64(d18("-9223372036854775808.5"), &n), DEC_OVERFLOW);
    assert_true(dec_to_double(d18("0.1")) == 0.1);
    assert_true(dec_to_double(d18("-0.25")) == -0.25);
    assert_true(dec_to_double(d18("12345678.91")) == strtod("12345678.91", NULL));
    assert_true(dec_to_double(d18("100000000000000000000")) == 1e20);
    assert_true(dec_to_double(d18("0.333333333333333333")) == strtod("0.333333333333333333", NULL));
    assert_true(dec_to_double(d18("-98765432109876543210.123456789012345678")) ==
                strtod("-98765432109876543210.123456789012345678", NULL));
    assert_true(dec_to_double(d18("0")) == 0.0);
    assert_string_equal(dec_status_text(DEC_OVERFLOW), "number out of range");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_accepts_plain_decimals),
        cmocka_unit_test(test_parse_rejects_everything_else),
        cmocka_unit_test(test_parse_places_limit),
        cmocka_unit_test(test_parse_range),
        cmocka_unit_test(test_format_rounds_half_away_from_zero),
        cmocka_unit_test(test_round),
        cmocka_unit_test(test_add_sub_overflow),
        cmocka_unit_test(test_mul),
        cmocka_unit_test(test_div),
        cmocka_unit_test(test_compare_and_conversions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
