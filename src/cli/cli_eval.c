/* cli_eval.c — `kpic eval SPEC --period P [--indicator NAME]... [DATA] [--format …]
 * [--engine URI [--table SOURCE=TABLE]...]`. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_eval(int argc, char **argv)
{
    const char *path = NULL, *period_text = NULL;
    eval_format format = EVAL_FORMAT_TABLE;
    cli_seen seen = { .count = 0 };
    cli_data_args data;
    memset(&data, 0, sizeof data);
    cli_engine_args engine = { 0 };
    cli_engine_values given = { 0 };
    const char **wanted = xcalloc((size_t)argc + 1, sizeof *wanted);
    size_t wanted_count = 0;
    int status = EXIT_USAGE;
    for (int i = 0; i < argc; i++) {
        int taken = cli_take_data_option(argc, argv, &i, &data);
        if (taken < 0) goto done;
        if (taken || cli_take_strict(argv[i])) continue;
        taken = cli_take_engine_option(argc, argv, &i, &engine);
        if (taken < 0) goto done;
        if (taken) continue;
        const char *a = argv[i];
        if (!strcmp(a, "--period") || !strcmp(a, "--indicator") || !strcmp(a, "--format")) {
            const char *v = !strcmp(a, "--indicator") ? cli_option_value(argc, argv, &i)
                                                      : cli_single_value(argc, argv, &i, &seen);
            if (!v) goto done;
            if (!strcmp(a, "--period")) period_text = v;
            else if (!strcmp(a, "--indicator")) wanted[wanted_count++] = v;
            else if (!strcmp(v, "table")) format = EVAL_FORMAT_TABLE;
            else if (!strcmp(v, "json")) format = EVAL_FORMAT_JSON;
            else if (!strcmp(v, "csv")) format = EVAL_FORMAT_CSV;
            else if (!strcmp(v, "values")) format = EVAL_FORMAT_VALUES;
            else {
                cli_usage("unknown eval format '%s' (table, json, csv or values)", v);
                goto done;
            }
        } else if (!cli_take_spec("eval", a, &path)) {
            goto done;
        }
    }
    if (!path) {
        cli_usage("eval needs a spec file", NULL);
        goto done;
    }
    if (!period_text) {
        cli_usage("eval needs --period (e.g. --period 2025-05)", NULL);
        goto done;
    }
    if (!cli_engine_check_args(&engine)) goto done;

    cli_spec s;
    if (!cli_open_spec(&s, path, &data, &status)) goto done;
    ast_spec *spec = s.spec;
    chk_model *model = s.model;
    diag_sink *diags = &s.diags;
    ast_decl **indicators = xcalloc(model->indicators.len + wanted_count + 1, sizeof *indicators);
    size_t count = 0;
    bool ok = cli_resolve_indicators(model, wanted, wanted_count, indicators, &count);
    if (ok && wanted_count == 0)
        for (size_t k = 0; k < model->indicators.len; k++) indicators[count++] = model->indicators.items[k];
    ok = ok && cli_spec_periods(&s, period_text, CLI_PERIODS);
    if (ok && engine.uri &&
        !cli_engine_fetch(&engine, NULL, spec, model, indicators, count, s.periods, s.period_count, &data,
                          diags, &given, &status))
        ok = false;
    if (ok) {
        run *r = run_new(spec, model, s.periods, s.period_count, &data.options, diags);
        eval_session *session = run_session(r);
        for (size_t k = 0; k < count; k++) eval_require_indicator(session, indicators[k]);
        if (run_execute(r) && (!given.values || vals_check_roster(given.values, session, diags))) {
            size_t len;
            char *out = eval_render_given(session, indicators, count, format,
                                          given.values ? &given.source : NULL, &len);
            bool complete = !given.values || vals_report_missing(given.values, diags);
            bool exact = run_finish(r) && complete;
            status = cli_emit_run(diags, session, out, len, exact, NULL);
            free(out);
        } else {
            diag_print(diags, stderr, DIAG_FORMAT_TEXT);
            status = cli_data_failure_status(diags);
        }
        run_free(r);
    }
    free(indicators);
    cli_close_spec(&s);
done:
    cli_engine_values_free(&given);
    free(wanted);
    cli_free_data_args(&data);
    cli_free_engine_args(&engine);
    return status;
}
