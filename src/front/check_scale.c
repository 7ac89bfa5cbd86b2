/* check_scale.c — exact decimals for literals, and the checks of scales (docs/language.md §3 scale).
 *
 * Bounds and weights are compared exactly in decimal: a literal is kept as its digits
 * and a power of ten, so 60% equals 0.6 and 33.3% + 33.3% + 33.4% is exactly 100%, with
 * no binary floating point and no limit on the number of digits.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "check_internal.h"

/* ---- exact decimals --------------------------------------------------------------- */

/* Drops leading zeros of the digits and trailing zeros of the fraction. */
static chk_exact normalize(arena *mem, const char *digits, size_t len, int scale, bool neg)
{
    size_t start = 0;
    while (start < len && digits[start] == '0') start++;
    while (len > start && scale > 0 && digits[len - 1] == '0') {
        len--;
        scale--;
    }
    chk_exact v = { false, false, "", 0 };
    if (len == start) return v; /* zero: no sign, no scale */
    v.digits = arena_strndup(mem, digits + start, len - start);
    v.scale = scale;
    v.neg = neg;
    return v;
}

bool chk_exact_parse(arena *mem, const char *text, bool percent, chk_exact *out)
{
    size_t len = strlen(text);
    if (len > INT_MAX / 2) return false; /* the scale is an int; no spec gets close */
    char *digits = arena_alloc(mem, len + 1);
    size_t n = 0;
    int scale = 0;
    bool point = false, any = false;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (ch >= '0' && ch <= '9') {
            digits[n++] = ch;
            any = true;
            if (point) scale++;
        } else if (ch == '.' && !point) {
            point = true;
        } else {
            return false;
        }
    }
    if (!any) return false;
    if (percent) scale += 2;
    *out = normalize(mem, digits, n, scale, false);
    return true;
}

bool chk_exact_literal(arena *mem, const ast_expr *e, chk_exact *out)
{
    bool neg = false;
    if (e->kind == EX_UNARY && e->u.op.op == OP_NEG) {
        neg = true;
        e = e->u.op.lhs;
    }
    if (e->kind == EX_INF) {
        out->inf = true;
        out->neg = neg;
        out->digits = "";
        out->scale = 0;
        return true;
    }
    if (e->kind != EX_NUMBER && e->kind != EX_PERCENT) return false;
    if (!chk_exact_parse(mem, e->u.lit.text, e->kind == EX_PERCENT, out)) return false;
    out->neg = neg && out->digits[0] != '\0';
    return true;
}

/* Compares |a| and |b| of finite values. */
static int cmp_magnitude(chk_exact a, chk_exact b)
{
    size_t la = strlen(a.digits), lb = strlen(b.digits);
    if (la == 0 || lb == 0) return (la > 0) - (lb > 0);
    /* position of the leading digit: digits have no leading zeros */
    long ea = (long)la - a.scale, eb = (long)lb - b.scale;
    if (ea != eb) return ea < eb ? -1 : 1;
    size_t n = la > lb ? la : lb;
    for (size_t i = 0; i < n; i++) {
        char x = i < la ? a.digits[i] : '0', y = i < lb ? b.digits[i] : '0';
        if (x != y) return x < y ? -1 : 1;
    }
    return 0;
}

int chk_exact_cmp(chk_exact a, chk_exact b)
{
    /* rank: -inf < negative < zero/positive < +inf */
    int ra = a.inf ? (a.neg ? -2 : 2) : 0, rb = b.inf ? (b.neg ? -2 : 2) : 0;
    if (ra || rb) return ra == rb ? 0 : ra < rb ? -1 : 1;
    if (a.neg != b.neg) return a.neg ? -1 : 1;
    int m = cmp_magnitude(a, b);
    return a.neg ? -m : m;
}

