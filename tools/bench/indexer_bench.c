/*
 * indexer_bench.c -- docflow-bench --indexer: the VectorIndexer executor
 * (plugins/vector-indexer) on random unit vectors, measured through
 * df_executor_call exactly as a flow calls it:
 *   - add throughput in vectors/s, each request made durable (fdatasync)
 *     before it returns, beside the disk alone (write + fdatasync of the
 *     same bytes in the same sizes);
 *   - search throughput for Q queries in one request, and one query per
 *     request (queries/s, p50/p99 latency), k matches, with each thread
 *     count (openblas_set_num_threads, which the indexer follows);
 *   - the memory-bandwidth floor: the stored matrix's bytes divided by the
 *     read bandwidth measured in this run on a buffer of the same size;
 *   - FAISS IndexFlatIP on the same vectors and threads, when the build
 *     found libfaiss (Debian's libfaiss-dev), and whether both return the
 *     same neighbours.
 * Scores are inner products (metric dot, like IndexFlatIP); on unit vectors
 * that is also the cosine ranking.
 *
 * Not a test: it fails only when something does not run (an executor that
 * will not load, a call that fails), never on speed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cblas.h>
#include <liburing.h>

#include "bench.h"
#include "docflow/executor_runtime.h"

#ifdef BENCH_HAVE_FAISS
#include "faiss_flat.h"
#endif

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#ifndef BENCH_VECTOR_INDEXER_LIBRARY
#define BENCH_VECTOR_INDEXER_LIBRARY "vector_indexer.so"
#endif

#define MAX_SIZES   8
#define MAX_THREADS 8

static const char usage[] =
    "usage: docflow-bench --indexer [--sizes N,N...] [--dim D] [--queries Q] [--single S]\n"
    "                     [--k K] [--threads T,T...] [--batch B] [--repeat R]\n"
    "                     [--shards S] [--workspace DIR] [--no-faiss] [--json]\n"
    "\n"
    "Measures the VectorIndexer executor on N random unit vectors of D floats:\n"
    "add throughput (vectors/s, every request durable), search throughput for Q\n"
    "queries in one request and for S requests of one query (queries/s, latency),\n"
    "K matches each, with each thread count T; the memory-bandwidth floor of one\n"
    "pass over the matrix; and FAISS IndexFlatIP on the same data and threads when\n"
    "built with libfaiss.\n"
    "\n"
    "options:\n"
    "  --sizes N,N...   stored vectors (default 100000,1000000)\n"
    "  --dim D          floats per vector (default 128)\n"
    "  --queries Q      queries in the one-request search (default 1000)\n"
    "  --single S       one-query requests timed (default 1000)\n"
    "  --k K            matches per query (default 10)\n"
    "  --threads T,...  thread counts (default 1,2)\n"
    "  --batch B        documents per /index request (default 1000)\n"
    "  --repeat R       timed one-request searches; the median is reported (default 3)\n"
    "  --shards S       also add the N vectors to S instances at once, as a flow's\n"
    "                   shards, beside S writers of the disk alone (default 2; 1: skip)\n"
    "  --workspace DIR  where the index is written (default: a new folder in /tmp);\n"
    "                   put it on the disk you want measured, not on tmpfs\n"
    "  --no-faiss       skip FAISS even when built with it\n"
    "  --json           one JSON object instead of the tables\n";

typedef struct ib_config {
    size_t sizes[MAX_SIZES];
    int n_sizes;
    size_t dim, queries, single, k, batch;
    int threads[MAX_THREADS];
    int n_threads;
    int repeat;
    size_t shards; /* instances in the sharded add; < 2: none */
    const char *workspace;
    int faiss, json;
} ib_config;

/* One engine at one thread count. */
typedef struct ib_search {
    double batch_s;    /* median seconds for the Q-query request */
    double single_qps; /* one query per request */
    double single_p50_ms, single_p99_ms;
    int ran;
} ib_search;

typedef struct ib_size {
    size_t n;
    double add_s, add_bytes;
    double disk_s, disk_bytes; /* the disk alone, interleaved with the adds */
    double uring_s;            /* the same bytes through io_uring, as the indexer writes */
    double direct_s;           /* the same bytes with O_DIRECT, preallocated; < 0: not possible */
    char log_io[16];           /* how the indexer writes its log (/status log_io) */
    double sync_s, appends;    /* /status log_sync_seconds, log_appends after the add */
    double probe_bytes;        /* what the disk probes wrote */
    double written; /* bytes the process wrote during the add, less the probes'; < 0: unknown */
    double close_s;
    double shard_add_s, shard_direct_s; /* the sharded add, and its disk alone; 0: not run */
    double shard_close_s;
    double read_gb_s[MAX_THREADS];
    ib_search ours[MAX_THREADS], faiss[MAX_THREADS];
    double faiss_add_s;
    size_t compared, differ; /* neighbours compared with FAISS, and those that differ */
} ib_size;

/* ========================================================================
 * Command line
 * ======================================================================== */

static int parse_list(const char *opt, const char *s, size_t lo, size_t hi, size_t *out, int max,
                      int *n)
{
    *n = 0;
    char *copy = strdup(s), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(tok, &end, 10);
        if (errno || end == tok || *end || tok[0] == '-' || v < lo || v > hi || *n == max) {
            fprintf(stderr, "docflow-bench: %s expects up to %d numbers in %zu..%zu, got '%s'\n",
                    opt, max, lo, hi, s);
            free(copy);
            return -1;
        }
        out[(*n)++] = (size_t)v;
    }
    free(copy);
    return *n ? 0 : -1;
}

static int parse_one(const char *opt, const char *s, size_t lo, size_t hi, size_t *out)
{
    int n;
    return parse_list(opt, s, lo, hi, out, 1, &n);
}

