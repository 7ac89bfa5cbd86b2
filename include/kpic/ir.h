/* ir.h — the resolved, typed form of a checked spec's expressions (the IR).
 *
 * Owns: the node kinds every back end executes (the native evaluator, the SQL
 * renderer, explain, the planner), and the interned aggregates. The lowering stage
 * (lower.c, prefix lower_) builds it once from a spec that checked without errors; no
 * consumer of the IR needs the syntax tree to know what an expression means:
 *
 *   - literals are decoded (an exact decimal, a date, a decoded text, a boolean);
 *   - every name is bound to its declaration (a source column with its declared type,
 *     a roster column, an indicator, a set, a scale) or to a leaf of the kpi context;
 *   - each node carries its type, its dimension (unit) and its grain (per_staff);
 *   - an operator, a function, a shift in time and a kind of reference is a node
 *     kind of its own, so a back end switches on one enum;
 *   - an aggregate (count/sum/avg/min/max/distinct, a set, count(SET)) is interned:
 *     the same aggregate written in five indicators is ONE ir_agg, so its identity is
 *     its pointer (and its id), and it is computed once.
 *
 * Value domain and null (every back end must agree; value.h implements it natively):
 *   a value is null, a number (an exact decimal with 18 places, decimal.h), a date
 *   (days since 1970-01-01, date.h), a text (UTF-8 bytes) or a boolean. Unless a node
 *   says otherwise, an operand that is null (or of an unexpected kind) makes the node
 *   null. Dimensions only matter for display and checking: the checker already made
 *   every operation unit-correct, so arithmetic ignores them.
 *
 * Lifetime: the program and every node live in the arena given to lower_spec (normally
 * the spec's), freed with it; ir_program_free releases the program's lookup tables.
 * After lowering, a program is read-only, so several threads may read it at once.
 *
 * Compatibility: the SQL back end is written against this header. Add kinds and
 * fields; never rename or remove one.
 */
#ifndef KPIC_IR_H
#define KPIC_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kpic/ast.h"
#include "kpic/check.h"
#include "kpic/date.h"
#include "kpic/decimal.h"
#include "kpic/hash.h"
#include "kpic/period.h"

typedef struct ir_node ir_node;
typedef struct ir_agg ir_agg;

/* ---- node kinds ------------------------------------------------------------------ */

