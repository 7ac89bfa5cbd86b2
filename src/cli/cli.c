/* cli.c — what the subcommands share (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kpic/ceiling.h"
#include "kpic/output.h"
#include "kpic/score.h"

/* The run's mode and what it printed so far: --strict is one switch for the whole
 * process, and diff prints two sinks before it decides. */
static bool strict_mode;
static size_t warnings_printed;

const char cli_usage_text[] =
    "usage: kpic check SPEC [--format text|json|sarif] [--allow-read DIR]... [--strict]\n"
    "                  [--ceiling [--roster] [DATA]]\n"
    "       kpic fmt SPEC [--check | --write]\n"
    "       kpic eval SPEC --period P [--indicator NAME]... [DATA] [--format table|json|csv|values] [ENGINE]\n"
    "       kpic score SPEC --period P [DATA] [--format table|json|csv|md|html] [-o FILE] [--bom] [--summary]\n"
    "                  [--adjustments FILE] [--values FILE | ENGINE]\n"
    "       kpic explain SPEC --period P --staff ID [--kpi NAME] [--adjustments FILE] [--values FILE | ENGINE]\n"
    "                  [DATA]\n"
    "       kpic doc SPEC [--format md|html] [-o FILE] [--allow-read DIR]... [--strict]\n"
    "       kpic diff OLD NEW [--period P DATA [--adjustments FILE] [--values FILE]] [--format text|md|json]\n"
    "                [--exit-code] [--strict]\n"
    "       kpic test SPEC... [--filter TEXT] [--format text|json|junit]\n"
    "       kpic cache info|clear [--cache-dir DIR]\n"
    "       kpic sql SPEC --period P --dialect sqlite|postgres|duckdb|mysql|spark|trino\n"
    "                [--indicator NAME]... [--table SOURCE=TABLE]... [-o FILE]\n"
    "  DATA: [--data NAME=PATH]... [--data-dir DIR] [--skip-bad-rows [--rejects FILE]]\n"
    "        [--threads N] [--quiet] [--allow-read DIR]... [--strict]\n"
    "        [--cache-dir DIR | --no-cache] [--verify-data]\n"
    "  ENGINE: --engine postgresql://USER@HOST/DB [--table SOURCE=TABLE]...  (the indicators\n"
    "        computed on the server by kpic sql's statement; the roster read as usual)\n"
    "\n"
    "  check   parse and check a spec; report every error with its location;\n"
    "          --ceiling adds what each role can pay (--roster: the roster's figures)\n"
    "  fmt     print the spec in the canonical layout; --check exits 1 and shows a diff\n"
    "          when the file is not formatted, --write rewrites it in place\n"
    "  eval    compute indicators from the CSV data for a period (2025-05) or a range\n"
    "          (2025-01..2025-06), reading each source once\n"
    "  score   score every staff member of the roster: a statement per person with each\n"
    "          kpi's value, achievement and points, the score, the gates and the bonus;\n"
    "          -o FILE writes the whole file or nothing, --bom starts a CSV with a BOM,\n"
    "          --summary makes the CSV one row per person (no kpi columns),\n"
    "          --adjustments FILE applies audited hand decisions (CSV) to the statements,\n"
    "          --values FILE scores from indicator values computed elsewhere (kpic sql)\n"
    "  explain the chain from the data to one staff member's bonus: formulas, aggregates\n"
    "          with their rows, targets, achievement, scale intervals, gates, bonus\n"
    "  doc     a reference of the spec for reviewers and staff: roles, indicators with\n"
    "          their formulas and notes, sets, scales, sources; Markdown or one HTML page\n"
    "  diff    what changes from spec OLD to spec NEW: declarations added, removed and\n"
    "          changed; with --period, the impact on bonuses first, then every statement\n"
    "          and indicator value that moves; OLD or NEW may be REV:PATH (from git) or -\n"
    "  test    run the tests written in specs (test \"NAME\" { … }), each on its own\n"
    "          data; every failed expectation with its line, the expected and the\n"
    "          actual value and how the actual one was computed\n"
    "  cache   the column cache, where data already read is kept typed for later runs\n"
    "          (docs/cli.md): info shows what it holds, clear empties it\n"
    "  sql     one SQL statement computing the indicators for the periods on a warehouse\n"
    "          engine; its rows (period, indicator, staff_id, value) feed score --values\n"
    "\n"
    "  --strict  every warning counts as an error: exit 1, nothing written (the monthly job)\n"
    "\n"
    "exit status: 0 ok (warnings allowed), 1 errors in the spec, 2 usage or I/O error\n";

