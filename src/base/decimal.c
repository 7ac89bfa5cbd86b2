/* decimal.c — exact fixed-point decimals: value = units / 10^18 (see decimal.h).
 *
 * All range checks work on unsigned magnitudes: the sign is split off first, the
 * magnitude is computed exactly (in 256 bits where a product can exceed 128),
 * rounded, checked against UNITS_MAX and only then given its sign back.  That
 * keeps every intermediate step free of signed overflow, and it avoids
 * __builtin_mul_overflow on 128-bit types, which clang lowers to a compiler-rt
 * helper that libgcc does not provide.
 */
#include "kpic/decimal.h"

#include <stdlib.h>
#include <string.h>

__extension__ typedef unsigned __int128 u128;

/* Largest magnitude of units; the most negative 128-bit integer is excluded so
 * that the range is symmetric. */
#define UNITS_MAX ((u128)(((u128)1 << 127) - 1))

/* 10^n for n = 0..19, the powers that fit uint64_t. */
static const uint64_t POW10[20] = {
    1ULL,
    10ULL,
    100ULL,
    1000ULL,
    10000ULL,
    100000ULL,
    1000000ULL,
    10000000ULL,
    100000000ULL,
    1000000000ULL,
    10000000000ULL,
    100000000000ULL,
    1000000000000ULL,
    10000000000000ULL,
    100000000000000ULL,
    1000000000000000ULL,
    10000000000000000ULL,
    100000000000000000ULL,
    1000000000000000000ULL,
    10000000000000000000ULL,
};

#define ONE_UNIT_SCALE POW10[DEC_PLACES] /* units per 1.0 */

/* The largest integer part of a valid value, 170141183460469231731 (the
 * compiler folds the division). */
#define INT_PART_MAX (UNITS_MAX / 1000000000000000000ULL)

/* A 256-bit unsigned integer as two 128-bit halves. */
typedef struct u256 {
    u128 hi, lo;
} u256;

const char *dec_status_text(dec_status status)
{
    switch (status) {
    case DEC_OK: return "ok";
    case DEC_SYNTAX: return "not a decimal number";
    case DEC_TOO_PRECISE: return "too many decimal places";
    case DEC_OVERFLOW: return "number out of range";
    case DEC_DIV_ZERO: return "division by zero";
    }
    return "unknown decimal status";
}

/* ---- magnitude helpers ------------------------------------------------- */

static u128 magnitude(dec_t v)
{
    /* units is never INT128_MIN, so negation is defined. */
    return v.units < 0 ? (u128)(-v.units) : (u128)v.units;
}

/* Gives MAG (<= UNITS_MAX) the sign NEGATIVE. */
static dec_t with_sign(u128 mag, bool negative)
{
    dec_t r;
    r.units = negative ? -(dec_int128)mag : (dec_int128)mag;
    return r;
}

/* Full 128 x 128 -> 256-bit product, schoolbook on 64-bit limbs. */
static u256 mul_128(u128 a, u128 b)
{
    uint64_t a0 = (uint64_t)a, a1 = (uint64_t)(a >> 64);
    uint64_t b0 = (uint64_t)b, b1 = (uint64_t)(b >> 64);
    u128 p00 = (u128)a0 * b0, p01 = (u128)a0 * b1;
    u128 p10 = (u128)a1 * b0, p11 = (u128)a1 * b1;
    /* mid < 3 * 2^64, so it cannot overflow 128 bits. */
    u128 mid = (p00 >> 64) + (uint64_t)p01 + (uint64_t)p10;
    u256 r;
    r.lo = (mid << 64) | (uint64_t)p00;
    r.hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    return r;
}

/* N / D for a divisor below 2^64: long division on 64-bit limbs.  Each step
 * divides a 128-bit value whose high half is below D, so every partial quotient
 * fits 64 bits. */
static u256 divmod_by_64(u256 n, uint64_t d, uint64_t *rem)
{
    uint64_t limbs[4] = { (uint64_t)(n.hi >> 64), (uint64_t)n.hi, (uint64_t)(n.lo >> 64), (uint64_t)n.lo };
    uint64_t q[4];
    u128 r = 0;
    for (int i = 0; i < 4; i++) {
        u128 cur = (r << 64) | limbs[i];
        q[i] = (uint64_t)(cur / d);
        r = cur % d;
    }
    *rem = (uint64_t)r;
    u256 out = { ((u128)q[0] << 64) | q[1], ((u128)q[2] << 64) | q[3] };
    return out;
}

