/*
 * search.c -- exact top-k search over the stored matrix: the largest
 * dot(q, x) * scale[x] + bias[x] per query (vector_index.h says how every
 * metric becomes that).
 *
 * Two kernels:
 * - the fused scan, for a few queries: one pass over the rows computes the
 *   dot products (AVX-512 or AVX2+FMA, chosen at run time) and keeps the
 *   top k in the same pass, so the matrix is read once at memory speed;
 *   the rows are split over `threads` threads;
 * - sgemm blocks, for many queries: OpenBLAS multiplies a block of queries
 *   by a block of rows (compute-bound, where BLAS wins), then a vectorised
 *   filter against each query's current k-th best value feeds a heap. The
 *   filter passes about k * ln(rows / k) values per query, so selection
 *   costs one compare per 16 scores.
 *
 * Not here: metrics, scores, documents (vector_indexer.c).
 */
#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "vector_index.h"

/* Rows and queries per sgemm block. All of up to 1024 queries go in one
 * block, so each block of rows is packed by OpenBLAS once (smaller query
 * blocks re-read it per block: measured 10% slower); 1024 rows keep the
 * 4 MB block of scores close to the cores between sgemm and selection. */
#ifndef BLAS_ROWS
#define BLAS_ROWS 1024
#endif
#ifndef BLAS_QUERIES
#define BLAS_QUERIES 1024
#endif
/* Queries one fused pass serves: their partial sums stay in registers. */
#define SCAN_GROUP 4
/* Below this many floats a second thread costs more than it saves. */
#define SCAN_FLOATS_PER_THREAD ((size_t)1 << 20)

/* ========================================================================
 * Top-k heaps: a min-heap of k hits whose root is the worst kept hit, so
 * the root's value is the threshold a new value must beat.
 * ======================================================================== */

typedef struct topk {
    vx_hit *heap;
    size_t n, k;
    float threshold; /* -inf until k hits are kept */
} topk;

static inline int hit_better(vx_hit a, vx_hit b)
{
    return a.value > b.value || (a.value == b.value && a.row < b.row);
}

static void topk_init(topk *t, vx_hit *storage, size_t k)
{
    *t = (topk){.heap = storage, .n = 0, .k = k, .threshold = -INFINITY};
}

static void sift_down(vx_hit *h, size_t n, size_t i)
{
    vx_hit x = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && hit_better(h[c], h[c + 1])) c++; /* the worse child */
        if (!hit_better(x, h[c])) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

