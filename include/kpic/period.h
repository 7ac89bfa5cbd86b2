/* period.h — reporting periods and the date windows around them (prefix period_).
 *
 * Owns: the period_t value (a grain and a half-open range of days), its label
 * text (docs/cli.md: 2025-05-17, 2025-W20, 2025-05, 2025-Q2, 2025), parsing of the
 * `--period P` argument including ranges `A..B`, navigation between periods
 * (previous(), last_year(), shifting by k), the date range of every window of
 * docs/language.md §4–5, the `d in period | in previous period | before period` tests,
 * and the employed fraction of §2.5.  Everything here is pure arithmetic on
 * date_t values (date.h): no allocation, no locale, no time zone.
 *
 * A period is [start, end): START is its first day, END the first day after it.
 * Every day of a period is a supported date (DATE_MIN..DATE_MAX), so END may be
 * DATE_MAX + 1 (for the year 9999 and the periods that end with it).  END is a
 * bound, not necessarily a date with text: do not pass DATE_MAX + 1 to
 * date_format().
 *
 * Errors are returned as a status plus a one-line English message written into a
 * caller's buffer, with no "kpic:" prefix and no trailing newline; the CLI adds
 * its own prefix.  Messages quote the offending text and say what was expected.
 */
#ifndef KPIC_PERIOD_H
#define KPIC_PERIOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kpic/ast.h"
#include "kpic/date.h"

/* Buffer size for period_format(): the longest label is a day, "YYYY-MM-DD". */
#define PERIOD_LABEL_SIZE 11

/* Buffer size that always holds a period_parse*() message without truncation. */
#define PERIOD_MESSAGE_SIZE 192

/* Most periods one `--period A..B` may name.  Every period of a range gets its own
 * accumulators for every aggregate and staff member in the single pass over the
 * data (plus the shifted periods that previous() and last_year() need), and its
 * own block of output, so cost grows linearly with the count.  1000 covers every
 * sensible request -- 2.7 years of days, 19 years of weeks, 83 years of months --
 * while a slip such as 2025-01..2205-01 (2161 months) is an error instead of a
 * run that exhausts memory. */
#define PERIOD_RANGE_MAX 1000

/* One reporting period. */
typedef struct period_t {
    ast_grain grain; /* day, week (ISO, Monday start), month, quarter, year */
    date_t start;    /* first day of the period */
    date_t end;      /* first day after the period (exclusive); <= DATE_MAX + 1 */
} period_t;

/* An inclusive run of consecutive periods of one grain: `--period A..B`. */
typedef struct period_range {
    period_t first;
    period_t last; /* same grain as FIRST, FIRST.start <= LAST.start */
    size_t count;  /* periods from FIRST to LAST inclusive: 1..PERIOD_RANGE_MAX */
} period_range;

/* A half-open range of dates [from, to).  FROM == DATE_MIN means "no lower
 * bound" (`all time`, or a window reaching back before year 1 -- the same thing,
 * since no supported date is earlier). */
typedef struct period_interval {
    date_t from;
    date_t to;
} period_interval;

/* An exact fraction num/den of a period's days; den is the period's day count. */
typedef struct period_fraction {
    int32_t num;
    int32_t den;
} period_fraction;

/* Outcome of parsing.  PERIOD_OK is 0. */
typedef enum period_status {
    PERIOD_OK = 0,
    PERIOD_SYNTAX,      /* not one of the forms of docs/cli.md, or a malformed range */
    PERIOD_INVALID,     /* the right form, but no such period (2025-13, 2025-W53, 2025-02-30) */
    PERIOD_WRONG_GRAIN, /* a valid period of another grain than the spec's period */
    PERIOD_BAD_RANGE,   /* A..B with A after B, or more than PERIOD_RANGE_MAX periods */
} period_status;

/* ---- making and showing periods ----------------------------------------------- */

/* The period of GRAIN that contains day D, in *OUT.  False (and *OUT untouched)
 * if D is outside DATE_MIN..DATE_MAX or the period would run past DATE_MAX (the
 * ISO weeks that end in the year 10000). */
bool period_of(ast_grain grain, date_t d, period_t *out);

