/*
 * protobuf_codec.c -- documents and values <-> DocArray v1 protobuf bytes
 * (DocumentProto, DocumentArrayProto, google.protobuf.Struct).
 *
 * Decoding: protobuf-c unpacks into the destination arena (the arena is its
 * allocator; free is a no-op), then the unpacked tree is turned into df_doc /
 * df_value structs that point at the unpacked strings and buffers. Every
 * byte is copied once, by protobuf-c, and ndarray buffers come out 16-byte
 * aligned because the arena aligns every allocation.
 *
 * Encoding: shallow protobuf-c structs that point at document memory are
 * built in a scratch arena, sized, and packed straight into the output
 * buffer.
 *
 * Not here: JSON (json_codec.c) and Jina's request envelope.
 */
#include "docflow/protobuf_codec.h"

#include <protobuf-c/protobuf-c.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "docarray.pb-c.h"
#include "document_internal.h"
#include "google/protobuf/struct.pb-c.h"

/* Google's protobuf refuses messages nested deeper than 100, and so do we:
 * protobuf-c recurses without any limit, so a few kilobytes of crafted
 * nesting would otherwise overflow the stack. At about 1 KB of stack per
 * level in protobuf-c, the deepest accepted input needs ~100 KB of stack:
 * do not decode on threads with less than 128 KB. */
#define PB_MAX_DEPTH 100

/* Maps with at most this many keys are checked for repeated keys pairwise;
 * bigger ones through a hash table, so crafted input cannot go quadratic. */
#define PB_SMALL_MAP 16

/* ========================================================================
 * protobuf-c's allocator: the arena
 * ======================================================================== */

static void *arena_pb_alloc(void *arena, size_t size)
{
    return df_arena_alloc(arena, size ? size : 1);
}

/* Arena memory dies with the arena; what protobuf-c frees (scratch slabs,
 * a half-built message on error) simply stays until then. */
static void arena_pb_free(void *arena, void *p)
{
    (void)arena;
    (void)p;
}

static ProtobufCAllocator arena_allocator(df_arena *a)
{
    return (ProtobufCAllocator){arena_pb_alloc, arena_pb_free, a};
}

/* ========================================================================
 * Nesting check before unpacking
 * ======================================================================== */

enum { WIRE_OK = 0, WIRE_MALFORMED = 1, WIRE_TOO_DEEP = 2 };

static int wire_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t byte = *(*p)++;
        v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* Skips the value of a field of wire type `wire`; -1 when it is truncated
 * or a group (protobuf-c refuses groups too). Length-prefixed values are
 * handled by the callers, which need their length. */
static int wire_skip(const uint8_t **p, const uint8_t *end, unsigned wire)
{
    uint64_t ignored;
    switch (wire) {
    case PROTOBUF_C_WIRE_TYPE_VARINT:
        return wire_varint(p, end, &ignored);
    case PROTOBUF_C_WIRE_TYPE_64BIT:
        if (end - *p < 8) return -1;
        *p += 8;
        return 0;
    case PROTOBUF_C_WIRE_TYPE_32BIT:
        if (end - *p < 4) return -1;
        *p += 4;
        return 0;
    case PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED:
        if (wire_varint(p, end, &ignored) || ignored > (uint64_t)(end - *p)) return -1;
        *p += ignored;
        return 0;
    default:
        return -1;
    }
}

/* The descriptor of field `tag` when it is a message field, else NULL. The
 * DocArray and Struct messages number their fields 1..n, so the direct
 * index almost always hits; protobuf-c's lookup covers the rest. */
static const ProtobufCMessageDescriptor *message_field(const ProtobufCMessageDescriptor *desc,
                                                       uint64_t tag)
{
    const ProtobufCFieldDescriptor *f = NULL;
    if (tag - 1 < desc->n_fields && desc->fields[tag - 1].id == tag)
        f = &desc->fields[tag - 1];
    else if (tag <= UINT32_MAX)
        f = protobuf_c_message_descriptor_get_field(desc, (unsigned)tag);
    return f && f->type == PROTOBUF_C_TYPE_MESSAGE ? f->descriptor : NULL;
}

/* Walks the wire format of one message of type `desc` and descends into
 * its message fields, to refuse nesting deeper than PB_MAX_DEPTH before
 * protobuf-c recurses into it. Not a validator: unpacking still decides. */
static int wire_check(const ProtobufCMessageDescriptor *desc, const uint8_t *p, const uint8_t *end,
                      int depth)
{
    while (p < end) {
        uint64_t key, n;
        if (wire_varint(&p, end, &key)) return WIRE_MALFORMED;
        if ((key & 7) != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED) {
            if (wire_skip(&p, end, key & 7)) return WIRE_MALFORMED;
            continue;
        }
        if (wire_varint(&p, end, &n) || n > (uint64_t)(end - p)) return WIRE_MALFORMED;
        const ProtobufCMessageDescriptor *sub = message_field(desc, key >> 3);
        /* Each level costs two bytes at least: n bytes cannot nest more
         * than n / 2 further levels, so only descend when that could
         * cross the limit. */
        if (sub && (uint64_t)depth + 1 + n / 2 >= PB_MAX_DEPTH) {
            if (depth + 1 >= PB_MAX_DEPTH) return WIRE_TOO_DEEP;
            int rc = wire_check(sub, p, p + n, depth + 1);
            if (rc) return rc;
        }
        p += n;
    }
    return WIRE_OK;
}

