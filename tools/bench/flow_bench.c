/*
 * flow_bench.c -- the flow runtime under load: flows of BenchNoop executors
 * (no-op handlers in a real .so) opened from YAML and driven in-process
 * through df_flow_post, as `docflow-host post --flow` and the gateway
 * drive them.
 *
 * Measured: requests/s with a window of requests in flight; end-to-end
 * latency (post to callback); the handoff between two executors from the
 * routes' timestamps (one executor's end to the next one's start); the
 * same hop as (3-executor latency - 1-executor latency) / 2; and the CPU
 * an open, idle flow burns. Not here: the timing harness (timing.c) and
 * printing (main.c).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <docflow/arena.h>
#include <docflow/buf.h>
#include <docflow/document.h>
#include <docflow/flow.h>
#include <docflow/flow_config.h>

#include "bench.h"

#ifndef BENCH_NOOP_LIBRARY
#error "BENCH_NOOP_LIBRARY must name the bench_noop executor module"
#endif

/* ========================================================================
 * Latency samples
 * ======================================================================== */

typedef struct series {
    double *v; /* microseconds */
    size_t n, cap;
} series;

static void series_add(series *s, double us)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (!s->v) abort();
    }
    s->v[s->n++] = us;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts the samples and fills p50 / p99 (0 when there are none). */
static void series_percentiles(series *s, bench_percentiles *out)
{
    *out = (bench_percentiles){0};
    if (!s->n) return;
    qsort(s->v, s->n, sizeof *s->v, cmp_double);
    out->p50 = s->v[(s->n - 1) / 2];
    out->p99 = s->v[(size_t)((double)(s->n - 1) * 0.99)];
    out->count = s->n;
}

/* ========================================================================
 * The driver: a window of requests in flight, completions counted and
 * timed in the flow's callback
 * ======================================================================== */

typedef struct flow_run flow_run;

typedef struct slot {
    flow_run *run;
    uint64_t posted_mono; /* CLOCK_MONOTONIC, for end-to-end latency */
    uint64_t posted_real; /* CLOCK_REALTIME, the routes' clock */
    size_t docs;
} slot;

struct flow_run {
    df_flow *flow;
    const df_docs *template_docs; /* deep-copied into every request */
    size_t executors;             /* routes every response must carry */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    slot slots[BENCH_MAX_IN_FLIGHT];
    slot *free_slots[BENCH_MAX_IN_FLIGHT];
    int n_free;
    int window;
    size_t completed;
    int recording;
    series e2e, hop, in, out, exec; /* while recording */
    df_error failure;               /* the first bad response */
};

static uint64_t now_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double us_between(uint64_t from, uint64_t to)
{
    return to >= from ? (double)(to - from) / 1e3 : -(double)(from - to) / 1e3;
}

/* Called on a flow thread when a request completed. Checks the response
 * (status, one route per executor, every document back), records its
 * timings, frees it and hands the slot back to the driver. */
static void on_done(void *ctx, df_flow_response *resp)
{
    uint64_t done_mono = now_ns(CLOCK_MONOTONIC), done_real = now_ns(CLOCK_REALTIME);
    slot *s = ctx;
    flow_run *r = s->run;
    pthread_mutex_lock(&r->mu);
    if (r->failure.code == DF_OK) {
        if (resp->status)
            df_error_set(&r->failure, resp->status, "request failed in %s: %s",
                         resp->error_executor ? resp->error_executor : "the flow",
                         resp->error ? resp->error : "(no message)");
        else if (resp->n_routes != r->executors)
            df_error_set(&r->failure, DF_E_INTERNAL, "response has %zu routes, expected %zu",
                         resp->n_routes, r->executors);
        else if (df_docs_len(resp->docs) != s->docs)
            df_error_set(&r->failure, DF_E_INTERNAL, "response has %zu documents, expected %zu",
                         df_docs_len(resp->docs), s->docs);
    }
    if (r->recording && r->failure.code == DF_OK) {
        const df_flow_route *rt = resp->routes;
        size_t n = resp->n_routes;
        series_add(&r->e2e, us_between(s->posted_mono, done_mono));
        series_add(&r->in, us_between(s->posted_real, rt[0].start_ns));
        series_add(&r->out, us_between(rt[n - 1].end_ns, done_real));
        for (size_t i = 0; i < n; i++) {
            series_add(&r->exec, us_between(rt[i].start_ns, rt[i].end_ns));
            if (i + 1 < n) series_add(&r->hop, us_between(rt[i].end_ns, rt[i + 1].start_ns));
        }
    }
    r->completed++;
    r->free_slots[r->n_free++] = s;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    df_flow_response_free(resp);
}

