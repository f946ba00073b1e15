/*
 * gateway.h -- the HTTP gateway: serves one in-process flow over HTTP/1.1
 * on io_uring, speaking Jina's HTTP API (POST /post, /index, /search, ...,
 * GET /status, /dry_run, /metrics, /openapi.json).
 */
#ifndef DOCFLOW_GATEWAY_H
#define DOCFLOW_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include "docflow/error.h"
#include "docflow/flow.h"

typedef struct df_gateway_options {
    const char *host;        /* bind address, default "127.0.0.1" */
    int port;                /* 0: a free port (printed on the ready line) */
    size_t max_body_bytes;   /* default 64 MiB */
    size_t max_header_bytes; /* default 16 KiB */
    int cors;                /* add CORS headers, answer preflight */
    int prefetch_wait;       /* queue instead of 503 when the flow is full */
    uint64_t drain_ms;       /* SIGTERM: how long to let requests finish (default 10 s) */
    int max_connections;     /* default 4096 */
} df_gateway_options;

/* Serves until SIGTERM/SIGINT (then drains and returns DF_OK) or a fatal
 * error. Logs "ready on http://HOST:PORT" once listening. The caller opens
 * the flow; the gateway closes it before returning (requests still running
 * must be answered before the gateway's memory goes). SIGINT and SIGTERM
 * must be blocked in every thread before the flow's threads start
 * (df_gateway_block_signals). */
int df_gateway_serve(df_flow *flow, const df_gateway_options *opt, df_error *err);
/* Blocks SIGINT/SIGTERM/SIGPIPE in the calling thread (and so in the
 * threads it starts afterwards); the gateway reads them from a signalfd. */
void df_gateway_block_signals(void);

#endif
