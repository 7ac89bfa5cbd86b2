/* twins.c — whether two programs' aggregates compute one figure from one pass's rows
 * (see ir.h, ir_agg_twins).
 *
 * Lowering interns an aggregate within one program by pointer identity of its
 * declarations (lower.c, agg_equal). Two programs — the two specs of `kpic diff` —
 * share no pointer, so this compares by structure: columns by their index in sources
 * declared alike, literals by value. It is deliberately narrow. An aggregate that
 * passes is computed by one session and copied into the other, so anything its
 * evaluation does besides giving a value (arithmetic that overflows and fails the run,
 * a scale that counts inputs outside its rows, a set or the roster read through the
 * session) must stay with each session: such nodes make the answer "no", and the
 * aggregate is then computed twice, as before.
 */
#include <string.h>

#include "kpic/ir.h"

/* The node kinds whose evaluation on a row gives a value and nothing else. */
static bool pure_kind(ir_kind kind)
{
    switch (kind) {
    case IR_NUMBER:
    case IR_DATE:
    case IR_TEXT:
    case IR_BOOL:
    case IR_NULL:
    case IR_COLUMN:
    case IR_PERIOD_START:
    case IR_PERIOD_END:
    case IR_GROUP_AGGREGATE:
    case IR_NOT:
    case IR_EQ:
    case IR_NE:
    case IR_LT:
    case IR_LE:
    case IR_GT:
    case IR_GE:
    case IR_AND:
    case IR_OR:
    case IR_IF:
    case IR_IN_LIST:
    case IR_IN_PERIOD:
    case IR_IN_PREVIOUS_PERIOD:
    case IR_BEFORE_PERIOD:
    case IR_DAYS:
    case IR_MIN:
    case IR_MAX:
    case IR_COALESCE: return true;
    default: return false;
    }
}

bool ir_literal_equal(const ir_node *a, const ir_node *b)
{
    switch (a->kind) {
    case IR_NUMBER: return dec_cmp(a->u.number, b->u.number) == 0;
    case IR_DATE: return a->u.date == b->u.date;
    case IR_BOOL: return a->u.boolean == b->u.boolean;
    case IR_TEXT:
        return a->u.text.text_len == b->u.text.text_len &&
               memcmp(a->u.text.text, b->u.text.text, a->u.text.text_len) == 0;
    default: return true;
    }
}

bool ir_expr_twins(const ir_node *a, const ast_decl *src_a, const ir_node *b, const ast_decl *src_b)
{
    if (!a || !b) return a == b;
    if (a->kind != b->kind || a->type != b->type || !pure_kind(a->kind)) return false;
    if (!ir_literal_equal(a, b)) return false;
    switch (a->kind) {
    case IR_COLUMN:
        /* a cell of the row being aggregated: the same place in sources declared alike */
        if (a->u.column.source != src_a || b->u.column.source != src_b ||
            a->u.column.index != b->u.column.index || a->u.column.type != b->u.column.type)
            return false;
        break;
    case IR_GROUP_AGGREGATE:
        return a->u.group.kind == b->u.group.kind && a->u.group.slot == b->u.group.slot &&
               ir_expr_twins(a->u.group.arg, src_a, b->u.group.arg, src_b) &&
               ir_expr_twins(a->u.group.where, src_a, b->u.group.where, src_b);
    default: break;
    }
    if (a->item_count != b->item_count) return false;
    for (size_t i = 0; i < a->item_count; i++)
        if (!ir_expr_twins(a->items[i], src_a, b->items[i], src_b)) return false;
    return ir_expr_twins(a->a, src_a, b->a, src_b) && ir_expr_twins(a->b, src_a, b->b, src_b) &&
           ir_expr_twins(a->c, src_a, b->c, src_b);
}

bool ir_agg_same_keys(const ir_agg *a, const ir_agg *b)
{
    if (a->kind != b->kind || a->set || b->set || a->member_set || b->member_set) return false;
    if (a->window.kind != b->window.kind) return false;
    if (a->window.kind == WINDOW_LAST &&
        (a->window.count != b->window.count || a->window.unit != b->window.unit))
        return false;
    return ir_expr_twins(a->arg, a->source, b->arg, b->source) &&
           ir_expr_twins(a->where, a->source, b->where, b->source);
}

bool ir_agg_same_slots(const ir_agg *a, const ir_agg *b)
{
    if (a->slot_count != b->slot_count) return false;
    for (size_t i = 0; i < a->slot_count; i++)
        if (!ir_expr_twins(a->slots[i], a->source, b->slots[i], b->source)) return false;
    return true;
}

bool ir_agg_twins(const ir_agg *a, const ir_agg *b)
{
    return ir_agg_same_keys(a, b) && ir_agg_same_slots(a, b) &&
           ir_expr_twins(a->having, a->source, b->having, b->source);
}