/* What a client does before posting: a request arena holding its own deep
 * copy of the documents (the flow owns the arena from the post on). */
static df_flow_request build_request(const df_docs *docs)
{
    df_arena *a = df_arena_new(0);
    df_flow_request q = {.arena = a, .endpoint = "/index", .docs = df_docs_copy(a, docs)};
    return q;
}

/* Posts requests, keeping at most `window` in flight, until `until`
 * (bench_now seconds). The next request is built while the window is
 * full, as a client producing requests would. */
static int post_until(flow_run *r, double until, df_error *err)
{
    size_t n_docs = df_docs_len(r->template_docs);
    while (bench_now() < until) {
        df_flow_request q = build_request(r->template_docs);
        pthread_mutex_lock(&r->mu);
        while (!r->n_free && r->failure.code == DF_OK)
            pthread_cond_wait(&r->cv, &r->mu);
        if (r->failure.code) {
            *err = r->failure;
            pthread_mutex_unlock(&r->mu);
            df_arena_free(q.arena);
            return err->code;
        }
        slot *s = r->free_slots[--r->n_free];
        pthread_mutex_unlock(&r->mu);
        s->docs = n_docs;
        s->posted_mono = now_ns(CLOCK_MONOTONIC);
        s->posted_real = now_ns(CLOCK_REALTIME);
        int rc = df_flow_post(r->flow, &q, on_done, s, 1, err);
        if (rc) return rc; /* the flow freed the request */
    }
    return DF_OK;
}

