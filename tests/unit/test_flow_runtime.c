/*
 * test_flow_runtime.c -- flows run in-process (docflow/flow.h) on the test
 * executors of tests/plugins/flow_probe.c: sequential order, joins and
 * docs_matrix, replicas, shards (ANY / ALL, reduce, uses_after,
 * workspaces), `when`, uses_requests, variable substitution, dynamic
 * batching, target_executor, failures, timeouts, prefetch, shutdown order
 * and drain. Flow YAML is written here, next to what each test checks.
 *
 * Not here: YAML validation errors (test_flow_config.c) and the `post`
 * command (tests/integration/test_post_flow.sh).
 */
#include <CUnit/CUnit.h>
#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "docflow/buf.h"
#include "docflow/flow.h"
#include "docflow/json_codec.h"

#define PROBE_LIB DF_TEST_BINARY_DIR "/tests/plugins/flow_probe.so"
#define LIBRARY   "metas: {library: " PROBE_LIB "}"
/* Inline `uses:` maps, left open so a test can add `, with: {...}` and
 * must close them with "}". */
#define PROBE   "{jtype: Probe, " LIBRARY
#define SHARDER "{jtype: Sharder, " LIBRARY
#define JOIN    "{jtype: JoinProbe, " LIBRARY

/* Longest a test waits for a response before calling the flow stuck. */
#define WAIT_LIMIT_MS 30000

static char tmp_root[] = "/tmp/docflow-test-flowrt-XXXXXX";
static df_arena *tmp_arena;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int suite_setup(void)
{
    tmp_arena = df_arena_new(0);
    return mkdtemp(tmp_root) ? 0 : -1;
}

static int suite_teardown(void)
{
    nftw(tmp_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    df_arena_free(tmp_arena);
    return 0;
}

static const char *tmp_path(const char *name)
{
    return df_arena_printf(tmp_arena, "%s/%s", tmp_root, name);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- opening flows ------------------------------------------------------------ */

typedef struct test_flow {
    df_arena *arena;
    df_flow_config *cfg;
    df_flow *flow;
} test_flow;

/* Parses YAML (printf-formatted) with `context` for ${{ VAR }} and opens
 * the flow; NULL (with the reason printed, nothing left to free) when
 * either fails. */
static df_flow *open_flow_ctx(test_flow *t, const df_value *context, const char *fmt, ...)
{
    memset(t, 0, sizeof *t);
    t->arena = df_arena_new(0);
    va_list ap;
    va_start(ap, fmt);
    char *yaml = NULL;
    int len = vasprintf(&yaml, fmt, ap);
    va_end(ap);
    if (len < 0) return NULL;
    df_error err = DF_ERROR_INIT;
    t->cfg = df_flow_config_parse(t->arena, yaml, (size_t)len, "flow.yml", context, &err);
    free(yaml);
    if (t->cfg) t->flow = df_flow_open(t->cfg, &err);
    if (!t->flow) {
        fprintf(stderr, "\nopening the flow failed: %s\n", err.msg);
        df_flow_config_free(t->cfg);
        df_arena_free(t->arena);
        memset(t, 0, sizeof *t);
    }
    return t->flow;
}

#define open_flow(t, ...) open_flow_ctx((t), NULL, __VA_ARGS__)

static void close_flow(test_flow *t)
{
    df_flow_close(t->flow, 0);
    df_flow_config_free(t->cfg);
    df_arena_free(t->arena);
    memset(t, 0, sizeof *t);
}

/* ---- requests ----------------------------------------------------------------- */

/* A request of `n` documents with ids "<prefix>-<i>", texts "text <prefix>
 * <i>" and tags.seq = i; request id = prefix. */
static df_flow_request request_of(const char *endpoint, const char *prefix, size_t n)
{
    df_arena *a = df_arena_new(0);
    df_flow_request q = {.arena = a, .endpoint = endpoint, .docs = df_docs_new(a)};
    q.request_id = df_arena_strdup(a, prefix);
    for (size_t i = 0; i < n; i++) {
        df_doc *d = df_doc_new(a);
        df_doc_set_str(d, DF_FIELD_ID, df_arena_printf(a, "%s-%zu", prefix, i));
        const char *text = df_arena_printf(a, "text %s %zu", prefix, i);
        df_doc_set_text(d, text, strlen(text));
        df_value_put_number(df_doc_tags(d), "seq", (double)i);
        df_docs_append(q.docs, d);
    }
    return q;
}

static void set_tag(df_flow_request *q, size_t i, const char *key, const char *value)
{
    df_value_put_string(df_doc_tags(df_docs_get(q->docs, i)), key, value);
}

/* Parameters from JSON. */
static void set_params(df_flow_request *q, const char *json)
{
    df_error err = DF_ERROR_INIT;
    q->parameters = df_json_decode_value(q->arena, json, strlen(json), "params", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q->parameters);
}

static df_flow_response *call(df_flow *f, df_flow_request q)
{
    df_error err = DF_ERROR_INIT;
    df_flow_response *r = df_flow_call(f, &q, &err);
    if (!r) fprintf(stderr, "\ndf_flow_call failed: %s\n", err.msg);
    return r;
}

/* ---- collecting responses posted with callbacks --------------------------------- */

#define MAX_RESPONSES 512

typedef struct collector {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    df_flow_response *resps[MAX_RESPONSES];
    size_t n;
} collector;

static void collector_init(collector *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
}

static void collect(void *ctx, df_flow_response *resp)
{
    collector *c = ctx;
    pthread_mutex_lock(&c->mu);
    if (c->n < MAX_RESPONSES)
        c->resps[c->n++] = resp;
    else
        df_flow_response_free(resp);
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static size_t collected(collector *c)
{
    pthread_mutex_lock(&c->mu);
    size_t n = c->n;
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* Waits until `n` responses arrived (or WAIT_LIMIT_MS passed). */
static int wait_for(collector *c, size_t n)
{
    uint64_t limit = now_ms() + WAIT_LIMIT_MS;
    while (collected(c) < n && now_ms() < limit)
        sleep_ms(2);
    return collected(c) >= n;
}

static void collector_free(collector *c)
{
    for (size_t i = 0; i < c->n; i++)
        df_flow_response_free(c->resps[i]);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
}

static int post(df_flow *f, df_flow_request q, collector *c, int wait)
{
    df_error err = DF_ERROR_INIT;
    int rc = df_flow_post(f, &q, collect, c, wait, &err);
    if (rc && wait) fprintf(stderr, "\ndf_flow_post failed: %s\n", err.msg);
    return rc;
}

static df_flow_response *response_with_id(collector *c, const char *id)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->resps[i]->request_id, id) == 0) return c->resps[i];
    return NULL;
}

/* ---- reading responses ------------------------------------------------------------- */

static const df_value *tag(df_doc *d, const char *key)
{
    return df_value_get(df_doc_tags(d), key);
}

static double tag_num(df_doc *d, const char *key)
{
    return df_value_number(tag(d, key));
}

static const char *tag_str(df_doc *d, const char *key)
{
    const char *s = df_value_string(tag(d, key), NULL);
    return s ? s : "";
}

/* tags.path joined with '>' ("a>b>c"), "" when absent. */
static const char *path_of(df_doc *d)
{
    const df_value *path = tag(d, "path");
    df_buf b = DF_BUF_INIT;
    for (size_t i = 0; i < df_value_len(path); i++)
        df_buf_printf(&b, "%s%s", i ? ">" : "", df_value_string(df_value_at(path, i), NULL));
    const char *out = df_arena_strdup(tmp_arena, b.data ? b.data : "");
    df_buf_free(&b);
    return out;
}

/* Ids of an array joined with ',' */
static const char *ids_of(const df_docs *docs)
{
    df_buf b = DF_BUF_INIT;
    for (size_t i = 0; i < df_docs_len(docs); i++)
        df_buf_printf(&b, "%s%s", i ? "," : "", df_doc_str(df_docs_get(docs, i), DF_FIELD_ID));
    const char *out = df_arena_strdup(tmp_arena, b.data ? b.data : "");
    df_buf_free(&b);
    return out;
}

/* A list of numbers or strings as "a,b,c". */
static const char *list_text(const df_value *list)
{
    df_buf b = DF_BUF_INIT;
    for (size_t i = 0; i < df_value_len(list); i++) {
        const df_value *v = df_value_at(list, i);
        if (df_value_type_of(v) == DF_VALUE_NUMBER)
            df_buf_printf(&b, "%s%g", i ? "," : "", df_value_number(v));
        else
            df_buf_printf(&b, "%s%s", i ? "," : "", df_value_string(v, NULL));
    }
    const char *out = df_arena_strdup(tmp_arena, b.data ? b.data : "");
    df_buf_free(&b);
    return out;
}

static const df_value *result_of(const df_flow_response *r, const char *executor)
{
    return df_value_get(df_value_get(r->parameters, "__results__"), executor);
}

static double result_num(const df_flow_response *r, const char *executor, const char *key)
{
    return df_value_number(df_value_get(result_of(r, executor), key));
}

static const char *result_str(const df_flow_response *r, const char *executor, const char *key)
{
    const char *s = df_value_string(df_value_get(result_of(r, executor), key), NULL);
    return s ? s : "";
}

/* The __results__ entry of whichever replica of `name` served the request
 * (keys are runtime names, "enc/rep-1"); its replica number in *replica. */
static const df_value *replica_result(const df_flow_response *r, const char *name, int *replica)
{
    const df_value *all = df_value_get(r->parameters, "__results__");
    size_t len = strlen(name);
    for (size_t i = 0; i < df_value_len(all); i++) {
        const char *key = df_value_key_at(all, i);
        if (strncmp(key, name, len) == 0 && strncmp(key + len, "/rep-", 5) == 0) {
            *replica = atoi(key + len + 5);
            return df_value_at(all, i);
        }
    }
    *replica = -1;
    return NULL;
}

/* Executors of the routes joined with ',' in completion order. */
static const char *routes_of(const df_flow_response *r)
{
    df_buf b = DF_BUF_INIT;
    for (size_t i = 0; i < r->n_routes; i++)
        df_buf_printf(&b, "%s%s", i ? "," : "", r->routes[i].executor);
    const char *out = df_arena_strdup(tmp_arena, b.data ? b.data : "");
    df_buf_free(&b);
    return out;
}

static int has_route(const df_flow_response *r, const char *executor)
{
    for (size_t i = 0; i < r->n_routes; i++)
        if (strcmp(r->routes[i].executor, executor) == 0) return 1;
    return 0;
}

static void expect_ok(const df_flow_response *r)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(r->status, DF_OK);
    if (r->status)
        fprintf(stderr, "\nrequest %s failed in %s: %s\n", r->request_id,
                r->error_executor ? r->error_executor : "?", r->error ? r->error : "?");
}

