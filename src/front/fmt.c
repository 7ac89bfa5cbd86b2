/* fmt.c — `kpic fmt`: a parsed file printed in the one canonical layout, and the unified
 * diff that `kpic fmt --check` shows.
 *
 * The layout (docs/language.md repeats it for users):
 *   - declarations in source order, one blank line between them, except that a run of
 *     consecutive `import` lines, and a run of consecutive `period` / `currency` lines,
 *     stay together without blank lines;
 *   - blocks (source, staff, scale, role) open with `{` on the declaration line, put one
 *     item per line indented 2, and close with `}` alone; an empty block is `{}`;
 *   - columns: names padded to one column, types to the next, flags (`time` before
 *     `staff`) after the types, then the clauses `header`, `format`, `true … false …`
 *     lined up after the flags; a source's `encoding` is its first line, `key (…)` lines
 *     stand where they were written; scale rows: intervals padded so `->` lines up; roles:
 *     kpi names, weights and targets in columns, a kpi's own `points EXPR` after its
 *     target when the line stays within 100 columns (else on the next line, indented 4),
 *     then `points`, `gate`, `bonus`, `missing` with their keyword padded to 6 columns;
 *   - indicator: `indicator NAME "label" UNIT [per staff] = EXPR` on one line when it fits
 *     in 100 columns, else `= EXPR` on the next line indented 2; `note "…"` always on a line
 *     of its own, indented 2; set: one line, clauses in the order where, having, over;
 *   - expressions with canonical spacing and only the parentheses the grammar needs;
 *     literals and strings exactly as written;
 *   - widths are display widths (a Chinese character is 2 columns);
 *   - one blank line is kept where the source had one or more between two items of a block
 *     or between comments; never one right after `{` or right before `}`.
 *
 * Comments are not in the tree, so they are merged back by position. Every output line
 * knows the source range its code came from, from its first token to its last. Then:
 *   - a comment with code before it on its line (own_line false) and only white space
 *     between the end of an output line's range and itself stays at the end of that line;
 *     the trailing comments of consecutive item lines of a block are aligned;
 *   - every other comment gets a line of its own, just before the first output line whose
 *     range ends after it — before the item that followed it, or, when it sat inside an
 *     item's code (an expression that spanned lines), just above that item's line —
 *     indented like that line (inside a block for the comments before its `}`).
 * Comments are consumed strictly in source order, so none is lost or reordered. Two pieces
 * of code are joined on one line only when no comment lies between them, which is what
 * makes the layout idempotent.
 */
#include "kpic/fmt.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "kpic/buffer.h"

enum {
    FMT_WIDTH = 100,    /* a line is kept whole when at most this many columns wide */
    FMT_INDENT = 2,     /* items of a block, continuation lines of a declaration */
    FMT_KPI_POINTS = 4, /* a kpi's own `points` line when it cannot share the kpi line */
    FMT_GAP = 2,        /* spaces between aligned columns and before a trailing comment */
    FMT_KEYWORD = 6     /* `points`, `gate`, `bonus` padded to this width in a role */
};

/* ---- growable byte buffer ----------------------------------------------------------- */

/* fmt's text is built in byte buffers (buffer.h). */
typedef byte_buf sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    buf_add(b, s, n);
}

static void sb_str(sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_spaces(sbuf *b, size_t n)
{
    buf_reserve(b, n);
    memset(b->data + b->len, ' ', n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void sb_free(sbuf *b)
{
    buf_free(b);
}

/* Columns the text takes on a terminal: East Asian wide characters count 2, combining
 * marks 0. Bytes that are not valid UTF-8 (possible only inside comments) count 1 each. */
static size_t text_width(const char *s, size_t n)
{
    size_t w = 0, i = 0;
    while (i < n) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x80) {
            w++;
            i++;
            continue;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t k =
            utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);
        if (k <= 0) {
            w++;
            i++;
            continue;
        }
        int cw = utf8proc_charwidth(cp);
        if (cw > 0) w += (size_t)cw;
        i += (size_t)k;
    }
    return w;
}

static size_t str_width(const char *s)
{
    return text_width(s, strlen(s));
}

/* Pads b, which holds one line being built from its start `from`, to `width` columns. */
static void sb_pad_to(sbuf *b, size_t from, size_t width)
{
    size_t w = text_width(b->data + from, b->len - from);
    if (w < width) sb_spaces(b, width - w);
}

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\f' || ch == '\v';
}

/* ---- output lines and the formatter's state ------------------------------------------ */

typedef struct fmt_line {
    size_t text, len; /* the code, without indentation: a range of fmt_ctx.texts */
    int indent;
    int comment;       /* index into the file's comments, or -1 */
    bool comment_only; /* the line is the comment alone */
    bool blank_before; /* print one empty line before it */
    int block;         /* nonzero: an item line of that block (trailing comments align) */
} fmt_line;

typedef struct fmt_ctx {
    const char *src; /* the file's text */
    uint32_t src_len;
    const ast_comment *comments;
    int comment_count;
    int next_comment;  /* every comment before this index has been placed */
    uint32_t prev_end; /* source offset where the last placed line (or its comment) ends */
    sbuf texts;        /* the code of every line, back to back */
    fmt_line *lines;
    size_t line_count, line_cap;
    int block;  /* id given to item lines being placed; 0 outside blocks */
    int blocks; /* ids handed out so far */
} fmt_ctx;

/* Whether a blank line may precede the next placed thing. */
typedef enum blank_rule {
    BLANK_NO,  /* never */
    BLANK_YES, /* always: between top-level declarations */
    BLANK_KEEP /* where the source had at least one */
} blank_rule;

