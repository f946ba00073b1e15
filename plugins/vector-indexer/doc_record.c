/*
 * doc_record.c -- a document's stored fields as bytes, and back.
 *
 * A plugin cannot use docflow's protobuf or JSON codecs (it links nothing
 * of docflow), so the indexer keeps its own small format: a sequence of
 * fields { u8 field; u32 length; bytes }, little-endian. Unknown fields are
 * skipped when reading, so a newer writer's records still load. The fields
 * and the value encoding of tags are listed in README.md ("Storage format").
 *
 * Stored: text, blob, tensor, uri, mime_type, parent_id, modality, tags,
 * weight, granularity, offset, location. Not stored: id and embedding (the
 * record and the matrix hold them), chunks, matches, scores, evaluations
 * and _metadata (search results, not content).
 */
#include <string.h>

#include "vector_index.h"

enum {
    FIELD_TEXT = 1,
    FIELD_BLOB = 2,
    FIELD_TENSOR = 3, /* u8 dtype length, dtype, u32 ndim, u32 shape[ndim], data */
    FIELD_URI = 4,
    FIELD_MIME_TYPE = 5,
    FIELD_PARENT_ID = 6,
    FIELD_MODALITY = 7,
    FIELD_TAGS = 8, /* a value (a map) */
    FIELD_WEIGHT = 9,
    FIELD_GRANULARITY = 10,
    FIELD_OFFSET = 11,
    FIELD_LOCATION = 12, /* float32[] */
};

/* Value types of the tags encoding. */
enum { VAL_NULL = 0, VAL_BOOL = 1, VAL_NUMBER = 2, VAL_STRING = 3, VAL_LIST = 4, VAL_MAP = 5 };

/* Values nest at most this deep; deeper tags are cut (stored as null). */
#define MAX_DEPTH 64

/* ---- encoding ------------------------------------------------------------ */

static void put_field(vx_buf *b, uint8_t field, const void *p, size_t len)
{
    vx_buf_put_u8(b, field);
    vx_buf_put_u32(b, (uint32_t)len);
    vx_buf_put(b, p, len);
}

static void put_string(vx_buf *b, const char *s, size_t len)
{
    vx_buf_put_u32(b, (uint32_t)len);
    vx_buf_put(b, s, len);
}

static void put_value(const df_host *h, vx_buf *b, const df_value *v, int depth)
{
    df_value_type t = h->value_type(v);
    if (depth >= MAX_DEPTH) t = DF_VALUE_NULL;
    switch (t) {
    case DF_VALUE_BOOL:
        vx_buf_put_u8(b, VAL_BOOL);
        vx_buf_put_u8(b, (uint8_t)(h->value_bool(v) != 0));
        return;
    case DF_VALUE_NUMBER:
        vx_buf_put_u8(b, VAL_NUMBER);
        vx_buf_put_f64(b, h->value_number(v));
        return;
    case DF_VALUE_STRING: {
        size_t len;
        const char *s = h->value_string(v, &len);
        vx_buf_put_u8(b, VAL_STRING);
        put_string(b, s, len);
        return;
    }
    case DF_VALUE_LIST:
    case DF_VALUE_MAP: {
        size_t n = h->value_len(v);
        vx_buf_put_u8(b, t == DF_VALUE_LIST ? VAL_LIST : VAL_MAP);
        vx_buf_put_u32(b, (uint32_t)n);
        for (size_t i = 0; i < n; i++) {
            if (t == DF_VALUE_MAP) {
                const char *key = h->value_key_at(v, i);
                put_string(b, key, strlen(key));
            }
            put_value(h, b, h->value_at(v, i), depth + 1);
        }
        return;
    }
    case DF_VALUE_NULL:
    default: /* a type from a newer host */
        vx_buf_put_u8(b, VAL_NULL);
        return;
    }
}

static void put_str_field(const df_host *h, vx_buf *b, uint8_t field, const df_doc *d,
                          df_doc_str_field f)
{
    const char *s = h->doc_str(d, f);
    if (*s) put_field(b, field, s, strlen(s));
}

static void put_num_field(const df_host *h, vx_buf *b, uint8_t field, const df_doc *d,
                          df_doc_num_field f)
{
    double x = h->doc_num(d, f);
    if (x != 0) put_field(b, field, &x, sizeof x);
}

