/*
 * fuzz_doc_filter.c -- libFuzzer target for the `when:` query language:
 * arbitrary bytes decoded as a JSON value, compiled as a filter and matched
 * against a few fixed documents (full, bare, nested). Beyond "no crash, no
 * leak, no UB", it checks what the filter promises:
 *   - a failure carries DF_E_INVALID_INPUT and a message starting with the
 *     `where` prefix and the "when" path;
 *   - matching is a pure function: the same document gives the same answer;
 *   - {$not: c} matches exactly the documents c does not.
 *
 * Build by hand with -DDOCFLOW_FUZZ=ON (clang), or replay seeds with ctest.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docflow/doc_filter.h"
#include "docflow/json_codec.h"

static const char *const DOCS[] = {
    "{\"id\": \"doc1\", \"parent_id\": \"p\", \"text\": \"hello world\", \"uri\": \"a.txt\", "
    "\"mime_type\": \"text/plain\", \"modality\": \"text\", \"granularity\": 2, \"adjacency\": 1, "
    "\"weight\": 0.1, \"offset\": 3, \"embedding\": [1, 2, 3], \"location\": [4, 5], "
    "\"tags\": {\"n\": 5, \"s\": \"abc\", \"t\": true, \"z\": null, \"l\": [1, \"x\", {\"a\": 1}], "
    "\"m\": {\"a\": {\"b\": 7}}, \"u\": \"h\\u00e9llo\", \"nul\": \"a\\u0000b\"}, "
    "\"_metadata\": {\"k\": \"v\"}, \"scores\": {\"cosine\": {\"value\": 0.25, \"op_name\": "
    "\"c\"}}, "
    "\"evaluations\": {\"p\": {\"value\": 1}}, \"chunks\": [{\"id\": \"c1\"}], "
    "\"matches\": [{\"id\": \"m1\", \"text\": \"x\"}]}",
    "{\"id\": \"bare\"}",
    "{\"id\": \"\", \"blob\": \"AAEC\", \"tags\": {\"n\": -1e300, \"s\": \"\", \"l\": []}}",
    "{\"tensor\": [[1, 2], [3, 4]], \"weight\": -0.5, \"tags\": {\"n\": \"5\"}}",
};
#define N_DOCS (sizeof DOCS / sizeof DOCS[0])

static void check(int ok, const char *what, const char *detail)
{
    if (ok) return;
    fprintf(stderr, "fuzz_doc_filter: %s (%s)\n", what, detail ? detail : "");
    abort();
}

static df_docs *fixed_docs(df_arena *a)
{
    df_docs *docs = df_docs_new(a);
    for (size_t i = 0; i < N_DOCS; i++) {
        df_error err = DF_ERROR_INIT;
        df_doc *d = df_json_decode_doc(a, DOCS[i], strlen(DOCS[i]), NULL, &err);
        check(d != NULL, "a fixed document does not decode", err.msg);
        df_docs_append(docs, d);
    }
    return docs;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so reading one byte past the input is caught. */
    char *copy = malloc(size ? size : 1);
    if (size) memcpy(copy, data, size);
    df_arena *a = df_arena_new(0);
    df_docs *docs = fixed_docs(a);
    df_error err = DF_ERROR_INIT;
    df_value *cond = df_json_decode_value(a, copy, size, NULL, &err);
    if (!cond) goto done;

    df_filter *f = df_filter_compile(a, cond, "fuzz:1:1", &err);
    if (!f) {
        check(err.code == DF_E_INVALID_INPUT, "a failure with another code", err.msg);
        check(strncmp(err.msg, "fuzz:1:1: when", 14) == 0, "a message without its prefix", err.msg);
        goto done;
    }
    /* {$not: cond} compiles whenever cond does (unless cond is at the
     * nesting limit) and must answer the opposite. */
    df_value *negated = df_value_new_map(a);
    df_value_set(negated, "$not", cond);
    df_filter *not_f = df_filter_compile(a, negated, NULL, &err);
    for (size_t i = 0; i < N_DOCS; i++) {
        const df_doc *d = df_docs_get(docs, i);
        int m = df_filter_match(f, d);
        check(m == 0 || m == 1, "match is not 0 or 1", NULL);
        check(df_filter_match(f, d) == m, "match is not repeatable", NULL);
        if (not_f) check(df_filter_match(not_f, d) == !m, "$not does not negate", NULL);
    }
    df_filter_free(not_f);
    df_filter_free(f);
done:
    df_arena_free(a);
    free(copy);
    return 0;
}