static size_t completed(flow_run *r)
{
    pthread_mutex_lock(&r->mu);
    size_t n = r->completed;
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* Waits until every posted request came back. */
static void drain(flow_run *r)
{
    pthread_mutex_lock(&r->mu);
    while (r->n_free < r->window)
        pthread_cond_wait(&r->cv, &r->mu);
    pthread_mutex_unlock(&r->mu);
}

static void run_reset(flow_run *r, int window)
{
    r->window = window;
    r->n_free = 0;
    for (int i = 0; i < window; i++) {
        r->slots[i].run = r;
        r->free_slots[r->n_free++] = &r->slots[i];
    }
    r->completed = 0;
    r->recording = 0;
    r->e2e.n = r->hop.n = r->in.n = r->out.n = r->exec.n = 0;
}

/* One configuration: a warm-up, then `repeat` back-to-back samples of
 * `sample_s` seconds with the window kept full throughout (no fill or
 * drain inside a sample). requests/s per sample; latencies of every
 * request completed while sampling. */
static int measure(flow_run *r, const bench_config *cfg, int window, bench_flow_figure *out,
                   df_error *err)
{
    run_reset(r, window);
    double sample_s = (double)cfg->flow_sample_ms / 1e3;
    double *rps = calloc((size_t)cfg->repeat, sizeof *rps);
    if (!rps) abort();
    int rc = post_until(r, bench_now() + (sample_s < 0.1 ? sample_s : 0.1), err);
    pthread_mutex_lock(&r->mu);
    r->recording = 1;
    pthread_mutex_unlock(&r->mu);
    size_t total = 0;
    for (int i = 0; i < cfg->repeat && !rc; i++) {
        size_t c0 = completed(r);
        double t0 = bench_now();
        rc = post_until(r, t0 + sample_s, err);
        size_t c1 = completed(r);
        double t1 = bench_now();
        rps[i] = (double)(c1 - c0) / (t1 - t0);
        total += c1 - c0;
    }
    pthread_mutex_lock(&r->mu);
    r->recording = 0;
    pthread_mutex_unlock(&r->mu);
    drain(r);
    if (!rc && r->failure.code) rc = (*err = r->failure).code;
    if (!rc) {
        /* bench_summarize works on times; requests/s sorts the same way
         * reversed, so take the median and maximum directly. */
        qsort(rps, (size_t)cfg->repeat, sizeof *rps, cmp_double);
        int n = cfg->repeat;
        out->rps_median = n % 2 ? rps[n / 2] : (rps[n / 2 - 1] + rps[n / 2]) / 2;
        out->rps_best = rps[n - 1];
        out->requests = total;
        series_percentiles(&r->e2e, &out->e2e);
        series_percentiles(&r->hop, &out->hop);
        series_percentiles(&r->in, &out->in);
        series_percentiles(&r->out, &out->out);
        series_percentiles(&r->exec, &out->exec);
    }
    free(rps);
    return rc;
}

/* ========================================================================
 * Flows and documents
 * ======================================================================== */

static uint32_t xorshift32(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

/* The codec benchmark's documents: a 50-character text and a `dim`-float
 * embedding with full-precision values. */
static df_docs *make_docs(df_arena *a, size_t n, const bench_config *cfg)
{
    static const char words[] = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do ";
    df_docs *docs = df_docs_new(a);
    char *text = df_arena_alloc(a, cfg->text_len + 1);
    float *vec = df_arena_alloc(a, cfg->dim * sizeof *vec);
    uint32_t seed = 0x9e3779b9u;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < cfg->text_len; j++)
            text[j] = words[(i * 7 + j) % (sizeof words - 1)];
        for (size_t j = 0; j < cfg->dim; j++)
            vec[j] = (float)((int32_t)xorshift32(&seed) >> 8) / (float)(1 << 23);
        df_doc *d = df_doc_new(a);
        df_doc_set_text(d, text, cfg->text_len);
        df_doc_set_embedding_f32(d, vec, cfg->dim);
        df_docs_append(docs, d);
    }
    return docs;
}

typedef struct open_flow {
    df_arena *arena;
    df_flow_config *cfg;
    df_flow *flow;
} open_flow;

/* `n` BenchNoop executors in a chain (each needs the previous one). */
static int flow_open_chain(open_flow *o, size_t n, df_error *err)
{
    memset(o, 0, sizeof *o);
    df_buf y = DF_BUF_INIT;
    df_buf_printf(&y, "jtype: Flow\nwith: {prefetch: %d}\nexecutors:\n", BENCH_MAX_IN_FLIGHT * 2);
    for (size_t i = 0; i < n; i++)
        df_buf_printf(&y,
                      "  - name: noop%zu\n"
                      "    uses: {jtype: BenchNoop, metas: {library: %s}}\n",
                      i, BENCH_NOOP_LIBRARY);
    o->arena = df_arena_new(0);
    o->cfg = df_flow_config_parse(o->arena, y.data, y.len, "bench-flow.yml", NULL, err);
    df_buf_free(&y);
    if (o->cfg) o->flow = df_flow_open(o->cfg, err);
    if (o->flow) return DF_OK;
    df_error_prefix(err, "opening a flow of %zu BenchNoop executors", n);
    df_flow_config_free(o->cfg);
    df_arena_free(o->arena);
    memset(o, 0, sizeof *o);
    return err->code ? err->code : DF_E_INTERNAL;
}

static void flow_close_chain(open_flow *o)
{
    df_flow_close(o->flow, 0);
    df_flow_config_free(o->cfg);
    df_arena_free(o->arena);
}

/* ========================================================================
 * Idle CPU and the client's own cost
 * ======================================================================== */

static double timeval_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
}

/* CPU the whole process (every flow thread) uses while this thread sleeps
 * `ms` milliseconds with the flow open and nothing in flight. */