/* 0 to run, 1 after --help, -1 on bad usage. argv[1] is "--indexer". */
static int parse_args(int argc, char **argv, ib_config *c)
{
    static const struct option options[] = {
        {"indexer", no_argument, NULL, 'X'},
        {"sizes", required_argument, NULL, 'n'},
        {"dim", required_argument, NULL, 'd'},
        {"queries", required_argument, NULL, 'q'},
        {"single", required_argument, NULL, 's'},
        {"k", required_argument, NULL, 'k'},
        {"threads", required_argument, NULL, 't'},
        {"batch", required_argument, NULL, 'b'},
        {"repeat", required_argument, NULL, 'r'},
        {"workspace", required_argument, NULL, 'w'},
        {"shards", required_argument, NULL, 'S'},
        {"no-faiss", no_argument, NULL, 'F'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    size_t threads[MAX_THREADS], repeat = 3;
    int opt, rc = 0;
    optind = 1;
    while (rc == 0 && (opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'X':
            break;
        case 'n':
            rc = parse_list("--sizes", optarg, 1, 100000000, c->sizes, MAX_SIZES, &c->n_sizes);
            break;
        case 'd':
            rc = parse_one("--dim", optarg, 1, 65536, &c->dim);
            break;
        case 'q':
            rc = parse_one("--queries", optarg, 1, 1000000, &c->queries);
            break;
        case 's':
            rc = parse_one("--single", optarg, 0, 1000000, &c->single);
            break;
        case 'k':
            rc = parse_one("--k", optarg, 1, 10000, &c->k);
            break;
        case 't':
            rc = parse_list("--threads", optarg, 1, 64, threads, MAX_THREADS, &c->n_threads);
            for (int i = 0; rc == 0 && i < c->n_threads; i++)
                c->threads[i] = (int)threads[i];
            break;
        case 'b':
            rc = parse_one("--batch", optarg, 1, 1000000, &c->batch);
            break;
        case 'r':
            rc = parse_one("--repeat", optarg, 1, 100, &repeat);
            break;
        case 'w':
            c->workspace = optarg;
            break;
        case 'S':
            rc = parse_one("--shards", optarg, 1, MAX_THREADS, &c->shards);
            break;
        case 'F':
            c->faiss = 0;
            break;
        case 'j':
            c->json = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return 1;
        default:
            fputs("try 'docflow-bench --indexer --help'\n", stderr);
            return -1;
        }
    }
    if (rc) return -1;
    if (optind < argc) {
        fprintf(stderr, "docflow-bench: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    c->repeat = (int)repeat;
    return 0;
}

/* ========================================================================
 * Data: random unit vectors (deterministic), and the read bandwidth
 * ======================================================================== */

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* n x dim floats in huge pages where the system gives them on request,
 * as the indexer keeps its matrix, so the bandwidth floor is read the way
 * the indexer reads. Free with free_vectors. */
static float *alloc_vectors(size_t n, size_t dim)
{
    size_t bytes = n * dim * sizeof(float) + 64; /* 64: the size, keeping rows aligned */
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    madvise(p, bytes, MADV_HUGEPAGE);
    *(size_t *)p = bytes;
    return (float *)((char *)p + 64);
}

static void free_vectors(float *m)
{
    if (!m) return;
    char *p = (char *)m - 64;
    munmap(p, *(size_t *)p);
}

static float *unit_vectors(size_t n, size_t dim, uint64_t seed)
{
    float *m = alloc_vectors(n, dim);
    if (!m) return NULL;
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t r = 0; r < n; r++) {
        float *x = m + r * dim;
        double sq = 0;
        for (size_t c = 0; c < dim; c += 2) { /* Box-Muller: two normals per draw */
            double u1 = ((double)(rng_next(&s) >> 11) + 1) / 9007199254740993.0;
            double u2 = (double)(rng_next(&s) >> 11) / 9007199254740992.0;
            double rad = sqrt(-2 * log(u1));
            x[c] = (float)(rad * cos(2 * M_PI * u2));
            if (c + 1 < dim) x[c + 1] = (float)(rad * sin(2 * M_PI * u2));
        }
        for (size_t c = 0; c < dim; c++)
            sq += (double)x[c] * x[c];
        float inv = (float)(1 / sqrt(sq));
        for (size_t c = 0; c < dim; c++)
            x[c] *= inv;
    }
    return m;
}

typedef struct read_job {
    const float *p;
    size_t n;
    float sum;
} read_job;

#if defined(__x86_64__)
__attribute__((target("avx2"))) static float read_avx2(const float *p, size_t n)
{
    __m256 a = _mm256_setzero_ps(), b = a, c = a, d = a;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a = _mm256_add_ps(a, _mm256_loadu_ps(p + i));
        b = _mm256_add_ps(b, _mm256_loadu_ps(p + i + 8));
        c = _mm256_add_ps(c, _mm256_loadu_ps(p + i + 16));
        d = _mm256_add_ps(d, _mm256_loadu_ps(p + i + 24));
    }
    float lanes[8], s = 0;
    _mm256_storeu_ps(lanes, _mm256_add_ps(_mm256_add_ps(a, b), _mm256_add_ps(c, d)));
    for (int l = 0; l < 8; l++)
        s += lanes[l];
    for (; i < n; i++)
        s += p[i];
    return s;
}
#endif

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static float read_avx512(const float *p, size_t n)
{
    __m512 a = _mm512_setzero_ps(), b = a, c = a, d = a;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        a = _mm512_add_ps(a, _mm512_loadu_ps(p + i));
        b = _mm512_add_ps(b, _mm512_loadu_ps(p + i + 16));
        c = _mm512_add_ps(c, _mm512_loadu_ps(p + i + 32));
        d = _mm512_add_ps(d, _mm512_loadu_ps(p + i + 48));
    }
    float s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a, b), _mm512_add_ps(c, d)));
    for (; i < n; i++)
        s += p[i];
    return s;
}
#endif

static void *read_slice(void *arg)
{
    read_job *j = arg;
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f")) {
        j->sum = read_avx512(j->p, j->n);
        return NULL;
    }
    if (__builtin_cpu_supports("avx2")) {
        j->sum = read_avx2(j->p, j->n);
        return NULL;
    }
#endif
    float s[8] = {0};
    for (size_t i = 0; i < j->n; i++)
        s[i % 8] += j->p[i];
    j->sum = s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
    return NULL;
}

/* GB/s reading n floats with `threads` threads, the best of 5 passes. */
static double read_bandwidth(const float *p, size_t n, int threads)
{
    double best = 0;
    read_job jobs[MAX_THREADS * 8];
    pthread_t tids[MAX_THREADS * 8];
    for (int pass = 0; pass < 6; pass++) {
        size_t per = (n + (size_t)threads - 1) / (size_t)threads;
        double t0 = bench_now();
        for (int t = 0; t < threads; t++) {
            size_t a = (size_t)t * per < n ? (size_t)t * per : n;
            jobs[t] = (read_job){p + a, a + per < n ? per : n - a, 0};
            if (t > 0) pthread_create(&tids[t], NULL, read_slice, &jobs[t]);
        }
        read_slice(&jobs[0]);
        for (int t = 1; t < threads; t++)
            pthread_join(tids[t], NULL);
        double s = bench_now() - t0;
        if (pass > 0 && n * sizeof(float) / s / 1e9 > best) best = n * sizeof(float) / s / 1e9;
    }
    return best;
}

