/* doc.h — `kpic doc`: a reference of a checked spec for the people it concerns.
 *
 * Owns: rendering a checked spec as a document — in Markdown (for a pull request or
 * a wiki) or as one self-contained HTML page — that a reviewer or a staff member can
 * read without knowing the language: each role with its kpis, weights, targets,
 * points, gates and bonus; each indicator with its label, unit, formula as written,
 * note, what it reads and uses and what uses it; the sets, the scales with their
 * intervals, the sources and the roster with their columns. Links join every name to
 * its entry. Reads no data.
 */
#ifndef KPIC_DOC_H
#define KPIC_DOC_H

#include <stddef.h>

#include "kpic/ast.h"
#include "kpic/check.h"

typedef enum doc_format { DOC_FORMAT_MD, DOC_FORMAT_HTML } doc_format;

/* The document of a spec that checked without errors (malloc'd, NUL-terminated; *len
 * its length). SPEC_PATH is the path shown in the title. The same spec gives the same
 * bytes. */
char *doc_render(ast_spec *spec, const chk_model *model, const char *spec_path, doc_format format,
                 size_t *len);

#endif
