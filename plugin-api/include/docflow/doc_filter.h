/*
 * docflow/doc_filter.h -- DocArray's query language on documents, used by a
 * flow executor's `when:` (documents that do not match skip the executor)
 * and by `find`-style filters:
 *
 *   {tags__key: {$eq: value}}                 a field path and an operator
 *   {tags__key: value}                        the same ($eq), as in MongoDB
 *   {text: {$regex: "^he"}, weight: {$gt: 1}} several conditions: all must hold
 *   {weight: {$gt: 1, $lt: 5}}                several operators: all must hold
 *   {$and: [c1, c2]}  {$or: [c1, c2]}  {$not: c}  {weight: {$not: {$gt: 1}}}
 *
 * $and / $or take a non-empty list of conditions (or a map, each entry one
 * condition); {} matches every document.
 *
 * Field paths use `__` between levels: tags__a__b reads tags["a"]["b"]
 * (a decimal step indexes a list: tags__l__0); _metadata__a__b likewise.
 * Plain fields are id, parent_id, text, uri, mime_type, modality,
 * granularity, adjacency, weight, offset, and scores__NAME__value,
 * evaluations__NAME__value (also __op_name, __description, __ref_id).
 * embedding, tensor, blob, location, chunks, matches, tags, _metadata,
 * scores and evaluations take only $exists and $size.
 *
 * Operators: $eq $neq ($ne) $gt $gte $lt $lte $in $nin (a list) $regex
 * (POSIX extended, searched anywhere in the string) $size (Python's len: of
 * a list, a map, a string in code points, an array's elements) $exists
 * (true / false).
 *
 * Values: numbers compare numerically (weight, offset and scores at float32
 * precision, so {weight: {$eq: 0.1}} matches a weight of 0.1), strings
 * bytewise, bool / null / lists / maps only by equality; values of different
 * types are never equal and never ordered. An unset plain field ("", no
 * text) and a missing tags key compare as null: {$eq: null} matches.
 * $exists on a plain field means non-empty (0 and "" are empty, as in
 * DocArray); on a tags path, that the key is there (even holding null).
 */
#ifndef DOCFLOW_DOC_FILTER_H
#define DOCFLOW_DOC_FILTER_H

#include "docflow/arena.h"
#include "docflow/document.h"
#include "docflow/error.h"
#include "docflow/value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct df_filter df_filter;

/* Compiles a condition (a map, as parsed from YAML or JSON). `where`
 * prefixes messages ("flow.yml:12:7"; NULL or "" for none); NULL on error
 * (DF_E_INVALID_INPUT), with the path inside the condition, e.g.
 * "flow.yml:12:7: when.tags__k: unknown operator '$equals' (known: $eq, ...)",
 * "when.$and[1].tags__k: $in expects a list, got a number",
 * "when.textt: unknown field 'textt' (known: id, ...)".
 * The filter lives in arena `a` and copies what it needs from `condition`,
 * which may be freed afterwards. It is read-only after compiling and safe
 * to use from several threads at once. */
df_filter *df_filter_compile(df_arena *a, const df_value *condition, const char *where,
                             df_error *err);
/* 1 when the document satisfies the condition, else 0. A NULL filter
 * matches every document; a NULL document matches nothing. */
int df_filter_match(const df_filter *f, const df_doc *d);
/* Frees what the compiled filter holds outside its arena (regexes); call it
 * before freeing the arena. NULL is fine. */
void df_filter_free(df_filter *f);

#ifdef __cplusplus
}
#endif
#endif
