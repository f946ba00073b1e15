/*
 * vector_indexer.c -- the VectorIndexer executor: stores documents and
 * their embeddings in its workspace and answers /search with the exact
 * top `limit` matches by cosine, euclidean or dot.
 *
 * This file binds the pieces to the executor ABI: arguments, endpoints,
 * error messages, scores and match documents. The search kernels are in
 * search.c, the in-memory index in store.c, the files in storage.c and
 * compaction.c, the stored document format in doc_record.c.
 *
 * Write endpoints never leave memory and disk apart: check the request,
 * prepare what can run out of memory, make the log append durable and
 * change memory. /index and /update grow the index and change memory
 * while their write is in flight, keeping what each document replaced,
 * and put it back (and take the write back) if either fails; /delete and
 * /clear write first.
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vector_index.h"

typedef struct indexer {
    const df_host *host;
    df_exec *exec;
    vx_metric metric;
    int64_t limit;
    int return_embeddings;
    int threads; /* 0: as many as OpenBLAS uses */
    vx_kernel kernel;
    vx_store store;
    vx_storage *storage;
    vx_pool *pool; /* search threads; they sleep between searches */
    vx_buf log;    /* the log records of a /delete or /clear, reused */
    vx_buf body;   /* one document's record body, reused */
} indexer;

static const char *const metric_names[] = {"cosine", "euclidean", "dot"};

/* What a score means, stored in each match's scores[metric].description. */
static const char *const metric_meaning[] = {
    "cosine distance 1 - cos(q, d): smaller is better",
    "euclidean distance |q - d|: smaller is better",
    "dot product q . d: larger is better",
};

static int smaller_is_better(vx_metric m)
{
    return m != VX_METRIC_DOT;
}

/* ========================================================================
 * init and close
 * ======================================================================== */

static void indexer_close(void *state)
{
    indexer *ix = state;
    vx_storage_close(ix->storage);
    vx_pool_free(ix->pool);
    vx_store_free(&ix->store);
    vx_prefault_free(ix->store.prefault);
    vx_buf_free(&ix->log);
    vx_buf_free(&ix->body);
    ix->host->free(ix);
}

static int parse_metric(const df_host *h, df_init *init, vx_metric *out)
{
    const char *name;
    int rc = h->with_string(init, "metric", "cosine", &name);
    if (rc) return rc;
    for (int m = 0; m < 3; m++)
        if (strcmp(name, metric_names[m]) == 0) return *out = (vx_metric)m, DF_OK;
    return h->init_fail(init, DF_E_INVALID_INPUT,
                        "with.metric: unknown metric '%s'; use one of cosine, euclidean, dot",
                        name);
}

static int parse_kernel(const df_host *h, df_init *init, vx_kernel *out)
{
    const char *name;
    int rc = h->with_string(init, "kernel", "auto", &name);
    if (rc) return rc;
    static const char *const names[] = {"auto", "scan", "blas"};
    for (int k = 0; k < 3; k++)
        if (strcmp(name, names[k]) == 0) return *out = (vx_kernel)k, DF_OK;
    return h->init_fail(init, DF_E_INVALID_INPUT,
                        "with.kernel: unknown kernel '%s'; use one of auto, scan, blas", name);
}

static const char *const log_io_names[] = {"auto", "buffered"};

static int parse_log_io(const df_host *h, df_init *init, int *out)
{
    const char *name;
    int rc = h->with_string(init, "log_io", "auto", &name);
    if (rc) return rc;
    for (int k = 0; k < 2; k++)
        if (strcmp(name, log_io_names[k]) == 0) return *out = k, DF_OK;
    return h->init_fail(init, DF_E_INVALID_INPUT,
                        "with.log_io: unknown mode '%s'; use one of auto, buffered", name);
}

/* An integer `with:` argument in [lo, hi]. */
static int with_range(const df_host *h, df_init *init, const char *key, int64_t dflt, int64_t lo,
                      int64_t hi, int64_t *out)
{
    int rc = h->with_int(init, key, dflt, out);
    if (rc) return rc;
    if (*out < lo || *out > hi)
        return h->init_fail(init, DF_E_INVALID_INPUT, "with.%s must be in %lld..%lld, got %lld",
                            key, (long long)lo, (long long)hi, (long long)*out);
    return DF_OK;
}

