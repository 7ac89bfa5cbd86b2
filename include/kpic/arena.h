/* arena.h — bump allocation for everything that lives as long as a compiled spec.
 *
 * The AST, its strings and the checker's annotations are allocated here and freed
 * together in one call, so no node needs its own free and a failed parse cannot leak.
 * Allocation failure ends the process with a message and exit status 2, leaving no
 * output file: kpic has no useful way to continue without memory, and checking every
 * node allocation would bury the parser.
 */
#ifndef KPIC_ARENA_H
#define KPIC_ARENA_H

#include <stddef.h>
#include <stdio.h>

typedef struct arena_block arena_block;

typedef struct arena {
    arena_block *head; /* block currently being filled; older blocks chained behind */
    size_t bytes_used; /* total handed out, for the performance notes */
} arena;

void arena_init(arena *a);
/* Frees every block; the arena may be reused after arena_init. */
void arena_free(arena *a);
/* Zeroed, 16-byte aligned memory valid until arena_free. */
void *arena_alloc(arena *a, size_t size);
/* A NUL-terminated copy of the len bytes at s. */
char *arena_strndup(arena *a, const char *s, size_t len);
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Growable array of pointers, backed by the arena (old storage is abandoned on growth,
 * which is fine for the short lists of a spec). */
typedef struct ptr_vec {
    void **items;
    size_t len, cap;
} ptr_vec;

void ptr_vec_push(arena *a, ptr_vec *v, void *item);

/* Memory for the host program, outside any arena: on failure, xalloc_failed. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
/* Zeroed like xcalloc, at an ALIGN-byte boundary (a power of two); free() frees it. */
void *xcalloc_aligned(size_t align, size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);

/* "kpic: out of memory (allocating SIZE bytes)" (0: without the size) on stderr,
 * then exit status 2 at once, without flushing stdout. For every allocation failure. */
_Noreturn void xalloc_failed(size_t size);
/* open_memstream, and its fclose, failing like xmalloc: a memstream that ran out of
 * memory while being written is a failure, never a shorter text. */
FILE *xopen_memstream(char **buf, size_t *len);
void xclose_memstream(FILE *f);

#endif
