/* eval_read.c — one pass over a source (eval_internal.h).
 *
 * Rows are placed by their time column, filtered by window and `where`, and offered to
 * every aggregate instance of the source, which adds them to the accumulators of the
 * company and of the row's staff member; at the end the instances are finished into
 * values. Files are opened here, bad rows reported or rejected, progress shown.
 */
#include "eval_internal.h"

#include <csv.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kpic/cellfmt.h"


/* ---- files and errors ---------------------------------------------------------------- */

/* Where a source's file is: --data NAME=PATH wins; a relative path is resolved against
 * --data-dir, or else the folder of the spec file that declares the source. */
const char *eval_source_path(eval_session *s, const ast_decl *src)
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
bool eval_may_read_source(eval_session *s, const ast_decl *src, const char *path)
{
    const char *name = src->kind == DECL_STAFF ? "staff" : src->name;
    for (size_t i = 0; i < s->options.override_count; i++)
        if (!strcmp(s->options.overrides[i].source, name)) return true;
    if (ast_spec_may_read(s->spec, path)) return true;
    diagnostic *d = diag_report(s->diags, DIAG_ERROR, src->u.source.path_span, "source-outside",
                                "the file of source '%s', '%s', is outside the project root %s", name, path,
                                s->spec->root);
    diag_hint(s->diags, d,
              "name the file on the command line with --data %s=PATH, or allow its "
              "folder with --allow-read DIR (docs/security.md)",
              name);
    s->failed = true;
    return false;
}

/* Opens SRC's file at PATH as its declaration says the export is written: in its
 * encoding, each column under its header name (COLS) and read with its format. The
 * checker has compiled every format already, so compiling one here cannot fail. */
csvr_reader *eval_open_declared(const eval_session *s, const ast_decl *src, const char *path,
                                const csvr_column *cols, size_t n, unsigned flags, csvr_error *err)
{
    const char *name = src->kind == DECL_STAFF ? "staff" : src->name;
    const eval_data_override *in_memory = NULL;
    for (size_t i = 0; i < s->options.override_count; i++)
        if (!strcmp(s->options.overrides[i].source, name) && s->options.overrides[i].bytes)
            in_memory = &s->options.overrides[i];
    csvr_reader *reader = in_memory
                              ? csvr_open_memory(path, in_memory->bytes, in_memory->size, cols, n, flags, err)
                              : csvr_open_encoded(path, src->u.source.encoding, cols, n, flags, err);
    for (size_t c = 0; reader && c < n; c++) {
        const ast_column *col = &src->u.source.columns[c];
        cfmt f;
        char why[256];
        bool compiled = col->true_word
                            ? cfmt_compile_bool(col->true_word, col->false_word, &f, why, sizeof why)
                        : !col->format              ? false
                        : col->type == COLTYPE_DATE ? cfmt_compile_date(col->format, &f, why, sizeof why)
                                                    : cfmt_compile_number(col->format, &f, why, sizeof why);
        if (compiled && !csvr_set_format(reader, c, &f, err)) {
            csvr_close(reader);
            reader = NULL;
        }
    }
    return reader;
}

void eval_report_csv_error(eval_session *s, const csvr_error *e)
{
    diag_report_data(s->diags, DIAG_ERROR, e->path, (unsigned)e->line, (unsigned)e->field,
                     e->kind == CSVR_ERR_IO ? "io" : "data", "%s", e->message);
    s->failed = true;
}

csvr_type eval_csv_type(ast_coltype t)
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

/* A field of the rejects CSV, always quoted (a record's raw bytes may hold anything),
 * by libcsv's own writer. */
void eval_bytes_field(byte_buf *b, const char *text, size_t len, bool last)
{
    size_t need = csv_write(NULL, 0, text, len);
    buf_reserve(b, need + 1);
    csv_write(b->data + b->len, need, text, len);
    b->len += need;
    buf_add(b, last ? "\n" : ",", 1);
}


static int compare_rejects(const void *a, const void *b)
{
    const reject *x = a, *y = b;
    return (x->line > y->line) - (x->line < y->line);
}

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
    fprintf(stderr, "\r\033[Kkpic: %s %.0f/%.0f MB, %.0f rows/s, %.0f s left", p->label, (double)done / 1e6,
            (double)total / 1e6, rate, left);
    if (final) fputs("\r\033[K", stderr);
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

