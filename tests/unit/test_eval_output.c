/* Unit tests for the output of `kpic eval` (eval_output.c): values for people by
 * unit (rounding half away from zero, thousands separators, percentages, n/a),
 * display widths of UTF-8 text, and the exact table, JSON and CSV bytes for a grid
 * of values built in memory, without a spec, data or evaluation session. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "eval_output.h"

/* ---- helpers ------------------------------------------------------------------------ */

static dec_t N(const char *text)
{
    dec_t d;
    if (dec_parse(text, strlen(text), DEC_PLACES, &d) != DEC_OK) fail_msg("bad test number %s", text);
    return d;
}

static eval_value num(const char *text)
{
    eval_value v = { .kind = VAL_NUM };
    v.as.num = N(text);
    return v;
}

/* A / B to 18 places, as the evaluator divides. */
static eval_value quotient(const char *a, const char *b)
{
    eval_value v = { .kind = VAL_NUM };
    assert_int_equal(dec_div(N(a), N(b), DEC_PLACES, &v.as.num), DEC_OK);
    return v;
}

static const eval_value null_value = { .kind = VAL_NULL };

static period_t month(const char *text)
{
    period_t p;
    char msg[PERIOD_MESSAGE_SIZE];
    if (period_parse(text, strlen(text), GRAIN_MONTH, &p, msg, sizeof msg) != PERIOD_OK)
        fail_msg("period_parse(%s): %s", text, msg);
    return p;
}

/* eval_format_value of V in UNIT is exactly WANT. */
static void check_text(eval_value v, ast_unit unit, const char *want)
{
    char buf[128];
    size_t n = eval_format_value(v, unit, buf, sizeof buf);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
}

static void check_num(const char *value, ast_unit unit, const char *want)
{
    check_text(num(value), unit, want);
}

static ast_decl indicator(const char *name, const char *label, ast_unit unit, bool per_staff)
{
    ast_decl d;
    memset(&d, 0, sizeof d);
    d.kind = DECL_INDICATOR;
    d.name = name;
    d.u.indicator.label = label;
    d.u.indicator.unit = unit;
    d.u.indicator.per_staff = per_staff;
    return d;
}

/* A grid of at most 4 periods x 6 indicators x (total + 4 staff), values by index. */
#define MAX_P 4
#define MAX_I 6
#define MAX_S 4

typedef struct fixture {
    period_t periods[MAX_P];
    ast_decl decls[MAX_I];
    ast_decl *indicators[MAX_I];
    eval_staff staff[MAX_S];
    eval_source_stats sources[3];
    eval_value values[MAX_P][MAX_I][1 + MAX_S]; /* [..][..][0] is the total */
    int calls_for_absent_staff;                 /* staff values asked of team-wide ones */
    eval_grid grid;
} fixture;

static eval_value fixture_value(void *ctx, size_t period, size_t indicator, int staff)
{
    fixture *f = ctx;
    assert_true(period < f->grid.period_count);
    assert_true(indicator < f->grid.indicator_count);
    assert_true(staff >= -1 && staff < (int)f->grid.staff_count);
    if (staff >= 0 && !f->decls[indicator].u.indicator.per_staff) f->calls_for_absent_staff++;
    return f->values[period][indicator][staff + 1];
}

static void fixture_link(fixture *f, size_t periods, size_t indicators, size_t staff, size_t sources)
{
    for (size_t i = 0; i < indicators; i++) f->indicators[i] = &f->decls[i];
    f->grid.periods = f->periods;
    f->grid.period_count = periods;
    f->grid.indicators = f->indicators;
    f->grid.indicator_count = indicators;
    f->grid.staff = f->staff;
    f->grid.staff_count = staff;
    f->grid.sources = f->sources;
    f->grid.source_count = sources;
    f->grid.value = fixture_value;
    f->grid.ctx = f;
}

