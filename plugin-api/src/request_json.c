/*
 * request_json.c -- the JSON request and response bodies of Jina's HTTP
 * gateway (the format is described in docflow/request_codec.h).
 *
 * The envelope is taken apart in one pass by df_json_decode_envelope: the
 * documents go straight from the body into df_doc structs, and only the
 * small members (execEndpoint, parameters, header, routes) become values,
 * which are then checked here field by field. Encoding appends to the
 * output buffer with the JSON codec's writers.
 *
 * Not here: HTTP, and the protobuf form (request_protobuf.c).
 */
#include "docflow/request_codec.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "docflow/json_codec.h"
#include "docflow/value.h"
#include "request_codec_internal.h"

/* ========================================================================
 * RFC 3339 times
 * ======================================================================== */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil), and the reverse. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static char *put_digits(char *o, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        o[i] = (char)('0' + v % 10);
    return o + width;
}

/* "2022-04-01T13:11:57.992497+00:00", quoted: what Jina prints (Python's
 * datetime.isoformat() of a UTC time, microseconds truncated). */
static void put_time(df_buf *b, uint64_t ns)
{
    uint64_t secs = ns / 1000000000u;
    unsigned micros = (unsigned)(ns % 1000000000u / 1000u), tod = (unsigned)(secs % 86400u);
    int64_t year;
    unsigned month, day;
    civil_from_days((int64_t)(secs / 86400u), &year, &month, &day);
    char text[40], *o = text;
    *o++ = '"';
    o = put_digits(o, (unsigned)year, 4);
    *o++ = '-';
    o = put_digits(o, month, 2);
    *o++ = '-';
    o = put_digits(o, day, 2);
    *o++ = 'T';
    o = put_digits(o, tod / 3600, 2);
    *o++ = ':';
    o = put_digits(o, tod / 60 % 60, 2);
    *o++ = ':';
    o = put_digits(o, tod % 60, 2);
    *o++ = '.';
    o = put_digits(o, micros, 6);
    memcpy(o, "+00:00\"", 7);
    df_buf_append(b, text, (size_t)(o + 7 - text));
}

/* Reads `width` digits at *p; -1 when they are not all digits. */
static int take_digits(const char **p, const char *end, int width)
{
    int v = 0;
    if (end - *p < width) return -1;
    for (int i = 0; i < width; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9') return -1;
        v = v * 10 + (c - '0');
    }
    *p += width;
    return v;
}

static int take_char(const char **p, const char *end, const char *allowed)
{
    if (*p >= end || !strchr(allowed, **p) || !**p) return 0;
    (*p)++;
    return 1;
}

/* An RFC 3339 time (Jina's "+00:00" form, protobuf JSON's "Z" form, any
 * offset, 0 to 9 fractional digits; more are cut) -> ns since the epoch.
 * -1 when it is not one or lies before 1970. */
static int parse_time(const char *s, size_t len, uint64_t *out)
{
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *p = s, *end = s + len;
    int y = take_digits(&p, end, 4), mo, d, h, mi, sec, off = 0;
    if (y < 0 || !take_char(&p, end, "-") || (mo = take_digits(&p, end, 2)) < 1 || mo > 12 ||
        !take_char(&p, end, "-") || (d = take_digits(&p, end, 2)) < 1 ||
        (unsigned)d > mdays[mo - 1] || !take_char(&p, end, "Tt ") ||
        (h = take_digits(&p, end, 2)) < 0 || h > 23 || !take_char(&p, end, ":") ||
        (mi = take_digits(&p, end, 2)) < 0 || mi > 59 || !take_char(&p, end, ":") ||
        (sec = take_digits(&p, end, 2)) < 0 || sec > 60)
        return -1;
    if (mo == 2 && d == 29 && (y % 4 || (y % 100 == 0 && y % 400))) return -1;
    uint64_t frac = 0, scale = 1000000000u;
    if (take_char(&p, end, ".")) {
        const char *digits = p;
        for (; p < end && *p >= '0' && *p <= '9'; p++)
            if (scale > 1) scale /= 10, frac += (uint64_t)(*p - '0') * scale;
        if (p == digits) return -1;
    }
    if (!take_char(&p, end, "Zz")) {
        int sign = p < end && *p == '-' ? -1 : 1, oh, om;
        if (!take_char(&p, end, "+-") || (oh = take_digits(&p, end, 2)) < 0 || oh > 23 ||
            !take_char(&p, end, ":") || (om = take_digits(&p, end, 2)) < 0 || om > 59)
            return -1;
        off = sign * (oh * 3600 + om * 60);
    }
    if (p != end) return -1;
    int64_t secs =
        days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec - off;
    if (secs < 0 || (uint64_t)secs > UINT64_MAX / 1000000000u - 1) return -1;
    *out = (uint64_t)secs * 1000000000u + frac;
    return 0;
}

