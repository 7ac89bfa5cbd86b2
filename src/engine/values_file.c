/* values_file.c — indicator values computed elsewhere (`--values FILE`, values.h):
 * reading the CSV or JSON file, checking every row against the spec and the roster,
 * and answering the evaluator's questions for indicator values.
 *
 * These values become pay, so nothing in the file is guessed: an unknown indicator, a
 * period not of the spec's grain, a staff id for a team-wide indicator or one not on
 * the roster, a value that is not a number, a row given twice, a unit that is not the
 * spec's are errors at their row and field; a value the run asks for and the file lacks
 * is an error after scoring (the run writes nothing). A missing value is never null:
 * null is written as an empty cell (CSV) or `null` (JSON), as kpic eval writes it.
 */
#include "kpic/values.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "kpic/csv_reader.h"
#include "kpic/hash.h"


/* One value of the file. */
typedef struct vals_entry {
    const ast_decl *indicator;
    period_t period;
    uint32_t staff;     /* interned staff id, or HMAP_NONE for the total */
    eval_value value;   /* a number or null */
    unsigned line;      /* where it was written */
    unsigned staff_col; /* the field of its staff id (CSV), 0 in JSON */
    uint32_t next;      /* the next entry with the same hash, or HMAP_NONE */
} vals_entry;

/* A value the run asked for and the file lacks: the first per indicator and period. */
typedef struct vals_missing {
    const ast_decl *indicator;
    period_t period;
    char *staff_id; /* the first staff member asked for (NULL: the total) */
    size_t count;   /* how many values of this indicator and period */
} vals_missing;

struct vals_file {
    char *path;
    char sha256[65];
    const chk_model *model;
    vals_entry *entries;
    size_t count, cap;
    hmap index; /* hash of (indicator, period, staff) → first entry */
    strtab staff_ids;
    vals_missing *missing;
    size_t missing_count, missing_cap;
    diag_sink *diags; /* while reading */
    bool failed;      /* while reading: an error was reported */
};

