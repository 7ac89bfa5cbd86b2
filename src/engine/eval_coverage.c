/* eval_coverage.c — whether a timed source's rows reach the periods it is read for
 * (eval_internal.h; docs/decisions.md "Data guards: coverage of the periods read").
 */
#include "eval_internal.h"

#include <stdio.h>
#include <stdlib.h>


/* ---- coverage ------------------------------------------------------------------------------
 *
 * A timed source with no rows in a period it is read for, or whose rows stop well before
 * the period ends (an export taken before the period closed), would give figures computed from nothing or from part of the period, with no
 * sign of it: everyone scored 0. The pass notes the earliest and latest time cell and
 * which periods some row fell in, and the run warns (docs/cli.md, Warnings). */

/* The periods a timed source is checked in: every period some instance over it is
 * evaluated for, at any level: the requested periods and those that previous() and
 * last_year() reach. A period of a role with its own grain (a quarter) is checked as the
 * spec's periods it is made of (its months), so that all share the spec's grain and do
 * not overlap. Sorted and without repeats. */
period_t *eval_coverage_periods(eval_session *s, const ast_decl *src, size_t *count)
{
    ast_grain grain = s->model->grain;
    size_t room = 0;
    for (size_t i = 0; i < s->plan.instances.len; i++) {
        const plan_instance *in = s->plan.instances.items[i];
        if (in->agg->source != src) continue;
        room += in->period.grain == grain ? 1 : (size_t)period_days(in->period);
    }
    period_t *out = arena_alloc(&s->mem, (room + 1) * sizeof *out);
    size_t n = 0;
    for (size_t i = 0; i < s->plan.instances.len; i++) {
        const plan_instance *in = s->plan.instances.items[i];
        if (in->agg->source != src) continue;
        if (in->period.grain == grain) {
            out[n++] = in->period;
            continue;
        }
        period_t p;
        bool more = period_of(grain, in->period.start, &p);
        while (more && p.start < in->period.end) {
            out[n++] = p;
            more = period_shift(p, 1, &p);
        }
    }
    qsort(out, n, sizeof *out, period_compare);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (!kept || out[i].start != out[kept - 1].start) out[kept++] = out[i];
    *count = kept;
    return out;
}

/* How many days a source's last row may lie before the last day of a period before
 * the export counts as cut short: about a week
 * in a month, so that a quiet last weekend or a holiday does not warn. A day has no
 * such margin: it has rows or it has none. */
static int32_t coverage_margin(ast_grain grain)
{
    switch (grain) {
    case GRAIN_WEEK: return 2;
    case GRAIN_MONTH: return 7;
    case GRAIN_QUARTER: return 14;
    case GRAIN_YEAR: return 31;
    default: return -1;
    }
}

static bool period_requested(const eval_session *s, period_t p)
{
    for (size_t i = 0; i < s->period_count; i++)
        if (period_same(s->periods[i], p)) return true;
    return false;
}

/* Appends to B the labels of the periods of COVER not COVERED that are (REQUESTED) or
 * are not requested, as "A, B and C"; returns how many. */
static size_t append_periods(byte_buf *b, const eval_session *s, const period_t *cover, size_t count,
                             const unsigned char *covered, bool requested)
{
    size_t total = 0, at = 0;
    for (size_t i = 0; i < count; i++)
        if (!covered[i] && period_requested(s, cover[i]) == requested) total++;
    for (size_t i = 0; i < count; i++) {
        if (covered[i] || period_requested(s, cover[i]) != requested) continue;
        char label[PERIOD_LABEL_SIZE];
        size_t n = period_format(cover[i], label, sizeof label);
        if (at) buf_add(b, at + 1 == total ? " and " : ", ", at + 1 == total ? 5 : 2);
        buf_add(b, label, n);
        at++;
    }
    return total;
}

/* Warns about the periods of COVER a source has no rows in and whose dates it does not
 * reach, and about a last row well before the end of a period (FIRST > LAST: no row had
 * a date). */
void eval_report_coverage(eval_session *s, const ast_decl *src, const char *path, const period_t *cover,
                          size_t count, const unsigned char *covered, date_t first, date_t last)
{
    const char *time_column = "";
    for (int c = 0; c < src->u.source.column_count; c++)
        if (src->u.source.columns[c].is_time) time_column = src->u.source.columns[c].name;
    char from[DATE_FORMAT_SIZE], to[DATE_FORMAT_SIZE];
    bool dated = first <= last;
    if (dated) {
        date_format(first, from, sizeof from);
        date_format(last, to, sizeof to);
    }
    /* A period without rows inside the span of the source's dates is a quiet period of a
     * sparse source (no project finished in June), not a missing export: only a period
     * the dates do not reach counts, or every period when no row has a date. */
    unsigned char *reached_by_dates = xmalloc(count + 1);
    for (size_t i = 0; i < count; i++)
        reached_by_dates[i] = covered[i] || (dated && cover[i].end - 1 >= first && cover[i].start <= last);
    byte_buf missing = { 0 }, reached = { 0 };
    size_t n_missing = append_periods(&missing, s, cover, count, reached_by_dates, true);
    size_t n_reached = append_periods(&reached, s, cover, count, reached_by_dates, false);
    free(reached_by_dates);
    const char *hint = "counts and sums over a period without rows are 0 and averages n/a, so "
                       "everyone's figures for it are computed from nothing; pass the export that "
                       "covers it (--data %s=PATH)";
    /* what the source's dates are, said the same way in both warnings */
    const char *dates = dated
                            ? arena_printf(&s->mem, "its rows run from %s to %s (%s)", from, to, time_column)
                            : arena_printf(&s->mem, "no row has a %s date", time_column);
    if (n_missing) {
        diagnostic *d =
            diag_report_data(s->diags, DIAG_WARNING, path, 0, 0, "coverage",
                             "source '%s' has no rows in %s; %s", src->name, buf_text(&missing), dates);
        diag_hint(s->diags, d, hint, src->name);
    }
    if (n_reached) {
        diagnostic *d =
            diag_report_data(s->diags, DIAG_WARNING, path, 0, 0, "coverage",
                             "source '%s' has no rows in %s, which previous() or last_year() reaches; %s",
                             src->name, buf_text(&reached), dates);
        diag_hint(s->diags, d,
                  "a comparison with a period without rows (growth, change) compares with 0 or n/a; "
                  "pass an export that reaches back that far (--data %s=PATH)",
                  src->name);
    }
    buf_free(&missing);
    buf_free(&reached);
    int32_t margin = dated && count ? coverage_margin(cover[0].grain) : -1;
    if (margin < 0) return;
    for (size_t i = 0; i < count; i++) {
        if (!covered[i]) continue;
        char label[PERIOD_LABEL_SIZE];
        period_format(cover[i], label, sizeof label);
        int32_t after_last = cover[i].end - 1 - last; /* days of the period after the last row */
        if (after_last > margin) {
            diagnostic *d = diag_report_data(
                s->diags, DIAG_WARNING, path, 0, 0, "coverage",
                "source '%s' ends on %s, %d days before the end of %s: the export looks cut short", src->name,
                to, (int)after_last, label);
            diag_hint(s->diags, d,
                      "kpic warns when the last %s is more than %d days before the last day of a %s; "
                      "export the whole period, or pass the right file with --data %s=PATH",
                      time_column, (int)margin, ast_grain_name(cover[i].grain), src->name);
        }
    }
}
