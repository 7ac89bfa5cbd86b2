/* Unit tests for the formatter (fmt.h).
 *
 * Exact layouts for each construct and for a comment in every position, the parentheses
 * the printer must keep, and the three guarantees checked on every .kpi
 * file of the repository (tests/cases and kpi-specs, found at test time) and on every
 * sample here: formatting is idempotent, the output parses to the same tree (ast_equal
 * below compares everything but spans), and every comment survives, in order.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "kpic/ast.h"
#include "kpic/fmt.h"

/* ---- parsing and formatting text ----------------------------------------------------- */

typedef struct parsed {
    diag_sink diags;
    arena mem;
    ast_file *file;
    const char *text; /* the sink's copy */
    size_t len;
} parsed;

static void parse_text(parsed *p, const char *text, size_t len)
{
    diag_init(&p->diags);
    arena_init(&p->mem);
    char *copy = xmalloc(len + 1);
    memcpy(copy, text, len);
    copy[len] = '\0';
    uint32_t file = diag_add_file(&p->diags, "t.kpi", copy, len);
    p->file = ast_parse_file(&p->mem, &p->diags, file);
    p->text = copy;
    p->len = len;
}

static void parsed_free(parsed *p)
{
    arena_free(&p->mem);
    diag_free(&p->diags);
}

static void print_errors(parsed *p, const char *what)
{
    fprintf(stderr, "%s does not parse:\n", what);
    diag_print(&p->diags, stderr, DIAG_FORMAT_TEXT);
}

/* ---- comparing trees, spans aside ------------------------------------------------------ */

/* Where the last difference was found, for the failure message. */
static char mismatch[512];

static bool differ(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(mismatch, sizeof mismatch, fmt, ap);
    va_end(ap);
    return false;
}

static bool str_eq(const char *a, const char *b)
{
    if (!a || !b) return a == b;
    return strcmp(a, b) == 0;
}

static bool window_equal(const ast_window *a, const ast_window *b)
{
    if (!a || !b) return a == b ? true : differ("an over clause on one side only");
    if (a->kind != b->kind) return differ("window kinds %d and %d", a->kind, b->kind);
    if (a->kind == WINDOW_LAST && (a->count != b->count || a->unit != b->unit))
        return differ("windows 'last %lld' and 'last %lld'", (long long)a->count, (long long)b->count);
    return true;
}

static bool expr_equal(const ast_expr *a, const ast_expr *b)
{
    if (!a || !b) return a == b ? true : differ("an expression on one side only");
    if (a->kind != b->kind) return differ("expression kinds %d and %d", a->kind, b->kind);
    switch (a->kind) {
    case EX_ERROR: return differ("an error node");
    case EX_NUMBER:
    case EX_PERCENT:
    case EX_DATE:
    case EX_STRING:
    case EX_BOOL:
    case EX_INF:
        if (!str_eq(a->u.lit.raw, b->u.lit.raw) || !str_eq(a->u.lit.text, b->u.lit.text) ||
            a->u.lit.boolean != b->u.lit.boolean)
            return differ("literals %s and %s", a->u.lit.raw, b->u.lit.raw);
        return true;
    case EX_NAME:
        return str_eq(a->u.name.name, b->u.name.name)
                   ? true
                   : differ("names %s and %s", a->u.name.name, b->u.name.name);
    case EX_MEMBER:
        if (!str_eq(a->u.member.base, b->u.member.base) || !str_eq(a->u.member.member, b->u.member.member))
            return differ("members %s.%s and %s.%s", a->u.member.base, a->u.member.member, b->u.member.base,
                          b->u.member.member);
        return true;
    case EX_UNARY:
    case EX_BINARY:
        if (a->u.op.op != b->u.op.op)
            return differ("operators %s and %s", ast_op_text(a->u.op.op), ast_op_text(b->u.op.op));
        return expr_equal(a->u.op.lhs, b->u.op.lhs) && expr_equal(a->u.op.rhs, b->u.op.rhs);
    case EX_IF:
        return expr_equal(a->u.cond.cond, b->u.cond.cond) &&
               expr_equal(a->u.cond.then_expr, b->u.cond.then_expr) &&
               expr_equal(a->u.cond.else_expr, b->u.cond.else_expr);
    case EX_IN_LIST:
        if (a->u.in.items.len != b->u.in.items.len) return differ("in-lists of different length");
        for (size_t i = 0; i < a->u.in.items.len; i++)
            if (!expr_equal(a->u.in.items.items[i], b->u.in.items.items[i])) return false;
        return expr_equal(a->u.in.lhs, b->u.in.lhs);
    case EX_IN_SET:
        if (!str_eq(a->u.in.set_name, b->u.in.set_name))
            return differ("sets %s and %s", a->u.in.set_name, b->u.in.set_name);
        return expr_equal(a->u.in.lhs, b->u.in.lhs);
    case EX_IN_PERIOD:
        if (a->u.in.rel != b->u.in.rel) return differ("period relations differ");
        return expr_equal(a->u.in.lhs, b->u.in.lhs);
    case EX_CALL:
        if (!str_eq(a->u.call.name, b->u.call.name))
            return differ("calls %s and %s", a->u.call.name, b->u.call.name);
        if (a->u.call.args.len != b->u.call.args.len)
            return differ("calls of %s with different argument counts", a->u.call.name);
        for (size_t i = 0; i < a->u.call.args.len; i++)
            if (!expr_equal(a->u.call.args.items[i], b->u.call.args.items[i])) return false;
        return expr_equal(a->u.call.where, b->u.call.where) &&
               expr_equal(a->u.call.having, b->u.call.having) && window_equal(a->u.call.over, b->u.call.over);
    }
    return differ("unknown expression kind");
}

