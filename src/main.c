/* main.c — the kpic command line: parses arguments and calls the library.
 *
 * Exit status (DESIGN §3): 0 success (warnings allowed), 1 the spec or the data has
 * errors, 2 usage or I/O error. Results go to stdout, diagnostics to stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpic/ast.h"
#include "kpic/check.h"
#include "kpic/diag.h"
#include "kpic/fmt.h"
#include "kpic/output.h"

enum { EXIT_OK = 0, EXIT_ERRORS = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
    "usage: kpic check SPEC [--format text|json|sarif]\n"
    "       kpic fmt SPEC [--check | --write]\n"
    "\n"
    "  check   parse and check a spec; report every error with its location\n"
    "  fmt     print the spec in the canonical layout; --check exits 1 and shows a diff\n"
    "          when the file is not formatted, --write rewrites it in place\n"
    "\n"
    "exit status: 0 ok (warnings allowed), 1 errors in the spec, 2 usage or I/O error\n";

static int usage(const char *fmt, const char *arg)
{
    if (fmt) {
        fputs("kpic: ", stderr);
        fprintf(stderr, fmt, arg);
        fputc('\n', stderr);
    }
    fputs(usage_text, stderr);
    return EXIT_USAGE;
}

/* Loads and checks a spec. Returns NULL (after printing why) when the main file cannot
 * be read; otherwise the spec, with every diagnostic in diags. */
static ast_spec *load_and_check(diag_sink *diags, const char *path, chk_model **model)
{
    ast_spec *spec = ast_load_spec(diags, path);
    if (!spec) return NULL;
    /* Semantic checks on a tree with holes would report names that only look undefined
     * because their declaration failed to parse: fix the syntax first. */
    bool syntax_errors = false;
    for (size_t i = 0; i < spec->files.len; i++)
        syntax_errors |= ((ast_file *)spec->files.items[i])->syntax_errors;
    *model = NULL;
    if (!syntax_errors && diags->errors == 0) *model = chk_check(spec);
    return spec;
}

static int cmd_check(int argc, char **argv)
{
    const char *path = NULL;
    diag_format format = DIAG_FORMAT_TEXT;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--format")) {
            if (++i == argc) return usage("--format needs a value", NULL);
            if (!strcmp(argv[i], "text")) format = DIAG_FORMAT_TEXT;
            else if (!strcmp(argv[i], "json")) format = DIAG_FORMAT_JSON;
            else if (!strcmp(argv[i], "sarif")) format = DIAG_FORMAT_SARIF;
            else return usage("unknown check format '%s' (text, json or sarif)", argv[i]);
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return usage("unknown option '%s' for check", argv[i]);
        } else if (!path) {
            path = argv[i];
        } else {
            return usage("check takes one spec, got a second: '%s'", argv[i]);
        }
    }
    if (!path) return usage("check needs a spec file", NULL);

    diag_sink diags;
    diag_init(&diags);
    chk_model *model;
    ast_spec *spec = load_and_check(&diags, path, &model);
    int status = !spec ? EXIT_USAGE : diags.errors ? EXIT_ERRORS : EXIT_OK;
    /* text is for people (stderr); JSON and SARIF are results for tools (stdout) */
    if (format == DIAG_FORMAT_TEXT) diag_print(&diags, stderr, format);
    else diag_print(&diags, stdout, format);
    ast_free_spec(spec);
    diag_free(&diags);
    return status;
}

static int cmd_fmt(int argc, char **argv)
{
    const char *path = NULL;
    enum { PRINT, CHECK, WRITE } mode = PRINT;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--check")) mode = CHECK;
        else if (!strcmp(argv[i], "--write")) mode = WRITE;
        else if (argv[i][0] == '-' && argv[i][1]) return usage("unknown option '%s' for fmt", argv[i]);
        else if (!path) path = argv[i];
        else return usage("fmt takes one spec, got a second: '%s'", argv[i]);
    }
    if (!path) return usage("fmt needs a spec file", NULL);

    diag_sink diags;
    diag_init(&diags);
    const char *why = NULL;
    uint32_t file = diag_load_file(&diags, path, &why);
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
            fwrite(formatted, 1, len, stdout);
        } else if (mode == CHECK) {
            if (!same) {
                fmt_print_diff(stderr, path, f->text, f->len, formatted, len);
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

int main(int argc, char **argv)
{
    if (argc < 2) return usage(NULL, NULL);
    const char *cmd = argv[1];
    if (!strcmp(cmd, "check")) return cmd_check(argc - 2, argv + 2);
    if (!strcmp(cmd, "fmt")) return cmd_fmt(argc - 2, argv + 2);
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(usage_text, stdout);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "--version")) {
        puts("kpic 0.1.0");
        return EXIT_OK;
    }
    return usage("unknown command '%s'", cmd);
}
