/*
 * test_vector_indexer.c -- the VectorIndexer executor (plugins/vector-indexer)
 * loaded from the build's plugin folder and driven through
 * df_executor_call: exact search against a brute-force reference for every
 * metric and kernel, the write endpoints (replace, update, delete, clear),
 * /status, the fields matches carry, every error message, persistence
 * (snapshot, log, background compaction), the torn tail a crash leaves and
 * damage it does not, and the workspace lock.
 *
 * The SIGKILL test of a real process is tests/integration/
 * test_vector_indexer_crash.sh; sharded flows are in
 * tests/integration/test_vector_indexer.sh.
 */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "docflow/executor_runtime.h"

#define PLUGIN DF_TEST_PLUGIN_DIR "/vector_indexer.so"

static df_arena *cfg_arena;
static char tmp_root[] = "/tmp/docflow-test-vidx-XXXXXX";

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int suite_setup(void)
{
    cfg_arena = df_arena_new(0);
    return mkdtemp(tmp_root) ? 0 : -1;
}

static int suite_teardown(void)
{
    df_arena_free(cfg_arena);
    nftw(tmp_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* A fresh workspace base folder per test. */
static const char *new_workspace(void)
{
    static int n;
    const char *ws = df_arena_printf(cfg_arena, "%s/ws%d", tmp_root, ++n);
    mkdir(ws, 0755);
    return ws;
}

/* The instance's own folder (<base>/<name>). */
static const char *index_dir(const char *ws)
{
    return df_arena_printf(cfg_arena, "%s/VectorIndexer", ws);
}

/* ---- opening -------------------------------------------------------------- */

typedef struct options {
    const char *metric; /* NULL: the default */
    const char *kernel;
    long dim;           /* < 0: unset */
    long compact_bytes; /* < 0: unset */
    int return_embeddings;
    int threads;        /* 0: unset */
    const char *log_io; /* NULL: the default */
} options;

#define DEFAULTS                                                                                   \
    {                                                                                              \
        NULL, NULL, -1, -1, 0, 0, NULL                                                             \
    }

static df_executor *open_with(const char *ws, const options *o, df_error *err)
{
    df_executor_config *c = df_executor_config_for_jtype(cfg_arena, "VectorIndexer", NULL);
    df_value_put_string(c->metas, "library", PLUGIN);
    if (o->metric) df_value_put_string(c->with, "metric", o->metric);
    if (o->kernel) df_value_put_string(c->with, "kernel", o->kernel);
    if (o->dim >= 0) df_value_put_number(c->with, "dim", (double)o->dim);
    if (o->compact_bytes >= 0)
        df_value_put_number(c->with, "compact_bytes", (double)o->compact_bytes);
    if (o->return_embeddings) df_value_put_bool(c->with, "return_embeddings", 1);
    if (o->threads) df_value_put_number(c->with, "threads", o->threads);
    if (o->log_io) df_value_put_string(c->with, "log_io", o->log_io);
    df_executor_options opt = DF_EXECUTOR_OPTIONS_INIT;
    opt.workspace = ws;
    return df_executor_open(c, &opt, err);
}

static df_executor *open_ok(const char *ws, const options *o)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_with(ws, o, &err);
    if (!ex) fprintf(stderr, "\nopen VectorIndexer failed: %s\n", err.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    return ex;
}

static df_executor *open_default(const char *ws)
{
    options o = DEFAULTS;
    return open_ok(ws, &o);
}

/* ---- calls ---------------------------------------------------------------- */

typedef struct call {
    df_arena *arena;
    df_docs *docs;
    df_value *params;
    df_call c;
    df_error err;
    int rc;
} call;

static void call_begin(call *r)
{
    memset(r, 0, sizeof *r);
    r->arena = df_arena_new(0);
    r->docs = df_docs_new(r->arena);
    r->params = df_value_new_map(r->arena);
}

static df_doc *add_doc(call *r, const char *id, const float *emb, size_t dim)
{
    df_doc *d = df_doc_new(r->arena);
    df_doc_set_str(d, DF_FIELD_ID, id);
    if (emb) df_doc_set_embedding_f32(d, emb, dim);
    return df_docs_append(r->docs, d);
}

static int call_run(call *r, df_executor *ex, const char *endpoint)
{
    r->c.arena = r->arena;
    r->c.endpoint = endpoint;
    r->c.docs = r->docs;
    r->c.parameters = r->params;
    r->c.results = df_value_new_map(r->arena);
    df_error_clear(&r->err);
    r->rc = df_executor_call(ex, &r->c, &r->err);
    if (r->rc) fprintf(stderr, "\n%s: %s\n", endpoint, r->err.msg);
    return r->rc;
}

static void call_end(call *r)
{
    df_arena_free(r->arena);
}

static const df_value *result(const call *r, const df_executor *ex, const char *key)
{
    return df_value_get(df_value_get(r->c.results, df_executor_name(ex)), key);
}

static double result_num(const call *r, const df_executor *ex, const char *key)
{
    return df_value_number(result(r, ex, key));
}

static double status_num(df_executor *ex, const char *key)
{
    call r;
    call_begin(&r);
    call_run(&r, ex, "/status");
    double x = result_num(&r, ex, key);
    call_end(&r);
    return x;
}

static int status_bool(df_executor *ex, const char *key)
{
    call r;
    call_begin(&r);
    call_run(&r, ex, "/status");
    int b = df_value_bool(result(&r, ex, key));
    call_end(&r);
    return b;
}

/* ---- data ----------------------------------------------------------------- */

static uint64_t rng_state = 88172645463325252ull;

static float rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((double)(rng_state >> 11) / (double)(1ull << 53) * 2.0 - 1.0);
}

static float *random_matrix(size_t rows, size_t dim)
{
    float *m = df_arena_alloc(cfg_arena, rows * dim * sizeof *m + 1);
    for (size_t i = 0; i < rows * dim; i++)
        m[i] = rnd();
    return m;
}

/* Indexes rows d<first>..d<first+rows-1> in requests of `batch`. */
static void index_rows(df_executor *ex, const float *m, size_t first, size_t rows, size_t dim,
                       size_t batch)
{
    for (size_t b = 0; b < rows; b += batch) {
        call r;
        call_begin(&r);
        for (size_t i = b; i < rows && i < b + batch; i++) {
            char id[32];
            snprintf(id, sizeof id, "d%zu", first + i);
            add_doc(&r, id, m + i * dim, dim);
        }
        CU_ASSERT_EQUAL(call_run(&r, ex, "/index"), DF_OK);
        call_end(&r);
    }
}

enum { COSINE, EUCLIDEAN, DOT };
static const char *const metric_names[] = {"cosine", "euclidean", "dot"};

/* The reference: every score in double, plain loops. */
static double reference_score(int metric, const float *q, const float *x, size_t dim)
{
    double dot = 0, qq = 0, xx = 0, sq = 0;
    for (size_t c = 0; c < dim; c++) {
        dot += (double)q[c] * x[c];
        qq += (double)q[c] * q[c];
        xx += (double)x[c] * x[c];
        sq += ((double)q[c] - x[c]) * ((double)q[c] - x[c]);
    }
    if (metric == DOT) return dot;
    if (metric == EUCLIDEAN) return sqrt(sq);
    return qq > 0 && xx > 0 ? 1 - dot / sqrt(qq * xx) : 1;
}

typedef struct ranked {
    double score;
    size_t row;
} ranked;

static int ascending(const void *a, const void *b)
{
    double x = ((const ranked *)a)->score, y = ((const ranked *)b)->score;
    return (x > y) - (x < y);
}

static int descending(const void *a, const void *b)
{
    return ascending(b, a);
}

/* The id number of a match ("d17" -> 17). */
static size_t match_row(const df_doc *m)
{
    return (size_t)strtoul(df_doc_str(m, DF_FIELD_ID) + 1, NULL, 10);
}

static float match_score(const df_doc *m, const char *metric)
{
    df_score s;
    return df_doc_score(m, DF_SCORES, metric, &s) ? s.value : NAN;
}

/* Every query's matches must be the reference's top `limit`: the same ids
 * in the same order wherever the reference scores are distinct (a gap of
 * more than 1e-5), the same scores (1e-4) everywhere. */
static void check_against_reference(df_docs *queries, const float *q, const float *x, size_t rows,
                                    size_t dim, int metric, size_t limit)
{
    ranked *all = malloc(rows * sizeof *all);
    size_t expect = limit < rows ? limit : rows;
    for (size_t i = 0; i < df_docs_len(queries); i++) {
        for (size_t r = 0; r < rows; r++)
            all[r] = (ranked){reference_score(metric, q + i * dim, x + r * dim, dim), r};
        qsort(all, rows, sizeof *all, metric == DOT ? descending : ascending);
        df_docs *matches = df_doc_matches(df_docs_get(queries, i));
        CU_ASSERT_EQUAL_FATAL(df_docs_len(matches), expect);
        for (size_t j = 0; j < expect; j++) {
            df_doc *m = df_docs_get(matches, j);
            double got = match_score(m, metric_names[metric]);
            CU_ASSERT_DOUBLE_EQUAL(got, all[j].score, 1e-4 * (1 + fabs(all[j].score)));
            int tie = (j > 0 && fabs(all[j].score - all[j - 1].score) < 1e-5) ||
                      (j + 1 < rows && fabs(all[j].score - all[j + 1].score) < 1e-5);
            if (!tie && match_row(m) != all[j].row) {
                fprintf(stderr, "\n%s query %zu rank %zu: got d%zu (%g), want d%zu (%g)\n",
                        metric_names[metric], i, j, match_row(m), got, all[j].row, all[j].score);
                CU_FAIL("match differs from the reference");
                free(all);
                return;
            }
        }
    }
    free(all);
}

/* ---- exact search ----------------------------------------------------------- */

/* rows x dim stored; nq queries; every metric and kernel. The dimension
 * (37) is not a multiple of any vector width, so every tail path runs. */
static void search_case(size_t rows, size_t dim, size_t nq, size_t limit)
{
    static const char *const kernels[] = {"auto", "scan", "blas"};
    float *x = random_matrix(rows, dim);
    float *q = random_matrix(nq, dim);
    for (int metric = 0; metric < 3; metric++) {
        for (int k = 0; k < 3; k++) {
            options o = DEFAULTS;
            o.metric = metric_names[metric];
            o.kernel = kernels[k];
            df_executor *ex = open_ok(new_workspace(), &o);
            index_rows(ex, x, 0, rows, dim, 500);
            call r;
            call_begin(&r);
            for (size_t i = 0; i < nq; i++) {
                char id[32];
                snprintf(id, sizeof id, "q%zu", i);
                add_doc(&r, id, q + i * dim, dim);
            }
            df_value_put_number(r.params, "limit", (double)limit);
            CU_ASSERT_EQUAL(call_run(&r, ex, "/search"), DF_OK);
            check_against_reference(r.docs, q, x, rows, dim, metric, limit);
            call_end(&r);
            df_executor_close(ex);
        }
    }
}

static void test_one_query_matches_brute_force(void)
{
    search_case(3001, 37, 1, 10);
}

static void test_few_queries_match_brute_force(void)
{
    search_case(2500, 37, 3, 7);
}

static void test_query_batch_matches_brute_force(void)
{
    search_case(5000, 37, 300, 10);
}

static void test_limit_above_count_returns_every_document(void)
{
    search_case(20, 5, 4, 50);
}

/* Large enough that the scan splits its rows over the pool's threads and
 * the sgemm path selects on them: the same answers as the reference. */
static void test_threaded_search_matches_brute_force(void)
{
    const size_t rows = 34000, dim = 32, nq = 500;
    float *x = random_matrix(rows, dim);
    float *q = random_matrix(nq, dim);
    options o = DEFAULTS;
    o.metric = "euclidean";
    o.threads = 3;
    df_executor *ex = open_ok(new_workspace(), &o);
    index_rows(ex, x, 0, rows, dim, 5000);
    for (size_t batch = 1; batch <= nq; batch += nq - 1) { /* 1 query: scan; 500: sgemm */
        call r;
        call_begin(&r);
        for (size_t i = 0; i < batch; i++) {
            char id[32];
            snprintf(id, sizeof id, "q%zu", i);
            add_doc(&r, id, q + i * dim, dim);
        }
        CU_ASSERT_EQUAL(call_run(&r, ex, "/search"), DF_OK);
        check_against_reference(r.docs, q, x, rows, dim, EUCLIDEAN, 10);
        call_end(&r);
    }
    df_executor_close(ex);
}

static void test_default_limit_is_10_and_parameter_overrides(void)
{
    df_executor *ex = open_default(new_workspace());
    float *x = random_matrix(40, 4);
    index_rows(ex, x, 0, 40, 4, 40);
    call r;
    call_begin(&r);
    add_doc(&r, "q", x, 4);
    call_run(&r, ex, "/search");
    CU_ASSERT_EQUAL(df_docs_len(df_doc_matches(df_docs_get(r.docs, 0))), 10);
    df_value_put_number(r.params, "limit", 3);
    call_run(&r, ex, "/search"); /* results replace earlier matches */
    CU_ASSERT_EQUAL(df_docs_len(df_doc_matches(df_docs_get(r.docs, 0))), 3);
    CU_ASSERT_STRING_EQUAL(
        df_doc_str(df_docs_get(df_doc_matches(df_docs_get(r.docs, 0)), 0), DF_FIELD_ID), "d0");
    call_end(&r);
    df_executor_close(ex);
}

static void test_matches_are_sorted_best_first_for_every_metric(void)
{
    float *x = random_matrix(300, 8);
    for (int metric = 0; metric < 3; metric++) {
        options o = DEFAULTS;
        o.metric = metric_names[metric];
        df_executor *ex = open_ok(new_workspace(), &o);
        index_rows(ex, x, 0, 300, 8, 100);
        call r;
        call_begin(&r);
        add_doc(&r, "q", random_matrix(1, 8), 8);
        df_value_put_number(r.params, "limit", 20);
        call_run(&r, ex, "/search");
        df_docs *m = df_doc_matches(df_docs_get(r.docs, 0));
        for (size_t j = 1; j < df_docs_len(m); j++) {
            float a = match_score(df_docs_get(m, j - 1), metric_names[metric]);
            float b = match_score(df_docs_get(m, j), metric_names[metric]);
            CU_ASSERT(metric == DOT ? a >= b : a <= b);
        }
        call_end(&r);
        df_executor_close(ex);
    }
}

static void test_zero_vector_has_cosine_distance_one(void)
{
    df_executor *ex = open_default(new_workspace());
    float zero[3] = {0, 0, 0}, one[3] = {1, 0, 0};
    call r;
    call_begin(&r);
    add_doc(&r, "zero", zero, 3);
    call_run(&r, ex, "/index");
    call_end(&r);
    call_begin(&r);
    add_doc(&r, "q", one, 3);
    call_run(&r, ex, "/search");
    df_doc *m = df_docs_get(df_doc_matches(df_docs_get(r.docs, 0)), 0);
    CU_ASSERT_DOUBLE_EQUAL(match_score(m, "cosine"), 1.0, 1e-6);
    call_end(&r);
    df_executor_close(ex);
}

static void test_search_on_empty_index_gives_no_matches(void)
{
    df_executor *ex = open_default(new_workspace());
    call r;
    call_begin(&r);
    float q[2] = {1, 2};
    df_doc *d = add_doc(&r, "q", q, 2);
    df_docs_append(df_doc_matches(d), df_doc_new(r.arena)); /* stale, to be replaced */
    CU_ASSERT_EQUAL(call_run(&r, ex, "/search"), DF_OK);
    CU_ASSERT_EQUAL(df_docs_len(df_doc_matches(df_docs_get(r.docs, 0))), 0);
    call_end(&r);
    df_executor_close(ex);
}

/* ---- what matches carry ------------------------------------------------------ */

static void test_matches_carry_stored_fields_scores_and_adjacency(void)
{
    options o = DEFAULTS;
    o.metric = "dot";
    df_executor *ex = open_ok(new_workspace(), &o);
    call r;
    call_begin(&r);
    float e1[3] = {1, 0, 0}, e2[3] = {0, 1, 0}, e3[3] = {0, 0, 1};
    df_doc *a = add_doc(&r, "a", e1, 3);
    df_doc_set_text(a, "alpha", (size_t)-1);
    df_doc_set_str(a, DF_FIELD_URI, "file:///a.txt");
    df_doc_set_str(a, DF_FIELD_MIME_TYPE, "text/plain");
    df_doc_set_str(a, DF_FIELD_PARENT_ID, "parent");
    df_doc_set_str(a, DF_FIELD_MODALITY, "text");
    df_doc_set_num(a, DF_FIELD_WEIGHT, 0.5);
    df_doc_set_num(a, DF_FIELD_GRANULARITY, 2);
    df_doc_set_num(a, DF_FIELD_OFFSET, 7);
    float loc[2] = {3, 9};
    df_doc_set_location(a, loc, 2);
    df_value *tags = df_doc_tags(a);
    df_value_put_string(tags, "label", "x");
    df_value_put_number(tags, "n", 42.5);
    df_value_put_bool(tags, "ok", 1);
    df_value_put_null(tags, "none");
    df_value *list = df_value_new_list(r.arena);
    df_value_put_number(list, NULL, 1);
    df_value *inner = df_value_new_map(r.arena);
    df_value_put_string(inner, "deep", "yes");
    df_value_append(list, inner);
    df_value_set(tags, "list", list);
    df_doc *b = add_doc(&r, "b", e2, 3);
    uint32_t shape[2] = {2, 2};
    float pixels[4] = {0.1f, 0.2f, 0.3f, 0.4f};
    df_doc_set_tensor(b, pixels, sizeof pixels, shape, 2, "<f4");
    df_doc *c = add_doc(&r, "c", e3, 3);
    df_doc_set_blob(c, "\x00\x01\x02", 3);
    CU_ASSERT_EQUAL(call_run(&r, ex, "/index"), DF_OK);
    call_end(&r);

    call_begin(&r);
    float q[3] = {3, 2, 1};
    df_doc *query = add_doc(&r, "query", q, 3);
    df_doc_set_num(query, DF_FIELD_ADJACENCY, 1);
    df_value_put_bool(r.params, "return_embeddings", 1);
    CU_ASSERT_EQUAL(call_run(&r, ex, "/search"), DF_OK);
    df_docs *m = df_doc_matches(df_docs_get(r.docs, 0));
    CU_ASSERT_EQUAL_FATAL(df_docs_len(m), 3);
    df_doc *ma = df_docs_get(m, 0), *mb = df_docs_get(m, 1), *mc = df_docs_get(m, 2);
    CU_ASSERT_STRING_EQUAL(df_doc_str(ma, DF_FIELD_ID), "a"); /* dot: larger first */
    CU_ASSERT_STRING_EQUAL(df_doc_str(mb, DF_FIELD_ID), "b");
    CU_ASSERT_STRING_EQUAL(df_doc_str(mc, DF_FIELD_ID), "c");
    df_score s;
    CU_ASSERT_FATAL(df_doc_score(ma, DF_SCORES, "dot", &s));
    CU_ASSERT_DOUBLE_EQUAL(s.value, 3.0, 1e-6);
    CU_ASSERT_STRING_EQUAL(s.ref_id, "query");
    CU_ASSERT_PTR_NOT_NULL(strstr(s.description, "larger is better"));
    CU_ASSERT_EQUAL(df_doc_num(ma, DF_FIELD_ADJACENCY), 2);
    CU_ASSERT_STRING_EQUAL(df_doc_text(ma, NULL), "alpha");
    CU_ASSERT_STRING_EQUAL(df_doc_str(ma, DF_FIELD_URI), "file:///a.txt");
    CU_ASSERT_STRING_EQUAL(df_doc_str(ma, DF_FIELD_MIME_TYPE), "text/plain");
    CU_ASSERT_STRING_EQUAL(df_doc_str(ma, DF_FIELD_PARENT_ID), "parent");
    CU_ASSERT_STRING_EQUAL(df_doc_str(ma, DF_FIELD_MODALITY), "text");
    CU_ASSERT_EQUAL(df_doc_num(ma, DF_FIELD_WEIGHT), 0.5);
    CU_ASSERT_EQUAL(df_doc_num(ma, DF_FIELD_GRANULARITY), 2);
    CU_ASSERT_EQUAL(df_doc_num(ma, DF_FIELD_OFFSET), 7);
    size_t n_loc;
    const float *got_loc = df_doc_location(ma, &n_loc);
    CU_ASSERT(n_loc == 2 && got_loc[0] == 3 && got_loc[1] == 9);
    const df_value *t = df_doc_tags_peek(ma);
    CU_ASSERT_STRING_EQUAL(df_value_string(df_value_get(t, "label"), NULL), "x");
    CU_ASSERT_EQUAL(df_value_number(df_value_get(t, "n")), 42.5);
    CU_ASSERT_EQUAL(df_value_bool(df_value_get(t, "ok")), 1);
    CU_ASSERT_EQUAL(df_value_type_of(df_value_get(t, "none")), DF_VALUE_NULL);
    CU_ASSERT_PTR_NOT_NULL(df_value_get(t, "none"));
    const df_value *l = df_value_get(t, "list");
    CU_ASSERT_EQUAL(df_value_len(l), 2);
    CU_ASSERT_STRING_EQUAL(df_value_string(df_value_get(df_value_at(l, 1), "deep"), NULL), "yes");
    size_t dim;
    const float *emb = df_doc_embedding_f32(ma, &dim);
    CU_ASSERT(emb && dim == 3 && emb[0] == 1 && emb[1] == 0);
    df_ndarray_view view;
    CU_ASSERT_FATAL(df_doc_tensor(mb, &view));
    CU_ASSERT(view.ndim == 2 && view.shape[0] == 2 && strcmp(view.dtype, "<f4") == 0 &&
              view.nbytes == sizeof pixels && memcmp(view.data, pixels, sizeof pixels) == 0);
    size_t blob_len;
    const void *blob = df_doc_blob(mc, &blob_len);
    CU_ASSERT(blob && blob_len == 3 && memcmp(blob, "\x00\x01\x02", 3) == 0);
    call_end(&r);

    /* without return_embeddings, matches carry none */
    call_begin(&r);
    add_doc(&r, "query", q, 3);
    call_run(&r, ex, "/search");
    CU_ASSERT_PTR_NULL(
        df_doc_embedding_f32(df_docs_get(df_doc_matches(df_docs_get(r.docs, 0)), 0), &dim));
    call_end(&r);
    df_executor_close(ex);
}

/* ---- write endpoints --------------------------------------------------------- */

static const char *first_match(df_executor *ex, const float *q, size_t dim, float *score)
{
    static char id[64];
    call r;
    call_begin(&r);
    add_doc(&r, "q", q, dim);
    call_run(&r, ex, "/search");
    df_docs *m = df_doc_matches(df_docs_get(r.docs, 0));
    snprintf(id, sizeof id, "%s", df_docs_len(m) ? df_doc_str(df_docs_get(m, 0), DF_FIELD_ID) : "");
    if (score && df_docs_len(m)) *score = match_score(df_docs_get(m, 0), "cosine");
    if (df_docs_len(m) && df_doc_text(df_docs_get(m, 0), NULL))
        snprintf(id + strlen(id), sizeof id - strlen(id), ":%s",
                 df_doc_text(df_docs_get(m, 0), NULL));
    call_end(&r);
    return id;
}

static void test_same_id_is_replaced(void)
{
    df_executor *ex = open_default(new_workspace());
    float a[2] = {1, 0}, b[2] = {0, 1};
    call r;
    call_begin(&r);
    df_doc_set_text(add_doc(&r, "x", a, 2), "old", (size_t)-1);
    add_doc(&r, "y", b, 2);
    call_run(&r, ex, "/index");
    CU_ASSERT_EQUAL(result_num(&r, ex, "indexed"), 2);
    CU_ASSERT_EQUAL(result_num(&r, ex, "replaced"), 0);
    call_end(&r);
    call_begin(&r);
    df_doc_set_text(add_doc(&r, "x", b, 2), "new", (size_t)-1);
    call_run(&r, ex, "/index");
    CU_ASSERT_EQUAL(result_num(&r, ex, "replaced"), 1);
    CU_ASSERT_EQUAL(result_num(&r, ex, "count"), 2);
    call_end(&r);
    CU_ASSERT_EQUAL(status_num(ex, "count"), 2);
    float score = -1;
    CU_ASSERT_STRING_EQUAL(first_match(ex, b, 2, &score), "x:new");
    CU_ASSERT_DOUBLE_EQUAL(score, 0, 1e-6);
    df_executor_close(ex);
}

static void test_update_replaces_known_ids_and_reports_missing(void)
{
    df_executor *ex = open_default(new_workspace());
    float a[2] = {1, 0}, b[2] = {0, 1};
    call r;
    call_begin(&r);
    df_doc_set_text(add_doc(&r, "x", a, 2), "old", (size_t)-1);
    call_run(&r, ex, "/index");
    call_end(&r);
    /* no embedding: the text changes, the stored vector stays */
    call_begin(&r);
    df_doc_set_text(add_doc(&r, "x", NULL, 0), "new text", (size_t)-1);
    add_doc(&r, "ghost", b, 2);
    CU_ASSERT_EQUAL(call_run(&r, ex, "/update"), DF_OK);
    CU_ASSERT_EQUAL(result_num(&r, ex, "updated"), 1);
    const df_value *missing = result(&r, ex, "missing");
    CU_ASSERT(df_value_len(missing) == 1 &&
              strcmp(df_value_string(df_value_at(missing, 0), NULL), "ghost") == 0);
    call_end(&r);
    CU_ASSERT_EQUAL(status_num(ex, "count"), 1);
    CU_ASSERT_STRING_EQUAL(first_match(ex, a, 2, NULL), "x:new text");
    /* with an embedding: the vector changes too */
    call_begin(&r);
    add_doc(&r, "x", b, 2);
    call_run(&r, ex, "/update");
    call_end(&r);
    float score = -1;
    first_match(ex, b, 2, &score);
    CU_ASSERT_DOUBLE_EQUAL(score, 0, 1e-6);
    df_executor_close(ex);
}

static void test_delete_by_documents_and_parameter_ids(void)
{
    df_executor *ex = open_default(new_workspace());
    float *x = random_matrix(10, 4);
    index_rows(ex, x, 0, 10, 4, 10);
    call r;
    call_begin(&r);
    add_doc(&r, "d3", NULL, 0);
    df_value *ids = df_value_new_list(r.arena);
    df_value_put_string(ids, NULL, "d7");
    df_value_put_string(ids, NULL, "nope");
    df_value_set(r.params, "ids", ids);
    CU_ASSERT_EQUAL(call_run(&r, ex, "/delete"), DF_OK);
    CU_ASSERT_EQUAL(result_num(&r, ex, "deleted"), 2);
    CU_ASSERT_EQUAL(result_num(&r, ex, "count"), 8);
    CU_ASSERT_EQUAL(df_value_len(result(&r, ex, "missing")), 1);
    call_end(&r);
    CU_ASSERT_STRING_NOT_EQUAL(first_match(ex, x + 3 * 4, 4, NULL), "d3");
    CU_ASSERT_STRING_NOT_EQUAL(first_match(ex, x + 7 * 4, 4, NULL), "d7");
    CU_ASSERT_STRING_EQUAL(first_match(ex, x + 9 * 4, 4, NULL), "d9"); /* moved into a hole */
    df_executor_close(ex);
}

static void test_clear_empties_and_accepts_another_dimension(void)
{
    df_executor *ex = open_default(new_workspace());
    index_rows(ex, random_matrix(5, 4), 0, 5, 4, 5);
    call r;
    call_begin(&r);
    CU_ASSERT_EQUAL(call_run(&r, ex, "/clear"), DF_OK);
    CU_ASSERT_EQUAL(result_num(&r, ex, "cleared"), 5);
    call_end(&r);
    CU_ASSERT_EQUAL(status_num(ex, "count"), 0);
    index_rows(ex, random_matrix(3, 6), 0, 3, 6, 3);
    CU_ASSERT_EQUAL(status_num(ex, "count"), 3);
    CU_ASSERT_EQUAL(status_num(ex, "dim"), 6);
    df_executor_close(ex);
}

static double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void test_status_reports_count_dim_and_bytes(void)
{
    df_executor *ex = open_default(new_workspace());
    double t0 = seconds_now();
    index_rows(ex, random_matrix(100, 16), 0, 100, 16, 50);
    double took = seconds_now() - t0;
    CU_ASSERT_EQUAL(status_num(ex, "log_appends"), 2); /* two durable requests */
    CU_ASSERT(status_num(ex, "log_sync_seconds") > 0);
    CU_ASSERT(status_num(ex, "log_sync_seconds") <= took);
    call r;
    call_begin(&r);
    call_run(&r, ex, "/status");
    CU_ASSERT_EQUAL(result_num(&r, ex, "count"), 100);
    CU_ASSERT_EQUAL(result_num(&r, ex, "dim"), 16);
    CU_ASSERT(result_num(&r, ex, "bytes") >= 100 * 16 * 4);
    CU_ASSERT(result_num(&r, ex, "disk_bytes") >= 100 * 16 * 4);
    CU_ASSERT_STRING_EQUAL(df_value_string(result(&r, ex, "metric"), NULL), "cosine");
    call_end(&r);
    df_executor_close(ex);
}

/* ---- errors ------------------------------------------------------------------ */

static void expect_failure(df_executor *ex, call *r, const char *endpoint, const char *text)
{
    CU_ASSERT_NOT_EQUAL(call_run(r, ex, endpoint), DF_OK);
    if (!strstr(r->err.msg, text)) {
        fprintf(stderr, "\nmessage '%s' lacks '%s'\n", r->err.msg, text);
        CU_FAIL("error message");
    }
}

static void test_wrong_dimension_names_both_numbers(void)
{
    df_executor *ex = open_default(new_workspace());
    index_rows(ex, random_matrix(3, 4), 0, 3, 4, 3);
    float e[5] = {1, 2, 3, 4, 5};
    const char *endpoints[] = {"/index", "/search", "/update"};
    for (int i = 0; i < 3; i++) {
        call r;
        call_begin(&r);
        add_doc(&r, i == 2 ? "d0" : "five", e, 5);
        expect_failure(ex, &r, endpoints[i], "dimension 5, but the index holds dimension 4");
        call_end(&r);
    }
    CU_ASSERT_EQUAL(status_num(ex, "count"), 3);
    df_executor_close(ex);
}

static void test_pinned_dimension_refuses_others_even_when_empty(void)
{
    options o = DEFAULTS;
    o.dim = 8;
    df_executor *ex = open_ok(new_workspace(), &o);
    call r;
    call_begin(&r);
    add_doc(&r, "a", random_matrix(1, 4), 4);
    expect_failure(ex, &r, "/index", "dimension 4, but the index holds dimension 8 (with.dim)");
    call_end(&r);
    df_executor_close(ex);
}

static void test_missing_embedding_names_the_document(void)
{
    df_executor *ex = open_default(new_workspace());
    call r;
    call_begin(&r);
    add_doc(&r, "fine", random_matrix(1, 4), 4);
    add_doc(&r, "bare", NULL, 0);
    expect_failure(ex, &r, "/index", "document 'bare' (number 2 of the request) has no embedding");
    call_end(&r);
    CU_ASSERT_EQUAL(status_num(ex, "count"), 0); /* nothing of a failed request is kept */
    call_begin(&r);
    add_doc(&r, "bare-query", NULL, 0);
    expect_failure(ex, &r, "/search", "document 'bare-query'");
    call_end(&r);
    df_executor_close(ex);
}

static void test_mixed_dimensions_in_one_request_fail(void)
{
    df_executor *ex = open_default(new_workspace());
    call r;
    call_begin(&r);
    add_doc(&r, "four", random_matrix(1, 4), 4);
    add_doc(&r, "three", random_matrix(1, 3), 3);
    expect_failure(ex, &r, "/index",
                   "document 'three' has an embedding of dimension 3 but "
                   "document 'four' has 4");
    call_end(&r);
    df_executor_close(ex);
}

static void test_bad_parameters_fail(void)
{
    df_executor *ex = open_default(new_workspace());
    index_rows(ex, random_matrix(3, 4), 0, 3, 4, 3);
    call r;
    call_begin(&r);
    add_doc(&r, "q", random_matrix(1, 4), 4);
    df_value_put_number(r.params, "limit", 0);
    expect_failure(ex, &r, "/search", "parameters.limit must be in 1..1000000, got 0");
    call_end(&r);
    call_begin(&r);
    df_value_put_string(r.params, "ids", "d1");
    expect_failure(ex, &r, "/delete", "parameters.ids: expected a list");
    call_end(&r);
    call_begin(&r);
    add_doc(&r, "", random_matrix(1, 4), 4);
    expect_failure(ex, &r, "/index", "document 1 of the request has no id");
    call_end(&r);
    df_executor_close(ex);
}

static void expect_init_failure(const options *o, const char *text)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = open_with(new_workspace(), o, &err);
    CU_ASSERT_PTR_NULL(ex);
    if (ex) df_executor_close(ex);
    if (!strstr(err.msg, text)) {
        fprintf(stderr, "\ninit message '%s' lacks '%s'\n", err.msg, text);
        CU_FAIL("init error message");
    }
}

