/* ceiling.h — the most (and the least) a spec can pay, found before any data is read.
 *
 * Owns: interval arithmetic over the IR (ir.h) of every role's kpi points, score, gates
 * and bonus. Indicators are unbounded unless their own formula bounds them (a scale
 * caps its output, min() caps a value); roster columns take each member's actual value
 * when a roster is given, else they are symbols: then only whether a bound exists is
 * known, not the figure. An infinite end carries the reason it is infinite, in words a
 * reviewer can act on ("the points `achievement * 100` of kpi 'x' have no cap").
 *
 * Bounds are for the statements kpic computes; hand adjustments (--adjustments) come
 * after and are not bounded by the spec.
 */
#ifndef KPIC_CEILING_H
#define KPIC_CEILING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "kpic/arena.h"
#include "kpic/decimal.h"
#include "kpic/diag.h"
#include "kpic/ir.h"

/* One end of a range: a figure, or infinite with the reason. */
typedef struct ceil_end {
    bool infinite;
    dec_t value;     /* when finite */
    const char *why; /* when infinite: why there is no bound */
} ceil_end;

typedef struct ceil_range {
    ceil_end lo, hi;
    /* false: finite, but the figures depend on roster values that were not given (lo/hi
     * hold no figure then) */
    bool known;
} ceil_range;

typedef struct ceil_role {
    const ast_decl *role;
    ceil_range score; /* the score a member can get */
    bool has_bonus;   /* the role has a bonus line */
    /* one member's bonus (rounded to 0.01 as paid); with a roster, over the members of
     * this role */
    ceil_range bonus;
    /* without a roster, when the bonus is a multiple of one roster column
     * (staff.base_bonus × a factor): that column's index, and per_unit is the bonus for a
     * cell of 1 ("at most 1.2 × base_bonus"); -1 otherwise */
    int unit_column;
    ceil_range per_unit;
    size_t members; /* roster members of this role (with a roster) */
    ceil_end total; /* the most all of them can be paid together */
} ceil_role;

/* An end of a role's range that does not exist, and why. */
typedef struct ceil_gap {
    const char *what; /* "score" or "bonus" */
    bool high;        /* the upper bound (else the lower) */
    const char *why;
} ceil_gap;

/* The missing bounds of CR into OUT (at most 4): the score's upper then lower, then the
 * bonus's (when the role has one). Returns how many. */
size_t ceil_gaps(const ceil_role *cr, ceil_gap out[4]);

/* Roster values, when a roster was read: per member its role and its numeric cells. */
typedef struct ceil_roster {
    size_t count;
    const char *(*role_of)(void *ctx, size_t member);                 /* NULL or "": no role */
    bool (*number)(void *ctx, size_t member, int column, dec_t *out); /* false: empty */
    void *ctx;
} ceil_roster;

typedef struct ceil_report {
    arena mem;        /* the reasons' text */
    ceil_role *roles; /* in declaration order */
    size_t role_count;
    bool roster;    /* figures come from a roster */
    ceil_end total; /* the most the whole roster can be paid (with a roster) */
} ceil_report;

/* Analyses every role of P. DIAGS gives the text of expressions for reasons; ROSTER may
 * be NULL. Free with ceil_report_free. */
void ceil_analyze(ceil_report *out, ir_program *p, const diag_sink *diags, const ceil_roster *roster);
void ceil_report_free(ceil_report *r);

/* A warning [unbounded-bonus] at the bonus line of every role whose bonus has no upper
 * bound, with the reason and a hint that says how to cap it. */
void ceil_warn(const ceil_report *r, diag_sink *diags);

/* The checks of a spec that checked without errors: lowers it (the spec's one lowering,
 * ir_program_of, which the run, doc and sql then share), analyses it without a roster
 * and warns (ceil_warn). Every command runs it after the checker. */
void ceil_check_spec(ast_spec *spec, const chk_model *model, diag_sink *diags);

/* ---- showing it (ceiling_output.c) ---- */

/* One end of RANGE (a role's score or bonus range) as a document shows it: a figure
 * in UNIT ("1,200.00"), "no limit" / "no floor", "1.2 × staff.base_bonus" for a bonus
 * that is a multiple of one roster column, or "depends on the roster". Returns BUF or
 * a constant. */
const char *ceil_end_text(const chk_model *m, const ceil_role *r, const ceil_range *range, bool high,
                          ast_unit unit, char *buf, size_t size);

/* `kpic check --ceiling`: the table (malloc'd; *len its length). ROSTER_PATH is the
 * roster read, or NULL with ROSTER_NOTE saying why none was. */
char *ceil_render_text(const ceil_report *r, const chk_model *m, const char *roster_path,
                       const char *roster_note, size_t *len);
/* The `ceiling` object of `kpic check --ceiling --format json` (docs/json.md). */
void ceil_render_json(FILE *out, const ceil_report *r, const chk_model *m, const char *roster_path);

#endif
