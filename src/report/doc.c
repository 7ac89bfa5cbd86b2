/* doc.c — the reference document of a spec (see doc.h).
 *
 * One walk over the model writes both formats: the structure (headings, paragraphs,
 * tables, lists, code) goes through small writers that know Markdown and HTML, and
 * inline pieces (text, code, links) are escaped for the format and, in a Markdown
 * table, for the cell. Cross references come first: every declaration's expressions
 * are walked once for what they name, and each name is credited back to its user.
 */
#include "kpic/doc.h"

#include "kpic/ceiling.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpic/hash.h"
#include "kpic/markup.h"

typedef struct column_ref {
    const ast_decl *source; /* a source or the roster */
    int column;
} column_ref;

/* What one declaration names (uses, columns) and which declarations name it. */
typedef struct entry {
    const ast_decl *decl;
    ptr_vec uses; /* const ast_decl*, in first-mention order, no repeats */
    column_ref *columns;
    size_t column_count, column_cap;
    ptr_vec used_by; /* indicators, sets and roles, in the model's order */
} entry;

typedef struct doc {
    const chk_model *model;
    const diag_sink *diags;
    doc_format format;
    FILE *out;
    arena mem;
    entry *entries;
    hmap entry_of; /* declaration pointer → index into entries */
    /* cells written in the current table row (0: not in a row; in Markdown, '|' in a cell
     * must be escaped, code too) */
    int column;
    const bool *right;   /* HTML: which columns of the current table are numeric */
    ceil_report ceiling; /* what each role can pay, without a roster (doc reads no data) */
} doc;

/* ---- cross references ------------------------------------------------------------- */

static entry *entry_for(doc *d, const ast_decl *decl)
{
    uint32_t i = decl ? hmap_get(&d->entry_of, (uint64_t)(uintptr_t)decl) : HMAP_NONE;
    return i == HMAP_NONE ? NULL : &d->entries[i];
}

static void add_entry(doc *d, const ast_decl *decl, size_t *n)
{
    if (!decl || entry_for(d, decl)) return;
    d->entries[*n].decl = decl;
    hmap_put(&d->entry_of, (uint64_t)(uintptr_t)decl, (uint32_t)*n);
    (*n)++;
}

static void add_use(doc *d, entry *e, const ast_decl *used)
{
    if (!used || used == e->decl || !entry_for(d, used)) return;
    for (size_t i = 0; i < e->uses.len; i++)
        if (e->uses.items[i] == used) return;
    ptr_vec_push(&d->mem, &e->uses, (void *)used);
}

static void add_column(doc *d, entry *e, const ast_decl *source, int column)
{
    add_use(d, e, source);
    for (size_t i = 0; i < e->column_count; i++)
        if (e->columns[i].source == source && e->columns[i].column == column) return;
    if (e->column_count == e->column_cap) {
        size_t cap = e->column_cap ? 2 * e->column_cap : 8;
        column_ref *grown = arena_alloc(&d->mem, cap * sizeof *grown);
        if (e->column_count) memcpy(grown, e->columns, e->column_count * sizeof *grown);
        e->columns = grown;
        e->column_cap = cap;
    }
    e->columns[e->column_count++] = (column_ref){ source, column };
}

typedef struct walker {
    doc *d;
    entry *e;
} walker;

static void walk_node(const ast_expr *x, void *ctx)
{
    walker *w = ctx;
    switch (x->ref_kind) {
    case REF_INDICATOR:
    case REF_SET:
    case REF_SCALE:
    case REF_SOURCE: add_use(w->d, w->e, x->ref); break;
    case REF_COLUMN:
    case REF_STAFF_COLUMN:
        if (x->ref) add_column(w->d, w->e, x->ref, x->column);
        break;
    default: break;
    }
    if (x->kind == EX_CALL) add_use(w->d, w->e, x->agg_source);
    ast_expr_each_child(x, walk_node, w);
}

static void walk(doc *d, entry *e, const ast_expr *x)
{
    walker w = { d, e };
    if (x) walk_node(x, &w);
}

