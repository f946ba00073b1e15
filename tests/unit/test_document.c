/*
 * test_document.c -- Documents and document arrays (DocArray v1's model):
 * every field, the text / blob / tensor oneof, ndarray validation and
 * conversion, nested chunks and matches, named scores, arrays, deep copies
 * across arenas, the bulk embeddings matrix, copy and equality.
 */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "docflow/document.h"

static df_arena *arena;

static int setup(void)
{
    arena = df_arena_new(0);
    return 0;
}

static int teardown(void)
{
    df_arena_free(arena);
    return 0;
}

static int is_hex32(const char *s)
{
    if (strlen(s) != 32) return 0;
    for (int i = 0; i < 32; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static df_doc *doc_with_embedding(df_arena *a, const float *v, size_t dim)
{
    df_doc *d = df_doc_new(a);
    df_doc_set_embedding_f32(d, v, dim);
    return d;
}

/* A document with every field set, one chunk with a match, tags, scores. */
static df_doc *full_doc(df_arena *a)
{
    df_doc *d = df_doc_new(a);
    df_doc_set_str(d, DF_FIELD_PARENT_ID, "parent");
    df_doc_set_str(d, DF_FIELD_URI, "file:///x.txt");
    df_doc_set_str(d, DF_FIELD_MODALITY, "text");
    df_doc_set_str(d, DF_FIELD_MIME_TYPE, "text/plain");
    df_doc_set_num(d, DF_FIELD_GRANULARITY, 2);
    df_doc_set_num(d, DF_FIELD_ADJACENCY, 1);
    df_doc_set_num(d, DF_FIELD_WEIGHT, 0.5);
    df_doc_set_num(d, DF_FIELD_OFFSET, 7);
    df_doc_set_text(d, "hello", (size_t)-1);
    float emb[3] = {1, 2, 3};
    df_doc_set_embedding_f32(d, emb, 3);
    float loc[2] = {4, 5};
    df_doc_set_location(d, loc, 2);
    df_value_put_string(df_doc_tags(d), "k", "v");
    df_value_put_number(df_doc_metadata(d), "m", 1);
    df_score s = {0.75f, "cosine", "desc", "ref"};
    df_doc_set_score(d, DF_SCORES, "cos", &s);
    df_doc_set_score(d, DF_EVALUATIONS, "recall", &s);
    df_doc *chunk = df_doc_new(a);
    df_doc_set_text(chunk, "hel", 3);
    df_docs_append(df_doc_chunks(d), chunk);
    df_doc *match = df_doc_new(a);
    df_doc_set_text(match, "deep", (size_t)-1);
    df_docs_append(df_doc_matches(chunk), match);
    return d;
}

/* ---- ids and string fields --------------------------------------------------- */

static void test_doc_new_ids_are_32_hex_and_unique_over_10k(void)
{
    enum { N = 10000 };
    const char **ids = malloc(N * sizeof *ids);
    int all_hex = 1;
    for (int i = 0; i < N; i++) {
        ids[i] = df_doc_str(df_doc_new(arena), DF_FIELD_ID);
        if (!is_hex32(ids[i])) all_hex = 0;
    }
    CU_ASSERT(all_hex);
    qsort(ids, N, sizeof *ids, cmp_str);
    int unique = 1;
    for (int i = 1; i < N; i++)
        if (strcmp(ids[i - 1], ids[i]) == 0) unique = 0;
    CU_ASSERT(unique);
    free(ids);
}

static void test_doc_random_id_writes_32_hex_and_nul(void)
{
    char a[33], b[33];
    memset(a, 'X', sizeof a);
    df_doc_random_id(a);
    df_doc_random_id(b);
    CU_ASSERT_EQUAL(a[32], '\0');
    CU_ASSERT(is_hex32(a));
    CU_ASSERT_STRING_NOT_EQUAL(a, b);
}

static void test_doc_new_empty_has_no_id(void)
{
    df_doc *d = df_doc_new_empty(arena);
    CU_ASSERT_STRING_EQUAL(df_doc_str(d, DF_FIELD_ID), "");
    CU_ASSERT_EQUAL(df_doc_content(d), DF_CONTENT_NONE);
    CU_ASSERT_PTR_EQUAL(df_doc_arena(d), arena);
}

static void test_doc_string_fields_set_get_copy_and_clear(void)
{
    df_doc *d = df_doc_new(arena);
    df_doc_str_field fields[] = {DF_FIELD_ID, DF_FIELD_PARENT_ID, DF_FIELD_URI, DF_FIELD_MODALITY,
                                 DF_FIELD_MIME_TYPE};
    for (size_t i = 0; i < 5; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "value-%zu", i);
        df_doc_set_str(d, fields[i], buf);
        buf[0] = 'X';
    }
    for (size_t i = 0; i < 5; i++) {
        char want[32];
        snprintf(want, sizeof want, "value-%zu", i);
        CU_ASSERT_STRING_EQUAL(df_doc_str(d, fields[i]), want);
    }
    df_doc_set_str(d, DF_FIELD_URI, NULL);
    df_doc_set_str(d, DF_FIELD_MODALITY, "");
    CU_ASSERT_STRING_EQUAL(df_doc_str(d, DF_FIELD_URI), "");
    CU_ASSERT_STRING_EQUAL(df_doc_str(d, DF_FIELD_MODALITY), "");
    CU_ASSERT_STRING_EQUAL(df_doc_str(d, DF_FIELD_MIME_TYPE), "value-4");
}

static void test_doc_unset_string_fields_read_as_empty_not_null(void)
{
    df_doc *d = df_doc_new(arena);
    CU_ASSERT_PTR_NOT_NULL(df_doc_str(d, DF_FIELD_PARENT_ID));
    CU_ASSERT_STRING_EQUAL(df_doc_str(d, DF_FIELD_PARENT_ID), "");
    CU_ASSERT_STRING_EQUAL(df_doc_str(d, DF_FIELD_MIME_TYPE), "");
}

/* ---- number fields --------------------------------------------------------- */

static void test_doc_number_fields_set_and_get(void)
{
    df_doc *d = df_doc_new(arena);
    CU_ASSERT_DOUBLE_EQUAL(df_doc_num(d, DF_FIELD_WEIGHT), 0, 0);
    df_doc_set_num(d, DF_FIELD_GRANULARITY, 3);
    df_doc_set_num(d, DF_FIELD_ADJACENCY, 4000000000.0); /* uint32 on the wire */
    df_doc_set_num(d, DF_FIELD_WEIGHT, 0.25);
    df_doc_set_num(d, DF_FIELD_OFFSET, 12);
    CU_ASSERT_DOUBLE_EQUAL(df_doc_num(d, DF_FIELD_GRANULARITY), 3, 0);
    CU_ASSERT_DOUBLE_EQUAL(df_doc_num(d, DF_FIELD_ADJACENCY), 4000000000.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(df_doc_num(d, DF_FIELD_WEIGHT), 0.25, 0);
    CU_ASSERT_DOUBLE_EQUAL(df_doc_num(d, DF_FIELD_OFFSET), 12, 0);
}

/* ---- text / blob / tensor ---------------------------------------------------- */

static void test_doc_text_is_copied_with_length(void)
{
    df_doc *d = df_doc_new(arena);
    char buf[] = "hello world";
    df_doc_set_text(d, buf, 5);
    buf[0] = 'J';
    size_t len;
    CU_ASSERT_STRING_EQUAL(df_doc_text(d, &len), "hello");
    CU_ASSERT_EQUAL(len, 5);
    CU_ASSERT_EQUAL(df_doc_content(d), DF_CONTENT_TEXT);
    const char raw[] = {'a', '\0', 'b'};
    df_doc_set_text(d, raw, 3);
    CU_ASSERT_EQUAL(memcmp(df_doc_text(d, &len), raw, 3), 0);
    CU_ASSERT_EQUAL(len, 3);
}

static void test_doc_text_blob_tensor_clear_each_other(void)
{
    df_doc *d = df_doc_new(arena);
    const uint8_t bytes[4] = {0, 1, 2, 255};
    const int32_t t[2] = {1, 2};
    const uint32_t shape[1] = {2};
    size_t len = 99;

    df_doc_set_text(d, "text", (size_t)-1);
    df_doc_set_blob(d, bytes, 4);
    CU_ASSERT_EQUAL(df_doc_content(d), DF_CONTENT_BLOB);
    CU_ASSERT_PTR_NULL(df_doc_text(d, &len));
    CU_ASSERT_EQUAL(len, 0);
    CU_ASSERT_EQUAL(memcmp(df_doc_blob(d, &len), bytes, 4), 0);
    CU_ASSERT_EQUAL(len, 4);

    CU_ASSERT_EQUAL(df_doc_set_tensor(d, t, sizeof t, shape, 1, "<i4"), DF_OK);
    CU_ASSERT_EQUAL(df_doc_content(d), DF_CONTENT_TENSOR);
    CU_ASSERT_PTR_NULL(df_doc_blob(d, &len));
    CU_ASSERT_EQUAL(len, 0);
    df_ndarray_view v;
    CU_ASSERT_EQUAL(df_doc_tensor(d, &v), 1);

    df_doc_set_text(d, "again", (size_t)-1);
    CU_ASSERT_EQUAL(df_doc_content(d), DF_CONTENT_TEXT);
    CU_ASSERT_EQUAL(df_doc_tensor(d, &v), 0);
    CU_ASSERT_PTR_NULL(df_doc_blob(d, NULL));

    df_doc_set_text(d, NULL, 0);
    CU_ASSERT_EQUAL(df_doc_content(d), DF_CONTENT_NONE);
    CU_ASSERT_PTR_NULL(df_doc_text(d, NULL));
}

static void test_doc_failed_tensor_set_keeps_the_old_content(void)
{
    df_doc *d = df_doc_new(arena);
    const uint32_t shape[1] = {3};
    df_doc_set_text(d, "keep me", (size_t)-1);
    CU_ASSERT_EQUAL(df_doc_set_tensor(d, "abcd", 4, shape, 1, "<f4"), DF_E_INVALID_INPUT);
    CU_ASSERT_EQUAL(df_doc_content(d), DF_CONTENT_TEXT);
    CU_ASSERT_STRING_EQUAL(df_doc_text(d, NULL), "keep me");
}

static void test_doc_tensor_view_describes_the_array(void)
{
    df_doc *d = df_doc_new(arena);
    const double data[6] = {1, 2, 3, 4, 5, 6};
    const uint32_t shape[2] = {2, 3};
    CU_ASSERT_EQUAL(df_doc_set_tensor(d, data, sizeof data, shape, 2, "<f8"), DF_OK);
    df_ndarray_view v;
    CU_ASSERT_EQUAL_FATAL(df_doc_tensor(d, &v), 1);
    CU_ASSERT_EQUAL(v.ndim, 2);
    CU_ASSERT_EQUAL(v.shape[0], 2);
    CU_ASSERT_EQUAL(v.shape[1], 3);
    CU_ASSERT_EQUAL(v.nbytes, sizeof data);
    CU_ASSERT_STRING_EQUAL(v.dtype, "<f8");
    CU_ASSERT_PTR_NOT_EQUAL(v.data, data);
    CU_ASSERT_EQUAL(memcmp(v.data, data, sizeof data), 0);
}

/* ---- embeddings ------------------------------------------------------------ */

static void test_dtype_size_knows_numpy_dtypes(void)
{
    CU_ASSERT_EQUAL(df_dtype_size("<f4"), 4);
    CU_ASSERT_EQUAL(df_dtype_size("<f8"), 8);
    CU_ASSERT_EQUAL(df_dtype_size("<f2"), 2);
    CU_ASSERT_EQUAL(df_dtype_size("<i8"), 8);
    CU_ASSERT_EQUAL(df_dtype_size("<i4"), 4);
    CU_ASSERT_EQUAL(df_dtype_size("|u1"), 1);
    CU_ASSERT_EQUAL(df_dtype_size("|b1"), 1);
    const char *bad[] = {"", "<", "<x4", "<f3", "<f", "f4x", "<U4", "<i0", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_EQUAL(df_dtype_size(bad[i]), 0);
}

static void test_doc_embedding_refuses_bad_dtype_and_keeps_the_old_one(void)
{
    df_doc *d = df_doc_new(arena);
    const float good[2] = {1, 2};
    df_doc_set_embedding_f32(d, good, 2);
    const uint32_t shape[1] = {2};
    const char *bad[] = {"", "<x4", "<f3", "float", "<U4"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_EQUAL(df_doc_set_embedding(d, good, sizeof good, shape, 1, bad[i]),
                        DF_E_INVALID_INPUT);
    df_ndarray_view v;
    CU_ASSERT_EQUAL_FATAL(df_doc_embedding(d, &v), 1);
    CU_ASSERT_STRING_EQUAL(v.dtype, "<f4");
    CU_ASSERT_EQUAL(memcmp(v.data, good, sizeof good), 0);
}

static void test_doc_embedding_refuses_nbytes_mismatch(void)
{
    df_doc *d = df_doc_new(arena);
    const float data[4] = {1, 2, 3, 4};
    const uint32_t shape[2] = {2, 2};
    CU_ASSERT_EQUAL(df_doc_set_embedding(d, data, 12, shape, 2, "<f4"), DF_E_INVALID_INPUT);
    CU_ASSERT_EQUAL(df_doc_set_embedding(d, data, 16, shape, 2, "<f8"), DF_E_INVALID_INPUT);
    CU_ASSERT_EQUAL(df_doc_set_embedding(d, NULL, 16, shape, 2, "<f4"), DF_E_INVALID_INPUT);
    CU_ASSERT_EQUAL(df_doc_embedding(d, NULL), 0);
    CU_ASSERT_EQUAL(df_doc_set_embedding(d, data, 16, shape, 2, "<f4"), DF_OK);
    CU_ASSERT_EQUAL(df_doc_embedding(d, NULL), 1);
}

static void test_doc_embedding_refuses_shape_whose_size_overflows(void)
{
    /* 65536^4 elements wrap a 64-bit count to 0, which must not match
     * nbytes == 0. */
    df_doc *d = df_doc_new(arena);
    const uint32_t shape[4] = {65536, 65536, 65536, 65536};
    CU_ASSERT_EQUAL(df_doc_set_embedding(d, NULL, 0, shape, 4, "<f4"), DF_E_INVALID_INPUT);
    CU_ASSERT_EQUAL(df_doc_set_tensor(d, NULL, 0, shape, 4, "|u1"), DF_E_INVALID_INPUT);
    CU_ASSERT_EQUAL(df_doc_embedding(d, NULL), 0);
}

static void test_doc_embedding_does_not_touch_content(void)
{
    df_doc *d = df_doc_new(arena);
    df_doc_set_text(d, "text", (size_t)-1);
    const float e[2] = {1, 2};
    df_doc_set_embedding_f32(d, e, 2);
    CU_ASSERT_EQUAL(df_doc_content(d), DF_CONTENT_TEXT);
    CU_ASSERT_STRING_EQUAL(df_doc_text(d, NULL), "text");
}

static void test_doc_set_embedding_f32_is_a_1d_float32_copy(void)
{
    df_doc *d = df_doc_new(arena);
    float e[3] = {0.5f, -1, 2};
    df_doc_set_embedding_f32(d, e, 3);
    e[0] = 99;
    df_ndarray_view v;
    CU_ASSERT_EQUAL_FATAL(df_doc_embedding(d, &v), 1);
    CU_ASSERT_EQUAL(v.ndim, 1);
    CU_ASSERT_EQUAL(v.shape[0], 3);
    CU_ASSERT_EQUAL(v.nbytes, 12);
    CU_ASSERT_STRING_EQUAL(v.dtype, "<f4");
    CU_ASSERT_DOUBLE_EQUAL(((const float *)v.data)[0], 0.5, 0);
}

static void test_doc_embedding_f32_of_float32_is_zero_copy_and_writable(void)
{
    df_doc *d = df_doc_new(arena);
    const float e[3] = {1, 2, 3};
    df_doc_set_embedding_f32(d, e, 3);
    size_t dim = 0;
    float *f = df_doc_embedding_f32(d, &dim);
    CU_ASSERT_EQUAL(dim, 3);
    df_ndarray_view v;
    df_doc_embedding(d, &v);
    CU_ASSERT_PTR_EQUAL(f, v.data);
    f[1] = 42;
    df_doc_embedding(d, &v);
    CU_ASSERT_DOUBLE_EQUAL(((const float *)v.data)[1], 42, 0);
}

static void test_doc_embedding_f32_converts_float64(void)
{
    df_doc *d = df_doc_new(arena);
    const double e[3] = {0.5, -2.25, 1e3};
    const uint32_t shape[1] = {3};
    CU_ASSERT_EQUAL(df_doc_set_embedding(d, e, sizeof e, shape, 1, "<f8"), DF_OK);
    size_t dim = 0;
    float *f = df_doc_embedding_f32(d, &dim);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(dim, 3);
    CU_ASSERT_DOUBLE_EQUAL(f[0], 0.5, 0);
    CU_ASSERT_DOUBLE_EQUAL(f[1], -2.25, 0);
    CU_ASSERT_DOUBLE_EQUAL(f[2], 1000, 0);
    /* The document now holds the float32 copy; writes go through. */
    f[0] = 7;
    df_ndarray_view v;
    df_doc_embedding(d, &v);
    CU_ASSERT_STRING_EQUAL(v.dtype, "<f4");
    CU_ASSERT_EQUAL(v.nbytes, 12);
    CU_ASSERT_DOUBLE_EQUAL(((const float *)v.data)[0], 7, 0);
    CU_ASSERT_PTR_EQUAL(df_doc_embedding_f32(d, NULL), f);
}

static void test_doc_embedding_f32_converts_int32_with_sign(void)
{
    df_doc *d = df_doc_new(arena);
    const int32_t e[4] = {-3, 7, INT32_MIN, INT32_MAX};
    const uint32_t shape[1] = {4};
    CU_ASSERT_EQUAL(df_doc_set_embedding(d, e, sizeof e, shape, 1, "<i4"), DF_OK);
    size_t dim = 0;
    float *f = df_doc_embedding_f32(d, &dim);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(dim, 4);
    CU_ASSERT_DOUBLE_EQUAL(f[0], -3, 0);
    CU_ASSERT_DOUBLE_EQUAL(f[1], 7, 0);
    CU_ASSERT_DOUBLE_EQUAL(f[2], (float)INT32_MIN, 0);
    CU_ASSERT_DOUBLE_EQUAL(f[3], (float)INT32_MAX, 0);
}

static void test_doc_embedding_f32_converts_uint8(void)
{
    df_doc *d = df_doc_new(arena);
    const uint8_t e[3] = {0, 128, 255};
    const uint32_t shape[1] = {3};
    CU_ASSERT_EQUAL(df_doc_set_embedding(d, e, sizeof e, shape, 1, "|u1"), DF_OK);
    size_t dim = 0;
    float *f = df_doc_embedding_f32(d, &dim);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(dim, 3);
    CU_ASSERT_DOUBLE_EQUAL(f[1], 128, 0);
    CU_ASSERT_DOUBLE_EQUAL(f[2], 255, 0);
}

static void test_doc_embedding_f32_is_null_without_embedding(void)
{
    df_doc *d = df_doc_new(arena);
    size_t dim = 99;
    CU_ASSERT_PTR_NULL(df_doc_embedding_f32(d, &dim));
    CU_ASSERT_EQUAL(dim, 0);
}

/* ---- location, nested arrays, maps --------------------------------------------- */

static void test_doc_location_set_get_and_clear(void)
{
    df_doc *d = df_doc_new(arena);
    size_t n = 99;
    CU_ASSERT_PTR_NULL(df_doc_location(d, &n));
    CU_ASSERT_EQUAL(n, 0);
    float loc[3] = {1, 2.5f, 3};
    df_doc_set_location(d, loc, 3);
    loc[0] = 9;
    const float *got = df_doc_location(d, &n);
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_DOUBLE_EQUAL(got[0], 1, 0);
    CU_ASSERT_DOUBLE_EQUAL(got[1], 2.5, 0);
    df_doc_set_location(d, NULL, 0);
    CU_ASSERT_PTR_NULL(df_doc_location(d, &n));
    CU_ASSERT_EQUAL(n, 0);
}

static void test_doc_chunks_and_matches_nest_three_deep(void)
{
    df_doc *root = df_doc_new(arena);
    CU_ASSERT_PTR_NULL(df_doc_chunks_peek(root));
    df_docs *chunks = df_doc_chunks(root);
    CU_ASSERT_PTR_NOT_NULL_FATAL(chunks);
    CU_ASSERT_EQUAL(df_docs_len(chunks), 0);
    CU_ASSERT_PTR_EQUAL(df_doc_chunks(root), chunks);
    df_doc *level1 = df_docs_append(chunks, df_doc_new(arena));
    df_doc *level2 = df_docs_append(df_doc_chunks(level1), df_doc_new(arena));
    df_doc *level3 = df_docs_append(df_doc_matches(level2), df_doc_new(arena));
    df_doc_set_text(level3, "deepest", (size_t)-1);
    df_doc_set_text(df_docs_append(df_doc_matches(root), df_doc_new(arena)), "match", (size_t)-1);

    const df_doc *l1 = df_docs_get(df_doc_chunks_peek(root), 0);
    const df_doc *l2 = df_docs_get(df_doc_chunks_peek(l1), 0);
    const df_doc *l3 = df_docs_get(df_doc_matches_peek(l2), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(l3);
    CU_ASSERT_STRING_EQUAL(df_doc_text(l3, NULL), "deepest");
    CU_ASSERT_PTR_NULL(df_doc_matches_peek(l3));
    CU_ASSERT_STRING_EQUAL(df_doc_text(df_docs_get(df_doc_matches_peek(root), 0), NULL), "match");
    CU_ASSERT_PTR_EQUAL(df_docs_arena(df_doc_matches(level2)), arena);
}

static void test_doc_tags_and_metadata_are_separate_maps(void)
{
    df_doc *d = df_doc_new(arena);
    CU_ASSERT_PTR_NULL(df_doc_tags_peek(d));
    df_value *tags = df_doc_tags(d);
    CU_ASSERT_EQUAL(df_value_type_of(tags), DF_VALUE_MAP);
    CU_ASSERT_PTR_EQUAL(df_doc_tags(d), tags);
    df_value_put_string(tags, "colour", "red");
    df_value_put_number(df_doc_metadata(d), "version", 2);
    CU_ASSERT_STRING_EQUAL(df_value_string(df_value_get(df_doc_tags_peek(d), "colour"), NULL),
                           "red");
    CU_ASSERT_PTR_NULL(df_value_get(df_doc_tags(d), "version"));
    CU_ASSERT_PTR_NULL(df_value_get(df_doc_metadata(d), "colour"));
    CU_ASSERT_DOUBLE_EQUAL(df_value_number(df_value_get(df_doc_metadata_peek(d), "version")), 2, 0);
}

/* ---- named scores ------------------------------------------------------------ */

static void test_doc_scores_set_get_and_list_in_order(void)
{
    df_doc *d = df_doc_new(arena);
    df_score s = {0.5f, "cosine", "similarity", "q1"};
    df_doc_set_score(d, DF_SCORES, "cos", &s);
    df_score t = {2, NULL, NULL, NULL};
    df_doc_set_score(d, DF_SCORES, "l2", &t);
    CU_ASSERT_EQUAL(df_doc_score_count(d, DF_SCORES), 2);
    df_score out;
    CU_ASSERT_EQUAL(df_doc_score(d, DF_SCORES, "cos", &out), 1);
    CU_ASSERT_DOUBLE_EQUAL(out.value, 0.5, 0);
    CU_ASSERT_STRING_EQUAL(out.op_name, "cosine");
    CU_ASSERT_STRING_EQUAL(out.description, "similarity");
    CU_ASSERT_STRING_EQUAL(out.ref_id, "q1");
    CU_ASSERT_EQUAL(df_doc_score(d, DF_SCORES, "l2", &out), 1);
    CU_ASSERT_STRING_EQUAL(out.op_name, ""); /* NULL means "" */
    CU_ASSERT_STRING_EQUAL(df_doc_score_at(d, DF_SCORES, 0, &out), "cos");
    CU_ASSERT_STRING_EQUAL(df_doc_score_at(d, DF_SCORES, 1, &out), "l2");
    CU_ASSERT_DOUBLE_EQUAL(out.value, 2, 0);
    CU_ASSERT_PTR_NULL(df_doc_score_at(d, DF_SCORES, 2, &out));
    CU_ASSERT_EQUAL(df_doc_score(d, DF_SCORES, "absent", &out), 0);
}

static void test_doc_scores_and_evaluations_are_separate(void)
{
    df_doc *d = df_doc_new(arena);
    df_score s = {1, "op", "", ""};
    df_doc_set_score(d, DF_EVALUATIONS, "recall", &s);
    CU_ASSERT_EQUAL(df_doc_score_count(d, DF_EVALUATIONS), 1);
    CU_ASSERT_EQUAL(df_doc_score_count(d, DF_SCORES), 0);
    CU_ASSERT_EQUAL(df_doc_score(d, DF_SCORES, "recall", NULL), 0);
    CU_ASSERT_EQUAL(df_doc_score(d, DF_EVALUATIONS, "recall", NULL), 1);
}

static void test_doc_set_score_replaces_an_existing_name(void)
{
    df_doc *d = df_doc_new(arena);
    df_score s = {0.5f, "first", "d", "r"};
    df_doc_set_score(d, DF_SCORES, "cos", &s);
    df_doc_set_score(d, DF_SCORES, "other", &s);
    df_score t = {0.9f, "second", NULL, NULL};
    df_doc_set_score(d, DF_SCORES, "cos", &t);
    CU_ASSERT_EQUAL(df_doc_score_count(d, DF_SCORES), 2);
    df_score out;
    CU_ASSERT_STRING_EQUAL(df_doc_score_at(d, DF_SCORES, 0, &out), "cos");
    CU_ASSERT_DOUBLE_EQUAL(out.value, 0.9f, 0);
    CU_ASSERT_STRING_EQUAL(out.op_name, "second");
    CU_ASSERT_STRING_EQUAL(out.description, "");
    df_doc_set_score(d, DF_EVALUATIONS, "cos", &t);
    df_doc_set_score(d, DF_EVALUATIONS, "cos", &s);
    CU_ASSERT_EQUAL(df_doc_score_count(d, DF_EVALUATIONS), 1);
    CU_ASSERT_EQUAL(df_doc_score(d, DF_EVALUATIONS, "cos", &out), 1);
    CU_ASSERT_STRING_EQUAL(out.op_name, "first");
}

static void test_doc_many_scores_survive_growth(void)
{
    df_doc *d = df_doc_new(arena);
    for (int i = 0; i < 40; i++) {
        char name[16];
        snprintf(name, sizeof name, "s%d", i);
        df_score s = {(float)i, name, NULL, NULL};
        df_doc_set_score(d, DF_SCORES, name, &s);
    }
    CU_ASSERT_EQUAL(df_doc_score_count(d, DF_SCORES), 40);
    df_score out;
    CU_ASSERT_EQUAL(df_doc_score(d, DF_SCORES, "s0", &out), 1);
    CU_ASSERT_STRING_EQUAL(out.op_name, "s0");
    CU_ASSERT_EQUAL(df_doc_score(d, DF_SCORES, "s39", &out), 1);
    CU_ASSERT_DOUBLE_EQUAL(out.value, 39, 0);
}

/* ---- arrays ------------------------------------------------------------------ */

static df_docs *texts(df_arena *a, int n)
{
    df_docs *docs = df_docs_new(a);
    for (int i = 0; i < n; i++) {
        df_doc *d = df_doc_new(a);
        char id[16];
        snprintf(id, sizeof id, "id%d", i);
        df_doc_set_str(d, DF_FIELD_ID, id);
        df_doc_set_text(d, id, (size_t)-1);
        df_docs_append(docs, d);
    }
    return docs;
}

static void test_docs_append_get_and_len(void)
{
    df_docs *docs = texts(arena, 100);
    CU_ASSERT_EQUAL(df_docs_len(docs), 100);
    CU_ASSERT_STRING_EQUAL(df_doc_text(df_docs_get(docs, 0), NULL), "id0");
    CU_ASSERT_STRING_EQUAL(df_doc_text(df_docs_get(docs, 99), NULL), "id99");
    CU_ASSERT_PTR_NULL(df_docs_get(docs, 100));
    CU_ASSERT_PTR_EQUAL(df_docs_arena(docs), arena);
}

static void test_docs_append_from_the_same_arena_stores_the_document(void)
{
    df_docs *docs = df_docs_new(arena);
    df_doc *d = df_doc_new(arena);
    CU_ASSERT_PTR_EQUAL(df_docs_append(docs, d), d);
    CU_ASSERT_PTR_EQUAL(df_docs_get(docs, 0), d);
    CU_ASSERT_PTR_NULL(df_docs_append(docs, NULL));
    CU_ASSERT_EQUAL(df_docs_len(docs), 1);
}

static void test_docs_find_returns_the_first_with_that_id(void)
{
    df_docs *docs = texts(arena, 5);
    df_doc *dup = df_doc_new(arena);
    df_doc_set_str(dup, DF_FIELD_ID, "id3");
    df_doc_set_text(dup, "duplicate", (size_t)-1);
    df_docs_append(docs, dup);
    CU_ASSERT_PTR_EQUAL(df_docs_find(docs, "id3"), df_docs_get(docs, 3));
    CU_ASSERT_PTR_NULL(df_docs_find(docs, "absent"));
    CU_ASSERT_PTR_NULL(df_docs_find(docs, NULL));
}

static void test_docs_remove_shifts_later_documents(void)
{
    df_docs *docs = texts(arena, 4);
    CU_ASSERT_EQUAL(df_docs_remove(docs, 1), DF_OK);
    CU_ASSERT_EQUAL(df_docs_len(docs), 3);
    CU_ASSERT_STRING_EQUAL(df_doc_str(df_docs_get(docs, 0), DF_FIELD_ID), "id0");
    CU_ASSERT_STRING_EQUAL(df_doc_str(df_docs_get(docs, 1), DF_FIELD_ID), "id2");
    CU_ASSERT_STRING_EQUAL(df_doc_str(df_docs_get(docs, 2), DF_FIELD_ID), "id3");
    CU_ASSERT_EQUAL(df_docs_remove(docs, 2), DF_OK); /* the last one */
    CU_ASSERT_EQUAL(df_docs_len(docs), 2);
    CU_ASSERT_EQUAL(df_docs_remove(docs, 2), DF_E_NOT_FOUND);
    CU_ASSERT_PTR_NULL(df_docs_find(docs, "id1"));
}

static void test_docs_clear_empties_and_allows_reuse(void)
{
    df_docs *docs = texts(arena, 3);
    df_docs_clear(docs);
    CU_ASSERT_EQUAL(df_docs_len(docs), 0);
    CU_ASSERT_PTR_NULL(df_docs_get(docs, 0));
    df_docs_append(docs, df_doc_new(arena));
    CU_ASSERT_EQUAL(df_docs_len(docs), 1);
}

static void test_docs_append_from_another_arena_deep_copies(void)
{
    df_arena *src_arena = df_arena_new(0);
    df_doc *src = full_doc(src_arena);
    df_docs *docs = df_docs_new(arena);
    df_doc *stored = df_docs_append(docs, src);
    CU_ASSERT_PTR_NOT_EQUAL_FATAL(stored, src);
    CU_ASSERT_PTR_EQUAL(df_doc_arena(stored), arena);
    CU_ASSERT(df_doc_equal(stored, src));
    /* Mutate every kind of field of the source ... */
    df_doc_set_text(src, "changed", (size_t)-1);
    df_value_put_string(df_doc_tags(src), "k", "changed");
    df_doc_set_text(df_docs_get(df_doc_chunks(src), 0), "changed", (size_t)-1);
    df_doc_embedding_f32(src, NULL)[0] = 100;
    df_score s = {0, NULL, NULL, NULL};
    df_doc_set_score(src, DF_SCORES, "cos", &s);
    /* ... and free it: the stored copy must not notice. */
    df_arena_free(src_arena);
    CU_ASSERT_STRING_EQUAL(df_doc_text(stored, NULL), "hello");
    CU_ASSERT_STRING_EQUAL(df_value_string(df_value_get(df_doc_tags(stored), "k"), NULL), "v");
    CU_ASSERT_STRING_EQUAL(df_doc_text(df_docs_get(df_doc_chunks(stored), 0), NULL), "hel");
    CU_ASSERT_DOUBLE_EQUAL(df_doc_embedding_f32(stored, NULL)[0], 1, 0);
    df_score out;
    CU_ASSERT_EQUAL(df_doc_score(stored, DF_SCORES, "cos", &out), 1);
    CU_ASSERT_DOUBLE_EQUAL(out.value, 0.75, 0);
    CU_ASSERT_STRING_EQUAL(out.op_name, "cosine");
    const df_doc *deep = df_docs_get(df_doc_matches_peek(df_docs_get(df_doc_chunks(stored), 0)), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(deep);
    CU_ASSERT_STRING_EQUAL(df_doc_text(deep, NULL), "deep");
}

/* ---- the embeddings matrix --------------------------------------------------- */

static void test_docs_embeddings_is_a_contiguous_row_major_matrix(void)
{
    df_docs *docs = df_docs_new(arena);
    for (int i = 0; i < 4; i++) {
        float v[3] = {(float)i, (float)i + 0.5f, (float)-i};
        df_docs_append(docs, doc_with_embedding(arena, v, 3));
        df_doc_set_text(df_docs_get(docs, (size_t)i), "spacer", (size_t)-1);
    }
    size_t rows = 0, dim = 0;
    float *m = df_docs_embeddings(docs, &rows, &dim);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(rows, 4);
    CU_ASSERT_EQUAL(dim, 3);
    int ok = 1;
    for (int i = 0; i < 4; i++)
        if (m[i * 3] != (float)i || m[i * 3 + 1] != (float)i + 0.5f || m[i * 3 + 2] != (float)-i)
            ok = 0;
    CU_ASSERT(ok);
}

static void test_docs_embeddings_second_call_is_zero_copy(void)
{
    df_docs *docs = df_docs_new(arena);
    for (int i = 0; i < 5; i++) {
        float v[2] = {(float)i, 1};
        df_docs_append(docs, doc_with_embedding(arena, v, 2));
    }
    size_t rows, dim;
    float *first = df_docs_embeddings(docs, &rows, &dim);
    size_t used = df_arena_used(arena);
    float *second = df_docs_embeddings(docs, &rows, &dim);
    CU_ASSERT_PTR_NOT_NULL(first);
    CU_ASSERT_PTR_EQUAL(first, second);
    CU_ASSERT_EQUAL(df_arena_used(arena), used); /* nothing copied the second time */
    CU_ASSERT_EQUAL(rows, 5);
}

static void test_docs_embeddings_writes_reach_the_documents(void)
{
    df_docs *docs = df_docs_new(arena);
    for (int i = 0; i < 3; i++) {
        float v[4] = {0, 0, 0, 0};
        df_docs_append(docs, doc_with_embedding(arena, v, 4));
    }
    size_t rows, dim;
    float *m = df_docs_embeddings(docs, &rows, &dim);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    m[1 * 4 + 2] = 42;
    df_ndarray_view v;
    CU_ASSERT_EQUAL_FATAL(df_doc_embedding(df_docs_get(docs, 1), &v), 1);
    CU_ASSERT_DOUBLE_EQUAL(((const float *)v.data)[2], 42, 0);
    CU_ASSERT_DOUBLE_EQUAL(df_doc_embedding_f32(df_docs_get(docs, 1), NULL)[2], 42, 0);
    /* And the other way: writing a document's embedding writes the matrix. */
    df_doc_embedding_f32(df_docs_get(docs, 2), NULL)[0] = 7;
    CU_ASSERT_DOUBLE_EQUAL(m[2 * 4 + 0], 7, 0);
}

static void test_docs_embeddings_converts_other_dtypes(void)
{
    df_docs *docs = df_docs_new(arena);
    const double e64[2] = {1.5, -2};
    const int32_t e32[2] = {3, 4};
    const uint32_t shape[1] = {2};
    df_doc_set_embedding(df_docs_append(docs, df_doc_new(arena)), e64, sizeof e64, shape, 1, "<f8");
    df_doc_set_embedding(df_docs_append(docs, df_doc_new(arena)), e32, sizeof e32, shape, 1, "<i4");
    size_t rows, dim;
    float *m = df_docs_embeddings(docs, &rows, &dim);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(rows, 2);
    CU_ASSERT_EQUAL(dim, 2);
    CU_ASSERT_DOUBLE_EQUAL(m[0], 1.5, 0);
    CU_ASSERT_DOUBLE_EQUAL(m[1], -2, 0);
    CU_ASSERT_DOUBLE_EQUAL(m[2], 3, 0);
    CU_ASSERT_DOUBLE_EQUAL(m[3], 4, 0);
}

static void test_docs_embeddings_mismatched_dim_names_the_row(void)
{
    df_docs *docs = df_docs_new(arena);
    const float v3[3] = {1, 2, 3}, v4[4] = {1, 2, 3, 4};
    df_docs_append(docs, doc_with_embedding(arena, v3, 3));
    df_docs_append(docs, doc_with_embedding(arena, v3, 3));
    df_docs_append(docs, doc_with_embedding(arena, v4, 4));
    df_docs_append(docs, doc_with_embedding(arena, v3, 3));
    size_t rows = 99, dim = 99;
    CU_ASSERT_PTR_NULL(df_docs_embeddings(docs, &rows, &dim));
    CU_ASSERT_EQUAL(rows, 2);
}

static void test_docs_embeddings_missing_embedding_names_the_row(void)
{
    df_docs *docs = df_docs_new(arena);
    const float v[2] = {1, 2};
    df_docs_append(docs, doc_with_embedding(arena, v, 2));
    df_docs_append(docs, doc_with_embedding(arena, v, 2));
    df_docs_append(docs, df_doc_new(arena));
    size_t rows = 99, dim = 99;
    CU_ASSERT_PTR_NULL(df_docs_embeddings(docs, &rows, &dim));
    CU_ASSERT_EQUAL(rows, 2);
}

static void test_docs_embeddings_of_an_empty_array_is_null_with_zero_rows(void)
{
    size_t rows = 99, dim = 99;
    CU_ASSERT_PTR_NULL(df_docs_embeddings(df_docs_new(arena), &rows, &dim));
    CU_ASSERT_EQUAL(rows, 0);
    CU_ASSERT_EQUAL(dim, 0);
}

static void test_docs_set_embeddings_copies_each_row(void)
{
    df_docs *docs = texts(arena, 3);
    float matrix[6] = {1, 2, 3, 4, 5, 6};
    CU_ASSERT_EQUAL(df_docs_set_embeddings(docs, matrix, 3, 2), DF_OK);
    matrix[0] = 100; /* copied: the caller's matrix is no longer referenced */
    size_t dim;
    const float *row1 = df_doc_embedding_f32(df_docs_get(docs, 1), &dim);
    CU_ASSERT_EQUAL(dim, 2);
    CU_ASSERT_DOUBLE_EQUAL(row1[0], 3, 0);
    CU_ASSERT_DOUBLE_EQUAL(row1[1], 4, 0);
    CU_ASSERT_DOUBLE_EQUAL(df_doc_embedding_f32(df_docs_get(docs, 0), NULL)[0], 1, 0);
    df_ndarray_view v;
    df_doc_embedding(df_docs_get(docs, 2), &v);
    CU_ASSERT_EQUAL(v.ndim, 1);
    CU_ASSERT_EQUAL(v.shape[0], 2);
    CU_ASSERT_STRING_EQUAL(v.dtype, "<f4");
    size_t rows;
    float *m = df_docs_embeddings(docs, &rows, &dim);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_DOUBLE_EQUAL(m[5], 6, 0);
}

static void test_docs_set_embeddings_refuses_a_row_count_mismatch(void)
{
    df_docs *docs = texts(arena, 3);
    const float matrix[4] = {1, 2, 3, 4};
    CU_ASSERT_EQUAL(df_docs_set_embeddings(docs, matrix, 2, 2), DF_E_INVALID_INPUT);
    CU_ASSERT_EQUAL(df_doc_embedding(df_docs_get(docs, 0), NULL), 0);
}

static void test_docs_set_scores_sets_one_value_per_document(void)
{
    df_docs *docs = texts(arena, 3);
    df_score old = {9, "keep-op", NULL, NULL};
    df_doc_set_score(df_docs_get(docs, 1), DF_SCORES, "rank", &old);
    const float values[3] = {0.1f, 0.2f, 0.3f};
    CU_ASSERT_EQUAL(df_docs_set_scores(docs, "rank", values, 3), DF_OK);
    df_score out;
    for (size_t i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(df_doc_score(df_docs_get(docs, i), DF_SCORES, "rank", &out), 1);
        CU_ASSERT_DOUBLE_EQUAL(out.value, values[i], 0);
        CU_ASSERT_EQUAL(df_doc_score_count(df_docs_get(docs, i), DF_SCORES), 1);
    }
    CU_ASSERT_EQUAL(df_docs_set_scores(docs, "rank", values, 2), DF_E_INVALID_INPUT);
}

/* ---- copy and equality ------------------------------------------------------------ */

static void test_doc_copy_is_equal_and_independent(void)
{
    df_doc *d = full_doc(arena);
    df_arena *other = df_arena_new(0);
    df_doc *c = df_doc_copy(other, d);
    CU_ASSERT_PTR_EQUAL(df_doc_arena(c), other);
    CU_ASSERT(df_doc_equal(c, d));
    CU_ASSERT_STRING_EQUAL(df_doc_str(c, DF_FIELD_ID), df_doc_str(d, DF_FIELD_ID));
    df_doc_set_num(c, DF_FIELD_WEIGHT, 3);
    CU_ASSERT_FALSE(df_doc_equal(c, d));
    CU_ASSERT_DOUBLE_EQUAL(df_doc_num(d, DF_FIELD_WEIGHT), 0.5, 0);
    df_arena_free(other);
    CU_ASSERT_STRING_EQUAL(df_doc_text(d, NULL), "hello");
}

static void test_doc_equal_notices_each_field(void)
{
    df_doc *base = full_doc(arena);
    for (int field = 0; field < 14; field++) {
        df_doc *c = df_doc_copy(arena, base);
        df_score s = {0.1f, NULL, NULL, NULL};
        float loc[1] = {1};
        switch (field) {
        case 0:
            df_doc_set_str(c, DF_FIELD_ID, "other");
            break;
        case 1:
            df_doc_set_str(c, DF_FIELD_PARENT_ID, "other");
            break;
        case 2:
            df_doc_set_str(c, DF_FIELD_URI, "other");
            break;
        case 3:
            df_doc_set_str(c, DF_FIELD_MIME_TYPE, "other");
            break;
        case 4:
            df_doc_set_num(c, DF_FIELD_GRANULARITY, 9);
            break;
        case 5:
            df_doc_set_num(c, DF_FIELD_OFFSET, 9);
            break;
        case 6:
            df_doc_set_text(c, "hellO", (size_t)-1);
            break;
        case 7:
            df_doc_embedding_f32(c, NULL)[2] = 0;
            break;
        case 8:
            df_doc_set_location(c, loc, 1);
            break;
        case 9:
            df_value_put_bool(df_doc_tags(c), "extra", 1);
            break;
        case 10:
            df_value_put_number(df_doc_metadata(c), "m", 2);
            break;
        case 11:
            df_doc_set_score(c, DF_SCORES, "cos", &s);
            break;
        case 12:
            df_doc_set_score(c, DF_EVALUATIONS, "recall", &s);
            break;
        case 13:
            df_doc_set_text(df_docs_get(df_doc_matches(df_docs_get(df_doc_chunks(c), 0)), 0), "x",
                            1);
            break;
        }
        if (df_doc_equal(c, base)) CU_FAIL("a changed field went unnoticed");
    }
}

static void test_doc_equal_treats_empty_tags_as_unset(void)
{
    df_doc *x = df_doc_new(arena);
    df_doc *y = df_doc_copy(arena, x);
    df_doc_tags(y);
    df_doc_chunks(y);
    CU_ASSERT(df_doc_equal(x, y));
}

static void test_docs_copy_and_equal(void)
{
    df_docs *docs = texts(arena, 3);
    df_docs_append(docs, full_doc(arena));
    df_arena *other = df_arena_new(0);
    df_docs *c = df_docs_copy(other, docs);
    CU_ASSERT_EQUAL(df_docs_len(c), 4);
    CU_ASSERT(df_docs_equal(c, docs));
    CU_ASSERT_PTR_NOT_EQUAL(df_docs_get(c, 0), df_docs_get(docs, 0));
    df_docs_remove(c, 3);
    CU_ASSERT_FALSE(df_docs_equal(c, docs));
    CU_ASSERT_EQUAL(df_docs_len(docs), 4);
    df_arena_free(other);
    CU_ASSERT(df_docs_equal(df_docs_copy(arena, NULL), df_docs_new(arena)));
}

void df_test_register(void)
{
    CU_pSuite s = CU_add_suite("document", setup, teardown);
    CU_add_test(s, "new ids are 32 hex and unique over 10k",
                test_doc_new_ids_are_32_hex_and_unique_over_10k);
    CU_add_test(s, "random_id writes 32 hex and NUL", test_doc_random_id_writes_32_hex_and_nul);
    CU_add_test(s, "new_empty has no id", test_doc_new_empty_has_no_id);
    CU_add_test(s, "string fields set, get, copy and clear",
                test_doc_string_fields_set_get_copy_and_clear);
    CU_add_test(s, "unset string fields read as \"\"",
                test_doc_unset_string_fields_read_as_empty_not_null);
    CU_add_test(s, "number fields set and get", test_doc_number_fields_set_and_get);
    CU_add_test(s, "text is copied with its length", test_doc_text_is_copied_with_length);
    CU_add_test(s, "text, blob and tensor clear each other",
                test_doc_text_blob_tensor_clear_each_other);
    CU_add_test(s, "failed tensor set keeps the old content",
                test_doc_failed_tensor_set_keeps_the_old_content);
    CU_add_test(s, "tensor view describes the array", test_doc_tensor_view_describes_the_array);
    CU_add_test(s, "dtype_size knows numpy dtypes", test_dtype_size_knows_numpy_dtypes);
    CU_add_test(s, "embedding refuses a bad dtype and keeps the old one",
                test_doc_embedding_refuses_bad_dtype_and_keeps_the_old_one);
    CU_add_test(s, "embedding refuses an nbytes mismatch",
                test_doc_embedding_refuses_nbytes_mismatch);
    CU_add_test(s, "embedding refuses a shape whose size overflows",
                test_doc_embedding_refuses_shape_whose_size_overflows);
    CU_add_test(s, "embedding does not touch content", test_doc_embedding_does_not_touch_content);
    CU_add_test(s, "set_embedding_f32 is a 1-d float32 copy",
                test_doc_set_embedding_f32_is_a_1d_float32_copy);
    CU_add_test(s, "embedding_f32 of float32 is zero-copy and writable",
                test_doc_embedding_f32_of_float32_is_zero_copy_and_writable);
    CU_add_test(s, "embedding_f32 converts <f8", test_doc_embedding_f32_converts_float64);
    CU_add_test(s, "embedding_f32 converts <i4 with sign",
                test_doc_embedding_f32_converts_int32_with_sign);
    CU_add_test(s, "embedding_f32 converts |u1", test_doc_embedding_f32_converts_uint8);
    CU_add_test(s, "embedding_f32 is NULL without embedding",
                test_doc_embedding_f32_is_null_without_embedding);
    CU_add_test(s, "location set, get and clear", test_doc_location_set_get_and_clear);
    CU_add_test(s, "chunks and matches nest three deep",
                test_doc_chunks_and_matches_nest_three_deep);
    CU_add_test(s, "tags and metadata are separate maps",
                test_doc_tags_and_metadata_are_separate_maps);
    CU_add_test(s, "scores set, get and list in order", test_doc_scores_set_get_and_list_in_order);
    CU_add_test(s, "scores and evaluations are separate",
                test_doc_scores_and_evaluations_are_separate);
    CU_add_test(s, "set_score replaces an existing name",
                test_doc_set_score_replaces_an_existing_name);
    CU_add_test(s, "many scores survive growth", test_doc_many_scores_survive_growth);
    CU_add_test(s, "docs append, get and len", test_docs_append_get_and_len);
    CU_add_test(s, "docs append from the same arena stores the document",
                test_docs_append_from_the_same_arena_stores_the_document);
    CU_add_test(s, "docs find returns the first with that id",
                test_docs_find_returns_the_first_with_that_id);
    CU_add_test(s, "docs remove shifts later documents", test_docs_remove_shifts_later_documents);
    CU_add_test(s, "docs clear empties and allows reuse", test_docs_clear_empties_and_allows_reuse);
    CU_add_test(s, "docs append from another arena deep-copies",
                test_docs_append_from_another_arena_deep_copies);
    CU_add_test(s, "embeddings is a contiguous row-major matrix",
                test_docs_embeddings_is_a_contiguous_row_major_matrix);
    CU_add_test(s, "embeddings second call is zero-copy",
                test_docs_embeddings_second_call_is_zero_copy);
    CU_add_test(s, "embeddings writes reach the documents",
                test_docs_embeddings_writes_reach_the_documents);
    CU_add_test(s, "embeddings converts other dtypes", test_docs_embeddings_converts_other_dtypes);
    CU_add_test(s, "embeddings with a mismatched dim names the row",
                test_docs_embeddings_mismatched_dim_names_the_row);
    CU_add_test(s, "embeddings with a missing embedding names the row",
                test_docs_embeddings_missing_embedding_names_the_row);
    CU_add_test(s, "embeddings of an empty array is NULL with 0 rows",
                test_docs_embeddings_of_an_empty_array_is_null_with_zero_rows);
    CU_add_test(s, "set_embeddings copies each row", test_docs_set_embeddings_copies_each_row);
    CU_add_test(s, "set_embeddings refuses a row count mismatch",
                test_docs_set_embeddings_refuses_a_row_count_mismatch);
    CU_add_test(s, "set_scores sets one value per document",
                test_docs_set_scores_sets_one_value_per_document);
    CU_add_test(s, "doc copy is equal and independent", test_doc_copy_is_equal_and_independent);
    CU_add_test(s, "doc equal notices each field", test_doc_equal_notices_each_field);
    CU_add_test(s, "doc equal treats empty tags as unset",
                test_doc_equal_treats_empty_tags_as_unset);
    CU_add_test(s, "docs copy and equal", test_docs_copy_and_equal);
}
