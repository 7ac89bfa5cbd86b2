/* test_cellfmt.c -- declared cell formats (cellfmt.h): patterns that compile and
 * those that do not, and cells read with them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kpic/cellfmt.h"

static date_t ymd(int y, int m, int d)
{
    date_t out;
    assert_true(date_from_ymd(y, m, d, &out));
    return out;
}

static date_status read_date(const char *pattern, const char *cell, date_t *out)
{
    cfmt f;
    char why[256];
    assert_true(cfmt_compile_date(pattern, &f, why, sizeof why));
    return cfmt_parse_date(&f, cell, strlen(cell), out);
}

static void test_date_patterns_read_their_cells(void **state)
{
    (void)state;
    date_t d;
    assert_int_equal(read_date("YYYY/MM/DD", "2025/05/03", &d), DATE_OK);
    assert_int_equal(d, ymd(2025, 5, 3));
    assert_int_equal(read_date("YYYY.M.D", "2025.5.3", &d), DATE_OK);
    assert_int_equal(d, ymd(2025, 5, 3));
    assert_int_equal(read_date("YYYY.M.D", "2025.12.31", &d), DATE_OK);
    assert_int_equal(d, ymd(2025, 12, 31));
    assert_int_equal(read_date("YYYYMMDD", "20250503", &d), DATE_OK);
    assert_int_equal(d, ymd(2025, 5, 3));
    assert_int_equal(read_date("YYYY年M月D日", "2025年5月3日", &d), DATE_OK);
    assert_int_equal(d, ymd(2025, 5, 3));
    assert_int_equal(read_date("YYYY-MM-DD HH:mm:ss", "2025-05-03 23:59:59", &d), DATE_OK);
    assert_int_equal(d, ymd(2025, 5, 3));
    assert_int_equal(read_date("YYYY/M/D H:mm", "2025/5/3 7:05", &d), DATE_OK);
    assert_int_equal(d, ymd(2025, 5, 3));
    /* the date as written is kept, whatever the zone */
    assert_int_equal(read_date("YYYY-MM-DDTHH:mm:ssZ", "2025-05-31T23:30:00+08:00", &d), DATE_OK);
    assert_int_equal(d, ymd(2025, 5, 31));
    assert_int_equal(read_date("YYYY-MM-DDTHH:mm:ssZ", "2025-05-31T23:30:00Z", &d), DATE_OK);
    assert_int_equal(read_date("YYYY-MM-DDTHH:mm:ssZ", "2025-05-31T23:30:00-0500", &d), DATE_OK);
    assert_int_equal(read_date("YYYY-MM-DDTHH:mm:ssZ", "2025-05-31T23:30:00+08", &d), DATE_OK);
}

static void test_date_cells_that_do_not_match(void **state)
{
    (void)state;
    date_t d = 0;
    assert_int_equal(read_date("YYYY/MM/DD", "2025-05-03", &d), DATE_SYNTAX);
    assert_int_equal(read_date("YYYY/MM/DD", "2025/5/3", &d), DATE_SYNTAX);
    assert_int_equal(read_date("YYYY/MM/DD", "2025/05/03 ", &d), DATE_SYNTAX);
    assert_int_equal(read_date("YYYY/MM/DD", "2025/05/0", &d), DATE_SYNTAX);
    assert_int_equal(read_date("YYYY.M.D", "2025.123.1", &d), DATE_SYNTAX);
    assert_int_equal(read_date("YYYY/MM/DD", "2025/02/29", &d), DATE_INVALID);
    assert_int_equal(read_date("YYYY/MM/DD", "2025/13/01", &d), DATE_INVALID);
    assert_int_equal(read_date("YYYY/MM/DD HH:mm", "2025/01/01 24:00", &d), DATE_INVALID);
    assert_int_equal(read_date("YYYY-MM-DDTHH:mmZ", "2025-01-01T10:00+25:00", &d), DATE_INVALID);
    assert_int_equal(read_date("YYYY-MM-DDTHH:mmZ", "2025-01-01T10:00", &d), DATE_SYNTAX);
    assert_int_equal(d, 0);
}

static void expect_bad_date_pattern(const char *pattern, const char *why_part)
{
    cfmt f;
    char why[256];
    assert_false(cfmt_compile_date(pattern, &f, why, sizeof why));
    if (strstr(why, why_part) == NULL)
        fail_msg("pattern \"%s\": \"%s\" lacks \"%s\"", pattern, why, why_part);
}

static void test_bad_date_patterns(void **state)
{
    (void)state;
    expect_bad_date_pattern("YYYY-MM-dd", "unknown field 'dd'");
    expect_bad_date_pattern("YY-MM-DD", "unknown field 'YY'");
    expect_bad_date_pattern("YYYY-MM", "needs the year YYYY, the month MM or M and the day");
    expect_bad_date_pattern("YYYYMD", "could be read two ways");
    expect_bad_date_pattern("YYYY-MM-DD-DD", "appears twice");
    expect_bad_date_pattern("YYYY-MM-DD mm", "minutes 'mm' need an hour");
    expect_bad_date_pattern("YYYY-MM-DD HH:ss", "seconds 'ss' need minutes");
    expect_bad_date_pattern("YYYY-MM-DD Z", "needs a time");
    expect_bad_date_pattern("20YY-MM-DD", "a digit");
    expect_bad_date_pattern("", "empty");
}

