/* test_csv_reader.c -- unit tests for csv_reader.h: the CSV dialect, typed
 * cells, bad rows with true line numbers and raw bytes, header errors,
 * chunked reading equal to sequential reading, SHA-256 and progress.
 *
 * Most inputs are built in the test and read from memory or from a file in a
 * temporary directory; tests/data/csv/ holds the fixture with a known hash. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "kpic/csv_reader.h"

/* ---- helpers: run a pass and render what it saw as text ---------------------- */

/* A growing string. */
typedef struct text {
    char *s;
    size_t len, cap;
} text;

static void add(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (t->len + (size_t)n + 1 > t->cap) {
        t->cap = (t->len + (size_t)n + 1) * 2;
        t->s = realloc(t->s, t->cap);
        assert_non_null(t->s);
    }
    va_start(ap, fmt);
    vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

static void add_bytes(text *t, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) add(t, "%c", s[i]);
}

/* What a pass saw: one line per row or bad row. */
typedef struct seen {
    const csvr_column *cols;
    size_t ncols;
    bool skip;       /* skip bad rows instead of stopping */
    bool with_lines; /* record csvr_row_line and csvr_row_raw for good rows */
    int stop_after;  /* stop the pass after this many rows (0: never) */
    int rows, bad;
    text out;
} seen;

static void render_cell(text *t, const csvr_column *col, const csvr_cell *c)
{
    if (c->is_null) {
        add(t, "NULL");
        return;
    }
    char buf[DEC_FORMAT_SIZE];
    switch (col->type) {
    case CSVR_TEXT:
        add(t, "'");
        add_bytes(t, c->as.text.ptr, c->as.text.len);
        add(t, "'");
        break;
    case CSVR_INT: add(t, "%lld", (long long)c->as.i); break;
    case CSVR_NUMBER:
        dec_format(c->as.dec, 18, buf, sizeof buf);
        add(t, "%s", buf);
        break;
    case CSVR_MONEY:
        dec_format(c->as.dec, 2, buf, sizeof buf);
        add(t, "%s", buf);
        break;
    case CSVR_DATE:
        date_format(c->as.date, buf, sizeof buf);
        add(t, "%s", buf);
        break;
    case CSVR_BOOL: add(t, "%s", c->as.b ? "true" : "false"); break;
    }
}

static bool on_row(void *ctx, const csvr_row *row)
{
    seen *s = ctx;
    s->rows++;
    for (size_t i = 0; i < s->ncols; i++) {
        if (i) add(&s->out, "|");
        render_cell(&s->out, &s->cols[i], &row->cells[i]);
    }
    if (s->with_lines) {
        size_t len;
        const char *raw = csvr_row_raw(row, &len);
        add(&s->out, " @%llu [", (unsigned long long)csvr_row_line(row));
        add_bytes(&s->out, raw, len);
        add(&s->out, "]");
    }
    add(&s->out, "\n");
    return s->stop_after == 0 || s->rows < s->stop_after;
}

static csvr_verdict on_bad(void *ctx, const csvr_bad_row *bad)
{
    seen *s = ctx;
    s->bad++;
    char line[CSVR_PATH_MAX + CSVR_MESSAGE_MAX + 64];
    csvr_error_format(bad->error, line, sizeof line);
    add(&s->out, "BAD %s [", line);
    add_bytes(&s->out, bad->raw, bad->raw_len);
    add(&s->out, "]\n");
    return s->skip ? CSVR_SKIP : CSVR_STOP;
}

/* Reads DATA from memory in one sequential pass. */
static csvr_status read_all(const char *data, size_t len, seen *s, csvr_error *err)
{
    csvr_reader *r = csvr_open_memory("mem.csv", data, len, s->cols, s->ncols, 0, err);
    if (r == NULL) return CSVR_ERROR;
    csvr_handlers h = { .on_row = on_row, .on_bad = on_bad, .ctx = s };
    csvr_status st = csvr_read(r, &h, err);
    csvr_close(r);
    return st;
}

/* Reads DATA from memory chunk by chunk, chunks of about TARGET bytes. */
static csvr_status read_chunked(const char *data, size_t len, size_t target, seen *s, csvr_error *err)
{
    csvr_reader *r = csvr_open_memory("mem.csv", data, len, s->cols, s->ncols, 0, err);
    if (r == NULL) return CSVR_ERROR;
    csvr_handlers h = { .on_row = on_row, .on_bad = on_bad, .ctx = s };
    csvr_status st = CSVR_OK;
    csvr_chunk chunk;
    uint64_t expect_begin = 0, index = 0;
    csvr_plan plan;
    while (st == CSVR_OK && (plan = csvr_next_chunk(r, target, &chunk, err)) == CSVR_PLAN_CHUNK) {
        if (index > 0) assert_int_equal(chunk.begin, expect_begin); /* consecutive */
        assert_int_equal(chunk.index, index++);
        assert_true(chunk.end > chunk.begin);
        expect_begin = chunk.end;
        st = csvr_read_chunk(r, &chunk, &h, err);
    }
    if (st == CSVR_OK) {
        assert_int_equal(plan, CSVR_PLAN_DONE);
        assert_true(index == 0 || expect_begin == len);
    }
    csvr_close(r);
    return st;
}

static const char *format_error(const csvr_error *e)
{
    static char line[CSVR_PATH_MAX + CSVR_MESSAGE_MAX + 64];
    csvr_error_format(e, line, sizeof line);
    return line;
}

