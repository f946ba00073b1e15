/*
 * text_encoder.c -- TextEncoder, the built-in text embedding: each document's
 * `text` becomes a fixed-`dim`, L2-normalised float32 embedding of its hashed
 * word unigrams, word bigrams and character n-grams (the hashing trick with
 * signed buckets), weighted by sublinear TF (1 + ln tf) and, once /fit has
 * seen some documents, by smoothed IDF. Deterministic: the same text and the
 * same fitted IDF give the same bits on every run and machine.
 *
 * Endpoints: /fit counts document frequencies (kept in the workspace); every
 * other endpoint encodes (a default handler, so /index and /search both do,
 * as Jina's encoders). Tokenising and hashing live in text_features.c, the
 * IDF table and its file in idf_table.c; this file holds the executor.
 *
 * No BLAS: the work is hashing and sparse scatter-adds, then one pass over
 * `dim` floats per family to normalise, which BLAS would not speed up. The
 * batch is still built as one rows x dim matrix and set with one
 * docs_set_embeddings per document array.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <docflow/executor.h>

#include "idf_table.h"
#include "text_features.h"
#include "traversal.h"

#define MAX_DIM   65536
#define MAX_NGRAM 16

typedef struct text_encoder {
    const df_host *host;
    df_exec *exec;
    size_t dim;
    tf_options features;
    double weight[TF_FAMILIES]; /* with.word_weight, bigram_weight, char_weight */
    int use_idf;
    char traversal[TRAVERSAL_MAX];
    char *idf_path; /* <workspace>/idf.bin (host->alloc); NULL without a workspace */
    idf_table idf;
    tf_scratch scratch;
    double *family;  /* dim accumulators of the family being summed */
    uint32_t *slots; /* /fit: the IDF slots of one document */
    size_t slots_cap;
} text_encoder;

static void encoder_close(void *state)
{
    text_encoder *e = state;
    const df_host *h = e->host;
    tf_scratch_free(&e->scratch);
    idf_free(h, &e->idf);
    h->free(e->idf_path);
    h->free(e->family);
    h->free(e->slots);
    h->free(e);
}

/* ---- init ------------------------------------------------------------------------ */

/* Renders a with: value for an error message: scalars, and lists of scalars. */
static void describe(const df_host *h, const df_value *v, char *out, size_t len)
{
    switch (h->value_type(v)) {
    case DF_VALUE_NUMBER:
        snprintf(out, len, "%g", h->value_number(v));
        return;
    case DF_VALUE_STRING:
        snprintf(out, len, "\"%s\"", h->value_string(v, NULL));
        return;
    case DF_VALUE_BOOL:
        snprintf(out, len, "%s", h->value_bool(v) ? "true" : "false");
        return;
    case DF_VALUE_NULL:
        snprintf(out, len, "null");
        return;
    case DF_VALUE_MAP:
        snprintf(out, len, "a mapping");
        return;
    case DF_VALUE_LIST:
        break;
    }
    size_t used = (size_t)snprintf(out, len, "[");
    for (size_t i = 0; i < h->value_len(v) && used < len; i++) {
        char item[64];
        describe(h, h->value_at(v, i), item, sizeof item);
        used += (size_t)snprintf(out + used, len - used, "%s%s", i ? ", " : "", item);
    }
    if (used < len) snprintf(out + used, len - used, "]");
}

static int integral(const df_host *h, const df_value *v, int64_t lo, int64_t hi, int64_t *out)
{
    if (h->value_type(v) != DF_VALUE_NUMBER) return 0;
    double x = h->value_number(v);
    if (!(x >= (double)lo && x <= (double)hi) || x != floor(x)) return 0;
    *out = (int64_t)x;
    return 1;
}

/* with.ngram_range: [min, max] character n-gram lengths, 1 <= min <= max <= 16. */
static int read_ngram_range(const df_host *h, df_init *init, tf_options *o)
{
    const df_value *v = h->with_value(init, "ngram_range");
    int64_t lo = 3, hi = 5;
    if (v && h->value_type(v) != DF_VALUE_NULL &&
        (h->value_type(v) != DF_VALUE_LIST || h->value_len(v) != 2 ||
         !integral(h, h->value_at(v, 0), 1, MAX_NGRAM, &lo) ||
         !integral(h, h->value_at(v, 1), 1, MAX_NGRAM, &hi) || lo > hi)) {
        char got[160];
        describe(h, v, got, sizeof got);
        return h->init_fail(init, DF_E_INVALID_INPUT,
                            "with.ngram_range: expected [min, max] character n-gram lengths "
                            "with 1 <= min <= max <= %d, e.g. [3, 5]; got %s",
                            MAX_NGRAM, got);
    }
    o->ngram_min = (int)lo;
    o->ngram_max = (int)hi;
    return DF_OK;
}

