/*
 * test_gateway_openapi.c -- GET /openapi.json: the document parses as
 * strict JSON (no repeated keys), has the routes of Jina's HTTP gateway and
 * the flow's own endpoints once each, unique operationIds, every $ref
 * resolving, the DocArray v1 document schema, and title / description /
 * version in info. When python3 has openapi_spec_validator, it validates
 * the document against the OpenAPI 3.0 specification too.
 */
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "docflow/flow_config.h"
#include "gateway_openapi.h"

/* Renders and parses; NULL (and the reason on stderr) if not strict JSON. */
static json_t *render(const df_flow_config *cfg, const char *const *endpoints, size_t n)
{
    df_buf out = DF_BUF_INIT;
    df_openapi_render(&out, cfg, endpoints, n);
    json_error_t error;
    json_t *doc = json_loadb(out.data, out.len, JSON_REJECT_DUPLICATES, &error);
    if (!doc) fprintf(stderr, "\n  %s at %d:%d\n", error.text, error.line, error.column);
    df_buf_free(&out);
    return doc;
}

static json_t *at(json_t *v, const char *path)
{
    return json_object_get(v, path);
}

/* A member several levels deep: at_path(doc, "paths", "/post", "post", NULL). */
static json_t *at_path(json_t *v, ...)
{
    va_list ap;
    va_start(ap, v);
    for (const char *k; v && (k = va_arg(ap, const char *));)
        v = json_object_get(v, k);
    va_end(ap);
    return v;
}

static const char *string_at(json_t *v, const char *key)
{
    return json_string_value(json_object_get(v, key));
}