/* Writes DATA to a new file in a temporary directory; returns its path. */
static const char *temp_file(const char *name, const char *data, size_t len)
{
    static char dir[64] = "";
    static char path[128];
    if (dir[0] == '\0') {
        strcpy(dir, "/tmp/kpic-csvr-XXXXXX");
        assert_non_null(mkdtemp(dir));
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
    return path;
}

#define S(lit) lit, sizeof(lit) - 1

static const csvr_column ALL_TYPES[] = {
    { "t", CSVR_TEXT },  { "i", CSVR_INT },  { "n", CSVR_NUMBER },
    { "m", CSVR_MONEY }, { "d", CSVR_DATE }, { "b", CSVR_BOOL },
};

/* ---- the dialect and typed cells ------------------------------------------------ */

static void test_typed_values_and_nulls(void **state)
{
    (void)state;
    seen s = { .cols = ALL_TYPES, .ncols = 6 };
    csvr_error err;
    const char data[] = "ignored,b,d,m,n,i,t\n"
                        "x,true,2025-05-01,12.30,0.125,42,hello\n"
                        "x,NO,2025-05-01T08:30,12.300,-7,-9223372036854775808,\"with, comma\"\n"
                        "x,Yes,2025-05-01 23:59:59,0,1.5,9223372036854775807,\" \"\n"
                        "x,0,,,,,\n"
                        "x,1,2024-02-29,\"\",\"\",\"\",\"\"\n"
                        "x,FALSE,  2025-01-01  ,  -0.5 ,+3.,+7,  padded  \n";
    assert_int_equal(read_all(S(data), &s, &err), CSVR_OK);
    assert_string_equal(s.out.s,
                        "'hello'|42|0.125000000000000000|12.30|2025-05-01|true\n"
                        "'with, comma'|-9223372036854775808|-7.000000000000000000|12.30|2025-05-01|false\n"
                        "' '|9223372036854775807|1.500000000000000000|0.00|2025-05-01|true\n"
                        "NULL|NULL|NULL|NULL|NULL|false\n"
                        "NULL|NULL|NULL|NULL|2024-02-29|true\n"
                        "'padded'|7|3.000000000000000000|-0.50|2025-01-01|false\n");
    free(s.out.s);
}

static void test_bad_cells_name_column_and_value(void **state)
{
    (void)state;
    struct {
        const char *row, *message;
    } cases[] = {
        { "x,true,2025-05-01,\"12,3x\",1,1,a",
          "mem.csv:2:4: error: bad money value \"12,3x\" in column 'm': not a decimal number" },
        { "x,true,2025-05-01,12.345,1,1,a",
          "mem.csv:2:4: error: bad money value \"12.345\" in column 'm': more than 2 decimal places" },
        { "x,true,2025-05-01,1,1,9223372036854775808,a",
          "mem.csv:2:6: error: bad int value \"9223372036854775808\" in column 'i': integer out of "
          "range" },
        { "x,true,2025-05-01,1,1,1.0,a",
          "mem.csv:2:6: error: bad int value \"1.0\" in column 'i': not an integer" },
        { "x,true,2025-02-29,1,1,1,a",
          "mem.csv:2:3: error: bad date value \"2025-02-29\" in column 'd': no such date or time" },
        { "x,true,2025-13-01,1,1,1,a",
          "mem.csv:2:3: error: bad date value \"2025-13-01\" in column 'd': no such date or time" },
        { "x,true,01/05/2025,1,1,1,a",
          "mem.csv:2:3: error: bad date value \"01/05/2025\" in column 'd': expected YYYY-MM-DD, "
          "optionally followed by T or a space and HH:MM[:SS]" },
        { "x,maybe,2025-05-01,1,1,1,a",
          "mem.csv:2:2: error: bad bool value \"maybe\" in column 'b': expected true/false, 1/0 or "
          "yes/no" },
        { "x,true,2025-05-01,1,1e5,1,a",
          "mem.csv:2:5: error: bad number value \"1e5\" in column 'n': not a decimal number" },
        { "x,true,2025-05-01,1,1,1,\"a\xff\"",
          "mem.csv:2:7: error: bad text value \"a\\xFF\" in column 't': invalid UTF-8" },
        /* The leftmost bad cell is the one reported. */
        { "x,maybe,2025-13-01,x,1,1,a",
          "mem.csv:2:2: error: bad bool value \"maybe\" in column 'b': expected true/false, 1/0 or "
          "yes/no" },
        /* Control characters, quotes and long values are escaped and cut. */
        { "x,true,2025-05-01,1,1,\"1\"\"\t2\",a",
          "mem.csv:2:6: error: bad int value \"1\\\"\\t2\" in column 'i': not an integer" },
        { "x,true,2025-05-01,1,1,"
          "12345678901234567890123456789012345678901234567890123456789012345678901234567890,a",
          "mem.csv:2:6: error: bad int value "
          "\"123456789012345678901234567890123456789012345678901234567890...\" in column 'i': "
          "integer out of range" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char data[512];
        snprintf(data, sizeof data, "ignored,b,d,m,n,i,t\n%s\n", cases[i].row);
        seen s = { .cols = ALL_TYPES, .ncols = 6 };
        csvr_error err;
        assert_int_equal(read_all(data, strlen(data), &s, &err), CSVR_ERROR);
        assert_int_equal(err.kind, CSVR_ERR_CELL);
        assert_string_equal(format_error(&err), cases[i].message);
        free(s.out.s);
    }
}

static void test_text_is_checked_only_where_wanted(void **state)
{
    (void)state;
    static const csvr_column cols[] = { { "a", CSVR_TEXT } };
    /* Invalid UTF-8 and a NUL in an unwanted column are not looked at. */
    const char data[] = "a,b\nok,\xC3\x28\nfine,x\0y\n";
    seen s = { .cols = cols, .ncols = 1 };
    csvr_error err;
    assert_int_equal(read_all(data, sizeof data - 1, &s, &err), CSVR_OK);
    assert_string_equal(s.out.s, "'ok'\n'fine'\n");
    free(s.out.s);
    const char nul[] = "a\nx\0y\n";
    seen s2 = { .cols = cols, .ncols = 1 };
    assert_int_equal(read_all(nul, sizeof nul - 1, &s2, &err), CSVR_ERROR);
    assert_string_equal(format_error(&err),
                        "mem.csv:2:1: error: bad text value \"x\\x00y\" in column 'a': NUL byte in text");
    free(s2.out.s);
    /* Chinese text passes through untouched. */
    const char zh[] = "a\n\xE5\xA4\x8D\xE8\xB4\xAD\xE7\x8E\x87\n";
    seen s3 = { .cols = cols, .ncols = 1 };
    assert_int_equal(read_all(zh, sizeof zh - 1, &s3, &err), CSVR_OK);
    assert_string_equal(s3.out.s, "'\xE5\xA4\x8D\xE8\xB4\xAD\xE7\x8E\x87'\n");
    free(s3.out.s);
}

static void test_bom_crlf_quotes_and_blank_lines(void **state)
{
    (void)state;
    static const csvr_column cols[] = { { "id", CSVR_TEXT },
                                        { "note", CSVR_TEXT },
                                        { "amount", CSVR_MONEY } };
    const char data[] = "\xEF\xBB\xBFid,note,amount\r\n"
                        "a,\"comma, and \"\"quotes\"\"\",1.00\r\n"
                        "\r\n"
                        "   \r\n"
                        "b,\"two\r\nlines\",2.00\r\n"
                        "c,\"lf\nonly\",3\r\n"
                        "d,  spaced  ,4\r\n"
                        "e,\"  kept  \",5"; /* no final line break */
    seen s = { .cols = cols, .ncols = 3 };
    s.with_lines = true;
    csvr_error err;
    assert_int_equal(read_all(S(data), &s, &err), CSVR_OK);
    assert_string_equal(s.out.s,
                        "'a'|'comma, and \"quotes\"'|1.00 @2 [a,\"comma, and \"\"quotes\"\"\",1.00]\n"
                        "'b'|'two\r\nlines'|2.00 @5 [b,\"two\r\nlines\",2.00]\n"
                        "'c'|'lf\nonly'|3.00 @7 [c,\"lf\nonly\",3]\n"
                        "'d'|'spaced'|4.00 @9 [d,  spaced  ,4]\n"
                        "'e'|'  kept  '|5.00 @10 [e,\"  kept  \",5]\n");
    free(s.out.s);
}

static void test_lone_cr_line_ends(void **state)
{
    (void)state;
    static const csvr_column cols[] = { { "a", CSVR_INT } };
    const char data[] = "a\r1\r2\r\rx\r";
    seen s = { .cols = cols, .ncols = 1 };
    csvr_error err;
    assert_int_equal(read_all(S(data), &s, &err), CSVR_ERROR);
    assert_string_equal(format_error(&err),
                        "mem.csv:5:1: error: bad int value \"x\" in column 'a': not an integer");
    free(s.out.s);
}

/* ---- bad rows ------------------------------------------------------------------ */

static void test_bad_cell_line_after_quoted_newlines(void **state)
{
    (void)state;
    static const csvr_column cols[] = { { "amount", CSVR_MONEY } };
    const char data[] = "order_id,note,amount,channel\n" /* line 1 */
                        "1,\"a\nb\nc\",1.00,web\n"       /* lines 2-4 */
                        "2,\"x\r\ny\",2.00,app\n"        /* lines 5-6 */
                        "\n"                             /* line 7 */
                        "3,plain,\"12,3x\",store\n"      /* line 8 */
                        "4,after,4.00,web\n";
    csvr_error err;
    csvr_reader *r = csvr_open_memory("data/orders.csv", S(data), cols, 1, 0, &err);
    assert_non_null(r);
    seen s = { .cols = cols, .ncols = 1 };
    csvr_handlers h = { .on_row = on_row, .on_bad = NULL, .ctx = &s }; /* no bad-row callback: stop */
    assert_int_equal(csvr_read(r, &h, &err), CSVR_ERROR);
    assert_string_equal(format_error(&err), "data/orders.csv:8:3: error: bad money value "
                                            "\"12,3x\" in column 'amount': not a decimal number");
    assert_int_equal(err.line, 8);
    assert_int_equal(err.field, 3);
    assert_int_equal(err.column, 0);
    assert_int_equal(s.rows, 2);
    csvr_close(r);
    free(s.out.s);
}

static void test_ragged_rows(void **state)
{
    (void)state;
    static const csvr_column cols[] = { { "a", CSVR_TEXT }, { "c", CSVR_INT } };
    const char data[] = "a,b,c\n"
                        "1,2,3\n"
                        "short,2\n"
                        "long,2,3,4\n"
                        "\"q\nq\",2,3,4,5\n"
                        "one\n"
                        "ok,2,5\n";
    seen s = { .cols = cols, .ncols = 2 };
    s.skip = true;
    csvr_error err;
    assert_int_equal(read_all(S(data), &s, &err), CSVR_OK);
    assert_string_equal(s.out.s,
                        "'1'|3\n"
                        "BAD mem.csv:3:3: error: row has 2 fields, the header has 3 [short,2]\n"
                        "BAD mem.csv:4:4: error: row has 4 fields, the header has 3 [long,2,3,4]\n"
                        "BAD mem.csv:5:4: error: row has 5 fields, the header has 3 [\"q\nq\",2,3,4,5]\n"
                        "BAD mem.csv:7:2: error: row has 1 field, the header has 3 [one]\n"
                        "'ok'|5\n");
    assert_int_equal(s.bad, 4);
    free(s.out.s);
}

static void test_skip_keeps_raw_bytes_verbatim(void **state)
{
    (void)state;
    static const csvr_column cols[] = { { "d", CSVR_DATE } };
    const char data[] = "id,d,note\r\n"
                        "1,2025-05-01,\"fine\"\r\n"
                        "  2,2025-02-30,\"multi\r\nline \"\"quoted\"\", with comma\"\r\n"
                        "3,2025-05-03,x\r\n";
    seen s = { .cols = cols, .ncols = 1 };
    s.skip = true;
    csvr_error err;
    assert_int_equal(read_all(S(data), &s, &err), CSVR_OK);
    assert_string_equal(s.out.s,
                        "2025-05-01\n"
                        "BAD mem.csv:3:2: error: bad date value \"2025-02-30\" in column 'd': no such "
                        "date or time [  2,2025-02-30,\"multi\r\nline \"\"quoted\"\", with comma\"]\n"
                        "2025-05-03\n");
    free(s.out.s);
}

static void test_unterminated_quote(void **state)
{
    (void)state;
    static const csvr_column cols[] = { { "a", CSVR_TEXT } };
    const char data[] = "a,b\n1,2\n3,\"open\n4,5\n";
    seen s = { .cols = cols, .ncols = 1 };
    s.skip = true;
    csvr_error err;
    assert_int_equal(read_all(S(data), &s, &err), CSVR_OK);
    assert_string_equal(s.out.s, "'1'\nBAD mem.csv:3:2: error: quoted field is never closed: the "
                                 "quote runs to the end of the file [3,\"open\n4,5\n]\n");
    free(s.out.s);
    seen s2 = { .cols = cols, .ncols = 1 };
    assert_int_equal(read_all(S(data), &s2, &err), CSVR_ERROR);
    assert_int_equal(err.kind, CSVR_ERR_QUOTE);
    free(s2.out.s);
}

static void test_stop_from_row_callback(void **state)
{
    (void)state;
    static const csvr_column cols[] = { { "a", CSVR_INT } };
    const char data[] = "a\n1\n2\n3\nbad\n";
    seen s = { .cols = cols, .ncols = 1 };
    s.stop_after = 2;
    csvr_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(read_all(S(data), &s, &err), CSVR_STOPPED);
    assert_int_equal(s.rows, 2);
    assert_int_equal(err.kind, CSVR_ERR_NONE);
    free(s.out.s);
}

/* ---- header and file errors ----------------------------------------------------- */

static void test_header_near_names(void **state)
{
    (void)state;
    static const csvr_column cols[] = { { "order_id", CSVR_TEXT } };
    const char data[] = "order_id,\" Amount\t\",\"金额\xE3\x80\x80\",Paid At\n1,2,3,4\n";
    csvr_error err;
    csvr_reader *r = csvr_open_memory("x.csv", S(data), cols, 1, 0, &err);
    assert_non_null(r);
    assert_string_equal(csvr_header_near(r, "amount"), " Amount\t");
    assert_string_equal(csvr_header_near(r, "金额"), "金额\xE3\x80\x80");
    assert_string_equal(csvr_header_near(r, "paid at"), "Paid At");
    assert_null(csvr_header_near(r, "paid_at"));  /* not a case or blank difference */
    assert_null(csvr_header_near(r, "order_id")); /* the name itself is no hint */
    assert_null(csvr_header_near(r, ""));
    csvr_close(r);
}

static void test_missing_column_lists_header(void **state)
{
    (void)state;
    static const csvr_column cols[] = { { "order_id", CSVR_TEXT }, { "amount", CSVR_MONEY } };
    const char data[] = "order_id,customer_id,Amount,\"paid at\"\n1,2,3,4\n";
    csvr_error err;
    assert_null(csvr_open_memory("data/orders.csv", S(data), cols, 2, 0, &err));
    assert_int_equal(err.kind, CSVR_ERR_HEADER);
    assert_int_equal(err.column, 1);
    assert_string_equal(format_error(&err),
                        "data/orders.csv:1: error: column 'amount' not found in the header (did "
                        "you mean 'Amount'?); the header has: order_id, customer_id, Amount, paid at");
}

/* With CSVR_MISSING_COLUMNS_OK the caller reports missing columns itself (kpic eval
 * names the source and lists every one): the open succeeds, the missing column's
 * cells are null, and the columns that are there read as usual. */
static void test_missing_column_allowed_reads_null(void **state)
{
    (void)state;
    static const csvr_column cols[] = { { "amount", CSVR_MONEY },
                                        { "channel", CSVR_TEXT },
                                        { "id", CSVR_INT } };
    const char data[] = "id,amount\n1,2.50\n2,\n";
    csvr_error err;
    assert_null(csvr_open_memory("x.csv", S(data), cols, 3, 0, &err));
    csvr_reader *r = csvr_open_memory("x.csv", S(data), cols, 3, CSVR_MISSING_COLUMNS_OK, &err);
    assert_non_null(r);
    assert_int_equal(csvr_header_size(r), 2);
    seen s = { .cols = cols, .ncols = 3 };
    csvr_handlers h = { .on_row = on_row, .on_bad = on_bad, .ctx = &s };
    assert_int_equal(csvr_read(r, &h, &err), CSVR_OK);
    csvr_close(r);
    assert_string_equal(s.out.s, "2.50|NULL|1\nNULL|NULL|2\n");
    free(s.out.s);
}

static void test_duplicate_header_names(void **state)
{
    (void)state;
    const char data[] = "a,b,,a,\n1,2,3,4,5\n"; /* two empty names are fine */
    csvr_error err;
    assert_null(csvr_open_memory("x.csv", S(data), NULL, 0, 0, &err));
    assert_string_equal(format_error(&err),
                        "x.csv:1:4: error: duplicate column name 'a' in the header (fields 1 and 4)");
    const char nul[] = "a,\"b\0\",c\n";
    assert_null(csvr_open_memory("x.csv", nul, sizeof nul - 1, NULL, 0, 0, &err));
    assert_string_equal(format_error(&err),
                        "x.csv:1:2: error: the header has a NUL byte in the name of field 2");
    const char fine[] = "a,b,,c,\n";
    csvr_reader *r = csvr_open_memory("x.csv", S(fine), NULL, 0, 0, &err);
    assert_non_null(r);
    assert_int_equal(csvr_header_size(r), 5);
    assert_string_equal(csvr_header_name(r, 3), "c");
    assert_string_equal(csvr_header_name(r, 4), "");
    assert_null(csvr_header_name(r, 5));
    csvr_close(r);
}

static void test_no_header(void **state)
{
    (void)state;
    csvr_error err;
    assert_null(csvr_open_memory("empty.csv", "", 0, NULL, 0, 0, &err));
    assert_string_equal(format_error(&err), "empty.csv: error: no header row: the file is empty");
    assert_null(csvr_open_memory("blank.csv", S("\n  \r\n\n"), NULL, 0, 0, &err));
    assert_string_equal(format_error(&err), "blank.csv: error: no header row: the file is blank");
    assert_null(csvr_open_memory("bom.csv", S("\xEF\xBB\xBF"), NULL, 0, 0, &err));
    assert_int_equal(err.kind, CSVR_ERR_HEADER);
    const char *path = temp_file("empty.csv", "", 0);
    assert_null(csvr_open(path, NULL, 0, 0, &err));
    assert_int_equal(err.kind, CSVR_ERR_HEADER);
    assert_string_equal(err.path, path);
    assert_null(csvr_open_memory("q.csv", S("a,\"b\n"), NULL, 0, 0, &err));
    assert_string_equal(format_error(&err),
                        "q.csv:1: error: the header row has a quoted field that is never closed");
}

static void test_unreadable_files(void **state)
{
    (void)state;
    csvr_error err;
    assert_null(csvr_open("/nonexistent/dir/orders.csv", NULL, 0, 0, &err));
    assert_int_equal(err.kind, CSVR_ERR_IO);
    assert_string_equal(format_error(&err), "/nonexistent/dir/orders.csv: error: cannot open the "
                                            "file: No such file or directory");
    assert_null(csvr_open("/tmp", NULL, 0, 0, &err));
    assert_string_equal(format_error(&err), "/tmp: error: cannot read the file: Is a directory");
    if (geteuid() != 0) { /* root reads anything */
        const char *path = temp_file("locked.csv", "a\n1\n", 4);
        chmod(path, 0);
        assert_null(csvr_open(path, NULL, 0, 0, &err));
        assert_non_null(strstr(err.message, "Permission denied"));
    }
}

static void test_api_misuse(void **state)
{
    (void)state;
    static const csvr_column twice[] = { { "a", CSVR_TEXT }, { "a", CSVR_INT } };
    csvr_error err;
    assert_null(csvr_open_memory("m.csv", S("a\n1\n"), twice, 2, 0, &err));
    assert_int_equal(err.kind, CSVR_ERR_USAGE);
    csvr_reader *r = csvr_open_memory("m.csv", S("a\n1\n"), twice, 1, 0, &err);
    seen s = { .cols = twice, .ncols = 1 };
    csvr_handlers h = { .on_row = on_row, .on_bad = NULL, .ctx = &s };
    assert_int_equal(csvr_read(r, &h, &err), CSVR_OK);
    assert_int_equal(csvr_read(r, &h, &err), CSVR_ERROR);
    assert_int_equal(err.kind, CSVR_ERR_USAGE);
    csvr_close(r);
    free(s.out.s);
}

/* ---- chunks -------------------------------------------------------------------------- */

/* A file that tries hard to trip chunk boundaries: quoted fields with line
 * breaks (LF and CRLF), doubled quotes, quotes that libcsv treats as literal,
 * blank lines, CRLF and lone-CR line ends, bad rows. */
static char *tricky_csv(size_t rows, size_t *len)
{
    text t = { 0 };
    add(&t, "id,note,amount,when\r\n");
    for (size_t i = 0; i < rows; i++) {
        switch (i % 11) {
        case 0:
            add(&t, "%zu,\"multi\nline,\n\"\"note\"\"\",%zu.%02zu,2025-05-%02zu\n", i, i, i % 100,
                1 + i % 28);
            break;
        case 1: add(&t, "%zu,\"crlf\r\ninside\",1,2025-01-01T10:00\r\n", i); break;
        case 2: add(&t, "%zu,plain,2.5,2025-02-28\r\n\r\n\n", i); break;
        case 3:
            add(&t, "%zu,5\" screen,3,2025-03-01\n", i); /* a literal quote */
            break;
        case 4:
            add(&t, "%zu,\"ab\"c\nstill note\",4,2025-04-01\n", i); /* quote then text */
            break;
        case 5: add(&t, "%zu,\"bad date\",5,2025-02-30\n", i); break;
        case 6: add(&t, "%zu,ragged\n", i); break;
        case 7:
            add(&t, "%zu,\"\"\"\",6,2025-07-07\r", i); /* lone CR */
            break;
        case 8: add(&t, "  %zu , \"sp\" ,7,2025-08-08\n", i); break;
        case 9:
            add(&t, "%zu,\"x\"  \"y\",8,2025-09-09\n", i); /* quote after blanks */
            break;
        default: add(&t, "%zu,,,\n", i); break;
        }
    }
    *len = t.len;
    return t.s;
}

static void test_chunks_equal_sequential(void **state)
{
    (void)state;
    static const csvr_column cols[] = {
        { "id", CSVR_INT }, { "note", CSVR_TEXT }, { "amount", CSVR_MONEY }, { "when", CSVR_DATE }
    };
    size_t len;
    char *data = tricky_csv(300, &len);
    seen seq = { .cols = cols, .ncols = 4 };
    seq.skip = true;
    seq.with_lines = true;
    csvr_error err;
    assert_int_equal(read_all(data, len, &seq, &err), CSVR_OK);
    assert_true(seq.rows > 150);
    assert_true(seq.bad > 40);
    /* Every target size from 1 byte up forces boundaries into every position. */
    size_t targets[] = { 1,   2,   3,   5,   7,   11,   13,   17,      31,  64,
                         100, 127, 128, 129, 500, 1000, 4096, len / 2, len, len * 2 };
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        seen ch = { .cols = cols, .ncols = 4 };
        ch.skip = true;
        ch.with_lines = true;
        assert_int_equal(read_chunked(data, len, targets[i], &ch, &err), CSVR_OK);
        assert_string_equal(ch.out.s, seq.out.s);
        free(ch.out.s);
    }
    free(seq.out.s);
    free(data);
}

/* Chunks parsed by two threads at once give the same rows as one pass. */
typedef struct shared_plan {
    csvr_reader *r;
    pthread_mutex_t *lock;
    csvr_chunk chunks[4096];
    text per_chunk[4096];
    csvr_status status;
} shared_plan;

typedef struct chunk_ctx {
    text *out;
} chunk_ctx;

static bool on_row_text(void *ctx, const csvr_row *row)
{
    chunk_ctx *c = ctx;
    add(c->out, "%lld@%llu\n", (long long)row->cells[0].as.i, (unsigned long long)csvr_row_line(row));
    return true;
}

static csvr_verdict on_bad_text(void *ctx, const csvr_bad_row *bad)
{
    chunk_ctx *c = ctx;
    add(c->out, "bad@%llu\n", (unsigned long long)bad->error->line);
    return CSVR_SKIP;
}

static void *parse_chunks(void *arg)
{
    shared_plan *p = arg;
    for (;;) {
        pthread_mutex_lock(p->lock);
        csvr_chunk chunk;
        csvr_error err;
        csvr_plan got = csvr_next_chunk(p->r, 97, &chunk, &err);
        pthread_mutex_unlock(p->lock);
        if (got != CSVR_PLAN_CHUNK) return NULL;
        chunk_ctx ctx = { &p->per_chunk[chunk.index] };
        csvr_handlers h = { .on_row = on_row_text, .on_bad = on_bad_text, .ctx = &ctx };
        if (csvr_read_chunk(p->r, &chunk, &h, &err) != CSVR_OK) p->status = CSVR_ERROR;
    }
}

static void test_chunks_on_threads(void **state)
{
    (void)state;
    static const csvr_column cols[] = { { "id", CSVR_INT }, { "when", CSVR_DATE } };
    size_t len;
    char *data = tricky_csv(400, &len);
    const char *path = temp_file("threads.csv", data, len);
    csvr_error err;
    /* Sequential reference. */
    csvr_reader *r = csvr_open(path, cols, 2, 0, &err);
    text ref = { 0 };
    chunk_ctx ctx = { &ref };
    csvr_handlers h = { .on_row = on_row_text, .on_bad = on_bad_text, .ctx = &ctx };
    assert_int_equal(csvr_read(r, &h, &err), CSVR_OK);
    char seq_hash[65], par_hash[65];
    assert_true(csvr_sha256_hex(r, seq_hash));
    csvr_close(r);
    /* Two threads, the flag for a hashing thread (which only csvr_read uses) off and on. */
    for (unsigned flags = 0; flags <= CSVR_HASH_IN_THREAD; flags += CSVR_HASH_IN_THREAD) {
        shared_plan *plan = calloc(1, sizeof *plan);
        pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
        plan->r = csvr_open(path, cols, 2, flags, &err);
        plan->lock = &lock;
        pthread_t t1, t2;
        pthread_create(&t1, NULL, parse_chunks, plan);
        pthread_create(&t2, NULL, parse_chunks, plan);
        pthread_join(t1, NULL);
        pthread_join(t2, NULL);
        assert_int_equal(plan->status, CSVR_OK);
        text all = { 0 };
        for (size_t i = 0; i < 4096 && plan->per_chunk[i].s; i++) {
            add(&all, "%s", plan->per_chunk[i].s);
            free(plan->per_chunk[i].s);
        }
        assert_string_equal(all.s, ref.s);
        assert_true(csvr_sha256_hex(plan->r, par_hash));
        assert_string_equal(par_hash, seq_hash);
        uint64_t done, total;
        csvr_progress(plan->r, &done, &total);
        assert_int_equal(done, len);
        assert_int_equal(total, len);
        csvr_close(plan->r);
        free(plan);
        free(all.s);
    }
    /* A pass given up: the first chunk is discarded unread, so the second does not
     * wait for its turn to hash (no hang), and the digest is never complete. */
    csvr_reader *early = csvr_open(path, cols, 2, 0, &err);
    csvr_chunk first, second;
    assert_int_equal(csvr_next_chunk(early, 97, &first, &err), CSVR_PLAN_CHUNK);
    assert_int_equal(csvr_next_chunk(early, 97, &second, &err), CSVR_PLAN_CHUNK);
    csvr_chunk_discard(early, &first);
    text rest = { 0 };
    chunk_ctx rest_ctx = { &rest };
    csvr_handlers rest_h = { .on_row = on_row_text, .on_bad = on_bad_text, .ctx = &rest_ctx };
    assert_int_equal(csvr_read_chunk(early, &second, &rest_h, &err), CSVR_OK);
    csvr_chunk next;
    while (csvr_next_chunk(early, 97, &next, &err) == CSVR_PLAN_CHUNK)
        assert_int_equal(csvr_read_chunk(early, &next, &rest_h, &err), CSVR_OK);
    char none[65];
    assert_false(csvr_sha256_hex(early, none));
    csvr_close(early);
    free(rest.s);
    free(ref.s);
    free(data);
}

/* ---- files, hashing, progress -------------------------------------------------------- */

/* Reads the fixture tests/data/csv/orders_small.csv (BOM, CRLF, quotes). */
static void test_fixture_file_and_sha256(void **state)
{
    (void)state;
    const char *root = getenv("KPIC_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof path, "%s/data/csv/orders_small.csv", root ? root : "tests");
    static const csvr_column cols[] = { { "order_id", CSVR_TEXT },
                                        { "staff_id", CSVR_TEXT },
                                        { "amount", CSVR_MONEY },
                                        { "paid_at", CSVR_DATE },
                                        { "refunded", CSVR_BOOL } };
    for (unsigned flags = 0; flags <= CSVR_HASH_IN_THREAD; flags += CSVR_HASH_IN_THREAD) {
        csvr_error err;
        csvr_reader *r = csvr_open(path, cols, 5, flags, &err);
        if (r == NULL) fail_msg("%s", format_error(&err));
        char hex[65];
        assert_false(csvr_sha256_hex(r, hex)); /* not before the pass */
        seen s = { .cols = cols, .ncols = 5 };
        s.with_lines = true;
        csvr_handlers h = { .on_row = on_row, .on_bad = on_bad, .ctx = &s };
        assert_int_equal(csvr_read(r, &h, &err), CSVR_OK);
        assert_string_equal(s.out.s,
                            "'O001'|'s01'|120.50|2025-05-01|false @2 [O001,C01,s01,120.50,2025-05-01 "
                            "09:15:00,app,false,\"first order\"]\n"
                            "'O002'|'s02'|80.00|2025-05-02|true @3 [O002,C02,s02,80,2025-05-02T10:00,"
                            "web,true,\"refund, then \"\"reorder\"\"\"]\n"
                            "'O003'|'s01'|3410.28|2025-05-31|false @4 [O003,C01,s01,3410.28,2025-05-31,"
                            "store,no,\"note over\r\ntwo lines\"]\n"
                            "'O004'|'s03'|NULL|2025-06-01|NULL @6 [O004,C03,s03,,2025-06-01 00:00,app,,"
                            "\"\xE5\xA4\x8D\xE8\xB4\xAD\"]\n");
        assert_true(csvr_sha256_hex(r, hex));
        /* sha256sum tests/data/csv/orders_small.csv */
        assert_string_equal(hex, "fcf8e6d8b36c8c4a1bf6e2b89d93d51d3bbbf82244ff430de0f5f60d1c6fa4d4");
        uint64_t done, total;
        csvr_progress(r, &done, &total);
        assert_int_equal(done, total);
        csvr_close(r);
        free(s.out.s);
    }
    /* No hash when asked not to compute one. */
    csvr_error err;
    csvr_reader *r = csvr_open(path, cols, 5, CSVR_NO_HASH, &err);
    seen s = { .cols = cols, .ncols = 5 };
    csvr_handlers h = { .on_row = on_row, .on_bad = on_bad, .ctx = &s };
    assert_int_equal(csvr_read(r, &h, &err), CSVR_OK);
    char hex[65];
    assert_false(csvr_sha256_hex(r, hex));
    csvr_close(r);
    free(s.out.s);
}

static void test_sha256_of_known_bytes(void **state)
{
    (void)state;
    /* printf 'a,b\n1,2\n' | sha256sum */
    csvr_error err;
    csvr_reader *r = csvr_open_memory("m.csv", S("a,b\n1,2\n"), NULL, 0, 0, &err);
    seen s = { .cols = NULL, .ncols = 0 };
    csvr_handlers h = { .on_row = on_row, .on_bad = on_bad, .ctx = &s };
    assert_int_equal(csvr_read(r, &h, &err), CSVR_OK);
    char hex[65];
    assert_true(csvr_sha256_hex(r, hex));
    assert_string_equal(hex, "492d5ea496056f1a6a6592241032fab764c321596317930b4fa0e1e8bc3b7470");
    csvr_close(r);
    free(s.out.s);
}

/* A record far longer than a read block, with line breaks inside, followed by
 * a bad row: the window must grow and the line count stay right. */
static void test_long_record_spanning_blocks(void **state)
{
    (void)state;
    static const csvr_column cols[] = { { "n", CSVR_INT }, { "big", CSVR_TEXT } };
    text t = { 0 };
    add(&t, "n,big\n1,\"");
    for (int i = 0; i < 30000; i++) add(&t, "line %05d of a long note\n", i); /* 25 bytes x 30000 = 750 KB */
    add(&t, "end\"\n2,small\nx,bad\n");
    const char *path = temp_file("long.csv", t.s, t.len);
    csvr_error err;
    csvr_reader *r = csvr_open(path, cols, 2, 0, &err);
    seen s = { .cols = cols, .ncols = 2 };
    csvr_handlers h = { .on_row = on_row, .on_bad = NULL, .ctx = &s };
    assert_int_equal(csvr_read(r, &h, &err), CSVR_ERROR);
    assert_int_equal(s.rows, 2);
    assert_int_equal(err.line, 30004);
    assert_int_equal(err.field, 1);
    csvr_close(r);
    free(s.out.s);
    free(t.s);
}

static void test_header_only_and_pipe(void **state)
{
    (void)state;
    static const csvr_column cols[] = { { "a", CSVR_INT } };
    seen s = { .cols = cols, .ncols = 1 };
    csvr_error err;
    assert_int_equal(read_all(S("a"), &s, &err), CSVR_OK);
    assert_int_equal(s.rows, 0);
    assert_int_equal(read_all(S("a\r\n"), &s, &err), CSVR_OK);
    assert_int_equal(s.rows, 0);
    /* A pipe cannot be read with pread: it is read into memory first. */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    const char data[] = "a\n7\n8\n";
    assert_int_equal(write(fds[1], data, sizeof data - 1), (ssize_t)(sizeof data - 1));
    close(fds[1]);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fds[0]);
    csvr_reader *r = csvr_open(path, cols, 1, 0, &err);
    if (r == NULL) fail_msg("%s", format_error(&err));
    csvr_handlers h = { .on_row = on_row, .on_bad = on_bad, .ctx = &s };
    assert_int_equal(csvr_read(r, &h, &err), CSVR_OK);
    assert_string_equal(s.out.s, "7\n8\n");
    char hex[65];
    assert_true(csvr_sha256_hex(r, hex));
    csvr_close(r);
    close(fds[0]);
    free(s.out.s);
}

/* A file that is not regular is held in memory, so a record that never ends must be
 * stopped: /dev/zero once grew a run to 5.9 GB. */
static void test_endless_record_of_a_device(void **state)
{
    (void)state;
    static const csvr_column cols[] = { { "a", CSVR_INT } };
    csvr_error err;
    csvr_reader *r = csvr_open("/dev/zero", cols, 1, 0, &err);
    assert_null(r);
    assert_int_equal(err.kind, CSVR_ERR_TOO_LONG);
    assert_int_equal(err.line, 1);
    assert_string_equal(format_error(&err),
                        "/dev/zero:1: error: a record longer than 64 MiB starts on this line "
                        "(a line that never ends, or a file that is not CSV)");
}

/* Text after a closing quote makes one bad row, from its first line to the end of
 * that line; the next line is read as usual.  Leniently, libcsv reopened the field
 * and the quote ran on, here to the end of the file ("quoted field is never closed",
 * 0 rows).  A quote inside an unquoted field stays an ordinary character. */
static void test_text_after_closing_quote(void **state)
{
    (void)state;
    static const csvr_column cols[] = { { "id", CSVR_INT }, { "note", CSVR_TEXT } };
    static const char data[] = "id,note\n"
                               "\"1\"x,a\n"
                               "2,b\n"
                               "3,\"c\"  \"d\r\n"
                               "4,\"e\nf\"\n"
                               "5,5\" screen\n"
                               "\"6\"\xe4\xb8\xad,g\n"
                               "7,\"h\"";
    const char *want =
        "BAD mem.csv:2:1: error: field 1 has \"x\" after its closing quote (a quoted field ends "
        "at its closing quote; a quote inside it is written \"\") [\"1\"x,a]\n"
        "2|'b' @3 [2,b]\n"
        "BAD mem.csv:4:2: error: field 2 has \"\\\"\" after its closing quote (a quoted field "
        "ends at its closing quote; a quote inside it is written \"\") [3,\"c\"  \"d]\n"
        "4|'e\nf' @5 [4,\"e\nf\"]\n"
        "5|'5\" screen' @7 [5,5\" screen]\n"
        "BAD mem.csv:8:1: error: field 1 has \"\xe4\xb8\xad\" after its closing quote (a quoted "
        "field ends at its closing quote; a quote inside it is written \"\") [\"6\"\xe4\xb8\xad,g]\n"
        "7|'h' @9 [7,\"h\"]\n";
    seen seq = { .cols = cols, .ncols = 2, .skip = true, .with_lines = true };
    csvr_error err;
    assert_int_equal(read_all(data, sizeof data - 1, &seq, &err), CSVR_OK);
    assert_string_equal(seq.out.s, want);
    for (size_t target = 1; target < sizeof data; target++) {
        seen ch = { .cols = cols, .ncols = 2, .skip = true, .with_lines = true };
        assert_int_equal(read_chunked(data, sizeof data - 1, target, &ch, &err), CSVR_OK);
        assert_string_equal(ch.out.s, want);
        free(ch.out.s);
    }
    free(seq.out.s);
    /* in the header, it is a header error */
    static const char header[] = "\"id\"x,note\n1,a\n";
    csvr_reader *r = csvr_open_memory("mem.csv", header, sizeof header - 1, cols, 2, 0, &err);
    assert_null(r);
    assert_string_equal(format_error(&err),
                        "mem.csv:1:1: error: the header's field 1 has \"x\" after its closing "
                        "quote (a quoted field ends at its closing quote; a quote inside it is "
                        "written \"\")");
}

/* Header names are trimmed like unquoted cells: blanks around an unquoted name are
 * not part of it, while a quoted name keeps every byte (language.md §3 source). */
static void test_header_names_trimmed_unless_quoted(void **state)
{
    (void)state;
    static const csvr_column cols[] = { { "id", CSVR_TEXT }, { "staff_id", CSVR_TEXT } };
    static const char padded[] = "id, staff_id\t\n\"a\",  b  \n";
    seen s = { .cols = cols, .ncols = 2 };
    csvr_error err;
    assert_int_equal(read_all(S(padded), &s, &err), CSVR_OK);
    assert_string_equal(s.out.s, "'a'|'b'\n");
    free(s.out.s);
    static const char quoted[] = "id,\" staff_id \"\n\"a\",b\n";
    csvr_reader *r = csvr_open_memory("mem.csv", S(quoted), cols, 2, 0, &err);
    assert_null(r);
    assert_string_equal(format_error(&err), "mem.csv:1: error: column 'staff_id' not found in the "
                                            "header (did you mean ' staff_id '?); the header has: "
                                            "id, \" staff_id \"");
}

/* ---- streams: pipes read with read(2) ------------------------------------------ */

/* Writes LEN bytes at DATA into FD in pieces of PIECE bytes, then closes it; a reader
 * that stops early makes the write fail (SIGPIPE is ignored), which ends it. */
typedef struct pipe_writer {
    int fd;
    const char *data;
    size_t len, piece;
} pipe_writer;

static void *write_pipe(void *arg)
{
    pipe_writer *w = arg;
    for (size_t at = 0; at < w->len;) {
        size_t n = w->len - at < w->piece ? w->len - at : w->piece;
        ssize_t put = write(w->fd, w->data + at, n);
        if (put <= 0) break;
        at += (size_t)put;
    }
    close(w->fd);
    return NULL;
}

/* Reads DATA through a pipe (written PIECE bytes at a time by another thread) with
 * csvr_open on /proc/self/fd/N and FLAGS; fills HEX with the digest when it is
 * complete (else ""). */
static csvr_status read_piped(const char *data, size_t len, size_t piece, unsigned flags, seen *s,
                              char hex[65], csvr_error *err)
{
    signal(SIGPIPE, SIG_IGN);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pipe_writer w = { fds[1], data, len, piece };
    pthread_t writer;
    assert_int_equal(pthread_create(&writer, NULL, write_pipe, &w), 0);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fds[0]);
    csvr_status st = CSVR_ERROR;
    hex[0] = '\0';
    csvr_reader *r = csvr_open(path, s->cols, s->ncols, flags, err);
    if (r != NULL) {
        assert_false(csvr_is_seekable(r));
        csvr_handlers h = { .on_row = on_row, .on_bad = on_bad, .ctx = s };
        st = csvr_read(r, &h, err);
        if (!csvr_sha256_hex(r, hex)) hex[0] = '\0';
        csvr_close(r);
    }
    close(fds[0]); /* a writer still blocked gets EPIPE */
    pthread_join(writer, NULL);
    /* bad rows name the file as read_all does, so that the outputs compare */
    for (char *at; s->out.s != NULL && (at = memmem(s->out.s, s->out.len, path, strlen(path))) != NULL;) {
        size_t from = strlen(path), to = strlen("mem.csv");
        memcpy(at, "mem.csv", to);
        memmove(at + to, at + from, s->out.len - (size_t)(at + from - s->out.s) + 1);
        s->out.len -= from - to;
    }
    if (st == CSVR_ERROR) /* the pipe's path differs from run to run */
        snprintf(err->path, sizeof err->path, "pipe");
    return st;
}

