/* spectest.c — running the tests of a spec (see spectest.h).
 *
 * Each test is an ordinary evaluation: a session for the test's period whose sources
 * are overridden (eval.h) by the test's inline lines, kept in memory and read by the
 * same CSV reader as files, by the file it names, or by an empty file with just the
 * declared header. Its diagnostics go to a sink of its own that holds the spec's files
 * too, so an error in inline data is printed at its line in the spec.
 */
#include "kpic/spectest.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpic/json.h"
#include "kpic/markup.h"
#include "kpic/ir.h"
#include "kpic/run.h"
#include "kpic/score.h"
#include "score_internal.h"

/* The name in-memory data goes by in messages until they are moved into the spec. */
#define INLINE_PREFIX "inline data of "

/* ---- one test's data -------------------------------------------------------------- */

typedef struct test_data {
    const ast_decl *source;     /* the source or the roster */
    const ast_test_data *given; /* the test's item, or NULL: empty */
    char *name;                 /* in-memory name (INLINE_PREFIX + source), or NULL */
    char *bytes;                /* inline or empty data */
    size_t size;
    char *path; /* `from "PATH"` resolved */
} test_data;

/* A header-only CSV of SRC's declared columns: a source the test does not give. */
static char *empty_csv(const ast_decl *src, size_t *size)
{
    char *buf = NULL;
    FILE *out = score_memstream(&buf, size);
    for (int i = 0; i < src->u.source.column_count; i++) {
        const char *h = ast_column_header(&src->u.source.columns[i]);
        fputs(i ? ",\"" : "\"", out);
        for (const char *p = h; *p; p++) {
            if (*p == '"') fputc('"', out);
            fputc(*p, out);
        }
        fputc('"', out);
    }
    fputc('\n', out);
    score_memstream_close(out);
    return buf;
}

static char *joined_lines(const ast_test_data *given, size_t *size)
{
    char *buf = NULL;
    FILE *out = score_memstream(&buf, size);
    for (int i = 0; i < given->line_count; i++) {
        fputs(given->lines[i], out);
        fputc('\n', out);
    }
    score_memstream_close(out);
    return buf;
}

static const ast_test_data *given_data(const ast_decl *test, const char *source)
{
    for (int i = 0; i < test->u.test.data_count; i++)
        if (!strcmp(test->u.test.data[i].source, source)) return &test->u.test.data[i];
    return NULL;
}

/* PATH as written in the file of SPAN, relative to that file's folder. */
static char *relative_to(const diag_sink *diags, kp_span span, const char *path)
{
    if (path[0] == '/') return xstrdup(path);
    char *copy = xstrdup(diag_get_file(diags, span.file)->path);
    const char *dir = dirname(copy);
    size_t n = strlen(dir) + strlen(path) + 2;
    char *full = xmalloc(n);
    if (strcmp(dir, ".")) snprintf(full, n, "%s/%s", dir, path);
    else snprintf(full, n, "%s", path);
    free(copy);
    return full;
}

/* ---- values as a failure shows them ---------------------------------------------- */

/* The exact digits of D, trailing fractional zeros dropped (money keeps two places);
 * as a percentage when PERCENT. Never rounded: a failure must show what was compared. */
static void put_exact(FILE *out, dec_t d, bool percent, bool money)
{
    if (percent && dec_mul(d, dec_from_int64(100), &d) != DEC_OK) percent = false;
    char buf[DEC_FORMAT_SIZE];
    dec_format(d, DEC_PLACES, buf, sizeof buf);
    size_t n = strlen(buf);
    const char *dot = strchr(buf, '.');
    size_t keep = dot && money && !percent ? (size_t)(dot - buf) + 3 : 0;
    while (n > keep && buf[n - 1] == '0') buf[--n] = '\0';
    if (n > 0 && buf[n - 1] == '.') buf[--n] = '\0';
    fprintf(out, "%s%s", buf, percent ? "%" : "");
}

