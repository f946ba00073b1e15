/*
 * test_request_codec.c -- requests and responses in Jina's HTTP JSON and
 * DataRequestProto forms: client encode -> server decode and server encode
 * -> client decode for every field, Jina's own sample bodies and spellings,
 * the JSON shapes field by field, errors that name the field, hostile and
 * truncated input, and a 1000-document request.
 */
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docflow/document.h"
#include "docflow/json_codec.h"
#include "docflow/protobuf_codec.h"
#include "docflow/request_codec.h"
#include "docflow/value.h"
#include "jina.pb-c.h"

/* 2022-04-01T13:11:57.992497123Z, the time in Jina's sample response. */
#define SAMPLE_NS 1648818717992497123ull

/* ---- helpers ------------------------------------------------------------ */

static int contains(const char *haystack, const char *needle)
{
    int ok = strstr(haystack, needle) != NULL;
    if (!ok) fprintf(stderr, "\n  expected \"%s\" in: %s\n", needle, haystack);
    return ok;
}

static df_flow_request new_request(void)
{
    df_flow_request q;
    memset(&q, 0, sizeof q);
    q.arena = df_arena_new(0);
    return q;
}

static int decode_json_request(df_flow_request *q, const char *body, df_error *err)
{
    return df_request_decode_json(body, strlen(body), "/", q, err);
}

/* Decoding `body` as a JSON request fails with a message holding `frag`. */
static void expect_json_request_error(const char *body, const char *frag)
{
    df_flow_request q = new_request();
    df_error err = DF_ERROR_INIT;
    int rc = decode_json_request(&q, body, &err);
    CU_ASSERT_EQUAL(rc, DF_E_INVALID_INPUT);
    CU_ASSERT_EQUAL(err.code, DF_E_INVALID_INPUT);
    CU_ASSERT(contains(err.msg, frag));
    df_arena_free(q.arena);
}

static df_value *tags_of_every_kind(df_arena *a)
{
    df_value *m = df_value_new_map(a);
    df_value_put_null(m, "null");
    df_value_put_bool(m, "yes", 1);
    df_value_put_number(m, "number", -12.5);
    df_value_put_string(m, "string", "ünï ✓");
    df_value *list = df_value_new_list(a);
    df_value_put_number(list, NULL, 1);
    df_value_put_string(list, NULL, "two");
    df_value_set_owned(m, "list", list);
    return m;
}

/* A document whose every field survives both JSON and protobuf (float32
 * arrays, no cls_name: JSON lists carry neither float64 nor that). */
static df_doc *rich_doc(df_arena *a, const char *id)
{
    static const float emb[] = {0.5f, -1.25f, 3.0f, 1e-7f};
    static const float location[] = {1, 2};
    df_doc *d = df_doc_new(a);
    df_doc_set_str(d, DF_FIELD_ID, id);
    df_doc_set_str(d, DF_FIELD_PARENT_ID, "parent");
    df_doc_set_str(d, DF_FIELD_URI, "https://example.com/logo.svg");
    df_doc_set_str(d, DF_FIELD_MIME_TYPE, "text/plain");
    df_doc_set_str(d, DF_FIELD_MODALITY, "text");
    df_doc_set_text(d, "hello wörld ✓", (size_t)-1);
    df_doc_set_num(d, DF_FIELD_GRANULARITY, 1);
    df_doc_set_num(d, DF_FIELD_WEIGHT, 0.75);
    df_doc_set_location(d, location, 2);
    df_doc_set_embedding_f32(d, emb, 4);
    df_value_merge(df_doc_tags(d), tags_of_every_kind(a));
    df_value_put_string(df_doc_metadata(d), "source", "unit");
    df_score s = {0.9f, "cosine", "similarity", "q1"};
    df_doc_set_score(d, DF_SCORES, "cosine", &s);
    df_doc *chunk = df_doc_new(a);
    df_doc_set_str(chunk, DF_FIELD_ID, "chunk-0");
    df_doc_set_text(chunk, "hello", (size_t)-1);
    df_docs_append(df_doc_chunks(d), chunk);
    df_doc *match = df_doc_new(a);
    df_doc_set_str(match, DF_FIELD_ID, "match-0");
    df_doc_set_blob(match, "\x00\x01\xff", 3);
    df_score m = {0.25f, "", "", ""};
    df_doc_set_score(match, DF_SCORES, "l2", &m);
    df_docs_append(df_doc_matches(d), match);
    return d;
}

static df_docs *rich_docs(df_arena *a, size_t n)
{
    df_docs *docs = df_docs_new(a);
    for (size_t i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "doc-%zu", i);
        df_docs_append(docs, rich_doc(a, id));
    }
    return docs;
}

static df_value *request_parameters(df_arena *a)
{
    df_value *p = df_value_new_map(a);
    df_value_put_number(p, "top_k", 3);
    df_value_put_string(p, "mode", "fast");
    df_value *inner = df_value_new_map(a);
    df_value_put_bool(inner, "deep", 1);
    df_value_set_owned(p, "nested", inner);
    return p;
}

/* A response as a flow would give it: every field set, the second of two
 * executors failed. */
static df_flow_response failed_response(df_arena *a, int status)
{
    df_flow_response r;
    memset(&r, 0, sizeof r);
    r.request_id = "c725217aa7714de88039866fb5aa93d2";
    r.endpoint = "/index";
    r.docs = rich_docs(a, 2);
    r.parameters = request_parameters(a);
    df_value *results = df_value_new_map(a);
    df_value *enc = df_value_new_map(a);
    df_value_put_number(enc, "count", 2);
    df_value_set_owned(results, "encoder", enc);
    df_value_set_owned(r.parameters, "__results__", results);
    r.n_routes = 2;
    r.routes = df_arena_calloc(a, 2 * sizeof *r.routes);
    r.routes[0] = (df_flow_route){"encoder", SAMPLE_NS, SAMPLE_NS + 1500123, DF_OK};
    r.routes[1] =
        (df_flow_route){"indexer/shard-1", SAMPLE_NS + 1600000, SAMPLE_NS + 2000999, status};
    r.status = status;
    r.error = status ? "indexer/shard-1: disk full \"/var\"" : NULL;
    r.error_executor = status ? "indexer/shard-1" : NULL;
    return r;
}

static uint64_t to_micros(uint64_t ns)
{
    return ns / 1000 * 1000;
}

static int same_str(const char *x, const char *y)
{
    return (x == NULL && y == NULL) || (x && y && strcmp(x, y) == 0);
}

/* Everything the client gets back equals what the server encoded (times
 * cut to microseconds for JSON). */
