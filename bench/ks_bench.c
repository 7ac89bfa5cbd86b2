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
 * With `sorted`, the same records go through another method the store could take (a
 * measurement of where to go next, not what kpic does): each writer appends its records
 * to per-partition buffers, as the store's writers do, and nothing is applied during
 * the pass; afterwards each partition's records (both writers') are sorted by (32 bits
 * of the key's hash, cell) with an in-cache radix sort, and one scan over the sorted
 * records makes each (key, cell)'s count, comparing the keys' bytes where hashes tie.
 * The same entries, repeated count and checksum come out. Keys of up to 16 bytes.
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

/* ---- the sorted method --------------------------------------------------------------- */

/* A record as a sorted writer keeps it: the key's hash, one cell, the extra, the key. */
typedef struct sorted_rec {
    uint64_t h;
    uint32_t cell;
    unsigned char len, extra;
    char key[18];
} sorted_rec;

typedef struct sorted_buf {
    sorted_rec *recs;
    size_t len, cap;
} sorted_buf;

typedef struct sorted_share {
    sorted_buf *parts; /* [KS_PARTITIONS] */
    uint64_t from, to;
} sorted_share;

static void sorted_push(sorted_buf *b, uint64_t h, const char *key, size_t len, uint32_t cell,
                        unsigned char extra)
{
    if (b->len == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 1024;
        b->recs = realloc(b->recs, b->cap * sizeof *b->recs);
        if (!b->recs) abort();
    }
    sorted_rec *r = &b->recs[b->len++];
    r->h = h;
    r->cell = cell;
    r->len = (unsigned char)len;
    r->extra = extra;
    memcpy(r->key, key, len);
}

static void *sorted_write_share(void *arg)
{
    sorted_share *s = arg;
    char key[16];
    for (uint64_t i = s->from; i < s->to; i++) {
        uint32_t customer, staff, month;
        row(i, &customer, &staff, &month);
        key[0] = 'C';
        for (int d = 8; d >= 1; d--, customer /= 10) key[d] = (char)('0' + customer % 10);
        uint64_t h = ks_hash(key, 9);
        sorted_buf *b = &s->parts[h >> (64 - KS_PARTITION_BITS)];
        sorted_push(b, h, key, 9, month * GROUPS + STAFF, 1);
        sorted_push(b, h, key, 9, month * GROUPS + staff, 1);
    }
    return NULL;
}

/* An item to sort: (32 hash bits, cell) and the record it stands for. */
typedef struct sort_item {
    uint64_t order;
    const sorted_rec *rec;
} sort_item;

enum { RADIX_BITS = 11, RADIX = 1 << RADIX_BITS };

typedef struct sorted_tally {
    sorted_buf *const *writers; /* [threads][KS_PARTITIONS] */
    int threads;
    size_t from, to; /* partitions */
    uint64_t entries, repeated, checksum;
} sorted_tally;

static int by_key(const void *a, const void *b)
{
    const sorted_rec *x = ((const sort_item *)a)->rec, *y = ((const sort_item *)b)->rec;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    return memcmp(x->key, y->key, x->len);
}

static void *sorted_tally_share(void *arg)
{
    sorted_tally *t = arg;
    sort_item *items = NULL, *tmp = NULL;
    size_t room = 0;
    for (size_t part = t->from; part < t->to; part++) {
        size_t n = 0;
        for (int w = 0; w < t->threads; w++) n += t->writers[w][part].len;
        if (n > room) {
            room = n;
            items = realloc(items, room * sizeof *items);
            tmp = realloc(tmp, room * sizeof *tmp);
            if (!items || !tmp) abort();
        }
        size_t k = 0;
        int cell_bits = 1;
        while ((1u << cell_bits) <= MONTHS * GROUPS) cell_bits++;
        for (int w = 0; w < t->threads; w++) {
            const sorted_buf *b = &t->writers[w][part];
            for (size_t i = 0; i < b->len; i++)
                items[k++] =
                    (sort_item){ (b->recs[i].h & 0xffffffffu) << cell_bits | b->recs[i].cell, &b->recs[i] };
        }
        int bits = 32 + cell_bits;
        sort_item *a = items, *o = tmp;
        for (int shift = 0; shift < bits; shift += RADIX_BITS) {
            size_t count[RADIX] = { 0 };
            for (size_t i = 0; i < n; i++) count[(a[i].order >> shift) & (RADIX - 1)]++;
            size_t sum = 0;
            for (size_t d = 0; d < RADIX; d++) {
                size_t c = count[d];
                count[d] = sum;
                sum += c;
            }
            for (size_t i = 0; i < n; i++) o[count[(a[i].order >> shift) & (RADIX - 1)]++] = a[i];
            sort_item *swap = a;
            a = o;
            o = swap;
        }
        for (size_t i = 0; i < n;) {
            size_t j = i + 1;
            while (j < n && a[j].order == a[i].order) j++;
            /* (hash bits, cell) tie: the keys' bytes decide; different keys are rare */
            bool one_key = true;
            for (size_t q = i + 1; q < j && one_key; q++) one_key = by_key(&a[q], &a[i]) == 0;
            if (!one_key) qsort(a + i, j - i, sizeof *a, by_key);
            for (size_t q = i; q < j;) {
                size_t r = q + 1;
                int64_t count = a[q].rec->extra;
                while (r < j && by_key(&a[r], &a[q]) == 0) count += a[r++].rec->extra;
                t->entries++;
                t->repeated += count >= 2;
                t->checksum +=
                    (uint64_t)count * (a[q].rec->cell + 1) + (unsigned char)a[q].rec->key[a[q].rec->len - 1];
                q = r;
            }
            i = j;
        }
    }
    free(items);
    free(tmp);
    return NULL;
}

static double cpu_seconds(void);

static void run_sorted(uint64_t records, int threads)
{
    double start = cpu_seconds();
    pthread_t tids[16];
    sorted_share shares[16];
    sorted_buf *writers[16];
    for (int t = 0; t < threads; t++) {
        writers[t] = calloc(KS_PARTITIONS, sizeof(sorted_buf));
        shares[t] = (sorted_share){ writers[t], records * (uint64_t)t / (uint64_t)threads,
                                    records * (uint64_t)(t + 1) / (uint64_t)threads };
        pthread_create(&tids[t], NULL, sorted_write_share, &shares[t]);
    }
    for (int t = 0; t < threads; t++) pthread_join(tids[t], NULL);
    double pass = cpu_seconds() - start;
    start = cpu_seconds();
    sorted_tally tallies[16];
    for (int t = 0; t < threads; t++) {
        tallies[t] = (sorted_tally){ writers,
                                     threads,
                                     KS_PARTITIONS * (size_t)t / (size_t)threads,
                                     KS_PARTITIONS * (size_t)(t + 1) / (size_t)threads,
                                     0,
                                     0,
                                     0 };
        pthread_create(&tids[t], NULL, sorted_tally_share, &tallies[t]);
    }
    uint64_t entries = 0, repeated = 0, checksum = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(tids[t], NULL);
        entries += tallies[t].entries;
        repeated += tallies[t].repeated;
        checksum += tallies[t].checksum;
    }
    double walk = cpu_seconds() - start;
    printf("sorted: pass %.3f s  sort and scan %.3f s  entries %llu  repeated %llu  checksum %llu\n", pass,
           walk, (unsigned long long)entries, (unsigned long long)repeated, (unsigned long long)checksum);
    for (int t = 0; t < threads; t++) {
        for (size_t p = 0; p < KS_PARTITIONS; p++) free(writers[t][p].recs);
        free(writers[t]);
    }
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
    if (argc > 3 && strcmp(argv[3], "sorted") == 0) {
        run_sorted(records, threads);
        return 0;
    }
    keystore *ks = ks_new(sizeof(int64_t), 1, apply_count, NULL);
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
