/*
 * executor_config.c -- an executor's YAML (Jina's executor YAML) loaded and
 * checked, so a mistake is reported with file:line:col and what to change
 * before any library is opened; and the flow's overrides on top of it
 * (uses_with, uses_metas, uses_requests).
 *
 * Not for: finding or opening the executor library, or binding endpoints to
 * handlers (executor_loader.c and executor_runtime.c do that).
 */
#include "docflow/executor_config.h"

#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "document_internal.h"

#define TOP_KEYS   "jtype, with, metas, requests"
#define METAS_KEYS "name, description, workspace, library, batch_size, url, keywords"

/* What a check needs to word its message: positions (NULL for overrides,
 * whose values come from somewhere else) and the name of the section as the
 * user wrote it ("metas" in the YAML, "uses_metas" in a flow). */
typedef struct checker {
    const df_yaml *yaml;
    const char *source; /* prefix when a value has no position; NULL: none */
    const char *section;
    df_value *warnings; /* list of strings; may be NULL */
    df_error *err;
} checker;

static const char *type_phrase(const df_value *v)
{
    switch (df_value_type_of(v)) {
    case DF_VALUE_BOOL:
        return "a boolean";
    case DF_VALUE_NUMBER:
        return "a number";
    case DF_VALUE_STRING:
        return "a string";
    case DF_VALUE_LIST:
        return "a list";
    case DF_VALUE_MAP:
        return "a mapping";
    default:
        return "null";
    }
}

/* "file:line:col: " for a value or a key, "source: ", or "". */
static void prefix_of(const checker *ck, const df_value *map, const char *key, const df_value *v,
                      char *out, size_t size)
{
    df_yaml_pos p = {0, 0};
    if (ck->yaml) p = key ? df_yaml_key_pos(ck->yaml, map, key) : df_yaml_pos_of(ck->yaml, v);
    if (p.line)
        snprintf(out, size, "%s:%d:%d: ", df_yaml_name(ck->yaml), p.line, p.col);
    else if (ck->source)
        snprintf(out, size, "%s: ", ck->source);
    else
        out[0] = '\0';
}

static int fail(const checker *ck, const df_value *map, const char *key, const df_value *v,
                const char *fmt, ...) DF_PRINTF(5, 6);
static int fail(const checker *ck, const df_value *map, const char *key, const df_value *v,
                const char *fmt, ...)
{
    char where[512], msg[DF_ERROR_MSG_MAX];
    prefix_of(ck, map, key, v, where, sizeof where);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return df_error_set(ck->err, DF_E_INVALID_INPUT, "%s%s", where, msg);
}

/* Warnings point at the key: the key is what is unknown. */
static void warn(const checker *ck, const df_value *map, const char *key, const char *fmt, ...)
    DF_PRINTF(4, 5);
static void warn(const checker *ck, const df_value *map, const char *key, const char *fmt, ...)
{
    if (!ck->warnings) return;
    char where[512], msg[DF_ERROR_MSG_MAX];
    prefix_of(ck, map, key, NULL, where, sizeof where);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    df_arena *a = ck->warnings->u.c.arena;
    df_value_append_owned(ck->warnings,
                          df_value_new_string(a, df_arena_printf(a, "%s%s", where, msg), SIZE_MAX));
}

