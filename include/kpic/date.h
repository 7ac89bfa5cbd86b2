/* date.h — calendar dates as day numbers (prefix date_).
 *
 * Owns: the date_t type, the text forms of dates and datetimes that kpic reads
 * (docs/language.md §3) and writes, and the calendar arithmetic the evaluator needs for
 * periods and windows: ISO weeks, months with day clamping, quarters, years.
 *
 * A date is the number of days since 1970-01-01 in the proleptic Gregorian
 * calendar, so ordering and "N days later" are integer operations and a
 * datetime's time of day is simply dropped.  Supported dates run from
 * 0001-01-01 to 9999-12-31 (the years with four-digit text); functions that
 * produce dates report when a result would leave that range.  Nothing here
 * depends on the locale or the time zone.
 */
#ifndef KPIC_DATE_H
#define KPIC_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Days since 1970-01-01 (negative before). */
typedef int32_t date_t;

#define DATE_MIN ((date_t)-719162) /* 0001-01-01 */
#define DATE_MAX ((date_t)2932896) /* 9999-12-31 */

/* Buffer size for date_format(): "YYYY-MM-DD" and the NUL. */
#define DATE_FORMAT_SIZE 11

typedef enum date_status {
    DATE_OK = 0,
    DATE_SYNTAX,  /* not of the form YYYY-MM-DD[(T| )HH:MM[:SS]] */
    DATE_INVALID, /* the right shape, but no such day or time (2025-02-29, 24:00) */
} date_status;

/* A short English description of a status. */
const char *date_status_text(date_status status);

/* Parses TEXT[0..LEN) as one of
 *     YYYY-MM-DD
 *     YYYY-MM-DDTHH:MM     YYYY-MM-DD HH:MM
 *     YYYY-MM-DDTHH:MM:SS  YYYY-MM-DD HH:MM:SS
 * with exactly these digit counts and nothing else (no fractions of a second,
 * no time zone, no surrounding spaces).  Every part is validated: the day must
 * exist in that month (leap years included), hours 00-23, minutes 00-59,
 * seconds 00-60 (60 is a leap second).  The time is then dropped: *OUT gets the
 * date.  Year 0000 is out of range (DATE_INVALID).  *OUT is written only on
 * DATE_OK. */
date_status date_parse(const char *text, size_t len, date_t *out);

/* Writes D as "YYYY-MM-DD" into BUF (NUL-terminated when SIZE > 0, truncated if
 * short); returns 10, the full length.  D must be within DATE_MIN..DATE_MAX. */
size_t date_format(date_t d, char *buf, size_t size);

/* The date of YEAR-MONTH-DAY in *OUT; false (and *OUT untouched) if there is no
 * such day or it is out of range. */
bool date_from_ymd(int year, int month, int day, date_t *out);

/* Splits D into year, month (1-12) and day (1-31); any pointer may be NULL. */
void date_to_ymd(date_t d, int *year, int *month, int *day);

int date_year(date_t d);
int date_month(date_t d); /* 1-12 */
int date_day(date_t d);   /* 1-31 */

/* ISO weekday: 1 = Monday ... 7 = Sunday. */
int date_weekday(date_t d);

bool date_is_leap_year(int year);

/* Days in MONTH (1-12) of YEAR; 0 for a month outside 1-12. */
int date_days_in_month(int year, int month);

/* ISO 8601 week of D: the week-numbering year (which differs from the calendar
 * year around New Year: 2021-01-03 is in 2020-W53) and the week 1-53.  Weeks
 * start on Monday; week 1 is the week with the year's first Thursday. */
void date_iso_week(date_t d, int *iso_year, int *week);

/* Number of ISO weeks (52 or 53) in ISO year ISO_YEAR. */
int date_iso_weeks_in_year(int iso_year);

/* The Monday of ISO week WEEK of ISO_YEAR in *OUT; false if the week does not
 * exist in that year (week 53 of a 52-week year) or is out of range. */
bool date_from_iso_week(int iso_year, int week, date_t *out);

/* The Monday on or before D (start of its ISO week). */
date_t date_week_start(date_t d);

/* The first day of D's month, quarter, year. */
date_t date_month_start(date_t d);
date_t date_quarter_start(date_t d);
date_t date_year_start(date_t d);

/* *OUT = D + DAYS (DAYS may be negative); false if out of range. */
bool date_add_days(date_t d, int64_t days, date_t *out);

/* *OUT = D moved by MONTHS calendar months (may be negative), the day clamped
 * to the end of the target month: 2025-03-31 - 1 month = 2025-02-28,
 * 2024-02-29 + 12 months = 2025-02-28.  False if out of range. */
bool date_add_months(date_t d, int64_t months, date_t *out);

#endif /* KPIC_DATE_H */
