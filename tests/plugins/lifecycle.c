/*
 * lifecycle.c -- a test executor that leaves traces outside the process:
 * init and close each append a line ("init" / "close") to the file named
 * by `with: marker`, so a test can count how often each ran. Its handler
 * reports the workspace, the instance name and the runtime arguments.
 * Not installed.
 */
#include <stdio.h>
#include <string.h>

#include <docflow/executor.h>

typedef struct lifecycle {
    const df_host *host;
    df_exec *exec;
    char marker[1024];
} lifecycle;

static void mark(const char *path, const char *line)
{
    FILE *f = fopen(path, "a");
    if (!f) return;
    fprintf(f, "%s\n", line);
    fclose(f);
}

static int lifecycle_init(const df_host *h, df_init *init, void **state_out)
{
    const char *marker;
    int rc;
    if ((rc = h->with_string(init, "marker", NULL, &marker))) return rc;
    if (!marker) return h->init_fail(init, DF_E_INVALID_INPUT, "with.marker is required");
    if (strlen(marker) >= sizeof(((lifecycle *)0)->marker))
        return h->init_fail(init, DF_E_INVALID_INPUT, "with.marker is too long");
    lifecycle *l = h->alloc(sizeof *l);
    l->host = h;
    l->exec = h->init_exec(init);
    strcpy(l->marker, marker);
    mark(l->marker, "init");
    *state_out = l;
    return DF_OK;
}

static void lifecycle_close(void *state)
{
    lifecycle *l = state;
    mark(l->marker, "close");
    l->host->free(l);
}

/* /info: {name, workspace, runtime: {name, shard_id, ...}, unknown_arg}. */
static int info(void *state, df_req *req)
{
    lifecycle *l = state;
    const df_host *h = l->host;
    df_value *r = h->req_results(req);
    const char *ws = h->exec_workspace(h->req_exec(req));
    h->value_put_string(r, "name", h->exec_name(l->exec));
    if (ws) h->value_put_string(r, "workspace", ws);
    df_value *rt = h->value_new_map(req);
    static const char *keys[] = {"name",   "workspace", "shard_id",
                                 "shards", "replicas",  "replica_id"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const df_value *v = h->runtime_arg(l->exec, keys[i]);
        if (v) h->value_set(rt, keys[i], v);
    }
    h->value_set(r, "runtime", rt);
    h->value_put_bool(r, "unknown_arg_is_null", h->runtime_arg(l->exec, "no_such_arg") == NULL);
    return DF_OK;
}

/* /fail: a failing handler, to show close still runs once afterwards. */
static int fail(void *state, df_req *req)
{
    lifecycle *l = state;
    return l->host->fail(req, DF_E_INVALID_INPUT, "lifecycle refuses");
}

static const df_request_def lifecycle_requests[] = {
    DF_REQUEST("/info", info),
    DF_REQUEST("/fail", fail),
};

static const df_executor_def lifecycle_executors[] = {
    DF_EXECUTOR("Lifecycle", "0.0.1", "marks init and close in a file, reports its runtime",
                lifecycle_init, lifecycle_close, lifecycle_requests),
};

DF_PLUGIN("lifecycle", "0.0.1", lifecycle_executors)
