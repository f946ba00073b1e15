/*
 * fuzz_json_codec.c -- libFuzzer target for the JSON codec: arbitrary bytes
 * decoded as an array of documents, as one document and as a value. Beyond
 * "no crash, no leak, no UB", it checks what the codec promises:
 *   - a failure always carries DF_E_INVALID_INPUT and a message;
 *   - what decodes re-encodes to JSON that decodes again (the one exception:
 *     a float64 array whose values do not fit the float32 that lists decode to);
 *   - values round-trip exactly, and encoding reaches a fixed point: a second
 *     encode -> decode -> encode cycle writes the same bytes.
 *
 * Build by hand (not wired into CMake):
 *   S=plugin-api/src; clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     -Iplugin-api/include -I$S tests/fuzz/fuzz_json_codec.c $S/json_codec.c $S/arena.c \
 *     $S/buf.c $S/document.c $S/value.c $S/error.c -lm -o fuzz_json_codec
 *   ./fuzz_json_codec -max_total_time=60 corpus/
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docflow/json_codec.h"

static void check(int ok, const char *what, const df_error *err)
{
    if (ok) return;
    fprintf(stderr, "fuzz_json_codec: %s (%s)\n", what, err ? err->msg : "");
    abort();
}

static void check_failure(const df_error *err)
{
    check(err->code == DF_E_INVALID_INPUT && err->msg[0], "a failure without code or message", err);
}

static int only_float32_range(const df_error *err)
{
    return strstr(err->msg, "out of range for float32") != NULL;
}

/* Encodes docs, decodes the result and encodes again twice: the last two
 * encodings must be equal. */
static void docs_reach_fixed_point(const df_docs *docs)
{
    df_buf enc[3] = {DF_BUF_INIT, DF_BUF_INIT, DF_BUF_INIT};
    df_arena *a = df_arena_new(0);
    df_json_encode_docs(&enc[0], docs);
    int k = 0;
    for (; k < 2; k++) {
        df_error err = DF_ERROR_INIT;
        df_docs *back = df_docs_new(a);
        if (df_json_decode_docs(back, enc[k].data, enc[k].len, "enc", &err) != DF_OK) {
            check(k == 0 && only_float32_range(&err), "encoder output does not decode", &err);
            break;
        }
        df_json_encode_docs(&enc[k + 1], back);
    }
    if (k == 2)
        check(enc[1].len == enc[2].len && memcmp(enc[1].data, enc[2].data, enc[1].len) == 0,
              "document encoding has no fixed point", NULL);
    for (int i = 0; i < 3; i++)
        df_buf_free(&enc[i]);
    df_arena_free(a);
}

static void fuzz_docs(const char *data, size_t size)
{
    df_arena *a = df_arena_new(0);
    df_docs *docs = df_docs_new(a);
    df_error err = DF_ERROR_INIT;
    if (df_json_decode_docs(docs, data, size, "data", &err) == DF_OK)
        docs_reach_fixed_point(docs);
    else
        check_failure(&err);
    df_arena_free(a);
}

static void fuzz_doc(const char *data, size_t size)
{
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    df_doc *d = df_json_decode_doc(a, data, size, "line 1", &err);
    if (d) {
        df_docs *one = df_docs_new(a);
        df_docs_append(one, d);
        docs_reach_fixed_point(one);
    } else {
        check_failure(&err);
    }
    df_arena_free(a);
}

static void fuzz_value(const char *data, size_t size)
{
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    df_value *v = df_json_decode_value(a, data, size, NULL, &err);
    if (!v) {
        check_failure(&err);
        df_arena_free(a);
        return;
    }
    df_buf enc = DF_BUF_INIT, again = DF_BUF_INIT;
    df_json_encode_value(&enc, v);
    df_value *back = df_json_decode_value(a, enc.data, enc.len, NULL, &err);
    check(back != NULL, "encoded value does not decode", &err);
    check(df_value_equal(v, back), "value changed in a round trip", NULL);
    df_json_encode_value(&again, back);
    check(enc.len == again.len && memcmp(enc.data, again.data, enc.len) == 0,
          "value encoding is not stable", NULL);
    df_buf_free(&enc);
    df_buf_free(&again);
    df_arena_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so reading one byte past the input is caught. */
    char *copy = malloc(size ? size : 1);
    if (size) memcpy(copy, data, size);
    fuzz_docs(copy, size);
    fuzz_doc(copy, size);
    fuzz_value(copy, size);
    free(copy);
    return 0;
}
