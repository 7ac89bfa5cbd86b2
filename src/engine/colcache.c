/* colcache.c — the column cache's file format, writer and reader (see colcache.h).
 *
 * A cache file, all integers little-endian as this machine writes them (the magic says
 * which: a file from a machine of the other order is foreign), every section 8-aligned:
 *
 *   header      file_header below, with a checksum over itself (that field zero) and
 *               the directory
 *   groups      one blob per group, anywhere after the header, each with a checksum in
 *               the directory
 *   directory   group_count dir_entry, in replay order
 *
 * A group blob: group_head, then n_cols col_head, then the sections they point to
 * (offsets relative to the blob): per column a null bitmap (bit r of byte r/8; none
 * when the group has no null in the column) and the values in the column's encoding,
 * then the bad rows (bad_head, message, raw bytes, padded to 8).  Good rows' lines are
 * not kept: a replayed row has none (csv_reader.h).
 *
 * The encodings (col_head.enc), chosen per group and column for size -- the cache must
 * stay well under the CSV's size (docs/decisions.md):
 *   ENC_FOR     int, date, number and money at `mode` places, and text of digits: the
 *               value minus the group's smallest (`base`) in `width` bytes (0, 1, 2, 4
 *               or 8: 0 when every value is the same)
 *   ENC_WIDE    number and money that no int64 holds at a common scale: 16-byte decimals
 *   ENC_DIGITS  text whose values are all one prefix and `mode` digits (ids such as
 *               C00272234): the prefix once (in the heap), the digits as ENC_FOR
 *   ENC_DICT    other text: dictionary ids in `width` bytes (1, 2 or 4), then u32
 *               string offsets, dictionary size + 1 of them, into a string heap
 *   ENC_DICT_SEQ  text whose values are all different, in order: the dictionary alone,
 *               the k-th non-null row holding entry k
 *   ENC_BITS    bool: a bit per row
 *
 * The checksums are a 64-bit multiply-rotate hash, not a cryptographic one: they guard
 * against damage (a torn write, a flipped bit, a truncated file), at memory speed, on
 * every warm run.  Nothing here guards against someone who can write the user's cache
 * directory on purpose: such a person can also edit the data files.
 */
#define _GNU_SOURCE /* mkostemp */
#include "kpic/colcache.h"
#include "kpic/mapguard.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAGIC_LE       "KPICCC\x01L" /* the last byte: this machine's byte order */
#define MAGIC_BE       "KPICCC\x01B"
#define FORMAT_VERSION 2u

/* number and money columns whose values do not fit int64 at a common scale */
#define MODE_WIDE 255u

typedef struct file_header {
    char magic[8];
    uint64_t version;
    uint64_t file_size;      /* the cache file's own size */
    uint64_t dev, ino, size; /* the data file's identity (colc_key) */
    int64_t mtime_sec, mtime_nsec, ctime_sec, ctime_nsec;
    unsigned char columns[32];
    unsigned char sha256[32];
    uint64_t group_count;
    uint64_t dir_offset;
    uint64_t checksum; /* over this header, this field zero, and the directory */
    uint64_t reserved;
} file_header;

typedef struct dir_entry {
    uint64_t offset, length; /* the group blob */
    uint64_t checksum;       /* over the blob */
    uint64_t file_begin, file_end;
    uint64_t reserved;
} dir_entry;

typedef struct group_head {
    uint64_t rows, bad_count, n_cols;
    uint64_t bad_off, bad_len;
} group_head;

enum { ENC_FOR = 1, ENC_WIDE, ENC_DIGITS, ENC_DICT, ENC_DICT_SEQ, ENC_BITS };

/* The longest prefix and the most digits of an ENC_DIGITS column: 18 digits always fit
 * an int64. */
#define DIGITS_PREFIX_MAX 32u
#define DIGITS_MAX        18u

typedef struct col_head {
    uint64_t type;
    uint64_t enc;
    uint64_t width;    /* bytes per stored value */
    uint64_t null_off; /* 0: no null in the group */
    uint64_t data_off;
    int64_t base;  /* ENC_FOR, ENC_DIGITS: the values' frame of reference */
    uint64_t mode; /* number, money: places 0..18 (ENC_FOR); ENC_DIGITS: digits */
    uint64_t dict_count, dict_off, heap_off, heap_len; /* ENC_DIGITS: the prefix in the heap */
} col_head;

typedef struct bad_head {
    uint64_t before; /* good rows of the group before this bad row */
    uint64_t line, field;
    int64_t column;
    uint32_t kind, msg_len, raw_len, pad;
} bad_head;

static void say(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *why, size_t size, const char *fmt, ...)
{
    if (why == NULL || size == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, size, fmt, ap);
    va_end(ap);
}

/* ---- checksum ---------------------------------------------------------------------- */

static inline uint64_t rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static const uint64_t P1 = 0x9E3779B185EBCA87ull, P2 = 0xC2B2AE3D27D4EB4Full;

static uint64_t checksum_more(uint64_t seed, const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h[4] = { seed + P1 + P2, seed + P2, seed, seed - P1 };
    while (n >= 32) {
        for (int k = 0; k < 4; k++) {
            uint64_t v;
            memcpy(&v, p + 8 * k, 8);
            h[k] = rotl(h[k] + v * P2, 31) * P1;
        }
        p += 32;
        n -= 32;
    }
    uint64_t x = rotl(h[0], 1) + rotl(h[1], 7) + rotl(h[2], 12) + rotl(h[3], 18) + n;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        x = rotl(x ^ (rotl(v * P2, 31) * P1), 27) * P1 + P2;
        p += 8;
        n -= 8;
    }
    while (n > 0) {
        x = rotl(x ^ (*p++ * P1), 11) * P2;
        n--;
    }
    x ^= x >> 33;
    x *= P2;
    x ^= x >> 29;
    return x;
}

static uint64_t checksum(const void *data, size_t n)
{
    return checksum_more(0, data, n);
}

/* ---- building a group ---------------------------------------------------------------- */

typedef struct col_build {
    csvr_type type;
    unsigned char *nulls; /* one bit per row */
    bool any_null;
    unsigned char *vals; /* rows values of elem bytes; text: u64, digits or an id */
    size_t elem;
    /* text: while every value so far is PREFIX and DIGITS digits, the digits' value is
     * kept (no hashing, no heap); the first value that is not turns the column into a
     * dictionary, its earlier values included */
    bool digits;
    char prefix[DIGITS_PREFIX_MAX];
    size_t prefix_len, digit_count; /* digit_count 0: no value seen yet */
    /* text: the group's dictionary */
    uint32_t *offs; /* dict_count + 1 offsets into heap */
    size_t dict_count, offs_cap;
    char *heap;
    size_t heap_len, heap_cap;
    uint32_t *slots; /* open addressing: id + 1, 0 empty */
    size_t slot_cap;
} col_build;

struct colc_group {
    size_t n_cols;
    col_build *cols;
    uint64_t rows, cap; /* rows added, rows the arrays hold */
    uint64_t file_begin;
    unsigned char *bad; /* serialised bad rows */
    size_t bad_len, bad_cap;
    uint64_t bad_count;
    bool broken;
};

static size_t elem_size(csvr_type t)
{
    switch (t) {
    case CSVR_TEXT: return 8;
    case CSVR_INT: return 8;
    case CSVR_NUMBER:
    case CSVR_MONEY: return sizeof(dec_t);
    case CSVR_DATE: return 4;
    case CSVR_BOOL: return 1;
    }
    return 8;
}

static bool grow(void *pp, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return true;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *q = realloc(*(void **)pp, c * elem);
    if (q == NULL) return false;
    *(void **)pp = q;
    *cap = c;
    return true;
}

colc_group *colc_group_new(const csvr_type *types, size_t n_cols, uint64_t file_begin)
{
    colc_group *g = calloc(1, sizeof *g);
    if (g == NULL) return NULL;
    g->cols = calloc(n_cols ? n_cols : 1, sizeof *g->cols);
    if (g->cols == NULL) {
        free(g);
        return NULL;
    }
    g->n_cols = n_cols;
    g->file_begin = file_begin;
    for (size_t c = 0; c < n_cols; c++) {
        g->cols[c].type = types[c];
        g->cols[c].elem = elem_size(types[c]);
        g->cols[c].digits = types[c] == CSVR_TEXT;
    }
    return g;
}

