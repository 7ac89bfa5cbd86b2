/* period.c — periods, `--period` parsing, navigation and windows (see period.h).
 *
 * Every period is built by one function, make(), from its grain and first day;
 * it computes the end from the period's length in days rather than with
 * date_add_months(), because the end of the last supported month or year
 * (10000-01-01) is one past DATE_MAX and date.h refuses to produce it.
 *
 * Parsing first recognises the shape of the text (which grain it is written
 * in), then validates the numbers, then compares the grain with the spec's; so
 * every error can say precisely what is wrong and what to write instead.
 */
#include "kpic/period.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Days between the first and the last supported date: no meaningful shift or
 * window length exceeds it, and multiplying it by 12 still fits int64_t. */
#define SPAN_DAYS ((int64_t)DATE_MAX - DATE_MIN)

/* ---- making and showing periods --------------------------------------------------- */

/* Days in GRAIN's period that starts on START (which must be that period's first
 * day: a Monday for weeks, the 1st of a quarter's first month, and so on). */
static int32_t length_from(ast_grain grain, date_t start)
{
    int y, m;
    date_to_ymd(start, &y, &m, NULL);
    switch (grain) {
    case GRAIN_DAY: return 1;
    case GRAIN_WEEK: return 7;
    case GRAIN_MONTH: return date_days_in_month(y, m);
    case GRAIN_QUARTER:
        return date_days_in_month(y, m) + date_days_in_month(y, m + 1) + date_days_in_month(y, m + 2);
    case GRAIN_YEAR: return date_is_leap_year(y) ? 366 : 365;
    }
    return 1; /* not reached: every grain is handled above */
}

/* The period of GRAIN starting on START; false if any of its days is unsupported. */
static bool make(ast_grain grain, date_t start, period_t *out)
{
    if (start < DATE_MIN || start > DATE_MAX) return false;
    int64_t end = (int64_t)start + length_from(grain, start);
    if (end - 1 > DATE_MAX) return false;
    out->grain = grain;
    out->start = start;
    out->end = (date_t)end;
    return true;
}

bool period_of(ast_grain grain, date_t d, period_t *out)
{
    if (d < DATE_MIN || d > DATE_MAX) return false;
    date_t start = d;
    switch (grain) {
    case GRAIN_DAY: break;
    case GRAIN_WEEK:
        /* 0001-01-01 is a Monday, so the week start never drops below DATE_MIN. */
        start = date_week_start(d);
        break;
    case GRAIN_MONTH: start = date_month_start(d); break;
    case GRAIN_QUARTER: start = date_quarter_start(d); break;
    case GRAIN_YEAR: start = date_year_start(d); break;
    }
    return make(grain, start, out);
}

size_t period_format(period_t p, char *buf, size_t size)
{
    int y, m, d;
    date_to_ymd(p.start, &y, &m, &d);
    char text[32];
    int n = 0;
    /* snprintf's integer conversions do not depend on the locale (no grouping
     * without the ' flag), so labels are the same everywhere. */
    switch (p.grain) {
    case GRAIN_DAY: n = snprintf(text, sizeof text, "%04d-%02d-%02d", y, m, d); break;
    case GRAIN_WEEK: {
        int iso_year, week;
        date_iso_week(p.start, &iso_year, &week);
        n = snprintf(text, sizeof text, "%04d-W%02d", iso_year, week);
        break;
    }
    case GRAIN_MONTH: n = snprintf(text, sizeof text, "%04d-%02d", y, m); break;
    case GRAIN_QUARTER: n = snprintf(text, sizeof text, "%04d-Q%d", y, (m - 1) / 3 + 1); break;
    case GRAIN_YEAR: n = snprintf(text, sizeof text, "%04d", y); break;
    }
    if (n < 0) n = 0;
    if (size > 0) {
        size_t copy = (size_t)n < size - 1 ? (size_t)n : size - 1;
        memcpy(buf, text, copy);
        buf[copy] = '\0';
    }
    return (size_t)n;
}

