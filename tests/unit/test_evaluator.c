/*
 * test_evaluator.c -- the Evaluator executor (plugins/evaluator) on tiny
 * hand-computed cases: precision@k, recall@k, hit@k, reciprocal rank and
 * nDCG@k against the groundtruth's matches (by id and by position) and by
 * label tag (with and without label counts), the embedding distances, the
 * per-document evaluations and the means in __results__, and every error.
 *
 * The expected values are worked out in the comments next to each case.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docflow/executor_runtime.h"

#define EVALUATOR_LIB DF_TEST_PLUGIN_DIR "/evaluator.so"
#define EPS           1e-4

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

/* An Evaluator with `with:` from key, value pairs (NULL-terminated); a
 * value is YAML-ish: "#3" a number, "[a, b]" a list of strings, "{k: n}"
 * a map of one number, else a string. */
static df_executor *open_evaluator(df_error *err, ...)
{
    df_executor_config *c = df_executor_config_for_jtype(cfg_arena, "Evaluator", NULL);
    df_value_put_string(c->metas, "library", EVALUATOR_LIB);
    va_list ap;
    va_start(ap, err);
    const char *key;
    while ((key = va_arg(ap, const char *))) {
        const char *v = va_arg(ap, const char *);
        if (v[0] == '#') {
            df_value_put_number(c->with, key, atof(v + 1));
        } else if (v[0] == '[') {
            df_value *list = df_value_new_list(cfg_arena);
            char *copy = df_arena_strdup(cfg_arena, v + 1), *save = NULL;
            copy[strlen(copy) - 1] = '\0';
            for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
                df_value_put_string(list, NULL, t);
            df_value_set(c->with, key, list);
        } else if (v[0] == '{') {
            df_value *map = df_value_new_map(cfg_arena);
            char label[64];
            double n;
            if (sscanf(v, "{%63[^:]: %lf}", label, &n) == 2) df_value_put_number(map, label, n);
            df_value_set(c->with, key, map);
        } else {
            df_value_put_string(c->with, key, v);
        }
    }
    va_end(ap);
    df_executor_options opt = DF_EXECUTOR_OPTIONS_INIT;
    df_executor *ex = df_executor_open(c, &opt, err);
    return ex;
}

static df_executor *must_open(df_executor *ex, const df_error *err)
{
    if (!ex) fprintf(stderr, "\nopening Evaluator failed: %s\n", err->msg);
    return ex;
}

/* A document `id` whose matches have the ids in `matches` ("a,x,b"). */
static df_doc *doc_with_matches(df_arena *a, const char *id, const char *matches)
{
    df_doc *d = df_doc_new(a);
    df_doc_set_str(d, DF_FIELD_ID, id);
    char *copy = df_arena_strdup(a, matches), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        df_doc *m = df_doc_new(a);
        df_doc_set_str(m, DF_FIELD_ID, t);
        df_docs_append(df_doc_matches(d), m);
    }
    return d;
}

/* A document labelled `label` whose matches carry the labels in `labels`
 * ("3,1,3,s3": a leading 's' makes the label a string). */
static void set_label(df_doc *d, const char *label)
{
    if (label[0] == 's')
        df_value_put_string(df_doc_tags(d), "label", label + 1);
    else
        df_value_put_number(df_doc_tags(d), "label", atof(label));
}

static df_doc *labelled_doc(df_arena *a, const char *id, const char *label, const char *labels)
{
    df_doc *d = df_doc_new(a);
    df_doc_set_str(d, DF_FIELD_ID, id);
    set_label(d, label);
    char *copy = df_arena_strdup(a, labels), *save = NULL;
    int i = 0;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        df_doc *m = df_doc_new(a);
        df_doc_set_str(m, DF_FIELD_ID, df_arena_printf(a, "m%d", i++));
        set_label(m, t);
        df_docs_append(df_doc_matches(d), m);
    }
    return d;
}

typedef struct eval_run {
    df_arena *arena;
    df_docs *docs;
    df_docs *truths;
    df_value *params;
    df_call call;
    df_error err;
    int rc;
} eval_run;

