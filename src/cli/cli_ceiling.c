/* cli_ceiling.c — the ceiling analysis (ceiling.h) with a roster read by the evaluator:
 * the glue between the report and the engine that reads data, so neither knows the
 * other. */
#include "cli.h"

#include <string.h>

static const char *member_role(void *ctx, size_t member)
{
    size_t count;
    const eval_staff *roster = eval_roster(ctx, &count);
    return member < count ? roster[member].role : NULL;
}

static bool member_number(void *ctx, size_t member, int column, dec_t *out)
{
    return eval_staff_number(ctx, member, column, out);
}

void cli_ceiling_analyze(ceil_report *out, ast_spec *spec, const chk_model *model, const diag_sink *diags,
                         eval_session *roster)
{
    ceil_roster members = { 0 };
    if (roster) {
        eval_roster(roster, &members.count);
        members.role_of = member_role;
        members.number = member_number;
        members.ctx = roster;
    }
    ceil_analyze(out, ir_program_of(spec, model), diags, roster ? &members : NULL);
}

const char *cli_roster_path(const eval_session *roster)
{
    size_t count;
    const eval_source_stats *stats = eval_sources(roster, &count);
    for (size_t i = 0; i < count; i++)
        if (!strcmp(stats[i].name, "staff") && stats[i].read) return stats[i].path;
    return NULL;
}
