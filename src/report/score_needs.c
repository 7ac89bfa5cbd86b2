/* score_needs.c — what scoring reads when the values come from elsewhere (score.h,
 * score_values_needed): the indicators the roles name and the periods they are read in.
 */
#include "score_internal.h"

#include <stdlib.h>

#include "kpic/ir.h"

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
    qsort(reached.items, reached.count, sizeof *reached.items, period_compare);
    *needed = reached.items;
    *needed_count = reached.count;
    reached.items = NULL;
    ir_periods_free(&reached);
}