static void test_unknown_metric_fails_init_naming_the_allowed_ones(void)
{
    options o = DEFAULTS;
    o.metric = "manhattan";
    expect_init_failure(&o, "with.metric: unknown metric 'manhattan'; use one of cosine, "
                            "euclidean, dot");
    o = (options)DEFAULTS;
    o.kernel = "gpu";
    expect_init_failure(&o, "use one of auto, scan, blas");
    o = (options)DEFAULTS;
    o.dim = 1 << 21;
    expect_init_failure(&o, "with.dim must be in 0..1048576");
    o = (options)DEFAULTS;
    o.log_io = "sync";
    expect_init_failure(&o, "with.log_io: unknown mode 'sync'; use one of auto, buffered");
}

static void test_second_instance_on_one_workspace_is_refused(void)
{
    const char *ws = new_workspace();
    df_executor *ex = open_default(ws);
    options o = DEFAULTS;
    df_error err = DF_ERROR_INIT;
    df_executor *twin = open_with(ws, &o, &err);
    CU_ASSERT_PTR_NULL(twin);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "is in use by another VectorIndexer instance"));
    if (twin) df_executor_close(twin);
    df_executor_close(ex);
}

/* ---- persistence ------------------------------------------------------------- */

/* A number printed by a shell command (-1 when none). */
static long shell_number(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    long x = -1;
    if (p) {
        if (fscanf(p, "%ld", &x) != 1) x = -1;
        pclose(p);
    }
    return x;
}

