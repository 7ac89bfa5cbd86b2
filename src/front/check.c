/* check.c — the checker's driver (see check.h): global names, sources and the roster,
 * indicators and sets, roles, cycles, and the model for later stages.
 *
 * The passes, each reporting every problem it finds and going on:
 *   1. collect every declaration into one table of global names (duplicates reported,
 *      also across imports), at most one period and one currency;
 *   2. sources and the roster: columns, `time` and `staff` flags, required columns;
 *   3. scales (their output units are needed by the expressions that call them);
 *   4. sets and indicators, in declaration order (check_expr.c), recording which
 *      indicators and sets each one refers to;
 *   5. roles: kpis, weights, targets, points, gates, bonus;
 *   6. cycles among indicators and sets, found in the references of step 4.
 * An indicator's references use its declared unit and grain, which are known without
 * checking it first, so the order of the declarations never matters.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_internal.h"
#include "kpic/cellfmt.h"
#include "kpic/period.h"
#include "kpic/transcode.h"

/* ---- small shared helpers --------------------------------------------------------- */

ast_dim chk_unit_dim(ast_unit unit)
{
    switch (unit) {
    case UNIT_COUNT: return DIM_COUNT;
    case UNIT_MONEY: return DIM_MONEY;
    case UNIT_PERCENT:
    case UNIT_RATIO: return DIM_RATIO;
    case UNIT_DAYS: return DIM_DAYS;
    case UNIT_POINTS: return DIM_POINTS;
    case UNIT_NUMBER: break;
    }
    return DIM_NUMBER;
}

const char *chk_dim_name(ast_dim dim)
{
    static const char *const names[] = { "number", "count", "money", "ratio", "days", "points" };
    return (unsigned)dim < sizeof names / sizeof names[0] ? names[dim] : "?";
}

const char *chk_kind_phrase(ast_decl_kind kind)
{
    switch (kind) {
    case DECL_SOURCE: return "a source";
    case DECL_STAFF: return "the staff roster";
    case DECL_INDICATOR: return "an indicator";
    case DECL_SET: return "a set";
    case DECL_SCALE: return "a scale";
    case DECL_ROLE: return "a role";
    case DECL_POOL: return "a pool";
    case DECL_GRADES: return "a grades table";
    default: return "a declaration";
    }
}

const char *chk_kind_word(ast_decl_kind kind)
{
    switch (kind) {
    case DECL_SOURCE: return "source";
    case DECL_STAFF: return "staff roster";
    case DECL_INDICATOR: return "indicator";
    case DECL_SET: return "set";
    case DECL_SCALE: return "scale";
    case DECL_ROLE: return "role";
    case DECL_POOL: return "pool";
    case DECL_GRADES: return "grades";
    default: return "declaration";
    }
}

int chk_find_column(const ast_decl *source, const char *name)
{
    for (int i = 0; i < source->u.source.column_count; i++)
        if (strcmp(source->u.source.columns[i].name, name) == 0) return i;
    return -1;
}

bool chk_has_staff_column(const ast_decl *source)
{
    for (int i = 0; i < source->u.source.column_count; i++)
        if (source->u.source.columns[i].is_staff) return true;
    return false;
}

ast_decl *chk_set_source(const chk_ctx *c, const ast_decl *set, int *column)
{
    const ast_expr *col = set->u.set.column;
    if (col->kind != EX_MEMBER) return NULL;
    chk_entry *en = chk_lookup(c, col->u.member.base);
    if (!en || en->decl->kind != DECL_SOURCE) return NULL;
    int i = chk_find_column(en->decl, col->u.member.member);
    if (i < 0) return NULL;
    if (column) *column = i;
    return en->decl;
}

const char *chk_snippet(chk_ctx *c, kp_span span)
{
    const diag_file *f = diag_get_file(c->diags, span.file);
    if (!f || span.start >= f->len || span.end <= span.start) return "";
    uint32_t end = span.end > f->len ? (uint32_t)f->len : span.end;
    enum { MAX_CHARS = 40 };
    char *out = arena_alloc(c->mem, (size_t)(end - span.start) + 4);
    size_t n = 0, chars = 0;
    bool space = false;
    for (uint32_t i = span.start; i < end; i++) {
        unsigned char ch = (unsigned char)f->text[i];
        if (ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r') {
            space = true; /* runs of white space read as one space */
            continue;
        }
        if (space) {
            out[n++] = ' ';
            chars++;
            space = false;
        }
        if ((ch & 0xC0) != 0x80) {
            if (chars == MAX_CHARS) {
                memcpy(out + n, "\xE2\x80\xA6", 3); /* … */
                n += 3;
                break;
            }
            chars++;
        }
        out[n++] = (char)ch;
    }
    out[n] = '\0';
    return out;
}

/* Suggestions compare a name with every candidate: on a large spec with many unknown
 * names that is quadratic, so the comparisons have a budget. The first few hundred
 * unknown names get their hints; after that, fixing those will do. */
enum { HINT_BUDGET = 1000000 };

const char *chk_closest(chk_ctx *c, const char *name, const char *const *cands, size_t n)
{
    if (c->hint_work + n > HINT_BUDGET) return NULL;
    c->hint_work += n;
    return diag_closest(name, cands, n);
}

void chk_hint_closest(chk_ctx *c, diagnostic *d, const char *name, const ptr_vec *cands)
{
    const char *near = chk_closest(c, name, (const char *const *)cands->items, cands->len);
    if (near) diag_hint(c->diags, d, "did you mean '%s'?", near);
}

/* ---- the name table --------------------------------------------------------------- */

/* FNV-1a over the bytes of a name. */
static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211u;
    }
    return h;
}

/* The slot holding name, or the empty slot where it would go. */
static chk_entry *find_slot(const chk_names *t, const char *name)
{
    size_t mask = t->cap - 1;
    for (size_t i = (size_t)hash_name(name) & mask;; i = (i + 1) & mask) {
        chk_entry *e = &t->slots[i];
        if (!e->name || strcmp(e->name, name) == 0) return e;
    }
}

static chk_entry *names_get(const chk_names *t, const char *name)
{
    if (!t || !t->cap) return NULL;
    chk_entry *e = find_slot(t, name);
    return e->name ? e : NULL;
}

chk_entry *chk_lookup(const chk_ctx *c, const char *name)
{
    return names_get(&c->names, name);
}

ast_decl *chk_find(const chk_model *model, const char *name)
{
    if (!model || !name) return NULL;
    chk_entry *e = names_get(model->names, name);
    return e ? e->decl : NULL;
}

/* A set of names with the index where each was first seen: duplicate columns in a
 * source and duplicate kpis in a role are found in linear time, however long the list. */
typedef struct name_set {
    const char **keys;
    int *first;
    size_t cap;
} name_set;

static void name_set_init(arena *mem, name_set *set, size_t count)
{
    set->cap = 16;
    while (set->cap < 2 * count + 1) set->cap *= 2;
    set->keys = arena_alloc(mem, set->cap * sizeof *set->keys);
    set->first = arena_alloc(mem, set->cap * sizeof *set->first);
}

/* Adds name at index; returns the index it was first added at, or -1 when it is new. */
static int name_set_add(name_set *set, const char *name, int index)
{
    size_t mask = set->cap - 1;
    for (size_t i = (size_t)hash_name(name) & mask;; i = (i + 1) & mask) {
        if (!set->keys[i]) {
            set->keys[i] = name;
            set->first[i] = index;
            return -1;
        }
        if (strcmp(set->keys[i], name) == 0) return set->first[i];
    }
}

/* ---- references between indicators and sets --------------------------------------- */

