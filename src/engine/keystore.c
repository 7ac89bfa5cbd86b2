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
    strtab keys;             /* key bytes → key id */
    hmap entries;            /* key id << 32 | cell → entry index (the payload's) */
    unsigned char *payloads; /* per entry: payload_size bytes */
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

void ks_add(ks_writer *w, uint64_t h, const void *key, size_t len, uint32_t cell_a, uint32_t cell_b,
            const void *extra)
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

/* ---- first sightings by hash ------------------------------------------------------------ */

/* A slot: the hash (0: empty; a hash of 0 is stored as 1) and the smallest ordinal, whose
 * top bit says the hash came more than once. */
typedef struct ksf_slot {
    uint64_t h;
    uint64_t first;
} ksf_slot;

#define KSF_REPEATED (UINT64_C(1) << 63)

typedef struct ksf_partition {
    pthread_mutex_t lock;
    ksf_slot *slots;
    size_t cap, count; /* cap: a power of two, or 0 */
} ksf_partition;

struct ks_firsts {
    uint64_t repeats;
    ksf_partition parts[KS_PARTITIONS];
};

/* A writer's buffered additions to one partition: (hash, ordinal) pairs. */
enum { KSF_BATCH = 256 };

struct ksf_writer {
    ks_firsts *f;
    uint32_t len[KS_PARTITIONS];
    ksf_slot *batch; /* [KS_PARTITIONS * KSF_BATCH] */
};

ks_firsts *ksf_new(void)
{
    ks_firsts *f = xcalloc(1, sizeof *f);
    for (size_t i = 0; i < KS_PARTITIONS; i++) pthread_mutex_init(&f->parts[i].lock, NULL);
    return f;
}

void ksf_free(ks_firsts *f)
{
    if (!f) return;
    for (size_t i = 0; i < KS_PARTITIONS; i++) {
        pthread_mutex_destroy(&f->parts[i].lock);
        free(f->parts[i].slots);
    }
    free(f);
}

static uint64_t ksf_stored(uint64_t h)
{
    return h ? h : 1;
}

/* The slot of H in P: its own, or the empty one where it belongs. The low bits index
 * (the top bits chose the partition). */
static ksf_slot *ksf_probe(const ksf_partition *p, uint64_t h)
{
    size_t mask = p->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask)
        if (p->slots[i].h == h || p->slots[i].h == 0) return &p->slots[i];
}

static void ksf_grow(ksf_partition *p)
{
    ksf_partition bigger = { .cap = p->cap ? p->cap * 2 : 64 };
    bigger.slots = xcalloc(bigger.cap, sizeof *bigger.slots);
    for (size_t i = 0; i < p->cap; i++)
        if (p->slots[i].h) *ksf_probe(&bigger, p->slots[i].h) = p->slots[i];
    free(p->slots);
    p->slots = bigger.slots;
    p->cap = bigger.cap;
}

static void ksf_apply(ks_firsts *f, size_t part, const ksf_slot *adds, uint32_t n)
{
    ksf_partition *p = &f->parts[part];
    uint64_t repeats = 0;
    pthread_mutex_lock(&p->lock);
    if ((p->count + n) * 4 > p->cap * 3) {
        while ((p->count + n) * 4 > p->cap * 3) ksf_grow(p);
    }
    for (uint32_t i = 0; i < n; i++) {
        if (i + 8 < n) __builtin_prefetch(&p->slots[(size_t)adds[i + 8].h & (p->cap - 1)]);
        ksf_slot *slot = ksf_probe(p, adds[i].h);
        if (slot->h == 0) {
            *slot = adds[i];
            p->count++;
            continue;
        }
        uint64_t first = slot->first & ~KSF_REPEATED;
        if (adds[i].first < first) first = adds[i].first;
        slot->first = first | KSF_REPEATED;
        repeats++;
    }
    pthread_mutex_unlock(&p->lock);
    if (repeats) __atomic_fetch_add(&f->repeats, repeats, __ATOMIC_RELAXED);
}

ksf_writer *ksf_writer_new(ks_firsts *f)
{
    ksf_writer *w = xcalloc(1, sizeof *w);
    w->f = f;
    w->batch = xmalloc((size_t)KS_PARTITIONS * KSF_BATCH * sizeof *w->batch);
    return w;
}

void ksf_add(ksf_writer *w, uint64_t h, uint64_t ordinal)
{
    size_t part = partition_of(h);
    ksf_slot *b = w->batch + part * KSF_BATCH;
    b[w->len[part]++] = (ksf_slot){ ksf_stored(h), ordinal };
    if (w->len[part] == KSF_BATCH) {
        ksf_apply(w->f, part, b, KSF_BATCH);
        w->len[part] = 0;
    }
}

void ksf_writer_discard(ksf_writer *w)
{
    if (!w) return;
    free(w->batch);
    free(w);
}

void ksf_writer_free(ksf_writer *w)
{
    if (!w) return;
    for (size_t part = 0; part < KS_PARTITIONS; part++)
        if (w->len[part]) ksf_apply(w->f, part, w->batch + part * KSF_BATCH, w->len[part]);
    ksf_writer_discard(w);
}

bool ksf_repeated(const ks_firsts *f, uint64_t h, uint64_t *first)
{
    const ksf_partition *p = &f->parts[partition_of(h)];
    if (!p->cap) return false;
    const ksf_slot *slot = ksf_probe(p, ksf_stored(h));
    if (slot->h == 0 || !(slot->first & KSF_REPEATED)) return false;
    *first = slot->first & ~KSF_REPEATED;
    return true;
}

uint64_t ksf_repeats(const ks_firsts *f)
{
    return f->repeats;
}

size_t ksf_bytes(const ks_firsts *f)
{
    size_t n = 0;
    for (size_t i = 0; i < KS_PARTITIONS; i++) n += f->parts[i].cap * sizeof(ksf_slot);
    return n;
}
