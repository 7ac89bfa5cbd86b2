/* cli.h — what the subcommands of the kpic program share (private to the program).
 *
 * Owns: exit statuses, the usage text, loading and checking a spec, the DATA options
 * of docs/cli.md and --period parsing. Each subcommand lives in its own cli_NAME.c and
 * only parses its arguments and calls the library.
 */
#ifndef KPIC_CLI_H
#define KPIC_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "kpic/ast.h"
#include "kpic/ceiling.h"
#include "kpic/check.h"
#include "kpic/diag.h"
#include "kpic/eval.h"
#include "kpic/eval_render.h"
#include "kpic/period.h"
#include "kpic/run.h"
#include "kpic/sql.h"
#include "kpic/values.h"

enum { EXIT_OK = 0, EXIT_ERRORS = 1, EXIT_USAGE = 2 };

extern const char cli_usage_text[];

/* Prints "kpic: " + fmt (with one %s argument) and the usage; returns EXIT_USAGE. */
int cli_usage(const char *fmt, const char *arg);

/* The value of the option argv[*i], which takes one: advances *i to it. NULL (after a
 * usage message) when the option is the last argument. */
const char *cli_option_value(int argc, char **argv, int *i);

/* The single-valued options a command has taken, with their values: a second
 * occurrence is a usage error, never a silent choice of one of them. */
typedef struct cli_seen {
    /* canonical spelling: "-o" for -o and --output; 16 is more than any command's
     * single-valued options */
    const char *names[16];
    const char *values[16];
    int count;
} cli_seen;

/* cli_option_value for an option that may be given once: NULL after a usage message
 * when the value is missing or the option was given before (SEEN records it). */
const char *cli_single_value(int argc, char **argv, int *i, cli_seen *seen);

/* An argument that is not one of the command's options: the spec path the first time;
 * an unknown option or a second path is a usage error (printed; returns false). */
bool cli_take_spec(const char *command, const char *arg, const char **path);

/* Lets specs loaded from now on read under DIR too (--allow-read DIR, --data-dir DIR):
 * imports and source paths written in a spec stay inside its project root otherwise
 * (docs/security.md). */
void cli_allow_read(const char *dir);

/* Loads and checks a spec. Returns NULL when the main file cannot be read; otherwise
 * the spec, with every diagnostic in diags and *model set when checking ran. */
ast_spec *cli_load_and_check(diag_sink *diags, const char *path, chk_model **model);
/* The loader options of this command line: the folders --allow-read and --data-dir let
 * a spec read beyond its project root. */
const ast_load_options *cli_load_options(void);

/* The checking half of cli_load_and_check, for a spec loaded some other way (NULL:
 * it could not be read, returned as is). */
ast_spec *cli_check_loaded(diag_sink *diags, ast_spec *spec, chk_model **model);

/* cli_load_and_check for a command that needs a spec without errors (to read data, or
 * to document it): a spec with errors is
 * printed, *status set (1 errors, 2 unreadable) and NULL returned (diags stay to free). */
ast_spec *cli_load_for_data(diag_sink *diags, const char *path, chk_model **model, int *status);
/* cli_load_for_data for a spec loaded some other way (LOADED NULL: it could not be read). */
ast_spec *cli_check_for_data(diag_sink *diags, ast_spec *loaded, chk_model **model, int *status);

/* Options shared by every command that reads data (docs/cli.md DATA). */
typedef struct cli_data_args {
    eval_options options;
    eval_data_override *overrides;
    size_t override_count;
    bool quiet;
    bool no_cache;
    const char *cache_dir; /* --cache-dir */
    cli_seen seen;         /* --data-dir, --rejects, --threads, --cache-dir */
} cli_data_args;

/* The column cache's directory when none is given: $XDG_CACHE_HOME/kpic, or
 * ~/.cache/kpic; NULL when neither is known. */
const char *cli_default_cache_dir(void);

/* Consumes argv[*i] (and its value) when it is a DATA option. Returns 1 when taken,
 * 0 when not a DATA option, -1 after a usage error was printed. */
