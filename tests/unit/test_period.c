/* Unit tests for periods: labels and `--period` parsing (every form, every error
 * with its exact message), ranges, previous/shift/last_year across year
 * boundaries and ISO week-53 years, every window kind at month ends and in leap
 * years, membership tests and employed fractions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kpic/period.h"

/* ---- helpers ------------------------------------------------------------------------ */

static date_t D(const char *text)
{
    date_t d = 0;
    if (date_parse(text, strlen(text), &d) != DATE_OK) fail_msg("bad test date %s", text);
    return d;
}

/* Parses TEXT as a period of GRAIN, failing the test with the message if it is not. */
static period_t P(ast_grain grain, const char *text)
{
    period_t p;
    char msg[PERIOD_MESSAGE_SIZE];
    if (period_parse(text, strlen(text), grain, &p, msg, sizeof msg) != PERIOD_OK)
        fail_msg("period_parse(%s): %s", text, msg);
    return p;
}

static void assert_label(period_t p, const char *want)
{
    char buf[PERIOD_LABEL_SIZE];
    size_t n = period_format(p, buf, sizeof buf);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
}

/* P parses as GRAIN, covers [START, END) and prints back as TEXT. */
static void check_form(ast_grain grain, const char *text, const char *start, const char *end)
{
    period_t p = P(grain, text);
    assert_int_equal(p.grain, grain);
    assert_int_equal(p.start, D(start));
    assert_int_equal(p.end, D(end));
    assert_int_equal(period_days(p), D(end) - D(start));
    assert_label(p, text);
}

/* TEXT fails to parse as GRAIN with STATUS and exactly MESSAGE; *OUT untouched. */
static void check_error(ast_grain grain, const char *text, size_t len, period_status status,
                        const char *message)
{
    period_t p = { GRAIN_YEAR, 12345, 12346 };
    char msg[PERIOD_MESSAGE_SIZE] = "";
    assert_int_equal(period_parse(text, len, grain, &p, msg, sizeof msg), status);
    assert_string_equal(msg, message);
    assert_int_equal(p.start, 12345);
    /* The message fits the advertised buffer size with room to spare. */
    assert_true(strlen(msg) + 1 < PERIOD_MESSAGE_SIZE);
}

#define ERR(grain, text, status, message) check_error(grain, text, strlen(text), status, message)

static void check_range_error(ast_grain grain, const char *text, period_status status, const char *message)
{
    period_range r = { { GRAIN_YEAR, 1, 2 }, { GRAIN_YEAR, 1, 2 }, 77 };
    char msg[PERIOD_MESSAGE_SIZE] = "";
    assert_int_equal(period_parse_range(text, strlen(text), grain, &r, msg, sizeof msg), status);
    assert_string_equal(msg, message);
    assert_int_equal(r.count, 77);
}

/* Parses TEXT as a range of GRAIN and checks it expands to exactly LABELS (NULL-ended). */
static void check_range(ast_grain grain, const char *text, const char *const *labels)
{
    period_range r;
    char msg[PERIOD_MESSAGE_SIZE];
    if (period_parse_range(text, strlen(text), grain, &r, msg, sizeof msg) != PERIOD_OK)
        fail_msg("period_parse_range(%s): %s", text, msg);
    size_t n = 0;
    while (labels[n]) n++;
    assert_int_equal(r.count, n);
    period_t *all = calloc(r.count, sizeof *all);
    assert_non_null(all);
    period_range_expand(&r, all);
    for (size_t i = 0; i < n; i++) {
        assert_label(all[i], labels[i]);
        /* Consecutive periods tile the range: no gap, no overlap. */
        if (i > 0) assert_int_equal(all[i].start, all[i - 1].end);
        size_t index = 99999;
        assert_true(period_range_index(&r, all[i].start, &index));
        assert_int_equal(index, i);
        assert_true(period_range_index(&r, all[i].end - 1, &index));
        assert_int_equal(index, i);
    }
    assert_label(r.first, labels[0]);
    assert_label(r.last, labels[n - 1]);
    free(all);
}

static period_t prev(period_t p)
{
    period_t out;
    assert_true(period_previous(p, &out));
    return out;
}

static period_t last_year(period_t p)
{
    period_t out;
    assert_true(period_last_year(p, &out));
    return out;
}

static period_interval window(period_t p, ast_window_kind kind, int64_t n, ast_window_unit unit)
{
    ast_window w;
    memset(&w, 0, sizeof w);
    w.kind = kind;
    w.count = n;
    w.unit = unit;
    period_interval iv = { 0, 0 };
    assert_true(period_window(p, &w, &iv));
    return iv;
}

/* The window is [FROM, TO) in dates; FROM NULL means DATE_MIN (no start). */
static void assert_window(period_interval iv, const char *from, const char *to)
{
    assert_int_equal(iv.from, from ? D(from) : DATE_MIN);
    assert_int_equal(iv.to, D(to));
}

#define LAST(p, n, unit) window(p, WINDOW_LAST, n, unit)

/* ---- forms and labels --------------------------------------------------------------- */

static void test_every_form(void **state)
{
    (void)state;
    check_form(GRAIN_DAY, "2025-05-17", "2025-05-17", "2025-05-18");
    check_form(GRAIN_DAY, "2024-02-29", "2024-02-29", "2024-03-01");
    check_form(GRAIN_DAY, "2025-12-31", "2025-12-31", "2026-01-01");
    check_form(GRAIN_WEEK, "2025-W20", "2025-05-12", "2025-05-19");
    check_form(GRAIN_MONTH, "2025-05", "2025-05-01", "2025-06-01");
    check_form(GRAIN_MONTH, "2024-02", "2024-02-01", "2024-03-01");
    check_form(GRAIN_MONTH, "2025-02", "2025-02-01", "2025-03-01");
    check_form(GRAIN_MONTH, "2025-12", "2025-12-01", "2026-01-01");
    check_form(GRAIN_QUARTER, "2025-Q1", "2025-01-01", "2025-04-01");
    check_form(GRAIN_QUARTER, "2025-Q2", "2025-04-01", "2025-07-01");
    check_form(GRAIN_QUARTER, "2025-Q3", "2025-07-01", "2025-10-01");
    check_form(GRAIN_QUARTER, "2025-Q4", "2025-10-01", "2026-01-01");
    check_form(GRAIN_YEAR, "2025", "2025-01-01", "2026-01-01");
    check_form(GRAIN_YEAR, "2024", "2024-01-01", "2025-01-01");
    assert_int_equal(period_days(P(GRAIN_QUARTER, "2024-Q1")), 91);
    assert_int_equal(period_days(P(GRAIN_QUARTER, "2025-Q1")), 90);
    assert_int_equal(period_days(P(GRAIN_YEAR, "2024")), 366);
}

