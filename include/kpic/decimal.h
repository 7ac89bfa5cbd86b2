/* decimal.h — exact decimal numbers for `money` and `number` values (prefix dec_).
 *
 * Owns: the dec_t value type, its text syntax (parsing and formatting), exact
 * arithmetic with rounding half away from zero, and overflow detection.  It does
 * not own units or null: a dec_t is always a number; callers track null beside it.
 *
 * Representation: a fixed-point number, value = units / 10^18, units a signed
 * 128-bit integer.  A fixed scale was chosen over a per-value scale because
 *   - equal values have equal bits, so grouping, hashing and distinct() need no
 *     normalisation, and comparison is one integer comparison;
 *   - addition and subtraction (the operations of sum(), run once per row) are a
 *     single 128-bit add with an overflow test and never rescale;
 *   - 18 places hold every money amount, percentage and ratio kpic meets exactly
 *     (a ratio printed with %.17g has at most 17 significant digits).
 * The price is range: |value| < 1.7e20 (170 141 183 460 469 231 731.687...), far
 * above any total of realistic money (1e12 per row x 10 million rows = 1e19).
 * Multiplication and division go through 256-bit intermediates, so a product
 * such as 1e12 money x a ratio with 18 digits is exact before it is rounded.
 *
 * Every operation that can leave the range returns a status instead of wrapping;
 * no input makes any function here undefined behaviour.  The smallest 128-bit
 * integer is not a valid units value, so negation and abs() never overflow.
 *
 * Rounding, wherever a result has more places than kept, is half away from zero
 * and exact (3410.275 to 2 places is 3410.28; -2.5 to 0 places is -3).
 */
#ifndef KPIC_DECIMAL_H
#define KPIC_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Number of fractional decimal digits every dec_t keeps. */
#define DEC_PLACES 18

/* A buffer of this size holds any dec_format() output, NUL included
 * (sign, 39 digits, point, and leading "0." padding). */
#define DEC_FORMAT_SIZE 64

__extension__ typedef __int128 dec_int128;

/* An exact decimal: value = units / 10^DEC_PLACES.  Treat as opaque outside this
 * module except for zero-initialisation (which is the value 0). */
typedef struct dec_t {
    dec_int128 units;
} dec_t;

/* Outcome of every operation that can fail.  DEC_OK is 0. */
typedef enum dec_status {
    DEC_OK = 0,
    DEC_SYNTAX,      /* text is not a plain decimal number */
    DEC_TOO_PRECISE, /* text has nonzero digits beyond the places allowed */
    DEC_OVERFLOW,    /* the exact result is outside the representable range */
    DEC_DIV_ZERO,    /* division by zero */
} dec_status;

/* A short English description of a status, e.g. "number out of range". */
const char *dec_status_text(dec_status status);

/* Parses TEXT[0..LEN) into *OUT.  Accepted syntax, independent of the locale:
 *     [+|-] digits [ . [digits] ]   or   [+|-] . digits
 * i.e. at least one digit, ASCII only; no spaces, thousands separators, exponents
 * or other characters.  At most MAX_PLACES (0..18) fractional digits may be
 * nonzero: further digits are accepted only if they are all zeros ("12.300"
 * with MAX_PLACES 2 is 12.30), otherwise DEC_TOO_PRECISE.  Returns DEC_SYNTAX for
 * bad text (including empty), DEC_OVERFLOW if the value is out of range; *OUT
 * is written only on DEC_OK.  "-0" parses to 0. */
dec_status dec_parse(const char *text, size_t len, unsigned max_places, dec_t *out);

/* Writes V rounded half away from zero to PLACES (0..18) fractional digits as
 * "-123.45" into BUF (always NUL-terminated when SIZE > 0, truncated if short).
 * No exponent, no separators; a value that rounds to zero has no minus sign.
 * Returns the length of the full text (excluding the NUL), like snprintf, so a
 * return >= SIZE means truncation.  DEC_FORMAT_SIZE is always enough. */
size_t dec_format(dec_t v, unsigned places, char *buf, size_t size);
/* dec_format, then the fraction's trailing zeros dropped, and the point with them when
 * nothing is left: "12.5", "3", "0.25". Every output that shows a number with "the
 * digits it needs" uses this one. */
size_t dec_format_trimmed(dec_t v, unsigned places, char *buf, size_t size);

/* The exact decimal for an integer (always representable). */
dec_t dec_from_int64(int64_t n);

/* V rounded half away from zero to an integer, in *OUT; DEC_OVERFLOW (and *OUT
 * untouched) if that integer does not fit int64_t. */
dec_status dec_to_int64(dec_t v, int64_t *out);

/* The double nearest to V (correctly rounded, locale-independent). */
double dec_to_double(dec_t v);

/* *OUT = A + B, A - B, exactly; DEC_OVERFLOW (*OUT untouched) if out of range.
 * Inline: a sum adds a row's amount for every aggregate on every row. */
static inline dec_status dec_add(dec_t a, dec_t b, dec_t *out)
{
    /* Wrapping unsigned addition, then a sign test: overflow happened iff both
     * operands have the same sign and the result's sign differs; the most negative
     * int128 is outside the range too (a magnitude must fit 127 bits). */
    __extension__ typedef unsigned __int128 dec_uint128;
    dec_int128 r = (dec_int128)((dec_uint128)a.units + (dec_uint128)b.units);
    if ((a.units < 0) == (b.units < 0) && (r < 0) != (a.units < 0)) return DEC_OVERFLOW;
    if (r == (dec_int128)((dec_uint128)1 << 127)) return DEC_OVERFLOW;
    out->units = r;
    return DEC_OK;
}
dec_status dec_sub(dec_t a, dec_t b, dec_t *out);

/* *OUT = A x B rounded half away from zero to 18 places (the exact product is
 * formed in 256 bits first); DEC_OVERFLOW if the result is out of range. */
dec_status dec_mul(dec_t a, dec_t b, dec_t *out);

/* *OUT = A / B rounded half away from zero to PLACES (0..18) fractional digits,
 * computed from the exact quotient (no double rounding).  DEC_DIV_ZERO if B is
 * 0, DEC_OVERFLOW if the result is out of range. */
dec_status dec_div(dec_t a, dec_t b, unsigned places, dec_t *out);

/* *OUT = V rounded half away from zero to PLACES (0..18) fractional digits:
 * 3410.275 -> 3410.28 at 2, -2.5 -> -3 at 0.  DEC_OVERFLOW only when rounding up
 * a value at the very edge of the range. */
dec_status dec_round(dec_t v, unsigned places, dec_t *out);

/* -1, 0 or 1 as A <, =, > B (inline: where and max compare on every row). */
static inline int dec_cmp(dec_t a, dec_t b)
{
    return (a.units > b.units) - (a.units < b.units);
}

/* -1, 0 or 1 by the sign of V. */
int dec_sign(dec_t v);

/* -V and |V|; never overflow (see the range note above). */
dec_t dec_neg(dec_t v);
dec_t dec_abs(dec_t v);

#endif /* KPIC_DECIMAL_H */
