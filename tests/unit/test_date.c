/* test_date.c -- unit tests for date.h: strict parsing of dates and
 * datetimes, formatting, ISO weeks, month arithmetic with day clamping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kpic/date.h"

static date_t ymd(int y, int m, int d)
{
    date_t out;
    assert_true(date_from_ymd(y, m, d, &out));
    return out;
}

static date_status parse(const char *text, date_t *out)
{
    return date_parse(text, strlen(text), out);
}

static void assert_text(date_t d, const char *expected)
{
    char buf[DATE_FORMAT_SIZE];
    assert_int_equal(date_format(d, buf, sizeof buf), 10);
    assert_string_equal(buf, expected);
}

static void test_parse_dates_and_datetimes(void **state)
{
    (void)state;
    date_t d;
    assert_int_equal(parse("1970-01-01", &d), DATE_OK);
    assert_int_equal(d, 0);
    assert_int_equal(parse("2025-05-01", &d), DATE_OK);
    assert_int_equal(d, ymd(2025, 5, 1));
    assert_int_equal(parse("2024-02-29", &d), DATE_OK);
    assert_int_equal(parse("2025-05-01T10:30", &d), DATE_OK);
    assert_int_equal(d, ymd(2025, 5, 1));
    assert_int_equal(parse("2025-05-01 23:59:59", &d), DATE_OK);
    assert_int_equal(d, ymd(2025, 5, 1));
    assert_int_equal(parse("2016-12-31T23:59:60", &d), DATE_OK); /* a leap second */
    assert_int_equal(parse("0001-01-01", &d), DATE_OK);
    assert_int_equal(d, DATE_MIN);
    assert_int_equal(parse("9999-12-31 00:00", &d), DATE_OK);
    assert_int_equal(d, DATE_MAX);
    assert_int_equal(parse("1969-12-31", &d), DATE_OK);
    assert_int_equal(d, -1);
}

static void test_parse_rejects_bad_dates(void **state)
{
    (void)state;
    date_t d = 12345;
    const char *invalid[] = { "2025-02-29",       "2025-13-01",         "2025-00-10", "2025-04-31",
                              "2025-01-00",       "1900-02-29",         "0000-01-01", "2025-05-01T24:00",
                              "2025-05-01 10:60", "2025-05-01 10:30:61" };
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
        assert_int_equal(parse(invalid[i], &d), DATE_INVALID);
    const char *syntax[] = { "",
                             "2025-5-01",
                             "2025-05-1",
                             "25-05-01",
                             "2025/05/01",
                             " 2025-05-01",
                             "2025-05-01 ",
                             "2025-05-01T10",
                             "2025-05-01T10:3",
                             "2025-05-01T10:30:0",
                             "2025-05-01T10:30:00Z",
                             "2025-05-01T10:30:00+08:00",
                             "2025-05-01 10:30:00.123",
                             "2025-05-01X10:30",
                             "2025-05-01T10-30",
                             "+025-05-01",
                             "2025-0a-01",
                             "20250501" };
    for (size_t i = 0; i < sizeof syntax / sizeof syntax[0]; i++)
        assert_int_equal(parse(syntax[i], &d), DATE_SYNTAX);
    assert_int_equal(d, 12345); /* never written on failure */
    /* Length, not NUL, delimits the text. */
    assert_int_equal(date_parse("2025-05-01\0", 11, &d), DATE_SYNTAX);
    assert_int_equal(date_parse("2025-05-01", 9, &d), DATE_SYNTAX);
}

static void test_format_and_round_trip(void **state)
{
    (void)state;
    assert_text(0, "1970-01-01");
    assert_text(DATE_MIN, "0001-01-01");
    assert_text(DATE_MAX, "9999-12-31");
    assert_text(ymd(2024, 2, 29), "2024-02-29");
    char small[5];
    assert_int_equal(date_format(0, small, sizeof small), 10);
    assert_string_equal(small, "1970");
    /* Every day of 1600..2400: text round trip and consecutive numbers. */
    date_t prev = ymd(1599, 12, 31);
    for (int y = 1600; y <= 2400; y++) {
        for (int m = 1; m <= 12; m++) {
            for (int day = 1; day <= date_days_in_month(y, m); day++) {
                date_t d = ymd(y, m, day);
                assert_int_equal(d, prev + 1);
                prev = d;
                int yy, mm, dd;
                date_to_ymd(d, &yy, &mm, &dd);
                assert_int_equal(yy, y);
                assert_int_equal(mm, m);
                assert_int_equal(dd, day);
                char buf[DATE_FORMAT_SIZE];
                date_format(d, buf, sizeof buf);
                date_t back;
                assert_int_equal(date_parse(buf, 10, &back), DATE_OK);
                assert_int_equal(back, d);
            }
        }
    }
    date_t out;
    assert_false(date_from_ymd(2025, 2, 29, &out));
    assert_false(date_from_ymd(10000, 1, 1, &out));
    assert_false(date_from_ymd(0, 12, 31, &out));
}

