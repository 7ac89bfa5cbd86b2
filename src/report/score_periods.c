/* score_periods.c — the periods a scoring run evaluates when roles have periods of their
 * own (docs/language.md "Role periods", docs/cli.md `--period`).
 *
 * A run is asked for a range of the spec's periods. A role with a coarser grain (a
 * quarterly role in a monthly spec) is scored in each of its periods that the range
 * covers whole; one the range covers only in part is left out with a located note
 * naming the period to ask for, so that a partial quarter never passes as a quarter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpic/arena.h"
#include "kpic/score.h"

/* Whether some role of MODEL is scored every GRAIN. */
static bool grain_used(const chk_model *model, ast_grain grain)
{
    for (size_t i = 0; i < model->roles.len; i++)
        if (((const ast_decl *)model->roles.items[i])->u.role.grain == grain) return true;
    return false;
}

/* Notes, at ROLE's period, the periods of its grain that R covers only in part. */
static void note_partial(const chk_model *model, const ast_decl *role, const period_range *r,
                         diag_sink *diags)
{
    ast_grain g = role->u.role.grain;
    period_t p;
    if (!period_of(g, r->first.start, &p)) return;
    for (;;) {
        if (p.start < r->first.start || p.end > r->last.end) {
            char coarse[PERIOD_LABEL_SIZE], from[PERIOD_LABEL_SIZE], to[PERIOD_LABEL_SIZE];
            period_format(p, coarse, sizeof coarse);
            period_t a, b;
            bool whole = period_of(model->grain, p.start, &a) && period_of(model->grain, p.end - 1, &b);
            if (whole) {
                period_format(a, from, sizeof from);
                period_format(b, to, sizeof to);
            }
            diagnostic *d = diag_report(diags, DIAG_NOTE, role->u.role.grain_span, "role-period",
                                        "role '%s' is scored per %s: the periods asked for cover part of %s, "
                                        "so no one is scored in role '%s' for it",
                                        role->name, ast_grain_name(g), coarse, role->name);
            if (whole)
                diag_hint(diags, d, "ask for --period %s (or %s..%s) to score role '%s'", coarse, from, to,
                          role->name);
        }
        if (p.end >= r->last.end || !period_shift(p, 1, &p)) break;
    }
}

period_t *score_periods(const chk_model *model, const period_range *r, diag_sink *diags, size_t *count)
{
    period_t *spec = xcalloc(r->count + 1, sizeof *spec);
    period_range_expand(r, spec);
    /* at most one period of each coarser grain ends with each of the spec's periods */
    period_t *out = xcalloc(r->count * (GRAIN_YEAR + 1) + 1, sizeof *out);
    size_t n = 0;
    for (size_t i = 0; i < r->count; i++) {
        out[n++] = spec[i];
        for (int g = (int)model->grain + 1; g <= GRAIN_YEAR; g++) {
            period_t whole;
            if (!grain_used(model, (ast_grain)g) || !period_of((ast_grain)g, spec[i].start, &whole)) continue;
            if (whole.end == spec[i].end && whole.start >= r->first.start) out[n++] = whole;
        }
    }
    free(spec);
    for (size_t i = 0; diags && i < model->roles.len; i++) {
        const ast_decl *role = model->roles.items[i];
        if (role->u.role.grain != model->grain) note_partial(model, role, r, diags);
    }
    *count = n;
    return out;
}