/* The lines of a text file joined with ','. */
static const char *file_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return "";
    df_buf b = DF_BUF_INIT;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        df_buf_printf(&b, "%s%s", b.len ? "," : "", line);
    }
    fclose(f);
    const char *out = df_arena_strdup(tmp_arena, b.data ? b.data : "");
    df_buf_free(&b);
    return out;
}

/* ==== sequential order, routes, results ============================================== */

static void test_flow_sequential_runs_executors_in_order(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t, "jtype: Flow\n"
                                               "executors:\n"
                                               "  - {name: a, uses: " PROBE "}}\n"
                                               "  - {name: b, uses: " PROBE "}}\n"
                                               "  - {name: c, uses: " PROBE "}}\n"));
    df_flow_request q = request_of("/index", "seq", 3);
    set_params(&q, "{\"x\": 1}");
    df_flow_response *r = call(t.flow, q);
    expect_ok(r);
    CU_ASSERT_STRING_EQUAL(r->request_id, "seq");
    CU_ASSERT_STRING_EQUAL(r->endpoint, "/index");
    CU_ASSERT_STRING_EQUAL(ids_of(r->docs), "seq-0,seq-1,seq-2");
    for (size_t i = 0; i < df_docs_len(r->docs); i++) {
        df_doc *d = df_docs_get(r->docs, i);
        CU_ASSERT_STRING_EQUAL(path_of(d), "a>b>c");
        CU_ASSERT_STRING_EQUAL(df_doc_text(d, NULL), df_arena_printf(tmp_arena, "text seq %zu", i));
        CU_ASSERT_EQUAL(tag_num(d, "seq"), (double)i);
    }
    CU_ASSERT_STRING_EQUAL(routes_of(r), "a,b,c");
    for (size_t i = 0; i < r->n_routes; i++) {
        CU_ASSERT_EQUAL(r->routes[i].status, DF_OK);
        CU_ASSERT(r->routes[i].start_ns > 0);
        CU_ASSERT(r->routes[i].start_ns <= r->routes[i].end_ns);
        if (i) CU_ASSERT(r->routes[i - 1].end_ns <= r->routes[i].start_ns);
    }
    /* __results__ of every executor, next to the request's own parameters */
    CU_ASSERT_EQUAL(df_value_number(df_value_get(r->parameters, "x")), 1);
    CU_ASSERT_STRING_EQUAL(result_str(r, "a", "name"), "a");
    CU_ASSERT_STRING_EQUAL(result_str(r, "b", "name"), "b");
    CU_ASSERT_STRING_EQUAL(result_str(r, "c", "name"), "c");
    CU_ASSERT_EQUAL(result_num(r, "c", "docs"), 3);
    CU_ASSERT_EQUAL(r->error, NULL);
    CU_ASSERT_EQUAL(r->error_executor, NULL);
    df_flow_response_free(r);
    /* without a request id, a fresh one */
    df_flow_request q2 = request_of("/index", "anonymous", 1);
    q2.request_id = NULL;
    r = call(t.flow, q2);
    expect_ok(r);
    CU_ASSERT_EQUAL(strlen(r->request_id), 32);
    df_flow_response_free(r);
    close_flow(&t);
}

static void test_flow_empty_request_passes_through(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t, "jtype: Flow\n"
                                               "executors:\n"
                                               "  - {name: a, uses: " PROBE "}}\n"
                                               "  - {name: b, uses: " PROBE "}, needs: gateway}\n"
                                               "  - {name: j, uses: " JOIN "}, needs: [a, b]}\n"
                                               "  - {name: s, uses: " SHARDER "}, shards: 2,"
                                               " polling: ALL}\n"));
    df_flow_request q = request_of("/search", "empty", 0);
    q.docs = NULL;
    df_flow_response *r = call(t.flow, q);
    expect_ok(r);
    CU_ASSERT_EQUAL(df_docs_len(r->docs), 0);
    CU_ASSERT_STRING_EQUAL(list_text(df_value_get(result_of(r, "j"), "matrix_sizes")), "0,0");
    df_flow_response_free(r);
    close_flow(&t);
}

static void test_flow_executor_without_uses_passes_documents_through(void)
{
    test_flow t;
    /* Jina's default executor: no uses: means BaseExecutor */
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t, "jtype: Flow\n"
                                               "executors:\n"
                                               "  - name: plain\n"
                                               "  - {name: a, uses: " PROBE "}}\n"));
    df_flow_response *r = call(t.flow, request_of("/index", "base", 2));
    expect_ok(r);
    CU_ASSERT_STRING_EQUAL(ids_of(r->docs), "base-0,base-1");
    CU_ASSERT_STRING_EQUAL(path_of(df_docs_get(r->docs, 0)), "a");
    df_flow_response_free(r);
    close_flow(&t);
}

/* ==== joins ============================================================================ */

static void test_flow_join_sees_docs_matrix_in_needs_order(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t,
                                           "jtype: Flow\n"
                                           "executors:\n"
                                           "  - {name: a, uses: " PROBE "}, needs: gateway}\n"
                                           "  - {name: b, uses: " PROBE "}, needs: gateway}\n"
                                           "  - {name: c, uses: " PROBE "}, needs: a}\n"
                                           "  - {name: j, uses: " JOIN "}, needs: [b, c, a]}\n"));
    df_flow_response *r = call(t.flow, request_of("/index", "jm", 4));
    expect_ok(r);
    CU_ASSERT_EQUAL(result_num(r, "j", "docs"), 4);
    CU_ASSERT_STRING_EQUAL(list_text(df_value_get(result_of(r, "j"), "matrix_sizes")), "4,4,4");
    CU_ASSERT_STRING_EQUAL(list_text(df_value_get(result_of(r, "j"), "matrix_from")), "b,c,a");
    /* the join ran once per request, after all its inputs */
    const char *routes = routes_of(r);
    CU_ASSERT_EQUAL(strstr(routes, ",j"), routes + strlen(routes) - 2);
    CU_ASSERT_STRING_EQUAL(ids_of(r->docs), "jm-0,jm-1,jm-2,jm-3");
    df_flow_response_free(r);
    close_flow(&t);
}

static void test_flow_join_merges_matches_and_chunks_by_id(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(
        open_flow(&t, "jtype: Flow\n"
                      "executors:\n"
                      "  - {name: a, uses: " PROBE ", with: {add_matches: true}}, needs: gateway}\n"
                      "  - {name: b, uses: " PROBE ", with: {add_matches: true}}, needs: gateway}\n"
                      "  - {name: j, uses: " JOIN "}, needs: [b, a]}\n"));
    df_flow_response *r = call(t.flow, request_of("/index", "mm", 3));
    expect_ok(r);
    CU_ASSERT_STRING_EQUAL(ids_of(r->docs), "mm-0,mm-1,mm-2");
    for (size_t i = 0; i < df_docs_len(r->docs); i++) {
        df_doc *d = df_docs_get(r->docs, i);
        /* b is first in needs: its fields win, a's new matches follow */
        CU_ASSERT_STRING_EQUAL(ids_of(df_doc_matches(d)), "m-b,m-shared,m-a");
        CU_ASSERT_STRING_EQUAL(tag_str(df_docs_find(df_doc_matches(d), "m-shared"), "from"), "b");
        CU_ASSERT_STRING_EQUAL(path_of(d), "b>j");
        CU_ASSERT_EQUAL(df_docs_len(df_doc_chunks(d)), 1);
        df_doc *chunk = df_docs_get(df_doc_chunks(d), 0);
        CU_ASSERT(df_value_bool(tag(chunk, "by_a")));
        CU_ASSERT(df_value_bool(tag(chunk, "by_b")));
        CU_ASSERT_STRING_EQUAL(df_doc_text(d, NULL), df_arena_printf(tmp_arena, "text mm %zu", i));
    }
    df_flow_response_free(r);
    close_flow(&t);
}

static void test_flow_join_may_list_the_gateway(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t, "jtype: Flow\n"
                                               "executors:\n"
                                               "  - {name: a, uses: " PROBE "}}\n"
                                               "  - {name: j, uses: " JOIN
                                               "}, needs: [gateway, a]}\n"));
    df_flow_response *r = call(t.flow, request_of("/index", "gw", 2));
    expect_ok(r);
    /* one array per input: the request as sent, then a's output */
    CU_ASSERT_STRING_EQUAL(list_text(df_value_get(result_of(r, "j"), "matrix_sizes")), "2,2");
    CU_ASSERT_STRING_EQUAL(list_text(df_value_get(result_of(r, "j"), "matrix_from")), ",a");
    df_flow_response_free(r);
    close_flow(&t);
}

