/* fuzz_colcache.c -- libFuzzer target for the column cache's reader (colcache.h).
 *
 * A cache file is a parser of bytes that kpic finds in the user's cache directory: it
 * must refuse whatever is not a sound cache and never read out of bounds or hand out
 * a cell it did not check.  colc_open checks the header and directory, colc_replay each
 * group on its copy: both are reached here.  Input: one byte N (columns, 1..6), N bytes
 * of column types (the high bit: a column the replay leaves undecoded), then the cache
 * file's bytes.  The target opens them twice -- with the checksums
 * verified, as kpic does, and without, so that mutations reach the structural checks
 * behind the checksums -- and replays every group of what opens, reading every byte of
 * every text cell and checking every date and bool; the first replay through a dates
 * gate (csv_reader.h's on_dates) where a column is a date.
 *
 * Seeds (tests/fuzz/corpus_colcache): caches that kpic wrote for golden cases, each
 * behind its column bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kpic/colcache.h"

typedef struct tally {
    uint64_t bytes, rows, bad;
    const csvr_type *types;
    size_t n;
} tally;

static bool on_row(void *ctx, const csvr_cell *cells, bool dated)
{
    tally *t = ctx;
    (void)dated;
    for (size_t c = 0; c < t->n; c++) {
        if (cells[c].is_null)
            continue;
        switch (t->types[c]) {
        case CSVR_TEXT:
            for (size_t i = 0; i < cells[c].as.text.len; i++)
                t->bytes += (unsigned char)cells[c].as.text.ptr[i];
            break;
        case CSVR_DATE:
            if (cells[c].as.date < DATE_MIN || cells[c].as.date > DATE_MAX)
                abort();
            break;
        default:
            break;
        }
    }
    t->rows++;
    return true;
}

static bool on_bad(void *ctx, const csvr_error *e, const char *raw, size_t raw_len)
{
    tally *t = ctx;
    if (strnlen(e->message, sizeof e->message) >= sizeof e->message)
        abort();
    for (size_t i = 0; i < raw_len; i++)
        t->bytes += (unsigned char)raw[i];
    t->bad++;
    return true;
}

/* The dates gate of a replay: wants the rows of odd dates. */
static bool on_dates(void *ctx, const date_t *days, const unsigned char *is_null, size_t n, unsigned char *wanted)
{
    (void)ctx;
    for (size_t i = 0; i < n; i++) {
        if (!is_null[i] && (days[i] < DATE_MIN || days[i] > DATE_MAX))
            abort();
        wanted[i] = !is_null[i] && (days[i] & 1);
    }
    return true;
}

static void on_skipped(void *ctx, uint64_t rows)
{
    ((tally *)ctx)->rows += rows;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t n = (size_t)data[0] % 6 + 1;
    if (size < 1 + n)
        return 0;
    csvr_type types[6];
    bool decode[6];
    for (size_t c = 0; c < n; c++) {
        types[c] = (csvr_type)((data[1 + c] & 0x7f) % (CSVR_BOOL + 1));
        decode[c] = !(data[1 + c] & 0x80); /* the high bit: a column not decoded */
    }
    data += 1 + n;
    size -= 1 + n;
    /* an aligned copy, as a mapping would be */
    uint64_t *copy = malloc(size / 8 + 1 ? (size / 8 + 1) * 8 : 8);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    for (int sums = 0; sums < 2; sums++) {
        char why[512];
        colc_table *t = colc_open_bytes(copy, size, NULL, types, n, sums == 1, why, sizeof why);
        if (t == NULL)
            continue;
        tally tl = {0, 0, 0, types, n};
        colc_sink sink = { .row = on_row, .bad = on_bad, .ctx = &tl };
        /* the checked open replays through the dates gate, on the first date column */
        for (size_t c = 0; sums == 1 && c < n && sink.dates == NULL; c++)
            if (types[c] == CSVR_DATE) {
                sink.dates = on_dates;
                sink.dates_column = c;
                sink.skipped = on_skipped;
            }
        for (size_t g = 0; g < colc_group_count(t); g++) {
            uint64_t begin, end;
            colc_group_range(t, g, &begin, &end);
            if (begin > end)
                abort();
            char group_why[512];
            if (colc_replay(t, g, "fuzz.csv", &sink, decode, group_why, sizeof group_why) == COLC_BAD &&
                group_why[0] == '\0')
                abort(); /* a refused group always says why */
        }
        colc_close(t);
    }
    free(copy);
    return 0;
}
