/*
 * test_json_codec.c -- the JSON codec: documents and values in Jina's HTTP
 * JSON form. Round trips must be exact (floats bit for bit), decoding errors
 * must name the field path and the problem, and no input may crash it.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docflow/json_codec.h"

/* ---- helpers ------------------------------------------------------------ */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void) /* xorshift64*: reproducible runs */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static df_doc *decode_doc(df_arena *a, const char *json, df_error *err)
{
    return df_json_decode_doc(a, json, strlen(json), NULL, err);
}

/* encode -> decode into a fresh document in `a`; NULL (and a failed
 * assertion) when the encoder's output does not decode. */
static df_doc *round_trip_doc(df_arena *a, const df_doc *d, df_buf *json)
{
    df_error err = DF_ERROR_INIT;
    df_buf_reset(json);
    df_json_encode_doc(json, d);
    df_doc *back = df_json_decode_doc(a, json->data, json->len, NULL, &err);
    if (!back) fprintf(stderr, "\n  decode failed: %s\n  json: %.300s\n", err.msg, json->data);
    CU_ASSERT_PTR_NOT_NULL(back);
    return back;
}

static int contains(const char *haystack, const char *needle)
{
    int ok = strstr(haystack, needle) != NULL;
    if (!ok) fprintf(stderr, "\n  expected \"%s\" in: %s\n", needle, haystack);
    return ok;
}

/* Decoding `json` as one document fails with a message holding each of the
 * given fragments, and produces no document. */
static void expect_doc_error(const char *json, size_t len, const char *path, const char *frag1,
                             const char *frag2)
{
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    df_doc *d = df_json_decode_doc(a, json, len, path, &err);
    CU_ASSERT_PTR_NULL(d);
    CU_ASSERT_EQUAL(err.code, DF_E_INVALID_INPUT);
    if (frag1) CU_ASSERT(contains(err.msg, frag1));
    if (frag2) CU_ASSERT(contains(err.msg, frag2));
    df_arena_free(a);
}

#define EXPECT_DOC_ERROR(json, path, f1, f2)                                                       \
    expect_doc_error((json), strlen(json), (path), (f1), (f2))

static void expect_value_error(const char *json, const char *frag1, const char *frag2)
{
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_PTR_NULL(df_json_decode_value(a, json, strlen(json), NULL, &err));
    CU_ASSERT_EQUAL(err.code, DF_E_INVALID_INPUT);
    if (frag1) CU_ASSERT(contains(err.msg, frag1));
    if (frag2) CU_ASSERT(contains(err.msg, frag2));
    df_arena_free(a);
}

static df_doc *full_doc(df_arena *a, df_content_kind content)
{
    df_doc *d = df_doc_new(a);
    df_doc_set_str(d, DF_FIELD_PARENT_ID, "parent-1");
    df_doc_set_str(d, DF_FIELD_URI, "https://example.com/cat.png");
    df_doc_set_str(d, DF_FIELD_MODALITY, "image");
    df_doc_set_str(d, DF_FIELD_MIME_TYPE, "image/png");
    df_doc_set_num(d, DF_FIELD_GRANULARITY, 2);
    df_doc_set_num(d, DF_FIELD_ADJACENCY, 3);
    df_doc_set_num(d, DF_FIELD_WEIGHT, 0.75);
    df_doc_set_num(d, DF_FIELD_OFFSET, 12.5);
    if (content == DF_CONTENT_TEXT) df_doc_set_text(d, "a cat on a mat", (size_t)-1);
    if (content == DF_CONTENT_BLOB) df_doc_set_blob(d, "\x00\x01\xfe\xff png", 9);
    if (content == DF_CONTENT_TENSOR) {
        float t[6] = {1, 2.5f, -3, 0.1f, 1e-30f, 3.4e38f};
        uint32_t shape[2] = {2, 3};
        CU_ASSERT_EQUAL(df_doc_set_tensor(d, t, sizeof t, shape, 2, "<f4"), DF_OK);
    }
    float emb[6] = {0.1f, -2.5f, 3.0e-7f, 1e20f, -0.0f, 1.17549435e-38f};
    df_doc_set_embedding_f32(d, emb, 6);
    float loc[3] = {1, 2.5f, -3};
    df_doc_set_location(d, loc, 3);
    df_value *tags = df_doc_tags(d);
    df_value_put_string(tags, "name", "tabby");
    df_value_put_number(tags, "lives", 9);
    df_value_put_number(tags, "ratio", 0.1);
    df_value_put_bool(tags, "indoor", 1);
    df_value_put_null(tags, "owner");
    df_value *nested = df_value_new_list(a);
    df_value_put_number(nested, NULL, -1.5e-300);
    df_value_put_string(nested, NULL, "x");
    df_value_set(tags, "list", nested);
    df_value_put_string(df_doc_metadata(d), "source", "crawler");
    df_score cos = {0.875f, "cosine", "distance to the query", "q-1"};
    df_doc_set_score(d, DF_SCORES, "cosine", &cos);
    df_score l2 = {-4.25f, NULL, NULL, NULL};
    df_doc_set_score(d, DF_SCORES, "l2", &l2);
    df_score prec = {0.5f, "precision@k", NULL, NULL};
    df_doc_set_score(d, DF_EVALUATIONS, "precision", &prec);
    df_doc *chunk = df_doc_new(a);
    df_doc_set_text(chunk, "a cat", (size_t)-1);
    df_docs_append(df_doc_chunks(d), chunk);
    df_doc *match = df_doc_new(a);
    df_doc_set_str(match, DF_FIELD_URI, "https://example.com/dog.png");
    df_doc_set_score(match, DF_SCORES, "cosine", &cos);
    df_docs_append(df_doc_matches(d), match);
    return d;
}

/* ---- documents: round trips ---------------------------------------------- */

static void test_json_doc_roundtrip_every_field(void)
{
    df_content_kind kinds[3] = {DF_CONTENT_TEXT, DF_CONTENT_BLOB, DF_CONTENT_TENSOR};
    df_buf json = DF_BUF_INIT;
    for (int k = 0; k < 3; k++) {
        df_arena *a = df_arena_new(0);
        df_doc *d = full_doc(a, kinds[k]);
        df_doc *back = round_trip_doc(a, d, &json);
        CU_ASSERT(back && df_doc_equal(d, back));
        /* every field is in the JSON, under DocArray's snake_case key */
        const char *keys[] = {
            "\"id\"",       "\"parent_id\"", "\"granularity\"", "\"adjacency\"",   "\"mime_type\"",
            "\"weight\"",   "\"uri\"",       "\"tags\"",        "\"_metadata\"",   "\"offset\"",
            "\"location\"", "\"embedding\"", "\"modality\"",    "\"evaluations\"", "\"scores\"",
            "\"chunks\"",   "\"matches\""};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            CU_ASSERT(contains(json.data, keys[i]));
        const char *content_key[3] = {"\"text\"", "\"blob\"", "\"tensor\""};
        CU_ASSERT(contains(json.data, content_key[k]));
        CU_ASSERT_EQUAL(df_doc_content(back), kinds[k]);
        df_arena_free(a);
    }
    df_buf_free(&json);
}

static void test_json_doc_encodes_only_non_empty_fields(void)
{
    df_arena *a = df_arena_new(0);
    df_doc *d = df_doc_new(a);
    df_buf json = DF_BUF_INIT;
    df_doc_tags(d);   /* created but empty */
    df_doc_chunks(d); /* likewise */
    df_json_encode_doc(&json, d);
    char expected[64];
    snprintf(expected, sizeof expected, "{\"id\":\"%s\"}", df_doc_str(d, DF_FIELD_ID));
    CU_ASSERT_STRING_EQUAL(json.data, expected);
    df_buf_free(&json);
    df_arena_free(a);
}

