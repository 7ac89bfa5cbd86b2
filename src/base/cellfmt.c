/* cellfmt.c — declared cell formats: compiling patterns and reading cells with
 * them (cellfmt.h).  Patterns are compiled once, by the checker (to report a bad
 * pattern) and by whoever reads the data; cells are read in one left-to-right
 * walk, with no backtracking, so a cell either follows its pattern or is bad. */
#include "kpic/cellfmt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum cfmt_field {
    FIELD_TEXT = 0,
    FIELD_YEAR,   /* YYYY */
    FIELD_MONTH2, /* MM */
    FIELD_MONTH1, /* M */
    FIELD_DAY2,   /* DD */
    FIELD_DAY1,   /* D */
    FIELD_HOUR2,  /* HH */
    FIELD_HOUR1,  /* H */
    FIELD_MINUTE, /* mm */
    FIELD_SECOND, /* ss */
    FIELD_ZONE,   /* Z */
};

static const struct {
    const char *token;
    uint8_t field;
} DATE_TOKENS[] = {
    /* longest first: MM before M */
    { "YYYY", FIELD_YEAR }, { "MM", FIELD_MONTH2 }, { "M", FIELD_MONTH1 }, { "DD", FIELD_DAY2 },
    { "D", FIELD_DAY1 },    { "HH", FIELD_HOUR2 },  { "H", FIELD_HOUR1 },  { "mm", FIELD_MINUTE },
    { "ss", FIELD_SECOND }, { "Z", FIELD_ZONE },
};

#define FIELDS_LIST "YYYY, MM, M, DD, D, HH, H, mm, ss and Z"

static bool fail(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static bool fail(char *why, size_t size, const char *fmt, ...)
{
    if (size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, size, fmt, ap);
        va_end(ap);
    }
    return false;
}

static bool copy_text(char *dst, const char *src, char *why, size_t why_size)
{
    size_t n = strlen(src);
    if (n == 0) return fail(why, why_size, "it is empty");
    if (n >= CFMT_TEXT_MAX) return fail(why, why_size, "it is longer than %d bytes", CFMT_TEXT_MAX - 1);
    memcpy(dst, src, n + 1);
    return true;
}

static bool is_variable(uint8_t field)
{
    return field == FIELD_MONTH1 || field == FIELD_DAY1 || field == FIELD_HOUR1;
}

static bool is_digit_field(uint8_t field)
{
    return field != FIELD_TEXT && field != FIELD_ZONE;
}

bool cfmt_compile_date(const char *pattern, cfmt *out, char *why, size_t why_size)
{
    memset(out, 0, sizeof *out);
    out->kind = CFMT_DATE;
    if (!copy_text(out->text, pattern, why, why_size)) return false;
    const char *p = out->text;
    size_t n = strlen(p);
    int seen[FIELD_ZONE + 1] = { 0 };
    for (size_t i = 0; i < n;) {
        uint8_t field = FIELD_TEXT;
        size_t len = 0;
        for (size_t t = 0; t < sizeof DATE_TOKENS / sizeof DATE_TOKENS[0]; t++) {
            size_t tl = strlen(DATE_TOKENS[t].token);
            if (strncmp(p + i, DATE_TOKENS[t].token, tl) == 0) {
                field = DATE_TOKENS[t].field;
                len = tl;
                break;
            }
        }
        unsigned char c = (unsigned char)p[i];
        if (field == FIELD_TEXT) {
            /* T separates date and time in ISO 8601; any other letter is a typo
             * that would otherwise be read as literal text. */
            bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
            if (letter && c != 'T') {
                size_t run = 1;
                while (p[i + run] == (char)c) run++;
                return fail(why, why_size, "unknown field '%.*s'; the fields are " FIELDS_LIST, (int)run,
                            p + i);
            }
            if (c >= '0' && c <= '9')
                return fail(why, why_size, "a digit in a date pattern is neither a field nor a separator");
            /* literal text: extend the previous literal item if there is one */
            if (out->item_count > 0 && out->items[out->item_count - 1].field == FIELD_TEXT) {
                out->items[out->item_count - 1].len++;
                i++;
                continue;
            }
            len = 1;
        } else {
            int f = field;
            /* MM and M are one field, as are DD and D, HH and H */
            if (field == FIELD_MONTH1 || field == FIELD_DAY1 || field == FIELD_HOUR1) f = field - 1;
            if (seen[f]++) return fail(why, why_size, "field '%.*s' appears twice", (int)len, p + i);
            if (out->item_count > 0) {
                uint8_t before = out->items[out->item_count - 1].field;
                if (is_variable(before) && is_digit_field(field))
                    return fail(why, why_size,
                                "'%.*s' follows a field of 1 or 2 digits with nothing between "
                                "them, so a cell could be read two ways; write MM, DD or HH "
                                "for fixed widths",
                                (int)len, p + i);
            }
        }
        if (out->item_count == CFMT_DATE_ITEMS)
            return fail(why, why_size, "it has more than %d fields and separators", CFMT_DATE_ITEMS);
        out->items[out->item_count++] = (struct cfmt_item){ field, (uint8_t)i, (uint8_t)len };
        i += len;
    }
    if (!seen[FIELD_YEAR] || !seen[FIELD_MONTH2] || !seen[FIELD_DAY2])
        return fail(why, why_size,
                    "a date pattern needs the year YYYY, the month MM or M "
                    "and the day DD or D");
    if (seen[FIELD_MINUTE] && !seen[FIELD_HOUR2])
        return fail(why, why_size, "minutes 'mm' need an hour HH or H");
    if (seen[FIELD_SECOND] && !seen[FIELD_MINUTE]) return fail(why, why_size, "seconds 'ss' need minutes mm");
    if (seen[FIELD_ZONE] && !seen[FIELD_HOUR2])
        return fail(why, why_size, "a time zone 'Z' needs a time: HH:mm");
    return true;
}

