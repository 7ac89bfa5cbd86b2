/* check.h — the checker: names, types, units, grain, cycles, roles and scales.
 *
 * Owns: every semantic rule of docs/language.md that can be decided without data. It walks
 * a loaded spec, reports every problem it finds to the spec's diagnostics sink (never
 * stopping at the first), and fills the "checker annotations" of the AST (ast.h) that
 * the planner and evaluator rely on: resolved references, call kinds, types,
 * dimensions and per-staff grain.
 *
 * The annotations, once a spec checks without errors:
 *   every expr      type; dim (numbers); per_staff (the value differs per staff member)
 *   EX_NAME         REF_INDICATOR (ref = the indicator), REF_COLUMN (a bare column inside
 *                   where/aggregates: ref = the source, column = its index), or in roles
 *                   REF_VALUE/REF_TARGET/REF_ACHIEVEMENT (kpi points) and
 *                   REF_SCORE (bonus, gates) and REF_EMPLOYED (targets, kpi points,
 *                   bonus, gates)
 *   EX_MEMBER       REF_COLUMN (SRC.COL), REF_STAFF_COLUMN (ref = the roster),
 *                   REF_PERIOD_START/END
 *   EX_IN_SET       REF_SET, ref = the set
 *   EX_CALL         call_kind; aggregates have agg_source (inside `having`, the source of
 *                   the enclosing distinct or set); count(SRC) has ref = the source;
 *                   count(SET) is CALL_SET_SIZE with ref = the set and agg_source = the
 *                   set's source; scale calls have ref = the scale
 *   role items      ref = the kpi's indicator or the `points` scale
 *   decls           indicators: dim = the declared unit's, per_staff as declared; sets:
 *                   dim = count, per_staff when some per-staff indicator counts them;
 *                   scales: dim = ratio when the outputs are percentages, else number
 * A plain number from data (an int/number column, an indicator declared `number`) may
 * stand for any unit; its dim is the first reading that fits (see check_expr.c).
 */
#ifndef KPIC_CHECK_H
#define KPIC_CHECK_H

#include <stdbool.h>

#include "kpic/ast.h"
#include "kpic/period.h"

/* The checker's name table (private to check.c). */
typedef struct chk_names chk_names;

/* The declarations of a checked spec, by kind, for later stages. */
typedef struct chk_model {
    ast_grain grain;      /* `period G`; month when the spec has none */
    const char *currency; /* NULL when absent */
    ast_decl *roster;     /* the staff declaration (NULL only in a spec with errors) */
    ptr_vec sources;      /* ast_decl* DECL_SOURCE, in declaration order */
    ptr_vec indicators;   /* ast_decl* DECL_INDICATOR */
    ptr_vec sets;         /* ast_decl* DECL_SET */
    ptr_vec scales;       /* ast_decl* DECL_SCALE */
    ptr_vec roles;        /* ast_decl* DECL_ROLE */
    ptr_vec pools;        /* ast_decl* DECL_POOL, in declaration order */
    ptr_vec grades;       /* ast_decl* DECL_GRADES, in declaration order */
    ptr_vec tests;        /* ast_decl* DECL_TEST, in declaration order */
    chk_names *names;     /* every global name -> its first declaration (chk_find) */
} chk_model;

/* Checks spec, reporting to spec->diags. Returns the model (allocated in the spec's
 * arena) whether or not there were errors; callers must not evaluate a spec whose sink
 * holds errors. */
chk_model *chk_check(ast_spec *spec);

/* Looks up a declaration of any kind by name in a checked model; NULL when absent.
 * Sources, indicators, sets, scales and roles are found by their names, the roster by
 * "staff". A name defined twice finds its first definition. */
ast_decl *chk_find(const chk_model *model, const char *name);

/* Parses TEXT[0..LEN) as one period of MODEL's grain or, when it is a period of another
 * grain (PERIOD_WRONG_GRAIN), of a grain some role is scored in (2025-Q2 in a monthly
 * spec with a quarterly role). When it is neither, the status and MSG are the spec
 * grain's, as period_parse gives them. */
period_status chk_parse_period(const chk_model *model, const char *text, size_t len, period_t *out, char *msg,
                               size_t msg_size);
/* The same for `--period P|A..B` (period_parse_range): a period or range of MODEL's grain
 * or of a role's grain, both sides of one grain. */
period_status chk_parse_period_range(const chk_model *model, const char *text, size_t len, period_range *out,
                                     char *msg, size_t msg_size);

/* The dimension of a declared unit: percent and ratio are both DIM_RATIO. */
ast_dim chk_unit_dim(ast_unit unit);

/* The name of a dimension as messages print it: "number", "count", "money", "ratio",
 * "days", "points". */
const char *chk_dim_name(ast_dim dim);

/* "indicator", "set", "staff roster", …: a declaration's kind without an article, as
 * messages and documents name it. */
const char *chk_kind_word(ast_decl_kind kind);

#endif
