/* check_internal.h — what the checker's three files share.
 *
 *   check.c        the driver: the name table, sources and the roster, roles, cycles
 *                  among indicators and sets, and the model handed to later stages
 *   check_expr.c   expressions: names, types, units (dimensions), grain, aggregates
 *   check_scale.c  exact decimal arithmetic on literals, scales, and weight sums
 *   check_test.c   tests: their period, data and the names and units of expectations
 *
 * Private to the checker and its unit test (tests/unit/test_check.c); later stages read
 * only check.h and the annotations in the AST.
 */
#ifndef KPIC_CHECK_INTERNAL_H
#define KPIC_CHECK_INTERNAL_H

#include <stdbool.h>

#include "kpic/check.h"

/* ---- exact decimals (check_scale.c) ----------------------------------------------
 * Scale bounds and role weights are compared and added exactly: 33.3% + 33.3% + 33.4%
 * is 100% and 60% equals 0.6. Literals are kept as their decimal digits, so there is
 * no range or precision limit and no binary floating point anywhere. */

typedef struct chk_exact {
    bool neg;           /* never set for zero */
    bool inf;           /* ±infinity (digits and scale unused) */
    const char *digits; /* significant digits without leading zeros; "" is zero */
    int scale;          /* value = digits × 10^-scale; no trailing fractional zeros */
} chk_exact;

/* Parses plain decimal digits ("1200", "3.5"; no sign, no '_'); percent divides by 100.
 * False when text is not such a number. */
bool chk_exact_parse(arena *mem, const char *text, bool percent, chk_exact *out);

/* A scale bound or weight literal: a number, a percentage or inf, possibly negated.
 * False for any other expression. */
bool chk_exact_literal(arena *mem, const ast_expr *e, chk_exact *out);

/* -1, 0 or 1 as a <, =, > b; infinities compare as expected. */
int chk_exact_cmp(chk_exact a, chk_exact b);

/* a + b for finite, non-negative a and b (all that weights need). */
chk_exact chk_exact_add(arena *mem, chk_exact a, chk_exact b);

/* The value × 10^shift as plain decimal text: shift 2 prints a ratio as a percentage
 * ("0.333" → "33.3"). Infinity prints as "inf" / "-inf". */
char *chk_exact_format(arena *mem, chk_exact v, int shift);

/* ---- the unit table (check_expr.c) -----------------------------------------------
 * Each returns false when the combination has no unit (an error for the caller). */

/* A set of dimensions a value may have, one bit (1 << dim) each. Most values have one;
 * a plain number that comes from data (an int or number column, staff.quota, an
 * indicator declared `number`) may stand for any unit, so `new_users / staff.quota` is
 * a count or a ratio, whichever the context asks for. A literal is only a number. */
typedef unsigned chk_dims;
#define CHK_DIM(d)   (1u << (d))
#define CHK_DIMS_ANY 0x3Fu
bool chk_dim_unify(ast_dim a, ast_dim b, ast_dim *out); /* + - comparisons if/min/max */
bool chk_dim_mul(ast_dim a, ast_dim b, ast_dim *out);
bool chk_dim_div(ast_dim a, ast_dim b, ast_dim *out);

/* The dimensions of all pairs a × b under f, and whether want (or a plain number, which
 * adapts) is among those of m. */
chk_dims chk_dims_op(chk_dims a, chk_dims b, bool (*f)(ast_dim, ast_dim, ast_dim *));
bool chk_dims_fit(chk_dims m, ast_dim want);

/* "a plain number", "a count", "money", "a ratio", "days", "points": a unit in a sentence. */
const char *chk_dim_phrase(ast_dim d);

/* ---- names and dependencies (check.c) ------------------------------------------- */

/* One global name: the first declaration that defined it and, for indicators and sets,
 * its node in the dependency graph (-1 otherwise). */
typedef struct chk_entry {
    const char *name;
    ast_decl *decl;
    int node;
} chk_entry;

/* Open-addressing hash table of global names, so 10,000 indicators resolve in linear
 * time. */
struct chk_names {
    chk_entry *slots;
    size_t cap; /* a power of two, at least twice the entries */
    size_t len;
};

/* A reference from one indicator or set to another, for cycle detection. */
typedef struct chk_edge {
    int to;     /* node index */
    kp_span at; /* the reference */
} chk_edge;

