/* cli_diff.c — `kpic diff OLD NEW [--period P DATA]`. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpic/diff.h"
#include "kpic/score.h"

/* One spec of the two: loaded, checked, and (with periods) evaluated and scored. */
typedef struct side {
    diag_sink diags;
    ast_spec *spec;
    chk_model *model;
    eval_session *session;
} side;

static void side_free(side *s)
{
    eval_free(s->session);
    ast_free_spec(s->spec);
    diag_free(&s->diags);
}

int cli_diff(int argc, char **argv)
{
    const char *paths[2] = {NULL, NULL}, *period_text = NULL;
    size_t path_count = 0;
    cli_data_args data;
    memset(&data, 0, sizeof data);
    bool data_given = false;
    cli_seen seen = {.count = 0};
    int status = EXIT_USAGE;
    for (int i = 0; i < argc; i++) {
        if (cli_take_strict(argv[i])) continue;
        int taken = cli_take_data_option(argc, argv, &i, &data);
        if (taken < 0) goto done;
        if (taken) {
            data_given = true;
            continue;
        }
        const char *a = argv[i];
        if (!strcmp(a, "--period")) {
            period_text = cli_single_value(argc, argv, &i, &seen);
            if (!period_text) goto done;
        } else if (a[0] == '-' && a[1]) {
            cli_usage("unknown option '%s' for diff", a);
            goto done;
        } else if (path_count == 2) {
            cli_usage("diff takes two specs, OLD and NEW; got a third: '%s'", a);
            goto done;
        } else {
            paths[path_count++] = a;
        }
    }
    if (path_count < 2) { cli_usage("diff needs two specs, OLD and NEW", NULL); goto done; }
    if (data_given && !period_text) { cli_usage("the data options of diff go with --period", NULL); goto done; }
    /* two specs would each write the file, the second over the first */
    if (data.options.rejects_path) { cli_usage("diff takes no --rejects: run kpic eval for the rejects", NULL); goto done; }

    side sides[2];
    memset(sides, 0, sizeof sides);
    bool loaded = true;
    for (int k = 0; k < 2; k++) {
        diag_init(&sides[k].diags);
        int st = EXIT_OK;
        sides[k].spec = cli_load_for_data(&sides[k].diags, paths[k], &sides[k].model, &st);
        if (!sides[k].spec) {
            if (status == EXIT_USAGE || st == EXIT_USAGE) status = st;
            loaded = false;
        }
    }
    if (!loaded) goto free_sides;

    size_t period_count = 0;
    period_t *periods = NULL;
    if (period_text) {
        bool valid = cli_validate_data_args(&data, sides[0].model) && cli_validate_data_args(&data, sides[1].model);
        if (valid && sides[0].model->grain != sides[1].model->grain) {
            fprintf(stderr, "kpic: diff --period: OLD is by %s and NEW by %s; their results cannot be compared\n",
                    ast_grain_name(sides[0].model->grain), ast_grain_name(sides[1].model->grain));
            valid = false;
        }
        periods = valid ? cli_parse_periods(period_text, sides[1].model->grain, &period_count) : NULL;
        if (!periods) {
            status = EXIT_USAGE;
            goto free_sides;
        }
        for (int k = 0; k < 2; k++) {
            side *s = &sides[k];
            s->session = eval_new(s->spec, s->model, periods, period_count, &data.options, &s->diags);
            for (size_t i = 0; i < s->model->indicators.len; i++)
                eval_require_indicator(s->session, s->model->indicators.items[i]);
            score_require(s->session, s->model);
            if (!eval_execute(s->session)) {
                diag_print(&s->diags, stderr, DIAG_FORMAT_TEXT);
                status = cli_data_failure_status(&s->diags);
                free(periods);
                goto free_sides;
            }
        }
    }

    char *text = NULL;
    size_t len = 0;
    FILE *out = xopen_memstream(&text, &len);
    fprintf(out, "definitions (%s → %s):\n", paths[0], paths[1]);
    if (diff_definitions(out, sides[0].spec, sides[0].model, sides[1].spec, sides[1].model) == 0)
        fputs("  no differences\n", out);
    bool exact = true;
    if (period_text) {
        fprintf(out, "\nresults for %s:\n", period_text);
        if (diff_results(out, sides[0].session, sides[0].model, &sides[0].diags, sides[1].session,
                         sides[1].model, &sides[1].diags) == 0)
            fputs("  no differences\n", out);
        exact = eval_overflow_check(sides[0].session) && eval_overflow_check(sides[1].session);
    }
    xclose_memstream(out);
    cli_print_diagnostics(&sides[0].diags, stderr, DIAG_FORMAT_TEXT);
    status = cli_emit(&sides[1].diags, text, len, exact, NULL);
    free(text);
    free(periods);
free_sides:
    for (int k = 0; k < 2; k++) side_free(&sides[k]);
done:
    cli_free_data_args(&data);
    return status;
}
