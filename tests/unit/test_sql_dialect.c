/* Unit tests of sql_dialect.h: hostile names and strings (quotes, backslashes, `--`,
 * `;`, Chinese, NUL) written per dialect so that they mean themselves, and the other
 * spellings the renderer relies on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kpic/sql_dialect.h"

static arena mem;

static const char *str(sqld_dialect d, const char *s)
{
    return sqld_string(&mem, d, s, strlen(s));
}

static const char *ident(sqld_dialect d, const char *s)
{
    return sqld_ident(&mem, d, s, strlen(s));
}

static void names(void **state)
{
    (void)state;
    sqld_dialect d;
    for (int k = 0; k < SQLD_COUNT; k++) {
        assert_true(sqld_parse(sqld_name((sqld_dialect)k), &d));
        assert_int_equal(d, k);
    }
    assert_false(sqld_parse("postgresql", &d));
    assert_false(sqld_parse("", &d));
}

static void identifiers(void **state)
{
    (void)state;
    assert_string_equal(ident(SQLD_POSTGRES, "end"), "\"end\"");
    assert_string_equal(ident(SQLD_POSTGRES, "a\"b; DROP TABLE x; --"), "\"a\"\"b; DROP TABLE x; --\"");
    assert_string_equal(ident(SQLD_MYSQL, "a`b"), "`a``b`");
    assert_string_equal(ident(SQLD_SPARK, "复购率_按人"), "`复购率_按人`");
    assert_string_equal(ident(SQLD_TRINO, "a\\b"), "\"a\\b\"");
    assert_null(sqld_ident(&mem, SQLD_SQLITE, "a\0b", 3));
    assert_null(sqld_ident(&mem, SQLD_SQLITE, "", 0));
    assert_string_equal(sqld_table(&mem, SQLD_TRINO, "hive.sales.orders"), "\"hive\".\"sales\".\"orders\"");
    assert_string_equal(sqld_table(&mem, SQLD_SPARK, "db.or`ders"), "`db`.`or``ders`");
    assert_null(sqld_table(&mem, SQLD_POSTGRES, "sales..orders"));
    assert_null(sqld_table(&mem, SQLD_POSTGRES, "orders."));
}

static void strings(void **state)
{
    (void)state;
    const char *hostile = "it's a \\ '; DROP TABLE orders; -- 中文";
    assert_string_equal(str(SQLD_POSTGRES, hostile), "'it''s a \\ ''; DROP TABLE orders; -- 中文'");
    assert_string_equal(str(SQLD_SQLITE, hostile), "'it''s a \\ ''; DROP TABLE orders; -- 中文'");
    assert_string_equal(str(SQLD_DUCKDB, "\\"), "'\\'");
    assert_string_equal(str(SQLD_TRINO, "''"), "''''''");
    /* MySQL: a backslash is its character code, whatever NO_BACKSLASH_ESCAPES says */
    assert_string_equal(str(SQLD_MYSQL, hostile),
                        "concat('it''s a ', char(92 using utf8mb4), ' ''; DROP TABLE orders; -- 中文')");
    assert_string_equal(str(SQLD_MYSQL, "it's"), "'it''s'");
    /* Spark: neither a quote nor a backslash inside a literal */
    assert_string_equal(
        str(SQLD_SPARK, hostile),
        "concat('it', chr(39), 's a ', chr(92), ' ', chr(39), '; DROP TABLE orders; -- 中文')");
    assert_string_equal(str(SQLD_SPARK, "plain 中文"), "'plain 中文'");
    for (int d = 0; d < SQLD_COUNT; d++) assert_null(sqld_string(&mem, (sqld_dialect)d, "a\0b", 3));
    assert_string_equal(str(SQLD_POSTGRES, ""), "''");
}