int cli_usage(const char *fmt, const char *arg)
{
    if (fmt) {
        fputs("kpic: ", stderr);
        fprintf(stderr, fmt, arg);
        fputc('\n', stderr);
    }
    fputs(cli_usage_text, stderr);
    return EXIT_USAGE;
}

const char *cli_option_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        cli_usage("%s needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

const char *cli_single_value(int argc, char **argv, int *i, cli_seen *seen)
{
    const char *option = argv[*i];
    const char *canonical = !strcmp(option, "--output") ? "-o" : option;
    const char *value = cli_option_value(argc, argv, i);
    if (!value) return NULL;
    for (int k = 0; k < seen->count; k++) {
        if (strcmp(seen->names[k], canonical) != 0) continue;
        char message[512];
        snprintf(message, sizeof message, "%s given twice ('%.200s' and '%.200s'); give it once", option,
                 seen->values[k], value);
        cli_usage("%s", message);
        return NULL;
    }
    if (seen->count < (int)(sizeof seen->names / sizeof seen->names[0])) {
        seen->names[seen->count] = canonical;
        seen->values[seen->count++] = value;
    }
    return value;
}

/* N when TEXT is a plain decimal number from 1 to MAX (digits only: no sign, space or
 * leading zero, which strtol would take), else -1. */
static long strict_count(const char *text, long max)
{
    if (text[0] < '1' || text[0] > '9') return -1;
    long n = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        n = n * 10 + (*p - '0');
        if (n > max) return -1;
    }
    return n;
}

bool cli_take_spec(const char *command, const char *arg, const char **path)
{
    char message[256];
    if (arg[0] == '-' && arg[1]) {
        snprintf(message, sizeof message, "unknown option '%.100s' for %s", arg, command);
    } else if (!*path) {
        *path = arg;
        return true;
    } else {
        snprintf(message, sizeof message, "%s takes one spec, got a second: '%.100s'", command, arg);
    }
    cli_usage("%s", message);
    return false;
}

/* Loads and checks a spec. Returns NULL (after printing why) when the main file cannot
 * be read; otherwise the spec, with every diagnostic in diags. */
/* Folders the command line lets a spec read beyond its project root (--allow-read,
 * --data-dir): one run of the program, one list. */
static const char **read_dirs;
static size_t read_dir_count;

void cli_allow_read(const char *dir)
{
    read_dirs = xrealloc(read_dirs, (read_dir_count + 1) * sizeof *read_dirs);
    read_dirs[read_dir_count++] = dir;
}

ast_spec *cli_load_and_check(diag_sink *diags, const char *path, chk_model **model)
{
    return cli_check_loaded(diags, ast_load_spec_with(diags, path, cli_load_options()), model);
}

const ast_load_options *cli_load_options(void)
{
    static ast_load_options options;
    options.read_dirs = read_dirs;
    options.read_dir_count = read_dir_count;
    return &options;
}

ast_spec *cli_check_loaded(diag_sink *diags, ast_spec *spec, chk_model **model)
{
    if (!spec) return NULL;
    /* Semantic checks on a tree with holes would report names that only look undefined
     * because their declaration failed to parse: fix the syntax first. */
    bool syntax_errors = false;
    for (size_t i = 0; i < spec->files.len; i++)
        syntax_errors |= ((ast_file *)spec->files.items[i])->syntax_errors;
    *model = NULL;
    if (!syntax_errors && diags->errors == 0) *model = chk_check(spec);
    if (*model && diags->errors == 0) ceil_check_spec(spec, *model, diags);
    return spec;
}