static void expect_same_response(const df_flow_response *r, const df_flow_response *back,
                                 int exact_times, int expected_status)
{
    CU_ASSERT(same_str(back->request_id, r->request_id));
    CU_ASSERT(same_str(back->endpoint, r->endpoint));
    CU_ASSERT_EQUAL(back->status, expected_status);
    CU_ASSERT(same_str(back->error, r->error));
    CU_ASSERT(same_str(back->error_executor, r->error_executor));
    CU_ASSERT(df_value_equal(back->parameters, r->parameters));
    CU_ASSERT(df_docs_equal(back->docs, r->docs));
    CU_ASSERT_EQUAL_FATAL(back->n_routes, r->n_routes);
    for (size_t i = 0; i < r->n_routes; i++) {
        const df_flow_route *x = &r->routes[i], *y = &back->routes[i];
        CU_ASSERT_STRING_EQUAL(y->executor, x->executor);
        CU_ASSERT_EQUAL(y->start_ns, exact_times ? x->start_ns : to_micros(x->start_ns));
        CU_ASSERT_EQUAL(y->end_ns, exact_times ? x->end_ns : to_micros(x->end_ns));
        CU_ASSERT_EQUAL(y->status, x->status ? expected_status : DF_OK);
    }
}

static json_t *parse_json(const df_buf *b)
{
    json_error_t jerr;
    json_t *j = json_loadb(b->data, b->len, 0, &jerr);
    if (!j) fprintf(stderr, "\n  not JSON (%s): %.300s\n", jerr.text, b->data);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    return j;
}

