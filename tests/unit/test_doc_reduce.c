/*
 * test_doc_reduce.c -- Jina's reduce of document arrays: new ids appended in
 * order, same-id documents merged field by field with priority to the left,
 * tags and scores unioned, matches and chunks reduced recursively by id,
 * reduce_all as successive reduces, deep copies across arenas, and a large
 * reduce that must not be quadratic.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "docflow/doc_reduce.h"

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

static df_doc *doc_with_id(df_arena *a, const char *id)
{
    df_doc *d = df_doc_new_empty(a);
    df_doc_set_str(d, DF_FIELD_ID, id);
    return d;
}

static df_doc *add(df_docs *docs, const char *id)
{
    return df_docs_append(docs, doc_with_id(df_docs_arena(docs), id));
}

static df_doc *add_text(df_docs *docs, const char *id, const char *text)
{
    df_doc *d = add(docs, id);
    df_doc_set_text(d, text, (size_t)-1);
    return d;
}

/* "a,b,c": the ids of the array, in order. */
static const char *ids_of(const df_docs *docs)
{
    static char out[512];
    out[0] = '\0';
    for (size_t i = 0; i < df_docs_len(docs); i++) {
        if (i) strcat(out, ",");
        strcat(out, df_doc_str(df_docs_get(docs, i), DF_FIELD_ID));
    }
    return out;
}

static const char *text_of(const df_doc *d)
{
    const char *t = df_doc_text(d, NULL);
    return t ? t : "(none)";
}

static double tag_number(df_doc *d, const char *key)
{
    return df_value_number(df_value_get(df_doc_tags(d), key));
}

static float score_value(const df_doc *d, df_score_map map, const char *name)
{
    df_score s = {-1, NULL, NULL, NULL};
    df_doc_score(d, map, name, &s);
    return s.value;
}

/* ---- arrays ------------------------------------------------------------------- */

static void test_reduce_appends_new_ids_in_order(void)
{
    df_docs *into = df_docs_new(arena), *other = df_docs_new(arena);
    add_text(into, "a", "A");
    add_text(into, "b", "B");
    add_text(other, "c", "C");
    add_text(other, "a", "other A");
    add_text(other, "d", "D");
    df_docs_reduce(into, other);
    CU_ASSERT_STRING_EQUAL(ids_of(into), "a,b,c,d");
    CU_ASSERT_STRING_EQUAL(text_of(df_docs_find(into, "a")), "A");
    CU_ASSERT_STRING_EQUAL(text_of(df_docs_find(into, "c")), "C");
    CU_ASSERT_STRING_EQUAL(ids_of(other), "c,a,d"); /* other is left alone */
}

static void test_reduce_into_an_empty_array_copies_everything(void)
{
    df_docs *into = df_docs_new(arena), *other = df_docs_new(arena);
    add_text(other, "x", "X");
    add_text(other, "y", "Y");
    df_docs_reduce(into, other);
    CU_ASSERT_TRUE(df_docs_equal(into, other));
    CU_ASSERT_PTR_NOT_EQUAL(df_docs_get(into, 0), df_docs_get(other, 0));
}

static void test_reduce_repeated_new_id_is_appended_once_then_merged(void)
{
    df_docs *into = df_docs_new(arena), *other = df_docs_new(arena);
    add_text(into, "a", "A");
    add_text(other, "n", "first");
    df_doc *second = add(other, "n");
    df_doc_set_str(second, DF_FIELD_URI, "second://uri");
    df_doc_set_text(second, "second", (size_t)-1);
    df_docs_reduce(into, other);
    CU_ASSERT_STRING_EQUAL(ids_of(into), "a,n");
    df_doc *n = df_docs_find(into, "n");
    CU_ASSERT_STRING_EQUAL(text_of(n), "first");
    CU_ASSERT_STRING_EQUAL(df_doc_str(n, DF_FIELD_URI), "second://uri");
}

static void test_reduce_with_itself_or_nothing_changes_nothing(void)
{
    df_docs *into = df_docs_new(arena);
    add_text(into, "a", "A");
    add(into, "b");
    df_docs *before = df_docs_copy(arena, into);
    df_docs_reduce(into, into);
    df_docs_reduce(into, NULL);
    df_docs_reduce(into, df_docs_new(arena));
    df_docs_reduce(NULL, into);
    CU_ASSERT_TRUE(df_docs_equal(into, before));
    df_doc_reduce(NULL, df_docs_get(into, 0));
    df_doc_reduce(df_docs_get(into, 0), NULL);
    df_doc_reduce(df_docs_get(into, 0), df_docs_get(into, 0));
    CU_ASSERT_TRUE(df_docs_equal(into, before));
}

