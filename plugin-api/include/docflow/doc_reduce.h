/*
 * docflow/doc_reduce.h -- Jina's reduce of document arrays (DocArray's
 * `reduce` / `reduce_all`): how a join merges the arrays of its inputs and
 * how shards' answers are combined by default.
 *
 * Merging `other` into `into`: a document whose id is new is appended (a
 * repeated new id is appended once, later ones merge into it); a document
 * whose id is already there is merged into it (into the first, when `into`
 * repeats an id; a missing id counts as ""): every data field that is
 * empty in `into` is taken from `other` (priority to the left-most array;
 * id and parent_id never change): content (text / blob / tensor, one field:
 * taken only when `into` has none), embedding, uri, mime_type, modality,
 * location, and granularity / adjacency / weight / offset when 0. Tags,
 * _metadata, scores and evaluations keys absent in `into` are added. Its
 * matches and chunks are reduced the same way, recursively, by id. Match
 * order is not re-sorted.
 *
 * Jina's da.reduce_all([b, c]) is df_docs_reduce(da, b) then (da, c).
 *
 * What is taken from `other` is deep-copied into `into`'s arena, even
 * within one arena: `other` is never aliased nor changed. Lookups hash the
 * ids, so merging n documents into m costs O(n + m).
 */
#ifndef DOCFLOW_DOC_REDUCE_H
#define DOCFLOW_DOC_REDUCE_H

#include "docflow/document.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Merges `other` into `into`. NULL or `other == into` does nothing. */
void df_docs_reduce(df_docs *into, const df_docs *other);
/* Merges document `src` into `dst` whatever their ids (same rules; their
 * matches and chunks are reduced by id). Copies into dst's arena. */
void df_doc_reduce(df_doc *dst, const df_doc *src);

#ifdef __cplusplus
}
#endif
#endif
