/*
 * docflow/protobuf_codec.h -- documents as DocArray v1 protobuf bytes
 * (docarray.DocumentProto / DocumentArrayProto, see plugin-api/proto/), and
 * values as google.protobuf.Struct / Value bytes. Bytes interoperate with
 * Jina and DocArray v1 in both directions.
 *
 * Decoding uses protobuf-c with the destination arena as its allocator, then
 * adopts the unpacked strings and buffers without copying them again.
 * Errors say what was wrong ("truncated or malformed DocumentArrayProto
 * (312 bytes)", "docs[2].embedding: sparse arrays are not supported").
 */
#ifndef DOCFLOW_PROTOBUF_CODEC_H
#define DOCFLOW_PROTOBUF_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include "docflow/arena.h"
#include "docflow/buf.h"
#include "docflow/document.h"
#include "docflow/error.h"
#include "docflow/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* DocumentArrayProto bytes -> documents appended to `out`. */
int df_pb_decode_docs(df_docs *out, const uint8_t *bytes, size_t len, df_error *err);
/* DocumentProto bytes -> one document in arena `a`; NULL on error. */
df_doc *df_pb_decode_doc(df_arena *a, const uint8_t *bytes, size_t len, df_error *err);
/* google.protobuf.Struct bytes -> a map value in `a`; NULL on error. */
df_value *df_pb_decode_struct(df_arena *a, const uint8_t *bytes, size_t len, df_error *err);

/* Appends DocumentArrayProto / DocumentProto / Struct bytes. A Struct must be
 * a map value; other values are encoded as an empty Struct. */
void df_pb_encode_docs(df_buf *b, const df_docs *docs);
void df_pb_encode_doc(df_buf *b, const df_doc *d);
void df_pb_encode_struct(df_buf *b, const df_value *map);

#ifdef __cplusplus
}
#endif
#endif
