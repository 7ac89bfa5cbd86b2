/* eval_output.c — the output of `kpic eval`: the table, JSON and CSV layouts
 * (eval_render).
 *
 * Numbers are exact decimals (decimal.h) up to the moment they become text.  Text
 * for people and money in every format comes from dec_format(), which rounds half
 * away from zero in decimal; only the non-money fractions of JSON and CSV go
 * through a double, because docs/json.md asks for the shortest round-tripping
 * digits of one.
 *
 * Values for people (the table) are value.c's eval_format_value.
 *
 * Values for machines (JSON and the CSV value column), docs/json.md:
 *   money             rounded to 2 places, trailing zeros and point dropped:
 *                     12.5, -1234, 0.01 (a JSON number; no separators)
 *   any other unit    an integer as its exact digits (1300); otherwise the
 *                     shortest digits that read back as the same double
 *                     (json_write_double): percent and ratio as plain fractions,
 *                     0.25, 1/3 -> 0.3333333333333333
 *   null              JSON null; an empty CSV cell
 *   date, bool, text  "2025-05-01" / true / "text" in JSON; bare in CSV
 *
 * Output is deterministic: everything is written in the order of the session's
 * periods, the caller's indicators and the roster, with no hashing and no clock.
 */
#include "eval_output.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "kpic/arena.h"
#include "kpic/json.h"

/* Holds any number text built here (value.h). */
#define NUMBER_TEXT_SIZE VAL_NUMBER_TEXT_SIZE

/* ---- values for machines ----------------------------------------------------------- */

static bool is_integral(dec_t v)
{
    dec_t r;
    return dec_round(v, 0, &r) == DEC_OK && dec_cmp(r, v) == 0;
}

/* A number as JSON and CSV show it (the rules at the top of this file). */
static void write_number(FILE *out, dec_t v, ast_unit unit)
{
    char text[NUMBER_TEXT_SIZE];
    if (unit == UNIT_MONEY) {
        val_format_trimmed(v, 2, text);
        fputs(text, out);
    } else if (is_integral(v)) {
        dec_format(v, 0, text, sizeof text);
        fputs(text, out);
    } else {
        json_write_double(out, dec_to_double(v));
    }
}

/* A plain decimal number: an optional sign, digits, at most one point. A spreadsheet
 * reads it as that number, never as a formula. */
static bool is_plain_number(const char *s)
{
    if (*s == '-' || *s == '+') s++;
    bool digits = false, point = false;
    for (; *s; s++) {
        if (*s >= '0' && *s <= '9') digits = true;
        else if (*s == '.' && !point) point = true;
        else return false;
    }
    return digits;
}

/* Text that Excel, LibreOffice and Google Sheets would evaluate as a formula. */
static bool starts_formula(const char *s)
{
    return strchr("=+-@\t\r", s[0]) != NULL && !is_plain_number(s);
}

/* The CSV quoter of every output (the rejects file is quoted by libcsv's csv_write):
 * quotes S when a reader would otherwise split or trim it; with GUARD, a cell a
 * spreadsheet would run as a formula gets a leading apostrophe. */
static void write_csv_field(FILE *out, const char *s, bool guard)
{
    if (!s || !*s) return;
    size_t n = strlen(s);
    bool formula = guard && starts_formula(s);
    bool quote = strpbrk(s, ",\"\r\n") != NULL || s[0] == ' ' || s[n - 1] == ' ';
    if (quote) fputc('"', out);
    if (formula) fputc('\'', out);
    for (const char *p = s; *p; p++) {
        if (quote && *p == '"') fputc('"', out);
        fputc(*p, out);
    }
    if (quote) fputc('"', out);
}

void eval_write_csv_field(FILE *out, const char *s)
{
    write_csv_field(out, s, true);
}

const char *eval_skipped_text(const eval_source_stats *sources, size_t count, arena *mem)
{
    const char *text = "";
    for (size_t k = 0; k < count; k++) {
        const eval_source_stats *src = &sources[k];
        if (!src->read || src->skipped == 0) continue;
        text = arena_printf(mem, "%s%s%s: %" PRIu64 " row%s skipped", text, *text ? "; " : "", src->name,
                            src->skipped, src->skipped == 1 ? "" : "s");
    }
    return text;
}

