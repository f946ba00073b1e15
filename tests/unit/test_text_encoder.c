/*
 * test_text_encoder.c -- the TextEncoder plugin (plugins/text-encoder) loaded
 * through df_executor_open, on inputs JSON cannot carry or a shell test would
 * make slow: invalid and truncated UTF-8, NUL bytes inside a text, large
 * batches, and buffers reused from one document to the next. The behaviour
 * users see (similarity, IDF, persistence, errors) is tested end to end in
 * tests/integration/test_text_encoder.sh.
 */
#include <CUnit/CUnit.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "docflow/executor_runtime.h"

static df_arena *cfg_arena;
static df_executor *encoder;
static char tmp_root[] = "/tmp/docflow-test-text-encoder-XXXXXX";

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int suite_setup(void)
{
    cfg_arena = df_arena_new(0);
    if (!mkdtemp(tmp_root)) return -1;
    df_executor_config *c = df_executor_config_for_jtype(cfg_arena, "TextEncoder", NULL);
    df_value_put_string(c->metas, "library", DF_TEST_PLUGIN_DIR "/text_encoder.so");
    df_value_put_number(c->with, "dim", 64);
    df_executor_options opt = DF_EXECUTOR_OPTIONS_INIT;
    opt.workspace = tmp_root;
    df_error err = DF_ERROR_INIT;
    encoder = df_executor_open(c, &opt, &err);
    if (!encoder) fprintf(stderr, "\nopen TextEncoder failed: %s\n", err.msg);
    return encoder ? 0 : -1;
}

static int suite_teardown(void)
{
    df_executor_close(encoder);
    df_arena_free(cfg_arena);
    nftw(tmp_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------ */

/* Documents with the given texts (byte strings with their lengths), encoded
 * on /index. The caller frees the arena. */
static df_docs *encode(df_arena *a, const char *const *texts, const size_t *lens, size_t n)
{
    df_docs *docs = df_docs_new(a);
    for (size_t i = 0; i < n; i++) {
        df_doc *d = df_doc_new(a);
        df_doc_set_text(d, texts[i], lens[i]);
        df_docs_append(docs, d);
    }
    df_call call = {.arena = a, .endpoint = "/index", .docs = docs};
    df_error err = DF_ERROR_INIT;
    int rc = df_executor_call(encoder, &call, &err);
    CU_ASSERT_EQUAL(rc, DF_OK);
    if (rc) fprintf(stderr, "\n/index failed: %s\n", err.msg);
    return call.docs;
}

static const float *embedding(df_docs *docs, size_t i)
{
    size_t dim = 0;
    const float *v = df_doc_embedding_f32(df_docs_get(docs, i), &dim);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL_FATAL(dim, 64);
    return v;
}

static double dot(const float *a, const float *b)
{
    double sum = 0;
    for (size_t i = 0; i < 64; i++)
        sum += (double)a[i] * b[i];
    return sum;
}

/* ---- tests -------------------------------------------------------------------------- */

static void test_invalid_and_truncated_utf8_give_unit_vectors(void)
{
    df_arena *a = df_arena_new(0);
    const char *texts[] = {"caf\xe9 au lait", "caf\xc3\xa9 au lait",    "tail \xe6\x96",
                           "\xff\xfe",        "\xed\xa0\x80 surrogate", "\xc0\xaf overlong"};
    size_t lens[6];
    for (size_t i = 0; i < 6; i++)
        lens[i] = strlen(texts[i]);
    df_docs *docs = encode(a, texts, lens, 6);
    for (size_t i = 0; i < 6; i++)
        CU_ASSERT_DOUBLE_EQUAL(dot(embedding(docs, i), embedding(docs, i)), 1.0, 1e-5);
    /* the Latin-1 byte is a character of its own, not the UTF-8 é */
    CU_ASSERT(dot(embedding(docs, 0), embedding(docs, 1)) < 0.999);
    /* ... but the words around it still match */
    CU_ASSERT(dot(embedding(docs, 0), embedding(docs, 1)) > 0.3);
    df_arena_free(a);
}

static void test_nul_bytes_separate_words_and_do_not_end_the_text(void)
{
    df_arena *a = df_arena_new(0);
    const char *texts[] = {"alpha\0beta", "alpha beta", "alpha"};
    size_t lens[] = {10, 10, 5};
    df_docs *docs = encode(a, texts, lens, 3);
    CU_ASSERT_DOUBLE_EQUAL(dot(embedding(docs, 0), embedding(docs, 1)), 1.0, 1e-6);
    CU_ASSERT(dot(embedding(docs, 0), embedding(docs, 2)) < 0.99);
    df_arena_free(a);
}

static void test_equal_texts_in_one_batch_get_equal_bits(void)
{
    df_arena *a = df_arena_new(0);
    char long_text[8192];
    size_t n = 0;
    while (n + 40 < sizeof long_text)
        n += (size_t)snprintf(long_text + n, sizeof long_text - n, "word%zu Ünïcödé 文档 ", n);
    const char *texts[] = {long_text, "short", long_text, "short"};
    size_t lens[] = {n, 5, n, 5};
    df_docs *docs = encode(a, texts, lens, 4);
    CU_ASSERT_EQUAL(memcmp(embedding(docs, 0), embedding(docs, 2), 64 * sizeof(float)), 0);
    CU_ASSERT_EQUAL(memcmp(embedding(docs, 1), embedding(docs, 3), 64 * sizeof(float)), 0);
    df_arena_free(a);
}

static void test_a_large_batch_is_one_embedding_matrix(void)
{
    enum { N = 5000 };
    df_arena *a = df_arena_new(0);
    const char **texts = malloc(N * sizeof *texts);
    size_t *lens = malloc(N * sizeof *lens);
    for (size_t i = 0; i < N; i++) {
        texts[i] = df_arena_printf(a, "document number %zu about topic %zu", i, i % 17);
        lens[i] = strlen(texts[i]);
    }
    df_docs *docs = encode(a, texts, lens, N);
    size_t rows = 0, dim = 0;
    float *m = df_docs_embeddings(docs, &rows, &dim);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(rows, N);
    CU_ASSERT_EQUAL(dim, 64);
    size_t bad = 0;
    for (size_t i = 0; i < N; i++)
        bad += fabs(dot(m + 64 * i, m + 64 * i) - 1.0) > 1e-5;
    CU_ASSERT_EQUAL(bad, 0);
    free(texts);
    free(lens);
    df_arena_free(a);
}

void df_test_register(void)
{
    CU_pSuite s = CU_add_suite("text_encoder", suite_setup, suite_teardown);
    CU_add_test(s, "invalid and truncated UTF-8 give unit vectors",
                test_invalid_and_truncated_utf8_give_unit_vectors);
    CU_add_test(s, "NUL bytes separate words and do not end the text",
                test_nul_bytes_separate_words_and_do_not_end_the_text);
    CU_add_test(s, "equal texts in one batch get equal bits",
                test_equal_texts_in_one_batch_get_equal_bits);
    CU_add_test(s, "a large batch is one embedding matrix",
                test_a_large_batch_is_one_embedding_matrix);
}
