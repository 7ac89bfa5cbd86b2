/* scale.c — applying a decoded scale (ir.h, ir_scale_): which interval holds an input,
 * and the points it gives. One definition for the evaluator, the scorer and explain;
 * the SQL back end renders the same rules and the ceiling bounds them. */
#include "kpic/ir.h"

int ir_scale_find(const ir_scale *scale, dec_t x)
{
    for (int i = 0; i < scale->row_count; i++) {
        const ir_scale_row *r = &scale->rows[i];
        bool above_lo = r->lo_inf < 0 ||
                        (r->lo_inf == 0 && (r->lo_closed ? dec_cmp(x, r->lo) >= 0 : dec_cmp(x, r->lo) > 0));
        bool below_hi = r->hi_inf > 0 ||
                        (r->hi_inf == 0 && (r->hi_closed ? dec_cmp(x, r->hi) <= 0 : dec_cmp(x, r->hi) < 0));
        if (above_lo && below_hi) return i;
    }
    return -1;
}

bool ir_scale_apply(const ir_scale *scale, dec_t x, dec_t *points)
{
    int i = ir_scale_find(scale, x);
    if (i < 0) return false;
    const ir_scale_row *r = &scale->rows[i];
    if (!r->linear) {
        *points = r->from;
        return true;
    }
    /* The checker allows a `from .. to` row only between finite bounds; a row that
     * slipped through has no line to follow, and gives no points rather than a guess. */
    if (r->lo_inf || r->hi_inf) return false;
    dec_t dx, span, rise, part;
    return !dec_sub(x, r->lo, &dx) && !dec_sub(r->hi, r->lo, &span) && !dec_sub(r->to, r->from, &rise) &&
           !dec_mul(dx, rise, &part) && !dec_div(part, span, DEC_PLACES, &part) &&
           !dec_add(r->from, part, points);
}