chk_exact chk_exact_add(arena *mem, chk_exact a, chk_exact b)
{
    size_t la = strlen(a.digits), lb = strlen(b.digits);
    int scale = a.scale > b.scale ? a.scale : b.scale;
    if (scale < 0) scale = 0;
    /* integer digits of each, once aligned on `scale` fractional digits */
    long ia = (long)la - a.scale, ib = (long)lb - b.scale;
    long ints = ia > ib ? ia : ib;
    if (ints < 0) ints = 0;
    size_t width = (size_t)ints + (size_t)scale;
    char *out = arena_alloc(mem, width + 2);
    int carry = 0;
    /* position p counts from the least significant digit, at 10^-scale */
    for (size_t p = 0; p < width; p++) {
        int sum = carry;
        const chk_exact *v[2] = { &a, &b };
        size_t lens[2] = { la, lb };
        for (int k = 0; k < 2; k++) {
            /* digit of v at 10^(p - scale): index from its end is p - (scale - v.scale) */
            long from_end = (long)p - (scale - v[k]->scale);
            if (from_end >= 0 && (size_t)from_end < lens[k])
                sum += v[k]->digits[lens[k] - 1 - (size_t)from_end] - '0';
        }
        out[width - p] = (char)('0' + sum % 10);
        carry = sum / 10;
    }
    out[0] = (char)('0' + carry);
    return normalize(mem, out, width + 1, scale, false);
}

char *chk_exact_format(arena *mem, chk_exact v, int shift)
{
    if (v.inf) return v.neg ? "-inf" : "inf";
    size_t len = strlen(v.digits);
    if (len == 0) return "0";
    long scale = (long)v.scale - shift;
    size_t zeros = (size_t)(scale < 0 ? -scale : scale);
    char *out = arena_alloc(mem, len + zeros + 4);
    char *p = out;
    if (v.neg) *p++ = '-';
    if (scale <= 0) { /* an integer: digits, then zeros */
        memcpy(p, v.digits, len);
        p += len;
        memset(p, '0', zeros);
        p += zeros;
    } else if ((size_t)scale >= len) { /* below one: 0.000digits */
        *p++ = '0';
        *p++ = '.';
        memset(p, '0', (size_t)scale - len);
        p += (size_t)scale - len;
        memcpy(p, v.digits, len);
        p += len;
    } else { /* digits with the point inside */
        size_t ints = len - (size_t)scale;
        memcpy(p, v.digits, ints);
        p += ints;
        *p++ = '.';
        memcpy(p, v.digits + ints, (size_t)scale);
        p += scale;
    }
    *p = '\0';
    /* a negative shift can move integer zeros behind the point: "100" → "10.0" */
    if (strchr(out, '.')) {
        while (p[-1] == '0') *--p = '\0';
        if (p[-1] == '.') *--p = '\0';
    }
    return out;
}

/* ---- scales ----------------------------------------------------------------------- */

const char *const chk_builtin_functions[] = {
    "count", "sum",   "avg",  "min",      "max",       "distinct",
    "abs",   "round", "days", "previous", "last_year", "coalesce",
};
const size_t chk_builtin_function_count = sizeof chk_builtin_functions / sizeof chk_builtin_functions[0];

static bool is_percent_literal(const ast_expr *e)
{
    if (e->kind == EX_UNARY && e->u.op.op == OP_NEG) e = e->u.op.lhs;
    return e->kind == EX_PERCENT;
}

bool chk_scale_takes_ratio(const ast_decl *scale)
{
    bool any = false;
    for (int i = 0; i < scale->u.scale.row_count; i++) {
        const ast_scale_row *r = &scale->u.scale.rows[i];
        const ast_expr *b[2] = { r->lo, r->hi };
        for (int k = 0; k < 2; k++) {
            const ast_expr *e = b[k];
            if (e->kind == EX_UNARY) e = e->u.op.lhs;
            if (e->kind == EX_INF) continue;
            if (e->kind != EX_PERCENT) return false;
            any = true;
        }
    }
    return any;
}

/* Annotates a literal of a scale row: bounds and outputs are plain numbers or ratios
 * that an exact decimal holds (else an error). */
static void annotate_literal(chk_ctx *c, ast_expr *e)
{
    chk_literal_number(c, e);
    ast_expr *lit = e->kind == EX_UNARY ? e->u.op.lhs : e;
    ast_dim d = lit->kind == EX_PERCENT ? DIM_RATIO : DIM_NUMBER;
    lit->type = TYPE_NUM;
    lit->dim = d;
    e->type = TYPE_NUM;
    e->dim = d;
}