eval_value eval_acc_result(const acc *a, ir_agg_kind kind, bool dates)
{
    switch (kind) {
    case IR_AGG_COUNT: return eval_num(dec_from_int64(a->n));
    case IR_AGG_SUM: return eval_num(a->sum);
    case IR_AGG_AVG: {
        dec_t out;
        if (a->n == 0 || dec_div(a->sum, dec_from_int64(a->n), DEC_PLACES, &out) != DEC_OK)
            return eval_null();
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
                       ? ((const ast_expr *)agg->syntax->u.call.args.items[0])->span
                       : agg->arg->span;
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
                diag_report_data(
                    s->diags, DIAG_ERROR, s->stats[source_index_of(s, agg->source)].path, 0, 0, "overflow",
                    "%s(%s) overflows: the total leaves the exact decimal range (|value| < 1.7e20)",
                    agg->kind == IR_AGG_AVG ? "avg" : "sum", canonical_arg(s, agg));
            }
            s->failed = true;
            st->result[g] = eval_null();
            continue;
        }
        st->result[g] = eval_acc_result(&st->accs[g], agg->kind, dates);
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

/* Whether some member of KR makes a set (whose membership is looked up in KR's store). */
static bool run_has_set(const key_run *kr)
{
    for (size_t m = 0; m < kr->member_count; m++)
        if (kr->members[m].agg->set != NULL) return true;
    return false;
}

/* The entries from which a key run's keys are counted on several threads. */
#define KEY_TALLY_THREADED (1u << 16)

/* One thread's share of finishing a key run: the keys of partitions [FROM, TO) of its
 * store, counted per member and cell into COUNTS (the members' `having` decided on the
 * way). Partitions hold disjoint keys, so the shares add. */
typedef struct key_tally {
    eval_session *s;
    const key_run *run;
    const inst_state *const *sets; /* [member × position]: the `in SET` of a member, or NULL */
    bool any_set;
    uint32_t from, to;
    int64_t *counts; /* [member × cells] */
    /* [member × position × HAVING_MEMO]: a `having` over one count() that gives a value
     * and nothing else (ir_expr_twins), decided once per count below HAVING_MEMO: -1
     * not yet, else whether it passed. NULL in a member's part: not such a having. */
    signed char **memo; /* [member] */
} key_tally;

/* Entries of a key run are counted by the millions, most of them with small counts:
 * `having count() >= 2` is decided once per count instead of through the interpreter
 * for every entry. */
#define HAVING_MEMO 64

static void acc_merge(acc *dst, const acc *src, ir_agg_kind kind);

/* Counts the key KEY (as ks_next gives it) in CELL (of position POS: the caller has
 * divided), with PAYLOAD, for every member of T's run that it passes (`having`, `in
 * SET`). */
static void tally_entry(key_tally *t, const void *key, uint32_t cell, size_t pos, unsigned char *payload,
                        acc *unpacked)
{
    eval_session *s = t->s;
    const key_run *run = t->run;
    size_t groups = (size_t)s->groups, cells = run->count * groups;
    /* only a set reads the key's bytes */
    size_t len = t->any_set ? ks_key_len(key) : 0;
    uint64_t h = t->any_set ? ks_hash(key, len) : 0;
    for (size_t m = 0; m < run->member_count; m++) {
        const key_member *mem = &run->members[m];
        const plan_agg *agg = mem->agg;
        if (agg->member_set && !state_has(s, t->sets[m * run->count + pos], h, key, len)) continue;
        bool passed = true;
        if (agg->having) {
            signed char *memo = NULL;
            int64_t n = 0;
            if (t->memo[m]) {
                memcpy(&n, payload + mem->slots_at, sizeof n);
                if (n >= 0 && n < HAVING_MEMO) memo = t->memo[m] + pos * HAVING_MEMO + n;
            }
            if (memo && *memo >= 0) {
                /* no branch on the verdict: whether an entry passes is a coin toss */
                passed = *memo;
            } else {
                const acc *slots = (const acc *)(payload + mem->slots_at);
                if (mem->counts_only) {
                    for (size_t i = 0; i < mem->nslots; i++)
                        memcpy(&unpacked[i].n, payload + mem->slots_at + i * sizeof(int64_t),
                               sizeof(int64_t));
                    slots = unpacked;
                }
                interp_env env = eval_row_env(s, agg->source, NULL);
                env.period = run->instances[m * run->count + pos]->period;
                env.slots = slots;
                passed = interp_true(&env, agg->having);
                if (memo) *memo = passed;
            }
            if (mem->passed_at != SIZE_MAX && passed) payload[mem->passed_at] = 1;
        }
        t->counts[m * cells + cell] += passed;
    }
}

/* Adds payload SRC into DST, laid out by the key run W's members (the store's writer):
 * the entry of a key's total is the sum of its groups' entries. */
static void merge_payload(const key_run *w, unsigned char *dst, const unsigned char *src)
{
    for (size_t m = 0; m < w->member_count; m++) {
        const key_member *mem = &w->members[m];
        for (size_t i = 0; i < mem->nslots; i++) {
            if (mem->counts_only) {
                int64_t a, b;
                memcpy(&a, dst + mem->slots_at + i * sizeof a, sizeof a);
                memcpy(&b, src + mem->slots_at + i * sizeof b, sizeof b);
                a += b;
                memcpy(dst + mem->slots_at + i * sizeof a, &a, sizeof a);
            } else {
                acc *d = (acc *)(dst + mem->slots_at) + i;
                const acc *x = (const acc *)(src + mem->slots_at) + i;
                acc_merge(d, x, mem->agg->ir->slots[i]->u.group.kind);
            }
        }
    }
}

/* The totals of one partition's keys, as a derived-total run makes them: per (key,
 * position), the merged payload of its entries. Keys are told apart by address: a
 * partition holds each key's bytes once. */
typedef struct total_slot {
    const void *key; /* NULL: empty */
    uint32_t pos;
    uint32_t at; /* its payload: payloads + at * stride */
} total_slot;

typedef struct key_totals {
    total_slot *slots;
    size_t cap, count;
    uint32_t *used;          /* [count]: the slots taken, so that emptying visits those alone */
    unsigned char *payloads; /* count payloads of STRIDE bytes, 16-aligned */
    size_t stride, room;
} key_totals;

static size_t totals_probe(const key_totals *kt, const void *key, uint32_t pos)
{
    size_t j = hash_u64((uint64_t)(uintptr_t)key ^ pos) & (kt->cap - 1);
    while (kt->slots[j].key && (kt->slots[j].key != key || kt->slots[j].pos != pos))
        j = (j + 1) & (kt->cap - 1);
    return j;
}

static unsigned char *totals_entry(key_totals *kt, const void *key, uint32_t pos)
{
    if ((kt->count + 1) * 4 > kt->cap * 3) {
        key_totals bigger = *kt;
        bigger.cap = kt->cap ? kt->cap * 2 : 1024;
        bigger.slots = xcalloc(bigger.cap, sizeof *bigger.slots);
        for (size_t k = 0; k < kt->count; k++) {
            const total_slot *old = &kt->slots[kt->used[k]];
            size_t j = totals_probe(&bigger, old->key, old->pos);
            bigger.slots[j] = *old;
            kt->used[k] = (uint32_t)j;
        }
        free(kt->slots);
        kt->slots = bigger.slots;
        kt->cap = bigger.cap;
    }
    size_t j = totals_probe(kt, key, pos);
    total_slot *slot = &kt->slots[j];
    if (!slot->key) {
        if (kt->count == kt->room) {
            kt->room = kt->room ? kt->room * 2 : 1024;
            unsigned char *more = xcalloc_aligned(16, kt->room, kt->stride);
            if (kt->count) memcpy(more, kt->payloads, kt->count * kt->stride);
            free(kt->payloads);
            kt->payloads = more;
            kt->used = xrealloc(kt->used, kt->room * sizeof *kt->used);
        }
        memset(kt->payloads + kt->count * kt->stride, 0, kt->stride);
        kt->used[kt->count] = (uint32_t)j;
        *slot = (total_slot){ key, pos, (uint32_t)kt->count++ };
    }
    return kt->payloads + (size_t)slot->at * kt->stride;
}

/* Counts KEY's total at position POS (PAYLOAD, its groups' entries merged) in the
 * position's total cell. */
static void tally_total(key_tally *t, const void *key, uint32_t pos, unsigned char *payload, acc *unpacked)
{
    size_t groups = (size_t)t->s->groups;
    tally_entry(t, key, (uint32_t)(pos * groups + groups - 1), pos, payload, unpacked);
}

/* Counts the totals gathered in KT, then empties it for the next partition. */
static void tally_totals(key_tally *t, key_totals *kt, acc *unpacked)
{
    for (size_t k = 0; k < kt->count; k++) {
        total_slot *slot = &kt->slots[kt->used[k]];
        tally_total(t, slot->key, slot->pos, kt->payloads + (size_t)slot->at * kt->stride, unpacked);
        slot->key = NULL;
    }
    kt->count = 0;
}

static void *tally_keys(void *arg)
{
    key_tally *t = arg;
    const key_run *run = t->run;
    size_t groups = (size_t)t->s->groups;
    size_t most = 0;
    for (size_t m = 0; m < run->member_count; m++)
        if (run->members[m].nslots > most) most = run->members[m].nslots;
    acc *unpacked = xcalloc(most + 1, sizeof *unpacked); /* counts_only slots as accs */
    key_totals kt = { 0 };
    const key_run *w = run->writer;
    kt.stride = (ks_payload_size(run->store) + 15) & ~(size_t)15;
    if (!kt.stride) kt.stride = 16;
    /* the total of the key and position being walked, where the walk hands out a key's
     * entries together (in_key_order): no table needed */
    unsigned char *running = xcalloc_aligned(16, 1, kt.stride);
    const void *running_key = NULL;
    uint32_t running_pos = 0;
    uint64_t cursor = (uint64_t)t->from << 32;
    uint64_t part = t->from;
    ks_entry en;
    while (ks_next(run->store, &cursor, &en) && (cursor >> 32) < t->to) {
        /* one division per entry: the groups are the roster's size, not a constant */
        uint32_t pos = en.cell / (uint32_t)groups, group = en.cell - pos * (uint32_t)groups;
        if (!run->derived_total) {
            tally_entry(t, en.key, en.cell, pos, en.payload, unpacked);
            continue;
        }
        unsigned char *total;
        if (en.in_key_order) {
            if (running_key && (running_key != en.key || running_pos != pos)) {
                tally_total(t, running_key, running_pos, running, unpacked);
                memset(running, 0, kt.stride);
            }
            running_key = en.key;
            running_pos = pos;
            total = running;
        } else {
            if ((cursor >> 32) != part) {
                tally_totals(t, &kt, unpacked);
                part = cursor >> 32;
            }
            total = totals_entry(&kt, en.key, pos);
        }
        if (en.payload) merge_payload(w, total, en.payload);
        /* an entry of a total cell holds the rows without a staff group: it counts only
         * in the key's total */
        if (group != groups - 1) tally_entry(t, en.key, en.cell, pos, en.payload, unpacked);
    }
    if (running_key) tally_total(t, running_key, running_pos, running, unpacked);
    tally_totals(t, &kt, unpacked);
    free(running);
    free(kt.slots);
    free(kt.used);
    free(kt.payloads);
    free(unpacked);
    return NULL;
}

/* After the pass: the distinct counts of every instance of a key run, per group (a key
 * counts when it passes `having` and, for distinct(S.c where c in SET), is in SET), and
 * the having flags that make a set's members. One walk over the run's keys, shared by
 * the pass's THREADS: on twelve months of a large file the store holds millions of
 * (key, cell) entries. Every entry of a key lies in the key's partition, so a thread
 * sees a key's entries in the order one thread would. */
static void finish_key_run(eval_session *s, key_run *run, int threads)
{
    size_t groups = (size_t)s->groups, cells = run->count * groups;
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
    /* a thread costs more than a small store's walk: a spec of many indicators has many
     * key runs of few keys */
    if (threads < 1 || ks_count_bound(run->store) < KEY_TALLY_THREADED) threads = 1;
    if (threads > 8) threads = 8;
    key_tally tally[8];
    pthread_t thread[8];
    bool started[8] = { false };
    for (int k = 0; k < threads; k++) {
        tally[k] = (key_tally){ s,
                                run,
                                sets,
                                any_set,
                                (uint32_t)(KS_PARTITIONS * (size_t)k / (size_t)threads),
                                (uint32_t)(KS_PARTITIONS * (size_t)(k + 1) / (size_t)threads),
                                xcalloc(run->member_count * cells + 1, sizeof(int64_t)),
                                xcalloc(run->member_count + 1, sizeof(signed char *)) };
        for (size_t m = 0; m < run->member_count; m++) {
            const key_member *mem = &run->members[m];
            const plan_agg *agg = mem->agg;
            if (!agg->having || !mem->counts_only || mem->nslots != 1 ||
                !ir_expr_twins(agg->ir->having, agg->source, agg->ir->having, agg->source))
                continue;
            tally[k].memo[m] = xmalloc(run->count * HAVING_MEMO);
            memset(tally[k].memo[m], -1, run->count * HAVING_MEMO);
        }
        if (k > 0) started[k] = pthread_create(&thread[k], NULL, tally_keys, &tally[k]) == 0;
    }
    tally_keys(&tally[0]);
    for (int k = 1; k < threads; k++) {
        if (started[k]) pthread_join(thread[k], NULL);
        else tally_keys(&tally[k]); /* no thread: its share here */
        for (size_t i = 0; i < run->member_count * cells; i++) tally[0].counts[i] += tally[k].counts[i];
        free(tally[k].counts);
    }
    for (int k = 0; k < threads; k++) {
        for (size_t m = 0; m < run->member_count; m++) free(tally[k].memo[m]);
        free(tally[k].memo);
    }
    int64_t *counts = tally[0].counts;
    for (size_t m = 0; m < run->member_count; m++)
        for (size_t pos = 0; pos < run->count; pos++) {
            inst_state *st = run->instances[m * run->count + pos]->state;
            st->result = xcalloc(groups, sizeof *st->result);
            for (size_t g = 0; g < groups; g++)
                st->result[g] = eval_num(dec_from_int64(counts[m * cells + pos * groups + g]));
            st->done = true;
        }
    free(counts);
    free(sets);
}

/* Whether the key is a member of SET in PERIOD (sets are company-wide: the total group). */
bool eval_set_has(eval_session *s, const ir_agg *set, period_t period, const void *key, size_t len)
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
        byte_buf b = { 0 };
        char num[64];
        eval_bytes_field(&b, p->source->name, strlen(p->source->name), false);
        eval_bytes_field(&b, bad->error->path, strlen(bad->error->path), false);
        snprintf(num, sizeof num, "%llu", (unsigned long long)bad->error->line);
        eval_bytes_field(&b, num, strlen(num), false);
        snprintf(num, sizeof num, "%llu", (unsigned long long)bad->error->field);
        eval_bytes_field(&b, num, strlen(num), false);
        eval_bytes_field(&b, bad->error->message, strlen(bad->error->message), false);
        eval_bytes_field(&b, bad->raw, bad->raw_len, true);
        if (p->reject_count == p->reject_cap) {
            p->reject_cap = p->reject_cap ? p->reject_cap * 2 : 16;
            p->rejects = xrealloc(p->rejects, p->reject_cap * sizeof *p->rejects);
        }
        p->rejects[p->reject_count++] = (reject){ bad->error->line, b.data, b.len };
    }
    return CSVR_SKIP;
}

