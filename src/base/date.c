/* date.c — day-number calendar arithmetic (see date.h).
 *
 * Conversions between day numbers and year/month/day use Howard Hinnant's
 * branch-light algorithms (days_from_civil / civil_from_days), which are exact
 * for the whole proleptic Gregorian calendar; we only restrict their inputs to
 * years 1..9999 so that every date has a four-digit text form.
 */
#include "kpic/date.h"

#include <string.h>

const char *date_status_text(date_status status)
{
    switch (status) {
    case DATE_OK: return "ok";
    case DATE_SYNTAX: return "expected YYYY-MM-DD, optionally followed by T or a space and HH:MM[:SS]";
    case DATE_INVALID: return "no such date or time";
    }
    return "unknown date status";
}

/* Days from 1970-01-01 to Y-M-D; valid for any Y, M in 1..12, D in 1..31. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                  /* 0..399 */
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          /* 0..146096 */
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *year, int *month, int *day)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                                      /* 0..146096 */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0..399 */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* 0..365 */
    int64_t mp = (5 * doy + 2) / 153;                                    /* 0..11 */
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    int y = (int)(yoe + era * 400 + (m <= 2));
    if (year) *year = y;
    if (month) *month = m;
    if (day) *day = d;
}

static bool in_range(int64_t days)
{
    return days >= DATE_MIN && days <= DATE_MAX;
}

bool date_is_leap_year(int year)
{
    /* Written so that the common case (not a multiple of 4) costs one test. */
    return (year & 3) == 0 && (year % 100 != 0 || year % 400 == 0);
}

