/*
 * hub_manifest.c -- manifest.yml and its JSON form.
 *
 * Both forms are read through df_value (the YAML reader keeps positions for
 * messages; JSON has none) and checked by one function. Both are written
 * from one df_value tree, so YAML and JSON cannot disagree on a field.
 */
#include "hub_manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "docflow/json_codec.h"
#include "docflow/value.h"
#include "docflow/yaml_value.h"
#include "hub_ident.h"

/* Where messages point: a YAML position, or the document's name. */
typedef struct reader {
    df_arena *a;
    const df_yaml *yaml; /* NULL for JSON */
    const char *name;
    hub_manifest *m;
} reader;

static const char *where(const reader *r, const df_value *v)
{
    return r->yaml && v ? df_yaml_where(r->yaml, v) : r->name;
}

static const char *const known_keys[] = {
    "manifest_version", "namespace",   "name",     "version", "description", "license", "url",
    "keywords",         "abi_version", "platform", "library", "executors",   "files",   NULL};

/* ---- typed field reads --------------------------------------------------------- */

static int get_string(const reader *r, const df_value *map, const char *key, int required,
                      const char **out, df_error *err)
{
    const df_value *v = df_value_get(map, key);
    *out = "";
    if (!v || df_value_type_of(v) == DF_VALUE_NULL) {
        if (!required) return DF_OK;
        return df_error_set(err, DF_E_INVALID_INPUT, "%s: the manifest has no '%s' (required)",
                            where(r, map), key);
    }
    if (df_value_type_of(v) != DF_VALUE_STRING)
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "%s: '%s' must be a string, got a %s (quote it: %s: \"...\")",
                            where(r, v), key, df_value_type_name(df_value_type_of(v)), key);
    *out = df_value_string(v, NULL);
    if (required && !**out)
        return df_error_set(err, DF_E_INVALID_INPUT, "%s: '%s' must not be empty", where(r, v),
                            key);
    return DF_OK;
}

/* A list of strings (absent or null: empty). `check` (may be NULL) vets
 * each item; `rule` says what an item must be. */
static int get_string_list(const reader *r, const df_value *map, const char *key, const char ***out,
                           size_t *n, int (*check)(const char *), const char *rule, df_error *err)
{
    const df_value *v = df_value_get(map, key);
    *out = NULL;
    *n = 0;
    if (!v || df_value_type_of(v) == DF_VALUE_NULL) return DF_OK;
    if (df_value_type_of(v) != DF_VALUE_LIST)
        return df_error_set(err, DF_E_INVALID_INPUT, "%s: '%s' must be a list of %s", where(r, v),
                            key, rule);
    size_t len = df_value_len(v);
    *out = df_arena_calloc(r->a, (len + 1) * sizeof **out);
    for (size_t i = 0; i < len; i++) {
        const df_value *item = df_value_at(v, i);
        const char *s = df_value_string(item, NULL);
        if (df_value_type_of(item) != DF_VALUE_STRING || (check && !check(s)))
            return df_error_set(err, DF_E_INVALID_INPUT, "%s: %s[%zu] must be %s", where(r, item),
                                key, i, rule);
        (*out)[i] = s;
    }
    *n = len;
    return DF_OK;
}

static int any_string(const char *s)
{
    (void)s;
    return 1;
}