static void topk_push(topk *t, float value, size_t row)
{
    vx_hit x = {value, (uint32_t)row};
    if (value != value) return; /* NaN ranks nowhere */
    if (t->n < t->k) {
        size_t i = t->n++;
        while (i > 0 && hit_better(t->heap[(i - 1) / 2], x)) {
            t->heap[i] = t->heap[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        t->heap[i] = x;
        if (t->n == t->k) t->threshold = t->heap[0].value;
        return;
    }
    if (!hit_better(x, t->heap[0])) return;
    t->heap[0] = x;
    sift_down(t->heap, t->n, 0);
    t->threshold = t->heap[0].value;
}

static int by_rank(const void *a, const void *b)
{
    vx_hit x = *(const vx_hit *)a, y = *(const vx_hit *)b;
    return hit_better(x, y) ? -1 : hit_better(y, x) ? 1 : 0;
}

/* ========================================================================
 * CPU features, read once (cpu_supports is safe from any thread).
 * ======================================================================== */

enum { ISA_PORTABLE = 0, ISA_AVX2 = 1, ISA_AVX512 = 2 };

static int detected_isa;
static pthread_once_t isa_once = PTHREAD_ONCE_INIT;

static void detect_isa(void)
{
    detected_isa = ISA_PORTABLE;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        detected_isa = ISA_AVX512;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        detected_isa = ISA_AVX2;
#endif
}

/* Written once under pthread_once, read-only afterwards. */
static int isa_level(void)
{
    pthread_once(&isa_once, detect_isa);
    return detected_isa;
}

/* ========================================================================
 * Fused scan: rows [r0, r1) against up to SCAN_GROUP queries.
 * ======================================================================== */

typedef struct scan_job {
    const vx_matrix *m;
    const float *queries; /* nq x dim */
    size_t nq;            /* <= SCAN_GROUP */
    size_t r0, r1;
    topk *tk; /* nq heaps */
} scan_job;

static inline float row_value(const vx_matrix *m, size_t r, float dot)
{
    float v = dot;
    if (m->scale) v *= m->scale[r];
    if (m->bias) v += m->bias[r];
    return v;
}

static void scan_portable(const scan_job *j)
{
    const vx_matrix *m = j->m;
    const size_t dim = m->dim;
    for (size_t r = j->r0; r < j->r1; r++) {
        const float *x = m->data + r * dim;
        for (size_t i = 0; i < j->nq; i++) {
            const float *q = j->queries + i * dim;
            float acc[8] = {0};
            size_t c = 0;
            for (; c + 8 <= dim; c += 8)
                for (int l = 0; l < 8; l++)
                    acc[l] += x[c + l] * q[c + l];
            for (; c < dim; c++)
                acc[0] += x[c] * q[c];
            float dot =
                ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
            float v = row_value(m, r, dot);
            if (v > j->tk[i].threshold) topk_push(&j->tk[i], v, r);
        }
    }
}

#if defined(__x86_64__)

/* Two rows at a time, NQ queries: 2 * NQ independent FMA chains. NQ is a
 * constant at each call site, so every variant is unrolled. */
__attribute__((target("avx512f"), always_inline)) static inline void
scan_avx512_n(const scan_job *j, const size_t NQ)
{
    const vx_matrix *m = j->m;
    const size_t dim = m->dim, full = dim / 16;
    const __mmask16 tail = (__mmask16)((1u << (dim % 16)) - 1);
    const float *q = j->queries;
    size_t r = j->r0;
    for (; r + 2 <= j->r1; r += 2) {
        const float *x0 = m->data + r * dim, *x1 = x0 + dim;
        __m512 a0[SCAN_GROUP], a1[SCAN_GROUP];
        for (size_t i = 0; i < NQ; i++)
            a0[i] = a1[i] = _mm512_setzero_ps();
        for (size_t c = 0; c < full; c++) {
            __m512 v0 = _mm512_loadu_ps(x0 + 16 * c), v1 = _mm512_loadu_ps(x1 + 16 * c);
            for (size_t i = 0; i < NQ; i++) {
                __m512 qv = _mm512_loadu_ps(q + i * dim + 16 * c);
                a0[i] = _mm512_fmadd_ps(v0, qv, a0[i]);
                a1[i] = _mm512_fmadd_ps(v1, qv, a1[i]);
            }
        }
        if (tail) {
            __m512 v0 = _mm512_maskz_loadu_ps(tail, x0 + 16 * full);
            __m512 v1 = _mm512_maskz_loadu_ps(tail, x1 + 16 * full);
            for (size_t i = 0; i < NQ; i++) {
                __m512 qv = _mm512_maskz_loadu_ps(tail, q + i * dim + 16 * full);
                a0[i] = _mm512_fmadd_ps(v0, qv, a0[i]);
                a1[i] = _mm512_fmadd_ps(v1, qv, a1[i]);
            }
        }
        for (size_t i = 0; i < NQ; i++) {
            float v0 = row_value(m, r, _mm512_reduce_add_ps(a0[i]));
            float v1 = row_value(m, r + 1, _mm512_reduce_add_ps(a1[i]));
            if (v0 > j->tk[i].threshold) topk_push(&j->tk[i], v0, r);
            if (v1 > j->tk[i].threshold) topk_push(&j->tk[i], v1, r + 1);
        }
    }
    if (r < j->r1) {
        scan_job rest = *j;
        rest.r0 = r;
        scan_portable(&rest);
    }
}

__attribute__((target("avx512f"))) static void scan_avx512(const scan_job *j)
{
    switch (j->nq) {
    case 1:
        scan_avx512_n(j, 1);
        break;
    case 2:
        scan_avx512_n(j, 2);
        break;
    case 3:
        scan_avx512_n(j, 3);
        break;
    default:
        scan_avx512_n(j, 4);
        break;
    }
}

__attribute__((target("avx2,fma"))) static inline float hsum256(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma"), always_inline)) static inline void scan_avx2_n(const scan_job *j,
                                                                                  const size_t NQ)
{
    const vx_matrix *m = j->m;
    const size_t dim = m->dim, full = dim / 8;
    const float *q = j->queries;
    size_t r = j->r0;
    for (; r + 2 <= j->r1; r += 2) {
        const float *x0 = m->data + r * dim, *x1 = x0 + dim;
        __m256 a0[SCAN_GROUP], a1[SCAN_GROUP];
        for (size_t i = 0; i < NQ; i++)
            a0[i] = a1[i] = _mm256_setzero_ps();
        for (size_t c = 0; c < full; c++) {
            __m256 v0 = _mm256_loadu_ps(x0 + 8 * c), v1 = _mm256_loadu_ps(x1 + 8 * c);
            for (size_t i = 0; i < NQ; i++) {
                __m256 qv = _mm256_loadu_ps(q + i * dim + 8 * c);
                a0[i] = _mm256_fmadd_ps(v0, qv, a0[i]);
                a1[i] = _mm256_fmadd_ps(v1, qv, a1[i]);
            }
        }
        for (size_t i = 0; i < NQ; i++) {
            float d0 = hsum256(a0[i]), d1 = hsum256(a1[i]);
            for (size_t c = 8 * full; c < dim; c++) {
                d0 += x0[c] * q[i * dim + c];
                d1 += x1[c] * q[i * dim + c];
            }
            float v0 = row_value(m, r, d0), v1 = row_value(m, r + 1, d1);
            if (v0 > j->tk[i].threshold) topk_push(&j->tk[i], v0, r);
            if (v1 > j->tk[i].threshold) topk_push(&j->tk[i], v1, r + 1);
        }
    }
    if (r < j->r1) {
        scan_job rest = *j;
        rest.r0 = r;
        scan_portable(&rest);
    }
}

__attribute__((target("avx2,fma"))) static void scan_avx2(const scan_job *j)
{
    switch (j->nq) {
    case 1:
        scan_avx2_n(j, 1);
        break;
    case 2:
        scan_avx2_n(j, 2);
        break;
    case 3:
        scan_avx2_n(j, 3);
        break;
    default:
        scan_avx2_n(j, 4);
        break;
    }
}

#endif /* __x86_64__ */

static void scan_run(const scan_job *j)
{
#if defined(__x86_64__)
    int isa = isa_level();
    if (isa == ISA_AVX512) {
        scan_avx512(j);
        return;
    }
    if (isa == ISA_AVX2) {
        scan_avx2(j);
        return;
    }
#endif
    scan_portable(j);
}

static void *scan_thread(void *arg)
{
    scan_run(arg);
    return NULL;
}

/* One group of up to SCAN_GROUP queries over all rows, split over
 * `threads` threads, each with its own heaps; merged into `tk`. */
static int scan_group(const vx_matrix *m, const float *queries, size_t nq, size_t k, int threads,
                      topk *tk)
{
    size_t floats = m->rows * m->dim;
    size_t t = (size_t)(threads > 0 ? threads : 1);
    if (t > 1 + floats / SCAN_FLOATS_PER_THREAD) t = 1 + floats / SCAN_FLOATS_PER_THREAD;
    if (t > 64) t = 64;
    if (t <= 1) {
        scan_job j = {m, queries, nq, 0, m->rows, tk};
        scan_run(&j);
        return 0;
    }
    scan_job jobs[64];
    topk heaps[64][SCAN_GROUP];
    pthread_t tids[64];
    vx_hit *store = malloc(t * nq * k * sizeof *store);
    if (!store) return -1;
    size_t per = (m->rows + t - 1) / t;
    size_t started = 1;
    for (size_t i = 0; i < t; i++) {
        for (size_t g = 0; g < nq; g++)
            topk_init(&heaps[i][g], store + (i * nq + g) * k, k);
        size_t r0 = i * per < m->rows ? i * per : m->rows;
        size_t r1 = r0 + per < m->rows ? r0 + per : m->rows;
        jobs[i] = (scan_job){m, queries, nq, r0, r1, heaps[i]};
    }
    for (size_t i = 1; i < t; i++) {
        if (pthread_create(&tids[i], NULL, scan_thread, &jobs[i]) != 0) break;
        started++;
    }
    scan_run(&jobs[0]);
    for (size_t i = started; i < t; i++)
        scan_run(&jobs[i]); /* threads we could not start */
    for (size_t i = 1; i < started; i++)
        pthread_join(tids[i], NULL);
    for (size_t i = 0; i < t; i++)
        for (size_t g = 0; g < nq; g++)
            for (size_t h = 0; h < heaps[i][g].n; h++)
                topk_push(&tk[g], heaps[i][g].heap[h].value, heaps[i][g].heap[h].row);
    free(store);
    return 0;
}

/* ========================================================================
 * sgemm blocks and the vectorised selection of one row of scores.
 * ======================================================================== */

static void select_portable(const float *v, size_t n, size_t row0, const float *scale,
                            const float *bias, topk *t)
{
    for (size_t i = 0; i < n; i++) {
        float x = v[i];
        if (scale) x *= scale[i];
        if (bias) x += bias[i];
        if (x > t->threshold) topk_push(t, x, row0 + i);
    }
}

#if defined(__x86_64__)

/* HAS_SCALE and HAS_BIAS are constants at each call site. */
__attribute__((target("avx512f"), always_inline)) static inline void
select_avx512_n(const float *v, size_t n, size_t row0, const float *scale, const float *bias,
                topk *t, const int HAS_SCALE, const int HAS_BIAS)
{
    size_t i = 0;
    __m512 thr = _mm512_set1_ps(t->threshold);
    for (; i + 16 <= n; i += 16) {
        __m512 x = _mm512_loadu_ps(v + i);
        if (HAS_SCALE) x = _mm512_mul_ps(x, _mm512_loadu_ps(scale + i));
        if (HAS_BIAS) x = _mm512_add_ps(x, _mm512_loadu_ps(bias + i));
        __mmask16 pass = _mm512_cmp_ps_mask(x, thr, _CMP_GT_OQ);
        if (!pass) continue;
        float lanes[16];
        _mm512_storeu_ps(lanes, x);
        while (pass) {
            unsigned l = (unsigned)__builtin_ctz(pass);
            pass &= (__mmask16)(pass - 1);
            if (lanes[l] > t->threshold) topk_push(t, lanes[l], row0 + i + l);
        }
        thr = _mm512_set1_ps(t->threshold);
    }
    select_portable(v + i, n - i, row0 + i, HAS_SCALE ? scale + i : NULL,
                    HAS_BIAS ? bias + i : NULL, t);
}

__attribute__((target("avx512f"))) static void
select_avx512(const float *v, size_t n, size_t row0, const float *scale, const float *bias, topk *t)
{
    if (scale && bias)
        select_avx512_n(v, n, row0, scale, bias, t, 1, 1);
    else if (scale)
        select_avx512_n(v, n, row0, scale, bias, t, 1, 0);
    else if (bias)
        select_avx512_n(v, n, row0, scale, bias, t, 0, 1);
    else
        select_avx512_n(v, n, row0, scale, bias, t, 0, 0);
}

__attribute__((target("avx2"), always_inline)) static inline void
select_avx2_n(const float *v, size_t n, size_t row0, const float *scale, const float *bias, topk *t,
              const int HAS_SCALE, const int HAS_BIAS)
{
    size_t i = 0;
    __m256 thr = _mm256_set1_ps(t->threshold);
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(v + i);
        if (HAS_SCALE) x = _mm256_mul_ps(x, _mm256_loadu_ps(scale + i));
        if (HAS_BIAS) x = _mm256_add_ps(x, _mm256_loadu_ps(bias + i));
        unsigned pass = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(x, thr, _CMP_GT_OQ));
        if (!pass) continue;
        float lanes[8];
        _mm256_storeu_ps(lanes, x);
        while (pass) {
            unsigned l = (unsigned)__builtin_ctz(pass);
            pass &= pass - 1;
            if (lanes[l] > t->threshold) topk_push(t, lanes[l], row0 + i + l);
        }
        thr = _mm256_set1_ps(t->threshold);
    }
    select_portable(v + i, n - i, row0 + i, HAS_SCALE ? scale + i : NULL,
                    HAS_BIAS ? bias + i : NULL, t);
}

