/*
 * df_pb_interop.c -- the C side of the protobuf interop test
 * (tests/integration/test_protobuf_interop.sh): writes DocumentArrayProto
 * bytes with docflow's encoder so Google's Python protobuf can check them
 * field by field (tests/data/interop/check_docs.py).
 *
 *   df_pb_interop from-json DESCRIPTION.json OUT.bin
 *       builds the documents a description names (make_fixture.py's
 *       format) through the public document API, then encodes them;
 *   df_pb_interop reencode IN.bin OUT.bin
 *       decodes IN with docflow's decoder and encodes the result again.
 *
 * Not a user tool: it trusts its input to be well-formed.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docflow/document.h"
#include "docflow/protobuf_codec.h"
#include "docflow/value.h"

static df_value *value_from_json(df_arena *a, const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_TRUE:
    case JSON_FALSE:
        return df_value_new_bool(a, json_is_true(j));
    case JSON_INTEGER:
    case JSON_REAL:
        return df_value_new_number(a, json_number_value(j));
    case JSON_STRING:
        return df_value_new_string(a, json_string_value(j), json_string_length(j));
    case JSON_ARRAY: {
        df_value *l = df_value_new_list(a);
        size_t i;
        const json_t *item;
        json_array_foreach(j, i, item) df_value_append_owned(l, value_from_json(a, item));
        return l;
    }
    case JSON_OBJECT: {
        df_value *m = df_value_new_map(a);
        const char *key;
        const json_t *item;
        json_object_foreach((json_t *)j, key, item)
            df_value_set_owned(m, key, value_from_json(a, item));
        return m;
    }
    default:
        return df_value_new_null(a);
    }
}

/* which: 0 = tensor, 1 = embedding (as df_doc_set_ndarray_cls). */
static int ndarray_from_json(df_doc *d, int which, const json_t *j)
{
    const char *dtype = json_string_value(json_object_get(j, "dtype"));
    const json_t *shape_j = json_object_get(j, "shape"), *values = json_object_get(j, "values");
    size_t size = df_dtype_size(dtype), n = json_array_size(values);
    uint32_t shape[8];
    uint32_t ndim = (uint32_t)json_array_size(shape_j);
    if (!size || ndim > 8) return -1;
    for (uint32_t i = 0; i < ndim; i++)
        shape[i] = (uint32_t)json_integer_value(json_array_get(shape_j, i));
    uint8_t *data = malloc(n * size + 1);
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(values, i);
        if (strcmp(dtype, "<f4") == 0) {
            float f = (float)json_number_value(v);
            memcpy(data + i * 4, &f, 4);
        } else if (strcmp(dtype, "<f8") == 0) {
            double x = json_number_value(v);
            memcpy(data + i * 8, &x, 8);
        } else if (strcmp(dtype, "<i8") == 0) {
            int64_t x = json_integer_value(v);
            memcpy(data + i * 8, &x, 8);
        } else {
            free(data);
            return -1;
        }
    }
    int rc = which ? df_doc_set_embedding(d, data, n * size, shape, ndim, dtype)
                   : df_doc_set_tensor(d, data, n * size, shape, ndim, dtype);
    free(data);
    if (rc) return rc;
    const json_t *cls = json_object_get(j, "cls_name"), *params = json_object_get(j, "parameters");
    if (cls) df_doc_set_ndarray_cls(d, which, json_string_value(cls));
    if (params) df_doc_set_ndarray_params(d, which, value_from_json(df_doc_arena(d), params));
    return 0;
}

static void scores_from_json(df_doc *d, df_score_map map, const json_t *j)
{
    const char *name;
    const json_t *s;
    json_object_foreach((json_t *)j, name, s)
    {
        df_score score = {(float)json_number_value(json_object_get(s, "value")),
                          json_string_value(json_object_get(s, "op_name")),
                          json_string_value(json_object_get(s, "description")),
                          json_string_value(json_object_get(s, "ref_id"))};
        df_doc_set_score(d, map, name, &score);
    }
}

static df_doc *doc_from_json(df_arena *a, const json_t *j);

static void nested_from_json(df_arena *a, df_docs *into, const json_t *list)
{
    size_t i;
    const json_t *item;
    json_array_foreach(list, i, item) df_docs_append(into, doc_from_json(a, item));
}

