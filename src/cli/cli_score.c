/* cli_score.c — `kpic score SPEC --period P|RANGE [DATA] [--format …] [-o FILE] [--bom]
 * [--summary] [--adjustments FILE] [--values FILE | --engine URI [--table SOURCE=TABLE]...]`
 * and `kpic explain SPEC --period P --staff ID [--kpi NAME] [--adjustments FILE]
 * [--values FILE | --engine URI [--table SOURCE=TABLE]...] [DATA]`. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpic/ir.h"
#include "kpic/score.h"

/* Reads --adjustments PATH (NULL: none) into *OUT. False after an error, printed,
 * with *STATUS 2 for a file that cannot be read and 1 for bad rows. */
static bool read_adjustments(const char *path, const chk_model *model, diag_sink *diags,
                             score_adjustments **out, int *status)
{
    *out = NULL;
    if (!path) return true;
    bool io_error = false;
    *out = score_adjust_read(path, model->grain, diags, &io_error);
    if (*out) return true;
    diag_print(diags, stderr, DIAG_FORMAT_TEXT);
    *status = io_error ? EXIT_USAGE : EXIT_ERRORS;
    return false;
}

/* --engine: the values of what scoring PERIODS reads, fetched from the server into
 * *FETCHED; false after printing why, with *STATUS. */
static bool fetch_scored(const cli_engine_args *engine, const char *values_path, ast_spec *spec,
                         const chk_model *model, const period_t *periods, size_t period_count,
                         cli_data_args *data, diag_sink *diags, cli_engine_values *fetched, int *status)
{
    ast_decl **indicators;
    period_t *needed;
    size_t indicator_count, needed_count;
    score_values_needed(ir_program_of(spec, model), periods, period_count, &indicators, &indicator_count,
                        &needed, &needed_count);
    bool ok = cli_engine_fetch(engine, values_path, spec, model, indicators, indicator_count, needed,
                               needed_count, data, diags, fetched, status);
    free(indicators);
    free(needed);
    return ok;
}

