/*
 * gateway_routes.c -- what each HTTP request means, following Jina's HTTP
 * gateway: POST /post and the CRUD and executor endpoints go to the flow;
 * GET /status, /dry_run, /metrics, /openapi.json are answered here; CORS
 * preflight when enabled. Errors are JSON in Jina's response shape.
 *
 * Executor failures keep HTTP 200 with the error in header.status, as
 * Jina's gateway does (its clients read it there); the gateway's own
 * refusals use the status that says why (400, 404, 405, 413, 415, 503, 504).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docflow/json_codec.h"
#include "docflow/log.h"
#include "docflow/request_codec.h"
#include "gateway_internal.h"
#include "gateway_openapi.h"

static int path_is(const df_http_request *r, const char *p)
{
    size_t n = strlen(p);
    return r->path_len == n && memcmp(r->path, p, n) == 0;
}

static int method_is(const df_http_request *r, const char *m)
{
    size_t n = strlen(m);
    return r->method_len == n && memcmp(r->method, m, n) == 0;
}

const char *gw_common_headers(const gw *g)
{
    return g->opt.cors ? "Access-Control-Allow-Origin: *\r\n"
                         "Access-Control-Allow-Methods: GET, POST, PUT, DELETE, OPTIONS\r\n"
                         "Access-Control-Allow-Headers: *\r\n"
                       : "";
}

/* ---- immediate answers -------------------------------------------------------------- */

/* Jina's error body: a header whose status carries the reason. */
static void error_body(df_buf *b, int http_status, const char *msg)
{
    const char *name = http_status == 503   ? "ServiceUnavailable"
                       : http_status == 504 ? "TimeoutError"
                       : http_status >= 500 ? "InternalError"
                                            : "BadRequest";
    size_t len = strlen(msg);
    df_buf_append_str(b, "{\"header\":{\"requestId\":\"\",\"status\":{\"code\":1,\"description\":");
    df_json_encode_string(b, msg, len);
    df_buf_printf(b, ",\"exception\":{\"name\":\"%s\",\"args\":[", name);
    df_json_encode_string(b, msg, len);
    df_buf_append_str(b, "],\"stacks\":[],\"executor\":\"\"}}},\"data\":null}");
}

static void respond(gw *g, gw_conn *c, int status, const char *type, const char *extra,
                    const df_buf *body, int keep_alive)
{
    char headers[512];
    snprintf(headers, sizeof headers, "%s%s", gw_common_headers(g), extra ? extra : "");
    df_buf_reset(&c->out);
    c->out_off = 0;
    df_http_write_response(&c->out, status, type, headers, body ? body->data : NULL,
                           body ? body->len : 0, keep_alive);
    c->keep_alive = keep_alive;
}

void gw_respond_error(gw *g, gw_conn *c, int status, const char *msg, int keep_alive)
{
    df_buf body = DF_BUF_INIT;
    error_body(&body, status, msg ? msg : df_http_status_text(status));
    respond(g, c, status, "application/json",
            status == 503   ? "Retry-After: 1\r\n"
            : status == 405 ? "Allow: GET, POST, PUT, DELETE, OPTIONS\r\n"
                            : NULL,
            &body, keep_alive);
    df_buf_free(&body);
}

static void respond_status(gw *g, gw_conn *c)
{
    const df_flow_config *cfg = g->cfg;
    df_buf b = DF_BUF_INIT;
    df_buf_printf(&b,
                  "{\"jina\":{\"docflow\":\"%s\",\"executor_abi\":\"%d.%d\"},\"envs\":{},"
                  "\"in_flight\":%d,\"prefetch\":%d,\"executors\":[",
                  DOCFLOW_VERSION, DF_ABI_MAJOR, DF_ABI_MINOR, df_flow_in_flight(g->flow),
                  cfg->prefetch);
    for (size_t i = 0; i < cfg->n_nodes; i++) {
        const df_flow_node *n = &cfg->nodes[i];
        df_buf_append_str(&b, i ? ",{\"name\":" : "{\"name\":");
        df_json_encode_string(&b, n->name, strlen(n->name));
        const char *jtype = n->uses ? n->uses->jtype : "";
        df_buf_append_str(&b, ",\"uses\":");
        df_json_encode_string(&b, jtype, strlen(jtype));
        df_buf_printf(&b, ",\"replicas\":%d,\"shards\":%d,\"state\":\"ready\"}", n->replicas,
                      n->shards);
    }
    df_buf_append_str(&b, "]}");
    respond(g, c, 200, "application/json", NULL, &b, c->keep_alive);
    df_buf_free(&b);
}