static fmt_line *push_line(fmt_ctx *c, int indent, const char *text, size_t len, bool blank)
{
    if (c->line_count == c->line_cap) {
        c->line_cap = c->line_cap ? c->line_cap * 2 : 64;
        c->lines = xrealloc(c->lines, c->line_cap * sizeof *c->lines);
    }
    fmt_line *l = &c->lines[c->line_count++];
    l->text = c->texts.len;
    l->len = len;
    sb_add(&c->texts, text, len);
    l->indent = indent;
    l->comment = -1;
    l->comment_only = false;
    l->blank_before = blank;
    l->block = c->block;
    return l;
}

/* Whether source text [a, b) holds an empty line: two newlines with only white space
 * between them. */
static bool has_blank_line(const fmt_ctx *c, uint32_t a, uint32_t b)
{
    bool line_empty = false; /* only white space since the last newline */
    for (uint32_t i = a; i < b && i < c->src_len; i++) {
        char ch = c->src[i];
        if (ch == '\n') {
            if (line_empty) return true;
            line_empty = true;
        } else if (!is_space(ch)) {
            line_empty = false;
        }
    }
    return false;
}

static bool decide(const fmt_ctx *c, blank_rule rule, uint32_t a, uint32_t b)
{
    return rule == BLANK_YES || (rule == BLANK_KEEP && has_blank_line(c, a, b));
}

static bool only_space(const fmt_ctx *c, uint32_t a, uint32_t b)
{
    for (uint32_t i = a; i < b && i < c->src_len; i++)
        if (!is_space(c->src[i])) return false;
    return true;
}

/* Whether a comment starts inside source text [a, b) not yet placed. */
static bool comment_in(const fmt_ctx *c, uint32_t a, uint32_t b)
{
    for (int i = c->next_comment; i < c->comment_count; i++) {
        uint32_t s = c->comments[i].span.start;
        if (s >= b) break;
        if (s >= a) return true;
    }
    return false;
}

/* Offset of the next token at or after off, skipping white space and comments. */
static uint32_t next_token(const fmt_ctx *c, uint32_t off)
{
    while (off < c->src_len) {
        char ch = c->src[off];
        if (is_space(ch)) {
            off++;
        } else if (ch == '#') {
            while (off < c->src_len && c->src[off] != '\n') off++;
        } else {
            break;
        }
    }
    return off;
}

/* The end of an expression's last token. An expression's span leaves out parentheses
 * that only group it, so a `)` may follow its end: count those in, across white space
 * and comments. Only for expressions not inside any other parentheses. */
static uint32_t token_end(const fmt_ctx *c, uint32_t end)
{
    uint32_t off = end;
    for (;;) {
        off = next_token(c, off);
        if (off >= c->src_len || c->src[off] != ')') return end;
        end = ++off;
    }
}

static void push_comment(fmt_ctx *c, int indent, int index, bool blank)
{
    fmt_line *l = push_line(c, indent, "", 0, blank);
    l->comment = index;
    l->comment_only = true;
}

/* Places, each on its own line, the comments that start before `before`. The first gets a
 * blank line before it by rule `first`, the others by `inner`. Returns whether any was
 * placed. */
static bool place_comments(fmt_ctx *c, uint32_t before, int indent, blank_rule first, blank_rule inner)
{
    bool any = false;
    while (c->next_comment < c->comment_count && c->comments[c->next_comment].span.start < before) {
        const ast_comment *cm = &c->comments[c->next_comment];
        bool blank = decide(c, any ? inner : first, c->prev_end, cm->span.start);
        push_comment(c, indent, c->next_comment, blank);
        c->prev_end = cm->span.end;
        c->next_comment++;
        any = true;
    }
    return any;
}

/* Places one output line of code whose tokens span source [start, end), with the
 * comments that go before it (see the top of this file) and the one that trails it.
 * `first` decides the blank line before whatever comes first (a comment or the line),
 * `inner` the blank lines among the comments before it and between them and the line;
 * `blank_ok` false forbids a blank line directly before the line itself. */
static void place(fmt_ctx *c, int indent, int comment_indent, const char *text, size_t len, uint32_t start,
                  uint32_t end, blank_rule first, blank_rule inner, bool blank_ok)
{
    bool before = place_comments(c, start, comment_indent, first, inner);
    /* Comments from inside the line's own code: moved above it, kept with it. */
    bool hoisted = false;
    while (c->next_comment < c->comment_count && c->comments[c->next_comment].span.start < end) {
        bool blank = !before && !hoisted && decide(c, first, c->prev_end, start);
        push_comment(c, comment_indent, c->next_comment, blank);
        c->next_comment++;
        hoisted = true;
    }
    bool blank = false;
    if (blank_ok && !hoisted) blank = decide(c, before ? inner : first, c->prev_end, start);
    fmt_line *l = push_line(c, indent, text, len, blank);
    c->prev_end = end;
    if (c->next_comment < c->comment_count) {
        const ast_comment *cm = &c->comments[c->next_comment];
        if (!cm->own_line && only_space(c, end, cm->span.start)) {
            l->comment = c->next_comment++;
            c->prev_end = cm->span.end;
        }
    }
}

/* ---- expressions ------------------------------------------------------------------- */

static void print_expr(const fmt_ctx *c, sbuf *b, const ast_expr *e, int min_prec);

static void print_window(sbuf *b, const ast_window *w)
{
    switch (w->kind) {
    case WINDOW_PERIOD: sb_str(b, "period"); break;
    case WINDOW_ALL_TIME: sb_str(b, "all time"); break;
    case WINDOW_YEAR_TO_DATE: sb_str(b, "year to date"); break;
    case WINDOW_LAST: {
        /* The parser takes `day` and `days` alike: say it the way English does. */
        static const char *const units[] = { "day", "week", "month" };
        char num[32];
        snprintf(num, sizeof num, "last %" PRId64 " ", w->count);
        sb_str(b, num);
        sb_str(b, units[w->unit]);
        if (w->count != 1) sb_str(b, "s");
        break;
    }
    }
}

