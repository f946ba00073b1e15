/*
 * fuzz_http_parser.c -- libFuzzer target for the gateway's HTTP request
 * parser: any bytes must parse, wait or be refused with a status, never
 * crash or read past `len`. What it parses must stay inside the input (or
 * the scratch buffer, for a chunked body), respect the limits, and parse the
 * same when it arrives in pieces: every shorter prefix of a request that is
 * DONE must be INCOMPLETE, never DONE or refused. And resuming
 * (df_http_parse_resume with one df_http_progress, the input fed in pieces
 * whose sizes the input picks) must answer every prefix exactly as the
 * one-shot parse of that prefix does: result, status, reason, consumed,
 * head and body. That mode also runs the input as the body of a chunked
 * request, so that the fuzzer mutates chunk lines directly.
 *
 * The input is copied to a buffer of exactly its size, so AddressSanitizer
 * sees any read past the end. Each input runs under tight limits (to reach
 * the 413 and 431 paths) and generous ones.
 *
 * Build by hand with libFuzzer:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     -Iplugin-api/include -Ihost tests/fuzz/fuzz_http_parser.c host/http_parser.c \
 *     plugin-api/src/buf.c -o fuzz_http_parser
 *   ./fuzz_http_parser -max_total_time=120 tests/fuzz/corpus/fuzz_http_parser/
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_parser.h"

static int inside(const char *p, size_t n, const char *base, size_t base_len)
{
    return p >= base && n <= base_len && (size_t)(p - base) <= base_len - n;
}

static void check_request(const char *buf, size_t len, const df_http_limits *limits,
                          const df_http_request *req, const df_buf *scratch, size_t consumed)
{
    if (consumed == 0 || consumed > len) abort();
    if (!req->method || req->method_len == 0 || !inside(req->method, req->method_len, buf, len))
        abort();
    if (!req->path || req->path_len == 0 || req->path[0] != '/' ||
        !inside(req->path, req->path_len, buf, len))
        abort();
    if (req->query && !inside(req->query, req->query_len, buf, len)) abort();
    if (req->minor_version != 0 && req->minor_version != 1) abort();
    if (req->n_headers > DF_HTTP_MAX_HEADERS) abort();
    for (size_t i = 0; i < req->n_headers; i++) {
        const df_http_header *h = &req->headers[i];
        if (h->name_len == 0 || !inside(h->name, h->name_len, buf, consumed)) abort();
        if (!inside(h->value, h->value_len, buf, consumed)) abort();
    }
    if (req->n_headers > 0 && req->headers[0].name_len < 64) {
        char name[64];
        memcpy(name, req->headers[0].name, req->headers[0].name_len);
        name[req->headers[0].name_len] = '\0';
        name[0] ^= (name[0] >= 'a' && name[0] <= 'z') ? 0x20 : 0; /* lookups ignore case */
        if (!df_http_header_get(req, name, NULL)) abort();
    }
    if (!req->body || req->body_len > limits->max_body_bytes) abort();
    int in_buf = inside(req->body, req->body_len, buf, consumed);
    int in_scratch = scratch->data && inside(req->body, req->body_len, scratch->data, scratch->len);
    if (!in_buf && !in_scratch) abort();
    if (in_buf && req->body + req->body_len != buf + consumed) abort();
}

static void run(const char *buf, size_t len, const df_http_limits *limits)
{
    static df_buf scratch = DF_BUF_INIT;
    static df_http_request req;
    size_t consumed;
    int status;
    const char *reason;
    df_http_result r = df_http_parse(buf, len, limits, &req, &scratch, &consumed, &status, &reason);
    if (r == DF_HTTP_ERROR) {
        if (!reason ||
            (status != 400 && status != 413 && status != 431 && status != 501 && status != 505))
            abort();
        return;
    }
    if (r == DF_HTTP_INCOMPLETE) {
        if (consumed != 0) abort();
        return;
    }
    if (r != DF_HTTP_DONE) abort();
    check_request(buf, len, limits, &req, &scratch, consumed);

    /* Arrival in pieces: the request alone is DONE the same way, and a few
     * shorter prefixes (each copied to an exact-size buffer) wait. */
    size_t whole = consumed;
    if (df_http_parse(buf, whole, limits, &req, &scratch, &consumed, &status, &reason) !=
            DF_HTTP_DONE ||
        consumed != whole)
        abort();
    size_t prefixes[] = {whole - 1, whole / 2, whole / 3, len % whole};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t n = prefixes[i];
        char *copy = malloc(n ? n : 1);
        memcpy(copy, buf, n);
        r = df_http_parse(copy, n, limits, &req, &scratch, &consumed, &status, &reason);
        free(copy);
        if (r != DF_HTTP_INCOMPLETE) abort();
    }
}