static void set_source(eval_source_stats *s, const char *name, const char *path, char fill, uint64_t rows,
                       uint64_t skipped, bool read)
{
    memset(s, 0, sizeof *s);
    s->name = name;
    s->path = path;
    memset(s->sha256, fill, 64);
    s->sha256[64] = '\0';
    s->rows = rows;
    s->skipped = skipped;
    s->read = read;
}

/* The example of docs/json.md and a bit more: one month, a per-staff percent with a
 * null, a team-wide money total, a count without a label; two staff members with
 * Chinese names; the roster and orders read, a third source not read. */
static fixture *make_example(void)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->periods[0] = month("2025-05");
    f->decls[0] = indicator("repurchase_rate", "复购率", UNIT_PERCENT, true);
    f->decls[1] = indicator("gmv", "成交额 GMV", UNIT_MONEY, false);
    f->decls[2] = indicator("orders", NULL, UNIT_COUNT, true);
    f->staff[0] = (eval_staff){ .id = "s01", .name = "张三", .role = "promotion" };
    f->staff[1] = (eval_staff){ .id = "s02", .name = "李四", .role = "promotion" };
    f->values[0][0][0] = num("0.25");
    f->values[0][0][1] = num("0.5");
    f->values[0][0][2] = null_value;
    f->values[0][1][0] = num("-1234.005");
    f->values[0][2][0] = num("1300");
    f->values[0][2][1] = num("800");
    f->values[0][2][2] = num("500");
    set_source(&f->sources[0], "staff", "data/staff.csv", 'a', 2, 0, true);
    set_source(&f->sources[1], "orders", "data/orders.csv", 'b', 1000, 3, true);
    set_source(&f->sources[2], "refunds", "data/refunds.csv", 'c', 0, 0, false);
    f->sources[1].outside_periods = 4;
    fixture_link(f, 1, 3, 2, 3);
    return f;
}

static char *render(fixture *f, eval_format format)
{
    size_t len = 0;
    char *out = eval_render_grid(&f->grid, format, &len);
    assert_non_null(out);
    assert_int_equal(strlen(out), len);
    return out;
}

