/* sql_dialect.h — what differs between the SQL engines `kpic sql` writes for (prefix
 * sqld_): sqlite, PostgreSQL 14+, DuckDB, MySQL 8.0 / MariaDB 10.11, Spark SQL 3.5 / 4.x
 * (Hive, Databricks) and Trino (Presto, Athena).
 *
 * Owns: identifier quoting, the spelling of every literal (text, dates, exact decimals,
 * booleans), type names, safe division (null for a zero divisor, never an error: Spark
 * 4's ANSI mode raises one), exact sums of money (sqlite has no exact decimal), the
 * difference of two dates in days, and whether the engine has GROUPING SETS.
 *
 * No text reaches the SQL unquoted: every name goes through sqld_ident and every text
 * literal through sqld_string, which refuse a NUL byte (no engine keeps one in text) and
 * write backslashes and quotes so that they mean themselves whatever the engine's
 * escaping settings (MySQL's NO_BACKSLASH_ESCAPES, Spark's escapedStringLiterals).
 *
 * Every function returns text allocated in the arena it is given.
 */
#ifndef KPIC_SQL_DIALECT_H
#define KPIC_SQL_DIALECT_H

#include <stdbool.h>
#include <stddef.h>

#include "kpic/arena.h"
#include "kpic/date.h"
#include "kpic/decimal.h"

typedef enum sqld_dialect {
    SQLD_SQLITE,
    SQLD_POSTGRES,
    SQLD_DUCKDB,
    SQLD_MYSQL,
    SQLD_SPARK,
    SQLD_TRINO,
    SQLD_COUNT
} sqld_dialect;

/* The value types the generated SQL names. */
typedef enum sqld_type {
    /* text, compared and grouped byte for byte: MySQL/MariaDB's BINARY, since every
     * collation there either ignores case (utf8mb4_general_ci) or pads with spaces
     * (utf8mb4_bin: 'c1' = 'c1 '), and the NO PAD binary ones have other names on MySQL
     * 8.0 (utf8mb4_0900_bin) and MariaDB 10.11 (utf8mb4_nopad_bin) */
    SQLD_TEXT,
    SQLD_INT, /* a 64-bit integer */
    /* an exact decimal with kpic's 18 places: DECIMAL(38,18), the widest most engines
     * have (kpic's values reach 1.7e20, 21 digits before the point: PostgreSQL's
     * NUMERIC(39,18) holds them all; MySQL's DECIMAL(65,18) is wider still, since MySQL
     * clamps a value that does not fit to the type's largest, silently) */
    SQLD_EXACT,
    SQLD_MONEY, /* DECIMAL(20,2) */
    SQLD_DATE,
    SQLD_BOOL,
    /* what a quotient or an average is computed in: the engine's exact NUMERIC where
     * division keeps enough places (PostgreSQL, MySQL's DECIMAL(65,30)), else DOUBLE */
    SQLD_FRACTION
} sqld_type;

/* "sqlite", "postgres", "duckdb", "mysql", "spark", "trino". */
const char *sqld_name(sqld_dialect d);
/* The dialect called NAME; false when there is none. */
bool sqld_parse(const char *name, sqld_dialect *out);
/* "sqlite, postgres, duckdb, mysql, spark or trino", for messages. */
const char *sqld_names(void);

/* NAME (UTF-8, LEN bytes) as a quoted identifier: "na""me" or `na``me`. NULL when it
 * holds a NUL byte or is empty. */
const char *sqld_ident(arena *mem, sqld_dialect d, const char *name, size_t len);
/* A possibly qualified table name, `schema.table` or `catalog.schema.table`: each part
 * between dots quoted. NULL when a part is empty or holds a NUL. */
const char *sqld_table(arena *mem, sqld_dialect d, const char *name);

/* TEXT (LEN bytes of UTF-8) as a string literal that means exactly those bytes. NULL
 * when it holds a NUL byte. */
const char *sqld_string(arena *mem, sqld_dialect d, const char *text, size_t len);
/* A date literal: DATE '2025-05-01' (sqlite keeps dates as ISO text: '2025-05-01'). */
const char *sqld_date(arena *mem, sqld_dialect d, date_t date);
/* An exact decimal literal with no more places than it needs: 0.25, (-3), 1300. */
const char *sqld_number(arena *mem, sqld_dialect d, dec_t value);
/* TRUE / FALSE (1 / 0 in sqlite, which has no boolean type). */
const char *sqld_bool(arena *mem, sqld_dialect d, bool value);
/* The type's name in the dialect. */
const char *sqld_type_name(sqld_dialect d, sqld_type type);
/* CAST(EXPR AS type). */
const char *sqld_cast(arena *mem, sqld_dialect d, const char *expr, sqld_type type);
/* EXPR, a SQLD_TEXT, as a text column of the statement's result: itself, but on
 * MySQL/MariaDB its binary string converted to utf8mb4. */
const char *sqld_result_text(arena *mem, sqld_dialect d, const char *expr);

/* REF, a column of 64-bit integers, as the statement reads it: as a DECIMAL(20,0) where
 * the engine's BIGINT arithmetic overflows past 2^63 (Spark, Trino), so that a sum of
 * ints is exact as in kpic. */
const char *sqld_int_column(arena *mem, sqld_dialect d, const char *ref);
/* A / B, null when B is zero or null (never an error). PostgreSQL and MySQL divide
 * exact decimals and round the quotient half away from zero to 18 places, as kpic does;
 * the other engines divide in SQLD_FRACTION (DOUBLE, sqlite's REAL). */
const char *sqld_divide(arena *mem, sqld_dialect d, const char *a, const char *b);
/* A × B; rounded half away from zero to 18 places where the engine keeps more (the
 * engines that divide exactly), as kpic rounds every product. */
const char *sqld_multiply(arena *mem, sqld_dialect d, const char *a, const char *b);
/* The exact sum of a money expression over a group's rows; null over none. PLACES: the
 * places every row's value has at most (a money column 2, amount × 1.005 5), or -1 when
 * unknown. sqlite, whose decimals are doubles, sums whole units of the last place as
 * integers and divides once at the end (at most 6 places; else, or when PLACES is
 * unknown, its REAL sum): rounding each row to cents gave 3.00 for three rows of 1.005,
 * not kpic's 3.015. */
const char *sqld_sum_money(arena *mem, sqld_dialect d, const char *arg, int places);
/* B − A in days, for two dates (kpic's days(A, B)). */
const char *sqld_days_between(arena *mem, sqld_dialect d, const char *a, const char *b);
/* Whether GROUP BY GROUPING SETS exists (else the renderer writes UNION ALL). */
bool sqld_has_grouping_sets(sqld_dialect d);
/* The most tables one values SELECT may join (MySQL/MariaDB 61; sqlite 61 of its 64,
 * since it flattens the cells into the join); 0 for no limit. */
int sqld_max_join_tables(sqld_dialect d);
/* The most CTEs one WITH may hold (MariaDB 64, a bit map of them); 0 for no limit. */
int sqld_max_ctes(sqld_dialect d);

#endif