static size_t count_files(const char *dir, const char *prefix)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c '^%s' 2>/dev/null", dir, prefix);
    long n = shell_number(cmd);
    return n > 0 ? (size_t)n : 0;
}

static void test_reopening_restores_documents(void)
{
    const char *ws = new_workspace();
    float *x = random_matrix(500, 12);
    df_executor *ex = open_default(ws);
    index_rows(ex, x, 0, 500, 12, 100);
    df_executor_close(ex); /* compacts into a snapshot */
    CU_ASSERT_EQUAL(count_files(index_dir(ws), "log-"), 0);
    CU_ASSERT_EQUAL(count_files(index_dir(ws), "index.dfv"), 1);

    ex = open_default(ws);
    CU_ASSERT_EQUAL(status_num(ex, "count"), 500);
    CU_ASSERT_STRING_EQUAL(first_match(ex, x + 123 * 12, 12, NULL), "d123");
    /* a few more: small next to the snapshot, so they stay in the log */
    call r;
    call_begin(&r);
    add_doc(&r, "extra", x, 12);
    call_run(&r, ex, "/index");
    call_end(&r);
    call_begin(&r);
    add_doc(&r, "d5", NULL, 0);
    call_run(&r, ex, "/delete");
    call_end(&r);
    df_executor_close(ex);
    CU_ASSERT_EQUAL(count_files(index_dir(ws), "log-"), 1);

    ex = open_default(ws);
    CU_ASSERT_EQUAL(status_num(ex, "count"), 500); /* +extra, -d5 */
    CU_ASSERT_STRING_NOT_EQUAL(first_match(ex, x + 5 * 12, 12, NULL), "d5");
    CU_ASSERT_STRING_EQUAL(first_match(ex, x + 499 * 12, 12, NULL), "d499");
    df_executor_close(ex);
}

