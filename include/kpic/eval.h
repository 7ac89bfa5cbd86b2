/* eval.h — evaluating a checked spec against its CSV data (docs/language.md §3–5, docs/cli.md).
 *
 * Owns: the runtime value type, the planner that turns every expression the caller
 * needs into a deduplicated list of aggregate instances (aggregate × shifted period ×
 * window), the pass over each source that computes all of them at once, and the
 * evaluation of expressions from those aggregates for any period and staff member.
 *
 * Lifecycle: eval_new → eval_require (each expression needed; indicators are
 * required by name) → eval_execute (reads the roster and every needed source once) →
 * eval_value_of / eval_indicator_value (any number of times) → eval_free.
 *
 * Numbers are exact decimals (decimal.h, 18 places) from the CSV cell to the output:
 * sums of money never pass through binary floating point.
 */
#ifndef KPIC_EVAL_H
#define KPIC_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kpic/ast.h"
#include "kpic/check.h"
#include "kpic/date.h"
#include "kpic/decimal.h"
#include "kpic/ir.h"
#include "kpic/period.h"
#include "kpic/value.h"

/* `--data NAME=PATH` */
typedef struct eval_data_override {
    const char *source;
    const char *path;
    /* Not NULL: the source's CSV is these SIZE bytes of UTF-8 (not copied; valid until
     * eval_free), read exactly as a file would be; PATH then only names them in
     * messages. `kpic test` gives a test's inline data this way. */
    const char *bytes;
    size_t size;
} eval_data_override;

typedef struct eval_options {
    const eval_data_override *overrides;
    size_t override_count;
    const char *data_dir; /* resolve relative source paths here instead of the spec's folder */
    bool skip_bad_rows;
    const char *rejects_path; /* with skip_bad_rows: every skipped row and its reason */
    int threads;              /* 0: the number of cores */
    /* bytes per chunk when threads split a file; 0: 8 MiB. Small values exist for tests of
     * chunk boundaries. */
    size_t chunk_bytes;
    bool progress; /* a progress line on stderr (the CLI decides: terminal, not --quiet) */
    /* Not NULL: every indicator's value comes from here (`--values FILE`, values.h),
     * and eval_execute reads the roster only, no source. STAFF_ID is NULL for the
     * total (and for a team-wide indicator). */
    eval_value (*given_values)(void *ctx, const ast_decl *indicator, period_t period, const char *staff_id);
    void *given_values_ctx;
    const char *cache_dir; /* the column cache's directory (csv_reader.h); NULL: no cache */
    /* hash each file even when its cache is used, and refuse a cache whose recorded
     * SHA-256 differs */
    bool verify_data;
} eval_options;

/* What was read from one source, for audit (docs/json.md `sources`). */
typedef struct eval_source_stats {
    const char *name; /* "staff" for the roster */
    const char *path; /* as resolved and opened */
    char sha256[65];
    uint64_t rows;            /* data rows accepted */
    uint64_t skipped;         /* rows rejected under --skip-bad-rows */
    uint64_t outside_periods; /* accepted rows whose time cell is empty */
    bool read;                /* false: no requested expression needed it */
    /* values computed by a database server (--engine): its name and version, as it reports
     * them; NULL for a file */
    const char *server;
} eval_source_stats;

/* One roster row. A person who changed roles has a row per role (docs/language.md §3
 * staff): rows of one id never share a day and carry the same name; their kpi values
 * are the person's, computed once for the id (over the whole period). */
typedef struct eval_staff {
    const char *id;
    const char *name; /* NULL without a name column */
    const char *role;
    bool has_start, has_end;
    date_t start, end; /* employment [start, end), whatever the roster's convention */
    /* the roster's end cell is the last day employed (`convention "last_day"`): it reads
     * end − 1 */
    bool end_is_last_day;
    unsigned long line; /* the roster file line its record starts on */
    int first_row;      /* the first roster row of this id (itself when it is) */
    int next_row;       /* the next roster row of this id, -1 after the last */
    int id_rows;        /* how many roster rows this id has (1 for most people) */
} eval_staff;

typedef struct eval_session eval_session;

/* A session over a checked spec (the sink must hold no errors) for the given periods,
 * which must all have the spec's grain. */
eval_session *eval_new(ast_spec *spec, chk_model *model, const period_t *periods, size_t period_count,
                       const eval_options *options, diag_sink *diags);
void eval_free(eval_session *s);

/* Marks an expression (and everything it references) as needed. Call before
 * eval_execute. */
void eval_require(eval_session *s, ast_expr *expr);
void eval_require_indicator(eval_session *s, ast_decl *indicator);

/* Marks as needed the count of the rows that AGGREGATE (a checked count/sum/avg/min/
 * max/distinct call or count(SET)) ranges over: its source's rows in its window that
 * pass its where, at its grain. `kpic explain` shows it next to each figure. */
void eval_require_rows(eval_session *s, const ast_expr *aggregate);
/* Reads the roster and every needed source, computing every planned aggregate.
 * Returns false after reporting to diags (bad data, unreadable file, …); then nothing
 * may be evaluated and nothing should be written. */