static void collect(doc *d)
{
    const chk_model *m = d->model;
    size_t total = m->roles.len + m->indicators.len + m->sets.len + m->scales.len + m->sources.len + 1;
    d->entries = arena_alloc(&d->mem, total * sizeof *d->entries);
    memset(d->entries, 0, total * sizeof *d->entries);
    hmap_init(&d->entry_of);
    size_t n = 0;
    const ptr_vec *kinds[] = { &m->roles, &m->indicators, &m->sets, &m->scales, &m->sources };
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
        for (size_t i = 0; i < kinds[k]->len; i++) add_entry(d, kinds[k]->items[i], &n);
    add_entry(d, m->roster, &n);

    for (size_t i = 0; i < n; i++) {
        entry *e = &d->entries[i];
        const ast_decl *decl = e->decl;
        if (decl->kind == DECL_INDICATOR) {
            walk(d, e, decl->u.indicator.expr);
        } else if (decl->kind == DECL_SET) {
            walk(d, e, decl->u.set.column);
            walk(d, e, decl->u.set.where);
            walk(d, e, decl->u.set.having);
        } else if (decl->kind == DECL_ROLE) {
            for (int k = 0; k < decl->u.role.item_count; k++) {
                const ast_role_item *item = &decl->u.role.items[k];
                if (item->kind == ROLE_KPI || item->kind == ROLE_POINTS) add_use(d, e, item->ref);
                walk(d, e, item->weight);
                walk(d, e, item->target);
                walk(d, e, item->points);
                walk(d, e, item->expr);
                walk(d, e, item->share);
                walk(d, e, item->cap);
                walk(d, e, item->floor);
                if (item->pool && item->ref) walk(d, e, item->ref->u.pool.amount);
            }
        }
    }
    /* credited back in the entries' order, which is the model's */
    for (size_t i = 0; i < n; i++) {
        entry *user = &d->entries[i];
        for (size_t k = 0; k < user->uses.len; k++) {
            entry *used = entry_for(d, user->uses.items[k]);
            if (used) ptr_vec_push(&d->mem, &used->used_by, (void *)user->decl);
        }
    }
}

/* ---- inline pieces ------------------------------------------------------------------ */

static void text(doc *d, const char *s)
{
    if (d->format == DOC_FORMAT_HTML) markup_html(d->out, s);
    else fputs(markup_md(&d->mem, s), d->out);
}

/* Markdown code is fenced by more backticks than the text holds in a row. */
static size_t longest_backtick_run(const char *s)
{
    size_t run = 0, longest = 0;
    for (const char *p = s; *p; p++) {
        run = *p == '`' ? run + 1 : 0;
        if (run > longest) longest = run;
    }
    return longest;
}

/* Code as written in the spec. In Markdown, a span fenced by more backticks than it
 * holds in a row; in a table cell '|' escaped even there (GitHub's tables split on it). */
static void code(doc *d, const char *s)
{
    if (d->format == DOC_FORMAT_HTML) {
        fputs("<code>", d->out);
        markup_html(d->out, s);
        fputs("</code>", d->out);
        return;
    }
    size_t longest = longest_backtick_run(s);
    for (size_t i = 0; i <= longest; i++) fputc('`', d->out);
    if (longest) fputc(' ', d->out);
    for (const char *p = s; *p; p++) {
        if (*p == '|' && d->column > 0) fputc('\\', d->out);
        fputc((unsigned char)*p < 0x20 ? ' ' : *p, d->out);
    }
    if (longest) fputc(' ', d->out);
    for (size_t i = 0; i <= longest; i++) fputc('`', d->out);
}

/* The kind as an entry names it: the checker's word, but one word for the roster, so
 * that it can stand in an anchor (`roster-staff`). */
static const char *kind_word(const ast_decl *decl)
{
    return decl->kind == DECL_STAFF ? "roster" : chk_kind_word(decl->kind);
}

static const char *decl_name(const ast_decl *decl)
{
    return decl->kind == DECL_STAFF ? "staff" : decl->name;
}

/* The anchor of a declaration's entry: its kind and name (names are unique per spec). */
static const char *anchor(doc *d, const ast_decl *decl)
{
    return arena_printf(&d->mem, "%s-%s", kind_word(decl), decl_name(decl));
}

static void link(doc *d, const ast_decl *decl)
{
    const char *id = anchor(d, decl);
    if (d->format == DOC_FORMAT_HTML) {
        fputs("<a href=\"#", d->out);
        markup_html(d->out, id);
        fputs("\">", d->out);
        markup_html(d->out, decl_name(decl));
        fputs("</a>", d->out);
    } else {
        fprintf(d->out, "[%s](#%s)", markup_md(&d->mem, decl_name(decl)), id);
    }
}

/* The text of SPAN as one line: comments dropped, white space collapsed (diag_span_text). */
static const char *source_text(doc *d, kp_span span)
{
    return diag_span_text(d->diags, span, &d->mem);
}

static void location(doc *d, const ast_decl *decl)
{
    const diag_file *f = diag_get_file(d->diags, decl->span.file);
    unsigned line = 0, column = 0;
    diag_position(d->diags, decl->span.file, decl->span.start, &line, &column);
    text(d, "Defined in ");
    code(d, arena_printf(&d->mem, "%s:%u", f ? f->path : "?", line));
    text(d, ".");
}