static const char *jstr(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* ---- the JSON codec's envelope entry point ------------------------------------ */

static void test_json_envelope_splits_documents_from_members(void)
{
    const char *body = "{\"a\":1,\"items\":[{\"id\":\"x\"}],\"b\":{\"c\":[true]},\"a\":2}";
    df_arena *a = df_arena_new(0);
    df_docs *docs = df_docs_new(a);
    df_value *m = NULL;
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_EQUAL_FATAL(df_json_decode_envelope(docs, &m, body, strlen(body), "items", &err),
                          DF_OK);
    CU_ASSERT_EQUAL(df_docs_len(docs), 1);
    CU_ASSERT_EQUAL_FATAL(df_value_len(m), 2); /* the documents are not a member */
    CU_ASSERT_STRING_EQUAL(df_value_key_at(m, 0), "a");
    CU_ASSERT_EQUAL(df_value_number(df_value_at(m, 0)), 2);
    CU_ASSERT_STRING_EQUAL(df_value_key_at(m, 1), "b");
    CU_ASSERT_EQUAL(df_json_decode_envelope(docs, &m, "{}", 2, "items", &err), DF_OK);
    CU_ASSERT_EQUAL(df_value_len(m), 0);
    const char *bad = "{\"items\":[{}],\"x\":}";
    CU_ASSERT_EQUAL(df_json_decode_envelope(docs, &m, bad, strlen(bad), "items", &err),
                    DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NULL(m);
    CU_ASSERT(contains(err.msg, "x: invalid JSON at byte 18 (line 1, column 19): unexpected '}'"));
    df_arena_free(a);
}

/* ---- JSON requests (server side) ------------------------------------------ */

static void test_request_json_decodes_jinas_sample_body(void)
{
    const char *body = "{\"execEndpoint\": \"/search\",\n"
                       " \"data\": [{\"text\": \"hello\"}, {\"uri\": \"https://.../logo.svg\"}],\n"
                       " \"parameters\": {\"top_k\": 3},\n"
                       " \"targetExecutor\": \"MyExec\"}";
    df_flow_request q = new_request();
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_EQUAL_FATAL(decode_json_request(&q, body, &err), DF_OK);
    CU_ASSERT_STRING_EQUAL(q.endpoint, "/search");
    CU_ASSERT_STRING_EQUAL(q.target_executor, "MyExec");
    CU_ASSERT_EQUAL_FATAL(df_docs_len(q.docs), 2);
    CU_ASSERT_STRING_EQUAL(df_doc_text(df_docs_get(q.docs, 0), NULL), "hello");
    CU_ASSERT_STRING_EQUAL(df_doc_str(df_docs_get(q.docs, 1), DF_FIELD_URI),
                           "https://.../logo.svg");
    CU_ASSERT_EQUAL(strlen(df_doc_str(df_docs_get(q.docs, 0), DF_FIELD_ID)), 32);
    CU_ASSERT_EQUAL(df_value_number(df_value_get(q.parameters, "top_k")), 3);
    CU_ASSERT_PTR_NULL(q.request_id);
    CU_ASSERT_EQUAL(q.timeout_ms, 0);
    df_arena_free(q.arena);
}

static void test_request_json_accepts_snake_case_and_camel_case_wins(void)
{
    df_flow_request q = new_request();
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_EQUAL_FATAL(decode_json_request(&q,
                                              "{\"exec_endpoint\":\"/index\","
                                              "\"target_executor\":\"enc.*\",\"data\":[]}",
                                              &err),
                          DF_OK);
    CU_ASSERT_STRING_EQUAL(q.endpoint, "/index");
    CU_ASSERT_STRING_EQUAL(q.target_executor, "enc.*");
    df_arena_free(q.arena);

    q = new_request();
    CU_ASSERT_EQUAL_FATAL(decode_json_request(&q,
                                              "{\"exec_endpoint\":\"/snake\","
                                              "\"execEndpoint\":\"/camel\"}",
                                              &err),
                          DF_OK);
    CU_ASSERT_STRING_EQUAL(q.endpoint, "/camel");
    df_arena_free(q.arena);
}

static void test_request_json_accepts_data_as_docs_object_null_or_absent(void)
{
    df_flow_request q = new_request();
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_EQUAL_FATAL(decode_json_request(&q,
                                              "{\"data\":{\"docs\":[{\"id\":\"a\"},{\"id\":\"b\"}],"
                                              "\"groundtruths\":[]}}",
                                              &err),
                          DF_OK);
    CU_ASSERT_EQUAL_FATAL(df_docs_len(q.docs), 2);
    CU_ASSERT_STRING_EQUAL(df_doc_str(df_docs_get(q.docs, 1), DF_FIELD_ID), "b");
    df_arena_free(q.arena);

    const char *empty[] = {"{\"data\":null}", "{}", "{\"data\":{\"docs\":null}}", "{\"data\":{}}",
                           " {\"data\" : [ ] } "};
    for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
        q = new_request();
        CU_ASSERT_EQUAL(decode_json_request(&q, empty[i], &err), DF_OK);
        CU_ASSERT_PTR_NOT_NULL(q.docs);
        CU_ASSERT_EQUAL(df_docs_len(q.docs), 0);
        CU_ASSERT_STRING_EQUAL(q.endpoint, "/");
        CU_ASSERT_PTR_NULL(q.parameters);
        CU_ASSERT_PTR_NULL(q.target_executor);
        df_arena_free(q.arena);
    }
}

static void test_request_json_defaults_and_ignores_unknown_keys(void)
{
    df_flow_request q = new_request();
    df_error err = DF_ERROR_INIT;
    const char *body = "{\"execEndpoint\":\"\",\"targetExecutor\":null,\"parameters\":null,"
                       "\"requestSize\":100,\"extra\":{\"deep\":[1,{\"x\":null}]},"
                       "\"data\":[{\"text\":\"a\"}]}";
    CU_ASSERT_EQUAL_FATAL(df_request_decode_json(body, strlen(body), "/index", &q, &err), DF_OK);
    CU_ASSERT_STRING_EQUAL(q.endpoint, "/index");
    CU_ASSERT_PTR_NULL(q.target_executor);
    CU_ASSERT_PTR_NULL(q.parameters);
    CU_ASSERT_EQUAL(df_docs_len(q.docs), 1);
    df_arena_free(q.arena);
}

static void test_request_json_repeated_data_keeps_the_last(void)
{
    df_flow_request q = new_request();
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_EQUAL_FATAL(decode_json_request(&q,
                                              "{\"data\":[{\"id\":\"a\"},{\"id\":\"b\"}],"
                                              "\"parameters\":{\"k\":1},"
                                              "\"data\":[{\"id\":\"c\"}],\"parameters\":{\"k\":2}}",
                                              &err),
                          DF_OK);
    CU_ASSERT_EQUAL_FATAL(df_docs_len(q.docs), 1);
    CU_ASSERT_STRING_EQUAL(df_doc_str(df_docs_get(q.docs, 0), DF_FIELD_ID), "c");
    CU_ASSERT_EQUAL(df_value_number(df_value_get(q.parameters, "k")), 2);
    df_arena_free(q.arena);
}

static void test_request_json_errors_name_the_field(void)
{
    expect_json_request_error("[{\"text\":\"a\"}]", "expected a JSON object, got an array");
    expect_json_request_error("\"hello\"", "expected a JSON object, got a string");
    expect_json_request_error("", "expected a JSON object, got the end of the input");
    expect_json_request_error("{\"data\":\"hello\"}",
                              "data: expected an array of documents, got a string");
    expect_json_request_error("{\"data\":{\"docs\":{}}}",
                              "data.docs: expected an array of documents, got an object");
    expect_json_request_error("{\"data\":[{\"text\":\"a\"},{\"text\":5}]}",
                              "data[1].text: expected a string, got a number");
    expect_json_request_error("{\"data\":[{\"text\":\"a\"},{\"txt\":\"b\"}]}",
                              "data[1]: unknown document field \"txt\" (did you mean \"text\"?)");
    expect_json_request_error("{\"data\":{\"docs\":[{\"embedding\":[1,\"x\"]}]}}",
                              "data.docs[0].embedding[1]: expected a number, got a string");
    expect_json_request_error("{\"parameters\":[1,2]}",
                              "parameters: expected an object, got an array");
    expect_json_request_error("{\"parameters\":\"top_k=3\"}",
                              "parameters: expected an object, got a string");
    expect_json_request_error("{\"execEndpoint\":5}",
                              "execEndpoint: expected a string, got a number");
    expect_json_request_error("{\"exec_endpoint\":[\"/a\"]}",
                              "exec_endpoint: expected a string, got an array");
    expect_json_request_error("{\"targetExecutor\":{}}",
                              "targetExecutor: expected a string, got an object");
    expect_json_request_error("{\"execEndpoint\":\"/a\\u0000b\"}",
                              "execEndpoint: must not contain a NUL character");
    expect_json_request_error(
        "{\"data\": [{\"text\": \"a\"},]}",
        "data[1]: invalid JSON at byte 24 (line 1, column 25): unexpected ']'");
    expect_json_request_error("{\"data\":[],\n \"parameters\": {\"k\": tru}}",
                              "invalid JSON at byte 33 (line 2, column 22)");
    expect_json_request_error("{\"data\":[]} x", "unexpected data after the JSON value");
    expect_json_request_error("{\"data\":[", "data[0]: expected a document object, got the end");
    expect_json_request_error("{\"parameters\":{\"k\":NaN}}",
                              "parameters.k: expected a JSON value, got NaN");
}

static void test_request_json_every_truncation_fails_cleanly(void)
{
    df_arena *a = df_arena_new(0);
    df_buf b = DF_BUF_INIT;
    df_request_encode_json(&b, "/index", rich_docs(a, 2), request_parameters(a), "enc");
    for (size_t len = 0; len < b.len; len++) {
        df_flow_request q = new_request();
        df_error err = DF_ERROR_INIT;
        char *copy = malloc(len ? len : 1); /* exact size: ASan sees any overread */
        memcpy(copy, b.data, len);
        CU_ASSERT_EQUAL(df_request_decode_json(copy, len, "/", &q, &err), DF_E_INVALID_INPUT);
        CU_ASSERT(err.msg[0] != '\0');
        free(copy);
        df_arena_free(q.arena);
    }
    df_buf_free(&b);
    df_arena_free(a);
}

/* ---- requests: client encode -> server decode ------------------------------ */

typedef void (*encode_request_fn)(df_buf *, const char *, const df_docs *, const df_value *,
                                  const char *);

static int decode_request_any(int protobuf, const df_buf *b, df_flow_request *q, df_error *err)
{
    return protobuf ? df_request_decode_protobuf((const uint8_t *)b->data, b->len, "/", q, err)
                    : df_request_decode_json(b->data, b->len, "/", q, err);
}

static void request_round_trip(int protobuf)
{
    encode_request_fn encode = protobuf ? df_request_encode_protobuf : df_request_encode_json;
    df_arena *a = df_arena_new(0);
    df_docs *docs = rich_docs(a, 3);
    df_value *params = request_parameters(a);
    df_buf b = DF_BUF_INIT;
    encode(&b, "/search", docs, params, "^encoder$");
    df_flow_request q = new_request();
    df_error err = DF_ERROR_INIT;
    int rc = decode_request_any(protobuf, &b, &q, &err);
    if (rc) fprintf(stderr, "\n  decode failed: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, DF_OK);
    CU_ASSERT_STRING_EQUAL(q.endpoint, "/search");
    CU_ASSERT_STRING_EQUAL(q.target_executor, "^encoder$");
    CU_ASSERT(df_docs_equal(q.docs, docs));
    CU_ASSERT(df_value_equal(q.parameters, params));
    df_arena_free(q.arena);

    /* Nothing optional given: the server's defaults. */
    df_buf_reset(&b);
    encode(&b, NULL, NULL, NULL, NULL);
    q = new_request();
    CU_ASSERT_EQUAL_FATAL(decode_request_any(protobuf, &b, &q, &err), DF_OK);
    CU_ASSERT_STRING_EQUAL(q.endpoint, "/");
    CU_ASSERT_PTR_NULL(q.target_executor);
    CU_ASSERT_PTR_NULL(q.parameters);
    CU_ASSERT_EQUAL(df_docs_len(q.docs), 0);
    df_arena_free(q.arena);
    df_buf_free(&b);
    df_arena_free(a);
}

static void test_request_json_round_trip_every_field(void)
{
    request_round_trip(0);
}

static void test_request_protobuf_round_trip_every_field(void)
{
    request_round_trip(1);
}

static void test_request_json_encoding_is_jinas_body(void)
{
    df_arena *a = df_arena_new(0);
    df_buf b = DF_BUF_INIT;
    df_docs *docs = df_docs_new(a);
    df_doc *d = df_doc_new(a);
    df_doc_set_str(d, DF_FIELD_ID, "x");
    df_doc_set_text(d, "hello", (size_t)-1);
    df_docs_append(docs, d);
    df_value *p = df_value_new_map(a);
    df_value_put_number(p, "top_k", 3);
    df_request_encode_json(&b, "/search", docs, p, "MyExec");
    CU_ASSERT_STRING_EQUAL(b.data, "{\"execEndpoint\":\"/search\",\"targetExecutor\":\"MyExec\","
                                   "\"parameters\":{\"top_k\":3},"
                                   "\"data\":[{\"id\":\"x\",\"text\":\"hello\"}]}");
    df_buf_free(&b);
    df_arena_free(a);
}

/* ---- protobuf requests (server side) --------------------------------------- */

/* A DataRequestProto packed by protobuf-c, as a Jina client builds it. */
static void pack_request(df_buf *out, const char *request_id, uint32_t timeout, const df_docs *docs,
                         int as_bytes)
{
    df_buf docs_bytes = DF_BUF_INIT;
    df_pb_encode_docs(&docs_bytes, docs);
    Jina__HeaderProto h = JINA__HEADER_PROTO__INIT;
    h.request_id = (char *)request_id;
    h.exec_endpoint = "/index";
    h.timeout = timeout;
    Jina__DataRequestProto__DataContentProto data =
        JINA__DATA_REQUEST_PROTO__DATA_CONTENT_PROTO__INIT;
    Docarray__DocumentArrayProto *da = NULL;
    if (as_bytes) {
        data.documents_case = JINA__DATA_REQUEST_PROTO__DATA_CONTENT_PROTO__DOCUMENTS_DOCS_BYTES;
        data.docs_bytes.data = (uint8_t *)docs_bytes.data;
        data.docs_bytes.len = docs_bytes.len;
    } else {
        da = docarray__document_array_proto__unpack(NULL, docs_bytes.len,
                                                    (const uint8_t *)docs_bytes.data);
        CU_ASSERT_PTR_NOT_NULL_FATAL(da);
        data.documents_case = JINA__DATA_REQUEST_PROTO__DATA_CONTENT_PROTO__DOCUMENTS_DOCS;
        data.docs = da;
    }
    Jina__DataRequestProto m = JINA__DATA_REQUEST_PROTO__INIT;
    m.header = &h;
    m.data = &data;
    size_t size = jina__data_request_proto__get_packed_size(&m);
    df_buf_reserve(out, size);
    out->len += jina__data_request_proto__pack(&m, (uint8_t *)out->data + out->len);
    if (da) docarray__document_array_proto__free_unpacked(da, NULL);
    df_buf_free(&docs_bytes);
}

static void test_request_protobuf_from_protobuf_c_with_docs_or_docs_bytes(void)
{
    df_arena *a = df_arena_new(0);
    df_docs *docs = rich_docs(a, 3);
    for (int as_bytes = 0; as_bytes < 2; as_bytes++) {
        df_buf b = DF_BUF_INIT;
        pack_request(&b, "req-1", 2500, docs, as_bytes);
        df_flow_request q = new_request();
        q.timeout_ms = 7;
        df_error err = DF_ERROR_INIT;
        CU_ASSERT_EQUAL_FATAL(
            df_request_decode_protobuf((const uint8_t *)b.data, b.len, "/", &q, &err), DF_OK);
        CU_ASSERT_STRING_EQUAL(q.endpoint, "/index");
        CU_ASSERT_STRING_EQUAL(q.request_id, "req-1");
        CU_ASSERT_EQUAL(q.timeout_ms, 2500);
        CU_ASSERT(df_docs_equal(q.docs, docs));
        df_arena_free(q.arena);
        df_buf_free(&b);
    }
    df_arena_free(a);
}

static void test_request_protobuf_merges_fields_given_twice(void)
{
    df_arena *a = df_arena_new(0);
    df_buf one = DF_BUF_INIT, two = DF_BUF_INIT, both = DF_BUF_INIT;
    df_value *p1 = df_value_new_map(a), *p2 = df_value_new_map(a);
    df_value_put_number(p1, "a", 1);
    df_value_put_number(p1, "b", 1);
    df_value_put_number(p2, "b", 2);
    df_request_encode_protobuf(&one, "/first", rich_docs(a, 2), p1, NULL);
    df_request_encode_protobuf(&two, "/second", rich_docs(a, 1), p2, "t");
    df_buf_append(&both, one.data, one.len); /* concatenated messages merge */
    df_buf_append(&both, two.data, two.len);
    df_flow_request q = new_request();
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_EQUAL_FATAL(
        df_request_decode_protobuf((const uint8_t *)both.data, both.len, "/", &q, &err), DF_OK);
    CU_ASSERT_STRING_EQUAL(q.endpoint, "/second");
    CU_ASSERT_STRING_EQUAL(q.target_executor, "t");
    CU_ASSERT_EQUAL(df_docs_len(q.docs), 3);
    CU_ASSERT_EQUAL(df_value_number(df_value_get(q.parameters, "a")), 1);
    CU_ASSERT_EQUAL(df_value_number(df_value_get(q.parameters, "b")), 2);
    df_arena_free(q.arena);
    df_buf_free(&one);
    df_buf_free(&two);
    df_buf_free(&both);
    df_arena_free(a);
}

static void expect_pb_request_error(const void *bytes, size_t len, const char *frag)
{
    df_flow_request q = new_request();
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_EQUAL(df_request_decode_protobuf(bytes, len, "/", &q, &err), DF_E_INVALID_INPUT);
    CU_ASSERT(contains(err.msg, frag));
    df_arena_free(q.arena);
}

static void test_request_protobuf_errors_name_the_part(void)
{
    df_arena *a = df_arena_new(0);
    df_buf b = DF_BUF_INIT;
    df_request_encode_protobuf(&b, "/index", rich_docs(a, 2), request_parameters(a), NULL);
    expect_pb_request_error(b.data, b.len - 1, "truncated or malformed DataRequestProto");
    expect_pb_request_error("\x0a", 1, "truncated or malformed DataRequestProto (1 bytes)");
    expect_pb_request_error("\x08\x01", 2, "truncated or malformed DataRequestProto (2 bytes)");
    expect_pb_request_error("\x0a\x02\x0a\x05", 4, "header (HeaderProto)");
    expect_pb_request_error("\x12\x02\x0a\x05", 4, "parameters: truncated or malformed Struct");
    expect_pb_request_error("\x22\x02\x08\x01", 4, "data (DataContentProto)");
    expect_pb_request_error("\x22\x04\x0a\x02\x0a\x05", 6,
                            "data.docs: truncated or malformed DocumentArrayProto");
    expect_pb_request_error("\x22\x04\x12\x02\x0a\x05", 6,
                            "data.docs_bytes: truncated or malformed DocumentArrayProto");
    /* A document the codec refuses (a sparse embedding): its path goes on
     * from data.docs. */
    static const uint8_t sparse_ok[] = {0x22, 0x09, 0x0a, 0x07, 0x0a, 0x05,
                                        0x82, 0x01, 0x02, 0x12, 0x00};
    expect_pb_request_error(sparse_ok, sizeof sparse_ok, "data.docs[0].embedding");
    /* Unknown fields are skipped, as protobuf does. */
    df_flow_request q = new_request();
    df_error err = DF_ERROR_INIT;
    static const uint8_t unknown[] = {0x28, 0x05, 0x3a, 0x01, 0x00, 0x45, 1, 2, 3, 4};
    CU_ASSERT_EQUAL(df_request_decode_protobuf(unknown, sizeof unknown, "/", &q, &err), DF_OK);
    df_arena_free(q.arena);
    df_buf_free(&b);
    df_arena_free(a);
}

static void test_request_protobuf_every_truncation_fails_or_stops_at_a_field(void)
{
    df_arena *a = df_arena_new(0);
    df_buf b = DF_BUF_INIT;
    df_request_encode_protobuf(&b, "/index", rich_docs(a, 2), request_parameters(a), "x");
    size_t ok = 0;
    for (size_t len = 0; len < b.len; len++) {
        df_flow_request q = new_request();
        df_error err = DF_ERROR_INIT;
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, b.data, len);
        int rc = df_request_decode_protobuf(copy, len, "/", &q, &err);
        if (rc == DF_OK) {
            ok++; /* cut between top-level fields: fewer fields, never half a document */
            CU_ASSERT_EQUAL(df_docs_len(q.docs), 0);
        } else {
            CU_ASSERT(err.msg[0] != '\0');
        }
        free(copy);
        df_arena_free(q.arena);
    }
    CU_ASSERT(ok <= 3); /* empty, after the header, after the parameters */
    df_buf_free(&b);
    df_arena_free(a);
}

/* ---- responses: server encode -> client decode ----------------------------- */

static void test_response_json_shape_matches_jinas_field_by_field(void)
{
    df_arena *a = df_arena_new(0);
    df_flow_response r = failed_response(a, DF_E_INVALID_INPUT);
    df_buf b = DF_BUF_INIT;
    df_response_encode_json(&b, &r, "index.*");
    json_t *j = parse_json(&b);
    const char *keys[] = {"header", "parameters", "routes", "data"};
    CU_ASSERT_EQUAL(json_object_size(j), 4);
    for (size_t i = 0; i < 4; i++)
        CU_ASSERT_PTR_NOT_NULL(json_object_get(j, keys[i]));
    json_t *h = json_object_get(j, "header");
    CU_ASSERT_STRING_EQUAL(jstr(h, "requestId"), "c725217aa7714de88039866fb5aa93d2");
    CU_ASSERT_STRING_EQUAL(jstr(h, "execEndpoint"), "/index");
    CU_ASSERT_STRING_EQUAL(jstr(h, "targetExecutor"), "index.*");
    json_t *st = json_object_get(h, "status");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(st, "code")), 1);
    CU_ASSERT_STRING_EQUAL(jstr(st, "description"), "indexer/shard-1: disk full \"/var\"");
    json_t *ex = json_object_get(st, "exception");
    CU_ASSERT_STRING_EQUAL(jstr(ex, "name"), "ExecutorError");
    CU_ASSERT_EQUAL(json_array_size(json_object_get(ex, "args")), 1);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(json_object_get(ex, "args"), 0)),
                           "indexer/shard-1: disk full \"/var\"");
    CU_ASSERT(json_is_array(json_object_get(ex, "stacks")));
    CU_ASSERT_EQUAL(json_array_size(json_object_get(ex, "stacks")), 0);
    CU_ASSERT_STRING_EQUAL(jstr(ex, "executor"), "indexer/shard-1");
    json_t *results = json_object_get(json_object_get(j, "parameters"), "__results__");
    CU_ASSERT_EQUAL(
        json_integer_value(json_object_get(json_object_get(results, "encoder"), "count")), 2);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(j, "parameters"), "top_k")),
                    3);
    json_t *routes = json_object_get(j, "routes");
    CU_ASSERT_EQUAL_FATAL(json_array_size(routes), 3);
    json_t *gw = json_array_get(routes, 0), *enc = json_array_get(routes, 1),
           *idx = json_array_get(routes, 2);
    CU_ASSERT_STRING_EQUAL(jstr(gw, "executor"), "gateway");
    CU_ASSERT_STRING_EQUAL(jstr(gw, "startTime"), "2022-04-01T13:11:57.992497+00:00");
    CU_ASSERT_STRING_EQUAL(jstr(gw, "endTime"), "2022-04-01T13:11:57.994498+00:00");
    CU_ASSERT_STRING_EQUAL(jstr(enc, "executor"), "encoder");
    CU_ASSERT_STRING_EQUAL(jstr(enc, "startTime"), "2022-04-01T13:11:57.992497+00:00");
    CU_ASSERT_STRING_EQUAL(jstr(enc, "endTime"), "2022-04-01T13:11:57.993997+00:00");
    CU_ASSERT_PTR_NULL(json_object_get(enc, "status"));
    CU_ASSERT_STRING_EQUAL(jstr(idx, "executor"), "indexer/shard-1");
    json_t *idx_st = json_object_get(idx, "status");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(idx_st, "code")), 1);
    CU_ASSERT_STRING_EQUAL(jstr(idx_st, "description"), "indexer/shard-1: disk full \"/var\"");
    json_t *data = json_object_get(j, "data");
    CU_ASSERT_EQUAL_FATAL(json_array_size(data), 2);
    CU_ASSERT_STRING_EQUAL(jstr(json_array_get(data, 0), "id"), "doc-0");
    CU_ASSERT_STRING_EQUAL(jstr(json_array_get(data, 1), "text"), "hello wörld ✓");
    json_decref(j);
    df_buf_free(&b);
    df_arena_free(a);
}