int cli_score(int argc, char **argv)
{
    const char *path = NULL, *period_text = NULL, *output = NULL, *adjustments_path = NULL,
               *values_path = NULL;
    score_format format = SCORE_FORMAT_TABLE;
    bool bom = false, summary = false;
    cli_seen seen = { .count = 0 };
    cli_data_args data;
    memset(&data, 0, sizeof data);
    cli_engine_args engine = { 0 };
    cli_engine_values fetched = { 0 };
    int status = EXIT_USAGE;
    for (int i = 0; i < argc; i++) {
        int taken = cli_take_data_option(argc, argv, &i, &data);
        if (taken < 0) goto done;
        if (taken || cli_take_strict(argv[i])) continue;
        taken = cli_take_engine_option(argc, argv, &i, &engine);
        if (taken < 0) goto done;
        if (taken) continue;
        const char *a = argv[i];
        if (!strcmp(a, "--bom")) {
            bom = true;
        } else if (!strcmp(a, "--summary")) {
            summary = true;
        } else if (!strcmp(a, "--period") || !strcmp(a, "--format") || !strcmp(a, "-o") ||
                   !strcmp(a, "--output") || !strcmp(a, "--adjustments") || !strcmp(a, "--values")) {
            const char *v = cli_single_value(argc, argv, &i, &seen);
            if (!v) goto done;
            if (!strcmp(a, "--period")) period_text = v;
            else if (!strcmp(a, "--adjustments")) adjustments_path = v;
            else if (!strcmp(a, "--values")) values_path = v;
            else if (!strcmp(a, "-o") || !strcmp(a, "--output")) output = v;
            else if (!strcmp(v, "table")) format = SCORE_FORMAT_TABLE;
            else if (!strcmp(v, "json")) format = SCORE_FORMAT_JSON;
            else if (!strcmp(v, "csv")) format = SCORE_FORMAT_CSV;
            else if (!strcmp(v, "md")) format = SCORE_FORMAT_MD;
            else if (!strcmp(v, "html")) format = SCORE_FORMAT_HTML;
            else {
                cli_usage("unknown score format '%s' (table, json, csv, md or html)", v);
                goto done;
            }
        } else if (!cli_take_spec("score", a, &path)) {
            goto done;
        }
    }
    if (!path) {
        cli_usage("score needs a spec file", NULL);
        goto done;
    }
    if (!period_text) {
        cli_usage("score needs --period (e.g. --period 2025-05)", NULL);
        goto done;
    }
    if (bom && format != SCORE_FORMAT_CSV) {
        cli_usage("--bom goes with --format csv", NULL);
        goto done;
    }
    if (summary && format != SCORE_FORMAT_CSV) {
        cli_usage("--summary goes with --format csv", NULL);
        goto done;
    }
    if (!cli_engine_check_args(&engine)) goto done;

    cli_spec s;
    if (!cli_open_spec(&s, path, &data, &status)) goto done;
    ast_spec *spec = s.spec;
    chk_model *model = s.model;
    diag_sink *diags = &s.diags;
    bool ok = cli_spec_periods(&s, period_text, CLI_PERIODS_SCORED);
    score_adjustments *adjustments = NULL;
    vals_file *values = NULL;
    if (ok && engine.uri) {
        ok = fetch_scored(&engine, values_path, spec, model, s.periods, s.period_count, &data, diags,
                          &fetched, &status);
        if (ok) values = fetched.values;
    } else if (ok && values_path && !(values = cli_read_values(values_path, model, &data, diags, &status))) {
        ok = false;
    }
    ok = ok && read_adjustments(adjustments_path, model, diags, &adjustments, &status);
    if (ok) {
        run *r = run_new(spec, model, s.periods, s.period_count, &data.options, diags);
        eval_session *session = run_session(r);
        score_require(session, model);
        if (run_execute(r) && (!values || vals_check_roster(values, session, diags))) {
            score_result *result = score_compute(session, model, diags);
            bool given = !values || vals_report_missing(values, diags);
            bool adjusted = !adjustments || score_adjust_apply(result, adjustments, diags);
            eval_source_stats values_source = fetched.values ? fetched.source
                                              : values       ? vals_source(values)
                                                             : (eval_source_stats){ 0 };
            score_render_options opts = {
                path, spec, diags, bom, summary, adjustments, values ? &values_source : NULL
            };
            size_t len;
            char *text = score_render(result, format, &opts, &len);
            bool exact =
                run_finish(r) && !result->total_overflow && !result->pool_failed && adjusted && given;
            status = cli_emit_run(diags, session, text, len, exact, output);
            free(text);
            score_free(result);
        } else {
            diag_print(diags, stderr, DIAG_FORMAT_TEXT);
            status = cli_data_failure_status(diags);
        }
        run_free(r);
    }
    score_adjust_free(adjustments);
    if (!fetched.values) vals_free(values);
    cli_close_spec(&s);
done:
    cli_engine_values_free(&fetched);
    cli_free_data_args(&data);
    cli_free_engine_args(&engine);
    return status;
}

/* The roster index of ID, or -1. */
static int find_staff(const eval_staff *roster, size_t count, const char *id)
{
    for (size_t i = 0; i < count; i++)
        if (roster[i].id && !strcmp(roster[i].id, id)) return (int)i;
    return -1;
}

/* `--staff ID` that is not on the roster: a usage error with the closest id. */
static void unknown_staff(const eval_staff *roster, size_t count, const char *id, const char *roster_path)
{
    const char **ids = xcalloc(count + 1, sizeof *ids);
    for (size_t i = 0; i < count; i++) ids[i] = roster[i].id;
    const char *near = diag_closest(id, ids, count);
    fprintf(stderr, "kpic: --staff: no staff member '%s' in the roster (%s)", id,
            roster_path ? roster_path : "staff");
    if (near) fprintf(stderr, "; did you mean '%s'?", near);
    fputc('\n', stderr);
    free(ids);
}