/* The LINE-th line (0-based) of TEXT, malloc'd, without its newline. */
static char *line_of(const char *text, int line)
{
    const char *p = text;
    for (int i = 0; i < line; i++) {
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    size_t n = strcspn(p, "\n");
    char *out = malloc(n + 1);
    memcpy(out, p, n);
    out[n] = '\0';
    return out;
}

/* Display columns before the first occurrence of NEEDLE in LINE. */
static size_t column_of(const char *line, const char *needle)
{
    const char *at = strstr(line, needle);
    if (!at) fail_msg("'%s' not in '%s'", needle, line);
    char *prefix = strndup(line, (size_t)(at - line));
    size_t w = eval_display_width(prefix);
    free(prefix);
    return w;
}

/* ---- values for people ---------------------------------------------------------------- */

static void test_count(void **state)
{
    (void)state;
    check_num("1300", UNIT_COUNT, "1300");
    check_num("0", UNIT_COUNT, "0");
    check_num("-7", UNIT_COUNT, "-7");
    check_num("2.5", UNIT_COUNT, "2.5");
    check_num("2.345", UNIT_COUNT, "2.35");
    check_num("2.3449", UNIT_COUNT, "2.34");
    check_num("1234567", UNIT_COUNT, "1234567");
}

static void test_money(void **state)
{
    (void)state;
    check_num("12345.6", UNIT_MONEY, "12,345.60");
    check_num("-1234", UNIT_MONEY, "-1,234.00");
    check_num("0", UNIT_MONEY, "0.00");
    check_num("123", UNIT_MONEY, "123.00");
    check_num("1000", UNIT_MONEY, "1,000.00");
    check_num("999999.99", UNIT_MONEY, "999,999.99");
    check_num("1234567.891", UNIT_MONEY, "1,234,567.89");
    check_num("-100000", UNIT_MONEY, "-100,000.00");
    /* half away from zero, exactly in decimal */
    check_num("0.005", UNIT_MONEY, "0.01");
    check_num("-0.005", UNIT_MONEY, "-0.01");
    check_num("0.004999", UNIT_MONEY, "0.00");
    check_num("-0.004", UNIT_MONEY, "0.00"); /* no "-0.00" */
    check_num("3410.275", UNIT_MONEY, "3,410.28");
    check_num("999.995", UNIT_MONEY, "1,000.00");
    check_num("1.015", UNIT_MONEY, "1.02"); /* 1.015 is 1.01499… as a double */
    check_num("170141183460469231731.687303715884105727", UNIT_MONEY, "170,141,183,460,469,231,731.69");
}

static void test_percent(void **state)
{
    (void)state;
    check_num("0.25", UNIT_PERCENT, "25%");
    check_text(quotient("1", "3"), UNIT_PERCENT, "33.3%");
    check_text(quotient("2", "3"), UNIT_PERCENT, "66.7%");
    check_text(quotient("-1", "3"), UNIT_PERCENT, "-33.3%");
    check_num("0", UNIT_PERCENT, "0%");
    check_num("1", UNIT_PERCENT, "100%");
    check_num("1.5", UNIT_PERCENT, "150%");
    check_num("0.05", UNIT_PERCENT, "5%");
    check_num("0.0005", UNIT_PERCENT, "0.1%"); /* 0.05% rounds away from zero */
    check_num("0.00049", UNIT_PERCENT, "0%");
    check_num("-0.0004", UNIT_PERCENT, "0%");
    check_num("-0.1234", UNIT_PERCENT, "-12.3%");
    check_num("0.1235", UNIT_PERCENT, "12.4%");
    check_num("12.3456", UNIT_PERCENT, "1234.6%");
    /* the edge of the range: no overflow from multiplying by 100 */
    check_num("170141183460469231731.687303715884105727", UNIT_PERCENT, "17014118346046923173168.7%");
}

static void test_ratio_and_plain_numbers(void **state)
{
    (void)state;
    check_num("3.2", UNIT_RATIO, "3.2");
    check_num("0.25", UNIT_RATIO, "0.25");
    check_text(quotient("1", "3"), UNIT_RATIO, "0.33");
    check_num("3", UNIT_RATIO, "3");
    check_num("3.0", UNIT_NUMBER, "3");
    check_num("-2.005", UNIT_NUMBER, "-2.01");
    check_num("-0.001", UNIT_NUMBER, "0");
    check_num("1.005", UNIT_DAYS, "1.01");
    check_num("4.5", UNIT_DAYS, "4.5");
    check_num("104.166666", UNIT_POINTS, "104.17");
    check_num("12345.5", UNIT_POINTS, "12345.5");
}

static void test_null_date_bool_text(void **state)
{
    (void)state;
    for (int u = UNIT_COUNT; u <= UNIT_POINTS; u++) check_text(null_value, (ast_unit)u, "n/a");
    eval_value d = { .kind = VAL_DATE };
    assert_int_equal(date_parse("2025-05-01", 10, &d.as.date), DATE_OK);
    check_text(d, UNIT_DAYS, "2025-05-01");
    eval_value b = { .kind = VAL_BOOL };
    b.as.b = true;
    check_text(b, UNIT_NUMBER, "true");
    b.as.b = false;
    check_text(b, UNIT_NUMBER, "false");
    eval_value t = { .kind = VAL_TEXT };
    t.as.text = "线上, online";
    check_text(t, UNIT_NUMBER, "线上, online");
}

/* snprintf contract: the full length is returned; the buffer is always terminated. */
static void test_format_truncates_like_snprintf(void **state)
{
    (void)state;
    char buf[6];
    memset(buf, 'x', sizeof buf);
    assert_int_equal(eval_format_value(num("12345.6"), UNIT_MONEY, buf, sizeof buf), 9);
    assert_string_equal(buf, "12,34");
    assert_int_equal(eval_format_value(null_value, UNIT_MONEY, NULL, 0), 3);
    buf[0] = 'x';
    assert_int_equal(eval_format_value(num("1"), UNIT_PERCENT, buf, 1), 4);
    assert_int_equal(buf[0], '\0');
}

/* ---- display width -------------------------------------------------------------------- */

static void test_display_width(void **state)
{
    (void)state;
    assert_int_equal(eval_display_width(""), 0);
    assert_int_equal(eval_display_width("gmv"), 3);
    assert_int_equal(eval_display_width("复购率"), 6);
    assert_int_equal(eval_display_width("成交额 GMV"), 10);
    assert_int_equal(eval_display_width("e\xCC\x81"), 1); /* e + combining acute */
    assert_int_equal(eval_display_width("a\xFF"
                                        "b"),
                     3);                                     /* bad byte: one column */
    assert_int_equal(eval_display_width("\xEF\xBC\xA1"), 2); /* fullwidth A */

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    eval_write_padded(f, "复购率", 8, false);
    fputc('|', f);
    eval_write_padded(f, "25%", 6, true);
    fputc('|', f);
    eval_write_padded(f, "toolong", 3, false);
    fclose(f);
    assert_string_equal(buf, "复购率  |   25%|toolong");
    free(buf);
}

/* ---- JSON ----------------------------------------------------------------------------- */

static const char EXAMPLE_JSON[] =
    "{\"periods\": [\"2025-05\"],\n"
    " \"indicators\": [\n"
    "  {\"name\": \"repurchase_rate\", \"label\": \"复购率\", \"unit\": \"percent\",\n"
    "   \"values\": [\n"
    "    {\"period\": \"2025-05\", \"total\": 0.25, \"staff\": {\"s01\": 0.5, \"s02\": null}}]},\n"
    "  {\"name\": \"gmv\", \"label\": \"成交额 GMV\", \"unit\": \"money\",\n"
    "   \"values\": [\n"
    "    {\"period\": \"2025-05\", \"total\": -1234.01}]},\n"
    "  {\"name\": \"orders\", \"label\": null, \"unit\": \"count\",\n"
    "   \"values\": [\n"
    "    {\"period\": \"2025-05\", \"total\": 1300, \"staff\": {\"s01\": 800, \"s02\": 500}}]}],\n"
    " \"sources\": [\n"
    "  {\"name\": \"staff\", \"path\": \"data/staff.csv\", \"sha256\": "
    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", \"rows\": 2, "
    "\"skipped\": 0},\n"
    "  {\"name\": \"orders\", \"path\": \"data/orders.csv\", \"sha256\": "
    "\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\", \"rows\": 1000, "
    "\"skipped\": 3}]}\n";

static void test_json_exact(void **state)
{
    (void)state;
    fixture *f = make_example();
    char *out = render(f, EVAL_FORMAT_JSON);
    assert_string_equal(out, EXAMPLE_JSON);
    /* team-wide indicators are never asked for staff values */
    assert_int_equal(f->calls_for_absent_staff, 0);
    free(out);
    free(f);
}

/* Money to at most 2 places as a number, fractions as plain shortest doubles,
 * integers as exact digits, dates and text as strings. */
static void test_json_numbers(void **state)
{
    (void)state;
    fixture *f = calloc(1, sizeof *f);
    f->periods[0] = month("2025-05");
    f->decls[0] = indicator("m", "钱", UNIT_MONEY, false);
    f->decls[1] = indicator("p", "\"quoted\"\n", UNIT_PERCENT, false);
    f->decls[2] = indicator("c", NULL, UNIT_COUNT, false);
    f->decls[3] = indicator("d", NULL, UNIT_DAYS, false);
    f->decls[4] = indicator("r", NULL, UNIT_RATIO, false);
    f->decls[5] = indicator("t", NULL, UNIT_NUMBER, false);
    fixture_link(f, 1, 6, 0, 0);
    struct {
        eval_value v[6];
        const char *want[6];
    } cases[] = {
        { { num("0.005"), quotient("1", "3"), num("2.5"), num("1.5"), num("3.2"), num("0.1") },
          { "0.01", "0.3333333333333333", "2.5", "1.5", "3.2", "0.1" } },
        { { num("12.5"), num("0.25"), num("1300"), num("3"), num("3"), num("-0.000001") },
          { "12.5", "0.25", "1300", "3", "3", "-1e-06" } },
        { { num("-1234.565"), num("1.5"), num("0"), num("-2"), num("0.1"), num("123456789012345678") },
          { "-1234.57", "1.5", "0", "-2", "0.1", "123456789012345678" } },
        { { num("100.00"), null_value, null_value, null_value, null_value, null_value },
          { "100", "null", "null", "null", "null", "null" } },
        { { num("-0.004"), num("-0.25"), num("0.5"), num("0"), num("0"), num("0") },
          { "0", "-0.25", "0.5", "0", "0", "0" } },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int i = 0; i < 6; i++) f->values[0][i][0] = cases[c].v[i];
        char *out = render(f, EVAL_FORMAT_JSON);
        for (int i = 0; i < 6; i++) {
            char want[128];
            snprintf(want, sizeof want, "\"total\": %s}]}%s", cases[c].want[i], i < 5 ? "," : "],");
            char *line = line_of(out, 4 + 3 * i);
            assert_non_null(strstr(line, "\"total\""));
            assert_string_equal(strstr(line, "\"total\""), want);
            free(line);
        }
        if (c == 0) assert_non_null(strstr(out, "\"label\": \"\\\"quoted\\\"\\n\""));
        free(out);
    }

    eval_value date = { .kind = VAL_DATE }, text = { .kind = VAL_TEXT }, yes = { .kind = VAL_BOOL };
    assert_int_equal(date_parse("2025-05-31", 10, &date.as.date), DATE_OK);
    text.as.text = "a\"b";
    yes.as.b = true;
    f->values[0][0][0] = date;
    f->values[0][1][0] = text;
    f->values[0][2][0] = yes;
    char *out = render(f, EVAL_FORMAT_JSON);
    assert_non_null(strstr(out, "\"total\": \"2025-05-31\"}"));
    assert_non_null(strstr(out, "\"total\": \"a\\\"b\"}"));
    assert_non_null(strstr(out, "\"total\": true}"));
    free(out);
    free(f);
}

