/* value.h — runtime values and the semantics of every operator on them.
 *
 * Owns: the value kinds, the value an expression computes while a row is read or a
 * figure is evaluated (val_t), and what each IR operator does to values (ir.h lists
 * the rules): null in → null out, SQL's three-valued and/or, exact decimal arithmetic,
 * comparisons, days(), round(), abs(), min()/max(), coalesce(), list membership.
 * The evaluator's interpreter calls these and nothing else for an operator, so the
 * native back end, the scorer and explain can never disagree on one; the SQL
 * back end renders the same rules.
 *
 * And the text of a value as people read it (eval_format_value), the one routine the
 * tables of eval and score, explain and diff print figures with.
 *
 * A leaf module: it includes only the numeric, date and syntax-enum headers.
 */
#ifndef KPIC_VALUE_H
#define KPIC_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kpic/ast.h"
#include "kpic/date.h"
#include "kpic/decimal.h"

typedef enum eval_kind { VAL_NULL, VAL_NUM, VAL_DATE, VAL_BOOL, VAL_TEXT } eval_kind;

/* A value as the evaluator hands it out: text is NUL-terminated and lives as long as
 * the eval session. */
typedef struct eval_value {
    eval_kind kind;
    union {
        dec_t num;
        date_t date;
        bool b;
        const char *text; /* lives as long as the eval session */
    } as;
} eval_value;

/* Value constructors, shared by the evaluator and the scorer. */
static inline eval_value eval_null(void)
{
    eval_value v = { VAL_NULL, { .num = { 0 } } };
    return v;
}

static inline eval_value eval_num(dec_t d)
{
    eval_value v = { VAL_NUM, { .num = d } };
    return v;
}

static inline eval_value eval_date(date_t d)
{
    eval_value v = { VAL_DATE, { .date = d } };
    return v;
}

static inline eval_value eval_bool(bool b)
{
    eval_value v = { VAL_BOOL, { .b = b } };
    return v;
}

/* A value while it is computed: text is a slice (of a row's buffer, a literal or a
 * roster cell), not necessarily NUL-terminated. Written through a pointer, field by
 * field: returning the 32-byte struct by value made every node of a row condition
 * pay a store-to-load forwarding stall. */
typedef struct val_t {
    eval_kind kind;
    union {
        dec_t num;
        date_t date;
        bool b;
        struct {
            const char *ptr;
            size_t len;
        } text;
    } as;
} val_t;

static inline void val_set_null(val_t *v)
{
    v->kind = VAL_NULL;
}

static inline void val_set_num(val_t *v, dec_t d)
{
    v->kind = VAL_NUM;
    v->as.num = d;
}

static inline void val_set_bool(val_t *v, bool b)
{
    v->kind = VAL_BOOL;
    v->as.b = b;
}

static inline void val_set_date(val_t *v, date_t d)
{
    v->kind = VAL_DATE;
    v->as.date = d;
}

static inline void val_set_text(val_t *v, const char *ptr, size_t len)
{
    v->kind = VAL_TEXT;
    v->as.text.ptr = ptr;
    v->as.text.len = len;
}

/* Conversions between the two forms. val_to_eval keeps the text pointer: call it only
 * on text that is NUL-terminated (literals, roster cells), never on a row's slice. */
void val_from_eval(const eval_value *in, val_t *out);
eval_value val_to_eval(const val_t *v);

/* The operators every row condition runs are defined here, inline, so that the
 * interpreter pays no call for them on each row; the rest are in value.c. */

/* The arithmetic operators of the IR. */
typedef enum val_arith { VAL_ADD, VAL_SUB, VAL_MUL, VAL_DIV } val_arith;

/* a OP b into OUT: null unless both are numbers; division by zero is null (as in SQL).
 * Returns DEC_OVERFLOW (OUT null) when the exact result leaves the decimal range: the
 * caller fails the run, since a wrong figure must never pass for a right one. */
static inline dec_status val_arith_op(val_arith op, const val_t *a, const val_t *b, val_t *out)
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

/* -a (numbers), not a (booleans); null otherwise. */
void val_neg(const val_t *a, val_t *out);
void val_not(const val_t *a, val_t *out);

/* Three-way comparison of two non-null values of one kind: numbers exactly, dates,
 * booleans (false < true), text byte for byte (a prefix first). *ok false, and 0
 * returned, when they cannot be compared: either is null or the kinds differ. */
static inline int val_compare(const val_t *a, const val_t *b, bool *ok)
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

