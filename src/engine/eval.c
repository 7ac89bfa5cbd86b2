/* eval.c — reading the data and evaluating expressions (see eval.h).
 *
 * The run has three phases. Planning (plan.c) lists every aggregate instance the
 * required expressions need. Reading makes one pass per source and level: each row is
 * parsed once (only the columns some instance uses), placed by its time column, and
 * offered to every instance of that source, which filters it by window and `where`
 * and adds it to the accumulators of the whole company and of the row's staff member.
 * Evaluation then computes expressions from the finished accumulators, for any period
 * and staff member, memoising indicator values.
 *
 * Groups: every per-staff accumulator array has roster-size + 1 entries; the last is
 * the company total. Rows credited to a staff id that is not on the roster count in
 * the total only (and are counted in the source's statistics).
 *
 * This file holds the session, the roster, executing a run and the interpreter's
 * leaves; one pass over a source is eval_read.c, a source's declared key eval_keys.c,
 * coverage eval_coverage.c (what they share: eval_internal.h).
 */
#include "eval_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kpic/output.h"

/* Remembers the first expression whose result left the exact decimal range; any thread. */
static void note_overflow(eval_session *s, const ast_expr *e)
{
    ast_expr *none = NULL;
    __atomic_compare_exchange_n(&s->overflow_at, &none, (ast_expr *)e, false, __ATOMIC_RELAXED,
                                __ATOMIC_RELAXED);
}

/* ---- sessions ------------------------------------------------------------------------ */

eval_session *eval_new(ast_spec *spec, chk_model *model, const period_t *periods, size_t period_count,
                       const eval_options *options, diag_sink *diags)
{
    eval_session *s = xcalloc(1, sizeof *s);
    arena_init(&s->mem);
    s->spec = spec;
    s->model = model;
    s->diags = diags;
    s->options = *options;
    s->periods = arena_alloc(&s->mem, (period_count + 1) * sizeof *s->periods);
    memcpy(s->periods, periods, period_count * sizeof *periods);
    s->period_count = period_count;
    s->ir = ir_program_of(spec, model);
    plan_init(&s->plan, &s->mem, model, s->ir);
    strtab_init(&s->strings);
    strtab_init(&s->staff_ids);
    hmap_init(&s->memo_index);
    s->stats_count = model->sources.len + 1;
    s->stats = arena_alloc(&s->mem, s->stats_count * sizeof *s->stats);
    for (size_t i = 0; i < model->sources.len; i++)
        s->stats[i].name = ((ast_decl *)model->sources.items[i])->name;
    s->stats[model->sources.len].name = "staff";
    return s;
}

void eval_free_inst_state(inst_state *st)
{
    if (!st) return;
    free(st->accs);
    free(st->result);
    free(st);
}

void eval_free(eval_session *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->plan.instances.len; i++)
        eval_free_inst_state(((plan_instance *)s->plan.instances.items[i])->state);
    for (size_t i = 0; i < s->key_runs.len; i++) {
        key_run *run = s->key_runs.items[i];
        ks_free(run->store);
        free(run->instances);
        free(run->members);
        free(run);
    }
    for (size_t i = 0; s->key_checks && i < s->model->sources.len; i++) {
        key_check *k = &s->key_checks[i];
        ksf_free(k->firsts);
        free(k->excluded);
        for (size_t j = 0; j < k->reject_count; j++) free(k->rejects[j].text);
        free(k->rejects);
    }
    plan_free(&s->plan);
    strtab_free(&s->strings);
    strtab_free(&s->staff_ids);
    hmap_free(&s->memo_index);
    hmap_free(&s->scale_miss_index);
    hmap_free(&s->scale_miss_seen);
    free(s->scale_misses);
    hmap_free(&s->row_scale_index);
    free(s->row_scale_calls);
    free(s->row_scale_misses);
    free(s->memo);
    buf_free(&s->rejects);
    arena_free(&s->mem);
    free(s);
}

/* The IR of a checked expression: lowered with the spec, or now (a --expr). */
static const ir_node *lowered(eval_session *s, const ast_expr *expr)
{
    const ir_node *n = ir_of(s->ir, expr);
    return n ? n : lower_expr(s->ir, expr);
}

void eval_require(eval_session *s, ast_expr *expr)
{
    const ir_node *n = lowered(s, expr);
    for (size_t p = 0; p < s->period_count; p++) plan_expr(&s->plan, n, s->periods[p]);
}

void eval_require_rows(eval_session *s, const ast_expr *aggregate)
{
    const ir_node *n = lowered(s, aggregate);
    for (size_t p = 0; p < s->period_count; p++) plan_rows(&s->plan, n, s->periods[p]);
}

void eval_require_indicator(eval_session *s, ast_decl *indicator)
{
    for (size_t p = 0; p < s->period_count; p++) plan_indicator(&s->plan, indicator, s->periods[p]);
}

const period_t *eval_periods(const eval_session *s, size_t *count)
{
    *count = s->period_count;
    return s->periods;
}

const eval_staff *eval_roster(const eval_session *s, size_t *count)
{
    *count = s->staff_count;
    return s->staff;
}

bool eval_staff_number(const eval_session *s, size_t staff, int column, dec_t *out)
{
    if (staff >= s->staff_count || !s->model->roster || column < 0 ||
        column >= s->model->roster->u.source.column_count)
        return false;
    eval_value v = s->staff_rows[staff].values[column];
    if (v.kind != VAL_NUM) return false;
    *out = v.as.num;
    return true;
}

const eval_source_stats *eval_sources(const eval_session *s, size_t *count)
{
    *count = s->stats_count;
    return s->stats;
}

/* ---- roster ---------------------------------------------------------------------------- */