void chk_add_edge(chk_ctx *c, const chk_scope *s, const chk_entry *target, kp_span at)
{
    if (s->owner_node < 0 || target->node < 0) return;
    chk_node *to = &c->nodes[target->node];
    if (to->last_from == s->owner_node) return; /* one edge per pair is enough */
    to->last_from = s->owner_node;
    chk_edge *e = arena_alloc(c->mem, sizeof *e);
    e->to = target->node;
    e->at = at;
    ptr_vec_push(c->mem, &c->nodes[s->owner_node].edges, e);
}

static void report_cycle(chk_ctx *c, const int *stack, int from, int top, const chk_edge *e)
{
    size_t len = 1;
    for (int i = from; i <= top; i++) len += strlen(c->nodes[stack[i]].decl->name) + 4;
    len += strlen(c->nodes[e->to].decl->name);
    char *path = arena_alloc(c->mem, len + 1);
    for (int i = from; i <= top; i++) {
        strcat(path, c->nodes[stack[i]].decl->name);
        strcat(path, " -> ");
    }
    strcat(path, c->nodes[e->to].decl->name);
    diagnostic *d = diag_report(c->diags, DIAG_ERROR, e->at, "cycle", "circular definition: %s", path);
    diag_hint(c->diags, d, "an indicator or set cannot depend on itself, directly or through others");
}

/* Depth-first search over the references, with an explicit stack: a chain of 100,000
 * indicators must not overflow the C stack. Each back edge closes one cycle, reported
 * at that reference with the path from the referenced declaration round to it. */
static void find_cycles(chk_ctx *c)
{
    int n = c->node_count;
    if (n == 0) return;
    int *stack = xmalloc((size_t)n * sizeof *stack);
    size_t *next = xcalloc((size_t)n, sizeof *next);
    for (int i = 0; i < n; i++) c->nodes[i].decl->check_state = 0;
    for (int root = 0; root < n; root++) {
        if (c->nodes[root].decl->check_state) continue;
        int top = 0;
        stack[0] = root;
        c->nodes[root].decl->check_state = 1;
        c->nodes[root].stack_pos = 0;
        while (top >= 0) {
            int u = stack[top];
            chk_node *un = &c->nodes[u];
            if (next[u] < un->edges.len) {
                chk_edge *e = un->edges.items[next[u]++];
                chk_node *vn = &c->nodes[e->to];
                if (vn->decl->check_state == 0) {
                    stack[++top] = e->to;
                    vn->decl->check_state = 1;
                    vn->stack_pos = top;
                } else if (vn->decl->check_state == 1) {
                    report_cycle(c, stack, vn->stack_pos, top, e);
                }
            } else {
                un->decl->check_state = 2;
                top--;
            }
        }
    }
    free(stack);
    free(next);
}

/* ---- pass 1: declarations and names ----------------------------------------------- */

/* d reuses the global name of first (which comes earlier in load order). */
static void report_duplicate(chk_ctx *c, ast_decl *d, ast_decl *first)
{
    diagnostic *r;
    if (d->kind == DECL_STAFF && first->kind == DECL_STAFF) {
        r = diag_report(c->diags, DIAG_ERROR, d->keyword_span, "duplicate-name", "a second staff roster");
        diag_note(c->diags, r, first->keyword_span, "the first roster is here");
        diag_hint(c->diags, r, "a spec has exactly one staff roster");
        return;
    }
    if (d->kind == first->kind)
        r = diag_report(c->diags, DIAG_ERROR, d->name_span, "duplicate-name", "duplicate %s '%s'",
                        chk_kind_word(d->kind), d->name);
    else
        r = diag_report(c->diags, DIAG_ERROR, d->name_span, "duplicate-name", "%s '%s' reuses the name of %s",
                        chk_kind_word(d->kind), d->name, chk_kind_phrase(first->kind));
    diag_note(c->diags, r, first->name_span, "first defined here");
    if (d->name_span.file != first->name_span.file)
        diag_hint(c->diags, r, "names are global across a spec and its imports");
}

/* Pass 1: fills the name table, the model's lists, the dependency nodes and the
 * suggestion lists; reports duplicate names and a second period or currency. */
static void collect(chk_ctx *c)
{
    ast_spec *spec = c->spec;
    chk_model *m = c->model;
    size_t named = 0;
    for (size_t i = 0; i < spec->decls.len; i++) {
        ast_decl *d = spec->decls.items[i];
        if (d->name) named++;
        if (d->kind == DECL_INDICATOR || d->kind == DECL_SET) c->node_count++;
    }
    size_t cap = 16;
    while (cap < 2 * named + 1) cap *= 2;
    c->names.cap = cap;
    c->names.slots = arena_alloc(c->mem, cap * sizeof(chk_entry));
    c->nodes = arena_alloc(c->mem, ((size_t)c->node_count + 1) * sizeof(chk_node));

    ast_decl *period = NULL, *currency = NULL;
    int node = 0;
    for (size_t i = 0; i < spec->decls.len; i++) {
        ast_decl *d = spec->decls.items[i];
        int my_node = -1;
        if (d->kind == DECL_INDICATOR || d->kind == DECL_SET) {
            my_node = node++;
            c->nodes[my_node].decl = d;
            c->nodes[my_node].last_from = -1;
        }
        switch (d->kind) {
        case DECL_PERIOD:
        case DECL_CURRENCY: {
            ast_decl **seen = d->kind == DECL_PERIOD ? &period : &currency;
            const char *word = d->kind == DECL_PERIOD ? "period" : "currency";
            if (*seen) {
                diagnostic *r = diag_report(c->diags, DIAG_ERROR, d->span, "duplicate-declaration",
                                            "a second '%s' declaration", word);
                diag_note(c->diags, r, (*seen)->span, "the first is here");
                diag_hint(c->diags, r, "a spec has at most one '%s', in any of its files", word);
            } else {
                *seen = d;
            }
            continue;
        }
        case DECL_SOURCE: ptr_vec_push(c->mem, &m->sources, d); break;
        case DECL_STAFF:
            if (!m->roster) m->roster = d;
            break;
        case DECL_INDICATOR:
            ptr_vec_push(c->mem, &m->indicators, d);
            ptr_vec_push(c->mem, &c->cand_indicators, (void *)d->name);
            break;
        case DECL_SET:
            ptr_vec_push(c->mem, &m->sets, d);
            ptr_vec_push(c->mem, &c->cand_sets, (void *)d->name);
            break;
        case DECL_SCALE:
            ptr_vec_push(c->mem, &m->scales, d);
            ptr_vec_push(c->mem, &c->cand_scales, (void *)d->name);
            break;
        case DECL_ROLE: ptr_vec_push(c->mem, &m->roles, d); break;
        case DECL_POOL:
            ptr_vec_push(c->mem, &m->pools, d);
            ptr_vec_push(c->mem, &c->cand_pools, (void *)d->name);
            break;
        case DECL_GRADES:
            ptr_vec_push(c->mem, &m->grades, d);
            ptr_vec_push(c->mem, &c->cand_grades, (void *)d->name);
            break;
        case DECL_IMPORT: continue;
        case DECL_TEST: ptr_vec_push(c->mem, &m->tests, d); continue;
        }
        if (!d->name) continue;
        chk_entry *e = find_slot(&c->names, d->name);
        if (e->name) {
            report_duplicate(c, d, e->decl);
            continue;
        }
        e->name = d->name;
        e->decl = d;
        e->node = my_node;
        c->names.len++;
    }
    m->grain = period ? period->u.period.grain : GRAIN_MONTH;
    m->currency = currency ? currency->u.currency.code : NULL;

    for (size_t i = 0; i < m->sources.len; i++) {
        const char *n = ((ast_decl *)m->sources.items[i])->name;
        ptr_vec_push(c->mem, &c->cand_sources, (void *)n);
        ptr_vec_push(c->mem, &c->cand_sources_sets, (void *)n);
    }
    for (size_t i = 0; i < c->cand_sets.len; i++)
        ptr_vec_push(c->mem, &c->cand_sources_sets, c->cand_sets.items[i]);
    for (size_t i = 0; i < chk_builtin_function_count; i++)
        ptr_vec_push(c->mem, &c->cand_calls, (void *)chk_builtin_functions[i]);
    for (size_t i = 0; i < c->cand_scales.len; i++)
        ptr_vec_push(c->mem, &c->cand_calls, c->cand_scales.items[i]);
}