/* No indicators, no staff, no source read: still a complete document. */
static void test_json_empty(void **state)
{
    (void)state;
    fixture *f = calloc(1, sizeof *f);
    f->periods[0] = month("2025-01");
    f->periods[1] = month("2025-02");
    set_source(&f->sources[0], "orders", "o.csv", '0', 0, 0, false);
    fixture_link(f, 2, 0, 0, 1);
    char *out = render(f, EVAL_FORMAT_JSON);
    assert_string_equal(out, "{\"periods\": [\"2025-01\", \"2025-02\"],\n"
                             " \"indicators\": [],\n"
                             " \"sources\": []}\n");
    free(out);
    free(f);
}

/* Several periods, every format rendered twice: byte-identical; and python's json
 * module reads the JSON back with the values intended. */
static void test_deterministic_and_parseable(void **state)
{
    (void)state;
    fixture *f = make_example();
    f->periods[1] = month("2025-06");
    f->periods[2] = month("2025-07");
    for (int p = 1; p < 3; p++) memcpy(f->values[p], f->values[0], sizeof f->values[0]);
    f->values[2][0][2] = quotient("1", "3");
    f->decls[0].u.indicator.label = "复购率 \"x\", y\\z\t";
    f->grid.period_count = 3;
    for (int format = EVAL_FORMAT_TABLE; format <= EVAL_FORMAT_CSV; format++) {
        size_t len1, len2;
        char *a = eval_render_grid(&f->grid, (eval_format)format, &len1);
        char *b = eval_render_grid(&f->grid, (eval_format)format, &len2);
        assert_int_equal(len1, len2);
        assert_memory_equal(a, b, len1);
        free(a);
        free(b);
    }

    if (system("command -v python3 >/dev/null 2>&1") != 0) {
        free(f);
        skip();
    }
    char path[] = "/tmp/kpic_eval_output_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len;
    char *out = eval_render_grid(&f->grid, EVAL_FORMAT_JSON, &len);
    assert_int_equal(write(fd, out, len), (ssize_t)len);
    close(fd);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import json, sys\n"
             "d = json.load(open(sys.argv[1], encoding=\"utf-8\"))\n"
             "assert d[\"periods\"] == [\"2025-05\", \"2025-06\", \"2025-07\"], d\n"
             "r = d[\"indicators\"][0]\n"
             "assert r[\"label\"] == \"复购率 \\\"x\\\", y\\\\z\\t\", r\n"
             "assert r[\"values\"][2][\"staff\"] == {\"s01\": 0.5, \"s02\": 1/3}, r\n"
             "assert d[\"indicators\"][1][\"values\"][0] == {\"period\": \"2025-05\", "
             "\"total\": -1234.01}\n"
             "assert d[\"indicators\"][2][\"label\"] is None\n"
             "assert d[\"sources\"][1][\"skipped\"] == 3\n' %s",
             path);
    int rc = system(cmd);
    unlink(path);
    free(out);
    free(f);
    assert_int_equal(rc, 0);
}

