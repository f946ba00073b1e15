/*
 * codec_bench.c -- throughput of the document codecs: our protobuf codec
 * against plain protobuf-c on the same messages, and our JSON codec.
 *
 * Every codec is first checked to round-trip the documents exactly; a
 * benchmark of a codec that loses data would be meaningless. Not here: the
 * timing harness (timing.c) and printing (main.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <docflow/arena.h>
#include <docflow/buf.h>
#include <docflow/document.h>
#include <docflow/json_codec.h>
#include <docflow/protobuf_codec.h>

#include "bench.h"
#include "docarray.pb-c.h"

/* Everything the timed steps touch. */
typedef struct codec_run {
    const df_docs *docs; /* the documents every encoder writes */
    size_t n;
    df_buf out;         /* encoders write here, reset every iteration */
    df_buf pb;          /* our protobuf bytes of `docs`, decoded by the decode steps */
    df_buf json;        /* our JSON of `docs` */
    uint8_t *ref_bytes; /* protobuf-c's bytes of the reference message */
    size_t ref_len;
    size_t ref_cap;
    Docarray__DocumentArrayProto *ref; /* the reference message */
    df_arena *arena;                   /* decode destination, reset every iteration */
    df_error err;
    volatile size_t sink; /* results land here so no call is optimised away */
} codec_run;

/* ========================================================================
 * The documents
 * ======================================================================== */