static int read_weights(const df_host *h, df_init *init, text_encoder *e)
{
    static const char *const keys[TF_FAMILIES] = {"word_weight", "bigram_weight", "char_weight"};
    static const double defaults[TF_FAMILIES] = {1.0, 0.5, 0.5};
    double total = 0;
    for (int f = 0; f < TF_FAMILIES; f++) {
        int rc = h->with_float(init, keys[f], defaults[f], &e->weight[f]);
        if (rc) return rc;
        if (!(e->weight[f] >= 0 && e->weight[f] <= 1e6))
            return h->init_fail(init, DF_E_INVALID_INPUT,
                                "with.%s: expected a number >= 0 (0 turns the family off), got %g",
                                keys[f], e->weight[f]);
        e->features.want[f] = e->weight[f] > 0;
        total += e->weight[f];
    }
    if (total == 0)
        return h->init_fail(init, DF_E_INVALID_INPUT,
                            "with.word_weight, bigram_weight and char_weight are all 0: "
                            "nothing would be encoded");
    return DF_OK;
}

/* Finds the workspace and loads a fitted IDF from it, if any. */
static int open_idf(const df_host *h, df_init *init, text_encoder *e)
{
    const char *ws = h->exec_workspace(e->exec);
    if (!ws) {
        h->log(e->exec, DF_LOG_WARN, "no workspace: /fit will fail and no IDF is used");
        return DF_OK;
    }
    size_t len = strlen(ws) + sizeof "/" IDF_FILE_NAME;
    e->idf_path = h->alloc(len);
    snprintf(e->idf_path, len, "%s/%s", ws, IDF_FILE_NAME);
    char err[512];
    int rc = idf_load(h, &e->idf, e->idf_path, err, sizeof err);
    if (rc)
        return h->init_fail(init, rc, "%s (delete it to start the IDF afresh, or fit again)", err);
    if (e->idf.n_docs)
        h->log(e->exec, DF_LOG_INFO, "IDF of %llu documents loaded from %s%s",
               (unsigned long long)e->idf.n_docs, e->idf_path,
               e->use_idf ? "" : " (not used: with.use_idf is false)");
    return DF_OK;
}

static int read_config(const df_host *h, df_init *init, text_encoder *e)
{
    int64_t dim;
    int rc;
    if ((rc = h->with_int(init, "dim", 256, &dim))) return rc;
    if (dim <= 0 || dim > MAX_DIM)
        return h->init_fail(init, DF_E_INVALID_INPUT,
                            "with.dim: expected an integer between 1 and %d, got %lld", MAX_DIM,
                            (long long)dim);
    e->dim = (size_t)dim;
    if ((rc = h->with_bool(init, "lowercase", 1, &e->features.lowercase))) return rc;
    if ((rc = h->with_bool(init, "use_idf", 1, &e->use_idf))) return rc;
    if ((rc = read_ngram_range(h, init, &e->features))) return rc;
    if ((rc = read_weights(h, init, e))) return rc;
    if ((rc = traversal_from_with(h, init, e->traversal))) return rc;
    return open_idf(h, init, e);
}

static int encoder_init(const df_host *h, df_init *init, void **state_out)
{
    text_encoder *e = h->alloc(sizeof *e);
    *e = (text_encoder){.host = h, .exec = h->init_exec(init), .scratch = {.host = h}};
    int rc = read_config(h, init, e);
    if (rc) {
        encoder_close(e); /* close is not called when init fails */
        return rc;
    }
    e->family = h->alloc(e->dim * sizeof *e->family);
    h->log(e->exec, DF_LOG_DEBUG, "dim %zu, char n-grams %d..%d, weights %g/%g/%g", e->dim,
           e->features.ngram_min, e->features.ngram_max, e->weight[0], e->weight[1], e->weight[2]);
    *state_out = e;
    return DF_OK;
}

/* ---- encoding ------------------------------------------------------------------------- */

/* The bucket of a feature: the hash's high 32 bits scaled into [0, dim)
 * (Lemire's multiply-shift; no modulo bias worth mentioning, any dim). */
static size_t bucket_of(uint64_t hash, size_t dim)
{
    return (size_t)(((hash >> 32) * (uint64_t)dim) >> 32);
}

/* Signed hashing: colliding features cancel on average instead of piling
 * up. Bit 31 is used by neither the bucket nor the IDF slot. */
