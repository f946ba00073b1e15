/*
 * test_protobuf_codec.c -- the DocArray v1 protobuf codec: round trips of
 * every field, nesting, sizes, refusals with their error paths, hostile
 * input, and bytes written by the reference implementation
 * (tests/data/interop/docarray_v1.bin, described by its .expected.json).
 */
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docarray.pb-c.h"
#include "docflow/document.h"
#include "docflow/protobuf_codec.h"
#include "docflow/value.h"
#include "document_internal.h"
#include "google/protobuf/struct.pb-c.h"

#define FIXTURE_BIN  DF_TEST_DATA_DIR "/interop/docarray_v1.bin"
#define FIXTURE_JSON DF_TEST_DATA_DIR "/interop/docarray_v1.expected.json"

static const char unicode_text[] = "Hello, wörld! Ünïcödé ✓ 你好 🚀";

/* ---- helpers -------------------------------------------------------------- */

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc(n > 0 ? (size_t)n : 1);
    *len = fread(data, 1, (size_t)n, f);
    fclose(f);
    return data;
}

/* Encodes `docs`, decodes the bytes into a new array in `a`. */
static df_docs *round_trip(df_arena *a, const df_docs *docs)
{
    df_buf b = DF_BUF_INIT;
    df_pb_encode_docs(&b, docs);
    df_docs *back = df_docs_new(a);
    df_error err = DF_ERROR_INIT;
    int rc = df_pb_decode_docs(back, (const uint8_t *)b.data, b.len, &err);
    if (rc) fprintf(stderr, "\nround trip decode failed: %s\n", err.msg);
    CU_ASSERT_EQUAL(rc, DF_OK);
    df_buf_free(&b);
    return back;
}

static void set_strings(df_doc *d, const char *id, const char *parent)
{
    df_doc_set_str(d, DF_FIELD_ID, id);
    df_doc_set_str(d, DF_FIELD_PARENT_ID, parent);
    df_doc_set_str(d, DF_FIELD_URI, "https://example.com/doc.txt");
    df_doc_set_str(d, DF_FIELD_MODALITY, "text");
    df_doc_set_str(d, DF_FIELD_MIME_TYPE, "text/plain");
}

static df_value *tags_of_every_kind(df_arena *a)
{
    df_value *m = df_value_new_map(a);
    df_value_put_null(m, "null");
    df_value_put_bool(m, "true", 1);
    df_value_put_bool(m, "false", 0);
    df_value_put_number(m, "number", -12.5);
    df_value_put_string(m, "string", "ünï ✓");
    df_value *list = df_value_new_list(a);
    df_value_put_number(list, NULL, 1);
    df_value_put_string(list, NULL, "two");
    df_value_put_null(list, NULL);
    df_value *inner = df_value_new_map(a);
    df_value_put_bool(inner, "deep", 1);
    df_value *inner_list = df_value_new_list(a);
    df_value_append_owned(inner_list, df_value_new_list(a));
    df_value_set_owned(inner, "lists", inner_list);
    df_value_append_owned(list, inner);
    df_value_set_owned(m, "list", list);
    df_value_set_owned(m, "empty_map", df_value_new_map(a));
    df_value_set_owned(m, "empty_list", df_value_new_list(a));
    return m;
}

/* A document with every field set (text content; the tensor goes to a
 * chunk, since text and tensor share a oneof). */
static df_doc *full_doc(df_arena *a, const char *id)
{
    df_doc *d = df_doc_new(a);
    set_strings(d, id, "parent-0");
    df_doc_set_text(d, unicode_text, (size_t)-1);
    df_doc_set_num(d, DF_FIELD_GRANULARITY, 3);
    df_doc_set_num(d, DF_FIELD_ADJACENCY, 4);
    df_doc_set_num(d, DF_FIELD_WEIGHT, 0.75);
    df_doc_set_num(d, DF_FIELD_OFFSET, 12);
    const float location[] = {1.5f, -2.0f, 3.25f};
    df_doc_set_location(d, location, 3);
    const float emb[] = {0.5f, -0.25f, 8.0f, 1e-3f};
    df_doc_set_embedding_f32(d, emb, 4);
    df_doc_set_ndarray_cls(d, 1, "numpy");
    df_value *params = df_value_new_map(a);
    df_value_put_string(params, "model", "m1");
    df_doc_set_ndarray_params(d, 1, params);
    df_value_merge(df_doc_tags(d), tags_of_every_kind(a));
    df_value_put_string(df_doc_metadata(d), "source", "unit");
    df_score s = {0.875f, "cosine", "cosine similarity", "q-1"};
    df_doc_set_score(d, DF_SCORES, "cosine", &s);
    df_score bare = {2.0f, NULL, NULL, NULL};
    df_doc_set_score(d, DF_SCORES, "l2", &bare);
    df_score e = {1.0f, "precision", "p@1", "q-1"};
    df_doc_set_score(d, DF_EVALUATIONS, "precision@1", &e);
    return d;
}

static df_doc *tensor_doc(df_arena *a, const char *id)
{
    df_doc *d = df_doc_new(a);
    df_doc_set_str(d, DF_FIELD_ID, id);
    const double values[] = {1, 2, 3, 4, 5, 6.5};
    const uint32_t shape[] = {2, 3};
    CU_ASSERT_EQUAL(df_doc_set_tensor(d, values, sizeof values, shape, 2, "<f8"), DF_OK);
    df_doc_set_ndarray_cls(d, 0, "numpy");
    return d;
}

/* Hand-made wire bytes built from the inside out: the innermost payload
 * first, then each enclosing length-delimited field around it. */
typedef struct rev_bytes {
    uint8_t *buf;
    size_t start, cap;
} rev_bytes;

static void rev_init(rev_bytes *r, size_t cap)
{
    r->buf = malloc(cap);
    r->cap = r->start = cap;
}

static void rev_put(rev_bytes *r, const void *p, size_t n)
{
    r->start -= n;
    memcpy(r->buf + r->start, p, n);
}

static void rev_wrap(rev_bytes *r, uint8_t tag)
{
    uint8_t v[10];
    size_t len = r->cap - r->start, n = 0;
    do {
        v[n++] = (uint8_t)((len & 0x7f) | (len > 0x7f ? 0x80 : 0));
        len >>= 7;
    } while (len);
    rev_put(r, v, n);
    rev_put(r, &tag, 1);
}

static const uint8_t *rev_data(const rev_bytes *r, size_t *len)
{
    *len = r->cap - r->start;
    return r->buf + r->start;
}

/* Packs a protobuf-c DocumentArrayProto into a malloc'd buffer. */
static uint8_t *pack_array(const Docarray__DocumentArrayProto *m, size_t *len)
{
    *len = docarray__document_array_proto__get_packed_size(m);
    uint8_t *out = malloc(*len ? *len : 1);
    docarray__document_array_proto__pack(m, out);
    return out;
}

/* Decodes one hand-built DocumentProto as docs[index] of an array of
 * `count` empty documents; returns the decoder's rc and fills err. */
static int decode_with_doc_at(Docarray__DocumentProto *doc, size_t index, size_t count,
                              df_error *err)
{
    Docarray__DocumentProto empty[8], *ptrs[8];
    for (size_t i = 0; i < count; i++) {
        docarray__document_proto__init(&empty[i]);
        ptrs[i] = i == index ? doc : &empty[i];
    }
    Docarray__DocumentArrayProto arr = DOCARRAY__DOCUMENT_ARRAY_PROTO__INIT;
    arr.n_docs = count;
    arr.docs = ptrs;
    size_t len;
    uint8_t *bytes = pack_array(&arr, &len);
    df_arena *a = df_arena_new(0);
    df_docs *docs = df_docs_new(a);
    int rc = df_pb_decode_docs(docs, bytes, len, err);
    if (rc) CU_ASSERT_EQUAL(df_docs_len(docs), 0);
    df_arena_free(a);
    free(bytes);
    return rc;
}

