/* ast.h — the syntax tree of a KPI spec (docs/language.md).
 *
 * Owns: the node types for declarations and expressions, their constructors, and the
 * entry points that parse one file (ast_parse_file) or a spec with its imports
 * (ast_load_spec). Every node carries the span of source text it came from; every node
 * and string lives in the spec's arena and is freed with it in one call.
 *
 * The parser fills only the syntactic fields. Fields under "checker annotations" are
 * zero after parsing and are filled by the checker (check.h); later stages read them.
 */
#ifndef KPIC_AST_H
#define KPIC_AST_H

#include <stdbool.h>
#include <stdint.h>

#include "kpic/arena.h"
#include "kpic/date.h"
#include "kpic/decimal.h"
#include "kpic/diag.h"

/* Expressions deeper than this are a located error, not a stack overflow: the checker,
 * evaluator and formatter all recurse over the tree. */
#define AST_MAX_DEPTH 200

/* Imports nested deeper than this (a file importing a file importing …) are a located
 * error: no real library of KPIs is that deep, and a generated chain should not cost
 * unbounded time. */
#define AST_MAX_IMPORT_DEPTH 64

typedef struct ast_decl ast_decl;
typedef struct ast_expr ast_expr;

/* ---- value domains (shared with the checker and evaluator) ---------------------- */

/* Column types of §2.1. */
typedef enum ast_coltype {
    COLTYPE_TEXT,
    COLTYPE_INT,
    COLTYPE_NUMBER,
    COLTYPE_MONEY,
    COLTYPE_DATE,
    COLTYPE_BOOL
} ast_coltype;

/* Declared units of §2.2. PERCENT and RATIO are one dimension that differ only in
 * how values are shown. */
typedef enum ast_unit {
    UNIT_COUNT,
    UNIT_MONEY,
    UNIT_PERCENT,
    UNIT_RATIO,
    UNIT_NUMBER,
    UNIT_DAYS,
    UNIT_POINTS
} ast_unit;

/* Period grains of `period G`. Order matters: coarser grains compare greater. */
typedef enum ast_grain { GRAIN_DAY, GRAIN_WEEK, GRAIN_MONTH, GRAIN_QUARTER, GRAIN_YEAR } ast_grain;

const char *ast_coltype_name(ast_coltype t);
const char *ast_unit_name(ast_unit u);
#define AST_GRAIN_COUNT (GRAIN_YEAR + 1)
/* The grain words, by ast_grain ("day" … "year"): the one table the parser, messages and
 * outputs name grains from. */
extern const char *const ast_grain_names[AST_GRAIN_COUNT];
const char *ast_grain_name(ast_grain g);

/* ---- expressions ---------------------------------------------------------------- */

typedef enum ast_expr_kind {
    EX_ERROR,   /* placeholder where a syntax error was recovered from */
    EX_NUMBER,  /* 1200, 3.5, 1_000_000 */
    EX_PERCENT, /* 25% — value is number/100 */
    EX_DATE,    /* 2025-05-01 */
    EX_STRING,  /* "…" */
    EX_BOOL,    /* true, false */
    EX_INF,     /* inf (scale bounds only; the checker enforces that) */
    /* a bare identifier: indicator, set, column inside where/having, or one of
     * value/target/achievement/score/employed */
    EX_NAME,
    EX_MEMBER, /* base.member: source.column, staff.column, period.start|end */
    EX_UNARY,
    EX_BINARY,
    EX_IF,        /* if cond then a else b */
    EX_IN_LIST,   /* x in ("a", "b") */
    EX_IN_SET,    /* x in SETNAME */
    EX_IN_PERIOD, /* x in period | x in previous period | x before period */
    /* name(args [where C] [having H] [over W]): aggregates, functions, previous(),
     * last_year() and scales alike; the checker tells which */
    EX_CALL
} ast_expr_kind;

typedef enum ast_op {
    OP_NEG,
    OP_NOT,
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_EQ,
    OP_NE,
    OP_LT,
    OP_LE,
    OP_GT,
    OP_GE,
    OP_AND,
    OP_OR
} ast_op;

