/*
 * idf_table.h -- the document frequencies TextEncoder fits on /fit: how many
 * fitted documents held each feature, counted in a fixed table of hashed
 * slots (far more slots than embedding dimensions, so the IDF of a rare
 * feature is not drowned by the common ones sharing its bucket), and the
 * file in the workspace that keeps them across restarts.
 *
 * Not thread-safe: one table belongs to one encoder instance.
 */
#ifndef IDF_TABLE_H
#define IDF_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include <docflow/executor.h>

#define IDF_SLOTS_LOG2 20
#define IDF_SLOTS      (1u << IDF_SLOTS_LOG2) /* 4 MiB of uint32 counters */
#define IDF_FILE_NAME  "idf.bin"

typedef struct idf_table {
    uint64_t n_docs; /* documents fitted so far; 0 = not fitted */
    uint32_t *df;    /* IDF_SLOTS counters (host->alloc), or NULL while n_docs == 0 */
} idf_table;

/* The slot of a feature hash: its low bits (the encoder takes the bucket and
 * the sign from the high bits). */
static inline uint32_t idf_slot(uint64_t hash)
{
    return (uint32_t)(hash & (IDF_SLOTS - 1));
}

/* Smoothed IDF, as scikit-learn's TfidfVectorizer: ln((1 + N) / (1 + df)) + 1.
 * Only meaningful when t->n_docs > 0. */
double idf_weight(const idf_table *t, uint32_t slot);

/* Loads path into t. Returns DF_OK (t filled; t->n_docs == 0 when the file
 * does not exist), or an error code with a message in err[0..err_len). */
int idf_load(const df_host *h, idf_table *t, const char *path, char *err, size_t err_len);

/* Writes t to path durably and atomically (path.tmp, fsync, rename, fsync of
 * the folder): a crash leaves the old file or the new one, never a mix.
 * Returns DF_OK or DF_E_IO with a message in err. */
int idf_save(const idf_table *t, const char *path, char *err, size_t err_len);

void idf_free(const df_host *h, idf_table *t);

#endif /* IDF_TABLE_H */