static void test_flow_two_end_executors_are_merged_by_id(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(
        open_flow(&t, "jtype: Flow\n"
                      "executors:\n"
                      "  - {name: a, uses: " PROBE "}}\n"
                      "  - {name: b, uses: " PROBE ", with: {add_matches: true}}, needs: a}\n"
                      "  - {name: c, uses: " PROBE ", with: {add_matches: true}}, needs: a}\n"));
    df_flow_response *r = call(t.flow, request_of("/index", "ends", 2));
    expect_ok(r);
    CU_ASSERT_STRING_EQUAL(ids_of(r->docs), "ends-0,ends-1");
    df_doc *d = df_docs_get(r->docs, 0);
    CU_ASSERT_STRING_EQUAL(ids_of(df_doc_matches(d)), "m-b,m-shared,m-c");
    CU_ASSERT_STRING_EQUAL(path_of(d), "a>b");
    df_flow_response_free(r);
    close_flow(&t);
}

/* ==== replicas and pipelining ============================================================= */

static void test_flow_replicas_share_work_and_never_reenter(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t, "jtype: Flow\n"
                                               "executors:\n"
                                               "  - {name: enc, uses: " PROBE
                                               ", with: {sleep_ms: 3}}, replicas: 2}\n"
                                               "  - {name: idx, uses: " PROBE "}}\n"));
    collector c;
    collector_init(&c);
    enum { N = 40 };
    for (int i = 0; i < N; i++)
        CU_ASSERT_EQUAL(
            post(t.flow, request_of("/index", df_arena_printf(tmp_arena, "rep%d", i), 2), &c, 1),
            DF_OK);
    CU_ASSERT_FATAL(wait_for(&c, N));
    int used[2] = {0, 0};
    for (size_t i = 0; i < c.n; i++) {
        df_flow_response *r = c.resps[i];
        expect_ok(r); /* a re-entered instance fails the request */
        int rep;
        const df_value *enc = replica_result(r, "enc", &rep);
        CU_ASSERT_PTR_NOT_NULL_FATAL(enc);
        CU_ASSERT_EQUAL(df_value_number(df_value_get(enc, "max_in_call")), 1);
        CU_ASSERT_EQUAL(df_value_number(df_value_get(enc, "replica")), rep);
        CU_ASSERT_EQUAL(result_num(r, "idx", "max_in_call"), 1);
        if (rep == 0 || rep == 1) used[rep]++;
        CU_ASSERT(has_route(r, df_arena_printf(tmp_arena, "enc/rep-%d", rep)));
    }
    CU_ASSERT(used[0] > 0);
    CU_ASSERT(used[1] > 0);
    CU_ASSERT_EQUAL(used[0] + used[1], N);
    collector_free(&c);
    close_flow(&t);
}

static void test_flow_idle_replica_gets_the_next_request(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t, "jtype: Flow\n"
                                               "executors:\n"
                                               "  - {name: enc, uses: " PROBE "}, replicas: 2}\n"));
    collector c;
    collector_init(&c);
    df_flow_request q = request_of("/index", "busy", 1);
    set_params(&q, "{\"sleep_ms\": 300}");
    post(t.flow, q, &c, 1);
    sleep_ms(20);
    post(t.flow, request_of("/index", "quick", 1), &c, 1);
    CU_ASSERT_FATAL(wait_for(&c, 1));
    /* not queued behind the busy replica: answered first, by the other one */
    CU_ASSERT_STRING_EQUAL(c.resps[0]->request_id, "quick");
    CU_ASSERT_FATAL(wait_for(&c, 2));
    int quick, busy;
    CU_ASSERT_PTR_NOT_NULL(replica_result(response_with_id(&c, "quick"), "enc", &quick));
    CU_ASSERT_PTR_NOT_NULL(replica_result(response_with_id(&c, "busy"), "enc", &busy));
    CU_ASSERT_NOT_EQUAL(quick, busy);
    close_flow(&t);
    collector_free(&c);
}

static void test_flow_requests_pipeline_through_executors(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(
        open_flow(&t, "jtype: Flow\n"
                      "executors:\n"
                      "  - {name: a, uses: " PROBE ", with: {sleep_ms: 40}}}\n"
                      "  - {name: b, uses: " PROBE ", with: {sleep_ms: 40}}}\n"));
    collector c;
    collector_init(&c);
    enum { N = 6 };
    for (int i = 0; i < N; i++)
        post(t.flow, request_of("/index", df_arena_printf(tmp_arena, "pipe%d", i), 1), &c, 1);
    CU_ASSERT_FATAL(wait_for(&c, N));
    int overlapped = 0;
    for (size_t i = 0; i < c.n; i++) {
        expect_ok(c.resps[i]);
        overlapped |= result_num(c.resps[i], "a", "global_in_call") >= 2 ||
                      result_num(c.resps[i], "b", "global_in_call") >= 2;
    }
    /* while b works on request N, a works on N+1 */
    CU_ASSERT(overlapped);
    /* and b starts on a request as soon as a is done with it, not after a's
     * next call (a slow executor does not defer waking its downstream) */
    for (int i = 0; i + 1 < N; i++) {
        const df_flow_response *r = response_with_id(&c, df_arena_printf(tmp_arena, "pipe%d", i));
        const df_flow_response *next =
            response_with_id(&c, df_arena_printf(tmp_arena, "pipe%d", i + 1));
        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        CU_ASSERT_PTR_NOT_NULL_FATAL(next);
        CU_ASSERT_EQUAL_FATAL(r->n_routes, 2);
        CU_ASSERT_EQUAL_FATAL(next->n_routes, 2);
        CU_ASSERT(r->routes[1].start_ns <
                  next->routes[0].end_ns); /* b(i) began before a(i+1) ended */
    }
    collector_free(&c);
    close_flow(&t);
}

/* ==== shards ============================================================================== */

static void test_flow_shards_any_sends_to_one_shard_all_to_every_shard(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t, "jtype: Flow\n"
                                               "executors:\n"
                                               "  - name: idx\n"
                                               "    uses: " SHARDER "}\n"
                                               "    shards: 2\n"
                                               "    polling: {/index: ANY, /search: ALL}\n"
                                               "    uses_after: null\n")); /* no MatchMerger */
    collector c;
    collector_init(&c);
    enum { N = 16 };
    for (int i = 0; i < N; i++)
        post(t.flow, request_of("/index", df_arena_printf(tmp_arena, "any%d", i), 2), &c, 1);
    CU_ASSERT_FATAL(wait_for(&c, N));
    for (size_t i = 0; i < c.n; i++) {
        df_flow_response *r = c.resps[i];
        expect_ok(r);
        CU_ASSERT_EQUAL(r->n_routes, 1); /* one shard answered */
        double s0 = tag_num(df_docs_get(r->docs, 0), "indexed_by");
        CU_ASSERT(s0 == 0 || s0 == 1);
        CU_ASSERT_EQUAL(tag_num(df_docs_get(r->docs, 1), "indexed_by"), s0);
        CU_ASSERT_STRING_EQUAL(routes_of(r), s0 == 0 ? "idx/shard-0" : "idx/shard-1");
    }
    collector_free(&c);
    /* ALL: both shards search; the reduce merges their matches and the
     * chunk both of them added under one id (uses_after: null keeps Jina's
     * merge by id instead of the default reducer, MatchMerger) */
    df_flow_response *r = call(t.flow, request_of("/search", "q", 1));
    expect_ok(r);
    CU_ASSERT(has_route(r, "idx/shard-0"));
    CU_ASSERT(has_route(r, "idx/shard-1"));
    CU_ASSERT_EQUAL(df_docs_len(r->docs), 1);
    df_doc *q = df_docs_get(r->docs, 0);
    df_docs *m = df_doc_matches(q);
    CU_ASSERT_EQUAL(df_docs_len(m), 2 * N); /* every indexed document, once */
    for (int i = 0; i < N; i++)
        for (int k = 0; k < 2; k++)
            CU_ASSERT_PTR_NOT_NULL(df_docs_find(m, df_arena_printf(tmp_arena, "any%d-%d", i, k)));
    CU_ASSERT_EQUAL(df_docs_len(df_doc_chunks(q)), 1);
    df_doc *chunk = df_docs_get(df_doc_chunks(q), 0);
    CU_ASSERT(df_value_bool(tag(chunk, "shard_0")));
    CU_ASSERT(df_value_bool(tag(chunk, "shard_1")));
    df_flow_response_free(r);
    close_flow(&t);
}

static void test_flow_shards_all_reduce_keeps_one_copy_per_id(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t, "jtype: Flow\n"
                                               "executors:\n"
                                               "  - {name: idx, uses: " SHARDER "}, shards: 3,"
                                               " polling: ALL, uses_after: null}\n"));
    /* ALL on /index: every shard stores both documents */
    df_flow_response *r = call(t.flow, request_of("/index", "all", 2));
    expect_ok(r);
    CU_ASSERT_STRING_EQUAL(ids_of(r->docs), "all-0,all-1");
    CU_ASSERT_EQUAL(r->n_routes, 3);
    df_flow_response_free(r);
    r = call(t.flow, request_of("/search", "q", 2));
    expect_ok(r);
    CU_ASSERT_STRING_EQUAL(ids_of(r->docs), "q-0,q-1");
    df_doc *q = df_docs_get(r->docs, 1);
    /* three shards answered with the same two ids: merged, not tripled */
    CU_ASSERT_STRING_EQUAL(ids_of(df_doc_matches(q)), "all-0,all-1");
    CU_ASSERT_EQUAL(tag_num(df_docs_get(df_doc_matches(q), 0), "shard"), 0);
    df_doc *chunk = df_docs_get(df_doc_chunks(q), 0);
    CU_ASSERT_EQUAL(df_docs_len(df_doc_chunks(q)), 1);
    CU_ASSERT(df_value_bool(tag(chunk, "shard_0")) && df_value_bool(tag(chunk, "shard_1")) &&
              df_value_bool(tag(chunk, "shard_2")));
    df_flow_response_free(r);
    close_flow(&t);
}