const char *ast_op_text(ast_op op);

/* Binding strength, loosest first, as declared in grammar/parser.y: what the printers
 * (fmt, explain) need to put back the parentheses the tree does not keep. */
typedef enum ast_prec {
    AST_PREC_IF, /* if … then … else …: the else branch reaches as far as it can */
    AST_PREC_OR,
    AST_PREC_AND,
    AST_PREC_NOT,
    AST_PREC_CMP, /* = != < <= > >= in before: non-associative */
    AST_PREC_ADD,
    AST_PREC_MUL,
    AST_PREC_NEG,
    AST_PREC_ATOM
} ast_prec;

ast_prec ast_precedence(const ast_expr *e);

/* Calls FN on each direct child of E that is there, in source order: operands, the
 * condition and branches, the tested value and list items, a call's arguments, then
 * its `where` and `having` (a window has no expressions). */
void ast_expr_each_child(const ast_expr *e, void (*fn)(const ast_expr *child, void *ctx), void *ctx);

typedef enum ast_period_rel { PERIOD_IN, PERIOD_IN_PREVIOUS, PERIOD_BEFORE } ast_period_rel;

typedef enum ast_window_kind {
    WINDOW_PERIOD,
    WINDOW_ALL_TIME,
    WINDOW_LAST,
    WINDOW_YEAR_TO_DATE
} ast_window_kind;

typedef enum ast_window_unit { WINDOW_DAYS, WINDOW_WEEKS, WINDOW_MONTHS } ast_window_unit;

typedef struct ast_window {
    ast_window_kind kind;
    int64_t count; /* N of `last N units` */
    ast_window_unit unit;
    kp_span span; /* from `over` to the end of the window */
} ast_window;

/* What the checker resolved a name, member or call to. */
typedef enum ast_ref_kind {
    REF_NONE,
    REF_INDICATOR,    /* ref.decl is the indicator */
    REF_SET,          /* ref.decl is the set */
    REF_SCALE,        /* ref.decl is the scale (a call) */
    REF_SOURCE,       /* ref.decl is the source (count(SRC)) */
    REF_COLUMN,       /* ref.decl + ref.column: a source column (or roster column) */
    REF_STAFF_COLUMN, /* staff.COL: ref.decl is the roster, ref.column the column */
    REF_PERIOD_START,
    REF_PERIOD_END,
    REF_VALUE,
    REF_TARGET,
    REF_ACHIEVEMENT, /* inside a kpi's points expression */
    REF_SCORE,
    REF_EMPLOYED, /* inside a role's bonus (and gates) */
    /* inside the bonus of a role with grades (docs/language.md §9.4): the member's
     * grade (text), rank (1 = best), percentile and their grade's factor */
    REF_GRADE,
    REF_RANK,
    REF_PERCENTILE,
    REF_GRADE_FACTOR
} ast_ref_kind;

typedef enum ast_call_kind {
    CALL_UNRESOLVED,
    CALL_COUNT,
    CALL_SUM,
    CALL_AVG,
    CALL_MIN,
    CALL_MAX,
    CALL_DISTINCT, /* aggregates */
    CALL_FN_MIN,
    CALL_FN_MAX,
    CALL_FN_ABS,
    CALL_FN_ROUND,
    CALL_FN_DAYS, /* scalar functions */
    CALL_PREVIOUS,
    CALL_LAST_YEAR,
    CALL_SCALE,
    CALL_SET_SIZE, /* count(SETNAME) */
    /* coalesce(a, b): a scalar function, listed last so that the ranges above keep their
     * meaning */
    CALL_FN_COALESCE
} ast_call_kind;

/* The type lattice the checker infers. TYPE_ERROR marks a subtree already reported,
 * so one mistake is not reported again by every enclosing node. */
typedef enum ast_type {
    TYPE_ERROR,
    TYPE_NUM,
    TYPE_BOOL,
    TYPE_TEXT,
    TYPE_DATE,
    TYPE_SET,
    TYPE_SOURCE
} ast_type;