/* Unpacks `len` bytes as a `desc` message found `depth` levels down into
 * arena `a`; NULL with *why set (WIRE_MALFORMED, WIRE_TOO_DEEP) on failure. */
static void *unpack_checked(df_arena *a, const ProtobufCMessageDescriptor *desc,
                            const uint8_t *bytes, size_t len, int depth, int *why)
{
    if ((size_t)depth + len / 2 >= PB_MAX_DEPTH) {
        *why = wire_check(desc, bytes, bytes + len, depth);
        if (*why) return NULL;
    }
    ProtobufCAllocator alloc = arena_allocator(a);
    ProtobufCMessage *m = protobuf_c_message_unpack(desc, &alloc, len, bytes);
    *why = m ? WIRE_OK : WIRE_MALFORMED;
    return m;
}

static int unpack_error(df_error *err, const char *type, size_t len, int why)
{
    if (why == WIRE_TOO_DEEP)
        return df_error_set(err, DF_E_INVALID_INPUT, "%s (%zu bytes) nests messages deeper than %d",
                            type, len, PB_MAX_DEPTH);
    return df_error_set(err, DF_E_INVALID_INPUT, "truncated or malformed %s (%zu bytes)", type,
                        len);
}

/* unpack_checked for a whole input, with the error message set. */
static void *unpack_into_arena(df_arena *a, const ProtobufCMessageDescriptor *desc,
                               const uint8_t *bytes, size_t len, df_error *err)
{
    int why;
    if (!bytes && len) {
        unpack_error(err, desc->short_name, len, WIRE_MALFORMED);
        return NULL;
    }
    void *m = unpack_checked(a, desc, bytes, len, 0, &why);
    if (!m) unpack_error(err, desc->short_name, len, why);
    return m;
}

/* ========================================================================
 * Decoding: error paths
 * ======================================================================== */

/* Where a decoder is, as a chain of stack frames ("docs", 2) -> ("chunks", 0)
 * that is only turned into text when something fails. */
typedef struct pb_path {
    const struct pb_path *up;
    const char *field;
    size_t index; /* PB_NO_INDEX for a plain field */
} pb_path;

#define PB_NO_INDEX SIZE_MAX

static void path_format(char *out, size_t cap, const pb_path *path)
{
    const pb_path *frames[PB_MAX_DEPTH + 4];
    size_t n = 0, used = 0;
    for (const pb_path *p = path; p && n < PB_MAX_DEPTH + 4; p = p->up)
        frames[n++] = p;
    out[0] = '\0';
    while (n-- > 0 && used < cap) {
        const pb_path *p = frames[n];
        int w = p->index == PB_NO_INDEX
                    ? snprintf(out + used, cap - used, "%s%s", used ? "." : "", p->field)
                    : snprintf(out + used, cap - used, "%s%s[%zu]", used ? "." : "", p->field,
                               p->index);
        if (w < 0) break;
        used += (size_t)w;
    }
}

/* Sets "<path>.<field>: <message>" and returns `code`. */
static int path_error(df_error *err, const pb_path *path, const char *field, int code,
                      const char *fmt, ...) DF_PRINTF(5, 6);

static int path_error(df_error *err, const pb_path *path, const char *field, int code,
                      const char *fmt, ...)
{
    char where[256], what[512];
    pb_path leaf = {path, field, PB_NO_INDEX};
    path_format(where, sizeof where, &leaf);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return df_error_set(err, code, "%s: %s", where, what);
}

/* ========================================================================
 * Decoding: repeated map keys
 * ======================================================================== */

#define KEY_AT(base, stride, i) (*(const char *const *)((const char *)(base) + (i) * (stride)))

static uint64_t key_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static size_t *identity_index(df_arena *a, size_t n)
{
    size_t *first = df_arena_alloc(a, n * sizeof *first);
    for (size_t i = 0; i < n; i++)
        first[i] = i;
    return first;
}

/* Protobuf map entries may repeat a key (the last one wins). For the n keys
 * found at base, base + stride, ...: NULL when all differ (the normal case),
 * else first[i] = the index of the first entry with the key of entry i. */
static size_t *repeated_keys(df_arena *a, const void *base, size_t stride, size_t n)
{
    size_t *first = NULL;
    if (n < 2) return NULL;
    if (n <= PB_SMALL_MAP) {
        for (size_t i = 1; i < n; i++)
            for (size_t j = 0; j < i; j++) {
                if (strcmp(KEY_AT(base, stride, i), KEY_AT(base, stride, j)) != 0) continue;
                if (!first) first = identity_index(a, n);
                first[i] = j;
                break;
            }
        return first;
    }
    size_t cap = 64;
    while (cap < 2 * n)
        cap *= 2;
    size_t *table = df_arena_calloc(a, cap * sizeof *table); /* entry index + 1 */
    for (size_t i = 0; i < n; i++) {
        const char *key = KEY_AT(base, stride, i);
        size_t h = (size_t)key_hash(key) & (cap - 1);
        for (; table[h]; h = (h + 1) & (cap - 1)) {
            size_t j = table[h] - 1;
            if (strcmp(KEY_AT(base, stride, j), key) != 0) continue;
            if (!first) first = identity_index(a, n);
            first[i] = j;
            break;
        }
        if (!table[h]) table[h] = i + 1;
    }
    return first;
}