/* One parse of an exact-size copy of buf[0..n), with its own request and
 * scratch so that two can be compared; resuming when progress is given. */
typedef struct fed {
    char *copy;
    df_http_request req;
    df_buf scratch;
    size_t consumed;
    int status;
    const char *reason;
    df_http_result r;
} fed;

static void feed(fed *f, const char *buf, size_t n, const df_http_limits *limits,
                 df_http_progress *progress)
{
    free(f->copy);
    f->copy = malloc(n ? n : 1);
    memcpy(f->copy, buf, n);
    if (progress)
        f->r = df_http_parse_resume(f->copy, n, limits, progress, &f->req, &f->scratch,
                                    &f->consumed, &f->status, &f->reason);
    else
        f->r = df_http_parse(f->copy, n, limits, &f->req, &f->scratch, &f->consumed, &f->status,
                             &f->reason);
}

static int same_span(const char *a, size_t a_len, const char *b, size_t b_len)
{
    if (!a || !b) return a == b;
    return a_len == b_len && memcmp(a, b, a_len) == 0;
}

static void check_same(const fed *one, const fed *resumed)
{
    if (one->r != resumed->r || one->status != resumed->status ||
        one->consumed != resumed->consumed)
        abort();
    if ((one->reason == NULL) != (resumed->reason == NULL) ||
        (one->reason && strcmp(one->reason, resumed->reason) != 0))
        abort();
    const df_http_request *a = &one->req, *b = &resumed->req;
    if ((a->method == NULL) != (b->method == NULL)) abort();
    if (!a->method) return;
    if (!same_span(a->method, a->method_len, b->method, b->method_len) ||
        !same_span(a->path, a->path_len, b->path, b->path_len) ||
        !same_span(a->query, a->query_len, b->query, b->query_len) ||
        a->n_headers != b->n_headers || a->keep_alive != b->keep_alive ||
        a->expect_continue != b->expect_continue ||
        !same_span(a->body, a->body_len, b->body, b->body_len))
        abort();
}

/* Feeds buf[0..len) in pieces of 1..32 bytes (sizes taken from the input;
 * all of 1 byte with `byte_by_byte`), resuming with one progress; each
 * prefix must parse as it does in one go. Stops at the first DONE or ERROR,
 * as the gateway does. */
static void run_in_pieces(const char *buf, size_t len, const df_http_limits *limits,
                          int byte_by_byte)
{
    static fed one, resumed;
    df_http_progress progress;
    df_http_progress_reset(&progress);
    size_t have = 0, k = 0;
    while (have < len) {
        size_t piece = byte_by_byte ? 1 : 1 + (unsigned char)buf[k++ % len] % 32;
        have = have + piece < len ? have + piece : len;
        feed(&one, buf, have, limits, NULL);
        feed(&resumed, buf, have, limits, &progress);
        check_same(&one, &resumed);
        if (resumed.r != DF_HTTP_INCOMPLETE) break;
    }
}

/* The input as the body of a chunked request; an input that holds a blank
 * line gives what follows it, so that the seeds' chunked bodies seed this
 * mode too. */
static void run_as_chunked_body(const uint8_t *data, size_t size, const df_http_limits *limits)
{
    static const char head[] = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    const uint8_t *blank = memmem(data, size, "\r\n\r\n", 4);
    if (blank) {
        size -= (size_t)(blank + 4 - data);
        data = blank + 4;
    }
    size_t len = sizeof head - 1 + size;
    char *buf = malloc(len);
    memcpy(buf, head, sizeof head - 1);
    if (size) memcpy(buf + sizeof head - 1, data, size);
    /* Every cut point for short bodies: the head's bytes would otherwise
     * pick the same few, out of the fuzzer's reach. */
    run_in_pieces(buf, len, limits, size <= 512);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    static const df_http_limits tight = {96, 64};
    static const df_http_limits generous = {1 << 16, 1 << 20};
    run(buf, size, &tight);
    run(buf, size, &generous);
    run_in_pieces(buf, size, &tight, 0);
    run_in_pieces(buf, size, &generous, 0);
    /* A body limit of a few chunks: over it after some were remembered. */
    static const df_http_limits small_body = {96, 8};
    run_as_chunked_body(data, size, &small_body);
    run_as_chunked_body(data, size, &generous);
    free(buf);
    return 0;
}
