/* csv_reader.c — typed CSV reading on libcsv (see csv_reader.h for the contract).
 *
 * The hot path is libcsv's csv_parse over blocks read from the file, with two
 * small callbacks: on_field keeps the bytes of a wanted field (a table lookup
 * by field number, no branch on the column), and on_record checks the record's
 * shape, converts its wanted cells by type and delivers the row.  Nothing is
 * allocated per field or per row: the kept bytes go into one buffer that is
 * reused for every row, and text cells point into it.
 *
 * A regular file is mapped and parsed where it lies, without the kernel's copy
 * that pread(2) makes (20% of a pass's CPU on the benchmark machine).  A mapping
 * has one hazard: a file truncated while it is read makes the next access past
 * its new end raise SIGBUS.  Every access to the mapping therefore runs inside a
 * guard (mapguard.h): a thread-local jump target that the SIGBUS handler
 * returns to when the faulting address lies in the guarded mapping, so that the
 * fault becomes a "file changed while it was being read" error on the pass that
 * met it.  Guarded code holds no lock and allocates nothing while it touches the
 * mapping (the chunk hash, which runs under the hash lock, releases it on a
 * fault), and callers never see a pointer into the mapping: a bad record's bytes
 * are copied before they are handed out.  A truncation may also leave the last
 * page readable with zeros past the new end, which no signal reports, so every
 * pass ends by comparing the file's size, mtime and ctime with those it had when
 * it was opened.  Where mmap is impossible (a pipe, /dev/stdin, a device, or
 * mmap failing) the file is read with pread(2) or read(2) into a buffer.
 *
 * libcsv does not say where in the input a record starts, and tracking it in
 * the callbacks would cost on every field.  Instead this file carries a second,
 * tiny model of libcsv's state machine (the "mirror", below) that finds record
 * boundaries in the raw bytes.  It is used
 *   - lazily, to turn "the Nth record of this pass" into a line number and the
 *     record's original bytes, only when a bad row (or the caller) asks;
 *   - to plan chunks, jumping from quote to quote so that it is much faster than
 *     parsing (see mirror_skim);
 *   - to find the header record.
 * The mirror must agree with libcsv on every input; the fuzzer checks that.
 *
 * A pass keeps a window of the file in memory that starts at a known record
 * boundary, with that boundary's line number.  Each block read is parsed up to
 * its last line break; if libcsv is then between records, that line break is a
 * new boundary and the window slides past it.  So the window is about one block,
 * plus the rest of a record that spans blocks, and a bad row's line number and
 * bytes are always found inside it.
 */
#define _GNU_SOURCE /* pread, posix_fadvise, O_CLOEXEC, MADV_POPULATE_READ */
#include "kpic/csv_reader.h"
#include "kpic/cellfmt.h"
#include "kpic/colcache.h"
#include "kpic/mapguard.h"
#include "kpic/transcode.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utf8proc.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Of a mapped file, the pages a sequential pass has left behind are dropped from
 * the process (not from the page cache) every this many bytes, so that the pass's
 * resident memory stays about the same as with a read buffer. */
#define MAP_DROP_BEHIND (8u << 20)

/* Bytes read and handed to csv_parse at a time: small enough to stay in L2
 * while it is hashed and parsed, large enough that the loop around csv_parse
 * costs nothing. */
#define PASS_BLOCK (256u * 1024u)

/* Bytes read at a time by the chunk planner and the hashing thread. */
#define SCAN_BLOCK (256u * 1024u)

/* Growth step of libcsv's field buffer; its default of 128 bytes would take
 * thousands of reallocs for one long field. */
#define LIBCSV_BLOCK (64u * 1024u)

/* Values of libcsv's `pstate` field (libcsv.c: ROW_NOT_BEGUN, FIELD_BEGUN); the
 * struct is public in csv.h, the state numbers have not changed since 2006. */
enum { LIBCSV_ROW_NOT_BEGUN = 0, LIBCSV_FIELD_BEGUN = 2 };

/* Fields up to this long are copied by on_field as a fixed-size block. */
#define SHORT_FIELD 32u

/* Longest piece of a bad cell quoted in a message, in bytes of the cell. */
#define QUOTE_MAX 60

/* ---- reader -------------------------------------------------------------- */

struct csvr_reader {
    char path[CSVR_PATH_MAX];
    int fd;                   /* the open file, or -1 when reading from memory */
    const unsigned char *mem; /* the data, when reading from memory */
    bool mem_owned;           /* mem was converted here from another encoding: free it */
    /* bytes in the file, as of csvr_open; for a stream, SIZE_MAX until its end has been
     * read */
    size_t size;
    /* a regular file mapped whole (size bytes), or NULL: read only inside a map_guard */
    const unsigned char *map;
    /* a regular file's status at csvr_open, to tell whether it changed while it was read */
    struct stat opened;

    /* A stream (fd is a pipe, /dev/stdin, a device): read once, in order, with
     * read(2).  Its first bytes, read to find the header, are kept in `ahead` (the
     * file's [0, ahead_len)) until the pass has taken them. */
    bool streamed;
    bool stream_eof;   /* read(2) has returned 0; size is then exact */
    size_t stream_pos; /* bytes read from fd so far */
    unsigned char *ahead;
    size_t ahead_len, ahead_cap;
    unsigned flags;

    csvr_column *wanted; /* copies, names included */
    /* per wanted column: its declared format, or kind CFMT_NONE for the default syntax */
    cfmt *formats;
    const cfmt **format_of; /* per wanted column: &formats[w], or NULL */
    size_t n_wanted;
    size_t n_header;
    char **header; /* n_header names, pointing into header_text */
    char *header_text;
    int32_t *want_of_field; /* for each header field: index into wanted, or -1 */
    size_t *field_of_want;  /* for each wanted column: its field (0-based) */

    size_t data_begin;        /* first byte after the header record */
    uint64_t data_first_line; /* the line data_begin lies on */
    uint64_t header_line;

    bool pass_started; /* one pass per reader: csvr_read or chunks */

    /* SHA-256 over [0, hashed_upto), in file order; complete once hash_done. */
    EVP_MD_CTX *sha;
    size_t hashed_upto;
    bool hash_done;
    unsigned char digest[32];

    /* Chunks are hashed in file order by the threads that parse them, each waiting
     * for its turn: hashed_upto reaching the chunk's start. hash_broken (a chunk
     * discarded unparsed) releases every waiter; the digest then stays incomplete. */
    pthread_mutex_t hash_lock;
    pthread_cond_t hash_turn;
    bool hash_sync; /* hash_lock and hash_turn are initialised */
    bool hash_broken;

    /* Chunk planning: the next chunk starts at plan_pos, on line plan_line. */
    bool plan_started;
    size_t plan_pos;
    uint64_t plan_line;
    uint64_t plan_index;

    _Atomic uint64_t bytes_done; /* progress: bytes parsed by all passes */

    /* The column cache (colcache.h), when csvr_use_cache asked for it: looked up when
     * the pass starts; then either replayed (cache) or written as the pass goes
     * (cache_out, one group per chunk or per CACHE_GROUP_ROWS rows). */
    char *cache_dir;
    unsigned cache_flags;
    bool cache_looked;
    colc_table *cache;
    colc_writer *cache_out;
    char cache_path[CSVR_PATH_MAX];
    colc_key cache_key;
    pthread_mutex_t cache_lock;    /* the commit, once every group is in */
    atomic_bool cache_failed;      /* a pass or a group went wrong: nothing is written */
    _Atomic uint64_t cache_groups; /* chunk passes finished */
    uint64_t cache_planned;        /* chunks planned, under cache_lock */
    bool cache_planned_all;        /* the last chunk is planned, under cache_lock */
    uint64_t cache_seq_index;      /* next group index of a sequential pass */
    bool cache_done;               /* committed or given up */
    bool cache_lost;               /* a replayed group failed its checks, under cache_lock */
    bool *cache_decode;            /* csvr_set_used_columns: the columns a replay decodes */
    char cache_note[CSVR_MESSAGE_MAX];
};

/* Rows per group written to the cache: small enough that a group's text dictionaries
 * (their hash slots) stay in the L2 cache while it is built, which measured several
 * times faster than groups of 64Ki rows; large enough that the dictionaries pay. */
#define CACHE_GROUP_ROWS 16384u

/* A chunk's groups are numbered chunk index << this + their number in the chunk. */
#define CACHE_GROUPS_PER_CHUNK_BITS 24

const char *csvr_type_name(csvr_type type)
{
    switch (type) {
    case CSVR_TEXT: return "text";
    case CSVR_INT: return "int";
    case CSVR_NUMBER: return "number";
    case CSVR_MONEY: return "money";
    case CSVR_DATE: return "date";
    case CSVR_BOOL: return "bool";
    }
    return "?";
}

/* ---- errors -------------------------------------------------------------- */

