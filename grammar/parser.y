/* parser.y — the kpic grammar (docs/language.md).
 *
 * A pure LALR(1) parser with byte-offset locations and no conflicts (%expect 0).
 * Actions only build AST nodes in the arena; names are resolved later by the checker.
 * Syntax errors are reported with the tokens that were expected (LAC keeps that list
 * exact) and recovered from at the next declaration that starts a line, so one run
 * shows the syntax errors of every declaration.
 */
%code requires {
#include "parse_ctx.h"
}

%code provides {
int kpy_lex(KPYSTYPE *yylval_param, kp_loc *yylloc_param, void *yyscanner);
}

%code {
#include <string.h>

#define kpylex(value, location, ctx) kpy_lex(value, location, (ctx)->scanner)

/* A symbol's span runs from its first to its last component; an empty one sits at the
 * end of what came before it. */
#define YYLLOC_DEFAULT(Cur, Rhs, N)                                  \
    do {                                                             \
        if (N) {                                                     \
            (Cur).start = YYRHSLOC(Rhs, 1).start;                    \
            (Cur).end = YYRHSLOC(Rhs, N).end;                        \
        } else {                                                     \
            (Cur).start = (Cur).end = YYRHSLOC(Rhs, 0).end;          \
        }                                                            \
    } while (0)

#define SPAN(loc) parse_span(ctx, (loc))

#define declaration_starts(ctx) \
    do { (ctx)->recovering = false; (ctx)->brace_depth = 0; (ctx)->lexical_errors = false; \
         yyerrok; } while (0)

static ast_expr *finish(parse_ctx *ctx, ast_expr *e);
static ast_expr *literal(parse_ctx *ctx, ast_expr_kind kind, kp_tok tok, kp_loc loc);
static ast_expr *binary(parse_ctx *ctx, ast_op op, ast_expr *l, ast_expr *r, kp_loc op_loc);
static ast_expr *unary(parse_ctx *ctx, ast_op op, ast_expr *operand, kp_loc loc);
static void add_clause(parse_ctx *ctx, ast_expr *call, int which, void *clause, kp_loc loc);
static ast_window *window_last(parse_ctx *ctx, kp_tok count, kp_loc count_loc, kp_tok unit,
                               kp_loc unit_loc, kp_loc loc);
static ast_window *window_ytd(parse_ctx *ctx, kp_tok a, kp_tok b, kp_tok c, kp_loc loc);
static ast_decl *finish_role(parse_ctx *ctx, ast_decl *role, ptr_vec *items);
static bool grain_of(const char *word, bool adverbs, ast_grain *grain);
static void unknown_grain_hint(parse_ctx *ctx, diagnostic *d, const char *word, bool adverbs,
                               const char *after);
static bool unit_of(const char *word, ast_unit *unit);
static bool coltype_of(const char *word, ast_coltype *type);
static void copy_columns(parse_ctx *ctx, ast_decl *d, ptr_vec *cols);
static void source_clause(parse_ctx *ctx, ptr_vec *cols, kp_tok word, kp_loc word_loc,
                          kp_tok value, kp_loc value_loc);
static void bool_words(parse_ctx *ctx, ptr_vec *cols, kp_loc true_loc, kp_tok yes,
                       kp_loc yes_loc, kp_tok no, kp_loc no_loc);
static void yyerror(kp_loc *loc, parse_ctx *ctx, const char *msg);
static ast_decl *finish_test(parse_ctx *ctx, ast_decl *test, ptr_vec *items);
static ast_expect *expect_target(parse_ctx *ctx, kp_tok word, kp_loc word_loc, kp_tok *staff,
                                 kp_loc staff_loc, kp_tok *member, kp_loc member_loc, kp_loc loc);
static void expect_word_check(parse_ctx *ctx, ast_expect *e, kp_tok word, kp_loc word_loc,
                              kp_tok *word2, kp_loc word2_loc);
static void expect_within(parse_ctx *ctx, ast_expect *e, kp_tok word, kp_loc word_loc,
                          ast_expr *tolerance, kp_tok of, kp_loc of_loc, ast_expr *value);
static ast_test_data *test_data(parse_ctx *ctx, kp_tok source, kp_loc source_loc, kp_loc loc);
static ast_role_item *pool_bonus(parse_ctx *ctx, kp_tok pool, kp_loc pool_loc, kp_tok name, kp_loc name_loc,
                                 kp_tok share, kp_loc share_loc, ast_expr *share_expr, ptr_vec *bounds);
static ast_grades *finish_grades(parse_ctx *ctx, ptr_vec *words, kp_loc loc);

/* A word or literal inside `grades { … }`, as the grammar collects them: the rows are
 * cut from the flat list by finish_grades (a row's factor is optional, which a
 * grammar of rows could not tell from the next row's name). */
typedef struct grade_word {
    kp_tok tok;                /* IDENT: the word; else unused */
    kp_loc loc;
    ast_expr *literal;         /* a number, percentage, string or date; NULL for a word */
} grade_word;

/* `cap EXPR` or `floor EXPR` after a pool's share, as the grammar collects them. */
typedef struct pool_bound {
    kp_tok word;
    kp_loc word_loc;
    ast_expr *expr;
} pool_bound;

/* One item of a test block, as the grammar collects them. */
typedef struct test_item {
    int kind;                  /* TEST_PERIOD, TEST_DATA, TEST_EXPECT */
    kp_tok period;
    kp_loc period_loc, item_loc;
    ast_test_data *data;
    ast_expect *expect;
} test_item;
enum { TEST_PERIOD, TEST_DATA, TEST_EXPECT };

/* A line of inline data and where it stands. */
typedef struct data_line {
    const char *text;
    kp_span span;
} data_line;

enum { CLAUSE_WHERE, CLAUSE_HAVING, CLAUSE_OVER };
}

%define api.prefix {kpy}
%define api.pure full
%define api.location.type {kp_loc}
%define parse.error custom
%define parse.lac full
%locations
%param {parse_ctx *ctx}
%expect 0

%union {
    kp_tok tok;
    ast_expr *expr;
    ast_decl *decl;
    ast_window *window;
    ast_column *column;
    ast_scale_row *row;
    ast_role_item *item;
    struct test_item *test_item;
    ast_expect *expect;
    ptr_vec list;
    int op;
    bool flag;
}

%token <tok> IDENT "identifier" NUMBER "number" PERCENT "percentage" DATE "date"
             STRING "string"
%token <tok> KW_IMPORT "import" KW_PERIOD "period" KW_CURRENCY "currency"
             KW_SOURCE "source" KW_STAFF "staff" KW_INDICATOR "indicator" KW_SET "set"
             KW_SCALE "scale" KW_ROLE "role" KW_KPI "kpi" KW_WEIGHT "weight"
             KW_TARGET "target" KW_POINTS "points" KW_GATE "gate" KW_BONUS "bonus"
             KW_MISSING "missing" KW_PER "per" KW_NOTE "note" KW_IF "if" KW_THEN "then"
             KW_ELSE "else" KW_AND "and" KW_OR "or" KW_NOT "not" KW_IN "in"
             KW_PREVIOUS "previous" KW_BEFORE "before" KW_ALL "all" KW_LAST "last"
             KW_OVER "over" KW_WHERE "where" KW_HAVING "having" KW_INF "inf"
             KW_TRUE "true" KW_FALSE "false" KW_TIME "time"
             KW_TEST "test" KW_DATA "data" KW_EXPECT "expect" DATA_LINE "a line of data"
             KW_POOL "pool" KW_GRADES "grades"
%token GE ">=" LE "<=" NE "!=" ARROW "->" DOTDOT ".."

%type <decl> decl import_decl period_decl currency_decl source_decl staff_decl
             indicator_decl set_decl scale_decl role_decl test_decl pool_decl grades_decl
%type <expr> expr primary call scale_number scale_literal opt_note_expr
%type <list> columns column_flags key_columns scale_rows role_items args expr_list test_items data_lines pool_bounds
             grade_words
%type <test_item> test_item
%type <expect> expect_target expect_item
%type <expr> expect_value
%type <tok> target_word staff_key kw_test kw_pool kw_grades data_source test_period
%type <column> column key_line key_column
%type <row> scale_row
%type <item> role_item kpi_head
%type <window> window
%type <tok> column_name member_name keyword_name bare_keyword
%type <tok> opt_label unit kw_import kw_period kw_currency kw_source kw_staff kw_indicator kw_set kw_scale kw_role
%type <flag> opt_per_staff open_bracket close_bracket
%type <op> comparator
%type <expr> clauses

%precedence "else"
%left "or"
%left "and"
%precedence "not"
%nonassoc '=' "!=" '<' "<=" '>' ">=" "in" "before"
%left '+' '-'
%left '*' '/'
%precedence UMINUS

%%

spec:
    %empty
  | spec decl             { ptr_vec_push(ctx->mem, &ctx->out->decls, $2); }
  | spec error
  ;

/* The keyword that starts a declaration ends any error recovery: errors in this
 * declaration are reported again, and braces left open before it are forgotten. */
kw_import:    "import"    { $$ = $1; declaration_starts(ctx); } ;
kw_period:    "period"    { $$ = $1; declaration_starts(ctx); } ;
kw_currency:  "currency"  { $$ = $1; declaration_starts(ctx); } ;
kw_source:    "source"    { $$ = $1; declaration_starts(ctx); } ;
kw_staff:     "staff"     { $$ = $1; declaration_starts(ctx); } ;
kw_indicator: "indicator" { $$ = $1; declaration_starts(ctx); } ;
kw_set:       "set"       { $$ = $1; declaration_starts(ctx); } ;
kw_scale:     "scale"     { $$ = $1; declaration_starts(ctx); } ;
kw_role:      "role"      { $$ = $1; declaration_starts(ctx); } ;
kw_test:      "test"      { $$ = $1; declaration_starts(ctx); } ;
kw_pool:      "pool"      { $$ = $1; declaration_starts(ctx); } ;
kw_grades:    "grades"    { $$ = $1; declaration_starts(ctx); } ;

decl:
    import_decl | period_decl | currency_decl | source_decl | staff_decl
  | indicator_decl | set_decl | scale_decl | role_decl | test_decl | pool_decl | grades_decl
  ;