static char *value_text(eval_value v, bool percent, bool money)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *out = score_memstream(&buf, &size);
    if (v.kind == VAL_NUM) put_exact(out, v.as.num, percent, money);
    else if (v.kind == VAL_BOOL) fputs(v.as.b ? "true" : "false", out);
    else fputs("null", out);
    score_memstream_close(out);
    return buf;
}

static bool expect_percent(const ast_expect *e)
{
    if (e->value) {
        const ast_expr *lit = e->value->kind == EX_UNARY ? e->value->u.op.lhs : e->value;
        if (lit->kind == EX_PERCENT) return true;
    }
    return e->target == EXPECT_INDICATOR && e->ref && e->ref->u.indicator.unit == UNIT_PERCENT;
}

/* Whether the number ACTUAL meets the comparison or tolerance of E. */
static bool number_holds(const ast_expect *e, dec_t actual)
{
    if (e->check == EXPECT_WITHIN) {
        dec_t diff, allowed;
        if (dec_sub(actual, e->expected, &diff) != DEC_OK) return false;
        if (dec_mul(dec_abs(e->expected), e->relative, &allowed) != DEC_OK) return false;
        return dec_cmp(dec_abs(diff), allowed) <= 0;
    }
    int c = dec_cmp(actual, e->expected);
    switch (e->op) {
    case OP_EQ: return c == 0;
    case OP_NE: return c != 0;
    case OP_LT: return c < 0;
    case OP_LE: return c <= 0;
    case OP_GT: return c > 0;
    case OP_GE: return c >= 0;
    default: return false;
    }
}

/* ---- running one test ------------------------------------------------------------- */

typedef struct runner {
    ast_spec *spec;
    chk_model *model;
    const ast_decl *test;
    diag_sink diags;       /* this test's own: the spec's files, then its messages */
    run *run;              /* the test's run over its data */
    eval_session *session; /* run's session */
    score_result *scored;
    score_trace **role_traces;      /* per role of the model, in its order */
    score_trace **indicator_traces; /* per expectation (indicators), or NULL */
    const eval_staff *roster;
    size_t roster_count;
} runner;

static int roster_index(const runner *r, const char *id)
{
    for (size_t i = 0; i < r->roster_count; i++)
        if (r->roster[i].id && !strcmp(r->roster[i].id, id)) return (int)i;
    return -1;
}

/* The person of roster row ROW: their first row when they have a row per role. */
static int person_row(const runner *r, int row)
{
    return r->roster[row].id_rows > 1 ? r->roster[row].first_row : row;
}

/* The statement of the person of roster row STAFF in the test's period: a person with a
 * row per role (a transfer) is found by whichever row was scored; *COUNT is how many of
 * their rows were (2 after a transfer in the period). */
static const score_statement *statement_of(const runner *r, int staff, size_t *count)
{
    const score_statement *found = NULL;
    *count = 0;
    for (size_t i = 0; i < r->scored->statement_count; i++) {
        const score_statement *st = &r->scored->statements[i];
        if (st->period != 0 || person_row(r, st->staff) != person_row(r, staff)) continue;
        if (!found) found = st;
        (*count)++;
    }
    return found;
}

/* The person's pay in the test's period: their statements' bonuses added up; null when
 * one has none. */
static eval_value person_bonus_of(const runner *r, int staff)
{
    dec_t sum = { 0 };
    for (size_t i = 0; i < r->scored->statement_count; i++) {
        const score_statement *st = &r->scored->statements[i];
        if (st->period != 0 || person_row(r, st->staff) != person_row(r, staff)) continue;
        dec_t next;
        if (st->bonus.kind != VAL_NUM || dec_add(sum, st->bonus.as.num, &next) != DEC_OK) return eval_null();
        sum = next;
    }
    return eval_num(sum);
}

/* The grain of the role of roster row STAFF (the spec's when it names no role). */
static ast_grain role_grain_of(const runner *r, int staff)
{
    const ast_decl *role = chk_find(r->model, r->roster[staff].role);
    return role && role->kind == DECL_ROLE ? role->u.role.grain : r->model->grain;
}