/* ---- blocks ------------------------------------------------------------------------- */

/* A heading "TITLE — LABEL" (no label: TITLE alone) that links can land on at ID. */
static void heading(doc *d, int level, const char *id, const char *title, const char *label)
{
    if (d->format == DOC_FORMAT_HTML) {
        fprintf(d->out, "<h%d", level);
        if (id) {
            fputs(" id=\"", d->out);
            markup_html(d->out, id);
            fputc('"', d->out);
        }
        fputc('>', d->out);
    } else {
        /* raw HTML: no Markdown escapes inside (names are letters, digits and '_') */
        if (id) fprintf(d->out, "<a id=\"%s\"></a>\n\n", id);
        for (int i = 0; i < level; i++) fputc('#', d->out);
        fputc(' ', d->out);
    }
    text(d, title);
    if (label) {
        text(d, " — ");
        text(d, label);
    }
    if (d->format == DOC_FORMAT_HTML) fprintf(d->out, "</h%d>\n", level);
    else fputs("\n\n", d->out);
}

static void para_begin(doc *d)
{
    if (d->format == DOC_FORMAT_HTML) fputs("<p>", d->out);
}

static void para_end(doc *d)
{
    fputs(d->format == DOC_FORMAT_HTML ? "</p>\n" : "\n\n", d->out);
}

static void line_break(doc *d)
{
    /* Markdown: a backslash at the end of a line breaks it inside the paragraph */
    fputs(d->format == DOC_FORMAT_HTML ? "<br>\n" : "\\\n", d->out);
}

static void table_begin(doc *d, const char *const *headers, const bool *right, int n)
{
    d->right = right;
    if (d->format == DOC_FORMAT_HTML) {
        fputs("<table>\n<thead><tr>", d->out);
        for (int i = 0; i < n; i++) {
            fputs(right[i] ? "<th class=\"n\">" : "<th>", d->out);
            markup_html(d->out, headers[i]);
            fputs("</th>", d->out);
        }
        fputs("</tr></thead>\n<tbody>\n", d->out);
        return;
    }
    fputc('|', d->out);
    for (int i = 0; i < n; i++) fprintf(d->out, " %s |", markup_md(&d->mem, headers[i]));
    fputs("\n|", d->out);
    for (int i = 0; i < n; i++) fputs(right[i] ? "--:|" : "---|", d->out);
    fputc('\n', d->out);
}

static void cell(doc *d)
{
    if (d->format == DOC_FORMAT_HTML) {
        fputs(d->column > 0 ? "</td>" : "<tr>", d->out);
        fputs(d->right[d->column] ? "<td class=\"n\">" : "<td>", d->out);
    } else {
        fputs(d->column == 0 ? "| " : " | ", d->out);
    }
    d->column++;
}

static void row_end(doc *d)
{
    fputs(d->format == DOC_FORMAT_HTML ? "</td></tr>\n" : " |\n", d->out);
    d->column = 0;
}

static void table_end(doc *d)
{
    fputs(d->format == DOC_FORMAT_HTML ? "</tbody>\n</table>\n" : "\n", d->out);
}

static void code_block(doc *d, const char *s)
{
    if (d->format == DOC_FORMAT_HTML) {
        fputs("<pre><code>", d->out);
        markup_html(d->out, s);
        fputs("</code></pre>\n", d->out);
        return;
    }
    /* a fence longer than any run of backticks in the text */
    size_t longest = longest_backtick_run(s);
    size_t fence = longest < 3 ? 3 : longest + 1;
    for (size_t i = 0; i < fence; i++) fputc('`', d->out);
    fprintf(d->out, "\n%s\n", s);
    for (size_t i = 0; i < fence; i++) fputc('`', d->out);
    fputs("\n\n", d->out);
}

static void quote(doc *d, const char *s)
{
    if (d->format == DOC_FORMAT_HTML) {
        fputs("<blockquote>", d->out);
        markup_html(d->out, s);
        fputs("</blockquote>\n", d->out);
    } else {
        fputs("> ", d->out);
        text(d, s);
        fputs("\n\n", d->out);
    }
}

/* "WHAT: kind link, kind link." for the declarations of LIST; nothing when empty. */
static bool decl_list(doc *d, const char *what, const ptr_vec *list, bool first_line)
{
    if (list->len == 0) return false;
    if (!first_line) line_break(d);
    text(d, what);
    text(d, ": ");
    for (size_t i = 0; i < list->len; i++) {
        const ast_decl *decl = list->items[i];
        if (i) text(d, ", ");
        text(d, kind_word(decl));
        text(d, " ");
        link(d, decl);
    }
    text(d, ".");
    return true;
}

