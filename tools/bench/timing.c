/*
 * timing.c -- the timing harness of docflow-bench: warm-up, timed samples,
 * median and minimum. Knows nothing of documents.
 */
#include <stdlib.h>
#include <time.h>

#include "bench.h"

/* Long enough that timer resolution and a stray interrupt are noise, short
 * enough that a full run stays within seconds. */
#define SAMPLE_SECONDS 0.1
#define WARMUP_SECONDS 0.1

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int bench_warm_up(bench_step step, void *ctx, size_t *iterations)
{
    size_t n = 0;
    double start = bench_now(), elapsed;
    do {
        int rc = step(ctx);
        if (rc) return rc;
        n++;
        elapsed = bench_now() - start;
    } while (elapsed < WARMUP_SECONDS || n < 2);
    double per_iteration = elapsed / (double)n;
    double want = SAMPLE_SECONDS / (per_iteration > 0 ? per_iteration : 1e-9);
    *iterations = want < 1 ? 1 : (size_t)want + 1;
    return 0;
}

int bench_sample(bench_step step, void *ctx, size_t iterations, double *seconds)
{
    int rc = step(ctx);
    if (rc) return rc;
    double start = bench_now();
    for (size_t i = 0; i < iterations; i++)
        if ((rc = step(ctx))) return rc;
    *seconds = (bench_now() - start) / (double)iterations;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void bench_summarize(double *samples, int n, size_t iterations, bench_timing *out)
{
    qsort(samples, (size_t)n, sizeof *samples, cmp_double);
    out->min = samples[0];
    /* Even counts average the middle pair, as a median does. */
    out->median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
    out->iterations = iterations;
    out->samples = n;
}

int bench_time(bench_step step, void *ctx, int repeat, size_t iterations, bench_timing *out)
{
    size_t suggested;
    int rc = bench_warm_up(step, ctx, &suggested);
    if (rc) return rc;
    if (!iterations) iterations = suggested;
    double *samples = malloc((size_t)repeat * sizeof *samples);
    if (!samples) return -1;
    for (int r = 0; r < repeat && !rc; r++)
        rc = bench_sample(step, ctx, iterations, &samples[r]);
    if (!rc) bench_summarize(samples, repeat, iterations, out);
    free(samples);
    return rc;
}

static double seconds(const bench_figure *f, int best)
{
    return best ? f->timing.min : f->timing.median;
}

double bench_mb_per_s(const bench_figure *f, int best)
{
    double s = seconds(f, best);
    return s > 0 ? (double)f->bytes / 1e6 / s : 0;
}

double bench_docs_per_s(const bench_figure *f, int best)
{
    double s = seconds(f, best);
    return s > 0 ? (double)f->docs / s : 0;
}