static void test_iso_weeks(void **state)
{
    (void)state;
    /* Week 1 holds the year's first Thursday; its Monday may be in December. */
    check_form(GRAIN_WEEK, "2021-W01", "2021-01-04", "2021-01-11");
    check_form(GRAIN_WEEK, "2025-W01", "2024-12-30", "2025-01-06");
    check_form(GRAIN_WEEK, "2026-W01", "2025-12-29", "2026-01-05");
    check_form(GRAIN_WEEK, "2020-W53", "2020-12-28", "2021-01-04");
    check_form(GRAIN_WEEK, "2026-W53", "2026-12-28", "2027-01-04");
    check_form(GRAIN_WEEK, "2025-W52", "2025-12-22", "2025-12-29");
    /* The label of the week holding a date carries the ISO year, not the calendar year. */
    period_t p;
    assert_true(period_of(GRAIN_WEEK, D("2021-01-03"), &p));
    assert_label(p, "2020-W53");
    assert_true(period_of(GRAIN_WEEK, D("2024-12-31"), &p));
    assert_label(p, "2025-W01");
    assert_true(period_of(GRAIN_WEEK, D("2025-05-17"), &p)); /* a Saturday */
    assert_label(p, "2025-W20");
}

static void test_period_of_every_grain(void **state)
{
    (void)state;
    date_t d = D("2025-05-17");
    const char *want[] = { "2025-05-17", "2025-W20", "2025-05", "2025-Q2", "2025" };
    for (int g = GRAIN_DAY; g <= GRAIN_YEAR; g++) {
        period_t p;
        assert_true(period_of((ast_grain)g, d, &p));
        assert_label(p, want[g]);
        assert_true(period_contains(p, d));
    }
    period_t p;
    assert_false(period_of(GRAIN_DAY, DATE_MAX + 1, &p));
    assert_false(period_of(GRAIN_DAY, DATE_MIN - 1, &p));
}

static void test_format_truncates(void **state)
{
    (void)state;
    char buf[5];
    assert_int_equal(period_format(P(GRAIN_DAY, "2025-05-17"), buf, sizeof buf), 10);
    assert_string_equal(buf, "2025");
    assert_int_equal(period_format(P(GRAIN_DAY, "2025-05-17"), buf, 0), 10);
}

static void test_supported_edges(void **state)
{
    (void)state;
    /* 0001-01-01 is a Monday, so the first ISO week starts on the first date. */
    check_form(GRAIN_WEEK, "0001-W01", "0001-01-01", "0001-01-08");
    check_form(GRAIN_DAY, "0001-01-01", "0001-01-01", "0001-01-02");
    /* The last year, month and day end one past DATE_MAX, which is allowed. */
    period_t y = P(GRAIN_YEAR, "9999");
    assert_int_equal(y.start, D("9999-01-01"));
    assert_int_equal(y.end, DATE_MAX + 1);
    assert_label(y, "9999");
    assert_int_equal(P(GRAIN_MONTH, "9999-12").end, DATE_MAX + 1);
    assert_int_equal(P(GRAIN_QUARTER, "9999-Q4").end, DATE_MAX + 1);
    assert_int_equal(P(GRAIN_DAY, "9999-12-31").end, DATE_MAX + 1);
    /* 9999-W52 runs to 10000-01-02: not supported. */
    ERR(GRAIN_WEEK, "9999-W52", PERIOD_INVALID, "'9999-W52' runs past 9999-12-31, the last supported date");
    check_form(GRAIN_WEEK, "9999-W51", "9999-12-20", "9999-12-27");
    period_t p;
    assert_false(period_of(GRAIN_WEEK, DATE_MAX, &p));
    /* Nothing before the first period, nothing after the last. */
    assert_false(period_previous(P(GRAIN_YEAR, "0001"), &p));
    assert_false(period_previous(P(GRAIN_DAY, "0001-01-01"), &p));
    assert_false(period_previous(P(GRAIN_WEEK, "0001-W01"), &p));
    assert_false(period_previous(P(GRAIN_MONTH, "0001-01"), &p));
    assert_false(period_shift(P(GRAIN_YEAR, "9999"), 1, &p));
    assert_false(period_shift(P(GRAIN_WEEK, "9999-W51"), 1, &p));
    assert_false(period_last_year(P(GRAIN_YEAR, "0001"), &p));
    assert_false(period_last_year(P(GRAIN_WEEK, "0001-W10"), &p));
    assert_false(period_last_year(P(GRAIN_DAY, "0001-12-31"), &p));
    assert_false(period_in_previous(P(GRAIN_DAY, "0001-01-01"), DATE_MIN));
}

/* ---- parse errors -------------------------------------------------------------------- */

static void test_invalid_values(void **state)
{
    (void)state;
    ERR(GRAIN_MONTH, "2025-13", PERIOD_INVALID, "'2025-13': there is no month 13; months are 01 to 12");
    ERR(GRAIN_MONTH, "2025-00", PERIOD_INVALID, "'2025-00': there is no month 00; months are 01 to 12");
    ERR(GRAIN_WEEK, "2025-W54", PERIOD_INVALID,
        "'2025-W54': ISO year 2025 has 52 weeks; weeks are W01 to W52");
    ERR(GRAIN_WEEK, "2025-W53", PERIOD_INVALID,
        "'2025-W53': ISO year 2025 has 52 weeks; weeks are W01 to W52");
    ERR(GRAIN_WEEK, "2026-W54", PERIOD_INVALID,
        "'2026-W54': ISO year 2026 has 53 weeks; weeks are W01 to W53");
    ERR(GRAIN_WEEK, "2025-W00", PERIOD_INVALID,
        "'2025-W00': ISO year 2025 has 52 weeks; weeks are W01 to W52");
    ERR(GRAIN_QUARTER, "2025-Q5", PERIOD_INVALID, "'2025-Q5': there is no quarter 5; quarters are Q1 to Q4");
    ERR(GRAIN_QUARTER, "2025-Q0", PERIOD_INVALID, "'2025-Q0': there is no quarter 0; quarters are Q1 to Q4");
    ERR(GRAIN_DAY, "2025-02-30", PERIOD_INVALID, "'2025-02-30': there is no such day; 2025-02 has 28 days");
    ERR(GRAIN_DAY, "2025-02-29", PERIOD_INVALID, "'2025-02-29': there is no such day; 2025-02 has 28 days");
    ERR(GRAIN_DAY, "2024-02-30", PERIOD_INVALID, "'2024-02-30': there is no such day; 2024-02 has 29 days");
    ERR(GRAIN_DAY, "2025-04-31", PERIOD_INVALID, "'2025-04-31': there is no such day; 2025-04 has 30 days");
    ERR(GRAIN_DAY, "2025-05-00", PERIOD_INVALID, "'2025-05-00': there is no such day; 2025-05 has 31 days");
    ERR(GRAIN_DAY, "2025-13-01", PERIOD_INVALID, "'2025-13-01': there is no month 13; months are 01 to 12");
    ERR(GRAIN_YEAR, "0000", PERIOD_INVALID, "'0000': there is no year 0000; years run from 0001 to 9999");
    ERR(GRAIN_MONTH, "0000-05", PERIOD_INVALID,
        "'0000-05': there is no year 0000; years run from 0001 to 9999");
    /* 1900 is not a leap year, 2000 is. */
    ERR(GRAIN_DAY, "1900-02-29", PERIOD_INVALID, "'1900-02-29': there is no such day; 1900-02 has 28 days");
    check_form(GRAIN_DAY, "2000-02-29", "2000-02-29", "2000-03-01");
}

