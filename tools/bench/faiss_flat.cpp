// faiss_flat.cpp -- FAISS's IndexFlatIP behind the C functions of
// faiss_flat.h, for docflow-bench --indexer. Exceptions stop here: the C
// side gets -1 and the message is printed.
#include "faiss_flat.h"

#include <cstdio>
#include <exception>

#include <faiss/IndexFlat.h>
#include <omp.h>

struct bench_faiss {
    faiss::IndexFlatIP index;
    explicit bench_faiss(size_t dim) : index((faiss::Index::idx_t)dim) {}
};

extern "C" bench_faiss *bench_faiss_new(size_t dim)
{
    try {
        return new bench_faiss(dim);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "faiss: %s\n", e.what());
        return nullptr;
    }
}

extern "C" void bench_faiss_free(bench_faiss *f)
{
    delete f;
}

extern "C" int bench_faiss_add(bench_faiss *f, size_t n, const float *x)
{
    try {
        f->index.add((faiss::Index::idx_t)n, x);
        return 0;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "faiss: %s\n", e.what());
        return -1;
    }
}

extern "C" int bench_faiss_search(bench_faiss *f, size_t nq, const float *q, size_t k,
                                  float *distances, int64_t *labels)
{
    try {
        f->index.search((faiss::Index::idx_t)nq, q, (faiss::Index::idx_t)k, distances,
                        reinterpret_cast<faiss::Index::idx_t *>(labels));
        return 0;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "faiss: %s\n", e.what());
        return -1;
    }
}

extern "C" void bench_faiss_set_threads(int n)
{
    omp_set_num_threads(n);
}
