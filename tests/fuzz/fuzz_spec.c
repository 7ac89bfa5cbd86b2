/* libFuzzer target: any bytes as a spec go through the scanner, parser and checker, and
 * the diagnostics are rendered in all three formats; a spec that checks clean is also
 * documented (`kpic doc`) in both formats and compared with itself (`kpic diff`: no
 * differences), and its tests are run (`kpic test`: inline data goes through the CSV
 * reader from memory) and reported in every format. Nothing may crash, hang, leak or
 * trip a sanitizer. Imports resolve against a directory that does not exist, and must
 * stay inside it (the project root, docs/security.md: an absolute import such as
 * /etc/passwd is refused unread), so the fuzzer cannot wander into real files; the
 * loader's outside-the-root, cycle and depth checks run on every import it writes. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpic/ast.h"
#include "kpic/check.h"
#include "kpic/diag.h"
#include "kpic/diff.h"
#include "kpic/doc.h"
#include "kpic/spectest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 20) return 0;
    diag_sink diags;
    diag_init(&diags);
    char *text = xmalloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    uint32_t file = diag_add_file(&diags, "/nonexistent-kpic-fuzz/spec.kpi", text, size);
    ast_spec *spec = ast_load_spec_file(&diags, file);
    bool syntax_errors = false;
    for (size_t i = 0; i < spec->files.len; i++)
        syntax_errors |= ((ast_file *)spec->files.items[i])->syntax_errors;
    chk_model *model = NULL;
    if (!syntax_errors && diags.errors == 0) model = chk_check(spec);
    if (model && diags.errors == 0) {
        for (int format = DOC_FORMAT_MD; format <= DOC_FORMAT_HTML; format++) {
            size_t len;
            free(doc_render(spec, model, "spec.kpi", (doc_format)format, &len));
        }
        /* a spec never differs from itself; the report renders in every format */
        diff_report *report = diff_new("spec.kpi", "spec.kpi");
        if (diff_definitions(report, spec, model, spec, model) != 0 || diff_differs(report)) abort();
        for (int format = DIFF_FORMAT_TEXT; format <= DIFF_FORMAT_JSON; format++) {
            size_t len;
            free(diff_render(report, (diff_format)format, &len));
        }
        diff_free(report);
        if (model->tests.len) {
            st_result *run = st_run(spec, model, "spec.kpi", NULL);
            for (int format = ST_FORMAT_TEXT; format <= ST_FORMAT_JUNIT; format++) {
                size_t len;
                free(st_render(&run, 1, (st_format)format, &len));
            }
            st_free(run);
        }
    }
    FILE *sink = fopen("/dev/null", "w");
    if (sink) {
        diag_print(&diags, sink, DIAG_FORMAT_TEXT);
        diag_print(&diags, sink, DIAG_FORMAT_JSON);
        diag_print(&diags, sink, DIAG_FORMAT_SARIF);
        fclose(sink);
    }
    ast_free_spec(spec);
    diag_free(&diags);
    return 0;
}
