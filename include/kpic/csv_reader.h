/* csv_reader.h — streaming, typed reading of CSV files on libcsv (prefix csvr_).
 *
 * Owns: opening a data file, its header row, turning the cells of the columns a
 * caller asks for into typed values (text, int, number, money, date, bool),
 * finding and describing bad rows (with the file's true line numbers and the
 * record's original bytes), splitting a file into chunks that threads can parse
 * independently, the SHA-256 of the file and progress counters.  It knows
 * nothing of specs, periods or aggregates, and it reports errors as a plain
 * csvr_error: routing them to the diagnostics system is the caller's job.
 *
 * The CSV dialect is the one libcsv parses (RFC 4180 plus leniency, with
 * libcsv's CSV_STRICT check after a closing quote), which this module documents
 * and relies on:
 *   - fields are separated by ',' and records end at LF, CRLF or a lone CR;
 *   - a field that starts with '"' is quoted: it may hold commas, line breaks and
 *     doubled quotes ("" stands for one ");
 *   - spaces and tabs around an unquoted field (a cell or a header name) are
 *     not part of it, and blank lines (empty or only spaces) are skipped; inside
 *     quotes every byte counts, so a quoted field is never trimmed;
 *   - a stray quote inside an unquoted field (5" screen) is an ordinary
 *     character;
 *   - a closing quote may be followed only by blanks and then ',' or the end of
 *     the record.  Anything else ("ab"c, or "ab"  "c) makes the record bad (see
 *     bad rows below) from its start to the end of the line where that text
 *     stands, and reading resumes on the next line: one damaged cell costs one
 *     row, not the rest of the file (leniently, libcsv would reopen the field);
 *   - the first record is the header, required; a UTF-8 byte-order mark before it
 *     is skipped.  Header names are matched exactly (bytes, case-sensitive);
 *     duplicate non-empty names are an error, empty names are allowed and can
 *     never be asked for, and a name holding a NUL byte is an error.  Columns
 *     not asked for are neither converted nor validated.
 *
 * Cells and null.  An empty cell is null, whatever its type -- and so is a quoted
 * empty cell "" (libcsv does not tell the two apart, and a spreadsheet export
 * writes either for "no value").  A text cell of one space, " ", is not null.
 *
 * Typed values (all locale-independent, no surrounding spaces inside quotes):
 *   text    any valid UTF-8 without NUL bytes (a NUL is almost always a corrupt
 *           export, and would truncate labels further down the line)
 *   int     [+-]digits, within int64
 *   number  a decimal as dec_parse() reads it, at most 18 places (decimal.h)
 *   money   the same with at most 2 places; more places are accepted only when
 *           they are zeros (12.300), because silently rounding input would lose
 *           money -- a sub-cent price belongs in a `number` column.  Money cells
 *           are dec_t values that are exact multiples of 0.01.
 *   date    YYYY-MM-DD, or a datetime YYYY-MM-DD[T ]HH:MM[:SS] of which the date
 *           is kept (date.h); every part is validated
 *   bool    true/false, 1/0, yes/no, in any case
 * A column given a declared format (csvr_set_format, cellfmt.h) reads its cells in
 * that form instead (`2025/05/03`, `¥1,200.00`, `是`), and only in that form.
 *
 * Encodings.  csvr_open reads UTF-8.  csvr_open_encoded reads a file in another
 * encoding by converting it whole to UTF-8 first (transcode.h); everything below
 * then applies to the UTF-8 text, whose lines are the file's.  A stream in another
 * encoding is held whole for that, so it may hold at most CSVR_ENCODED_STREAM_MAX
 * bytes (CSVR_ERR_TOO_LONG beyond).
 *
 * Bad rows.  A cell that does not convert, a row whose number of fields differs
 * from the header's (a "ragged" row), text after a closing quote, and a quoted
 * field left open at the end of the file each make the whole record bad.  A bad row is described by a
 * csvr_error whose position is `path:LINE:COL`: LINE is the 1-based physical
 * line on which the record starts (records continue over line breaks inside
 * quotes, and such lines are counted; a line break is LF, CRLF or a lone CR),
 * and COL is the 1-based FIELD NUMBER in the record, not a character column
 * (for a ragged row, the first missing or first extra field; for an open quote,
 * the field it opens).  When a row has several bad cells, the leftmost is
 * reported.  The caller decides per bad row whether to stop
 * (the default) or to skip it, and gets the record's exact original bytes for a
 * rejects file.
 *
 * Reading.  A regular file is mapped (mmap) and parsed in place, in 256 KiB
 * blocks of a window that starts at a known record boundary and slides forward as
 * libcsv passes record boundaries; the pages left behind are dropped from the
 * process, so resident memory stays about constant in the number of rows.  When
 * mmap is not possible, the file is read with pread(2) into such a window (it
 * grows only to hold one record longer than a block).  The file's size, mtime and
 * ctime are taken at csvr_open: a file truncated while it is read (which would
 * otherwise kill the process with SIGBUS), grown, or rewritten in place ends the
 * pass with CSVR_ERR_CHANGED, checked at the end of every pass and every chunk.
 *
 * Streams.  Any other file (a pipe, /dev/stdin, a device) is a stream: csvr_open
 * reads its first bytes with read(2) to find the header, and csvr_read reads the
 * rest in order, with read(2), through the same window, so memory is bounded by
 * one record too.  A stream's record longer than CSVR_RECORD_MAX is an error
 * (CSVR_ERR_TOO_LONG) on the line where it starts, so a device that never ends a
 * line (/dev/zero) stops.  A stream is read once, by csvr_read on the calling
 * thread: it cannot be split into chunks (csvr_is_seekable says so), nor hashed on
 * a helper thread (CSVR_HASH_IN_THREAD is ignored), nor opened again for a second
 * pass (CSVR_READ_AGAIN refuses it).  Its size is known only at its end
 * (csvr_progress).
 *
 * Chunks.  csvr_next_chunk() hands out consecutive byte ranges that each start
 * at a record boundary.  It finds them with a sequential scan that follows
 * libcsv's own quoting rules exactly (jumping from quote to quote with memchr),
 * not with a guess or a quote-parity heuristic: a boundary is never placed
 * inside a quoted field, however the quotes fall (a quote inside an
 * unquoted field, 5" screen, makes parity wrong), so rows parsed chunk by chunk are exactly
 * the rows of one sequential pass.  The same scan counts lines, so every chunk
 * knows the true file line it starts on, and keeps the bytes it read, so the
 * file is read once.  Chunks can then be parsed concurrently, each with its own
 * libcsv parser, in place.
 *
 * SHA-256.  The digest covers every byte of the file, in order, and is computed
 * during the pass that parses it: by csvr_read inline (or, with
 * CSVR_HASH_IN_THREAD, on a helper thread reading alongside the parse), or by
 * csvr_read_chunk, each chunk in its turn, from the bytes the chunk holds.
 * SHA-256 costs about a quarter of a bare libcsv parse and cannot be split: in
 * chunks it runs outside the planning lock every worker waits for.
 */
