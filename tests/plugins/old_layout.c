/*
 * old_layout.c -- a plugin built with an older, shorter request row: its
 * own {endpoint, method, handler} struct without the batch policy, with
 * request_size = sizeof that struct. The host walks rows with this stride
 * and must treat every row as DF_BATCH_WHOLE. Its handler tags each
 * document with the size of the array it saw. Not installed.
 */
#include <docflow/executor.h>

/* The request row of an earlier ABI 1 draft. */
typedef struct old_request_def {
    const char *endpoint;
    const char *method;
    df_handler handler;
} old_request_def;

typedef struct old_layout {
    const df_host *host;
} old_layout;

static int old_init(const df_host *h, df_init *init, void **state_out)
{
    (void)init;
    old_layout *o = h->alloc(sizeof *o);
    o->host = h;
    *state_out = o;
    return DF_OK;
}

static void old_close(void *state)
{
    old_layout *o = state;
    o->host->free(o);
}

static int tag_seen(void *state, df_req *req, const char *who)
{
    const df_host *h = ((old_layout *)state)->host;
    df_docs *docs = h->req_docs(req);
    size_t n = h->docs_len(docs);
    for (size_t i = 0; i < n; i++) {
        df_value *tags = h->doc_tags(h->docs_get(docs, i));
        h->value_put_number(tags, "seen", (double)n);
        h->value_put_string(tags, "by", who);
    }
    return DF_OK;
}

static int old_index(void *state, df_req *req)
{
    return tag_seen(state, req, "old_index");
}
static int old_default(void *state, df_req *req)
{
    return tag_seen(state, req, "old_default");
}

static const old_request_def old_requests[] = {
    {"/index", "old_index", old_index},
    {NULL, "old_default", old_default},
};

static const df_executor_def executors[] = {
    {sizeof(df_executor_def), "OldLayout", "0.0.1", "request rows without a batch policy", old_init,
     old_close, 2, sizeof(old_request_def), (const df_request_def *)(const void *)old_requests},
};

DF_PLUGIN("old_layout", "0.0.1", executors)
