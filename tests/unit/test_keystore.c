/* Unit tests for the partitioned key store: keys per cell, payloads applied once per
 * record and cell, binary keys, lookups, iteration, and several writers on threads
 * giving the same store as one -- each for both of the store's methods, hash tables and
 * sorted runs (ks_set_sorted); and for the first sightings by hash (ksf_). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kpic/keystore.h"

/* The payload the tests accumulate: how many records, and the sum of their extras. */
typedef struct tally {
    int64_t records;
    int64_t sum;
} tally;

static void apply_tally(void *ctx, void *payload, const void *extra)
{
    (void)ctx;
    /* the extra may hold 16-byte integers: the store hands it over aligned for them */
    assert_int_equal((uintptr_t)extra % 16, 0);
    tally *t = payload;
    int64_t x;
    memcpy(&x, extra, sizeof x);
    t->records++;
    t->sum += x;
}

static void merge_tally(void *ctx, void *payload, const void *other)
{
    (void)ctx;
    tally *t = payload;
    const tally *o = other;
    t->records += o->records;
    t->sum += o->sum;
}

static void apply_count(void *ctx, void *payload, const void *extra);
static void merge_count(void *ctx, void *payload, const void *other);

/* Whether the tests' stores are sorted (the second group of main). */
static bool sorted_stores;

static keystore *new_store(size_t payload_size, size_t extra_size, ks_apply_fn apply, void *ctx)
{
    keystore *ks = ks_new(payload_size, extra_size, apply, ctx);
    if (sorted_stores)
        ks_set_sorted(ks, apply == apply_tally ? merge_tally : apply == apply_count ? merge_count : NULL);
    return ks;
}

static int use_sorted_stores(void **state)
{
    (void)state;
    sorted_stores = true;
    return 0;
}

static void add_text(ks_writer *w, const char *key, uint32_t a, uint32_t b, int64_t x)
{
    ks_add(w, ks_hash(key, strlen(key)), key, strlen(key), a, b, &x);
}

static tally *find_text(const keystore *ks, const char *key, uint32_t cell)
{
    return ks_find(ks, ks_hash(key, strlen(key)), key, strlen(key), cell);
}

static void test_cells_and_payloads(void **state)
{
    (void)state;
    keystore *ks = new_store(sizeof(tally), sizeof(int64_t), apply_tally, NULL);
    ks_writer *w = ks_writer_new(ks);
    add_text(w, "C1", 0, 5, 10);
    add_text(w, "C1", 0, 6, 1);
    add_text(w, "C2", 0, KS_NO_CELL, 7);
    add_text(w, "C1", 0, 5, 100);
    /* nothing is visible before the flush */
    assert_null(find_text(ks, "C1", 0));
    ks_writer_free(w);

    tally *t = find_text(ks, "C1", 0);
    assert_non_null(t);
    assert_int_equal(t->records, 3);
    assert_int_equal(t->sum, 111);
    t = find_text(ks, "C1", 5);
    assert_int_equal(t->records, 2);
    assert_int_equal(t->sum, 110);
    assert_int_equal(find_text(ks, "C1", 6)->sum, 1);
    assert_int_equal(find_text(ks, "C2", 0)->sum, 7);
    assert_null(find_text(ks, "C2", 5)); /* KS_NO_CELL records one cell only */
    assert_null(find_text(ks, "C3", 0)); /* never added */
    assert_null(find_text(ks, "C", 0));  /* a prefix is another key */
    assert_int_equal(ks_count(ks), 4);   /* (C1,0) (C1,5) (C1,6) (C2,0) */

    /* iteration visits each (key, cell) once */
    uint64_t cursor = 0;
    ks_entry e;
    int64_t records = 0, sum = 0;
    size_t seen = 0;
    while (ks_next(ks, &cursor, &e)) {
        assert_true(ks_key_len(e.key) == 2 && memcmp(e.key, "C", 1) == 0);
        const tally *p = e.payload;
        records += p->records;
        sum += p->sum;
        seen++;
    }
    assert_int_equal(seen, 4);
    assert_int_equal(records, 3 + 2 + 1 + 1);
    assert_int_equal(sum, 111 + 110 + 1 + 7);
    assert_false(ks_next(ks, &cursor, &e)); /* stays at the end */
    ks_free(ks);
}