/* V as a JSON value (JSON) or a CSV field (!JSON). */
static void write_machine_value(FILE *out, eval_value v, ast_unit unit, bool json)
{
    char text[DATE_FORMAT_SIZE];
    switch (v.kind) {
    case VAL_NUM: write_number(out, v.as.num, unit); return;
    case VAL_DATE:
        if (v.as.date < DATE_MIN || v.as.date > DATE_MAX) break;
        date_format(v.as.date, text, sizeof text);
        if (json) json_write_string(out, text);
        else fputs(text, out);
        return;
    case VAL_BOOL: fputs(v.as.b ? "true" : "false", out); return;
    case VAL_TEXT:
        if (json) json_write_string(out, v.as.text ? v.as.text : "");
        else eval_write_csv_field(out, v.as.text);
        return;
    case VAL_NULL: break;
    }
    if (json) fputs("null", out);
}

/* ---- display width ------------------------------------------------------------------ */

/* A control character: C0, DEL, C1.  Shown as a space in the table. */
static bool is_control(utf8proc_int32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp < 0xa0);
}

size_t eval_display_width(const char *s)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    size_t len = strlen(s), width = 0;
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n <= 0) {
            width++; /* shown as U+FFFD */
            i++;
            continue;
        }
        int w = is_control(cp) ? 1 : utf8proc_charwidth(cp);
        width += w < 0 ? 1 : (size_t)w;
        i += (size_t)n;
    }
    return width;
}

void eval_write_padded(FILE *out, const char *s, size_t width, bool right_align)
{
    size_t w = eval_display_width(s);
    size_t pad = w < width ? width - w : 0;
    if (!right_align) fputs(s, out);
    for (size_t i = 0; i < pad; i++) fputc(' ', out);
    if (right_align) fputs(s, out);
}

/* A malloc'd copy of S fit for one table cell: bytes that are not valid UTF-8
 * become U+FFFD, control characters (line breaks, tabs) a space, so every cell
 * stays on its line and eval_display_width() measures what the terminal shows.
 * NULL gives "". */
static char *clean_cell(const char *s)
{
    if (!s) s = "";
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    size_t len = strlen(s);
    char *out = xmalloc(3 * len + 1), *o = out; /* U+FFFD is 3 bytes per bad byte */
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n <= 0) {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else if (is_control(cp)) {
            *o++ = ' ';
            i += (size_t)n;
        } else {
            memcpy(o, s + i, (size_t)n);
            o += n;
            i += (size_t)n;
        }
    }
    *o = '\0';
    return out;
}

/* ---- shared pieces ------------------------------------------------------------------- */

typedef char period_label[PERIOD_LABEL_SIZE];

/* The labels of G's periods (2025-05, 2025-W20, …), malloc'd. */
static period_label *period_labels(const eval_grid *g)
{
    period_label *labels = xcalloc(g->period_count ? g->period_count : 1, sizeof *labels);
    for (size_t p = 0; p < g->period_count; p++) period_format(g->periods[p], labels[p], sizeof labels[p]);
    return labels;
}

static eval_value cell(const eval_grid *g, size_t period, size_t indicator, int staff)
{
    return g->value(g->ctx, period, indicator, staff);
}

static ast_unit unit_of(const eval_grid *g, size_t indicator)
{
    return g->indicators[indicator]->u.indicator.unit;
}

static bool per_staff(const eval_grid *g, size_t indicator)
{
    return g->indicators[indicator]->u.indicator.per_staff;
}

/* ---- JSON (docs/json.md) ---------------------------------------------------------------- */

void eval_write_sources_json(FILE *out, const eval_source_stats *sources, size_t count)
{
    fputc('[', out);
    bool first = true;
    for (size_t k = 0; k < count; k++) {
        const eval_source_stats *src = &sources[k];
        if (!src->read) continue;
        fputs(first ? "\n  {\"name\": " : ",\n  {\"name\": ", out);
        first = false;
        json_write_string(out, src->name);
        fputs(", \"path\": ", out);
        json_write_string(out, src->path ? src->path : "");
        fputs(", \"sha256\": ", out);
        json_write_string(out, src->sha256);
        fprintf(out, ", \"rows\": %" PRIu64 ", \"skipped\": %" PRIu64, src->rows, src->skipped);
        if (src->server) {
            fputs(", \"server\": ", out);
            json_write_string(out, src->server);
        }
        fputc('}', out);
    }
    fputc(']', out);
}

