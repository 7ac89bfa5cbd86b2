/* cli_test.c — `kpic test SPEC... [--filter TEXT] [--format text|json|junit]`. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpic/spectest.h"

/* The diagnostics of a spec as text, for a report that must say why no test ran. */
static char *diagnostics_text(diag_sink *diags)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&buf, &size);
    if (!out) {
        fputs("kpic: out of memory\n", stderr);
        abort();
    }
    diag_print(diags, out, DIAG_FORMAT_TEXT);
    fclose(out);
    return buf;
}

int cli_test(int argc, char **argv)
{
    const char *filter = NULL;
    st_format format = ST_FORMAT_TEXT;
    const char **paths = xcalloc((size_t)argc + 1, sizeof *paths);
    size_t path_count = 0;
    int status = EXIT_USAGE;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--filter") || !strcmp(a, "--format") || !strcmp(a, "--allow-read")) {
            const char *v = cli_option_value(argc, argv, &i);
            if (!v) goto done;
            if (!strcmp(a, "--filter")) filter = v;
            else if (!strcmp(a, "--allow-read")) cli_allow_read(v);
            else if (!strcmp(v, "text")) format = ST_FORMAT_TEXT;
            else if (!strcmp(v, "json")) format = ST_FORMAT_JSON;
            else if (!strcmp(v, "junit")) format = ST_FORMAT_JUNIT;
            else {
                cli_usage("unknown test format '%s' (text, json or junit)", v);
                goto done;
            }
        } else if (a[0] == '-' && a[1]) {
            cli_usage("unknown option '%s' for test", a);
            goto done;
        } else {
            paths[path_count++] = a;
        }
    }
    if (path_count == 0) {
        cli_usage("test needs a spec file", NULL);
        goto done;
    }

    st_result **results = xcalloc(path_count, sizeof *results);
    bool unreadable = false;
    size_t ran = 0;
    for (size_t i = 0; i < path_count; i++) {
        diag_sink diags;
        diag_init(&diags);
        chk_model *model = NULL;
        ast_spec *spec = cli_load_and_check(&diags, paths[i], &model);
        /* the spec's own diagnostics (warnings too) are for people: stderr */
        diag_print(&diags, stderr, DIAG_FORMAT_TEXT);
        if (!spec || diags.errors || !model) {
            unreadable |= !spec;
            results[i] = st_spec_error(paths[i], diagnostics_text(&diags));
        } else {
            results[i] = st_run(spec, model, paths[i], filter);
            ran += results[i]->test_count;
        }
        ast_free_spec(spec);
        diag_free(&diags);
    }
    size_t passed, failed, errors;
    st_count(results, path_count, &passed, &failed, &errors);
    if (filter && ran == 0 && errors == 0) {
        fprintf(stderr, "kpic: no test name contains '%s'\n", filter);
        status = EXIT_USAGE;
    } else {
        size_t len;
        char *text = st_render(results, path_count, format, &len);
        bool written = cli_write_stdout(text, len);
        free(text);
        status = !written || unreadable ? EXIT_USAGE : failed || errors ? EXIT_ERRORS : EXIT_OK;
    }
    for (size_t i = 0; i < path_count; i++) st_free(results[i]);
    free(results);
done:
    free(paths);
    return status;
}