static const score_unscored *unscored_of(const runner *r, int staff)
{
    for (size_t i = 0; i < r->scored->unscored_count; i++)
        if (r->scored->unscored[i].period == 0 && r->scored->unscored[i].staff == staff)
            return &r->scored->unscored[i];
    return NULL;
}

static char *explain_statement(runner *r, const score_statement *st, const char *kpi)
{
    for (size_t i = 0; i < r->model->roles.len; i++)
        if (r->model->roles.items[i] == st->role)
            return score_explain(r->role_traces[i], r->session, r->spec->diags, st, kpi, NULL);
    return NULL;
}

static char *explain_unscored(runner *r, int staff, const score_unscored *u)
{
    return score_explain_unscored(r->session, r->model, staff, u->reason, NULL);
}

static char *printed(const char *fmt, const char *a, const char *b)
{
    size_t n = (size_t)snprintf(NULL, 0, fmt, a, b) + 1;
    char *s = xmalloc(n);
    snprintf(s, n, fmt, a, b);
    return s;
}

/* Evaluates expectation E; on failure fills *F's actual value and explanation. */
static bool expectation_holds(runner *r, size_t index, const ast_expect *e, st_failure *f)
{
    int staff = -1;
    if (e->staff) {
        staff = roster_index(r, e->staff);
        if (staff < 0) {
            f->actual = printed("no staff member '%s' in the test's roster%s", e->staff, "");
            return false;
        }
    }
    bool percent = expect_percent(e);
    eval_value actual = eval_null();
    const score_statement *st = NULL;
    const score_unscored *unscored = NULL;
    size_t statements = 0;
    if (e->target != EXPECT_INDICATOR) {
        st = statement_of(r, staff, &statements);
        unscored = st ? NULL : unscored_of(r, staff);
        if (e->target == EXPECT_UNSCORED) {
            if (unscored) return true;
            f->actual = printed("scored as role %s%s", st ? st->role->name : "?", "");
            if (st) f->explain = explain_statement(r, st, NULL);
            return false;
        }
        if (!st && !unscored && staff >= 0 && (size_t)staff < r->roster_count && r->roster[staff].role) {
            /* neither scored nor unscored: the person's role is scored per quarter (or
             * another coarser grain), and a test's period is one of the spec's */
            f->actual = printed("no statement: role %s is scored per %s, and a test's period is one of the "
                                "spec's",
                                r->roster[staff].role, ast_grain_name(role_grain_of(r, staff)));
            return false;
        }
        if (!st) {
            f->actual = printed("unscored: %s%s", unscored ? score_reason_text(unscored->reason) : "?", "");
            if (unscored) f->explain = explain_unscored(r, staff, unscored);
            return false;
        }
    }
    const char *kpi = NULL;
    if (statements > 1 && e->target != EXPECT_BONUS && e->target != EXPECT_UNSCORED) {
        /* a score, a kpi or a gate belongs to one role's statement, which the
         * expectation cannot name */
        f->actual = printed("'%s' has a statement in each of their roles in the period%s; only the bonus "
                            "(their pay, the statements added up) can be expected",
                            e->staff, "");
        return false;
    }
    switch (e->target) {
    case EXPECT_INDICATOR: actual = eval_indicator_value(r->session, e->ref, 0, staff); break;
    case EXPECT_SCORE: actual = st->score; break;
    case EXPECT_BONUS: actual = statements > 1 ? person_bonus_of(r, staff) : st->bonus; break;
    case EXPECT_POINTS:
    case EXPECT_ACHIEVEMENT: {
        const score_kpi *k = NULL;
        for (size_t i = 0; i < st->kpi_count; i++)
            if (!strcmp(st->kpis[i].item->indicator, e->name)) k = &st->kpis[i];
        if (!k) {
            f->actual = printed("role %s has no kpi %s", st->role->name, e->name);
            return false;
        }
        kpi = e->name;
        actual = e->target == EXPECT_POINTS ? k->points : k->achievement;
        break;
    }
    case EXPECT_GATE: {
        bool passed;
        if (e->gate == 0) {
            passed = st->gates_passed;
        } else if ((size_t)e->gate > st->gate_count) {
            char n[32];
            snprintf(n, sizeof n, "%zu", st->gate_count);
            f->actual = printed("role %s has %s gate(s)", st->role->name, n);
            return false;
        } else {
            passed = st->gates[e->gate - 1].passed;
        }
        if (passed == (e->check == EXPECT_PASSED)) return true;
        f->actual = xstrdup(passed ? "passed" : "failed");
        f->explain = explain_statement(r, st, NULL);
        return false;
    }
    case EXPECT_UNSCORED: return true;
    case EXPECT_GRADE:
    case EXPECT_RANK:
    case EXPECT_PERCENTILE: {
        if (!st->grade.grades) {
            f->actual = printed("role %s has no grades%s", st->role->name, "");
            return false;
        }
        const eval_grade_context *place = &st->grade.values;
        if (e->target == EXPECT_GRADE) {
            const char *grade = place->grade.kind == VAL_TEXT ? place->grade.as.text : NULL;
            bool equal = grade && !strcmp(grade, e->value->u.lit.text);
            if (e->check == EXPECT_NULL ? !grade : equal == (e->op == OP_EQ)) return true;
            f->actual = grade ? printed("\"%s\"%s", grade, "") : xstrdup("null");
            f->explain = explain_statement(r, st, NULL);
            return false;
        }
        actual = e->target == EXPECT_RANK ? place->rank : place->percentile;
        break;
    }
    }
    bool holds = e->check == EXPECT_NULL ? actual.kind == VAL_NULL
                                         : actual.kind == VAL_NUM && number_holds(e, actual.as.num);
    if (holds) return true;
    bool money = e->target == EXPECT_BONUS ||
                 (e->target == EXPECT_INDICATOR && e->ref->u.indicator.unit == UNIT_MONEY);
    f->actual = value_text(actual, percent, money);
    if (e->target == EXPECT_INDICATOR)
        f->explain = score_explain_indicator(r->indicator_traces[index], r->session, r->spec->diags, e->ref,
                                             staff, NULL);
    else f->explain = explain_statement(r, st, kpi);
    return false;
}