/* N / D for any nonzero 128-bit divisor.  Divisors below 2^64 take the limb
 * path; larger ones use restoring binary division from N's top bit, which is at
 * most 256 short steps and only runs in dec_div with a huge divisor. */
static u256 divmod_256(u256 n, u128 d, u128 *rem)
{
    if ((d >> 64) == 0) {
        uint64_t r64;
        u256 q = divmod_by_64(n, (uint64_t)d, &r64);
        *rem = r64;
        return q;
    }
    u256 q = { 0, 0 };
    u128 r = 0;
    int top = 255;
    while (top >= 0 && ((top >= 128 ? (n.hi >> (top - 128)) : (n.lo >> top)) & 1) == 0) top--;
    for (int bit = top; bit >= 0; bit--) {
        /* r < d <= 2^128 - 1; shifting may carry out one bit, which means the
         * shifted remainder certainly exceeds d. */
        bool carry = (r >> 127) != 0;
        unsigned nbit = (unsigned)((bit >= 128 ? n.hi >> (bit - 128) : n.lo >> bit) & 1);
        r = (r << 1) | nbit;
        if (carry || r >= d) {
            r -= d; /* wraps back into range when carry is set */
            if (bit >= 128) q.hi |= (u128)1 << (bit - 128);
            else q.lo |= (u128)1 << bit;
        }
    }
    *rem = r;
    return q;
}

/* Rounds MAG / 10^SHIFT half away from zero (SHIFT in 0..19). */
static u128 div_pow10_round(u128 mag, unsigned shift)
{
    if (shift == 0) return mag;
    u128 d = POW10[shift];
    u128 q = mag / d, r = mag % d;
    if (r >= d - r) /* r >= d/2 without overflow or truncation */
        q++;
    return q;
}

/* ---- text ---------------------------------------------------------------- */

/* dec_parse for texts of at most 19 characters after the sign, which is
 * every money amount and almost every number in a CSV file.  All digits then
 * fit one uint64_t, and one loop without data-dependent branches classifies
 * every byte, so the varying number of integer digits costs no mispredicted
 * loop exits.  Same contract as dec_parse. */
static dec_status parse_short(const char *text, size_t start, size_t len, bool negative, unsigned max_places,
                              dec_t *out)
{
    uint64_t digits_value = 0;
    size_t digits = 0, points = 0, point_at = 0;
    for (size_t i = start; i < len; i++) {
        unsigned c = (unsigned char)text[i];
        unsigned d = c - '0';
        bool is_digit = d <= 9, is_point = c == '.';
        digits_value = is_digit ? digits_value * 10 + d : digits_value;
        digits += is_digit;
        points += is_point;
        point_at = is_point ? i : point_at;
    }
    if (digits == 0 || points > 1 || digits + points != len - start) return DEC_SYNTAX;
    size_t frac_digits = points ? len - point_at - 1 : 0;
    if (frac_digits > max_places) {
        /* Digits beyond MAX_PLACES are allowed only if they are zeros. */
        uint64_t excess = POW10[frac_digits - max_places];
        if (digits_value % excess != 0) return DEC_TOO_PRECISE;
        digits_value /= excess;
        frac_digits = max_places;
    }
    /* < 10^19 * 10^18 < UNITS_MAX: cannot overflow. */
    u128 mag = (u128)digits_value * POW10[DEC_PLACES - frac_digits];
    *out = with_sign(mag, negative);
    return DEC_OK;
}

