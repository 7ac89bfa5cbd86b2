/* parse_ctx.h — the state the flex scanner and the bison parser share for one file.
 *
 * Private to grammar/lexer.l, grammar/parser.y and src/front/ast.c. The scanner reads it
 * through yyextra, the parser through %param.
 */
#ifndef KPIC_PARSE_CTX_H
#define KPIC_PARSE_CTX_H

#include <stdbool.h>
#include <stdint.h>

#include "kpic/ast.h"

/* Byte range of a token or grammar symbol inside the file being parsed; the file index
 * is the same for the whole parse, so it lives in the context instead. */
typedef struct kp_loc {
    uint32_t start, end;
} kp_loc;

/* Semantic value of a token: names, literals and their text as written. */
typedef struct kp_tok {
    const char *text; /* identifier; decoded string; number without '_' or '%' */
    const char *raw;  /* the lexeme exactly as written */
} kp_tok;

#define PARSE_MAX_BRACES 64

typedef struct parse_ctx {
    void *scanner; /* yyscan_t */
    void *buffer;  /* the scanner's YY_BUFFER_STATE over text */
    arena *mem;
    diag_sink *diags;
    uint32_t file;
    const char *text; /* the file's bytes */
    uint32_t text_len;
    uint32_t offset; /* scanner position: bytes consumed so far */
    ast_file *out;
    ptr_vec comments; /* ast_comment* collected by the scanner */
    int syntax_errors;
    bool recovering;     /* after a syntax error, until the next declaration */
    bool lexical_errors; /* a stray character in the current declaration */
    bool depth_reported; /* report "nested too deeply" once per file */
    /* '{' not yet closed, for "missing '}'" notes */
    uint32_t open_braces[PARSE_MAX_BRACES];
    int brace_depth;
    /* Tests: `test` was just scanned and its '{' is next; the brace depth inside an
     * open test block (0: none), where `data` and `expect` start items and a `data`
     * line's '{' switches the scanner to raw lines until a line that is only '}'. */
    bool test_pending;
    int test_depth;
    /* Roles: `role` was just scanned at the top level and its '{' is next; the brace
     * depth inside an open role block (0: none), where `grades` starts a line. */
    bool role_pending;
    int role_depth;
} parse_ctx;

/* Span in the parsed file. */
static inline kp_span parse_span(const parse_ctx *ctx, kp_loc loc)
{
    kp_span s = { ctx->file, loc.start, loc.end };
    return s;
}

/* Creates the scanner over ctx->text, and destroys it (lexer.l). */
void lex_begin(parse_ctx *ctx);
void lex_end(parse_ctx *ctx);

/* Whether only spaces or tabs stand between the start of its line and offset. */
bool parse_at_line_start(const parse_ctx *ctx, uint32_t offset);

#endif
