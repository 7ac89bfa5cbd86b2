/* value.c — operator semantics on runtime values (see value.h). */
#include "kpic/value.h"

#include <string.h>

void val_from_eval(const eval_value *in, val_t *out)
{
    switch (in->kind) {
    case VAL_NUM: val_set_num(out, in->as.num); return;
    case VAL_DATE: val_set_date(out, in->as.date); return;
    case VAL_BOOL: val_set_bool(out, in->as.b); return;
    case VAL_TEXT: val_set_text(out, in->as.text, in->as.text ? strlen(in->as.text) : 0); return;
    default: val_set_null(out); return;
    }
}

eval_value val_to_eval(const val_t *v)
{
    switch (v->kind) {
    case VAL_NUM: return eval_num(v->as.num);
    case VAL_DATE: return eval_date(v->as.date);
    case VAL_BOOL: return eval_bool(v->as.b);
    case VAL_TEXT: {
        eval_value out = eval_null();
        out.kind = VAL_TEXT;
        out.as.text = v->as.text.ptr;
        return out;
    }
    default: return eval_null();
    }
}

dec_status val_arith_op(val_arith op, const val_t *a, const val_t *b, val_t *out)
{
    val_set_null(out);
    if (a->kind != VAL_NUM || b->kind != VAL_NUM) return DEC_OK;
    dec_t res;
    dec_status st;
    switch (op) {
    case VAL_ADD: st = dec_add(a->as.num, b->as.num, &res); break;
    case VAL_SUB: st = dec_sub(a->as.num, b->as.num, &res); break;
    case VAL_MUL: st = dec_mul(a->as.num, b->as.num, &res); break;
    default: st = dec_div(a->as.num, b->as.num, DEC_PLACES, &res); break;
    }
    if (st == DEC_OK) val_set_num(out, res);
    return st == DEC_OVERFLOW ? DEC_OVERFLOW : DEC_OK;
}

void val_neg(const val_t *a, val_t *out)
{
    if (a->kind == VAL_NUM) val_set_num(out, dec_neg(a->as.num));
    else val_set_null(out);
}

void val_not(const val_t *a, val_t *out)
{
    if (a->kind == VAL_BOOL) val_set_bool(out, !a->as.b);
    else val_set_null(out);
}

int val_compare(const val_t *a, const val_t *b, bool *ok)
{
    *ok = a->kind == b->kind;
    if (!*ok) return 0;
    switch (a->kind) {
    case VAL_NUM: return dec_cmp(a->as.num, b->as.num);
    case VAL_DATE: return (a->as.date > b->as.date) - (a->as.date < b->as.date);
    case VAL_BOOL: return (int)a->as.b - (int)b->as.b;
    case VAL_TEXT: {
        size_t n = a->as.text.len < b->as.text.len ? a->as.text.len : b->as.text.len;
        int c = n ? memcmp(a->as.text.ptr, b->as.text.ptr, n) : 0;
        if (c) return c < 0 ? -1 : 1;
        return (a->as.text.len > b->as.text.len) - (a->as.text.len < b->as.text.len);
    }
    default: *ok = false; return 0;
    }
}

void val_compare_op(val_cmp op, const val_t *a, const val_t *b, val_t *out)
{
    val_set_null(out);
    bool ok;
    int c = val_compare(a, b, &ok);
    if (!ok) return;
    switch (op) {
    case VAL_EQ: val_set_bool(out, c == 0); return;
    case VAL_NE: val_set_bool(out, c != 0); return;
    case VAL_LT: val_set_bool(out, c < 0); return;
    case VAL_LE: val_set_bool(out, c <= 0); return;
    case VAL_GT: val_set_bool(out, c > 0); return;
    default: val_set_bool(out, c >= 0); return;
    }
}

bool val_decides(bool is_or, const val_t *a)
{
    return a->kind == VAL_BOOL && a->as.b == is_or;
}

void val_logic(bool is_or, const val_t *a, const val_t *b, val_t *out)
{
    if (val_decides(is_or, a) || val_decides(is_or, b)) val_set_bool(out, is_or);
    else if (a->kind != VAL_BOOL || b->kind != VAL_BOOL) val_set_null(out);
    else val_set_bool(out, !is_or);
}

void val_days(const val_t *a, const val_t *b, val_t *out)
{
    if (a->kind == VAL_DATE && b->kind == VAL_DATE) val_set_num(out, dec_from_int64((int64_t)b->as.date - a->as.date));
    else val_set_null(out);
}

void val_abs(const val_t *a, val_t *out)
{
    if (a->kind == VAL_NUM) val_set_num(out, dec_abs(a->as.num));
    else val_set_null(out);
}

void val_round(const val_t *a, unsigned places, val_t *out)
{
    dec_t rounded;
    if (a->kind == VAL_NUM && dec_round(a->as.num, places, &rounded) == DEC_OK) val_set_num(out, rounded);
    else val_set_null(out);
}

void val_min_max(bool is_max, const val_t *a, const val_t *b, val_t *out)
{
    bool ok;
    int c = val_compare(a, b, &ok);
    if (!ok) val_set_null(out);
    else *out = (c <= 0) != is_max ? *a : *b;
}

void val_coalesce(const val_t *a, const val_t *b, val_t *out)
{
    *out = a->kind != VAL_NULL ? *a : *b;
}

void val_in_start(const val_t *x, val_t *out)
{
    if (x->kind == VAL_NULL) val_set_null(out);
    else val_set_bool(out, false);
}

bool val_in_item(const val_t *x, const val_t *item, bool *saw_null, val_t *out)
{
    if (item->kind == VAL_NULL) {
        *saw_null = true;
        return false;
    }
    bool ok;
    if (val_compare(x, item, &ok) == 0 && ok) {
        val_set_bool(out, true);
        return true;
    }
    return false;
}

void val_in_end(const val_t *x, bool saw_null, val_t *out)
{
    if (x->kind == VAL_NULL || saw_null) val_set_null(out);
    else val_set_bool(out, false);
}

size_t val_key(const val_t *v, unsigned char buf[sizeof(dec_t)], const void **key)
{
    *key = buf;
    switch (v->kind) {
    case VAL_TEXT: *key = v->as.text.ptr; return v->as.text.len;
    case VAL_NUM: memcpy(buf, &v->as.num, sizeof(dec_t)); return sizeof(dec_t);
    case VAL_DATE: memcpy(buf, &v->as.date, sizeof(date_t)); return sizeof(date_t);
    default: buf[0] = v->as.b; return 1;
    }
}