static diagnostic *file_error(vals_file *v, unsigned line, unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* An error at field COL (0: none) of LINE (0: the file as a whole); the file is refused. */
static diagnostic *file_error(vals_file *v, unsigned line, unsigned col, const char *fmt, ...)
{
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    v->failed = true;
    return diag_report_data(v->diags, DIAG_ERROR, v->path, line, col, "values", "%s", message);
}

/* ---- numbers ------------------------------------------------------------------------------ */

/* [+|-] digits [. digits] [(e|E) [+|-] digits], or [+|-] . digits [exponent]: shifted
 * by its exponent as text, then parsed exactly; places beyond 18 round half away from
 * zero. */
bool vals_parse_number(const char *text, size_t len, dec_t *out, const char **why)
{
    size_t i = 0;
    bool negative = false;
    if (i < len && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
    /* the digits without the point, and where the point was */
    char digits[128];
    size_t n = 0, int_digits = 0;
    bool point = false, any = false;
    for (; i < len; i++) {
        char c = text[i];
        if (c >= '0' && c <= '9') {
            any = true;
            if (n == 0 && c == '0' && !point) continue; /* leading zeros say nothing */
            if (n >= sizeof digits - 1) {
                *why = "too many digits";
                return false;
            }
            digits[n++] = c;
            if (!point) int_digits++;
        } else if (c == '.' && !point) {
            point = true;
        } else {
            break;
        }
    }
    if (!any) {
        *why = "not a number";
        return false;
    }
    long exponent = 0;
    if (i < len && (text[i] == 'e' || text[i] == 'E')) {
        i++;
        bool exp_negative = false;
        if (i < len && (text[i] == '+' || text[i] == '-')) exp_negative = text[i++] == '-';
        size_t start = i;
        for (; i < len && text[i] >= '0' && text[i] <= '9'; i++) {
            if (exponent > 1000) continue; /* clamped below */
            exponent = exponent * 10 + (text[i] - '0');
        }
        if (i == start) {
            *why = "an exponent without digits";
            return false;
        }
        if (exp_negative) exponent = -exponent;
    }
    if (i != len) {
        *why = memchr(text, '%', len) ? "a percentage is written as a fraction (0.25 for 25%)"
                                      : "not a number (digits, one point, an optional sign and exponent)";
        return false;
    }
    /* value = 0.digits × 10^(int_digits + exponent) */
    long point_at = (long)int_digits + exponent;
    if (point_at > 21) {
        *why = "out of range";
        return false;
    }
    char plain[192];
    size_t m = 0;
    if (negative) plain[m++] = '-';
    if (point_at <= 0) {
        plain[m++] = '0';
        plain[m++] = '.';
        long zeros = -point_at;
        if (zeros > 30) zeros = 30; /* rounds to 0 at 18 places either way */
        for (long k = 0; k < zeros; k++) plain[m++] = '0';
        for (size_t k = 0; k < n && m < sizeof plain - 1; k++) plain[m++] = digits[k];
    } else {
        for (long k = 0; k < point_at; k++) plain[m++] = (size_t)k < n ? digits[k] : '0';
        plain[m++] = '.';
        for (size_t k = (size_t)point_at; k < n && m < sizeof plain - 1; k++) plain[m++] = digits[k];
    }
    plain[m] = '\0';
    /* keep 18 places; the 19th digit rounds */
    char *dot = strchr(plain, '.');
    int round_up = 0;
    if (strlen(dot + 1) > DEC_PLACES) {
        round_up = dot[1 + DEC_PLACES] >= '5';
        dot[1 + DEC_PLACES] = '\0';
    }
    dec_t d;
    dec_status st = dec_parse(plain, strlen(plain), DEC_PLACES, &d);
    if (st == DEC_OK && round_up) {
        dec_t ulp;
        dec_parse("0.000000000000000001", 20, DEC_PLACES, &ulp);
        st = negative ? dec_sub(d, ulp, &d) : dec_add(d, ulp, &d);
    }
    if (st != DEC_OK) {
        *why = st == DEC_OVERFLOW ? "out of range" : "not a number";
        return false;
    }
    *out = d;
    return true;
}

/* ---- the table of values ------------------------------------------------------------------- */

/* A month and the quarter it opens share a start (a role with its own period,
 * docs/language.md "Role periods"): a value is found by its period's start and grain. */
static uint64_t entry_hash(const ast_decl *indicator, period_t period, uint32_t staff)
{
    return hash_u64((uint64_t)(uintptr_t)indicator) ^
           hash_u64(((uint64_t)(uint32_t)period.start << 32) | staff) ^ (uint64_t)period.grain;
}

static vals_entry *find_entry(const vals_file *v, const ast_decl *indicator, period_t period, uint32_t staff)
{
    uint32_t at = hmap_get(&v->index, entry_hash(indicator, period, staff));
    for (; at != HMAP_NONE; at = v->entries[at].next) {
        vals_entry *e = &v->entries[at];
        if (e->indicator == indicator && period_same(e->period, period) && e->staff == staff) return e;
    }
    return NULL;
}

/* The cells of one value, as text (NULL: empty or absent), with the fields they were in. */
typedef struct vals_row {
    unsigned line;
    const char *period, *indicator, *staff, *value, *unit;
    size_t value_len;
    unsigned period_col, indicator_col, staff_col, value_col, unit_col;
} vals_row;

static const char *const unit_names[] = { "count", "money", "percent", "ratio", "number", "days", "points" };

static void add_row(vals_file *v, const vals_row *r)
{
    const chk_model *model = v->model;
    if (!r->indicator || !r->period) {
        file_error(v, r->line, !r->indicator ? r->indicator_col : r->period_col, "a value without %s",
                   !r->indicator ? "indicator" : "period");
        return;
    }
    ast_decl *ind = chk_find(model, r->indicator);
    if (!ind || ind->kind != DECL_INDICATOR) {
        diagnostic *d =
            file_error(v, r->line, r->indicator_col, "the spec has no indicator '%s'", r->indicator);
        const char **names = xcalloc(model->indicators.len + 1, sizeof *names);
        for (size_t i = 0; i < model->indicators.len; i++)
            names[i] = ((ast_decl *)model->indicators.items[i])->name;
        const char *near = diag_closest(r->indicator, names, model->indicators.len);
        free(names);
        if (near) diag_hint(v->diags, d, "did you mean '%s'?", near);
        else
            diag_hint(v->diags, d,
                      "the values were computed from another spec; compute them again (kpic sql)");
        return;
    }
    period_t period;
    char msg[PERIOD_MESSAGE_SIZE];
    /* the spec's periods, and those of a grain some role is scored in (2025-Q2 with a
     * quarterly role) */
    if (chk_parse_period(model, r->period, strlen(r->period), &period, msg, sizeof msg) != PERIOD_OK) {
        file_error(v, r->line, r->period_col, "bad period: %s", msg);
        return;
    }
    ast_unit unit = ind->u.indicator.unit;
    if (r->unit && strcmp(r->unit, unit_names[unit]) != 0) {
        diagnostic *d =
            file_error(v, r->line, r->unit_col, "indicator '%s' is %s in the spec, but the file says %s",
                       ind->name, unit_names[unit], r->unit);
        diag_hint(v->diags, d,
                  "the values were computed from another version of the spec; compute them again");
        return;
    }
    uint32_t staff = HMAP_NONE;
    if (r->staff) {
        if (!ind->u.indicator.per_staff) {
            diagnostic *d = file_error(v, r->line, r->staff_col,
                                       "indicator '%s' is team-wide, but this value is for staff '%s'",
                                       ind->name, r->staff);
            diag_hint(v->diags, d, "a team-wide indicator has one value per period, with an empty staff_id");
            return;
        }
        staff = strtab_intern(&v->staff_ids, r->staff, strlen(r->staff));
    }
    eval_value value = eval_null();
    if (r->value) {
        dec_t d;
        const char *why;
        if (!vals_parse_number(r->value, r->value_len, &d, &why)) {
            diagnostic *dg =
                file_error(v, r->line, r->value_col, "bad %s value \"%.100s\" of indicator '%s': %s",
                           unit_names[unit], r->value, ind->name, why);
            diag_hint(v->diags, dg,
                      "a value is a number as the engine writes it (12.5, 1.0E-5) or empty for null");
            return;
        }
        value = eval_num(d);
    }
    vals_entry *twin = find_entry(v, ind, period, staff);
    if (twin) {
        char label[PERIOD_LABEL_SIZE];
        period_format(period, label, sizeof label);
        diagnostic *d =
            file_error(v, r->line, 0, "a second value of '%s' in %s for %s%s%s (the first is on line %u)",
                       ind->name, label, r->staff ? "staff '" : "the total", r->staff ? r->staff : "",
                       r->staff ? "'" : "", twin->line);
        diag_hint(v->diags, d, "give each indicator, period and staff member one row");
        return;
    }
    if (v->count == v->cap) {
        v->cap = v->cap ? 2 * v->cap : 64;
        v->entries = xrealloc(v->entries, v->cap * sizeof *v->entries);
    }
    uint64_t h = entry_hash(ind, period, staff);
    vals_entry *e = &v->entries[v->count];
    *e = (vals_entry){ ind, period, staff, value, r->line, r->staff_col, hmap_get(&v->index, h) };
    hmap_put(&v->index, h, (uint32_t)v->count++);
}

/* ---- CSV ------------------------------------------------------------------------------------ */

enum { COL_PERIOD, COL_INDICATOR, COL_STAFF, COL_VALUE, COL_UNIT, COL_COUNT };

static const csvr_column csv_columns[COL_COUNT] = {
    { "period", CSVR_TEXT }, { "indicator", CSVR_TEXT }, { "staff_id", CSVR_TEXT },
    { "value", CSVR_TEXT },  { "unit", CSVR_TEXT },
};

typedef struct csv_ctx {
    vals_file *v;
    unsigned field[COL_COUNT]; /* 1-based field numbers; 0 for an absent column */
} csv_ctx;

/* A cell as a NUL-terminated copy, NULL when empty. */
static char *cell_copy(const csvr_cell *c)
{
    if (c->is_null || c->as.text.len == 0) return NULL;
    char *s = xmalloc(c->as.text.len + 1);
    memcpy(s, c->as.text.ptr, c->as.text.len);
    s[c->as.text.len] = '\0';
    return s;
}

static bool on_csv_row(void *ctx, const csvr_row *row)
{
    csv_ctx *x = ctx;
    vals_row r;
    memset(&r, 0, sizeof r);
    r.line = (unsigned)csvr_row_line(row);
    char *cells[COL_COUNT];
    for (int c = 0; c < COL_COUNT; c++) cells[c] = x->field[c] ? cell_copy(&row->cells[c]) : NULL;
    r.period = cells[COL_PERIOD];
    r.indicator = cells[COL_INDICATOR];
    r.staff = cells[COL_STAFF];
    r.value = cells[COL_VALUE];
    r.value_len = r.value ? strlen(r.value) : 0;
    r.unit = cells[COL_UNIT];
    r.period_col = x->field[COL_PERIOD];
    r.indicator_col = x->field[COL_INDICATOR];
    r.staff_col = x->field[COL_STAFF];
    r.value_col = x->field[COL_VALUE];
    r.unit_col = x->field[COL_UNIT];
    add_row(x->v, &r);
    for (int c = 0; c < COL_COUNT; c++) free(cells[c]);
    return true;
}

static csvr_verdict on_csv_bad(void *ctx, const csvr_bad_row *bad)
{
    csv_ctx *x = ctx;
    file_error(x->v, (unsigned)bad->error->line, (unsigned)bad->error->field, "%s", bad->error->message);
    return CSVR_SKIP;
}

static void read_csv(vals_file *v, const void *data, size_t size)
{
    csvr_error err;
    memset(&err, 0, sizeof err);
    csvr_reader *reader = csvr_open_memory(v->path, data, size, csv_columns, COL_COUNT,
                                           CSVR_NO_HASH | CSVR_MISSING_COLUMNS_OK, &err);
    if (!reader) {
        file_error(v, (unsigned)err.line, (unsigned)err.field, "%s", err.message);
        return;
    }
    csv_ctx x = { v, { 0 } };
    for (int c = 0; c < COL_COUNT; c++)
        for (size_t i = 0; i < csvr_header_size(reader); i++)
            if (!strcmp(csvr_header_name(reader, i), csv_columns[c].name)) x.field[c] = (unsigned)i + 1;
    bool complete = true;
    for (int c = 0; c < COL_UNIT; c++) complete &= x.field[c] != 0;
    if (!complete) {
        diagnostic *d =
            file_error(v, 1, 0, "the header lacks column%s%s%s%s%s",
                       (!x.field[0]) + (!x.field[1]) + (!x.field[2]) + (!x.field[3]) > 1 ? "s" : "",
                       x.field[COL_PERIOD] ? "" : " period", x.field[COL_INDICATOR] ? "" : " indicator",
                       x.field[COL_STAFF] ? "" : " staff_id", x.field[COL_VALUE] ? "" : " value");
        diag_hint(v->diags, d,
                  "a values file has the header period,indicator,staff_id,value (kpic sql's columns)");
        csvr_close(reader);
        return;
    }
    csvr_handlers h = { .on_row = on_csv_row, .on_bad = on_csv_bad, .ctx = &x };
    if (csvr_read(reader, &h, &err) == CSVR_ERROR)
        file_error(v, (unsigned)err.line, (unsigned)err.field, "%s", err.message);
    csvr_close(reader);
}

/* ---- JSON (kpic eval --format json) --------------------------------------------------------- */

typedef enum jkind { J_NULL, J_BOOL, J_NUMBER, J_STRING, J_ARRAY, J_OBJECT } jkind;

/* A parsed JSON value: strings and numbers as text (numbers exactly as written). */
typedef struct jvalue {
    jkind kind;
    unsigned line;
    char *text; /* J_STRING: UTF-8 (NUL-free); J_NUMBER: the digits */
    size_t len;
    struct jvalue **items; /* J_ARRAY: values; J_OBJECT: values, keys in keys */
    char **keys;
    size_t count;
} jvalue;

typedef struct jparser {
    const char *p, *end;
    unsigned line;
    vals_file *v;
    int depth;
} jparser;

#define JSON_MAX_DEPTH 32

static void jfree(jvalue *j)
{
    if (!j) return;
    for (size_t i = 0; i < j->count; i++) {
        jfree(j->items[i]);
        if (j->keys) free(j->keys[i]);
    }
    free(j->items);
    free(j->keys);
    free(j->text);
    free(j);
}

static void jskip(jparser *x)
{
    for (; x->p < x->end; x->p++) {
        if (*x->p == '\n') x->line++;
        else if (*x->p != ' ' && *x->p != '\t' && *x->p != '\r') return;
    }
}

static jvalue *jerror(jparser *x, const char *what)
{
    if (!x->v->failed) file_error(x->v, x->line, 0, "not kpic eval's JSON: %s", what);
    return NULL;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool read_hex4(jparser *x, unsigned *out)
{
    if (x->end - x->p < 4) return false;
    unsigned u = 0;
    for (int k = 0; k < 4; k++) {
        int h = hex_digit(x->p[k]);
        if (h < 0) return false;
        u = u * 16 + (unsigned)h;
    }
    x->p += 4;
    *out = u;
    return true;
}

/* A string, after its opening quote. */
static char *jstring(jparser *x, size_t *len)
{
    size_t cap = 32, n = 0;
    char *s = xmalloc(cap);
    while (x->p < x->end && *x->p != '"') {
        if (n + 8 > cap) s = xrealloc(s, cap *= 2);
        unsigned char c = (unsigned char)*x->p;
        if (c < 0x20) goto bad;
        if (c != '\\') {
            s[n++] = (char)c;
            x->p++;
            continue;
        }
        if (++x->p >= x->end) goto bad;
        char e = *x->p++;
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            s[n++] = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
            continue;
        }
        unsigned u;
        if (e != 'u' || !read_hex4(x, &u)) goto bad;
        if (u >= 0xD800 && u < 0xDC00) {
            unsigned lo;
            if (x->end - x->p < 2 || x->p[0] != '\\' || x->p[1] != 'u') goto bad;
            x->p += 2;
            if (!read_hex4(x, &lo) || lo < 0xDC00 || lo > 0xDFFF) goto bad;
            u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        } else if (u >= 0xDC00 && u <= 0xDFFF) {
            goto bad;
        }
        if (u == 0) goto bad; /* no NUL inside a name or an id */
        n += (size_t)utf8proc_encode_char((utf8proc_int32_t)u, (utf8proc_uint8_t *)s + n);
    }
    if (x->p >= x->end) goto bad;
    x->p++;
    s[n] = '\0';
    /* valid UTF-8 only: ids and names are compared byte for byte with the spec's */
    for (utf8proc_ssize_t at = 0; at < (utf8proc_ssize_t)n;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t step =
            utf8proc_iterate((const utf8proc_uint8_t *)s + at, (utf8proc_ssize_t)n - at, &cp);
        if (step <= 0) goto bad;
        at += step;
    }
    *len = n;
    return s;
bad:
    free(s);
    return NULL;
}

static jvalue *jparse(jparser *x);

static jvalue *jnew(jkind kind, unsigned line)
{
    jvalue *j = xcalloc(1, sizeof *j);
    j->kind = kind;
    j->line = line;
    return j;
}

static void jpush(jvalue *j, char *key, jvalue *item, size_t *cap)
{
    if (j->count == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        j->items = xrealloc(j->items, *cap * sizeof *j->items);
        if (j->kind == J_OBJECT) j->keys = xrealloc(j->keys, *cap * sizeof *j->keys);
    }
    if (j->kind == J_OBJECT) j->keys[j->count] = key;
    j->items[j->count++] = item;
}

static jvalue *jcontainer(jparser *x, bool object)
{
    jvalue *j = jnew(object ? J_OBJECT : J_ARRAY, x->line);
    size_t cap = 0;
    x->p++;
    jskip(x);
    if (x->p < x->end && *x->p == (object ? '}' : ']')) {
        x->p++;
        return j;
    }
    for (;;) {
        char *key = NULL;
        if (object) {
            jskip(x);
            size_t len;
            if (x->p >= x->end || *x->p != '"') goto bad;
            x->p++;
            if (!(key = jstring(x, &len))) goto bad;
            jskip(x);
            if (x->p >= x->end || *x->p != ':') {
                free(key);
                goto bad;
            }
            x->p++;
        }
        jvalue *item = jparse(x);
        if (!item) {
            free(key);
            jfree(j);
            return NULL;
        }
        jpush(j, key, item, &cap);
        jskip(x);
        if (x->p < x->end && *x->p == ',') {
            x->p++;
            continue;
        }
        if (x->p < x->end && *x->p == (object ? '}' : ']')) {
            x->p++;
            return j;
        }
        goto bad;
    }
bad:
    jfree(j);
    return jerror(x, object ? "a broken object" : "a broken array");
}

static jvalue *jparse(jparser *x)
{
    jskip(x);
    if (x->p >= x->end) return jerror(x, "it ends early");
    char c = *x->p;
    if (c == '{' || c == '[') {
        if (++x->depth > JSON_MAX_DEPTH) return jerror(x, "nested too deeply");
        jvalue *j = jcontainer(x, c == '{');
        x->depth--;
        return j;
    }
    if (c == '"') {
        x->p++;
        jvalue *j = jnew(J_STRING, x->line);
        if (!(j->text = jstring(x, &j->len))) {
            jfree(j);
            return jerror(x, "a broken string (a control character, a bad escape, \\u0000 or invalid UTF-8)");
        }
        return j;
    }
    static const char *const words[] = { "null", "true", "false" };
    for (int w = 0; w < 3; w++) {
        size_t n = strlen(words[w]);
        if ((size_t)(x->end - x->p) >= n && !memcmp(x->p, words[w], n)) {
            x->p += n;
            return jnew(w == 0 ? J_NULL : J_BOOL, x->line);
        }
    }
    const char *start = x->p;
    while (x->p < x->end && strchr("+-0123456789.eE", *x->p) && *x->p) x->p++;
    if (x->p == start) return jerror(x, "an unexpected character");
    jvalue *j = jnew(J_NUMBER, x->line);
    j->len = (size_t)(x->p - start);
    j->text = xmalloc(j->len + 1);
    memcpy(j->text, start, j->len);
    j->text[j->len] = '\0';
    return j;
}

static const jvalue *jmember(const jvalue *obj, const char *key)
{
    if (!obj || obj->kind != J_OBJECT) return NULL;
    for (size_t i = 0; i < obj->count; i++)
        if (!strcmp(obj->keys[i], key)) return obj->items[i];
    return NULL;
}

/* One value of the JSON: a number or null. */
static void json_value(vals_file *v, const char *indicator, const char *unit, const char *period,
                       const char *staff, const jvalue *value)
{
    vals_row r;
    memset(&r, 0, sizeof r);
    r.line = value->line;
    r.indicator = indicator;
    r.unit = unit;
    r.period = period;
    r.staff = staff;
    if (value->kind == J_NUMBER) {
        r.value = value->text;
        r.value_len = value->len;
    } else if (value->kind != J_NULL) {
        file_error(v, value->line, 0, "the value of '%s' in %s is not a number or null", indicator, period);
        return;
    }
    add_row(v, &r);
}

static void read_json(vals_file *v, const char *data, size_t size)
{
    jparser x = { data, data + size, 1, v, 0 };
    if (size >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3)) x.p += 3;
    jvalue *root = jparse(&x);
    if (!root) return;
    jskip(&x);
    if (x.p != x.end) {
        jerror(&x, "text after the end");
        jfree(root);
        return;
    }
    const jvalue *indicators = jmember(root, "indicators");
    if (!indicators || indicators->kind != J_ARRAY) {
        file_error(v, root->line, 0, "not kpic eval's JSON: no \"indicators\" array");
        jfree(root);
        return;
    }
    for (size_t i = 0; i < indicators->count; i++) {
        const jvalue *ind = indicators->items[i];
        const jvalue *name = jmember(ind, "name"), *unit = jmember(ind, "unit"),
                     *values = jmember(ind, "values");
        if (!name || name->kind != J_STRING || !values || values->kind != J_ARRAY ||
            (unit && unit->kind != J_STRING)) {
            file_error(v, ind->line, 0, "not kpic eval's JSON: an indicator without \"name\" and \"values\"");
            continue;
        }
        for (size_t k = 0; k < values->count; k++) {
            const jvalue *pv = values->items[k];
            const jvalue *period = jmember(pv, "period"), *total = jmember(pv, "total"),
                         *staff = jmember(pv, "staff");
            if (!period || period->kind != J_STRING || !total || (staff && staff->kind != J_OBJECT)) {
                file_error(v, pv->line, 0, "not kpic eval's JSON: a value without \"period\" and \"total\"");
                continue;
            }
            const char *unit_text = unit ? unit->text : NULL;
            json_value(v, name->text, unit_text, period->text, NULL, total);
            for (size_t s = 0; staff && s < staff->count; s++) {
                if (!*staff->keys[s]) {
                    file_error(v, staff->items[s]->line, 0, "an empty staff id");
                    continue;
                }
                json_value(v, name->text, unit_text, period->text, staff->keys[s], staff->items[s]);
            }
        }
    }
    jfree(root);
}

/* ---- reading -------------------------------------------------------------------------------- */

static vals_file *read_bytes(const char *name, const char *data, size_t size, const chk_model *model,
                             diag_sink *diags)
{
    vals_file *v = vals_begin(name, model, diags);
    hash_sha256_hex(data, size, v->sha256);
    size_t i = size >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3) ? 3 : 0;
    while (i < size && strchr(" \t\r\n", data[i]) && data[i]) i++;
    if (memchr(data, '\0', size)) file_error(v, 0, 0, "the file has NUL bytes: it is not CSV or JSON text");
    else if (i < size && data[i] == '{') read_json(v, data, size);
    else read_csv(v, data, size);
    v->diags = NULL;
    if (v->failed) {
        vals_free(v);
        return NULL;
    }
    return v;
}

