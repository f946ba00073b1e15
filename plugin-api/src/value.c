/*
 * value.c -- JSON-like values in arenas: tags, parameters, results, with:.
 * Containers copy what is put into them (the ABI's "what a plugin sets is
 * copied"); the *_owned variants exist for decoders building bottom-up.
 */
#include "docflow/value.h"

#include <math.h>
#include <string.h>

#include "document_internal.h"

static df_value *value_alloc(df_arena *a, df_value_type t)
{
    df_value *v = df_arena_alloc(a, sizeof *v);
    memset(v, 0, sizeof *v);
    v->type = (uint8_t)t;
    return v;
}

df_value *df_value_new_null(df_arena *a)
{
    return value_alloc(a, DF_VALUE_NULL);
}

df_value *df_value_new_bool(df_arena *a, int b)
{
    df_value *v = value_alloc(a, DF_VALUE_BOOL);
    v->u.b = b ? 1 : 0;
    return v;
}

df_value *df_value_new_number(df_arena *a, double x)
{
    df_value *v = value_alloc(a, DF_VALUE_NUMBER);
    v->u.num = x;
    return v;
}

df_value *df_value_new_string(df_arena *a, const char *s, size_t len)
{
    if (!s) s = "";
    if (len == (size_t)-1) len = strlen(s);
    df_value *v = value_alloc(a, DF_VALUE_STRING);
    v->u.str.s = df_arena_strndup(a, s, len);
    v->u.str.len = len;
    return v;
}

static df_value *container_new(df_arena *a, df_value_type t)
{
    df_value *v = value_alloc(a, t);
    v->u.c.arena = a;
    return v;
}

df_value *df_value_new_list(df_arena *a)
{
    return container_new(a, DF_VALUE_LIST);
}
df_value *df_value_new_map(df_arena *a)
{
    return container_new(a, DF_VALUE_MAP);
}

df_value_type df_value_type_of(const df_value *v)
{
    return v ? (df_value_type)v->type : DF_VALUE_NULL;
}

const char *df_value_type_name(df_value_type t)
{
    static const char *names[] = {"null", "bool", "number", "string", "list", "map"};
    return (unsigned)t < 6 ? names[t] : "unknown";
}

int df_value_bool(const df_value *v)
{
    return v && v->type == DF_VALUE_BOOL ? v->u.b : 0;
}

double df_value_number(const df_value *v)
{
    return v && v->type == DF_VALUE_NUMBER ? v->u.num : 0.0;
}

const char *df_value_string(const df_value *v, size_t *len)
{
    if (!v || v->type != DF_VALUE_STRING) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = v->u.str.len;
    return v->u.str.s;
}

static int is_container(const df_value *v)
{
    return v && (v->type == DF_VALUE_LIST || v->type == DF_VALUE_MAP);
}

size_t df_value_len(const df_value *v)
{
    return is_container(v) ? v->u.c.n : 0;
}

const df_value *df_value_at(const df_value *v, size_t i)
{
    return is_container(v) && i < v->u.c.n ? v->u.c.items[i] : NULL;
}

df_value *df_value_at_mut(df_value *v, size_t i)
{
    return is_container(v) && i < v->u.c.n ? v->u.c.items[i] : NULL;
}

const char *df_value_key_at(const df_value *v, size_t i)
{
    return v && v->type == DF_VALUE_MAP && i < v->u.c.n ? v->u.c.keys[i] : NULL;
}

static long map_index(const df_value *v, const char *key)
{
    if (!v || v->type != DF_VALUE_MAP || !key) return -1;
    for (size_t i = 0; i < v->u.c.n; i++)
        if (strcmp(v->u.c.keys[i], key) == 0) return (long)i;
    return -1;
}

const df_value *df_value_get(const df_value *v, const char *key)
{
    long i = map_index(v, key);
    return i < 0 ? NULL : v->u.c.items[i];
}

df_value *df_value_get_mut(df_value *v, const char *key)
{
    long i = map_index(v, key);
    return i < 0 ? NULL : v->u.c.items[i];
}

static void container_grow(df_value *c)
{
    if (c->u.c.n < c->u.c.cap) return;
    size_t cap = c->u.c.cap ? c->u.c.cap * 2 : 4;
    df_arena *a = c->u.c.arena;
    c->u.c.items =
        df_arena_realloc(a, c->u.c.items, c->u.c.n * sizeof(df_value *), cap * sizeof(df_value *));
    if (c->type == DF_VALUE_MAP)
        c->u.c.keys =
            df_arena_realloc(a, c->u.c.keys, c->u.c.n * sizeof(char *), cap * sizeof(char *));
    c->u.c.cap = cap;
}

int df_value_append_owned(df_value *list, df_value *item)
{
    if (!list || list->type != DF_VALUE_LIST) return DF_E_INVALID_INPUT;
    container_grow(list);
    list->u.c.items[list->u.c.n++] = item ? item : df_value_new_null(list->u.c.arena);
    return DF_OK;
}

