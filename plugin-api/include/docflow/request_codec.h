/*
 * docflow/request_codec.h -- requests and responses on the wire, as Jina's
 * HTTP gateway speaks them, for the gateway (decode requests, encode
 * responses) and the client (the reverse). Not for HTTP itself (the
 * gateway's parser) nor for documents alone (json_codec.h, protobuf_codec.h,
 * which these functions use for the `data` part).
 *
 * JSON request body (POST /post; /index etc. take the same without
 * execEndpoint):
 *   {"data": [doc, ...] | {"docs": [doc, ...]} | null, "execEndpoint": "/index",
 *    "parameters": {...} | null, "targetExecutor": "name-regex" | null}
 * snake_case spellings (exec_endpoint, target_executor) are accepted too;
 * when both are given the camelCase one wins. Other keys are ignored (Jina's
 * pydantic model ignores them too); the body must be an object and the
 * known keys of the right type.
 *
 * JSON response:
 *   {"header": {"requestId": "...", "execEndpoint": "/index", "targetExecutor": "",
 *               "status": null | {"code": 1, "description": "...",
 *                                 "exception": {"name": "...", "args": ["..."],
 *                                               "stacks": [], "executor": "..."}}},
 *    "parameters": {..., "__results__": {...}},
 *    "routes": [{"executor": "gateway", "startTime": "...", "endTime": "..."},
 *               {"executor": "encoder", "startTime": "...", "endTime": "...",
 *                "status": {...}}, ...],
 *    "data": [doc, ...]}
 * - status is null when the request succeeded. On failure, code is 1
 *   (Jina's ERROR), description and args[0] the message, and exception.name
 *   "TimeoutError" for DF_E_TIMEOUT, "ExecutorError" for any other code;
 *   exception.executor names the failed executor ("" when none).
 * - routes: first "gateway", spanning the earliest start to the latest end
 *   of the others (now, when there are none), then one per executor call;
 *   a failed call carries a status like the header's. Times are RFC 3339
 *   UTC with microseconds, as Jina prints them: "2022-04-01T13:11:57.992497+00:00".
 *
 * Protobuf: jina.DataRequestProto (plugin-api/proto/jina.proto) both ways:
 * header {request_id, status, exec_endpoint, target_executor, timeout},
 * parameters (google.protobuf.Struct), routes (RouteProto with Timestamps,
 * the same entries as in JSON), data.docs (DocumentArrayProto). Decoding
 * also accepts data.docs_bytes (bytes holding a DocumentArrayProto), and
 * follows protobuf's merge rules for fields given more than once.
 *
 * Errors are DF_E_INVALID_INPUT and name the field ("execEndpoint: expected
 * a string, got a number", "data[3].text: ...", "invalid JSON at byte 17
 * (line 1, column 18): ...", "truncated or malformed DataRequestProto (312
 * bytes)").
 */
#ifndef DOCFLOW_REQUEST_CODEC_H
#define DOCFLOW_REQUEST_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "docflow/arena.h"
#include "docflow/buf.h"
#include "docflow/error.h"
#include "docflow/flow.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ========================================================================
 * Server side
 * ======================================================================== */

/* A request body -> q. q->arena must be set: everything decoded goes there,
 * and the body is not referenced afterwards (it may be freed at once).
 * Sets q->endpoint (the body's, or `default_endpoint` when it names none or
 * ""; "/post" callers pass "/" as Jina does; callers that fix the endpoint,
 * like POST /index, overwrite it after decoding), q->docs (never NULL; empty
 * when the body has none), q->parameters (a map, or NULL when absent or
 * null) and q->target_executor (NULL when absent, null or ""). The protobuf
 * form also sets q->request_id and q->timeout_ms when its header gives them.
 * Other fields are left as they are. DF_OK, or DF_E_INVALID_INPUT with the
 * field named; then q's fields are unspecified and the caller frees the
 * arena. */
int df_request_decode_json(const char *body, size_t len, const char *default_endpoint,
                           df_flow_request *q, df_error *err);
int df_request_decode_protobuf(const uint8_t *body, size_t len, const char *default_endpoint,
                               df_flow_request *q, df_error *err);

/* A response -> bytes appended to `b`. `target_executor` echoes the
 * request's (NULL: ""). */
void df_response_encode_json(df_buf *b, const df_flow_response *r, const char *target_executor);
void df_response_encode_protobuf(df_buf *b, const df_flow_response *r, const char *target_executor);

/* ========================================================================
 * Client side: the reverse
 * ======================================================================== */

/* A request -> bytes appended to `b`. NULL endpoint, parameters or
 * target_executor leave that field out; NULL docs send none. */
void df_request_encode_json(df_buf *b, const char *endpoint, const df_docs *docs,
                            const df_value *parameters, const char *target_executor);
void df_request_encode_protobuf(df_buf *b, const char *endpoint, const df_docs *docs,
                                const df_value *parameters, const char *target_executor);

/* A response body -> *out, everything in arena `a` (not a response to pass
 * to df_flow_response_free). out->docs is never NULL; request_id, endpoint,
 * parameters, error and error_executor are NULL when the body has none.
 * The leading "gateway" route is dropped: out->routes lists the executor
 * calls only, as df_flow_response does. out->status is DF_OK, DF_E_TIMEOUT
 * for a TimeoutError and DF_E_INTERNAL for any other failure; a route's
 * status likewise. DF_OK, or DF_E_INVALID_INPUT with the field named. */
int df_response_decode_json(df_arena *a, const char *body, size_t len, df_flow_response *out,
                            df_error *err);
int df_response_decode_protobuf(df_arena *a, const uint8_t *body, size_t len, df_flow_response *out,
                                df_error *err);

#ifdef __cplusplus
}
#endif
#endif