static int indexer_init(const df_host *h, df_init *init, void **state_out)
{
    vx_metric metric = VX_METRIC_COSINE;
    vx_kernel kernel = VX_KERNEL_AUTO;
    int64_t dim, limit, threads, compact_bytes;
    int return_embeddings, rc;
    if ((rc = parse_metric(h, init, &metric))) return rc;
    if ((rc = parse_kernel(h, init, &kernel))) return rc;
    if ((rc = with_range(h, init, "dim", 0, 0, 1 << 20, &dim))) return rc;
    if ((rc = with_range(h, init, "limit", 10, 1, 1000000, &limit))) return rc;
    if ((rc = with_range(h, init, "threads", 0, 0, 64, &threads))) return rc;
    if ((rc = with_range(h, init, "compact_bytes", (int64_t)64 << 20, 0, (int64_t)1 << 40,
                         &compact_bytes)))
        return rc;
    if ((rc = h->with_bool(init, "return_embeddings", 0, &return_embeddings))) return rc;
    int log_io = VX_LOG_IO_AUTO;
    if ((rc = parse_log_io(h, init, &log_io))) return rc;

    df_exec *ex = h->init_exec(init);
    const char *workspace = h->exec_workspace(ex);
    if (!workspace)
        return h->init_fail(init, DF_E_IO,
                            "no workspace folder for %s (the reason is logged above)",
                            h->exec_name(ex));
    indexer *ix = h->alloc(sizeof *ix);
    *ix = (indexer){.host = h,
                    .exec = ex,
                    .metric = metric,
                    .limit = limit,
                    .return_embeddings = return_embeddings,
                    .threads = (int)threads,
                    .kernel = kernel};
    vx_store_init(&ix->store, metric, (size_t)dim);
    vx_error err = {0};
    ix->storage =
        vx_storage_open(workspace, &ix->store, (uint64_t)compact_bytes, log_io, h, ex, &err);
    if (!ix->storage) {
        vx_store_free(&ix->store);
        h->free(ix);
        return h->init_fail(init, err.code, "%s", err.msg);
    }
    ix->store.prefault = vx_prefault_new(); /* after loading: that writes every page anyway */
    vx_storage_stats st;
    vx_storage_stats_get(ix->storage, &st);
    h->log(ex, DF_LOG_INFO, "%s: %zu documents of dimension %zu, metric %s, log written %s",
           workspace, ix->store.rows, ix->store.dim, metric_names[metric],
           st.direct ? "with O_DIRECT"
           : log_io == VX_LOG_IO_BUFFERED
               ? "through the page cache (with.log_io: buffered)"
               : "through the page cache (the filesystem has no direct I/O)");
    *state_out = ix;
    return DF_OK;
}

/* ========================================================================
 * Checks shared by the endpoints
 * ======================================================================== */

/* The request's embeddings as one matrix; fails naming the first document
 * without one, or with another dimension than the first. */
static const float *request_embeddings(indexer *ix, df_req *req, df_docs *docs, size_t *dim,
                                       int *rc)
{
    const df_host *h = ix->host;
    size_t rows;
    const float *m = h->docs_embeddings(docs, &rows, dim);
    *rc = DF_OK;
    if (m) return m;
    df_doc *bad = h->docs_get(docs, rows);
    df_ndarray_view view;
    size_t bad_dim, first_dim = 0;
    if (!h->doc_embedding(bad, &view) || !h->doc_embedding_f32(bad, &bad_dim)) {
        *rc = h->fail(req, DF_E_INVALID_INPUT,
                      "document '%s' (number %zu of the request) has no embedding; the "
                      "VectorIndexer needs one on every document (run an encoder before it)",
                      df_h_doc_id(h, bad), rows + 1);
        return NULL;
    }
    df_doc *first = h->docs_get(docs, 0);
    h->doc_embedding_f32(first, &first_dim);
    *rc = h->fail(req, DF_E_INVALID_INPUT,
                  "document '%s' has an embedding of dimension %zu but document '%s' has %zu: "
                  "one request holds one dimension",
                  df_h_doc_id(h, bad), bad_dim, df_h_doc_id(h, first), first_dim);
    return NULL;
}

/* Each document's embedding where it lies (no copy into one matrix: a put
 * copies every vector into the index anyway); the same failures as
 * request_embeddings. */
