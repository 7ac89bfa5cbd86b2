/* colcache.h — the column cache: a source's typed rows kept between runs (prefix colc_).
 *
 * Owns: the cache file's format, writing it (atomically: a temporary file renamed into
 * place) and reading it back (mapped), with every byte of it distrusted.  It knows the
 * reader's typed cells (csv_reader.h) and nothing of specs or evaluation: the reader
 * feeds it the rows of a pass and replays them from it on a later run (csv_reader.c),
 * through the same row and bad-row callbacks, so its callers cannot tell the two apart.
 *
 * What a cache file holds, for one data file read with one list of wanted columns (its
 * names, types and declared formats): the good rows' cells, column by column, in groups
 * of rows (a group is a chunk of the pass that wrote it, or a part of one), each column
 * of each group in the smallest of a few encodings (colcache.c: values as offsets from
 * the group's smallest in 0 to 8 bytes, text of one prefix and digits as such a number,
 * other text dictionary-encoded with 1- to 4-byte ids or none when every value differs,
 * bools as bits, no null bitmap without nulls); every bad row with its place among the
 * good rows, its error (line, field, column, kind, message) and its original bytes; the
 * file's SHA-256 as the pass computed it; and the file's identity when it was read:
 * device, inode, size, mtime and ctime in nanoseconds.  Good rows' lines are not kept.
 *
 * Trust.  A cache is used only when that identity is the file's now and the column list
 * is the caller's (both are in the key given to colc_open).  colc_open checks the header
 * and the directory (magic, version, size, checksum, every group's place); a group is
 * checked when it is replayed, on a private copy taken from the file under the SIGBUS
 * guard (mapguard.h): its checksum, every offset and count against its size, every
 * dictionary id, date and bool in range.  So a truncated, corrupted or foreign file is
 * refused at open when its header or directory shows it, and otherwise when the group
 * that shows it is replayed -- also when the file is truncated or rewritten in place
 * while a run replays it -- before a single row of that group is handed out.  Rows of
 * earlier groups may have been: the caller must then drop what the replay gave it
 * (csv_reader.c ends the pass with CSVR_ERR_CACHE, and the evaluator reads the file).
 */
#ifndef KPIC_COLCACHE_H
#define KPIC_COLCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kpic/csv_reader.h"

/* What makes a cache file the right one: the data file's identity and a digest of the
 * path and the wanted columns (names, types, formats). */
typedef struct colc_key {
    uint64_t dev, ino, size;
    int64_t mtime_sec, mtime_nsec, ctime_sec, ctime_nsec;
    unsigned char columns[32];
} colc_key;

/* ---- building: one group of rows at a time -------------------------------------- */

typedef struct colc_group colc_group;

/* A new empty group for N_COLS columns of TYPES, covering the data file's bytes
 * [FILE_BEGIN, FILE_END) (for progress on replay; the end may be set later). */
colc_group *colc_group_new(const csvr_type *types, size_t n_cols, uint64_t file_begin);

/* The most rows a group holds. */
#define COLC_GROUP_ROWS_MAX (1u << 16)

/* Adds a good row: its cells (one per column).  False when out of memory or past the
 * format's limits, COLC_GROUP_ROWS_MAX rows among them (the group is then unusable). */
bool colc_group_add_row(colc_group *g, const csvr_cell *cells);

/* Adds a bad row, before the next good row: its error and original bytes. */
bool colc_group_add_bad(colc_group *g, const csvr_error *e, const char *raw, size_t raw_len);

/* Rows added so far (good ones). */
uint64_t colc_group_rows(const colc_group *g);

void colc_group_free(colc_group *g);

/* ---- writing a cache file -------------------------------------------------------- */

typedef struct colc_writer colc_writer;

/* Starts writing the cache file PATH (its directory must exist): a temporary file next
 * to it, mode 0600.  NULL with the reason in WHY when it cannot be created. */
colc_writer *colc_writer_new(const char *path, char *why, size_t why_size);

/* Serialises group G as the group with index INDEX (groups are replayed in index
 * order; indexes need not be consecutive), covering file bytes up to FILE_END, and
 * frees G.  Thread-safe.  False when writing failed (a full disk): the writer is then
 * broken and colc_writer_commit fails. */
bool colc_writer_add(colc_writer *w, uint64_t index, uint64_t file_end, colc_group *g);

/* Finishes the file with KEY and the data file's SHA-256 and renames it into place:
 * another run sees either the old file or the whole new one, never a part.  False
 * (and nothing left behind) when any write failed.  Frees W either way. */