static void test_calendar_helpers(void **state)
{
    (void)state;
    assert_true(date_is_leap_year(2024));
    assert_true(date_is_leap_year(2000));
    assert_false(date_is_leap_year(1900));
    assert_false(date_is_leap_year(2025));
    assert_int_equal(date_days_in_month(2024, 2), 29);
    assert_int_equal(date_days_in_month(1900, 2), 28);
    assert_int_equal(date_days_in_month(2025, 4), 30);
    assert_int_equal(date_days_in_month(2025, 13), 0);
    assert_int_equal(date_weekday(0), 4);                 /* Thursday */
    assert_int_equal(date_weekday(ymd(2025, 5, 19)), 1);  /* Monday */
    assert_int_equal(date_weekday(ymd(2025, 5, 18)), 7);  /* Sunday */
    assert_int_equal(date_weekday(ymd(1969, 12, 29)), 1); /* before the epoch */
    date_t d = ymd(2025, 5, 17);
    assert_int_equal(date_year(d), 2025);
    assert_int_equal(date_month(d), 5);
    assert_int_equal(date_day(d), 17);
    assert_int_equal(date_week_start(d), ymd(2025, 5, 12));
    assert_int_equal(date_month_start(d), ymd(2025, 5, 1));
    assert_int_equal(date_quarter_start(d), ymd(2025, 4, 1));
    assert_int_equal(date_quarter_start(ymd(2025, 12, 31)), ymd(2025, 10, 1));
    assert_int_equal(date_year_start(d), ymd(2025, 1, 1));
}

static void assert_iso(date_t d, int iso_year, int week)
{
    int y = 0, w = 0;
    date_iso_week(d, &y, &w);
    assert_int_equal(y, iso_year);
    assert_int_equal(w, week);
}

static void test_iso_weeks(void **state)
{
    (void)state;
    assert_iso(ymd(2021, 1, 3), 2020, 53);
    assert_iso(ymd(2020, 12, 31), 2020, 53);
    assert_iso(ymd(2020, 12, 28), 2020, 53);
    assert_iso(ymd(2021, 1, 4), 2021, 1);
    assert_iso(ymd(2024, 12, 30), 2025, 1);
    assert_iso(ymd(2025, 5, 17), 2025, 20);
    assert_iso(ymd(2026, 12, 31), 2026, 53);
    assert_iso(ymd(2027, 1, 1), 2026, 53);
    assert_iso(ymd(2019, 12, 30), 2020, 1);
    assert_int_equal(date_iso_weeks_in_year(2020), 53);
    assert_int_equal(date_iso_weeks_in_year(2021), 52);
    assert_int_equal(date_iso_weeks_in_year(2015), 53);
    assert_int_equal(date_iso_weeks_in_year(2026), 53);
    date_t monday;
    assert_true(date_from_iso_week(2020, 53, &monday));
    assert_int_equal(monday, ymd(2020, 12, 28));
    assert_true(date_from_iso_week(2025, 1, &monday));
    assert_int_equal(monday, ymd(2024, 12, 30));
    assert_true(date_from_iso_week(2025, 20, &monday));
    assert_int_equal(monday, ymd(2025, 5, 12));
    assert_false(date_from_iso_week(2021, 53, &monday));
    assert_false(date_from_iso_week(2021, 0, &monday));
    /* Every Monday of 1990..2040 maps back to itself through its ISO week. */
    for (date_t d = date_week_start(ymd(1990, 1, 1)); d < ymd(2040, 1, 1); d += 7) {
        int y, w;
        date_iso_week(d, &y, &w);
        assert_true(date_from_iso_week(y, w, &monday));
        assert_int_equal(monday, d);
    }
}

static void assert_months(date_t from, int64_t months, date_t expected)
{
    date_t out;
    assert_true(date_add_months(from, months, &out));
    assert_int_equal(out, expected);
}

static void test_month_arithmetic_clamps(void **state)
{
    (void)state;
    assert_months(ymd(2025, 3, 31), -1, ymd(2025, 2, 28));
    assert_months(ymd(2024, 3, 31), -1, ymd(2024, 2, 29));
    assert_months(ymd(2024, 2, 29), 12, ymd(2025, 2, 28));
    assert_months(ymd(2025, 1, 31), 1, ymd(2025, 2, 28));
    assert_months(ymd(2025, 5, 31), 1, ymd(2025, 6, 30));
    assert_months(ymd(2025, 12, 15), 1, ymd(2026, 1, 15));
    assert_months(ymd(2025, 1, 15), -13, ymd(2023, 12, 15));
    assert_months(ymd(2025, 1, 15), -1, ymd(2024, 12, 15));
    assert_months(ymd(2025, 5, 17), 0, ymd(2025, 5, 17));
    date_t out;
    assert_false(date_add_months(DATE_MAX, 1, &out));
    assert_false(date_add_months(DATE_MIN, -1, &out));
    assert_false(date_add_months(0, INT64_MAX, &out));
    assert_true(date_add_days(ymd(2024, 2, 28), 1, &out));
    assert_int_equal(out, ymd(2024, 2, 29));
    assert_true(date_add_days(ymd(2025, 3, 1), -1, &out));
    assert_int_equal(out, ymd(2025, 2, 28));
    assert_false(date_add_days(DATE_MAX, 1, &out));
    assert_false(date_add_days(0, INT64_MIN, &out));
    assert_false(date_add_days(0, INT64_MAX, &out));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_dates_and_datetimes),
        cmocka_unit_test(test_parse_rejects_bad_dates),
        cmocka_unit_test(test_format_and_round_trip),
        cmocka_unit_test(test_calendar_helpers),
        cmocka_unit_test(test_iso_weeks),
        cmocka_unit_test(test_month_arithmetic_clamps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
