/*
 * flow_executors.c -- one item of a flow's `executors:` list: its keys, what
 * `uses:` (and uses_before / uses_after) names, the overrides on top of it,
 * and the per-executor settings (replicas, shards, polling, when, env, ...).
 *
 * Not for: names and needs across items (flow_graph.c). Plugins are never
 * opened here: a `.so` is only looked up on disk.
 */
#include "flow_config_internal.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "docflow/buf.h"
#include "docflow/executor_runtime.h"

#define JINA_DYNAMIC_BATCHING_TIMEOUT_MS 10000.0

/* The reducer a node with shards polled ALL gets when it has no uses_after
 * (plugins/match-merger). */
#define DEFAULT_REDUCER_JTYPE   "MatchMerger"
#define DEFAULT_REDUCER_LIBRARY "match_merger.so"

/* Every key an item may have, in one struct so the reading order does not
 * depend on the order in the file (uses before its overrides). */
typedef struct item_keys {
    const df_value *name, *uses, *uses_with, *uses_metas, *uses_requests, *needs, *replicas,
        *shards, *parallel, *polling, *uses_before, *uses_after, *when, *env, *workspace,
        *timeout_send, *dynamic_batching, *external, *host, *port;
} item_keys;

static const struct {
    const char *key;
    size_t offset;
} item_slots[] = {{"name", offsetof(item_keys, name)},
                  {"uses", offsetof(item_keys, uses)},
                  {"uses_with", offsetof(item_keys, uses_with)},
                  {"uses_metas", offsetof(item_keys, uses_metas)},
                  {"uses_requests", offsetof(item_keys, uses_requests)},
                  {"needs", offsetof(item_keys, needs)},
                  {"replicas", offsetof(item_keys, replicas)},
                  {"shards", offsetof(item_keys, shards)},
                  {"polling", offsetof(item_keys, polling)},
                  {"uses_before", offsetof(item_keys, uses_before)},
                  {"uses_after", offsetof(item_keys, uses_after)},
                  {"when", offsetof(item_keys, when)},
                  {"env", offsetof(item_keys, env)},
                  {"workspace", offsetof(item_keys, workspace)},
                  {"timeout_send", offsetof(item_keys, timeout_send)},
                  {"uses_dynamic_batching", offsetof(item_keys, dynamic_batching)},
                  {"external", offsetof(item_keys, external)},
                  {"host", offsetof(item_keys, host)},
                  {"port", offsetof(item_keys, port)},
                  {"parallel", offsetof(item_keys, parallel)}, /* Jina 1.x; warned below */
                  {NULL, 0}};

#define ITEM_KEYS                                                                                  \
    "name, uses, uses_with, uses_metas, uses_requests, needs, replicas, shards, polling, "         \
    "uses_before, uses_after, when, env, workspace, timeout_send, uses_dynamic_batching, "         \
    "external, host, port"

/* Jina executor arguments that mean nothing in docflow (processes, Docker,
 * gRPC, Kubernetes): a warning, so a Jina flow loads unchanged. */
static const char *const jina_only_keys[] = {"py_modules",
                                             "timeout_ready",
                                             "retries",
                                             "floating",
                                             "no_reduce",
                                             "disable_reduce",
                                             "output_array_type",
                                             "exit_on_exceptions",
                                             "monitoring",
                                             "port_monitoring",
                                             "gpus",
                                             "volumes",
                                             "docker_kwargs",
                                             "entrypoint",
                                             "install_requirements",
                                             "force_update",
                                             "reload",
                                             "quiet",
                                             "quiet_error",
                                             "log_config",
                                             "allow_concurrent",
                                             "compression",
                                             "grpc_server_options",
                                             "grpc_metadata",
                                             "tls",
                                             "env_from_secret",
                                             "uses_before_address",
                                             "uses_after_address",
                                             "upload_files",
                                             "quiet_remote_logs",
                                             "runtime_cls",
                                             "native",
                                             "stateful",
                                             NULL};