static void test_binary_keys_without_payload(void **state)
{
    (void)state;
    keystore *ks = new_store(0, 0, NULL, NULL);
    ks_writer *w = ks_writer_new(ks);
    const unsigned char a[3] = { 0, 1, 0 }, b[3] = { 0, 1, 1 }, c[2] = { 0, 1 };
    ks_add(w, ks_hash(a, 3), a, 3, 1, KS_NO_CELL, NULL);
    ks_add(w, ks_hash(b, 3), b, 3, 1, KS_NO_CELL, NULL);
    ks_add(w, ks_hash(a, 3), a, 3, 1, KS_NO_CELL, NULL);
    ks_add(w, ks_hash("", 0), "", 0, 1, KS_NO_CELL, NULL); /* the empty key is a key */
    ks_writer_free(w);
    assert_non_null(ks_find(ks, ks_hash("", 0), "", 0, 1));
    assert_non_null(ks_find(ks, ks_hash(a, 3), a, 3, 1));
    assert_non_null(ks_find(ks, ks_hash(b, 3), b, 3, 1));
    assert_null(ks_find(ks, ks_hash(c, 2), c, 2, 1)); /* NUL bytes are part of a key */
    assert_null(ks_find(ks, ks_hash(a, 3), a, 3, 0));
    assert_int_equal(ks_count(ks), 3);
    ks_free(ks);
}

static void test_discard(void **state)
{
    (void)state;
    keystore *ks = new_store(sizeof(tally), sizeof(int64_t), apply_tally, NULL);
    ks_writer *w = ks_writer_new(ks);
    add_text(w, "gone", 0, KS_NO_CELL, 1);
    ks_writer_discard(w);
    assert_null(find_text(ks, "gone", 0));
    assert_int_equal(ks_count(ks), 0);
    ks_free(ks);
}

/* Keys that share a hash: ks_add takes the caller's hash, so forcing one hash on every
 * key puts them all in one partition, on one probe chain, with equal tags. Each must
 * still be its own key, told apart by its bytes alone, across growth of both tables;
 * a key absent but of the same hash is found absent. */
static void test_collisions(void **state)
{
    (void)state;
    enum { N = 3000 };
    const uint64_t same = UINT64_C(0x0123456789abcdef);
    keystore *ks = new_store(sizeof(tally), sizeof(int64_t), apply_tally, NULL);
    ks_writer *w = ks_writer_new(ks);
    char key[32];
    for (int round = 0; round < 2; round++)
        for (int k = 0; k < N; k++) {
            int64_t x = k;
            int len = snprintf(key, sizeof key, "k%d", k);
            ks_add(w, same, key, (size_t)len, 0, (uint32_t)(1 + k % 5), &x);
        }
    /* keys of one hash in one cell alone: side by side in a sorted store */
    for (int k = 0; k < 50; k++) {
        int64_t x = k;
        int len = snprintf(key, sizeof key, "z%d", k);
        ks_add(w, same, key, (size_t)len, 7, KS_NO_CELL, &x);
    }
    ks_writer_free(w);
    assert_int_equal(ks_count(ks), 2 * N + 50);
    for (int k = 0; k < 50; k++) {
        int len = snprintf(key, sizeof key, "z%d", k);
        const tally *t = ks_find(ks, same, key, (size_t)len, 7);
        assert_non_null(t);
        assert_int_equal(t->records, 1);
        assert_int_equal(t->sum, k);
    }
    for (int k = 0; k < N; k++) {
        int len = snprintf(key, sizeof key, "k%d", k);
        const tally *t = ks_find(ks, same, key, (size_t)len, 0);
        assert_non_null(t);
        assert_int_equal(t->records, 2);
        assert_int_equal(t->sum, 2 * k);
        t = ks_find(ks, same, key, (size_t)len, (uint32_t)(1 + k % 5));
        assert_non_null(t);
        assert_int_equal(t->sum, 2 * k);
        assert_null(ks_find(ks, same, key, (size_t)len, (uint32_t)(1 + (k + 1) % 5)));
    }
    assert_null(ks_find(ks, same, "k", 1, 0));
    assert_null(ks_find(ks, same, "k30000", 6, 0));
    /* a key whose hash has the same low bits (its slot's tag) but another partition */
    assert_null(ks_find(ks, same ^ (UINT64_C(1) << 63), "k1", 2, 0));
    ks_free(ks);
}

/* The number of a key made by make_key ("n<number>", then padding); the key's bytes
 * are not NUL-terminated. */
