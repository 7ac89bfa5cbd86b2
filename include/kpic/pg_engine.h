/* pg_engine.h — `--engine postgresql://…`: running `kpic sql`'s statement on a
 * PostgreSQL server through libpq (prefix pge_).
 *
 * Owns: the connection (every form libpq takes: a URI with a host, a socket folder as
 * `?host=/path`, and the PG* environment variables for what the URI leaves out), the one
 * query and its rows as text, the server's version, and the errors: a connection that
 * fails (the caller's exit 2) and an error of the server (exit 1), reported at the
 * declaration of the spec whose SQL holds the position the server names (sql.h,
 * sql_regions).
 *
 * A password never leaves this module: the connection is shown without it (pge_display)
 * and every message libpq or the server gives is cleared of it, whether it came in the
 * URI (`user:secret@`, `?password=`) or from PGPASSWORD.
 */
#ifndef KPIC_PG_ENGINE_H
#define KPIC_PG_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include "kpic/diag.h"
#include "kpic/sql.h"

/* Why a query gave no rows. */
typedef struct pge_error {
    /* the server could not be reached or was lost (I/O), else it refused the query */
    bool connection;
    bool lost;           /* connected, then lost during the query */
    char *message;       /* libpq's or the server's message, without the password */
    char *detail, *hint; /* the server's, or NULL */
    char sqlstate[6];    /* "42703"; "" when none */
    /* byte offset into the query of the error, -1 when the server names none */
    long position;
} pge_error;

/* Each row of the result: kpic sql's four columns (period, indicator, staff_id, value)
 * as text, NULL for SQL NULL; ROW counts from 1. */
typedef void (*pge_row_fn)(void *ctx, unsigned row, const char *const cells[4]);

/* True when TEXT is a PostgreSQL connection URI (postgresql:// or postgres://). */
bool pge_is_uri(const char *text);

/* URI as it may be shown: without the password of its user part or its `password`
 * parameter. malloc'd. */
char *pge_display(const char *uri);

/* Connects to URI (client encoding UTF-8), runs QUERY, one statement whose rows have
 * four columns, and gives each row to FN. *SERVER (malloc'd) gets "PostgreSQL " and the
 * server's version. False with *ERR filled (free with pge_error_free). */
bool pge_run(const char *uri, const char *query, pge_row_fn fn, void *ctx, char **server, pge_error *err);
void pge_error_free(pge_error *err);

/* Reports ERR, the server's error for QUERY (rendered with O, whose regions were
 * recorded), into DIAGS: at the declaration whose SQL holds the position, with the
 * server's message, its detail and hint, the line of the query, and for a missing
 * table or column which source it is and how --table names its table. Without a
 * position in a declaration's SQL: an error at WHERE (the connection as shown). */
void pge_report(const pge_error *err, const char *where, const char *query, const sql_options *o,
                diag_sink *diags);

#endif
