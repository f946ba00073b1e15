/*
 * test_sentencizer.c -- the Sentencizer plugin (plugins/sentencizer) loaded
 * through df_executor_open, on texts JSON cannot carry: invalid and
 * truncated UTF-8 (each bad byte is one character of `location`) and NUL
 * bytes inside a sentence. Splitting rules, fields and errors are tested end
 * to end in tests/integration/test_sentencizer.sh.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "docflow/executor_runtime.h"

static df_arena *cfg_arena;
static df_executor *sentencizer;

static int suite_setup(void)
{
    cfg_arena = df_arena_new(0);
    df_executor_config *c = df_executor_config_for_jtype(cfg_arena, "Sentencizer", NULL);
    df_value_put_string(c->metas, "library", DF_TEST_PLUGIN_DIR "/sentencizer.so");
    df_executor_options opt = DF_EXECUTOR_OPTIONS_INIT;
    opt.workspace = "/tmp";
    df_error err = DF_ERROR_INIT;
    sentencizer = df_executor_open(c, &opt, &err);
    if (!sentencizer) fprintf(stderr, "\nopen Sentencizer failed: %s\n", err.msg);
    return sentencizer ? 0 : -1;
}

static int suite_teardown(void)
{
    df_executor_close(sentencizer);
    df_arena_free(cfg_arena);
    return 0;
}

/* The chunks of one document with text[0..len), split on /index. */
static df_docs *split(df_arena *a, const char *text, size_t len)
{
    df_docs *docs = df_docs_new(a);
    df_doc *d = df_doc_new(a);
    df_doc_set_str(d, DF_FIELD_ID, "p");
    df_doc_set_text(d, text, len);
    df_docs_append(docs, d);
    df_call call = {.arena = a, .endpoint = "/index", .docs = docs};
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_EQUAL(df_executor_call(sentencizer, &call, &err), DF_OK);
    return df_doc_chunks(df_docs_get(call.docs, 0));
}

/* Chunk i has these bytes and this [start, end) location. */
static void expect_chunk(df_docs *chunks, size_t i, const char *bytes, size_t len, float start,
                         float end)
{
    df_doc *c = df_docs_get(chunks, i);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    size_t got_len = 0, n = 0;
    const char *got = df_doc_text(c, &got_len);
    CU_ASSERT_EQUAL(got_len, len);
    CU_ASSERT(got && memcmp(got, bytes, len) == 0);
    const float *loc = df_doc_location(c, &n);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_EQUAL(loc[0], start);
    CU_ASSERT_EQUAL(loc[1], end);
}

static void test_invalid_bytes_count_as_one_character(void)
{
    df_arena *a = df_arena_new(0);
    /* "a\xff." (3 chars), " ", "文\xe6\x96." (文 + 2 bad bytes + '.': 4 chars), " ", "z" */
    const char text[] = "a\xff. \xe6\x96\x87\xe6\x96. z";
    df_docs *chunks = split(a, text, sizeof text - 1);
    CU_ASSERT_EQUAL_FATAL(df_docs_len(chunks), 3);
    expect_chunk(chunks, 0, "a\xff.", 3, 0, 3);
    expect_chunk(chunks, 1, "\xe6\x96\x87\xe6\x96.", 6, 4, 8);
    expect_chunk(chunks, 2, "z", 1, 9, 10);
    df_arena_free(a);
}

static void test_a_truncated_character_at_the_end_is_kept(void)
{
    df_arena *a = df_arena_new(0);
    const char text[] = "end. x\xe6\x96";
    df_docs *chunks = split(a, text, sizeof text - 1);
    CU_ASSERT_EQUAL_FATAL(df_docs_len(chunks), 2);
    expect_chunk(chunks, 1, "x\xe6\x96", 3, 5, 8);
    df_arena_free(a);
}

static void test_nul_bytes_stay_inside_the_sentence(void)
{
    df_arena *a = df_arena_new(0);
    const char text[] = "a\0b. c";
    df_docs *chunks = split(a, text, sizeof text - 1);
    CU_ASSERT_EQUAL_FATAL(df_docs_len(chunks), 2);
    expect_chunk(chunks, 0, "a\0b.", 4, 0, 4);
    expect_chunk(chunks, 1, "c", 1, 5, 6);
    df_arena_free(a);
}

void df_test_register(void)
{
    CU_pSuite s = CU_add_suite("sentencizer", suite_setup, suite_teardown);
    CU_add_test(s, "invalid bytes count as one character",
                test_invalid_bytes_count_as_one_character);
    CU_add_test(s, "a truncated character at the end is kept",
                test_a_truncated_character_at_the_end_is_kept);
    CU_add_test(s, "NUL bytes stay inside the sentence", test_nul_bytes_stay_inside_the_sentence);
}