static void test_response_json_status_is_null_on_success_and_timeout_is_named(void)
{
    df_arena *a = df_arena_new(0);
    df_flow_response r = failed_response(a, DF_OK);
    df_buf b = DF_BUF_INIT;
    df_response_encode_json(&b, &r, NULL);
    json_t *j = parse_json(&b);
    json_t *h = json_object_get(j, "header");
    CU_ASSERT(json_is_null(json_object_get(h, "status")));
    CU_ASSERT_STRING_EQUAL(jstr(h, "targetExecutor"), "");
    json_decref(j);

    r = failed_response(a, DF_E_TIMEOUT);
    df_buf_reset(&b);
    df_response_encode_json(&b, &r, NULL);
    j = parse_json(&b);
    json_t *st = json_object_get(json_object_get(j, "header"), "status");
    CU_ASSERT_STRING_EQUAL(jstr(json_object_get(st, "exception"), "name"), "TimeoutError");
    json_decref(j);
    df_buf_free(&b);
    df_arena_free(a);
}

static void test_response_json_with_no_routes_or_docs_still_has_a_gateway_route(void)
{
    df_flow_response r;
    memset(&r, 0, sizeof r);
    df_buf b = DF_BUF_INIT;
    df_response_encode_json(&b, &r, NULL);
    json_t *j = parse_json(&b);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "routes")), 1);
    CU_ASSERT_STRING_EQUAL(jstr(json_array_get(json_object_get(j, "routes"), 0), "executor"),
                           "gateway");
    CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "data")), 0);
    CU_ASSERT_EQUAL(json_object_size(json_object_get(j, "parameters")), 0);
    CU_ASSERT_STRING_EQUAL(jstr(json_object_get(j, "header"), "requestId"), "");
    json_decref(j);
    df_buf_free(&b);
}

