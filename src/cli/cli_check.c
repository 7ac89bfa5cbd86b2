/* cli_check.c — `kpic check SPEC [--format text|json|sarif]`. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

int cli_check(int argc, char **argv)
{
    const char *path = NULL;
    diag_format format = DIAG_FORMAT_TEXT;
    cli_seen seen = {.count = 0};
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--format")) {
            const char *v = cli_single_value(argc, argv, &i, &seen);
            if (!v) return EXIT_USAGE;
            if (!strcmp(v, "text")) format = DIAG_FORMAT_TEXT;
            else if (!strcmp(v, "json")) format = DIAG_FORMAT_JSON;
            else if (!strcmp(v, "sarif")) format = DIAG_FORMAT_SARIF;
            else return cli_usage("unknown check format '%s' (text, json or sarif)", v);
        } else if (!strcmp(argv[i], "--allow-read")) {
            const char *v = cli_option_value(argc, argv, &i);
            if (!v) return EXIT_USAGE;
            cli_allow_read(v);
        } else if (cli_take_strict(argv[i])) {
            continue;
        } else if (!cli_take_spec("check", argv[i], &path)) {
            return EXIT_USAGE;
        }
    }
    if (!path) return cli_usage("check needs a spec file", NULL);

    diag_sink diags;
    diag_init(&diags);
    chk_model *model;
    ast_spec *spec = cli_load_and_check(&diags, path, &model);
    int status = !spec ? EXIT_USAGE : diags.errors ? EXIT_ERRORS : EXIT_OK;
    /* text is for people (stderr); JSON and SARIF are results for tools (stdout) */
    cli_print_diagnostics(&diags, format == DIAG_FORMAT_TEXT ? stderr : stdout, format);
    if (status == EXIT_OK && cli_strict_refuses(false)) status = EXIT_ERRORS;
    ast_free_spec(spec);
    diag_free(&diags);
    return status;
}