/* Dimensions of numbers (§2.3). DIM_NUMBER is dimensionless and adapts to its neighbour. */
typedef enum ast_dim { DIM_NUMBER, DIM_COUNT, DIM_MONEY, DIM_RATIO, DIM_DAYS, DIM_POINTS } ast_dim;

struct ast_expr {
    ast_expr_kind kind;
    kp_span span;
    uint16_t depth; /* 1 + deepest child: bounded by AST_MAX_DEPTH */

    union {
        struct {             /* EX_NUMBER, EX_PERCENT, EX_DATE, EX_STRING, EX_BOOL */
            const char *raw; /* the lexeme as written, for the formatter */
            /* numbers: digits without '_' (percent: without '%'); strings: the decoded
             * UTF-8 value; dates: YYYY-MM-DD */
            const char *text;
            bool boolean;
        } lit;
        struct { /* EX_NAME */
            const char *name;
        } name;
        struct {              /* EX_MEMBER */
            const char *base; /* "staff", "period" or a source name */
            const char *member;
            kp_span base_span, member_span;
        } member;
        struct { /* EX_UNARY, EX_BINARY */
            ast_op op;
            ast_expr *lhs; /* the operand of a unary operator */
            ast_expr *rhs;
            kp_span op_span;
        } op;
        struct { /* EX_IF */
            ast_expr *cond, *then_expr, *else_expr;
        } cond;
        struct { /* EX_IN_LIST, EX_IN_SET, EX_IN_PERIOD */
            ast_expr *lhs;
            ptr_vec items;        /* EX_IN_LIST: ast_expr* */
            const char *set_name; /* EX_IN_SET */
            kp_span set_span;
            ast_period_rel rel; /* EX_IN_PERIOD */
        } in;
        struct {              /* EX_CALL */
            const char *name; /* count, sum, …, previous, last_year, a scale's name */
            kp_span name_span;
            ptr_vec args;    /* ast_expr* */
            ast_expr *where; /* optional clauses, NULL when absent */
            ast_expr *having;
            ast_window *over;
        } call;
    } u;

    /* ---- checker annotations (zero after parsing) ---- */
    ast_type type;
    ast_dim dim;
    bool per_staff;          /* value differs per staff member */
    ast_ref_kind ref_kind;   /* EX_NAME, EX_MEMBER, EX_IN_SET, count(SRC|SET) */
    ast_decl *ref;           /* the declaration it resolved to */
    int column;              /* REF_COLUMN / REF_STAFF_COLUMN: index into ref's columns */
    ast_call_kind call_kind; /* EX_CALL */
    ast_decl *agg_source;    /* aggregates: the source whose rows they range over */
    /* Literals are decoded by the lowering stage (ir.h), not here. */
};

/* ---- declarations --------------------------------------------------------------- */

typedef enum ast_decl_kind {
    DECL_IMPORT,
    DECL_PERIOD,
    DECL_CURRENCY,
    DECL_SOURCE,
    DECL_STAFF,
    DECL_INDICATOR,
    DECL_SET,
    DECL_SCALE,
    DECL_ROLE,
    DECL_TEST, /* test "NAME" { … }: a test of the spec (spectest.h) */
    DECL_POOL, /* pool NAME ["LABEL"] = AMOUNT: money that roles share out */
    /* grades NAME ["LABEL"] { A top 20% factor 1.5 … }: a forced distribution that roles
     * rank their members on */
    DECL_GRADES
} ast_decl_kind;

typedef struct ast_column {
    const char *name;
    kp_span name_span;
    ast_coltype type;
    kp_span type_span;
    bool is_time, is_staff; /* the `time` and `staff` flags */
    kp_span time_span, staff_span;
    kp_span span; /* the whole column line, clauses included */
    /* How the export writes the column (§3 source); NULL when not declared. */
    const char *header;  /* `header "…"`: the name in the CSV header */
    kp_span header_span; /* the string */
    const char *format;  /* `format "…"`: a date or number pattern (cellfmt.h) */
    kp_span format_span;
    const char *true_word; /* `true "…" false "…"`: a bool column's words */
    const char *false_word;
    kp_span true_span, false_span; /* the strings */
    kp_span bool_words_span;       /* from `true` to the false word */
    /* `convention "…"` on the roster's `end` column: "last_day" (the cell is the last day
     * employed) or "day_after" (the first day no longer employed, the default); NULL when
     * not declared */
    const char *convention;
    kp_span convention_span; /* the string */
    /* only in the parser's list of a block's lines: this line is a `key (…)` line, not a
     * column */
    struct ast_key_line *key_line;
} ast_column;

