/* keystore.c — distinct keys partitioned by hash, with batched additions (see keystore.h). */
#include "kpic/keystore.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kpic/arena.h"
#include "kpic/hash.h"

/* A writer keeps its records, per partition, until it holds WRITER_BUDGET bytes of
 * them (ks_set_writer_budget), then applies every partition's at once. A partition's
 * tables are brought into the cache once per application and then serve every record
 * it holds: with batches of a few kilobytes (tried first), each record's entry was a
 * miss of its own, as the tables of a twelve-month run are a thousand times the size
 * of a batch. The budget bounds what a writer buffers (a large file yields far more
 * records than this). */
#define WRITER_BUDGET ((size_t)32 << 20)

/* A partition's distinct keys: each key's bytes once, in a byte buffer (a 4-byte
 * length, then the bytes, padded to 4 bytes), named by its reference (offset / 4 + 1,
 * so that 0 names none), and an open-addressing table of (32 bits of the key's hash,
 * reference) pairs. Finding a key reads one slot and, when the hash bits agree, the
 * key's bytes: two cache lines (an interning table with an id → string array between
 * them read three). A reference is 32 bits, so a partition holds at most 16 GiB of
 * keys (4 TiB for a store); beyond that the store fails like an allocation. */
typedef struct key_slot {
    uint32_t tag; /* the hash's low 32 bits (its top bits chose the partition) */
    uint32_t ref;
} key_slot;

typedef struct key_table {
    key_slot *slots;
    size_t cap, count; /* cap: a power of two, or 0 */
    unsigned char *bytes;
    size_t len, room;
} key_table;

/* A partition's entries live in one open-addressing table keyed by (key, cell), each
 * slot holding the entry itself: its payload, then the key's reference (0: an empty
 * slot) and the cell. A record's cell is then one cache line away instead of two (a
 * slot, then the payload it pointed to), and a walk over the entries reads the table
 * in address order. Empty slots are all zero, so a new entry's payload is zero
 * already. */
typedef struct slot_tail {
    uint32_t ref;
    uint32_t cell;
} slot_tail;

typedef struct ks_partition {
    pthread_mutex_t lock;
    key_table keys;
    unsigned char *slots; /* cap slots of the store's stride bytes */
    size_t count, cap;    /* cap: a power of two, or 0 */
} ks_partition;

struct keystore {
    size_t payload_size, extra_size;
    size_t writer_budget;
    size_t stride; /* a slot: the payload, padded so that the tail ends a multiple of SLOT_ALIGN */
    ks_apply_fn apply;
    void *ctx;
    ks_partition parts[KS_PARTITIONS];
};

/* A buffered record: this header, then extra_size bytes, then the key, padded to
 * RECORD_ALIGN bytes. The partition is the buffer's, so only the hash bits the key
 * table reads are kept. The extra is handed to the apply function at a multiple of
 * EXTRA_ALIGN bytes (it may hold 16-byte integers, exact decimals): copied there when
 * the record does not place it so. */
typedef struct record {
    uint32_t tag; /* the hash's low 32 bits */
    uint32_t len;
    uint32_t cell_a, cell_b;
} record;

#define RECORD_ALIGN 4u
#define SLOT_ALIGN   16u
#define EXTRA_ALIGN  16u

typedef struct batch {
    unsigned char *data;
    size_t len, cap;
} batch;

struct ks_writer {
    keystore *ks;
    size_t buffered;      /* bytes of records in the batches */
    unsigned char *extra; /* EXTRA_ALIGN-aligned room for one record's extra */
    batch batches[KS_PARTITIONS];
};

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) & ~(to - 1);
}

static size_t record_size(const keystore *ks, size_t len)
{
    return round_up(sizeof(record) + ks->extra_size + len, RECORD_ALIGN);
}

static size_t partition_of(uint64_t h)
{
    return (size_t)(h >> (64 - KS_PARTITION_BITS));
}

/* ---- a partition's keys ---- */

static const unsigned char *key_at(const key_table *t, uint32_t ref, uint32_t *len)
{
    const unsigned char *k = t->bytes + ((size_t)ref - 1) * 4;
    memcpy(len, k, sizeof *len);
    return k + sizeof *len;
}

static bool key_is(const key_table *t, uint32_t ref, const void *key, size_t len)
{
    uint32_t have;
    const unsigned char *k = key_at(t, ref, &have);
    return have == len && memcmp(k, key, len) == 0;
}

