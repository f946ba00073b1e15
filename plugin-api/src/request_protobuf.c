/*
 * request_protobuf.c -- jina.DataRequestProto bytes for requests and
 * responses (the format is described in docflow/request_codec.h), for
 * clients that send `Content-Type: application/x-protobuf`.
 *
 * The outer message is walked by hand rather than unpacked by protobuf-c:
 * its documents then go to df_pb_decode_docs, which decodes them one by one
 * while their bytes are in cache, and its small parts (header, routes) are
 * unpacked by protobuf-c on their own. Encoding writes the documents
 * straight into the output buffer after room for their length prefix, and
 * moves them back once over what the prefix did not use: a DocumentArrayProto's
 * size is only known once it is written.
 *
 * Not here: JSON (request_json.c), HTTP.
 */
#include "docflow/request_codec.h"

#include <protobuf-c/protobuf-c.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "docflow/protobuf_codec.h"
#include "docflow/value.h"
#include "document_internal.h"
#include "jina.pb-c.h"
#include "request_codec_internal.h"

/* DataRequestProto's field numbers, and DataContentProto's. */
enum { F_HEADER = 1, F_PARAMETERS = 2, F_ROUTES = 3, F_DATA = 4 };
enum { F_DOCS = 1, F_DOCS_BYTES = 2 };

#define WIRE_LEN 2 /* length-prefixed: messages, strings, bytes */

/* ========================================================================
 * The wire format: varints and fields
 * ======================================================================== */

static int take_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
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

typedef struct pb_field {
    uint32_t number;
    unsigned wire;
    const uint8_t *data; /* a length-prefixed field's bytes */
    size_t len;
} pb_field;

/* The next field at *p: 1 when one was read, 0 at the end, -1 when the
 * bytes are malformed (groups included: protobuf-c refuses them too). */
static int next_field(const uint8_t **p, const uint8_t *end, pb_field *f)
{
    uint64_t key, n;
    if (*p >= end) return 0;
    if (take_varint(p, end, &key) || key >> 3 == 0 || key >> 3 > 0x1fffffff) return -1;
    f->number = (uint32_t)(key >> 3);
    f->wire = (unsigned)(key & 7);
    f->data = NULL;
    f->len = 0;
    switch (f->wire) {
    case 0:
        return take_varint(p, end, &n) ? -1 : 1;
    case 1:
    case 5: {
        size_t size = f->wire == 1 ? 8 : 4;
        if ((size_t)(end - *p) < size) return -1;
        *p += size;
        return 1;
    }
    case WIRE_LEN:
        if (take_varint(p, end, &n) || n > (uint64_t)(end - *p)) return -1;
        f->data = *p;
        f->len = (size_t)n;
        *p += n;
        return 1;
    default:
        return -1;
    }
}

static void *arena_pb_alloc(void *arena, size_t size)
{
    return df_arena_alloc(arena, size ? size : 1);
}

static void arena_pb_free(void *arena, void *p)
{
    (void)arena, (void)p; /* arena memory dies with the arena */
}

/* protobuf-c unpacks into arena `a`; the header, route and status messages
 * nest a fixed few levels, so no depth check is needed here (Structs and
 * documents go through protobuf_codec.c, which has one). */
static void *unpack(df_arena *a, const ProtobufCMessageDescriptor *desc, const pb_field *f)
{
    ProtobufCAllocator alloc = {arena_pb_alloc, arena_pb_free, a};
    return protobuf_c_message_unpack(desc, &alloc, f->len, f->data);
}

/* ========================================================================
 * Decoding: the envelope
 * ======================================================================== */

/* What a DataRequestProto held. Fields given more than once merge as
 * protobuf merges them: the last non-empty scalar wins, Struct keys and
 * repeated fields add up, and of data's oneof the last member given wins. */