/* Gives the new sink the spec's files at the same indexes, so spans print. */
static void copy_files(diag_sink *to, const diag_sink *from)
{
    for (size_t i = 0; i < from->file_count; i++) {
        const diag_file *f = &from->files[i];
        char *text = xmalloc(f->len + 1);
        memcpy(text, f->text, f->len);
        text[f->len] = '\0';
        diag_add_file(to, f->path, text, f->len);
    }
}

/* Moves data diagnostics about in-memory data to the lines of the spec they came from. */
static void locate_inline_errors(runner *r, const test_data *data, size_t count)
{
    for (size_t i = 0; i < r->diags.diags.len; i++) {
        diagnostic *d = r->diags.diags.items[i];
        if (d->span.file != DIAG_NO_FILE || !d->ext_path) continue;
        for (size_t k = 0; k < count; k++) {
            if (!data[k].name || strcmp(d->ext_path, data[k].name)) continue;
            const ast_test_data *g = data[k].given;
            if (g && d->ext_line > 0 && d->ext_line <= (unsigned)g->line_count)
                d->span = g->line_spans[d->ext_line - 1];
            else d->span = g ? g->source_span : r->test->name_span;
            d->ext_path = NULL;
            break;
        }
    }
}

static char *diagnostics_text(diag_sink *diags)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *out = score_memstream(&buf, &size);
    diag_print(diags, out, DIAG_FORMAT_TEXT);
    score_memstream_close(out);
    return buf;
}