#ifndef KPIC_CSV_READER_H
#define KPIC_CSV_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kpic/date.h"
#include "kpic/decimal.h"

/* Column types, as declared in a spec's source block (docs/language.md §3).  Order
 * matters: csv_reader.c groups columns by type in this order, from CSVR_TEXT to
 * CSVR_BOOL, so keep the values consecutive with those two at the ends. */
typedef enum csvr_type {
    CSVR_TEXT,
    CSVR_INT,
    CSVR_NUMBER,
    CSVR_MONEY,
    CSVR_DATE,
    CSVR_BOOL,
} csvr_type;

/* The spec keyword of a type: "text", "int", "number", "money", "date", "bool". */
const char *csvr_type_name(csvr_type type);

/* A column the caller wants: its header name and the type to convert it to. */
typedef struct csvr_column {
    const char *name; /* NUL-terminated UTF-8; copied by csvr_open */
    csvr_type type;
} csvr_column;

/* A text value: LEN bytes at PTR, not NUL-terminated.  Valid only during the
 * row callback that received it. */
typedef struct csvr_text {
    const char *ptr;
    size_t len;
} csvr_text;

/* One typed cell.  When is_null is true the union is meaningless. */
typedef struct csvr_cell {
    bool is_null;
    /* A text cell replayed from a column cache that keeps its column as one prefix and
     * a fixed number of digits (ids such as C00272234): that number of digits, and in
     * ID the number they spell, so that a caller can look the value up by number; 0
     * for every other cell. Both sit in the padding before the union. */
    uint8_t id_digits;
    uint64_t id;
    union {
        int64_t i;      /* CSVR_INT */
        dec_t dec;      /* CSVR_NUMBER, CSVR_MONEY */
        date_t date;    /* CSVR_DATE */
        bool b;         /* CSVR_BOOL */
        csvr_text text; /* CSVR_TEXT */
    } as;
} csvr_cell;

