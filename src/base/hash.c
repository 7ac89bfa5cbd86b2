/* hash.c — u64 maps and string interning (see hash.h). */
#define _DEFAULT_SOURCE /* madvise, posix_memalign */
#include "kpic/hash.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

uint64_t hash_u64(uint64_t x)
{
    /* splitmix64's finaliser: every input bit reaches every output bit */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

uint64_t hash_bytes(const void *data, size_t len)
{
    /* FNV-1a, then mixed: short keys (ids, names) dominate */
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return hash_u64(h ^ len);
}

/* Tables of a few megabytes and more (the evaluator's distinct keys reach gigabytes)
 * are asked to live on transparent huge pages: each doubling writes a fresh table,
 * and faulting it in 4 KiB pages cost more than the rehash itself (measured in
 * docs/performance.md). Where the kernel says no, they are ordinary pages. */
#define HUGE_PAGE (2u << 20)

void *hash_table_alloc(size_t bytes)
{
    if (bytes < HUGE_PAGE) return xmalloc(bytes);
    void *p = NULL;
    if (posix_memalign(&p, HUGE_PAGE, bytes) != 0) return xmalloc(bytes);
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE);
#endif
    return p;
}

void hmap_init(hmap *m)
{
    memset(m, 0, sizeof *m);
}

void hmap_free(hmap *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static void hmap_grow(hmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    hmap_slot *slots = hash_table_alloc(cap * sizeof *slots);
    for (size_t i = 0; i < cap; i++) slots[i].val = HMAP_NONE;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].val == HMAP_NONE) continue;
        size_t j = hash_u64(m->slots[i].key) & (cap - 1);
        while (slots[j].val != HMAP_NONE) j = (j + 1) & (cap - 1);
        slots[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
}

uint32_t hmap_get(const hmap *m, uint64_t key)
{
    if (!m->cap) return HMAP_NONE;
    size_t j = hash_u64(key) & (m->cap - 1);
    while (m->slots[j].val != HMAP_NONE) {
        if (m->slots[j].key == key) return m->slots[j].val;
        j = (j + 1) & (m->cap - 1);
    }
    return HMAP_NONE;
}

uint32_t hmap_get_or_put(hmap *m, uint64_t key, uint32_t val)
{
    if ((m->len + 1) * 4 > m->cap * 3) hmap_grow(m);
    size_t j = hash_u64(key) & (m->cap - 1);
    while (m->slots[j].val != HMAP_NONE) {
        if (m->slots[j].key == key) return m->slots[j].val;
        j = (j + 1) & (m->cap - 1);
    }
    m->slots[j].key = key;
    m->slots[j].val = val;
    m->len++;
    return HMAP_NONE;
}

void hmap_put(hmap *m, uint64_t key, uint32_t val)
{
    if ((m->len + 1) * 4 > m->cap * 3) hmap_grow(m);
    size_t j = hash_u64(key) & (m->cap - 1);
    while (m->slots[j].val != HMAP_NONE) {
        if (m->slots[j].key == key) {
            m->slots[j].val = val;
            return;
        }
        j = (j + 1) & (m->cap - 1);
    }
    m->slots[j].key = key;
    m->slots[j].val = val;
    m->len++;
}

void strtab_init(strtab *t)
{
    memset(t, 0, sizeof *t);
    arena_init(&t->mem);
}

void strtab_free(strtab *t)
{
    arena_free(&t->mem);
    free(t->entries);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

/* The slot holding s (*found) or the empty slot where it would go. */
static size_t strtab_probe(const strtab *t, const char *s, size_t len, uint64_t h, bool *found)
{
    uint32_t tag = (uint32_t)(h >> 32);
    size_t j = h & (t->cap - 1);
    while (t->slots[j].id1) {
        if (t->slots[j].tag == tag) {
            const strtab_entry *e = &t->entries[t->slots[j].id1 - 1];
            if (e->len == len && memcmp(e->str, s, len) == 0) {
                *found = true;
                return j;
            }
        }
        j = (j + 1) & (t->cap - 1);
    }
    *found = false;
    return j;
}

uint32_t strtab_find_hashed(const strtab *t, const char *s, size_t len, uint64_t h)
{
    if (!t->cap) return HMAP_NONE;
    bool found;
    size_t j = strtab_probe(t, s, len, h, &found);
    return found ? t->slots[j].id1 - 1 : HMAP_NONE;
}

uint32_t strtab_find(const strtab *t, const char *s, size_t len)
{
    return strtab_find_hashed(t, s, len, hash_bytes(s, len));
}

static void strtab_grow(strtab *t)
{
    size_t cap = t->cap ? t->cap * 2 : 64;
    strtab_slot *slots = hash_table_alloc(cap * sizeof *slots);
    memset(slots, 0, cap * sizeof *slots);
    for (size_t id = 0; id < t->count; id++) {
        uint64_t h = hash_bytes(t->entries[id].str, t->entries[id].len);
        size_t j = h & (cap - 1);
        while (slots[j].id1) j = (j + 1) & (cap - 1);
        slots[j].id1 = (uint32_t)id + 1;
        slots[j].tag = (uint32_t)(h >> 32);
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
}

uint32_t strtab_intern(strtab *t, const char *s, size_t len)
{
    return strtab_intern_hashed(t, s, len, hash_bytes(s, len));
}

uint32_t strtab_intern_hashed(strtab *t, const char *s, size_t len, uint64_t h)
{
    if ((t->count + 1) * 2 > t->cap) strtab_grow(t);
    bool found;
    size_t j = strtab_probe(t, s, len, h, &found);
    if (found) return t->slots[j].id1 - 1;
    if (t->count == t->entries_cap) {
        t->entries_cap = t->entries_cap ? t->entries_cap * 2 : 64;
        t->entries = xrealloc(t->entries, t->entries_cap * sizeof *t->entries);
    }
    uint32_t id = (uint32_t)t->count++;
    t->entries[id].str = arena_strndup(&t->mem, s, len);
    t->entries[id].len = len;
    t->slots[j].id1 = id + 1;
    t->slots[j].tag = (uint32_t)(h >> 32);
    return id;
}

const char *strtab_str(const strtab *t, uint32_t id)
{
    return id < t->count ? t->entries[id].str : NULL;
}

size_t strtab_len(const strtab *t, uint32_t id)
{
    return id < t->count ? t->entries[id].len : 0;
}

void hash_sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(ctx, data, len) == 1 && EVP_DigestFinal_ex(ctx, digest, &n) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok || n != 32) {
        fputs("kpic: SHA-256 is not available from libcrypto\n", stderr);
        abort();
    }
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < 32; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    hex[64] = '\0';
}
