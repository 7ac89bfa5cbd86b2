/* fuzz_csv.c -- libFuzzer target for the CSV reader (csv_reader.h).
 *
 * Input: two configuration bytes, then the CSV text.  Byte 0 picks the chunk
 * size for the chunked pass (tiny sizes put chunk boundaries everywhere);
 * byte 1 picks the types of up to six header columns, and with bit 0x40 has them
 * read with declared formats (`¥#,##0.00`, `YYYY/M/D H:mmZ`, 是/否).  The target reads the
 * text from memory
 *   1. sequentially, skipping bad rows, recording every row's cells, line
 *      number and raw bytes, and every bad row's message and raw bytes;
 *   2. chunk by chunk, the same way;
 *   3. sequentially again, but from a pipe that a thread writes the text into, so
 *      that the reader streams it with read(2) (every error is logged with the
 *      memory passes' file name);
 *   4. and 5. from a regular file (a memfd) that the reader maps, sequentially and
 *      chunk by chunk, so that the mapped window and the mapped chunk planner
 *      are held to the same results;
 * and aborts unless all of them saw exactly the same thing and the same SHA-256.  It
 * also re-parses each good row's raw bytes with libcsv alone, which must give
 * one record with as many fields as the header: that checks that the reader's
 * own model of libcsv (used for line numbers, raw bytes and chunk boundaries)
 * agrees with libcsv on this input.  That re-parse is strict: a good row never
 * holds text after a closing quote ("ab"c makes a bad row that ends with its
 * line, and both passes must resume at the same next line).
 *
 * Build and run (see also tests/fuzz/CMakeLists.txt):
 *     clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -o /tmp/fuzz_csv \
 *         tests/fuzz/fuzz_csv.c src/engine/csv_reader.c src/base/cellfmt.c src/base/transcode.c \
 *         src/base/decimal.c src/base/date.c \
 *         -lcsv -lcrypto -lutf8proc -lpthread
 *     /tmp/fuzz_csv -max_len=1100000 tests/fuzz/corpus_csv
 */
#define _GNU_SOURCE /* memfd_create */
#include <csv.h>
#include <pthread.h>
#include <sys/mman.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kpic/cellfmt.h"
#include "kpic/csv_reader.h"

#define MAX_WANTED 6

/* A growing byte string. */
typedef struct log {
    char *s;
    size_t len, cap;
} log_t;

static void put(log_t *l, const void *bytes, size_t n)
{
    if (l->len + n + 1 > l->cap) {
        l->cap = (l->len + n + 1) * 2;
        l->s = realloc(l->s, l->cap);
        if (l->s == NULL)
            abort();
    }
    memcpy(l->s + l->len, bytes, n);
    l->len += n;
    l->s[l->len] = '\0';
}

static void put_str(log_t *l, const char *s)
{
    put(l, s, strlen(s));
}

typedef struct pass_log {
    const csvr_column *cols;
    size_t ncols;
    size_t header_fields;
    uint64_t last_line;
    log_t out;
    bool last_absent; /* the last wanted column is not in the header */
} pass_log;

/* Counts the records and fields libcsv alone finds in some bytes. */
typedef struct recount {
    size_t fields, records, fields_in_first;
} recount;

static void count_field(void *f, size_t n, void *data)
{
    (void)f;
    (void)n;
    ((recount *)data)->fields++;
}

static void count_record(int c, void *data)
{
    (void)c;
    recount *rc = data;
    if (rc->records++ == 0)
        rc->fields_in_first = rc->fields;
}

/* libcsv's state after a closing quote (libcsv.c FIELD_MIGHT_HAVE_ENDED). */
#define LIBCSV_FIELD_MIGHT_HAVE_ENDED 3

/* Parsed with CSV_STRICT, a good row may stop libcsv only at a quote inside an
 * unquoted field (5" screen, an ordinary character to the reader), never after a
 * closing quote: text there makes the row bad, so it must not reach on_row. */
static void check_raw_is_one_record(const char *raw, size_t len, size_t header_fields)
{
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT) != 0)
        abort();
    recount rc = {0, 0, 0};
    size_t pos = 0;
    while (pos < len) {
        pos += csv_parse(&p, raw + pos, len - pos, count_field, count_record, &rc);
        if (pos == len)
            break;
        if (csv_error(&p) != CSV_EPARSE || p.pstate == LIBCSV_FIELD_MIGHT_HAVE_ENDED) {
            fprintf(stderr, "a good row has text after a closing quote\n");
            abort();
        }
        p.status = 0;
        csv_set_opts(&p, 0);
        pos += csv_parse(&p, raw + pos, 1, count_field, count_record, &rc);
        csv_set_opts(&p, CSV_STRICT);
    }
    csv_fini(&p, count_field, count_record, &rc);
    csv_free(&p);
    if (rc.records != 1 || rc.fields_in_first != header_fields) {
        fprintf(stderr, "raw bytes of a good row are %zu records, %zu fields (header %zu)\n",
                rc.records, rc.fields_in_first, header_fields);
        abort();
    }
}