/* Whether A equals B, as val_compare would say (0 with *OK), without ordering them:
 * texts of different lengths or first bytes differ without a memcmp (a where over a
 * text column compares it with a constant on every row). */
static inline bool val_equal(const val_t *a, const val_t *b, bool *ok)
{
    if (a->kind != VAL_TEXT || b->kind != VAL_TEXT) return val_compare(a, b, ok) == 0 && *ok;
    *ok = true;
    size_t n = a->as.text.len;
    return n == b->as.text.len && (n == 0 || (a->as.text.ptr[0] == b->as.text.ptr[0] &&
                                              memcmp(a->as.text.ptr, b->as.text.ptr, n) == 0));
}

/* The comparison operators. */
typedef enum val_cmp { VAL_EQ, VAL_NE, VAL_LT, VAL_LE, VAL_GT, VAL_GE } val_cmp;

/* a OP b: a boolean, or null when they cannot be compared (val_compare). */
static inline void val_compare_op(val_cmp op, const val_t *a, const val_t *b, val_t *out)
{
    val_set_null(out);
    bool ok;
    if (op == VAL_EQ || op == VAL_NE) {
        bool equal = val_equal(a, b, &ok);
        if (ok) val_set_bool(out, equal == (op == VAL_EQ));
        return;
    }
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

/* SQL's and/or once both sides are known: false and null = false, true or null = true,
 * otherwise null wins. val_decides tells whether A alone settles the result (the
 * interpreter then leaves the right side unevaluated). */
static inline bool val_decides(bool is_or, const val_t *a)
{
    return a->kind == VAL_BOOL && a->as.b == is_or;
}

static inline void val_logic(bool is_or, const val_t *a, const val_t *b, val_t *out)
{
    if (val_decides(is_or, a) || val_decides(is_or, b)) val_set_bool(out, is_or);
    else if (a->kind != VAL_BOOL || b->kind != VAL_BOOL) val_set_null(out);
    else val_set_bool(out, !is_or);
}

/* days(a, b): b − a in days when both are dates, else null. */
void val_days(const val_t *a, const val_t *b, val_t *out);
/* abs(a); round(a, places) half away from zero (places 0..18). */
void val_abs(const val_t *a, val_t *out);
void val_round(const val_t *a, unsigned places, val_t *out);
/* min(a, b), max(a, b): null when they cannot be compared. */
void val_min_max(bool is_max, const val_t *a, const val_t *b, val_t *out);
/* coalesce(a, b): a unless it is null, then b. */
void val_coalesce(const val_t *a, const val_t *b, val_t *out);

/* `x in (items)` one item at a time: start with val_in_start (false, or null when x is
 * null), feed each item with val_in_item until it returns true (the answer is known). */
void val_in_start(const val_t *x, val_t *out);
bool val_in_item(const val_t *x, const val_t *item, bool *saw_null, val_t *out);
/* The answer once every item was fed without a match. */
void val_in_end(const val_t *x, bool saw_null, val_t *out);

/* The bytes a value is keyed by in distinct() and sets: text as it is, a number as its
 * exact scaled integer (equal numbers have equal units), a date or a boolean as its
 * binary value. An aggregate's keys all have one kind, so bytes of different kinds
 * never meet. Returns the length; *key points at the bytes (BUF, or the text itself). */
size_t val_key(const val_t *v, unsigned char buf[sizeof(dec_t)], const void **key);

/* ---- the text of a value ---- */

/* Text of a value as a person reads it, by unit: percent ×100 with '%', money with 2
 * decimals and thousands separators, n/a for null. Returns the length (snprintf-like).
 * (It keeps the eval_ name every output already calls it by.) */
size_t eval_format_value(eval_value v, ast_unit unit, char *buf, size_t size);

/* Holds any number text built here: a dec_format() result (< DEC_FORMAT_SIZE) plus
 * at most 13 thousands separators, or the '%' of a percentage. */
#define VAL_NUMBER_TEXT_SIZE (DEC_FORMAT_SIZE + 16)

/* V rounded half away from zero to at most PLACES decimals, trailing zeros dropped:
 * "3.2", "0.25", "1300". */
void val_format_trimmed(dec_t v, unsigned places, char out[VAL_NUMBER_TEXT_SIZE]);
/* IN ("-1234567.89": digits with an optional sign and fraction) with a ',' between
 * every three integer digits: "-1,234,567.89". */
void val_group_thousands(const char *in, char out[VAL_NUMBER_TEXT_SIZE]);

#endif