static void test_json_nested_chunks_and_matches_three_levels_deep(void)
{
    df_arena *a = df_arena_new(0);
    df_doc *root = df_doc_new(a);
    df_doc *level = root;
    for (int depth = 1; depth <= 3; depth++) {
        df_doc *c = df_doc_new(a), *m = df_doc_new(a);
        char text[32];
        snprintf(text, sizeof text, "chunk at depth %d", depth);
        df_doc_set_text(c, text, (size_t)-1);
        df_doc_set_num(c, DF_FIELD_GRANULARITY, depth);
        df_score s = {1.0f / (float)depth, "cosine", NULL, NULL};
        df_doc_set_score(m, DF_SCORES, "cosine", &s);
        df_doc_set_num(m, DF_FIELD_ADJACENCY, depth);
        df_docs_append(df_doc_matches(level), m);
        level = df_docs_append(df_doc_chunks(level), c);
    }
    df_buf json = DF_BUF_INIT;
    df_doc *back = round_trip_doc(a, root, &json);
    CU_ASSERT(back && df_doc_equal(root, back));
    df_doc *deepest = back;
    for (int depth = 1; deepest && depth <= 3; depth++) {
        deepest = df_docs_get(df_doc_chunks(deepest), 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(deepest);
        CU_ASSERT_EQUAL(df_doc_num(deepest, DF_FIELD_GRANULARITY), depth);
    }
    CU_ASSERT_STRING_EQUAL(df_doc_text(deepest, NULL), "chunk at depth 3");
    df_buf_free(&json);
    df_arena_free(a);
}

static void test_json_empty_arrays_and_objects_mean_unset(void)
{
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    df_docs *docs = df_docs_new(a);
    CU_ASSERT_EQUAL(df_json_decode_docs(docs, "[]", 2, NULL, &err), DF_OK);
    CU_ASSERT_EQUAL(df_docs_len(docs), 0);
    CU_ASSERT_EQUAL(df_json_decode_docs(docs, " [ ] \n", 6, NULL, &err), DF_OK);
    CU_ASSERT_EQUAL(df_docs_len(docs), 0);
    df_doc *d = decode_doc(a,
                           "{\"id\": \"e\", \"chunks\": [], \"matches\": [], \"tags\": {}, "
                           "\"_metadata\": {}, \"scores\": {}, \"evaluations\": {}, \"location\": "
                           "[], \"text\": \"\", \"uri\": \"\"}",
                           &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_PTR_NULL(df_doc_chunks_peek(d));
    CU_ASSERT_PTR_NULL(df_doc_matches_peek(d));
    CU_ASSERT_PTR_NULL(df_doc_tags_peek(d));
    CU_ASSERT_PTR_NULL(df_doc_metadata_peek(d));
    CU_ASSERT_EQUAL(df_doc_score_count(d, DF_SCORES), 0);
    CU_ASSERT_EQUAL(df_doc_content(d), DF_CONTENT_NONE);
    size_t n = 1;
    CU_ASSERT_PTR_NULL(df_doc_location(d, &n));
    CU_ASSERT_EQUAL(n, 0);
    df_buf json = DF_BUF_INIT;
    df_json_encode_docs(&json, docs);
    CU_ASSERT_STRING_EQUAL(json.data, "[]");
    df_buf_reset(&json);
    df_json_encode_doc(&json, d);
    CU_ASSERT_STRING_EQUAL(json.data, "{\"id\":\"e\"}");
    df_buf_free(&json);
    df_arena_free(a);
}

static void test_json_empty_embedding_keeps_its_shape(void)
{
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    df_doc *d = decode_doc(a, "{\"embedding\": [], \"tensor\": [[], []]}", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    df_ndarray_view v;
    CU_ASSERT(df_doc_embedding(d, &v));
    CU_ASSERT_EQUAL(v.ndim, 1);
    CU_ASSERT_EQUAL(v.shape[0], 0);
    CU_ASSERT_EQUAL(v.nbytes, 0);
    CU_ASSERT(df_doc_tensor(d, &v));
    CU_ASSERT_EQUAL(v.ndim, 2);
    CU_ASSERT(v.shape[0] == 2 && v.shape[1] == 0);
    df_buf json = DF_BUF_INIT;
    df_doc *back = round_trip_doc(a, d, &json);
    CU_ASSERT(back && df_doc_equal(d, back));
    df_buf_free(&json);
    df_arena_free(a);
}

static void test_json_documents_without_id_get_distinct_random_ids(void)
{
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    df_docs *docs = df_docs_new(a);
    const char *json = "[{\"text\": \"a\"}, {\"text\": \"b\", \"id\": null}, {\"id\": \"given\"}]";
    CU_ASSERT_EQUAL_FATAL(df_json_decode_docs(docs, json, strlen(json), "data", &err), DF_OK);
    CU_ASSERT_EQUAL_FATAL(df_docs_len(docs), 3);
    const char *id0 = df_doc_str(df_docs_get(docs, 0), DF_FIELD_ID);
    const char *id1 = df_doc_str(df_docs_get(docs, 1), DF_FIELD_ID);
    CU_ASSERT_EQUAL(strlen(id0), 32);
    CU_ASSERT_EQUAL(strspn(id0, "0123456789abcdef"), 32);
    CU_ASSERT_EQUAL(strlen(id1), 32);
    CU_ASSERT_STRING_NOT_EQUAL(id0, id1);
    CU_ASSERT_STRING_EQUAL(df_doc_str(df_docs_get(docs, 2), DF_FIELD_ID), "given");
    df_arena_free(a);
}

static void test_json_null_fields_are_unset(void)
{
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    df_doc *d =
        decode_doc(a,
                   "{\"id\":\"n\",\"parent_id\":null,\"granularity\":null,\"text\":null,"
                   "\"blob\":null,\"tensor\":null,\"embedding\":null,\"weight\":null,"
                   "\"tags\":null,\"scores\":{\"a\":null},\"chunks\":null,\"location\":null}",
                   &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_STRING_EQUAL(df_doc_str(d, DF_FIELD_PARENT_ID), "");
    CU_ASSERT_EQUAL(df_doc_content(d), DF_CONTENT_NONE);
    CU_ASSERT_FALSE(df_doc_embedding(d, NULL));
    CU_ASSERT_EQUAL(df_doc_num(d, DF_FIELD_WEIGHT), 0);
    CU_ASSERT_EQUAL(df_doc_score_count(d, DF_SCORES), 0);
    df_arena_free(a);
}

static void test_json_camel_case_aliases_and_bare_score_numbers_decode(void)
{
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    df_doc *d =
        decode_doc(a,
                   "{\"id\":\"c\",\"parentId\":\"p\",\"mimeType\":\"text/plain\","
                   "\"scores\":{\"cosine\":{\"value\":0.5,\"opName\":\"cos\",\"refId\":\"r\"},"
                   "\"bm25\":12.25}}",
                   &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_STRING_EQUAL(df_doc_str(d, DF_FIELD_PARENT_ID), "p");
    CU_ASSERT_STRING_EQUAL(df_doc_str(d, DF_FIELD_MIME_TYPE), "text/plain");
    df_score s;
    CU_ASSERT_FATAL(df_doc_score(d, DF_SCORES, "cosine", &s));
    CU_ASSERT_EQUAL(s.value, 0.5f);
    CU_ASSERT_STRING_EQUAL(s.op_name, "cos");
    CU_ASSERT_STRING_EQUAL(s.ref_id, "r");
    CU_ASSERT_FATAL(df_doc_score(d, DF_SCORES, "bm25", &s));
    CU_ASSERT_EQUAL(s.value, 12.25f);
    CU_ASSERT_STRING_EQUAL(s.op_name, "");
    df_arena_free(a);
}

static void test_json_repeated_score_name_keeps_the_last(void)
{
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    df_doc *d = decode_doc(a, "{\"scores\":{\"s\":1,\"t\":2,\"s\":3}}", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_EQUAL(df_doc_score_count(d, DF_SCORES), 2);
    df_score s;
    CU_ASSERT(df_doc_score(d, DF_SCORES, "s", &s) && s.value == 3);
    df_arena_free(a);
}

static void test_json_dense_ndarray_form_decodes_with_dtype_and_cls_name(void)
{
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    /* [1.0, 2.0, -0.5] as <f4 and [1, -2] as <i8, base64 of the raw bytes */
    df_doc *d = decode_doc(a,
                           "{\"embedding\":{\"dense\":{\"buffer\":\"AACAPwAAAEAAAAC/\","
                           "\"shape\":[3],\"dtype\":\"<f4\"},\"cls_name\":\"numpy\"},"
                           "\"tensor\":{\"dense\":{\"buffer\":\"AQAAAAAAAAD-_________w\","
                           "\"shape\":[2, 1],\"dtype\":\"<i8\"}}}",
                           &err);
    if (!d) fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    size_t dim;
    float *e = df_doc_embedding_f32(d, &dim);
    CU_ASSERT_FATAL(e && dim == 3);
    CU_ASSERT(e[0] == 1.0f && e[1] == 2.0f && e[2] == -0.5f);
    CU_ASSERT_STRING_EQUAL(df_doc_ndarray_cls(d, 1), "numpy");
    df_ndarray_view t;
    CU_ASSERT_FATAL(df_doc_tensor(d, &t));
    CU_ASSERT_STRING_EQUAL(t.dtype, "<i8");
    CU_ASSERT(t.ndim == 2 && t.shape[0] == 2 && t.shape[1] == 1);
    int64_t v[2];
    memcpy(v, t.data, sizeof v);
    CU_ASSERT(v[0] == 1 && v[1] == -2);
    /* lists are what the encoder writes back */
    df_buf json = DF_BUF_INIT;
    df_json_encode_doc(&json, d);
    CU_ASSERT(contains(json.data, "\"tensor\":[[1],[-2]]"));
    CU_ASSERT(contains(json.data, "\"embedding\":[1,2,-0.5]"));
    df_buf_free(&json);
    df_arena_free(a);
}

static void test_json_numeric_dtypes_encode_as_nested_lists(void)
{
    df_arena *a = df_arena_new(0);
    df_buf json = DF_BUF_INIT;
    struct {
        const char *dtype;
        const void *data;
        size_t nbytes;
        uint32_t shape[2];
        uint32_t ndim;
        const char *expected;
    } cases[] = {
        {"<f8", (const double[]){1.5, -0.1, 1e300}, 24, {3}, 1, "[1.5,-0.1,1e+300]"},
        {"<i4",
         (const int32_t[]){-7, 0, 2147483647, -2147483647 - 1},
         16,
         {2, 2},
         2,
         "[[-7,0],[2147483647,-2147483648]]"},
        {"<i8",
         (const int64_t[]){INT64_MIN, 9007199254740993},
         16,
         {2},
         1,
         "[-9223372036854775808,9007199254740993]"},
        {"|u1", (const uint8_t[]){0, 255, 7}, 3, {3}, 1, "[0,255,7]"},
        {"|i1", (const int8_t[]){-128, 127}, 2, {2}, 1, "[-128,127]"},
        {"<u4", (const uint32_t[]){4294967295u}, 4, {1}, 1, "[4294967295]"},
        {"<i2", (const int16_t[]){-32768, 1}, 4, {1, 2}, 2, "[[-32768,1]]"},
        {"<u8", (const uint64_t[]){UINT64_MAX}, 8, {1}, 1, "[18446744073709551615]"},
        {"|b1", (const uint8_t[]){1, 0}, 2, {2}, 1, "[true,false]"},
        {"<f2", (const uint16_t[]){0x3E00, 0xC000, 0x0001}, 6, {3}, 1, "[1.5,-2,5.9604645e-08]"},
        {">f4", (const uint8_t[]){0x40, 0x20, 0, 0}, 4, {1}, 1, "[2.5]"},
        {"<f4", (const float[]){42.0f}, 4, {0}, 0, "42"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        df_doc *d = df_doc_new(a);
        CU_ASSERT_EQUAL_FATAL(df_doc_set_tensor(d, cases[i].data, cases[i].nbytes, cases[i].shape,
                                                cases[i].ndim, cases[i].dtype),
                              DF_OK);
        df_buf_reset(&json);
        df_json_encode_doc(&json, d);
        char want[128];
        snprintf(want, sizeof want, "\"tensor\":%s", cases[i].expected);
        CU_ASSERT(contains(json.data, want));
        /* and the lists read back (as float32) */
        df_error err = DF_ERROR_INIT;
        df_doc *back = df_json_decode_doc(a, json.data, json.len, NULL, &err);
        if (strcmp(cases[i].dtype, "<f8") == 0) {
            CU_ASSERT_PTR_NULL(back); /* 1e300 does not fit float32 */
            CU_ASSERT(contains(err.msg, "out of range for float32"));
        } else {
            CU_ASSERT_PTR_NOT_NULL(back);
        }
    }
    df_buf_free(&json);
    df_arena_free(a);
}

static void test_json_unicode_text_roundtrip(void)
{
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    const char *json =
        "{\"text\": \"caf\\u00e9 \\ud83d\\ude00 \\u4E2D \\\"q\\\" \\\\ \\/ \\n\\t\\u0001 "
        "direct: \xc3\xa9\xf0\x9f\x98\x80\xe4\xb8\xad\"}";
    const char *expected = "caf\xc3\xa9 \xf0\x9f\x98\x80 \xe4\xb8\xad \"q\" \\ / \n\t\x01 "
                           "direct: \xc3\xa9\xf0\x9f\x98\x80\xe4\xb8\xad";
    df_doc *d = decode_doc(a, json, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    size_t len;
    const char *text = df_doc_text(d, &len);
    CU_ASSERT_EQUAL(len, strlen(expected));
    CU_ASSERT(text && memcmp(text, expected, len) == 0);
    df_buf out = DF_BUF_INIT;
    df_doc *back = round_trip_doc(a, d, &out);
    CU_ASSERT(back && df_doc_equal(d, back));
    /* UTF-8 written as is; quote, backslash and controls escaped */
    CU_ASSERT(contains(out.data, "caf\xc3\xa9 \xf0\x9f\x98\x80 \xe4\xb8\xad \\\"q\\\" \\\\ / "
                                 "\\n\\t\\u0001 "));
    df_buf_free(&out);
    df_arena_free(a);
}

static void test_json_text_with_nul_character_roundtrips(void)
{
    df_arena *a = df_arena_new(0);
    df_doc *d = df_doc_new(a);
    df_doc_set_text(d, "a\0b", 3);
    df_buf json = DF_BUF_INIT;
    df_doc *back = round_trip_doc(a, d, &json);
    CU_ASSERT(contains(json.data, "a\\u0000b"));
    size_t len;
    CU_ASSERT(back && df_doc_text(back, &len) && len == 3);
    df_buf_free(&json);
    df_arena_free(a);
}

static void test_json_one_megabyte_blob_roundtrip(void)
{
    df_arena *a = df_arena_new(0);
    size_t n = (1u << 20) + 1; /* not a multiple of 3: padding is exercised */
    uint8_t *blob = malloc(n);
    for (size_t i = 0; i < n; i++)
        blob[i] = (uint8_t)rng();
    df_doc *d = df_doc_new(a);
    df_doc_set_blob(d, blob, n);
    df_buf json = DF_BUF_INIT;
    df_doc *back = round_trip_doc(a, d, &json);
    size_t len = 0;
    const void *got = back ? df_doc_blob(back, &len) : NULL;
    CU_ASSERT_EQUAL(len, n);
    CU_ASSERT(got && memcmp(got, blob, n) == 0);
    CU_ASSERT(json.len > n * 4 / 3 && json.len < n * 4 / 3 + 100);
    free(blob);
    df_buf_free(&json);
    df_arena_free(a);
}

static void test_json_blob_accepts_url_safe_and_unpadded_base64(void)
{
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    const char *forms[] = {"+/8=", "-_8=", "-_8", "+\\/8="}; /* bytes fb ff */
    for (size_t i = 0; i < 4; i++) {
        char json[64];
        snprintf(json, sizeof json, "{\"blob\": \"%s\"}", forms[i]);
        df_doc *d = decode_doc(a, json, &err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(d);
        size_t len;
        const uint8_t *b = df_doc_blob(d, &len);
        CU_ASSERT(len == 2 && b[0] == 0xfb && b[1] == 0xff);
    }
    df_arena_free(a);
}

static void test_json_4096_dim_embedding_roundtrip(void)
{
    df_arena *a = df_arena_new(0);
    enum { DIM = 4096 };
    float *e = malloc(DIM * sizeof *e);
    for (int i = 0; i < DIM; i++)
        e[i] = (float)((double)(rng() % 2000001) / 1e6 - 1.0);
    df_doc *d = df_doc_new(a);
    df_doc_set_embedding_f32(d, e, DIM);
    df_buf json = DF_BUF_INIT;
    df_doc *back = round_trip_doc(a, d, &json);
    size_t dim = 0;
    float *got = back ? df_doc_embedding_f32(back, &dim) : NULL;
    CU_ASSERT_EQUAL(dim, DIM);
    CU_ASSERT(got && memcmp(got, e, DIM * sizeof *e) == 0);
    free(e);
    df_buf_free(&json);
    df_arena_free(a);
}

/* ---- numbers -------------------------------------------------------------- */

static void test_json_float32_roundtrip_is_exact_on_random_bit_patterns(void)
{
    enum { N = 200000 };
    float *v = malloc(N * sizeof *v);
    const float special[] = {
        0.0f,           -0.0f,           1.4e-45f,   -1.4e-45f, 1.17549435e-38f, 1.17549421e-38f,
        3.40282347e38f, -3.40282347e38f, 1.0f,       0.1f,      16777216.0f,     16777217.0f,
        1e10f,          1e-10f,          8388607.5f, 0.3f,      2.5e-5f,         1e16f};
    size_t n = 0;
    for (; n < sizeof special / sizeof special[0]; n++)
        v[n] = special[n];
    while (n < N) {
        uint32_t bits = (uint32_t)rng();
        float f;
        memcpy(&f, &bits, 4);
        if (isfinite(f)) v[n++] = f;
    }
    df_arena *a = df_arena_new(0);
    df_doc *d = df_doc_new(a);
    df_doc_set_embedding_f32(d, v, N);
    df_buf json = DF_BUF_INIT;
    df_doc *back = round_trip_doc(a, d, &json);
    size_t dim = 0;
    float *got = back ? df_doc_embedding_f32(back, &dim) : NULL;
    CU_ASSERT_EQUAL_FATAL(dim, N);
    size_t bad = 0;
    for (size_t i = 0; i < N; i++)
        if (memcmp(&got[i], &v[i], 4) != 0 && bad++ < 5)
            fprintf(stderr, "\n  %.9g came back as %.9g", v[i], got[i]);
    CU_ASSERT_EQUAL(bad, 0);
    free(v);
    df_buf_free(&json);
    df_arena_free(a);
}

/* Closes the embedding list in `json`, decodes it and checks every value
 * against strtof of its text; frees the texts and the buffer. */
static void expect_embedding_as_strtof(df_buf *json, char **texts, size_t n)
{
    df_buf_append_str(json, "]}");
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    df_doc *d = df_json_decode_doc(a, json->data, json->len, NULL, &err);
    if (!d) fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    size_t dim = 0;
    float *got = df_doc_embedding_f32(d, &dim);
    CU_ASSERT_EQUAL_FATAL(dim, n);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        float want = strtof(texts[i], NULL);
        if (memcmp(&want, &got[i], 4) != 0 && bad++ < 5)
            fprintf(stderr, "\n  %s: strtof %.9g, decoded %.9g", texts[i], want, got[i]);
        free(texts[i]);
    }
    CU_ASSERT_EQUAL(bad, 0);
    free(texts);
    df_buf_free(json);
    df_arena_free(a);
}

/* Appends a number to the list and remembers its text. */
static void add_number(df_buf *json, char **texts, size_t *n, const char *text)
{
    df_buf_printf(json, "%s%s", *n ? "," : "", text);
    texts[(*n)++] = strdup(text);
}

static void test_json_decoded_float32_matches_strtof_on_hard_cases(void)
{
    enum { ROUNDS = 4000, PER_ROUND = 6 };
    char **texts = malloc(ROUNDS * PER_ROUND * sizeof *texts);
    size_t n = 0;
    df_buf json = DF_BUF_INIT;
    df_buf_append_str(&json, "{\"embedding\":[");
    for (int r = 0; r < ROUNDS; r++) {
        uint32_t bits = (uint32_t)rng() & 0x7FFFFFFEu; /* positive, below +inf */
        float f;
        memcpy(&f, &bits, 4);
        if (!isfinite(f)) continue;
        uint32_t up = bits + 1;
        float g;
        memcpy(&g, &up, 4);
        if (!isfinite(g)) continue;
        char buf[200];
        /* the exact midpoint between f and its upper neighbour (a tie) and
         * one unit above and below it in the last printed digit */
        double mid = ((double)f + (double)g) / 2;
        snprintf(buf, sizeof buf, "%.120e", mid); /* exact: a midpoint has <= 113 digits */
        char *e = strchr(buf, 'e');
        add_number(&json, texts, &n, buf);
        for (int delta = -1; delta <= 1; delta += 2) {
            char alt[200];
            snprintf(alt, sizeof alt, "%s", buf);
            char *last = alt + (e - buf) - 1;
            while (*last == (delta > 0 ? '9' : '0'))
                *last-- = delta > 0 ? '0' : '9';
            if (*last != '.') *last = (char)(*last + delta);
            if (*last != '.') add_number(&json, texts, &n, alt);
        }
        /* what Python writes for a float32 value, and a short random decimal */
        snprintf(buf, sizeof buf, "%.17g", (double)f);
        add_number(&json, texts, &n, buf);
        snprintf(buf, sizeof buf, "%.16g", (double)f);
        add_number(&json, texts, &n, buf);
        snprintf(buf, sizeof buf, "%llue%d", (unsigned long long)(rng() % 1000000000ull),
                 (int)(rng() % 85) - 55);
        if (isfinite(strtof(buf, NULL))) add_number(&json, texts, &n, buf);
    }
    expect_embedding_as_strtof(&json, texts, n);
}

/* Float midpoints in the decoder's exact-double fast path (up to 16 digits,
 * exponents within 22): exact ones from 2^17 to 2^43 (8388608.5,
 * 16777217), which must round to even, and midpoints cut to 16 or 15
 * digits, which the double division can round onto the midpoint itself:
 * the fast path must hand exactly those to strtof. */
static void test_json_decoded_float32_ties_in_the_fast_path_round_to_even(void)
{
    enum { ROUNDS = 20000, PER_ROUND = 5 };
    char **texts = malloc(ROUNDS * PER_ROUND * sizeof *texts);
    size_t n = 0;
    df_buf json = DF_BUF_INIT;
    df_buf_append_str(&json, "{\"embedding\":[");
    for (int r = 0; r < ROUNDS; r++) {
        int exact = r % 2 == 0;
        uint32_t exp =
            exact ? 127 + 17 + (uint32_t)(rng() % 27) : 127 - 20 + (uint32_t)(rng() % 70);
        uint32_t bits = exp << 23 | (uint32_t)(rng() & 0x7fffff);
        float f, g;
        memcpy(&f, &bits, 4);
        bits++;
        memcpy(&g, &bits, 4);
        double mid = ((double)f + (double)g) / 2;
        char buf[64];
        if (!exact) {
            snprintf(buf, sizeof buf, "%.15e", mid);
            add_number(&json, texts, &n, buf);
            snprintf(buf, sizeof buf, "%.14e", mid);
            add_number(&json, texts, &n, buf);
            continue;
        }
        snprintf(buf, sizeof buf, "%.8f", mid); /* exact */
        char *end = buf + strlen(buf) - 1;
        while (*end == '0')
            *end-- = '\0';
        if (*end == '.') *end = '\0';
        add_number(&json, texts, &n, buf);
        /* and one unit above and below in its last digit */
        size_t len = strlen(buf);
        if (buf[len - 1] == '0' || buf[len - 1] == '9') continue;
        for (int delta = -1; delta <= 1; delta += 2) {
            char alt[64];
            memcpy(alt, buf, len + 1);
            alt[len - 1] = (char)(alt[len - 1] + delta);
            add_number(&json, texts, &n, alt);
        }
    }
    expect_embedding_as_strtof(&json, texts, n);
}

/* Significant digits of a number token. */
/* Fractions of every length with runs of leading zeros (the decoder reads
 * fraction digits eight at a time while they fit): float32 as strtof and
 * doubles as strtod read them. */
static void test_json_long_and_zero_led_fractions_decode_exactly(void)
{
    df_arena *a = df_arena_new(0);
    size_t bad = 0;
    for (int i = 0; i < 20000; i++) {
        char text[96];
        int len = 0, zeros = (int)(rng() % 14), digits = 1 + (int)(rng() % 30);
        if (rng() & 1) text[len++] = '-';
        len += snprintf(text + len, 24, "%u.", (unsigned)(rng() % 3 ? 0 : rng() % 100000));
        for (int k = 0; k < zeros; k++)
            text[len++] = '0';
        for (int k = 0; k < digits; k++)
            text[len++] = (char)('0' + (rng() % 4 ? rng() % 10 : 0));
        if (rng() % 3 == 0) len += snprintf(text + len, 8, "e%d", (int)(rng() % 40) - 20);
        text[len] = '\0';

        df_error err = DF_ERROR_INIT;
        df_value *v = df_json_decode_value(a, text, (size_t)len, NULL, &err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(v);
        double want_d = strtod(text, NULL), got_d = df_value_number(v);
        char doc[160];
        snprintf(doc, sizeof doc, "{\"embedding\":[%s]}", text);
        df_doc *d = decode_doc(a, doc, &err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(d);
        size_t dim = 0;
        float want_f = strtof(text, NULL), *got_f = df_doc_embedding_f32(d, &dim);
        if ((memcmp(&want_d, &got_d, 8) || memcmp(&want_f, got_f, 4)) && bad++ < 5)
            fprintf(stderr, "\n  %s: strtod %.17g got %.17g, strtof %.9g got %.9g", text, want_d,
                    got_d, want_f, *got_f);
    }
    CU_ASSERT_EQUAL(bad, 0);
    df_arena_free(a);
}

static int significant_digits(const char *s, size_t n)
{
    int digits = 0, started = 0, zeros = 0;
    for (size_t i = 0; i < n && s[i] != 'e'; i++) {
        if (s[i] < '0' || s[i] > '9' || (s[i] == '0' && !started)) continue;
        started = 1;
        if (s[i] == '0')
            zeros++;
        else
            digits += zeros + 1, zeros = 0;
    }
    return digits ? digits : 1;
}

static void test_json_float32_is_written_with_the_fewest_digits(void)
{
    df_arena *a = df_arena_new(0);
    df_buf json = DF_BUF_INIT;
    for (int k = 0; k < 3000; k++) {
        uint32_t bits = (uint32_t)rng();
        float f;
        memcpy(&f, &bits, 4);
        if (!isfinite(f)) continue;
        df_doc *d = df_doc_new_empty(a);
        df_doc_set_num(d, DF_FIELD_WEIGHT, f);
        df_buf_reset(&json);
        df_json_encode_doc(&json, d);
        const char *tok = strstr(json.data, "\"weight\":");
        if (f == 0) {
            CU_ASSERT_PTR_NULL(tok);
            continue;
        }
        CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
        tok += 9;
        int mine = significant_digits(tok, strcspn(tok, ",}"));
        int fewest = 9; /* printf's %.Ng is correctly rounded: the first N that reads back */
        for (int p = 1; p <= 9; p++) {
            char buf[64];
            snprintf(buf, sizeof buf, "%.*g", p, f);
            if (strtof(buf, NULL) == f) {
                fewest = p;
                break;
            }
        }
        if (mine > fewest) fprintf(stderr, "\n  %.9g written as %.20s", f, tok);
        CU_ASSERT(mine <= fewest);
    }
    df_buf_free(&json);
    df_arena_free(a);
}

static void test_json_short_decimals_come_back_as_written(void)
{
    /* the shortest form of a float parsed from a short decimal is that decimal */
    const char *json = "[0.1,2.5,-3.75,1e-07,123456,0.3,1e+20,0.0001,-0,1e-45,3.4028235e+38]";
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    char doc[256];
    snprintf(doc, sizeof doc, "{\"id\":\"x\",\"embedding\":%s}", json);
    df_doc *d = decode_doc(a, doc, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    df_buf out = DF_BUF_INIT;
    df_json_encode_doc(&out, d);
    CU_ASSERT(contains(out.data, json));
    df_buf_free(&out);
    df_arena_free(a);
}

static void test_json_integral_numbers_have_no_fraction(void)
{
    df_arena *a = df_arena_new(0);
    df_value *list = df_value_new_list(a);
    const double xs[] = {0, 1, -3, 42, 1e15, 9007199254740991.0, -2147483648.0, 1e300};
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++)
        df_value_put_number(list, NULL, xs[i]);
    df_buf json = DF_BUF_INIT;
    df_json_encode_value(&json, list);
    CU_ASSERT_STRING_EQUAL(json.data,
                           "[0,1,-3,42,1000000000000000,9007199254740991,-2147483648,1e+300]");
    CU_ASSERT_PTR_NULL(strstr(json.data, ".0"));
    df_buf_free(&json);
    df_arena_free(a);
}

static void test_json_double_values_roundtrip_exactly(void)
{
    enum { N = 20000 };
    df_arena *a = df_arena_new(0);
    df_value *list = df_value_new_list(a);
    double *xs = malloc(N * sizeof *xs);
    const double special[] = {0.1,
                              1.0 / 3,
                              -0.0,
                              5e-324,
                              2.2250738585072014e-308,
                              1.7976931348623157e308,
                              123456789012345678.0,
                              0.30000000000000004};
    size_t n = 0;
    for (; n < sizeof special / sizeof special[0]; n++)
        xs[n] = special[n];
    while (n < N) {
        uint64_t bits = rng();
        double x;
        memcpy(&x, &bits, 8);
        if (isfinite(x)) xs[n++] = x;
    }
    for (size_t i = 0; i < N; i++)
        df_value_put_number(list, NULL, xs[i]);
    df_buf json = DF_BUF_INIT;
    df_json_encode_value(&json, list);
    df_error err = DF_ERROR_INIT;
    df_value *back = df_json_decode_value(a, json.data, json.len, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(back);
    CU_ASSERT_EQUAL_FATAL(df_value_len(back), N);
    size_t bad = 0;
    for (size_t i = 0; i < N; i++) {
        double got = df_value_number(df_value_at(back, i));
        if (memcmp(&got, &xs[i], 8) != 0 && bad++ < 5)
            fprintf(stderr, "\n  %.17g came back as %.17g", xs[i], got);
    }
    CU_ASSERT_EQUAL(bad, 0);
    free(xs);
    df_buf_free(&json);
    df_arena_free(a);
}

static void test_json_non_finite_numbers_are_written_as_null(void)
{
    df_arena *a = df_arena_new(0);
    df_doc *d = df_doc_new(a);
    float e[3] = {NAN, INFINITY, -1.5f};
    df_doc_set_embedding_f32(d, e, 3);
    df_doc_set_num(d, DF_FIELD_WEIGHT, NAN);
    df_value_put_number(df_doc_tags(d), "inf", -INFINITY);
    df_buf json = DF_BUF_INIT;
    df_doc *back = round_trip_doc(a, d, &json);
    CU_ASSERT(contains(json.data, "\"embedding\":[null,null,-1.5]"));
    CU_ASSERT(contains(json.data, "\"weight\":null"));
    CU_ASSERT(contains(json.data, "\"inf\":null"));
    size_t dim = 0;
    float *got = back ? df_doc_embedding_f32(back, &dim) : NULL;
    CU_ASSERT(got && dim == 3 && isnan(got[0]) && isnan(got[1]) && got[2] == -1.5f);
    df_buf_free(&json);
    df_arena_free(a);
}

/* ---- values ---------------------------------------------------------------- */

static void test_json_value_roundtrip_every_type(void)
{
    const char *json = "{\"null\":null,\"t\":true,\"f\":false,\"n\":-12.5e-3,\"s\":\"x\\u00e9\","
                       "\"list\":[1,[2,[3,{}]],[]],\"map\":{\"a\":{\"b\":{\"c\":\"deep\"}}},"
                       "\"\":\"empty key\"}";
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    df_value *v = df_json_decode_value(a, json, strlen(json), NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL(df_value_type_of(v), DF_VALUE_MAP);
    CU_ASSERT_EQUAL(df_value_len(v), 8);
    CU_ASSERT_EQUAL(df_value_type_of(df_value_get(v, "null")), DF_VALUE_NULL);
    CU_ASSERT_PTR_NOT_NULL(df_value_get(v, "null"));
    CU_ASSERT(df_value_bool(df_value_get(v, "t")) == 1);
    CU_ASSERT_EQUAL(df_value_type_of(df_value_get(v, "f")), DF_VALUE_BOOL);
    CU_ASSERT_EQUAL(df_value_number(df_value_get(v, "n")), -12.5e-3);
    CU_ASSERT_STRING_EQUAL(df_value_string(df_value_get(v, "s"), NULL), "x\xc3\xa9");
    const df_value *deep =
        df_value_get(df_value_get(df_value_get(df_value_get(v, "map"), "a"), "b"), "c");
    CU_ASSERT_STRING_EQUAL(df_value_string(deep, NULL), "deep");
    CU_ASSERT_STRING_EQUAL(df_value_key_at(v, 0), "null"); /* insertion order */
    df_buf out = DF_BUF_INIT;
    df_json_encode_value(&out, v);
    df_value *back = df_json_decode_value(a, out.data, out.len, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(back);
    CU_ASSERT(df_value_equal(v, back));
    /* encoding is a fixed point after one round */
    df_buf again = DF_BUF_INIT;
    df_json_encode_value(&again, back);
    CU_ASSERT_STRING_EQUAL(out.data, again.data);
    df_buf_free(&out);
    df_buf_free(&again);
    df_arena_free(a);
}

static void test_json_value_scalars_at_top_level(void)
{
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    df_value *v = df_json_decode_value(a, " 17 ", 4, NULL, &err);
    CU_ASSERT(v && df_value_number(v) == 17);
    v = df_json_decode_value(a, "\"s\"", 3, NULL, &err);
    CU_ASSERT(v && strcmp(df_value_string(v, NULL), "s") == 0);
    v = df_json_decode_value(a, "null", 4, NULL, &err);
    CU_ASSERT(v && df_value_type_of(v) == DF_VALUE_NULL);
    df_arena_free(a);
}

static void test_json_repeated_keys_keep_first_position_and_last_value(void)
{
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    df_value *v = df_json_decode_value(a, "{\"a\":1,\"b\":2,\"a\":3}", 19, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL(df_value_len(v), 2);
    CU_ASSERT_STRING_EQUAL(df_value_key_at(v, 0), "a");
    CU_ASSERT_EQUAL(df_value_number(df_value_get(v, "a")), 3);
    /* a large object takes the hashed path */
    df_buf json = DF_BUF_INIT;
    df_buf_append_str(&json, "{");
    for (int i = 0; i < 1000; i++)
        df_buf_printf(&json, "%s\"k%d\":%d", i ? "," : "", i % 300, i);
    df_buf_append_str(&json, "}");
    v = df_json_decode_value(a, json.data, json.len, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL(df_value_len(v), 300);
    CU_ASSERT_STRING_EQUAL(df_value_key_at(v, 5), "k5");
    CU_ASSERT_EQUAL(df_value_number(df_value_get(v, "k5")), 905);
    df_buf_free(&json);
    df_arena_free(a);
}

static void test_json_encode_string_escapes_controls_and_replaces_invalid_utf8(void)
{
    df_buf b = DF_BUF_INIT;
    df_json_encode_string(&b, "a\"b\\c\x1f\x7f\r", 8);
    CU_ASSERT_STRING_EQUAL(b.data, "\"a\\\"b\\\\c\\u001f\x7f\\r\"");
    df_buf_reset(&b);
    /* a lone continuation byte, a truncated sequence, an overlong '/' */
    df_json_encode_string(&b, "x\x80y\xe2\x82z\xc0\xaf", 8);
    CU_ASSERT_STRING_EQUAL(b.data,
                           "\"x\xef\xbf\xbdy\xef\xbf\xbd\xef\xbf\xbdz\xef\xbf\xbd\xef\xbf\xbd\"");
    df_buf_reset(&b);
    df_json_encode_string(&b, "\xf0\x9f\x98\x80\xe2\x80\xa8", 7); /* valid: kept */
    CU_ASSERT_STRING_EQUAL(b.data, "\"\xf0\x9f\x98\x80\xe2\x80\xa8\"");
    df_buf_free(&b);
}

/* ---- arrays of documents ---------------------------------------------------- */

static void test_json_decode_docs_appends_and_keeps_those_before_an_error(void)
{
    df_arena *a = df_arena_new(0);
    df_docs *docs = df_docs_new(a);
    df_docs_append(docs, df_doc_new(a));
    df_error err = DF_ERROR_INIT;
    const char *json = "[{\"id\":\"a\"},{\"id\":\"b\",\"txt\":\"typo\"},{\"id\":\"c\"}]";
    CU_ASSERT_EQUAL(df_json_decode_docs(docs, json, strlen(json), "data", &err),
                    DF_E_INVALID_INPUT);
    CU_ASSERT_EQUAL(df_docs_len(docs), 2);
    CU_ASSERT_STRING_EQUAL(df_doc_str(df_docs_get(docs, 1), DF_FIELD_ID), "a");
    CU_ASSERT(contains(err.msg, "data[1]: unknown document field \"txt\""));
    CU_ASSERT(contains(err.msg, "did you mean \"text\""));
    df_arena_free(a);
}

static void test_json_docs_roundtrip_and_whitespace_is_ignored(void)
{
    const char *json = "\xEF\xBB\xBF [ {\r\n \"id\" : \"a\" ,\t\"embedding\" : [ 1 , 2 ] } ,\n"
                       "{ \"id\": \"b\", \"tags\": { \"k\" : [ true , null ] } } ]\n";
    df_arena *a = df_arena_new(0);
    df_docs *docs = df_docs_new(a);
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_EQUAL_FATAL(df_json_decode_docs(docs, json, strlen(json), NULL, &err), DF_OK);
    CU_ASSERT_EQUAL(df_docs_len(docs), 2);
    df_buf out = DF_BUF_INIT;
    df_json_encode_docs(&out, docs);
    CU_ASSERT_STRING_EQUAL(
        out.data,
        "[{\"id\":\"a\",\"embedding\":[1,2]},{\"id\":\"b\",\"tags\":{\"k\":[true,null]}}]");
    df_docs *back = df_docs_new(a);
    CU_ASSERT_EQUAL(df_json_decode_docs(back, out.data, out.len, NULL, &err), DF_OK);
    CU_ASSERT(df_docs_equal(docs, back));
    df_buf_free(&out);
    df_arena_free(a);
}

/* ---- errors ------------------------------------------------------------------ */

static void test_json_error_names_the_path_of_a_wrong_type(void)
{
    df_arena *a = df_arena_new(0);
    df_docs *docs = df_docs_new(a);
    df_error err = DF_ERROR_INIT;
    const char *json = "[{}, {}, {\"embedding\": [0, 1, 2, 3, 4, \"5\"]}]";
    CU_ASSERT_EQUAL(df_json_decode_docs(docs, json, strlen(json), "line 3: data", &err),
                    DF_E_INVALID_INPUT);
    CU_ASSERT_STRING_EQUAL(err.msg,
                           "line 3: data[2].embedding[5]: expected a number, got a string");
    CU_ASSERT_EQUAL(df_docs_len(docs), 2);
    df_arena_free(a);
    EXPECT_DOC_ERROR("{\"embedding\": [0, true, {}]}", "line 3",
                     "line 3: embedding[2]: expected a number, got an object", NULL);
    EXPECT_DOC_ERROR("{\"chunks\": [{\"matches\": [{}, {\"tags\": [1]}]}]}", "docs.jsonl:7",
                     "docs.jsonl:7: chunks[0].matches[1].tags: expected an object, got an array",
                     NULL);
    EXPECT_DOC_ERROR("{\"id\": 12}", "data[0]", "data[0].id: expected a string, got a number",
                     NULL);
    EXPECT_DOC_ERROR("{\"tags\": {\"a b\": {\"c\": [1, NaN]}}}", NULL,
                     "tags[\"a b\"].c[1]: expected a JSON value, got NaN", NULL);
    EXPECT_DOC_ERROR("[1]", "data[4]", "data[4]: expected a document object, got an array", NULL);
    EXPECT_DOC_ERROR("{\"weight\": \"heavy\"}", NULL, "weight: expected a number, got a string",
                     NULL);
    EXPECT_DOC_ERROR("{\"scores\": {\"cos\": \"high\"}}", NULL,
                     "scores.cos: expected a score object or a number, got a string", NULL);
    EXPECT_DOC_ERROR("{\"scores\": {\"cos\": {\"value\": 1, \"op\": \"x\"}}}", NULL,
                     "scores.cos.op:", "unknown field");
}

static void test_json_malformed_json_reports_the_byte_offset(void)
{
    EXPECT_DOC_ERROR("{\"id\": \"a\",}", NULL, "invalid JSON at byte 11 (line 1, column 12)",
                     "expected a string key");
    EXPECT_DOC_ERROR("{\"id\": \"a\"\n \"text\": \"b\"}", "data[0]",
                     "data[0].id: invalid JSON at byte 12 (line 2, column 2)",
                     "expected ',' or '}'");
    EXPECT_DOC_ERROR("{\"text\": \"unterminated}", NULL, "invalid JSON at byte 9",
                     "unterminated string");
    EXPECT_DOC_ERROR("{\"id\": \"a\"} x", NULL, "byte 12", "unexpected data after the JSON value");
    EXPECT_DOC_ERROR("{\"embedding\": [1, 2,]}", NULL, "embedding[2]: invalid JSON at byte 20",
                     "unexpected ']'");
    EXPECT_DOC_ERROR("{\"embedding\": [01]}", NULL, "byte 16", "leading zeros");
    EXPECT_DOC_ERROR("{\"embedding\": [1.]}", NULL, "byte 17", "digit after '.'");
    EXPECT_DOC_ERROR("{\"embedding\": [.5]}", NULL, "byte 15", "unexpected '.'");
    EXPECT_DOC_ERROR("{\"embedding\": [1e]}", NULL, "byte 17", "exponent");
    EXPECT_DOC_ERROR("{\"embedding\": [-]}", NULL, "byte 16", "expected a digit");
    EXPECT_DOC_ERROR("{\"tags\": {\"a\": tru}}", NULL, "byte 15", "invalid literal");
    EXPECT_DOC_ERROR("{\"text\": \"a\tb\"}", NULL, "byte 11", "control character U+0009");
    EXPECT_DOC_ERROR("{\"text\": \"a\\qb\"}", NULL, "byte 11", "invalid escape");
    EXPECT_DOC_ERROR("{\"text\": \"\\u12G4\"}", NULL, "byte 10", "4 hex digits");
    EXPECT_DOC_ERROR("{\"text\": \"\\ud83d x\"}", NULL, "byte 10", "without a low surrogate");
    EXPECT_DOC_ERROR("{\"text\": \"\\ude00\"}", NULL, "byte 10", "lone low surrogate");
    EXPECT_DOC_ERROR("{\"text\": \"\xc3\x28\"}", NULL, "byte 10", "invalid UTF-8");
    EXPECT_DOC_ERROR("{\"text\": \"\xed\xa0\x80\"}", NULL, "byte 10", "invalid UTF-8");
    EXPECT_DOC_ERROR("", "data[0]", "data[0]: expected a document object, got the end of the input",
                     NULL);
    expect_doc_error("{\"text\": \"a\0\"}", 14, NULL, "control character U+0000", NULL);
    expect_value_error("{\"a\" 1}", "byte 5", "expected ':'");
    expect_value_error("[1 2]", "[0]: invalid JSON at byte 3", "expected ',' or ']'");
    expect_value_error("{\"a\\u0000b\": 1}", "must not contain a NUL", NULL);
}

static void test_json_every_truncation_of_a_document_fails_cleanly(void)
{
    df_arena *a = df_arena_new(0);
    df_doc *d = full_doc(a, DF_CONTENT_TEXT);
    df_buf json = DF_BUF_INIT;
    df_json_encode_doc(&json, d);
    int failures = 0;
    for (size_t n = 0; n < json.len; n++) {
        df_error err = DF_ERROR_INIT;
        char *copy = malloc(n ? n : 1); /* exact size: ASan catches any overread */
        memcpy(copy, json.data, n);
        failures +=
            df_json_decode_doc(a, copy, n, NULL, &err) == NULL && err.code == DF_E_INVALID_INPUT;
        free(copy);
    }
    CU_ASSERT_EQUAL(failures, (int)json.len);
    df_buf_free(&json);
    df_arena_free(a);
}

static void test_json_invalid_base64_is_reported(void)
{
    EXPECT_DOC_ERROR("{\"blob\": \"aGVsbG8*\"}", "data[1]",
                     "data[1].blob: invalid base64: unexpected '*' at position 7", NULL);
    EXPECT_DOC_ERROR("{\"blob\": \"aGVsb\"}", NULL, "blob: invalid base64", "length");
    EXPECT_DOC_ERROR("{\"blob\": \"aG=sbG8=\"}", NULL, "blob: invalid base64", "'='");
    EXPECT_DOC_ERROR("{\"blob\": 5}", NULL, "blob: expected a base64 string, got a number", NULL);
}

static void test_json_ragged_and_malformed_tensors_are_rejected(void)
{
    EXPECT_DOC_ERROR("{\"tensor\": [[1, 2], [3]]}", NULL,
                     "tensor[1]: ragged array: 1 elements, but the first array at this depth has 2",
                     NULL);
    EXPECT_DOC_ERROR(
        "{\"tensor\": [[1, 2], 3]}", NULL,
        "tensor[1]: ragged array: expected an array like the elements before, got a number", NULL);
    EXPECT_DOC_ERROR("{\"tensor\": [1, [2]]}", NULL, "tensor[1]: ragged array: expected a number",
                     NULL);
    EXPECT_DOC_ERROR("{\"tensor\": [[], [1]]}", NULL, "tensor[1]: ragged array", NULL);
    EXPECT_DOC_ERROR("{\"embedding\": \"0.1 0.2\"}", NULL,
                     "embedding: expected an array of numbers, got a string", NULL);
    EXPECT_DOC_ERROR("{\"embedding\": {\"dense\": {\"buffer\": \"AAAA\", \"shape\": [2], "
                     "\"dtype\": \"<f4\"}}}",
                     NULL, "embedding.dense: buffer holds 3 bytes, but shape [2] of <f4 needs 8",
                     NULL);
    EXPECT_DOC_ERROR(
        "{\"embedding\": {\"dense\": {\"buffer\": \"\", \"shape\": [], \"dtype\": \"<U4\"}}}", NULL,
        "embedding.dense: unsupported dtype \"<U4\"", NULL);
    EXPECT_DOC_ERROR("{\"embedding\": {\"sparse\": {}}}", NULL,
                     "embedding.sparse: sparse arrays are not supported", NULL);
    EXPECT_DOC_ERROR("{\"embedding\": {\"cls_name\": \"numpy\"}}", NULL,
                     "embedding: array object without \"dense\"", NULL);
    char deep[200] = "{\"tensor\": ";
    for (int i = 0; i < 33; i++)
        strcat(deep, "[");
    strcat(deep, "1");
    for (int i = 0; i < 33; i++)
        strcat(deep, "]");
    strcat(deep, "}");
    EXPECT_DOC_ERROR(deep, NULL, "more than 32 dimensions", NULL);
}

static void test_json_non_finite_and_out_of_range_numbers_are_rejected(void)
{
    EXPECT_DOC_ERROR("{\"embedding\": [1, NaN]}", NULL,
                     "embedding[1]: expected a number, got NaN, which JSON does not allow", NULL);
    EXPECT_DOC_ERROR("{\"embedding\": [Infinity]}", NULL,
                     "embedding[0]: expected a number, got Infinity", NULL);
    EXPECT_DOC_ERROR("{\"weight\": -Infinity}", NULL, "weight: expected a number, got -Infinity",
                     NULL);
    EXPECT_DOC_ERROR("{\"embedding\": [1e39]}", NULL,
                     "embedding[0]: number 1e39 is out of range for float32", NULL);
    EXPECT_DOC_ERROR("{\"tags\": {\"x\": -1e400}}", NULL,
                     "tags.x: number -1e400 is out of range for a double", NULL);
    EXPECT_DOC_ERROR("{\"granularity\": -1}", NULL,
                     "granularity: expected an integer in [0, 4294967295], got -1", NULL);
    EXPECT_DOC_ERROR("{\"adjacency\": 1.5}", NULL, "adjacency: expected an integer", NULL);
    EXPECT_DOC_ERROR("{\"adjacency\": 4294967296}", NULL, "adjacency: expected an integer", NULL);
    char longnum[1200] = "{\"weight\": 1";
    for (int i = 0; i < 1100; i++)
        strcat(longnum, "0");
    strcat(longnum, "}");
    EXPECT_DOC_ERROR(longnum, NULL, "weight: invalid JSON at byte 11", "longer than 1024");
}

static void test_json_document_rules_are_enforced(void)
{
    EXPECT_DOC_ERROR(
        "{\"text\": \"a\", \"blob\": \"AA==\"}", "data[0]",
        "data[0].blob: a document holds only one of text, blob and tensor, and this one "
        "already has text",
        NULL);
    EXPECT_DOC_ERROR("{\"tensor\": [1], \"text\": \"a\"}", NULL, "text: a document holds only one",
                     "has tensor");
    EXPECT_DOC_ERROR("{\"id\": \"a\", \"id\": \"b\"}", NULL, "id: field given twice", NULL);
    EXPECT_DOC_ERROR("{\"mime_type\": \"a\", \"mimeType\": \"b\"}", NULL,
                     "mimeType: field given twice", NULL);
    EXPECT_DOC_ERROR("{\"id\": \"a\", \"embeding\": [1]}", "data[3]",
                     "data[3]: unknown document field \"embeding\" (did you mean \"embedding\"?)",
                     NULL);
    EXPECT_DOC_ERROR("{\"zzzzzzzz\": 1}", NULL, "unknown document field \"zzzzzzzz\"", NULL);
    EXPECT_DOC_ERROR("{\"id\": \"a\\u0000b\"}", NULL, "id: id must not contain a NUL character",
                     NULL);
}

static void test_json_deep_nesting_is_an_error_not_a_crash(void)
{
    size_t n = 100000;
    char *json = malloc(n * 12 + 16); /* room for n times {"chunks":[ */
    size_t len = (size_t)sprintf(json, "{\"tags\":{\"a\":");
    for (size_t i = 0; i < n; i++)
        json[len++] = '[';
    for (size_t i = 0; i < n; i++)
        json[len++] = ']';
    json[len++] = '}';
    json[len++] = '}';
    expect_doc_error(json, len, NULL, "nested deeper than 256", NULL);
    len = 0;
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(json + len, "{\"chunks\":[");
    expect_doc_error(json, len, NULL, "nested deeper than 256", NULL);
    free(json);
}

static void test_json_decode_accepts_null_pointer_and_empty_input_without_crash(void)
{
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_PTR_NULL(df_json_decode_value(a, NULL, 0, NULL, &err));
    CU_ASSERT(contains(err.msg, "got the end of the input"));
    CU_ASSERT_PTR_NULL(df_json_decode_doc(a, "{", 1, NULL, NULL)); /* err may be NULL */
    df_arena_free(a);
}

static void test_json_random_mutations_never_crash(void)
{
    df_arena *a = df_arena_new(0);
    df_doc *d = full_doc(a, DF_CONTENT_TENSOR);
    df_buf json = DF_BUF_INIT, out = DF_BUF_INIT;
    df_json_encode_doc(&json, d);
    const char alphabet[] = "{}[]\",:\\0123456789eE.-+ntfu\xc3\x80\x01 ";
    char *copy = malloc(json.len);
    int decoded = 0;
    for (int round = 0; round < 3000; round++) {
        memcpy(copy, json.data, json.len);
        int edits = 1 + (int)(rng() % 4);
        for (int k = 0; k < edits; k++)
            copy[rng() % json.len] = alphabet[rng() % (sizeof alphabet - 1)];
        df_arena *ra = df_arena_new(0);
        df_error err = DF_ERROR_INIT;
        df_doc *back = df_json_decode_doc(ra, copy, json.len, NULL, &err);
        if (back) { /* what decodes re-encodes to JSON that decodes */
            decoded++;
            df_buf_reset(&out);
            df_json_encode_doc(&out, back);
            CU_ASSERT_PTR_NOT_NULL(df_json_decode_doc(ra, out.data, out.len, NULL, &err));
        } else {
            CU_ASSERT(err.code == DF_E_INVALID_INPUT && err.msg[0]);
        }
        df_arena_free(ra);
    }
    CU_ASSERT(decoded > 0);
    free(copy);
    df_buf_free(&json);
    df_buf_free(&out);
    df_arena_free(a);
}

/* ---- registration ------------------------------------------------------------ */

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
        TEST(test_json_doc_roundtrip_every_field),
        TEST(test_json_doc_encodes_only_non_empty_fields),
        TEST(test_json_nested_chunks_and_matches_three_levels_deep),
        TEST(test_json_empty_arrays_and_objects_mean_unset),
        TEST(test_json_empty_embedding_keeps_its_shape),
        TEST(test_json_documents_without_id_get_distinct_random_ids),
        TEST(test_json_null_fields_are_unset),
        TEST(test_json_camel_case_aliases_and_bare_score_numbers_decode),
        TEST(test_json_repeated_score_name_keeps_the_last),
        TEST(test_json_dense_ndarray_form_decodes_with_dtype_and_cls_name),
        TEST(test_json_numeric_dtypes_encode_as_nested_lists),
        TEST(test_json_unicode_text_roundtrip),
        TEST(test_json_text_with_nul_character_roundtrips),
        TEST(test_json_one_megabyte_blob_roundtrip),
        TEST(test_json_blob_accepts_url_safe_and_unpadded_base64),
        TEST(test_json_4096_dim_embedding_roundtrip),
        TEST(test_json_float32_roundtrip_is_exact_on_random_bit_patterns),
        TEST(test_json_decoded_float32_matches_strtof_on_hard_cases),
        TEST(test_json_decoded_float32_ties_in_the_fast_path_round_to_even),
        TEST(test_json_long_and_zero_led_fractions_decode_exactly),
        TEST(test_json_float32_is_written_with_the_fewest_digits),
        TEST(test_json_short_decimals_come_back_as_written),
        TEST(test_json_integral_numbers_have_no_fraction),
        TEST(test_json_double_values_roundtrip_exactly),
        TEST(test_json_non_finite_numbers_are_written_as_null),
        TEST(test_json_value_roundtrip_every_type),
        TEST(test_json_value_scalars_at_top_level),
        TEST(test_json_repeated_keys_keep_first_position_and_last_value),
        TEST(test_json_encode_string_escapes_controls_and_replaces_invalid_utf8),
        TEST(test_json_decode_docs_appends_and_keeps_those_before_an_error),
        TEST(test_json_docs_roundtrip_and_whitespace_is_ignored),
        TEST(test_json_error_names_the_path_of_a_wrong_type),
        TEST(test_json_malformed_json_reports_the_byte_offset),
        TEST(test_json_every_truncation_of_a_document_fails_cleanly),
        TEST(test_json_invalid_base64_is_reported),
        TEST(test_json_ragged_and_malformed_tensors_are_rejected),
        TEST(test_json_non_finite_and_out_of_range_numbers_are_rejected),
        TEST(test_json_document_rules_are_enforced),
        TEST(test_json_deep_nesting_is_an_error_not_a_crash),
        TEST(test_json_decode_accepts_null_pointer_and_empty_input_without_crash),
        TEST(test_json_random_mutations_never_crash),
    };
    CU_pSuite suite = CU_add_suite("json_codec", NULL, NULL);
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        CU_add_test(suite, tests[i].name, tests[i].fn);
}