/* {"periods": [...],
 *  "indicators": [
 *   {"name": ..., "label": ... or null, "unit": ...,
 *    "values": [
 *     {"period": ..., "total": ..., "staff": {"s01": ..., ...}}]}],
 *  "sources": [
 *   {"name": ..., "path": ..., "sha256": ..., "rows": N, "skipped": N}]}
 * `staff` only for per-staff indicators, in roster order; `sources` (an extension
 * of §3.1, the same objects as in the score JSON) lists the sources read. */
static void render_json(FILE *out, const eval_grid *g)
{
    period_label *labels = period_labels(g);
    fputs("{\"periods\": [", out);
    for (size_t p = 0; p < g->period_count; p++) {
        if (p) fputs(", ", out);
        json_write_string(out, labels[p]);
    }
    fputs("],\n \"indicators\": [", out);
    for (size_t i = 0; i < g->indicator_count; i++) {
        const ast_decl *d = g->indicators[i];
        fputs(i ? ",\n  {\"name\": " : "\n  {\"name\": ", out);
        json_write_string(out, d->name);
        fputs(", \"label\": ", out);
        if (d->u.indicator.label) json_write_string(out, d->u.indicator.label);
        else fputs("null", out);
        fputs(", \"unit\": ", out);
        json_write_string(out, ast_unit_name(d->u.indicator.unit));
        fputs(",\n   \"values\": [", out);
        for (size_t p = 0; p < g->period_count; p++) {
            fputs(p ? ",\n    {\"period\": " : "\n    {\"period\": ", out);
            json_write_string(out, labels[p]);
            fputs(", \"total\": ", out);
            write_machine_value(out, cell(g, p, i, -1), unit_of(g, i), true);
            if (per_staff(g, i)) {
                fputs(", \"staff\": {", out);
                for (size_t s = 0; s < g->staff_count; s++) {
                    /* keyed by staff id: a person's later rows (one per role) would
                     * repeat the key with the same value */
                    if (g->staff[s].id_rows > 1 && g->staff[s].first_row != (int)s) continue;
                    if (s) fputs(", ", out);
                    json_write_string(out, g->staff[s].id ? g->staff[s].id : "");
                    fputs(": ", out);
                    write_machine_value(out, cell(g, p, i, (int)s), unit_of(g, i), true);
                }
                fputc('}', out);
            }
            fputc('}', out);
        }
        fputs("]}", out);
    }
    fputs("],\n \"sources\": ", out);
    eval_write_sources_json(out, g->sources, g->source_count);
    fputs("}\n", out);
    free(labels);
}

/* ---- CSV -------------------------------------------------------------------------------- */

/* period,indicator,label,unit,staff_id,value,skipped — per period, per indicator, the
 * total (staff_id empty), then each staff member for a per-staff indicator; `skipped`
 * on every row says which sources had rows skipped under --skip-bad-rows (empty when
 * none), so that a figure computed without them says so wherever it is pasted or
 * filtered to.  LF ends. */
static void csv_row(FILE *out, const eval_grid *g, const char *period, size_t i, int staff, eval_value v,
                    const char *skipped)
{
    const ast_decl *d = g->indicators[i];
    eval_write_csv_field(out, period);
    fputc(',', out);
    eval_write_csv_field(out, d->name);
    fputc(',', out);
    eval_write_csv_field(out, d->u.indicator.label);
    fputc(',', out);
    eval_write_csv_field(out, ast_unit_name(d->u.indicator.unit));
    fputc(',', out);
    if (staff >= 0) eval_write_csv_field(out, g->staff[staff].id);
    fputc(',', out);
    write_machine_value(out, v, d->u.indicator.unit, false);
    fputc(',', out);
    eval_write_csv_field(out, skipped);
    fputc('\n', out);
}