/* ---- CSV ------------------------------------------------------------------------------- */

static void test_csv_exact(void **state)
{
    (void)state;
    fixture *f = make_example();
    f->decls[1].u.indicator.label = "成交额, \"GMV\"";
    f->decls[2].u.indicator.label = "two\nlines";
    f->staff[1].id = "s,02";
    char *out = render(f, EVAL_FORMAT_CSV);
    /* the skipped rows of the fixture's orders source on every row */
    assert_string_equal(out, "period,indicator,label,unit,staff_id,value,skipped\n"
                             "2025-05,repurchase_rate,复购率,percent,,0.25,orders: 3 rows skipped\n"
                             "2025-05,repurchase_rate,复购率,percent,s01,0.5,orders: 3 rows skipped\n"
                             "2025-05,repurchase_rate,复购率,percent,\"s,02\",,orders: 3 rows skipped\n"
                             "2025-05,gmv,\"成交额, \"\"GMV\"\"\",money,,-1234.01,orders: 3 rows skipped\n"
                             "2025-05,orders,\"two\nlines\",count,,1300,orders: 3 rows skipped\n"
                             "2025-05,orders,\"two\nlines\",count,s01,800,orders: 3 rows skipped\n"
                             "2025-05,orders,\"two\nlines\",count,\"s,02\",500,orders: 3 rows skipped\n");
    assert_int_equal(f->calls_for_absent_staff, 0);
    free(out);
    free(f);
}