__attribute__((target("avx2"))) static void
select_avx2(const float *v, size_t n, size_t row0, const float *scale, const float *bias, topk *t)
{
    if (scale && bias)
        select_avx2_n(v, n, row0, scale, bias, t, 1, 1);
    else if (scale)
        select_avx2_n(v, n, row0, scale, bias, t, 1, 0);
    else if (bias)
        select_avx2_n(v, n, row0, scale, bias, t, 0, 1);
    else
        select_avx2_n(v, n, row0, scale, bias, t, 0, 0);
}

#endif /* __x86_64__ */

typedef void (*select_fn)(const float *, size_t, size_t, const float *, const float *, topk *);

static select_fn pick_select(void)
{
#if defined(__x86_64__)
    int isa = isa_level();
    if (isa == ISA_AVX512) return select_avx512;
    if (isa >= ISA_AVX2) return select_avx2;
#endif
    return select_portable;
}

/* The selection of one block of scores is split by query over the
 * threads: thread i owns the heaps of its share of the queries, so nothing
 * is shared. Helpers sleep on a condition variable (blocked in the kernel,
 * not spinning) while OpenBLAS multiplies, and OpenBLAS's threads are done
 * while they select: the two never run at once, one owner of the cores at
 * a time. */
typedef struct blas_select {
    pthread_mutex_t mu;
    pthread_cond_t go, idle;
    unsigned long generation; /* bumped for each block */
    int pending;              /* helpers still selecting the current block */
    int finished;
    int threads; /* the caller and the helpers that started */
    select_fn select;
    /* the current block, set by the caller before bumping the generation */
    const float *scores;
    size_t xn, x0, q0, qn;
    const float *scale, *bias;
    topk *tk;
} blas_select;