/* ---- pass 2: sources and the roster ----------------------------------------------- */

/* The clauses that say how an export writes a source: a known encoding; a format
 * only on a date, int, number or money column, and one that compiles (cellfmt.h)
 * with places the type keeps; bool words only on a bool column; header names that
 * are not empty and not shared by two columns. */
static void check_export_clauses(chk_ctx *c, ast_decl *d)
{
    if (d->u.source.encoding && !tc_encoding_known(d->u.source.encoding)) {
        diagnostic *r = diag_report(c->diags, DIAG_ERROR, d->u.source.encoding_span, "unknown-encoding",
                                    "unknown encoding \"%s\"", d->u.source.encoding);
        static const char *const common[] = { "GBK",      "GB18030", "UTF-16", "UTF-16LE",
                                              "UTF-16BE", "BIG5",    "UTF-8" };
        const char *near = diag_closest(d->u.source.encoding, common, 7);
        if (near) diag_hint(c->diags, r, "did you mean \"%s\"?", near);
        else
            diag_hint(c->diags, r,
                      "write an encoding iconv knows: \"GBK\", \"GB18030\", "
                      "\"UTF-16\", \"UTF-16LE\", \"UTF-16BE\", \"BIG5\"; "
                      "`iconv -l` lists them all");
    }
    ast_column *cols = d->u.source.columns;
    for (int i = 0; i < d->u.source.column_count; i++) {
        ast_column *col = &cols[i];
        if (col->header && col->header[0] == '\0')
            diag_report(c->diags, DIAG_ERROR, col->header_span, "bad-header",
                        "the header name of column '%s' is empty", col->name);
        /* two columns without a header clause and one name are a duplicate column */
        for (int j = 0; j < i; j++) {
            if (!col->header && !cols[j].header) continue;
            const char *name = ast_column_header(col);
            if (strcmp(ast_column_header(&cols[j]), name) != 0) continue;
            diagnostic *r = diag_report(c->diags, DIAG_ERROR, col->header ? col->header_span : col->name_span,
                                        "bad-header",
                                        "columns '%s' and '%s' both read the "
                                        "header name \"%s\"",
                                        cols[j].name, col->name, name);
            diag_note(c->diags, r, cols[j].header ? cols[j].header_span : cols[j].name_span,
                      "'%s' reads it here", cols[j].name);
            break;
        }
        if (col->format) {
            ast_coltype t = col->type;
            cfmt f;
            char why[256];
            if (t == COLTYPE_TEXT || t == COLTYPE_BOOL) {
                diagnostic *r = diag_report(c->diags, DIAG_ERROR, col->format_span, "bad-format",
                                            "a %s column takes no format", ast_coltype_name(t));
                diag_hint(c->diags, r,
                          t == COLTYPE_BOOL ? "a bool column names its words: true \"是\" false \"否\""
                                            : "formats are for date, int, number and money columns");
            } else if (t == COLTYPE_DATE ? !cfmt_compile_date(col->format, &f, why, sizeof why)
                                         : !cfmt_compile_number(col->format, &f, why, sizeof why)) {
                diagnostic *r = diag_report(c->diags, DIAG_ERROR, col->format_span, "bad-format",
                                            "bad %s format \"%s\": %s", t == COLTYPE_DATE ? "date" : "number",
                                            col->format, why);
                diag_hint(c->diags, r,
                          t == COLTYPE_DATE
                              ? "a date format is like \"YYYY/MM/DD\", \"YYYY.M.D\", "
                                "\"YYYYMMDD\" or \"YYYY年M月D日\""
                              : "a number format is like \"¥#,##0.00\", \"#,##0.0#元\" or \"#,##0\"");
            } else if (t != COLTYPE_DATE && f.max_places > (t == COLTYPE_INT     ? 0
                                                            : t == COLTYPE_MONEY ? 2
                                                                                 : 18)) {
                diagnostic *r = diag_report(c->diags, DIAG_ERROR, col->format_span, "bad-format",
                                            "format \"%s\" has %d decimal place%s, but %s %s", col->format,
                                            f.max_places, f.max_places == 1 ? "" : "s",
                                            t == COLTYPE_INT ? "an int column" : "a money column",
                                            t == COLTYPE_INT ? "has none" : "keeps 2");
                diag_hint(c->diags, r,
                          t == COLTYPE_INT ? "declare the column as number, or drop the places"
                                           : "sub-cent amounts belong in a number column");
            }
        }
        if (col->true_word) {
            cfmt f;
            char why[256];
            if (col->type != COLTYPE_BOOL) {
                diag_report(c->diags, DIAG_ERROR, col->bool_words_span, "bad-format",
                            "only a bool column takes true and false words; '%s' is %s", col->name,
                            ast_coltype_name(col->type));
            } else if (!cfmt_compile_bool(col->true_word, col->false_word, &f, why, sizeof why)) {
                diag_report(c->diags, DIAG_ERROR, col->bool_words_span, "bad-format",
                            "bad bool words for column '%s': %s", col->name, why);
            }
        }
    }
}

/* `convention "…"` says what the roster's `end` cell means, so it belongs there only and
 * names one of the two conventions (docs/language.md §3 staff). */
static void check_end_convention(chk_ctx *c, const ast_decl *d, const ast_column *col)
{
    if (d->kind != DECL_STAFF || strcmp(col->name, "end")) {
        diagnostic *r = diag_report(
            c->diags, DIAG_ERROR, col->convention_span, "clause-place",
            "'convention' belongs to the roster's 'end' column, not to '%s'",
            d->kind == DECL_STAFF ? col->name : arena_printf(c->mem, "%s.%s", d->name, col->name));
        diag_hint(c->diags, r, "write it after the roster's end date: end  date  convention \"last_day\"");
        return;
    }
    if (strcmp(col->convention, "last_day") && strcmp(col->convention, "day_after")) {
        diagnostic *r = diag_report(c->diags, DIAG_ERROR, col->convention_span, "clause-value",
                                    "unknown end convention \"%s\"", col->convention);
        diag_hint(c->diags, r,
                  "write \"last_day\" when 'end' is the last day employed (HR exports "
                  "usually), \"day_after\" when it is the first day no longer employed");
    }
}

/* Pass 2 for one source or the roster: unique column names, at most one time (a date)
 * and one staff column (text or int); the roster's required and known columns. */
