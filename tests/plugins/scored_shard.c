/*
 * scored_shard.c -- ScoredShard, a test executor for MatchMerger: an
 * in-memory exact vector search over one partition of the indexed
 * documents, scoring as an indexer does, so a sharded search reduced by
 * MatchMerger can be compared with an unsharded one. Not installed.
 *
 *   with: metric  "sqeuclidean" (squared distance: smaller is better) or "dot"
 *                 (similarity: larger is better); scores[metric]
 *         part, parts  which partition this instance keeps (default: the
 *                 runtime's shard_id and shards), so a join of two
 *                 branches can split the data as shards do
 *   /index   keeps the documents whose id hashes to this partition (send
 *            every document to every shard: polling ALL): id, embedding
 *            and a numeric tags.label
 *   /search  each query gets the partition's top `limit` (parameter,
 *            default 10) as matches, best first, with tags.part (and
 *            tags.label when the document had one)
 */
#include <stdlib.h>
#include <string.h>

#include <docflow/executor.h>

typedef struct stored {
    char *id;
    float *vec;
    int has_label;
    double label;
} stored;

typedef struct scored_shard {
    const df_host *h;
    int dot; /* 1: dot product (higher is better); 0: squared euclidean distance */
    int64_t part, parts;
    size_t dim;
    stored *docs;
    size_t n, cap;
} scored_shard;

static int runtime_int(const df_host *h, df_exec *ex, const char *key, int dflt)
{
    const df_value *v = h->runtime_arg(ex, key);
    return h->value_type(v) == DF_VALUE_NUMBER ? (int)h->value_number(v) : dflt;
}

static int shard_init(const df_host *h, df_init *init, void **state_out)
{
    df_exec *ex = h->init_exec(init);
    int shard = runtime_int(h, ex, "shard_id", -1);
    int shards = runtime_int(h, ex, "shards", 1);
    const char *metric;
    int64_t part, parts;
    int rc;
    if ((rc = h->with_string(init, "metric", "sqeuclidean", &metric)) ||
        (rc = h->with_int(init, "part", shard < 0 ? 0 : shard, &part)) ||
        (rc = h->with_int(init, "parts", shards, &parts)))
        return rc;
    if (strcmp(metric, "sqeuclidean") != 0 && strcmp(metric, "dot") != 0)
        return h->init_fail(init, DF_E_INVALID_INPUT, "with.metric: sqeuclidean or dot");
    if (parts < 1 || part < 0 || part >= parts)
        return h->init_fail(init, DF_E_INVALID_INPUT, "with.part must be in 0..parts-1");
    scored_shard *s = h->alloc(sizeof *s);
    memset(s, 0, sizeof *s);
    s->h = h;
    s->dot = strcmp(metric, "dot") == 0;
    s->part = part;
    s->parts = parts;
    *state_out = s;
    return DF_OK;
}

static void shard_close(void *state)
{
    scored_shard *s = state;
    for (size_t i = 0; i < s->n; i++) {
        s->h->free(s->docs[i].id);
        s->h->free(s->docs[i].vec);
    }
    s->h->free(s->docs);
    s->h->free(s);
}

static uint64_t hash_id(const char *id)
{
    uint64_t h = 14695981039346656037ull;
    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 1099511628211ull;
    return h;
}

static void keep(scored_shard *s, const char *id, const float *vec, const df_value *label)
{
    const df_host *h = s->h;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        stored *docs = h->alloc(cap * sizeof *docs);
        if (s->n) memcpy(docs, s->docs, s->n * sizeof *docs);
        h->free(s->docs);
        s->docs = docs;
        s->cap = cap;
    }
    size_t len = strlen(id) + 1;
    s->docs[s->n].id = h->alloc(len);
    memcpy(s->docs[s->n].id, id, len);
    s->docs[s->n].vec = h->alloc(s->dim * sizeof(float));
    memcpy(s->docs[s->n].vec, vec, s->dim * sizeof(float));
    s->docs[s->n].has_label = h->value_type(label) == DF_VALUE_NUMBER;
    s->docs[s->n].label = h->value_number(label);
    s->n++;
}