/* Writes P's label into BUF (NUL-terminated when SIZE > 0, truncated if short)
 * and returns its full length, like snprintf:
 *     day 2025-05-17   week 2025-W20   month 2025-05   quarter 2025-Q2   year 2025
 * A week's label carries its ISO year, which differs from the calendar year of
 * its Monday around New Year (the week starting 2024-12-30 is 2025-W01).
 * PERIOD_LABEL_SIZE is always enough.  This is also the exact text period_parse()
 * accepts, so labels round-trip. */
size_t period_format(period_t p, char *buf, size_t size);

/* Whether every period of COARSE is a run of whole periods of FINE, so that a role
 * whose period is COARSE can be scored in a spec whose period is FINE
 * (docs/language.md "Role periods"): days tile everything, months tile quarters and
 * years, quarters tile years, every grain tiles itself; ISO weeks tile nothing
 * coarser (a month does not start on a Monday). */
bool period_grain_tiles(ast_grain fine, ast_grain coarse);

/* Number of days in P: 1, 7, 28-31, 90-92, 365 or 366. */
int32_t period_days(period_t p);

/* Whether A and B are one period: the same grain and first day (a month and the quarter
 * it opens share a first day and are two periods). */
bool period_same(period_t a, period_t b);

/* Orders periods by first day, then by grain (a month before the quarter it opens): a
 * qsort comparator over period_t. */
int period_compare(const void *a, const void *b);

/* A number for P such that consecutive periods of one grain have consecutive
 * numbers (so b - a counts the periods from a to b).  Meaningless across grains. */
int64_t period_ordinal(period_t p);

/* ---- parsing `--period P` ------------------------------------------------------ */

/* Parses TEXT[0..LEN) as one period of GRAIN, the spec's `period` grain, into
 * *OUT.  The forms, exactly (ASCII digits, capital W and Q, no spaces):
 *     day      YYYY-MM-DD   a date that exists (2024-02-29 yes, 2025-02-29 no)
 *     week     YYYY-Www     ISO year and week W01..W52 or W53 where that ISO year has 53
 *     month    YYYY-MM      01..12
 *     quarter  YYYY-Qn      Q1..Q4
 *     year     YYYY
 * with years 0001..9999.  The form must be GRAIN's: any other valid period is
 * PERIOD_WRONG_GRAIN, whose message names the spec's grain and writes out the
 * equivalent argument -- the period(s) of GRAIN that cover the one given, e.g.
 * "'2025-05' is a month, but the spec's period is quarter: write 2025-Q2", or
 * "... period is month: write 2025-01..2025-12" for 2025.  A range is
 * PERIOD_SYNTAX here (use period_parse_range).  On failure writes a message to
 * MSG (NUL-terminated when MSG_SIZE > 0; MSG may be NULL) and leaves *OUT
 * untouched; on success MSG is untouched. */
period_status period_parse(const char *text, size_t len, ast_grain grain, period_t *out, char *msg,
                           size_t msg_size);

/* Parses TEXT[0..LEN) as the `--period` argument: one period (a range of count
 * 1) or A..B, two periods of GRAIN's form joined by "..", B included.  Each side
 * is checked as by period_parse(); then A must not be after B (PERIOD_BAD_RANGE,
 * message suggests B..A) and the range may hold at most PERIOD_RANGE_MAX periods
 * (PERIOD_BAD_RANGE).  A range whose sides are of another grain is
 * PERIOD_WRONG_GRAIN with the covering range of GRAIN as the suggestion
 * ("2025-01..2025-06" for a quarter spec: "write 2025-Q1..2025-Q2").  Messages and
 * *OUT as period_parse(). */
period_status period_parse_range(const char *text, size_t len, ast_grain grain, period_range *out, char *msg,
                                 size_t msg_size);

/* The range A..B of two periods of one grain in *OUT: PERIOD_OK, else PERIOD_BAD_RANGE
 * when A is after B or the range would hold more than PERIOD_RANGE_MAX periods (as
 * period_parse_range), PERIOD_WRONG_GRAIN when their grains differ; *OUT untouched. */
period_status period_range_between(period_t a, period_t b, period_range *out);

/* Writes the R->count periods of R, in order, to OUT[0..R->count). */
void period_range_expand(const period_range *r, period_t *out);