/* Flags for csvr_open. */
enum {
    CSVR_NO_HASH = 1u << 0, /* skip the SHA-256 (csvr_sha256_hex then fails) */
    /* csvr_read hashes on a helper thread, alongside the parse, instead of inline (chunks
     * are always hashed by the threads parsing them) */
    CSVR_HASH_IN_THREAD = 1u << 1,
    /* a wanted column the header lacks is not an error for csvr_open: its cells are always
     * null, and the caller reports what is missing (the header is listed by
     * csvr_header_name) */
    CSVR_MISSING_COLUMNS_OK = 1u << 2,
    /* the caller has read this file before: a pipe or device cannot be read again, so
     * csvr_open fails (CSVR_ERR_IO) instead of reading what is left of it */
    CSVR_READ_AGAIN = 1u << 3,
};

typedef enum csvr_error_kind {
    CSVR_ERR_NONE = 0,
    CSVR_ERR_IO,     /* cannot open, stat or read the file */
    CSVR_ERR_NOMEM,  /* out of memory */
    CSVR_ERR_HEADER, /* no header, duplicate names, a wanted column missing */
    CSVR_ERR_CELL,   /* a wanted cell does not convert to its type */
    CSVR_ERR_RAGGED, /* a record with more or fewer fields than the header */
    /* a quoted field still open at the end of the file, or text after a closing quote */
    CSVR_ERR_QUOTE,
    CSVR_ERR_USAGE, /* the API was misused (bad column list, reader reused) */
    /* a record of a stream longer than CSVR_RECORD_MAX, or a stream in a declared encoding
     * longer than CSVR_ENCODED_STREAM_MAX */
    CSVR_ERR_TOO_LONG,
    CSVR_ERR_INTERNAL, /* a broken internal invariant (a bug: please report) */
    CSVR_ERR_ENCODING, /* bytes not valid in the file's declared encoding */
    /* a regular file truncated, grown or rewritten while it was read (its size, mtime or
     * ctime moved): the records read cannot be trusted; line: where the pass was, or 0 */
    CSVR_ERR_CHANGED,
    /* a pass replayed from the column cache met a cache group that is damaged, or the
     * cache file was truncated or rewritten while it was replayed: the rows delivered so
     * far must be dropped and the file read again with CSVR_CACHE_REBUILD (csvr_cache_note
     * says why, for a note: this is no error of the data) */
    CSVR_ERR_CACHE,
} csvr_error_kind;

/* The longest record a file that is not a regular file (a pipe, /dev/stdin) may
 * hold: such a stream's window grows to hold its current record, and one record
 * that never ends (/dev/zero) must not take all memory. */
#define CSVR_RECORD_MAX (64u << 20)

/* The most a stream in a declared encoding may hold: it is converted whole, in
 * memory (csvr_open_encoded). */
#define CSVR_ENCODED_STREAM_MAX (256u << 20)

#define CSVR_PATH_MAX    4096
#define CSVR_MESSAGE_MAX 1024

/* A plain error description.  Strings are truncated to fit, never overflowed. */
typedef struct csvr_error {
    csvr_error_kind kind;
    char path[CSVR_PATH_MAX]; /* the file, as given to csvr_open */
    uint64_t line;            /* 1-based line where the record starts; 0: the whole file */
    uint64_t field;           /* 1-based field number in the record; 0: none */
    int column;               /* index into the wanted columns, or -1 */
    /* e.g. bad money value "12,3x" in column 'amount': not a decimal number */
    char message[CSVR_MESSAGE_MAX];
} csvr_error;

/* Formats E as one diagnostic line, without a newline:
 *     path:LINE:COL: error: message    (line and field known)
 *     path:LINE: error: message        (line known)
 *     path: error: message
 * into BUF (NUL-terminated if SIZE > 0); returns the full length like snprintf. */
size_t csvr_error_format(const csvr_error *e, char *buf, size_t size);

typedef struct csvr_reader csvr_reader;
struct csvr_pass; /* private: the state of one pass over a range of records */

/* A good record as delivered to the row callback. */
typedef struct csvr_row {
    const csvr_cell *cells; /* one per wanted column, in the order given to csvr_open */
    struct csvr_pass *pass; /* private */
    uint64_t record;        /* private: index of the record within its pass */
    /* the row's date was handed to the on_dates callback already (a replayed pass,
     * csvr_handlers), which accounted for it: only its other uses remain */
    bool dated;
} csvr_row;

