/*
 * bindings.c -- test executors for Jina's endpoint binding rules, shaped
 * after the Jina docs example (foo on /index, bar on /random_work, a bare
 * @requests default). Every handler tags each document `called: <method>`
 * and writes {handler, endpoint, n} into its results, so a test can tell
 * exactly which handler ran for which endpoint. Not installed.
 */
#include <docflow/executor.h>

typedef struct bindings {
    const df_host *host;
} bindings;

static int bindings_init(const df_host *h, df_init *init, void **state_out)
{
    (void)init;
    bindings *b = h->alloc(sizeof *b);
    b->host = h;
    *state_out = b;
    return DF_OK;
}

static void bindings_close(void *state)
{
    bindings *b = state;
    b->host->free(b);
}

static int record(void *state, df_req *req, const char *method)
{
    const df_host *h = ((bindings *)state)->host;
    df_docs *docs = h->req_docs(req);
    for (size_t i = 0; i < h->docs_len(docs); i++)
        h->value_put_string(h->doc_tags(h->docs_get(docs, i)), "called", method);
    df_value *r = h->req_results(req);
    h->value_put_string(r, "handler", method);
    h->value_put_string(r, "endpoint", h->req_endpoint(req));
    h->value_put_number(r, "n", (double)h->docs_len(docs));
    return DF_OK;
}

static int foo(void *state, df_req *req)
{
    return record(state, req, "foo");
}
static int bar(void *state, df_req *req)
{
    return record(state, req, "bar");
}
static int qux(void *state, df_req *req)
{
    return record(state, req, "qux");
}
static int baz(void *state, df_req *req)
{
    return record(state, req, "baz");
}

/* @requests(on='/index') foo; @requests(on='/random_work') bar;
 * @requests(on=['/search', '/query']) qux; @requests baz. */
static const df_request_def with_default[] = {
    DF_REQUEST("/index", foo),
    DF_REQUEST("/random_work", bar),
    DF_REQUEST("/search", qux),
    DF_REQUEST("/query", qux),
    DF_DEFAULT(baz),
};

/* The same without the default handler. */
static const df_request_def without_default[] = {
    DF_REQUEST("/index", foo),
    DF_REQUEST("/random_work", bar),
};

static const df_executor_def bindings_executors[] = {
    DF_EXECUTOR("Bindings", "0.0.1", "foo, bar, qux and a default handler baz", bindings_init,
                bindings_close, with_default),
    DF_EXECUTOR("NoDefault", "0.0.1", "foo and bar, no default handler", bindings_init,
                bindings_close, without_default),
};

DF_PLUGIN("bindings", "0.0.1", bindings_executors)