int df_value_set_owned(df_value *map, const char *key, df_value *item)
{
    if (!map || map->type != DF_VALUE_MAP || !key) return DF_E_INVALID_INPUT;
    if (!item) item = df_value_new_null(map->u.c.arena);
    long i = map_index(map, key);
    if (i >= 0) {
        map->u.c.items[i] = item;
        return DF_OK;
    }
    container_grow(map);
    map->u.c.keys[map->u.c.n] = df_arena_strdup(map->u.c.arena, key);
    map->u.c.items[map->u.c.n++] = item;
    return DF_OK;
}

int df_value_append(df_value *list, const df_value *item)
{
    if (!list || list->type != DF_VALUE_LIST) return DF_E_INVALID_INPUT;
    return df_value_append_owned(list, df_value_copy(list->u.c.arena, item));
}

int df_value_set(df_value *map, const char *key, const df_value *item)
{
    if (!map || map->type != DF_VALUE_MAP) return DF_E_INVALID_INPUT;
    return df_value_set_owned(map, key, df_value_copy(map->u.c.arena, item));
}

static int put_owned(df_value *c, const char *key, df_value *item)
{
    if (!is_container(c)) return DF_E_INVALID_INPUT;
    if (c->type == DF_VALUE_MAP) return df_value_set_owned(c, key, item);
    return df_value_append_owned(c, item);
}

int df_value_put_string(df_value *c, const char *key, const char *s)
{
    if (!is_container(c)) return DF_E_INVALID_INPUT;
    return put_owned(c, key, df_value_new_string(c->u.c.arena, s, (size_t)-1));
}

int df_value_put_number(df_value *c, const char *key, double x)
{
    if (!is_container(c)) return DF_E_INVALID_INPUT;
    return put_owned(c, key, df_value_new_number(c->u.c.arena, x));
}

int df_value_put_bool(df_value *c, const char *key, int b)
{
    if (!is_container(c)) return DF_E_INVALID_INPUT;
    return put_owned(c, key, df_value_new_bool(c->u.c.arena, b));
}

int df_value_put_null(df_value *c, const char *key)
{
    if (!is_container(c)) return DF_E_INVALID_INPUT;
    return put_owned(c, key, df_value_new_null(c->u.c.arena));
}

int df_value_remove(df_value *map, const char *key)
{
    long i = map_index(map, key);
    if (i < 0) return DF_E_NOT_FOUND;
    size_t rest = map->u.c.n - (size_t)i - 1;
    memmove(&map->u.c.keys[i], &map->u.c.keys[i + 1], rest * sizeof(char *));
    memmove(&map->u.c.items[i], &map->u.c.items[i + 1], rest * sizeof(df_value *));
    map->u.c.n--;
    return DF_OK;
}

df_value *df_value_copy(df_arena *a, const df_value *v)
{
    if (!v) return NULL;
    switch (v->type) {
    case DF_VALUE_BOOL:
        return df_value_new_bool(a, v->u.b);
    case DF_VALUE_NUMBER:
        return df_value_new_number(a, v->u.num);
    case DF_VALUE_STRING:
        return df_value_new_string(a, v->u.str.s, v->u.str.len);
    case DF_VALUE_LIST:
    case DF_VALUE_MAP:
        break;
    default:
        return df_value_new_null(a);
    }
    df_value *c = container_new(a, (df_value_type)v->type);
    size_t n = v->u.c.n;
    c->u.c.cap = c->u.c.n = n;
    if (!n) return c;
    c->u.c.items = df_arena_alloc(a, n * sizeof(df_value *));
    if (v->type == DF_VALUE_MAP) c->u.c.keys = df_arena_alloc(a, n * sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        c->u.c.items[i] = df_value_copy(a, v->u.c.items[i]);
        if (v->type == DF_VALUE_MAP) c->u.c.keys[i] = df_arena_strdup(a, v->u.c.keys[i]);
    }
    return c;
}

int df_value_equal(const df_value *x, const df_value *y)
{
    df_value_type t = df_value_type_of(x);
    if (t != df_value_type_of(y)) return 0;
    switch (t) {
    case DF_VALUE_NULL:
        return 1;
    case DF_VALUE_BOOL:
        return x->u.b == y->u.b;
    case DF_VALUE_NUMBER:
        return x->u.num == y->u.num || (isnan(x->u.num) && isnan(y->u.num));
    case DF_VALUE_STRING:
        return x->u.str.len == y->u.str.len && memcmp(x->u.str.s, y->u.str.s, x->u.str.len) == 0;
    default:
        break;
    }
    if (x->u.c.n != y->u.c.n) return 0;
    for (size_t i = 0; i < x->u.c.n; i++) {
        const df_value *other =
            t == DF_VALUE_MAP ? df_value_get(y, x->u.c.keys[i]) : y->u.c.items[i];
        if (t == DF_VALUE_MAP && map_index(y, x->u.c.keys[i]) < 0) return 0;
        if (!df_value_equal(x->u.c.items[i], other)) return 0;
    }
    return 1;
}

int df_value_merge(df_value *into, const df_value *from)
{
    if (!from) return DF_OK;
    if (!into || into->type != DF_VALUE_MAP || from->type != DF_VALUE_MAP)
        return DF_E_INVALID_INPUT;
    for (size_t i = 0; i < from->u.c.n; i++) {
        int rc = df_value_set(into, from->u.c.keys[i], from->u.c.items[i]);
        if (rc) return rc;
    }
    return DF_OK;
}