static void test_flow_shards_all_keep_every_shards_results(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t, "jtype: Flow\n"
                                               "executors:\n"
                                               "  - {name: idx, uses: " SHARDER "}, shards: 2,"
                                               " polling: ALL}\n"));
    df_flow_response *r = call(t.flow, request_of("/index", "res", 3));
    expect_ok(r);
    /* Both shards returned {stored: 3}. Under one key "idx" the second
     * overwrites the first (which one survives depends on timing); Jina keys
     * __results__ by runtime name, so each shard keeps its own entry. */
    CU_ASSERT_EQUAL(result_num(r, "idx/shard-0", "stored"), 3);
    CU_ASSERT_EQUAL(result_num(r, "idx/shard-1", "stored"), 3);
    df_flow_response_free(r);
    close_flow(&t);
}

static void test_flow_uses_after_sees_the_shards_outputs(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t, "jtype: Flow\n"
                                               "executors:\n"
                                               "  - name: idx\n"
                                               "    uses: " SHARDER "}\n"
                                               "    shards: 3\n"
                                               "    polling: ALL\n"
                                               "    uses_after: " JOIN "}\n"
                                               "  - {name: last, uses: " PROBE "}}\n"));
    df_flow_response *r = call(t.flow, request_of("/index", "ua", 2));
    expect_ok(r);
    const df_value *after = result_of(r, "idx/uses_after");
    CU_ASSERT_PTR_NOT_NULL(after);
    CU_ASSERT_STRING_EQUAL(list_text(df_value_get(after, "matrix_sizes")), "2,2,2");
    CU_ASSERT_EQUAL(df_value_number(df_value_get(after, "docs")), 2);
    CU_ASSERT(has_route(r, "idx/uses_after"));
    /* uses_after runs once, after every shard, before the next executor */
    const char *routes = routes_of(r);
    CU_ASSERT_PTR_NOT_NULL(strstr(routes, "idx/uses_after,last"));
    CU_ASSERT_STRING_EQUAL(path_of(df_docs_get(r->docs, 0)), "idx/uses_after>last");
    df_flow_response_free(r);
    close_flow(&t);
}

static void test_flow_uses_before_runs_before_the_shards(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t, "jtype: Flow\n"
                                               "executors:\n"
                                               "  - name: idx\n"
                                               "    uses: " PROBE "}\n"
                                               "    shards: 2\n"
                                               "    polling: ALL\n"
                                               "    uses_before: " PROBE "}\n"
                                               "    uses_after: " JOIN "}\n"));
    df_flow_response *r = call(t.flow, request_of("/index", "ub", 1));
    expect_ok(r);
    CU_ASSERT_STRING_EQUAL(list_text(df_value_get(result_of(r, "idx/uses_after"), "matrix_from")),
                           "idx,idx");
    /* before -> shard (shard 0's fields win the reduce) -> after */
    CU_ASSERT_STRING_EQUAL(path_of(df_docs_get(r->docs, 0)), "idx/uses_before>idx>idx/uses_after");
    CU_ASSERT_EQUAL(r->n_routes, 4);
    df_flow_response_free(r);
    close_flow(&t);
}

static void test_flow_shards_have_own_workspace_and_runtime_args(void)
{
    test_flow t;
    const char *ws = tmp_path("ws");
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t,
                                           "jtype: Flow\n"
                                           "with: {workspace: %s}\n"
                                           "executors:\n"
                                           "  - {name: idx, uses: " SHARDER "}, shards: 2,"
                                           " polling: ALL}\n"
                                           "  - {name: own, uses: " SHARDER "}, shards: 2,"
                                           " polling: ALL, workspace: %s/other, needs: gateway}\n",
                                           ws, ws));
    df_flow_response *r = call(t.flow, request_of("/info", "info", 1));
    expect_ok(r);
    df_docs *m = df_doc_matches(df_docs_get(r->docs, 0));
    CU_ASSERT_EQUAL(df_docs_len(m), 2);
    if (df_docs_len(m) != 2) fprintf(stderr, "\nmatches: %s\n", ids_of(m));
    for (int s = 0; s < 2; s++) {
        df_doc *info = df_docs_find(m, df_arena_printf(tmp_arena, "shard-%d", s));
        CU_ASSERT_PTR_NOT_NULL_FATAL(info);
        /* the first executor's answer wins the merge of equal ids */
        const char *dir = df_arena_printf(tmp_arena, "%s/idx/%d", ws, s);
        CU_ASSERT_STRING_EQUAL(tag_str(info, "workspace"), dir);
        CU_ASSERT_EQUAL(tag_num(info, "shard_id"), s);
        CU_ASSERT_EQUAL(tag_num(info, "shards"), 2);
        CU_ASSERT_STRING_EQUAL(tag_str(info, "name"), "idx");
        struct stat st;
        CU_ASSERT(stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
        dir = df_arena_printf(tmp_arena, "%s/other/own/%d", ws, s);
        CU_ASSERT(stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
    }
    df_flow_response_free(r);
    close_flow(&t);
}

/* ==== when ================================================================================= */

static df_flow_request lang_request(const char *prefix)
{
    df_flow_request q = request_of("/index", prefix, 4);
    set_tag(&q, 0, "lang", "en");
    set_tag(&q, 1, "lang", "de");
    set_tag(&q, 2, "lang", "en");
    set_tag(&q, 3, "lang", "fr");
    return q;
}

static void test_flow_when_drops_unmatched_documents_for_the_branch(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t, "jtype: Flow\n"
                                               "executors:\n"
                                               "  - name: a\n"
                                               "    uses: " PROBE "}\n"
                                               "    when: {tags__lang: {$eq: en}}\n"
                                               "  - {name: b, uses: " PROBE "}}\n"));
    df_flow_response *r = call(t.flow, lang_request("w"));
    expect_ok(r);
    CU_ASSERT_EQUAL(result_num(r, "a", "docs"), 2);
    CU_ASSERT_STRING_EQUAL(ids_of(r->docs), "w-0,w-2");
    CU_ASSERT_STRING_EQUAL(path_of(df_docs_get(r->docs, 1)), "a>b");
    df_flow_response_free(r);
    close_flow(&t);
}

static void test_flow_when_documents_come_back_through_a_join(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t, "jtype: Flow\n"
                                               "executors:\n"
                                               "  - name: en\n"
                                               "    uses: " PROBE "}\n"
                                               "    needs: gateway\n"
                                               "    when: {tags__lang: {$eq: en}}\n"
                                               "  - name: other\n"
                                               "    uses: " PROBE "}\n"
                                               "    needs: gateway\n"
                                               "    when: {tags__lang: {$neq: en}}\n"
                                               "  - {name: all, uses: " PROBE "}, needs: gateway}\n"
                                               "  - {name: j, uses: " JOIN
                                               "}, needs: [en, other, all]}\n"));
    df_flow_response *r = call(t.flow, lang_request("wj"));
    expect_ok(r);
    CU_ASSERT_EQUAL(result_num(r, "en", "docs"), 2);
    CU_ASSERT_EQUAL(result_num(r, "other", "docs"), 2);
    CU_ASSERT_STRING_EQUAL(list_text(df_value_get(result_of(r, "j"), "matrix_sizes")), "2,2,4");
    /* merged by id in needs order: en's, then other's, then nothing new */
    CU_ASSERT_STRING_EQUAL(ids_of(r->docs), "wj-0,wj-2,wj-1,wj-3");
    CU_ASSERT_STRING_EQUAL(path_of(df_docs_get(r->docs, 0)), "en>j");
    CU_ASSERT_STRING_EQUAL(path_of(df_docs_get(r->docs, 2)), "other>j");
    df_flow_response_free(r);
    close_flow(&t);
}

/* ==== configuration reaching the executors ========================================= */

static void test_flow_uses_requests_overrides_bindings(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t, "jtype: Flow\n"
                                               "executors:\n"
                                               "  - name: a\n"
                                               "    uses: " PROBE "}\n"
                                               "    uses_requests: {/foo: mark}\n"));
    df_flow_response *r = call(t.flow, request_of("/foo", "ur", 1));
    expect_ok(r);
    df_doc *d = df_docs_get(r->docs, 0);
    CU_ASSERT_STRING_EQUAL(tag_str(d, "marked"), "a");
    CU_ASSERT_STRING_EQUAL(path_of(d), "");
    df_flow_response_free(r);
    /* the method lost its compiled /mark: the default handler takes it */
    r = call(t.flow, request_of("/mark", "ur2", 1));
    expect_ok(r);
    d = df_docs_get(r->docs, 0);
    CU_ASSERT_PTR_NULL(tag(d, "marked"));
    CU_ASSERT_STRING_EQUAL(path_of(d), "a");
    df_flow_response_free(r);
    close_flow(&t);
}

static void test_flow_env_and_context_substitution(void)
{
    setenv("DF_FLOW_TEST_LABEL", "from-env", 1);
    unsetenv("PROBE_ENV");
    df_arena *ca = df_arena_new(0);
    df_value *context = df_value_new_map(ca);
    df_value_put_string(context, "WHO", "from-context");
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(
        open_flow_ctx(&t, context,
                      "jtype: Flow\n"
                      "executors:\n"
                      "  - name: a\n"
                      "    uses: " PROBE ", with: {label: \"${{ ENV.DF_FLOW_TEST_LABEL }}\"}}\n"
                      "    env: {PROBE_ENV: node-env}\n"
                      "  - name: b\n"
                      "    uses: " PROBE "}\n"
                      "    uses_with: {label: \"${{ WHO }}\"}\n"));
    CU_ASSERT_PTR_NULL(getenv("PROBE_ENV")); /* env: holds for the executor's init only */
    df_flow_response *r = call(t.flow, request_of("/index", "env", 1));
    expect_ok(r);
    CU_ASSERT_STRING_EQUAL(result_str(r, "a", "label"), "from-env");
    CU_ASSERT_STRING_EQUAL(result_str(r, "a", "env"), "node-env");
    CU_ASSERT_STRING_EQUAL(result_str(r, "b", "label"), "from-context");
    CU_ASSERT_STRING_EQUAL(result_str(r, "b", "env"), "");
    df_flow_response_free(r);
    close_flow(&t);
    df_arena_free(ca);
}

