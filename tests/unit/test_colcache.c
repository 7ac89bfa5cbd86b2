/* Unit tests for the column cache (colcache.h): groups written and read back give the
 * same cells, nulls, decimals at their scale (and beyond int64), bad rows in their place
 * and the recorded key and digest; another key is refused; the directory's size cap
 * removes the least recently used files first and clear removes them all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "kpic/colcache.h"

static const csvr_type TYPES[] = { CSVR_TEXT, CSVR_INT, CSVR_MONEY, CSVR_NUMBER, CSVR_DATE, CSVR_BOOL };
#define N_COLS 6
#define ROWS   1000

static char dir[] = "/tmp/kpic-test-colcache-XXXXXX";

/* Row R's cells: text "k<R % 7>", every 5th row null in column R % 6. */
static void row_cells(int r, csvr_cell *cells, char *text)
{
    memset(cells, 0, N_COLS * sizeof *cells);
    snprintf(text, 16, "k%d", r % 7);
    cells[0].as.text = (csvr_text){ text, strlen(text) };
    cells[1].as.i = (int64_t)r * 1000003 - 7;
    cells[2].as.dec = dec_from_int64(r);                                /* whole money */
    cells[2].as.dec.units += (dec_int128)(r % 100) * 10000000000000000; /* + r % 100 cents */
    cells[3].as.dec.units = (dec_int128)r * 123456789;                  /* 18 places */
    if (r == 500) /* one value beyond int64 at any scale: the column goes wide */
        cells[3].as.dec.units = (dec_int128)INT64_MAX * 1000;
    cells[4].as.date = 20000 + r;
    cells[5].as.b = r % 2;
    if (r % 5 == 0) cells[r % N_COLS].is_null = true;
}

typedef struct seen {
    int rows, bad;
    bool ok;
} seen;

static bool check_row(void *ctx, const csvr_cell *cells, bool dated)
{
    (void)dated;
    seen *s = ctx;
    csvr_cell want[N_COLS];
    char text[16];
    row_cells(s->rows, want, text);
    for (int c = 0; c < N_COLS; c++) {
        bool same = want[c].is_null == cells[c].is_null;
        if (same && !want[c].is_null) {
            switch (TYPES[c]) {
            case CSVR_TEXT:
                same = want[c].as.text.len == cells[c].as.text.len &&
                       memcmp(want[c].as.text.ptr, cells[c].as.text.ptr, cells[c].as.text.len) == 0;
                break;
            case CSVR_INT: same = want[c].as.i == cells[c].as.i; break;
            case CSVR_MONEY:
            case CSVR_NUMBER: same = want[c].as.dec.units == cells[c].as.dec.units; break;
            case CSVR_DATE: same = want[c].as.date == cells[c].as.date; break;
            case CSVR_BOOL: same = want[c].as.b == cells[c].as.b; break;
            }
        }
        if (!same) s->ok = false;
    }
    s->rows++;
    return true;
}

/* check_row for a replay that did not decode column 0: it must be null. */
static bool check_row_but_first(void *ctx, const csvr_cell *cells, bool dated)
{
    seen *s = ctx;
    csvr_cell got[N_COLS], want[N_COLS];
    char text[16];
    row_cells(s->rows, want, text);
    memcpy(got, cells, sizeof got);
    if (!got[0].is_null) s->ok = false;
    got[0] = want[0];
    return check_row(ctx, got, dated);
}

static bool check_bad(void *ctx, const csvr_error *e, const char *raw, size_t raw_len)
{
    seen *s = ctx;
    /* bad row k stands before good row 100 * k + 3 */
    char want[32];
    snprintf(want, sizeof want, "bad %d", s->bad);
    if (s->rows != 100 * s->bad + 3 || strcmp(e->message, want) != 0 || raw_len != 3 ||
        memcmp(raw, "x,y", 3) != 0 || e->line != (uint64_t)s->bad + 10 || strcmp(e->path, "data.csv") != 0)
        s->ok = false;
    s->bad++;
    return true;
}