/* ` where C having H over W`, in that order (each at most once; the tree keeps no order). */
static void print_clauses(const fmt_ctx *c, sbuf *b, const ast_expr *where, const ast_expr *having,
                          const ast_window *over, bool lead_space)
{
    if (where) {
        if (lead_space) sb_str(b, " ");
        sb_str(b, "where ");
        print_expr(c, b, where, AST_PREC_IF);
        lead_space = true;
    }
    if (having) {
        if (lead_space) sb_str(b, " ");
        sb_str(b, "having ");
        print_expr(c, b, having, AST_PREC_IF);
        lead_space = true;
    }
    if (over) {
        if (lead_space) sb_str(b, " ");
        sb_str(b, "over ");
        print_window(b, over);
    }
}

/* Prints e, in parentheses when it binds more loosely than its place requires (min_prec).
 * Left-associative operators take an operand of their own strength on the left only;
 * comparisons are non-associative, so both operands must bind tighter. A prefix operator
 * (`not`, `-`) or an `if` on the right of a tighter operator is parenthesised by the same
 * rule, so what follows it can never be swallowed into it. */
static void print_expr(const fmt_ctx *c, sbuf *b, const ast_expr *e, int min_prec)
{
    int prec = ast_precedence(e);
    bool paren = prec < min_prec;
    if (paren) sb_str(b, "(");
    switch (e->kind) {
    case EX_NUMBER:
    case EX_PERCENT:
    case EX_DATE:
    case EX_STRING:
    case EX_BOOL:
    case EX_INF: sb_str(b, e->u.lit.raw); break;
    case EX_NAME: sb_str(b, e->u.name.name); break;
    case EX_MEMBER:
        sb_str(b, e->u.member.base);
        sb_str(b, ".");
        sb_str(b, e->u.member.member);
        break;
    case EX_UNARY:
        if (e->u.op.op == OP_NOT) {
            sb_str(b, "not ");
            print_expr(c, b, e->u.op.lhs, AST_PREC_NOT);
        } else {
            sb_str(b, "-");
            print_expr(c, b, e->u.op.lhs, AST_PREC_NEG);
        }
        break;
    case EX_BINARY:
        print_expr(c, b, e->u.op.lhs, prec == AST_PREC_CMP ? prec + 1 : prec);
        sb_str(b, " ");
        sb_str(b, ast_op_text(e->u.op.op));
        sb_str(b, " ");
        print_expr(c, b, e->u.op.rhs, prec + 1);
        break;
    case EX_IF:
        /* nested ifs in the condition or the then branch are bracketed for the reader;
         * an if in the else branch reads as `else if` */
        sb_str(b, "if ");
        print_expr(c, b, e->u.cond.cond, AST_PREC_OR);
        sb_str(b, " then ");
        print_expr(c, b, e->u.cond.then_expr, AST_PREC_OR);
        sb_str(b, " else ");
        print_expr(c, b, e->u.cond.else_expr, AST_PREC_IF);
        break;
    case EX_IN_LIST:
        print_expr(c, b, e->u.in.lhs, AST_PREC_CMP + 1);
        sb_str(b, " in (");
        for (size_t i = 0; i < e->u.in.items.len; i++) {
            if (i) sb_str(b, ", ");
            print_expr(c, b, e->u.in.items.items[i], AST_PREC_IF);
        }
        sb_str(b, ")");
        break;
    case EX_IN_SET:
        print_expr(c, b, e->u.in.lhs, AST_PREC_CMP + 1);
        sb_str(b, " in ");
        sb_str(b, e->u.in.set_name);
        break;
    case EX_IN_PERIOD:
        print_expr(c, b, e->u.in.lhs, AST_PREC_CMP + 1);
        sb_str(b, e->u.in.rel == PERIOD_IN            ? " in period"
                  : e->u.in.rel == PERIOD_IN_PREVIOUS ? " in previous period"
                                                      : " before period");
        break;
    case EX_CALL:
        sb_str(b, e->u.call.name);
        sb_str(b, "(");
        for (size_t i = 0; i < e->u.call.args.len; i++) {
            if (i) sb_str(b, ", ");
            print_expr(c, b, e->u.call.args.items[i], AST_PREC_IF);
        }
        print_clauses(c, b, e->u.call.where, e->u.call.having, e->u.call.over, e->u.call.args.len > 0);
        sb_str(b, ")");
        break;
    case EX_ERROR:
        /* Files with errors are not formatted (fmt.h); keep the text rather than lose it. */
        if (e->span.end <= c->src_len && e->span.start <= e->span.end)
            sb_add(b, c->src + e->span.start, e->span.end - e->span.start);
        break;
    }
    if (paren) sb_str(b, ")");
}

/* ---- declarations ------------------------------------------------------------------ */

static void add_slice(const fmt_ctx *c, sbuf *b, kp_span s)
{
    if (s.end <= c->src_len && s.start <= s.end) sb_add(b, c->src + s.start, s.end - s.start);
}

/* The text of one expression, for measuring before it is laid out. */
static char *expr_text(const fmt_ctx *c, const ast_expr *e)
{
    sbuf b = { 0 };
    print_expr(c, &b, e, AST_PREC_IF);
    if (!b.data) sb_str(&b, "");
    return b.data;
}

static void rtrim(sbuf *b)
{
    while (b->len > 0 && b->data[b->len - 1] == ' ') b->data[--b->len] = '\0';
}

