/* sql.c — rendering the IR as one SQL statement (sql.h).
 *
 * Three steps. collect: walk the requested indicators (through the indicators they
 * use, and previous()/last_year() as shift sequences such as "p", "y", "pp") to find
 * every interned aggregate and every period it is needed for. group: aggregates of one
 * source over one window form a family (one CTE, one scan); distinct() and sets each
 * get a keys CTE. write: the period and window CTEs with their bounds as literals, the
 * keys and families in dependency order (a set before what tests it), the counts, the
 * roster and the cells, then one SELECT computing every indicator as a column of each
 * cell (vals_1) and the rows, one per cell and indicator.
 *
 * Every value of the spec reaches the SQL through sql_dialect.h; names the statement
 * makes up (agg_1, keys_4, …) are plain ASCII; comments carry only identifiers.
 */
#include "kpic/sql.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SHIFT 8 /* previous()/last_year() nested deeper: rare, refused */
#define MAX_SEQS  64

/* What the statement knows of one interned aggregate. */
typedef struct agg_info {
    bool used;
    bool members;          /* a set that `in SET` (or a distinct's member set) tests */
    int family;            /* COUNT…MAX: its family; -1 for distinct and sets */
    ptr_vec served;        /* const char*: indicator names, in first-use order */
    const char *count_sql; /* distinct and sets: its SELECT in the counts CTE */
    bool emitted;
} agg_info;

/* A window of the spec: its CTE holds every period's bounds. */
typedef struct win {
    ir_window w;
    const char *name; /* periods, window_all_time, window_last_3_months, … */
} win;

typedef struct family {
    const ast_decl *source;
    int win;
    ptr_vec aggs; /* ir_agg* */
    bool per_staff;
    int id;
} family;

/* A join of the final SELECT: a CTE at a shifted period, per staff or in total. */
typedef struct join {
    const char *cte;
    int seq;
    bool staff;
    const char *alias;
} join;

typedef enum mode { M_ROW, M_HAVING, M_VALUE } mode;

/* A count (distinct() or a set) read by a value: its column in counted_at. */
typedef struct count_ref {
    int agg, seq;
    bool staff;
} count_ref;

/* Where an expression is rendered. */
typedef struct rctx {
    mode mode;
    /* M_ROW: the row's source alias t and its window alias w; the `in SET` joins */
    ptr_vec *set_joins; /* const char*: whole LEFT JOIN lines */
    int *set_join_count;
    /* M_VALUE */
    int seq;
    bool staff;            /* the cell is a staff member's (else the total) */
    ptr_vec *joins;        /* join* */
    ptr_vec *period_joins; /* int seq (as intptr) whose periods row is joined */
} rctx;

typedef struct R {
    arena *mem;
    sqld_dialect d;
    const ir_program *p;
    const chk_model *model;
    const sql_options *o;
    diag_sink *diags;
    bool failed;
    bool quiet;          /* a trial rendering (values_tables): fail() reports nothing */
    size_t *chunk_first; /* [chunk_count + 1]: the first indicator of each values CTE */
    size_t chunk_count;
    int cte_count;
    agg_info *info; /* by agg id */
    char seqs[MAX_SEQS][MAX_SHIFT + 1];
    kp_span seq_spans[MAX_SEQS]; /* the shift that first made each sequence */
    bool seq_spanned[MAX_SEQS];
    int seq_count;
    /* the periods the statement returns rows for: the requested ones and those the roles'
     * previous() and last_year() reach, sorted */
    period_t *rows;
    size_t row_count;
    ir_periods all;    /* every period some aggregate is computed for, sorted */
    bool *seq_ok;      /* [requested × seq]: the shifted period exists */
    period_t *shifted; /* [requested × seq] */
    win wins[32];
    int win_count;
    ptr_vec families;    /* family* */
    ptr_vec count_refs;  /* count_ref*: the counts the values CTE being written reads */
    bool *roster_cols;   /* roster columns the formulas read */
    const char *current; /* the indicator being collected */
    FILE *out;
    bool first_cte; /* the next CTE opens the WITH */
    ptr_vec warned; /* ir_node*: products already warned about (expr may render one twice) */
} R;