static bool column_equal(const ast_column *a, const ast_column *b)
{
    if (!str_eq(a->name, b->name) || a->type != b->type || a->is_time != b->is_time ||
        a->is_staff != b->is_staff)
        return differ("columns %s and %s", a->name, b->name);
    return true;
}

static bool row_equal(const ast_scale_row *a, const ast_scale_row *b)
{
    if (a->lo_closed != b->lo_closed || a->hi_closed != b->hi_closed)
        return differ("interval brackets differ");
    return expr_equal(a->lo, b->lo) && expr_equal(a->hi, b->hi) && expr_equal(a->from, b->from) &&
           expr_equal(a->to, b->to);
}

static bool grades_equal(const ast_grades *a, const ast_grades *b)
{
    if (!a || !b) return a == b ? true : differ("one grades table is missing");
    if (a->row_count != b->row_count) return differ("grade counts differ");
    for (int i = 0; i < a->row_count; i++) {
        const ast_grade *x = &a->rows[i], *y = &b->rows[i];
        if (!str_eq(x->name, y->name) || x->rest != y->rest)
            return differ("grades %s and %s", x->name, y->name);
        if (!expr_equal(x->quota, y->quota) || !expr_equal(x->factor, y->factor)) return false;
    }
    return true;
}

static bool item_equal(const ast_role_item *a, const ast_role_item *b)
{
    if (a->kind != b->kind) return differ("role item kinds %d and %d", a->kind, b->kind);
    switch (a->kind) {
    case ROLE_KPI:
        if (!str_eq(a->indicator, b->indicator) || a->has_target != b->has_target ||
            (a->has_target && a->comparator != b->comparator))
            return differ("kpis %s and %s", a->indicator, b->indicator);
        return expr_equal(a->weight, b->weight) && expr_equal(a->target, b->target) &&
               expr_equal(a->points, b->points);
    case ROLE_POINTS:
        return str_eq(a->scale, b->scale) ? true : differ("points %s and %s", a->scale, b->scale);
    case ROLE_GATE:
    case ROLE_BONUS:
        if (!str_eq(a->pool, b->pool)) return differ("bonus pools %s and %s", a->pool, b->pool);
        return expr_equal(a->expr, b->expr) && expr_equal(a->share, b->share) && expr_equal(a->cap, b->cap) &&
               expr_equal(a->floor, b->floor);
    case ROLE_MISSING: return a->missing_skip == b->missing_skip ? true : differ("missing policies differ");
    case ROLE_GRADES:
        if (!str_eq(a->grades_name, b->grades_name))
            return differ("grades %s and %s", a->grades_name, b->grades_name);
        return a->grades_name ? true : grades_equal(a->grades, b->grades);
    }
    return differ("unknown role item kind");
}

static bool expect_equal(const ast_expect *a, const ast_expect *b)
{
    if (a->target != b->target || !str_eq(a->name, b->name) || !str_eq(a->staff, b->staff) ||
        a->gate != b->gate || a->check != b->check || a->op != b->op)
        return differ("expectations differ");
    if ((a->value == NULL) != (b->value == NULL) || (a->tolerance == NULL) != (b->tolerance == NULL))
        return differ("expectation values differ");
    return (!a->value || expr_equal(a->value, b->value)) &&
           (!a->tolerance || expr_equal(a->tolerance, b->tolerance));
}