static void copy_truncated(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void set_error(csvr_error *e, csvr_error_kind kind, const char *path, uint64_t line, uint64_t field,
                      int column, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static void set_error(csvr_error *e, csvr_error_kind kind, const char *path, uint64_t line, uint64_t field,
                      int column, const char *fmt, ...)
{
    if (e == NULL) return;
    e->kind = kind;
    copy_truncated(e->path, sizeof e->path, path);
    e->line = line;
    e->field = field;
    e->column = column;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

size_t csvr_error_format(const csvr_error *e, char *buf, size_t size)
{
    int n;
    if (e->line > 0 && e->field > 0)
        n = snprintf(buf, size, "%s:%llu:%llu: error: %s", e->path, (unsigned long long)e->line,
                     (unsigned long long)e->field, e->message);
    else if (e->line > 0)
        n = snprintf(buf, size, "%s:%llu: error: %s", e->path, (unsigned long long)e->line, e->message);
    else n = snprintf(buf, size, "%s: error: %s", e->path, e->message);
    return n < 0 ? 0 : (size_t)n;
}

/* Length of the valid UTF-8 sequence at S (at most LEN bytes), or 0 if invalid. */
static size_t utf8_sequence(const unsigned char *s, size_t len)
{
    utf8proc_int32_t cp;
    utf8proc_ssize_t n = utf8proc_iterate(s, (utf8proc_ssize_t)(len < 4 ? len : 4), &cp);
    return n > 0 ? (size_t)n : 0;
}

/* Writes S[0..LEN) into DST (capacity CAP, NUL-terminated) so that it can sit
 * between double quotes in a one-line message: quotes, backslashes and control
 * characters are escaped, invalid UTF-8 bytes shown as \xNN, and anything past
 * QUOTE_MAX bytes replaced by "...".  Valid UTF-8 (Chinese) is kept readable. */
static void quote_for_message(char *dst, size_t cap, const unsigned char *s, size_t len)
{
    size_t n = 0, i = 0;
    size_t show = len < QUOTE_MAX ? len : QUOTE_MAX;
    while (i < show && n + 8 < cap) {
        unsigned char c = s[i];
        if (c >= 0x80) {
            size_t seq = utf8_sequence(s + i, len - i);
            if (seq > 0 && i + seq <= show) {
                memcpy(dst + n, s + i, seq);
                n += seq;
                i += seq;
                continue;
            }
            n += (size_t)snprintf(dst + n, cap - n, "\\x%02X", c);
        } else if (c == '"' || c == '\\') {
            dst[n++] = '\\';
            dst[n++] = (char)c;
        } else if (c == '\n') {
            dst[n++] = '\\';
            dst[n++] = 'n';
        } else if (c == '\r') {
            dst[n++] = '\\';
            dst[n++] = 'r';
        } else if (c == '\t') {
            dst[n++] = '\\';
            dst[n++] = 't';
        } else if (c < 0x20 || c == 0x7F) {
            n += (size_t)snprintf(dst + n, cap - n, "\\x%02X", c);
        } else {
            dst[n++] = (char)c;
        }
        i++;
    }
    if (i < len && n + 4 < cap) {
        memcpy(dst + n, "...", 3);
        n += 3;
    }
    dst[n] = '\0';
}

/* ---- byte scanning: lines ------------------------------------------------ */

/* Number of bytes equal to C in S[0..N). */
static uint64_t count_byte(const unsigned char *s, size_t n, unsigned char c)
{
    uint64_t count = 0;
    size_t i = 0;
#ifdef __SSE2__
    /* Compare 16 bytes at a time; each match subtracts -1 from a byte lane.
     * Lanes are summed with SAD before they can reach 255. */
    const __m128i needle = _mm_set1_epi8((char)c);
    const __m128i zero = _mm_setzero_si128();
    while (n - i >= 16) {
        __m128i lanes = zero;
        size_t rounds = (n - i) / 16;
        if (rounds > 255) rounds = 255;
        for (size_t r = 0; r < rounds; r++, i += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
            lanes = _mm_sub_epi8(lanes, _mm_cmpeq_epi8(v, needle));
        }
        __m128i sums = _mm_sad_epu8(lanes, zero);
        count += (uint64_t)_mm_cvtsi128_si32(sums) + (uint64_t)_mm_extract_epi16(sums, 4);
    }
#endif
    for (; i < n; i++) count += s[i] == c;
    return count;
}

/* Number of line breaks in S[0..N): every CR, and every LF not preceded by a
 * CR (PREV_CR says whether the byte before S is one).  So CRLF, a lone LF and a
 * lone CR are each one break, and a line number is 1 + the breaks before it. */
static uint64_t count_lines(const unsigned char *s, size_t n, bool prev_cr)
{
    if (n == 0) return 0;
    uint64_t lines = count_byte(s, n, '\n');
    if (prev_cr && s[0] == '\n') lines--;
    const unsigned char *cr = memchr(s, '\r', n);
    while (cr != NULL) {
        size_t at = (size_t)(cr - s);
        lines++;
        if (at + 1 < n && s[at + 1] == '\n') lines--;
        cr = at + 1 < n ? memchr(s + at + 1, '\r', n - at - 1) : NULL;
    }
    return lines;
}

/* ---- the mirror of libcsv's state machine -----------------------------------
 *
 * libcsv (csv_parse, default options) is a machine with the states below; a
 * field in state QUOTED is inside quotes.  Byte classes: ',' delimiter, '"'
 * quote, CR and LF terminators, space and tab ("blank"), everything else.  The
 * transitions, read off libcsv.c:
 *
 *   ROW          blank/term: ROW (blank lines make no record)  ',': FIELD_START
 *                '"': QUOTED  other: UNQUOTED
 *   FIELD_START  blank: FIELD_START  term: ROW, record ends  ',': FIELD_START
 *                '"': QUOTED  other: UNQUOTED
 *   UNQUOTED     ',': FIELD_START  term: ROW, record ends  anything else: UNQUOTED
 *   QUOTED       '"': QUOTE_SEEN  anything else: QUOTED
 *   QUOTE_SEEN   ',': FIELD_START  term: ROW, record ends  blank: QUOTE_BLANKS
 *                '"': QUOTED (a doubled quote)  other: QUOTED (the quote was literal)
 *   QUOTE_BLANKS ',': FIELD_START  term: ROW, record ends  blank: QUOTE_BLANKS
 *                '"': BAD  other: BAD
 *   BAD          term: ROW, record ends  anything else: BAD
 *
 * BAD is where libcsv's CSV_STRICT stops (csv_parse returns short with
 * CSV_EPARSE): a closing quote followed by text ("o0"x), or by blanks and a
 * quote.  Leniently libcsv would reopen the field and let the quote run on,
 * often to the end of the file; instead the record is bad from there to the end
 * of its line, and parsing resumes on the next line (feed_libcsv).  The other
 * strict stop, a quote inside an unquoted field (5" screen), is not an error
 * here: feed_libcsv passes that one byte through leniently.
 *
 * At the end of input, csv_fini ends a record unless the state is ROW.
 */
typedef enum mstate {
    M_ROW,
    M_FIELD_START,
    M_UNQUOTED,
    M_QUOTED,
    M_QUOTE_SEEN,
    M_QUOTE_BLANKS,
    M_BAD,
} mstate;

static bool is_term(unsigned char c)
{
    return c == '\n' || c == '\r';
}

static bool is_blank(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* One transition; sets *RECORD_END when C ends a record. */
static mstate mirror_step(mstate s, unsigned char c, bool *record_end)
{
    *record_end = false;
    switch (s) {
    case M_ROW:
    case M_FIELD_START:
        if (is_blank(c)) return s;
        if (is_term(c)) {
            *record_end = s == M_FIELD_START;
            return M_ROW;
        }
        if (c == ',') return M_FIELD_START;
        return c == '"' ? M_QUOTED : M_UNQUOTED;
    case M_UNQUOTED:
        if (c == ',') return M_FIELD_START;
        if (is_term(c)) {
            *record_end = true;
            return M_ROW;
        }
        return M_UNQUOTED;
    case M_QUOTED: return c == '"' ? M_QUOTE_SEEN : M_QUOTED;
    case M_QUOTE_SEEN:
    case M_QUOTE_BLANKS:
        if (c == ',') return M_FIELD_START;
        if (is_term(c)) {
            *record_end = true;
            return M_ROW;
        }
        if (is_blank(c)) return M_QUOTE_BLANKS;
        if (c == '"' && s == M_QUOTE_SEEN) return M_QUOTED;
        return M_BAD;
    case M_BAD:
        if (is_term(c)) {
            *record_end = true;
            return M_ROW;
        }
        return M_BAD;
    }
    return s;
}

/* The state after the bytes B[from..to), which hold no quote, entered in state
 * S (ROW, FIELD_START or UNQUOTED).  Only the last non-blank byte matters:
 * ',' leaves FIELD_START, a terminator ROW, anything else UNQUOTED; blanks
 * change none of the three states. */
static mstate state_after_run(const unsigned char *b, size_t from, size_t to, mstate s)
{
    for (size_t i = to; i > from; i--) {
        unsigned char c = b[i - 1];
        if (is_blank(c)) continue;
        if (c == ',') return M_FIELD_START;
        return is_term(c) ? M_ROW : M_UNQUOTED;
    }
    return s;
}

/* Index of the next quote in B[pos..end), or END.  Quotes are usually a few
 * dozen bytes apart (a quoted field in every row), where the call into memchr
 * costs more than the search, so this compares 16 bytes at a time inline. */
static inline size_t next_quote(const unsigned char *b, size_t pos, size_t end)
{
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"');
    for (; end - pos >= 16; pos += 16) { /* pos <= end always */
        __m128i v = _mm_loadu_si128((const __m128i *)(b + pos));
        unsigned hits = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote));
        if (hits != 0) return pos + (size_t)__builtin_ctz(hits);
    }
#endif
    while (pos < end && b[pos] != '"') pos++;
    return pos;
}

/* Runs the mirror from state S over B[from..to) and returns the state after
 * it.  Exact, but it only looks at quotes and at the few bytes around them:
 * outside quotes it jumps to the next quote and works out the state there from
 * the last non-blank byte before it; inside quotes it jumps to the closing
 * quote.  That makes it several times faster than stepping byte by byte. */
static mstate mirror_skim(const unsigned char *b, size_t from, size_t to, mstate s)
{
    size_t pos = from;
    while (pos < to) {
        if (s == M_QUOTED) {
            pos = next_quote(b, pos, to);
            if (pos >= to) return M_QUOTED;
            s = M_QUOTE_SEEN;
            pos++;
        } else if (s == M_QUOTE_SEEN || s == M_QUOTE_BLANKS) {
            bool record_end;
            s = mirror_step(s, b[pos], &record_end);
            pos++;
        } else if (s == M_BAD) {
            while (pos < to && !is_term(b[pos])) pos++;
            if (pos < to) {
                s = M_ROW;
                pos++;
            }
        } else {
            size_t q = next_quote(b, pos, to);
            s = state_after_run(b, pos, q, s);
            if (q >= to) return s;
            /* A quote opens a quoted field only where a field starts. */
            s = s == M_UNQUOTED ? M_UNQUOTED : M_QUOTED;
            pos = q + 1;
        }
    }
    return s;
}

/* Steps the mirror from state *S over B[from..to) until it consumes a line
 * break outside quotes, and returns the index just after it (after the LF of a
 * CRLF), with *FOUND set.  Otherwise returns TO with *FOUND clear.  A CR that
 * is the last byte before TO is not taken: the LF that may follow is not
 * visible yet, and a boundary must never split a CRLF. */
static size_t mirror_boundary(const unsigned char *b, size_t from, size_t to, mstate *s, bool *found)
{
    size_t pos = from;
    mstate st = *s;
    *found = false;
    while (pos < to) {
        if (st == M_QUOTED) {
            pos = next_quote(b, pos, to);
            if (pos >= to) break;
        }
        unsigned char c = b[pos];
        bool outside = st != M_QUOTED, record_end;
        st = mirror_step(st, c, &record_end);
        pos++;
        if (outside && is_term(c)) {
            if (c == '\n') {
                *found = true;
                break;
            }
            if (pos < to) { /* a CR with its next byte visible */
                if (b[pos] == '\n') pos++;
                *found = true;
                break;
            }
        }
    }
    *s = st;
    return *found ? pos : to;
}

/* Where the mirror found one record. */
typedef struct record_span {
    size_t line_start; /* start of the line holding the record's first byte */
    size_t term;       /* its terminator (or END when the input ends the record) */
    size_t next;       /* first byte after the terminator */
    bool unterminated; /* the input ended inside a quoted field */
} record_span;

/* Scans from POS (a record boundary, state ROW) for the next record in
 * B[pos..end).  Returns false if only blanks and line breaks remain. */
static bool mirror_next_record(const unsigned char *b, size_t pos, size_t end, record_span *out)
{
    size_t line_start = pos;
    /* Skip what libcsv skips before a record: blanks and line breaks. */
    while (pos < end && (is_blank(b[pos]) || is_term(b[pos]))) {
        if (is_term(b[pos])) line_start = pos + 1;
        pos++;
    }
    if (pos >= end) return false;
    out->line_start = line_start;
    mstate s = M_ROW;
    while (pos < end) {
        if (s == M_QUOTED) {
            pos = next_quote(b, pos, end); /* only a quote matters inside quotes */
            if (pos >= end) break;
        }
        bool record_end;
        s = mirror_step(s, b[pos], &record_end);
        if (record_end) {
            out->term = pos;
            out->next = pos + 1;
            out->unterminated = false;
            return true;
        }
        pos++;
    }
    out->term = end;
    out->next = end;
    out->unterminated = s == M_QUOTED;
    return true;
}

/* ---- libcsv in strict mode ------------------------------------------------ */

/* libcsv's numbers for its parser states (libcsv.c); the struct is public in
 * csv.h and the numbers have not changed since 2006. */
enum { LIBCSV_FIELD_MIGHT_HAVE_ENDED = 3 };

/* Parses B[0..LEN) with PARSER (opened with CSV_STRICT) and returns the bytes
 * consumed: LEN, or the index of the byte after a closing quote that makes the
 * record bad (*BAD_QUOTE set; the parser is left just before it), or less on
 * running out of memory (*BAD_QUOTE clear).  A quote inside an unquoted field
 * (5" screen), libcsv's other strict stop, is an ordinary character: that byte
 * goes through leniently. */
static size_t feed_libcsv(struct csv_parser *parser, const unsigned char *b, size_t len,
                          void (*on_field_cb)(void *, size_t, void *), void (*on_record_cb)(int, void *),
                          void *data, bool *bad_quote)
{
    size_t pos = 0;
    *bad_quote = false;
    while (pos < len) {
        pos += csv_parse(parser, b + pos, len - pos, on_field_cb, on_record_cb, data);
        if (pos == len || csv_error(parser) != CSV_EPARSE) break;
        parser->status = 0;
        if (parser->pstate == LIBCSV_FIELD_MIGHT_HAVE_ENDED) {
            *bad_quote = true;
            break;
        }
        csv_set_opts(parser, 0);
        pos += csv_parse(parser, b + pos, 1, on_field_cb, on_record_cb, data);
        csv_set_opts(parser, CSV_STRICT);
    }
    return pos;
}

/* Puts PARSER back at the start of a record, dropping the record it was in. */
static void reset_libcsv(struct csv_parser *parser)
{
    parser->pstate = LIBCSV_ROW_NOT_BEGUN;
    parser->quoted = 0;
    parser->spaces = 0;
    parser->entry_pos = 0;
    parser->status = 0;
}

/* ---- guarded access to a mapped file -------------------------------------- */

/* Runs FN(ARG), which may read R's mapping, under a guard (mapguard.h): true when it
 * returned, false when a read of the mapping faulted (the file was truncated), which
 * ends FN where it stood.  FN must not hold a lock or be inside an allocation or stdio
 * call when it reads the mapping; what it leaves half done is the caller's to drop.
 * Without a mapping, FN just runs. */
static bool run_guarded(const csvr_reader *r, void (*fn)(void *), void *arg)
{
    if (r->map == NULL) {
        fn(arg);
        return true;
    }
    return mapg_run(r->map, r->map + r->size, fn, arg);
}

/* The error for R changed while it was read, on LINE (0: none known). */
static void file_changed(const csvr_reader *r, uint64_t line, csvr_error *err)
{
    struct stat now;
    if (r->fd >= 0 && fstat(r->fd, &now) == 0 && (size_t)now.st_size != r->size)
        set_error(err, CSVR_ERR_CHANGED, r->path, line, 0, -1,
                  "the file changed while it was being read: it had %zu bytes when it was "
                  "opened and has %lld now; run again once it is completely written",
                  r->size, (long long)now.st_size);
    else
        set_error(err, CSVR_ERR_CHANGED, r->path, line, 0, -1,
                  "the file changed while it was being read (its modification or change "
                  "time moved); run again once it is completely written");
}

/* Whether regular file R still has the size, mtime and ctime it had when it was
 * opened.  A truncation can leave zeros readable in the mapping's last page without
 * any fault, and an edit in place changes the bytes under a pass: both show here.
 * True for what is not a regular file (a stream, memory). */
static bool file_unchanged(const csvr_reader *r)
{
    if (r->fd < 0 || r->streamed) return true;
    struct stat now;
    if (fstat(r->fd, &now) != 0) return false;
    return now.st_size == r->opened.st_size && now.st_mtim.tv_sec == r->opened.st_mtim.tv_sec &&
           now.st_mtim.tv_nsec == r->opened.st_mtim.tv_nsec &&
           now.st_ctim.tv_sec == r->opened.st_ctim.tv_sec && now.st_ctim.tv_nsec == r->opened.st_ctim.tv_nsec;
}

/* The page-aligned part of R's mapping within [FROM, TO), for madvise; false when
 * it holds no whole page. */
static bool map_pages(const csvr_reader *r, size_t from, size_t to, void **addr, size_t *len)
{
    static size_t page;
    if (page == 0) page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = ((uintptr_t)(r->map + from) + page - 1) & ~(uintptr_t)(page - 1);
    uintptr_t hi = (uintptr_t)(r->map + to) & ~(uintptr_t)(page - 1);
    if (hi <= lo) return false;
    *addr = (void *)lo;
    *len = hi - lo;
    return true;
}

/* Maps [FROM, TO) of R's mapping into the process ahead of its use, with one
 * system call instead of a page fault per few pages.  Only an optimisation: a
 * page it cannot populate (the file truncated) faults when it is read, inside a
 * guard. */
static void map_populate(const csvr_reader *r, size_t from, size_t to)
{
#ifdef MADV_POPULATE_READ
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    from -= from % page;
    void *addr;
    size_t len;
    if (to > from && map_pages(r, from, to + page - 1 < r->size ? to + page - 1 : r->size, &addr, &len))
        madvise(addr, len, MADV_POPULATE_READ);
#else
    (void)r, (void)from, (void)to;
#endif
}

/* Drops the pages of [FROM, TO) of R's mapping from the process: the page cache
 * keeps them, only the process's resident set shrinks. */
static void map_drop(const csvr_reader *r, size_t from, size_t to)
{
    void *addr;
    size_t len;
    if (map_pages(r, from, to, &addr, &len)) madvise(addr, len, MADV_DONTNEED);
}

/* Maps regular file R whole for reading, when it is not empty and the system
 * allows; otherwise R is read with pread. */
static void map_file(csvr_reader *r)
{
    if (!mapg_ready() || r->size == 0) return;
    void *m = mmap(NULL, r->size, PROT_READ, MAP_SHARED, r->fd, 0);
    if (m == MAP_FAILED) return;
    madvise(m, r->size, MADV_SEQUENTIAL);
    r->map = m;
}

/* ---- reading the file ---------------------------------------------------- */

/* Grows *BUF, of *CAP bytes, by doubling until it holds NEED bytes. False, with *BUF
 * and *CAP as they were, when memory runs out: the caller reports it its own way. */
static bool grow_buffer(unsigned char **buf, size_t *cap, size_t need)
{
    if (need <= *cap) return true;
    size_t bigger = *cap ? *cap * 2 : need;
    while (bigger < need) bigger *= 2;
    unsigned char *grown = realloc(*buf, bigger);
    if (grown == NULL) return false;
    *buf = grown;
    *cap = bigger;
    return true;
}

/* Copies LEN bytes at file offset OFF into DST.  Safe from several threads. */
static bool source_read(const csvr_reader *r, size_t off, void *dst, size_t len, csvr_error *err)
{
    if (r->fd < 0) {
        memcpy(dst, r->mem + off, len);
        return true;
    }
    if (r->map != NULL) {
        if (!mapg_copy(dst, r->map + off, len, r->map, r->map + r->size)) {
            file_changed(r, 0, err);
            return false;
        }
        return true;
    }
    if (r->streamed) { /* only the bytes read ahead can be read again */
        if (off > r->ahead_len || len > r->ahead_len - off) {
            set_error(err, CSVR_ERR_INTERNAL, r->path, 0, 0, -1,
                      "internal error: a stream read at %zu, past its %zu bytes read ahead", off,
                      r->ahead_len);
            return false;
        }
        memcpy(dst, r->ahead + off, len);
        return true;
    }
    unsigned char *to = dst;
    while (len > 0) {
        ssize_t got = pread(r->fd, to, len, (off_t)off);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            set_error(err, CSVR_ERR_IO, r->path, 0, 0, -1, "cannot read the file: %s", strerror(errno));
            return false;
        }
        if (got == 0) {
            file_changed(r, 0, err);
            return false;
        }
        to += got;
        off += (size_t)got;
        len -= (size_t)got;
    }
    return true;
}

/* Reads from stream R into DST until LEN bytes or the end of the stream; *GOT says
 * how many came.  At the end, R's size becomes known. */
static bool stream_read(csvr_reader *r, unsigned char *dst, size_t len, size_t *got, csvr_error *err)
{
    *got = 0;
    while (*got < len && !r->stream_eof) {
        ssize_t n = read(r->fd, dst + *got, len - *got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            set_error(err, CSVR_ERR_IO, r->path, 0, 0, -1, "cannot read the file: %s", strerror(errno));
            return false;
        }
        if (n == 0) {
            r->stream_eof = true;
            r->size = r->stream_pos;
            break;
        }
        *got += (size_t)n;
        r->stream_pos += (size_t)n;
    }
    return true;
}

/* Reads stream R ahead until `ahead` holds NEED bytes or the whole stream. */
static bool stream_ahead(csvr_reader *r, size_t need, csvr_error *err)
{
    if (r->ahead_len >= need || r->stream_eof) return true;
    if (!grow_buffer(&r->ahead, &r->ahead_cap, need)) {
        set_error(err, CSVR_ERR_NOMEM, r->path, 0, 0, -1, "out of memory reading the file");
        return false;
    }
    size_t got;
    bool ok = stream_read(r, r->ahead + r->ahead_len, need - r->ahead_len, &got, err);
    r->ahead_len += got;
    return ok;
}

/* The pass's read of stream R: up to LEN bytes at file offset OFF (the first byte
 * not read yet by the pass), from what was read ahead and then from the stream;
 * *GOT is 0 only at the end. */
static bool stream_next(csvr_reader *r, size_t off, unsigned char *dst, size_t len, size_t *got,
                        csvr_error *err)
{
    if (off < r->ahead_len) {
        *got = r->ahead_len - off < len ? r->ahead_len - off : len;
        memcpy(dst, r->ahead + off, *got);
        if (off + *got == r->ahead_len && r->stream_pos == r->ahead_len) {
            free(r->ahead); /* everything read ahead has been taken */
            r->ahead = NULL;
            r->ahead_cap = 0;
        }
        return true;
    }
    if (off != r->stream_pos) {
        set_error(err, CSVR_ERR_INTERNAL, r->path, 0, 0, -1,
                  "internal error: a stream read at %zu, not at %zu", off, r->stream_pos);
        return false;
    }
    return stream_read(r, dst, len, got, err);
}

/* The error for a record of a stream that has grown past CSVR_RECORD_MAX without
 * ending; LINE is the line it starts on. */
static void record_too_long(csvr_error *err, const char *path, uint64_t line)
{
    set_error(err, CSVR_ERR_TOO_LONG, path, line, 0, -1,
              "a record longer than %u MiB starts on this line (a line that never ends, or a "
              "file that is not CSV)",
              CSVR_RECORD_MAX >> 20);
}

/* Opens PATH: a regular file is read with pread as needed; anything else (a pipe,
 * /dev/stdin, a device) is a stream, read once in order as the pass goes, so its
 * memory is bounded by the window (csvr_read).  With CSVR_READ_AGAIN, a stream is
 * refused before it is opened: what is left of it is not the file (and opening a
 * FIFO again would wait for a new writer). */
static bool open_file(csvr_reader *r, const char *path, unsigned flags, csvr_error *err)
{
    struct stat st;
    if ((flags & CSVR_READ_AGAIN) && stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        set_error(err, CSVR_ERR_IO, path, 0, 0, -1,
                  "a pipe or device can be read only once, and this source is read in a "
                  "second pass: save it to a regular file and pass that file");
        return false;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        set_error(err, CSVR_ERR_IO, path, 0, 0, -1, "cannot open the file: %s", strerror(errno));
        return false;
    }
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        set_error(err, CSVR_ERR_IO, path, 0, 0, -1, "cannot read the file: %s",
                  S_ISDIR(st.st_mode) ? strerror(EISDIR) : strerror(errno));
        close(fd);
        return false;
    }
    r->fd = fd;
    if (S_ISREG(st.st_mode)) {
        r->size = (size_t)st.st_size;
        r->opened = st;
        posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        map_file(r);
    } else {
        r->streamed = true;
        r->size = SIZE_MAX;
    }
    return true;
}

