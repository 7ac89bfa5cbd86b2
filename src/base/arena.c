/* arena.c — the bump allocator behind the AST (see arena.h). */
#include "kpic/arena.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct arena_block {
    arena_block *prev;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

enum { ARENA_BLOCK_MIN = 64 * 1024 };

/* Dies with exit status 2 (an I/O-class failure, not a crash) after saying why. _exit,
 * not exit: flushing stdio now could print half a result, and nothing else needs to
 * run. No output file is left: the writer allocates nothing while its temporary file
 * exists (output.c). */
void xalloc_failed(size_t size)
{
    if (size == 0) fputs("kpic: out of memory\n", stderr);
    else fprintf(stderr, "kpic: out of memory (allocating %zu bytes)\n", size);
    _exit(2);
}

FILE *xopen_memstream(char **buf, size_t *len)
{
    FILE *f = open_memstream(buf, len);
    if (!f) xalloc_failed(0);
    return f;
}

void xclose_memstream(FILE *f)
{
    /* a memstream that could not grow drops what did not fit: fail rather than
     * return a truncated text */
    bool failed = ferror(f) != 0;
    if (fclose(f) != 0 || failed) xalloc_failed(0);
}

void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) xalloc_failed(size);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) xalloc_failed(n * size);
    return p;
}

void *xcalloc_aligned(size_t align, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size) xalloc_failed(SIZE_MAX);
    size_t bytes = n * size;
    if (bytes == 0) bytes = 1;
    /* aligned_alloc wants a multiple of the alignment */
    size_t rounded = (bytes + align - 1) / align * align;
    void *p = aligned_alloc(align, rounded);
    if (!p) xalloc_failed(rounded);
    return memset(p, 0, rounded);
}

void *xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q) xalloc_failed(size);
    return q;
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

void arena_init(arena *a)
{
    a->head = NULL;
    a->bytes_used = 0;
}

void arena_free(arena *a)
{
    arena_block *b = a->head;
    while (b) {
        arena_block *prev = b->prev;
        free(b);
        b = prev;
    }
    a->head = NULL;
    a->bytes_used = 0;
}

void *arena_alloc(arena *a, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    arena_block *b = a->head;
    if (!b || b->size - b->used < size) {
        size_t block_size = size > ARENA_BLOCK_MIN ? size : ARENA_BLOCK_MIN;
        if (block_size > SIZE_MAX - sizeof(arena_block)) xalloc_failed(size);
        b = xmalloc(sizeof(arena_block) + block_size);
        b->prev = a->head;
        b->size = block_size;
        b->used = 0;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += size;
    a->bytes_used += size;
    memset(p, 0, size);
    return p;
}

char *arena_strndup(arena *a, const char *s, size_t len)
{
    char *p = arena_alloc(a, len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *arena_printf(arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    char *p = arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void ptr_vec_push(arena *a, ptr_vec *v, void *item)
{
    if (v->len == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        void **items = arena_alloc(a, cap * sizeof *items);
        if (v->len) memcpy(items, v->items, v->len * sizeof *items);
        v->items = items;
        v->cap = cap;
    }
    v->items[v->len++] = item;
}