static void test_openapi_info_defaults_and_version(void)
{
    json_t *doc = render(NULL, NULL, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_STRING_EQUAL(string_at(doc, "openapi"), "3.0.3");
    CU_ASSERT_STRING_EQUAL(string_at(at(doc, "info"), "title"), "docflow");
    CU_ASSERT_STRING_EQUAL(string_at(at(doc, "info"), "description"), "docflow");
    CU_ASSERT_STRING_EQUAL(string_at(at(doc, "info"), "version"), DOCFLOW_VERSION);
    CU_ASSERT(json_is_object(at(doc, "paths")));
    CU_ASSERT(json_is_object(at_path(doc, "components", "schemas", NULL)));
    json_decref(doc);
}

static void test_openapi_info_from_the_flow_with(void)
{
    static const char yaml[] =
        "jtype: Flow\n"
        "with: {title: 'Caf\xC3\xA9 \"search\"', description: \"a\\\\b\\nc\"}\n"
        "executors: [{name: a}]\n";
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    df_flow_config *cfg = df_flow_config_parse(a, yaml, strlen(yaml), "inline.yml", NULL, &err);
    if (!cfg) fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    json_t *doc = render(cfg, NULL, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_STRING_EQUAL(string_at(at(doc, "info"), "title"), "Caf\xC3\xA9 \"search\"");
    CU_ASSERT_STRING_EQUAL(string_at(at(doc, "info"), "description"), "a\\b\nc");
    json_decref(doc);
    df_flow_config_free(cfg);
    df_arena_free(a);
}

static void check_post_route(json_t *doc, const char *path, const char *request_schema)
{
    json_t *op = at_path(doc, "paths", path, "post", NULL);
    if (!op) fprintf(stderr, "\n  no POST %s\n", path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(op);
    json_t *schema = at_path(op, "requestBody", "content", "application/json", "schema", NULL);
    CU_ASSERT_STRING_EQUAL(string_at(schema, "$ref"), request_schema);
    json_t *ok = at_path(op, "responses", "200", "content", "application/json", "schema", NULL);
    CU_ASSERT_STRING_EQUAL(string_at(ok, "$ref"), "#/components/schemas/Response");
    CU_ASSERT_PTR_NOT_NULL(at_path(op, "responses", "400", NULL));
    CU_ASSERT_PTR_NOT_NULL(at_path(op, "responses", "503", NULL));
}

static void check_get_route(json_t *doc, const char *path, const char *media_type)
{
    json_t *op = at_path(doc, "paths", path, "get", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(op);
    CU_ASSERT_PTR_NOT_NULL(at_path(op, "responses", "200", "content", media_type, NULL));
}

static void test_openapi_has_jina_routes_and_the_flow_endpoints(void)
{
    static const char *const endpoints[] = {"/foo", "/index", "/foo",  "*",  "/status",
                                            "/a-b", "/a_b",   "/post", NULL, "/"};
    json_t *doc = render(NULL, endpoints, sizeof endpoints / sizeof endpoints[0]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    check_post_route(doc, "/post", "#/components/schemas/PostRequest");
    CU_ASSERT_PTR_NOT_NULL(at_path(doc, "paths", "/post", "post", "requestBody", "content",
                                   "application/x-protobuf", NULL));
    CU_ASSERT_PTR_NOT_NULL(at_path(doc, "paths", "/post", "post", "responses", "200", "content",
                                   "application/x-protobuf", NULL));
    static const char *const posts[] = {"/index",  "/search", "/update", "/delete", "/foo",
                                        "/status", "/a-b",    "/a_b",    "/"};
    for (size_t i = 0; i < sizeof posts / sizeof posts[0]; i++)
        check_post_route(doc, posts[i], "#/components/schemas/EndpointRequest");
    check_get_route(doc, "/status", "application/json");
    check_get_route(doc, "/dry_run", "application/json");
    check_get_route(doc, "/metrics", "text/plain; version=0.0.4");
    CU_ASSERT_PTR_NULL(at_path(doc, "paths", "*", NULL));
    CU_ASSERT_PTR_NULL(at_path(doc, "paths", "/post", "get", NULL));
    /* 10 POST paths + /dry_run + /metrics (/status shares its item). */
    CU_ASSERT_EQUAL(json_object_size(at(doc, "paths")), 12);

    /* operationIds are unique across the document. */
    const char *seen[32];
    size_t n_seen = 0;
    const char *path;
    json_t *item;
    json_object_foreach(at(doc, "paths"), path, item)
    {
        const char *method;
        json_t *op;
        json_object_foreach(item, method, op)
        {
            const char *id = string_at(op, "operationId");
            CU_ASSERT_PTR_NOT_NULL_FATAL(id);
            for (size_t k = 0; k < n_seen; k++)
                CU_ASSERT_STRING_NOT_EQUAL(seen[k], id);
            if (n_seen < 32) seen[n_seen++] = id;
        }
    }
    /* 13 + Jina's PUT /update and DELETE /delete. */
    CU_ASSERT_EQUAL(n_seen, 15);
    CU_ASSERT_PTR_NOT_NULL(at_path(doc, "paths", "/update", "put", NULL));
    CU_ASSERT_PTR_NOT_NULL(at_path(doc, "paths", "/delete", "delete", NULL));
    CU_ASSERT_STRING_EQUAL(string_at(at_path(doc, "paths", "/a-b", "post", NULL), "operationId"),
                           "post_a_b");
    CU_ASSERT_STRING_EQUAL(string_at(at_path(doc, "paths", "/a_b", "post", NULL), "operationId"),
                           "post_a_b_2");
    json_decref(doc);
}

/* Every "$ref" under v names an existing "#/components/<kind>/<name>". */
static void check_refs(json_t *doc, json_t *v, size_t *n_refs)
{
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            check_refs(doc, json_array_get(v, i), n_refs);
        return;
    }
    if (!json_is_object(v)) return;
    const char *key;
    json_t *member;
    json_object_foreach(v, key, member)
    {
        if (strcmp(key, "$ref") != 0) {
            check_refs(doc, member, n_refs);
            continue;
        }
        const char *ref = json_string_value(member);
        char kind[32], name[64];
        int ok = ref && sscanf(ref, "#/components/%31[^/]/%63s", kind, name) == 2;
        ok = ok && at_path(doc, "components", kind, name, NULL) != NULL;
        if (!ok) fprintf(stderr, "\n  dangling $ref %s\n", ref ? ref : "(not a string)");
        CU_ASSERT(ok);
        (*n_refs)++;
    }
}

static void test_openapi_refs_resolve(void)
{
    static const char *const endpoints[] = {"/foo"};
    json_t *doc = render(NULL, endpoints, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    size_t n_refs = 0;
    check_refs(doc, doc, &n_refs);
    CU_ASSERT(n_refs > 30);
    json_decref(doc);
}

static void test_openapi_document_schema_has_every_docarray_field(void)
{
    static const char *const fields[] = {
        "id",        "parent_id", "granularity", "adjacency", "blob",      "tensor", "mime_type",
        "text",      "weight",    "uri",         "tags",      "_metadata", "offset", "location",
        "embedding", "modality",  "evaluations", "scores",    "chunks",    "matches"};
    json_t *doc = render(NULL, NULL, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    json_t *props = at_path(doc, "components", "schemas", "Document", "properties", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(props);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (!at(props, fields[i])) fprintf(stderr, "\n  Document lacks %s\n", fields[i]);
        CU_ASSERT_PTR_NOT_NULL(at(props, fields[i]));
    }
    CU_ASSERT_EQUAL(json_object_size(props), sizeof fields / sizeof fields[0]);
    CU_ASSERT_STRING_EQUAL(string_at(at_path(props, "matches", "items", NULL), "$ref"),
                           "#/components/schemas/Document");
    json_t *request = at_path(doc, "components", "schemas", "PostRequest", "properties", NULL);
    CU_ASSERT_PTR_NOT_NULL(at(request, "data"));
    CU_ASSERT_PTR_NOT_NULL(at(request, "execEndpoint"));
    CU_ASSERT_PTR_NOT_NULL(at(request, "parameters"));
    CU_ASSERT_PTR_NOT_NULL(at(request, "targetExecutor"));
    json_t *response = at_path(doc, "components", "schemas", "Response", "properties", NULL);
    CU_ASSERT_PTR_NOT_NULL(at(response, "header"));
    CU_ASSERT_PTR_NOT_NULL(at(response, "parameters"));
    CU_ASSERT_PTR_NOT_NULL(at(response, "routes"));
    CU_ASSERT_PTR_NOT_NULL(at(response, "data"));
    json_decref(doc);
}

/* The full OpenAPI 3.0 check, where the validator is installed (Debian has
 * no package for it, so the structural tests above are the ones that must
 * always run). */
static void test_openapi_passes_the_spec_validator(void)
{
    if (system("python3 -c 'import openapi_spec_validator' >/dev/null 2>&1") != 0) {
        fprintf(stderr, " (skipped: python3 openapi_spec_validator not installed) ");
        return;
    }
    static const char *const endpoints[] = {"/foo", "/status", "/a-b", "/a_b"};
    df_buf out = DF_BUF_INIT;
    df_openapi_render(&out, NULL, endpoints, 4);
    char path[] = "/tmp/df-openapi-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(write(fd, out.data, out.len), (ssize_t)out.len);
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import json,sys; from openapi_spec_validator import validate; "
             "validate(json.load(open(sys.argv[1])))' %s",
             path);
    CU_ASSERT_EQUAL(system(cmd), 0);
    unlink(path);
    df_buf_free(&out);
}

void df_test_register(void)
{
    CU_pSuite s = CU_add_suite("gateway_openapi", NULL, NULL);
    CU_add_test(s, "info defaults and version", test_openapi_info_defaults_and_version);
    CU_add_test(s, "info from the flow's with", test_openapi_info_from_the_flow_with);
    CU_add_test(s, "Jina routes and the flow's endpoints",
                test_openapi_has_jina_routes_and_the_flow_endpoints);
    CU_add_test(s, "every $ref resolves", test_openapi_refs_resolve);
    CU_add_test(s, "Document schema has every DocArray field",
                test_openapi_document_schema_has_every_docarray_field);
    CU_add_test(s, "passes the OpenAPI spec validator", test_openapi_passes_the_spec_validator);
}