static int valid_jtype(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9')) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

static int valid_endpoint(const char *s)
{
    return s[0] == '/' && strlen(s) < 256;
}

int hub_package_path_valid(const char *path)
{
    size_t len = strlen(path);
    if (len == 0 || len > 255) return 0;
    for (int depth = 0;; depth++) {
        size_t n = strcspn(path, "/");
        /* An empty part means "//" or a leading or trailing '/'; a leading
         * '.' covers ".", ".." and hidden names (reserved for docflow). */
        if (n == 0 || path[0] == '.' || depth >= 16) return 0;
        for (size_t i = 0; i < n; i++) {
            char c = path[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-' || c == '+'))
                return 0;
        }
        if (!path[n]) return 1;
        path += n + 1;
    }
}

/* ---- sections -------------------------------------------------------------------- */

static int read_identity(const reader *r, const df_value *root, df_error *err)
{
    hub_manifest *m = r->m;
    int rc;
    if ((rc = get_string(r, root, "namespace", 1, &m->ns, err)) ||
        (rc = get_string(r, root, "name", 1, &m->name, err)) ||
        (rc = get_string(r, root, "version", 1, &m->version, err)))
        return rc;
    if (!hub_name_valid(m->ns) || !hub_name_valid(m->name)) {
        const char *key = hub_name_valid(m->ns) ? "name" : "namespace";
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "%s: %s '%s' must match [a-z0-9]+([._-][a-z0-9]+)* (lowercase, at "
                            "most %d characters)",
                            where(r, df_value_get(root, key)), key,
                            hub_name_valid(m->ns) ? m->name : m->ns, HUB_COMPONENT_MAX);
    }
    hub_semver v;
    df_error verr = DF_ERROR_INIT;
    if (hub_semver_parse(m->version, &v, &verr) != DF_OK)
        return df_error_set(err, DF_E_INVALID_INPUT, "%s: version: %s",
                            where(r, df_value_get(root, "version")), verr.msg);
    return DF_OK;
}

static int read_manifest_version(const reader *r, const df_value *root, df_error *err)
{
    const df_value *v = df_value_get(root, "manifest_version");
    if (!v) return DF_OK;
    if (df_value_type_of(v) != DF_VALUE_NUMBER || df_value_number(v) != 1)
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "%s: manifest_version must be 1 (this docflow reads version 1 "
                            "manifests; upgrade docflow for newer ones)",
                            where(r, v));
    return DF_OK;
}

static int read_abi(const reader *r, const df_value *root, int complete, df_error *err)
{
    hub_manifest *m = r->m;
    const char *s;
    int rc = get_string(r, root, "abi_version", complete, &s, err);
    if (rc || !*s) return rc;
    unsigned major, minor;
    int used = 0;
    if (sscanf(s, "%3u.%3u%n", &major, &minor, &used) != 2 || s[used] != '\0' || s[0] == '+' ||
        s[0] == ' ')
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "%s: abi_version must be \"MAJOR.MINOR\" (e.g. \"1.0\"), got '%s'",
                            where(r, df_value_get(root, "abi_version")), s);
    m->has_abi = 1;
    m->abi_major = major;
    m->abi_minor = minor;
    return DF_OK;
}

static int read_library(const reader *r, const df_value *root, int complete, df_error *err)
{
    hub_manifest *m = r->m;
    int rc = get_string(r, root, "library", complete, &m->library, err);
    if (rc || !*m->library) return rc;
    size_t len = strlen(m->library);
    if (strncmp(m->library, "lib/", 4) != 0 || len < 8 || strcmp(m->library + len - 3, ".so") ||
        !hub_package_path_valid(m->library))
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "%s: library must be a path lib/<name>.so inside the package, got '%s'",
                            where(r, df_value_get(root, "library")), m->library);
    return DF_OK;
}

static int read_executor(const reader *r, const df_value *v, hub_executor_info *e, df_error *err)
{
    if (df_value_type_of(v) != DF_VALUE_MAP)
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "%s: each executor must be a mapping with jtype and endpoints",
                            where(r, v));
    int rc;
    if ((rc = get_string(r, v, "jtype", 1, &e->jtype, err)) ||
        (rc = get_string(r, v, "version", 0, &e->version, err)) ||
        (rc = get_string(r, v, "description", 0, &e->description, err)) ||
        (rc = get_string_list(r, v, "endpoints", &e->endpoints, &e->n_endpoints, valid_endpoint,
                              "an endpoint starting with '/'", err)))
        return rc;
    if (!valid_jtype(e->jtype))
        return df_error_set(err, DF_E_INVALID_INPUT, "%s: jtype '%s' is not an identifier",
                            where(r, df_value_get(v, "jtype")), e->jtype);
    const df_value *d = df_value_get(v, "default");
    if (d && df_value_type_of(d) != DF_VALUE_BOOL)
        return df_error_set(err, DF_E_INVALID_INPUT, "%s: default must be true or false",
                            where(r, d));
    e->has_default = d && df_value_bool(d);
    return DF_OK;
}

static int read_executors(const reader *r, const df_value *root, int complete, df_error *err)
{
    hub_manifest *m = r->m;
    const df_value *v = df_value_get(root, "executors");
    if (!v || df_value_type_of(v) == DF_VALUE_NULL) {
        if (!complete) return DF_OK;
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "%s: the manifest has no 'executors' (build writes them from the .so)",
                            r->name);
    }
    if (df_value_type_of(v) != DF_VALUE_LIST || (complete && df_value_len(v) == 0))
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "%s: executors must be a non-empty list of {jtype, endpoints}",
                            where(r, v));
    m->n_executors = df_value_len(v);
    m->executors = df_arena_calloc(r->a, (m->n_executors + 1) * sizeof *m->executors);
    for (size_t i = 0; i < m->n_executors; i++) {
        int rc = read_executor(r, df_value_at(v, i), &m->executors[i], err);
        if (rc) return rc;
    }
    return DF_OK;
}

