/* eval.c — reading the data and evaluating expressions (see eval.h).
 *
 * The run has three phases. Planning (plan.c) lists every aggregate instance the
 * required expressions need. Reading makes one pass per source and level: each row is
 * parsed once (only the columns some instance uses), placed by its time column, and
 * offered to every instance of that source, which filters it by window and `where`
 * and adds it to the accumulators of the whole company and of the row's staff member.
 * Evaluation then computes expressions from the finished accumulators, for any period
 * and staff member, memoising indicator values.
 *
 * Groups: every per-staff accumulator array has roster-size + 1 entries; the last is
 * the company total. Rows credited to a staff id that is not on the roster count in
 * the total only (and are counted in the source's statistics).
 */
#include "kpic/eval.h"

#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kpic/cellfmt.h"
#include "kpic/csv_reader.h"
#include "kpic/hash.h"
#include "kpic/interp.h"
#include "kpic/ir.h"
#include "kpic/keystore.h"
#include "kpic/output.h"
#include "kpic/plan.h"

/* A growable byte buffer (rejects text). */
typedef struct bytes {
    char *data;
    size_t len, cap;
} bytes;

/* One rejected row as a line of the rejects CSV, kept with its line number so rows
 * found by several threads are written in file order. */
typedef struct reject {
    uint64_t line;
    char *text;
    size_t len;
} reject;

/* How a pass treats a source's key (language.md §3, Keys). The first read records each
 * row's key hash with the ordinal of its record in a table shared by the threads
 * (keystore.h, ksf_), which keeps the smallest ordinal per hash: the first row in file
 * order, however the chunks were scheduled. Only when a hash repeats (or a key is
 * empty) is the source read again, to collect the rows of those hashes with their keys
 * and lines (csvr_row_line is paid only for them); comparing the keys themselves tells
 * the repeated rows, which are reported, or skipped by one more read. */
typedef enum key_mode { KEYS_NONE, KEYS_RECORD, KEYS_LOCATE } key_mode;

/* A row of a repeated hash, or with an empty key, as a KEYS_LOCATE pass collects it. */
typedef struct key_row_seen {
    uint64_t line, ordinal;
    bool empty;                /* an empty key: COLUMN is the empty cell's column */
    int column;
    uint64_t h;
    unsigned char *bytes;      /* the encoded key */
    size_t len;
    char *key;                 /* the key as messages show it: order_id "A1001" */
    char *raw;
    size_t raw_len;
} key_row_seen;

/* The key of one source: its columns, and what the passes learnt about it. */
typedef struct key_check {
    int *columns;              /* declared column indexes, in key order */
    unsigned *fields;          /* their field numbers in the file's header */
    int count;                 /* 0: no key */
    ks_firsts *firsts;         /* hash → first ordinal (KEYS_RECORD to KEYS_LOCATE) */
    uint64_t *excluded;        /* sorted ordinals of the rows skipped for their key */
    size_t excluded_count;
    reject *rejects;           /* their rejects lines, for the read that skips them */
    size_t reject_count;
} key_check;

/* One accumulator: a group of count/sum/avg/min/max, or a `having` slot of one key. */
typedef struct acc {          /* 48 bytes: the 16-byte decimals first, no padding */
    dec_t sum;
    dec_t best;                /* min/max of numbers */
    int64_t n;                 /* rows (count) or non-null values (the others) */
    date_t best_date;          /* min/max of dates */
    bool has;
    bool overflow;             /* the sum left the decimal range: the run fails */
} acc;

/* One aggregate among those sharing a key run, and where its parts of a key's
 * payload and of a record lie. */
typedef struct key_member {
    const plan_agg *agg;
    size_t nslots;
    bool counts_only;          /* every slot is a count(): an int64_t per slot in the
                                  payload instead of a full acc, one byte in a record */
    size_t slots_at;           /* payload offset of its `having` slots */
    size_t inputs_at;          /* record offset of its slot inputs */
    size_t passed_at;          /* payload offset of its "passed having" flag (a set with
                                  `having`), or SIZE_MAX */
} key_member;

/* The distinct keys that the aggregates of one key family (plan.h) collect over the
 * same instances in one pass: recorded once per row for all of them, and shared by
 * the instances and by every thread of the pass. A key is recorded per cell, cell =
 * instance position × groups + group; its payload holds each member's `having`
 * slots and flags. */
typedef struct key_run {
    keystore *store;
    key_member *members;
    size_t member_count;
    plan_instance **instances; /* [member × count + position] */
    size_t count;              /* instances per member */
    bool staff_cells;          /* some member is per staff: record the row's group too */
} key_run;

typedef struct inst_state {
    acc *accs;                 /* [groups]: count/sum/avg/min/max */
    key_run *keys;             /* distinct and sets: the run's shared keys */
    uint32_t member;           /* which of keys' members this instance's aggregate is */
    uint32_t pos;              /* this instance's position in keys */
    eval_value *result;        /* [groups], after the pass */
    bool done;
} inst_state;

/* One roster member's column values, in the roster's column order. */
typedef struct roster_row {
    eval_value *values;
} roster_row;

/* The first time a scale call's input fell outside every interval, and how often. */
typedef struct scale_miss {
    const ast_expr *call;
    dec_t input;
    period_t period;
    int group;
    uint64_t count;
} scale_miss;

typedef struct memo_entry {
    const void *decl;
    date_t start;
    int group;
    eval_value value;
} memo_entry;

struct eval_session {
    arena mem;
    ast_spec *spec;
    chk_model *model;
    diag_sink *diags;
    eval_options options;
    period_t *periods;
    size_t period_count;
    ir_program *ir;            /* the spec lowered (ir.h), in mem */
    plan plan;
    strtab strings;            /* text values: distinct keys, roster text */
    /* roster */
    eval_staff *staff;
    roster_row *staff_rows;
    size_t staff_count;
    strtab staff_ids;          /* staff id → roster index (interned in roster order); small,
                                  so the lookup every row makes stays in cache */
    int groups;                /* staff_count + 1 */
    /* sources, in model order, then the roster */
    eval_source_stats *stats;
    size_t stats_count;
    /* scale calls inside row expressions (call → index), and how many row values of
     * each fell outside every interval: counted by every worker thread at once */
    hmap row_scale_index;
    const ast_expr **row_scale_calls;
    uint64_t *row_scale_misses;
    size_t row_scale_count, row_scale_cap;
    /* scale calls whose input fell outside every interval: call → index in scale_misses */
    hmap scale_miss_index;
    hmap scale_miss_seen;      /* (call, period, group) already counted: a figure that
                                  explain or diff evaluates again is one miss, not two */
    struct scale_miss *scale_misses;
    size_t scale_miss_count, scale_miss_cap;
    /* memoised indicator values */
    hmap memo_index;
    memo_entry *memo;
    size_t memo_count, memo_cap;
    /* rejected rows under --skip-bad-rows --rejects, in source and line order */
    bytes rejects;
    bool executed, failed;
    ast_expr *overflow_at;     /* first expression whose arithmetic left the decimal range */
    ptr_vec key_runs;          /* key_run*: freed with the session */
    bool overflow_reported;
    struct key_check *key_checks; /* [sources]: each source's `key (…)` check */
    bool cache_rebuild;        /* the pass reads its file and rewrites its column cache:
                                  a replay of the cache failed (CSVR_ERR_CACHE) */
};

/* Remembers the first expression whose result left the exact decimal range; any thread. */
static void note_overflow(eval_session *s, const ast_expr *e)
{
    ast_expr *none = NULL;
    __atomic_compare_exchange_n(&s->overflow_at, &none, (ast_expr *)e, false, __ATOMIC_RELAXED,
                                __ATOMIC_RELAXED);
}

/* ---- values -------------------------------------------------------------------------- */

static bool literal_number(const ast_expr *e, dec_t *out)
{
    const char *t = e->u.lit.text;
    if (dec_parse(t, strlen(t), DEC_PLACES, out) != DEC_OK) return false;
    if (e->kind == EX_PERCENT) return dec_div(*out, dec_from_int64(100), DEC_PLACES, out) == DEC_OK;
    return true;
}

/* ---- sessions ------------------------------------------------------------------------ */

eval_session *eval_new(ast_spec *spec, chk_model *model, const period_t *periods,
                       size_t period_count, const eval_options *options, diag_sink *diags)
{
    eval_session *s = xcalloc(1, sizeof *s);
    arena_init(&s->mem);
    s->spec = spec;
    s->model = model;
    s->diags = diags;
    s->options = *options;
    s->periods = arena_alloc(&s->mem, (period_count + 1) * sizeof *s->periods);
    memcpy(s->periods, periods, period_count * sizeof *periods);
    s->period_count = period_count;
    s->ir = lower_spec(&s->mem, model);
    plan_init(&s->plan, &s->mem, model, s->ir);
    strtab_init(&s->strings);
    strtab_init(&s->staff_ids);
    hmap_init(&s->memo_index);
    s->stats_count = model->sources.len + 1;
    s->stats = arena_alloc(&s->mem, s->stats_count * sizeof *s->stats);
    for (size_t i = 0; i < model->sources.len; i++)
        s->stats[i].name = ((ast_decl *)model->sources.items[i])->name;
    s->stats[model->sources.len].name = "staff";
    return s;
}

static void free_inst_state(inst_state *st)
{
    if (!st) return;
    free(st->accs);
    free(st->result);
    free(st);
}

void eval_free(eval_session *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->plan.instances.len; i++)
        free_inst_state(((plan_instance *)s->plan.instances.items[i])->state);
    for (size_t i = 0; i < s->key_runs.len; i++) {
        key_run *run = s->key_runs.items[i];
        ks_free(run->store);
        free(run->instances);
        free(run->members);
        free(run);
    }
    for (size_t i = 0; s->key_checks && i < s->model->sources.len; i++) {
        key_check *k = &s->key_checks[i];
        ksf_free(k->firsts);
        free(k->excluded);
        for (size_t j = 0; j < k->reject_count; j++) free(k->rejects[j].text);
        free(k->rejects);
    }
    plan_free(&s->plan);
    ir_program_free(s->ir);
    strtab_free(&s->strings);
    strtab_free(&s->staff_ids);
    hmap_free(&s->memo_index);
    hmap_free(&s->scale_miss_index);
    hmap_free(&s->scale_miss_seen);
    free(s->scale_misses);
    hmap_free(&s->row_scale_index);
    free(s->row_scale_calls);
    free(s->row_scale_misses);
    free(s->memo);
    free(s->rejects.data);
    arena_free(&s->mem);
    free(s);
}

/* The IR of a checked expression: lowered with the spec, or now (a --expr). */
static const ir_node *lowered(eval_session *s, const ast_expr *expr)
{
    const ir_node *n = ir_of(s->ir, expr);
    return n ? n : lower_expr(s->ir, expr);
}

void eval_require(eval_session *s, ast_expr *expr)
{
    const ir_node *n = lowered(s, expr);
    for (size_t p = 0; p < s->period_count; p++) plan_expr(&s->plan, n, s->periods[p]);
}

void eval_require_rows(eval_session *s, const ast_expr *aggregate)
{
    const ir_node *n = lowered(s, aggregate);
    for (size_t p = 0; p < s->period_count; p++) plan_rows(&s->plan, n, s->periods[p]);
}

void eval_require_indicator(eval_session *s, ast_decl *indicator)
{
    for (size_t p = 0; p < s->period_count; p++) plan_indicator(&s->plan, indicator, s->periods[p]);
}

const period_t *eval_periods(const eval_session *s, size_t *count)
{
    *count = s->period_count;
    return s->periods;
}

const eval_staff *eval_roster(const eval_session *s, size_t *count)
{
    *count = s->staff_count;
    return s->staff;
}

bool eval_staff_number(const eval_session *s, size_t staff, int column, dec_t *out)
{
    if (staff >= s->staff_count || !s->model->roster || column < 0 ||
        column >= s->model->roster->u.source.column_count)
        return false;
    eval_value v = s->staff_rows[staff].values[column];
    if (v.kind != VAL_NUM) return false;
    *out = v.as.num;
    return true;
}

const eval_source_stats *eval_sources(const eval_session *s, size_t *count)
{
    *count = s->stats_count;
    return s->stats;
}

/* ---- files and errors ---------------------------------------------------------------- */

/* Where a source's file is: --data NAME=PATH wins; a relative path is resolved against
 * --data-dir, or else the folder of the spec file that declares the source. */
static const char *source_path(eval_session *s, const ast_decl *src)
{
    const char *name = src->kind == DECL_STAFF ? "staff" : src->name;
    for (size_t i = 0; i < s->options.override_count; i++)
        if (!strcmp(s->options.overrides[i].source, name)) return s->options.overrides[i].path;
    const char *path = src->u.source.path;
    if (path[0] == '/') return path;
    if (s->options.data_dir) return arena_printf(&s->mem, "%s/%s", s->options.data_dir, path);
    const diag_file *f = diag_get_file(s->diags, src->span.file);
    char *copy = xstrdup(f->path);
    const char *dir = dirname(copy);
    const char *full = strcmp(dir, ".") ? arena_printf(&s->mem, "%s/%s", dir, path)
                                        : arena_strndup(&s->mem, path, strlen(path));
    free(copy);
    return full;
}

