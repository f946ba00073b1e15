/*
 * test_match_merger.c -- the MatchMerger executor (plugins/match-merger):
 * called directly with hand-made shard arrays (order by distance and by
 * similarity, duplicates, limit, the direction override, unscored matches,
 * errors, what it leaves alone), the default reducer's role (limit from
 * the longest shard answer, lenient parameters, one source left alone),
 * then in real flows: two shards polled ALL with MatchMerger as uses_after,
 * the same without uses_after (the default reducer, for endpoints polled
 * ALL only), `uses_after: null` (Jina's merge by id), and a join of two
 * branches, against the unsharded search (tests/plugins/scored_shard.c)
 * and a brute-force reference.
 */
#include <CUnit/CUnit.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docflow/buf.h"
#include "docflow/executor_runtime.h"
#include "docflow/flow.h"

#define MERGER_LIB DF_TEST_PLUGIN_DIR "/match_merger.so"
#define SHARD_LIB  DF_TEST_BINARY_DIR "/tests/plugins/scored_shard.so"
#define MERGER     "{jtype: MatchMerger, metas: {library: " MERGER_LIB "}"
#define SHARD      "{jtype: ScoredShard, metas: {library: " SHARD_LIB "}"

static df_arena *cfg_arena;

static int suite_setup(void)
{
    cfg_arena = df_arena_new(0);
    return 0;
}

static int suite_teardown(void)
{
    df_arena_free(cfg_arena);
    return 0;
}

/* ---- calling the executor directly ------------------------------------------- */

/* MatchMerger with `with:` from JSON-ish pairs: NULL-terminated key, value
 * (a string value "#n" is the number n, "?t"/"?f" a bool). */
static df_executor *open_merger(df_error *err, ...)
{
    df_executor_config *c = df_executor_config_for_jtype(cfg_arena, "MatchMerger", NULL);
    df_value_put_string(c->metas, "library", MERGER_LIB);
    va_list ap;
    va_start(ap, err);
    const char *key;
    while ((key = va_arg(ap, const char *))) {
        const char *v = va_arg(ap, const char *);
        if (v[0] == '#')
            df_value_put_number(c->with, key, atof(v + 1));
        else if (v[0] == '?')
            df_value_put_bool(c->with, key, v[1] == 't');
        else
            df_value_put_string(c->with, key, v);
    }
    va_end(ap);
    df_executor_options opt = DF_EXECUTOR_OPTIONS_INIT;
    return df_executor_open(c, &opt, err);
}

/* A query "q<n>" whose matches come from `spec`: "id:score,id:score,..."
 * scored under `metric` ("id" alone: no score). */
static df_doc *query(df_arena *a, const char *id, const char *metric, const char *spec)
{
    df_doc *q = df_doc_new(a);
    df_doc_set_str(q, DF_FIELD_ID, id);
    df_docs *matches = df_doc_matches(q);
    char *copy = df_arena_strdup(a, spec), *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        df_doc *m = df_doc_new(a);
        char *colon = strchr(item, ':');
        if (colon) *colon = '\0';
        df_doc_set_str(m, DF_FIELD_ID, item);
        if (colon) {
            df_score s = {(float)atof(colon + 1), metric, "", ""};
            df_doc_set_score(m, DF_SCORES, metric, &s);
        }
        df_value_put_string(df_doc_tags(m), "from", id);
        df_docs_append(matches, m);
    }
    return q;
}

/* One shard's answer: one query per spec, ids q0, q1, ... */
static df_docs *shard(df_arena *a, const char *metric, const char *spec0, const char *spec1)
{
    df_docs *docs = df_docs_new(a);
    df_docs_append(docs, query(a, "q0", metric, spec0));
    if (spec1) df_docs_append(docs, query(a, "q1", metric, spec1));
    return docs;
}

/* "id:score" of the matches of docs[i], as the merger left them. */
static const char *matches_of(df_docs *docs, size_t i, const char *metric)
{
    df_buf b = DF_BUF_INIT;
    const df_docs *m = df_doc_matches(df_docs_get(docs, i));
    for (size_t k = 0; k < df_docs_len(m); k++) {
        df_doc *d = df_docs_get(m, k);
        df_score s;
        if (df_doc_score(d, DF_SCORES, metric, &s))
            df_buf_printf(&b, "%s%s:%g", k ? "," : "", df_doc_str(d, DF_FIELD_ID), s.value);
        else
            df_buf_printf(&b, "%s%s", k ? "," : "", df_doc_str(d, DF_FIELD_ID));
    }
    const char *out = df_arena_strdup(cfg_arena, b.data ? b.data : "");
    df_buf_free(&b);
    return out;
}

typedef struct merge_run {
    df_arena *arena;
    df_docs *arrays[4];
    size_t n_arrays;
    df_docs *docs; /* the runtime's merge by id, as a uses_after sees it */
    df_value *params;
    df_call call;
    df_error err;
    int rc;
} merge_run;

static void run_begin(merge_run *r)
{
    memset(r, 0, sizeof *r);
    r->arena = df_arena_new(0);
    r->params = df_value_new_map(r->arena);
}

/* Runs the merger on the shard arrays added so far: docs = their reduce. */
/* A /search call without docs_matrix: `docs` are the only source (one
 * shard answered, or the merger runs on its own). */