/* ---- comparing decoded documents with the fixture's JSON description ------- */

static int json_mismatches;

#define PATH_LEN 512

/* Paths are only printed; a truncated one is still useful. */
static void sub_path(char *sub, const char *path, const char *field)
{
    if (snprintf(sub, PATH_LEN, "%s.%s", path, field) >= PATH_LEN) sub[PATH_LEN - 1] = '\0';
}

static void sub_index(char *sub, const char *path, size_t i)
{
    if (snprintf(sub, PATH_LEN, "%s[%zu]", path, i) >= PATH_LEN) sub[PATH_LEN - 1] = '\0';
}

static void mismatch(const char *path, const char *fmt, ...) DF_PRINTF(2, 3);
static void mismatch(const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "\n  mismatch at %s: ", path);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    json_mismatches++;
}

static void expect_value(const df_value *v, const json_t *j, const char *path)
{
    char sub[PATH_LEN];
    switch (json_typeof(j)) {
    case JSON_NULL:
        if (df_value_type_of(v) != DF_VALUE_NULL) mismatch(path, "want null");
        return;
    case JSON_TRUE:
    case JSON_FALSE:
        if (df_value_type_of(v) != DF_VALUE_BOOL || df_value_bool(v) != json_is_true(j))
            mismatch(path, "want bool %d", json_is_true(j));
        return;
    case JSON_INTEGER:
    case JSON_REAL:
        if (df_value_type_of(v) != DF_VALUE_NUMBER || df_value_number(v) != json_number_value(j))
            mismatch(path, "want number %g", json_number_value(j));
        return;
    case JSON_STRING:
        if (df_value_type_of(v) != DF_VALUE_STRING ||
            strcmp(df_value_string(v, NULL), json_string_value(j)) != 0)
            mismatch(path, "want string \"%s\"", json_string_value(j));
        return;
    case JSON_ARRAY:
        if (df_value_type_of(v) != DF_VALUE_LIST || df_value_len(v) != json_array_size(j)) {
            mismatch(path, "want a list of %zu", json_array_size(j));
            return;
        }
        for (size_t i = 0; i < json_array_size(j); i++) {
            sub_index(sub, path, i);
            expect_value(df_value_at(v, i), json_array_get(j, i), sub);
        }
        return;
    case JSON_OBJECT: {
        if (df_value_type_of(v) != DF_VALUE_MAP || df_value_len(v) != json_object_size(j)) {
            mismatch(path, "want a map of %zu", json_object_size(j));
            return;
        }
        const char *key;
        json_t *item;
        json_object_foreach((json_t *)j, key, item)
        {
            sub_path(sub, path, key);
            if (!df_value_get(v, key))
                mismatch(sub, "missing");
            else
                expect_value(df_value_get(v, key), item, sub);
        }
        return;
    }
    }
}

static double element_at(const df_ndarray *nd, size_t i)
{
    const uint8_t *p = nd->data;
    if (strcmp(nd->dtype, "<f4") == 0) {
        float f;
        memcpy(&f, p + 4 * i, 4);
        return f;
    }
    if (strcmp(nd->dtype, "<f8") == 0) {
        double x;
        memcpy(&x, p + 8 * i, 8);
        return x;
    }
    int64_t v; /* "<i8" */
    memcpy(&v, p + 8 * i, 8);
    return (double)v;
}

static void expect_ndarray(const df_ndarray *nd, const json_t *j, const char *path)
{
    char sub[PATH_LEN];
    if (!j) {
        if (nd->present) mismatch(path, "want unset");
        return;
    }
    if (!nd->present) {
        mismatch(path, "want set");
        return;
    }
    if (strcmp(nd->dtype, json_string_value(json_object_get(j, "dtype"))) != 0)
        mismatch(path, "dtype %s", nd->dtype);
    const json_t *shape = json_object_get(j, "shape"), *values = json_object_get(j, "values");
    if (nd->ndim != json_array_size(shape)) mismatch(path, "ndim %u", nd->ndim);
    for (size_t i = 0; i < json_array_size(shape) && i < nd->ndim; i++)
        if (nd->shape[i] != json_integer_value(json_array_get(shape, i)))
            mismatch(path, "shape[%zu] = %u", i, nd->shape[i]);
    size_t n = json_array_size(values);
    if (nd->nbytes != n * df_dtype_size(nd->dtype))
        mismatch(path, "nbytes %zu", nd->nbytes);
    else
        for (size_t i = 0; i < n; i++) {
            const json_t *v = json_array_get(values, i);
            if (json_is_integer(v) && strcmp(nd->dtype, "<i8") == 0) {
                int64_t got;
                memcpy(&got, (const uint8_t *)nd->data + 8 * i, 8);
                if (got != json_integer_value(v)) mismatch(path, "values[%zu]", i);
            } else if (element_at(nd, i) != json_number_value(v)) {
                mismatch(path, "values[%zu] = %g", i, element_at(nd, i));
            }
        }
    const json_t *cls = json_object_get(j, "cls_name");
    if (strcmp(nd->cls_name, cls ? json_string_value(cls) : "") != 0)
        mismatch(path, "cls_name \"%s\"", nd->cls_name);
    sub_path(sub, path, "parameters");
    const json_t *params = json_object_get(j, "parameters");
    if (params)
        expect_value(nd->params, params, sub);
    else if (nd->params)
        mismatch(sub, "want unset");
}

static void expect_str(const char *got, const json_t *j, const char *key, const char *path)
{
    const json_t *want = json_object_get(j, key);
    const char *w = want ? json_string_value(want) : NULL;
    if ((got == NULL) != (w == NULL) || (got && strcmp(got, w) != 0))
        mismatch(path, "%s = \"%s\", want \"%s\"", key, got ? got : "(unset)", w ? w : "(unset)");
}

static void expect_num(double got, const json_t *j, const char *key, const char *path)
{
    const json_t *want = json_object_get(j, key);
    if (got != (want ? json_number_value(want) : 0.0)) mismatch(path, "%s = %g", key, got);
}

static void expect_scores(const df_score_list *l, const json_t *j, const char *path)
{
    if (l->n != json_object_size(j)) {
        mismatch(path, "%zu scores, want %zu", l->n, json_object_size(j));
        return;
    }
    for (size_t i = 0; i < l->n; i++) {
        const df_named_score *s = &l->items[i];
        const json_t *w = json_object_get(j, s->name);
        char sub[PATH_LEN];
        sub_path(sub, path, s->name);
        if (!w) {
            mismatch(sub, "unexpected");
            continue;
        }
        expect_num(s->value, w, "value", sub);
        expect_str(*s->op_name ? s->op_name : NULL, w, "op_name", sub);
        expect_str(*s->description ? s->description : NULL, w, "description", sub);
        expect_str(*s->ref_id ? s->ref_id : NULL, w, "ref_id", sub);
    }
}

static void expect_docs(const df_docs *docs, const json_t *j, const char *path);

static const char *const doc_keys[] = {
    "id",     "parent_id", "uri",         "modality",    "mime_type", "text",    "blob_hex",
    "tensor", "embedding", "granularity", "adjacency",   "weight",    "offset",  "location",
    "tags",   "_metadata", "scores",      "evaluations", "chunks",    "matches", NULL};