/* The 1-based line on which ROW's record starts.  Computed on demand (it scans
 * forward from the last record located), so it costs nothing unless called;
 * calling it for every row roughly doubles the cost of a pass.  Only valid
 * inside the row callback. */
uint64_t csvr_row_line(const csvr_row *row);

/* The record's original bytes (without its line terminator) in *LEN bytes;
 * valid until the next call for the pass or its end (they are a copy: the caller
 * never reads the mapped file).  Same cost note as csvr_row_line. */
const char *csvr_row_raw(const csvr_row *row, size_t *len);

/* A bad record, as given to the bad-row callback. */
typedef struct csvr_bad_row {
    const csvr_error *error; /* what is wrong, with path, line and field */
    const char *raw;         /* the record's original bytes, line breaks inside quotes */
    size_t raw_len;          /* included, its own terminator excluded */
} csvr_bad_row;

typedef enum csvr_verdict {
    CSVR_STOP = 0, /* end the pass with this error */
    CSVR_SKIP = 1, /* drop the row and go on (--skip-bad-rows) */
} csvr_verdict;

/* Row callback: return true to go on, false to stop the pass (CSVR_STOPPED). */
typedef bool (*csvr_row_fn)(void *ctx, const csvr_row *row);

/* Bad-row callback: decide what to do with one bad row.  The pointers in BAD are
 * valid only during the call. */
typedef csvr_verdict (*csvr_bad_fn)(void *ctx, const csvr_bad_row *bad);

/* Dates callback of a replayed pass: the dates column of N rows (row i's date DAYS[i],
 * or null where IS_NULL[i]), before any other cell of theirs is decoded.  Sets
 * WANTED[i] for the rows on_row must get; the others are never decoded nor handed
 * out.  Returns false to stop the pass. */
typedef bool (*csvr_dates_fn)(void *ctx, const date_t *days, const unsigned char *is_null, size_t n,
                              unsigned char *wanted);

typedef struct csvr_handlers {
    csvr_row_fn on_row; /* required */
    csvr_bad_fn on_bad; /* NULL: stop at the first bad row */
    void *ctx;          /* passed to all three */
    /* Optional (NULL: every row goes to on_row), and used only where the pass replays
     * a column cache (csvr_use_cache): most rows of a one-period run lie outside its
     * windows, and a replay can tell which from one column without decoding the rest.
     * ON_DATES sees the wanted column DATES_COLUMN (a date) of each batch of rows that
     * holds no bad row; a row it wants reaches on_row with `dated` set.  Rows of
     * batches with a bad row reach on_row as in a parse, `dated` false. */
    csvr_dates_fn on_dates;
    size_t dates_column;
} csvr_handlers;

typedef enum csvr_status {
    CSVR_OK = 0,  /* every record was read */
    CSVR_ERROR,   /* the pass ended on an error, described in *err */
    CSVR_STOPPED, /* the row callback returned false; *err untouched */
} csvr_status;

/* Opens the CSV file PATH, reads its header and checks that every one of the
 * N_WANTED columns in WANTED is present (names and types are copied).  Returns
 * NULL and fills *ERR when the file cannot be opened or read (the message names
 * the OS reason), is empty or has no header row, has duplicate header names, or
 * lacks a wanted column (the message names it and lists the header).  FLAGS is
 * a combination of CSVR_NO_HASH and CSVR_HASH_IN_THREAD.  The file contents are
 * not read beyond the header until a pass runs. */
csvr_reader *csvr_open(const char *path, const csvr_column *wanted, size_t n_wanted, unsigned flags,
                       csvr_error *err);

/* Like csvr_open, but reads SIZE bytes at DATA (not copied: they must stay valid
 * and unchanged until csvr_close).  NAME is used in messages in place of a path.
 * Used by tests and the fuzzer. */
csvr_reader *csvr_open_memory(const char *name, const void *data, size_t size, const csvr_column *wanted,
                              size_t n_wanted, unsigned flags, csvr_error *err);

