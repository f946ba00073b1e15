/*
 * test_flow_stress.c -- 20,000 requests of 0..20 documents through a flow
 * with replicas, dynamic batching, a fork, shards polled ALL, a join and
 * shards polled ANY, with 64 in flight. Every response is checked document
 * by document (ids, order, text, tags, the merged matches and chunks); the
 * sanitizer build adds "and nothing leaks". Executors: flow_probe.so.
 *
 * Not here: the individual rules (test_flow_runtime.c names each one).
 */
#include <CUnit/CUnit.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "docflow/flow.h"

#define PROBE_LIB DF_TEST_BINARY_DIR "/tests/plugins/flow_probe.so"
#define LIBRARY   "metas: {library: " PROBE_LIB "}"

#define N_REQUESTS 20000
#define MAX_DOCS   20
#define IN_FLIGHT  64

/*   pre (2 replicas) -> left (dynamic batching) --------\
 *                   \-> right (2 shards, ALL) ----------> join -> post (2 shards x 2 replicas, ANY)
 */
static const char *stress_flow =
    "jtype: Flow\n"
    "with: {prefetch: 64}\n" /* = IN_FLIGHT */
    "executors:\n"
    "  - {name: pre, uses: {jtype: Probe, " LIBRARY "}, replicas: 2}\n"
    "  - name: left\n"
    "    uses: {jtype: Probe, " LIBRARY ", with: {add_matches: true}}\n"
    "    needs: pre\n"
    "    uses_dynamic_batching: {/index: {preferred_batch_size: 16, timeout: 2}}\n"
    "  - name: right\n"
    "    uses: {jtype: Probe, " LIBRARY ", with: {add_matches: true}}\n"
    "    needs: pre\n"
    "    shards: 2\n"
    "    polling: ALL\n"
    "    uses_after: null\n" /* the merge by id alone, not the default MatchMerger */
    "  - {name: join, uses: {jtype: JoinProbe, " LIBRARY "}, needs: [left, right]}\n"
    "  - {name: post, uses: {jtype: Probe, " LIBRARY "}, shards: 2, replicas: 2}\n";

typedef struct stress {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t done;
    atomic_int bad_responses;
    atomic_int merged_batches; /* left's call held more than this request */
    char first_error[512];
    size_t sizes[N_REQUESTS];
} stress;

typedef struct stress_ctx {
    stress *s;
    size_t index;
} stress_ctx;

static void record_error(stress *s, size_t index, const char *what)
{
    if (atomic_fetch_add(&s->bad_responses, 1) == 0) {
        pthread_mutex_lock(&s->mu);
        snprintf(s->first_error, sizeof s->first_error, "request %zu: %s", index, what);
        pthread_mutex_unlock(&s->mu);
    }
}

static const char *tag_string(df_doc *d, const char *key)
{
    const char *s = df_value_string(df_value_get(df_doc_tags(d), key), NULL);
    return s ? s : "";
}

/* tags.path must be exactly `want` (NULL-terminated). */
static int path_is(df_doc *d, const char *const *want)
{
    const df_value *path = df_value_get(df_doc_tags(d), "path");
    size_t n = 0;
    while (want[n])
        n++;
    if (df_value_len(path) != n) return 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = df_value_string(df_value_at(path, i), NULL);
        if (!s || strcmp(s, want[i]) != 0) return 0;
    }
    return 1;
}

static int ids_are(const df_docs *docs, const char *const *want)
{
    size_t n = 0;
    while (want[n])
        n++;
    if (df_docs_len(docs) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(df_doc_str(df_docs_get(docs, i), DF_FIELD_ID), want[i]) != 0) return 0;
    return 1;
}

/* One document: what left, right's two shards, the join and post did to it. */
static const char *check_doc(df_doc *d, size_t req, size_t i)
{
    static const char *const path[] = {"pre", "left", "join", "post", NULL};
    static const char *const matches[] = {"m-left", "m-shared", "m-right-0", "m-right-1", NULL};
    char want[96];
    snprintf(want, sizeof want, "r%zu-d%zu", req, i);
    if (strcmp(df_doc_str(d, DF_FIELD_ID), want) != 0) return "id or order";
    snprintf(want, sizeof want, "request %zu document %zu", req, i);
    const char *text = df_doc_text(d, NULL);
    if (!text || strcmp(text, want) != 0) return "text";
    if (df_value_number(df_value_get(df_doc_tags(d), "seq")) != (double)i) return "tags.seq";
    if (!path_is(d, path)) return "tags.path";
    if (!ids_are(df_doc_matches(d), matches)) return "matches";
    df_doc *shared = df_docs_get(df_doc_matches(d), 1);
    if (strcmp(tag_string(shared, "from"), "left") != 0) return "merged match m-shared";
    if (df_docs_len(df_doc_chunks(d)) != 1) return "chunk count";
    const df_value *chunk_tags = df_doc_tags(df_docs_get(df_doc_chunks(d), 0));
    if (!df_value_bool(df_value_get(chunk_tags, "by_left")) ||
        !df_value_bool(df_value_get(chunk_tags, "by_right-0")) ||
        !df_value_bool(df_value_get(chunk_tags, "by_right-1")))
        return "merged chunk";
    snprintf(want, sizeof want, "c-r%zu-d%zu", req, i);
    if (strcmp(df_doc_str(df_docs_get(df_doc_chunks(d), 0), DF_FIELD_ID), want) != 0)
        return "chunk id";
    return NULL;
}

