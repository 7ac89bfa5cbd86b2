/* ast.c — AST constructors, names of enum values, and loading a spec with its imports. */
#include "kpic/ast.h"

#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

const char *ast_coltype_name(ast_coltype t)
{
    static const char *const names[] = {"text", "int", "number", "money", "date", "bool"};
    return names[t];
}

const char *ast_unit_name(ast_unit u)
{
    static const char *const names[] = {"count", "money", "percent", "ratio", "number", "days", "points"};
    return names[u];
}

const char *ast_grain_name(ast_grain g)
{
    static const char *const names[] = {"day", "week", "month", "quarter", "year"};
    return names[g];
}

const char *ast_op_text(ast_op op)
{
    static const char *const names[] = {"-", "not", "+", "-", "*", "/", "=", "!=", "<", "<=",
                                        ">", ">=", "and", "or"};
    return names[op];
}

ast_expr *ast_new_expr(arena *mem, ast_expr_kind kind, kp_span span)
{
    ast_expr *e = arena_alloc(mem, sizeof *e);
    e->kind = kind;
    e->span = span;
    e->depth = 1;
    return e;
}

kp_span ast_span_join(kp_span a, kp_span b)
{
    kp_span s = a;
    if (b.start < s.start) s.start = b.start;
    if (b.end > s.end) s.end = b.end;
    return s;
}

ast_expr *ast_new_binary(arena *mem, ast_op op, ast_expr *lhs, ast_expr *rhs, kp_span op_span)
{
    ast_expr *e = ast_new_expr(mem, EX_BINARY, ast_span_join(lhs->span, rhs->span));
    e->u.op.op = op;
    e->u.op.lhs = lhs;
    e->u.op.rhs = rhs;
    e->u.op.op_span = op_span;
    return e;
}

ast_expr *ast_new_unary(arena *mem, ast_op op, ast_expr *operand, kp_span span)
{
    ast_expr *e = ast_new_expr(mem, EX_UNARY, span);
    e->u.op.op = op;
    e->u.op.lhs = operand;
    return e;
}

void ast_expr_each_child(const ast_expr *e, void (*fn)(const ast_expr *child, void *ctx), void *ctx)
{
    const ast_expr *children[3] = {NULL, NULL, NULL};
    const ptr_vec *more = NULL;
    switch (e->kind) {
    case EX_UNARY: children[0] = e->u.op.lhs; break;
    case EX_BINARY: children[0] = e->u.op.lhs; children[1] = e->u.op.rhs; break;
    case EX_IF:
        children[0] = e->u.cond.cond;
        children[1] = e->u.cond.then_expr;
        children[2] = e->u.cond.else_expr;
        break;
    case EX_IN_LIST: children[0] = e->u.in.lhs; more = &e->u.in.items; break;
    case EX_IN_SET: case EX_IN_PERIOD: children[0] = e->u.in.lhs; break;
    case EX_CALL: more = &e->u.call.args; break;
    default: break;
    }
    for (int i = 0; i < 3; i++)
        if (children[i]) fn(children[i], ctx);
    for (size_t i = 0; more && i < more->len; i++) fn(more->items[i], ctx);
    if (e->kind == EX_CALL) {
        if (e->u.call.where) fn(e->u.call.where, ctx);
        if (e->u.call.having) fn(e->u.call.having, ctx);
    }
}

const char *ast_column_header(const ast_column *col)
{
    return col->header != NULL ? col->header : col->name;
}

const char *ast_comparator_text(ast_comparator cmp)
{
    return cmp == CMP_GE ? ">=" : "<=";
}

kp_span ast_set_definition_span(const ast_decl *set)
{
    kp_span span = set->span;
    span.start = set->u.set.column->span.start;
    return span;
}

ast_decl *ast_new_decl(arena *mem, ast_decl_kind kind, kp_span span)
{
    ast_decl *d = arena_alloc(mem, sizeof *d);
    d->kind = kind;
    d->span = span;
    return d;
}

/* ---- loading a spec and its imports ---------------------------------------------- */

/* Files on the current import chain, to report a cycle with its whole path. */
typedef struct import_chain {
    const char *path;
    kp_span import_span;             /* the import that brought this file in */
    struct import_chain *parent;
} import_chain;

/* The canonical path that identifies a file however it was named. */
static char *canonical(const char *path)
{
    char *real = realpath(path, NULL);
    return real ? real : xstrdup(path);
}

static char *resolve_relative(arena *mem, const char *importer, const char *path)
{
    if (path[0] == '/') return arena_strndup(mem, path, strlen(path));
    char *copy = xstrdup(importer);
    const char *dir = dirname(copy);
    char *joined = strcmp(dir, ".") == 0 ? arena_strndup(mem, path, strlen(path))
                                         : arena_printf(mem, "%s/%s", dir, path);
    free(copy);
    return joined;
}

