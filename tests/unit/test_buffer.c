/* Unit tests for the byte buffer (buffer.c): always NUL-terminated, holds NUL bytes,
 * grows past many doublings, printf appends, take hands over and empties. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kpic/buffer.h"

static void test_empty_and_text(void **state)
{
    (void)state;
    byte_buf b = { 0 };
    assert_string_equal(buf_text(&b), ""); /* empty: "" without any allocation */
    assert_null(b.data);
    buf_puts(&b, "a,b");
    buf_add(&b, "\0x", 2); /* NUL bytes are bytes like any other */
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.data, "a,b\0x", 6); /* and a NUL follows the last one */
    buf_printf(&b, "|%d|%s", 42, "é");
    assert_int_equal(b.len, 5 + 6);
    assert_string_equal(b.data + 4, "x|42|é");
    buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

static void test_growth_and_take(void **state)
{
    (void)state;
    byte_buf b = { 0 };
    for (int i = 0; i < 100000; i++) buf_add(&b, "0123456789", 10);
    assert_int_equal(b.len, 1000000);
    assert_true(b.cap > b.len);
    assert_int_equal(b.data[b.len], '\0');
    assert_memory_equal(b.data + 999990, "0123456789", 10);
    char *taken = buf_take(&b);
    assert_int_equal(strlen(taken), 1000000);
    assert_null(b.data); /* emptied: a new text may start */
    buf_puts(&b, "again");
    assert_string_equal(buf_text(&b), "again");
    free(taken);
    buf_free(&b);
    char *none = buf_take(&b); /* an empty buffer hands over "" */
    assert_string_equal(none, "");
    free(none);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_and_text),
        cmocka_unit_test(test_growth_and_take),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