static void check_columns(chk_ctx *c, ast_decl *d)
{
    bool roster = d->kind == DECL_STAFF;
    int time_col = -1, staff_col = -1;
    ast_column *cols = d->u.source.columns;
    name_set names;
    name_set_init(c->mem, &names, (size_t)d->u.source.column_count);
    check_export_clauses(c, d);
    for (int i = 0; i < d->u.source.column_count; i++) {
        ast_column *col = &cols[i];
        if (col->convention) check_end_convention(c, d, col);
        int j = name_set_add(&names, col->name, i);
        if (j >= 0) {
            diagnostic *r = diag_report(
                c->diags, DIAG_ERROR, col->name_span, "duplicate-column", "duplicate column '%s' in %s",
                col->name, roster ? "the staff roster" : arena_printf(c->mem, "source '%s'", d->name));
            diag_note(c->diags, r, cols[j].name_span, "first declared here");
        }
        if (roster && (col->is_time || col->is_staff)) {
            bool t = col->is_time;
            diagnostic *r =
                diag_report(c->diags, DIAG_ERROR, t ? col->time_span : col->staff_span, "column-flag",
                            "the staff roster takes no '%s' column", t ? "time" : "staff");
            diag_hint(c->diags, r,
                      t ? "employment dates go in columns named 'start' and 'end'"
                        : "the roster's 'id' column identifies the staff");
            continue;
        }
        if (col->is_time) {
            if (time_col >= 0) {
                diagnostic *r = diag_report(c->diags, DIAG_ERROR, col->time_span, "column-flag",
                                            "source '%s' has a second time column '%s'", d->name, col->name);
                diag_note(c->diags, r, cols[time_col].time_span, "the first is '%s'", cols[time_col].name);
                diag_hint(c->diags, r,
                          "one column places each row in a period; filter on the others with 'where'");
            } else {
                time_col = i;
            }
            if (col->type != COLTYPE_DATE)
                diag_report(c->diags, DIAG_ERROR, col->type_span, "column-flag",
                            "time column '%s' must be a date, not %s", col->name,
                            ast_coltype_name(col->type));
        }
        if (col->is_staff) {
            if (staff_col >= 0) {
                diagnostic *r = diag_report(c->diags, DIAG_ERROR, col->staff_span, "column-flag",
                                            "source '%s' has a second staff column '%s'", d->name, col->name);
                diag_note(c->diags, r, cols[staff_col].staff_span, "the first is '%s'", cols[staff_col].name);
                diag_hint(c->diags, r, "one column credits each row to a staff member");
            } else {
                staff_col = i;
            }
            if (col->type != COLTYPE_TEXT && col->type != COLTYPE_INT)
                diag_report(c->diags, DIAG_ERROR, col->type_span, "column-flag",
                            "staff column '%s' holds staff ids, so it is text or int, not %s", col->name,
                            ast_coltype_name(col->type));
        }
    }
    if (!roster) return;
    static const struct {
        const char *name;
        bool required;
        const char *why;
    } known[] = {
        { "id", true, "the staff id that the sources' staff columns hold" },
        { "role", true, "the name of the role each member is scored in" },
        { "start", false, NULL },
        { "end", false, NULL },
    };
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) {
        int i = chk_find_column(d, known[k].name);
        if (i < 0) {
            if (!known[k].required) continue;
            diagnostic *r = diag_report(c->diags, DIAG_ERROR, d->keyword_span, "roster",
                                        "the staff roster has no '%s' column", known[k].name);
            diag_hint(c->diags, r, "add '%s text': %s", known[k].name, known[k].why);
            continue;
        }
        ast_coltype t = cols[i].type;
        bool ok = k == 0   ? (t == COLTYPE_TEXT || t == COLTYPE_INT)
                  : k == 1 ? t == COLTYPE_TEXT
                           : t == COLTYPE_DATE;
        if (!ok)
            diag_report(c->diags, DIAG_ERROR, cols[i].type_span, "roster",
                        "the roster's '%s' column must be %s, not %s", known[k].name,
                        k == 0   ? "text or int"
                        : k == 1 ? "text"
                                 : "a date",
                        ast_coltype_name(t));
    }
}

/* Pass 2 for a source's key: at most one `key (a, b)` line, naming declared columns,
 * each once. The roster takes none: its ids are unique already, and a roster row is
 * never skipped. */
static void check_key(chk_ctx *c, ast_decl *d)
{
    const ast_column *cols = d->u.source.columns;
    int n = d->u.source.column_count;
    for (int k = 0; k < d->u.source.key_line_count; k++) {
        const ast_key_line *kl = &d->u.source.key_lines[k];
        if (d->kind == DECL_STAFF) {
            diagnostic *r =
                diag_report(c->diags, DIAG_ERROR, kl->span, "key", "the staff roster takes no key");
            diag_hint(
                c->diags, r,
                "the roster's 'id' identifies each member, and an id that appears twice is already an error");
            continue;
        }
        if (k > 0) {
            diagnostic *r =
                diag_report(c->diags, DIAG_ERROR, kl->span, "key", "source '%s' has a second key", d->name);
            diag_note(c->diags, r, d->u.source.key_lines[0].span, "the first is here");
            diag_hint(c->diags, r, "a key of several columns is one line: key (order_id, line_no)");
        }
        for (int j = 0; j < kl->count; j++) {
            const char *name = kl->columns[j];
            if (chk_find_column(d, name) < 0) {
                diagnostic *r =
                    diag_report(c->diags, DIAG_ERROR, kl->column_spans[j], "key",
                                "the key names '%s', which is not a column of source '%s'", name, d->name);
                ptr_vec cands = { 0 };
                for (int m = 0; m < n; m++) ptr_vec_push(c->mem, &cands, (void *)cols[m].name);
                chk_hint_closest(c, r, name, &cands);
                continue;
            }
            for (int m = 0; m < j; m++)
                if (!strcmp(kl->columns[m], name)) {
                    diagnostic *r = diag_report(c->diags, DIAG_ERROR, kl->column_spans[j], "key",
                                                "column '%s' appears twice in the key", name);
                    diag_note(c->diags, r, kl->column_spans[m], "first named here");
                    break;
                }
        }
    }
}

/* ---- pass 4: sets and indicators -------------------------------------------------- */

/* The unit word(s) to declare for a dimension, for hints. */
static const char *unit_suggestion(ast_dim d)
{
    switch (d) {
    case DIM_COUNT: return "count";
    case DIM_MONEY: return "money";
    case DIM_RATIO: return "percent' or 'ratio";
    case DIM_DAYS: return "days";
    case DIM_POINTS: return "points";
    default: return "number";
    }
}

/* An indicator's formula: a number whose unit fits the declared one. */
static void check_indicator(chk_ctx *c, ast_decl *d, int node)
{
    chk_scope s = { 0 };
    s.kind = SCOPE_FORMULA;
    s.owner = d;
    s.owner_node = node;
    s.per_staff = d->u.indicator.per_staff;
    d->per_staff = d->u.indicator.per_staff;
    ast_dim declared = chk_unit_dim(d->u.indicator.unit);
    d->dim = declared;
    ast_expr *e = d->u.indicator.expr;
    chk_expr(c, &s, e);
    if (e->type == TYPE_ERROR) return;
    if (e->type != TYPE_NUM) {
        diag_report(c->diags, DIAG_ERROR, e->span, "type-mismatch",
                    "indicator '%s' must be a number, but its formula is %s", d->name,
                    e->type == TYPE_BOOL   ? "a condition (true/false)"
                    : e->type == TYPE_DATE ? "a date"
                                           : "text");
        return;
    }
    chk_dims dims = chk_dims_of(c, e);
    if (dims & CHK_DIM(declared)) {
        e->dim = declared; /* of the units the formula may have, the declared one */
        return;
    }
    if (dims & CHK_DIM(DIM_NUMBER)) return;
    const char *how = "";
    if (e->kind == EX_BINARY && e->u.op.op >= OP_ADD && e->u.op.op <= OP_DIV)
        how = arena_printf(c->mem, " (%s %s %s)", chk_dim_name(e->u.op.lhs->dim), ast_op_text(e->u.op.op),
                           chk_dim_name(e->u.op.rhs->dim));
    diagnostic *r = diag_report(c->diags, DIAG_ERROR, e->span, "unit-mismatch",
                                "indicator '%s' is declared %s but its formula is %s%s", d->name,
                                ast_unit_name(d->u.indicator.unit), chk_dim_phrase(e->dim), how);
    diag_hint(c->diags, r, "declare it '%s', or change the formula", unit_suggestion(e->dim));
    diag_hint(c->diags, r, "e.g. 'indicator %s %s%s = %s' checks", d->name,
              e->dim == DIM_RATIO ? "percent" : unit_suggestion(e->dim),
              d->u.indicator.per_staff ? " per staff" : "", chk_snippet(c, e->span));
}