/* "Reads: source orders (amount, refunded), staff (quota)." */
static bool columns_read(doc *d, const entry *e, bool first_line)
{
    bool any = false;
    for (size_t s = 0; s < e->uses.len; s++) {
        const ast_decl *source = e->uses.items[s];
        if (source->kind != DECL_SOURCE && source->kind != DECL_STAFF) continue;
        if (!any) {
            if (!first_line) line_break(d);
            text(d, "Reads: ");
        } else {
            text(d, "; ");
        }
        any = true;
        text(d, source->kind == DECL_STAFF ? "the roster " : "source ");
        link(d, source);
        bool open = false;
        for (size_t c = 0; c < e->column_count; c++) {
            if (e->columns[c].source != source) continue;
            text(d, open ? ", " : " (");
            open = true;
            text(d, source->u.source.columns[e->columns[c].column].name);
        }
        if (open) text(d, ")");
    }
    if (any) text(d, ".");
    return any;
}

/* Whether a role's kpi table already links USED: a kpi's indicator, the points scale. */
static bool in_kpi_table(const ast_decl *decl, const ast_decl *used)
{
    if (decl->kind != DECL_ROLE) return false;
    for (int i = 0; i < decl->u.role.item_count; i++) {
        const ast_role_item *item = &decl->u.role.items[i];
        if ((item->kind == ROLE_KPI || item->kind == ROLE_POINTS) && item->ref == used) return true;
    }
    return false;
}

/* The closing paragraph of an entry: what it reads and uses, what uses it, where. */
static void references(doc *d, const entry *e)
{
    ptr_vec named = { 0 };
    for (size_t i = 0; i < e->uses.len; i++) {
        const ast_decl *u = e->uses.items[i];
        if (u->kind == DECL_SOURCE || u->kind == DECL_STAFF || in_kpi_table(e->decl, u)) continue;
        ptr_vec_push(&d->mem, &named, (void *)u);
    }
    para_begin(d);
    bool first = !columns_read(d, e, true);
    first = !decl_list(d, "Uses", &named, first) && first;
    first = !decl_list(d, "Used by", &e->used_by, first) && first;
    if (!first) line_break(d);
    location(d, e->decl);
    para_end(d);
}

/* ---- sections ----------------------------------------------------------------------- */

static const char *plural(doc *d, size_t n, const char *one, const char *many)
{
    return arena_printf(&d->mem, "%zu %s", n, n == 1 ? one : many);
}

/* "from A to B", "at most B", "at least A (no upper bound)", "unbounded". */
static const char *span_phrase(doc *d, const ceil_role *cr, const ceil_range *range, ast_unit unit)
{
    char lo[96], hi[96];
    const char *a = ceil_end_text(d->model, cr, range, false, unit, lo, sizeof lo);
    const char *b = ceil_end_text(d->model, cr, range, true, unit, hi, sizeof hi);
    /* finite ends whose figures depend on roster cells (and are not a multiple of one):
     * the sentence must still read as one */
    if (!range->known && !(range == &cr->bonus && cr->unit_column >= 0)) {
        a = b = "a figure that depends on the roster";
        if (!range->lo.infinite && !range->hi.infinite) return "within bounds that depend on the roster";
    }
    if (range->lo.infinite && range->hi.infinite) return "without any bound";
    if (range->lo.infinite) return arena_printf(&d->mem, "at most %s, with no lower bound", b);
    if (range->hi.infinite) return arena_printf(&d->mem, "at least %s, with no upper bound", a);
    return arena_printf(&d->mem, "from %s to %s", a, b);
}

/* What the role can pay one person, from the ceiling analysis: figures, a multiple of
 * a roster column, or why there is no bound. */
static void write_ceiling(doc *d, const ast_decl *role)
{
    const ceil_role *cr = NULL;
    for (size_t i = 0; i < d->ceiling.role_count && !cr; i++)
        if (d->ceiling.roles[i].role == role) cr = &d->ceiling.roles[i];
    if (!cr) return;
    para_begin(d);
    if (cr->has_bonus)
        text(d, arena_printf(&d->mem, "Pays one person %s", span_phrase(d, cr, &cr->bonus, UNIT_MONEY)));
    else text(d, "Pays no bonus");
    text(d, arena_printf(&d->mem, "; the score is %s", span_phrase(d, cr, &cr->score, UNIT_POINTS)));
    text(d, " (before adjustments).");
    ceil_gap gaps[4];
    size_t n = ceil_gaps(cr, gaps);
    for (size_t k = 0; k < n; k++) {
        line_break(d);
        text(d, arena_printf(&d->mem, "No %s for the %s: %s.", gaps[k].high ? "upper bound" : "lower bound",
                             gaps[k].what, gaps[k].why));
    }
    para_end(d);
}