static uint32_t xorshift32(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

/* Deterministic content (only the ids are random, as df_doc_new makes
 * them): plain ASCII text, and embedding values spread over [-1, 1) with
 * full float precision, as a real model's are (round numbers would flatter
 * the JSON encoder). */
static df_docs *make_docs(df_arena *a, const bench_config *cfg)
{
    static const char words[] = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do "
                                "eiusmod tempor incididunt ut labore et dolore magna aliqua ";
    df_docs *docs = df_docs_new(a);
    df_docs_reserve(docs, cfg->docs);
    char *text = df_arena_alloc(a, cfg->text_len + 1);
    float *vec = df_arena_alloc(a, cfg->dim * sizeof *vec);
    uint32_t seed = 0x9e3779b9u;
    for (size_t i = 0; i < cfg->docs; i++) {
        for (size_t j = 0; j < cfg->text_len; j++)
            text[j] = words[(i * 7 + j) % (sizeof words - 1)];
        for (size_t j = 0; j < cfg->dim; j++)
            vec[j] = (float)((int32_t)xorshift32(&seed) >> 8) / (float)(1 << 23);
        df_doc *d = df_doc_new(a);
        df_doc_set_text(d, text, cfg->text_len);
        df_doc_set_embedding_f32(d, vec, cfg->dim);
        df_docs_append(docs, d);
    }
    return docs;
}

/* ========================================================================
 * The reference: the same documents as protobuf-c messages, built directly
 * ======================================================================== */

typedef struct reference {
    Docarray__DocumentArrayProto array;
    Docarray__DocumentProto *docs;
    Docarray__DocumentProto **ptrs;
    Docarray__NdArrayProto *nd;
    Docarray__DenseNdArrayProto *dense;
} reference;

static const Docarray__DocumentArrayProto array_init = DOCARRAY__DOCUMENT_ARRAY_PROTO__INIT;
/* protoc-c's initialiser gives `{0}` to a union whose first member is a
 * struct: correct C that -Wmissing-braces still flags. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-braces"
static const Docarray__DocumentProto doc_init = DOCARRAY__DOCUMENT_PROTO__INIT;
#pragma GCC diagnostic pop
static const Docarray__NdArrayProto nd_init = DOCARRAY__ND_ARRAY_PROTO__INIT;
static const Docarray__DenseNdArrayProto dense_init = DOCARRAY__DENSE_ND_ARRAY_PROTO__INIT;

/* Strings and buffers point into the documents (pack only reads them), as a
 * program keeping its data in protobuf-c structs would have them. */
static void reference_doc(reference *r, size_t i, const df_doc *d)
{
    df_ndarray_view view;
    Docarray__DocumentProto *m = &r->docs[i];
    *m = doc_init;
    m->id = (char *)df_doc_str(d, DF_FIELD_ID);
    m->content_case = DOCARRAY__DOCUMENT_PROTO__CONTENT_TEXT;
    m->text = (char *)df_doc_text(d, NULL);
    if (df_doc_embedding(d, &view)) {
        r->dense[i] = dense_init;
        r->dense[i].buffer.data = (uint8_t *)view.data;
        r->dense[i].buffer.len = view.nbytes;
        r->dense[i].n_shape = view.ndim;
        r->dense[i].shape = (uint32_t *)view.shape;
        r->dense[i].dtype = (char *)view.dtype;
        r->nd[i] = nd_init;
        r->nd[i].content_case = DOCARRAY__ND_ARRAY_PROTO__CONTENT_DENSE;
        r->nd[i].dense = &r->dense[i];
        m->embedding = &r->nd[i];
    }
    r->ptrs[i] = m;
}

static reference *reference_new(df_arena *a, const df_docs *docs)
{
    size_t n = df_docs_len(docs);
    reference *r = df_arena_calloc(a, sizeof *r);
    r->docs = df_arena_alloc(a, n * sizeof *r->docs + 1);
    r->ptrs = df_arena_alloc(a, n * sizeof *r->ptrs + 1);
    r->nd = df_arena_alloc(a, n * sizeof *r->nd + 1);
    r->dense = df_arena_alloc(a, n * sizeof *r->dense + 1);
    for (size_t i = 0; i < n; i++)
        reference_doc(r, i, df_docs_get(docs, i));
    r->array = array_init;
    r->array.n_docs = n;
    r->array.docs = r->ptrs;
    return r;
}

/* ========================================================================
 * The timed steps: one iteration each
 * ======================================================================== */

static int pb_encode_step(void *ctx)
{
    codec_run *c = ctx;
    df_buf_reset(&c->out);
    df_pb_encode_docs(&c->out, c->docs);
    c->sink += c->out.len;
    return 0;
}

/* Sizing is part of the reference's cost: a caller of protobuf-c cannot
 * pack without knowing how much room to give it. */
static int ref_pack_step(void *ctx)
{
    codec_run *c = ctx;
    size_t size = docarray__document_array_proto__get_packed_size(c->ref);
    if (size > c->ref_cap) {
        free(c->ref_bytes);
        c->ref_bytes = malloc(size);
        if (!c->ref_bytes) return df_error_set(&c->err, DF_E_RESOURCE, "out of memory");
        c->ref_cap = size;
    }
    c->ref_len = docarray__document_array_proto__pack(c->ref, c->ref_bytes);
    c->sink += c->ref_len;
    return 0;
}

static int check_count(codec_run *c, const char *what, size_t got)
{
    if (got == c->n) return 0;
    return df_error_set(&c->err, DF_E_INTERNAL, "%s: decoded %zu documents, expected %zu", what,
                        got, c->n);
}

enum { AS_PROTOBUF, AS_JSON };

/* Decodes into the run's arena, which is reset, not recreated: a server
 * reuses its request arenas, and the reference's heap keeps its freed
 * memory warm the same way. NULL on error (recorded in c->err). */
static df_docs *decode(codec_run *c, int format, const void *bytes, size_t len)
{
    df_arena_reset(c->arena);
    df_docs *docs = df_docs_new(c->arena);
    int rc = format == AS_JSON ? df_json_decode_docs(docs, bytes, len, "data", &c->err)
                               : df_pb_decode_docs(docs, bytes, len, &c->err);
    if (!rc) return docs;
    df_error_prefix(&c->err, format == AS_JSON ? "JSON decode" : "protobuf decode");
    return NULL;
}

static int pb_decode_step(void *ctx)
{
    codec_run *c = ctx;
    df_docs *docs = decode(c, AS_PROTOBUF, c->pb.data, c->pb.len);
    if (!docs) return c->err.code;
    c->sink += df_docs_len(docs);
    return check_count(c, "protobuf decode", df_docs_len(docs));
}

static int ref_unpack_step(void *ctx)
{
    codec_run *c = ctx;
    Docarray__DocumentArrayProto *m =
        docarray__document_array_proto__unpack(NULL, c->ref_len, c->ref_bytes);
    if (!m)
        return df_error_set(&c->err, DF_E_INTERNAL, "protobuf-c could not unpack %zu bytes",
                            c->ref_len);
    size_t n = m->n_docs;
    c->sink += n;
    docarray__document_array_proto__free_unpacked(m, NULL);
    return check_count(c, "protobuf-c unpack", n);
}

static int json_encode_step(void *ctx)
{
    codec_run *c = ctx;
    df_buf_reset(&c->out);
    df_json_encode_docs(&c->out, c->docs);
    c->sink += c->out.len;
    return 0;
}

static int json_decode_step(void *ctx)
{
    codec_run *c = ctx;
    df_docs *docs = decode(c, AS_JSON, c->json.data, c->json.len);
    if (!docs) return c->err.code;
    c->sink += df_docs_len(docs);
    return check_count(c, "JSON decode", df_docs_len(docs));
}

/* ========================================================================
 * Round-trip checks, once, before anything is timed
 * ======================================================================== */

static int check_decodes_to_docs(codec_run *c, int format, const void *bytes, size_t len,
                                 const char *what)
{
    df_docs *back = decode(c, format, bytes, len);
    if (!back) return c->err.code;
    if (df_docs_equal(c->docs, back)) return 0;
    return df_error_set(&c->err, DF_E_INTERNAL,
                        "%s: decode(encode(docs)) differs from docs (the round trip lost data)",
                        what);
}

/* protobuf-c's bytes of the same documents must decode, through our codec,
 * to the same documents; otherwise the reference measures other messages. */
static int check_reference(codec_run *c, int *identical)
{
    int rc = ref_pack_step(c);
    if (rc) return rc;
    *identical = c->ref_len == c->pb.len && memcmp(c->ref_bytes, c->pb.data, c->pb.len) == 0;
    if (*identical) return 0;
    return check_decodes_to_docs(c, AS_PROTOBUF, c->ref_bytes, c->ref_len,
                                 "protobuf-c's bytes of the reference message");
}

static int verify(codec_run *c, int *identical)
{
    int rc;
    if ((rc = check_decodes_to_docs(c, AS_PROTOBUF, c->pb.data, c->pb.len, "protobuf"))) return rc;
    if ((rc = check_reference(c, identical))) return rc;
    return check_decodes_to_docs(c, AS_JSON, c->json.data, c->json.len, "JSON");
}

/* ========================================================================
 * Entry point
 * ======================================================================== */

typedef struct codec_plan {
    const char *key, *label;
    bench_step step;
    size_t bytes;
    size_t iterations; /* per sample, from the warm-up */
} codec_plan;

/* Samples are taken round-robin (one of each benchmark per round), not
 * benchmark after benchmark: on a shared machine the load changes over a
 * run, and interleaving makes ours and the reference see the same load, so
 * their ratio stays meaningful even when the absolute figures drift. */
static int sample_round_robin(codec_run *c, codec_plan *plan, int repeat, double *samples)
{
    for (int i = 0; i < BENCH_CODEC_COUNT; i++) {
        int rc = bench_warm_up(plan[i].step, c, &plan[i].iterations);
        if (rc) return rc;
    }
    for (int r = 0; r < repeat; r++)
        for (int i = 0; i < BENCH_CODEC_COUNT; i++) {
            int rc = bench_sample(plan[i].step, c, plan[i].iterations, &samples[i * repeat + r]);
            if (rc) return rc;
        }
    return 0;
}

static int measure_all(codec_run *c, const bench_config *cfg, bench_figure *out)
{
    codec_plan plan[BENCH_CODEC_COUNT] = {
        [BENCH_PB_ENCODE] = {"pb_encode", "protobuf encode (docflow)", pb_encode_step, c->pb.len,
                             0},
        [BENCH_PB_ENCODE_REF] = {"pb_encode_ref", "protobuf encode (protobuf-c)", ref_pack_step,
                                 c->ref_len, 0},
        [BENCH_PB_DECODE] = {"pb_decode", "protobuf decode (docflow)", pb_decode_step, c->pb.len,
                             0},
        [BENCH_PB_DECODE_REF] = {"pb_decode_ref", "protobuf decode (protobuf-c)", ref_unpack_step,
                                 c->ref_len, 0},
        [BENCH_JSON_ENCODE] = {"json_encode", "JSON encode (docflow)", json_encode_step,
                               c->json.len, 0},
        [BENCH_JSON_DECODE] = {"json_decode", "JSON decode (docflow)", json_decode_step,
                               c->json.len, 0},
    };
    double *samples = malloc((size_t)BENCH_CODEC_COUNT * (size_t)cfg->repeat * sizeof *samples);
    if (!samples) return df_error_set(&c->err, DF_E_RESOURCE, "out of memory");
    int rc = sample_round_robin(c, plan, cfg->repeat, samples);
    for (int i = 0; i < BENCH_CODEC_COUNT && !rc; i++) {
        out[i] = (bench_figure){plan[i].key, plan[i].label, {0, 0, 0, 0}, c->n, plan[i].bytes};
        bench_summarize(&samples[i * cfg->repeat], cfg->repeat, plan[i].iterations, &out[i].timing);
    }
    free(samples);
    return rc;
}

int bench_codecs(const bench_config *cfg, bench_figure out[BENCH_CODEC_COUNT], int *pb_identical,
                 df_error *err)
{
    df_arena *data = df_arena_new(0);
    codec_run c = {.n = cfg->docs,
                   .out = DF_BUF_INIT,
                   .pb = DF_BUF_INIT,
                   .json = DF_BUF_INIT,
                   .err = DF_ERROR_INIT};
    c.docs = make_docs(data, cfg);
    c.ref = &reference_new(data, c.docs)->array;
    df_pb_encode_docs(&c.pb, c.docs);
    df_json_encode_docs(&c.json, c.docs);
    /* One block big enough for a decoded batch, kept across resets. */
    c.arena = df_arena_new(2 * (c.pb.len > c.json.len ? c.pb.len : c.json.len) + (1u << 20));
    int rc = verify(&c, pb_identical);
    if (!rc) rc = measure_all(&c, cfg, out);
    if (rc) {
        if (c.err.code == DF_OK) df_error_set(&c.err, DF_E_INTERNAL, "codec benchmark failed");
        *err = c.err;
    }
    free(c.ref_bytes);
    df_buf_free(&c.out);
    df_buf_free(&c.pb);
    df_buf_free(&c.json);
    df_arena_free(c.arena);
    df_arena_free(data);
    return rc ? err->code : DF_OK;
}