uint64_t colc_group_rows(const colc_group *g)
{
    return g->rows;
}

/* Short keys (ids, codes) are most of what is interned: 8 bytes at a time, one
 * multiply each, and a final mix. */
static uint64_t text_hash(const char *s, size_t n)
{
    uint64_t h = n * P1;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, s, 8);
        h = (h ^ v) * P2;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    uint64_t tail = 0;
    memcpy(&tail, s, n);
    h ^= tail;
    /* murmur3's finaliser: the slot is taken from the low bits */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

/* The dictionary id of S in column C, added if new; false when out of memory or past
 * the u32 limits. */
static bool intern(col_build *c, const char *s, size_t n, uint32_t *id)
{
    if (c->dict_count * 2 >= c->slot_cap) {
        size_t cap = c->slot_cap ? c->slot_cap * 2 : 1024;
        uint32_t *slots = calloc(cap, sizeof *slots);
        if (slots == NULL) return false;
        for (size_t i = 0; i < c->slot_cap; i++) {
            uint32_t v = c->slots[i];
            if (v == 0) continue;
            size_t at = text_hash(c->heap + c->offs[v - 1], c->offs[v] - c->offs[v - 1]) & (cap - 1);
            while (slots[at] != 0) at = (at + 1) & (cap - 1);
            slots[at] = v;
        }
        free(c->slots);
        c->slots = slots;
        c->slot_cap = cap;
    }
    size_t at = text_hash(s, n) & (c->slot_cap - 1);
    for (;;) {
        uint32_t v = c->slots[at];
        if (v == 0) break;
        uint32_t from = c->offs[v - 1], to = c->offs[v];
        if (to - from == n && memcmp(c->heap + from, s, n) == 0) {
            *id = v - 1;
            return true;
        }
        at = (at + 1) & (c->slot_cap - 1);
    }
    if (c->dict_count >= UINT32_MAX - 1 || c->heap_len + n > UINT32_MAX) return false;
    if (!grow(&c->offs, &c->offs_cap, c->dict_count + 2, sizeof *c->offs) ||
        !grow(&c->heap, &c->heap_cap, c->heap_len + n + 1, 1))
        return false;
    if (c->dict_count == 0) c->offs[0] = 0;
    if (n) memcpy(c->heap + c->heap_len, s, n);
    c->heap_len += n;
    c->dict_count++;
    c->offs[c->dict_count] = (uint32_t)c->heap_len;
    c->slots[at] = (uint32_t)c->dict_count;
    *id = (uint32_t)(c->dict_count - 1);
    return true;
}

static const char DIGIT_PAIRS[] = "00010203040506070809101112131415161718192021222324252627282930"
                                  "31323334353637383940414243444546474849505152535455565758596061"
                                  "6263646566676869707172737475767778798081828384858687888990919293"
                                  "949596979899";

/* Writes V as exactly N decimal digits (leading zeros) at OUT; V < 10^N. */
static void put_digits(char *out, uint64_t v, size_t n)
{
    if (v <= UINT32_MAX) {
        /* ids of up to nine digits, the common case: 32-bit division is cheaper */
        uint32_t w = (uint32_t)v;
        while (n >= 2) {
            unsigned d = w % 100;
            w /= 100;
            n -= 2;
            memcpy(out + n, DIGIT_PAIRS + 2 * d, 2);
        }
        if (n) out[0] = (char)('0' + w % 10);
        return;
    }
    while (n >= 2) {
        unsigned d = (unsigned)(v % 100);
        v /= 100;
        n -= 2;
        memcpy(out + n, DIGIT_PAIRS + 2 * d, 2);
    }
    if (n) out[0] = (char)('0' + v % 10);
}

/* Whether S is text of digits: a prefix without a trailing digit, then 1 to DIGITS_MAX
 * ASCII digits; their value in *VALUE, the prefix's length in *PREFIX_LEN. */
static bool split_digits(const char *s, size_t n, size_t *prefix_len, uint64_t *value)
{
    size_t d = 0;
    while (d < n && d <= DIGITS_MAX && s[n - 1 - d] >= '0' && s[n - 1 - d] <= '9') d++;
    if (d == 0 || d > DIGITS_MAX || n - d > DIGITS_PREFIX_MAX) return false;
    uint64_t v = 0;
    for (size_t i = n - d; i < n; i++) v = v * 10 + (uint64_t)(s[i] - '0');
    *prefix_len = n - d;
    *value = v;
    return true;
}

/* Turns text column B, kept as digits so far, into a dictionary of its first ROWS rows'
 * values. */
static bool digits_to_dict(col_build *b, uint64_t rows)
{
    b->digits = false;
    char text[DIGITS_PREFIX_MAX + DIGITS_MAX];
    memcpy(text, b->prefix, b->prefix_len);
    for (uint64_t r = 0; r < rows; r++) {
        if (b->nulls[r / 8] & (1u << (r % 8))) continue;
        uint64_t v;
        memcpy(&v, b->vals + r * 8, 8);
        put_digits(text + b->prefix_len, v, b->digit_count);
        uint32_t id;
        if (!intern(b, text, b->prefix_len + b->digit_count, &id)) return false;
        v = id;
        memcpy(b->vals + r * 8, &v, 8);
    }
    return true;
}

/* Adds text S of N bytes as row R of column B. */
static bool add_text(col_build *b, uint64_t r, const char *s, size_t n)
{
    uint64_t v;
    if (b->digits) {
        size_t prefix_len;
        if (split_digits(s, n, &prefix_len, &v)) {
            if (b->digit_count == 0) {
                memcpy(b->prefix, s, prefix_len);
                b->prefix_len = prefix_len;
                b->digit_count = n - prefix_len;
            }
            if (prefix_len == b->prefix_len && n - prefix_len == b->digit_count &&
                memcmp(s, b->prefix, prefix_len) == 0) {
                memcpy(b->vals + r * 8, &v, 8);
                return true;
            }
        }
        if (!digits_to_dict(b, r)) return false;
    }
    uint32_t id;
    if (!intern(b, s, n, &id)) return false;
    v = id;
    memcpy(b->vals + r * 8, &v, 8);
    return true;
}

bool colc_group_add_row(colc_group *g, const csvr_cell *cells)
{
    if (g->broken || g->rows >= COLC_GROUP_ROWS_MAX) return false;
    if (g->rows == g->cap) {
        size_t cap = g->cap ? (size_t)g->cap * 2 : 256;
        for (size_t c = 0; c < g->n_cols; c++) {
            col_build *b = &g->cols[c];
            unsigned char *v = realloc(b->vals, cap * b->elem);
            if (v == NULL) goto broken;
            b->vals = v;
            unsigned char *nb = realloc(b->nulls, cap / 8);
            if (nb == NULL) goto broken;
            memset(nb + g->cap / 8, 0, (cap - g->cap) / 8);
            b->nulls = nb;
        }
        g->cap = cap;
    }
    uint64_t r = g->rows;
    for (size_t c = 0; c < g->n_cols; c++) {
        col_build *b = &g->cols[c];
        const csvr_cell *cell = &cells[c];
        unsigned char *at = b->vals + r * b->elem;
        if (cell->is_null) {
            b->nulls[r / 8] |= (unsigned char)(1u << (r % 8));
            b->any_null = true;
            memset(at, 0, b->elem);
            continue;
        }
        switch (b->type) {
        case CSVR_TEXT:
            if (!add_text(b, r, cell->as.text.ptr, cell->as.text.len)) goto broken;
            break;
        case CSVR_INT: memcpy(at, &cell->as.i, 8); break;
        case CSVR_NUMBER:
        case CSVR_MONEY: memcpy(at, &cell->as.dec, sizeof(dec_t)); break;
        case CSVR_DATE: memcpy(at, &cell->as.date, 4); break;
        case CSVR_BOOL: *at = cell->as.b ? 1 : 0; break;
        }
    }
    g->rows++;
    return true;
broken:
    g->broken = true;
    return false;
}