static void test_changing_the_metric_keeps_the_data(void)
{
    const char *ws = new_workspace();
    float *x = random_matrix(50, 6);
    df_executor *ex = open_default(ws);
    index_rows(ex, x, 0, 50, 6, 50);
    df_executor_close(ex);
    options o = DEFAULTS;
    o.metric = "euclidean";
    ex = open_ok(ws, &o);
    call r;
    call_begin(&r);
    add_doc(&r, "q", x + 6, 6);
    call_run(&r, ex, "/search");
    df_doc *m = df_docs_get(df_doc_matches(df_docs_get(r.docs, 0)), 0);
    CU_ASSERT_STRING_EQUAL(df_doc_str(m, DF_FIELD_ID), "d1");
    CU_ASSERT_DOUBLE_EQUAL(match_score(m, "euclidean"), 0, 1e-6);
    call_end(&r);
    df_executor_close(ex);
}

static void test_background_compaction_merges_segments(void)
{
    const char *ws = new_workspace();
    options o = DEFAULTS;
    o.compact_bytes = 8192; /* a segment per request or two */
    float *x = random_matrix(2000, 16);
    df_executor *ex = open_ok(ws, &o);
    index_rows(ex, x, 0, 2000, 16, 50);
    call r;
    call_begin(&r);
    for (int i = 0; i < 2000; i += 10) {
        char id[16];
        snprintf(id, sizeof id, "d%d", i);
        add_doc(&r, id, NULL, 0);
    }
    call_run(&r, ex, "/delete");
    call_end(&r);
    index_rows(ex, x + 16, 5000, 1, 16, 1); /* d5000 = d1's vector, appended late */
    for (int tries = 0; tries < 500 && status_bool(ex, "compacting"); tries++)
        usleep(10000);
    CU_ASSERT(status_num(ex, "compactions") >= 1);
    CU_ASSERT_EQUAL(status_num(ex, "count"), 1801);
    df_executor_close(ex);

    ex = open_ok(ws, &o);
    CU_ASSERT_EQUAL(status_num(ex, "count"), 1801);
    CU_ASSERT_STRING_NOT_EQUAL(first_match(ex, x + 10 * 16, 16, NULL), "d10");
    CU_ASSERT_STRING_EQUAL(first_match(ex, x + 11 * 16, 16, NULL), "d11");
    CU_ASSERT_STRING_EQUAL(first_match(ex, x + 1999 * 16, 16, NULL), "d1999");
    df_executor_close(ex);
}