/* ========================================================================
 * The executor
 * ======================================================================== */

static df_executor *open_indexer(df_arena *a, const char *workspace, df_error *err)
{
    df_executor_config *c = df_executor_config_for_jtype(a, "VectorIndexer", NULL);
    df_value_put_string(c->metas, "library", BENCH_VECTOR_INDEXER_LIBRARY);
    df_value_put_string(c->with, "metric", "dot");
    df_executor_options opt = DF_EXECUTOR_OPTIONS_INIT;
    opt.workspace = workspace;
    opt.name = "bench";
    return df_executor_open(c, &opt, err);
}

static int call(df_executor *ex, df_arena *a, const char *endpoint, df_docs *docs,
                const df_value *params, df_error *err)
{
    df_call c = {.arena = a,
                 .endpoint = endpoint,
                 .docs = docs,
                 .parameters = params,
                 .results = df_value_new_map(a)};
    return df_executor_call(ex, &c, err);
}

static df_docs *vector_docs(df_arena *a, const float *m, size_t first, size_t n, size_t dim,
                            const char *prefix)
{
    df_docs *docs = df_docs_new(a);
    for (size_t i = 0; i < n; i++) {
        df_doc *d = df_doc_new(a);
        char id[32];
        snprintf(id, sizeof id, "%s%zu", prefix, first + i);
        df_doc_set_str(d, DF_FIELD_ID, id);
        df_doc_set_embedding_f32(d, m + (first + i) * dim, dim);
        df_docs_append(docs, d);
    }
    return docs;
}

/* Bytes one PUT log record of vector `i` takes (storage.c's format: a
 * 16-byte header, dim, the floats, the id, an empty body). */
static double record_bytes(size_t i, size_t dim)
{
    char id[32];
    return 16 + 4 + 4.0 * (double)dim + 4 + snprintf(id, sizeof id, "v%zu", i) + 4;
}

/* One write + fdatasync of `len` bytes at the end of `fd`, with plain
 * syscalls: what the disk alone takes for one request. */
static double disk_write(int fd, const char *buf, size_t len, off_t *off)
{
    double t0 = bench_now();
    if (pwrite(fd, buf, len, *off) != (ssize_t)len || fdatasync(fd) != 0) return -1;
    *off += (off_t)len;
    return bench_now() - t0;
}

/* The same through io_uring, a write linked to an fdatasync: how the
 * indexer writes, minus everything else it does. */
static double uring_write(struct io_uring *ring, int fd, const char *buf, size_t len, off_t *off)
{
    double t0 = bench_now();
    struct io_uring_sqe *w = io_uring_get_sqe(ring);
    io_uring_prep_write(w, fd, buf, (unsigned)len, (uint64_t)*off);
    io_uring_sqe_set_flags(w, IOSQE_IO_LINK);
    struct io_uring_sqe *f = io_uring_get_sqe(ring);
    io_uring_prep_fsync(f, fd, IORING_FSYNC_DATASYNC);
    int ok = io_uring_submit_and_wait(ring, 2) == 2;
    for (int i = 0; i < 2; i++) {
        struct io_uring_cqe *cqe;
        if (io_uring_wait_cqe(ring, &cqe) < 0) return -1;
        ok = ok && cqe->res >= (i ? 0 : (int)len);
        io_uring_cqe_seen(ring, cqe);
    }
    *off += (off_t)len;
    return ok ? bench_now() - t0 : -1;
}

/* The same with O_DIRECT into preallocated space, as the indexer writes
 * where the file system allows: `len` rounded up to the 4096-byte block
 * from an aligned buffer, then fdatasync. The file grows by `step` bytes
 * of fallocate at a time, outside the timing. */
#define DIRECT_STEP ((off_t)16 << 20)
static double direct_write(int fd, const char *buf, size_t len, off_t *off, off_t *alloc)
{
    size_t blocks = (len + 4095) / 4096 * 4096;
    if (*off + (off_t)blocks > *alloc) {
        if (fallocate(fd, 0, *alloc, DIRECT_STEP) != 0) return -1;
        *alloc += DIRECT_STEP;
    }
    double t0 = bench_now();
    if (pwrite(fd, buf, blocks, *off) != (ssize_t)blocks || fdatasync(fd) != 0) return -1;
    *off += (off_t)len / 4096 * 4096; /* the partial last block is written again next time */
    return bench_now() - t0;
}

/* /index in requests of cfg->batch; only the calls are timed. After each
 * request the same number of bytes goes to another file in the same
 * folder with write + fdatasync: the disk alone, measured interleaved so
 * both see the same disk (a shared disk's speed varies from one second to
 * the next). */
