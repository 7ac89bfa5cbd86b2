/* libFuzzer target: any bytes as a values file (`--values FILE`): the CSV reader or the
 * JSON reader, and every row check, against a small spec with a per-staff and a
 * team-wide indicator of several units and a quarterly role, for a monthly and a daily spec. A file is either
 * read or refused with at least one error; every number the file holds is then asked
 * for. Nothing may crash, hang, leak or trip a sanitizer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kpic/ast.h"
#include "kpic/check.h"
#include "kpic/values.h"

static const char spec_text[] =
    "period %s\n"
    "source orders \"orders.csv\" {\n  staff_id text staff\n  amount money\n  paid_at date time\n}\n"
    "staff \"staff.csv\" {\n  id text\n  role text\n}\n"
    "indicator revenue \"营收\" money per staff = sum(orders.amount)\n"
    "indicator order_count count per staff = count(orders)\n"
    "indicator team_revenue money = sum(orders.amount)\n"
    "indicator share percent per staff = revenue / team_revenue\n"
    /* a role with its own period: the file may name its quarters (2025-Q2) */
    "role promotion quarter {\n  kpi revenue weight 100%% target >= 1000 points min(achievement * 100, 150)\n}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) return 0;
    static const char *const grains[] = { "month", "day" };
    for (int g = 0; g < 2; g++) {
        diag_sink diags;
        diag_init(&diags);
        size_t n = sizeof spec_text + 8;
        char *text = xmalloc(n);
        int len = snprintf(text, n, spec_text, grains[g]);
        uint32_t file = diag_add_file(&diags, "/nonexistent-kpic-fuzz/spec.kpi", text, (size_t)len);
        ast_spec *spec = ast_load_spec_file(&diags, file);
        chk_model *model = chk_check(spec);
        if (diags.errors) abort();
        vals_file *v = vals_read_memory("fuzz.csv", data, size, model, &diags);
        if (!v && diags.errors == 0) abort();
        if (v) {
            eval_source_stats st = vals_source(v);
            if (!st.read || strlen(st.sha256) != 64) abort();
            eval_options options;
            memset(&options, 0, sizeof options);
            vals_attach(v, &options);
            period_t p;
            char msg[PERIOD_MESSAGE_SIZE];
            if (period_parse(g ? "2025-05-01" : "2025-05", g ? 10 : 7, model->grain, &p, msg, sizeof msg) !=
                PERIOD_OK)
                abort();
            for (size_t i = 0; i < model->indicators.len; i++) {
                const ast_decl *ind = model->indicators.items[i];
                options.given_values(options.given_values_ctx, ind, p, NULL);
                options.given_values(options.given_values_ctx, ind, p, "s01");
            }
            vals_report_missing(v, &diags);
        }
        vals_free(v);
        ast_free_spec(spec);
        diag_free(&diags);
    }
    return 0;
}
