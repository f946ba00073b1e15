/*
 * gateway_openapi.c -- writes the OpenAPI 3.0 document of a served flow.
 *
 * The schemas are fixed JSON text below, written to match what
 * request_codec.h and json_codec.h accept and produce (their top comments
 * are the reference: change both together). Only the paths depend on the
 * flow: its executors' endpoints each get a POST route.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "docflow/json_codec.h"
#include "docflow/value.h"
#include "gateway_openapi.h"

#ifndef DOCFLOW_VERSION
#define DOCFLOW_VERSION "0"
#endif

#define REF(name) "{\"$ref\":\"#/components/schemas/" name "\"}"

/* Jina's CRUD routes, always there (Jina hides them with
 * no_crud_endpoints; docflow has no such switch). */
static const char *const crud_endpoints[] = {"/index", "/search", "/update", "/delete"};

/* Served by the gateway itself with GET. */
static const char *const get_routes[] = {"/status", "/dry_run", "/metrics"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The JSON tables below are laid out by hand, one property per line;
 * clang-format would re-flow string literals joined with REF(). */
/* clang-format off */
static const char tags_json[] =
    "[{\"name\":\"Debug\",\"description\":\"The generic request route and the flow's health.\"},"
    "{\"name\":\"CRUD\",\"description\":\"Jina's CRUD endpoints: the body of /post without "
    "execEndpoint.\"},"
    "{\"name\":\"Executor endpoints\",\"description\":\"Endpoints the flow's executors bind.\"},"
    "{\"name\":\"Monitoring\",\"description\":\"Prometheus metrics.\"}]";

/* DocArray v1's Document in Jina's JSON form (json_codec.h). */
static const char document_schemas_json[] =
    "\"Document\":{\"type\":\"object\","
    "\"description\":\"A DocArray v1 document in Jina's JSON form (snake_case keys; empty fields "
    "are left out). text, blob and tensor are one content: give at most one. A document without "
    "an id gets a random one. Unknown keys are an error; DocArray's protobuf-JSON spellings "
    "(parentId, mimeType, opName, refId) are accepted too.\","
    "\"properties\":{"
    "\"id\":{\"type\":\"string\",\"description\":\"32 hex digits when generated.\"},"
    "\"parent_id\":{\"type\":\"string\"},"
    "\"granularity\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":4294967295},"
    "\"adjacency\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":4294967295},"
    "\"blob\":{\"type\":\"string\",\"format\":\"byte\",\"description\":\"Base64 (standard or "
    "URL-safe, padded or not).\"},"
    "\"tensor\":" REF("NdArray") ","
    "\"mime_type\":{\"type\":\"string\"},"
    "\"text\":{\"type\":\"string\"},"
    "\"weight\":{\"type\":\"number\",\"format\":\"float\"},"
    "\"uri\":{\"type\":\"string\"},"
    "\"tags\":{\"type\":\"object\",\"additionalProperties\":true},"
    "\"_metadata\":{\"type\":\"object\",\"additionalProperties\":true},"
    "\"offset\":{\"type\":\"number\",\"format\":\"float\"},"
    "\"location\":{\"type\":\"array\",\"items\":{\"type\":\"number\",\"format\":\"float\"}},"
    "\"embedding\":" REF("NdArray") ","
    "\"modality\":{\"type\":\"string\"},"
    "\"evaluations\":{\"type\":\"object\",\"additionalProperties\":" REF("Score") "},"
    "\"scores\":{\"type\":\"object\",\"additionalProperties\":" REF("Score") "},"
    "\"chunks\":{\"type\":\"array\",\"items\":" REF("Document") "},"
    "\"matches\":{\"type\":\"array\",\"items\":" REF("Document") "}}},"
    "\"NdArray\":{\"description\":\"An array: nested lists of numbers (float32 unless given "
    "densely; null inside reads as NaN), or the dense form with its bytes.\","
    "\"oneOf\":[" REF("NestedList") "," REF("DenseNdArray") "]},"
    "\"NestedList\":{\"type\":\"array\",\"items\":{\"oneOf\":["
    "{\"type\":\"number\",\"nullable\":true},{\"type\":\"boolean\"}," REF("NestedList") "]}},"
    "\"DenseNdArray\":{\"type\":\"object\",\"required\":[\"dense\"],\"properties\":{"
    "\"dense\":{\"type\":\"object\",\"properties\":{"
    "\"buffer\":{\"type\":\"string\",\"format\":\"byte\"},"
    "\"shape\":{\"type\":\"array\",\"items\":{\"type\":\"integer\",\"minimum\":0}},"
    "\"dtype\":{\"type\":\"string\",\"example\":\"<f4\"}}},"
    "\"cls_name\":{\"type\":\"string\"},"
    "\"parameters\":{\"type\":\"object\",\"additionalProperties\":true}}},"
    "\"Score\":{\"description\":\"A named score; a bare number is read as its value.\","
    "\"oneOf\":[" REF("NamedScore") ",{\"type\":\"number\"}]},"
    "\"NamedScore\":{\"type\":\"object\",\"properties\":{"
    "\"value\":{\"type\":\"number\"},"
    "\"op_name\":{\"type\":\"string\"},"
    "\"description\":{\"type\":\"string\"},"
    "\"ref_id\":{\"type\":\"string\"}}}";

