/* eval_keys.c — a source's declared `key (…)` (eval_internal.h, language.md §3 Keys).
 *
 * The first read records a hash per row; only a repeated hash (or an empty key) makes
 * the source be read again to find those rows with their keys and lines, and compare
 * the keys themselves; the repeats are then reported, or skipped by one more read.
 */
#include "eval_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* ---- keys ---------------------------------------------------------------------------- */

/* The ordinal of the record being delivered: its chunk and its place in the chunk, so
 * ordinals follow file order, and two passes cut alike give a record the same one. */
uint64_t eval_record_ordinal(const pass_ctx *p)
{
    return p->chunk << 40 | p->chunk_record;
}

static void key_reserve(pass_ctx *p, size_t need)
{
    if (need <= p->key_cap) return;
    p->key_cap = need * 2;
    p->key_buf = xrealloc(p->key_buf, p->key_cap);
}

/* Encodes a row's key into p->key_buf by typed value (text by its bytes, with its length
 * so that two columns cannot run into each other; numbers, dates and booleans by their
 * binary value, as distinct() keys them). Returns the length, or SIZE_MAX with *empty set
 * to the index (in the key) of a key column whose cell is empty. */
static size_t encode_row_key(pass_ctx *p, const csvr_cell *cells, int *empty)
{
    const key_check *k = p->key;
    const ast_column *cols = p->source->u.source.columns;
    size_t len = 0;
    for (int j = 0; j < k->count; j++) {
        const csvr_cell *c = &cells[k->columns[j]];
        if (c->is_null) {
            *empty = j;
            return SIZE_MAX;
        }
        switch (cols[k->columns[j]].type) {
        case COLTYPE_TEXT: {
            uint32_t n = (uint32_t)c->as.text.len;
            key_reserve(p, len + sizeof n + n);
            memcpy(p->key_buf + len, &n, sizeof n);
            memcpy(p->key_buf + len + sizeof n, c->as.text.ptr, n);
            len += sizeof n + n;
            break;
        }
        case COLTYPE_INT:
            key_reserve(p, len + sizeof c->as.i);
            memcpy(p->key_buf + len, &c->as.i, sizeof c->as.i);
            len += sizeof c->as.i;
            break;
        case COLTYPE_NUMBER:
        case COLTYPE_MONEY:
            key_reserve(p, len + sizeof c->as.dec);
            memcpy(p->key_buf + len, &c->as.dec, sizeof c->as.dec);
            len += sizeof c->as.dec;
            break;
        case COLTYPE_DATE:
            key_reserve(p, len + sizeof c->as.date);
            memcpy(p->key_buf + len, &c->as.date, sizeof c->as.date);
            len += sizeof c->as.date;
            break;
        default:
            key_reserve(p, len + 1);
            p->key_buf[len++] = c->as.b;
            break;
        }
    }
    return len;
}

/* A cell's value as a message shows it: text in quotes, numbers without trailing zeros. */
static void key_value_text(byte_buf *b, ast_coltype type, const csvr_cell *c)
{
    char buf[DEC_FORMAT_SIZE + DATE_FORMAT_SIZE];
    size_t n;
    switch (type) {
    case COLTYPE_TEXT:
        buf_add(b, "\"", 1);
        buf_add(b, c->as.text.ptr, c->as.text.len);
        buf_add(b, "\"", 1);
        return;
    case COLTYPE_INT: n = (size_t)snprintf(buf, sizeof buf, "%lld", (long long)c->as.i); break;
    case COLTYPE_NUMBER:
    case COLTYPE_MONEY:
        n = dec_format(c->as.dec, DEC_PLACES, buf, sizeof buf);
        while (n > 1 && strchr(buf, '.') && (buf[n - 1] == '0' || buf[n - 1] == '.')) {
            bool point = buf[n - 1] == '.';
            buf[--n] = '\0';
            if (point) break;
        }
        break;
    case COLTYPE_DATE: n = date_format(c->as.date, buf, sizeof buf); break;
    default: n = (size_t)snprintf(buf, sizeof buf, "%s", c->as.b ? "true" : "false"); break;
    }
    buf_add(b, buf, n);
}

/* The key of a row as messages name it: `order_id "A1001"`, or for a key of several
 * columns `(order_id, line_no) ("A1001", 2)`. Malloc'd. */
static char *key_text(const pass_ctx *p, const csvr_cell *cells)
{
    const key_check *k = p->key;
    const ast_column *cols = p->source->u.source.columns;
    byte_buf b = { 0 };
    if (k->count > 1) buf_add(&b, "(", 1);
    for (int j = 0; j < k->count; j++) {
        if (j) buf_add(&b, ", ", 2);
        const char *name = cols[k->columns[j]].name;
        buf_add(&b, name, strlen(name));
    }
    buf_add(&b, k->count > 1 ? ") (" : " ", k->count > 1 ? 3 : 1);
    for (int j = 0; j < k->count; j++) {
        if (j) buf_add(&b, ", ", 2);
        key_value_text(&b, cols[k->columns[j]].type, &cells[k->columns[j]]);
    }
    if (k->count > 1) buf_add(&b, ")", 1);
    return buf_take(&b);
}