static int shard_index(void *state, df_req *req)
{
    scored_shard *s = state;
    const df_host *h = s->h;
    df_docs *docs = h->req_docs(req);
    for (size_t i = 0; i < h->docs_len(docs); i++) {
        df_doc *d = h->docs_get(docs, i);
        size_t dim;
        const float *vec = h->doc_embedding_f32(d, &dim);
        if (!vec) return h->fail(req, DF_E_INVALID_INPUT, "no embedding");
        if (!s->dim) s->dim = dim;
        if (dim != s->dim) return h->fail(req, DF_E_INVALID_INPUT, "wrong dim");
        if (hash_id(df_h_doc_id(h, d)) % (uint64_t)s->parts != (uint64_t)s->part) continue;
        keep(s, df_h_doc_id(h, d), vec, h->value_get(h->doc_tags(d), "label"));
    }
    h->value_put_number(h->req_results(req), "stored", (double)s->n);
    return DF_OK;
}

static float score_of(const scored_shard *s, const float *a, const float *b)
{
    double acc = 0;
    for (size_t i = 0; i < s->dim; i++)
        acc += s->dot ? (double)a[i] * b[i] : ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return (float)acc;
}

static int better(const scored_shard *s, float a, float b)
{
    return s->dot ? a > b : a < b;
}

/* Selection of the best `limit` (a simple insertion, fine for tests). */
static int shard_search(void *state, df_req *req)
{
    scored_shard *s = state;
    const df_host *h = s->h;
    int64_t limit;
    int rc;
    if ((rc = h->param_int(req, "limit", 10, &limit))) return rc;
    if (limit < 0) limit = 0;
    df_docs *docs = h->req_docs(req);
    size_t *best = h->req_alloc(req, (s->n + 1) * sizeof *best);
    float *scores = h->req_alloc(req, (s->n + 1) * sizeof *scores);
    const char *name = s->dot ? "dot" : "sqeuclidean";
    for (size_t q = 0; q < h->docs_len(docs); q++) {
        df_doc *query = h->docs_get(docs, q);
        size_t dim;
        const float *vec = h->doc_embedding_f32(query, &dim);
        if (!vec || dim != s->dim) return h->fail(req, DF_E_INVALID_INPUT, "query dim");
        size_t kept = 0, cap = (size_t)limit;
        for (size_t i = 0; i < s->n && cap; i++) {
            float v = score_of(s, vec, s->docs[i].vec);
            if (kept == cap && !better(s, v, scores[cap - 1])) continue;
            size_t at = kept == cap ? cap - 1 : kept;
            for (; at > 0 && better(s, v, scores[at - 1]); at--) {
                scores[at] = scores[at - 1];
                best[at] = best[at - 1];
            }
            scores[at] = v;
            best[at] = i;
            if (kept < cap) kept++;
        }
        for (size_t r = 0; r < kept; r++) {
            df_doc *m = h->doc_new(req);
            h->doc_set_str(m, DF_FIELD_ID, s->docs[best[r]].id);
            h->value_put_number(h->doc_tags(m), "part", (double)s->part);
            if (s->docs[best[r]].has_label)
                h->value_put_number(h->doc_tags(m), "label", s->docs[best[r]].label);
            df_score sc = {scores[r], name, "", df_h_doc_id(h, query)};
            h->doc_set_score(m, DF_SCORES, name, &sc);
            h->docs_append(h->doc_matches(query), m);
        }
    }
    return DF_OK;
}

static const df_request_def shard_requests[] = {
    DF_REQUEST("/index", shard_index),
    DF_REQUEST("/search", shard_search),
};

static const df_executor_def shard_executors[] = {
    DF_EXECUTOR("ScoredShard", "0.0.1", "exact vector search over one partition", shard_init,
                shard_close, shard_requests),
};

DF_PLUGIN("scored_shard", "0.0.1", shard_executors)