/* A set: SRC.COL, then its where (row scope) and having (group scope) over SRC. */
static void check_set(chk_ctx *c, ast_decl *d, int node)
{
    chk_scope s = { 0 };
    s.kind = SCOPE_ROW;
    s.owner = d;
    s.owner_node = node;
    s.binding = true;
    s.clause = arena_printf(c->mem, "the column of set '%s'", d->name);
    d->dim = DIM_COUNT;
    ast_expr *col = d->u.set.column;
    /* SRC.COL; staff.COL and period.start are members too, but not a source's column */
    bool member =
        col->kind == EX_MEMBER && strcmp(col->u.member.base, "staff") && strcmp(col->u.member.base, "period");
    if (member) chk_expr(c, &s, col);
    ast_decl *src = s.bound;
    if (!member || (col->type != TYPE_ERROR && col->ref_kind != REF_COLUMN)) {
        diagnostic *r = diag_report(c->diags, DIAG_ERROR, col->span, "aggregate",
                                    "set '%s' is defined by a source column, not '%s'", d->name,
                                    chk_snippet(c, col->span));
        const char *near = NULL;
        if (col->kind == EX_NAME) {
            for (size_t i = 0; i < c->model->sources.len && !near; i++) {
                ast_decl *so = c->model->sources.items[i];
                if (chk_find_column(so, col->u.name.name) >= 0)
                    near = arena_printf(c->mem, "%s.%s", so->name, col->u.name.name);
            }
        }
        if (near) diag_hint(c->diags, r, "did you mean '%s'?", near);
        else diag_hint(c->diags, r, "write set NAME = SOURCE.COLUMN [where …] [having …] [over …]");
    }
    if (d->u.set.where) {
        chk_scope w = s;
        w.binding = false;
        w.source = src;
        w.quiet = src == NULL;
        w.clause = "a where condition";
        chk_expr(c, &w, d->u.set.where);
        chk_require_bool(c, d->u.set.where, "a where condition");
    }
    if (d->u.set.having) {
        chk_scope h = s;
        h.kind = SCOPE_GROUP;
        h.binding = false;
        h.source = src;
        h.quiet = src == NULL;
        h.clause = "a having condition";
        chk_expr(c, &h, d->u.set.having);
        chk_require_bool(c, d->u.set.having, "a having condition");
    }
}

/* ---- pass 5: roles ---------------------------------------------------------------- */

/* "40% + 30% + 20%": the weights as written, the first dozen of them. */
static const char *weight_terms(chk_ctx *c, const ast_decl *role)
{
    enum { SHOWN = 12 };
    size_t cap = 64, len = 0;
    int shown = 0;
    char *out = NULL;
    for (int i = 0; i < role->u.role.item_count; i++) {
        const ast_role_item *it = &role->u.role.items[i];
        if (it->kind != ROLE_KPI) continue;
        const char *t = shown == SHOWN ? "…" : chk_snippet(c, it->weight->span);
        size_t need = len + strlen(t) + 4;
        if (!out || need > cap) {
            while (cap < need) cap *= 2;
            char *grown = arena_alloc(c->mem, cap);
            if (out) memcpy(grown, out, len + 1);
            out = grown;
        }
        len += (size_t)sprintf(out + len, "%s%s", shown ? " + " : "", t);
        if (shown++ == SHOWN) break;
    }
    return out ? out : "";
}

/* A bonus formula that checks, for e, a role's bonus that is not money: with points, the
 * score grading a money column of the roster (`staff.base_bonus * score / 100`); with a
 * ratio, count or plain number, e multiplying that column. */
static const char *bonus_example(chk_ctx *c, const ast_expr *e)
{
    const ast_decl *roster = c->model->roster;
    const char *money = NULL;
    for (int i = 0; roster && i < roster->u.source.column_count && !money; i++)
        if (roster->u.source.columns[i].type == COLTYPE_MONEY) money = roster->u.source.columns[i].name;
    bool simple = e->kind == EX_NAME || e->kind == EX_NUMBER || e->kind == EX_PERCENT || e->kind == EX_CALL;
    const char *text = chk_snippet(c, e->span);
    if (money && e->type == TYPE_NUM && e->dim == DIM_POINTS)
        return arena_printf(c->mem, "e.g. 'bonus staff.%s * score / 100' checks (the score grades the money)",
                            money);
    if (money && e->type == TYPE_NUM && e->dim != DIM_DAYS)
        return arena_printf(
            c->mem, simple ? "e.g. 'bonus staff.%s * %s' checks" : "e.g. 'bonus staff.%s * (%s)' checks",
            money, text);
    return "e.g. 'bonus staff.base_bonus * (1 + adjust(score)) * employed' checks, with a money column base_bonus in the roster";
}

/* A pool (after the roles, which list themselves in it): its amount is money, one
 * figure for the whole company (a constant, or team-wide indicators), and some role
 * takes a part of it. */
static void check_pool(chk_ctx *c, ast_decl *pool)
{
    chk_scope s = { 0 };
    s.kind = SCOPE_ROLE;
    s.owner_node = -1;
    ast_expr *e = pool->u.pool.amount;
    chk_expr(c, &s, e);
    if (e->type == TYPE_ERROR) return;
    if (e->type != TYPE_NUM || !chk_dims_fit(chk_dims_of(c, e), DIM_MONEY)) {
        diagnostic *r =
            diag_report(c->diags, DIAG_ERROR, e->span, "unit-mismatch",
                        "the amount of pool '%s' must be money, but '%s' is %s", pool->name,
                        chk_snippet(c, e->span), e->type == TYPE_NUM ? chk_dim_name(e->dim) : "not a number");
        diag_hint(c->diags, r,
                  "e.g. 'pool %s = 150_000', or a share of a team-wide money indicator: "
                  "'pool %s = team_revenue * 3%%'",
                  pool->name, pool->name);
    } else if (e->per_staff) {
        diagnostic *r = diag_report(c->diags, DIAG_ERROR, e->span, "grain",
                                    "the amount of pool '%s' differs per staff member: '%s' is per staff",
                                    pool->name, chk_snippet(c, e->span));
        diag_hint(c->diags, r,
                  "a pool is one amount that its members share; use a team-wide indicator (without "
                  "'per staff'), e.g. 'pool %s = team_revenue * 3%%'",
                  pool->name);
    }
    if (pool->u.pool.roles.len == 0) {
        diagnostic *r =
            diag_report(c->diags, DIAG_WARNING, pool->name_span, "unused-pool",
                        "pool '%s' is not shared by any role: nobody is paid from it", pool->name);
        diag_hint(c->diags, r,
                  "give a role the line 'bonus pool %s share score * staff.base_bonus', or remove the pool",
                  pool->name);
    }
}

/* `bonus pool NAME share EXPR [cap EXPR] [floor EXPR]`: a declared pool, a numeric
 * share (any unit: only the proportions count), and money for the cap and floor. */