int date_days_in_month(int year, int month)
{
    static const int DAYS[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (month < 1 || month > 12) return 0;
    return month == 2 && date_is_leap_year(year) ? 29 : DAYS[month - 1];
}

bool date_from_ymd(int year, int month, int day, date_t *out)
{
    /* This runs for every date cell, on data whose years and months vary at
     * random, so leap-year and range tests are combined with & and | rather
     * than && and || to avoid unpredictable branches. */
    if ((year < 1) | (year > 9999) | (month < 1) | (month > 12) | (day < 1) | (day > 31)) return false;
    unsigned y = (unsigned)year;
    unsigned leap = ((y & 3) == 0) & ((y % 100 != 0) | (y % 400 == 0));
    static const int DAYS_IN_MONTH[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (day > DAYS_IN_MONTH[month - 1] + (int)((month == 2) & leap)) return false;
    /* For years >= 1 a direct count is cheaper than days_from_civil: whole
     * years since 0001-01-01 with their leap days, days before the month, then
     * the day.  719162 is 1970-01-01's count. */
    static const int DAYS_BEFORE_MONTH[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
    unsigned y1 = y - 1;
    *out = (date_t)(365 * y1 + y1 / 4 - y1 / 100 + y1 / 400) + DAYS_BEFORE_MONTH[month - 1] +
           (int)((month > 2) & leap) + day - 1 - 719162;
    return true;
}

void date_to_ymd(date_t d, int *year, int *month, int *day)
{
    civil_from_days(d, year, month, day);
}

int date_year(date_t d)
{
    int y;
    civil_from_days(d, &y, NULL, NULL);
    return y;
}

int date_month(date_t d)
{
    int m;
    civil_from_days(d, NULL, &m, NULL);
    return m;
}

int date_day(date_t d)
{
    int day;
    civil_from_days(d, NULL, NULL, &day);
    return day;
}

int date_weekday(date_t d)
{
    /* 1970-01-01 was a Thursday (4). */
    int64_t r = ((int64_t)d % 7 + 7) % 7; /* 0 = Thursday */
    return (int)((r + 3) % 7) + 1;
}

/* ---- text ------------------------------------------------------------------ */

date_status date_parse(const char *text, size_t len, date_t *out)
{
    /* Shape first, then values, so that "2025-13-01" is a bad date but
     * "2025-1-01" is bad syntax.  This runs for every date cell of a file, so
     * the digit tests are combined without branches: each d(i) is a digit's
     * value, or a large number if the byte is not a digit. */
    if (len != 10 && len != 16 && len != 19) return DATE_SYNTAX;
    const unsigned char *s = (const unsigned char *)text;
#define d(i) ((unsigned)s[i] - '0')
    bool bad = (d(0) > 9) | (d(1) > 9) | (d(2) > 9) | (d(3) > 9) | (s[4] != '-') | (d(5) > 9) | (d(6) > 9) |
               (s[7] != '-') | (d(8) > 9) | (d(9) > 9);
    unsigned hour = 0, minute = 0, second = 0;
    if (len >= 16) {
        bad |= (s[10] != 'T' && s[10] != ' ') | (d(11) > 9) | (d(12) > 9) | (s[13] != ':') | (d(14) > 9) |
               (d(15) > 9);
        hour = d(11) * 10 + d(12);
        minute = d(14) * 10 + d(15);
        if (len == 19) {
            bad |= (s[16] != ':') | (d(17) > 9) | (d(18) > 9);
            second = d(17) * 10 + d(18);
        }
    }
    if (bad) return DATE_SYNTAX;
    int year = (int)(d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3));
    int month = (int)(d(5) * 10 + d(6)), day = (int)(d(8) * 10 + d(9));
#undef d
    date_t result;
    /* Seconds up to 60: a leap second is a real time of day. */
    if (hour > 23 || minute > 59 || second > 60 || !date_from_ymd(year, month, day, &result))
        return DATE_INVALID;
    *out = result;
    return DATE_OK;
}

size_t date_format(date_t d, char *buf, size_t size)
{
    int y, m, day;
    civil_from_days(d, &y, &m, &day);
    char text[DATE_FORMAT_SIZE];
    /* Fixed-width digits by hand: snprintf("%04d") would do, but this makes the
     * "always 10 characters" contract obvious and cannot fail. */
    int parts[3] = { y, m, day };
    int widths[3] = { 4, 2, 2 };
    size_t n = 0;
    for (int p = 0; p < 3; p++) {
        if (p > 0) text[n++] = '-';
        int v = parts[p];
        for (int i = widths[p] - 1; i >= 0; i--) {
            text[n + (size_t)i] = (char)('0' + v % 10);
            v /= 10;
        }
        n += (size_t)widths[p];
    }
    text[n] = '\0';
    if (size > 0) {
        size_t copy = n < size - 1 ? n : size - 1;
        memcpy(buf, text, copy);
        buf[copy] = '\0';
    }
    return n;
}

/* ---- weeks, months, quarters ----------------------------------------------- */

date_t date_week_start(date_t d)
{
    return (date_t)(d - (date_weekday(d) - 1));
}

void date_iso_week(date_t d, int *iso_year, int *week)
{
    /* The ISO year of a week is the calendar year of its Thursday. */
    int64_t thursday = (int64_t)d - (date_weekday(d) - 1) + 3;
    int y;
    civil_from_days(thursday, &y, NULL, NULL);
    int64_t jan1 = days_from_civil(y, 1, 1);
    if (iso_year) *iso_year = y;
    if (week) *week = (int)((thursday - jan1) / 7 + 1);
}

int date_iso_weeks_in_year(int iso_year)
{
    /* December 28 is always in the last ISO week of its year. */
    int week;
    date_iso_week((date_t)days_from_civil(iso_year, 12, 28), NULL, &week);
    return week;
}

bool date_from_iso_week(int iso_year, int week, date_t *out)
{
    if (iso_year < 1 || iso_year > 9999 || week < 1 || week > date_iso_weeks_in_year(iso_year)) return false;
    /* January 4 is always in week 1. */
    int64_t jan4 = days_from_civil(iso_year, 1, 4);
    int64_t monday = jan4 - (date_weekday((date_t)jan4) - 1) + 7 * (int64_t)(week - 1);
    if (!in_range(monday)) return false;
    *out = (date_t)monday;
    return true;
}

date_t date_month_start(date_t d)
{
    int y, m;
    civil_from_days(d, &y, &m, NULL);
    return (date_t)days_from_civil(y, m, 1);
}

date_t date_quarter_start(date_t d)
{
    int y, m;
    civil_from_days(d, &y, &m, NULL);
    return (date_t)days_from_civil(y, (m - 1) / 3 * 3 + 1, 1);
}

date_t date_year_start(date_t d)
{
    int y;
    civil_from_days(d, &y, NULL, NULL);
    return (date_t)days_from_civil(y, 1, 1);
}

bool date_add_days(date_t d, int64_t days, date_t *out)
{
    /* Both ranges are far inside int64_t unless DAYS is absurd; reject those
     * before adding so the sum itself cannot overflow. */
    if (days > (int64_t)DATE_MAX - DATE_MIN || days < -((int64_t)DATE_MAX - DATE_MIN)) return false;
    int64_t r = (int64_t)d + days;
    if (!in_range(r)) return false;
    *out = (date_t)r;
    return true;
}

bool date_add_months(date_t d, int64_t months, date_t *out)
{
    if (months > 12 * 10000 || months < -12 * 10000) return false;
    int y, m, day;
    civil_from_days(d, &y, &m, &day);
    int64_t index = (int64_t)y * 12 + (m - 1) + months; /* months since year 0 */
    int64_t ny = index >= 0 ? index / 12 : (index - 11) / 12;
    int nm = (int)(index - ny * 12) + 1;
    if (ny < 1 || ny > 9999) return false;
    int dim = date_days_in_month((int)ny, nm);
    return date_from_ymd((int)ny, nm, day < dim ? day : dim, out);
}
