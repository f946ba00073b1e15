/*
 * docflow/arena.h -- a bump allocator: everything one request (or one
 * decoded batch) allocates comes from one arena and is freed at once.
 *
 * Not thread-safe: one arena belongs to one thread at a time. Allocation
 * never returns NULL: on exhaustion the process stops with a message, the
 * way most servers treat malloc failure (nothing sensible can continue).
 */
#ifndef DOCFLOW_ARENA_H
#define DOCFLOW_ARENA_H

#include <stddef.h>
#include "docflow/executor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct df_arena df_arena;

/* A new arena whose first block holds `first_block` bytes (0 = 16 KiB). */
df_arena *df_arena_new(size_t first_block);
/* Frees the arena and everything allocated from it. NULL is fine. */
void df_arena_free(df_arena *a);
/* Frees everything allocated but keeps the largest block for reuse. */
void df_arena_reset(df_arena *a);
/* `size` bytes, 16-byte aligned, uninitialised. */
void *df_arena_alloc(df_arena *a, size_t size);
/* `size` zeroed bytes. */
void *df_arena_calloc(df_arena *a, size_t size);
/* Grows an allocation made from this arena (a copy: arenas do not free). */
void *df_arena_realloc(df_arena *a, void *old, size_t old_size, size_t new_size);
void *df_arena_memdup(df_arena *a, const void *p, size_t size);
/* NUL-terminated copies; NULL in gives NULL out. */
char *df_arena_strdup(df_arena *a, const char *s);
char *df_arena_strndup(df_arena *a, const char *s, size_t n);
char *df_arena_printf(df_arena *a, const char *fmt, ...) DF_PRINTF(2, 3);
/* Bytes handed out so far (for accounting and tests). */
size_t df_arena_used(const df_arena *a);

#ifdef __cplusplus
}
#endif
#endif
