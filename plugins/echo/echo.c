/*
 * echo.c -- the Echo executor: a small, complete tour of the executor ABI.
 *
 * It touches every kind of host service a real executor uses: text, tags,
 * embeddings, matches and chunks, typed `with:` arguments and parameters,
 * results, replacing the request's documents, failing cleanly, the default
 * handler next to bound endpoints, and the three batch policies. Tests and
 * the docs lean on its behaviour, so change it with them.
 */
#include <ctype.h>
#include <math.h>
#include <string.h>

#include <docflow/executor.h>

typedef struct echo {
    const df_host *host;
    df_exec *exec;
    char prefix[64];
    int64_t dim;
    int uppercase;
} echo;

static int echo_init(const df_host *h, df_init *init, void **state_out)
{
    const char *prefix;
    int64_t dim;
    int upper;
    int rc;
    if ((rc = h->with_string(init, "prefix", "", &prefix))) return rc;
    if ((rc = h->with_int(init, "dim", 0, &dim))) return rc;
    if ((rc = h->with_bool(init, "uppercase", 0, &upper))) return rc;
    if (dim < 0 || dim > 65536)
        return h->init_fail(init, DF_E_INVALID_INPUT, "with.dim must be in 0..65536, got %lld",
                            (long long)dim);
    if (strlen(prefix) >= sizeof(((echo *)0)->prefix))
        return h->init_fail(init, DF_E_INVALID_INPUT, "with.prefix is longer than 63 bytes");
    echo *e = h->alloc(sizeof *e);
    e->host = h;
    e->exec = h->init_exec(init);
    strcpy(e->prefix, prefix);
    e->dim = dim;
    e->uppercase = upper;
    *state_out = e;
    return DF_OK;
}

static void echo_close(void *state)
{
    echo *e = state;
    e->host->free(e);
}

/* A deterministic embedding of a text: byte counts folded into `dim`
 * buckets, L2-normalised. Enough to make search results meaningful. */
static void text_embedding(const char *text, size_t len, float *out, size_t dim)
{
    memset(out, 0, dim * sizeof *out);
    for (size_t i = 0; i < len; i++)
        out[(unsigned char)text[i] % dim] += 1.0f;
    double norm = 0;
    for (size_t i = 0; i < dim; i++)
        norm += (double)out[i] * out[i];
    if (norm > 0)
        for (size_t i = 0; i < dim; i++)
            out[i] = (float)(out[i] / sqrt(norm));
}

/* /index: prefix (and maybe upper-case) the text, tag, embed. */
static int echo_index(void *state, df_req *req)
{
    echo *e = state;
    const df_host *h = e->host;
    df_docs *docs = h->req_docs(req);
    size_t n = h->docs_len(docs);
    float *vec = e->dim ? h->req_alloc(req, (size_t)e->dim * sizeof(float)) : NULL;
    for (size_t i = 0; i < n; i++) {
        df_doc *d = h->docs_get(docs, i);
        size_t len;
        const char *text = h->doc_text(d, &len);
        if (!text) continue;
        size_t plen = strlen(e->prefix);
        char *out = h->req_alloc(req, plen + len + 1);
        memcpy(out, e->prefix, plen);
        for (size_t k = 0; k < len; k++)
            out[plen + k] = e->uppercase ? (char)toupper((unsigned char)text[k]) : text[k];
        if (vec) {
            text_embedding(text, len, vec, (size_t)e->dim);
            h->doc_set_embedding_f32(d, vec, (size_t)e->dim);
        }
        h->doc_set_text(d, out, plen + len);
        df_value *tags = h->doc_tags(d);
        h->value_put_bool(tags, "echoed", 1);
        h->value_put_string(tags, "endpoint", h->req_endpoint(req));
    }
    h->value_put_number(h->req_results(req), "indexed", (double)n);
    return DF_OK;
}

/* /search: each document gets itself as a match (scored by `limit`-capped
 * rank) and its first word as a chunk. */