/* ========================================================================
 * Encoding
 * ======================================================================== */

#define PUT_LIT(b, s) df_buf_append((b), (s), sizeof(s) - 1)

static void put_str(df_buf *b, const char *s)
{
    df_json_encode_string(b, s ? s : "", s ? strlen(s) : 0);
}

/* {"code": 1, "description": msg, "exception": {...}}: Jina's StatusProto
 * of a failure. */
static void put_failure(df_buf *b, int code, const char *msg, const char *executor)
{
    PUT_LIT(b, "{\"code\":1,\"description\":");
    put_str(b, msg);
    PUT_LIT(b, ",\"exception\":{\"name\":");
    put_str(b, req_exception_name(code));
    PUT_LIT(b, ",\"args\":[");
    put_str(b, msg);
    PUT_LIT(b, "],\"stacks\":[],\"executor\":");
    put_str(b, executor);
    PUT_LIT(b, "}}");
}

static void put_route(df_buf *b, const char *executor, uint64_t start, uint64_t end)
{
    PUT_LIT(b, "{\"executor\":");
    put_str(b, executor);
    PUT_LIT(b, ",\"startTime\":");
    put_time(b, start);
    PUT_LIT(b, ",\"endTime\":");
    put_time(b, end);
}

static void put_routes(df_buf *b, const df_flow_response *r)
{
    uint64_t start, end;
    req_gateway_span(r, &start, &end);
    df_buf_append_char(b, '[');
    put_route(b, REQ_GATEWAY_ROUTE, start, end);
    df_buf_append_char(b, '}');
    for (size_t i = 0; i < r->n_routes; i++) {
        const df_flow_route *rt = &r->routes[i];
        df_buf_append_char(b, ',');
        put_route(b, rt->executor, rt->start_ns, rt->end_ns);
        if (rt->status != DF_OK) {
            PUT_LIT(b, ",\"status\":");
            put_failure(b, rt->status, req_route_message(r, rt), rt->executor);
        }
        df_buf_append_char(b, '}');
    }
    df_buf_append_char(b, ']');
}

void df_response_encode_json(df_buf *b, const df_flow_response *r, const char *target_executor)
{
    PUT_LIT(b, "{\"header\":{\"requestId\":");
    put_str(b, r->request_id);
    PUT_LIT(b, ",\"execEndpoint\":");
    put_str(b, r->endpoint);
    PUT_LIT(b, ",\"targetExecutor\":");
    put_str(b, target_executor);
    PUT_LIT(b, ",\"status\":");
    if (r->status == DF_OK)
        PUT_LIT(b, "null");
    else
        put_failure(b, r->status, r->error, r->error_executor);
    PUT_LIT(b, "},\"parameters\":");
    if (df_value_type_of(r->parameters) == DF_VALUE_MAP)
        df_json_encode_value(b, r->parameters);
    else
        PUT_LIT(b, "{}");
    PUT_LIT(b, ",\"routes\":");
    put_routes(b, r);
    PUT_LIT(b, ",\"data\":");
    df_json_encode_docs(b, r->docs);
    df_buf_append_char(b, '}');
}

/* The documents go last: a server that reads the small members first
 * never waits for them, and it reads best in logs. */
void df_request_encode_json(df_buf *b, const char *endpoint, const df_docs *docs,
                            const df_value *parameters, const char *target_executor)
{
    df_buf_append_char(b, '{');
    if (endpoint) {
        PUT_LIT(b, "\"execEndpoint\":");
        put_str(b, endpoint);
        df_buf_append_char(b, ',');
    }
    if (target_executor) {
        PUT_LIT(b, "\"targetExecutor\":");
        put_str(b, target_executor);
        df_buf_append_char(b, ',');
    }
    if (parameters) {
        PUT_LIT(b, "\"parameters\":");
        df_json_encode_value(b, parameters);
        df_buf_append_char(b, ',');
    }
    PUT_LIT(b, "\"data\":");
    df_json_encode_docs(b, docs);
    df_buf_append_char(b, '}');
}

/* ========================================================================
 * Decoding: typed members, with the field named in errors
 * ======================================================================== */

static const char *kind_of(const df_value *v)
{
    switch (df_value_type_of(v)) {
    case DF_VALUE_MAP:
        return "an object";
    case DF_VALUE_LIST:
        return "an array";
    case DF_VALUE_STRING:
        return "a string";
    case DF_VALUE_NUMBER:
        return "a number";
    case DF_VALUE_BOOL:
        return "a boolean";
    default:
        return "null";
    }
}

/* The field being read: its parent's path ("header.status", "" at the top)
 * and its name as the body spells it. */
