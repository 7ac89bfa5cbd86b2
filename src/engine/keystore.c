/* keystore.c — distinct keys partitioned by hash, with batched additions (see keystore.h). */
#define _GNU_SOURCE /* qsort_r */
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

/* A sorted store's entries of one partition (ks_set_sorted): COUNT slots laid out as a
 * table's, side by side and in (tag, key, cell) order, the tags beside them, and the
 * keys' bytes as a key table keeps them. */
typedef struct ks_run {
    unsigned char *slots;
    uint32_t *tags;
    unsigned char *bytes;
    size_t count, bytes_len;
} ks_run;

typedef struct ks_partition {
    pthread_mutex_t lock;
    key_table keys;
    unsigned char *slots; /* cap slots of the store's stride bytes */
    size_t count, cap;    /* cap: a power of two, or 0; a sorted store: count, every slot used */
    /* A sorted store: the merged entries are SLOTS (with TAGS and the bytes of KEYS),
     * and the writers' batches of records added since, merged in when the partition
     * is next read or holds more of them than pending_limit() and its entries */
    uint32_t *tags;
    /* a sorted store's partition whose keys repeat (few entries for many records): its
     * entries moved into hash tables, and records applied to them as they come */
    bool hashed;
    uint64_t records;        /* handed to a sorted partition so far, for telling whether keys repeat */
    uint64_t pending_items;  /* the (record, cell) pairs of the pending records */
    unsigned char **pending; /* [pending_count] batches of records */
    size_t *pending_len;
    size_t pending_count, pending_cap, pending_bytes;
} ks_partition;

struct keystore {
    size_t payload_size, extra_size;
    size_t writer_budget;
    size_t stride; /* a slot: the payload, padded so that the tail ends a multiple of SLOT_ALIGN */
    ks_apply_fn apply;
    ks_merge_fn merge; /* a sorted store's (ks_set_sorted) */
    bool sorted;
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
    size_t records, items; /* a sorted store's: records, and (record, cell) pairs */
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

/* Puts SLOT, a key known to be absent, in SLOTS (CAP of them). */
static void key_place(key_slot *slots, size_t cap, key_slot slot)
{
    /* the tag holds the hash's low bits, which are all a slot's index needs while cap
     * stays below 2^32 */
    size_t j = slot.tag & (cap - 1);
    while (slots[j].ref) j = (j + 1) & (cap - 1);
    slots[j] = slot;
}

static key_slot *key_slots_new(size_t cap)
{
    key_slot *slots = hash_table_alloc(cap * sizeof *slots);
    memset(slots, 0, cap * sizeof *slots);
    return slots;
}

static void key_grow(key_table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 64;
    key_slot *slots = key_slots_new(cap);
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].ref) key_place(slots, cap, t->slots[i]);
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
}

/* The bytes a key of LEN bytes takes in a key table's bytes: its length, then the key,
 * padded to 4. */
static size_t key_room(size_t len)
{
    return (sizeof(uint32_t) + len + 3) & ~(size_t)3;
}

/* Writes KEY (LEN bytes) at offset *USED of BYTES (room enough) and returns its
 * reference (offset / 4 + 1, so that 0 names none). */
static uint32_t key_put(unsigned char *bytes, size_t *used, const void *key, uint32_t len)
{
    memcpy(bytes + *used, &len, sizeof len);
    memcpy(bytes + *used + sizeof len, key, len);
    uint32_t ref = (uint32_t)(*used / 4 + 1);
    *used += key_room(len);
    return ref;
}

/* The reference of KEY (hash H), added to T if new. */
static uint32_t key_intern(key_table *t, const void *key, size_t len, uint64_t h)
{
    if ((t->count + 1) * 2 > t->cap) key_grow(t);
    key_slot *slot = key_probe(t, key, len, h);
    if (slot->ref) return slot->ref;
    size_t need = key_room(len);
    if (len > UINT32_MAX || t->len + need > (size_t)UINT32_MAX * 4) xalloc_failed(t->len + need);
    if (t->len + need > t->room) {
        size_t room = t->room ? t->room * 2 : 1024;
        while (room < t->len + need) room *= 2;
        t->bytes = xrealloc(t->bytes, room);
        t->room = room;
    }
    slot->tag = (uint32_t)h;
    slot->ref = key_put(t->bytes, &t->len, key, (uint32_t)len);
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

static void run_free(ks_run *r)
{
    free(r->slots);
    free(r->tags);
    free(r->bytes);
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
        free(p->tags);
        for (size_t r = 0; r < p->pending_count; r++) free(p->pending[r]);
        free(p->pending);
        free(p->pending_len);
    }
    free(ks);
}

