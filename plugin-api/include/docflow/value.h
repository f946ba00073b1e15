/*
 * docflow/value.h -- JSON-like values (null, bool, number, string, list,
 * map): document tags, request parameters, __results__, executor `with:`
 * arguments. One model for all of them, so YAML, JSON and protobuf's
 * google.protobuf.Struct all convert to the same thing.
 *
 * Values live in an arena. Containers remember their arena and copy what is
 * put into them, so a value from anywhere can be stored safely. Maps keep
 * insertion order and are searched linearly (they are small: tags, params).
 * The read functions match the df_host table entries of the same meaning.
 */
#ifndef DOCFLOW_VALUE_H
#define DOCFLOW_VALUE_H

#include <stddef.h>
#include "docflow/arena.h"
#include "docflow/executor.h"

#ifdef __cplusplus
extern "C" {
#endif

df_value *df_value_new_null(df_arena *a);
df_value *df_value_new_bool(df_arena *a, int b);
df_value *df_value_new_number(df_arena *a, double x);
/* Copies `len` bytes (SIZE_MAX = strlen) and NUL-terminates. */
df_value *df_value_new_string(df_arena *a, const char *s, size_t len);
df_value *df_value_new_list(df_arena *a);
df_value *df_value_new_map(df_arena *a);

df_value_type df_value_type_of(const df_value *v); /* NULL -> DF_VALUE_NULL */
const char *df_value_type_name(df_value_type t);   /* "string", "map", ... */
int df_value_bool(const df_value *v);
double df_value_number(const df_value *v);
const char *df_value_string(const df_value *v, size_t *len);
size_t df_value_len(const df_value *v);
const df_value *df_value_at(const df_value *v, size_t i);
const char *df_value_key_at(const df_value *v, size_t i);
const df_value *df_value_get(const df_value *v, const char *key);
/* Mutable access for code that owns the value. */
df_value *df_value_at_mut(df_value *v, size_t i);
df_value *df_value_get_mut(df_value *v, const char *key);

/* Deep-copy `item` into the container's arena and append / set it. */
int df_value_append(df_value *list, const df_value *item);
int df_value_set(df_value *map, const char *key, const df_value *item);
/* Set without copying: `item` must live in the container's arena. For
 * decoders that build a value bottom-up. */
int df_value_append_owned(df_value *list, df_value *item);
int df_value_set_owned(df_value *map, const char *key, df_value *item);
int df_value_put_string(df_value *container, const char *key, const char *s);
int df_value_put_number(df_value *container, const char *key, double x);
int df_value_put_bool(df_value *container, const char *key, int b);
int df_value_put_null(df_value *container, const char *key);
int df_value_remove(df_value *map, const char *key);

/* A deep copy in arena `a`. NULL gives NULL. */
df_value *df_value_copy(df_arena *a, const df_value *v);
/* Structural equality (maps compare as sets of keys). */
int df_value_equal(const df_value *x, const df_value *y);
/* Shallow merge: every key of `from` is set into `into` (Jina's dict.update). */
int df_value_merge(df_value *into, const df_value *from);

#ifdef __cplusplus
}
#endif
#endif