/* The SHA-256 of a regular file holding DATA, read with csvr_read. */
static void file_sha256(const char *data, size_t len, const csvr_column *cols, size_t ncols, char hex[65])
{
    const char *path = temp_file("stream.csv", data, len);
    csvr_error err;
    csvr_reader *r = csvr_open(path, cols, ncols, 0, &err);
    if (r == NULL) fail_msg("%s", format_error(&err));
    assert_true(csvr_is_seekable(r));
    seen s = { .cols = cols, .ncols = ncols, .skip = true };
    csvr_handlers h = { .on_row = on_row, .on_bad = on_bad, .ctx = &s };
    assert_int_equal(csvr_read(r, &h, &err), CSVR_OK);
    assert_true(csvr_sha256_hex(r, hex));
    csvr_close(r);
    free(s.out.s);
}

/* Appends to T rows of three fields until T holds AT bytes (AT minus the bytes of
 * EXTRA), then EXTRA, so that EXTRA starts at byte AT. */
static void rows_until(text *t, size_t at, const char *extra)
{
    size_t target = at;
    int i = 0;
    while (t->len + 40 < target) add(t, "r%d,%d,\"q\"\"%d\"\n", i, i % 7, i), i++;
    while (t->len < target - 1) add(t, "x");
    add(t, "\n"); /* padding ends as one more (ragged) record */
    add(t, "%s", extra);
}