static void run_begin(eval_run *r)
{
    memset(r, 0, sizeof *r);
    r->arena = df_arena_new(0);
    r->docs = df_docs_new(r->arena);
    r->truths = df_docs_new(r->arena);
    r->params = df_value_new_map(r->arena);
}

static int run_eval(eval_run *r, df_executor *ex)
{
    r->call = (df_call){.arena = r->arena,
                        .endpoint = "/evaluate",
                        .docs = r->docs,
                        .parameters = r->params,
                        .results = df_value_new_map(r->arena),
                        .groundtruths = r->truths};
    df_error_clear(&r->err);
    r->rc = df_executor_call(ex, &r->call, &r->err);
    if (r->rc) fprintf(stderr, "\n(evaluate: %s)\n", r->err.msg);
    return r->rc;
}

static void run_end(eval_run *r)
{
    df_arena_free(r->arena);
}

/* evaluations[name].value of document i; NAN when absent. */
static double evaluation(eval_run *r, size_t i, const char *name)
{
    df_score s;
    return df_doc_score(df_docs_get(r->docs, i), DF_EVALUATIONS, name, &s) ? s.value : NAN;
}

/* __results__[executor][name]; NAN when absent. */
static double result(eval_run *r, df_executor *ex, const char *name)
{
    const df_value *v = df_value_get(df_value_get(r->call.results, df_executor_name(ex)), name);
    return df_value_type_of(v) == DF_VALUE_NUMBER ? df_value_number(v) : NAN;
}

#define ASSERT_NEAR(actual, expected) CU_ASSERT_DOUBLE_EQUAL((actual), (expected), EPS)

/* The groundtruth case used by several tests:
 *   q1 matches a x b y c, relevant {a b c d} (R = 4): hits 1 0 1 0 1
 *   q2 matches x y a,     relevant {a}       (R = 1): hits 0 0 1
 * At k = 3:
 *   precision  q1 2/3          q2 1/3          mean 1/2
 *   recall     q1 2/4          q2 1/1          mean 3/4
 *   hit        q1 1            q2 1            mean 1
 *   RR         q1 1            q2 1/3          mean 2/3
 *   nDCG       q1 (1 + 1/log2 4) / (1 + 1/log2 3 + 1/log2 4) = 1.5 / 2.130930 = 0.703918
 *              q2 (1/log2 4) / 1 = 0.5                         mean 0.601959 */
static void add_groundtruth_case(eval_run *r, const char *gt1, const char *gt2)
{
    df_docs_append(r->docs, doc_with_matches(r->arena, "q1", "a,x,b,y,c"));
    df_docs_append(r->docs, doc_with_matches(r->arena, "q2", "x,y,a"));
    df_docs_append(r->truths, doc_with_matches(r->arena, gt1, "a,b,c,d"));
    df_docs_append(r->truths, doc_with_matches(r->arena, gt2, "a"));
}

