/* lowered_spec.h — a fixture of the unit tests that read the IR (test_lower, test_reach,
 * test_score_needs): a spec parsed, checked (it must be clean) and lowered from text. */
#ifndef KPIC_TEST_LOWERED_SPEC_H
#define KPIC_TEST_LOWERED_SPEC_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpic/ast.h"
#include "kpic/check.h"
#include "kpic/ir.h"
#include "kpic/period.h"

typedef struct lowered {
    diag_sink diags;
    ast_spec *spec;
    chk_model *model;
    ir_program *ir;
} lowered;

/* Parses, checks (which must be clean) and lowers HEADER + TEXT. */
static inline void lower_text(lowered *l, const char *header, const char *text)
{
    diag_init(&l->diags);
    size_t len = strlen(header) + strlen(text);
    char *copy = xmalloc(len + 1);
    snprintf(copy, len + 1, "%s%s", header, text);
    uint32_t file = diag_add_file(&l->diags, "t.kpi", copy, len);
    ast_spec *spec = xcalloc(1, sizeof *spec);
    arena_init(&spec->mem);
    spec->diags = &l->diags;
    ast_file *f = ast_parse_file(&spec->mem, &l->diags, file);
    ptr_vec_push(&spec->mem, &spec->files, f);
    for (size_t i = 0; i < f->decls.len; i++) ptr_vec_push(&spec->mem, &spec->decls, f->decls.items[i]);
    l->spec = spec;
    l->model = chk_check(spec);
    if (l->diags.errors) diag_print(&l->diags, stderr, DIAG_FORMAT_TEXT);
    assert_int_equal(l->diags.errors, 0);
    l->ir = lower_spec(&spec->mem, l->model);
}

static inline void lowered_free(lowered *l)
{
    ir_program_free(l->ir);
    ast_free_spec(l->spec);
    diag_free(&l->diags);
}

/* The period TEXT of GRAIN, which must parse. */
static inline period_t parse(const char *text, ast_grain grain)
{
    period_t p;
    assert_int_equal(period_parse(text, strlen(text), grain, &p, NULL, 0), PERIOD_OK);
    return p;
}

/* The spec head of the tests of the periods that previous() and last_year() reach
 * (test_reach, test_score_needs). */
#define SHIFTS_HEADER                                                                             \
    "period month\n"                                                                              \
    "staff \"staff.csv\" { id text  role text  base_bonus money  quota money }\n"                 \
    "source orders \"orders.csv\" { staff_id text staff  amount money  paid_at date time }\n"     \
    "indicator revenue money per staff = sum(orders.amount)\n"                                    \
    "indicator growth money per staff = revenue - previous(revenue)\n"                            \
    "indicator yearly money per staff = last_year(previous(sum(orders.amount)))\n"                \
    "indicator team money = sum(orders.amount)\n"

#endif