/* A pipe gives the same rows, bad rows, lines, raw bytes and SHA-256 as the same bytes
 * in memory and in a regular file, whatever falls on its reads' boundaries: the header
 * is read ahead 64 KiB at a time, then the pass reads 256 KiB blocks, so bytes 65536
 * and 65536 + 262144 start reads.  A record split there, a quoted field with line
 * breaks across it, and a CRLF split between its CR and LF each land on one. */
static void test_stream_matches_memory_across_reads(void **state)
{
    (void)state;
    static const csvr_column cols[] = { { "a", CSVR_TEXT }, { "b", CSVR_INT }, { "c", CSVR_TEXT } };
    const size_t first = 65536, second = 65536 + 262144;
    /* where each piece starts: its byte that must fall just before a boundary is
     * the fifth, the CR, the CR inside quotes, and the byte after an opening quote */
    const size_t cuts[][2] = {
        { first - 5, second - 1 },  /* a record split at both boundaries */
        { first - 9, second - 12 }, /* CR | LF, then CR | LF inside quotes */
        { first - 6, second - 8 },  /* quotes open across both boundaries */
    };
    const char *pieces[][2] = {
        { "split,1,record\n", "again,2,split\n" },
        { "crlf,3,x\r\nnext,4,y\r\n", "crlf2,5,\"in\r\nquotes\"\r\n" },
        { "q,6,\"a\nb\nc\"\n", "q2,7,\"x\r\n\"\"y\"\"\r\nz\"\r\n" },
    };
    for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
        text data = { 0 };
        add(&data, "a,b,c\n");
        rows_until(&data, cuts[c][0], pieces[c][0]);
        rows_until(&data, cuts[c][1], pieces[c][1]);
        add(&data, "last,8,\"open\n"); /* a quote left open at the end: one bad row */
        if (c == 1)
            assert_true(data.s[first - 1] == '\r' && data.s[first] == '\n' && data.s[second - 1] == '\r' &&
                        data.s[second] == '\n');
        if (c == 2)
            assert_true(data.s[first - 2] == '"' && data.s[second - 3] == '"' && data.s[second - 1] == '\r');
        char mem_hex[65] = "", pipe_hex[65], file_hex[65];
        seen mem = { .cols = cols, .ncols = 3, .skip = true, .with_lines = true };
        seen piped = mem;
        csvr_error err;
        assert_int_equal(read_all(data.s, data.len, &mem, &err), CSVR_OK);
        for (size_t piece = 1000; piece <= 100000; piece *= 100) {
            piped.out = (text){ 0 };
            piped.rows = piped.bad = 0;
            assert_int_equal(read_piped(data.s, data.len, piece, 0, &piped, pipe_hex, &err), CSVR_OK);
            assert_string_equal(piped.out.s, mem.out.s);
            assert_int_equal(piped.rows, mem.rows);
            free(piped.out.s);
        }
        assert_true(mem.bad >= 2); /* the padding row and the open quote */
        file_sha256(data.s, data.len, cols, 3, file_hex);
        assert_string_equal(pipe_hex, file_hex);
        (void)mem_hex;
        free(mem.out.s);
        free(data.s);
    }
}