static void test_flow_parameters_reach_executors_by_name(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t, "jtype: Flow\n"
                                               "executors:\n"
                                               "  - {name: a, uses: " PROBE "}}\n"
                                               "  - {name: b, uses: " PROBE "}, needs: gateway}\n"
                                               "  - {name: j, uses: " JOIN "}, needs: [b, a]}\n"));
    df_flow_request q = request_of("/index", "par", 1);
    set_params(&q, "{\"stamp\": \"everyone\", \"b\": {\"stamp\": \"only-b\"}}");
    df_flow_response *r = call(t.flow, q);
    expect_ok(r);
    CU_ASSERT_STRING_EQUAL(tag_str(df_docs_get(r->docs, 0), "stamp"), "only-b");
    df_flow_response_free(r);
    close_flow(&t);
}

/* ==== dynamic batching ==========================================================================
 */

static void test_flow_dynamic_batching_merges_small_requests(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(
        &t, "jtype: Flow\n"
            "executors:\n"
            "  - name: enc\n"
            "    uses: " PROBE ", with: {sleep_ms: 2}}\n"
            "    uses_dynamic_batching: {/index: {preferred_batch_size: 8, timeout: 50}}\n"
            "  - {name: after, uses: " PROBE "}}\n"));
    collector c;
    collector_init(&c);
    enum { N = 64 };
    for (int i = 0; i < N; i++)
        post(t.flow, request_of("/index", df_arena_printf(tmp_arena, "db%d", i), 1), &c, 1);
    CU_ASSERT_FATAL(wait_for(&c, N));
    int merged = 0;
    for (int i = 0; i < N; i++) {
        df_flow_response *r = response_with_id(&c, df_arena_printf(tmp_arena, "db%d", i));
        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        expect_ok(r);
        /* exactly its own document back, whatever batch it rode in */
        CU_ASSERT_STRING_EQUAL(ids_of(r->docs), df_arena_printf(tmp_arena, "db%d-0", i));
        df_doc *d = df_docs_get(r->docs, 0);
        CU_ASSERT_STRING_EQUAL(df_doc_text(d, NULL), df_arena_printf(tmp_arena, "text db%d 0", i));
        CU_ASSERT_STRING_EQUAL(path_of(d), "enc>after");
        double batch = result_num(r, "enc", "docs");
        CU_ASSERT(batch >= 1 && batch <= 8);
        merged |= batch > 1;
        CU_ASSERT_EQUAL(result_num(r, "after", "docs"), 1);
    }
    CU_ASSERT(merged);
    collector_free(&c);
    close_flow(&t);
}

static void test_flow_dynamic_batching_never_exceeds_the_preferred_size(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(
        &t, "jtype: Flow\n"
            "executors:\n"
            "  - name: enc\n"
            "    uses: " PROBE ", with: {sleep_ms: 2}}\n"
            "    uses_dynamic_batching: {/index: {preferred_batch_size: 4, timeout: 50}}\n"));
    collector c;
    collector_init(&c);
    enum { N = 24 };
    for (int i = 0; i < N; i++)
        post(t.flow, request_of("/index", df_arena_printf(tmp_arena, "ds%d", i), 3), &c, 1);
    CU_ASSERT_FATAL(wait_for(&c, N));
    double largest = 0;
    for (int i = 0; i < N; i++) {
        df_flow_response *r = response_with_id(&c, df_arena_printf(tmp_arena, "ds%d", i));
        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        expect_ok(r);
        CU_ASSERT_STRING_EQUAL(ids_of(r->docs),
                               df_arena_printf(tmp_arena, "ds%d-0,ds%d-1,ds%d-2", i, i, i));
        double batch = result_num(r, "enc", "docs");
        if (batch > largest) largest = batch;
    }
    /* "one call of up to the preferred size": 3 + 3 documents is too many */
    CU_ASSERT(largest <= 4);
    if (largest > 4)
        fprintf(stderr, "\nbatch of %g documents with preferred_batch_size 4\n", largest);
    collector_free(&c);
    close_flow(&t);
}

static void test_flow_dynamic_batching_keeps_parameters_apart(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(
        &t, "jtype: Flow\n"
            "executors:\n"
            "  - name: enc\n"
            "    uses: " PROBE ", with: {sleep_ms: 2}}\n"
            "    uses_dynamic_batching: {/index: {preferred_batch_size: 16, timeout: 30}}\n"));
    collector c;
    collector_init(&c);
    enum { N = 40 };
    for (int i = 0; i < N; i++) {
        df_flow_request q = request_of("/index", df_arena_printf(tmp_arena, "dp%d", i), 1);
        set_params(&q, i % 2 ? "{\"stamp\": \"odd\"}" : "{\"stamp\": \"even\"}");
        post(t.flow, q, &c, 1);
    }
    /* another endpoint is not batched */
    post(t.flow, request_of("/other", "dp-other", 2), &c, 1);
    CU_ASSERT_FATAL(wait_for(&c, N + 1));
    for (int i = 0; i < N; i++) {
        df_flow_response *r = response_with_id(&c, df_arena_printf(tmp_arena, "dp%d", i));
        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        expect_ok(r);
        CU_ASSERT_STRING_EQUAL(tag_str(df_docs_get(r->docs, 0), "stamp"), i % 2 ? "odd" : "even");
    }
    df_flow_response *r = response_with_id(&c, "dp-other");
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(result_num(r, "enc", "docs"), 2);
    collector_free(&c);
    close_flow(&t);
}

static void test_flow_dynamic_batching_flushes_after_its_timeout(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(
        &t, "jtype: Flow\n"
            "executors:\n"
            "  - name: enc\n"
            "    uses: " PROBE "}\n"
            "    uses_dynamic_batching: {/index: {preferred_batch_size: 64, timeout: 80}}\n"));
    uint64_t t0 = now_ms();
    df_flow_response *r = call(t.flow, request_of("/index", "alone", 3));
    uint64_t waited = now_ms() - t0;
    expect_ok(r);
    CU_ASSERT_STRING_EQUAL(ids_of(r->docs), "alone-0,alone-1,alone-2");
    CU_ASSERT(waited >= 70 && waited < 5000);
    df_flow_response_free(r);
    close_flow(&t);
}

static void test_flow_dynamic_batching_does_not_wait_when_the_next_request_cannot_fit(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(
        &t, "jtype: Flow\n"
            "executors:\n"
            "  - name: enc\n"
            "    uses: " PROBE "}\n"
            "    uses_dynamic_batching: {/index: {preferred_batch_size: 4, timeout: 1000}}\n"));
    collector c;
    collector_init(&c);
    enum { N = 6 };
    uint64_t t0 = now_ms();
    for (int i = 0; i < N; i++)
        post(t.flow, request_of("/index", df_arena_printf(tmp_arena, "fit%d", i), 3), &c, 1);
    CU_ASSERT_FATAL(wait_for(&c, N));
    uint64_t waited = now_ms() - t0;
    for (size_t i = 0; i < c.n; i++)
        expect_ok(c.resps[i]);
    /* 3 + 3 > 4: each batch is as full as it can get at once; only the
     * last one may wait for company (1 s), not every one of them (6 s) */
    CU_ASSERT(waited < 2500);
    if (waited >= 2500)
        fprintf(stderr, "\n%d requests took %llu ms\n", N, (unsigned long long)waited);
    collector_free(&c);
    close_flow(&t);
}

static void test_flow_dynamic_batching_does_not_hold_up_other_requests(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(
        &t, "jtype: Flow\n"
            "executors:\n"
            "  - name: enc\n"
            "    uses: " PROBE "}\n"
            "    uses_dynamic_batching: {/index: {preferred_batch_size: 8, timeout: 1000}}\n"));
    collector c;
    collector_init(&c);
    uint64_t t0 = now_ms();
    post(t.flow, request_of("/index", "waits-for-company", 1), &c, 1);
    sleep_ms(20);
    post(t.flow, request_of("/search", "unbatched", 1), &c, 1);
    uint64_t answered = 0;
    while (!answered && now_ms() - t0 < WAIT_LIMIT_MS) {
        pthread_mutex_lock(&c.mu);
        if (response_with_id(&c, "unbatched")) answered = now_ms() - t0;
        pthread_mutex_unlock(&c.mu);
        sleep_ms(2);
    }
    /* Jina queues batches apart and serves /search meanwhile; at the least
     * a request that cannot join the batch ends the wait for company */
    CU_ASSERT(answered > 0 && answered < 500);
    CU_ASSERT_FATAL(wait_for(&c, 2));
    close_flow(&t);
    collector_free(&c);
}

static void test_flow_dynamic_batching_keys_results_by_replica(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(
        &t, "jtype: Flow\n"
            "executors:\n"
            "  - name: enc\n"
            "    uses: " PROBE "}\n"
            "    replicas: 2\n"
            "    uses_dynamic_batching: {/index: {preferred_batch_size: 1, timeout: 0}}\n"));
    df_flow_response *r = call(t.flow, request_of("/index", "dbr", 1));
    expect_ok(r);
    /* like an unbatched call of a replicated executor: "enc/rep-k" */
    int rep;
    CU_ASSERT_PTR_NOT_NULL(replica_result(r, "enc", &rep));
    CU_ASSERT_PTR_NULL(result_of(r, "enc"));
    df_flow_response_free(r);
    close_flow(&t);
}

