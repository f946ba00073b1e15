/*
 * docflow/flow.h -- running a flow in-process: open it from its validated
 * configuration, post requests, get responses, close it. The gateway, the
 * `post --flow` command and the tests all drive flows through this API.
 *
 * Each executor instance (every replica of every shard, and every
 * uses_before / uses_after) runs on its own thread with its own queue, so
 * requests pipeline through the flow and no instance is ever called from
 * two threads at once. A request walks the DAG: a node with several `needs`
 * runs once all its inputs arrived, sees them as docs_matrix and their
 * merge by id as docs; replicas share work (least outstanding first);
 * shards are polled ANY (one shard) or ALL (every shard, then uses_after or
 * the built-in reduce). A failing executor fails that request only.
 */
#ifndef DOCFLOW_FLOW_H
#define DOCFLOW_FLOW_H

#include <stdint.h>

#include "docflow/arena.h"
#include "docflow/document.h"
#include "docflow/error.h"
#include "docflow/flow_config.h"
#include "docflow/value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct df_flow df_flow;

/* Starts every executor (init runs on the calling thread, in topological
 * order) and their threads. NULL on error: the failing executor's name, its
 * YAML location and its message. */
df_flow *df_flow_open(const df_flow_config *cfg, df_error *err);
/* Stops accepting requests, waits for the in-flight ones (at most
 * `drain_ms`, 0 = no limit; past it the rest are failed), stops the threads
 * and closes every executor in reverse topological order. NULL is fine. */
void df_flow_close(df_flow *f, uint64_t drain_ms);

/* A request. The flow takes ownership of `arena` (and so of everything in
 * it): the documents, parameters and groundtruths must live in it. */
typedef struct df_flow_request {
    df_arena *arena;
    const char *endpoint;        /* "/index" */
    df_docs *docs;               /* NULL: none */
    df_value *parameters;        /* map or NULL */
    const char *target_executor; /* a regex matched at the start of each
                                    executor name (Jina's re.match); NULL: all */
    df_docs *groundtruths;       /* NULL: none */
    const char *request_id;      /* NULL: a random one */
    double timeout_ms;           /* 0: the flow's timeout_send (0 = none) */
} df_flow_request;

/* Where a request went: one entry per executor call, in completion order. */
typedef struct df_flow_route {
    const char *executor; /* "encoder", "indexer/shard-1" */
    uint64_t start_ns;    /* CLOCK_REALTIME */
    uint64_t end_ns;
    int status; /* DF_OK or the failure code */
} df_flow_route;

/* A response. Everything in it lives until df_flow_response_free. */
typedef struct df_flow_response {
    const char *request_id;
    const char *endpoint;
    df_docs *docs;
    df_value *parameters; /* the request's, with __results__ filled */
    df_flow_route *routes;
    size_t n_routes;
    int status;                 /* DF_OK, or the code of the first failure */
    const char *error;          /* the failure's message, NULL when ok */
    const char *error_executor; /* the executor that failed, or NULL */
} df_flow_response;

/* Called once per request, from a flow thread, when it completed (or
 * failed, or timed out). The callee owns the response. */
typedef void (*df_flow_done_fn)(void *ctx, df_flow_response *resp);

/* Posts a request. At most `prefetch` requests are in flight: past that,
 * `wait` = 1 blocks until one finishes, `wait` = 0 returns DF_E_RESOURCE at
 * once ("flow busy"). After close started: DF_E_UNSUPPORTED. On an error
 * the request (and its arena) is freed and `done` is not called. */
int df_flow_post(df_flow *f, df_flow_request *req, df_flow_done_fn done, void *ctx, int wait,
                 df_error *err);
/* Posts and waits: returns the response (never NULL unless posting failed,
 * then err says why). */
df_flow_response *df_flow_call(df_flow *f, df_flow_request *req, df_error *err);
void df_flow_response_free(df_flow_response *resp);

/* The distinct endpoints the flow's executors bind (not counting default
 * handlers), up to `max`; returns how many there are. Strings live as long
 * as the flow. */
size_t df_flow_endpoints(const df_flow *f, const char **out, size_t max);

/* Hand-offs this thread makes between begin and end wake each executor
 * thread once, at the end, instead of at every post: a loop that posts a
 * burst of requests (the gateway after one batch of network events) lets
 * the first executor take the burst in one go. Nests; thread-local. Call
 * end before anything that waits for the flow. */
void df_flow_defer_begin(void);
void df_flow_defer_end(void);

/* Requests currently in flight (for metrics and back-pressure). */
int df_flow_in_flight(const df_flow *f);
const df_flow_config *df_flow_config_of(const df_flow *f);

#ifdef __cplusplus
}
#endif
#endif