static const float **request_vectors(indexer *ix, df_req *req, df_docs *docs, size_t *dim, int *rc)
{
    const df_host *h = ix->host;
    size_t n = h->docs_len(docs), d;
    const float **vecs = h->req_alloc(req, n * sizeof *vecs);
    *rc = DF_OK;
    for (size_t i = 0; i < n; i++) {
        vecs[i] = h->doc_embedding_f32(h->docs_get(docs, i), &d);
        if (!vecs[i] || !d || (i > 0 && d != *dim)) { /* request_embeddings names the culprit */
            if (request_embeddings(ix, req, docs, dim, rc))
                *rc = h->fail(req, DF_E_INTERNAL, "document %zu: unreadable embedding", i + 1);
            return NULL;
        }
        *dim = d;
    }
    return vecs;
}

/* The dimension of `doc`'s embedding must be the index's (once it has one). */
static int check_dim(indexer *ix, df_req *req, size_t dim, const df_doc *doc)
{
    const vx_store *s = &ix->store;
    if (!s->dim || dim == s->dim || (!s->rows && !s->pinned)) return DF_OK;
    return ix->host->fail(req, DF_E_INVALID_INPUT,
                          "document '%s' has an embedding of dimension %zu, but the index holds "
                          "dimension %zu%s",
                          df_h_doc_id(ix->host, doc), dim, s->dim,
                          s->pinned ? " (with.dim)" : " (send /clear to start over with another)");
}

static int check_id(indexer *ix, df_req *req, const df_doc *d, size_t i)
{
    const char *id = df_h_doc_id(ix->host, d);
    if (*id && strlen(id) < (1u << 16)) return DF_OK;
    return ix->host->fail(req, DF_E_INVALID_INPUT,
                          *id ? "document %zu: id longer than 65535 bytes"
                              : "document %zu of the request has no id",
                          i + 1);
}

/* d's id and stored fields (encoded in ix->body); -1 when out of memory. */
static int doc_fields(indexer *ix, const df_doc *d, vx_log_fields *f)
{
    ix->body.len = 0;
    vx_doc_encode(ix->host, d, &ix->body);
    if (ix->body.oom) {
        vx_buf_free(&ix->body);
        return -1;
    }
    f->id = df_h_doc_id(ix->host, d);
    f->id_len = strlen(f->id);
    f->body = ix->body.data;
    f->body_len = ix->body.len;
    return 0;
}

static void free_records(vx_record **recs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(recs[i]);
}

/* Makes the request's log records durable; fails the request otherwise. */
static int append_log(indexer *ix, df_req *req)
{
    if (ix->log.oom) {
        vx_buf_free(&ix->log);
        return ix->host->fail(req, DF_E_RESOURCE, "out of memory preparing the log records");
    }
    vx_error err = {0};
    if (vx_storage_append(ix->storage, ix->log.data, ix->log.len, &err))
        return ix->host->fail(req, err.code, "%s", err.msg);
    return DF_OK;
}

static void put_count(indexer *ix, df_req *req, const char *key, size_t n)
{
    ix->host->value_put_number(ix->host->req_results(req), key, (double)n);
}

/* ========================================================================
 * /index and /update
 * ======================================================================== */

/* Encodes the log records straight into the log's staging buffers, which
 * are what the disk writes (no copy in between), and notes where each
 * lies in staged[i]: the stored records are made from there once the
 * write is on its way (make_records). A record that straddles two staging
 * buffers is not left whole in either, so its stored record is made here.
 * DF_OK, or DF_E_RESOURCE when out of memory. */
static int encode_and_write(indexer *ix, df_docs *docs, const float **vecs, size_t dim,
                            vx_record **recs, const unsigned char **staged)
{
    const df_host *h = ix->host;
    size_t n = h->docs_len(docs);
    uint32_t tag = vx_storage_tag(ix->storage);
    for (size_t i = 0; i < n; i++) {
        vx_log_fields f;
        if (!vecs[i]) continue;
        if (doc_fields(ix, h->docs_get(docs, i), &f)) return DF_E_RESOURCE;
        size_t size = vx_log_put_size(dim, f.id_len, f.body_len);
        unsigned char *at = vx_storage_room(ix->storage, size);
        if (!at) return DF_E_RESOURCE;
        vx_log_put_at(at, vecs[i], dim, &f, tag);
        if (!vx_storage_bounced(ix->storage))
            staged[i] = at;
        else if (!(recs[i] = vx_record_new(f.id, f.id_len, f.body, f.body_len)))
            return DF_E_RESOURCE;
        vx_storage_wrote(ix->storage, size);
    }
    return DF_OK;
}