vals_file *vals_read_memory(const char *name, const void *data, size_t size, const chk_model *model,
                            diag_sink *diags)
{
    return read_bytes(name, data, size, model, diags);
}

vals_file *vals_read(const char *path, const chk_model *model, diag_sink *diags, bool *io_error)
{
    *io_error = false;
    FILE *f = fopen(path, "rb");
    if (!f) {
        *io_error = true;
        diag_report_data(diags, DIAG_ERROR, path, 0, 0, "io", "cannot read the values file: %s",
                         strerror(errno));
        return NULL;
    }
    char *data = NULL;
    size_t size = 0, cap = 0;
    for (;;) {
        if (size == cap) data = xrealloc(data, cap = cap ? 2 * cap : 65536);
        size_t n = fread(data + size, 1, cap - size, f);
        size += n;
        if (n == 0) break;
    }
    bool failed = ferror(f);
    int why = errno;
    fclose(f);
    if (failed) {
        *io_error = true;
        diag_report_data(diags, DIAG_ERROR, path, 0, 0, "io", "cannot read the values file: %s",
                         strerror(why ? why : EIO));
        free(data);
        return NULL;
    }
    vals_file *v = read_bytes(path, data, size, model, diags);
    free(data);
    return v;
}

vals_file *vals_begin(const char *name, const chk_model *model, diag_sink *diags)
{
    vals_file *v = xcalloc(1, sizeof *v);
    v->path = xstrdup(name);
    v->model = model;
    v->diags = diags;
    hmap_init(&v->index);
    strtab_init(&v->staff_ids);
    return v;
}

