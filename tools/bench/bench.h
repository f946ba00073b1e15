/*
 * bench.h -- what the parts of docflow-bench share: the run configuration,
 * the timing harness and one measured figure per benchmark.
 *
 * Not a library: nothing outside tools/bench includes this.
 */
#ifndef DOCFLOW_BENCH_H
#define DOCFLOW_BENCH_H

#include <stddef.h>

#include <docflow/error.h>

/* What one run measures; filled from the command line. */
typedef struct bench_config {
    size_t docs;     /* documents per batch */
    size_t dim;      /* floats per embedding */
    size_t text_len; /* characters of text per document */
    int repeat;      /* timed samples per measurement; the median is reported */
    size_t calls;    /* df_executor_call invocations per dispatch sample */
    /* --flow */
    size_t flow_docs;        /* documents per request of the large requests (100) */
    int flow_window;         /* requests in flight of the concurrent runs (16) */
    unsigned flow_sample_ms; /* length of one timed sample */
    unsigned flow_idle_ms;   /* how long the idle flow is watched */
} bench_config;

/* Seconds per iteration over the timed samples (warm-up excluded). */
typedef struct bench_timing {
    double median;
    double min;
    size_t iterations; /* iterations per sample */
    int samples;
} bench_timing;

/* One benchmark: an iteration processes `docs` documents and `bytes` bytes
 * of their serialized form (for dispatch: `docs` = calls, `bytes` = 0). */
typedef struct bench_figure {
    const char *key;   /* machine-readable name, "pb_encode" */
    const char *label; /* table label, "protobuf encode (docflow)" */
    bench_timing timing;
    size_t docs;
    size_t bytes;
} bench_figure;

/* One iteration of a benchmark: 0, or nonzero after recording the failure
 * in its context (a failed decode must stop the run, not be timed). */
typedef int (*bench_step)(void *ctx);

/* CLOCK_MONOTONIC in seconds. */
double bench_now(void);

/* Warms up `step` (caches, allocator, branch predictors) and returns in
 * *iterations how many iterations fill a sample of about 0.1 s, so short
 * steps are not lost in clock resolution. 0, or the step's nonzero result. */
int bench_warm_up(bench_step step, void *ctx, size_t *iterations);

/* One timed sample: `iterations` iterations after one untimed one (which
 * re-warms the caches another benchmark's sample may have taken). Stores
 * seconds per iteration. 0, or the step's nonzero result. */
int bench_sample(bench_step step, void *ctx, size_t iterations, double *seconds);

/* Median and minimum of n samples (reorders them). */
void bench_summarize(double *samples, int n, size_t iterations, bench_timing *out);

/* Warm-up, then `repeat` samples of `iterations` iterations each (0: as
 * bench_warm_up suggests). 0, or the step's nonzero result. */
int bench_time(bench_step step, void *ctx, int repeat, size_t iterations, bench_timing *out);

/* MB/s (1 MB = 1e6 bytes) and documents/s at the median and at the best
 * (minimum-time) sample. */
double bench_mb_per_s(const bench_figure *f, int best);
double bench_docs_per_s(const bench_figure *f, int best);

/* The codec figures, in this order in `out`. */
enum {
    BENCH_PB_ENCODE,
    BENCH_PB_ENCODE_REF,
    BENCH_PB_DECODE,
    BENCH_PB_DECODE_REF,
    BENCH_JSON_ENCODE,
    BENCH_JSON_DECODE,
    BENCH_CODEC_COUNT
};

/* Builds the documents, checks that every codec round-trips them, then
 * measures our protobuf and JSON codecs and plain protobuf-c on the same
 * messages. `*pb_identical` says whether our protobuf bytes equal
 * protobuf-c's. DF_OK or an error (a failed decode, a round trip that
 * changed the documents). */
int bench_codecs(const bench_config *cfg, bench_figure out[BENCH_CODEC_COUNT], int *pb_identical,
                 df_error *err);

/* Loads the no-op executor and measures df_executor_call on a one-document
 * request. DF_OK or an error (loading failed, a call failed). */
int bench_dispatch(const bench_config *cfg, bench_figure *out, df_error *err);

/* Most requests --in-flight may keep in flight. */
#define BENCH_MAX_IN_FLIGHT 64

/* p50 and p99 of `count` samples, in microseconds. */
typedef struct bench_percentiles {
    double p50, p99;
    size_t count;
} bench_percentiles;

/* One flow configuration: `executors` BenchNoop executors in a chain,
 * requests of `docs` documents, `in_flight` of them kept in flight. */
typedef struct bench_flow_figure {
    int executors;
    size_t docs;
    int in_flight;
    double rps_median, rps_best; /* requests/s over the samples */
    size_t requests;             /* completed in the timed samples */
    bench_percentiles e2e;       /* df_flow_post to the done callback */
    bench_percentiles hop;       /* routes: end of executor i to start of i+1 */
    bench_percentiles in;        /* df_flow_post to the first executor's start */
    bench_percentiles out;       /* the last executor's end to the callback */
    bench_percentiles exec;      /* routes: an executor's start to its end */
} bench_flow_figure;

/* CPU of the process while the flows sit open and idle. */
typedef struct bench_idle {
    double wall_s, user_s, sys_s;
    double cpu_percent; /* of one core */
    long wakeups;       /* context switches of every thread */
} bench_idle;

typedef struct bench_flow_report {
    /* 3 executors: {1, flow_docs} docs x {1, flow_window} in flight, then
     * 1 executor, 1 doc, {1, flow_window} in flight. */
    bench_flow_figure figures[6];
    int n_figures;
    bench_percentiles hop_diff; /* (e2e of 3 executors - e2e of 1) / 2, 1 doc, 1 in flight */
    double build_us[2];         /* building a request of 1 / flow_docs documents */
    bench_idle idle;
} bench_flow_report;

/* Opens flows of 3 and of 1 BenchNoop executors from YAML, drives them
 * in-process with df_flow_post and measures throughput, latency per hop
 * and idle CPU. DF_OK or an error (a flow that would not open, a request
 * that failed or came back with the wrong documents or routes). */
int bench_flow(const bench_config *cfg, bench_flow_report *rep, df_error *err);

/* docflow-bench --indexer (indexer_bench.c): the VectorIndexer benchmark,
 * with a command line of its own (argv[1] is "--indexer"). Returns the
 * exit status. */
int bench_indexer_main(int argc, char **argv);

#endif
