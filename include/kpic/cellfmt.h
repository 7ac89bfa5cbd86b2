/* cellfmt.h — the cell formats a source column declares (prefix cfmt_).
 *
 * Owns: compiling the `format "…"` of a date, int, number or money column and the
 * `true "…" false "…"` words of a bool column into a cfmt, and reading one cell
 * with it.  Exports from spreadsheets and ERP systems write `2025/05/03`,
 * `2025年5月3日`, `¥1,200.00` or `是`; a column says which form its cells take,
 * and a cell in any other form is bad: nothing here guesses.
 *
 * Date patterns are made of the fields
 *     YYYY   the year, 4 digits          MM, M   the month, 2 digits / 1 or 2
 *     DD, D  the day, 2 / 1 or 2         HH, H   the hour (0-23), 2 / 1 or 2
 *     mm     the minutes, 2 digits       ss      the seconds, 2 digits
 *     Z      a time zone: Z, +08:00, +0800 or +08
 * and literal text between them (`/`, `.`, `-`, ` `, `T`, `年`, …).  Any other ASCII
 * letter is an error in the pattern (a typo like `dd` must not become literal text),
 * the year, month and day are each required once, minutes need an hour and seconds
 * minutes, and two fields of variable width (M, D, H) cannot touch: `YYYYMD` could
 * read 2025111 two ways.  Of a datetime, the date as written is kept (the time and
 * the zone are checked, then dropped: docs/decisions.md).
 *
 * Number patterns are the spreadsheet ones: an optional prefix (`¥`, `RMB `), the
 * digits, an optional suffix (`元`).  The digits are `#` and `0` placeholders, with
 * `,` between the thousands when cells group them and `.` before the decimal
 * places: `0` after the point is a place every cell writes, `#` one it may omit
 * (`#,##0.00` wants exactly 2 places, `0.0#` 1 or 2, `#,##0` none).  Written with
 * full-width placeholders (`＃，＃＃０．００`), the pattern reads full-width digits;
 * each separator is read as the pattern writes it (`，` or `,`, `．` or `.`).  A cell is [sign] prefix [sign] digits suffix; its integer digits
 * are either grouped by threes exactly as the pattern shows or not grouped at all.
 *
 * Bool words are two different non-empty texts, matched exactly (case matters).
 */
#ifndef KPIC_CELLFMT_H
#define KPIC_CELLFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kpic/date.h"

/* Longest pattern or bool word, in bytes, including the NUL. */
#define CFMT_TEXT_MAX 96
/* Most fields and literal runs in a date pattern. */
#define CFMT_DATE_ITEMS 24
/* Longest plain decimal cfmt_number_text writes, including the NUL. */
#define CFMT_NUMBER_MAX 128

typedef enum cfmt_kind {
    CFMT_NONE = 0, /* no declared format: the default cell syntax */
    CFMT_DATE,
    CFMT_NUMBER,
    CFMT_BOOL,
} cfmt_kind;

/* A compiled format.  Plain data (no pointers), so it is copied by value. */
typedef struct cfmt {
    cfmt_kind kind;
    char text[CFMT_TEXT_MAX];  /* the pattern, or the true word, as declared */
    char text2[CFMT_TEXT_MAX]; /* CFMT_BOOL: the false word */
    /* CFMT_DATE: the pattern's fields and literal runs, in order. */
    uint8_t item_count;
    struct cfmt_item {
        uint8_t field;   /* a cfmt_field, or 0 for literal text */
        uint8_t at, len; /* literal text: bytes of TEXT */
    } items[CFMT_DATE_ITEMS];
    /* CFMT_NUMBER */
    uint8_t prefix_len; /* TEXT[0, prefix_len) */
    uint8_t suffix_at, suffix_len;
    bool fullwidth; /* digits (and signs) are full-width */
    /* the thousands separator and the decimal point as the pattern writes them ("" when it
     * has none) */
    char group[4], point[4];
    uint8_t group_len, point_len;
    uint8_t min_places, max_places;
} cfmt;

/* Compiles a date pattern into *OUT.  False, with the reason in WHY (a phrase such
 * as "unknown field 'dd'; the fields are …"), when the pattern is not one. */
bool cfmt_compile_date(const char *pattern, cfmt *out, char *why, size_t why_size);

/* Compiles a number pattern into *OUT; false with the reason in WHY. */
bool cfmt_compile_number(const char *pattern, cfmt *out, char *why, size_t why_size);

/* Compiles bool words into *OUT; false with the reason in WHY. */
bool cfmt_compile_bool(const char *true_word, const char *false_word, cfmt *out, char *why, size_t why_size);

/* Reads a date cell of LEN bytes at S with date format F.  DATE_OK and *OUT, or the
 * status: DATE_SYNTAX when the cell does not follow the pattern, DATE_INVALID when it
 * does but names no calendar date or time. */
date_status cfmt_parse_date(const cfmt *f, const char *s, size_t len, date_t *out);

/* Rewrites a number cell of LEN bytes at S, written per number format F, as a plain
 * decimal (`-1234.5`) into OUT (CFMT_NUMBER_MAX bytes, NUL-terminated), for
 * dec_parse or an integer parse.  False when the cell does not follow the pattern
 * (including its number of decimal places). */
bool cfmt_number_text(const cfmt *f, const char *s, size_t len, char *out, size_t *out_len);

/* Reads a bool cell with bool words F: 1 the true word, 0 the false word, -1 neither. */
int cfmt_parse_bool(const cfmt *f, const char *s, size_t len);

#endif /* KPIC_CELLFMT_H */
