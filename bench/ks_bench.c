/* ks_bench.c -- times the key store (src/engine/keystore.c) on the shape of a
 * twelve-month distinct count, without the rest of the evaluator.
 *
 * Like `distinct(orders.customer_id having count() >= 2)` per staff member over twelve
 * months of bench/gen_orders.py data: RECORDS rows (default 5,000,000) of 9-byte
 * customer ids drawn from 1,000,000, each added to its month's total cell and to its
 * (month, staff member) cell among 200, with a one-byte extra that the payload (one
 * count) sums; THREADS writers (default 2) split the rows. Then one walk over every
 * entry counts the keys seen twice or more, as the evaluator's tally does. Prints the
 * CPU seconds of the pass and of the walk, the entries and a checksum (equal for
 * every version of the store).
 *
 *     gcc -O2 -Iinclude -o /tmp/ks_bench bench/ks_bench.c src/engine/keystore.c \
 *         src/base/hash.c src/base/arena.c -lcrypto -lpthread
 *     /tmp/ks_bench [RECORDS] [THREADS] [sorted]
 *
 * With `sorted`, the store is a sorted one (ks_set_sorted), as the evaluator's are: its
 * records are merged when the walk first reads each partition, so the walk's time holds
 * the merge. The same entries, repeated count and checksum come out.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kpic/keystore.h"

enum { CUSTOMERS = 1000000, STAFF = 200, MONTHS = 12, GROUPS = STAFF + 1 };

static void apply_count(void *ctx, void *payload, const void *extra)
{
    (void)ctx;
    int64_t *n = payload;
    *n += *(const unsigned char *)extra;
}

static void merge_count(void *ctx, void *payload, const void *other)
{
    (void)ctx;
    int64_t *n = payload;
    *n += *(const int64_t *)other;
}

typedef struct share {
    keystore *ks;
    uint64_t from, to;
} share;

/* Row I's customer, staff member and month, the same for every run. */
static void row(uint64_t i, uint32_t *customer, uint32_t *staff, uint32_t *month)
{
    uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ULL;
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 29;
    *customer = (uint32_t)(x % CUSTOMERS);
    *staff = (uint32_t)((x >> 20) % STAFF);
    *month = (uint32_t)((x >> 40) % MONTHS);
}

static void *write_share(void *arg)
{
    share *s = arg;
    ks_writer *w = ks_writer_new(s->ks);
    char key[16];
    unsigned char one = 1;
    for (uint64_t i = s->from; i < s->to; i++) {
        uint32_t customer, staff, month;
        row(i, &customer, &staff, &month);
        key[0] = 'C';
        for (int d = 8; d >= 1; d--, customer /= 10) key[d] = (char)('0' + customer % 10);
        ks_add(w, ks_hash(key, 9), key, 9, month * GROUPS + STAFF, month * GROUPS + staff, &one);
    }
    ks_writer_free(w);
    return NULL;
}

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    uint64_t records = argc > 1 ? strtoull(argv[1], NULL, 10) : 5000000;
    int threads = argc > 2 ? atoi(argv[2]) : 2;
    if (threads < 1 || threads > 16) threads = 2;
    keystore *ks = ks_new(sizeof(int64_t), 1, apply_count, NULL);
    if (argc > 3 && strcmp(argv[3], "sorted") == 0) ks_set_sorted(ks, merge_count);
    double start = cpu_seconds();
    pthread_t tids[16];
    share shares[16];
    for (int t = 0; t < threads; t++) {
        shares[t] = (share){ ks, records * (uint64_t)t / (uint64_t)threads,
                             records * (uint64_t)(t + 1) / (uint64_t)threads };
        pthread_create(&tids[t], NULL, write_share, &shares[t]);
    }
    for (int t = 0; t < threads; t++) pthread_join(tids[t], NULL);
    double pass = cpu_seconds() - start;
    start = cpu_seconds();
    uint64_t cursor = 0, repeated = 0, checksum = 0;
    ks_entry e;
    while (ks_next(ks, &cursor, &e)) {
        int64_t n;
        memcpy(&n, e.payload, sizeof n);
        repeated += n >= 2;
        checksum += (uint64_t)n * (e.cell + 1) + ((const unsigned char *)e.key)[ks_key_len(e.key) - 1];
    }
    double walk = cpu_seconds() - start;
    printf("pass %.3f s  walk %.3f s  entries %zu  repeated %llu  checksum %llu\n", pass, walk, ks_count(ks),
           (unsigned long long)repeated, (unsigned long long)checksum);
    ks_free(ks);
    return 0;
}
