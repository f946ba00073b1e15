/*
 * docflow/flow_config.h -- a flow's YAML (Jina's Flow YAML), loaded and
 * validated into a graph the runtime can start:
 *
 *   jtype: Flow
 *   version: '1'
 *   with: {prefetch: 64, port: 12345, timeout_send: 5000}
 *   executors:
 *     - name: encoder
 *       uses: {jtype: TextEncoder, with: {dim: 256}}
 *       replicas: 2
 *     - name: indexer
 *       uses: plugins/vector-indexer/config.yml
 *       needs: encoder                # a name, a list, or gateway
 *       shards: 2
 *       polling: {/index: ANY, /search: ALL, '*': ANY}
 *       uses_after: MatchMerger
 *       when: {tags__lang: {$eq: en}}
 *       workspace: ${{ ENV.WORKDIR }}
 *
 * Every error names file:line:col and what to change; unknown keys warn.
 * docs/flow-yaml.md is the user's reference for every key.
 *
 * Checking (df_flow_config_check) reads the flow YAML and the executor YAML
 * files it names and never opens a plugin (.so), so `docflow-host validate`
 * and `plot` are safe on any file. Loading (df_flow_config_load / _parse)
 * also reads the descriptor of each .so named directly in `uses:` to learn
 * its jtype (df_flow_config_resolve_libraries).
 */
#ifndef DOCFLOW_FLOW_CONFIG_H
#define DOCFLOW_FLOW_CONFIG_H

#include "docflow/arena.h"
#include "docflow/doc_filter.h"
#include "docflow/error.h"
#include "docflow/executor_config.h"
#include "docflow/value.h"
#include "docflow/yaml_value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum df_polling { DF_POLLING_ANY = 0, DF_POLLING_ALL = 1 } df_polling;

/* One executor of the flow (Jina's Deployment: replicas x shards). */
typedef struct df_flow_node {
    const char *name;         /* unique; executor0, executor1... (by position) when absent */
    const df_value *yaml;     /* the node's map in the YAML (for positions) */
    df_executor_config *uses; /* what `uses:` resolved to, with the flow's top-level
                                 metas, then uses_with / uses_metas / uses_requests
                                 applied. Never NULL: without `uses:` the jtype is
                                 "BaseExecutor" (Jina's default: documents pass
                                 through), which no plugin declares -- the runtime
                                 implements it. A bare `.so` has jtype "" after
                                 df_flow_config_check, its own after _load */
    const char *library;      /* a .so given directly in `uses:` (an absolute path of an
                                 existing file); NULL otherwise */
    const char *uses_from;    /* how `uses:` was resolved, for summaries: "inline",
                                 "path/to/config.yml", "plugin /abs/x.so", "built-in or
                                 installed jtype", "hub://ns/name -> /path/config.yml" */
    const char **needs;       /* inputs, in the order given; empty = the gateway alone.
                                 A join may list "gateway" among other names (the
                                 request as the gateway sent it); no node has that name */
    size_t n_needs;
    int replicas;                    /* >= 1 */
    int shards;                      /* >= 1 */
    df_polling polling_default;      /* polling '*' (default ANY) */
    df_value *polling;               /* map endpoint -> "ANY"/"ALL" (without '*'), never NULL */
    df_executor_config *uses_before; /* NULL when absent */
    df_executor_config *uses_after;  /* NULL: the runtime's merge by id alone (Jina's
                                        reduce): `uses_after: null` or Jina's `BaseExecutor`,
                                        or no shards polled ALL (else the default reducer,
                                        see uses_after_implicit, unless not installed) */
    const char *uses_before_library; /* .so paths, as for `library` */
    const char *uses_after_library;
    const char *uses_before_from; /* as uses_from; NULL when absent */
    const char *uses_after_from;
    df_filter *when;            /* NULL: every document */
    const df_value *when_yaml;  /* the condition as written (for plots); NULL when absent */
    df_value *env;              /* map of strings (the flow's with.env, then the node's),
                                   never NULL */
    const char *workspace;      /* base workspace; NULL: the flow's, else default */
    double timeout_send_ms;     /* 0: the flow's with.timeout_send, else none */
    df_value *dynamic_batching; /* map endpoint -> {preferred_batch_size: n >= 1,
                                   timeout: ms >= 0 (default 10000, Jina's)}, never NULL */
    int external;               /* external: true (host/port name a running executor) */
    const char *host;           /* external's host; NULL when absent */
    int port;                   /* external's port; 0 when absent */
    int uses_after_implicit;    /* 1: uses_after is the default reducer the configuration
                                   chose, not one the user wrote: MatchMerger with
                                   `default_reducer: true`, for shards > 1 with some
                                   endpoint polled ALL and no `uses_after:` key. The
                                   runtime runs it only for endpoints polled ALL (an
                                   explicit uses_after runs after the shards for every
                                   endpoint, as in Jina) */
} df_flow_node;