static void render_csv(FILE *out, const eval_grid *g)
{
    period_label *labels = period_labels(g);
    arena mem;
    arena_init(&mem);
    const char *skipped = eval_skipped_text(g->sources, g->source_count, &mem);
    fputs("period,indicator,label,unit,staff_id,value,skipped\n", out);
    for (size_t p = 0; p < g->period_count; p++) {
        for (size_t i = 0; i < g->indicator_count; i++) {
            csv_row(out, g, labels[p], i, -1, cell(g, p, i, -1), skipped);
            if (!per_staff(g, i)) continue;
            for (size_t s = 0; s < g->staff_count; s++)
                if (g->staff[s].id_rows < 2 ||
                    g->staff[s].first_row == (int)s) /* one row per staff id, as in JSON */
                    csv_row(out, g, labels[p], i, (int)s, cell(g, p, i, (int)s), skipped);
        }
    }
    arena_free(&mem);
    free(labels);
}

/* ---- values (the file `--values` reads) ---------------------------------------------------- */

/* TEXT as a CSV field, never guarded against spreadsheets: this file is read back by
 * kpic, which must see the staff ids as the roster has them. */
static void values_field(FILE *out, const char *text)
{
    write_csv_field(out, text, false);
}

static void values_row(FILE *out, const char *period, const ast_decl *d, const char *staff, eval_value v)
{
    fprintf(out, "%s,", period);
    values_field(out, d->name);
    fputc(',', out);
    if (staff) values_field(out, staff);
    fputc(',', out);
    if (v.kind == VAL_NUM) {
        char text[VAL_NUMBER_TEXT_SIZE];
        val_format_trimmed(v.as.num, DEC_PLACES, text);
        fputs(text, out);
    }
    fputc('\n', out);
}

/* period,indicator,staff_id,value: the rows of the CSV layout, every number with all
 * its places (18 at most, trailing zeros dropped), so that scoring from the file gives
 * exactly what scoring from the data gives. */
static void render_values(FILE *out, const eval_grid *g)
{
    period_label *labels = period_labels(g);
    fputs("period,indicator,staff_id,value\n", out);
    for (size_t p = 0; p < g->period_count; p++) {
        for (size_t i = 0; i < g->indicator_count; i++) {
            values_row(out, labels[p], g->indicators[i], NULL, cell(g, p, i, -1));
            if (!per_staff(g, i)) continue;
            for (size_t s = 0; s < g->staff_count; s++) {
                /* one value per staff id: a person's later rows (one per role) hold the
                 * same figure, and --values refuses a value that differs between them */
                if (g->staff[s].id_rows > 1 && g->staff[s].first_row != (int)s) continue;
                values_row(out, labels[p], g->indicators[i], g->staff[s].id ? g->staff[s].id : "",
                           cell(g, p, i, (int)s));
            }
        }
    }
    free(labels);
}

/* ---- table ------------------------------------------------------------------------------- */

/* Spaces before an indicator row, before a staff row, and between columns. */
#define TABLE_INDENT       2
#define TABLE_STAFF_INDENT 4
#define TABLE_GAP          2

/* A count with thousands separators, for the sources lines. */
static void format_count(uint64_t n, char out[NUMBER_TEXT_SIZE])
{
    char plain[24];
    snprintf(plain, sizeof plain, "%" PRIu64, n);
    val_group_thousands(plain, out);
}

/* Width of the widest cleaned value of G (every period, totals and staff). */
static size_t widest_value(const eval_grid *g)
{
    size_t widest = 0;
    char text[NUMBER_TEXT_SIZE];
    for (size_t p = 0; p < g->period_count; p++) {
        for (size_t i = 0; i < g->indicator_count; i++) {
            int last = per_staff(g, i) ? (int)g->staff_count - 1 : -1;
            for (int s = -1; s <= last; s++) {
                eval_value v = cell(g, p, i, s);
                size_t w;
                if (v.kind == VAL_TEXT) {
                    char *c = clean_cell(v.as.text);
                    w = eval_display_width(c);
                    free(c);
                } else {
                    eval_format_value(v, unit_of(g, i), text, sizeof text);
                    w = eval_display_width(text);
                }
                if (w > widest) widest = w;
            }
        }
    }
    return widest;
}

/* One row: indentation, the left text padded to LEFT_WIDTH, the gap, and the value
 * right-aligned in VALUE_WIDTH columns. */