static colc_key key_of(int n)
{
    colc_key k;
    memset(&k, 0, sizeof k);
    k.dev = 1;
    k.ino = 2;
    k.size = 100000; /* the data file: every group range lies within it */
    k.mtime_nsec = n;
    return k;
}

static void write_cache(const char *path, colc_key key, int groups)
{
    char why[256];
    colc_writer *w = colc_writer_new(path, why, sizeof why);
    assert_non_null(w);
    int per = ROWS / groups, bad = 0;
    for (int g = groups - 1; g >= 0; g--) { /* out of order, as threads add them */
        colc_group *grp = colc_group_new(TYPES, N_COLS, (uint64_t)g * 100);
        for (int r = g * per; r < (g + 1) * per; r++) {
            if (r % 100 == 3) {
                csvr_error e;
                memset(&e, 0, sizeof e);
                e.kind = CSVR_ERR_CELL;
                e.line = (uint64_t)(r / 100) + 10;
                e.column = 1;
                snprintf(e.message, sizeof e.message, "bad %d", r / 100);
                assert_true(colc_group_add_bad(grp, &e, "x,y", 3));
                bad++;
            }
            csvr_cell cells[N_COLS];
            char text[16];
            row_cells(r, cells, text);
            assert_true(colc_group_add_row(grp, cells));
        }
        assert_true(colc_writer_add(w, (uint64_t)g, (uint64_t)(g + 1) * 100, grp));
    }
    unsigned char sha[32];
    memset(sha, 0xAB, sizeof sha);
    assert_true(colc_writer_commit(w, &key, sha, why, sizeof why));
}

static void test_round_trip(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/a.kcol", dir);
    colc_key key = key_of(1);
    for (int groups = 1; groups <= 4; groups *= 2) {
        write_cache(path, key, groups);
        char why[256];
        colc_table *t = colc_open(path, &key, TYPES, N_COLS, why, sizeof why);
        assert_non_null(t);
        assert_int_equal(colc_group_count(t), (size_t)groups);
        assert_int_equal(colc_sha256(t)[0], 0xAB);
        seen s = { 0, 0, true };
        colc_sink sink = { .row = check_row, .bad = check_bad, .ctx = &s };
        for (size_t g = 0; g < colc_group_count(t); g++)
            assert_int_equal(colc_replay(t, g, "data.csv", &sink, NULL, why, sizeof why), COLC_DONE);
        assert_true(s.ok);
        assert_int_equal(s.rows, ROWS);
        assert_int_equal(s.bad, ROWS / 100);
        /* column 0 not decoded: null in every row, the others as written */
        bool decode[N_COLS] = { false, true, true, true, true, true };
        seen masked = { 0, 0, true };
        colc_sink masked_sink = { .row = check_row_but_first, .bad = check_bad, .ctx = &masked };
        for (size_t g = 0; g < colc_group_count(t); g++)
            assert_int_equal(colc_replay(t, g, "data.csv", &masked_sink, decode, why, sizeof why), COLC_DONE);
        assert_true(masked.ok);
        assert_int_equal(masked.rows, ROWS);
        colc_close(t);
        /* another key: refused with the reason */
        colc_key other = key_of(2);
        assert_null(colc_open(path, &other, TYPES, N_COLS, why, sizeof why));
        assert_non_null(strstr(why, "changed"));
        /* other column types: every group refused when replayed */
        csvr_type types[N_COLS];
        memcpy(types, TYPES, sizeof types);
        types[1] = CSVR_TEXT;
        t = colc_open(path, &key, types, N_COLS, why, sizeof why);
        assert_non_null(t);
        for (size_t g = 0; g < colc_group_count(t); g++)
            assert_int_equal(colc_replay(t, g, "data.csv", &sink, NULL, why, sizeof why), COLC_BAD);
        assert_non_null(strstr(why, "another type"));
        colc_close(t);
    }
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    unlink(path);
}

/* A cache is a file anyone with the user's rights can write: money that is not a
 * whole number of cents, which the reader never gives, is refused, not replayed. */
