/* cli_engine.c — `--engine postgresql://…` and `--table SOURCE=TABLE` of eval, score
 * and explain: the indicators computed on a PostgreSQL server by kpic sql's statement,
 * read into the structure `--values` fills (values.h), then scored as usual. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpic/hash.h"
#include "kpic/ir.h"
#include "kpic/pg_engine.h"

int cli_take_engine_option(int argc, char **argv, int *i, cli_engine_args *e)
{
    const char *a = argv[*i];
    if (!strcmp(a, "--engine")) {
        /* not cli_single_value: its message would repeat both values, passwords and all */
        const char *v = cli_option_value(argc, argv, i);
        if (!v) return -1;
        if (e->uri) {
            cli_usage("--engine given twice; give it once", NULL);
            return -1;
        }
        if (!pge_is_uri(v)) {
            /* the value may hold a password: it is not echoed */
            cli_usage(
                "--engine takes a PostgreSQL connection URI, postgresql://USER@HOST/DATABASE "
                "(or postgresql:///DATABASE?host=/socket/folder); other engines: kpic sql, then --values",
                NULL);
            return -1;
        }
        e->uri = v;
        return 1;
    }
    if (strcmp(a, "--table") != 0) return 0;
    const char *v = cli_option_value(argc, argv, i);
    if (!v) return -1;
    const char *eq = strchr(v, '=');
    if (!eq || eq == v || !eq[1]) {
        cli_usage("--table takes SOURCE=TABLE (e.g. orders=sales.orders), not '%s'", v);
        return -1;
    }
    char *source = xstrdup(v);
    source[eq - v] = '\0';
    for (size_t k = 0; k < e->table_count; k++)
        if (!strcmp(e->tables[k].source, source)) {
            free(source);
            cli_usage("--table names source '%s' twice; give it once", e->tables[k].source);
            return -1;
        }
    e->tables = xrealloc(e->tables, (e->table_count + 1) * sizeof *e->tables);
    e->tables[e->table_count].source = source;
    e->tables[e->table_count++].table = eq + 1;
    return 1;
}

void cli_free_engine_args(cli_engine_args *e)
{
    for (size_t k = 0; k < e->table_count; k++) free((char *)e->tables[k].source);
    free(e->tables);
}

bool cli_engine_check_args(const cli_engine_args *e)
{
    if (e->table_count && !e->uri) {
        cli_usage("--table goes with --engine (or kpic sql): without it no table is read", NULL);
        return false;
    }
    return true;
}

typedef struct fetch_ctx {
    vals_file *values;
    size_t rows;
} fetch_ctx;

static void on_row(void *ctx, unsigned row, const char *const cells[4])
{
    fetch_ctx *f = ctx;
    vals_add(f->values, row, cells[0], cells[1], cells[2], cells[3]);
    f->rows++;
}

bool cli_engine_fetch(const cli_engine_args *e, const char *values_path, ast_spec *spec,
                      const chk_model *model, ast_decl *const *indicators, size_t indicator_count,
                      const period_t *periods, size_t period_count, cli_data_args *data, diag_sink *diags,
                      cli_engine_values *out, int *status)
{
    memset(out, 0, sizeof *out);
    if (values_path) {
        *status = cli_usage("--engine computes the values that --values gives: give one of them", NULL);
        return false;
    }
    if (!cli_values_read_no_source("--engine", "computes the indicators' values on the server", data, status))
        return false;
    if (!cli_tables_known(model, e->tables, e->table_count)) {
        *status = EXIT_USAGE;
        return false;
    }
    ir_program *program = ir_program_of(spec, model);
    sql_regions regions = { 0 };
    sql_options o = { SQLD_POSTGRES,   periods,   period_count,   indicators,
                      indicator_count, e->tables, e->table_count, &regions };
    size_t len = 0;
    char *query = sql_render(program, model, &o, diags, &len);
    bool ok = false;
    if (!query) {
        diag_print(diags, stderr, DIAG_FORMAT_TEXT);
        *status = EXIT_ERRORS;
        goto done;
    }
    out->where = pge_display(e->uri);
    fetch_ctx f = { vals_begin(out->where, model, diags), 0 };
    pge_error err;
    if (!pge_run(e->uri, query, on_row, &f, &out->server, &err)) {
        vals_free(vals_end(f.values));
        if (err.connection)
            diag_report_data(diags, DIAG_ERROR, out->where, 0, 0, "io", "%s PostgreSQL: %s",
                             err.lost ? "lost the connection to" : "cannot connect to", err.message);
        else pge_report(&err, out->where, query, &o, diags);
        pge_error_free(&err);
        diag_print(diags, stderr, DIAG_FORMAT_TEXT);
        *status = cli_data_failure_status(diags);
        goto done;
    }
    out->values = vals_end(f.values);
    if (!out->values) {
        diag_print(diags, stderr, DIAG_FORMAT_TEXT);
        *status = EXIT_ERRORS;
        goto done;
    }
    vals_attach(out->values, &data->options);
    out->source.name = "postgresql";
    out->source.path = out->where;
    hash_sha256_hex(query, len, out->source.sha256);
    out->source.rows = f.rows;
    out->source.read = true;
    out->source.server = out->server;
    ok = true;
done:
    free(query);
    sql_regions_free(&regions);
    return ok;
}

void cli_engine_values_free(cli_engine_values *v)
{
    vals_free(v->values);
    free(v->where);
    free(v->server);
    memset(v, 0, sizeof *v);
}