static bool test_equal(const ast_decl *a, const ast_decl *b)
{
    if (!str_eq(a->u.test.period, b->u.test.period)) return differ("test periods differ");
    if (a->u.test.data_count != b->u.test.data_count || a->u.test.expect_count != b->u.test.expect_count)
        return differ("test item counts differ");
    for (int i = 0; i < a->u.test.data_count; i++) {
        const ast_test_data *x = &a->u.test.data[i], *y = &b->u.test.data[i];
        if (!str_eq(x->source, y->source) || !str_eq(x->path, y->path) || x->line_count != y->line_count)
            return differ("test data differ");
        for (int k = 0; k < x->line_count; k++)
            if (!str_eq(x->lines[k], y->lines[k]))
                return differ("data lines %s and %s", x->lines[k], y->lines[k]);
    }
    for (int i = 0; i < a->u.test.expect_count; i++)
        if (!expect_equal(&a->u.test.expects[i], &b->u.test.expects[i])) return false;
    return true;
}

static bool decl_equal(const ast_decl *a, const ast_decl *b)
{
    if (a->kind != b->kind) return differ("declaration kinds %d and %d", a->kind, b->kind);
    if (!str_eq(a->name, b->name)) return differ("declarations %s and %s", a->name, b->name);
    switch (a->kind) {
    case DECL_TEST: return test_equal(a, b);
    case DECL_IMPORT:
        return str_eq(a->u.import.path, b->u.import.path) ? true : differ("import paths differ");
    case DECL_PERIOD: return a->u.period.grain == b->u.period.grain ? true : differ("grains differ");
    case DECL_CURRENCY:
        return str_eq(a->u.currency.code, b->u.currency.code) ? true : differ("currencies differ");
    case DECL_SOURCE:
    case DECL_STAFF:
        if (!str_eq(a->u.source.path, b->u.source.path)) return differ("source paths differ");
        if (a->u.source.column_count != b->u.source.column_count)
            return differ("%s: column counts differ", a->name);
        for (int i = 0; i < a->u.source.column_count; i++)
            if (!column_equal(&a->u.source.columns[i], &b->u.source.columns[i])) return false;
        return true;
    case DECL_INDICATOR:
        if (!str_eq(a->u.indicator.label, b->u.indicator.label) ||
            a->u.indicator.unit != b->u.indicator.unit ||
            a->u.indicator.per_staff != b->u.indicator.per_staff ||
            !str_eq(a->u.indicator.note, b->u.indicator.note))
            return differ("indicator %s: header or note differs", a->name);
        return expr_equal(a->u.indicator.expr, b->u.indicator.expr);
    case DECL_SET:
        return expr_equal(a->u.set.column, b->u.set.column) && expr_equal(a->u.set.where, b->u.set.where) &&
               expr_equal(a->u.set.having, b->u.set.having) && window_equal(a->u.set.over, b->u.set.over);
    case DECL_SCALE:
        if (a->u.scale.row_count != b->u.scale.row_count)
            return differ("scale %s: row counts differ", a->name);
        for (int i = 0; i < a->u.scale.row_count; i++)
            if (!row_equal(&a->u.scale.rows[i], &b->u.scale.rows[i])) return false;
        return true;
    case DECL_GRADES:
        if (!str_eq(a->u.grades.label, b->u.grades.label)) return differ("grades labels differ");
        return grades_equal(a->u.grades.table, b->u.grades.table);
    case DECL_POOL:
        if (!str_eq(a->u.pool.label, b->u.pool.label)) return differ("pool labels differ");
        return expr_equal(a->u.pool.amount, b->u.pool.amount);
    case DECL_ROLE:
        if (!str_eq(a->u.role.label, b->u.role.label)) return differ("role labels differ");
        if (a->u.role.item_count != b->u.role.item_count)
            return differ("role %s: item counts differ", a->name);
        for (int i = 0; i < a->u.role.item_count; i++)
            if (!item_equal(&a->u.role.items[i], &b->u.role.items[i])) return false;
        return true;
    }
    return differ("unknown declaration kind");
}

/* Same declarations, expression trees, literals and names; spans are not compared. */
static bool ast_equal(const ast_file *a, const ast_file *b)
{
    if (a->decls.len != b->decls.len)
        return differ("%zu declarations against %zu", a->decls.len, b->decls.len);
    for (size_t i = 0; i < a->decls.len; i++)
        if (!decl_equal(a->decls.items[i], b->decls.items[i])) return false;
    return true;
}

