/* hash.h — the two hash tables the evaluator needs: u64 → u32 maps and string interning.
 *
 * Owns: open-addressing tables that grow by doubling at half load, with a hash that
 * mixes all 64 bits (keys are often small consecutive integers: dates, row counts).
 * Nothing here knows about specs or rows.
 */
#ifndef KPIC_HASH_H
#define KPIC_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kpic/arena.h"

#define HMAP_NONE UINT32_MAX

/* A key and its value side by side, so that a probe touches one cache line: in the
 * evaluator's large tables (distinct keys) nearly every probe is a cache miss. */
typedef struct hmap_slot {
    uint64_t key;
    uint32_t val; /* HMAP_NONE marks an empty slot */
} hmap_slot;

typedef struct hmap {
    hmap_slot *slots; /* cap of them; iterate and skip val == HMAP_NONE */
    size_t cap, len;
} hmap;

void hmap_init(hmap *m);
void hmap_free(hmap *m);
/* The value stored for key, or HMAP_NONE. */
uint32_t hmap_get(const hmap *m, uint64_t key);
/* Stores val (not HMAP_NONE) for key, replacing any value. */
void hmap_put(hmap *m, uint64_t key, uint32_t val);
/* The value for key; when absent, stores val and returns HMAP_NONE. */
uint32_t hmap_get_or_put(hmap *m, uint64_t key, uint32_t val);

uint64_t hash_bytes(const void *data, size_t len);
/* BYTES for a hash table (freed with free): a table of a few megabytes or more is
 * asked to live on transparent huge pages, as a table that doubles writes a fresh one
 * and faulting it in by 4 KiB pages costs more than the rehash (the key store's
 * tables use it too). */
void *hash_table_alloc(size_t bytes);
uint64_t hash_u64(uint64_t x);

/* Interned strings: equal byte strings get equal ids 0, 1, 2, …
 * Each slot keeps 32 bits of the string's hash beside its id, so a probe that meets
 * another string is rejected without touching that string (two cache misses fewer). */
typedef struct strtab_slot {
    uint32_t id1; /* id + 1; 0 marks an empty slot */
    uint32_t tag; /* the hash's high 32 bits */
} strtab_slot;

typedef struct strtab_entry {
    const char *str; /* NUL-terminated, in mem */
    size_t len;
} strtab_entry;

typedef struct strtab {
    arena mem;             /* the strings */
    strtab_entry *entries; /* id → string */
    size_t count, entries_cap;
    strtab_slot *slots;
    size_t cap;
} strtab;

void strtab_init(strtab *t);
void strtab_free(strtab *t);
uint32_t strtab_intern(strtab *t, const char *s, size_t len);
/* The same with h == hash_bytes(s, len) already computed by the caller. Strings may
 * hold any bytes, NUL included. */
uint32_t strtab_intern_hashed(strtab *t, const char *s, size_t len, uint64_t h);
uint32_t strtab_find_hashed(const strtab *t, const char *s, size_t len, uint64_t h);
/* The id of an already interned string, or HMAP_NONE. */
uint32_t strtab_find(const strtab *t, const char *s, size_t len);
const char *strtab_str(const strtab *t, uint32_t id);
size_t strtab_len(const strtab *t, uint32_t id);

/* The lowercase hex SHA-256 of LEN bytes at DATA into HEX (65 bytes with the NUL): how
 * every output names the bytes it read. */
void hash_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