dec_status dec_parse(const char *text, size_t len, unsigned max_places, dec_t *out)
{
    if (max_places > DEC_PLACES) max_places = DEC_PLACES;
    size_t i = 0;
    bool negative = false;
    if (i < len && (text[i] == '+' || text[i] == '-')) {
        negative = text[i] == '-';
        i++;
    }
    if (len - i <= 19) return parse_short(text, i, len, negative, max_places, out);
    /* Integer part.  Up to 19 digits fit uint64_t, which is the common case
     * and much cheaper than 128-bit steps; longer parts continue in 128 bits
     * until they exceed INT_PART_MAX. */
    uint64_t small = 0;
    size_t int_digits = 0;
    for (; i < len && int_digits < 19 && (unsigned)(text[i] - '0') <= 9; i++, int_digits++)
        small = small * 10 + (unsigned)(text[i] - '0');
    u128 int_part = small;
    bool overflow = false;
    for (; i < len && (unsigned)(text[i] - '0') <= 9; i++, int_digits++) {
        if (!overflow) {
            int_part = int_part * 10 + (unsigned)(text[i] - '0');
            overflow = int_part > INT_PART_MAX;
        }
    }
    uint64_t frac = 0; /* the first MAX_PLACES fractional digits */
    size_t frac_digits = 0;
    bool too_precise = false;
    if (i < len && text[i] == '.') {
        i++;
        for (; i < len && (unsigned)(text[i] - '0') <= 9; i++, frac_digits++) {
            unsigned digit = (unsigned)(text[i] - '0');
            if (frac_digits < max_places) frac = frac * 10 + digit;
            else if (digit != 0) too_precise = true;
        }
    }
    if (i != len || int_digits + frac_digits == 0) return DEC_SYNTAX;
    if (too_precise) return DEC_TOO_PRECISE;
    if (overflow || int_part > INT_PART_MAX) return DEC_OVERFLOW;
    size_t kept = frac_digits < max_places ? frac_digits : max_places;
    u128 mag = int_part * ONE_UNIT_SCALE + (u128)frac * POW10[DEC_PLACES - kept];
    if (mag > UNITS_MAX) return DEC_OVERFLOW;
    *out = with_sign(mag, negative);
    return DEC_OK;
}

/* Writes the decimal digits of N into BUF (at least 40 bytes) right-aligned,
 * returning the index of the first digit.  "0" for zero. */
static size_t u128_digits(u128 n, char buf[40])
{
    size_t at = 40;
    do {
        /* Peel 19 digits at a time with one 128-bit division, then use
         * cheap 64-bit divisions for the digits of that piece. */
        uint64_t piece = (uint64_t)(n % POW10[19]);
        n /= POW10[19];
        int count = 0;
        do {
            buf[--at] = (char)('0' + piece % 10);
            piece /= 10;
            count++;
        } while (piece != 0 || (n != 0 && count < 19));
    } while (n != 0);
    return at;
}

size_t dec_format(dec_t v, unsigned places, char *buf, size_t size)
{
    if (places > DEC_PLACES) places = DEC_PLACES;
    /* Round the magnitude to PLACES; this cannot overflow: the quotient is at
     * most UNITS_MAX / 10^(18 - places) + 1. */
    u128 q = div_pow10_round(magnitude(v), DEC_PLACES - places);
    char digits[40];
    size_t first = u128_digits(q, digits);
    size_t ndigits = 40 - first;
    char text[DEC_FORMAT_SIZE];
    size_t n = 0;
    if (v.units < 0 && q != 0) text[n++] = '-';
    if (ndigits <= places) {
        /* 0.00ddd: pad with zeros after the point. */
        text[n++] = '0';
        if (places > 0) {
            text[n++] = '.';
            for (size_t z = ndigits; z < places; z++) text[n++] = '0';
            memcpy(text + n, digits + first, ndigits);
            n += ndigits;
        }
    } else {
        size_t int_digits = ndigits - places;
        memcpy(text + n, digits + first, int_digits);
        n += int_digits;
        if (places > 0) {
            text[n++] = '.';
            memcpy(text + n, digits + first + int_digits, places);
            n += places;
        }
    }
    if (size > 0) {
        size_t copy = n < size - 1 ? n : size - 1;
        memcpy(buf, text, copy);
        buf[copy] = '\0';
    }
    return n;
}

/* ---- conversions ------------------------------------------------------- */

dec_t dec_from_int64(int64_t n)
{
    /* |n| <= 2^63 and 2^63 * 10^18 < 2^123: always in range. */
    dec_t r;
    r.units = (dec_int128)n * (dec_int128)ONE_UNIT_SCALE;
    return r;
}

dec_status dec_to_int64(dec_t v, int64_t *out)
{
    u128 q = div_pow10_round(magnitude(v), DEC_PLACES);
    if (v.units < 0) {
        if (q > (u128)INT64_MAX + 1) return DEC_OVERFLOW;
        /* -q computed in the unsigned domain covers INT64_MIN exactly. */
        *out = q == (u128)INT64_MAX + 1 ? INT64_MIN : -(int64_t)q;
    } else {
        if (q > (u128)INT64_MAX) return DEC_OVERFLOW;
        *out = (int64_t)q;
    }
    return DEC_OK;
}

