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
 * A leaf module: it includes only the numeric, date and syntax-enum headers.
 */
#ifndef KPIC_VALUE_H
#define KPIC_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
        const char *text;      /* lives as long as the eval session */
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

/* The arithmetic operators of the IR. */
typedef enum val_arith { VAL_ADD, VAL_SUB, VAL_MUL, VAL_DIV } val_arith;

/* a OP b into OUT: null unless both are numbers; division by zero is null (as in SQL).
 * Returns DEC_OVERFLOW (OUT null) when the exact result leaves the decimal range: the
 * caller fails the run, since a wrong figure must never pass for a right one. */
dec_status val_arith_op(val_arith op, const val_t *a, const val_t *b, val_t *out);

/* -a (numbers), not a (booleans); null otherwise. */
void val_neg(const val_t *a, val_t *out);
void val_not(const val_t *a, val_t *out);

/* Three-way comparison of two non-null values of one kind: numbers exactly, dates,
 * booleans (false < true), text byte for byte (a prefix first). *ok false, and 0
 * returned, when they cannot be compared: either is null or the kinds differ. */
int val_compare(const val_t *a, const val_t *b, bool *ok);

/* The comparison operators. */
typedef enum val_cmp { VAL_EQ, VAL_NE, VAL_LT, VAL_LE, VAL_GT, VAL_GE } val_cmp;

/* a OP b: a boolean, or null when they cannot be compared (val_compare). */
void val_compare_op(val_cmp op, const val_t *a, const val_t *b, val_t *out);

/* SQL's and/or once both sides are known: false and null = false, true or null = true,
 * otherwise null wins. val_decides tells whether A alone settles the result (the
 * interpreter then leaves the right side unevaluated). */
bool val_decides(bool is_or, const val_t *a);
void val_logic(bool is_or, const val_t *a, const val_t *b, val_t *out);

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

#endif
