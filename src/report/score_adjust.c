/* score_adjust.c — audited adjustments (`--adjustments FILE`, see score.h): reading the
 * file with the project's CSV reader, checking every row against the run, and applying
 * the rows to the statements after they are computed.
 *
 * An adjustment changes pay by hand, so nothing about it may be silent or guessed: a
 * row that names nobody scored in the run, a kpi the person's role lacks, a period
 * outside the run, a bonus on a role without one, two bonus_set or two overrides of one
 * kpi for one statement are errors (the run writes nothing), each at its row and field.
 * The statement keeps what the rules computed next to what was paid.
 */
#include "score_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpic/csv_reader.h"

/* The columns, in the order of score_adjustments.column. */
enum { COL_STAFF, COL_PERIOD, COL_KIND, COL_KPI, COL_AMOUNT, COL_REASON, COL_APPROVER, COL_ROLE, COL_COUNT };

static const csvr_column wanted_columns[COL_COUNT] = {
    { "staff_id", CSVR_TEXT }, { "period", CSVR_TEXT }, { "kind", CSVR_TEXT },        { "kpi", CSVR_TEXT },
    { "amount", CSVR_NUMBER }, { "reason", CSVR_TEXT }, { "approved_by", CSVR_TEXT }, { "role", CSVR_TEXT },
};

static const char *const kind_names[] = { "kpi", "bonus_add", "bonus_set" };

const char *score_adjust_kind_name(score_adjust_kind kind)
{
    return kind_names[kind];
}

/* ---- reading ---------------------------------------------------------------------------- */

typedef struct read_ctx {
    score_adjustments *a;
    diag_sink *diags;
    ast_grain grain;
    size_t capacity;
    bool failed;
} read_ctx;