typedef struct envelope {
    df_arena *a;
    int want_routes; /* responses read routes; requests skip them */
    const char *request_id, *endpoint, *target_executor;
    uint32_t timeout_ms;
    const Jina__StatusProto *status;
    df_value *parameters;
    const Jina__RouteProto **routes;
    size_t n_routes, cap_routes;
    df_docs *docs;
    uint32_t data_member; /* F_DOCS or F_DOCS_BYTES once data gave one */
} envelope;

static int malformed(df_error *err, const char *what, size_t len)
{
    return df_error_set(err, DF_E_INVALID_INPUT, "truncated or malformed %s (%zu bytes)", what,
                        len);
}

static const char *nonempty(const char *s)
{
    return s && s[0] ? s : NULL;
}

static int take_header(envelope *e, const pb_field *f, df_error *err)
{
    const Jina__HeaderProto *h = unpack(e->a, &jina__header_proto__descriptor, f);
    if (!h) return malformed(err, "header (HeaderProto)", f->len);
    if (nonempty(h->request_id)) e->request_id = h->request_id;
    if (nonempty(h->exec_endpoint)) e->endpoint = h->exec_endpoint;
    if (nonempty(h->target_executor)) e->target_executor = h->target_executor;
    if (h->timeout) e->timeout_ms = h->timeout;
    if (h->status) e->status = h->status;
    return DF_OK;
}

static int take_parameters(envelope *e, const pb_field *f, df_error *err)
{
    df_value *p = df_pb_decode_struct(e->a, f->data, f->len, err);
    if (!p) {
        df_error_prefix(err, "parameters");
        return DF_E_INVALID_INPUT;
    }
    if (e->parameters)
        df_value_merge(e->parameters, p);
    else
        e->parameters = p;
    return DF_OK;
}

static int take_route(envelope *e, const pb_field *f, df_error *err)
{
    if (!e->want_routes) return DF_OK;
    const Jina__RouteProto *r = unpack(e->a, &jina__route_proto__descriptor, f);
    if (!r) {
        char what[64];
        snprintf(what, sizeof what, "routes[%zu] (RouteProto)", e->n_routes);
        return malformed(err, what, f->len);
    }
    if (e->n_routes == e->cap_routes) {
        size_t cap = e->cap_routes ? 2 * e->cap_routes : 8;
        e->routes = df_arena_realloc(e->a, e->routes, e->n_routes * sizeof *e->routes,
                                     cap * sizeof *e->routes);
        e->cap_routes = cap;
    }
    e->routes[e->n_routes++] = r;
    return DF_OK;
}

/* df_pb_decode_docs names paths from "docs"; here they start at "data". */
static int docs_error(df_error *err, uint32_t member)
{
    if (member == F_DOCS && strncmp(err->msg, "docs[", 5) == 0) {
        char msg[DF_ERROR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err->msg);
        df_error_set(err, DF_E_INVALID_INPUT, "data.%s", msg);
    } else {
        df_error_prefix(err, member == F_DOCS ? "data.docs" : "data.docs_bytes");
    }
    return DF_E_INVALID_INPUT;
}

/* DataContentProto: oneof {DocumentArrayProto docs = 1; bytes docs_bytes = 2}.
 * Both hold DocumentArrayProto bytes, so both decode the same way. */
static int take_data(envelope *e, const pb_field *f, df_error *err)
{
    const uint8_t *p = f->data, *end = f->data + f->len;
    pb_field sub;
    int rc;
    while ((rc = next_field(&p, end, &sub)) == 1) {
        if (sub.number != F_DOCS && sub.number != F_DOCS_BYTES) continue;
        if (sub.wire != WIRE_LEN) return malformed(err, "data (DataContentProto)", f->len);
        /* Another docs message merges into the first (its documents add
         * up); docs_bytes, or a switch of the oneof's member, replaces. */
        if (sub.number == F_DOCS_BYTES || e->data_member != sub.number) e->docs->n = 0;
        e->data_member = sub.number;
        if (df_pb_decode_docs(e->docs, sub.data, sub.len, err)) return docs_error(err, sub.number);
    }
    return rc < 0 ? malformed(err, "data (DataContentProto)", f->len) : DF_OK;
}

