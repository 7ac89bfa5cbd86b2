/* markup.h — text made safe for the documents kpic writes: Markdown and HTML.
 *
 * Owns: escaping user text (names, labels, notes, formulas, staff names) for a
 * Markdown table cell or paragraph, and for HTML text and attribute values. Used by
 * the statements of `kpic score` and by `kpic doc`.
 */
#ifndef KPIC_MARKUP_H
#define KPIC_MARKUP_H

#include <stdio.h>

#include "kpic/arena.h"

/* S for Markdown text or a table cell: '|', '\', '`', '*', '_', '<' and '[' escaped with a
 * backslash, control characters (line breaks too) as spaces. Allocated in MEM; "" for
 * NULL. */
const char *markup_md(arena *mem, const char *s);

/* Writes S with & < > " escaped, control characters other than line break and tab as
 * spaces: safe in HTML text and in a double-quoted attribute. Nothing for NULL. */
void markup_html(FILE *out, const char *s);

#endif