static int compare_files(const void *x, const void *y)
{
    return strcmp(((const hub_file_info *)x)->path, ((const hub_file_info *)y)->path);
}

static int read_files(const reader *r, const df_value *root, int complete, df_error *err)
{
    hub_manifest *m = r->m;
    const df_value *v = df_value_get(root, "files");
    if (!v || df_value_type_of(v) == DF_VALUE_NULL) {
        if (!complete) return DF_OK;
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "%s: the manifest has no 'files' (build writes them)", r->name);
    }
    if (df_value_type_of(v) != DF_VALUE_MAP)
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "%s: files must be a mapping of path: sha256:<hex>", where(r, v));
    m->n_files = df_value_len(v);
    m->files = df_arena_calloc(r->a, (m->n_files + 1) * sizeof *m->files);
    for (size_t i = 0; i < m->n_files; i++) {
        const char *path = df_value_key_at(v, i);
        const df_value *d = df_value_at(v, i);
        const char *digest = df_value_string(d, NULL);
        if (!hub_package_path_valid(path) || strcmp(path, "manifest.yml") == 0)
            return df_error_set(err, DF_E_INVALID_INPUT,
                                "%s: files: '%s' is not a valid package path (relative, parts of "
                                "[A-Za-z0-9._+-] not starting with '.', not manifest.yml)",
                                where(r, d), path);
        if (df_value_type_of(d) != DF_VALUE_STRING || !hub_digest_valid(digest))
            return df_error_set(err, DF_E_INVALID_INPUT,
                                "%s: files['%s'] must be sha256: followed by 64 lowercase hex "
                                "digits",
                                where(r, d), path);
        m->files[i].path = path;
        snprintf(m->files[i].digest, sizeof m->files[i].digest, "%s", digest);
    }
    qsort(m->files, m->n_files, sizeof *m->files, compare_files);
    return DF_OK;
}

/* A complete manifest lists config.yml and its library among its files. */
static int check_complete(const reader *r, df_error *err)
{
    const hub_manifest *m = r->m;
    if (!hub_manifest_file(m, "config.yml"))
        return df_error_set(err, DF_E_INVALID_INPUT, "%s: files must list config.yml", r->name);
    if (!hub_manifest_file(m, m->library))
        return df_error_set(err, DF_E_INVALID_INPUT, "%s: files must list the library %s", r->name,
                            m->library);
    return DF_OK;
}

static void collect_warnings(const reader *r, const df_value *root)
{
    hub_manifest *m = r->m;
    size_t n = df_value_len(root);
    m->warnings = df_arena_calloc(r->a, (n + 1) * sizeof *m->warnings);
    for (size_t i = 0; i < n; i++) {
        const char *key = df_value_key_at(root, i);
        int known = 0;
        for (const char *const *k = known_keys; *k && !known; k++)
            known = strcmp(*k, key) == 0;
        if (!known)
            m->warnings[m->n_warnings++] =
                df_arena_printf(r->a, "%s: unknown key '%s' in manifest (ignored)",
                                r->yaml ? df_yaml_key_where(r->yaml, root, key) : r->name, key);
    }
}

static hub_manifest *read_root(reader *r, const df_value *root, int complete, df_error *err)
{
    if (df_value_type_of(root) != DF_VALUE_MAP) {
        df_error_set(err, DF_E_INVALID_INPUT,
                     "%s: a manifest must be a mapping (namespace, name, version, ...)", r->name);
        return NULL;
    }
    r->m = df_arena_calloc(r->a, sizeof *r->m);
    hub_manifest *m = r->m;
    int rc;
    if ((rc = read_manifest_version(r, root, err)) || (rc = read_identity(r, root, err)) ||
        (rc = get_string(r, root, "description", 0, &m->description, err)) ||
        (rc = get_string(r, root, "license", 0, &m->license, err)) ||
        (rc = get_string(r, root, "url", 0, &m->url, err)) ||
        (rc = get_string_list(r, root, "keywords", &m->keywords, &m->n_keywords, any_string,
                              "strings", err)) ||
        (rc = read_abi(r, root, complete, err)) ||
        (rc = get_string(r, root, "platform", complete, &m->platform, err)) ||
        (rc = read_library(r, root, complete, err)) ||
        (rc = read_executors(r, root, complete, err)) || (rc = read_files(r, root, complete, err)))
        return NULL;
    if (complete && check_complete(r, err)) return NULL;
    collect_warnings(r, root);
    return m;
}

