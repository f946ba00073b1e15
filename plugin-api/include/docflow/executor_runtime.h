/*
 * docflow/executor_runtime.h -- loading executors from plugins and calling
 * them: what `docflow-host call` and the flow runtime are built on.
 *
 * Loading (df_executor_open): find the .so (metas.library relative to the
 * YAML file, then each DOCFLOW_PLUGIN_PATH folder, then the plugin folder of
 * this installation; without metas.library, the first plugin there that
 * declares the jtype), check it (entry point, ABI version, descriptors),
 * resolve endpoint bindings (compiled table, then YAML requests:), call init.
 * Modules stay loaded until exit (never unloaded while instances may live).
 *
 * Calling (df_executor_call) follows Jina's binding rules: a bound endpoint
 * calls its handler; an unbound one the default handler; with neither the
 * documents pass through untouched. Batch policies are applied here.
 */
#ifndef DOCFLOW_EXECUTOR_RUNTIME_H
#define DOCFLOW_EXECUTOR_RUNTIME_H

#include "docflow/arena.h"
#include "docflow/document.h"
#include "docflow/error.h"
#include "docflow/executor.h"
#include "docflow/executor_config.h"
#include "docflow/value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct df_executor df_executor;

typedef struct df_executor_options {
    const char *name;      /* instance name (a flow's `name:`); NULL: metas.name or jtype */
    const char *workspace; /* base workspace; NULL: metas.workspace, else $DOCFLOW_HOME/workspace */
    const char *library;   /* a .so to load instead of searching; NULL: search */
    int shard_id;          /* -1 when not sharded */
    int shards;            /* 1 when not sharded */
    int replicas;
    int replica_id;
} df_executor_options;

#define DF_EXECUTOR_OPTIONS_INIT                                                                   \
    {                                                                                              \
        NULL, NULL, NULL, -1, 1, 1, 0                                                              \
    }

/* Loads and initialises one instance. NULL on error: err says what and
 * where (file:line of the YAML, the plugin path, the plugin's own message). */
df_executor *df_executor_open(const df_executor_config *cfg, const df_executor_options *opt,
                              df_error *err);
/* Calls close and frees the instance. NULL is fine. */
void df_executor_close(df_executor *ex);

const char *df_executor_name(const df_executor *ex);
const char *df_executor_jtype(const df_executor *ex);
const char *df_executor_library(const df_executor *ex);
/* The endpoints this instance binds, and whether it has a default handler. */
size_t df_executor_endpoint_count(const df_executor *ex);
const char *df_executor_endpoint_at(const df_executor *ex, size_t i);
int df_executor_has_default(const df_executor *ex);

/* One call of an executor: the inputs, and what the call changed. */
typedef struct df_call {
    df_arena *arena;            /* request memory; everything new goes here */
    const char *endpoint;       /* "/index" */
    df_docs *docs;              /* in: the documents; out: maybe a replacement */
    const df_value *parameters; /* map or NULL */
    df_value *results;          /* map or NULL: receives results[results_key] */
    const char *results_key;    /* NULL: the executor's name (flows pass the instance,
                                   e.g. "indexer/shard-1") */
    df_docs *const *matrix;     /* docs_matrix (joins); NULL: {docs} */
    size_t n_matrix;
    df_docs *groundtruths; /* NULL: empty */
    int skipped;           /* out: 1 when no handler matched (pass-through) */
} df_call;

/* Runs the endpoint. DF_OK, or the handler's failure code with err holding
 * "<executor>: <the plugin's message>". Documents already changed in place
 * by a failing handler stay changed (as in Jina). */
int df_executor_call(df_executor *ex, df_call *call, df_error *err);

/* ---- Inspecting plugins without instantiating them ----------------------- */

/* Loads (or reuses) a plugin module and returns its checked descriptor. */
const df_plugin *df_plugin_load(const char *path, df_error *err);
/* The folders searched for plugins, in order, ':'-separated (arena memory). */
const char *df_plugin_search_path(df_arena *a);

/* The host table handed to plugins (for tests of the ABI). */
const df_host *df_host_table(void);

#ifdef __cplusplus
}
#endif
#endif