/* `key (a, b)`: a line of a source block naming the columns that together identify a
 * row (a repeated key is a bad row). */
typedef struct ast_key_line {
    const char **columns;
    kp_span *column_spans;
    int count;
    kp_span span;
} ast_key_line;

/* The name a column has in the CSV header: its `header "…"`, or its own name. */
const char *ast_column_header(const ast_column *col);

typedef struct ast_scale_row {
    bool lo_closed, hi_closed; /* '[' vs '(' and ']' vs ')' */
    ast_expr *lo, *hi;         /* bounds: numbers, percents or inf (signed) */
    ast_expr *from;            /* the points, or the start of a linear segment */
    ast_expr *to;              /* end of a linear `from .. to` segment, or NULL */
    kp_span span;
} ast_scale_row;

/* One grade of a forced distribution: `A top 20% factor 1.5`, `B next 70%`, `C rest`. */
typedef struct ast_grade {
    const char *name; /* A */
    kp_span name_span;
    bool rest;           /* `rest`: the last grade, everyone not in a grade above */
    kp_span word_span;   /* `top`, `next` or `rest` */
    ast_expr *quota;     /* a percentage (or number) literal; NULL for `rest` */
    ast_expr *factor;    /* `factor X`: a number or percentage literal; NULL when absent */
    kp_span factor_span; /* from `factor` to the end of X */
    kp_span span;        /* the whole grade */
} ast_grade;

/* A table of grades, in a role (`grades { … }`) or declared on its own
 * (`grades NAME { … }`, DECL_GRADES): every role that uses one table is ranked as
 * one group (docs/language.md §9.4). */
typedef struct ast_grades {
    ast_grade *rows; /* best grade first */
    int row_count;
    kp_span span;          /* from '{' to '}' */
    struct ast_decl *decl; /* the DECL_GRADES it belongs to; NULL inside a role */
    /* checker annotations */
    /* the rows checked without errors: quotas decodable, a `rest` last, factors on every
     * grade or on none */
    bool valid;
    bool has_factors; /* every grade has a factor */
    ptr_vec roles;    /* ast_decl* of the roles ranked on it, in order */
} ast_grades;

typedef enum ast_role_item_kind {
    ROLE_KPI,
    ROLE_POINTS,
    ROLE_GATE,
    ROLE_BONUS,
    ROLE_MISSING,
    ROLE_GRADES /* `grades { … }` or `grades NAME` */
} ast_role_item_kind;

typedef enum ast_comparator { CMP_GE, CMP_LE } ast_comparator;

typedef struct ast_role_item {
    ast_role_item_kind kind;
    kp_span span; /* the whole item */
    /* ROLE_KPI */
    const char *indicator;
    kp_span indicator_span;
    bool shared; /* `kpi NAME shared`: a team-wide value every member gets */
    kp_span shared_span;
    ast_expr *weight;
    bool has_target;
    ast_comparator comparator;
    kp_span comparator_span;
    ast_expr *target;
    ast_expr *points; /* kpi-level `points EXPR`, or NULL */
    /* ROLE_POINTS: the scale name */
    const char *scale;
    kp_span scale_span;
    /* ROLE_GATE, ROLE_BONUS (NULL for a pool's bonus) */
    ast_expr *expr;
    /* ROLE_BONUS from a pool: `bonus pool NAME share EXPR [cap EXPR] [floor EXPR]`;
     * pool is NULL for a plain `bonus EXPR`, and ref is the pool once checked */
    const char *pool;
    kp_span pool_span;     /* NAME */
    ast_expr *share;       /* each member's claim: the pool is divided in proportion */
    ast_expr *cap, *floor; /* money per member, or NULL when not declared */
    /* ROLE_MISSING: true for `missing skip`, false for `missing zero` */
    bool missing_skip;
    /* ROLE_GRADES: the table written in the role, or NULL for `grades NAME` (NAME in
     * grades_name, and grades set to the declaration's table once checked) */
    ast_grades *grades;
    const char *grades_name;
    kp_span grades_name_span;
    /* checker annotation: the indicator (ROLE_KPI), scale (ROLE_POINTS), pool
     * (ROLE_BONUS from a pool) or grades declaration (ROLE_GRADES with a name) */
    ast_decl *ref;
} ast_role_item;