/* The slot of KEY (hash H) in T: its own, or the empty one where it belongs. */
static key_slot *key_probe(const key_table *t, const void *key, size_t len, uint64_t h)
{
    size_t mask = t->cap - 1;
    uint32_t tag = (uint32_t)h;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        key_slot *slot = &t->slots[i];
        if (slot->ref == 0 || (slot->tag == tag && key_is(t, slot->ref, key, len))) return slot;
    }
}

static void key_grow(key_table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 64;
    key_slot *slots = hash_table_alloc(cap * sizeof *slots);
    memset(slots, 0, cap * sizeof *slots);
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slots[i].ref) continue;
        /* the tag holds the hash's low bits, which are all a slot's index needs
         * while cap stays below 2^32 */
        size_t j = t->slots[i].tag & (cap - 1);
        while (slots[j].ref) j = (j + 1) & (cap - 1);
        slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
}

/* The reference of KEY (hash H), added to T if new. */
static uint32_t key_intern(key_table *t, const void *key, size_t len, uint64_t h)
{
    if ((t->count + 1) * 2 > t->cap) key_grow(t);
    key_slot *slot = key_probe(t, key, len, h);
    if (slot->ref) return slot->ref;
    size_t need = (sizeof(uint32_t) + len + 3) & ~(size_t)3;
    if (len > UINT32_MAX || t->len + need > (size_t)UINT32_MAX * 4) xalloc_failed(t->len + need);
    if (t->len + need > t->room) {
        size_t room = t->room ? t->room * 2 : 1024;
        while (room < t->len + need) room *= 2;
        t->bytes = xrealloc(t->bytes, room);
        t->room = room;
    }
    uint32_t len32 = (uint32_t)len;
    memcpy(t->bytes + t->len, &len32, sizeof len32);
    memcpy(t->bytes + t->len + sizeof len32, key, len);
    slot->tag = (uint32_t)h;
    slot->ref = (uint32_t)(t->len / 4 + 1);
    t->len += need;
    t->count++;
    return slot->ref;
}

/* The reference of KEY (hash H) in T, or 0. */
static uint32_t key_find(const key_table *t, const void *key, size_t len, uint64_t h)
{
    return t->cap ? key_probe(t, key, len, h)->ref : 0;
}

static void key_prefetch_slot(const key_table *t, uint64_t h)
{
    if (t->cap) __builtin_prefetch(&t->slots[(size_t)h & (t->cap - 1)]);
}

static void key_prefetch_bytes(const key_table *t, uint64_t h)
{
    if (!t->cap) return;
    uint32_t ref = t->slots[(size_t)h & (t->cap - 1)].ref;
    if (ref) __builtin_prefetch(t->bytes + ((size_t)ref - 1) * 4);
}

/* ---- the store ---- */

keystore *ks_new(size_t payload_size, size_t extra_size, ks_apply_fn apply, void *ctx)
{
    keystore *ks = xcalloc(1, sizeof *ks);
    ks->payload_size = payload_size;
    /* every slot starts at a multiple of SLOT_ALIGN, so every payload is aligned like
     * the table; the tail takes the padding a payload of 8 bytes more than a multiple
     * of SLOT_ALIGN leaves (a payload of one count: 16-byte slots); a store without
     * payload has slots of the tail alone */
    ks->stride = payload_size ? round_up(round_up(payload_size, 8) + sizeof(slot_tail), SLOT_ALIGN)
                              : sizeof(slot_tail);
    ks->extra_size = extra_size;
    ks->writer_budget = WRITER_BUDGET;
    ks->apply = apply;
    ks->ctx = ctx;
    for (size_t i = 0; i < KS_PARTITIONS; i++) pthread_mutex_init(&ks->parts[i].lock, NULL);
    return ks;
}

void ks_free(keystore *ks)
{
    if (!ks) return;
    for (size_t i = 0; i < KS_PARTITIONS; i++) {
        ks_partition *p = &ks->parts[i];
        pthread_mutex_destroy(&p->lock);
        free(p->keys.slots);
        free(p->keys.bytes);
        free(p->slots);
    }
    free(ks);
}

uint64_t ks_hash(const void *key, size_t len)
{
    return hash_bytes(key, len);
}

size_t ks_payload_size(const keystore *ks)
{
    return ks->payload_size;
}

size_t ks_count(const keystore *ks)
{
    size_t n = 0;
    for (size_t i = 0; i < KS_PARTITIONS; i++) n += ks->parts[i].count;
    return n;
}

static uint64_t entry_hash(uint32_t ref, uint32_t cell)
{
    return hash_u64((uint64_t)ref << 32 | cell);
}

