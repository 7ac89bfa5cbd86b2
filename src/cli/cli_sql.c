/* cli_sql.c — `kpic sql SPEC --period P|RANGE --dialect D [--indicator NAME]...
 * [--table SOURCE=qualified.name]... [-o FILE] [--allow-read DIR]... [--strict]`. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpic/ir.h"
#include "kpic/sql.h"

int cli_sql(int argc, char **argv)
{
    const char *path = NULL, *period_text = NULL, *dialect_text = NULL, *output = NULL;
    cli_seen seen = { .count = 0 };
    const char **wanted = xcalloc((size_t)argc + 1, sizeof *wanted);
    sql_table *tables = xcalloc((size_t)argc + 1, sizeof *tables);
    size_t wanted_count = 0, table_count = 0;
    int status = EXIT_USAGE;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (cli_take_strict(a)) continue;
        if (!strcmp(a, "--indicator") || !strcmp(a, "--table") || !strcmp(a, "--allow-read")) {
            const char *v = cli_option_value(argc, argv, &i);
            if (!v) goto done;
            if (!strcmp(a, "--indicator")) {
                wanted[wanted_count++] = v;
            } else if (!strcmp(a, "--allow-read")) {
                cli_allow_read(v);
            } else {
                const char *eq = strchr(v, '=');
                if (!eq || eq == v || !eq[1]) {
                    cli_usage("--table takes SOURCE=TABLE (e.g. orders=sales.orders), not '%s'", v);
                    goto done;
                }
                char *source = xstrdup(v);
                source[eq - v] = '\0';
                for (size_t k = 0; k < table_count; k++)
                    if (!strcmp(tables[k].source, source)) {
                        free(source);
                        cli_usage("--table names source '%s' twice; give it once", tables[k].source);
                        goto done;
                    }
                tables[table_count].source = source;
                tables[table_count++].table = eq + 1;
            }
        } else if (!strcmp(a, "--period") || !strcmp(a, "--dialect") || !strcmp(a, "-o") ||
                   !strcmp(a, "--output")) {
            const char *v = cli_single_value(argc, argv, &i, &seen);
            if (!v) goto done;
            if (!strcmp(a, "--period")) period_text = v;
            else if (!strcmp(a, "--dialect")) dialect_text = v;
            else output = v;
        } else if (!cli_take_spec("sql", a, &path)) {
            goto done;
        }
    }
    if (!path) {
        cli_usage("sql needs a spec file", NULL);
        goto done;
    }
    if (!period_text) {
        cli_usage("sql needs --period (e.g. --period 2025-05)", NULL);
        goto done;
    }
    sqld_dialect dialect;
    if (!dialect_text) {
        cli_usage("sql needs --dialect (%s)", sqld_names());
        goto done;
    }
    if (!sqld_parse(dialect_text, &dialect)) {
        char message[256];
        snprintf(message, sizeof message, "unknown dialect '%.100s' (%s)", dialect_text, sqld_names());
        cli_usage("%s", message);
        goto done;
    }

    cli_spec s;
    if (!cli_open_spec(&s, path, NULL, &status)) goto done;
    chk_model *model = s.model;
    ast_decl **indicators = xcalloc(model->indicators.len + wanted_count + 1, sizeof *indicators);
    size_t count = 0;
    bool ok = cli_resolve_indicators(model, wanted, wanted_count, indicators, &count) &&
              cli_tables_known(model, tables, table_count);
    if (ok && wanted_count == 0)
        for (size_t k = 0; k < model->indicators.len; k++) indicators[count++] = model->indicators.items[k];
    /* the periods `kpic score --period` evaluates: with a role of its own period, its
     * periods too, so the rows feed `kpic score --values` */
    if (ok && cli_spec_periods(&s, period_text, CLI_PERIODS_SCORED)) {
        ir_program *program = ir_program_of(s.spec, model);
        sql_options o = { dialect, s.periods, s.period_count, indicators, count, tables, table_count, NULL };
        size_t len = 0;
        char *text = sql_render(program, model, &o, &s.diags, &len);
        if (text) {
            status = cli_emit(&s.diags, text, len, true, output);
        } else {
            cli_print_diagnostics(&s.diags, stderr, DIAG_FORMAT_TEXT);
            status = EXIT_ERRORS;
        }
        free(text);
    }
    free(indicators);
    cli_close_spec(&s);
done:
    for (size_t k = 0; k < table_count; k++) free((char *)tables[k].source);
    free(tables);
    free(wanted);
    return status;
}