static int walk_envelope(envelope *e, const uint8_t *body, size_t len, df_error *err)
{
    static const char type[] = "DataRequestProto";
    const uint8_t *p = body, *end = body + len;
    pb_field f;
    int rc;
    if (!body && len) return malformed(err, type, len);
    while ((rc = next_field(&p, end, &f)) == 1) {
        if (f.number < F_HEADER || f.number > F_DATA) continue; /* unknown: skipped */
        if (f.wire != WIRE_LEN) return malformed(err, type, len);
        switch (f.number) {
        case F_HEADER:
            rc = take_header(e, &f, err);
            break;
        case F_PARAMETERS:
            rc = take_parameters(e, &f, err);
            break;
        case F_ROUTES:
            rc = take_route(e, &f, err);
            break;
        default:
            rc = take_data(e, &f, err);
            break;
        }
        if (rc) return rc;
    }
    return rc < 0 ? malformed(err, type, len) : DF_OK;
}

static void envelope_init(envelope *e, df_arena *a, int want_routes)
{
    memset(e, 0, sizeof *e);
    e->a = a;
    e->want_routes = want_routes;
    e->docs = df_docs_new(a);
}

/* ========================================================================
 * Decoding: requests (server side) and responses (client side)
 * ======================================================================== */

int df_request_decode_protobuf(const uint8_t *body, size_t len, const char *default_endpoint,
                               df_flow_request *q, df_error *err)
{
    envelope e;
    envelope_init(&e, q->arena, 0);
    int rc = walk_envelope(&e, body, len, err);
    if (rc) return rc;
    q->endpoint = e.endpoint ? e.endpoint : df_arena_strdup(q->arena, default_endpoint);
    q->docs = e.docs;
    q->parameters = e.parameters;
    q->target_executor = e.target_executor;
    if (e.request_id) q->request_id = e.request_id;
    if (e.timeout_ms) q->timeout_ms = e.timeout_ms;
    return DF_OK;
}

/* A StatusProto -> code, message and executor (all unset on success). */
static void status_from_pb(const Jina__StatusProto *st, int *code, const char **msg,
                           const char **executor)
{
    *code = DF_OK;
    *msg = *executor = NULL;
    if (!st || st->code == JINA__STATUS_PROTO__STATUS_CODE__SUCCESS) return;
    const Jina__StatusProto__ExceptionProto *ex = st->exception;
    *code = req_exception_code(ex ? ex->name : NULL);
    *msg = st->description ? st->description : "";
    *executor = ex ? nonempty(ex->executor) : NULL;
}

static int time_from_pb(const Google__Protobuf__Timestamp *t, size_t i, const char *name,
                        uint64_t *ns, df_error *err)
{
    *ns = 0;
    if (!t) return DF_OK;
    if (t->seconds < 0 || (uint64_t)t->seconds >= UINT64_MAX / 1000000000u || t->nanos < 0 ||
        t->nanos > 999999999)
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "routes[%zu].%s: a time before 1970 or out of range (%lld s, %d ns)", i,
                            name, (long long)t->seconds, (int)t->nanos);
    *ns = (uint64_t)t->seconds * 1000000000u + (uint64_t)t->nanos;
    return DF_OK;
}