static void test_money_finer_than_cents_refused(void **state)
{
    (void)state;
    char path[256], why[256];
    snprintf(path, sizeof path, "%s/m.kcol", dir);
    static const csvr_type money[] = { CSVR_MONEY };
    for (int wide = 0; wide < 2; wide++) {
        colc_writer *w = colc_writer_new(path, why, sizeof why);
        assert_non_null(w);
        colc_group *g = colc_group_new(money, 1, 0);
        csvr_cell cell;
        memset(&cell, 0, sizeof cell);
        cell.as.dec.units = (dec_int128)1234 * 1000000000000000; /* 1.234 */
        if (wide) /* 10^19 + 1.234: no int64 holds it at 3 places */
            cell.as.dec.units += (dec_int128)10000000000000000000u * 1000000000000000000;
        assert_true(colc_group_add_row(g, &cell));
        assert_true(colc_writer_add(w, 0, 10, g));
        colc_key key = key_of(1);
        unsigned char sha[32] = { 0 };
        assert_true(colc_writer_commit(w, &key, sha, why, sizeof why));
        /* the group is checked when it is replayed, before any row is handed out */
        colc_table *t = colc_open(path, &key, money, 1, why, sizeof why);
        assert_non_null(t);
        seen s = { 0, 0, true };
        colc_sink sink = { .row = check_row, .bad = check_bad, .ctx = &s };
        assert_int_equal(colc_replay(t, 0, "data.csv", &sink, NULL, why, sizeof why), COLC_BAD);
        assert_non_null(strstr(why, "finer than cents"));
        assert_int_equal(s.rows, 0);
        colc_close(t);
    }
    unlink(path);
}

/* A cache file truncated, or rewritten in place, after it was opened (by hand: kpic
 * only ever renames a whole new file into place) faults or differs when a group is
 * replayed: each such group is refused with the reason, before any of its rows is
 * handed out, and the process survives the SIGBUS. */
static void test_changed_under_replay(void **state)
{
    (void)state;
    char path[256], why[256];
    snprintf(path, sizeof path, "%s/t.kcol", dir);
    colc_key key = key_of(1);
    for (int how = 0; how < 2; how++) {
        write_cache(path, key, 4);
        colc_table *t = colc_open(path, &key, TYPES, N_COLS, why, sizeof why);
        assert_non_null(t);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        FILE *f = fopen(path, "r+b");
        assert_non_null(f);
        if (how == 0) { /* to one page: the rest of the mapping faults */
            assert_int_equal(ftruncate(fileno(f), 4096), 0);
        } else { /* one byte of the last group's data flipped, the size kept */
            assert_int_equal(fseek(f, (long)st.st_size - 4096, SEEK_SET), 0);
            int c = fgetc(f);
            assert_int_equal(fseek(f, (long)st.st_size - 4096, SEEK_SET), 0);
            fputc(c ^ 0x5A, f);
        }
        fclose(f);
        seen s = { 0, 0, true };
        colc_sink sink = { .row = check_row, .bad = check_bad, .ctx = &s };
        colc_status last = COLC_DONE;
        int before = 0;
        for (size_t g = 0; g < colc_group_count(t) && last == COLC_DONE; g++) {
            before = s.rows;
            last = colc_replay(t, g, "data.csv", &sink, NULL, why, sizeof why);
        }
        assert_int_equal(last, COLC_BAD);
        assert_int_equal(s.rows, before); /* nothing of the refused group */
        assert_true(s.ok);
        assert_non_null(strstr(why, how == 0 ? "truncated while it was being read" : "damaged"));
        colc_close(t);
    }
    unlink(path);
}

/* ---- every encoding round-trips exactly ---------------------------------------- */

#define ENC_ROWS 1000

typedef struct scenario {
    const char *what;
    csvr_type type;
    void (*cell)(int r, csvr_cell *cell, char *text); /* row R's cell, its text in TEXT */
    long max_bytes; /* the cache file at most this big: the compact encoding was used */
} scenario;