static void check_pool_bonus(chk_ctx *c, chk_scope *s, ast_decl *role, ast_role_item *it)
{
    chk_entry *en = chk_lookup(c, it->pool);
    if (!en) {
        diagnostic *r =
            diag_report(c->diags, DIAG_ERROR, it->pool_span, "undefined-name", "unknown pool '%s'", it->pool);
        const char *near =
            chk_closest(c, it->pool, (const char *const *)c->cand_pools.items, c->cand_pools.len);
        if (near) diag_hint(c->diags, r, "did you mean '%s'?", near);
        else diag_hint(c->diags, r, "declare it outside the role: pool %s = 150_000", it->pool);
    } else if (en->decl->kind != DECL_POOL) {
        diagnostic *r = diag_report(c->diags, DIAG_ERROR, it->pool_span, "wrong-kind",
                                    "'%s' is %s, not a pool", it->pool, chk_kind_phrase(en->decl->kind));
        diag_hint(c->diags, r, "declare the pool outside the role: pool NAME = AMOUNT");
    } else {
        it->ref = en->decl;
        ptr_vec_push(c->mem, &en->decl->u.pool.roles, role);
    }
    ast_expr *share = it->share;
    chk_expr(c, s, share);
    if (share->type != TYPE_ERROR && share->type != TYPE_NUM) {
        diagnostic *r = diag_report(c->diags, DIAG_ERROR, share->span, "type-mismatch",
                                    "the share of role '%s' in pool '%s' must be a number, but '%s' is not",
                                    role->name, it->pool, chk_snippet(c, share->span));
        diag_hint(c->diags, r,
                  "e.g. share score * staff.base_bonus: each member's part is in proportion to it");
    }
    ast_expr *bounds[2] = { it->cap, it->floor };
    static const char *const words[2] = { "cap", "floor" };
    for (int b = 0; b < 2; b++) {
        ast_expr *e = bounds[b];
        if (!e) continue;
        chk_expr(c, s, e);
        if (e->type == TYPE_ERROR) continue;
        if (e->type != TYPE_NUM || !chk_dims_fit(chk_dims_of(c, e), DIM_MONEY)) {
            diagnostic *r = diag_report(c->diags, DIAG_ERROR, e->span, "unit-mismatch",
                                        "the %s of role '%s' in pool '%s' must be money, but '%s' is %s",
                                        words[b], role->name, it->pool, chk_snippet(c, e->span),
                                        e->type == TYPE_NUM ? chk_dim_name(e->dim) : "not a number");
            diag_hint(c->diags, r, "e.g. '%s staff.base_bonus * 2' or '%s 20_000'", words[b], words[b]);
        }
    }
}

/* A role's own period (docs/language.md "Role periods"): a whole number of the spec's
 * periods, so that its statements add up the spec's periods exactly. Without one the
 * role takes the spec's grain, which later stages read from the role. */
static void check_role_grain(chk_ctx *c, ast_decl *role)
{
    ast_grain spec = c->model->grain;
    if (!role->u.role.has_grain) {
        role->u.role.grain = spec;
        return;
    }
    ast_grain g = role->u.role.grain;
    kp_span at = role->u.role.grain_span;
    if (g == spec) {
        diagnostic *r =
            diag_report(c->diags, DIAG_WARNING, at, "role-period",
                        "role '%s' declares the spec's own period '%s'", role->name, ast_grain_name(g));
        diag_hint(c->diags, r, "remove '%s': a role without a period of its own is scored every %s",
                  ast_grain_name(g), ast_grain_name(g));
    } else if (g < spec) {
        diagnostic *r = diag_report(c->diags, DIAG_ERROR, at, "role-period",
                                    "the period of role '%s' (%s) is finer than the spec's (%s)", role->name,
                                    ast_grain_name(g), ast_grain_name(spec));
        diag_hint(c->diags, r,
                  "a role's period is a whole number of the spec's periods: make the spec's period "
                  "'period %s', or remove '%s' from the role",
                  ast_grain_name(g), ast_grain_name(g));
        role->u.role.grain = spec;
    } else if (!period_grain_tiles(spec, g)) {
        diagnostic *r = diag_report(c->diags, DIAG_ERROR, at, "role-period",
                                    "the spec's %ss do not tile role '%s''s %ss: a %s does not start and end "
                                    "on ISO week boundaries",
                                    ast_grain_name(spec), role->name, ast_grain_name(g), ast_grain_name(g));
        diag_hint(c->diags, r,
                  "with 'period week' a role keeps the spec's weeks; for a %sly role make the spec's "
                  "period 'period day' or 'period month'",
                  ast_grain_name(g));
        role->u.role.grain = spec;
    }
}

/* The roles that share a pool or a grades table are settled together in one period, so
 * they must have one period grain. */
static void check_shared_grain(chk_ctx *c, const ptr_vec *roles, const char *what, const char *name)
{
    if (roles->len < 2) return;
    const ast_decl *first = roles->items[0];
    for (size_t i = 1; i < roles->len; i++) {
        const ast_decl *role = roles->items[i];
        if (role->u.role.grain == first->u.role.grain) continue;
        kp_span at = role->u.role.has_grain ? role->u.role.grain_span : role->name_span;
        diagnostic *r = diag_report(c->diags, DIAG_ERROR, at, "role-period",
                                    "%s '%s' is shared by role '%s', scored every %s, and role '%s', scored "
                                    "every %s",
                                    what, name, first->name, ast_grain_name(first->u.role.grain), role->name,
                                    ast_grain_name(role->u.role.grain));
        diag_note(c->diags, r, first->name_span, "role '%s' is declared here", first->name);
        diag_hint(c->diags, r,
                  "the members of one %s are settled together in one period: give the roles the same "
                  "period, or each period its own %s",
                  what, what);
        return;
    }
}

/* A role: its lines once each, every kpi resolved with a weight, a target or points,
 * and points from somewhere; gates, bonus; the kpi count and the exact weight sum. */
