/* Unit tests for diagnostics: line/column mapping (columns count characters), caret
 * rendering under wide characters, JSON output, and "did you mean" suggestions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kpic/diag.h"

static uint32_t add(diag_sink *s, const char *text)
{
    size_t len = strlen(text);
    char *copy = xmalloc(len + 1);
    memcpy(copy, text, len + 1);
    return diag_add_file(s, "spec.kpi", copy, len);
}

/* Runs diag_print into a string (caller frees). */
static char *render(diag_sink *s, diag_format format)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    diag_print(s, out, format);
    fclose(out);
    return buf;
}

static void test_positions_count_characters(void **state)
{
    (void)state;
    diag_sink s;
    diag_init(&s);
    uint32_t f = add(&s, "ab\n复购率 x\n\nlast");
    unsigned line, col;
    diag_position(&s, f, 0, &line, &col);
    assert_int_equal(line, 1);
    assert_int_equal(col, 1);
    diag_position(&s, f, 2, &line, &col); /* the newline itself */
    assert_int_equal(line, 1);
    assert_int_equal(col, 3);
    diag_position(&s, f, 3, &line, &col);
    assert_int_equal(line, 2);
    assert_int_equal(col, 1);
    diag_position(&s, f, 3 + 10, &line, &col); /* 'x' after 3 three-byte chars and a space */
    assert_int_equal(line, 2);
    assert_int_equal(col, 5);
    diag_position(&s, f, 15, &line, &col); /* the empty line */
    assert_int_equal(line, 3);
    assert_int_equal(col, 1);
    diag_position(&s, f, 16 + 4, &line, &col); /* end of file */
    assert_int_equal(line, 4);
    assert_int_equal(col, 5);
    diag_free(&s);
}

static void test_caret_under_wide_characters(void **state)
{
    (void)state;
    diag_sink s;
    diag_init(&s);
    uint32_t f = add(&s, "indicator 复购率 = 购买\n");
    /* span of 购买: bytes 22..28 */
    kp_span span = { f, 22, 28 };
    diagnostic *d = diag_report(&s, DIAG_ERROR, span, "undefined-name", "unknown name '%s'", "购买");
    diag_hint(&s, d, "did you mean '%s'?", "购买率");
    char *text = render(&s, DIAG_FORMAT_TEXT);
    const char *want = "spec.kpi:1:17: error: unknown name '购买'\n"
                       "    1 | indicator 复购率 = 购买\n"
                       "      |                    ^~~~\n"
                       "      = hint: did you mean '购买率'?\n"
                       "1 error\n";
    assert_string_equal(text, want);
    free(text);
    diag_free(&s);
}

static void test_sorted_by_position_and_notes(void **state)
{
    (void)state;
    diag_sink s;
    diag_init(&s);
    uint32_t f = add(&s, "a\nb\n");
    kp_span second = { f, 2, 3 }, first = { f, 0, 1 };
    diagnostic *d = diag_report(&s, DIAG_ERROR, second, "duplicate-name", "'b' is defined twice");
    diag_note(&s, d, first, "first defined here");
    diag_report(&s, DIAG_WARNING, first, "w", "a warning");
    char *text = render(&s, DIAG_FORMAT_TEXT);
    const char *want = "spec.kpi:1:1: warning: a warning\n"
                       "    1 | a\n"
                       "      | ^\n"
                       "spec.kpi:2:1: error: 'b' is defined twice\n"
                       "    2 | b\n"
                       "      | ^\n"
                       "spec.kpi:1:1: note: first defined here\n"
                       "    1 | a\n"
                       "      | ^\n"
                       "1 error, 1 warning\n";
    assert_string_equal(text, want);
    free(text);
    diag_free(&s);
}

static void test_json_fields(void **state)
{
    (void)state;
    diag_sink s;
    diag_init(&s);
    uint32_t f = add(&s, "x = \"q\"\n");
    kp_span span = { f, 4, 7 };
    diagnostic *d = diag_report(&s, DIAG_ERROR, span, "type-mismatch", "text \"q\" here");
    diag_hint(&s, d, "a hint");
    char *json = render(&s, DIAG_FORMAT_JSON);
    assert_non_null(strstr(json, "\"file\": \"spec.kpi\", \"line\": 1, \"column\": 5, "
                                 "\"end_line\": 1, \"end_column\": 8, \"severity\": \"error\""));
    assert_non_null(strstr(json, "\"message\": \"text \\\"q\\\" here\""));
    assert_non_null(strstr(json, "\"hints\": [\"a hint\"]"));
    free(json);
    diag_free(&s);
}

/* A span's text as one line: comments dropped, white space runs collapsed, strings
 * (with their '#' and spaces) kept as written; no span gives "". */