/* Like csvr_open, for a file written in ENCODING (an iconv name; NULL or UTF-8: the
 * same as csvr_open).  The whole file is read and converted to UTF-8 in memory
 * (transcode.h) before its header is read, so its passes, chunks and line numbers
 * are those of the UTF-8 text, which has the file's own lines; the SHA-256 is the
 * digest of the file's bytes as they are on disk, computed at open (CSVR_NO_HASH
 * skips it).  A stream (a pipe) is read whole here, up to CSVR_ENCODED_STREAM_MAX
 * bytes: a longer one is a CSVR_ERR_TOO_LONG error, with no line.  A byte sequence that is not valid in ENCODING is a CSVR_ERR_ENCODING
 * error on its line that names the encoding the file looks like. */
csvr_reader *csvr_open_encoded(const char *path, const char *encoding, const csvr_column *wanted,
                               size_t n_wanted, unsigned flags, csvr_error *err);

/* Releases R and everything it owns.  R may be NULL. */
void csvr_close(csvr_reader *r);

/* Whether R can be read in chunks: false for a stream (a pipe, /dev/stdin, a
 * device), which only csvr_read can read, once, in order. */
bool csvr_is_seekable(const csvr_reader *r);

/* The path (or name) R was opened with. */
const char *csvr_path(const csvr_reader *r);

/* Number of fields in R's header. */
size_t csvr_header_size(const csvr_reader *r);

/* Name of header field I (0-based, < csvr_header_size), NUL-terminated as libcsv
 * read it (quotes removed, blanks around an unquoted name trimmed); valid until
 * csvr_close.  For "did you mean" hints and listings. */
const char *csvr_header_name(const csvr_reader *r, size_t i);

/* The header's names for a message, into BUF (capacity CAP, NUL-terminated):
 * "id, staff_id, amount", each name escaped as in cell messages (invalid UTF-8 as
 * \xNN, control characters), a name with blanks around it or an empty one in
 * double quotes, and ", ..." when the list does not fit. */
void csvr_header_listing(const csvr_reader *r, char *buf, size_t cap);

struct cfmt;

/* Reads the cells of wanted column W (0-based, in the order given to csvr_open) with
 * the declared format F instead of the default syntax above: a CFMT_DATE format for
 * a date column, CFMT_NUMBER for an int, number or money column, CFMT_BOOL for a
 * bool column (cellfmt.h); F is copied.  A cell that does not follow F is bad, with
 * a message that shows F.  Call before the pass; false with *ERR filled
 * (CSVR_ERR_USAGE) for a format the column's type does not take, or after a pass
 * has started. */
bool csvr_set_format(csvr_reader *r, size_t w, const struct cfmt *f, csvr_error *err);

/* The header name that NAME differs from only in case (ASCII letters) or in blanks
 * around it (spaces, tabs, the ideographic space U+3000), for a "did you mean" hint when NAME is not in R's header; NULL when no
 * header name is that close.  Valid until csvr_close. */
const char *csvr_header_near(const csvr_reader *r, const char *name);

/* When R's header names are not valid UTF-8 (R was opened as UTF-8), the encoding
 * they look like ("GB18030", "UTF-16": transcode.h), for the hint of a column that is
 * not found; NULL otherwise. */
const char *csvr_header_looks_like(const csvr_reader *r);

/* Reads every data record of R in order, on the calling thread: for each good
 * record calls H->on_row, for each bad one H->on_bad (or stops when it is NULL).
 * Computes the SHA-256 as it goes (unless CSVR_NO_HASH).  A reader supports one
 * pass only: either csvr_read, or chunks.  Returns CSVR_OK, CSVR_STOPPED, or
 * CSVR_ERROR with *ERR filled (a bad row not skipped, out of memory, misuse). */
csvr_status csvr_read(csvr_reader *r, const csvr_handlers *h, csvr_error *err);

/* A range of whole records of R's data, to be parsed on its own. */
typedef struct csvr_chunk {
    uint64_t begin, end; /* byte offsets in the file: [begin, end) */
    uint64_t first_line; /* the physical line on which BEGIN lies */
    uint64_t index;      /* 0, 1, 2 ... in file order */
    /* private: the chunk's bytes, read by csvr_next_chunk and released by csvr_read_chunk
     * or csvr_chunk_discard */
    unsigned char *data;
} csvr_chunk;

typedef enum csvr_plan {
    CSVR_PLAN_DONE = 0,  /* no more data */
    CSVR_PLAN_CHUNK = 1, /* *out holds the next chunk */
    CSVR_PLAN_ERROR = -1 /* reading failed; *err says why */
} csvr_plan;