bool colc_writer_commit(colc_writer *w, const colc_key *key, const unsigned char sha256[32], char *why,
                        size_t why_size);

/* Drops the temporary file and frees W.  W may be NULL. */
void colc_writer_abort(colc_writer *w);

/* ---- reading a cache file -------------------------------------------------------- */

typedef struct colc_table colc_table;

/* Opens the cache file PATH for KEY, with column TYPES.  NULL when there is no such
 * file (WHY "") or it cannot be used: another key (the data file or the columns
 * changed), another format version, a bad header or directory checksum, a group out of
 * bounds (WHY says which, for a note).  The file is mapped, and read only under the
 * SIGBUS guard. */
colc_table *colc_open(const char *path, const colc_key *key, const csvr_type *types, size_t n_cols, char *why,
                      size_t why_size);

/* Like colc_open over SIZE bytes at DATA (not copied; they must outlive the table),
 * for the fuzzer and tests.  KEY NULL: any key.  With CHECK_SUMS false the checksums
 * are not verified, so that a fuzzer reaches the structural checks behind them. */
colc_table *colc_open_bytes(const void *data, size_t size, const colc_key *key, const csvr_type *types,
                            size_t n_cols, bool check_sums, char *why, size_t why_size);

void colc_close(colc_table *t);

/* The data file's SHA-256, as recorded. */
const unsigned char *colc_sha256(const colc_table *t);

size_t colc_group_count(const colc_table *t);

/* Group I's byte range in the data file and the line of its first byte. */
void colc_group_range(const colc_table *t, size_t i, uint64_t *file_begin, uint64_t *file_end);

/* Callbacks of a replay: ROW gets a good row's cells (text valid during the call) and
 * whether DATES saw the row first, BAD a bad row; each returns false to stop the
 * replay.  DATES is optional (NULL: every row is decoded and goes to ROW): for each
 * batch of rows without a bad row it gets the date column DATES_COLUMN first (the
 * csvr_dates_fn contract, csv_reader.h) and marks the rows to decode and hand to ROW;
 * SKIPPED (required with DATES) is told, in order, how many good rows were left out. */
typedef struct colc_sink {
    bool (*row)(void *ctx, const csvr_cell *cells, bool dated);
    bool (*bad)(void *ctx, const csvr_error *e, const char *raw, size_t raw_len);
    void *ctx;
    csvr_dates_fn dates;
    size_t dates_column;
    void (*skipped)(void *ctx, uint64_t rows);
} colc_sink;

typedef enum colc_status {
    COLC_DONE = 0, /* every row and bad row of the group was handed out */
    COLC_STOPPED,  /* a callback returned false */
    /* the group is damaged, or the file was truncated under the run: nothing of this group
     * was handed out; WHY says what */
    COLC_BAD,
} colc_status;

/* Replays group I's rows and bad rows in their order in the file, filling error paths
 * with PATH, from a checked private copy of the group (text cells point into it, valid
 * during the callback).  DECODE (NULL: every column) says which columns' cells are
 * decoded; the others are handed out null, for a caller that never reads them, and
 * only their layout is checked (the values of a decoded column are checked too: every
 * date and id in range).  Thread-safe: groups may be replayed concurrently. */
colc_status colc_replay(const colc_table *t, size_t i, const char *path, const colc_sink *sink,
                        const bool *decode, char *why, size_t why_size);

/* ---- the cache directory --------------------------------------------------------- */

/* What a cache directory holds: cache files, and temporary files left by killed runs. */
typedef struct colc_dir_stats {
    uint64_t files, bytes;
    uint64_t temporary_files, temporary_bytes;
    int64_t oldest, newest; /* last use (the file's mtime, seconds) */
} colc_dir_stats;

/* Counts the cache files of DIR (none when it does not exist); false when it cannot be
 * read. */
bool colc_dir_info(const char *dir, colc_dir_stats *stats);

/* Removes every cache file of DIR, and temporary files an hour old; counts them in
 * *REMOVED.  False when DIR cannot be read. */
bool colc_dir_clear(const char *dir, colc_dir_stats *removed);

/* The size cap: removes DIR's least recently used cache files (a replay marks a file
 * used) until the files there take at most MAX_BYTES. */
void colc_dir_evict(const char *dir, uint64_t max_bytes);

/* The cap kpic keeps its cache directory under. */
#define COLC_DIR_MAX_BYTES (8ull << 30)

#endif /* KPIC_COLCACHE_H */
