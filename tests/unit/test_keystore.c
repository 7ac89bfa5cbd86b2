/* Unit tests for the partitioned key store: keys per cell, payloads applied once per
 * record and cell, binary keys, lookups, iteration, and several writers on threads
 * giving the same store as one; and for the first sightings by hash (ksf_). */
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
    tally *t = payload;
    int64_t x;
    memcpy(&x, extra, sizeof x);
    t->records++;
    t->sum += x;
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
    keystore *ks = ks_new(sizeof(tally), sizeof(int64_t), apply_tally, NULL);
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
        assert_true(e.len == 2 && memcmp(e.key, "C", 1) == 0);
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
    keystore *ks = ks_new(0, 0, NULL, NULL);
    ks_writer *w = ks_writer_new(ks);
    const unsigned char a[3] = { 0, 1, 0 }, b[3] = { 0, 1, 1 }, c[2] = { 0, 1 };
    ks_add(w, ks_hash(a, 3), a, 3, 1, KS_NO_CELL, NULL);
    ks_add(w, ks_hash(b, 3), b, 3, 1, KS_NO_CELL, NULL);
    ks_add(w, ks_hash(a, 3), a, 3, 1, KS_NO_CELL, NULL);
    ks_writer_free(w);
    assert_non_null(ks_find(ks, ks_hash(a, 3), a, 3, 1));
    assert_non_null(ks_find(ks, ks_hash(b, 3), b, 3, 1));
    assert_null(ks_find(ks, ks_hash(c, 2), c, 2, 1)); /* NUL bytes are part of a key */
    assert_null(ks_find(ks, ks_hash(a, 3), a, 3, 0));
    assert_int_equal(ks_count(ks), 2);
    ks_free(ks);
}

static void test_discard(void **state)
{
    (void)state;
    keystore *ks = ks_new(sizeof(tally), sizeof(int64_t), apply_tally, NULL);
    ks_writer *w = ks_writer_new(ks);
    add_text(w, "gone", 0, KS_NO_CELL, 1);
    ks_writer_discard(w);
    assert_null(find_text(ks, "gone", 0));
    assert_int_equal(ks_count(ks), 0);
    ks_free(ks);
}

/* Many keys, so that batches fill and flush on their own and tables grow; written
 * once by one writer and once by four threads: the stores must agree exactly. */
enum { KEYS = 20000, ROUNDS = 3, THREADS = 4 };

typedef struct job {
    keystore *ks;
    int part, parts;
} job;

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
    keystore *one = ks_new(sizeof(tally), sizeof(int64_t), apply_tally, NULL);
    job single = { one, 0, 1 };
    write_share(&single);

    keystore *many = ks_new(sizeof(tally), sizeof(int64_t), apply_tally, NULL);
    pthread_t tids[THREADS];
    job jobs[THREADS];
    for (int t = 0; t < THREADS; t++) {
        jobs[t] = (job){ many, t, THREADS };
        assert_int_equal(pthread_create(&tids[t], NULL, write_share, &jobs[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) pthread_join(tids[t], NULL);

    assert_int_equal(ks_count(one), ks_count(many));
    uint64_t cursor = 0;
    ks_entry e;
    size_t seen = 0;
    while (ks_next(one, &cursor, &e)) {
        const tally *a = e.payload;
        const tally *b = ks_find(many, ks_hash(e.key, e.len), e.key, e.len, e.cell);
        assert_non_null(b);
        assert_int_equal(a->records, ROUNDS);
        assert_int_equal(b->records, a->records);
        assert_int_equal(b->sum, a->sum);
        seen++;
    }
    /* every key in its total cell, two thirds of them in a second cell as well */
    size_t second = 0;
    for (int k = 0; k < KEYS; k++) second += k % 3 != 0;
    assert_int_equal(seen, KEYS + second);
    ks_free(one);
    ks_free(many);
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
        cmocka_unit_test(test_threads_agree_with_one_writer),
        cmocka_unit_test(test_firsts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