/* ---- one document -------------------------------------------------------------- */

static void test_reduce_takes_only_fields_empty_on_the_left(void)
{
    static const float emb_left[] = {1, 2}, emb_right[] = {9, 9, 9}, loc[] = {3, 4};
    df_doc *left = doc_with_id(arena, "same");
    df_doc_set_str(left, DF_FIELD_URI, "left://uri");
    df_doc_set_num(left, DF_FIELD_GRANULARITY, 1);
    df_doc_set_num(left, DF_FIELD_WEIGHT, 0.5);

    df_doc *right = doc_with_id(arena, "same");
    df_doc_set_str(right, DF_FIELD_PARENT_ID, "right-parent");
    df_doc_set_str(right, DF_FIELD_URI, "right://uri");
    df_doc_set_str(right, DF_FIELD_MIME_TYPE, "text/plain");
    df_doc_set_str(right, DF_FIELD_MODALITY, "text");
    df_doc_set_text(right, "right text", (size_t)-1);
    df_doc_set_embedding_f32(right, emb_right, 3);
    df_doc_set_num(right, DF_FIELD_GRANULARITY, 2);
    df_doc_set_num(right, DF_FIELD_ADJACENCY, 3);
    df_doc_set_num(right, DF_FIELD_WEIGHT, 0.25);
    df_doc_set_num(right, DF_FIELD_OFFSET, 7);
    df_doc_set_location(right, loc, 2);

    df_doc_reduce(left, right);
    CU_ASSERT_STRING_EQUAL(df_doc_str(left, DF_FIELD_ID), "same");
    CU_ASSERT_STRING_EQUAL(df_doc_str(left, DF_FIELD_PARENT_ID), ""); /* never taken */
    CU_ASSERT_STRING_EQUAL(df_doc_str(left, DF_FIELD_URI), "left://uri");
    CU_ASSERT_STRING_EQUAL(df_doc_str(left, DF_FIELD_MIME_TYPE), "text/plain");
    CU_ASSERT_STRING_EQUAL(df_doc_str(left, DF_FIELD_MODALITY), "text");
    CU_ASSERT_STRING_EQUAL(text_of(left), "right text");
    size_t dim;
    float *e = df_doc_embedding_f32(left, &dim);
    CU_ASSERT_EQUAL_FATAL(dim, 3);
    CU_ASSERT_EQUAL(e[2], 9);
    CU_ASSERT_EQUAL(df_doc_num(left, DF_FIELD_GRANULARITY), 1);
    CU_ASSERT_EQUAL(df_doc_num(left, DF_FIELD_ADJACENCY), 3);
    CU_ASSERT_EQUAL(df_doc_num(left, DF_FIELD_WEIGHT), 0.5);
    CU_ASSERT_EQUAL(df_doc_num(left, DF_FIELD_OFFSET), 7);
    size_t n;
    const float *l = df_doc_location(left, &n);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_EQUAL(l[1], 4);

    /* a second right-hand document cannot override what is now set */
    df_doc *third = doc_with_id(arena, "same");
    df_doc_set_embedding_f32(third, emb_left, 2);
    df_doc_set_text(third, "third", (size_t)-1);
    df_doc_set_location(third, emb_left, 2);
    df_doc_reduce(left, third);
    df_doc_embedding_f32(left, &dim);
    CU_ASSERT_EQUAL(dim, 3);
    CU_ASSERT_STRING_EQUAL(text_of(left), "right text");
    CU_ASSERT_EQUAL(df_doc_location(left, &n)[0], 3);
}

