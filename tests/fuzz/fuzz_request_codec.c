/*
 * fuzz_request_codec.c -- libFuzzer target for the request codec: arbitrary
 * bytes decoded as a JSON request, a protobuf request, a JSON response and a
 * protobuf response. Beyond "no crash, no leak, no UB", it checks what the
 * codec promises:
 *   - a failure carries DF_E_INVALID_INPUT and a message;
 *   - what decodes re-encodes (client side for requests, server side for
 *     responses) to bytes that decode again to the same thing: endpoint,
 *     target, parameters, documents; request id, status, error, routes.
 *     JSON's one allowed exception is the JSON codec's: a float64 array
 *     whose values do not fit the float32 that lists decode to. JSON times
 *     come back cut to microseconds.
 *
 * Build by hand (generate the protobuf-c code first, e.g. by a CMake build
 * into build/):
 *   G=build/plugin-api/proto-gen; S=plugin-api/src
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     -Iplugin-api/include -I$S -I$G tests/fuzz/fuzz_request_codec.c \
 *     $S/{arena,value,document,error,buf,json_codec,protobuf_codec}.c \
 *     $S/{request_json,request_protobuf}.c $G/docarray.pb-c.c $G/jina.pb-c.c \
 *     $G/google/protobuf/struct.pb-c.c $G/google/protobuf/timestamp.pb-c.c \
 *     -lprotobuf-c -lm -o fuzz_request_codec
 *   ./fuzz_request_codec -max_total_time=60 -max_len=65536 corpus/fuzz_request_codec/
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docflow/document.h"
#include "docflow/request_codec.h"
#include "docflow/value.h"

static void die(const char *what, const df_error *err)
{
    fprintf(stderr, "fuzz_request_codec: %s%s%s\n", what, err ? ": " : "", err ? err->msg : "");
    abort();
}

static void check_failure(const char *what, const df_error *err)
{
    if (err->code != DF_E_INVALID_INPUT || !err->msg[0]) die(what, err);
}

static int same_str(const char *x, const char *y)
{
    return (!x && !y) || (x && y && strcmp(x, y) == 0);
}

/* Absent parameters and an empty map say the same. */
static int same_params(const df_value *x, const df_value *y)
{
    if (!df_value_len(x) && !df_value_len(y)) return 1;
    return df_value_equal(x, y);
}

/* The JSON codec's documented exception to re-decoding its own output. */
static int only_float32_range(const df_error *err)
{
    return strstr(err->msg, "out of range for float32") != NULL;
}

/* ---- requests ------------------------------------------------------------- */

static int decode_request(int protobuf, const void *data, size_t size, df_flow_request *q,
                          df_error *err)
{
    memset(q, 0, sizeof *q);
    q->arena = df_arena_new(0);
    return protobuf ? df_request_decode_protobuf(data, size, "/", q, err)
                    : df_request_decode_json(data, size, "/", q, err);
}

static void fuzz_request(int protobuf, const uint8_t *data, size_t size)
{
    df_flow_request q, back;
    df_error err = DF_ERROR_INIT;
    if (decode_request(protobuf, data, size, &q, &err) != DF_OK) {
        check_failure(protobuf ? "protobuf request" : "json request", &err);
        df_arena_free(q.arena);
        return;
    }
    if (!q.endpoint || !q.docs) die("request: decoded without endpoint or docs", NULL);
    df_buf b = DF_BUF_INIT;
    (protobuf ? df_request_encode_protobuf
              : df_request_encode_json)(&b, q.endpoint, q.docs, q.parameters, q.target_executor);
    if (decode_request(protobuf, b.data, b.len, &back, &err) != DF_OK) {
        if (protobuf || !only_float32_range(&err))
            die("request: our own bytes do not decode", &err);
    } else {
        if (!same_str(q.endpoint, back.endpoint) ||
            !same_str(q.target_executor, back.target_executor))
            die("request: endpoint or target changed", NULL);
        if (!df_value_equal(q.parameters, back.parameters))
            die("request: parameters changed", NULL);
        if (df_docs_len(q.docs) != df_docs_len(back.docs) ||
            (protobuf && !df_docs_equal(q.docs, back.docs)))
            die("request: documents changed", NULL);
    }
    df_arena_free(back.arena);
    df_arena_free(q.arena);
    df_buf_free(&b);
}

/* ---- responses ------------------------------------------------------------ */

static int decode_response(int protobuf, df_arena *a, const void *data, size_t size,
                           df_flow_response *r, df_error *err)
{
    return protobuf ? df_response_decode_protobuf(a, data, size, r, err)
                    : df_response_decode_json(a, data, size, r, err);
}

static uint64_t time_as_sent(int protobuf, uint64_t ns)
{
    return protobuf ? ns : ns / 1000 * 1000;
}

static void same_response(int protobuf, const df_flow_response *x, const df_flow_response *y)
{
    if (!same_str(x->request_id, y->request_id) || !same_str(x->endpoint, y->endpoint))
        die("response: request id or endpoint changed", NULL);
    if (x->status != y->status || !same_str(x->error, y->error) ||
        !same_str(x->error_executor, y->error_executor))
        die("response: status changed", NULL);
    if (!same_params(x->parameters, y->parameters)) die("response: parameters changed", NULL);
    if (df_docs_len(x->docs) != df_docs_len(y->docs) ||
        (protobuf && !df_docs_equal(x->docs, y->docs)))
        die("response: documents changed", NULL);
    if (x->n_routes != y->n_routes) die("response: route count changed", NULL);
    for (size_t i = 0; i < x->n_routes; i++) {
        const df_flow_route *p = &x->routes[i], *q = &y->routes[i];
        if (strcmp(p->executor, q->executor) || p->status != q->status ||
            time_as_sent(protobuf, p->start_ns) != q->start_ns ||
            time_as_sent(protobuf, p->end_ns) != q->end_ns)
            die("response: a route changed", NULL);
    }
}

static void fuzz_response(int protobuf, const uint8_t *data, size_t size)
{
    df_arena *a = df_arena_new(0), *b2 = df_arena_new(0);
    df_flow_response r, back;
    df_error err = DF_ERROR_INIT;
    if (decode_response(protobuf, a, data, size, &r, &err) != DF_OK) {
        check_failure(protobuf ? "protobuf response" : "json response", &err);
        goto done;
    }
    if (!r.docs) die("response: decoded without docs", NULL);
    df_buf b = DF_BUF_INIT;
    (protobuf ? df_response_encode_protobuf : df_response_encode_json)(&b, &r, "target");
    if (decode_response(protobuf, b2, b.data, b.len, &back, &err) != DF_OK) {
        if (protobuf || !only_float32_range(&err))
            die("response: our own bytes do not decode", &err);
    } else {
        same_response(protobuf, &r, &back);
    }
    df_buf_free(&b);
done:
    df_arena_free(a);
    df_arena_free(b2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so reading one byte past the input is caught. */
    uint8_t *copy = malloc(size ? size : 1);
    if (size) memcpy(copy, data, size);
    for (int protobuf = 0; protobuf < 2; protobuf++) {
        fuzz_request(protobuf, copy, size);
        fuzz_response(protobuf, copy, size);
    }
    free(copy);
    return 0;
}