static void int_constant(int r, csvr_cell *c, char *t)
{
    (void)r, (void)t;
    c->as.i = -42;
}
static void int_byte(int r, csvr_cell *c, char *t)
{
    (void)t;
    c->as.i = 1000 + r % 200;
}
static void int_short(int r, csvr_cell *c, char *t)
{
    (void)t;
    c->as.i = -30000 + r * 60;
}
static void int_word(int r, csvr_cell *c, char *t)
{
    (void)t;
    c->as.i = (int64_t)r * 4000000;
}
static void int_extremes(int r, csvr_cell *c, char *t)
{
    (void)t;
    c->as.i = r % 3 == 0 ? INT64_MIN : r % 3 == 1 ? INT64_MAX : r;
    c->is_null = r % 10 == 5;
}
static void date_span(int r, csvr_cell *c, char *t)
{
    (void)t;
    c->as.date = 20000 + r * 7;
}
static void date_extremes(int r, csvr_cell *c, char *t)
{
    (void)t;
    c->as.date = r % 2 ? DATE_MIN : DATE_MAX;
}
static void money_cents(int r, csvr_cell *c, char *t)
{
    (void)t;
    c->as.dec.units = (dec_int128)(r * 137 - 50000) * 10000000000000000; /* cents */
    c->is_null = r % 7 == 0;
}
static void number_fine(int r, csvr_cell *c, char *t)
{
    (void)t;
    c->as.dec.units = (dec_int128)r * 123456789 - 5;
}
static void number_wide(int r, csvr_cell *c, char *t)
{
    (void)t;
    c->as.dec.units = (dec_int128)INT64_MAX * 1000 + r;
    c->is_null = r % 9 == 0;
}
static void text_ids(int r, csvr_cell *c, char *t)
{
    (void)c;
    snprintf(t, 32, "C%08d", (r * 7919) % 1000);
}
static void text_ids_then_word(int r, csvr_cell *c, char *t)
{
    (void)c;
    if (r < 600) snprintf(t, 32, "O%09d", r);
    else snprintf(t, 32, "%s", r % 2 ? "web" : "O1");
}
static void text_widths_differ(int r, csvr_cell *c, char *t)
{
    (void)c;
    snprintf(t, 32, "C%d", r);
}
static void text_longest_digits(int r, csvr_cell *c, char *t)
{
    (void)c;
    snprintf(t, 32, "%s", r % 2 ? "999999999999999999" : "000000000000000000");
}
static void text_too_many_digits(int r, csvr_cell *c, char *t)
{
    (void)c;
    snprintf(t, 32, "1%018d", r);
}
static void text_utf8_prefix(int r, csvr_cell *c, char *t)
{
    (void)c;
    snprintf(t, 32, "店-%03d", r % 40);
    c->is_null = r % 4 == 1;
}
static void text_small_dict(int r, csvr_cell *c, char *t)
{
    (void)c;
    snprintf(t, 32, "%s", r % 3 ? "app" : "web");
}
static void text_wide_dict(int r, csvr_cell *c, char *t)
{
    (void)c;
    snprintf(t, 32, "x%dy", r % 400);
}
static void text_all_different(int r, csvr_cell *c, char *t)
{
    snprintf(t, 32, "name %d!", r);
    c->is_null = r % 11 == 3;
}
static void text_one_space(int r, csvr_cell *c, char *t)
{
    (void)r, (void)c;
    snprintf(t, 32, " ");
}
static void all_null(int r, csvr_cell *c, char *t)
{
    (void)r, (void)t;
    c->is_null = true;
}
static void bools(int r, csvr_cell *c, char *t)
{
    (void)t;
    c->as.b = r % 3 == 1;
    c->is_null = r % 5 == 2;
}