/* A write the process never finished: half a record at the end of the
 * newest segment. Open drops it and keeps everything before it. */
static void test_torn_tail_is_dropped_and_earlier_records_kept(void)
{
    const char *ws = new_workspace();
    float *x = random_matrix(400, 8);
    df_executor *ex = open_default(ws);
    index_rows(ex, x, 0, 390, 8, 390);
    df_executor_close(ex);
    ex = open_default(ws);
    index_rows(ex, x + 390 * 8, 390, 10, 8, 5); /* two appends, kept in the log */
    df_executor_close(ex);
    CU_ASSERT_EQUAL_FATAL(count_files(index_dir(ws), "log-"), 1);
    char cmd[4200];
    /* the last record cut in half, then garbage after a valid prefix */
    snprintf(cmd, sizeof cmd,
             "f=$(ls %s/log-*); s=$(stat -c %%s $f); truncate -s $((s - 40)) $f && "
             "printf 'DFVL\\001\\000\\000\\000junk' >> $f",
             index_dir(ws));
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    ex = open_default(ws);
    CU_ASSERT_EQUAL(status_num(ex, "count"), 399); /* d399's record was torn */
    CU_ASSERT_STRING_EQUAL(first_match(ex, x + 398 * 8, 8, NULL), "d398");
    index_rows(ex, x + 399 * 8, 399, 1, 8, 1); /* and the log takes appends again */
    df_executor_close(ex);
    ex = open_default(ws);
    CU_ASSERT_EQUAL(status_num(ex, "count"), 400);
    df_executor_close(ex);
}

/* Damage in an older segment is not a crash tail: open refuses. */
static void test_damage_before_the_newest_segment_fails_open(void)
{
    const char *ws = new_workspace();
    float *x = random_matrix(300, 8);
    df_executor *ex = open_default(ws);
    index_rows(ex, x, 0, 300, 8, 300);
    df_executor_close(ex);
    ex = open_default(ws);
    index_rows(ex, x, 1000, 4, 8, 4);
    df_executor_close(ex);
    char cmd[4200];
    /* the segment copied under an older gen, a byte in its middle flipped */
    snprintf(cmd, sizeof cmd,
             "cd %s && f=$(ls log-*) && mv $f log-0000000000000fff.dfl && "
             "cp log-0000000000000fff.dfl damaged && "
             "printf 'X' | dd of=damaged bs=1 seek=30 conv=notrunc status=none && "
             "mv damaged $f",
             index_dir(ws));
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    options o = DEFAULTS;
    df_error err = DF_ERROR_INIT;
    ex = open_with(ws, &o, &err);
    CU_ASSERT_PTR_NULL(ex);
    if (ex) df_executor_close(ex);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "log-0000000000000002.dfl: the record at byte 0 is "
                                           "damaged"));
}

static void test_damaged_snapshot_fails_open(void)
{
    const char *ws = new_workspace();
    df_executor *ex = open_default(ws);
    index_rows(ex, random_matrix(100, 8), 0, 100, 8, 100);
    df_executor_close(ex);
    char cmd[4200];
    snprintf(cmd, sizeof cmd,
             "printf 'X' | dd of=%s/index.dfv bs=1 seek=5000 conv=notrunc status=none",
             index_dir(ws));
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    options o = DEFAULTS;
    df_error err = DF_ERROR_INIT;
    ex = open_with(ws, &o, &err);
    CU_ASSERT_PTR_NULL(ex);
    if (ex) df_executor_close(ex);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "damaged snapshot (matrix checksum mismatch)"));
}

/* A write that fails half-way (the file-size limit, EFBIG) fails the
 * request and changes nothing: documents it replaced in memory while the
 * write was in flight are put back, the partial write is cut off the log,
 * and later writes and a reopen see the index as before. */
static void failed_write_changes_nothing(const char *log_io)
{
    const char *ws = new_workspace();
    float *x = random_matrix(200, 8);
    /* A limit from the start, so the log cannot be preallocated either
     * (O_DIRECT): the writes grow the file themselves. */
    struct rlimit before;
    getrlimit(RLIMIT_FSIZE, &before);
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = {(rlim_t)1 << 20, before.rlim_max};
    CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_FSIZE, &small), 0);
    options o = DEFAULTS;
    o.log_io = log_io;
    df_executor *ex = open_ok(ws, &o);
    index_rows(ex, x, 0, 100, 8, 100);
    call r;
    call_begin(&r);
    df_doc_set_text(add_doc(&r, "keep", x + 150 * 8, 8), "old", (size_t)-1);
    call_run(&r, ex, "/index");
    call_end(&r);

    char cmd[4200];
    snprintf(cmd, sizeof cmd, "stat -c %%s %s/log-*", index_dir(ws));
    FILE *p = popen(cmd, "r");
    long size = 0;
    CU_ASSERT_FATAL(p && fscanf(p, "%ld", &size) == 1);
    pclose(p);
    /* the next block boundary: a direct write stops there (short), then
     * fails; a buffered one too */
    struct rlimit limit = {(rlim_t)(size + 4095) / 4096 * 4096, before.rlim_max};
    CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_FSIZE, &limit), 0);
    call_begin(&r);
    for (int i = 100; i < 150; i++) {
        char id[16];
        snprintf(id, sizeof id, "d%d", i);
        add_doc(&r, id, x + i * 8, 8);
    }
    df_doc_set_text(add_doc(&r, "keep", x + 160 * 8, 8), "new", (size_t)-1);
    CU_ASSERT_NOT_EQUAL(call_run(&r, ex, "/index"), DF_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "File too large"));
    call_end(&r);
    setrlimit(RLIMIT_FSIZE, &before);
    signal(SIGXFSZ, old_handler);

    CU_ASSERT_EQUAL(status_num(ex, "count"), 101);
    CU_ASSERT_STRING_EQUAL(first_match(ex, x + 150 * 8, 8, NULL), "keep:old");
    CU_ASSERT_STRING_NOT_EQUAL(first_match(ex, x + 120 * 8, 8, NULL), "d120");
    index_rows(ex, x + 199 * 8, 199, 1, 8, 1); /* the log takes writes again */
    df_executor_close(ex);
    ex = open_ok(ws, &o);
    CU_ASSERT_EQUAL(status_num(ex, "count"), 102);
    CU_ASSERT_STRING_EQUAL(first_match(ex, x + 150 * 8, 8, NULL), "keep:old");
    CU_ASSERT_STRING_EQUAL(first_match(ex, x + 199 * 8, 8, NULL), "d199");
    df_executor_close(ex);
}

static void test_failed_write_changes_nothing(void)
{
    failed_write_changes_nothing(NULL); /* O_DIRECT where /tmp allows it */
    failed_write_changes_nothing("buffered");
}

/* ---- the log written with O_DIRECT ----------------------------------------- */

