/* ceiling_output.c — the ceiling report as `kpic check --ceiling` prints it (ceiling.h):
 * a table for people, an object for tools (docs/json.md). */
#include "kpic/ceiling.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval_output.h"
#include "kpic/eval.h"
#include "kpic/json.h"

/* ---- texts of ends ---------------------------------------------------------------- */

static const char *unit_column_name(const chk_model *m, const ceil_role *r)
{
    if (r->unit_column < 0 || !m->roster || r->unit_column >= m->roster->u.source.column_count) return NULL;
    return m->roster->u.source.columns[r->unit_column].name;
}

/* A figure: money with separators, points as scores show them, a factor as a plain
 * number ("1.2"). */
static void figure(dec_t v, ast_unit unit, char *buf, size_t size)
{
    eval_format_value(eval_num(v), unit, buf, size);
}

const char *ceil_end_text(const chk_model *m, const ceil_role *r, const ceil_range *range, bool high,
                          ast_unit unit, char *buf, size_t size)
{
    const ceil_end *e = high ? &range->hi : &range->lo;
    if (e->infinite) return high ? "no limit" : "no floor";
    if (range == &r->bonus && !range->known && r->unit_column >= 0) {
        char factor[64];
        dec_t v = high ? r->per_unit.hi.value : r->per_unit.lo.value;
        if (dec_sign(v) == 0) {
            figure(v, UNIT_MONEY, buf, size); /* 0 × anything is nothing to explain */
            return buf;
        }
        figure(v, UNIT_NUMBER, factor, sizeof factor);
        snprintf(buf, size, "%s × staff.%s", factor, unit_column_name(m, r));
        return buf;
    }
    if (!range->known) return "depends on the roster";
    figure(e->value, unit, buf, size);
    return buf;
}

/* "0.00 .. 1,200.00": a range in one cell. */
static char *range_text(const chk_model *m, const ceil_role *r, const ceil_range *range, ast_unit unit)
{
    char lo[96], hi[96];
    const char *a = ceil_end_text(m, r, range, false, unit, lo, sizeof lo);
    const char *b = ceil_end_text(m, r, range, true, unit, hi, sizeof hi);
    if (!range->known && !range->lo.infinite && !range->hi.infinite && r->unit_column < 0)
        return strdup("depends on the roster");
    size_t n = strlen(a) + strlen(b) + 5;
    char *text = malloc(n);
    if (!text) abort();
    snprintf(text, n, "%s .. %s", a, b);
    return text;
}

static char *total_text(const ceil_end *e)
{
    char buf[96];
    if (e->infinite) return strdup("no limit");
    figure(e->value, UNIT_MONEY, buf, sizeof buf);
    return strdup(buf);
}

/* ---- text ------------------------------------------------------------------------ */

enum { COLUMNS = 5 };

/* The table: role, members, score, bonus per person, all members; without a roster the
 * two roster columns and the total row are left out. */
static void render_table(FILE *out, const ceil_report *r, const chk_model *m)
{
    size_t rows = r->role_count + 1 + (r->roster ? 1 : 0);
    char **cells = calloc(rows * COLUMNS, sizeof *cells);
    if (!cells) abort();
    const char *head[COLUMNS] = { "role", "members", "score", "bonus per person", "all members" };
    for (int j = 0; j < COLUMNS; j++) cells[j] = strdup(head[j]);
    for (size_t i = 0; i < r->role_count; i++) {
        const ceil_role *cr = &r->roles[i];
        char **row = cells + (i + 1) * COLUMNS;
        char members[32];
        snprintf(members, sizeof members, "%zu", cr->members);
        /* a role scored per quarter in a monthly spec pays per quarter: say so beside it */
        const ast_decl *role = cr->role;
        if (role->u.role.has_grain && role->u.role.grain != m->grain) {
            size_t len = strlen(role->name) + strlen(ast_grain_name(role->u.role.grain)) + 8;
            row[0] = malloc(len);
            if (!row[0]) abort();
            snprintf(row[0], len, "%s (per %s)", role->name, ast_grain_name(role->u.role.grain));
        } else {
            row[0] = strdup(role->name);
        }
        row[1] = strdup(members);
        row[2] = range_text(m, cr, &cr->score, UNIT_POINTS);
        row[3] = cr->has_bonus ? range_text(m, cr, &cr->bonus, UNIT_MONEY) : strdup("no bonus");
        row[4] = cr->has_bonus ? total_text(&cr->total) : strdup("");
    }
    if (r->roster) {
        char **last = cells + (r->role_count + 1) * COLUMNS;
        last[0] = strdup("total");
        for (int j = 1; j < COLUMNS - 1; j++) last[j] = strdup("");
        last[4] = total_text(&r->total);
    }
    size_t width[COLUMNS] = { 0 };
    for (size_t i = 0; i < rows; i++)
        for (int j = 0; j < COLUMNS; j++) {
            size_t w = eval_display_width(cells[i * COLUMNS + j]);
            if (w > width[j]) width[j] = w;
        }
    for (size_t i = 0; i < rows; i++) {
        fputs("  ", out);
        bool first = true;
        for (int j = 0; j < COLUMNS; j++) {
            bool roster_column = j == 1 || j == 4;
            if (roster_column && !r->roster) continue;
            if (!first) fputs("  ", out);
            first = false;
            bool last = j == COLUMNS - 1 || (j == COLUMNS - 2 && !r->roster);
            if (last && !roster_column) fputs(cells[i * COLUMNS + j], out);
            else eval_write_padded(out, cells[i * COLUMNS + j], width[j], roster_column);
        }
        fputc('\n', out);
    }
    for (size_t i = 0; i < rows * COLUMNS; i++) free(cells[i]);
    free(cells);
}

