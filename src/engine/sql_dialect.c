/* sql_dialect.c — the spellings of each SQL engine (sql_dialect.h).
 *
 * Text literals are the one place where a spec's text meets SQL. They are written so
 * that no engine setting changes their meaning: PostgreSQL, DuckDB, sqlite and Trino
 * read '' as a quote and a backslash as itself; MySQL/MariaDB and Spark read a
 * backslash as an escape unless a setting says otherwise (NO_BACKSLASH_ESCAPES,
 * spark.sql.parser.escapedStringLiterals), so there a backslash — and in Spark a quote —
 * is never written inside a literal at all but concatenated as its character code.
 */
#include "kpic/sql_dialect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpic/buffer.h"

static const char *const dialect_names[SQLD_COUNT] = { "sqlite", "postgres", "duckdb",
                                                       "mysql",  "spark",    "trino" };

const char *sqld_name(sqld_dialect d)
{
    return dialect_names[d];
}

bool sqld_parse(const char *name, sqld_dialect *out)
{
    for (int d = 0; d < SQLD_COUNT; d++)
        if (!strcmp(name, dialect_names[d])) {
            *out = (sqld_dialect)d;
            return true;
        }
    return false;
}

const char *sqld_names(void)
{
    return "sqlite, postgres, duckdb, mysql, spark or trino";
}

/* Text is built in a byte buffer (buffer.h) and copied into the caller's arena. */
static const char *finish(arena *mem, byte_buf *b)
{
    const char *s = arena_strndup(mem, buf_text(b), b->len);
    buf_free(b);
    return s;
}

static bool backquoted(sqld_dialect d)
{
    return d == SQLD_MYSQL || d == SQLD_SPARK;
}

const char *sqld_ident(arena *mem, sqld_dialect d, const char *name, size_t len)
{
    if (len == 0 || memchr(name, '\0', len)) return NULL;
    char q = backquoted(d) ? '`' : '"';
    byte_buf b = { 0 };
    buf_add(&b, &q, 1);
    for (size_t i = 0; i < len; i++) {
        buf_add(&b, &name[i], 1);
        if (name[i] == q) buf_add(&b, &q, 1);
    }
    buf_add(&b, &q, 1);
    return finish(mem, &b);
}

const char *sqld_table(arena *mem, sqld_dialect d, const char *name)
{
    byte_buf b = { 0 };
    const char *p = name;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        const char *part = sqld_ident(mem, d, p, n);
        if (!part) {
            free(b.data);
            return NULL;
        }
        buf_puts(&b, part);
        if (!dot) break;
        buf_puts(&b, ".");
        p = dot + 1;
    }
    return finish(mem, &b);
}

const char *sqld_string(arena *mem, sqld_dialect d, const char *text, size_t len)
{
    if (memchr(text, '\0', len)) return NULL;
    byte_buf b = { 0 };
    /* the characters a literal of this dialect cannot hold as themselves, and the call
     * that gives each: concat('a', chr(92), 'b') */
    const char *awkward = d == SQLD_SPARK ? "\\'" : d == SQLD_MYSQL ? "\\" : "";
    bool split = false;
    for (size_t i = 0; i < len && !split; i++) split = text[i] && strchr(awkward, text[i]);
    if (!split) {
        buf_puts(&b, "'");
        for (size_t i = 0; i < len; i++) {
            buf_add(&b, &text[i], 1);
            if (text[i] == '\'') buf_add(&b, "'", 1);
        }
        buf_puts(&b, "'");
        return finish(mem, &b);
    }
    buf_puts(&b, "concat('");
    for (size_t i = 0; i < len; i++) {
        if (text[i] && strchr(awkward, text[i])) {
            char code[48];
            snprintf(code, sizeof code, d == SQLD_MYSQL ? "', char(%d using utf8mb4), '" : "', chr(%d), '",
                     (unsigned char)text[i]);
            buf_puts(&b, code);
            continue;
        }
        buf_add(&b, &text[i], 1);
        if (text[i] == '\'') buf_add(&b, "'", 1);
    }
    buf_puts(&b, "')");
    return finish(mem, &b);
}

const char *sqld_date(arena *mem, sqld_dialect d, date_t date)
{
    char text[DATE_FORMAT_SIZE];
    date_format(date, text, sizeof text);
    return d == SQLD_SQLITE ? arena_printf(mem, "'%s'", text) : arena_printf(mem, "DATE '%s'", text);
}

const char *sqld_number(arena *mem, sqld_dialect d, dec_t value)
{
    (void)d;
    char text[DEC_FORMAT_SIZE];
    dec_format(value, DEC_PLACES, text, sizeof text);
    char *point = strchr(text, '.');
    if (point) {
        char *end = text + strlen(text);
        while (end > point + 1 && end[-1] == '0') end--;
        if (end == point + 1) end = point;
        *end = '\0';
    }
    return text[0] == '-' ? arena_printf(mem, "(%s)", text) : arena_strndup(mem, text, strlen(text));
}

const char *sqld_bool(arena *mem, sqld_dialect d, bool value)
{
    (void)mem;
    if (d == SQLD_SQLITE) return value ? "1" : "0";
    return value ? "TRUE" : "FALSE";
}