/* ---- tests (`test "NAME" { … }`, docs/language.md "Tests") ---------------------- */

/* What an expectation looks at. */
typedef enum ast_expect_target {
    EXPECT_INDICATOR,   /* NAME or NAME[STAFF]: an indicator's total or one member's */
    EXPECT_SCORE,       /* score[STAFF] */
    EXPECT_BONUS,       /* bonus[STAFF] */
    EXPECT_POINTS,      /* points[STAFF].KPI */
    EXPECT_ACHIEVEMENT, /* achievement[STAFF].KPI */
    EXPECT_GATE,        /* gate[STAFF] (every gate) or gate[STAFF].N (the Nth) */
    EXPECT_UNSCORED,    /* unscored[STAFF] */
    /* the ranking of a role with grades (§9.4) */
    EXPECT_GRADE,     /* grade[STAFF] = "A" */
    EXPECT_RANK,      /* rank[STAFF] */
    EXPECT_PERCENTILE /* percentile[STAFF] */
} ast_expect_target;

/* What is expected of it. */
typedef enum ast_expect_check {
    EXPECT_COMPARE, /* OP VALUE */
    EXPECT_WITHIN,  /* within TOL% of VALUE */
    EXPECT_NULL,    /* is null */
    EXPECT_PASSED,  /* gates: passed */
    EXPECT_FAILED,  /* gates: failed */
    EXPECT_HOLDS    /* nothing after the target: unscored[STAFF] */
} ast_expect_check;

typedef struct ast_expect {
    kp_span span;        /* the whole `expect …` line */
    kp_span target_span; /* from the target's word to its end */
    ast_expect_target target;
    /* the indicator; for points/achievement the kpi; for grade/rank/percentile the word
     * (an indicator of that name is meant when one is declared); else NULL */
    const char *name;
    kp_span name_span;
    const char *staff; /* the staff id in brackets, or NULL: the total */
    kp_span staff_span;
    int gate;            /* gate[STAFF].N: N (1-based); 0: every gate */
    kp_span member_span; /* `.KPI` / `.N` */
    ast_expect_check check;
    ast_op op; /* EXPECT_COMPARE: OP_EQ … OP_GE */
    kp_span op_span;
    ast_expr *value;     /* EXPECT_COMPARE, EXPECT_WITHIN: a signed literal (a grade: a string) */
    ast_expr *tolerance; /* EXPECT_WITHIN: a percentage */
    /* checker annotations */
    /* EXPECT_INDICATOR: the indicator; points/achievement: the kpi's indicator */
    ast_decl *ref;
    dec_t expected, relative; /* the value and the tolerance as exact decimals */
} ast_expect;

/* `data SOURCE { lines }` or `data SOURCE from "PATH"`. */
typedef struct ast_test_data {
    kp_span span;       /* the whole item */
    const char *source; /* a source's name, or "staff" for the roster */
    kp_span source_span;
    const char *path; /* `from "PATH"`, or NULL for inline data */
    kp_span path_span;
    const char **lines;  /* inline: each line as written, its indentation removed */
    kp_span *line_spans; /* the span of each line's text in the spec */
    int line_count;
    /* checker annotation */
    ast_decl *ref; /* the source or the roster */
} ast_test_data;

