/*
 * float_format_check.c -- the proof that the JSON codec's float32 text did
 * not change when float_format.c replaced the search: compares
 * df_json_format_float with df_json_format_float_reference (the former
 * search) on every 32-bit pattern, or on a range of them.
 *
 * Not a benchmark and not in ctest (all 2^32 patterns take minutes on two
 * cores); tests/unit/test_float_format.c checks samples there. Run it after
 * any change to float_format.c:
 *
 *   nice ./build/tools/float-format-check            # all 2^32, 2 threads
 *   ./build/tools/float-format-check --threads 4 --from 0x3f800000 --count 1000000
 *
 * Exit status: 0 when every pattern matched, 1 on a mismatch (the first
 * few are printed), 2 on bad usage.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "float_format.h"

#define MAX_THREADS   64
#define SHOWN_MAX     20 /* mismatches printed per thread */
#define PROGRESS_STEP (1ull << 28)

typedef struct slice {
    uint64_t from, count; /* patterns from .. from + count - 1 (mod 2^32) */
    uint64_t mismatches;
} slice;

static void *check_slice(void *arg)
{
    slice *sl = arg;
    int shown = 0;
    for (uint64_t i = 0; i < sl->count; i++) {
        uint32_t bits = (uint32_t)(sl->from + i);
        float f;
        memcpy(&f, &bits, sizeof f);
        char got[32], want[32];
        size_t n = df_json_format_float(got, f), m = df_json_format_float_reference(want, f);
        if (n == m && memcmp(got, want, n) == 0) continue;
        sl->mismatches++;
        if (shown++ < SHOWN_MAX)
            printf("mismatch 0x%08" PRIx32 " (%.9g): new %.*s, reference %.*s\n", bits, (double)f,
                   (int)n, got, (int)m, want);
        if ((i + 1) % PROGRESS_STEP == 0) fflush(stdout);
    }
    return NULL;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    if (!*s || *end) return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t from = 0, count = 1ull << 32, threads = 2;
    for (int i = 1; i < argc; i++) {
        uint64_t *target = !strcmp(argv[i], "--from")      ? &from
                           : !strcmp(argv[i], "--count")   ? &count
                           : !strcmp(argv[i], "--threads") ? &threads
                                                           : NULL;
        if (!target || i + 1 == argc || parse_u64(argv[++i], target) || threads < 1 ||
            threads > MAX_THREADS || count > (1ull << 32)) {
            fprintf(stderr, "usage: float-format-check [--from BITS] [--count N] [--threads T]\n");
            return 2;
        }
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    slice sl[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    for (uint64_t t = 0; t < threads; t++) {
        uint64_t lo = count * t / threads, hi = count * (t + 1) / threads;
        sl[t] = (slice){from + lo, hi - lo, 0};
        if (pthread_create(&tid[t], NULL, check_slice, &sl[t])) {
            fprintf(stderr, "float-format-check: cannot start a thread\n");
            return 1;
        }
    }
    uint64_t mismatches = 0;
    for (uint64_t t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        mismatches += sl[t].mismatches;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    printf("checked %" PRIu64 " patterns from 0x%08" PRIx64 " in %.1f s (%" PRIu64
           " threads): %" PRIu64 " mismatches\n",
           count, from & 0xffffffffu, s, threads, mismatches);
    return mismatches ? 1 : 0;
}