bool colc_group_add_bad(colc_group *g, const csvr_error *e, const char *raw, size_t raw_len)
{
    if (g->broken) return false;
    size_t msg_len = strnlen(e->message, sizeof e->message);
    if (raw_len > UINT32_MAX) {
        g->broken = true;
        return false;
    }
    size_t need = sizeof(bad_head) + ((msg_len + raw_len + 7) & ~(size_t)7);
    if (!grow(&g->bad, &g->bad_cap, g->bad_len + need, 1)) {
        g->broken = true;
        return false;
    }
    bad_head h = { g->rows,           e->line,           e->field,          e->column,
                   (uint32_t)e->kind, (uint32_t)msg_len, (uint32_t)raw_len, 0 };
    unsigned char *at = g->bad + g->bad_len;
    memset(at, 0, need);
    memcpy(at, &h, sizeof h);
    memcpy(at + sizeof h, e->message, msg_len);
    if (raw_len) memcpy(at + sizeof h + msg_len, raw, raw_len);
    g->bad_len += need;
    g->bad_count++;
    return true;
}

void colc_group_free(colc_group *g)
{
    if (g == NULL) return;
    for (size_t c = 0; c < g->n_cols; c++) {
        col_build *b = &g->cols[c];
        free(b->nulls);
        free(b->vals);
        free(b->offs);
        free(b->heap);
        free(b->slots);
    }
    free(g->cols);
    free(g->bad);
    free(g);
}

static const dec_int128 POW10[19] = {
    1,
    10,
    100,
    1000,
    10000,
    100000,
    1000000,
    10000000,
    100000000,
    1000000000,
    10000000000ll,
    100000000000ll,
    1000000000000ll,
    10000000000000ll,
    100000000000000ll,
    1000000000000000ll,
    10000000000000000ll,
    100000000000000000ll,
    1000000000000000000ll,
};

static bool is_null_at(const col_build *b, uint64_t r)
{
    return (b->nulls[r / 8] >> (r % 8)) & 1;
}

/* The fewest places (0..18) at which every non-null decimal of column B fits int64
 * exactly, or MODE_WIDE. */
static unsigned decimal_mode(const colc_group *g, const col_build *b)
{
    unsigned places = 0;
    for (uint64_t r = 0; r < g->rows; r++) {
        if (is_null_at(b, r)) continue;
        dec_t v;
        memcpy(&v, b->vals + r * sizeof v, sizeof v);
        while (places < 18 && v.units % POW10[18 - places] != 0) places++;
    }
    for (uint64_t r = 0; r < g->rows; r++) {
        if (is_null_at(b, r)) continue;
        dec_t v;
        memcpy(&v, b->vals + r * sizeof v, sizeof v);
        dec_int128 q = v.units / POW10[18 - places];
        if (q > INT64_MAX || q < INT64_MIN) return MODE_WIDE;
    }
    return places;
}

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* The bytes that hold every offset up to RANGE. */
static unsigned width_for(uint64_t range)
{
    return range == 0 ? 0 : range <= UINT8_MAX ? 1 : range <= UINT16_MAX ? 2 : range <= UINT32_MAX ? 4 : 8;
}

static void store_width(unsigned char *at, uint64_t v, unsigned width)
{
    switch (width) {
    case 1: *at = (unsigned char)v; break;
    case 2: {
        uint16_t x = (uint16_t)v;
        memcpy(at, &x, 2);
        break;
    }
    case 4: {
        uint32_t x = (uint32_t)v;
        memcpy(at, &x, 4);
        break;
    }
    case 8: memcpy(at, &v, 8); break;
    default: break;
    }
}

/* Column B's values as int64 for ENC_FOR (row R's; 0 for a null row): text digits,
 * ints, dates, decimals at PLACES. */
static int64_t for_value(const col_build *b, uint64_t r, unsigned places)
{
    const unsigned char *at = b->vals + r * b->elem;
    switch (b->type) {
    case CSVR_TEXT:
    case CSVR_INT: {
        int64_t v;
        memcpy(&v, at, 8);
        return v;
    }
    case CSVR_DATE: {
        int32_t d;
        memcpy(&d, at, 4);
        return d;
    }
    case CSVR_NUMBER:
    case CSVR_MONEY: {
        dec_t v;
        memcpy(&v, at, sizeof v);
        return (int64_t)(v.units / POW10[18 - places]);
    }
    case CSVR_BOOL: return *at;
    }
    return 0;
}

/* Chooses column B's encoding and fills H's encoding fields (not the offsets). */
static void choose_encoding(const colc_group *g, const col_build *b, col_head *h)
{
    h->type = (uint64_t)b->type;
    h->width = 0;
    switch (b->type) {
    case CSVR_BOOL: h->enc = ENC_BITS; return;
    case CSVR_TEXT:
        if (!b->digits || b->digit_count == 0) {
            /* all different, in order: the k-th non-null row holds entry k */
            uint64_t k = 0;
            bool seq = true;
            for (uint64_t r = 0; r < g->rows && seq; r++) {
                if (is_null_at(b, r)) continue;
                uint64_t id;
                memcpy(&id, b->vals + r * 8, 8);
                seq = id == k++;
            }
            h->enc = seq ? ENC_DICT_SEQ : ENC_DICT;
            h->width = seq ? 0 : b->dict_count <= 256 ? 1 : b->dict_count <= 65536 ? 2 : 4;
            h->dict_count = b->dict_count;
            return;
        }
        h->enc = ENC_DIGITS;
        h->mode = b->digit_count;
        break;
    case CSVR_NUMBER:
    case CSVR_MONEY:
        h->mode = decimal_mode(g, b);
        if (h->mode == MODE_WIDE) {
            h->enc = ENC_WIDE;
            h->width = sizeof(dec_t);
            return;
        }
        h->enc = ENC_FOR;
        break;
    case CSVR_INT:
    case CSVR_DATE: h->enc = ENC_FOR; break;
    }
    bool any = false;
    int64_t lo = 0, hi = 0;
    unsigned places = (unsigned)h->mode;
    for (uint64_t r = 0; r < g->rows; r++) {
        if (is_null_at(b, r)) continue;
        int64_t v = for_value(b, r, places);
        if (!any || v < lo) lo = v;
        if (!any || v > hi) hi = v;
        any = true;
    }
    h->base = lo;
    h->width = width_for((uint64_t)hi - (uint64_t)lo);
}

/* Writes column B's values at OUT in the encoding of H. */
static void encode_values(const colc_group *g, const col_build *b, const col_head *h, unsigned char *out)
{
    uint64_t n = g->rows;
    switch (h->enc) {
    case ENC_BITS:
        for (uint64_t r = 0; r < n; r++)
            if (b->vals[r]) out[r / 8] |= (unsigned char)(1u << (r % 8));
        return;
    case ENC_WIDE: memcpy(out, b->vals, n * sizeof(dec_t)); return;
    case ENC_DICT_SEQ: return;
    case ENC_DICT:
        for (uint64_t r = 0; r < n; r++) {
            uint64_t id;
            memcpy(&id, b->vals + r * 8, 8);
            store_width(out + r * h->width, id, (unsigned)h->width);
        }
        return;
    default: /* ENC_FOR, ENC_DIGITS */
        if (h->width == 0) return;
        for (uint64_t r = 0; r < n; r++) {
            uint64_t off =
                is_null_at(b, r) ? 0 : (uint64_t)for_value(b, r, (unsigned)h->mode) - (uint64_t)h->base;
            store_width(out + r * h->width, off, (unsigned)h->width);
        }
        return;
    }
}