bool eval_execute(eval_session *s);
/* eval_execute for two sessions at once (`kpic diff --period`): a source both read alike
 * (the same file, declared with the same columns, types and formats, no key, the same
 * options) is read in one pass that feeds both; any other is read by each on its own.
 * OK[k] is what eval_execute(session k) would have returned, with the same diagnostics
 * in the session's own sink. */
void eval_execute_pair(eval_session *a, eval_session *b, bool ok[2]);

/* Writes the rows skipped under --skip-bad-rows to the --rejects file (a no-op without
 * both), whole or not at all. The caller calls it once the run is known to succeed, just
 * before its own output, so a failed run leaves the old rejects file as it was. False
 * with *WHY (the OS reason) when it cannot be written. */
bool eval_write_rejects(const eval_session *s, const char **why);

/* False (after reporting a located error, once) when some arithmetic evaluated so far
 * left the exact decimal range. Commands call it after computing their output and
 * before writing it, so an overflowed figure is never shown as n/a. */
bool eval_overflow_check(eval_session *s);

/* A member's place in the ranking of a role with grades (docs/language.md §9.4):
 * what the bonus reads as grade (text), rank, percentile and grade_factor. */
typedef struct eval_grade_context {
    eval_value grade, rank, percentile, factor;
} eval_grade_context;

/* Context of a role's kpi while its target, points, gates and bonus are evaluated. */
typedef struct eval_kpi_context {
    eval_value value, target, achievement;
    eval_value score, employed;
    const eval_grade_context *grades; /* the bonus of a role with grades; else NULL */
} eval_kpi_context;

/* The value of a required expression in period p (index into the session's periods)
 * for one staff member (index into eval_roster) or, with staff = -1, for the whole
 * company. kpi supplies value/target/achievement/score/employed where those are used. */
eval_value eval_value_of(eval_session *s, ast_expr *expr, size_t period, int staff,
                         const eval_kpi_context *kpi);
eval_value eval_indicator_value(eval_session *s, ast_decl *indicator, size_t period, int staff);
/* The session's lowered program (ir.h; ir_of finds the node of a checked expression):
 * for reports that need to know what an expression reads, not only its value. */
ir_program *eval_program(const eval_session *s);
/* eval_value_of for a node of that program (a part of a required expression). */
eval_value eval_node_value(eval_session *s, const ir_node *node, size_t period, int staff,
                           const eval_kpi_context *kpi);
/* The row count eval_require_rows asked for, in period p for one staff member or (-1)
 * the company; null when it was not required. */
eval_value eval_rows_of(eval_session *s, const ast_expr *aggregate, size_t period, int staff);

/* Three-way comparison of two values of one kind (numbers exactly, text byte for byte);
 * *ok false, and 0 returned, when they cannot be compared: either is null or the kinds
 * differ. */
int eval_compare_values(const eval_value *a, const eval_value *b, bool *ok);

/* A scale applied to x: the interval that contains x (edges as written), its points, or
 * the linear interpolation of a `from .. to` row; null when no interval contains x. */
eval_value eval_scale(const eval_session *s, const ast_decl *scale, dec_t x);
/* The index of the row of scale whose interval contains x, or -1. */
int eval_scale_row(const eval_session *s, const ast_decl *scale, dec_t x);
/* X as a scale's bounds are written: a percentage when they are, else a number. */
void eval_scale_input_text(const eval_session *s, const ast_decl *scale, dec_t x, char *buf, size_t size);
/* Warns, at each scale call whose input fell outside every interval while values were
 * evaluated, with the first period and group it happened for and how often
 * (docs/language.md §3 scale: an input outside every interval gives null and a warning). `kpic eval` and
 * `kpic score` call it; the scorer words its own warnings for a kpi's points scale. */
void eval_report_scale_misses(eval_session *s);

/* True when the session's indicator values are given (eval_options.given_values), not
 * computed: explanations then show where a value came from instead of its formula. */
bool eval_values_given(const eval_session *s);

/* The fraction of period's days a staff member was employed (docs/language.md §9 `employed`):
 * staff.start inclusive, staff.end exclusive, an open side when absent. */
eval_value eval_employed(const eval_session *s, size_t period, int staff);

const period_t *eval_periods(const eval_session *s, size_t *count);
const eval_staff *eval_roster(const eval_session *s, size_t *count);

/* The days roster row WHO is employed in P, of P's days: period_employed from its start
 * to its end, open on a side the roster leaves empty (`employed` is their quotient). */
static inline period_fraction eval_staff_employed(const eval_staff *who, period_t p)
{
    return period_employed(p, who->has_start ? &who->start : NULL, who->has_end ? &who->end : NULL);
}

/* Whether roster row WHO is employed on some day of P: the condition for a statement. */
static inline bool eval_staff_is_employed(const eval_staff *who, period_t p)
{
    return period_is_employed(p, who->has_start ? &who->start : NULL, who->has_end ? &who->end : NULL);
}
/* A roster member's number in roster column COLUMN (int, number or money); false when
 * the cell is empty or not a number. */
bool eval_staff_number(const eval_session *s, size_t staff, int column, dec_t *out);
const eval_source_stats *eval_sources(const eval_session *s, size_t *count);

#endif