static void test_syntax_errors(void **state)
{
    (void)state;
    ERR(GRAIN_MONTH, "2025/05", PERIOD_SYNTAX,
        "'2025/05' is not a period: the spec's period is month, so write YYYY-MM, e.g. 2025-05");
    ERR(GRAIN_MONTH, "", PERIOD_SYNTAX,
        "'' is not a period: the spec's period is month, so write YYYY-MM, e.g. 2025-05");
    ERR(GRAIN_MONTH, "2025-5", PERIOD_SYNTAX,
        "'2025-5' is not a period: the spec's period is month, so write YYYY-MM, e.g. 2025-05");
    ERR(GRAIN_MONTH, " 2025-05", PERIOD_SYNTAX,
        "' 2025-05' is not a period: the spec's period is month, so write YYYY-MM, e.g. 2025-05");
    ERR(GRAIN_MONTH, "2025-05 ", PERIOD_SYNTAX,
        "'2025-05 ' is not a period: the spec's period is month, so write YYYY-MM, e.g. 2025-05");
    ERR(GRAIN_MONTH, "May 2025", PERIOD_SYNTAX,
        "'May 2025' is not a period: the spec's period is month, so write YYYY-MM, e.g. 2025-05");
    ERR(GRAIN_WEEK, "2025-w20", PERIOD_SYNTAX,
        "'2025-w20' is not a period: the spec's period is week, so write YYYY-Www (ISO year and week), e.g. 2025-W20");
    ERR(GRAIN_WEEK, "2025-W2", PERIOD_SYNTAX,
        "'2025-W2' is not a period: the spec's period is week, so write YYYY-Www (ISO year and week), e.g. 2025-W20");
    ERR(GRAIN_WEEK, "2025W20", PERIOD_SYNTAX,
        "'2025W20' is not a period: the spec's period is week, so write YYYY-Www (ISO year and week), e.g. 2025-W20");
    ERR(GRAIN_QUARTER, "2025-q2", PERIOD_SYNTAX,
        "'2025-q2' is not a period: the spec's period is quarter, so write YYYY-Qn, e.g. 2025-Q2");
    ERR(GRAIN_DAY, "2025-05-17T10:00", PERIOD_SYNTAX,
        "'2025-05-17T10:00' is not a period: the spec's period is day, so write YYYY-MM-DD, e.g. 2025-05-17");
    ERR(GRAIN_DAY, "2025-5-17", PERIOD_SYNTAX,
        "'2025-5-17' is not a period: the spec's period is day, so write YYYY-MM-DD, e.g. 2025-05-17");
    ERR(GRAIN_YEAR, "25", PERIOD_SYNTAX,
        "'25' is not a period: the spec's period is year, so write YYYY, e.g. 2025");
    ERR(GRAIN_YEAR, "02025", PERIOD_SYNTAX,
        "'02025' is not a period: the spec's period is year, so write YYYY, e.g. 2025");
    ERR(GRAIN_YEAR, "-2025", PERIOD_SYNTAX,
        "'-2025' is not a period: the spec's period is year, so write YYYY, e.g. 2025");
    /* A range is not one period. */
    ERR(GRAIN_MONTH, "2025-01..2025-02", PERIOD_SYNTAX,
        "'2025-01..2025-02' is not a period: the spec's period is month, so write YYYY-MM, e.g. 2025-05");
    /* Control bytes (a NUL, a newline) are shown as '?', long text is cut. */
    check_error(GRAIN_YEAR,
                "20\0"
                "5",
                4, PERIOD_SYNTAX,
                "'20?5' is not a period: the spec's period is year, so write YYYY, e.g. 2025");
    ERR(GRAIN_YEAR, "2025\n", PERIOD_SYNTAX,
        "'2025?' is not a period: the spec's period is year, so write YYYY, e.g. 2025");
    ERR(GRAIN_YEAR, "0123456789012345678901234567890123456789XYZ", PERIOD_SYNTAX,
        "'0123456789012345678901234567890123456789...' is not a period: the spec's period is "
        "year, so write YYYY, e.g. 2025");
    /* Cut before, not inside, a three-byte character that straddles byte 40. */
    ERR(GRAIN_YEAR, "012345678901234567890123456789012345678\xe5\xb9\xb4", PERIOD_SYNTAX,
        "'012345678901234567890123456789012345678...' is not a period: the spec's period is "
        "year, so write YYYY, e.g. 2025");
    /* Fullwidth digits are not ASCII digits. */
    ERR(GRAIN_YEAR, "\xef\xbc\x92\xef\xbc\x90\xef\xbc\x92\xef\xbc\x95", PERIOD_SYNTAX,
        "'\xef\xbc\x92\xef\xbc\x90\xef\xbc\x92\xef\xbc\x95' is not a period: the spec's period is "
        "year, so write YYYY, e.g. 2025");
}

static void test_null_message_buffer(void **state)
{
    (void)state;
    period_t p;
    assert_int_equal(period_parse("2025-13", 7, GRAIN_MONTH, &p, NULL, 0), PERIOD_INVALID);
    char tiny[8];
    assert_int_equal(period_parse("2025-13", 7, GRAIN_MONTH, &p, tiny, sizeof tiny), PERIOD_INVALID);
    assert_string_equal(tiny, "'2025-1");
}