struct ast_decl {
    ast_decl_kind kind;
    kp_span span;     /* the whole declaration */
    const char *name; /* NULL for import/period/currency/staff */
    kp_span name_span;
    kp_span keyword_span;

    union {
        struct { /* DECL_IMPORT */
            const char *path;
            kp_span path_span;
        } import;
        struct { /* DECL_PERIOD */
            ast_grain grain;
            kp_span grain_span;
        } period;
        struct { /* DECL_CURRENCY */
            const char *code;
            kp_span code_span;
        } currency;
        struct { /* DECL_SOURCE, DECL_STAFF */
            const char *path;
            kp_span path_span;
            const char *encoding;         /* `encoding "…"`, or NULL: UTF-8 */
            kp_span encoding_span;        /* the string */
            kp_span encoding_clause_span; /* the whole `encoding "…"` line */
            ast_column *columns;
            int column_count;
            ast_key_line *key_lines; /* the `key (…)` lines, in order */
            int key_line_count;
        } source;
        struct {               /* DECL_INDICATOR */
            const char *label; /* NULL when absent */
            kp_span label_span;
            ast_unit unit;
            kp_span unit_span;
            bool per_staff;
            kp_span per_staff_span;
            ast_expr *expr;
            const char *note; /* NULL when absent */
            kp_span note_span;
        } indicator;
        struct {              /* DECL_SET: name = column [where] [having] [over] */
            ast_expr *column; /* EX_MEMBER source.column */
            ast_expr *where, *having;
            ast_window *over;
        } set;
        struct { /* DECL_SCALE */
            ast_scale_row *rows;
            int row_count;
        } scale;
        struct { /* DECL_ROLE */
            const char *label;
            kp_span label_span;
            ast_role_item *items;
            int item_count;
            /* `role NAME "LABEL" quarter { … }`: the role's own period grain
             * (docs/language.md "Role periods"); grain_span is empty when none is written,
             * and the checker then sets grain to the spec's */
            bool has_grain;
            ast_grain grain;
            kp_span grain_span;
        } role;
        struct {               /* DECL_POOL */
            const char *label; /* NULL when absent */
            kp_span label_span;
            ast_expr *amount; /* money, the same for everyone (team-wide) */
            /* checker annotation: ast_decl* of the roles whose bonus is a part of it, in
             * declaration order */
            ptr_vec roles;
        } pool;
        struct {               /* DECL_GRADES */
            const char *label; /* NULL when absent */
            kp_span label_span;
            ast_grades *table;
        } grades;
        struct {                      /* DECL_TEST: name is the test's name (decoded) */
            const char *period;       /* `period P` as written (P alone), or NULL when absent */
            kp_span period_span;      /* P */
            kp_span period_item_span; /* from `period` to the end of P */
            ast_test_data *data;
            int data_count;
            ast_expect *expects;
            int expect_count;
        } test;
    } u;

    /* ---- checker annotations ---- */
    ast_dim dim;     /* indicators and sets: the inferred dimension */
    bool per_staff;  /* sets: grouped per staff when used per staff */
    int check_state; /* cycle detection: 0 unvisited, 1 visiting, 2 done */
};

/* A `# …` comment: kept so the formatter can put it back where it was. */
typedef struct ast_comment {
    kp_span span;  /* from '#' to the end of the line (newline excluded) */
    bool own_line; /* nothing but white space before it on its line */
} ast_comment;

/* One parsed file. */
typedef struct ast_file {
    uint32_t file; /* the sink's file index */
    ptr_vec decls; /* ast_decl*, in source order */
    ast_comment *comments;
    int comment_count;
    bool syntax_errors;
} ast_file;

/* A spec: its main file and every file it imports, transitively. */
typedef struct ast_spec {
    arena mem;
    diag_sink *diags;
    ptr_vec files; /* ast_file*; files.items[0] is the main file */
    /* every declaration of every file, imports resolved, import declarations themselves
     * excluded */
    ptr_vec decls;
    /* Where the spec may read (docs/security.md): canonical folders, in the arena. */
    /* the project root: the main file's git top-level, or its folder outside git */
    const char *root;
    ptr_vec read_dirs; /* char*: more folders the command line allows */
    ptr_vec attached;  /* ast_attachment*: see ast_spec_attach */
} ast_spec;