static bool number(const char *pattern, const char *cell, char *out)
{
    cfmt f;
    char why[256];
    if (!cfmt_compile_number(pattern, &f, why, sizeof why)) fail_msg("pattern \"%s\": %s", pattern, why);
    size_t len;
    return cfmt_number_text(&f, cell, strlen(cell), out, &len);
}

static void expect_number(const char *pattern, const char *cell, const char *plain)
{
    char out[CFMT_NUMBER_MAX];
    if (!number(pattern, cell, out)) fail_msg("\"%s\" with \"%s\" did not read", cell, pattern);
    assert_string_equal(out, plain);
}

static void expect_no_number(const char *pattern, const char *cell)
{
    char out[CFMT_NUMBER_MAX];
    if (number(pattern, cell, out)) fail_msg("\"%s\" with \"%s\" read as %s", cell, pattern, out);
}

static void test_number_patterns_read_their_cells(void **state)
{
    (void)state;
    expect_number("¥#,##0.00", "¥1,200.00", "1200.00");
    expect_number("¥#,##0.00", "¥1200.00", "1200.00");
    expect_number("¥#,##0.00", "¥0.50", "0.50");
    expect_number("¥#,##0.00", "-¥1,234,567.89", "-1234567.89");
    expect_number("¥#,##0.00", "¥-1,234.00", "-1234.00");
    expect_number("#,##0.0#元", "1,234.5元", "1234.5");
    expect_number("#,##0.0#元", "1,234.55元", "1234.55");
    expect_number("#,##0.##", "1,234", "1234");
    expect_number("#,##0", "12", "12");
    expect_number("RMB 0.00", "RMB 3.10", "3.10");
    expect_number("＃，＃＃０．００", "１，２００．００", "1200.00");
    expect_number("＃,＃＃０.００元", "１,２００.５０元", "1200.50");
    expect_number("＃,＃＃０", "－１,２００", "-1200");
}

static void test_number_cells_that_do_not_match(void **state)
{
    (void)state;
    expect_no_number("¥#,##0.00", "1,200.00"); /* no symbol */
    expect_no_number("¥#,##0.00", "¥1,200.0"); /* one place, the format has two */
    expect_no_number("¥#,##0.00", "¥1,200");
    expect_no_number("¥#,##0.00", "¥12,00.00"); /* a group of two */
    expect_no_number("¥#,##0.00", "¥1,2000.00");
    expect_no_number("¥#,##0.00", "¥,100.00");
    expect_no_number("¥#,##0.00", "¥1,200.00 ");
    expect_no_number("#,##0.0#元", "1,234.567元");
    expect_no_number("#,##0.0#元", "1,234.5"); /* no suffix */
    expect_no_number("0.00", "1,234.50");      /* ungrouped format */
    expect_no_number("0.00", ".50");
    expect_no_number("＃,＃＃０", "1,200"); /* ASCII digits in a full-width format */
    expect_no_number("#,##0", "１,２００");
    expect_no_number("#,##0", "");
}

static void expect_bad_number_pattern(const char *pattern, const char *why_part)
{
    cfmt f;
    char why[256];
    assert_false(cfmt_compile_number(pattern, &f, why, sizeof why));
    if (strstr(why, why_part) == NULL)
        fail_msg("pattern \"%s\": \"%s\" lacks \"%s\"", pattern, why, why_part);
}

static void test_bad_number_patterns(void **state)
{
    (void)state;
    expect_bad_number_pattern("¥", "no digits");
    expect_bad_number_pattern("#,##,##0", "grouped by three");
    expect_bad_number_pattern("#,#0", "grouped by three");
    expect_bad_number_pattern("0.#0", "a '0' after a '#'");
    expect_bad_number_pattern("0.00.0", "two decimal points");
    expect_bad_number_pattern("0.", "no places");
    expect_bad_number_pattern(".00", "before the digits");
    expect_bad_number_pattern("0.0,0", "after the decimal point");
    expect_bad_number_pattern("＃,##0", "mixes full-width");
    expect_bad_number_pattern("0 to 0", "after the digits");
    expect_bad_number_pattern("0.0000000000000000000", "more than 18");
}

static void test_bool_words(void **state)
{
    (void)state;
    cfmt f;
    char why[256];
    assert_true(cfmt_compile_bool("是", "否", &f, why, sizeof why));
    assert_int_equal(cfmt_parse_bool(&f, "是", strlen("是")), 1);
    assert_int_equal(cfmt_parse_bool(&f, "否", strlen("否")), 0);
    assert_int_equal(cfmt_parse_bool(&f, "true", 4), -1);
    assert_int_equal(cfmt_parse_bool(&f, "是是", strlen("是是")), -1);
    assert_true(cfmt_compile_bool("Y", "N", &f, why, sizeof why));
    assert_int_equal(cfmt_parse_bool(&f, "y", 1), -1); /* case matters */
    assert_false(cfmt_compile_bool("√", "√", &f, why, sizeof why));
    assert_string_equal(why, "the true and false words are the same");
    assert_false(cfmt_compile_bool("", "×", &f, why, sizeof why));
    assert_string_equal(why, "the true word: it is empty");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_date_patterns_read_their_cells),
        cmocka_unit_test(test_date_cells_that_do_not_match),
        cmocka_unit_test(test_bad_date_patterns),
        cmocka_unit_test(test_number_patterns_read_their_cells),
        cmocka_unit_test(test_number_cells_that_do_not_match),
        cmocka_unit_test(test_bad_number_patterns),
        cmocka_unit_test(test_bool_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
