/* eval_internal.h — what the evaluator's files share (src/engine/eval*.c only; eval.h
 * is the module's public face).
 *
 * The evaluator is one module in four files, one per part of a run:
 *   eval.c          the session: planning, the roster, executing a run, and the
 *                   interpreter's leaves that compute figures from finished aggregates;
 *   eval_read.c     one pass over a source: rows placed by date, filtered and
 *                   accumulated, on one thread or many, and the aggregates finished;
 *   eval_keys.c     a source's declared `key (…)`: recorded, located and settled;
 *   eval_coverage.c whether a timed source's rows reach the periods it is read for.
 */
#ifndef KPIC_EVAL_INTERNAL_H
#define KPIC_EVAL_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "kpic/buffer.h"
#include "kpic/csv_reader.h"
#include "kpic/eval.h"
#include "kpic/hash.h"
#include "kpic/interp.h"
#include "kpic/ir.h"
#include "kpic/keystore.h"
#include "kpic/plan.h"


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
    bool empty; /* an empty key: COLUMN is the empty cell's column */
    int column;
    uint64_t h;
    unsigned char *bytes; /* the encoded key */
    size_t len;
    char *key; /* the key as messages show it: order_id "A1001" */
    char *raw;
    size_t raw_len;
} key_row_seen;

/* The key of one source: its columns, and what the passes learnt about it. */
typedef struct key_check {
    int *columns;       /* declared column indexes, in key order */
    unsigned *fields;   /* their field numbers in the file's header */
    int count;          /* 0: no key */
    ks_firsts *firsts;  /* hash → first ordinal (KEYS_RECORD to KEYS_LOCATE) */
    uint64_t *excluded; /* sorted ordinals of the rows skipped for their key */
    size_t excluded_count;
    reject *rejects; /* their rejects lines, for the read that skips them */
    size_t reject_count;
} key_check;

/* One accumulator: a group of count/sum/avg/min/max, or a `having` slot of one key. */
/* 32 bytes, two to a cache line: a row adds to an acc of every aggregate, for its
 * period and staff member, and twelve months of a dozen aggregates' accs outgrow a
 * core's cache, so their size is the pass's misses. */
typedef struct acc {
    union {
        dec_t sum;  /* sum and avg */
        dec_t best; /* min and max of numbers */
    };
    int64_t n;        /* rows (count) or non-null values (the others) */
    date_t best_date; /* min/max of dates */
    bool has;
    bool overflow; /* the sum left the decimal range: the run fails */
} acc;
_Static_assert(sizeof(acc) == 32, "an acc is half a cache line");

/* One aggregate among those sharing a key run, and where its parts of a key's
 * payload and of a record lie. */
typedef struct key_member {
    const plan_agg *agg;
    size_t nslots;
    /* every slot is a count(): an int64_t per slot in the payload instead of a full acc,
     * one byte in a record */
    bool counts_only;
    size_t slots_at;  /* payload offset of its `having` slots */
    size_t inputs_at; /* record offset of its slot inputs */
    /* payload offset of its "passed having" flag (a set with `having`), or SIZE_MAX */
    size_t passed_at;
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
    /* A row with a staff group is recorded in its group's cell alone, and a key's total
     * is made when the keys are counted, from its groups' entries and the entry of its
     * rows without one (a staff run whose keys make no set: a set is looked up by its
     * total entry). Half the entries, on a store of staff cells. */
    bool derived_total;
    /* the key run whose records fill STORE, and so lays out its payloads: this one, or
     * for a view over another session's store (kpic diff), that session's */
    const struct key_run *writer;
} key_run;

typedef struct inst_state {
    acc *accs;          /* [groups]: count/sum/avg/min/max */
    key_run *keys;      /* distinct and sets: the run's shared keys */
    uint32_t member;    /* which of keys' members this instance's aggregate is */
    uint32_t pos;       /* this instance's position in keys */
    eval_value *result; /* [groups], after the pass */
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
    date_t start, end; /* a month and the quarter it opens share a start */
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
    ir_program *ir; /* the spec lowered (ir.h), in mem */
    plan plan;
    strtab strings; /* text values: distinct keys, roster text */
    /* roster */
    eval_staff *staff;
    roster_row *staff_rows;
    size_t staff_count;
    /* staff id → distinct id number (interned in roster order); small, so the lookup every
     * row makes stays in cache */
    strtab staff_ids;
    /* distinct id number → its first roster row: the group of every aggregate of that
     * person */
    int *id_first_row;
    int groups; /* staff_count + 1 */
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
    /* (call, period, group) already counted: a figure that explain or diff evaluates again
     * is one miss, not two */
    hmap scale_miss_seen;
    struct scale_miss *scale_misses;
    size_t scale_miss_count, scale_miss_cap;
    /* memoised indicator values */
    hmap memo_index;
    memo_entry *memo;
    size_t memo_count, memo_cap;
    /* rejected rows under --skip-bad-rows --rejects, in source and line order */
    byte_buf rejects;
    bool executed, failed;
    ast_expr *overflow_at; /* first expression whose arithmetic left the decimal range */
    ptr_vec key_runs;      /* key_run*: freed with the session */
    bool overflow_reported;
    /* --values cannot give a value that differs between the roster rows of one person:
     * reported, and the run fails */
    bool given_per_row;
    struct key_check *key_checks; /* [sources]: each source's `key (…)` check */
    /* the pass reads its file and rewrites its column cache: a replay of the cache failed
     * (CSVR_ERR_CACHE) */
    bool cache_rebuild;
};