static void expect_content(const df_doc *d, const json_t *j, const char *path)
{
    char sub[PATH_LEN];
    const json_t *text = json_object_get(j, "text"), *blob = json_object_get(j, "blob_hex");
    df_content_kind want = text                           ? DF_CONTENT_TEXT
                           : blob                         ? DF_CONTENT_BLOB
                           : json_object_get(j, "tensor") ? DF_CONTENT_TENSOR
                                                          : DF_CONTENT_NONE;
    if (d->content != want) mismatch(path, "content kind %d, want %d", d->content, want);
    if (text && d->content == DF_CONTENT_TEXT &&
        (d->text_len != strlen(json_string_value(text)) ||
         memcmp(d->text, json_string_value(text), d->text_len) != 0))
        mismatch(path, "text \"%s\"", d->text);
    if (blob && d->content == DF_CONTENT_BLOB) {
        const char *hex = json_string_value(blob);
        if (d->blob_len * 2 != strlen(hex)) mismatch(path, "blob of %zu bytes", d->blob_len);
        for (size_t i = 0; i < d->blob_len && i * 2 < strlen(hex); i++) {
            unsigned byte;
            sscanf(hex + 2 * i, "%2x", &byte);
            if (d->blob[i] != byte) mismatch(path, "blob[%zu] = %u", i, d->blob[i]);
        }
    }
    sub_path(sub, path, "tensor");
    expect_ndarray(d->content == DF_CONTENT_TENSOR ? &d->tensor : &(df_ndarray){0},
                   json_object_get(j, "tensor"), sub);
}

static void expect_doc(const df_doc *d, const json_t *j, const char *path)
{
    char sub[PATH_LEN];
    const char *key;
    json_t *item;
    json_object_foreach((json_t *)j, key, item)
    {
        int known = 0;
        for (size_t i = 0; doc_keys[i]; i++)
            known |= strcmp(doc_keys[i], key) == 0;
        if (!known) mismatch(path, "the test does not know field \"%s\"", key);
    }
    expect_str(d->id, j, "id", path);
    expect_str(d->parent_id, j, "parent_id", path);
    expect_str(d->uri, j, "uri", path);
    expect_str(d->modality, j, "modality", path);
    expect_str(d->mime_type, j, "mime_type", path);
    expect_num(d->granularity, j, "granularity", path);
    expect_num(d->adjacency, j, "adjacency", path);
    expect_num(d->weight, j, "weight", path);
    expect_num(d->offset, j, "offset", path);
    expect_content(d, j, path);
    sub_path(sub, path, "embedding");
    expect_ndarray(&d->embedding, json_object_get(j, "embedding"), sub);
    const json_t *loc = json_object_get(j, "location");
    if (d->n_location != json_array_size(loc)) mismatch(path, "%zu locations", d->n_location);
    for (size_t i = 0; i < d->n_location && i < json_array_size(loc); i++)
        if (d->location[i] != json_number_value(json_array_get(loc, i)))
            mismatch(path, "location[%zu] = %g", i, d->location[i]);
    static const char *const maps[] = {"tags", "_metadata"};
    const df_value *map_values[] = {d->tags, d->metadata};
    for (int i = 0; i < 2; i++) {
        sub_path(sub, path, maps[i]);
        const json_t *want = json_object_get(j, maps[i]);
        if (want)
            expect_value(map_values[i], want, sub);
        else if (df_value_len(map_values[i]))
            mismatch(sub, "want unset");
    }
    sub_path(sub, path, "scores");
    expect_scores(&d->scores, json_object_get(j, "scores"), sub);
    sub_path(sub, path, "evaluations");
    expect_scores(&d->evaluations, json_object_get(j, "evaluations"), sub);
    sub_path(sub, path, "chunks");
    expect_docs(d->chunks, json_object_get(j, "chunks"), sub);
    sub_path(sub, path, "matches");
    expect_docs(d->matches, json_object_get(j, "matches"), sub);
}

static void expect_docs(const df_docs *docs, const json_t *j, const char *path)
{
    char sub[PATH_LEN];
    if (df_docs_len(docs) != json_array_size(j)) {
        mismatch(path, "%zu docs, want %zu", df_docs_len(docs), json_array_size(j));
        return;
    }
    for (size_t i = 0; i < json_array_size(j); i++) {
        sub_index(sub, path, i);
        expect_doc(docs->items[i], json_array_get(j, i), sub);
    }
}

/* ---- interop: bytes from Google's Python protobuf ---------------------------- */

static void test_decode_reference_fixture_matches_its_description(void)
{
    size_t len = 0;
    uint8_t *bytes = read_file(FIXTURE_BIN, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bytes);
    json_error_t jerr;
    json_t *want = json_load_file(FIXTURE_JSON, 0, &jerr);
    CU_ASSERT_PTR_NOT_NULL_FATAL(want);

    df_arena *a = df_arena_new(0);
    df_docs *docs = df_docs_new(a);
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_EQUAL_FATAL(df_pb_decode_docs(docs, bytes, len, &err), DF_OK);
    json_mismatches = 0;
    expect_docs(docs, json_object_get(want, "docs"), "docs");
    CU_ASSERT_EQUAL(json_mismatches, 0);

    /* Spot checks that do not go through the comparator above. */
    CU_ASSERT_EQUAL_FATAL(df_docs_len(docs), 4);
    df_doc *d0 = df_docs_get(docs, 0);
    size_t n;
    CU_ASSERT_STRING_EQUAL(df_doc_text(d0, &n), unicode_text);
    CU_ASSERT_EQUAL(n, strlen(unicode_text));
    float *emb = df_doc_embedding_f32(d0, &n);
    CU_ASSERT_EQUAL_FATAL(n, 4);
    CU_ASSERT(emb[0] == 0.25f && emb[1] == -1.5f && emb[2] == 3.0f && emb[3] == 100.0f);
    CU_ASSERT_EQUAL((uintptr_t)emb % 16, 0);
    CU_ASSERT_EQUAL(df_value_number(df_value_get(df_doc_tags_peek(d0), "int")), 42);
    const df_value *nested = df_value_get(df_doc_tags_peek(d0), "nested");
    CU_ASSERT_EQUAL(df_value_type_of(df_value_at(df_value_get(nested, "a"), 2)), DF_VALUE_NULL);
    df_ndarray_view t;
    df_doc *m0 = df_docs_get(df_doc_matches_peek(d0), 0);
    CU_ASSERT_FATAL(df_doc_tensor(m0, &t));
    CU_ASSERT(t.ndim == 2 && t.shape[0] == 2 && t.shape[1] == 3 && strcmp(t.dtype, "<f8") == 0);
    CU_ASSERT_EQUAL(((const double *)t.data)[5], 6.5);
    df_doc *deep = df_docs_get(df_doc_matches_peek(df_docs_get(df_doc_chunks_peek(d0), 0)), 0);
    size_t blen;
    const uint8_t *blob = df_doc_blob(deep, &blen);
    CU_ASSERT(blen == 6 && blob[0] == 0x00 && blob[2] == 0x7f && blob[5] == 0xff);
    df_score s;
    CU_ASSERT(df_doc_score(deep, DF_SCORES, "cosine", &s) && s.value == 0.5f);
    CU_ASSERT_STRING_EQUAL(s.ref_id, "doc-0/chunk-0");
    CU_ASSERT_EQUAL(df_doc_content(df_docs_get(docs, 3)), DF_CONTENT_NONE);

    json_decref(want);
    df_arena_free(a);
    free(bytes);
}