static void collect_keys(flow_loader *L, const df_value *map, item_keys *k)
{
    memset(k, 0, sizeof *k);
    for (size_t i = 0; i < df_value_len(map); i++) {
        const char *key = df_value_key_at(map, i);
        size_t s = 0;
        while (item_slots[s].key && strcmp(item_slots[s].key, key) != 0)
            s++;
        if (item_slots[s].key)
            *(const df_value **)((char *)k + item_slots[s].offset) = df_value_at(map, i);
        else if (flow_in_list(key, jina_only_keys))
            flow_warn_key(L, map, key, "Jina's '%s' is not used by docflow (ignored)", key);
        else
            flow_warn_key(L, map, key, "unknown key '%s' in an executor (known: " ITEM_KEYS ")",
                          key);
    }
}

static int is_null(const df_value *v)
{
    return df_value_type_of(v) == DF_VALUE_NULL;
}

/* ---- name ------------------------------------------------------------------------ */

/* A name becomes a folder of the workspace, a metrics label and a
 * target_executor match, so it stays within a safe alphabet. */
static int is_node_name(const char *s)
{
    if (!s || !*s || *s == '.' || *s == '-' || strlen(s) > 128) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '.'))
            return 0;
    return 1;
}

static void read_name(flow_loader *L, node_draft *d, const df_value *v, size_t index)
{
    const char *s = df_value_string(v, NULL);
    d->node.name = df_arena_printf(L->a, "executor%zu", index);
    if (!v || is_null(v)) return;
    if (!s)
        flow_error(L, v, "name must be a string (quote it: name: \"%s\"), got %s",
                   df_value_type_of(v) == DF_VALUE_NUMBER ? flow_got(L, v) : "x", flow_got(L, v));
    else if (strcmp(s, "gateway") == 0)
        flow_error(L, v,
                   "name 'gateway' is reserved: in needs it stands for the flow's entry; pick "
                   "another name");
    else if (!is_node_name(s))
        flow_error(L, v,
                   "name %s may only use letters, digits, '_', '-' and '.' (not first), at most "
                   "128 of them: it names the executor's workspace folder",
                   flow_got(L, v));
    else {
        d->node.name = s;
        d->name_yaml = v;
    }
}

/* ---- uses ----------------------------------------------------------------------- */