int cli_take_data_option(int argc, char **argv, int *i, cli_data_args *d);
void cli_free_data_args(cli_data_args *d);
/* Checks the DATA options against the spec; false after a usage message. */
bool cli_validate_data_args(cli_data_args *d, chk_model *model);
/* The indicators WANTED (--indicator NAME…) names, each once, in the order first asked
 * for, into INDICATORS (room for model->indicators.len + wanted_count); false after
 * printing the unknown name with its closest match. */
bool cli_resolve_indicators(const chk_model *model, const char *const *wanted, size_t wanted_count,
                            ast_decl **indicators, size_t *count);
/* Whether every --table names a source or the roster of MODEL; false after printing a
 * usage error for the first that does not. */
bool cli_tables_known(const chk_model *model, const sql_table *tables, size_t table_count);

/* Reads `--values PATH` against MODEL and makes DATA's sessions take their indicator
 * values from it. A --data of a source other than the roster, or --skip-bad-rows, is a
 * usage error (nothing of theirs would be read). NULL after printing why, with *STATUS
 * 2 (usage, unreadable file) or 1 (bad rows). */
vals_file *cli_read_values(const char *path, const chk_model *model, cli_data_args *data, diag_sink *diags,
                           int *status);

/* The usage error of an option that replaces the sources (--values, --engine: OPTION,
 * which WHY, "gives the indicators' values"): a --data of a source other than the
 * roster, or --skip-bad-rows. False after printing it, with *STATUS 2. */
bool cli_values_read_no_source(const char *option, const char *why, const cli_data_args *data, int *status);

/* `--engine URI` and `--table SOURCE=TABLE` of eval, score and explain (cli_engine.c):
 * the indicators computed by a PostgreSQL server from kpic sql's statement. */
typedef struct cli_engine_args {
    const char *uri;   /* NULL: no --engine */
    sql_table *tables; /* --table, each source once; the names malloc'd */
    size_t table_count;
} cli_engine_args;

/* Consumes argv[*i] (and its value) when it is --engine or --table: 1 taken, 0 not one
 * of them, -1 after a usage error was printed. */
int cli_take_engine_option(int argc, char **argv, int *i, cli_engine_args *e);
void cli_free_engine_args(cli_engine_args *e);

/* What the server gave a run: its values (attached to the run's options), and where
 * they came from, as one more entry of the output's sources. */
typedef struct cli_engine_values {
    vals_file *values;
    /* "postgresql", the connection without its password, the SHA-256 of the statement, the
     * rows, the server */
    eval_source_stats source;
    char *where, *server;
} cli_engine_values;

/* Checks E against MODEL and DATA (--values and --engine exclude each other: VALUES_PATH
 * NULL or not), renders kpic sql's statement of INDICATORS for PERIODS in the postgres
 * dialect, runs it on E's server and makes DATA's sessions take their indicator values
 * from its rows. False after printing why: *STATUS 2 for usage and a connection that
 * failed, 1 for an error of the server (at the declaration its SQL came from) or a bad
 * row. */
bool cli_engine_fetch(const cli_engine_args *e, const char *values_path, ast_spec *spec,
                      const chk_model *model, ast_decl *const *indicators, size_t indicator_count,
                      const period_t *periods, size_t period_count, cli_data_args *data, diag_sink *diags,
                      cli_engine_values *out, int *status);
/* --table without --engine is a usage error (printed): false. */
bool cli_engine_check_args(const cli_engine_args *e);
void cli_engine_values_free(cli_engine_values *v);

/* The periods of --period P (malloc'd), or NULL after printing why. */
period_t *cli_parse_periods(const char *text, ast_grain grain, size_t *count);

/* What a command over a spec's data starts from (cli_open_spec, cli_spec_periods): the
 * spec loaded and checked without errors, its diagnostics, the periods of --period. */
typedef struct cli_spec {
    diag_sink diags;
    ast_spec *spec;
    chk_model *model;
    period_t *periods; /* malloc'd; NULL until cli_spec_periods */
    size_t period_count;
} cli_spec;