static void test_reduce_content_is_one_field_text_blob_or_tensor(void)
{
    static const float t[] = {1, 2, 3, 4};
    static const uint32_t shape[] = {2, 2};
    df_doc *with_text = doc_with_id(arena, "d");
    df_doc_set_text(with_text, "keep", (size_t)-1);
    df_doc *with_blob = doc_with_id(arena, "d");
    df_doc_set_blob(with_blob, "\x01\x02", 2);
    df_doc_reduce(with_text, with_blob);
    CU_ASSERT_EQUAL(df_doc_content(with_text), DF_CONTENT_TEXT);
    CU_ASSERT_STRING_EQUAL(text_of(with_text), "keep");

    df_doc *empty = doc_with_id(arena, "d");
    df_doc_reduce(empty, with_blob);
    size_t len;
    const unsigned char *b = df_doc_blob(empty, &len);
    CU_ASSERT_EQUAL_FATAL(len, 2);
    CU_ASSERT_EQUAL(b[1], 2);

    df_doc *with_tensor = doc_with_id(arena, "d");
    CU_ASSERT_EQUAL(df_doc_set_tensor(with_tensor, t, sizeof t, shape, 2, "<f4"), DF_OK);
    df_doc_set_ndarray_cls(with_tensor, 0, "numpy");
    df_doc *empty2 = doc_with_id(arena, "d");
    df_doc_reduce(empty2, with_tensor);
    df_ndarray_view v;
    CU_ASSERT_TRUE_FATAL(df_doc_tensor(empty2, &v));
    CU_ASSERT_EQUAL(v.ndim, 2);
    CU_ASSERT_EQUAL(((const float *)v.data)[3], 4);
    CU_ASSERT_PTR_NOT_EQUAL(v.data, t);
    CU_ASSERT_STRING_EQUAL(df_doc_ndarray_cls(empty2, 0), "numpy");
    df_doc_reduce(empty, with_tensor); /* has a blob: keeps it */
    CU_ASSERT_EQUAL(df_doc_content(empty), DF_CONTENT_BLOB);
}

static void test_reduce_unions_tags_and_metadata_keeping_left_values(void)
{
    df_doc *left = doc_with_id(arena, "d"), *right = doc_with_id(arena, "d");
    df_value_put_number(df_doc_tags(left), "a", 1);
    df_value_put_number(df_doc_tags(left), "b", 2);
    df_value_put_null(df_doc_tags(left), "z");
    df_value_put_number(df_doc_tags(right), "b", 3);
    df_value_put_number(df_doc_tags(right), "c", 4);
    df_value_put_number(df_doc_tags(right), "z", 5);
    df_value *nested = df_value_new_map(arena);
    df_value_put_string(nested, "deep", "x");
    df_value_set(df_doc_tags(right), "n", nested);
    df_value_put_string(df_doc_metadata(right), "source", "right");
    df_doc_reduce(left, right);
    const df_value *tags = df_doc_tags_peek(left);
    CU_ASSERT_EQUAL_FATAL(df_value_len(tags), 5);
    CU_ASSERT_STRING_EQUAL(df_value_key_at(tags, 0), "a");
    CU_ASSERT_STRING_EQUAL(df_value_key_at(tags, 3), "c");
    CU_ASSERT_EQUAL(tag_number(left, "a"), 1);
    CU_ASSERT_EQUAL(tag_number(left, "b"), 2);
    CU_ASSERT_EQUAL(tag_number(left, "c"), 4);
    CU_ASSERT_EQUAL(df_value_type_of(df_value_get(tags, "z")), DF_VALUE_NULL); /* present */
    CU_ASSERT_STRING_EQUAL(df_value_string(df_value_get(df_value_get(tags, "n"), "deep"), NULL),
                           "x");
    CU_ASSERT_STRING_EQUAL(
        df_value_string(df_value_get(df_doc_metadata_peek(left), "source"), NULL), "right");
    /* the nested map is a copy */
    df_value_put_string(nested, "deep", "changed");
    CU_ASSERT_STRING_EQUAL(df_value_string(df_value_get(df_value_get(tags, "n"), "deep"), NULL),
                           "x");
}