static const scenario SCENARIOS[] = {
    { "int constant", CSVR_INT, int_constant, 1000 },
    { "int in a byte", CSVR_INT, int_byte, 2500 },
    { "int in two bytes", CSVR_INT, int_short, 3500 },
    { "int in four bytes", CSVR_INT, int_word, 5500 },
    { "int extremes, nulls", CSVR_INT, int_extremes, 10000 },
    { "dates", CSVR_DATE, date_span, 3500 },
    { "date extremes", CSVR_DATE, date_extremes, 6000 },
    { "money in cents, nulls", CSVR_MONEY, money_cents, 6000 },
    { "number at 18 places", CSVR_NUMBER, number_fine, 10000 },
    { "number beyond int64", CSVR_NUMBER, number_wide, 18000 },
    { "text ids of digits", CSVR_TEXT, text_ids, 3500 },
    { "text ids, then words", CSVR_TEXT, text_ids_then_word, 0 },
    { "text digits of other widths", CSVR_TEXT, text_widths_differ, 0 },
    { "text of 18 digits", CSVR_TEXT, text_longest_digits, 10000 },
    { "text of 19 digits", CSVR_TEXT, text_too_many_digits, 0 },
    { "text ids behind a UTF-8 prefix, nulls", CSVR_TEXT, text_utf8_prefix, 2500 },
    { "text, two values", CSVR_TEXT, text_small_dict, 2500 },
    { "text, 400 values", CSVR_TEXT, text_wide_dict, 6000 },
    { "text all different, nulls", CSVR_TEXT, text_all_different, 13500 },
    { "text of one space", CSVR_TEXT, text_one_space, 2500 },
    { "text all null", CSVR_TEXT, all_null, 1000 },
    { "int all null", CSVR_INT, all_null, 1000 },
    { "money all null", CSVR_MONEY, all_null, 1000 },
    { "bools, nulls", CSVR_BOOL, bools, 1000 },
};

typedef struct replayed {
    const scenario *sc;
    int rows;
    bool ok;
} replayed;

static bool same_cell(csvr_type type, const csvr_cell *a, const csvr_cell *b)
{
    if (a->is_null != b->is_null) return false;
    if (a->is_null) return true;
    switch (type) {
    case CSVR_TEXT:
        return a->as.text.len == b->as.text.len &&
               memcmp(a->as.text.ptr, b->as.text.ptr, a->as.text.len) == 0;
    case CSVR_INT: return a->as.i == b->as.i;
    case CSVR_NUMBER:
    case CSVR_MONEY: return a->as.dec.units == b->as.dec.units;
    case CSVR_DATE: return a->as.date == b->as.date;
    case CSVR_BOOL: return a->as.b == b->as.b;
    }
    return false;
}

static void scenario_cell(const scenario *sc, int r, csvr_cell *cell, char *text)
{
    memset(cell, 0, sizeof *cell);
    text[0] = '\0';
    sc->cell(r, cell, text);
    if (sc->type == CSVR_TEXT) cell->as.text = (csvr_text){ text, strlen(text) };
}

static bool replayed_row(void *ctx, const csvr_cell *cells, bool dated)
{
    replayed *rp = ctx;
    (void)dated;
    csvr_cell want;
    char text[32];
    scenario_cell(rp->sc, rp->rows, &want, text);
    if (!same_cell(rp->sc->type, &want, &cells[0])) {
        print_message("%s: row %d differs\n", rp->sc->what, rp->rows);
        rp->ok = false;
    }
    rp->rows++;
    return true;
}

static bool no_bad(void *ctx, const csvr_error *e, const char *raw, size_t raw_len)
{
    (void)e, (void)raw, (void)raw_len;
    ((replayed *)ctx)->ok = false;
    return true;
}

static bool gate_date(int r, date_t *d);
#define GATE_BAD_BEFORE 600

/* Writes scenario SC's ENC_ROWS rows to a cache at PATH as one group: its column alone,
 * or (DATED) with a date column (gate_date's) and one bad row before row GATE_BAD_BEFORE. */