/* Requests and responses (request_codec.h). */
static const char request_schemas_json[] =
    "\"RequestData\":{\"description\":\"The documents: a list, or {\\\"docs\\\": [...]} as older "
    "Jina clients send.\",\"oneOf\":[{\"type\":\"array\",\"items\":" REF("Document") "},"
    "{\"type\":\"object\",\"properties\":{\"docs\":{\"type\":\"array\",\"items\":"
    REF("Document") "}}}]},"
    "\"PostRequest\":{\"type\":\"object\",\"description\":\"snake_case spellings "
    "(exec_endpoint, target_executor) are accepted too.\",\"properties\":{"
    "\"data\":" REF("RequestData") ","
    "\"execEndpoint\":{\"type\":\"string\",\"default\":\"/\",\"example\":\"/search\"},"
    "\"parameters\":{\"type\":\"object\",\"additionalProperties\":true},"
    "\"targetExecutor\":{\"type\":\"string\",\"description\":\"A regular expression matched at "
    "the start of each executor's name: only those run. Empty: every executor.\"}}},"
    "\"EndpointRequest\":{\"type\":\"object\",\"properties\":{"
    "\"data\":" REF("RequestData") ","
    "\"parameters\":{\"type\":\"object\",\"additionalProperties\":true},"
    "\"targetExecutor\":{\"type\":\"string\"}}},"
    "\"Response\":{\"type\":\"object\",\"properties\":{"
    "\"header\":" REF("Header") ","
    "\"parameters\":{\"type\":\"object\",\"additionalProperties\":true,\"description\":\"The "
    "request's parameters, with __results__: what each executor returned, by executor.\"},"
    "\"routes\":{\"type\":\"array\",\"items\":" REF("Route") "},"
    "\"data\":{\"type\":\"array\",\"items\":" REF("Document") "}}},"
    "\"Header\":{\"type\":\"object\",\"properties\":{"
    "\"requestId\":{\"type\":\"string\"},"
    "\"execEndpoint\":{\"type\":\"string\"},"
    "\"targetExecutor\":{\"type\":\"string\"},"
    "\"status\":{\"allOf\":[" REF("Status") "],\"nullable\":true,"
    "\"description\":\"null when the request succeeded.\"}}},"
    "\"Status\":{\"type\":\"object\",\"properties\":{"
    "\"code\":{\"type\":\"integer\",\"enum\":[0,1],\"description\":\"0 SUCCESS, 1 ERROR.\"},"
    "\"description\":{\"type\":\"string\"},"
    "\"exception\":{\"allOf\":[" REF("Exception") "],\"nullable\":true}}},"
    "\"Exception\":{\"type\":\"object\",\"properties\":{"
    "\"name\":{\"type\":\"string\"},"
    "\"args\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
    "\"stacks\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
    "\"executor\":{\"type\":\"string\"}}},"
    "\"Route\":{\"type\":\"object\",\"properties\":{"
    "\"executor\":{\"type\":\"string\",\"example\":\"gateway\"},"
    "\"startTime\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"endTime\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"status\":{\"allOf\":[" REF("Status") "],\"nullable\":true}}},"
    "\"FlowStatus\":{\"type\":\"object\",\"additionalProperties\":true,\"properties\":{"
    "\"version\":{\"type\":\"string\"},"
    "\"executors\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
    "\"additionalProperties\":true,\"properties\":{"
    "\"name\":{\"type\":\"string\"},"
    "\"replicas\":{\"type\":\"integer\",\"minimum\":1},"
    "\"shards\":{\"type\":\"integer\",\"minimum\":1},"
    "\"state\":{\"type\":\"string\"}}}}}},"
    "\"Error\":{\"type\":\"object\",\"additionalProperties\":true,\"description\":\"What was "
    "wrong with the request or what failed, as JSON.\",\"properties\":{"
    "\"header\":{\"type\":\"object\",\"properties\":{\"status\":" REF("Status") "}}}}";