static int bench_add(const ib_config *cfg, df_executor *ex, const char *ws, const float *x,
                     ib_size *out, df_error *err)
{
    char path[4200], upath[4200], dpath[4200];
    snprintf(path, sizeof path, "%s/disk-probe", ws);
    snprintf(upath, sizeof upath, "%s/uring-probe", ws);
    snprintf(dpath, sizeof dpath, "%s/direct-probe", ws);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int ufd = open(upath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int dfd = open(dpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_DIRECT, 0644);
    off_t doff = 0, dalloc = 0;
    char *dbuf = NULL;
    out->direct_s = dfd >= 0 ? 0 : -1;
    struct io_uring ring;
    if (ufd >= 0 && io_uring_queue_init(4, &ring, 0) != 0) {
        close(ufd);
        ufd = -1;
    }
    size_t cap = 0;
    char *buf = NULL;
    off_t off = 0, uoff = 0;
    int rc = DF_OK;
    for (size_t first = 0; first < out->n && rc == DF_OK; first += cfg->batch) {
        size_t n = out->n - first < cfg->batch ? out->n - first : cfg->batch;
        df_arena *a = df_arena_new(0);
        df_docs *docs = vector_docs(a, x, first, n, cfg->dim, "v");
        double t0 = bench_now();
        rc = call(ex, a, "/index", docs, NULL, err);
        out->add_s += bench_now() - t0;
        double bytes = 0;
        for (size_t i = first; i < first + n; i++)
            bytes += record_bytes(i, cfg->dim);
        out->add_bytes += bytes;
        if (fd < 0) {
            df_arena_free(a);
            continue;
        }
        if ((size_t)bytes > cap) {
            free(buf);
            free(dbuf);
            cap = (size_t)bytes;
            if ((buf = malloc(cap))) memset(buf, 1, cap);
            if (posix_memalign((void **)&dbuf, 4096, cap + 4096) != 0)
                dbuf = NULL;
            else
                memset(dbuf, 1, cap + 4096);
        }
        double s = buf ? disk_write(fd, buf, (size_t)bytes, &off) : -1;
        out->probe_bytes += s >= 0 ? bytes : 0;
        double u = buf && ufd >= 0 ? uring_write(&ring, ufd, buf, (size_t)bytes, &uoff) : -1;
        out->probe_bytes += u >= 0 ? bytes : 0;
        if (dfd >= 0) {
            double d = dbuf ? direct_write(dfd, dbuf, (size_t)bytes, &doff, &dalloc) : -1;
            if (d >= 0 && s >= 0 && u >= 0) out->direct_s += d;
            out->probe_bytes += d >= 0 ? (double)(((size_t)bytes + 4095) / 4096 * 4096) : 0;
            if (d < 0 || doff > ((off_t)1 << 30)) { /* tmpfs, or enough */
                close(dfd);
                dfd = -1;
                if (d < 0) out->direct_s = -1;
            }
        }
        /* Freed only now: the request's memory, freed before the probes,
         * would become their page cache, already backed, while the
         * indexer's writes take pages nobody touched yet. */
        df_arena_free(a);
        if (s >= 0 && u >= 0) {
            out->disk_s += s;
            out->uring_s += u;
            out->disk_bytes += bytes;
        }
        if (s < 0 || u < 0 || off > ((off_t)1 << 30)) { /* 1 GB of probe is plenty */
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0) close(fd);
    if (dfd >= 0) close(dfd);
    unlink(dpath);
    free(dbuf);
    if (ufd >= 0) {
        close(ufd);
        io_uring_queue_exit(&ring);
    }
    unlink(path);
    unlink(upath);
    free(buf);
    return rc;
}

/* ========================================================================
 * Add with shards
 *
 * What a flow with `shards: S` does while its client keeps S requests in
 * flight: S instances, each with its own workspace, each called from its
 * own thread. Rounds in lock step: a request to every instance at once
 * (timed from the start until the last one returns), then every thread
 * writes the same bytes into a file of its own with O_DIRECT into
 * preallocated space + fdatasync, at once: the disk alone with S writers,
 * right after, so both see the same disk.
 * ======================================================================== */

/* Threads wait here until all of them exist: go 1 runs the rounds, -1
 * (a thread could not be started) ends them before the barrier, which
 * counts every thread. */
typedef struct shard_gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int go;
} shard_gate;

typedef struct shard_job {
    const ib_config *cfg;
    shard_gate *gate;
    df_executor *ex;
    const float *x;
    size_t n, shard;
    pthread_barrier_t *bar;
    int fd; /* the disk alone's file; -1 once it failed */
    off_t off, alloc;
    char *buf;
    int rc;
    df_error err;
} shard_job;

static size_t shard_rounds(const ib_config *cfg, size_t n)
{
    size_t requests = (n + cfg->batch - 1) / cfg->batch;
    return (requests + cfg->shards - 1) / cfg->shards;
}

static void *shard_main(void *arg)
{
    shard_job *j = arg;
    const ib_config *cfg = j->cfg;
    pthread_mutex_lock(&j->gate->mu);
    while (!j->gate->go)
        pthread_cond_wait(&j->gate->cv, &j->gate->mu);
    int go = j->gate->go > 0;
    pthread_mutex_unlock(&j->gate->mu);
    for (size_t r = 0; go && r < shard_rounds(cfg, j->n); r++) {
        size_t first = (r * cfg->shards + j->shard) * cfg->batch, n = 0;
        if (first < j->n) n = j->n - first < cfg->batch ? j->n - first : cfg->batch;
        df_arena *a = df_arena_new(0);
        df_docs *docs = vector_docs(a, j->x, first, n, j->cfg->dim, "v");
        pthread_barrier_wait(j->bar); /* the round starts */
        if (n && j->rc == DF_OK) j->rc = call(j->ex, a, "/index", docs, NULL, &j->err);
        pthread_barrier_wait(j->bar); /* every request returned */
        double bytes = 0;
        for (size_t i = first; i < first + n; i++)
            bytes += record_bytes(i, cfg->dim);
        if (n && j->fd >= 0 && direct_write(j->fd, j->buf, (size_t)bytes, &j->off, &j->alloc) < 0) {
            close(j->fd);
            j->fd = -1;
        }
        pthread_barrier_wait(j->bar); /* every disk-alone write is durable */
        df_arena_free(a);             /* after the probes, as in bench_add */
    }
    return NULL;
}

/* Opens shard t's instance and its disk-alone file in ws/shard-<t>. */
static int open_shard(df_arena *a, const char *ws, size_t t, size_t cap, shard_job *j,
                      df_error *err)
{
    char dir[4300], path[4400];
    snprintf(dir, sizeof dir, "%s/shard-%zu", ws, t);
    if (mkdir(dir, 0755) != 0) return df_error_set(err, DF_E_IO, "%s: %s", dir, strerror(errno));
    if (!(j->ex = open_indexer(a, dir, err))) return err->code;
    snprintf(path, sizeof path, "%s/direct-probe", dir);
    j->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_DIRECT, 0644);
    if (posix_memalign((void **)&j->buf, 4096, cap) != 0) {
        j->buf = NULL;
        return df_error_set(err, DF_E_RESOURCE, "out of memory");
    }
    memset(j->buf, 1, cap);
    return DF_OK;
}