typedef struct progress {
    bool on;
    const char *label;
    csvr_reader *reader;
    struct timespec started, last;
    uint64_t rows;
} progress;

enum { CHUNK_BYTES = 8 << 20 };

typedef struct shared_pass shared_pass;


/* The instances of one aggregate in a pass: instances[first .. first + count), sorted
 * by window start. When the windows do not overlap (one per period, the common case)
 * a row's date finds its only instance in BY_DAY (entry d - the day marks' first day:
 * the instance's offset in the run + 1, or 0) or, without that table, by binary
 * search instead of a scan. */
typedef struct agg_run {
    plan_agg *agg;
    size_t first, count;
    bool disjoint;
    const uint32_t *by_day;
} agg_run;

/* A pass's spans and coverage periods looked up by day: see eval_read.c mark_days. */
typedef struct day_marks {
    uint32_t *at;
    date_t from;
    size_t count;
} day_marks;

/* A worker's staff ids already looked up, by number (eval_read.c staff_group): an int
 * staff column's values, or the ids a column cache hands out as one prefix and a fixed
 * number of digits (csvr_cell.id_digits). A slot is chosen by the number alone, so the
 * memo holds one domain at a time: a cell of another prefix or width empties it. */
#define STAFF_MEMO_SLOTS  1024u
#define STAFF_MEMO_PREFIX 32u

typedef struct staff_memo_slot {
    uint64_t id;
    int32_t group; /* the staff member's group; -1: an id the roster lacks */
    uint32_t used;
} staff_memo_slot;

typedef struct staff_memo {
    uint8_t digits; /* the domain's width; 0: none yet */
    uint8_t prefix_len;
    char prefix[STAFF_MEMO_PREFIX];
    staff_memo_slot slots[STAFF_MEMO_SLOTS];
} staff_memo;

typedef struct pass_ctx {
    /* Workers' contexts sit side by side, and each bumps its counters on every row:
     * a cache line of its own keeps them from bouncing between cores. */
    _Alignas(64) eval_session *s;
    const ast_decl *source;
    eval_source_stats stats; /* this worker's counts */
    plan_instance **instances;
    size_t count;
    const struct agg_run *runs; /* the instances grouped by aggregate */
    ks_writer **writers;        /* [run_count]: this worker's writer of each key run it leads */
    /* [run_count]: the key run of each distinct run (NULL: not distinct), shared by the
     * runs of one key family */
    struct key_run *const *key_runs;
    /* [run_count]: a distinct run whose keys its family's first run records: nothing to do
     * per row */
    const bool *follows;
    unsigned char *record; /* scratch for add_key: the largest record of any run */
    interp_env row_env;    /* a row's environment but its cells (eval_row_env, once) */
    size_t run_count;
    /* The union of every instance's window, as disjoint sorted intervals: a row whose
     * date lies outside all of them (most rows, for one period) is counted and left. */
    const period_interval *spans;
    size_t span_count;
    /* [count]: where this worker accumulates a count/sum/avg/min/max instance (NULL: a
     * distinct): group g's acc at accs[i][g * acc_stride], in one block for all of them
     * (eval_read.c acc_block) */
    acc **accs;
    size_t acc_stride;
    acc *acc_block;
    int time_cell, staff_cell;
    bool staff_is_int;
    staff_memo *staff_memo;
    progress prog;
    uint64_t unknown_staff;
    uint64_t unknown_chunk; /* chunk of the example, to pick a deterministic one */
    char unknown_example[64];
    reject *rejects;
    size_t reject_count, reject_cap;
    shared_pass *shared; /* NULL with one thread */
    uint64_t chunk;      /* index of the chunk being parsed */
    /* coverage (the first read of a timed source): the earliest and latest time cell
     * this worker saw, and which of the checked periods some row fell in */
    const period_t *cover; /* sorted by start, disjoint */
    size_t cover_count;
    unsigned char *covered;        /* [cover_count] */
    const struct day_marks *marks; /* the spans and cover by day (eval_read.c) */
    date_t first_date, last_date;
    /* the source's key */
    /* records (good or bad) delivered so far in this chunk; counted only for a key, the
     * only user of ordinals */
    uint64_t chunk_record;
    key_check *key; /* NULL: no key, or a later read without skipped keys */
    key_mode key_mode;
    ksf_writer *key_writer; /* KEYS_RECORD */
    unsigned char *key_buf; /* the row's encoded key */
    size_t key_cap;
    uint64_t empty_keys; /* KEYS_RECORD: rows with an empty key cell */
    key_row_seen *seen;  /* KEYS_LOCATE */
    size_t seen_count, seen_cap;
    /* A pass shared by two sessions in which the first computes some aggregates for both
     * (eval_read.c, pass_borrow). Every worker counts the rows it is given and leaves the
     * row's staff group (-2: not looked up); the first session's worker also stamps each
     * run a row reaches (REACHED, else NULL). The second's worker skips its BORROWED runs
     * (else NULL), and looks at TWIN, the first's worker on its lane, which saw the same
     * row just before: where twin run TWIN_RUN[run] was reached, the row would have
     * reached the borrowed run too, and its staff group is looked up as it would have
     * been (the unknown staff ids it counts are the session's own). */
    uint64_t row_serial;
    int row_group;
    uint64_t *reached;
    const bool *borrowed;
    const size_t *twin_run;
    const struct pass_ctx *twin;
} pass_ctx;