#define ERROR_RESPONSE(description)                                                                \
    "{\"description\":\"" description "\",\"content\":{\"application/json\":{\"schema\":"         \
    REF("Error") "}}}"

static const char responses_json[] =
    "\"BadRequest\":" ERROR_RESPONSE("The body is not a valid request: the error names "
                                     "the field.") ","
    "\"TooLarge\":" ERROR_RESPONSE("The body is over the server's max_body_bytes.") ","
    "\"Failed\":" ERROR_RESPONSE("The flow failed the request.") ","
    "\"Busy\":{\"description\":\"prefetch requests are already in flight: retry later.\","
    "\"headers\":{\"Retry-After\":{\"schema\":{\"type\":\"integer\"}}},"
    "\"content\":{\"application/json\":{\"schema\":" REF("Error") "}}},"
    "\"Timeout\":" ERROR_RESPONSE("The flow did not answer within timeout_send.");

static const char post_responses_json[] =
    "\"400\":{\"$ref\":\"#/components/responses/BadRequest\"},"
    "\"413\":{\"$ref\":\"#/components/responses/TooLarge\"},"
    "\"500\":{\"$ref\":\"#/components/responses/Failed\"},"
    "\"503\":{\"$ref\":\"#/components/responses/Busy\"},"
    "\"504\":{\"$ref\":\"#/components/responses/Timeout\"}";

static const char protobuf_media_json[] =
    "\"application/x-protobuf\":{\"schema\":{\"type\":\"string\",\"format\":\"binary\","
    "\"description\":\"jina.DataRequestProto bytes.\"}}";
/* clang-format on */

/* ---- paths ---------------------------------------------------------------- */

/* The operationIds handed out so far: they must be unique in a document. */
typedef struct op_ids {
    char **v;
    size_t n;
} op_ids;

static int op_id_taken(const op_ids *ids, const char *id)
{
    for (size_t i = 0; i < ids->n; i++)
        if (strcmp(ids->v[i], id) == 0) return 1;
    return 0;
}

/* A unique operationId from a verb and a path: post + /foo-bar ->
 * post_foo_bar, then post_foo_bar_2 if an endpoint like /foo_bar had it. */