static int roster_column(const ast_decl *roster, const char *name)
{
    for (int i = 0; i < roster->u.source.column_count; i++)
        if (!strcmp(roster->u.source.columns[i].name, name)) return i;
    return -1;
}

typedef struct roster_ctx {
    eval_session *s;
    const ast_decl *roster;
    int id, name, role, start, end;
    bool end_is_last_day; /* the end column's `convention "last_day"` */
    ptr_vec rows;         /* roster_row* in file order */
    ptr_vec lines;        /* line numbers (as uintptr_t) */
    ptr_vec earlier;      /* per row: the previous row of its id + 1 (uintptr_t), 0: none */
    ptr_vec last_of_id;   /* per distinct id (staff_ids order): its latest row + 1 */
    ptr_vec first_of_id;  /* per distinct id: its first row */
    const char *path;
    bool bad;
} roster_ctx;

static eval_value cell_value(eval_session *s, ast_coltype type, const csvr_cell *c)
{
    if (c->is_null) return eval_null();
    switch (type) {
    case COLTYPE_INT: return eval_num(dec_from_int64(c->as.i));
    case COLTYPE_NUMBER:
    case COLTYPE_MONEY: return eval_num(c->as.dec);
    case COLTYPE_DATE: return eval_date(c->as.date);
    case COLTYPE_BOOL: return eval_bool(c->as.b);
    default: {
        eval_value v = eval_null();
        v.kind = VAL_TEXT;
        v.as.text = strtab_str(&s->strings, strtab_intern(&s->strings, c->as.text.ptr, c->as.text.len));
        return v;
    }
    }
}

/* A roster row's days as [START, END), each side open when its cell is empty or the
 * roster has no such column; an end written as the last day employed reads one on. */
static void roster_row_days(const roster_ctx *r, const roster_row *rr, bool *has_start, date_t *start,
                            bool *has_end, date_t *end)
{
    if (r->start >= 0 && rr->values[r->start].kind == VAL_DATE) {
        *has_start = true;
        *start = rr->values[r->start].as.date;
    }
    if (r->end >= 0 && rr->values[r->end].kind == VAL_DATE) {
        *has_end = true;
        *end = rr->values[r->end].as.date;
        /* the last representable day has no day after it: it stays open-ended in effect */
        if (r->end_is_last_day && !date_add_days(*end, 1, end)) *has_end = false;
    }
}

/* "2025-05-01 to 2025-05-15", "from 2025-05-16", "until 2025-05-15", "every day": the
 * days of a row as people read them, its last day included whatever the convention. */
static void roster_days_text(const roster_ctx *r, const roster_row *rr, char *buf, size_t size)
{
    bool hs = false, he = false;
    date_t a = 0, b = 0;
    roster_row_days(r, rr, &hs, &a, &he, &b);
    char from[DATE_FORMAT_SIZE], to[DATE_FORMAT_SIZE];
    if (hs) date_format(a, from, sizeof from);
    if (he) {
        date_t last = b;
        if (!date_add_days(b, -1, &last)) last = b;
        date_format(last, to, sizeof to);
    }
    if (hs && he) snprintf(buf, size, "%s to %s", from, to);
    else if (hs) snprintf(buf, size, "from %s", from);
    else if (he) snprintf(buf, size, "until %s", to);
    else snprintf(buf, size, "every day");
}

static const char *roster_text(const roster_row *rr, int column)
{
    return column >= 0 && rr->values[column].kind == VAL_TEXT ? rr->values[column].as.text : NULL;
}

/* A second row for an id already on the roster (the person ID, distinct id number SEEN)
 * is a role change when the roster dates its rows, they share no day and carry the same
 * name; anything else is a located error, and false. */
static bool roster_row_may_repeat(roster_ctx *r, const roster_row *rr, uint64_t line, uint32_t seen,
                                  const char *id)
{
    eval_session *s = r->s;
    size_t first = (size_t)(uintptr_t)r->first_of_id.items[seen];
    unsigned long first_line = (unsigned long)(uintptr_t)r->lines.items[first];
    if (r->start < 0 && r->end < 0) {
        diagnostic *d = diag_report_data(s->diags, DIAG_ERROR, r->path, (unsigned)line, (unsigned)(r->id + 1),
                                         "roster", "staff id '%s' appears twice in the roster", id);
        diag_hint(s->diags, d,
                  "its first row is on line %lu; a person who changed roles has a row per "
                  "role, which needs 'start' and 'end' date columns in the roster",
                  first_line);
        return false;
    }
    const char *name = roster_text(rr, r->name), *first_name = roster_text(r->rows.items[first], r->name);
    if (r->name >= 0 && (name ? !first_name || strcmp(name, first_name) : first_name != NULL)) {
        diagnostic *d =
            diag_report_data(s->diags, DIAG_ERROR, r->path, (unsigned)line, (unsigned)(r->name + 1), "roster",
                             "staff '%s' is named '%s' here but '%s' on line %lu", id, name ? name : "",
                             first_name ? first_name : "", first_line);
        diag_hint(s->diags, d,
                  "one id is one person, whose rows (one per role) carry one name: correct "
                  "the name, or give the other person an id of their own");
        return false;
    }
    bool hs = false, he = false;
    date_t a = 0, b = 0;
    roster_row_days(r, rr, &hs, &a, &he, &b);
    for (size_t k = (size_t)(uintptr_t)r->last_of_id.items[seen]; k;
         k = (size_t)(uintptr_t)r->earlier.items[k - 1]) {
        const roster_row *other = r->rows.items[k - 1];
        bool os = false, oe = false;
        date_t oa = 0, ob = 0;
        roster_row_days(r, other, &os, &oa, &oe, &ob);
        /* [a, b) and [oa, ob) share a day unless one ends on or before the other starts */
        bool apart = (he && os && b <= oa) || (oe && hs && ob <= a);
        if (apart) continue;
        char mine[64], theirs[64];
        roster_days_text(r, rr, mine, sizeof mine);
        roster_days_text(r, other, theirs, sizeof theirs);
        int column = r->start >= 0 ? r->start : r->end;
        const char *role = roster_text(rr, r->role), *other_role = roster_text(other, r->role);
        diagnostic *d = diag_report_data(
            s->diags, DIAG_ERROR, r->path, (unsigned)line, (unsigned)(column + 1), "roster",
            "staff '%s' has two roster rows for the same days: "
            "this one (%s, %s) and line %lu (%s, %s)",
            id, role ? role : "no role", mine, (unsigned long)(uintptr_t)r->lines.items[k - 1],
            other_role ? other_role : "no role", theirs);
        /* the row that starts first is the one to end where the other starts */
        bool this_later = hs && (!os || oa < a), other_later = os && (!hs || a < oa);
        if (this_later || other_later) {
            date_t next_start = this_later ? a : oa, shown = next_start;
            if (r->end_is_last_day) date_add_days(next_start, -1, &shown);
            char end_text[DATE_FORMAT_SIZE];
            date_format(shown, end_text, sizeof end_text);
            diag_hint(s->diags, d,
                      "a person who changes roles has a row per role on days of its own: "
                      "end %s with end %s%s",
                      this_later ? "the earlier row" : "this row", end_text,
                      r->end_is_last_day ? " (its last day: the roster's end convention is \"last_day\")"
                                         : " (the first day in the next role)");
        } else {
            diag_hint(s->diags, d,
                      "a person who changes roles has a row per role on days of its own: "
                      "correct 'start' or 'end' so that the rows do not overlap");
        }
        return false;
    }
    return true;
}