/* ---- hashing and progress ------------------------------------------------ */

/* Adds the N bytes at B, which are the file's bytes from hashed_upto on, and
 * finishes the digest once the whole file is in. */
static void hash_bytes(csvr_reader *r, const unsigned char *b, size_t n)
{
    if (r->sha == NULL || r->hash_done) return;
    if (n > 0) {
        EVP_DigestUpdate(r->sha, b, n);
        r->hashed_upto += n;
    }
    if (r->hashed_upto == r->size) {
        unsigned int len = 0;
        EVP_DigestFinal_ex(r->sha, r->digest, &len);
        r->hash_done = true;
    }
}

/* Reads and hashes the file from hashed_upto to UPTO. */
static bool hash_through(csvr_reader *r, size_t upto, csvr_error *err)
{
    if (r->sha == NULL || r->hash_done) return true;
    unsigned char *buf = malloc(SCAN_BLOCK);
    if (buf == NULL) {
        set_error(err, CSVR_ERR_NOMEM, r->path, 0, 0, -1, "out of memory");
        return false;
    }
    bool ok = true;
    while (ok && r->hashed_upto < upto) {
        size_t n = upto - r->hashed_upto < SCAN_BLOCK ? upto - r->hashed_upto : SCAN_BLOCK;
        ok = source_read(r, r->hashed_upto, buf, n, err);
        if (ok) hash_bytes(r, buf, n);
    }
    free(buf);
    if (ok) hash_bytes(r, NULL, 0); /* finishes an empty file */
    return ok;
}

/* CSVR_HASH_IN_THREAD: a helper thread hashes the whole file in order,
 * independently of the parser; both only read the file. */
typedef struct hash_job {
    csvr_reader *r;
    atomic_bool cancel;
} hash_job;

static void *hash_thread(void *arg)
{
    hash_job *job = arg;
    csvr_reader *r = job->r;
    unsigned char *buf = malloc(SCAN_BLOCK);
    while (buf != NULL && !r->hash_done && !atomic_load_explicit(&job->cancel, memory_order_relaxed)) {
        size_t n = r->size - r->hashed_upto < SCAN_BLOCK ? r->size - r->hashed_upto : SCAN_BLOCK;
        if (!source_read(r, r->hashed_upto, buf, n, NULL))
            break; /* the parse reports read errors; the hash stays incomplete */
        hash_bytes(r, buf, n);
    }
    free(buf);
    return NULL;
}

bool csvr_sha256_hex(const csvr_reader *r, char hex[65])
{
    if (!r->hash_done) return false;
    static const char DIGITS[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = DIGITS[r->digest[i] >> 4];
        hex[2 * i + 1] = DIGITS[r->digest[i] & 15];
    }
    hex[64] = '\0';
    return true;
}

void csvr_progress(const csvr_reader *r, uint64_t *bytes_done, uint64_t *bytes_total)
{
    if (bytes_done) *bytes_done = atomic_load_explicit(&r->bytes_done, memory_order_relaxed);
    if (bytes_total) /* a stream's size is known only at its end: so far, what is read */
        *bytes_total = r->streamed && !r->stream_eof ? r->stream_pos : r->size;
}

/* ---- opening: the header row --------------------------------------------- */

/* Collects the header's fields during its csv_parse. */
typedef struct header_builder {
    char *text; /* names, NUL-separated */
    size_t len, cap;
    size_t count;
    size_t nul_field; /* first field (1-based) with a NUL byte in its name, or 0 */
    bool nomem;
} header_builder;

static void header_field(void *field, size_t len, void *data)
{
    header_builder *hb = data;
    if (hb->nomem) return;
    if (hb->len + len + 1 > hb->cap) {
        size_t cap = hb->cap ? hb->cap : 256;
        while (cap < hb->len + len + 1) cap *= 2;
        char *text = realloc(hb->text, cap);
        if (text == NULL) {
            hb->nomem = true;
            return;
        }
        hb->text = text;
        hb->cap = cap;
    }
    if (len > 0) memcpy(hb->text + hb->len, field, len);
    if (hb->nul_field == 0 && len > 0 && memchr(field, '\0', len) != NULL) hb->nul_field = hb->count + 1;
    hb->text[hb->len + len] = '\0';
    hb->len += len + 1;
    hb->count++;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Writes the header's names, comma-separated, into BUF (capacity CAP) for a
 * message, ending with ", ..." when they do not all fit. */
static void list_header(const csvr_reader *r, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < r->n_header; i++) {
        char quoted[4 * QUOTE_MAX + 16];
        const char *name = r->header[i];
        size_t len = strlen(name);
        quote_for_message(quoted, sizeof quoted, (const unsigned char *)name, len);
        /* a name that only a quoted header field can have: show where it ends */
        bool padded = len == 0 || is_blank((unsigned char)name[0]) || is_blank((unsigned char)name[len - 1]);
        int w = snprintf(buf + n, cap - n, padded ? "%s\"%s\"" : "%s%s", i ? ", " : "", quoted);
        if (w < 0 || (size_t)w >= cap - n) {
            size_t at = cap > 6 ? cap - 6 : 0;
            if (n > at) n = at;
            snprintf(buf + n, cap - n, ", ...");
            return;
        }
        n += (size_t)w;
    }
}

/* Reads the start of the file until it holds the whole header record, which
 * is then at [span->line_start, span->term) of the returned buffer.  Reads
 * double each time, so a huge header is still scanned in linear time. */
static unsigned char *read_header_bytes(csvr_reader *r, size_t *start, record_span *span, csvr_error *err)
{
    size_t cap = 64 * 1024, have = 0;
    unsigned char *buf = NULL;
    for (;;) {
        unsigned char *bigger = realloc(buf, cap);
        if (bigger == NULL) {
            free(buf);
            set_error(err, CSVR_ERR_NOMEM, r->path, 0, 0, -1, "out of memory reading the header");
            return NULL;
        }
        buf = bigger;
        if (r->streamed && !stream_ahead(r, cap, err)) {
            free(buf);
            return NULL;
        }
        size_t known = r->streamed ? r->ahead_len : r->size;
        size_t n = known - have < cap - have ? known - have : cap - have;
        if (!source_read(r, have, buf + have, n, err)) {
            free(buf);
            return NULL;
        }
        have += n;
        bool complete = have == r->size; /* a stream's size is set at its end */
        /* A UTF-8 byte-order mark is not part of the first name. */
        *start = have >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
        if (mirror_next_record(buf, *start, have, span)) {
            /* Done once a byte after the terminator is visible (so a CRLF is
             * seen whole), or at the end of the file. */
            if (span->next < have || complete) return buf;
            if (r->streamed && have - span->line_start > CSVR_RECORD_MAX) {
                record_too_long(err, r->path, 1 + count_lines(buf, span->line_start, false));
                free(buf);
                return NULL;
            }
        } else if (complete) {
            set_error(err, CSVR_ERR_HEADER, r->path, 0, 0, -1, "no header row: the file is %s",
                      r->size ? "blank" : "empty");
            free(buf);
            return NULL;
        } else if (r->streamed && have > CSVR_RECORD_MAX) {
            set_error(err, CSVR_ERR_HEADER, r->path, 0, 0, -1,
                      "no header row in the first %u MiB: only blank lines", CSVR_RECORD_MAX >> 20);
            free(buf);
            return NULL;
        }
        cap *= 2;
    }
}

static const char *text_problem(const unsigned char *s, size_t len);

/* Whether R's first bytes look like UTF-16 (transcode.h), for the message about a
 * header with NUL bytes. */
static bool looks_utf16(const csvr_reader *r)
{
    unsigned char head[4096];
    size_t known = r->streamed ? r->ahead_len : r->size;
    size_t n = known < sizeof head ? known : sizeof head;
    csvr_error ignored;
    if (!source_read(r, 0, head, n, &ignored)) return false;
    const char *like = tc_looks_like(head, n);
    return like != NULL && strcmp(like, "UTF-16") == 0;
}

/* Trims blanks around the name *S of *LEN bytes: spaces, tabs and the ideographic
 * space U+3000 that Chinese spreadsheets pad with. */
static void trim_blanks(const char **s, size_t *len)
{
    for (;;) {
        if (*len > 0 && (**s == ' ' || **s == '\t')) {
            (*s)++;
            (*len)--;
        } else if (*len >= 3 && memcmp(*s, "\xE3\x80\x80", 3) == 0) {
            *s += 3;
            *len -= 3;
        } else if (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t')) {
            (*len)--;
        } else if (*len >= 3 && memcmp(*s + *len - 3, "\xE3\x80\x80", 3) == 0) {
            *len -= 3;
        } else {
            return;
        }
    }
}

/* Whether A and B are the same name up to ASCII case and blanks around them. */
static bool near_name(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    trim_blanks(&a, &la);
    trim_blanks(&b, &lb);
    return la == lb && la > 0 && strncasecmp(a, b, la) == 0;
}

const char *csvr_header_looks_like(const csvr_reader *r)
{
    for (size_t i = 0; i < r->n_header; i++) {
        const unsigned char *name = (const unsigned char *)r->header[i];
        if (text_problem(name, strlen(r->header[i])) == NULL) continue;
        /* judge from all the names together, as the header row had them: one short
         * name says little */
        size_t len = 0;
        for (size_t k = 0; k < r->n_header; k++) len += strlen(r->header[k]) + 1;
        char *row = malloc(len);
        if (row == NULL) return NULL;
        size_t at = 0;
        for (size_t k = 0; k < r->n_header; k++) {
            size_t n = strlen(r->header[k]);
            memcpy(row + at, r->header[k], n);
            at += n;
            row[at++] = ',';
        }
        const char *like = tc_looks_like((const unsigned char *)row, len - 1);
        free(row);
        return like != NULL && strcmp(like, "UTF-8") != 0 ? like : NULL;
    }
    return NULL;
}

const char *csvr_header_near(const csvr_reader *r, const char *name)
{
    for (size_t i = 0; i < r->n_header; i++)
        if (strcmp(r->header[i], name) != 0 && near_name(r->header[i], name)) return r->header[i];
    return NULL;
}

