/* csv_bare.c -- the baseline for kpic's CSV reader: one bare libcsv pass.
 *
 * Times csv_parse over a whole file with no callbacks at all, so that the typed
 * reader (bench/csvr_bench.c) can be compared with the cost of libcsv itself on
 * the same file; issue 4 asks for kpic within 1.3x of this rate.  The file is
 * read with read(2) in 1 MiB blocks, the way any plain libcsv program reads.
 *
 * Build and run (not part of the CMake build on purpose: timings are taken by
 * hand, never in a test):
 *
 *     gcc -O2 -o /tmp/csv_bare bench/csv_bare.c -lcsv
 *     /tmp/csv_bare /tmp/orders.csv
 */
#define _POSIX_C_SOURCE 200809L
#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { BLOCK = 1 << 20 };

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE.csv\n", argv[0]);
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    char *block = malloc(BLOCK);
    struct csv_parser parser;
    if (block == NULL || csv_init(&parser, 0) != 0) {
        fprintf(stderr, "out of memory\n");
        return 2;
    }
    double start = now_seconds();
    unsigned long long total = 0;
    for (;;) {
        ssize_t got = read(fd, block, BLOCK);
        if (got < 0) {
            fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
            return 2;
        }
        if (got == 0)
            break;
        if (csv_parse(&parser, block, (size_t)got, NULL, NULL, NULL) != (size_t)got) {
            fprintf(stderr, "csv_parse: %s\n", csv_strerror(csv_error(&parser)));
            return 2;
        }
        total += (unsigned long long)got;
    }
    csv_fini(&parser, NULL, NULL, NULL);
    double secs = now_seconds() - start;
    printf("bare libcsv: %llu bytes in %.3f s = %.1f MB/s\n", total, secs,
           (double)total / 1e6 / secs);
    csv_free(&parser);
    free(block);
    close(fd);
    return 0;
}