static int bench_add_sharded(const ib_config *cfg, const char *ws, const float *x, ib_size *out,
                             df_error *err)
{
    size_t shards = cfg->shards, opened = 0;
    shard_job jobs[MAX_THREADS];
    pthread_t tids[MAX_THREADS];
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, (unsigned)shards + 1);
    size_t cap = (size_t)((double)cfg->batch * record_bytes(out->n, cfg->dim)) + 4096;
    df_arena *a = df_arena_new(0);
    int rc = DF_OK;
    for (; opened < shards && rc == DF_OK; opened++) {
        jobs[opened] = (shard_job){.cfg = cfg,
                                   .x = x,
                                   .n = out->n,
                                   .shard = opened,
                                   .bar = &bar,
                                   .fd = -1,
                                   .err = DF_ERROR_INIT};
        rc = open_shard(a, ws, opened, cap, &jobs[opened], err);
    }
    shard_gate gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    size_t started = 0;
    for (; rc == DF_OK && started < shards; started++) {
        jobs[started].gate = &gate;
        if (pthread_create(&tids[started], NULL, shard_main, &jobs[started]) != 0) break;
    }
    if (rc == DF_OK && started < shards)
        rc = df_error_set(err, DF_E_RESOURCE, "cannot start a thread for shard %zu", started);
    pthread_mutex_lock(&gate.mu);
    gate.go = rc == DF_OK ? 1 : -1;
    pthread_cond_broadcast(&gate.cv);
    pthread_mutex_unlock(&gate.mu);
    double probe_s = 0;
    for (size_t r = 0; rc == DF_OK && r < shard_rounds(cfg, out->n); r++) {
        pthread_barrier_wait(&bar);
        double t0 = bench_now();
        pthread_barrier_wait(&bar);
        double t1 = bench_now();
        pthread_barrier_wait(&bar);
        out->shard_add_s += t1 - t0;
        probe_s += bench_now() - t1;
    }
    for (size_t t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    int probed = 1;
    for (size_t t = 0; t < opened; t++) {
        if (rc == DF_OK && jobs[t].rc) rc = df_error_set(err, jobs[t].rc, "%s", jobs[t].err.msg);
        probed = probed && jobs[t].fd >= 0;
        if (jobs[t].fd >= 0) close(jobs[t].fd);
        free(jobs[t].buf);
    }
    out->shard_direct_s = probed ? probe_s : -1;
    double t0 = bench_now();
    for (size_t t = 0; t < opened; t++)
        df_executor_close(jobs[t].ex);
    out->shard_close_s = bench_now() - t0;
    pthread_barrier_destroy(&bar);
    df_arena_free(a);
    return rc;
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ========================================================================
 * Search: engines measured interleaved
 *
 * A shared machine's speed drifts from one second to the next, so the
 * engines take turns: each timed one-request search of one engine is
 * followed by the same of the other, and the one-query requests go in
 * turns of SINGLE_TURN. Both see the same machine; the medians compare.
 * ======================================================================== */

typedef struct engine {
    int (*batch)(void *ctx);            /* the Q-query search; keeps the ids */
    int (*single)(void *ctx, size_t i); /* a one-query search of query i */
    void *ctx;
    ib_search *out;
    double times[100];
    double *lat, total;
} engine;

/* The VectorIndexer through df_executor_call, as a flow calls it. */
typedef struct ours_ctx {
    const ib_config *cfg;
    df_executor *ex;
    df_arena *arena;
    df_docs *batch; /* the Q queries */
    df_docs **reqs; /* one per one-query request */
    df_value *params;
    int64_t *ids; /* Q x k neighbours of the last batch */
    df_error *err;
} ours_ctx;

static int ours_batch(void *arg)
{
    ours_ctx *o = arg;
    const ib_config *cfg = o->cfg;
    int rc = call(o->ex, o->arena, "/search", o->batch, o->params, o->err);
    for (size_t i = 0; rc == 0 && i < cfg->queries; i++) {
        df_docs *m = df_doc_matches(df_docs_get(o->batch, i));
        for (size_t j = 0; j < cfg->k; j++)
            o->ids[i * cfg->k + j] =
                j < df_docs_len(m) ? atoll(df_doc_str(df_docs_get(m, j), DF_FIELD_ID) + 1) : -1;
    }
    return rc;
}

static int ours_single(void *arg, size_t i)
{
    ours_ctx *o = arg;
    return call(o->ex, o->arena, "/search", o->reqs[i], o->params, o->err);
}

#ifdef BENCH_HAVE_FAISS
typedef struct faiss_ctx {
    const ib_config *cfg;
    bench_faiss *f;
    const float *q;
    float *dist;
    int64_t *ids;
} faiss_ctx;

static int faiss_batch(void *arg)
{
    faiss_ctx *c = arg;
    return bench_faiss_search(c->f, c->cfg->queries, c->q, c->cfg->k, c->dist, c->ids);
}

static int faiss_single(void *arg, size_t i)
{
    faiss_ctx *c = arg;
    size_t at = i % c->cfg->queries;
    return bench_faiss_search(c->f, 1, c->q + at * c->cfg->dim, c->cfg->k, c->dist,
                              c->ids + at * c->cfg->k);
}
#endif

static void latency_summary(double *lat, size_t n, double total, ib_search *out)
{
    qsort(lat, n, sizeof *lat, by_double);
    out->single_qps = (double)n / total;
    out->single_p50_ms = lat[n / 2] * 1e3;
    out->single_p99_ms = lat[n * 99 / 100] * 1e3;
}

/* One-query requests go in turns of this many per engine: back to back, as
 * a server would see them (the matrix stays as warm in the caches as the
 * read-bandwidth floor assumes), while both engines still share each
 * stretch of the machine's time. */
#define SINGLE_TURN 50

/* Warm-up, then cfg->repeat rounds of one batch per engine, then turns of
 * SINGLE_TURN one-query requests per engine. */
static int run_engines(const ib_config *cfg, engine *e, int n)
{
    int rc = 0;
    for (int k = 0; k < n && rc == 0; k++) {
        rc = e[k].batch(e[k].ctx);
        if (rc == 0 && cfg->single) rc = e[k].single(e[k].ctx, 0);
    }
    for (int r = 0; r < cfg->repeat && rc == 0; r++)
        for (int k = 0; k < n && rc == 0; k++) {
            double t0 = bench_now();
            rc = e[k].batch(e[k].ctx);
            e[k].times[r] = bench_now() - t0;
        }
    for (size_t i0 = 0; i0 < cfg->single && rc == 0; i0 += SINGLE_TURN)
        for (int k = 0; k < n && rc == 0; k++)
            for (size_t i = i0; i < i0 + SINGLE_TURN && i < cfg->single && rc == 0; i++) {
                double t0 = bench_now();
                rc = e[k].single(e[k].ctx, i);
                e[k].lat[i] = bench_now() - t0;
                e[k].total += e[k].lat[i];
            }
    for (int k = 0; k < n && rc == 0; k++) {
        qsort(e[k].times, (size_t)cfg->repeat, sizeof *e[k].times, by_double);
        e[k].out->batch_s = e[k].times[cfg->repeat / 2];
        if (cfg->single) latency_summary(e[k].lat, cfg->single, e[k].total, e[k].out);
        e[k].out->ran = 1;
    }
    return rc;
}

/* Both engines at one thread count. */
static int bench_search(const ib_config *cfg, df_executor *ex, void *faiss, const float *q, int t,
                        ib_size *out, int64_t *ours_ids, int64_t *faiss_ids, df_error *err)
{
    df_arena *a = df_arena_new(0);
    ours_ctx o = {.cfg = cfg, .ex = ex, .arena = a, .ids = ours_ids, .err = err};
    o.batch = vector_docs(a, q, 0, cfg->queries, cfg->dim, "q");
    o.params = df_value_new_map(a);
    df_value_put_number(o.params, "limit", (double)cfg->k);
    o.reqs = df_arena_alloc(a, (cfg->single + 1) * sizeof *o.reqs);
    for (size_t i = 0; i < cfg->single; i++)
        o.reqs[i] = vector_docs(a, q, i % cfg->queries, 1, cfg->dim, "q");
    engine e[2] = {{ours_batch, ours_single, &o, &out->ours[t], {0}, NULL, 0}};
    int n = 1;
#ifdef BENCH_HAVE_FAISS
    faiss_ctx fc = {cfg, faiss, q, malloc(cfg->queries * cfg->k * sizeof(float)), faiss_ids};
    if (faiss && fc.dist)
        e[n++] = (engine){faiss_batch, faiss_single, &fc, &out->faiss[t], {0}, NULL, 0};
#else
    (void)faiss;
    (void)faiss_ids;
#endif
    int rc = 0;
    for (int k = 0; k < n; k++)
        if (!(e[k].lat = malloc((cfg->single + 1) * sizeof *e[k].lat))) rc = -1;
    if (rc == 0)
        rc = run_engines(cfg, e, n);
    else
        df_error_set(err, DF_E_RESOURCE, "out of memory");
    for (int k = 0; k < n; k++)
        free(e[k].lat);
#ifdef BENCH_HAVE_FAISS
    free(fc.dist);
#endif
    df_arena_free(a);
    return rc ? (err->code ? err->code : DF_E_INTERNAL) : DF_OK;
}

#ifdef BENCH_HAVE_FAISS
/* Positions where two answers name different neighbours. */
static size_t count_differences(const int64_t *a, const int64_t *b, size_t n)
{
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        d += a[i] != b[i];
    return d;
}
#endif

/* The searches must not share the machine with a background compaction
 * the add started: wait until /status says none is running. */
static void wait_for_compaction(df_executor *ex, ib_size *out)
{
    for (int tries = 0; tries < 6000; tries++) {
        df_arena *a = df_arena_new(0);
        df_error err = DF_ERROR_INIT;
        df_call c = {.arena = a,
                     .endpoint = "/status",
                     .docs = df_docs_new(a),
                     .results = df_value_new_map(a)};
        int ok = df_executor_call(ex, &c, &err) == DF_OK;
        const df_value *st = ok ? df_value_get(c.results, df_executor_name(ex)) : NULL;
        int busy = ok && df_value_bool(df_value_get(st, "compacting"));
        const char *io = ok ? df_value_string(df_value_get(st, "log_io"), NULL) : NULL;
        snprintf(out->log_io, sizeof out->log_io, "%s", io && *io ? io : "buffered");
        out->sync_s = ok ? df_value_number(df_value_get(st, "log_sync_seconds")) : 0;
        out->appends = ok ? df_value_number(df_value_get(st, "log_appends")) : 0;
        df_arena_free(a);
        if (!busy) return;
        usleep(10000);
    }
}

/* Bytes this process has sent to the storage layer (/proc/self/io
 * write_bytes: direct writes, and page cache as it is dirtied), or -1. */
static long long process_write_bytes(void)
{
    FILE *f = fopen("/proc/self/io", "r");
    char line[128];
    long long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "write_bytes: %lld", &v) == 1) break;
    if (f) fclose(f);
    return v;
}