static void measure_idle(unsigned ms, bench_idle *out)
{
    struct rusage a, b;
    getrusage(RUSAGE_SELF, &a);
    double t0 = bench_now();
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
    double wall = bench_now() - t0;
    getrusage(RUSAGE_SELF, &b);
    out->wall_s = wall;
    out->user_s = timeval_s(b.ru_utime) - timeval_s(a.ru_utime);
    out->sys_s = timeval_s(b.ru_stime) - timeval_s(a.ru_stime);
    out->cpu_percent = wall > 0 ? (out->user_s + out->sys_s) / wall * 100 : 0;
    /* This thread's own sleep is one voluntary switch. */
    out->wakeups = b.ru_nvcsw - a.ru_nvcsw + b.ru_nivcsw - a.ru_nivcsw;
}

typedef struct build_ctx {
    const df_docs *docs;
} build_ctx;

static int build_step(void *ctx)
{
    df_flow_request q = build_request(((build_ctx *)ctx)->docs);
    df_arena_free(q.arena);
    return 0;
}

/* ========================================================================
 * The benchmark
 * ======================================================================== */

int bench_flow(const bench_config *cfg, bench_flow_report *rep, df_error *err)
{
    memset(rep, 0, sizeof *rep);
    df_arena *a = df_arena_new(0);
    const size_t sizes[2] = {1, cfg->flow_docs};
    const df_docs *docs[2] = {make_docs(a, sizes[0], cfg), make_docs(a, sizes[1], cfg)};
    const int windows[2] = {1, cfg->flow_window};
    flow_run run = {.failure = DF_ERROR_INIT};
    pthread_mutex_init(&run.mu, NULL);
    pthread_cond_init(&run.cv, NULL);
    open_flow chain3 = {0}, chain1 = {0};
    int rc = flow_open_chain(&chain3, 3, err);
    if (!rc) rc = flow_open_chain(&chain1, 1, err);

    /* The 3-executor flow: {1, N} documents x {1, W} in flight. */
    for (int s = 0; s < 2 && !rc; s++)
        for (int w = 0; w < 2 && !rc; w++) {
            bench_flow_figure *f = &rep->figures[rep->n_figures++];
            f->executors = 3;
            f->docs = sizes[s];
            f->in_flight = windows[w];
            run.flow = chain3.flow;
            run.template_docs = docs[s];
            run.executors = 3;
            rc = measure(&run, cfg, windows[w], f, err);
        }
    /* The 1-executor flow, for (3-executor - 1-executor) / 2 per hop. */
    for (int w = 0; w < 2 && !rc; w++) {
        bench_flow_figure *f = &rep->figures[rep->n_figures++];
        f->executors = 1;
        f->docs = 1;
        f->in_flight = windows[w];
        run.flow = chain1.flow;
        run.template_docs = docs[0];
        run.executors = 1;
        rc = measure(&run, cfg, windows[w], f, err);
    }
    if (!rc) {
        /* figures[0]: 3 executors, 1 doc, 1 in flight; [4]: 1 executor. */
        rep->hop_diff.p50 = (rep->figures[0].e2e.p50 - rep->figures[4].e2e.p50) / 2;
        rep->hop_diff.p99 = (rep->figures[0].e2e.p99 - rep->figures[4].e2e.p99) / 2;
        rep->hop_diff.count = rep->figures[0].e2e.count;
    }
    /* The client's share: building one request (arena + deep copy). */
    for (int s = 0; s < 2 && !rc; s++) {
        build_ctx b = {docs[s]};
        bench_timing t;
        rc = bench_time(build_step, &b, cfg->repeat, 0, &t);
        rep->build_us[s] = t.median * 1e6;
    }
    /* Idle: both flows open, warmed up, nothing in flight (7 threads). */
    if (!rc) measure_idle(cfg->flow_idle_ms, &rep->idle);

    if (chain1.flow) flow_close_chain(&chain1);
    if (chain3.flow) flow_close_chain(&chain3);
    free(run.e2e.v);
    free(run.hop.v);
    free(run.in.v);
    free(run.out.v);
    free(run.exec.v);
    pthread_cond_destroy(&run.cv);
    pthread_mutex_destroy(&run.mu);
    df_arena_free(a);
    return rc;
}