static void test_evaluator_rank_metrics_against_groundtruth_matches(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = must_open(
        open_evaluator(&err, "metrics",
                       "[precision_at_k, recall_at_k, hit_at_k, reciprocal_rank, ndcg_at_k]", "k",
                       "#3", NULL),
        &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    eval_run r;
    run_begin(&r);
    add_groundtruth_case(&r, "q1", "q2");
    CU_ASSERT_EQUAL_FATAL(run_eval(&r, ex), DF_OK);
    ASSERT_NEAR(evaluation(&r, 0, "precision@3"), 2.0 / 3);
    ASSERT_NEAR(evaluation(&r, 1, "precision@3"), 1.0 / 3);
    ASSERT_NEAR(evaluation(&r, 0, "recall@3"), 0.5);
    ASSERT_NEAR(evaluation(&r, 1, "recall@3"), 1.0);
    ASSERT_NEAR(evaluation(&r, 0, "hit@3"), 1.0);
    ASSERT_NEAR(evaluation(&r, 0, "reciprocal_rank"), 1.0);
    ASSERT_NEAR(evaluation(&r, 1, "reciprocal_rank"), 1.0 / 3);
    ASSERT_NEAR(evaluation(&r, 0, "ndcg@3"), 0.703918);
    ASSERT_NEAR(evaluation(&r, 1, "ndcg@3"), 0.5);
    /* the means, and how many documents they are over */
    ASSERT_NEAR(result(&r, ex, "precision@3"), 0.5);
    ASSERT_NEAR(result(&r, ex, "recall@3"), 0.75);
    ASSERT_NEAR(result(&r, ex, "hit@3"), 1.0);
    ASSERT_NEAR(result(&r, ex, "reciprocal_rank"), 2.0 / 3);
    ASSERT_NEAR(result(&r, ex, "ndcg@3"), 0.601959);
    ASSERT_NEAR(result(&r, ex, "docs"), 2);
    /* each evaluation names itself and its groundtruth */
    df_score s;
    CU_ASSERT_FATAL(df_doc_score(df_docs_get(r.docs, 1), DF_EVALUATIONS, "recall@3", &s));
    CU_ASSERT_STRING_EQUAL(s.op_name, "recall@3");
    CU_ASSERT_STRING_EQUAL(s.ref_id, "q2");
    run_end(&r);
    df_executor_close(ex);
}

/* Parameter k = 5 (over with.k), and fixed cut-offs in the names:
 *   q1 precision@5 3/5, recall@5 3/4,
 *      nDCG@5 (1 + 1/log2 4 + 1/log2 6) / (1 + 1/log2 3 + 1/log2 4 + 1/log2 5)
 *           = 1.886853 / 2.561606 = 0.736590
 *   q2 has 3 matches: precision@5 is over min(5, 3) = 1/3 (DocArray's way)
 *   precision@1: q1 1, q2 0 */
static void test_evaluator_k_from_parameters_and_fixed_cutoffs(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = must_open(
        open_evaluator(&err, "metrics", "[precision_at_k, recall_at_k, ndcg_at_k, precision@1]",
                       "k", "#3", NULL),
        &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    eval_run r;
    run_begin(&r);
    add_groundtruth_case(&r, "q1", "q2");
    df_value_put_number(r.params, "k", 5);
    CU_ASSERT_EQUAL_FATAL(run_eval(&r, ex), DF_OK);
    ASSERT_NEAR(evaluation(&r, 0, "precision@5"), 0.6);
    ASSERT_NEAR(evaluation(&r, 0, "recall@5"), 0.75);
    ASSERT_NEAR(evaluation(&r, 0, "ndcg@5"), 0.736590);
    ASSERT_NEAR(evaluation(&r, 1, "precision@5"), 1.0 / 3);
    ASSERT_NEAR(evaluation(&r, 0, "precision@1"), 1.0);
    ASSERT_NEAR(evaluation(&r, 1, "precision@1"), 0.0);
    ASSERT_NEAR(result(&r, ex, "precision@1"), 0.5);
    CU_ASSERT(isnan(evaluation(&r, 0, "precision@3"))); /* k = 5 replaced k = 3 */
    run_end(&r);
    df_executor_close(ex);
}

static void test_evaluator_matches_by_position(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex =
        must_open(open_evaluator(&err, "match_by", "position", "k", "#3", NULL), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    eval_run r;
    run_begin(&r);
    /* groundtruth ids unrelated to the documents': position decides */
    add_groundtruth_case(&r, "gt-first", "gt-second");
    CU_ASSERT_EQUAL_FATAL(run_eval(&r, ex), DF_OK);
    /* the default metrics: precision, recall, reciprocal rank, nDCG */
    ASSERT_NEAR(result(&r, ex, "precision@3"), 0.5);
    ASSERT_NEAR(result(&r, ex, "recall@3"), 0.75);
    ASSERT_NEAR(result(&r, ex, "reciprocal_rank"), 2.0 / 3);
    ASSERT_NEAR(result(&r, ex, "ndcg@3"), 0.601959);
    df_score s;
    CU_ASSERT(df_doc_score(df_docs_get(r.docs, 0), DF_EVALUATIONS, "ndcg@3", &s));
    CU_ASSERT_STRING_EQUAL(s.ref_id, "gt-first");
    run_end(&r);
    /* one groundtruth per document, or a clear failure */
    run_begin(&r);
    add_groundtruth_case(&r, "g1", "g2");
    df_docs_remove(r.truths, 1);
    CU_ASSERT_EQUAL(run_eval(&r, ex), DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "2 documents, 1 groundtruths"));
    run_end(&r);
    df_executor_close(ex);
}

/* By id, the groundtruths may come in any order. A document without
 * matches scores 0 everywhere; one with an empty groundtruth (R = 0) too. */
static void test_evaluator_by_id_in_any_order_and_empty_cases(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = must_open(open_evaluator(&err, "k", "#3", NULL), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    eval_run r;
    run_begin(&r);
    df_docs_append(r.docs, doc_with_matches(r.arena, "q1", "a,x,b,y,c"));
    df_docs_append(r.docs, doc_with_matches(r.arena, "none", ""));
    df_docs_append(r.docs, doc_with_matches(r.arena, "nothing-relevant", "a,b"));
    df_docs_append(r.truths, doc_with_matches(r.arena, "nothing-relevant", ""));
    df_docs_append(r.truths, doc_with_matches(r.arena, "none", "a"));
    df_docs_append(r.truths, doc_with_matches(r.arena, "q1", "a,b,c,d"));
    CU_ASSERT_EQUAL_FATAL(run_eval(&r, ex), DF_OK);
    ASSERT_NEAR(evaluation(&r, 0, "precision@3"), 2.0 / 3);
    ASSERT_NEAR(evaluation(&r, 0, "ndcg@3"), 0.703918);
    for (size_t i = 1; i < 3; i++) {
        ASSERT_NEAR(evaluation(&r, i, "precision@3"), 0);
        ASSERT_NEAR(evaluation(&r, i, "recall@3"), 0);
        ASSERT_NEAR(evaluation(&r, i, "reciprocal_rank"), 0);
        ASSERT_NEAR(evaluation(&r, i, "ndcg@3"), 0);
    }
    ASSERT_NEAR(result(&r, ex, "precision@3"), 2.0 / 9);
    ASSERT_NEAR(result(&r, ex, "docs"), 3);
    run_end(&r);
    df_executor_close(ex);
}

/* By label (tags.label), no groundtruths needed. Document labelled 3,
 * matches labelled 3, 1, 3, "3" (a string: not equal): hits 1 0 1 0.
 *   precision@4 = 2/4, RR = 1
 *   nDCG@4 without counts (ideal = the retrieved hits on top):
 *       (1 + 1/log2 4) / (1 + 1/log2 3) = 1.5 / 1.630930 = 0.919721
 *   with label_counts {3: 10}: recall@4 = 2/10,
 *       nDCG@4 = 1.5 / (1 + 1/log2 3 + 1/log2 4 + 1/log2 5) = 1.5 / 2.561606 = 0.585570
 * A second document labelled "7" (a string) whose only match is "7": all 1. */
static void test_evaluator_relevance_by_label_tag(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = must_open(open_evaluator(&err, "label_tag", "label", "k", "#4", NULL), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    eval_run r;
    run_begin(&r);
    df_docs_append(r.docs, labelled_doc(r.arena, "q", "3", "3,1,3,s3"));
    df_docs_append(r.docs, labelled_doc(r.arena, "s", "s7", "s7"));
    CU_ASSERT_EQUAL_FATAL(run_eval(&r, ex), DF_OK);
    ASSERT_NEAR(evaluation(&r, 0, "precision@4"), 0.5);
    ASSERT_NEAR(evaluation(&r, 0, "reciprocal_rank"), 1.0);
    ASSERT_NEAR(evaluation(&r, 0, "ndcg@4"), 0.919721);
    ASSERT_NEAR(evaluation(&r, 1, "precision@4"), 1.0);
    ASSERT_NEAR(evaluation(&r, 1, "ndcg@4"), 1.0);
    /* without counts, the default metrics leave recall out */
    CU_ASSERT(isnan(evaluation(&r, 0, "recall@4")));
    ASSERT_NEAR(result(&r, ex, "precision@4"), 0.75);
    run_end(&r);
    df_executor_close(ex);

    /* with counts: recall, and nDCG against the R relevant documents */
    ex = must_open(
        open_evaluator(&err, "label_tag", "label", "k", "#4", "label_counts", "{3: 10}", NULL),
        &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    run_begin(&r);
    df_docs_append(r.docs, labelled_doc(r.arena, "q", "3", "3,1,3,s3"));
    CU_ASSERT_EQUAL_FATAL(run_eval(&r, ex), DF_OK);
    ASSERT_NEAR(evaluation(&r, 0, "recall@4"), 0.2);
    ASSERT_NEAR(evaluation(&r, 0, "ndcg@4"), 0.585570);
    run_end(&r);
    /* parameters.label_counts wins over with.label_counts */
    run_begin(&r);
    df_docs_append(r.docs, labelled_doc(r.arena, "q", "3", "3,1,3,s3"));
    df_value *counts = df_value_new_map(r.arena);
    df_value_put_number(counts, "3", 4);
    df_value_set(r.params, "label_counts", counts);
    CU_ASSERT_EQUAL_FATAL(run_eval(&r, ex), DF_OK);
    ASSERT_NEAR(evaluation(&r, 0, "recall@4"), 0.5);
    run_end(&r);
    /* a label without a count: recall cannot be known */
    run_begin(&r);
    df_docs_append(r.docs, labelled_doc(r.arena, "q", "5", "5"));
    CU_ASSERT_EQUAL(run_eval(&r, ex), DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "label_counts"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "label '5'"));
    run_end(&r);
    /* a document without its label */
    run_begin(&r);
    df_docs_append(r.docs, doc_with_matches(r.arena, "unlabelled", "a"));
    CU_ASSERT_EQUAL(run_eval(&r, ex), DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "document 'unlabelled' has no tags.label"));
    run_end(&r);
    df_executor_close(ex);
}

static void set_embedding(df_doc *d, float x, float y)
{
    float v[2] = {x, y};
    df_doc_set_embedding_f32(d, v, 2);
}

/* Jina's EuclideanEvaluator / CosineEvaluator:
 *   [3, 4] vs [0, 0]: euclidean 5, cosine 1 (a zero vector has no direction)
 *   [1, 0] vs [1, 1]: euclidean 1, cosine 1 - 1/sqrt 2 = 0.292893
 *   means: euclidean 3, cosine 0.646447 */
static void test_evaluator_embedding_distances(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = must_open(open_evaluator(&err, "metrics", "[euclidean, cosine]", NULL), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    eval_run r;
    run_begin(&r);
    const float docs[2][2] = {{3, 4}, {1, 0}}, truths[2][2] = {{0, 0}, {1, 1}};
    for (int i = 0; i < 2; i++) {
        df_doc *d = df_doc_new(r.arena), *t = df_doc_new(r.arena);
        df_doc_set_str(d, DF_FIELD_ID, i ? "b" : "a");
        df_doc_set_str(t, DF_FIELD_ID, i ? "b" : "a");
        set_embedding(d, docs[i][0], docs[i][1]);
        set_embedding(t, truths[i][0], truths[i][1]);
        df_docs_append(r.docs, d);
        df_docs_append(r.truths, t);
    }
    CU_ASSERT_EQUAL_FATAL(run_eval(&r, ex), DF_OK);
    ASSERT_NEAR(evaluation(&r, 0, "euclidean"), 5);
    ASSERT_NEAR(evaluation(&r, 0, "cosine"), 1);
    ASSERT_NEAR(evaluation(&r, 1, "euclidean"), 1);
    ASSERT_NEAR(evaluation(&r, 1, "cosine"), 0.292893);
    ASSERT_NEAR(result(&r, ex, "euclidean"), 3);
    ASSERT_NEAR(result(&r, ex, "cosine"), 0.646447);
    run_end(&r);
    /* a missing embedding, and a different dimension */
    run_begin(&r);
    df_doc *d = df_doc_new(r.arena), *t = df_doc_new(r.arena);
    df_doc_set_str(d, DF_FIELD_ID, "bare");
    df_doc_set_str(t, DF_FIELD_ID, "bare");
    set_embedding(t, 1, 1);
    df_docs_append(r.docs, d);
    df_docs_append(r.truths, t);
    CU_ASSERT_EQUAL(run_eval(&r, ex), DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "document 'bare' has no embedding"));
    float three[3] = {1, 2, 3};
    df_doc_set_embedding_f32(d, three, 3);
    CU_ASSERT_EQUAL(run_eval(&r, ex), DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "3-dim embedding"));
    run_end(&r);
    df_executor_close(ex);
}

static void test_evaluator_groundtruth_errors(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = must_open(open_evaluator(&err, NULL), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    eval_run r;
    /* no groundtruths at all */
    run_begin(&r);
    df_docs_append(r.docs, doc_with_matches(r.arena, "q1", "a"));
    CU_ASSERT_EQUAL(run_eval(&r, ex), DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "no groundtruths in the request"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "--groundtruths"));
    run_end(&r);
    /* none for one document */
    run_begin(&r);
    df_docs_append(r.docs, doc_with_matches(r.arena, "q1", "a"));
    df_docs_append(r.docs, doc_with_matches(r.arena, "lonely", "a"));
    df_docs_append(r.truths, doc_with_matches(r.arena, "q1", "a"));
    CU_ASSERT_EQUAL(run_eval(&r, ex), DF_E_NOT_FOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "no groundtruth for document 'lonely'"));
    run_end(&r);
    /* k <= 0 as a parameter */
    run_begin(&r);
    df_docs_append(r.docs, doc_with_matches(r.arena, "q1", "a"));
    df_docs_append(r.truths, doc_with_matches(r.arena, "q1", "a"));
    df_value_put_number(r.params, "k", 0);
    CU_ASSERT_EQUAL(run_eval(&r, ex), DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "parameters.k must be >= 1"));
    run_end(&r);
    /* an empty request is fine: no means, zero documents */
    run_begin(&r);
    CU_ASSERT_EQUAL(run_eval(&r, ex), DF_OK);
    ASSERT_NEAR(result(&r, ex, "docs"), 0);
    CU_ASSERT(isnan(result(&r, ex, "precision@10")));
    run_end(&r);
    df_executor_close(ex);
}

