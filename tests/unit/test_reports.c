/* Unit tests for the two report writers that read a checked spec without data: `kpic
 * diff`'s definitions (a spec never differs from itself, nor from a re-spaced copy; a
 * changed formula, target, key and `shared` marker are each one difference, in every
 * format) and `kpic doc` (every declaration gets one anchor; HTML escapes what a label
 * holds). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kpic/ast.h"
#include "kpic/check.h"
#include "kpic/diag.h"
#include "kpic/diff.h"
#include "kpic/doc.h"

typedef struct loaded {
    diag_sink diags;
    ast_spec *spec;
    chk_model *model;
} loaded;

static const char base[] =
    "period month\n"
    "source orders \"orders.csv\" {\n"
    "  order_id  text\n  staff_id  text  staff\n  amount  money\n  paid_at  date  time\n}\n"
    "staff \"staff.csv\" { id text  role text  base_bonus money }\n"
    "indicator revenue \"营收 <b>\" money per staff = sum(orders.amount)\n"
    "indicator orders_n count per staff = count(orders)\n"
    "indicator team_revenue money = sum(orders.amount)\n"
    "scale standard {\n  [0%, 100%) -> 0 .. 100\n  [100%, inf) -> 100\n}\n"
    "role sales {\n"
    "  kpi revenue  weight 60%  target >= 1000\n"
    "  kpi orders_n  weight 40%  target >= 10\n"
    "  points standard\n"
    "  bonus staff.base_bonus * score / 100\n"
    "}\n";

static void load(loaded *l, const char *text)
{
    diag_init(&l->diags);
    size_t len = strlen(text);
    char *copy = xmalloc(len + 1);
    memcpy(copy, text, len + 1);
    l->spec = ast_load_spec_file(&l->diags, diag_add_file(&l->diags, "t.kpi", copy, len));
    assert_non_null(l->spec);
    l->model = chk_check(l->spec);
    if (l->diags.errors) diag_print(&l->diags, stderr, DIAG_FORMAT_TEXT);
    assert_int_equal(l->diags.errors, 0);
}

static void unload(loaded *l)
{
    ast_free_spec(l->spec);
    diag_free(&l->diags);
}

/* BASE with the first occurrence of FROM replaced by TO. */
static char *edited(const char *from, const char *to)
{
    const char *at = strstr(base, from);
    assert_non_null(at);
    size_t n = strlen(base) - strlen(from) + strlen(to) + 1;
    char *s = xmalloc(n);
    snprintf(s, n, "%.*s%s%s", (int)(at - base), base, to, at + strlen(from));
    return s;
}

static char *render_diff(const loaded *a, const loaded *b, diff_format format, size_t *count, bool *differs)
{
    diff_report *r = diff_new("old.kpi", "new.kpi");
    *count = diff_definitions(r, a->spec, a->model, b->spec, b->model);
    *differs = diff_differs(r);
    size_t len;
    char *text = diff_render(r, format, &len);
    assert_int_equal(strlen(text), len);
    diff_free(r);
    return text;
}

static void test_diff_same_and_respaced(void **state)
{
    (void)state;
    loaded a, b;
    load(&a, base);
    char *respaced = edited("= sum(orders.amount)\n", "=   sum( orders.amount )   # spaced\n");
    load(&b, respaced);
    size_t count;
    bool differs;
    free(render_diff(&a, &a, DIFF_FORMAT_TEXT, &count, &differs));
    assert_int_equal(count, 0);
    assert_false(differs);
    char *text = render_diff(&a, &b, DIFF_FORMAT_TEXT, &count, &differs);
    assert_int_equal(count, 0);
    assert_false(differs);
    free(text);
    unload(&a);
    unload(&b);
    free(respaced);
}

static void test_diff_each_change(void **state)
{
    (void)state;
    static const struct {
        const char *from, *to, *expect;
    } cases[] = {
        { "count(orders)\n", "count(orders where amount > 0)\n", "indicator orders_n: formula" },
        { "weight 60%  target >= 1000", "weight 60%  target >= 1200",
          "kpi revenue: target >= 1000 → >= 1200" },
        { "  paid_at  date  time\n}", "  paid_at  date  time\n  key (order_id)\n}",
          "source orders: key (none) → (order_id)" },
        { "kpi orders_n  weight", "kpi orders_n shared weight", "kpi orders_n: shared no → yes" },
    };
    loaded a;
    load(&a, base);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *text = edited(cases[i].from, cases[i].to);
        loaded b;
        load(&b, text);
        size_t count;
        bool differs;
        char *out = render_diff(&a, &b, DIFF_FORMAT_TEXT, &count, &differs);
        if (!strstr(out, cases[i].expect)) fprintf(stderr, "case %zu:\n%s", i, out);
        assert_int_equal(count, 1);
        assert_true(differs);
        assert_non_null(strstr(out, cases[i].expect));
        free(out);
        for (int f = DIFF_FORMAT_MD; f <= DIFF_FORMAT_JSON; f++) {
            out = render_diff(&a, &b, (diff_format)f, &count, &differs);
            assert_true(strlen(out) > 0);
            if (f == DIFF_FORMAT_JSON) assert_true(out[0] == '{');
            free(out);
        }
        unload(&b);
        free(text);
    }
    unload(&a);
}

static size_t occurrences(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

static void test_doc_anchors_and_escaping(void **state)
{
    (void)state;
    loaded a;
    load(&a, base);
    size_t len;
    char *md = doc_render(a.spec, a.model, "t.kpi", DOC_FORMAT_MD, &len);
    assert_int_equal(strlen(md), len);
    /* one anchor per declaration, and links to it */
    static const char *const anchors[] = { "indicator-revenue", "indicator-orders_n",
                                           "indicator-team_revenue", "role-sales", "source-orders" };
    for (size_t i = 0; i < sizeof anchors / sizeof *anchors; i++) {
        char tag[80];
        snprintf(tag, sizeof tag, "id=\"%s\"", anchors[i]);
        if (occurrences(md, tag) != 1) fprintf(stderr, "%s:\n%s", anchors[i], md);
        assert_int_equal(occurrences(md, tag), 1);
    }
    assert_non_null(strstr(md, "(#indicator-revenue)"));
    char *html = doc_render(a.spec, a.model, "t.kpi", DOC_FORMAT_HTML, &len);
    assert_null(strstr(html, "营收 <b>")); /* the label's tag is escaped */
    assert_non_null(strstr(html, "营收 &lt;b&gt;"));
    free(md);
    free(html);
    unload(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff_same_and_respaced),
        cmocka_unit_test(test_diff_each_change),
        cmocka_unit_test(test_doc_anchors_and_escaping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