static void add_seen(pass_ctx *p, const csvr_row *row, uint64_t ordinal, bool empty, int column, uint64_t h,
                     size_t len)
{
    if (p->seen_count == p->seen_cap) {
        p->seen_cap = p->seen_cap ? p->seen_cap * 2 : 16;
        p->seen = xrealloc(p->seen, p->seen_cap * sizeof *p->seen);
    }
    size_t raw_len;
    const char *raw = csvr_row_raw(row, &raw_len);
    key_row_seen *ks = &p->seen[p->seen_count++];
    *ks = (key_row_seen){
        csvr_row_line(row),   ordinal, empty, column, h, NULL, len, empty ? NULL : key_text(p, row->cells),
        xmalloc(raw_len + 1), raw_len
    };
    memcpy(ks->raw, raw, raw_len);
    if (!empty) {
        ks->bytes = xmalloc(len + 1);
        memcpy(ks->bytes, p->key_buf, len);
    }
}

/* The key work of one good row. False when the row is to be skipped for its key (a
 * read after the key check, under --skip-bad-rows). */
bool eval_key_row(pass_ctx *p, const csvr_row *row, uint64_t ordinal)
{
    key_check *k = p->key;
    if (p->key_mode == KEYS_NONE) {
        size_t lo = 0, hi = k->excluded_count;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (k->excluded[mid] < ordinal) lo = mid + 1;
            else hi = mid;
        }
        return !(lo < k->excluded_count && k->excluded[lo] == ordinal);
    }
    int empty = -1;
    size_t len = encode_row_key(p, row->cells, &empty);
    if (len == SIZE_MAX) {
        if (p->key_mode == KEYS_RECORD) p->empty_keys++;
        else add_seen(p, row, ordinal, true, k->columns[empty], 0, 0);
        return true;
    }
    uint64_t h = ks_hash(p->key_buf, len);
    uint64_t first;
    if (p->key_mode == KEYS_RECORD) ksf_add(p->key_writer, h, ordinal);
    else if (ksf_repeated(k->firsts, h, &first)) add_seen(p, row, ordinal, false, k->columns[0], h, len);
    return true;
}

/* The source's key check, its columns resolved (the checker made sure they exist). */
key_check *eval_source_key(eval_session *s, size_t source_index)
{
    const ast_decl *src = s->model->sources.items[source_index];
    if (!s->key_checks)
        s->key_checks = arena_alloc(&s->mem, (s->model->sources.len + 1) * sizeof *s->key_checks);
    key_check *k = &s->key_checks[source_index];
    if (k->columns || !src->u.source.key_line_count) return k;
    const ast_key_line *kl = &src->u.source.key_lines[0];
    k->columns = arena_alloc(&s->mem, (size_t)kl->count * sizeof *k->columns);
    k->fields = arena_alloc(&s->mem, (size_t)kl->count * sizeof *k->fields);
    for (int j = 0; j < kl->count; j++)
        for (int c = 0; c < src->u.source.column_count; c++)
            if (!strcmp(src->u.source.columns[c].name, kl->columns[j])) k->columns[j] = c;
    k->count = kl->count;
    return k;
}

/* A malloc'd printf. */
static char *text_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *text_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *out = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(out, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return out;
}

/* Orders the rows of repeated hashes by key, then file order. */
static int compare_seen(const void *a, const void *b)
{
    const key_row_seen *x = *(key_row_seen *const *)a, *y = *(key_row_seen *const *)b;
    if (x->empty != y->empty) return x->empty ? -1 : 1;
    if (!x->empty) {
        if (x->h != y->h) return x->h < y->h ? -1 : 1;
        if (x->len != y->len) return x->len < y->len ? -1 : 1;
        int c = memcmp(x->bytes, y->bytes, x->len);
        if (c) return c;
    }
    return (x->ordinal > y->ordinal) - (x->ordinal < y->ordinal);
}

/* A row skipped or reported for its key. */
typedef struct key_problem {
    const key_row_seen *row;
    uint64_t first_line; /* 0: an empty key */
} key_problem;

static int compare_problems(const void *a, const void *b)
{
    const key_problem *x = a, *y = b;
    return (x->row->line > y->row->line) - (x->row->line < y->row->line);
}

static int compare_u64(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    return (*x > *y) - (*x < *y);
}

