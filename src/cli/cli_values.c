/* cli_values.c — `--values FILE` of score, explain and diff: indicator values computed
 * elsewhere (by the engine that ran `kpic sql`'s query) instead of the sources. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

bool cli_values_read_no_source(const char *option, const char *why, const cli_data_args *data, int *status)
{
    for (size_t i = 0; i < data->override_count; i++) {
        if (!strcmp(data->overrides[i].source, "staff")) continue;
        char message[512];
        snprintf(message, sizeof message,
                 "%s %s, so no source is read: drop --data %.200s=…; "
                 "--data staff=FILE gives the roster",
                 option, why, data->overrides[i].source);
        *status = cli_usage("%s", message);
        return false;
    }
    if (data->options.skip_bad_rows) {
        char message[256];
        snprintf(
            message, sizeof message,
            "%s reads no source, so it does not go with --skip-bad-rows (the roster's rows are never skipped)",
            option);
        *status = cli_usage("%s", message);
        return false;
    }
    return true;
}

vals_file *cli_read_values(const char *path, const chk_model *model, cli_data_args *data, diag_sink *diags,
                           int *status)
{
    if (!cli_values_read_no_source("--values", "gives the indicators' values", data, status)) return NULL;
    bool io_error = false;
    vals_file *v = vals_read(path, model, diags, &io_error);
    if (!v) {
        diag_print(diags, stderr, DIAG_FORMAT_TEXT);
        *status = io_error ? EXIT_USAGE : EXIT_ERRORS;
        return NULL;
    }
    vals_attach(v, &data->options);
    return v;
}