/* Text a spreadsheet would run as a formula gets a ' before it; plain numbers, signed
 * or not, and other text stay as they are. */
static void test_csv_formula(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        { "=HYPERLINK(\"http://x\",\"pay\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"pay\"\")\"" },
        { "+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0" },
        { "-2+3", "'-2+3" },
        { "@SUM(A1)", "'@SUM(A1)" },
        { "\tx", "'\tx" },
        { "\r=1", "\"'\r=1\"" },
        { "=a,b", "\"'=a,b\"" },
        { "-12.5", "-12.5" },
        { "+3", "+3" },
        { "-", "'-" },
        { "a=b", "a=b" },
        { "王一", "王一" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        eval_write_csv_field(f, cases[i][0]);
        fclose(f);
        assert_string_equal(buf, cases[i][1]);
        free(buf);
    }
}

/* Period-major order over several periods; percent as a fraction; money rounding. */
static void test_csv_periods(void **state)
{
    (void)state;
    fixture *f = calloc(1, sizeof *f);
    f->periods[0] = month("2024-12");
    f->periods[1] = month("2025-01");
    f->decls[0] = indicator("rate", " padded ", UNIT_PERCENT, false);
    f->decls[1] = indicator("cost", "", UNIT_MONEY, false);
    f->values[0][0][0] = quotient("1", "3");
    f->values[0][1][0] = num("0.005");
    f->values[1][0][0] = null_value;
    f->values[1][1][0] = num("-0.005");
    fixture_link(f, 2, 2, 0, 0);
    char *out = render(f, EVAL_FORMAT_CSV);
    assert_string_equal(out, "period,indicator,label,unit,staff_id,value,skipped\n"
                             "2024-12,rate,\" padded \",percent,,0.3333333333333333,\n"
                             "2024-12,cost,,money,,0.01,\n"
                             "2025-01,rate,\" padded \",percent,,,\n"
                             "2025-01,cost,,money,,-0.01,\n");
    free(out);
    free(f);
}

