/*
 * image_encoder.c -- ImageEncoder: embeddings for small grey images.
 *
 * An image is a document's `blob` (raw uint8 pixels, height x width, row
 * by row) or its `tensor` (height x width of any numeric dtype). It is
 * flattened to floats and, when with.dim is below the pixel count,
 * projected onto the top `dim` principal components fitted on /fit; the
 * result is L2-normalised into `embedding`.
 *
 * The PCA: /fit accumulates the mean and the scatter matrix of every image
 * it sees (Chan et al.'s pairwise update, in double), takes the covariance's
 * eigenvectors with LAPACK's ssyevd, and keeps the statistics and the
 * components in <workspace>/pca.bin, which init loads again. The scatter
 * is P x P for P pixels, which is why PCA is for small images only.
 *
 * Not for colour images, decoding PNG/JPEG, or resizing: feed it pixels of
 * the configured size.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cblas.h>
#include <docflow/executor.h>

/* LAPACK's symmetric eigen-solver (divide and conquer), from OpenBLAS.
 * Fortran passes every argument by reference and appends the lengths of
 * character arguments (gfortran: size_t), so they are declared here. */
void ssyevd_(const char *jobz, const char *uplo, const int *n, float *a, const int *lda, float *w,
             float *work, const int *lwork, int *iwork, const int *liwork, int *info,
             size_t jobz_len, size_t uplo_len);

#define MAX_SIDE       65536
#define MAX_PIXELS     (1u << 22) /* plain flattening */
#define MAX_PCA_PIXELS 4096       /* 64 x 64: the scatter matrix is P x P doubles */
#define FIT_BATCH_ROWS 1024u      /* images per ssyrk in /fit */
#define MODEL_FILE     "pca.bin"
#define MODEL_MAGIC    "DFIMPCA1"
#define MODEL_VERSION  1u

/* The accumulated statistics of every image /fit saw (Chan's algorithm). */
typedef struct pca_stats {
    double count;
    double *mean;    /* pixels */
    double *scatter; /* pixels x pixels, sum of (x - mean)(x - mean)^T, full */
} pca_stats;

typedef struct image_encoder {
    const df_host *host;
    df_exec *exec;
    uint32_t height, width;
    size_t pixels;
    size_t dim;    /* embedding size: pixels without PCA */
    int use_pca;   /* 0 < with.dim < pixels */
    int normalize; /* L2-normalise the embedding */
    char *model_path;
    pca_stats stats;
    int fitted;
    float *mean;       /* pixels */
    float *components; /* dim x pixels, row j = the j-th principal axis */
    double explained;  /* share of the variance the kept components explain */
} image_encoder;

/* ---- pixels ---------------------------------------------------------------------- */

/* IEEE half to float (numpy's float16). */
static float half_to_float(uint16_t h)
{
    int sign = h >> 15, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
    float v;
    if (exp == 0)
        v = ldexpf((float)frac, -24);
    else if (exp == 31)
        v = frac ? NAN : INFINITY;
    else
        v = ldexpf((float)(frac | 0x400), exp - 25);
    return sign ? -v : v;
}

/* Element i of a little-endian numpy array as a float. kind is 'f', 'i',
 * 'u' or 'b'; size its byte size (checked by the caller). */
static float element_at(const unsigned char *p, char kind, size_t size)
{
    union {
        uint8_t u8;
        int8_t i8;
        uint16_t u16;
        int16_t i16;
        uint32_t u32;
        int32_t i32;
        uint64_t u64;
        int64_t i64;
        float f32;
        double f64;
    } v;
    memcpy(&v, p, size); /* the buffer may be unaligned */
    switch (kind) {
    case 'f':
        return size == 2 ? half_to_float(v.u16) : size == 4 ? v.f32 : (float)v.f64;
    case 'i':
        return size == 1 ? v.i8 : size == 2 ? v.i16 : size == 4 ? (float)v.i32 : (float)v.i64;
    case 'u':
        return size == 1 ? v.u8 : size == 2 ? v.u16 : size == 4 ? (float)v.u32 : (float)v.u64;
    default:
        return v.u8 ? 1.0f : 0.0f; /* 'b' */
    }
}