static int run_single_source(merge_run *r, df_executor *ex, df_docs *docs)
{
    r->call = (df_call){.arena = r->arena,
                        .endpoint = "/search",
                        .docs = docs,
                        .parameters = r->params,
                        .results = df_value_new_map(r->arena)};
    return df_executor_call(ex, &r->call, &r->err);
}

static int run_merge(merge_run *r, df_executor *ex)
{
    r->docs = df_docs_new(r->arena);
    for (size_t i = 0; i < r->n_arrays; i++)
        for (size_t k = 0; k < df_docs_len(r->arrays[i]); k++) {
            df_doc *d = df_docs_get(r->arrays[i], k);
            df_doc *mine = df_docs_find(r->docs, df_doc_str(d, DF_FIELD_ID));
            if (!mine) {
                df_docs_append(r->docs, df_doc_copy(r->arena, d));
                continue;
            }
            df_docs *m = df_doc_matches(d); /* a crude union, unsorted */
            for (size_t j = 0; j < df_docs_len(m); j++)
                df_docs_append(df_doc_matches(mine), df_doc_copy(r->arena, df_docs_get(m, j)));
        }
    r->call = (df_call){.arena = r->arena,
                        .endpoint = "/search",
                        .docs = r->docs,
                        .parameters = r->params,
                        .results = df_value_new_map(r->arena),
                        .matrix = r->n_arrays ? r->arrays : NULL,
                        .n_matrix = r->n_arrays};
    df_error_clear(&r->err);
    r->rc = df_executor_call(ex, &r->call, &r->err);
    return r->rc;
}

static void run_end(merge_run *r)
{
    df_arena_free(r->arena);
}

static df_executor *open_ok(df_executor *ex, const df_error *err)
{
    if (!ex) fprintf(stderr, "\nopening MatchMerger failed: %s\n", err->msg);
    return ex;
}