static void respond_metrics(gw *g, gw_conn *c)
{
    df_buf b = DF_BUF_INIT;
    df_metrics_render(g->metrics, &b);
    respond(g, c, 200, "text/plain; version=0.0.4", NULL, &b, c->keep_alive);
    df_buf_free(&b);
}

static void respond_openapi(gw *g, gw_conn *c)
{
    const char *endpoints[256];
    size_t n = df_flow_endpoints(g->flow, endpoints, 256);
    df_buf b = DF_BUF_INIT;
    df_openapi_render(&b, g->cfg, endpoints, n < 256 ? n : 256);
    respond(g, c, 200, "application/json", NULL, &b, c->keep_alive);
    df_buf_free(&b);
}

/* ---- requests for the flow ----------------------------------------------------------------- */

typedef enum { KIND_DATA, KIND_DRY_RUN } post_kind;

/* The HTTP answer to a flow response, built on the flow thread into
 * p->response (p->body is the encoder's scratch). */
static void encode_answer(gw_pending *p, df_flow_response *resp, int *status_out)
{
    gw *g = p->g;
    df_buf body = p->body;
    df_buf_reset(&body);
    int status = resp->status == DF_E_TIMEOUT ? 504 : 200;
    const char *type = "application/json";
    if (p->dry_run) {
        if (resp->status) {
            const char *m = resp->error ? resp->error : "dry run failed";
            df_buf_append_str(&body, "{\"code\":1,\"description\":");
            df_json_encode_string(&body, m, strlen(m));
            df_buf_append_str(&body,
                              ",\"exception\":{\"name\":\"InternalNetworkError\",\"args\":[");
            df_json_encode_string(&body, m, strlen(m));
            df_buf_append_str(&body, "],\"stacks\":[],\"executor\":");
            const char *ex = resp->error_executor ? resp->error_executor : "";
            df_json_encode_string(&body, ex, strlen(ex));
            df_buf_append_str(&body, "}}");
        } else
            df_buf_append_str(&body, "{\"code\":0,\"description\":\"\",\"exception\":null}");
    } else if (p->protobuf) {
        df_response_encode_protobuf(&body, resp, p->target);
        type = "application/x-protobuf";
    } else {
        df_response_encode_json(&body, resp, p->target);
    }
    df_buf_reset(&p->response);
    df_http_write_response(&p->response, status, type, gw_common_headers(g), body.data, body.len,
                           p->keep_alive);
    p->body = body;
    *status_out = status;
}

static void on_flow_done(void *ctx, df_flow_response *resp)
{
    gw_pending *p = ctx;
    gw *g = p->g;
    int status;
    encode_answer(p, resp, &status);
    double seconds = (double)(gw_now_ns() - p->t0) / 1e9;
    df_metrics_observe(g->metrics, p->endpoint, status, seconds, df_docs_len(resp->docs), resp);
    df_metrics_in_flight(g->metrics, -1);
    p->resp = resp; /* its memory came from the loop's thread: freed there */
    gw_complete(g, p);
}

/* Posts now when the flow has room; else queues (prefetch_wait) or 503s. */
static int post_or_queue(gw *g, gw_pending *p, int *refused)
{
    int prefetch = g->cfg->prefetch;
    int full = prefetch > 0 && (df_flow_in_flight(g->flow) >= prefetch || g->wait_head);
    *refused = 0;
    if (full && g->opt.prefetch_wait) {
        if (g->wait_tail)
            g->wait_tail->next = p;
        else
            g->wait_head = p;
        g->wait_tail = p;
        g->with_flow++;
        return DF_OK;
    }
    df_error err = DF_ERROR_INIT;
    if (full) {
        *refused = 1;
        return DF_E_RESOURCE;
    }
    g->with_flow++;
    df_metrics_in_flight(g->metrics, 1);
    int rc = df_flow_post(g->flow, &p->req, on_flow_done, p, 0, &err);
    p->req.arena = NULL; /* the flow's now, even when it refused */
    if (rc) {            /* the flow freed the request */
        g->with_flow--;
        df_metrics_in_flight(g->metrics, -1);
        *refused = 1;
    }
    return rc;
}