/* Whether the file of SRC, at PATH, may be read: one the user named with --data, or one
 * the spec names inside its project root or a folder the command line allows
 * (docs/security.md); otherwise a located error, and nothing of the file is read. */
static bool may_read_source(eval_session *s, const ast_decl *src, const char *path)
{
    const char *name = src->kind == DECL_STAFF ? "staff" : src->name;
    for (size_t i = 0; i < s->options.override_count; i++)
        if (!strcmp(s->options.overrides[i].source, name)) return true;
    if (ast_spec_may_read(s->spec, path)) return true;
    diagnostic *d = diag_report(s->diags, DIAG_ERROR, src->u.source.path_span, "source-outside",
                                "the file of source '%s', '%s', is outside the project root %s",
                                name, path, s->spec->root);
    diag_hint(s->diags, d, "name the file on the command line with --data %s=PATH, or allow its "
                           "folder with --allow-read DIR (docs/security.md)", name);
    s->failed = true;
    return false;
}

/* Opens SRC's file at PATH as its declaration says the export is written: in its
 * encoding, each column under its header name (COLS) and read with its format. The
 * checker has compiled every format already, so compiling one here cannot fail. */
static csvr_reader *open_declared(const eval_session *s, const ast_decl *src, const char *path,
                                  const csvr_column *cols, size_t n, unsigned flags, csvr_error *err)
{
    const char *name = src->kind == DECL_STAFF ? "staff" : src->name;
    const eval_data_override *in_memory = NULL;
    for (size_t i = 0; i < s->options.override_count; i++)
        if (!strcmp(s->options.overrides[i].source, name) && s->options.overrides[i].bytes)
            in_memory = &s->options.overrides[i];
    csvr_reader *reader = in_memory ? csvr_open_memory(path, in_memory->bytes, in_memory->size, cols, n, flags, err)
                                    : csvr_open_encoded(path, src->u.source.encoding, cols, n, flags, err);
    for (size_t c = 0; reader && c < n; c++) {
        const ast_column *col = &src->u.source.columns[c];
        cfmt f;
        char why[256];
        bool compiled = col->true_word ? cfmt_compile_bool(col->true_word, col->false_word, &f, why, sizeof why)
                      : !col->format ? false
                      : col->type == COLTYPE_DATE ? cfmt_compile_date(col->format, &f, why, sizeof why)
                                                  : cfmt_compile_number(col->format, &f, why, sizeof why);
        if (compiled && !csvr_set_format(reader, c, &f, err)) {
            csvr_close(reader);
            reader = NULL;
        }
    }
    return reader;
}

static void report_csv_error(eval_session *s, const csvr_error *e)
{
    diag_report_data(s->diags, DIAG_ERROR, e->path, (unsigned)e->line, (unsigned)e->field,
                     e->kind == CSVR_ERR_IO ? "io" : "data", "%s", e->message);
    s->failed = true;
}

static csvr_type csv_type(ast_coltype t)
{
    switch (t) {
    case COLTYPE_INT: return CSVR_INT;
    case COLTYPE_NUMBER: return CSVR_NUMBER;
    case COLTYPE_MONEY: return CSVR_MONEY;
    case COLTYPE_DATE: return CSVR_DATE;
    case COLTYPE_BOOL: return CSVR_BOOL;
    default: return CSVR_TEXT;
    }
}

static void bytes_append(bytes *b, const char *text, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        b->cap = (b->len + len + 1) * 2;
        b->data = xrealloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, text, len);
    b->len += len;
}

static void bytes_field(bytes *b, const char *text, size_t len, bool last)
{
    bytes_append(b, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '"') bytes_append(b, "\"", 1);
        bytes_append(b, text + i, 1);
    }
    bytes_append(b, last ? "\"\n" : "\",", 2);
}


static int compare_rejects(const void *a, const void *b)
{
    const reject *x = a, *y = b;
    return (x->line > y->line) - (x->line < y->line);
}

/* ---- progress -------------------------------------------------------------------------- */

typedef struct progress {
    bool on;
    const char *label;
    csvr_reader *reader;
    struct timespec started, last;
    uint64_t rows;
} progress;

static double seconds_between(struct timespec a, struct timespec b)
{
    return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

static void progress_tick(progress *p, bool final)
{
    if (!p->on) return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!final && seconds_between(p->last, now) < 0.25) return;
    p->last = now;
    uint64_t done, total;
    csvr_progress(p->reader, &done, &total);
    double elapsed = seconds_between(p->started, now);
    double rate = elapsed > 0 ? (double)p->rows / elapsed : 0;
    double left = done > 0 && total > done ? elapsed * (double)(total - done) / (double)done : 0;
    fprintf(stderr, "\r\033[Kkpic: %s %.0f/%.0f MB, %.0f rows/s, %.0f s left", p->label,
            (double)done / 1e6, (double)total / 1e6, rate, left);
    if (final) fputs("\r\033[K", stderr);
}

/* ---- roster ---------------------------------------------------------------------------- */

static int roster_column(const ast_decl *roster, const char *name)
{
    for (int i = 0; i < roster->u.source.column_count; i++)
        if (!strcmp(roster->u.source.columns[i].name, name)) return i;
    return -1;
}

typedef struct roster_ctx {
    eval_session *s;
    const ast_decl *roster;
    int id, name, role, start, end;
    ptr_vec rows;              /* roster_row* in file order */
    ptr_vec lines;             /* line numbers (as uintptr_t) */
    const char *path;
    bool bad;
} roster_ctx;

static eval_value cell_value(eval_session *s, ast_coltype type, const csvr_cell *c)
{
    if (c->is_null) return eval_null();
    switch (type) {
    case COLTYPE_INT: return eval_num(dec_from_int64(c->as.i));
    case COLTYPE_NUMBER: case COLTYPE_MONEY: return eval_num(c->as.dec);
    case COLTYPE_DATE: return eval_date(c->as.date);
    case COLTYPE_BOOL: return eval_bool(c->as.b);
    default: {
        eval_value v = eval_null();
        v.kind = VAL_TEXT;
        v.as.text = strtab_str(&s->strings, strtab_intern(&s->strings, c->as.text.ptr, c->as.text.len));
        return v;
    }
    }
}

static bool on_roster_row(void *ctx, const csvr_row *row)
{
    roster_ctx *r = ctx;
    eval_session *s = r->s;
    int n = r->roster->u.source.column_count;
    roster_row *rr = arena_alloc(&s->mem, sizeof *rr);
    rr->values = arena_alloc(&s->mem, (size_t)n * sizeof *rr->values);
    for (int i = 0; i < n; i++)
        rr->values[i] = cell_value(s, r->roster->u.source.columns[i].type, &row->cells[i]);
    uint64_t line = csvr_row_line(row);
    if (rr->values[r->id].kind == VAL_NUM) {
        /* an int id is known by its digits, as staff columns hold them */
        char digits[DEC_FORMAT_SIZE];
        size_t n = dec_format(rr->values[r->id].as.num, 0, digits, sizeof digits);
        rr->values[r->id].kind = VAL_TEXT;
        rr->values[r->id].as.text = strtab_str(&s->strings, strtab_intern(&s->strings, digits, n));
    }
    eval_value id = rr->values[r->id];
    if (id.kind != VAL_TEXT || id.as.text[0] == '\0') {
        diag_report_data(s->diags, DIAG_ERROR, r->path, (unsigned)line, (unsigned)(r->id + 1),
                         "roster", "a staff member without an id");
        r->bad = true;
        return true;
    }
    uint32_t seen = strtab_find(&s->staff_ids, id.as.text, strlen(id.as.text));
    if (seen != HMAP_NONE) {
        diagnostic *d = diag_report_data(s->diags, DIAG_ERROR, r->path, (unsigned)line, (unsigned)(r->id + 1),
                                         "roster", "staff id '%s' appears twice in the roster", id.as.text);
        diag_hint(s->diags, d, "its first row is on line %llu",
                  (unsigned long long)(uintptr_t)r->lines.items[seen]);
        r->bad = true;
        return true;
    }
    if (r->start >= 0 && r->end >= 0 && rr->values[r->start].kind == VAL_DATE &&
        rr->values[r->end].kind == VAL_DATE && rr->values[r->end].as.date <= rr->values[r->start].as.date) {
        /* employment is [start, end): such a row is employed on no day, a typo that would
         * quietly leave the person out of every period */
        char start[DATE_FORMAT_SIZE], end[DATE_FORMAT_SIZE];
        date_format(rr->values[r->start].as.date, start, sizeof start);
        date_format(rr->values[r->end].as.date, end, sizeof end);
        diagnostic *d = diag_report_data(s->diags, DIAG_ERROR, r->path, (unsigned)line, (unsigned)(r->end + 1),
                                         "roster", "staff '%s' ends on %s, not after starting on %s",
                                         id.as.text, end, start);
        diag_hint(s->diags, d, "'end' is the first day no longer employed: it must be later than 'start'");
        r->bad = true;
        return true;
    }
    strtab_intern(&s->staff_ids, id.as.text, strlen(id.as.text)); /* id == r->rows.len */
    ptr_vec_push(&s->mem, &r->rows, rr);
    ptr_vec_push(&s->mem, &r->lines, (void *)(uintptr_t)line);
    return true;
}

static bool load_roster(eval_session *s)
{
    const ast_decl *roster = s->model->roster;
    eval_source_stats *stats = &s->stats[s->stats_count - 1];
    roster_ctx r = { .s = s, .roster = roster };
    r.id = roster_column(roster, "id");
    r.name = roster_column(roster, "name");
    r.role = roster_column(roster, "role");
    r.start = roster_column(roster, "start");
    r.end = roster_column(roster, "end");
    r.path = source_path(s, roster);
    stats->path = r.path;
    int n = roster->u.source.column_count;
    csvr_column *cols = xcalloc((size_t)n + 1, sizeof *cols);
    for (int i = 0; i < n; i++) {
        cols[i].name = ast_column_header(&roster->u.source.columns[i]);
        cols[i].type = csv_type(roster->u.source.columns[i].type);
    }
    csvr_error err;
    bool allowed = may_read_source(s, roster, r.path);
    csvr_reader *reader = allowed ? open_declared(s, roster, r.path, cols, (size_t)n, 0, &err) : NULL;
    free(cols);
    if (!allowed) return false;
    if (!reader) {
        report_csv_error(s, &err);
        return false;
    }
    /* a bad roster row is never skipped: who is paid must not depend on a flag */
    csvr_handlers h = { on_roster_row, NULL, &r };
    csvr_status st = csvr_read(reader, &h, &err);
    if (st == CSVR_ERROR) report_csv_error(s, &err);
    csvr_sha256_hex(reader, stats->sha256);
    csvr_close(reader);
    stats->read = true;
    stats->rows = r.rows.len;
    if (st != CSVR_OK || r.bad) {
        s->failed = true;
        return false;
    }
    s->staff_count = r.rows.len;
    s->groups = (int)s->staff_count + 1;
    s->staff = arena_alloc(&s->mem, (s->staff_count + 1) * sizeof *s->staff);
    s->staff_rows = arena_alloc(&s->mem, (s->staff_count + 1) * sizeof *s->staff_rows);
    for (size_t i = 0; i < s->staff_count; i++) {
        roster_row *rr = r.rows.items[i];
        s->staff_rows[i] = *rr;
        eval_staff *st_ = &s->staff[i];
        st_->line = (unsigned long)(uintptr_t)r.lines.items[i];
        st_->id = rr->values[r.id].as.text;
        st_->name = r.name >= 0 && rr->values[r.name].kind == VAL_TEXT ? rr->values[r.name].as.text : NULL;
        st_->role = r.role >= 0 && rr->values[r.role].kind == VAL_TEXT ? rr->values[r.role].as.text : NULL;
        if (r.start >= 0 && rr->values[r.start].kind == VAL_DATE) {
            st_->has_start = true;
            st_->start = rr->values[r.start].as.date;
        }
        if (r.end >= 0 && rr->values[r.end].kind == VAL_DATE) {
            st_->has_end = true;
            st_->end = rr->values[r.end].as.date;
        }
    }
    return true;
}

/* ---- the interpreter's environment ---------------------------------------------------
 * One interpreter (interp.h) computes row conditions during a pass and figures after
 * it; the leaves below give it this session's data. */

static const interp_leaves session_leaves;

/* The environment of a row of SOURCE being read (its period is set per instance). */
static interp_env row_env(eval_session *s, const ast_decl *source, const csvr_cell *cells)
{
    interp_env env = { .leaves = &session_leaves, .ctx = s, .group = -1, .cells = cells, .source = source };
    return env;
}

/* ---- accumulating ---------------------------------------------------------------------- */