static bool on_roster_row(void *ctx, const csvr_row *row)
{
    roster_ctx *r = ctx;
    eval_session *s = r->s;
    int n = r->roster->u.source.column_count;
    roster_row *rr = arena_alloc(&s->mem, sizeof *rr);
    rr->values = arena_alloc(&s->mem, (size_t)n * sizeof *rr->values);
    for (int i = 0; i < n; i++)
        rr->values[i] = cell_value(s, r->roster->u.source.columns[i].type, &row->cells[i]);
    uint64_t line = csvr_row_line(row);
    if (rr->values[r->id].kind == VAL_NUM) {
        /* an int id is known by its digits, as staff columns hold them */
        char digits[DEC_FORMAT_SIZE];
        size_t n = dec_format(rr->values[r->id].as.num, 0, digits, sizeof digits);
        rr->values[r->id].kind = VAL_TEXT;
        rr->values[r->id].as.text = strtab_str(&s->strings, strtab_intern(&s->strings, digits, n));
    }
    eval_value id = rr->values[r->id];
    if (id.kind != VAL_TEXT || id.as.text[0] == '\0') {
        diag_report_data(s->diags, DIAG_ERROR, r->path, (unsigned)line, (unsigned)(r->id + 1), "roster",
                         "a staff member without an id");
        r->bad = true;
        return true;
    }
    bool has_start = false, has_end = false;
    date_t start = 0, end = 0;
    roster_row_days(r, rr, &has_start, &start, &has_end, &end);
    if (has_start && has_end && end <= start) {
        /* such a row is employed on no day, a typo that would quietly leave the person
         * out of every period */
        char start_text[DATE_FORMAT_SIZE], end_text[DATE_FORMAT_SIZE];
        date_format(rr->values[r->start].as.date, start_text, sizeof start_text);
        date_format(rr->values[r->end].as.date, end_text, sizeof end_text);
        diagnostic *d =
            diag_report_data(s->diags, DIAG_ERROR, r->path, (unsigned)line, (unsigned)(r->end + 1), "roster",
                             "staff '%s' ends on %s, %s starting on %s", id.as.text, end_text,
                             r->end_is_last_day ? "before" : "not after", start_text);
        diag_hint(
            s->diags, d,
            r->end_is_last_day
                ? "'end' is the last day employed (convention \"last_day\"): it cannot be before 'start'"
                : "'end' is the first day no longer employed: it must be later than 'start'");
        r->bad = true;
        return true;
    }
    uint32_t seen = strtab_find(&s->staff_ids, id.as.text, strlen(id.as.text));
    if (seen != HMAP_NONE && !roster_row_may_repeat(r, rr, line, seen, id.as.text)) {
        r->bad = true;
        return true;
    }
    size_t at = r->rows.len;
    if (seen == HMAP_NONE) {
        seen = strtab_intern(&s->staff_ids, id.as.text, strlen(id.as.text));
        ptr_vec_push(&s->mem, &r->first_of_id, (void *)(uintptr_t)at);
        ptr_vec_push(&s->mem, &r->last_of_id, (void *)(uintptr_t)(at + 1));
        ptr_vec_push(&s->mem, &r->earlier, (void *)(uintptr_t)0);
    } else {
        ptr_vec_push(&s->mem, &r->earlier, r->last_of_id.items[seen]);
        r->last_of_id.items[seen] = (void *)(uintptr_t)(at + 1);
    }
    ptr_vec_push(&s->mem, &r->rows, rr);
    ptr_vec_push(&s->mem, &r->lines, (void *)(uintptr_t)line);
    return true;
}