/* The stored records of the documents encode_and_write left in the
 * staging buffers, made while the disk writes them. -1 when out of
 * memory. */
static int make_records(size_t n, size_t dim, const unsigned char **staged, vx_record **recs)
{
    for (size_t i = 0; i < n; i++) {
        if (!staged[i]) continue;
        vx_log_fields f;
        vx_log_put_fields(staged[i], dim, &f);
        if (!(recs[i] = vx_record_new(f.id, f.id_len, f.body, f.body_len))) return -1;
    }
    return 0;
}

/* Puts docs[i] with vector vecs[i] for every i with vecs[i] != NULL.
 * Memory is updated while the log write is in flight, keeping what each
 * put replaced, and taken back if the write fails; so the request returns
 * after max(disk, CPU) rather than their sum, and only once durable.
 * Reports "replaced" and "count". */
static int put_documents(indexer *ix, df_req *req, df_docs *docs, const float **vecs, size_t dim,
                         size_t *put)
{
    const df_host *h = ix->host;
    size_t n = h->docs_len(docs), applied = 0, replaced = 0;
    vx_record **recs = h->req_alloc(req, n * sizeof *recs);
    const unsigned char **staged = h->req_alloc(req, n * sizeof *staged);
    vx_undo *undo = h->req_alloc(req, n * sizeof *undo);
    memset(recs, 0, n * sizeof *recs);
    memset(staged, 0, n * sizeof *staged);
    memset(undo, 0, n * sizeof *undo);
    vx_error err = {0};
    int rc = vx_storage_begin(ix->storage, &err);
    if (rc == DF_OK) rc = encode_and_write(ix, docs, vecs, dim, recs, staged);
    if (rc == DF_OK) vx_storage_sync(ix->storage); /* the disk syncs while memory is updated */
    /* The stored records are made, and the index grown (mremap, a rehash),
     * while the disk writes too; without memory, the write is taken back. */
    int no_memory = rc == DF_OK && make_records(n, dim, staged, recs) != 0;
    int no_room =
        rc == DF_OK && !no_memory && vx_store_reserve(&ix->store, ix->store.rows + n, dim) != 0;
    int overlapped = rc == DF_OK && !no_room && !no_memory;
    for (size_t i = 0; overlapped && i < n; i++) {
        if (!recs[i]) continue;
        int r = vx_store_put_undoable(&ix->store, vecs[i], recs[i], &undo[i]);
        if (r < 0) {
            overlapped = 0; /* no memory to keep the old vector: wait for the disk */
            break;
        }
        replaced += (size_t)r;
        applied = i + 1;
    }
    int io = vx_storage_finish(ix->storage, rc == DF_OK && !no_room && !no_memory, &err);
    if (rc == DF_OK) rc = no_room || no_memory ? DF_E_RESOURCE : io;
    if (rc) {
        for (size_t i = applied; i-- > 0;)
            if (undo[i].rec) vx_store_undo(&ix->store, &undo[i]);
        free_records(recs + applied, n - applied);
        if (no_room)
            return h->fail(req, DF_E_RESOURCE, "out of memory growing the index to %zu documents",
                           ix->store.rows + n);
        return err.code ? h->fail(req, err.code, "%s", err.msg)
                        : h->fail(req, rc, "out of memory storing the documents");
    }
    for (size_t i = 0; i < applied; i++)
        vx_store_undo_forget(&undo[i]);
    for (size_t i = applied; i < n; i++) /* after a fallback: durable now, so no undo */
        if (recs[i]) replaced += (size_t)vx_store_put(&ix->store, vecs[i], recs[i]);
    *put = 0;
    for (size_t i = 0; i < n; i++)
        *put += recs[i] != NULL;
    put_count(ix, req, "replaced", replaced);
    put_count(ix, req, "count", ix->store.rows);
    return DF_OK;
}