static void acc_add(acc *a, ir_agg_kind kind, const val_t *v)
{
    if (kind == IR_AGG_COUNT) {
        a->n++;
        return;
    }
    if (v->kind == VAL_NULL) return;
    a->n++;
    if (kind == IR_AGG_SUM || kind == IR_AGG_AVG) {
        if (v->kind == VAL_NUM && dec_add(a->sum, v->as.num, &a->sum) != DEC_OK) a->overflow = true;
        a->has = true;
        return;
    }
    bool better;
    if (v->kind == VAL_DATE) {
        better = !a->has || (kind == IR_AGG_MIN ? v->as.date < a->best_date : v->as.date > a->best_date);
        if (better) a->best_date = v->as.date;
    } else if (v->kind == VAL_NUM) {
        int c = a->has ? dec_cmp(v->as.num, a->best) : 0;
        better = !a->has || (kind == IR_AGG_MIN ? c < 0 : c > 0);
        if (better) a->best = v->as.num;
    } else {
        return;
    }
    a->has = true;
}

static eval_value acc_result(const acc *a, ir_agg_kind kind, bool dates)
{
    switch (kind) {
    case IR_AGG_COUNT: return eval_num(dec_from_int64(a->n));
    case IR_AGG_SUM: return eval_num(a->sum);
    case IR_AGG_AVG: {
        dec_t out;
        if (a->n == 0 || dec_div(a->sum, dec_from_int64(a->n), DEC_PLACES, &out) != DEC_OK) return eval_null();
        return eval_num(out);
    }
    default:
        if (!a->has) return eval_null();
        return dates ? eval_date(a->best_date) : eval_num(a->best);
    }
}

static size_t source_index_of(const eval_session *s, const ast_decl *src)
{
    for (size_t i = 0; i < s->model->sources.len; i++)
        if (s->model->sources.items[i] == src) return i;
    return s->stats_count - 1;
}

/* An aggregate's argument as written in the spec (at its first planned use), for
 * messages. */
static const char *canonical_arg(eval_session *s, const plan_agg *agg)
{
    if (!agg->arg) return agg->source->name;
    kp_span span = agg->syntax && agg->syntax->u.call.args.len
                       ? ((const ast_expr *)agg->syntax->u.call.args.items[0])->span : agg->arg->span;
    const diag_file *f = diag_get_file(s->diags, span.file);
    if (!f) return "?";
    return arena_strndup(&s->mem, f->text + span.start, span.end - span.start);
}

/* After the pass: the results per group of a count/sum/avg/min/max instance. */
static void finish_instance(eval_session *s, plan_instance *in)
{
    inst_state *st = in->state;
    plan_agg *agg = in->agg;
    st->result = xcalloc((size_t)s->groups, sizeof *st->result);
    bool dates = agg->arg && agg->arg->type == TYPE_DATE;
    for (int g = 0; g < s->groups; g++) {
        if (st->accs[g].overflow) {
            /* a wrong total must never look like a right one: the run fails */
            if (!s->failed) {
                diag_report_data(s->diags, DIAG_ERROR, s->stats[source_index_of(s, agg->source)].path, 0, 0,
                                 "overflow", "%s(%s) overflows: the total leaves the exact decimal range (|value| < 1.7e20)",
                                 agg->kind == IR_AGG_AVG ? "avg" : "sum", canonical_arg(s, agg));
            }
            s->failed = true;
            st->result[g] = eval_null();
            continue;
        }
        st->result[g] = acc_result(&st->accs[g], agg->kind, dates);
    }
    st->done = true;
}

/* The state of SET's instance in PERIOD, or NULL when it was not computed. */
static const inst_state *set_state(eval_session *s, const ir_agg *set, period_t period)
{
    plan_instance *in = plan_find(&s->plan, set, period);
    return in && in->state && ((inst_state *)in->state)->keys ? in->state : NULL;
}

/* Whether the key (hash H) is a member of the set instance ST (a set_state). */
static bool state_has(eval_session *s, const inst_state *st, uint64_t h, const void *key, size_t len)
{
    if (!st) return false;
    const key_run *run = st->keys;
    uint32_t cell = st->pos * (uint32_t)s->groups + (uint32_t)(s->groups - 1);
    unsigned char *payload = ks_find(run->store, h, key, len, cell);
    if (!payload) return false;
    size_t passed_at = run->members[st->member].passed_at;
    return passed_at == SIZE_MAX || payload[passed_at];
}

/* After the pass: the distinct counts of every instance of a key run, per group (a key
 * counts when it passes `having` and, for distinct(S.c where c in SET), is in SET), and
 * the having flags that make a set's members. One walk over the run's keys. */
static void finish_key_run(eval_session *s, key_run *run)
{
    size_t groups = (size_t)s->groups, cells = run->count * groups;
    int64_t *counts = xcalloc(run->member_count * cells, sizeof *counts);
    size_t most = 0;
    for (size_t m = 0; m < run->member_count; m++)
        if (run->members[m].nslots > most) most = run->members[m].nslots;
    acc *unpacked = xcalloc(most + 1, sizeof *unpacked); /* counts_only slots as accs */
    /* distinct(S.c where c in SET): the set's instance for each member and position,
     * looked up once rather than for every key */
    const inst_state **sets = xcalloc(run->member_count * run->count + 1, sizeof *sets);
    bool any_set = false;
    for (size_t m = 0; m < run->member_count; m++) {
        const plan_agg *agg = run->members[m].agg;
        if (!agg->member_set) continue;
        any_set = true;
        for (size_t pos = 0; pos < run->count; pos++)
            sets[m * run->count + pos] =
                set_state(s, agg->ir->member_set_agg, run->instances[m * run->count + pos]->period);
    }
    uint64_t cursor = 0;
    ks_entry en;
    while (ks_next(run->store, &cursor, &en)) {
        size_t pos = en.cell / groups;
        uint64_t h = any_set ? ks_hash(en.key, en.len) : 0;
        for (size_t m = 0; m < run->member_count; m++) {
            const key_member *mem = &run->members[m];
            const plan_agg *agg = mem->agg;
            plan_instance *in = run->instances[m * run->count + pos];
            if (agg->member_set && !state_has(s, sets[m * run->count + pos], h, en.key, en.len)) continue;
            if (agg->having) {
                unsigned char *payload = en.payload;
                const acc *slots = (const acc *)(payload + mem->slots_at);
                if (mem->counts_only) {
                    for (size_t i = 0; i < mem->nslots; i++)
                        memcpy(&unpacked[i].n, payload + mem->slots_at + i * sizeof(int64_t), sizeof(int64_t));
                    slots = unpacked;
                }
                interp_env env = row_env(s, agg->source, NULL);
                env.period = in->period;
                env.slots = slots;
                if (!interp_true(&env, agg->having)) continue;
                if (mem->passed_at != SIZE_MAX) payload[mem->passed_at] = 1;
            }
            counts[m * cells + en.cell]++;
        }
    }
    for (size_t m = 0; m < run->member_count; m++)
        for (size_t pos = 0; pos < run->count; pos++) {
            inst_state *st = run->instances[m * run->count + pos]->state;
            st->result = xcalloc(groups, sizeof *st->result);
            for (size_t g = 0; g < groups; g++)
                st->result[g] = eval_num(dec_from_int64(counts[m * cells + pos * groups + g]));
            st->done = true;
        }
    free(counts);
    free(unpacked);
    free(sets);
}

/* Whether the key is a member of SET in PERIOD (sets are company-wide: the total group). */
static bool set_has(eval_session *s, const ir_agg *set, period_t period, const void *key, size_t len)
{
    return state_has(s, set_state(s, set, period), ks_hash(key, len), key, len);
}

/* ---- the pass over one source ------------------------------------------------------------
 *
 * With one thread the rows go straight into the instances' accumulators. With more,
 * the file is cut into chunks at record boundaries (csv_reader.h) and each worker
 * parses chunks into count/sum/avg/min/max accumulators of its own, merged exactly at
 * the end (counts and decimal sums add, min and max compare). Distinct keys need no
 * merge: every worker adds them to the key run's store (keystore.h), shared by all.
 * So the result does not depend on the number of threads or on how the file was cut. */

enum { CHUNK_BYTES = 8 << 20 };

typedef struct shared_pass shared_pass;


/* The instances of one aggregate in a pass: instances[first .. first + count), sorted
 * by window start. When the windows do not overlap (one per period, the common case)
 * a row's date finds its only instance by binary search instead of a scan. */
typedef struct agg_run {
    plan_agg *agg;
    size_t first, count;
    bool disjoint;
} agg_run;

typedef struct pass_ctx {
    /* Workers' contexts sit side by side, and each bumps its counters on every row:
     * a cache line of its own keeps them from bouncing between cores. */
    _Alignas(64) eval_session *s;
    const ast_decl *source;
    eval_source_stats stats;   /* this worker's counts */
    plan_instance **instances;
    size_t count;
    const struct agg_run *runs; /* the instances grouped by aggregate */
    ks_writer **writers;       /* [run_count]: this worker's writer of each key run it leads */
    struct key_run *const *key_runs; /* [run_count]: the key run of each distinct run (NULL:
                                  not distinct), shared by the runs of one key family */
    const bool *follows;       /* [run_count]: a distinct run whose keys its family's
                                  first run records: nothing to do per row */
    unsigned char *record;     /* scratch for add_key: the largest record of any run */
    size_t run_count;
    /* The union of every instance's window, as disjoint sorted intervals: a row whose
     * date lies outside all of them (most rows, for one period) is counted and left. */
    const period_interval *spans;
    size_t span_count;
    inst_state **states;       /* [count]: where this worker accumulates */
    int time_cell, staff_cell;
    bool staff_is_int;
    progress prog;
    uint64_t unknown_staff;
    uint64_t unknown_chunk;    /* chunk of the example, to pick a deterministic one */
    char unknown_example[64];
    reject *rejects;
    size_t reject_count, reject_cap;
    shared_pass *shared;       /* NULL with one thread */
    uint64_t chunk;            /* index of the chunk being parsed */
    /* coverage (the first read of a timed source): the earliest and latest time cell
     * this worker saw, and which of the checked periods some row fell in */
    const period_t *cover;     /* sorted by start, disjoint */
    size_t cover_count;
    unsigned char *covered;    /* [cover_count] */
    date_t first_date, last_date;
    /* the source's key */
    uint64_t chunk_record;     /* records (good or bad) delivered so far in this chunk;
                                  counted only for a key, the only user of ordinals */
    key_check *key;            /* NULL: no key, or a later read without skipped keys */
    key_mode key_mode;
    ksf_writer *key_writer;    /* KEYS_RECORD */
    unsigned char *key_buf;    /* the row's encoded key */
    size_t key_cap;
    uint64_t empty_keys;       /* KEYS_RECORD: rows with an empty key cell */
    key_row_seen *seen;        /* KEYS_LOCATE */
    size_t seen_count, seen_cap;
} pass_ctx;

struct shared_pass {
    pthread_mutex_t lock;
    csvr_reader *reader;
    size_t chunk_bytes;
    bool done;
    uint64_t error_chunk;      /* lowest chunk with an error; UINT64_MAX: none */
    csvr_error error;
    bool planning_failed;
};

static inst_state *new_state(eval_session *s, const plan_agg *agg)
{
    inst_state *st = xcalloc(1, sizeof *st);
    /* a distinct instance gets its key run from read_source */
    if (agg->kind != IR_AGG_DISTINCT) st->accs = xcalloc((size_t)s->groups, sizeof *st->accs);
    return st;
}

static csvr_verdict on_bad_row(void *ctx, const csvr_bad_row *bad)
{
    pass_ctx *p = ctx;
    eval_session *s = p->s;
    if (p->key) p->chunk_record++;
    if (!s->options.skip_bad_rows) return CSVR_STOP;
    p->stats.skipped++;
    if (s->options.rejects_path) {
        bytes b = {0};
        char num[64];
        bytes_field(&b, p->source->name, strlen(p->source->name), false);
        bytes_field(&b, bad->error->path, strlen(bad->error->path), false);
        snprintf(num, sizeof num, "%llu", (unsigned long long)bad->error->line);
        bytes_field(&b, num, strlen(num), false);
        snprintf(num, sizeof num, "%llu", (unsigned long long)bad->error->field);
        bytes_field(&b, num, strlen(num), false);
        bytes_field(&b, bad->error->message, strlen(bad->error->message), false);
        bytes_field(&b, bad->raw, bad->raw_len, true);
        if (p->reject_count == p->reject_cap) {
            p->reject_cap = p->reject_cap ? p->reject_cap * 2 : 16;
            p->rejects = xrealloc(p->rejects, p->reject_cap * sizeof *p->rejects);
        }
        p->rejects[p->reject_count++] = (reject){ bad->error->line, b.data, b.len };
    }
    return CSVR_SKIP;
}

/* ---- keys ---------------------------------------------------------------------------- */

/* The ordinal of the record being delivered: its chunk and its place in the chunk, so
 * ordinals follow file order, and two passes cut alike give a record the same one. */