static void test_reduce_unions_scores_and_evaluations_by_name(void)
{
    df_doc *left = doc_with_id(arena, "d"), *right = doc_with_id(arena, "d");
    df_score s = {0.1f, "cos", NULL, NULL};
    df_doc_set_score(left, DF_SCORES, "cosine", &s);
    s = (df_score){0.9f, "other", "desc", "ref"};
    df_doc_set_score(right, DF_SCORES, "cosine", &s);
    s = (df_score){0.5f, "l2", "euclidean", "r1"};
    df_doc_set_score(right, DF_SCORES, "l2", &s);
    s = (df_score){0.75f, NULL, NULL, NULL};
    df_doc_set_score(right, DF_EVALUATIONS, "precision", &s);
    df_doc_reduce(left, right);
    CU_ASSERT_EQUAL(df_doc_score_count(left, DF_SCORES), 2);
    CU_ASSERT_EQUAL(score_value(left, DF_SCORES, "cosine"), 0.1f);
    df_score got;
    CU_ASSERT_TRUE_FATAL(df_doc_score(left, DF_SCORES, "l2", &got));
    CU_ASSERT_EQUAL(got.value, 0.5f);
    CU_ASSERT_STRING_EQUAL(got.op_name, "l2");
    CU_ASSERT_STRING_EQUAL(got.description, "euclidean");
    CU_ASSERT_STRING_EQUAL(got.ref_id, "r1");
    CU_ASSERT_EQUAL(score_value(left, DF_EVALUATIONS, "precision"), 0.75f);
}

static void test_reduce_merges_matches_and_chunks_recursively_by_id(void)
{
    df_docs *into = df_docs_new(arena), *other = df_docs_new(arena);
    df_doc *q = add(into, "q");
    add_text(df_doc_matches(q), "m1", "m1 left");
    df_doc *m2 = add(df_doc_matches(q), "m2");
    df_doc *c1 = add(df_doc_chunks(q), "c1");
    add_text(df_doc_chunks(c1), "cc1", "deep left");

    df_doc *q2 = add(other, "q");
    df_doc *m2r = add_text(df_doc_matches(q2), "m2", "m2 right");
    df_score s = {0.3f, NULL, NULL, NULL};
    df_doc_set_score(m2r, DF_SCORES, "cosine", &s);
    add_text(df_doc_matches(q2), "m3", "m3 right");
    add_text(df_doc_matches(q2), "m1", "m1 right");
    df_doc *c1r = add(df_doc_chunks(q2), "c1");
    add_text(df_doc_chunks(c1r), "cc1", "deep right");
    df_doc *cc2 = add_text(df_doc_chunks(c1r), "cc2", "deep new");
    add_text(df_doc_matches(cc2), "mm", "match of a chunk of a chunk");
    add(df_doc_chunks(q2), "c2");

    df_docs_reduce(into, other);
    CU_ASSERT_STRING_EQUAL(ids_of(into), "q");
    CU_ASSERT_STRING_EQUAL(ids_of(df_doc_matches(q)), "m1,m2,m3"); /* not re-sorted */
    CU_ASSERT_STRING_EQUAL(text_of(df_docs_find(df_doc_matches(q), "m1")), "m1 left");
    CU_ASSERT_STRING_EQUAL(text_of(m2), "m2 right");
    CU_ASSERT_EQUAL(score_value(m2, DF_SCORES, "cosine"), 0.3f);
    CU_ASSERT_STRING_EQUAL(ids_of(df_doc_chunks(q)), "c1,c2");
    CU_ASSERT_STRING_EQUAL(ids_of(df_doc_chunks(c1)), "cc1,cc2");
    CU_ASSERT_STRING_EQUAL(text_of(df_docs_find(df_doc_chunks(c1), "cc1")), "deep left");
    df_doc *cc2_in = df_docs_find(df_doc_chunks(c1), "cc2");
    CU_ASSERT_STRING_EQUAL(ids_of(df_doc_matches(cc2_in)), "mm");
}