import_decl:
    kw_import STRING {
        $$ = ast_new_decl(ctx->mem, DECL_IMPORT, SPAN(@$));
        $$->keyword_span = SPAN(@1);
        $$->u.import.path = $2.text;
        $$->u.import.path_span = SPAN(@2);
    }
  ;

period_decl:
    kw_period IDENT {
        $$ = ast_new_decl(ctx->mem, DECL_PERIOD, SPAN(@$));
        $$->keyword_span = SPAN(@1);
        $$->u.period.grain_span = SPAN(@2);
        if (!grain_of($2.text, false, &$$->u.period.grain)) {
            diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, SPAN(@2), "unknown-grain",
                                        "unknown period grain '%s'", $2.text);
            unknown_grain_hint(ctx, d, $2.text, false, "");
            $$->u.period.grain = GRAIN_MONTH;
        }
    }
  ;

currency_decl:
    kw_currency STRING {
        $$ = ast_new_decl(ctx->mem, DECL_CURRENCY, SPAN(@$));
        $$->keyword_span = SPAN(@1);
        $$->u.currency.code = $2.text;
        $$->u.currency.code_span = SPAN(@2);
    }
  ;

source_decl:
    kw_source IDENT STRING '{' columns '}' {
        $$ = ast_new_decl(ctx->mem, DECL_SOURCE, SPAN(@$));
        $$->keyword_span = SPAN(@1);
        $$->name = $2.text;
        $$->name_span = SPAN(@2);
        $$->u.source.path = $3.text;
        $$->u.source.path_span = SPAN(@3);
        copy_columns(ctx, $$, &$5);
    }
  ;

staff_decl:
    kw_staff STRING '{' columns '}' {
        $$ = ast_new_decl(ctx->mem, DECL_STAFF, SPAN(@$));
        $$->keyword_span = SPAN(@1);
        $$->name = "staff";
        $$->name_span = SPAN(@1);
        $$->u.source.path = $2.text;
        $$->u.source.path_span = SPAN(@2);
        copy_columns(ctx, $$, &$4);
    }
  ;

/* Clauses say how the export writes the data: `encoding "…"` for the whole file, on
 * its own line before the columns; `header "…"`, `format "…"` and `true "…" false "…"`
 * for the column before them. Clause words are not reserved (a column may be named
 * `format`): a word followed by a string is a clause, followed by a type a column. */
columns:
    %empty                { memset(&$$, 0, sizeof $$); }
  | columns column        { $$ = $1; ptr_vec_push(ctx->mem, &$$, $2); }
  | columns IDENT STRING  { $$ = $1; source_clause(ctx, &$$, $2, @2, $3, @3); }
  | columns "true" STRING "false" STRING { $$ = $1; bool_words(ctx, &$$, @2, $3, @3, $5, @5); }
  | columns key_line      { $$ = $1; ptr_vec_push(ctx->mem, &$$, $2); }
  ;

/* `key (a, b)`: `key` is no keyword (a column may be called key); a name followed by
 * '(' in a source block can only be this line */
key_line:
    IDENT '(' key_columns ')' {
        if (strcmp($1.text, "key")) {
            diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, SPAN(@1), "syntax",
                                        "unexpected '(' after '%s'; a source block holds column lines and 'key (COLUMNS)'",
                                        $1.text);
            diag_hint(ctx->diags, d, "a column is declared as NAME TYPE, e.g. '%s text'", $1.text);
        }
        ast_key_line *k = arena_alloc(ctx->mem, sizeof *k);
        k->count = (int)$3.len;
        k->columns = arena_alloc(ctx->mem, ($3.len + 1) * sizeof *k->columns);
        k->column_spans = arena_alloc(ctx->mem, ($3.len + 1) * sizeof *k->column_spans);
        for (size_t i = 0; i < $3.len; i++) {
            const ast_column *c = $3.items[i];
            k->columns[i] = c->name;
            k->column_spans[i] = c->name_span;
        }
        k->span = SPAN(@$);
        $$ = arena_alloc(ctx->mem, sizeof *$$);
        $$->span = SPAN(@$);
        $$->key_line = k;
    }
  ;

key_columns:
    key_column                  { memset(&$$, 0, sizeof $$); ptr_vec_push(ctx->mem, &$$, $1); }
  | key_columns ',' key_column  { $$ = $1; ptr_vec_push(ctx->mem, &$$, $3); }
  ;

key_column:
    member_name {
        $$ = arena_alloc(ctx->mem, sizeof *$$);
        $$->name = $1.text;
        $$->name_span = SPAN(@1);
    }
  ;

column:
    column_name IDENT column_flags {
        $$ = arena_alloc(ctx->mem, sizeof *$$);
        $$->name = $1.text;
        $$->name_span = SPAN(@1);
        $$->type_span = SPAN(@2);
        $$->span = SPAN(@$);
        if (!coltype_of($2.text, &$$->type)) {
            diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, SPAN(@2), "unknown-type",
                                        "unknown column type '%s'", $2.text);
            static const char *const types[] = {"text", "int", "number", "money", "date", "bool"};
            const char *near = diag_closest($2.text, types, 6);
            if (near) diag_hint(ctx->diags, d, "did you mean '%s'?", near);
            else diag_hint(ctx->diags, d, "the column types are text, int, number, money, date and bool");
            $$->type = COLTYPE_TEXT;
        }
        for (size_t i = 0; i < $3.len; i++) {
            kp_loc *flag = $3.items[i];
            kp_span fs = SPAN(*flag);
            bool is_time = ctx->text[flag->start] == 't';
            kp_span *seen = is_time ? &$$->time_span : &$$->staff_span;
            bool *set = is_time ? &$$->is_time : &$$->is_staff;
            if (*set) {
                diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, fs, "duplicate-flag",
                                            "column '%s' is marked '%s' twice", $$->name,
                                            is_time ? "time" : "staff");
                diag_note(ctx->diags, d, *seen, "first marked here");
            }
            *set = true;
            *seen = fs;
        }
    }
  ;

/* Columns are named by the CSV header, which knows nothing of kpic's keywords: any word
 * may name a column (the roster needs `role`), except the flags that follow a type. */
column_name:
    IDENT
  | keyword_name
  ;

/* After `source.` any word is a column name. */
member_name:
    IDENT
  | keyword_name
  | "time"
  | "staff"
  ;

/* Keywords that can stand for a column name where an expression starts (`where note =
 * "gift"`). Declaration keywords are not among them: an expression cut short must
 * still end at the next declaration, so that the error is reported there. */
bare_keyword:
    "note" | "weight" | "points" | "bonus" | "missing" | "kpi" | "gate" | "time" | "per"
  | "all" | "last"
  ;

keyword_name:
    "import" | "period" | "currency" | "source" | "indicator" | "set" | "scale" | "role"
  | "kpi" | "weight" | "target" | "points" | "gate" | "bonus" | "missing" | "per" | "note"
  | "if" | "then" | "else" | "and" | "or" | "not" | "in" | "previous" | "before" | "all"
  | "last" | "over" | "where" | "having" | "inf" | "true" | "false"
  ;

column_flags:
    %empty                { memset(&$$, 0, sizeof $$); }
  | column_flags "time"   { $$ = $1; kp_loc *l = arena_alloc(ctx->mem, sizeof *l); *l = @2; ptr_vec_push(ctx->mem, &$$, l); }
  | column_flags "staff"  { $$ = $1; kp_loc *l = arena_alloc(ctx->mem, sizeof *l); *l = @2; ptr_vec_push(ctx->mem, &$$, l); }
  ;

indicator_decl:
    kw_indicator IDENT opt_label unit opt_per_staff '=' expr opt_note_expr {
        $$ = ast_new_decl(ctx->mem, DECL_INDICATOR, SPAN(@$));
        $$->keyword_span = SPAN(@1);
        $$->name = $2.text;
        $$->name_span = SPAN(@2);
        $$->u.indicator.label = $3.text;
        $$->u.indicator.label_span = SPAN(@3);
        $$->u.indicator.unit_span = SPAN(@4);
        if (!unit_of($4.text, &$$->u.indicator.unit)) {
            diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, SPAN(@4), "unknown-unit",
                                        "unknown unit '%s'", $4.text);
            static const char *const units[] = {"count", "money", "percent", "ratio", "number", "days", "points"};
            const char *near = diag_closest($4.text, units, 7);
            if (near) diag_hint(ctx->diags, d, "did you mean '%s'?", near);
            else diag_hint(ctx->diags, d, "the units are count, money, percent, ratio, number, days and points");
            $$->u.indicator.unit = UNIT_NUMBER;
        }
        $$->u.indicator.per_staff = $5;
        $$->u.indicator.per_staff_span = SPAN(@5);
        $$->u.indicator.expr = $7;
        if ($8) {
            $$->u.indicator.note = $8->u.lit.text;
            $$->u.indicator.note_span = $8->span;
        }
    }
  ;

opt_label:
    %empty                { $$.text = NULL; $$.raw = NULL; }
  | STRING                { $$ = $1; }
  ;

unit:
    IDENT                 { $$ = $1; }
  | "points"              { $$ = $1; }
  ;

opt_per_staff:
    %empty                { $$ = false; }
  | "per" "staff"         { $$ = true; }
  ;

opt_note_expr:
    %empty                { $$ = NULL; }
  | "note" STRING         { $$ = literal(ctx, EX_STRING, $2, @2); }
  ;

set_decl:
    kw_set IDENT '=' expr clauses {
        $$ = ast_new_decl(ctx->mem, DECL_SET, SPAN(@$));
        $$->keyword_span = SPAN(@1);
        $$->name = $2.text;
        $$->name_span = SPAN(@2);
        $$->u.set.column = $4;
        $$->u.set.where = $5->u.call.where;
        $$->u.set.having = $5->u.call.having;
        $$->u.set.over = $5->u.call.over;
    }
  ;

/* Clauses collect into a scratch call node, which reports duplicates as they come. */
clauses:
    %empty                { $$ = ast_new_expr(ctx->mem, EX_CALL, SPAN(@$)); }
  | clauses "where" expr  { $$ = $1; add_clause(ctx, $$, CLAUSE_WHERE, $3, @2); }
  | clauses "having" expr { $$ = $1; add_clause(ctx, $$, CLAUSE_HAVING, $3, @2); }
  | clauses "over" window { $$ = $1; $3->span = SPAN(@$); $3->span.start = @2.start;
                            add_clause(ctx, $$, CLAUSE_OVER, $3, @2); }
  ;

