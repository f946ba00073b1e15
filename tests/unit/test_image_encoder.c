/*
 * test_image_encoder.c -- the ImageEncoder executor (plugins/image-encoder):
 * flattening from blobs and from tensors of every common dtype and shape,
 * normalisation, the PCA fitted on synthetic images whose principal axes
 * are known, fits accumulated over several /fit calls, the fit kept in the
 * workspace across restarts (also with another dim), and every error.
 */
#include <CUnit/CUnit.h>
#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "docflow/executor_runtime.h"

#define ENCODER_LIB DF_TEST_PLUGIN_DIR "/image_encoder.so"

static df_arena *cfg_arena;
static char tmp_root[] = "/tmp/docflow-test-imgenc-XXXXXX";

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int suite_setup(void)
{
    cfg_arena = df_arena_new(0);
    return mkdtemp(tmp_root) ? 0 : -1;
}

static int suite_teardown(void)
{
    df_arena_free(cfg_arena);
    nftw(tmp_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* An ImageEncoder named `name` (its workspace is tmp_root/<name>) with
 * integer `with:` arguments from key, value pairs, NULL-terminated
 * (`normalize` is a bool). */
static df_executor *open_encoder(const char *name, df_error *err, ...)
{
    df_executor_config *c = df_executor_config_for_jtype(cfg_arena, "ImageEncoder", NULL);
    df_value_put_string(c->metas, "library", ENCODER_LIB);
    va_list ap;
    va_start(ap, err);
    const char *key;
    while ((key = va_arg(ap, const char *))) {
        int v = va_arg(ap, int);
        if (strcmp(key, "normalize") == 0)
            df_value_put_bool(c->with, key, v);
        else
            df_value_put_number(c->with, key, v);
    }
    va_end(ap);
    df_executor_options opt = DF_EXECUTOR_OPTIONS_INIT;
    opt.workspace = tmp_root;
    opt.name = name;
    return df_executor_open(c, &opt, err);
}

static df_executor *must_open(df_executor *ex, const df_error *err)
{
    if (!ex) fprintf(stderr, "\nopening ImageEncoder failed: %s\n", err->msg);
    return ex;
}

typedef struct enc_run {
    df_arena *arena;
    df_docs *docs;
    df_value *params;
    df_call call;
    df_error err;
    int rc;
} enc_run;

static void run_begin(enc_run *r)
{
    memset(r, 0, sizeof *r);
    r->arena = df_arena_new(0);
    r->docs = df_docs_new(r->arena);
    r->params = df_value_new_map(r->arena);
}

static int run_call(enc_run *r, df_executor *ex, const char *endpoint)
{
    r->call = (df_call){.arena = r->arena,
                        .endpoint = endpoint,
                        .docs = r->docs,
                        .parameters = r->params,
                        .results = df_value_new_map(r->arena)};
    df_error_clear(&r->err);
    r->rc = df_executor_call(ex, &r->call, &r->err);
    if (r->rc) fprintf(stderr, "\n(%s: %s)\n", endpoint, r->err.msg);
    return r->rc;
}

static void run_end(enc_run *r)
{
    df_arena_free(r->arena);
}

static double result(enc_run *r, df_executor *ex, const char *key)
{
    return df_value_number(df_value_get(df_value_get(r->call.results, df_executor_name(ex)), key));
}

static df_doc *add_doc(enc_run *r, const char *id)
{
    df_doc *d = df_doc_new(r->arena);
    df_doc_set_str(d, DF_FIELD_ID, id);
    df_docs_append(r->docs, d);
    return df_docs_get(r->docs, df_docs_len(r->docs) - 1);
}

static df_doc *add_tensor(enc_run *r, const char *id, const void *data, size_t nbytes,
                          const char *dtype, uint32_t ndim, ...)
{
    uint32_t shape[4];
    va_list ap;
    va_start(ap, ndim);
    for (uint32_t i = 0; i < ndim; i++)
        shape[i] = va_arg(ap, uint32_t);
    va_end(ap);
    df_doc *d = add_doc(r, id);
    CU_ASSERT_EQUAL(df_doc_set_tensor(d, data, nbytes, shape, ndim, dtype), DF_OK);
    return d;
}

static df_doc *add_f32_image(enc_run *r, const char *id, const float *pixels, uint32_t h,
                             uint32_t w)
{
    return add_tensor(r, id, pixels, (size_t)h * w * sizeof(float), "<f4", 2, h, w);
}

/* The embedding of document i (NULL when none) and its size. */
static const float *embedding(enc_run *r, size_t i, size_t *dim)
{
    *dim = 0;
    return df_doc_embedding_f32(df_docs_get(r->docs, i), dim);
}

/* ---- flattening ---------------------------------------------------------------- */

/* A 2 x 3 image 0..5: the embedding is the pixels over their norm sqrt(55). */
static void expect_ramp(enc_run *r, size_t i)
{
    size_t dim;
    const float *e = embedding(r, i, &dim);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_EQUAL_FATAL(dim, 6);
    for (size_t k = 0; k < 6; k++)
        CU_ASSERT_DOUBLE_EQUAL(e[k], (double)k / sqrt(55.0), 1e-6);
}

static void test_image_encoder_flattens_blobs_and_tensors_of_any_dtype(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = must_open(open_encoder("flat", &err, "height", 2, "width", 3, NULL), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    enc_run r;
    run_begin(&r);
    const uint8_t u1[6] = {0, 1, 2, 3, 4, 5};
    const float f4[6] = {0, 1, 2, 3, 4, 5};
    const double f8[6] = {0, 1, 2, 3, 4, 5};
    const int64_t i8[6] = {0, 1, 2, 3, 4, 5};
    const int16_t i2[6] = {0, 1, 2, 3, 4, 5};
    const uint16_t f2[6] = {0x0000, 0x3c00, 0x4000, 0x4200, 0x4400, 0x4500}; /* 0..5 */
    df_doc_set_blob(add_doc(&r, "blob"), u1, sizeof u1);
    add_tensor(&r, "u1", u1, sizeof u1, "|u1", 2, 2, 3);
    add_tensor(&r, "f4", f4, sizeof f4, "<f4", 2, 2, 3);
    add_tensor(&r, "f8", f8, sizeof f8, "<f8", 2, 2, 3);
    add_tensor(&r, "i8", i8, sizeof i8, "<i8", 2, 2, 3);
    add_tensor(&r, "i2", i2, sizeof i2, "<i2", 2, 2, 3);
    add_tensor(&r, "f2", f2, sizeof f2, "<f2", 2, 2, 3);
    add_tensor(&r, "channel-last", f4, sizeof f4, "<f4", 3, 2, 3, 1);
    add_tensor(&r, "channel-first", f4, sizeof f4, "<f4", 3, 1, 2, 3);
    add_tensor(&r, "flat", f4, sizeof f4, "<f4", 1, 6);
    CU_ASSERT_EQUAL_FATAL(run_call(&r, ex, "/index"), DF_OK);
    for (size_t i = 0; i < df_docs_len(r.docs); i++)
        expect_ramp(&r, i);
    run_end(&r);
    /* the same on /search, /update and /encode; /fit without PCA only embeds */
    const char *endpoints[] = {"/search", "/update", "/encode", "/fit"};
    for (size_t i = 0; i < 4; i++) {
        run_begin(&r);
        df_doc_set_blob(add_doc(&r, "b"), u1, sizeof u1);
        CU_ASSERT_EQUAL(run_call(&r, ex, endpoints[i]), DF_OK);
        expect_ramp(&r, 0);
        run_end(&r);
    }
    /* other endpoints pass through: a flow's /delete or /status reach the
     * indexer untouched */
    run_begin(&r);
    add_doc(&r, "id-only");
    CU_ASSERT_EQUAL(run_call(&r, ex, "/delete"), DF_OK);
    CU_ASSERT(r.call.skipped);
    run_end(&r);
    df_executor_close(ex);
}

static void test_image_encoder_dim_equal_to_pixels_and_no_normalisation(void)
{
    df_error err = DF_ERROR_INIT;
    /* dim == pixels: plain flattening, no fit needed; normalize: false */
    df_executor *ex = must_open(
        open_encoder("raw", &err, "height", 2, "width", 2, "dim", 4, "normalize", 0, NULL), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    enc_run r;
    run_begin(&r);
    const uint8_t px[4] = {10, 0, 255, 3};
    df_doc_set_blob(add_doc(&r, "b"), px, sizeof px);
    CU_ASSERT_EQUAL_FATAL(run_call(&r, ex, "/search"), DF_OK);
    size_t dim;
    const float *e = embedding(&r, 0, &dim);
    CU_ASSERT_EQUAL_FATAL(dim, 4);
    CU_ASSERT(e[0] == 10 && e[1] == 0 && e[2] == 255 && e[3] == 3);
    run_end(&r);
    /* an all-black image stays a zero vector instead of dividing by zero */
    run_begin(&r);
    const uint8_t black[4] = {0};
    df_doc_set_blob(add_doc(&r, "black"), black, sizeof black);
    CU_ASSERT_EQUAL_FATAL(run_call(&r, ex, "/search"), DF_OK);
    e = embedding(&r, 0, &dim);
    CU_ASSERT(e[0] == 0 && e[3] == 0);
    run_end(&r);
    df_executor_close(ex);
}

static void test_image_encoder_request_errors_name_the_document(void)
{
    df_error err = DF_ERROR_INIT;
    df_executor *ex = must_open(open_encoder("errors", &err, "height", 2, "width", 3, NULL), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    enc_run r;
    const uint8_t px[6] = {0};
    const float f4[6] = {0, 1, 2, 3, 4, NAN};
    /* a blob of the wrong size */
    run_begin(&r);
    df_doc_set_blob(add_doc(&r, "fine"), px, 6);
    df_doc_set_blob(add_doc(&r, "short"), px, 5);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/index"), DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "document 'short': blob of 5 bytes, expected 6"));
    run_end(&r);
    /* a tensor of the wrong shape (transposed) */
    run_begin(&r);
    add_tensor(&r, "transposed", f4, sizeof f4, "<f4", 2, 3, 2);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/index"), DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(r.err.msg, "document 'transposed': tensor of shape [3, 2], expected [2, 3]"));
    run_end(&r);
    /* three channels */
    run_begin(&r);
    const float rgb[18] = {0};
    add_tensor(&r, "rgb", rgb, sizeof rgb, "<f4", 3, 2, 3, 3);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/index"), DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "document 'rgb': tensor of shape [2, 3, 3]"));
    run_end(&r);
    /* a pixel that is not a number */
    run_begin(&r);
    add_tensor(&r, "nan", f4, sizeof f4, "<f4", 2, 2, 3);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/index"), DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "document 'nan': pixel 5 is not finite"));
    run_end(&r);
    /* text, and nothing at all */
    run_begin(&r);
    df_doc_set_text(add_doc(&r, "words"), "hello", 5);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/index"), DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "document 'words' holds text"));
    run_end(&r);
    run_begin(&r);
    add_doc(&r, "empty");
    CU_ASSERT_EQUAL(run_call(&r, ex, "/search"), DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "document 'empty' holds no image"));
    run_end(&r);
    df_executor_close(ex);
}

static void test_image_encoder_init_errors(void)
{
    df_error err = DF_ERROR_INIT;
    CU_ASSERT_PTR_NULL(open_encoder("bad", &err, "width", 8, NULL));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "with.height and with.width are required"));
    df_error_clear(&err);
    CU_ASSERT_PTR_NULL(open_encoder("bad", &err, "height", 8, "width", 8, "dim", 65, NULL));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "with.dim must be in 0..64"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "got 65"));
    df_error_clear(&err);
    CU_ASSERT_PTR_NULL(open_encoder("bad", &err, "height", 8, "width", 8, "dim", -1, NULL));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "with.dim must be in 0..64"));
    df_error_clear(&err);
    /* PCA is for small images: 100 x 100 would need a 10^4 x 10^4 scatter */
    CU_ASSERT_PTR_NULL(open_encoder("bad", &err, "height", 100, "width", 100, "dim", 32, NULL));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "at most 4096 pixels"));
    df_error_clear(&err);
    /* ... but plain flattening of them is fine */
    df_executor *ex = must_open(open_encoder("big", &err, "height", 100, "width", 100, NULL), &err);
    CU_ASSERT_PTR_NOT_NULL(ex);
    df_executor_close(ex);
}