/* One row, as far as the coverage checks need it. */
typedef struct row_bounds {
    chk_exact lo, hi;
    bool lo_closed, hi_closed;
    const char *text; /* the interval as written, e.g. "[60%, 100%)" */
    bool valid;       /* bounds usable for the order/overlap/gap checks */
} row_bounds;

static const char *interval_text(chk_ctx *c, bool lo_closed, const char *lo, const char *hi, bool hi_closed)
{
    return arena_printf(c->mem, "%c%s, %s%c", lo_closed ? '[' : '(', lo, hi, hi_closed ? ']' : ')');
}

/* The checks of one row on its own: bounds in order, infinities open and only where
 * they make sense, no inf among the points, linear segments on finite intervals. */
static void check_row(chk_ctx *c, ast_decl *scale, ast_scale_row *r, row_bounds *b)
{
    annotate_literal(c, r->lo);
    annotate_literal(c, r->hi);
    b->lo_closed = r->lo_closed;
    b->hi_closed = r->hi_closed;
    b->text = interval_text(c, r->lo_closed, chk_snippet(c, r->lo->span), chk_snippet(c, r->hi->span),
                            r->hi_closed);
    b->valid = chk_exact_literal(c->mem, r->lo, &b->lo) && chk_exact_literal(c->mem, r->hi, &b->hi);
    if (!b->valid) return; /* the grammar admits only literals here */
    if (b->lo.inf && !b->lo.neg) {
        diagnostic *d =
            diag_report(c->diags, DIAG_ERROR, r->lo->span, "scale-bound",
                        "the lower bound of %s in scale '%s' cannot be 'inf'", b->text, scale->name);
        diag_hint(c->diags, d, "'inf' ends the last row, e.g. [150%%, inf); the first may start at '-inf'");
        b->valid = false;
    }
    if (b->hi.inf && b->hi.neg) {
        diag_report(c->diags, DIAG_ERROR, r->hi->span, "scale-bound",
                    "the upper bound of %s in scale '%s' cannot be '-inf'", b->text, scale->name);
        b->valid = false;
    }
    if (!b->valid) return;
    if ((b->lo.inf && r->lo_closed) || (b->hi.inf && r->hi_closed)) {
        bool lo = b->lo.inf && r->lo_closed;
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, lo ? r->lo->span : r->hi->span, "scale-bound",
                                    "%s in scale '%s' includes '%s', which is not a number", b->text,
                                    scale->name, lo ? "-inf" : "inf");
        diag_hint(c->diags, d,
                  lo ? "write '(-inf, …': an infinite bound is always open"
                     : "write '…, inf)': an infinite bound is always open");
    }
    int order = chk_exact_cmp(b->lo, b->hi);
    if (order > 0 || (order == 0 && !(r->lo_closed && r->hi_closed))) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, r->span, "scale-bound", "%s in scale '%s' is empty",
                                    b->text, scale->name);
        diag_hint(c->diags, d,
                  order > 0 ? "the lower bound comes first"
                            : "an interval needs a lower bound below its upper bound");
        b->valid = false;
    }
    ast_expr *out[2] = { r->from, r->to };
    for (int k = 0; k < 2; k++) {
        if (!out[k]) continue;
        annotate_literal(c, out[k]);
        const ast_expr *lit = out[k]->kind == EX_UNARY ? out[k]->u.op.lhs : out[k];
        if (lit->kind == EX_INF) {
            diagnostic *d = diag_report(c->diags, DIAG_ERROR, out[k]->span, "scale-bound",
                                        "scale '%s' gives '%s' for %s, but 'inf' is only a bound",
                                        scale->name, chk_snippet(c, out[k]->span), b->text);
            diag_hint(c->diags, d, "cap the points with a number, e.g. [150%%, inf) -> 150");
        }
    }
    if (r->to && (b->lo.inf || b->hi.inf)) {
        diagnostic *d =
            diag_report(c->diags, DIAG_ERROR, ast_span_join(r->from->span, r->to->span), "scale-linear",
                        "the linear segment %s .. %s needs a finite interval, but %s is unbounded",
                        chk_snippet(c, r->from->span), chk_snippet(c, r->to->span), b->text);
        diag_hint(c->diags, d, "give the row a constant, e.g. -> %s", chk_snippet(c, r->to->span));
    }
}