static void run_test(ast_spec *spec, chk_model *model, const ast_decl *test, st_test *out)
{
    runner r;
    memset(&r, 0, sizeof r);
    r.spec = spec;
    r.model = model;
    r.test = test;
    diag_init(&r.diags);
    copy_files(&r.diags, spec->diags);

    /* the data of every source and of the roster */
    size_t n = model->sources.len + 1;
    test_data *data = xcalloc(n, sizeof *data);
    eval_data_override *overrides = xcalloc(n, sizeof *overrides);
    bool readable = true;
    for (size_t i = 0; i < n; i++) {
        const ast_decl *src = i < model->sources.len ? model->sources.items[i] : model->roster;
        const char *name = src->kind == DECL_STAFF ? "staff" : src->name;
        test_data *t = &data[i];
        t->source = src;
        t->given = given_data(test, name);
        overrides[i].source = name;
        if (t->given && t->given->path) {
            t->path = relative_to(spec->diags, t->given->path_span, t->given->path);
            overrides[i].path = t->path;
            if (!ast_spec_may_read(spec, t->path)) {
                diagnostic *d = diag_report(&r.diags, DIAG_ERROR, t->given->path_span, "source-outside",
                                            "the test's data file '%s' is outside the project root %s",
                                            t->path, spec->root);
                diag_hint(&r.diags, d,
                          "keep test data beside the spec, or allow its folder with "
                          "--allow-read DIR (docs/security.md)");
                readable = false;
            }
            continue;
        }
        t->name = printed("%s%s", INLINE_PREFIX, name);
        t->bytes = t->given && t->given->line_count > 0 ? joined_lines(t->given, &t->size)
                                                        : empty_csv(src, &t->size);
        overrides[i].path = t->name;
        overrides[i].bytes = t->bytes;
        overrides[i].size = t->size;
    }

    /* the test's period, and those previous() and last_year() reach from the roles, so
     * that explanations show them */
    period_t p;
    period_parse(test->u.test.period, strlen(test->u.test.period), model->grain, &p, NULL, 0);
    ir_program *program = ir_program_of(spec, model);
    ir_periods reached = { 0 };
    ir_periods_add(&reached, p);
    for (size_t i = 0; i < model->roles.len; i++)
        ir_role_periods(program, model->roles.items[i], p, IR_REACH_EVALUATED, &reached);
    size_t period_count = reached.count;
    period_t *periods = reached.items;
    reached.items = NULL;
    ir_periods_free(&reached);

    eval_options options;
    memset(&options, 0, sizeof options);
    options.overrides = overrides;
    options.override_count = n;
    options.threads = 1;
    int expects = test->u.test.expect_count;
    out->expect_count = (size_t)expects;
    if (readable) {
        r.run = run_new(spec, model, periods, period_count, &options, &r.diags);
        r.session = run_session(r.run);
        score_require(r.session, model);
        r.role_traces = xcalloc(model->roles.len + 1, sizeof *r.role_traces);
        for (size_t i = 0; i < model->roles.len; i++)
            r.role_traces[i] = score_trace_require(r.session, spec, model->roles.items[i]);
        r.indicator_traces = xcalloc((size_t)expects + 1, sizeof *r.indicator_traces);
        for (int i = 0; i < expects; i++) {
            const ast_expect *e = &test->u.test.expects[i];
            if (e->target == EXPECT_INDICATOR)
                r.indicator_traces[i] = score_trace_require_indicator(r.session, spec, e->ref);
        }
    }
    if (readable && run_execute(r.run)) {
        r.roster = eval_roster(r.session, &r.roster_count);
        r.scored = score_compute(r.session, model, &r.diags);
        out->failures = xcalloc((size_t)expects + 1, sizeof *out->failures);
        for (int i = 0; i < expects; i++) {
            const ast_expect *e = &test->u.test.expects[i];
            st_failure f;
            memset(&f, 0, sizeof f);
            if (expectation_holds(&r, (size_t)i, e, &f)) continue;
            arena scratch;
            arena_init(&scratch);
            diag_position(spec->diags, e->span.file, e->span.start, &f.line, &f.column);
            f.path = xstrdup(diag_get_file(spec->diags, e->span.file)->path);
            const char *line = diag_span_text(spec->diags, e->span, &scratch);
            f.expectation = xstrdup(strncmp(line, "expect ", 7) ? line : line + 7);
            kp_span rest = { e->span.file, e->target_span.end, e->span.end };
            const char *check = diag_span_text(spec->diags, rest, &scratch);
            f.expected = xstrdup(e->check == EXPECT_HOLDS ? "unscored" : check);
            arena_free(&scratch);
            out->failures[out->failure_count++] = f;
        }
        out->status = out->failure_count ? ST_FAIL : ST_PASS;
        if (!run_finish(r.run) || r.scored->total_overflow || r.scored->pool_failed) {
            out->status = ST_ERROR;
            out->error = diagnostics_text(&r.diags);
        }
        score_free(r.scored);
    } else {
        locate_inline_errors(&r, data, n);
        out->status = ST_ERROR;
        out->error = diagnostics_text(&r.diags);
    }
    for (size_t i = 0; r.role_traces && i < model->roles.len; i++) score_trace_free(r.role_traces[i]);
    for (int i = 0; r.indicator_traces && i < expects; i++) score_trace_free(r.indicator_traces[i]);
    free(r.role_traces);
    free(r.indicator_traces);
    run_free(r.run);
    free(periods);
    for (size_t i = 0; i < n; i++) {
        free(data[i].name);
        free(data[i].bytes);
        free(data[i].path);
    }
    free(data);
    free(overrides);
    diag_free(&r.diags);
}