/* Why an end is infinite, one line each: the score's, then the bonus's. */
static void render_reasons(FILE *out, const ceil_report *r)
{
    bool any = false;
    for (size_t i = 0; i < r->role_count; i++) {
        ceil_gap gaps[4];
        size_t n = ceil_gaps(&r->roles[i], gaps);
        for (size_t k = 0; k < n; k++) {
            if (!any) fputc('\n', out);
            any = true;
            fprintf(out, "%s: the %s has no %s: %s\n", r->roles[i].role->name, gaps[k].what,
                    gaps[k].high ? "upper bound" : "lower bound", gaps[k].why);
        }
    }
}

static void render_text(FILE *out, const ceil_report *r, const chk_model *m, const char *roster_path,
                        const char *roster_note)
{
    fputs("the least and the most each role can pay one person, before adjustments\n", out);
    if (roster_path) {
        size_t members = 0;
        for (size_t i = 0; i < r->role_count; i++) members += r->roles[i].members;
        fprintf(out, "(roster %s: %zu member%s with a declared role)\n", roster_path, members,
                members == 1 ? "" : "s");
    } else {
        fprintf(out, "(figures that depend on roster cells are per unit of the cell%s%s)\n",
                roster_note ? "; " : "", roster_note ? roster_note : "");
    }
    fputc('\n', out);
    render_table(out, r, m);
    render_reasons(out, r);
}

/* ---- JSON ------------------------------------------------------------------------- */

/* A figure as a JSON number (docs/json.md): money with its two decimals, other values
 * with the digits they need. */
static void json_figure(FILE *out, dec_t v, bool money)
{
    json_write_decimal(out, v, money ? 2 : DEC_PLACES, money);
}

static void json_end(FILE *out, const ceil_range *range, const ceil_end *e, bool money)
{
    if (e->infinite || !range->known) fputs("null", out);
    else json_figure(out, e->value, money);
}

static void json_why(FILE *out, const ceil_end *e)
{
    if (e->infinite && e->why) json_write_string(out, e->why);
    else fputs("null", out);
}

static void json_range(FILE *out, const ceil_range *range, bool money)
{
    fputs("{\"min\": ", out);
    json_end(out, range, &range->lo, money);
    fputs(", \"max\": ", out);
    json_end(out, range, &range->hi, money);
    fputs(", \"bounded_below\": ", out);
    fputs(range->lo.infinite ? "false" : "true", out);
    fputs(", \"bounded_above\": ", out);
    fputs(range->hi.infinite ? "false" : "true", out);
    fputs(", \"why_unbounded_below\": ", out);
    json_why(out, &range->lo);
    fputs(", \"why_unbounded_above\": ", out);
    json_why(out, &range->hi);
    fputc('}', out);
}

void ceil_render_json(FILE *out, const ceil_report *r, const chk_model *m, const char *roster_path)
{
    fputs("{\"roster\": ", out);
    if (roster_path) json_write_string(out, roster_path);
    else fputs("null", out);
    fputs(", \"roles\": [", out);
    for (size_t i = 0; i < r->role_count; i++) {
        const ceil_role *cr = &r->roles[i];
        fputs(i ? ",\n    " : "\n    ", out);
        fputs("{\"role\": ", out);
        json_write_string(out, cr->role->name);
        if (r->roster) fprintf(out, ", \"members\": %zu", cr->members);
        else fputs(", \"members\": null", out);
        fputs(", \"score\": ", out);
        json_range(out, &cr->score, false);
        fputs(", \"bonus\": ", out);
        if (cr->has_bonus) json_range(out, &cr->bonus, true);
        else fputs("null", out);
        fputs(", \"per_unit_of\": ", out);
        const char *column = cr->has_bonus && !cr->bonus.known ? unit_column_name(m, cr) : NULL;
        if (column) {
            json_write_string(out, column);
            fputs(", \"per_unit\": ", out);
            json_range(out, &cr->per_unit, false);
        } else {
            fputs("null, \"per_unit\": null", out);
        }
        fputs(", \"max_total\": ", out);
        if (r->roster && cr->has_bonus && !cr->total.infinite) {
            json_figure(out, cr->total.value, true);
        } else {
            fputs("null", out);
        }
        fputc('}', out);
    }
    fputs(r->role_count ? "\n  ],\n  \"max_total\": " : "],\n  \"max_total\": ", out);
    if (r->roster && !r->total.infinite) {
        json_figure(out, r->total.value, true);
    } else {
        fputs("null", out);
    }
    fputc('}', out);
}

char *ceil_render_text(const ceil_report *r, const chk_model *m, const char *roster_path,
                       const char *roster_note, size_t *len)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = xopen_memstream(&text, &size);
    render_text(out, r, m, roster_path, roster_note);
    xclose_memstream(out);
    *len = size;
    return text;
}