ast_spec *cli_load_for_data(diag_sink *diags, const char *path, chk_model **model, int *status)
{
    return cli_check_for_data(diags, ast_load_spec_with(diags, path, cli_load_options()), model, status);
}

ast_spec *cli_check_for_data(diag_sink *diags, ast_spec *loaded, chk_model **model, int *status)
{
    ast_spec *spec = cli_check_loaded(diags, loaded, model);
    if (!spec || diags->errors) {
        diag_print(diags, stderr, DIAG_FORMAT_TEXT);
        *status = spec ? EXIT_ERRORS : EXIT_USAGE;
        ast_free_spec(spec);
        return NULL;
    }
    return spec;
}

/* Consumes argv[*i] (and its value) when it is a DATA option. Returns 1 when taken,
 * 0 when not a DATA option, -1 after a usage error was printed. */
int cli_take_data_option(int argc, char **argv, int *i, cli_data_args *d)
{
    const char *a = argv[*i];
    if (!strcmp(a, "--skip-bad-rows")) {
        d->options.skip_bad_rows = true;
        return 1;
    }
    if (!strcmp(a, "--quiet")) {
        d->quiet = true;
        return 1;
    }
    if (!strcmp(a, "--no-cache")) {
        d->no_cache = true;
        return 1;
    }
    if (!strcmp(a, "--verify-data")) {
        d->options.verify_data = true;
        return 1;
    }
    bool with_value = !strcmp(a, "--data") || !strcmp(a, "--data-dir") || !strcmp(a, "--rejects") ||
                      !strcmp(a, "--threads") || !strcmp(a, "--allow-read") || !strcmp(a, "--cache-dir");
    if (!with_value) return 0;
    const char *v =
        !strcmp(a, "--data") ? cli_option_value(argc, argv, i) : cli_single_value(argc, argv, i, &d->seen);
    if (!v) return -1;
    if (!strcmp(a, "--data")) {
        const char *eq = strchr(v, '=');
        if (!eq || eq == v || !eq[1]) {
            cli_usage("--data takes NAME=PATH, not '%s'", v);
            return -1;
        }
        for (size_t k = 0; k < d->override_count; k++) {
            const char *name = d->overrides[k].source;
            if (strlen(name) != (size_t)(eq - v) || memcmp(name, v, (size_t)(eq - v)) != 0) continue;
            char message[512];
            snprintf(message, sizeof message,
                     "--data names source '%s' twice ('%.200s' and '%.200s'); give it once", name,
                     d->overrides[k].path, eq + 1);
            cli_usage("%s", message);
            return -1;
        }
        d->overrides = xrealloc(d->overrides, (d->override_count + 1) * sizeof *d->overrides);
        char *name = xstrdup(v);
        name[eq - v] = '\0';
        /* every field: the ones --data does not give (in-memory bytes) must be empty */
        memset(&d->overrides[d->override_count], 0, sizeof *d->overrides);
        d->overrides[d->override_count].source = name;
        d->overrides[d->override_count].path = eq + 1;
        d->override_count++;
    } else if (!strcmp(a, "--data-dir")) {
        d->options.data_dir = v;
        cli_allow_read(v);
    } else if (!strcmp(a, "--allow-read")) {
        cli_allow_read(v);
    } else if (!strcmp(a, "--rejects")) {
        d->options.rejects_path = v;
    } else if (!strcmp(a, "--cache-dir")) {
        if (!v[0]) {
            cli_usage("--cache-dir takes a directory, not an empty name", NULL);
            return -1;
        }
        d->cache_dir = v;
    } else {
        long n = strict_count(v, 1024);
        if (n < 0) {
            cli_usage("--threads takes a number from 1 to 1024, in digits, not '%s'", v);
            return -1;
        }
        d->options.threads = (int)n;
    }
    return 1;
}