static bool load_roster(eval_session *s)
{
    const ast_decl *roster = s->model->roster;
    eval_source_stats *stats = &s->stats[s->stats_count - 1];
    roster_ctx r = { .s = s, .roster = roster };
    r.id = roster_column(roster, "id");
    r.name = roster_column(roster, "name");
    r.role = roster_column(roster, "role");
    r.start = roster_column(roster, "start");
    r.end = roster_column(roster, "end");
    r.end_is_last_day = r.end >= 0 && roster->u.source.columns[r.end].convention &&
                        !strcmp(roster->u.source.columns[r.end].convention, "last_day");
    r.path = eval_source_path(s, roster);
    stats->path = r.path;
    int n = roster->u.source.column_count;
    csvr_column *cols = xcalloc((size_t)n + 1, sizeof *cols);
    for (int i = 0; i < n; i++) {
        cols[i].name = ast_column_header(&roster->u.source.columns[i]);
        cols[i].type = eval_csv_type(roster->u.source.columns[i].type);
    }
    csvr_error err;
    bool allowed = eval_may_read_source(s, roster, r.path);
    csvr_reader *reader = allowed ? eval_open_declared(s, roster, r.path, cols, (size_t)n, 0, &err) : NULL;
    free(cols);
    if (!allowed) return false;
    if (!reader) {
        eval_report_csv_error(s, &err);
        return false;
    }
    /* a bad roster row is never skipped: who is paid must not depend on a flag */
    csvr_handlers h = { .on_row = on_roster_row, .on_bad = NULL, .ctx = &r };
    csvr_status st = csvr_read(reader, &h, &err);
    if (st == CSVR_ERROR) eval_report_csv_error(s, &err);
    csvr_sha256_hex(reader, stats->sha256);
    csvr_close(reader);
    stats->read = true;
    stats->rows = r.rows.len;
    if (st != CSVR_OK || r.bad) {
        s->failed = true;
        return false;
    }
    s->staff_count = r.rows.len;
    s->groups = (int)s->staff_count + 1;
    s->staff = arena_alloc(&s->mem, (s->staff_count + 1) * sizeof *s->staff);
    s->staff_rows = arena_alloc(&s->mem, (s->staff_count + 1) * sizeof *s->staff_rows);
    for (size_t i = 0; i < s->staff_count; i++) {
        roster_row *rr = r.rows.items[i];
        s->staff_rows[i] = *rr;
        eval_staff *st_ = &s->staff[i];
        st_->line = (unsigned long)(uintptr_t)r.lines.items[i];
        st_->id = rr->values[r.id].as.text;
        st_->name = r.name >= 0 && rr->values[r.name].kind == VAL_TEXT ? rr->values[r.name].as.text : NULL;
        st_->role = r.role >= 0 && rr->values[r.role].kind == VAL_TEXT ? rr->values[r.role].as.text : NULL;
        roster_row_days(&r, rr, &st_->has_start, &st_->start, &st_->has_end, &st_->end);
        st_->end_is_last_day = r.end_is_last_day;
        st_->next_row = -1;
        st_->first_row = (int)i;
        st_->id_rows = 1;
        size_t earlier = (size_t)(uintptr_t)r.earlier.items[i];
        if (earlier) {
            eval_staff *prev = &s->staff[earlier - 1];
            prev->next_row = (int)i;
            st_->first_row = prev->first_row;
        }
    }
    /* the group a source row's staff id adds to is the id's first roster row */
    s->id_first_row = arena_alloc(&s->mem, (r.first_of_id.len + 1) * sizeof *s->id_first_row);
    for (size_t p = 0; p < r.first_of_id.len; p++) {
        size_t first = (size_t)(uintptr_t)r.first_of_id.items[p];
        s->id_first_row[p] = (int)first;
        int rows = 0;
        for (int k = (int)first; k >= 0; k = s->staff[k].next_row) rows++;
        for (int k = (int)first; k >= 0; k = s->staff[k].next_row) s->staff[k].id_rows = rows;
    }
    return true;
}

/* ---- the interpreter's environment ---------------------------------------------------
 * One interpreter (interp.h) computes row conditions during a pass and figures after
 * it; the leaves below give it this session's data. */

static const interp_leaves session_leaves;

/* The environment of a row of SOURCE being read (its period is set per instance). */
interp_env eval_row_env(eval_session *s, const ast_decl *source, const csvr_cell *cells)
{
    interp_env env = { .leaves = &session_leaves, .ctx = s, .group = -1, .cells = cells, .source = source };
    return env;
}

/* ---- executing a run ------------------------------------------------------------------ */

bool eval_overflow_check(eval_session *s)
{
    if (s->given_per_row) {
        s->failed = true;
        return false;
    }
    ast_expr *e = __atomic_load_n(&s->overflow_at, __ATOMIC_RELAXED);
    if (!e) return true;
    if (!s->overflow_reported) {
        s->overflow_reported = true;
        diagnostic *d = diag_report(
            s->diags, DIAG_ERROR, e->span, "overflow",
            "arithmetic overflow: a value of this expression leaves the exact decimal range (|value| < 1.7e20)");
        diag_hint(
            s->diags, d,
            "kpic never prints a rounded or wrapped figure; check the data for a misplaced decimal point");
    }
    s->failed = true;
    return false;
}

/* Registers every scale call in N (a row expression: an aggregate's argument, where
 * or having) so that rows can count their inputs outside every interval. */
static void collect_row_scales(const ir_node *n, void *ctx)
{
    eval_session *s = ctx;
    ir_each_child(n, collect_row_scales, s);
    if (n->kind != IR_SCALE) return;
    uint64_t key = (uint64_t)(uintptr_t)n;
    if (hmap_get(&s->row_scale_index, key) != HMAP_NONE) return;
    if (s->row_scale_count == s->row_scale_cap) {
        s->row_scale_cap = s->row_scale_cap ? s->row_scale_cap * 2 : 8;
        s->row_scale_calls = xrealloc(s->row_scale_calls, s->row_scale_cap * sizeof *s->row_scale_calls);
        s->row_scale_misses = xrealloc(s->row_scale_misses, s->row_scale_cap * sizeof *s->row_scale_misses);
    }
    hmap_put(&s->row_scale_index, key, (uint32_t)s->row_scale_count);
    s->row_scale_calls[s->row_scale_count] = n->syntax;
    s->row_scale_misses[s->row_scale_count++] = 0;
}