static int is_identifier(const char *s)
{
    if (!s || !*s || (*s >= '0' && *s <= '9')) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

/* ---- the sections ------------------------------------------------------------ */

static int check_jtype(const checker *ck, const df_value *map, const df_value *v)
{
    const char *s = df_value_string(v, NULL);
    if (!s)
        return fail(ck, map, NULL, v,
                    "'jtype' must be a string naming the executor type (e.g. jtype: Echo), got %s",
                    type_phrase(v));
    if (!is_identifier(s))
        return fail(ck, map, NULL, v,
                    "'jtype: %s' is not a valid executor type name (letters, digits and '_', "
                    "not starting with a digit)",
                    s);
    return DF_OK;
}

/* with / metas / requests: a mapping, or null (`with:` with nothing under it)
 * meaning empty. */
static int check_section_type(const checker *ck, const df_value *map, const char *key,
                              const df_value *v)
{
    df_value_type t = df_value_type_of(v);
    if (t == DF_VALUE_MAP || t == DF_VALUE_NULL) return DF_OK;
    return fail(ck, map, NULL, v, "'%s' must be a mapping, got %s", key, type_phrase(v));
}

static int check_batch_size(const checker *ck, const df_value *metas, const df_value *v)
{
    double x = df_value_number(v);
    if (df_value_type_of(v) == DF_VALUE_NUMBER && x >= 1 && x <= INT_MAX && x == floor(x))
        return DF_OK;
    if (df_value_type_of(v) == DF_VALUE_NUMBER)
        return fail(ck, metas, NULL, v,
                    "%s.batch_size must be a whole number greater than 0, got %g", ck->section, x);
    return fail(ck, metas, NULL, v, "%s.batch_size must be a whole number greater than 0, got %s",
                ck->section, type_phrase(v));
}

static int check_keywords(const checker *ck, const df_value *metas, const df_value *v)
{
    int ok = df_value_type_of(v) == DF_VALUE_LIST;
    for (size_t i = 0; ok && i < df_value_len(v); i++)
        ok = df_value_type_of(df_value_at(v, i)) == DF_VALUE_STRING;
    if (ok) return DF_OK;
    return fail(ck, metas, NULL, v, "%s.keywords must be a list of strings, got %s", ck->section,
                type_phrase(v));
}

/* Jina's metas that docflow uses or keeps for the hub; null means unset. */
static int check_metas(const checker *ck, const df_value *metas)
{
    static const char *const strings[] = {"name",    "description", "workspace",
                                          "library", "url",         NULL};
    for (size_t i = 0; i < df_value_len(metas); i++) {
        const char *key = df_value_key_at(metas, i);
        const df_value *v = df_value_at(metas, i);
        int is_string_key = 0;
        for (const char *const *k = strings; *k; k++)
            is_string_key |= strcmp(key, *k) == 0;
        int rc = DF_OK;
        if (df_value_type_of(v) == DF_VALUE_NULL)
            continue;
        else if (is_string_key && df_value_type_of(v) != DF_VALUE_STRING)
            rc = fail(ck, metas, NULL, v, "%s.%s must be a string, got %s", ck->section, key,
                      type_phrase(v));
        else if (strcmp(key, "batch_size") == 0)
            rc = check_batch_size(ck, metas, v);
        else if (strcmp(key, "keywords") == 0)
            rc = check_keywords(ck, metas, v);
        else if (strcmp(key, "py_modules") == 0)
            warn(ck, metas, key,
                 "'%s.py_modules' is not supported by docflow (ignored): executors are shared "
                 "libraries, named by metas.library or found by jtype",
                 ck->section);
        else if (!is_string_key)
            warn(ck, metas, key, "unknown key '%s' in %s (known: " METAS_KEYS ")", key,
                 ck->section);
        if (rc) return rc;
    }
    return DF_OK;
}

/* endpoint -> method name. "/default" (any endpoint without its own row)
 * starts with '/' like the rest. */
static int check_requests(const checker *ck, const df_value *requests)
{
    for (size_t i = 0; i < df_value_len(requests); i++) {
        const char *endpoint = df_value_key_at(requests, i);
        const df_value *v = df_value_at(requests, i);
        const char *method = df_value_string(v, NULL);
        if (endpoint[0] != '/')
            return fail(ck, requests, endpoint, NULL,
                        "%s: endpoint '%s' must start with '/' (e.g. '/%s')", ck->section, endpoint,
                        endpoint);
        if (!method)
            return fail(ck, requests, NULL, v, "%s['%s'] must be a method name (a string), got %s",
                        ck->section, endpoint, type_phrase(v));
        if (!is_identifier(method))
            return fail(ck, requests, NULL, v,
                        "%s['%s']: '%s' is not a method name (letters, digits and '_')",
                        ck->section, endpoint, method);
    }
    return DF_OK;
}

/* ---- loading ------------------------------------------------------------------ */

static int read_top_level(df_executor_config *c, const checker *ck, const df_value *map)
{
    for (size_t i = 0; i < df_value_len(map); i++) {
        const char *key = df_value_key_at(map, i);
        df_value *v = df_value_at_mut((df_value *)map, i);
        checker sub = *ck;
        sub.section = key;
        int rc = DF_OK;
        if (strcmp(key, "jtype") == 0) {
            rc = check_jtype(ck, map, v);
            c->jtype = df_value_string(v, NULL);
        } else if (strcmp(key, "with") == 0) {
            rc = check_section_type(ck, map, key, v);
            c->with = v;
        } else if (strcmp(key, "metas") == 0) {
            rc = check_section_type(ck, map, key, v);
            if (!rc) rc = check_metas(&sub, v);
            c->metas = v;
        } else if (strcmp(key, "requests") == 0) {
            rc = check_section_type(ck, map, key, v);
            if (!rc) rc = check_requests(&sub, v);
            c->requests = v;
        } else if (strcmp(key, "py_modules") == 0 || strcmp(key, "dynamic_batching") == 0) {
            warn(ck, map, key, "'%s' is not supported by docflow (ignored)", key);
        } else {
            warn(ck, map, key, "unknown key '%s' in executor config (known: " TOP_KEYS ")", key);
        }
        if (rc) return rc;
    }
    return DF_OK;
}

df_executor_config *df_executor_config_from_value(df_arena *a, const df_value *map,
                                                  const df_yaml *yaml, const char *dir,
                                                  df_error *err)
{
    df_executor_config *c = df_arena_calloc(a, sizeof *c);
    c->source = df_arena_strdup(a, yaml ? df_yaml_name(yaml) : "<inline>");
    c->dir = df_arena_strdup(a, dir ? dir : ".");
    c->yaml = yaml;
    c->warnings = df_value_new_list(a);
    checker ck = {yaml, c->source, "executor config", c->warnings, err};
    if (df_value_type_of(map) != DF_VALUE_MAP) {
        fail(&ck, NULL, NULL, map,
             "an executor config must be a mapping with 'jtype' (and optionally with, metas, "
             "requests), got %s",
             type_phrase(map));
        return NULL;
    }
    if (read_top_level(c, &ck, map)) return NULL;
    if (!c->jtype) {
        fail(&ck, NULL, NULL, map,
             "missing 'jtype' (the executor type): add 'jtype: <ExecutorType>', e.g. "
             "'jtype: Echo', or tag the mapping with '!<ExecutorType>'");
        return NULL;
    }
    /* Null sections (`with:` and nothing below) read as empty mappings. */
    if (df_value_type_of(c->with) != DF_VALUE_MAP) c->with = df_value_new_map(a);
    if (df_value_type_of(c->metas) != DF_VALUE_MAP) c->metas = df_value_new_map(a);
    if (df_value_type_of(c->requests) != DF_VALUE_MAP) c->requests = df_value_new_map(a);
    return c;
}

/* The folder of the YAML file, absolute when it can be resolved (so a later
 * chdir does not break metas.library), else as given. */
static const char *config_dir(df_arena *a, const char *path)
{
    char *copy = df_arena_strdup(a, path);
    const char *dir = dirname(copy);
    char *abs = realpath(dir, NULL);
    if (!abs) return df_arena_strdup(a, dir);
    const char *out = df_arena_strdup(a, abs);
    free(abs);
    return out;
}

df_executor_config *df_executor_config_load(df_arena *a, const char *path, const df_value *context,
                                            df_error *err)
{
    df_yaml *y = df_yaml_load_file(a, path, context, err);
    if (!y) return NULL;
    const df_value *root = df_yaml_root(y);
    if (df_value_type_of(root) == DF_VALUE_NULL) {
        df_error_set(err, DF_E_INVALID_INPUT,
                     "%s: the file is empty; an executor config needs at least "
                     "'jtype: <ExecutorType>'",
                     path);
        return NULL;
    }
    return df_executor_config_from_value(a, root, y, config_dir(a, path), err);
}

df_executor_config *df_executor_config_for_jtype(df_arena *a, const char *jtype, const char *dir)
{
    df_executor_config *c = df_arena_calloc(a, sizeof *c);
    c->source = df_arena_printf(a, "<jtype %s>", jtype ? jtype : "");
    c->dir = df_arena_strdup(a, dir ? dir : ".");
    c->jtype = df_arena_strdup(a, jtype ? jtype : "");
    c->with = df_value_new_map(a);
    c->metas = df_value_new_map(a);
    c->requests = df_value_new_map(a);
    c->warnings = df_value_new_list(a);
    return c;
}

/* ---- overrides ------------------------------------------------------------------ */

/* A section that is still a node of the parsed tree is replaced by a fresh
 * mapping holding the same children before it is changed: the tree may be
 * a flow's (an inline `uses:`), and other readers must not see the merge.
 * The children keep their identity, so their positions stay known. */
static df_value *writable_section(const df_executor_config *c, df_value *section)
{
    if (!c->yaml || !df_yaml_pos_of(c->yaml, section).line) return section;
    df_value *fresh = df_value_new_map(section->u.c.arena);
    size_t n = section->u.c.n;
    if (n) {
        fresh->u.c.keys =
            df_arena_memdup(section->u.c.arena, section->u.c.keys, n * sizeof(char *));
        fresh->u.c.items =
            df_arena_memdup(section->u.c.arena, section->u.c.items, n * sizeof(df_value *));
    }
    fresh->u.c.n = fresh->u.c.cap = n;
    return fresh;
}

static int override_type(const checker *ck, const char *name, const df_value *v)
{
    df_value_type t = df_value_type_of(v);
    if (t == DF_VALUE_MAP || t == DF_VALUE_NULL) return DF_OK;
    return df_error_set(ck->err, DF_E_INVALID_INPUT, "%s must be a mapping, got %s", name,
                        type_phrase(v));
}

int df_executor_config_override(df_executor_config *c, const df_value *with, const df_value *metas,
                                const df_value *requests, df_error *err)
{
    checker ck = {NULL, NULL, "uses_metas", c->warnings, err};
    checker req_ck = {NULL, NULL, "uses_requests", NULL, err};
    /* Everything is checked before anything changes: a failed override
     * leaves the configuration as it was. */
    if (override_type(&ck, "uses_with", with) || override_type(&ck, "uses_metas", metas) ||
        override_type(&ck, "uses_requests", requests) || check_requests(&req_ck, requests) ||
        check_metas(&ck, metas))
        return err ? err->code : DF_E_INVALID_INPUT;
    const df_value *from[3] = {with, metas, requests};
    df_value **into[3] = {&c->with, &c->metas, &c->requests};
    for (int i = 0; i < 3; i++) {
        if (!df_value_len(from[i])) continue;
        *into[i] = writable_section(c, *into[i]);
        int rc = df_value_merge(*into[i], from[i]);
        if (rc) return df_error_set(err, rc, "%s: cannot merge the override", c->source);
    }
    return DF_OK;
}

const char *df_executor_config_where(const df_executor_config *c, const df_value *v)
{
    if (!c) return "executor";
    if (c->yaml && v && df_yaml_pos_of(c->yaml, v).line) return df_yaml_where(c->yaml, v);
    return c->source ? c->source : "executor";
}