void chk_scale(chk_ctx *c, ast_decl *scale)
{
    int n = scale->u.scale.row_count;
    scale->dim = DIM_NUMBER;
    if (n == 0) {
        diagnostic *d = diag_report(c->diags, DIAG_ERROR, scale->name_span, "scale-empty",
                                    "scale '%s' has no rows", scale->name);
        diag_hint(c->diags, d, "a row maps an interval to points, e.g. [0%%, 60%%) -> 0");
        return;
    }
    for (size_t i = 0; i < chk_builtin_function_count; i++) {
        if (strcmp(scale->name, chk_builtin_functions[i]) == 0) {
            diagnostic *d = diag_report(c->diags, DIAG_ERROR, scale->name_span, "reserved-name",
                                        "scale '%s' has the name of a built-in function", scale->name);
            diag_hint(c->diags, d, "'%s(x)' would call the built-in; rename the scale", scale->name);
            break;
        }
    }

    row_bounds *rows = arena_alloc(c->mem, (size_t)n * sizeof *rows);
    for (int i = 0; i < n; i++) check_row(c, scale, &scale->u.scale.rows[i], &rows[i]);

    /* Outputs are all percentages (a scale of changes, like `adjust`: its value is a
     * ratio) or all plain numbers (points): a mix is almost surely a typo. */
    const ast_expr *first = scale->u.scale.rows[0].from;
    bool percent = is_percent_literal(first);
    scale->dim = percent ? DIM_RATIO : DIM_NUMBER;
    for (int i = 0; i < n; i++) {
        const ast_scale_row *r = &scale->u.scale.rows[i];
        const ast_expr *out[2] = { r->from, r->to };
        bool reported = false;
        for (int k = 0; k < 2 && !reported; k++) {
            if (!out[k] || is_percent_literal(out[k]) == percent) continue;
            const ast_expr *lit = out[k]->kind == EX_UNARY ? out[k]->u.op.lhs : out[k];
            if (lit->kind == EX_INF) continue; /* reported as a bad output */
            diagnostic *d = diag_report(
                c->diags, DIAG_ERROR, out[k]->span, "scale-units",
                "scale '%s' mixes percentages and plain numbers: '%s' here, '%s' in its first row",
                scale->name, chk_snippet(c, out[k]->span), chk_snippet(c, first->span));
            diag_hint(c->diags, d,
                      "write every output as a percentage (e.g. 0%%) or every output as a plain number");
            reported = true;
        }
        if (reported) break;
    }

    /* Order, overlaps and gaps: each row is compared with the furthest any earlier row
     * reached, so a row hidden inside a wide one is caught too. */
    int prev = -1, reach = -1;
    for (int i = 0; i < n; i++) {
        row_bounds *b = &rows[i];
        if (!b->valid) continue;
        ast_scale_row *r = &scale->u.scale.rows[i];
        if (prev >= 0) {
            row_bounds *p = &rows[prev];
            int o = chk_exact_cmp(b->lo, p->lo);
            if (o < 0 || (o == 0 && b->lo_closed && !p->lo_closed)) {
                diagnostic *d = diag_report(c->diags, DIAG_ERROR, r->span, "scale-order",
                                            "rows of scale '%s' are not sorted: %s comes after %s",
                                            scale->name, b->text, p->text);
                diag_hint(c->diags, d, "order the rows from the lowest bound up");
                prev = i;
                if (chk_exact_cmp(b->hi, rows[reach].hi) > 0) reach = i;
                continue;
            }
            row_bounds *e = &rows[reach];
            int g = chk_exact_cmp(b->lo, e->hi);
            if (g < 0 || (g == 0 && b->lo_closed && e->hi_closed)) {
                /* the doubly covered part: from this row's start to where both end */
                bool this_ends_first =
                    chk_exact_cmp(b->hi, e->hi) < 0 || (chk_exact_cmp(b->hi, e->hi) == 0 && !b->hi_closed);
                const ast_scale_row *er = &scale->u.scale.rows[reach];
                const char *lo = chk_snippet(c, r->lo->span);
                const char *hi = this_ends_first ? chk_snippet(c, r->hi->span) : chk_snippet(c, er->hi->span);
                bool hi_closed = this_ends_first ? b->hi_closed : e->hi_closed;
                diagnostic *d = diag_report(c->diags, DIAG_ERROR, r->span, "scale-overlap",
                                            "in scale '%s', %s overlaps %s", scale->name, b->text, e->text);
                if (g == 0) diag_hint(c->diags, d, "both include %s: make one of the brackets open", lo);
                else
                    diag_hint(c->diags, d, "both cover %s",
                              interval_text(c, b->lo_closed, lo, hi, hi_closed));
            } else if (g > 0 || (!b->lo_closed && !e->hi_closed)) {
                const ast_scale_row *er = &scale->u.scale.rows[reach];
                const char *from = chk_snippet(c, er->hi->span), *to = chk_snippet(c, r->lo->span);
                const char *gap = g == 0 ? from : interval_text(c, !e->hi_closed, from, to, !b->lo_closed);
                diagnostic *d = diag_report(c->diags, DIAG_ERROR, r->span, "scale-gap",
                                            "scale '%s' leaves %s uncovered", scale->name, gap);
                if (g == 0)
                    diag_hint(c->diags, d, "include %s in one of the two rows: '%s]' or '[%s'", from, from,
                              from);
                else diag_hint(c->diags, d, "start this row at %s, or add a row for %s", from, gap);
            }
        }
        if (reach < 0) {
            reach = i;
        } else {
            int h = chk_exact_cmp(b->hi, rows[reach].hi);
            if (h > 0 || (h == 0 && b->hi_closed && !rows[reach].hi_closed)) reach = i;
        }
        prev = i;
    }
}