static void check_role(chk_ctx *c, ast_decl *role)
{
    ast_role_item *items = role->u.role.items;
    int n = role->u.role.item_count;
    ast_role_item *scale_item = NULL, *bonus = NULL, *missing = NULL, *grades = NULL;

    /* role-wide lines first: a kpi needs to know whether the role has a points scale */
    for (int i = 0; i < n; i++) {
        ast_role_item *it = &items[i];
        ast_role_item **seen = it->kind == ROLE_POINTS    ? &scale_item
                               : it->kind == ROLE_BONUS   ? &bonus
                               : it->kind == ROLE_MISSING ? &missing
                               : it->kind == ROLE_GRADES  ? &grades
                                                          : NULL;
        if (!seen) continue;
        if (*seen) {
            static const char *const what[] = { "kpi", "points", "gate", "bonus", "missing", "grades" };
            diagnostic *r = diag_report(c->diags, DIAG_ERROR, it->span, "duplicate-item",
                                        "role '%s' has a second '%s' line", role->name, what[it->kind]);
            diag_note(c->diags, r, (*seen)->span, "the first is here");
            continue;
        }
        *seen = it;
        if (it->kind == ROLE_GRADES) chk_role_grades(c, role, it);
        if (it->kind != ROLE_POINTS || !it->scale) continue;
        chk_entry *en = chk_lookup(c, it->scale);
        if (!en) {
            diagnostic *r = diag_report(c->diags, DIAG_ERROR, it->scale_span, "undefined-name",
                                        "unknown scale '%s'", it->scale);
            chk_hint_closest(c, r, it->scale, &c->cand_scales);
        } else if (en->decl->kind != DECL_SCALE) {
            diag_report(c->diags, DIAG_ERROR, it->scale_span, "wrong-kind", "'%s' is %s, not a scale",
                        it->scale, chk_kind_phrase(en->decl->kind));
        } else {
            it->ref = en->decl;
            if (en->decl->dim == DIM_RATIO) {
                diagnostic *r = diag_report(c->diags, DIAG_ERROR, it->scale_span, "unit-mismatch",
                                            "scale '%s' gives percentages, not points", it->scale);
                diag_hint(
                    c->diags, r,
                    "a points scale maps each achievement to points, e.g. [100%%, 150%%) -> 100 .. 150");
            }
        }
    }

    chk_scope base = { 0 };
    base.kind = SCOPE_ROLE;
    base.owner_node = -1;
    base.role = role;
    base.employed = true;

    int kpis = 0;
    bool weights_known = true, plain_weights = false;
    chk_exact sum = { false, false, "", 0 };
    name_set listed;
    name_set_init(c->mem, &listed, (size_t)n);
    for (int i = 0; i < n; i++) {
        ast_role_item *it = &items[i];
        if (it->kind != ROLE_KPI) continue;
        kpis++;
        int j = name_set_add(&listed, it->indicator, i);
        if (j >= 0) {
            diagnostic *r = diag_report(c->diags, DIAG_ERROR, it->indicator_span, "duplicate-kpi",
                                        "role '%s' lists kpi '%s' twice", role->name, it->indicator);
            diag_note(c->diags, r, items[j].indicator_span, "first listed here");
        }
        chk_entry *en = chk_lookup(c, it->indicator);
        if (!en) {
            diagnostic *r = diag_report(c->diags, DIAG_ERROR, it->indicator_span, "undefined-name",
                                        "unknown indicator '%s'", it->indicator);
            chk_hint_closest(c, r, it->indicator, &c->cand_indicators);
        } else if (en->decl->kind != DECL_INDICATOR) {
            diag_report(c->diags, DIAG_ERROR, it->indicator_span, "wrong-kind",
                        "'%s' is %s, not an indicator", it->indicator, chk_kind_phrase(en->decl->kind));
        } else {
            it->ref = en->decl;
            /* a team-wide kpi hands every member the team's total (everyone far above
             * target): only right when the spec says the value is shared */
            if (!en->decl->u.indicator.per_staff && !it->shared) {
                diagnostic *r = diag_report(
                    c->diags, DIAG_WARNING, it->indicator_span, "team-kpi",
                    "kpi '%s' of role '%s' is a team-wide indicator: every member gets the team's value",
                    it->indicator, role->name);
                diag_hint(
                    c->diags, r,
                    "add 'per staff' to indicator '%s' to score each member on their own figures, or write 'kpi %s shared weight …' if the team's value is meant",
                    it->indicator, it->indicator);
            } else if (en->decl->u.indicator.per_staff && it->shared) {
                diagnostic *r = diag_report(
                    c->diags, DIAG_WARNING, it->shared_span, "team-kpi",
                    "kpi '%s' is marked 'shared', but indicator '%s' is per staff: each member is scored on their own value",
                    it->indicator, it->indicator);
                diag_hint(
                    c->diags, r,
                    "drop 'shared', or drop 'per staff' from indicator '%s' if the team's value is meant",
                    it->indicator);
            }
        }

        /* weight: a constant, summed exactly */
        ast_expr *w = it->weight;
        chk_exact v;
        if ((w->kind == EX_PERCENT || w->kind == EX_NUMBER) && chk_exact_literal(c->mem, w, &v)) {
            chk_literal_number(c, w);
            w->type = TYPE_NUM;
            w->dim = w->kind == EX_PERCENT ? DIM_RATIO : DIM_NUMBER;
            plain_weights |= w->kind == EX_NUMBER;
            sum = chk_exact_add(c->mem, sum, v);
        } else {
            chk_expr(c, &base, w);
            diagnostic *r = diag_report(c->diags, DIAG_ERROR, w->span, "weights",
                                        "the weight of kpi '%s' must be a constant percentage, not '%s'",
                                        it->indicator, chk_snippet(c, w->span));
            diag_hint(c->diags, r, "e.g. weight 40%%");
            weights_known = false;
        }

        if (it->target) {
            chk_scope s = base;
            chk_expr(c, &s, it->target);
            ast_expr *t = it->target;
            if (t->type != TYPE_ERROR && t->type != TYPE_NUM) {
                diag_report(c->diags, DIAG_ERROR, t->span, "type-mismatch",
                            "the target of kpi '%s' must be a number, but '%s' is not", it->indicator,
                            chk_snippet(c, t->span));
            } else if (t->type == TYPE_NUM && it->ref) {
                ast_dim want = chk_unit_dim(it->ref->u.indicator.unit);
                if (!chk_dims_fit(chk_dims_of(c, t), want)) {
                    diagnostic *r = diag_report(c->diags, DIAG_ERROR, t->span, "unit-mismatch",
                                                "the target of kpi '%s' is %s, but '%s' is declared %s",
                                                it->indicator, chk_dim_phrase(t->dim), it->indicator,
                                                ast_unit_name(it->ref->u.indicator.unit));
                    static const char *const examples[] = { "10", "1000", "25%", "2", "10", "3", "80" };
                    diag_hint(
                        c->diags, r,
                        "a target has the unit of its indicator (a plain number adapts); e.g. 'target %s %s' checks",
                        it->comparator == CMP_LE ? "<=" : ">=", examples[it->ref->u.indicator.unit]);
                } else if (it->ref->u.indicator.unit == UNIT_PERCENT) {
                    chk_warn_percent_literals(
                        c, &s, t, arena_printf(c->mem, "as the target of percent kpi '%s'", it->indicator));
                }
            }
        }
        if (it->points) {
            chk_scope s = base;
            s.kpi = it;
            chk_expr(c, &s, it->points);
            ast_expr *p = it->points;
            if (p->type != TYPE_ERROR && p->type != TYPE_NUM) {
                diag_report(c->diags, DIAG_ERROR, p->span, "type-mismatch",
                            "the points of kpi '%s' must be a number, but '%s' is not", it->indicator,
                            chk_snippet(c, p->span));
            } else if (p->type == TYPE_NUM &&
                       !(chk_dims_of(c, p) &
                         (CHK_DIM(DIM_NUMBER) | CHK_DIM(DIM_POINTS) | CHK_DIM(DIM_RATIO)))) {
                diagnostic *r = diag_report(c->diags, DIAG_ERROR, p->span, "unit-mismatch",
                                            "the points of kpi '%s' are %s, not points", it->indicator,
                                            chk_dim_name(p->dim));
                diag_hint(c->diags, r,
                          "score the kpi from its achievement, e.g. points min(achievement * 100, 120)");
            }
        }
        if (!it->has_target && !it->points) {
            diagnostic *r = diag_report(c->diags, DIAG_ERROR, it->span, "kpi-incomplete",
                                        "kpi '%s' has neither a target nor its own points", it->indicator);
            diag_hint(c->diags, r, "add 'target >= T' (higher is better) or 'target <= T' (lower is better)");
        } else if (!it->points && !scale_item) {
            diagnostic *r = diag_report(c->diags, DIAG_ERROR, it->span, "kpi-incomplete",
                                        "kpi '%s' has no points: role '%s' has no points scale",
                                        it->indicator, role->name);
            diag_hint(c->diags, r, "add 'points SCALE' to the role, or 'points EXPR' after this kpi");
        }
    }

    for (int i = 0; i < n; i++) {
        ast_role_item *it = &items[i];
        if (it->kind != ROLE_GATE && it->kind != ROLE_BONUS) continue;
        chk_scope s = base;
        s.bonus_gate = true;
        /* the ranking needs every member's score and gates, so only the bonus reads it */
        if (it->kind == ROLE_BONUS && grades && grades->grades) s.grades = grades->grades;
        s.in_gate = it->kind == ROLE_GATE;
        if (it->pool) {
            check_pool_bonus(c, &s, role, it);
            if (s.grades) {
                chk_grade_texts(c, s.grades, it->share);
                chk_grade_texts(c, s.grades, it->cap);
                chk_grade_texts(c, s.grades, it->floor);
            }
            continue;
        }
        chk_expr(c, &s, it->expr);
        ast_expr *e = it->expr;
        if (s.grades) chk_grade_texts(c, s.grades, e);
        if (e->type == TYPE_ERROR) continue;
        if (it->kind == ROLE_GATE) {
            chk_require_bool(c, e, "a gate");
        } else if (e->type != TYPE_NUM || !chk_dims_fit(chk_dims_of(c, e), DIM_MONEY)) {
            diagnostic *r = diag_report(c->diags, DIAG_ERROR, e->span, "unit-mismatch",
                                        "the bonus of role '%s' must be money, but '%s' is %s", role->name,
                                        chk_snippet(c, e->span),
                                        e->type == TYPE_NUM    ? chk_dim_name(e->dim)
                                        : e->type == TYPE_BOOL ? "a condition"
                                        : e->type == TYPE_DATE ? "a date"
                                                               : "text");
            diag_hint(c->diags, r, "%s", bonus_example(c, e));
        }
    }

    /* the role's scale maps achievements, which are percentages (100% is on target) */
    if (scale_item && scale_item->ref && scale_item->ref->kind == DECL_SCALE) {
        bool applied = false;
        for (int i = 0; i < n; i++) applied |= items[i].kind == ROLE_KPI && !items[i].points;
        if (applied)
            chk_warn_percent_scale(c, scale_item->ref,
                                   arena_printf(c->mem, "the achievements of role '%s'", role->name),
                                   scale_item->scale_span);
    }

    if (kpis == 0) {
        diagnostic *r = diag_report(c->diags, DIAG_ERROR, role->name_span, "kpi-count",
                                    "role '%s' has no kpis", role->name);
        diag_hint(c->diags, r, "add 2 to 4 lines such as: kpi new_users weight 50%% target >= 100");
        return;
    }
    if (kpis < 2 || kpis > 4) {
        diagnostic *r = diag_report(c->diags, DIAG_WARNING, role->name_span, "kpi-count",
                                    "role '%s' has %d kpi%s; a role should have 2 to 4", role->name, kpis,
                                    kpis == 1 ? "" : "s");
        (void)r;
    }
    chk_exact hundred;
    chk_exact_parse(c->mem, "100", true, &hundred);
    if (weights_known && chk_exact_cmp(sum, hundred) != 0) {
        diagnostic *r = diag_report(c->diags, DIAG_ERROR, role->name_span, "weights",
                                    "the weights of role '%s' add up to %s%%, not 100%%", role->name,
                                    chk_exact_format(c->mem, sum, 2));
        diag_hint(c->diags, r, "the weights are %s", weight_terms(c, role));
        if (plain_weights) diag_hint(c->diags, r, "a weight without '%%' is a fraction: 0.4 is 40%%");
    }
}

