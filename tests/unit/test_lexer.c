/* Unit tests for the scanner: token kinds, values, byte spans, comments, and errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kpic/diag.h"
#include "parse_ctx.h"
#include "parser.h"

typedef struct lexed {
    int token;
    kp_loc loc;
    const char *text;
} lexed;

/* Scans text completely into out (at most max tokens); returns the count. */
static int scan(const char *text, lexed *out, int max, diag_sink *diags, arena *mem, parse_ctx *ctx)
{
    diag_init(diags);
    arena_init(mem);
    size_t len = strlen(text);
    char *copy = xmalloc(len + 1);
    memcpy(copy, text, len + 1);
    uint32_t file = diag_add_file(diags, "t.kpi", copy, len);
    memset(ctx, 0, sizeof *ctx);
    ctx->mem = mem;
    ctx->diags = diags;
    ctx->file = file;
    ctx->text = copy;
    ctx->text_len = (uint32_t)len;
    lex_begin(ctx);
    int n = 0;
    for (;;) {
        KPYSTYPE value;
        kp_loc loc;
        memset(&value, 0, sizeof value);
        int token = kpy_lex(&value, &loc, ctx->scanner);
        if (token == 0 || n == max) break;
        out[n].token = token;
        out[n].loc = loc;
        out[n].text = value.tok.text;
        n++;
    }
    lex_end(ctx);
    return n;
}

static void done(diag_sink *diags, arena *mem)
{
    arena_free(mem);
    diag_free(diags);
}

static void test_tokens_and_spans(void **state)
{
    (void)state;
    diag_sink diags;
    arena mem;
    parse_ctx ctx;
    lexed t[32];
    /* 复购率 is 9 bytes of UTF-8: spans are byte offsets */
    int n = scan("indicator 复购率 \"复购\" percent = 1_000 / 25% >= 2025-05-01", t, 32, &diags, &mem, &ctx);
    assert_int_equal(n, 10);
    assert_int_equal(t[0].token, KW_INDICATOR);
    assert_int_equal(t[0].loc.start, 0);
    assert_int_equal(t[0].loc.end, 9);
    assert_int_equal(t[1].token, IDENT);
    assert_string_equal(t[1].text, "复购率");
    assert_int_equal(t[1].loc.start, 10);
    assert_int_equal(t[1].loc.end, 19);
    assert_int_equal(t[2].token, STRING);
    assert_string_equal(t[2].text, "复购");
    assert_int_equal(t[3].token, IDENT);
    assert_int_equal(t[4].token, '=');
    assert_int_equal(t[5].token, NUMBER);
    assert_string_equal(t[5].text, "1000");
    assert_int_equal(t[6].token, '/');
    assert_int_equal(t[7].token, PERCENT);
    assert_string_equal(t[7].text, "25");
    assert_int_equal(t[8].token, GE);
    assert_int_equal(t[9].token, DATE);
    assert_string_equal(t[9].text, "2025-05-01");
    assert_int_equal(diags.errors, 0);
    done(&diags, &mem);
}

static void test_scale_row_punctuation(void **state)
{
    (void)state;
    diag_sink diags;
    arena mem;
    parse_ctx ctx;
    lexed t[16];
    /* `60..100` is a number, '..', a number: not "60." */
    int n = scan("[60%, 100%) -> 60..100 (x]", t, 16, &diags, &mem, &ctx);
    int want[] = { '[', PERCENT, ',', PERCENT, ')', ARROW, NUMBER, DOTDOT, NUMBER, '(', IDENT, ']' };
    assert_int_equal(n, 12);
    for (int i = 0; i < n; i++) assert_int_equal(t[i].token, want[i]);
    assert_string_equal(t[6].text, "60");
    assert_string_equal(t[8].text, "100");
    done(&diags, &mem);
}

static void test_string_escapes(void **state)
{
    (void)state;
    diag_sink diags;
    arena mem;
    parse_ctx ctx;
    lexed t[4];
    int n = scan("\"a\\\"b\\\\c\\nd\\te\"", t, 4, &diags, &mem, &ctx);
    assert_int_equal(n, 1);
    assert_string_equal(t[0].text, "a\"b\\c\nd\te");
    assert_int_equal(diags.errors, 0);
    done(&diags, &mem);
}