typedef struct chk_node {
    ast_decl *decl; /* an indicator or a set */
    ptr_vec edges;  /* chk_edge*, each target once, in the order referenced */
    int last_from;  /* the node that last added an edge to this one (dedup) */
    int stack_pos;  /* position on the DFS stack while visiting */
} chk_node;

typedef struct chk_ctx {
    ast_spec *spec;
    diag_sink *diags;
    arena *mem;
    chk_model *model;
    chk_names names;
    chk_node *nodes;
    int node_count;
    /* "did you mean" candidates by kind of name, in declaration order */
    ptr_vec cand_indicators, cand_sets, cand_sources, cand_scales, cand_pools, cand_grades, cand_sources_sets,
        cand_calls;
    /* numbers whose dimensions are more than their e->dim (see chk_dims): a small
     * open-addressing map from the node to its set */
    struct {
        const ast_expr **keys;
        chk_dims *dims;
        size_t cap, len;
    } wide;
    size_t hint_work;       /* candidates compared for "did you mean" so far */
    ptr_vec percent_scales; /* scales already warned about plain bounds over percentages */
} chk_ctx;

chk_entry *chk_lookup(const chk_ctx *c, const char *name);

/* Where an expression is being checked decides which names and constructs it may use. */
typedef enum chk_scope_kind {
    SCOPE_FORMULA, /* an indicator's formula, outside any aggregate */
    SCOPE_ROLE,    /* a role's target, points, gate or bonus */
    SCOPE_ROW,     /* an aggregate's argument or where, a set's where: one row */
    SCOPE_GROUP    /* a having condition outside its aggregates: one group */
} chk_scope_kind;

typedef struct chk_scope {
    chk_scope_kind kind;
    ast_decl *owner;  /* the indicator or set being defined; NULL in a role */
    int owner_node;   /* its dependency node, or -1 */
    bool per_staff;   /* FORMULA: the owner is per staff, so aggregates group */
    ast_decl *source; /* ROW, GROUP: the source whose columns bare names are */
    /* ROW in an aggregate's argument in a formula: the first SRC.COL decides the source */
    bool binding;
    ast_decl *bound; /* binding: the source decided */
    /* ROW, GROUP whose source is unknown (already reported): unresolved bare names are not
     * reported again */
    bool quiet;
    /* ROW, GROUP: "a where condition", "a having condition", "the argument of sum()": for
     * messages */
    const char *clause;
    ast_decl *role;     /* ROLE */
    ast_role_item *kpi; /* ROLE, in a kpi's points: value, target, achievement */
    bool bonus_gate;    /* ROLE, in bonus and gate: score */
    bool employed;      /* ROLE, in targets, points, bonus and gates: employed */
    /* ROLE, in the bonus of a role with grades: grade, rank, percentile and grade_factor */
    const ast_grades *grades;
    bool in_gate; /* ROLE, in a gate (messages: a gate cannot read grades) */
} chk_scope;

/* ---- forced distribution (check_grades.c) ---- */

/* Checks a grades table's rows (OWNER names it in messages: "grades 'company'",
 * "the grades of role 'sales'"); sets its valid and has_factors. */
void chk_grades_table(chk_ctx *c, ast_grades *g, const char *owner);
/* A declared table: its rows; and, after the roles, a warning when no role uses it. */
void chk_grades_decl(chk_ctx *c, ast_decl *d);
void chk_grades_unused(chk_ctx *c, ast_decl *d);
/* A role's `grades` line: its own table checked, or the named one resolved; the role is
 * added to the table's roles. */
void chk_role_grades(chk_ctx *c, ast_decl *role, ast_role_item *it);
/* Errors at each text that E (checked) compares `grade` with and that names no grade of
 * G: `grade = "a"` when the grade is `A` never holds. */
void chk_grade_texts(chk_ctx *c, const ast_grades *g, const ast_expr *e);

/* ---- plain numbers next to percentages (check_expr.c, check_scale.c) ------------
 * `target >= 20` on a percent kpi means 2000%: a plain literal greater than 1 that
 * adapts to a percentage is almost always a percentage written without '%'. These
 * report it as a warning [percent-literal]; ratio indicators (ROI 3.2) are exempt. */

