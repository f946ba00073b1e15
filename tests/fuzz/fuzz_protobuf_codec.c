/*
 * fuzz_protobuf_codec.c -- libFuzzer target for the DocArray protobuf
 * decoder: any bytes, read as DocumentArrayProto, DocumentProto and
 * google.protobuf.Struct, must decode or fail with a message, never crash,
 * overflow the stack or leak. What decodes must re-encode to bytes that
 * decode again and are a fixed point: encode(decode(those bytes)) gives
 * the same bytes (the first round may normalise: -0.0 dropped, repeated
 * keys merged, big-endian arrays swapped).
 *
 * Build by hand (generate the protobuf-c code first, e.g. by a CMake build
 * into build/):
 *   G=build/plugin-api/proto-gen
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     -Iplugin-api/include -Iplugin-api/src -I$G tests/fuzz/fuzz_protobuf_codec.c \
 *     plugin-api/src/{arena,value,document,error,buf,protobuf_codec}.c \
 *     $G/docarray.pb-c.c $G/google/protobuf/struct.pb-c.c -lprotobuf-c -lm \
 *     -o fuzz_protobuf_codec
 *   ./fuzz_protobuf_codec -max_total_time=60 -max_len=65536 corpus/ tests/data/interop/
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docflow/document.h"
#include "docflow/protobuf_codec.h"
#include "docflow/value.h"

static void die(const char *what, const df_error *err)
{
    fprintf(stderr, "fuzz_protobuf_codec: %s%s%s\n", what, err ? ": " : "", err ? err->msg : "");
    abort();
}

static void same_bytes(const df_buf *x, const df_buf *y, const char *what)
{
    if (x->len != y->len || (x->len && memcmp(x->data, y->data, x->len) != 0)) die(what, NULL);
}

static void check_docs(df_arena *a, const uint8_t *data, size_t size)
{
    df_error err = DF_ERROR_INIT;
    df_docs *docs = df_docs_new(a);
    if (df_pb_decode_docs(docs, data, size, &err) != DF_OK) {
        if (!err.msg[0] || df_docs_len(docs) != 0)
            die("docs: failure without message or with docs", &err);
        return;
    }
    df_buf first = DF_BUF_INIT, second = DF_BUF_INIT;
    df_pb_encode_docs(&first, docs);
    df_docs *again = df_docs_new(a);
    if (df_pb_decode_docs(again, (const uint8_t *)first.data, first.len, &err) != DF_OK)
        die("docs: our own bytes do not decode", &err);
    if (df_docs_len(again) != df_docs_len(docs)) die("docs: count changed", NULL);
    df_pb_encode_docs(&second, again);
    same_bytes(&first, &second, "docs: encoding is not a fixed point");
    df_docs *third = df_docs_new(a);
    if (df_pb_decode_docs(third, (const uint8_t *)second.data, second.len, &err) != DF_OK ||
        !df_docs_equal(again, third))
        die("docs: decoded twice, not equal", &err);
    df_buf_free(&first);
    df_buf_free(&second);
}

static void check_doc(df_arena *a, const uint8_t *data, size_t size)
{
    df_error err = DF_ERROR_INIT;
    df_doc *d = df_pb_decode_doc(a, data, size, &err);
    if (!d) {
        if (!err.msg[0]) die("doc: failure without message", NULL);
        return;
    }
    df_buf first = DF_BUF_INIT, second = DF_BUF_INIT;
    df_pb_encode_doc(&first, d);
    df_doc *again = df_pb_decode_doc(a, (const uint8_t *)first.data, first.len, &err);
    if (!again) die("doc: our own bytes do not decode", &err);
    df_pb_encode_doc(&second, again);
    same_bytes(&first, &second, "doc: encoding is not a fixed point");
    df_buf_free(&first);
    df_buf_free(&second);
}

static void check_struct(df_arena *a, const uint8_t *data, size_t size)
{
    df_error err = DF_ERROR_INIT;
    df_value *v = df_pb_decode_struct(a, data, size, &err);
    if (!v) {
        if (!err.msg[0]) die("struct: failure without message", NULL);
        return;
    }
    df_buf first = DF_BUF_INIT, second = DF_BUF_INIT;
    df_pb_encode_struct(&first, v);
    df_value *again = df_pb_decode_struct(a, (const uint8_t *)first.data, first.len, &err);
    if (!again) die("struct: our own bytes do not decode", &err);
    if (!df_value_equal(v, again)) die("struct: changed in a round trip", NULL);
    df_pb_encode_struct(&second, again);
    same_bytes(&first, &second, "struct: encoding is not a fixed point");
    df_buf_free(&first);
    df_buf_free(&second);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    df_arena *a = df_arena_new(0);
    check_docs(a, data, size);
    check_doc(a, data, size);
    check_struct(a, data, size);
    df_arena_free(a);
    return 0;
}
