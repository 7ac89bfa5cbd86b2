/* hash.c — u64 maps and string interning (see hash.h). */
#include "kpic/hash.h"

#include <stdlib.h>
#include <string.h>

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

void hmap_init(hmap *m)
{
    memset(m, 0, sizeof *m);
}

void hmap_free(hmap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static void hmap_grow(hmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    uint64_t *keys = xmalloc(cap * sizeof *keys);
    uint32_t *vals = xmalloc(cap * sizeof *vals);
    memset(vals, 0xff, cap * sizeof *vals);
    for (size_t i = 0; i < m->cap; i++) {
        if (m->vals[i] == HMAP_NONE) continue;
        size_t j = hash_u64(m->keys[i]) & (cap - 1);
        while (vals[j] != HMAP_NONE) j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
}

uint32_t hmap_get(const hmap *m, uint64_t key)
{
    if (!m->cap) return HMAP_NONE;
    size_t j = hash_u64(key) & (m->cap - 1);
    while (m->vals[j] != HMAP_NONE) {
        if (m->keys[j] == key) return m->vals[j];
        j = (j + 1) & (m->cap - 1);
    }
    return HMAP_NONE;
}

uint32_t hmap_get_or_put(hmap *m, uint64_t key, uint32_t val)
{
    if ((m->len + 1) * 2 > m->cap) hmap_grow(m);
    size_t j = hash_u64(key) & (m->cap - 1);
    while (m->vals[j] != HMAP_NONE) {
        if (m->keys[j] == key) return m->vals[j];
        j = (j + 1) & (m->cap - 1);
    }
    m->keys[j] = key;
    m->vals[j] = val;
    m->len++;
    return HMAP_NONE;
}

void hmap_put(hmap *m, uint64_t key, uint32_t val)
{
    if ((m->len + 1) * 2 > m->cap) hmap_grow(m);
    size_t j = hash_u64(key) & (m->cap - 1);
    while (m->vals[j] != HMAP_NONE) {
        if (m->keys[j] == key) {
            m->vals[j] = val;
            return;
        }
        j = (j + 1) & (m->cap - 1);
    }
    m->keys[j] = key;
    m->vals[j] = val;
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
    free(t->strs);
    free(t->lens);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

uint32_t strtab_find(const strtab *t, const char *s, size_t len)
{
    if (!t->cap) return HMAP_NONE;
    size_t j = hash_bytes(s, len) & (t->cap - 1);
    while (t->slots[j]) {
        uint32_t id = t->slots[j] - 1;
        if (t->lens[id] == len && memcmp(t->strs[id], s, len) == 0) return id;
        j = (j + 1) & (t->cap - 1);
    }
    return HMAP_NONE;
}

static void strtab_grow(strtab *t)
{
    size_t cap = t->cap ? t->cap * 2 : 64;
    uint32_t *slots = xcalloc(cap, sizeof *slots);
    for (size_t id = 0; id < t->count; id++) {
        size_t j = hash_bytes(t->strs[id], t->lens[id]) & (cap - 1);
        while (slots[j]) j = (j + 1) & (cap - 1);
        slots[j] = (uint32_t)id + 1;
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
}

uint32_t strtab_intern(strtab *t, const char *s, size_t len)
{
    uint32_t id = strtab_find(t, s, len);
    if (id != HMAP_NONE) return id;
    if ((t->count + 1) * 2 > t->cap) strtab_grow(t);
    if (t->count == t->strs_cap) {
        t->strs_cap = t->strs_cap ? t->strs_cap * 2 : 64;
        t->strs = xrealloc(t->strs, t->strs_cap * sizeof *t->strs);
        t->lens = xrealloc(t->lens, t->strs_cap * sizeof *t->lens);
    }
    id = (uint32_t)t->count++;
    t->strs[id] = arena_strndup(&t->mem, s, len);
    t->lens[id] = (uint32_t)len;
    size_t j = hash_bytes(s, len) & (t->cap - 1);
    while (t->slots[j]) j = (j + 1) & (t->cap - 1);
    t->slots[j] = id + 1;
    return id;
}

const char *strtab_str(const strtab *t, uint32_t id)
{
    return id < t->count ? t->strs[id] : NULL;
}
