/* libFuzzer target: any bytes as an adjustments file (--adjustments) go through the
 * CSV reader and the row checks for every grain. A file is either read (every row then
 * has a staff id, a reason and an approver, a kpi exactly for kind kpi, and a bonus
 * amount to the cent) or refused with at least one error. Nothing may crash, hang,
 * leak or trip a sanitizer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kpic/score.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) return 0;
    for (int g = GRAIN_DAY; g <= GRAIN_YEAR; g++) {
        diag_sink diags;
        diag_init(&diags);
        score_adjustments *a = score_adjust_read_memory("fuzz.csv", data, size, (ast_grain)g, &diags);
        if (!a && diags.errors == 0) abort();
        for (size_t i = 0; a && i < a->count; i++) {
            const score_adjustment *it = &a->items[i];
            if (!it->staff_id || !*it->reason || !*it->approved_by) abort();
            if ((it->kind == SCORE_ADJUST_KPI) != (it->kpi != NULL)) abort();
            dec_t cents;
            if (it->kind != SCORE_ADJUST_KPI &&
                (dec_round(it->amount, 2, &cents) != DEC_OK || dec_cmp(cents, it->amount) != 0))
                abort();
        }
        score_adjust_free(a);
        diag_free(&diags);
    }
    return 0;
}