int32_t period_days(period_t p)
{
    return p.end - p.start;
}

bool period_same(period_t a, period_t b)
{
    return a.start == b.start && a.grain == b.grain;
}

int period_compare(const void *a, const void *b)
{
    const period_t *x = a, *y = b;
    if (x->start != y->start) return (x->start > y->start) - (x->start < y->start);
    return (x->grain > y->grain) - (x->grain < y->grain);
}

int64_t period_ordinal(period_t p)
{
    int y, m;
    date_to_ymd(p.start, &y, &m, NULL);
    switch (p.grain) {
    case GRAIN_DAY: return p.start;
    case GRAIN_WEEK:
        /* Weeks start on Mondays and DATE_MIN is a Monday: whole weeks since it. */
        return ((int64_t)p.start - DATE_MIN) / 7;
    case GRAIN_MONTH: return (int64_t)y * 12 + (m - 1);
    case GRAIN_QUARTER: return (int64_t)y * 4 + (m - 1) / 3;
    case GRAIN_YEAR: return y;
    }
    return 0;
}

/* ---- messages ---------------------------------------------------------------------- */

/* printf into MSG if there is one. */
__attribute__((format(printf, 3, 4))) static void say(char *msg, size_t size, const char *fmt, ...)
{
    if (!msg || size == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, size, fmt, ap);
    va_end(ap);
}

/* Longest piece of the user's text quoted in a message, in bytes. */
#define QUOTE_MAX 40

/* Copies TEXT[0..LEN) into BUF (at least QUOTE_MAX + 4 bytes) for quoting in a
 * message: control bytes become '?' so a NUL or newline cannot cut or break the
 * line, and long text is cut at a UTF-8 character boundary and marked "...". */
static const char *quote(const char *text, size_t len, char *buf)
{
    size_t n = len;
    bool cut = false;
    if (n > QUOTE_MAX) {
        n = QUOTE_MAX;
        while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
            n--; /* do not split a multi-byte character */
        cut = true;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        buf[i] = c < 0x20 || c == 0x7F ? '?' : (char)c;
    }
    if (cut) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}

/* The pattern and an example of GRAIN's form, for "write ..." hints. */
static const char *form_of(ast_grain grain)
{
    switch (grain) {
    case GRAIN_DAY: return "YYYY-MM-DD, e.g. 2025-05-17";
    case GRAIN_WEEK: return "YYYY-Www (ISO year and week), e.g. 2025-W20";
    case GRAIN_MONTH: return "YYYY-MM, e.g. 2025-05";
    case GRAIN_QUARTER: return "YYYY-Qn, e.g. 2025-Q2";
    case GRAIN_YEAR: return "YYYY, e.g. 2025";
    }
    return "";
}

/* "a day", "a week", ... for "'2025-05' is a month". */
static const char *a_grain(ast_grain grain)
{
    static const char *const names[] = { "a day", "a week", "a month", "a quarter", "a year" };
    return names[grain];
}

/* "days", "weeks", ... for "'2025-01..2025-06' is a range of months". */
static const char *grains(ast_grain grain)
{
    static const char *const names[] = { "days", "weeks", "months", "quarters", "years" };
    return names[grain];
}

/* ---- parsing ----------------------------------------------------------------------- */

/* Value of the N ASCII digits at S, or -1 if any is not a digit.  Plain byte
 * comparisons rather than isdigit(), which depends on the locale. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Parses one period written in any grain's form into *OUT.  Returns PERIOD_OK,
 * PERIOD_SYNTAX (unknown shape; *FORM untouched) or PERIOD_INVALID (*FORM is the
 * grain the text is written in, MSG says what is wrong).  SPEC_GRAIN only shapes
 * the syntax message. */