static char *make_workspace(const ib_config *cfg)
{
    char *dir = malloc(4200);
    snprintf(dir, 4200, "%s/docflow-indexer-bench-XXXXXX",
             cfg->workspace ? cfg->workspace : "/tmp");
    if (!mkdtemp(dir)) {
        free(dir);
        return NULL;
    }
    return dir;
}

static void remove_workspace(const char *dir)
{
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "docflow-bench: could not remove %s\n", dir);
}

static const char *fs_name(const char *dir)
{
    struct statfs s;
    if (statfs(dir, &s) != 0) return "unknown";
    switch ((unsigned long)s.f_type) {
    case 0xEF53:
        return "ext4";
    case 0x58465342:
        return "xfs";
    case 0x9123683E:
        return "btrfs";
    case 0x01021994:
        return "tmpfs: the add figure does not include a disk";
    default:
        return "another file system";
    }
}

static int bench_size(const ib_config *cfg, ib_size *out, df_error *err)
{
    int rc = DF_OK;
    size_t dim = cfg->dim;
    float *x = unit_vectors(out->n, dim, 1), *q = unit_vectors(cfg->queries, dim, 2);
    int64_t *ours = malloc(cfg->queries * cfg->k * sizeof *ours);
    int64_t *theirs = malloc(cfg->queries * cfg->k * sizeof *theirs);
    char *ws = make_workspace(cfg);
    df_arena *a = df_arena_new(0);
    df_executor *ex = NULL;
    if (!x || !q || !ours || !theirs || !ws) {
        rc = df_error_set(err, DF_E_RESOURCE, "out of memory or no workspace folder");
        goto done;
    }
    if (!(ex = open_indexer(a, ws, err))) {
        rc = err->code;
        goto done;
    }
    openblas_set_num_threads(cfg->threads[0]);
    for (int t = 0; t < cfg->n_threads; t++) /* before the add: nothing else runs */
        out->read_gb_s[t] = read_bandwidth(x, out->n * dim, cfg->threads[t]);
    long long wrote0 = process_write_bytes();
    if ((rc = bench_add(cfg, ex, ws, x, out, err))) goto done;
    long long wrote1 = process_write_bytes();
    out->written = wrote0 < 0 || wrote1 < 0 ? -1 : (double)(wrote1 - wrote0) - out->probe_bytes;
    wait_for_compaction(ex, out);
#ifdef BENCH_HAVE_FAISS
    bench_faiss *f = cfg->faiss ? bench_faiss_new(dim) : NULL;
    if (f) {
        double t0 = bench_now();
        bench_faiss_add(f, out->n, x);
        out->faiss_add_s = bench_now() - t0;
    }
#endif
    for (int t = 0; t < cfg->n_threads && rc == DF_OK; t++) {
        openblas_set_num_threads(cfg->threads[t]);
        void *faiss = NULL;
#ifdef BENCH_HAVE_FAISS
        faiss = f;
        if (f) bench_faiss_set_threads(cfg->threads[t]);
#endif
        rc = bench_search(cfg, ex, faiss, q, t, out, ours, theirs, err);
#ifdef BENCH_HAVE_FAISS
        if (rc == DF_OK && f) {
            out->compared = cfg->queries * cfg->k;
            out->differ = count_differences(ours, theirs, out->compared);
        }
#endif
    }
#ifdef BENCH_HAVE_FAISS
    bench_faiss_free(f);
#endif
    if (rc == DF_OK) {
        double t0 = bench_now();
        df_executor_close(ex);
        out->close_s = bench_now() - t0;
        ex = NULL;
    }
    if (rc == DF_OK && cfg->shards > 1) rc = bench_add_sharded(cfg, ws, x, out, err);
done:
    df_executor_close(ex);
    df_arena_free(a);
    if (ws) remove_workspace(ws);
    free(ws);
    free_vectors(x);
    free_vectors(q);
    free(ours);
    free(theirs);
    return rc;
}