static void write_role(doc *d, const ast_decl *role)
{
    heading(d, 3, anchor(d, role), role->name, role->u.role.label);
    if (role->u.role.has_grain) {
        /* a role with its own period (docs/language.md "Role periods") */
        para_begin(d);
        text(d, "Scored every ");
        text(d, ast_grain_name(role->u.role.grain));
        text(d, ", over the whole ");
        text(d, ast_grain_name(role->u.role.grain));
        text(d, "'s data.");
        para_end(d);
    }
    const ast_role_item *items = role->u.role.items;
    int n = role->u.role.item_count;
    const ast_decl *scale = NULL;
    bool skip = false;
    for (int i = 0; i < n; i++) {
        if (items[i].kind == ROLE_POINTS) scale = items[i].ref;
        if (items[i].kind == ROLE_MISSING) skip = items[i].missing_skip;
    }
    static const char *const headers[] = { "kpi", "label", "unit", "weight", "target", "points" };
    static const bool right[] = { false, false, false, true, false, false };
    table_begin(d, headers, right, 6);
    for (int i = 0; i < n; i++) {
        const ast_role_item *k = &items[i];
        if (k->kind != ROLE_KPI) continue;
        const ast_decl *ind = k->ref;
        cell(d);
        if (ind) link(d, ind);
        else text(d, k->indicator);
        if (k->shared) text(d, " (shared: every member gets the team's value)");
        cell(d);
        if (ind && ind->u.indicator.label) text(d, ind->u.indicator.label);
        cell(d);
        if (ind) text(d, ast_unit_name(ind->u.indicator.unit));
        cell(d);
        if (k->weight) text(d, source_text(d, k->weight->span));
        cell(d);
        if (k->has_target)
            code(d, arena_printf(&d->mem, "%s %s", ast_comparator_text(k->comparator),
                                 source_text(d, k->target->span)));
        else text(d, "—");
        cell(d);
        if (k->points) {
            code(d, source_text(d, k->points->span));
        } else if (scale) {
            text(d, "scale ");
            link(d, scale);
        } else {
            text(d, "—");
        }
        row_end(d);
    }
    table_end(d);

    para_begin(d);
    if (skip) {
        text(d, "A missing kpi is dropped and the other kpis' weights are rescaled (");
        code(d, "missing skip");
        text(d, ").");
    } else {
        text(d, "A missing kpi scores 0 points.");
    }
    para_end(d);
    bool gates = false;
    for (int i = 0; i < n; i++) gates |= items[i].kind == ROLE_GATE;
    if (gates) {
        para_begin(d);
        text(d, "Gates: the bonus is 0 unless every one holds.");
        para_end(d);
        fputs(d->format == DOC_FORMAT_HTML ? "<ul>\n" : "", d->out);
        for (int i = 0; i < n; i++) {
            if (items[i].kind != ROLE_GATE) continue;
            fputs(d->format == DOC_FORMAT_HTML ? "<li>" : "- ", d->out);
            code(d, source_text(d, items[i].expr->span));
            fputs(d->format == DOC_FORMAT_HTML ? "</li>\n" : "\n", d->out);
        }
        fputs(d->format == DOC_FORMAT_HTML ? "</ul>\n" : "\n", d->out);
    }
    const ast_grades *grades = ast_role_grades(role);
    if (grades) {
        para_begin(d);
        text(d,
             "Grades (forced distribution): the members are ranked by score, highest first; a tie shares a "
             "rank and a grade; each grade takes its quota of those ranked, rounded half up, and a member "
             "who failed a gate or has no score is not ranked and gets the last grade.");
        if (grades->decl) {
            text(d, " Ranked on grades ");
            text(d, grades->decl->name);
            if (grades->decl->u.grades.label) {
                text(d, " ");
                text(d, grades->decl->u.grades.label);
            }
            const char *with = "";
            for (size_t r = 0; r < grades->roles.len; r++) {
                const ast_decl *other = grades->roles.items[r];
                if (other != role)
                    with = arena_printf(&d->mem, "%s%s%s", with, *with ? ", " : "", other->name);
            }
            if (*with) text(d, arena_printf(&d->mem, ", together with the members of %s", with));
            text(d, ".");
        }
        para_end(d);
        static const char *const headers[] = { "grade", "quota", "factor" };
        static const bool right[] = { false, true, true };
        table_begin(d, headers, right, 3);
        for (int k = 0; k < grades->row_count; k++) {
            const ast_grade *row = &grades->rows[k];
            cell(d);
            text(d, row->name);
            cell(d);
            text(d, row->rest ? "the rest"
                              : arena_printf(&d->mem, "%s %s", k ? "next" : "top",
                                             source_text(d, row->quota->span)));
            cell(d);
            text(d, row->factor ? source_text(d, row->factor->span) : "—");
            row_end(d);
        }
        table_end(d);
    }
    para_begin(d);
    bool bonus = false;
    for (int i = 0; i < n; i++) {
        if (items[i].kind != ROLE_BONUS) continue;
        bonus = true;
        text(d, "Bonus: ");
        if (items[i].pool) {
            /* a part of a pool: the pool's amount, then the line from `pool` on */
            kp_span line = { items[i].span.file, items[i].pool_span.start - 5, items[i].span.end };
            code(d, source_text(d, line));
            if (items[i].ref) {
                text(d, ", out of pool ");
                text(d, items[i].ref->name);
                if (items[i].ref->u.pool.label) {
                    text(d, " ");
                    text(d, items[i].ref->u.pool.label);
                }
                text(d, " = ");
                code(d, source_text(d, items[i].ref->u.pool.amount->span));
                text(d, ", divided in proportion to the shares within the caps and floors, to the cent");
            }
        } else {
            code(d, source_text(d, items[i].expr->span));
        }
        text(d, ".");
    }
    if (!bonus) text(d, "No bonus: the role is scored only.");
    para_end(d);
    write_ceiling(d, role);
    references(d, entry_for(d, role));
}