static void response_round_trip(int protobuf, int status, int expected_status)
{
    df_arena *a = df_arena_new(0), *back_arena = df_arena_new(0);
    df_flow_response r = failed_response(a, status), back;
    df_buf b = DF_BUF_INIT;
    df_error err = DF_ERROR_INIT;
    int rc;
    if (protobuf) {
        df_response_encode_protobuf(&b, &r, "t");
        rc = df_response_decode_protobuf(back_arena, (const uint8_t *)b.data, b.len, &back, &err);
    } else {
        df_response_encode_json(&b, &r, "t");
        rc = df_response_decode_json(back_arena, b.data, b.len, &back, &err);
    }
    if (rc) fprintf(stderr, "\n  decode failed: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, DF_OK);
    expect_same_response(&r, &back, protobuf, expected_status);
    df_buf_free(&b);
    df_arena_free(a);
    df_arena_free(back_arena);
}

static void test_response_json_round_trip_every_field(void)
{
    response_round_trip(0, DF_OK, DF_OK);
    response_round_trip(0, DF_E_TIMEOUT, DF_E_TIMEOUT);
    response_round_trip(0, DF_E_INTERNAL, DF_E_INTERNAL);
    /* The wire says ExecutorError for every code but a timeout. */
    response_round_trip(0, DF_E_INVALID_INPUT, DF_E_INTERNAL);
}

static void test_response_protobuf_round_trip_every_field(void)
{
    response_round_trip(1, DF_OK, DF_OK);
    response_round_trip(1, DF_E_TIMEOUT, DF_E_TIMEOUT);
    response_round_trip(1, DF_E_INTERNAL, DF_E_INTERNAL);
    response_round_trip(1, DF_E_IO, DF_E_INTERNAL);
}

static void test_response_protobuf_is_a_data_request_proto(void)
{
    df_arena *a = df_arena_new(0);
    df_flow_response r = failed_response(a, DF_E_TIMEOUT);
    df_buf b = DF_BUF_INIT;
    df_response_encode_protobuf(&b, &r, "idx");
    Jina__DataRequestProto *m =
        jina__data_request_proto__unpack(NULL, b.len, (const uint8_t *)b.data);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_STRING_EQUAL(m->header->request_id, r.request_id);
    CU_ASSERT_STRING_EQUAL(m->header->exec_endpoint, "/index");
    CU_ASSERT_STRING_EQUAL(m->header->target_executor, "idx");
    CU_ASSERT_EQUAL(m->header->status->code, JINA__STATUS_PROTO__STATUS_CODE__ERROR);
    CU_ASSERT_STRING_EQUAL(m->header->status->description, r.error);
    CU_ASSERT_STRING_EQUAL(m->header->status->exception->name, "TimeoutError");
    CU_ASSERT_EQUAL_FATAL(m->header->status->exception->n_args, 1);
    CU_ASSERT_STRING_EQUAL(m->header->status->exception->args[0], r.error);
    CU_ASSERT_STRING_EQUAL(m->header->status->exception->executor, "indexer/shard-1");
    CU_ASSERT_EQUAL_FATAL(m->n_routes, 3);
    CU_ASSERT_STRING_EQUAL(m->routes[0]->executor, "gateway");
    CU_ASSERT_EQUAL(m->routes[0]->start_time->seconds, 1648818717);
    CU_ASSERT_EQUAL(m->routes[0]->start_time->nanos, 992497123);
    CU_ASSERT_EQUAL(m->routes[0]->end_time->nanos, 994498122);
    CU_ASSERT_PTR_NULL(m->routes[1]->status);
    CU_ASSERT_EQUAL(m->routes[2]->status->code, JINA__STATUS_PROTO__STATUS_CODE__ERROR);
    CU_ASSERT_EQUAL(m->parameters->n_fields, 4);
    CU_ASSERT_EQUAL(m->data->documents_case,
                    JINA__DATA_REQUEST_PROTO__DATA_CONTENT_PROTO__DOCUMENTS_DOCS);
    CU_ASSERT_EQUAL(m->data->docs->n_docs, 2);
    CU_ASSERT_STRING_EQUAL(m->data->docs->docs[1]->id, "doc-1");
    jina__data_request_proto__free_unpacked(m, NULL);
    df_buf_free(&b);
    df_arena_free(a);
}

static void test_response_json_decodes_jinas_sample_and_other_spellings(void)
{
    const char *body =
        "{\"header\": {\"requestId\": \"c725217aa7714de88039866fb5aa93d2\", \"execEndpoint\": "
        "\"/index\",\n \"targetExecutor\": \"\", \"status\": {\"code\": 0, \"description\": "
        "\"\", \"exception\": null}},\n \"parameters\": {\"__results__\": {}},\n \"routes\": "
        "[{\"executor\": \"gateway\", \"startTime\": \"2022-04-01T13:11:57.992497+00:00\", "
        "\"endTime\": \"2022-04-01T13:11:58.000001+00:00\"},\n {\"executor\": \"executor0\", "
        "\"startTime\": \"2022-04-01T15:11:57.5+02:00\", \"endTime\": "
        "\"2022-04-01T13:11:57.999999999Z\"}],\n \"data\": [{\"id\": \"37e6\", \"text\": "
        "\"hello world\", \"matches\": [{\"id\": \"m\"}]}]}";
    df_arena *a = df_arena_new(0);
    df_flow_response r;
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_EQUAL_FATAL(df_response_decode_json(a, body, strlen(body), &r, &err), DF_OK);
    CU_ASSERT_STRING_EQUAL(r.request_id, "c725217aa7714de88039866fb5aa93d2");
    CU_ASSERT_STRING_EQUAL(r.endpoint, "/index");
    CU_ASSERT_EQUAL(r.status, DF_OK);
    CU_ASSERT_PTR_NULL(r.error);
    CU_ASSERT_PTR_NULL(r.error_executor);
    CU_ASSERT_EQUAL(df_value_len(df_value_get(r.parameters, "__results__")), 0);
    CU_ASSERT_EQUAL_FATAL(r.n_routes, 1);
    CU_ASSERT_STRING_EQUAL(r.routes[0].executor, "executor0");
    CU_ASSERT_EQUAL(r.routes[0].start_ns, 1648818717500000000ull);
    CU_ASSERT_EQUAL(r.routes[0].end_ns, 1648818717999999999ull);
    CU_ASSERT_EQUAL_FATAL(df_docs_len(r.docs), 1);
    CU_ASSERT_EQUAL(df_docs_len(df_doc_matches_peek(df_docs_get(r.docs, 0))), 1);

    /* The body Jina's HTTP gateway sends for a network error: snake_case,
     * a status with the enum's name, no routes or data. */
    const char *net =
        "{\"header\": {\"request_id\": \"r1\", \"exec_endpoint\": \"/s\", \"status\": "
        "{\"code\": \"ERROR\", \"description\": \"connection refused\", "
        "\"exception\": {\"name\": \"InternalNetworkError\", \"stacks\": [\"x\"], "
        "\"executor\": \"\"}}}, \"parameters\": null, \"data\": null}";
    CU_ASSERT_EQUAL_FATAL(df_response_decode_json(a, net, strlen(net), &r, &err), DF_OK);
    CU_ASSERT_STRING_EQUAL(r.request_id, "r1");
    CU_ASSERT_STRING_EQUAL(r.endpoint, "/s");
    CU_ASSERT_EQUAL(r.status, DF_E_INTERNAL);
    CU_ASSERT_STRING_EQUAL(r.error, "connection refused");
    CU_ASSERT_PTR_NULL(r.error_executor);
    CU_ASSERT_PTR_NULL(r.parameters);
    CU_ASSERT_EQUAL(r.n_routes, 0);
    CU_ASSERT_PTR_NOT_NULL(r.docs);
    CU_ASSERT_EQUAL(df_docs_len(r.docs), 0);

    /* The Jina 2.x data shape. */
    const char *v2 = "{\"data\": {\"docs\": [{\"id\": \"a\"}], \"groundtruths\": []}}";
    CU_ASSERT_EQUAL_FATAL(df_response_decode_json(a, v2, strlen(v2), &r, &err), DF_OK);
    CU_ASSERT_EQUAL(df_docs_len(r.docs), 1);
    df_arena_free(a);
}

static void expect_json_response_error(const char *body, const char *frag)
{
    df_arena *a = df_arena_new(0);
    df_flow_response r;
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_EQUAL(df_response_decode_json(a, body, strlen(body), &r, &err), DF_E_INVALID_INPUT);
    CU_ASSERT(contains(err.msg, frag));
    df_arena_free(a);
}

static void test_response_json_errors_name_the_field(void)
{
    expect_json_response_error("[]", "expected a JSON object, got an array");
    expect_json_response_error("{\"header\": []}", "header: expected an object, got an array");
    expect_json_response_error("{\"header\": {\"requestId\": 5}}",
                               "header.requestId: expected a string, got a number");
    expect_json_response_error("{\"header\": {\"status\": {\"code\": \"BAD\"}}}",
                               "header.status.code: expected 0, 1, \"SUCCESS\" or \"ERROR\"");
    expect_json_response_error("{\"header\": {\"status\": {\"code\": 1.5}}}",
                               "header.status.code: expected an integer");
    expect_json_response_error(
        "{\"header\": {\"status\": {\"code\": 1, \"exception\": {\"name\": 3}}}}",
        "header.status.exception.name: expected a string, got a number");
    expect_json_response_error("{\"routes\": {}}", "routes: expected an array, got an object");
    expect_json_response_error("{\"routes\": [{}, 3]}",
                               "routes[1]: expected an object, got a number");
    expect_json_response_error(
        "{\"routes\": [{\"executor\": \"a\", \"startTime\": \"2022-02-30T00:00:00Z\"}]}",
        "routes[0].startTime: expected an RFC 3339 time after 1970, got \"2022-02-30T00:00:00Z\"");
    expect_json_response_error("{\"routes\": [{\"end_time\": \"1969-12-31T23:59:59Z\"}]}",
                               "routes[0].end_time: expected an RFC 3339 time");
    expect_json_response_error("{\"routes\": [{\"status\": {\"code\": []}}]}",
                               "routes[0].status.code: expected a number, got an array");
    expect_json_response_error("{\"parameters\": 1}",
                               "parameters: expected an object, got a number");
    expect_json_response_error("{\"data\": [{\"id\": 1}]}",
                               "data[0].id: expected a string, got a number");
}

static void test_response_json_parses_rfc3339_variants(void)
{
    static const struct {
        const char *text;
        uint64_t ns;
    } cases[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"1970-01-01T00:00:00.000000001z", 1},
        {"2022-04-01t13:11:57.992497+00:00", 1648818717992497000ull},
        {"2022-04-01 13:11:57.9924971239999Z", 1648818717992497123ull},
        {"2022-04-01T14:41:57.992497+01:30", 1648818717992497000ull},
        {"2022-04-01T11:11:57.992497-02:00", 1648818717992497000ull},
        {"2024-02-29T00:00:00Z", 1709164800000000000ull},
        {"2000-02-29T00:00:00Z", 951782400000000000ull},
    };
    static const char *bad[] = {
        "2023-02-29T00:00:00Z",     "1900-02-29T00:00:00Z",     "2022-04-01T13:11:57",
        "2022-04-01T24:00:00Z",     "2022-04-01T13:11:57.Z",    "2022-4-01T13:11:57Z",
        "2022-04-01T13:11:57+0100", "2022-04-01T13:11:57Zjunk", "3000-01-01T00:00:00Z"};
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    df_flow_response r;
    char body[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(body, sizeof body, "{\"routes\":[{\"executor\":\"e\",\"startTime\":\"%s\"}]}",
                 cases[i].text);
        CU_ASSERT_EQUAL_FATAL(df_response_decode_json(a, body, strlen(body), &r, &err), DF_OK);
        CU_ASSERT_EQUAL(r.routes[0].start_ns, cases[i].ns);
        if (r.routes[0].start_ns != cases[i].ns)
            fprintf(stderr, "\n  %s -> %llu\n", cases[i].text,
                    (unsigned long long)r.routes[0].start_ns);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(body, sizeof body, "{\"routes\":[{\"executor\":\"e\",\"startTime\":\"%s\"}]}",
                 bad[i]);
        int rc = df_response_decode_json(a, body, strlen(body), &r, &err);
        CU_ASSERT_EQUAL(rc, DF_E_INVALID_INPUT);
        if (rc == DF_OK) fprintf(stderr, "\n  accepted %s\n", bad[i]);
    }
    df_arena_free(a);
}

