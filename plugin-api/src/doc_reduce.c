/*
 * doc_reduce.c -- Jina's reduce of document arrays (DocArray's `reduce`):
 * a join merges its inputs' arrays with it, and shards' answers are
 * combined with it by default.
 *
 * Not for: ranking. Matches are merged by id, never re-sorted or cut to a
 * top-k; that is the job of whoever reads the scores.
 *
 * Everything taken from `other` is deep-copied into the receiving arena,
 * even when both live in the same arena: `other` is const, and a later merge
 * into a shared document (reduce_all's third array) would write through it.
 */
#include "docflow/doc_reduce.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "document_internal.h"

/* Below this many documents a linear scan beats building a table. */
#define LINEAR_LOOKUP_MAX 32

static const char *nz(const char *s)
{
    return s ? s : "";
}

static int is_empty(const char *s)
{
    return !s || !*s;
}

/* ---- the id index of the receiving array --------------------------------------- */

/* Open addressing with linear probing over document pointers. Like
 * df_docs_find, the first document of a repeated id wins, and a missing id
 * is the id "". */
typedef struct id_index {
    df_doc **slots; /* NULL when the array is small (or malloc failed): scan */
    size_t mask;
    const df_docs *docs;
} id_index;

static uint64_t id_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h ^ (h >> 32);
}

static df_doc **index_slot(const id_index *ix, const char *id)
{
    size_t i = (size_t)id_hash(id) & ix->mask;
    while (ix->slots[i] && strcmp(nz(ix->slots[i]->id), id) != 0)
        i = (i + 1) & ix->mask;
    return &ix->slots[i];
}

static void index_add(id_index *ix, df_doc *d)
{
    if (!ix->slots) return;
    df_doc **slot = index_slot(ix, nz(d->id));
    if (!*slot) *slot = d;
}

static df_doc *index_find(const id_index *ix, const char *id)
{
    if (!ix->slots) return df_docs_find(ix->docs, id);
    return *index_slot(ix, id);
}

/* Room for every document `into` can hold after the merge, at most half full. */
static void index_build(id_index *ix, const df_docs *into, size_t incoming)
{
    *ix = (id_index){.docs = into};
    size_t total = into->n + incoming;
    if (total <= LINEAR_LOOKUP_MAX) return;
    size_t cap = 64;
    while (cap < 2 * total)
        cap *= 2;
    ix->slots = calloc(cap, sizeof *ix->slots);
    if (!ix->slots) return; /* a scan is slow but still right */
    ix->mask = cap - 1;
    for (size_t i = 0; i < into->n; i++)
        index_add(ix, into->items[i]);
}

/* ---- merging one document --------------------------------------------------------- */

static void ndarray_copy_into(df_arena *a, df_ndarray *dst, const df_ndarray *src)
{
    *dst = *src;
    dst->data = df_arena_memdup(a, src->data, src->nbytes);
    dst->shape = df_arena_memdup(a, src->shape, src->ndim * sizeof(uint32_t));
    dst->dtype = df_arena_strdup(a, src->dtype);
    dst->cls_name = df_arena_strdup(a, nz(src->cls_name));
    dst->params = df_value_copy(a, src->params);
}

/* text, blob and tensor are one oneof: taken only when dst has none. */
static void content_take(df_doc *dst, const df_doc *src)
{
    df_arena *a = dst->arena;
    switch (src->content) {
    case DF_CONTENT_TEXT:
        dst->text = df_arena_strndup(a, src->text, src->text_len);
        dst->text_len = src->text_len;
        break;
    case DF_CONTENT_BLOB:
        dst->blob = df_arena_memdup(a, src->blob, src->blob_len);
        dst->blob_len = src->blob_len;
        break;
    case DF_CONTENT_TENSOR:
        ndarray_copy_into(a, &dst->tensor, &src->tensor);
        break;
    default:
        return;
    }
    dst->content = src->content;
}

static void string_take(df_doc *dst, const char **field, const char *value)
{
    if (is_empty(*field) && !is_empty(value)) *field = df_arena_strdup(dst->arena, value);
}

static void map_union(df_doc *dst, df_value **field, const df_value *from)
{
    if (df_value_type_of(from) != DF_VALUE_MAP || !df_value_len(from)) return;
    if (!*field) *field = df_value_new_map(dst->arena);
    if (df_value_type_of(*field) != DF_VALUE_MAP) return;
    for (size_t i = 0; i < df_value_len(from); i++) {
        const char *key = df_value_key_at(from, i);
        if (!df_value_get(*field, key)) df_value_set(*field, key, df_value_at(from, i));
    }
}

static void scores_union(df_doc *dst, const df_doc *src, df_score_map map)
{
    size_t n = df_doc_score_count(src, map);
    for (size_t i = 0; i < n; i++) {
        df_score s;
        const char *name = df_doc_score_at(src, map, i, &s);
        if (!df_doc_score(dst, map, name, NULL)) df_doc_set_score(dst, map, name, &s);
    }
}

/* DocArray's _reduce_doc_props: every data field set in src and empty in
 * dst is taken; id and parent_id identify the document and never change. */
static void fields_take(df_doc *dst, const df_doc *src)
{
    df_arena *a = dst->arena;
    if (dst->content == DF_CONTENT_NONE) content_take(dst, src);
    if (!dst->embedding.present && src->embedding.present)
        ndarray_copy_into(a, &dst->embedding, &src->embedding);
    string_take(dst, &dst->uri, src->uri);
    string_take(dst, &dst->mime_type, src->mime_type);
    string_take(dst, &dst->modality, src->modality);
    if (!dst->granularity) dst->granularity = src->granularity;
    if (!dst->adjacency) dst->adjacency = src->adjacency;
    if (dst->weight == 0) dst->weight = src->weight;
    if (dst->offset == 0) dst->offset = src->offset;
    if (!dst->n_location && src->n_location) {
        dst->location = df_arena_memdup(a, src->location, src->n_location * sizeof(float));
        dst->n_location = src->n_location;
    }
    map_union(dst, &dst->tags, src->tags);
    map_union(dst, &dst->metadata, src->metadata);
    scores_union(dst, src, DF_SCORES);
    scores_union(dst, src, DF_EVALUATIONS);
}

void df_doc_reduce(df_doc *dst, const df_doc *src)
{
    if (!dst || !src || dst == src) return;
    fields_take(dst, src);
    if (df_docs_len(src->matches)) df_docs_reduce(df_doc_matches(dst), src->matches);
    if (df_docs_len(src->chunks)) df_docs_reduce(df_doc_chunks(dst), src->chunks);
}

void df_docs_reduce(df_docs *into, const df_docs *other)
{
    if (!into || !other || into == other || !other->n) return;
    size_t n = other->n;
    id_index ix;
    index_build(&ix, into, n);
    df_docs_reserve(into, n);
    for (size_t i = 0; i < n; i++) {
        const df_doc *src = other->items[i];
        df_doc *dst = index_find(&ix, nz(src->id));
        if (dst) {
            df_doc_reduce(dst, src);
            continue;
        }
        dst = df_docs_append(into, df_doc_copy(into->arena, src));
        index_add(&ix, dst);
    }
    free(ix.slots);
}