static void test_wrong_grain(void **state)
{
    (void)state;
    /* A finer period: suggest the period of the spec's grain that contains it. */
    ERR(GRAIN_QUARTER, "2025-05", PERIOD_WRONG_GRAIN,
        "'2025-05' is a month, but the spec's period is quarter: write 2025-Q2");
    ERR(GRAIN_WEEK, "2025-05-17", PERIOD_WRONG_GRAIN,
        "'2025-05-17' is a day, but the spec's period is week: write 2025-W20");
    ERR(GRAIN_MONTH, "2025-05-17", PERIOD_WRONG_GRAIN,
        "'2025-05-17' is a day, but the spec's period is month: write 2025-05");
    ERR(GRAIN_YEAR, "2025-Q2", PERIOD_WRONG_GRAIN,
        "'2025-Q2' is a quarter, but the spec's period is year: write 2025");
    /* A coarser period: suggest the range that covers it. */
    ERR(GRAIN_MONTH, "2025", PERIOD_WRONG_GRAIN,
        "'2025' is a year, but the spec's period is month: write 2025-01..2025-12");
    ERR(GRAIN_MONTH, "2025-Q2", PERIOD_WRONG_GRAIN,
        "'2025-Q2' is a quarter, but the spec's period is month: write 2025-04..2025-06");
    ERR(GRAIN_DAY, "2025-02", PERIOD_WRONG_GRAIN,
        "'2025-02' is a month, but the spec's period is day: write 2025-02-01..2025-02-28");
    /* Weeks do not nest in months: the suggestion covers every day given. */
    ERR(GRAIN_WEEK, "2025-05", PERIOD_WRONG_GRAIN,
        "'2025-05' is a month, but the spec's period is week: write 2025-W18..2025-W22");
    ERR(GRAIN_MONTH, "2025-W01", PERIOD_WRONG_GRAIN,
        "'2025-W01' is a week, but the spec's period is month: write 2024-12..2025-01");
    ERR(GRAIN_YEAR, "2025-W01", PERIOD_WRONG_GRAIN,
        "'2025-W01' is a week, but the spec's period is year: write 2024..2025");
    /* Wrong form with bad numbers: the form is what to fix. */
    ERR(GRAIN_QUARTER, "2025-13", PERIOD_WRONG_GRAIN,
        "'2025-13' is not a quarter: the spec's period is quarter, so write YYYY-Qn, e.g. 2025-Q2");
    ERR(GRAIN_MONTH, "2025-W53", PERIOD_WRONG_GRAIN,
        "'2025-W53' is not a month: the spec's period is month, so write YYYY-MM, e.g. 2025-05");
}

/* ---- ranges ----------------------------------------------------------------------------- */

static void test_ranges(void **state)
{
    (void)state;
    static const char *const months[] = { "2025-01", "2025-02", "2025-03", "2025-04", "2025-05",
                                          "2025-06", "2025-07", "2025-08", "2025-09", "2025-10",
                                          "2025-11", "2025-12", NULL };
    check_range(GRAIN_MONTH, "2025-01..2025-12", months);
    static const char *const across[] = { "2024-11", "2024-12", "2025-01", "2025-02", NULL };
    check_range(GRAIN_MONTH, "2024-11..2025-02", across);
    static const char *const one[] = { "2025-05", NULL };
    check_range(GRAIN_MONTH, "2025-05", one);
    check_range(GRAIN_MONTH, "2025-05..2025-05", one);
    static const char *const w2020[] = { "2020-W52", "2020-W53", "2021-W01", "2021-W02", NULL };
    check_range(GRAIN_WEEK, "2020-W52..2021-W02", w2020);
    static const char *const w2026[] = { "2026-W52", "2026-W53", "2027-W01", NULL };
    check_range(GRAIN_WEEK, "2026-W52..2027-W01", w2026);
    static const char *const w2025[] = { "2025-W51", "2025-W52", "2026-W01", NULL };
    check_range(GRAIN_WEEK, "2025-W51..2026-W01", w2025);
    static const char *const days[] = { "2024-02-27", "2024-02-28", "2024-02-29", "2024-03-01", NULL };
    check_range(GRAIN_DAY, "2024-02-27..2024-03-01", days);
    static const char *const newyear[] = { "2024-12-31", "2025-01-01", NULL };
    check_range(GRAIN_DAY, "2024-12-31..2025-01-01", newyear);
    static const char *const quarters[] = { "2024-Q3", "2024-Q4", "2025-Q1", "2025-Q2", NULL };
    check_range(GRAIN_QUARTER, "2024-Q3..2025-Q2", quarters);
    static const char *const years[] = { "2023", "2024", "2025", NULL };
    check_range(GRAIN_YEAR, "2023..2025", years);

    /* Outside the range, a row has no period. */
    period_range r;
    char msg[PERIOD_MESSAGE_SIZE];
    assert_int_equal(period_parse_range("2025-01..2025-12", 16, GRAIN_MONTH, &r, msg, sizeof msg), PERIOD_OK);
    size_t index = 42;
    assert_false(period_range_index(&r, D("2024-12-31"), &index));
    assert_false(period_range_index(&r, D("2026-01-01"), &index));
    assert_int_equal(index, 42);
    assert_true(period_range_index(&r, D("2025-05-17"), &index));
    assert_int_equal(index, 4);
}

static void test_range_limit(void **state)
{
    (void)state;
    period_range r;
    char msg[PERIOD_MESSAGE_SIZE];
    /* Exactly PERIOD_RANGE_MAX days: 2025-01-01 + 999 days = 2027-09-27. */
    assert_int_equal(period_parse_range("2025-01-01..2027-09-27", 22, GRAIN_DAY, &r, msg, sizeof msg),
                     PERIOD_OK);
    assert_int_equal(r.count, PERIOD_RANGE_MAX);
    period_t *all = calloc(r.count, sizeof *all);
    assert_non_null(all);
    period_range_expand(&r, all);
    assert_label(all[999], "2027-09-27");
    free(all);
    check_range_error(
        GRAIN_DAY, "2025-01-01..2027-09-28", PERIOD_BAD_RANGE,
        "'2025-01-01..2027-09-28' holds 1001 periods; one run takes at most 1000: split the range");
    check_range_error(
        GRAIN_DAY, "2025-01-01..2030-01-01", PERIOD_BAD_RANGE,
        "'2025-01-01..2030-01-01' holds 1827 periods; one run takes at most 1000: split the range");
    check_range_error(GRAIN_MONTH, "2025-01..2205-01", PERIOD_BAD_RANGE,
                      "'2025-01..2205-01' holds 2161 periods; one run takes at most 1000: split the range");
    /* The whole supported span of years is far beyond the limit but still counted right. */
    check_range_error(GRAIN_YEAR, "0001..9999", PERIOD_BAD_RANGE,
                      "'0001..9999' holds 9999 periods; one run takes at most 1000: split the range");
}

