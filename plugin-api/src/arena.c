/*
 * arena.c -- the bump allocator behind request memory. Blocks grow
 * geometrically; large allocations get a block of their own so a 1 MB blob
 * does not waste a doubled block.
 */
#include "docflow/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN         16
#define ARENA_DEFAULT_BLOCK (16 * 1024)

typedef struct arena_block {
    struct arena_block *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    _Alignas(ARENA_ALIGN) unsigned char data[];
} arena_block;

struct df_arena {
    arena_block *head; /* the block being filled */
    size_t next_size;
    size_t used_total;
};

static void arena_die(size_t want)
{
    fprintf(stderr, "docflow: out of memory allocating %zu bytes\n", want);
    abort();
}

static arena_block *block_new(size_t size)
{
    arena_block *b = malloc(sizeof *b + size);
    if (!b) arena_die(size);
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

df_arena *df_arena_new(size_t first_block)
{
    df_arena *a = malloc(sizeof *a);
    if (!a) arena_die(sizeof *a);
    a->next_size = first_block ? first_block : ARENA_DEFAULT_BLOCK;
    a->head = block_new(a->next_size);
    a->used_total = 0;
    return a;
}

void df_arena_free(df_arena *a)
{
    if (!a) return;
    arena_block *b = a->head;
    while (b) {
        arena_block *next = b->next;
        free(b);
        b = next;
    }
    free(a);
}

void df_arena_reset(df_arena *a)
{
    arena_block *keep = a->head;
    for (arena_block *b = a->head; b; b = b->next)
        if (b->size > keep->size) keep = b;
    arena_block *b = a->head;
    while (b) {
        arena_block *next = b->next;
        if (b != keep) free(b);
        b = next;
    }
    keep->next = NULL;
    keep->used = 0;
    a->head = keep;
    a->used_total = 0;
}

void *df_arena_alloc(df_arena *a, size_t size)
{
    size_t rounded = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (rounded < size) arena_die(size);
    arena_block *h = a->head;
    if (h->size - h->used < rounded) {
        if (rounded > a->next_size / 4) {
            /* A big allocation gets its own block, linked behind the head so
             * the head keeps serving small allocations. */
            arena_block *big = block_new(rounded);
            big->used = rounded;
            big->next = h->next;
            h->next = big;
            a->used_total += rounded;
            return big->data;
        }
        if (a->next_size < (64u << 20)) a->next_size *= 2;
        arena_block *nb = block_new(a->next_size);
        nb->next = h;
        a->head = h = nb;
    }
    void *p = h->data + h->used;
    h->used += rounded;
    a->used_total += rounded;
    return p;
}

void *df_arena_calloc(df_arena *a, size_t size)
{
    void *p = df_arena_alloc(a, size);
    memset(p, 0, size);
    return p;
}

void *df_arena_realloc(df_arena *a, void *old, size_t old_size, size_t new_size)
{
    if (new_size <= old_size && old) return old;
    void *p = df_arena_alloc(a, new_size);
    if (old && old_size) memcpy(p, old, old_size < new_size ? old_size : new_size);
    return p;
}

void *df_arena_memdup(df_arena *a, const void *p, size_t size)
{
    void *q = df_arena_alloc(a, size ? size : 1);
    if (size) memcpy(q, p, size);
    return q;
}

char *df_arena_strndup(df_arena *a, const char *s, size_t n)
{
    if (!s) return NULL;
    char *q = df_arena_alloc(a, n + 1);
    memcpy(q, s, n);
    q[n] = '\0';
    return q;
}

char *df_arena_strdup(df_arena *a, const char *s)
{
    return s ? df_arena_strndup(a, s, strlen(s)) : NULL;
}

char *df_arena_printf(df_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return df_arena_strdup(a, "");
    char *q = df_arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(q, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return q;
}

size_t df_arena_used(const df_arena *a)
{
    return a->used_total;
}