void cli_free_data_args(cli_data_args *d)
{
    for (size_t i = 0; i < d->override_count; i++) free((char *)d->overrides[i].source);
    free(d->overrides);
}

const char *cli_default_cache_dir(void)
{
    static char dir[4096];
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    /* a relative XDG_CACHE_HOME is invalid and ignored (XDG Base Directory spec) */
    int n = xdg && xdg[0] == '/'     ? snprintf(dir, sizeof dir, "%s/kpic", xdg)
            : home && home[0] == '/' ? snprintf(dir, sizeof dir, "%s/.cache/kpic", home)
                                     : -1;
    return n > 0 && (size_t)n < sizeof dir ? dir : NULL;
}

/* Checks the DATA options against the spec: --data names a declared source,
 * --rejects only with --skip-bad-rows. Returns false after a usage message. */
bool cli_validate_data_args(cli_data_args *d, chk_model *model)
{
    if (strict_mode && d->options.skip_bad_rows) {
        cli_usage("--strict refuses bad rows, so it does not go with --skip-bad-rows", NULL);
        return false;
    }
    if (d->options.rejects_path && !d->options.skip_bad_rows) {
        cli_usage("--rejects goes with --skip-bad-rows", NULL);
        return false;
    }
    for (size_t i = 0; i < d->override_count; i++) {
        const char *name = d->overrides[i].source;
        ast_decl *decl = chk_find(model, name);
        if (!decl || (decl->kind != DECL_SOURCE && decl->kind != DECL_STAFF)) {
            cli_usage("--data names no source of the spec: '%s'", name);
            return false;
        }
    }
    d->options.overrides = d->overrides;
    d->options.override_count = d->override_count;
    d->options.progress = !d->quiet && isatty(STDERR_FILENO);
    if (d->no_cache && d->cache_dir) {
        cli_usage("--no-cache and --cache-dir contradict each other: give one", NULL);
        return false;
    }
    d->options.cache_dir = d->no_cache ? NULL : d->cache_dir ? d->cache_dir : cli_default_cache_dir();
    /* a testing aid (docs/cli.md): tiny chunks put chunk boundaries everywhere */
    const char *chunk = getenv("KPIC_CHUNK_BYTES");
    if (chunk && chunk[0]) {
        long n = strict_count(chunk, 1L << 30);
        if (n < 0) {
            cli_usage("KPIC_CHUNK_BYTES takes a number of bytes from 1 to 1073741824, in digits, not '%s'",
                      chunk);
            return false;
        }
        d->options.chunk_bytes = (size_t)n;
    }
    return true;
}

/* The periods of --period P for a spec of the given grain. */
period_t *cli_parse_periods(const char *text, ast_grain grain, size_t *count)
{
    period_range range;
    char msg[PERIOD_MESSAGE_SIZE];
    if (period_parse_range(text, strlen(text), grain, &range, msg, sizeof msg) != PERIOD_OK) {
        fprintf(stderr, "kpic: --period %s\n", msg);
        return NULL;
    }
    period_t *periods = xcalloc(range.count, sizeof *periods);
    period_range_expand(&range, periods);
    *count = range.count;
    return periods;
}

/* The spec's periods that --period TEXT names: a period or range of the spec's grain, or
 * one of a grain some role is scored in (2025-Q2 in a monthly spec with a quarterly role
 * names 2025-04..2025-06). False after printing why. */