/* Serialises G into a new buffer of *LEN bytes. */
static unsigned char *serialise(const colc_group *g, size_t *len)
{
    size_t n = (size_t)g->rows;
    size_t at = align8(sizeof(group_head) + g->n_cols * sizeof(col_head));
    col_head *heads = calloc(g->n_cols ? g->n_cols : 1, sizeof *heads);
    if (heads == NULL) return NULL;
    for (size_t c = 0; c < g->n_cols; c++) {
        const col_build *b = &g->cols[c];
        col_head *h = &heads[c];
        choose_encoding(g, b, h);
        if (b->any_null) {
            h->null_off = at;
            at = align8(at + (n + 7) / 8);
        }
        h->data_off = at;
        at = align8(at + (h->enc == ENC_BITS ? (n + 7) / 8 : n * h->width));
        if (h->enc == ENC_DICT || h->enc == ENC_DICT_SEQ) {
            h->dict_off = at;
            at = align8(at + (b->dict_count + 1) * 4);
            h->heap_off = at;
            h->heap_len = b->heap_len;
            at = align8(at + b->heap_len);
        } else if (h->enc == ENC_DIGITS) {
            h->heap_off = at;
            h->heap_len = b->prefix_len;
            at = align8(at + b->prefix_len);
        }
    }
    group_head gh = { g->rows, g->bad_count, g->n_cols, 0, g->bad_len };
    gh.bad_off = at;
    at += g->bad_len;
    unsigned char *out = calloc(1, at);
    if (out == NULL) {
        free(heads);
        return NULL;
    }
    memcpy(out, &gh, sizeof gh);
    memcpy(out + sizeof gh, heads, g->n_cols * sizeof *heads);
    for (size_t c = 0; c < g->n_cols; c++) {
        const col_build *b = &g->cols[c];
        const col_head *h = &heads[c];
        if (h->null_off) memcpy(out + h->null_off, b->nulls, (n + 7) / 8);
        encode_values(g, b, h, out + h->data_off);
        if (h->enc == ENC_DICT || h->enc == ENC_DICT_SEQ) {
            if (b->dict_count) memcpy(out + h->dict_off, b->offs, (b->dict_count + 1) * 4);
            if (b->heap_len) memcpy(out + h->heap_off, b->heap, b->heap_len);
        } else if (h->enc == ENC_DIGITS && b->prefix_len) {
            memcpy(out + h->heap_off, b->prefix, b->prefix_len);
        }
    }
    if (g->bad_len) memcpy(out + gh.bad_off, g->bad, g->bad_len);
    free(heads);
    *len = at;
    return out;
}

/* ---- writing ------------------------------------------------------------------------- */

struct colc_writer {
    char path[4096];
    char tmp[4096 + 32];
    int fd;
    pthread_mutex_t lock;
    uint64_t end; /* next free offset */
    bool broken;
    struct placed {
        uint64_t index;
        dir_entry entry;
    } * placed;
    size_t placed_count, placed_cap;
};

colc_writer *colc_writer_new(const char *path, char *why, size_t why_size)
{
    colc_writer *w = calloc(1, sizeof *w);
    if (w == NULL || strlen(path) >= sizeof w->path) {
        free(w);
        say(why, why_size, "out of memory or path too long");
        return NULL;
    }
    snprintf(w->path, sizeof w->path, "%s", path);
    snprintf(w->tmp, sizeof w->tmp, "%s.tmp.XXXXXX", path);
    w->fd = mkostemp(w->tmp, O_CLOEXEC); /* mode 0600 */
    if (w->fd < 0) {
        say(why, why_size, "cannot create %s: %s", w->tmp, strerror(errno));
        free(w);
        return NULL;
    }
    pthread_mutex_init(&w->lock, NULL);
    w->end = align8(sizeof(file_header));
    return w;
}

static bool write_at(int fd, const void *data, size_t n, uint64_t off)
{
    const unsigned char *p = data;
    while (n > 0) {
        ssize_t put = pwrite(fd, p, n, (off_t)off);
        if (put < 0 && errno == EINTR) continue;
        if (put <= 0) return false;
        p += put;
        n -= (size_t)put;
        off += (uint64_t)put;
    }
    return true;
}

bool colc_writer_add(colc_writer *w, uint64_t index, uint64_t file_end, colc_group *g)
{
    size_t len = 0;
    unsigned char *blob = g->broken ? NULL : serialise(g, &len);
    uint64_t begin = g->file_begin;
    colc_group_free(g);
    pthread_mutex_lock(&w->lock);
    uint64_t off = w->end;
    bool ok = blob != NULL && !w->broken &&
              grow(&w->placed, &w->placed_cap, w->placed_count + 1, sizeof *w->placed);
    if (ok) {
        w->end += align8(len);
        w->placed[w->placed_count++] = (struct placed){ index, { off, len, 0, begin, file_end, 0 } };
    } else {
        w->broken = true;
    }
    size_t slot = w->placed_count - 1;
    pthread_mutex_unlock(&w->lock);
    if (!ok) {
        free(blob);
        return false;
    }
    /* written outside the lock: each group has its own place */
    uint64_t sum = checksum(blob, len);
    ok = write_at(w->fd, blob, len, off);
    free(blob);
    pthread_mutex_lock(&w->lock);
    w->placed[slot].entry.checksum = sum;
    if (!ok) w->broken = true;
    pthread_mutex_unlock(&w->lock);
    return ok;
}

static int compare_placed(const void *a, const void *b)
{
    const struct placed *x = a, *y = b;
    return (x->index > y->index) - (x->index < y->index);
}

void colc_writer_abort(colc_writer *w)
{
    if (w == NULL) return;
    close(w->fd);
    unlink(w->tmp);
    pthread_mutex_destroy(&w->lock);
    free(w->placed);
    free(w);
}

bool colc_writer_commit(colc_writer *w, const colc_key *key, const unsigned char sha256[32], char *why,
                        size_t why_size)
{
    if (w->broken) {
        say(why, why_size, "writing %s failed", w->tmp);
        colc_writer_abort(w);
        return false;
    }
    qsort(w->placed, w->placed_count, sizeof *w->placed, compare_placed);
    size_t dir_len = w->placed_count * sizeof(dir_entry);
    dir_entry *dir = malloc(dir_len ? dir_len : 1);
    if (dir == NULL) {
        colc_writer_abort(w);
        say(why, why_size, "out of memory");
        return false;
    }
    for (size_t i = 0; i < w->placed_count; i++) dir[i] = w->placed[i].entry;
    file_header h;
    memset(&h, 0, sizeof h);
    uint16_t probe = 1;
    memcpy(h.magic, *(unsigned char *)&probe ? MAGIC_LE : MAGIC_BE, 8);
    h.version = FORMAT_VERSION;
    h.dir_offset = w->end;
    h.file_size = w->end + dir_len;
    h.dev = key->dev;
    h.ino = key->ino;
    h.size = key->size;
    h.mtime_sec = key->mtime_sec;
    h.mtime_nsec = key->mtime_nsec;
    h.ctime_sec = key->ctime_sec;
    h.ctime_nsec = key->ctime_nsec;
    memcpy(h.columns, key->columns, 32);
    memcpy(h.sha256, sha256, 32);
    h.group_count = w->placed_count;
    h.checksum = checksum_more(checksum(&h, sizeof h), dir, dir_len);
    bool ok = write_at(w->fd, dir, dir_len, w->end) && write_at(w->fd, &h, sizeof h, 0) &&
              ftruncate(w->fd, (off_t)h.file_size) == 0;
    free(dir);
    if (!ok || rename(w->tmp, w->path) != 0) {
        say(why, why_size, "cannot write %s: %s", w->path, strerror(errno));
        colc_writer_abort(w);
        return false;
    }
    close(w->fd);
    pthread_mutex_destroy(&w->lock);
    free(w->placed);
    free(w);
    return true;
}

/* ---- reading ------------------------------------------------------------------------- */

/* A group as the directory gives it: where its blob lies and what it must sum to.  Its
 * bytes are only trusted once copied out of the file and checked (colc_replay). */
typedef struct group_view {
    const unsigned char *blob; /* in the mapping (or the caller's bytes) */
    uint64_t length;           /* of the blob */
    uint64_t checksum;
    uint64_t file_begin, file_end;
} group_view;

struct colc_table {
    const unsigned char *base;
    size_t size;
    bool mapped;
    bool check_sums;
    file_header head;
    size_t n_cols;
    csvr_type *types;
    group_view *groups;
};

/* A group's private copy, checked: its head and column heads, read from BLOB. */
typedef struct checked_group {
    const unsigned char *blob;
    group_head head;
    const col_head *cols; /* n_cols, validated */
} checked_group;

void colc_close(colc_table *t)
{
    if (t == NULL) return;
    if (t->mapped) munmap((void *)t->base, t->size);
    free(t->types);
    free(t->groups);
    free(t);
}