static void test_merger_sorts_distances_ascending_across_shards(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_ok(open_merger(&err, "metric", "euclidean", NULL), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    merge_run r;
    run_begin(&r);
    /* three shards, unsorted inside, overlapping ids ("b" twice, "e" thrice) */
    r.arrays[r.n_arrays++] = shard(r.arena, "euclidean", "a:0.9,b:0.3,e:0.5", "x:2,y:1");
    r.arrays[r.n_arrays++] = shard(r.arena, "euclidean", "c:0.1,b:0.3,e:0.45", "z:0.5");
    r.arrays[r.n_arrays++] = shard(r.arena, "euclidean", "e:0.7,d:0.2", NULL);
    CU_ASSERT_EQUAL_FATAL(run_merge(&r, ex), DF_OK);
    CU_ASSERT_STRING_EQUAL(matches_of(r.docs, 0, "euclidean"), "c:0.1,d:0.2,b:0.3,e:0.45,a:0.9");
    CU_ASSERT_STRING_EQUAL(matches_of(r.docs, 1, "euclidean"), "z:0.5,y:1,x:2");
    run_end(&r);
    df_executor_close(ex);
}

static void test_merger_sorts_similarities_descending(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_ok(open_merger(&err, "metric", "dot", NULL), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    merge_run r;
    run_begin(&r);
    r.arrays[r.n_arrays++] = shard(r.arena, "dot", "a:0.9,b:0.3,e:0.5", NULL);
    r.arrays[r.n_arrays++] = shard(r.arena, "dot", "c:0.1,b:0.35,e:0.45", NULL);
    CU_ASSERT_EQUAL_FATAL(run_merge(&r, ex), DF_OK);
    /* the best copy of a repeated id wins: b 0.35 over 0.3, e 0.5 over 0.45 */
    CU_ASSERT_STRING_EQUAL(matches_of(r.docs, 0, "dot"), "a:0.9,e:0.5,b:0.35,c:0.1");
    run_end(&r);
    df_executor_close(ex);
}

static void test_merger_keeps_best_copy_of_duplicates_for_distances(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_ok(open_merger(&err, "metric", "cosine", NULL), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    merge_run r;
    run_begin(&r);
    r.arrays[r.n_arrays++] = shard(r.arena, "cosine", "a:0.4,b:0.2", NULL);
    r.arrays[r.n_arrays++] = shard(r.arena, "cosine", "a:0.1,b:0.25,a:0.3", NULL);
    CU_ASSERT_EQUAL_FATAL(run_merge(&r, ex), DF_OK);
    CU_ASSERT_STRING_EQUAL(matches_of(r.docs, 0, "cosine"), "a:0.1,b:0.2");
    run_end(&r);
    df_executor_close(ex);
}

static void test_merger_limit_from_parameters_and_with(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_ok(open_merger(&err, "metric", "euclidean", "limit", "#3", NULL), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    merge_run r;
    run_begin(&r);
    r.arrays[r.n_arrays++] = shard(r.arena, "euclidean", "a:5,b:4,c:3", NULL);
    r.arrays[r.n_arrays++] = shard(r.arena, "euclidean", "d:2,e:1,f:6", NULL);
    CU_ASSERT_EQUAL_FATAL(run_merge(&r, ex), DF_OK);
    CU_ASSERT_STRING_EQUAL(matches_of(r.docs, 0, "euclidean"), "e:1,d:2,c:3");
    run_end(&r);
    /* parameters.limit overrides with.limit; 0 keeps every match */
    run_begin(&r);
    df_value_put_number(r.params, "limit", 5);
    r.arrays[r.n_arrays++] = shard(r.arena, "euclidean", "a:5,b:4,c:3", NULL);
    r.arrays[r.n_arrays++] = shard(r.arena, "euclidean", "d:2,e:1,f:6", NULL);
    CU_ASSERT_EQUAL_FATAL(run_merge(&r, ex), DF_OK);
    CU_ASSERT_STRING_EQUAL(matches_of(r.docs, 0, "euclidean"), "e:1,d:2,c:3,b:4,a:5");
    run_end(&r);
    run_begin(&r);
    df_value_put_number(r.params, "limit", 0);
    r.arrays[r.n_arrays++] = shard(r.arena, "euclidean", "a:5,b:4,c:3", NULL);
    r.arrays[r.n_arrays++] = shard(r.arena, "euclidean", "d:2,e:1,f:6", NULL);
    CU_ASSERT_EQUAL_FATAL(run_merge(&r, ex), DF_OK);
    CU_ASSERT_STRING_EQUAL(matches_of(r.docs, 0, "euclidean"), "e:1,d:2,c:3,b:4,a:5,f:6");
    run_end(&r);
    /* a negative limit is refused */
    run_begin(&r);
    df_value_put_number(r.params, "limit", -1);
    r.arrays[r.n_arrays++] = shard(r.arena, "euclidean", "a:5", NULL);
    CU_ASSERT_EQUAL(run_merge(&r, ex), DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "parameters.limit must be >= 0"));
    run_end(&r);
    df_executor_close(ex);
}

static void test_merger_finds_the_score_name_and_its_direction(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_ok(open_merger(&err, NULL), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    merge_run r;
    run_begin(&r);
    r.arrays[r.n_arrays++] = shard(r.arena, "cosine", "a:0.9,b:0.3", NULL);
    r.arrays[r.n_arrays++] = shard(r.arena, "cosine", "c:0.5", NULL);
    CU_ASSERT_EQUAL_FATAL(run_merge(&r, ex), DF_OK);
    CU_ASSERT_STRING_EQUAL(matches_of(r.docs, 0, "cosine"), "b:0.3,c:0.5,a:0.9");
    run_end(&r);
    run_begin(&r);
    r.arrays[r.n_arrays++] = shard(r.arena, "dot", "a:0.9,b:0.3", NULL);
    r.arrays[r.n_arrays++] = shard(r.arena, "dot", "c:0.5", NULL);
    CU_ASSERT_EQUAL_FATAL(run_merge(&r, ex), DF_OK);
    CU_ASSERT_STRING_EQUAL(matches_of(r.docs, 0, "dot"), "a:0.9,c:0.5,b:0.3");
    run_end(&r);
    /* parameters.metric names the score, as the indexer's parameter does */
    run_begin(&r);
    df_value_put_string(r.params, "metric", "dot");
    r.arrays[r.n_arrays++] = shard(r.arena, "dot", "a:0.1,b:0.3", NULL);
    CU_ASSERT_EQUAL_FATAL(run_merge(&r, ex), DF_OK);
    CU_ASSERT_STRING_EQUAL(matches_of(r.docs, 0, "dot"), "b:0.3,a:0.1");
    run_end(&r);
    /* a name found on the matches whose direction is unknown: left as the
     * merge by id left it (shard order), no failure */
    run_begin(&r);
    r.arrays[r.n_arrays++] = shard(r.arena, "mystery", "a:0.1,b:0.3", NULL);
    r.arrays[r.n_arrays++] = shard(r.arena, "mystery", "c:0.2", NULL);
    CU_ASSERT_EQUAL_FATAL(run_merge(&r, ex), DF_OK);
    CU_ASSERT_STRING_EQUAL(matches_of(r.docs, 0, "mystery"), "a:0.1,b:0.3,c:0.2");
    run_end(&r);
    /* but parameters.metric is the user asking for it: a clear failure */
    run_begin(&r);
    df_value_put_string(r.params, "metric", "mystery");
    r.arrays[r.n_arrays++] = shard(r.arena, "mystery", "a:0.1,b:0.3", NULL);
    CU_ASSERT_EQUAL(run_merge(&r, ex), DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "parameters.metric 'mystery'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "higher_is_better"));
    run_end(&r);
    df_executor_close(ex);
}

/* A query whose matches carry different score names from different shards. */
static df_docs *shard_of(df_arena *a, const char *id, const char *metric, const char *spec)
{
    df_docs *docs = df_docs_new(a);
    df_docs_append(docs, query(a, id, metric, spec));
    return docs;
}

static void test_merger_leaves_what_it_cannot_rank_as_merged(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_ok(open_merger(&err, "limit", "#2", NULL), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    merge_run r;
    run_begin(&r);
    /* q0: cosine on one shard, euclidean on the other: not comparable */
    r.arrays[r.n_arrays++] = shard(r.arena, "cosine", "a:0.9,b:0.3", "x:0.5,y:0.1");
    df_docs *other = shard_of(r.arena, "q0", "euclidean", "c:0.1");
    /* q1: rankable on both shards, so it is merged while q0 is not */
    df_docs_append(other, query(r.arena, "q1", "cosine", "z:0.2"));
    r.arrays[r.n_arrays++] = other;
    /* q2: matches without any score; q3: no matches at all */
    r.arrays[r.n_arrays++] = shard_of(r.arena, "q2", "cosine", "u,v,w");
    df_doc *bare = df_doc_new(r.arena);
    df_doc_set_str(bare, DF_FIELD_ID, "q3");
    df_doc_set_text(bare, "no matches", (size_t)-1);
    df_docs *last = df_docs_new(r.arena);
    df_docs_append(last, bare);
    r.arrays[r.n_arrays++] = last;
    CU_ASSERT_EQUAL_FATAL(run_merge(&r, ex), DF_OK);
    CU_ASSERT_EQUAL_FATAL(df_docs_len(r.docs), 4);
    /* left as merged (not cut to limit 2, not sorted) */
    CU_ASSERT_STRING_EQUAL(matches_of(r.docs, 0, "cosine"), "a:0.9,b:0.3,c");
    CU_ASSERT_STRING_EQUAL(matches_of(r.docs, 1, "cosine"), "y:0.1,z:0.2");
    CU_ASSERT_STRING_EQUAL(matches_of(r.docs, 2, "cosine"), "u,v,w");
    CU_ASSERT_STRING_EQUAL(matches_of(r.docs, 3, "cosine"), "");
    CU_ASSERT_STRING_EQUAL(df_doc_text(df_docs_get(r.docs, 3), NULL), "no matches");
    run_end(&r);
    /* a score named in with.metric is ranked even where some lack it */
    df_executor_close(ex);
    ex = open_ok(open_merger(&err, "metric", "cosine", NULL), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run_begin(&r);
    r.arrays[r.n_arrays++] = shard(r.arena, "cosine", "a:0.9,b:0.3", NULL);
    r.arrays[r.n_arrays++] = shard(r.arena, "euclidean", "c:0.1", NULL);
    CU_ASSERT_EQUAL_FATAL(run_merge(&r, ex), DF_OK);
    CU_ASSERT_STRING_EQUAL(matches_of(r.docs, 0, "cosine"), "b:0.3,a:0.9,c");
    run_end(&r);
    df_executor_close(ex);
}

/* ---- the default reducer (with.default_reducer, the flow's implicit one) ---- */

static void test_default_reducer_keeps_as_many_as_the_longest_shard_answer(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_ok(open_merger(&err, "default_reducer", "?t", NULL), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    merge_run r;
    run_begin(&r);
    r.arrays[r.n_arrays++] = shard(r.arena, "euclidean", "a:5,b:4,c:3", "x:2");
    r.arrays[r.n_arrays++] = shard(r.arena, "euclidean", "d:2,e:1", "y:1,z:3");
    CU_ASSERT_EQUAL_FATAL(run_merge(&r, ex), DF_OK);
    CU_ASSERT_STRING_EQUAL(matches_of(r.docs, 0, "euclidean"), "e:1,d:2,c:3");
    CU_ASSERT_STRING_EQUAL(matches_of(r.docs, 1, "euclidean"), "y:1,x:2");
    run_end(&r);
    /* parameters.limit (the indexer's own) when the request gives one */
    run_begin(&r);
    df_value_put_number(r.params, "limit", 4);
    r.arrays[r.n_arrays++] = shard(r.arena, "euclidean", "a:5,b:4,c:3", NULL);
    r.arrays[r.n_arrays++] = shard(r.arena, "euclidean", "d:2,e:1", NULL);
    CU_ASSERT_EQUAL_FATAL(run_merge(&r, ex), DF_OK);
    CU_ASSERT_STRING_EQUAL(matches_of(r.docs, 0, "euclidean"), "e:1,d:2,c:3,b:4");
    run_end(&r);
    df_executor_close(ex);
    /* with.limit, when written, wins over the longest answer */
    ex = open_ok(open_merger(&err, "default_reducer", "?t", "limit", "#2", NULL), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run_begin(&r);
    r.arrays[r.n_arrays++] = shard(r.arena, "dot", "a:5,b:4,c:3", NULL);
    r.arrays[r.n_arrays++] = shard(r.arena, "dot", "d:2,e:6", NULL);
    CU_ASSERT_EQUAL_FATAL(run_merge(&r, ex), DF_OK);
    CU_ASSERT_STRING_EQUAL(matches_of(r.docs, 0, "dot"), "e:6,a:5");
    run_end(&r);
    df_executor_close(ex);
}

static void test_default_reducer_never_fails_a_request(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_ok(open_merger(&err, "default_reducer", "?t", NULL), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    merge_run r;
    /* parameters it cannot use are the shards' business, not its own */
    const char *bad_limits[] = {"-1", "ten", "2.5"};
    for (int i = 0; i < 3; i++) {
        run_begin(&r);
        if (i == 1)
            df_value_put_string(r.params, "limit", bad_limits[i]);
        else
            df_value_put_number(r.params, "limit", atof(bad_limits[i]));
        r.arrays[r.n_arrays++] = shard(r.arena, "cosine", "a:0.9,b:0.3", NULL);
        r.arrays[r.n_arrays++] = shard(r.arena, "cosine", "c:0.1", NULL);
        CU_ASSERT_EQUAL_FATAL(run_merge(&r, ex), DF_OK);
        CU_ASSERT_STRING_EQUAL(matches_of(r.docs, 0, "cosine"), "c:0.1,b:0.3");
        run_end(&r);
    }
    run_begin(&r);
    df_value_put_string(r.params, "metric", "mystery");
    r.arrays[r.n_arrays++] = shard(r.arena, "mystery", "a:0.1,b:0.3", NULL);
    r.arrays[r.n_arrays++] = shard(r.arena, "mystery", "c:0.2", NULL);
    CU_ASSERT_EQUAL_FATAL(run_merge(&r, ex), DF_OK);
    CU_ASSERT_STRING_EQUAL(matches_of(r.docs, 0, "mystery"), "a:0.1,b:0.3,c:0.2");
    run_end(&r);
    /* parameters.metric naming a score the matches carry picks it */
    run_begin(&r);
    df_value_put_string(r.params, "metric", "dot");
    r.arrays[r.n_arrays++] = shard(r.arena, "dot", "a:0.1,b:0.3", NULL);
    r.arrays[r.n_arrays++] = shard(r.arena, "dot", "c:0.2", NULL);
    CU_ASSERT_EQUAL_FATAL(run_merge(&r, ex), DF_OK);
    CU_ASSERT_STRING_EQUAL(matches_of(r.docs, 0, "dot"), "b:0.3,c:0.2");
    run_end(&r);
    df_executor_close(ex);
}

static void test_default_reducer_leaves_a_single_answer_alone(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_ok(open_merger(&err, "default_reducer", "?t", NULL), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    merge_run r;
    run_begin(&r);
    /* no docs_matrix: one shard answered (an endpoint polled ANY); even
     * out of order and with a duplicate, its answer is what it is */
    df_docs *docs = shard(r.arena, "euclidean", "a:3,b:1,a:0.5,c:2", "x:1");
    df_value_put_number(r.params, "limit", 1);
    CU_ASSERT_EQUAL_FATAL(run_single_source(&r, ex, docs), DF_OK);
    CU_ASSERT_STRING_EQUAL(matches_of(docs, 0, "euclidean"), "a:3,b:1,a:0.5,c:2");
    CU_ASSERT_STRING_EQUAL(matches_of(docs, 1, "euclidean"), "x:1");
    run_end(&r);
    df_executor_close(ex);
}

static void test_merger_higher_is_better_overrides_the_name(void)
{
    df_error err = DF_ERROR_INIT;
    /* a custom score, larger is better */
    df_executor *ex =
        open_ok(open_merger(&err, "metric", "mystery", "higher_is_better", "?t", NULL), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    merge_run r;
    run_begin(&r);
    r.arrays[r.n_arrays++] = shard(r.arena, "mystery", "a:0.1,b:0.3", NULL);
    r.arrays[r.n_arrays++] = shard(r.arena, "mystery", "c:0.2", NULL);
    CU_ASSERT_EQUAL_FATAL(run_merge(&r, ex), DF_OK);
    CU_ASSERT_STRING_EQUAL(matches_of(r.docs, 0, "mystery"), "b:0.3,c:0.2,a:0.1");
    run_end(&r);
    df_executor_close(ex);
    /* and against a known name: cosine similarity stored as "cosine" */
    ex = open_ok(open_merger(&err, "metric", "cosine", "higher_is_better", "?t", NULL), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run_begin(&r);
    r.arrays[r.n_arrays++] = shard(r.arena, "cosine", "a:0.1,b:0.3", NULL);
    CU_ASSERT_EQUAL_FATAL(run_merge(&r, ex), DF_OK);
    CU_ASSERT_STRING_EQUAL(matches_of(r.docs, 0, "cosine"), "b:0.3,a:0.1");
    run_end(&r);
    df_executor_close(ex);
}

static void test_merger_puts_unscored_matches_last(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_ok(open_merger(&err, "metric", "euclidean", NULL), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    merge_run r;
    run_begin(&r);
    r.arrays[r.n_arrays++] = shard(r.arena, "euclidean", "u,a:0.9", NULL);
    r.arrays[r.n_arrays++] = shard(r.arena, "euclidean", "v,b:0.3", NULL);
    CU_ASSERT_EQUAL_FATAL(run_merge(&r, ex), DF_OK);
    CU_ASSERT_STRING_EQUAL(matches_of(r.docs, 0, "euclidean"), "b:0.3,a:0.9,u,v");
    run_end(&r);
    df_executor_close(ex);
}

static void test_merger_alone_sorts_the_requests_own_matches(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_ok(open_merger(&err, "limit", "#2", NULL), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    merge_run r;
    run_begin(&r);
    /* no docs_matrix: the request's documents are the only source */
    df_docs *docs = shard(r.arena, "euclidean", "a:3,b:1,a:0.5,c:2", "x:1");
    CU_ASSERT_EQUAL_FATAL(run_single_source(&r, ex, docs), DF_OK);
    CU_ASSERT_STRING_EQUAL(matches_of(docs, 0, "euclidean"), "a:0.5,b:1");
    CU_ASSERT_STRING_EQUAL(matches_of(docs, 1, "euclidean"), "x:1");
    run_end(&r);
    df_executor_close(ex);
}

static void test_merger_init_errors(void)
{
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_PTR_NULL(open_merger(&err, "metric", "mystery", NULL));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "with.metric 'mystery'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "higher_is_better"));
    df_error_clear(&err);
    CU_ASSERT_PTR_NULL(open_merger(&err, "limit", "#-2", NULL));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "with.limit must be >= 0"));
    df_error_clear(&err);
    CU_ASSERT_PTR_NULL(open_merger(&err, "limit", "ten", NULL));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "with.limit"));
    /* the default role does not excuse a contradictory configuration */
    df_error_clear(&err);
    CU_ASSERT_PTR_NULL(open_merger(&err, "default_reducer", "?t", "metric", "mystery", NULL));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "with.metric 'mystery'"));
    df_error_clear(&err);
    CU_ASSERT_PTR_NULL(open_merger(&err, "default_reducer", "yes", NULL));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "with.default_reducer"));
}

/* ---- in flows: sharded search equals unsharded search ------------------------- */

#define N_DOCS    300
#define N_QUERIES 6
#define DIM       8
#define TOP_K     10

/* Deterministic pseudo-random vectors. */
static float next_value(uint64_t *state)
{
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((*state >> 33) % 20001) / 10000.0f - 1.0f;
}

static void fill_vectors(float *v, size_t n, uint64_t seed)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n * DIM; i++)
        v[i] = next_value(&s);
}

static float doc_vectors[N_DOCS * DIM];
static float query_vectors[N_QUERIES * DIM];

/* limit sent with every request; 0: none (the shards' own default) */
static int request_limit = TOP_K;

static df_flow_request vectors_request(const char *endpoint, const char *prefix, const float *v,
                                       size_t n)
{
    df_arena *a = df_arena_new(0);
    df_flow_request q = {.arena = a, .endpoint = endpoint, .docs = df_docs_new(a)};
    for (size_t i = 0; i < n; i++) {
        df_doc *d = df_doc_new(a);
        df_doc_set_str(d, DF_FIELD_ID, df_arena_printf(a, "%s%zu", prefix, i));
        df_doc_set_embedding_f32(d, v + i * DIM, DIM);
        df_docs_append(q.docs, d);
    }
    q.parameters = df_value_new_map(a);
    if (request_limit) df_value_put_number(q.parameters, "limit", request_limit);
    return q;
}

static df_flow *open_flow_yaml(df_arena *a, df_flow_config **cfg, const char *yaml)
{
    df_error err = DF_ERROR_INIT;
    *cfg = df_flow_config_parse(a, yaml, strlen(yaml), "flow.yml", NULL, &err);
    df_flow *f = *cfg ? df_flow_open(*cfg, &err) : NULL;
    if (!f) fprintf(stderr, "\nopening the flow failed: %s\n", err.msg);
    return f;
}

static df_flow_response *flow_call(df_flow *f, df_flow_request q)
{
    df_error err = DF_ERROR_INIT;
    df_flow_response *r = df_flow_call(f, &q, &err);
    if (!r) fprintf(stderr, "\ndf_flow_call failed: %s\n", err.msg);
    if (r && r->status) fprintf(stderr, "\nrequest failed: %s\n", r->error ? r->error : "?");
    return r;
}

/* "id:score" lists of every query's matches, ';'-separated. */
static const char *all_matches(df_docs *docs, const char *metric)
{
    df_buf b = DF_BUF_INIT;
    for (size_t i = 0; i < df_docs_len(docs); i++)
        df_buf_printf(&b, "%s%s", i ? ";" : "", matches_of(docs, i, metric));
    const char *out = df_arena_strdup(cfg_arena, b.data ? b.data : "");
    df_buf_free(&b);
    return out;
}

/* The brute-force top TOP_K over every document, ids only. */
static const char *brute_force(int dot)
{
    df_buf b = DF_BUF_INIT;
    for (size_t q = 0; q < N_QUERIES; q++) {
        float score[N_DOCS];
        int taken[N_DOCS] = {0};
        for (size_t i = 0; i < N_DOCS; i++) {
            double acc = 0;
            for (size_t c = 0; c < DIM; c++) {
                double x = query_vectors[q * DIM + c], y = doc_vectors[i * DIM + c];
                acc += dot ? x * y : (x - y) * (x - y);
            }
            score[i] = (float)acc;
        }
        for (size_t r = 0; r < TOP_K; r++) {
            size_t best = N_DOCS;
            for (size_t i = 0; i < N_DOCS; i++)
                if (!taken[i] &&
                    (best == N_DOCS || (dot ? score[i] > score[best] : score[i] < score[best])))
                    best = i;
            taken[best] = 1;
            df_buf_printf(&b, "%sd%zu", r ? "," : (q ? ";" : ""), best);
        }
    }
    const char *out = df_arena_strdup(cfg_arena, b.data);
    df_buf_free(&b);
    return out;
}

/* Ids only from an "id:score" list. */
static const char *ids_only(const char *with_scores)
{
    char *out = df_arena_strdup(cfg_arena, with_scores);
    char *w = out;
    for (const char *p = with_scores; *p; p++) {
        if (*p == ':') {
            while (p[1] && p[1] != ',' && p[1] != ';')
                p++;
            continue;
        }
        *w++ = *p;
    }
    *w = '\0';
    return out;
}

/* Indexes the data and searches it in the flow; the matches as text. */
static const char *search_in(const char *yaml, const char *metric, int *parts_seen)
{
    df_arena *a = df_arena_new(0);
    df_flow_config *cfg;
    df_flow *f = open_flow_yaml(a, &cfg, yaml);
    const char *out = "(flow failed)";
    if (!f) goto done;
    df_flow_response *r = flow_call(f, vectors_request("/index", "d", doc_vectors, N_DOCS));
    int ok = r && r->status == DF_OK;
    df_flow_response_free(r);
    r = ok ? flow_call(f, vectors_request("/search", "q", query_vectors, N_QUERIES)) : NULL;
    if (r && r->status == DF_OK) {
        out = all_matches(r->docs, metric);
        *parts_seen = 0;
        for (size_t i = 0; i < df_docs_len(r->docs); i++) {
            const df_docs *m = df_doc_matches(df_docs_get(r->docs, i));
            for (size_t k = 0; k < df_docs_len(m); k++)
                *parts_seen |=
                    1 << (int)df_value_number(df_value_get(df_doc_tags(df_docs_get(m, k)), "part"));
        }
    }
    df_flow_response_free(r);
    df_flow_close(f, 0);
done:
    df_flow_config_free(cfg);
    df_arena_free(a);
    return out;
}

static void test_flow_sharded_search_with_merger_equals_unsharded(void)
{
    fill_vectors(doc_vectors, N_DOCS, 42);
    fill_vectors(query_vectors, N_QUERIES, 7);
    const char *metrics[] = {"sqeuclidean", "dot"};
    for (int m = 0; m < 2; m++) {
        int parts = 0;
        const char *unsharded =
            search_in(df_arena_printf(cfg_arena,
                                      "jtype: Flow\n"
                                      "executors:\n"
                                      "  - {name: idx, uses: " SHARD ", with: {metric: %s}}}\n",
                                      metrics[m]),
                      metrics[m], &parts);
        const char *sharded = search_in(df_arena_printf(cfg_arena,
                                                        "jtype: Flow\n"
                                                        "executors:\n"
                                                        "  - name: idx\n"
                                                        "    uses: " SHARD ", with: {metric: %s}}\n"
                                                        "    shards: 2\n"
                                                        "    polling: ALL\n"
                                                        "    uses_after: " MERGER "}\n",
                                                        metrics[m]),
                                        metrics[m], &parts);
        CU_ASSERT_EQUAL(parts, 3); /* both shards contributed matches */
        CU_ASSERT_STRING_EQUAL(sharded, unsharded);
        CU_ASSERT_STRING_EQUAL(ids_only(sharded), brute_force(m == 1));
        if (strcmp(sharded, unsharded) != 0)
            fprintf(stderr, "\n%s\nsharded:   %s\nunsharded: %s\n", metrics[m], sharded, unsharded);
    }
}

/* The flow configuration finds match_merger.so in the plugin folders. */
static void use_built_plugins(void)
{
    setenv("DOCFLOW_PLUGIN_PATH", DF_TEST_PLUGIN_DIR, 1);
}

static const char *sharded_flow(const char *metric, const char *extra)
{
    return df_arena_printf(cfg_arena,
                           "jtype: Flow\n"
                           "executors:\n"
                           "  - name: idx\n"
                           "    uses: " SHARD ", with: {metric: %s}}\n"
                           "    shards: 2\n"
                           "%s",
                           metric, extra);
}

static void test_flow_sharded_search_without_uses_after_equals_unsharded(void)
{
    use_built_plugins();
    fill_vectors(doc_vectors, N_DOCS, 42);
    fill_vectors(query_vectors, N_QUERIES, 7);
    const char *metrics[] = {"sqeuclidean", "dot"};
    for (int m = 0; m < 2; m++) {
        /* with the request's limit, and with none (each shard's default 10) */
        for (int with_limit = 1; with_limit >= 0; with_limit--) {
            request_limit = with_limit ? TOP_K : 0;
            int parts = 0;
            const char *unsharded =
                search_in(df_arena_printf(cfg_arena,
                                          "jtype: Flow\n"
                                          "executors:\n"
                                          "  - {name: idx, uses: " SHARD ", with: {metric: %s}}}\n",
                                          metrics[m]),
                          metrics[m], &parts);
            const char *sharded =
                search_in(sharded_flow(metrics[m], "    polling: ALL\n"), metrics[m], &parts);
            CU_ASSERT_EQUAL(parts, 3);
            CU_ASSERT_STRING_EQUAL(sharded, unsharded);
            CU_ASSERT_STRING_EQUAL(ids_only(sharded), brute_force(m == 1));
            if (strcmp(sharded, unsharded) != 0)
                fprintf(stderr, "\n%s\nsharded:   %s\nunsharded: %s\n", metrics[m], sharded,
                        unsharded);
        }
    }
    request_limit = TOP_K;
    unsetenv("DOCFLOW_PLUGIN_PATH");
}

/* How many matches each query got, ';'-separated. */
static const char *match_counts(const char *all)
{
    df_buf b = DF_BUF_INIT;
    size_t n = *all ? 1 : 0;
    for (const char *p = all;; p++) {
        if (*p == ',') n++;
        if (*p == ';' || !*p) {
            df_buf_printf(&b, "%s%zu", b.len ? ";" : "", n);
            n = 1;
        }
        if (!*p) break;
    }
    const char *out = df_arena_strdup(cfg_arena, b.data ? b.data : "");
    df_buf_free(&b);
    return out;
}

static void test_flow_uses_after_null_keeps_jinas_merge_by_id(void)
{
    use_built_plugins();
    fill_vectors(doc_vectors, N_DOCS, 42);
    fill_vectors(query_vectors, N_QUERIES, 7);
    const char *forms[] = {"    uses_after: null\n", "    uses_after: BaseExecutor\n"};
    for (int i = 0; i < 2; i++) {
        int parts = 0;
        char *extra = df_arena_printf(cfg_arena, "    polling: ALL\n%s", forms[i]);
        const char *merged = search_in(sharded_flow("dot", extra), "dot", &parts);
        /* both shards' top 10, one after the other */
        CU_ASSERT_STRING_EQUAL(match_counts(merged), "20;20;20;20;20;20");
        CU_ASSERT_EQUAL(parts, 3);
    }
    unsetenv("DOCFLOW_PLUGIN_PATH");
}

static int has_route(const df_flow_response *r, const char *executor)
{
    for (size_t i = 0; i < r->n_routes; i++)
        if (strcmp(r->routes[i].executor, executor) == 0) return 1;
    return 0;
}

/* Depends on the runtime reading uses_after_implicit (flow_runtime.c):
 * one shard's answer (polling ANY) does not go through the default
 * reducer, an explicit uses_after follows every endpoint. */
static void test_flow_default_reducer_runs_for_endpoints_polled_all_only(void)
{
    use_built_plugins();
    const char *extras[] = {"    polling: {/index: ANY, /search: ALL}\n",
                            "    polling: {/index: ANY, /search: ALL}\n"
                            "    uses_after: " MERGER "}\n"};
    for (int explicit = 0; explicit < 2; explicit ++) {
        df_arena *a = df_arena_new(0);
        df_flow_config *cfg;
        df_flow *f = open_flow_yaml(a, &cfg, sharded_flow("dot", extras[explicit]));
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        CU_ASSERT_EQUAL(cfg->nodes[0].uses_after_implicit, !explicit);
        /* ties between shards go round-robin: both get documents */
        df_flow_response *r;
        for (int i = 0; i < 4; i++) {
            const char *prefix = df_arena_printf(a, "d%d-", i);
            r = flow_call(f, vectors_request("/index", prefix, doc_vectors + i * 4 * DIM, 4));
            CU_ASSERT_PTR_NOT_NULL_FATAL(r);
            CU_ASSERT_EQUAL(r->status, DF_OK);
            CU_ASSERT_EQUAL(has_route(r, "idx/uses_after"), explicit);
            df_flow_response_free(r);
        }
        r = flow_call(f, vectors_request("/search", "q", query_vectors, 1));
        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        CU_ASSERT_EQUAL(r->status, DF_OK);
        CU_ASSERT_EQUAL(has_route(r, "idx/uses_after"), 1);
        df_flow_response_free(r);
        df_flow_close(f, 0);
        df_flow_config_free(cfg);
        df_arena_free(a);
    }
    unsetenv("DOCFLOW_PLUGIN_PATH");
}

static void test_flow_merger_after_a_join_of_two_branches(void)
{
    fill_vectors(doc_vectors, N_DOCS, 42);
    fill_vectors(query_vectors, N_QUERIES, 7);
    int parts = 0;
    const char *joined =
        search_in("jtype: Flow\n"
                  "executors:\n"
                  "  - {name: a, uses: " SHARD ", with: {metric: dot, part: 0, parts: 2}}}\n"
                  "  - {name: b, uses: " SHARD ", with: {metric: dot, part: 1, parts: 2}},"
                  " needs: gateway}\n"
                  "  - {name: merge, uses: " MERGER "}, needs: [a, b]}\n",
                  "dot", &parts);
    CU_ASSERT_EQUAL(parts, 3);
    CU_ASSERT_STRING_EQUAL(ids_only(joined), brute_force(1));
}

void df_test_register(void)
{
    CU_pSuite s = CU_add_suite("match_merger", suite_setup, suite_teardown);
    CU_add_test(s, "merger sorts distances ascending across shards",
                test_merger_sorts_distances_ascending_across_shards);
    CU_add_test(s, "merger sorts similarities descending",
                test_merger_sorts_similarities_descending);
    CU_add_test(s, "merger keeps the best copy of duplicates for distances",
                test_merger_keeps_best_copy_of_duplicates_for_distances);
    CU_add_test(s, "merger limit from parameters and with",
                test_merger_limit_from_parameters_and_with);
    CU_add_test(s, "merger finds the score name and its direction",
                test_merger_finds_the_score_name_and_its_direction);
    CU_add_test(s, "merger higher_is_better overrides the name",
                test_merger_higher_is_better_overrides_the_name);
    CU_add_test(s, "merger puts unscored matches last", test_merger_puts_unscored_matches_last);
    CU_add_test(s, "merger leaves what it cannot rank as merged",
                test_merger_leaves_what_it_cannot_rank_as_merged);
    CU_add_test(s, "default reducer keeps as many as the longest shard answer",
                test_default_reducer_keeps_as_many_as_the_longest_shard_answer);
    CU_add_test(s, "default reducer never fails a request",
                test_default_reducer_never_fails_a_request);
    CU_add_test(s, "default reducer leaves a single answer alone",
                test_default_reducer_leaves_a_single_answer_alone);
    CU_add_test(s, "merger alone sorts the request's own matches",
                test_merger_alone_sorts_the_requests_own_matches);
    CU_add_test(s, "merger init errors", test_merger_init_errors);
    CU_add_test(s, "flow: sharded search with merger equals unsharded",
                test_flow_sharded_search_with_merger_equals_unsharded);
    CU_add_test(s, "flow: sharded search without uses_after equals unsharded",
                test_flow_sharded_search_without_uses_after_equals_unsharded);
    CU_add_test(s, "flow: the default reducer runs for endpoints polled ALL only",
                test_flow_default_reducer_runs_for_endpoints_polled_all_only);
    CU_add_test(s, "flow: uses_after null keeps Jina's merge by id",
                test_flow_uses_after_null_keeps_jinas_merge_by_id);
    CU_add_test(s, "flow: merger after a join of two branches",
                test_flow_merger_after_a_join_of_two_branches);
}