static void test_reduce_all_gives_priority_to_the_leftmost_array(void)
{
    df_docs *a = df_docs_new(arena), *b = df_docs_new(arena), *c = df_docs_new(arena);
    add_text(a, "x", "from a");
    add(b, "y");
    df_doc *xb = add_text(b, "x", "from b");
    df_doc_set_str(xb, DF_FIELD_URI, "b://x");
    df_value_put_string(df_doc_tags(xb), "k", "b");
    add(c, "z");
    df_doc *xc = add(c, "x");
    df_doc_set_str(xc, DF_FIELD_URI, "c://x");
    df_doc_set_str(xc, DF_FIELD_MIME_TYPE, "c/x");
    df_value_put_string(df_doc_tags(xc), "k", "c");
    df_value_put_string(df_doc_tags(xc), "only_c", "c");
    add_text(c, "y", "y from c");

    /* Jina's a.reduce_all([b, c]) */
    df_docs_reduce(a, b);
    df_docs_reduce(a, c);
    CU_ASSERT_STRING_EQUAL(ids_of(a), "x,y,z");
    df_doc *x = df_docs_find(a, "x");
    CU_ASSERT_STRING_EQUAL(text_of(x), "from a");
    CU_ASSERT_STRING_EQUAL(df_doc_str(x, DF_FIELD_URI), "b://x");
    CU_ASSERT_STRING_EQUAL(df_doc_str(x, DF_FIELD_MIME_TYPE), "c/x");
    CU_ASSERT_STRING_EQUAL(df_value_string(df_value_get(df_doc_tags(x), "k"), NULL), "b");
    CU_ASSERT_STRING_EQUAL(df_value_string(df_value_get(df_doc_tags(x), "only_c"), NULL), "c");
    /* y was appended from b and then merged with c's y: c's text fills it,
     * and b's own document is untouched */
    CU_ASSERT_STRING_EQUAL(text_of(df_docs_find(a, "y")), "y from c");
    CU_ASSERT_STRING_EQUAL(text_of(df_docs_find(b, "y")), "(none)");
}

/* ---- memory ---------------------------------------------------------------------- */

static void test_reduce_copies_across_arenas_and_never_aliases(void)
{
    static const float emb[] = {1, 2, 3};
    df_arena *other_arena = df_arena_new(0);
    df_docs *into = df_docs_new(arena), *other = df_docs_new(other_arena);
    df_doc *left = add(into, "shared");
    df_doc *right = add_text(other, "shared", "right text");
    df_doc_set_embedding_f32(right, emb, 3);
    df_doc_set_str(right, DF_FIELD_URI, "right://uri");
    df_value_put_string(df_doc_tags(right), "k", "v");
    df_score s = {0.5f, "op", "d", "r"};
    df_doc_set_score(right, DF_SCORES, "cosine", &s);
    add_text(df_doc_matches(right), "m", "match");
    df_doc *fresh = add_text(other, "fresh", "fresh text");
    add_text(df_doc_chunks(fresh), "fc", "fresh chunk");

    df_docs_reduce(into, other);
    df_docs *snapshot = df_docs_copy(arena, into);

    /* mutate everything reachable from `other`, then free it */
    df_doc_set_text(right, "changed", (size_t)-1);
    df_doc_embedding_f32(right, NULL)[0] = 42;
    df_value_put_string(df_doc_tags(right), "k", "changed");
    df_doc_set_score(right, DF_SCORES, "cosine", &(df_score){9, NULL, NULL, NULL});
    df_doc_set_text(df_docs_get(df_doc_matches(right), 0), "changed", (size_t)-1);
    df_doc_set_text(fresh, "changed", (size_t)-1);
    df_doc_set_text(df_docs_get(df_doc_chunks(fresh), 0), "changed", (size_t)-1);
    memset(df_arena_alloc(other_arena, 1 << 16), 0xAB, 1 << 16);
    CU_ASSERT_TRUE(df_docs_equal(into, snapshot));
    df_arena_free(other_arena); /* ASan reports any pointer still into it */

    CU_ASSERT_TRUE(df_docs_equal(into, snapshot));
    CU_ASSERT_STRING_EQUAL(ids_of(into), "shared,fresh");
    CU_ASSERT_STRING_EQUAL(text_of(left), "right text");
    CU_ASSERT_EQUAL(df_doc_embedding_f32(left, NULL)[0], 1);
    CU_ASSERT_STRING_EQUAL(df_value_string(df_value_get(df_doc_tags(left), "k"), NULL), "v");
    CU_ASSERT_STRING_EQUAL(text_of(df_docs_get(df_doc_matches(left), 0)), "match");
    df_doc *f = df_docs_find(into, "fresh");
    CU_ASSERT_PTR_EQUAL(df_doc_arena(f), arena);
    CU_ASSERT_STRING_EQUAL(text_of(df_docs_get(df_doc_chunks(f), 0)), "fresh chunk");
}

static void test_reduce_within_one_arena_copies_too(void)
{
    df_docs *into = df_docs_new(arena), *other = df_docs_new(arena);
    df_doc *src = add_text(other, "n", "original");
    df_docs_reduce(into, other);
    df_doc *dst = df_docs_get(into, 0);
    CU_ASSERT_PTR_NOT_EQUAL(dst, src);
    df_doc_set_text(src, "changed", (size_t)-1);
    CU_ASSERT_STRING_EQUAL(text_of(dst), "original");
}