static void test_range_errors(void **state)
{
    (void)state;
    check_range_error(GRAIN_MONTH, "2025-06..2025-01", PERIOD_BAD_RANGE,
                      "'2025-06..2025-01': the range runs backwards; write 2025-01..2025-06");
    check_range_error(GRAIN_WEEK, "2021-W01..2020-W53", PERIOD_BAD_RANGE,
                      "'2021-W01..2020-W53': the range runs backwards; write 2020-W53..2021-W01");
    check_range_error(GRAIN_MONTH, "2025-01..", PERIOD_SYNTAX,
                      "'2025-01..': a range needs a period on each side of '..', e.g. 2025-01..2025-06");
    check_range_error(GRAIN_DAY, "..2025-01-01", PERIOD_SYNTAX,
                      "'..2025-01-01': a range needs a period on each side of '..', e.g. "
                      "2025-05-01..2025-05-31");
    check_range_error(GRAIN_MONTH, "..", PERIOD_SYNTAX,
                      "'..': a range needs a period on each side of '..', e.g. 2025-01..2025-06");
    /* a third dot is the range's mistake, not the right-hand period's */
    check_range_error(GRAIN_MONTH, "2025-01...2025-03", PERIOD_SYNTAX,
                      "'2025-01...2025-03': a range is written with two dots, not 3: write 2025-01..2025-03");
    check_range_error(
        GRAIN_WEEK, "2025-W01....2025-W03", PERIOD_SYNTAX,
        "'2025-W01....2025-W03': a range is written with two dots, not 4: write 2025-W01..2025-W03");
    check_range_error(GRAIN_MONTH, "2025-01...", PERIOD_SYNTAX,
                      "'2025-01...': a range needs a period on each side of '..', e.g. 2025-01..2025-06");
    check_range_error(GRAIN_MONTH, "2025-01..2025-03..2025-05", PERIOD_SYNTAX,
                      "'2025-03..2025-05' is not a period: the spec's period is month, so write YYYY-MM, "
                      "e.g. 2025-05");
    check_range_error(
        GRAIN_MONTH, "2025-01 .. 2025-03", PERIOD_SYNTAX,
        "'2025-01 ' is not a period: the spec's period is month, so write YYYY-MM, e.g. 2025-05");
    check_range_error(GRAIN_MONTH, "2025-01..2025-13", PERIOD_INVALID,
                      "'2025-13': there is no month 13; months are 01 to 12");
    /* Each side must be the spec's grain; the suggestion covers the whole range. */
    check_range_error(GRAIN_QUARTER, "2025-01..2025-06", PERIOD_WRONG_GRAIN,
                      "'2025-01..2025-06' is a range of months, but the spec's period is quarter: "
                      "write 2025-Q1..2025-Q2");
    check_range_error(GRAIN_MONTH, "2025-Q1..2025-Q2", PERIOD_WRONG_GRAIN,
                      "'2025-Q1..2025-Q2' is a range of quarters, but the spec's period is month: "
                      "write 2025-01..2025-06");
    check_range_error(GRAIN_MONTH, "2025-01..2025-Q2", PERIOD_WRONG_GRAIN,
                      "'2025-01..2025-Q2': the spec's period is month: write 2025-01..2025-06");
    check_range_error(GRAIN_YEAR, "2025-01..2025-01", PERIOD_WRONG_GRAIN,
                      "'2025-01..2025-01' is a month, but the spec's period is year: write 2025");
    check_range_error(GRAIN_QUARTER, "2025", PERIOD_WRONG_GRAIN,
                      "'2025' is a year, but the spec's period is quarter: write 2025-Q1..2025-Q4");
}

/* ---- navigation ------------------------------------------------------------------------- */

static void test_previous_every_grain(void **state)
{
    (void)state;
    assert_label(prev(P(GRAIN_DAY, "2025-01-01")), "2024-12-31");
    assert_label(prev(P(GRAIN_DAY, "2024-03-01")), "2024-02-29");
    assert_label(prev(P(GRAIN_DAY, "2025-03-01")), "2025-02-28");
    assert_label(prev(P(GRAIN_WEEK, "2025-W01")), "2024-W52");
    assert_label(prev(P(GRAIN_WEEK, "2021-W01")), "2020-W53");
    assert_label(prev(P(GRAIN_WEEK, "2027-W01")), "2026-W53");
    assert_label(prev(P(GRAIN_WEEK, "2025-W20")), "2025-W19");
    assert_label(prev(P(GRAIN_MONTH, "2025-01")), "2024-12");
    assert_label(prev(P(GRAIN_MONTH, "2024-03")), "2024-02");
    assert_label(prev(P(GRAIN_QUARTER, "2025-Q1")), "2024-Q4");
    assert_label(prev(P(GRAIN_QUARTER, "2025-Q3")), "2025-Q2");
    assert_label(prev(P(GRAIN_YEAR, "2025")), "2024");
    /* previous() keeps the grain and the full length of the earlier period. */
    period_t feb = prev(P(GRAIN_MONTH, "2024-03"));
    assert_int_equal(feb.grain, GRAIN_MONTH);
    assert_int_equal(period_days(feb), 29);
    assert_int_equal(feb.end, P(GRAIN_MONTH, "2024-03").start);
}

static void test_shift(void **state)
{
    (void)state;
    period_t out;
    assert_true(period_shift(P(GRAIN_MONTH, "2025-05"), -14, &out));
    assert_label(out, "2024-03");
    assert_true(period_shift(P(GRAIN_MONTH, "2025-05"), 8, &out));
    assert_label(out, "2026-01");
    assert_true(period_shift(P(GRAIN_QUARTER, "2025-Q2"), -5, &out));
    assert_label(out, "2024-Q1");
    assert_true(period_shift(P(GRAIN_WEEK, "2021-W02"), -3, &out));
    assert_label(out, "2020-W52");
    assert_true(period_shift(P(GRAIN_DAY, "2024-03-01"), -366, &out));
    assert_label(out, "2023-03-01");
    assert_true(period_shift(P(GRAIN_YEAR, "2025"), 0, &out));
    assert_label(out, "2025");
    /* Absurd shifts fail instead of overflowing. */
    assert_false(period_shift(P(GRAIN_YEAR, "2025"), INT64_MIN, &out));
    assert_false(period_shift(P(GRAIN_QUARTER, "2025-Q1"), INT64_MAX, &out));
    assert_false(period_shift(P(GRAIN_WEEK, "2025-W01"), -400000, &out));
    assert_false(period_shift(P(GRAIN_MONTH, "2025-01"), -12 * 2025, &out));
    assert_true(period_shift(P(GRAIN_MONTH, "2025-01"), -12 * 2024, &out));
    assert_label(out, "0001-01");
    /* previous(previous(x)) == shift(x, -2), for every grain, across many starts. */
    const char *starts[] = { "2020-12-31", "2021-01-03", "2024-02-29", "2024-03-31", "2025-01-01" };
    for (size_t i = 0; i < sizeof starts / sizeof *starts; i++) {
        for (int g = GRAIN_DAY; g <= GRAIN_YEAR; g++) {
            period_t p, two;
            assert_true(period_of((ast_grain)g, D(starts[i]), &p));
            assert_true(period_shift(p, -2, &two));
            period_t pp = prev(prev(p));
            assert_int_equal(pp.start, two.start);
            assert_int_equal(pp.end, two.end);
            assert_int_equal(period_ordinal(p) - period_ordinal(two), 2);
        }
    }
}

