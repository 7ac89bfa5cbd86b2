/* cli_diff.c — `kpic diff OLD NEW [--period P DATA] [--format text|md|json] [--exit-code]`. */
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
    run *run; /* with --period: this side's run over the data */
} side;

static void side_free(side *s)
{
    run_free(s->run);
    ast_free_spec(s->spec);
    diag_free(&s->diags);
}

/* Loads and checks the spec ARG names: a file, `-` (stdin) or REV:PATH (git). NULL after
 * printing why, with *status set. */
static ast_spec *load_side(side *s, const char *arg, int *status)
{
    if (!strcmp(arg, "-"))
        return cli_check_for_data(&s->diags, diff_load_stdin(&s->diags), &s->model, status);
    if (!diff_is_revision_path(arg)) return cli_load_for_data(&s->diags, arg, &s->model, status);
    char *why = NULL;
    ast_spec *spec = diff_load_revision(&s->diags, arg, cli_load_options(), &why);
    if (why) {
        fprintf(stderr, "kpic: diff: %s\n", why);
        free(why);
        *status = EXIT_USAGE;
        return NULL;
    }
    return cli_check_for_data(&s->diags, spec, &s->model, status);
}

/* A data file that cannot be opened gets a hint naming the option that points the spec
 * elsewhere: an old spec out of git or stdin often names data that is not beside it. */
static void hint_data_options(diag_sink *diags, const char *which, const char *arg)
{
    for (size_t i = 0; i < diags->diags.len; i++) {
        diagnostic *d = diags->diags.items[i];
        if (d->severity != DIAG_ERROR || !d->ext_path || strcmp(d->code, "io") != 0) continue;
        diag_hint(diags, d,
                  "%s (%s) reads relative data paths from its spec files' folders (in the working tree "
                  "for REV:PATH, the current folder for -); pass --data-dir DIR or --data NAME=PATH to "
                  "read them from elsewhere",
                  which, arg);
    }
}

/* The periods both sides are scored in: each side's (cli_parse_scored_periods, which
 * adds the periods of roles with their own grain), merged in the order score_periods gives
 * (by end, the finer grain first), so that a role's period that only one side has is
 * still computed on both and its statements compared. NULL after printing why. */
static period_t *scored_periods_of_both(const char *text, side *sides, size_t *count)
{
    size_t n0 = 0, n1 = 0;
    period_t *p0 = cli_parse_scored_periods(text, sides[0].model, &sides[0].diags, &n0);
    period_t *p1 = p0 ? cli_parse_scored_periods(text, sides[1].model, &sides[1].diags, &n1) : NULL;
    if (!p1) {
        free(p0);
        return NULL;
    }
    period_t *out = xcalloc(n0 + n1 + 1, sizeof *out);
    size_t i = 0, j = 0, n = 0;
    while (i < n0 || j < n1) {
        bool take0 =
            j == n1 ||
            (i < n0 && (p0[i].end < p1[j].end || (p0[i].end == p1[j].end && p0[i].grain <= p1[j].grain)));
        period_t next = take0 ? p0[i++] : p1[j++];
        if (!n || !period_same(out[n - 1], next)) out[n++] = next;
    }
    free(p0);
    free(p1);
    *count = n;
    return out;
}