void gw_post_waiting(gw *g)
{
    int prefetch = g->cfg->prefetch;
    while (g->wait_head && (prefetch <= 0 || df_flow_in_flight(g->flow) < prefetch)) {
        gw_pending *p = g->wait_head;
        g->wait_head = p->next;
        if (!g->wait_head) g->wait_tail = NULL;
        p->next = NULL;
        df_error err = DF_ERROR_INIT;
        df_metrics_in_flight(g->metrics, 1);
        int rc = df_flow_post(g->flow, &p->req, on_flow_done, p, 0, &err);
        p->req.arena = NULL; /* the flow's now, even when it refused */
        if (rc) {
            /* Refused after all (closing): answer it as the flow would. */
            df_metrics_in_flight(g->metrics, -1);
            df_buf_reset(&p->body);
            error_body(&p->body, 503, err.msg);
            df_buf_reset(&p->response);
            df_http_write_response(&p->response, 503, "application/json", gw_common_headers(g),
                                   p->body.data, p->body.len, 0);
            p->keep_alive = 0;
            gw_complete(g, p);
        }
    }
}

static int is_protobuf(const df_http_request *r)
{
    size_t len;
    const char *ct = df_http_header_get(r, "content-type", &len);
    return ct && len >= 22 && strncasecmp(ct, "application/x-protobuf", 22) == 0;
}

/* Anything but protobuf is read as JSON: `curl -d` sends a form type, and
 * refusing it would only teach users a header. Multipart uploads are the
 * one kind that clearly is not JSON. */
static int content_type_ok(const df_http_request *r)
{
    size_t len;
    const char *ct = df_http_header_get(r, "content-type", &len);
    return !ct || len < 10 || strncasecmp(ct, "multipart/", 10) != 0;
}

static gw_pending *pending_new(gw *g, int idx, gw_conn *c)
{
    gw_pending *p = gw_pending_get(g, idx, c);
    p->req.arena = df_arena_new(0);
    return p;
}

/* Decodes and posts a data request; 1 when answered at once. */
static int post_data(gw *g, int idx, gw_conn *c, const df_http_request *r, const char *endpoint)
{
    if (!content_type_ok(r)) {
        gw_respond_error(g, c, 415,
                         "send documents as application/json or application/x-protobuf, "
                         "not multipart",
                         c->keep_alive);
        return 1;
    }
    gw_pending *p = pending_new(g, idx, c);
    p->protobuf = is_protobuf(r);
    df_error err = DF_ERROR_INIT;
    /* An empty body is a request without documents (curl -X POST /index). */
    const char *body = r->body_len ? r->body : (p->protobuf ? "" : "{}");
    size_t body_len = r->body_len ? r->body_len : (p->protobuf ? 0 : 2);
    int rc = p->protobuf ? df_request_decode_protobuf((const uint8_t *)body, body_len, endpoint,
                                                      &p->req, &err)
                         : df_request_decode_json(body, body_len, endpoint, &p->req, &err);
    if (rc) {
        gw_respond_error(g, c, 400, err.msg, c->keep_alive);
        df_metrics_observe_refused(g->metrics, endpoint, 400);
        gw_pending_put(g, p);
        return 1;
    }
    /* Jina: the CRUD and executor routes serve their own path whatever the
     * body says; only /post takes execEndpoint from the body. */
    if (strcmp(endpoint, "/") != 0) p->req.endpoint = df_arena_strdup(p->req.arena, endpoint);
    gw_pending_names(p, p->req.endpoint ? p->req.endpoint : endpoint, p->req.target_executor);
    int refused;
    rc = post_or_queue(g, p, &refused);
    if (!refused) return 0;
    if (rc == DF_E_INVALID_INPUT) {
        gw_respond_error(g, c, 400, "targetExecutor: not a valid regular expression",
                         c->keep_alive);
        df_metrics_observe_refused(g->metrics, endpoint, 400);
        gw_pending_put(g, p);
        return 1;
    }
    gw_respond_error(g, c, 503, "the flow is busy (prefetch reached); retry later", c->keep_alive);
    df_metrics_observe_refused(g->metrics, endpoint, 503);
    gw_pending_put(g, p);
    return 1;
}