typedef struct loader {
    ast_spec *spec;
    ptr_vec loaded;                  /* canonical paths (malloc'd) of files already parsed */
    uint32_t preloaded;              /* the main file when its text came from memory */
} loader;

static void load_file(loader *ld, const char *path, import_chain *chain, kp_span import_span);

static void load_imports(loader *ld, ast_file *file, const char *path, import_chain *chain)
{
    for (size_t i = 0; i < file->decls.len; i++) {
        ast_decl *d = file->decls.items[i];
        if (d->kind != DECL_IMPORT) {
            ptr_vec_push(&ld->spec->mem, &ld->spec->decls, d);
            continue;
        }
        const char *target = resolve_relative(&ld->spec->mem, path, d->u.import.path);
        load_file(ld, target, chain, d->u.import.path_span);
    }
}

static void load_file(loader *ld, const char *path, import_chain *chain, kp_span import_span)
{
    ast_spec *spec = ld->spec;
    char *canon = canonical(path);
    for (import_chain *c = chain; c; c = c->parent) {
        char *other = canonical(c->path);
        bool same = strcmp(other, canon) == 0;
        free(other);
        if (!same) continue;
        /* the chain from the repeated file down to this import, in import order */
        size_t n = 0;
        for (import_chain *k = chain; k != c; k = k->parent) n++;
        const char **names = xcalloc(n + 2, sizeof *names);
        size_t i = n + 1;
        names[i--] = path;
        for (import_chain *k = chain; ; k = k->parent) {
            names[i] = k->path;
            if (k == c || i == 0) break;
            i--;
        }
        size_t len = 1;
        for (size_t k = 0; k <= n + 1; k++) len += strlen(names[k]) + 4;
        char *cycle = xmalloc(len);
        cycle[0] = '\0';
        for (size_t k = 0; k <= n + 1; k++) {
            if (k) strcat(cycle, " -> ");
            strcat(cycle, names[k]);
        }
        diagnostic *d = diag_report(spec->diags, DIAG_ERROR, import_span, "import-cycle",
                                    "import cycle: %s", cycle);
        diag_hint(spec->diags, d, "move the shared declarations into a file that both can import");
        free(cycle);
        free(names);
        free(canon);
        return;
    }
    for (size_t i = 0; i < ld->loaded.len; i++) {
        if (strcmp(ld->loaded.items[i], canon) == 0) {   /* a diamond: already loaded */
            free(canon);
            return;
        }
    }
    const char *why = NULL;
    uint32_t file = ld->preloaded != DIAG_NO_FILE ? ld->preloaded
                                                 : diag_load_file(spec->diags, path, &why);
    ld->preloaded = DIAG_NO_FILE;
    if (file == DIAG_NO_FILE) {
        if (chain)
            diag_report(spec->diags, DIAG_ERROR, import_span, "import-missing",
                        "cannot import '%s': %s", path, why);
        else
            diag_report(spec->diags, DIAG_ERROR, import_span, "io", "cannot read '%s': %s",
                        path, why);
        free(canon);
        return;
    }
    ptr_vec_push(&spec->mem, &ld->loaded, canon);
    ast_file *parsed = ast_parse_file(&spec->mem, spec->diags, file);
    ptr_vec_push(&spec->mem, &spec->files, parsed);
    import_chain link = { path, import_span, chain };
    load_imports(ld, parsed, path, &link);
}

static ast_spec *load_spec(diag_sink *diags, const char *path, uint32_t preloaded)
{
    ast_spec *spec = xcalloc(1, sizeof *spec);
    arena_init(&spec->mem);
    spec->diags = diags;
    loader ld = { spec, {0}, preloaded };
    kp_span none = { DIAG_NO_FILE, 0, 0 };
    load_file(&ld, path, NULL, none);
    for (size_t i = 0; i < ld.loaded.len; i++) free(ld.loaded.items[i]);
    if (spec->files.len == 0) {
        ast_free_spec(spec);
        return NULL;
    }
    return spec;
}

ast_spec *ast_load_spec(diag_sink *diags, const char *path)
{
    return load_spec(diags, path, DIAG_NO_FILE);
}

ast_spec *ast_load_spec_file(diag_sink *diags, uint32_t file)
{
    return load_spec(diags, diag_get_file(diags, file)->path, file);
}

void ast_free_spec(ast_spec *spec)
{
    if (!spec) return;
    arena_free(&spec->mem);
    free(spec);
}