int cli_diff(int argc, char **argv)
{
    const char *paths[2] = { NULL, NULL }, *period_text = NULL, *adjustments_path = NULL, *values_path = NULL;
    score_adjustments *adjustments = NULL;
    vals_file *values[2] = { NULL, NULL };
    size_t path_count = 0;
    cli_data_args data;
    memset(&data, 0, sizeof data);
    bool data_given = false, exit_code = false;
    diff_format format = DIFF_FORMAT_TEXT;
    cli_seen seen = { .count = 0 };
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
        } else if (!strcmp(a, "--format")) {
            const char *v = cli_single_value(argc, argv, &i, &seen);
            if (!v) goto done;
            if (!strcmp(v, "text")) format = DIFF_FORMAT_TEXT;
            else if (!strcmp(v, "md")) format = DIFF_FORMAT_MD;
            else if (!strcmp(v, "json")) format = DIFF_FORMAT_JSON;
            else {
                cli_usage("unknown diff format '%s' (text, md or json)", v);
                goto done;
            }
        } else if (!strcmp(a, "--adjustments")) {
            adjustments_path = cli_single_value(argc, argv, &i, &seen);
            if (!adjustments_path) goto done;
        } else if (!strcmp(a, "--values")) {
            values_path = cli_single_value(argc, argv, &i, &seen);
            if (!values_path) goto done;
        } else if (!strcmp(a, "--exit-code")) {
            exit_code = true;
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
    if (path_count < 2) {
        cli_usage("diff needs two specs, OLD and NEW", NULL);
        goto done;
    }
    if (!strcmp(paths[0], "-") && !strcmp(paths[1], "-")) {
        cli_usage("diff reads only one spec from stdin ('-')", NULL);
        goto done;
    }
    if (data_given && !period_text) {
        cli_usage("the data options of diff go with --period", NULL);
        goto done;
    }
    if (adjustments_path && !period_text) {
        cli_usage("--adjustments goes with --period", NULL);
        goto done;
    }
    if (values_path && !period_text) {
        cli_usage("--values goes with --period", NULL);
        goto done;
    }
    /* two specs would each write the file, the second over the first */
    if (data.options.rejects_path) {
        cli_usage("diff takes no --rejects: run kpic eval for the rejects", NULL);
        goto done;
    }

    side sides[2];
    memset(sides, 0, sizeof sides);
    bool loaded = true;
    for (int k = 0; k < 2; k++) {
        diag_init(&sides[k].diags);
        int st = EXIT_OK;
        sides[k].spec = load_side(&sides[k], paths[k], &st);
        if (!sides[k].spec) {
            if (status == EXIT_USAGE || st == EXIT_USAGE) status = st;
            loaded = false;
        }
    }
    if (!loaded) goto free_sides;

    size_t period_count = 0;
    period_t *periods = NULL;
    if (period_text) {
        bool valid =
            cli_validate_data_args(&data, sides[0].model) && cli_validate_data_args(&data, sides[1].model);
        if (valid && sides[0].model->grain != sides[1].model->grain) {
            fprintf(stderr,
                    "kpic: diff --period: OLD is by %s and NEW by %s; their results cannot be compared\n",
                    ast_grain_name(sides[0].model->grain), ast_grain_name(sides[1].model->grain));
            valid = false;
        }
        periods = valid ? scored_periods_of_both(period_text, sides, &period_count) : NULL;
        if (!periods) {
            status = EXIT_USAGE;
            goto free_sides;
        }
        if (adjustments_path) {
            /* one file for both sides: what was decided by hand stays, the rules change */
            bool io_error = false;
            adjustments =
                score_adjust_read(adjustments_path, sides[1].model->grain, &sides[1].diags, &io_error);
            if (!adjustments) {
                diag_print(&sides[1].diags, stderr, DIAG_FORMAT_TEXT);
                status = io_error ? EXIT_USAGE : EXIT_ERRORS;
                free(periods);
                goto free_sides;
            }
        }
        for (int k = 0; k < 2 && values_path; k++) {
            /* one file for both sides, read against each: the rules change, the values stay */
            int st = EXIT_OK;
            values[k] = cli_read_values(values_path, sides[k].model, &data, &sides[k].diags, &st);
            if (!values[k]) {
                status = st;
                free(periods);
                goto free_sides;
            }
        }
        for (int k = 0; k < 2; k++) {
            side *s = &sides[k];
            eval_options options = data.options;
            if (values[k]) vals_attach(values[k], &options);
            s->run = run_new(s->spec, s->model, periods, period_count, &options, &s->diags);
            eval_session *session = run_session(s->run);
            for (size_t i = 0; i < s->model->indicators.len; i++)
                eval_require_indicator(session, s->model->indicators.items[i]);
            score_require(session, s->model);
        }
        /* one pass over a file both sides read alike (issue 14) */
        bool executed[2];
        run_execute_both(sides[0].run, sides[1].run, executed);
        for (int k = 0; k < 2; k++) {
            side *s = &sides[k];
            if (!executed[k] ||
                (values[k] && !vals_check_roster(values[k], run_session(s->run), &s->diags))) {
                if (!data.options.data_dir && !values[k])
                    hint_data_options(&s->diags, k ? "NEW" : "OLD", paths[k]);
                diag_print(&s->diags, stderr, DIAG_FORMAT_TEXT);
                status = cli_data_failure_status(&s->diags);
                free(periods);
                goto free_sides;
            }
        }
    }

    diff_report *report = diff_new(paths[0], paths[1]);
    diff_set_adjustments(report, adjustments);
    diff_definitions(report, sides[0].spec, sides[0].model, sides[1].spec, sides[1].model);
    {
        /* what each side can pay: with --period, from its roster */
        ceil_report ceilings[2];
        for (int k = 0; k < 2; k++)
            cli_ceiling_analyze(&ceilings[k], sides[k].spec, sides[k].model, &sides[k].diags,
                                sides[k].run ? run_session(sides[k].run) : NULL);
        diff_ceilings(report, &ceilings[0], sides[0].model, &ceilings[1], sides[1].model);
        for (int k = 0; k < 2; k++) ceil_report_free(&ceilings[k]);
    }
    bool exact = true;
    if (period_text) {
        bool compared =
            diff_results(report, period_text, run_session(sides[0].run), sides[0].model, &sides[0].diags,
                         run_session(sides[1].run), sides[1].model, &sides[1].diags);
        /* both sides' diagnostics of the evaluation, whatever the other found */
        bool old_exact = run_finish(sides[0].run), new_exact = run_finish(sides[1].run);
        exact = compared && old_exact && new_exact;
        for (int k = 0; k < 2; k++)
            if (values[k] && !vals_report_missing(values[k], &sides[k].diags)) exact = false;
    }
    size_t len = 0;
    char *text = diff_render(report, format, &len);
    diag_drop_repeats(&sides[1].diags, &sides[0].diags);
    cli_print_diagnostics(&sides[0].diags, stderr, DIAG_FORMAT_TEXT);
    status = cli_emit(&sides[1].diags, text, len, exact, NULL);
    if (status == EXIT_OK && exit_code && diff_differs(report)) status = EXIT_ERRORS;
    free(text);
    diff_free(report);
    free(periods);
free_sides:
    for (int k = 0; k < 2; k++) {
        side_free(&sides[k]);
        vals_free(values[k]);
    }
    score_adjust_free(adjustments);
done:
    cli_free_data_args(&data);
    return status;
}