static int routes_from_pb(const envelope *e, df_flow_response *out, df_error *err)
{
    out->routes = df_arena_calloc(e->a, (e->n_routes + 1) * sizeof *out->routes);
    for (size_t i = 0; i < e->n_routes; i++) {
        const Jina__RouteProto *r = e->routes[i];
        const char *executor = r->executor ? r->executor : "", *msg, *failed_executor;
        /* Encoders derive the gateway's route from the others. */
        if (i == 0 && strcmp(executor, REQ_GATEWAY_ROUTE) == 0) continue;
        df_flow_route *rt = &out->routes[out->n_routes];
        rt->executor = executor;
        int rc = time_from_pb(r->start_time, i, "start_time", &rt->start_ns, err);
        if (!rc) rc = time_from_pb(r->end_time, i, "end_time", &rt->end_ns, err);
        if (rc) return rc;
        status_from_pb(r->status, &rt->status, &msg, &failed_executor);
        out->n_routes++;
    }
    return DF_OK;
}

int df_response_decode_protobuf(df_arena *a, const uint8_t *body, size_t len, df_flow_response *out,
                                df_error *err)
{
    envelope e;
    memset(out, 0, sizeof *out);
    envelope_init(&e, a, 1);
    out->docs = e.docs;
    int rc = walk_envelope(&e, body, len, err);
    if (rc) return rc;
    out->request_id = e.request_id;
    out->endpoint = e.endpoint;
    out->parameters = e.parameters;
    status_from_pb(e.status, &out->status, &out->error, &out->error_executor);
    return routes_from_pb(&e, out, err);
}

/* ========================================================================
 * Encoding
 * ======================================================================== */

static size_t varint_put(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    do {
        out[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return n;
}

static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v > 0x7f)
        v >>= 7, n++;
    return n;
}

/* Field `number` holding a protobuf-c message, packed in place. */
static void put_message(df_buf *b, unsigned number, const ProtobufCMessage *m)
{
    size_t size = protobuf_c_message_get_packed_size(m);
    df_buf_reserve(b, 1 + 10 + size);
    uint8_t *o = (uint8_t *)b->data + b->len;
    size_t n = varint_put(o, (uint64_t)number << 3 | WIRE_LEN);
    n += varint_put(o + n, size);
    n += protobuf_c_message_pack(m, o + n);
    b->len += n;
    b->data[b->len] = '\0';
}

/* Room for the longest prefix of `depth` nested length-prefixed fields,
 * left before a value whose length is only known once it is written. */
#define FRAME_ROOM(depth) ((depth) * (1 + 10))

static size_t frame_open(df_buf *b, int depth)
{
    size_t at = b->len;
    df_buf_reserve(b, FRAME_ROOM(depth));
    b->len += FRAME_ROOM(depth);
    return at;
}

/* Writes the prefixes of the fields numbers[0] (outermost) .. numbers[depth
 * - 1] around what was written since frame_open, and moves it back over the
 * room they did not use: one move, however deep. */
static void frame_close(df_buf *b, size_t at, const unsigned *numbers, int depth)
{
    uint8_t prefix[FRAME_ROOM(4)];
    size_t value = b->len - at - FRAME_ROOM(depth), sizes[4], n = 0;
    size_t inner = value;
    for (int i = depth - 1; i >= 0; i--) { /* each field's length: its prefix counts outside */
        sizes[i] = inner;
        inner += varint_size((uint64_t)numbers[i] << 3 | WIRE_LEN) + varint_size(inner);
    }
    for (int i = 0; i < depth; i++) {
        n += varint_put(prefix + n, (uint64_t)numbers[i] << 3 | WIRE_LEN);
        n += varint_put(prefix + n, sizes[i]);
    }
    uint8_t *o = (uint8_t *)b->data + at;
    memmove(o + n, o + FRAME_ROOM(depth), value);
    memcpy(o, prefix, n);
    b->len = at + n + value;
    b->data[b->len] = '\0';
}

static void put_parameters(df_buf *b, const df_value *parameters)
{
    static const unsigned path[] = {F_PARAMETERS};
    size_t at = frame_open(b, 1);
    df_pb_encode_struct(b, parameters);
    frame_close(b, at, path, 1);
}

