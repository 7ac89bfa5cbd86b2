/* keystore.h — the distinct keys of one aggregate, partitioned by hash (prefix ks_).
 *
 * Owns: the keys that distinct() and sets collect over a pass, for every cell the
 * caller defines (the evaluator's cell is period × staff group), with a fixed-size
 * payload per (key, cell) that the caller accumulates into (the `having` slots).
 *
 * Why partitions: keys are counted per period and per staff member, so a large file
 * yields millions of (key, cell) entries. The store splits them by the key's hash
 * into KS_PARTITIONS tables, each with its own lock, and writers batch their
 * additions per partition, tens of megabytes of them before applying any. A batch is
 * applied to one table at a time, which then stays in cache for all the batch's
 * records (the radix-partitioned aggregation of column stores), and threads add to
 * one shared store under per-partition locks instead of filling private copies that
 * must be merged — merging re-inserted every entry.
 *
 * Two methods (the entries, payloads and walks are the same): hash tables, to which a
 * writer's batches are applied record by record, and sorted stores (ks_set_sorted, the
 * evaluator's), whose partitions keep the batches handed to them and merge them when
 * first read: records sorted by hash and cell, each (key, cell)'s entry made once. A
 * sorted partition whose keys repeat moves to hash tables in the middle of a pass.
 *
 * Keys are byte strings (the caller encodes non-text values); a key equals another
 * when its bytes do. A store knows nothing of rows, periods or accumulators: the
 * payload is opaque bytes, zeroed when its entry is created, and changed only by the
 * caller's apply and merge functions, which run with the partition's lock held.
 */
#ifndef KPIC_KEYSTORE_H
#define KPIC_KEYSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KS_PARTITION_BITS 8
#define KS_PARTITIONS     (1u << KS_PARTITION_BITS)
#define KS_NO_CELL        UINT32_MAX

/* Adds one record's contribution (EXTRA, as given to ks_add) to an entry's payload. */
typedef void (*ks_apply_fn)(void *ctx, void *payload, const void *extra);

/* Adds payload OTHER (an entry's, of the same key and cell) into PAYLOAD: as if the
 * records applied to OTHER had been applied to PAYLOAD. */
typedef void (*ks_merge_fn)(void *ctx, void *payload, const void *other);

typedef struct keystore keystore;
typedef struct ks_writer ks_writer;

/* A store whose entries carry PAYLOAD_SIZE bytes (0: keys only) and whose records
 * carry EXTRA_SIZE bytes for APPLY (0: none; APPLY may then be NULL). */
keystore *ks_new(size_t payload_size, size_t extra_size, ks_apply_fn apply, void *ctx);
/* Makes KS a sorted store, before anything is added (see above): MERGE adds one
 * entry's payload into another's (needed when the store has a payload). Less work and
 * memory per record when most records make entries of their own (a long range of
 * periods); a partition whose keys repeat takes to hash tables by itself. */
void ks_set_sorted(keystore *ks, ks_merge_fn merge);
void ks_free(keystore *ks);

/* The hash ks_add and ks_find expect for KEY (computed once per row by the caller,
 * who may add the same key to several stores). */
uint64_t ks_hash(const void *key, size_t len);

/* A writer buffers additions for one thread. Several writers may add to one store
 * at the same time. Additions are visible in the store once ks_writer_flush (or
 * ks_writer_free) has returned. */
ks_writer *ks_writer_new(keystore *ks);
/* How many bytes of records each writer of KS buffers before it applies them: set
 * before any is added (the default suits large passes; tests make it small). */
void ks_set_writer_budget(keystore *ks, size_t bytes);
/* Flushes what is buffered, then frees the writer. */
void ks_writer_free(ks_writer *w);
void ks_writer_flush(ks_writer *w);
/* Drops what is buffered (a failed pass), then frees the writer. */
void ks_writer_discard(ks_writer *w);

/* Records KEY (LEN bytes, hash H) in cell A and, unless B is KS_NO_CELL, in cell B,
 * adding EXTRA (extra_size bytes, copied) to the payload of each. */
void ks_add(ks_writer *w, uint64_t h, const void *key, size_t len, uint32_t cell_a, uint32_t cell_b,
            const void *extra);

/* The payload of KEY in CELL, or NULL when the key was never recorded there. The
 * store must not be written to meanwhile. Returns a non-NULL pointer for a store
 * without payload too (do not dereference it then). */
void *ks_find(const keystore *ks, uint64_t h, const void *key, size_t len, uint32_t cell);

/* One entry, as ks_next hands them out. A key's bytes are stored once per store:
 * entries of the same key have the same KEY pointer, so a walk can tell keys apart
 * without reading them (ks_key_len reads the length, next to the bytes). */
typedef struct ks_entry {
    const void *key; /* ks_key_len(key) bytes, not NUL-terminated */
    uint32_t cell;
    /* The walk hands out this key's entries one after another, in increasing cell
     * order, before any other key's (a sorted partition's entries): a caller summing a
     * key's cells needs no table of its own. */
    bool in_key_order;
    void *payload;
} ks_entry;

/* The length of a key as ks_next hands it out. */
size_t ks_key_len(const void *key);

/* Iterates every entry once, in no particular order (but see in_key_order): start
 * with *CURSOR = 0, and call until it returns false. The store must not be written to
 * meanwhile. */
bool ks_next(const keystore *ks, uint64_t *cursor, ks_entry *out);

/* Entries in the store, over all cells (a sorted store's records merged first). */
size_t ks_count(const keystore *ks);
/* At least ks_count, without merging anything: what a caller sizing work asks. */
size_t ks_count_bound(const keystore *ks);
/* The bytes of an entry's payload, as given to ks_new. */
size_t ks_payload_size(const keystore *ks);

/* ---- first sightings by hash (prefix ksf_) ----
 *
 * Owns: for a source's key check, the smallest ordinal under which each key hash was
 * added, and whether it was added more than once. Only the 64-bit hash is kept (16
 * bytes a key instead of the key's bytes), so "added more than once" may, with odds of
 * about n^2 / 2^65 for n keys, be two different keys: the caller confirms a repeat by
 * comparing the keys themselves, which it does only for the few hashes this flags.
 * Partitioned and batched like the key store, for several writers at once. */

typedef struct ks_firsts ks_firsts;
typedef struct ksf_writer ksf_writer;

ks_firsts *ksf_new(void);
void ksf_free(ks_firsts *f);
ksf_writer *ksf_writer_new(ks_firsts *f);
/* Flushes what is buffered, then frees the writer. */
void ksf_writer_free(ksf_writer *w);
/* Drops what is buffered, then frees the writer. */
void ksf_writer_discard(ksf_writer *w);
/* Records hash H under ORDINAL (below 2^63). */
void ksf_add(ksf_writer *w, uint64_t h, uint64_t ordinal);
/* After every writer is freed: whether H was added more than once, and then the
 * smallest ordinal it was added under (*FIRST). */
bool ksf_repeated(const ks_firsts *f, uint64_t h, uint64_t *first);
/* How many additions found their hash already there (any writer). */
uint64_t ksf_repeats(const ks_firsts *f);
/* Bytes the tables hold (for the performance notes). */
size_t ksf_bytes(const ks_firsts *f);

#endif