/* Under --skip-bad-rows, a warning per source that had rows skipped: a figure
 * computed without some rows must not pass for one computed from all of them. */
static void report_skipped_rows(eval_session *s)
{
    for (size_t k = 0; k < s->stats_count; k++) {
        const eval_source_stats *src = &s->stats[k];
        if (!src->read || src->skipped == 0) continue;
        diagnostic *d = diag_report_data(
            s->diags, DIAG_WARNING, src->path, 0, 0, "skipped-rows",
            "%llu bad row%s of source '%s' skipped (--skip-bad-rows); every figure from it leaves %s out",
            (unsigned long long)src->skipped, src->skipped == 1 ? "" : "s", src->name,
            src->skipped == 1 ? "it" : "them");
        if (s->options.rejects_path)
            diag_hint(s->diags, d, "%s has %s with the reason%s", s->options.rejects_path,
                      src->skipped == 1 ? "it" : "them", src->skipped == 1 ? "" : "s");
        else
            diag_hint(s->diags, d, "--rejects FILE writes %s with the reason%s",
                      src->skipped == 1 ? "it" : "them", src->skipped == 1 ? "" : "s");
    }
}

/* What comes before the sources: the roster and the schedule of the reads. False: the
 * session failed; *READS: whether any source is to be read (not with --values). */
static bool execute_begin(eval_session *s, bool *reads)
{
    *reads = false;
    s->executed = true;
    if (s->plan.shift_overflow) {
        kp_span none = { DIAG_NO_FILE, 0, 0 };
        diag_report(s->diags, DIAG_ERROR, none, "period",
                    "a previous() or last_year() reaches before year 1");
        s->failed = true;
        return false;
    }
    if (!load_roster(s)) return false;
    if (s->options.given_values) return true; /* values computed elsewhere: no source is read */
    plan_schedule(&s->plan);
    for (size_t i = 0; i < s->plan.aggs.len; i++) {
        const plan_agg *agg = s->plan.aggs.items[i];
        if (agg->arg) collect_row_scales(agg->arg, s);
        if (agg->where) collect_row_scales(agg->where, s);
        if (agg->having) collect_row_scales(agg->having, s);
    }
    *reads = true;
    return true;
}

/* What comes after every source was read. */
static bool execute_end(eval_session *s)
{
    if (s->options.skip_bad_rows) report_skipped_rows(s);
    if (!eval_overflow_check(s)) return false;
    return !s->failed;
}

bool eval_execute(eval_session *s)
{
    bool reads;
    if (!execute_begin(s, &reads)) return false;
    if (!reads) return true;
    for (int level = 0; level <= s->plan.max_level; level++)
        for (size_t i = 0; i < s->model->sources.len; i++)
            if (!eval_read_source(s, i, level)) {
                s->failed = true;
                return false;
            }
    return execute_end(s);
}

/* One read of eval_execute's order: a source at a level. */
typedef struct read_step {
    int level;
    size_t source;
} read_step;

static read_step *read_steps(const eval_session *s, size_t *count)
{
    size_t n = (size_t)(s->plan.max_level + 1) * s->model->sources.len;
    read_step *steps = xcalloc(n + 1, sizeof *steps);
    *count = 0;
    for (int level = 0; level <= s->plan.max_level; level++)
        for (size_t i = 0; i < s->model->sources.len; i++) steps[(*count)++] = (read_step){ level, i };
    return steps;
}

/* Whether STEP of S would read a pipe or device that OTHER has read already (the two
 * specs declare its source differently, so the pass could not be shared): what is left
 * of it is not the file, so S is told why instead of finding it empty (reported). */
static bool drained_by_other(eval_session *s, const read_step *step, eval_session *other)
{
    const ast_decl *src = s->model->sources.items[step->source];
    if (!eval_reads_source_at(s, src, step->level)) return false;
    const char *path = eval_source_path(s, src);
    struct stat st;
    if (stat(path, &st) != 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) return false;
    bool read = false;
    for (size_t i = 0; i < other->model->sources.len && !read; i++)
        read = other->stats[i].read && !strcmp(eval_source_path(other, other->model->sources.items[i]), path);
    if (!read) return false;
    csvr_error e;
    memset(&e, 0, sizeof e);
    e.kind = CSVR_ERR_IO;
    e.column = -1;
    snprintf(e.path, sizeof e.path, "%s", path);
    snprintf(e.message, sizeof e.message,
             "a pipe or device can be read only once, and the two specs cannot share one read "
             "of source '%s' (they declare it differently, or with a key), so each must read "
             "it: save it to a regular file and pass that file",
             src->name);
    eval_report_csv_error(s, &e);
    return true;
}