static int index_docs(void *state, df_req *req)
{
    indexer *ix = state;
    const df_host *h = ix->host;
    df_docs *docs = h->req_docs(req);
    size_t n = h->docs_len(docs), dim, put = 0;
    int rc;
    if (n == 0) {
        put_count(ix, req, "indexed", 0);
        put_count(ix, req, "count", ix->store.rows);
        return DF_OK;
    }
    const float **vecs = request_vectors(ix, req, docs, &dim, &rc);
    if (!vecs) return rc;
    if ((rc = check_dim(ix, req, dim, h->docs_get(docs, 0)))) return rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = check_id(ix, req, h->docs_get(docs, i), i))) return rc;
    if ((rc = put_documents(ix, req, docs, vecs, dim, &put))) return rc;
    put_count(ix, req, "indexed", put);
    return DF_OK;
}

/* /update: replaces stored documents by id. A document without an
 * embedding keeps the stored one; ids not in the index are reported, not
 * added. */
static int update_docs(void *state, df_req *req)
{
    indexer *ix = state;
    const df_host *h = ix->host;
    df_docs *docs = h->req_docs(req);
    size_t n = h->docs_len(docs), dim = ix->store.dim, put = 0;
    const float **vecs = h->req_alloc(req, (n ? n : 1) * sizeof *vecs);
    df_value *missing = h->value_new_list(req);
    int rc;
    for (size_t i = 0; i < n; i++) {
        df_doc *d = h->docs_get(docs, i);
        const char *id = df_h_doc_id(h, d);
        long row = vx_store_find(&ix->store, id, strlen(id));
        vecs[i] = NULL;
        if (row < 0) {
            h->value_put_string(missing, NULL, id);
            continue;
        }
        size_t edim;
        const float *e = h->doc_embedding_f32(d, &edim);
        if (e && edim != dim) return check_dim(ix, req, edim, d);
        if (!e) { /* keep the stored vector: a copy, as the row is rewritten */
            float *copy = h->req_alloc(req, dim * sizeof *copy);
            memcpy(copy, ix->store.matrix + (size_t)row * dim, dim * sizeof *copy);
            e = copy;
        }
        vecs[i] = e;
    }
    if (n && (rc = put_documents(ix, req, docs, vecs, dim, &put))) return rc;
    put_count(ix, req, "updated", put);
    h->value_set(h->req_results(req), "missing", missing);
    if (!n) put_count(ix, req, "count", ix->store.rows);
    return DF_OK;
}

/* ========================================================================
 * /delete and /clear
 * ======================================================================== */

/* Ids to delete: the request documents' ids and parameters.ids. */
static int collect_ids(indexer *ix, df_req *req, const char ***ids, size_t *n)
{
    const df_host *h = ix->host;
    df_docs *docs = h->req_docs(req);
    const df_value *list = h->value_get(h->req_parameters(req), "ids");
    if (list && h->value_type(list) != DF_VALUE_LIST)
        return h->fail(req, DF_E_INVALID_INPUT, "parameters.ids: expected a list of ids");
    size_t n_docs = h->docs_len(docs), n_list = h->value_len(list);
    *ids = h->req_alloc(req, (n_docs + n_list + 1) * sizeof **ids);
    *n = 0;
    for (size_t i = 0; i < n_docs; i++)
        (*ids)[(*n)++] = df_h_doc_id(h, h->docs_get(docs, i));
    for (size_t i = 0; i < n_list; i++) {
        const char *id = h->value_string(h->value_at(list, i), NULL);
        if (!id)
            return h->fail(req, DF_E_INVALID_INPUT, "parameters.ids[%zu]: expected a string", i);
        (*ids)[(*n)++] = id;
    }
    return DF_OK;
}

static int delete_docs(void *state, df_req *req)
{
    indexer *ix = state;
    const df_host *h = ix->host;
    const char **ids = NULL;
    size_t n = 0, deleted = 0;
    int rc;
    if ((rc = collect_ids(ix, req, &ids, &n))) return rc;
    ix->log.len = 0;
    df_value *missing = h->value_new_list(req);
    uint32_t tag = vx_storage_tag(ix->storage);
    for (size_t i = 0; i < n; i++) {
        if (vx_store_find(&ix->store, ids[i], strlen(ids[i])) >= 0)
            vx_log_delete(&ix->log, ids[i], strlen(ids[i]), tag);
        else
            h->value_put_string(missing, NULL, ids[i]);
    }
    if (ix->log.len && (rc = append_log(ix, req))) return rc;
    for (size_t i = 0; i < n; i++)
        deleted += (size_t)vx_store_delete(&ix->store, ids[i], strlen(ids[i]));
    put_count(ix, req, "deleted", deleted);
    h->value_set(h->req_results(req), "missing", missing);
    put_count(ix, req, "count", ix->store.rows);
    return DF_OK;
}

