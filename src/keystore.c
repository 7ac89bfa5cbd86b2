/* keystore.c — distinct keys partitioned by hash, with batched additions (see keystore.h). */
#include "kpic/keystore.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kpic/arena.h"
#include "kpic/hash.h"

/* A writer applies a partition's batch once it holds this many bytes: large enough
 * that taking the lock and bringing the partition's tables into cache is paid for by
 * many records, small enough that KS_PARTITIONS buffers stay around a megabyte. */
#define FLUSH_BYTES 4096u

typedef struct ks_partition {
    pthread_mutex_t lock;
    strtab keys;               /* key bytes → key id */
    hmap entries;              /* key id << 32 | cell → entry index (the payload's) */
    unsigned char *payloads;   /* per entry: payload_size bytes */
    size_t count, cap;
} ks_partition;

struct keystore {
    size_t payload_size, extra_size;
    ks_apply_fn apply;
    void *ctx;
    ks_partition parts[KS_PARTITIONS];
};

/* A buffered record: this header, then extra_size bytes, then the key; each part
 * starts at a multiple of ALIGN bytes, as the caller's extra may hold 16-byte
 * integers (exact decimals). */
typedef struct record {
    uint64_t h;
    uint64_t len;
    uint32_t cell_a, cell_b;
    uint64_t unused;
} record;

#define ALIGN 16u
_Static_assert(sizeof(record) % ALIGN == 0, "records must keep what follows them aligned");

typedef struct batch {
    unsigned char *data;
    size_t len, cap;
} batch;

struct ks_writer {
    keystore *ks;
    batch batches[KS_PARTITIONS];
};