/* Reads WIDTH digits (or 1 to 2 when WIDTH is 0) at S[*i]; -1 when absent. */
static int read_digits(const char *s, size_t len, size_t *i, int width)
{
    int value = 0, got = 0, most = width ? width : 2;
    while (got < most && *i < len && s[*i] >= '0' && s[*i] <= '9') {
        value = value * 10 + (s[*i] - '0');
        (*i)++;
        got++;
    }
    if (got == 0 || (width && got != width)) return -1;
    return value;
}

/* Z, +HH:MM, +HHMM or +HH (and -). */
static bool read_zone(const char *s, size_t len, size_t *i, bool *valid)
{
    if (*i < len && s[*i] == 'Z') {
        (*i)++;
        return true;
    }
    if (*i >= len || (s[*i] != '+' && s[*i] != '-')) return false;
    (*i)++;
    int hours = read_digits(s, len, i, 2);
    if (hours < 0) return false;
    int minutes = 0;
    if (*i < len && s[*i] == ':') {
        (*i)++;
        if ((minutes = read_digits(s, len, i, 2)) < 0) return false;
    } else if (*i < len && s[*i] >= '0' && s[*i] <= '9') {
        if ((minutes = read_digits(s, len, i, 2)) < 0) return false;
    }
    if (hours > 23 || minutes > 59) *valid = false;
    return true;
}

date_status cfmt_parse_date(const cfmt *f, const char *s, size_t len, date_t *out)
{
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    bool valid = true;
    size_t i = 0;
    for (uint8_t k = 0; k < f->item_count; k++) {
        const struct cfmt_item *item = &f->items[k];
        int v = 0;
        switch (item->field) {
        case FIELD_TEXT:
            if (len - i < item->len || memcmp(s + i, f->text + item->at, item->len) != 0) return DATE_SYNTAX;
            i += item->len;
            continue;
        case FIELD_ZONE:
            if (!read_zone(s, len, &i, &valid)) return DATE_SYNTAX;
            continue;
        case FIELD_YEAR: v = year = read_digits(s, len, &i, 4); break;
        case FIELD_MONTH2: v = month = read_digits(s, len, &i, 2); break;
        case FIELD_MONTH1: v = month = read_digits(s, len, &i, 0); break;
        case FIELD_DAY2: v = day = read_digits(s, len, &i, 2); break;
        case FIELD_DAY1: v = day = read_digits(s, len, &i, 0); break;
        case FIELD_HOUR2: v = hour = read_digits(s, len, &i, 2); break;
        case FIELD_HOUR1: v = hour = read_digits(s, len, &i, 0); break;
        case FIELD_MINUTE: v = minute = read_digits(s, len, &i, 2); break;
        case FIELD_SECOND: v = second = read_digits(s, len, &i, 2); break;
        }
        if (v < 0) return DATE_SYNTAX;
    }
    if (i != len) return DATE_SYNTAX;
    if (!valid || hour > 23 || minute > 59 || second > 60) return DATE_INVALID;
    date_t d;
    if (!date_from_ymd(year, month, day, &d)) return DATE_INVALID;
    *out = d;
    return DATE_OK;
}

/* ---- numbers --------------------------------------------------------------- */

enum num_char { NC_OTHER, NC_OPTIONAL, NC_REQUIRED, NC_GROUP, NC_POINT };

