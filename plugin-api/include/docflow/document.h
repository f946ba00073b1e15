/*
 * docflow/document.h -- Documents and document arrays (DocArray v1's model)
 * for programs embedding libdocflow: docflow-host, docflow-hub, tools, tests.
 *
 * Every function here with a df_host counterpart has the same signature and
 * meaning, documented in docflow/executor.h (the host table points at these
 * functions). What is only here: creating documents and arrays in a given
 * arena, deep copies, and comparison.
 *
 * Memory: a document and its strings, arrays, tags and nested documents live
 * in the arena it was created in. Putting a document into an array of
 * another arena deep-copies it.
 */
#ifndef DOCFLOW_DOCUMENT_H
#define DOCFLOW_DOCUMENT_H

#include <stddef.h>
#include <stdint.h>
#include "docflow/arena.h"
#include "docflow/executor.h"
#include "docflow/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A new document with a random 32-hex id. */
df_doc *df_doc_new(df_arena *a);
/* A new document with no id (decoders fill every field themselves). */
df_doc *df_doc_new_empty(df_arena *a);
df_arena *df_doc_arena(const df_doc *d);
/* A deep copy in arena `a`. */
df_doc *df_doc_copy(df_arena *a, const df_doc *d);
/* Field-by-field equality, nested documents included. */
int df_doc_equal(const df_doc *x, const df_doc *y);
/* Writes a fresh random 32-hex id (33 bytes with the NUL) into out. */
void df_doc_random_id(char out[33]);

const char *df_doc_str(const df_doc *d, df_doc_str_field f);
void df_doc_set_str(df_doc *d, df_doc_str_field f, const char *s);
double df_doc_num(const df_doc *d, df_doc_num_field f);
void df_doc_set_num(df_doc *d, df_doc_num_field f, double x);
df_content_kind df_doc_content(const df_doc *d);
const char *df_doc_text(const df_doc *d, size_t *len);
void df_doc_set_text(df_doc *d, const char *text, size_t len);
const void *df_doc_blob(const df_doc *d, size_t *len);
void df_doc_set_blob(df_doc *d, const void *data, size_t len);
int df_doc_tensor(const df_doc *d, df_ndarray_view *out);
int df_doc_set_tensor(df_doc *d, const void *data, size_t nbytes, const uint32_t *shape,
                      uint32_t ndim, const char *dtype);
int df_doc_embedding(const df_doc *d, df_ndarray_view *out);
int df_doc_set_embedding(df_doc *d, const void *data, size_t nbytes, const uint32_t *shape,
                         uint32_t ndim, const char *dtype);
float *df_doc_embedding_f32(df_doc *d, size_t *dim);
void df_doc_set_embedding_f32(df_doc *d, const float *values, size_t dim);
const float *df_doc_location(const df_doc *d, size_t *n);
void df_doc_set_location(df_doc *d, const float *values, size_t n);
df_docs *df_doc_chunks(df_doc *d);
df_docs *df_doc_matches(df_doc *d);
df_value *df_doc_tags(df_doc *d);
df_value *df_doc_metadata(df_doc *d);
/* Read-only peeks that do not create: NULL when absent or empty. */
const df_docs *df_doc_chunks_peek(const df_doc *d);
const df_docs *df_doc_matches_peek(const df_doc *d);
const df_value *df_doc_tags_peek(const df_doc *d);
const df_value *df_doc_metadata_peek(const df_doc *d);
/* Extra ndarray metadata DocArray carries (NdArrayProto.cls_name and
 * .parameters), kept so they round-trip. which: 0 = tensor, 1 = embedding. */
const char *df_doc_ndarray_cls(const df_doc *d, int which);
void df_doc_set_ndarray_cls(df_doc *d, int which, const char *cls_name);
const df_value *df_doc_ndarray_params(const df_doc *d, int which);
void df_doc_set_ndarray_params(df_doc *d, int which, const df_value *params);
int df_doc_score(const df_doc *d, df_score_map map, const char *name, df_score *out);
void df_doc_set_score(df_doc *d, df_score_map map, const char *name, const df_score *s);
size_t df_doc_score_count(const df_doc *d, df_score_map map);
const char *df_doc_score_at(const df_doc *d, df_score_map map, size_t i, df_score *out);

/* The byte size of one element of a numpy dtype string ("<f4" -> 4), or 0
 * when docflow does not know the dtype. */
size_t df_dtype_size(const char *dtype);

df_docs *df_docs_new(df_arena *a);
df_arena *df_docs_arena(const df_docs *docs);
size_t df_docs_len(const df_docs *docs);
df_doc *df_docs_get(const df_docs *docs, size_t i);
df_doc *df_docs_find(const df_docs *docs, const char *id);
df_doc *df_docs_append(df_docs *docs, df_doc *d);
int df_docs_remove(df_docs *docs, size_t i);
void df_docs_clear(df_docs *docs);
float *df_docs_embeddings(df_docs *docs, size_t *rows, size_t *dim);
int df_docs_set_embeddings(df_docs *docs, const float *matrix, size_t rows, size_t dim);
int df_docs_set_scores(df_docs *docs, const char *name, const float *values, size_t n);
/* A deep copy of the whole array in arena `a`. */
df_docs *df_docs_copy(df_arena *a, const df_docs *docs);
int df_docs_equal(const df_docs *x, const df_docs *y);
/* Reserves room for n more documents (decoders know the count up front). */
void df_docs_reserve(df_docs *docs, size_t n);

#ifdef __cplusplus
}
#endif
#endif
