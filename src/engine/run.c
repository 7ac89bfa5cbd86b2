/* run.c — one run of a spec over data (see run.h). */
#include "kpic/run.h"

#include <stdlib.h>

struct run {
    eval_session *session;
    bool executed; /* run_execute succeeded */
    bool finished; /* run_finish was called */
    bool exact;    /* its answer */
};

run *run_new(ast_spec *spec, chk_model *model, const period_t *periods, size_t period_count,
             const eval_options *options, diag_sink *diags)
{
    run *r = xcalloc(1, sizeof *r);
    r->session = eval_new(spec, model, periods, period_count, options, diags);
    return r;
}

eval_session *run_session(const run *r)
{
    return r->session;
}

bool run_execute(run *r)
{
    r->executed = eval_execute(r->session);
    return r->executed;
}

void run_execute_both(run *a, run *b, bool executed[2])
{
    eval_execute_pair(a->session, b->session, executed);
    a->executed = executed[0];
    b->executed = executed[1];
}

bool run_finish(run *r)
{
    if (r->finished) return r->exact;
    r->finished = true;
    /* warnings first: a run that then fails on an overflow still shows which inputs
     * fell outside a scale */
    eval_report_scale_misses(r->session);
    r->exact = eval_overflow_check(r->session);
    return r->exact;
}

void run_free(run *r)
{
    if (!r) return;
    eval_free(r->session);
    free(r);
}