/* Plans the next chunk: the bytes from where the previous chunk ended to the
 * first record boundary at least TARGET_BYTES later (or the end of the file),
 * so that every chunk holds at least one record unless only blank lines are
 * left.  Reads those bytes into memory the chunk keeps (so memory is about one
 * chunk per thread, plus the longest record), where csvr_read_chunk parses and
 * hashes them: every chunk must be passed to csvr_read_chunk or to
 * csvr_chunk_discard.  Not thread-safe: callers that plan from several threads
 * must hold a lock around this call; planning is several times faster than
 * parsing, so one lock does not starve the workers. */
csvr_plan csvr_next_chunk(csvr_reader *r, size_t target_bytes, csvr_chunk *out, csvr_error *err);

/* Parses the records of CHUNK (from csvr_next_chunk on R) like csvr_read does,
 * with line numbers true to the file, and releases its bytes.  Several threads
 * may parse different chunks of one reader at the same time; callbacks then run
 * on those threads.  Bad rows of different chunks arrive in no particular order:
 * order them by chunk index (or by line) if order matters.
 *
 * The digest is computed here, chunk by chunk in file order: a call first waits
 * until every earlier chunk has been hashed by its own csvr_read_chunk.  So a
 * thread must not hold a planned chunk unread while it reads a later one, and
 * all chunks hashed means the digest is complete. */
csvr_status csvr_read_chunk(csvr_reader *r, csvr_chunk *chunk, const csvr_handlers *h, csvr_error *err);

/* Releases a planned chunk that will not be parsed (a pass given up), and gives
 * up the digest: later csvr_read_chunk calls no longer wait to hash. */
void csvr_chunk_discard(csvr_reader *r, csvr_chunk *chunk);

/* Bytes of the file parsed so far and its total size, for a progress display.
 * Safe to call from any thread at any time. */
void csvr_progress(const csvr_reader *r, uint64_t *bytes_done, uint64_t *bytes_total);

/* The column cache (colcache.h).  Makes R's pass use the cache directory DIR: when
 * it starts, a cache written for this file (the same device, inode, size, mtime and
 * ctime) and these wanted columns and formats is replayed instead of reading the
 * file -- the same rows and bad rows through the same callbacks, in chunks (one per
 * cache group) or sequentially, and the digest it recorded; otherwise the pass reads
 * the file and writes a new cache file (mode 0600, DIR made 0700) as it goes,
 * renamed into place once the whole pass went well.  With CSVR_CACHE_VERIFY the
 * file is hashed anyway and a cache whose recorded digest differs is refused.  Not
 * for a stream, a file in another encoding or read from memory, nor a second pass
 * without a digest (CSVR_NO_HASH): those read the file as usual.  On a replayed pass,
 * csvr_row_line gives 0 and csvr_row_raw an empty record: a caller that needs the
 * lines or bytes of good rows must not use the cache.  A replayed pass can end with
 * CSVR_ERR_CACHE after it delivered rows (colcache.h, "Trust"): the caller drops them
 * and reads again with a new reader and CSVR_CACHE_REBUILD.  Call after
 * csvr_set_format, before the pass; false when a pass has started or out of memory. */
enum {
    CSVR_CACHE_VERIFY = 1u << 0,
    /* never replay: read the file and write a new cache (after a replay that ended with
     * CSVR_ERR_CACHE) */
    CSVR_CACHE_REBUILD = 1u << 1,
};
bool csvr_use_cache(csvr_reader *r, const char *dir, unsigned flags);

/* Tells R that its row callbacks read the cells of wanted column W only when USED[W]
 * (N_WANTED entries, copied).  A pass replayed from the column cache then does not
 * decode the other columns: their cells are null.  A pass over the file converts and
 * checks every wanted column whatever this says: a bad cell is bad whether it is read
 * or not.  Call before the pass; false after it started or out of memory. */
bool csvr_set_used_columns(csvr_reader *r, const bool *used);

/* A note about R's cache for stderr -- a damaged, foreign or refused cache ignored, a
 * cache that could not be written -- or NULL. */
const char *csvr_cache_note(const csvr_reader *r);

/* Whether R's pass was replayed from its cache. */
bool csvr_cache_replayed(const csvr_reader *r);

/* Writes the file's SHA-256 as 64 lowercase hex digits and a NUL into HEX and
 * returns true, once a pass has covered the whole file; false before that, or
 * with CSVR_NO_HASH. */
bool csvr_sha256_hex(const csvr_reader *r, char hex[65]);

#endif /* KPIC_CSV_READER_H */