/* Whether [OFF, OFF + LEN) lies within SIZE bytes, without overflow. */
static bool within(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

/* Copies LEN bytes at SRC of table T's file to DST: under the SIGBUS guard when the
 * file is mapped, since a cache truncated by hand while a run reads it faults.  False
 * when it did. */
static bool copy_out(const colc_table *t, void *dst, const void *src, size_t len)
{
    if (!t->mapped) {
        memcpy(dst, src, len);
        return true;
    }
    return mapg_copy(dst, src, len, t->base, t->base + t->size);
}

/* The largest of ROWS offsets of WIDTH bytes at P (0 when WIDTH is 0). */
static uint64_t max_offset(const unsigned char *p, uint64_t rows, uint64_t width)
{
    uint64_t hi = 0;
    switch (width) {
    case 1:
        for (uint64_t r = 0; r < rows; r++) hi = p[r] > hi ? p[r] : hi;
        break;
    case 2:
        for (uint64_t r = 0; r < rows; r++) {
            uint16_t x;
            memcpy(&x, p + r * 2, 2);
            hi = x > hi ? x : hi;
        }
        break;
    case 4:
        for (uint64_t r = 0; r < rows; r++) {
            uint32_t x;
            memcpy(&x, p + r * 4, 4);
            hi = x > hi ? x : hi;
        }
        break;
    case 8:
        for (uint64_t r = 0; r < rows; r++) {
            uint64_t x;
            memcpy(&x, p + r * 8, 8);
            hi = x > hi ? x : hi;
        }
        break;
    default: break;
    }
    return hi;
}

static uint64_t load_width(const unsigned char *p, uint64_t width)
{
    switch (width) {
    case 1: return *p;
    case 2: {
        uint16_t x;
        memcpy(&x, p, 2);
        return x;
    }
    case 4: {
        uint32_t x;
        memcpy(&x, p, 4);
        return x;
    }
    case 8: {
        uint64_t x;
        memcpy(&x, p, 8);
        return x;
    }
    default: return 0;
    }
}

/* Checks column C of group G (LEN bytes, ROWS rows) for type TYPE: its encoding, every
 * section within the blob and, for a column the replay decodes (VALUES), every value
 * in its type's range and every id within its dictionary: a value never decoded cannot
 * reach a figure nor a read out of bounds, and scanning it would cost a warm run
 * about a tenth of its time. */
static bool check_column(const checked_group *g, uint64_t len, uint64_t rows, size_t c, csvr_type type,
                         bool values, char *why, size_t why_size)
{
    const col_head *ch = &g->cols[c];
    if (ch->type != (uint64_t)type) {
        say(why, why_size, "column %zu has another type", c + 1);
        return false;
    }
    bool enc_ok;
    switch (ch->enc) {
    case ENC_FOR:
        enc_ok =
            type != CSVR_TEXT && type != CSVR_BOOL && ch->width <= 8 && (ch->width & (ch->width - 1)) == 0;
        break;
    case ENC_WIDE: enc_ok = (type == CSVR_NUMBER || type == CSVR_MONEY) && ch->width == sizeof(dec_t); break;
    case ENC_DIGITS:
        enc_ok = type == CSVR_TEXT && ch->width <= 8 && (ch->width & (ch->width - 1)) == 0 && ch->mode >= 1 &&
                 ch->mode <= DIGITS_MAX && ch->heap_len <= DIGITS_PREFIX_MAX;
        break;
    case ENC_DICT: enc_ok = type == CSVR_TEXT && (ch->width == 1 || ch->width == 2 || ch->width == 4); break;
    case ENC_DICT_SEQ: enc_ok = type == CSVR_TEXT && ch->width == 0; break;
    case ENC_BITS: enc_ok = type == CSVR_BOOL && ch->width == 0; break;
    default: enc_ok = false; break;
    }
    if ((type == CSVR_NUMBER || type == CSVR_MONEY) && ch->enc == ENC_FOR && ch->mode > 18) enc_ok = false;
    if (!enc_ok) {
        say(why, why_size, "column %zu has an unknown encoding", c + 1);
        return false;
    }
    uint64_t data_len = ch->enc == ENC_BITS ? (rows + 7) / 8 : rows * ch->width;
    if ((ch->null_off != 0 && !within(ch->null_off, (rows + 7) / 8, len)) || ch->data_off % 8 != 0 ||
        !within(ch->data_off, data_len, len)) {
        say(why, why_size, "column %zu lies outside its group", c + 1);
        return false;
    }
    const unsigned char *nulls = ch->null_off ? g->blob + ch->null_off : NULL;
    const unsigned char *vals = g->blob + ch->data_off;
    if (!values) return true;
    if (ch->enc == ENC_FOR || ch->enc == ENC_DIGITS) {
        /* every stored value, nulls' included, is base + offset within the type */
        dec_int128 top = (dec_int128)ch->base + max_offset(vals, rows, ch->width);
        dec_int128 lo = INT64_MIN, hi = INT64_MAX;
        if (type == CSVR_DATE) {
            lo = DATE_MIN;
            hi = DATE_MAX;
        } else if (ch->enc == ENC_DIGITS) {
            lo = 0;
            hi = (dec_int128)POW10[ch->mode] - 1;
        }
        if (ch->base < lo || top > hi) {
            say(why, why_size, "column %zu holds a value out of its range", c + 1);
            return false;
        }
        /* a money cell is a whole number of cents (csv_reader.h) */
        if (type == CSVR_MONEY && ch->mode > 2) {
            say(why, why_size, "column %zu holds money finer than cents", c + 1);
            return false;
        }
    } else if (ch->enc == ENC_WIDE && type == CSVR_MONEY) {
        for (uint64_t r = 0; r < rows; r++) {
            dec_t v;
            memcpy(&v, vals + r * sizeof v, sizeof v);
            if (!(nulls != NULL && (nulls[r / 8] & (1u << (r % 8)))) && v.units % POW10[16] != 0) {
                say(why, why_size, "column %zu holds money finer than cents", c + 1);
                return false;
            }
        }
    }
    if (ch->enc == ENC_DIGITS && !within(ch->heap_off, ch->heap_len, len)) {
        say(why, why_size, "the prefix of column %zu lies outside its group", c + 1);
        return false;
    }
    if (ch->enc == ENC_DICT || ch->enc == ENC_DICT_SEQ) {
        if (ch->dict_count > len || ch->dict_off % 4 != 0 ||
            !within(ch->dict_off, (ch->dict_count + 1) * 4, len) ||
            !within(ch->heap_off, ch->heap_len, len)) {
            say(why, why_size, "the dictionary of column %zu lies outside its group", c + 1);
            return false;
        }
        const unsigned char *offs = g->blob + ch->dict_off;
        uint32_t prev = 0;
        if (load_width(offs, 4) != 0) {
            say(why, why_size, "the dictionary of column %zu is malformed", c + 1);
            return false;
        }
        for (uint64_t i = 1; i <= ch->dict_count; i++) {
            uint32_t o = (uint32_t)load_width(offs + i * 4, 4);
            if (o < prev || o > ch->heap_len) {
                say(why, why_size, "the dictionary of column %zu is malformed", c + 1);
                return false;
            }
            prev = o;
        }
        uint64_t present = 0;
        for (uint64_t r = 0; r < rows; r++) {
            if (nulls != NULL && (nulls[r / 8] & (1u << (r % 8)))) continue;
            if (ch->enc == ENC_DICT && load_width(vals + r * ch->width, ch->width) >= ch->dict_count) {
                say(why, why_size, "column %zu refers past its dictionary", c + 1);
                return false;
            }
            present++;
        }
        if (ch->enc == ENC_DICT_SEQ && present != ch->dict_count) {
            say(why, why_size, "column %zu refers past its dictionary", c + 1);
            return false;
        }
    }
    return true;
}

/* Checks group blob G (LEN bytes) for N_COLS columns of TYPES: every section within
 * the blob, every value, id and date of the columns DECODE names (NULL: all) in range,
 * the bad rows well formed. */
static bool check_group(checked_group *g, uint64_t len, const csvr_type *types, const bool *decode,
                        size_t n_cols, char *why, size_t why_size)
{
    if (len < sizeof(group_head)) {
        say(why, why_size, "a group is too short");
        return false;
    }
    memcpy(&g->head, g->blob, sizeof g->head);
    const group_head *h = &g->head;
    if (h->n_cols != n_cols || h->n_cols > len / sizeof(col_head) ||
        !within(sizeof(group_head), h->n_cols * sizeof(col_head), len)) {
        say(why, why_size, "a group has %llu columns, not %zu", (unsigned long long)h->n_cols, n_cols);
        return false;
    }
    uint64_t rows = h->rows;
    if (rows > COLC_GROUP_ROWS_MAX) {
        say(why, why_size, "a group's row count is out of bounds");
        return false;
    }
    g->cols = (const col_head *)(g->blob + sizeof(group_head));
    for (size_t c = 0; c < n_cols; c++)
        if (!check_column(g, len, rows, c, types[c], decode == NULL || decode[c], why, why_size))
            return false;
    if (!within(h->bad_off, h->bad_len, len) || h->bad_off % 8 != 0) {
        say(why, why_size, "a group's bad rows lie outside it");
        return false;
    }
    uint64_t at = 0, seen = 0, before = 0;
    while (at < h->bad_len) {
        bad_head b;
        if (!within(at, sizeof b, h->bad_len)) break;
        memcpy(&b, g->blob + h->bad_off + at, sizeof b);
        uint64_t body = align8((uint64_t)b.msg_len + b.raw_len);
        bool kind_ok = b.kind == CSVR_ERR_CELL || b.kind == CSVR_ERR_RAGGED || b.kind == CSVR_ERR_QUOTE;
        if (!kind_ok || b.before < before || b.before > rows || b.msg_len >= CSVR_MESSAGE_MAX ||
            b.column < -1 || b.column >= (int64_t)n_cols || !within(at + sizeof b, body, h->bad_len))
            break;
        before = b.before;
        at += sizeof b + body;
        seen++;
    }
    if (at != h->bad_len || seen != h->bad_count) {
        say(why, why_size, "a group's bad rows are malformed");
        return false;
    }
    return true;
}

/* colc_open_bytes; MAPPED: DATA is a mapping, read only through copy_out.  Checks
 * the header and the directory; each group is checked when it is replayed, on a copy
 * that cannot change under the check (colc_replay). */
static colc_table *open_table(const void *data, size_t size, const colc_key *key, const csvr_type *types,
                              size_t n_cols, bool check_sums, bool mapped, char *why, size_t why_size)
{
    const unsigned char *base = data;
    colc_table *t = calloc(1, sizeof *t);
    if (t == NULL) {
        say(why, why_size, "out of memory");
        return NULL;
    }
    t->base = base;
    t->size = size;
    t->mapped = mapped;
    t->check_sums = check_sums;
    t->n_cols = n_cols;
    file_header h;
    dir_entry *dir = NULL;
    uint16_t probe = 1;
    const char *magic = *(unsigned char *)&probe ? MAGIC_LE : MAGIC_BE;
    if (size < sizeof h) {
        say(why, why_size, "not a kpic column cache");
        goto refused;
    }
    if (!copy_out(t, &h, base, sizeof h)) {
        say(why, why_size, "it was truncated while it was being read");
        goto refused;
    }
    if (memcmp(h.magic, magic, 6) != 0) {
        say(why, why_size, "not a kpic column cache");
        goto refused;
    }
    if (memcmp(h.magic, magic, 8) != 0 || h.version != FORMAT_VERSION) {
        say(why, why_size, "written by another version of kpic");
        goto refused;
    }
    if (h.file_size != size) {
        say(why, why_size, "truncated or extended (%zu bytes, %llu recorded)", size,
            (unsigned long long)h.file_size);
        goto refused;
    }
    if (h.group_count > size / sizeof(dir_entry) || h.dir_offset % 8 != 0 ||
        !within(h.dir_offset, h.group_count * sizeof(dir_entry), size)) {
        say(why, why_size, "its directory lies outside it");
        goto refused;
    }
    size_t dir_len = (size_t)h.group_count * sizeof(dir_entry);
    dir = malloc(dir_len ? dir_len : 1);
    if (dir == NULL) {
        say(why, why_size, "out of memory");
        goto refused;
    }
    if (!copy_out(t, dir, base + h.dir_offset, dir_len)) {
        say(why, why_size, "it was truncated while it was being read");
        goto refused;
    }
    if (check_sums) {
        file_header zeroed = h;
        zeroed.checksum = 0;
        if (checksum_more(checksum(&zeroed, sizeof zeroed), dir, dir_len) != h.checksum) {
            say(why, why_size, "its header or directory is damaged (checksum)");
            goto refused;
        }
    }
    if (key != NULL &&
        (h.dev != key->dev || h.ino != key->ino || h.size != key->size || h.mtime_sec != key->mtime_sec ||
         h.mtime_nsec != key->mtime_nsec || h.ctime_sec != key->ctime_sec ||
         h.ctime_nsec != key->ctime_nsec || memcmp(h.columns, key->columns, 32) != 0)) {
        say(why, why_size, "the data file or its columns changed since it was written");
        goto refused;
    }
    t->head = h;
    t->types = malloc((n_cols ? n_cols : 1) * sizeof *t->types);
    t->groups = calloc(h.group_count ? h.group_count : 1, sizeof *t->groups);
    if (t->types == NULL || t->groups == NULL) {
        say(why, why_size, "out of memory");
        goto refused;
    }
    if (n_cols) memcpy(t->types, types, n_cols * sizeof *types);
    uint64_t prev_end = 0;
    for (uint64_t i = 0; i < h.group_count; i++) {
        const dir_entry *e = &dir[i];
        group_view *g = &t->groups[i];
        if (e->offset < sizeof h || e->offset % 8 != 0 || !within(e->offset, e->length, size) ||
            e->length < sizeof(group_head) || e->file_begin > e->file_end || e->file_end > h.size ||
            e->file_begin < prev_end) {
            say(why, why_size, "group %llu lies outside it", (unsigned long long)i + 1);
            goto refused;
        }
        prev_end = e->file_end;
        g->blob = base + e->offset;
        g->length = e->length;
        g->checksum = e->checksum;
        g->file_begin = e->file_begin;
        g->file_end = e->file_end;
    }
    free(dir);
    return t;
refused:
    free(dir);
    free(t->types);
    free(t->groups);
    free(t);
    return NULL;
}

colc_table *colc_open_bytes(const void *data, size_t size, const colc_key *key, const csvr_type *types,
                            size_t n_cols, bool check_sums, char *why, size_t why_size)
{
    return open_table(data, size, key, types, n_cols, check_sums, false, why, why_size);
}

colc_table *colc_open(const char *path, const colc_key *key, const csvr_type *types, size_t n_cols, char *why,
                      size_t why_size)
{
    say(why, why_size, "%s", "");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT) say(why, why_size, "cannot open it: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(file_header)) {
        say(why, why_size, "not a kpic column cache");
        close(fd);
        return NULL;
    }
    size_t size = (size_t)st.st_size;
    if (!mapg_ready()) {
        say(why, why_size, "its reads cannot be guarded against a truncation (SIGBUS)");
        close(fd);
        return NULL;
    }
    void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        say(why, why_size, "cannot map it: %s", strerror(errno));
        return NULL;
    }
    colc_table *t = open_table(m, size, key, types, n_cols, true, true, why, why_size);
    if (t == NULL) munmap(m, size);
    return t;
}