void ks_set_sorted(keystore *ks, ks_merge_fn merge)
{
    ks->sorted = true;
    ks->merge = merge;
}

uint64_t ks_hash(const void *key, size_t len)
{
    return hash_bytes(key, len);
}

size_t ks_payload_size(const keystore *ks)
{
    return ks->payload_size;
}

static ks_partition *readable(const keystore *ks, size_t part);

size_t ks_count(const keystore *ks)
{
    size_t n = 0;
    for (size_t i = 0; i < KS_PARTITIONS; i++) n += readable(ks, i)->count;
    return n;
}

size_t ks_count_bound(const keystore *ks)
{
    size_t n = 0;
    for (size_t i = 0; i < KS_PARTITIONS; i++) n += ks->parts[i].count + ks->parts[i].pending_items;
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

/* Moves P's entries (its CAP slots, the empty ones passed over) into a table of CAP
 * slots, a power of two. */
static void rehash(const keystore *ks, ks_partition *p, size_t cap)
{
    ks_partition bigger = { .cap = cap };
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

static void grow(const keystore *ks, ks_partition *p)
{
    rehash(ks, p, p->cap ? p->cap * 2 : 64);
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
    b->records = b->items = 0;
}

/* ---- the sorted method (ks_set_sorted) ----
 *
 * A writer hands its batch of a partition over as it is (no table, no lock but to
 * append it); the partition merges its batches, with the entries it merged before, when
 * it is first read: every record and entry sorted by (tag, cell) with a radix sort,
 * then one pass that applies each (key, cell)'s records to a fresh entry. A hash table
 * costs each record a probe of a table many times the cache (its key, then its entry);
 * the sort moves 16-byte items through the cache a few times and writes each entry
 * once (bench/ks_bench.c `sorted`, docs/performance.md). The entries stay in
 * (tag, key, cell) order, so a lookup is a binary search. */

/* A partition's records wait to be merged until they pass a 32nd of the writer budget
 * (1 MB by default) and the size of its entries: the writer that adds more then merges
 * them, so that a store holds, beside its entries, records of about 8 writer budgets
 * (256 MB by default) or of its entries' size, whichever is larger. Twelve months of a
 * 10-million-row file stay under the first: their records are merged once, when read. */
static size_t pending_limit(const keystore *ks)
{
    return ks->writer_budget / 32;
}

/* A record or an entry on its way into a run, in 16 bytes (the sort moves them several
 * times): its tag, its cell, and where it is — a record, or (low bit set) an entry's
 * slot among the partition's merged entries. */
typedef struct sort_item {
    uint32_t tag, cell;
    uintptr_t at;
} sort_item;

/* What an item's key is read with: the store, and the keys of the entries. */
typedef struct sort_ctx {
    const keystore *ks;
    const key_table *entry_keys;
} sort_ctx;

static const unsigned char *item_key(const sort_ctx *c, const sort_item *it, uint32_t *len)
{
    if (it->at & 1) {
        const unsigned char *slot = (const unsigned char *)(it->at & ~(uintptr_t)1);
        return key_at(c->entry_keys, tail_of(c->ks, (unsigned char *)slot)->ref, len);
    }
    const record *r = (const record *)it->at;
    *len = r->len;
    return (const unsigned char *)(r + 1) + c->ks->extra_size;
}

/* Whether items A and B have the same key: most keys are short ids, compared a word at
 * a time without a library call. */
static inline bool item_key_is(const sort_ctx *c, const sort_item *a, const sort_item *b)
{
    uint32_t la, lb;
    const unsigned char *x = item_key(c, a, &la), *y = item_key(c, b, &lb);
    if (la != lb) return false;
    size_t n = la;
    for (; n >= 8; n -= 8, x += 8, y += 8) {
        uint64_t u, v;
        memcpy(&u, x, 8);
        memcpy(&v, y, 8);
        if (u != v) return false;
    }
    for (; n; n--)
        if (*x++ != *y++) return false;
    return true;
}

static int by_key_cell(const void *x, const void *y, void *ctx)
{
    const sort_item *a = x, *b = y;
    uint32_t la, lb;
    const unsigned char *ka = item_key(ctx, a, &la), *kb = item_key(ctx, b, &lb);
    int c = memcmp(ka, kb, la < lb ? la : lb);
    if (c) return c;
    if (la != lb) return la < lb ? -1 : 1;
    return (a->cell > b->cell) - (a->cell < b->cell);
}

/* Sorts ITEMS[0..n) by (tag, cell), TMP being room for n more, and returns where the
 * sorted items are (ITEMS or TMP): a radix sort, after which a key's items lie side by
 * side in cell order unless another key shares its tag (emit_run sorts those). CELLS
 * bounds the cells. */
static sort_item *sort_items(sort_item *items, sort_item *tmp, size_t n, uint32_t cells)
{
    enum { BITS = 11, DIGITS = 1 << BITS };
    sort_item *a = items, *b = tmp;
    unsigned cell_bits = 0;
    while (cell_bits < 32 && ((uint64_t)1 << cell_bits) < cells) cell_bits++;
    for (unsigned shift = 0; shift < cell_bits + 32; shift += BITS) {
        size_t count[DIGITS] = { 0 };
#define DIGIT(it) (unsigned)(((((uint64_t)(it).tag << cell_bits) | (it).cell) >> shift) & (DIGITS - 1))
        for (size_t i = 0; i < n; i++) count[DIGIT(a[i])]++;
        size_t sum = 0;
        for (size_t d = 0; d < DIGITS; d++) {
            size_t k = count[d];
            count[d] = sum;
            sum += k;
        }
        for (size_t i = 0; i < n; i++) b[count[DIGIT(a[i])]++] = a[i];
#undef DIGIT
        sort_item *t = a;
        a = b;
        b = t;
    }
    return a;
}

/* Reduces ITEMS[0..n), sorted by (tag, cell), to the entries of run OUT: the records
 * of one (key, cell) applied to its payload, the entries merged; each key's bytes
 * once. BYTES_ROOM bounds the keys' bytes; ALIGNED is room for one extra. */
static void emit_run(const sort_ctx *c, sort_item *items, size_t n, size_t bytes_room, unsigned char *aligned,
                     ks_run *out)
{
    const keystore *ks = c->ks;
    size_t stride = ks->stride;
    /* a key's reference is 32 bits of 4-byte steps, as in a key table */
    if (bytes_room > (size_t)UINT32_MAX * 4) xalloc_failed(bytes_room);
    out->slots = xcalloc_aligned(SLOT_ALIGN, n ? n : 1, stride);
    out->tags = xmalloc((n ? n : 1) * sizeof *out->tags);
    out->bytes = xmalloc(bytes_room ? bytes_room : 4);
    size_t e = 0, used = 0;
    for (size_t i = 0, end; i < n; i = end) {
        /* The items of one tag: one key's, unless two keys share the tag (rare), whose
         * items are then sorted by key and cell. Each item's key is read here once,
         * which brings its record into cache for the apply below. */
        bool one_key = true;
        for (end = i + 1; end < n && items[end].tag == items[i].tag; end++)
            if (one_key && !item_key_is(c, &items[end], &items[i])) one_key = false;
        if (!one_key) qsort_r(items + i, end - i, sizeof *items, by_key_cell, (void *)c);
        uint32_t ref = 0;
        for (size_t k = i, j; k < end; k = j) {
            /* a key's entries are side by side: its bytes are kept by its first */
            if (k == i || (!one_key && !item_key_is(c, &items[k - 1], &items[k]))) {
                uint32_t len;
                const unsigned char *key = item_key(c, &items[k], &len);
                ref = key_put(out->bytes, &used, key, len);
            }
            for (j = k + 1; j < end && items[j].cell == items[k].cell &&
                            (one_key || item_key_is(c, &items[j], &items[k]));
                 j++)
                ;
            unsigned char *slot = out->slots + e * stride;
            *tail_of(ks, slot) = (slot_tail){ ref, items[k].cell };
            out->tags[e] = items[k].tag;
            for (size_t r = k; r < j; r++) {
                if (items[r].at & 1) {
                    if (ks->merge) ks->merge(ks->ctx, slot, (const void *)(items[r].at & ~(uintptr_t)1));
                } else if (ks->apply) {
                    const unsigned char *x = (const unsigned char *)((const record *)items[r].at + 1);
                    if ((uintptr_t)x & (EXTRA_ALIGN - 1)) {
                        memcpy(aligned, x, ks->extra_size);
                        x = aligned;
                    }
                    ks->apply(ks->ctx, slot, x);
                }
            }
            e++;
        }
    }
    out->count = e;
    out->bytes_len = used;
}

/* The items of run R's entries, appended at ITEMS; returns how many. *CELLS is raised
 * past each item's cell. */
static size_t run_items(const keystore *ks, const ks_run *r, sort_item *items, uint32_t *cells)
{
    for (size_t i = 0; i < r->count; i++) {
        const unsigned char *slot = r->slots + i * ks->stride;
        uint32_t cell = tail_of(ks, (unsigned char *)slot)->cell;
        if (cell >= *cells) *cells = cell + 1;
        items[i] = (sort_item){ r->tags[i], cell, (uintptr_t)slot | 1 };
    }
    return r->count;
}

/* The items of the records in batch DATA (LEN bytes), appended at ITEMS; returns how
 * many (a record with two cells is two). *CELLS is raised past each item's cell, and
 * *BYTES grows by the room each record's key would take in a key table. */
static size_t record_items(const keystore *ks, const unsigned char *data, size_t len, sort_item *items,
                           uint32_t *cells, size_t *bytes)
{
    size_t k = 0;
    for (size_t at = 0; at < len;) {
        const record *r = (const record *)(data + at);
        items[k++] = (sort_item){ r->tag, r->cell_a, (uintptr_t)r };
        if (r->cell_a >= *cells) *cells = r->cell_a + 1;
        if (r->cell_b != KS_NO_CELL) {
            items[k++] = (sort_item){ r->tag, r->cell_b, (uintptr_t)r };
            if (r->cell_b >= *cells) *cells = r->cell_b + 1;
        }
        *bytes += key_room(r->len);
        at += record_size(ks, r->len);
    }
    return k;
}

/* Moves sorted partition P's entries into hash tables (the caller holds its lock): the
 * keys' bytes stay where they are, so keys keep their addresses. */
static void to_hashed(keystore *ks, ks_partition *p)
{
    key_table *kt = &p->keys;
    size_t keys = 0;
    for (size_t i = 0; i < p->count; i++)
        keys += i == 0 || tail_of(ks, p->slots + i * ks->stride)->ref !=
                              tail_of(ks, p->slots + (i - 1) * ks->stride)->ref;
    kt->cap = 64;
    while ((keys + 1) * 2 > kt->cap) kt->cap *= 2;
    kt->slots = key_slots_new(kt->cap);
    kt->count = keys;
    for (size_t i = 0; i < p->count; i++) {
        uint32_t ref = tail_of(ks, p->slots + i * ks->stride)->ref;
        if (i == 0 || ref != tail_of(ks, p->slots + (i - 1) * ks->stride)->ref)
            key_place(kt->slots, kt->cap, (key_slot){ p->tags[i], ref });
    }
    /* the entries lie side by side (cap = count, none empty): rehashed into a table
     * sized as entry_of keeps one */
    size_t cap = 64;
    while ((p->count + 1) * 4 > cap * 3) cap *= 2;
    rehash(ks, p, cap);
    free(p->tags);
    p->tags = NULL;
    p->hashed = true;
}

/* Merges P's pending records into its entries (the caller holds its lock). WRITING:
 * more records may come, and a partition whose keys repeat takes them in hash tables
 * from now on. */
static void merge_pending(keystore *ks, ks_partition *p, unsigned char *aligned, bool writing)
{
    if (!p->pending_count) return;
    ks_run merged = { p->slots, p->tags, p->keys.bytes, p->count, p->keys.len };
    /* the items are counted as records are handed over: one walk over them here */
    size_t n = merged.count + p->pending_items, bytes = merged.bytes_len;
    uint32_t cells = 0;
    sort_item *items = xmalloc((n ? n : 1) * sizeof *items), *tmp = xmalloc((n ? n : 1) * sizeof *tmp);
    size_t k = run_items(ks, &merged, items, &cells);
    for (size_t r = 0; r < p->pending_count; r++)
        k += record_items(ks, p->pending[r], p->pending_len[r], items + k, &cells, &bytes);
    sort_ctx c = { ks, &p->keys };
    sort_item *sorted = sort_items(items, tmp, n, cells);
    ks_run out;
    emit_run(&c, sorted, n, bytes, aligned, &out);
    free(items);
    free(tmp);
    run_free(&merged);
    for (size_t r = 0; r < p->pending_count; r++) free(p->pending[r]);
    p->slots = out.slots;
    p->tags = out.tags;
    p->keys.bytes = out.bytes;
    p->keys.len = p->keys.room = out.bytes_len;
    p->count = p->cap = out.count;
    p->pending_bytes = 0;
    p->pending_items = 0;
    /* four records or more to an entry so far: a table probe per record costs less
     * than sorting them again and again (a column of a few values over millions of
     * rows) */
    if (writing && out.count * 4 <= p->records) to_hashed(ks, p);
    __atomic_store_n(&p->pending_count, 0, __ATOMIC_RELEASE);
}

/* Makes partition PART of a sorted store readable: its pending records merged, once
 * (readers may come from several threads; no writer may). */
static ks_partition *readable(const keystore *ks, size_t part)
{
    /* the store is the caller's to read; merging is how a sorted one gets ready */
    keystore *mut = (keystore *)ks;
    ks_partition *p = &mut->parts[part];
    if (!ks->sorted || __atomic_load_n(&p->pending_count, __ATOMIC_ACQUIRE) == 0) return p;
    unsigned char *aligned =
        xcalloc_aligned(EXTRA_ALIGN, 1, round_up(ks->extra_size, EXTRA_ALIGN) + EXTRA_ALIGN);
    pthread_mutex_lock(&p->lock);
    merge_pending(mut, p, aligned, false);
    pthread_mutex_unlock(&p->lock);
    free(aligned);
    return p;
}

/* Hands the writer's batch of partition PART (whose lock the caller holds) to the
 * partition, merging its pending records when they pass pending_limit() and its
 * entries; a hashed partition applies it at once. */
static void hand_batch(ks_writer *w, size_t part)
{
    keystore *ks = w->ks;
    batch *b = &w->batches[part];
    ks_partition *p = &ks->parts[part];
    if (p->hashed) {
        apply_batch(w, part);
        return;
    }
    if (p->pending_count == p->pending_cap) {
        p->pending_cap = p->pending_cap ? p->pending_cap * 2 : 8;
        p->pending = xrealloc(p->pending, p->pending_cap * sizeof *p->pending);
        p->pending_len = xrealloc(p->pending_len, p->pending_cap * sizeof *p->pending_len);
    }
    p->pending[p->pending_count] = b->data;
    p->pending_len[p->pending_count] = b->len;
    p->pending_bytes += b->len;
    p->records += b->records;
    p->pending_items += b->items;
    __atomic_store_n(&p->pending_count, p->pending_count + 1, __ATOMIC_RELEASE);
    /* merged when the records pass the limit and the entries' size: a partition's
     * entries are sorted again at each merge, so merges come at sizes that double */
    if (p->pending_bytes >= pending_limit(ks) && p->pending_bytes >= p->count * ks->stride)
        merge_pending(ks, p, w->extra, true);
    w->buffered -= b->len;
    *b = (batch){ NULL, 0, 0, 0, 0 };
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
            if (w->ks->sorted) hand_batch(w, part);
            else apply_batch(w, part);
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
    b->records++;
    b->items += cell_b != KS_NO_CELL ? 2 : 1;
    w->buffered += need;
    if (w->buffered >= ks->writer_budget) {
        apply_all(w);
    } else if (ks->sorted && b->len > pending_limit(ks)) {
        /* a partition that takes most records (a key of few values) learns early
         * whether its keys repeat */
        ks_partition *p = &ks->parts[partition_of(h)];
        pthread_mutex_lock(&p->lock);
        hand_batch(w, partition_of(h));
        pthread_mutex_unlock(&p->lock);
    }
}

/* A sorted store's entry of KEY (tag TAG) in CELL of P, or NULL. */
static void *sorted_find(const keystore *ks, const ks_partition *p, uint32_t tag, const void *key, size_t len,
                         uint32_t cell)
{
    size_t lo = 0, hi = p->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->tags[mid] < tag) lo = mid + 1;
        else hi = mid;
    }
    for (; lo < p->count && p->tags[lo] == tag; lo++) {
        unsigned char *slot = p->slots + lo * ks->stride;
        const slot_tail *t = tail_of(ks, slot);
        if (t->cell == cell && key_is(&p->keys, t->ref, key, len)) return slot;
    }
    return NULL;
}

void *ks_find(const keystore *ks, uint64_t h, const void *key, size_t len, uint32_t cell)
{
    const ks_partition *p = readable(ks, partition_of(h));
    if (ks->sorted && !p->hashed) return sorted_find(ks, p, (uint32_t)h, key, len, cell);
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
        const ks_partition *p = i == 0 ? readable(ks, part) : &ks->parts[part];
        for (; i < p->cap; i++) {
            unsigned char *slot = p->slots + i * ks->stride;
            const slot_tail *t = tail_of(ks, slot);
            if (!t->ref) continue;
            /* the key's bytes are not read here: a walk over millions of entries
             * would miss the cache on each */
            out->key = p->keys.bytes + ((size_t)t->ref - 1) * 4 + sizeof(uint32_t);
            out->cell = t->cell;
            out->in_key_order = ks->sorted && !p->hashed;
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