static int post_dry_run(gw *g, int idx, gw_conn *c)
{
    gw_pending *p = pending_new(g, idx, c);
    gw_pending_names(p, "_jina_dry_run_", NULL);
    p->dry_run = 1;
    p->req.endpoint = "_jina_dry_run_";
    p->req.docs = df_docs_new(p->req.arena);
    int refused;
    post_or_queue(g, p, &refused);
    if (!refused) return 0;
    gw_respond_error(g, c, 503, "the flow is busy (prefetch reached); retry later", c->keep_alive);
    gw_pending_put(g, p);
    return 1;
}

/* ---- the router ------------------------------------------------------------------------------ */

static int is_crud(const df_http_request *r)
{
    return path_is(r, "/index") || path_is(r, "/search") || path_is(r, "/update") ||
           path_is(r, "/delete");
}

/* The endpoint a data request names: the path itself (NUL-terminated copy). */
static void path_copy(const df_http_request *r, char *out, size_t cap)
{
    size_t n = r->path_len < cap - 1 ? r->path_len : cap - 1;
    memcpy(out, r->path, n);
    out[n] = '\0';
}

static int route_get(gw *g, int idx, gw_conn *c, const df_http_request *r)
{
    if (path_is(r, "/status") || path_is(r, "/"))
        respond_status(g, c);
    else if (path_is(r, "/metrics"))
        respond_metrics(g, c);
    else if (path_is(r, "/openapi.json"))
        respond_openapi(g, c);
    else if (path_is(r, "/dry_run"))
        return post_dry_run(g, idx, c);
    else if (path_is(r, "/post") || is_crud(r))
        gw_respond_error(g, c, 405, "use POST for data requests", c->keep_alive);
    else
        gw_respond_error(g, c, 404, "no such path", c->keep_alive);
    return 1;
}

int gw_route(gw *g, int idx, gw_conn *c, const df_http_request *r)
{
    if (method_is(r, "OPTIONS") && g->opt.cors) {
        respond(g, c, 204, NULL, "Access-Control-Max-Age: 86400\r\n", NULL, c->keep_alive);
        return 1;
    }
    if (method_is(r, "HEAD")) {
        int done = route_get(g, idx, c, r);
        char *end = done ? memmem(c->out.data, c->out.len, "\r\n\r\n", 4) : NULL;
        if (end) c->out.len = (size_t)(end + 4 - c->out.data);
        return done;
    }
    if (method_is(r, "GET")) return route_get(g, idx, c, r);
    int post = method_is(r, "POST");
    if (post && path_is(r, "/post")) return post_data(g, idx, c, r, "/");
    /* Jina's CRUD routes: POST /index, /search; PUT /update; DELETE /delete
     * (POST accepted for all four); POST to any other path is an endpoint of
     * the flow's executors. */
    if ((post && r->path_len > 1) || (method_is(r, "PUT") && path_is(r, "/update")) ||
        (method_is(r, "DELETE") && path_is(r, "/delete"))) {
        if (path_is(r, "/status") || path_is(r, "/metrics") || path_is(r, "/dry_run") ||
            path_is(r, "/openapi.json")) {
            gw_respond_error(g, c, 405, "use GET for this path", c->keep_alive);
            return 1;
        }
        char endpoint[512];
        path_copy(r, endpoint, sizeof endpoint);
        return post_data(g, idx, c, r, endpoint);
    }
    gw_respond_error(g, c, 405, "method not allowed here", c->keep_alive);
    return 1;
}