/* A row's contribution to one `having` slot, as carried to the key store: the store
 * applies it later, when the row is gone, so a text value keeps only its kind (all
 * that count() and the null rules look at). */
typedef struct slot_input {
    val_t v;
    bool counted; /* the slot's own where held */
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

/* The key store's merge (ks_merge_fn) for a key run CTX: what apply_slots added to
 * OTHER, added to PAYLOAD. */
static void merge_slots(void *ctx, void *payload, const void *other)
{
    merge_payload(ctx, payload, other);
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
    uint32_t total = pos * groups + groups - 1;
    uint32_t own = run->staff_cells && group >= 0 ? pos * groups + (uint32_t)group : KS_NO_CELL;
    if (run->derived_total && own != KS_NO_CELL)
        ks_add(p->writers[run_index], h, key, len, own, KS_NO_CELL, rec);
    else ks_add(p->writers[run_index], h, key, len, total, own, rec);
}

/* The group of the staff member whose id is CELL (not null), by the roster's table;
 * -1, counted, for an id the roster lacks. */
static int staff_lookup(pass_ctx *p, const csvr_cell *cell)
{
    eval_session *s = p->s;
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
    return s->id_first_row[g];
}

/* Whether memo M holds the domain of CELL's id (csvr_cell.id_digits): emptied and
 * given it when it held another. */
static bool staff_memo_domain(staff_memo *m, const csvr_cell *cell)
{
    size_t prefix_len = cell->as.text.len - cell->id_digits;
    if (m->digits == cell->id_digits && m->prefix_len == prefix_len &&
        memcmp(m->prefix, cell->as.text.ptr, prefix_len) == 0)
        return true;
    if (prefix_len > sizeof m->prefix) return false;
    memset(m->slots, 0, sizeof m->slots);
    m->digits = cell->id_digits;
    m->prefix_len = (uint8_t)prefix_len;
    memcpy(m->prefix, cell->as.text.ptr, prefix_len);
    return true;
}

/* The group of the row's staff member (CELL), -1 for none or an unknown id. An id is
 * hashed and compared as text only the first time a worker meets it when it comes as a
 * number (an int column, or a cache's ids of one prefix and width): a few hundred staff
 * members over millions of rows. */
static int staff_group(pass_ctx *p, const csvr_cell *cell)
{
    if (p->staff_cell < 0 || cell->is_null) return -1;
    staff_memo *m = p->staff_memo;
    uint64_t id;
    if (p->staff_is_int) id = (uint64_t)cell->as.i;
    else if (cell->id_digits && staff_memo_domain(m, cell)) id = cell->id;
    else return staff_lookup(p, cell);
    staff_memo_slot *slot = &m->slots[id % STAFF_MEMO_SLOTS];
    /* an unknown id is looked up again: staff_lookup counts it, and keeps an example */
    if (slot->used && slot->id == id && slot->group >= 0) return slot->group;
    int group = staff_lookup(p, cell);
    *slot = (staff_memo_slot){ id, group, 1 };
    return group;
}

/* The days of a pass's spans and coverage periods, looked up by day instead of by two
 * binary searches per row (on_dates sees every row of a replay, on_row every row of a
 * read): entry d - FROM is (the covered period's index + 1) << 1 | whether a span holds
 * day d. None (AT NULL) when the days between the first and the last are too many: an
 * `all time` window. */
#define DAY_MARKS_MAX (1u << 16)

static day_marks mark_days(const period_interval *spans, size_t span_count, const period_t *cover,
                           size_t cover_count)
{
    day_marks m = { NULL, 0, 0 };
    if (!span_count && !cover_count) return m;
    date_t from = DATE_MAX, to = DATE_MIN;
    if (span_count) from = spans[0].from, to = spans[span_count - 1].to;
    if (cover_count) {
        if (cover[0].start < from) from = cover[0].start;
        if (cover[cover_count - 1].end > to) to = cover[cover_count - 1].end;
    }
    if (to < from || (int64_t)to - from > DAY_MARKS_MAX || cover_count >= DAY_MARKS_MAX) return m;
    m.at = xcalloc((size_t)(to - from) + 1, sizeof *m.at);
    m.from = from;
    m.count = (size_t)(to - from);
    for (size_t i = 0; i < span_count; i++)
        for (date_t d = spans[i].from; d < spans[i].to; d++) m.at[d - from] |= 1;
    for (size_t i = 0; i < cover_count; i++)
        for (date_t d = cover[i].start; d < cover[i].end; d++) m.at[d - from] |= (uint32_t)(i + 1) << 1;
    return m;
}

/* Whether WHEN lies in some instance's window, by binary search over the spans. */
static inline bool spans_hold(const pass_ctx *p, date_t when)
{
    size_t lo = 0, hi = p->span_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->spans[mid].from <= when) lo = mid + 1;
        else hi = mid;
    }
    return lo != 0 && when < p->spans[lo - 1].to;
}

/* Day D's mark, as mark_days writes it, from the table or by binary searches. */
static inline uint32_t day_mark(const pass_ctx *p, date_t d)
{
    const day_marks *m = p->marks;
    if (m->at) {
        uint64_t at = (uint64_t)((int64_t)d - m->from);
        return at < m->count ? m->at[at] : 0;
    }
    uint32_t mark = spans_hold(p, d);
    size_t lo = 0, hi = p->cover_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->cover[mid].start <= d) lo = mid + 1;
        else hi = mid;
    }
    if (lo && d < p->cover[lo - 1].end) mark |= (uint32_t)lo << 1;
    return mark;
}

/* Whether WHEN lies in some instance's window. */
static inline bool in_spans(const pass_ctx *p, date_t when)
{
    return p->marks->at ? day_mark(p, when) & 1 : spans_hold(p, when);
}

/* Counts N rows read (each with its date DAYS[i], or none where IS_NULL[i]; DAYS NULL for
 * a source without a time column): rows read, the dates seen, the coverage of the
 * periods read. Into WANTED (when not NULL), whether some window holds each row. */
static inline void account_rows(pass_ctx *p, const date_t *days, const unsigned char *is_null, size_t n,
                                unsigned char *wanted)
{
    uint64_t before = p->prog.rows;
    p->stats.rows += n;
    p->prog.rows += n;
    if ((before >> 16) != (p->prog.rows >> 16)) progress_tick(&p->prog, false);
    if (p->time_cell < 0) return;
    date_t first = p->first_date, last = p->last_date;
    for (size_t i = 0; i < n; i++) {
        if (is_null[i]) {
            p->stats.outside_periods++;
            continue;
        }
        date_t d = days[i];
        first = d < first ? d : first;
        last = d > last ? d : last;
        uint32_t mark = day_mark(p, d);
        if (mark >> 1) p->covered[(mark >> 1) - 1] = 1;
        if (wanted) wanted[i] |= mark & 1;
    }
    p->first_date = first;
    p->last_date = last;
}

/* The dates of a batch of replayed rows (csvr_dates_fn): each row is accounted as
 * on_row would, and only the rows inside a window are wanted, so the replay decodes
 * the other cells of those alone.  Set only for a pass without a key check: a key is
 * checked on every row (lane_handlers). */
static bool on_dates(void *ctx, const date_t *days, const unsigned char *is_null, size_t n,
                     unsigned char *wanted)
{
    pass_ctx *p = ctx;
    if (p->shared && p->chunk > __atomic_load_n(&p->shared->error_chunk, __ATOMIC_RELAXED)) return false;
    account_rows(p, days, is_null, n, wanted);
    return true;
}