void eval_execute_pair(eval_session *a, eval_session *b, bool ok[2])
{
    eval_session *s[2] = { a, b };
    bool live[2];
    read_step *steps[2] = { NULL, NULL };
    size_t count[2] = { 0, 0 }, at[2] = { 0, 0 };
    for (int k = 0; k < 2; k++) {
        bool reads;
        ok[k] = execute_begin(s[k], &reads);
        live[k] = ok[k] && reads;
        if (live[k]) steps[k] = read_steps(s[k], &count[k]);
    }
    /* each session reads in eval_execute's order; a step of one is shared with the other's
     * next step when both read the file alike */
    for (;;) {
        bool has[2] = { live[0] && at[0] < count[0], live[1] && at[1] < count[1] };
        if (!has[0] && !has[1]) break;
        const read_step *x = has[0] ? &steps[0][at[0]] : NULL, *y = has[1] ? &steps[1][at[1]] : NULL;
        if (x && y && eval_can_share_source(a, x->source, x->level, b, y->source, y->level)) {
            bool read[2];
            eval_read_source_pair(a, x->source, x->level, b, y->source, y->level, read);
            for (int k = 0; k < 2; k++) {
                at[k]++;
                if (!read[k]) {
                    s[k]->failed = true;
                    live[k] = ok[k] = false;
                }
            }
            continue;
        }
        /* the first session's step alone, unless a later step of the second's can share it */
        int k = has[0] ? 0 : 1;
        for (size_t t = at[1] + 1; x && y && t < count[1] && k == 0; t++)
            if (eval_can_share_source(a, x->source, x->level, b, steps[1][t].source, steps[1][t].level))
                k = 1;
        const read_step *step = &steps[k][at[k]++];
        if (drained_by_other(s[k], step, s[1 - k]) || !eval_read_source(s[k], step->source, step->level)) {
            s[k]->failed = true;
            live[k] = ok[k] = false;
        }
    }
    for (int k = 0; k < 2; k++) {
        if (live[k]) ok[k] = execute_end(s[k]);
        free(steps[k]);
    }
}

bool eval_write_rejects(const eval_session *s, const char **why)
{
    if (!s->options.skip_bad_rows || !s->options.rejects_path) return true;
    static const char header[] = "source,file,line,field,reason,record\n";
    char *text = xmalloc(sizeof header + s->rejects.len);
    memcpy(text, header, sizeof header - 1);
    if (s->rejects.len) memcpy(text + sizeof header - 1, s->rejects.data, s->rejects.len);
    bool written =
        output_write_file(s->options.rejects_path, text, sizeof header - 1 + s->rejects.len, why) == 0;
    free(text);
    return written;
}

/* ---- evaluating expressions --------------------------------------------------------------- */

typedef struct staff_cell_search {
    eval_session *s;
    bool found;
} staff_cell_search;

/* Whether N reads a roster cell (staff.COL), itself or through the indicators it uses. */
static void find_staff_cell(const ir_node *n, void *ctx)
{
    staff_cell_search *f = ctx;
    if (f->found) return;
    if (n->kind == IR_STAFF_COLUMN) f->found = true;
    else if (n->kind == IR_INDICATOR) find_staff_cell(ir_indicator(f->s->ir, n->u.decl), ctx);
    else ir_each_child(n, find_staff_cell, ctx);
}

/* A values file holds one value per staff id, but an indicator that reads the roster
 * (attainment = order_count / staff.quota) differs between the rows of a person who
 * changed roles: using the one value for both rows would pay one of them on another
 * role's cells. An error, once, that fails the run (eval_overflow_check). */
static bool given_value_fits_row(eval_session *s, const ast_decl *ind, int group)
{
    if (group < 0 || (size_t)group >= s->staff_count || s->staff[group].id_rows < 2) return true;
    staff_cell_search f = { s, false };
    find_staff_cell(ir_indicator(s->ir, ind), &f);
    if (!f.found) return true;
    if (!s->given_per_row) {
        s->given_per_row = true;
        diagnostic *d =
            diag_report(s->diags, DIAG_ERROR, ind->name_span, "values",
                        "indicator '%s' reads the roster, so its value differs between the roster "
                        "rows of staff '%s' (one per role), but --values gives one value per staff id",
                        ind->name, s->staff[group].id);
        diag_hint(s->diags, d, "score without --values, so that each role's row gets its own value");
    }
    return false;
}

static eval_value indicator_at(eval_session *s, const ast_decl *ind, period_t period, int group)
{
    if (!ind->u.indicator.per_staff) group = -1;
    if (s->options.given_values && !given_value_fits_row(s, ind, group)) return eval_null();
    if (s->options.given_values)
        return s->options.given_values(s->options.given_values_ctx, ind, period,
                                       group >= 0 && (size_t)group < s->staff_count
                                           ? (s->staff[group].id ? s->staff[group].id : "")
                                           : NULL);
    uint64_t key = hash_u64((uint64_t)(uintptr_t)ind) ^
                   hash_u64(((uint64_t)(uint32_t)period.start << 20) ^ (uint64_t)(uint32_t)(group + 1)) ^
                   (uint64_t)(uint32_t)period.end << 32;
    uint32_t at = hmap_get(&s->memo_index, key);
    if (at != HMAP_NONE) {
        memo_entry *m = &s->memo[at];
        if (m->decl == ind && m->start == period.start && m->end == period.end && m->group == group)
            return m->value;
    }
    interp_env env = { .leaves = &session_leaves, .ctx = s, .period = period, .group = group };
    val_t v;
    interp_eval(&env, ir_indicator(s->ir, ind), &v);
    eval_value value = val_to_eval(&v);
    if (at == HMAP_NONE) {
        if (s->memo_count == s->memo_cap) {
            s->memo_cap = s->memo_cap ? s->memo_cap * 2 : 256;
            s->memo = xrealloc(s->memo, s->memo_cap * sizeof *s->memo);
        }
        s->memo[s->memo_count] = (memo_entry){ ind, period.start, period.end, group, value };
        hmap_put(&s->memo_index, key, (uint32_t)s->memo_count++);
    }
    return value;
}

static eval_value aggregate_at(eval_session *s, plan_instance *in, int group, bool per_staff)
{
    if (!in || !in->state) return eval_null();
    inst_state *st = in->state;
    if (!st->result) return eval_null();
    /* a person's rows (one per role) share the aggregates of their id's first row */
    int g = group >= 0 && per_staff && in->agg->per_staff ? s->staff[group].first_row : s->groups - 1;
    return st->result[g];
}