static void test_evaluator_init_errors(void)
{
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_PTR_NULL(open_evaluator(&err, "k", "#0", NULL));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "with.k must be >= 1"));
    df_error_clear(&err);
    CU_ASSERT_PTR_NULL(open_evaluator(&err, "k", "#-3", NULL));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "with.k must be >= 1"));
    df_error_clear(&err);
    CU_ASSERT_PTR_NULL(open_evaluator(&err, "metrics", "[precision@0]", NULL));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'precision@0': k must be >= 1"));
    df_error_clear(&err);
    CU_ASSERT_PTR_NULL(open_evaluator(&err, "metrics", "[precision@x]", NULL));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "whole number"));
    df_error_clear(&err);
    CU_ASSERT_PTR_NULL(open_evaluator(&err, "metrics", "[accuracy]", NULL));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "unknown metric 'accuracy'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "precision_at_k"));
    df_error_clear(&err);
    CU_ASSERT_PTR_NULL(open_evaluator(&err, "match_by", "name", NULL));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "match_by must be 'id' or 'position'"));
    df_error_clear(&err);
    CU_ASSERT_PTR_NULL(open_evaluator(&err, "label_counts", "three", NULL));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "with.label_counts"));
    /* a single name is a list of one */
    df_error_clear(&err);
    df_executor *ex = must_open(open_evaluator(&err, "metrics", "reciprocal_rank", NULL), &err);
    CU_ASSERT_PTR_NOT_NULL(ex);
    df_executor_close(ex);
}

void df_test_register(void)
{
    CU_pSuite s = CU_add_suite("evaluator", suite_setup, suite_teardown);
    CU_add_test(s, "evaluator rank metrics against groundtruth matches",
                test_evaluator_rank_metrics_against_groundtruth_matches);
    CU_add_test(s, "evaluator k from parameters and fixed cut-offs",
                test_evaluator_k_from_parameters_and_fixed_cutoffs);
    CU_add_test(s, "evaluator matches by position", test_evaluator_matches_by_position);
    CU_add_test(s, "evaluator by id in any order, and empty cases",
                test_evaluator_by_id_in_any_order_and_empty_cases);
    CU_add_test(s, "evaluator relevance by label tag", test_evaluator_relevance_by_label_tag);
    CU_add_test(s, "evaluator embedding distances", test_evaluator_embedding_distances);
    CU_add_test(s, "evaluator groundtruth errors", test_evaluator_groundtruth_errors);
    CU_add_test(s, "evaluator init errors", test_evaluator_init_errors);
}