/* numpy dtype "<f4" -> kind 'f', size 4; 0 when not a numeric dtype. */
static int parse_dtype(const char *dtype, char *kind, size_t *size)
{
    const char *p = dtype + (dtype[0] && strchr("<>|=", dtype[0]) ? 1 : 0);
    if (!p[0] || !strchr("fiub", p[0])) return 0;
    char *end;
    long n = strtol(p + 1, &end, 10);
    if (*end || p[1] == '\0') return 0;
    int ok = p[0] == 'f'   ? n == 2 || n == 4 || n == 8
             : p[0] == 'b' ? n == 1
                           : n == 1 || n == 2 || n == 4 || n == 8;
    *kind = p[0];
    *size = (size_t)n;
    return ok;
}

/* "[8, 8]" into buf. */
static const char *shape_text(char *buf, size_t cap, const uint32_t *shape, uint32_t ndim)
{
    size_t used = (size_t)snprintf(buf, cap, "[");
    for (uint32_t i = 0; i < ndim && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, i ? ", %u" : "%u", (unsigned)shape[i]);
    if (used < cap) snprintf(buf + used, cap - used, "]");
    return buf;
}

/* Whether a tensor shape holds one height x width image: its dimensions
 * other than 1 are (height, width) or (height * width), so [8, 8],
 * [8, 8, 1], [1, 8, 8] and [64] all do for 8 x 8. */
static int shape_fits(const image_encoder *e, const uint32_t *shape, uint32_t ndim)
{
    uint32_t want[2], n_want = 0, got[2], n_got = 0;
    if (e->height != 1) want[n_want++] = e->height;
    if (e->width != 1) want[n_want++] = e->width;
    for (uint32_t i = 0; i < ndim; i++) {
        if (shape[i] == 1) continue;
        if (n_got == 2) return 0;
        got[n_got++] = shape[i];
    }
    if (n_got == 1 && got[0] == e->pixels) return 1;
    if (n_got != n_want) return 0;
    for (uint32_t i = 0; i < n_got; i++)
        if (got[i] != want[i]) return 0;
    return 1;
}

static int tensor_pixels(image_encoder *e, df_req *req, df_doc *d, float *row)
{
    const df_host *h = e->host;
    df_ndarray_view t;
    h->doc_tensor(d, &t);
    char kind, shape[96];
    size_t size;
    if (!parse_dtype(t.dtype, &kind, &size))
        return h->fail(req, DF_E_INVALID_INPUT,
                       "document '%s': tensor dtype '%s' is not a number type ImageEncoder reads "
                       "(|u1, <f4, <f8, <i8, ...)",
                       df_h_doc_id(h, d), t.dtype);
    if (!shape_fits(e, t.shape, t.ndim) || t.nbytes != e->pixels * size)
        return h->fail(req, DF_E_INVALID_INPUT,
                       "document '%s': tensor of shape %s, expected [%u, %u] (with.height x "
                       "with.width)",
                       df_h_doc_id(h, d), shape_text(shape, sizeof shape, t.shape, t.ndim),
                       (unsigned)e->height, (unsigned)e->width);
    const unsigned char *p = t.data;
    for (size_t i = 0; i < e->pixels; i++) {
        row[i] = element_at(p + i * size, kind, size);
        if (!isfinite(row[i]))
            return h->fail(req, DF_E_INVALID_INPUT, "document '%s': pixel %zu is not finite (%g)",
                           df_h_doc_id(h, d), i, (double)row[i]);
    }
    return DF_OK;
}

static int blob_pixels(image_encoder *e, df_req *req, df_doc *d, float *row)
{
    const df_host *h = e->host;
    size_t len;
    const unsigned char *p = h->doc_blob(d, &len);
    if (len != e->pixels)
        return h->fail(req, DF_E_INVALID_INPUT,
                       "document '%s': blob of %zu bytes, expected %zu (%u x %u uint8 pixels)",
                       df_h_doc_id(h, d), len, e->pixels, (unsigned)e->height, (unsigned)e->width);
    for (size_t i = 0; i < len; i++)
        row[i] = p[i];
    return DF_OK;
}

