/* value.c — operator semantics on runtime values, and their text (see value.h).
 *
 * Values for people (eval_format_value: eval's and score's tables, explain, diff), by unit:
 *   count             rounded to 2 places, trailing zeros and point dropped:
 *                     1300, 2.5 (a count is normally an integer; count x ratio
 *                     may not be)
 *   money             exactly 2 places, thousands separated by ',':
 *                     12,345.60, -1,234.00, 0.005 -> 0.01, -0.005 -> -0.01
 *   percent           value x 100 rounded to 1 place, trailing .0 dropped, '%':
 *                     0.25 -> 25%, 1/3 -> 33.3%, 2/3 -> 66.7%, 1.5 -> 150%
 *   ratio, number,    rounded to 2 places, trailing zeros and point dropped:
 *   days, points      3.2, 0.25, 1/3 -> 0.33, 3.0 -> 3
 *   any unit          null -> n/a, a date -> YYYY-MM-DD, a bool -> true/false,
 *                     text as is
 * All rounding is half away from zero; a value that rounds to zero has no minus
 * sign (-0.004 money is 0.00).  No locale is consulted.
 */
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


void val_days(const val_t *a, const val_t *b, val_t *out)
{
    if (a->kind == VAL_DATE && b->kind == VAL_DATE)
        val_set_num(out, dec_from_int64((int64_t)b->as.date - a->as.date));
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
    if (val_equal(x, item, &ok)) {
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

/* ---- the text of a value ---------------------------------------------------------- */

/* Copies TEXT into BUF like snprintf("%s") and returns strlen(TEXT). */
static size_t put_text(const char *text, char *buf, size_t size)
{
    size_t n = strlen(text);
    if (size > 0) {
        size_t copy = n < size - 1 ? n : size - 1;
        memcpy(buf, text, copy);
        buf[copy] = '\0';
    }
    return n;
}

/* V rounded half away from zero to at most PLACES decimals, trailing zeros
 * dropped: "3.2", "0.25", "1300". */
void val_format_trimmed(dec_t v, unsigned places, char out[VAL_NUMBER_TEXT_SIZE])
{
    dec_format_trimmed(v, places, out, VAL_NUMBER_TEXT_SIZE);
}

/* IN ("-1234567.89", digits with an optional sign and fraction) with a ',' between
 * every three integer digits: "-1,234,567.89". */
void val_group_thousands(const char *in, char out[VAL_NUMBER_TEXT_SIZE])
{
    const char *p = in;
    char *o = out;
    if (*p == '-') *o++ = *p++;
    size_t int_len = strcspn(p, ".");
    for (size_t i = 0; i < int_len; i++) {
        if (i > 0 && (int_len - i) % 3 == 0) *o++ = ',';
        *o++ = p[i];
    }
    strcpy(o, p + int_len);
}

/* Money for people: exactly 2 places with thousands separators. */
static void format_money(dec_t v, char out[VAL_NUMBER_TEXT_SIZE])
{
    char plain[DEC_FORMAT_SIZE];
    dec_format(v, 2, plain, sizeof plain);
    val_group_thousands(plain, out);
}

/* A fraction for people as a percentage: V x 100 rounded half away from zero to 1
 * place, ".0" dropped, then '%'.  Rounding V to 3 places is exactly rounding V x 100
 * to 1, so the digits come from dec_format(V, 3) with the point moved two places
 * right; no multiplication, hence no overflow at the edge of the range. */
static void format_percent(dec_t v, char out[VAL_NUMBER_TEXT_SIZE])
{
    char plain[DEC_FORMAT_SIZE];
    dec_format(v, 3, plain, sizeof plain); /* "[-]I.FFF", I at least "0" */
    const char *p = plain;
    char *o = out;
    if (*p == '-') *o++ = *p++;
    const char *point = strchr(p, '.');
    char digits[DEC_FORMAT_SIZE];
    size_t n = (size_t)(point - p);
    memcpy(digits, p, n);
    digits[n++] = point[1];
    digits[n++] = point[2];
    size_t lead = 0;
    while (lead + 1 < n && digits[lead] == '0') lead++;
    memcpy(o, digits + lead, n - lead);
    o += n - lead;
    if (point[3] != '0') {
        *o++ = '.';
        *o++ = point[3];
    }
    *o++ = '%';
    *o = '\0';
}

/* A number for people by unit (the rules at the top of this file). */
static void format_number(dec_t v, ast_unit unit, char out[VAL_NUMBER_TEXT_SIZE])
{
    switch (unit) {
    case UNIT_MONEY: format_money(v, out); return;
    case UNIT_PERCENT: format_percent(v, out); return;
    case UNIT_COUNT:
    case UNIT_RATIO:
    case UNIT_NUMBER:
    case UNIT_DAYS:
    case UNIT_POINTS: break;
    }
    val_format_trimmed(v, 2, out);
}

size_t eval_format_value(eval_value v, ast_unit unit, char *buf, size_t size)
{
    char text[VAL_NUMBER_TEXT_SIZE];
    switch (v.kind) {
    case VAL_NUM: format_number(v.as.num, unit, text); return put_text(text, buf, size);
    case VAL_DATE:
        if (v.as.date < DATE_MIN || v.as.date > DATE_MAX) return put_text("n/a", buf, size);
        date_format(v.as.date, text, sizeof text);
        return put_text(text, buf, size);
    case VAL_BOOL: return put_text(v.as.b ? "true" : "false", buf, size);
    case VAL_TEXT: return put_text(v.as.text ? v.as.text : "", buf, size);
    case VAL_NULL: break;
    }
    return put_text("n/a", buf, size);
}