st_result *st_run(ast_spec *spec, chk_model *model, const char *spec_path, const char *filter)
{
    st_result *res = xcalloc(1, sizeof *res);
    res->spec_path = xstrdup(spec_path);
    res->tests = xcalloc(model->tests.len + 1, sizeof *res->tests);
    for (size_t i = 0; i < model->tests.len; i++) {
        const ast_decl *test = model->tests.items[i];
        if (filter && !strstr(test->name, filter)) continue;
        st_test *t = &res->tests[res->test_count++];
        t->name = xstrdup(test->name);
        unsigned column;
        diag_position(spec->diags, test->span.file, test->span.start, &t->line, &column);
        t->path = xstrdup(diag_get_file(spec->diags, test->span.file)->path);
        run_test(spec, model, test, t);
    }
    return res;
}

st_result *st_spec_error(const char *spec_path, char *error)
{
    st_result *res = xcalloc(1, sizeof *res);
    res->spec_path = xstrdup(spec_path);
    res->error = error;
    return res;
}

void st_free(st_result *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->test_count; i++) {
        st_test *t = &r->tests[i];
        for (size_t k = 0; k < t->failure_count; k++) {
            free(t->failures[k].expectation);
            free(t->failures[k].expected);
            free(t->failures[k].actual);
            free(t->failures[k].explain);
            free(t->failures[k].path);
        }
        free(t->name);
        free(t->path);
        free(t->failures);
        free(t->error);
    }
    free(r->tests);
    free(r->error);
    free(r->spec_path);
    free(r);
}

void st_count(st_result *const *results, size_t count, size_t *passed, size_t *failed, size_t *errors)
{
    *passed = *failed = *errors = 0;
    for (size_t i = 0; i < count; i++) {
        if (results[i]->error) (*errors)++;
        for (size_t k = 0; k < results[i]->test_count; k++) {
            st_status s = results[i]->tests[k].status;
            if (s == ST_PASS) (*passed)++;
            else if (s == ST_FAIL) (*failed)++;
            else (*errors)++;
        }
    }
}

/* ---- reports ---------------------------------------------------------------------- */

/* TEXT with every line indented by N spaces (empty lines stay empty). */
static void put_indented(FILE *out, const char *text, int n)
{
    bool line_start = true;
    for (const char *p = text; *p; p++) {
        if (line_start && *p != '\n') fprintf(out, "%*s", n, "");
        fputc(*p, out);
        line_start = *p == '\n';
    }
    if (!line_start) fputc('\n', out);
}

static const char *status_word(st_status s)
{
    return s == ST_PASS ? "PASS" : s == ST_FAIL ? "FAIL" : "ERROR";
}

/* The earlier failure of T whose explain chain is the same as failure J's, or NULL:
 * two expectations on one person (score and bonus) share a chain, and printing it
 * twice buries the second expectation under a page of repetition. */