static bool on_row(void *ctx, const csvr_row *row)
{
    pass_ctx *p = ctx;
    eval_session *s = p->s;
    p->row_serial++; /* before any return: a borrower compares it with REACHED */
    /* a worker past the first chunk that failed stops: that error is the one reported */
    if (p->shared && p->chunk > __atomic_load_n(&p->shared->error_chunk, __ATOMIC_RELAXED)) return false;
    bool timed = p->time_cell >= 0;
    date_t when = 0;
    if (!row->dated) {
        if (p->key && !eval_key_row(p, row, eval_record_ordinal(p))) {
            p->chunk_record++;
            p->stats.skipped++;
            return true;
        }
        if (p->key) p->chunk_record++;
        const csvr_cell *t = timed ? &row->cells[p->time_cell] : NULL;
        unsigned char no_date = t == NULL || t->is_null;
        if (!no_date) when = t->as.date;
        account_rows(p, &when, &no_date, 1, NULL);
        if (t != NULL && t->is_null) return true;
    } else {
        when = row->cells[p->time_cell].as.date;
    }
    /* a dated row may be wanted by the other session of a shared pass only */
    if (timed && !in_spans(p, when)) return true;
    /* the staff lookup hashes the id: only rows inside some window pay for it */
    int group = -2;
    int total = s->groups - 1;
    unsigned char key_buf[sizeof(dec_t)];
    const void *key = NULL;
    size_t key_len = 0;
    uint64_t key_hash = 0;
    bool hashed = false;
    interp_env r = p->row_env;
    r.cells = row->cells;
    for (size_t ri = 0; ri < p->run_count; ri++) {
        if (p->follows[ri]) continue; /* its key family's first run records the keys */
        const agg_run *run = &p->runs[ri];
        plan_agg *agg = run->agg;
        size_t from = run->first, to = run->first + run->count;
        bool staff = agg->per_staff || (p->key_runs[ri] && p->key_runs[ri]->staff_cells);
        if (p->borrowed && p->borrowed[ri]) {
            /* computed by the other session; only the staff lookup it would have made is
             * made here, for this session's unknown-staff count */
            if (staff && group == -2 && p->twin->reached[p->twin_run[ri]] == p->twin->row_serial)
                group = p->twin->row_group >= 0 ? p->twin->row_group
                        : p->staff_cell >= 0    ? staff_group(p, &row->cells[p->staff_cell])
                                                : -1;
            continue;
        }
        if (timed && run->by_day) {
            /* the row is inside the spans, so inside the day marks' days */
            uint32_t k = run->by_day[(size_t)(when - p->marks->from)];
            if (!k) continue;
            from += k - 1;
            to = from + 1;
        } else if (timed && run->disjoint) {
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
            if (p->reached) p->reached[ri] = p->row_serial;
            if (staff && group == -2)
                group = p->staff_cell >= 0 ? staff_group(p, &row->cells[p->staff_cell]) : -1;
            int own = staff ? group : -1;
            if (agg->kind == IR_AGG_DISTINCT) {
                if (keyed) add_key(p, ri, &r, (uint32_t)(i - run->first), own, key, key_len, key_hash);
                continue;
            }
            acc *accs = p->accs[i];
            acc_add(&accs[(size_t)total * p->acc_stride], agg->kind, &value);
            if (own >= 0) acc_add(&accs[(size_t)own * p->acc_stride], agg->kind, &value);
        }
    }
    p->row_group = group;
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

/* The contexts the rows of one thread go to: one session's, or, in a pass shared by two
 * sessions (eval_read_source_pair), the first's and then the second's. */
typedef struct pass_lane {
    pass_ctx *ctx[2];
    int count;
} pass_lane;

static bool on_row_shared(void *ctx, const csvr_row *row)
{
    pass_lane *lane = ctx;
    bool first = on_row(lane->ctx[0], row);
    bool second = on_row(lane->ctx[1], row);
    return first && second;
}

/* Both sessions read with the same options (same_reading), so their verdicts agree;
 * each still counts and rejects the row as its own. */
static csvr_verdict on_bad_row_shared(void *ctx, const csvr_bad_row *bad)
{
    pass_lane *lane = ctx;
    csvr_verdict first = on_bad_row(lane->ctx[0], bad);
    csvr_verdict second = on_bad_row(lane->ctx[1], bad);
    return first == CSVR_STOP || second == CSVR_STOP ? CSVR_STOP : CSVR_SKIP;
}

static bool on_dates_shared(void *ctx, const date_t *days, const unsigned char *is_null, size_t n,
                            unsigned char *wanted)
{
    pass_lane *lane = ctx;
    bool first = on_dates(lane->ctx[0], days, is_null, n, wanted);
    bool second = on_dates(lane->ctx[1], days, is_null, n, wanted);
    return first && second;
}

/* A replay may leave out the rows outside every window (on_dates) when each session
 * reads the same time column and checks no key. */
static csvr_handlers lane_handlers(pass_lane *lane)
{
    bool dated = true;
    for (int i = 0; i < lane->count; i++)
        dated &= lane->ctx[i]->time_cell >= 0 && lane->ctx[i]->key == NULL &&
                 lane->ctx[i]->time_cell == lane->ctx[0]->time_cell;
    csvr_handlers h = lane->count == 1
                          ? (csvr_handlers){ on_row, on_bad_row, lane->ctx[0], on_dates, 0 }
                          : (csvr_handlers){ on_row_shared, on_bad_row_shared, lane, on_dates_shared, 0 };
    if (dated) h.dates_column = (size_t)lane->ctx[0]->time_cell;
    else h.on_dates = NULL;
    return h;
}

static void *pass_worker(void *arg)
{
    pass_lane *lane = arg;
    shared_pass *sh = lane->ctx[0]->shared;
    csvr_handlers h = lane_handlers(lane);
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
        for (int i = 0; i < lane->count; i++) {
            lane->ctx[i]->chunk = chunk.index;
            lane->ctx[i]->chunk_record = 0;
        }
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
    /* the distinct keys this worker still buffers are applied here, beside the other
     * workers, rather than one writer after another when the pass concludes; a failed
     * pass drops them there instead */
    pthread_mutex_lock(&sh->lock);
    bool failed = sh->error_chunk != UINT64_MAX || sh->planning_failed;
    pthread_mutex_unlock(&sh->lock);
    if (!failed)
        for (int i = 0; i < lane->count; i++)
            for (size_t ri = 0; ri < lane->ctx[i]->run_count; ri++)
                if (lane->ctx[i]->writers[ri]) ks_writer_flush(lane->ctx[i]->writers[ri]);
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
    if (x->window.from != y->window.from)
        return (x->window.from > y->window.from) - (x->window.from < y->window.from);
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
        cols[c].type = eval_csv_type(col->type);
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
        diagnostic *d = diag_report_data(
            s->diags, DIAG_ERROR, path, 1, 0, "data",
            "column '%s' of source '%s' is not in the header; the header has: %s", name, src->name, header);
        const char *near = csvr_header_near(reader, name);
        const char *like = csvr_header_looks_like(reader);
        if (near)
            diag_hint(s->diags, d,
                      "did you mean \"%s\"? it differs in case or spaces: fix the "
                      "export, or write header \"%s\" on the column",
                      near, near);
        else if (like)
            diag_hint(s->diags, d,
                      "the header is not UTF-8: the file looks like %s; declare "
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

static pass_result read_source_pass(eval_session *s, size_t source_index, int level, key_mode keys);

/* The declared columns of SOURCE that a pass's rows are read for: see used_columns. */
typedef struct column_use {
    const ast_decl *source;
    bool *used;
    size_t count;
    bool all; /* a column index out of range: take every column */
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

/* Reads one source for one level. A source with a key, on its first read, is read again
 * when a key hash repeats or a key is empty (to find those rows), and once more under
 * --skip-bad-rows when rows are to be skipped for their key (key_mode). */
bool eval_read_source(eval_session *s, size_t source_index, int level)
{
    key_check *k = eval_source_key(s, source_index);
    bool first_read = !s->stats[source_index].read;
    pass_result r =
        read_source_pass(s, source_index, level, k->count && first_read ? KEYS_RECORD : KEYS_NONE);
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

/* One session's part of a pass over a source: the instances it reads for, how they are
 * grouped, the file and its cells, and the workers that accumulate into them. A pass
 * is prepared (pass_prepare), its file opened (pass_open), its workers set up
 * (pass_start), the rows read, and then concluded (pass_conclude); a shared pass
 * (eval_read_source_pair) does the same for two sessions over one reader. */
typedef struct source_pass {
    eval_session *s;
    size_t source_index;
    const ast_decl *src;
    eval_source_stats *stats;
    key_check *key;
    key_mode keys;
    size_t runs_before; /* the session's key runs before this pass's */
    ptr_vec mine;       /* the instances read, sorted by compare_instances */
    agg_run *runs;
    size_t run_count;
    key_run **key_runs;
    bool *follows;
    size_t max_record;
    period_interval *spans;
    size_t span_count;
    size_t n; /* declared columns: cell i is column i */
    int time_cell, staff_cell;
    bool staff_is_int;
    const char *path;
    bool first_read; /* a source read again for a later level is hashed and counted once */
    bool allowed;    /* eval_may_read_source */
    pass_ctx *workers;
    int threads;
    const period_t *cover;
    size_t cover_count;
    day_marks marks;
    uint32_t **day_tables; /* the runs' by_day tables (index_runs_by_day) */
    size_t day_table_count;
    uint64_t *misses_before; /* the row scale misses before the pass, to drop its own */
    /* the second session of a shared pass: the runs the first computes for it (pass_borrow) */
    const struct source_pass *lender;
    bool *borrowed; /* [run_count], or NULL */
    size_t *twin;   /* [run_count]: the lender's run of the same aggregate and instances */
    /* [run_count]: the lender's run whose stamp says a row reached it: TWIN, or for a
     * distinct run the lender run that records its key run's keys */
    size_t *twin_reach;
    /* [run_count]: for each run of a key run whose keys the lender records but whose
     * counts this session takes itself (a having of its own), that key run over the
     * lender's store (pass_borrow); NULL elsewhere. Freed by pass_run_reader. */
    key_run **view;
} source_pass;

/* Plans SP: the instances of SOURCE_INDEX read at LEVEL, their runs and key runs, the
 * cells and the file. PASS_OK with no instance: nothing to read. */
static pass_result pass_prepare(source_pass *sp, eval_session *s, size_t source_index, int level,
                                key_mode keys)
{
    memset(sp, 0, sizeof *sp);
    const ast_decl *src = s->model->sources.items[source_index];
    sp->s = s;
    sp->source_index = source_index;
    sp->src = src;
    sp->stats = &s->stats[source_index];
    sp->key = &s->key_checks[source_index];
    sp->keys = keys;
    sp->runs_before = s->key_runs.len;
    ptr_vec mine = { 0 };
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
            runs[run_count++] = (agg_run){ in->agg, i, 1, true, NULL };
        }
    }

    /* distinct runs: one key store per key family, shared by the family's runs over
     * the same instances, by their instances and by every thread */
    key_run **key_runs = arena_alloc(&s->mem, (run_count + 1) * sizeof *key_runs);
    bool *follows = arena_alloc(&s->mem, (run_count + 1) * sizeof *follows);
    size_t *member_run = arena_alloc(&s->mem, (run_count + 1) * sizeof *member_run);
    ptr_vec new_runs = { 0 };
    for (size_t ri = 0; ri < run_count; ri++) {
        agg_run *ar = &runs[ri];
        key_runs[ri] = NULL;
        follows[ri] = false;
        if (ar->agg->kind != IR_AGG_DISTINCT) continue;
        if ((uint64_t)ar->count * (uint64_t)s->groups >= UINT32_MAX) {
            diag_report_data(
                s->diags, DIAG_ERROR, eval_source_path(s, src), 0, 0, "limit",
                "distinct(%s) over %zu periods for %d staff groups exceeds kpic's limit of 2^32 period-group cells",
                canonical_arg(s, ar->agg), ar->count, s->groups);
            s->failed = true;
            return PASS_FAILED;
        }
        size_t leader = ri;
        for (size_t rj = 0; rj < ri && leader == ri; rj++)
            if (key_runs[rj] && !follows[rj] && same_keys(&runs[rj], ar, (plan_instance **)mine.items))
                leader = rj;
        key_run *kr = leader == ri ? xcalloc(1, sizeof *kr) : key_runs[leader];
        if (leader == ri) {
            kr->count = ar->count;
            kr->members = xcalloc(run_count, sizeof *kr->members);
            ptr_vec_push(&s->mem, &new_runs, kr);
            /* the session owns it from here: a limit error below returns before the
             * store is made, and eval_free still frees what was built */
            ptr_vec_push(&s->mem, &s->key_runs, kr);
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
        ks_set_sorted(kr->store, slots ? merge_slots : NULL);
        kr->derived_total = kr->staff_cells && !run_has_set(kr);
        kr->writer = kr;
        kr->instances = xcalloc(kr->member_count * kr->count, sizeof *kr->instances);
        if (record > max_record) max_record = record;
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

    sp->mine = mine;
    sp->runs = runs;
    sp->run_count = run_count;
    sp->key_runs = key_runs;
    sp->follows = follows;
    sp->max_record = max_record;
    sp->spans = spans;
    sp->span_count = span_count;

    int ncols = src->u.source.column_count;
    sp->time_cell = sp->staff_cell = -1;
    csvr_column *cols = xcalloc((size_t)ncols + 1, sizeof *cols);
    sp->n = pass_columns(src, cols, &sp->time_cell, &sp->staff_cell);
    free(cols);
    for (int c = 0; c < ncols; c++)
        if (src->u.source.columns[c].is_staff)
            sp->staff_is_int = src->u.source.columns[c].type == COLTYPE_INT;

    sp->path = eval_source_path(s, src);
    sp->stats->path = sp->path;
    sp->first_read = !sp->stats->read;
    sp->allowed = eval_may_read_source(s, src, sp->path);
    return PASS_OK;
}

/* The reader's flags for SP's file. */
static unsigned pass_open_flags(const source_pass *sp)
{
    /* missing columns are reported below, each with its source's name, all at once */
    return CSVR_MISSING_COLUMNS_OK | (sp->first_read ? 0 : CSVR_NO_HASH | CSVR_READ_AGAIN);
}

/* Opens SP's file. NULL after reporting (*RESULT says how the pass ends). */
static csvr_reader *pass_open(source_pass *sp, pass_result *result)
{
    eval_session *s = sp->s;
    csvr_error err;
    csvr_column *cols = xcalloc(sp->n + 1, sizeof *cols);
    int time_cell, staff_cell;
    pass_columns(sp->src, cols, &time_cell, &staff_cell);
    csvr_reader *reader = eval_open_declared(s, sp->src, sp->path, cols, sp->n, pass_open_flags(sp), &err);
    free(cols);
    if (!reader) {
        eval_report_csv_error(s, &err);
        *result = PASS_FAILED;
    }
    return reader;
}

/* After the file is open: its header has every declared column (else reported, and the
 * pass fails), and the key's columns are found in it. */
static bool pass_check_header(source_pass *sp, csvr_reader *reader)
{
    eval_session *s = sp->s;
    const ast_decl *src = sp->src;
    key_check *key = sp->key;
    if (!header_has_declared_columns(s, src, reader, sp->path)) {
        s->failed = true;
        return false;
    }
    for (int j = 0; j < key->count; j++)
        for (size_t f = 0; f < csvr_header_size(reader); f++)
            if (!strcmp(csvr_header_name(reader, f), src->u.source.columns[key->columns[j]].name))
                key->fields[j] = (unsigned)f + 1;
    if (sp->keys == KEYS_RECORD) key->firsts = ksf_new();
    return true;
}

/* Whether SP's pass may be replayed from the column cache: the column cache replays
 * rows without their lines and bytes, which a key's check reports, so a source with a
 * key is always read from its file. */
static bool pass_cacheable(const source_pass *sp)
{
    return sp->s->options.cache_dir && !sp->key->count;
}

static unsigned pass_cache_flags(const source_pass *sp)
{
    const eval_session *s = sp->s;
    return (s->options.verify_data ? CSVR_CACHE_VERIFY : 0) | (s->cache_rebuild ? CSVR_CACHE_REBUILD : 0);
}

static bool *pass_used_columns(const source_pass *sp)
{
    return used_columns(sp->src, sp->n, sp->time_cell, sp->staff_cell, sp->key,
                        (plan_instance *const *)sp->mine.items, sp->mine.len);
}

/* Most runs of a pass have the same windows (one per period): they share a table. A
 * spec whose runs have many different windows gets tables up to RUN_DAYS_BYTES in all,
 * its other runs a binary search. */
#define RUN_DAYS_SHARED 8
#define RUN_DAYS_BYTES  ((size_t)16 << 20)

static bool same_windows(plan_instance *const *in, const agg_run *a, const agg_run *b)
{
    if (a->count != b->count) return false;
    for (size_t i = 0; i < a->count; i++)
        if (in[a->first + i]->window.from != in[b->first + i]->window.from ||
            in[a->first + i]->window.to != in[b->first + i]->window.to)
            return false;
    return true;
}

/* Gives each disjoint run of several instances its by_day table (agg_run), when the
 * pass's days are in a table (mark_days): a row then finds its instance in one read,
 * where the binary search over twelve months cost four unpredictable branches a run. */
static void index_runs_by_day(source_pass *sp)
{
    const day_marks *m = &sp->marks;
    plan_instance *const *in = (plan_instance *const *)sp->mine.items;
    sp->day_tables = NULL;
    sp->day_table_count = 0;
    if (!m->at) return;
    agg_run *built[RUN_DAYS_SHARED];
    size_t n_built = 0, bytes = 0;
    for (size_t ri = 0; ri < sp->run_count; ri++) {
        agg_run *run = &sp->runs[ri];
        run->by_day = NULL;
        if (!run->disjoint || run->count < 2) continue;
        for (size_t b = 0; b < n_built && !run->by_day; b++)
            if (same_windows(in, run, built[b])) run->by_day = built[b]->by_day;
        if (run->by_day || bytes + (m->count + 1) * sizeof(uint32_t) > RUN_DAYS_BYTES) continue;
        uint32_t *t = xcalloc(m->count + 1, sizeof *t);
        date_t last = (date_t)(m->from + (int64_t)m->count);
        for (size_t i = 0; i < run->count; i++) {
            period_interval w = in[run->first + i]->window;
            for (date_t d = w.from < m->from ? m->from : w.from; d < w.to && d < last; d++)
                t[d - m->from] = (uint32_t)(i + 1);
        }
        run->by_day = t;
        bytes += (m->count + 1) * sizeof *t;
        sp->day_tables = xrealloc(sp->day_tables, (sp->day_table_count + 1) * sizeof *sp->day_tables);
        sp->day_tables[sp->day_table_count++] = t;
        if (n_built < RUN_DAYS_SHARED) built[n_built++] = run;
        else built[ri % RUN_DAYS_SHARED] = run;
    }
}

/* What a worker buffers of distinct keys before applying them, over all the key runs
 * it writes (keystore.h): each run's store gets its share, so that a spec of many
 * distinct indicators does not buffer many times as much. */
#define WORKER_KEY_BUFFER  ((size_t)32 << 20)
#define RUN_KEY_BUFFER_MIN ((size_t)1 << 20)

static void set_key_budgets(source_pass *sp)
{
    size_t written = 0;
    for (size_t ri = 0; ri < sp->run_count; ri++) written += sp->key_runs[ri] && !sp->follows[ri];
    size_t share = written ? WORKER_KEY_BUFFER / written : 0;
    if (share < RUN_KEY_BUFFER_MIN) share = RUN_KEY_BUFFER_MIN;
    for (size_t ri = 0; ri < sp->run_count; ri++)
        if (sp->key_runs[ri] && !sp->follows[ri]) ks_set_writer_budget(sp->key_runs[ri]->store, share);
}

/* An instance of a pass, by where its window starts (acc_block). */
typedef struct acc_order {
    date_t from;
    size_t i;
} acc_order;

static int by_window(const void *x, const void *y)
{
    const acc_order *a = x, *b = y;
    if (a->from != b->from) return a->from < b->from ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

/* Gives worker P its accumulators for the pass's count/sum/avg/min/max instances, in
 * one block laid out [group][instance], the instances ordered by their window's start:
 * a row's accs (one per aggregate, for its period and its staff member) then lie side
 * by side, a few cache lines instead of one line each all over memory — twelve months
 * of a dozen aggregates outgrow a core's cache. Merged into the instances' own at the
 * end of the pass (exactly: counts and decimal sums add, min and max compare), so
 * results do not depend on the layout nor on the number of workers. */
static void acc_block(eval_session *s, const source_pass *sp, pass_ctx *p)
{
    acc_order *order = xcalloc(sp->mine.len + 1, sizeof *order);
    size_t n = 0;
    for (size_t i = 0; i < sp->mine.len; i++) {
        const plan_instance *in = sp->mine.items[i];
        if (in->agg->kind != IR_AGG_DISTINCT) order[n++] = (acc_order){ in->window.from, i };
    }
    qsort(order, n, sizeof *order, by_window);
    p->acc_stride = n;
    p->acc_block = xcalloc_aligned(64, n * (size_t)s->groups + 1, sizeof *p->acc_block);
    p->accs = xcalloc(sp->mine.len + 1, sizeof *p->accs);
    for (size_t k = 0; k < n; k++) p->accs[order[k].i] = p->acc_block + k;
    free(order);
}

/* The workers of SP's pass over READER: THREADS of them, sharing SH with more than one;
 * PROGRESS: the first shows the progress line. */
static void pass_start(source_pass *sp, csvr_reader *reader, int threads, shared_pass *sh, bool progress)
{
    eval_session *s = sp->s;
    key_check *key = sp->key;
    sp->threads = threads;
    sp->cover_count = 0;
    sp->cover =
        sp->time_cell >= 0 && sp->first_read ? eval_coverage_periods(s, sp->src, &sp->cover_count) : NULL;
    sp->marks = mark_days(sp->spans, sp->span_count, sp->cover, sp->cover_count);
    index_runs_by_day(sp);
    pass_ctx *workers = xcalloc_aligned(_Alignof(pass_ctx), (size_t)threads, sizeof *workers);
    for (int w = 0; w < threads; w++) {
        pass_ctx *p = &workers[w];
        p->s = s;
        p->source = sp->src;
        p->row_env = eval_row_env(s, sp->src, NULL);
        p->instances = (plan_instance **)sp->mine.items;
        p->count = sp->mine.len;
        p->runs = sp->runs;
        p->run_count = sp->run_count;
        p->spans = sp->spans;
        p->span_count = sp->span_count;
        p->time_cell = sp->time_cell;
        p->staff_cell = sp->staff_cell;
        p->staff_is_int = sp->staff_is_int;
        p->staff_memo = xcalloc(1, sizeof *p->staff_memo);
        p->unknown_chunk = UINT64_MAX;
        p->prog.on = w == 0 && progress;
        p->prog.label = sp->path;
        p->prog.reader = reader;
        clock_gettime(CLOCK_MONOTONIC, &p->prog.started);
        p->prog.last = p->prog.started;
        p->key_runs = sp->key_runs;
        p->follows = sp->follows;
        p->writers = xcalloc(sp->run_count + 1, sizeof *p->writers);
        if (w == 0) set_key_budgets(sp);
        for (size_t ri = 0; ri < sp->run_count; ri++)
            if (sp->key_runs[ri] && !sp->follows[ri]) p->writers[ri] = ks_writer_new(sp->key_runs[ri]->store);
        p->record = xcalloc(sp->max_record + 16, 1);
        p->cover = sp->cover;
        p->cover_count = sp->cover_count;
        p->marks = &sp->marks;
        p->covered = xcalloc(sp->cover_count + 1, 1);
        p->first_date = DATE_MAX;
        p->last_date = DATE_MIN;
        p->key = key->count && (sp->keys != KEYS_NONE || key->excluded_count) ? key : NULL;
        p->key_mode = sp->keys;
        if (sp->keys == KEYS_RECORD) p->key_writer = ksf_writer_new(key->firsts);
        acc_block(s, sp, p);
        if (threads > 1) p->shared = sh;
    }
    sp->workers = workers;
    /* a pass that is read again (a failed cache replay, a key's second read) drops its
     * rows: so are the scale misses they counted */
    sp->misses_before = xcalloc(s->row_scale_count + 1, sizeof *sp->misses_before);
    if (s->row_scale_count)
        memcpy(sp->misses_before, s->row_scale_misses, s->row_scale_count * sizeof *sp->misses_before);
}

/* How many threads a pass over READER takes, and in chunks of how many bytes. */
static int pass_threads(const eval_session *s, csvr_reader *reader, size_t *chunk_bytes)
{
    uint64_t total_bytes = 0, ignored;
    csvr_progress(reader, &ignored, &total_bytes);
    int threads = thread_count(s);
    *chunk_bytes = s->options.chunk_bytes ? s->options.chunk_bytes : CHUNK_BYTES;
    /* a file of a chunk or two gains nothing from threads; a pipe is read in order */
    if ((uint64_t)*chunk_bytes * 2 > total_bytes || !csvr_is_seekable(reader)) threads = 1;
    return threads;
}

/* Reads READER into the lanes of THREADS threads (lanes[w] is thread w's), each lane
 * feeding the contexts of one or two sessions. The status of the pass; SH->error holds
 * its error. */
static csvr_status pass_read(csvr_reader *reader, pass_lane *lanes, int threads, shared_pass *sh)
{
    csvr_status status = CSVR_OK;
    if (threads == 1) {
        csvr_handlers h = lane_handlers(&lanes[0]);
        csvr_error err;
        status = csvr_read(reader, &h, &err);
        if (status == CSVR_ERROR) sh->error = err;
    } else {
        pthread_t *tids = xcalloc((size_t)threads, sizeof *tids);
        bool *started = xcalloc((size_t)threads, sizeof *started);
        for (int w = 1; w < threads; w++)
            started[w] = pthread_create(&tids[w], NULL, pass_worker, &lanes[w]) == 0;
        pass_worker(&lanes[0]);
        for (int w = 1; w < threads; w++)
            if (started[w]) pthread_join(tids[w], NULL);
        free(started);
        free(tids);
        if (sh->error_chunk != UINT64_MAX || sh->planning_failed) status = CSVR_ERROR;
    }
    return status;
}

/* ---- aggregates one session computes for both -----------------------------------------
 *
 * Two specs in a diff mostly hold the same aggregates: a proposed change touches one
 * indicator and leaves the others. In a shared pass, an aggregate of the second session
 * whose twin (ir_agg_twins: the same figure from the same rows, computing nothing but
 * its value) the first session computes over the same instances, for the same roster, is
 * not computed again: the second session takes the first's accumulators or distinct
 * counts when the pass ends. A distinct run is borrowed whole with its key run, when
 * every member of that key run has its twin in one key run of the first session; a key
 * run holding a set is never borrowed (the set is read through its session later). */

/* Whether A and B group rows into the same staff groups: the same ids, in the same
 * roster order, with the same first roster row. */
static bool same_roster(const eval_session *a, const eval_session *b)
{
    if (a->groups != b->groups || a->staff_ids.count != b->staff_ids.count) return false;
    for (uint32_t id = 0; id < (uint32_t)a->staff_ids.count; id++) {
        size_t len = strtab_len(&a->staff_ids, id);
        if (len != strtab_len(&b->staff_ids, id) ||
            memcmp(strtab_str(&a->staff_ids, id), strtab_str(&b->staff_ids, id), len) != 0 ||
            a->id_first_row[id] != b->id_first_row[id])
            return false;
    }
    return true;
}

/* Whether run RA of pass A and run RB of pass B are over the same instances: periods
 * and windows. */
static bool same_instances(const source_pass *a, size_t ra, const source_pass *b, size_t rb)
{
    const agg_run *x = &a->runs[ra], *y = &b->runs[rb];
    if (x->count != y->count) return false;
    for (size_t j = 0; j < x->count; j++) {
        const plan_instance *i = a->mine.items[x->first + j], *k = b->mine.items[y->first + j];
        if (!period_same(i->period, k->period) || i->window.from != k->window.from ||
            i->window.to != k->window.to)
            return false;
    }
    return true;
}

/* Whether run RA of pass A and run RB of pass B are one aggregate over the same instances. */
static bool twin_runs(const source_pass *a, size_t ra, const source_pass *b, size_t rb)
{
    const plan_agg *f = a->runs[ra].agg, *g = b->runs[rb].agg;
    return f->kind == g->kind && f->per_staff == g->per_staff &&
           f->where_uses_period == g->where_uses_period && f->arg_uses_period == g->arg_uses_period &&
           (a->key_runs[ra] == NULL) == (b->key_runs[rb] == NULL) && ir_agg_twins(f->ir, g->ir) &&
           same_instances(a, ra, b, rb);
}

/* The run of A that is RB's twin, or SIZE_MAX. */
static size_t find_twin(const source_pass *a, const source_pass *b, size_t rb)
{
    for (size_t ra = 0; ra < a->run_count; ra++)
        if (twin_runs(a, ra, b, rb)) return ra;
    return SIZE_MAX;
}

/* For B's key run led by run LEAD, whose members are not all twins of one key run of
 * A's: a key run of A that records the same keys from the same rows over the same
 * instances (ir_agg_same_keys), in whose entries every member of B's finds the having
 * slots it needs (ir_agg_same_slots; a member without slots, any) and whose having
 * computes a value and nothing else.
 * Then B's counts are taken over A's store with B's own having (a proposed change to a
 * having's threshold records no key twice): the view returned, malloc'd, its leader run
 * in *LEAD_A. NULL when there is none. */
static key_run *key_run_view(const source_pass *a, const source_pass *b, size_t lead, size_t *lead_a)
{
    const key_run *kb = b->key_runs[lead];
    const ast_decl *src = b->src;
    for (size_t i = 0; i < kb->member_count; i++) {
        const plan_agg *mb = kb->members[i].agg;
        if (mb->set || mb->member_set || !ir_expr_twins(mb->ir->having, src, mb->ir->having, src))
            return NULL;
    }
    for (size_t ra = 0; ra < a->run_count; ra++) {
        const key_run *ka = a->key_runs[ra];
        if (!ka || a->follows[ra] || run_has_set(ka) || ka->count != kb->count ||
            ka->staff_cells != kb->staff_cells ||
            !ir_agg_same_keys(a->runs[ra].agg->ir, b->runs[lead].agg->ir) || !same_instances(a, ra, b, lead))
            continue;
        key_member *members = xcalloc(kb->member_count, sizeof *members);
        size_t found = 0;
        for (size_t i = 0; i < kb->member_count; i++)
            for (size_t j = 0; j < ka->member_count && found == i; j++)
                if (!kb->members[i].nslots ||
                    ir_agg_same_slots(ka->members[j].agg->ir, kb->members[i].agg->ir)) {
                    members[i] = ka->members[j];
                    members[i].agg = kb->members[i].agg;
                    members[i].passed_at = SIZE_MAX;
                    found++;
                }
        if (found < kb->member_count) {
            free(members);
            continue;
        }
        key_run *view = xcalloc(1, sizeof *view);
        *view = (key_run){ ka->store, members,         kb->member_count,  kb->instances,
                           kb->count, kb->staff_cells, ka->derived_total, ka };
        *lead_a = ra;
        return view;
    }
    return NULL;
}

/* Decides which of B's runs A computes (B's borrowed, twin and twin_reach, in B's
 * arena); false when none. */
static bool pass_borrow(source_pass *a, source_pass *b)
{
    if (!same_roster(a->s, b->s) || a->time_cell != b->time_cell || a->staff_cell != b->staff_cell)
        return false;
    arena *mem = &b->s->mem;
    bool *borrowed = arena_alloc(mem, (b->run_count + 1) * sizeof *borrowed);
    size_t *twin = arena_alloc(mem, (b->run_count + 1) * sizeof *twin);
    size_t *reach = arena_alloc(mem, (b->run_count + 1) * sizeof *reach);
    bool any = false;
    for (size_t rb = 0; rb < b->run_count; rb++) {
        borrowed[rb] = false;
        if (b->key_runs[rb]) continue;
        size_t ra = find_twin(a, b, rb);
        if (ra == SIZE_MAX) continue;
        borrowed[rb] = any = true;
        twin[rb] = reach[rb] = ra;
    }
    /* distinct runs, a key run at a time: from its leader (the run that records its keys) */
    for (size_t lead = 0; lead < b->run_count; lead++) {
        key_run *kb = b->key_runs[lead];
        if (!kb || b->follows[lead] || run_has_set(kb)) continue;
        const key_run *ka = NULL;
        bool whole = true;
        for (size_t rb = lead; rb < b->run_count && whole; rb++) {
            if (b->key_runs[rb] != kb) continue;
            size_t ra = find_twin(a, b, rb);
            whole = ra != SIZE_MAX && (ka == NULL || a->key_runs[ra] == ka);
            if (whole) {
                ka = a->key_runs[ra];
                twin[rb] = ra;
            }
        }
        key_run *view = NULL;
        size_t lead_a = 0;
        if (!whole || !ka || run_has_set(ka) || ka->staff_cells != kb->staff_cells ||
            ka->count != kb->count) {
            /* not every member has its twin: the keys may still be the lender's */
            view = key_run_view(a, b, lead, &lead_a);
            if (!view) continue;
        } else {
            while (a->key_runs[lead_a] != ka || a->follows[lead_a]) lead_a++;
        }
        for (size_t rb = lead; rb < b->run_count; rb++) {
            if (b->key_runs[rb] != kb) continue;
            borrowed[rb] = any = true;
            reach[rb] = lead_a;
            if (view) {
                if (!b->view) b->view = xcalloc(b->run_count + 1, sizeof *b->view);
                b->view[rb] = view;
            }
        }
    }
    if (!any) return false;
    b->lender = a;
    b->borrowed = borrowed;
    b->twin = twin;
    b->twin_reach = reach;
    return true;
}

/* After the lender concluded: the results of B's borrowed run RB, from its twin's
 * instances (accumulators, finished here so that an overflow is B's error too; distinct
 * counts as they are). False if the lender did not finish them (it failed). */
static bool take_borrowed(source_pass *b, size_t rb)
{
    eval_session *s = b->s;
    const agg_run *run = &b->runs[rb], *from = &b->lender->runs[b->twin[rb]];
    for (size_t j = 0; j < run->count; j++) {
        plan_instance *in = b->mine.items[run->first + j];
        const plan_instance *twin = b->lender->mine.items[from->first + j];
        const inst_state *ts = twin->state;
        inst_state *st = in->state;
        if (!ts || !ts->done) return false;
        if (!b->key_runs[rb]) {
            memcpy(st->accs, ts->accs, (size_t)s->groups * sizeof *st->accs);
            finish_instance(s, in);
            continue;
        }
        st->result = xcalloc((size_t)s->groups, sizeof *st->result);
        memcpy(st->result, ts->result, (size_t)s->groups * sizeof *st->result);
        st->done = true;
    }
    return true;
}

/* After the rows of SP's pass were read from READER with STATUS (ERR its error): the
 * key settled or read again, counts, rejects and warnings kept, workers merged, and
 * the instances finished. The caller closes READER. */
static pass_result pass_conclude(source_pass *sp, csvr_reader *reader, csvr_status status,
                                 const csvr_error *err)
{
    eval_session *s = sp->s;
    const ast_decl *src = sp->src;
    eval_source_stats *stats = sp->stats;
    key_check *key = sp->key;
    key_mode keys = sp->keys;
    pass_ctx *workers = sp->workers;
    int threads = sp->threads;
    const char *path = sp->path;
    ptr_vec mine = sp->mine;
    bool first_read = sp->first_read;
    progress_tick(&workers[0].prog, true);

    /* the key: read again when a key repeated or was empty; settled when it was */
    uint64_t empty_keys = 0;
    for (int w = 0; w < threads; w++) {
        if (status == CSVR_OK) ksf_writer_free(workers[w].key_writer);
        else ksf_writer_discard(workers[w].key_writer);
        workers[w].key_writer = NULL;
        empty_keys += workers[w].empty_keys;
    }
    bool uncached = status == CSVR_ERROR && err->kind == CSVR_ERR_CACHE;
    bool again =
        uncached || (keys == KEYS_RECORD && status == CSVR_OK && (ksf_repeats(key->firsts) || empty_keys));
    bool ok = status == CSVR_OK && !again;
    if (keys == KEYS_LOCATE && ok) {
        /* the rows found are reported, or skipped by the next read */
        if (eval_settle_keys(s, src, key, path, workers, threads)) again = true;
        ok = false;
    }
    if (again) {
        /* nothing of this pass is kept: not its figures, counts, rejects or warnings (nor
         * the row values it found outside a scale: the next read counts them again) */
        if (s->row_scale_count)
            memcpy(s->row_scale_misses, sp->misses_before, s->row_scale_count * sizeof *sp->misses_before);
        for (int w = 0; w < threads; w++) {
            for (size_t i = 0; i < workers[w].reject_count; i++) free(workers[w].rejects[i].text);
            workers[w].reject_count = 0;
        }
        first_read = false;
    }
    free(sp->misses_before);
    sp->misses_before = NULL;
    free(sp->marks.at);
    sp->marks.at = NULL;
    for (size_t i = 0; i < sp->day_table_count; i++) free(sp->day_tables[i]);
    free(sp->day_tables);
    sp->day_tables = NULL;
    sp->day_table_count = 0;
    for (size_t ri = 0; ri < sp->run_count; ri++) sp->runs[ri].by_day = NULL;

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
        if (first_read) buf_add(&s->rejects, all[i].text, all[i].len);
        free(all[i].text);
    }
    free(all);

    if (status == CSVR_ERROR && !uncached) eval_report_csv_error(s, err);
    if (first_read) csvr_sha256_hex(reader, stats->sha256);
    if (csvr_cache_note(reader))
        diag_report_data(s->diags, DIAG_NOTE, path, 0, 0, "cache", "%s", csvr_cache_note(reader));
    if (!again) stats->read = true;
    /* after a failed pass the count depends on how far each thread got: say nothing */
    if (unknown && first_read && ok)
        diag_report_data(s->diags, DIAG_WARNING, path, 0, 0, "unknown-staff",
                         "%llu row%s credited to staff ids not in the roster (e.g. '%s'); %s in totals only",
                         (unsigned long long)unknown, unknown == 1 ? " is" : "s are", example,
                         unknown == 1 ? "it counts" : "they count");
    if (sp->cover && ok) {
        date_t first = DATE_MAX, last = DATE_MIN;
        for (int w = 1; w < threads; w++)
            for (size_t i = 0; i < sp->cover_count; i++) workers[0].covered[i] |= workers[w].covered[i];
        for (int w = 0; w < threads; w++) {
            if (workers[w].first_date < first) first = workers[w].first_date;
            if (workers[w].last_date > last) last = workers[w].last_date;
        }
        eval_report_coverage(s, src, path, sp->cover, sp->cover_count, workers[0].covered, first, last);
    }
    for (int w = 0; w < threads; w++) {
        pass_ctx *p = &workers[w];
        for (size_t i = 0; ok && i < mine.len; i++) {
            plan_instance *in = mine.items[i];
            if (!p->accs[i]) continue;
            for (int g = 0; g < s->groups; g++)
                acc_merge(&((inst_state *)in->state)->accs[g], &p->accs[i][(size_t)g * p->acc_stride],
                          in->agg->kind);
        }
        free(p->acc_block);
        free(p->accs);
        for (size_t ri = 0; ri < sp->run_count; ri++) {
            if (ok) ks_writer_free(p->writers[ri]);
            else ks_writer_discard(p->writers[ri]);
        }
        for (size_t i = 0; i < p->seen_count; i++) {
            free(p->seen[i].key);
            free(p->seen[i].raw);
            free(p->seen[i].bytes);
        }
        free(p->seen);
        free(p->reached);
        free(p->key_buf);
        free(p->writers);
        free(p->record);
        free(p->staff_memo);
        free(p->covered);
        free(p->rejects);
    }
    free(workers);
    sp->workers = NULL;
    if (again) {
        for (size_t i = 0; i < mine.len; i++) {
            plan_instance *in = mine.items[i];
            eval_free_inst_state(in->state);
            in->state = NULL;
        }
        for (size_t i = sp->runs_before; i < s->key_runs.len; i++) {
            key_run *run = s->key_runs.items[i];
            ks_free(run->store);
            free(run->instances);
            free(run->members);
            free(run);
        }
        s->key_runs.len = sp->runs_before;
        return uncached ? PASS_UNCACHED : PASS_AGAIN;
    }
    if (!ok) return PASS_FAILED;
    /* sets first: distinct() instances of this pass may be intersected with them */
    for (int sets_first = 1; sets_first >= 0; sets_first--)
        for (size_t ri = 0; ri < sp->run_count; ri++) {
            if (sp->borrowed && sp->borrowed[ri]) {
                /* never a set: finished in the first round, over the lender's keys (by the
                 * run that leads the key run) or from its figures */
                if (!sets_first) continue;
                if (sp->view && sp->view[ri]) {
                    if (!sp->follows[ri]) finish_key_run(s, sp->view[ri], sp->threads);
                } else if (!take_borrowed(sp, ri)) {
                    diag_report_data(
                        s->diags, DIAG_ERROR, path, 0, 0, "data",
                        "internal error: an aggregate shared with the other spec was not computed");
                    s->failed = true;
                    return PASS_FAILED;
                }
                continue;
            }
            key_run *kr = sp->key_runs[ri];
            if (kr) {
                /* a key run holding a set finishes with the sets */
                if (!sp->follows[ri] && run_has_set(kr) == sets_first) finish_key_run(s, kr, sp->threads);
                continue;
            }
            if ((sp->runs[ri].agg->set != NULL) != sets_first) continue;
            for (size_t j = 0; j < sp->runs[ri].count; j++)
                finish_instance(s, mine.items[sp->runs[ri].first + j]);
        }
    return PASS_OK;
}

/* Reads READER (opened, its header checked) for the N prepared passes SP (N is 1, or 2
 * for a shared pass: each row goes to the first and then the second), concludes each
 * into RESULT and closes READER. */
static void pass_run_reader(source_pass **sp, int n, csvr_reader *reader, pass_result *result)
{
    eval_session *s = sp[0]->s;
    if (pass_cacheable(sp[0])) {
        csvr_use_cache(reader, s->options.cache_dir, pass_cache_flags(sp[0]));
        /* the union of what the sessions read */
        bool *used = pass_used_columns(sp[0]);
        for (int k = 1; k < n; k++) {
            bool *other = pass_used_columns(sp[k]);
            for (size_t c = 0; c < sp[0]->n; c++) used[c] = used[c] || other[c];
            free(other);
        }
        csvr_set_used_columns(reader, used);
        free(used);
    }
    size_t chunk_bytes;
    int threads = pass_threads(s, reader, &chunk_bytes);
    shared_pass sh = { .reader = reader, .chunk_bytes = chunk_bytes, .error_chunk = UINT64_MAX };
    pthread_mutex_init(&sh.lock, NULL);
    for (int k = 0; k < n; k++) pass_start(sp[k], reader, threads, &sh, k == 0 && s->options.progress);
    if (n == 2 && pass_borrow(sp[0], sp[1]))
        for (int w = 0; w < threads; w++) {
            sp[0]->workers[w].reached = xcalloc(sp[0]->run_count + 1, sizeof *sp[0]->workers[w].reached);
            sp[1]->workers[w].borrowed = sp[1]->borrowed;
            sp[1]->workers[w].twin_run = sp[1]->twin_reach;
            sp[1]->workers[w].twin = &sp[0]->workers[w];
        }
    pass_lane *lanes = xcalloc((size_t)threads, sizeof *lanes);
    for (int w = 0; w < threads; w++) {
        lanes[w].count = n;
        for (int k = 0; k < n; k++) lanes[w].ctx[k] = &sp[k]->workers[w];
    }
    csvr_status status = pass_read(reader, lanes, threads, &sh);
    free(lanes);
    pthread_mutex_destroy(&sh.lock);
    for (int k = 0; k < n; k++) result[k] = pass_conclude(sp[k], reader, status, &sh.error);
    for (int k = 0; k < n; k++)
        for (size_t ri = 0; sp[k]->view && ri < sp[k]->run_count; ri++)
            if (sp[k]->view[ri] && !sp[k]->follows[ri]) {
                free(sp[k]->view[ri]->members);
                free(sp[k]->view[ri]);
            }
    for (int k = 0; k < n; k++) free(sp[k]->view);
    csvr_close(reader);
}

/* Opens, reads and concludes a prepared pass on its own. */
static pass_result pass_run_alone(source_pass *sp)
{
    /* a file outside the allowed folders was reported: the run fails once every source
     * was looked at (eval_execute), so that each such file is reported */
    if (!sp->mine.len || !sp->allowed) return PASS_OK;
    pass_result result = PASS_OK;
    csvr_reader *reader = pass_open(sp, &result);
    if (!reader) return result;
    if (!pass_check_header(sp, reader)) {
        csvr_close(reader);
        return PASS_FAILED;
    }
    pass_run_reader(&sp, 1, reader, &result);
    return result;
}

static pass_result read_source_pass(eval_session *s, size_t source_index, int level, key_mode keys)
{
    source_pass sp;
    pass_result result = pass_prepare(&sp, s, source_index, level, keys);
    if (result != PASS_OK) return result;
    return pass_run_alone(&sp);
}

/* ---- one pass for two sessions -------------------------------------------------------
 *
 * `kpic diff --period` evaluates two specs over the same files. When both read a source
 * the same way — the same file, the same declared columns in the same order with the
 * same types and formats, no key, the same reading options — one reader feeds both
 * sessions' workers: each row goes to the first session's aggregates, then to the
 * second's, and each session concludes the pass as if it had read the file alone
 * (its own counts, warnings, notes and figures). Anything else is read once per
 * session, as before. */

static bool same_text(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static const void *in_memory_bytes(const eval_session *s, const ast_decl *src)
{
    const char *name = src->kind == DECL_STAFF ? "staff" : src->name;
    const void *bytes = NULL;
    for (size_t i = 0; i < s->options.override_count; i++)
        if (!strcmp(s->options.overrides[i].source, name) && s->options.overrides[i].bytes)
            bytes = s->options.overrides[i].bytes;
    return bytes;
}

/* Whether the options of A and B read a file alike. */
static bool same_reading(const eval_options *a, const eval_options *b)
{
    return a->skip_bad_rows == b->skip_bad_rows && same_text(a->rejects_path, b->rejects_path) &&
           !a->rejects_path && a->threads == b->threads && a->chunk_bytes == b->chunk_bytes &&
           same_text(a->cache_dir, b->cache_dir) && a->verify_data == b->verify_data;
}

bool eval_reads_source_at(const eval_session *s, const ast_decl *src, int level)
{
    for (size_t i = 0; i < s->plan.instances.len; i++) {
        const plan_instance *in = s->plan.instances.items[i];
        if (in->agg->source == src && in->read_level == level) return true;
    }
    return false;
}

bool eval_can_share_source(eval_session *a, size_t ia, int level_a, eval_session *b, size_t ib, int level_b)
{
    if (a == b || !same_reading(&a->options, &b->options) || a->cache_rebuild != b->cache_rebuild)
        return false;
    const ast_decl *sa = a->model->sources.items[ia], *sb = b->model->sources.items[ib];
    if (eval_source_key(a, ia)->count || eval_source_key(b, ib)->count) return false;
    if (a->stats[ia].read != b->stats[ib].read) return false;
    if (!eval_reads_source_at(a, sa, level_a) || !eval_reads_source_at(b, sb, level_b)) return false;
    if (strcmp(eval_source_path(a, sa), eval_source_path(b, sb)) ||
        in_memory_bytes(a, sa) != in_memory_bytes(b, sb))
        return false;
    if (!same_text(sa->u.source.encoding, sb->u.source.encoding) ||
        sa->u.source.column_count != sb->u.source.column_count)
        return false;
    for (int c = 0; c < sa->u.source.column_count; c++) {
        const ast_column *x = &sa->u.source.columns[c], *y = &sb->u.source.columns[c];
        if (strcmp(ast_column_header(x), ast_column_header(y)) || x->type != y->type ||
            !same_text(x->format, y->format) || !same_text(x->true_word, y->true_word) ||
            !same_text(x->false_word, y->false_word))
            return false;
    }
    return true;
}

/* The shared pass over one reader, for two prepared passes of sources eval_can_share_source
 * accepted. */
static void pass_run_shared(source_pass *sp[2], pass_result result[2])
{
    pass_result opened = PASS_OK;
    csvr_reader *reader = pass_open(sp[0], &opened);
    if (!reader) {
        /* the first session was told why; the second opens the file for itself and is
         * told the same in its own sink */
        result[0] = opened;
        result[1] = pass_run_alone(sp[1]);
        return;
    }
    /* the same header and the same declared columns: both pass, or both report (a side
     * that passed would read on its own) */
    bool header[2] = { pass_check_header(sp[0], reader), pass_check_header(sp[1], reader) };
    if (!header[0] || !header[1]) {
        csvr_close(reader);
        result[0] = header[0] ? pass_run_alone(sp[0]) : PASS_FAILED;
        result[1] = header[1] ? pass_run_alone(sp[1]) : PASS_FAILED;
        return;
    }
    pass_run_reader(sp, 2, reader, result);
}

void eval_read_source_pair(eval_session *a, size_t ia, int level_a, eval_session *b, size_t ib, int level_b,
                           bool ok[2])
{
    eval_session *s[2] = { a, b };
    size_t index[2] = { ia, ib };
    int level[2] = { level_a, level_b };
    pass_result result[2];
    source_pass passes[2], *sp[2] = { &passes[0], &passes[1] };
    for (int k = 0; k < 2; k++) result[k] = pass_prepare(sp[k], s[k], index[k], level[k], KEYS_NONE);
    if (result[0] == PASS_OK && result[1] == PASS_OK && sp[0]->mine.len && sp[1]->mine.len &&
        sp[0]->allowed && sp[1]->allowed) {
        pass_run_shared(sp, result);
    } else {
        for (int k = 0; k < 2; k++)
            if (result[k] == PASS_OK) result[k] = pass_run_alone(sp[k]);
    }
    if (result[0] == PASS_UNCACHED && result[1] == PASS_UNCACHED && !a->cache_rebuild) {
        /* a replay failed part way (for both: they read one cache): one more shared pass,
         * over the file, writes the cache again */
        a->cache_rebuild = b->cache_rebuild = true;
        eval_read_source_pair(a, ia, level_a, b, ib, level_b, ok);
        a->cache_rebuild = b->cache_rebuild = false;
        return;
    }
    for (int k = 0; k < 2; k++) {
        if (result[k] == PASS_UNCACHED) {
            s[k]->cache_rebuild = true;
            result[k] = read_source_pass(s[k], index[k], level[k], KEYS_NONE);
            s[k]->cache_rebuild = false;
        }
        ok[k] = result[k] == PASS_OK;
    }
}