static void check_line(pass_log *pl, uint64_t line)
{
    if (line == 0 || line <= pl->last_line) {
        fprintf(stderr, "line numbers not increasing: %llu after %llu\n",
                (unsigned long long)line, (unsigned long long)pl->last_line);
        abort();
    }
    pl->last_line = line;
}

static bool on_row(void *ctx, const csvr_row *row)
{
    pass_log *pl = ctx;
    char buf[64];
    uint64_t line = csvr_row_line(row);
    check_line(pl, line);
    snprintf(buf, sizeof buf, "row@%llu:", (unsigned long long)line);
    put_str(&pl->out, buf);
    if (pl->last_absent && !row->cells[pl->ncols - 1].is_null)
        abort(); /* a column the header lacks has no cells */
    for (size_t i = 0; i < pl->ncols; i++) {
        const csvr_cell *c = &row->cells[i];
        put_str(&pl->out, "|");
        if (c->is_null) {
            put_str(&pl->out, "NULL");
            continue;
        }
        switch (pl->cols[i].type) {
        case CSVR_TEXT:
            put(&pl->out, c->as.text.ptr, c->as.text.len);
            break;
        case CSVR_INT:
            snprintf(buf, sizeof buf, "%lld", (long long)c->as.i);
            put_str(&pl->out, buf);
            break;
        case CSVR_NUMBER:
        case CSVR_MONEY:
            dec_format(c->as.dec, 18, buf, sizeof buf);
            put_str(&pl->out, buf);
            break;
        case CSVR_DATE:
            date_format(c->as.date, buf, sizeof buf);
            put_str(&pl->out, buf);
            break;
        case CSVR_BOOL:
            put_str(&pl->out, c->as.b ? "T" : "F");
            break;
        }
    }
    size_t len;
    const char *raw = csvr_row_raw(row, &len);
    check_raw_is_one_record(raw, len, pl->header_fields);
    put_str(&pl->out, " raw:");
    put(&pl->out, raw, len);
    put_str(&pl->out, "\n");
    return true;
}

static csvr_verdict on_bad(void *ctx, const csvr_bad_row *bad)
{
    pass_log *pl = ctx;
    char line[CSVR_PATH_MAX + CSVR_MESSAGE_MAX + 64];
    check_line(pl, bad->error->line);
    csvr_error named = *bad->error; /* every pass named as the memory ones are */
    strcpy(named.path, "fuzz.csv");
    csvr_error_format(&named, line, sizeof line);
    put_str(&pl->out, line);
    put_str(&pl->out, " raw:");
    put(&pl->out, bad->raw, bad->raw_len);
    put_str(&pl->out, "\n");
    return CSVR_SKIP;
}

/* Inputs whose type seed has bit 0x40 read every column but text with a declared
 * format (cellfmt.h), as exports are read: both passes use the same formats. */
static bool use_formats;

static void set_formats(csvr_reader *r, const csvr_column *cols, size_t ncols)
{
    cfmt f;
    char why[128];
    csvr_error err;
    for (size_t w = 0; w < ncols; w++) {
        bool ok = false;
        switch (cols[w].type) {
        case CSVR_TEXT: continue;
        case CSVR_INT: ok = cfmt_compile_number("#,##0", &f, why, sizeof why); break;
        case CSVR_NUMBER: ok = cfmt_compile_number("#,##0.0#元", &f, why, sizeof why); break;
        case CSVR_MONEY: ok = cfmt_compile_number("¥#,##0.00", &f, why, sizeof why); break;
        case CSVR_DATE: ok = cfmt_compile_date("YYYY/M/D H:mmZ", &f, why, sizeof why); break;
        case CSVR_BOOL: ok = cfmt_compile_bool("是", "否", &f, why, sizeof why); break;
        }
        if (!ok || !csvr_set_format(r, w, &f, &err))
            abort();
    }
}

/* Writes an input into a pipe, for the streamed pass; a reader that stops early
 * makes the write fail (SIGPIPE is ignored), which ends it. */
typedef struct pipe_writer {
    int fd;
    const uint8_t *data;
    size_t size;
} pipe_writer;

