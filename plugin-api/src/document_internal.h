/*
 * document_internal.h -- the layout of documents, arrays and values inside
 * libdocflow. Codecs read and fill these structs directly (the hot paths);
 * everything outside libdocflow goes through docflow/document.h.
 */
#ifndef DOCFLOW_DOCUMENT_INTERNAL_H
#define DOCFLOW_DOCUMENT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "docflow/arena.h"
#include "docflow/document.h"
#include "docflow/value.h"

/* A dense n-dim array (DocArray's NdArrayProto with a dense content). */
typedef struct df_ndarray {
    int present; /* 0: the field is unset */
    void *data;  /* little-endian, C order, nbytes long, 16-byte aligned
                    when docflow allocated it */
    size_t nbytes;
    uint32_t *shape;
    uint32_t ndim;
    const char *dtype;    /* numpy dtype string, never NULL when present */
    const char *cls_name; /* NdArrayProto.cls_name; "" when unset */
    df_value *params;     /* NdArrayProto.parameters; NULL when unset */
} df_ndarray;

typedef struct df_named_score {
    const char *name;
    float value;
    const char *op_name, *description, *ref_id; /* "" when unset */
} df_named_score;

typedef struct df_score_list {
    df_named_score *items;
    size_t n, cap;
} df_score_list;

struct df_doc {
    df_arena *arena;
    /* NULL means unset for every string; readers return "". */
    const char *id, *parent_id, *uri, *modality, *mime_type;
    uint8_t content;  /* df_content_kind */
    const char *text; /* NUL-terminated, text_len bytes */
    size_t text_len;
    const uint8_t *blob;
    size_t blob_len;
    df_ndarray tensor;
    df_ndarray embedding;
    uint32_t granularity, adjacency;
    float weight, offset;
    float *location;
    size_t n_location;
    df_docs *chunks;    /* NULL until used */
    df_docs *matches;   /* NULL until used */
    df_value *tags;     /* NULL until used */
    df_value *metadata; /* NULL until used */
    df_score_list scores, evaluations;
};

struct df_docs {
    df_arena *arena;
    df_doc **items;
    size_t n, cap;
};

struct df_value {
    uint8_t type; /* df_value_type */
    union {
        int b;
        double num;
        struct {
            const char *s; /* NUL-terminated */
            size_t len;
        } str;
        struct { /* lists and maps; keys is NULL for lists */
            df_arena *arena;
            const char **keys;
            df_value **items;
            size_t n, cap;
        } c;
    } u;
};

#endif