/* ---- PCA ------------------------------------------------------------------------- */

#define SIDE   4
#define PIXELS (SIDE * SIDE)
#define N_FIT  400

/* Two orthonormal axes of 4 x 4 images; u's largest coordinate (index 0)
 * is positive, as is v's (index 5), which fixes the components' signs. */
static float axis_u[PIXELS], axis_v[PIXELS], image_mean[PIXELS];

static void make_axes(void)
{
    memset(axis_u, 0, sizeof axis_u);
    memset(axis_v, 0, sizeof axis_v);
    axis_u[0] = 0.8f, axis_u[1] = 0.4f, axis_u[2] = 0.4f, axis_u[3] = 0.2f;
    axis_v[5] = 0.8f, axis_v[6] = -0.4f, axis_v[9] = 0.4f, axis_v[10] = 0.2f;
    for (int i = 0; i < PIXELS; i++)
        image_mean[i] = 100.0f + (float)i;
}

static double gaussian(uint64_t *s)
{
    double u1, u2;
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    u1 = ((double)(*s >> 11) + 0.5) / 9007199254740992.0;
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    u2 = ((double)(*s >> 11) + 0.5) / 9007199254740992.0;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* mean + a u + b v + noise, with a ~ N(0, 10^2), b ~ N(0, 3^2), noise
 * ~ N(0, 0.1^2) per pixel: u is the first principal axis, v the second. */
static void synthetic_image(uint64_t *s, float *out)
{
    double a = 10.0 * gaussian(s), b = 3.0 * gaussian(s);
    for (int i = 0; i < PIXELS; i++)
        out[i] = (float)(image_mean[i] + a * axis_u[i] + b * axis_v[i] + 0.1 * gaussian(s));
}

static void add_training_images(enc_run *r, uint64_t seed, size_t first, size_t n)
{
    uint64_t s = seed;
    float px[PIXELS];
    for (size_t i = 0; i < first + n; i++) {
        synthetic_image(&s, px);
        if (i >= first) add_f32_image(r, "train", px, SIDE, SIDE);
    }
}

/* Embeds mean + t * axis for each of the given axes; the embeddings go to
 * out (n_axes x dim). */
static int embed_along(df_executor *ex, const float *const *axes, size_t n_axes, float t,
                       float *out, size_t dim)
{
    enc_run r;
    run_begin(&r);
    for (size_t k = 0; k < n_axes; k++) {
        float px[PIXELS];
        for (int i = 0; i < PIXELS; i++)
            px[i] = image_mean[i] + t * axes[k][i];
        add_f32_image(&r, "probe", px, SIDE, SIDE);
    }
    int rc = run_call(&r, ex, "/search");
    for (size_t k = 0; rc == DF_OK && k < n_axes; k++) {
        size_t got;
        const float *e = embedding(&r, k, &got);
        if (got != dim)
            rc = -1;
        else
            memcpy(out + k * dim, e, dim * sizeof *e);
    }
    run_end(&r);
    return rc;
}

/* The principal axes come out as the first components: mean + 20 u embeds
 * as (1, 0), mean + 20 v as (0, 1). */
static void expect_axes_found(df_executor *ex, size_t dim)
{
    const float *axes[2] = {axis_u, axis_v};
    float e[2 * 8];
    CU_ASSERT_EQUAL_FATAL(embed_along(ex, axes, 2, 20.0f, e, dim), DF_OK);
    CU_ASSERT_DOUBLE_EQUAL(e[0], 1.0, 1e-3);
    CU_ASSERT_DOUBLE_EQUAL(e[1], 0.0, 2e-2);
    CU_ASSERT_DOUBLE_EQUAL(e[dim + 0], 0.0, 2e-2);
    CU_ASSERT_DOUBLE_EQUAL(e[dim + 1], 1.0, 1e-3);
    if (fabs(e[0] - 1.0) > 1e-3) fprintf(stderr, "\nu embeds as (%g, %g)\n", e[0], e[1]);
}

static void test_image_encoder_pca_finds_the_principal_axes(void)
{
    make_axes();
    df_error err = DF_ERROR_INIT;
    df_executor *ex =
        must_open(open_encoder("pca", &err, "height", SIDE, "width", SIDE, "dim", 2, NULL), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    enc_run r;
    /* /search before /fit: says what to do */
    run_begin(&r);
    add_f32_image(&r, "early", image_mean, SIDE, SIDE);
    CU_ASSERT_EQUAL(run_call(&r, ex, "/search"), DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "no PCA fit yet"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "/fit first"));
    run_end(&r);
    /* /fit: results, and the training images get embeddings too */
    run_begin(&r);
    add_training_images(&r, 1, 0, N_FIT);
    CU_ASSERT_EQUAL_FATAL(run_call(&r, ex, "/fit"), DF_OK);
    CU_ASSERT_EQUAL(result(&r, ex, "samples"), N_FIT);
    CU_ASSERT_EQUAL(result(&r, ex, "dim"), 2);
    CU_ASSERT_EQUAL(result(&r, ex, "pixels"), PIXELS);
    /* variances 100 + 9 of 100 + 9 + 16 * 0.01 */
    CU_ASSERT(result(&r, ex, "explained_variance_ratio") > 0.995);
    size_t dim;
    const float *e = embedding(&r, 0, &dim);
    CU_ASSERT_EQUAL(dim, 2);
    CU_ASSERT_DOUBLE_EQUAL(hypot(e[0], e[1]), 1.0, 1e-5); /* L2-normalised */
    run_end(&r);
    expect_axes_found(ex, 2);
    df_executor_close(ex);
}

static void test_image_encoder_fit_accumulates_over_calls(void)
{
    make_axes();
    df_error err = DF_ERROR_INIT;
    /* dim 2: the two axes are well apart from the noise, whose components
     * are any basis of a 14-dim space of equal variances */
    df_executor *once =
        must_open(open_encoder("once", &err, "height", SIDE, "width", SIDE, "dim", 2, NULL), &err);
    df_executor *parts =
        must_open(open_encoder("parts", &err, "height", SIDE, "width", SIDE, "dim", 2, NULL), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(once);
    CU_ASSERT_PTR_NOT_NULL_FATAL(parts);
    enc_run r;
    run_begin(&r);
    add_training_images(&r, 5, 0, N_FIT);
    CU_ASSERT_EQUAL_FATAL(run_call(&r, once, "/fit"), DF_OK);
    run_end(&r);
    /* the same images in three requests (a client's request_size) */
    size_t cuts[4] = {0, 150, 151, N_FIT};
    for (int i = 0; i < 3; i++) {
        run_begin(&r);
        add_training_images(&r, 5, cuts[i], cuts[i + 1] - cuts[i]);
        CU_ASSERT_EQUAL_FATAL(run_call(&r, parts, "/fit"), DF_OK);
        if (i == 2) CU_ASSERT_EQUAL(result(&r, parts, "samples"), N_FIT);
        run_end(&r);
    }
    const float *axes[2] = {axis_u, image_mean};
    float a[4], b[4];
    CU_ASSERT_EQUAL_FATAL(embed_along(once, axes, 2, 3.0f, a, 2), DF_OK);
    CU_ASSERT_EQUAL_FATAL(embed_along(parts, axes, 2, 3.0f, b, 2), DF_OK);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_DOUBLE_EQUAL(a[i], b[i], 1e-4);
    /* reset: forget the earlier calls */
    run_begin(&r);
    add_training_images(&r, 9, 0, 50);
    df_value_put_bool(r.params, "reset", 1);
    CU_ASSERT_EQUAL_FATAL(run_call(&r, parts, "/fit"), DF_OK);
    CU_ASSERT_EQUAL(result(&r, parts, "samples"), 50);
    run_end(&r);
    /* a PCA needs two images */
    run_begin(&r);
    add_f32_image(&r, "alone", image_mean, SIDE, SIDE);
    df_value_put_bool(r.params, "reset", 1);
    CU_ASSERT_EQUAL(run_call(&r, parts, "/fit"), DF_E_INVALID_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "at least 2 images"));
    run_end(&r);
    df_executor_close(once);
    df_executor_close(parts);
}

static const char *model_path(const char *name)
{
    return df_arena_printf(cfg_arena, "%s/%s/pca.bin", tmp_root, name);
}

static void test_image_encoder_fit_survives_a_restart(void)
{
    make_axes();
    df_error err = DF_ERROR_INIT;
    df_executor *ex =
        must_open(open_encoder("kept", &err, "height", SIDE, "width", SIDE, "dim", 2, NULL), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    enc_run r;
    run_begin(&r);
    add_training_images(&r, 3, 0, N_FIT);
    CU_ASSERT_EQUAL_FATAL(run_call(&r, ex, "/fit"), DF_OK);
    run_end(&r);
    const float *axes[2] = {axis_u, axis_v};
    float before[4], after[4];
    CU_ASSERT_EQUAL_FATAL(embed_along(ex, axes, 2, 7.0f, before, 2), DF_OK);
    df_executor_close(ex);
    struct stat st;
    CU_ASSERT_EQUAL(stat(model_path("kept"), &st), 0);

    /* a new instance on the same workspace: no /fit, same embeddings */
    ex = must_open(open_encoder("kept", &err, "height", SIDE, "width", SIDE, "dim", 2, NULL), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    CU_ASSERT_EQUAL_FATAL(embed_along(ex, axes, 2, 7.0f, after, 2), DF_OK);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(before[i], after[i]);
    /* and a /fit after the restart continues the statistics */
    run_begin(&r);
    add_training_images(&r, 4, 0, 10);
    CU_ASSERT_EQUAL_FATAL(run_call(&r, ex, "/fit"), DF_OK);
    CU_ASSERT_EQUAL(result(&r, ex, "samples"), N_FIT + 10);
    run_end(&r);
    df_executor_close(ex);

    /* another dim: the components come from the kept statistics */
    ex = must_open(open_encoder("kept", &err, "height", SIDE, "width", SIDE, "dim", 3, NULL), &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    expect_axes_found(ex, 3);
    df_executor_close(ex);

    /* another image size: refused, saying why and what to do */
    df_error_clear(&err);
    CU_ASSERT_PTR_NULL(open_encoder("kept", &err, "height", 2, "width", 8, "dim", 2, NULL));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "fitted on 4 x 4 images, but with: says 2 x 8"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "delete the file"));

    /* a damaged file: refused */
    CU_ASSERT_EQUAL(truncate(model_path("kept"), st.st_size - 3), 0);
    df_error_clear(&err);
    CU_ASSERT_PTR_NULL(open_encoder("kept", &err, "height", SIDE, "width", SIDE, "dim", 2, NULL));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not a valid ImageEncoder PCA file"));
}

void df_test_register(void)
{
    CU_pSuite s = CU_add_suite("image_encoder", suite_setup, suite_teardown);
    CU_add_test(s, "image encoder flattens blobs and tensors of any dtype",
                test_image_encoder_flattens_blobs_and_tensors_of_any_dtype);
    CU_add_test(s, "image encoder: dim equal to pixels, and no normalisation",
                test_image_encoder_dim_equal_to_pixels_and_no_normalisation);
    CU_add_test(s, "image encoder request errors name the document",
                test_image_encoder_request_errors_name_the_document);
    CU_add_test(s, "image encoder init errors", test_image_encoder_init_errors);
    CU_add_test(s, "image encoder PCA finds the principal axes",
                test_image_encoder_pca_finds_the_principal_axes);
    CU_add_test(s, "image encoder fit accumulates over calls",
                test_image_encoder_fit_accumulates_over_calls);
    CU_add_test(s, "image encoder fit survives a restart",
                test_image_encoder_fit_survives_a_restart);
}