static const char *status_str(df_executor *ex, const char *key)
{
    static char out[64];
    call r;
    call_begin(&r);
    call_run(&r, ex, "/status");
    const char *v = df_value_string(result(&r, ex, key), NULL);
    snprintf(out, sizeof out, "%s", v ? v : "");
    call_end(&r);
    return out;
}

/* Whether `dir` is on a file system with real direct I/O (ext4, xfs,
 * btrfs); the VectorIndexer asks statx, the test trusts the name. */
static int has_direct_io(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "stat -f -c %%T %s", dir);
    FILE *p = popen(cmd, "r");
    char fs[64] = "";
    if (p) {
        if (!fgets(fs, sizeof fs, p)) fs[0] = 0;
        pclose(p);
    }
    return strncmp(fs, "ext2/ext3", 9) == 0 || strncmp(fs, "xfs", 3) == 0 ||
           strncmp(fs, "btrfs", 5) == 0;
}

static long file_size(const char *dir, const char *glob)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "stat -c %%s %s/%s", dir, glob);
    return shell_number(cmd);
}

/* The workspace's files copied while the instance has them open: what a
 * SIGKILL at that moment would leave (every append was fdatasynced). */
static const char *copy_workspace(const char *ws)
{
    const char *copy = new_workspace();
    char cmd[8600];
    snprintf(cmd, sizeof cmd, "cp -r %s/VectorIndexer %s/", ws, copy);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    return copy;
}

/* Many small appends of odd sizes: each rewrites the last partial block
 * with the bytes the previous one left there. The segment is preallocated
 * while open and cut to its records on close; a copy taken while open
 * (zeros after the last record) reopens with everything, the zeros read
 * as the end of the log, and the file is cut to its records. */
static void test_direct_log_keeps_every_small_append(void)
{
    const char *ws = new_workspace();
    int direct = has_direct_io(ws);
    float *x = random_matrix(300, 8);
    df_executor *ex = open_default(ws);
    CU_ASSERT_STRING_EQUAL(status_str(ex, "log_io"), direct ? "direct" : "buffered");
    for (int i = 0; i < 300; i++) {
        call r;
        call_begin(&r);
        char id[16], text[64];
        snprintf(id, sizeof id, "d%d", i);
        snprintf(text, sizeof text, "%.*s", i % 41, "abcdefghijklmnopqrstuvwxyz0123456789ABCDE");
        df_doc_set_text(add_doc(&r, id, x + i * 8, 8), text, (size_t)-1);
        CU_ASSERT_EQUAL(call_run(&r, ex, "/index"), DF_OK);
        call_end(&r);
    }
    long logical = (long)status_num(ex, "log_bytes");
    long on_disk = file_size(index_dir(ws), "log-*");
    if (direct) CU_ASSERT(on_disk >= logical + 4096); /* preallocated ahead */
    const char *copy = copy_workspace(ws);
    df_executor_close(ex);
    CU_ASSERT(file_size(index_dir(ws), "log-*") <= 0 ||      /* compacted away, or */
              file_size(index_dir(ws), "log-*") == logical); /* cut to its records */

    ex = open_default(copy);
    CU_ASSERT_EQUAL(status_num(ex, "count"), 300);
    CU_ASSERT_EQUAL(status_num(ex, "log_bytes"), logical);
    CU_ASSERT_EQUAL(file_size(index_dir(copy), "log-*"), logical);
    for (int i = 0; i < 300; i += 37) {
        char want[80];
        snprintf(want, sizeof want, "d%d:%.*s", i, i % 41,
                 "abcdefghijklmnopqrstuvwxyz0123456789ABCDE");
        if (i % 41 == 0) snprintf(want, sizeof want, "d%d", i);
        CU_ASSERT_STRING_EQUAL(first_match(ex, x + i * 8, 8, NULL), want);
    }
    df_executor_close(ex);
}

/* A crash in the middle of a direct append: the last block rewritten in
 * part, or bytes landed beyond zeros. Open keeps every record before the
 * damage and cuts the rest; zeros alone are no damage. */
static void test_direct_log_torn_last_block(void)
{
    const char *ws = new_workspace();
    float *x = random_matrix(50, 8);
    df_executor *ex = open_default(ws);
    index_rows(ex, x, 0, 50, 8, 5); /* 10 appends */
    long logical = (long)status_num(ex, "log_bytes");
    const char *beyond = copy_workspace(ws); /* junk after a run of zeros */
    const char *torn = copy_workspace(ws);   /* the last record's end never landed */
    df_executor_close(ex);

    char cmd[8600];
    snprintf(cmd, sizeof cmd,
             "f=$(ls %s/log-*) && printf 'DFVLjunk' | dd of=$f bs=1 seek=%ld conv=notrunc "
             "status=none && f=$(ls %s/log-*) && head -c 20 /dev/zero | dd of=$f bs=1 seek=%ld "
             "conv=notrunc status=none",
             index_dir(beyond), logical + 700, index_dir(torn), logical - 20);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    ex = open_default(beyond);
    CU_ASSERT_EQUAL(status_num(ex, "count"), 50);
    CU_ASSERT_EQUAL(file_size(index_dir(beyond), "log-*"), logical);
    df_executor_close(ex);
    ex = open_default(torn);
    CU_ASSERT_EQUAL(status_num(ex, "count"), 49); /* d49's record lost its end */
    CU_ASSERT_STRING_EQUAL(first_match(ex, x + 48 * 8, 8, NULL), "d48");
    index_rows(ex, x + 49 * 8, 49, 1, 8, 1); /* and takes appends again */
    df_executor_close(ex);
    ex = open_default(torn);
    CU_ASSERT_EQUAL(status_num(ex, "count"), 50);
    df_executor_close(ex);
}

/* ---- recycled segments ---------------------------------------------------- */

/* Every record 256 bytes (dim 55, 8-byte ids), so old and new records
 * start at the same offsets, and 16 of them fill a block. */
enum { RC_DIM = 55, RC_OLD = 4000, RC_NEW = 1000, RC_FIRST_OLD = 2000000, RC_FIRST_NEW = 1000000 };

static void wait_idle(df_executor *ex)
{
    for (int tries = 0; tries < 1000 && status_bool(ex, "compacting"); tries++)
        usleep(5000);
}

/* Bytes of the PUT log record of d<row> (no fields besides the vector). */
static long put_record_bytes(size_t row)
{
    char id[32];
    return 16 + 4 + 4 * RC_DIM + 4 + snprintf(id, sizeof id, "d%zu", row) + 4;
}

static long newest_log_inode(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "stat -c %%i $(ls %s/log-* | tail -1) 2>/dev/null", dir);
    return shell_number(cmd);
}

/* The inodes of dir's spare-* files (at most 8); their number. */
static size_t spare_inodes(const char *dir, long *ino)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "stat -c %%i %s/spare-* 2>/dev/null", dir);
    FILE *p = popen(cmd, "r");
    size_t n = 0;
    while (p && n < 8 && fscanf(p, "%ld", &ino[n]) == 1)
        n++;
    if (p) pclose(p);
    return n;
}

/* Bytes that are not zero after the first `from` of the newest segment. */
static long newest_log_nonzero_after(const char *dir, long from)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "tail -c +%ld $(ls %s/log-* | tail -1) | tr -d '\\000' | wc -c",
             from + 1, dir);
    return shell_number(cmd);
}

/* Whether the request indexing new rows n..n+9 opened a segment in a
 * spare's file. */
static int index_new_into_spare(df_executor *ex, const char *dir, const float *y, size_t n)
{
    long ino[8];
    wait_idle(ex); /* no compaction renames files meanwhile */
    size_t k = spare_inodes(dir, ino);
    index_rows(ex, y + n * RC_DIM, RC_FIRST_NEW + n, 10, RC_DIM, 10);
    long now = newest_log_inode(dir);
    for (size_t i = 0; i < k; i++)
        if (ino[i] == now) return 1;
    return 0;
}

static options reuse_options(void)
{
    options o = DEFAULTS;
    o.compact_bytes = 32768; /* a segment every 128 records */
    return o;
}

/* Old documents d2000000.. indexed until compactions kept spare segment
 * files, then new ones d1000000.. ten per request until a request opens
 * its segment in a spare's file, then 3 requests more. Returns the open
 * instance; *n_old, *n_new: how many of each; *active_bytes: the log
 * bytes in the reused segment (the newest). */
static df_executor *fill_reused_segment(const char *ws, const float *x, size_t *n_old,
                                        size_t *n_new, long *active_bytes)
{
    options o = reuse_options();
    df_executor *ex = open_ok(ws, &o);
    const char *dir = index_dir(ws);
    size_t done = 0;
    for (; done < RC_OLD && status_num(ex, "spare_segments") < 1; done += 200) {
        index_rows(ex, x + done * RC_DIM, RC_FIRST_OLD + done, 200, RC_DIM, 50);
        wait_idle(ex);
    }
    CU_ASSERT_FATAL(status_num(ex, "spare_segments") >= 1);
    CU_ASSERT_EQUAL(count_files(dir, "spare-"), status_num(ex, "spare_segments"));
    const float *y = x + (size_t)RC_OLD * RC_DIM;
    size_t n = 0, reused_at = RC_NEW;
    for (; n < RC_NEW && (reused_at == RC_NEW || n < reused_at + 40); n += 10)
        if (index_new_into_spare(ex, dir, y, n) && reused_at == RC_NEW) reused_at = n;
    CU_ASSERT_FATAL(reused_at < RC_NEW);
    *n_old = done;
    *n_new = n;
    *active_bytes = 0;
    for (size_t i = reused_at; i < n; i++)
        *active_bytes += put_record_bytes(RC_FIRST_NEW + i);
    /* the old records are still there after the new ones */
    CU_ASSERT(newest_log_nonzero_after(dir, *active_bytes) > 1000);
    return ex;
}