static void select_share(blas_select *b, int i)
{
    size_t lo = b->qn * (size_t)i / (size_t)b->threads;
    size_t hi = b->qn * (size_t)(i + 1) / (size_t)b->threads;
    for (size_t q = lo; q < hi; q++)
        b->select(b->scores + q * b->xn, b->xn, b->x0, b->scale, b->bias, &b->tk[b->q0 + q]);
}

typedef struct blas_helper {
    blas_select *b;
    int index;
} blas_helper;

static void *select_helper(void *arg)
{
    blas_helper *h = arg;
    blas_select *b = h->b;
    unsigned long seen = 0;
    for (;;) {
        pthread_mutex_lock(&b->mu);
        while (b->generation == seen && !b->finished)
            pthread_cond_wait(&b->go, &b->mu);
        seen = b->generation;
        int finished = b->finished;
        pthread_mutex_unlock(&b->mu);
        if (finished) return NULL;
        select_share(b, h->index);
        pthread_mutex_lock(&b->mu);
        if (--b->pending == 0) pthread_cond_signal(&b->idle);
        pthread_mutex_unlock(&b->mu);
    }
}

/* Selects the current block on every thread; returns when all are done. */
static void select_block(blas_select *b)
{
    if (b->threads > 1) {
        pthread_mutex_lock(&b->mu);
        b->generation++;
        b->pending = b->threads - 1;
        pthread_cond_broadcast(&b->go);
        pthread_mutex_unlock(&b->mu);
    }
    select_share(b, 0);
    if (b->threads > 1) {
        pthread_mutex_lock(&b->mu);
        while (b->pending > 0)
            pthread_cond_wait(&b->idle, &b->mu);
        pthread_mutex_unlock(&b->mu);
    }
}