/* The position in R of the period that contains day D: true and *INDEX in
 * 0..R->count-1, or false if D falls outside every period of R.  Meant for
 * placing each data row in a period during the single pass. */
bool period_range_index(const period_range *r, date_t d, size_t *index);

/* ---- navigation ----------------------------------------------------------------- */

/* The period K periods after P (K < 0: before) in *OUT: days move by K, weeks by
 * 7K days, months, quarters and years by K, 3K, 12K calendar months.  False (and
 * *OUT untouched) when the result would leave the supported dates.  Shifting
 * composes exactly: shift(shift(p, a), b) == shift(p, a + b), so nested
 * previous(previous(x)) may be taken either way. */
bool period_shift(period_t p, int64_t k, period_t *out);

/* The period before P (previous()): period_shift(p, -1).  2025-01 -> 2024-12,
 * 2025-W01 -> 2024-W52, 2021-W01 -> 2020-W53, 2025-Q1 -> 2024-Q4. */
bool period_previous(period_t p, period_t *out);

/* The same period one year earlier (last_year()), per docs/language.md §4–5:
 *   day      same month and day of the previous year; 02-29 -> 02-28
 *   week     the same ISO week number of the previous ISO year; W53 -> W52 when
 *            that year has only 52 weeks (2026-W53 -> 2025-W52)
 *   month, quarter, year   the one 12, 4 or 1 periods earlier
 * False (and *OUT untouched) before year 1.  Composes with period_shift() in any
 * order, but note that it is not period_shift() for days and weeks, so
 * last_year(previous(x)) and previous(last_year(x)) can differ (for x = 2025-03-01
 * they are 2024-02-28 and 2024-02-29). */
bool period_last_year(period_t p, period_t *out);

/* ---- membership and windows ----------------------------------------------------- */

/* `d in period`: P.start <= D < P.end. */
bool period_contains(period_t p, date_t d);

/* `d in previous period`: D lies in the period before P (false if P is the first
 * supported period, which has none). */
bool period_in_previous(period_t p, date_t d);

/* `d before period`: D < P.start. */
bool period_before(period_t p, date_t d);

/* The dates [from, to) that window W of docs/language.md §4–5 covers for period P; W NULL
 * is the default window, the period.  Every window ends at P.end:
 *   period             [P.start, P.end)
 *   all time           [DATE_MIN, P.end)      -- no start
 *   last N days        [P.end - N days, P.end)
 *   last N weeks       [P.end - 7N days, P.end)
 *   last N months      [P.end moved back N calendar months, day clamped, P.end):
 *                      for 2025-03 (end 2025-04-01) last 1 months is
 *                      [2025-03-01, 2025-04-01); for the week ending 2025-03-30
 *                      (end 2025-03-31) it is [2025-02-28, 2025-03-31)
 *   year to date       [1 January of P.start's calendar year, P.end) -- for an ISO
 *                      week that starts in December, the December's year
 * A start before year 1 is clamped to DATE_MIN (no data is older).  For
 * previous() and last_year() pass the shifted period: the window moves with it.
 * False (and *OUT untouched) only for a malformed window: `last N` with N < 1 or
 * an unknown kind or unit (the parser rejects those). */
bool period_window(period_t p, const ast_window *w, period_interval *out);

/* `D in [from, to)`. */
bool period_interval_contains(period_interval iv, date_t d);

/* ---- employment (docs/language.md §9) ----------------------------------------------------- */

/* The fraction of P's days on which a staff member is employed: from START
 * (inclusive) to END (exclusive); NULL means open on that side.  NUM is the number
 * of employed days in P, DEN is always period_days(P), so the caller can keep the
 * fraction exact (and `employed` is exactly 1 when NUM == DEN).  Both NULL gives
 * DEN/DEN.  Examples for May 2025 (31 days): start 2025-05-16 gives 16/31, end
 * 2025-05-11 gives 10/31, start 2025-06-01 gives 0/31.  An END on or before START
 * (a bad roster row) gives 0 days; reporting it is the caller's business. */
period_fraction period_employed(period_t p, const date_t *start, const date_t *end);

/* Employed on at least one day of P (period_employed().num > 0): the condition
 * for being scored in P. */
bool period_is_employed(period_t p, const date_t *start, const date_t *end);

#endif /* KPIC_PERIOD_H */