hub_manifest *hub_manifest_parse_yaml(df_arena *a, const char *text, size_t len, const char *name,
                                      int complete, df_error *err)
{
    if (len > HUB_MANIFEST_MAX_BYTES) {
        df_error_set(err, DF_E_INVALID_INPUT, "%s: larger than %d bytes", name,
                     HUB_MANIFEST_MAX_BYTES);
        return NULL;
    }
    df_yaml *y = df_yaml_parse(a, text, len, name, NULL, err);
    if (!y) return NULL;
    reader r = {a, y, name, NULL};
    return read_root(&r, df_yaml_root(y), complete, err);
}

hub_manifest *hub_manifest_load(df_arena *a, const char *path, int complete, df_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        df_error_set(err, DF_E_NOT_FOUND, "cannot read %s: %m", path);
        return NULL;
    }
    char *text = df_arena_alloc(a, HUB_MANIFEST_MAX_BYTES + 1);
    size_t len = fread(text, 1, HUB_MANIFEST_MAX_BYTES + 1, f);
    fclose(f);
    return hub_manifest_parse_yaml(a, text, len, path, complete, err);
}

hub_manifest *hub_manifest_parse_json(df_arena *a, const char *json, size_t len, const char *name,
                                      df_error *err)
{
    if (len > HUB_MANIFEST_MAX_BYTES) {
        df_error_set(err, DF_E_INVALID_INPUT, "%s: larger than %d bytes", name,
                     HUB_MANIFEST_MAX_BYTES);
        return NULL;
    }
    df_value *root = df_json_decode_value(a, json, len, name, err);
    if (!root) return NULL;
    reader r = {a, NULL, name, NULL};
    return read_root(&r, root, 1, err);
}

/* ---- files ---------------------------------------------------------------------- */

const hub_file_info *hub_manifest_file(const hub_manifest *m, const char *path)
{
    if (!path) return NULL;
    for (size_t i = 0; i < m->n_files; i++)
        if (strcmp(m->files[i].path, path) == 0) return &m->files[i];
    return NULL;
}

void hub_manifest_set_file(df_arena *a, hub_manifest *m, const char *path, const char *digest)
{
    for (size_t i = 0; i < m->n_files; i++) {
        if (strcmp(m->files[i].path, path) == 0) {
            snprintf(m->files[i].digest, sizeof m->files[i].digest, "%s", digest);
            return;
        }
    }
    m->files = df_arena_realloc(a, m->files, m->n_files * sizeof *m->files,
                                (m->n_files + 1) * sizeof *m->files);
    m->files[m->n_files].path = df_arena_strdup(a, path);
    snprintf(m->files[m->n_files].digest, sizeof m->files[0].digest, "%s", digest);
    m->n_files++;
    qsort(m->files, m->n_files, sizeof *m->files, compare_files);
}

/* ---- writing ------------------------------------------------------------------- */

/* The manifest as one value tree, keys in the documented order. Optional
 * fields that are empty are left out. */