static bool parse_scored_range(const char *text, const chk_model *model, period_range *out)
{
    char msg[PERIOD_MESSAGE_SIZE];
    period_range asked;
    if (chk_parse_period_range(model, text, strlen(text), &asked, msg, sizeof msg) != PERIOD_OK) {
        fprintf(stderr, "kpic: --period %s\n", msg);
        return false;
    }
    if (asked.first.grain == model->grain) {
        *out = asked;
        return true;
    }
    /* a role's periods: the spec's periods that tile them (the checker made sure they do) */
    period_t a, b;
    if (period_of(model->grain, asked.first.start, &a) && period_of(model->grain, asked.last.end - 1, &b) &&
        period_range_between(a, b, out) == PERIOD_OK)
        return true;
    fprintf(stderr, "kpic: --period '%s' holds more than %d %s periods\n", text, PERIOD_RANGE_MAX,
            ast_grain_name(model->grain));
    return false;
}

period_t *cli_parse_scored_periods(const char *text, const chk_model *model, diag_sink *diags, size_t *count)
{
    period_range range;
    if (!parse_scored_range(text, model, &range)) return NULL;
    return score_periods(model, &range, diags, count);
}

bool cli_open_spec(cli_spec *s, const char *path, cli_data_args *data, int *status)
{
    memset(s, 0, sizeof *s);
    diag_init(&s->diags);
    s->spec = cli_load_for_data(&s->diags, path, &s->model, status);
    if (s->spec && (!data || cli_validate_data_args(data, s->model))) return true;
    cli_close_spec(s);
    return false;
}

/* The one period `kpic explain --period TEXT` explains: one of the spec's, or one of a
 * grain some role is scored in (2025-Q2 with a quarterly role). malloc'd, *COUNT 1; or
 * what cli_parse_periods gives (a range, refused by the caller). */
static period_t *explained_period(const char *text, const chk_model *model, size_t *count)
{
    period_t p;
    if (chk_parse_period(model, text, strlen(text), &p, NULL, 0) != PERIOD_OK)
        return cli_parse_periods(text, model->grain, count);
    period_t *one = xcalloc(1, sizeof *one);
    *one = p;
    *count = 1;
    return one;
}

bool cli_spec_periods(cli_spec *s, const char *text, cli_period_kind kind)
{
    switch (kind) {
    case CLI_PERIODS: s->periods = cli_parse_periods(text, s->model->grain, &s->period_count); break;
    case CLI_PERIODS_SCORED:
        s->periods = cli_parse_scored_periods(text, s->model, &s->diags, &s->period_count);
        break;
    case CLI_PERIOD_ONE:
        s->periods = explained_period(text, s->model, &s->period_count);
        if (s->periods && s->period_count != 1) {
            cli_usage("explain takes one period, not the range '%s'", text);
            free(s->periods);
            s->periods = NULL;
        }
        break;
    }
    return s->periods != NULL;
}

void cli_close_spec(cli_spec *s)
{
    free(s->periods);
    s->periods = NULL;
    ast_free_spec(s->spec);
    s->spec = NULL;
    diag_free(&s->diags);
}

bool cli_take_strict(const char *arg)
{
    if (strcmp(arg, "--strict") != 0) return false;
    strict_mode = true;
    return true;
}

void cli_print_diagnostics(diag_sink *diags, FILE *out, diag_format format)
{
    diag_print(diags, out, format);
    warnings_printed += diags->warnings;
}

bool cli_strict_refuses(bool withheld)
{
    if (!strict_mode || warnings_printed == 0) return false;
    fprintf(stderr, "kpic: --strict: %zu warning%s count%s as errors%s\n", warnings_printed,
            warnings_printed == 1 ? "" : "s", warnings_printed == 1 ? "s" : "",
            withheld ? "; nothing was written" : "");
    return true;
}

int cli_emit(diag_sink *diags, const char *text, size_t len, bool exact, const char *output)
{
    return cli_emit_run(diags, NULL, text, len, exact, output);
}