/* The request's images as one n x pixels row-major matrix. */
static float *images_of(image_encoder *e, df_req *req, df_docs *docs, size_t n, int *rc)
{
    const df_host *h = e->host;
    float *x = h->req_alloc(req, (n ? n : 1) * e->pixels * sizeof *x);
    for (size_t i = 0; i < n; i++) {
        df_doc *d = h->docs_get(docs, i);
        float *row = x + i * e->pixels;
        df_content_kind kind = h->doc_content(d);
        if (kind == DF_CONTENT_BLOB)
            *rc = blob_pixels(e, req, d, row);
        else if (kind == DF_CONTENT_TENSOR)
            *rc = tensor_pixels(e, req, d, row);
        else
            *rc = h->fail(req, DF_E_INVALID_INPUT,
                          "document '%s' holds %s: ImageEncoder reads a blob (raw %u x %u uint8 "
                          "pixels) or a tensor (%u x %u)",
                          df_h_doc_id(h, d), kind == DF_CONTENT_TEXT ? "text" : "no image",
                          (unsigned)e->height, (unsigned)e->width, (unsigned)e->height,
                          (unsigned)e->width);
        if (*rc) return NULL;
    }
    *rc = DF_OK;
    return x;
}

/* ---- the PCA fit ----------------------------------------------------------------- */

/* Adds n images (rows of x) to the statistics: the batch's own mean and
 * centred scatter (ssyrk), combined with the running ones by Chan's
 * pairwise formula, which stays exact where sums of squares would cancel. */
static void stats_add_batch(image_encoder *e, const float *x, size_t n, double *batch_mean,
                            float *centred, float *scatter)
{
    size_t p = e->pixels;
    memset(batch_mean, 0, p * sizeof *batch_mean);
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < p; c++)
            batch_mean[c] += x[i * p + c];
    for (size_t c = 0; c < p; c++)
        batch_mean[c] /= (double)n;
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < p; c++)
            centred[i * p + c] = (float)(x[i * p + c] - batch_mean[c]);
    /* the upper triangle of centred^T centred */
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)p, (int)n, 1.0f, centred, (int)p, 0.0f,
                scatter, (int)p);
    pca_stats *s = &e->stats;
    double total = s->count + (double)n;
    double weight = s->count * (double)n / total;
    for (size_t r = 0; r < p; r++) {
        double dr = batch_mean[r] - s->mean[r];
        for (size_t c = r; c < p; c++) {
            double dc = batch_mean[c] - s->mean[c];
            double v = s->scatter[r * p + c] + scatter[r * p + c] + dr * dc * weight;
            s->scatter[r * p + c] = v;
            s->scatter[c * p + r] = v;
        }
    }
    for (size_t c = 0; c < p; c++)
        s->mean[c] += (batch_mean[c] - s->mean[c]) * (double)n / total;
    s->count = total;
}

/* Adds the rows of x in batches, so the centred copy stays small. */
static void stats_add(image_encoder *e, df_req *req, const float *x, size_t n)
{
    const df_host *h = e->host;
    size_t p = e->pixels;
    size_t batch = n < FIT_BATCH_ROWS ? n : FIT_BATCH_ROWS;
    double *batch_mean = h->req_alloc(req, p * sizeof *batch_mean);
    float *centred = h->req_alloc(req, batch * p * sizeof *centred);
    float *scatter = h->req_alloc(req, p * p * sizeof *scatter);
    for (size_t i = 0; i < n; i += batch) {
        size_t rows = n - i < batch ? n - i : batch;
        stats_add_batch(e, x + i * p, rows, batch_mean, centred, scatter);
    }
}

/* Recomputes mean and components from the statistics. DF_OK, or the
 * LAPACK info code as DF_E_INTERNAL with *info set. */
