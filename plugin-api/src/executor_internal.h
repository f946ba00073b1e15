/*
 * executor_internal.h -- what stands behind the ABI's opaque df_exec,
 * df_init and df_req, shared by the loader, the host table and dispatch.
 */
#ifndef DOCFLOW_EXECUTOR_INTERNAL_H
#define DOCFLOW_EXECUTOR_INTERNAL_H

#include <pthread.h>

#include "docflow/error.h"
#include "docflow/executor_config.h"
#include "docflow/executor_runtime.h"

/* One endpoint binding after YAML rebinding. */
typedef struct df_binding {
    const char *endpoint; /* NULL: the default handler */
    const char *method;
    df_handler handler;
    df_batch_policy batch;
} df_binding;

struct df_exec {
    df_executor *owner;
};

struct df_executor {
    df_exec exec;    /* the handle plugins see: &ex->exec */
    df_arena *arena; /* lives as long as the instance */
    const df_plugin *plugin;
    const char *library;
    df_executor_def def; /* copied with the size the plugin declared */
    void *state;
    int initialised;
    const char *name;
    const char *jtype;
    const char *workspace_base;
    const char *workspace; /* created on first use */
    pthread_mutex_t workspace_lock;
    df_value *runtime_args; /* map */
    df_binding *bindings;
    size_t n_bindings;
    const df_binding *default_binding;
};

struct df_init {
    df_executor *ex;
    const df_executor_config *cfg;
    df_error err; /* set by init_fail / with_* type errors */
};

struct df_req {
    df_executor *ex;
    df_call *call;
    df_arena *arena;
    df_docs *docs;          /* the documents of this handler call */
    df_docs *replacement;   /* set by req_set_docs */
    const df_value *params; /* merged lazily */
    df_value *results;      /* this executor's __results__ entry, lazily */
    df_docs *groundtruths;
    df_error *err;
    int failed;
};

/* Loader (executor_loader.c). Descriptor rows are read with the plugin's
 * stride into zeroed host-side structs. */
void df_executor_def_read(const df_plugin *p, size_t i, df_executor_def *out);
void df_request_def_read(const df_executor_def *d, size_t i, df_request_def *out);
const df_plugin *df_loader_open(const char *path, df_error *err);
const char *df_loader_find(df_arena *a, const df_executor_config *cfg, const char *library,
                           df_error *err);

/* Host table entry points reused by the runtime (executor_host.c). */
const df_value *df_req_parameters_merged(df_req *req);

#endif