void vals_add(vals_file *v, unsigned row, const char *period, const char *indicator, const char *staff_id,
              const char *value)
{
    vals_row r;
    memset(&r, 0, sizeof r);
    r.line = row;
    /* an empty text is what a file's empty cell is: absent */
    r.period = period && *period ? period : NULL;
    r.indicator = indicator && *indicator ? indicator : NULL;
    r.staff = staff_id && *staff_id ? staff_id : NULL;
    r.value = value && *value ? value : NULL;
    r.value_len = r.value ? strlen(r.value) : 0;
    r.period_col = 1;
    r.indicator_col = 2;
    r.staff_col = 3;
    r.value_col = 4;
    add_row(v, &r);
}

vals_file *vals_end(vals_file *v)
{
    v->diags = NULL;
    if (v->failed) {
        vals_free(v);
        return NULL;
    }
    return v;
}

void vals_free(vals_file *v)
{
    if (!v) return;
    for (size_t i = 0; i < v->missing_count; i++) free(v->missing[i].staff_id);
    free(v->missing);
    free(v->entries);
    hmap_free(&v->index);
    strtab_free(&v->staff_ids);
    free(v->path);
    free(v);
}

/* ---- answering the evaluator --------------------------------------------------------------- */

static void note_missing(vals_file *v, const ast_decl *indicator, period_t period, const char *staff_id)
{
    for (size_t i = 0; i < v->missing_count; i++) {
        vals_missing *m = &v->missing[i];
        if (m->indicator == indicator && period_same(m->period, period)) {
            m->count++;
            return;
        }
    }
    if (v->missing_count == v->missing_cap) {
        v->missing_cap = v->missing_cap ? 2 * v->missing_cap : 8;
        v->missing = xrealloc(v->missing, v->missing_cap * sizeof *v->missing);
    }
    v->missing[v->missing_count++] =
        (vals_missing){ indicator, period, staff_id ? xstrdup(staff_id) : NULL, 1 };
}