/* ---- the entry point -------------------------------------------------------------- */

chk_model *chk_check(ast_spec *spec)
{
    chk_ctx c;
    memset(&c, 0, sizeof c);
    c.spec = spec;
    c.diags = spec->diags;
    c.mem = &spec->mem;
    c.model = arena_alloc(c.mem, sizeof *c.model);
    c.model->names = arena_alloc(c.mem, sizeof *c.model->names);

    collect(&c);

    if (!c.model->roster) {
        uint32_t file = spec->files.len ? ((ast_file *)spec->files.items[0])->file : DIAG_NO_FILE;
        kp_span start = { file, 0, 0 };
        diagnostic *r = diag_report(c.diags, DIAG_ERROR, start, "roster", "the spec has no staff roster");
        diag_hint(c.diags, r, "declare one: staff \"data/staff.csv\" { id text  role text }");
    }
    for (size_t i = 0; i < spec->decls.len; i++) {
        ast_decl *d = spec->decls.items[i];
        if (d->kind == DECL_SOURCE || d->kind == DECL_STAFF) check_columns(&c, d);
    }
    for (size_t i = 0; i < spec->decls.len; i++) {
        ast_decl *d = spec->decls.items[i];
        if (d->kind == DECL_SOURCE || d->kind == DECL_STAFF) check_key(&c, d);
    }
    for (size_t i = 0; i < c.model->scales.len; i++) chk_scale(&c, c.model->scales.items[i]);
    for (size_t i = 0; i < c.model->grades.len; i++) chk_grades_decl(&c, c.model->grades.items[i]);

    int node = 0;
    for (size_t i = 0; i < spec->decls.len; i++) {
        ast_decl *d = spec->decls.items[i];
        if (d->kind == DECL_INDICATOR) check_indicator(&c, d, node++);
        else if (d->kind == DECL_SET) check_set(&c, d, node++);
    }
    for (size_t i = 0; i < c.model->roles.len; i++) check_role_grain(&c, c.model->roles.items[i]);
    for (size_t i = 0; i < c.model->roles.len; i++) check_role(&c, c.model->roles.items[i]);
    for (size_t i = 0; i < c.model->pools.len; i++) check_pool(&c, c.model->pools.items[i]);
    for (size_t i = 0; i < c.model->pools.len; i++) {
        ast_decl *pool = c.model->pools.items[i];
        check_shared_grain(&c, &pool->u.pool.roles, "pool", pool->name);
    }
    for (size_t i = 0; i < c.model->grades.len; i++) {
        ast_decl *g = c.model->grades.items[i];
        check_shared_grain(&c, &g->u.grades.table->roles, "grades table", g->name);
    }
    for (size_t i = 0; i < c.model->grades.len; i++) chk_grades_unused(&c, c.model->grades.items[i]);

    find_cycles(&c);
    *c.model->names = c.names;
    chk_tests(&c);
    return c.model;
}

/* A period (RANGE false, in OUT->first) or a range of the spec's grain, else of the first
 * role grain it is written in. */
static period_status parse_scored(const chk_model *model, const char *text, size_t len, bool range,
                                  period_range *out, char *msg, size_t msg_size)
{
    period_status st = range ? period_parse_range(text, len, model->grain, out, msg, msg_size)
                             : period_parse(text, len, model->grain, &out->first, msg, msg_size);
    for (size_t i = 0; st == PERIOD_WRONG_GRAIN && i < model->roles.len; i++) {
        ast_grain g = ((const ast_decl *)model->roles.items[i])->u.role.grain;
        if (g == model->grain) continue;
        if ((range ? period_parse_range(text, len, g, out, NULL, 0)
                   : period_parse(text, len, g, &out->first, NULL, 0)) == PERIOD_OK)
            return PERIOD_OK;
    }
    return st;
}

period_status chk_parse_period(const chk_model *model, const char *text, size_t len, period_t *out, char *msg,
                               size_t msg_size)
{
    period_range one;
    period_status st = parse_scored(model, text, len, false, &one, msg, msg_size);
    if (st == PERIOD_OK) *out = one.first;
    return st;
}

period_status chk_parse_period_range(const chk_model *model, const char *text, size_t len, period_range *out,
                                     char *msg, size_t msg_size)
{
    return parse_scored(model, text, len, true, out, msg, msg_size);
}