static int components_from_stats(image_encoder *e, int *info)
{
    const df_host *h = e->host;
    int p = (int)e->pixels;
    size_t pp = e->pixels * e->pixels;
    float *cov = h->alloc(pp * sizeof *cov);
    float *eigenvalues = h->alloc(e->pixels * sizeof *eigenvalues);
    double scale = e->stats.count > 1 ? 1.0 / (e->stats.count - 1) : 1.0;
    for (size_t i = 0; i < pp; i++)
        cov[i] = (float)(e->stats.scatter[i] * scale);
    /* workspace query, then the decomposition: eigenvalues ascending, the
     * eigenvectors in cov's columns (Fortran order), i.e. C rows here,
     * because the matrix is symmetric */
    int lwork = -1, liwork = -1, iwork_size = 0;
    float work_size = 0;
    ssyevd_("V", "U", &p, cov, &p, eigenvalues, &work_size, &lwork, &iwork_size, &liwork, info, 1,
            1);
    if (*info == 0) {
        lwork = (int)work_size + 1;
        liwork = iwork_size;
        float *work = h->alloc((size_t)lwork * sizeof *work);
        int *iwork = h->alloc((size_t)liwork * sizeof *iwork);
        ssyevd_("V", "U", &p, cov, &p, eigenvalues, work, &lwork, iwork, &liwork, info, 1, 1);
        h->free(work);
        h->free(iwork);
    }
    if (*info == 0) {
        double kept = 0, all = 0;
        for (size_t i = 0; i < e->pixels; i++)
            all += eigenvalues[i] > 0 ? eigenvalues[i] : 0;
        for (size_t j = 0; j < e->dim; j++) {
            const float *axis = cov + (e->pixels - 1 - j) * e->pixels; /* largest first */
            float *out = e->components + j * e->pixels;
            /* Eigenvectors have no sign: make the largest coordinate positive,
             * so the same data always gives the same embedding. */
            size_t big = 0;
            for (size_t c = 1; c < e->pixels; c++)
                if (fabsf(axis[c]) > fabsf(axis[big])) big = c;
            float sign = axis[big] < 0 ? -1.0f : 1.0f;
            for (size_t c = 0; c < e->pixels; c++)
                out[c] = sign * axis[c];
            float ev = eigenvalues[e->pixels - 1 - j];
            kept += ev > 0 ? ev : 0;
        }
        e->explained = all > 0 ? kept / all : 0.0;
        for (size_t c = 0; c < e->pixels; c++)
            e->mean[c] = (float)e->stats.mean[c];
        e->fitted = 1;
    }
    h->free(cov);
    h->free(eigenvalues);
    return *info == 0 ? DF_OK : DF_E_INTERNAL;
}

/* ---- pca.bin --------------------------------------------------------------------- */

/* The file, in native byte order (little-endian hosts):
 *   char magic[8] = "DFIMPCA1"; uint32 version, height, width, dim;
 *   double count, explained;
 *   float mean[P]; float components[dim x P];
 *   double stats_mean[P]; double stats_scatter[P x P];
 *   uint64 fnv1a64 of everything before it.
 * The statistics let a later /fit continue, and a changed with.dim be
 * served without refitting. */
typedef struct model_header {
    char magic[8];
    uint32_t version, height, width, dim;
    double count, explained;
} model_header;

static uint64_t fnv1a(uint64_t hash, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        hash ^= p[i];
        hash *= 1099511628211ull;
    }
    return hash;
}

typedef struct model_part {
    void *data;
    size_t len;
} model_part;

/* The parts of the file after the header, in order. */
static size_t model_parts(image_encoder *e, model_part parts[4])
{
    size_t p = e->pixels;
    parts[0] = (model_part){e->mean, p * sizeof(float)};
    parts[1] = (model_part){e->components, e->dim * p * sizeof(float)};
    parts[2] = (model_part){e->stats.mean, p * sizeof(double)};
    parts[3] = (model_part){e->stats.scatter, p * p * sizeof(double)};
    return 4;
}

static int write_all(FILE *f, const void *data, size_t len, uint64_t *hash)
{
    *hash = fnv1a(*hash, data, len);
    return fwrite(data, 1, len, f) == len ? 0 : -1;
}

/* fsyncs the folder holding path, so a rename into it is durable. */
static int sync_parent(const df_host *h, const char *path)
{
    size_t len = strlen(path);
    char *dir = h->alloc(len + 2);
    memcpy(dir, path, len + 1);
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir ? 1 : 0] = '\0';
    else
        strcpy(dir, ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    int rc = fd < 0 || fsync(fd) != 0 ? -1 : 0;
    if (fd >= 0) close(fd);
    h->free(dir);
    return rc;
}

/* Writes pca.bin atomically: a temporary file, fsync, rename, fsync of the
 * folder. On failure `why` says what failed. */