static diagnostic *fail(R *r, kp_span span, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static diagnostic *fail(R *r, kp_span span, const char *fmt, ...)
{
    if (r->quiet) return NULL;
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    r->failed = true;
    return diag_report(r->diags, DIAG_ERROR, span, "sql", "%s", message);
}

/* Whether N is a literal number (a factor Spark types by its own digits). */
static bool literal_number(const ir_node *n)
{
    while (n && n->kind == IR_NEG) n = n->a;
    return n && (n->kind == IR_NUMBER || n->kind == IR_NULL);
}

/* Spark types a product of DECIMAL(p1,s1) and DECIMAL(p2,s2) as DECIMAL(p1+p2+1, s1+s2)
 * and, past 38 digits, keeps as few as 6 places, silently (docs/decisions.md, *What
 * each SQL dialect computes*): a product of two columns, aggregates or values may be
 * rounded so, depending on the table's types, which kpic cannot see. Said once per
 * product, where it is written. */
static void warn_spark_product(R *r, const ir_node *n)
{
    if (r->quiet || r->d != SQLD_SPARK || literal_number(n->a) || literal_number(n->b)) return;
    for (size_t i = 0; i < r->warned.len; i++)
        if (r->warned.items[i] == n) return;
    ptr_vec_push(r->mem, &r->warned, (void *)n);
    diagnostic *d = diag_report(r->diags, DIAG_WARNING, n->span, "sql-spark-product",
                                "Spark may round this product to 6 decimal places: it keeps every "
                                "place only while its two factors' DECIMAL types have at most 37 "
                                "digits together");
    diag_hint(r->diags, d,
              "give the table's columns the digits they hold (DECIMAL(20,2) times DECIMAL(12,6) is "
              "exact; DECIMAL(38,18) times DECIMAL(38,18), or a count times it, keeps 6 places), or "
              "compare the figures with kpic eval on an export");
}

/* ---- collect ------------------------------------------------------------------------ */

static int seq_index(R *r, const char *seq)
{
    for (int i = 0; i < r->seq_count; i++)
        if (!strcmp(r->seqs[i], seq)) return i;
    if (r->seq_count == MAX_SEQS) return -1;
    strcpy(r->seqs[r->seq_count], seq);
    return r->seq_count++;
}

static void note_agg(R *r, const ir_agg *agg);

typedef struct walk_ctx {
    R *r;
    char seq[MAX_SHIFT + 1];
} walk_ctx;

static void walk(const ir_node *n, void *ctx);

/* `in SET` and member sets inside an aggregate's row expressions. */
static void walk_rows(const ir_node *n, void *ctx)
{
    R *r = ctx;
    if (!n) return;
    if (n->kind == IR_IN_SET && n->u.agg) {
        note_agg(r, n->u.agg);
        r->info[n->u.agg->id].members = true;
    }
    if (n->kind == IR_STAFF_COLUMN) r->roster_cols[n->u.column.index] = true;
    ir_each_child(n, walk_rows, r);
}

static void note_agg(R *r, const ir_agg *agg)
{
    agg_info *in = &r->info[agg->id];
    if (r->current) {
        bool known = false;
        for (size_t i = 0; i < in->served.len && !known; i++)
            known = !strcmp(in->served.items[i], r->current);
        if (!known) ptr_vec_push(r->mem, &in->served, (void *)r->current);
    }
    if (in->used) return;
    in->used = true;
    walk_rows(agg->arg, r);
    walk_rows(agg->where, r);
    walk_rows(agg->having, r);
    for (size_t i = 0; i < agg->slot_count; i++) walk_rows(agg->slots[i], r);
    if (agg->member_set_agg) {
        note_agg(r, agg->member_set_agg);
        r->info[agg->member_set_agg->id].members = true;
    }
}

static void walk(const ir_node *n, void *ctx)
{
    walk_ctx *w = ctx;
    R *r = w->r;
    if (!n) return;
    switch (n->kind) {
    case IR_AGGREGATE:
    case IR_ROWS:
        note_agg(r, n->u.agg);
        if (seq_index(r, w->seq) < 0)
            fail(r, n->span, "too many different previous()/last_year() shifts for one statement");
        return;
    case IR_INDICATOR: {
        walk(ir_indicator(r->p, n->u.decl), w);
        return;
    }
    case IR_STAFF_COLUMN: r->roster_cols[n->u.column.index] = true; return;
    case IR_PREVIOUS:
    case IR_LAST_YEAR: {
        size_t len = strlen(w->seq);
        if (len == MAX_SHIFT) {
            fail(r, n->span, "previous() and last_year() nested more than %d deep", MAX_SHIFT);
            return;
        }
        walk_ctx inner = *w;
        inner.seq[len] = n->kind == IR_PREVIOUS ? 'p' : 'y';
        inner.seq[len + 1] = '\0';
        int at = seq_index(r, inner.seq);
        if (at < 0) fail(r, n->span, "too many different previous()/last_year() shifts for one statement");
        else if (!r->seq_spanned[at]) {
            r->seq_spans[at] = n->span;
            r->seq_spanned[at] = true;
        }
        walk(n->a, &inner);
        return;
    }
    default: ir_each_child(n, walk, w);
    }
}

static bool shift(period_t p, const char *seq, period_t *out)
{
    for (const char *s = seq; *s; s++)
        if (!(*s == 'p' ? period_previous(p, &p) : period_last_year(p, &p))) return false;
    *out = p;
    return true;
}

static bool same_window(const ir_window *a, const ir_window *b)
{
    if (a->kind != b->kind) return false;
    return a->kind != WINDOW_LAST || (a->count == b->count && a->unit == b->unit);
}

static int window_of(R *r, const ir_window *w)
{
    for (int i = 0; i < r->win_count; i++)
        if (same_window(&r->wins[i].w, w)) return i;
    if (r->win_count == (int)(sizeof r->wins / sizeof r->wins[0])) return -1;
    win *x = &r->wins[r->win_count];
    x->w = *w;
    static const char *const units[] = { "days", "weeks", "months" };
    switch (w->kind) {
    case WINDOW_PERIOD: x->name = "periods"; break;
    case WINDOW_ALL_TIME: x->name = "window_all_time"; break;
    case WINDOW_YEAR_TO_DATE: x->name = "window_year_to_date"; break;
    default: x->name = arena_printf(r->mem, "window_last_%lld_%s", (long long)w->count, units[w->unit]);
    }
    return r->win_count++;
}

static int time_column(const ast_decl *src)
{
    for (int i = 0; i < src->u.source.column_count; i++)
        if (src->u.source.columns[i].is_time) return i;
    return -1;
}

static int staff_column(const ast_decl *src)
{
    for (int i = 0; i < src->u.source.column_count; i++)
        if (src->u.source.columns[i].is_staff) return i;
    return -1;
}

static int roster_id_column(const ast_decl *roster)
{
    for (int i = 0; i < roster->u.source.column_count; i++)
        if (!strcmp(roster->u.source.columns[i].name, "id")) return i;
    return 0;
}

/* ---- names and text ------------------------------------------------------------------ */

static const char *q(R *r, const char *name)
{
    const char *s = sqld_ident(r->mem, r->d, name, strlen(name));
    return s ? s : "\"?\"";
}

static const char *table_of(R *r, const ast_decl *src, const char *name)
{
    for (size_t i = 0; i < r->o->table_count; i++)
        if (!strcmp(r->o->tables[i].source, name)) {
            const char *t = sqld_table(r->mem, r->d, r->o->tables[i].table);
            if (!t)
                fail(r, src->name_span,
                     "--table %s=%s: a table name is NAME or SCHEMA.NAME, with no empty part", name,
                     r->o->tables[i].table);
            return t ? t : "x";
        }
    return q(r, name);
}

static const char *col(R *r, const char *alias, const ast_decl *src, int index)
{
    const char *ref = arena_printf(r->mem, "%s.%s", alias, q(r, src->u.source.columns[index].name));
    /* a text column keeps its table's collation, which on MySQL/MariaDB ignores case or
     * trailing spaces: compared and grouped byte for byte, as in kpic, it is read as a
     * binary string (sqld_cast) */
    if (r->d == SQLD_MYSQL && src->u.source.columns[index].type == COLTYPE_TEXT)
        return sqld_cast(r->mem, r->d, ref, SQLD_TEXT);
    if (src->u.source.columns[index].type == COLTYPE_INT) return sqld_int_column(r->mem, r->d, ref);
    return ref;
}

/* ---- expressions ------------------------------------------------------------------------ */

static const char *expr(R *r, rctx *c, const ir_node *n);
static const char *member_hash_match(R *r, const char *alias, const char *key);
static const char *agg_cte(R *r, const ir_agg *agg);

/* Whether the values read the distinct() and set counts through one join of them for
 * every shift (counted_at) rather than one join per shift. MariaDB computes a CTE again
 * for every join of it; Spark inlines every CTE at each reference, so the counts (the
 * union of every keys CTE) were analysed, optimised and planned once per shift: the
 * example's month took three times as long. PostgreSQL keeps a CTE's rows, and there a
 * join on a list of periods is slower than one join per shift. */
static bool counts_joined_once(sqld_dialect d)
{
    return d == SQLD_MYSQL || d == SQLD_SPARK;
}

static const char *bin(R *r, rctx *c, const ir_node *n, const char *op)
{
    return arena_printf(r->mem, "(%s %s %s)", expr(r, c, n->a), op, expr(r, c, n->b));
}

/* The alias of the periods row of the context: w in rows and having, a joined copy of
 * the periods CTE per shift in values. */
static const char *period_alias(R *r, rctx *c)
{
    if (c->mode != M_VALUE) return "w";
    bool known = false;
    for (size_t i = 0; i < c->period_joins->len && !known; i++)
        known = (intptr_t)c->period_joins->items[i] == c->seq;
    if (!known) ptr_vec_push(r->mem, c->period_joins, (void *)(intptr_t)c->seq);
    return arena_printf(r->mem, "q%d", c->seq);
}

static const char *value_join(R *r, rctx *c, const ir_agg *agg, bool staff)
{
    const char *cte = agg_cte(r, agg);
    for (size_t i = 0; i < c->joins->len; i++) {
        join *j = c->joins->items[i];
        if (!strcmp(j->cte, cte) && j->seq == c->seq && j->staff == staff) return j->alias;
    }
    join *j = arena_alloc(r->mem, sizeof *j);
    j->cte = cte;
    j->seq = c->seq;
    j->staff = staff;
    j->alias = arena_printf(r->mem, "j%zu", c->joins->len + 1);
    ptr_vec_push(r->mem, c->joins, j);
    return j->alias;
}

static const char *scale_expr(R *r, rctx *c, const ir_node *n)
{
    const ir_scale *s = ir_scale_of(r->p, n->u.decl);
    const char *x = expr(r, c, n->a);
    if (!s) return "NULL";
    char *out = arena_printf(r->mem, "CASE");
    for (int i = 0; i < s->row_count; i++) {
        const ir_scale_row *row = &s->rows[i];
        const char *cond = "1 = 1";
        if (!row->lo_inf || row->lo_inf > 0)
            cond = arena_printf(r->mem, "%s %s %s", x, row->lo_closed ? ">=" : ">",
                                sqld_number(r->mem, r->d, row->lo));
        if (!row->hi_inf || row->hi_inf < 0)
            cond = arena_printf(r->mem, "%s AND %s %s %s", cond, x, row->hi_closed ? "<=" : "<",
                                sqld_number(r->mem, r->d, row->hi));
        const char *v = sqld_number(r->mem, r->d, row->from);
        if (row->linear) {
            dec_t rise, run;
            dec_sub(row->to, row->from, &rise);
            dec_sub(row->hi, row->lo, &run);
            const char *num = arena_printf(r->mem, "(%s - %s) * %s", x, sqld_number(r->mem, r->d, row->lo),
                                           sqld_number(r->mem, r->d, rise));
            v = arena_printf(r->mem, "(%s + %s)", v,
                             sqld_divide(r->mem, r->d, num, sqld_number(r->mem, r->d, run)));
        }
        out = arena_printf(r->mem, "%s WHEN %s THEN %s", out, cond, v);
    }
    return arena_printf(r->mem, "(%s END)", out);
}

/* The places after the point that every value of row expression N can have, when its
 * form says (a money column 2, an int 0, a literal its own, a product the sum of its
 * factors'); -1 when it does not (a number column, a quotient). */
static int row_places(const ir_node *n)
{
    if (!n) return -1;
    switch (n->kind) {
    case IR_COLUMN: return n->u.column.type == COLTYPE_MONEY ? 2 : n->u.column.type == COLTYPE_INT ? 0 : -1;
    case IR_NUMBER: {
        char text[DEC_FORMAT_SIZE];
        dec_format_trimmed(n->u.number, DEC_PLACES, text, sizeof text);
        const char *point = strchr(text, '.');
        return point ? (int)strlen(point + 1) : 0;
    }
    case IR_NULL: return 0;
    case IR_NEG:
    case IR_ABS: return row_places(n->a);
    case IR_ROUND: {
        int a = row_places(n->a);
        return a >= 0 && a < (int)n->u.places ? a : (int)n->u.places;
    }
    case IR_ADD:
    case IR_SUB:
    case IR_MIN:
    case IR_MAX:
    case IR_COALESCE:
    case IR_MUL: {
        int a = row_places(n->a), b = row_places(n->b);
        if (a < 0 || b < 0) return -1;
        if (n->kind == IR_MUL) return a + b;
        return a > b ? a : b;
    }
    case IR_IF: {
        int b = row_places(n->b), c = row_places(n->c);
        return b < 0 || c < 0 ? -1 : b > c ? b : c;
    }
    default: return -1;
    }
}

/* The aggregate over a group's rows of a slot inside `having`, or of a family member:
 * KIND over ARG where WHERE holds. */
static const char *aggregate_sql(R *r, rctx *c, ir_agg_kind kind, const ir_node *arg, const ir_node *where)
{
    const char *cond = where ? expr(r, c, where) : NULL;
    if (kind == IR_AGG_COUNT)
        return cond ? arena_printf(r->mem, "COUNT(CASE WHEN %s THEN 1 END)", cond) : "COUNT(*)";
    const char *x = expr(r, c, arg);
    if (cond) x = arena_printf(r->mem, "CASE WHEN %s THEN %s END", cond, x);
    switch (kind) {
    case IR_AGG_SUM:
        return arg->dim == DIM_MONEY ? sqld_sum_money(r->mem, r->d, x, row_places(arg))
                                     : arena_printf(r->mem, "SUM(%s)", x);
    case IR_AGG_AVG: {
        /* the sum divided by the count, as kpic computes it: an engine's AVG keeps places of
         * its own (PostgreSQL 16 significant digits) */
        const char *sum = arg->dim == DIM_MONEY ? sqld_sum_money(r->mem, r->d, x, row_places(arg))
                                                : arena_printf(r->mem, "SUM(%s)", x);
        return sqld_divide(r->mem, r->d, sum, arena_printf(r->mem, "COUNT(%s)", x));
    }
    case IR_AGG_MIN: return arena_printf(r->mem, "MIN(%s)", x);
    default: return arena_printf(r->mem, "MAX(%s)", x);
    }
}

static const char *expr(R *r, rctx *c, const ir_node *n)
{
    if (!n) return "NULL";
    arena *m = r->mem;
    switch (n->kind) {
    case IR_NUMBER: return sqld_number(m, r->d, n->u.number);
    case IR_DATE: return sqld_date(m, r->d, n->u.date);
    case IR_BOOL: return sqld_bool(m, r->d, n->u.boolean);
    case IR_NULL: return "NULL";
    case IR_TEXT: {
        const char *s = sqld_string(m, r->d, n->u.text.text, n->u.text.text_len);
        if (!s) fail(r, n->span, "%s SQL cannot hold this text: it has a NUL character", sqld_name(r->d));
        return s ? s : "NULL";
    }
    case IR_COLUMN:
        if (c->mode != M_ROW) break;
        return col(r, "t", n->u.column.source, n->u.column.index);
    case IR_STAFF_COLUMN:
        if (c->mode != M_VALUE) break;
        return arena_printf(m, "c.rc_%d", n->u.column.index);
    case IR_PERIOD_START: return arena_printf(m, "%s.p_start", period_alias(r, c));
    case IR_PERIOD_END: return arena_printf(m, "%s.p_end", period_alias(r, c));
    case IR_INDICATOR: {
        if (c->mode != M_VALUE) break;
        rctx inner = *c;
        if (!n->u.decl->u.indicator.per_staff) inner.staff = false;
        return arena_printf(m, "(%s)", expr(r, &inner, ir_indicator(r->p, n->u.decl)));
    }
    case IR_AGGREGATE: {
        if (c->mode != M_VALUE) break;
        const ir_agg *agg = n->u.agg;
        bool staff = c->staff && n->per_staff && agg->per_staff;
        const char *ref;
        if (r->info[agg->id].family >= 0) {
            ref = arena_printf(m, "%s.a%d", value_join(r, c, agg, staff), agg->id);
        } else if (!counts_joined_once(r->d)) {
            ref = arena_printf(m, "%s.n%d", value_join(r, c, agg, staff), agg->id);
        } else {
            /* through counted_at, which joins the counts once for every shift */
            bool known = false;
            for (size_t i = 0; i < r->count_refs.len && !known; i++) {
                const count_ref *x = r->count_refs.items[i];
                known = x->agg == agg->id && x->seq == c->seq && x->staff == staff;
            }
            if (!known) {
                count_ref *x = arena_alloc(m, sizeof *x);
                *x = (count_ref){ agg->id, c->seq, staff };
                ptr_vec_push(m, &r->count_refs, x);
            }
            ref = arena_printf(m, "ca.n%d_%d%c", agg->id, c->seq, staff ? 's' : 't');
        }
        bool zero = agg->kind == IR_AGG_COUNT || agg->kind == IR_AGG_SUM || agg->kind == IR_AGG_DISTINCT ||
                    agg->kind == IR_AGG_SET;
        return zero ? arena_printf(m, "COALESCE(%s, 0)", ref) : ref;
    }
    case IR_GROUP_AGGREGATE:
        if (c->mode != M_HAVING) break;
        return arena_printf(m, "k.s%d", n->u.group.slot);
    case IR_NEG: return arena_printf(m, "(- %s)", expr(r, c, n->a));
    case IR_NOT: return arena_printf(m, "(NOT %s)", expr(r, c, n->a));
    case IR_ADD: return bin(r, c, n, "+");
    case IR_SUB: return bin(r, c, n, "-");
    case IR_MUL: warn_spark_product(r, n); return sqld_multiply(m, r->d, expr(r, c, n->a), expr(r, c, n->b));
    case IR_DIV: return sqld_divide(m, r->d, expr(r, c, n->a), expr(r, c, n->b));
    case IR_EQ: return bin(r, c, n, "=");
    case IR_NE: return bin(r, c, n, "<>");
    case IR_LT: return bin(r, c, n, "<");
    case IR_LE: return bin(r, c, n, "<=");
    case IR_GT: return bin(r, c, n, ">");
    case IR_GE: return bin(r, c, n, ">=");
    case IR_AND: return bin(r, c, n, "AND");
    case IR_OR: return bin(r, c, n, "OR");
    case IR_IF:
        return arena_printf(m, "(CASE WHEN %s THEN %s ELSE %s END)", expr(r, c, n->a), expr(r, c, n->b),
                            expr(r, c, n->c));
    case IR_IN_LIST: {
        char *items = "";
        for (size_t i = 0; i < n->item_count; i++)
            items = arena_printf(m, "%s%s%s", items, i ? ", " : "", expr(r, c, n->items[i]));
        return arena_printf(m, "(%s IN (%s))", expr(r, c, n->a), items);
    }
    case IR_IN_SET: {
        if (c->mode != M_ROW) break;
        const char *x = expr(r, c, n->a);
        const char *alias = arena_printf(m, "m%d", ++*c->set_join_count);
        ptr_vec_push(
            m, c->set_joins,
            (void *)arena_printf(m, "LEFT JOIN members_%d %s ON %s.period = w.period AND %s%s.k = %s",
                                 n->u.agg->id, alias, alias, member_hash_match(r, alias, x), alias, x));
        return arena_printf(m, "(CASE WHEN %s IS NULL THEN NULL ELSE %s.k IS NOT NULL END)", x, alias);
    }
    case IR_IN_PERIOD: {
        const char *x = expr(r, c, n->a), *w = period_alias(r, c);
        return arena_printf(m, "(%s >= %s.p_start AND %s < %s.p_end)", x, w, x, w);
    }
    case IR_IN_PREVIOUS_PERIOD: {
        const char *x = expr(r, c, n->a), *w = period_alias(r, c);
        return arena_printf(m, "(%s >= %s.prev_start AND %s < %s.p_start)", x, w, x, w);
    }
    case IR_BEFORE_PERIOD: return arena_printf(m, "(%s < %s.p_start)", expr(r, c, n->a), period_alias(r, c));
    case IR_ABS: return arena_printf(m, "ABS(%s)", expr(r, c, n->a));
    case IR_ROUND:
        /* on the exact decimal, where half away from zero is exact (a DOUBLE 2.675 is
         * 2.67499…) */
        return arena_printf(m, "ROUND(%s, %u)", sqld_cast(m, r->d, expr(r, c, n->a), SQLD_EXACT),
                            n->u.places);
    case IR_DAYS: return sqld_days_between(m, r->d, expr(r, c, n->a), expr(r, c, n->b));
    case IR_MIN:
    case IR_MAX: {
        const char *a = expr(r, c, n->a), *b = expr(r, c, n->b);
        return arena_printf(
            m, "(CASE WHEN %s IS NULL OR %s IS NULL THEN NULL WHEN %s %s %s THEN %s ELSE %s END)", a, b, a,
            n->kind == IR_MIN ? "<=" : ">=", b, a, b);
    }
    case IR_SCALE: return scale_expr(r, c, n);
    case IR_COALESCE: return arena_printf(m, "COALESCE(%s, %s)", expr(r, c, n->a), expr(r, c, n->b));
    case IR_PREVIOUS:
    case IR_LAST_YEAR: {
        if (c->mode != M_VALUE) break;
        rctx inner = *c;
        char seq[MAX_SHIFT + 2];
        snprintf(seq, sizeof seq, "%s%c", r->seqs[c->seq], n->kind == IR_PREVIOUS ? 'p' : 'y');
        inner.seq = seq_index(r, seq);
        return expr(r, &inner, n->a);
    }
    default: break;
    }
    fail(r, n->span, "%s SQL cannot compute this here (%s)", sqld_name(r->d), ir_kind_name(n->kind));
    return "NULL";
}

/* ---- CTEs ----------------------------------------------------------------------------- */

/* MariaDB indexes the temporary table of a CTE it joins on equal columns, but not on
 * TEXT ones (ids are TEXT): every row of a source was compared with every member of a
 * set, minutes for the example. A members CTE there carries the MD5 of its key, which
 * MariaDB can index; the key itself is still compared, so the hash only finds the row. */
static const char *member_hash_column(R *r, const char *key)
{
    return r->d == SQLD_MYSQL ? arena_printf(r->mem, ", MD5(%s) AS kh", key) : "";
}

static const char *member_hash_match(R *r, const char *alias, const char *key)
{
    return r->d == SQLD_MYSQL ? arena_printf(r->mem, "%s.kh = MD5(%s) AND ", alias, key) : "";
}

static const char *agg_cte(R *r, const ir_agg *agg)
{
    agg_info *in = &r->info[agg->id];
    if (in->family >= 0) return arena_printf(r->mem, "agg_%d", in->family + 1);
    return "counted";
}

static void put_served(R *r, const agg_info *in)
{
    for (size_t i = 0; i < in->served.len; i++)
        fprintf(r->out, "%s%s", i ? ", " : "", (const char *)in->served.items[i]);
    if (!in->served.len) fputs("sets", r->out);
}

/* FROM w JOIN source t ON the window's bounds (a static source: every row in every
 * period), then the `in SET` joins. */
static void put_from(R *r, const ast_decl *src, int win_index, ptr_vec *set_joins)
{
    int tc = time_column(src);
    const char *table = table_of(r, src, src->name);
    if (tc < 0) {
        fprintf(r->out, "  FROM %s w CROSS JOIN %s t\n", r->wins[win_index].name, table);
    } else {
        const char *tcol = col(r, "t", src, tc);
        fprintf(r->out, "  FROM %s w JOIN %s t ON %s >= w.lo AND %s < w.hi\n", r->wins[win_index].name, table,
                tcol, tcol);
    }
    for (size_t i = 0; i < set_joins->len; i++) fprintf(r->out, "  %s\n", (const char *)set_joins->items[i]);
}

/* The staff member a row counts for, as text (ids are matched by their digits). */
static const char *staff_expr(R *r, const ast_decl *src)
{
    int sc = staff_column(src);
    return sqld_cast(r->mem, r->d, sc >= 0 ? col(r, "t", src, sc) : "NULL", SQLD_TEXT);
}

/* SELECT … GROUP BY, per staff member and in total: GROUPING SETS or UNION ALL. SELECT
 * is the list after the grouping columns; KEYS a grouping column after the staff
 * member (the key of a distinct), or NULL. */
static void put_grouped(R *r, const ast_decl *src, int win_index, bool per_staff, const char *select,
                        const char *key, const char *where, ptr_vec *set_joins)
{
    const char *staff = staff_expr(r, src);
    const char *null_staff = sqld_cast(r->mem, r->d, "NULL", SQLD_TEXT);
    const char *keycol = key ? arena_printf(r->mem, ", %s", key) : "";
    if (per_staff && sqld_has_grouping_sets(r->d)) {
        fprintf(r->out, "  SELECT w.period, %s AS staff_id, GROUPING(%s) AS total%s%s\n", staff, staff,
                key ? arena_printf(r->mem, ", %s AS k", key) : "", select);
        put_from(r, src, win_index, set_joins);
        if (where) fprintf(r->out, "  WHERE %s\n", where);
        fprintf(r->out, "  GROUP BY GROUPING SETS ((w.period, %s%s), (w.period%s))\n", staff, keycol, keycol);
        return;
    }
    if (per_staff) {
        fprintf(r->out, "  SELECT w.period, %s AS staff_id, 0 AS total%s%s\n", staff,
                key ? arena_printf(r->mem, ", %s AS k", key) : "", select);
        put_from(r, src, win_index, set_joins);
        if (where) fprintf(r->out, "  WHERE %s\n", where);
        fprintf(r->out, "  GROUP BY w.period, %s%s\n  UNION ALL\n", staff, keycol);
    }
    fprintf(r->out, "  SELECT w.period, %s AS staff_id, 1 AS total%s%s\n", null_staff,
            key ? arena_printf(r->mem, ", %s AS k", key) : "", select);
    put_from(r, src, win_index, set_joins);
    if (where) fprintf(r->out, "  WHERE %s\n", where);
    fprintf(r->out, "  GROUP BY w.period%s\n", keycol);
}

static void emit_agg(R *r, const ir_agg *agg);

/* Sets tested inside E's rows come first. */
static void emit_deps(const ir_node *n, void *ctx)
{
    R *r = ctx;
    if (!n) return;
    if (n->kind == IR_IN_SET && n->u.agg) emit_agg(r, n->u.agg);
    ir_each_child(n, emit_deps, r);
}

static void emit_agg_deps(R *r, const ir_agg *agg)
{
    emit_deps(agg->arg, r);
    emit_deps(agg->where, r);
    emit_deps(agg->having, r);
    for (size_t i = 0; i < agg->slot_count; i++) emit_deps(agg->slots[i], r);
    if (agg->member_set_agg) emit_agg(r, agg->member_set_agg);
}

/* Where the statement is now: the start or end of a region. */
static long mark(R *r)
{
    return ftell(r->out);
}

/* Records that the statement from START to here is DECL's SQL, reading SOURCE's table
 * (sql_options.regions). */
static void region(R *r, long start, const ast_decl *decl, const ast_decl *source)
{
    sql_regions *rs = r->o->regions;
    long end = ftell(r->out);
    if (!rs || !decl || start < 0 || end <= start) return;
    if (rs->count == rs->cap) {
        rs->cap = rs->cap ? 2 * rs->cap : 16;
        rs->items = xrealloc(rs->items, rs->cap * sizeof *rs->items);
    }
    rs->items[rs->count++] = (sql_region){ (size_t)start, (size_t)end, decl, source };
}

void sql_regions_free(sql_regions *regions)
{
    if (!regions) return;
    free(regions->items);
    regions->items = NULL;
    regions->count = regions->cap = 0;
}

/* One more CTE, whose SQL SPAN (when known, else the first requested indicator) asks
 * for: an error at the first one past the dialect's limit. */
static void count_cte(R *r, const kp_span *span)
{
    int limit = sqld_max_ctes(r->d);
    if (!limit || ++r->cte_count != limit + 1) return;
    diagnostic *d =
        fail(r, span ? *span : r->o->indicators[0]->name_span,
             "%s allows at most %d CTEs in one WITH (MariaDB); this statement needs more: one per "
             "window, per source and window, per distinct() or set with having or tested by in, "
             "and per 500 indicators",
             sqld_name(r->d), limit);
    diag_hint(r->diags, d,
              "ask for fewer indicators at a time (--indicator), or generate the SQL for another dialect");
}

static const kp_span *agg_span(const ir_agg *agg)
{
    if (agg->syntax) return &agg->syntax->span;
    return agg->set ? &agg->set->name_span : NULL;
}

static void cte_start(R *r, const char *name)
{
    count_cte(r, NULL);
    fprintf(r->out, "%s%s AS (\n", r->first_cte ? "WITH " : ",\n", name);
    r->first_cte = false;
}

/* A distinct() or a set: its keys per period (and staff member) with the having
 * slots, the count of those that pass, and (when tested) the members. */
static void emit_keyed(R *r, const ir_agg *agg)
{
    agg_info *in = &r->info[agg->id];
    ptr_vec joins = { 0 };
    int join_count = 0;
    rctx c = { M_ROW, &joins, &join_count, 0, false, NULL, NULL };
    const char *key = expr(r, &c, agg->arg);
    const char *where = arena_printf(r->mem, "%s IS NOT NULL", key);
    if (agg->where) where = arena_printf(r->mem, "%s AND %s", where, expr(r, &c, agg->where));
    if (agg->member_set_agg) {
        const char *alias = arena_printf(r->mem, "m%d", ++join_count);
        ptr_vec_push(r->mem, &joins,
                     (void *)arena_printf(r->mem,
                                          "JOIN members_%d %s ON %s.period = w.period AND %s%s.k = %s",
                                          agg->member_set_agg->id, alias, alias,
                                          member_hash_match(r, alias, key), alias, key));
    }
    int wi = window_of(r, &agg->window);
    FILE *saved = r->out;
    char *served = NULL;
    size_t served_len = 0;
    r->out = xopen_memstream(&served, &served_len);
    put_served(r, in);
    xclose_memstream(r->out);
    r->out = saved;
    const char *what = agg->set ? arena_printf(r->mem, "set %s", agg->set->name) : "distinct()";
    char *branch = NULL;
    size_t branch_len = 0;
    if (!agg->having) {
        /* no having: the count of distinct keys, in one grouping; no derived table
         * (MariaDB 10.11 loses the temporary table of a derived table inside a CTE that
         * joins another CTE) */
        r->out = xopen_memstream(&branch, &branch_len);
        put_grouped(r, agg->source, wi, agg->per_staff,
                    arena_printf(r->mem, ", COUNT(DISTINCT %s) AS n, %d AS agg", key, agg->id), NULL, where,
                    &joins);
        xclose_memstream(r->out);
        r->out = saved;
        in->count_sql = arena_printf(r->mem, "  -- %s: %s\n%s", what, served, branch);
        if (in->members) {
            long start = mark(r);
            count_cte(r, agg_span(agg));
            fprintf(r->out, ",\n-- the members of %s: %s\nmembers_%d AS (\n  SELECT w.period, %s AS k%s\n",
                    what, served, agg->id, key, member_hash_column(r, key));
            put_from(r, agg->source, wi, &joins);
            fprintf(r->out, "  WHERE %s\n  GROUP BY w.period, %s\n)", where, key);
            region(r, start, agg->set ? agg->set : agg->source, agg->source);
        }
    } else {
        char *slots = "";
        for (size_t i = 0; i < agg->slot_count; i++) {
            const ir_node *sl = agg->slots[i];
            const char *slot = aggregate_sql(r, &c, sl->u.group.kind, sl->u.group.arg, sl->u.group.where);
            /* a group's sum of values that are all null is 0 in kpic, NULL in SQL */
            if (sl->u.group.kind == IR_AGG_SUM) slot = arena_printf(r->mem, "COALESCE(%s, 0)", slot);
            slots = arena_printf(r->mem, "%s,\n    %s AS s%zu", slots, slot, i);
        }
        long start = mark(r);
        count_cte(r, agg_span(agg));
        fprintf(r->out, ",\n-- the keys of %s, with what its having reads: %s\nkeys_%d AS (\n", what, served,
                agg->id);
        put_grouped(r, agg->source, wi, agg->per_staff, slots, key, where, &joins);
        fputs(")", r->out);
        region(r, start, agg->set ? agg->set : agg->source, agg->source);
        rctx h = { M_HAVING, NULL, NULL, 0, false, NULL, NULL };
        const char *having = expr(r, &h, agg->having);
        in->count_sql =
            arena_printf(r->mem,
                         "  -- %s: %s\n  SELECT k.period, k.staff_id, k.total, COUNT(*) AS n, %d AS agg\n"
                         "  FROM keys_%d k JOIN periods w ON w.period = k.period\n  WHERE %s\n"
                         "  GROUP BY k.period, k.staff_id, k.total\n",
                         what, served, agg->id, agg->id, having);
        if (in->members) {
            start = mark(r);
            /* DISTINCT changes no row (a key is once per period in the total) but keeps
             * MariaDB from merging the CTE into the query that joins it, where the join
             * had no index */
            count_cte(r, agg_span(agg));
            fprintf(r->out,
                    ",\n-- the members of %s: %s\nmembers_%d AS (\n  SELECT %sk.period, k.k%s\n"
                    "  FROM keys_%d k JOIN periods w ON w.period = k.period\n  WHERE k.total = 1 AND %s\n)",
                    what, served, agg->id, r->d == SQLD_MYSQL ? "DISTINCT " : "",
                    member_hash_column(r, "k.k"), agg->id, having);
            region(r, start, agg->set ? agg->set : agg->source, agg->source);
        }
    }
    free(branch);
    free(served);
}

static void emit_agg(R *r, const ir_agg *agg)
{
    agg_info *in = &r->info[agg->id];
    if (in->emitted || in->family >= 0) return;
    in->emitted = true;
    emit_agg_deps(r, agg);
    emit_keyed(r, agg);
}

static void emit_family(R *r, family *f)
{
    ptr_vec joins = { 0 };
    int join_count = 0;
    rctx c = { M_ROW, &joins, &join_count, 0, false, NULL, NULL };
    char *select = "";
    for (size_t i = 0; i < f->aggs.len; i++) {
        const ir_agg *agg = f->aggs.items[i];
        select = arena_printf(r->mem, "%s,\n    %s AS a%d", select,
                              aggregate_sql(r, &c, agg->kind, agg->arg, agg->where), agg->id);
    }
    long start = mark(r);
    fprintf(r->out, ",\n-- %s", f->source->name);
    const win *w = &r->wins[f->win];
    if (w->w.kind != WINDOW_PERIOD) fprintf(r->out, " over %s", w->name + strlen("window_"));
    fputs(": ", r->out);
    bool any = false;
    for (size_t i = 0; i < f->aggs.len; i++) {
        const agg_info *in = &r->info[((const ir_agg *)f->aggs.items[i])->id];
        for (size_t k = 0; k < in->served.len; k++) {
            bool seen = false;
            for (size_t j = 0; j < i && !seen; j++) {
                const agg_info *prev = &r->info[((const ir_agg *)f->aggs.items[j])->id];
                for (size_t l = 0; l < prev->served.len && !seen; l++)
                    seen = !strcmp(prev->served.items[l], in->served.items[k]);
            }
            for (size_t l = 0; l < k && !seen; l++) seen = !strcmp(in->served.items[l], in->served.items[k]);
            if (seen) continue;
            fprintf(r->out, "%s%s", any ? ", " : "", (const char *)in->served.items[k]);
            any = true;
        }
    }
    count_cte(r, agg_span(f->aggs.items[0]));
    fprintf(r->out, "\nagg_%d AS (\n", f->id + 1);
    put_grouped(r, f->source, f->win, f->per_staff, select, NULL, NULL, &joins);
    fputs(")", r->out);
    region(r, start, f->source, f->source);
}

/* Row I of a table of constant rows with columns NAMES: a SELECT of VALUES AS NAMES, one
 * UNION ALL per row; on Spark one inline VALUES table (const_rows_end names its
 * columns), since Spark inlines a CTE at every reference and plans each UNION ALL
 * branch anew there: the periods of twelve months, under every window that joins them,
 * were hundreds of plan nodes. */
static void const_row(R *r, size_t i, size_t ncols, const char *const *names, const char *const *values)
{
    if (r->d == SQLD_SPARK) {
        fprintf(r->out, i ? "    , (" : "  SELECT * FROM VALUES\n      (");
        for (size_t c = 0; c < ncols; c++) fprintf(r->out, "%s%s", c ? ", " : "", values[c]);
        fputs(")\n", r->out);
        return;
    }
    fprintf(r->out, "  %sSELECT ", i ? "UNION ALL " : "");
    for (size_t c = 0; c < ncols; c++) fprintf(r->out, "%s%s AS %s", c ? ", " : "", values[c], names[c]);
    fputc('\n', r->out);
}

static void const_rows_end(R *r, size_t ncols, const char *const *names)
{
    if (r->d != SQLD_SPARK) return;
    fputs("    AS t(", r->out);
    for (size_t c = 0; c < ncols; c++) fprintf(r->out, "%s%s", c ? ", " : "", names[c]);
    fputs(")\n", r->out);
}

/* Every period's bounds under window W. */
static void emit_window(R *r, const win *w)
{
    static const char *const names[] = { "period", "lo", "hi", "p_start", "p_end", "prev_start" };
    cte_start(r, w->name);
    for (size_t i = 0; i < r->all.count; i++) {
        period_t p = r->all.items[i], prev;
        period_interval iv;
        period_window(p, w->w.syntax, &iv);
        char label[PERIOD_LABEL_SIZE];
        period_format(p, label, sizeof label);
        date_t prev_start = period_previous(p, &prev) ? prev.start : p.start;
        const char *values[] = { arena_printf(r->mem, "'%s'", label), sqld_date(r->mem, r->d, iv.from),
                                 sqld_date(r->mem, r->d, iv.to),      sqld_date(r->mem, r->d, p.start),
                                 sqld_date(r->mem, r->d, p.end),      sqld_date(r->mem, r->d, prev_start) };
        const_row(r, i, 6, names, values);
    }
    const_rows_end(r, 6, names);
    fputs(")", r->out);
}

/* ---- the final SELECTs ------------------------------------------------------------------- */

/* At most this many indicators are columns of one values CTE: engines limit a SELECT's
 * columns (PostgreSQL 1664, sqlite 2000). */
#define VALUES_PER_CTE 500

/* The values of indicators FIRST … FIRST + COUNT − 1 as columns of ONE SELECT over the
 * cells, which joins each CTE once per shift and grouping (MariaDB computes a CTE again
 * for every reference, so one SELECT per indicator would scan every source once per
 * indicator), then one row per indicator and cell. */
static void emit_values(R *r, size_t first, size_t count, int chunk)
{
    ptr_vec joins = { 0 }, period_joins = { 0 };
    const char **values = arena_alloc(r->mem, count * sizeof *values);
    for (size_t i = 0; i < count; i++) {
        const ast_decl *ind = r->o->indicators[first + i];
        rctx c = { M_VALUE, NULL, NULL, seq_index(r, ""), ind->u.indicator.per_staff, &joins, &period_joins };
        /* every value, ratios too, as kpic's exact decimal with 18 places: the text is then
         * the same in every engine that has the type, and read back it is kpic's own value
         * where the engine divides exactly */
        values[i] = sqld_cast(r->mem, r->d, expr(r, &c, ir_indicator(r->p, ind)), SQLD_EXACT);
    }
    if (r->count_refs.len) {
        /* MariaDB and Spark: every count the values read, at every shift, as columns of
         * one row per cell, so that the counts are joined once (counts_joined_once) */
        cte_start(r, arena_printf(r->mem, "counted_at_%d", chunk));
        fputs("  SELECT c.period, c.staff_id, c.is_total", r->out);
        for (size_t i = 0; i < r->count_refs.len; i++) {
            const count_ref *x = r->count_refs.items[i];
            const char *at = r->seqs[x->seq][0] ? r->seqs[x->seq] : "0";
            fprintf(r->out, ",\n    MAX(CASE WHEN j.period = c.period_%s AND %s THEN j.n%d END) AS n%d_%d%c",
                    at,
                    x->staff ? "j.total = c.is_total AND (c.is_total = 1 OR j.staff_id = c.staff_id)"
                             : "j.total = 1",
                    x->agg, x->agg, x->seq, x->staff ? 's' : 't');
        }
        fputs("\n  FROM cells c\n  LEFT JOIN counted j ON j.period IN (", r->out);
        bool any = false;
        for (int s = 0; s < r->seq_count; s++) {
            bool used = false;
            for (size_t i = 0; i < r->count_refs.len && !used; i++)
                used = ((const count_ref *)r->count_refs.items[i])->seq == s;
            if (!used) continue;
            fprintf(r->out, "%sc.period_%s", any ? ", " : "", r->seqs[s][0] ? r->seqs[s] : "0");
            any = true;
        }
        fputs(")\n  GROUP BY c.period, c.staff_id, c.is_total\n)", r->out);
    }
    const char *cte = arena_printf(r->mem, "vals_%d", chunk);
    cte_start(r, cte);
    fputs("  SELECT c.period, c.staff_id, c.is_total", r->out);
    for (size_t i = 0; i < count; i++) {
        const ast_decl *ind = r->o->indicators[first + i];
        long start = mark(r);
        fprintf(r->out, ",\n    -- %s (%s%s)\n    %s AS v%zu", ind->name,
                ast_unit_name(ind->u.indicator.unit),
                ind->u.indicator.per_staff ? ", per staff" : ", team-wide", values[i], i);
        region(r, start, ind, NULL);
    }
    fputs("\n  FROM cells c\n", r->out);
    if (r->count_refs.len)
        fprintf(r->out,
                "  LEFT JOIN counted_at_%d ca ON ca.period = c.period AND ca.is_total = c.is_total AND "
                "(c.is_total = 1 OR ca.staff_id = c.staff_id)\n",
                chunk);
    r->count_refs.len = 0;
    for (size_t i = 0; i < period_joins.len; i++) {
        int s = (int)(intptr_t)period_joins.items[i];
        fprintf(r->out, "  LEFT JOIN periods q%d ON q%d.period = c.period_%s\n", s, s,
                r->seqs[s][0] ? r->seqs[s] : "0");
    }
    for (size_t i = 0; i < joins.len; i++) {
        const join *j = joins.items[i];
        const char *at = r->seqs[j->seq][0] ? r->seqs[j->seq] : "0";
        if (j->staff)
            fprintf(
                r->out,
                "  LEFT JOIN %s %s ON %s.period = c.period_%s AND %s.total = c.is_total AND (c.is_total = 1 OR %s.staff_id = c.staff_id)\n",
                j->cte, j->alias, j->alias, at, j->alias, j->alias);
        else
            fprintf(r->out, "  LEFT JOIN %s %s ON %s.period = c.period_%s AND %s.total = 1\n", j->cte,
                    j->alias, j->alias, at, j->alias);
    }
    fputs(")", r->out);
}

/* The tables the values SELECT joins for indicator IND alone, as keys ("agg_3 p s",
 * "periods p", "counted_at"), pushed to KEYS when not there yet; from a trial rendering
 * that reports nothing (the real one reports). */
static void values_tables(R *r, const ast_decl *ind, ptr_vec *keys)
{
    ptr_vec joins = { 0 }, period_joins = { 0 };
    rctx c = { M_VALUE, NULL, NULL, seq_index(r, ""), ind->u.indicator.per_staff, &joins, &period_joins };
    r->quiet = true;
    expr(r, &c, ir_indicator(r->p, ind));
    r->quiet = false;
    ptr_vec mine = { 0 };
    for (size_t i = 0; i < joins.len; i++) {
        const join *j = joins.items[i];
        ptr_vec_push(r->mem, &mine,
                     (void *)arena_printf(r->mem, "%s %s %c", j->cte, r->seqs[j->seq], j->staff ? 's' : 't'));
    }
    for (size_t i = 0; i < period_joins.len; i++)
        ptr_vec_push(
            r->mem, &mine,
            (void *)arena_printf(r->mem, "periods %s", r->seqs[(int)(intptr_t)period_joins.items[i]]));
    if (r->count_refs.len) ptr_vec_push(r->mem, &mine, (void *)"counted_at");
    r->count_refs.len = 0;
    for (size_t i = 0; i < mine.len; i++) {
        bool known = false;
        for (size_t k = 0; k < keys->len && !known; k++) known = !strcmp(keys->items[k], mine.items[i]);
        if (!known) ptr_vec_push(r->mem, keys, mine.items[i]);
    }
}

/* Which indicators each values CTE computes: at most VALUES_PER_CTE, and where the
 * dialect limits the tables of one join (MySQL/MariaDB 61, sqlite 64), as many as keep
 * the cells and the CTEs their values join within it. An indicator that alone needs more
 * is an error at its name: no statement of this shape can compute it there. */
static void split_values(R *r)
{
    size_t n = r->o->indicator_count;
    r->chunk_first = xcalloc(n + 2, sizeof *r->chunk_first);
    int limit = sqld_max_join_tables(r->d);
    ptr_vec keys = { 0 };
    size_t in_chunk = 0;
    r->chunk_count = 0;
    r->chunk_first[0] = 0;
    for (size_t i = 0; i < n; i++) {
        bool full = in_chunk == VALUES_PER_CTE;
        if (limit && !full) {
            ptr_vec copy = { 0 };
            for (size_t k = 0; k < keys.len; k++) ptr_vec_push(r->mem, &copy, keys.items[k]);
            values_tables(r, r->o->indicators[i], &copy);
            full = in_chunk > 0 && 1 + copy.len > (size_t)limit;
            if (!full) keys = copy;
        }
        if (full) {
            r->chunk_first[++r->chunk_count] = i;
            in_chunk = 0;
            keys.len = 0;
            if (limit) values_tables(r, r->o->indicators[i], &keys);
        }
        if (limit && in_chunk == 0 && 1 + keys.len > (size_t)limit) {
            const ast_decl *ind = r->o->indicators[i];
            diagnostic *d =
                fail(r, ind->name_span,
                     "%s joins at most %d tables in one SELECT; the value of %s joins %zu (the cells, "
                     "and each aggregate family it reads at each previous()/last_year() shift, per staff "
                     "and in total)",
                     sqld_name(r->d), limit, ind->name, 1 + keys.len);
            diag_hint(r->diags, d, "compute it with kpic eval, or generate the SQL for another dialect");
        }
        in_chunk++;
    }
    if (n) r->chunk_count++;
    r->chunk_first[r->chunk_count] = n;
}

/* The rows: for each values CTE, its cells × its indicators (a team-wide one: the total
 * only), the value of the indicator's column as text. */
static void emit_rows(R *r, size_t chunks)
{
    fputc('\n', r->out);
    for (size_t k = 0; k < chunks; k++) {
        size_t first = r->chunk_first[k], count = r->chunk_first[k + 1] - first;
        char *cases = "";
        for (size_t i = 0; i < count; i++)
            cases = arena_printf(r->mem, "%s WHEN %zu THEN v.v%zu", cases, i, i);
        const char *value = sqld_cast(r->mem, r->d, arena_printf(r->mem, "CASE i.n%s END", cases), SQLD_TEXT);
        fprintf(r->out,
                "%sSELECT v.period, i.indicator, %s AS staff_id, %s AS value\nFROM vals_%zu v\nJOIN (\n",
                k ? "UNION ALL\n" : "", sqld_result_text(r->mem, r->d, "v.staff_id"),
                sqld_result_text(r->mem, r->d, value), k + 1);
        static const char *const names[] = { "n", "indicator", "per_staff" };
        for (size_t i = 0; i < count; i++) {
            const ast_decl *ind = r->o->indicators[first + i];
            const char *name = sqld_string(r->mem, r->d, ind->name, strlen(ind->name));
            if (!name) fail(r, ind->name_span, "%s SQL cannot hold the name", sqld_name(r->d));
            const char *values[] = { arena_printf(r->mem, "%zu", i), name ? name : "NULL",
                                     ind->u.indicator.per_staff ? "1" : "0" };
            const_row(r, i, 3, names, values);
        }
        const_rows_end(r, 3, names);
        fputs(") i ON i.per_staff = 1 OR v.is_total = 1\n", r->out);
    }
}

static void emit_cells(R *r)
{
    const ast_decl *roster = r->model->roster;
    cte_start(r, "requested");
    const char *null_text = sqld_cast(r->mem, r->d, "NULL", SQLD_TEXT);
    size_t ncols = 1 + (size_t)r->seq_count;
    const char **names = arena_alloc(r->mem, ncols * sizeof *names);
    const char **values = arena_alloc(r->mem, ncols * sizeof *values);
    names[0] = "period";
    for (int s = 0; s < r->seq_count; s++)
        names[1 + s] = arena_printf(r->mem, "period_%s", r->seqs[s][0] ? r->seqs[s] : "0");
    for (size_t i = 0; i < r->row_count; i++) {
        char label[PERIOD_LABEL_SIZE];
        period_format(r->rows[i], label, sizeof label);
        values[0] = arena_printf(r->mem, "'%s'", label);
        for (int s = 0; s < r->seq_count; s++) {
            size_t at = i * MAX_SEQS + (size_t)s;
            if (r->seq_ok[at]) period_format(r->shifted[at], label, sizeof label);
            values[1 + s] = r->seq_ok[at] ? arena_printf(r->mem, "'%s'", label) : null_text;
        }
        const_row(r, i, ncols, names, values);
    }
    const_rows_end(r, ncols, names);
    fputs(")", r->out);
    int id = roster_id_column(roster);
    char *cols = "", *cell_cols = "", *nulls = "";
    for (int i = 0; i < roster->u.source.column_count; i++) {
        if (!r->roster_cols[i]) continue;
        cols = arena_printf(r->mem, "%s, %s AS rc_%d", cols, col(r, "s", roster, i), i);
        cell_cols = arena_printf(r->mem, "%s, s.rc_%d", cell_cols, i);
        nulls = arena_printf(r->mem, "%s, NULL AS rc_%d", nulls, i);
    }
    long start = mark(r);
    cte_start(r, "roster");
    /* DISTINCT: a person with a roster row per role (a transfer) is one staff member of
     * the figures, as in kpic eval; rows that differ in a cell the formulas read stay
     * two, and reading them back as values is refused, never guessed */
    fprintf(r->out, "  SELECT DISTINCT %s AS staff_id%s\n  FROM %s s\n)",
            sqld_cast(r->mem, r->d, col(r, "s", roster, id), SQLD_TEXT), cols, table_of(r, roster, "staff"));
    region(r, start, roster, roster);
    cte_start(r, "cells");
    fprintf(r->out, "  SELECT r.*, s.staff_id, 0 AS is_total%s\n  FROM requested r CROSS JOIN roster s\n",
            cell_cols);
    fprintf(r->out, "  UNION ALL\n  SELECT r.*, %s, 1%s\n  FROM requested r\n)", null_text, nulls);
}

/* ---- the periods returned ----------------------------------------------------------- */

/* The requested periods and those the roles' targets, points, gates and bonuses reach
 * from them, so that one statement feeds `kpic score --values` for the requested
 * periods: scoring asks the values file for an indicator in each shifted period, not
 * for what the indicator's formula uses (IR_REACH_VALUES). A shift that leaves the
 * calendar is left to the scoring run to refuse. */
static void row_periods(R *r)
{
    ir_periods reached = { 0 };
    ir_model_periods(r->p, r->o->periods, r->o->period_count, IR_REACH_VALUES, &reached);
    r->rows = reached.items;
    r->row_count = reached.count;
    reached.items = NULL;
    ir_periods_free(&reached);
    qsort(r->rows, r->row_count, sizeof *r->rows, period_compare);
}

char *sql_render(const ir_program *program, const chk_model *model, const sql_options *o, diag_sink *diags,
                 size_t *len)
{
    arena mem;
    arena_init(&mem);
    R r;
    memset(&r, 0, sizeof r);
    r.mem = &mem;
    r.d = o->dialect;
    r.p = program;
    r.model = model;
    r.o = o;
    r.diags = diags;
    r.info = xcalloc(program->aggs.len + 1, sizeof *r.info);
    r.roster_cols = xcalloc((size_t)model->roster->u.source.column_count + 1, sizeof *r.roster_cols);
    seq_index(&r, "");
    for (size_t i = 0; i < program->aggs.len; i++) r.info[i].family = -1;
    for (size_t i = 0; i < o->indicator_count; i++) {
        r.current = o->indicators[i]->name;
        walk_ctx w = { &r, "" };
        walk(ir_indicator(program, o->indicators[i]), &w);
    }
    r.current = NULL;
    /* the periods: requested, shifted, and every period an aggregate is needed for */
    row_periods(&r);
    r.seq_ok = xcalloc(r.row_count * MAX_SEQS, sizeof *r.seq_ok);
    r.shifted = xcalloc(r.row_count * MAX_SEQS, sizeof *r.shifted);
    for (int s = 0; s < r.seq_count; s++) {
        bool refused = false;
        for (size_t i = 0; i < r.row_count; i++) {
            size_t at = i * MAX_SEQS + (size_t)s;
            r.seq_ok[at] = shift(r.rows[i], r.seqs[s], &r.shifted[at]);
            if (r.seq_ok[at]) {
                ir_periods_add(&r.all, r.shifted[at]);
            } else if (!refused) {
                /* kpic eval refuses the run (a shifted period has no dates); a statement
                 * that filled the place with a count of nothing would be a figure eval
                 * never gives */
                refused = true;
                char label[PERIOD_LABEL_SIZE];
                period_format(r.rows[i], label, sizeof label);
                diagnostic *d = fail(&r, r.seq_spans[s],
                                     "from %s, this previous() or last_year() reaches before year 1", label);
                diag_hint(diags, d, "ask for later periods: kpic eval refuses %s too", label);
            }
        }
    }
    qsort(r.all.items, r.all.count, sizeof *r.all.items, period_compare);
    /* families: one per source and window */
    ir_window period_window_kind = { WINDOW_PERIOD, 0, WINDOW_DAYS, NULL };
    window_of(&r, &period_window_kind);
    for (size_t i = 0; i < program->aggs.len; i++) {
        const ir_agg *agg = program->aggs.items[i];
        if (!r.info[i].used) continue;
        int wi = window_of(&r, &agg->window);
        if (wi < 0) {
            fail(&r, agg->syntax ? agg->syntax->span : model->roster->span,
                 "too many different windows for one statement");
            continue;
        }
        if (agg->kind == IR_AGG_DISTINCT || agg->kind == IR_AGG_SET) continue;
        family *f = NULL;
        for (size_t k = 0; k < r.families.len && !f; k++) {
            family *g = r.families.items[k];
            if (g->source == agg->source && g->win == wi) f = g;
        }
        if (!f) {
            f = arena_alloc(&mem, sizeof *f);
            memset(f, 0, sizeof *f);
            f->source = agg->source;
            f->win = wi;
            f->id = (int)r.families.len;
            ptr_vec_push(&mem, &r.families, f);
        }
        ptr_vec_push(&mem, &f->aggs, (void *)agg);
        f->per_staff |= agg->per_staff && staff_column(agg->source) >= 0;
        r.info[i].family = f->id;
    }
    char *buf = NULL;
    size_t size = 0;
    r.out = xopen_memstream(&buf, &size);
    r.first_cte = true;
    fprintf(
        r.out,
        "-- kpic sql --dialect %s: %zu indicator%s, %zu period%s; rows (period, indicator, staff_id, value)\n",
        sqld_name(r.d), o->indicator_count, o->indicator_count == 1 ? "" : "s", o->period_count,
        o->period_count == 1 ? "" : "s");
    if (r.row_count > o->period_count)
        fprintf(r.out, "-- and %zu period%s that previous() and last_year() in the roles reach\n",
                r.row_count - o->period_count, r.row_count - o->period_count == 1 ? "" : "s");
    for (int i = 0; i < r.win_count; i++) emit_window(&r, &r.wins[i]);
    for (size_t i = 0; i < program->aggs.len; i++)
        if (r.info[i].used) emit_agg(&r, program->aggs.items[i]);
    for (size_t k = 0; k < r.families.len; k++) {
        family *f = r.families.items[k];
        for (size_t i = 0; i < f->aggs.len; i++) emit_agg_deps(&r, f->aggs.items[i]);
        emit_family(&r, f);
    }
    bool counted = false;
    for (size_t i = 0; i < program->aggs.len; i++) {
        if (!r.info[i].count_sql) continue;
        if (!counted) {
            count_cte(&r, NULL);
            fputs(",\n-- the distinct() and set counts, one SELECT each\ncounts AS (\n", r.out);
        }
        long start = mark(&r);
        fprintf(r.out, "%s%s", counted ? "  UNION ALL\n" : "", r.info[i].count_sql);
        const ir_agg *agg = program->aggs.items[i];
        region(&r, start, agg->set ? agg->set : agg->source, agg->source);
        counted = true;
    }
    if (counted) {
        /* one row per cell with a column per count, joined once per shift and grouping */
        count_cte(&r, NULL);
        fputs("),\n-- the counts as columns\ncounted AS (\n  SELECT period, staff_id, total", r.out);
        for (size_t i = 0; i < program->aggs.len; i++)
            if (r.info[i].count_sql)
                fprintf(r.out, ",\n    MAX(CASE WHEN agg = %zu THEN n END) AS n%zu", i, i);
        fputs("\n  FROM counts\n  GROUP BY period, staff_id, total\n)", r.out);
    }
    emit_cells(&r);
    split_values(&r);
    for (size_t k = 0; k < r.chunk_count; k++)
        emit_values(&r, r.chunk_first[k], r.chunk_first[k + 1] - r.chunk_first[k], (int)k + 1);
    emit_rows(&r, r.chunk_count);
    xclose_memstream(r.out);
    free(r.info);
    free(r.roster_cols);
    free(r.seq_ok);
    free(r.shifted);
    ir_periods_free(&r.all);
    free(r.rows);
    free(r.chunk_first);
    arena_free(&mem);
    if (r.failed) {
        free(buf);
        return NULL;
    }
    if (len) *len = size;
    return buf;
}