/* Reads the header record, checks its names and maps the wanted columns. */
static bool read_header(csvr_reader *r, csvr_error *err)
{
    size_t start;
    record_span span;
    unsigned char *bytes = read_header_bytes(r, &start, &span, err);
    if (bytes == NULL) return false;
    r->header_line = 1 + count_lines(bytes, span.line_start, false);
    if (span.unterminated) {
        set_error(err, CSVR_ERR_HEADER, r->path, r->header_line, 0, -1,
                  "the header row has a quoted field that is never closed");
        free(bytes);
        return false;
    }
    r->data_begin = span.next;
    if (span.term < r->size && bytes[span.term] == '\r' && span.next < r->size && bytes[span.next] == '\n')
        r->data_begin++; /* never start the data between CR and LF */
    r->data_first_line = 1 + count_lines(bytes, r->data_begin, false);

    header_builder hb = { 0 };
    struct csv_parser parser;
    if (csv_init(&parser, CSV_STRICT) != 0) {
        free(bytes);
        set_error(err, CSVR_ERR_NOMEM, r->path, 0, 0, -1, "out of memory");
        return false;
    }
    csv_set_blk_size(&parser, LIBCSV_BLOCK);
    size_t len = span.term - span.line_start;
    bool bad_quote;
    size_t used = feed_libcsv(&parser, bytes + span.line_start, len, header_field, NULL, &hb, &bad_quote);
    if (bad_quote) {
        char after[16];
        size_t seq = utf8_sequence(bytes + span.line_start + used, len - used);
        quote_for_message(after, sizeof after, bytes + span.line_start + used, seq ? seq : 1);
        set_error(err, CSVR_ERR_HEADER, r->path, r->header_line, hb.count + 1, -1,
                  "the header's field %zu has \"%s\" after its closing quote (a quoted field "
                  "ends at its closing quote; a quote inside it is written \"\")",
                  hb.count + 1, after);
        csv_free(&parser);
        free(bytes);
        r->header_text = hb.text;
        return false;
    }
    csv_fini(&parser, header_field, NULL, &hb);
    csv_free(&parser);
    free(bytes);
    r->header_text = hb.text;
    if (used != len || hb.nomem) {
        set_error(err, CSVR_ERR_NOMEM, r->path, r->header_line, 0, -1, "out of memory reading the header");
        return false;
    }
    if (hb.nul_field > 0) {
        /* Names are C strings from here on, and no spec can name such a column.  The
         * usual cause is a UTF-16 export, whose ASCII characters each carry a NUL. */
        if (looks_utf16(r))
            set_error(err, CSVR_ERR_HEADER, r->path, r->header_line, hb.nul_field, -1,
                      "the header has NUL bytes: the file looks like UTF-16; declare encoding "
                      "\"UTF-16\" in the source block, or convert the file to UTF-8 "
                      "(iconv -f UTF-16 -t UTF-8)");
        else
            set_error(err, CSVR_ERR_HEADER, r->path, r->header_line, hb.nul_field, -1,
                      "the header has a NUL byte in the name of field %zu", hb.nul_field);
        return false;
    }
    r->n_header = hb.count;
    r->header = malloc(hb.count * sizeof *r->header);
    r->want_of_field = malloc(hb.count * sizeof *r->want_of_field);
    char **sorted = malloc(hb.count * sizeof *sorted);
    if (r->header == NULL || r->want_of_field == NULL || sorted == NULL) {
        free(sorted);
        set_error(err, CSVR_ERR_NOMEM, r->path, 0, 0, -1, "out of memory reading the header");
        return false;
    }
    char *name = hb.text;
    for (size_t i = 0; i < hb.count; i++) {
        r->header[i] = name;
        sorted[i] = name;
        r->want_of_field[i] = -1;
        name += strlen(name) + 1;
    }
    /* Duplicates: sort the names and compare neighbours.  Empty names are
     * allowed (an unnamed column can never be asked for). */
    qsort(sorted, hb.count, sizeof *sorted, compare_names);
    for (size_t i = 1; i < hb.count; i++) {
        if (sorted[i][0] != '\0' && strcmp(sorted[i], sorted[i - 1]) == 0) {
            char quoted[4 * QUOTE_MAX + 16];
            quote_for_message(quoted, sizeof quoted, (const unsigned char *)sorted[i], strlen(sorted[i]));
            size_t first = 0, second = 0;
            for (size_t f = 0; f < hb.count && second == 0; f++) {
                if (strcmp(r->header[f], sorted[i]) == 0) {
                    if (first == 0) first = f + 1;
                    else second = f + 1;
                }
            }
            set_error(err, CSVR_ERR_HEADER, r->path, r->header_line, second, -1,
                      "duplicate column name '%s' in the header (fields %zu and %zu)", quoted, first, second);
            free(sorted);
            return false;
        }
    }
    /* Map each wanted column to its field. */
    for (size_t w = 0; w < r->n_wanted; w++) {
        const char *want = r->wanted[w].name;
        char **hit = bsearch(&want, sorted, hb.count, sizeof *sorted, compare_names);
        if (hit == NULL && (r->flags & CSVR_MISSING_COLUMNS_OK)) {
            r->field_of_want[w] = SIZE_MAX; /* no field feeds it: its cell stays null */
            continue;
        }
        if (hit == NULL) {
            char listing[CSVR_MESSAGE_MAX - 400];
            list_header(r, listing, sizeof listing);
            const char *near = csvr_header_near(r, want);
            char quoted[4 * QUOTE_MAX + 16] = "";
            if (near != NULL)
                quote_for_message(quoted, sizeof quoted, (const unsigned char *)near, strlen(near));
            const char *like = near == NULL ? csvr_header_looks_like(r) : NULL;
            char encoding_hint[160] = "";
            if (like != NULL)
                snprintf(encoding_hint, sizeof encoding_hint,
                         " (the header is not UTF-8: the file looks like %s; declare encoding "
                         "\"%s\" in the source block)",
                         strcmp(like, "GB18030") ? like : "GBK/GB18030", like);
            set_error(err, CSVR_ERR_HEADER, r->path, r->header_line, 0, (int)w,
                      "column '%.100s' not found in the header%s%s%s%s; the header has: %s", want,
                      near ? " (did you mean '" : "", quoted, near ? "'?)" : "", encoding_hint, listing);
            free(sorted);
            return false;
        }
        size_t field = 0;
        while (r->header[field] != *hit) field++;
        r->want_of_field[field] = (int32_t)w;
        r->field_of_want[w] = field;
    }
    free(sorted);
    r->plan_pos = r->data_begin;
    r->plan_line = r->data_first_line;
    return true;
}

/* Whether a column of type TYPE can be read with format F. */
static bool format_fits(const cfmt *f, csvr_type type)
{
    switch (f->kind) {
    case CFMT_NONE: return true;
    case CFMT_DATE: return type == CSVR_DATE;
    case CFMT_NUMBER: return type == CSVR_INT || type == CSVR_NUMBER || type == CSVR_MONEY;
    case CFMT_BOOL: return type == CSVR_BOOL;
    }
    return false;
}

bool csvr_set_format(csvr_reader *r, size_t w, const cfmt *f, csvr_error *err)
{
    if (w >= r->n_wanted || r->pass_started || !format_fits(f, r->wanted[w].type)) {
        set_error(err, CSVR_ERR_USAGE, r->path, 0, 0, w < r->n_wanted ? (int)w : -1,
                  "a format that column %zu cannot take, or set after reading began", w);
        return false;
    }
    r->formats[w] = *f;
    r->format_of[w] = f->kind == CFMT_NONE ? NULL : &r->formats[w];
    return true;
}

static csvr_reader *open_common(csvr_reader *r, const csvr_column *wanted, size_t n_wanted, unsigned flags,
                                csvr_error *err)
{
    r->flags = flags;
    atomic_init(&r->bytes_done, 0);
    if (pthread_mutex_init(&r->hash_lock, NULL) != 0) goto nomem;
    if (pthread_cond_init(&r->hash_turn, NULL) != 0) {
        pthread_mutex_destroy(&r->hash_lock);
        goto nomem;
    }
    r->hash_sync = true;
    if (n_wanted > INT32_MAX || (n_wanted > 0 && wanted == NULL)) {
        set_error(err, CSVR_ERR_USAGE, r->path, 0, 0, -1, "bad list of columns");
        goto fail;
    }
    r->wanted = calloc(n_wanted ? n_wanted : 1, sizeof *r->wanted);
    r->field_of_want = calloc(n_wanted ? n_wanted : 1, sizeof *r->field_of_want);
    r->formats = calloc(n_wanted ? n_wanted : 1, sizeof *r->formats);
    r->format_of = calloc(n_wanted ? n_wanted : 1, sizeof *r->format_of);
    if (r->wanted == NULL || r->field_of_want == NULL || r->formats == NULL || r->format_of == NULL)
        goto nomem;
    for (size_t w = 0; w < n_wanted; w++) {
        if (wanted[w].name == NULL || (unsigned)wanted[w].type > CSVR_BOOL) {
            set_error(err, CSVR_ERR_USAGE, r->path, 0, 0, (int)w, "bad column description");
            goto fail;
        }
        for (size_t v = 0; v < w; v++) {
            if (strcmp(wanted[v].name, wanted[w].name) == 0) {
                set_error(err, CSVR_ERR_USAGE, r->path, 0, 0, (int)w, "column '%.100s' is requested twice",
                          wanted[w].name);
                goto fail;
            }
        }
        r->wanted[w].type = wanted[w].type;
        r->wanted[w].name = strdup(wanted[w].name);
        r->n_wanted = w + 1;
        if (r->wanted[w].name == NULL) goto nomem;
    }
    if (!(flags & CSVR_NO_HASH)) {
        r->sha = EVP_MD_CTX_new();
        if (r->sha == NULL || EVP_DigestInit_ex(r->sha, EVP_sha256(), NULL) != 1) goto nomem;
    }
    if (!read_header(r, err)) goto fail;
    /* Progress counts the header as done, so that it ends at the file size. */
    atomic_store_explicit(&r->bytes_done, r->data_begin, memory_order_relaxed);
    return r;
nomem:
    set_error(err, CSVR_ERR_NOMEM, r->path, 0, 0, -1, "out of memory");
fail:
    csvr_close(r);
    return NULL;
}

/* A reader named PATH with no file open yet; NULL with *ERR set when out of memory. */
static csvr_reader *reader_new(const char *path, csvr_error *err)
{
    csvr_reader *r = calloc(1, sizeof *r);
    if (r == NULL) {
        set_error(err, CSVR_ERR_NOMEM, path, 0, 0, -1, "out of memory");
        return NULL;
    }
    r->fd = -1;
    copy_truncated(r->path, sizeof r->path, path);
    return r;
}

csvr_reader *csvr_open(const char *path, const csvr_column *wanted, size_t n_wanted, unsigned flags,
                       csvr_error *err)
{
    csvr_reader *r = reader_new(path, err);
    if (r == NULL) return NULL;
    if (!open_file(r, path, flags, err)) {
        csvr_close(r);
        return NULL;
    }
    return open_common(r, wanted, n_wanted, flags, err);
}

csvr_reader *csvr_open_memory(const char *name, const void *data, size_t size, const csvr_column *wanted,
                              size_t n_wanted, unsigned flags, csvr_error *err)
{
    csvr_reader *r = reader_new(name, err);
    if (r == NULL) return NULL;
    r->mem = size ? data : (const unsigned char *)"";
    r->size = size;
    return open_common(r, wanted, n_wanted, flags, err);
}

csvr_reader *csvr_open_encoded(const char *path, const char *encoding, const csvr_column *wanted,
                               size_t n_wanted, unsigned flags, csvr_error *err)
{
    if (encoding == NULL || tc_is_utf8(encoding)) return csvr_open(path, wanted, n_wanted, flags, err);
    csvr_reader *r = reader_new(path, err);
    if (r == NULL) return NULL;
    if (!open_file(r, path, flags, err)) {
        csvr_close(r);
        return NULL;
    }
    /* The raw bytes, whole; a stream only up to CSVR_ENCODED_STREAM_MAX, so that a
     * device that never ends cannot take all memory. */
    unsigned char *raw;
    if (r->streamed) {
        if (!stream_ahead(r, (size_t)CSVR_ENCODED_STREAM_MAX + 1, err)) {
            csvr_close(r);
            return NULL;
        }
        if (!r->stream_eof) {
            set_error(err, CSVR_ERR_TOO_LONG, path, 0, 0, -1,
                      "a pipe or device in encoding %.64s is converted in memory, and this one "
                      "is longer than %u MiB: convert it to UTF-8 first (iconv -f %.64s -t "
                      "UTF-8) or pass a regular file",
                      encoding, CSVR_ENCODED_STREAM_MAX >> 20, encoding);
            csvr_close(r);
            return NULL;
        }
        raw = r->ahead;
        r->ahead = NULL;
        r->size = r->ahead_len;
        r->streamed = false;
        close(r->fd);
        r->fd = -1;
    } else {
        raw = malloc(r->size ? r->size : 1);
        if (raw == NULL || !source_read(r, 0, raw, r->size, err)) {
            if (raw == NULL) set_error(err, CSVR_ERR_NOMEM, path, 0, 0, -1, "out of memory reading the file");
            free(raw);
            csvr_close(r);
            return NULL;
        }
        if (r->map != NULL) /* from here on the converted copy is read */
            munmap((void *)r->map, r->size);
        r->map = NULL;
        close(r->fd);
        r->fd = -1;
    }
    size_t raw_size = r->size;
    unsigned char digest[32];
    bool hashed = !(flags & CSVR_NO_HASH);
    if (hashed && EVP_Digest(raw, raw_size, digest, NULL, EVP_sha256(), NULL) != 1) {
        set_error(err, CSVR_ERR_NOMEM, path, 0, 0, -1, "out of memory");
        free(raw);
        r->mem = NULL;
        r->mem_owned = false;
        csvr_close(r);
        return NULL;
    }
    unsigned char *text;
    size_t text_size;
    tc_error terr;
    bool converted = tc_to_utf8(encoding, raw, raw_size, &text, &text_size, &terr);
    free(raw);
    r->mem = NULL;
    r->mem_owned = false;
    if (!converted) {
        set_error(err, CSVR_ERR_ENCODING, path, terr.line, 0, -1, "%s", terr.message);
        csvr_close(r);
        return NULL;
    }
    r->mem = text;
    r->mem_owned = true;
    r->size = text_size;
    if (open_common(r, wanted, n_wanted, flags | CSVR_NO_HASH, err) == NULL) return NULL;
    if (hashed) {
        memcpy(r->digest, digest, sizeof digest);
        r->hash_done = true;
    }
    return r;
}

void csvr_close(csvr_reader *r)
{
    if (r == NULL) return;
    if (r->hash_sync) {
        pthread_mutex_destroy(&r->hash_lock);
        pthread_cond_destroy(&r->hash_turn);
    }
    colc_writer_abort(r->cache_out); /* a pass that never ended writes nothing */
    free(r->cache_decode);
    colc_close(r->cache);
    if (r->cache_dir != NULL) {
        free(r->cache_dir);
        pthread_mutex_destroy(&r->cache_lock);
    }
    if (r->map != NULL) munmap((void *)r->map, r->size);
    if (r->fd >= 0) close(r->fd);
    free(r->ahead);
    if (r->mem_owned) free((void *)r->mem);
    for (size_t w = 0; w < r->n_wanted; w++) free((char *)r->wanted[w].name);
    free(r->wanted);
    free(r->formats);
    free(r->format_of);
    free(r->header);
    free(r->header_text);
    free(r->want_of_field);
    free(r->field_of_want);
    EVP_MD_CTX_free(r->sha);
    free(r);
}