/* Our decode + encode of the reference bytes gives the same documents. */
static void test_reference_fixture_survives_our_reencoding(void)
{
    size_t len = 0;
    uint8_t *bytes = read_file(FIXTURE_BIN, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bytes);
    df_arena *a = df_arena_new(0);
    df_docs *docs = df_docs_new(a);
    CU_ASSERT_EQUAL_FATAL(df_pb_decode_docs(docs, bytes, len, NULL), DF_OK);
    df_docs *back = round_trip(a, docs);
    CU_ASSERT(df_docs_equal(docs, back));
    df_arena_free(a);
    free(bytes);
}

/* ---- round trips -------------------------------------------------------------- */

static void test_every_field_round_trips(void)
{
    df_arena *a = df_arena_new(0);
    df_docs *docs = df_docs_new(a);
    df_doc *d = df_docs_append(docs, full_doc(a, "full"));
    df_docs_append(df_doc_chunks(d), tensor_doc(a, "chunk-tensor"));
    df_doc *blob = df_docs_append(df_doc_matches(d), df_doc_new(a));
    const uint8_t bytes[] = {0, 1, 2, 0xfe, 0xff};
    df_doc_set_blob(blob, bytes, sizeof bytes);

    df_docs *back = round_trip(a, docs);
    CU_ASSERT_FATAL(df_docs_equal(docs, back));

    df_doc *b = df_docs_get(back, 0);
    CU_ASSERT_STRING_EQUAL(df_doc_str(b, DF_FIELD_ID), "full");
    CU_ASSERT_STRING_EQUAL(df_doc_str(b, DF_FIELD_PARENT_ID), "parent-0");
    CU_ASSERT_STRING_EQUAL(df_doc_str(b, DF_FIELD_URI), "https://example.com/doc.txt");
    CU_ASSERT_STRING_EQUAL(df_doc_str(b, DF_FIELD_MODALITY), "text");
    CU_ASSERT_STRING_EQUAL(df_doc_str(b, DF_FIELD_MIME_TYPE), "text/plain");
    CU_ASSERT_EQUAL(df_doc_num(b, DF_FIELD_GRANULARITY), 3);
    CU_ASSERT_EQUAL(df_doc_num(b, DF_FIELD_ADJACENCY), 4);
    CU_ASSERT_EQUAL(df_doc_num(b, DF_FIELD_WEIGHT), 0.75);
    CU_ASSERT_EQUAL(df_doc_num(b, DF_FIELD_OFFSET), 12);
    size_t n;
    const float *loc = df_doc_location(b, &n);
    CU_ASSERT(n == 3 && loc[2] == 3.25f);
    CU_ASSERT_STRING_EQUAL(df_doc_ndarray_cls(b, 1), "numpy");
    CU_ASSERT_STRING_EQUAL(
        df_value_string(df_value_get(df_doc_ndarray_params(b, 1), "model"), NULL), "m1");
    CU_ASSERT(df_value_equal(df_doc_tags_peek(b), df_doc_tags_peek(d)));
    CU_ASSERT_EQUAL(df_value_len(df_doc_tags_peek(b)), 8);
    df_score s;
    CU_ASSERT_FATAL(df_doc_score(b, DF_SCORES, "cosine", &s));
    CU_ASSERT(s.value == 0.875f && strcmp(s.op_name, "cosine") == 0 &&
              strcmp(s.description, "cosine similarity") == 0 && strcmp(s.ref_id, "q-1") == 0);
    CU_ASSERT_FATAL(df_doc_score(b, DF_SCORES, "l2", &s));
    CU_ASSERT(s.value == 2.0f && strcmp(s.op_name, "") == 0);
    CU_ASSERT_FATAL(df_doc_score(b, DF_EVALUATIONS, "precision@1", &s));
    CU_ASSERT_STRING_EQUAL(s.description, "p@1");
    CU_ASSERT_STRING_EQUAL(df_value_string(df_value_get(df_doc_metadata_peek(b), "source"), NULL),
                           "unit");
    df_ndarray_view t;
    CU_ASSERT_FATAL(df_doc_tensor(df_docs_get(df_doc_chunks_peek(b), 0), &t));
    CU_ASSERT(t.ndim == 2 && t.nbytes == 48 && ((const double *)t.data)[5] == 6.5);
    CU_ASSERT_STRING_EQUAL(df_doc_ndarray_cls(df_docs_get(df_doc_chunks_peek(b), 0), 0), "numpy");
    size_t blen;
    const uint8_t *bb = df_doc_blob(df_docs_get(df_doc_matches_peek(b), 0), &blen);
    CU_ASSERT(blen == 5 && memcmp(bb, bytes, 5) == 0);
    df_arena_free(a);
}

