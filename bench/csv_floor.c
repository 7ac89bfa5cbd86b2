/* csv_floor.c -- the least any libcsv-based reader can cost under issue 4's rules.
 *
 * Issue 4 asks for kpic's one-thread rate within 1.3x of a bare libcsv pass and
 * for one period on two threads at least 1.5x faster than DuckDB, while it also
 * requires libcsv for parsing and the file's SHA-256 in the same pass.  This
 * program measures what those requirements cost by themselves, with no typed
 * conversion and no evaluation at all, so that kpic's figures can be read
 * against a floor rather than against a guess:
 *
 *   bare       csv_parse with no callbacks, reading 1 MiB blocks with read(2):
 *              the "bare libcsv parse rate" of issue 4
 *   fields     csv_parse with a field and a record callback that only count
 *              (the least a reader that looks at any field can do)
 *   fields+sha the same, and SHA-256 (libcrypto) over the same bytes
 *
 * With THREADS > 1 the file is cut into 8 MiB chunks at line breaks, each chunk
 * parsed by whichever thread takes it, and the chunks hashed in file order by
 * the threads that parsed them -- kpic's scheme.  Cutting at any line break is
 * only right when no quoted field holds one at a cut; every chunk is checked to
 * end between records, and the run fails (exit 2) if one does not.
 *
 * Build and run (not part of the CMake build: timings are taken by hand or by
 * bench/eval-vs-duckdb, never in a test):
 *
 *     gcc -O2 -o /tmp/csv_floor bench/csv_floor.c -lcsv -lcrypto -lpthread
 *     /tmp/csv_floor FILE.csv MODE [THREADS]
 *
 * It prints one line: mode, threads, rows, wall seconds, MB/s.
 */
#define _POSIX_C_SOURCE 200809L
#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { BLOCK = 1 << 20, CHUNK = 8 << 20, MAX_THREADS = 64 };

/* libcsv's pstate between records (libcsv.c: ROW_NOT_BEGUN) */
enum { LIBCSV_ROW_NOT_BEGUN = 0 };

/* Each on its own cache line: counters that two threads bump on every field
 * must not share one, or the line bounces between the cores and the run takes
 * twice as long. */
typedef struct worker {
    _Alignas(64) unsigned long long fields, rows;
    unsigned char *buf;
    bool broken; /* a chunk did not end between records */
} worker;

static struct {
    int fd;
    size_t size;
    bool callbacks, sha;
    EVP_MD_CTX *md;
    pthread_mutex_t lock;
    pthread_cond_t turn;
    size_t next_cut;    /* where the next chunk starts */
    size_t hashed_upto; /* chunks are hashed in file order */
    bool failed;
} job = {.lock = PTHREAD_MUTEX_INITIALIZER, .turn = PTHREAD_COND_INITIALIZER};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_field(void *field, size_t len, void *data)
{
    (void)field;
    ((worker *)data)->fields += len;
}

static void on_record(int terminator, void *data)
{
    (void)terminator;
    ((worker *)data)->rows++;
}

static void die(const char *what)
{
    fprintf(stderr, "csv_floor: %s\n", what);
    exit(2);
}

static void read_exactly(size_t off, unsigned char *dst, size_t len)
{
    while (len > 0) {
        ssize_t got = pread(job.fd, dst, len, (off_t)off);
        if (got <= 0)
            die(got < 0 ? strerror(errno) : "file shrank while being read");
        dst += got;
        off += (size_t)got;
        len -= (size_t)got;
    }
}

static void parse(struct csv_parser *parser, const unsigned char *b, size_t n, worker *w)
{
    size_t done = job.callbacks ? csv_parse(parser, b, n, on_field, on_record, w)
                                : csv_parse(parser, b, n, NULL, NULL, NULL);
    if (done != n)
        die(csv_strerror(csv_error(parser)));
}

/* One thread, the way a plain libcsv program reads: 1 MiB blocks, hashed inline. */
static void run_sequential(worker *w)
{
    struct csv_parser parser;
    if (csv_init(&parser, 0) != 0)
        die("out of memory");
    w->buf = malloc(BLOCK);
    if (w->buf == NULL)
        die("out of memory");
    for (;;) {
        ssize_t got = read(job.fd, w->buf, BLOCK);
        if (got < 0)
            die(strerror(errno));
        if (got == 0)
            break;
        parse(&parser, w->buf, (size_t)got, w);
        if (job.sha)
            EVP_DigestUpdate(job.md, w->buf, (size_t)got);
    }
    if (job.callbacks)
        csv_fini(&parser, on_field, on_record, w);
    else
        csv_fini(&parser, NULL, NULL, NULL);
    csv_free(&parser);
}