static int clear_index(void *state, df_req *req)
{
    indexer *ix = state;
    size_t had = ix->store.rows;
    int rc;
    ix->log.len = 0;
    vx_log_clear(&ix->log, vx_storage_tag(ix->storage));
    if (had && (rc = append_log(ix, req))) return rc;
    vx_store_clear(&ix->store);
    put_count(ix, req, "cleared", had);
    put_count(ix, req, "count", 0);
    return DF_OK;
}

/* ========================================================================
 * /search
 * ======================================================================== */

/* The score of row `row` for query q (|q| = qnorm), computed exactly in
 * double from the vectors: the kernels rank, this reports. */
static float exact_score(const indexer *ix, const float *q, double qnorm, size_t row)
{
    const size_t dim = ix->store.dim;
    const float *x = ix->store.matrix + row * dim;
    double acc = 0, xx = 0;
    switch (ix->metric) {
    case VX_METRIC_DOT:
        for (size_t c = 0; c < dim; c++)
            acc += (double)q[c] * x[c];
        return (float)acc;
    case VX_METRIC_EUCLIDEAN:
        for (size_t c = 0; c < dim; c++)
            acc += ((double)q[c] - x[c]) * ((double)q[c] - x[c]);
        return (float)sqrt(acc);
    case VX_METRIC_COSINE:
    default:
        for (size_t c = 0; c < dim; c++) {
            acc += (double)q[c] * x[c];
            xx += (double)x[c] * x[c];
        }
        /* rounding can push 1 - cos a hair outside [0, 2] */
        double d = qnorm > 0 && xx > 0 ? 1.0 - acc / (qnorm * sqrt(xx)) : 1.0;
        return (float)(d < 0 ? 0 : d > 2 ? 2 : d);
    }
}

typedef struct scored {
    float score;
    uint32_t row;
} scored;

/* Exact scores for one query's hits, best first (ties keep kernel order). */
static void rescore(const indexer *ix, const float *q, const vx_hit *hits, size_t n, scored *out)
{
    double qq = 0;
    for (size_t c = 0; c < ix->store.dim; c++)
        qq += (double)q[c] * q[c];
    double qnorm = sqrt(qq);
    int ascending = smaller_is_better(ix->metric);
    for (size_t i = 0; i < n; i++) {
        scored s = {exact_score(ix, q, qnorm, hits[i].row), hits[i].row};
        size_t j = i;
        while (j > 0 && (ascending ? out[j - 1].score > s.score : out[j - 1].score < s.score)) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = s;
    }
}

static int add_match(indexer *ix, df_req *req, df_doc *query, const scored *s, int embeddings)
{
    const df_host *h = ix->host;
    const vx_record *rec = ix->store.records[s->row];
    df_doc *m = h->doc_new(req);
    h->doc_set_str(m, DF_FIELD_ID, vx_record_id(rec));
    if (vx_doc_decode(h, req, m, vx_record_body(rec), rec->body_len))
        return h->fail(req, DF_E_INTERNAL, "stored document '%s' is damaged", vx_record_id(rec));
    if (embeddings)
        h->doc_set_embedding_f32(m, ix->store.matrix + (size_t)s->row * ix->store.dim,
                                 ix->store.dim);
    h->doc_set_num(m, DF_FIELD_ADJACENCY, h->doc_num(query, DF_FIELD_ADJACENCY) + 1);
    df_score score = {s->score, h->exec_name(ix->exec), metric_meaning[ix->metric],
                      df_h_doc_id(h, query)};
    h->doc_set_score(m, DF_SCORES, metric_names[ix->metric], &score);
    h->docs_append(h->doc_matches(query), m);
    return DF_OK;
}