/* ==== target_executor =================================================================== */

static void test_flow_target_executor_skips_the_others(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t, "jtype: Flow\n"
                                               "executors:\n"
                                               "  - {name: a, uses: " PROBE "}}\n"
                                               "  - {name: b, uses: " PROBE "}}\n"
                                               "  - {name: c, uses: " PROBE "}}\n"));
    df_flow_request q = request_of("/index", "tb", 2);
    q.target_executor = "b";
    df_flow_response *r = call(t.flow, q);
    expect_ok(r);
    CU_ASSERT_STRING_EQUAL(path_of(df_docs_get(r->docs, 1)), "b");
    CU_ASSERT_STRING_EQUAL(routes_of(r), "b");
    df_flow_response_free(r);

    q = request_of("/index", "tac", 1);
    q.target_executor = "a|c";
    r = call(t.flow, q);
    expect_ok(r);
    CU_ASSERT_STRING_EQUAL(path_of(df_docs_get(r->docs, 0)), "a>c");
    df_flow_response_free(r);

    q = request_of("/index", "tnone", 1);
    q.target_executor = "nobody";
    r = call(t.flow, q);
    expect_ok(r);
    CU_ASSERT_STRING_EQUAL(ids_of(r->docs), "tnone-0");
    CU_ASSERT_EQUAL(r->n_routes, 0);
    df_flow_response_free(r);

    /* a broken regex is refused at post, without a response */
    collector c;
    collector_init(&c);
    q = request_of("/index", "tbad", 1);
    q.target_executor = "(";
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_EQUAL(df_flow_post(t.flow, &q, collect, &c, 1, &err), DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "target_executor"));
    CU_ASSERT_EQUAL(df_flow_in_flight(t.flow), 0);
    close_flow(&t);
    CU_ASSERT_EQUAL(collected(&c), 0);
    collector_free(&c);
}

/* ==== failures ============================================================================ */

static void test_flow_failure_fails_only_that_request(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t,
                                           "jtype: Flow\n"
                                           "executors:\n"
                                           "  - {name: a, uses: " PROBE "}}\n"
                                           "  - {name: b, uses: " PROBE ", with: {fail_on: bad}}}\n"
                                           "  - {name: c, uses: " PROBE "}}\n"));
    df_flow_request q = request_of("/index", "bad", 3);
    set_tag(&q, 1, "bad", "yes");
    df_flow_response *r = call(t.flow, q);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(r->status, DF_E_INVALID_INPUT);
    CU_ASSERT_STRING_EQUAL(r->error_executor ? r->error_executor : "(null)", "b");
    CU_ASSERT(r->error && strstr(r->error, "refuses document 1"));
    CU_ASSERT_STRING_EQUAL(routes_of(r), "a,b"); /* c never ran */
    CU_ASSERT_EQUAL(r->routes[0].status, DF_OK);
    CU_ASSERT_EQUAL(r->routes[1].status, DF_E_INVALID_INPUT);
    df_flow_response_free(r);
    r = call(t.flow, request_of("/index", "good", 2));
    expect_ok(r);
    CU_ASSERT_STRING_EQUAL(path_of(df_docs_get(r->docs, 1)), "a>b>c");
    df_flow_response_free(r);
    close_flow(&t);
}

static void test_flow_failures_under_load_stay_with_their_requests(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(
        &t, "jtype: Flow\n"
            "executors:\n"
            "  - {name: a, uses: " PROBE "}, replicas: 2}\n"
            "  - {name: b, uses: " PROBE ", with: {fail_on: bad}}, replicas: 2, needs: gateway}\n"
            "  - {name: j, uses: " JOIN "}, needs: [a, b]}\n"));
    collector c;
    collector_init(&c);
    enum { N = 60 };
    for (int i = 0; i < N; i++) {
        df_flow_request q = request_of("/index", df_arena_printf(tmp_arena, "fl%d", i), 2);
        if (i % 5 == 0) set_tag(&q, 0, "bad", "yes");
        post(t.flow, q, &c, 1);
    }
    CU_ASSERT_FATAL(wait_for(&c, N));
    for (int i = 0; i < N; i++) {
        df_flow_response *r = response_with_id(&c, df_arena_printf(tmp_arena, "fl%d", i));
        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        if (i % 5 == 0) {
            CU_ASSERT_EQUAL(r->status, DF_E_INVALID_INPUT);
            CU_ASSERT_FALSE(has_route(r, "j"));
            continue;
        }
        expect_ok(r);
        CU_ASSERT_STRING_EQUAL(ids_of(r->docs), df_arena_printf(tmp_arena, "fl%d-0,fl%d-1", i, i));
        CU_ASSERT_STRING_EQUAL(path_of(df_docs_get(r->docs, 0)), "a>j");
    }
    collector_free(&c);
    close_flow(&t);
}

/* ==== timeouts ============================================================================ */

static const char *slow_flow = "jtype: Flow\n"
                               "with: {timeout_send: 150}\n"
                               "executors:\n"
                               "  - {name: slow, uses: " PROBE "}}\n"
                               "  - {name: next, uses: " PROBE "}}\n";

static void test_flow_timeout_fails_the_request_and_the_flow_keeps_serving(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t, "%s", slow_flow));
    collector c;
    collector_init(&c);
    df_flow_request q = request_of("/index", "late", 2);
    set_params(&q, "{\"sleep_ms\": 600}");
    uint64_t t0 = now_ms();
    post(t.flow, q, &c, 1);
    /* queued behind the sleeper, with a timeout of its own that is enough */
    q = request_of("/index", "patient", 1);
    q.timeout_ms = 10000;
    post(t.flow, q, &c, 1);
    CU_ASSERT_FATAL(wait_for(&c, 1));
    uint64_t waited = now_ms() - t0;
    df_flow_response *r = c.resps[0];
    CU_ASSERT_STRING_EQUAL(r->request_id, "late");
    CU_ASSERT_EQUAL(r->status, DF_E_TIMEOUT);
    CU_ASSERT_PTR_NOT_NULL(r->error);
    CU_ASSERT(waited >= 140 && waited < 550); /* answered before the sleep ended */
    CU_ASSERT_FATAL(wait_for(&c, 2));
    r = response_with_id(&c, "patient");
    expect_ok(r);
    CU_ASSERT_STRING_EQUAL(path_of(df_docs_get(r->docs, 0)), "slow>next");
    /* and a fresh request is served within the flow's timeout */
    r = call(t.flow, request_of("/index", "fresh", 1));
    expect_ok(r);
    df_flow_response_free(r);
    /* the late request's executor call finished meanwhile: nothing leaks */
    CU_ASSERT_EQUAL(df_flow_in_flight(t.flow), 0);
    close_flow(&t);
    collector_free(&c);
}

/* Two requests due at the same moment, and no other traffic: the watchdog
 * answers both at their deadline, not the second one only when something
 * else wakes it. */
static void test_flow_timeouts_due_together_are_all_answered(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t, "%s", slow_flow));
    collector c;
    collector_init(&c);
    uint64_t t0 = now_ms();
    for (int i = 0; i < 3; i++) {
        df_flow_request q = request_of("/index", df_arena_printf(tmp_arena, "stuck%d", i), 1);
        set_params(&q, "{\"sleep_ms\": 700}");
        post(t.flow, q, &c, 1);
    }
    CU_ASSERT_FATAL(wait_for(&c, 3));
    uint64_t waited = now_ms() - t0;
    CU_ASSERT(waited < 600); /* all three at ~150 ms, before the first sleep ended */
    for (size_t i = 0; i < c.n; i++)
        CU_ASSERT_EQUAL(c.resps[i]->status, DF_E_TIMEOUT);
    close_flow(&t);
    collector_free(&c);
}

/* Timeouts racing completions: deadlines so short that the watchdog fires
 * while requests are being posted, queued or finished. Each request gets
 * exactly one answer (done or timed out), and nothing is freed twice. */
static void test_flow_timeouts_racing_completions_answer_once(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t, "jtype: Flow\n"
                                               "executors:\n"
                                               "  - {name: a, uses: " PROBE "}}\n"
                                               "  - {name: b, uses: " PROBE "}}\n"));
    enum { ROUNDS = 6, N = MAX_RESPONSES };
    for (int round = 0; round < ROUNDS; round++) {
        collector c;
        collector_init(&c);
        for (int i = 0; i < N; i++) {
            df_flow_request q =
                request_of("/index", df_arena_printf(tmp_arena, "race%d-%d", round, i), 1);
            q.timeout_ms = 0.001 * (i % 40); /* 0 (none) to 39 us */
            post(t.flow, q, &c, 1);
        }
        CU_ASSERT_FATAL(wait_for(&c, N));
        int ok = 0, timed_out = 0;
        for (size_t i = 0; i < c.n; i++) {
            ok += c.resps[i]->status == DF_OK;
            timed_out += c.resps[i]->status == DF_E_TIMEOUT;
        }
        CU_ASSERT_EQUAL(ok + timed_out, N);
        CU_ASSERT(ok >= N / 40); /* at least those without a timeout */
        collector_free(&c);
    }
    /* a timed-out request may still be finishing its executor calls */
    uint64_t limit = now_ms() + WAIT_LIMIT_MS;
    while (df_flow_in_flight(t.flow) > 0 && now_ms() < limit)
        sleep_ms(2);
    CU_ASSERT_EQUAL(df_flow_in_flight(t.flow), 0);
    close_flow(&t);
}