static void test_last_year(void **state)
{
    (void)state;
    assert_label(last_year(P(GRAIN_DAY, "2024-02-29")), "2023-02-28");
    assert_label(last_year(P(GRAIN_DAY, "2028-02-29")), "2027-02-28");
    assert_label(last_year(P(GRAIN_DAY, "2025-02-28")), "2024-02-28");
    assert_label(last_year(P(GRAIN_DAY, "2025-03-01")), "2024-03-01");
    assert_label(last_year(P(GRAIN_DAY, "2025-01-01")), "2024-01-01");
    assert_label(last_year(P(GRAIN_WEEK, "2026-W53")), "2025-W52");
    assert_label(last_year(P(GRAIN_WEEK, "2020-W53")), "2019-W52");
    assert_label(last_year(P(GRAIN_WEEK, "2015-W53")), "2014-W52");
    assert_label(last_year(P(GRAIN_WEEK, "2021-W52")), "2020-W52");
    assert_label(last_year(P(GRAIN_WEEK, "2027-W01")), "2026-W01");
    assert_label(last_year(P(GRAIN_WEEK, "2025-W01")), "2024-W01");
    assert_label(last_year(P(GRAIN_WEEK, "2025-W20")), "2024-W20");
    assert_label(last_year(P(GRAIN_MONTH, "2025-01")), "2024-01");
    assert_label(last_year(P(GRAIN_MONTH, "2024-02")), "2023-02");
    assert_int_equal(period_days(last_year(P(GRAIN_MONTH, "2024-02"))), 28);
    assert_label(last_year(P(GRAIN_QUARTER, "2025-Q1")), "2024-Q1");
    assert_label(last_year(P(GRAIN_YEAR, "2025")), "2024");
    /* Composition: in either order, and nested. */
    assert_label(last_year(prev(P(GRAIN_DAY, "2025-03-01"))), "2024-02-28");
    assert_label(prev(last_year(P(GRAIN_DAY, "2025-03-01"))), "2024-02-29");
    assert_label(last_year(last_year(P(GRAIN_DAY, "2024-02-29"))), "2022-02-28");
    assert_label(last_year(prev(P(GRAIN_MONTH, "2025-01"))), "2023-12");
    assert_label(prev(last_year(P(GRAIN_MONTH, "2025-01"))), "2023-12");
    assert_label(last_year(prev(P(GRAIN_WEEK, "2027-W01"))), "2025-W52");
    assert_label(prev(last_year(P(GRAIN_WEEK, "2027-W01"))), "2025-W52");
    assert_label(last_year(prev(P(GRAIN_QUARTER, "2025-Q1"))), "2023-Q4");
}

static void test_ordinals(void **state)
{
    (void)state;
    assert_int_equal(period_ordinal(P(GRAIN_MONTH, "2025-01")) - period_ordinal(P(GRAIN_MONTH, "2024-12")),
                     1);
    assert_int_equal(period_ordinal(P(GRAIN_WEEK, "2021-W01")) - period_ordinal(P(GRAIN_WEEK, "2020-W53")),
                     1);
    assert_int_equal(period_ordinal(P(GRAIN_WEEK, "0001-W01")), 0);
    assert_int_equal(
        period_ordinal(P(GRAIN_QUARTER, "2025-Q1")) - period_ordinal(P(GRAIN_QUARTER, "2024-Q4")), 1);
    assert_int_equal(period_ordinal(P(GRAIN_DAY, "2025-01-01")) - period_ordinal(P(GRAIN_DAY, "2024-12-31")),
                     1);
    assert_int_equal(period_ordinal(P(GRAIN_YEAR, "2025")), 2025);
}

/* ---- membership and windows ------------------------------------------------------------- */

static void test_membership(void **state)
{
    (void)state;
    period_t may = P(GRAIN_MONTH, "2025-05");
    assert_true(period_contains(may, D("2025-05-01")));
    assert_true(period_contains(may, D("2025-05-31")));
    assert_false(period_contains(may, D("2025-06-01")));
    assert_false(period_contains(may, D("2025-04-30")));
    assert_true(period_in_previous(may, D("2025-04-01")));
    assert_true(period_in_previous(may, D("2025-04-30")));
    assert_false(period_in_previous(may, D("2025-03-31")));
    assert_false(period_in_previous(may, D("2025-05-01")));
    assert_true(period_before(may, D("2025-04-30")));
    assert_true(period_before(may, DATE_MIN));
    assert_false(period_before(may, D("2025-05-01")));
    assert_false(period_before(may, D("2025-06-01")));
    period_t w1 = P(GRAIN_WEEK, "2021-W01");
    assert_true(period_in_previous(w1, D("2020-12-28")));
    assert_true(period_in_previous(w1, D("2021-01-03")));
    assert_false(period_in_previous(w1, D("2021-01-04")));
    assert_false(period_in_previous(w1, D("2020-12-27")));
    period_interval iv = { D("2025-01-01"), D("2025-02-01") };
    assert_true(period_interval_contains(iv, D("2025-01-31")));
    assert_false(period_interval_contains(iv, D("2025-02-01")));
    assert_false(period_interval_contains(iv, D("2024-12-31")));
}

static void test_windows_month(void **state)
{
    (void)state;
    period_t mar = P(GRAIN_MONTH, "2025-03");
    period_interval iv;
    assert_true(period_window(mar, NULL, &iv));
    assert_window(iv, "2025-03-01", "2025-04-01");
    assert_window(window(mar, WINDOW_PERIOD, 0, WINDOW_DAYS), "2025-03-01", "2025-04-01");
    assert_window(window(mar, WINDOW_ALL_TIME, 0, WINDOW_DAYS), NULL, "2025-04-01");
    assert_window(window(mar, WINDOW_YEAR_TO_DATE, 0, WINDOW_DAYS), "2025-01-01", "2025-04-01");
    assert_window(LAST(mar, 1, WINDOW_DAYS), "2025-03-31", "2025-04-01");
    assert_window(LAST(mar, 7, WINDOW_DAYS), "2025-03-25", "2025-04-01");
    assert_window(LAST(mar, 90, WINDOW_DAYS), "2025-01-01", "2025-04-01");
    assert_window(LAST(mar, 2, WINDOW_WEEKS), "2025-03-18", "2025-04-01");
    assert_window(LAST(mar, 1, WINDOW_MONTHS), "2025-03-01", "2025-04-01");
    assert_window(LAST(mar, 3, WINDOW_MONTHS), "2025-01-01", "2025-04-01");
    assert_window(LAST(mar, 12, WINDOW_MONTHS), "2024-04-01", "2025-04-01");
    /* A leap February inside last N days. */
    assert_window(LAST(P(GRAIN_MONTH, "2024-03"), 60, WINDOW_DAYS), "2024-02-01", "2024-04-01");
    /* A year-to-date window for the first period of a year is that period. */
    assert_window(window(P(GRAIN_MONTH, "2025-01"), WINDOW_YEAR_TO_DATE, 0, WINDOW_DAYS), "2025-01-01",
                  "2025-02-01");
    assert_window(window(P(GRAIN_QUARTER, "2025-Q4"), WINDOW_YEAR_TO_DATE, 0, WINDOW_DAYS), "2025-01-01",
                  "2026-01-01");
    assert_window(window(P(GRAIN_YEAR, "2025"), WINDOW_YEAR_TO_DATE, 0, WINDOW_DAYS), "2025-01-01",
                  "2026-01-01");
    assert_window(LAST(P(GRAIN_QUARTER, "2024-Q1"), 2, WINDOW_MONTHS), "2024-02-01", "2024-04-01");
}