static df_value *to_value(df_arena *a, const hub_manifest *m)
{
    df_value *root = df_value_new_map(a);
    df_value_put_number(root, "manifest_version", 1);
    df_value_put_string(root, "namespace", m->ns);
    df_value_put_string(root, "name", m->name);
    df_value_put_string(root, "version", m->version);
    if (*m->description) df_value_put_string(root, "description", m->description);
    if (*m->license) df_value_put_string(root, "license", m->license);
    if (*m->url) df_value_put_string(root, "url", m->url);
    if (m->n_keywords) {
        df_value *list = df_value_new_list(a);
        for (size_t i = 0; i < m->n_keywords; i++)
            df_value_append(list, df_value_new_string(a, m->keywords[i], SIZE_MAX));
        df_value_set_owned(root, "keywords", list);
    }
    if (m->has_abi)
        df_value_put_string(root, "abi_version",
                            df_arena_printf(a, "%u.%u", m->abi_major, m->abi_minor));
    if (*m->platform) df_value_put_string(root, "platform", m->platform);
    if (*m->library) df_value_put_string(root, "library", m->library);
    if (m->n_executors) {
        df_value *list = df_value_new_list(a);
        for (size_t i = 0; i < m->n_executors; i++) {
            const hub_executor_info *e = &m->executors[i];
            df_value *x = df_value_new_map(a);
            df_value_put_string(x, "jtype", e->jtype);
            if (*e->version) df_value_put_string(x, "version", e->version);
            if (*e->description) df_value_put_string(x, "description", e->description);
            df_value *eps = df_value_new_list(a);
            for (size_t k = 0; k < e->n_endpoints; k++)
                df_value_append(eps, df_value_new_string(a, e->endpoints[k], SIZE_MAX));
            df_value_set_owned(x, "endpoints", eps);
            df_value_put_bool(x, "default", e->has_default);
            df_value_append_owned(list, x);
        }
        df_value_set_owned(root, "executors", list);
    }
    if (m->n_files) {
        df_value *files = df_value_new_map(a);
        for (size_t i = 0; i < m->n_files; i++)
            df_value_put_string(files, m->files[i].path, m->files[i].digest);
        df_value_set_owned(root, "files", files);
    }
    return root;
}

void hub_manifest_write_json(const hub_manifest *m, df_buf *out)
{
    df_arena *a = df_arena_new(0);
    df_json_encode_value(out, to_value(a, m));
    df_arena_free(a);
}

/* YAML output. A string is written plain when the YAML reader gives it back
 * unchanged in the same place (so "1.0", "yes", "null" and "- x" get
 * quotes), else double-quoted with JSON escapes, which YAML reads alike. */
static int plain_charset(const char *s, int flow)
{
    size_t len = strlen(s);
    if (!len || len > 200 || s[0] == ' ' || s[len - 1] == ' ') return 0;
    if (strchr("-?:,[]{}#&*!|>'\"%@`", s[0])) return 0;
    for (const char *p = s; *p; p++) {
        if (*p < 0x20 || *p > 0x7e || *p == '#' || *p == '"' || *p == '\\') return 0;
        if (*p == ':' && (p[1] == ' ' || !p[1])) return 0;
        if (flow && strchr(",[]{} :", *p)) return 0;
    }
    return 1;
}

enum { AS_VALUE = 0, AS_FLOW_ITEM = 1, AS_KEY = 2 };

/* Parses s written plain in its context and checks the string comes back. */
static int plain_reads_back(const char *s, int ctx)
{
    df_arena *a = df_arena_new(0);
    const char *doc = ctx == AS_KEY         ? df_arena_printf(a, "%s: x\n", s)
                      : ctx == AS_FLOW_ITEM ? df_arena_printf(a, "k: [%s]\n", s)
                                            : df_arena_printf(a, "k: %s\n", s);
    df_yaml *y = df_yaml_parse(a, doc, strlen(doc), "scalar", NULL, NULL);
    const df_value *root = y ? df_yaml_root(y) : NULL, *v = NULL;
    const char *got = NULL;
    if (df_value_type_of(root) == DF_VALUE_MAP && df_value_len(root) == 1) {
        v = df_value_at(root, 0);
        if (ctx == AS_KEY) got = df_value_key_at(root, 0);
        if (ctx == AS_FLOW_ITEM) v = df_value_len(v) == 1 ? df_value_at(v, 0) : NULL;
        if (ctx != AS_KEY && df_value_type_of(v) == DF_VALUE_STRING) got = df_value_string(v, NULL);
    }
    int ok = got && strcmp(got, s) == 0;
    df_arena_free(a);
    return ok;
}

static void emit_string(df_buf *b, const char *s, int ctx)
{
    if (plain_charset(s, ctx != AS_VALUE) && plain_reads_back(s, ctx))
        df_buf_append_str(b, s);
    else
        df_json_encode_string(b, s, strlen(s));
}

static void emit_scalar(df_buf *b, const df_value *v, int flow)
{
    switch (df_value_type_of(v)) {
    case DF_VALUE_STRING:
        emit_string(b, df_value_string(v, NULL), flow ? AS_FLOW_ITEM : AS_VALUE);
        break;
    case DF_VALUE_BOOL:
        df_buf_append_str(b, df_value_bool(v) ? "true" : "false");
        break;
    case DF_VALUE_NUMBER:
        df_json_encode_value(b, v);
        break;
    default:
        df_buf_append_str(b, "null");
        break;
    }
}