static double sign_of(uint64_t hash)
{
    return (hash >> 31) & 1 ? -1.0 : 1.0;
}

/* Scales v to unit length; returns 0 (and leaves v) when it is all zeros. */
static int normalise(float *v, size_t dim)
{
    double sum = 0;
    for (size_t i = 0; i < dim; i++)
        sum += (double)v[i] * v[i];
    if (sum == 0) return 0;
    double scale = 1.0 / sqrt(sum);
    for (size_t i = 0; i < dim; i++)
        v[i] = (float)(v[i] * scale);
    return 1;
}

/* Adds weight * acc / |acc| to out. */
static void add_family(float *out, const double *acc, size_t dim, double weight)
{
    double sum = 0;
    for (size_t i = 0; i < dim; i++)
        sum += acc[i] * acc[i];
    if (sum == 0) return;
    double scale = weight / sqrt(sum);
    for (size_t i = 0; i < dim; i++)
        out[i] = (float)(out[i] + acc[i] * scale);
}

/* Sums the features of one family, f[*i..), into e->family. */
static void sum_family(text_encoder *e, const tf_feature *f, size_t n, size_t *i)
{
    int idf = e->use_idf && e->idf.n_docs > 0;
    uint32_t family = f[*i].family;
    memset(e->family, 0, e->dim * sizeof *e->family);
    for (; *i < n && f[*i].family == family; (*i)++) {
        double w = 1.0 + log((double)f[*i].count);
        if (idf) w *= idf_weight(&e->idf, idf_slot(f[*i].hash));
        e->family[bucket_of(f[*i].hash, e->dim)] += sign_of(f[*i].hash) * w;
    }
}

/* One text into out[dim], unit length. Each family is normalised on its own
 * and added with its weight, so the many character n-grams of a text do not
 * drown its few words. A text without word characters ("!!!") becomes the
 * one-hot of its raw bytes' hash: still unit length, equal only to itself. */
static void encode_text(text_encoder *e, const char *text, size_t len, float *out)
{
    const tf_feature *f;
    size_t n = tf_extract(&e->scratch, &e->features, text, len, &f);
    memset(out, 0, e->dim * sizeof *out);
    for (size_t i = 0; i < n;) {
        uint32_t family = f[i].family;
        sum_family(e, f, n, &i);
        add_family(out, e->family, e->dim, e->weight[family]);
    }
    if (normalise(out, e->dim)) return;
    uint64_t h = tf_hash_bytes(text, len);
    out[bucket_of(h, e->dim)] = (float)sign_of(h);
}

/* Sets the rows of one array: with docs_set_embeddings when every document
 * has text (the common case: one copy of one block), else one by one. */
static void set_rows(const df_host *h, df_docs *docs, const float *rows, const unsigned char *has,
                     size_t dim)
{
    size_t n = h->docs_len(docs), with_text = 0;
    for (size_t i = 0; i < n; i++)
        with_text += has[i];
    if (with_text == n) {
        h->docs_set_embeddings(docs, rows, n, dim);
        return;
    }
    for (size_t i = 0, row = 0; i < n; i++)
        if (has[i]) h->doc_set_embedding_f32(h->docs_get(docs, i), rows + dim * row++, dim);
}

/* The default handler (/index, /search, any endpoint but /fit): encodes the
 * text of every selected document. Documents without text are left as they
 * are (an embedding they carry stays) and counted as skipped. */
static int encode(void *state, df_req *req)
{
    text_encoder *e = state;
    const df_host *h = e->host;
    const char *paths;
    int rc = traversal_from_params(h, req, e->traversal, &paths);
    if (rc) return rc;
    doc_arrays arrays = traversal_collect(h, req, paths);
    size_t encoded = 0, skipped = 0;
    for (size_t a = 0; a < arrays.n; a++) {
        df_docs *docs = arrays.items[a];
        size_t n = h->docs_len(docs), rows = 0;
        float *matrix = h->req_alloc(req, n * e->dim * sizeof *matrix);
        unsigned char *has = h->req_alloc(req, n);
        for (size_t i = 0; i < n; i++) {
            size_t len;
            const char *text = h->doc_text(h->docs_get(docs, i), &len);
            has[i] = text != NULL;
            if (text) encode_text(e, text, len, matrix + e->dim * rows++);
        }
        set_rows(h, docs, matrix, has, e->dim);
        encoded += rows;
        skipped += n - rows;
    }
    df_value *results = h->req_results(req);
    h->value_put_number(results, "encoded", (double)encoded);
    h->value_put_number(results, "skipped", (double)skipped);
    return DF_OK;
}