/* A pipe's window holds one record, not the whole input: a quoted field with line
 * breaks that spans several blocks (no line break at a block's end is a record
 * boundary) still gives its true line and raw bytes when the row is bad. */
static void test_stream_long_quoted_record(void **state)
{
    (void)state;
    static const csvr_column cols[] = { { "a", CSVR_TEXT }, { "b", CSVR_INT } };
    text data = { 0 };
    add(&data, "a,b\n");
    for (int i = 0; i < 20000; i++)
        add(&data, "\"x\ny\",%d\n", i); /* every other line break is inside quotes */
    add(&data, "\"");
    for (int i = 0; i < 200000; i++) add(&data, "line %d\n", i);
    add(&data, "\",notanint\nend,1\n");
    seen mem = { .cols = cols, .ncols = 2, .skip = true };
    seen piped = mem;
    csvr_error err;
    char hex[65];
    assert_int_equal(read_all(data.s, data.len, &mem, &err), CSVR_OK);
    assert_int_equal(read_piped(data.s, data.len, 65536, 0, &piped, hex, &err), CSVR_OK);
    assert_int_equal(piped.rows, 20001);
    assert_int_equal(piped.bad, 1);
    assert_string_equal(piped.out.s, mem.out.s);
    assert_non_null(strstr(piped.out.s, "BAD mem.csv:40002:2: error: bad int value"));
    free(mem.out.s);
    free(piped.out.s);
    free(data.s);

    /* 68 MiB of 100,010-byte records whose quoted fields break a line every 50 bytes:
     * no block of the pass ends within the 51 bytes after a record's end, so a block's
     * last line break is never between records, and a window that slid only there
     * would pass the 64 MiB record limit on valid data. */
    data = (text){ 0 };
    add(&data, "a,b\n");
    size_t records = 0;
    while (data.len < CSVR_RECORD_MAX + (4u << 20)) {
        add(&data, "\"");
        for (int line = 0; line < 2000; line++) add(&data, "%049d\n", line);
        add(&data, "\",%06zu\n", records++);
    }
    piped = (seen){ .cols = cols, .ncols = 2 };
    assert_int_equal(read_piped(data.s, data.len, 1 << 20, 0, &piped, hex, &err), CSVR_OK);
    assert_int_equal((size_t)piped.rows, records);
    free(piped.out.s);
    free(data.s);
}