double dec_to_double(dec_t v)
{
    /* Strip trailing zeros so that the coefficient is as small as possible. */
    u128 mag = magnitude(v);
    unsigned scale = DEC_PLACES;
    if (mag == 0) return 0.0;
    while (scale > 0 && mag % 10 == 0) {
        mag /= 10;
        scale--;
    }
    /* Exact fast path (Clinger): coefficient and power of ten are both exact
     * doubles, so the one IEEE division rounds correctly. */
    static const double EXACT_POW10[19] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8, 1e9,
                                            1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18 };
    if (mag < ((u128)1 << 53)) {
        double r = (double)(uint64_t)mag / EXACT_POW10[scale];
        return v.units < 0 ? -r : r;
    }
    /* Otherwise let strtod round the exact decimal.  The text has no radix
     * character ("123e-4"), so the locale cannot change its meaning. */
    char text[64];
    char digits[40];
    size_t first = u128_digits(mag, digits);
    size_t n = 0;
    if (v.units < 0) text[n++] = '-';
    memcpy(text + n, digits + first, 40 - first);
    n += 40 - first;
    text[n++] = 'e';
    text[n++] = '-';
    if (scale >= 10) text[n++] = (char)('0' + scale / 10);
    text[n++] = (char)('0' + scale % 10);
    text[n] = '\0';
    return strtod(text, NULL);
}

/* ---- arithmetic -------------------------------------------------------- */

dec_status dec_sub(dec_t a, dec_t b, dec_t *out)
{
    return dec_add(a, dec_neg(b), out);
}

dec_status dec_mul(dec_t a, dec_t b, dec_t *out)
{
    bool negative = (a.units < 0) != (b.units < 0);
    u128 ma = magnitude(a), mb = magnitude(b);
    u256 product = mul_128(ma, mb);
    uint64_t rem;
    u256 q = divmod_by_64(product, ONE_UNIT_SCALE, &rem);
    if (q.hi != 0 || q.lo > UNITS_MAX) return DEC_OVERFLOW;
    u128 mag = q.lo;
    if (rem >= ONE_UNIT_SCALE - rem) /* rem >= half a unit: round away */
        mag++;
    if (mag > UNITS_MAX) return DEC_OVERFLOW;
    *out = with_sign(mag, negative && mag != 0);
    return DEC_OK;
}

dec_status dec_div(dec_t a, dec_t b, unsigned places, dec_t *out)
{
    if (b.units == 0) return DEC_DIV_ZERO;
    if (places > DEC_PLACES) places = DEC_PLACES;
    bool negative = (a.units < 0) != (b.units < 0);
    u128 ma = magnitude(a), mb = magnitude(b);
    /* a/b = ma/mb; to PLACES digits that is round(ma * 10^places / mb), whose
     * numerator needs up to 127 + 60 bits. */
    u256 numerator = mul_128(ma, POW10[places]);
    u128 rem;
    u256 q = divmod_256(numerator, mb, &rem);
    if (q.hi != 0) return DEC_OVERFLOW;
    u128 mag = q.lo;
    if (rem >= mb - rem) /* rem >= mb/2: round away from zero */
        mag++;
    /* Back to units: multiply by 10^(18 - places) with a range check. */
    u128 scale = POW10[DEC_PLACES - places];
    if (mag > UNITS_MAX / scale) return DEC_OVERFLOW;
    mag *= scale;
    *out = with_sign(mag, negative && mag != 0);
    return DEC_OK;
}

dec_status dec_round(dec_t v, unsigned places, dec_t *out)
{
    if (places > DEC_PLACES) places = DEC_PLACES;
    u128 scale = POW10[DEC_PLACES - places];
    u128 q = div_pow10_round(magnitude(v), DEC_PLACES - places);
    if (q > UNITS_MAX / scale) return DEC_OVERFLOW;
    *out = with_sign(q * scale, v.units < 0 && q != 0);
    return DEC_OK;
}

int dec_sign(dec_t v)
{
    return (v.units > 0) - (v.units < 0);
}

dec_t dec_neg(dec_t v)
{
    dec_t r;
    r.units = -v.units;
    return r;
}

dec_t dec_abs(dec_t v)
{
    return v.units < 0 ? dec_neg(v) : v;
}

size_t dec_format_trimmed(dec_t v, unsigned places, char *buf, size_t size)
{
    size_t n = dec_format(v, places, buf, size);
    if (n >= size) return n;
    char *point = memchr(buf, '.', n);
    if (!point) return n;
    char *end = buf + n;
    while (end > point + 1 && end[-1] == '0') end--;
    if (end == point + 1) end = point;
    *end = '\0';
    return (size_t)(end - buf);
}