static void write_indicator(doc *d, const ast_decl *ind)
{
    heading(d, 3, anchor(d, ind), ind->name, ind->u.indicator.label);
    para_begin(d);
    text(d, ast_unit_name(ind->u.indicator.unit));
    text(d, ind->u.indicator.per_staff ? ", per staff member (and a company total)."
                                       : ", for the whole company.");
    para_end(d);
    code_block(d, source_text(d, ind->u.indicator.expr->span));
    if (ind->u.indicator.note) quote(d, ind->u.indicator.note);
    references(d, entry_for(d, ind));
}

static void write_set(doc *d, const ast_decl *set)
{
    heading(d, 3, anchor(d, set), set->name, NULL);
    code_block(d, source_text(d, ast_set_definition_span(set)));
    references(d, entry_for(d, set));
}

static void write_scale(doc *d, const ast_decl *scale)
{
    heading(d, 3, anchor(d, scale), scale->name, NULL);
    static const char *const headers[] = { "input", "points" };
    static const bool right[] = { false, false };
    table_begin(d, headers, right, 2);
    for (int i = 0; i < scale->u.scale.row_count; i++) {
        const ast_scale_row *r = &scale->u.scale.rows[i];
        cell(d);
        code(d, arena_printf(&d->mem, "%c%s, %s%c", r->lo_closed ? '[' : '(', source_text(d, r->lo->span),
                             source_text(d, r->hi->span), r->hi_closed ? ']' : ')'));
        cell(d);
        if (r->to) {
            text(d, arena_printf(&d->mem, "%s to %s, linearly", source_text(d, r->from->span),
                                 source_text(d, r->to->span)));
        } else {
            text(d, source_text(d, r->from->span));
        }
        row_end(d);
    }
    table_end(d);
    references(d, entry_for(d, scale));
}

/* What the scorer makes of a roster column (docs/language.md §3), "" for one of the spec's own. */
static const char *roster_meaning(const char *column)
{
    static const char *const meaning[][2] = {
        { "id", "the staff id that the sources' staff columns name" },
        { "name", "shown in statements" },
        { "role", "the role that scores the staff member" },
        { "start", "employment start (proration)" },
        { "end", "employment end, exclusive" },
    };
    for (size_t i = 0; i < sizeof meaning / sizeof *meaning; i++)
        if (!strcmp(column, meaning[i][0])) return meaning[i][1];
    return "";
}