/* ---- table ------------------------------------------------------------------------------ */

static const char EXAMPLE_TABLE[] =
    "2025-05 (2025-05-01 to 2025-05-31)\n"
    "  repurchase_rate  复购率            25%\n"
    "    s01 张三                         50%\n"
    "    s02 李四                         n/a\n"
    "  gmv              成交额 GMV  -1,234.01\n"
    "  orders                            1300\n"
    "    s01 张三                         800\n"
    "    s02 李四                         500\n"
    "\n"
    "source staff: 2 rows read, 0 skipped (data/staff.csv)\n"
    "source orders: 1,000 rows read, 3 skipped, 4 with an empty time column (data/orders.csv)\n";

static void test_table_exact(void **state)
{
    (void)state;
    fixture *f = make_example();
    char *out = render(f, EVAL_FORMAT_TABLE);
    assert_string_equal(out, EXAMPLE_TABLE);
    assert_int_equal(f->calls_for_absent_staff, 0);
    free(out);
    free(f);
}

/* Alignment in display columns: a Chinese label beside an ASCII one, values ending
 * in one column whatever the widths of names, labels and staff names. */
static void test_table_alignment(void **state)
{
    (void)state;
    fixture *f = make_example();
    f->decls[2].u.indicator.label = "orders (ASCII)";
    f->staff[0].name = "欧阳娜娜"; /* 8 columns */
    f->values[0][1][0] = num("1234567.891");
    char *out = render(f, EVAL_FORMAT_TABLE);

    char *rate = line_of(out, 1), *gmv = line_of(out, 4), *orders = line_of(out, 5);
    /* labels start in one column: Chinese "复购率" and ASCII "orders (ASCII)" */
    size_t label_col = column_of(rate, "复购率");
    assert_int_equal(label_col, 2 + strlen("repurchase_rate") + 2);
    assert_int_equal(column_of(gmv, "成交额"), label_col);
    assert_int_equal(column_of(orders, "orders (ASCII)"), label_col);

    /* every value row ends in the same display column, with the value right-aligned */
    size_t right = eval_display_width(gmv);
    for (int l = 1; l <= 7; l++) {
        char *line = line_of(out, l);
        assert_int_equal(eval_display_width(line), right);
        assert_int_not_equal(line[strlen(line) - 1], ' ');
        free(line);
    }
    char *s01 = line_of(out, 2);
    assert_int_equal(column_of(s01, "s01"), 4);
    assert_int_equal(column_of(s01, "50%"), right - 3);
    assert_int_equal(column_of(gmv, "1,234,567.89"), right - strlen("1,234,567.89"));
    /* the widest value, two spaces after the widest left text */
    assert_int_equal(column_of(gmv, "1,234,567.89"), label_col + eval_display_width("orders (ASCII)") + 2);

    free(rate);
    free(gmv);
    free(orders);
    free(s01);
    free(out);
    free(f);
}