static void test_windows_at_month_ends(void **state)
{
    (void)state;
    /* Day 2025-03-31: end is 2025-04-01, so last 1 months is all of March. */
    period_t d = P(GRAIN_DAY, "2025-03-31");
    assert_window(LAST(d, 1, WINDOW_MONTHS), "2025-03-01", "2025-04-01");
    assert_window(LAST(d, 1, WINDOW_DAYS), "2025-03-31", "2025-04-01");
    assert_window(LAST(d, 1, WINDOW_WEEKS), "2025-03-25", "2025-04-01");
    assert_window(window(d, WINDOW_YEAR_TO_DATE, 0, WINDOW_DAYS), "2025-01-01", "2025-04-01");
    assert_window(window(d, WINDOW_PERIOD, 0, WINDOW_DAYS), "2025-03-31", "2025-04-01");
    /* Week 2025-W13 (2025-03-24 .. 03-30) ends at 2025-03-31: minus 1 month clamps to 02-28. */
    period_t w = P(GRAIN_WEEK, "2025-W13");
    assert_int_equal(w.end, D("2025-03-31"));
    assert_window(LAST(w, 1, WINDOW_MONTHS), "2025-02-28", "2025-03-31");
    assert_window(LAST(w, 13, WINDOW_MONTHS), "2024-02-29", "2025-03-31"); /* leap clamp */
    assert_window(LAST(w, 4, WINDOW_WEEKS), "2025-03-03", "2025-03-31");
    assert_window(LAST(w, 1, WINDOW_WEEKS), "2025-03-24", "2025-03-31");
    assert_window(window(w, WINDOW_YEAR_TO_DATE, 0, WINDOW_DAYS), "2025-01-01", "2025-03-31");
    /* Day 2024-03-30 ends 2024-03-31: minus 1 month clamps to the leap day. */
    assert_window(LAST(P(GRAIN_DAY, "2024-03-30"), 1, WINDOW_MONTHS), "2024-02-29", "2024-03-31");
    /* Day 2024-02-29 ends 2024-03-01. */
    period_t leap = P(GRAIN_DAY, "2024-02-29");
    assert_window(LAST(leap, 12, WINDOW_MONTHS), "2023-03-01", "2024-03-01");
    assert_window(LAST(leap, 1, WINDOW_MONTHS), "2024-02-01", "2024-03-01");
    assert_window(LAST(leap, 30, WINDOW_DAYS), "2024-01-31", "2024-03-01");
    /* A day ending on the 31st of a 31-day month minus one month into a 30-day month. */
    assert_window(LAST(P(GRAIN_DAY, "2025-05-30"), 1, WINDOW_MONTHS), "2025-04-30", "2025-05-31");
    /* Year to date for an ISO week that starts in December uses the December's
     * calendar year, exactly as docs/language.md §4–5 says (period.start's year). */
    assert_window(window(P(GRAIN_WEEK, "2025-W01"), WINDOW_YEAR_TO_DATE, 0, WINDOW_DAYS), "2024-01-01",
                  "2025-01-06");
    assert_window(window(P(GRAIN_WEEK, "2025-W02"), WINDOW_YEAR_TO_DATE, 0, WINDOW_DAYS), "2025-01-01",
                  "2025-01-13");
}

static void test_windows_move_with_previous_and_last_year(void **state)
{
    (void)state;
    period_t may = P(GRAIN_MONTH, "2025-05");
    assert_window(LAST(prev(may), 3, WINDOW_MONTHS), "2025-02-01", "2025-05-01");
    assert_window(window(last_year(may), WINDOW_YEAR_TO_DATE, 0, WINDOW_DAYS), "2024-01-01", "2024-06-01");
    assert_window(window(prev(P(GRAIN_MONTH, "2025-01")), WINDOW_YEAR_TO_DATE, 0, WINDOW_DAYS), "2024-01-01",
                  "2025-01-01");
}

static void test_window_limits(void **state)
{
    (void)state;
    period_t may = P(GRAIN_MONTH, "2025-05");
    /* Reaching before year 1 is "all of it": clamped, not an error. */
    assert_window(LAST(may, 100000, WINDOW_MONTHS), NULL, "2025-06-01");
    assert_window(LAST(may, 100000, WINDOW_WEEKS), "0108-11-18", "2025-06-01");
    assert_window(LAST(may, 1000000, WINDOW_WEEKS), NULL, "2025-06-01");
    assert_window(LAST(may, INT64_MAX, WINDOW_WEEKS), NULL, "2025-06-01");
    assert_window(LAST(may, INT64_MAX, WINDOW_DAYS), NULL, "2025-06-01");
    assert_window(LAST(may, INT64_MAX, WINDOW_MONTHS), NULL, "2025-06-01");
    period_t first = P(GRAIN_DAY, "0001-01-01");
    assert_window(LAST(first, 1, WINDOW_DAYS), "0001-01-01", "0001-01-02");
    assert_window(LAST(first, 2, WINDOW_DAYS), NULL, "0001-01-02");
    /* The last year ends one past DATE_MAX; windows still work. */
    period_t y = P(GRAIN_YEAR, "9999");
    period_interval iv = LAST(y, 1, WINDOW_MONTHS);
    assert_int_equal(iv.from, D("9999-12-01"));
    assert_int_equal(iv.to, DATE_MAX + 1);
    iv = LAST(y, 1, WINDOW_DAYS);
    assert_int_equal(iv.from, DATE_MAX);
    /* Malformed windows are refused. */
    ast_window w;
    memset(&w, 0, sizeof w);
    w.kind = WINDOW_LAST;
    w.unit = WINDOW_DAYS;
    w.count = 0;
    period_interval untouched = { 7, 8 };
    assert_false(period_window(may, &w, &untouched));
    w.count = -3;
    assert_false(period_window(may, &w, &untouched));
    assert_int_equal(untouched.from, 7);
    assert_int_equal(untouched.to, 8);
}

/* ---- employment -------------------------------------------------------------------------- */

static void assert_fraction(period_fraction f, int32_t num, int32_t den)
{
    assert_int_equal(f.num, num);
    assert_int_equal(f.den, den);
}