static size_t key_number(const ks_entry *e)
{
    char text[16] = { 0 };
    size_t len = ks_key_len(e->key);
    assert_true(len >= 2 && e->key != NULL);
    memcpy(text, e->key, len < sizeof text - 1 ? len : sizeof text - 1);
    return strtoul(text + 1, NULL, 10);
}

/* Visits every entry once: marks (key number, cell) in SEEN, failing on a second
 * visit, and returns how many there were. Entries handed out in key order are: a
 * key's come together, in increasing cells. */
static size_t visit_all(const keystore *ks, unsigned char *seen, uint32_t cells)
{
    uint64_t cursor = 0;
    ks_entry e, before = { 0 };
    size_t visits = 0, in_order = 0;
    while (ks_next(ks, &cursor, &e)) {
        size_t n = key_number(&e);
        assert_true(e.cell < cells);
        unsigned char *mark = &seen[n * cells + e.cell];
        assert_int_equal(*mark, 0);
        if (e.in_key_order) {
            in_order++;
            if (before.key == e.key) assert_true(e.cell > before.cell);
            else
                for (uint32_t c = 0; c < cells; c++) assert_int_equal(seen[n * cells + c], 0);
        }
        *mark = 1;
        before = e;
        visits++;
    }
    /* a store of hash tables walks its tables' order; a sorted one keeps most of its
     * partitions sorted here (keys that repeat are what moves one to hash tables) */
    if (!sorted_stores) assert_int_equal(in_order, 0);
    else if (visits >= 1000) assert_true(in_order > visits / 2);
    assert_false(ks_next(ks, &cursor, &e));
    return visits;
}

/* Growth across many sizes, payload sizes and key lengths: after adding N keys (each
 * to one or two cells, twice), the store holds exactly the entries added, finds each
 * with its payload zeroed and then accumulated, finds no other, hands out payloads
 * aligned to 16 bytes, and its iteration visits every entry once. Key lengths run
 * from 2 to 201 bytes, so that the key bytes grow unevenly. */
static void apply_count(void *ctx, void *payload, const void *extra)
{
    size_t size = *(const size_t *)ctx;
    unsigned char *p = payload;
    /* every byte of the payload counts the records, so a payload that overlapped
     * another slot's, or was not zero when created, would show */
    for (size_t i = 0; i < size; i++) p[i] = (unsigned char)(p[i] + *(const unsigned char *)extra);
}

static void merge_count(void *ctx, void *payload, const void *other)
{
    size_t size = *(const size_t *)ctx;
    unsigned char *p = payload;
    const unsigned char *o = other;
    for (size_t i = 0; i < size; i++) p[i] = (unsigned char)(p[i] + o[i]);
}

static void make_key(char *key, size_t *len, size_t n)
{
    int at = snprintf(key, 256, "n%zu", n);
    size_t want = 2 + (n * 37) % 200;
    if ((size_t)at < want) {
        key[at] = ' '; /* ends the number for visit_all */
        memset(key + at + 1, 'x', want - (size_t)at - 1);
        at = (int)want;
    }
    *len = (size_t)at;
}

