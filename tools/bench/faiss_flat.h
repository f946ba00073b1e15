/*
 * faiss_flat.h -- the few FAISS calls docflow-bench --indexer makes, as C
 * functions (faiss_flat.cpp wraps the C++ API; Debian's libfaiss-dev ships
 * no C API). Built only when CMake finds libfaiss: the reference the
 * VectorIndexer is measured against, never a dependency of docflow.
 */
#ifndef DOCFLOW_BENCH_FAISS_FLAT_H
#define DOCFLOW_BENCH_FAISS_FLAT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bench_faiss bench_faiss;

/* An IndexFlatIP of `dim` floats per vector; NULL on failure. */
bench_faiss *bench_faiss_new(size_t dim);
void bench_faiss_free(bench_faiss *f);
/* 0, or -1 when FAISS threw (the message goes to stderr). */
int bench_faiss_add(bench_faiss *f, size_t n, const float *x);
int bench_faiss_search(bench_faiss *f, size_t nq, const float *q, size_t k, float *distances,
                       int64_t *labels);
/* OpenMP threads FAISS uses (omp_set_num_threads). */
void bench_faiss_set_threads(int n);

#ifdef __cplusplus
}
#endif
#endif