static void test_employed(void **state)
{
    (void)state;
    period_t may = P(GRAIN_MONTH, "2025-05");
    date_t s, e;
    assert_fraction(period_employed(may, NULL, NULL), 31, 31);
    s = D("2025-05-16"); /* joins mid-month: the 16th to the 31st */
    assert_fraction(period_employed(may, &s, NULL), 16, 31);
    e = D("2025-05-11"); /* leaves: works the 1st to the 10th */
    assert_fraction(period_employed(may, NULL, &e), 10, 31);
    s = D("2025-05-10");
    e = D("2025-05-20");
    assert_fraction(period_employed(may, &s, &e), 10, 31);
    s = D("2025-05-01");
    assert_fraction(period_employed(may, &s, NULL), 31, 31);
    s = D("2020-01-01");
    e = D("2030-01-01");
    assert_fraction(period_employed(may, &s, &e), 31, 31);
    e = D("2025-06-01"); /* end exclusive: leaving on June 1 works all of May */
    assert_fraction(period_employed(may, NULL, &e), 31, 31);
    e = D("2025-05-31");
    assert_fraction(period_employed(may, NULL, &e), 30, 31);
    s = D("2025-05-31");
    assert_fraction(period_employed(may, &s, NULL), 1, 31);
    assert_true(period_is_employed(may, &s, NULL));
    /* Not employed in the period at all. */
    s = D("2025-06-01");
    assert_fraction(period_employed(may, &s, NULL), 0, 31);
    assert_false(period_is_employed(may, &s, NULL));
    e = D("2025-05-01");
    assert_fraction(period_employed(may, NULL, &e), 0, 31);
    assert_false(period_is_employed(may, NULL, &e));
    e = D("2025-04-15");
    assert_false(period_is_employed(may, NULL, &e));
    /* End before start (a bad roster row): 0 days, never negative. */
    s = D("2025-05-20");
    e = D("2025-05-10");
    assert_fraction(period_employed(may, &s, &e), 0, 31);
    s = e;
    assert_fraction(period_employed(may, &s, &e), 0, 31);
    /* Other grains: the denominator is the period's days. */
    s = D("2024-02-15");
    assert_fraction(period_employed(P(GRAIN_MONTH, "2024-02"), &s, NULL), 15, 29);
    assert_fraction(period_employed(P(GRAIN_YEAR, "2024"), &s, NULL), 321, 366);
    s = D("2025-05-14"); /* Wednesday of 2025-W20 */
    assert_fraction(period_employed(P(GRAIN_WEEK, "2025-W20"), &s, NULL), 5, 7);
    assert_fraction(period_employed(P(GRAIN_DAY, "2025-05-13"), &s, NULL), 0, 1);
    assert_fraction(period_employed(P(GRAIN_DAY, "2025-05-14"), &s, NULL), 1, 1);
    assert_fraction(period_employed(P(GRAIN_QUARTER, "2025-Q2"), &s, NULL), 48, 91);
}

/* Which role periods a spec's grain can be scored in (docs/language.md "Role periods"). */
static void test_grain_tiles(void **state)
{
    (void)state;
    assert_true(period_grain_tiles(GRAIN_MONTH, GRAIN_QUARTER));
    assert_true(period_grain_tiles(GRAIN_MONTH, GRAIN_YEAR));
    assert_true(period_grain_tiles(GRAIN_QUARTER, GRAIN_YEAR));
    assert_true(period_grain_tiles(GRAIN_DAY, GRAIN_WEEK));
    assert_true(period_grain_tiles(GRAIN_MONTH, GRAIN_MONTH));
    assert_false(period_grain_tiles(GRAIN_WEEK, GRAIN_MONTH));
    assert_false(period_grain_tiles(GRAIN_WEEK, GRAIN_YEAR));
    assert_false(period_grain_tiles(GRAIN_QUARTER, GRAIN_MONTH));
    assert_false(period_grain_tiles(GRAIN_YEAR, GRAIN_QUARTER));
}

/* A range built from its two ends: counted, refused backwards, past the limit or across
 * grains. */
static void test_range_between(void **state)
{
    (void)state;
    period_range r;
    assert_int_equal(period_range_between(P(GRAIN_MONTH, "2025-04"), P(GRAIN_MONTH, "2025-06"), &r), PERIOD_OK);
    assert_int_equal(r.count, 3);
    assert_label(r.first, "2025-04");
    assert_label(r.last, "2025-06");
    assert_int_equal(period_range_between(P(GRAIN_MONTH, "2025-06"), P(GRAIN_MONTH, "2025-04"), &r),
                     PERIOD_BAD_RANGE);
    assert_int_equal(period_range_between(P(GRAIN_DAY, "2025-01-01"), P(GRAIN_DAY, "2027-09-27"), &r), PERIOD_OK);
    assert_int_equal(r.count, PERIOD_RANGE_MAX);
    assert_int_equal(period_range_between(P(GRAIN_DAY, "2025-01-01"), P(GRAIN_DAY, "2027-09-28"), &r),
                     PERIOD_BAD_RANGE);
    assert_int_equal(period_range_between(P(GRAIN_MONTH, "2025-04"), P(GRAIN_QUARTER, "2025-Q2"), &r),
                     PERIOD_WRONG_GRAIN);
}

/* A month and the quarter it opens share a first day and are two periods, the month
 * sorted first. */
static void test_same_and_compare(void **state)
{
    (void)state;
    period_t april = P(GRAIN_MONTH, "2025-04"), q2 = P(GRAIN_QUARTER, "2025-Q2");
    assert_true(period_same(april, P(GRAIN_MONTH, "2025-04")));
    assert_false(period_same(april, q2));
    assert_false(period_same(april, P(GRAIN_MONTH, "2025-05")));
    period_t sorted[] = { P(GRAIN_MONTH, "2025-05"), q2, april, P(GRAIN_QUARTER, "2025-Q1") };
    qsort(sorted, 4, sizeof *sorted, period_compare);
    assert_label(sorted[0], "2025-Q1");
    assert_label(sorted[1], "2025-04");
    assert_label(sorted[2], "2025-Q2");
    assert_label(sorted[3], "2025-05");
    assert_int_equal(period_compare(&april, &april), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_form),
        cmocka_unit_test(test_iso_weeks),
        cmocka_unit_test(test_period_of_every_grain),
        cmocka_unit_test(test_format_truncates),
        cmocka_unit_test(test_supported_edges),
        cmocka_unit_test(test_invalid_values),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_null_message_buffer),
        cmocka_unit_test(test_wrong_grain),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_range_limit),
        cmocka_unit_test(test_range_errors),
        cmocka_unit_test(test_previous_every_grain),
        cmocka_unit_test(test_shift),
        cmocka_unit_test(test_last_year),
        cmocka_unit_test(test_ordinals),
        cmocka_unit_test(test_membership),
        cmocka_unit_test(test_windows_month),
        cmocka_unit_test(test_windows_at_month_ends),
        cmocka_unit_test(test_windows_move_with_previous_and_last_year),
        cmocka_unit_test(test_window_limits),
        cmocka_unit_test(test_employed),
        cmocka_unit_test(test_grain_tiles),
        cmocka_unit_test(test_same_and_compare),
        cmocka_unit_test(test_range_between),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