/* Helpers only pay off when selection is long next to waking them: from
 * this many scores per search, and 16 queries per thread. */
#define PARALLEL_SELECT_MIN ((size_t)1 << 24)
#define MAX_SELECT_THREADS  16

static int search_blas(const vx_matrix *m, const float *queries, size_t nq, int threads, topk *tk)
{
    const size_t dim = m->dim;
    const size_t qb = nq < BLAS_QUERIES ? nq : BLAS_QUERIES;
    float *scores = malloc(qb * BLAS_ROWS * sizeof *scores);
    if (!scores) return -1;
    if (threads > MAX_SELECT_THREADS) threads = MAX_SELECT_THREADS;
    if (threads < 1 || nq * m->rows < PARALLEL_SELECT_MIN || qb < (size_t)threads * 16) threads = 1;
    blas_select b = {.mu = PTHREAD_MUTEX_INITIALIZER,
                     .go = PTHREAD_COND_INITIALIZER,
                     .idle = PTHREAD_COND_INITIALIZER,
                     .threads = 1,
                     .select = pick_select(),
                     .tk = tk};
    pthread_t tids[MAX_SELECT_THREADS];
    blas_helper helpers[MAX_SELECT_THREADS];
    for (int i = 1; i < threads; i++) { /* b.threads counts those that started */
        helpers[i] = (blas_helper){&b, i};
        if (pthread_create(&tids[i], NULL, select_helper, &helpers[i]) != 0) break;
        b.threads++;
    }
    for (size_t x0 = 0; x0 < m->rows; x0 += BLAS_ROWS) {
        size_t xn = m->rows - x0 < BLAS_ROWS ? m->rows - x0 : BLAS_ROWS;
        for (size_t q0 = 0; q0 < nq; q0 += qb) {
            size_t qn = nq - q0 < qb ? nq - q0 : qb;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)qn, (int)xn, (int)dim, 1.0f,
                        queries + q0 * dim, (int)dim, m->data + x0 * dim, (int)dim, 0.0f, scores,
                        (int)xn);
            b.scores = scores;
            b.xn = xn;
            b.x0 = x0;
            b.q0 = q0;
            b.qn = qn;
            b.scale = m->scale ? m->scale + x0 : NULL;
            b.bias = m->bias ? m->bias + x0 : NULL;
            select_block(&b);
        }
    }
    pthread_mutex_lock(&b.mu);
    b.finished = 1;
    pthread_cond_broadcast(&b.go);
    pthread_mutex_unlock(&b.mu);
    for (int i = 1; i < b.threads; i++)
        pthread_join(tids[i], NULL);
    free(scores);
    return 0;
}