static void test_growth_across_sizes(void **state)
{
    (void)state;
    static const size_t sizes[] = { 0,   1,   2,   3,   47,  48,  49,   63,   64,   65,   95,    96,   97,
                                    127, 128, 129, 255, 256, 257, 1000, 4095, 4096, 4097, 12289, 50000 };
    static const size_t payloads[] = { 0, 1, 8, 16, 24, 48 };
    enum { CELLS = 3 };
    char key[256];
    for (size_t pi = 0; pi < sizeof payloads / sizeof *payloads; pi++)
        for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
            size_t n = sizes[si], size = payloads[pi];
            if (size == 48 && n > 5000) continue; /* the largest sizes once per shape suffice */
            keystore *ks = new_store(size, 1, size ? apply_count : NULL, &size);
            /* every other shape applies its records a few hundred bytes at a time */
            if (si % 2) ks_set_writer_budget(ks, 300);
            ks_writer *w = ks_writer_new(ks);
            unsigned char one = 1;
            for (int round = 0; round < 2; round++)
                for (size_t k = 0; k < n; k++) {
                    size_t len;
                    make_key(key, &len, k);
                    ks_add(w, ks_hash(key, len), key, len, (uint32_t)(k % 2), k % 3 ? 2 : KS_NO_CELL, &one);
                }
            ks_writer_free(w);
            size_t expected = 0;
            for (size_t k = 0; k < n; k++) expected += k % 3 ? 2 : 1;
            /* the bound, asked before anything is read, is never below the count: two
             * rounds of records, each pair of (record, cell) at most an entry */
            assert_true(ks_count_bound(ks) >= expected && ks_count_bound(ks) <= 2 * expected);
            assert_int_equal(ks_count(ks), expected);
            assert_int_equal(ks_count_bound(ks), expected);
            for (size_t k = 0; k < n; k++) {
                size_t len;
                make_key(key, &len, k);
                uint64_t h = ks_hash(key, len);
                unsigned char *p = ks_find(ks, h, key, len, (uint32_t)(k % 2));
                assert_non_null(p);
                if (size) {
                    assert_int_equal((uintptr_t)p % 16, 0);
                    for (size_t i = 0; i < size; i++) assert_int_equal(p[i], 2);
                }
                assert_int_equal(ks_find(ks, h, key, len, 2) != NULL, k % 3 != 0);
                assert_null(ks_find(ks, h, key, len, (uint32_t)((k + 1) % 2)));
                assert_null(ks_find(ks, h, key, len - 1, (uint32_t)(k % 2))); /* a prefix */
            }
            unsigned char *seen = calloc(n * CELLS + 1, 1);
            assert_int_equal(visit_all(ks, seen, CELLS), expected);
            free(seen);
            ks_free(ks);
        }
}

/* Iteration from saved cursors: a walk that stops after every entry and resumes from
 * a copy of the cursor sees the same entries as one walk, and a walk split by
 * partition (as the evaluator's threads split it) sees each entry in exactly one
 * share. */
static void test_iteration_resumes_and_splits(void **state)
{
    (void)state;
    enum { N = 5000, CELLS = 3 };
    keystore *ks = new_store(sizeof(int64_t), 1, apply_count, &(size_t){ sizeof(int64_t) });
    ks_writer *w = ks_writer_new(ks);
    char key[256];
    unsigned char one = 1;
    for (size_t k = 0; k < N; k++) {
        size_t len;
        make_key(key, &len, k);
        ks_add(w, ks_hash(key, len), key, len, (uint32_t)(k % 3), KS_NO_CELL, &one);
    }
    ks_writer_free(w);
    unsigned char *seen = calloc(N * CELLS, 1);
    size_t shares = 0;
    for (uint32_t from = 0; from < KS_PARTITIONS; from += KS_PARTITIONS / 4) {
        uint64_t cursor = (uint64_t)from << 32;
        ks_entry e;
        while (ks_next(ks, &cursor, &e) && (cursor >> 32) < from + KS_PARTITIONS / 4) {
            uint64_t saved = cursor; /* resuming from a copy changes nothing */
            cursor = saved;
            size_t n = key_number(&e);
            assert_true(n < N && e.cell < CELLS);
            assert_int_equal(seen[n * CELLS + e.cell], 0);
            seen[n * CELLS + e.cell] = 1;
            shares++;
        }
    }
    assert_int_equal(shares, N);
    free(seen);
    ks_free(ks);
}

/* Many keys, so that batches fill and flush on their own and tables grow; written
 * once by one writer and once by four threads: the stores must agree exactly. */
enum { KEYS = 20000, ROUNDS = 3, THREADS = 4 };

typedef struct job {
    keystore *ks;
    int part, parts;
} job;

