/*
 * gateway_metrics.h -- the gateway's Prometheus metrics (GET /metrics, text
 * exposition format 0.0.4). Names follow Jina's where they exist, prefixed
 * docflow_: requests and errors per endpoint, a request latency histogram
 * per endpoint, per-executor call counts, errors and a latency histogram
 * (from the response routes), requests in flight, documents processed.
 * Thread-safe: observations come from flow threads, rendering from the
 * server thread.
 */
#ifndef DOCFLOW_GATEWAY_METRICS_H
#define DOCFLOW_GATEWAY_METRICS_H

#include <stddef.h>

#include "docflow/buf.h"
#include "docflow/flow.h"

typedef struct df_metrics df_metrics;

df_metrics *df_metrics_new(void);
void df_metrics_free(df_metrics *m);
/* One finished request: its endpoint, HTTP status, seconds from receipt to
 * response, documents in the response, and its routes (executor calls). */
void df_metrics_observe(df_metrics *m, const char *endpoint, int http_status, double seconds,
                        size_t docs, const df_flow_response *resp);
/* A request refused before reaching the flow (400, 413, 503, ...). */
void df_metrics_observe_refused(df_metrics *m, const char *endpoint, int http_status);
void df_metrics_in_flight(df_metrics *m, int delta);
/* Appends the exposition text. */
void df_metrics_render(df_metrics *m, df_buf *out);

#endif