window:
    "period"              { $$ = arena_alloc(ctx->mem, sizeof *$$); $$->kind = WINDOW_PERIOD; }
  | "all" "time"          { $$ = arena_alloc(ctx->mem, sizeof *$$); $$->kind = WINDOW_ALL_TIME; }
  | "last" NUMBER IDENT   { $$ = window_last(ctx, $2, @2, $3, @3, @$); }
  | IDENT IDENT IDENT     { $$ = window_ytd(ctx, $1, $2, $3, @$); }
  ;

scale_decl:
    kw_scale IDENT '{' scale_rows '}' {
        $$ = ast_new_decl(ctx->mem, DECL_SCALE, SPAN(@$));
        $$->keyword_span = SPAN(@1);
        $$->name = $2.text;
        $$->name_span = SPAN(@2);
        $$->u.scale.row_count = (int)$4.len;
        $$->u.scale.rows = arena_alloc(ctx->mem, ($4.len + 1) * sizeof(ast_scale_row));
        for (size_t i = 0; i < $4.len; i++)
            $$->u.scale.rows[i] = *(ast_scale_row *)$4.items[i];
    }
  ;

scale_rows:
    %empty                { memset(&$$, 0, sizeof $$); }
  | scale_rows scale_row  { $$ = $1; ptr_vec_push(ctx->mem, &$$, $2); }
  ;

scale_row:
    open_bracket scale_number ',' scale_number close_bracket "->" scale_number {
        $$ = arena_alloc(ctx->mem, sizeof *$$);
        $$->lo_closed = $1; $$->lo = $2; $$->hi = $4; $$->hi_closed = $5;
        $$->from = $7;
        $$->span = SPAN(@$);
    }
  | open_bracket scale_number ',' scale_number close_bracket "->" scale_number ".." scale_number {
        $$ = arena_alloc(ctx->mem, sizeof *$$);
        $$->lo_closed = $1; $$->lo = $2; $$->hi = $4; $$->hi_closed = $5;
        $$->from = $7; $$->to = $9;
        $$->span = SPAN(@$);
    }
  ;

open_bracket:  '[' { $$ = true; } | '(' { $$ = false; } ;
close_bracket: ']' { $$ = true; } | ')' { $$ = false; } ;

/* Scale bounds and points are signed literals, so that a row cannot run into the next
 * one: `-> 60 (60, 100]` would otherwise read as a call. */
scale_number:
    scale_literal
  | '-' scale_literal     { $$ = unary(ctx, OP_NEG, $2, @$); }
  ;

scale_literal:
    NUMBER                { $$ = literal(ctx, EX_NUMBER, $1, @1); }
  | PERCENT               { $$ = literal(ctx, EX_PERCENT, $1, @1); }
  | "inf"                 { $$ = literal(ctx, EX_INF, $1, @1); }
  ;

role_decl:
    kw_role IDENT opt_label '{' role_items '}' {
        $$ = ast_new_decl(ctx->mem, DECL_ROLE, SPAN(@$));
        $$->keyword_span = SPAN(@1);
        $$->name = $2.text;
        $$->name_span = SPAN(@2);
        $$->u.role.label = $3.text;
        $$->u.role.label_span = SPAN(@3);
        $$ = finish_role(ctx, $$, &$5);
    }
  | kw_role IDENT opt_label IDENT '{' role_items '}' {
        $$ = ast_new_decl(ctx->mem, DECL_ROLE, SPAN(@$));
        $$->keyword_span = SPAN(@1);
        $$->name = $2.text;
        $$->name_span = SPAN(@2);
        $$->u.role.label = $3.text;
        $$->u.role.label_span = SPAN(@3);
        $$->u.role.has_grain = true;
        $$->u.role.grain_span = SPAN(@4);
        if (!grain_of($4.text, true, &$$->u.role.grain)) {
            diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, SPAN(@4), "unknown-grain",
                                        "unknown period grain '%s' for role '%s'", $4.text, $2.text);
            unknown_grain_hint(ctx, d, $4.text, true, " a role's period is written with the grains of `period`");
            $$->u.role.has_grain = false;
        }
        $$ = finish_role(ctx, $$, &$6);
    }
  ;

pool_bounds:
    %empty                  { memset(&$$, 0, sizeof $$); }
  | pool_bounds IDENT expr  {
        $$ = $1;
        pool_bound *b = arena_alloc(ctx->mem, sizeof *b);
        b->word = $2; b->word_loc = @2; b->expr = $3;
        ptr_vec_push(ctx->mem, &$$, b);
    }
  ;

/* pool NAME ["LABEL"] = AMOUNT: `pool` is a keyword only where it starts a line outside
 * any block (lexer.l), so a spec may still name an indicator or column `pool`. */
pool_decl:
    kw_pool IDENT opt_label '=' expr {
        $$ = ast_new_decl(ctx->mem, DECL_POOL, SPAN(@$));
        $$->keyword_span = SPAN(@1);
        $$->name = $2.text;
        $$->name_span = SPAN(@2);
        $$->u.pool.label = $3.text;
        $$->u.pool.label_span = SPAN(@3);
        $$->u.pool.amount = $5;
    }
  ;

/* grades NAME ["LABEL"] { A top 20% factor 1.5  B next 70% factor 1  C rest factor 0 }:
 * `grades` is a keyword only where it starts a line outside any block and a name and
 * '{' or a label follow, or at the start of a line of a role (lexer.l). */
grades_decl:
    kw_grades IDENT opt_label '{' grade_words '}' {
        $$ = ast_new_decl(ctx->mem, DECL_GRADES, SPAN(@$));
        $$->keyword_span = SPAN(@1);
        $$->name = $2.text;
        $$->name_span = SPAN(@2);
        $$->u.grades.label = $3.text;
        $$->u.grades.label_span = SPAN(@3);
        kp_loc table = @4;
        table.end = @6.end;
        $$->u.grades.table = finish_grades(ctx, &$5, table);
        $$->u.grades.table->decl = $$;
    }
  ;

grade_words:
    %empty                  { memset(&$$, 0, sizeof $$); }
  | grade_words IDENT {
        $$ = $1;
        grade_word *w = arena_alloc(ctx->mem, sizeof *w);
        w->tok = $2; w->loc = @2;
        ptr_vec_push(ctx->mem, &$$, w);
    }
  | grade_words scale_number {
        $$ = $1;
        grade_word *w = arena_alloc(ctx->mem, sizeof *w);
        w->loc = @2; w->literal = $2;
        ptr_vec_push(ctx->mem, &$$, w);
    }
  | grade_words STRING {
        $$ = $1;
        grade_word *w = arena_alloc(ctx->mem, sizeof *w);
        w->loc = @2; w->literal = literal(ctx, EX_STRING, $2, @2);
        ptr_vec_push(ctx->mem, &$$, w);
    }
  | grade_words DATE {
        $$ = $1;
        grade_word *w = arena_alloc(ctx->mem, sizeof *w);
        w->loc = @2; w->literal = literal(ctx, EX_DATE, $2, @2);
        ptr_vec_push(ctx->mem, &$$, w);
    }
  ;

role_items:
    %empty                { memset(&$$, 0, sizeof $$); }
  | role_items role_item  { $$ = $1; ptr_vec_push(ctx->mem, &$$, $2); }
  ;

/* `kpi NAME` or `kpi NAME shared`: the word after the name marks a team-wide indicator
 * that every member of the role is meant to share. */
kpi_head:
    "kpi" IDENT {
        $$ = arena_alloc(ctx->mem, sizeof *$$);
        $$->kind = ROLE_KPI;
        $$->indicator = $2.text; $$->indicator_span = SPAN(@2);
    }
  | "kpi" IDENT IDENT {
        $$ = arena_alloc(ctx->mem, sizeof *$$);
        $$->kind = ROLE_KPI;
        $$->indicator = $2.text; $$->indicator_span = SPAN(@2);
        $$->shared_span = SPAN(@3);
        $$->shared = strcmp($3.text, "shared") == 0;
        if (!$$->shared) {
            diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, SPAN(@3), "bad-kpi-flag",
                                        "unexpected '%s' after kpi '%s', expected 'weight' or 'shared'",
                                        $3.text, $2.text);
            static const char *const words[] = {"weight", "shared"};
            const char *near = diag_closest($3.text, words, 2);
            if (near) diag_hint(ctx->diags, d, "did you mean '%s'?", near);
            diag_hint(ctx->diags, d, "write 'kpi %s weight W …', or 'kpi %s shared weight W …' when every member is scored on the team's value",
                      $2.text, $2.text);
            /* a misspelt 'weight' leaves the weight where 'weight' is expected: this
             * message explains the syntax error that follows */
            if (!near || strcmp(near, "shared") != 0) ctx->lexical_errors = true;
        }
    }
  ;