/* Classifies the character at P (N bytes left): its class, its length in *LEN, and
 * whether it is the full-width form. */
static enum num_char classify(const char *p, size_t n, size_t *len, bool *wide)
{
    *len = 1;
    *wide = false;
    switch (p[0]) {
    case '#': return NC_OPTIONAL;
    case '0': return NC_REQUIRED;
    case ',': return NC_GROUP;
    case '.': return NC_POINT;
    }
    /* U+FF03 ＃, U+FF0C ，, U+FF0E ．, U+FF10 ０ are EF BC 83 / 8C / 8E / 90 */
    if (n >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBC) {
        *len = 3;
        *wide = true;
        switch ((unsigned char)p[2]) {
        case 0x83: return NC_OPTIONAL;
        case 0x90: return NC_REQUIRED;
        case 0x8C: return NC_GROUP;
        case 0x8E: return NC_POINT;
        }
    }
    *len = 1;
    *wide = false;
    return NC_OTHER;
}

/* Whether the text [from, to) of the pattern holds a number character or a digit. */
static bool has_number_char(const char *p, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        size_t len;
        bool wide;
        if (classify(p + i, to - i, &len, &wide) != NC_OTHER || (p[i] >= '0' && p[i] <= '9')) return true;
    }
    return false;
}

bool cfmt_compile_number(const char *pattern, cfmt *out, char *why, size_t why_size)
{
    memset(out, 0, sizeof *out);
    out->kind = CFMT_NUMBER;
    if (!copy_text(out->text, pattern, why, why_size)) return false;
    const char *p = out->text;
    size_t n = strlen(p);
    size_t start = n;
    for (size_t i = 0; i < n && start == n; i++) {
        size_t len;
        bool wide;
        enum num_char c = classify(p + i, n - i, &len, &wide);
        if (c == NC_OPTIONAL || c == NC_REQUIRED) start = i;
    }
    if (start == n) return fail(why, why_size, "it has no digits: write them as # and 0, as in ¥#,##0.00");
    if (has_number_char(p, 0, start))
        return fail(why, why_size, "the text before the digits holds a separator or a digit");
    /* the digits: placeholders, group separators, at most one point */
    size_t i = start, group_run = 0, groups = 0, int_places = 0;
    int digit_width = -1; /* 0 ASCII, 1 full-width */
    bool in_fraction = false, optional_seen = false;
    while (i < n) {
        size_t len;
        bool wide;
        enum num_char c = classify(p + i, n - i, &len, &wide);
        if (c == NC_OTHER) break;
        if (c == NC_OPTIONAL || c == NC_REQUIRED) {
            if (digit_width >= 0 && digit_width != (int)wide)
                return fail(why, why_size, "it mixes full-width and ASCII digit placeholders");
            digit_width = wide;
            if (in_fraction) {
                if (c == NC_REQUIRED && optional_seen)
                    return fail(why, why_size,
                                "a '0' after a '#' in the decimal places; "
                                "write the places every cell has first: 0.0#");
                if (c == NC_OPTIONAL) optional_seen = true;
                else out->min_places++;
                out->max_places++;
            } else {
                group_run++;
                int_places++;
            }
        } else if (c == NC_GROUP) {
            if (in_fraction) return fail(why, why_size, "a thousands separator after the decimal point");
            if (groups > 0 ? group_run != 3 : group_run > 3)
                return fail(why, why_size, "thousands are grouped by three: write #,##0");
            if (out->group_len > 0 && (out->group_len != len || memcmp(out->group, p + i, len)))
                return fail(why, why_size, "two different thousands separators");
            memcpy(out->group, p + i, len);
            out->group_len = (uint8_t)len;
            groups++;
            group_run = 0;
        } else { /* NC_POINT */
            if (in_fraction) return fail(why, why_size, "two decimal points");
            memcpy(out->point, p + i, len);
            out->point_len = (uint8_t)len;
            in_fraction = true;
        }
        i += len;
    }
    if (groups > 0 && group_run != 3)
        return fail(why, why_size, "thousands are grouped by three: write #,##0");
    if (int_places == 0) return fail(why, why_size, "no digit before the decimal point: write 0.00");
    if (in_fraction && out->max_places == 0)
        return fail(why, why_size, "a decimal point with no places after it");
    if (out->max_places > 18) return fail(why, why_size, "more than 18 decimal places");
    if (has_number_char(p, i, n))
        return fail(why, why_size, "the text after the digits holds a separator or a digit");
    out->fullwidth = digit_width == 1;
    out->prefix_len = (uint8_t)start;
    out->suffix_at = (uint8_t)i;
    out->suffix_len = (uint8_t)(n - i);
    return true;
}

