/* ast.c — AST constructors, names of enum values, and loading a spec with its imports. */
#include "kpic/ast.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kpic/hash.h"

const char *ast_coltype_name(ast_coltype t)
{
    static const char *const names[] = { "text", "int", "number", "money", "date", "bool" };
    return names[t];
}

const char *ast_unit_name(ast_unit u)
{
    static const char *const names[] = { "count", "money", "percent", "ratio", "number", "days", "points" };
    return names[u];
}

const char *const ast_grain_names[AST_GRAIN_COUNT] = { "day", "week", "month", "quarter", "year" };

const char *ast_grain_name(ast_grain g)
{
    return ast_grain_names[g];
}

const char *ast_op_text(ast_op op)
{
    static const char *const names[] = { "-",  "not", "+",  "-", "*",  "/",   "=",
                                         "!=", "<",   "<=", ">", ">=", "and", "or" };
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
    const ast_expr *children[3] = { NULL, NULL, NULL };
    const ptr_vec *more = NULL;
    switch (e->kind) {
    case EX_UNARY: children[0] = e->u.op.lhs; break;
    case EX_BINARY:
        children[0] = e->u.op.lhs;
        children[1] = e->u.op.rhs;
        break;
    case EX_IF:
        children[0] = e->u.cond.cond;
        children[1] = e->u.cond.then_expr;
        children[2] = e->u.cond.else_expr;
        break;
    case EX_IN_LIST:
        children[0] = e->u.in.lhs;
        more = &e->u.in.items;
        break;
    case EX_IN_SET:
    case EX_IN_PERIOD: children[0] = e->u.in.lhs; break;
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

const ast_grades *ast_role_grades(const ast_decl *role)
{
    for (int i = 0; role && i < role->u.role.item_count; i++)
        if (role->u.role.items[i].kind == ROLE_GRADES) return role->u.role.items[i].grades;
    return NULL;
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

/* PATH as an absolute path with "." and ".." removed by text alone (no symlinks
 * followed): for a file that does not exist, so it is still judged by where it would be. */
static char *lexical_absolute(const char *path)
{
    char cwd[PATH_MAX];
    const char *base = path[0] == '/' ? "" : getcwd(cwd, sizeof cwd) ? cwd : "";
    size_t cap = strlen(base) + strlen(path) + 3;
    char *joined = xmalloc(cap), *out = xmalloc(cap);
    snprintf(joined, cap, "%s/%s", base, path);
    size_t len = 0;
    for (char *p = joined; *p;) {
        while (*p == '/') p++;
        char *seg = p;
        while (*p && *p != '/') p++;
        size_t n = (size_t)(p - seg);
        if (n == 0 || (n == 1 && seg[0] == '.')) continue;
        if (n == 2 && seg[0] == '.' && seg[1] == '.') {
            while (len > 0 && out[len - 1] != '/') len--;
            if (len > 0) len--;
            continue;
        }
        out[len++] = '/';
        memcpy(out + len, seg, n);
        len += n;
    }
    if (len == 0) out[len++] = '/';
    out[len] = '\0';
    free(joined);
    return out;
}

/* The canonical path that identifies a file however it was named: symlinks resolved,
 * so a link that points outside the project counts as outside. A file that does not
 * exist is named by its resolved folder, or failing that by its text. */
static char *canonical(const char *path)
{
    char *real = realpath(path, NULL);
    if (real) return real;
    char *dir_copy = xstrdup(path), *base_copy = xstrdup(path);
    char *dir = realpath(dirname(dir_copy), NULL);
    char *result;
    if (dir) {
        const char *base = basename(base_copy);
        size_t cap = strlen(dir) + strlen(base) + 2;
        result = xmalloc(cap);
        snprintf(result, cap, "%s/%s", strcmp(dir, "/") ? dir : "", base);
        free(dir);
    } else {
        result = lexical_absolute(path);
    }
    free(dir_copy);
    free(base_copy);
    return result;
}

/* Whether the canonical path FILE is DIR (canonical) or lies under it. */
static bool path_within(const char *file, const char *dir)
{
    size_t n = strlen(dir);
    if (n == 1 && dir[0] == '/') return true;
    return strncmp(file, dir, n) == 0 && (file[n] == '/' || file[n] == '\0');
}

/* The project root of a main spec whose canonical path is MAIN: the nearest folder
 * above it with a `.git` entry (a folder, or the file of a worktree or submodule),
 * found by looking, without running git; or the spec's own folder outside git. */
static char *project_root(arena *mem, const char *main)
{
    char *folder = xstrdup(main); /* the spec's folder */
    char *slash = strrchr(folder, '/');
    if (slash) *(slash == folder ? slash + 1 : slash) = '\0';
    char *d = xstrdup(folder); /* the folder being looked at, walking up */
    char *probe = xmalloc(strlen(folder) + 8);
    const char *root = folder;
    for (;;) {
        struct stat st;
        sprintf(probe, "%s%s.git", d, strcmp(d, "/") ? "/" : "");
        if (lstat(probe, &st) == 0) {
            root = d;
            break;
        }
        char *up = strrchr(d, '/');
        if (!up || strcmp(d, "/") == 0) break;
        *(up == d ? up + 1 : up) = '\0';
    }
    char *found = arena_strndup(mem, root, strlen(root));
    free(probe);
    free(d);
    free(folder);
    return found;
}

bool ast_spec_may_read(const ast_spec *spec, const char *path)
{
    char *canon = canonical(path);
    bool ok = path_within(canon, spec->root);
    for (size_t i = 0; !ok && i < spec->read_dirs.len; i++) ok = path_within(canon, spec->read_dirs.items[i]);
    free(canon);
    return ok;
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

/* A file on the current import chain, and how far its declarations were visited. */
typedef struct import_frame {
    ast_file *file;
    const char *path; /* as resolved from the import that brought it in */
    uint32_t id;      /* its canonical path's id in loader.canon */
    size_t next;      /* the next declaration to visit */
} import_frame;

/* Imports are followed depth first with an explicit stack (a chain of thousands of
 * files must not overflow the C stack) and every file is named once by its canonical
 * path, so a repeated file costs a table lookup, not a realpath per ancestor. */
typedef struct loader {
    ast_spec *spec;
    strtab canon;   /* canonical paths of the files met, by id */
    bool *on_chain; /* by id: the file is on the stack (a cycle if met) */
    size_t on_chain_cap;
    import_frame *stack;
    size_t depth, stack_cap;
    ast_read_fn read; /* NULL: files are read from disk */
    void *read_ctx;
} loader;

/* The id of canonical path CANON; ids are dense, so on_chain grows with them. */
static uint32_t path_id(loader *ld, const char *canon, bool *is_new)
{
    size_t before = ld->canon.count;
    uint32_t id = strtab_intern(&ld->canon, canon, strlen(canon));
    *is_new = ld->canon.count > before;
    if (id >= ld->on_chain_cap) {
        size_t cap = ld->on_chain_cap ? ld->on_chain_cap * 2 : 16;
        while (cap <= id) cap *= 2;
        ld->on_chain = xrealloc(ld->on_chain, cap * sizeof *ld->on_chain);
        memset(ld->on_chain + ld->on_chain_cap, 0, (cap - ld->on_chain_cap) * sizeof *ld->on_chain);
        ld->on_chain_cap = cap;
    }
    return id;
}

static void report_cycle(loader *ld, size_t from, const char *path, kp_span import_span)
{
    size_t len = strlen(path) + 1;
    for (size_t k = from; k < ld->depth; k++) len += strlen(ld->stack[k].path) + 4;
    char *cycle = xmalloc(len);
    cycle[0] = '\0';
    for (size_t k = from; k < ld->depth; k++) {
        strcat(cycle, ld->stack[k].path);
        strcat(cycle, " -> ");
    }
    strcat(cycle, path);
    diag_sink *diags = ld->spec->diags;
    diagnostic *d = diag_report(diags, DIAG_ERROR, import_span, "import-cycle", "import cycle: %s", cycle);
    diag_hint(diags, d, "move the shared declarations into a file that both can import");
    free(cycle);
}

/* Reads, parses and pushes the file PATH, brought in by the import at IMPORT_SPAN (or
 * the main file when the stack is empty; PRELOADED is its text already in the sink). */
static void enter_file(loader *ld, const char *path, kp_span import_span, uint32_t preloaded)
{
    ast_spec *spec = ld->spec;
    diag_sink *diags = spec->diags;
    bool is_main = ld->depth == 0;
    char *canon = canonical(path);
    bool is_new;
    uint32_t id = path_id(ld, canon, &is_new);
    if (is_main) {
        spec->root = project_root(&spec->mem, canon);
    } else if (!is_new) {
        for (size_t k = 0; ld->on_chain[id] && k < ld->depth; k++)
            if (ld->stack[k].id == id) report_cycle(ld, k, path, import_span);
        free(canon);
        return; /* a cycle, reported; or a diamond, already loaded */
    } else if (!ast_spec_may_read(spec, canon)) {
        diagnostic *d =
            diag_report(diags, DIAG_ERROR, import_span, "import-outside",
                        "cannot import '%s': it is outside the project root %s", path, spec->root);
        diag_hint(diags, d,
                  "keep imported files inside the project, or allow their folder with "
                  "--allow-read DIR (docs/security.md)");
        free(canon);
        return;
    } else if (ld->depth >= AST_MAX_IMPORT_DEPTH) {
        diagnostic *d = diag_report(diags, DIAG_ERROR, import_span, "import-depth",
                                    "cannot import '%s': imports are nested more than %d files deep", path,
                                    AST_MAX_IMPORT_DEPTH);
        diag_hint(diags, d, "import the files of a long chain from one file instead of each from the next");
        free(canon);
        return;
    }
    free(canon);
    const char *why = NULL;
    uint32_t file = preloaded;
    if (file == DIAG_NO_FILE && !ld->read) file = diag_load_file(diags, path, !is_main, &why);
    if (file == DIAG_NO_FILE && ld->read) {
        size_t len = 0;
        char *text = ld->read(ld->read_ctx, path, &len, &why);
        if (text) file = diag_add_file(diags, path, text, len);
    }
    if (file == DIAG_NO_FILE) {
        if (!is_main)
            diag_report(diags, DIAG_ERROR, import_span, "import-missing", "cannot import '%s': %s", path,
                        why);
        else diag_report(diags, DIAG_ERROR, import_span, "io", "cannot read '%s': %s", path, why);
        return;
    }
    ast_file *parsed = ast_parse_file(&spec->mem, diags, file);
    ptr_vec_push(&spec->mem, &spec->files, parsed);
    if (ld->depth == ld->stack_cap) {
        ld->stack_cap = ld->stack_cap ? ld->stack_cap * 2 : 16;
        ld->stack = xrealloc(ld->stack, ld->stack_cap * sizeof *ld->stack);
    }
    ld->stack[ld->depth++] = (import_frame){ parsed, path, id, 0 };
    ld->on_chain[id] = true;
}

static ast_spec *load_spec(diag_sink *diags, const char *path, uint32_t preloaded,
                           const ast_load_options *options)
{
    ast_spec *spec = xcalloc(1, sizeof *spec);
    arena_init(&spec->mem);
    spec->diags = diags;
    static const ast_load_options defaults;
    if (!options) options = &defaults;
    for (size_t i = 0; i < options->read_dir_count; i++) {
        char *dir = canonical(options->read_dirs[i]);
        ptr_vec_push(&spec->mem, &spec->read_dirs, arena_strndup(&spec->mem, dir, strlen(dir)));
        free(dir);
    }
    loader ld = { .spec = spec, .read = options->read, .read_ctx = options->read_ctx };
    strtab_init(&ld.canon);
    kp_span none = { DIAG_NO_FILE, 0, 0 };
    enter_file(&ld, path, none, preloaded);
    /* declarations in the order a depth-first walk meets them: an import's declarations
     * stand where the import is */
    while (ld.depth > 0) {
        import_frame *top = &ld.stack[ld.depth - 1];
        if (top->next == top->file->decls.len) {
            ld.on_chain[top->id] = false;
            ld.depth--;
            continue;
        }
        ast_decl *d = top->file->decls.items[top->next++];
        if (d->kind != DECL_IMPORT) {
            ptr_vec_push(&spec->mem, &spec->decls, d);
            continue;
        }
        const char *target = resolve_relative(&spec->mem, top->path, d->u.import.path);
        enter_file(&ld, target, d->u.import.path_span, DIAG_NO_FILE);
    }
    free(ld.stack);
    free(ld.on_chain);
    strtab_free(&ld.canon);
    if (spec->files.len == 0) {
        ast_free_spec(spec);
        return NULL;
    }
    return spec;
}

ast_spec *ast_load_spec(diag_sink *diags, const char *path)
{
    return load_spec(diags, path, DIAG_NO_FILE, NULL);
}

ast_spec *ast_load_spec_with(diag_sink *diags, const char *path, const ast_load_options *options)
{
    return load_spec(diags, path, DIAG_NO_FILE, options);
}

ast_spec *ast_load_spec_file(diag_sink *diags, uint32_t file)
{
    return load_spec(diags, diag_get_file(diags, file)->path, file, NULL);
}

void ast_spec_attach(ast_spec *spec, const void *key, void *value, void (*release)(void *value))
{
    ast_attachment *a = arena_alloc(&spec->mem, sizeof *a);
    *a = (ast_attachment){ key, value, release };
    ptr_vec_push(&spec->mem, &spec->attached, a);
}

void *ast_spec_attached(const ast_spec *spec, const void *key)
{
    for (size_t i = 0; i < spec->attached.len; i++) {
        const ast_attachment *a = spec->attached.items[i];
        if (a->key == key) return a->value;
    }
    return NULL;
}

void ast_free_spec(ast_spec *spec)
{
    if (!spec) return;
    for (size_t i = spec->attached.len; i-- > 0;) {
        ast_attachment *a = spec->attached.items[i];
        if (a->release) a->release(a->value);
    }
    arena_free(&spec->mem);
    free(spec);
}

ast_prec ast_precedence(const ast_expr *e)
{
    switch (e->kind) {
    case EX_IF: return AST_PREC_IF;
    case EX_UNARY: return e->u.op.op == OP_NOT ? AST_PREC_NOT : AST_PREC_NEG;
    case EX_BINARY:
        switch (e->u.op.op) {
        case OP_OR: return AST_PREC_OR;
        case OP_AND: return AST_PREC_AND;
        case OP_ADD:
        case OP_SUB: return AST_PREC_ADD;
        case OP_MUL:
        case OP_DIV: return AST_PREC_MUL;
        default: return AST_PREC_CMP;
        }
    case EX_IN_LIST:
    case EX_IN_SET:
    case EX_IN_PERIOD: return AST_PREC_CMP;
    default: return AST_PREC_ATOM;
    }
}