/* Takes the next chunk: CHUNK bytes, then up to and including the next '\n'. */
static bool take_chunk(size_t *from, size_t *to)
{
    pthread_mutex_lock(&job.lock);
    *from = job.next_cut;
    bool got = *from < job.size && !job.failed;
    if (got) {
        size_t cut = *from + CHUNK;
        if (cut >= job.size) {
            cut = job.size;
        } else {
            unsigned char look[4096];
            for (;;) {
                size_t n = job.size - cut < sizeof look ? job.size - cut : sizeof look;
                read_exactly(cut, look, n);
                unsigned char *nl = memchr(look, '\n', n);
                if (nl != NULL) {
                    cut += (size_t)(nl - look) + 1;
                    break;
                }
                cut += n;
                if (cut >= job.size)
                    break;
            }
        }
        *to = cut;
        job.next_cut = cut;
    }
    pthread_mutex_unlock(&job.lock);
    return got;
}

static void hash_in_turn(const unsigned char *b, size_t from, size_t to)
{
    pthread_mutex_lock(&job.lock);
    while (job.hashed_upto != from && !job.failed)
        pthread_cond_wait(&job.turn, &job.lock);
    if (!job.failed) {
        EVP_DigestUpdate(job.md, b, to - from);
        job.hashed_upto = to;
    }
    pthread_cond_broadcast(&job.turn);
    pthread_mutex_unlock(&job.lock);
}

static void *run_chunks(void *arg)
{
    worker *w = arg;
    w->buf = malloc(CHUNK + (1 << 20));
    if (w->buf == NULL)
        die("out of memory");
    size_t cap = CHUNK + (1 << 20);
    size_t from, to;
    while (take_chunk(&from, &to)) {
        if (to - from > cap) {
            cap = to - from;
            free(w->buf);
            w->buf = malloc(cap);
            if (w->buf == NULL)
                die("out of memory");
        }
        read_exactly(from, w->buf, to - from);
        struct csv_parser parser;
        if (csv_init(&parser, 0) != 0)
            die("out of memory");
        parse(&parser, w->buf, to - from, w);
        if (parser.pstate != LIBCSV_ROW_NOT_BEGUN && to < job.size) {
            w->broken = true;
            pthread_mutex_lock(&job.lock);
            job.failed = true;
            pthread_cond_broadcast(&job.turn);
            pthread_mutex_unlock(&job.lock);
        }
        if (job.callbacks)
            csv_fini(&parser, on_field, on_record, w);
        else
            csv_fini(&parser, NULL, NULL, NULL);
        csv_free(&parser);
        if (job.sha)
            hash_in_turn(w->buf, from, to);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s FILE.csv bare|fields|fields+sha [THREADS]\n", argv[0]);
        return 2;
    }
    const char *mode = argv[2];
    job.callbacks = strcmp(mode, "bare") != 0;
    job.sha = strcmp(mode, "fields+sha") == 0;
    if (job.callbacks && !job.sha && strcmp(mode, "fields") != 0)
        die("MODE is bare, fields or fields+sha");
    int threads = argc == 4 ? atoi(argv[3]) : 1;
    if (threads < 1 || threads > MAX_THREADS)
        die("THREADS is 1 to 64");
    job.fd = open(argv[1], O_RDONLY);
    struct stat st;
    if (job.fd < 0 || fstat(job.fd, &st) != 0) {
        fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    job.size = (size_t)st.st_size;
    job.md = EVP_MD_CTX_new();
    if (job.md == NULL || EVP_DigestInit_ex(job.md, EVP_sha256(), NULL) != 1)
        die("cannot set up SHA-256");

    worker workers[MAX_THREADS] = {0};
    double start = now_seconds();
    if (threads == 1) {
        run_sequential(&workers[0]);
    } else {
        pthread_t ids[MAX_THREADS];
        for (int i = 0; i < threads; i++)
            if (pthread_create(&ids[i], NULL, run_chunks, &workers[i]) != 0)
                die("cannot start a thread");
        for (int i = 0; i < threads; i++)
            pthread_join(ids[i], NULL);
    }
    unsigned char digest[32];
    unsigned digest_len = 0;
    EVP_DigestFinal_ex(job.md, digest, &digest_len);
    double secs = now_seconds() - start;

    unsigned long long rows = 0;
    for (int i = 0; i < threads; i++) {
        if (workers[i].broken)
            die("a chunk ends inside a quoted field: this file cannot be cut at any line break");
        rows += workers[i].rows;
        free(workers[i].buf);
    }
    printf("%s, %d thread%s: %llu records, %.3f s, %.1f MB/s", mode, threads,
           threads == 1 ? "" : "s", rows, secs, (double)job.size / 1e6 / secs);
    if (job.sha) {
        printf(", sha256 ");
        for (unsigned i = 0; i < digest_len; i++)
            printf("%02x", digest[i]);
    }
    printf("\n");
    EVP_MD_CTX_free(job.md);
    close(job.fd);
    return 0;
}