static void test_response_protobuf_errors_and_truncations(void)
{
    df_arena *a = df_arena_new(0);
    df_flow_response r = failed_response(a, DF_E_INTERNAL), back;
    df_buf b = DF_BUF_INIT;
    df_response_encode_protobuf(&b, &r, NULL);
    for (size_t len = 0; len < b.len; len++) {
        df_arena *ba = df_arena_new(0);
        df_error err = DF_ERROR_INIT;
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, b.data, len);
        if (df_response_decode_protobuf(ba, copy, len, &back, &err) != DF_OK) {
            CU_ASSERT(err.msg[0] != '\0');
        } else {
            CU_ASSERT_EQUAL(df_docs_len(back.docs), 0);
        }
        free(copy);
        df_arena_free(ba);
    }
    /* A route whose time lies before 1970. */
    static const uint8_t before_1970[] = {0x1a, 0x10, 0x0a, 0x01, 'e',  0x12, 0x0b, 0x08, 0xff,
                                          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_EQUAL(df_response_decode_protobuf(a, before_1970, sizeof before_1970, &back, &err),
                    DF_E_INVALID_INPUT);
    CU_ASSERT(contains(err.msg, "routes[0].start_time: a time before 1970"));
    df_buf_free(&b);
    df_arena_free(a);
}