role_item:
    kpi_head "weight" expr {
        $$ = $1;
        $$->span = SPAN(@$);
        $$->weight = $3;
    }
  | kpi_head "weight" expr "target" comparator expr {
        $$ = $1;
        $$->span = SPAN(@$);
        $$->weight = $3;
        $$->has_target = true;
        $$->comparator = $5 == OP_LE ? CMP_LE : CMP_GE;
        $$->comparator_span = SPAN(@5);
        $$->target = $6;
        if ($5 != OP_LE && $5 != OP_GE) {
            diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, SPAN(@5), "bad-comparator",
                                        "a target is compared with '>=' or '<='");
            diag_hint(ctx->diags, d, "'>=' when higher is better, '<=' when lower is better");
        }
    }
  | "points" expr {
        /* A bare name is the role's scale; any other expression belongs to the kpi line
         * before it (finish_role attaches it). */
        $$ = arena_alloc(ctx->mem, sizeof *$$);
        $$->kind = ROLE_POINTS; $$->span = SPAN(@$);
        $$->expr = $2;
    }
  | "gate" expr           { $$ = arena_alloc(ctx->mem, sizeof *$$); $$->kind = ROLE_GATE; $$->span = SPAN(@$); $$->expr = $2; }
  | "bonus" expr          { $$ = arena_alloc(ctx->mem, sizeof *$$); $$->kind = ROLE_BONUS; $$->span = SPAN(@$); $$->expr = $2; }
  | "bonus" IDENT IDENT IDENT expr pool_bounds {
        /* bonus pool NAME share EXPR [cap EXPR] [floor EXPR]: the words are checked in
         * pool_bonus, so that `pool`, `share`, `cap` and `floor` stay names elsewhere */
        $$ = pool_bonus(ctx, $2, @2, $3, @3, $4, @4, $5, &$6);
        $$->span = SPAN(@$);
    }
  | "grades" '{' grade_words '}' {
        $$ = arena_alloc(ctx->mem, sizeof *$$);
        $$->kind = ROLE_GRADES; $$->span = SPAN(@$);
        kp_loc table = @2;
        table.end = @4.end;
        $$->grades = finish_grades(ctx, &$3, table);
    }
  | "grades" IDENT {
        $$ = arena_alloc(ctx->mem, sizeof *$$);
        $$->kind = ROLE_GRADES; $$->span = SPAN(@$);
        $$->grades_name = $2.text;
        $$->grades_name_span = SPAN(@2);
    }
  | "missing" IDENT {
        $$ = arena_alloc(ctx->mem, sizeof *$$);
        $$->kind = ROLE_MISSING; $$->span = SPAN(@$);
        if (strcmp($2.text, "skip") == 0) $$->missing_skip = true;
        else if (strcmp($2.text, "zero") != 0) {
            diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, SPAN(@2), "bad-missing",
                                        "unknown missing-kpi policy '%s'", $2.text);
            diag_hint(ctx->diags, d, "write 'missing skip' to drop a kpi without points and rescale the other weights, or 'missing zero' (the default) to score it 0");
        }
    }
  ;

/* test "NAME" { period "P"  data SOURCE { CSV lines }  data SOURCE from "PATH"
 *                expect TARGET CHECK } (docs/language.md "Tests"). `data` and `expect`
 * are keywords only at the start of a line inside a test block (lexer.l). */
test_decl:
    kw_test STRING '{' test_items '}' {
        $$ = ast_new_decl(ctx->mem, DECL_TEST, SPAN(@$));
        $$->keyword_span = SPAN(@1);
        $$->name = $2.text;
        $$->name_span = SPAN(@2);
        $$ = finish_test(ctx, $$, &$4);
    }
  ;

test_items:
    %empty                { memset(&$$, 0, sizeof $$); }
  | test_items test_item  { $$ = $1; ptr_vec_push(ctx->mem, &$$, $2); }
  ;

test_item:
    "period" test_period {
        $$ = arena_alloc(ctx->mem, sizeof *$$);
        $$->kind = TEST_PERIOD; $$->period_loc = @2; $$->item_loc = @$;
        $$->period.text = arena_strndup(ctx->mem, ctx->text + @2.start, @2.end - @2.start);
        $$->period.raw = $$->period.text;
    }
  | "data" data_source '{' data_lines '}' {
        $$ = arena_alloc(ctx->mem, sizeof *$$);
        $$->kind = TEST_DATA; $$->data = test_data(ctx, $2, @2, @$);
        ast_test_data *d = $$->data;
        d->line_count = (int)$4.len;
        d->lines = arena_alloc(ctx->mem, ($4.len + 1) * sizeof *d->lines);
        d->line_spans = arena_alloc(ctx->mem, ($4.len + 1) * sizeof *d->line_spans);
        for (size_t i = 0; i < $4.len; i++) {
            const data_line *line = $4.items[i];
            d->lines[i] = line->text;
            d->line_spans[i] = line->span;
        }
    }
  | "data" data_source IDENT STRING {
        $$ = arena_alloc(ctx->mem, sizeof *$$);
        $$->kind = TEST_DATA; $$->data = test_data(ctx, $2, @2, @$);
        $$->data->path = $4.text; $$->data->path_span = SPAN(@4);
        if (strcmp($3.text, "from")) {
            diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, SPAN(@3), "syntax",
                                        "unexpected '%s', expected '{' or 'from'", $3.text);
            diag_hint(ctx->diags, d, "write 'data %s from \"FILE.csv\"', or 'data %s {' with the CSV lines under it", $2.text, $2.text);
        }
    }
  | expect_item {
        $$ = arena_alloc(ctx->mem, sizeof *$$);
        $$->kind = TEST_EXPECT; $$->expect = $1;
    }
  ;

data_source:
    IDENT | "staff"
  ;

/* A period as --period writes it (2025-05, 2025-Q2, 2025-W05, 2025-05-01, 2025): the
 * scanner splits most of them, so the text is taken from the source as written. */
test_period:
    DATE | NUMBER | NUMBER '-' NUMBER | NUMBER '-' IDENT
  ;

data_lines:
    %empty                { memset(&$$, 0, sizeof $$); }
  | data_lines DATA_LINE  {
        $$ = $1;
        data_line *line = arena_alloc(ctx->mem, sizeof *line);
        line->text = $2.text;
        line->span = SPAN(@2);
        ptr_vec_push(ctx->mem, &$$, line);
    }
  ;

expect_item:
    "expect" expect_target {
        $$ = $2; $$->span = SPAN(@$); $$->check = EXPECT_HOLDS;
    }
  | "expect" expect_target comparator expect_value {
        $$ = $2; $$->span = SPAN(@$); $$->check = EXPECT_COMPARE;
        $$->op = (ast_op)$3; $$->op_span = SPAN(@3); $$->value = $4;
    }
  | "expect" expect_target comparator STRING {
        $$ = $2; $$->span = SPAN(@$); $$->check = EXPECT_COMPARE;
        $$->op = (ast_op)$3; $$->op_span = SPAN(@3); $$->value = literal(ctx, EX_STRING, $4, @4);
    }
  | "expect" expect_target IDENT {
        $$ = $2; $$->span = SPAN(@$);
        expect_word_check(ctx, $$, $3, @3, NULL, @3);
    }
  | "expect" expect_target IDENT IDENT {
        $$ = $2; $$->span = SPAN(@$);
        expect_word_check(ctx, $$, $3, @3, &$4, @4);
    }
  | "expect" expect_target IDENT expect_value IDENT expect_value {
        $$ = $2; $$->span = SPAN(@$);
        expect_within(ctx, $$, $3, @3, $4, $5, @5, $6);
    }
  ;

expect_target:
    target_word           { $$ = expect_target(ctx, $1, @1, NULL, @1, NULL, @1, @$); }
  | target_word '[' staff_key ']' { $$ = expect_target(ctx, $1, @1, &$3, @3, NULL, @3, @$); }
  | target_word '[' staff_key ']' '.' IDENT { $$ = expect_target(ctx, $1, @1, &$3, @3, &$6, @6, @$); }
  | target_word '[' staff_key ']' '.' NUMBER { $$ = expect_target(ctx, $1, @1, &$3, @3, &$6, @6, @$); }
  ;

target_word:
    IDENT | "points" | "bonus" | "gate"
  ;

/* Staff ids as rosters write them: s01, 1001, or any text in quotes. */
staff_key:
    IDENT                 { $$ = $1; }
  | NUMBER                { $$ = $1; $$.text = $1.raw; }
  | STRING                { $$ = $1; }
  ;

expect_value:
    scale_literal
  | '-' scale_literal     { $$ = unary(ctx, OP_NEG, $2, @$); }
  ;

comparator:
    ">="  { $$ = OP_GE; } | "<=" { $$ = OP_LE; } | '>' { $$ = OP_GT; } | '<' { $$ = OP_LT; }
  | '='   { $$ = OP_EQ; } | "!=" { $$ = OP_NE; }
  ;

expr:
    "if" expr "then" expr "else" expr {
        $$ = ast_new_expr(ctx->mem, EX_IF, SPAN(@$));
        $$->u.cond.cond = $2; $$->u.cond.then_expr = $4; $$->u.cond.else_expr = $6;
        $$ = finish(ctx, $$);
    }
  | expr "or" expr        { $$ = binary(ctx, OP_OR, $1, $3, @2); }
  | expr "and" expr       { $$ = binary(ctx, OP_AND, $1, $3, @2); }
  | "not" expr            { $$ = unary(ctx, OP_NOT, $2, @$); }
  | expr comparator expr %prec '=' { $$ = binary(ctx, (ast_op)$2, $1, $3, @2); }
  | expr "in" '(' expr_list ')' {
        $$ = ast_new_expr(ctx->mem, EX_IN_LIST, SPAN(@$));
        $$->u.in.lhs = $1; $$->u.in.items = $4;
        $$ = finish(ctx, $$);
    }
  | expr "in" IDENT {
        $$ = ast_new_expr(ctx->mem, EX_IN_SET, SPAN(@$));
        $$->u.in.lhs = $1; $$->u.in.set_name = $3.text; $$->u.in.set_span = SPAN(@3);
        $$ = finish(ctx, $$);
    }
  | expr "in" "period" {
        $$ = ast_new_expr(ctx->mem, EX_IN_PERIOD, SPAN(@$));
        $$->u.in.lhs = $1; $$->u.in.rel = PERIOD_IN;
        $$ = finish(ctx, $$);
    }
  | expr "in" "previous" "period" {
        $$ = ast_new_expr(ctx->mem, EX_IN_PERIOD, SPAN(@$));
        $$->u.in.lhs = $1; $$->u.in.rel = PERIOD_IN_PREVIOUS;
        $$ = finish(ctx, $$);
    }
  | expr "before" "period" {
        $$ = ast_new_expr(ctx->mem, EX_IN_PERIOD, SPAN(@$));
        $$->u.in.lhs = $1; $$->u.in.rel = PERIOD_BEFORE;
        $$ = finish(ctx, $$);
    }
  | expr '+' expr         { $$ = binary(ctx, OP_ADD, $1, $3, @2); }
  | expr '-' expr         { $$ = binary(ctx, OP_SUB, $1, $3, @2); }
  | expr '*' expr         { $$ = binary(ctx, OP_MUL, $1, $3, @2); }
  | expr '/' expr         { $$ = binary(ctx, OP_DIV, $1, $3, @2); }
  | '-' expr %prec UMINUS { $$ = unary(ctx, OP_NEG, $2, @$); }
  | primary
  ;