/* Drops repeated keys in place: a key keeps its first position and its last
 * value (Python's dict, protobuf's maps). Returns the new count. */
static size_t map_drop_repeats(df_arena *a, const char **keys, df_value **items, size_t n)
{
    size_t *first = repeated_keys(a, keys, sizeof *keys, n);
    if (!first) return n;
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if (first[i] != i) {
            items[first[first[i]]] = items[i]; /* first[j] already holds j's new slot */
            continue;
        }
        first[i] = out;
        keys[out] = keys[i];
        items[out++] = items[i];
    }
    return out;
}

static size_t scores_drop_repeats(df_arena *a, df_named_score *items, size_t n)
{
    size_t *first = repeated_keys(a, &items[0].name, sizeof *items, n);
    if (!first) return n;
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if (first[i] != i) {
            items[first[first[i]]] = items[i];
            continue;
        }
        first[i] = out;
        items[out++] = items[i];
    }
    return out;
}

/* ========================================================================
 * Decoding: google.protobuf.Struct -> df_value
 * ======================================================================== */

static void value_from_pb(df_arena *a, df_value *v, const Google__Protobuf__Value *m);

static void container_init(df_arena *a, df_value *v, df_value_type type, size_t n)
{
    memset(v, 0, sizeof *v);
    v->type = (uint8_t)type;
    v->u.c.arena = a;
    v->u.c.n = v->u.c.cap = n;
    if (!n) return;
    v->u.c.items = df_arena_alloc(a, n * sizeof *v->u.c.items);
    if (type == DF_VALUE_MAP) v->u.c.keys = df_arena_alloc(a, n * sizeof *v->u.c.keys);
}

/* Fills `v` as a map; the values of one map are allocated in one block. */
static void map_from_struct(df_arena *a, df_value *v, const Google__Protobuf__Struct *s)
{
    size_t n = s ? s->n_fields : 0;
    container_init(a, v, DF_VALUE_MAP, n);
    if (!n) return;
    df_value *slots = df_arena_alloc(a, n * sizeof *slots);
    for (size_t i = 0; i < n; i++) {
        const Google__Protobuf__Struct__FieldsEntry *e = s->fields[i];
        v->u.c.keys[i] = e->key ? e->key : "";
        value_from_pb(a, &slots[i], e->value);
        v->u.c.items[i] = &slots[i];
    }
    v->u.c.n = map_drop_repeats(a, v->u.c.keys, v->u.c.items, n);
}

static void list_from_pb(df_arena *a, df_value *v, const Google__Protobuf__ListValue *l)
{
    size_t n = l ? l->n_values : 0;
    container_init(a, v, DF_VALUE_LIST, n);
    if (!n) return;
    df_value *slots = df_arena_alloc(a, n * sizeof *slots);
    for (size_t i = 0; i < n; i++) {
        value_from_pb(a, &slots[i], l->values[i]);
        v->u.c.items[i] = &slots[i];
    }
}

/* A Value with no kind set is invalid in protobuf's JSON mapping; it
 * becomes null rather than failing a whole request over a tag. */
static void value_from_pb(df_arena *a, df_value *v, const Google__Protobuf__Value *m)
{
    memset(v, 0, sizeof *v);
    v->type = DF_VALUE_NULL;
    if (!m) return;
    switch (m->kind_case) {
    case GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE:
        v->type = DF_VALUE_NUMBER;
        v->u.num = m->number_value;
        break;
    case GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE:
        v->type = DF_VALUE_STRING;
        v->u.str.s = m->string_value ? m->string_value : "";
        v->u.str.len = strlen(v->u.str.s);
        break;
    case GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE:
        v->type = DF_VALUE_BOOL;
        v->u.b = m->bool_value ? 1 : 0;
        break;
    case GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE:
        map_from_struct(a, v, m->struct_value);
        break;
    case GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE:
        list_from_pb(a, v, m->list_value);
        break;
    default:
        break;
    }
}

static df_value *map_new_from_struct(df_arena *a, const Google__Protobuf__Struct *s)
{
    df_value *v = df_arena_alloc(a, sizeof *v);
    map_from_struct(a, v, s);
    return v;
}

/* ========================================================================
 * Decoding: NdArrayProto -> df_ndarray
 * ======================================================================== */

/* The element size of numpy dtype strings df_dtype_size does not know
 * ("<c8", "|S10", "<U5", "<M8[ns]"), so their buffers are still checked and
 * carried through untouched. 0 when `dtype` is not of that form. */
static size_t numpy_itemsize(const char *dtype)
{
    const char *p = dtype;
    if (*p == '<' || *p == '>' || *p == '|' || *p == '=') p++;
    if (!*p || !strchr("fiubcSVUMm", *p)) return 0;
    char kind = *p++;
    size_t n = 0;
    for (; *p >= '0' && *p <= '9' && n < (1u << 20); p++)
        n = n * 10 + (size_t)(*p - '0');
    if (*p && !(*p == '[' && (kind == 'M' || kind == 'm'))) return 0;
    return kind == 'U' ? 4 * n : n;
}