static diagnostic *row_error(read_ctx *x, unsigned line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* An error at field COL of the row on LINE; the file is then refused. */
static diagnostic *row_error(read_ctx *x, unsigned line, int col, const char *fmt, ...)
{
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    x->failed = true;
    return diag_report_data(x->diags, DIAG_ERROR, x->a->path, line, x->a->column[col], "adjustment", "%s",
                            message);
}

/* An empty cell, or one of spaces and tabs only (a quoted "  " says nothing either). */
static bool cell_blank(const csvr_cell *c)
{
    if (c->is_null) return true;
    for (size_t i = 0; i < c->as.text.len; i++)
        if (c->as.text.ptr[i] != ' ' && c->as.text.ptr[i] != '\t') return false;
    return true;
}

/* The cell's text, NUL-terminated and malloc'd; NULL for a blank cell. */
static char *cell_text(const csvr_cell *c)
{
    if (cell_blank(c)) return NULL;
    size_t n = c->as.text.len;
    const char *p = c->as.text.ptr;
    char *s = xmalloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static void free_item(score_adjustment *it)
{
    free(it->staff_id);
    free(it->kpi);
    free(it->reason);
    free(it->approved_by);
    free(it->role);
}

static bool on_row(void *ctx, const csvr_row *row)
{
    read_ctx *x = ctx;
    unsigned line = (unsigned)csvr_row_line(row);
    const csvr_cell *c = row->cells;
    score_adjustment it;
    memset(&it, 0, sizeof it);
    it.line = line;
    bool ok = true;
    static const char *const required[] = { "staff_id", "period", "kind",        NULL,
                                            NULL,       "reason", "approved_by", NULL };
    for (int col = 0; col < COL_COUNT; col++) {
        if (!required[col] || !cell_blank(&c[col])) continue;
        diagnostic *d = row_error(x, line, col, "adjustment without %s", required[col]);
        if (col == COL_REASON || col == COL_APPROVER)
            diag_hint(x->diags, d,
                      "every adjustment says why and who approved it (columns reason and approved_by)");
        ok = false;
    }
    it.staff_id = cell_text(&c[COL_STAFF]);
    it.reason = cell_text(&c[COL_REASON]);
    it.approved_by = cell_text(&c[COL_APPROVER]);
    it.kpi = cell_text(&c[COL_KPI]);
    it.role = cell_text(&c[COL_ROLE]);
    char *period = cell_text(&c[COL_PERIOD]), *kind = cell_text(&c[COL_KIND]);
    if (period) {
        char msg[PERIOD_MESSAGE_SIZE];
        period_status st = period_parse(period, strlen(period), x->grain, &it.period, msg, sizeof msg);
        /* a statement of a role with its own period carries a period of that grain
         * (2025-Q2); one no role is scored in is outside the run when applied */
        for (int g = (int)x->grain + 1; st == PERIOD_WRONG_GRAIN && g <= GRAIN_YEAR; g++)
            if (period_grain_tiles(x->grain, (ast_grain)g) &&
                period_parse(period, strlen(period), (ast_grain)g, &it.period, NULL, 0) == PERIOD_OK)
                st = PERIOD_OK;
        if (st != PERIOD_OK) {
            row_error(x, line, COL_PERIOD, "bad period: %s", msg);
            ok = false;
        }
    }
    bool kind_known = false;
    if (kind) {
        for (int k = 0; k < 3 && !kind_known; k++)
            if (!strcmp(kind, kind_names[k])) {
                it.kind = (score_adjust_kind)k;
                kind_known = true;
            }
        if (!kind_known) {
            diagnostic *d = row_error(x, line, COL_KIND, "unknown adjustment kind '%s'", kind);
            const char *near = diag_closest(kind, kind_names, 3);
            if (near) diag_hint(x->diags, d, "did you mean '%s'?", near);
            else diag_hint(x->diags, d, "the kinds: kpi (override a kpi's value), bonus_add, bonus_set");
            ok = false;
        }
    }
    if (kind_known && it.kind == SCORE_ADJUST_KPI && !it.kpi) {
        diagnostic *d = row_error(x, line, COL_KPI, "a 'kpi' adjustment names the kpi it overrides");
        diag_hint(x->diags, d, "write the kpi's name (its indicator) in column kpi");
        ok = false;
    } else if (kind_known && it.kind != SCORE_ADJUST_KPI && it.kpi) {
        diagnostic *d = row_error(x, line, COL_KPI, "a '%s' adjustment names no kpi", kind_names[it.kind]);
        diag_hint(x->diags, d, "leave column kpi empty, or use kind kpi to override the kpi's value");
        ok = false;
    }
    if (c[COL_AMOUNT].is_null) {
        row_error(x, line, COL_AMOUNT, "adjustment without amount");
        ok = false;
    } else {
        it.amount = c[COL_AMOUNT].as.dec;
        dec_t cents;
        if (kind_known && it.kind != SCORE_ADJUST_KPI &&
            (dec_round(it.amount, 2, &cents) != DEC_OK || dec_cmp(cents, it.amount) != 0)) {
            diagnostic *d = row_error(x, line, COL_AMOUNT,
                                      "the amount of a '%s' adjustment is money: at most 2 decimal places",
                                      kind_names[it.kind]);
            diag_hint(x->diags, d, "write the amount to the cent, as it is paid");
            ok = false;
        }
    }
    free(period);
    free(kind);
    if (!ok) {
        free_item(&it);
        return true;
    }
    score_adjustments *a = x->a;
    if (a->count == x->capacity) {
        x->capacity = x->capacity ? 2 * x->capacity : 16;
        a->items = xrealloc(a->items, x->capacity * sizeof *a->items);
    }
    a->items[a->count++] = it;
    return true;
}

static csvr_verdict on_bad(void *ctx, const csvr_bad_row *bad)
{
    read_ctx *x = ctx;
    x->failed = true;
    diag_report_data(x->diags, DIAG_ERROR, x->a->path, (unsigned)bad->error->line,
                     (unsigned)bad->error->field, "adjustment", "%s", bad->error->message);
    return CSVR_SKIP;
}

/* Whether the header holds every column but the optional `role` (COL_ROLE is last). */
static bool required_columns_present(csvr_reader *reader)
{
    for (int col = 0; col < COL_ROLE; col++) {
        bool found = false;
        for (size_t i = 0; i < csvr_header_size(reader) && !found; i++)
            found = !strcmp(csvr_header_name(reader, i), wanted_columns[col].name);
        if (!found) return false;
    }
    return true;
}

static score_adjustments *read_from(csvr_reader *reader, const char *path, csvr_error *err, ast_grain grain,
                                    diag_sink *diags, bool *io_error)
{
    if (!reader) {
        if (io_error) *io_error = err->kind == CSVR_ERR_IO || err->kind == CSVR_ERR_NOMEM;
        diag_report_data(diags, DIAG_ERROR, path, (unsigned)err->line, (unsigned)err->field, "adjustment",
                         "%s", err->message);
        return NULL;
    }
    score_adjustments *a = xcalloc(1, sizeof *a);
    a->path = xstrdup(path);
    for (int col = 0; col < COL_COUNT; col++)
        for (size_t i = 0; i < csvr_header_size(reader); i++)
            if (!strcmp(csvr_header_name(reader, i), wanted_columns[col].name))
                a->column[col] = (unsigned)i + 1;
    read_ctx x = { a, diags, grain, 0, false };
    csvr_handlers h = { .on_row = on_row, .on_bad = on_bad, .ctx = &x };
    csvr_status status = csvr_read(reader, &h, err);
    if (status == CSVR_ERROR) {
        if (io_error) *io_error = err->kind == CSVR_ERR_IO || err->kind == CSVR_ERR_NOMEM;
        diag_report_data(diags, DIAG_ERROR, path, (unsigned)err->line, (unsigned)err->field, "adjustment",
                         "%s", err->message);
        x.failed = true;
    }
    if (!x.failed && !csvr_sha256_hex(reader, a->sha256)) x.failed = true;
    csvr_close(reader);
    if (x.failed) {
        score_adjust_free(a);
        return NULL;
    }
    return a;
}

score_adjustments *score_adjust_read(const char *path, ast_grain grain, diag_sink *diags, bool *io_error)
{
    csvr_error err;
    memset(&err, 0, sizeof err);
    if (io_error) *io_error = false;
    csvr_reader *reader = csvr_open(path, wanted_columns, COL_COUNT, CSVR_MISSING_COLUMNS_OK, &err);
    if (reader && !required_columns_present(reader)) {
        /* opened again without the flag, for the reader's own message about the header */
        csvr_close(reader);
        memset(&err, 0, sizeof err);
        reader = csvr_open(path, wanted_columns, COL_COUNT - 1, CSVR_READ_AGAIN, &err);
        if (reader) {
            csvr_close(reader);
            reader = NULL;
            err.kind = CSVR_ERR_HEADER;
            snprintf(err.message, sizeof err.message, "the header lacks a column of the adjustments file");
        }
    }
    return read_from(reader, path, &err, grain, diags, io_error);
}

score_adjustments *score_adjust_read_memory(const char *name, const void *data, size_t size, ast_grain grain,
                                            diag_sink *diags)
{
    csvr_error err;
    memset(&err, 0, sizeof err);
    csvr_reader *reader =
        csvr_open_memory(name, data, size, wanted_columns, COL_COUNT, CSVR_MISSING_COLUMNS_OK, &err);
    if (reader && !required_columns_present(reader)) {
        csvr_close(reader);
        memset(&err, 0, sizeof err);
        reader = csvr_open_memory(name, data, size, wanted_columns, COL_COUNT - 1, 0, &err);
        if (reader) {
            csvr_close(reader);
            reader = NULL;
            err.kind = CSVR_ERR_HEADER;
            snprintf(err.message, sizeof err.message, "the header lacks a column of the adjustments file");
        }
    }
    return read_from(reader, name, &err, grain, diags, NULL);
}

void score_adjust_free(score_adjustments *a)
{
    if (!a) return;
    for (size_t i = 0; i < a->count; i++) free_item(&a->items[i]);
    free(a->items);
    free(a->path);
    free(a);
}

/* ---- checking and applying --------------------------------------------------------------- */

static diagnostic *item_error(diag_sink *diags, const score_adjustments *a, const score_adjustment *it,
                              int col, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* An error at field COL of IT's row. */
static diagnostic *item_error(diag_sink *diags, const score_adjustments *a, const score_adjustment *it,
                              int col, const char *fmt, ...)
{
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    return diag_report_data(diags, DIAG_ERROR, a->path, it->line, a->column[col], "adjustment", "%s",
                            message);
}

static int find_staff(const eval_staff *roster, size_t count, const char *id)
{
    for (size_t i = 0; i < count; i++)
        if (roster[i].id && !strcmp(roster[i].id, id)) return (int)i;
    return -1;
}

/* A staff id the roster lacks: an error with the closest id. */
static void unknown_staff(diag_sink *diags, const score_adjustments *a, const score_adjustment *it,
                          const eval_staff *roster, size_t count)
{
    diagnostic *d = item_error(diags, a, it, COL_STAFF, "adjustment for staff '%s', who is not on the roster",
                               it->staff_id);
    const char **ids = xcalloc(count + 1, sizeof *ids);
    for (size_t i = 0; i < count; i++) ids[i] = roster[i].id;
    const char *near = diag_closest(it->staff_id, ids, count);
    if (near) diag_hint(diags, d, "did you mean '%s'?", near);
    free(ids);
}

/* The index of kpi NAME among ST's kpis, or -1 (an error, with the closest name). */
static int find_kpi(diag_sink *diags, const score_adjustments *a, const score_adjustment *it,
                    const score_statement *st)
{
    const char **names = xcalloc(st->kpi_count + 1, sizeof *names);
    for (size_t k = 0; k < st->kpi_count; k++) {
        names[k] = st->kpis[k].item->indicator;
        if (!strcmp(names[k], it->kpi)) {
            free(names);
            return (int)k;
        }
    }
    diagnostic *d = item_error(diags, a, it, COL_KPI, "role '%s' has no kpi '%s'", st->role->name, it->kpi);
    const char *near = diag_closest(it->kpi, names, st->kpi_count);
    if (near) {
        diag_hint(diags, d, "did you mean '%s'?", near);
    } else {
        char *list = NULL;
        size_t len = 0;
        FILE *f = score_memstream(&list, &len);
        for (size_t k = 0; k < st->kpi_count; k++) fprintf(f, "%s%s", k ? ", " : "", names[k]);
        score_memstream_close(f);
        diag_hint(diags, d, "the kpis of role '%s': %s", st->role->name, list);
        free(list);
    }
    free(names);
    return -1;
}

/* Whether N reads indicator IND, itself or through other indicators (not inside an
 * aggregate's row condition, which reads source columns). */
typedef struct indicator_search {
    const ir_program *program;
    const ast_decl *indicator;
    bool found;
} indicator_search;

static void search_indicator(const ir_node *n, void *arg)
{
    indicator_search *q = arg;
    if (!n || q->found) return;
    if (n->kind == IR_INDICATOR) {
        if (n->u.decl == q->indicator) q->found = true;
        else search_indicator(ir_indicator(q->program, n->u.decl), q);
        return;
    }
    ir_each_child(n, search_indicator, q);
}

static bool reads_indicator(const eval_session *s, const ast_expr *e, const ast_decl *ind)
{
    indicator_search q = { eval_program(s), ind, false };
    search_indicator(e ? ir_of(q.program, e) : NULL, &q);
    return q.found;
}

/* An override changes the kpi's line (achievement, points, score) and what reads
 * `score`; a gate or bonus that names the indicator itself still reads the computed
 * value. That is the rule (an indicator is one figure for everyone who reads it), but
 * never silently: a warning at that line, naming the adjustment. */
static void warn_direct_reads(const eval_session *s, diag_sink *diags, const score_adjustments *a,
                              const score_statement *st)
{
    for (size_t k = 0; k < st->kpi_count; k++) {
        const score_kpi *kp = &st->kpis[k];
        if (!kp->override || !kp->indicator) continue;
        for (int i = 0; i < st->role->u.role.item_count; i++) {
            const ast_role_item *it = &st->role->u.role.items[i];
            if ((it->kind != ROLE_GATE && it->kind != ROLE_BONUS) ||
                !reads_indicator(s, it->expr, kp->indicator))
                continue;
            diagnostic *d =
                diag_report(diags, DIAG_WARNING, it->expr->span, "adjusted-kpi-read",
                            "this %s reads '%s' itself, so the adjustment of staff '%s' (%s line %u) "
                            "does not reach it: it uses the computed value",
                            it->kind == ROLE_GATE ? "gate" : "bonus", kp->item->indicator,
                            kp->override->staff_id, a->path, kp->override->line);
            diag_hint(diags, d,
                      "an override changes the kpi's achievement, points and score; to decide "
                      "the bonus itself, add a bonus_set row");
        }
    }
}

/* The stages of applying a statement's rows. Between STAGE_KPI and STAGE_BONUS the
 * caller divides again the pools whose members' shares the kpi overrides changed. */
enum { STAGE_CHECK, STAGE_KPI, STAGE_BONUS };

/* Checks ROWS (N of them, file order, all for statement ST) against ST and applies
 * the stage: STAGE_CHECK nothing; STAGE_KPI the kpi overrides, with the statement
 * recomputed; STAGE_BONUS bonus_set, then bonus_add. False, with errors in DIAGS, when
 * any row does not fit (ST is then unchanged, except after a bonus_add that found no
 * bonus to add to). */

static bool apply_rows(eval_session *s, score_statement *st, const score_adjustment **rows, size_t n,
                       const score_adjustments *a, diag_sink *diags, int stage)
{
    bool ok = true;
    const score_adjustment **overrides = xcalloc(st->kpi_count + 1, sizeof *overrides);
    const score_adjustment *set = NULL;
    bool any_override = false;
    char line[32];
    for (size_t i = 0; i < n; i++) {
        const score_adjustment *it = rows[i];
        if (it->kind == SCORE_ADJUST_KPI) {
            int k = find_kpi(diags, a, it, st);
            if (k < 0) {
                ok = false;
            } else if (overrides[k]) {
                diagnostic *d = item_error(diags, a, it, COL_KPI,
                                           "a second override of kpi '%s' for staff '%s' in "
                                           "this period",
                                           it->kpi, it->staff_id);
                snprintf(line, sizeof line, "%u", overrides[k]->line);
                diag_hint(diags, d, "the first is on line %s; keep one row per kpi", line);
                ok = false;
            } else {
                overrides[k] = it;
                any_override = true;
            }
            continue;
        }
        if (!st->has_bonus) {
            item_error(diags, a, it, COL_KIND, "a '%s' adjustment for role '%s', which has no bonus line",
                       kind_names[it->kind], st->role->name);
            ok = false;
        } else if (it->kind == SCORE_ADJUST_BONUS_SET && set) {
            diagnostic *d = item_error(diags, a, it, COL_KIND,
                                       "a second bonus_set for staff '%s' in this period", it->staff_id);
            snprintf(line, sizeof line, "%u", set->line);
            diag_hint(diags, d, "the first is on line %s; one bonus_set decides the bonus", line);
            ok = false;
        } else if (it->kind == SCORE_ADJUST_BONUS_SET) {
            set = it;
        }
    }
    if (!ok || stage == STAGE_CHECK) {
        free(overrides);
        return ok;
    }
    if (stage == STAGE_KPI) {
        /* a pool member's part waits for the pool to be divided again (the caller) */
        eval_value computed = st->bonus_computed;
        if (any_override) {
            score_statement redone;
            score_statement_compute_with(s, st->role, st->period, st->staff, overrides, &redone);
            score_statement_free(st);
            *st = redone;
            st->bonus_computed = computed;
            warn_direct_reads(s, diags, a, st);
        }
        free(overrides);
        return ok;
    }
    free(overrides);
    if (set) st->bonus = eval_num(set->amount);
    for (size_t i = 0; i < n && ok; i++) {
        const score_adjustment *it = rows[i];
        if (it->kind != SCORE_ADJUST_BONUS_ADD) continue;
        dec_t sum;
        if (st->bonus.kind != VAL_NUM) {
            diagnostic *d = item_error(diags, a, it, COL_KIND,
                                       "bonus_add for staff '%s', whose bonus has no value "
                                       "(n/a) to add to",
                                       it->staff_id);
            diag_hint(diags, d, "use bonus_set to decide the bonus");
            ok = false;
        } else if (dec_add(st->bonus.as.num, it->amount, &sum) != DEC_OK) {
            item_error(diags, a, it, COL_AMOUNT, "bonus_add for staff '%s' overflows the bonus",
                       it->staff_id);
            ok = false;
        } else {
            st->bonus = eval_num(sum);
        }
    }
    st->adjustments = xcalloc(n, sizeof *st->adjustments);
    memcpy(st->adjustments, rows, n * sizeof *rows);
    st->adjustment_count = n;
    return ok;
}

/* The index of P among the session's periods, or -1. */
static int find_period(const period_t *periods, size_t count, period_t p)
{
    for (size_t i = 0; i < count; i++)
        if (period_same(periods[i], p)) return (int)i;
    return -1;
}

static void outside_run(diag_sink *diags, const score_adjustments *a, const score_adjustment *it,
                        const period_t *periods, size_t count)
{
    char label[PERIOD_LABEL_SIZE], first[PERIOD_LABEL_SIZE], last[PERIOD_LABEL_SIZE];
    period_format(it->period, label, sizeof label);
    period_format(periods[0], first, sizeof first);
    period_format(periods[count - 1], last, sizeof last);
    char *run = count == 1 ? xstrdup(first) : NULL;
    if (!run) {
        run = xmalloc(2 * PERIOD_LABEL_SIZE + 4);
        snprintf(run, 2 * PERIOD_LABEL_SIZE + 4, "%s..%s", first, last);
    }
    diagnostic *d =
        item_error(diags, a, it, COL_PERIOD, "adjustment for %s, outside the run (--period %s)", label, run);
    diag_hint(diags, d, "run the period the adjustment is for, or remove the row");
    free(run);
}

static bool role_has_kpi(const ast_decl *role, const char *kpi)
{
    for (int i = 0; i < role->u.role.item_count; i++)
        if (role->u.role.items[i].kind == ROLE_KPI && !strcmp(role->u.role.items[i].indicator, kpi))
            return true;
    return false;
}

/* The roster row of the person FIRST (their first row) that row IT of period P adjusts:
 * a person who changed roles has a row per role (docs/cli.md, --adjustments). The
 * `role` cell names it; without one, the person's only statement in P, or the only one
 * whose role has the `kpi` row's kpi. When the row cannot tell, a located error and -1.
 * WHERE maps (period, row) to a statement (≥ 0), as in score_adjust_apply. */
static int target_row(diag_sink *diags, const score_adjustments *a, const score_adjustment *it,
                      const score_result *r, const eval_staff *roster, size_t roster_count, int first,
                      size_t p, const long *where)
{
    int scored = 0, pick = -1, with_kpi = 0, kpi_pick = -1, fallback = -1;
    for (int k = first; k >= 0; k = roster[k].next_row) {
        long at = where[p * roster_count + (size_t)k];
        if (it->role) {
            if (roster[k].role && !strcmp(roster[k].role, it->role) && (pick < 0 || at >= 0)) pick = k;
            continue;
        }
        if (fallback < 0 || (at != -1 && where[p * roster_count + (size_t)fallback] == -1)) fallback = k;
        if (at < 0) continue;
        scored++;
        pick = k;
        if (it->kind == SCORE_ADJUST_KPI && it->kpi && role_has_kpi(r->statements[at].role, it->kpi)) {
            with_kpi++;
            kpi_pick = k;
        }
    }
    if (it->role) {
        if (pick >= 0) return pick;
        diagnostic *d = item_error(diags, a, it, COL_ROLE, "staff '%s' has no roster row in role '%s'",
                                   it->staff_id, it->role);
        char *list = NULL;
        size_t len = 0;
        FILE *f = score_memstream(&list, &len);
        for (int k = first, n = 0; k >= 0; k = roster[k].next_row)
            fprintf(f, "%s%s", n++ ? ", " : "", roster[k].role ? roster[k].role : "(none)");
        score_memstream_close(f);
        diag_hint(diags, d, "the roles of '%s' on the roster: %s", it->staff_id, list);
        free(list);
        return -1;
    }
    if (scored <= 1) return scored ? pick : fallback;
    if (with_kpi == 1) return kpi_pick;
    char label[PERIOD_LABEL_SIZE];
    period_format(it->period, label, sizeof label);
    char *list = NULL;
    size_t len = 0;
    FILE *f = score_memstream(&list, &len);
    for (int k = first, n = 0; k >= 0; k = roster[k].next_row)
        if (where[p * roster_count + (size_t)k] >= 0) fprintf(f, "%s%s", n++ ? ", " : "", roster[k].role);
    score_memstream_close(f);
    diagnostic *d = item_error(
        diags, a, it, COL_STAFF,
        "staff '%s' has %d statements in %s (%s): the adjustment does not say which role it is for",
        it->staff_id, scored, label, list);
    diag_hint(diags, d, "add a column 'role' to the adjustments file and name the role on this row");
    free(list);
    return -1;
}

bool score_adjust_apply(score_result *r, const score_adjustments *a, diag_sink *diags)
{
    size_t period_count, roster_count;
    const period_t *periods = eval_periods(r->session, &period_count);
    const eval_staff *roster = eval_roster(r->session, &roster_count);
    size_t cells = period_count * roster_count;
    /* (period, staff) → its statement, or its unscored row as −2 − index */
    long *where = xmalloc((cells ? cells : 1) * sizeof *where);
    for (size_t i = 0; i < cells; i++) where[i] = -1;
    for (size_t i = 0; i < r->statement_count; i++)
        where[r->statements[i].period * roster_count + (size_t)r->statements[i].staff] = (long)i;
    for (size_t i = 0; i < r->unscored_count; i++)
        where[r->unscored[i].period * roster_count + (size_t)r->unscored[i].staff] = -2 - (long)i;

    bool ok = true;
    long *target = xcalloc(a->count + 1, sizeof *target);
    for (size_t i = 0; i < a->count; i++) {
        const score_adjustment *it = &a->items[i];
        target[i] = -1;
        int staff = find_staff(roster, roster_count, it->staff_id);
        int p = find_period(periods, period_count, it->period);
        if (staff < 0) {
            unknown_staff(diags, a, it, roster, roster_count);
        } else if (p < 0) {
            outside_run(diags, a, it, periods, period_count);
        } else if ((staff = target_row(diags, a, it, r, roster, roster_count, staff, (size_t)p, where)) < 0) {
            /* reported */
        } else if (where[(size_t)p * roster_count + (size_t)staff] < 0) {
            long u = where[(size_t)p * roster_count + (size_t)staff];
            char label[PERIOD_LABEL_SIZE];
            period_format(it->period, label, sizeof label);
            diagnostic *d =
                item_error(diags, a, it, COL_STAFF, "adjustment for staff '%s', who is not scored in %s",
                           it->staff_id, label);
            if (u <= -2)
                diag_hint(diags, d, "the roster row is unscored: %s",
                          score_reason_text(r->unscored[-2 - u].reason));
        } else {
            target[i] = where[(size_t)p * roster_count + (size_t)staff];
            continue;
        }
        ok = false;
    }
    /* each statement's rows, file order */
    /* every statement's rows are checked before any is applied, so that every error
     * is reported at once; then applied */
    const score_adjustment **rows = xcalloc(a->count + 1, sizeof *rows);
    bool *done = xcalloc(a->count + 1, sizeof *done);
    /* the pools a `kpi` row changes a share of are divided again before the bonus rows */
    bool *redivide = xcalloc(period_count + 1, sizeof *redivide);
    bool any_redivide = false;
    for (size_t i = 0; i < a->count; i++)
        if (target[i] >= 0 && a->items[i].kind == SCORE_ADJUST_KPI &&
            (r->statements[target[i]].pool.pool || r->statements[target[i]].grade.grades))
            any_redivide = redivide[r->statements[target[i]].period] = true;
    for (int stage = STAGE_CHECK; stage <= STAGE_BONUS; stage++) {
        if (stage > STAGE_CHECK && !ok) break;
        if (stage == STAGE_BONUS && any_redivide) {
            eval_value *before = xcalloc(r->statement_count + 1, sizeof *before);
            for (size_t i = 0; i < r->statement_count; i++) before[i] = r->statements[i].bonus_computed;
            /* an override changes the score and so the ranking: the groups of those
             * periods are ranked again (the bonus may read the grade), then the pools
             * (a share may read it too) are divided again */
            score_settle_grades(r, redivide);
            score_settle_pools(r, redivide, diags);
            /* the bonus the rules give with the adjusted values; a member whose own
             * rows changed nothing keeps bonus_computed equal to the bonus */
            for (size_t i = 0; i < r->statement_count; i++) {
                score_statement *st = &r->statements[i];
                if ((!st->pool.pool && !st->grade.grades) || !redivide[st->period]) continue;
                st->bonus_computed = before[i];
                bool own_row = false;
                for (size_t k = 0; k < a->count; k++) own_row |= target[k] == (long)i;
                if (own_row) continue;
                st->bonus_computed = st->bonus;
                bool same = before[i].kind == st->bonus.kind &&
                            (st->bonus.kind != VAL_NUM || dec_cmp(before[i].as.num, st->bonus.as.num) == 0);
                if (!same && st->pool.pool) st->pool.before_redivision = before[i];
                else if (!same) st->grade.bonus_before = before[i];
            }
            free(before);
            if (r->pool_failed) {
                ok = false;
                break;
            }
        }
        memset(done, 0, (a->count + 1) * sizeof *done);
        for (size_t i = 0; i < a->count; i++) {
            if (done[i] || target[i] < 0) continue;
            size_t n = 0;
            for (size_t j = i; j < a->count; j++)
                if (target[j] == target[i]) {
                    rows[n++] = &a->items[j];
                    done[j] = true;
                }
            ok = apply_rows(r->session, &r->statements[target[i]], rows, n, a, diags, stage) && ok;
        }
    }
    free(redivide);
    free(rows);
    free(done);
    free(target);
    free(where);
    if (ok && !r->total_overflow) score_check_totals(r, diags);
    return ok && !r->total_overflow;
}

/* Whether row IT (of the person whose first roster row is FIRST) is for statement ST:
 * the same person, and the role its `role` cell names, or for a `kpi` row without one a
 * role that has that kpi. (One period's run checks that a row without a role is not
 * ambiguous: score_adjust_apply.) */
static bool row_is_for(const eval_staff *roster, const score_adjustment *it, int first,
                       const score_statement *st)
{
    if (roster[st->staff].first_row != first) return false;
    if (it->role) return !strcmp(it->role, st->role->name);
    if (roster[first].id_rows > 1 && it->kind == SCORE_ADJUST_KPI && it->kpi)
        return role_has_kpi(st->role, it->kpi);
    return true;
}

bool score_adjust_statement(eval_session *s, score_statement *st, const score_adjustments *a,
                            diag_sink *diags)
{
    size_t period_count, roster_count;
    const period_t *periods = eval_periods(s, &period_count);
    const eval_staff *roster = eval_roster(s, &roster_count);
    const score_adjustment **rows = xcalloc(a->count + 1, sizeof *rows);
    size_t n = 0;
    bool ok = true;
    for (size_t i = 0; i < a->count; i++) {
        const score_adjustment *it = &a->items[i];
        int staff = find_staff(roster, roster_count, it->staff_id);
        if (staff < 0) {
            unknown_staff(diags, a, it, roster, roster_count);
            ok = false;
        } else if (row_is_for(roster, it, staff, st) &&
                   find_period(periods, period_count > 0 ? 1 : 0, it->period) == 0) {
            char *roles =
                !it->role && it->kind != SCORE_ADJUST_KPI ? score_role_days_note(s, 0, st->staff) : NULL;
            if (roles) {
                /* the person has another role in the period: as in score_adjust_apply */
                diagnostic *d = item_error(
                    diags, a, it, COL_STAFF,
                    "staff '%s' has several roles in the period (%s): the adjustment does not say which role it is for",
                    it->staff_id, roles);
                diag_hint(diags, d,
                          "add a column 'role' to the adjustments file and name the role on this row");
                free(roles);
                ok = false;
            } else {
                rows[n++] = it;
            }
        }
    }
    if (ok && n) ok = apply_rows(s, st, rows, n, a, diags, STAGE_CHECK);
    /* a part of a pool: what the rules pay without any adjustment, then the part with
     * every member's `kpi` rows applied */
    eval_value computed = st->bonus_computed;
    bool waits = st->pool.pool || st->grade.grades;
    if (ok && waits && score_settle_one(s, st, NULL, NULL)) computed = st->bonus;
    if (ok && n) ok = apply_rows(s, st, rows, n, a, diags, STAGE_KPI);
    if (ok && waits) ok = score_settle_one(s, st, a, diags);
    st->bonus_computed = computed;
    if (ok && n) ok = apply_rows(s, st, rows, n, a, diags, STAGE_BONUS);
    free(rows);
    return ok;
}

const score_adjustment **score_adjust_overrides(eval_session *s, const ast_decl *role, size_t period,
                                                int staff, const score_adjustments *a)
{
    size_t period_count, roster_count;
    const period_t *periods = eval_periods(s, &period_count);
    const eval_staff *roster = eval_roster(s, &roster_count);
    int kpis = 0;
    for (int i = 0; i < role->u.role.item_count; i++) kpis += role->u.role.items[i].kind == ROLE_KPI;
    const score_adjustment **overrides = NULL;
    for (size_t i = 0; i < a->count; i++) {
        const score_adjustment *it = &a->items[i];
        int first = find_staff(roster, roster_count, it->staff_id);
        if (it->kind != SCORE_ADJUST_KPI || first < 0 || roster[staff].first_row != first ||
            (it->role && strcmp(it->role, role->name)) || find_period(periods + period, 1, it->period) != 0)
            continue;
        for (int k = 0, kpi = 0; k < role->u.role.item_count; k++) {
            const ast_role_item *item = &role->u.role.items[k];
            if (item->kind != ROLE_KPI) continue;
            if (!strcmp(item->indicator, it->kpi)) {
                if (!overrides) overrides = xcalloc((size_t)kpis + 1, sizeof *overrides);
                if (!overrides[kpi]) overrides[kpi] = it;
            }
            kpi++;
        }
    }
    return overrides;
}

bool score_adjust_unscored(eval_session *s, int staff, score_reason reason, const score_adjustments *a,
                           diag_sink *diags)
{
    size_t period_count, roster_count;
    const period_t *periods = eval_periods(s, &period_count);
    const eval_staff *roster = eval_roster(s, &roster_count);
    bool ok = true;
    for (size_t i = 0; i < a->count; i++) {
        const score_adjustment *it = &a->items[i];
        int who = find_staff(roster, roster_count, it->staff_id);
        if (who < 0) {
            unknown_staff(diags, a, it, roster, roster_count);
            ok = false;
        } else if (who == roster[staff].first_row &&
                   (!it->role || (roster[staff].role && !strcmp(it->role, roster[staff].role))) &&
                   period_count > 0 && find_period(periods, 1, it->period) == 0) {
            char label[PERIOD_LABEL_SIZE];
            period_format(it->period, label, sizeof label);
            diagnostic *d =
                item_error(diags, a, it, COL_STAFF, "adjustment for staff '%s', who is not scored in %s",
                           it->staff_id, label);
            diag_hint(diags, d, "the roster row is unscored: %s", score_reason_text(reason));
            ok = false;
        }
    }
    return ok;
}