bool csvr_is_seekable(const csvr_reader *r)
{
    return !r->streamed;
}

const char *csvr_path(const csvr_reader *r)
{
    return r->path;
}

size_t csvr_header_size(const csvr_reader *r)
{
    return r->n_header;
}

void csvr_header_listing(const csvr_reader *r, char *buf, size_t cap)
{
    list_header(r, buf, cap);
}

const char *csvr_header_name(const csvr_reader *r, size_t i)
{
    return i < r->n_header ? r->header[i] : NULL;
}

/* ---- one pass over a range of records ------------------------------------ */

struct csvr_pass {
    csvr_reader *r;
    const csvr_handlers *h;
    struct csv_parser parser;
    size_t begin, end; /* byte range of the pass in the file */

    csvr_cell *cells; /* n_wanted cells of the current record */
    /* The raw bytes of the current record's wanted fields, as libcsv gave them
     * (quotes removed), one after another in row_buf; kept[w] says where column
     * w's bytes are.  Converting only once the record is complete keeps the
     * per-field callback free of type dispatch, whose branches mispredict
     * badly between libcsv's own per-byte branches, and lets text cells point
     * straight into row_buf. */
    struct kept_field {
        size_t at, len;
    } * kept;
    /* Per header field: where on_field keeps it. */
    struct field_plan {
        size_t slot;      /* index into kept: the wanted column, or n_wanted */
        size_t keep_mask; /* ~0 for a wanted field, 0 for one to drop */
    } * plan;
    size_t *by_type;                /* the wanted columns ordered by type, then index */
    size_t type_end[CSVR_BOOL + 1]; /* by_type[..type_end[t]) ends type t's run */
    unsigned char *row_buf;
    size_t row_len, row_cap;
    bool row_nomem; /* row_buf could not grow for this record */

    size_t field;         /* fields seen so far in the current record */
    size_t active_fields; /* n_header, or 0 once stopped: on_field's bound */
    uint64_t record;      /* index of the current record in this pass */

    bool row_bad;    /* row_error describes the current record */
    bool open_quote; /* the current record ends inside quotes (EOF) */
    csvr_error row_error;

    bool stop; /* no more callbacks */
    csvr_status status;
    csvr_error *err;

    /* The window: buf[0..have) holds the file's bytes from win_off on, and
     * win_off is a record boundary on line win_line, before which the pass has
     * seen win_record records.  buf[0..parsed) has gone through libcsv. */
    unsigned char *buf;
    size_t cap, have, parsed;
    size_t win_off;
    uint64_t win_line;
    uint64_t win_record;
    bool win_prev_cr;   /* the byte before win_off is a CR */
    size_t parse_limit; /* end of the bytes libcsv is parsing now */
    bool hash;          /* hash the bytes as they are read into the window */
    /* A window over the file's mapping (not a chunk's bytes): reading a block only
     * extends `have`, sliding advances buf, and the pages behind are dropped. */
    bool mapped;
    size_t dropped;          /* file offset up to which pages have been dropped */
    size_t populated;        /* file offset up to which pages have been populated */
    unsigned char *raw_copy; /* a record's bytes, copied out of the window for a */
    size_t raw_cap;          /* caller (csvr_row_raw, the bad-row callback) */
    colc_group *group;       /* the rows this pass adds to the cache being written */
    int64_t chunk_index;     /* the chunk parsed, or -1 for a sequential pass */
    uint64_t group_sub;      /* groups of this chunk written so far */
    bool replayed;           /* rows come from the cache: no window, lines unknown */

    /* Locator cursor inside the window: record loc_record starts its scan at
     * buf[loc], on line loc_line. */
    size_t loc;
    uint64_t loc_line;
    uint64_t loc_record;
    /* The last record located (cached for repeated calls). */
    bool have_located;
    uint64_t located_record;
    record_span located;
    uint64_t located_line;
};

/* Whether the byte before buf[at] is a CR. */
static bool cr_before(const struct csvr_pass *p, size_t at)
{
    return at > 0 ? p->buf[at - 1] == '\r' : p->win_prev_cr;
}

/* Finds record RECORD of the pass (which lies in the window) with the mirror,
 * moving the cursor forward.  Returns false if the mirror runs out of records
 * first, which would mean it disagrees with libcsv. */
static bool locate(struct csvr_pass *p, uint64_t record)
{
    if (p->have_located && p->located_record == record) return true;
    if (record < p->loc_record) {
        if (record < p->win_record) return false;
        p->loc = 0;
        p->loc_line = p->win_line;
        p->loc_record = p->win_record;
    }
    while (p->loc_record <= record) {
        record_span span;
        if (!mirror_next_record(p->buf, p->loc, p->parse_limit, &span)) return false;
        uint64_t line =
            p->loc_line + count_lines(p->buf + p->loc, span.line_start - p->loc, cr_before(p, p->loc));
        if (p->loc_record == record) {
            p->have_located = true;
            p->located_record = record;
            p->located = span;
            p->located_line = line;
        }
        p->loc_line = line + count_lines(p->buf + span.line_start, span.next - span.line_start,
                                         cr_before(p, span.line_start));
        p->loc = span.next;
        p->loc_record++;
    }
    return true;
}

static void stop_with(struct csvr_pass *p, csvr_status status);

typedef struct locate_job {
    struct csvr_pass *p;
    uint64_t record;
    bool found;
    bool copy; /* also copy the record's bytes into p->raw_copy */
} locate_job;

static void locate_and_copy(void *arg)
{
    locate_job *job = arg;
    struct csvr_pass *p = job->p;
    job->found = locate(p, job->record);
    if (job->found && job->copy)
        memcpy(p->raw_copy, p->buf + p->located.line_start, p->located.term - p->located.line_start);
}

/* Locates a record for a row callback, which runs inside the pass's guard but must
 * not be unwound by a fault (it may hold its own locks): so a guard of its own, and
 * a truncated file ends the pass with the callback returning normally.  With COPY,
 * the record's bytes go to raw_copy, which must already hold them. */
static bool locate_for_caller(struct csvr_pass *p, uint64_t record, bool copy)
{
    locate_job job = { p, record, false, copy };
    if (run_guarded(p->r, locate_and_copy, &job)) return job.found;
    file_changed(p->r, p->win_line, p->err);
    stop_with(p, CSVR_ERROR);
    return false;
}

uint64_t csvr_row_line(const csvr_row *row)
{
    if (row->pass->replayed) return 0;
    if (!locate_for_caller(row->pass, row->record, false)) return 0;
    return row->pass->located_line;
}

const char *csvr_row_raw(const csvr_row *row, size_t *len)
{
    struct csvr_pass *p = row->pass;
    *len = 0;
    if (p->replayed) return "";
    if (!locate_for_caller(p, row->record, false)) return "";
    size_t n = p->located.term - p->located.line_start;
    if (!grow_buffer(&p->raw_copy, &p->raw_cap, n + 1)) {
        set_error(p->err, CSVR_ERR_NOMEM, p->r->path, 0, 0, -1, "out of memory");
        stop_with(p, CSVR_ERROR);
        return "";
    }
    if (!locate_for_caller(p, row->record, true)) return "";
    *len = n;
    return (const char *)p->raw_copy;
}

/* Records a problem of the current record.  Only one is reported: the first
 * one found, except that a bad cell gives way to a bad cell further left (cells
 * are converted grouped by type, not in field order), because the leftmost is
 * the one a user reads and fixes first. */
static void row_problem(struct csvr_pass *p, csvr_error_kind kind, size_t field, int column, const char *fmt,
                        ...) __attribute__((format(printf, 5, 6)));