/* Rows first.. of x found by their own vectors, every `step`-th. */
static void expect_rows(df_executor *ex, const float *x, size_t first, size_t n, size_t step)
{
    for (size_t i = 0; i < n; i += step) {
        char want[32];
        snprintf(want, sizeof want, "d%zu", first + i);
        CU_ASSERT_STRING_EQUAL(first_match(ex, x + i * RC_DIM, RC_DIM, NULL), want);
    }
}

/* Compacted segments become the next segments' files (direct writes then
 * go over written blocks). Their old records are still whole after the
 * new ones: a crash copy (nothing cut) reopens with exactly what was
 * acknowledged and nothing counts as torn; a clean close keeps the
 * spares for the next open. */
/* A workspace filled by fill_reused_segment, copied while open (what a
 * SIGKILL then leaves: nothing cut), then closed cleanly. */
typedef struct reused {
    const char *ws, *crash;
    float *x;
    size_t n_old, n_new;
    long active_bytes;
} reused;

static void reuse_and_copy(reused *r)
{
    r->ws = new_workspace();
    r->x = random_matrix(RC_OLD + RC_NEW, RC_DIM);
    df_executor *ex = fill_reused_segment(r->ws, r->x, &r->n_old, &r->n_new, &r->active_bytes);
    r->crash = copy_workspace(r->ws);
    df_executor_close(ex);
}

static void test_reused_segment_keeps_exactly_what_was_acknowledged(void)
{
    if (!has_direct_io(tmp_root)) return; /* buffered logs keep no spares: a test below */
    reused r;
    reuse_and_copy(&r);
    options o = reuse_options();
    const char *both[] = {r.crash, r.ws};
    for (int i = 0; i < 2; i++) {
        df_executor *ex = open_ok(both[i], &o);
        CU_ASSERT_EQUAL(status_num(ex, "count"), r.n_old + r.n_new);
        CU_ASSERT_EQUAL(status_num(ex, "dropped_tail_bytes"), 0);
        expect_rows(ex, r.x, RC_FIRST_OLD, r.n_old, 37);
        expect_rows(ex, r.x + (size_t)RC_OLD * RC_DIM, RC_FIRST_NEW, r.n_new, 1);
        CU_ASSERT_EQUAL(status_num(ex, "spare_segments"),
                        count_files(index_dir(both[i]), "spare-"));
        df_executor_close(ex);
    }
}

/* A crash that tore the last record of a reused segment: it is dropped as
 * torn (old records follow it, which are not), the rest is kept. */
static void test_torn_record_in_reused_segment_is_dropped(void)
{
    if (!has_direct_io(tmp_root)) return;
    reused r;
    reuse_and_copy(&r);
    char cmd[4200];
    snprintf(cmd, sizeof cmd,
             "f=$(ls %s/log-* | tail -1) && printf 'XXXXXXXX' | dd of=$f bs=1 seek=%ld "
             "conv=notrunc status=none",
             index_dir(r.crash), r.active_bytes - 8);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    options o = reuse_options();
    df_executor *ex = open_ok(r.crash, &o);
    CU_ASSERT_EQUAL(status_num(ex, "count"), r.n_old + r.n_new - 1);
    CU_ASSERT_EQUAL(status_num(ex, "dropped_tail_bytes"),
                    put_record_bytes(RC_FIRST_NEW + r.n_new - 1));
    expect_rows(ex, r.x + (size_t)RC_OLD * RC_DIM, RC_FIRST_NEW, r.n_new - 1, 1);
    df_executor_close(ex);
}

/* The case a record's tag exists for: the new records end on a block
 * boundary (no zero padding) where an old record of the file begins. The
 * old record is whole and its checksum right, yet it belongs to the file's
 * previous gen: never replayed, no torn tail. The spare is made by hand
 * from another workspace's segment (gen 1) of documents this one never
 * had; this one's next segment is gen 2. */
static void test_old_record_on_a_block_boundary_is_not_replayed(void)
{
    const char *ws = new_workspace(), *other = new_workspace();
    if (!has_direct_io(ws)) return;
    float *x = random_matrix(400, RC_DIM);
    options o = reuse_options();
    o.compact_bytes = 0; /* one segment, compacted on close only */
    df_executor *ex = open_ok(other, &o);
    index_rows(ex, x, RC_FIRST_OLD, 300, RC_DIM, 50); /* 75 KB */
    const char *copy = copy_workspace(other);
    df_executor_close(ex);
    ex = open_ok(ws, &o);
    index_rows(ex, x + 300 * RC_DIM, RC_FIRST_NEW, 1, RC_DIM, 1);
    df_executor_close(ex); /* the snapshot covers gen 1 */
    char cmd[8600];
    snprintf(cmd, sizeof cmd, "cp %s/log-0000000000000001.dfl %s/spare-0000000000000001.dfl",
             index_dir(copy), index_dir(ws));
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    ex = open_ok(ws, &o);
    CU_ASSERT_EQUAL(status_num(ex, "spare_segments"), 1);
    index_rows(ex, x + 301 * RC_DIM, RC_FIRST_NEW + 1, 80, RC_DIM, 16); /* 5 blocks */
    CU_ASSERT_EQUAL(status_num(ex, "spare_segments"), 0);
    CU_ASSERT(newest_log_nonzero_after(index_dir(ws), 80 * 256) > 100 * 256); /* old records */
    const char *crash = copy_workspace(ws);
    df_executor_close(ex);
    ex = open_ok(crash, &o);
    CU_ASSERT_EQUAL(status_num(ex, "count"), 81);
    CU_ASSERT_EQUAL(status_num(ex, "dropped_tail_bytes"), 0);
    expect_rows(ex, x + 300 * RC_DIM, RC_FIRST_NEW, 81, 1);
    CU_ASSERT(atol(first_match(ex, x, RC_DIM, NULL) + 1) < RC_FIRST_OLD);
    df_executor_close(ex);
}

/* Buffered writes would read a reused file's blocks before writing them:
 * a log written through the page cache keeps no spares, and drops those a
 * direct log left. */
static void test_buffered_log_keeps_no_spares(void)
{
    const char *ws = new_workspace();
    options o = reuse_options();
    float *x = random_matrix(RC_OLD, RC_DIM);
    if (has_direct_io(ws)) {
        df_executor *ex = open_ok(ws, &o);
        for (size_t done = 0; done < RC_OLD && status_num(ex, "spare_segments") < 1; done += 200) {
            index_rows(ex, x + done * RC_DIM, RC_FIRST_OLD + done, 200, RC_DIM, 50);
            wait_idle(ex);
        }
        df_executor_close(ex);
        CU_ASSERT(count_files(index_dir(ws), "spare-") >= 1);
    }
    o.log_io = "buffered";
    df_executor *ex = open_ok(ws, &o);
    CU_ASSERT_EQUAL(status_num(ex, "spare_segments"), 0);
    CU_ASSERT_EQUAL(count_files(index_dir(ws), "spare-"), 0);
    double compactions = status_num(ex, "compactions");
    index_rows(ex, x, RC_FIRST_NEW, 2000, RC_DIM, 50);
    wait_idle(ex);
    CU_ASSERT(status_num(ex, "compactions") > compactions);
    CU_ASSERT_EQUAL(status_num(ex, "spare_segments"), 0);
    CU_ASSERT_EQUAL(count_files(index_dir(ws), "spare-"), 0);
    df_executor_close(ex);
}

/* One request whose log records fill more than one staging buffer (1 MB):
 * the records are encoded in place, the one that straddles two buffers
 * goes through the side buffer, the first buffer is written while the
 * rest is encoded. A copy taken while open (every acknowledged append)
 * reopens with all of it, direct and buffered. */
static void large_append_spans_staging_buffers(const char *log_io)
{
    const char *ws = new_workspace();
    enum { ROWS = 2600, DIM = 128 }; /* about 1.4 MB of log */
    float *x = random_matrix(ROWS + 1, DIM);
    options o = DEFAULTS;
    o.log_io = log_io;
    df_executor *ex = open_ok(ws, &o);
    index_rows(ex, x, 0, ROWS, DIM, ROWS);
    index_rows(ex, x + (size_t)ROWS * DIM, ROWS, 1, DIM, 1); /* after the big one's tail */
    long logical = (long)status_num(ex, "log_bytes");
    CU_ASSERT(logical > (1L << 20));
    /* every stored record, the one that straddled two buffers included */
    for (size_t i = 0; i <= ROWS; i++) {
        char want[32];
        snprintf(want, sizeof want, "d%zu", i);
        CU_ASSERT_STRING_EQUAL(first_match(ex, x + i * DIM, DIM, NULL), want);
    }
    const char *copy = copy_workspace(ws);
    df_executor_close(ex);

    ex = open_ok(copy, &o);
    CU_ASSERT_EQUAL(status_num(ex, "count"), ROWS + 1);
    CU_ASSERT_EQUAL(status_num(ex, "log_bytes"), logical);
    for (size_t i = 0; i <= ROWS; i += 433) {
        char want[32];
        snprintf(want, sizeof want, "d%zu", i);
        CU_ASSERT_STRING_EQUAL(first_match(ex, x + i * DIM, DIM, NULL), want);
    }
    df_executor_close(ex);
}