typedef enum ir_kind {
    /* -- literals: never null -- */
    /* u.number: an exact decimal; a percentage is already its fraction (25% is 0.25), dim
     * says how it is shown */
    IR_NUMBER,
    IR_DATE, /* u.date */
    IR_TEXT, /* u.text: the decoded string, u.text_len bytes */
    IR_BOOL, /* u.boolean */
    /* a value known to be null: only where the checker left a node unresolved, which a
     * spec without errors never has */
    IR_NULL,

    /* -- leaves read from the environment -- */
    /* a cell of the current row of u.column.source: column index u.column.index, declared
     * type u.column.type. Only inside an aggregate's argument or where (the row being
     * aggregated). Null when the cell is empty. */
    IR_COLUMN,
    /* staff.COL: the roster cell u.column.index of the staff member being evaluated
     * (u.column.source is the roster). Null for the company total or an empty cell. */
    IR_STAFF_COLUMN,
    IR_PERIOD_START, /* period.start / period.end: the first day of the period being */
    /* evaluated (after any shift) and the first day AFTER it (exclusive, docs/language.md
     * §4.7), dates */
    IR_PERIOD_END,
    /* the value of indicator u.decl for the current period and staff member (the team
     * total when the indicator is not per staff); its body is ir_indicator(program,
     * u.decl) */
    IR_INDICATOR,
    /* the finished value of interned aggregate u.agg over its window for the current
     * period: per staff member when this node is per_staff and the aggregate is, else the
     * total. count and sum over no rows are 0; avg/min/max over none are null; distinct
     * and a set (count(SET)) give the number of keys */
    IR_AGGREGATE,
    /* inside a `having`: the aggregate u.group.kind over the rows of the group (the rows
     * sharing one key of the enclosing distinct or set), of u.group.arg, counting only
     * rows where u.group.where holds; its accumulator is slot u.group.slot of the
     * enclosing aggregate (ir_agg.slots) */
    IR_GROUP_AGGREGATE,
    /* how many rows aggregate u.agg ranged over: the rows of its source in its window that
     * pass its where (before any having); computed as the interned count u.agg->rows.
     * Never written by users: explain asks for it (ir_agg.rows_node) */
    IR_ROWS,
    IR_VALUE,       /* the kpi context (a role's points, targets, gates, bonus): */
    IR_TARGET,      /* the kpi's value, target, achievement (value / target), */
    IR_ACHIEVEMENT, /* the staff member's employed fraction of the period (0..1), */
    IR_EMPLOYED,    /* and the role's score (bonus and gates). Null when the */
    IR_SCORE,       /* context has no such value (no target, target 0, …). */

    /* -- operators: null in → null out unless said -- */
    IR_NEG, /* -a */
    IR_NOT, /* not a: null stays null */
    IR_ADD, /* a + b, a - b, a * b: exact; a result outside the decimal */
    IR_SUB, /* range fails the run with an overflow error located at the */
    IR_MUL, /* node's span */
    IR_DIV, /* a / b, exact to 18 places; b = 0 gives null (as in SQL) */
    IR_EQ,
    IR_NE, /* comparisons of two values of one type (numbers, dates, */
    IR_LT,
    IR_LE, /* texts bytewise, booleans false < true); null if either */
    IR_GT,
    IR_GE,  /* is null */
    IR_AND, /* three-valued (SQL): false and null = false, else null wins */
    IR_OR,  /* true or null = true, else null wins */
    IR_IF,  /* if a then b else c: c when a is false OR null */
    /* a in (items…): null when a is null; true when a equals an item; else null when some
     * item is null; else false */
    IR_IN_LIST,
    /* a in SET: null when a is null; else whether a is one of the keys of set aggregate
     * u.agg in the current period (a row condition: the set must be finished before the
     * rows are read) */
    IR_IN_SET,
    IR_IN_PERIOD,          /* a in period: a (a date) lies in the current period */
    IR_IN_PREVIOUS_PERIOD, /* a in previous period: in the period just before it */
    /* a before period: before the current period's first day. All three are null when a is
     * null. */
    IR_BEFORE_PERIOD,

    /* -- functions -- */
    IR_ABS,   /* abs(a) */
    IR_ROUND, /* round(a, u.places): half away from zero to u.places (0..18) */
    IR_DAYS,  /* days(a, b): b − a in days (a number, dim days) */
    /* min(a, b), max(a, b): two numbers or two dates; null if either is null; the first
     * when they are equal */
    IR_MIN,
    IR_MAX,
    /* the points of scale u.decl for number a: the row whose interval holds a (a constant,
     * or linear between the row's from and to); null when a is null or lies in no interval
     * (a warning) */
    IR_SCALE,

    /* -- shifts in time: a evaluated for another period -- */
    IR_PREVIOUS, /* previous(a): a for the period before the current one */
    /* last_year(a): a for the same period a year earlier. A shift that reaches before year
     * 1 is refused when the run is planned (eval and sql alike), never evaluated. */
    IR_LAST_YEAR,

    /* -- added after the first version (append only) -- */
    /* coalesce(a, b): a unless it is null, else b (b is evaluated only then, like SQL's
     * COALESCE). a and b have one type and, for numbers, one unit (the checker's). */
    IR_COALESCE,
    IR_GRADE,      /* the kpi context of a role with grades (its bonus only, */
    IR_RANK,       /* docs/language.md §9.4): the member's grade (a text), rank */
    IR_PERCENTILE, /* (1 = the best score; ties share one), percentile (a ratio: */
    /* the share of the others ranked below) and their grade's factor. Rank and percentile
     * are null for a member who is not ranked (no score, a failed gate). */
    IR_GRADE_FACTOR,

    IR_KIND_COUNT
} ir_kind;

/* What an interned aggregate computes over the rows of its source. */
typedef enum ir_agg_kind {
    IR_AGG_COUNT, /* the number of rows */
    IR_AGG_SUM,   /* the sum of arg over rows where it is not null (0 over none) */
    IR_AGG_AVG,   /* sum / number of non-null values; null over none */
    IR_AGG_MIN,   /* smallest / largest non-null arg (numbers or dates); */
    IR_AGG_MAX,   /* null over none */
    /* the number of distinct non-null values of arg (whose groups pass the having, when
     * there is one) */
    IR_AGG_DISTINCT,
    /* a declared set (u.set): its keys are the distinct non-null values of arg whose
     * groups pass the having; its value is their number (count(SET)); `x in SET` tests
     * membership */
    IR_AGG_SET
} ir_agg_kind;