static const st_failure *same_explain_before(const st_test *t, size_t j)
{
    const char *chain = t->failures[j].explain;
    for (size_t k = 0; chain && k < j; k++)
        if (t->failures[k].explain && !strcmp(t->failures[k].explain, chain)) return &t->failures[k];
    return NULL;
}

static void render_text(FILE *out, st_result *const *results, size_t count)
{
    size_t tests = 0;
    for (size_t i = 0; i < count; i++) {
        const st_result *r = results[i];
        tests += r->test_count;
        if (r->error) {
            /* its diagnostics are on stderr already, where people read them */
            fprintf(out, "ERROR %s: the spec has errors, no test ran\n", r->spec_path);
            continue;
        }
        for (size_t k = 0; k < r->test_count; k++) {
            const st_test *t = &r->tests[k];
            fprintf(out, "%-5s %s\n", status_word(t->status), t->name);
            if (t->status == ST_ERROR) put_indented(out, t->error, 2);
            for (size_t j = 0; j < t->failure_count; j++) {
                const st_failure *f = &t->failures[j];
                fprintf(out, "  %s:%u:%u: expect %s\n", f->path, f->line, f->column, f->expectation);
                fprintf(out, "    expected  %s\n    actual    %s\n", f->expected, f->actual);
                const st_failure *same = same_explain_before(t, j);
                if (same) {
                    fprintf(out, "    explain   as for line %u above\n", same->line);
                } else if (f->explain) {
                    fputs("    explain\n", out);
                    put_indented(out, f->explain, 6);
                }
            }
        }
    }
    size_t passed, failed, errors;
    st_count(results, count, &passed, &failed, &errors);
    fprintf(out, "%zu test%s: %zu passed, %zu failed, %zu error%s\n", tests, tests == 1 ? "" : "s", passed,
            failed, errors, errors == 1 ? "" : "s");
}

static void render_json(FILE *out, st_result *const *results, size_t count)
{
    size_t passed, failed, errors;
    st_count(results, count, &passed, &failed, &errors);
    fprintf(out, "{\n  \"passed\": %zu,\n  \"failed\": %zu,\n  \"errors\": %zu,\n  \"specs\": [", passed,
            failed, errors);
    for (size_t i = 0; i < count; i++) {
        const st_result *r = results[i];
        fputs(i ? ",\n    {\"spec\": " : "\n    {\"spec\": ", out);
        json_write_string(out, r->spec_path);
        fputs(", \"error\": ", out);
        if (r->error) json_write_string(out, r->error);
        else fputs("null", out);
        fputs(", \"tests\": [", out);
        for (size_t k = 0; k < r->test_count; k++) {
            const st_test *t = &r->tests[k];
            fputs(k ? ",\n      {\"name\": " : "\n      {\"name\": ", out);
            json_write_string(out, t->name);
            fputs(", \"file\": ", out);
            json_write_string(out, t->path);
            fprintf(out, ", \"line\": %u, \"status\": \"%s\", \"expectations\": %zu, \"error\": ", t->line,
                    t->status == ST_PASS   ? "pass"
                    : t->status == ST_FAIL ? "fail"
                                           : "error",
                    t->expect_count);
            if (t->error) json_write_string(out, t->error);
            else fputs("null", out);
            fputs(", \"failures\": [", out);
            for (size_t j = 0; j < t->failure_count; j++) {
                const st_failure *f = &t->failures[j];
                fputs(j ? ",\n        {\"file\": " : "\n        {\"file\": ", out);
                json_write_string(out, f->path);
                fprintf(out, ", \"line\": %u, \"column\": %u, \"expectation\": ", f->line, f->column);
                json_write_string(out, f->expectation);
                fputs(", \"expected\": ", out);
                json_write_string(out, f->expected);
                fputs(", \"actual\": ", out);
                json_write_string(out, f->actual);
                fputs(", \"explain\": ", out);
                if (f->explain) json_write_string(out, f->explain);
                else fputs("null", out);
                fputc('}', out);
            }
            fputs(t->failure_count ? "\n      ]}" : "]}", out);
        }
        fputs(r->test_count ? "\n    ]}" : "]}", out);
    }
    fputs(count ? "\n  ]\n}\n" : "]\n}\n", out);
}