/* The comment's text as the formatter keeps it: trailing white space dropped. */
static size_t comment_text(const parsed *p, int i, const char **text)
{
    kp_span s = p->file->comments[i].span;
    size_t end = s.end;
    while (end > s.start && strchr(" \t\r\f\v", p->text[end - 1])) end--;
    *text = p->text + s.start;
    return end - s.start;
}

static bool comments_equal(const parsed *a, const parsed *b)
{
    if (a->file->comment_count != b->file->comment_count)
        return differ("%d comments against %d", a->file->comment_count, b->file->comment_count);
    for (int i = 0; i < a->file->comment_count; i++) {
        const char *ta, *tb;
        size_t la = comment_text(a, i, &ta), lb = comment_text(b, i, &tb);
        if (la != lb || memcmp(ta, tb, la) != 0)
            return differ("comment %d: '%.*s' against '%.*s'", i, (int)la, ta, (int)lb, tb);
    }
    return true;
}

/* ---- the guarantees ---------------------------------------------------------------- */

/* The canonical layout's own rules: no trailing white space, no blank line first or last,
 * exactly one final newline, never two blank lines in a row. */
static bool layout_clean(const char *s, size_t len)
{
    if (len == 0) return true;
    if (s[len - 1] != '\n') return differ("no final newline");
    if (len >= 2 && s[len - 2] == '\n') return differ("blank line at the end");
    if (s[0] == '\n') return differ("blank line at the start");
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n' && i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t'))
            return differ("trailing white space before offset %zu", i);
        if (i + 2 < len && s[i] == '\n' && s[i + 1] == '\n' && s[i + 2] == '\n')
            return differ("two blank lines at offset %zu", i);
    }
    return true;
}

/* Formats text (which must parse cleanly) and checks idempotence, the same tree, every
 * comment kept, and a clean layout. Returns the formatted text (malloc'd). */
static char *check_guarantees(const char *what, const char *text, size_t len, size_t *out_len)
{
    parsed in;
    parse_text(&in, text, len);
    if (in.diags.errors) print_errors(&in, what);
    assert_int_equal(in.diags.errors, 0);
    size_t n1;
    char *once = fmt_format(in.file, &in.diags, &n1);

    parsed out;
    parse_text(&out, once, n1);
    if (out.diags.errors) {
        print_errors(&out, "the formatted text");
        fprintf(stderr, "%s formatted:\n%s", what, once);
    }
    assert_int_equal(out.diags.errors, 0);
    bool same = ast_equal(in.file, out.file);
    if (!same) fprintf(stderr, "%s: tree changed: %s\n--- formatted:\n%s", what, mismatch, once);
    assert_true(same);
    bool kept = comments_equal(&in, &out);
    if (!kept) fprintf(stderr, "%s: %s\n", what, mismatch);
    assert_true(kept);
    bool clean = layout_clean(once, n1);
    if (!clean) fprintf(stderr, "%s: %s\n%s", what, mismatch, once);
    assert_true(clean);

    size_t n2;
    char *twice = fmt_format(out.file, &out.diags, &n2);
    bool idempotent = n1 == n2 && memcmp(once, twice, n1) == 0;
    if (!idempotent) fprintf(stderr, "%s: not idempotent:\n--- once:\n%s--- twice:\n%s", what, once, twice);
    assert_true(idempotent);
    free(twice);
    parsed_free(&out);
    parsed_free(&in);
    if (out_len) *out_len = n1;
    return once;
}

/* Formats input and compares with the expected text, checking the guarantees on the way;
 * the expected text is itself checked to be a fixed point. */
static void expect_fmt(const char *input, const char *expected)
{
    size_t n;
    char *got = check_guarantees("input", input, strlen(input), &n);
    if (strcmp(got, expected) != 0) fprintf(stderr, "--- expected:\n%s--- got:\n%s", expected, got);
    assert_string_equal(got, expected);
    free(got);
    got = check_guarantees("expected", expected, strlen(expected), &n);
    assert_string_equal(got, expected);
    free(got);
}

/* ---- layouts ------------------------------------------------------------------------ */

static void test_header_declarations(void **state)
{
    (void)state;
    expect_fmt("import   \"a.kpi\"\n\n\nimport \"b.kpi\" period   month currency \"CNY\"\n"
               "set s=orders.id\n",
               "import \"a.kpi\"\nimport \"b.kpi\"\n\nperiod month\ncurrency \"CNY\"\n\n"
               "set s = orders.id\n");
    expect_fmt("", "");
    expect_fmt("\n\n   \n", "");
}