/* ---- a big request ----------------------------------------------------------- */

static df_docs *embedding_docs(df_arena *a, size_t n, size_t dim)
{
    df_docs *docs = df_docs_new(a);
    float *emb = malloc(dim * sizeof *emb);
    for (size_t i = 0; i < n; i++) {
        df_doc *d = df_doc_new(a);
        char text[48];
        snprintf(text, sizeof text, "document number %zu", i);
        df_doc_set_text(d, text, (size_t)-1);
        for (size_t k = 0; k < dim; k++)
            emb[k] = (float)sin((double)(i * dim + k)) * 0.37f;
        df_doc_set_embedding_f32(d, emb, dim);
        df_docs_append(docs, d);
    }
    free(emb);
    return docs;
}

static void test_request_with_1000_docs_of_128d_embeddings_decodes_exactly(void)
{
    df_arena *a = df_arena_new(0);
    df_docs *docs = embedding_docs(a, 1000, 128);
    for (int protobuf = 0; protobuf < 2; protobuf++) {
        df_buf b = DF_BUF_INIT;
        (protobuf ? df_request_encode_protobuf : df_request_encode_json)(&b, "/index", docs, NULL,
                                                                         NULL);
        df_flow_request q = new_request();
        df_error err = DF_ERROR_INIT;
        CU_ASSERT_EQUAL_FATAL(decode_request_any(protobuf, &b, &q, &err), DF_OK);
        CU_ASSERT_EQUAL_FATAL(df_docs_len(q.docs), 1000);
        CU_ASSERT(df_docs_equal(q.docs, docs));
        size_t dim;
        float *e = df_doc_embedding_f32(df_docs_get(q.docs, 999), &dim);
        CU_ASSERT_EQUAL_FATAL(dim, 128);
        CU_ASSERT_EQUAL(e[127], (float)sin((double)(999 * 128 + 127)) * 0.37f);
        df_arena_free(q.arena);
        df_buf_free(&b);
    }
    df_arena_free(a);
}

