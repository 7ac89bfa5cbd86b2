/* sql.h — `kpic sql`: the SQL back end of the IR (prefix sql_).
 *
 * Owns: turning the requested indicators of a lowered spec (ir.h), for the requested
 * periods and every period their previous()/last_year() reach, into ONE SQL statement
 * of the dialect (sql_dialect.h) that returns the rows (period, indicator, staff_id,
 * value): the total (staff_id NULL) and, for a per-staff indicator, every roster member.
 * The value is text: exact decimal digits for what the engine computes exactly, the
 * engine's DOUBLE text for quotients where it has no exact division; `--values` reads
 * both (values.h).
 *
 * The statement's shape (docs/scale-out.md): a CTE of the periods and one per window,
 * with each period's window bounds as literals, so that a range of periods is ONE scan
 * of each source joined on the bounds; one CTE per family of aggregates (a source and a
 * window), each with a comment naming the indicators it serves, grouped per staff
 * member and in total (GROUPING SETS, or UNION ALL where the dialect has none); a keys
 * CTE per distinct() and per set, the sets' members joined where `in SET` tests them;
 * then one SELECT over the cells (period × roster member, and the total) computing every
 * indicator as a column, each CTE joined once per shift (MariaDB computes a CTE again for
 * every reference), with every formula rendered from the IR: nulls as kpic has them (a
 * zero divisor gives null), previous() and last_year() as joins on the shifted period;
 * the rows are the cells × the indicators. Rows are returned for the requested periods
 * and those that previous()/last_year() in the roles reach.
 */
#ifndef KPIC_SQL_H
#define KPIC_SQL_H

#include <stdbool.h>
#include <stddef.h>

#include "kpic/check.h"
#include "kpic/diag.h"
#include "kpic/ir.h"
#include "kpic/period.h"
#include "kpic/sql_dialect.h"

/* `--table SOURCE=qualified.name`: where a source's rows are (default: its name). */
typedef struct sql_table {
    const char *source; /* a source's name, or "staff" for the roster */
    const char *table;  /* as given: schema.table, catalog.schema.table */
} sql_table;

/* Where each declaration's SQL is in the statement (sql_options.regions), so that an
 * engine's error at a position of the query can be shown at the declaration it comes
 * from (pg_engine.h). */
typedef struct sql_region {
    size_t start, end; /* byte offsets into the statement, end exclusive */
    /* an indicator (its SELECT), a source (a CTE of its aggregates), a set (its keys or
     * members) or the roster */
    const ast_decl *decl;
    /* the source (or roster) whose table this SQL reads; NULL for an indicator's SELECT */
    const ast_decl *source;
} sql_region;

typedef struct sql_regions {
    sql_region *items; /* malloc'd; in the order written, never overlapping */
    size_t count, cap;
} sql_regions;

void sql_regions_free(sql_regions *regions);

typedef struct sql_options {
    sqld_dialect dialect;
    const period_t *periods; /* the requested periods, in order */
    size_t period_count;
    ast_decl *const *indicators; /* the requested indicators, in order */
    size_t indicator_count;
    const sql_table *tables;
    size_t table_count;
    sql_regions *regions; /* not NULL: filled with where each declaration's SQL is */
} sql_options;

/* The statement for O over PROGRAM (lowered from MODEL), malloc'd and NUL-terminated,
 * *LEN bytes; the same input gives the same bytes. NULL after located errors in DIAGS:
 * a text the dialect cannot hold (a NUL character), a table name that does not quote,
 * a shift that leaves the calendar. */
char *sql_render(const ir_program *program, const chk_model *model, const sql_options *o, diag_sink *diags,
                 size_t *len);

#endif