/* What makes e (checked) a percentage, for messages ("'rate', a percent indicator"),
 * or NULL when e is not one: a percent indicator, a percent kpi's value or target,
 * achievement, and what keeps their unit (+ -, if, min, max, abs, round, previous,
 * last_year, and products with a percentage literal such as 110%). */
const char *chk_percent_subject(chk_ctx *c, const chk_scope *s, const ast_expr *e);

/* Warns about each plain literal greater than 1 that e's value adapts to (e itself, the
 * terms of + and -, the branches of if, the arguments of min and max), described as
 * standing `where` ("as the target of percent kpi 'x'"). Terms next to a percentage
 * of their own are left to that node's check, so each literal is reported once. */
void chk_warn_percent_literals(chk_ctx *c, const chk_scope *s, const ast_expr *e, const char *where);

/* Warns once per scale when one of its bounds is a plain number greater than 1 (and none
 * is a fraction between 0 and 1) while the scale is applied to percentages (applied_to:
 * "the achievements of role 'x'"), with a note at use. */
void chk_warn_percent_scale(chk_ctx *c, const ast_decl *scale, const char *applied_to, kp_span use);

/* Checks that a number or percentage literal (possibly negated: -50%) decodes: one
 * that an exact decimal cannot hold (more than 18 places, 16 in a percentage, or
 * beyond about 1.7e20) is a located error, not a null at evaluation. Returns whether
 * it is usable. The decoded value is the IR's (lower.c), not the syntax tree's. */
bool chk_literal_number(chk_ctx *c, const ast_expr *e);

/* Checks e in scope s, reporting every problem, and fills e's annotations (and its
 * subtree's). A subtree that is already wrong gets TYPE_ERROR, which no enclosing node
 * reports again. */
void chk_expr(chk_ctx *c, chk_scope *s, ast_expr *e);

/* The dimensions a checked number may have: CHK_DIM(e->dim) unless it was widened; 0
 * for anything that is not a number. */
chk_dims chk_dims_of(const chk_ctx *c, const ast_expr *e);

/* Requires e (already checked) to be a condition; role names it: "a where condition". */
void chk_require_bool(chk_ctx *c, ast_expr *e, const char *role);

/* Records that the owner of s refers to decl (an indicator or set) at span. */
void chk_add_edge(chk_ctx *c, const chk_scope *s, const chk_entry *target, kp_span at);

/* diag_closest within the checker's budget for suggestions (NULL once it is spent). */
const char *chk_closest(chk_ctx *c, const char *name, const char *const *cands, size_t n);

/* Adds "did you mean 'x'?" to d when a candidate is close to name. */
void chk_hint_closest(chk_ctx *c, diagnostic *d, const char *name, const ptr_vec *cands);

/* The source text of span, shortened to a few dozen characters, for messages. */
const char *chk_snippet(chk_ctx *c, kp_span span);

/* "an indicator", "a set", … for messages about a name of the wrong kind. */
const char *chk_kind_phrase(ast_decl_kind kind);

/* Index of the column called name in a source or roster, or -1. */
int chk_find_column(const ast_decl *source, const char *name);

/* The source a set ranges over (from its SRC.COL), or NULL when that is not resolvable;
 * *column gets the column index when not NULL. No diagnostics. */
ast_decl *chk_set_source(const chk_ctx *c, const ast_decl *set, int *column);

/* Whether a source has a column marked `staff`. */
bool chk_has_staff_column(const ast_decl *source);

/* ---- tests (check_test.c) ------------------------------------------------------ */

/* Checks every `test` of the model (after the declarations they name are checked):
 * one period of the spec's grain, data only for declared sources, once each, and
 * expectations whose targets exist and whose values have the target's unit; fills
 * the expectations' ref, expected and relative. */
void chk_tests(chk_ctx *c);

/* ---- scales (check_scale.c) ----------------------------------------------------- */

/* Checks one scale's rows (order, overlap, gaps, bounds, linear segments, outputs) and
 * sets its decl->dim: DIM_RATIO when its outputs are percentages, else DIM_NUMBER. */
void chk_scale(chk_ctx *c, ast_decl *scale);

/* Whether every finite bound of the scale is a percentage: it maps ratios (such as an
 * achievement), so its argument must be a ratio or a plain number. */
bool chk_scale_takes_ratio(const ast_decl *scale);

/* The built-in functions, which a scale may not shadow. */
extern const char *const chk_builtin_functions[];
extern const size_t chk_builtin_function_count;

#endif