static void test_single_document_round_trips(void)
{
    df_arena *a = df_arena_new(0);
    df_doc *d = full_doc(a, "single");
    df_buf b = DF_BUF_INIT;
    df_pb_encode_doc(&b, d);
    df_error err = DF_ERROR_INIT;
    df_doc *back = df_pb_decode_doc(a, (const uint8_t *)b.data, b.len, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(back);
    CU_ASSERT(df_doc_equal(d, back));
    CU_ASSERT_PTR_EQUAL(df_doc_arena(back), a);
    df_buf_free(&b);
    df_arena_free(a);
}

static void test_chunks_and_matches_round_trip_three_levels_deep(void)
{
    df_arena *a = df_arena_new(0);
    df_docs *docs = df_docs_new(a);
    for (int i = 0; i < 2; i++) {
        char id[32];
        snprintf(id, sizeof id, "root-%d", i);
        df_doc *root = df_docs_append(docs, full_doc(a, id));
        for (int c = 0; c < 2; c++) {
            df_doc *chunk = df_docs_append(df_doc_chunks(root), full_doc(a, "chunk"));
            df_doc *match = df_docs_append(df_doc_matches(chunk), tensor_doc(a, "match"));
            df_docs_append(df_doc_chunks(match), full_doc(a, "level-3-chunk"));
            df_docs_append(df_doc_matches(match), full_doc(a, "level-3-match"));
        }
    }
    df_docs *back = round_trip(a, docs);
    CU_ASSERT(df_docs_equal(docs, back));
    df_doc *deep = df_docs_get(
        df_doc_matches_peek(df_docs_get(
            df_doc_matches_peek(df_docs_get(df_doc_chunks_peek(df_docs_get(back, 1)), 1)), 0)),
        0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(deep);
    CU_ASSERT_STRING_EQUAL(df_doc_str(deep, DF_FIELD_ID), "level-3-match");
    CU_ASSERT_STRING_EQUAL(df_doc_text(deep, NULL), unicode_text);
    df_arena_free(a);
}

static void test_empty_array_and_empty_document_round_trip(void)
{
    df_arena *a = df_arena_new(0);
    df_docs *docs = df_docs_new(a);
    df_buf b = DF_BUF_INIT;
    df_pb_encode_docs(&b, docs);
    CU_ASSERT_EQUAL(b.len, 0);
    df_docs *back = df_docs_new(a);
    CU_ASSERT_EQUAL(df_pb_decode_docs(back, (const uint8_t *)b.data, b.len, NULL), DF_OK);
    CU_ASSERT_EQUAL(df_docs_len(back), 0);
    CU_ASSERT_EQUAL(df_pb_decode_docs(back, NULL, 0, NULL), DF_OK);
    CU_ASSERT_EQUAL(df_docs_len(back), 0);

    df_docs_append(docs, df_doc_new_empty(a));
    back = round_trip(a, docs);
    CU_ASSERT_EQUAL_FATAL(df_docs_len(back), 1);
    df_doc *d = df_docs_get(back, 0);
    CU_ASSERT_STRING_EQUAL(df_doc_str(d, DF_FIELD_ID), "");
    CU_ASSERT_EQUAL(df_doc_content(d), DF_CONTENT_NONE);
    CU_ASSERT_FALSE(df_doc_embedding(d, NULL));
    CU_ASSERT_PTR_NULL(df_doc_tags_peek(d));
    CU_ASSERT_PTR_NULL(df_doc_chunks_peek(d));
    df_buf_free(&b);
    df_arena_free(a);
}

static void test_empty_strings_text_and_blob_mean_unset(void)
{
    df_arena *a = df_arena_new(0);
    df_doc *d = df_doc_new_empty(a);
    d->id = "";
    d->uri = "";
    df_doc_set_text(d, "", 0);
    df_doc_tags(d); /* an empty map: nothing to send either */
    df_buf b = DF_BUF_INIT;
    df_pb_encode_doc(&b, d);
    CU_ASSERT_EQUAL(b.len, 0);
    df_buf_free(&b);

    /* The oneof set to "" on the wire (text = 4, blob = 2) is no content. */
    const uint8_t empty_text[] = {0x22, 0x00}, empty_blob[] = {0x12, 0x00};
    df_doc *t = df_pb_decode_doc(a, empty_text, sizeof empty_text, NULL);
    df_doc *bl = df_pb_decode_doc(a, empty_blob, sizeof empty_blob, NULL);
    CU_ASSERT(t && df_doc_content(t) == DF_CONTENT_NONE);
    CU_ASSERT(bl && df_doc_content(bl) == DF_CONTENT_NONE);
    df_arena_free(a);
}

static void test_unicode_text_round_trips_byte_for_byte(void)
{
    df_arena *a = df_arena_new(0);
    df_docs *docs = df_docs_new(a);
    static const char *texts[] = {unicode_text, "Ελληνικά", "日本語のテキスト",
                                  "emoji 👩‍👩‍👧‍👦", "x"};
    for (size_t i = 0; i < 5; i++)
        df_doc_set_text(df_docs_append(docs, df_doc_new(a)), texts[i], (size_t)-1);
    df_docs *back = round_trip(a, docs);
    CU_ASSERT_EQUAL_FATAL(df_docs_len(back), 5);
    for (size_t i = 0; i < 5; i++) {
        size_t n;
        const char *t = df_doc_text(df_docs_get(back, i), &n);
        CU_ASSERT(n == strlen(texts[i]) && memcmp(t, texts[i], n) == 0 && t[n] == '\0');
    }
    df_arena_free(a);
}

static void test_one_megabyte_blob_round_trips(void)
{
    df_arena *a = df_arena_new(0);
    size_t len = 1u << 20;
    uint8_t *data = malloc(len);
    for (size_t i = 0; i < len; i++)
        data[i] = (uint8_t)(i * 2654435761u >> 13);
    df_docs *docs = df_docs_new(a);
    df_doc_set_blob(df_docs_append(docs, df_doc_new(a)), data, len);
    df_docs *back = round_trip(a, docs);
    size_t got;
    const uint8_t *blob = df_doc_blob(df_docs_get(back, 0), &got);
    CU_ASSERT_EQUAL_FATAL(got, len);
    CU_ASSERT(memcmp(blob, data, len) == 0);
    free(data);
    df_arena_free(a);
}

static void test_4096_dim_embedding_round_trips_aligned_for_float_access(void)
{
    df_arena *a = df_arena_new(0);
    float *emb = malloc(4096 * sizeof *emb);
    for (int i = 0; i < 4096; i++)
        emb[i] = (float)i / 7.0f - 100.0f;
    df_docs *docs = df_docs_new(a);
    for (int i = 0; i < 3; i++) {
        df_doc *d = df_docs_append(docs, df_doc_new(a));
        df_doc_set_text(d, "odd-length text to shift offsets", (size_t)-1);
        df_doc_set_embedding_f32(d, emb, 4096);
    }
    df_docs *back = round_trip(a, docs);
    CU_ASSERT(df_docs_equal(docs, back));
    for (int i = 0; i < 3; i++) {
        size_t dim;
        float *got = df_doc_embedding_f32(df_docs_get(back, (size_t)i), &dim);
        CU_ASSERT_EQUAL_FATAL(dim, 4096);
        CU_ASSERT_EQUAL((uintptr_t)got % 16, 0);
        CU_ASSERT(memcmp(got, emb, 4096 * sizeof *emb) == 0);
        /* Zero-copy: the float view is the decoded buffer itself. */
        CU_ASSERT_PTR_EQUAL(got, df_docs_get(back, (size_t)i)->embedding.data);
    }
    size_t rows, dim;
    CU_ASSERT_PTR_NOT_NULL(df_docs_embeddings(back, &rows, &dim));
    CU_ASSERT(rows == 3 && dim == 4096);
    free(emb);
    df_arena_free(a);
}

static void test_struct_with_nested_lists_and_maps_round_trips(void)
{
    df_arena *a = df_arena_new(0);
    df_value *m = tags_of_every_kind(a);
    df_value *lists = df_value_new_list(a);
    for (int i = 0; i < 4; i++) {
        df_value *l = df_value_new_list(a);
        df_value_put_number(l, NULL, i);
        df_value *mm = df_value_new_map(a);
        df_value_put_string(mm, "i", i % 2 ? "odd" : "even");
        df_value_append_owned(l, mm);
        df_value_append_owned(lists, l);
    }
    df_value_set_owned(m, "lists", lists);
    df_buf b = DF_BUF_INIT;
    df_pb_encode_struct(&b, m);
    df_error err = DF_ERROR_INIT;
    df_value *back = df_pb_decode_struct(a, (const uint8_t *)b.data, b.len, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(back);
    CU_ASSERT(df_value_equal(m, back));
    CU_ASSERT_STRING_EQUAL(
        df_value_string(
            df_value_get(df_value_at(df_value_at(df_value_get(back, "lists"), 3), 1), "i"), NULL),
        "odd");
    CU_ASSERT_EQUAL(df_value_type_of(df_value_get(back, "null")), DF_VALUE_NULL);
    CU_ASSERT_EQUAL(df_value_type_of(df_value_get(back, "false")), DF_VALUE_BOOL);
    CU_ASSERT_EQUAL(df_value_type_of(df_value_get(back, "empty_list")), DF_VALUE_LIST);

    /* A non-map value is sent as an empty Struct. */
    df_buf_reset(&b);
    df_pb_encode_struct(&b, df_value_new_number(a, 3));
    CU_ASSERT_EQUAL(b.len, 0);
    back = df_pb_decode_struct(a, (const uint8_t *)b.data, b.len, &err);
    CU_ASSERT(back && df_value_type_of(back) == DF_VALUE_MAP && df_value_len(back) == 0);
    df_buf_free(&b);
    df_arena_free(a);
}

/* ---- refusals and hostile input ---------------------------------------------- */

static void test_truncated_input_fails_at_every_prefix_length(void)
{
    df_arena *a = df_arena_new(0);
    df_docs *docs = df_docs_new(a);
    df_doc *d = df_docs_append(docs, full_doc(a, "t"));
    df_docs_append(df_doc_chunks(d), tensor_doc(a, "c"));
    df_buf b = DF_BUF_INIT;
    df_pb_encode_docs(&b, docs);
    CU_ASSERT_FATAL(b.len > 100);
    size_t failures = 0;
    for (size_t len = 1; len < b.len; len++) {
        /* A fresh copy of exactly len bytes, so ASan sees any overread. */
        uint8_t *prefix = malloc(len);
        memcpy(prefix, b.data, len);
        df_arena *scratch = df_arena_new(0);
        df_docs *out = df_docs_new(scratch);
        df_error err = DF_ERROR_INIT;
        int rc = df_pb_decode_docs(out, prefix, len, &err);
        char want[96];
        snprintf(want, sizeof want, "truncated or malformed DocumentArrayProto (%zu bytes)", len);
        if (rc == DF_E_INVALID_INPUT && strcmp(err.msg, want) == 0 && df_docs_len(out) == 0)
            failures++;
        else
            fprintf(stderr, "\nprefix %zu: rc %d, \"%s\"", len, rc, err.msg);
        df_arena_free(scratch);
        free(prefix);
    }
    CU_ASSERT_EQUAL(failures, b.len - 1);
    df_buf_free(&b);
    df_arena_free(a);
}

static void test_malformed_bytes_error_names_type_and_length(void)
{
    const uint8_t garbage[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02};
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    df_docs *docs = df_docs_new(a);
    CU_ASSERT_EQUAL(df_pb_decode_docs(docs, garbage, sizeof garbage, &err), DF_E_INVALID_INPUT);
    CU_ASSERT_STRING_EQUAL(err.msg, "truncated or malformed DocumentArrayProto (8 bytes)");
    CU_ASSERT_PTR_NULL(df_pb_decode_doc(a, garbage, sizeof garbage, &err));
    CU_ASSERT_STRING_EQUAL(err.msg, "truncated or malformed DocumentProto (8 bytes)");
    CU_ASSERT_PTR_NULL(df_pb_decode_struct(a, garbage, sizeof garbage, &err));
    CU_ASSERT_STRING_EQUAL(err.msg, "truncated or malformed Struct (8 bytes)");
    df_arena_free(a);
}

static void test_sparse_ndarray_is_refused_naming_its_path(void)
{
    Docarray__SparseNdArrayProto sparse = DOCARRAY__SPARSE_ND_ARRAY_PROTO__INIT;
    Docarray__NdArrayProto nd = DOCARRAY__ND_ARRAY_PROTO__INIT;
    nd.content_case = DOCARRAY__ND_ARRAY_PROTO__CONTENT_SPARSE;
    nd.sparse = &sparse;
    Docarray__DocumentProto doc;
    docarray__document_proto__init(&doc);
    doc.embedding = &nd;
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_EQUAL(decode_with_doc_at(&doc, 1, 3, &err), DF_E_UNSUPPORTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "docs[1].embedding: sparse"));

    /* Nested: docs[0].chunks[1].tensor. */
    Docarray__DocumentProto chunk0, chunk1, *chunks[] = {&chunk0, &chunk1};
    docarray__document_proto__init(&chunk0);
    docarray__document_proto__init(&chunk1);
    chunk1.content_case = DOCARRAY__DOCUMENT_PROTO__CONTENT_TENSOR;
    chunk1.tensor = &nd;
    Docarray__DocumentProto root;
    docarray__document_proto__init(&root);
    root.n_chunks = 2;
    root.chunks = chunks;
    CU_ASSERT_EQUAL(decode_with_doc_at(&root, 0, 1, &err), DF_E_UNSUPPORTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "docs[0].chunks[1].tensor: sparse"));
}

static void test_buffer_not_matching_shape_and_dtype_is_refused(void)
{
    float values[6] = {0};
    uint32_t shape[] = {2, 3};
    Docarray__DenseNdArrayProto dense = DOCARRAY__DENSE_ND_ARRAY_PROTO__INIT;
    dense.buffer.data = (uint8_t *)values;
    dense.buffer.len = 5 * sizeof(float);
    dense.shape = shape;
    dense.n_shape = 2;
    dense.dtype = "<f4";
    Docarray__NdArrayProto nd = DOCARRAY__ND_ARRAY_PROTO__INIT;
    nd.content_case = DOCARRAY__ND_ARRAY_PROTO__CONTENT_DENSE;
    nd.dense = &dense;
    Docarray__DocumentProto match, *matches[] = {&match}, doc;
    docarray__document_proto__init(&match);
    match.embedding = &nd;
    docarray__document_proto__init(&doc);
    doc.n_matches = 1;
    doc.matches = matches;
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_EQUAL(decode_with_doc_at(&doc, 2, 3, &err), DF_E_INVALID_INPUT);
    CU_ASSERT_STRING_EQUAL(err.msg, "docs[2].matches[0].embedding: buffer holds 20 bytes but "
                                    "shape [2, 3] of dtype <f4 needs 24");

    /* A dtype docflow cannot size is refused rather than guessed. */
    dense.dtype = "|O";
    dense.buffer.len = 24;
    CU_ASSERT_EQUAL(decode_with_doc_at(&doc, 0, 1, &err), DF_E_UNSUPPORTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "docs[0].matches[0].embedding: dtype \"|O\""));

    /* Shapes whose product overflows do not wrap around to a match. */
    uint32_t huge[] = {0x80000000u, 0x80000000u, 0x80000000u};
    dense.dtype = "<f4";
    dense.shape = huge;
    dense.n_shape = 3;
    dense.buffer.len = 0;
    CU_ASSERT_EQUAL(decode_with_doc_at(&doc, 0, 1, &err), DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "needs more than"));
}