/* What a later stage built from a spec and keeps for as long as the spec lives (the
 * lowered IR, ir.h: lowered once, then shared by every consumer). */
typedef struct ast_attachment {
    const void *key;
    void *value;
    void (*release)(void *value);
} ast_attachment;

/* Keeps VALUE with SPEC under KEY; ast_free_spec calls RELEASE(VALUE) (when not NULL)
 * before it frees the arena, newest first. */
void ast_spec_attach(ast_spec *spec, const void *key, void *value, void (*release)(void *value));
/* The value attached under KEY, or NULL. */
void *ast_spec_attached(const ast_spec *spec, const void *key);
/* The grades ROLE ranks its members on (its `grades` line, resolved), or NULL. */
const ast_grades *ast_role_grades(const struct ast_decl *role);

/* ">=" or "<=", as a kpi's target is written. */
const char *ast_comparator_text(ast_comparator cmp);

/* A set's definition as written: from its column to the end of the declaration
 * (`orders.customer_id where amount >= 100 over all time`). */
kp_span ast_set_definition_span(const ast_decl *set);

/* Parses the text of one registered file into the arena. Syntax errors are reported to
 * diags and recovered from; the returned file holds every declaration that parsed. */
ast_file *ast_parse_file(arena *mem, diag_sink *diags, uint32_t file);

/* Loads path and, transitively, every import (relative to the importing file),
 * reporting missing files, import cycles, imports outside the project root
 * (ast_spec_may_read) and imports nested deeper than AST_MAX_IMPORT_DEPTH. Always returns a spec (free it with
 * ast_free_spec), possibly with errors in diags. NULL only when path cannot be read;
 * that is reported too. */
ast_spec *ast_load_spec(diag_sink *diags, const char *path);
/* The same for a main file already registered in diags (its text may come from
 * anywhere: the fuzzer, a test); imports are still read from disk relative to its path. */
ast_spec *ast_load_spec_file(diag_sink *diags, uint32_t file);
/* Reads the whole file PATH (as the loader resolved it) into a malloc'd, NUL-terminated
 * buffer of *LEN bytes; NULL with *WHY set (static or sink-owned text) when it cannot. */
typedef char *(*ast_read_fn)(void *ctx, const char *path, size_t *len, const char **why);
/* How a spec is loaded beyond the defaults (all fields may be zero). */
typedef struct ast_load_options {
    /* folders the command line lets the spec read beyond its project root (--allow-read,
     * --data-dir): imports and source paths may lie under these as well */
    const char *const *read_dirs;
    size_t read_dir_count;
    /* NULL: files are read from disk; else every file (the main one and its imports) is
     * read by READ — `kpic diff` reads a spec as it was in a git revision this way */
    ast_read_fn read;
    void *read_ctx;
} ast_load_options;
/* ast_load_spec with OPTIONS (NULL: the defaults). */
ast_spec *ast_load_spec_with(diag_sink *diags, const char *path, const ast_load_options *options);
/* Whether a path written in SPEC (an import, a source's file) may be read: it lies,
 * symlinks resolved, under the project root or a folder of read_dirs. Paths the user
 * names on the command line (--data) are not subject to this. */
bool ast_spec_may_read(const ast_spec *spec, const char *path);
void ast_free_spec(ast_spec *spec);

/* Node constructors used by the grammar actions. */
ast_expr *ast_new_expr(arena *mem, ast_expr_kind kind, kp_span span);
ast_expr *ast_new_binary(arena *mem, ast_op op, ast_expr *lhs, ast_expr *rhs, kp_span op_span);
ast_expr *ast_new_unary(arena *mem, ast_op op, ast_expr *operand, kp_span span);
ast_decl *ast_new_decl(arena *mem, ast_decl_kind kind, kp_span span);

/* Span covering both a and b (same file). */
kp_span ast_span_join(kp_span a, kp_span b);

#endif
