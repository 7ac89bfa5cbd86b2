/* fmt.h — the formatter behind `kpic fmt`: one canonical layout for a spec file.
 *
 * Owns: printing a parsed file back as text in the canonical layout (declarations
 * separated by one blank line, kpi lines of a role aligned in columns, scale rows
 * aligned, expressions with canonical spacing), keeping every comment where it was.
 * Formatting is idempotent, and the output parses to the same AST as the input.
 */
#ifndef KPIC_FMT_H
#define KPIC_FMT_H

#include <stddef.h>

#include "kpic/ast.h"

/* The canonical text of a file that parsed without errors (malloc'd and NUL-terminated;
 * *len its length). The text is read back from diags for string lexemes and comments.
 * Non-empty output ends with exactly one newline; a file with neither declarations nor
 * comments formats to the empty string. The layout rules are listed in src/front/fmt.c. */
char *fmt_format(const ast_file *file, const diag_sink *diags, size_t *len);

/* The canonical text of one expression (malloc'd), as `kpic fmt` prints it: spacing and
 * redundant parentheses gone, comments dropped. Two expressions that format alike are
 * the same code (kpic diff). */
char *fmt_expr(const ast_expr *e, const diag_sink *diags);

#endif