static uint64_t record_ordinal(const pass_ctx *p)
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
        case COLTYPE_NUMBER: case COLTYPE_MONEY:
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
static void key_value_text(bytes *b, ast_coltype type, const csvr_cell *c)
{
    char buf[DEC_FORMAT_SIZE + DATE_FORMAT_SIZE];
    size_t n;
    switch (type) {
    case COLTYPE_TEXT:
        bytes_append(b, "\"", 1);
        bytes_append(b, c->as.text.ptr, c->as.text.len);
        bytes_append(b, "\"", 1);
        return;
    case COLTYPE_INT: n = (size_t)snprintf(buf, sizeof buf, "%lld", (long long)c->as.i); break;
    case COLTYPE_NUMBER: case COLTYPE_MONEY:
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
    bytes_append(b, buf, n);
}

/* The key of a row as messages name it: `order_id "A1001"`, or for a key of several
 * columns `(order_id, line_no) ("A1001", 2)`. Malloc'd. */
static char *key_text(const pass_ctx *p, const csvr_cell *cells)
{
    const key_check *k = p->key;
    const ast_column *cols = p->source->u.source.columns;
    bytes b = {0};
    if (k->count > 1) bytes_append(&b, "(", 1);
    for (int j = 0; j < k->count; j++) {
        if (j) bytes_append(&b, ", ", 2);
        const char *name = cols[k->columns[j]].name;
        bytes_append(&b, name, strlen(name));
    }
    bytes_append(&b, k->count > 1 ? ") (" : " ", k->count > 1 ? 3 : 1);
    for (int j = 0; j < k->count; j++) {
        if (j) bytes_append(&b, ", ", 2);
        key_value_text(&b, cols[k->columns[j]].type, &cells[k->columns[j]]);
    }
    if (k->count > 1) bytes_append(&b, ")", 1);
    bytes_append(&b, "", 1);
    return b.data;
}

static void add_seen(pass_ctx *p, const csvr_row *row, uint64_t ordinal, bool empty, int column,
                     uint64_t h, size_t len)
{
    if (p->seen_count == p->seen_cap) {
        p->seen_cap = p->seen_cap ? p->seen_cap * 2 : 16;
        p->seen = xrealloc(p->seen, p->seen_cap * sizeof *p->seen);
    }
    size_t raw_len;
    const char *raw = csvr_row_raw(row, &raw_len);
    key_row_seen *ks = &p->seen[p->seen_count++];
    *ks = (key_row_seen){ csvr_row_line(row), ordinal, empty, column, h, NULL, len,
                          empty ? NULL : key_text(p, row->cells), xmalloc(raw_len + 1), raw_len };
    memcpy(ks->raw, raw, raw_len);
    if (!empty) {
        ks->bytes = xmalloc(len + 1);
        memcpy(ks->bytes, p->key_buf, len);
    }
}

/* The key work of one good row. False when the row is to be skipped for its key (a
 * read after the key check, under --skip-bad-rows). */
static bool key_row(pass_ctx *p, const csvr_row *row, uint64_t ordinal)
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

/* A row's contribution to one `having` slot, as carried to the key store: the store
 * applies it later, when the row is gone, so a text value keeps only its kind (all
 * that count() and the null rules look at). */
typedef struct slot_input {
    val_t v;
    bool counted;              /* the slot's own where held */
} slot_input;

/* The key store's apply function: adds a record's slot inputs to each member's
 * slots in a key's payload. */
static void apply_slots(void *ctx, void *payload, const void *extra)
{
    const key_run *run = ctx;
    unsigned char *pay = payload;
    const unsigned char *rec = extra;
    for (size_t m = 0; m < run->member_count; m++) {
        const key_member *mem = &run->members[m];
        if (mem->counts_only) {
            int64_t *counts = (int64_t *)(pay + mem->slots_at);
            for (size_t i = 0; i < mem->nslots; i++) counts[i] += rec[mem->inputs_at + i];
            continue;
        }
        acc *slots = (acc *)(pay + mem->slots_at);
        const slot_input *in = (const slot_input *)(rec + mem->inputs_at);
        for (size_t i = 0; i < mem->nslots; i++) {
            if (!in[i].counted) continue;
            acc_add(&slots[i], mem->agg->ir->slots[i]->u.group.kind, &in[i].v);
        }
    }
}

static bool slot_is_count(const ir_node *slot)
{
    return slot->u.group.kind == IR_AGG_COUNT;
}

/* Records a row's key for the instance at POS of a key run (for all its members): in
 * the total and, when GROUP is a staff group, in that group too. */
static void add_key(pass_ctx *p, size_t run_index, const interp_env *r, uint32_t pos, int group,
                    const void *key, size_t len, uint64_t h)
{
    const key_run *run = p->key_runs[run_index];
    unsigned char *rec = p->record;
    for (size_t m = 0; m < run->member_count; m++) {
        const key_member *mem = &run->members[m];
        for (size_t i = 0; i < mem->nslots; i++) {
            const ir_node *slot = mem->agg->ir->slots[i];
            bool counted = interp_true(r, slot->u.group.where);
            if (mem->counts_only) {
                rec[mem->inputs_at + i] = counted;
                continue;
            }
            slot_input *in = (slot_input *)(rec + mem->inputs_at) + i;
            in->counted = counted;
            if (counted && slot->u.group.arg) interp_eval(r, slot->u.group.arg, &in->v);
            else val_set_null(&in->v);
            if (in->v.kind == VAL_TEXT) val_set_text(&in->v, NULL, 0);
        }
    }
    uint32_t groups = (uint32_t)p->s->groups;
    uint32_t cell_b = run->staff_cells && group >= 0 ? pos * groups + (uint32_t)group : KS_NO_CELL;
    ks_add(p->writers[run_index], h, key, len, pos * groups + groups - 1, cell_b, rec);
}

static int staff_group(pass_ctx *p, const csvr_cell *cell)
{
    eval_session *s = p->s;
    if (p->staff_cell < 0 || cell->is_null) return -1;
    csvr_text text = cell->as.text;
    char digits[32];
    if (p->staff_is_int) {
        /* int staff ids are matched by their digits */
        text.len = (size_t)snprintf(digits, sizeof digits, "%lld", (long long)cell->as.i);
        text.ptr = digits;
    }
    uint32_t g = strtab_find(&s->staff_ids, text.ptr, text.len);
    if (g == HMAP_NONE) {
        if (p->unknown_staff++ == 0 || p->chunk < p->unknown_chunk) {
            size_t n = text.len < sizeof p->unknown_example - 1 ? text.len : sizeof p->unknown_example - 1;
            memcpy(p->unknown_example, text.ptr, n);
            p->unknown_example[n] = '\0';
            p->unknown_chunk = p->chunk;
        }
        return -1;
    }
    return (int)g;
}

static bool on_row(void *ctx, const csvr_row *row)
{
    pass_ctx *p = ctx;
    eval_session *s = p->s;
    /* a worker past the first chunk that failed stops: that error is the one reported */
    if (p->shared && p->chunk > __atomic_load_n(&p->shared->error_chunk, __ATOMIC_RELAXED))
        return false;
    if (p->key && !key_row(p, row, record_ordinal(p))) {
        p->chunk_record++;
        p->stats.skipped++;
        return true;
    }
    if (p->key) p->chunk_record++;
    p->stats.rows++;
    p->prog.rows++;
    if ((p->prog.rows & 0xffff) == 0) progress_tick(&p->prog, false);
    bool timed = p->time_cell >= 0;
    date_t when = 0;
    if (timed) {
        const csvr_cell *t = &row->cells[p->time_cell];
        if (t->is_null) {
            p->stats.outside_periods++;
            return true;
        }
        when = t->as.date;
        if (when < p->first_date) p->first_date = when;
        if (when > p->last_date) p->last_date = when;
        if (p->cover_count) {
            size_t lo = 0, hi = p->cover_count;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (p->cover[mid].start <= when) lo = mid + 1;
                else hi = mid;
            }
            if (lo && when < p->cover[lo - 1].end) p->covered[lo - 1] = 1;
        }
        size_t lo = 0, hi = p->span_count;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (p->spans[mid].from <= when) lo = mid + 1;
            else hi = mid;
        }
        if (lo == 0 || when >= p->spans[lo - 1].to) return true;
    }
    /* the staff lookup hashes the id: only rows inside some window pay for it */
    int group = -2;
    int total = s->groups - 1;
    unsigned char key_buf[sizeof(dec_t)];
    const void *key = NULL;
    size_t key_len = 0;
    uint64_t key_hash = 0;
    bool hashed = false;
    interp_env r = row_env(s, p->source, row->cells);
    for (size_t ri = 0; ri < p->run_count; ri++) {
        if (p->follows[ri]) continue; /* its key family's first run records the keys */
        const agg_run *run = &p->runs[ri];
        plan_agg *agg = run->agg;
        size_t from = run->first, to = run->first + run->count;
        bool staff = agg->per_staff || (p->key_runs[ri] && p->key_runs[ri]->staff_cells);
        if (timed && run->disjoint) {
            /* the last window starting on or before the row's date, if it covers it */
            size_t lo = from, hi = to;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (p->instances[mid]->window.from <= when) lo = mid + 1;
                else hi = mid;
            }
            if (lo == from || when >= p->instances[lo - 1]->window.to) continue;
            from = lo - 1;
            to = lo;
        }
        bool evaluated = false, pass_all = false, keyed = false;
        val_t value;
        val_set_null(&value);
        for (size_t i = from; i < to; i++) {
            plan_instance *in = p->instances[i];
            if (timed && (when < in->window.from || when >= in->window.to)) continue;
            r.period = in->period;
            /* the where and the argument are the same for every period unless they
             * mention it: computed once per aggregate and row */
            if (!evaluated || agg->where_uses_period || agg->arg_uses_period) {
                pass_all = !agg->where || interp_true(&r, agg->where);
                if (pass_all) {
                    if (agg->arg) interp_eval(&r, agg->arg, &value);
                    else val_set_null(&value);
                    keyed = agg->kind == IR_AGG_DISTINCT && value.kind != VAL_NULL;
                    if (keyed) {
                        const void *prev = key;
                        size_t prev_len = key_len;
                        key_len = val_key(&value, key_buf, &key);
                        /* aggregates over one column (distinct and its having variants)
                         * share the row's key: hash it once */
                        if (!hashed || key != prev || key_len != prev_len || key == key_buf)
                            key_hash = ks_hash(key, key_len);
                        hashed = true;
                    }
                }
                evaluated = true;
            }
            if (!pass_all) continue;
            if (staff && group == -2)
                group = p->staff_cell >= 0 ? staff_group(p, &row->cells[p->staff_cell]) : -1;
            int own = staff ? group : -1;
            if (agg->kind == IR_AGG_DISTINCT) {
                if (keyed) add_key(p, ri, &r, (uint32_t)(i - run->first), own, key, key_len, key_hash);
                continue;
            }
            inst_state *st = p->states[i];
            acc_add(&st->accs[total], agg->kind, &value);
            if (own >= 0) acc_add(&st->accs[own], agg->kind, &value);
        }
    }
    return true;
}

static void acc_merge(acc *dst, const acc *src, ir_agg_kind kind)
{
    dst->n += src->n;
    dst->overflow |= src->overflow;
    if (kind == IR_AGG_COUNT || !src->has) return;
    if (kind == IR_AGG_SUM || kind == IR_AGG_AVG) {
        if (dec_add(dst->sum, src->sum, &dst->sum) != DEC_OK) dst->overflow = true;
        dst->has = true;
        return;
    }
    if (!dst->has) {
        dst->best = src->best;
        dst->best_date = src->best_date;
        dst->has = true;
        return;
    }
    bool min = kind == IR_AGG_MIN;
    int c = dec_cmp(src->best, dst->best);
    if (min ? c < 0 : c > 0) dst->best = src->best;
    if (min ? src->best_date < dst->best_date : src->best_date > dst->best_date)
        dst->best_date = src->best_date;
}

/* Adds a worker's count/sum/avg/min/max accumulators into the instance's (distinct
 * keys need no merge: every worker adds them to the run's shared store). */
static void merge_state(eval_session *s, const plan_agg *agg, inst_state *dst, const inst_state *src)
{
    for (int g = 0; g < s->groups; g++) acc_merge(&dst->accs[g], &src->accs[g], agg->kind);
}

static void *pass_worker(void *arg)
{
    pass_ctx *p = arg;
    shared_pass *sh = p->shared;
    csvr_handlers h = { on_row, on_bad_row, p };
    for (;;) {
        csvr_chunk chunk;
        csvr_error err;
        pthread_mutex_lock(&sh->lock);
        if (sh->done || sh->error_chunk != UINT64_MAX) {
            pthread_mutex_unlock(&sh->lock);
            break;
        }
        csvr_plan plan = csvr_next_chunk(sh->reader, sh->chunk_bytes, &chunk, &err);
        if (plan == CSVR_PLAN_DONE) sh->done = true;
        if (plan == CSVR_PLAN_ERROR) {
            sh->planning_failed = true;
            sh->error = err;
            sh->done = true;
        }
        pthread_mutex_unlock(&sh->lock);
        if (plan != CSVR_PLAN_CHUNK) break;
        p->chunk = chunk.index;
        p->chunk_record = 0;
        csvr_status st = csvr_read_chunk(sh->reader, &chunk, &h, &err);
        if (st == CSVR_ERROR) {
            pthread_mutex_lock(&sh->lock);
            if (chunk.index < sh->error_chunk) {
                __atomic_store_n(&sh->error_chunk, chunk.index, __ATOMIC_RELAXED);
                sh->error = err;
            }
            pthread_mutex_unlock(&sh->lock);
        }
    }
    return NULL;
}