static period_status parse_any(const char *text, size_t len, ast_grain spec_grain, ast_grain *form,
                               period_t *out, char *msg, size_t msg_size)
{
    char q[QUOTE_MAX + 4];
    /* The shape decides the grain: lengths 4, 7, 8 and 10 are distinct except
     * month and quarter, told apart by the Q. */
    int year = len >= 4 ? digits(text, 4) : -1;
    bool dash = len > 4 && text[4] == '-';
    ast_grain g = GRAIN_DAY;
    int a = -1, b = 0; /* month, week or quarter number; day of month */
    bool shape = false;
    if (year >= 0 && len == 4) {
        g = GRAIN_YEAR;
        a = 0;
        shape = true;
    } else if (year >= 0 && len == 7 && dash && text[5] == 'Q') {
        g = GRAIN_QUARTER;
        a = digits(text + 6, 1);
        shape = a >= 0;
    } else if (year >= 0 && len == 7 && dash) {
        g = GRAIN_MONTH;
        a = digits(text + 5, 2);
        shape = a >= 0;
    } else if (year >= 0 && len == 8 && dash && text[5] == 'W') {
        g = GRAIN_WEEK;
        a = digits(text + 6, 2);
        shape = a >= 0;
    } else if (year >= 0 && len == 10 && dash && text[7] == '-') {
        g = GRAIN_DAY;
        a = digits(text + 5, 2);
        b = digits(text + 8, 2);
        shape = a >= 0 && b >= 0;
    }
    if (!shape) {
        say(msg, msg_size, "'%s' is not a period: the spec's period is %s, so write %s", quote(text, len, q),
            ast_grain_name(spec_grain), form_of(spec_grain));
        return PERIOD_SYNTAX;
    }
    *form = g;
    if (year < 1) {
        say(msg, msg_size, "'%s': there is no year 0000; years run from 0001 to 9999", quote(text, len, q));
        return PERIOD_INVALID;
    }
    date_t start = 0;
    bool ok = true;
    switch (g) {
    case GRAIN_YEAR: ok = date_from_ymd(year, 1, 1, &start); break;
    case GRAIN_QUARTER:
        if (a < 1 || a > 4) {
            say(msg, msg_size, "'%s': there is no quarter %d; quarters are Q1 to Q4", quote(text, len, q), a);
            return PERIOD_INVALID;
        }
        ok = date_from_ymd(year, 3 * a - 2, 1, &start);
        break;
    case GRAIN_MONTH:
        if (a < 1 || a > 12) {
            say(msg, msg_size, "'%s': there is no month %02d; months are 01 to 12", quote(text, len, q), a);
            return PERIOD_INVALID;
        }
        ok = date_from_ymd(year, a, 1, &start);
        break;
    case GRAIN_WEEK: {
        int weeks = date_iso_weeks_in_year(year);
        if (a < 1 || a > weeks) {
            say(msg, msg_size, "'%s': ISO year %04d has %d weeks; weeks are W01 to W%02d",
                quote(text, len, q), year, weeks, weeks);
            return PERIOD_INVALID;
        }
        ok = date_from_iso_week(year, a, &start);
        break;
    }
    case GRAIN_DAY:
        if (a < 1 || a > 12) {
            say(msg, msg_size, "'%s': there is no month %02d; months are 01 to 12", quote(text, len, q), a);
            return PERIOD_INVALID;
        }
        if (b < 1 || b > date_days_in_month(year, a)) {
            say(msg, msg_size, "'%s': there is no such day; %04d-%02d has %d days", quote(text, len, q), year,
                a, date_days_in_month(year, a));
            return PERIOD_INVALID;
        }
        ok = date_from_ymd(year, a, b, &start);
        break;
    }
    if (!ok || !make(g, start, out)) {
        /* Only the ISO weeks that run into the year 10000 get here. */
        say(msg, msg_size, "'%s' runs past 9999-12-31, the last supported date", quote(text, len, q));
        return PERIOD_INVALID;
    }
    return PERIOD_OK;
}

/* Writes into BUF the `--period` argument of GRAIN that covers the days
 * [FROM, TO): one label, or "A..B" when it takes several periods. */
