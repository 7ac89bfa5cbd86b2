/* Unit tests for the unified diff (textdiff.h): hunks, context, GNU numbering of empty
 * ranges, a missing final newline, and two unrelated texts beyond the edit bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kpic/textdiff.h"

static char *diff_of(const char *a, const char *b)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    assert_non_null(f);
    tdiff_print_unified(f, "x.kpi\toriginal", "x.kpi\tformatted", a, strlen(a), b, strlen(b));
    fclose(f);
    return buf;
}

static void test_diff(void **state)
{
    (void)state;
    char *d = diff_of("a\nb\n", "a\nb\n");
    assert_string_equal(d, "");
    free(d);
    d = diff_of("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n",
                "1\n2\nthree\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n20\nnew\n");
    assert_string_equal(d, "--- x.kpi\toriginal\n+++ x.kpi\tformatted\n"
                           "@@ -1,6 +1,6 @@\n 1\n 2\n-3\n+three\n 4\n 5\n 6\n"
                           "@@ -16,5 +16,5 @@\n 16\n 17\n 18\n-19\n 20\n+new\n");
    free(d);
    /* changes 6 lines apart share a hunk */
    d = diff_of("a\n1\n2\n3\n4\n5\n6\nb\n", "A\n1\n2\n3\n4\n5\n6\nB\n");
    assert_string_equal(d, "--- x.kpi\toriginal\n+++ x.kpi\tformatted\n"
                           "@@ -1,8 +1,8 @@\n-a\n+A\n 1\n 2\n 3\n 4\n 5\n 6\n-b\n+B\n");
    free(d);
    d = diff_of("", "x\n");
    assert_string_equal(d, "--- x.kpi\toriginal\n+++ x.kpi\tformatted\n@@ -0,0 +1 @@\n+x\n");
    free(d);
    d = diff_of("x", "x\n");
    assert_string_equal(d, "--- x.kpi\toriginal\n+++ x.kpi\tformatted\n@@ -1 +1 @@\n"
                           "-x\n\\ No newline at end of file\n+x\n");
    free(d);
}

/* Beyond the edit bound the script replaces the whole middle: still a correct diff
 * (every old line deleted, every new one inserted), never a search without end. */
static void test_unrelated_texts(void **state)
{
    (void)state;
    size_t n = 1200;
    char *a = malloc(n * 8 + 1), *b = malloc(n * 8 + 1), *pa = a, *pb = b;
    for (size_t i = 0; i < n; i++) {
        pa += sprintf(pa, "a%zu\n", i);
        pb += sprintf(pb, "b%zu\n", i);
    }
    char *d = diff_of(a, b);
    size_t minus = 0, plus = 0;
    for (const char *p = d; *p; p = strchr(p, '\n') + 1) {
        if (p[0] == '-' && p[1] != '-') minus++;
        if (p[0] == '+' && p[1] != '+') plus++;
    }
    assert_int_equal(minus, n);
    assert_int_equal(plus, n);
    assert_non_null(strstr(d, "@@ -1,1200 +1,1200 @@\n"));
    free(d);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_unrelated_texts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