static eval_value given_value(void *ctx, const ast_decl *indicator, period_t period, const char *staff_id)
{
    vals_file *v = ctx;
    uint32_t staff = HMAP_NONE;
    if (staff_id) {
        staff = strtab_find(&v->staff_ids, staff_id, strlen(staff_id));
        if (staff == HMAP_NONE) {
            note_missing(v, indicator, period, staff_id);
            return eval_null();
        }
    }
    const vals_entry *e = find_entry(v, indicator, period, staff);
    if (!e) {
        note_missing(v, indicator, period, staff_id);
        return eval_null();
    }
    return e->value;
}

void vals_attach(vals_file *v, eval_options *options)
{
    options->given_values = given_value;
    options->given_values_ctx = v;
}

bool vals_check_roster(vals_file *v, const eval_session *session, diag_sink *diags)
{
    size_t count;
    const eval_staff *roster = eval_roster(session, &count);
    size_t ids = v->staff_ids.count;
    bool *on_roster = xcalloc(ids + 1, sizeof *on_roster);
    for (size_t i = 0; i < count; i++) {
        uint32_t id =
            roster[i].id ? strtab_find(&v->staff_ids, roster[i].id, strlen(roster[i].id)) : HMAP_NONE;
        if (id != HMAP_NONE) on_roster[id] = true;
    }
    bool ok = true;
    bool *reported = xcalloc(ids + 1, sizeof *reported);
    for (size_t i = 0; i < v->count; i++) {
        const vals_entry *e = &v->entries[i];
        if (e->staff == HMAP_NONE || on_roster[e->staff] || reported[e->staff]) continue;
        reported[e->staff] = true;
        ok = false;
        diagnostic *d =
            diag_report_data(diags, DIAG_ERROR, v->path, e->line, e->staff_col, "values",
                             "staff id '%s' is not on the roster", strtab_str(&v->staff_ids, e->staff));
        diag_hint(diags, d, "score with the roster the values were computed with (--data staff=FILE)");
    }
    free(reported);
    free(on_roster);
    return ok;
}