/* The digit at S[*i] (ASCII, or full-width U+FF10-FF19 when WIDE), or -1. */
static int digit_at(const char *s, size_t len, size_t i, bool wide, size_t *width)
{
    if (!wide) {
        *width = 1;
        return i < len && s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : -1;
    }
    *width = 3;
    if (len - i >= 3 && (unsigned char)s[i] == 0xEF && (unsigned char)s[i + 1] == 0xBC &&
        (unsigned char)s[i + 2] >= 0x90 && (unsigned char)s[i + 2] <= 0x99)
        return (unsigned char)s[i + 2] - 0x90;
    return -1;
}

/* A sign at S[*i]: '+' or '-', or their full-width forms when WIDE. */
static bool read_sign(const char *s, size_t len, size_t *i, bool wide, bool *negative)
{
    if (*i < len && (s[*i] == '-' || s[*i] == '+')) {
        *negative = s[*i] == '-';
        (*i)++;
        return true;
    }
    /* U+FF0D － and U+FF0B ＋ */
    if (wide && len - *i >= 3 && (unsigned char)s[*i] == 0xEF && (unsigned char)s[*i + 1] == 0xBC &&
        ((unsigned char)s[*i + 2] == 0x8D || (unsigned char)s[*i + 2] == 0x8B)) {
        *negative = (unsigned char)s[*i + 2] == 0x8D;
        *i += 3;
        return true;
    }
    return false;
}

static bool starts_with(const char *s, size_t len, size_t i, const char *what, size_t n)
{
    return n > 0 && len - i >= n && memcmp(s + i, what, n) == 0;
}

bool cfmt_number_text(const cfmt *f, const char *s, size_t len, char *out, size_t *out_len)
{
    size_t i = 0, o = 0;
    bool negative = false;
    bool signed_ = read_sign(s, len, &i, f->fullwidth, &negative);
    if (len - i < f->prefix_len || memcmp(s + i, f->text, f->prefix_len) != 0) return false;
    i += f->prefix_len;
    if (!signed_ && f->prefix_len > 0) read_sign(s, len, &i, f->fullwidth, &negative);
    if (negative) out[o++] = '-';
    /* integer digits, grouped by threes exactly or not at all */
    size_t run = 0, groups = 0, digits = 0;
    for (;;) {
        size_t w;
        int d = digit_at(s, len, i, f->fullwidth, &w);
        if (d >= 0) {
            if (o + 2 >= CFMT_NUMBER_MAX) return false;
            out[o++] = (char)('0' + d);
            i += w;
            run++;
            digits++;
            continue;
        }
        if (starts_with(s, len, i, f->group, f->group_len)) {
            if (run == 0 || (groups == 0 ? run > 3 : run != 3)) return false;
            groups++;
            run = 0;
            i += f->group_len;
            continue;
        }
        break;
    }
    if (digits == 0 || (groups > 0 && run != 3)) return false;
    size_t places = 0;
    if (starts_with(s, len, i, f->point, f->point_len)) {
        i += f->point_len;
        out[o++] = '.';
        for (;;) {
            size_t w;
            int d = digit_at(s, len, i, f->fullwidth, &w);
            if (d < 0) break;
            if (o + 2 >= CFMT_NUMBER_MAX) return false;
            out[o++] = (char)('0' + d);
            i += w;
            places++;
        }
        if (places == 0) return false;
    }
    if (places < f->min_places || places > f->max_places) return false;
    if (len - i != f->suffix_len || memcmp(s + i, f->text + f->suffix_at, f->suffix_len) != 0) return false;
    out[o] = '\0';
    *out_len = o;
    return true;
}

/* ---- bool words ------------------------------------------------------------ */

bool cfmt_compile_bool(const char *true_word, const char *false_word, cfmt *out, char *why, size_t why_size)
{
    memset(out, 0, sizeof *out);
    out->kind = CFMT_BOOL;
    char inner[128];
    if (!copy_text(out->text, true_word, inner, sizeof inner))
        return fail(why, why_size, "the true word: %s", inner);
    if (!copy_text(out->text2, false_word, inner, sizeof inner))
        return fail(why, why_size, "the false word: %s", inner);
    if (strcmp(true_word, false_word) == 0)
        return fail(why, why_size, "the true and false words are the same");
    return true;
}

int cfmt_parse_bool(const cfmt *f, const char *s, size_t len)
{
    if (strlen(f->text) == len && memcmp(f->text, s, len) == 0) return 1;
    if (strlen(f->text2) == len && memcmp(f->text2, s, len) == 0) return 0;
    return -1;
}