static slot_tail *tail_of(const keystore *ks, unsigned char *slot)
{
    return (slot_tail *)(slot + ks->stride - sizeof(slot_tail));
}

/* The slot of (REF, CELL) (hash EH) in P: its own, or the empty one where it belongs. */
static unsigned char *probe(const keystore *ks, const ks_partition *p, uint32_t ref, uint32_t cell,
                            uint64_t eh)
{
    size_t mask = p->cap - 1, stride = ks->stride;
    for (size_t i = (size_t)eh & mask;; i = (i + 1) & mask) {
        unsigned char *slot = p->slots + i * stride;
        const slot_tail *t = tail_of(ks, slot);
        if (t->ref == 0 || (t->ref == ref && t->cell == cell)) return slot;
    }
}

static void grow(const keystore *ks, ks_partition *p)
{
    ks_partition bigger = { .cap = p->cap ? p->cap * 2 : 64 };
    bigger.slots = hash_table_alloc(bigger.cap * ks->stride);
    memset(bigger.slots, 0, bigger.cap * ks->stride);
    for (size_t i = 0; i < p->cap; i++) {
        unsigned char *slot = p->slots + i * ks->stride;
        const slot_tail *t = tail_of(ks, slot);
        if (!t->ref) continue;
        memcpy(probe(ks, &bigger, t->ref, t->cell, entry_hash(t->ref, t->cell)), slot, ks->stride);
    }
    free(p->slots);
    p->slots = bigger.slots;
    p->cap = bigger.cap;
}

/* The entry of (REF, CELL) (hash EH) in P, created with a zero payload if new. */
static unsigned char *entry_of(const keystore *ks, ks_partition *p, uint32_t ref, uint32_t cell, uint64_t eh)
{
    if ((p->count + 1) * 4 > p->cap * 3) grow(ks, p);
    unsigned char *slot = probe(ks, p, ref, cell, eh);
    slot_tail *t = tail_of(ks, slot);
    if (!t->ref) {
        t->ref = ref;
        t->cell = cell;
        p->count++;
    }
    return slot;
}

static void prefetch_entry(const keystore *ks, const ks_partition *p, uint64_t eh)
{
    if (p->cap) __builtin_prefetch(p->slots + ((size_t)eh & (p->cap - 1)) * ks->stride);
}

/* Applies a partition's batch, under the partition's lock. The records are known in
 * advance, so the work is pipelined: while record i is interned, the key slot of
 * record i + SLOT_AHEAD is asked for, and the key bytes of record i + BYTES_AHEAD
 * (whose slot should be in by then); interning record i tells where its entries are,
 * which are asked for then and applied LAG records later. (Distances from 2 to 24
 * measured alike: what limits a batch is how many misses a core has in flight.) */
enum { SEGMENT = 256, SLOT_AHEAD = 8, BYTES_AHEAD = 4, LAG = 4 };

static void apply_segment(keystore *ks, ks_partition *p, const record *const *recs, size_t n,
                          unsigned char *aligned_extra)
{
    uint32_t refs[SEGMENT];
    uint64_t ehs[SEGMENT][2];
    for (size_t i = 0; i < n + LAG; i++) {
        if (i + SLOT_AHEAD < n) key_prefetch_slot(&p->keys, recs[i + SLOT_AHEAD]->tag);
        if (i + BYTES_AHEAD < n) key_prefetch_bytes(&p->keys, recs[i + BYTES_AHEAD]->tag);
        if (i < n) {
            const record *r = recs[i];
            refs[i] = key_intern(&p->keys, (const char *)(r + 1) + ks->extra_size, r->len, r->tag);
            ehs[i][0] = entry_hash(refs[i], r->cell_a);
            prefetch_entry(ks, p, ehs[i][0]);
            if (r->cell_b != KS_NO_CELL) {
                ehs[i][1] = entry_hash(refs[i], r->cell_b);
                prefetch_entry(ks, p, ehs[i][1]);
            }
        }
        if (i < LAG) continue;
        size_t k = i - LAG;
        const record *r = recs[k];
        const unsigned char *x = (const unsigned char *)(r + 1);
        if (ks->apply && ((uintptr_t)x & (EXTRA_ALIGN - 1))) {
            memcpy(aligned_extra, x, ks->extra_size);
            x = aligned_extra;
        }
        unsigned char *payload = entry_of(ks, p, refs[k], r->cell_a, ehs[k][0]);
        if (ks->apply) ks->apply(ks->ctx, payload, x);
        if (r->cell_b == KS_NO_CELL) continue;
        payload = entry_of(ks, p, refs[k], r->cell_b, ehs[k][1]);
        if (ks->apply) ks->apply(ks->ctx, payload, x);
    }
}