/* ---- plain bounds over percentages ------------------------------------------------ */

void chk_warn_percent_scale(chk_ctx *c, const ast_decl *scale, const char *applied_to, kp_span use)
{
    for (size_t i = 0; i < c->percent_scales.len; i++)
        if (c->percent_scales.items[i] == scale) return;
    chk_exact zero = { false, false, "", 0 }, one;
    chk_exact_parse(c->mem, "1", false, &one);
    /* bounds written as fractions ([0.6, 1) [1, 1.5)) show the author reads the input
     * as a fraction: 1.5 there is meant as 150% */
    for (int i = 0; i < scale->u.scale.row_count; i++) {
        const ast_scale_row *row = &scale->u.scale.rows[i];
        const ast_expr *bounds[2] = { row->lo, row->hi };
        for (int b = 0; b < 2; b++) {
            const ast_expr *lit = bounds[b]->kind == EX_UNARY ? bounds[b]->u.op.lhs : bounds[b];
            chk_exact v;
            if (lit->kind == EX_NUMBER && chk_exact_literal(c->mem, lit, &v) && chk_exact_cmp(v, zero) > 0 &&
                chk_exact_cmp(v, one) < 0)
                return;
        }
    }
    for (int i = 0; i < scale->u.scale.row_count; i++) {
        const ast_scale_row *row = &scale->u.scale.rows[i];
        const ast_expr *bounds[2] = { row->lo, row->hi };
        for (int b = 0; b < 2; b++) {
            const ast_expr *bound = bounds[b];
            const ast_expr *lit = bound->kind == EX_UNARY ? bound->u.op.lhs : bound;
            chk_exact v;
            if (lit->kind != EX_NUMBER || !chk_exact_literal(c->mem, bound, &v)) continue;
            chk_exact magnitude = v;
            magnitude.neg = false;
            if (chk_exact_cmp(magnitude, one) <= 0) continue;
            ptr_vec_push(c->mem, &c->percent_scales, (void *)scale);
            diagnostic *d =
                diag_report(c->diags, DIAG_WARNING, bound->span, "percent-literal",
                            "scale '%s' is applied to %s, but its bound '%s' means %s%%", scale->name,
                            applied_to, chk_snippet(c, bound->span), chk_exact_format(c->mem, v, 2));
            diag_note(c->diags, d, use, "applied here");
            diag_hint(
                c->diags, d,
                "did you mean %s%%? Write the bounds of a scale over percentages with '%%', e.g. [60%%, 100%%)",
                chk_snippet(c, bound->span));
            return;
        }
    }
}