/* ========================================================================
 * Entry points
 * ======================================================================== */

vx_kernel vx_search_pick(size_t nq, size_t rows)
{
    (void)rows;
    return nq <= SCAN_GROUP ? VX_KERNEL_SCAN : VX_KERNEL_BLAS;
}

int vx_search(const vx_matrix *m, const float *queries, size_t nq, size_t k, vx_kernel kernel,
              int threads, vx_hit *hits, size_t *counts)
{
    if (nq == 0) return 0;
    if (k == 0 || m->rows == 0) {
        memset(counts, 0, nq * sizeof *counts);
        return 0;
    }
    size_t kk = k < m->rows ? k : m->rows; /* heaps never need more than the rows */
    topk *tk = malloc(nq * sizeof *tk);
    if (!tk) return -1;
    for (size_t i = 0; i < nq; i++)
        topk_init(&tk[i], hits + i * k, kk);
    if (kernel == VX_KERNEL_AUTO) kernel = vx_search_pick(nq, m->rows);
    int rc = 0;
    if (kernel == VX_KERNEL_BLAS) {
        rc = search_blas(m, queries, nq, threads, tk);
    } else {
        for (size_t g = 0; g < nq && rc == 0; g += SCAN_GROUP) {
            size_t n = nq - g < SCAN_GROUP ? nq - g : SCAN_GROUP;
            rc = scan_group(m, queries + g * m->dim, n, kk, threads, tk + g);
        }
    }
    for (size_t i = 0; i < nq && rc == 0; i++) {
        qsort(tk[i].heap, tk[i].n, sizeof *tk[i].heap, by_rank);
        counts[i] = tk[i].n;
    }
    free(tk);
    return rc;
}