static const char *op_id_for(op_ids *ids, const char *verb, const char *path)
{
    df_buf id = DF_BUF_INIT;
    df_buf_append_str(&id, verb);
    df_buf_append_char(&id, '_');
    size_t stem = id.len;
    for (const char *p = path; *p; p++) {
        int word = isalnum((unsigned char)*p);
        if (word)
            df_buf_append_char(&id, *p);
        else if (id.len > stem && id.data[id.len - 1] != '_')
            df_buf_append_char(&id, '_');
    }
    while (id.len > stem && id.data[id.len - 1] == '_')
        id.data[--id.len] = '\0';
    if (id.len == stem) df_buf_append_str(&id, "root");
    size_t base = id.len;
    for (int k = 2; op_id_taken(ids, id.data); k++) {
        id.len = base;
        df_buf_printf(&id, "_%d", k);
    }
    char **v = realloc(ids->v, (ids->n + 1) * sizeof *v);
    if (!v) abort();
    ids->v = v;
    ids->v[ids->n++] = id.data; /* owned by ids now */
    return id.data;
}

static void op_ids_free(op_ids *ids)
{
    for (size_t i = 0; i < ids->n; i++)
        free(ids->v[i]);
    free(ids->v);
}

static void append_string(df_buf *out, const char *s)
{
    df_json_encode_string(out, s, strlen(s));
}

static void append_get(df_buf *out, op_ids *ids, const char *path)
{
    const char *summary, *tag, *content;
    if (strcmp(path, "/status") == 0) {
        summary = "The flow's version, executors, their replicas / shards and state";
        tag = "Debug";
        content = "\"application/json\":{\"schema\":" REF("FlowStatus") "}";
    } else if (strcmp(path, "/dry_run") == 0) {
        summary = "Send a request without documents across every executor";
        tag = "Debug";
        content = "\"application/json\":{\"schema\":" REF("Status") "}";
    } else {
        summary = "Prometheus metrics (text exposition format 0.0.4)";
        tag = "Monitoring";
        content = "\"text/plain; version=0.0.4\":{\"schema\":{\"type\":\"string\"}}";
    }
    df_buf_append_str(out, "\"get\":{\"operationId\":");
    append_string(out, op_id_for(ids, "get", path + 1));
    df_buf_printf(out,
                  ",\"summary\":\"%s\",\"tags\":[\"%s\"],\"responses\":{\"200\":{"
                  "\"description\":\"OK\",\"content\":{%s}}}}",
                  summary, tag, content);
}

static int is_crud(const char *path)
{
    for (size_t i = 0; i < COUNT(crud_endpoints); i++)
        if (strcmp(path, crud_endpoints[i]) == 0) return 1;
    return 0;
}

/* A data route: POST, or Jina's PUT /update and DELETE /delete. */
static void append_post(df_buf *out, op_ids *ids, const char *path, const char *method)
{
    int generic = strcmp(path, "/post") == 0;
    df_buf_printf(out, "\"%s\":{\"operationId\":", method);
    append_string(out, generic ? "post" : op_id_for(ids, method, path));
    df_buf_append_str(out, ",\"summary\":");
    if (generic) {
        append_string(out, "Send a request to the endpoint named by execEndpoint");
    } else {
        df_buf summary = DF_BUF_INIT;
        df_buf_printf(&summary, "Send documents to %s", path);
        append_string(out, summary.data);
        df_buf_free(&summary);
    }
    df_buf_printf(out, ",\"tags\":[\"%s\"],",
                  generic         ? "Debug"
                  : is_crud(path) ? "CRUD"
                                  : "Executor endpoints");
    df_buf_printf(out,
                  "\"requestBody\":{\"required\":true,\"content\":{"
                  "\"application/json\":{\"schema\":%s}%s%s}},",
                  generic ? REF("PostRequest") : REF("EndpointRequest"), generic ? "," : "",
                  generic ? protobuf_media_json : "");
    df_buf_printf(out,
                  "\"responses\":{\"200\":{\"description\":\"The flow's response (an executor's "
                  "failure is in header.status).\",\"content\":{\"application/json\":{"
                  "\"schema\":" REF("Response") "}%s%s}},%s}}",
                  generic ? "," : "", generic ? protobuf_media_json : "", post_responses_json);
}

static int is_get_route(const char *path)
{
    for (size_t i = 0; i < COUNT(get_routes); i++)
        if (strcmp(path, get_routes[i]) == 0) return 1;
    return 0;
}

