/*
 * returns.c -- a test executor for Jina's return semantics (in place,
 * replacement, results), the batch policies, handler failures and typed
 * parameters. Batched handlers record the size of every batch they see in
 * their results as {"0": n0, "1": n1, ...}, in call order. Not installed.
 */
#include <stdio.h>

#include <docflow/executor.h>

typedef struct returns {
    const df_host *host;
} returns;

static int returns_init(const df_host *h, df_init *init, void **state_out)
{
    (void)init;
    returns *r = h->alloc(sizeof *r);
    r->host = h;
    *state_out = r;
    return DF_OK;
}

static void returns_close(void *state)
{
    returns *r = state;
    r->host->free(r);
}

static const df_host *host_of(void *state)
{
    return ((returns *)state)->host;
}

/* /inplace: appends "!" to every text. */
static int inplace(void *state, df_req *req)
{
    const df_host *h = host_of(state);
    df_docs *docs = h->req_docs(req);
    for (size_t i = 0; i < h->docs_len(docs); i++) {
        df_doc *d = h->docs_get(docs, i);
        size_t len;
        const char *text = h->doc_text(d, &len);
        char *out = h->req_alloc(req, len + 2);
        for (size_t k = 0; k < len; k++)
            out[k] = text[k];
        out[len] = '!';
        out[len + 1] = '\0';
        h->doc_set_text(d, out, len + 1);
    }
    return DF_OK;
}

/* /replace (whole) and /replace_pairs (batches of 2): the call's documents
 * become one new document tagged with how many it replaced. */
static int replace(void *state, df_req *req)
{
    const df_host *h = host_of(state);
    df_docs *out = h->docs_new(req);
    df_doc *summary = h->doc_new(req);
    df_h_doc_set_text(h, summary, "summary");
    h->value_put_number(h->doc_tags(summary), "count", (double)h->docs_len(h->req_docs(req)));
    h->docs_append(out, summary);
    h->req_set_docs(req, out);
    return DF_OK;
}

/* /results: {count, first_text} into __results__[executor name]. */
static int results(void *state, df_req *req)
{
    const df_host *h = host_of(state);
    df_docs *docs = h->req_docs(req);
    df_value *r = h->req_results(req);
    h->value_put_number(r, "count", (double)h->docs_len(docs));
    const char *first = h->docs_len(docs) ? df_h_doc_text(h, h->docs_get(docs, 0)) : NULL;
    h->value_put_string(r, "first_text", first ? first : "");
    return DF_OK;
}

/* /single, /pairs: records the batch size and tags each document. */
static int batch_probe(void *state, df_req *req)
{
    const df_host *h = host_of(state);
    df_docs *docs = h->req_docs(req);
    size_t n = h->docs_len(docs);
    df_value *r = h->req_results(req);
    char key[24];
    snprintf(key, sizeof key, "%zu", h->value_len(r));
    h->value_put_number(r, key, (double)n);
    for (size_t i = 0; i < n; i++)
        h->value_put_number(h->doc_tags(h->docs_get(docs, i)), "batch_len", (double)n);
    return DF_OK;
}

/* /fail: a failure with a message and a specific code. */
static int fail(void *state, df_req *req)
{
    return host_of(state)->fail(req, DF_E_NOT_FOUND, "no document with id %s", "abc");
}

/* /fail_silent: a code without calling fail. */
static int fail_silent(void *state, df_req *req)
{
    (void)state;
    (void)req;
    return DF_E_IO;
}

/* /fail_after_edit: changes the texts in place, then fails. */
static int fail_after_edit(void *state, df_req *req)
{
    const df_host *h = host_of(state);
    df_docs *docs = h->req_docs(req);
    for (size_t i = 0; i < h->docs_len(docs); i++)
        df_h_doc_set_text(h, h->docs_get(docs, i), "edited");
    return h->fail(req, DF_E_INVALID_INPUT, "failed after editing");
}

/* /fail_twice: the first message of a request wins. */
static int fail_twice(void *state, df_req *req)
{
    const df_host *h = host_of(state);
    h->fail(req, DF_E_TIMEOUT, "first");
    return h->fail(req, DF_E_IO, "second");
}

/* /fail_ok_code: fail() with DF_OK still fails, as DF_E_INTERNAL. */
static int fail_ok_code(void *state, df_req *req)
{
    return host_of(state)->fail(req, DF_OK, "code was ok");
}

/* /fail_second_batch (batches of 2): fails on the second batch. */
static int fail_second_batch(void *state, df_req *req)
{
    const df_host *h = host_of(state);
    df_value *r = h->req_results(req);
    if (h->value_len(r) >= 1) return h->fail(req, DF_E_INVALID_INPUT, "second batch refused");
    return batch_probe(state, req);
}

/* /params: typed reads of limit, mode, ratio, flag, echoed into results. */
static int params(void *state, df_req *req)
{
    const df_host *h = host_of(state);
    int64_t limit;
    const char *mode;
    double ratio;
    int flag;
    int rc;
    if ((rc = h->param_int(req, "limit", 10, &limit))) return rc;
    if ((rc = h->param_string(req, "mode", "fast", &mode))) return rc;
    if ((rc = h->param_float(req, "ratio", 0.5, &ratio))) return rc;
    if ((rc = h->param_bool(req, "flag", 0, &flag))) return rc;
    df_value *r = h->req_results(req);
    h->value_put_number(r, "limit", (double)limit);
    h->value_put_string(r, "mode", mode);
    h->value_put_number(r, "ratio", ratio);
    h->value_put_bool(r, "flag", flag);
    h->value_put_number(r, "n_parameters", (double)h->value_len(h->req_parameters(req)));
    return DF_OK;
}

static const df_request_def returns_requests[] = {
    DF_REQUEST("/inplace", inplace),
    DF_REQUEST("/replace", replace),
    {"/replace_pairs", "replace", replace, {DF_BATCH_N, 2}},
    DF_REQUEST("/results", results),
    DF_REQUEST_SINGLE("/single", batch_probe),
    {"/pairs", "batch_probe", batch_probe, {DF_BATCH_N, 2}},
    {"/whole", "batch_probe", batch_probe, {DF_BATCH_WHOLE, 0}},
    DF_REQUEST("/fail", fail),
    DF_REQUEST("/fail_silent", fail_silent),
    DF_REQUEST("/fail_after_edit", fail_after_edit),
    DF_REQUEST("/fail_twice", fail_twice),
    DF_REQUEST("/fail_ok_code", fail_ok_code),
    DF_REQUEST_BATCH("/fail_second_batch", fail_second_batch, 2),
    DF_REQUEST("/params", params),
};

static const df_executor_def returns_executors[] = {
    DF_EXECUTOR("Returns", "0.0.1", "return semantics, batch policies, failures, parameters",
                returns_init, returns_close, returns_requests),
};

DF_PLUGIN("returns", "0.0.1", returns_executors)