static void test_source_columns_aligned(void **state)
{
    (void)state;
    expect_fmt("source orders \"o.csv\" { order_id text amount money paid_at date time\n"
               "staff_id text staff both date staff time }\n"
               "staff \"s.csv\" {id text role text}\n",
               "source orders \"o.csv\" {\n"
               "  order_id  text\n"
               "  amount    money\n"
               "  paid_at   date  time\n"
               "  staff_id  text  staff\n"
               "  both      date  time staff\n"
               "}\n"
               "\n"
               "staff \"s.csv\" {\n"
               "  id    text\n"
               "  role  text\n"
               "}\n");
    expect_fmt("source e \"e.csv\" {   }\nscale s {}\nrole r {\n}\n",
               "source e \"e.csv\" {}\n\nscale s {}\n\nrole r {}\n");
}

static void test_utf8_alignment_by_display_width(void **state)
{
    (void)state;
    /* 复购率 is 6 columns wide and 9 bytes long: padding counts columns */
    expect_fmt("source 订单 \"o.csv\" { 客户 text  amount money  复购率 number }\n"
               "role 运营 \"运营岗位\" { kpi 复购率 weight 50% target >= 25% kpi ab weight 50% }\n",
               "source 订单 \"o.csv\" {\n"
               "  客户    text\n"
               "  amount  money\n"
               "  复购率  number\n"
               "}\n"
               "\n"
               "role 运营 \"运营岗位\" {\n"
               "  kpi 复购率  weight 50%  target >= 25%\n"
               "  kpi ab      weight 50%\n"
               "}\n");
}

static void test_scale_rows(void **state)
{
    (void)state;
    expect_fmt("scale s { [0%,60%)->0 (60%, 100%]->60..100 [100%,150%]->100 .. 150\n"
               "(150%,inf)->150 }\n"
               "scale adj { [-inf, 0) -> -50% [0, inf) -> 1_000 }\n",
               "scale s {\n"
               "  [0%, 60%)     -> 0\n"
               "  (60%, 100%]   -> 60 .. 100\n"
               "  [100%, 150%]  -> 100 .. 150\n"
               "  (150%, inf)   -> 150\n"
               "}\n"
               "\n"
               "scale adj {\n"
               "  [-inf, 0)  -> -50%\n"
               "  [0, inf)   -> 1_000\n"
               "}\n");
}

static void test_role_columns_and_items(void **state)
{
    (void)state;
    expect_fmt("role promotion \"推广\" {\n"
               "kpi new_users weight 40% target>=1200\n"
               "kpi roi weight 30% target >= 3 points min(achievement*100,120)\n"
               "kpi complaint_rate weight 5% target <= 5%\n"
               "kpi free weight 25%\n"
               "points value*2\n"
               "points standard gate refund_rate<=8% bonus staff.base_bonus*(1+adjust(score))*employed\n"
               "missing zero }\n",
               "role promotion \"推广\" {\n"
               "  kpi new_users       weight 40%  target >= 1200\n"
               "  kpi roi             weight 30%  target >= 3  points min(achievement * 100, 120)\n"
               "  kpi complaint_rate  weight 5%   target <= 5%\n"
               "  kpi free            weight 25%  points value * 2\n"
               "  points standard\n"
               "  gate   refund_rate <= 8%\n"
               "  bonus  staff.base_bonus * (1 + adjust(score)) * employed\n"
               "  missing zero\n"
               "}\n");
}

static void test_kpi_points_too_long_for_the_line(void **state)
{
    (void)state;
    expect_fmt("role r { kpi project_delay_days weight 100% target <= 3 points if value <= target "
               "then 100 else standard(achievement) * 1 }\n",
               "role r {\n"
               "  kpi project_delay_days  weight 100%  target <= 3\n"
               "    points if value <= target then 100 else standard(achievement) * 1\n"
               "}\n");
}

static void test_indicator_fits_or_breaks(void **state)
{
    (void)state;
    expect_fmt("indicator buyers \"购买用户数\" count per staff\n  = distinct(orders.customer_id)\n",
               "indicator buyers \"购买用户数\" count per staff = distinct(orders.customer_id)\n");
    /* 101 columns on one line (the label's 3 Chinese characters count 6): breaks */
    expect_fmt("indicator rep \"复购率\" percent per staff = distinct(orders.customer_id "
               "having count() >= 2) / buyers2\n",
               "indicator rep \"复购率\" percent per staff\n"
               "  = distinct(orders.customer_id having count() >= 2) / buyers2\n");
    /* exactly 100 columns: stays */
    expect_fmt("indicator rep \"复购率\" percent per staff = distinct(orders.customer_id "
               "having count() >= 2) / buyers\n",
               "indicator rep \"复购率\" percent per staff = distinct(orders.customer_id "
               "having count() >= 2) / buyers\n");
    expect_fmt("indicator x ratio=1 note \"说明\"\n", "indicator x ratio = 1\n  note \"说明\"\n");
}