typedef struct field {
    const char *parent;
    const char *name;
    const df_value *v; /* NULL when absent */
} field;

/* Member `camel` of map m, else `snake` (NULL: no other spelling). */
static field member(const char *parent, const df_value *m, const char *camel, const char *snake)
{
    field f = {parent, camel, df_value_get(m, camel)};
    if (!f.v && snake && (f.v = df_value_get(m, snake))) f.name = snake;
    return f;
}

static int field_fail(df_error *err, const field *f, const char *what)
{
    return df_error_set(err, DF_E_INVALID_INPUT, "%s%s%s: %s", f->parent, f->parent[0] ? "." : "",
                        f->name, what);
}

static int field_expected(df_error *err, const field *f, const char *expected)
{
    char what[96];
    snprintf(what, sizeof what, "expected %s, got %s", expected, kind_of(f->v));
    return field_fail(err, f, what);
}

static int is_null(const field *f)
{
    return df_value_type_of(f->v) == DF_VALUE_NULL;
}

/* A string or null (-> NULL); "" also gives NULL when `empty_is_null`. */
static int field_string(df_error *err, const field *f, int empty_is_null, const char **out)
{
    size_t len;
    *out = NULL;
    if (is_null(f)) return DF_OK;
    if (df_value_type_of(f->v) != DF_VALUE_STRING) return field_expected(err, f, "a string");
    const char *s = df_value_string(f->v, &len);
    if (memchr(s, '\0', len)) return field_fail(err, f, "must not contain a NUL character");
    *out = len || !empty_is_null ? s : NULL;
    return DF_OK;
}

/* An object or null (-> NULL). */
static int field_map(df_error *err, const field *f, const df_value **out)
{
    *out = NULL;
    if (is_null(f)) return DF_OK;
    if (df_value_type_of(f->v) != DF_VALUE_MAP) return field_expected(err, f, "an object");
    *out = f->v;
    return DF_OK;
}

/* ========================================================================
 * Decoding: requests (server side)
 * ======================================================================== */

int df_request_decode_json(const char *body, size_t len, const char *default_endpoint,
                           df_flow_request *q, df_error *err)
{
    df_docs *docs = df_docs_new(q->arena);
    df_value *m;
    int rc = df_json_decode_envelope(docs, &m, body, len, "data", err);
    if (rc) return rc;
    q->docs = docs;
    const char *endpoint, *target;
    const df_value *params;
    field f_endpoint = member("", m, "execEndpoint", "exec_endpoint");
    field f_target = member("", m, "targetExecutor", "target_executor");
    field f_params = member("", m, "parameters", NULL);
    if ((rc = field_string(err, &f_endpoint, 1, &endpoint)) ||
        (rc = field_string(err, &f_target, 1, &target)) ||
        (rc = field_map(err, &f_params, &params)))
        return rc;
    q->endpoint = endpoint ? endpoint : df_arena_strdup(q->arena, default_endpoint);
    q->target_executor = target;
    q->parameters = (df_value *)params; /* the decoder's, in q->arena */
    return DF_OK;
}

/* ========================================================================
 * Decoding: responses (client side)
 * ======================================================================== */

/* StatusProto's code: a number, or the enum's name as protobuf's JSON
 * mapping writes it. 0 is success; any other code a failure. */
static int decode_status_code(df_error *err, const field *f, int *failed)
{
    *failed = 0;
    if (is_null(f)) return DF_OK;
    if (df_value_type_of(f->v) == DF_VALUE_STRING) {
        const char *s = df_value_string(f->v, NULL);
        if (strcmp(s, "SUCCESS") == 0 || strcmp(s, "ERROR") == 0) {
            *failed = s[0] == 'E';
            return DF_OK;
        }
        return field_fail(err, f, "expected 0, 1, \"SUCCESS\" or \"ERROR\"");
    }
    if (df_value_type_of(f->v) != DF_VALUE_NUMBER) return field_expected(err, f, "a number");
    double code = df_value_number(f->v);
    if (code != (double)(int)code) return field_fail(err, f, "expected an integer");
    *failed = code != 0;
    return DF_OK;
}

/* A StatusProto object (or null: success) at `where` -> code, message,
 * executor. */