static void test_comments_collected(void **state)
{
    (void)state;
    diag_sink diags;
    arena mem;
    parse_ctx ctx;
    lexed t[8];
    int n = scan("# own line\nperiod month  # trailing\n", t, 8, &diags, &mem, &ctx);
    assert_int_equal(n, 2);
    assert_int_equal(ctx.comments.len, 2);
    ast_comment *first = ctx.comments.items[0], *second = ctx.comments.items[1];
    assert_true(first->own_line);
    assert_int_equal(first->span.start, 0);
    assert_int_equal(first->span.end, 10);
    assert_false(second->own_line);
    assert_int_equal(second->span.start, 25);
    done(&diags, &mem);
}

static void test_keywords_are_reserved_but_words_are_not(void **state)
{
    (void)state;
    diag_sink diags;
    arena mem;
    parse_ctx ctx;
    lexed t[8];
    int n = scan("staff staffs time timeout if iffy", t, 8, &diags, &mem, &ctx);
    int want[] = { KW_STAFF, IDENT, KW_TIME, IDENT, KW_IF, IDENT };
    assert_int_equal(n, 6);
    for (int i = 0; i < n; i++) assert_int_equal(t[i].token, want[i]);
    done(&diags, &mem);
}

static void test_non_letter_ends_a_name(void **state)
{
    (void)state;
    diag_sink diags;
    arena mem;
    parse_ctx ctx;
    lexed t[8];
    /* the full-width semicolon is not a letter: reported, and the names around it survive */
    int n = scan("复购；率", t, 8, &diags, &mem, &ctx);
    assert_int_equal(n, 2);
    assert_string_equal(t[0].text, "复购");
    assert_string_equal(t[1].text, "率");
    assert_int_equal(t[1].loc.start, 9);
    assert_int_equal(diags.errors, 1);
    diagnostic *d = diags.diags.items[0];
    assert_int_equal(d->span.start, 6);
    assert_int_equal(d->span.end, 9);
    assert_non_null(strstr(d->message, "U+FF1B"));
    done(&diags, &mem);
}

static void test_input_method_slips(void **state)
{
    (void)state;
    diag_sink diags;
    arena mem;
    parse_ctx ctx;
    lexed t[16];
    /* each slip is one error, and is read as the ASCII it stands for */
    int n = scan("count（a）＞＝2，“x y” == 50 % => 3％ ： =< ≤", t, 16, &diags, &mem, &ctx);
    int want[] = { IDENT, '(', IDENT, ')', GE, NUMBER, ',', STRING, '=', PERCENT, GE, PERCENT, LE, LE };
    assert_int_equal(n, 14);
    for (int i = 0; i < n; i++) assert_int_equal(t[i].token, want[i]);
    assert_string_equal(t[7].text, "x y");
    assert_string_equal(t[9].text, "50");
    assert_string_equal(t[11].text, "3");
    assert_int_equal(diags.errors, 12);
    /* `＞＝` is one slip spanning both characters; 2 starts right after it */
    assert_int_equal(t[4].loc.end - t[4].loc.start, 6);
    assert_int_equal(t[5].loc.start, t[4].loc.end);
    done(&diags, &mem);
}

static void test_invalid_bytes_and_nul(void **state)
{
    (void)state;
    diag_sink diags;
    arena mem;
    parse_ctx ctx;
    lexed t[8];
    diag_init(&diags);
    arena_init(&mem);
    /* a NUL byte in the middle must not end the scan */
    static const char text[] = "a \xff\0 b";
    char *copy = xmalloc(sizeof text);
    memcpy(copy, text, sizeof text);
    uint32_t file = diag_add_file(&diags, "t.kpi", copy, sizeof text - 1);
    memset(&ctx, 0, sizeof ctx);
    ctx.mem = &mem;
    ctx.diags = &diags;
    ctx.file = file;
    ctx.text = copy;
    ctx.text_len = sizeof text - 1;
    lex_begin(&ctx);
    int n = 0;
    for (;;) {
        KPYSTYPE value;
        kp_loc loc;
        int token = kpy_lex(&value, &loc, ctx.scanner);
        if (!token) break;
        t[n].token = token;
        t[n].text = value.tok.text;
        n++;
    }
    lex_end(&ctx);
    assert_int_equal(n, 2);
    assert_string_equal(t[1].text, "b");
    assert_int_equal(diags.errors, 2);
    done(&diags, &mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokens_and_spans),
        cmocka_unit_test(test_scale_row_punctuation),
        cmocka_unit_test(test_string_escapes),
        cmocka_unit_test(test_comments_collected),
        cmocka_unit_test(test_keywords_are_reserved_but_words_are_not),
        cmocka_unit_test(test_non_letter_ends_a_name),
        cmocka_unit_test(test_input_method_slips),
        cmocka_unit_test(test_invalid_bytes_and_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
