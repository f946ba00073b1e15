/*
 * docflow/json_codec.h -- documents and values in the JSON form of Jina's
 * HTTP gateway (DocArray v1's `to_dict()`, snake_case keys):
 *
 *   {"id": "...", "parent_id": "...", "granularity": 1, "adjacency": 0,
 *    "text": "...", "blob": "<base64>", "tensor": [[1, 2], [3, 4]],
 *    "embedding": [0.1, 0.2], "mime_type": "...", "uri": "...", "weight": 1,
 *    "modality": "...", "offset": 3, "location": [1, 2],
 *    "tags": {...}, "_metadata": {...},
 *    "scores": {"cosine": {"value": 0.9, "op_name": "...", ...}},
 *    "evaluations": {...}, "chunks": [doc, ...], "matches": [doc, ...]}
 *
 * Decoding
 * - Also accepts DocArray's protobuf-JSON spellings (parentId, mimeType,
 *   Metadata, opName, refId), an `embedding` / `tensor` given as
 *   {"dense": {"buffer": "<base64>", "shape": [...], "dtype": "<f4"},
 *    "cls_name": "...", "parameters": {...}}, a score given as a bare number,
 *   and base64 in the standard or URL-safe alphabet, padded or not.
 * - Nested lists become a float32 ("<f4") array of their shape (ragged
 *   lists are an error); inside them null reads as NaN (what the encoder
 *   writes for it) and true / false as 1 / 0.
 * - null for a field, "" and {} / [] mean unset. A document without an id
 *   gets a random one, as in DocArray. text, blob and tensor share DocArray's
 *   oneof: a document giving more than one of them is an error.
 * - Unknown document keys are an error naming the key (Jina 2.x moved them
 *   into tags silently, which hid typos); so is a key given twice. In tags
 *   and other free-form objects a repeated key keeps its first position and
 *   its last value, as Python's json module does.
 * - Strict RFC 8259 JSON: UTF-8 is validated, \u escapes are decoded
 *   (surrogate pairs included, lone surrogates rejected), NaN / Infinity
 *   literals are rejected, numbers out of range for their field (float32 for
 *   document numbers, double in values) are errors. Limits against hostile
 *   input: 256 nested levels, 32 array dimensions, 1024-character numbers.
 *
 * Errors are DF_E_INVALID_INPUT with the path of the offending field:
 * "data[3].embedding[2]: expected a number, got a string", and for malformed
 * JSON the byte offset, line and column. The `path` argument starts that
 * path: a path-like prefix is continued ("data" -> "data[3].text"); any
 * other prefix is a label followed by ": " ("line 3" -> "line 3: text",
 * "docs.jsonl:3" -> "docs.jsonl:3: text"). NULL or "" for none.
 *
 * Encoding
 * - Writes only non-empty fields, as DocArray does (id always; a score
 *   always has its "value"), in DocArray's key order, compact.
 * - Numbers are the shortest decimal that reads back as the same float32
 *   (document fields, float32 arrays) or double (values); integral values
 *   have no ".0". JSON has no NaN or Infinity: they are written as null.
 * - Arrays of numeric dtypes (f2, f4, f8, i1..i8, u1..u8, b1) become nested
 *   lists as numpy's tolist() gives them; other dtypes (and an array whose
 *   bytes do not match its shape) use the {"dense": ...} form, which is also
 *   the only form that carries cls_name and parameters.
 * - Strings keep valid UTF-8 as is and escape '"', '\\' and control
 *   characters; bytes that are not UTF-8 become U+FFFD.
 */
#ifndef DOCFLOW_JSON_CODEC_H
#define DOCFLOW_JSON_CODEC_H

#include <stddef.h>
#include "docflow/arena.h"
#include "docflow/buf.h"
#include "docflow/document.h"
#include "docflow/error.h"
#include "docflow/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One JSON object -> a document in arena `a`. `path` prefixes error
 * messages ("line 3" or "data[0]"); NULL for none. NULL on error. */
df_doc *df_json_decode_doc(df_arena *a, const char *json, size_t len, const char *path,
                           df_error *err);
/* A JSON array of document objects, appended to `out`. DF_OK or the error
 * (then `out` holds the documents decoded before the bad one). */
int df_json_decode_docs(df_docs *out, const char *json, size_t len, const char *path,
                        df_error *err);
/* Any JSON text -> a value in arena `a`. NULL on error. */
df_value *df_json_decode_value(df_arena *a, const char *json, size_t len, const char *path,
                               df_error *err);

/* The envelope of a request or a response, a JSON object such as
 * {"data": [...], "parameters": {...}}, in one pass. Member `docs_key` holds
 * the documents: an array, an object whose "docs" member is that array (as
 * Jina also accepts; its other members are ignored), or null for none. They
 * are decoded straight from the input and appended to `docs`. Every other
 * member goes into the map *members as a value (unknown ones included: the
 * caller picks what it knows). Both live in df_docs_arena(docs). A repeated
 * key keeps its last value, documents included. DF_OK, or the error with
 * the path from the member on ("data[3].text", "parameters.k"); then
 * *members is NULL and `docs` may hold documents decoded before the bad one.
 * Not for bodies other than objects ("expected a JSON object, got ..."). */
int df_json_decode_envelope(df_docs *docs, df_value **members, const char *json, size_t len,
                            const char *docs_key, df_error *err);

/* Appends the JSON of a document / a JSON array of documents / a value. */
void df_json_encode_doc(df_buf *b, const df_doc *d);
void df_json_encode_docs(df_buf *b, const df_docs *docs);
void df_json_encode_value(df_buf *b, const df_value *v);
/* Appends a JSON string literal (quotes and escapes included). */
void df_json_encode_string(df_buf *b, const char *s, size_t len);

#ifdef __cplusplus
}
#endif
#endif