/* A record of a pipe longer than CSVR_RECORD_MAX stops the pass with a located error,
 * on the line the record starts, quoted or not; a long record under the limit is
 * read. */
static void test_stream_record_limit(void **state)
{
    (void)state;
    static const csvr_column cols[] = { { "a", CSVR_TEXT } };
    size_t big = CSVR_RECORD_MAX + 1024;
    char *data = malloc(big + 64);
    assert_non_null(data);
    for (int quoted = 0; quoted <= 1; quoted++) {
        size_t len = (size_t)sprintf(data, "a\n1\n\n2\n%s", quoted ? "\"" : "");
        for (size_t i = 0; i < big; i++) data[len + i] = quoted && i % 100 == 99 ? '\n' : 'x';
        len += big;
        seen s = { .cols = cols, .ncols = 1 };
        csvr_error err;
        char hex[65];
        assert_int_equal(read_piped(data, len, 1 << 20, 0, &s, hex, &err), CSVR_ERROR);
        assert_int_equal(err.kind, CSVR_ERR_TOO_LONG);
        assert_string_equal(format_error(&err),
                            "pipe:5: error: a record longer than 64 MiB starts on this line "
                            "(a line that never ends, or a file that is not CSV)");
        assert_int_equal(s.rows, 2);
        free(s.out.s);
    }
    /* 8 MiB in one record is long, not too long */
    size_t len = (size_t)sprintf(data, "a\n");
    memset(data + len, 'y', 8u << 20);
    len += 8u << 20;
    memcpy(data + len, "\nz\n", 3);
    len += 3;
    seen s = { .cols = cols, .ncols = 1 };
    csvr_error err;
    char hex[65];
    assert_int_equal(read_piped(data, len, 1 << 20, 0, &s, hex, &err), CSVR_OK);
    assert_int_equal(s.rows, 2);
    assert_int_equal(strlen(hex), 64);
    free(s.out.s);
    free(data);
}