/* ========================================================================
 * Report
 * ======================================================================== */

static void print_search_row(const ib_config *cfg, int threads, const char *engine,
                             const ib_search *s, double floor_ms)
{
    if (!s->ran) return;
    printf("%7d  %-18s %12.0f %14.0f %9.3f %9.3f %9.3f %8.2f\n", threads, engine,
           (double)cfg->queries / s->batch_s, s->single_qps, s->single_p50_ms, s->single_p99_ms,
           floor_ms, floor_ms > 0 ? s->single_p50_ms / floor_ms : 0);
}

static void print_sharded(const ib_config *cfg, const ib_size *r)
{
    double per_vector = r->add_bytes / (double)r->n, add_rate = r->add_bytes / r->shard_add_s;
    printf("add with %zu shards (%zu instances, a request to each at once): %.0f vectors/s "
           "(%.2f s; close %.2f s)\n",
           cfg->shards, cfg->shards, (double)r->n / r->shard_add_s, r->shard_add_s,
           r->shard_close_s);
    if (r->shard_direct_s > 0) {
        double direct_rate = r->add_bytes / r->shard_direct_s;
        printf("      the disk alone with %zu writers at once, O_DIRECT, preallocated + fdatasync: "
               "%.1f MB/s = %.0f vectors/s; indexer %.2f of it\n",
               cfg->shards, direct_rate / 1e6, direct_rate / per_vector, add_rate / direct_rate);
    } else {
        printf("      the disk alone with %zu writers: O_DIRECT not supported here\n", cfg->shards);
    }
}

static void print_size(const ib_config *cfg, const ib_size *r, const char *ws_fs)
{
    double mb = (double)r->n * (double)cfg->dim * 4 / 1e6;
    printf("\nN = %zu vectors x %zu floats (%.1f MB), k = %zu, %zu queries at once, %zu one-query "
           "requests\n",
           r->n, cfg->dim, mb, cfg->k, cfg->queries, cfg->single);
    double per_vector = r->add_bytes / (double)r->n;
    printf("add, durable: %.0f vectors/s (%.2f s, %zu per request, each fdatasynced; log %.1f MB "
           "at %.1f MB/s)\n",
           (double)r->n / r->add_s, r->add_s, cfg->batch, r->add_bytes / 1e6,
           r->add_bytes / r->add_s / 1e6);
    double disk_rate = r->disk_s > 0 ? r->disk_bytes / r->disk_s : 0;
    double uring_rate = r->uring_s > 0 ? r->disk_bytes / r->uring_s : 0;
    double add_rate = r->add_bytes / r->add_s;
    printf("      the disk alone (%s), each request's bytes written and fdatasynced right after "
           "it:\n",
           ws_fs);
    printf("        with pwrite + fdatasync:          %7.1f MB/s = %8.0f vectors/s; indexer %.2f "
           "of it\n",
           disk_rate / 1e6, disk_rate / per_vector, disk_rate > 0 ? add_rate / disk_rate : 0);
    printf("        through io_uring (write -> fsync): %7.1f MB/s = %8.0f vectors/s; indexer %.2f "
           "of it\n",
           uring_rate / 1e6, uring_rate / per_vector, uring_rate > 0 ? add_rate / uring_rate : 0);
    double direct_rate = r->direct_s > 0 ? r->disk_bytes / r->direct_s : 0;
    if (direct_rate > 0)
        printf("        O_DIRECT, preallocated + fdatasync: %6.1f MB/s = %8.0f vectors/s; indexer "
               "%.2f of it\n",
               direct_rate / 1e6, direct_rate / per_vector, add_rate / direct_rate);
    else
        printf("        O_DIRECT: not supported here\n");
    printf("      the indexer's log is written %s\n",
           strcmp(r->log_io, "direct") == 0 ? "with O_DIRECT" : "through the page cache");
    if (r->appends > 0)
        printf("      its write + fdatasync in flight %.0f %% of the add time (%.3f of %.3f ms per "
               "request); the rest: encoding before the write\n",
               100 * r->sync_s / r->add_s, r->sync_s / r->appends * 1e3,
               r->add_s / r->appends * 1e3);
    if (r->written > 0)
        printf("      written to the disk during the add, log and background compaction: %.1f MB "
               "(%.2fx the log), %.1f MB/s",
               r->written / 1e6, r->written / r->add_bytes, r->written / r->add_s / 1e6);
    if (r->written > 0 && direct_rate > 0)
        printf(" = %.2f of the O_DIRECT disk alone's", r->written / r->add_s / direct_rate);
    if (r->written > 0) printf("\n");
    if (r->faiss_add_s > 0)
        printf("      FAISS add (memory only, no durability): %.0f vectors/s\n",
               (double)r->n / r->faiss_add_s);
    printf("close (final compaction into the snapshot): %.2f s\n", r->close_s);
    if (r->shard_add_s > 0) print_sharded(cfg, r);
    for (int t = 0; t < cfg->n_threads; t++)
        printf("read bandwidth, %d thread%s: %.1f GB/s -> floor %.3f ms per pass over the "
               "matrix\n",
               cfg->threads[t], cfg->threads[t] > 1 ? "s" : "", r->read_gb_s[t],
               mb / 1e3 / r->read_gb_s[t] * 1e3);
    printf("\n%7s  %-18s %12s %14s %9s %9s %9s %8s\n", "threads", "engine", "batch q/s",
           "one-query q/s", "p50 ms", "p99 ms", "floor ms", "p50/flr");
    for (int t = 0; t < cfg->n_threads; t++) {
        double floor_ms = mb / 1e3 / r->read_gb_s[t] * 1e3;
        print_search_row(cfg, cfg->threads[t], "VectorIndexer", &r->ours[t], floor_ms);
        print_search_row(cfg, cfg->threads[t], "FAISS IndexFlatIP", &r->faiss[t], floor_ms);
        if (r->ours[t].ran && r->faiss[t].ran)
            printf("%7s  %-18s %11.2fx %13.2fx %9s\n", "", "ratio (ours/FAISS)",
                   r->faiss[t].batch_s / r->ours[t].batch_s,
                   r->ours[t].single_qps / r->faiss[t].single_qps, "");
    }
    if (r->compared)
        printf("neighbours differing from FAISS's: %zu of %zu (float rounding between equal "
               "scores)\n",
               r->differ, r->compared);
}