/* ---- registration -------------------------------------------------------- */

#define TEST(fn)                                                                                   \
    {                                                                                              \
#fn, fn                                                                                    \
    }

void df_test_register(void)
{
    static const struct {
        const char *name;
        CU_TestFunc fn;
    } tests[] = {
        TEST(test_json_envelope_splits_documents_from_members),
        TEST(test_request_json_decodes_jinas_sample_body),
        TEST(test_request_json_accepts_snake_case_and_camel_case_wins),
        TEST(test_request_json_accepts_data_as_docs_object_null_or_absent),
        TEST(test_request_json_defaults_and_ignores_unknown_keys),
        TEST(test_request_json_repeated_data_keeps_the_last),
        TEST(test_request_json_errors_name_the_field),
        TEST(test_request_json_every_truncation_fails_cleanly),
        TEST(test_request_json_round_trip_every_field),
        TEST(test_request_protobuf_round_trip_every_field),
        TEST(test_request_json_encoding_is_jinas_body),
        TEST(test_request_protobuf_from_protobuf_c_with_docs_or_docs_bytes),
        TEST(test_request_protobuf_merges_fields_given_twice),
        TEST(test_request_protobuf_errors_name_the_part),
        TEST(test_request_protobuf_every_truncation_fails_or_stops_at_a_field),
        TEST(test_response_json_shape_matches_jinas_field_by_field),
        TEST(test_response_json_status_is_null_on_success_and_timeout_is_named),
        TEST(test_response_json_with_no_routes_or_docs_still_has_a_gateway_route),
        TEST(test_response_json_round_trip_every_field),
        TEST(test_response_protobuf_round_trip_every_field),
        TEST(test_response_protobuf_is_a_data_request_proto),
        TEST(test_response_json_decodes_jinas_sample_and_other_spellings),
        TEST(test_response_json_errors_name_the_field),
        TEST(test_response_json_parses_rfc3339_variants),
        TEST(test_response_protobuf_errors_and_truncations),
        TEST(test_request_with_1000_docs_of_128d_embeddings_decodes_exactly),
    };
    CU_pSuite suite = CU_add_suite("request_codec", NULL, NULL);
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        CU_add_test(suite, tests[i].name, tests[i].fn);
}