const unsigned char *colc_sha256(const colc_table *t)
{
    return t->head.sha256;
}

size_t colc_group_count(const colc_table *t)
{
    return (size_t)t->head.group_count;
}

void colc_group_range(const colc_table *t, size_t i, uint64_t *file_begin, uint64_t *file_end)
{
    *file_begin = t->groups[i].file_begin;
    *file_end = t->groups[i].file_end;
}

/* Drops the pages of a replayed group's blob from the process (not from the page
 * cache), so that a replay's resident memory is about one group per thread. */
static void drop_pages(const colc_table *t, const group_view *g)
{
    if (!t->mapped) return;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = ((uintptr_t)g->blob + page - 1) & ~(uintptr_t)(page - 1);
    uintptr_t hi = ((uintptr_t)g->blob + (size_t)g->length) & ~(uintptr_t)(page - 1);
    if (hi > lo) madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

/* Replays the bad rows of G from byte *AT while their place is BEFORE. */
static bool replay_bad(const checked_group *g, uint64_t *at, uint64_t before, const char *path,
                       const colc_sink *sink)
{
    const group_head *h = &g->head;
    while (*at < h->bad_len) {
        bad_head b;
        memcpy(&b, g->blob + h->bad_off + *at, sizeof b);
        if (b.before != before) return true;
        csvr_error e;
        memset(&e, 0, sizeof e);
        e.kind = (csvr_error_kind)b.kind;
        snprintf(e.path, sizeof e.path, "%s", path);
        e.line = b.line;
        e.field = b.field;
        e.column = (int)b.column;
        const char *body = (const char *)g->blob + h->bad_off + *at + sizeof b;
        memcpy(e.message, body, b.msg_len);
        e.message[b.msg_len] = '\0';
        *at += sizeof b + align8((uint64_t)b.msg_len + b.raw_len);
        if (!sink->bad(sink->ctx, &e, body + b.msg_len, b.raw_len)) return false;
    }
    return true;
}

/* Rows decoded at a time, column by column, before they are handed out row by row:
 * each column's loop then runs over one encoding and width. */
#define REPLAY_BATCH 256u

/* Decodes rows R0 + SEL[k], k < N, of column C of G into CELLS (row i's cell c at
 * cells[i * n_cols + c], i relative to R0); ENC_DIGITS text goes to TEXT (a slot of
 * SLOT bytes per row of the batch).  SEQ[0] is the next ENC_DICT_SEQ entry and SEQ[1]
 * the row it belongs to, or the first row after it: the rows a selection leaves out
 * still use up entries. */
static inline __attribute__((always_inline)) void decode_cells(
    const checked_group *g, size_t c, size_t n_cols, uint64_t r0, const uint16_t *sel, size_t n,
    csvr_cell *cells, char *text, size_t slot, uint64_t seq[2], unsigned enc, csvr_type type, uint64_t width)
{
    const col_head *ch = &g->cols[c];
    const unsigned char *nulls = ch->null_off ? g->blob + ch->null_off : NULL;
    const unsigned char *v = g->blob + ch->data_off;
    for (size_t k = 0; k < n; k++) {
        size_t i = sel[k];
        uint64_t r = r0 + i;
        csvr_cell *cell = cells + i * n_cols + c;
        cell->is_null = nulls != NULL && ((nulls[r / 8] >> (r % 8)) & 1);
        if (cell->is_null) continue;
        switch (enc) {
        case ENC_FOR: {
            int64_t x = (int64_t)((uint64_t)ch->base + load_width(v + r * width, width));
            switch (type) {
            case CSVR_INT: cell->as.i = x; break;
            case CSVR_DATE: cell->as.date = (date_t)x; break;
            default: cell->as.dec.units = (dec_int128)x * POW10[18 - ch->mode]; break;
            }
            break;
        }
        case ENC_WIDE: memcpy(&cell->as.dec, v + r * sizeof(dec_t), sizeof(dec_t)); break;
        case ENC_DIGITS: {
            uint64_t x = (uint64_t)ch->base + load_width(v + r * width, width);
            char *at = text + i * slot;
            memcpy(at, g->blob + ch->heap_off, ch->heap_len);
            put_digits(at + ch->heap_len, x, ch->mode);
            cell->as.text.ptr = at;
            cell->as.text.len = ch->heap_len + ch->mode;
            cell->id_digits = (uint8_t)ch->mode;
            cell->id = x;
            break;
        }
        case ENC_DICT:
        case ENC_DICT_SEQ: {
            uint64_t id;
            if (enc == ENC_DICT) {
                id = load_width(v + r * width, width);
            } else {
                for (; seq[1] < r; seq[1]++)
                    seq[0] += nulls == NULL || !((nulls[seq[1] / 8] >> (seq[1] % 8)) & 1);
                id = seq[0]++;
                seq[1] = r + 1;
            }
            uint32_t from, to;
            memcpy(&from, g->blob + ch->dict_off + id * 4, 4);
            memcpy(&to, g->blob + ch->dict_off + id * 4 + 4, 4);
            cell->as.text.ptr = (const char *)g->blob + ch->heap_off + from;
            cell->as.text.len = to - from;
            cell->id_digits = 0; /* the batch's cells may have held another group's ids */
            break;
        }
        case ENC_BITS: cell->as.b = (v[r / 8] >> (r % 8)) & 1; break;
        }
    }
}

/* Decodes rows R0 + SEL[k], k < N, of column C of G, as decode_cells does: one copy of
 * its loop for each common encoding, type and width, so that the loop over a batch's
 * cells does not branch on them (replays decode every cell of a warm run). */
static void decode_column(const checked_group *g, size_t c, size_t n_cols, uint64_t r0, const uint16_t *sel,
                          size_t n, csvr_cell *cells, char *text, size_t slot, uint64_t seq[2])
{
    const col_head *ch = &g->cols[c];
    csvr_type type = (csvr_type)ch->type;
#define DECODE(enc, type, width) \
    decode_cells(g, c, n_cols, r0, sel, n, cells, text, slot, seq, enc, type, width)
#define BY_WIDTH(enc, type)                        \
    switch (ch->width) {                           \
    case 1: DECODE(enc, type, 1); return;          \
    case 2: DECODE(enc, type, 2); return;          \
    case 4: DECODE(enc, type, 4); return;          \
    default: DECODE(enc, type, ch->width); return; \
    }
    switch (ch->enc) {
    case ENC_FOR:
        if (type == CSVR_INT) BY_WIDTH(ENC_FOR, CSVR_INT)
        else if (type == CSVR_DATE) BY_WIDTH(ENC_FOR, CSVR_DATE)
        else BY_WIDTH(ENC_FOR, type)
    case ENC_DIGITS: BY_WIDTH(ENC_DIGITS, type)
    case ENC_DICT: BY_WIDTH(ENC_DICT, type)
    default: DECODE(ch->enc, type, ch->width); return;
    }
#undef BY_WIDTH
#undef DECODE
}

/* Decodes rows [R0, R0 + N) of date column C of G into DAYS and IS_NULL: the dates
 * gate's column, read for every row, so one loop per width. */
static void decode_dates(const checked_group *g, size_t c, uint64_t r0, size_t n, date_t *days,
                         unsigned char *is_null)
{
    const col_head *ch = &g->cols[c];
    const unsigned char *v = g->blob + ch->data_off + r0 * ch->width;
    int64_t base = ch->base;
    switch (ch->width) {
    case 0:
        for (size_t i = 0; i < n; i++) days[i] = (date_t)base;
        break;
    case 1:
        for (size_t i = 0; i < n; i++) days[i] = (date_t)(base + v[i]);
        break;
    case 2:
        for (size_t i = 0; i < n; i++) {
            uint16_t x;
            memcpy(&x, v + 2 * i, 2);
            days[i] = (date_t)(base + x);
        }
        break;
    default:
        for (size_t i = 0; i < n; i++)
            days[i] = (date_t)(base + (int64_t)load_width(v + i * ch->width, ch->width));
        break;
    }
    const unsigned char *nulls = ch->null_off ? g->blob + ch->null_off : NULL;
    if (nulls == NULL) {
        memset(is_null, 0, n);
        return;
    }
    for (size_t i = 0; i < n; i++) is_null[i] = (nulls[(r0 + i) / 8] >> ((r0 + i) % 8)) & 1;
}

/* Whether group G has a bad row among rows [R0, R0 + N), the next one being at byte AT
 * of its bad rows. */
static bool bad_row_within(const checked_group *g, uint64_t at, uint64_t r0, size_t n)
{
    if (at >= g->head.bad_len) return false;
    bad_head b;
    memcpy(&b, g->blob + g->head.bad_off + at, sizeof b);
    return b.before < r0 + n;
}

/* Replays the rows of checked group G through SINK; false when a callback stopped, or
 * out of memory (*NOMEM). */
static bool replay_rows(const checked_group *g, size_t n_cols, const char *path, const colc_sink *sink,
                        const bool *decode, bool *nomem)
{
    const group_head *h = &g->head;
    size_t slot = DIGITS_PREFIX_MAX + DIGITS_MAX, digit_cols = 0;
    for (size_t c = 0; c < n_cols; c++) digit_cols += g->cols[c].enc == ENC_DIGITS;
    csvr_cell *cells = calloc(REPLAY_BATCH * (n_cols ? n_cols : 1), sizeof *cells);
    char *text = malloc(REPLAY_BATCH * slot * (digit_cols ? digit_cols : 1));
    uint64_t(*seq)[2] = calloc(n_cols ? n_cols : 1, sizeof *seq);
    bool ok = cells != NULL && text != NULL && seq != NULL;
    *nomem = !ok;
    /* a column not decoded stays null in every row of the batch */
    for (size_t c = 0; ok && c < n_cols; c++)
        if (decode != NULL && !decode[c])
            for (size_t i = 0; i < REPLAY_BATCH; i++) cells[i * n_cols + c].is_null = true;
    uint16_t every[REPLAY_BATCH], sel[REPLAY_BATCH];
    unsigned char wanted[REPLAY_BATCH], day_null[REPLAY_BATCH];
    date_t days[REPLAY_BATCH];
    for (size_t i = 0; i < REPLAY_BATCH; i++) every[i] = (uint16_t)i;
    size_t dates = sink->dates != NULL && sink->dates_column < n_cols ? sink->dates_column : SIZE_MAX;
    uint64_t bad_at = 0;
    for (uint64_t r0 = 0; ok && r0 < h->rows; r0 += REPLAY_BATCH) {
        size_t n = h->rows - r0 < REPLAY_BATCH ? (size_t)(h->rows - r0) : REPLAY_BATCH;
        /* a batch with a bad row is handed out whole, its rows and bad rows interleaved
         * as in the file */
        bool gated = dates != SIZE_MAX && !bad_row_within(g, bad_at, r0, n);
        const uint16_t *rows = every;
        size_t count = n;
        if (gated) {
            decode_dates(g, dates, r0, n, days, day_null);
            memset(wanted, 0, n);
            ok = sink->dates(sink->ctx, days, day_null, n, wanted);
            /* without a branch: within a period's rows, whether a row is wanted is a
             * coin toss that a branch mispredicts half the time */
            count = 0;
            for (size_t i = 0; i < n; i++) {
                sel[count] = (uint16_t)i;
                count += wanted[i] != 0;
            }
            rows = sel;
        }
        for (size_t c = 0, d = 0; ok && c < n_cols; c++) {
            char *own = text;
            if (g->cols[c].enc == ENC_DIGITS) own = text + REPLAY_BATCH * slot * d++;
            if (decode != NULL && !decode[c]) continue;
            decode_column(g, c, n_cols, r0, rows, count, cells, own, slot, seq[c]);
        }
        uint64_t next = 0; /* the batch's first row not handed out nor skipped */
        for (size_t k = 0; ok && k < count; k++) {
            size_t i = rows[k];
            if (gated && i > next) sink->skipped(sink->ctx, i - next);
            next = i + 1;
            ok = (bad_at >= h->bad_len || replay_bad(g, &bad_at, r0 + i, path, sink)) &&
                 sink->row(sink->ctx, cells + i * n_cols, gated);
        }
        if (ok && gated && n > next) sink->skipped(sink->ctx, n - next);
    }
    if (ok) ok = replay_bad(g, &bad_at, h->rows, path, sink);
    free(cells);
    free(text);
    free(seq);
    return ok;
}

colc_status colc_replay(const colc_table *t, size_t i, const char *path, const colc_sink *sink,
                        const bool *decode, char *why, size_t why_size)
{
    const group_view *g = &t->groups[i];
    /* the dates column is decoded (and so checked) whatever DECODE says */
    bool *mask = NULL;
    if (decode != NULL && sink->dates != NULL && sink->dates_column < t->n_cols &&
        !decode[sink->dates_column]) {
        mask = malloc(t->n_cols * sizeof *mask);
        if (mask == NULL) {
            say(why, why_size, "out of memory");
            return COLC_BAD;
        }
        memcpy(mask, decode, t->n_cols * sizeof *mask);
        mask[sink->dates_column] = true;
        decode = mask;
    }
    /* the callbacks get pointers into this copy, which nothing else can change: a
     * cache file rewritten or truncated in place under the run is found here, by the
     * guard or the checks, never by a callback reading a page that moved */
    unsigned char *copy = malloc(g->length ? (size_t)g->length : 1);
    if (copy == NULL) {
        free(mask);
        say(why, why_size, "out of memory");
        return COLC_BAD;
    }
    colc_status st = COLC_BAD;
    if (!copy_out(t, copy, g->blob, (size_t)g->length)) {
        say(why, why_size, "it was truncated while it was being read");
    } else if (t->check_sums && checksum(copy, (size_t)g->length) != g->checksum) {
        say(why, why_size, "group %zu is damaged (checksum)", i + 1);
    } else {
        checked_group cg = { copy, { 0 }, NULL };
        if (check_group(&cg, g->length, t->types, decode, t->n_cols, why, why_size)) {
            bool nomem = false;
            st = replay_rows(&cg, t->n_cols, path, sink, decode, &nomem) ? COLC_DONE : COLC_STOPPED;
            if (nomem) {
                say(why, why_size, "out of memory");
                st = COLC_BAD;
            }
        }
    }
    drop_pages(t, g);
    free(copy);
    free(mask);
    return st;
}

/* ---- the cache directory ------------------------------------------------------------- */

#include <dirent.h>

/* Whether NAME is a file of the cache: a cache (*.kcol) or a temporary one left by a
 * run that was killed (*.kcol.tmp.XXXXXX). */
static bool cache_file_name(const char *name, bool *temporary)
{
    const char *dot = strstr(name, ".kcol");
    if (dot == NULL || dot == name) return false;
    *temporary = strncmp(dot, ".kcol.tmp.", 10) == 0;
    return dot[5] == '\0' || *temporary;
}

typedef struct entry {
    char name[256];
    uint64_t bytes;
    int64_t used; /* mtime: written, or last replayed */
    bool temporary;
} entry;

/* The cache files of DIR, in *OUT (malloc'd); -1 when DIR cannot be read. */
static long list_dir(const char *dir, entry **out)
{
    *out = NULL;
    DIR *d = opendir(dir);
    if (d == NULL) return errno == ENOENT ? 0 : -1;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        bool temporary;
        if (strlen(de->d_name) >= sizeof((entry *)0)->name || !cache_file_name(de->d_name, &temporary))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
        if (!grow(out, &cap, n + 1, sizeof **out)) break;
        entry *e = &(*out)[n++];
        snprintf(e->name, sizeof e->name, "%s", de->d_name);
        e->bytes = (uint64_t)st.st_size;
        e->used = st.st_mtim.tv_sec;
        e->temporary = temporary;
    }
    closedir(d);
    return (long)n;
}