static void test_set_clause_order(void **state)
{
    (void)state;
    expect_fmt("set n = orders.customer_id over all time having min(paid_at) in period "
               "where not refunded\n"
               "set w = logins.user_id over last 1 months\n"
               "set y = logins.user_id over year to date\n"
               "set d = logins.user_id over last 30 day\n",
               "set n = orders.customer_id where not refunded having min(paid_at) in period "
               "over all time\n"
               "\n"
               "set w = logins.user_id over last 1 month\n"
               "\n"
               "set y = logins.user_id over year to date\n"
               "\n"
               "set d = logins.user_id over last 30 days\n");
}

static void test_expression_spacing(void **state)
{
    (void)state;
    expect_fmt("indicator a number=count(orders where paid_at in period over last 3 months)+"
               "count(where x in(\"a\",\"b\"))-sum(o.x having count()>=2)*-x/abs(-1)\n"
               "indicator b number=if x!=1 then previous(y) else last_year(z)\n"
               "indicator c number=d before period and e in previous period or f in buyers\n"
               "indicator e number=period.start<2025-05-01 and staff.role=\"a\\\"b\" and true\n",
               "indicator a number\n"
               "  = count(orders where paid_at in period over last 3 months) + "
               "count(where x in (\"a\", \"b\")) - sum(o.x having count() >= 2) * -x / abs(-1)\n"
               "\n"
               "indicator b number = if x != 1 then previous(y) else last_year(z)\n"
               "\n"
               "indicator c number = d before period and e in previous period or f in buyers\n"
               "\n"
               "indicator e number = period.start < 2025-05-01 and staff.role = \"a\\\"b\" and true\n");
}

/* Parentheses that change the tree stay; the others go. */
static void test_parentheses(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        { "(a + b) * c", "(a + b) * c" },
        { "a + (b * c)", "a + b * c" },
        { "a - (b - c)", "a - (b - c)" },
        { "(a - b) - c", "a - b - c" },
        { "a / (b * c)", "a / (b * c)" },
        { "-(a + b)", "-(a + b)" },
        { "-(-a)", "--a" },
        { "((a))", "a" },
        { "not (a and b)", "not (a and b)" },
        { "(not a) and b", "not a and b" },
        { "(not a) = b", "(not a) = b" },
        { "a = (not b)", "a = (not b)" },
        { "a and (not b)", "a and not b" },
        { "(a or b) and c", "(a or b) and c" },
        { "a or (b and c)", "a or b and c" },
        { "(a = b) = c", "(a = b) = c" },
        { "(a in s) = true", "(a in s) = true" },
        { "(a + b) in (1, 2)", "a + b in (1, 2)" },
        { "(if a then b else c) + 1", "(if a then b else c) + 1" },
        { "1 + (if a then b else c)", "1 + (if a then b else c)" },
        { "if (if a then b else c) then d else e", "if (if a then b else c) then d else e" },
        { "if a then b else (if c then d else e)", "if a then b else if c then d else e" },
        { "-(if a then 1 else 2)", "-(if a then 1 else 2)" },
        { "-(not a)", "-(not a)" },
        { "not (a = b)", "not a = b" },
        { "f((a or b), (c))", "f(a or b, c)" },
        { "(x) in s", "x in s" },
        { "(d in period) and (e before period)", "d in period and e before period" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char in[256], out[256];
        snprintf(in, sizeof in, "indicator x number = %s\n", cases[i][0]);
        snprintf(out, sizeof out, "indicator x number = %s\n", cases[i][1]);
        expect_fmt(in, out);
    }
}

static void test_literals_as_written(void **state)
{
    (void)state;
    expect_fmt("indicator x money=1_000_000*25%+3.50+0.5%-inf\nscale s{[-inf,1_0.0_1)->1_0%}\n",
               "indicator x money = 1_000_000 * 25% + 3.50 + 0.5% - inf\n"
               "\n"
               "scale s {\n"
               "  [-inf, 1_0.0_1)  -> 1_0%\n"
               "}\n");
}

/* ---- comments in every position -------------------------------------------------------- */