static int search_docs(void *state, df_req *req)
{
    indexer *ix = state;
    const df_host *h = ix->host;
    df_docs *docs = h->req_docs(req);
    size_t nq = h->docs_len(docs), dim;
    int64_t limit;
    int embeddings, rc;
    if ((rc = h->param_int(req, "limit", ix->limit, &limit))) return rc;
    if ((rc = h->param_bool(req, "return_embeddings", ix->return_embeddings, &embeddings)))
        return rc;
    if (limit < 1 || limit > 1000000)
        return h->fail(req, DF_E_INVALID_INPUT, "parameters.limit must be in 1..1000000, got %lld",
                       (long long)limit);
    if (nq == 0) return DF_OK;
    const float *q = request_embeddings(ix, req, docs, &dim, &rc);
    if (!q) return rc;
    if ((rc = check_dim(ix, req, dim, h->docs_get(docs, 0)))) return rc;
    size_t k = (size_t)limit < ix->store.rows ? (size_t)limit : ix->store.rows;
    vx_hit *hits = h->req_alloc(req, (nq * k + 1) * sizeof *hits);
    size_t *counts = h->req_alloc(req, nq * sizeof *counts);
    scored *order = h->req_alloc(req, (k + 1) * sizeof *order);
    int threads = ix->threads ? ix->threads : openblas_get_num_threads();
    vx_matrix view = vx_store_view(&ix->store);
    if (!ix->pool) ix->pool = vx_pool_new(); /* NULL: search on this thread alone */
    if (k && vx_search(&view, q, nq, k, ix->kernel, threads, ix->pool, hits, counts))
        return h->fail(req, DF_E_RESOURCE, "out of memory searching %zu queries", nq);
    for (size_t i = 0; i < nq; i++) {
        df_doc *query = h->docs_get(docs, i);
        h->docs_clear(h->doc_matches(query)); /* as DocArray's match: results replace */
        if (!k) continue;
        rescore(ix, q + i * dim, hits + i * k, counts[i], order);
        for (size_t j = 0; j < counts[i]; j++)
            if ((rc = add_match(ix, req, query, &order[j], embeddings))) return rc;
    }
    return DF_OK;
}

/* ========================================================================
 * /status
 * ======================================================================== */

static int report_status(void *state, df_req *req)
{
    indexer *ix = state;
    const df_host *h = ix->host;
    vx_storage_stats st;
    vx_storage_stats_get(ix->storage, &st);
    df_value *r = h->req_results(req);
    const vx_store *s = &ix->store;
    h->value_put_number(r, "count", (double)s->rows);
    h->value_put_number(r, "dim", (double)s->dim);
    h->value_put_string(r, "metric", metric_names[ix->metric]);
    h->value_put_number(r, "bytes", (double)(s->rows * s->dim * sizeof(float) + s->record_bytes));
    h->value_put_number(r, "memory_bytes", (double)vx_store_bytes(s));
    h->value_put_number(r, "disk_bytes", (double)(st.snapshot_bytes + st.log_bytes));
    h->value_put_number(r, "snapshot_bytes", (double)st.snapshot_bytes);
    h->value_put_number(r, "log_bytes", (double)st.log_bytes);
    h->value_put_number(r, "log_segments", (double)st.segments);
    h->value_put_number(r, "spare_segments", (double)st.spares);
    h->value_put_number(r, "dropped_tail_bytes", (double)st.dropped_tail_bytes);
    h->value_put_number(r, "log_appends", (double)st.appends);
    h->value_put_number(r, "log_sync_seconds", st.sync_seconds);
    h->value_put_number(r, "compactions", (double)st.compactions);
    h->value_put_bool(r, "compacting", st.compacting);
    h->value_put_string(r, "log_io", st.direct ? "direct" : "buffered");
    h->value_put_number(r, "threads", ix->threads ? ix->threads : openblas_get_num_threads());
    h->value_put_string(r, "blas_core", openblas_get_corename());
    return DF_OK;
}

static const df_request_def indexer_requests[] = {
    DF_REQUEST("/index", index_docs),   DF_REQUEST("/update", update_docs),
    DF_REQUEST("/delete", delete_docs), DF_REQUEST("/search", search_docs),
    DF_REQUEST("/clear", clear_index),  DF_REQUEST("/status", report_status),
};

static const df_executor_def indexer_executors[] = {
    DF_EXECUTOR("VectorIndexer", "0.1.0",
                "Exact vector search (OpenBLAS), documents kept durable in the workspace",
                indexer_init, indexer_close, indexer_requests),
};

DF_PLUGIN("vector-indexer", "0.1.0", indexer_executors)
