/* run.h — one run: a checked spec, planned for some periods, evaluated on some data.
 *
 * Owns: the lifecycle every command that reads data drives, in one order (SQLite's
 * prepare → step → finalize is the model):
 *
 *   run_new        plan for the periods (nothing is read yet)
 *   …              the command requires what it will show: eval_require… and
 *                  score_require… on run_session(r)
 *   run_execute    read the roster and every needed source once; false after
 *                  reporting bad data (then nothing may be evaluated)
 *   …              the command computes its figures from run_session(r)
 *   run_finish     the diagnostics of the evaluation, always in this order
 *                  (docs/decisions.md, "One run"): the scale misses of everything
 *                  evaluated, then the overflow check, which fails the run when any
 *                  figure left the exact decimal range
 *   run_free
 *
 * The data warnings of reading (coverage, keys, skipped rows) are reported by
 * run_execute, before any figure exists. `kpic diff` drives two runs, one per side,
 * and reads their data together with run_execute_both.
 */
#ifndef KPIC_RUN_H
#define KPIC_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "kpic/ast.h"
#include "kpic/check.h"
#include "kpic/diag.h"
#include "kpic/eval.h"
#include "kpic/period.h"

typedef struct run run;

/* A run of SPEC (checked into MODEL without errors) for PERIODS, reporting to DIAGS. */
run *run_new(ast_spec *spec, chk_model *model, const period_t *periods, size_t period_count,
             const eval_options *options, diag_sink *diags);
/* The evaluation session: what to require before run_execute, the values after it. */
eval_session *run_session(const run *r);
/* Reads the data (eval_execute). False after reporting to the sink. */
bool run_execute(run *r);
/* run_execute of two runs in one go: a file both read alike is read once for both
 * (eval_execute_pair). EXECUTED[k]: what run_execute of run k would have returned; each
 * run's diagnostics go to its own sink, as with run_execute. */
void run_execute_both(run *a, run *b, bool executed[2]);
/* Reports what evaluating the figures found, in the one order above; returns whether
 * every figure is exact (false: an overflow was reported and nothing may be written).
 * Called once, after the command computed everything it shows. */
bool run_finish(run *r);
void run_free(run *r);

#endif