static void emit_map(df_buf *b, const df_value *map, int indent, int first_inline);

static void emit_flow_list(df_buf *b, const df_value *list)
{
    df_buf_append_char(b, '[');
    for (size_t i = 0; i < df_value_len(list); i++) {
        if (i) df_buf_append_str(b, ", ");
        emit_scalar(b, df_value_at(list, i), 1);
    }
    df_buf_append_char(b, ']');
}

static void emit_entry(df_buf *b, const char *key, const df_value *v, int indent)
{
    emit_string(b, key, AS_KEY);
    df_buf_append_char(b, ':');
    df_value_type t = df_value_type_of(v);
    int maps = t == DF_VALUE_LIST && df_value_len(v) &&
               df_value_type_of(df_value_at(v, 0)) == DF_VALUE_MAP;
    if (t == DF_VALUE_MAP && df_value_len(v)) {
        df_buf_append_char(b, '\n');
        emit_map(b, v, indent + 2, 0);
    } else if (maps) {
        df_buf_append_char(b, '\n');
        for (size_t i = 0; i < df_value_len(v); i++) {
            df_buf_printf(b, "%*s- ", indent + 2, "");
            emit_map(b, df_value_at(v, i), indent + 4, 1);
        }
    } else if (t == DF_VALUE_LIST) {
        df_buf_append_char(b, ' ');
        emit_flow_list(b, v);
        df_buf_append_char(b, '\n');
    } else if (t == DF_VALUE_MAP) {
        df_buf_append_str(b, " {}\n");
    } else {
        df_buf_append_char(b, ' ');
        emit_scalar(b, v, 0);
        df_buf_append_char(b, '\n');
    }
}

/* first_inline: the first key follows a "- " already written. */
static void emit_map(df_buf *b, const df_value *map, int indent, int first_inline)
{
    for (size_t i = 0; i < df_value_len(map); i++) {
        if (i || !first_inline) df_buf_printf(b, "%*s", indent, "");
        emit_entry(b, df_value_key_at(map, i), df_value_at(map, i), indent);
    }
}

void hub_manifest_write_yaml(const hub_manifest *m, df_buf *out)
{
    df_arena *a = df_arena_new(0);
    df_buf_append_str(out, "# docflow executor package manifest (written by docflow-hub build)\n");
    emit_map(out, to_value(a, m), 0, 0);
    df_arena_free(a);
}

/* ---- host checks ------------------------------------------------------------------ */

void hub_host_platform(char *buf, size_t cap)
{
    struct utsname u;
    if (uname(&u) != 0) {
        snprintf(buf, cap, "unknown");
        return;
    }
    size_t i = 0;
    for (; u.sysname[i] && i + 1 < sizeof u.sysname; i++)
        u.sysname[i] =
            (char)((u.sysname[i] >= 'A' && u.sysname[i] <= 'Z') ? u.sysname[i] + 32 : u.sysname[i]);
    /* Truncation is fine (platform names are short); checked rather than
     * ignored so -O3's -Wformat-truncation sees it handled. */
    int n = snprintf(buf, cap, "%s-%s", u.sysname, u.machine);
    if (n < 0 || (size_t)n >= cap) buf[cap ? cap - 1 : 0] = '\0';
}

int hub_manifest_check_host(const hub_manifest *m, const char *ref, df_error *err)
{
    if (m->has_abi && (m->abi_major != DF_ABI_MAJOR || m->abi_minor > DF_ABI_MINOR))
        return df_error_set(err, DF_E_UNSUPPORTED,
                            "%s needs executor ABI %u.%u, but this docflow has ABI %d.%d (%s); "
                            "upgrade docflow, or use a version of the package built for ABI "
                            "%d.%d or older",
                            ref, m->abi_major, m->abi_minor, DF_ABI_MAJOR, DF_ABI_MINOR,
                            m->abi_major != DF_ABI_MAJOR ? "the major versions differ"
                                                         : "the package's minor is newer",
                            DF_ABI_MAJOR, DF_ABI_MINOR);
    char host[128];
    hub_host_platform(host, sizeof host);
    if (*m->platform && strcmp(m->platform, host) != 0)
        return df_error_set(err, DF_E_UNSUPPORTED,
                            "%s is built for platform %s, this host is %s; rebuild it here "
                            "(docflow-hub build) or pull a %s build",
                            ref, m->platform, host, host);
    return DF_OK;
}
