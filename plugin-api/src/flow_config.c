/*
 * flow_config.c -- a flow YAML (Jina's Flow YAML) read into a df_flow_config:
 * the entry points, the top level (jtype, version, with, metas, executors),
 * the flow settings under `with:`, and the messages every part shares.
 *
 * Not for: one executor item (flow_executors.c), the graph (flow_graph.c),
 * or running anything (the runtime opens executors from the result).
 */
#include "flow_config_internal.h"

#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docflow/buf.h"
#include "docflow/executor_runtime.h"
#include "executor_internal.h"

#define TOP_KEYS "jtype, version, with, metas, executors"

static df_hub_resolver hub_resolver;

/* ---- messages ------------------------------------------------------------------ */

static long order_of(df_yaml_pos p)
{
    return p.line ? (long)p.line * 100000 + p.col : 0;
}

static void add_diag(flow_loader *L, flow_diags *d, long order, const char *text)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        d->items =
            df_arena_realloc(L->a, d->items, d->cap * sizeof *d->items, cap * sizeof *d->items);
        d->cap = cap;
    }
    d->items[d->n++] = (flow_diag){order, L->seq++, text};
}

static int diag_cmp(const void *x, const void *y)
{
    const flow_diag *a = x, *b = y;
    if (a->order != b->order) return a->order < b->order ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Sorted into file order, appended to a list of strings. */
static void flush_diags(df_arena *a, flow_diags *d, df_value *list)
{
    if (d->n) qsort(d->items, d->n, sizeof *d->items, diag_cmp);
    for (size_t i = 0; list && i < d->n; i++)
        df_value_append(list, df_value_new_string(a, d->items[i].text, SIZE_MAX));
}

static long value_order(flow_loader *L, const df_value *v)
{
    return L->y && v ? order_of(df_yaml_pos_of(L->y, v)) : 0;
}

static void error_at(flow_loader *L, long order, const char *where, const char *msg)
{
    add_diag(L, &L->errors, order, where ? df_arena_printf(L->a, "%s: %s", where, msg) : msg);
}

void flow_error(flow_loader *L, const df_value *at, const char *fmt, ...)
{
    char msg[DF_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    error_at(L, value_order(L, at), df_yaml_where(L->y, at), msg);
}

void flow_error_key(flow_loader *L, const df_value *map, const char *key, const char *fmt, ...)
{
    char msg[DF_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    error_at(L, order_of(df_yaml_key_pos(L->y, map, key)), df_yaml_key_where(L->y, map, key), msg);
}

void flow_error_text(flow_loader *L, const df_value *about, const char *msg)
{
    error_at(L, value_order(L, about), NULL, df_arena_strdup(L->a, msg));
}

/* The same executor YAML used by two nodes warns twice; say it once. */
static void warn_at(flow_loader *L, long order, const char *msg)
{
    for (size_t i = 0; i < L->warnings.n; i++)
        if (strcmp(L->warnings.items[i].text, msg) == 0) return;
    add_diag(L, &L->warnings, order, df_arena_strdup(L->a, msg));
}

void flow_warn_text(flow_loader *L, const df_value *about, const char *msg)
{
    warn_at(L, value_order(L, about), msg);
}

void flow_warn_key(flow_loader *L, const df_value *map, const char *key, const char *fmt, ...)
{
    char msg[DF_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    warn_at(L, order_of(df_yaml_key_pos(L->y, map, key)),
            df_arena_printf(L->a, "%s: %s", df_yaml_key_where(L->y, map, key), msg));
}

const char *flow_got(flow_loader *L, const df_value *v)
{
    switch (df_value_type_of(v)) {
    case DF_VALUE_STRING: {
        size_t len;
        const char *s = df_value_string(v, &len);
        if (len > 60) return df_arena_printf(L->a, "\"%.57s...\"", s);
        return df_arena_printf(L->a, "\"%s\"", s);
    }
    case DF_VALUE_NUMBER:
        return df_arena_printf(L->a, "%g", df_value_number(v));
    case DF_VALUE_BOOL:
        return df_value_bool(v) ? "true" : "false";
    case DF_VALUE_LIST:
        return "a list";
    case DF_VALUE_MAP:
        return "a mapping";
    default:
        return "nothing (null)";
    }
}

int flow_read_int(flow_loader *L, const df_value *v, const char *what, int min, int max, int *out)
{
    double x = df_value_number(v);
    int is_int = df_value_type_of(v) == DF_VALUE_NUMBER && x == floor(x);
    if (is_int && x >= min && x <= max) {
        *out = (int)x;
        return 0;
    }
    if (is_int && x > max)
        flow_error(L, v, "%s must be at most %d, got %g", what, max, x);
    else
        flow_error(L, v, "%s must be an integer >= %d, got %s", what, min, flow_got(L, v));
    return -1;
}

int flow_read_ms(flow_loader *L, const df_value *v, const char *what, double *out)
{
    double x = df_value_number(v);
    if (df_value_type_of(v) == DF_VALUE_NUMBER && x >= 0 && isfinite(x)) {
        *out = x;
        return 0;
    }
    flow_error(L, v, "%s must be a number of milliseconds >= 0, got %s", what, flow_got(L, v));
    return -1;
}

/* Environment values are strings; numbers and booleans are written the way
 * YAML reads them back (3, 0.5, true). */
static const char *scalar_text(df_arena *a, const df_value *v)
{
    double x;
    switch (df_value_type_of(v)) {
    case DF_VALUE_STRING:
        return df_value_string(v, NULL);
    case DF_VALUE_BOOL:
        return df_value_bool(v) ? "true" : "false";
    case DF_VALUE_NUMBER:
        x = df_value_number(v);
        if (x == floor(x) && fabs(x) < 1e15) return df_arena_printf(a, "%.0f", x);
        /* The shortest text that reads back as the same number (0.1, not
         * 0.10000000000000001). */
        for (int digits = 15; digits < 17; digits++) {
            const char *t = df_arena_printf(a, "%.*g", digits, x);
            if (strtod(t, NULL) == x) return t;
        }
        return df_arena_printf(a, "%.17g", x);
    default:
        return NULL;
    }
}

df_value *flow_read_env(flow_loader *L, const df_value *v, const char *what)
{
    if (df_value_type_of(v) == DF_VALUE_NULL) return df_value_new_map(L->a);
    if (df_value_type_of(v) != DF_VALUE_MAP) {
        flow_error(L, v,
                   "%s must be a mapping of variable names to values (e.g. {LANG: C}), got %s",
                   what, flow_got(L, v));
        return NULL;
    }
    df_value *out = df_value_new_map(L->a);
    int ok = 1;
    for (size_t i = 0; i < df_value_len(v); i++) {
        const char *key = df_value_key_at(v, i);
        const char *text = scalar_text(L->a, df_value_at(v, i));
        if (!text) {
            flow_error(L, df_value_at(v, i), "%s.%s must be a string, number or boolean, got %s",
                       what, key, flow_got(L, df_value_at(v, i)));
            ok = 0;
            continue;
        }
        df_value_put_string(out, key, text);
    }
    return ok ? out : NULL;
}

const char *flow_join(flow_loader *L, const char *const *words)
{
    df_buf b = DF_BUF_INIT;
    for (size_t i = 0; words[i]; i++)
        df_buf_printf(&b, "%s%s", i ? ", " : "", words[i]);
    const char *out = df_arena_strdup(L->a, b.data ? b.data : "");
    df_buf_free(&b);
    return out;
}

int flow_in_list(const char *word, const char *const *words)
{
    for (size_t i = 0; words[i]; i++)
        if (strcmp(word, words[i]) == 0) return 1;
    return 0;
}

/* ---- with: the flow settings ------------------------------------------------------ */

typedef enum setting_type {
    SET_STRING,
    SET_BOOL,
    SET_PORT,
    SET_COUNT0, /* an integer >= 0 */
    SET_COUNT1, /* an integer >= 1 */
    SET_MS,
    SET_BOOL_OR_MS,
    SET_BOOL_OR_STRING,
    SET_PROTOCOL,
    SET_LOG_FORMAT,
    SET_ENV
} setting_type;

typedef struct setting {
    const char *key;
    setting_type type;
} setting;

static const setting settings[] = {{"protocol", SET_PROTOCOL},
                                   {"host", SET_STRING},
                                   {"port", SET_PORT},
                                   {"prefetch", SET_COUNT0},
                                   {"prefetch_wait", SET_BOOL_OR_MS},
                                   {"timeout_send", SET_MS},
                                   {"cors", SET_BOOL},
                                   {"max_body_bytes", SET_COUNT1},
                                   {"max_header_bytes", SET_COUNT1},
                                   {"title", SET_STRING},
                                   {"description", SET_STRING},
                                   {"hub_pull", SET_BOOL_OR_STRING},
                                   {"env", SET_ENV},
                                   {"workspace", SET_STRING},
                                   {"name", SET_STRING},
                                   {"drain_timeout", SET_MS},
                                   {"log_format", SET_LOG_FORMAT},
                                   {"monitoring", SET_BOOL},
                                   {"port_monitoring", SET_PORT},
                                   {NULL, SET_STRING}};

/* Jina gateway / flow arguments that mean nothing here: a warning, so a
 * flow written for Jina loads unchanged. */
static const char *const jina_only_settings[] = {"no_debug_endpoints",
                                                 "no_crud_endpoints",
                                                 "expose_endpoints",
                                                 "expose_graphql_endpoint",
                                                 "uvicorn_kwargs",
                                                 "ssl_certfile",
                                                 "ssl_keyfile",
                                                 "retries",
                                                 "compression",
                                                 "grpc_server_options",
                                                 "grpc_channel_options",
                                                 "tracing",
                                                 "traces_exporter_host",
                                                 "traces_exporter_port",
                                                 "metrics",
                                                 "metrics_exporter_host",
                                                 "metrics_exporter_port",
                                                 "replicas",
                                                 "uses",
                                                 "uses_with",
                                                 "timeout_ready",
                                                 "reload",
                                                 "log_config",
                                                 "quiet",
                                                 "quiet_error",
                                                 "inspect",
                                                 "py_modules",
                                                 "tls",
                                                 "graph_description",
                                                 "deployments_addresses",
                                                 "reuse_session",
                                                 "stateful",
                                                 NULL};

static const char *settings_list(flow_loader *L)
{
    const char *keys[sizeof settings / sizeof settings[0]];
    size_t i = 0;
    for (; settings[i].key; i++)
        keys[i] = settings[i].key;
    keys[i] = NULL;
    return flow_join(L, keys);
}

static void check_protocol(flow_loader *L, const df_value *v)
{
    const df_value *one = v;
    size_t n = df_value_type_of(v) == DF_VALUE_LIST ? df_value_len(v) : 1;
    for (size_t i = 0; i < n; i++) {
        if (df_value_type_of(v) == DF_VALUE_LIST) one = df_value_at(v, i);
        const char *s = df_value_string(one, NULL);
        if (!s) {
            flow_error(L, one, "with.protocol must be http (or a list of protocols), got %s",
                       flow_got(L, one));
            continue;
        }
        if (strcasecmp(s, "http") == 0) continue;
        if (strcasecmp(s, "grpc") == 0 || strcasecmp(s, "websocket") == 0)
            flow_warn_text(L, one,
                           df_arena_printf(L->a,
                                           "%s: protocol '%s' is not served by docflow's "
                                           "gateway, which speaks HTTP (Jina's JSON API); "
                                           "write protocol: http",
                                           df_yaml_where(L->y, one), s));
        else
            flow_error(L, one, "with.protocol must be http, grpc or websocket, got %s",
                       flow_got(L, one));
    }
}

static void check_setting(flow_loader *L, const setting *s, const df_value *v)
{
    const char *what = df_arena_printf(L->a, "with.%s", s->key);
    df_value_type t = df_value_type_of(v);
    int n;
    double ms;
    const char *str = df_value_string(v, NULL);
    switch (s->type) {
    case SET_STRING:
        if (t != DF_VALUE_STRING)
            flow_error(L, v, "%s must be a string, got %s", what, flow_got(L, v));
        break;
    case SET_BOOL:
        if (t != DF_VALUE_BOOL)
            flow_error(L, v, "%s must be true or false, got %s", what, flow_got(L, v));
        break;
    case SET_PORT:
        flow_read_int(L, v, what, 0, 65535, &n);
        break;
    case SET_COUNT0:
        flow_read_int(L, v, what, 0, INT_MAX, &n);
        break;
    case SET_COUNT1:
        flow_read_int(L, v, what, 1, INT_MAX, &n);
        break;
    case SET_MS:
        flow_read_ms(L, v, what, &ms);
        break;
    case SET_BOOL_OR_MS:
        if (t != DF_VALUE_BOOL) flow_read_ms(L, v, what, &ms);
        break;
    case SET_BOOL_OR_STRING:
        if (t != DF_VALUE_BOOL && t != DF_VALUE_STRING)
            flow_error(L, v, "%s must be true, false or a string, got %s", what, flow_got(L, v));
        break;
    case SET_PROTOCOL:
        check_protocol(L, v);
        break;
    case SET_LOG_FORMAT:
        if (!str || (strcmp(str, "text") != 0 && strcmp(str, "json") != 0))
            flow_error(L, v, "%s must be text or json, got %s", what, flow_got(L, v));
        break;
    case SET_ENV:
        L->flow_env = flow_read_env(L, v, what);
        break;
    }
}

static void read_with(flow_loader *L, const df_value *with)
{
    df_flow_config *f = L->f;
    for (size_t i = 0; i < df_value_len(with); i++) {
        const char *key = df_value_key_at(with, i);
        const df_value *v = df_value_at(with, i);
        const setting *s = settings;
        while (s->key && strcmp(s->key, key) != 0)
            s++;
        if (s->key) {
            check_setting(L, s, v);
        } else if (strcmp(key, "port_expose") == 0) {
            flow_warn_key(L, with, key, "'port_expose' is Jina 2.x's name for 'port': write port");
            if (!df_value_get(with, "port")) {
                f->with = df_value_copy(L->a, f->with); /* the parsed tree stays as written */
                df_value_set(f->with, "port", v);
            }
        } else if (flow_in_list(key, jina_only_settings)) {
            flow_warn_key(L, with, key, "Jina's '%s' is not used by docflow (ignored)", key);
        } else {
            flow_warn_key(L, with, key, "unknown key '%s' in with: (known: %s)", key,
                          settings_list(L));
        }
    }
    /* Already checked above; only well-formed values are taken. */
    const df_value *v = df_value_get(with, "prefetch");
    double x = df_value_number(v);
    if (df_value_type_of(v) == DF_VALUE_NUMBER && x >= 0 && x <= INT_MAX && x == floor(x))
        f->prefetch = (int)x;
    v = df_value_get(with, "timeout_send");
    x = df_value_number(v);
    if (df_value_type_of(v) == DF_VALUE_NUMBER && x >= 0 && isfinite(x)) f->timeout_send_ms = x;
}

/* ---- the top level ------------------------------------------------------------------ */

static int section_ok(flow_loader *L, const df_value *v, const char *key, df_value_type want)
{
    df_value_type t = df_value_type_of(v);
    if (t == want || t == DF_VALUE_NULL) return 1;
    flow_error(L, v, "'%s' must be a %s, got %s", key, want == DF_VALUE_MAP ? "mapping" : "list",
               flow_got(L, v));
    return 0;
}

/* The flow's own metas apply to every executor (Jina). They are checked once
 * here, on a stand-in configuration, so a mistake is reported once and not
 * for every executor. */
static void read_top_metas(flow_loader *L, const df_value *root, const df_value *metas)
{
    if (!section_ok(L, metas, "metas", DF_VALUE_MAP) || !df_value_len(metas)) return;
    df_value *usable = df_value_new_map(L->a);
    for (size_t i = 0; i < df_value_len(metas); i++) {
        const char *key = df_value_key_at(metas, i);
        if (strcmp(key, "py_modules") == 0)
            flow_warn_key(L, metas, key,
                          "'metas.py_modules' is not supported by docflow (ignored): executors "
                          "are shared libraries, named by metas.library or found by jtype");
        else
            df_value_set(usable, key, df_value_at(metas, i));
    }
    df_executor_config *probe = df_executor_config_for_jtype(L->a, "Probe", ".");
    df_error err = DF_ERROR_INIT;
    if (df_executor_config_override(probe, NULL, usable, NULL, &err)) {
        flow_error_key(L, root, "metas", "metas (applied to every executor): %s", err.msg);
        return;
    }
    for (size_t i = 0; i < df_value_len(probe->warnings); i++)
        flow_warn_text(L, metas,
                       df_arena_printf(L->a, "%s: %s", df_yaml_key_where(L->y, root, "metas"),
                                       df_value_string(df_value_at(probe->warnings, i), NULL)));
    L->top_metas = usable;
}

static void check_jtype(flow_loader *L, const df_value *root)
{
    const df_value *v = df_value_get(root, "jtype");
    const char *s = df_value_string(v, NULL);
    if (!v)
        flow_error(L, root,
                   "missing 'jtype: Flow': a flow file starts with 'jtype: Flow' (or a !Flow "
                   "tag), then 'executors:'");
    else if (!s)
        flow_error(L, v, "'jtype' must be Flow, got %s", flow_got(L, v));
    else if (strcmp(s, "Flow") != 0)
        flow_error(L, v,
                   "'jtype: %s' is not a flow: a flow file says 'jtype: Flow' (an executor's YAML "
                   "belongs in an executor's uses:)",
                   s);
}

static const df_value *executors_list(flow_loader *L, const df_value *root)
{
    const df_value *list = df_value_get(root, "executors");
    const df_value *pods = df_value_get(root, "pods");
    if (pods && list) {
        flow_error_key(L, root, "pods",
                       "both 'executors' and 'pods' are given: 'pods' is Jina 1.x's name for "
                       "'executors'; keep one list");
        return NULL;
    }
    if (pods) {
        flow_warn_key(L, root, "pods", "'pods' is Jina 1.x's name for 'executors': rename it");
        list = pods;
    }
    if (!list) return NULL;
    return section_ok(L, list, pods ? "pods" : "executors", DF_VALUE_LIST) ? list : NULL;
}

static void read_top_level(flow_loader *L, const df_value *root)
{
    df_flow_config *f = L->f;
    check_jtype(L, root);
    for (size_t i = 0; i < df_value_len(root); i++) {
        const char *key = df_value_key_at(root, i);
        const df_value *v = df_value_at(root, i);
        df_value_type t = df_value_type_of(v);
        if (strcmp(key, "version") == 0) {
            if (t != DF_VALUE_STRING && t != DF_VALUE_NUMBER && t != DF_VALUE_NULL)
                flow_error(L, v, "'version' must be a string such as '1', got %s", flow_got(L, v));
        } else if (strcmp(key, "with") == 0) {
            if (section_ok(L, v, key, DF_VALUE_MAP) && t == DF_VALUE_MAP) {
                f->with = (df_value *)v;
                read_with(L, v);
            }
        } else if (strcmp(key, "metas") == 0) {
            read_top_metas(L, root, v);
        } else if (strcmp(key, "gateway") == 0) {
            flow_warn_key(L, root, key,
                          "a custom gateway ('gateway:') is not supported by docflow (ignored)");
        } else if (strcmp(key, "jtype") != 0 && strcmp(key, "executors") != 0 &&
                   strcmp(key, "pods") != 0) {
            flow_warn_key(L, root, key, "unknown key '%s' at the top level (known: " TOP_KEYS ")",
                          key);
        }
    }
}

static void read_executors(flow_loader *L, const df_value *root)
{
    const df_value *list = executors_list(L, root);
    size_t n = df_value_len(list);
    if (n > FLOW_MAX_EXECUTORS) {
        flow_error(L, list, "a flow may have at most %d executors, this one has %zu",
                   FLOW_MAX_EXECUTORS, n);
        return;
    }
    if (!n)
        flow_warn_text(L, list,
                       df_arena_printf(L->a,
                                       "%s: the flow has no executors: requests come back "
                                       "as they were sent",
                                       df_yaml_where(L->y, list ? list : root)));
    node_draft *drafts = df_arena_calloc(L->a, (n ? n : 1) * sizeof *drafts);
    for (size_t i = 0; i < n; i++)
        flow_read_executor(L, &drafts[i], df_value_at(list, i), i);
    flow_build_graph(L, drafts, n);
}

/* ---- entry points ------------------------------------------------------------------- */

/* The folder of the flow file, absolute when it resolves (a later chdir
 * must not break relative paths), and as written for messages. */
static void set_dirs(flow_loader *L, const char *path)
{
    char *copy = df_arena_strdup(L->a, path);
    const char *dir = strchr(path, '/') ? dirname(copy) : ".";
    L->dir_as_written = strchr(path, '/') ? dir : "";
    char *abs = realpath(dir, NULL);
    L->f->dir = df_arena_strdup(L->a, abs ? abs : dir);
    free(abs);
}

static void free_filters(flow_loader *L)
{
    for (size_t i = 0; i < L->n_filters; i++)
        df_filter_free(L->filters[i]);
    L->n_filters = 0;
}

df_flow_config *df_flow_config_check(df_arena *a, const char *path, const char *text, size_t len,
                                     const df_value *context, df_value *errors, df_value *warnings)
{
    flow_loader L = {.a = a, .context = context};
    if (!path) path = "<flow>";
    df_flow_config *f = df_arena_calloc(a, sizeof *f);
    f->source = df_arena_strdup(a, path);
    f->with = df_value_new_map(a);
    f->warnings = df_value_new_list(a);
    f->prefetch = 1000;
    L.f = f;
    set_dirs(&L, path);
    df_error err = DF_ERROR_INIT;
    df_yaml *y = text ? df_yaml_parse(a, text, len, path, context, &err)
                      : df_yaml_load_file(a, path, context, &err);
    if (!y) {
        flow_error_text(&L, NULL, err.msg);
        flush_diags(a, &L.errors, errors);
        return NULL;
    }
    L.y = f->yaml = y;
    const df_value *root = df_yaml_root(y);
    if (df_value_type_of(root) == DF_VALUE_NULL)
        flow_error_text(&L, NULL,
                        df_arena_printf(a,
                                        "%s: the file is empty; a flow needs at least "
                                        "'jtype: Flow' and an 'executors:' list",
                                        path));
    else if (df_value_type_of(root) != DF_VALUE_MAP)
        flow_error(&L, root, "a flow must be a mapping with 'jtype: Flow' and 'executors:', got %s",
                   flow_got(&L, root));
    else {
        read_top_level(&L, root);
        read_executors(&L, root);
    }
    flush_diags(a, &L.warnings, f->warnings);
    for (size_t i = 0; warnings && i < df_value_len(f->warnings); i++)
        df_value_append(warnings, df_value_at(f->warnings, i));
    flush_diags(a, &L.errors, errors);
    if (L.errors.n) {
        free_filters(&L);
        return NULL;
    }
    return f;
}

static df_flow_config *load_or_parse(df_arena *a, const char *path, const char *text, size_t len,
                                     const df_value *context, df_error *err)
{
    df_value *errors = df_value_new_list(a);
    df_flow_config *f = df_flow_config_check(a, path, text, len, context, errors, NULL);
    if (f && df_flow_config_resolve_libraries(f, err)) {
        df_flow_config_free(f);
        return NULL;
    }
    if (f) return f;
    size_t n = df_value_len(errors);
    const char *first = df_value_string(df_value_at(errors, 0), NULL);
    if (n > 1)
        df_error_set(err, DF_E_INVALID_INPUT,
                     "%s (and %zu more error%s: 'docflow-host validate %s' lists them all)", first,
                     n - 1, n == 2 ? "" : "s", path);
    else
        df_error_set(err, DF_E_INVALID_INPUT, "%s", first ? first : "invalid flow");
    /* A missing file is "not found", as for executor YAML files. */
    if (n == 1 && !text && strstr(first, "cannot open")) err->code = DF_E_NOT_FOUND;
    return NULL;
}

df_flow_config *df_flow_config_load(df_arena *a, const char *path, const df_value *context,
                                    df_error *err)
{
    return load_or_parse(a, path, NULL, 0, context, err);
}

df_flow_config *df_flow_config_parse(df_arena *a, const char *text, size_t len, const char *name,
                                     const df_value *context, df_error *err)
{
    return load_or_parse(a, name, text ? text : "", text ? len : 0, context, err);
}

/* Filters compiled by flow_executors.c are owned by the loader until the
 * configuration is returned, then by the nodes. */
void df_flow_config_free(df_flow_config *f)
{
    if (!f) return;
    for (size_t i = 0; i < f->n_nodes; i++) {
        df_filter_free(f->nodes[i].when);
        f->nodes[i].when = NULL;
    }
}

const df_flow_node *df_flow_config_node(const df_flow_config *f, const char *name)
{
    for (size_t i = 0; f && name && i < f->n_nodes; i++)
        if (strcmp(f->nodes[i].name, name) == 0) return &f->nodes[i];
    return NULL;
}

df_polling df_flow_node_polling(const df_flow_node *n, const char *endpoint)
{
    const char *s = endpoint ? df_value_string(df_value_get(n->polling, endpoint), NULL) : NULL;
    if (!s) return n->polling_default;
    return strcmp(s, "ALL") == 0 ? DF_POLLING_ALL : DF_POLLING_ANY;
}

void df_flow_set_hub_resolver(df_hub_resolver fn)
{
    hub_resolver = fn;
}

df_hub_resolver flow_hub_resolver(void)
{
    return hub_resolver;
}

/* ---- plugins named directly in uses: -------------------------------------------------- */

static int resolve_library(const char *library, df_executor_config *c, const char *where,
                           df_error *err)
{
    if (!library || !c || (c->jtype && *c->jtype)) return DF_OK;
    const df_plugin *p = df_plugin_load(library, err);
    if (!p) {
        df_error_prefix(err, "%s", where);
        return err->code;
    }
    if (p->n_executors == 1) {
        df_executor_def d;
        df_executor_def_read(p, 0, &d);
        c->jtype = d.jtype;
        return DF_OK;
    }
    df_buf names = DF_BUF_INIT;
    const char *first = "X";
    for (uint32_t i = 0; i < p->n_executors; i++) {
        df_executor_def d;
        df_executor_def_read(p, i, &d);
        df_buf_printf(&names, "%s%s", i ? ", " : "", d.jtype);
        if (!i) first = d.jtype;
    }
    df_error_set(err, DF_E_INVALID_INPUT,
                 "%s: %s declares %u executor types (%s): pick one with "
                 "uses: {jtype: %s, metas: {library: %s}}",
                 where, library, p->n_executors, names.data ? names.data : "none", first, library);
    df_buf_free(&names);
    return DF_E_INVALID_INPUT;
}

int df_flow_config_resolve_libraries(df_flow_config *f, df_error *err)
{
    for (size_t i = 0; i < f->n_nodes; i++) {
        df_flow_node *n = &f->nodes[i];
        const char *w = df_yaml_where(f->yaml, df_value_get(n->yaml, "uses"));
        const char *wb = df_yaml_where(f->yaml, df_value_get(n->yaml, "uses_before"));
        const char *wa = df_yaml_where(f->yaml, df_value_get(n->yaml, "uses_after"));
        if (resolve_library(n->library, n->uses, w, err) ||
            resolve_library(n->uses_before_library, n->uses_before, wb, err) ||
            resolve_library(n->uses_after_library, n->uses_after, wa, err))
            return err->code;
    }
    return DF_OK;
}