primary:
    NUMBER                { $$ = literal(ctx, EX_NUMBER, $1, @1); }
  | PERCENT               { $$ = literal(ctx, EX_PERCENT, $1, @1); }
  | DATE                  { $$ = literal(ctx, EX_DATE, $1, @1); }
  | STRING                { $$ = literal(ctx, EX_STRING, $1, @1); }
  | "true"                { $$ = literal(ctx, EX_BOOL, $1, @1); $$->u.lit.boolean = true; }
  | "false"               { $$ = literal(ctx, EX_BOOL, $1, @1); }
  | "inf"                 { $$ = literal(ctx, EX_INF, $1, @1); }
  | IDENT {
        $$ = ast_new_expr(ctx->mem, EX_NAME, SPAN(@$));
        $$->u.name.name = $1.text;
        $$ = finish(ctx, $$);
    }
  | "target" {
        $$ = ast_new_expr(ctx->mem, EX_NAME, SPAN(@$));
        $$->u.name.name = "target";
        $$ = finish(ctx, $$);
    }
  | bare_keyword {
        /* a column named like a keyword, written bare inside where or having */
        $$ = ast_new_expr(ctx->mem, EX_NAME, SPAN(@$));
        $$->u.name.name = $1.text;
        $$ = finish(ctx, $$);
    }
  | IDENT '.' member_name {
        $$ = ast_new_expr(ctx->mem, EX_MEMBER, SPAN(@$));
        $$->u.member.base = $1.text; $$->u.member.base_span = SPAN(@1);
        $$->u.member.member = $3.text; $$->u.member.member_span = SPAN(@3);
        $$ = finish(ctx, $$);
    }
  | "staff" '.' member_name {
        $$ = ast_new_expr(ctx->mem, EX_MEMBER, SPAN(@$));
        $$->u.member.base = "staff"; $$->u.member.base_span = SPAN(@1);
        $$->u.member.member = $3.text; $$->u.member.member_span = SPAN(@3);
        $$ = finish(ctx, $$);
    }
  | "period" '.' member_name {
        $$ = ast_new_expr(ctx->mem, EX_MEMBER, SPAN(@$));
        $$->u.member.base = "period"; $$->u.member.base_span = SPAN(@1);
        $$->u.member.member = $3.text; $$->u.member.member_span = SPAN(@3);
        $$ = finish(ctx, $$);
    }
  | call
  | '(' expr ')'          {
        /* the parentheses belong to what the user wrote: an expression quoted from its
           span, as `kpic doc` and the statements do, must not lose them */
        $$ = $2;
        $$->span = SPAN(@$);
    }
  ;

call:
    IDENT '(' clauses ')' {
        $$ = $3; $$->span = SPAN(@$);
        $$->u.call.name = $1.text; $$->u.call.name_span = SPAN(@1);
        $$ = finish(ctx, $$);
    }
  | IDENT '(' args clauses ')' {
        $$ = $4; $$->span = SPAN(@$);
        $$->u.call.name = $1.text; $$->u.call.name_span = SPAN(@1);
        $$->u.call.args = $3;
        $$ = finish(ctx, $$);
    }
  | "previous" '(' args clauses ')' {
        $$ = $4; $$->span = SPAN(@$);
        $$->u.call.name = "previous"; $$->u.call.name_span = SPAN(@1);
        $$->u.call.args = $3;
        $$ = finish(ctx, $$);
    }
  ;

args:
    expr                  { memset(&$$, 0, sizeof $$); ptr_vec_push(ctx->mem, &$$, $1); }
  | args ',' expr         { $$ = $1; ptr_vec_push(ctx->mem, &$$, $3); }
  ;

expr_list:
    expr                  { memset(&$$, 0, sizeof $$); ptr_vec_push(ctx->mem, &$$, $1); }
  | expr_list ',' expr    { $$ = $1; ptr_vec_push(ctx->mem, &$$, $3); }
  ;

%%

/* Bounds the depth of every expression tree: a subtree that gets too deep is reported
 * once per file and replaced by an error node, so no later recursion can overflow. */
static ast_expr *finish(parse_ctx *ctx, ast_expr *e)
{
    unsigned depth = 0;
    ast_expr *kids[4] = {0};
    switch (e->kind) {
    case EX_UNARY: kids[0] = e->u.op.lhs; break;
    case EX_BINARY: kids[0] = e->u.op.lhs; kids[1] = e->u.op.rhs; break;
    case EX_IF: kids[0] = e->u.cond.cond; kids[1] = e->u.cond.then_expr; kids[2] = e->u.cond.else_expr; break;
    case EX_IN_LIST: case EX_IN_SET: case EX_IN_PERIOD: kids[0] = e->u.in.lhs; break;
    case EX_CALL: kids[0] = e->u.call.where; kids[1] = e->u.call.having; break;
    default: break;
    }
    for (int i = 0; i < 4; i++)
        if (kids[i] && kids[i]->depth > depth) depth = kids[i]->depth;
    const ptr_vec *lists[2] = { NULL, NULL };
    if (e->kind == EX_IN_LIST) lists[0] = &e->u.in.items;
    if (e->kind == EX_CALL) lists[1] = &e->u.call.args;
    for (int l = 0; l < 2; l++) {
        if (!lists[l]) continue;
        for (size_t i = 0; i < lists[l]->len; i++) {
            ast_expr *k = lists[l]->items[i];
            if (k->depth > depth) depth = k->depth;
        }
    }
    depth++;
    if (depth <= AST_MAX_DEPTH) {
        e->depth = (uint16_t)depth;
        return e;
    }
    if (!ctx->depth_reported) {
        ctx->depth_reported = true;
        diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, e->span, "too-deep",
                                    "expression nested more than %d levels deep", AST_MAX_DEPTH);
        diag_hint(ctx->diags, d, "split it into several indicators");
    }
    ast_expr *err = ast_new_expr(ctx->mem, EX_ERROR, e->span);
    err->depth = 1;
    return err;
}

static ast_expr *literal(parse_ctx *ctx, ast_expr_kind kind, kp_tok tok, kp_loc loc)
{
    ast_expr *e = ast_new_expr(ctx->mem, kind, SPAN(loc));
    e->u.lit.raw = tok.raw;
    e->u.lit.text = tok.text;
    e->depth = 1;
    return e;
}

static ast_expr *binary(parse_ctx *ctx, ast_op op, ast_expr *l, ast_expr *r, kp_loc op_loc)
{
    return finish(ctx, ast_new_binary(ctx->mem, op, l, r, SPAN(op_loc)));
}

static ast_expr *unary(parse_ctx *ctx, ast_op op, ast_expr *operand, kp_loc loc)
{
    ast_expr *e = ast_new_unary(ctx->mem, op, operand, SPAN(loc));
    e->u.op.op_span = SPAN(loc);
    e->u.op.op_span.end = e->u.op.op_span.start + (op == OP_NOT ? 3 : 1);
    return finish(ctx, e);
}

static void add_clause(parse_ctx *ctx, ast_expr *call, int which, void *clause, kp_loc loc)
{
    static const char *const names[] = {"where", "having", "over"};
    void **slot = which == CLAUSE_WHERE ? (void **)&call->u.call.where
                : which == CLAUSE_HAVING ? (void **)&call->u.call.having
                : (void **)&call->u.call.over;
    if (*slot) {
        kp_span first = which == CLAUSE_OVER ? ((ast_window *)*slot)->span
                                             : ((ast_expr *)*slot)->span;
        diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, SPAN(loc), "duplicate-clause",
                                    "a second '%s' clause", names[which]);
        diag_note(ctx->diags, d, first, "the first '%s' clause", names[which]);
        if (which != CLAUSE_OVER) diag_hint(ctx->diags, d, "combine the conditions with 'and'");
        return;
    }
    *slot = clause;
}

static ast_window *window_last(parse_ctx *ctx, kp_tok count, kp_loc count_loc, kp_tok unit,
                               kp_loc unit_loc, kp_loc loc)
{
    ast_window *w = arena_alloc(ctx->mem, sizeof *w);
    w->kind = WINDOW_LAST;
    w->span = SPAN(loc);
    const char *u = unit.text;
    if (!strcmp(u, "days") || !strcmp(u, "day")) w->unit = WINDOW_DAYS;
    else if (!strcmp(u, "weeks") || !strcmp(u, "week")) w->unit = WINDOW_WEEKS;
    else if (!strcmp(u, "months") || !strcmp(u, "month")) w->unit = WINDOW_MONTHS;
    else {
        diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, SPAN(unit_loc), "bad-window",
                                    "unknown window unit '%s'", u);
        diag_hint(ctx->diags, d, "write 'last N days', 'last N weeks' or 'last N months'");
        w->unit = WINDOW_DAYS;
    }
    const char *digits = count.text;
    bool whole = *digits != '\0';
    int64_t n = 0;
    for (const char *p = digits; *p; p++) {
        if (*p < '0' || *p > '9') { whole = false; break; }
        if (n > 100000) { n = 100001; break; }
        n = n * 10 + (*p - '0');
    }
    if (!whole || n < 1 || n > 100000) {
        diag_report(ctx->diags, DIAG_ERROR, SPAN(count_loc), "bad-window",
                    "a window length is a whole number from 1 to 100000");
        n = 1;
    }
    w->count = n;
    return w;
}

static ast_window *window_ytd(parse_ctx *ctx, kp_tok a, kp_tok b, kp_tok c, kp_loc loc)
{
    ast_window *w = arena_alloc(ctx->mem, sizeof *w);
    w->kind = WINDOW_YEAR_TO_DATE;
    w->span = SPAN(loc);
    if (strcmp(a.text, "year") || strcmp(b.text, "to") || strcmp(c.text, "date")) {
        diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, SPAN(loc), "bad-window",
                                    "unknown window '%s %s %s'", a.text, b.text, c.text);
        diag_hint(ctx->diags, d, "the windows are: period, all time, last N days|weeks|months, year to date");
    }
    return w;
}

/* A role's bonus from a pool, with its words checked: `pool` and `share` in their
 * places, then `cap` and `floor` once each. */
