/*
 * gateway_openapi.h -- the gateway's OpenAPI 3.0 document (GET
 * /openapi.json): what a client generator or Swagger UI needs to call a
 * served flow. It describes the routes, not how the server implements them.
 */
#ifndef DOCFLOW_GATEWAY_OPENAPI_H
#define DOCFLOW_GATEWAY_OPENAPI_H

#include <stddef.h>

#include "docflow/buf.h"
#include "docflow/flow_config.h"

/* Appends the document (compact JSON) to `out`: POST /post, POST /index,
 * /search, /update, /delete and each of `endpoints` (the ones the flow's
 * executors bind; repeats and the reserved /post are skipped, names not
 * starting with '/' too), GET /status, /dry_run and /metrics, and the
 * schemas of requests, responses and DocArray v1 documents.
 *
 * Arguments: `cfg` gives info.title and info.description from its `with:`
 * (title, description; "docflow" when absent) and may be NULL; `endpoints`
 * may be NULL when `n_endpoints` is 0. Nothing is kept: call it once at
 * startup and serve the bytes. */
void df_openapi_render(df_buf *out, const df_flow_config *cfg, const char *const *endpoints,
                       size_t n_endpoints);

#endif