int eval_compare_values(const eval_value *a, const eval_value *b, bool *ok)
{
    val_t x, y;
    val_from_eval(a, &x);
    val_from_eval(b, &y);
    return val_compare(&x, &y, ok);
}

void eval_scale_input_text(const eval_session *s, const ast_decl *scale, dec_t x, char *buf, size_t size)
{
    const ir_scale *decoded = ir_scale_of(s->ir, scale);
    eval_format_value(eval_num(x), decoded && decoded->percent ? UNIT_PERCENT : UNIT_NUMBER, buf, size);
}

int eval_scale_row(const eval_session *s, const ast_decl *scale, dec_t x)
{
    const ir_scale *decoded = ir_scale_of(s->ir, scale);
    return decoded ? ir_scale_find(decoded, x) : -1;
}

eval_value eval_scale(const eval_session *s, const ast_decl *scale, dec_t x)
{
    const ir_scale *decoded = ir_scale_of(s->ir, scale);
    dec_t points;
    return decoded && ir_scale_apply(decoded, x, &points) ? eval_num(points) : eval_null();
}

static void note_scale_miss(const interp_env *env, const ast_expr *call, dec_t input)
{
    eval_session *s = env->ctx;
    uint64_t seen =
        hash_u64((uint64_t)(uintptr_t)call) ^
        hash_u64(((uint64_t)(uint32_t)env->period.start << 20) ^ (uint64_t)(uint32_t)(env->group + 1)) ^
        (uint64_t)(uint32_t)env->period.end << 32;
    uint32_t tag =
        (uint32_t)((uint64_t)(uintptr_t)call >> 4) ^ (uint32_t)env->period.start ^ (uint32_t)env->group;
    if (hmap_get(&s->scale_miss_seen, seen) == tag) return;
    hmap_put(&s->scale_miss_seen, seen, tag);
    uint64_t key = (uint64_t)(uintptr_t)call;
    uint32_t at = hmap_get(&s->scale_miss_index, key);
    if (at != HMAP_NONE) {
        s->scale_misses[at].count++;
        return;
    }
    if (s->scale_miss_count == s->scale_miss_cap) {
        s->scale_miss_cap = s->scale_miss_cap ? s->scale_miss_cap * 2 : 8;
        s->scale_misses = xrealloc(s->scale_misses, s->scale_miss_cap * sizeof *s->scale_misses);
    }
    hmap_put(&s->scale_miss_index, key, (uint32_t)s->scale_miss_count);
    s->scale_misses[s->scale_miss_count++] = (scale_miss){ call, input, env->period, env->group, 1 };
}

void eval_report_scale_misses(eval_session *s)
{
    for (size_t i = 0; i < s->row_scale_count; i++) {
        uint64_t n = s->row_scale_misses[i];
        if (!n) continue;
        const ast_expr *call = s->row_scale_calls[i];
        diag_report(s->diags, DIAG_WARNING, call->span, "scale-range",
                    "%llu row value%s lay outside every interval of scale '%s'; %s null",
                    (unsigned long long)n, n == 1 ? "" : "s", call->ref->name, n == 1 ? "it is" : "they are");
    }
    for (size_t i = 0; i < s->scale_miss_count; i++) {
        const scale_miss *m = &s->scale_misses[i];
        char input[64], period[PERIOD_LABEL_SIZE], who[160];
        eval_scale_input_text(s, m->call->ref, m->input, input, sizeof input);
        period_format(m->period, period, sizeof period);
        if (m->group < 0 || (size_t)m->group >= s->staff_count)
            snprintf(who, sizeof who, "the company total");
        else snprintf(who, sizeof who, "staff '%s'", s->staff[m->group].id);
        diagnostic *d =
            diag_report(s->diags, DIAG_WARNING, m->call->span, "scale-range",
                        "%s lies outside every interval of scale '%s' (%s, %s); the value is null", input,
                        m->call->ref->name, period, who);
        if (m->count > 1)
            diag_hint(s->diags, d, "the same for %llu more value%s (other periods or staff members)",
                      (unsigned long long)(m->count - 1), m->count == 2 ? "" : "s");
    }
}

/* ---- the leaves ---- */

static void leaf_indicator(const interp_env *env, const ast_decl *indicator, val_t *out)
{
    eval_value v = indicator_at(env->ctx, indicator, env->period, env->group);
    val_from_eval(&v, out);
}

static void leaf_aggregate(const interp_env *env, const ir_node *n, val_t *out)
{
    eval_session *s = env->ctx;
    const ir_agg *agg = n->kind == IR_ROWS ? n->u.agg->rows : n->u.agg;
    eval_value v = aggregate_at(s, plan_find(&s->plan, agg, env->period), env->group, n->per_staff);
    val_from_eval(&v, out);
}

static void leaf_group(const interp_env *env, const ir_node *n, val_t *out)
{
    if (!env->slots) return;
    const acc *a = (const acc *)env->slots + n->u.group.slot;
    eval_value v = eval_acc_result(a, n->u.group.kind, n->type == TYPE_DATE);
    if (v.kind == VAL_NUM) val_set_num(out, v.as.num);
    else if (v.kind == VAL_DATE) val_set_date(out, v.as.date);
}

static bool leaf_in_set(const interp_env *env, const ir_agg *set, const val_t *x)
{
    unsigned char buf[sizeof(dec_t)];
    const void *key;
    size_t len = val_key(x, buf, &key);
    return eval_set_has(env->ctx, set, env->period, key, len);
}