static int model_save(image_encoder *e, char *why, size_t why_len)
{
    const df_host *h = e->host;
    size_t len = strlen(e->model_path) + 8;
    char *tmp = h->alloc(len);
    snprintf(tmp, len, "%s.tmp", e->model_path);
    const char *failed = tmp;
    int rc = -1;
    FILE *f = fopen(tmp, "wb");
    if (f) {
        model_header hd;
        memset(&hd, 0, sizeof hd);
        memcpy(hd.magic, MODEL_MAGIC, 8);
        hd.version = MODEL_VERSION;
        hd.height = e->height;
        hd.width = e->width;
        hd.dim = (uint32_t)e->dim;
        hd.count = e->stats.count;
        hd.explained = e->explained;
        uint64_t hash = 14695981039346656037ull;
        model_part parts[4];
        size_t n = model_parts(e, parts);
        rc = write_all(f, &hd, sizeof hd, &hash);
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = write_all(f, parts[i].data, parts[i].len, &hash);
        if (rc == 0 && fwrite(&hash, sizeof hash, 1, f) != 1) rc = -1;
        if (rc == 0 && (fflush(f) != 0 || fsync(fileno(f)) != 0)) rc = -1;
        if (fclose(f) != 0) rc = -1;
    }
    if (rc == 0) {
        failed = e->model_path;
        rc = rename(tmp, e->model_path) != 0 || sync_parent(h, e->model_path) ? -1 : 0;
    }
    if (rc) {
        snprintf(why, why_len, "%s: %s", failed, strerror(errno));
        remove(tmp);
    }
    h->free(tmp);
    return rc;
}

static int read_all(FILE *f, void *data, size_t len, uint64_t *hash)
{
    if (fread(data, 1, len, f) != len) return -1;
    *hash = fnv1a(*hash, data, len);
    return 0;
}

/* Loads pca.bin when it exists. DF_OK (fitted or not), or init_fail. */
static int model_load(image_encoder *e, df_init *init)
{
    const df_host *h = e->host;
    FILE *f = fopen(e->model_path, "rb");
    if (!f) {
        if (errno == ENOENT) return DF_OK;
        return h->init_fail(init, DF_E_IO, "%s: %s", e->model_path, strerror(errno));
    }
    model_header hd;
    uint64_t hash = 14695981039346656037ull, stored = 0;
    int bad = read_all(f, &hd, sizeof hd, &hash) || memcmp(hd.magic, MODEL_MAGIC, 8) != 0 ||
              hd.version != MODEL_VERSION;
    if (!bad && (hd.height != e->height || hd.width != e->width)) {
        fclose(f);
        return h->init_fail(init, DF_E_INVALID_INPUT,
                            "%s holds a PCA fitted on %u x %u images, but with: says %u x %u: "
                            "use the same height and width, or delete the file and /fit again",
                            e->model_path, (unsigned)hd.height, (unsigned)hd.width,
                            (unsigned)e->height, (unsigned)e->width);
    }
    /* components of the stored dim are read into a buffer of that size */
    size_t stored_dim = bad ? 0 : hd.dim;
    bad = bad || stored_dim == 0 || stored_dim > e->pixels;
    float *components = bad ? NULL : h->alloc(stored_dim * e->pixels * sizeof *components);
    model_part parts[4];
    model_parts(e, parts);
    if (!bad) parts[1] = (model_part){components, stored_dim * e->pixels * sizeof(float)};
    for (size_t i = 0; i < 4 && !bad; i++)
        bad = read_all(f, parts[i].data, parts[i].len, &hash);
    bad = bad || fread(&stored, sizeof stored, 1, f) != 1 || stored != hash || fgetc(f) != EOF;
    fclose(f);
    if (bad) {
        h->free(components);
        return h->init_fail(init, DF_E_IO,
                            "%s is not a valid ImageEncoder PCA file (truncated or corrupt): "
                            "delete it and /fit again",
                            e->model_path);
    }
    e->stats.count = hd.count;
    e->explained = hd.explained;
    if (stored_dim == e->dim) {
        memcpy(e->components, components, e->dim * e->pixels * sizeof(float));
        e->fitted = 1;
    }
    h->free(components);
    if (e->fitted) return DF_OK;
    /* with.dim changed: the statistics give the new components */
    int info;
    if (components_from_stats(e, &info))
        return h->init_fail(init, DF_E_INTERNAL, "%s: ssyevd failed (info %d)", e->model_path,
                            info);
    h->log(e->exec, DF_LOG_INFO, "%s was fitted for dim %zu; recomputed for dim %zu", e->model_path,
           stored_dim, e->dim);
    return DF_OK;
}

/* ---- init and close ----------------------------------------------------------------- */

