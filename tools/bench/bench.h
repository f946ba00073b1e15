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

#endif