static ast_role_item *pool_bonus(parse_ctx *ctx, kp_tok pool, kp_loc pool_loc, kp_tok name, kp_loc name_loc,
                                 kp_tok share, kp_loc share_loc, ast_expr *share_expr, ptr_vec *bounds)
{
    ast_role_item *it = arena_alloc(ctx->mem, sizeof *it);
    it->kind = ROLE_BONUS;
    it->pool = name.text;
    it->pool_span = SPAN(name_loc);
    it->share = share_expr;
    if (strcmp(pool.text, "pool")) {
        diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, SPAN(pool_loc), "bad-pool-bonus",
                                    "unexpected '%s %s' after 'bonus'", pool.text, name.text);
        diag_hint(ctx->diags, d, "write 'bonus EXPR' for a formula, or 'bonus pool NAME share EXPR' for a part of a pool");
        return it;
    }
    if (strcmp(share.text, "share")) {
        diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, SPAN(share_loc), "bad-pool-bonus",
                                    "unexpected '%s' after 'bonus pool %s', expected 'share'", share.text, name.text);
        diag_hint(ctx->diags, d, "write 'bonus pool %s share EXPR', e.g. share score * staff.base_bonus: each member's part "
                  "is in proportion to it", name.text);
        return it;
    }
    kp_loc cap_loc = {0, 0}, floor_loc = {0, 0};
    for (size_t i = 0; i < bounds->len; i++) {
        pool_bound *b = bounds->items[i];
        bool is_cap = !strcmp(b->word.text, "cap"), is_floor = !strcmp(b->word.text, "floor");
        ast_expr **slot = is_cap ? &it->cap : is_floor ? &it->floor : NULL;
        kp_loc *first = is_cap ? &cap_loc : &floor_loc;
        if (!slot) {
            diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, SPAN(b->word_loc), "bad-pool-bonus",
                                        "unexpected '%s' in the bonus of pool '%s', expected 'cap' or 'floor'",
                                        b->word.text, name.text);
            static const char *const words[] = {"cap", "floor"};
            const char *near = diag_closest(b->word.text, words, 2);
            if (near) diag_hint(ctx->diags, d, "did you mean '%s'?", near);
            diag_hint(ctx->diags, d, "'cap EXPR' is the most a member is paid from the pool, 'floor EXPR' the least");
        } else if (*slot) {
            diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, SPAN(b->word_loc), "bad-pool-bonus",
                                        "a second '%s' in the bonus of pool '%s'", b->word.text, name.text);
            diag_note(ctx->diags, d, SPAN(*first), "the first is here");
        } else {
            *slot = b->expr;
            *first = b->word_loc;
        }
    }
    return it;
}

/* Kpi-level `points EXPR` lines are written after their kpi line; a `points NAME` line
 * names the role's scale. */
/* The rows of a grades table from its words: NAME `top` QUOTA for the first grade,
 * NAME `next` QUOTA for the ones after it, NAME `rest` for the last, each optionally
 * followed by `factor` X. The order of the words and what follows each is checked
 * here, located at the word; the quotas and factors themselves by the checker. */
static ast_grades *finish_grades(parse_ctx *ctx, ptr_vec *words, kp_loc loc)
{
    ast_grades *g = arena_alloc(ctx->mem, sizeof *g);
    g->span = SPAN(loc);
    g->rows = arena_alloc(ctx->mem, (words->len + 1) * sizeof *g->rows);
    size_t i = 0, n = words->len;
    grade_word **w = (grade_word **)words->items;
    while (i < n) {
        if (w[i]->literal) {
            diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, SPAN(w[i]->loc), "bad-grades",
                                        "unexpected '%s' in grades, expected a grade's name",
                                        diag_span_text(ctx->diags, SPAN(w[i]->loc), ctx->mem));
            diag_hint(ctx->diags, d, "write one grade per line: A top 20%% factor 1.5, then B next 70%% factor 1, "
                      "and C rest factor 0.5 last");
            i++;
            continue;
        }
        ast_grade *row = &g->rows[g->row_count++];
        row->name = w[i]->tok.text;
        row->name_span = SPAN(w[i]->loc);
        row->span = row->name_span;
        i++;
        const char *word = i < n && !w[i]->literal ? w[i]->tok.text : NULL;
        bool first = g->row_count == 1;
        if (!word || (strcmp(word, "top") && strcmp(word, "next") && strcmp(word, "rest"))) {
            kp_span at = i < n ? SPAN(w[i]->loc) : row->name_span;
            diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, at, "bad-grades",
                                        "grade '%s' needs 'top', 'next' or 'rest' after its name", row->name);
            diag_hint(ctx->diags, d, "write '%s %s 20%%' for a share of the ranked members, or '%s rest' for "
                      "everyone below the grades above", row->name, first ? "top" : "next", row->name);
            /* skip to the next word that could start a grade */
            while (i < n && (w[i]->literal || (i + 1 < n && w[i + 1]->literal))) i++;
            continue;
        }
        row->word_span = SPAN(w[i]->loc);
        row->rest = !strcmp(word, "rest");
        i++;
        if (!row->rest) {
            if (i < n && w[i]->literal) {
                row->quota = w[i]->literal;
                row->span.end = row->quota->span.end;
                i++;
            } else {
                diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, row->word_span, "bad-grades",
                                            "grade '%s' has no quota after '%s'", row->name, word);
                diag_hint(ctx->diags, d, "write '%s %s 20%%': the share of the ranked members the grade takes",
                          row->name, word);
            }
        } else {
            row->span.end = row->word_span.end;
            if (i < n && w[i]->literal) {
                diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, SPAN(w[i]->loc), "bad-grades",
                                            "grade '%s' is the rest: it takes everyone below the grades above, "
                                            "so it has no quota", row->name);
                diag_hint(ctx->diags, d, "write '%s rest', or '%s next %s' followed by a last grade that is the rest",
                          row->name, row->name, diag_span_text(ctx->diags, SPAN(w[i]->loc), ctx->mem));
                i++;
            }
        }
        if (i < n && !w[i]->literal && !strcmp(w[i]->tok.text, "factor")) {
            kp_loc factor_loc = w[i]->loc;
            i++;
            if (i < n && w[i]->literal) {
                row->factor = w[i]->literal;
                row->factor_span = SPAN(factor_loc);
                row->factor_span.end = row->factor->span.end;
                row->span.end = row->factor->span.end;
                i++;
            } else {
                diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, SPAN(factor_loc), "bad-grades",
                                            "grade '%s' has no number after 'factor'", row->name);
                diag_hint(ctx->diags, d, "write 'factor 1.5' or 'factor 120%%': what the grade multiplies the bonus "
                          "by as grade_factor");
                /* a name after `factor` (a constant the table cannot hold) is skipped
                 * when the word after it is not a grade's `top`/`next`/`rest` */
                if (i < n && !w[i]->literal && i + 1 < n && !w[i + 1]->literal &&
                    strcmp(w[i + 1]->tok.text, "top") && strcmp(w[i + 1]->tok.text, "next") &&
                    strcmp(w[i + 1]->tok.text, "rest"))
                    i++;
            }
        }
    }
    return g;
}

static ast_decl *finish_role(parse_ctx *ctx, ast_decl *role, ptr_vec *items)
{
    ast_role_item *out = arena_alloc(ctx->mem, (items->len + 1) * sizeof *out);
    int n = 0;
    for (size_t i = 0; i < items->len; i++) {
        ast_role_item *it = items->items[i];
        if (it->kind == ROLE_POINTS) {
            ast_expr *e = it->expr;
            bool bare_name = e->kind == EX_NAME && strcmp(e->u.name.name, "value") &&
                             strcmp(e->u.name.name, "achievement") &&
                             strcmp(e->u.name.name, "target");
            if (bare_name) {
                it->scale = e->u.name.name;
                it->scale_span = e->span;
                it->expr = NULL;
            } else if (n > 0 && out[n - 1].kind == ROLE_KPI && !out[n - 1].points) {
                out[n - 1].points = e;
                out[n - 1].span.end = it->span.end;
                continue;
            } else {
                diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, it->span, "stray-points",
                                            "a 'points' expression must follow its kpi line");
                diag_hint(ctx->diags, d, "'points NAME' names the role's scale; 'points EXPR' right after a kpi line gives that kpi its own points");
                continue;
            }
        }
        out[n++] = *it;
    }
    role->u.role.items = out;
    role->u.role.item_count = n;
    return role;
}

/* The words of `period G` (row 0: ast_grain_names) and their adverbs (row 1), by
 * ast_grain. A role's grain may also be the adverb of the issue that asked for it and of
 * everyday speech (`role promotion "推广岗位" quarterly { … }`); kpic fmt writes the
 * grain word. */
#define GRAIN_COUNT AST_GRAIN_COUNT
static const char *const grain_adverbs[GRAIN_COUNT] = {"daily", "weekly", "monthly", "quarterly", "yearly"};
static const char *const *const grain_names[2] = {ast_grain_names, grain_adverbs};

/* The grain WORD names: a grain word, or with ADVERBS also an adverb. */
static bool grain_of(const char *word, bool adverbs, ast_grain *grain)
{
    for (int form = 0; form <= (adverbs ? 1 : 0); form++)
        for (int g = 0; g < GRAIN_COUNT; g++)
            if (!strcmp(word, grain_names[form][g])) { *grain = (ast_grain)g; return true; }
    return false;
}

/* The hint for WORD, which names no grain: the grain word closest to it (to its closest
 * adverb first when ADVERBS) followed by AFTER, else every grain. */
static void unknown_grain_hint(parse_ctx *ctx, diagnostic *d, const char *word, bool adverbs,
                               const char *after)
{
    const char *near = diag_closest(word, grain_names[0], GRAIN_COUNT);
    const char *near_adverb = adverbs ? diag_closest(word, grain_names[1], GRAIN_COUNT) : NULL;
    for (int g = 0; g < GRAIN_COUNT && near_adverb; g++)
        if (!strcmp(near_adverb, grain_names[1][g])) near = grain_names[0][g];
    if (near) diag_hint(ctx->diags, d, "did you mean '%s'?%s", near, after);
    else diag_hint(ctx->diags, d, "the grains are day, week, month, quarter and year");
}

static bool unit_of(const char *word, ast_unit *unit)
{
    static const char *const names[] = {"count", "money", "percent", "ratio", "number", "days", "points"};
    for (int i = 0; i < 7; i++)
        if (!strcmp(word, names[i])) { *unit = (ast_unit)i; return true; }
    return false;
}

static bool coltype_of(const char *word, ast_coltype *type)
{
    static const char *const names[] = {"text", "int", "number", "money", "date", "bool"};
    for (int i = 0; i < 6; i++)
        if (!strcmp(word, names[i])) { *type = (ast_coltype)i; return true; }
    return false;
}

