/* cli_fmt.c — `kpic fmt SPEC [--check | --write]`. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpic/fmt.h"
#include "kpic/output.h"
#include "kpic/textdiff.h"

int cli_fmt(int argc, char **argv)
{
    const char *path = NULL;
    enum { PRINT, CHECK, WRITE } mode = PRINT;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--check")) mode = CHECK;
        else if (!strcmp(argv[i], "--write")) mode = WRITE;
        else if (!cli_take_spec("fmt", argv[i], &path)) return EXIT_USAGE;
    }
    if (!path) return cli_usage("fmt needs a spec file", NULL);

    diag_sink diags;
    diag_init(&diags);
    const char *why = NULL;
    uint32_t file = diag_load_file(&diags, path, false, &why);
    if (file == DIAG_NO_FILE) {
        fprintf(stderr, "kpic: cannot read '%s': %s\n", path, why);
        diag_free(&diags);
        return EXIT_USAGE;
    }
    arena mem;
    arena_init(&mem);
    ast_file *parsed = ast_parse_file(&mem, &diags, file);
    int status = EXIT_OK;
    if (diags.errors) {
        /* a file that does not parse cannot be laid out without losing text */
        diag_print(&diags, stderr, DIAG_FORMAT_TEXT);
        status = EXIT_ERRORS;
    } else {
        size_t len;
        char *formatted = fmt_format(parsed, &diags, &len);
        const diag_file *f = diag_get_file(&diags, file);
        bool same = len == f->len && memcmp(formatted, f->text, len) == 0;
        if (mode == PRINT) {
            if (!cli_write_stdout(formatted, len)) status = EXIT_USAGE;
        } else if (mode == CHECK) {
            if (!same) {
                {
                    char *original = arena_printf(&mem, "%s\toriginal", path);
                    char *canonical = arena_printf(&mem, "%s\tformatted", path);
                    tdiff_print_unified(stderr, original, canonical, f->text, f->len, formatted, len);
                }
                fprintf(stderr, "kpic: %s is not formatted; run `kpic fmt --write %s`\n", path, path);
                status = EXIT_ERRORS;
            }
        } else if (!same) {
            if (output_write_file(path, formatted, len, &why) != 0) {
                fprintf(stderr, "kpic: cannot write '%s': %s\n", path, why);
                status = EXIT_USAGE;
            }
        }
        free(formatted);
    }
    arena_free(&mem);
    diag_free(&diags);
    return status;
}