static void test_large_append_spans_staging_buffers(void)
{
    large_append_spans_staging_buffers(NULL); /* O_DIRECT where /tmp allows it */
    large_append_spans_staging_buffers("buffered");
}

/* A large direct append ends with a PAD record on a block boundary (the
 * next write then starts on blocks of its own); a small one does not. The
 * PAD is no document: replay and compaction skip it. */
static void test_large_direct_append_ends_on_a_block(void)
{
    const char *ws = new_workspace();
    if (!has_direct_io(ws)) return;
    enum { DIM = 128, BIG = 200 }; /* about 107 KB of records */
    float *x = random_matrix(BIG + 2, DIM);
    df_executor *ex = open_default(ws);
    index_rows(ex, x, 0, 1, DIM, 1);
    long small = (long)status_num(ex, "log_bytes");
    CU_ASSERT_EQUAL(small, 16 + 4 + 4 * DIM + 4 + 2 + 4); /* d0's record alone */
    index_rows(ex, x + DIM, 1, BIG, DIM, BIG);
    long big = (long)status_num(ex, "log_bytes"), records = 0;
    for (size_t i = 1; i <= BIG; i++) {
        char id[32];
        records += 16 + 4 + 4 * DIM + 4 + snprintf(id, sizeof id, "d%zu", i) + 4;
    }
    CU_ASSERT_EQUAL(big % 4096, 0);
    CU_ASSERT(big - small - records >= 16 && big - small - records < 4096 + 16);
    const char *damaged = copy_workspace(ws); /* the PAD is the last record */
    index_rows(ex, x + (BIG + 1) * DIM, BIG + 1, 1, DIM, 1);
    long after = (long)status_num(ex, "log_bytes");
    CU_ASSERT_EQUAL(after - big, small + 2); /* not padded; "d201" is 2 bytes longer than "d0" */
    const char *copy = copy_workspace(ws);
    df_executor_close(ex); /* compacts the log, PAD included */

    const char *dirs[] = {copy, ws};
    for (int k = 0; k < 2; k++) {
        ex = open_default(dirs[k]);
        CU_ASSERT_EQUAL(status_num(ex, "count"), BIG + 2);
        for (size_t i = 0; i < BIG + 2; i += 67) {
            char want[32];
            snprintf(want, sizeof want, "d%zu", i);
            CU_ASSERT_STRING_EQUAL(first_match(ex, x + i * DIM, DIM, NULL), want);
        }
        CU_ASSERT_STRING_EQUAL(first_match(ex, x + (BIG + 1) * DIM, DIM, NULL), "d201");
        df_executor_close(ex);
    }

    /* The PAD is checksummed like any record: a damaged one at the end is
     * a torn tail, cut off; every document before it stays. */
    char cmd[4400];
    snprintf(cmd, sizeof cmd,
             "f=$(ls %s/log-*) && printf '\\001' | dd of=$f bs=1 seek=%ld conv=notrunc "
             "status=none",
             index_dir(damaged), big - 1);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    ex = open_default(damaged);
    CU_ASSERT_EQUAL(status_num(ex, "count"), BIG + 1);
    CU_ASSERT_EQUAL(status_num(ex, "log_bytes"), small + records);
    CU_ASSERT(status_num(ex, "dropped_tail_bytes") > 0);
    CU_ASSERT_STRING_EQUAL(first_match(ex, x + BIG * DIM, DIM, NULL), "d200");
    df_executor_close(ex);
}

/* tmpfs takes O_DIRECT but has no direct I/O (statx reports no
 * alignment): the log goes through the page cache, and says so. */
static void test_log_falls_back_to_buffered_without_direct_io(void)
{
    char base[] = "/dev/shm/docflow-test-vidx-XXXXXX";
    if (!mkdtemp(base)) {
        CU_PASS("no /dev/shm");
        return;
    }
    float *x = random_matrix(40, 8);
    df_executor *ex = open_default(base);
    CU_ASSERT_STRING_EQUAL(status_str(ex, "log_io"), "buffered");
    index_rows(ex, x, 0, 40, 8, 4);
    df_executor_close(ex);
    ex = open_default(base);
    CU_ASSERT_EQUAL(status_num(ex, "count"), 40);
    CU_ASSERT_STRING_EQUAL(first_match(ex, x + 7 * 8, 8, NULL), "d7");
    df_executor_close(ex);
    nftw(base, remove_entry, 16, FTW_DEPTH | FTW_PHYS);

    options o = DEFAULTS; /* and with.log_io: buffered anywhere */
    o.log_io = "buffered";
    ex = open_ok(new_workspace(), &o);
    CU_ASSERT_STRING_EQUAL(status_str(ex, "log_io"), "buffered");
    df_executor_close(ex);
}

void df_test_register(void)
{
    CU_pSuite s = CU_add_suite("vector_indexer", suite_setup, suite_teardown);
    CU_add_test(s, "one query matches brute force", test_one_query_matches_brute_force);
    CU_add_test(s, "few queries match brute force", test_few_queries_match_brute_force);
    CU_add_test(s, "query batch matches brute force", test_query_batch_matches_brute_force);
    CU_add_test(s, "threaded search matches brute force", test_threaded_search_matches_brute_force);
    CU_add_test(s, "limit above count returns every document",
                test_limit_above_count_returns_every_document);
    CU_add_test(s, "default limit is 10 and parameter overrides",
                test_default_limit_is_10_and_parameter_overrides);
    CU_add_test(s, "matches are sorted best first for every metric",
                test_matches_are_sorted_best_first_for_every_metric);
    CU_add_test(s, "zero vector has cosine distance one", test_zero_vector_has_cosine_distance_one);
    CU_add_test(s, "search on empty index gives no matches",
                test_search_on_empty_index_gives_no_matches);
    CU_add_test(s, "matches carry stored fields, scores and adjacency",
                test_matches_carry_stored_fields_scores_and_adjacency);
    CU_add_test(s, "same id is replaced", test_same_id_is_replaced);
    CU_add_test(s, "update replaces known ids and reports missing",
                test_update_replaces_known_ids_and_reports_missing);
    CU_add_test(s, "delete by documents and parameter ids",
                test_delete_by_documents_and_parameter_ids);
    CU_add_test(s, "clear empties and accepts another dimension",
                test_clear_empties_and_accepts_another_dimension);
    CU_add_test(s, "status reports count, dim and bytes", test_status_reports_count_dim_and_bytes);
    CU_add_test(s, "wrong dimension names both numbers", test_wrong_dimension_names_both_numbers);
    CU_add_test(s, "pinned dimension refuses others even when empty",
                test_pinned_dimension_refuses_others_even_when_empty);
    CU_add_test(s, "missing embedding names the document",
                test_missing_embedding_names_the_document);
    CU_add_test(s, "mixed dimensions in one request fail",
                test_mixed_dimensions_in_one_request_fail);
    CU_add_test(s, "bad parameters fail", test_bad_parameters_fail);
    CU_add_test(s, "unknown metric fails init naming the allowed ones",
                test_unknown_metric_fails_init_naming_the_allowed_ones);
    CU_add_test(s, "second instance on one workspace is refused",
                test_second_instance_on_one_workspace_is_refused);
    CU_add_test(s, "reopening restores documents", test_reopening_restores_documents);
    CU_add_test(s, "changing the metric keeps the data", test_changing_the_metric_keeps_the_data);
    CU_add_test(s, "background compaction merges segments",
                test_background_compaction_merges_segments);
    CU_add_test(s, "torn tail is dropped and earlier records kept",
                test_torn_tail_is_dropped_and_earlier_records_kept);
    CU_add_test(s, "damage before the newest segment fails open",
                test_damage_before_the_newest_segment_fails_open);
    CU_add_test(s, "damaged snapshot fails open", test_damaged_snapshot_fails_open);
    CU_add_test(s, "failed write changes nothing", test_failed_write_changes_nothing);
    CU_add_test(s, "direct log keeps every small append", test_direct_log_keeps_every_small_append);
    CU_add_test(s, "direct log torn last block", test_direct_log_torn_last_block);
    CU_add_test(s, "large append spans staging buffers", test_large_append_spans_staging_buffers);
    CU_add_test(s, "large direct append ends on a block", test_large_direct_append_ends_on_a_block);
    CU_add_test(s, "reused segment keeps exactly what was acknowledged",
                test_reused_segment_keeps_exactly_what_was_acknowledged);
    CU_add_test(s, "torn record in reused segment is dropped",
                test_torn_record_in_reused_segment_is_dropped);
    CU_add_test(s, "old record on a block boundary is not replayed",
                test_old_record_on_a_block_boundary_is_not_replayed);
    CU_add_test(s, "buffered log keeps no spares", test_buffered_log_keeps_no_spares);
    CU_add_test(s, "log falls back to buffered without direct io",
                test_log_falls_back_to_buffered_without_direct_io);
}