static void row_problem(struct csvr_pass *p, csvr_error_kind kind, size_t field, int column, const char *fmt,
                        ...)
{
    csvr_error *e = &p->row_error;
    if (p->row_bad && !(kind == CSVR_ERR_CELL && e->kind == CSVR_ERR_CELL && field < e->field)) return;
    p->row_bad = true;
    e->kind = kind;
    e->line = 0; /* filled in by locate() when the row is reported */
    e->field = field;
    e->column = column;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

/* Reports a bad cell of column W: the value, quoted, and why it is bad. */
static void bad_cell(struct csvr_pass *p, size_t w, const unsigned char *s, size_t len, const char *why)
{
    char quoted[4 * QUOTE_MAX + 16];
    quote_for_message(quoted, sizeof quoted, s, len);
    row_problem(p, CSVR_ERR_CELL, p->r->field_of_want[w] + 1, (int)w,
                "bad %s value \"%s\" in column '%.100s': %s", csvr_type_name(p->r->wanted[w].type), quoted,
                p->r->wanted[w].name, why);
}

/* Parses an int64: [+-]digits.  0 ok, 1 bad syntax, 2 out of range. */
static int parse_int64(const unsigned char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    bool negative = false;
    if (i < len && (s[i] == '+' || s[i] == '-')) {
        negative = s[i] == '-';
        i++;
    }
    if (i == len) return 1;
    /* Accumulate the magnitude unsigned; the limit depends on the sign. */
    uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    bool overflow = false;
    for (; i < len; i++) {
        unsigned d = (unsigned)s[i] - '0';
        if (d > 9) return 1;
        if (v > (limit - d) / 10) overflow = true;
        else v = v * 10 + d;
    }
    if (overflow) return 2;
    *out = negative ? (int64_t)(0 - v) : (int64_t)v;
    if (negative && v == (uint64_t)INT64_MAX + 1) *out = INT64_MIN;
    return 0;
}

/* Parses a bool: true/false, 1/0, yes/no in any case.  1 true, 0 false, -1
 * neither.  (c | 0x20) lowercases an ASCII letter and maps no other byte to
 * one, so each test accepts exactly the two cases of its letter. */
static int parse_bool(const unsigned char *s, size_t len)
{
#define IS(i, letter) ((s[i] | 0x20) == (letter))
    switch (len) {
    case 1: return s[0] == '1' ? 1 : s[0] == '0' ? 0 : -1;
    case 2: return IS(0, 'n') && IS(1, 'o') ? 0 : -1;
    case 3: return IS(0, 'y') && IS(1, 'e') && IS(2, 's') ? 1 : -1;
    case 4: return IS(0, 't') && IS(1, 'r') && IS(2, 'u') && IS(3, 'e') ? 1 : -1;
    case 5: return IS(0, 'f') && IS(1, 'a') && IS(2, 'l') && IS(3, 's') && IS(4, 'e') ? 0 : -1;
    }
    return -1;
#undef IS
}

/* Whether S[0..len) is plain ASCII without NUL bytes (and so acceptable text). */
static bool is_plain_ascii(const unsigned char *s, size_t len)
{
    size_t i = 0;
    for (; len - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        /* A high bit set, or a zero byte ((w - 1s) & ~w & high bits). */
        if ((w | ((w - 0x0101010101010101ULL) & ~w)) & 0x8080808080808080ULL) return false;
    }
    for (; i < len; i++)
        if (s[i] == 0 || s[i] >= 0x80) return false;
    return true;
}

/* Why S[0..len) is not acceptable text, or NULL if it is (valid UTF-8, no NUL). */
static const char *text_problem(const unsigned char *s, size_t len)
{
    size_t i = 0;
    /* ASCII fast path, 8 bytes at a time: no high bit set and no zero byte. */
    while (len - i >= 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ULL) break;
        if ((w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL) return "NUL byte in text";
        i += 8;
    }
    while (i < len) {
        if (s[i] == 0) return "NUL byte in text";
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t seq = utf8_sequence(s + i, len - i);
        if (seq == 0) return "invalid UTF-8";
        i += seq;
    }
    return NULL;
}

/* The converters, one per type, for column W of the current record: each sets
 * cell W from the column's kept bytes, or reports the cell as bad.  An empty
 * cell is null whatever the type. */
#define CELL_BYTES(p, w, s, len, cell)                       \
    csvr_cell *cell = &(p)->cells[w];                        \
    const unsigned char *s = (p)->row_buf + (p)->kept[w].at; \
    size_t len = (p)->kept[w].len;                           \
    cell->is_null = len == 0;                                \
    if (len == 0) return

/* CHECKED says the caller already knows the bytes are plain ASCII. */
static void convert_text(struct csvr_pass *p, size_t w, bool checked)
{
    CELL_BYTES(p, w, s, len, cell);
    const char *why = checked ? NULL : text_problem(s, len);
    if (why != NULL && strcmp(why, "invalid UTF-8") == 0) {
        const char *like = tc_looks_like(s, len);
        if (like != NULL && strcmp(like, "GB18030") == 0)
            why = "invalid UTF-8; the bytes read as GBK/GB18030: declare encoding "
                  "\"GB18030\" in the source block";
    }
    if (why != NULL) bad_cell(p, w, s, len, why);
    cell->as.text.ptr = (const char *)s;
    cell->as.text.len = len;
}

/* Reports a cell of column W that does not follow the column's declared format. */
static void bad_formatted_cell(struct csvr_pass *p, size_t w, const unsigned char *s, size_t len)
{
    const cfmt *f = p->r->format_of[w];
    char why[2 * CFMT_TEXT_MAX + 192];
    if (f->kind == CFMT_BOOL) snprintf(why, sizeof why, "expected \"%s\" or \"%s\"", f->text, f->text2);
    else snprintf(why, sizeof why, "does not match the format \"%s\"", f->text);
    /* The two yen signs look alike and GBK has only the full-width one. */
    static const char yen[] = "\xC2\xA5", wide_yen[] = "\xEF\xBF\xA5";
    bool cell_yen = memmem(s, len, yen, 2) != NULL, cell_wide = memmem(s, len, wide_yen, 3) != NULL;
    bool format_yen = strstr(f->text, yen) != NULL, format_wide = strstr(f->text, wide_yen) != NULL;
    if ((cell_wide && format_yen && !format_wide) || (cell_yen && format_wide && !format_yen)) {
        size_t at = strlen(why);
        snprintf(why + at, sizeof why - at,
                 " (the cell's %s is %s, the format's is %s: write "
                 "the sign the file has)",
                 cell_wide ? "￥" : "¥", cell_wide ? "the full-width U+FFE5" : "U+00A5",
                 cell_wide ? "U+00A5" : "the full-width U+FFE5");
    }
    bad_cell(p, w, s, len, why);
}

static void convert_int(struct csvr_pass *p, size_t w)
{
    CELL_BYTES(p, w, s, len, cell);
    const cfmt *f = p->r->format_of[w];
    char plain[CFMT_NUMBER_MAX];
    size_t plain_len;
    if (f != NULL) {
        if (!cfmt_number_text(f, (const char *)s, len, plain, &plain_len)) {
            bad_formatted_cell(p, w, s, len);
            return;
        }
    }
    int st = f != NULL ? parse_int64((const unsigned char *)plain, plain_len, &cell->as.i)
                       : parse_int64(s, len, &cell->as.i);
    if (st != 0) bad_cell(p, w, s, len, st == 1 ? "not an integer" : "integer out of range");
}

static void convert_decimal(struct csvr_pass *p, size_t w, unsigned places)
{
    CELL_BYTES(p, w, s, len, cell);
    const cfmt *f = p->r->format_of[w];
    dec_status st;
    if (f != NULL) {
        char plain[CFMT_NUMBER_MAX];
        size_t plain_len;
        if (!cfmt_number_text(f, (const char *)s, len, plain, &plain_len)) {
            bad_formatted_cell(p, w, s, len);
            return;
        }
        st = dec_parse(plain, plain_len, places, &cell->as.dec);
    } else {
        st = dec_parse((const char *)s, len, places, &cell->as.dec);
    }
    if (st == DEC_TOO_PRECISE)
        bad_cell(p, w, s, len, places == 2 ? "more than 2 decimal places" : "more than 18 decimal places");
    else if (st != DEC_OK) bad_cell(p, w, s, len, dec_status_text(st));
}

static void convert_date(struct csvr_pass *p, size_t w)
{
    CELL_BYTES(p, w, s, len, cell);
    const cfmt *f = p->r->format_of[w];
    if (f != NULL) {
        date_status st = cfmt_parse_date(f, (const char *)s, len, &cell->as.date);
        if (st == DATE_SYNTAX) bad_formatted_cell(p, w, s, len);
        else if (st != DATE_OK) bad_cell(p, w, s, len, date_status_text(st));
        return;
    }
    date_status st = date_parse((const char *)s, len, &cell->as.date);
    if (st != DATE_OK) bad_cell(p, w, s, len, date_status_text(st));
}

static void convert_bool(struct csvr_pass *p, size_t w)
{
    CELL_BYTES(p, w, s, len, cell);
    const cfmt *f = p->r->format_of[w];
    int b = f != NULL ? cfmt_parse_bool(f, (const char *)s, len) : parse_bool(s, len);
    if (b < 0 && f != NULL) bad_formatted_cell(p, w, s, len);
    else if (b < 0) bad_cell(p, w, s, len, "expected true/false, 1/0 or yes/no");
    cell->as.b = b > 0;
}

#undef CELL_BYTES

/* Converts every wanted cell of the current record.  The columns are visited
 * grouped by type (p->by_type), one loop per type, because a switch on the
 * type of each column in turn is an indirect branch that mispredicts about
 * once per cell; loops with a fixed trip count do not. */
static void convert_row(struct csvr_pass *p)
{
    const size_t *col = p->by_type;
    const size_t *end = p->type_end;
    size_t i = 0;
    /* Most rows are plain ASCII: one test over all the kept bytes then stands
     * for the UTF-8 check of every text cell. */
    bool ascii = end[CSVR_TEXT] > 0 && is_plain_ascii(p->row_buf, p->row_len);
    for (; i < end[CSVR_TEXT]; i++) convert_text(p, col[i], ascii);
    for (; i < end[CSVR_INT]; i++) convert_int(p, col[i]);
    for (; i < end[CSVR_NUMBER]; i++) convert_decimal(p, col[i], DEC_PLACES);
    for (; i < end[CSVR_MONEY]; i++) convert_decimal(p, col[i], 2);
    for (; i < end[CSVR_DATE]; i++) convert_date(p, col[i]);
    for (; i < end[CSVR_BOOL]; i++) convert_bool(p, col[i]);
}

/* The slow path of on_field: a field longer than SHORT_FIELD, or a row_buf
 * without SHORT_FIELD bytes of slack.  Grows row_buf as needed (always leaving
 * that slack) and keeps the field if it is wanted; out of memory flags the
 * row.  Kept out of line so that on_field's fast path is a leaf function that
 * saves no registers. */
static __attribute__((noinline)) void keep_long_field(struct csvr_pass *p, const struct field_plan *plan,
                                                      const void *field, size_t len)
{
    if (plan->keep_mask == 0) return;
    if (!grow_buffer(&p->row_buf, &p->row_cap, p->row_len + len + SHORT_FIELD)) {
        p->row_nomem = true;
        return;
    }
    memcpy(p->row_buf + p->row_len, field, len);
    p->kept[plan->slot].at = p->row_len;
    p->kept[plan->slot].len = len;
    p->row_len += len;
}

/* libcsv field callback.  It runs for every field of the file, wanted or not,
 * so it has no branch that depends on the column: an unwanted field is copied
 * like a wanted one, into a dummy slot, and row_len only advances by the
 * length of a wanted field (len & keep_mask).  A short field is copied as a
 * fixed SHORT_FIELD bytes, which the compiler turns into two vector moves
 * instead of a call to memcpy; that reads past the field's end, but only
 * inside libcsv's field buffer (checked to be at least SHORT_FIELD bytes), and
 * the extra bytes land in row_buf's slack and are never looked at. */
static void on_field(void *field, size_t len, void *data)
{
    struct csvr_pass *p = data;
    size_t f = p->field++;
    if (f >= p->active_fields) return; /* an extra field (ragged row), or the pass has stopped */
    const struct field_plan *plan = &p->plan[f];
    size_t at = p->row_len;
    if (len > SHORT_FIELD || at + SHORT_FIELD > p->row_cap || p->parser.entry_size < SHORT_FIELD) {
        keep_long_field(p, plan, field, len);
        return;
    }
    memcpy(p->row_buf + at, field, SHORT_FIELD);
    p->kept[plan->slot].at = at;
    p->kept[plan->slot].len = len;
    p->row_len = at + (len & plan->keep_mask);
}

static void stop_with(struct csvr_pass *p, csvr_status status)
{
    p->stop = true;
    p->active_fields = 0;
    p->status = status;
}

static void on_record(int terminator, void *data);
static void cache_add_row(struct csvr_pass *p);
static csvr_type *cache_types(const csvr_reader *r);

/* Ends libcsv's parse of pass P: its last record, if unterminated, is delivered. */
static void finish_libcsv(void *arg)
{
    struct csvr_pass *p = arg;
    csv_fini(&p->parser, on_field, on_record, p);
}

/* Hands a bad record to the caller, or ends the pass with it. */
static void report_bad_row(struct csvr_pass *p)
{
    csvr_error *e = &p->row_error;
    copy_truncated(e->path, sizeof e->path, p->r->path);
    if (!locate(p, p->record)) {
        set_error(p->err, CSVR_ERR_INTERNAL, p->r->path, 0, 0, -1,
                  "internal error: cannot find record %llu of the pass starting at byte %zu",
                  (unsigned long long)p->record + 1, p->begin);
        stop_with(p, CSVR_ERROR);
        return;
    }
    e->line = p->located_line;
    /* the callback gets a copy: it must never read the mapped file (see run_guarded) */
    size_t raw_len = p->located.term - p->located.line_start;
    if (!grow_buffer(&p->raw_copy, &p->raw_cap, raw_len + 1)) {
        set_error(p->err, CSVR_ERR_NOMEM, p->r->path, 0, 0, -1, "out of memory");
        stop_with(p, CSVR_ERROR);
        return;
    }
    memcpy(p->raw_copy, p->buf + p->located.line_start, raw_len);
    csvr_bad_row bad = { e, (const char *)p->raw_copy, raw_len };
    bool skippable = e->kind == CSVR_ERR_CELL || e->kind == CSVR_ERR_RAGGED || e->kind == CSVR_ERR_QUOTE;
    if (skippable && p->h->on_bad != NULL && p->h->on_bad(p->h->ctx, &bad) == CSVR_SKIP) {
        if (p->group != NULL && !colc_group_add_bad(p->group, e, bad.raw, bad.raw_len))
            atomic_store(&p->r->cache_failed, true);
        return;
    }
    if (p->err != NULL) *p->err = *e;
    stop_with(p, CSVR_ERROR);
}

/* libcsv record callback: check the record's shape and deliver it. */
static void on_record(int terminator, void *data)
{
    (void)terminator;
    struct csvr_pass *p = data;
    if (!p->stop) {
        size_t n_header = p->r->n_header;
        /* The record's shape first: cell errors in a shifted row mean nothing. */
        if (p->open_quote) {
            row_problem(p, CSVR_ERR_QUOTE, p->field, -1,
                        "quoted field is never closed: the quote runs to the end of the file");
        } else if (p->field != n_header) {
            row_problem(p, CSVR_ERR_RAGGED, p->field > n_header ? n_header + 1 : p->field + 1, -1,
                        "row has %zu field%s, the header has %zu", p->field, p->field == 1 ? "" : "s",
                        n_header);
        }
        if (p->row_nomem) row_problem(p, CSVR_ERR_NOMEM, 0, -1, "out of memory");
        if (!p->row_bad) convert_row(p);
        if (p->row_bad) {
            report_bad_row(p);
        } else {
            csvr_row row = { p->cells, p, p->record, false };
            if (!p->h->on_row(p->h->ctx, &row)) stop_with(p, CSVR_STOPPED);
            else if (p->group != NULL) cache_add_row(p);
        }
    }
    p->record++;
    p->field = 0;
    p->row_bad = false;
    p->row_nomem = false;
    p->row_len = 0;
}

/* Parses buf[from..to) of the window.  A record with text after a closing quote
 * is bad from there to the end of its line, where parsing resumes (as the
 * mirror's BAD state has it).  False on running out of memory. */
static bool parse_records(struct csvr_pass *p, size_t from, size_t to)
{
    while (from < to) {
        bool bad_quote;
        from += feed_libcsv(&p->parser, p->buf + from, to - from, on_field, on_record, p, &bad_quote);
        if (!bad_quote) return from == to;
        if (!p->stop) {
            char after[16];
            size_t seq = utf8_sequence(p->buf + from, to - from);
            quote_for_message(after, sizeof after, p->buf + from, seq ? seq : 1);
            row_problem(p, CSVR_ERR_QUOTE, p->field + 1, -1,
                        "field %zu has \"%s\" after its closing quote (a quoted field ends at "
                        "its closing quote; a quote inside it is written \"\")",
                        p->field + 1, after);
        }
        while (from < to && !is_term(p->buf[from])) from++;
        reset_libcsv(&p->parser);
        on_record(0, p);
    }
    return true;
}

/* Index just after the last line break in buf[from..to), or TO if none. */
static size_t last_line_end(const unsigned char *buf, size_t from, size_t to)
{
    for (size_t i = to; i > from; i--)
        if (is_term(buf[i - 1])) return i;
    return to;
}

/* Moves the window's start to CUT, a record boundary just after a line break. */
static void slide_window(struct csvr_pass *p, size_t cut)
{
    p->win_line += count_lines(p->buf, cut, p->win_prev_cr);
    p->win_prev_cr = p->buf[cut - 1] == '\r';
    p->win_off += cut;
    p->win_record = p->record;
    if (p->mapped) {
        p->buf += cut;
        p->cap -= cut;
        if (p->win_off - p->dropped >= MAP_DROP_BEHIND) {
            size_t page = (size_t)sysconf(_SC_PAGESIZE);
            size_t upto = p->win_off - p->win_off % page;
            map_drop(p->r, p->dropped, upto);
            p->dropped = upto;
        }
    } else {
        memmove(p->buf, p->buf + cut, p->have - cut);
    }
    p->have -= cut;
    p->parsed -= cut;
    p->loc = 0;
    p->loc_line = p->win_line;
    p->loc_record = p->win_record;
    p->have_located = false;
}

/* For a window that could not slide at its last line break (libcsv was inside a
 * record there, e.g. in a quoted field with a line break): slides it to the start
 * of the current record, found with the mirror, so that it holds one record however
 * the line breaks fall.  Then a stream's record longer than CSVR_RECORD_MAX is an
 * error on the line it starts (its window would otherwise grow without bound); a
 * regular file's window grows with its record.  False when the pass must stop. */
static bool window_to_record(struct csvr_pass *p)
{
    p->parse_limit = p->parsed;
    if (p->record > p->win_record && locate(p, p->record - 1)) {
        size_t start = p->located.next;
        if (start > 0 && start <= p->parsed) slide_window(p, start);
    }
    if (!p->r->streamed || p->have <= CSVR_RECORD_MAX) return true;
    record_span span;
    size_t first = mirror_next_record(p->buf, 0, p->have, &span) ? span.line_start : 0;
    if (p->have - first <= CSVR_RECORD_MAX) return true;
    record_too_long(p->err, p->r->path, p->win_line + count_lines(p->buf, first, p->win_prev_cr));
    stop_with(p, CSVR_ERROR);
    return false;
}

/* Frees a pass and what it allocated (not its libcsv parser); its window too when
 * OWNS_BUF, i.e. unless it parsed a chunk's bytes in place.  P may be NULL. */
static void free_pass(struct csvr_pass *p, bool owns_buf)
{
    if (p == NULL) return;
    free(p->cells);
    free(p->kept);
    free(p->plan);
    free(p->by_type);
    free(p->row_buf);
    free(p->raw_copy);
    if (owns_buf) free(p->buf);
    free(p);
}

/* The block loop of pass P: reads (or, in a mapped window, takes) the file's
 * blocks, hashes them if asked, and parses them up to their last line break,
 * sliding the window past record boundaries.  Runs under the mapping's guard. */
static void pass_blocks(void *arg)
{
    struct csvr_pass *p = arg;
    csvr_reader *r = p->r;
    csvr_error *err = p->err;
    while (!p->stop) {
        size_t file_pos = p->win_off + p->have;
        /* a stream's end (r->size) is known once read(2) has returned 0 */
        size_t stop_at = r->streamed ? r->size : p->end;
        if (file_pos < stop_at) {
            size_t len = stop_at - file_pos < PASS_BLOCK ? stop_at - file_pos : PASS_BLOCK;
            if (p->mapped) {
                if (file_pos + len > p->populated) {
                    size_t upto = p->populated + MAP_DROP_BEHIND / 4;
                    if (upto > stop_at) upto = stop_at;
                    map_populate(r, p->populated, upto);
                    p->populated = upto;
                }
            } else {
                /* a record longer than the window so far grows it */
                if (!grow_buffer(&p->buf, &p->cap, p->have + len)) {
                    set_error(err, CSVR_ERR_NOMEM, r->path, 0, 0, -1, "out of memory");
                    stop_with(p, CSVR_ERROR);
                    break;
                }
                if (r->streamed ? !stream_next(r, file_pos, p->buf + p->have, len, &len, err)
                                : !source_read(r, file_pos, p->buf + p->have, len, err)) {
                    stop_with(p, CSVR_ERROR);
                    break;
                }
            }
            if (p->hash) hash_bytes(r, p->buf + p->have, len); /* len 0: a stream's end finishes it */
            p->have += len;
            atomic_fetch_add_explicit(&r->bytes_done, len, memory_order_relaxed);
        }
        bool at_end = p->win_off + p->have >= (r->streamed ? r->size : p->end);
        /* Parse up to the last line break read, so that the window can slide
         * there if libcsv ends up between records. */
        size_t cut = at_end ? p->have : last_line_end(p->buf, p->parsed, p->have);
        if (cut > p->parsed) {
            p->parse_limit = cut;
            if (!parse_records(p, p->parsed, cut)) {
                set_error(err, CSVR_ERR_NOMEM, r->path, 0, 0, -1, "out of memory: %s",
                          csv_strerror(csv_error(&p->parser)));
                stop_with(p, CSVR_ERROR);
                break;
            }
            p->parsed = cut;
        }
        /* a stream's last record too must be within the limit, however it ends */
        if (p->stop || (at_end && !(r->streamed && p->have > CSVR_RECORD_MAX))) break;
        if (!at_end && cut > 0 && is_term(p->buf[cut - 1]) && p->parser.pstate == LIBCSV_ROW_NOT_BEGUN)
            slide_window(p, cut);
        else if (p->have > 2 * PASS_BLOCK && !p->mapped && !window_to_record(p)) break;
        if (at_end) break;
    }
}

/* Parses the file's bytes [BEGIN, END) (a whole number of records starting on
 * line FIRST_LINE) and hashes them on the way if HASH.  IN_PLACE: the range's
 * bytes, already in memory (a chunk). */
static csvr_status run_pass(csvr_reader *r, size_t begin, size_t end, uint64_t first_line,
                            const csvr_handlers *h, bool hash, const unsigned char *in_place,
                            int64_t chunk_index, csvr_error *err)
{
    if (h == NULL || h->on_row == NULL) {
        set_error(err, CSVR_ERR_USAGE, r->path, 0, 0, -1, "no row callback given");
        return CSVR_ERROR;
    }
    struct csvr_pass *p = calloc(1, sizeof *p);
    size_t n = r->n_wanted ? r->n_wanted : 1;
    bool mapped = in_place == NULL && r->map != NULL;
    bool owns_buf = in_place == NULL && !mapped;
    if (p != NULL) {
        p->cells = calloc(n, sizeof *p->cells);
        p->kept = calloc(r->n_wanted + 1, sizeof *p->kept); /* + the dummy slot */
        p->plan = calloc(r->n_header, sizeof *p->plan);
        p->by_type = calloc(n, sizeof *p->by_type);
        p->row_cap = 4096;
        p->row_buf = malloc(p->row_cap);
        /* The window never holds more than the range (small chunks exist); a range
         * already in memory is parsed where it is, as one window; a mapped file is
         * a window over its mapping. */
        p->cap = end - begin < 2 * PASS_BLOCK ? end - begin + 1 : 2 * PASS_BLOCK;
        if (in_place != NULL) {
            p->buf = (unsigned char *)in_place;
            p->cap = p->have = end - begin;
        } else if (mapped) {
            p->buf = (unsigned char *)r->map + begin;
            p->cap = end - begin;
            p->mapped = true;
            p->dropped = p->populated = begin;
        } else {
            p->buf = malloc(p->cap);
        }
    }
    if (p == NULL || p->cells == NULL || p->kept == NULL || p->plan == NULL || p->by_type == NULL ||
        p->row_buf == NULL || p->buf == NULL || csv_init(&p->parser, CSV_STRICT) != 0) {
        free_pass(p, owns_buf);
        set_error(err, CSVR_ERR_NOMEM, r->path, 0, 0, -1, "out of memory");
        return CSVR_ERROR;
    }
    csv_set_blk_size(&p->parser, LIBCSV_BLOCK);
    p->r = r;
    p->h = h;
    p->err = err;
    p->begin = begin;
    p->end = end;
    p->hash = hash;
    p->active_fields = r->n_header;
    p->status = CSVR_OK;
    for (size_t f = 0; f < r->n_header; f++) {
        int32_t w = r->want_of_field[f];
        p->plan[f].slot = w >= 0 ? (size_t)w : r->n_wanted;
        p->plan[f].keep_mask = w >= 0 ? ~(size_t)0 : 0;
    }
    size_t ordered = 0;
    for (int t = CSVR_TEXT; t <= CSVR_BOOL; t++) {
        for (size_t w = 0; w < r->n_wanted; w++)
            if ((int)r->wanted[w].type == t) p->by_type[ordered++] = w;
        p->type_end[t] = ordered;
    }
    p->win_off = begin;
    p->win_line = first_line;
    p->loc_line = first_line;
    p->chunk_index = chunk_index;
    if (r->cache_out != NULL && !atomic_load(&r->cache_failed)) {
        csvr_type *types = cache_types(r);
        p->group = types != NULL ? colc_group_new(types, r->n_wanted, begin) : NULL;
        free(types);
        if (p->group == NULL) atomic_store(&r->cache_failed, true);
    }
    if (in_place != NULL) atomic_fetch_add_explicit(&r->bytes_done, end - begin, memory_order_relaxed);

    if (!run_guarded(r, pass_blocks, p)) {
        file_changed(r, p->win_line, err);
        stop_with(p, CSVR_ERROR);
    }
    if (!p->stop) {
        if (end < r->size && p->parser.pstate != LIBCSV_ROW_NOT_BEGUN) {
            /* A chunk that is not the last must end on a record boundary. */
            set_error(err, CSVR_ERR_INTERNAL, r->path, 0, 0, -1,
                      "internal error: chunk [%zu, %zu) does not end on a record boundary", begin, end);
            stop_with(p, CSVR_ERROR);
        } else {
            p->open_quote = p->parser.pstate == LIBCSV_FIELD_BEGUN && p->parser.quoted;
            p->parse_limit = p->have;
            /* the last record's bad-row report may locate it in the mapping */
            if (!run_guarded(r, finish_libcsv, p)) {
                file_changed(r, p->win_line, err);
                stop_with(p, CSVR_ERROR);
            }
        }
    }
    if (mapped) map_drop(r, p->dropped, end);
    csvr_status status = p->status;
    /* Records read from a file that changed under the pass are not the file's: a
     * truncation may have left zeros readable without a fault. */
    if (status != CSVR_STOPPED && !file_unchanged(r)) {
        if (status != CSVR_ERROR || err == NULL || err->kind != CSVR_ERR_CHANGED) file_changed(r, 0, err);
        status = CSVR_ERROR;
    }
    if (p->group != NULL) {
        uint64_t index = chunk_index >= 0
                             ? ((uint64_t)chunk_index << CACHE_GROUPS_PER_CHUNK_BITS) + p->group_sub
                             : r->cache_seq_index++;
        if (status != CSVR_OK || atomic_load(&r->cache_failed)) {
            colc_group_free(p->group);
            atomic_store(&r->cache_failed, true);
        } else if (!colc_writer_add(r->cache_out, index, end, p->group)) {
            atomic_store(&r->cache_failed, true);
        }
        p->group = NULL;
    } else if (r->cache_out != NULL && status != CSVR_OK) {
        atomic_store(&r->cache_failed, true);
    }
    csv_free(&p->parser);
    free_pass(p, owns_buf);
    return status;
}

/* ---- the column cache ------------------------------------------------------ */

/* The wanted columns' types, for colcache. */
static csvr_type *cache_types(const csvr_reader *r)
{
    csvr_type *types = malloc((r->n_wanted ? r->n_wanted : 1) * sizeof *types);
    if (types != NULL)
        for (size_t w = 0; w < r->n_wanted; w++) types[w] = r->wanted[w].type;
    return types;
}

bool csvr_use_cache(csvr_reader *r, const char *dir, unsigned flags)
{
    if (r->pass_started || r->cache_dir != NULL || dir == NULL) return false;
    r->cache_dir = strdup(dir);
    if (r->cache_dir == NULL) return false;
    r->cache_flags = flags;
    pthread_mutex_init(&r->cache_lock, NULL);
    return true;
}

bool csvr_set_used_columns(csvr_reader *r, const bool *used)
{
    if (r->pass_started) return false;
    bool *copy = malloc(r->n_wanted ? r->n_wanted : 1);
    if (copy == NULL) return false;
    if (r->n_wanted) memcpy(copy, used, r->n_wanted);
    free(r->cache_decode);
    r->cache_decode = copy;
    return true;
}

const char *csvr_cache_note(const csvr_reader *r)
{
    return r->cache_note[0] ? r->cache_note : NULL;
}

bool csvr_cache_replayed(const csvr_reader *r)
{
    return r->cache != NULL;
}

/* The key of R's cache: the file's identity at open, and a digest of its real path
 * and the wanted columns with their formats, which is also the cache file's name. */
static bool cache_key(csvr_reader *r)
{
    colc_key *k = &r->cache_key;
    memset(k, 0, sizeof *k);
    k->dev = (uint64_t)r->opened.st_dev;
    k->ino = (uint64_t)r->opened.st_ino;
    k->size = (uint64_t)r->opened.st_size;
    k->mtime_sec = r->opened.st_mtim.tv_sec;
    k->mtime_nsec = r->opened.st_mtim.tv_nsec;
    k->ctime_sec = r->opened.st_ctim.tv_sec;
    k->ctime_nsec = r->opened.st_ctim.tv_nsec;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(md);
        return false;
    }
    char *real = realpath(r->path, NULL);
    const char *name = real != NULL ? real : r->path;
    EVP_DigestUpdate(md, "kpic column cache 1", 20);
    EVP_DigestUpdate(md, name, strlen(name) + 1);
    free(real);
    for (size_t w = 0; w < r->n_wanted; w++) {
        unsigned char type = (unsigned char)r->wanted[w].type;
        EVP_DigestUpdate(md, r->wanted[w].name, strlen(r->wanted[w].name) + 1);
        EVP_DigestUpdate(md, &type, 1);
        const cfmt *f = r->format_of[w];
        unsigned char kind = f != NULL ? (unsigned char)f->kind : 0;
        EVP_DigestUpdate(md, &kind, 1);
        if (f != NULL) {
            EVP_DigestUpdate(md, f->text, strnlen(f->text, sizeof f->text) + 1);
            EVP_DigestUpdate(md, f->text2, strnlen(f->text2, sizeof f->text2) + 1);
        }
    }
    unsigned int len = 0;
    bool ok = EVP_DigestFinal_ex(md, k->columns, &len) == 1;
    EVP_MD_CTX_free(md);
    if (!ok) return false;
    static const char DIGITS[] = "0123456789abcdef";
    char hex[65];
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = DIGITS[k->columns[i] >> 4];
        hex[2 * i + 1] = DIGITS[k->columns[i] & 15];
    }
    hex[64] = '\0';
    int n = snprintf(r->cache_path, sizeof r->cache_path, "%s/%s.kcol", r->cache_dir, hex);
    return n > 0 && (size_t)n < sizeof r->cache_path;
}

