/* Unit tests for Markdown and HTML escaping: every character that would open a table
 * cell, code span, emphasis, link or tag is neutralised, line breaks cannot end a table
 * row, and CJK text passes through unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kpic/markup.h"

static void test_markdown(void **state)
{
    (void)state;
    arena mem;
    arena_init(&mem);
    assert_string_equal(markup_md(&mem, NULL), "");
    assert_string_equal(markup_md(&mem, "复购率 按人"), "复购率 按人");
    assert_string_equal(markup_md(&mem, "a|b"), "a\\|b");
    assert_string_equal(markup_md(&mem, "`x` *y* _z_ [l](u) <b> \\"),
                        "\\`x\\` \\*y\\* \\_z\\_ \\[l](u) \\<b> \\\\");
    assert_string_equal(markup_md(&mem, "line1\nline2\r\tend"), "line1 line2  end");
    arena_free(&mem);
}

static void test_html(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    markup_html(f, "<a href=\"x\">&amp;</a>\n\t\x01营收");
    markup_html(f, NULL);
    fclose(f);
    assert_string_equal(text, "&lt;a href=&quot;x&quot;&gt;&amp;amp;&lt;/a&gt;\n\t 营收");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_markdown),
        cmocka_unit_test(test_html),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