/* The rows an aggregate takes, relative to the period it is evaluated for. */
typedef struct ir_window {
    /* WINDOW_PERIOD (no `over`), WINDOW_ALL_TIME (up to the period's end), WINDOW_LAST
     * (the count units ending with the period's end), WINDOW_YEAR_TO_DATE (from the year's
     * first day to the period's end) */
    ast_window_kind kind;
    int64_t count;            /* WINDOW_LAST: N */
    ast_window_unit unit;     /* WINDOW_LAST: days, weeks or months */
    const ast_window *syntax; /* as written (period_window takes it); NULL: the period */
} ir_window;

/* ---- nodes ---------------------------------------------------------------------- */

struct ir_node {
    ir_kind kind;
    ast_type type;  /* TYPE_NUM, TYPE_BOOL, TYPE_TEXT or TYPE_DATE */
    ast_dim dim;    /* numbers: the dimension (unit) the checker inferred */
    bool per_staff; /* the grain: the value differs per staff member */
    kp_span span;   /* the source text it came from (messages) */
    /* the checked expression it was lowered from, for text as written; NULL for nodes
     * lowering made up (IR_ROWS) */
    const ast_expr *syntax;
    uint16_t depth; /* 1 + the deepest child (bounded by AST_MAX_DEPTH + 1) */

    /* Operands, in source order: operators and functions use a, b (and IR_IF c);
     * IR_IN_* test a; shifts and IR_SCALE take a. NULL when not used. */
    ir_node *a, *b, *c;
    ir_node **items; /* IR_IN_LIST: the list items */
    size_t item_count;

    union {
        dec_t number; /* IR_NUMBER */
        date_t date;  /* IR_DATE */
        bool boolean; /* IR_BOOL */
        struct {      /* IR_TEXT */
            const char *text;
            size_t text_len;
        } text;
        struct {                    /* IR_COLUMN, IR_STAFF_COLUMN */
            const ast_decl *source; /* the source, or the roster */
            int index;              /* into source->u.source.columns */
            ast_coltype type;       /* the column's declared type */
        } column;
        /* IR_INDICATOR: the indicator; IR_SCALE: the scale (its decoded rows: ir_scale_of) */
        const ast_decl *decl;
        ir_agg *agg;          /* IR_AGGREGATE, IR_IN_SET, IR_ROWS */
        struct {              /* IR_GROUP_AGGREGATE */
            ir_agg_kind kind; /* COUNT, SUM, AVG, MIN or MAX */
            ir_node *arg;     /* NULL for count() */
            ir_node *where;   /* NULL when absent */
            int slot;         /* index into the enclosing ir_agg's slots */
        } group;
        unsigned places; /* IR_ROUND */
    } u;
};

/* Calls FN on each direct child of N that is there, in source order: a, b, c, then
 * the list items; for IR_GROUP_AGGREGATE its arg then its where. Interned aggregates
 * (IR_AGGREGATE, IR_IN_SET's set, IR_ROWS) and indicators are references, not
 * children: walk ir_agg's arg/where/having and ir_indicator() explicitly. */
void ir_each_child(const ir_node *n, void (*fn)(const ir_node *child, void *ctx), void *ctx);

/* "number", "add", "in_set", …: a kind's name (tests, debugging dumps). */
const char *ir_kind_name(ir_kind kind);
const char *ir_agg_kind_name(ir_agg_kind kind);

/* ---- interned aggregates ----------------------------------------------------------- */

struct ir_agg {
    int id; /* 0, 1, …: the index in ir_program.aggs */
    ir_agg_kind kind;
    const ast_decl *set;    /* IR_AGG_SET: the set declaration; else NULL */
    const ast_decl *source; /* whose rows it ranges over */
    /* the row argument (sum/avg/min/max), the key column (distinct, set); NULL for count */
    ir_node *arg;
    /* row condition, NULL when absent: a row counts when it is TRUE (false and null both
     * exclude it) */
    ir_node *where;
    /* group condition (distinct, sets), NULL when absent: a key counts when it is TRUE for
     * its group's rows */
    ir_node *having;
    ir_window window;
    /* some use needs it per staff member as well: grouped by the source's staff column
     * besides the total */
    bool per_staff;
    /* where depends on the period it is evaluated for (period bounds, `in period`, a set) */
    bool where_uses_period;
    bool arg_uses_period; /* so does arg (rare: days(paid_at, period.end)) */
    ir_node **slots;      /* the IR_GROUP_AGGREGATE nodes inside having, by slot */
    size_t slot_count;
    /* distinct(S.c where c in SET) with SET over S: `where` is NULL here, and the distinct
     * keys are intersected with SET's at the end (same count, one read of S) */
    const ast_decl *member_set;
    ir_agg *member_set_agg; /* SET's interned aggregate when member_set is set */
    /* distinct and sets: equal for aggregates collecting the same keys from the same rows
     * (source, arg, where, window) that differ at most in having, so one pass records the
     * keys once for all; -1 for the others */
    int key_family;
    /* the interned count of the rows this aggregate ranges over (same source, where,
     * window and grain); itself for a count */
    ir_agg *rows;
    ir_node *rows_node;     /* an IR_ROWS node of this aggregate, for explain */
    const ast_expr *syntax; /* the first call it was lowered from; NULL for a set */
};