static void covering(ast_grain grain, date_t from, date_t to, char *buf, size_t size)
{
    period_t a, b;
    /* TO - 1 is a supported day (it is the last day of a parsed period), but the
     * period of GRAIN around it may not be (a week into the year 10000). */
    if (!period_of(grain, from, &a) || !period_of(grain, to - 1, &b)) {
        snprintf(buf, size, "%s", form_of(grain));
        return;
    }
    char la[PERIOD_LABEL_SIZE], lb[PERIOD_LABEL_SIZE];
    period_format(a, la, sizeof la);
    period_format(b, lb, sizeof lb);
    if (a.start == b.start) snprintf(buf, size, "%s", la);
    else snprintf(buf, size, "%s..%s", la, lb);
}

/* One side of `--period`: parse_any, then the grain must be the spec's.  A wrong
 * but valid grain is reported only after both sides of a range are known (so the
 * suggestion covers the whole range): *WRONG is set and *OUT filled. */
static period_status parse_side(const char *text, size_t len, ast_grain grain, period_t *out, bool *wrong,
                                char *msg, size_t msg_size)
{
    ast_grain form = grain;
    period_status st = parse_any(text, len, grain, &form, out, msg, msg_size);
    if (st == PERIOD_SYNTAX) return st;
    if (form != grain) {
        if (st == PERIOD_INVALID) {
            /* Bad numbers in the wrong form: the form is the thing to fix. */
            char q[QUOTE_MAX + 4];
            say(msg, msg_size, "'%s' is not %s: the spec's period is %s, so write %s", quote(text, len, q),
                a_grain(grain), ast_grain_name(grain), form_of(grain));
            return PERIOD_WRONG_GRAIN;
        }
        *wrong = true;
        return PERIOD_OK;
    }
    return st;
}

/* The message for a valid period (or range) of the wrong grain. */
static period_status wrong_grain(const char *text, size_t len, ast_grain grain, period_t a, period_t b,
                                 char *msg, size_t msg_size)
{
    char q[QUOTE_MAX + 4], suggestion[2 * PERIOD_LABEL_SIZE + 64];
    covering(grain, a.start < b.start ? a.start : b.start, a.end > b.end ? a.end : b.end, suggestion,
             sizeof suggestion);
    if (a.grain == b.grain)
        say(msg, msg_size, "'%s' is %s%s, but the spec's period is %s: write %s", quote(text, len, q),
            a.start == b.start ? a_grain(a.grain) : "a range of ", a.start == b.start ? "" : grains(a.grain),
            ast_grain_name(grain), suggestion);
    else
        say(msg, msg_size, "'%s': the spec's period is %s: write %s", quote(text, len, q),
            ast_grain_name(grain), suggestion);
    return PERIOD_WRONG_GRAIN;
}

period_status period_parse(const char *text, size_t len, ast_grain grain, period_t *out, char *msg,
                           size_t msg_size)
{
    period_t p;
    bool wrong = false;
    period_status st = parse_side(text, len, grain, &p, &wrong, msg, msg_size);
    if (st != PERIOD_OK) return st;
    if (wrong) return wrong_grain(text, len, grain, p, p, msg, msg_size);
    *out = p;
    return PERIOD_OK;
}