/* Runs WRITE on THREADS threads at once, each with its share of the keys, into KS. */
static void write_on_threads(keystore *ks, void *(*write)(void *))
{
    pthread_t tids[THREADS];
    job jobs[THREADS];
    for (int t = 0; t < THREADS; t++) {
        jobs[t] = (job){ ks, t, THREADS };
        assert_int_equal(pthread_create(&tids[t], NULL, write, &jobs[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) pthread_join(tids[t], NULL);
}

static void *write_share(void *arg)
{
    job *j = arg;
    ks_writer *w = ks_writer_new(j->ks);
    char key[32];
    for (int r = 0; r < ROUNDS; r++)
        for (int k = j->part; k < KEYS; k += j->parts) {
            snprintf(key, sizeof key, "customer-%d", k);
            add_text(w, key, (uint32_t)(k % 7), k % 3 ? (uint32_t)(100 + k % 11) : KS_NO_CELL, k);
        }
    ks_writer_free(w);
    return NULL;
}

static void test_threads_agree_with_one_writer(void **state)
{
    (void)state;
    keystore *one = new_store(sizeof(tally), sizeof(int64_t), apply_tally, NULL);
    job single = { one, 0, 1 };
    write_share(&single);

    /* several writers at once, buffering as in a pass; and applying every record as it
     * comes, so that they take the partitions' locks all the time */
    keystore *many = new_store(sizeof(tally), sizeof(int64_t), apply_tally, NULL);
    keystore *eager = new_store(sizeof(tally), sizeof(int64_t), apply_tally, NULL);
    ks_set_writer_budget(eager, 1);
    write_on_threads(many, write_share);
    write_on_threads(eager, write_share);

    assert_int_equal(ks_count(one), ks_count(many));
    assert_int_equal(ks_count(one), ks_count(eager));
    uint64_t cursor = 0;
    ks_entry e;
    size_t seen = 0;
    while (ks_next(one, &cursor, &e)) {
        const tally *a = e.payload;
        const tally *b = ks_find(many, ks_hash(e.key, ks_key_len(e.key)), e.key, ks_key_len(e.key), e.cell);
        assert_non_null(b);
        assert_int_equal(a->records, ROUNDS);
        assert_int_equal(b->records, a->records);
        assert_int_equal(b->sum, a->sum);
        const tally *c = ks_find(eager, ks_hash(e.key, ks_key_len(e.key)), e.key, ks_key_len(e.key), e.cell);
        assert_non_null(c);
        assert_int_equal(c->records, a->records);
        assert_int_equal(c->sum, a->sum);
        seen++;
    }
    /* every key in its total cell, two thirds of them in a second cell as well */
    size_t second = 0;
    for (int k = 0; k < KEYS; k++) second += k % 3 != 0;
    assert_int_equal(seen, KEYS + second);
    ks_free(one);
    ks_free(many);
    ks_free(eager);
}

/* First sightings: the smallest ordinal of a repeated hash, whatever order and writer
 * added it; a hash added once is not repeated; a hash of 0 is a hash like another; a
 * discarded writer adds nothing; the tables grow past many batches. */
typedef struct first_job {
    ks_firsts *f;
    int part, parts;
} first_job;

static void *add_firsts(void *arg)
{
    first_job *j = arg;
    ksf_writer *w = ksf_writer_new(j->f);
    /* hashes 0 .. KEYS-1 once each with ordinal 1000 + h, and every tenth again,
     * later in the loop but with the smaller ordinal h */
    for (int k = j->part; k < KEYS; k += j->parts)
        ksf_add(w, (uint64_t)k * 0x9e3779b97f4a7c15ULL, 1000 + (uint64_t)k);
    for (int k = j->part; k < KEYS; k += j->parts)
        if (k % 10 == 0) ksf_add(w, (uint64_t)k * 0x9e3779b97f4a7c15ULL, (uint64_t)k);
    ksf_writer_free(w);
    return NULL;
}

/* Keys that repeat: a few hundred keys, each recorded hundreds of times, alongside keys
 * seen once, by several writers with small budgets. A sorted store's partitions whose
 * keys repeat move to hash tables in the middle of the pass and take later records
 * there, the others stay sorted: either way every entry, payload and lookup agrees with
 * a store of hash tables fed the same records by one writer, and a walk sees each
 * (key, cell) once, every key with one address. */
enum { HOT_KEYS = 300, HOT_ROUNDS = 40, COLD_KEYS = 30 };

static void *write_hot(void *arg)
{
    job *j = arg;
    ks_writer *w = ks_writer_new(j->ks);
    char key[32];
    for (int r = 0; r < HOT_ROUNDS; r++) {
        for (int k = j->part; k < HOT_KEYS; k += j->parts) {
            snprintf(key, sizeof key, "hot-%d", k);
            add_text(w, key, (uint32_t)(r % 3), k % 2 ? 10 : KS_NO_CELL, k + r);
        }
        for (int k = j->part + r * COLD_KEYS; k < (r + 1) * COLD_KEYS; k += j->parts) {
            snprintf(key, sizeof key, "cold-%d", k);
            add_text(w, key, 4, KS_NO_CELL, 1);
        }
    }
    ks_writer_free(w);
    return NULL;
}

static void test_repeated_keys(void **state)
{
    (void)state;
    keystore *reference = ks_new(sizeof(tally), sizeof(int64_t), apply_tally, NULL);
    job single = { reference, 0, 1 };
    write_hot(&single);
    for (size_t budget = 64; budget <= 65536; budget *= 32) {
        keystore *ks = new_store(sizeof(tally), sizeof(int64_t), apply_tally, NULL);
        ks_set_writer_budget(ks, budget);
        write_on_threads(ks, write_hot);
        assert_int_equal(ks_count(ks), ks_count(reference));
        uint64_t cursor = 0;
        ks_entry e;
        size_t seen = 0;
        const void *address[HOT_KEYS] = { NULL };
        /* the keys walked past so far, each once: one handed out in key order is not
         * met again */
        const void **left = test_malloc((ks_count(reference) + 1) * sizeof *left);
        size_t left_count = 0;
        ks_entry before = { 0 };
        while (ks_next(ks, &cursor, &e)) {
            if (e.key != before.key) {
                for (size_t k = 0; e.in_key_order && k < left_count; k++)
                    assert_ptr_not_equal(left[k], e.key);
                if (before.key) left[left_count++] = before.key;
            } else if (e.in_key_order) {
                assert_true(e.cell > before.cell);
            }
            before = e;
            size_t len = ks_key_len(e.key);
            /* a key has one address, whatever cells it is in */
            if (len > 4 && len < 16 && memcmp(e.key, "hot-", 4) == 0) {
                char text[16] = { 0 };
                memcpy(text, e.key, len); /* keys are not NUL-terminated */
                int k = atoi(text + 4);
                assert_true(k >= 0 && k < HOT_KEYS);
                if (!address[k]) address[k] = e.key;
                assert_ptr_equal(address[k], e.key);
            }
            const tally *a = e.payload;
            const tally *b = ks_find(reference, ks_hash(e.key, len), e.key, len, e.cell);
            assert_non_null(b);
            assert_int_equal(a->records, b->records);
            assert_int_equal(a->sum, b->sum);
            /* the store finds what it walks, at the same address */
            assert_ptr_equal(ks_find(ks, ks_hash(e.key, len), e.key, len, e.cell), e.payload);
            seen++;
        }
        assert_int_equal(seen, ks_count(reference));
        test_free(left);
        assert_null(find_text(ks, "hot-300", 0));
        assert_null(find_text(ks, "hot-1", 5));
        ks_free(ks);
    }
    ks_free(reference);
}

static void test_firsts(void **state)
{
    (void)state;
    for (int threads = 1; threads <= THREADS; threads += THREADS - 1) {
        ks_firsts *f = ksf_new();
        pthread_t tids[THREADS];
        first_job jobs[THREADS];
        for (int t = 0; t < threads; t++) {
            jobs[t] = (first_job){ f, t, threads };
            assert_int_equal(pthread_create(&tids[t], NULL, add_firsts, &jobs[t]), 0);
        }
        for (int t = 0; t < threads; t++) pthread_join(tids[t], NULL);
        assert_int_equal(ksf_repeats(f), KEYS / 10);
        for (int k = 0; k < KEYS; k++) {
            uint64_t first = 7;
            bool repeated = ksf_repeated(f, (uint64_t)k * 0x9e3779b97f4a7c15ULL, &first);
            assert_int_equal(repeated, k % 10 == 0);
            assert_int_equal(first, repeated ? (uint64_t)k : 7);
        }
        assert_true(ksf_bytes(f) >= KEYS * 16);
        /* hash 12345 (no k * the constant) twice, then discarded: still absent */
        ksf_writer *w = ksf_writer_new(f);
        ksf_add(w, 12345, 1);
        ksf_add(w, 12345, 2);
        ksf_writer_discard(w);
        uint64_t first;
        assert_false(ksf_repeated(f, 12345, &first));
        ksf_free(f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cells_and_payloads),
        cmocka_unit_test(test_binary_keys_without_payload),
        cmocka_unit_test(test_discard),
        cmocka_unit_test(test_collisions),
        cmocka_unit_test(test_growth_across_sizes),
        cmocka_unit_test(test_iteration_resumes_and_splits),
        cmocka_unit_test(test_threads_agree_with_one_writer),
        cmocka_unit_test(test_repeated_keys),
        cmocka_unit_test(test_firsts),
    };
    int failed = cmocka_run_group_tests_name("hash tables", tests, NULL, NULL);
    return failed + cmocka_run_group_tests_name("sorted runs", tests, use_sorted_stores, NULL);
}