static void test_comments_at_file_start_and_end(void **state)
{
    (void)state;
    expect_fmt("\n\n# header\n#\n\n# about period\nperiod month\n# end\n\n\n# last\n",
               "# header\n#\n\n# about period\nperiod month\n# end\n\n# last\n");
    expect_fmt("# only\n\n\n# comments   \n", "# only\n\n# comments\n");
}

static void test_comment_before_declaration(void **state)
{
    (void)state;
    /* a comment between declarations goes with the one after it; the blank line between
     * declarations comes before the comment */
    expect_fmt("period month\n# about the set\nset s = o.id\n",
               "period month\n\n# about the set\nset s = o.id\n");
    expect_fmt("set s = o.id\n\n\n# section\n\n\n# about t\nset t = o.id\n",
               "set s = o.id\n\n# section\n\n# about t\nset t = o.id\n");
    /* within a group of imports no blank line is added */
    expect_fmt("import \"a\"\n# b next\nimport \"b\"\n", "import \"a\"\n# b next\nimport \"b\"\n");
}

static void test_trailing_comment_after_declaration(void **state)
{
    (void)state;
    expect_fmt("period month   # monthly\ncurrency \"CNY\"# yuan\t \r\nset s = o.id #s\n",
               "period month  # monthly\ncurrency \"CNY\"  # yuan\n\nset s = o.id  #s\n");
}

static void test_comments_in_blocks(void **state)
{
    (void)state;
    expect_fmt("source o \"o.csv\" { # after the brace\n"
               "\n"
               "  # before the first column\n"
               "  id text # the id\n"
               "  amount money   # long comment\n"
               "\n"
               "\n"
               "  # a group\n"
               "\n"
               "  paid_at date time\n"
               "  at date # aligned again\n"
               "\n"
               "  # before the brace\n"
               "\n"
               "} # after the brace\n",
               "source o \"o.csv\" {  # after the brace\n"
               "  # before the first column\n"
               "  id       text   # the id\n"
               "  amount   money  # long comment\n"
               "\n"
               "  # a group\n"
               "\n"
               "  paid_at  date  time\n"
               "  at       date  # aligned again\n"
               "\n"
               "  # before the brace\n"
               "}  # after the brace\n");
    expect_fmt("scale s { # only comments\n  # inside\n}\n", "scale s {  # only comments\n  # inside\n}\n");
    expect_fmt("role r {\n}  # empty\n", "role r {}  # empty\n");
}

static void test_comments_in_header_and_items(void **state)
{
    (void)state;
    /* inside a header or an item that spans lines: moved above that line */
    expect_fmt("source o # where it is\n \"o.csv\" {\n  id # the key\n  text\n}\n",
               "# where it is\nsource o \"o.csv\" {\n  # the key\n  id  text\n}\n");
    expect_fmt("scale s {\n  [0, 1)   # lower\n -> 0\n  [1, inf) -> 1\n}\n",
               "scale s {\n  # lower\n  [0, 1)    -> 0\n  [1, inf)  -> 1\n}\n");
}

static void test_comments_in_indicator(void **state)
{
    (void)state;
    /* after the header: the header keeps it, so `= EXPR` moves to the next line */
    expect_fmt("indicator x count # counts rows\n = count(o)\n",
               "indicator x count  # counts rows\n  = count(o)\n");
    /* on its own line before `=` */
    expect_fmt("indicator x count\n# why\n= count(o)\n", "indicator x count\n  # why\n  = count(o)\n");
    /* inside the expression: above the line that holds it */
    expect_fmt("indicator x count = count(o # the orders\n where paid) + 1\n",
               "# the orders\nindicator x count = count(o where paid) + 1\n");
    expect_fmt(
        "indicator x count\n = count(o where a > 1 and b > 2 and c > 3 and d > 4 and e > 5 and f > 6 and g > 7) # long\n"
        " + (1 # one\n)\n",
        "indicator x count\n"
        "  # long\n"
        "  # one\n"
        "  = count(o where a > 1 and b > 2 and c > 3 and d > 4 and e > 5 and f > 6 and g > 7) + 1\n");
    /* after the expression, before and after the note */
    expect_fmt("indicator x count = count(o) # the count\n# about the note\n"
               "note \"n\" # trailing the note\n",
               "indicator x count = count(o)  # the count\n  # about the note\n"
               "  note \"n\"  # trailing the note\n");
    expect_fmt("indicator x count = (count(o)) # c\nnote # n\n\"n\"\n",
               "indicator x count = count(o)  # c\n  # n\n  note \"n\"\n");
}