static int compare_intervals(const void *a, const void *b)
{
    const period_interval *x = a, *y = b;
    return (x->from > y->from) - (x->from < y->from);
}

static int compare_instances(const void *a, const void *b)
{
    const plan_instance *x = *(plan_instance *const *)a, *y = *(plan_instance *const *)b;
    /* grouped by aggregate, so on_row computes each aggregate's where once per row */
    if (x->agg->id != y->agg->id) return x->agg->id < y->agg->id ? -1 : 1;
    if (x->window.from != y->window.from) return (x->window.from > y->window.from) - (x->window.from < y->window.from);
    return (x->period.start > y->period.start) - (x->period.start < y->period.start);
}

static int thread_count(const eval_session *s)
{
    if (s->options.threads > 0) return s->options.threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* A pass reads and converts every declared column, used by this run or not, so that
 * a bad cell stops the run (or is skipped and counted) whichever indicators are asked
 * for (docs/cli.md; docs/decisions.md). Cell i is declared column i. */
static size_t pass_columns(const ast_decl *src, csvr_column *cols, int *time_cell, int *staff_cell)
{
    int ncols = src->u.source.column_count;
    for (int c = 0; c < ncols; c++) {
        const ast_column *col = &src->u.source.columns[c];
        if (col->is_time) *time_cell = c;
        if (col->is_staff) *staff_cell = c;
        cols[c].name = ast_column_header(col);
        cols[c].type = csv_type(col->type);
    }
    return (size_t)ncols;
}

/* Every declared column must be in the header, used by this run or not: a spec that
 * names a column the export lacks is wrong whatever is asked of it (docs/language.md §3). */
static bool header_has_declared_columns(eval_session *s, const ast_decl *src, csvr_reader *reader,
                                        const char *path)
{
    size_t fields = csvr_header_size(reader);
    bool ok = true;
    for (int c = 0; c < src->u.source.column_count; c++) {
        const char *name = ast_column_header(&src->u.source.columns[c]);
        bool found = false;
        for (size_t f = 0; f < fields && !found; f++) found = !strcmp(csvr_header_name(reader, f), name);
        if (found) continue;
        char header[4 * CSVR_MESSAGE_MAX];
        csvr_header_listing(reader, header, sizeof header);
        diagnostic *d = diag_report_data(s->diags, DIAG_ERROR, path, 1, 0, "data",
                                         "column '%s' of source '%s' is not in the header; the header has: %s",
                                         name, src->name, header);
        const char *near = csvr_header_near(reader, name);
        const char *like = csvr_header_looks_like(reader);
        if (near)
            diag_hint(s->diags, d, "did you mean \"%s\"? it differs in case or spaces: fix the "
                                   "export, or write header \"%s\" on the column", near, near);
        else if (like)
            diag_hint(s->diags, d, "the header is not UTF-8: the file looks like %s; declare "
                                   "encoding \"%s\" in the source block",
                      strcmp(like, "GB18030") ? like : "GBK/GB18030", like);
        ok = false;
    }
    return ok;
}

/* Whether two distinct runs collect the same keys: one key family (plan.h), over
 * the same instances' windows and periods, so one key run can serve both. */
static bool same_keys(const agg_run *a, const agg_run *b, plan_instance **instances)
{
    if (a->agg->key_family < 0 || a->agg->key_family != b->agg->key_family || a->count != b->count)
        return false;
    for (size_t j = 0; j < a->count; j++) {
        const plan_instance *x = instances[a->first + j], *y = instances[b->first + j];
        if (x->window.from != y->window.from || x->window.to != y->window.to ||
            x->period.start != y->period.start || x->period.end != y->period.end)
            return false;
    }
    return true;
}

/* ---- coverage ------------------------------------------------------------------------------
 *
 * A timed source with no rows in a period it is read for, or whose rows stop well before
 * the period ends (an export taken before the period closed), would give figures computed from nothing or from part of the period, with no
 * sign of it: everyone scored 0. The pass notes the earliest and latest time cell and
 * which periods some row fell in, and the run warns (docs/cli.md, Warnings). */

static int compare_periods(const void *a, const void *b)
{
    const period_t *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

/* The periods a timed source is checked in: every period some instance over it is
 * evaluated for, at any level: the requested periods and those that previous() and
 * last_year() reach. Sorted and without repeats; they share the spec's grain, so they
 * do not overlap. */
static period_t *coverage_periods(eval_session *s, const ast_decl *src, size_t *count)
{
    period_t *out = arena_alloc(&s->mem, (s->plan.instances.len + 1) * sizeof *out);
    size_t n = 0;
    for (size_t i = 0; i < s->plan.instances.len; i++) {
        const plan_instance *in = s->plan.instances.items[i];
        if (in->agg->source == src) out[n++] = in->period;
    }
    qsort(out, n, sizeof *out, compare_periods);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (!kept || out[i].start != out[kept - 1].start) out[kept++] = out[i];
    *count = kept;
    return out;
}

/* How many days a source's last row may lie before the last day of a period before
 * the export counts as cut short: about a week
 * in a month, so that a quiet last weekend or a holiday does not warn. A day has no
 * such margin: it has rows or it has none. */
static int32_t coverage_margin(ast_grain grain)
{
    switch (grain) {
    case GRAIN_WEEK: return 2;
    case GRAIN_MONTH: return 7;
    case GRAIN_QUARTER: return 14;
    case GRAIN_YEAR: return 31;
    default: return -1;
    }
}

static bool period_requested(const eval_session *s, period_t p)
{
    for (size_t i = 0; i < s->period_count; i++)
        if (s->periods[i].start == p.start) return true;
    return false;
}

/* Appends to B the labels of the periods of COVER not COVERED that are (REQUESTED) or
 * are not requested, as "A, B and C"; returns how many. */
static size_t append_periods(bytes *b, const eval_session *s, const period_t *cover, size_t count,
                             const unsigned char *covered, bool requested)
{
    size_t total = 0, at = 0;
    for (size_t i = 0; i < count; i++)
        if (!covered[i] && period_requested(s, cover[i]) == requested) total++;
    for (size_t i = 0; i < count; i++) {
        if (covered[i] || period_requested(s, cover[i]) != requested) continue;
        char label[PERIOD_LABEL_SIZE];
        size_t n = period_format(cover[i], label, sizeof label);
        if (at) bytes_append(b, at + 1 == total ? " and " : ", ", at + 1 == total ? 5 : 2);
        bytes_append(b, label, n);
        at++;
    }
    return total;
}

/* Warns about the periods of COVER a source has no rows in and whose dates it does not
 * reach, and about a last row well before the end of a period (FIRST > LAST: no row had
 * a date). */
static void report_coverage(eval_session *s, const ast_decl *src, const char *path,
                            const period_t *cover, size_t count, const unsigned char *covered,
                            date_t first, date_t last)
{
    const char *time_column = "";
    for (int c = 0; c < src->u.source.column_count; c++)
        if (src->u.source.columns[c].is_time) time_column = src->u.source.columns[c].name;
    char from[DATE_FORMAT_SIZE], to[DATE_FORMAT_SIZE];
    bool dated = first <= last;
    if (dated) {
        date_format(first, from, sizeof from);
        date_format(last, to, sizeof to);
    }
    /* A period without rows inside the span of the source's dates is a quiet period of a
     * sparse source (no project finished in June), not a missing export: only a period
     * the dates do not reach counts, or every period when no row has a date. */
    unsigned char *reached_by_dates = xmalloc(count + 1);
    for (size_t i = 0; i < count; i++)
        reached_by_dates[i] = covered[i] || (dated && cover[i].end - 1 >= first && cover[i].start <= last);
    bytes missing = {0}, reached = {0};
    size_t n_missing = append_periods(&missing, s, cover, count, reached_by_dates, true);
    size_t n_reached = append_periods(&reached, s, cover, count, reached_by_dates, false);
    free(reached_by_dates);
    bytes_append(&missing, "", 1);
    bytes_append(&reached, "", 1);
    const char *hint = "counts and sums over a period without rows are 0 and averages n/a, so "
                       "everyone's figures for it are computed from nothing; pass the export that "
                       "covers it (--data %s=PATH)";
    /* what the source's dates are, said the same way in both warnings */
    const char *dates = dated ? arena_printf(&s->mem, "its rows run from %s to %s (%s)", from, to, time_column)
                              : arena_printf(&s->mem, "no row has a %s date", time_column);
    if (n_missing) {
        diagnostic *d = diag_report_data(s->diags, DIAG_WARNING, path, 0, 0, "coverage",
                                         "source '%s' has no rows in %s; %s", src->name, missing.data, dates);
        diag_hint(s->diags, d, hint, src->name);
    }
    if (n_reached) {
        diagnostic *d = diag_report_data(s->diags, DIAG_WARNING, path, 0, 0, "coverage",
                                         "source '%s' has no rows in %s, which previous() or last_year() reaches; %s",
                                         src->name, reached.data, dates);
        diag_hint(s->diags, d, "a comparison with a period without rows (growth, change) compares with 0 or n/a; "
                               "pass an export that reaches back that far (--data %s=PATH)", src->name);
    }
    free(missing.data);
    free(reached.data);
    int32_t margin = dated && count ? coverage_margin(cover[0].grain) : -1;
    if (margin < 0) return;
    for (size_t i = 0; i < count; i++) {
        if (!covered[i]) continue;
        char label[PERIOD_LABEL_SIZE];
        period_format(cover[i], label, sizeof label);
        int32_t after_last = cover[i].end - 1 - last;   /* days of the period after the last row */
        if (after_last > margin) {
            diagnostic *d = diag_report_data(s->diags, DIAG_WARNING, path, 0, 0, "coverage",
                                             "source '%s' ends on %s, %d days before the end of %s: the export looks cut short",
                                             src->name, to, (int)after_last, label);
            diag_hint(s->diags, d, "kpic warns when the last %s is more than %d days before the last day of a %s; "
                                   "export the whole period, or pass the right file with --data %s=PATH",
                      time_column, (int)margin, ast_grain_name(cover[i].grain), src->name);
        }
    }
}

/* PASS_UNCACHED: a replay of the column cache failed part way; nothing of the pass is
 * kept, and the source is read again from its file. */
typedef enum pass_result { PASS_OK, PASS_FAILED, PASS_AGAIN, PASS_UNCACHED } pass_result;

static pass_result read_source_pass(eval_session *s, size_t source_index, int level, key_mode keys);

/* The declared columns of SOURCE that a pass's rows are read for: see used_columns. */
typedef struct column_use {
    const ast_decl *source;
    bool *used;
    size_t count;
    bool all;                  /* a column index out of range: take every column */
} column_use;

static void mark_columns(const ir_node *n, void *ctx)
{
    column_use *u = ctx;
    if (n->kind == IR_COLUMN && n->u.column.source == u->source) {
        if (n->u.column.index >= 0 && (size_t)n->u.column.index < u->count) u->used[n->u.column.index] = true;
        else u->all = true;
    }
    ir_each_child(n, mark_columns, ctx);
}

/* Which of SRC's N declared columns the pass over the instances MINE reads in its
 * rows: the time and staff cells, the key's, and every column of the aggregates'
 * row expressions (argument, where, having and its slots: the interpreter reads cells
 * only through IR_COLUMN). A replay of the column cache decodes only these. */
static bool *used_columns(const ast_decl *src, size_t n, int time_cell, int staff_cell, const key_check *key,
                          plan_instance *const *mine, size_t count)
{
    column_use u = { src, xcalloc(n + 1, sizeof *u.used), n, false };
    if (time_cell >= 0 && (size_t)time_cell < n) u.used[time_cell] = true;
    if (staff_cell >= 0 && (size_t)staff_cell < n) u.used[staff_cell] = true;
    for (int j = 0; j < key->count; j++)
        if (key->columns[j] >= 0 && (size_t)key->columns[j] < n) u.used[key->columns[j]] = true;
    for (size_t i = 0; i < count; i++) {
        const plan_agg *agg = mine[i]->agg;
        if (agg->arg) mark_columns(agg->arg, &u);
        if (agg->where) mark_columns(agg->where, &u);
        if (agg->having) mark_columns(agg->having, &u);
        for (size_t k = 0; k < agg->ir->slot_count; k++) mark_columns(agg->ir->slots[k], &u);
    }
    if (u.all)
        for (size_t c = 0; c < n; c++) u.used[c] = true;
    return u.used;
}

/* The source's key check, its columns resolved (the checker made sure they exist). */
static key_check *source_key(eval_session *s, size_t source_index)
{
    const ast_decl *src = s->model->sources.items[source_index];
    if (!s->key_checks) s->key_checks = arena_alloc(&s->mem, (s->model->sources.len + 1) * sizeof *s->key_checks);
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

/* Reads one source for one level. A source with a key, on its first read, is read again
 * when a key hash repeats or a key is empty (to find those rows), and once more under
 * --skip-bad-rows when rows are to be skipped for their key (key_mode). */
static bool read_source(eval_session *s, size_t source_index, int level)
{
    key_check *k = source_key(s, source_index);
    bool first_read = !s->stats[source_index].read;
    pass_result r = read_source_pass(s, source_index, level, k->count && first_read ? KEYS_RECORD : KEYS_NONE);
    if (r == PASS_UNCACHED) {
        s->cache_rebuild = true;
        r = read_source_pass(s, source_index, level, KEYS_NONE); /* a cached source has no key */
        s->cache_rebuild = false;
    }
    if (r == PASS_AGAIN) r = read_source_pass(s, source_index, level, KEYS_LOCATE);
    ksf_free(k->firsts);
    k->firsts = NULL;
    if (r == PASS_AGAIN) r = read_source_pass(s, source_index, level, KEYS_NONE);
    return r == PASS_OK;
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
    uint64_t first_line;       /* 0: an empty key */
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
static bool settle_keys(eval_session *s, const ast_decl *src, key_check *k, const char *path,
                        pass_ctx *workers, int threads)
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
        diagnostic *d = diag_report_data(s->diags, DIAG_ERROR, path, (unsigned)kp->row->line, field,
                                         "data", "%s", reason);
        free(reason);
        const char *counts = arena_printf(&s->mem, "%s%s%s",
            repeated ? arena_printf(&s->mem, "%llu row%s an earlier key", (unsigned long long)repeated,
                                    repeated == 1 ? " repeats" : "s repeat") : "",
            repeated && empty ? ", " : "",
            empty ? arena_printf(&s->mem, "%llu row%s an empty key", (unsigned long long)empty,
                                 empty == 1 ? " has" : "s have") : "");
        if (!kp->first_line)
            diag_hint(s->diags, d, "fill in the cell in the export, or run with --skip-bad-rows to skip such rows (--rejects FILE lists them); %s", counts);
        else
            diag_hint(s->diags, d, "remove the repeated row from the export, or run with --skip-bad-rows to keep the first row of each key (--rejects FILE lists the others); %s", counts);
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
                bytes b = {0};
                char num[64];
                bytes_field(&b, src->name, strlen(src->name), false);
                bytes_field(&b, path, strlen(path), false);
                snprintf(num, sizeof num, "%llu", (unsigned long long)kp->row->line);
                bytes_field(&b, num, strlen(num), false);
                snprintf(num, sizeof num, "%u", field);
                bytes_field(&b, num, strlen(num), false);
                bytes_field(&b, reason, strlen(reason), false);
                bytes_field(&b, kp->row->raw, kp->row->raw_len, true);
                free(reason);
                k->rejects[k->reject_count++] = (reject){ kp->row->line, b.data, b.len };
            }
        }
    }
    free(problems);
    free(rows);
    return ok;
}