/* Null as n/a, negative money, a staff member without a name, control characters
 * in a label, several periods sharing one layout, no source lines when none read. */
static void test_table_details(void **state)
{
    (void)state;
    fixture *f = calloc(1, sizeof *f);
    f->periods[0] = month("2025-01");
    f->periods[1] = month("2025-02");
    f->decls[0] = indicator("refund", "退款\n金额", UNIT_MONEY, true);
    f->decls[1] = indicator("share", NULL, UNIT_PERCENT, false);
    f->staff[0] = (eval_staff){ .id = "s01", .name = NULL };
    f->values[0][0][0] = num("-1234");
    f->values[0][0][1] = null_value;
    f->values[0][1][0] = quotient("1", "3");
    f->values[1][0][0] = num("0.005");
    f->values[1][0][1] = num("-0.005");
    f->values[1][1][0] = null_value;
    set_source(&f->sources[0], "orders", "o.csv", '0', 0, 0, false);
    fixture_link(f, 2, 2, 1, 1);
    char *out = render(f, EVAL_FORMAT_TABLE);
    assert_string_equal(out, "2025-01 (2025-01-01 to 2025-01-31)\n"
                             "  refund  退款 金额  -1,234.00\n"
                             "    s01                    n/a\n"
                             "  share                  33.3%\n"
                             "\n"
                             "2025-02 (2025-02-01 to 2025-02-28)\n"
                             "  refund  退款 金额       0.01\n"
                             "    s01                  -0.01\n"
                             "  share                    n/a\n");
    free(out);
    free(f);
}

/* A day period has no date range after its label; labels absent from every
 * indicator leave no empty label column. */
static void test_table_day_without_labels(void **state)
{
    (void)state;
    fixture *f = calloc(1, sizeof *f);
    char msg[PERIOD_MESSAGE_SIZE];
    assert_int_equal(period_parse("2025-05-17", 10, GRAIN_DAY, &f->periods[0], msg, sizeof msg), PERIOD_OK);
    f->decls[0] = indicator("a", NULL, UNIT_RATIO, false);
    f->decls[1] = indicator("longer_name", NULL, UNIT_DAYS, false);
    f->values[0][0][0] = num("3.2");
    f->values[0][1][0] = num("12.345");
    set_source(&f->sources[0], "tasks", "t.csv", 'f', 12345678, 0, true);
    fixture_link(f, 1, 2, 0, 1);
    char *out = render(f, EVAL_FORMAT_TABLE);
    assert_string_equal(out, "2025-05-17\n"
                             "  a              3.2\n"
                             "  longer_name  12.35\n"
                             "\n"
                             "source tasks: 12,345,678 rows read, 0 skipped (t.csv)\n");
    free(out);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count),
        cmocka_unit_test(test_money),
        cmocka_unit_test(test_percent),
        cmocka_unit_test(test_ratio_and_plain_numbers),
        cmocka_unit_test(test_null_date_bool_text),
        cmocka_unit_test(test_format_truncates_like_snprintf),
        cmocka_unit_test(test_display_width),
        cmocka_unit_test(test_json_exact),
        cmocka_unit_test(test_json_numbers),
        cmocka_unit_test(test_json_empty),
        cmocka_unit_test(test_deterministic_and_parseable),
        cmocka_unit_test(test_csv_exact),
        cmocka_unit_test(test_csv_periods),
        cmocka_unit_test(test_csv_formula),
        cmocka_unit_test(test_table_exact),
        cmocka_unit_test(test_table_alignment),
        cmocka_unit_test(test_table_details),
        cmocka_unit_test(test_table_day_without_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