static void leaf_staff_cell(const interp_env *env, const ir_node *n, val_t *out)
{
    eval_session *s = env->ctx;
    if (env->group < 0 || (size_t)env->group >= s->staff_count) return;
    val_from_eval(&s->staff_rows[env->group].values[n->u.column.index], out);
}

static void leaf_context(const interp_env *env, ir_kind which, val_t *out)
{
    const eval_kpi_context *kpi = env->kpi;
    if (!kpi) return;
    switch (which) {
    case IR_VALUE: val_from_eval(&kpi->value, out); return;
    case IR_TARGET: val_from_eval(&kpi->target, out); return;
    case IR_ACHIEVEMENT: val_from_eval(&kpi->achievement, out); return;
    case IR_SCORE: val_from_eval(&kpi->score, out); return;
    case IR_EMPLOYED: val_from_eval(&kpi->employed, out); return;
    case IR_GRADE:
        if (kpi->grades) val_from_eval(&kpi->grades->grade, out);
        return;
    case IR_RANK:
        if (kpi->grades) val_from_eval(&kpi->grades->rank, out);
        return;
    case IR_PERCENTILE:
        if (kpi->grades) val_from_eval(&kpi->grades->percentile, out);
        return;
    case IR_GRADE_FACTOR:
        if (kpi->grades) val_from_eval(&kpi->grades->factor, out);
        return;
    default: return;
    }
}

/* A scale in a row expression (an aggregate's argument, where or having: counted by
 * every worker at once, reported per call) or in a figure (reported with the first
 * period and staff member it happened for). */
static void leaf_scale(const interp_env *env, const ir_node *n, dec_t x, val_t *out)
{
    eval_session *s = env->ctx;
    const ir_scale *scale = ir_scale_of(s->ir, n->u.decl);
    dec_t points;
    if (ir_scale_find(scale, x) < 0) {
        /* the map is complete before the pass and only read during it */
        uint32_t at = hmap_get(&s->row_scale_index, (uint64_t)(uintptr_t)n);
        if (at != HMAP_NONE) __atomic_fetch_add(&s->row_scale_misses[at], 1, __ATOMIC_RELAXED);
        else note_scale_miss(env, n->syntax, x);
    }
    if (ir_scale_apply(scale, x, &points)) val_set_num(out, points);
}

static void leaf_overflow(const interp_env *env, const ir_node *n)
{
    note_overflow(env->ctx, n->syntax);
}

/* The kpi context's employed as days / days of the period, when that is the value it
 * holds (it is eval_employed's, rounded from this fraction). */
static bool leaf_employed_fraction(const interp_env *env, int64_t *num, int64_t *den)
{
    const eval_kpi_context *kpi = env->kpi;
    const eval_session *s = env->ctx;
    if (!kpi || kpi->employed.kind != VAL_NUM || env->group < 0 || (size_t)env->group >= s->staff_count)
        return false;
    period_fraction f = eval_staff_employed(&s->staff[env->group], env->period);
    dec_t rounded;
    if (f.den <= 0 || dec_div(dec_from_int64(f.num), dec_from_int64(f.den), DEC_PLACES, &rounded) != DEC_OK ||
        dec_cmp(rounded, kpi->employed.as.num) != 0)
        return false;
    *num = f.num;
    *den = f.den;
    return true;
}

static const interp_leaves session_leaves = {
    .indicator = leaf_indicator,
    .aggregate = leaf_aggregate,
    .group = leaf_group,
    .in_set = leaf_in_set,
    .staff_cell = leaf_staff_cell,
    .context = leaf_context,
    .employed_fraction = leaf_employed_fraction,
    .scale = leaf_scale,
    .overflow = leaf_overflow,
};

eval_value eval_node_value(eval_session *s, const ir_node *node, size_t period, int staff,
                           const eval_kpi_context *kpi)
{
    if (!s->executed || s->failed || period >= s->period_count || !node) return eval_null();
    interp_env env = {
        .leaves = &session_leaves, .ctx = s, .period = s->periods[period], .group = staff, .kpi = kpi
    };
    val_t v;
    interp_eval(&env, node, &v);
    return val_to_eval(&v);
}

eval_value eval_value_of(eval_session *s, ast_expr *expr, size_t period, int staff,
                         const eval_kpi_context *kpi)
{
    return eval_node_value(s, lowered(s, expr), period, staff, kpi);
}

ir_program *eval_program(const eval_session *s)
{
    return s->ir;
}

eval_value eval_rows_of(eval_session *s, const ast_expr *aggregate, size_t period, int staff)
{
    if (!s->executed || s->failed || period >= s->period_count) return eval_null();
    const ir_node *n = lowered(s, aggregate);
    if (n->kind != IR_AGGREGATE || !n->u.agg->rows) return eval_null();
    return aggregate_at(s, plan_find(&s->plan, n->u.agg->rows, s->periods[period]), staff, n->per_staff);
}

eval_value eval_indicator_value(eval_session *s, ast_decl *indicator, size_t period, int staff)
{
    if (!s->executed || s->failed || period >= s->period_count) return eval_null();
    return indicator_at(s, indicator, s->periods[period], staff);
}

bool eval_values_given(const eval_session *s)
{
    return s->options.given_values != NULL;
}

eval_value eval_employed(const eval_session *s, size_t period, int staff)
{
    if (staff < 0 || (size_t)staff >= s->staff_count || period >= s->period_count) return eval_null();
    period_fraction f = eval_staff_employed(&s->staff[staff], s->periods[period]);
    dec_t out;
    if (f.den == 0 || dec_div(dec_from_int64(f.num), dec_from_int64(f.den), DEC_PLACES, &out) != DEC_OK)
        return eval_null();
    return eval_num(out);
}
