/* Unit tests of pg_engine.h that need no server: which URIs --engine takes, and the
 * connection as shown, without its password in any of the places a URI holds one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kpic/pg_engine.h"

static void shown_as(const char *uri, const char *expected)
{
    char *shown = pge_display(uri);
    assert_string_equal(shown, expected);
    free(shown);
}

static void test_is_uri(void **state)
{
    (void)state;
    assert_true(pge_is_uri("postgresql://kpic@db/kpi"));
    assert_true(pge_is_uri("postgres:///kpi?host=/run/postgresql"));
    assert_false(pge_is_uri("mysql://kpic@db/kpi"));
    assert_false(pge_is_uri("host=db dbname=kpi"));
    assert_false(pge_is_uri("postgresql:/kpi"));
}

static void test_display_drops_passwords(void **state)
{
    (void)state;
    shown_as("postgresql://kpic:s3cret@db.example:5432/kpi", "postgresql://kpic@db.example:5432/kpi");
    shown_as("postgresql://kpic:s3cret@/kpi?host=/tmp/x", "postgresql://kpic@/kpi?host=/tmp/x");
    shown_as("postgresql://kpic@db/kpi?password=s3cret&sslmode=require",
             "postgresql://kpic@db/kpi?sslmode=require");
    shown_as("postgresql://kpic@db/kpi?sslmode=require&password=s3cret",
             "postgresql://kpic@db/kpi?sslmode=require");
    shown_as("postgresql://:s3cret@db/kpi", "postgresql://@db/kpi");
    /* nothing to drop */
    shown_as("postgresql:///kpi?host=/run/postgresql", "postgresql:///kpi?host=/run/postgresql");
    shown_as("postgresql://db:5432/kpi", "postgresql://db:5432/kpi");
    shown_as("postgresql://kpic@h1:5432,h2:5433/kpi", "postgresql://kpic@h1:5432,h2:5433/kpi");
    /* a parameter that only starts like password stays */
    shown_as("postgresql://db/kpi?passwordless=1", "postgresql://db/kpi?passwordless=1");
}

/* Found by fuzz_engine_uri: dropping the password parameter joined "a" and "b" into the
 * user's password "a&b", which was then shown. */
static void test_display_never_spells_the_password_by_a_join(void **state)
{
    (void)state;
    shown_as("p://u:a&b@h?a&password=x&b", "p://u@h?***");
    shown_as("postgresql://kpic:x&&y@db/kpi?x&&password=1&y", "postgresql://kpic@db/kpi?****");
    /* the '?' before the first parameter kept joins too (found by fuzz_engine_uri) */
    shown_as("postgresql://kpic:?s@db/kpi?password=x&sslmode=require",
             "postgresql://kpic@db/kpi**slmode=require");
    /* a password without '&' or '?' cannot be made by a join: the rest is shown as it is */
    shown_as("postgresql://kpic:db@db/kpi?password=1&sslmode=require",
             "postgresql://kpic@db/kpi?sslmode=require");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_is_uri),
        cmocka_unit_test(test_display_drops_passwords),
        cmocka_unit_test(test_display_never_spells_the_password_by_a_join),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