static void encoder_close(void *state)
{
    image_encoder *e = state;
    const df_host *h = e->host;
    h->free(e->model_path);
    h->free(e->stats.mean);
    h->free(e->stats.scatter);
    h->free(e->mean);
    h->free(e->components);
    h->free(e);
}

/* Reads and checks height, width and dim. */
static int read_geometry(const df_host *h, df_init *init, image_encoder *e)
{
    int64_t height, width, dim;
    int rc;
    if ((rc = h->with_int(init, "height", 0, &height))) return rc;
    if ((rc = h->with_int(init, "width", 0, &width))) return rc;
    if ((rc = h->with_int(init, "dim", 0, &dim))) return rc;
    if (height <= 0 || width <= 0 || height > MAX_SIDE || width > MAX_SIDE)
        return h->init_fail(init, DF_E_INVALID_INPUT,
                            "with.height and with.width are required: the image size in pixels, "
                            "1..%d each (e.g. height: 8, width: 8 for the digits); got %lld x %lld",
                            MAX_SIDE, (long long)height, (long long)width);
    size_t pixels = (size_t)height * (size_t)width;
    if (pixels > MAX_PIXELS)
        return h->init_fail(init, DF_E_INVALID_INPUT,
                            "%lld x %lld = %zu pixels: ImageEncoder is for small images (at most "
                            "%u pixels)",
                            (long long)height, (long long)width, pixels, MAX_PIXELS);
    if (dim < 0 || (size_t)dim > pixels)
        return h->init_fail(init, DF_E_INVALID_INPUT,
                            "with.dim must be in 0..%zu (the pixel count of %lld x %lld images; 0 "
                            "= no projection), got %lld",
                            pixels, (long long)height, (long long)width, (long long)dim);
    e->height = (uint32_t)height;
    e->width = (uint32_t)width;
    e->pixels = pixels;
    e->use_pca = dim > 0 && (size_t)dim < pixels;
    e->dim = e->use_pca ? (size_t)dim : pixels;
    if (e->use_pca && pixels > MAX_PCA_PIXELS)
        return h->init_fail(init, DF_E_INVALID_INPUT,
                            "PCA (with.dim %lld < %zu pixels) is for images of at most %u pixels "
                            "(64 x 64): set dim: 0 to use the plain pixels",
                            (long long)dim, pixels, MAX_PCA_PIXELS);
    return DF_OK;
}

/* The PCA's buffers, the model path and a previous fit. */
static int prepare_pca(const df_host *h, df_init *init, image_encoder *e)
{
    size_t p = e->pixels;
    e->stats.mean = h->alloc(p * sizeof(double));
    e->stats.scatter = h->alloc(p * p * sizeof(double));
    e->mean = h->alloc(p * sizeof(float));
    e->components = h->alloc(e->dim * p * sizeof(float));
    memset(e->stats.mean, 0, p * sizeof(double));
    memset(e->stats.scatter, 0, p * p * sizeof(double));
    const char *ws = h->exec_workspace(e->exec);
    if (!ws)
        return h->init_fail(
            init, DF_E_IO, "the PCA fit is kept in the workspace, and there is none (see the log)");
    size_t len = strlen(ws) + sizeof MODEL_FILE + 1;
    e->model_path = h->alloc(len);
    snprintf(e->model_path, len, "%s/%s", ws, MODEL_FILE);
    return model_load(e, init);
}

static int encoder_init(const df_host *h, df_init *init, void **state_out)
{
    int normalize;
    int rc;
    if ((rc = h->with_bool(init, "normalize", 1, &normalize))) return rc;
    image_encoder *e = h->alloc(sizeof *e);
    memset(e, 0, sizeof *e);
    e->host = h;
    e->exec = h->init_exec(init);
    e->normalize = normalize;
    rc = read_geometry(h, init, e);
    if (!rc && e->use_pca) rc = prepare_pca(h, init, e);
    if (rc) {
        encoder_close(e); /* init failed: close is never called */
        return rc;
    }
    if (e->use_pca)
        h->log(e->exec, DF_LOG_INFO, "%u x %u images -> PCA dim %zu (%s)", (unsigned)e->height,
               (unsigned)e->width, e->dim,
               e->fitted ? "fit loaded from the workspace" : "not fitted yet: /fit first");
    *state_out = e;
    return DF_OK;
}

/* ---- the handlers ------------------------------------------------------------------- */

