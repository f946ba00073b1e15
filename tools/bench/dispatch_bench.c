/*
 * dispatch_bench.c -- the host's per-call overhead: a no-op handler of a
 * really loaded executor (.so) called through df_executor_call with a
 * one-document request, as the flow runtime calls every executor.
 */
#include <docflow/arena.h>
#include <docflow/document.h>
#include <docflow/executor_config.h>
#include <docflow/executor_runtime.h>

#include "bench.h"

/* The BenchNoop executor built next to this tool (tools/CMakeLists.txt). */
#ifndef BENCH_NOOP_LIBRARY
#error "BENCH_NOOP_LIBRARY must name the bench_noop executor module"
#endif

typedef struct dispatch_run {
    df_executor *ex;
    df_call call;
    size_t calls;
    df_error err;
} dispatch_run;

/* One iteration is the whole batch of calls: a harness call per dispatch
 * would add its own indirect call to what is measured. */
static int dispatch_step(void *ctx)
{
    dispatch_run *r = ctx;
    for (size_t i = 0; i < r->calls; i++) {
        int rc = df_executor_call(r->ex, &r->call, &r->err);
        if (rc) return rc;
    }
    if (r->call.skipped)
        return df_error_set(&r->err, DF_E_INTERNAL,
                            "BenchNoop skipped %s: the handler was never called", r->call.endpoint);
    return 0;
}

static df_executor *open_noop(df_arena *a, df_error *err)
{
    df_executor_config *cfg = df_executor_config_for_jtype(a, "BenchNoop", NULL);
    df_executor_options opt = DF_EXECUTOR_OPTIONS_INIT;
    opt.name = "bench-noop";
    opt.library = BENCH_NOOP_LIBRARY;
    df_executor *ex = df_executor_open(cfg, &opt, err);
    if (!ex) df_error_prefix(err, "loading %s", BENCH_NOOP_LIBRARY);
    return ex;
}

int bench_dispatch(const bench_config *cfg, bench_figure *out, df_error *err)
{
    df_arena *a = df_arena_new(0);
    dispatch_run r = {.calls = cfg->calls, .err = DF_ERROR_INIT};
    int rc = DF_OK;
    if (!(r.ex = open_noop(a, err))) {
        rc = err->code;
        goto done;
    }
    r.call.arena = a;
    r.call.endpoint = "/index";
    r.call.docs = df_docs_new(a);
    df_docs_append(r.call.docs, df_doc_new(a));
    out->key = "dispatch";
    out->label = "df_executor_call, no-op handler";
    out->docs = cfg->calls;
    out->bytes = 0;
    /* One iteration per sample: the iteration is already `calls` calls. */
    if ((rc = bench_time(dispatch_step, &r, cfg->repeat, 1, &out->timing))) {
        *err = r.err;
        if (err->code == DF_OK) rc = df_error_set(err, DF_E_INTERNAL, "dispatch benchmark failed");
    }
done:
    df_executor_close(r.ex);
    df_arena_free(a);
    return rc;
}
