/*
 * search.c -- exact top-k search over the stored matrix: the largest
 * dot(q, x) * scale[x] + bias[x] per query (vector_index.h says how every
 * metric becomes that).
 *
 * Two kernels:
 * - the fused scan, for a few queries: one pass over the rows computes the
 *   dot products (AVX-512 or AVX2+FMA, chosen at run time) and keeps the
 *   top k in the same pass, so the matrix is read once at memory speed;
 *   the rows are tasks for the pool's threads (pool.c);
 * - sgemm blocks, for many queries: OpenBLAS multiplies a block of queries
 *   by a block of rows (compute-bound, where BLAS wins), then a vectorised
 *   filter against each query's current k-th best value feeds a heap. The
 *   filter passes about k * ln(rows / k) values per query, so selection
 *   costs one compare per 16 scores; groups of queries are pool tasks.
 *
 * Not here: metrics, scores, documents (vector_indexer.c), threads (pool.c).
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
 * block, so each block of rows is packed by OpenBLAS once (blocks of 256
 * queries re-read it four times: measured up to 10% slower); 512 rows keep
 * the 2 MB block of scores in L2 between sgemm and selection (1024 rows
 * were 4% slower on one thread) and still split well over OpenBLAS's
 * threads (256 rows did not). Overridable with -D for experiments. */
#ifndef BLAS_ROWS
#define BLAS_ROWS 512
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

/* The fused scan of up to SCAN_GROUP queries as pool tasks: each task is
 * a range of rows; each worker keeps its own heaps (worker 0's are the
 * caller's), merged at the end. */
typedef struct scan_tasks {
    const vx_matrix *m;
    const float *queries;
    size_t nq;
    size_t rows_per_task;
    topk *heaps; /* worker w: heaps[w * nq .. + nq] */
} scan_tasks;

static void scan_task(void *arg, size_t task, int worker)
{
    scan_tasks *t = arg;
    size_t r0 = task * t->rows_per_task;
    size_t r1 = r0 + t->rows_per_task < t->m->rows ? r0 + t->rows_per_task : t->m->rows;
    scan_job j = {t->m, t->queries, t->nq, r0, r1, t->heaps + (size_t)worker * t->nq};
    scan_run(&j);
}

/* One group of up to SCAN_GROUP queries over all rows, into `tk`. */
static int scan_group(const vx_matrix *m, const float *queries, size_t nq, size_t k, int threads,
                      vx_pool *pool, topk *tk)
{
    size_t floats = m->rows * m->dim;
    size_t t = (size_t)(threads > 0 ? threads : 1);
    if (t > 1 + floats / SCAN_FLOATS_PER_THREAD) t = 1 + floats / SCAN_FLOATS_PER_THREAD;
    if (t > 64) t = 64;
    if (t <= 1 || !pool) {
        scan_job j = {m, queries, nq, 0, m->rows, tk};
        scan_run(&j);
        return 0;
    }
    topk heaps[64 * SCAN_GROUP];
    vx_hit *store = malloc((t - 1) * nq * k * sizeof *store);
    if (!store) return -1;
    for (size_t g = 0; g < nq; g++)
        heaps[g] = tk[g];
    for (size_t w = 1; w < t; w++)
        for (size_t g = 0; g < nq; g++)
            topk_init(&heaps[w * nq + g], store + ((w - 1) * nq + g) * k, k);
    /* 8 tasks per thread: a late thread takes fewer; each still a few MB */
    size_t per = (m->rows + t * 8 - 1) / (t * 8);
    scan_tasks st = {m, queries, nq, per, heaps};
    vx_pool_run(pool, (int)t, (m->rows + per - 1) / per, scan_task, &st);
    for (size_t g = 0; g < nq; g++)
        tk[g] = heaps[g];
    for (size_t w = 1; w < t; w++)
        for (size_t g = 0; g < nq; g++)
            for (size_t h = 0; h < heaps[w * nq + g].n; h++)
                topk_push(&tk[g], heaps[w * nq + g].heap[h].value, heaps[w * nq + g].heap[h].row);
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

/* The selection of one block of scores, as pool tasks of SELECT_QUERIES
 * queries each: a task owns its queries' heaps, so nothing is shared. The
 * pool's helpers sleep while OpenBLAS multiplies, and OpenBLAS's threads
 * are done while they select: one owner of the cores at a time. */
#define SELECT_QUERIES 32

typedef struct blas_block {
    select_fn select;
    const float *scores;
    size_t xn, x0, q0, qn;
    const float *scale, *bias;
    topk *tk;
} blas_block;

static void select_task(void *arg, size_t task, int worker)
{
    (void)worker;
    blas_block *b = arg;
    size_t lo = task * SELECT_QUERIES;
    size_t hi = lo + SELECT_QUERIES < b->qn ? lo + SELECT_QUERIES : b->qn;
    for (size_t q = lo; q < hi; q++)
        b->select(b->scores + q * b->xn, b->xn, b->x0, b->scale, b->bias, &b->tk[b->q0 + q]);
}

/* Helpers only pay off when selection is long next to waking them. */
#define PARALLEL_SELECT_MIN ((size_t)1 << 24)

static int search_blas(const vx_matrix *m, const float *queries, size_t nq, int threads,
                       vx_pool *pool, topk *tk)
{
    const size_t dim = m->dim;
    const size_t qb = nq < BLAS_QUERIES ? nq : BLAS_QUERIES;
    float *scores = malloc(qb * BLAS_ROWS * sizeof *scores);
    if (!scores) return -1;
    if (nq * m->rows < PARALLEL_SELECT_MIN) threads = 1;
    blas_block b = {.select = pick_select(), .scores = scores, .tk = tk};
    for (size_t x0 = 0; x0 < m->rows; x0 += BLAS_ROWS) {
        size_t xn = m->rows - x0 < BLAS_ROWS ? m->rows - x0 : BLAS_ROWS;
        for (size_t q0 = 0; q0 < nq; q0 += qb) {
            size_t qn = nq - q0 < qb ? nq - q0 : qb;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)qn, (int)xn, (int)dim, 1.0f,
                        queries + q0 * dim, (int)dim, m->data + x0 * dim, (int)dim, 0.0f, scores,
                        (int)xn);
            b.xn = xn;
            b.x0 = x0;
            b.q0 = q0;
            b.qn = qn;
            b.scale = m->scale ? m->scale + x0 : NULL;
            b.bias = m->bias ? m->bias + x0 : NULL;
            vx_pool_run(pool, threads, (qn + SELECT_QUERIES - 1) / SELECT_QUERIES, select_task, &b);
        }
    }
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
              int threads, vx_pool *pool, vx_hit *hits, size_t *counts)
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
        rc = search_blas(m, queries, nq, threads, pool, tk);
    } else {
        for (size_t g = 0; g < nq && rc == 0; g += SCAN_GROUP) {
            size_t n = nq - g < SCAN_GROUP ? nq - g : SCAN_GROUP;
            rc = scan_group(m, queries + g * m->dim, n, kk, threads, pool, tk + g);
        }
    }
    for (size_t i = 0; i < nq && rc == 0; i++) {
        qsort(tk[i].heap, tk[i].n, sizeof *tk[i].heap, by_rank);
        counts[i] = tk[i].n;
    }
    free(tk);
    return rc;
}