static void put_tensor(const df_host *h, vx_buf *b, const df_doc *d)
{
    df_ndarray_view t;
    if (!h->doc_tensor(d, &t)) return;
    size_t dtype_len = strlen(t.dtype);
    if (dtype_len > 255) return; /* not a numpy dtype string */
    vx_buf_put_u8(b, FIELD_TENSOR);
    vx_buf_put_u32(b, (uint32_t)(1 + dtype_len + 4 + 4 * t.ndim + t.nbytes));
    vx_buf_put_u8(b, (uint8_t)dtype_len);
    vx_buf_put(b, t.dtype, dtype_len);
    vx_buf_put_u32(b, t.ndim);
    vx_buf_put(b, t.shape, 4 * (size_t)t.ndim);
    vx_buf_put(b, t.data, t.nbytes);
}

void vx_doc_encode(const df_host *h, const df_doc *d, vx_buf *out)
{
    size_t len;
    const char *text = h->doc_text(d, &len);
    if (text) put_field(out, FIELD_TEXT, text, len);
    const void *blob = h->doc_blob(d, &len);
    if (blob) put_field(out, FIELD_BLOB, blob, len);
    put_tensor(h, out, d);
    put_str_field(h, out, FIELD_URI, d, DF_FIELD_URI);
    put_str_field(h, out, FIELD_MIME_TYPE, d, DF_FIELD_MIME_TYPE);
    put_str_field(h, out, FIELD_PARENT_ID, d, DF_FIELD_PARENT_ID);
    put_str_field(h, out, FIELD_MODALITY, d, DF_FIELD_MODALITY);
    /* doc_tags creates the map on a mutable document; a const one only
     * reads it, so the cast does not change the caller's document. */
    const df_value *tags = h->doc_tags((df_doc *)d);
    if (h->value_len(tags)) {
        vx_buf_put_u8(out, FIELD_TAGS);
        size_t at = out->len;
        vx_buf_put_u32(out, 0); /* length, patched below */
        put_value(h, out, tags, 0);
        if (!out->oom) {
            uint32_t n = (uint32_t)(out->len - at - 4);
            memcpy(out->data + at, &n, 4);
        }
    }
    put_num_field(h, out, FIELD_WEIGHT, d, DF_FIELD_WEIGHT);
    put_num_field(h, out, FIELD_GRANULARITY, d, DF_FIELD_GRANULARITY);
    put_num_field(h, out, FIELD_OFFSET, d, DF_FIELD_OFFSET);
    size_t n_loc;
    const float *loc = h->doc_location(d, &n_loc);
    if (loc && n_loc) put_field(out, FIELD_LOCATION, loc, n_loc * sizeof *loc);
}

/* ---- decoding ------------------------------------------------------------ */

/* A NUL-terminated copy in request memory (values and keys need one). */
static const char *read_cstring(df_req *req, const df_host *h, vx_reader *r)
{
    uint32_t len = vx_read_u32(r);
    const char *p = vx_read_bytes(r, len);
    if (!p) return NULL;
    char *s = h->req_alloc(req, (size_t)len + 1);
    memcpy(s, p, len);
    s[len] = '\0';
    return s;
}

/* Reads one value and stores it as container[key] (a map) or appends it
 * (key == NULL, a list). 0, or -1 for malformed bytes. */
static int get_value(const df_host *h, df_req *req, vx_reader *r, df_value *container,
                     const char *key, int depth)
{
    uint8_t type = vx_read_u8(r);
    if (r->bad || depth > MAX_DEPTH) return -1;
    switch (type) {
    case VAL_NULL:
        return h->value_put_null(container, key) ? -1 : 0;
    case VAL_BOOL:
        return h->value_put_bool(container, key, vx_read_u8(r)) || r->bad ? -1 : 0;
    case VAL_NUMBER:
        return h->value_put_number(container, key, vx_read_f64(r)) || r->bad ? -1 : 0;
    case VAL_STRING: {
        const char *s = read_cstring(req, h, r);
        return !s || h->value_put_string(container, key, s) ? -1 : 0;
    }
    case VAL_LIST:
    case VAL_MAP: {
        df_value *child = type == VAL_LIST ? h->value_new_list(req) : h->value_new_map(req);
        uint32_t n = vx_read_u32(r);
        for (uint32_t i = 0; i < n && !r->bad; i++) {
            const char *k = type == VAL_MAP ? read_cstring(req, h, r) : NULL;
            if (type == VAL_MAP && !k) return -1;
            if (get_value(h, req, r, child, k, depth + 1)) return -1;
        }
        if (r->bad) return -1;
        return (key ? h->value_set(container, key, child) : h->value_append(container, child)) ? -1
                                                                                               : 0;
    }
    default:
        return -1;
    }
}