static pass_result read_source_pass(eval_session *s, size_t source_index, int level, key_mode keys)
{
    const ast_decl *src = s->model->sources.items[source_index];
    eval_source_stats *stats = &s->stats[source_index];
    key_check *key = &s->key_checks[source_index];
    size_t runs_before = s->key_runs.len;
    ptr_vec mine = {0};
    for (size_t i = 0; i < s->plan.instances.len; i++) {
        plan_instance *in = s->plan.instances.items[i];
        if (in->agg->source == src && in->read_level == level) {
            ptr_vec_push(&s->mem, &mine, in);
            in->state = new_state(s, in->agg);
        }
    }
    if (!mine.len) return PASS_OK;
    qsort(mine.items, mine.len, sizeof *mine.items, compare_instances);
    agg_run *runs = arena_alloc(&s->mem, (mine.len + 1) * sizeof *runs);
    size_t run_count = 0;
    for (size_t i = 0; i < mine.len; i++) {
        plan_instance *in = mine.items[i];
        if (run_count && runs[run_count - 1].agg == in->agg) {
            agg_run *run = &runs[run_count - 1];
            plan_instance *prev = mine.items[i - 1];
            if (in->window.from < prev->window.to) run->disjoint = false;
            run->count++;
        } else {
            runs[run_count++] = (agg_run){ in->agg, i, 1, true };
        }
    }

    /* distinct runs: one key store per key family, shared by the family's runs over
     * the same instances, by their instances and by every thread */
    key_run **key_runs = arena_alloc(&s->mem, (run_count + 1) * sizeof *key_runs);
    bool *follows = arena_alloc(&s->mem, (run_count + 1) * sizeof *follows);
    size_t *member_run = arena_alloc(&s->mem, (run_count + 1) * sizeof *member_run);
    ptr_vec new_runs = {0};
    for (size_t ri = 0; ri < run_count; ri++) {
        agg_run *ar = &runs[ri];
        key_runs[ri] = NULL;
        follows[ri] = false;
        if (ar->agg->kind != IR_AGG_DISTINCT) continue;
        if ((uint64_t)ar->count * (uint64_t)s->groups >= UINT32_MAX) {
            diag_report_data(s->diags, DIAG_ERROR, source_path(s, src), 0, 0, "limit",
                             "distinct(%s) over %zu periods for %d staff groups exceeds kpic's limit of 2^32 period-group cells",
                             canonical_arg(s, ar->agg), ar->count, s->groups);
            s->failed = true;
            return PASS_FAILED;
        }
        size_t leader = ri;
        for (size_t rj = 0; rj < ri && leader == ri; rj++)
            if (key_runs[rj] && !follows[rj] && same_keys(&runs[rj], ar, (plan_instance **)mine.items)) leader = rj;
        key_run *kr = leader == ri ? xcalloc(1, sizeof *kr) : key_runs[leader];
        if (leader == ri) {
            kr->count = ar->count;
            kr->members = xcalloc(run_count, sizeof *kr->members);
            ptr_vec_push(&s->mem, &new_runs, kr);
        }
        follows[ri] = leader != ri;
        member_run[ri] = kr->member_count;
        kr->members[kr->member_count++].agg = ar->agg;
        kr->staff_cells |= ar->agg->per_staff;
        key_runs[ri] = kr;
    }
    size_t max_record = 0;
    for (size_t k = 0; k < new_runs.len; k++) {
        key_run *kr = new_runs.items[k];
        size_t payload = 0, record = 0;
        bool slots = false;
        for (size_t m = 0; m < kr->member_count; m++) {
            key_member *mem = &kr->members[m];
            mem->nslots = mem->agg->ir->slot_count;
            mem->counts_only = true;
            for (size_t j = 0; j < mem->nslots; j++)
                mem->counts_only = mem->counts_only && slot_is_count(mem->agg->ir->slots[j]);
            /* accs and slot inputs hold 16-byte decimals: start each member's part aligned */
            payload = (payload + 15) & ~(size_t)15;
            record = (record + 15) & ~(size_t)15;
            mem->slots_at = payload;
            mem->inputs_at = record;
            payload += mem->nslots * (mem->counts_only ? sizeof(int64_t) : sizeof(acc));
            record += mem->nslots * (mem->counts_only ? 1 : sizeof(slot_input));
            slots |= mem->nslots > 0;
        }
        for (size_t m = 0; m < kr->member_count; m++) {
            key_member *mem = &kr->members[m];
            mem->passed_at = mem->agg->set && mem->agg->having ? payload++ : SIZE_MAX;
        }
        kr->store = ks_new(payload, record, slots ? apply_slots : NULL, kr);
        kr->instances = xcalloc(kr->member_count * kr->count, sizeof *kr->instances);
        if (record > max_record) max_record = record;
        ptr_vec_push(&s->mem, &s->key_runs, kr);
    }
    for (size_t ri = 0; ri < run_count; ri++) {
        key_run *kr = key_runs[ri];
        if (!kr) continue;
        for (size_t j = 0; j < kr->count; j++) {
            plan_instance *in = mine.items[runs[ri].first + j];
            kr->instances[member_run[ri] * kr->count + j] = in;
            inst_state *st = in->state;
            st->keys = kr;
            st->member = (uint32_t)member_run[ri];
            st->pos = (uint32_t)j;
        }
    }

    period_interval *spans = arena_alloc(&s->mem, (mine.len + 1) * sizeof *spans);
    size_t span_count = 0;
    for (size_t i = 0; i < mine.len; i++) spans[span_count++] = ((plan_instance *)mine.items[i])->window;
    qsort(spans, span_count, sizeof *spans, compare_intervals);
    size_t merged = 0;
    for (size_t i = 0; i < span_count; i++) {
        if (merged && spans[i].from <= spans[merged - 1].to) {
            if (spans[i].to > spans[merged - 1].to) spans[merged - 1].to = spans[i].to;
        } else {
            spans[merged++] = spans[i];
        }
    }
    span_count = merged;

    int ncols = src->u.source.column_count;
    int time_cell = -1, staff_cell = -1;
    csvr_column *cols = xcalloc((size_t)ncols + 1, sizeof *cols);
    size_t n = pass_columns(src, cols, &time_cell, &staff_cell);
    bool staff_is_int = false;
    for (int c = 0; c < ncols; c++)
        if (src->u.source.columns[c].is_staff) staff_is_int = src->u.source.columns[c].type == COLTYPE_INT;

    const char *path = source_path(s, src);
    stats->path = path;
    /* a source read again for a later level is hashed and counted once */
    bool first_read = !stats->read;
    csvr_error err;
    /* missing columns are reported below, each with its source's name, all at once */
    unsigned flags = CSVR_MISSING_COLUMNS_OK | (first_read ? 0 : CSVR_NO_HASH | CSVR_READ_AGAIN);
    bool allowed = may_read_source(s, src, path);
    csvr_reader *reader = allowed ? open_declared(s, src, path, cols, n, flags, &err) : NULL;
    if (!reader) {
        free(cols);
        if (!allowed) return false;
        report_csv_error(s, &err);
        return PASS_FAILED;
    }
    free(cols);
    if (!header_has_declared_columns(s, src, reader, path)) {
        csvr_close(reader);
        s->failed = true;
        return PASS_FAILED;
    }
    for (int j = 0; j < key->count; j++)
        for (size_t f = 0; f < csvr_header_size(reader); f++)
            if (!strcmp(csvr_header_name(reader, f), src->u.source.columns[key->columns[j]].name))
                key->fields[j] = (unsigned)f + 1;
    if (keys == KEYS_RECORD) {
        key->firsts = ksf_new();
    }
    /* the column cache replays rows without their lines and bytes, which a key's
     * check reports: a source with a key is always read from its file */
    if (s->options.cache_dir && !key->count) {
        csvr_use_cache(reader, s->options.cache_dir,
                       (s->options.verify_data ? CSVR_CACHE_VERIFY : 0) | (s->cache_rebuild ? CSVR_CACHE_REBUILD : 0));
        bool *used = used_columns(src, n, time_cell, staff_cell, key, (plan_instance *const *)mine.items, mine.len);
        csvr_set_used_columns(reader, used);
        free(used);
    }
    uint64_t total_bytes = 0, ignored;
    csvr_progress(reader, &ignored, &total_bytes);
    int threads = thread_count(s);
    size_t chunk_bytes = s->options.chunk_bytes ? s->options.chunk_bytes : CHUNK_BYTES;
    /* a file of a chunk or two gains nothing from threads; a pipe is read in order */
    if ((uint64_t)chunk_bytes * 2 > total_bytes || !csvr_is_seekable(reader)) threads = 1;

    size_t cover_count = 0;
    const period_t *cover = time_cell >= 0 && first_read ? coverage_periods(s, src, &cover_count) : NULL;

    pass_ctx *workers = xcalloc_aligned(_Alignof(pass_ctx), (size_t)threads, sizeof *workers);
    shared_pass sh = { .reader = reader, .chunk_bytes = chunk_bytes, .error_chunk = UINT64_MAX };
    pthread_mutex_init(&sh.lock, NULL);
    for (int w = 0; w < threads; w++) {
        pass_ctx *p = &workers[w];
        p->s = s;
        p->source = src;
        p->instances = (plan_instance **)mine.items;
        p->count = mine.len;
        p->runs = runs;
        p->run_count = run_count;
        p->spans = spans;
        p->span_count = span_count;
        p->states = xcalloc(mine.len + 1, sizeof *p->states);
        p->time_cell = time_cell;
        p->staff_cell = staff_cell;
        p->staff_is_int = staff_is_int;
        p->unknown_chunk = UINT64_MAX;
        p->prog.on = w == 0 && s->options.progress;
        p->prog.label = path;
        p->prog.reader = reader;
        clock_gettime(CLOCK_MONOTONIC, &p->prog.started);
        p->prog.last = p->prog.started;
        p->key_runs = key_runs;
        p->follows = follows;
        p->writers = xcalloc(run_count + 1, sizeof *p->writers);
        for (size_t ri = 0; ri < run_count; ri++)
            if (key_runs[ri] && !follows[ri]) p->writers[ri] = ks_writer_new(key_runs[ri]->store);
        p->record = xcalloc(max_record + 16, 1);
        p->cover = cover;
        p->cover_count = cover_count;
        p->covered = xcalloc(cover_count + 1, 1);
        p->first_date = DATE_MAX;
        p->last_date = DATE_MIN;
        p->key = key->count && (keys != KEYS_NONE || key->excluded_count) ? key : NULL;
        p->key_mode = keys;
        if (keys == KEYS_RECORD) p->key_writer = ksf_writer_new(key->firsts);
        /* alone, a worker accumulates straight into the instances; with others, into
         * its own accumulators, merged at the end (distinct keys are always shared) */
        for (size_t i = 0; i < mine.len; i++) {
            plan_instance *in = mine.items[i];
            bool own = threads > 1 && in->agg->kind != IR_AGG_DISTINCT;
            p->states[i] = own ? new_state(s, in->agg) : in->state;
        }
        if (threads > 1) p->shared = &sh;
    }
    /* a failed replay's rows are dropped: so are the scale misses they counted */
    uint64_t *misses_before = xcalloc(s->row_scale_count + 1, sizeof *misses_before);
    if (s->row_scale_count) memcpy(misses_before, s->row_scale_misses, s->row_scale_count * sizeof *misses_before);
    csvr_status status = CSVR_OK;
    if (threads == 1) {
        csvr_handlers h = { on_row, on_bad_row, &workers[0] };
        status = csvr_read(reader, &h, &err);
        if (status == CSVR_ERROR) sh.error = err;
    } else {
        pthread_t *tids = xcalloc((size_t)threads, sizeof *tids);
        bool *started = xcalloc((size_t)threads, sizeof *started);
        for (int w = 1; w < threads; w++)
            started[w] = pthread_create(&tids[w], NULL, pass_worker, &workers[w]) == 0;
        pass_worker(&workers[0]);
        for (int w = 1; w < threads; w++)
            if (started[w]) pthread_join(tids[w], NULL);
        free(started);
        free(tids);
        if (sh.error_chunk != UINT64_MAX || sh.planning_failed) status = CSVR_ERROR;
    }
    progress_tick(&workers[0].prog, true);
    pthread_mutex_destroy(&sh.lock);

    /* the key: read again when a key repeated or was empty; settled when it was */
    uint64_t empty_keys = 0;
    for (int w = 0; w < threads; w++) {
        if (status == CSVR_OK) ksf_writer_free(workers[w].key_writer);
        else ksf_writer_discard(workers[w].key_writer);
        workers[w].key_writer = NULL;
        empty_keys += workers[w].empty_keys;
    }
    bool uncached = status == CSVR_ERROR && sh.error.kind == CSVR_ERR_CACHE;
    if (uncached && s->row_scale_count) memcpy(s->row_scale_misses, misses_before, s->row_scale_count * sizeof *misses_before);
    free(misses_before);
    bool again = uncached || (keys == KEYS_RECORD && status == CSVR_OK && (ksf_repeats(key->firsts) || empty_keys));
    bool ok = status == CSVR_OK && !again;
    if (keys == KEYS_LOCATE && ok) {
        /* the rows found are reported, or skipped by the next read */
        if (settle_keys(s, src, key, path, workers, threads)) again = true;
        ok = false;
    }
    if (again) {
        /* nothing of this pass is kept: not its figures, counts, rejects or warnings */
        for (int w = 0; w < threads; w++) {
            for (size_t i = 0; i < workers[w].reject_count; i++) free(workers[w].rejects[i].text);
            workers[w].reject_count = 0;
        }
        first_read = false;
    }

    /* counts, rejects and unknown staff from every worker, in a fixed order */
    uint64_t unknown = 0, unknown_chunk = UINT64_MAX;
    const char *example = NULL;
    size_t reject_total = 0;
    for (int w = 0; w < threads; w++) {
        pass_ctx *p = &workers[w];
        if (first_read) {
            stats->rows += p->stats.rows;
            stats->skipped += p->stats.skipped;
            stats->outside_periods += p->stats.outside_periods;
        }
        unknown += p->unknown_staff;
        if (p->unknown_staff && (!example || p->unknown_chunk < unknown_chunk)) {
            unknown_chunk = p->unknown_chunk;
            example = p->unknown_example;
        }
        reject_total += p->reject_count;
    }
    if (first_read && key->reject_count) {
        /* the rows this read skipped for their key, as the key check worded them */
        pass_ctx *p = &workers[0];
        p->rejects = xrealloc(p->rejects, (p->reject_count + key->reject_count) * sizeof *p->rejects);
        memcpy(p->rejects + p->reject_count, key->rejects, key->reject_count * sizeof *key->rejects);
        p->reject_count += key->reject_count;
        reject_total += key->reject_count;
        free(key->rejects);
        key->rejects = NULL;
        key->reject_count = 0;
    }
    reject *all = xcalloc(reject_total + 1, sizeof *all);
    size_t k = 0;
    for (int w = 0; w < threads; w++)
        for (size_t i = 0; i < workers[w].reject_count; i++) all[k++] = workers[w].rejects[i];
    qsort(all, reject_total, sizeof *all, compare_rejects);
    for (size_t i = 0; i < reject_total; i++) {
        if (first_read) bytes_append(&s->rejects, all[i].text, all[i].len);
        free(all[i].text);
    }
    free(all);

    if (status == CSVR_ERROR && !uncached) report_csv_error(s, &sh.error);
    if (first_read) csvr_sha256_hex(reader, stats->sha256);
    if (csvr_cache_note(reader)) diag_report_data(s->diags, DIAG_NOTE, path, 0, 0, "cache", "%s", csvr_cache_note(reader));
    csvr_close(reader);
    if (!again) stats->read = true;
    /* after a failed pass the count depends on how far each thread got: say nothing */
    if (unknown && first_read && ok)
        diag_report_data(s->diags, DIAG_WARNING, path, 0, 0, "unknown-staff",
                         "%llu row%s credited to staff ids not in the roster (e.g. '%s'); %s in totals only",
                         (unsigned long long)unknown, unknown == 1 ? " is" : "s are", example,
                         unknown == 1 ? "it counts" : "they count");
    if (cover && ok) {
        date_t first = DATE_MAX, last = DATE_MIN;
        for (int w = 1; w < threads; w++)
            for (size_t i = 0; i < cover_count; i++) workers[0].covered[i] |= workers[w].covered[i];
        for (int w = 0; w < threads; w++) {
            if (workers[w].first_date < first) first = workers[w].first_date;
            if (workers[w].last_date > last) last = workers[w].last_date;
        }
        report_coverage(s, src, path, cover, cover_count, workers[0].covered, first, last);
    }
    for (int w = 0; w < threads; w++) {
        pass_ctx *p = &workers[w];
        for (size_t i = 0; i < mine.len; i++) {
            plan_instance *in = mine.items[i];
            if (p->states[i] == in->state) continue;
            if (ok) merge_state(s, in->agg, in->state, p->states[i]);
            free_inst_state(p->states[i]);
        }
        for (size_t ri = 0; ri < run_count; ri++) {
            if (ok) ks_writer_free(p->writers[ri]);
            else ks_writer_discard(p->writers[ri]);
        }
        for (size_t i = 0; i < p->seen_count; i++) {
            free(p->seen[i].key);
            free(p->seen[i].raw);
            free(p->seen[i].bytes);
        }
        free(p->seen);
        free(p->key_buf);
        free(p->writers);
        free(p->record);
        free(p->covered);
        free(p->states);
        free(p->rejects);
    }
    free(workers);
    if (again) {
        for (size_t i = 0; i < mine.len; i++) {
            plan_instance *in = mine.items[i];
            free_inst_state(in->state);
            in->state = NULL;
        }
        for (size_t i = runs_before; i < s->key_runs.len; i++) {
            key_run *run = s->key_runs.items[i];
            ks_free(run->store);
            free(run->instances);
            free(run->members);
            free(run);
        }
        s->key_runs.len = runs_before;
        return uncached ? PASS_UNCACHED : PASS_AGAIN;
    }
    if (!ok) return PASS_FAILED;
    /* sets first: distinct() instances of this pass may be intersected with them */
    for (int sets_first = 1; sets_first >= 0; sets_first--)
        for (size_t ri = 0; ri < run_count; ri++) {
            if (key_runs[ri]) {
                /* a key run holding a set finishes with the sets */
                bool has_set = false;
                for (size_t m = 0; m < key_runs[ri]->member_count; m++)
                    has_set |= key_runs[ri]->members[m].agg->set != NULL;
                if (!follows[ri] && has_set == sets_first) finish_key_run(s, key_runs[ri]);
                continue;
            }
            if ((runs[ri].agg->set != NULL) != sets_first) continue;
            for (size_t j = 0; j < runs[ri].count; j++) finish_instance(s, mine.items[runs[ri].first + j]);
        }
    return PASS_OK;
}