static void table_row(FILE *out, size_t indent, const char *left, size_t left_width, eval_value v,
                      ast_unit unit, size_t value_width)
{
    char text[NUMBER_TEXT_SIZE];
    char *value_text = NULL;
    if (v.kind == VAL_TEXT) {
        value_text = clean_cell(v.as.text);
    } else {
        eval_format_value(v, unit, text, sizeof text);
    }
    fprintf(out, "%*s", (int)indent, "");
    eval_write_padded(out, left, left_width, false);
    fprintf(out, "%*s", TABLE_GAP, "");
    eval_write_padded(out, value_text ? value_text : text, value_width, true);
    fputc('\n', out);
    free(value_text);
}

/* For each period a block: the period's label (and its days, unless it is one day),
 * then per indicator a row `name  label  value`, and under a per-staff indicator a
 * row `id name  value` per staff member.  Names and labels are left-aligned and
 * values right-aligned in columns measured in display width; all blocks share one
 * layout.  Then a line per source read.  Example:
 *
 *     2025-05 (2025-05-01 to 2025-05-31)
 *       repurchase_rate  复购率            25%
 *         s01 张三                         50%
 *         s02 李四                         n/a
 *       gmv              成交额 GMV  -1,234.01
 *       orders                            1300
 *         s01 张三                         800
 *         s02 李四                         500
 *
 *     source staff: 2 rows read, 0 skipped (data/staff.csv)
 *     source orders: 1,000 rows read, 3 skipped, 4 with an empty time column (data/orders.csv)
 *
 * (Each Chinese character takes two columns on a terminal.)  A cell's control
 * characters show as spaces, so a label with a line break stays on its row. */
static void render_table(FILE *out, const eval_grid *g)
{
    size_t ni = g->indicator_count, ns = g->staff_count;
    char **names = xcalloc(ni ? ni : 1, sizeof *names);
    char **labels = xcalloc(ni ? ni : 1, sizeof *labels);
    char **staff = xcalloc(ns ? ns : 1, sizeof *staff);
    size_t name_width = 0, label_width = 0, staff_width = 0;
    bool any_per_staff = false;
    for (size_t i = 0; i < ni; i++) {
        names[i] = clean_cell(g->indicators[i]->name);
        labels[i] = clean_cell(g->indicators[i]->u.indicator.label);
        size_t nw = eval_display_width(names[i]), lw = eval_display_width(labels[i]);
        name_width = nw > name_width ? nw : name_width;
        label_width = lw > label_width ? lw : label_width;
        any_per_staff |= per_staff(g, i);
    }
    for (size_t s = 0; s < ns && any_per_staff; s++) {
        const eval_staff *st = &g->staff[s];
        /* a person with a row per role is listed per row: the role tells them apart */
        const char *role = st->id_rows > 1 && st->role ? st->role : NULL;
        size_t n = strlen(st->id ? st->id : "") + (st->name ? strlen(st->name) + 1 : 0) +
                   (role ? strlen(role) + 3 : 0);
        char *joined = xmalloc(n + 1);
        snprintf(joined, n + 1, "%s%s%s%s%s%s", st->id ? st->id : "", st->name ? " " : "",
                 st->name ? st->name : "", role ? " (" : "", role ? role : "", role ? ")" : "");
        staff[s] = clean_cell(joined);
        free(joined);
        size_t w = eval_display_width(staff[s]);
        staff_width = w > staff_width ? w : staff_width;
    }

    /* The left column: `name  label` for indicators (no label column when no
     * indicator has a label), `id name` further indented for staff members; all
     * measured from the start of the line so that the values line up. */
    size_t left_width = TABLE_INDENT + name_width + (label_width ? TABLE_GAP + label_width : 0);
    if (any_per_staff && ns > 0 && TABLE_STAFF_INDENT + staff_width > left_width)
        left_width = TABLE_STAFF_INDENT + staff_width;
    size_t value_width = widest_value(g);

    /* `name` padded to its column plus the label, per indicator. */
    char **left = xcalloc(ni ? ni : 1, sizeof *left);
    for (size_t i = 0; i < ni; i++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = xopen_memstream(&buf, &len);
        if (label_width) {
            eval_write_padded(f, names[i], name_width, false);
            fprintf(f, "%*s%s", TABLE_GAP, "", labels[i]);
        } else {
            fputs(names[i], f);
        }
        xclose_memstream(f);
        left[i] = buf;
    }

    period_label *plabels = period_labels(g);
    for (size_t p = 0; p < g->period_count; p++) {
        if (p) fputc('\n', out);
        const period_t *per = &g->periods[p];
        fputs(plabels[p], out);
        if (per->end - per->start > 1) {
            char first[DATE_FORMAT_SIZE], last[DATE_FORMAT_SIZE];
            date_format(per->start, first, sizeof first);
            date_format(per->end - 1, last, sizeof last);
            fprintf(out, " (%s to %s)", first, last);
        }
        fputc('\n', out);
        for (size_t i = 0; i < ni; i++) {
            ast_unit unit = unit_of(g, i);
            table_row(out, TABLE_INDENT, left[i], left_width - TABLE_INDENT, cell(g, p, i, -1), unit,
                      value_width);
            if (!per_staff(g, i)) continue;
            for (size_t s = 0; s < ns; s++)
                table_row(out, TABLE_STAFF_INDENT, staff[s], left_width - TABLE_STAFF_INDENT,
                          cell(g, p, i, (int)s), unit, value_width);
        }
    }

    bool first = true;
    for (size_t k = 0; k < g->source_count; k++) {
        const eval_source_stats *src = &g->sources[k];
        if (!src->read) continue;
        if (first && g->period_count > 0) fputc('\n', out);
        first = false;
        char rows[NUMBER_TEXT_SIZE], skipped[NUMBER_TEXT_SIZE];
        format_count(src->rows, rows);
        format_count(src->skipped, skipped);
        char *name = clean_cell(src->name), *path = clean_cell(src->path);
        fprintf(out, "source %s: %s rows read, %s skipped", name, rows, skipped);
        if (src->outside_periods > 0) {
            char outside[NUMBER_TEXT_SIZE];
            format_count(src->outside_periods, outside);
            fprintf(out, ", %s with an empty time column", outside);
        }
        fprintf(out, " (%s)\n", path);
        free(name);
        free(path);
    }

    free(plabels);
    for (size_t i = 0; i < ni; i++) {
        free(names[i]);
        free(labels[i]);
        free(left[i]);
    }
    for (size_t s = 0; s < ns; s++) free(staff[s]);
    free(names);
    free(labels);
    free(left);
    free(staff);
}