/* The tags field: a map whose entries go straight into the doc's tags. */
static int get_tags(const df_host *h, df_req *req, df_doc *d, vx_reader *r)
{
    if (vx_read_u8(r) != VAL_MAP) return -1;
    df_value *tags = h->doc_tags(d);
    uint32_t n = vx_read_u32(r);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        const char *key = read_cstring(req, h, r);
        if (!key || get_value(h, req, r, tags, key, 1)) return -1;
    }
    return r->bad ? -1 : 0;
}

static int get_tensor(const df_host *h, df_doc *d, vx_reader *r)
{
    uint8_t dtype_len = vx_read_u8(r);
    const char *dtype_bytes = vx_read_bytes(r, dtype_len);
    uint32_t ndim = vx_read_u32(r);
    if (r->bad || ndim > 64) return -1;
    char dtype[256];
    memcpy(dtype, dtype_bytes, dtype_len);
    dtype[dtype_len] = '\0';
    uint32_t shape[64];
    const void *shape_bytes = vx_read_bytes(r, 4 * (size_t)ndim);
    if (!shape_bytes) return -1;
    memcpy(shape, shape_bytes, 4 * (size_t)ndim);
    size_t nbytes = (size_t)(r->end - r->p);
    const void *data = vx_read_bytes(r, nbytes);
    return h->doc_set_tensor(d, data, nbytes, shape, ndim, dtype) ? -1 : 0;
}

static char *field_string(df_req *req, const df_host *h, const void *p, size_t len)
{
    char *s = h->req_alloc(req, len + 1);
    memcpy(s, p, len);
    s[len] = '\0';
    return s;
}

static int get_field(const df_host *h, df_req *req, df_doc *d, uint8_t field, const void *p,
                     size_t len)
{
    vx_reader r = {p, (const unsigned char *)p + len, 0};
    double x;
    switch (field) {
    case FIELD_TEXT:
        h->doc_set_text(d, p, len);
        return 0;
    case FIELD_BLOB:
        h->doc_set_blob(d, p, len);
        return 0;
    case FIELD_TENSOR:
        return get_tensor(h, d, &r);
    case FIELD_URI:
        h->doc_set_str(d, DF_FIELD_URI, field_string(req, h, p, len));
        return 0;
    case FIELD_MIME_TYPE:
        h->doc_set_str(d, DF_FIELD_MIME_TYPE, field_string(req, h, p, len));
        return 0;
    case FIELD_PARENT_ID:
        h->doc_set_str(d, DF_FIELD_PARENT_ID, field_string(req, h, p, len));
        return 0;
    case FIELD_MODALITY:
        h->doc_set_str(d, DF_FIELD_MODALITY, field_string(req, h, p, len));
        return 0;
    case FIELD_TAGS:
        return get_tags(h, req, d, &r);
    case FIELD_WEIGHT:
    case FIELD_GRANULARITY:
    case FIELD_OFFSET:
        if (len != sizeof x) return -1;
        memcpy(&x, p, sizeof x);
        h->doc_set_num(d,
                       field == FIELD_WEIGHT        ? DF_FIELD_WEIGHT
                       : field == FIELD_GRANULARITY ? DF_FIELD_GRANULARITY
                                                    : DF_FIELD_OFFSET,
                       x);
        return 0;
    case FIELD_LOCATION: {
        size_t n = len / sizeof(float);
        float *loc = h->req_alloc(req, n * sizeof *loc + 1);
        memcpy(loc, p, n * sizeof *loc);
        h->doc_set_location(d, loc, n);
        return 0;
    }
    default:
        return 0; /* a field of a newer format: skipped */
    }
}

int vx_doc_decode(const df_host *h, df_req *req, df_doc *d, const unsigned char *body, size_t len)
{
    vx_reader r = {body, body + len, 0};
    while (r.p < r.end) {
        uint8_t field = vx_read_u8(&r);
        uint32_t n = vx_read_u32(&r);
        const void *p = vx_read_bytes(&r, n);
        if (!p) return -1;
        if (get_field(h, req, d, field, p, n)) return -1;
    }
    return 0;
}