/* Applies the batch of partition PART (whose lock the caller holds). */
static void apply_batch(ks_writer *w, size_t part)
{
    keystore *ks = w->ks;
    batch *b = &w->batches[part];
    ks_partition *p = &ks->parts[part];
    const record *recs[SEGMENT];
    size_t n = 0;
    for (size_t at = 0; at < b->len;) {
        const record *r = (const record *)(b->data + at);
        recs[n++] = r;
        if (n == SEGMENT) {
            apply_segment(ks, p, recs, n, w->extra);
            n = 0;
        }
        at += record_size(ks, r->len);
    }
    apply_segment(ks, p, recs, n, w->extra);
    w->buffered -= b->len;
    b->len = 0;
}

/* Applies every partition's batch. Writers that reach their budget together would
 * otherwise take the partitions' locks in the same order, one waiting for the other at
 * each: a partition held by another writer is passed over and taken on the next
 * round. */
static void apply_all(ks_writer *w)
{
    bool waited = false;
    while (w->buffered) {
        for (size_t part = 0; part < KS_PARTITIONS; part++) {
            if (!w->batches[part].len) continue;
            pthread_mutex_t *lock = &w->ks->parts[part].lock;
            if (waited) pthread_mutex_lock(lock);
            else if (pthread_mutex_trylock(lock) != 0) continue;
            apply_batch(w, part);
            pthread_mutex_unlock(lock);
        }
        waited = true;
    }
}

void ks_set_writer_budget(keystore *ks, size_t bytes)
{
    ks->writer_budget = bytes;
}

ks_writer *ks_writer_new(keystore *ks)
{
    ks_writer *w = xcalloc(1, sizeof *w);
    w->ks = ks;
    w->extra = xcalloc_aligned(EXTRA_ALIGN, 1, round_up(ks->extra_size, EXTRA_ALIGN) + EXTRA_ALIGN);
    return w;
}

void ks_writer_flush(ks_writer *w)
{
    apply_all(w);
}

static void writer_release(ks_writer *w)
{
    for (size_t i = 0; i < KS_PARTITIONS; i++) free(w->batches[i].data);
    free(w->extra);
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
    batch *b = &w->batches[partition_of(h)];
    if (len > UINT32_MAX) xalloc_failed(len);
    size_t need = record_size(ks, len);
    if (b->len + need > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + need) cap *= 2;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
    unsigned char *at = b->data + b->len;
    record r = { (uint32_t)h, (uint32_t)len, cell_a, cell_b };
    memcpy(at, &r, sizeof r);
    if (ks->extra_size) memcpy(at + sizeof r, extra, ks->extra_size);
    memcpy(at + sizeof r + ks->extra_size, key, len);
    b->len += need;
    w->buffered += need;
    if (w->buffered >= ks->writer_budget) apply_all(w);
}

void *ks_find(const keystore *ks, uint64_t h, const void *key, size_t len, uint32_t cell)
{
    const ks_partition *p = &ks->parts[partition_of(h)];
    uint32_t ref = key_find(&p->keys, key, len, h);
    if (!ref || !p->cap) return NULL;
    unsigned char *slot = probe(ks, p, ref, cell, entry_hash(ref, cell));
    return tail_of(ks, slot)->ref ? slot : NULL; /* a store without payload: the slot, not read */
}

bool ks_next(const keystore *ks, uint64_t *cursor, ks_entry *out)
{
    /* the cursor is (partition, slot of its table) */
    size_t part = (size_t)(*cursor >> 32), i = (size_t)(*cursor & UINT32_MAX);
    for (; part < KS_PARTITIONS; part++, i = 0) {
        const ks_partition *p = &ks->parts[part];
        for (; i < p->cap; i++) {
            unsigned char *slot = p->slots + i * ks->stride;
            const slot_tail *t = tail_of(ks, slot);
            if (!t->ref) continue;
            /* the key's bytes are not read here: a walk over millions of entries
             * would miss the cache on each */
            out->key = p->keys.bytes + ((size_t)t->ref - 1) * 4 + sizeof(uint32_t);
            out->cell = t->cell;
            out->payload = ks->payload_size ? slot : NULL;
            *cursor = (uint64_t)part << 32 | (i + 1);
            return true;
        }
    }
    *cursor = (uint64_t)KS_PARTITIONS << 32;
    return false;
}

size_t ks_key_len(const void *key)
{
    uint32_t len;
    memcpy(&len, (const unsigned char *)key - sizeof len, sizeof len);
    return len;
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
