/*
 * request_codec_internal.h -- what the JSON and protobuf forms of the request
 * codec (request_json.c, request_protobuf.c) share: the exception names
 * Jina's clients see for a failure, and the "gateway" route. Not for the
 * wire formats themselves.
 */
#ifndef DOCFLOW_REQUEST_CODEC_INTERNAL_H
#define DOCFLOW_REQUEST_CODEC_INTERNAL_H

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "docflow/error.h"
#include "docflow/flow.h"

/* Jina's StatusProto.StatusCode.ERROR. */
#define REQ_STATUS_ERROR 1

/* The route Jina puts first, for the gateway's own span. */
#define REQ_GATEWAY_ROUTE "gateway"

/* A failure's exception.name. Jina reports the Python exception class;
 * a timeout is the one failure a client may want to tell apart (to retry),
 * every other code is the executor's doing. */
static inline const char *req_exception_name(int code)
{
    return code == DF_E_TIMEOUT ? "TimeoutError" : "ExecutorError";
}

/* The reverse, for clients: the names say no more than that. */
static inline int req_exception_code(const char *name)
{
    return name && strcmp(name, "TimeoutError") == 0 ? DF_E_TIMEOUT : DF_E_INTERNAL;
}

/* The description of a failed route: the response's message for the
 * executor that failed the request, the code's name for any other. */
static inline const char *req_route_message(const df_flow_response *r, const df_flow_route *rt)
{
    if (r->error && r->error_executor && rt->executor &&
        strcmp(rt->executor, r->error_executor) == 0)
        return r->error;
    return df_rc_name(rt->status);
}

/* The gateway route's span: from the earliest start to the latest end of
 * the executor calls; now, when there were none. */
static inline void req_gateway_span(const df_flow_response *r, uint64_t *start, uint64_t *end)
{
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < r->n_routes; i++) {
        if (r->routes[i].start_ns < lo) lo = r->routes[i].start_ns;
        if (r->routes[i].end_ns > hi) hi = r->routes[i].end_ns;
    }
    if (lo == UINT64_MAX) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        lo = hi = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    }
    if (hi < lo) hi = lo;
    *start = lo;
    *end = hi;
}

#endif
