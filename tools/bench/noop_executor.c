/*
 * noop_executor.c -- BenchNoop, the executor docflow-bench calls to measure
 * the host's dispatch overhead: its handlers do nothing but count, so what
 * a call costs is the host's share alone.
 *
 * Built into the build tree for the benchmark only; never installed.
 */
#include <docflow/executor.h>

typedef struct noop {
    const df_host *host;
    unsigned long calls; /* a side effect, so the call is a real one */
} noop;

static int noop_init(const df_host *h, df_init *init, void **state_out)
{
    (void)init;
    noop *n = h->alloc(sizeof *n);
    n->host = h;
    n->calls = 0;
    *state_out = n;
    return DF_OK;
}

static void noop_close(void *state)
{
    noop *n = state;
    n->host->free(n);
}

static int noop_call(void *state, df_req *req)
{
    (void)req;
    ((noop *)state)->calls++;
    return DF_OK;
}

/* A bound endpoint (what the benchmark calls) and a default, as most real
 * executors have: the lookup walks a realistic table. */
static const df_request_def noop_requests[] = {
    DF_REQUEST("/index", noop_call),
    DF_DEFAULT(noop_call),
};

static const df_executor_def noop_executors[] = {
    DF_EXECUTOR("BenchNoop", "1.0.0", "does nothing; measures the host's per-call overhead",
                noop_init, noop_close, noop_requests),
};

DF_PLUGIN("bench_noop", "1.0.0", noop_executors)