bool eval_overflow_check(eval_session *s)
{
    ast_expr *e = __atomic_load_n(&s->overflow_at, __ATOMIC_RELAXED);
    if (!e) return true;
    if (!s->overflow_reported) {
        s->overflow_reported = true;
        diagnostic *d = diag_report(s->diags, DIAG_ERROR, e->span, "overflow",
                                    "arithmetic overflow: a value of this expression leaves the exact decimal range (|value| < 1.7e20)");
        diag_hint(s->diags, d, "kpic never prints a rounded or wrapped figure; check the data for a misplaced decimal point");
    }
    s->failed = true;
    return false;
}

/* Registers every scale call in N (a row expression: an aggregate's argument, where
 * or having) so that rows can count their inputs outside every interval. */
static void collect_row_scales(const ir_node *n, void *ctx)
{
    eval_session *s = ctx;
    ir_each_child(n, collect_row_scales, s);
    if (n->kind != IR_SCALE) return;
    uint64_t key = (uint64_t)(uintptr_t)n;
    if (hmap_get(&s->row_scale_index, key) != HMAP_NONE) return;
    if (s->row_scale_count == s->row_scale_cap) {
        s->row_scale_cap = s->row_scale_cap ? s->row_scale_cap * 2 : 8;
        s->row_scale_calls = xrealloc(s->row_scale_calls, s->row_scale_cap * sizeof *s->row_scale_calls);
        s->row_scale_misses = xrealloc(s->row_scale_misses, s->row_scale_cap * sizeof *s->row_scale_misses);
    }
    hmap_put(&s->row_scale_index, key, (uint32_t)s->row_scale_count);
    s->row_scale_calls[s->row_scale_count] = n->syntax;
    s->row_scale_misses[s->row_scale_count++] = 0;
}

/* Under --skip-bad-rows, a warning per source that had rows skipped: a figure
 * computed without some rows must not pass for one computed from all of them. */
static void report_skipped_rows(eval_session *s)
{
    for (size_t k = 0; k < s->stats_count; k++) {
        const eval_source_stats *src = &s->stats[k];
        if (!src->read || src->skipped == 0) continue;
        diagnostic *d = diag_report_data(
            s->diags, DIAG_WARNING, src->path, 0, 0, "skipped-rows",
            "%llu bad row%s of source '%s' skipped (--skip-bad-rows); every figure from it leaves %s out",
            (unsigned long long)src->skipped, src->skipped == 1 ? "" : "s", src->name,
            src->skipped == 1 ? "it" : "them");
        if (s->options.rejects_path)
            diag_hint(s->diags, d, "%s has %s with the reason%s", s->options.rejects_path,
                      src->skipped == 1 ? "it" : "them", src->skipped == 1 ? "" : "s");
        else
            diag_hint(s->diags, d, "--rejects FILE writes %s with the reason%s",
                      src->skipped == 1 ? "it" : "them", src->skipped == 1 ? "" : "s");
    }
}

bool eval_execute(eval_session *s)
{
    s->executed = true;
    if (s->plan.shift_overflow) {
        kp_span none = { DIAG_NO_FILE, 0, 0 };
        diag_report(s->diags, DIAG_ERROR, none, "period", "a previous() or last_year() reaches before year 1");
        s->failed = true;
        return false;
    }
    if (!load_roster(s)) return false;
    if (s->options.given_values) return true; /* values computed elsewhere: no source is read */
    plan_schedule(&s->plan);
    for (size_t i = 0; i < s->plan.aggs.len; i++) {
        const plan_agg *agg = s->plan.aggs.items[i];
        if (agg->arg) collect_row_scales(agg->arg, s);
        if (agg->where) collect_row_scales(agg->where, s);
        if (agg->having) collect_row_scales(agg->having, s);
    }
    for (int level = 0; level <= s->plan.max_level; level++)
        for (size_t i = 0; i < s->model->sources.len; i++)
            if (!read_source(s, i, level)) {
                s->failed = true;
                return false;
            }
    if (s->options.skip_bad_rows) report_skipped_rows(s);
    if (!eval_overflow_check(s)) return false;
    return !s->failed;
}

bool eval_write_rejects(const eval_session *s, const char **why)
{
    if (!s->options.skip_bad_rows || !s->options.rejects_path) return true;
    static const char header[] = "source,file,line,field,reason,record\n";
    char *text = xmalloc(sizeof header + s->rejects.len);
    memcpy(text, header, sizeof header - 1);
    if (s->rejects.len) memcpy(text + sizeof header - 1, s->rejects.data, s->rejects.len);
    bool written = output_write_file(s->options.rejects_path, text, sizeof header - 1 + s->rejects.len, why) == 0;
    free(text);
    return written;
}

/* ---- evaluating expressions --------------------------------------------------------------- */