static void write_scenario(const char *path, const colc_key *key, const scenario *sc, bool dated)
{
    char why[256];
    csvr_type types[2] = { sc->type, CSVR_DATE };
    colc_writer *w = colc_writer_new(path, why, sizeof why);
    assert_non_null(w);
    colc_group *g = colc_group_new(types, dated ? 2 : 1, 0);
    for (int r = 0; r < ENC_ROWS; r++) {
        csvr_cell cells[2];
        char text[32];
        if (dated && r == GATE_BAD_BEFORE) {
            csvr_error e;
            memset(&e, 0, sizeof e);
            e.kind = CSVR_ERR_CELL;
            e.line = 700;
            snprintf(e.message, sizeof e.message, "bad");
            assert_true(colc_group_add_bad(g, &e, "x", 1));
        }
        scenario_cell(sc, r, &cells[0], text);
        memset(&cells[1], 0, sizeof cells[1]);
        cells[1].is_null = !gate_date(r, &cells[1].as.date);
        assert_true(colc_group_add_row(g, cells));
    }
    assert_true(colc_writer_add(w, 0, 100, g));
    unsigned char sha[32] = { 0 };
    assert_true(colc_writer_commit(w, key, sha, why, sizeof why));
}

static void test_every_encoding(void **state)
{
    (void)state;
    char path[256], why[256];
    snprintf(path, sizeof path, "%s/e.kcol", dir);
    colc_key key = key_of(1);
    for (size_t i = 0; i < sizeof SCENARIOS / sizeof *SCENARIOS; i++) {
        const scenario *sc = &SCENARIOS[i];
        write_scenario(path, &key, sc, false);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        if (sc->max_bytes && st.st_size > sc->max_bytes)
            fail_msg("%s: %lld bytes, more than %ld", sc->what, (long long)st.st_size, sc->max_bytes);
        colc_table *t = colc_open(path, &key, &sc->type, 1, why, sizeof why);
        assert_non_null(t);
        replayed rp = { sc, 0, true };
        colc_sink sink = { .row = replayed_row, .bad = no_bad, .ctx = &rp };
        if (colc_replay(t, 0, "data.csv", &sink, NULL, why, sizeof why) != COLC_DONE)
            fail_msg("%s: refused: %s", sc->what, why);
        if (!rp.ok || rp.rows != ENC_ROWS)
            fail_msg("%s: %d rows replayed, not as written", sc->what, rp.rows);
        colc_close(t);
    }
    unlink(path);
}

/* The date of row R in test_replay_by_dates (null on some rows), and whether its dates
 * callback wants the row. */
static bool gate_date(int r, date_t *d)
{
    *d = 20000 + r;
    return r % 13 != 5;
}

static bool gate_wants(date_t d)
{
    return d % 3 == 0 || (d > 20300 && d < 20600);
}

typedef struct gated {
    replayed rp;
    int delivered, skipped, dated_rows, batches, bad;
} gated;

/* The one bad row of test_replay_by_dates stands before good row GATE_BAD_BEFORE
 * (write_scenario): its batch of 256 rows is handed out whole. */

static bool gate_dates(void *ctx, const date_t *days, const unsigned char *is_null, size_t n,
                       unsigned char *wanted)
{
    gated *gt = ctx;
    gt->batches++;
    /* every earlier row was delivered or skipped: this batch starts at row rp.rows */
    for (size_t i = 0; i < n; i++) {
        date_t d;
        bool has = gate_date(gt->rp.rows + (int)i, &d);
        if (is_null[i] == has || (has && days[i] != d)) gt->rp.ok = false;
        wanted[i] = !is_null[i] && gate_wants(days[i]);
    }
    return true;
}

static bool gated_row(void *ctx, const csvr_cell *cells, bool dated)
{
    gated *gt = ctx;
    date_t d;
    bool has = gate_date(gt->rp.rows, &d);
    if (cells[1].is_null == has || (has && cells[1].as.date != d)) gt->rp.ok = false;
    /* a row left out by the dates callback never arrives; a row of a batch that was not
     * gated arrives undated */
    if (dated && !(has && gate_wants(d))) gt->rp.ok = false;
    gt->dated_rows += dated;
    gt->delivered++;
    return replayed_row(&gt->rp, cells, dated);
}

static bool gate_bad(void *ctx, const csvr_error *e, const char *raw, size_t raw_len)
{
    (void)e, (void)raw, (void)raw_len;
    gated *gt = ctx;
    if (gt->rp.rows != GATE_BAD_BEFORE) gt->rp.ok = false;
    gt->bad++;
    return true;
}