/* ---- size --------------------------------------------------------------------------- */

static void test_reduce_ten_thousand_documents_by_hash(void)
{
    enum { N = 10000 };
    df_docs *into = df_docs_new(arena), *other = df_docs_new(arena);
    char id[32];
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "doc-%d", i);
        add(into, id);
        snprintf(id, sizeof id, "doc-%d", i + N / 2);
        df_doc *d = add_text(other, id, id);
        df_value_put_number(df_doc_tags(d), "i", i + N / 2);
    }
    clock_t t0 = clock();
    df_docs_reduce(into, other);
    double ms = 1000.0 * (double)(clock() - t0) / CLOCKS_PER_SEC;
    printf("(10,000 into 10,000: %.1f ms) ", ms);
    CU_ASSERT_EQUAL_FATAL(df_docs_len(into), N + N / 2);
    for (int i = 0; i < N + N / 2; i += 997) {
        df_doc *d = df_docs_get(into, (size_t)i);
        snprintf(id, sizeof id, "doc-%d", i);
        CU_ASSERT_STRING_EQUAL(df_doc_str(d, DF_FIELD_ID), id);
        if (i >= N / 2) {
            CU_ASSERT_STRING_EQUAL(text_of(d), id);
            CU_ASSERT_EQUAL(tag_number(d, "i"), i);
        } else {
            CU_ASSERT_PTR_NULL(df_doc_text(d, NULL));
        }
    }
}

static void test_reduce_by_hash_merges_into_the_first_of_a_repeated_id(void)
{
    df_docs *into = df_docs_new(arena), *other = df_docs_new(arena);
    char id[32];
    for (int i = 0; i < 50; i++) {
        snprintf(id, sizeof id, "d%d", i);
        add(into, id);
    }
    df_doc *first = add(into, "dup");
    df_doc *second = add(into, "dup");
    add_text(other, "dup", "merged");
    add(other, ""); /* an id-less document is the id "" */
    add_text(other, "", "merged into the id-less one");
    df_docs_reduce(into, other);
    CU_ASSERT_EQUAL(df_docs_len(into), 53);
    CU_ASSERT_STRING_EQUAL(text_of(first), "merged");
    CU_ASSERT_STRING_EQUAL(text_of(second), "(none)");
    CU_ASSERT_STRING_EQUAL(text_of(df_docs_get(into, 52)), "merged into the id-less one");
}

void df_test_register(void)
{
    CU_pSuite s = CU_add_suite("doc_reduce", setup, teardown);
    CU_add_test(s, "appends new ids in order", test_reduce_appends_new_ids_in_order);
    CU_add_test(s, "into an empty array copies everything",
                test_reduce_into_an_empty_array_copies_everything);
    CU_add_test(s, "a repeated new id is appended once, then merged",
                test_reduce_repeated_new_id_is_appended_once_then_merged);
    CU_add_test(s, "with itself or nothing changes nothing",
                test_reduce_with_itself_or_nothing_changes_nothing);
    CU_add_test(s, "takes only fields empty on the left",
                test_reduce_takes_only_fields_empty_on_the_left);
    CU_add_test(s, "content is one field: text, blob or tensor",
                test_reduce_content_is_one_field_text_blob_or_tensor);
    CU_add_test(s, "unions tags and metadata keeping left values",
                test_reduce_unions_tags_and_metadata_keeping_left_values);
    CU_add_test(s, "unions scores and evaluations by name",
                test_reduce_unions_scores_and_evaluations_by_name);
    CU_add_test(s, "merges matches and chunks recursively by id",
                test_reduce_merges_matches_and_chunks_recursively_by_id);
    CU_add_test(s, "reduce_all gives priority to the leftmost array",
                test_reduce_all_gives_priority_to_the_leftmost_array);
    CU_add_test(s, "copies across arenas and never aliases",
                test_reduce_copies_across_arenas_and_never_aliases);
    CU_add_test(s, "within one arena copies too", test_reduce_within_one_arena_copies_too);
    CU_add_test(s, "10,000 documents by hash", test_reduce_ten_thousand_documents_by_hash);
    CU_add_test(s, "by hash merges into the first of a repeated id",
                test_reduce_by_hash_merges_into_the_first_of_a_repeated_id);
}
