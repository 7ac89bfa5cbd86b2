/* Unit tests for JSON writing: string escaping (quotes, backslashes, every control
 * character, UTF-8 passed through) and numbers (integers without a fraction, the
 * shortest digits that read back, non-finite values as null, -0 as 0). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kpic/json.h"

static char *captured;
static size_t captured_len;

static FILE *capture(void)
{
    free(captured);
    captured = NULL;
    FILE *f = open_memstream(&captured, &captured_len);
    assert_non_null(f);
    return f;
}

static const char *string_of(const char *s)
{
    FILE *f = capture();
    json_write_string(f, s);
    fclose(f);
    return captured;
}

static const char *double_of(double v)
{
    FILE *f = capture();
    json_write_double(f, v);
    fclose(f);
    return captured;
}

static void test_strings(void **state)
{
    (void)state;
    assert_string_equal(string_of(""), "\"\"");
    assert_string_equal(string_of("plain"), "\"plain\"");
    assert_string_equal(string_of("say \"hi\"\\"), "\"say \\\"hi\\\"\\\\\"");
    assert_string_equal(string_of("a\nb\rc\td"), "\"a\\nb\\rc\\td\"");
    assert_string_equal(string_of("\x01\x1f\x7f"), "\"\\u0001\\u001f\\u007f\"");
    assert_string_equal(string_of("复购率 ¥"), "\"复购率 ¥\"");
    assert_string_equal(string_of("</script>"), "\"</script>\"");
    /* every control character is escaped: none reaches the output raw */
    char all[32];
    for (int c = 1; c < 32; c++) all[c - 1] = (char)c;
    all[31] = '\0';
    const char *out = string_of(all);
    for (const char *p = out; *p; p++) assert_true((unsigned char)*p >= 0x20);
}

static void test_numbers(void **state)
{
    (void)state;
    assert_string_equal(double_of(0), "0");
    assert_string_equal(double_of(-0.0), "0");
    assert_string_equal(double_of(42), "42");
    assert_string_equal(double_of(-7), "-7");
    assert_string_equal(double_of(0.1), "0.1");
    assert_string_equal(double_of(0.25), "0.25");
    assert_string_equal(double_of(1.0 / 3), "0.3333333333333333");
    assert_string_equal(double_of(1e15), "1e+15");
    assert_string_equal(double_of(NAN), "null");
    assert_string_equal(double_of(INFINITY), "null");
    assert_string_equal(double_of(-INFINITY), "null");
    /* whatever is printed reads back as the same double */
    double samples[] = { 1.1, 2.675, 1e-300, 123456.789, 5e-324, 1.7976931348623157e308 };
    for (size_t i = 0; i < sizeof samples / sizeof *samples; i++)
        assert_true(strtod(double_of(samples[i]), NULL) == samples[i]);
}

static int teardown(void **state)
{
    (void)state;
    free(captured);
    captured = NULL;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