static void test_flow_timeout_names_the_executor_it_was_waiting_for(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t, "%s", slow_flow));
    df_flow_request q = request_of("/index", "late2", 1);
    set_params(&q, "{\"sleep_ms\": 400}");
    df_flow_response *r = call(t.flow, q);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(r->status, DF_E_TIMEOUT);
    /* "with the executor's name and message in the response status" */
    CU_ASSERT_STRING_EQUAL(r->error_executor ? r->error_executor : "(null)", "slow");
    df_flow_response_free(r);
    close_flow(&t); /* waits for the sleeper */
}

static void test_flow_executor_timeout_send_applies(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t, "jtype: Flow\n"
                                               "executors:\n"
                                               "  - {name: slow, uses: " PROBE
                                               "}, timeout_send: 100}\n"));
    collector c;
    collector_init(&c);
    df_flow_request q = request_of("/index", "node-timeout", 1);
    set_params(&q, "{\"sleep_ms\": 500}");
    post(t.flow, q, &c, 1);
    CU_ASSERT_FATAL(wait_for(&c, 1));
    CU_ASSERT_EQUAL(c.resps[0]->status, DF_E_TIMEOUT);
    close_flow(&t);
    collector_free(&c);
}

static void test_flow_executor_timeout_send_applies_to_batched_calls(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(
        &t, "jtype: Flow\n"
            "executors:\n"
            "  - name: slow\n"
            "    uses: " PROBE "}\n"
            "    timeout_send: 100\n"
            "    uses_dynamic_batching: {/index: {preferred_batch_size: 1, timeout: 0}}\n"));
    collector c;
    collector_init(&c);
    df_flow_request q = request_of("/index", "batched-timeout", 1);
    set_params(&q, "{\"sleep_ms\": 500}");
    post(t.flow, q, &c, 1);
    CU_ASSERT_FATAL(wait_for(&c, 1));
    CU_ASSERT_EQUAL(c.resps[0]->status, DF_E_TIMEOUT);
    CU_ASSERT_STRING_EQUAL(c.resps[0]->error_executor ? c.resps[0]->error_executor : "(null)",
                           "slow");
    close_flow(&t);
    collector_free(&c);
}

/* a sleeps 500 ms; b starts after it (behind c's 30 ms) and ends at once. */
#define PARALLEL_SLOW_FAST                                                                         \
    "  - {name: a, uses: " PROBE "}, needs: gateway%s}\n"                                          \
    "  - {name: c, uses: " PROBE "}, needs: gateway}\n"                                            \
    "  - {name: b, uses: " PROBE "}, needs: c%s}\n"                                                \
    "  - {name: j, uses: " JOIN "}, needs: [a, b]}\n"
#define SLOW_A_PARAMS "{\"a\": {\"sleep_ms\": 500}, \"c\": {\"sleep_ms\": 30}}"

static void test_flow_timeout_names_the_executor_still_running(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t,
                                           "jtype: Flow\n"
                                           "with: {timeout_send: 150}\n"
                                           "executors:\n" PARALLEL_SLOW_FAST,
                                           "", ""));
    df_flow_request q = request_of("/index", "par-late", 1);
    set_params(&q, SLOW_A_PARAMS);
    df_flow_response *r = call(t.flow, q);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(r->status, DF_E_TIMEOUT);
    /* b started last but finished long ago: a is what the request waits for */
    CU_ASSERT_STRING_EQUAL(r->error_executor ? r->error_executor : "(null)", "a");
    df_flow_response_free(r);
    close_flow(&t);
}

static void test_flow_executor_timeout_send_survives_another_executor_of_the_request(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t,
                                           "jtype: Flow\n"
                                           "executors:\n" PARALLEL_SLOW_FAST,
                                           ", timeout_send: 100", ", timeout_send: 1000"));
    collector c;
    collector_init(&c);
    df_flow_request q = request_of("/index", "par-node", 1);
    set_params(&q, SLOW_A_PARAMS);
    uint64_t t0 = now_ms();
    post(t.flow, q, &c, 1);
    CU_ASSERT_FATAL(wait_for(&c, 1));
    uint64_t waited = now_ms() - t0;
    /* b's own timeout (armed and disarmed while a runs) must not cancel a's */
    CU_ASSERT_EQUAL(c.resps[0]->status, DF_E_TIMEOUT);
    CU_ASSERT(waited < 450);
    close_flow(&t);
    collector_free(&c);
}

/* ==== back-pressure ========================================================================= */

static void test_flow_prefetch_limits_requests_in_flight(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t, "jtype: Flow\n"
                                               "with: {prefetch: 2}\n"
                                               "executors:\n"
                                               "  - {name: a, uses: " PROBE
                                               ", with: {sleep_ms: 150}}}\n"));
    collector c;
    collector_init(&c);
    CU_ASSERT_EQUAL(post(t.flow, request_of("/index", "p0", 1), &c, 0), DF_OK);
    CU_ASSERT_EQUAL(post(t.flow, request_of("/index", "p1", 1), &c, 0), DF_OK);
    CU_ASSERT_EQUAL(df_flow_in_flight(t.flow), 2);
    df_flow_request q = request_of("/index", "p2", 1);
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_EQUAL(df_flow_post(t.flow, &q, collect, &c, 0, &err), DF_E_RESOURCE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "busy"));
    /* waiting instead: admitted once one of the two finished */
    uint64_t t0 = now_ms();
    CU_ASSERT_EQUAL(post(t.flow, request_of("/index", "p3", 1), &c, 1), DF_OK);
    CU_ASSERT(now_ms() - t0 >= 100);
    CU_ASSERT_FATAL(wait_for(&c, 3));
    CU_ASSERT_PTR_NULL(response_with_id(&c, "p2")); /* refused: never answered */
    CU_ASSERT_PTR_NOT_NULL(response_with_id(&c, "p3"));
    close_flow(&t);
    CU_ASSERT_EQUAL(collected(&c), 3);
    collector_free(&c);
}

/* ==== shutdown ============================================================================== */

static void test_flow_close_runs_in_reverse_topological_order(void)
{
    const char *log = tmp_path("close-order.log");
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(
        open_flow(&t,
                  "jtype: Flow\n"
                  "executors:\n"
                  "  - {name: d, uses: " PROBE ", with: {close_log: %s}}, needs: [b, c]}\n"
                  "  - {name: a, uses: " PROBE ", with: {close_log: %s}}, needs: gateway}\n"
                  "  - {name: c, uses: " PROBE ", with: {close_log: %s}}, needs: a}\n"
                  "  - {name: b, uses: " PROBE ", with: {close_log: %s}}, needs: a}\n",
                  log, log, log, log));
    df_flow_response *r = call(t.flow, request_of("/index", "order", 1));
    expect_ok(r);
    df_flow_response_free(r);
    close_flow(&t);
    /* d consumes b and c, which consume a */
    const char *order = file_lines(log);
    CU_ASSERT(strcmp(order, "d,c,b,a") == 0 || strcmp(order, "d,b,c,a") == 0);
    if (strcmp(order, "d,c,b,a") && strcmp(order, "d,b,c,a"))
        fprintf(stderr, "\nclose order: %s\n", order);
}

static void test_flow_close_runs_uses_after_then_shards_then_uses_before(void)
{
    const char *log = tmp_path("close-node.log");
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t,
                                           "jtype: Flow\n"
                                           "executors:\n"
                                           "  - name: idx\n"
                                           "    uses: " PROBE ", with: {close_log: %s}}\n"
                                           "    shards: 2\n"
                                           "    uses_before: " PROBE ", with: {close_log: %s}}\n"
                                           "    uses_after: " PROBE ", with: {close_log: %s}}\n",
                                           log, log, log));
    close_flow(&t);
    /* uses_after consumes the shards, which consume uses_before */
    const char *order = file_lines(log);
    CU_ASSERT_STRING_EQUAL(order, "idx/uses_after,idx,idx,idx/uses_before");
    if (strcmp(order, "idx/uses_after,idx,idx,idx/uses_before"))
        fprintf(stderr, "\nclose order: %s\n", order);
}

static void test_flow_open_failure_closes_what_was_started(void)
{
    const char *log = tmp_path("open-failure.log");
    df_arena *a = df_arena_new(0);
    char *yaml = df_arena_printf(a,
                                 "jtype: Flow\n"
                                 "executors:\n"
                                 "  - {name: a, uses: " PROBE ", with: {close_log: %s}}}\n"
                                 "  - {name: b, uses: " PROBE ", with: {sleep_ms: soon}}}\n"
                                 "  - {name: c, uses: " PROBE ", with: {close_log: %s}}}\n",
                                 log, log);
    df_error err = DF_ERROR_INIT;
    df_flow_config *cfg = df_flow_config_parse(a, yaml, strlen(yaml), "flow.yml", NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_PTR_NULL(df_flow_open(cfg, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "b"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "sleep_ms"));
    CU_ASSERT_STRING_EQUAL(file_lines(log), "a"); /* c never started */
    df_flow_config_free(cfg);
    df_arena_free(a);
}

static void test_flow_close_drains_requests_in_flight(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(
        open_flow(&t, "jtype: Flow\n"
                      "executors:\n"
                      "  - {name: a, uses: " PROBE ", with: {sleep_ms: 60}}}\n"
                      "  - {name: b, uses: " PROBE ", with: {sleep_ms: 20}}, replicas: 2}\n"));
    collector c;
    collector_init(&c);
    for (int i = 0; i < 4; i++)
        post(t.flow, request_of("/index", df_arena_printf(tmp_arena, "dr%d", i), 1), &c, 1);
    close_flow(&t); /* no drain limit: every request finishes first */
    CU_ASSERT_EQUAL(collected(&c), 4);
    for (size_t i = 0; i < c.n; i++) {
        expect_ok(c.resps[i]);
        CU_ASSERT_STRING_EQUAL(path_of(df_docs_get(c.resps[i]->docs, 0)), "a>b");
    }
    collector_free(&c);
}

static void test_flow_close_past_drain_time_fails_the_rest(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t, "jtype: Flow\n"
                                               "executors:\n"
                                               "  - {name: a, uses: " PROBE
                                               ", with: {sleep_ms: 300}}}\n"
                                               "  - {name: b, uses: " PROBE "}}\n"));
    collector c;
    collector_init(&c);
    post(t.flow, request_of("/index", "cut", 1), &c, 1);
    sleep_ms(20);
    df_flow_close(t.flow, 50);
    CU_ASSERT_EQUAL(collected(&c), 1);
    df_flow_response *r = c.resps[0];
    CU_ASSERT_EQUAL(r->status, DF_E_TIMEOUT);
    CU_ASSERT_FALSE(has_route(r, "b")); /* what was left was skipped */
    df_flow_config_free(t.cfg);
    df_arena_free(t.arena);
    collector_free(&c);
}