static void place_sb(fmt_ctx *c, int indent, int comment_indent, sbuf *b, uint32_t start, uint32_t end,
                     blank_rule first, blank_rule inner, bool blank_ok)
{
    rtrim(b);
    place(c, indent, comment_indent, b->data ? b->data : "", b->len, start, end, first, inner, blank_ok);
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

/* Blocks: the header line with `{`, the items, the `}` line. */
static void block_open(fmt_ctx *c, const ast_decl *d, sbuf *header, uint32_t after, int items,
                       blank_rule first)
{
    uint32_t brace = next_token(c, after);
    uint32_t close = d->span.end - 1;
    if (items == 0 && !comment_in(c, brace + 1, close)) {
        sb_str(header, " {}");
        place_sb(c, 0, 0, header, d->span.start, d->span.end, first, BLANK_KEEP, true);
        c->block = -1; /* nothing more to place for this block */
        return;
    }
    sb_str(header, " {");
    place_sb(c, 0, 0, header, d->span.start, brace + 1, first, BLANK_KEEP, true);
    c->block = ++c->blocks;
}

static void block_close(fmt_ctx *c, const ast_decl *d)
{
    bool empty = c->block == -1;
    c->block = 0;
    if (empty) return;
    place(c, 0, FMT_INDENT, "}", 1, d->span.end - 1, d->span.end, BLANK_KEEP, BLANK_KEEP, false);
}

/* Blank lines before a block's items: never before the first, kept before the others. */
static blank_rule item_rule(int i)
{
    return i == 0 ? BLANK_NO : BLANK_KEEP;
}

/* A column's name, type and flags, padded to the block's columns. */
static void column_head(sbuf *line, const ast_column *col, size_t name_w, size_t type_w)
{
    sb_str(line, col->name);
    sb_pad_to(line, 0, name_w + FMT_GAP);
    sb_str(line, ast_coltype_name(col->type));
    if (col->is_time || col->is_staff) {
        sb_pad_to(line, 0, name_w + FMT_GAP + type_w + FMT_GAP);
        if (col->is_time) sb_str(line, "time");
        if (col->is_time && col->is_staff) sb_str(line, " ");
        if (col->is_staff) sb_str(line, "staff");
    }
}

static void format_columns(fmt_ctx *c, const ast_decl *d, blank_rule first)
{
    sbuf line = { 0 };
    int n = d->u.source.column_count;
    const ast_column *cols = d->u.source.columns;
    size_t name_w = 0, type_w = 0;
    for (int i = 0; i < n; i++) {
        size_t w = str_width(cols[i].name);
        if (w > name_w) name_w = w;
        /* flags line up after the widest type among the columns that have flags */
        if (cols[i].is_time || cols[i].is_staff) {
            w = strlen(ast_coltype_name(cols[i].type));
            if (w > type_w) type_w = w;
        }
    }
    if (d->kind == DECL_SOURCE) {
        sb_str(&line, "source ");
        sb_str(&line, d->name);
        sb_str(&line, " ");
    } else {
        sb_str(&line, "staff ");
    }
    add_slice(c, &line, d->u.source.path_span);
    bool encoding = d->u.source.encoding != NULL;
    int keys = d->u.source.key_line_count;
    block_open(c, d, &line, d->u.source.path_span.end, n + keys + encoding, first);
    if (encoding) {
        sb_str(&line, "encoding ");
        add_slice(c, &line, d->u.source.encoding_span);
        place_sb(c, FMT_INDENT, FMT_INDENT, &line, d->u.source.encoding_clause_span.start,
                 d->u.source.encoding_clause_span.end, BLANK_NO, BLANK_KEEP, true);
    }
    /* clauses (header, format, bool words) line up after the widest name, type and
     * flags among the columns that have clauses */
    size_t clause_col = 0;
    for (int i = 0; i < n; i++) {
        if (!(cols[i].header || cols[i].format || cols[i].true_word || cols[i].convention)) continue;
        column_head(&line, &cols[i], name_w, type_w);
        if (str_width(line.data) + FMT_GAP > clause_col) clause_col = str_width(line.data) + FMT_GAP;
        line.len = 0;
        line.data[0] = '\0';
    }
    /* column lines and `key (…)` lines, in the order they were written */
    for (int i = 0, k = 0; i + k < n + keys;) {
        blank_rule before = encoding ? BLANK_KEEP : item_rule(i + k);
        const ast_key_line *kl = k < keys ? &d->u.source.key_lines[k] : NULL;
        if (kl && (i == n || kl->span.start < cols[i].span.start)) {
            sb_str(&line, "key (");
            for (int j = 0; j < kl->count; j++) {
                if (j) sb_str(&line, ", ");
                sb_str(&line, kl->columns[j]);
            }
            sb_str(&line, ")");
            place_sb(c, FMT_INDENT, FMT_INDENT, &line, kl->span.start, kl->span.end, before, BLANK_KEEP,
                     true);
            k++;
            continue;
        }
        const ast_column *col = &cols[i];
        column_head(&line, col, name_w, type_w);
        if (col->header || col->format || col->true_word || col->convention) sb_pad_to(&line, 0, clause_col);
        const char *sep = "";
        if (col->header) {
            sb_str(&line, "header ");
            add_slice(c, &line, col->header_span);
            sep = " ";
        }
        if (col->format) {
            sb_str(&line, sep);
            sb_str(&line, "format ");
            add_slice(c, &line, col->format_span);
            sep = " ";
        }
        if (col->true_word) {
            sb_str(&line, sep);
            sb_str(&line, "true ");
            add_slice(c, &line, col->true_span);
            sb_str(&line, " false ");
            add_slice(c, &line, col->false_span);
        }
        if (col->convention) {
            sb_str(&line, col->header || col->format || col->true_word ? " " : "");
            sb_str(&line, "convention ");
            add_slice(c, &line, col->convention_span);
        }
        place_sb(c, FMT_INDENT, FMT_INDENT, &line, col->span.start, col->span.end, before, BLANK_KEEP, true);
        i++;
    }
    block_close(c, d);
    sb_free(&line);
}

static void format_scale(fmt_ctx *c, const ast_decl *d, blank_rule first)
{
    int n = d->u.scale.row_count;
    char **intervals = xcalloc((size_t)n + 1, sizeof *intervals);
    size_t interval_w = 0;
    for (int i = 0; i < n; i++) {
        const ast_scale_row *r = &d->u.scale.rows[i];
        sbuf b = { 0 };
        sb_str(&b, r->lo_closed ? "[" : "(");
        print_expr(c, &b, r->lo, AST_PREC_IF);
        sb_str(&b, ", ");
        print_expr(c, &b, r->hi, AST_PREC_IF);
        sb_str(&b, r->hi_closed ? "]" : ")");
        intervals[i] = b.data;
        size_t w = str_width(b.data);
        if (w > interval_w) interval_w = w;
    }
    sbuf line = { 0 };
    sb_str(&line, "scale ");
    sb_str(&line, d->name);
    block_open(c, d, &line, d->name_span.end, n, first);
    for (int i = 0; i < n; i++) {
        const ast_scale_row *r = &d->u.scale.rows[i];
        sb_str(&line, intervals[i]);
        sb_pad_to(&line, 0, interval_w + FMT_GAP);
        sb_str(&line, "-> ");
        print_expr(c, &line, r->from, AST_PREC_IF);
        if (r->to) {
            sb_str(&line, " .. ");
            print_expr(c, &line, r->to, AST_PREC_IF);
        }
        place_sb(c, FMT_INDENT, FMT_INDENT, &line, r->span.start, r->span.end, item_rule(i), BLANK_KEEP,
                 true);
    }
    block_close(c, d);
    sb_free(&line);
    for (int i = 0; i < n; i++) free(intervals[i]);
    free(intervals);
}

/* The rows of a grades table at INDENT, one grade a line, in columns: the name, then
 * `top`/`next` QUOTA or `rest`, then `factor X` (docs/language.md §11.1). */
static void format_grade_rows(fmt_ctx *c, const ast_grades *g, int indent)
{
    size_t name_w = 0, quota_w = 0;
    char **quotas = xcalloc((size_t)g->row_count + 1, sizeof *quotas);
    for (int i = 0; i < g->row_count; i++) {
        const ast_grade *r = &g->rows[i];
        if (str_width(r->name) > name_w) name_w = str_width(r->name);
        sbuf b = { 0 };
        /* the first grade is `top`, the others `next` (the checker refuses any other
         * order, so this only spells what was written) */
        sb_str(&b, r->rest ? "rest" : i == 0 ? "top " : "next ");
        if (r->quota) print_expr(c, &b, r->quota, AST_PREC_IF);
        quotas[i] = b.data;
        if (str_width(b.data) > quota_w) quota_w = str_width(b.data);
    }
    sbuf line = { 0 };
    for (int i = 0; i < g->row_count; i++) {
        const ast_grade *r = &g->rows[i];
        sb_str(&line, r->name);
        sb_pad_to(&line, 0, name_w + FMT_GAP);
        sb_str(&line, quotas[i]);
        if (r->factor) {
            sb_pad_to(&line, 0, name_w + FMT_GAP + quota_w + FMT_GAP);
            sb_str(&line, "factor ");
            print_expr(c, &line, r->factor, AST_PREC_IF);
        }
        place_sb(c, indent, indent, &line, r->span.start, r->span.end, item_rule(i), BLANK_KEEP, true);
    }
    sb_free(&line);
    for (int i = 0; i < g->row_count; i++) free(quotas[i]);
    free(quotas);
}

static void format_grades(fmt_ctx *c, const ast_decl *d, blank_rule first)
{
    sbuf line = { 0 };
    sb_str(&line, "grades ");
    sb_str(&line, d->name);
    uint32_t after = d->name_span.end;
    if (d->u.grades.label) {
        sb_str(&line, " ");
        add_slice(c, &line, d->u.grades.label_span);
        after = d->u.grades.label_span.end;
    }
    block_open(c, d, &line, after, d->u.grades.table->row_count, first);
    format_grade_rows(c, d->u.grades.table, FMT_INDENT);
    block_close(c, d);
    sb_free(&line);
}

static void format_role(fmt_ctx *c, const ast_decl *d, blank_rule first)
{
    int n = d->u.role.item_count;
    const ast_role_item *items = d->u.role.items;
    /* The kpi lines' columns: name, weight, target. */
    char **weights = xcalloc((size_t)n + 1, sizeof *weights);
    size_t name_w = 0, weight_w = 0;
    for (int i = 0; i < n; i++) {
        if (items[i].kind != ROLE_KPI) continue;
        weights[i] = expr_text(c, items[i].weight);
        size_t w = str_width(items[i].indicator) + (items[i].shared ? strlen(" shared") : 0);
        if (w > name_w) name_w = w;
        w = str_width(weights[i]);
        if (w > weight_w) weight_w = w;
    }
    sbuf line = { 0 };
    sb_str(&line, "role ");
    sb_str(&line, d->name);
    uint32_t after = d->name_span.end;
    if (d->u.role.label) {
        sb_str(&line, " ");
        add_slice(c, &line, d->u.role.label_span);
        after = d->u.role.label_span.end;
    }
    if (d->u.role.has_grain) {
        sb_str(&line, " ");
        sb_str(&line, ast_grain_name(d->u.role.grain));
        after = d->u.role.grain_span.end;
    }
    block_open(c, d, &line, after, n, first);
    for (int i = 0; i < n; i++) {
        const ast_role_item *it = &items[i];
        switch (it->kind) {
        case ROLE_KPI: {
            /* columns, counted from the item's indentation: `kpi NAME`, `weight W`,
             * `target OP T` (strlen("kpi ") is 4, strlen("weight ") and strlen("points ")
             * are 7) */
            size_t weight_col = 4 + name_w + FMT_GAP;
            size_t target_col = weight_col + 7 + weight_w + FMT_GAP;
            sb_str(&line, "kpi ");
            sb_str(&line, it->indicator);
            if (it->shared) sb_str(&line, " shared");
            sb_pad_to(&line, 0, weight_col);
            sb_str(&line, "weight ");
            sb_str(&line, weights[i]);
            if (it->has_target) {
                sb_pad_to(&line, 0, target_col);
                sb_str(&line, it->comparator == CMP_LE ? "target <= " : "target >= ");
                print_expr(c, &line, it->target, AST_PREC_IF);
            }
            if (!it->points) {
                place_sb(c, FMT_INDENT, FMT_INDENT, &line, it->span.start, it->span.end, item_rule(i),
                         BLANK_KEEP, true);
                break;
            }
            /* A kpi's own points: on the kpi line when it fits and no comment stands
             * between them; otherwise on the next line, where it still follows its kpi. */
            uint32_t main_end = token_end(c, it->has_target ? it->target->span.end : it->weight->span.end);
            uint32_t points_at = next_token(c, main_end);
            char *points = expr_text(c, it->points);
            /* without a target, `points` takes the target's column (padding that is not
             * followed by anything is trimmed when the line is placed) */
            if (!it->has_target) sb_pad_to(&line, 0, target_col - FMT_GAP);
            size_t width = FMT_INDENT + text_width(line.data, line.len) + FMT_GAP + 7 + str_width(points);
            if (width <= FMT_WIDTH && !comment_in(c, main_end, points_at)) {
                sb_spaces(&line, FMT_GAP);
                sb_str(&line, "points ");
                sb_str(&line, points);
                place_sb(c, FMT_INDENT, FMT_INDENT, &line, it->span.start, it->span.end, item_rule(i),
                         BLANK_KEEP, true);
            } else {
                place_sb(c, FMT_INDENT, FMT_INDENT, &line, it->span.start, main_end, item_rule(i), BLANK_KEEP,
                         true);
                sb_str(&line, "points ");
                sb_str(&line, points);
                place_sb(c, FMT_KPI_POINTS, FMT_KPI_POINTS, &line, points_at, it->span.end, BLANK_NO,
                         BLANK_NO, false);
            }
            free(points);
            break;
        }
        case ROLE_POINTS:
        case ROLE_GATE:
        case ROLE_BONUS:
            sb_str(&line, it->kind == ROLE_POINTS ? "points" : it->kind == ROLE_GATE ? "gate" : "bonus");
            sb_pad_to(&line, 0, FMT_KEYWORD + 1);
            if (it->kind == ROLE_POINTS) {
                sb_str(&line, it->scale);
            } else if (it->pool) {
                /* canonical order: share, cap, floor */
                sb_str(&line, "pool ");
                sb_str(&line, it->pool);
                sb_str(&line, " share ");
                print_expr(c, &line, it->share, AST_PREC_IF);
                if (it->cap) {
                    sb_str(&line, " cap ");
                    print_expr(c, &line, it->cap, AST_PREC_IF);
                }
                if (it->floor) {
                    sb_str(&line, " floor ");
                    print_expr(c, &line, it->floor, AST_PREC_IF);
                }
            } else {
                print_expr(c, &line, it->expr, AST_PREC_IF);
            }
            place_sb(c, FMT_INDENT, FMT_INDENT, &line, it->span.start, it->span.end, item_rule(i), BLANK_KEEP,
                     true);
            break;
        case ROLE_MISSING:
            sb_str(&line, it->missing_skip ? "missing skip" : "missing zero");
            place_sb(c, FMT_INDENT, FMT_INDENT, &line, it->span.start, it->span.end, item_rule(i), BLANK_KEEP,
                     true);
            break;
        case ROLE_GRADES:
            if (it->grades_name) {
                sb_str(&line, "grades ");
                sb_str(&line, it->grades_name);
                place_sb(c, FMT_INDENT, FMT_INDENT, &line, it->span.start, it->span.end, item_rule(i),
                         BLANK_KEEP, true);
                break;
            }
            if (it->grades->row_count == 0 &&
                !comment_in(c, it->grades->span.start + 1, it->grades->span.end - 1)) {
                sb_str(&line, "grades {}");
                place_sb(c, FMT_INDENT, FMT_INDENT, &line, it->span.start, it->span.end, item_rule(i),
                         BLANK_KEEP, true);
                break;
            }
            sb_str(&line, "grades {");
            place_sb(c, FMT_INDENT, FMT_INDENT, &line, it->span.start, it->grades->span.start + 1,
                     item_rule(i), BLANK_KEEP, true);
            format_grade_rows(c, it->grades, 2 * FMT_INDENT);
            place(c, FMT_INDENT, 2 * FMT_INDENT, "}", 1, it->grades->span.end - 1, it->grades->span.end,
                  BLANK_NO, BLANK_KEEP, false);
            break;
        }
    }
    block_close(c, d);
    sb_free(&line);
    for (int i = 0; i < n; i++) free(weights[i]);
    free(weights);
}

static void format_indicator(fmt_ctx *c, const ast_decl *d, blank_rule first)
{
    sbuf line = { 0 };
    sb_str(&line, "indicator ");
    sb_str(&line, d->name);
    if (d->u.indicator.label) {
        sb_str(&line, " ");
        add_slice(c, &line, d->u.indicator.label_span);
    }
    sb_str(&line, " ");
    sb_str(&line, ast_unit_name(d->u.indicator.unit));
    uint32_t header_end = d->u.indicator.unit_span.end;
    if (d->u.indicator.per_staff) {
        sb_str(&line, " per staff");
        header_end = d->u.indicator.per_staff_span.end;
    }
    uint32_t eq = next_token(c, header_end);
    uint32_t expr_end = d->u.indicator.note ? token_end(c, d->u.indicator.expr->span.end) : d->span.end;
    char *expr = expr_text(c, d->u.indicator.expr);
    size_t width = text_width(line.data, line.len) + 3 + str_width(expr);
    if (width <= FMT_WIDTH && !comment_in(c, header_end, eq)) {
        sb_str(&line, " = ");
        sb_str(&line, expr);
        place_sb(c, 0, 0, &line, d->span.start, expr_end, first, BLANK_KEEP, true);
    } else {
        place_sb(c, 0, 0, &line, d->span.start, header_end, first, BLANK_KEEP, true);
        sb_str(&line, "= ");
        sb_str(&line, expr);
        place_sb(c, FMT_INDENT, FMT_INDENT, &line, eq, expr_end, BLANK_NO, BLANK_NO, false);
    }
    free(expr);
    if (d->u.indicator.note) {
        sb_str(&line, "note ");
        add_slice(c, &line, d->u.indicator.note_span);
        place_sb(c, FMT_INDENT, FMT_INDENT, &line, next_token(c, expr_end), d->span.end, BLANK_NO, BLANK_NO,
                 false);
    }
    sb_free(&line);
}

/* The target of an expectation, rebuilt from its parts: score[s01], points[s01].kpi. */
static void print_expect_target(const fmt_ctx *c, sbuf *b, const ast_expect *e)
{
    static const char *const words[] = { "",     "score",    "bonus", "points", "achievement",
                                         "gate", "unscored", "grade", "rank",   "percentile" };
    sb_str(b, e->target == EXPECT_INDICATOR ? (e->name ? e->name : "") : words[e->target]);
    if (e->staff) {
        sb_str(b, "[");
        add_slice(c, b, e->staff_span);
        sb_str(b, "]");
    }
    if ((e->target == EXPECT_POINTS || e->target == EXPECT_ACHIEVEMENT) && e->name) {
        sb_str(b, ".");
        sb_str(b, e->name);
    } else if (e->target == EXPECT_GATE && e->gate > 0) {
        char n[16];
        snprintf(n, sizeof n, ".%d", e->gate);
        sb_str(b, n);
    }
}

static void print_expect(const fmt_ctx *c, sbuf *b, const ast_expect *e)
{
    sb_str(b, "expect ");
    print_expect_target(c, b, e);
    switch (e->check) {
    case EXPECT_COMPARE:
        sb_str(b, " ");
        sb_str(b, ast_op_text(e->op));
        sb_str(b, " ");
        print_expr(c, b, e->value, AST_PREC_IF);
        break;
    case EXPECT_WITHIN:
        sb_str(b, " within ");
        print_expr(c, b, e->tolerance, AST_PREC_IF);
        sb_str(b, " of ");
        print_expr(c, b, e->value, AST_PREC_IF);
        break;
    case EXPECT_NULL: sb_str(b, " is null"); break;
    case EXPECT_PASSED: sb_str(b, " passed"); break;
    case EXPECT_FAILED: sb_str(b, " failed"); break;
    case EXPECT_HOLDS: break;
    }
}

/* A test: its items in the order written (comments stay beside them); inline data
 * lines are kept byte for byte, one indentation deeper than the items. */
static void format_test(fmt_ctx *c, const ast_decl *d, blank_rule first)
{
    int nd = d->u.test.data_count, ne = d->u.test.expect_count;
    bool has_period = d->u.test.period != NULL;
    int items = nd + ne + has_period;
    sbuf line = { 0 };
    sb_str(&line, "test ");
    add_slice(c, &line, d->name_span);
    block_open(c, d, &line, d->name_span.end, items, first);
    int di = 0, ei = 0;
    bool period_done = !has_period;
    for (int i = 0; i < items; i++) {
        /* the next item in source order */
        uint32_t at_period = period_done ? UINT32_MAX : d->u.test.period_span.start;
        uint32_t at_data = di < nd ? d->u.test.data[di].span.start : UINT32_MAX;
        uint32_t at_expect = ei < ne ? d->u.test.expects[ei].span.start : UINT32_MAX;
        if (at_period < at_data && at_period < at_expect) {
            sb_str(&line, "period ");
            sb_str(&line, d->u.test.period);
            place_sb(c, FMT_INDENT, FMT_INDENT, &line, d->u.test.period_item_span.start,
                     d->u.test.period_item_span.end, item_rule(i), BLANK_KEEP, true);
            period_done = true;
        } else if (at_data < at_expect) {
            const ast_test_data *t = &d->u.test.data[di++];
            sb_str(&line, "data ");
            sb_str(&line, t->source);
            if (t->path) {
                sb_str(&line, " from ");
                add_slice(c, &line, t->path_span);
                place_sb(c, FMT_INDENT, FMT_INDENT, &line, t->span.start, t->span.end, item_rule(i),
                         BLANK_KEEP, true);
                continue;
            }
            sb_str(&line, " {");
            uint32_t brace = next_token(c, t->source_span.end);
            place_sb(c, FMT_INDENT, FMT_INDENT, &line, t->span.start, brace + 1, item_rule(i), BLANK_KEEP,
                     true);
            for (int k = 0; k < t->line_count; k++) {
                size_t len = strlen(t->lines[k]);
                place(c, len ? 2 * FMT_INDENT : 0, 2 * FMT_INDENT, t->lines[k], len, t->line_spans[k].start,
                      t->line_spans[k].end, BLANK_NO, BLANK_NO, false);
            }
            place(c, FMT_INDENT, 2 * FMT_INDENT, "}", 1, t->span.end - 1, t->span.end, BLANK_NO, BLANK_KEEP,
                  false);
        } else {
            const ast_expect *e = &d->u.test.expects[ei++];
            print_expect(c, &line, e);
            place_sb(c, FMT_INDENT, FMT_INDENT, &line, e->span.start, e->span.end, item_rule(i), BLANK_KEEP,
                     true);
        }
    }
    block_close(c, d);
    sb_free(&line);
}

static void format_decl(fmt_ctx *c, const ast_decl *d, blank_rule first)
{
    sbuf line = { 0 };
    switch (d->kind) {
    case DECL_IMPORT:
        sb_str(&line, "import ");
        add_slice(c, &line, d->u.import.path_span);
        break;
    case DECL_PERIOD:
        sb_str(&line, "period ");
        sb_str(&line, ast_grain_name(d->u.period.grain));
        break;
    case DECL_CURRENCY:
        sb_str(&line, "currency ");
        add_slice(c, &line, d->u.currency.code_span);
        break;
    case DECL_SET:
        sb_str(&line, "set ");
        sb_str(&line, d->name);
        sb_str(&line, " = ");
        print_expr(c, &line, d->u.set.column, AST_PREC_IF);
        print_clauses(c, &line, d->u.set.where, d->u.set.having, d->u.set.over, true);
        break;
    case DECL_SOURCE:
    case DECL_STAFF: format_columns(c, d, first); return;
    case DECL_SCALE: format_scale(c, d, first); return;
    case DECL_ROLE: format_role(c, d, first); return;
    case DECL_INDICATOR: format_indicator(c, d, first); return;
    case DECL_TEST: format_test(c, d, first); return;
    case DECL_GRADES:
        format_grades(c, d, first);
        sb_free(&line);
        return;
    case DECL_POOL:
        sb_str(&line, "pool ");
        sb_str(&line, d->name);
        if (d->u.pool.label) {
            sb_str(&line, " ");
            add_slice(c, &line, d->u.pool.label_span);
        }
        sb_str(&line, " = ");
        print_expr(c, &line, d->u.pool.amount, AST_PREC_IF);
        break;
    }
    place_sb(c, 0, 0, &line, d->span.start, d->span.end, first, BLANK_KEEP, true);
    sb_free(&line);
}

/* Runs of imports, and runs of period/currency lines, are not separated by blank lines. */
static bool same_header_group(const ast_decl *a, const ast_decl *b)
{
    if (a->kind == DECL_IMPORT) return b->kind == DECL_IMPORT;
    bool a_head = a->kind == DECL_PERIOD || a->kind == DECL_CURRENCY;
    bool b_head = b->kind == DECL_PERIOD || b->kind == DECL_CURRENCY;
    return a_head && b_head;
}

/* The comment's text without trailing white space (a CR of a CRLF line included). */
static size_t comment_len(const fmt_ctx *c, const ast_comment *cm)
{
    uint32_t end = cm->span.end;
    while (end > cm->span.start && is_space(c->src[end - 1])) end--;
    return end - cm->span.start;
}

/* Writes the lines out, aligning the trailing comments of each run of consecutive item
 * lines of a block (a blank line or a comment line ends a run). */
static void render(const fmt_ctx *c, sbuf *out)
{
    size_t i = 0;
    while (i < c->line_count) {
        /* the run starting at line i */
        size_t j = i + 1;
        const fmt_line *l = &c->lines[i];
        if (l->block > 0 && !l->comment_only) {
            while (j < c->line_count && c->lines[j].block == l->block && !c->lines[j].comment_only &&
                   !c->lines[j].blank_before)
                j++;
        }
        size_t column = 0;
        for (size_t k = i; k < j; k++) {
            const fmt_line *m = &c->lines[k];
            if (m->comment < 0 || m->comment_only) continue;
            size_t w = (size_t)m->indent + text_width(c->texts.data + m->text, m->len) + FMT_GAP;
            if (w > column) column = w;
        }
        for (size_t k = i; k < j; k++) {
            const fmt_line *m = &c->lines[k];
            if (m->blank_before && out->len > 0) sb_str(out, "\n");
            size_t start = out->len;
            sb_spaces(out, (size_t)m->indent);
            sb_add(out, c->texts.data + m->text, m->len);
            if (m->comment >= 0) {
                const ast_comment *cm = &c->comments[m->comment];
                if (!m->comment_only) sb_pad_to(out, start, column);
                sb_add(out, c->src + cm->span.start, comment_len(c, cm));
            }
            sb_str(out, "\n");
        }
        i = j;
    }
}

char *fmt_format(const ast_file *file, const diag_sink *diags, size_t *len)
{
    const diag_file *f = diag_get_file(diags, file->file);
    fmt_ctx c;
    memset(&c, 0, sizeof c);
    c.src = f->text;
    c.src_len = (uint32_t)f->len;
    c.comments = file->comments;
    c.comment_count = file->comment_count;
    for (size_t i = 0; i < file->decls.len; i++) {
        const ast_decl *d = file->decls.items[i];
        blank_rule first = BLANK_YES;
        if (i == 0 || same_header_group(file->decls.items[i - 1], d)) first = BLANK_NO;
        format_decl(&c, d, first);
    }
    /* comments after the last declaration */
    place_comments(&c, UINT32_MAX, 0, BLANK_KEEP, BLANK_KEEP);

    sbuf out = { 0 };
    render(&c, &out);
    if (!out.data) sb_str(&out, "");
    *len = out.len;
    sb_free(&c.texts);
    free(c.lines);
    return out.data;
}

char *fmt_expr(const ast_expr *e, const diag_sink *diags)
{
    const diag_file *f = diag_get_file(diags, e->span.file);
    fmt_ctx c = { .src = f ? f->text : "", .src_len = f ? (uint32_t)f->len : 0 };
    sbuf b = { 0 };
    print_expr(&c, &b, e, AST_PREC_IF);
    if (!b.data) sb_str(&b, "");
    return b.data;
}
