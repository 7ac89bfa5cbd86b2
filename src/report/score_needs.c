/* score_needs.c — what scoring reads when the values come from elsewhere (score.h,
 * score_values_needed): the indicators the roles name and the periods they are read in.
 */
#include "score_internal.h"

#include <stdlib.h>
#include <string.h>

#include "kpic/ir.h"

/* By first day, then a month before the quarter it opens (a role of its own period). */
static int by_start(const void *a, const void *b)
{
    const period_t *x = a, *y = b;
    if (x->start != y->start) return (x->start > y->start) - (x->start < y->start);
    return (x->grain > y->grain) - (x->grain < y->grain);
}

void score_values_needed(const ir_program *program, const period_t *periods, size_t period_count,
                         ast_decl ***indicators, size_t *indicator_count, period_t **needed,
                         size_t *needed_count)
{
    const chk_model *model = program->model;
    ir_periods reached = { 0 };
    ir_model_periods(program, periods, period_count, IR_REACH_VALUES, &reached);
    *indicators = xcalloc(model->indicators.len + 1, sizeof **indicators);
    *indicator_count = 0;
    for (size_t i = 0; i < model->indicators.len; i++)
        for (size_t k = 0; k < reached.indicator_count; k++)
            if (reached.indicators[k] == model->indicators.items[i]) {
                (*indicators)[(*indicator_count)++] = model->indicators.items[i];
                break;
            }
    qsort(reached.items, reached.count, sizeof *reached.items, by_start);
    *needed = reached.items;
    *needed_count = reached.count;
    reached.items = NULL;
    ir_periods_free(&reached);
}