static void write_source(doc *d, const ast_decl *src)
{
    heading(d, 3, anchor(d, src), decl_name(src), src->kind == DECL_STAFF ? "the roster" : NULL);
    para_begin(d);
    text(d, "File ");
    code(d, src->u.source.path);
    text(d, " (a path relative to the spec's folder unless absolute).");
    bool timed = false;
    for (int c = 0; c < src->u.source.column_count; c++) timed |= src->u.source.columns[c].is_time;
    if (src->kind == DECL_SOURCE && !timed) {
        line_break(d);
        text(d, "No time column: a static source, which every window sees whole.");
    }
    if (src->u.source.encoding) {
        line_break(d);
        text(d, "Encoding ");
        code(d, src->u.source.encoding);
        text(d, ", converted to UTF-8 when the file is read.");
    }
    for (int k = 0; k < src->u.source.key_line_count; k++) {
        const ast_key_line *kl = &src->u.source.key_lines[k];
        line_break(d);
        text(d, kl->count == 1 ? "Key " : "Key of ");
        for (int j = 0; j < kl->count; j++) {
            if (j) text(d, j + 1 == kl->count ? " and " : ", ");
            code(d, kl->columns[j]);
        }
        text(d, ": a row whose key repeats an earlier row's is a bad row.");
    }
    para_end(d);
    static const char *const headers[] = { "column", "type", "meaning" };
    static const bool right[] = { false, false, false };
    table_begin(d, headers, right, 3);
    for (int c = 0; c < src->u.source.column_count; c++) {
        const ast_column *col = &src->u.source.columns[c];
        cell(d);
        code(d, col->name);
        cell(d);
        text(d, ast_coltype_name(col->type));
        cell(d);
        if (col->is_time) text(d, "time: places each row in a period");
        if (col->is_staff) text(d, "staff: credits each row to this staff member");
        if (src->kind == DECL_STAFF)
            text(d, col->convention && !strcmp(col->convention, "last_day")
                        ? "employment end: the last day employed (convention \"last_day\")"
                        : roster_meaning(col->name));
        /* how the export writes it: after the meaning, in the order fmt writes them */
        bool said =
            col->is_time || col->is_staff || (src->kind == DECL_STAFF && roster_meaning(col->name)[0]);
        if (col->header) {
            text(d, said ? "; header " : "header ");
            code(d, col->header);
            said = true;
        }
        if (col->format) {
            text(d, said ? "; format " : "format ");
            code(d, col->format);
            said = true;
        }
        if (col->true_word) {
            text(d, said ? "; true " : "true ");
            code(d, col->true_word);
            text(d, ", false ");
            code(d, col->false_word);
        }
        row_end(d);
    }
    table_end(d);
    references(d, entry_for(d, src));
}

static const char html_head[] = "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
                                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";

static const char html_style[] =
    "<style>\n"
    "body{margin:0 auto;max-width:1100px;padding:24px 32px;font:14px/1.5 system-ui,-apple-system,"
    "'Segoe UI','Noto Sans CJK SC','WenQuanYi Zen Hei','PingFang SC','Microsoft YaHei',sans-serif;"
    "color:#1f2933}\n"
    "h1{font-size:22px}h2{font-size:19px;margin-top:32px;border-bottom:2px solid #1f2933}"
    "h3{font-size:16px;margin-top:24px}\n"
    "table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #d9e2ec;padding:4px 8px;"
    "text-align:left;vertical-align:top}th{background:#f5f7fa}.n{text-align:right}\n"
    "code,pre{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:13px}\n"
    "pre{background:#f5f7fa;padding:8px 12px;white-space:pre-wrap;word-break:break-word}\n"
    "blockquote{margin:8px 0;padding:4px 12px;border-left:3px solid #9fb3c8;color:#3e4c59}\n"
    "a{color:#2b6cb0;text-decoration:none}a:hover{text-decoration:underline}\n"
    "</style>\n";

/* A test: its period, the data it gives, and each expectation as written. */
static void write_test(doc *d, const ast_decl *test, size_t index)
{
    heading(d, 3, arena_printf(&d->mem, "test-%zu", index + 1), test->name, NULL);
    para_begin(d);
    text(d, "Period ");
    code(d, test->u.test.period ? test->u.test.period : "?");
    text(d, ". Data: ");
    for (int i = 0; i < test->u.test.data_count; i++) {
        const ast_test_data *t = &test->u.test.data[i];
        if (i) text(d, ", ");
        code(d, t->source);
        if (t->path) {
            text(d, " from ");
            code(d, t->path);
        } else {
            int rows = 0;
            for (int k = 0; k < t->line_count; k++) rows += t->lines[k][0] != '\0';
            rows = rows > 0 ? rows - 1 : 0; /* the header */
            text(d, arena_printf(&d->mem, " (%d row%s inline)", rows, rows == 1 ? "" : "s"));
        }
    }
    text(d, test->u.test.data_count ? "; every other source empty. " : "none, every source empty. ");
    location(d, test);
    para_end(d);
    if (test->u.test.expect_count == 0) {
        para_begin(d);
        text(d, "No expectations: the test only checks that its data reads.");
        para_end(d);
        return;
    }
    static const char *const headers[] = { "expectation" };
    static const bool right[] = { false };
    table_begin(d, headers, right, 1);
    for (int i = 0; i < test->u.test.expect_count; i++) {
        const ast_expect *e = &test->u.test.expects[i];
        const char *line = source_text(d, e->span);
        cell(d);
        code(d, strncmp(line, "expect ", 7) ? line : line + 7);
        row_end(d);
    }
    table_end(d);
}