static void literals(void **state)
{
    (void)state;
    dec_t v;
    assert_int_equal(dec_parse("-12.50", 6, 18, &v), DEC_OK);
    assert_string_equal(sqld_number(&mem, SQLD_POSTGRES, v), "(-12.5)");
    assert_int_equal(dec_parse("1300", 4, 18, &v), DEC_OK);
    assert_string_equal(sqld_number(&mem, SQLD_SPARK, v), "1300");
    date_t day;
    assert_int_equal(date_parse("2025-05-01", 10, &day), DATE_OK);
    assert_string_equal(sqld_date(&mem, SQLD_TRINO, day), "DATE '2025-05-01'");
    assert_string_equal(sqld_date(&mem, SQLD_SQLITE, day), "'2025-05-01'");
    assert_string_equal(sqld_bool(&mem, SQLD_SQLITE, true), "1");
    assert_string_equal(sqld_bool(&mem, SQLD_MYSQL, false), "FALSE");
}

static void arithmetic(void **state)
{
    (void)state;
    assert_string_equal(sqld_divide(&mem, SQLD_SPARK, "a", "b"),
                        "(CAST(a AS DOUBLE) / NULLIF(CAST(b AS DOUBLE), 0))");
    assert_string_equal(sqld_divide(&mem, SQLD_POSTGRES, "a", "b"),
                        "ROUND(CAST(a AS NUMERIC(81,60)) / NULLIF(CAST(b AS NUMERIC(81,60)), 0), 18)");
    assert_string_equal(sqld_divide(&mem, SQLD_MYSQL, "a", "b"),
                        "ROUND(CAST(a AS DECIMAL(65,30)) / NULLIF(CAST(b AS DECIMAL(65,30)), 0), 18)");
    assert_string_equal(sqld_multiply(&mem, SQLD_POSTGRES, "a", "b"), "ROUND(a * b, 18)");
    assert_string_equal(sqld_multiply(&mem, SQLD_DUCKDB, "a", "b"), "(a * b)");
    assert_string_equal(sqld_sum_money(&mem, SQLD_SQLITE, "x", 2),
                        "(SUM(CAST(ROUND((x) * 100) AS INTEGER)) / 100.0)");
    /* amount * 1.005: each row's 5 places summed exactly, not each row rounded to cents */
    assert_string_equal(sqld_sum_money(&mem, SQLD_SQLITE, "x", 5),
                        "(SUM(CAST(ROUND((x) * 100000) AS INTEGER)) / 100000.0)");
    assert_string_equal(sqld_sum_money(&mem, SQLD_SQLITE, "x", -1), "SUM(x)");
    assert_string_equal(sqld_sum_money(&mem, SQLD_SQLITE, "x", 7), "SUM(x)");
    assert_string_equal(sqld_sum_money(&mem, SQLD_DUCKDB, "x", 2), "SUM(x)");
    /* MySQL text compares as bytes: no collation pads 'c1 ' to 'c1' or folds case */
    assert_string_equal(sqld_cast(&mem, SQLD_MYSQL, "x", SQLD_TEXT), "CAST(x AS BINARY)");
    assert_string_equal(sqld_result_text(&mem, SQLD_MYSQL, "x"), "CONVERT(x USING utf8mb4)");
    assert_string_equal(sqld_result_text(&mem, SQLD_POSTGRES, "x"), "x");
    assert_string_equal(sqld_int_column(&mem, SQLD_SPARK, "t.q"), "CAST(t.q AS DECIMAL(20,0))");
    assert_string_equal(sqld_int_column(&mem, SQLD_DUCKDB, "t.q"), "t.q");
    assert_string_equal(sqld_days_between(&mem, SQLD_MYSQL, "a", "b"), "DATEDIFF(b, a)");
    assert_string_equal(sqld_days_between(&mem, SQLD_POSTGRES, "a", "b"), "(b - a)");
    assert_true(sqld_has_grouping_sets(SQLD_SPARK));
    assert_false(sqld_has_grouping_sets(SQLD_MYSQL));
    assert_false(sqld_has_grouping_sets(SQLD_SQLITE));
}

int main(void)
{
    arena_init(&mem);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names),    cmocka_unit_test(identifiers), cmocka_unit_test(strings),
        cmocka_unit_test(literals), cmocka_unit_test(arithmetic),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    arena_free(&mem);
    return failed;
}