typedef struct uses_ref {
    df_executor_config *config;
    const char *library;
    const char *from;
} uses_ref;

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int is_jtype_name(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9')) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void take_warnings(flow_loader *L, const df_value *about, const df_executor_config *c)
{
    for (size_t i = 0; i < df_value_len(c->warnings); i++)
        flow_warn_text(L, about, df_value_string(df_value_at(c->warnings, i), NULL));
}

/* Nested flows are not executors. */
static int refuse_flow(flow_loader *L, const df_value *v, const char *key,
                       const df_executor_config *c)
{
    if (strcmp(c->jtype, "Flow") != 0) return 0;
    flow_error(L, v, "%s: %s is a flow, not an executor (flows do not nest): name an executor", key,
               flow_got(L, v));
    return -1;
}

static int load_executor_yaml(flow_loader *L, const df_value *v, const char *key,
                              const char *node_name, const char *path, uses_ref *out)
{
    df_error err = DF_ERROR_INIT;
    df_executor_config *c = df_executor_config_load(L->a, path, L->context, &err);
    if (!c) {
        flow_error_text(L, v,
                        df_arena_printf(L->a, "%s (the %s of executor '%s', %s)", err.msg, key,
                                        node_name, df_yaml_where(L->y, v)));
        return -1;
    }
    if (refuse_flow(L, v, key, c)) return -1;
    take_warnings(L, v, c);
    out->config = c;
    out->from = path;
    return 0;
}

static int uses_yaml_path(flow_loader *L, const df_value *v, const char *key, const char *node_name,
                          const char *written, uses_ref *out)
{
    const char *path = written[0] == '/' || !*L->dir_as_written
                           ? written
                           : df_arena_printf(L->a, "%s/%s", L->dir_as_written, written);
    if (!is_file(path)) {
        flow_error(L, v,
                   "%s: executor YAML '%s' not found (looked for '%s'; paths are relative to the "
                   "flow file): fix the path",
                   key, written, path);
        return -1;
    }
    return load_executor_yaml(L, v, key, node_name, path, out);
}

/* A plugin file name in the plugin folders (DOCFLOW_PLUGIN_PATH, then the
 * installation's); every path tried is appended to `tried`. */
static const char *find_in_plugin_folders(flow_loader *L, const char *lib, df_buf *tried)
{
    const char *search = df_plugin_search_path(L->a);
    for (const char *p = search; p && *p;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len) {
            const char *cand = df_arena_printf(L->a, "%.*s/%s", (int)len, p, lib);
            df_buf_printf(tried, "%s%s", tried->len ? ", " : "", cand);
            if (is_file(cand)) return cand;
        }
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

/* A .so in uses: beside the flow file (or at its path), else by file name
 * in the plugin folders, as metas.library is found. Only stat()ed. */
static const char *find_plugin(flow_loader *L, const char *lib, df_buf *tried)
{
    const char *cand = lib[0] == '/' ? lib : df_arena_printf(L->a, "%s/%s", L->f->dir, lib);
    df_buf_printf(tried, "%s", cand);
    if (is_file(cand)) return cand;
    if (lib[0] == '/' || strchr(lib, '/')) return NULL;
    return find_in_plugin_folders(L, lib, tried);
}

static int uses_library(flow_loader *L, const df_value *v, const char *key, const char *lib,
                        uses_ref *out)
{
    df_buf tried = DF_BUF_INIT;
    const char *found = find_plugin(L, lib, &tried);
    if (!found)
        flow_error(L, v,
                   "%s: plugin '%s' not found; looked in: %s. Build it, fix the path (relative to "
                   "the flow file) or add its folder to DOCFLOW_PLUGIN_PATH",
                   key, lib, tried.data ? tried.data : "(nowhere)");
    df_buf_free(&tried);
    if (!found) return -1;
    char *abs = realpath(found, NULL);
    out->library = df_arena_strdup(L->a, abs ? abs : found);
    free(abs);
    /* The jtype comes from the plugin's descriptor at start-up
     * (df_flow_config_resolve_libraries): reading it means loading the .so. */
    out->config = df_executor_config_for_jtype(L->a, "", L->f->dir);
    out->config->source = out->library;
    out->from = df_arena_printf(L->a, "plugin %s", out->library);
    return 0;
}

static int uses_hub(flow_loader *L, const df_value *v, const char *key, const char *node_name,
                    const char *uri, uses_ref *out)
{
    df_hub_resolver resolve = flow_hub_resolver();
    if (!resolve) {
        flow_error(L, v, "%s: hub:// executors need docflow-hub (not available in this build)",
                   key);
        return -1;
    }
    df_error err = DF_ERROR_INIT;
    const char *path = resolve(L->a, uri, &err);
    if (!path) {
        flow_error(L, v, "%s: %s: %s", key, uri, err.msg[0] ? err.msg : "cannot resolve");
        return -1;
    }
    if (load_executor_yaml(L, v, key, node_name, path, out)) return -1;
    out->from = df_arena_printf(L->a, "%s -> %s", uri, path);
    return 0;
}

static int uses_string(flow_loader *L, const df_value *v, const char *key, const char *node_name,
                       uses_ref *out)
{
    const char *s = df_value_string(v, NULL);
    const char *scheme_end = strstr(s, "://");
    if (strncmp(s, "hub://", 6) == 0) return uses_hub(L, v, key, node_name, s, out);
    if (scheme_end) {
        flow_error(L, v,
                   "%s: %s: Jina's %.*s:// executors are not supported (docflow executors are "
                   "shared libraries); use hub://namespace/name[:version], a .so or an executor "
                   "YAML",
                   key, flow_got(L, v), (int)(scheme_end - s), s);
        return -1;
    }
    if (ends_with(s, ".so")) return uses_library(L, v, key, s, out);
    if (ends_with(s, ".yml") || ends_with(s, ".yaml") || strchr(s, '/'))
        return uses_yaml_path(L, v, key, node_name, s, out);
    if (is_jtype_name(s)) {
        out->config = df_executor_config_for_jtype(L->a, s, L->f->dir);
        out->from = "built-in or installed jtype";
        return 0;
    }
    flow_error(L, v,
               "%s: %s is not something docflow can load: give an executor YAML path (.yml), a "
               "plugin (.so), an executor type (e.g. Echo), an inline {jtype: ...} mapping, or "
               "hub://namespace/name",
               key, flow_got(L, v));
    return -1;
}

static int resolve_uses(flow_loader *L, const df_value *v, const char *key, const char *node_name,
                        uses_ref *out)
{
    memset(out, 0, sizeof *out);
    if (df_value_type_of(v) == DF_VALUE_STRING) return uses_string(L, v, key, node_name, out);
    if (df_value_type_of(v) != DF_VALUE_MAP) {
        flow_error(L, v,
                   "%s must be an executor YAML path, a .so, an executor type, hub://... or an "
                   "inline {jtype: ...} mapping, got %s",
                   key, flow_got(L, v));
        return -1;
    }
    df_error err = DF_ERROR_INIT;
    df_executor_config *c = df_executor_config_from_value(L->a, v, L->y, L->f->dir, &err);
    if (!c) {
        flow_error_text(L, v, err.msg);
        return -1;
    }
    if (refuse_flow(L, v, key, c)) return -1;
    take_warnings(L, v, c);
    out->config = c;
    out->from = "inline";
    return 0;
}

/* uses_with / uses_metas / uses_requests, one at a time so a message points
 * at the section that is wrong. */
static void override_one(flow_loader *L, df_executor_config *c, const df_value *v, int which)
{
    if (!v) return;
    size_t before = df_value_len(c->warnings);
    df_error err = DF_ERROR_INIT;
    if (df_executor_config_override(c, which == 0 ? v : NULL, which == 1 ? v : NULL,
                                    which == 2 ? v : NULL, &err)) {
        flow_error(L, v, "%s", err.msg);
        return;
    }
    for (size_t i = before; i < df_value_len(c->warnings); i++)
        flow_warn_text(L, v,
                       df_arena_printf(L->a, "%s: %s", df_yaml_where(L->y, v),
                                       df_value_string(df_value_at(c->warnings, i), NULL)));
}

/* The flow's top-level metas fill in what the executor's own metas leave
 * unset; uses_metas then wins over both. */
static void apply_top_metas(flow_loader *L, df_executor_config *c)
{
    if (!L->top_metas) return;
    df_value *missing = df_value_new_map(L->a);
    for (size_t i = 0; i < df_value_len(L->top_metas); i++) {
        const char *key = df_value_key_at(L->top_metas, i);
        if (!df_value_get(c->metas, key)) df_value_set(missing, key, df_value_at(L->top_metas, i));
    }
    df_error err = DF_ERROR_INIT;
    if (df_value_len(missing)) df_executor_config_override(c, NULL, missing, NULL, &err);
}

/* `uses_before:` / `uses_after:` that name no executor: absent, null, or
 * Jina's BaseExecutor (which Jina drops from a Deployment, as it has no
 * handler). An explicit null or BaseExecutor as uses_after also turns the
 * default reducer off (read_default_reducer). */
static int names_no_executor(const df_value *v)
{
    const char *s = df_value_string(v, NULL);
    return !v || is_null(v) || (s && strcmp(s, "BaseExecutor") == 0);
}

static void read_uses(flow_loader *L, node_draft *d, const item_keys *k)
{
    df_flow_node *n = &d->node;
    uses_ref ref;
    if (!k->uses || is_null(k->uses)) {
        /* Jina's default: BaseExecutor, which lets documents pass through. */
        n->uses = df_executor_config_for_jtype(L->a, "BaseExecutor", L->f->dir);
        n->uses_from = "no uses:, documents pass through";
    } else if (resolve_uses(L, k->uses, "uses", n->name, &ref) == 0) {
        n->uses = ref.config;
        n->library = ref.library;
        n->uses_from = ref.from;
    }
    /* When uses: itself is wrong, the overrides are still checked (on a
     * stand-in) so every mistake shows at once. */
    df_executor_config *c =
        n->uses ? n->uses : df_executor_config_for_jtype(L->a, "Unresolved", L->f->dir);
    apply_top_metas(L, c);
    override_one(L, c, k->uses_with, 0);
    override_one(L, c, k->uses_metas, 1);
    override_one(L, c, k->uses_requests, 2);
    if (!names_no_executor(k->uses_before) &&
        resolve_uses(L, k->uses_before, "uses_before", n->name, &ref) == 0) {
        n->uses_before = ref.config;
        n->uses_before_library = ref.library;
        n->uses_before_from = ref.from;
    }
    if (!names_no_executor(k->uses_after) &&
        resolve_uses(L, k->uses_after, "uses_after", n->name, &ref) == 0) {
        n->uses_after = ref.config;
        n->uses_after_library = ref.library;
        n->uses_after_from = ref.from;
    }
}

/* ---- needs ------------------------------------------------------------------------- */

static void read_needs(flow_loader *L, node_draft *d, const df_value *v)
{
    d->needs_yaml = v;
    d->needs_kind = NEEDS_DEFAULT;
    if (!v || is_null(v)) return;
    if (df_value_type_of(v) == DF_VALUE_STRING) {
        d->need_values = df_arena_alloc(L->a, sizeof *d->need_values);
        d->need_values[0] = v;
        d->n_need_values = 1;
        d->needs_kind = NEEDS_LIST;
        return;
    }
    if (df_value_type_of(v) != DF_VALUE_LIST) {
        flow_error(L, v, "needs must be an executor name, gateway, or a list of them, got %s",
                   flow_got(L, v));
        d->needs_kind = NEEDS_INVALID;
        return;
    }
    size_t n = df_value_len(v);
    d->needs_kind = n ? NEEDS_LIST : NEEDS_EMPTY;
    d->need_values = df_arena_alloc(L->a, (n ? n : 1) * sizeof *d->need_values);
    for (size_t i = 0; i < n; i++) {
        const df_value *item = df_value_at(v, i);
        if (df_value_type_of(item) != DF_VALUE_STRING) {
            flow_error(L, item, "needs[%zu] must be an executor name (a string), got %s", i,
                       flow_got(L, item));
            continue; /* reported; the other names are still checked */
        }
        d->need_values[d->n_need_values++] = item;
    }
}

/* ---- scaling and polling ---------------------------------------------------------- */

static void read_scaling(flow_loader *L, df_flow_node *n, const item_keys *k)
{
    if (k->replicas && !is_null(k->replicas))
        flow_read_int(L, k->replicas, "replicas", 1, FLOW_MAX_REPLICAS, &n->replicas);
    const df_value *shards = k->shards;
    if (k->parallel) {
        flow_warn_key(L, n->yaml, "parallel",
                      k->shards ? "'parallel' is Jina 1.x's name for 'shards' (ignored: shards "
                                  "is given)"
                                : "'parallel' is Jina 1.x's name for 'shards': write shards");
        if (!shards) shards = k->parallel;
    }
    if (shards && !is_null(shards))
        flow_read_int(L, shards, k->shards ? "shards" : "parallel", 1, FLOW_MAX_SHARDS, &n->shards);
}

static int polling_word(flow_loader *L, const df_value *v, const char *what, df_polling *out)
{
    const char *s = df_value_string(v, NULL);
    if (s && strcasecmp(s, "ANY") == 0) {
        *out = DF_POLLING_ANY;
        return 0;
    }
    if (s && strcasecmp(s, "ALL") == 0) {
        *out = DF_POLLING_ALL;
        return 0;
    }
    flow_error(L, v,
               "%s must be ANY (one shard answers) or ALL (every shard answers, results merged), "
               "got %s",
               what, flow_got(L, v));
    return -1;
}

static void read_polling(flow_loader *L, df_flow_node *n, const df_value *v)
{
    if (!v || is_null(v)) return;
    if (df_value_type_of(v) == DF_VALUE_STRING) {
        polling_word(L, v, "polling", &n->polling_default);
        return;
    }
    if (df_value_type_of(v) != DF_VALUE_MAP) {
        flow_error(L, v,
                   "polling must be ANY, ALL, or a mapping endpoint -> ANY|ALL ('*' for the "
                   "rest), got %s",
                   flow_got(L, v));
        return;
    }
    for (size_t i = 0; i < df_value_len(v); i++) {
        const char *endpoint = df_value_key_at(v, i);
        df_polling p;
        if (strcmp(endpoint, "*") != 0 && endpoint[0] != '/') {
            flow_error_key(L, v, endpoint,
                           "polling: '%s' is not an endpoint: endpoints start with '/' (e.g. "
                           "'/%s'), and '*' stands for every other endpoint",
                           endpoint, endpoint);
            continue;
        }
        const char *what = df_arena_printf(L->a, "polling['%s']", endpoint);
        if (polling_word(L, df_value_at(v, i), what, &p)) continue;
        if (strcmp(endpoint, "*") == 0)
            n->polling_default = p;
        else
            df_value_put_string(n->polling, endpoint, p == DF_POLLING_ALL ? "ALL" : "ANY");
    }
}

/* ---- when, env, workspace, timeouts, dynamic batching, external --------------------- */

static void read_when(flow_loader *L, df_flow_node *n, const df_value *v)
{
    if (!v || is_null(v)) return;
    if (df_value_type_of(v) != DF_VALUE_MAP) {
        flow_error(L, v,
                   "when must be a condition mapping, e.g. when: {tags__lang: {$eq: en}}, got %s",
                   flow_got(L, v));
        return;
    }
    df_error err = DF_ERROR_INIT;
    df_filter *f = df_filter_compile(L->a, v, df_yaml_where(L->y, v), &err);
    if (!f) {
        flow_error_text(L, v, err.msg[0] ? err.msg : "when: invalid condition");
        return;
    }
    if (L->n_filters == L->cap_filters) {
        size_t cap = L->cap_filters ? L->cap_filters * 2 : 8;
        L->filters = df_arena_realloc(L->a, L->filters, L->cap_filters * sizeof *L->filters,
                                      cap * sizeof *L->filters);
        L->cap_filters = cap;
    }
    L->filters[L->n_filters++] = f;
    n->when = f;
    n->when_yaml = v;
}

static void read_env(flow_loader *L, df_flow_node *n, const df_value *v)
{
    if (L->flow_env) df_value_merge(n->env, L->flow_env);
    if (!v) return;
    df_value *env = flow_read_env(L, v, "env");
    if (env) df_value_merge(n->env, env);
}

static void read_batching_entry(flow_loader *L, df_flow_node *n, const char *endpoint,
                                const df_value *v)
{
    const char *what = df_arena_printf(L->a, "uses_dynamic_batching['%s']", endpoint);
    if (df_value_type_of(v) != DF_VALUE_MAP) {
        flow_error(L, v, "%s must be a mapping {preferred_batch_size: N, timeout: MS}, got %s",
                   what, flow_got(L, v));
        return;
    }
    int size = 0, ok = 1;
    double timeout = JINA_DYNAMIC_BATCHING_TIMEOUT_MS;
    for (size_t i = 0; i < df_value_len(v); i++) {
        const char *key = df_value_key_at(v, i);
        const df_value *x = df_value_at(v, i);
        const char *sub = df_arena_printf(L->a, "%s.%s", what, key);
        if (strcmp(key, "preferred_batch_size") == 0)
            ok &= flow_read_int(L, x, sub, 1, 1 << 30, &size) == 0;
        else if (strcmp(key, "timeout") == 0)
            ok &= flow_read_ms(L, x, sub, &timeout) == 0;
        else
            flow_warn_key(L, v, key,
                          "unknown key '%s' in %s (known: preferred_batch_size, timeout; "
                          "ignored)",
                          key, what);
    }
    if (ok && !df_value_get(v, "preferred_batch_size")) {
        flow_error(L, v, "%s needs preferred_batch_size (documents per merged call), e.g. 64",
                   what);
        ok = 0;
    }
    if (!ok) return;
    df_value *entry = df_value_new_map(L->a);
    df_value_put_number(entry, "preferred_batch_size", size);
    df_value_put_number(entry, "timeout", timeout);
    df_value_set_owned(n->dynamic_batching, endpoint, entry);
}

static void read_dynamic_batching(flow_loader *L, df_flow_node *n, const df_value *v)
{
    if (!v || is_null(v)) return;
    if (df_value_type_of(v) != DF_VALUE_MAP) {
        flow_error(L, v,
                   "uses_dynamic_batching must be a mapping endpoint -> {preferred_batch_size, "
                   "timeout}, got %s",
                   flow_got(L, v));
        return;
    }
    for (size_t i = 0; i < df_value_len(v); i++) {
        const char *endpoint = df_value_key_at(v, i);
        if (endpoint[0] != '/')
            flow_error_key(L, v, endpoint,
                           "uses_dynamic_batching: '%s' is not an endpoint: endpoints start "
                           "with '/' (e.g. '/%s')",
                           endpoint, endpoint);
        else
            read_batching_entry(L, n, endpoint, df_value_at(v, i));
    }
}

static void read_external(flow_loader *L, df_flow_node *n, const item_keys *k)
{
    if (k->external && !is_null(k->external)) {
        if (df_value_type_of(k->external) != DF_VALUE_BOOL)
            flow_error(L, k->external, "external must be true or false, got %s",
                       flow_got(L, k->external));
        else
            n->external = df_value_bool(k->external);
    }
    if (k->host && !is_null(k->host)) {
        n->host = df_value_string(k->host, NULL);
        if (!n->host)
            flow_error(L, k->host, "host must be a string (a host name or address), got %s",
                       flow_got(L, k->host));
    }
    if (k->port && !is_null(k->port)) flow_read_int(L, k->port, "port", 1, 65535, &n->port);
    if (n->external && (!k->host || !k->port))
        flow_error_key(L, n->yaml, "external",
                       "external: true needs host: and port: (where the executor already runs)");
    if (!n->external && (k->host || k->port))
        flow_warn_key(L, n->yaml, k->host ? "host" : "port",
                      "host and port are used only with external: true (ignored)");
}

static void read_settings(flow_loader *L, df_flow_node *n, const item_keys *k)
{
    read_scaling(L, n, k);
    read_polling(L, n, k->polling);
    read_when(L, n, k->when);
    read_env(L, n, k->env);
    if (k->workspace && !is_null(k->workspace)) {
        n->workspace = df_value_string(k->workspace, NULL);
        if (!n->workspace)
            flow_error(L, k->workspace, "workspace must be a folder path (a string), got %s",
                       flow_got(L, k->workspace));
    }
    if (k->timeout_send && !is_null(k->timeout_send))
        flow_read_ms(L, k->timeout_send, "timeout_send", &n->timeout_send_ms);
    read_dynamic_batching(L, n, k->dynamic_batching);
    read_external(L, n, k);
}

/* ---- the default reducer ------------------------------------------------------------ */

/* The endpoints polled ALL, for messages: "every endpoint" or "/search, /status". */
static const char *endpoints_polled_all(flow_loader *L, const df_flow_node *n)
{
    if (n->polling_default == DF_POLLING_ALL) return "every endpoint polled ALL";
    df_buf b = DF_BUF_INIT;
    for (size_t i = 0; i < df_value_len(n->polling); i++)
        if (strcmp(df_value_string(df_value_at(n->polling, i), NULL), "ALL") == 0)
            df_buf_printf(&b, "%s%s", b.len ? ", " : "", df_value_key_at(n->polling, i));
    const char *out = b.data ? df_arena_strdup(L->a, b.data) : NULL;
    df_buf_free(&b);
    return out;
}

/* Shards polled ALL each answer with their own top-k; merged by id alone,
 * a search over N shards returns N x k matches in shard order. Unless the
 * item says `uses_after:` (even null: Jina's plain merge), the node gets
 * MatchMerger as an implicit uses_after, which ranks what it can and
 * leaves the rest as the merge by id left it. Found by file name in the
 * plugin folders (stat only, like a .so in uses:); when it is not there
 * the flow still runs, with the merge by id, and says so. */
static void read_default_reducer(flow_loader *L, df_flow_node *n, const item_keys *k)
{
    if (k->uses_after || n->shards < 2) return;
    const char *endpoints = endpoints_polled_all(L, n);
    if (!endpoints) return;
    df_buf tried = DF_BUF_INIT;
    const char *found = find_in_plugin_folders(L, DEFAULT_REDUCER_LIBRARY, &tried);
    if (!found) {
        flow_warn_key(L, n->yaml, k->shards ? "shards" : "parallel",
                      "shards polled ALL (%s) have no uses_after and the default reducer, "
                      "MatchMerger (%s), is not in the plugin folders (looked in: %s): the "
                      "shards' answers are only merged by id. Install it, add its folder to "
                      "DOCFLOW_PLUGIN_PATH, or write uses_after: null to mean that",
                      endpoints, DEFAULT_REDUCER_LIBRARY, tried.data ? tried.data : "nowhere");
        df_buf_free(&tried);
        return;
    }
    df_buf_free(&tried);
    char *abs = realpath(found, NULL);
    n->uses_after_library = df_arena_strdup(L->a, abs ? abs : found);
    free(abs);
    n->uses_after = df_executor_config_for_jtype(L->a, DEFAULT_REDUCER_JTYPE, L->f->dir);
    n->uses_after->source = n->uses_after_library;
    df_value_put_bool(n->uses_after->with, "default_reducer", 1);
    /* The shards' own configured limit is the merged answer's size too. */
    const df_value *limit = n->uses ? df_value_get(n->uses->with, "limit") : NULL;
    if (df_value_type_of(limit) == DF_VALUE_NUMBER && df_value_number(limit) >= 0)
        df_value_put_number(n->uses_after->with, "limit", df_value_number(limit));
    n->uses_after_from = df_arena_printf(L->a,
                                         "default reducer of the shards' answers on %s; "
                                         "uses_after: null turns it off",
                                         endpoints);
    n->uses_after_implicit = 1;
}

/* ---- the item ---------------------------------------------------------------------- */

void flow_read_executor(flow_loader *L, node_draft *d, const df_value *map, size_t index)
{
    df_flow_node *n = &d->node;
    d->map = map;
    n->yaml = map;
    n->replicas = 1;
    n->shards = 1;
    n->polling_default = DF_POLLING_ANY;
    n->polling = df_value_new_map(L->a);
    n->env = df_value_new_map(L->a);
    n->dynamic_batching = df_value_new_map(L->a);
    read_name(L, d, NULL, index);
    if (df_value_type_of(map) != DF_VALUE_MAP) {
        flow_error(L, map,
                   "executors[%zu] must be a mapping such as {name: encoder, uses: config.yml}, "
                   "got %s",
                   index, flow_got(L, map));
        d->needs_kind = NEEDS_INVALID;
        return;
    }
    item_keys k;
    collect_keys(L, map, &k);
    read_name(L, d, k.name, index);
    read_uses(L, d, &k);
    read_needs(L, d, k.needs);
    read_settings(L, n, &k);
    read_default_reducer(L, n, &k);
}