bool vals_report_missing(vals_file *v, diag_sink *diags)
{
    for (size_t i = 0; i < v->missing_count; i++) {
        const vals_missing *m = &v->missing[i];
        char label[PERIOD_LABEL_SIZE];
        period_format(m->period, label, sizeof label);
        diagnostic *d;
        if (m->staff_id)
            d = diag_report_data(diags, DIAG_ERROR, v->path, 0, 0, "values",
                                 "no value of indicator '%s' in %s for staff '%s'%s", m->indicator->name,
                                 label, m->staff_id, m->count > 1 ? " and others" : "");
        else
            d = diag_report_data(diags, DIAG_ERROR, v->path, 0, 0, "values",
                                 "no value of indicator '%s' in %s for the total", m->indicator->name, label);
        if (m->count > 1)
            diag_hint(diags, d, "%zu values of '%s' in %s are missing", m->count, m->indicator->name, label);
        diag_hint(diags, d,
                  "compute the values for every period and indicator scoring reads (kpic sql --period %s)",
                  label);
    }
    return v->missing_count == 0;
}

eval_source_stats vals_source(const vals_file *v)
{
    eval_source_stats s;
    memset(&s, 0, sizeof s);
    s.name = "values";
    s.path = v->path;
    memcpy(s.sha256, v->sha256, sizeof s.sha256);
    s.rows = v->count;
    s.read = true;
    return s;
}