static eval_value indicator_at(eval_session *s, const ast_decl *ind, period_t period, int group)
{
    if (!ind->u.indicator.per_staff) group = -1;
    if (s->options.given_values)
        return s->options.given_values(s->options.given_values_ctx, ind, period,
                                       group >= 0 && (size_t)group < s->staff_count
                                           ? (s->staff[group].id ? s->staff[group].id : "") : NULL);
    uint64_t key = hash_u64((uint64_t)(uintptr_t)ind) ^ hash_u64(((uint64_t)(uint32_t)period.start << 20) ^ (uint64_t)(uint32_t)(group + 1));
    uint32_t at = hmap_get(&s->memo_index, key);
    if (at != HMAP_NONE) {
        memo_entry *m = &s->memo[at];
        if (m->decl == ind && m->start == period.start && m->group == group) return m->value;
    }
    interp_env env = { .leaves = &session_leaves, .ctx = s, .period = period, .group = group };
    val_t v;
    interp_eval(&env, ir_indicator(s->ir, ind), &v);
    eval_value value = val_to_eval(&v);
    if (at == HMAP_NONE) {
        if (s->memo_count == s->memo_cap) {
            s->memo_cap = s->memo_cap ? s->memo_cap * 2 : 256;
            s->memo = xrealloc(s->memo, s->memo_cap * sizeof *s->memo);
        }
        s->memo[s->memo_count] = (memo_entry){ ind, period.start, group, value };
        hmap_put(&s->memo_index, key, (uint32_t)s->memo_count++);
    }
    return value;
}

static eval_value aggregate_at(eval_session *s, plan_instance *in, int group, bool per_staff)
{
    if (!in || !in->state) return eval_null();
    inst_state *st = in->state;
    if (!st->result) return eval_null();
    int g = group >= 0 && per_staff && in->agg->per_staff ? group : s->groups - 1;
    return st->result[g];
}

int eval_compare_values(const eval_value *a, const eval_value *b, bool *ok)
{
    val_t x, y;
    val_from_eval(a, &x);
    val_from_eval(b, &y);
    return val_compare(&x, &y, ok);
}

/* A scale bound: a signed number or percent, or ±inf. */
static bool scale_bound(const ast_expr *e, dec_t *value, int *infinite)
{
    bool negative = false;
    if (e->kind == EX_UNARY) {
        negative = true;
        e = e->u.op.lhs;
    }
    *infinite = 0;
    if (e->kind == EX_INF) {
        *infinite = negative ? -1 : 1;
        return true;
    }
    if (!literal_number(e, value)) return false;
    if (negative) *value = dec_neg(*value);
    return true;
}

void eval_scale_input_text(const ast_decl *scale, dec_t x, char *buf, size_t size)
{
    bool percent = scale->u.scale.row_count > 0 &&
                   (scale->u.scale.rows[0].hi->kind == EX_PERCENT ||
                    scale->u.scale.rows[0].lo->kind == EX_PERCENT);
    eval_format_value(eval_num(x), percent ? UNIT_PERCENT : UNIT_NUMBER, buf, size);
}

int eval_scale_row(const ast_decl *scale, dec_t x)
{
    for (int i = 0; i < scale->u.scale.row_count; i++) {
        const ast_scale_row *row = &scale->u.scale.rows[i];
        dec_t lo = {0}, hi = {0};
        int lo_inf, hi_inf;
        if (!scale_bound(row->lo, &lo, &lo_inf) || !scale_bound(row->hi, &hi, &hi_inf)) continue;
        bool above_lo = lo_inf < 0 || (lo_inf == 0 && (row->lo_closed ? dec_cmp(x, lo) >= 0 : dec_cmp(x, lo) > 0));
        bool below_hi = hi_inf > 0 || (hi_inf == 0 && (row->hi_closed ? dec_cmp(x, hi) <= 0 : dec_cmp(x, hi) < 0));
        if (above_lo && below_hi) return i;
    }
    return -1;
}

eval_value eval_scale(const ast_decl *scale, dec_t x)
{
    int i = eval_scale_row(scale, x);
    if (i < 0) return eval_null();
    const ast_scale_row *row = &scale->u.scale.rows[i];
    dec_t lo = {0}, hi = {0}, from, to;
    int lo_inf, hi_inf, inf;
    scale_bound(row->lo, &lo, &lo_inf);
    scale_bound(row->hi, &hi, &hi_inf);
    if (!scale_bound(row->from, &from, &inf) || inf) return eval_null();
    if (!row->to) return eval_num(from);
    if (!scale_bound(row->to, &to, &inf) || inf || lo_inf || hi_inf) return eval_null();
    /* linear: from + (x − lo) × (to − from) / (hi − lo) */
    dec_t dx, span, rise, part, out;
    if (dec_sub(x, lo, &dx) || dec_sub(hi, lo, &span) || dec_sub(to, from, &rise) ||
        dec_mul(dx, rise, &part) || dec_div(part, span, DEC_PLACES, &part) || dec_add(from, part, &out))
        return eval_null();
    return eval_num(out);
}

static void note_scale_miss(const interp_env *env, const ast_expr *call, dec_t input)
{
    eval_session *s = env->ctx;
    uint64_t seen = hash_u64((uint64_t)(uintptr_t)call) ^
                    hash_u64(((uint64_t)(uint32_t)env->period.start << 20) ^ (uint64_t)(uint32_t)(env->group + 1));
    uint32_t tag = (uint32_t)((uint64_t)(uintptr_t)call >> 4) ^ (uint32_t)env->period.start ^ (uint32_t)env->group;
    if (hmap_get(&s->scale_miss_seen, seen) == tag) return;
    hmap_put(&s->scale_miss_seen, seen, tag);
    uint64_t key = (uint64_t)(uintptr_t)call;
    uint32_t at = hmap_get(&s->scale_miss_index, key);
    if (at != HMAP_NONE) {
        s->scale_misses[at].count++;
        return;
    }
    if (s->scale_miss_count == s->scale_miss_cap) {
        s->scale_miss_cap = s->scale_miss_cap ? s->scale_miss_cap * 2 : 8;
        s->scale_misses = xrealloc(s->scale_misses, s->scale_miss_cap * sizeof *s->scale_misses);
    }
    hmap_put(&s->scale_miss_index, key, (uint32_t)s->scale_miss_count);
    s->scale_misses[s->scale_miss_count++] = (scale_miss){ call, input, env->period, env->group, 1 };
}

void eval_report_scale_misses(eval_session *s)
{
    for (size_t i = 0; i < s->row_scale_count; i++) {
        uint64_t n = s->row_scale_misses[i];
        if (!n) continue;
        const ast_expr *call = s->row_scale_calls[i];
        diag_report(s->diags, DIAG_WARNING, call->span, "scale-range",
                    "%llu row value%s lay outside every interval of scale '%s'; %s null",
                    (unsigned long long)n, n == 1 ? "" : "s", call->ref->name, n == 1 ? "it is" : "they are");
    }
    for (size_t i = 0; i < s->scale_miss_count; i++) {
        const scale_miss *m = &s->scale_misses[i];
        char input[64], period[PERIOD_LABEL_SIZE], who[160];
        eval_scale_input_text(m->call->ref, m->input, input, sizeof input);
        period_format(m->period, period, sizeof period);
        if (m->group < 0 || (size_t)m->group >= s->staff_count)
            snprintf(who, sizeof who, "the company total");
        else
            snprintf(who, sizeof who, "staff '%s'", s->staff[m->group].id);
        diagnostic *d = diag_report(s->diags, DIAG_WARNING, m->call->span, "scale-range",
                                    "%s lies outside every interval of scale '%s' (%s, %s); the value is null",
                                    input, m->call->ref->name, period, who);
        if (m->count > 1)
            diag_hint(s->diags, d, "the same for %llu more value%s (other periods or staff members)",
                      (unsigned long long)(m->count - 1), m->count == 2 ? "" : "s");
    }
}

/* ---- the leaves ---- */

static void leaf_indicator(const interp_env *env, const ast_decl *indicator, val_t *out)
{
    eval_value v = indicator_at(env->ctx, indicator, env->period, env->group);
    val_from_eval(&v, out);
}

static void leaf_aggregate(const interp_env *env, const ir_node *n, val_t *out)
{
    eval_session *s = env->ctx;
    const ir_agg *agg = n->kind == IR_ROWS ? n->u.agg->rows : n->u.agg;
    eval_value v = aggregate_at(s, plan_find(&s->plan, agg, env->period), env->group, n->per_staff);
    val_from_eval(&v, out);
}

static void leaf_group(const interp_env *env, const ir_node *n, val_t *out)
{
    if (!env->slots) return;
    const acc *a = (const acc *)env->slots + n->u.group.slot;
    eval_value v = acc_result(a, n->u.group.kind, n->type == TYPE_DATE);
    if (v.kind == VAL_NUM) val_set_num(out, v.as.num);
    else if (v.kind == VAL_DATE) val_set_date(out, v.as.date);
}

static bool leaf_in_set(const interp_env *env, const ir_agg *set, const val_t *x)
{
    unsigned char buf[sizeof(dec_t)];
    const void *key;
    size_t len = val_key(x, buf, &key);
    return set_has(env->ctx, set, env->period, key, len);
}

static void leaf_staff_cell(const interp_env *env, const ir_node *n, val_t *out)
{
    eval_session *s = env->ctx;
    if (env->group < 0 || (size_t)env->group >= s->staff_count) return;
    val_from_eval(&s->staff_rows[env->group].values[n->u.column.index], out);
}

static void leaf_context(const interp_env *env, ir_kind which, val_t *out)
{
    const eval_kpi_context *kpi = env->kpi;
    if (!kpi) return;
    switch (which) {
    case IR_VALUE: val_from_eval(&kpi->value, out); return;
    case IR_TARGET: val_from_eval(&kpi->target, out); return;
    case IR_ACHIEVEMENT: val_from_eval(&kpi->achievement, out); return;
    case IR_SCORE: val_from_eval(&kpi->score, out); return;
    case IR_EMPLOYED: val_from_eval(&kpi->employed, out); return;
    default: return;
    }
}

/* A scale in a row expression (an aggregate's argument, where or having: counted by
 * every worker at once, reported per call) or in a figure (reported with the first
 * period and staff member it happened for). */
static void leaf_scale(const interp_env *env, const ir_node *n, dec_t x, val_t *out)
{
    eval_session *s = env->ctx;
    if (eval_scale_row(n->u.decl, x) < 0) {
        /* the map is complete before the pass and only read during it */
        uint32_t at = hmap_get(&s->row_scale_index, (uint64_t)(uintptr_t)n);
        if (at != HMAP_NONE) __atomic_fetch_add(&s->row_scale_misses[at], 1, __ATOMIC_RELAXED);
        else note_scale_miss(env, n->syntax, x);
    }
    eval_value v = eval_scale(n->u.decl, x);
    if (v.kind == VAL_NUM) val_set_num(out, v.as.num);
}

static void leaf_overflow(const interp_env *env, const ir_node *n)
{
    note_overflow(env->ctx, n->syntax);
}

static const interp_leaves session_leaves = {
    .indicator = leaf_indicator,
    .aggregate = leaf_aggregate,
    .group = leaf_group,
    .in_set = leaf_in_set,
    .staff_cell = leaf_staff_cell,
    .context = leaf_context,
    .scale = leaf_scale,
    .overflow = leaf_overflow,
};

eval_value eval_value_of(eval_session *s, ast_expr *expr, size_t period, int staff,
                         const eval_kpi_context *kpi)
{
    if (!s->executed || s->failed || period >= s->period_count) return eval_null();
    interp_env env = { .leaves = &session_leaves, .ctx = s, .period = s->periods[period], .group = staff,
                       .kpi = kpi };
    val_t v;
    interp_eval(&env, lowered(s, expr), &v);
    return val_to_eval(&v);
}

eval_value eval_rows_of(eval_session *s, const ast_expr *aggregate, size_t period, int staff)
{
    if (!s->executed || s->failed || period >= s->period_count) return eval_null();
    const ir_node *n = lowered(s, aggregate);
    if (n->kind != IR_AGGREGATE || !n->u.agg->rows) return eval_null();
    return aggregate_at(s, plan_find(&s->plan, n->u.agg->rows, s->periods[period]), staff, n->per_staff);
}

eval_value eval_indicator_value(eval_session *s, ast_decl *indicator, size_t period, int staff)
{
    if (!s->executed || s->failed || period >= s->period_count) return eval_null();
    return indicator_at(s, indicator, s->periods[period], staff);
}

bool eval_values_given(const eval_session *s)
{
    return s->options.given_values != NULL;
}

eval_value eval_employed(const eval_session *s, size_t period, int staff)
{
    if (staff < 0 || (size_t)staff >= s->staff_count || period >= s->period_count) return eval_null();
    const eval_staff *st = &s->staff[staff];
    period_fraction f = period_employed(s->periods[period], st->has_start ? &st->start : NULL,
                                        st->has_end ? &st->end : NULL);
    dec_t out;
    if (f.den == 0 || dec_div(dec_from_int64(f.num), dec_from_int64(f.den), DEC_PLACES, &out) != DEC_OK)
        return eval_null();
    return eval_num(out);
}