/* A stream is read once: chunks refuse it, and so does CSVR_READ_AGAIN (a second pass
 * would read what is left of it), before opening it. */
static void test_stream_read_once(void **state)
{
    (void)state;
    static const csvr_column cols[] = { { "a", CSVR_INT } };
    seen s = { .cols = cols, .ncols = 1 };
    csvr_error err;
    char hex[65];
    assert_int_equal(read_piped(S("a\n1\n"), 4096, CSVR_READ_AGAIN, &s, hex, &err), CSVR_ERROR);
    assert_int_equal(err.kind, CSVR_ERR_IO);
    assert_string_equal(format_error(&err),
                        "pipe: error: a pipe or device can be read only once, and this source "
                        "is read in a second pass: save it to a regular file and pass that file");
    /* a regular file may be read again */
    const char *path = temp_file("again.csv", S("a\n1\n"));
    csvr_reader *r = csvr_open(path, cols, 1, CSVR_READ_AGAIN, &err);
    assert_non_null(r);
    csvr_close(r);

    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], "a\n1\n", 4), 4);
    close(fds[1]);
    char pipe_path[64];
    snprintf(pipe_path, sizeof pipe_path, "/proc/self/fd/%d", fds[0]);
    r = csvr_open(pipe_path, cols, 1, 0, &err);
    assert_non_null(r);
    csvr_chunk chunk;
    assert_int_equal(csvr_next_chunk(r, 1024, &chunk, &err), CSVR_PLAN_ERROR);
    assert_int_equal(err.kind, CSVR_ERR_USAGE);
    csvr_close(r);
    close(fds[0]);
    free(s.out.s);
}