/* The byte-swap unit of a big-endian dtype, 0 when nothing needs swapping. */
static size_t swap_unit(const char *dtype, size_t itemsize)
{
    if (dtype[0] != '>') return 0;
    switch (dtype[1]) {
    case 'f':
    case 'i':
    case 'u':
    case 'M':
    case 'm':
        return itemsize > 1 ? itemsize : 0;
    case 'c':
        return itemsize / 2;
    case 'U':
        return 4;
    default:
        return 0;
    }
}

/* df_ndarray promises little-endian data; a big-endian buffer (">f4" from
 * numpy on a file of that order) is swapped in place, in the arena. */
static const char *to_little_endian(df_arena *a, uint8_t *data, size_t nbytes, const char *dtype,
                                    size_t unit)
{
    for (size_t off = 0; off + unit <= nbytes; off += unit)
        for (size_t i = 0, j = unit - 1; i < j; i++, j--) {
            uint8_t t = data[off + i];
            data[off + i] = data[off + j];
            data[off + j] = t;
        }
    char *le = df_arena_strdup(a, dtype);
    le[0] = '<';
    return le;
}

static void shape_format(char *out, size_t cap, const uint32_t *shape, size_t ndim)
{
    size_t used = (size_t)snprintf(out, cap, "[");
    for (size_t i = 0; i < ndim && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%u", i ? ", " : "", shape[i]);
    if (used < cap) snprintf(out + used, cap - used, "]");
}

/* The byte size shape x itemsize asks for; SIZE_MAX on overflow. */
static size_t shape_nbytes(const uint32_t *shape, size_t ndim, size_t itemsize)
{
    size_t total = itemsize;
    for (size_t i = 0; i < ndim; i++) {
        if (shape[i] && total > SIZE_MAX / shape[i]) return SIZE_MAX;
        total *= shape[i];
    }
    return total;
}

static int ndarray_from_pb(df_arena *a, df_ndarray *out, const Docarray__NdArrayProto *m,
                           const pb_path *path, const char *field, df_error *err)
{
    memset(out, 0, sizeof *out);
    if (!m) return DF_OK;
    if (m->content_case == DOCARRAY__ND_ARRAY_PROTO__CONTENT_SPARSE)
        return path_error(err, path, field, DF_E_UNSUPPORTED,
                          "sparse arrays are not supported (send it dense)");
    if (m->content_case != DOCARRAY__ND_ARRAY_PROTO__CONTENT_DENSE || !m->dense) return DF_OK;

    const Docarray__DenseNdArrayProto *dense = m->dense;
    const char *dtype = dense->dtype ? dense->dtype : "";
    size_t itemsize = df_dtype_size(dtype);
    if (!itemsize) itemsize = numpy_itemsize(dtype);
    if (!itemsize)
        return path_error(err, path, field, DF_E_UNSUPPORTED,
                          "dtype \"%s\" is not a numpy dtype string docflow knows", dtype);
    if (dense->n_shape > UINT32_MAX)
        return path_error(err, path, field, DF_E_INVALID_INPUT, "%zu dimensions", dense->n_shape);
    size_t want = shape_nbytes(dense->shape, dense->n_shape, itemsize);
    if (want != dense->buffer.len) {
        char shape[128];
        shape_format(shape, sizeof shape, dense->shape, dense->n_shape);
        return path_error(err, path, field, DF_E_INVALID_INPUT,
                          "buffer holds %zu bytes but shape %s of dtype %s needs %s%zu",
                          dense->buffer.len, shape, dtype, want == SIZE_MAX ? "more than " : "",
                          want);
    }
    size_t unit = swap_unit(dtype, itemsize);
    if (unit) dtype = to_little_endian(a, dense->buffer.data, dense->buffer.len, dtype, unit);

    out->present = 1;
    out->data = dense->buffer.data;
    out->nbytes = dense->buffer.len;
    /* A 0-d array (a numpy scalar) has no shape on the wire; readers still
     * get a valid pointer, as memcmp and friends want one even for 0 bytes. */
    out->shape = dense->n_shape ? dense->shape : df_arena_calloc(a, sizeof *out->shape);
    out->ndim = (uint32_t)dense->n_shape;
    out->dtype = dtype;
    out->cls_name = m->cls_name ? m->cls_name : "";
    if (m->parameters) out->params = map_new_from_struct(a, m->parameters);
    return DF_OK;
}

/* ========================================================================
 * Decoding: DocumentProto -> df_doc
 * ======================================================================== */

/* proto3 cannot tell "" from unset; documents say unset with NULL. */
static const char *str_or_null(const char *s)
{
    return s && *s ? s : NULL;
}

static void score_from_pb(df_named_score *s, const char *key, const Docarray__NamedScoreProto *v)
{
    s->name = key ? key : "";
    s->value = v ? v->value : 0.0f;
    s->op_name = v && v->op_name ? v->op_name : "";
    s->description = v && v->description ? v->description : "";
    s->ref_id = v && v->ref_id ? v->ref_id : "";
}

static df_named_score *scores_alloc(df_arena *a, df_score_list *l, size_t n)
{
    l->items = df_arena_alloc(a, n * sizeof *l->items);
    l->n = l->cap = n;
    return l->items;
}

static int docs_from_pb(df_arena *a, df_doc **slots, Docarray__DocumentProto *const *msgs, size_t n,
                        const pb_path *up, const char *field, df_error *err);

static int nested_docs_from_pb(df_arena *a, df_docs **out, Docarray__DocumentProto *const *msgs,
                               size_t n, const pb_path *up, const char *field, df_error *err)
{
    df_docs *docs = df_arena_alloc(a, sizeof *docs);
    docs->arena = a;
    docs->items = df_arena_alloc(a, n * sizeof *docs->items);
    docs->n = docs->cap = n;
    *out = docs;
    return docs_from_pb(a, docs->items, msgs, n, up, field, err);
}

/* Empty text and blob mean unset, as in DocArray (and as the encoder does
 * not send them), even when the oneof was set to "" on the wire. A text
 * holding a NUL ends there: protobuf-c strings are C strings. */
static int doc_content_from_pb(df_arena *a, df_doc *d, const Docarray__DocumentProto *m,
                               const pb_path *path, df_error *err)
{
    switch (m->content_case) {
    case DOCARRAY__DOCUMENT_PROTO__CONTENT_TEXT:
        if (!m->text || !*m->text) return DF_OK;
        d->content = DF_CONTENT_TEXT;
        d->text = m->text;
        d->text_len = strlen(m->text);
        return DF_OK;
    case DOCARRAY__DOCUMENT_PROTO__CONTENT_BLOB:
        if (!m->blob.len) return DF_OK;
        d->content = DF_CONTENT_BLOB;
        d->blob = m->blob.data;
        d->blob_len = m->blob.len;
        return DF_OK;
    case DOCARRAY__DOCUMENT_PROTO__CONTENT_TENSOR: {
        int rc = ndarray_from_pb(a, &d->tensor, m->tensor, path, "tensor", err);
        if (!rc && d->tensor.present) d->content = DF_CONTENT_TENSOR;
        return rc;
    }
    default:
        return DF_OK;
    }
}

/* Fills a zeroed `d` from `m`; strings and buffers are adopted, not copied. */
static int doc_from_pb(df_arena *a, df_doc *d, const Docarray__DocumentProto *m,
                       const pb_path *path, df_error *err)
{
    d->arena = a;
    d->id = str_or_null(m->id);
    d->parent_id = str_or_null(m->parent_id);
    d->uri = str_or_null(m->uri);
    d->modality = str_or_null(m->modality);
    d->mime_type = str_or_null(m->mime_type);
    d->granularity = m->granularity;
    d->adjacency = m->adjacency;
    d->weight = m->weight;
    d->offset = m->offset;
    if (m->n_location) {
        d->location = m->location;
        d->n_location = m->n_location;
    }
    int rc = doc_content_from_pb(a, d, m, path, err);
    if (rc) return rc;
    rc = ndarray_from_pb(a, &d->embedding, m->embedding, path, "embedding", err);
    if (rc) return rc;
    if (m->tags) d->tags = map_new_from_struct(a, m->tags);
    if (m->_metadata) d->metadata = map_new_from_struct(a, m->_metadata);
    if (m->n_scores) {
        df_named_score *s = scores_alloc(a, &d->scores, m->n_scores);
        for (size_t i = 0; i < m->n_scores; i++)
            score_from_pb(&s[i], m->scores[i]->key, m->scores[i]->value);
        d->scores.n = scores_drop_repeats(a, s, m->n_scores);
    }
    if (m->n_evaluations) {
        df_named_score *s = scores_alloc(a, &d->evaluations, m->n_evaluations);
        for (size_t i = 0; i < m->n_evaluations; i++)
            score_from_pb(&s[i], m->evaluations[i]->key, m->evaluations[i]->value);
        d->evaluations.n = scores_drop_repeats(a, s, m->n_evaluations);
    }
    if (m->n_chunks) {
        rc = nested_docs_from_pb(a, &d->chunks, m->chunks, m->n_chunks, path, "chunks", err);
        if (rc) return rc;
    }
    if (m->n_matches)
        rc = nested_docs_from_pb(a, &d->matches, m->matches, m->n_matches, path, "matches", err);
    return rc;
}

/* Converts n messages into n documents allocated as one block, storing
 * their addresses in slots[0..n). */
static int docs_from_pb(df_arena *a, df_doc **slots, Docarray__DocumentProto *const *msgs, size_t n,
                        const pb_path *up, const char *field, df_error *err)
{
    if (!n) return DF_OK;
    df_doc *block = df_arena_calloc(a, n * sizeof *block);
    for (size_t i = 0; i < n; i++) {
        pb_path here = {up, field, i};
        int rc = doc_from_pb(a, &block[i], msgs[i], &here, err);
        if (rc) return rc;
        slots[i] = &block[i];
    }
    return DF_OK;
}

/* ========================================================================
 * Decoding: entry points
 * ======================================================================== */

/* Makes room for one more document after `pending` ones already stored past
 * out->n (df_docs_reserve would only keep the first out->n). */
static void docs_grow_pending(df_docs *out, size_t pending)
{
    size_t need = out->n + pending + 1;
    if (need <= out->cap) return;
    size_t cap = out->cap ? out->cap * 2 : 16;
    if (cap < need) cap = need;
    out->items = df_arena_realloc(out->arena, out->items, (need - 1) * sizeof *out->items,
                                  cap * sizeof *out->items);
    out->cap = cap;
}

/* DocumentArrayProto is only `repeated DocumentProto docs = 1`: its frame is
 * walked here and each document unpacked and converted on its own, while
 * its bytes are still in cache, instead of unpacking the whole batch first
 * and walking it again. Other fields are skipped as protobuf-c would. */
int df_pb_decode_docs(df_docs *out, const uint8_t *bytes, size_t len, df_error *err)
{
    static const char type[] = "DocumentArrayProto";
    if (!bytes && len) return unpack_error(err, type, len, WIRE_MALFORMED);
    df_arena *a = out->arena;
    const uint8_t *p = bytes, *end = bytes + len;
    size_t count = 0;
    int why = WIRE_OK;
    while (p < end && !why) {
        uint64_t key, n;
        if (wire_varint(&p, end, &key) || key >> 3 == 0) {
            why = WIRE_MALFORMED;
        } else if (key >> 3 != 1) {
            why = wire_skip(&p, end, key & 7) ? WIRE_MALFORMED : WIRE_OK;
        } else if ((key & 7) != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED || wire_varint(&p, end, &n) ||
                   n > (uint64_t)(end - p)) {
            why = WIRE_MALFORMED;
        } else {
            Docarray__DocumentProto *m =
                unpack_checked(a, &docarray__document_proto__descriptor, p, n, 1, &why);
            if (!m) break;
            docs_grow_pending(out, count);
            df_doc *d = df_arena_calloc(a, sizeof *d);
            pb_path here = {NULL, "docs", count};
            int rc = doc_from_pb(a, d, m, &here, err);
            if (rc) return rc;
            /* Past out->n: the documents become visible only at the end. */
            out->items[out->n + count++] = d;
            p += n;
        }
    }
    if (why) return unpack_error(err, type, len, why);
    out->n += count;
    return DF_OK;
}

df_doc *df_pb_decode_doc(df_arena *a, const uint8_t *bytes, size_t len, df_error *err)
{
    Docarray__DocumentProto *m =
        unpack_into_arena(a, &docarray__document_proto__descriptor, bytes, len, err);
    if (!m) return NULL;
    df_doc *d = df_arena_calloc(a, sizeof *d);
    return doc_from_pb(a, d, m, NULL, err) ? NULL : d;
}

df_value *df_pb_decode_struct(df_arena *a, const uint8_t *bytes, size_t len, df_error *err)
{
    Google__Protobuf__Struct *m =
        unpack_into_arena(a, &google__protobuf__struct__descriptor, bytes, len, err);
    return m ? map_new_from_struct(a, m) : NULL;
}

/* ========================================================================
 * Encoding: df_value -> google.protobuf.Struct
 * ======================================================================== */

static const Google__Protobuf__Struct struct_init = GOOGLE__PROTOBUF__STRUCT__INIT;
static const Google__Protobuf__Struct__FieldsEntry entry_init =
    GOOGLE__PROTOBUF__STRUCT__FIELDS_ENTRY__INIT;
static const Google__Protobuf__Value value_init = GOOGLE__PROTOBUF__VALUE__INIT;
static const Google__Protobuf__ListValue list_init = GOOGLE__PROTOBUF__LIST_VALUE__INIT;

static Google__Protobuf__Struct *struct_to_pb(df_arena *scratch, const df_value *map);
static Google__Protobuf__ListValue *list_to_pb(df_arena *scratch, const df_value *list);

static void value_to_pb(df_arena *scratch, Google__Protobuf__Value *m, const df_value *v)
{
    *m = value_init;
    switch (df_value_type_of(v)) {
    case DF_VALUE_BOOL:
        m->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE;
        m->bool_value = v->u.b ? 1 : 0;
        break;
    case DF_VALUE_NUMBER:
        m->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE;
        m->number_value = v->u.num;
        break;
    case DF_VALUE_STRING:
        m->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE;
        m->string_value = (char *)(v->u.str.s ? v->u.str.s : "");
        break;
    case DF_VALUE_LIST:
        m->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE;
        m->list_value = list_to_pb(scratch, v);
        break;
    case DF_VALUE_MAP:
        m->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE;
        m->struct_value = struct_to_pb(scratch, v);
        break;
    default:
        m->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NULL_VALUE;
        m->null_value = GOOGLE__PROTOBUF__NULL_VALUE__NULL_VALUE;
        break;
    }
}

/* A non-map value gives an empty Struct. */
static Google__Protobuf__Struct *struct_to_pb(df_arena *scratch, const df_value *map)
{
    Google__Protobuf__Struct *s = df_arena_alloc(scratch, sizeof *s);
    *s = struct_init;
    size_t n = df_value_type_of(map) == DF_VALUE_MAP ? map->u.c.n : 0;
    if (!n) return s;
    Google__Protobuf__Struct__FieldsEntry *entries = df_arena_alloc(scratch, n * sizeof *entries);
    Google__Protobuf__Value *values = df_arena_alloc(scratch, n * sizeof *values);
    s->fields = df_arena_alloc(scratch, n * sizeof *s->fields);
    s->n_fields = n;
    for (size_t i = 0; i < n; i++) {
        entries[i] = entry_init;
        entries[i].key = (char *)map->u.c.keys[i];
        entries[i].value = &values[i];
        value_to_pb(scratch, &values[i], map->u.c.items[i]);
        s->fields[i] = &entries[i];
    }
    return s;
}

static Google__Protobuf__ListValue *list_to_pb(df_arena *scratch, const df_value *list)
{
    Google__Protobuf__ListValue *l = df_arena_alloc(scratch, sizeof *l);
    *l = list_init;
    size_t n = list->u.c.n;
    if (!n) return l;
    Google__Protobuf__Value *values = df_arena_alloc(scratch, n * sizeof *values);
    l->values = df_arena_alloc(scratch, n * sizeof *l->values);
    l->n_values = n;
    for (size_t i = 0; i < n; i++) {
        value_to_pb(scratch, &values[i], list->u.c.items[i]);
        l->values[i] = &values[i];
    }
    return l;
}

/* ========================================================================
 * Encoding: df_doc -> DocumentProto
 * ======================================================================== */

/* protobuf-c's INIT macro zeroes the content union with {0}, whose first
 * member is a struct: correct C that -Wmissing-braces still flags. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-braces"
static const Docarray__DocumentProto doc_init = DOCARRAY__DOCUMENT_PROTO__INIT;
#pragma GCC diagnostic pop
static const Docarray__NdArrayProto ndarray_init = DOCARRAY__ND_ARRAY_PROTO__INIT;
static const Docarray__DenseNdArrayProto dense_init = DOCARRAY__DENSE_ND_ARRAY_PROTO__INIT;
static const Docarray__NamedScoreProto score_init = DOCARRAY__NAMED_SCORE_PROTO__INIT;
static const Docarray__DocumentProto__ScoresEntry scores_entry_init =
    DOCARRAY__DOCUMENT_PROTO__SCORES_ENTRY__INIT;
static const Docarray__DocumentProto__EvaluationsEntry evaluations_entry_init =
    DOCARRAY__DOCUMENT_PROTO__EVALUATIONS_ENTRY__INIT;

/* protobuf-c wants char * where documents hold const char *; packing only
 * reads. NULL (unset) becomes protobuf-c's "", which it does not send. */
static char *pb_str(const char *s)
{
    return s ? (char *)s : (char *)protobuf_c_empty_string;
}

static Docarray__NdArrayProto *ndarray_to_pb(df_arena *scratch, const df_ndarray *nd)
{
    struct {
        Docarray__NdArrayProto nd;
        Docarray__DenseNdArrayProto dense;
    } *pair = df_arena_alloc(scratch, sizeof *pair);
    pair->nd = ndarray_init;
    pair->dense = dense_init;
    pair->dense.buffer.data = nd->data;
    pair->dense.buffer.len = nd->nbytes;
    pair->dense.shape = nd->shape;
    pair->dense.n_shape = nd->ndim;
    pair->dense.dtype = pb_str(nd->dtype);
    pair->nd.content_case = DOCARRAY__ND_ARRAY_PROTO__CONTENT_DENSE;
    pair->nd.dense = &pair->dense;
    pair->nd.cls_name = pb_str(nd->cls_name);
    if (df_value_type_of(nd->params) == DF_VALUE_MAP)
        pair->nd.parameters = struct_to_pb(scratch, nd->params);
    return &pair->nd;
}

static Docarray__NamedScoreProto *scores_values_to_pb(df_arena *scratch, const df_score_list *l)
{
    Docarray__NamedScoreProto *values = df_arena_alloc(scratch, l->n * sizeof *values);
    for (size_t i = 0; i < l->n; i++) {
        const df_named_score *s = &l->items[i];
        values[i] = score_init;
        values[i].value = s->value;
        values[i].op_name = pb_str(s->op_name);
        values[i].description = pb_str(s->description);
        values[i].ref_id = pb_str(s->ref_id);
    }
    return values;
}

static void scores_to_pb(df_arena *scratch, Docarray__DocumentProto *m, const df_doc *d)
{
    const df_score_list *l = &d->scores;
    if (l->n) {
        Docarray__NamedScoreProto *values = scores_values_to_pb(scratch, l);
        Docarray__DocumentProto__ScoresEntry *e = df_arena_alloc(scratch, l->n * sizeof *e);
        m->scores = df_arena_alloc(scratch, l->n * sizeof *m->scores);
        m->n_scores = l->n;
        for (size_t i = 0; i < l->n; i++) {
            e[i] = scores_entry_init;
            e[i].key = pb_str(l->items[i].name);
            e[i].value = &values[i];
            m->scores[i] = &e[i];
        }
    }
    l = &d->evaluations;
    if (l->n) {
        Docarray__NamedScoreProto *values = scores_values_to_pb(scratch, l);
        Docarray__DocumentProto__EvaluationsEntry *e = df_arena_alloc(scratch, l->n * sizeof *e);
        m->evaluations = df_arena_alloc(scratch, l->n * sizeof *m->evaluations);
        m->n_evaluations = l->n;
        for (size_t i = 0; i < l->n; i++) {
            e[i] = evaluations_entry_init;
            e[i].key = pb_str(l->items[i].name);
            e[i].value = &values[i];
            m->evaluations[i] = &e[i];
        }
    }
}

static Docarray__DocumentProto **docs_to_pb(df_arena *scratch, const df_docs *docs, size_t *n_out);

/* Empty text and blob are not sent, as DocArray does not send them. A text
 * is sent up to its first NUL: protobuf-c takes strings as C strings. */
static void doc_content_to_pb(df_arena *scratch, Docarray__DocumentProto *m, const df_doc *d)
{
    switch (d->content) {
    case DF_CONTENT_TEXT:
        if (!d->text_len) break;
        m->content_case = DOCARRAY__DOCUMENT_PROTO__CONTENT_TEXT;
        m->text = (char *)d->text;
        break;
    case DF_CONTENT_BLOB:
        if (!d->blob_len) break;
        m->content_case = DOCARRAY__DOCUMENT_PROTO__CONTENT_BLOB;
        m->blob.data = (uint8_t *)d->blob;
        m->blob.len = d->blob_len;
        break;
    case DF_CONTENT_TENSOR:
        if (!d->tensor.present) break;
        m->content_case = DOCARRAY__DOCUMENT_PROTO__CONTENT_TENSOR;
        m->tensor = ndarray_to_pb(scratch, &d->tensor);
        break;
    default:
        break;
    }
}

static void doc_to_pb(df_arena *scratch, Docarray__DocumentProto *m, const df_doc *d)
{
    *m = doc_init;
    m->id = pb_str(d->id);
    m->parent_id = pb_str(d->parent_id);
    m->uri = pb_str(d->uri);
    m->modality = pb_str(d->modality);
    m->mime_type = pb_str(d->mime_type);
    m->granularity = d->granularity;
    m->adjacency = d->adjacency;
    m->weight = d->weight;
    m->offset = d->offset;
    m->n_location = d->n_location;
    m->location = d->location;
    doc_content_to_pb(scratch, m, d);
    if (d->embedding.present) m->embedding = ndarray_to_pb(scratch, &d->embedding);
    if (df_value_len(d->tags)) m->tags = struct_to_pb(scratch, d->tags);
    if (df_value_len(d->metadata)) m->_metadata = struct_to_pb(scratch, d->metadata);
    scores_to_pb(scratch, m, d);
    m->chunks = docs_to_pb(scratch, d->chunks, &m->n_chunks);
    m->matches = docs_to_pb(scratch, d->matches, &m->n_matches);
}

static Docarray__DocumentProto **docs_to_pb(df_arena *scratch, const df_docs *docs, size_t *n_out)
{
    size_t n = docs ? docs->n : 0;
    *n_out = n;
    if (!n) return NULL;
    Docarray__DocumentProto *block = df_arena_alloc(scratch, n * sizeof *block);
    Docarray__DocumentProto **ptrs = df_arena_alloc(scratch, n * sizeof *ptrs);
    for (size_t i = 0; i < n; i++) {
        doc_to_pb(scratch, &block[i], docs->items[i]);
        ptrs[i] = &block[i];
    }
    return ptrs;
}

/* ========================================================================
 * Encoding: entry points
 * ======================================================================== */

/* Sizes the message, then packs it straight into the buffer's free space. */
static void pack_into(df_buf *b, const ProtobufCMessage *m)
{
    size_t size = protobuf_c_message_get_packed_size(m);
    df_buf_reserve(b, size);
    size_t n = protobuf_c_message_pack(m, (uint8_t *)b->data + b->len);
    b->len += n;
    b->data[b->len] = '\0';
}

static void put_varint(df_buf *b, uint64_t v)
{
    uint8_t out[10];
    size_t n = 0;
    do {
        out[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    df_buf_append(b, out, n);
}

/* DocumentArrayProto is `repeated DocumentProto docs = 1`, so its bytes are
 * each document framed as field 1 (tag 0x0a, then the length): exactly what
 * protobuf-c would write for the whole array. Packing one document at a time
 * keeps the shallow structs in one small, reused (cache-hot) scratch block
 * instead of building a tree the size of the batch. */
void df_pb_encode_docs(df_buf *b, const df_docs *docs)
{
    size_t n = docs ? docs->n : 0;
    df_buf_reserve(b, 0);
    if (!n) return;
    df_arena *scratch = df_arena_new(0);
    for (size_t i = 0; i < n; i++) {
        Docarray__DocumentProto m;
        doc_to_pb(scratch, &m, docs->items[i]);
        size_t size = docarray__document_proto__get_packed_size(&m);
        df_buf_reserve(b, 1 + 10 + size);
        df_buf_append_char(b, 0x0a);
        put_varint(b, size);
        b->len += docarray__document_proto__pack(&m, (uint8_t *)b->data + b->len);
        b->data[b->len] = '\0';
        df_arena_reset(scratch);
    }
    df_arena_free(scratch);
}

void df_pb_encode_doc(df_buf *b, const df_doc *d)
{
    df_arena *scratch = df_arena_new(0);
    Docarray__DocumentProto m;
    doc_to_pb(scratch, &m, d);
    pack_into(b, &m.base);
    df_arena_free(scratch);
}

void df_pb_encode_struct(df_buf *b, const df_value *map)
{
    df_arena *scratch = df_arena_new(0);
    pack_into(b, &struct_to_pb(scratch, map)->base);
    df_arena_free(scratch);
}