static df_doc *doc_from_json(df_arena *a, const json_t *j)
{
    static const struct {
        const char *key;
        df_doc_str_field field;
    } strs[] = {{"id", DF_FIELD_ID},
                {"parent_id", DF_FIELD_PARENT_ID},
                {"uri", DF_FIELD_URI},
                {"modality", DF_FIELD_MODALITY},
                {"mime_type", DF_FIELD_MIME_TYPE}};
    static const struct {
        const char *key;
        df_doc_num_field field;
    } nums[] = {{"granularity", DF_FIELD_GRANULARITY},
                {"adjacency", DF_FIELD_ADJACENCY},
                {"weight", DF_FIELD_WEIGHT},
                {"offset", DF_FIELD_OFFSET}};
    df_doc *d = df_doc_new_empty(a);
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (json_object_get(j, strs[i].key))
            df_doc_set_str(d, strs[i].field, json_string_value(json_object_get(j, strs[i].key)));
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        if (json_object_get(j, nums[i].key))
            df_doc_set_num(d, nums[i].field, json_number_value(json_object_get(j, nums[i].key)));
    const json_t *v;
    if ((v = json_object_get(j, "text")))
        df_doc_set_text(d, json_string_value(v), json_string_length(v));
    if ((v = json_object_get(j, "blob_hex"))) {
        const char *hex = json_string_value(v);
        size_t n = strlen(hex) / 2;
        uint8_t *blob = malloc(n + 1);
        for (size_t i = 0; i < n; i++) {
            unsigned byte;
            sscanf(hex + 2 * i, "%2x", &byte);
            blob[i] = (uint8_t)byte;
        }
        df_doc_set_blob(d, blob, n);
        free(blob);
    }
    if ((v = json_object_get(j, "tensor")) && ndarray_from_json(d, 0, v))
        fprintf(stderr, "df_pb_interop: bad tensor description\n");
    if ((v = json_object_get(j, "embedding")) && ndarray_from_json(d, 1, v))
        fprintf(stderr, "df_pb_interop: bad embedding description\n");
    if ((v = json_object_get(j, "location"))) {
        float loc[64];
        size_t n = json_array_size(v) < 64 ? json_array_size(v) : 64;
        for (size_t i = 0; i < n; i++)
            loc[i] = (float)json_number_value(json_array_get(v, i));
        df_doc_set_location(d, loc, n);
    }
    if ((v = json_object_get(j, "tags"))) df_value_merge(df_doc_tags(d), value_from_json(a, v));
    if ((v = json_object_get(j, "_metadata")))
        df_value_merge(df_doc_metadata(d), value_from_json(a, v));
    if ((v = json_object_get(j, "scores"))) scores_from_json(d, DF_SCORES, v);
    if ((v = json_object_get(j, "evaluations"))) scores_from_json(d, DF_EVALUATIONS, v);
    if ((v = json_object_get(j, "chunks"))) nested_from_json(a, df_doc_chunks(d), v);
    if ((v = json_object_get(j, "matches"))) nested_from_json(a, df_doc_matches(d), v);
    return d;
}

static int write_file(const char *path, const df_buf *b)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b->data, 1, b->len, f) != b->len || fclose(f) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

static int from_json(df_arena *a, const char *in, df_docs *docs)
{
    json_error_t jerr;
    json_t *root = json_load_file(in, 0, &jerr);
    if (!root) {
        fprintf(stderr, "df_pb_interop: %s:%d: %s\n", in, jerr.line, jerr.text);
        return 1;
    }
    size_t i;
    const json_t *item;
    json_array_foreach(json_object_get(root, "docs"), i, item)
        df_docs_append(docs, doc_from_json(a, item));
    json_decref(root);
    return 0;
}

static int reencode(const char *in, df_docs *docs)
{
    FILE *f = fopen(in, "rb");
    if (!f) {
        perror(in);
        return 1;
    }
    df_buf raw = DF_BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        df_buf_append(&raw, chunk, n);
    fclose(f);
    df_error err = DF_ERROR_INIT;
    int rc = df_pb_decode_docs(docs, (const uint8_t *)raw.data, raw.len, &err);
    df_buf_free(&raw);
    if (rc) fprintf(stderr, "df_pb_interop: %s: %s\n", in, err.msg);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "from-json") != 0 && strcmp(argv[1], "reencode") != 0)) {
        fprintf(stderr, "usage: df_pb_interop from-json DESCRIPTION.json OUT.bin\n"
                        "       df_pb_interop reencode IN.bin OUT.bin\n");
        return 2;
    }
    df_arena *a = df_arena_new(0);
    df_docs *docs = df_docs_new(a);
    int rc =
        strcmp(argv[1], "from-json") == 0 ? from_json(a, argv[2], docs) : reencode(argv[2], docs);
    if (!rc) {
        df_buf out = DF_BUF_INIT;
        df_pb_encode_docs(&out, docs);
        rc = write_file(argv[3], &out);
        df_buf_free(&out);
    }
    df_arena_free(a);
    return rc;
}
