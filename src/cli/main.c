/* main.c — the kpic command line: dispatches to one cli_NAME.c per subcommand.
 *
 * Exit status (docs/cli.md): 0 success (warnings allowed), 1 the spec or the data has
 * errors, 2 usage or I/O error. Results go to stdout, diagnostics to stderr.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int run_command(int argc, char **argv)
{
    if (argc < 2) return cli_usage(NULL, NULL);
    const char *cmd = argv[1];
    if (!strcmp(cmd, "check")) return cli_check(argc - 2, argv + 2);
    if (!strcmp(cmd, "fmt")) return cli_fmt(argc - 2, argv + 2);
    if (!strcmp(cmd, "eval")) return cli_eval(argc - 2, argv + 2);
    if (!strcmp(cmd, "score")) return cli_score(argc - 2, argv + 2);
    if (!strcmp(cmd, "explain")) return cli_explain(argc - 2, argv + 2);
    if (!strcmp(cmd, "doc")) return cli_doc(argc - 2, argv + 2);
    if (!strcmp(cmd, "diff")) return cli_diff(argc - 2, argv + 2);
    if (!strcmp(cmd, "test")) return cli_test(argc - 2, argv + 2);
    if (!strcmp(cmd, "cache")) return cli_cache(argc - 2, argv + 2);
    if (!strcmp(cmd, "sql")) return cli_sql(argc - 2, argv + 2);
    bool info =
        !strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help") || !strcmp(cmd, "--version");
    if (info && argc > 2) return cli_usage("%s takes no arguments", cmd);
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(cli_usage_text, stdout);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "--version")) {
        puts("kpic 0.1.0");
        return EXIT_OK;
    }
    return cli_usage("unknown command '%s'", cmd);
}

int main(int argc, char **argv)
{
    return cli_finish(run_command(argc, argv));
}