/* ---- entry points ------------------------------------------------------------------------ */

char *eval_render_grid(const eval_grid *g, eval_format format, size_t *len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *out = xopen_memstream(&buf, &size);
    switch (format) {
    case EVAL_FORMAT_JSON: render_json(out, g); break;
    case EVAL_FORMAT_CSV: render_csv(out, g); break;
    case EVAL_FORMAT_TABLE: render_table(out, g); break;
    case EVAL_FORMAT_VALUES: render_values(out, g); break;
    }
    xclose_memstream(out);
    if (len) *len = size;
    return buf;
}

/* eval_grid over a session: the value of indicators[indicator]. */
typedef struct session_grid {
    eval_session *session;
    ast_decl *const *indicators;
} session_grid;

static eval_value session_value(void *ctx, size_t period, size_t indicator, int staff)
{
    session_grid *sg = ctx;
    return eval_indicator_value(sg->session, sg->indicators[indicator], period, staff);
}

char *eval_render(eval_session *s, ast_decl *const *indicators, size_t count, eval_format format, size_t *len)
{
    return eval_render_given(s, indicators, count, format, NULL, len);
}

char *eval_render_given(eval_session *s, ast_decl *const *indicators, size_t count, eval_format format,
                        const eval_source_stats *given, size_t *len)
{
    session_grid sg = { s, indicators };
    eval_grid g = { 0 };
    g.periods = eval_periods(s, &g.period_count);
    g.indicators = indicators;
    g.indicator_count = count;
    g.staff = eval_roster(s, &g.staff_count);
    g.sources = eval_sources(s, &g.source_count);
    eval_source_stats *all = NULL;
    if (given) {
        /* the values' origin stands for the sources they were computed from */
        all = xcalloc(g.source_count + 1, sizeof *all);
        memcpy(all, g.sources, g.source_count * sizeof *all);
        all[g.source_count++] = *given;
        g.sources = all;
    }
    g.value = session_value;
    g.ctx = &sg;
    char *text = eval_render_grid(&g, format, len);
    free(all);
    return text;
}