typedef struct df_flow_config {
    const char *source;     /* the YAML file */
    const char *dir;        /* its folder (absolute when it resolves) */
    df_value *with;         /* flow-level settings (map, never NULL) */
    int prefetch;           /* with.prefetch, default 1000 (Jina's); 0 = unlimited */
    double timeout_send_ms; /* with.timeout_send, 0 = none */
    df_flow_node *nodes;    /* topologically sorted (YAML order when it is one) */
    size_t n_nodes;
    df_value *warnings; /* list of strings */
    const df_yaml *yaml;
} df_flow_config;

/* Loads and validates a flow YAML file, then resolves the jtype of plugins
 * named directly in `uses:` (df_flow_config_resolve_libraries). `context`
 * feeds ${{ VAR }}. NULL on error: err holds the first error
 * ("file:line:col: what to change"), with "(and N more errors ...)" when
 * there are several. Free with df_flow_config_free, then the arena. */
df_flow_config *df_flow_config_load(df_arena *a, const char *path, const df_value *context,
                                    df_error *err);
/* The same from text; `name` is used in messages and its folder resolves
 * relative paths (the current folder when it has none). */
df_flow_config *df_flow_config_parse(df_arena *a, const char *text, size_t len, const char *name,
                                     const df_value *context, df_error *err);
/* For `docflow-host validate`: keeps going after an error, so every error is
 * reported. Reads the file at `path`, or `text` (len bytes) when it is not
 * NULL (then `path` only names it). Appends every error and every warning,
 * as strings, to the lists `errors` and `warnings` (either may be NULL).
 * Returns the configuration, or NULL when there was any error. */
df_flow_config *df_flow_config_check(df_arena *a, const char *path, const char *text, size_t len,
                                     const df_value *context, df_value *errors, df_value *warnings);
/* Fills in the jtype of every executor named by a bare `.so` in `uses:`,
 * `uses_before:` or `uses_after:` by reading the plugin's descriptor: a
 * plugin with one executor type gives it; with several it is an error that
 * lists them and shows `uses: {jtype: X, metas: {library: x.so}}`. This
 * loads the plugins (df_plugin_load); df_flow_config_load calls it, and
 * df_flow_config_check does not. */
int df_flow_config_resolve_libraries(df_flow_config *f, df_error *err);
/* Frees what a configuration holds outside its arena (compiled `when:`
 * filters). Call it before freeing the arena. NULL is fine. */
void df_flow_config_free(df_flow_config *f);
/* The node named `name`, or NULL. */
const df_flow_node *df_flow_config_node(const df_flow_config *f, const char *name);
/* The polling of a node for an endpoint: its own entry, else '*'. */
df_polling df_flow_node_polling(const df_flow_node *n, const char *endpoint);

/* Hook for `uses: hub://...`: returns the path of the package's config.yml
 * (the hub fills it in; NULL hook = "hub:// needs docflow-hub"). Set it once,
 * before loading flows (it is a plain global, not synchronised). */
typedef const char *(*df_hub_resolver)(df_arena *a, const char *uri, df_error *err);
void df_flow_set_hub_resolver(df_hub_resolver fn);

#ifdef __cplusplus
}
#endif
#endif
