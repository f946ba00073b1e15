/*
 * timing.c -- the timing harness of docflow-bench: warm-up, repeated
 * samples, median and minimum. Knows nothing of documents.
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Warm caches, the allocator and the branch predictors; returns the mean
 * seconds per iteration seen meanwhile (to size the samples). */
static int warm_up(bench_step step, void *ctx, double *per_iteration)
{
    size_t n = 0;
    double start = bench_now(), elapsed;
    do {
        int rc = step(ctx);
        if (rc) return rc;
        n++;
        elapsed = bench_now() - start;
    } while (elapsed < WARMUP_SECONDS || n < 2);
    *per_iteration = elapsed / (double)n;
    return 0;
}

int bench_time(bench_step step, void *ctx, int repeat, size_t iterations, bench_timing *out)
{
    double per_iteration;
    int rc = warm_up(step, ctx, &per_iteration);
    if (rc) return rc;
    if (!iterations) {
        double want = SAMPLE_SECONDS / (per_iteration > 0 ? per_iteration : 1e-9);
        iterations = want < 1 ? 1 : (size_t)want + 1;
    }
    double *samples = malloc((size_t)repeat * sizeof *samples);
    if (!samples) return -1;
    for (int r = 0; r < repeat; r++) {
        double start = bench_now();
        for (size_t i = 0; i < iterations; i++)
            if ((rc = step(ctx))) goto done;
        samples[r] = (bench_now() - start) / (double)iterations;
    }
    qsort(samples, (size_t)repeat, sizeof *samples, cmp_double);
    out->min = samples[0];
    /* Even counts average the middle pair, as a median does. */
    out->median =
        repeat % 2 ? samples[repeat / 2] : (samples[repeat / 2 - 1] + samples[repeat / 2]) / 2;
    out->iterations = iterations;
    out->samples = repeat;
done:
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