typedef struct late_poster {
    df_flow *flow;
    collector *answers;
    int rc;
} late_poster;

static void *post_late(void *arg)
{
    late_poster *p = arg;
    sleep_ms(60); /* close started, the slow request still runs */
    df_flow_request q = request_of("/index", "too-late", 1);
    df_error err = DF_ERROR_INIT;
    p->rc = df_flow_post(p->flow, &q, collect, p->answers, 1, &err);
    return NULL;
}

static void test_flow_close_refuses_new_requests(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t, "jtype: Flow\n"
                                               "executors:\n"
                                               "  - {name: a, uses: " PROBE
                                               ", with: {sleep_ms: 400}}}\n"));
    collector c;
    collector_init(&c);
    post(t.flow, request_of("/index", "inflight", 1), &c, 1);
    late_poster p = {t.flow, &c, -1};
    pthread_t th;
    pthread_create(&th, NULL, post_late, &p);
    close_flow(&t);
    pthread_join(th, NULL);
    CU_ASSERT_EQUAL(p.rc, DF_E_UNSUPPORTED);
    CU_ASSERT_EQUAL(collected(&c), 1);
    expect_ok(c.resps[0]);
    collector_free(&c);
}

/* ==== deferred wake-ups ================================================================= */

/* Posts inside df_flow_defer_begin/end reach the executors at the end, all
 * of them (no wake-up lost), nested scopes at the outermost end; a request
 * posted outside any scope still runs at once. */
static void test_flow_deferred_wakeups_run_at_scope_end(void)
{
    test_flow t;
    CU_ASSERT_PTR_NOT_NULL_FATAL(open_flow(&t, "jtype: Flow\n"
                                               "executors:\n"
                                               "  - {name: a, uses: " PROBE "}}\n"
                                               "  - {name: b, uses: " PROBE "}}\n"));
    collector c;
    collector_init(&c);
    post(t.flow, request_of("/index", "warm", 1), &c, 1);
    CU_ASSERT_FATAL(wait_for(&c, 1)); /* both workers now sleep on an empty queue */
    enum { N = 40 };
    df_flow_defer_begin();
    df_flow_defer_begin();
    for (int i = 0; i < N; i++)
        post(t.flow, request_of("/index", df_arena_printf(tmp_arena, "burst%d", i), 2), &c, 1);
    df_flow_defer_end(); /* inner end: still deferred */
    sleep_ms(30);
    CU_ASSERT_EQUAL(collected(&c), 1);
    df_flow_defer_end();
    CU_ASSERT_FATAL(wait_for(&c, 1 + N));
    for (size_t i = 0; i < c.n; i++) {
        expect_ok(c.resps[i]);
        CU_ASSERT_STRING_EQUAL(routes_of(c.resps[i]), "a,b");
    }
    post(t.flow, request_of("/index", "after", 1), &c, 1);
    CU_ASSERT_FATAL(wait_for(&c, 2 + N));
    df_flow_defer_end(); /* unbalanced end: ignored */
    collector_free(&c);
    close_flow(&t);
}

void df_test_register(void)
{
    CU_pSuite s = CU_add_suite("flow_runtime", suite_setup, suite_teardown);
    CU_add_test(s, "sequential flow runs executors in order",
                test_flow_sequential_runs_executors_in_order);
    CU_add_test(s, "empty request passes through", test_flow_empty_request_passes_through);
    CU_add_test(s, "deferred wake-ups run at the scope's end",
                test_flow_deferred_wakeups_run_at_scope_end);
    CU_add_test(s, "executor without uses passes documents through",
                test_flow_executor_without_uses_passes_documents_through);
    CU_add_test(s, "join sees docs_matrix in needs order",
                test_flow_join_sees_docs_matrix_in_needs_order);
    CU_add_test(s, "join merges matches and chunks by id",
                test_flow_join_merges_matches_and_chunks_by_id);
    CU_add_test(s, "join may list the gateway", test_flow_join_may_list_the_gateway);
    CU_add_test(s, "two end executors are merged by id",
                test_flow_two_end_executors_are_merged_by_id);
    CU_add_test(s, "replicas share work and never re-enter",
                test_flow_replicas_share_work_and_never_reenter);
    CU_add_test(s, "idle replica gets the next request",
                test_flow_idle_replica_gets_the_next_request);
    CU_add_test(s, "requests pipeline through executors",
                test_flow_requests_pipeline_through_executors);
    CU_add_test(s, "shards ANY sends to one shard, ALL to every shard",
                test_flow_shards_any_sends_to_one_shard_all_to_every_shard);
    CU_add_test(s, "shards ALL reduce keeps one copy per id",
                test_flow_shards_all_reduce_keeps_one_copy_per_id);
    CU_add_test(s, "shards ALL keep every shard's results",
                test_flow_shards_all_keep_every_shards_results);
    CU_add_test(s, "uses_after sees the shards' outputs",
                test_flow_uses_after_sees_the_shards_outputs);
    CU_add_test(s, "uses_before runs before the shards",
                test_flow_uses_before_runs_before_the_shards);
    CU_add_test(s, "shards have their own workspace and runtime args",
                test_flow_shards_have_own_workspace_and_runtime_args);
    CU_add_test(s, "when drops unmatched documents for the branch",
                test_flow_when_drops_unmatched_documents_for_the_branch);
    CU_add_test(s, "when: documents come back through a join",
                test_flow_when_documents_come_back_through_a_join);
    CU_add_test(s, "uses_requests overrides bindings", test_flow_uses_requests_overrides_bindings);
    CU_add_test(s, "env and context substitution", test_flow_env_and_context_substitution);
    CU_add_test(s, "parameters reach executors by name",
                test_flow_parameters_reach_executors_by_name);
    CU_add_test(s, "dynamic batching merges small requests",
                test_flow_dynamic_batching_merges_small_requests);
    CU_add_test(s, "dynamic batching never exceeds the preferred size",
                test_flow_dynamic_batching_never_exceeds_the_preferred_size);
    CU_add_test(s, "dynamic batching keeps parameters apart",
                test_flow_dynamic_batching_keeps_parameters_apart);
    CU_add_test(s, "dynamic batching flushes after its timeout",
                test_flow_dynamic_batching_flushes_after_its_timeout);
    CU_add_test(s, "dynamic batching does not wait when the next request cannot fit",
                test_flow_dynamic_batching_does_not_wait_when_the_next_request_cannot_fit);
    CU_add_test(s, "dynamic batching does not hold up other requests",
                test_flow_dynamic_batching_does_not_hold_up_other_requests);
    CU_add_test(s, "dynamic batching keys results by replica",
                test_flow_dynamic_batching_keys_results_by_replica);
    CU_add_test(s, "target_executor skips the others", test_flow_target_executor_skips_the_others);
    CU_add_test(s, "a failure fails only that request", test_flow_failure_fails_only_that_request);
    CU_add_test(s, "failures under load stay with their requests",
                test_flow_failures_under_load_stay_with_their_requests);
    CU_add_test(s, "timeout fails the request and the flow keeps serving",
                test_flow_timeout_fails_the_request_and_the_flow_keeps_serving);
    CU_add_test(s, "timeout names the executor it was waiting for",
                test_flow_timeout_names_the_executor_it_was_waiting_for);
    CU_add_test(s, "timeouts due together are all answered",
                test_flow_timeouts_due_together_are_all_answered);
    CU_add_test(s, "timeouts racing completions answer once",
                test_flow_timeouts_racing_completions_answer_once);
    CU_add_test(s, "executor timeout_send applies", test_flow_executor_timeout_send_applies);
    CU_add_test(s, "executor timeout_send applies to batched calls",
                test_flow_executor_timeout_send_applies_to_batched_calls);
    CU_add_test(s, "timeout names the executor still running",
                test_flow_timeout_names_the_executor_still_running);
    CU_add_test(s, "executor timeout_send survives another executor of the request",
                test_flow_executor_timeout_send_survives_another_executor_of_the_request);
    CU_add_test(s, "prefetch limits requests in flight",
                test_flow_prefetch_limits_requests_in_flight);
    CU_add_test(s, "close runs in reverse topological order",
                test_flow_close_runs_in_reverse_topological_order);
    CU_add_test(s, "close runs uses_after, then shards, then uses_before",
                test_flow_close_runs_uses_after_then_shards_then_uses_before);
    CU_add_test(s, "open failure closes what was started",
                test_flow_open_failure_closes_what_was_started);
    CU_add_test(s, "close drains requests in flight", test_flow_close_drains_requests_in_flight);
    CU_add_test(s, "close past drain time fails the rest",
                test_flow_close_past_drain_time_fails_the_rest);
    CU_add_test(s, "close refuses new requests", test_flow_close_refuses_new_requests);
}