static size_t round_up(size_t n)
{
    return (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

static size_t partition_of(uint64_t h)
{
    return (size_t)(h >> (64 - KS_PARTITION_BITS));
}

keystore *ks_new(size_t payload_size, size_t extra_size, ks_apply_fn apply, void *ctx)
{
    keystore *ks = xcalloc(1, sizeof *ks);
    ks->payload_size = round_up(payload_size); /* every payload aligned like the first */
    ks->extra_size = extra_size;
    ks->apply = apply;
    ks->ctx = ctx;
    for (size_t i = 0; i < KS_PARTITIONS; i++) {
        pthread_mutex_init(&ks->parts[i].lock, NULL);
        strtab_init(&ks->parts[i].keys);
    }
    return ks;
}

void ks_free(keystore *ks)
{
    if (!ks) return;
    for (size_t i = 0; i < KS_PARTITIONS; i++) {
        ks_partition *p = &ks->parts[i];
        pthread_mutex_destroy(&p->lock);
        strtab_free(&p->keys);
        hmap_free(&p->entries);
        free(p->payloads);
    }
    free(ks);
}

uint64_t ks_hash(const void *key, size_t len)
{
    return hash_bytes(key, len);
}

size_t ks_count(const keystore *ks)
{
    size_t n = 0;
    for (size_t i = 0; i < KS_PARTITIONS; i++) n += ks->parts[i].count;
    return n;
}

/* The entry of (key id, cell) in P, created with a zero payload if new. */
static unsigned char *entry_of(const keystore *ks, ks_partition *p, uint32_t id, uint32_t cell)
{
    uint64_t composite = (uint64_t)id << 32 | cell;
    uint32_t e = hmap_get_or_put(&p->entries, composite, (uint32_t)p->count);
    if (e == HMAP_NONE) {
        e = (uint32_t)p->count++;
        if (!ks->payload_size) return NULL;
        if (p->count > p->cap) {
            p->cap = p->cap ? p->cap * 2 : 64;
            p->payloads = xrealloc(p->payloads, p->cap * ks->payload_size);
        }
        memset(p->payloads + (size_t)e * ks->payload_size, 0, ks->payload_size);
    }
    return ks->payload_size ? p->payloads + (size_t)e * ks->payload_size : NULL;
}

/* Applies a partition's batch, under the partition's lock. The partition's tables are
 * far bigger than a cache, so every lookup misses several times (string slot, entry,
 * string, entry slot); the records are known in advance, so the work is pipelined:
 * the slots of record i + 8 are asked for while record i is applied, its entry at
 * i + 4, its string at i + 2, and it is interned at i + 1, which tells where its
 * entries will be. */
enum { PIPE = 8, SEGMENT = 256 };

static void apply_segment(keystore *ks, ks_partition *p, const record *const *recs, size_t n)
{
    size_t extra = round_up(ks->extra_size);
    uint32_t ids[SEGMENT];
    for (size_t i = 0; i < n + 1; i++) {
        if (i + PIPE < n) strtab_prefetch_slot(&p->keys, recs[i + PIPE]->h);
        if (i + PIPE / 2 < n) strtab_prefetch_entry(&p->keys, recs[i + PIPE / 2]->h);
        if (i + 2 < n) strtab_prefetch_string(&p->keys, recs[i + 2]->h);
        if (i < n) {
            /* intern one record ahead of applying it, and ask for its entry slots */
            const record *r = recs[i];
            const char *key = (const char *)r + sizeof *r + extra;
            ids[i] = strtab_intern_hashed(&p->keys, key, r->len, r->h);
            hmap_prefetch(&p->entries, (uint64_t)ids[i] << 32 | r->cell_a);
            if (r->cell_b != KS_NO_CELL) hmap_prefetch(&p->entries, (uint64_t)ids[i] << 32 | r->cell_b);
        }
        if (i == 0) continue;
        const record *r = recs[i - 1];
        const unsigned char *x = (const unsigned char *)r + sizeof *r;
        uint32_t cells[2] = { r->cell_a, r->cell_b };
        for (int c = 0; c < 2 && cells[c] != KS_NO_CELL; c++) {
            unsigned char *payload = entry_of(ks, p, ids[i - 1], cells[c]);
            if (ks->apply) ks->apply(ks->ctx, payload, x);
        }
    }
}

static void apply_batch(keystore *ks, size_t part, batch *b)
{
    if (!b->len) return;
    ks_partition *p = &ks->parts[part];
    size_t extra = round_up(ks->extra_size);
    const record *recs[SEGMENT];
    size_t n = 0;
    pthread_mutex_lock(&p->lock);
    for (size_t at = 0; at < b->len;) {
        const record *r = (const record *)(b->data + at);
        recs[n++] = r;
        if (n == SEGMENT) {
            apply_segment(ks, p, recs, n);
            n = 0;
        }
        at += sizeof *r + extra + round_up(r->len);
    }
    apply_segment(ks, p, recs, n);
    pthread_mutex_unlock(&p->lock);
    b->len = 0;
}

ks_writer *ks_writer_new(keystore *ks)
{
    ks_writer *w = xcalloc(1, sizeof *w);
    w->ks = ks;
    return w;
}

void ks_writer_flush(ks_writer *w)
{
    for (size_t i = 0; i < KS_PARTITIONS; i++) apply_batch(w->ks, i, &w->batches[i]);
}

static void writer_release(ks_writer *w)
{
    for (size_t i = 0; i < KS_PARTITIONS; i++) free(w->batches[i].data);
    free(w);
}

void ks_writer_free(ks_writer *w)
{
    if (!w) return;
    ks_writer_flush(w);
    writer_release(w);
}

void ks_writer_discard(ks_writer *w)
{
    if (w) writer_release(w);
}

void ks_add(ks_writer *w, uint64_t h, const void *key, size_t len, uint32_t cell_a,
            uint32_t cell_b, const void *extra)
{
    keystore *ks = w->ks;
    size_t part = partition_of(h);
    batch *b = &w->batches[part];
    size_t extra_len = round_up(ks->extra_size);
    size_t need = sizeof(record) + extra_len + round_up(len);
    if (b->len + need > b->cap) {
        size_t cap = b->cap ? b->cap : FLUSH_BYTES;
        while (cap < b->len + need) cap *= 2;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
    record *r = (record *)(b->data + b->len);
    *r = (record){ h, len, cell_a, cell_b, 0 };
    unsigned char *x = b->data + b->len + sizeof *r;
    if (ks->extra_size) memcpy(x, extra, ks->extra_size);
    memcpy(x + extra_len, key, len);
    b->len += need;
    if (b->len >= FLUSH_BYTES) apply_batch(ks, part, b);
}

void *ks_find(const keystore *ks, uint64_t h, const void *key, size_t len, uint32_t cell)
{
    const ks_partition *p = &ks->parts[partition_of(h)];
    uint32_t id = strtab_find_hashed(&p->keys, key, len, h);
    if (id == HMAP_NONE) return NULL;
    uint32_t e = hmap_get(&p->entries, (uint64_t)id << 32 | cell);
    if (e == HMAP_NONE) return NULL;
    if (!ks->payload_size) return (void *)p; /* found; there is no payload to point at */
    return p->payloads + (size_t)e * ks->payload_size;
}

bool ks_next(const keystore *ks, uint64_t *cursor, ks_entry *out)
{
    /* the cursor is (partition, slot of its entries table) */
    size_t part = (size_t)(*cursor >> 32), i = (size_t)(*cursor & UINT32_MAX);
    for (; part < KS_PARTITIONS; part++, i = 0) {
        const ks_partition *p = &ks->parts[part];
        for (; i < p->entries.cap; i++) {
            const hmap_slot *slot = &p->entries.slots[i];
            if (slot->val == HMAP_NONE) continue;
            uint32_t id = (uint32_t)(slot->key >> 32);
            out->key = strtab_str(&p->keys, id);
            out->len = strtab_len(&p->keys, id);
            out->cell = (uint32_t)slot->key;
            out->payload = ks->payload_size ? p->payloads + (size_t)slot->val * ks->payload_size : NULL;
            *cursor = (uint64_t)part << 32 | (i + 1);
            return true;
        }
    }
    *cursor = (uint64_t)KS_PARTITIONS << 32;
    return false;
}
