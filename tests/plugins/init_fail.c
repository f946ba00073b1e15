/*
 * init_fail.c -- test executors for init: one that fails with a message,
 * one that returns a code without one, and one that reads typed `with:`
 * arguments (so a YAML fixture with a wrong type makes init fail in the
 * host's typed reader). Not installed.
 */
#include <docflow/executor.h>

typedef struct with_typed {
    const df_host *host;
    int64_t dim;
    double ratio;
    int flag;
    char label[32];
    double n_with;
    char metas_name[32];
} with_typed;

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    for (; src && src[i] && i + 1 < cap; i++)
        dst[i] = src[i];
    dst[i] = '\0';
}

static int init_fail_init(const df_host *h, df_init *init, void **state_out)
{
    (void)state_out;
    return h->init_fail(init, DF_E_NOT_FOUND, "model file %s is missing", "model.bin");
}

static int init_silent_init(const df_host *h, df_init *init, void **state_out)
{
    (void)h;
    (void)init;
    (void)state_out;
    return DF_E_IO;
}

static int with_typed_init(const df_host *h, df_init *init, void **state_out)
{
    int64_t dim;
    const char *label;
    int flag;
    double ratio;
    int rc;
    if ((rc = h->with_int(init, "dim", 4, &dim))) return rc;
    if ((rc = h->with_string(init, "label", "none", &label))) return rc;
    if ((rc = h->with_bool(init, "flag", 0, &flag))) return rc;
    if ((rc = h->with_float(init, "ratio", 0.5, &ratio))) return rc;
    with_typed *w = h->alloc(sizeof *w);
    w->host = h;
    w->dim = dim;
    w->ratio = ratio;
    w->flag = flag;
    copy_str(w->label, sizeof w->label, label);
    w->n_with = (double)h->value_len(h->with_all(init));
    copy_str(w->metas_name, sizeof w->metas_name,
             h->value_string(h->value_get(h->metas(init), "name"), NULL));
    *state_out = w;
    return DF_OK;
}

static void with_typed_close(void *state)
{
    with_typed *w = state;
    w->host->free(w);
}

/* Never reached: init of InitFail and InitSilent always fails. */
static void nothing_close(void *state)
{
    (void)state;
}

static int nothing(void *state, df_req *req)
{
    (void)state;
    (void)req;
    return DF_OK;
}

/* Any endpoint: {dim, label, flag, ratio, n_with, metas_name} as results. */
static int show(void *state, df_req *req)
{
    with_typed *w = state;
    const df_host *h = w->host;
    df_value *r = h->req_results(req);
    h->value_put_number(r, "dim", (double)w->dim);
    h->value_put_string(r, "label", w->label);
    h->value_put_bool(r, "flag", w->flag);
    h->value_put_number(r, "ratio", w->ratio);
    h->value_put_number(r, "n_with", w->n_with);
    h->value_put_string(r, "metas_name", w->metas_name);
    return DF_OK;
}

static const df_request_def nothing_requests[] = {DF_DEFAULT(nothing)};
static const df_request_def show_requests[] = {DF_DEFAULT(show)};

static const df_executor_def init_fail_executors[] = {
    DF_EXECUTOR("InitFail", "0.0.1", "init fails with a message", init_fail_init, nothing_close,
                nothing_requests),
    DF_EXECUTOR("InitSilent", "0.0.1", "init returns DF_E_IO without a message", init_silent_init,
                nothing_close, nothing_requests),
    DF_EXECUTOR("WithTyped", "0.0.1", "reads typed with: arguments", with_typed_init,
                with_typed_close, show_requests),
};

DF_PLUGIN("init_fail", "0.0.1", init_fail_executors)