period_status period_parse_range(const char *text, size_t len, ast_grain grain, period_range *out, char *msg,
                                 size_t msg_size)
{
    const char *dots = NULL;
    for (size_t i = 0; i + 1 < len; i++) {
        if (text[i] == '.' && text[i + 1] == '.') {
            dots = text + i;
            break;
        }
    }
    if (!dots) {
        period_t p;
        period_status st = period_parse(text, len, grain, &p, msg, msg_size);
        if (st != PERIOD_OK) return st;
        out->first = out->last = p;
        out->count = 1;
        return PERIOD_OK;
    }
    char q[QUOTE_MAX + 4];
    size_t left = (size_t)(dots - text);
    const char *right = dots + 2;
    size_t right_len = len - left - 2;
    size_t extra_dots = 0; /* '2025-05...2025-06': dots past the two of '..' */
    while (extra_dots < right_len && right[extra_dots] == '.') extra_dots++;
    if (left == 0 || right_len == extra_dots) {
        say(msg, msg_size, "'%s': a range needs a period on each side of '..', e.g. %s", quote(text, len, q),
            grain == GRAIN_DAY       ? "2025-05-01..2025-05-31"
            : grain == GRAIN_WEEK    ? "2025-W01..2025-W10"
            : grain == GRAIN_MONTH   ? "2025-01..2025-06"
            : grain == GRAIN_QUARTER ? "2025-Q1..2025-Q4"
                                     : "2023..2025");
        return PERIOD_SYNTAX;
    }
    if (extra_dots) {
        /* else the third dot would be blamed on the right-hand period */
        char lq[QUOTE_MAX + 4], rq[QUOTE_MAX + 4];
        say(msg, msg_size, "'%s': a range is written with two dots, not %zu: write %s..%s",
            quote(text, len, q), extra_dots + 2, quote(text, left, lq),
            quote(right + extra_dots, right_len - extra_dots, rq));
        return PERIOD_SYNTAX;
    }
    period_t a, b;
    bool wrong = false;
    period_status st = parse_side(text, left, grain, &a, &wrong, msg, msg_size);
    if (st != PERIOD_OK) return st;
    st = parse_side(right, right_len, grain, &b, &wrong, msg, msg_size);
    if (st != PERIOD_OK) return st;
    if (wrong) return wrong_grain(text, len, grain, a, b, msg, msg_size);
    if (a.start > b.start) {
        char la[PERIOD_LABEL_SIZE], lb[PERIOD_LABEL_SIZE];
        period_format(a, la, sizeof la);
        period_format(b, lb, sizeof lb);
        say(msg, msg_size, "'%s': the range runs backwards; write %s..%s", quote(text, len, q), lb, la);
        return PERIOD_BAD_RANGE;
    }
    if (period_range_between(a, b, out) != PERIOD_OK) {
        say(msg, msg_size, "'%s' holds %lld periods; one run takes at most %d: split the range",
            quote(text, len, q), (long long)(period_ordinal(b) - period_ordinal(a) + 1), PERIOD_RANGE_MAX);
        return PERIOD_BAD_RANGE;
    }
    return PERIOD_OK;
}

period_status period_range_between(period_t a, period_t b, period_range *out)
{
    if (a.grain != b.grain) return PERIOD_WRONG_GRAIN;
    int64_t count = period_ordinal(b) - period_ordinal(a) + 1;
    if (a.start > b.start || count > PERIOD_RANGE_MAX) return PERIOD_BAD_RANGE;
    out->first = a;
    out->last = b;
    out->count = (size_t)count;
    return PERIOD_OK;
}

void period_range_expand(const period_range *r, period_t *out)
{
    period_t p = r->first;
    for (size_t i = 0; i < r->count; i++) {
        out[i] = p;
        /* The last shift may fail (after 9999); its result is not used. */
        if (i + 1 < r->count) period_shift(p, 1, &p);
    }
}

bool period_range_index(const period_range *r, date_t d, size_t *index)
{
    if (d < r->first.start || d >= r->last.end) return false;
    period_t p;
    if (!period_of(r->first.grain, d, &p)) return false;
    *index = (size_t)(period_ordinal(p) - period_ordinal(r->first));
    return true;
}

/* ---- navigation ------------------------------------------------------------------- */

bool period_shift(period_t p, int64_t k, period_t *out)
{
    /* Bounding K first keeps 7K and 12K far from overflow; any larger shift
     * leaves the supported dates anyway. */
    if (k > SPAN_DAYS || k < -SPAN_DAYS) return false;
    date_t start;
    bool ok = false;
    switch (p.grain) {
    case GRAIN_DAY: ok = date_add_days(p.start, k, &start); break;
    case GRAIN_WEEK: ok = date_add_days(p.start, 7 * k, &start); break;
    case GRAIN_MONTH: ok = date_add_months(p.start, k, &start); break;
    case GRAIN_QUARTER: ok = date_add_months(p.start, 3 * k, &start); break;
    case GRAIN_YEAR: ok = date_add_months(p.start, 12 * k, &start); break;
    }
    /* Starts are the 1st of the month, so date_add_months never clamps here. */
    return ok && make(p.grain, start, out);
}