/* `--kpi NAME` that is not a kpi of the role: a usage error with the closest name. */
static bool check_kpi(const ast_decl *role, const char *kpi)
{
    const char **names = xcalloc((size_t)role->u.role.item_count + 1, sizeof *names);
    size_t n = 0;
    for (int i = 0; i < role->u.role.item_count; i++) {
        if (role->u.role.items[i].kind != ROLE_KPI) continue;
        if (!strcmp(role->u.role.items[i].indicator, kpi)) {
            free(names);
            return true;
        }
        names[n++] = role->u.role.items[i].indicator;
    }
    const char *near = diag_closest(kpi, names, n);
    fprintf(stderr, "kpic: --kpi: role '%s' has no kpi '%s'", role->name, kpi);
    if (near) fprintf(stderr, "; did you mean '%s'?", near);
    else {
        fputs(" (its kpis: ", stderr);
        for (size_t i = 0; i < n; i++) fprintf(stderr, "%s%s", i ? ", " : "", names[i]);
        fputc(')', stderr);
    }
    fputc('\n', stderr);
    free(names);
    return false;
}

/* A note that ROLE, scored in periods of its own grain, has no statement in P, with the
 * period to ask for. */
static void note_other_grain(diag_sink *diags, const ast_decl *role, period_t p)
{
    period_t ask;
    char label[PERIOD_LABEL_SIZE], other[PERIOD_LABEL_SIZE];
    period_format(p, label, sizeof label);
    kp_span at = role->u.role.has_grain ? role->u.role.grain_span : role->name_span;
    diagnostic *d = diag_report(diags, DIAG_NOTE, at, "role-period",
                                "role '%s' is scored per %s: it has no statement for %s", role->name,
                                ast_grain_name(role->u.role.grain), label);
    period_t last;
    if (role->u.role.grain < p.grain && period_of(role->u.role.grain, p.start, &ask) &&
        period_of(role->u.role.grain, p.end - 1, &last)) {
        char final[PERIOD_LABEL_SIZE];
        period_format(ask, other, sizeof other);
        period_format(last, final, sizeof final);
        diag_hint(diags, d, "ask for --period with one %s of %s, %s to %s, to explain role '%s'",
                  ast_grain_name(role->u.role.grain), label, other, final, role->name);
    } else if (period_of(role->u.role.grain, p.start, &ask)) {
        period_format(ask, other, sizeof other);
        diag_hint(diags, d, "ask for --period %s to explain role '%s'", other, role->name);
    }
}