static char *key_reason(const ast_decl *src, const key_problem *kp)
{
    if (!kp->first_line)
        return text_printf("empty key %s: every row of source '%s' needs one",
                           src->u.source.columns[kp->row->column].name, src->name);
    return text_printf("duplicate key %s: first seen on line %llu", kp->row->key,
                       (unsigned long long)kp->first_line);
}

/* After a KEYS_LOCATE pass: among the rows it collected, those with an empty key and
 * those whose key (compared byte for byte: equal hashes may hide different keys)
 * repeats one seen earlier in the file. Without --skip-bad-rows the first of them is
 * the run's error (false); with it, they become the source's excluded ordinals and
 * rejects lines, for the read that skips them. */
bool eval_settle_keys(eval_session *s, const ast_decl *src, key_check *k, const char *path, pass_ctx *workers,
                      int threads)
{
    size_t n = 0;
    for (int w = 0; w < threads; w++) n += workers[w].seen_count;
    key_row_seen **rows = xcalloc(n + 1, sizeof *rows);
    size_t at = 0;
    for (int w = 0; w < threads; w++)
        for (size_t i = 0; i < workers[w].seen_count; i++) rows[at++] = &workers[w].seen[i];
    qsort(rows, n, sizeof *rows, compare_seen);
    key_problem *problems = xcalloc(n + 1, sizeof *problems);
    size_t np = 0;
    uint64_t repeated = 0, empty = 0;
    for (size_t i = 0; i < n;) {
        if (rows[i]->empty) {
            problems[np++] = (key_problem){ rows[i++], 0 };
            empty++;
            continue;
        }
        size_t j = i + 1;
        while (j < n && !rows[j]->empty && rows[j]->h == rows[i]->h && rows[j]->len == rows[i]->len &&
               !memcmp(rows[j]->bytes, rows[i]->bytes, rows[i]->len)) {
            problems[np++] = (key_problem){ rows[j], rows[i]->line };
            repeated++;
            j++;
        }
        i = j;
    }
    qsort(problems, np, sizeof *problems, compare_problems);
    bool ok = true;
    if (np && !s->options.skip_bad_rows) {
        const key_problem *kp = &problems[0];
        unsigned field = 0;
        for (int j = 0; j < k->count; j++)
            if (k->columns[j] == kp->row->column) field = k->fields[j];
        char *reason = key_reason(src, kp);
        diagnostic *d = diag_report_data(s->diags, DIAG_ERROR, path, (unsigned)kp->row->line, field, "data",
                                         "%s", reason);
        free(reason);
        const char *counts = arena_printf(
            &s->mem, "%s%s%s",
            repeated ? arena_printf(&s->mem, "%llu row%s an earlier key", (unsigned long long)repeated,
                                    repeated == 1 ? " repeats" : "s repeat")
                     : "",
            repeated && empty ? ", " : "",
            empty ? arena_printf(&s->mem, "%llu row%s an empty key", (unsigned long long)empty,
                                 empty == 1 ? " has" : "s have")
                  : "");
        if (!kp->first_line)
            diag_hint(
                s->diags, d,
                "fill in the cell in the export, or run with --skip-bad-rows to skip such rows (--rejects FILE lists them); %s",
                counts);
        else
            diag_hint(
                s->diags, d,
                "remove the repeated row from the export, or run with --skip-bad-rows to keep the first row of each key (--rejects FILE lists the others); %s",
                counts);
        s->failed = true;
        ok = false;
    } else if (np) {
        k->excluded = xcalloc(np, sizeof *k->excluded);
        k->excluded_count = np;
        for (size_t i = 0; i < np; i++) k->excluded[i] = problems[i].row->ordinal;
        qsort(k->excluded, np, sizeof *k->excluded, compare_u64);
        if (s->options.rejects_path) {
            k->rejects = xcalloc(np, sizeof *k->rejects);
            for (size_t i = 0; i < np; i++) {
                const key_problem *kp = &problems[i];
                unsigned field = k->fields[0];
                for (int j = 0; j < k->count; j++)
                    if (k->columns[j] == kp->row->column) field = k->fields[j];
                char *reason = key_reason(src, kp);
                byte_buf b = { 0 };
                char num[64];
                eval_bytes_field(&b, src->name, strlen(src->name), false);
                eval_bytes_field(&b, path, strlen(path), false);
                snprintf(num, sizeof num, "%llu", (unsigned long long)kp->row->line);
                eval_bytes_field(&b, num, strlen(num), false);
                snprintf(num, sizeof num, "%u", field);
                eval_bytes_field(&b, num, strlen(num), false);
                eval_bytes_field(&b, reason, strlen(reason), false);
                eval_bytes_field(&b, kp->row->raw, kp->row->raw_len, true);
                free(reason);
                k->rejects[k->reject_count++] = (reject){ kp->row->line, b.data, b.len };
            }
        }
    }
    free(problems);
    free(rows);
    return ok;
}