/* Projects (when fitted), normalises and stores the embeddings. */
static int set_embeddings(image_encoder *e, df_req *req, df_docs *docs, float *x, size_t n)
{
    const df_host *h = e->host;
    size_t p = e->pixels, dim = e->dim;
    float *y = x;
    if (e->use_pca) {
        for (size_t i = 0; i < n; i++)
            for (size_t c = 0; c < p; c++)
                x[i * p + c] -= e->mean[c];
        y = h->req_alloc(req, n * dim * sizeof *y);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)dim, (int)p, 1.0f, x,
                    (int)p, e->components, (int)p, 0.0f, y, (int)dim);
    }
    for (size_t i = 0; e->normalize && i < n; i++) {
        float *row = y + i * dim;
        float norm = cblas_snrm2((int)dim, row, 1);
        if (norm > 0) cblas_sscal((int)dim, 1.0f / norm, row, 1);
    }
    return h->docs_set_embeddings(docs, y, n, dim);
}

/* /index, /search, /update, /encode: embeds every document. */
static int encode(void *state, df_req *req)
{
    image_encoder *e = state;
    const df_host *h = e->host;
    df_docs *docs = h->req_docs(req);
    size_t n = h->docs_len(docs);
    if (n == 0) return DF_OK;
    if (e->use_pca && !e->fitted)
        return h->fail(req, DF_E_INVALID_INPUT,
                       "no PCA fit yet (with.dim %zu < %zu pixels): send training images to "
                       "/fit first (docflow-host call CONFIG --on /fit --input train.jsonl), or "
                       "set with.dim: 0 for the plain pixels",
                       e->dim, e->pixels);
    int rc;
    float *x = images_of(e, req, docs, n, &rc);
    if (rc) return rc;
    return set_embeddings(e, req, docs, x, n);
}

/* /fit: adds the documents to the PCA statistics, refits, saves, then
 * embeds the documents with the new fit. parameters.reset = true forgets
 * earlier /fit calls first. Without PCA it only embeds. */
static int fit(void *state, df_req *req)
{
    image_encoder *e = state;
    const df_host *h = e->host;
    if (!e->use_pca) return encode(state, req);
    int reset, rc;
    if ((rc = h->param_bool(req, "reset", 0, &reset))) return rc;
    df_docs *docs = h->req_docs(req);
    size_t n = h->docs_len(docs);
    float *x = images_of(e, req, docs, n, &rc);
    if (rc) return rc;
    double before = reset ? 0 : e->stats.count;
    if (before + (double)n < 2)
        return h->fail(req, DF_E_INVALID_INPUT,
                       "/fit needs at least 2 images in all: this request has %zu, earlier /fit "
                       "calls %.0f (a PCA of one image has no axis)",
                       n, before);
    if (reset) {
        e->stats.count = 0;
        memset(e->stats.mean, 0, e->pixels * sizeof(double));
        memset(e->stats.scatter, 0, e->pixels * e->pixels * sizeof(double));
    }
    if (n) stats_add(e, req, x, n);
    int info;
    if (components_from_stats(e, &info))
        return h->fail(req, DF_E_INTERNAL, "ssyevd failed (info %d)", info);
    char why[512];
    if (model_save(e, why, sizeof why))
        return h->fail(req, DF_E_IO, "the fit was not saved: %s", why);
    df_value *results = h->req_results(req);
    h->value_put_number(results, "samples", e->stats.count);
    h->value_put_number(results, "pixels", (double)e->pixels);
    h->value_put_number(results, "dim", (double)e->dim);
    h->value_put_number(results, "explained_variance_ratio", e->explained);
    return n ? set_embeddings(e, req, docs, x, n) : DF_OK;
}

static const df_request_def encoder_requests[] = {
    DF_REQUEST("/fit", fit),       DF_REQUEST("/index", encode),  DF_REQUEST("/search", encode),
    DF_REQUEST("/update", encode), DF_REQUEST("/encode", encode),
};

static const df_executor_def encoder_executors[] = {
    DF_EXECUTOR("ImageEncoder", "0.1.0",
                "Embeds small grey images: flattened pixels, optional PCA fitted on /fit, "
                "L2-normalised",
                encoder_init, encoder_close, encoder_requests),
};

DF_PLUGIN("image_encoder", "0.1.0", encoder_executors)