/* ---- scales ------------------------------------------------------------------ */

/* One row of a scale, decoded: `[lo, hi) -> from` or `-> from .. to` (linear). */
typedef struct ir_scale_row {
    bool lo_closed, hi_closed; /* '[' / ']' include the bound, '(' / ')' exclude it */
    int lo_inf, hi_inf;        /* -1: -inf, +1: inf, 0: the bound is lo / hi */
    dec_t lo, hi;
    dec_t from; /* the points (a constant row), or the start of a line */
    /* from + (x − lo) × (to − from) / (hi − lo), exact to 18 places (never with an
     * infinite bound) */
    bool linear;
    dec_t to;
} ir_scale_row;

/* A scale, decoded. The first row whose interval holds x gives the points. */
typedef struct ir_scale {
    const ast_decl *decl;
    ir_scale_row *rows;
    int row_count;
    /* the bounds are written as percentages (messages show the input as one) */
    bool percent;
} ir_scale;

/* ---- a lowered spec -------------------------------------------------------------- */

/* The lowered expressions of one role item (a kpi, gate or bonus); NULL where the
 * item has no such expression. */
typedef struct ir_role_item {
    ir_node *weight; /* kpi: its weight */
    ir_node *target; /* kpi: its target */
    ir_node *points; /* kpi: its `points EXPR` */
    ir_node *expr;   /* gate and bonus: the expression */
    /* a bonus from a pool: the member's share, cap and floor (NULL when not written),
     * and the pool's amount (the pool's one node, shared by every role in it) */
    ir_node *share, *cap, *floor, *amount;
} ir_role_item;

typedef struct ir_program {
    arena *mem; /* where every node lives */
    const chk_model *model;
    ptr_vec aggs;     /* ir_agg*, by id */
    int family_count; /* key families: 0 … family_count − 1 */
    /* lookups (lower.c): declaration or syntax node → lowered form */
    hmap decl_index; /* indicator, set or role decl → index in forms */
    hmap node_index; /* ast_expr* → index in nodes */
    ptr_vec forms;   /* ir_node* (indicator), ir_agg* (set), ir_role_item* */
    ptr_vec nodes;   /* ir_node*, one per lowered syntax node */
    ptr_vec intern;  /* lower.c's interning table */
    hmap intern_index;
    hmap family_index;
    size_t lowered_calls; /* aggregate calls lowered (tests: interning really shares) */
} ir_program;

/* Lowers every indicator, set and role (kpi weights, targets and points, gates and
 * bonus) of MODEL, which must come from a spec that checked without errors, into MEM. */
ir_program *lower_spec(arena *mem, const chk_model *model);
/* SPEC's program lowered from MODEL (checked without errors): lowered into the spec's
 * arena on the first call, kept with the spec (ast_spec_attach) and returned again by
 * every later call, so that the ceiling check, the runs, doc and sql share one lowering.
 * Not while the program is being read by other threads. */
ir_program *ir_program_of(ast_spec *spec, const chk_model *model);
/* A checked number or percentage literal, possibly negated (-50%), as an exact decimal
 * (25% is 0.25): a grade's quota and factor. False for any other expression. */
bool lower_number_literal(const ast_expr *e, dec_t *out);
/* Lowers one more checked expression (a --expr, a test's) into P, sharing P's
 * aggregates; the same node when E was lowered before. Not while P is being read by
 * other threads. */
ir_node *lower_expr(ir_program *p, const ast_expr *e);
void ir_program_free(ir_program *p);

/* An indicator's body; a set's aggregate; a role's items (parallel to
 * role->u.role.items). NULL for a declaration P does not hold. */
ir_node *ir_indicator(const ir_program *p, const ast_decl *indicator);
ir_agg *ir_set(const ir_program *p, const ast_decl *set);
const ir_role_item *ir_role(const ir_program *p, const ast_decl *role);
/* The node a checked syntax node was lowered to, or NULL. */
ir_node *ir_of(const ir_program *p, const ast_expr *e);
/* A scale's decoded rows (every scale of the model is decoded by lower_spec). */
const ir_scale *ir_scale_of(const ir_program *p, const ast_decl *scale);
/* The index of SCALE's first row whose interval holds X (edges as written), or -1. */
int ir_scale_find(const ir_scale *scale, dec_t x);
/* The points SCALE gives X (a row's constant, or its line from .. to, exact to 18
 * places); false when no interval holds X or the arithmetic leaves the exact range. */
