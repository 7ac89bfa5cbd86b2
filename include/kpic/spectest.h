/* spectest.h — running the tests written in a spec (`kpic test`, docs/language.md
 * "Tests").
 *
 * Owns: running each `test` block of a checked spec on its own data — inline CSV
 * lines or a file per source, every source it does not give empty — for its one
 * period; comparing each expectation with what the evaluator and the scorer computed;
 * explaining each failed expectation with `kpic explain`'s chain (score.h); and the
 * reports of a run as text, JSON and JUnit XML.
 *
 * Lifecycle: st_run (per spec) → st_render (all specs of a command) → st_free.
 * Tests run in declaration order and share nothing: each has its own evaluation
 * session and its own diagnostics.
 */
#ifndef KPIC_SPECTEST_H
#define KPIC_SPECTEST_H

#include <stdbool.h>
#include <stddef.h>

#include "kpic/ast.h"
#include "kpic/check.h"

typedef enum st_status {
    ST_PASS, /* every expectation held */
    ST_FAIL, /* some expectation did not */
    ST_ERROR /* the test could not run: its data has errors */
} st_status;

/* An expectation that did not hold. Strings are malloc'd (results outlive the spec). */
typedef struct st_failure {
    char *path; /* the file of the expectation, as loaded */
    unsigned line, column;
    char *expectation; /* the line as written, without `expect` */
    char *expected;    /* "= 550.50", "within 0.1% of 0.25", "passed", "unscored" */
    char *actual;      /* "550.00", "null", "failed", "scored as role sales" */
    char *explain;     /* the chain that gave the actual value, or NULL */
} st_failure;

typedef struct st_test {
    char *name;
    char *path; /* its file */
    unsigned line;
    st_status status;
    size_t expect_count;
    st_failure *failures;
    size_t failure_count;
    char *error; /* ST_ERROR: the diagnostics, as kpic prints them */
} st_test;

/* The tests of one spec that the filter selected, in declaration order. */
typedef struct st_result {
    char *spec_path; /* as given on the command line */
    st_test *tests;
    size_t test_count;
    /* the spec itself does not check: its diagnostics (no test ran) */
    char *error;
} st_result;

/* Runs every test of SPEC (checked without errors; MODEL its model) whose name
 * contains FILTER (NULL: all). Never prints. */
st_result *st_run(ast_spec *spec, chk_model *model, const char *spec_path, const char *filter);

/* A result for a spec that could not be checked (or read): ERROR is its diagnostics
 * (taken). */
st_result *st_spec_error(const char *spec_path, char *error);

typedef enum st_format { ST_FORMAT_TEXT, ST_FORMAT_JSON, ST_FORMAT_JUNIT } st_format;

/* The report of the results of one command (docs/cli.md `kpic test`): text, JSON
 * (docs/schemas/test.schema.json) or JUnit XML (a testsuite per spec, a testcase per
 * test). malloc'd, NUL-terminated, *LEN bytes; the same results give the same bytes. */
char *st_render(st_result *const *results, size_t count, st_format format, size_t *len);

/* Counts over results: tests passed, failed, and in error (a spec in error counts
 * as one). */
void st_count(st_result *const *results, size_t count, size_t *passed, size_t *failed, size_t *errors);

void st_free(st_result *r);

#endif