const char *sqld_type_name(sqld_dialect d, sqld_type type)
{
    static const char *const names[SQLD_COUNT][7] = {
        /* TEXT       INT        EXACT              MONEY             DATE    BOOL       FRACTION */
        { "TEXT", "INTEGER", "NUMERIC", "NUMERIC", "TEXT", "INTEGER", "REAL" },
        { "TEXT", "BIGINT", "NUMERIC(39,18)", "NUMERIC(20,2)", "DATE", "BOOLEAN", "NUMERIC" },
        { "VARCHAR", "BIGINT", "DECIMAL(38,18)", "DECIMAL(20,2)", "DATE", "BOOLEAN", "DOUBLE" },
        { "BINARY", "SIGNED", "DECIMAL(65,18)", "DECIMAL(20,2)", "DATE", "SIGNED", "DECIMAL(65,30)" },
        { "STRING", "BIGINT", "DECIMAL(38,18)", "DECIMAL(20,2)", "DATE", "BOOLEAN", "DOUBLE" },
        { "VARCHAR", "BIGINT", "DECIMAL(38,18)", "DECIMAL(20,2)", "DATE", "BOOLEAN", "DOUBLE" },
    };
    return names[d][type];
}

const char *sqld_cast(arena *mem, sqld_dialect d, const char *expr, sqld_type type)
{
    return arena_printf(mem, "CAST(%s AS %s)", expr, sqld_type_name(d, type));
}

const char *sqld_result_text(arena *mem, sqld_dialect d, const char *expr)
{
    /* clients print a binary string as hex (MySQL's --binary-as-hex) or as raw bytes */
    if (d == SQLD_MYSQL) return arena_printf(mem, "CONVERT(%s USING utf8mb4)", expr);
    return expr;
}

const char *sqld_int_column(arena *mem, sqld_dialect d, const char *ref)
{
    /* Spark and Trino add BIGINTs in BIGINT, SUM included: past 2^63 an error (Trino,
     * Spark's ANSI mode) or, in Spark without ANSI mode, a silently wrapped figure */
    if (d == SQLD_SPARK || d == SQLD_TRINO) return arena_printf(mem, "CAST(%s AS DECIMAL(20,0))", ref);
    return ref;
}

/* Where the engine divides exact decimals, the quotient is computed with places to
 * spare (PostgreSQL: 60, MySQL: its maximum, 30) and rounded half away from zero to
 * kpic's 18, the value kpic's own division gives. */
static const char *wide_fraction(sqld_dialect d)
{
    return d == SQLD_POSTGRES ? "NUMERIC(81,60)" : d == SQLD_MYSQL ? "DECIMAL(65,30)" : NULL;
}

const char *sqld_divide(arena *mem, sqld_dialect d, const char *a, const char *b)
{
    const char *wide = wide_fraction(d);
    if (wide)
        return arena_printf(mem, "ROUND(CAST(%s AS %s) / NULLIF(CAST(%s AS %s), 0), %d)", a, wide, b, wide,
                            DEC_PLACES);
    return arena_printf(mem, "(%s / NULLIF(%s, 0))", sqld_cast(mem, d, a, SQLD_FRACTION),
                        sqld_cast(mem, d, b, SQLD_FRACTION));
}

const char *sqld_multiply(arena *mem, sqld_dialect d, const char *a, const char *b)
{
    if (wide_fraction(d)) return arena_printf(mem, "ROUND(%s * %s, %d)", a, b, DEC_PLACES);
    return arena_printf(mem, "(%s * %s)", a, b);
}

/* sqlite sums whole units of the last place as integers, which are exact up to 2^63:
 * amounts below 9.2e16 at 2 places, 9.2e12 at 6. */
#define SQLITE_MAX_SUM_PLACES 6

const char *sqld_sum_money(arena *mem, sqld_dialect d, const char *arg, int places)
{
    if (d != SQLD_SQLITE || places < 0 || places > SQLITE_MAX_SUM_PLACES)
        return arena_printf(mem, "SUM(%s)", arg);
    /* at least cents: a money column is read as a REAL, 10.1 as 10.0999… */
    if (places < 2) places = 2;
    long long unit = 1;
    for (int i = 0; i < places; i++) unit *= 10;
    return arena_printf(mem, "(SUM(CAST(ROUND((%s) * %lld) AS INTEGER)) / %lld.0)", arg, unit, unit);
}

const char *sqld_days_between(arena *mem, sqld_dialect d, const char *a, const char *b)
{
    switch (d) {
    case SQLD_SQLITE: return arena_printf(mem, "CAST(julianday(%s) - julianday(%s) AS INTEGER)", b, a);
    case SQLD_POSTGRES: return arena_printf(mem, "(%s - %s)", b, a);
    case SQLD_MYSQL: return arena_printf(mem, "DATEDIFF(%s, %s)", b, a);
    case SQLD_SPARK: return arena_printf(mem, "datediff(%s, %s)", b, a);
    case SQLD_DUCKDB:
    case SQLD_TRINO:
    default: return arena_printf(mem, "date_diff('day', %s, %s)", a, b);
    }
}

bool sqld_has_grouping_sets(sqld_dialect d)
{
    return d == SQLD_POSTGRES || d == SQLD_DUCKDB || d == SQLD_SPARK || d == SQLD_TRINO;
}

/* sqlite's own limit is 64, but it flattens the cells CTE (requested × roster) into the
 * join that reads it: 61 keeps the same margin as MySQL's. */
int sqld_max_join_tables(sqld_dialect d)
{
    return d == SQLD_MYSQL || d == SQLD_SQLITE ? 61 : 0;
}

int sqld_max_ctes(sqld_dialect d)
{
    return d == SQLD_MYSQL ? 64 : 0;
}