static void gate_skipped(void *ctx, uint64_t rows)
{
    gated *gt = ctx;
    gt->skipped += (int)rows;
    gt->rp.rows += (int)rows;
}

/* A replay whose dates callback leaves rows out decodes the others exactly as a whole
 * replay does, in every encoding (the all-different text counts the rows it skips to
 * find its entries), and tells the count of rows left out. */
static void test_replay_by_dates(void **state)
{
    (void)state;
    char path[256], why[256];
    snprintf(path, sizeof path, "%s/d.kcol", dir);
    colc_key key = key_of(1);
    for (size_t i = 0; i < sizeof SCENARIOS / sizeof *SCENARIOS; i++) {
        const scenario *sc = &SCENARIOS[i];
        csvr_type types[2] = { sc->type, CSVR_DATE };
        write_scenario(path, &key, sc, true);
        colc_table *t = colc_open(path, &key, types, 2, why, sizeof why);
        assert_non_null(t);
        gated gt = { { sc, 0, true }, 0, 0, 0, 0, 0 };
        colc_sink sink = { gated_row, gate_bad, &gt, gate_dates, 1, gate_skipped };
        if (colc_replay(t, 0, "data.csv", &sink, NULL, why, sizeof why) != COLC_DONE)
            fail_msg("%s: refused: %s", sc->what, why);
        /* rows [512, 768) hold the bad row: all delivered, none dated */
        int want_dated = 0, whole = 256;
        for (int r = 0; r < ENC_ROWS; r++) {
            date_t d;
            if (r < 512 || r >= 768) want_dated += gate_date(r, &d) && gate_wants(d);
        }
        if (!gt.rp.ok || gt.rp.rows != ENC_ROWS || gt.dated_rows != want_dated ||
            gt.delivered != want_dated + whole || gt.skipped != ENC_ROWS - gt.delivered || gt.bad != 1 ||
            gt.batches != 3)
            fail_msg("%s: %d rows replayed (%d dated), %d skipped, %d batches gated; %d dated wanted",
                     sc->what, gt.delivered, gt.dated_rows, gt.skipped, gt.batches, want_dated);
        colc_close(t);
    }
    unlink(path);
}

static void make_file(const char *name, size_t bytes, time_t used)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < bytes; i++) fputc('x', f);
    fclose(f);
    struct timeval tv[2] = { { used, 0 }, { used, 0 } };
    utimes(path, tv);
}

static bool exists(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static void test_evict_and_clear(void **state)
{
    (void)state;
    time_t now = time(NULL);
    make_file("old.kcol", 1000, now - 300);
    make_file("mid.kcol", 1000, now - 200);
    make_file("new.kcol", 1000, now - 100);
    make_file("other.txt", 5000, now - 1000);        /* not the cache's: never counted or removed */
    make_file("running.kcol.tmp.abc123", 1000, now); /* a writer's: too young to remove */
    colc_dir_stats st;
    assert_true(colc_dir_info(dir, &st));
    assert_int_equal(st.files, 3);
    assert_int_equal(st.bytes, 3000);
    assert_int_equal(st.temporary_files, 1);
    colc_dir_evict(dir, 2500); /* 4000 bytes: the least recently used go first */
    assert_false(exists("old.kcol"));
    assert_false(exists("mid.kcol"));
    assert_true(exists("new.kcol"));
    assert_true(exists("running.kcol.tmp.abc123"));
    assert_true(exists("other.txt"));
    assert_true(colc_dir_clear(dir, &st));
    assert_int_equal(st.files, 2); /* clear takes the temporary file too */
    assert_false(exists("new.kcol"));
    assert_true(exists("other.txt"));
    char path[256];
    snprintf(path, sizeof path, "%s/other.txt", dir);
    unlink(path);
}

int main(void)
{
    if (mkdtemp(dir) == NULL) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),      cmocka_unit_test(test_money_finer_than_cents_refused),
        cmocka_unit_test(test_every_encoding),  cmocka_unit_test(test_replay_by_dates),  cmocka_unit_test(test_changed_under_replay),
        cmocka_unit_test(test_evict_and_clear),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(dir);
    return failed;
}