/* Creates DIR and its missing parents, each mode 0700 (the cache holds the data). */
static bool make_dirs(const char *dir)
{
    char path[CSVR_PATH_MAX];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) return false;
    for (char *c = path + 1; *c; c++) {
        if (*c != '/') continue;
        *c = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) return false;
        *c = '/';
    }
    return mkdir(path, 0700) == 0 || errno == EEXIST;
}

typedef struct digest_job {
    const csvr_reader *r;
    unsigned char digest[32];
    bool ok;
} digest_job;

static void digest_file(void *arg)
{
    digest_job *job = arg;
    unsigned int len = 0;
    job->ok = EVP_Digest(job->r->map, job->r->size, job->digest, &len, EVP_sha256(), NULL) == 1;
}

/* --verify-data: whether R's bytes now have the digest EXPECTED. */
static bool digest_matches(const csvr_reader *r, const unsigned char *expected)
{
    digest_job job = { r, { 0 }, false };
    if (r->map == NULL || !run_guarded(r, digest_file, &job) || !job.ok) return false;
    return memcmp(job.digest, expected, 32) == 0;
}

/* Looks R's cache up when its pass starts: a usable one is replayed instead of the
 * file; otherwise a new one is written as the pass reads the file.  A stream, a file
 * read from memory or converted from another encoding, and a pass without a digest
 * (a second read) neither read nor write one.  A file changed in the last two
 * seconds is not written: its timestamps might not yet tell its next change apart. */