struct shared_pass {
    pthread_mutex_t lock;
    csvr_reader *reader;
    size_t chunk_bytes;
    bool done;
    uint64_t error_chunk; /* lowest chunk with an error; UINT64_MAX: none */
    csvr_error error;
    bool planning_failed;
};

/* PASS_UNCACHED: a replay of the column cache failed part way; nothing of the pass is
 * kept, and the source is read again from its file. */
typedef enum pass_result { PASS_OK, PASS_FAILED, PASS_AGAIN, PASS_UNCACHED } pass_result;

/* ---- shared between the files ------------------------------------------------------ */

/* eval.c */
interp_env eval_row_env(eval_session *s, const ast_decl *source, const csvr_cell *cells);
void eval_free_inst_state(inst_state *st);

/* eval_read.c */
const char *eval_source_path(eval_session *s, const ast_decl *src);
/* Whether S's plan reads source SRC at LEVEL. */
bool eval_reads_source_at(const eval_session *s, const ast_decl *src, int level);
bool eval_may_read_source(eval_session *s, const ast_decl *src, const char *path);
csvr_reader *eval_open_declared(const eval_session *s, const ast_decl *src, const char *path,
                                const csvr_column *cols, size_t n, unsigned flags, csvr_error *err);
void eval_report_csv_error(eval_session *s, const csvr_error *e);
csvr_type eval_csv_type(ast_coltype t);
void eval_bytes_field(byte_buf *b, const char *text, size_t len, bool last);
eval_value eval_acc_result(const acc *a, ir_agg_kind kind, bool dates);
bool eval_set_has(eval_session *s, const ir_agg *set, period_t period, const void *key, size_t len);
bool eval_read_source(eval_session *s, size_t source_index, int level);
/* Whether A's source IA at LEVEL_A and B's source IB at LEVEL_B, both needed, can be read
 * in one pass that feeds both sessions: the same file declared alike, no key, the same
 * reading options and the same read (first or later). */
bool eval_can_share_source(eval_session *a, size_t ia, int level_a, eval_session *b, size_t ib, int level_b);
/* Reads them in that one pass (eval_can_share_source must hold); OK[k]: whether the
 * session's read succeeded, as eval_read_source would have said. */
void eval_read_source_pair(eval_session *a, size_t ia, int level_a, eval_session *b, size_t ib, int level_b,
                           bool ok[2]);

/* eval_keys.c */
key_check *eval_source_key(eval_session *s, size_t source_index);
uint64_t eval_record_ordinal(const pass_ctx *p);
bool eval_key_row(pass_ctx *p, const csvr_row *row, uint64_t ordinal);
bool eval_settle_keys(eval_session *s, const ast_decl *src, key_check *k, const char *path, pass_ctx *workers,
                      int threads);

/* eval_coverage.c */
period_t *eval_coverage_periods(eval_session *s, const ast_decl *src, size_t *count);
void eval_report_coverage(eval_session *s, const ast_decl *src, const char *path, const period_t *cover,
                          size_t count, const unsigned char *covered, date_t first, date_t last);

#endif