/* ---- fitting ------------------------------------------------------------------------------- */

static int compare_u32(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    return a < b ? -1 : a > b;
}

/* Counts one document: +1 for each IDF slot its features reach (once per
 * slot, however many of its features share it). */
static void fit_text(text_encoder *e, const char *text, size_t len)
{
    const df_host *h = e->host;
    tf_options all = e->features;
    for (int f = 0; f < TF_FAMILIES; f++)
        all.want[f] = 1; /* a weight may change later */
    const tf_feature *f;
    size_t n = tf_extract(&e->scratch, &all, text, len, &f);
    if (n > e->slots_cap) {
        h->free(e->slots);
        e->slots_cap = 2 * n;
        e->slots = h->alloc(e->slots_cap * sizeof *e->slots);
    }
    uint32_t *slots = e->slots;
    for (size_t i = 0; i < n; i++)
        slots[i] = idf_slot(f[i].hash);
    qsort(slots, n, sizeof *slots, compare_u32);
    for (size_t i = 0; i < n; i++)
        if ((i == 0 || slots[i] != slots[i - 1]) && e->idf.df[slots[i]] < UINT32_MAX)
            e->idf.df[slots[i]]++;
}

/* Counts every selected document with text; returns how many. */
static size_t fit_docs(text_encoder *e, df_req *req, const char *paths)
{
    const df_host *h = e->host;
    doc_arrays arrays = traversal_collect(h, req, paths);
    size_t fitted = 0;
    for (size_t a = 0; a < arrays.n; a++)
        for (size_t i = 0; i < h->docs_len(arrays.items[a]); i++) {
            size_t len;
            const char *text = h->doc_text(h->docs_get(arrays.items[a], i), &len);
            if (!text) continue;
            fit_text(e, text, len);
            fitted++;
        }
    return fitted;
}

static int param_reset_and_paths(text_encoder *e, df_req *req, int *reset, const char **paths)
{
    int rc = e->host->param_bool(req, "reset", 0, reset);
    return rc ? rc : traversal_from_params(e->host, req, e->traversal, paths);
}

/* /fit: adds the selected documents' features to the document frequencies
 * and saves them in the workspace before returning. parameters.reset: true
 * forgets earlier fits first. If saving fails, the table is as before the
 * call, in memory and on disk. */
static int fit(void *state, df_req *req)
{
    text_encoder *e = state;
    const df_host *h = e->host;
    const char *paths;
    int reset, rc;
    if ((rc = param_reset_and_paths(e, req, &reset, &paths))) return rc;
    if (!e->idf_path)
        return h->fail(req, DF_E_IO, "%s has no workspace (see the log): /fit cannot keep its IDF",
                       h->exec_name(e->exec));
    size_t table_bytes = (size_t)IDF_SLOTS * sizeof *e->idf.df;
    if (!e->idf.df) {
        e->idf.df = h->alloc(table_bytes);
        memset(e->idf.df, 0, table_bytes);
    }
    uint32_t *before = h->req_alloc(req, table_bytes);
    memcpy(before, e->idf.df, table_bytes);
    uint64_t docs_before = e->idf.n_docs;
    if (reset) {
        memset(e->idf.df, 0, table_bytes);
        e->idf.n_docs = 0;
    }
    size_t fitted = fit_docs(e, req, paths);
    e->idf.n_docs += fitted;
    char err[512];
    if ((rc = idf_save(&e->idf, e->idf_path, err, sizeof err))) {
        memcpy(e->idf.df, before, table_bytes);
        e->idf.n_docs = docs_before;
        return h->fail(req, rc, "/fit: %s", err);
    }
    h->log(e->exec, DF_LOG_INFO, "fitted %zu documents: IDF of %llu documents saved to %s", fitted,
           (unsigned long long)e->idf.n_docs, e->idf_path);
    df_value *results = h->req_results(req);
    h->value_put_number(results, "fitted", (double)fitted);
    h->value_put_number(results, "docs_seen", (double)e->idf.n_docs);
    return DF_OK;
}

static const df_request_def encoder_requests[] = {
    DF_REQUEST("/fit", fit),
    DF_DEFAULT(encode),
};

static const df_executor_def encoder_executors[] = {
    DF_EXECUTOR("TextEncoder", "0.1.0",
                "Hashed word and character n-gram text embeddings, with IDF fitted on /fit",
                encoder_init, encoder_close, encoder_requests),
};

DF_PLUGIN("text-encoder", "0.1.0", encoder_executors)