static void print_json_search(const char *key, const ib_config *cfg, const ib_search *s)
{
    printf("\"%s\": {\"batch_qps\": %.1f, \"single_qps\": %.1f, \"single_p50_ms\": %.4f, "
           "\"single_p99_ms\": %.4f}",
           key, (double)cfg->queries / s->batch_s, s->single_qps, s->single_p50_ms,
           s->single_p99_ms);
}

static void print_json(const ib_config *cfg, const ib_size *rs, const char *core)
{
    printf("{\"blas_core\": \"%s\", \"dim\": %zu, \"k\": %zu, \"queries\": %zu, \"sizes\": [", core,
           cfg->dim, cfg->k, cfg->queries);
    for (int i = 0; i < cfg->n_sizes; i++) {
        const ib_size *r = &rs[i];
        printf("%s{\"n\": %zu, \"add_vectors_per_s\": %.1f, \"disk_mb_per_s\": %.2f, "
               "\"disk_direct_mb_per_s\": %.2f, \"log_io\": \"%s\", \"log_sync_s\": %.4f, "
               "\"written_mb\": %.1f, \"shards\": %zu, \"shard_add_vectors_per_s\": %.1f, "
               "\"shard_disk_direct_mb_per_s\": %.2f, "
               "\"differ\": %zu, "
               "\"threads\": [",
               i ? ", " : "", r->n, (double)r->n / r->add_s,
               r->disk_s > 0 ? r->disk_bytes / r->disk_s / 1e6 : 0,
               r->direct_s > 0 ? r->disk_bytes / r->direct_s / 1e6 : 0, r->log_io, r->sync_s,
               r->written / 1e6, cfg->shards,
               r->shard_add_s > 0 ? (double)r->n / r->shard_add_s : 0,
               r->shard_direct_s > 0 ? r->add_bytes / r->shard_direct_s / 1e6 : 0, r->differ);
        for (int t = 0; t < cfg->n_threads; t++) {
            printf("%s{\"threads\": %d, \"read_gb_per_s\": %.2f, ", t ? ", " : "", cfg->threads[t],
                   r->read_gb_s[t]);
            print_json_search("ours", cfg, &r->ours[t]);
            if (r->faiss[t].ran) {
                printf(", ");
                print_json_search("faiss", cfg, &r->faiss[t]);
            }
            printf("}");
        }
        printf("]}");
    }
    printf("]}\n");
}

int bench_indexer_main(int argc, char **argv)
{
    ib_config cfg = {.sizes = {100000, 1000000},
                     .n_sizes = 2,
                     .dim = 128,
                     .queries = 1000,
                     .single = 1000,
                     .k = 10,
                     .threads = {1, 2},
                     .n_threads = 2,
                     .batch = 1000,
                     .repeat = 3,
                     .shards = 2,
                     .faiss = 1};
    int rc = parse_args(argc, argv, &cfg);
    if (rc) return rc > 0 ? 0 : 2;
#ifdef BENCH_HAVE_FAISS
    /* libgomp reads OMP_WAIT_POLICY once, when it loads: without "passive"
     * its idle threads spin against OpenBLAS's between FAISS calls, which
     * would slow FAISS down, not us. So set it and start again. */
    if (cfg.faiss && !getenv("OMP_WAIT_POLICY")) {
        setenv("OMP_WAIT_POLICY", "passive", 1);
        execv("/proc/self/exe", argv);
        /* not fatal: measure anyway */
    }
#else
    cfg.faiss = 0;
#endif
    if (cfg.queries > 1000000 / cfg.k) cfg.queries = 1000000 / cfg.k;
    const char *core = openblas_get_corename();
    char *probe = make_workspace(&cfg);
    const char *ws_fs = probe ? fs_name(probe) : "unknown";
    if (probe) remove_workspace(probe);
    free(probe);
    if (!cfg.json)
        printf("docflow-bench --indexer: VectorIndexer (%s) vs %s; OpenBLAS core %s, %ld CPUs; "
               "build %s\n",
               BENCH_VECTOR_INDEXER_LIBRARY, cfg.faiss ? "FAISS IndexFlatIP" : "no FAISS", core,
               sysconf(_SC_NPROCESSORS_ONLN), BENCH_BUILD_TYPE);
    ib_size *results = calloc((size_t)cfg.n_sizes, sizeof *results);
    df_error err = DF_ERROR_INIT;
    for (int i = 0; i < cfg.n_sizes; i++) {
        results[i].n = cfg.sizes[i];
        if (bench_size(&cfg, &results[i], &err)) {
            fprintf(stderr, "docflow-bench --indexer: N = %zu: %s\n", cfg.sizes[i], err.msg);
            free(results);
            return 1;
        }
        if (!cfg.json) {
            print_size(&cfg, &results[i], ws_fs);
            fflush(stdout);
        }
    }
    if (cfg.json) print_json(&cfg, results, core);
    free(results);
    return 0;
}