static int echo_search(void *state, df_req *req)
{
    echo *e = state;
    const df_host *h = e->host;
    int64_t limit;
    int rc;
    if ((rc = h->param_int(req, "limit", 1, &limit))) return rc;
    if (limit < 0) return h->fail(req, DF_E_INVALID_INPUT, "parameters.limit must be >= 0");
    df_docs *docs = h->req_docs(req);
    for (size_t i = 0; i < h->docs_len(docs); i++) {
        df_doc *d = h->docs_get(docs, i);
        df_docs *matches = h->doc_matches(d);
        for (int64_t k = 0; k < limit; k++) {
            df_doc *m = h->doc_new(req);
            h->doc_set_str(m, DF_FIELD_PARENT_ID, df_h_doc_id(h, d));
            const char *text = df_h_doc_text(h, d);
            if (text) df_h_doc_set_text(h, m, text);
            df_score s = {1.0f / (float)(k + 1), "echo", "rank-based", df_h_doc_id(h, d)};
            h->doc_set_score(m, DF_SCORES, "echo", &s);
            h->docs_append(matches, m);
        }
        size_t len;
        const char *text = h->doc_text(d, &len);
        if (text && len) {
            size_t w = 0;
            while (w < len && text[w] != ' ')
                w++;
            df_doc *c = h->doc_new(req);
            h->doc_set_text(c, text, w);
            h->doc_set_str(c, DF_FIELD_PARENT_ID, df_h_doc_id(h, d));
            h->doc_set_num(c, DF_FIELD_GRANULARITY, 1);
            float loc[2] = {0.0f, (float)w};
            h->doc_set_location(c, loc, 2);
            h->docs_append(h->doc_chunks(d), c);
        }
    }
    return DF_OK;
}

/* /replace: answers with one new document summarising the request. */
static int echo_replace(void *state, df_req *req)
{
    echo *e = state;
    const df_host *h = e->host;
    df_docs *in = h->req_docs(req);
    df_docs *out = h->docs_new(req);
    df_doc *summary = h->doc_new(req);
    h->value_put_number(h->doc_tags(summary), "count", (double)h->docs_len(in));
    h->docs_append(out, summary);
    h->req_set_docs(req, out);
    return DF_OK;
}

/* /fail: always fails, so tests can see a handler failure end to end. */
static int echo_fail(void *state, df_req *req)
{
    echo *e = state;
    const char *why;
    int rc;
    if ((rc = e->host->param_string(req, "reason", "asked to fail", &why))) return rc;
    return e->host->fail(req, DF_E_INVALID_INPUT, "%s", why);
}

/* /single and /pairs: record the size of the batch each call saw. */
static int echo_batch_probe(void *state, df_req *req)
{
    echo *e = state;
    const df_host *h = e->host;
    df_docs *docs = h->req_docs(req);
    size_t n = h->docs_len(docs);
    for (size_t i = 0; i < n; i++)
        h->value_put_number(h->doc_tags(h->docs_get(docs, i)), "batch_len", (double)n);
    return DF_OK;
}

/* The default handler: any endpoint without a row of its own. */
static int echo_default(void *state, df_req *req)
{
    echo *e = state;
    const df_host *h = e->host;
    df_docs *docs = h->req_docs(req);
    for (size_t i = 0; i < h->docs_len(docs); i++)
        h->value_put_string(h->doc_tags(h->docs_get(docs, i)), "handled_by", "default");
    h->value_put_string(h->req_results(req), "endpoint", h->req_endpoint(req));
    return DF_OK;
}

static const df_request_def echo_requests[] = {
    DF_REQUEST("/index", echo_index),   DF_REQUEST("/update", echo_index),
    DF_REQUEST("/search", echo_search), DF_REQUEST("/replace", echo_replace),
    DF_REQUEST("/fail", echo_fail),     DF_REQUEST_SINGLE("/single", echo_batch_probe),
    DF_DEFAULT(echo_default),
};

/* A second endpoint table shape: batches of two, overridable by
 * metas.batch_size. Same handler, its own executor type. */
static const df_request_def pairs_requests[] = {
    DF_REQUEST_BATCH("/pairs", echo_batch_probe, 2),
};

static const df_executor_def echo_executors[] = {
    DF_EXECUTOR("Echo", "0.1.0", "Echoes documents back, exercising the whole executor ABI",
                echo_init, echo_close, echo_requests),
    DF_EXECUTOR("EchoPairs", "0.1.0",
                "Tags each document with the size of its batch (batches of 2)", echo_init,
                echo_close, pairs_requests),
};

DF_PLUGIN("echo", "0.1.0", echo_executors)