static void test_span_text(void **state)
{
    (void)state;
    diag_sink d;
    diag_init(&d);
    const char text[] = "gate  refund_rate   # a comment\n   <= \"a  # b\"\n";
    char *copy = strdup(text);
    uint32_t file = diag_add_file(&d, "t.kpi", copy, strlen(text));
    arena mem;
    arena_init(&mem);
    kp_span span = { file, 6, (uint32_t)strlen(text) - 1 };
    assert_string_equal(diag_span_text(&d, span, &mem), "refund_rate <= \"a  # b\"");
    kp_span bad = { DIAG_NO_FILE, 0, 0 };
    assert_string_equal(diag_span_text(&d, bad, &mem), "");
    arena_free(&mem);
    diag_free(&d);
}

/* Line ends are LF, CRLF or a lone CR; a byte-order mark is not part of line 1. */
static void test_lone_cr_and_bom_positions(void **state)
{
    (void)state;
    diag_sink d;
    diag_init(&d);
    const char text[] = "\xEF\xBB\xBF"
                        "ab\rcd # x\ref\r\ng";
    uint32_t file = diag_add_file(&d, "t.kpi", strdup(text), strlen(text));
    unsigned line, col;
    diag_position(&d, file, 4, &line, &col); /* b */
    assert_int_equal(line, 1);
    assert_int_equal(col, 2);
    diag_position(&d, file, 7, &line, &col); /* d */
    assert_int_equal(line, 2);
    assert_int_equal(col, 2);
    diag_position(&d, file, 14, &line, &col); /* f */
    assert_int_equal(line, 3);
    assert_int_equal(col, 2);
    diag_position(&d, file, 17, &line, &col); /* g */
    assert_int_equal(line, 4);
    assert_int_equal(col, 1);
    /* a comment ends at a lone CR too */
    arena mem;
    arena_init(&mem);
    kp_span span = { file, 6, (uint32_t)strlen(text) };
    assert_string_equal(diag_span_text(&d, span, &mem), "cd ef g");
    arena_free(&mem);
    diag_free(&d);
}

static void test_edit_distance_and_suggestions(void **state)
{
    (void)state;
    assert_int_equal(diag_edit_distance("buyer", "buyers", 5), 1);
    assert_int_equal(diag_edit_distance("kitten", "sitting", 5), 3);
    assert_int_equal(diag_edit_distance("复购率", "复购", 5), 1);  /* code points, not bytes */
    assert_int_equal(diag_edit_distance("abc", "xyz12345", 2), 3); /* capped at limit + 1 */
    const char *names[] = { "buyers", "new_users", "repurchase_rate", "复购率" };
    assert_string_equal(diag_closest("buyer", names, 4), "buyers");
    assert_string_equal(diag_closest("new_user", names, 4), "new_users");
    assert_string_equal(diag_closest("复购", names, 4), "复购率");
    assert_null(diag_closest("x", names, 4));
    assert_null(diag_closest("totally_else", names, 4));
}

/* Two specs on the same data see the same data problems: a repeat is dropped with its
 * count, a different place, message or hint is kept, and spec diagnostics never are. */
static void test_drop_repeats(void **state)
{
    (void)state;
    diag_sink a, b;
    diag_init(&a);
    diag_init(&b);
    diag_hint(&a, diag_report_data(&a, DIAG_WARNING, "staff.csv", 5, 3, "role", "role 'x' not declared"),
              "h");
    diag_report_data(&a, DIAG_ERROR, "orders.csv", 2, 1, "data", "bad cell");
    diag_hint(&b, diag_report_data(&b, DIAG_WARNING, "staff.csv", 5, 3, "role", "role 'x' not declared"),
              "h");
    diag_hint(&b, diag_report_data(&b, DIAG_WARNING, "staff.csv", 5, 3, "role", "role 'x' not declared"),
              "other");
    diag_report_data(&b, DIAG_ERROR, "orders.csv", 2, 1, "data", "bad cell");
    diag_report_data(&b, DIAG_ERROR, "orders.csv", 3, 1, "data", "bad cell");
    char *text = xstrdup("x = 1\n");
    uint32_t f = diag_add_file(&b, "s.kpi", text, strlen(text));
    kp_span span = { f, 0, 1 };
    diag_report(&b, DIAG_WARNING, span, "w", "spec warning");
    diag_drop_repeats(&b, &a);
    assert_int_equal(b.diags.len, 3);
    assert_int_equal(b.errors, 1);
    assert_int_equal(b.warnings, 2);
    assert_string_equal(((diagnostic *)b.diags.items[0])->hints.items[0], "other");
    assert_int_equal(((diagnostic *)b.diags.items[1])->ext_line, 3);
    assert_string_equal(((diagnostic *)b.diags.items[2])->message, "spec warning");
    diag_free(&a);
    diag_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positions_count_characters),
        cmocka_unit_test(test_caret_under_wide_characters),
        cmocka_unit_test(test_sorted_by_position_and_notes),
        cmocka_unit_test(test_json_fields),
        cmocka_unit_test(test_edit_distance_and_suggestions),
        cmocka_unit_test(test_span_text),
        cmocka_unit_test(test_lone_cr_and_bom_positions),
        cmocka_unit_test(test_drop_repeats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