/* A stream in a declared encoding is converted whole in memory, so it has a bound of
 * its own: under it, it reads like the file; over it (/dev/zero), a clear error. */
static void test_encoded_stream(void **state)
{
    (void)state;
    static const csvr_column cols[] = { { "name", CSVR_TEXT } };
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], "name\ncaf\xe9\n", 10), 10);
    close(fds[1]);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fds[0]);
    csvr_error err;
    csvr_reader *r = csvr_open_encoded(path, "ISO-8859-1", cols, 1, 0, &err);
    if (r == NULL) fail_msg("%s", format_error(&err));
    assert_true(csvr_is_seekable(r)); /* converted: read from memory */
    seen s = { .cols = cols, .ncols = 1 };
    csvr_handlers h = { .on_row = on_row, .on_bad = on_bad, .ctx = &s };
    assert_int_equal(csvr_read(r, &h, &err), CSVR_OK);
    assert_string_equal(s.out.s, "'caf\xc3\xa9'\n");
    csvr_close(r);
    close(fds[0]);
    free(s.out.s);

    r = csvr_open_encoded("/dev/zero", "ISO-8859-1", cols, 1, 0, &err);
    assert_null(r);
    assert_int_equal(err.kind, CSVR_ERR_TOO_LONG);
    assert_string_equal(format_error(&err),
                        "/dev/zero: error: a pipe or device in encoding ISO-8859-1 is converted "
                        "in memory, and this one is longer than 256 MiB: convert it to UTF-8 "
                        "first (iconv -f ISO-8859-1 -t UTF-8) or pass a regular file");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_typed_values_and_nulls),
        cmocka_unit_test(test_missing_column_allowed_reads_null),
        cmocka_unit_test(test_bad_cells_name_column_and_value),
        cmocka_unit_test(test_text_is_checked_only_where_wanted),
        cmocka_unit_test(test_bom_crlf_quotes_and_blank_lines),
        cmocka_unit_test(test_lone_cr_line_ends),
        cmocka_unit_test(test_bad_cell_line_after_quoted_newlines),
        cmocka_unit_test(test_ragged_rows),
        cmocka_unit_test(test_skip_keeps_raw_bytes_verbatim),
        cmocka_unit_test(test_unterminated_quote),
        cmocka_unit_test(test_stop_from_row_callback),
        cmocka_unit_test(test_missing_column_lists_header),
        cmocka_unit_test(test_header_near_names),
        cmocka_unit_test(test_duplicate_header_names),
        cmocka_unit_test(test_no_header),
        cmocka_unit_test(test_unreadable_files),
        cmocka_unit_test(test_api_misuse),
        cmocka_unit_test(test_chunks_equal_sequential),
        cmocka_unit_test(test_chunks_on_threads),
        cmocka_unit_test(test_fixture_file_and_sha256),
        cmocka_unit_test(test_sha256_of_known_bytes),
        cmocka_unit_test(test_long_record_spanning_blocks),
        cmocka_unit_test(test_header_only_and_pipe),
        cmocka_unit_test(test_endless_record_of_a_device),
        cmocka_unit_test(test_stream_matches_memory_across_reads),
        cmocka_unit_test(test_stream_long_quoted_record),
        cmocka_unit_test(test_stream_record_limit),
        cmocka_unit_test(test_stream_read_once),
        cmocka_unit_test(test_encoded_stream),
        cmocka_unit_test(test_text_after_closing_quote),
        cmocka_unit_test(test_header_names_trimmed_unless_quoted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
