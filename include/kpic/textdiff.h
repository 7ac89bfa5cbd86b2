/* textdiff.h — the unified diff of two texts, as `kpic fmt --check` shows it.
 *
 * Owns: the shortest line edit script between two texts (Myers' algorithm, bounded so
 * two unrelated texts cost no more than replacing the middle) and printing it as GNU
 * diff does. It knows nothing of specs: the formatter's caller gives it two texts.
 */
#ifndef KPIC_TEXTDIFF_H
#define KPIC_TEXTDIFF_H

#include <stddef.h>
#include <stdio.h>

/* Prints a unified diff (3 lines of context, hunks numbered as GNU diff numbers them,
 * `--- OLD_NAME` and `+++ NEW_NAME` headers) from old to new; nothing when they are
 * equal. A last line without a newline is marked `\ No newline at end of file`. */
void tdiff_print_unified(FILE *out, const char *old_name, const char *new_name, const char *old_text,
                         size_t old_len, const char *new_text, size_t new_len);

#endif