static void test_big_endian_tensor_is_converted_to_little_endian(void)
{
    /* 1.0 and -2.5 as big-endian float64. */
    uint8_t be[16] = {0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0xc0, 0x04, 0, 0, 0, 0, 0, 0};
    uint32_t shape[] = {2};
    Docarray__DenseNdArrayProto dense = DOCARRAY__DENSE_ND_ARRAY_PROTO__INIT;
    dense.buffer.data = be;
    dense.buffer.len = sizeof be;
    dense.shape = shape;
    dense.n_shape = 1;
    dense.dtype = ">f8";
    Docarray__NdArrayProto nd = DOCARRAY__ND_ARRAY_PROTO__INIT;
    nd.content_case = DOCARRAY__ND_ARRAY_PROTO__CONTENT_DENSE;
    nd.dense = &dense;
    Docarray__DocumentProto doc;
    docarray__document_proto__init(&doc);
    doc.content_case = DOCARRAY__DOCUMENT_PROTO__CONTENT_TENSOR;
    doc.tensor = &nd;
    size_t len = docarray__document_proto__get_packed_size(&doc);
    uint8_t *bytes = malloc(len);
    docarray__document_proto__pack(&doc, bytes);
    df_arena *a = df_arena_new(0);
    df_doc *d = df_pb_decode_doc(a, bytes, len, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    df_ndarray_view t;
    CU_ASSERT_FATAL(df_doc_tensor(d, &t));
    CU_ASSERT_STRING_EQUAL(t.dtype, "<f8");
    double x[2];
    memcpy(x, t.data, sizeof x);
    CU_ASSERT(x[0] == 1.0 && x[1] == -2.5);
    free(bytes);
    df_arena_free(a);
}

static void test_zero_dimensional_tensor_round_trips(void)
{
    df_arena *a = df_arena_new(0);
    df_docs *docs = df_docs_new(a);
    df_doc *d = df_docs_append(docs, df_doc_new(a));
    const double scalar = 2.5;
    CU_ASSERT_EQUAL_FATAL(df_doc_set_tensor(d, &scalar, sizeof scalar, NULL, 0, "<f8"), DF_OK);
    df_docs *back = round_trip(a, docs);
    df_ndarray_view t;
    CU_ASSERT_FATAL(df_doc_tensor(df_docs_get(back, 0), &t));
    CU_ASSERT(t.ndim == 0 && t.shape != NULL && t.nbytes == 8 && *(const double *)t.data == 2.5);
    CU_ASSERT(df_docs_equal(docs, back));
    df_arena_free(a);
}

static void test_other_numpy_dtypes_pass_through_checked(void)
{
    uint8_t buf[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    uint32_t shape[] = {2};
    Docarray__DenseNdArrayProto dense = DOCARRAY__DENSE_ND_ARRAY_PROTO__INIT;
    dense.buffer.data = buf;
    dense.buffer.len = sizeof buf;
    dense.shape = shape;
    dense.n_shape = 1;
    dense.dtype = "<c8"; /* complex64: 2 x 8 bytes */
    Docarray__NdArrayProto nd = DOCARRAY__ND_ARRAY_PROTO__INIT;
    nd.content_case = DOCARRAY__ND_ARRAY_PROTO__CONTENT_DENSE;
    nd.dense = &dense;
    Docarray__DocumentProto doc;
    docarray__document_proto__init(&doc);
    doc.embedding = &nd;
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_EQUAL(decode_with_doc_at(&doc, 0, 1, &err), DF_OK);
    dense.dtype = "<U2"; /* 2 UCS-4 characters: 8 bytes each */
    CU_ASSERT_EQUAL(decode_with_doc_at(&doc, 0, 1, &err), DF_OK);
    dense.dtype = "<U3";
    CU_ASSERT_EQUAL(decode_with_doc_at(&doc, 0, 1, &err), DF_E_INVALID_INPUT);
}

static void test_repeated_map_keys_keep_the_last_value(void)
{
    /* Struct {"k": 1, "other": true, "k": 2} and scores {"s": 0.5, "s": 0.25}. */
    Google__Protobuf__Value v1 = GOOGLE__PROTOBUF__VALUE__INIT, v2 = GOOGLE__PROTOBUF__VALUE__INIT,
                            v3 = GOOGLE__PROTOBUF__VALUE__INIT;
    v1.kind_case = v3.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE;
    v1.number_value = 1;
    v3.number_value = 2;
    v2.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE;
    v2.bool_value = 1;
    Google__Protobuf__Struct__FieldsEntry e[3];
    Google__Protobuf__Value *vals[] = {&v1, &v2, &v3};
    const char *keys[] = {"k", "other", "k"};
    Google__Protobuf__Struct__FieldsEntry *ep[3];
    for (int i = 0; i < 3; i++) {
        google__protobuf__struct__fields_entry__init(&e[i]);
        e[i].key = (char *)keys[i];
        e[i].value = vals[i];
        ep[i] = &e[i];
    }
    Google__Protobuf__Struct st = GOOGLE__PROTOBUF__STRUCT__INIT;
    st.n_fields = 3;
    st.fields = ep;
    Docarray__NamedScoreProto s1 = DOCARRAY__NAMED_SCORE_PROTO__INIT,
                              s2 = DOCARRAY__NAMED_SCORE_PROTO__INIT;
    s1.value = 0.5f;
    s2.value = 0.25f;
    Docarray__DocumentProto__ScoresEntry se[2], *sp[] = {&se[0], &se[1]};
    for (int i = 0; i < 2; i++) {
        docarray__document_proto__scores_entry__init(&se[i]);
        se[i].key = "s";
        se[i].value = i ? &s2 : &s1;
    }
    Docarray__DocumentProto doc;
    docarray__document_proto__init(&doc);
    doc.tags = &st;
    doc.n_scores = 2;
    doc.scores = sp;
    size_t len = docarray__document_proto__get_packed_size(&doc);
    uint8_t *bytes = malloc(len);
    docarray__document_proto__pack(&doc, bytes);
    df_arena *a = df_arena_new(0);
    df_doc *d = df_pb_decode_doc(a, bytes, len, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    const df_value *tags = df_doc_tags_peek(d);
    CU_ASSERT_EQUAL(df_value_len(tags), 2);
    CU_ASSERT_STRING_EQUAL(df_value_key_at(tags, 0), "k");
    CU_ASSERT_EQUAL(df_value_number(df_value_get(tags, "k")), 2);
    CU_ASSERT_EQUAL(df_doc_score_count(d, DF_SCORES), 1);
    df_score s;
    CU_ASSERT(df_doc_score(d, DF_SCORES, "s", &s) && s.value == 0.25f);
    free(bytes);
    df_arena_free(a);
}

static void test_many_repeated_keys_are_merged_without_quadratic_time(void)
{
    /* 20,000 entries over 1,000 distinct keys, built as raw Struct bytes. */
    df_buf raw = DF_BUF_INIT;
    for (int i = 0; i < 20000; i++) {
        char key[16];
        int klen = snprintf(key, sizeof key, "key%d", i % 1000);
        /* FieldsEntry { key = 1: string, value = 2: Value { number_value = 2: double } } */
        uint8_t value[11] = {0x12, 9, 0x11};
        double x = i;
        memcpy(value + 3, &x, 8);
        uint8_t head[3] = {0x0a, (uint8_t)(2 + klen + sizeof value), 0x0a};
        df_buf_append(&raw, head, 3);
        df_buf_append_char(&raw, (char)klen);
        df_buf_append(&raw, key, (size_t)klen);
        df_buf_append(&raw, value, sizeof value);
    }
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    df_value *v = df_pb_decode_struct(a, (const uint8_t *)raw.data, raw.len, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL(df_value_len(v), 1000);
    CU_ASSERT_STRING_EQUAL(df_value_key_at(v, 7), "key7");
    CU_ASSERT_EQUAL(df_value_number(df_value_get(v, "key7")), 19007);
    df_buf_free(&raw);
    df_arena_free(a);
}

static void test_deep_nesting_is_refused_instead_of_overflowing_the_stack(void)
{
    /* 100,000 nested ListValues in a Struct: protobuf-c alone would recurse
     * once per level and overflow the stack. */
    rev_bytes r;
    rev_init(&r, 1u << 20);
    for (int i = 0; i < 100000 && r.start > 64; i++) {
        rev_wrap(&r, 0x0a); /* ListValue.values: one Value */
        rev_wrap(&r, 0x32); /* Value.list_value */
    }
    rev_wrap(&r, 0x12); /* FieldsEntry.value */
    rev_wrap(&r, 0x0a); /* Struct.fields */
    size_t len;
    const uint8_t *bytes = rev_data(&r, &len);
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_PTR_NULL(df_pb_decode_struct(a, bytes, len, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "nests messages deeper than 100"));
    free(r.buf);

    /* Chunks 150 deep, inside a DocumentArrayProto. */
    rev_init(&r, 4096);
    for (int i = 0; i < 150; i++)
        rev_wrap(&r, 0x72); /* DocumentProto.chunks */
    rev_wrap(&r, 0x0a);     /* DocumentArrayProto.docs */
    bytes = rev_data(&r, &len);
    df_docs *docs = df_docs_new(a);
    CU_ASSERT_EQUAL(df_pb_decode_docs(docs, bytes, len, &err), DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "DocumentArrayProto"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "deeper than 100"));
    free(r.buf);

    /* 90 levels is within the limit and decodes. */
    rev_init(&r, 4096);
    for (int i = 0; i < 90; i++)
        rev_wrap(&r, 0x72);
    rev_wrap(&r, 0x0a);
    bytes = rev_data(&r, &len);
    CU_ASSERT_EQUAL(df_pb_decode_docs(docs, bytes, len, &err), DF_OK);
    const df_doc *d = df_docs_get(docs, 0);
    int depth = 0;
    while (df_doc_chunks_peek(d)) {
        d = df_docs_get(df_doc_chunks_peek(d), 0);
        depth++;
    }
    CU_ASSERT_EQUAL(depth, 90);
    free(r.buf);
    df_arena_free(a);
}

static void test_decode_appends_and_a_failure_leaves_the_array_unchanged(void)
{
    df_arena *a = df_arena_new(0);
    df_docs *docs = df_docs_new(a);
    df_docs_append(docs, tensor_doc(a, "first"));
    df_buf b = DF_BUF_INIT;
    df_pb_encode_docs(&b, docs);
    CU_ASSERT_EQUAL(df_pb_decode_docs(docs, (const uint8_t *)b.data, b.len, NULL), DF_OK);
    CU_ASSERT_EQUAL(df_docs_len(docs), 2);
    CU_ASSERT(df_doc_equal(df_docs_get(docs, 0), df_docs_get(docs, 1)));
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_NOT_EQUAL(df_pb_decode_docs(docs, (const uint8_t *)b.data, b.len - 1, &err), DF_OK);
    CU_ASSERT_EQUAL(df_docs_len(docs), 2);
    df_buf_free(&b);
    df_arena_free(a);
}

static void test_thousands_of_documents_append_in_order_after_existing_ones(void)
{
    df_arena *a = df_arena_new(0);
    df_docs *docs = df_docs_new(a);
    for (int i = 0; i < 5000; i++) {
        char id[16];
        snprintf(id, sizeof id, "doc-%d", i);
        df_doc *d = df_docs_append(docs, df_doc_new(a));
        df_doc_set_str(d, DF_FIELD_ID, id);
        const float emb[3] = {(float)i, 1, 2};
        df_doc_set_embedding_f32(d, emb, 3);
    }
    df_buf b = DF_BUF_INIT;
    df_pb_encode_docs(&b, docs);
    df_docs *out = df_docs_new(a);
    for (int i = 0; i < 3; i++)
        df_docs_append(out, tensor_doc(a, "existing"));
    df_doc *first = df_docs_get(out, 0);
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_EQUAL_FATAL(df_pb_decode_docs(out, (const uint8_t *)b.data, b.len, &err), DF_OK);
    CU_ASSERT_EQUAL_FATAL(df_docs_len(out), 5003);
    CU_ASSERT_PTR_EQUAL(df_docs_get(out, 0), first);
    int in_order = 1;
    for (int i = 0; i < 5000; i++) {
        char id[16];
        snprintf(id, sizeof id, "doc-%d", i);
        df_doc *d = df_docs_get(out, (size_t)i + 3);
        size_t dim;
        float *e = df_doc_embedding_f32(d, &dim);
        in_order &= strcmp(df_doc_str(d, DF_FIELD_ID), id) == 0 && dim == 3 && e[0] == (float)i;
    }
    CU_ASSERT(in_order);

    /* A failure late in the batch leaves the array as it was. */
    df_docs *again = df_docs_new(a);
    df_docs_append(again, first);
    CU_ASSERT_NOT_EQUAL(df_pb_decode_docs(again, (const uint8_t *)b.data, b.len - 3, &err), DF_OK);
    CU_ASSERT_EQUAL(df_docs_len(again), 1);
    CU_ASSERT_PTR_EQUAL(df_docs_get(again, 0), first);
    df_buf_free(&b);
    df_arena_free(a);
}

static void test_encode_appends_to_the_buffer(void)
{
    df_arena *a = df_arena_new(0);
    df_doc *d = tensor_doc(a, "x");
    df_buf b = DF_BUF_INIT;
    df_buf_append_str(&b, "prefix");
    df_pb_encode_doc(&b, d);
    CU_ASSERT(b.len > 6 && memcmp(b.data, "prefix", 6) == 0 && b.data[b.len] == '\0');
    df_doc *back = df_pb_decode_doc(a, (const uint8_t *)b.data + 6, b.len - 6, NULL);
    CU_ASSERT(back && df_doc_equal(d, back));
    df_buf_free(&b);
    df_arena_free(a);
}

void df_test_register(void)
{
    CU_pSuite s = CU_add_suite("protobuf_codec", NULL, NULL);
    CU_add_test(s, "decode_reference_fixture_matches_its_description",
                test_decode_reference_fixture_matches_its_description);
    CU_add_test(s, "reference_fixture_survives_our_reencoding",
                test_reference_fixture_survives_our_reencoding);
    CU_add_test(s, "every_field_round_trips", test_every_field_round_trips);
    CU_add_test(s, "single_document_round_trips", test_single_document_round_trips);
    CU_add_test(s, "chunks_and_matches_round_trip_three_levels_deep",
                test_chunks_and_matches_round_trip_three_levels_deep);
    CU_add_test(s, "empty_array_and_empty_document_round_trip",
                test_empty_array_and_empty_document_round_trip);
    CU_add_test(s, "empty_strings_text_and_blob_mean_unset",
                test_empty_strings_text_and_blob_mean_unset);
    CU_add_test(s, "unicode_text_round_trips_byte_for_byte",
                test_unicode_text_round_trips_byte_for_byte);
    CU_add_test(s, "one_megabyte_blob_round_trips", test_one_megabyte_blob_round_trips);
    CU_add_test(s, "4096_dim_embedding_round_trips_aligned_for_float_access",
                test_4096_dim_embedding_round_trips_aligned_for_float_access);
    CU_add_test(s, "struct_with_nested_lists_and_maps_round_trips",
                test_struct_with_nested_lists_and_maps_round_trips);
    CU_add_test(s, "truncated_input_fails_at_every_prefix_length",
                test_truncated_input_fails_at_every_prefix_length);
    CU_add_test(s, "malformed_bytes_error_names_type_and_length",
                test_malformed_bytes_error_names_type_and_length);
    CU_add_test(s, "sparse_ndarray_is_refused_naming_its_path",
                test_sparse_ndarray_is_refused_naming_its_path);
    CU_add_test(s, "buffer_not_matching_shape_and_dtype_is_refused",
                test_buffer_not_matching_shape_and_dtype_is_refused);
    CU_add_test(s, "big_endian_tensor_is_converted_to_little_endian",
                test_big_endian_tensor_is_converted_to_little_endian);
    CU_add_test(s, "zero_dimensional_tensor_round_trips", test_zero_dimensional_tensor_round_trips);
    CU_add_test(s, "other_numpy_dtypes_pass_through_checked",
                test_other_numpy_dtypes_pass_through_checked);
    CU_add_test(s, "repeated_map_keys_keep_the_last_value",
                test_repeated_map_keys_keep_the_last_value);
    CU_add_test(s, "many_repeated_keys_are_merged_without_quadratic_time",
                test_many_repeated_keys_are_merged_without_quadratic_time);
    CU_add_test(s, "deep_nesting_is_refused_instead_of_overflowing_the_stack",
                test_deep_nesting_is_refused_instead_of_overflowing_the_stack);
    CU_add_test(s, "decode_appends_and_a_failure_leaves_the_array_unchanged",
                test_decode_appends_and_a_failure_leaves_the_array_unchanged);
    CU_add_test(s, "thousands_of_documents_append_in_order_after_existing_ones",
                test_thousands_of_documents_append_in_order_after_existing_ones);
    CU_add_test(s, "encode_appends_to_the_buffer", test_encode_appends_to_the_buffer);
}