/* The list of a source block holds its columns and, as an entry without a name, its
 * `encoding` line (source_clause): the source gets the one, its columns the others. */
static void copy_columns(parse_ctx *ctx, ast_decl *d, ptr_vec *cols)
{
    int n = 0;
    d->u.source.columns = arena_alloc(ctx->mem, (cols->len + 1) * sizeof(ast_column));
    d->u.source.key_lines = arena_alloc(ctx->mem, (cols->len + 1) * sizeof(ast_key_line));
    for (size_t i = 0; i < cols->len; i++) {
        ast_column *col = cols->items[i];
        if (col->key_line) {
            d->u.source.key_lines[d->u.source.key_line_count++] = *col->key_line;
            continue;
        }
        if (col->name != NULL) {
            d->u.source.columns[n++] = *col;
            continue;
        }
        d->u.source.encoding = col->header;
        d->u.source.encoding_span = col->header_span;
        d->u.source.encoding_clause_span = col->span;
    }
    d->u.source.column_count = n;
}

/* The last column of a source block's list so far, or NULL before the first or right
 * after a `key (…)` line (a clause belongs to the column line it follows). */
static ast_column *last_column(ptr_vec *cols)
{
    for (size_t i = cols->len; i > 0; i--) {
        ast_column *col = cols->items[i - 1];
        if (col->key_line) return NULL;
        if (col->name != NULL) return col;
    }
    return NULL;
}

/* A clause already given: an error that points at both. */
static void duplicate_clause(parse_ctx *ctx, kp_loc at, const char *what, kp_span first)
{
    diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, SPAN(at), "duplicate-clause",
                                "'%s' is given twice", what);
    diag_note(ctx->diags, d, first, "first given here");
}

/* `WORD "VALUE"` in a source block: encoding, header, format or (the roster's end)
 * convention. */
static void source_clause(parse_ctx *ctx, ptr_vec *cols, kp_tok word, kp_loc word_loc,
                          kp_tok value, kp_loc value_loc)
{
    kp_loc whole = { word_loc.start, value_loc.end };
    ast_column *col = last_column(cols);
    if (!strcmp(word.text, "encoding")) {
        for (size_t i = 0; i < cols->len; i++) {
            ast_column *seen = cols->items[i];
            if (seen->name == NULL && seen->key_line == NULL) {
                duplicate_clause(ctx, whole, "encoding", seen->span);
                return;
            }
        }
        if (col != NULL) {
            diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, SPAN(whole), "clause-place",
                                        "'encoding' is written before the columns");
            diag_hint(ctx->diags, d, "move it to its own line at the top of the block: it is "
                                     "the encoding of the whole file");
            return;
        }
        ast_column *marker = arena_alloc(ctx->mem, sizeof *marker);
        memset(marker, 0, sizeof *marker);
        marker->header = value.text;
        marker->header_span = SPAN(value_loc);
        marker->span = SPAN(whole);
        ptr_vec_push(ctx->mem, cols, marker);
        return;
    }
    bool header = !strcmp(word.text, "header"), format = !strcmp(word.text, "format");
    bool convention = !strcmp(word.text, "convention");
    if (!header && !format && !convention) {
        diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, SPAN(word_loc), "unknown-clause",
                                    "unknown clause '%s' in a source block", word.text);
        static const char *const words[] = {"encoding", "header", "format", "convention"};
        const char *near = diag_closest(word.text, words, 4);
        if (near) diag_hint(ctx->diags, d, "did you mean '%s'?", near);
        else diag_hint(ctx->diags, d, "a source block takes 'encoding \"…\"' before its "
                                      "columns, and 'header \"…\"', 'format \"…\"' or "
                                      "'true \"…\" false \"…\"' after a column's type");
        return;
    }
    if (col == NULL) {
        diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, SPAN(whole), "clause-place",
                                    "'%s' must follow a column's name and type", word.text);
        diag_hint(ctx->diags, d, "write it on the column's line: amount  money  %s \"…\"",
                  word.text);
        return;
    }
    const char **slot = header ? &col->header : convention ? &col->convention : &col->format;
    kp_span *slot_span = header ? &col->header_span : convention ? &col->convention_span : &col->format_span;
    if (*slot != NULL) {
        duplicate_clause(ctx, whole, word.text, *slot_span);
        return;
    }
    *slot = value.text;
    *slot_span = SPAN(value_loc);
    col->span = ast_span_join(col->span, SPAN(whole));
}

/* `true "YES" false "NO"` after a bool column. */
static void bool_words(parse_ctx *ctx, ptr_vec *cols, kp_loc true_loc, kp_tok yes,
                       kp_loc yes_loc, kp_tok no, kp_loc no_loc)
{
    kp_loc whole = { true_loc.start, no_loc.end };
    ast_column *col = last_column(cols);
    if (col == NULL) {
        diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, SPAN(whole), "clause-place",
                                    "'true \"…\" false \"…\"' must follow a column's name and type");
        diag_hint(ctx->diags, d, "write it on the bool column's line: refunded  bool  true \"是\" false \"否\"");
        return;
    }
    if (col->true_word != NULL) {
        duplicate_clause(ctx, whole, "true … false …", col->bool_words_span);
        return;
    }
    col->true_word = yes.text;
    col->false_word = no.text;
    col->true_span = SPAN(yes_loc);
    col->false_span = SPAN(no_loc);
    col->bool_words_span = SPAN(whole);
    col->span = ast_span_join(col->span, SPAN(whole));
}

/* ---- tests ------------------------------------------------------------------------ */

static ast_test_data *test_data(parse_ctx *ctx, kp_tok source, kp_loc source_loc, kp_loc loc)
{
    ast_test_data *d = arena_alloc(ctx->mem, sizeof *d);
    d->span = SPAN(loc);
    d->source = source.text;
    d->source_span = SPAN(source_loc);
    return d;
}

static void bad_expect(parse_ctx *ctx, kp_span at, const char *hint, const char *fmt, const char *word)
{
    diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, at, "bad-expect", fmt, word);
    diag_hint(ctx->diags, d, "%s", hint);
}

/* TARGET of an expectation: WORD, WORD[STAFF] or WORD[STAFF].MEMBER, told apart by
 * the word (score, bonus, points, achievement, gate, unscored, grade, rank,
 * percentile; else an indicator). */
static ast_expect *expect_target(parse_ctx *ctx, kp_tok word, kp_loc word_loc, kp_tok *staff,
                                 kp_loc staff_loc, kp_tok *member, kp_loc member_loc, kp_loc loc)
{
    ast_expect *e = arena_alloc(ctx->mem, sizeof *e);
    e->target_span = SPAN(loc);
    e->name_span = SPAN(word_loc);
    if (staff) {
        e->staff = staff->text;
        e->staff_span = SPAN(staff_loc);
    }
    if (member) e->member_span = SPAN(member_loc);
    const char *w = word.text;
    bool member_is_number = member && member->raw[0] >= '0' && member->raw[0] <= '9';
    /* may_be_indicator: without brackets the word is an indicator's name (grade, rank and
     * percentile came after indicators of those names could be expected) */
    static const struct {
        const char *word;
        ast_expect_target target;
        bool may_be_indicator;
    } whole[] = { { "score", EXPECT_SCORE, false },  { "bonus", EXPECT_BONUS, false },
                  { "unscored", EXPECT_UNSCORED, false }, { "grade", EXPECT_GRADE, true },
                  { "rank", EXPECT_RANK, true },     { "percentile", EXPECT_PERCENTILE, true } };
    int of_staff = -1;
    for (int i = 0; i < (int)(sizeof whole / sizeof whole[0]); i++)
        if (!strcmp(w, whole[i].word)) of_staff = i;
    if (of_staff >= 0 && (staff || member)) {
        /* without brackets, `rank` or `grade` may be an indicator's name; with them too,
         * when the spec declares one (the checker decides: grade, rank and percentile
         * came after indicators of those names could be expected) */
        e->target = whole[of_staff].target;
        if (whole[of_staff].may_be_indicator) e->name = w;
        if (!staff)
            bad_expect(ctx, SPAN(word_loc), "name the staff member in brackets: score[s01]",
                       "'%s' in an expectation needs a staff id", w);
        else if (member)
            bad_expect(ctx, SPAN(member_loc),
                       "write score[s01], bonus[s01], unscored[s01], grade[s01], rank[s01] or percentile[s01]",
                       "'%s[…]' takes no member", w);
    } else if (of_staff >= 0 && !whole[of_staff].may_be_indicator) {
        e->target = whole[of_staff].target;
        bad_expect(ctx, SPAN(word_loc), "name the staff member in brackets: score[s01]",
                   "'%s' in an expectation needs a staff id", w);
    } else if (!strcmp(w, "points") || !strcmp(w, "achievement")) {
        e->target = w[0] == 'p' ? EXPECT_POINTS : EXPECT_ACHIEVEMENT;
        if (!staff || !member || member_is_number)
            bad_expect(ctx, member && member_is_number ? SPAN(member_loc) : SPAN(loc),
                       "name the staff member and the kpi: points[s01].new_users",
                       "'%s' in an expectation needs a staff id and a kpi", w);
        else
            e->name = member->text;
        if (member && !member_is_number) e->name_span = SPAN(member_loc);
    } else if (!strcmp(w, "gate")) {
        e->target = EXPECT_GATE;
        if (!staff)
            bad_expect(ctx, SPAN(word_loc), "write gate[s01] for every gate of the staff member's "
                       "role, or gate[s01].1 for its first", "'%s' in an expectation needs a staff id", w);
        if (member) {
            int n = 0;
            bool whole = member_is_number;
            for (const char *p = member->raw; whole && *p; p++) {
                if (*p < '0' || *p > '9' || n > 1000) whole = false;
                else n = n * 10 + (*p - '0');
            }
            if (!whole || n < 1 || n > 1000)
                bad_expect(ctx, SPAN(member_loc), "gates are numbered in the order the role "
                           "writes them, from 1: gate[s01].1", "a gate is named by its number, not '%s'",
                           member->raw);
            e->gate = whole ? n : 0;
        }
    } else {
        e->target = EXPECT_INDICATOR;
        e->name = w;
        if (member)
            bad_expect(ctx, SPAN(member_loc), "an indicator is written NAME or NAME[STAFF]; "
                       "points[STAFF].KPI and achievement[STAFF].KPI name a kpi",
                       "indicator '%s' takes no member", w);
    }
    return e;
}