static void test_comments_in_roles(void **state)
{
    (void)state;
    expect_fmt("role r \"R\" {   # the role\n"
               "  kpi a weight 50% target >= 1   # a\n"
               "    points value * 2   # a's points\n"
               "  kpi bb weight 50% target >= (2) # b\n"
               "  # scale for all\n"
               "  points standard\n"
               "  gate a > 0 and # why\n"
               "       bb > 0\n"
               "  bonus 1 # money\n"
               "}\n",
               "role r \"R\" {  # the role\n"
               "  kpi a   weight 50%  target >= 1  # a\n"
               "    points value * 2               # a's points\n"
               "  kpi bb  weight 50%  target >= 2  # b\n"
               "  # scale for all\n"
               "  points standard\n"
               "  # why\n"
               "  gate   a > 0 and bb > 0\n"
               "  bonus  1  # money\n"
               "}\n");
    /* an own-line comment between a kpi and its points keeps them on two lines */
    expect_fmt("role r {\n  kpi a weight 100%\n  # own points\n  points value\n}\n",
               "role r {\n  kpi a  weight 100%\n    # own points\n    points value\n}\n");
    /* a comment inside the points expression */
    expect_fmt("role r {\n  kpi a weight 100% points value * # twice\n 2\n}\n",
               "role r {\n  # twice\n  kpi a  weight 100%  points value * 2\n}\n");
}

static void test_crlf_and_tabs(void **state)
{
    (void)state;
    expect_fmt("period\tmonth\r\n\r\n\r\n# c\r\nset s =\to.id\t# t\r\n",
               "period month\n\n# c\nset s = o.id  # t\n");
}

/* ---- every .kpi file of the repository ------------------------------------------------ */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            buf = xrealloc(buf, cap);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    *len = n;
    return buf;
}

typedef struct walk_stats {
    int formatted, skipped;
} walk_stats;

static void check_file(const char *path, walk_stats *stats)
{
    size_t len = 0;
    char *text = read_file(path, &len);
    assert_non_null(text);
    parsed p;
    parse_text(&p, text, len);
    bool clean = p.diags.errors == 0;
    parsed_free(&p);
    if (!clean) {
        stats->skipped++; /* an error case: fmt refuses files that do not parse */
    } else {
        free(check_guarantees(path, text, len, NULL));
        stats->formatted++;
    }
    free(text);
}

static void walk(const char *dir, walk_stats *stats)
{
    DIR *d = opendir(dir);
    if (!d) return;
    /* sorted, so a failure names the same file every run */
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    closedir(d);
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        struct stat st;
        if (name[0] != '.' && stat(path, &st) == 0) {
            size_t len = strlen(name);
            if (S_ISDIR(st.st_mode)) walk(path, stats);
            else if (len > 4 && strcmp(name + len - 4, ".kpi") == 0) check_file(path, stats);
        }
        free(names[i]);
    }
    free(names);
}

static void test_every_repository_file(void **state)
{
    (void)state;
    const char *data = getenv("KPIC_TEST_DATA");
    if (!data) skip();
    walk_stats stats = { 0, 0 };
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/cases", data);
    walk(dir, &stats);
    snprintf(dir, sizeof dir, "%s/../kpi-specs", data);
    walk(dir, &stats);
    fprintf(stderr, "fmt guarantees hold on %d files (%d with errors skipped)\n", stats.formatted,
            stats.skipped);
    assert_true(stats.formatted > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_declarations),
        cmocka_unit_test(test_source_columns_aligned),
        cmocka_unit_test(test_utf8_alignment_by_display_width),
        cmocka_unit_test(test_scale_rows),
        cmocka_unit_test(test_role_columns_and_items),
        cmocka_unit_test(test_kpi_points_too_long_for_the_line),
        cmocka_unit_test(test_indicator_fits_or_breaks),
        cmocka_unit_test(test_set_clause_order),
        cmocka_unit_test(test_expression_spacing),
        cmocka_unit_test(test_parentheses),
        cmocka_unit_test(test_literals_as_written),
        cmocka_unit_test(test_comments_at_file_start_and_end),
        cmocka_unit_test(test_comment_before_declaration),
        cmocka_unit_test(test_trailing_comment_after_declaration),
        cmocka_unit_test(test_comments_in_blocks),
        cmocka_unit_test(test_comments_in_header_and_items),
        cmocka_unit_test(test_comments_in_indicator),
        cmocka_unit_test(test_comments_in_roles),
        cmocka_unit_test(test_crlf_and_tabs),
        cmocka_unit_test(test_every_repository_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