static int decode_status(df_error *err, const field *f, int *code, const char **msg,
                         const char **executor)
{
    const df_value *st, *ex;
    const char *name = NULL;
    char here[160], exc_here[176];
    int rc, failed;
    *code = DF_OK;
    *msg = *executor = NULL;
    if ((rc = field_map(err, f, &st)) || !st) return rc;
    snprintf(here, sizeof here, "%s%s%s", f->parent, f->parent[0] ? "." : "", f->name);
    field f_code = member(here, st, "code", NULL);
    field f_desc = member(here, st, "description", NULL);
    field f_exc = member(here, st, "exception", NULL);
    if ((rc = decode_status_code(err, &f_code, &failed)) ||
        (rc = field_string(err, &f_desc, 0, msg)) || (rc = field_map(err, &f_exc, &ex)))
        return rc;
    if (ex) {
        snprintf(exc_here, sizeof exc_here, "%s.%s", here, f_exc.name);
        field f_name = member(exc_here, ex, "name", NULL);
        field f_exec = member(exc_here, ex, "executor", NULL);
        if ((rc = field_string(err, &f_name, 1, &name)) ||
            (rc = field_string(err, &f_exec, 1, executor)))
            return rc;
    }
    if (!failed) {
        *msg = *executor = NULL;
        return DF_OK;
    }
    *code = req_exception_code(name);
    if (!*msg) *msg = "";
    return DF_OK;
}

static int decode_time(df_error *err, const field *f, uint64_t *ns)
{
    const char *s;
    int rc;
    *ns = 0;
    if ((rc = field_string(err, f, 1, &s)) || !s) return rc;
    if (parse_time(s, strlen(s), ns) == 0) return DF_OK;
    char what[128];
    snprintf(what, sizeof what, "expected an RFC 3339 time after 1970, got \"%.60s\"", s);
    return field_fail(err, f, what);
}

static int decode_route(df_error *err, const char *here, const df_value *v, df_flow_route *rt)
{
    const char *msg, *executor;
    int rc;
    field f_exec = member(here, v, "executor", NULL);
    field f_start = member(here, v, "startTime", "start_time");
    field f_end = member(here, v, "endTime", "end_time");
    field f_status = member(here, v, "status", NULL);
    if ((rc = field_string(err, &f_exec, 0, &rt->executor)) ||
        (rc = decode_time(err, &f_start, &rt->start_ns)) ||
        (rc = decode_time(err, &f_end, &rt->end_ns)) ||
        (rc = decode_status(err, &f_status, &rt->status, &msg, &executor)))
        return rc;
    if (!rt->executor) rt->executor = "";
    return DF_OK;
}

static int decode_routes(df_arena *a, df_error *err, const field *f, df_flow_response *out)
{
    if (is_null(f)) return DF_OK;
    if (df_value_type_of(f->v) != DF_VALUE_LIST) return field_expected(err, f, "an array");
    size_t n = df_value_len(f->v);
    out->routes = df_arena_calloc(a, (n + 1) * sizeof *out->routes);
    for (size_t i = 0; i < n; i++) {
        char here[48];
        snprintf(here, sizeof here, "%s[%zu]", f->name, i);
        field f_route = {"", here, df_value_at(f->v, i)};
        if (df_value_type_of(f_route.v) != DF_VALUE_MAP)
            return field_expected(err, &f_route, "an object");
        df_flow_route *rt = &out->routes[out->n_routes];
        int rc = decode_route(err, here, f_route.v, rt);
        if (rc) return rc;
        /* Encoders derive the gateway's route from the others. */
        if (i == 0 && strcmp(rt->executor, REQ_GATEWAY_ROUTE) == 0) continue;
        out->n_routes++;
    }
    return DF_OK;
}

static int decode_header(df_error *err, const field *f, df_flow_response *out)
{
    const df_value *h;
    int rc;
    if ((rc = field_map(err, f, &h)) || !h) return rc;
    field f_id = member("header", h, "requestId", "request_id");
    field f_endpoint = member("header", h, "execEndpoint", "exec_endpoint");
    field f_status = member("header", h, "status", NULL);
    const char *executor;
    if ((rc = field_string(err, &f_id, 1, &out->request_id)) ||
        (rc = field_string(err, &f_endpoint, 1, &out->endpoint)) ||
        (rc = decode_status(err, &f_status, &out->status, &out->error, &executor)))
        return rc;
    out->error_executor = executor;
    return DF_OK;
}

int df_response_decode_json(df_arena *a, const char *body, size_t len, df_flow_response *out,
                            df_error *err)
{
    memset(out, 0, sizeof *out);
    out->docs = df_docs_new(a);
    df_value *m;
    const df_value *params;
    int rc = df_json_decode_envelope(out->docs, &m, body, len, "data", err);
    if (rc) return rc;
    field f_header = member("", m, "header", NULL);
    field f_params = member("", m, "parameters", NULL);
    field f_routes = member("", m, "routes", NULL);
    if ((rc = decode_header(err, &f_header, out)) || (rc = field_map(err, &f_params, &params)) ||
        (rc = decode_routes(a, err, &f_routes, out)))
        return rc;
    out->parameters = (df_value *)params; /* the decoder's, in `a` */
    return DF_OK;
}