/* data { docs { doc, doc, ... } }. */
static void put_docs(df_buf *b, const df_docs *docs)
{
    static const unsigned path[] = {F_DATA, F_DOCS};
    size_t at = frame_open(b, 2);
    df_pb_encode_docs(b, docs);
    frame_close(b, at, path, 2);
}

static char *pb_str(const char *s)
{
    return (char *)(s ? s : ""); /* protobuf-c only reads it */
}

/* A failure's StatusProto, in caller-provided structs. */
static Jina__StatusProto *failure_to_pb(Jina__StatusProto *st,
                                        Jina__StatusProto__ExceptionProto *ex, char **arg, int code,
                                        const char *msg, const char *executor)
{
    *st = (Jina__StatusProto)JINA__STATUS_PROTO__INIT;
    *ex = (Jina__StatusProto__ExceptionProto)JINA__STATUS_PROTO__EXCEPTION_PROTO__INIT;
    *arg = pb_str(msg);
    ex->name = pb_str(req_exception_name(code));
    ex->n_args = 1;
    ex->args = arg;
    ex->executor = pb_str(executor);
    st->code = JINA__STATUS_PROTO__STATUS_CODE__ERROR;
    st->description = pb_str(msg);
    st->exception = ex;
    return st;
}

static void put_route(df_buf *b, const df_flow_response *r, const df_flow_route *rt,
                      const char *executor, uint64_t start, uint64_t end)
{
    Jina__RouteProto m = JINA__ROUTE_PROTO__INIT;
    Google__Protobuf__Timestamp t0 = GOOGLE__PROTOBUF__TIMESTAMP__INIT,
                                t1 = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    Jina__StatusProto st;
    Jina__StatusProto__ExceptionProto ex;
    char *arg;
    t0.seconds = (int64_t)(start / 1000000000u);
    t0.nanos = (int32_t)(start % 1000000000u);
    t1.seconds = (int64_t)(end / 1000000000u);
    t1.nanos = (int32_t)(end % 1000000000u);
    m.executor = pb_str(executor);
    m.start_time = &t0;
    m.end_time = &t1;
    if (rt && rt->status != DF_OK)
        m.status = failure_to_pb(&st, &ex, &arg, rt->status, req_route_message(r, rt), executor);
    put_message(b, F_ROUTES, &m.base);
}

void df_response_encode_protobuf(df_buf *b, const df_flow_response *r, const char *target_executor)
{
    Jina__HeaderProto h = JINA__HEADER_PROTO__INIT;
    Jina__StatusProto st;
    Jina__StatusProto__ExceptionProto ex;
    char *arg;
    h.request_id = pb_str(r->request_id);
    h.exec_endpoint = pb_str(r->endpoint);
    h.target_executor = pb_str(target_executor);
    if (r->status != DF_OK)
        h.status = failure_to_pb(&st, &ex, &arg, r->status, r->error, r->error_executor);
    put_message(b, F_HEADER, &h.base);
    put_parameters(b, df_value_type_of(r->parameters) == DF_VALUE_MAP ? r->parameters : NULL);
    uint64_t start, end;
    req_gateway_span(r, &start, &end);
    put_route(b, r, NULL, REQ_GATEWAY_ROUTE, start, end);
    for (size_t i = 0; i < r->n_routes; i++) {
        const df_flow_route *rt = &r->routes[i];
        put_route(b, r, rt, rt->executor, rt->start_ns, rt->end_ns);
    }
    put_docs(b, r->docs);
}

void df_request_encode_protobuf(df_buf *b, const char *endpoint, const df_docs *docs,
                                const df_value *parameters, const char *target_executor)
{
    Jina__HeaderProto h = JINA__HEADER_PROTO__INIT;
    h.exec_endpoint = pb_str(endpoint);
    h.target_executor = pb_str(target_executor);
    put_message(b, F_HEADER, &h.base);
    if (parameters) put_parameters(b, parameters);
    put_docs(b, docs);
}