/* How cli_spec_periods reads --period. */
typedef enum cli_period_kind {
    CLI_PERIODS,        /* a period or range of the spec's grain (cli_parse_periods: eval) */
    CLI_PERIODS_SCORED, /* the periods scoring evaluates (cli_parse_scored_periods: score, sql) */
    /* one period of the spec's grain or of a role's (chk_parse_period: explain); a range is
     * a usage error */
    CLI_PERIOD_ONE
} cli_period_kind;

/* Loads and checks the spec at PATH into S and checks DATA (NULL: none) against it.
 * False after printing why, S then holding nothing: *STATUS is 1 for a spec with errors,
 * 2 for one that cannot be read, and left as it is for a usage error in DATA. */
bool cli_open_spec(cli_spec *s, const char *path, cli_data_args *data, int *status);
/* Sets S's periods from --period TEXT as KIND reads them (notes about partly covered
 * role periods go to S's diagnostics); false after printing why. */
bool cli_spec_periods(cli_spec *s, const char *text, cli_period_kind kind);
/* Frees what S holds. */
void cli_close_spec(cli_spec *s);
/* The periods `kpic score` and `kpic diff` evaluate for --period TEXT (score_periods):
 * the spec's periods it names, and the whole periods of roles with their own grain; a
 * period of such a grain (2025-Q2) names the spec's periods it is made of. Notes about
 * partly covered role periods go to DIAGS. NULL after printing why. */
period_t *cli_parse_scored_periods(const char *text, const chk_model *model, diag_sink *diags, size_t *count);

/* The end of a data command whose run succeeded: prints the diagnostics, then writes
 * TEXT to the file OUTPUT (whole or not at all) or, when OUTPUT is NULL, to stdout.
 * Nothing is written when EXACT is false (a figure overflowed; its error is among the
 * diagnostics), nor under --strict when a warning was printed. Returns the exit status. */
int cli_emit(diag_sink *diags, const char *text, size_t len, bool exact, const char *output);
/* cli_emit for a run that read data: RUN's --rejects file is written first, only when
 * the output is about to be (a refused or failed run leaves the old one as it was). */
int cli_emit_run(diag_sink *diags, const eval_session *run, const char *text, size_t len, bool exact,
                 const char *output);

/* Writes TEXT to stdout; false once any write to stdout has failed (cli_finish says
 * why and makes the status 2). */
bool cli_write_stdout(const char *text, size_t len);

/* The end of every command: flushes and closes stdout, flushes stderr. A write to
 * either that failed at any point, or the final flush or close, makes the status
 * EXIT_USAGE (with the reason on stderr when stderr still works). Returns the status
 * to exit with. */
int cli_finish(int status);

/* `--strict`, which every command but fmt takes: true (and the mode set for the rest
 * of the run) when ARG is it. Under --strict a run that printed any warning is refused:
 * exit 1 and nothing written (cli_emit, cli_strict_refuses). */
bool cli_take_strict(const char *arg);

/* Prints the diagnostics to OUT in FORMAT, counting the warnings for --strict. */
void cli_print_diagnostics(diag_sink *diags, FILE *out, diag_format format);

/* Under --strict, after warnings were printed: says that they count as errors (and,
 * when WITHHELD, that the result was not written) and returns true: the caller exits
 * 1 and writes nothing. Otherwise false. */
bool cli_strict_refuses(bool withheld);

/* Exit status after a failed data run: unreadable files are I/O (2), the rest data (1). */
int cli_data_failure_status(const diag_sink *diags);

/* The ceiling of SPEC's MODEL (its one lowering, ir_program_of) with the members of
 * ROSTER, a session that read the roster, or none (NULL): figures per unit of roster
 * cells then. */
void cli_ceiling_analyze(ceil_report *out, ast_spec *spec, const chk_model *model, const diag_sink *diags,
                         eval_session *roster);
/* The roster file ROSTER read, as opened. */
const char *cli_roster_path(const eval_session *roster);

int cli_check(int argc, char **argv);
int cli_fmt(int argc, char **argv);
int cli_eval(int argc, char **argv);
int cli_score(int argc, char **argv);
int cli_explain(int argc, char **argv);
int cli_doc(int argc, char **argv);
int cli_diff(int argc, char **argv);
int cli_test(int argc, char **argv);
int cli_cache(int argc, char **argv);
int cli_sql(int argc, char **argv);

#endif