bool ir_scale_apply(const ir_scale *scale, dec_t x, dec_t *points);

/* Whether N (not looking into interned aggregates or indicators) depends on the
 * period it is evaluated for: period bounds, `in period`, `in SET`. */
bool ir_uses_period(const ir_node *n);

/* ---- one aggregate in two programs (twins.c) ------------------------------------------ */

/* For two nodes of one kind: whether their literal values are equal (numbers by value,
 * texts byte for byte); true for a kind that is not a literal. */
bool ir_literal_equal(const ir_node *a, const ir_node *b);
/* Whether row expressions A (of one program, over source SRC_A) and B (of another, over
 * SRC_B, a source declared with the same columns in the same order) are written alike —
 * the same kinds and types, literals of equal value, the same columns by index, the same
 * operands — and are built only of nodes whose evaluation on a row gives a value and
 * nothing else: literals, columns, comparisons, not/and/or/if/coalesce, `in (…)`, the
 * period's bounds and `in period`, days/min/max, a having's group aggregates. Arithmetic
 * (an overflow fails the run), scales (they count inputs outside their rows), sets,
 * roster columns, indicators and aggregates make it false, as does any kind not listed:
 * false only ever costs a second computation. Both NULL: true. */
bool ir_expr_twins(const ir_node *a, const ast_decl *src_a, const ir_node *b, const ast_decl *src_b);
/* Whether aggregates A and B of two programs compute the same figure from the same rows
 * of their sources (declared alike): one kind and window, argument, where, having and
 * having slots ir_expr_twins; neither a set nor intersected with one (a set is read
 * through its session later). The periods and grouping are the caller's to compare. */
bool ir_agg_twins(const ir_agg *a, const ir_agg *b);
/* The parts of ir_agg_twins: A and B collect the same keys (or rows) from the same rows —
 * one kind and window, argument and where ir_expr_twins, neither a set nor intersected
 * with one — whatever their having; and their having slots are ir_expr_twins slot for
 * slot, so the accumulators one keeps for a key serve the other's having. */
bool ir_agg_same_keys(const ir_agg *a, const ir_agg *b);
bool ir_agg_same_slots(const ir_agg *a, const ir_agg *b);

/* ---- the periods an expression reaches (reach.c) ------------------------------------ */

/* Which periods a walk of ir_*_periods collects. */
typedef enum ir_reach {
    /* the periods an indicator's value is read in: an indicator is a value, its formula
     * is not walked (what scoring reads from --values or --engine, the rows kpic sql
     * returns for it) */
    IR_REACH_VALUES,
    /* every period something is evaluated in: each period previous() and last_year()
     * move to, through the formulas of the indicators read, transitively (what explain
     * shows) */
    IR_REACH_EVALUATED
} ir_reach;

/* A growing set of periods, each once (period_same), in the order first reached, and
 * the indicators read on the way (each once, in the order first read). Start from
 * { 0 }; free with ir_periods_free. */
typedef struct ir_periods {
    period_t *items; /* malloc'd */
    size_t count, cap;
    const ast_decl **indicators; /* malloc'd */
    size_t indicator_count, indicator_cap;
} ir_periods;

/* Adds P to OUT unless it holds it already. */
void ir_periods_add(ir_periods *out, period_t p);
/* Adds AT and the periods REACH collects from N evaluated for AT (previous() is AT's
 * period before, last_year() the same period a year earlier, whatever AT's grain; a
 * shift that leaves the calendar reaches nothing, the run refuses it) to OUT. Interned
 * aggregates are not looked into: their rows are read for the period they are
 * evaluated in. */
void ir_expr_periods(const ir_program *p, const ir_node *n, period_t at, ir_reach reach, ir_periods *out);
/* The same for everything ROLE evaluates for AT: each kpi's indicator, weight, target
 * and points, each gate and bonus with a pool's share, cap, floor and amount. */
void ir_role_periods(const ir_program *p, const ast_decl *role, period_t at, ir_reach reach, ir_periods *out);
/* The same for every role of P's model, for each of AT[0..COUNT) (a role is walked for
 * every period given, whatever its own grain: a role of its own period reads what it
 * reads in each). */
void ir_model_periods(const ir_program *p, const period_t *at, size_t count, ir_reach reach, ir_periods *out);
void ir_periods_free(ir_periods *set);

#endif