/* `passed`, `failed` or `is null` after a target. */
static void expect_word_check(parse_ctx *ctx, ast_expect *e, kp_tok word, kp_loc word_loc,
                              kp_tok *word2, kp_loc word2_loc)
{
    e->check = EXPECT_HOLDS;
    if (word2 && !strcmp(word.text, "is") && !strcmp(word2->text, "null")) {
        e->check = EXPECT_NULL;
        return;
    }
    if (!word2 && (!strcmp(word.text, "passed") || !strcmp(word.text, "failed"))) {
        e->check = word.text[0] == 'p' ? EXPECT_PASSED : EXPECT_FAILED;
        return;
    }
    kp_loc whole = { word_loc.start, word2 ? word2_loc.end : word_loc.end };
    diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, SPAN(whole), "bad-expect",
                                "unknown expectation '%s%s%s'", word.text, word2 ? " " : "",
                                word2 ? word2->text : "");
    diag_hint(ctx->diags, d, "expect TARGET = VALUE (or != < <= > >=), TARGET within 0.1%% of "
                             "VALUE, TARGET is null, gate[STAFF] passed|failed, unscored[STAFF]");
}

/* `within TOLERANCE of VALUE`. */
static void expect_within(parse_ctx *ctx, ast_expect *e, kp_tok word, kp_loc word_loc,
                          ast_expr *tolerance, kp_tok of, kp_loc of_loc, ast_expr *value)
{
    e->check = EXPECT_WITHIN;
    e->tolerance = tolerance;
    e->value = value;
    if (strcmp(word.text, "within"))
        bad_expect(ctx, SPAN(word_loc), "write TARGET within 0.1% of VALUE",
                   "unknown expectation '%s'", word.text);
    else if (strcmp(of.text, "of"))
        bad_expect(ctx, SPAN(of_loc), "write TARGET within 0.1% of VALUE",
                   "unexpected '%s', expected 'of'", of.text);
}

/* The items of a test block, sorted into its fields; a second `period` is an error. */
static ast_decl *finish_test(parse_ctx *ctx, ast_decl *test, ptr_vec *items)
{
    size_t data = 0, expects = 0;
    for (size_t i = 0; i < items->len; i++) {
        const test_item *it = items->items[i];
        data += it->kind == TEST_DATA;
        expects += it->kind == TEST_EXPECT;
    }
    test->u.test.data = arena_alloc(ctx->mem, (data + 1) * sizeof(ast_test_data));
    test->u.test.expects = arena_alloc(ctx->mem, (expects + 1) * sizeof(ast_expect));
    for (size_t i = 0; i < items->len; i++) {
        const test_item *it = items->items[i];
        if (it->kind == TEST_DATA) {
            test->u.test.data[test->u.test.data_count++] = *it->data;
        } else if (it->kind == TEST_EXPECT) {
            test->u.test.expects[test->u.test.expect_count++] = *it->expect;
        } else if (test->u.test.period) {
            duplicate_clause(ctx, it->period_loc, "period", test->u.test.period_span);
        } else {
            test->u.test.period = it->period.text;
            test->u.test.period_span = SPAN(it->period_loc);
            test->u.test.period_item_span = SPAN(it->item_loc);
        }
    }
    return test;
}

/* Token names as users should read them: keywords and punctuation quoted, token
 * classes ("identifier", "end of file") plain. */
static void token_name(char *buf, size_t size, yysymbol_kind_t sym)
{
    const char *name = yysymbol_name(sym);
    switch (sym) {
    case YYSYMBOL_YYEOF:
        snprintf(buf, size, "end of file");
        return;
    case YYSYMBOL_IDENT: case YYSYMBOL_NUMBER: case YYSYMBOL_PERCENT: case YYSYMBOL_DATE:
    case YYSYMBOL_STRING:
        snprintf(buf, size, "%s", name);
        return;
    default:
        if (name[0] == '\'') snprintf(buf, size, "%s", name);
        else snprintf(buf, size, "'%s'", name);
    }
}

/* Whether the line holding offset starts, unindented, with a declaration keyword: the
 * sign of a block whose '}' was forgotten (column names may be keywords, so the parser
 * itself only stumbles later on that line). */
static bool line_starts_declaration(const parse_ctx *ctx, uint32_t offset)
{
    uint32_t line = offset;
    while (line > 0 && ctx->text[line - 1] != '\n') line--;
    static const char *const words[] = {"import", "period", "currency", "source", "staff",
                                        "indicator", "set", "scale", "role", "test"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t n = strlen(words[i]);
        if (line + n < ctx->text_len && memcmp(ctx->text + line, words[i], n) == 0 &&
            (ctx->text[line + n] == ' ' || ctx->text[line + n] == '\t'))
            return true;
    }
    return false;
}

static int yyreport_syntax_error(const yypcontext_t *yyctx, parse_ctx *ctx)
{
    ctx->syntax_errors++;
    ctx->recovering = true;
    /* A stray character already reported by the scanner explains what follows. */
    if (ctx->lexical_errors) return 0;
    yysymbol_kind_t expected[YYNTOKENS];
    int n = yypcontext_expected_tokens(yyctx, expected, YYNTOKENS);
    yysymbol_kind_t got = yypcontext_token(yyctx);
    const kp_loc *loc = yypcontext_location(yyctx);

    char msg[512], name[64];
    token_name(name, sizeof name, got);
    int len;
    if (got == YYSYMBOL_IDENT || got == YYSYMBOL_NUMBER || got == YYSYMBOL_STRING ||
        got == YYSYMBOL_PERCENT || got == YYSYMBOL_DATE) {
        uint32_t shown = loc->end - loc->start > 40 ? 40 : loc->end - loc->start;
        len = snprintf(msg, sizeof msg, "unexpected %s %s%.*s%s", name,
                       got == YYSYMBOL_STRING ? "" : "'", (int)shown, ctx->text + loc->start,
                       got == YYSYMBOL_STRING ? "" : "'");
    } else {
        len = snprintf(msg, sizeof msg, "unexpected %s", name);
    }
    /* Where an expression may start, dozens of tokens could: say so in one word. */
    bool expression = false;
    for (int i = 0; i < n; i++)
        if (expected[i] == YYSYMBOL_NUMBER) expression = true;
    enum { MAX_LISTED = 6 };
    if (expression) {
        len += snprintf(msg + len, sizeof msg - (size_t)len, ", expected an expression");
    } else if (n > 0 && n <= MAX_LISTED) {
        len += snprintf(msg + len, sizeof msg - (size_t)len, ", expected ");
        for (int i = 0; i < n; i++) {
            token_name(name, sizeof name, expected[i]);
            len += snprintf(msg + len, sizeof msg - (size_t)len, "%s%s",
                            i == 0 ? "" : i == n - 1 ? " or " : ", ", name);
        }
    }
    kp_span span = SPAN(*loc);
    diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, span, "syntax", "%s", msg);
    bool declaration_keyword = got == YYSYMBOL_KW_IMPORT || got == YYSYMBOL_KW_PERIOD ||
        got == YYSYMBOL_KW_SOURCE || got == YYSYMBOL_KW_STAFF || got == YYSYMBOL_KW_INDICATOR ||
        got == YYSYMBOL_KW_SET || got == YYSYMBOL_KW_SCALE || got == YYSYMBOL_KW_ROLE ||
        got == YYSYMBOL_KW_CURRENCY || got == YYSYMBOL_KW_TEST || got == YYSYMBOL_KW_POOL ||
        got == YYSYMBOL_KW_GRADES;
    if (ctx->brace_depth > 0 && (got == YYSYMBOL_YYEOF || declaration_keyword ||
                                 line_starts_declaration(ctx, loc->start))) {
        int open = ctx->brace_depth <= PARSE_MAX_BRACES ? ctx->brace_depth - 1 : PARSE_MAX_BRACES - 1;
        kp_span brace = { ctx->file, ctx->open_braces[open], ctx->open_braces[open] + 1 };
        diag_note(ctx->diags, d, brace, "this '{' is not closed");
    } else if (declaration_keyword && got != YYSYMBOL_KW_STAFF && got != YYSYMBOL_KW_PERIOD) {
        diag_hint(ctx->diags, d, "the declaration before it is incomplete");
    }
    return 0;
}

static void yyerror(kp_loc *loc, parse_ctx *ctx, const char *msg)
{
    /* Only bison's own failures land here ("memory exhausted" when the parser stack
     * outgrows its limit); syntax errors go through yyreport_syntax_error. */
    ctx->syntax_errors++;
    diagnostic *d = diag_report(ctx->diags, DIAG_ERROR, SPAN(*loc), "too-deep",
                                "cannot parse further: %s", msg);
    diag_hint(ctx->diags, d, "the text is nested too deeply");
}

bool parse_at_line_start(const parse_ctx *ctx, uint32_t offset)
{
    /* scanning back, a CR is met before any LF that follows it, so every CR met here is
     * a lone one: a line end, as in the line table */
    while (offset > 0) {
        char c = ctx->text[offset - 1];
        if (c == '\n' || c == '\r') return true;
        if (c != ' ' && c != '\t') return false;
        offset--;
    }
    return true;
}

ast_file *ast_parse_file(arena *mem, diag_sink *diags, uint32_t file)
{
    const diag_file *f = diag_get_file(diags, file);
    parse_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.mem = mem;
    ctx.diags = diags;
    ctx.file = file;
    ctx.text = f->text;
    ctx.text_len = (uint32_t)f->len;
    ctx.out = arena_alloc(mem, sizeof *ctx.out);
    ctx.out->file = file;

    lex_begin(&ctx);
    kpyparse(&ctx);
    lex_end(&ctx);

    ctx.out->comment_count = (int)ctx.comments.len;
    ctx.out->comments = arena_alloc(mem, (ctx.comments.len + 1) * sizeof(ast_comment));
    for (size_t i = 0; i < ctx.comments.len; i++)
        ctx.out->comments[i] = *(ast_comment *)ctx.comments.items[i];
    ctx.out->syntax_errors = ctx.syntax_errors > 0;
    return ctx.out;
}