static void *write_pipe(void *arg)
{
    pipe_writer *w = arg;
    for (size_t at = 0; at < w->size;) {
        ssize_t put = write(w->fd, w->data + at, w->size - at);
        if (put <= 0)
            break;
        at += (size_t)put;
    }
    close(w->fd);
    return NULL;
}

enum source { FROM_MEMORY, FROM_PIPE, FROM_FILE };

/* Returns the status; fills *HEX with the digest or "".  CHUNK_TARGET 0 reads
 * sequentially; FROM_PIPE reads sequentially from a pipe, FROM_FILE from a regular
 * file, which the reader maps. */
static csvr_status read_pass(const uint8_t *data, size_t size, const csvr_column *cols,
                             size_t ncols, unsigned flags, size_t chunk_target, enum source from,
                             pass_log *pl, char hex[65])
{
    csvr_error err;
    int fds[2] = {-1, -1};
    pthread_t writer;
    pipe_writer w;
    char path[64];
    csvr_reader *r;
    bool piped = from == FROM_PIPE;
    int file = -1;
    if (from == FROM_FILE) {
        file = memfd_create("fuzz.csv", MFD_CLOEXEC);
        if (file < 0 || (size > 0 && write(file, data, size) != (ssize_t)size))
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", file);
        r = csvr_open(path, cols, ncols, flags, &err);
        if (r == NULL || !csvr_is_seekable(r))
            abort();
    } else if (piped) {
        if (pipe(fds) != 0)
            abort();
        w = (pipe_writer){fds[1], data, size};
        if (pthread_create(&writer, NULL, write_pipe, &w) != 0)
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fds[0]);
        r = csvr_open(path, cols, ncols, flags, &err);
        if (r == NULL || csvr_is_seekable(r))
            abort();
    } else {
        r = csvr_open_memory("fuzz.csv", data, size, cols, ncols, flags, &err);
    }
    if (r == NULL)
        abort(); /* the header was accepted once already */
    if (use_formats)
        set_formats(r, cols, ncols);
    pl->header_fields = csvr_header_size(r);
    csvr_handlers h = { .on_row = on_row, .on_bad = on_bad, .ctx = pl };
    csvr_status st = CSVR_OK;
    if (chunk_target == 0) {
        st = csvr_read(r, &h, &err);
    } else {
        csvr_chunk chunk;
        csvr_plan plan;
        uint64_t next_begin = 0;
        bool first = true;
        while (st == CSVR_OK &&
               (plan = csvr_next_chunk(r, chunk_target, &chunk, &err)) == CSVR_PLAN_CHUNK) {
            if (!first && chunk.begin != next_begin)
                abort();
            first = false;
            next_begin = chunk.end;
            st = csvr_read_chunk(r, &chunk, &h, &err);
        }
    }
    hex[0] = '\0';
    csvr_sha256_hex(r, hex);
    uint64_t done, total;
    csvr_progress(r, &done, &total);
    if (st == CSVR_OK && (done != total || total != size))
        abort();
    if (st == CSVR_ERROR) {
        char line[CSVR_PATH_MAX + CSVR_MESSAGE_MAX + 64];
        strcpy(err.path, "fuzz.csv");
        csvr_error_format(&err, line, sizeof line);
        put_str(&pl->out, "ERROR ");
        put_str(&pl->out, line);
    }
    csvr_close(r);
    if (piped) {
        close(fds[0]);
        pthread_join(writer, NULL);
    }
    if (file >= 0)
        close(file);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t chunk_target = 1 + data[0] % 48;
    if (data[0] >= 240)
        chunk_target = (size_t)(data[0] - 239) * 4096;
    unsigned type_seed = data[1];
    use_formats = (type_seed & 0x40) != 0;
    data += 2;
    size = size - 2;
    signal(SIGPIPE, SIG_IGN);

    /* Open once without columns to learn the header (and exercise errors). */
    csvr_error err;
    csvr_reader *probe = csvr_open_memory("fuzz.csv", data, size, NULL, 0, 0, &err);
    if (probe == NULL) {
        char line[CSVR_PATH_MAX + CSVR_MESSAGE_MAX + 64];
        csvr_error_format(&err, line, sizeof line);
        return 0;
    }
    /* Want up to six distinct columns, with types from the seed. */
    csvr_column cols[MAX_WANTED + 1];
    char names[MAX_WANTED + 1][64];
    size_t ncols = 0;
    size_t nheader = csvr_header_size(probe);
    for (size_t f = 0; f < nheader && ncols < MAX_WANTED; f++) {
        const char *name = csvr_header_name(probe, f);
        if (name[0] == '\0' || strlen(name) >= sizeof names[0])
            continue;
        bool dup = false;
        for (size_t k = 0; k < ncols; k++)
            dup = dup || strcmp(names[k], name) == 0;
        if (dup)
            continue;
        strcpy(names[ncols], name);
        /* a name near a header name is never taken for it, only hinted at */
        const char *near = csvr_header_near(probe, name);
        if (near != NULL && strcmp(near, name) == 0)
            abort();
        cols[ncols].name = names[ncols];
        cols[ncols].type = (csvr_type)((type_seed + 5 * f) % (CSVR_BOOL + 1));
        ncols++;
    }
    /* Half the inputs also want a column the header lacks, as kpic eval does when a
     * declared column is missing: its cells must stay null in both passes. */
    unsigned flags = 0;
    static const char absent[] = "\x01 not in the header";
    bool in_header = false;
    for (size_t f = 0; f < nheader; f++)
        in_header = in_header || strcmp(csvr_header_name(probe, f), absent) == 0;
    if ((type_seed & 0x80) && !in_header) {
        strcpy(names[ncols], absent);
        cols[ncols].name = names[ncols];
        cols[ncols].type = (csvr_type)(type_seed % (CSVR_BOOL + 1));
        ncols++;
        flags = CSVR_MISSING_COLUMNS_OK;
    }
    csvr_close(probe);

    bool absent_last = flags != 0;
    pass_log seq = {cols, ncols, 0, 0, {0}, absent_last};
    pass_log chunked = {cols, ncols, 0, 0, {0}, absent_last};
    pass_log piped = {cols, ncols, 0, 0, {0}, absent_last};
    pass_log mapped = {cols, ncols, 0, 0, {0}, absent_last};
    pass_log mapped_chunks = {cols, ncols, 0, 0, {0}, absent_last};
    char seq_hex[65], chunk_hex[65], pipe_hex[65], map_hex[65], map_chunk_hex[65];
    csvr_status s1 = read_pass(data, size, cols, ncols, flags, 0, FROM_MEMORY, &seq, seq_hex);
    csvr_status s2 = read_pass(data, size, cols, ncols, flags, chunk_target, FROM_MEMORY,
                               &chunked, chunk_hex);
    csvr_status s3 = read_pass(data, size, cols, ncols, flags, 0, FROM_PIPE, &piped, pipe_hex);
    csvr_status s4 = read_pass(data, size, cols, ncols, flags, 0, FROM_FILE, &mapped, map_hex);
    csvr_status s5 = read_pass(data, size, cols, ncols, flags, chunk_target, FROM_FILE,
                               &mapped_chunks, map_chunk_hex);
    const pass_log *files[] = {&mapped, &mapped_chunks};
    const char *file_hex[] = {map_hex, map_chunk_hex};
    csvr_status file_status[] = {s4, s5};
    for (int i = 0; i < 2; i++) {
        if (s1 != file_status[i] || seq.out.len != files[i]->out.len ||
            (seq.out.len && memcmp(seq.out.s, files[i]->out.s, seq.out.len) != 0) ||
            strcmp(seq_hex, file_hex[i]) != 0) {
            fprintf(stderr, "memory and mapped file (%s) passes differ\n--- memory:\n%s\n"
                            "--- file:\n%s\n", i ? "chunked" : "sequential",
                    seq.out.s ? seq.out.s : "", files[i]->out.s ? files[i]->out.s : "");
            abort();
        }
    }
    free(mapped.out.s);
    free(mapped_chunks.out.s);
    if (s1 != s2 || seq.out.len != chunked.out.len ||
        (seq.out.len && memcmp(seq.out.s, chunked.out.s, seq.out.len) != 0) ||
        strcmp(seq_hex, chunk_hex) != 0) {
        fprintf(stderr, "sequential and chunked (target %zu) passes differ\n--- seq:\n%s\n"
                        "--- chunked:\n%s\n",
                chunk_target, seq.out.s ? seq.out.s : "", chunked.out.s ? chunked.out.s : "");
        abort();
    }
    if (s1 != s3 || seq.out.len != piped.out.len ||
        (seq.out.len && memcmp(seq.out.s, piped.out.s, seq.out.len) != 0) ||
        strcmp(seq_hex, pipe_hex) != 0) {
        fprintf(stderr, "memory and pipe passes differ\n--- memory:\n%s\n--- pipe:\n%s\n",
                seq.out.s ? seq.out.s : "", piped.out.s ? piped.out.s : "");
        abort();
    }
    free(seq.out.s);
    free(chunked.out.s);
    free(piped.out.s);
    return 0;
}