/* JUnit XML as Jenkins, GitLab and GitHub's test reporters read it (the Ant layout):
 * <testsuites> of a <testsuite> per spec, a <testcase> per test, with a <failure> per
 * failed expectation or an <error> when the test could not run. */
static void render_junit(FILE *out, st_result *const *results, size_t count)
{
    size_t passed, failed, errors;
    st_count(results, count, &passed, &failed, &errors);
    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<testsuites name=\"kpic test\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" time=\"0\">\n",
            passed + failed + errors, failed, errors);
    for (size_t i = 0; i < count; i++) {
        const st_result *r = results[i];
        size_t fails = 0, errs = r->error ? 1 : 0;
        for (size_t k = 0; k < r->test_count; k++) {
            fails += r->tests[k].status == ST_FAIL;
            errs += r->tests[k].status == ST_ERROR;
        }
        fputs("  <testsuite name=\"", out);
        markup_html(out, r->spec_path);
        fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"0\" time=\"0\">\n",
                r->test_count + (r->error ? 1 : 0), fails, errs);
        if (r->error) {
            fputs("    <testcase name=\"(spec)\" classname=\"", out);
            markup_html(out, r->spec_path);
            fputs("\" time=\"0\">\n      <error message=\"the spec has errors, no test ran\" type=\"spec\">",
                  out);
            markup_html(out, r->error);
            fputs("</error>\n    </testcase>\n", out);
        }
        for (size_t k = 0; k < r->test_count; k++) {
            const st_test *t = &r->tests[k];
            fputs("    <testcase name=\"", out);
            markup_html(out, t->name);
            fputs("\" classname=\"", out);
            markup_html(out, r->spec_path);
            fputs("\" time=\"0\"", out);
            if (t->status == ST_PASS) {
                fputs("/>\n", out);
                continue;
            }
            fputs(">\n", out);
            if (t->status == ST_ERROR) {
                fputs("      <error message=\"the test's data has errors\" type=\"data\">", out);
                markup_html(out, t->error);
                fputs("</error>\n", out);
            }
            if (t->failure_count) {
                /* one <failure> per testcase, as the schema allows: the message names the
                 * first failed expectation, the body lists them all */
                const st_failure *first = &t->failures[0];
                char where[64];
                snprintf(where, sizeof where, ":%u:%u: expect ", first->line, first->column);
                fprintf(out, "      <failure message=\"%zu of %zu expectations failed; ", t->failure_count,
                        t->expect_count);
                markup_html(out, first->path);
                fputs(where, out);
                markup_html(out, first->expectation);
                fputs(": actual ", out);
                markup_html(out, first->actual);
                fputs("\" type=\"expectation\">", out);
                for (size_t j = 0; j < t->failure_count; j++) {
                    const st_failure *f = &t->failures[j];
                    snprintf(where, sizeof where, ":%u:%u: expect ", f->line, f->column);
                    if (j) fputc('\n', out);
                    markup_html(out, f->path);
                    fputs(where, out);
                    markup_html(out, f->expectation);
                    fputs("\n  expected  ", out);
                    markup_html(out, f->expected);
                    fputs("\n  actual    ", out);
                    markup_html(out, f->actual);
                    fputc('\n', out);
                    const st_failure *same = same_explain_before(t, j);
                    if (same) fprintf(out, "  explain   as for line %u above\n", same->line);
                    else if (f->explain) markup_html(out, f->explain);
                }
                fputs("</failure>\n", out);
            }
            fputs("    </testcase>\n", out);
        }
        fputs("  </testsuite>\n", out);
    }
    fputs("</testsuites>\n", out);
}

char *st_render(st_result *const *results, size_t count, st_format format, size_t *len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *out = score_memstream(&buf, &size);
    if (format == ST_FORMAT_JSON) render_json(out, results, count);
    else if (format == ST_FORMAT_JUNIT) render_junit(out, results, count);
    else render_text(out, results, count);
    score_memstream_close(out);
    if (len) *len = size;
    return buf;
}