/* One path item: its GET when the gateway serves one there, its POST when
 * it takes requests there (an executor may bind "/status": then both). */
static void append_path(df_buf *out, op_ids *ids, const char *path, int post)
{
    append_string(out, path);
    df_buf_append_str(out, ":{");
    int get = is_get_route(path);
    if (get) append_get(out, ids, path);
    if (get && post) df_buf_append_char(out, ',');
    if (post) append_post(out, ids, path, "post");
    if (post && strcmp(path, "/update") == 0) {
        df_buf_append_char(out, ',');
        append_post(out, ids, path, "put");
    }
    if (post && strcmp(path, "/delete") == 0) {
        df_buf_append_char(out, ',');
        append_post(out, ids, path, "delete");
    }
    df_buf_append_char(out, '}');
}

/* The POST routes in order, without repeats: /post, CRUD, the executors'. */
static size_t collect_posts(const char **paths, const char *const *endpoints, size_t n_endpoints)
{
    size_t n = 0;
    paths[n++] = "/post";
    for (size_t i = 0; i < COUNT(crud_endpoints); i++)
        paths[n++] = crud_endpoints[i];
    for (size_t i = 0; i < n_endpoints; i++) {
        const char *e = endpoints[i];
        if (!e || e[0] != '/') continue; /* not a path: no route for it */
        size_t k = 0;
        while (k < n && strcmp(paths[k], e) != 0)
            k++;
        if (k == n) paths[n++] = e;
    }
    return n;
}

static void append_paths(df_buf *out, const char *const *endpoints, size_t n_endpoints)
{
    size_t cap = 1 + COUNT(crud_endpoints) + n_endpoints;
    const char **posts = malloc(cap * sizeof *posts);
    if (!posts) abort();
    size_t n_posts = collect_posts(posts, endpoints, n_endpoints);
    op_ids ids = {0};
    df_buf_append_char(out, '{');
    for (size_t i = 0; i < n_posts; i++) {
        if (i) df_buf_append_char(out, ',');
        append_path(out, &ids, posts[i], 1);
    }
    for (size_t i = 0; i < COUNT(get_routes); i++) {
        size_t k = 0;
        while (k < n_posts && strcmp(posts[k], get_routes[i]) != 0)
            k++;
        if (k < n_posts) continue; /* already written with its POST */
        df_buf_append_char(out, ',');
        append_path(out, &ids, get_routes[i], 0);
    }
    df_buf_append_char(out, '}');
    op_ids_free(&ids);
    free(posts);
}

/* ---- the document ------------------------------------------------------- */

static const char *with_string(const df_flow_config *cfg, const char *key, const char *fallback)
{
    const char *s = cfg ? df_value_string(df_value_get(cfg->with, key), NULL) : NULL;
    return s && *s ? s : fallback;
}

void df_openapi_render(df_buf *out, const df_flow_config *cfg, const char *const *endpoints,
                       size_t n_endpoints)
{
    df_buf_append_str(out, "{\"openapi\":\"3.0.3\",\"info\":{\"title\":");
    append_string(out, with_string(cfg, "title", "docflow"));
    df_buf_append_str(out, ",\"description\":");
    append_string(out, with_string(cfg, "description", "docflow"));
    df_buf_append_str(out, ",\"version\":");
    append_string(out, DOCFLOW_VERSION);
    df_buf_append_str(out, "},\"tags\":");
    df_buf_append_str(out, tags_json);
    df_buf_append_str(out, ",\"paths\":");
    append_paths(out, endpoints, n_endpoints);
    df_buf_append_str(out, ",\"components\":{\"schemas\":{");
    df_buf_append_str(out, document_schemas_json);
    df_buf_append_char(out, ',');
    df_buf_append_str(out, request_schemas_json);
    df_buf_append_str(out, "},\"responses\":{");
    df_buf_append_str(out, responses_json);
    df_buf_append_str(out, "}}}");
}