bool colc_dir_info(const char *dir, colc_dir_stats *stats)
{
    memset(stats, 0, sizeof *stats);
    entry *e;
    long n = list_dir(dir, &e);
    if (n < 0) return false;
    for (long i = 0; i < n; i++) {
        if (e[i].temporary) {
            stats->temporary_files++;
            stats->temporary_bytes += e[i].bytes;
            continue;
        }
        stats->files++;
        stats->bytes += e[i].bytes;
        if (stats->files == 1 || e[i].used < stats->oldest) stats->oldest = e[i].used;
        if (e[i].used > stats->newest) stats->newest = e[i].used;
    }
    free(e);
    return true;
}

static int by_use(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    return (x->used > y->used) - (x->used < y->used);
}

/* Removes files of E[0..N) from DIR while *BYTES exceeds KEEP, least recently used
 * first (temporary files of killed runs only when an hour old: a running writer's
 * are younger); counts what went. */
static void remove_until(const char *dir, entry *e, long n, uint64_t *bytes, uint64_t keep,
                         colc_dir_stats *removed)
{
    qsort(e, (size_t)n, sizeof *e, by_use);
    time_t now = time(NULL);
    for (long i = 0; i<n && * bytes> keep; i++) {
        if (e[i].temporary && now - e[i].used < 3600) continue;
        char path[4096 + 256];
        snprintf(path, sizeof path, "%s/%s", dir, e[i].name);
        if (unlink(path) != 0) continue;
        *bytes -= e[i].bytes;
        removed->files++;
        removed->bytes += e[i].bytes;
    }
}

bool colc_dir_clear(const char *dir, colc_dir_stats *removed)
{
    memset(removed, 0, sizeof *removed);
    entry *e;
    long n = list_dir(dir, &e);
    if (n < 0) return false;
    uint64_t bytes = 0;
    for (long i = 0; i < n; i++) {
        bytes += e[i].bytes;
        e[i].used = e[i].temporary ? 0 : e[i].used; /* clear takes every file */
    }
    remove_until(dir, e, n, &bytes, 0, removed);
    free(e);
    return true;
}

void colc_dir_evict(const char *dir, uint64_t max_bytes)
{
    entry *e;
    long n = list_dir(dir, &e);
    uint64_t bytes = 0;
    for (long i = 0; i < n; i++) bytes += e[i].bytes;
    colc_dir_stats removed;
    memset(&removed, 0, sizeof removed);
    if (bytes > max_bytes) remove_until(dir, e, n, &bytes, max_bytes, &removed);
    free(e);
}