bool period_previous(period_t p, period_t *out)
{
    return period_shift(p, -1, out);
}

bool period_last_year(period_t p, period_t *out)
{
    switch (p.grain) {
    case GRAIN_DAY: {
        /* Twelve calendar months back clamps the day: 2024-02-29 -> 2023-02-28. */
        date_t start;
        return date_add_months(p.start, -12, &start) && make(GRAIN_DAY, start, out);
    }
    case GRAIN_WEEK: {
        int iso_year, week;
        date_iso_week(p.start, &iso_year, &week);
        if (iso_year - 1 < 1) return false;
        int weeks = date_iso_weeks_in_year(iso_year - 1);
        date_t start;
        return date_from_iso_week(iso_year - 1, week < weeks ? week : weeks, &start) &&
               make(GRAIN_WEEK, start, out);
    }
    case GRAIN_MONTH: return period_shift(p, -12, out);
    case GRAIN_QUARTER: return period_shift(p, -4, out);
    case GRAIN_YEAR: return period_shift(p, -1, out);
    }
    return false;
}

/* ---- membership and windows -------------------------------------------------------- */

bool period_contains(period_t p, date_t d)
{
    return d >= p.start && d < p.end;
}

bool period_in_previous(period_t p, date_t d)
{
    period_t prev;
    return period_previous(p, &prev) && period_contains(prev, d);
}

bool period_before(period_t p, date_t d)
{
    return d < p.start;
}

bool period_window(period_t p, const ast_window *w, period_interval *out)
{
    date_t from = p.start;
    if (w) {
        switch (w->kind) {
        case WINDOW_PERIOD: break;
        case WINDOW_ALL_TIME: from = DATE_MIN; break;
        case WINDOW_YEAR_TO_DATE: from = date_year_start(p.start); break;
        case WINDOW_LAST: {
            if (w->count < 1) return false;
            /* A length reaching before year 1 covers every date there is: clamp
             * instead of failing.  date_add_* refuse to leave the supported
             * range, and END - 1 is a supported date, so failure means "too far
             * back".  Days are capped first so 7N cannot overflow. */
            int64_t n = w->count > SPAN_DAYS ? SPAN_DAYS + 1 : w->count;
            bool ok;
            switch (w->unit) {
            case WINDOW_DAYS: ok = date_add_days(p.end, -n, &from); break;
            case WINDOW_WEEKS: ok = date_add_days(p.end, -7 * n, &from); break;
            case WINDOW_MONTHS: ok = date_add_months(p.end, -n, &from); break;
            default: return false;
            }
            if (!ok) from = DATE_MIN;
            break;
        }
        default: return false;
        }
    }
    out->from = from;
    out->to = p.end;
    return true;
}

bool period_interval_contains(period_interval iv, date_t d)
{
    return d >= iv.from && d < iv.to;
}

/* ---- employment -------------------------------------------------------------------- */

period_fraction period_employed(period_t p, const date_t *start, const date_t *end)
{
    date_t from = p.start, to = p.end;
    if (start && *start > from) from = *start;
    if (end && *end < to) to = *end;
    period_fraction f = { to > from ? to - from : 0, period_days(p) };
    return f;
}

bool period_is_employed(period_t p, const date_t *start, const date_t *end)
{
    return period_employed(p, start, end).num > 0;
}

bool period_grain_tiles(ast_grain fine, ast_grain coarse)
{
    if (fine == coarse || fine == GRAIN_DAY) return true;
    /* months into quarters and years, quarters into years; no month starts every Monday */
    return fine != GRAIN_WEEK && coarse > fine;
}
