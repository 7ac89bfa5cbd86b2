/* cli_doc.c — `kpic doc SPEC [--format md|html] [-o FILE]`. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "kpic/doc.h"

int cli_doc(int argc, char **argv)
{
    const char *path = NULL, *output = NULL;
    doc_format format = DOC_FORMAT_MD;
    cli_seen seen = { .count = 0 };
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--format") || !strcmp(a, "-o") || !strcmp(a, "--output")) {
            const char *v = cli_single_value(argc, argv, &i, &seen);
            if (!v) return EXIT_USAGE;
            if (strcmp(a, "--format") != 0) output = v;
            else if (!strcmp(v, "md")) format = DOC_FORMAT_MD;
            else if (!strcmp(v, "html")) format = DOC_FORMAT_HTML;
            else return cli_usage("unknown doc format '%s' (md or html)", v);
        } else if (!strcmp(a, "--allow-read")) {
            const char *v = cli_option_value(argc, argv, &i);
            if (!v) return EXIT_USAGE;
            cli_allow_read(v);
        } else if (cli_take_strict(a)) {
            continue;
        } else if (!cli_take_spec("doc", a, &path)) {
            return EXIT_USAGE;
        }
    }
    if (!path) return cli_usage("doc needs a spec file", NULL);

    diag_sink diags;
    diag_init(&diags);
    chk_model *model;
    int status;
    ast_spec *spec = cli_load_for_data(&diags, path, &model, &status);
    if (spec) {
        size_t len;
        char *text = doc_render(spec, model, path, format, &len);
        status = cli_emit(&diags, text, len, true, output); /* warnings, then the document */
        free(text);
        ast_free_spec(spec);
    }
    diag_free(&diags);
    return status;
}