static void cache_start(csvr_reader *r)
{
    if (r->cache_dir == NULL || r->cache_looked) return;
    r->cache_looked = true;
    r->cache_done = true;
    if (r->fd < 0 || r->streamed || r->sha == NULL || r->hashed_upto != 0 || !cache_key(r)) return;
    csvr_type *types = cache_types(r);
    if (types == NULL) return;
    char why[512];
    colc_table *t = NULL;
    why[0] = '\0';
    if (!(r->cache_flags & CSVR_CACHE_REBUILD))
        t = colc_open(r->cache_path, &r->cache_key, types, r->n_wanted, why, sizeof why);
    free(types);
    if (t != NULL && (r->cache_flags & CSVR_CACHE_VERIFY) && !digest_matches(r, colc_sha256(t))) {
        snprintf(r->cache_note, sizeof r->cache_note,
                 "its column cache is refused: the file's SHA-256 differs from the one the "
                 "cache recorded (--verify-data); the file is read instead");
        colc_close(t);
        t = NULL;
    } else if (t == NULL && why[0] &&
               strcmp(why, "the data file or its columns changed since "
                           "it was written") != 0) {
        snprintf(r->cache_note, sizeof r->cache_note, "its column cache is ignored and rebuilt: %.400s", why);
    }
    if (t != NULL) {
        r->cache = t;
        memcpy(r->digest, colc_sha256(t), 32);
        r->hash_done = true;
        utimensat(AT_FDCWD, r->cache_path, NULL, 0); /* used: last in line for eviction */
        return;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    time_t changed = r->opened.st_ctim.tv_sec > r->opened.st_mtim.tv_sec ? r->opened.st_ctim.tv_sec
                                                                         : r->opened.st_mtim.tv_sec;
    if (now.tv_sec - changed < 2 || !make_dirs(r->cache_dir)) return;
    r->cache_out = colc_writer_new(r->cache_path, why, sizeof why);
    r->cache_done = r->cache_out == NULL;
}

/* Adds the row just delivered by pass P to its cache group; a sequential pass's group
 * is written out every CACHE_GROUP_ROWS rows. */
static void cache_add_row(struct csvr_pass *p)
{
    csvr_reader *r = p->r;
    if (!colc_group_add_row(p->group, p->cells)) {
        atomic_store(&r->cache_failed, true);
        return;
    }
    if (colc_group_rows(p->group) < CACHE_GROUP_ROWS) return;
    /* where the next group starts: where libcsv is, for progress on replay */
    size_t at = p->win_off + p->parsed;
    if (at > p->end) at = p->end;
    csvr_type *types = cache_types(r);
    colc_group *next = types != NULL ? colc_group_new(types, r->n_wanted, at) : NULL;
    free(types);
    uint64_t index = p->chunk_index >= 0
                         ? ((uint64_t)p->chunk_index << CACHE_GROUPS_PER_CHUNK_BITS) + p->group_sub++
                         : r->cache_seq_index++;
    if (next == NULL || !colc_writer_add(r->cache_out, index, at, p->group))
        atomic_store(&r->cache_failed, true);
    p->group = next;
    if (next == NULL) p->group = NULL;
}

/* Ends the cache being written once the pass over the whole file is over: renamed
 * into place when every group is in, the pass went well and the file did not change;
 * dropped otherwise. */
static void cache_finish(csvr_reader *r, bool ok)
{
    if (r->cache_done || r->cache_out == NULL) return;
    r->cache_done = true;
    char why[512];
    if (ok && !atomic_load(&r->cache_failed) && r->hash_done && file_unchanged(r)) {
        if (!colc_writer_commit(r->cache_out, &r->cache_key, r->digest, why, sizeof why))
            snprintf(r->cache_note, sizeof r->cache_note, "its column cache could not be written: %.800s",
                     why);
        else colc_dir_evict(r->cache_dir, COLC_DIR_MAX_BYTES);
    } else {
        colc_writer_abort(r->cache_out);
    }
    r->cache_out = NULL;
}

typedef struct replay_ctx {
    const csvr_handlers *h;
    struct csvr_pass *p;
    csvr_error *err;
    csvr_status status;
} replay_ctx;

static bool replay_row(void *ctx, const csvr_cell *cells, bool dated)
{
    replay_ctx *rc = ctx;
    csvr_row row = { cells, rc->p, rc->p->record++, dated };
    if (rc->h->on_row(rc->h->ctx, &row)) return true;
    rc->status = CSVR_STOPPED;
    return false;
}

static bool replay_dates(void *ctx, const date_t *days, const unsigned char *is_null, size_t n,
                         unsigned char *wanted)
{
    replay_ctx *rc = ctx;
    if (rc->h->on_dates(rc->h->ctx, days, is_null, n, wanted)) return true;
    rc->status = CSVR_STOPPED;
    return false;
}

static void replay_skipped(void *ctx, uint64_t rows)
{
    replay_ctx *rc = ctx;
    rc->p->record += rows;
}

static bool replay_bad_row(void *ctx, const csvr_error *e, const char *raw, size_t raw_len)
{
    replay_ctx *rc = ctx;
    rc->p->record++;
    csvr_bad_row bad = { e, raw, raw_len };
    if (rc->h->on_bad != NULL && rc->h->on_bad(rc->h->ctx, &bad) == CSVR_SKIP) return true;
    if (rc->err != NULL) *rc->err = *e;
    rc->status = CSVR_ERROR;
    return false;
}

/* Replays cache group I of R through H, as a pass over its bytes would deliver them.
 * A group that fails its checks (colcache.h) ends the pass with CSVR_ERR_CACHE and the
 * note that says why; several threads may meet one at once, the first one's reason is
 * kept. */
static csvr_status replay_group(csvr_reader *r, size_t i, const csvr_handlers *h, csvr_error *err)
{
    if (h == NULL || h->on_row == NULL) {
        set_error(err, CSVR_ERR_USAGE, r->path, 0, 0, -1, "no row callback given");
        return CSVR_ERROR;
    }
    struct csvr_pass *p = calloc(1, sizeof *p);
    if (p == NULL) {
        set_error(err, CSVR_ERR_NOMEM, r->path, 0, 0, -1, "out of memory");
        return CSVR_ERROR;
    }
    p->r = r;
    p->h = h;
    p->err = err;
    p->replayed = true;
    replay_ctx rc = { h, p, err, CSVR_OK };
    colc_sink sink = { replay_row, replay_bad_row, &rc, NULL, 0, replay_skipped };
    /* the dates column is a wanted one of type date (csvr_handlers) */
    if (h->on_dates != NULL && h->dates_column < r->n_wanted &&
        r->wanted[h->dates_column].type == CSVR_DATE) {
        sink.dates = replay_dates;
        sink.dates_column = h->dates_column;
    }
    char why[512];
    colc_status cs = colc_replay(r->cache, i, r->path, &sink, r->cache_decode, why, sizeof why);
    free(p);
    if (cs == COLC_BAD) {
        set_error(err, CSVR_ERR_CACHE, r->path, 0, 0, -1,
                  "its column cache failed while it was replayed: %.400s", why);
        pthread_mutex_lock(&r->cache_lock);
        if (!r->cache_lost)
            snprintf(r->cache_note, sizeof r->cache_note,
                     "its column cache is ignored and rebuilt: %.400s; the file is read "
                     "instead",
                     why);
        r->cache_lost = true;
        pthread_mutex_unlock(&r->cache_lock);
        return CSVR_ERROR;
    }
    uint64_t begin, end;
    colc_group_range(r->cache, i, &begin, &end);
    atomic_fetch_add_explicit(&r->bytes_done, end - begin, memory_order_relaxed);
    if (rc.status != CSVR_STOPPED && !file_unchanged(r)) {
        file_changed(r, 0, err);
        rc.status = CSVR_ERROR;
    }
    return rc.status;
}

/* ---- sequential pass ----------------------------------------------------- */

csvr_status csvr_read(csvr_reader *r, const csvr_handlers *h, csvr_error *err)
{
    if (r->pass_started) {
        set_error(err, CSVR_ERR_USAGE, r->path, 0, 0, -1, "the file has already been read");
        return CSVR_ERROR;
    }
    r->pass_started = true;
    cache_start(r);
    if (r->cache != NULL) {
        csvr_status st = CSVR_OK;
        for (size_t i = 0; st == CSVR_OK && i < colc_group_count(r->cache); i++)
            st = replay_group(r, i, h, err);
        return st;
    }
    /* a stream cannot be read twice, so its hash goes with the parse */
    bool hash_inline = r->sha != NULL && (!(r->flags & CSVR_HASH_IN_THREAD) || r->streamed);
    hash_job job = { r, false };
    pthread_t thread;
    bool threaded = false;
    if (r->sha != NULL && !hash_inline) {
        threaded = pthread_create(&thread, NULL, hash_thread, &job) == 0;
        hash_inline = !threaded; /* no thread: hash here after all */
    }
    if (hash_inline && !hash_through(r, r->data_begin, err)) /* the header's bytes */
        return CSVR_ERROR;
    csvr_status status =
        run_pass(r, r->data_begin, r->size, r->data_first_line, h, hash_inline, NULL, -1, err);
    if (threaded) {
        if (status != CSVR_OK) atomic_store(&job.cancel, true);
        pthread_join(thread, NULL);
    }
    cache_finish(r, status == CSVR_OK);
    return status;
}

/* ---- chunks -------------------------------------------------------------- */

/* The planner's scan of a mapped file, under the mapping's guard: from BEGIN, skim
 * to GOAL and step to the next record boundary outside quotes, counting the lines
 * of exactly the bytes that make up the chunk. */
typedef struct map_plan_job {
    const csvr_reader *r;
    size_t begin, goal;
    size_t end;     /* out: the chunk's end */
    uint64_t lines; /* out: the lines it holds */
} map_plan_job;

static void plan_mapped(void *arg)
{
    map_plan_job *job = arg;
    const csvr_reader *r = job->r;
    const unsigned char *b = r->map;
    map_populate(r, job->begin, job->goal);
    mstate s = mirror_skim(b, job->begin, job->goal, M_ROW);
    bool found = false;
    /* the end of the file when no boundary follows the goal */
    size_t end = job->goal < r->size ? mirror_boundary(b, job->goal, r->size, &s, &found) : r->size;
    job->end = end;
    /* a chunk never starts between a CR and its LF */
    job->lines = count_lines(b + job->begin, end - job->begin, false);
}

/* Tells a cache being written how many chunks the pass has (the one just planned
 * included), and whether that was the last. */
static void cache_planned(csvr_reader *r)
{
    if (r->cache_out == NULL) return;
    pthread_mutex_lock(&r->cache_lock);
    r->cache_planned = r->plan_index;
    r->cache_planned_all = r->plan_pos >= r->size;
    pthread_mutex_unlock(&r->cache_lock);
}

csvr_plan csvr_next_chunk(csvr_reader *r, size_t target_bytes, csvr_chunk *out, csvr_error *err)
{
    if (r->streamed) {
        set_error(err, CSVR_ERR_USAGE, r->path, 0, 0, -1,
                  "a pipe or device cannot be read in chunks (csvr_is_seekable)");
        return CSVR_PLAN_ERROR;
    }
    r->pass_started = true;
    if (!r->plan_started) {
        r->plan_started = true;
        cache_start(r);
        if (r->cache == NULL && !hash_through(r, r->data_begin, err)) /* the header's bytes */
            return CSVR_PLAN_ERROR;
    }
    if (r->cache != NULL) { /* a chunk is a group of the cache */
        if (r->plan_index >= colc_group_count(r->cache)) return CSVR_PLAN_DONE;
        uint64_t begin, end;
        colc_group_range(r->cache, (size_t)r->plan_index, &begin, &end);
        *out = (csvr_chunk){ begin, end, 0, r->plan_index++, NULL };
        return CSVR_PLAN_CHUNK;
    }
    if (r->plan_pos >= r->size) return CSVR_PLAN_DONE;
    size_t begin = r->plan_pos;
    size_t goal = r->size - begin > target_bytes ? begin + target_bytes : r->size;
    if (r->map != NULL) {
        /* a mapped chunk is parsed and hashed where it lies: nothing is read here */
        map_plan_job job = { r, begin, goal, 0, 0 };
        if (!run_guarded(r, plan_mapped, &job)) {
            file_changed(r, r->plan_line, err);
            return CSVR_PLAN_ERROR;
        }
        out->begin = begin;
        out->end = job.end;
        out->first_line = r->plan_line;
        out->index = r->plan_index++;
        out->data = (unsigned char *)r->map + begin;
        r->plan_line += job.lines;
        r->plan_pos = job.end;
        cache_planned(r);
        return CSVR_PLAN_CHUNK;
    }
    /* The chunk's bytes are read once, here, into a buffer the chunk keeps: the parse
     * and the hash then work on it in place. */
    size_t cap = goal - begin + 4096;
    unsigned char *buf = malloc(cap);
    if (buf == NULL) {
        set_error(err, CSVR_ERR_NOMEM, r->path, 0, 0, -1, "out of memory");
        return CSVR_PLAN_ERROR;
    }
    size_t pos = begin;
    mstate s = M_ROW;
    bool prev_cr = false, found = false;
    uint64_t lines = 0;
    /* Skim to the goal, then step to the next line break outside quotes; count the
     * lines of exactly the bytes that make up the chunk. */
    size_t lookahead = 4096; /* read past the goal: doubles while no boundary */
    while (pos < r->size && !found) {
        size_t want = (goal > pos ? goal - pos : 0) + lookahead;
        size_t n = want < SCAN_BLOCK ? want : SCAN_BLOCK;
        if (n > r->size - pos) n = r->size - pos;
        if (pos + n > goal && lookahead < SCAN_BLOCK) lookahead *= 2;
        if (!grow_buffer(&buf, &cap, pos - begin + n)) {
            free(buf);
            set_error(err, CSVR_ERR_NOMEM, r->path, 0, 0, -1, "out of memory");
            return CSVR_PLAN_ERROR;
        }
        unsigned char *b = buf + (pos - begin);
        if (!source_read(r, pos, b, n, err)) {
            free(buf);
            return CSVR_PLAN_ERROR;
        }
        size_t used = n;
        if (pos + n <= goal) {
            s = mirror_skim(b, 0, n, s);
        } else {
            size_t g = goal > pos ? goal - pos : 0;
            s = mirror_skim(b, 0, g, s);
            used = mirror_boundary(b, g, n, &s, &found);
        }
        lines += count_lines(b, used, prev_cr);
        prev_cr = b[used - 1] == '\r';
        pos += used;
    }
    out->begin = begin;
    out->end = pos;
    out->first_line = r->plan_line;
    out->index = r->plan_index++;
    out->data = buf;
    r->plan_line += lines;
    r->plan_pos = pos;
    cache_planned(r);
    return CSVR_PLAN_CHUNK;
}

/* Adds a chunk's bytes to the digest when every earlier byte is in: the threads that
 * parse chunks hash them in file order, each waiting for its turn. A chunk whose
 * predecessors were discarded is not hashed (the digest stays incomplete). */
typedef struct hash_job_bytes {
    csvr_reader *r;
    const unsigned char *b;
    size_t n;
} hash_job_bytes;

static void hash_some(void *arg)
{
    hash_job_bytes *job = arg;
    hash_bytes(job->r, job->b, job->n);
}

/* False when the chunk's bytes faulted (a mapped file truncated). */
static bool hash_chunk_in_turn(csvr_reader *r, const csvr_chunk *chunk)
{
    if (r->sha == NULL) return true;
    pthread_mutex_lock(&r->hash_lock);
    while (r->hashed_upto != chunk->begin && !r->hash_broken) pthread_cond_wait(&r->hash_turn, &r->hash_lock);
    /* hashed under the lock, which only threads waiting for their turn want; the
     * guard returns here on a fault, and the lock is released below */
    bool read = true;
    if (!r->hash_broken) {
        hash_job_bytes job = { r, chunk->data, (size_t)(chunk->end - chunk->begin) };
        read = run_guarded(r, hash_some, &job);
        if (!read) r->hash_broken = true; /* the digest is lost with the file */
        pthread_cond_broadcast(&r->hash_turn);
    }
    pthread_mutex_unlock(&r->hash_lock);
    return read;
}

void csvr_chunk_discard(csvr_reader *r, csvr_chunk *chunk)
{
    if (r->cache_out != NULL) atomic_store(&r->cache_failed, true);
    if (r->map == NULL) free(chunk->data);
    chunk->data = NULL;
    pthread_mutex_lock(&r->hash_lock);
    r->hash_broken = true;
    pthread_cond_broadcast(&r->hash_turn);
    pthread_mutex_unlock(&r->hash_lock);
}

csvr_status csvr_read_chunk(csvr_reader *r, csvr_chunk *chunk, const csvr_handlers *h, csvr_error *err)
{
    if (r->cache != NULL) {
        if (chunk->index >= colc_group_count(r->cache)) {
            set_error(err, CSVR_ERR_USAGE, r->path, 0, 0, -1, "not a chunk of this file's data");
            return CSVR_ERROR;
        }
        return replay_group(r, (size_t)chunk->index, h, err);
    }
    if (chunk->data == NULL || chunk->begin < r->data_begin || chunk->end > r->size ||
        chunk->begin > chunk->end) {
        set_error(err, CSVR_ERR_USAGE, r->path, 0, 0, -1, "not a chunk of this file's data");
        return CSVR_ERROR;
    }
    csvr_status st;
    if (!hash_chunk_in_turn(r, chunk)) {
        file_changed(r, chunk->first_line, err);
        st = CSVR_ERROR;
    } else {
        st = run_pass(r, (size_t)chunk->begin, (size_t)chunk->end, chunk->first_line, h, false, chunk->data,
                      (int64_t)chunk->index, err);
    }
    if (r->map != NULL) map_drop(r, (size_t)chunk->begin, (size_t)chunk->end);
    else free(chunk->data);
    chunk->data = NULL;
    if (r->cache_out != NULL) {
        /* the last chunk to finish, once every chunk is planned, ends the cache */
        pthread_mutex_lock(&r->cache_lock);
        uint64_t done = atomic_fetch_add(&r->cache_groups, 1) + 1;
        if (r->cache_planned_all && done == r->cache_planned) cache_finish(r, true);
        pthread_mutex_unlock(&r->cache_lock);
    }
    return st;
}