int cli_explain(int argc, char **argv)
{
    const char *path = NULL, *period_text = NULL, *staff_id = NULL, *kpi = NULL, *adjustments_path = NULL;
    const char *values_path = NULL;
    score_adjustments *adjustments = NULL;
    vals_file *values = NULL;
    int *rows = NULL;        /* the person's roster rows scored in the period, one per role */
    ast_decl **roles = NULL; /* their roles */
    cli_seen seen = { .count = 0 };
    cli_data_args data;
    memset(&data, 0, sizeof data);
    cli_engine_args engine = { 0 };
    cli_engine_values fetched = { 0 };
    int status = EXIT_USAGE;
    for (int i = 0; i < argc; i++) {
        int taken = cli_take_data_option(argc, argv, &i, &data);
        if (taken < 0) goto done;
        if (taken || cli_take_strict(argv[i])) continue;
        taken = cli_take_engine_option(argc, argv, &i, &engine);
        if (taken < 0) goto done;
        if (taken) continue;
        const char *a = argv[i];
        if (!strcmp(a, "--period") || !strcmp(a, "--staff") || !strcmp(a, "--kpi") ||
            !strcmp(a, "--adjustments") || !strcmp(a, "--values")) {
            const char *v = cli_single_value(argc, argv, &i, &seen);
            if (!v) goto done;
            if (!strcmp(a, "--period")) period_text = v;
            else if (!strcmp(a, "--adjustments")) adjustments_path = v;
            else if (!strcmp(a, "--values")) values_path = v;
            else if (!strcmp(a, "--staff")) staff_id = v;
            else kpi = v;
        } else if (!cli_take_spec("explain", a, &path)) {
            goto done;
        }
    }
    if (!path) {
        cli_usage("explain needs a spec file", NULL);
        goto done;
    }
    if (!period_text) {
        cli_usage("explain needs --period (e.g. --period 2025-05)", NULL);
        goto done;
    }
    if (!staff_id) {
        cli_usage("explain needs --staff ID (e.g. --staff s01)", NULL);
        goto done;
    }
    if (!cli_engine_check_args(&engine)) goto done;

    cli_spec s;
    if (!cli_open_spec(&s, path, &data, &status)) goto done;
    ast_spec *spec = s.spec;
    chk_model *model = s.model;
    diag_sink *diags = &s.diags;
    if (!cli_spec_periods(&s, period_text, CLI_PERIOD_ONE)) goto free_spec;
    const period_t *periods = s.periods;
    if (engine.uri) {
        /* what every role reads: the person's role is known once the roster is read */
        if (!fetch_scored(&engine, values_path, spec, model, periods, 1, &data, diags, &fetched, &status))
            goto free_run;
        values = fetched.values;
    } else if (values_path && !(values = cli_read_values(values_path, model, &data, diags, &status))) {
        goto free_run;
    }
    if (!read_adjustments(adjustments_path, model, diags, &adjustments, &status)) goto free_run;

    /* First the roster alone (nothing else is required, so no other file is read):
     * a wrong --staff or --kpi is reported before the data is. */
    run *roster_run = run_new(spec, model, periods, 1, &data.options, diags);
    eval_session *roster_session = run_session(roster_run);
    if (!run_execute(roster_run)) {
        diag_print(diags, stderr, DIAG_FORMAT_TEXT);
        status = cli_data_failure_status(diags);
        run_free(roster_run);
        goto free_run;
    }
    size_t roster_count, source_count;
    if (values && !vals_check_roster(values, roster_session, diags)) {
        diag_print(diags, stderr, DIAG_FORMAT_TEXT);
        status = EXIT_ERRORS;
        run_free(roster_run);
        goto free_run;
    }
    const eval_staff *roster = eval_roster(roster_session, &roster_count);
    const eval_source_stats *sources = eval_sources(roster_session, &source_count);
    int staff = find_staff(roster, roster_count, staff_id);
    if (staff < 0) {
        unknown_staff(roster, roster_count, staff_id, sources[source_count - 1].path);
        run_free(roster_run);
        goto free_run;
    }
    /* A person who changed roles has a row per role: each row employed in the period
     * under a declared role is explained in turn (docs/cli.md, kpic explain). */
    rows = xcalloc(roster_count + 1, sizeof *rows);
    roles = xcalloc(roster_count + 1, sizeof *roles);
    size_t row_count = 0, other_grain = 0;
    int unscored_row = -1;
    for (int k = roster[staff].first_row; k >= 0; k = roster[k].next_row) {
        const eval_staff *who = &roster[k];
        ast_decl *role = who->role ? chk_find(model, who->role) : NULL;
        bool declared = role && role->kind == DECL_ROLE;
        bool employed = eval_staff_is_employed(who, periods[0]);
        if (declared && employed && role->u.role.grain != periods[0].grain) {
            /* a role scored in periods of another grain has no statement in this one */
            other_grain++;
            note_other_grain(diags, role, periods[0]);
            continue;
        }
        if (declared && employed) {
            rows[row_count] = k;
            roles[row_count++] = role;
        } else if (unscored_row < 0 ||
                   (employed && !eval_staff_is_employed(&roster[unscored_row], periods[0]))) {
            unscored_row = k;
        }
    }
    if (!row_count && other_grain) {
        /* every role this person holds in the period is scored in periods of another grain:
         * nothing to explain here, and the notes say which period to ask for */
        status = cli_emit(diags, "", 0, true, NULL);
        run_free(roster_run);
        goto free_run;
    }
    if (!row_count) {
        const eval_staff *who = &roster[unscored_row];
        ast_decl *role = who->role ? chk_find(model, who->role) : NULL;
        bool declared = role && role->kind == DECL_ROLE;
        score_reason reason = declared ? SCORE_NOT_EMPLOYED : SCORE_ROLE_NOT_DECLARED;
        if (adjustments && !score_adjust_unscored(roster_session, unscored_row, reason, adjustments, diags)) {
            diag_print(diags, stderr, DIAG_FORMAT_TEXT);
            status = EXIT_ERRORS;
            run_free(roster_run);
            goto free_run;
        }
        char *text = score_explain_unscored(roster_session, model, unscored_row, reason, NULL);
        status = cli_emit(diags, text, strlen(text), true, NULL);
        free(text);
        run_free(roster_run);
        goto free_run;
    }
    run_free(roster_run);
    for (size_t i = 0; i < row_count; i++)
        if (kpi && !check_kpi(roles[i], kpi)) goto free_run;

    /* Then the data, once per role: the explained period plus every period previous()
     * and last_year() reach, so that what they saw can be shown. */
    char *all = NULL;
    size_t all_len = 0;
    FILE *joined = open_memstream(&all, &all_len);
    if (!joined) abort();
    bool exact = true, failed = false;
    dec_t person_total = { 0 };
    bool total_known = true;
    run *last = NULL;
    for (size_t i = 0; i < row_count && !failed; i++) {
        ast_decl *role = roles[i];
        size_t trace_count;
        period_t *trace_periods =
            score_trace_periods(ir_program_of(spec, model), role, periods[0], &trace_count);
        run *r = run_new(spec, model, trace_periods, trace_count, &data.options, diags);
        eval_session *session = run_session(r);
        score_trace *trace = score_trace_require(session, spec, role);
        if (run_execute(r)) {
            score_statement st;
            score_statement_compute(session, role, 0, rows[i], &st);
            bool adjusted = adjustments ? score_adjust_statement(session, &st, adjustments, diags)
                                        : score_settle_one(session, &st, NULL, diags);
            if (!adjustments && (st.pool.pool || st.grade.grades)) st.bonus_computed = st.bonus;
            size_t len;
            char *text = score_explain(trace, session, diags, &st, kpi, &len);
            if (i) fputc('\n', joined);
            fwrite(text, 1, len, joined);
            free(text);
            bool given = !values || vals_report_missing(values, diags);
            exact = run_finish(r) && adjusted && given && exact;
            dec_t next;
            if (st.bonus.kind == VAL_NUM && dec_add(person_total, st.bonus.as.num, &next) == DEC_OK)
                person_total = next;
            else total_known = false;
            score_statement_free(&st);
        } else {
            failed = true;
        }
        score_trace_free(trace);
        free(trace_periods);
        if (last) run_free(last);
        last = r;
    }
    if (!failed && row_count > 1 && !kpi) {
        char label[PERIOD_LABEL_SIZE];
        period_format(periods[0], label, sizeof label);
        char money[64];
        eval_format_value(eval_num(person_total), UNIT_MONEY, money, sizeof money);
        fprintf(joined, "\n%s: %zu roles in %s, bonus paid %s\n", staff_id, row_count, label,
                total_known ? money : "n/a (a role's bonus has no value)");
    }
    fclose(joined);
    if (failed) {
        diag_print(diags, stderr, DIAG_FORMAT_TEXT);
        status = cli_data_failure_status(diags);
    } else {
        status = cli_emit_run(diags, run_session(last), all, all_len, exact, NULL);
    }
    free(all);
    run_free(last);
free_run:
    free(rows);
    free(roles);
    score_adjust_free(adjustments);
    if (!fetched.values) vals_free(values);
free_spec:
    cli_close_spec(&s);
done:
    cli_engine_values_free(&fetched);
    cli_free_data_args(&data);
    cli_free_engine_args(&engine);
    return status;
}
