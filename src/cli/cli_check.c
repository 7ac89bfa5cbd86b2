/* cli_check.c — `kpic check SPEC [--format text|json|sarif] [--ceiling [--roster] [DATA]]`. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads the roster alone (no period, no indicator) for the ceiling's figures. NULL after
 * its diagnostics went to DIAGS. */
static run *read_roster(ast_spec *spec, chk_model *model, cli_data_args *data, diag_sink *diags)
{
    period_t none[1];
    memset(none, 0, sizeof none); /* no period is read; eval_new still copies the array */
    run *r = run_new(spec, model, none, 0, &data->options, diags);
    if (run_execute(r)) return r;
    run_free(r);
    return NULL;
}

int cli_check(int argc, char **argv)
{
    const char *path = NULL;
    diag_format format = DIAG_FORMAT_TEXT;
    cli_seen seen = { .count = 0 };
    cli_data_args data = { 0 };
    bool ceiling = false, roster = false, data_given = false;
    int status = EXIT_USAGE;
    for (int i = 0; i < argc; i++) {
        int taken;
        if (!strcmp(argv[i], "--format")) {
            const char *v = cli_single_value(argc, argv, &i, &seen);
            if (!v) goto done;
            if (!strcmp(v, "text")) format = DIAG_FORMAT_TEXT;
            else if (!strcmp(v, "json")) format = DIAG_FORMAT_JSON;
            else if (!strcmp(v, "sarif")) format = DIAG_FORMAT_SARIF;
            else {
                cli_usage("unknown check format '%s' (text, json or sarif)", v);
                goto done;
            }
        } else if (!strcmp(argv[i], "--ceiling")) {
            ceiling = true;
        } else if (!strcmp(argv[i], "--roster")) {
            roster = true;
        } else if (!strcmp(argv[i], "--allow-read")) {
            const char *v = cli_option_value(argc, argv, &i);
            if (!v) goto done;
            cli_allow_read(v);
        } else if ((taken = cli_take_data_option(argc, argv, &i, &data)) != 0) {
            if (taken < 0) goto done;
            data_given = true;
        } else if (cli_take_strict(argv[i])) {
            continue;
        } else if (!cli_take_spec("check", argv[i], &path)) {
            goto done;
        }
    }
    if (!path) {
        cli_usage("check needs a spec file", NULL);
        goto done;
    }
    if ((roster || data_given) && !ceiling) {
        cli_usage("--roster and DATA options go with --ceiling", NULL);
        goto done;
    }
    if (ceiling && format == DIAG_FORMAT_SARIF) {
        cli_usage("--ceiling goes with --format text or json", NULL);
        goto done;
    }
    roster |= data_given;

    diag_sink diags;
    diag_init(&diags);
    chk_model *model;
    ast_spec *spec = cli_load_and_check(&diags, path, &model);
    status = !spec ? EXIT_USAGE : diags.errors ? EXIT_ERRORS : EXIT_OK;
    run *members = NULL;
    ceil_report report;
    bool analyzed = false;
    if (ceiling && status == EXIT_OK) {
        if (roster && model->roster) {
            if (!cli_validate_data_args(&data, model)) {
                status = EXIT_USAGE;
            } else if (!(members = read_roster(spec, model, &data, &diags))) {
                diag_print(&diags, stderr, DIAG_FORMAT_TEXT);
                status = cli_data_failure_status(&diags);
            }
        }
        if (status == EXIT_OK) {
            cli_ceiling_analyze(&report, spec, model, &diags, members ? run_session(members) : NULL);
            analyzed = true;
        }
    }
    if (status == EXIT_USAGE || (ceiling && roster && status != EXIT_OK && spec && !diags.errors)) {
        /* a usage error or a roster that could not be read: printed already */
    } else if (analyzed && format == DIAG_FORMAT_JSON) {
        /* the diagnostics and the ceiling in one object: tools read one document */
        fputs("{\"diagnostics\": ", stdout);
        cli_print_diagnostics(&diags, stdout, DIAG_FORMAT_JSON);
        fputs(",\n\"ceiling\": ", stdout);
        ceil_render_json(stdout, &report, model, members ? cli_roster_path(run_session(members)) : NULL);
        fputs("}\n", stdout);
    } else {
        /* text is for people (stderr); JSON and SARIF are results for tools (stdout) */
        cli_print_diagnostics(&diags, format == DIAG_FORMAT_TEXT ? stderr : stdout, format);
        if (analyzed) {
            size_t len;
            const char *note = !roster          ? "--roster reads the roster for figures"
                               : !model->roster ? "the spec declares no roster"
                                                : NULL;
            char *text = ceil_render_text(&report, model,
                                          members ? cli_roster_path(run_session(members)) : NULL, note, &len);
            if (!cli_write_stdout(text, len)) status = EXIT_USAGE;
            free(text);
        }
    }
    if (status == EXIT_OK && cli_strict_refuses(false)) status = EXIT_ERRORS;
    if (analyzed) ceil_report_free(&report);
    run_free(members);
    ast_free_spec(spec);
    diag_free(&diags);
done:
    cli_free_data_args(&data);
    return status;
}
