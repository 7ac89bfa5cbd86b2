/* csvr_bench.c -- times kpic's typed CSV reader on an orders file.
 *
 * Reads the columns an evaluator of bench/gen_orders.py data would use
 * (customer_id, staff_id and channel as text, amount as money, paid_at as a
 * date, refunded as bool), sums the amounts and counts rows, so that nothing
 * can be optimised away.  Compare its MB/s with `bench/csv_floor.c FILE bare` on the same
 * file (issue 4 asks for at most 1.3x the bare libcsv time).
 *
 *     gcc -O2 -Iinclude -o /tmp/csvr_bench bench/csvr_bench.c \
 *         src/engine/csv_reader.c src/base/decimal.c src/base/date.c -lcsv -lcrypto -lutf8proc -lpthread
 *     /tmp/csvr_bench /tmp/orders.csv [MODE] [THREADS]
 *
 * MODE: seq         one thread, SHA-256 inline (the default)
 *       seq-nohash  one thread, no SHA-256
 *       seq-hashthr one parsing thread, SHA-256 on a helper thread
 *       chunks      THREADS threads (default 2) parsing 8 MiB chunks
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kpic/csv_reader.h"

enum { C_CUSTOMER, C_STAFF, C_AMOUNT, C_PAID_AT, C_CHANNEL, C_REFUNDED, N_COLUMNS };

static const csvr_column COLUMNS[N_COLUMNS] = {
    {"customer_id", CSVR_TEXT}, {"staff_id", CSVR_TEXT}, {"amount", CSVR_MONEY},
    {"paid_at", CSVR_DATE},     {"channel", CSVR_TEXT},  {"refunded", CSVR_BOOL},
};

typedef struct totals {
    unsigned long long rows, refunded, text_bytes;
    long long date_sum;
    dec_t amount;
} totals;

static bool on_row(void *ctx, const csvr_row *row)
{
    totals *t = ctx;
    const csvr_cell *c = row->cells;
    t->rows++;
    if (!c[C_AMOUNT].is_null)
        dec_add(t->amount, c[C_AMOUNT].as.dec, &t->amount);
    if (!c[C_PAID_AT].is_null)
        t->date_sum += c[C_PAID_AT].as.date;
    if (!c[C_REFUNDED].is_null && c[C_REFUNDED].as.b)
        t->refunded++;
    t->text_bytes += c[C_CUSTOMER].as.text.len + c[C_STAFF].as.text.len;
    return true;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct worker {
    csvr_reader *reader;
    pthread_mutex_t *plan_lock;
    totals t;
    csvr_status status;
    csvr_error err;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    csvr_handlers h = { .on_row = on_row, .on_bad = NULL, .ctx = &w->t };
    for (;;) {
        csvr_chunk chunk;
        pthread_mutex_lock(w->plan_lock);
        csvr_plan plan = csvr_next_chunk(w->reader, 8u << 20, &chunk, &w->err);
        pthread_mutex_unlock(w->plan_lock);
        if (plan != CSVR_PLAN_CHUNK) {
            if (plan == CSVR_PLAN_ERROR)
                w->status = CSVR_ERROR;
            break;
        }
        w->status = csvr_read_chunk(w->reader, &chunk, &h, &w->err);
        if (w->status != CSVR_OK)
            break;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE.csv [seq|seq-nohash|seq-hashthr|chunks] [THREADS]\n",
                argv[0]);
        return 2;
    }
    const char *mode = argc > 2 ? argv[2] : "seq";
    int threads = argc > 3 ? atoi(argv[3]) : 2;
    if (threads < 1 || threads > 64)
        threads = 2;
    unsigned flags = strcmp(mode, "seq-nohash") == 0    ? CSVR_NO_HASH
                     : strcmp(mode, "seq-hashthr") == 0 ? CSVR_HASH_IN_THREAD
                                                        : 0;
    double start = now_seconds();
    csvr_error err;
    csvr_reader *r = csvr_open(argv[1], COLUMNS, N_COLUMNS, flags, &err);
    if (r == NULL) {
        char line[6000];
        csvr_error_format(&err, line, sizeof line);
        fprintf(stderr, "%s\n", line);
        return 1;
    }
    totals total = {0};
    csvr_status status = CSVR_OK;
    if (strcmp(mode, "chunks") == 0) {
        pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
        worker *ws = calloc((size_t)threads, sizeof *ws);
        pthread_t *ids = calloc((size_t)threads, sizeof *ids);
        for (int i = 0; i < threads; i++) {
            ws[i].reader = r;
            ws[i].plan_lock = &lock;
            pthread_create(&ids[i], NULL, work, &ws[i]);
        }
        for (int i = 0; i < threads; i++) {
            pthread_join(ids[i], NULL);
            total.rows += ws[i].t.rows;
            total.refunded += ws[i].t.refunded;
            total.text_bytes += ws[i].t.text_bytes;
            total.date_sum += ws[i].t.date_sum;
            dec_add(total.amount, ws[i].t.amount, &total.amount);
            if (ws[i].status != CSVR_OK) {
                status = ws[i].status;
                err = ws[i].err;
            }
        }
        free(ws);
        free(ids);
    } else {
        csvr_handlers h = { .on_row = on_row, .on_bad = NULL, .ctx = &total };
        status = csvr_read(r, &h, &err);
    }
    double secs = now_seconds() - start;
    if (status != CSVR_OK) {
        char line[6000];
        csvr_error_format(&err, line, sizeof line);
        fprintf(stderr, "%s\n", line);
        return 1;
    }
    uint64_t done, size;
    csvr_progress(r, &done, &size);
    char sum[DEC_FORMAT_SIZE], sha[65] = "(none)";
    dec_format(total.amount, 2, sum, sizeof sum);
    csvr_sha256_hex(r, sha);
    printf("csvr %s: %llu rows, amount %s, refunded %llu, sha256 %s\n", mode, total.rows, sum,
           total.refunded, sha);
    printf("csvr %s: %llu bytes in %.3f s = %.1f MB/s\n", mode, (unsigned long long)size, secs,
           (double)size / 1e6 / secs);
    csvr_close(r);
    return 0;
}