int cli_emit_run(diag_sink *diags, const eval_session *run, const char *text, size_t len, bool exact,
                 const char *output)
{
    cli_print_diagnostics(diags, stderr, DIAG_FORMAT_TEXT);
    if (!exact) return EXIT_ERRORS;
    if (cli_strict_refuses(true)) return EXIT_ERRORS;
    const char *why;
    if (run && !eval_write_rejects(run, &why)) {
        fprintf(stderr, "kpic: cannot write the rejects file: %s; nothing was written\n", why);
        return EXIT_USAGE;
    }
    if (output) {
        if (output_write_file(output, text, len, &why) == 0) return EXIT_OK;
        fprintf(stderr, "kpic: cannot write %s: %s\n", output, why);
        return EXIT_USAGE;
    }
    return cli_write_stdout(text, len) ? EXIT_OK : EXIT_USAGE;
}

/* The reason of the first failed write to stdout (0: none seen), kept because stdio
 * forgets it: a later fflush of an empty buffer succeeds and leaves only ferror set. */
static int stdout_error;

bool cli_write_stdout(const char *text, size_t len)
{
    if (len && fwrite(text, 1, len, stdout) != len && !stdout_error) stdout_error = errno ? errno : EIO;
    return !stdout_error && !ferror(stdout);
}

int cli_finish(int status)
{
    errno = 0;
    if (fflush(stdout) != 0 && !stdout_error) stdout_error = errno ? errno : EIO;
    bool failed = stdout_error || ferror(stdout);
    if (fclose(stdout) != 0 && !failed) {
        stdout_error = errno ? errno : EIO;
        failed = true;
    }
    if (failed) {
        fprintf(stderr, "kpic: cannot write standard output: %s\n",
                stdout_error ? strerror(stdout_error) : "a write failed");
        status = EXIT_USAGE;
    }
    /* A diagnostic that did not reach stderr is a failed run; there is nowhere to say so.
     * stderr is unbuffered, so its error flag already holds every failed write; it stays
     * open for what runs after main (the sanitizers' reports). */
    if (fflush(stderr) != 0 || ferror(stderr)) status = EXIT_USAGE;
    return status;
}

/* Exit status after a failed data run: unreadable files are I/O (2), the rest data (1). */
int cli_data_failure_status(const diag_sink *diags)
{
    for (size_t i = 0; i < diags->diags.len; i++) {
        const diagnostic *d = diags->diags.items[i];
        if (d->severity == DIAG_ERROR && d->code && !strcmp(d->code, "io")) return EXIT_USAGE;
    }
    return EXIT_ERRORS;
}

bool cli_resolve_indicators(const chk_model *model, const char *const *wanted, size_t wanted_count,
                            ast_decl **indicators, size_t *count)
{
    *count = 0;
    for (size_t i = 0; i < wanted_count; i++) {
        ast_decl *d = chk_find(model, wanted[i]);
        if (!d || d->kind != DECL_INDICATOR) {
            const char **names = xcalloc(model->indicators.len + 1, sizeof *names);
            for (size_t k = 0; k < model->indicators.len; k++)
                names[k] = ((ast_decl *)model->indicators.items[k])->name;
            const char *near = diag_closest(wanted[i], names, model->indicators.len);
            fprintf(stderr, "kpic: --indicator: the spec has no indicator '%s'", wanted[i]);
            if (near) fprintf(stderr, "; did you mean '%s'?", near);
            fputc('\n', stderr);
            free(names);
            return false;
        }
        /* a name asked for twice is shown once, where it was first asked for */
        bool repeated = false;
        for (size_t k = 0; k < *count && !repeated; k++) repeated = indicators[k] == d;
        if (!repeated) indicators[(*count)++] = d;
    }
    return true;
}

bool cli_tables_known(const chk_model *model, const sql_table *tables, size_t table_count)
{
    for (size_t i = 0; i < table_count; i++) {
        ast_decl *d = chk_find(model, tables[i].source);
        if (!d || (d->kind != DECL_SOURCE && d->kind != DECL_STAFF)) {
            cli_usage("--table names no source of the spec: '%s'", tables[i].source);
            return false;
        }
    }
    return true;
}