static void write_doc(doc *d, const char *spec_path)
{
    const chk_model *m = d->model;
    const char *title = arena_printf(&d->mem, "KPI definitions: %s", spec_path);
    if (d->format == DOC_FORMAT_HTML) {
        fputs(html_head, d->out);
        fputs("<title>", d->out);
        markup_html(d->out, title);
        fputs("</title>\n", d->out);
        fputs(html_style, d->out);
        fputs("</head>\n<body>\n", d->out);
    }
    heading(d, 1, NULL, title, NULL);
    para_begin(d);
    text(d, arena_printf(&d->mem, "Period: %s.", ast_grain_name(m->grain)));
    if (m->currency) text(d, arena_printf(&d->mem, " Currency: %s.", m->currency));
    text(d, arena_printf(&d->mem, " %s, %s, %s, %s, %s and the staff roster.",
                         plural(d, m->roles.len, "role", "roles"),
                         plural(d, m->indicators.len, "indicator", "indicators"),
                         plural(d, m->sets.len, "set", "sets"), plural(d, m->scales.len, "scale", "scales"),
                         plural(d, m->sources.len, "source", "sources")));
    para_end(d);

    struct {
        const char *id, *title;
        const ptr_vec *decls;
        void (*write)(doc *, const ast_decl *);
    } sections[] = {
        { "roles", "Roles", &m->roles, write_role },
        { "indicators", "Indicators", &m->indicators, write_indicator },
        { "sets", "Sets", &m->sets, write_set },
        { "scales", "Scales", &m->scales, write_scale },
        { "sources", "Sources and the roster", &m->sources, write_source },
    };
    size_t n = sizeof sections / sizeof *sections;
    fputs(d->format == DOC_FORMAT_HTML ? "<ul>\n" : "", d->out);
    for (size_t i = 0; i < n; i++) {
        if (sections[i].decls->len == 0 && i + 1 < n) continue;
        if (d->format == DOC_FORMAT_HTML)
            fprintf(d->out, "<li><a href=\"#%s\">%s</a></li>\n", sections[i].id, sections[i].title);
        else fprintf(d->out, "- [%s](#%s)\n", sections[i].title, sections[i].id);
    }
    if (m->tests.len) {
        if (d->format == DOC_FORMAT_HTML) fputs("<li><a href=\"#tests\">Tests</a></li>\n", d->out);
        else fputs("- [Tests](#tests)\n", d->out);
    }
    fputs(d->format == DOC_FORMAT_HTML ? "</ul>\n" : "\n", d->out);
    for (size_t i = 0; i < n; i++) {
        bool last = i + 1 == n; /* sources: the roster is always there */
        if (sections[i].decls->len == 0 && !last) continue;
        heading(d, 2, sections[i].id, sections[i].title, NULL);
        for (size_t k = 0; k < sections[i].decls->len; k++) sections[i].write(d, sections[i].decls->items[k]);
        if (last && m->roster) write_source(d, m->roster);
    }
    if (m->tests.len) {
        heading(d, 2, "tests", "Tests", NULL);
        para_begin(d);
        text(d, "Run them with ");
        code(d, arena_printf(&d->mem, "kpic test %s", spec_path));
        text(d, ".");
        para_end(d);
        for (size_t k = 0; k < m->tests.len; k++) write_test(d, m->tests.items[k], k);
    }
    if (d->format == DOC_FORMAT_HTML) fputs("</body>\n</html>\n", d->out);
}

char *doc_render(ast_spec *spec, const chk_model *model, const char *spec_path, doc_format format,
                 size_t *len)
{
    doc d = { .model = model, .diags = spec->diags, .format = format };
    char *buf = NULL;
    size_t size = 0;
    d.out = xopen_memstream(&buf, &size);
    arena_init(&d.mem);
    ceil_analyze(&d.ceiling, ir_program_of(spec, model), spec->diags, NULL);
    collect(&d);
    write_doc(&d, spec_path);
    ceil_report_free(&d.ceiling);
    xclose_memstream(d.out);
    hmap_free(&d.entry_of);
    arena_free(&d.mem);
    *len = size;
    return buf;
}