static const char *check_response(stress *s, size_t req, const df_flow_response *r)
{
    if (r->status) return r->error ? r->error : "failed";
    size_t n = s->sizes[req];
    if (df_docs_len(r->docs) != n) return "document count";
    if (r->n_routes != 6) return "routes (pre, left, right x2, join, post)";
    const df_value *join = df_value_get(df_value_get(r->parameters, "__results__"), "join");
    const df_value *matrix = df_value_get(join, "matrix_sizes");
    if (df_value_len(matrix) != 2 || df_value_number(df_value_at(matrix, 0)) != (double)n ||
        df_value_number(df_value_at(matrix, 1)) != (double)n)
        return "join docs_matrix";
    const df_value *left = df_value_get(df_value_get(r->parameters, "__results__"), "left");
    if (df_value_number(df_value_get(left, "docs")) > (double)n)
        atomic_fetch_add(&s->merged_batches, 1);
    for (size_t i = 0; i < n; i++) {
        const char *why = check_doc(df_docs_get(r->docs, i), req, i);
        if (why) return why;
    }
    return NULL;
}

static void on_response(void *arg, df_flow_response *r)
{
    stress_ctx *c = arg;
    stress *s = c->s;
    char id[32];
    snprintf(id, sizeof id, "r%zu", c->index);
    const char *why =
        strcmp(r->request_id, id) != 0 ? "request id" : check_response(s, c->index, r);
    if (why) record_error(s, c->index, why);
    df_flow_response_free(r);
    pthread_mutex_lock(&s->mu);
    s->done++;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static df_flow_request make_request(size_t req, size_t n)
{
    df_arena *a = df_arena_new(0);
    df_flow_request q = {.arena = a, .endpoint = "/index", .docs = df_docs_new(a)};
    q.request_id = df_arena_printf(a, "r%zu", req);
    for (size_t i = 0; i < n; i++) {
        df_doc *d = df_doc_new(a);
        df_doc_set_str(d, DF_FIELD_ID, df_arena_printf(a, "r%zu-d%zu", req, i));
        const char *text = df_arena_printf(a, "request %zu document %zu", req, i);
        df_doc_set_text(d, text, strlen(text));
        df_value_put_number(df_doc_tags(d), "seq", (double)i);
        df_docs_append(q.docs, d);
    }
    return q;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_flow_stress_every_response_checked_document_by_document(void)
{
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    df_flow_config *cfg =
        df_flow_config_parse(a, stress_flow, strlen(stress_flow), "stress.yml", NULL, &err);
    df_flow *f = cfg ? df_flow_open(cfg, &err) : NULL;
    if (!f) fprintf(stderr, "\nopening the stress flow failed: %s\n", err.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);

    stress *s = calloc(1, sizeof *s);
    stress_ctx *ctx = calloc(N_REQUESTS, sizeof *ctx);
    CU_ASSERT_FATAL(s && ctx);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    unsigned seed = 20240611u; /* fixed: a failure reproduces */
    size_t total_docs = 0;
    for (size_t i = 0; i < N_REQUESTS; i++) {
        s->sizes[i] = (size_t)(rand_r(&seed) % (MAX_DOCS + 1));
        total_docs += s->sizes[i];
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t posted = 0;
    for (size_t i = 0; i < N_REQUESTS; i++) {
        ctx[i] = (stress_ctx){s, i};
        df_flow_request q = make_request(i, s->sizes[i]);
        if (df_flow_post(f, &q, on_response, &ctx[i], 1, &err) != DF_OK) {
            fprintf(stderr, "\npost %zu failed: %s\n", i, err.msg);
            break;
        }
        posted++;
    }
    CU_ASSERT_EQUAL(posted, N_REQUESTS);
    pthread_mutex_lock(&s->mu);
    while (s->done < posted)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    double dt = seconds_since(&t0);
    fprintf(stderr,
            "\n%d requests, %zu documents, %d in flight: %.2f s (%.0f requests/s), %d answered "
            "from merged batches\n",
            N_REQUESTS, total_docs, IN_FLIGHT, dt, N_REQUESTS / dt,
            atomic_load(&s->merged_batches));
    CU_ASSERT_EQUAL(atomic_load(&s->bad_responses), 0);
    if (atomic_load(&s->bad_responses))
        fprintf(stderr, "%d bad responses; first: %s\n", atomic_load(&s->bad_responses),
                s->first_error);
    CU_ASSERT(atomic_load(&s->merged_batches) > 0); /* dynamic batching was exercised */
    CU_ASSERT_EQUAL(df_flow_in_flight(f), 0);
    df_flow_close(f, 0);
    df_flow_config_free(cfg);
    df_arena_free(a);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(ctx);
    free(s);
}

void df_test_register(void)
{
    CU_pSuite s = CU_add_suite("flow_stress", NULL, NULL);
    CU_add_test(s, "every response checked document by document",
                test_flow_stress_every_response_checked_document_by_document);
}
