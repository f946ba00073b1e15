/*
 * test_http_parser.c -- the gateway's HTTP/1.1 request parser (framing,
 * refusals with their status, limits, keep-alive, arrival in pieces,
 * resuming a chunked body's walk) and the response writer's exact bytes.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_parser.h"

static const df_http_limits limits = {8192, 1 << 20};

/* The last parse: each input is copied to a buffer of exactly its size so
 * the sanitizer build catches a read past `len`. */
static char *input;
static df_http_request req;
static df_buf scratch = DF_BUF_INIT;
static size_t consumed;
static int status;
static const char *reason;

static df_http_result parse_bytes_with(const char *bytes, size_t len, const df_http_limits *lim)
{
    free(input);
    input = malloc(len ? len : 1);
    memcpy(input, bytes, len);
    df_http_result r = df_http_parse(input, len, lim, &req, &scratch, &consumed, &status, &reason);
    if (r == DF_HTTP_ERROR) CU_ASSERT_PTR_NOT_NULL(reason);
    return r;
}

static df_http_result parse(const char *text)
{
    return parse_bytes_with(text, strlen(text), &limits);
}

static int span_is(const char *p, size_t n, const char *want)
{
    return p && n == strlen(want) && memcmp(p, want, n) == 0;
}

static void test_simple_get_parses_method_path_version_and_headers(void)
{
    const char *text = "GET /status HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n";
    CU_ASSERT_EQUAL_FATAL(parse(text), DF_HTTP_DONE);
    CU_ASSERT(span_is(req.method, req.method_len, "GET"));
    CU_ASSERT(span_is(req.path, req.path_len, "/status"));
    CU_ASSERT_PTR_NULL(req.query);
    CU_ASSERT_EQUAL(req.minor_version, 1);
    CU_ASSERT_EQUAL(req.keep_alive, 1);
    CU_ASSERT_EQUAL(req.expect_continue, 0);
    CU_ASSERT_EQUAL_FATAL(req.n_headers, 2);
    CU_ASSERT(span_is(req.headers[1].name, req.headers[1].name_len, "Accept"));
    CU_ASSERT(span_is(req.headers[1].value, req.headers[1].value_len, "*/*"));
    CU_ASSERT_EQUAL(req.body_len, 0);
    CU_ASSERT_EQUAL(consumed, strlen(text));
    CU_ASSERT_EQUAL(status, 0);
}

static void test_query_is_split_off_the_path(void)
{
    CU_ASSERT_EQUAL_FATAL(parse("GET /search?q=a%20b&k=3 HTTP/1.1\r\n\r\n"), DF_HTTP_DONE);
    CU_ASSERT(span_is(req.path, req.path_len, "/search"));
    CU_ASSERT(span_is(req.query, req.query_len, "q=a%20b&k=3"));
    CU_ASSERT_EQUAL_FATAL(parse("GET /?x?y HTTP/1.1\r\n\r\n"), DF_HTTP_DONE);
    CU_ASSERT(span_is(req.path, req.path_len, "/"));
    CU_ASSERT(span_is(req.query, req.query_len, "x?y"));
    CU_ASSERT_EQUAL_FATAL(parse("GET /a? HTTP/1.1\r\n\r\n"), DF_HTTP_DONE);
    CU_ASSERT_PTR_NOT_NULL(req.query);
    CU_ASSERT_EQUAL(req.query_len, 0);
}

static void test_post_with_content_length_points_the_body_into_the_buffer(void)
{
    const char *text = "POST /post HTTP/1.1\r\nContent-Type: application/json\r\n"
                       "Content-Length: 13\r\n\r\n{\"data\":[1]}\n";
    CU_ASSERT_EQUAL_FATAL(parse(text), DF_HTTP_DONE);
    CU_ASSERT(span_is(req.method, req.method_len, "POST"));
    CU_ASSERT(span_is(req.body, req.body_len, "{\"data\":[1]}\n"));
    CU_ASSERT(req.body >= input && req.body + req.body_len == input + strlen(text));
    CU_ASSERT_EQUAL(consumed, strlen(text));
    /* Leading zeros are still digits. */
    CU_ASSERT_EQUAL_FATAL(parse("POST / HTTP/1.1\r\nContent-Length: 003\r\n\r\nabc"), DF_HTTP_DONE);
    CU_ASSERT(span_is(req.body, req.body_len, "abc"));
}

static void test_pipelined_requests_are_consumed_one_at_a_time(void)
{
    const char *text =
        "POST /index HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
        "\r\n" /* a stray CRLF after a body is skipped */
        "GET /status HTTP/1.1\r\n\r\n"
        "POST /search HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n"
        "GET /dry_run HT";
    size_t len = strlen(text), at = 0;
    CU_ASSERT_EQUAL_FATAL(parse_bytes_with(text, len, &limits), DF_HTTP_DONE);
    CU_ASSERT(span_is(req.body, req.body_len, "abc"));
    at += consumed;
    CU_ASSERT_EQUAL_FATAL(parse_bytes_with(text + at, len - at, &limits), DF_HTTP_DONE);
    CU_ASSERT(span_is(req.path, req.path_len, "/status"));
    at += consumed;
    CU_ASSERT_EQUAL_FATAL(parse_bytes_with(text + at, len - at, &limits), DF_HTTP_DONE);
    CU_ASSERT(span_is(req.path, req.path_len, "/search"));
    CU_ASSERT(span_is(req.body, req.body_len, "xy"));
    at += consumed;
    CU_ASSERT(span_is(text + at, len - at, "GET /dry_run HT"));
    CU_ASSERT_EQUAL(parse_bytes_with(text + at, len - at, &limits), DF_HTTP_INCOMPLETE);
    CU_ASSERT_EQUAL(consumed, 0);
}

/* Every proper prefix is INCOMPLETE, the whole is DONE with `want` body. */
static void check_byte_by_byte(const char *text, const char *want_body)
{
    size_t len = strlen(text);
    for (size_t n = 0; n < len; n++) {
        df_http_result r = parse_bytes_with(text, n, &limits);
        CU_ASSERT_EQUAL(r, DF_HTTP_INCOMPLETE);
        if (r != DF_HTTP_INCOMPLETE) printf("\n  prefix %zu of %s gave %d\n", n, text, (int)r);
    }
    CU_ASSERT_EQUAL_FATAL(parse_bytes_with(text, len, &limits), DF_HTTP_DONE);
    CU_ASSERT_EQUAL(consumed, len);
    CU_ASSERT(span_is(req.body, req.body_len, want_body));
}

static void test_content_length_request_arriving_byte_by_byte_is_done_at_the_last_byte(void)
{
    check_byte_by_byte("POST /post HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", "hello");
    check_byte_by_byte("GET / HTTP/1.0\r\n\r\n", "");
}

static void test_chunked_request_arriving_byte_by_byte_is_done_at_the_last_byte(void)
{
    check_byte_by_byte("POST /post HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "5;name=value\r\nhello\r\nA\r\n, world!!!\r\n0\r\nX-Trailer: 1\r\n\r\n",
                       "hello, world!!!");
}

static void test_chunked_body_with_extensions_and_trailers_is_dechunked_into_scratch(void)
{
    const char *text = "POST /post HTTP/1.1\r\ntransfer-encoding: Chunked\r\n\r\n"
                       "4 ; ext=\"quoted; value\"\r\nWiki\r\n"
                       "00005;a;b=c\r\npedia\r\n"
                       "e\r\n in\r\n\r\nchunks.\r\n"
                       "000;last\r\nExpires: never\r\nX-Checksum: abc\r\n\r\n";
    CU_ASSERT_EQUAL_FATAL(parse(text), DF_HTTP_DONE);
    CU_ASSERT(span_is(req.body, req.body_len, "Wikipedia in\r\n\r\nchunks."));
    CU_ASSERT_PTR_EQUAL(req.body, scratch.data);
    CU_ASSERT_EQUAL(req.body[req.body_len], '\0');
    CU_ASSERT_EQUAL(consumed, strlen(text));
    CU_ASSERT_EQUAL(req.n_headers, 1); /* trailers are not headers */
    CU_ASSERT_PTR_NULL(df_http_header_get(&req, "Expires", NULL));
    /* An empty chunked body still gives a valid, empty body. */
    CU_ASSERT_EQUAL_FATAL(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
                          DF_HTTP_DONE);
    CU_ASSERT_PTR_NOT_NULL(req.body);
    CU_ASSERT_EQUAL(req.body_len, 0);
}

typedef struct refusal {
    const char *text;
    int status;
} refusal;

static void check_refusals(const refusal *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        df_http_result r = parse(cases[i].text);
        if (r != DF_HTTP_ERROR || status != cases[i].status)
            printf("\n  case %zu: got result %d status %d (%s), want %d\n", i, (int)r, status,
                   reason ? reason : "-", cases[i].status);
        CU_ASSERT_EQUAL(r, DF_HTTP_ERROR);
        CU_ASSERT_EQUAL(status, cases[i].status);
        CU_ASSERT_PTR_NULL(req.method); /* nothing half-parsed is handed out */
    }
}

static void test_malformed_request_lines_are_refused_with_400_or_505(void)
{
    static const refusal cases[] = {
        {"GET http://example.com/ HTTP/1.1\r\n\r\n", 400}, /* absolute-form */
        {"OPTIONS * HTTP/1.1\r\n\r\n", 400},               /* asterisk-form */
        {"CONNECT example.com:443 HTTP/1.1\r\n\r\n", 400}, /* authority-form */
        {"GET / HTTP/2.0\r\n\r\n", 505},
        {"GET / HTTP/1.2\r\n\r\n", 505},
        {"GET / HTTP/0.9\r\n\r\n", 505},
        {"GET / HTTPS/1.1\r\n\r\n", 400},
        {"GET / http/1.1\r\n\r\n", 400},
        {"GET / HTTP/1.10\r\n\r\n", 400},
        {"GET / HTTP/1\r\n\r\n", 400},
        {"GET /\r\n\r\n", 400},
        {"GET  / HTTP/1.1\r\n\r\n", 400},
        {"GET / HTTP/1.1 \r\n\r\n", 400},
        {" GET / HTTP/1.1\r\n\r\n", 400},
        {"G(T / HTTP/1.1\r\n\r\n", 400},
        {"GET /a\tb HTTP/1.1\r\n\r\n", 400},
        {"GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n", 400},
        {"GET / HTTP/1.1\n\r\n", 400}, /* bare LF */
        {"\n", 400},
    };
    check_refusals(cases, sizeof cases / sizeof cases[0]);
}

static void test_malformed_header_lines_are_refused_with_400(void)
{
    static const refusal cases[] = {
        {"GET / HTTP/1.1\r\nHost: x\n\r\n", 400},                 /* bare LF */
        {"GET / HTTP/1.1\r\nHost: x\r\n\n", 400},                 /* bare LF ends the head */
        {"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},              /* space before ':' */
        {"GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", 400},             /* tab before ':' */
        {"GET / HTTP/1.1\r\nX-A: 1\r\n  continued\r\n\r\n", 400}, /* obs-fold */
        {"GET / HTTP/1.1\r\nX-A: 1\r\n\tcontinued\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\n: empty-name\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nNo colon\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nX(y): 1\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n", 400}, /* CR inside a value */
        {"GET / HTTP/1.1\r\nX-A: a\x7f\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
    };
    check_refusals(cases, sizeof cases / sizeof cases[0]);
    /* NUL inside a value: strlen cannot carry it. */
    static const char nul[] = "GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n";
    CU_ASSERT_EQUAL(parse_bytes_with(nul, sizeof nul - 1, &limits), DF_HTTP_ERROR);
    CU_ASSERT_EQUAL(status, 400);
}

static void test_ambiguous_framing_is_refused(void)
{
    static const refusal cases[] = {
        {"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n+5", 400},
        {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\nhello", 400},
        {"POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n", 400}, /* 2^64 */
        {"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400},
        /* Identical duplicates too: see parse_content_length(). */
        {"POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\nhello", 400},
        {"POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
         "5\r\nhello\r\n0\r\n\r\n",
         400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 501},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
         501},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", 501},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n", 501},
        {"POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n", 501},
    };
    check_refusals(cases, sizeof cases / sizeof cases[0]);
}

static void test_bad_chunks_are_refused(void)
{
#define CHUNKED "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    static const refusal cases[] = {
        {CHUNKED "zz\r\n", 400},
        {CHUNKED "\r\n", 400},
        {CHUNKED "-5\r\nhello\r\n0\r\n\r\n", 400},
        {CHUNKED "0x5\r\nhello\r\n0\r\n\r\n", 400},
        {CHUNKED "5 \r\nhello\r\n0\r\n\r\n", 400},     /* whitespace without extension */
        {CHUNKED "5 x\r\nhello\r\n0\r\n\r\n", 400},    /* junk after the size */
        {CHUNKED "10000000000000000\r\n", 400},        /* 2^64: overflow */
        {CHUNKED "5\nhello\r\n0\r\n\r\n", 400},        /* bare LF */
        {CHUNKED "5;a\nhello\r\n0\r\n\r\n", 400},      /* bare LF after an extension */
        {CHUNKED "5;a\rb\r\nhello\r\n0\r\n\r\n", 400}, /* CR inside an extension */
        {CHUNKED "5\r\nhelloXY0\r\n\r\n", 400},        /* no CRLF after the data */
        {CHUNKED "5\r\nhello\rX", 400},
        {CHUNKED "5\r\nhelloX", 400}, /* decided before the second byte */
        {CHUNKED "5\r\nhello\r\n0\r\nBad trailer\r\n\r\n", 400},
        {CHUNKED "5\r\nhello\r\n0\r\n\n", 400},
        {CHUNKED "5\r\nhello\r\n0\r\nX: 1\r\n more\r\n\r\n", 400},
    };
#undef CHUNKED
    check_refusals(cases, sizeof cases / sizeof cases[0]);
}

static void test_an_endless_chunk_line_is_refused_instead_of_awaited(void)
{
    size_t head = strlen("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;");
    size_t len = head + 8192;
    char *text = malloc(len);
    memcpy(text, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;", head);
    memset(text + head, 'x', len - head);
    CU_ASSERT_EQUAL(parse_bytes_with(text, head + 100, &limits), DF_HTTP_INCOMPLETE);
    CU_ASSERT_EQUAL(parse_bytes_with(text, len, &limits), DF_HTTP_ERROR);
    CU_ASSERT_EQUAL(status, 400);
    memset(text + head - 2, '0', len - head + 2); /* endless leading zeros too */
    CU_ASSERT_EQUAL(parse_bytes_with(text, len, &limits), DF_HTTP_ERROR);
    CU_ASSERT_EQUAL(status, 400);
    free(text);
}

static void test_more_than_64_headers_is_refused_with_431(void)
{
    df_buf text = DF_BUF_INIT;
    df_buf_append_str(&text, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < DF_HTTP_MAX_HEADERS; i++)
        df_buf_printf(&text, "X-%d: %d\r\n", i, i);
    size_t at_limit = text.len;
    df_buf_append_str(&text, "\r\n");
    CU_ASSERT_EQUAL(parse(text.data), DF_HTTP_DONE);
    CU_ASSERT_EQUAL(req.n_headers, DF_HTTP_MAX_HEADERS);
    text.len = at_limit;
    df_buf_append_str(&text, "X-65: 65\r\n\r\n");
    CU_ASSERT_EQUAL(parse(text.data), DF_HTTP_ERROR);
    CU_ASSERT_EQUAL(status, 431);
    df_buf_free(&text);
}

static void test_header_limit_is_enforced_even_while_incomplete(void)
{
    df_http_limits small = {64, 1 << 20};
    /* Exactly 64 bytes of header section is accepted. */
    const char *fits = "GET / HTTP/1.1\r\nX-Padding: 012345678901234567890123456789012\r\n\r\n";
    CU_ASSERT_EQUAL_FATAL(strlen(fits), 64);
    CU_ASSERT_EQUAL(parse_bytes_with(fits, 64, &small), DF_HTTP_DONE);
    const char *over = "GET / HTTP/1.1\r\nX-Padding: 0123456789012345678901234567890123\r\n\r\n";
    CU_ASSERT_EQUAL(parse_bytes_with(over, strlen(over), &small), DF_HTTP_ERROR);
    CU_ASSERT_EQUAL(status, 431);
    /* A header that never ends: waiting below the limit, refused at it. */
    const char *endless = "GET / HTTP/1.1\r\nX-Endless: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    CU_ASSERT_EQUAL(parse_bytes_with(endless, 63, &small), DF_HTTP_INCOMPLETE);
    CU_ASSERT_EQUAL(parse_bytes_with(endless, 64, &small), DF_HTTP_ERROR);
    CU_ASSERT_EQUAL(status, 431);
    /* Nothing but line ends before the request line counts too. */
    char blank[80];
    for (size_t i = 0; i < sizeof blank; i += 2)
        memcpy(blank + i, "\r\n", 2);
    CU_ASSERT_EQUAL(parse_bytes_with(blank, sizeof blank, &small), DF_HTTP_ERROR);
    CU_ASSERT_EQUAL(status, 431);
}

static void test_trailers_count_against_the_header_limit(void)
{
    /* Trailer lines get what the header section left of the limit; their
     * closing CRLF is not counted (a plain "0\r\n\r\n" always fits). */
    df_http_limits small = {128, 1 << 20};
    const char *head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    int digits = (int)(small.max_header_bytes - strlen(head)) - (int)strlen("X-T: \r\n");
    df_buf text = DF_BUF_INIT;
    df_buf_printf(&text, "%s0\r\nX-T: %0*d\r\n\r\n", head, digits, 0);
    CU_ASSERT_EQUAL(parse_bytes_with(text.data, text.len, &small), DF_HTTP_DONE);
    df_buf_reset(&text);
    df_buf_printf(&text, "%s0\r\nX-T: %0*d\r\n\r\n", head, digits + 1, 0);
    CU_ASSERT_EQUAL(parse_bytes_with(text.data, text.len, &small), DF_HTTP_ERROR);
    CU_ASSERT_EQUAL(status, 431);
    /* ... also while the trailer section is still arriving. */
    df_buf_reset(&text);
    df_buf_printf(&text, "%s0\r\nX-T: %0*d", head, digits + 100, 0);
    CU_ASSERT_EQUAL(parse_bytes_with(text.data, text.len, &small), DF_HTTP_ERROR);
    CU_ASSERT_EQUAL(status, 431);
    df_buf_free(&text);
}

static void test_huge_content_length_is_refused_before_the_body_arrives(void)
{
    CU_ASSERT_EQUAL(parse("POST / HTTP/1.1\r\nContent-Length: 104857600000\r\n\r\n"),
                    DF_HTTP_ERROR);
    CU_ASSERT_EQUAL(status, 413);
    CU_ASSERT_EQUAL(parse("POST / HTTP/1.1\r\nContent-Length: 1048577\r\n\r\n"), DF_HTTP_ERROR);
    CU_ASSERT_EQUAL(status, 413);
    /* Exactly the limit is fine (and waits for its bytes). */
    CU_ASSERT_EQUAL(parse("POST / HTTP/1.1\r\nContent-Length: 1048576\r\n\r\n"),
                    DF_HTTP_INCOMPLETE);
}

static void test_chunked_body_over_the_limit_is_refused_from_the_running_total(void)
{
    /* One chunk announcing too much: refused as soon as its size is read. */
    CU_ASSERT_EQUAL(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n100001\r\n"),
                    DF_HTTP_ERROR);
    CU_ASSERT_EQUAL(status, 413);
    CU_ASSERT_EQUAL(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffff;x"),
                    DF_HTTP_ERROR);
    CU_ASSERT_EQUAL(status, 413);
    /* Small chunks adding up past the limit. */
    df_http_limits small = {8192, 10};
    const char *text = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "6\r\nabcdef\r\n5\r\n";
    CU_ASSERT_EQUAL(parse_bytes_with(text, strlen(text), &small), DF_HTTP_ERROR);
    CU_ASSERT_EQUAL(status, 413);
    text = "POST / HTTP/1.1\r\nTransfer-Encoding: "
           "chunked\r\n\r\n6\r\nabcdef\r\n4\r\nghij\r\n0\r\n\r\n";
    CU_ASSERT_EQUAL(parse_bytes_with(text, strlen(text), &small), DF_HTTP_DONE);
    CU_ASSERT(span_is(req.body, req.body_len, "abcdefghij"));
}

static void test_large_body_arriving_in_64k_pieces_is_parsed_without_rescanning_it(void)
{
    /* 100 MB in 64 KB pieces: 1,600 calls. Each rescans the head only (for
     * Content-Length) or the chunk lines only (chunked, 64 KB chunks). */
    size_t body = (size_t)100 << 20, piece = (size_t)64 << 10;
    df_http_limits big = {8192, body};
    char head[128];
    int head_len =
        snprintf(head, sizeof head, "POST /index HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", body);
    size_t len = (size_t)head_len + body;
    char *text = malloc(len);
    memcpy(text, head, (size_t)head_len);
    memset(text + head_len, 'd', body);
    df_http_result r = DF_HTTP_INCOMPLETE;
    size_t have = 0, calls = 0;
    while (r == DF_HTTP_INCOMPLETE && have < len) {
        have = have + piece < len ? have + piece : len;
        r = df_http_parse(text, have, &big, &req, &scratch, &consumed, &status, &reason);
        calls++;
    }
    CU_ASSERT_EQUAL(r, DF_HTTP_DONE);
    CU_ASSERT_EQUAL(have, len);
    CU_ASSERT_EQUAL(req.body_len, body);
    CU_ASSERT(calls > 1600);
    free(text);

    /* The same body chunked, 64 KB per chunk. */
    df_buf chunked = DF_BUF_INIT;
    df_buf_append_str(&chunked, "POST /index HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    df_buf_reserve(&chunked, body + body / piece * 16 + 16);
    for (size_t at = 0; at < body; at += piece) {
        df_buf_printf(&chunked, "%zx\r\n", piece);
        memset(chunked.data + chunked.len, 'c', piece);
        chunked.len += piece;
        df_buf_append(&chunked, "\r\n", 2);
    }
    df_buf_append_str(&chunked, "0\r\n\r\n");
    r = DF_HTTP_INCOMPLETE;
    have = 0;
    while (r == DF_HTTP_INCOMPLETE && have < chunked.len) {
        have = have + piece < chunked.len ? have + piece : chunked.len;
        r = df_http_parse(chunked.data, have, &big, &req, &scratch, &consumed, &status, &reason);
    }
    CU_ASSERT_EQUAL(r, DF_HTTP_DONE);
    CU_ASSERT_EQUAL(consumed, chunked.len);
    CU_ASSERT_EQUAL(req.body_len, body);
    CU_ASSERT(req.body_len == body && req.body[0] == 'c' && req.body[body - 1] == 'c');
    df_buf_free(&chunked);
}

/* ---- resuming (df_http_parse_resume) ---------------------------------------- */

/* What one parse gave, copied out so that the next parse cannot change it. */
typedef struct outcome {
    df_http_result result;
    int status;
    const char *reason;
    size_t consumed;
    int head_seen; /* req.method set */
    size_t n_headers;
    int keep_alive;
    df_buf body;
} outcome;

static df_http_result parse_resuming(const char *bytes, size_t len, const df_http_limits *lim,
                                     df_http_progress *progress)
{
    free(input);
    input = malloc(len ? len : 1); /* a new buffer each call: progress holds offsets */
    memcpy(input, bytes, len);
    return df_http_parse_resume(input, len, lim, progress, &req, &scratch, &consumed, &status,
                                &reason);
}

static void take_outcome(df_http_result r, outcome *o)
{
    o->result = r;
    o->status = status;
    o->reason = reason;
    o->consumed = consumed;
    o->head_seen = req.method != NULL;
    o->n_headers = req.method ? req.n_headers : 0;
    o->keep_alive = req.method ? req.keep_alive : 0;
    df_buf_reset(&o->body);
    if (req.body) df_buf_append(&o->body, req.body, req.body_len);
}

static int same_outcome(const outcome *a, const outcome *b)
{
    return a->result == b->result && a->status == b->status &&
           (a->reason == b->reason || (a->reason && b->reason && !strcmp(a->reason, b->reason))) &&
           a->consumed == b->consumed && a->head_seen == b->head_seen &&
           a->n_headers == b->n_headers && a->keep_alive == b->keep_alive &&
           a->body.len == b->body.len &&
           (a->body.len == 0 || memcmp(a->body.data, b->body.data, a->body.len) == 0);
}

/* The stateless parse of text[0..n) and a resuming one with `progress`
 * agree; returns the result. */
static df_http_result check_resumed_prefix(const char *text, size_t n, const df_http_limits *lim,
                                           df_http_progress *progress, const char *how)
{
    static outcome want, got;
    take_outcome(parse_bytes_with(text, n, lim), &want);
    take_outcome(parse_resuming(text, n, lim, progress), &got);
    int same = same_outcome(&want, &got);
    CU_ASSERT(same);
    if (!same)
        printf("\n  %s, prefix %zu of %.40s...: stateless %d/%d (%s), resumed %d/%d (%s)\n", how, n,
               text, (int)want.result, want.status, want.reason ? want.reason : "-",
               (int)got.result, got.status, got.reason ? got.reason : "-");
    if (n == strlen(text) || !same) {
        df_buf_free(&want.body);
        df_buf_free(&got.body);
    }
    return want.result;
}

typedef struct resume_case {
    const char *text;
    const df_http_limits *limits;
    df_http_result want;
    int want_status;
} resume_case;

static const df_http_limits tight_body = {8192, 10};
static const df_http_limits tight_head = {128, 1 << 20};

#define CHUNKED "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
static const resume_case resume_cases[] = {
    {CHUNKED "5;name=value\r\nhello\r\nA\r\n, world!!!\r\n0\r\nX-Trailer: 1\r\n\r\n", &limits,
     DF_HTTP_DONE, 0},
    {CHUNKED "4 ; ext=\"q; v\"\r\nWiki\r\n00005;a;b=c\r\npedia\r\ne\r\n in\r\n\r\nchunks.\r\n"
             "000;last\r\nExpires: never\r\n\r\n",
     &limits, DF_HTTP_DONE, 0},
    {CHUNKED "0\r\n\r\n", &limits, DF_HTTP_DONE, 0},
    {CHUNKED "2\r\nxy\r\n1\r\nz\r\n0\r\n\r\nGET /next HTTP/1.1\r\n\r\n", &limits, DF_HTTP_DONE, 0},
    {"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", &limits, DF_HTTP_DONE, 0},
    {CHUNKED "3\r\nabc\r\n1\r\nd\r\n", &limits, DF_HTTP_INCOMPLETE, 0},
    /* Refusals found after earlier chunks were walked (and remembered). */
    {CHUNKED "3\r\nabc\r\n1\r\nd\r\nzz\r\n", &limits, DF_HTTP_ERROR, 400}, /* bad size */
    {CHUNKED "3\r\nabc\r\n1\r\nd\r\n10000000000000000\r\n", &limits, DF_HTTP_ERROR, 400},
    {CHUNKED "3\r\nabc\r\n5 x\r\nhello\r\n0\r\n\r\n", &limits, DF_HTTP_ERROR, 400},
    {CHUNKED "3\r\nabc\r\n5;a\nhello\r\n0\r\n\r\n", &limits, DF_HTTP_ERROR, 400},
    {CHUNKED "3\r\nabc\r\n5\r\nhelloXY0\r\n\r\n", &limits, DF_HTTP_ERROR, 400}, /* no CRLF */
    {CHUNKED "3\r\nabc\r\n5\r\nhello\rX", &limits, DF_HTTP_ERROR, 400},
    {CHUNKED "3\r\nabc\r\n0\r\nBad trailer\r\n\r\n", &limits, DF_HTTP_ERROR, 400},
    {CHUNKED "6\r\nabcdef\r\n4\r\nghij\r\n0\r\n\r\n", &tight_body, DF_HTTP_DONE, 0},
    {CHUNKED "6\r\nabcdef\r\n4\r\nghij\r\n1\r\nk\r\n0\r\n\r\n", &tight_body, DF_HTTP_ERROR, 413},
    /* Trailers: 128 - 48 bytes of head leave 80; these are over. */
    {CHUNKED "3\r\nabc\r\n0\r\nX-T: 0000000000000000000000000000000000000000000000000000000000"
             "000000000000000000000000\r\n\r\n",
     &tight_head, DF_HTTP_ERROR, 431},
};
#undef CHUNKED

static void test_resumed_parse_gives_the_same_result_for_every_split(void)
{
    for (size_t c = 0; c < sizeof resume_cases / sizeof resume_cases[0]; c++) {
        const resume_case *rc = &resume_cases[c];
        size_t len = strlen(rc->text);
        df_http_progress progress;
        /* Two pieces, cut anywhere. */
        for (size_t cut = 0; cut <= len; cut++) {
            df_http_progress_reset(&progress);
            check_resumed_prefix(rc->text, cut, rc->limits, &progress, "two pieces");
            check_resumed_prefix(rc->text, len, rc->limits, &progress, "two pieces");
        }
        /* Byte by byte, one progress throughout. */
        df_http_progress_reset(&progress);
        df_http_result last = DF_HTTP_INCOMPLETE;
        for (size_t n = 0; n <= len; n++)
            last = check_resumed_prefix(rc->text, n, rc->limits, &progress, "byte by byte");
        CU_ASSERT_EQUAL(last, rc->want);
        CU_ASSERT_EQUAL(status, rc->want_status);
        if (last != rc->want || status != rc->want_status)
            printf("\n  case %zu: got %d/%d, want %d/%d\n", c, (int)last, status, (int)rc->want,
                   rc->want_status);
    }
}

/* The gateway's worst case: a body of one-byte chunks arriving in small
 * reads. The walk must look at each chunk line about once (plus the partial
 * line at the end of each read, and the copy once the body is whole): a
 * walk from the body's start on every call would examine ~calls * body / 2
 * bytes, here some 10^9. */
static void test_many_tiny_chunks_in_small_reads_are_walked_once(void)
{
    const size_t chunks = 200000;
    df_buf text = DF_BUF_INIT;
    df_buf_append_str(&text, "POST /index HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    size_t body_start = text.len;
    for (size_t i = 0; i < chunks; i++) {
        char chunk[] = "1\r\n?\r\n";
        chunk[3] = (char)('a' + i % 26);
        df_buf_append(&text, chunk, 6);
    }
    df_buf_append_str(&text, "0\r\n\r\n");
    size_t wire_body = text.len - body_start;

    df_http_limits lim = {8192, 1 << 20};
    df_http_progress progress;
    df_http_progress_reset(&progress);
    df_http_result r = DF_HTTP_INCOMPLETE;
    size_t have = 0, calls = 0;
    uint32_t rng = 12345;
    while (r == DF_HTTP_INCOMPLETE && have < text.len) {
        rng = rng * 1103515245u + 12345u;
        size_t read = 1 + (rng >> 16) % 1024; /* 1..1024 bytes, cutting lines anywhere */
        have = have + read < text.len ? have + read : text.len;
        /* In place, as the gateway does (no copy: 2,000 copies of 1 MB
         * would hide the parser's cost under ASan). */
        r = df_http_parse_resume(text.data, have, &lim, &progress, &req, &scratch, &consumed,
                                 &status, &reason);
        calls++;
    }
    CU_ASSERT_EQUAL_FATAL(r, DF_HTTP_DONE);
    CU_ASSERT_EQUAL(have, text.len);
    CU_ASSERT_EQUAL(consumed, text.len);
    CU_ASSERT_EQUAL_FATAL(req.body_len, chunks);
    size_t wrong = 0;
    for (size_t i = 0; i < chunks; i++)
        wrong += req.body[i] != (char)('a' + i % 26);
    CU_ASSERT_EQUAL(wrong, 0);
    CU_ASSERT(calls > 2000);
    /* Each chunk: its line and CRLF when walked, all six bytes when copied;
     * each call: at most one partial chunk (line and CRLF, 5 bytes) again. */
    uint64_t bound = 2 * (uint64_t)wire_body + 8 * (uint64_t)calls;
    CU_ASSERT(progress.bytes_examined >= wire_body); /* the counter counts */
    CU_ASSERT(progress.bytes_examined <= bound);
    if (progress.bytes_examined > bound)
        printf("\n  %zu calls examined %llu bytes of a %zu-byte body (bound %llu)\n", calls,
               (unsigned long long)progress.bytes_examined, wire_body, (unsigned long long)bound);
    df_buf_free(&text);
}

/* The progress is only a hint: a caller that forgets a reset (or changes
 * the limits) gets the stateless answer, never one from stale offsets. */
static void test_progress_from_another_buffer_is_not_trusted(void)
{
    const char *a = "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "3\r\nabc\r\n4\r\ndefg\r\n5\r\nhijkl\r\n";
    const char *b = "POST /bb HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n";
    df_http_progress progress;
    df_http_progress_reset(&progress);
    CU_ASSERT_EQUAL(parse_resuming(a, strlen(a), &limits, &progress), DF_HTTP_INCOMPLETE);
    CU_ASSERT(progress.next_chunk > progress.body_start); /* something to (mis)trust */
    /* Another request: a different header section. */
    CU_ASSERT_EQUAL(check_resumed_prefix(b, strlen(b), &limits, &progress, "other request"),
                    DF_HTTP_DONE);
    /* The same request, shorter than before (the buffer shifted). */
    df_http_progress_reset(&progress);
    CU_ASSERT_EQUAL(parse_resuming(a, strlen(a), &limits, &progress), DF_HTTP_INCOMPLETE);
    check_resumed_prefix(a, strlen(a) - 10, &limits, &progress, "shorter buffer");
    /* Limits lowered under a remembered walk: 12 bytes walked, 10 allowed. */
    df_http_progress_reset(&progress);
    CU_ASSERT_EQUAL(parse_resuming(a, strlen(a), &limits, &progress), DF_HTTP_INCOMPLETE);
    CU_ASSERT_EQUAL(check_resumed_prefix(a, strlen(a), &tight_body, &progress, "lower limit"),
                    DF_HTTP_ERROR);
    CU_ASSERT_EQUAL(status, 413);
}

static void check_keep_alive(const char *text, int want)
{
    CU_ASSERT_EQUAL_FATAL(parse(text), DF_HTTP_DONE);
    if (req.keep_alive != want) printf("\n  keep_alive %d for %s\n", req.keep_alive, text);
    CU_ASSERT_EQUAL(req.keep_alive, want);
}

static void test_keep_alive_follows_the_version_and_connection_tokens(void)
{
    check_keep_alive("GET / HTTP/1.1\r\n\r\n", 1);
    check_keep_alive("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 0);
    check_keep_alive("GET / HTTP/1.1\r\nConnection: CLOSE\r\n\r\n", 0);
    check_keep_alive("GET / HTTP/1.1\r\nConnection: Upgrade , close\r\n\r\n", 0);
    check_keep_alive("GET / HTTP/1.1\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", 0);
    check_keep_alive("GET / HTTP/1.1\r\nConnection: closed\r\n\r\n", 1);
    check_keep_alive("GET / HTTP/1.0\r\n\r\n", 0);
    check_keep_alive("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 1);
    check_keep_alive("GET / HTTP/1.0\r\nConnection: foo,keep-alive\r\n\r\n", 1);
    check_keep_alive("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", 0);
    /* chunked from an HTTP/1.0 client: answer it, then close. */
    check_keep_alive("POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n"
                     "\r\n0\r\n\r\n",
                     0);
}

static void test_expect_100_continue_is_visible_before_the_body_arrives(void)
{
    const char *head = "POST /post HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 4\r\n\r\n";
    CU_ASSERT_EQUAL(parse(head), DF_HTTP_INCOMPLETE);
    CU_ASSERT_PTR_NOT_NULL(req.method);
    CU_ASSERT_EQUAL(req.expect_continue, 1);
    CU_ASSERT_PTR_NULL(req.body);
    /* While the head itself is incomplete, nothing is reported. */
    CU_ASSERT_EQUAL(parse("POST /post HTTP/1.1\r\nExpect: 100-continue\r\n"), DF_HTTP_INCOMPLETE);
    CU_ASSERT_PTR_NULL(req.method);
    CU_ASSERT_EQUAL(req.expect_continue, 0);
    CU_ASSERT_EQUAL(parse("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n"),
                    DF_HTTP_DONE);
    CU_ASSERT_EQUAL(req.expect_continue, 0);
    CU_ASSERT_EQUAL(parse("POST / HTTP/1.1\r\nExpect: something-else\r\n\r\n"), DF_HTTP_DONE);
    CU_ASSERT_EQUAL(req.expect_continue, 0);
}

static void test_header_lookup_ignores_case_and_trims_the_value(void)
{
    CU_ASSERT_EQUAL_FATAL(parse("POST / HTTP/1.1\r\nContent-TYPE: \t application/json \t\r\n"
                                "X-Empty:\r\nx-twice: first\r\nX-Twice: second\r\n\r\n"),
                          DF_HTTP_DONE);
    size_t len = 99;
    const char *v = df_http_header_get(&req, "content-type", &len);
    CU_ASSERT(span_is(v, len, "application/json"));
    v = df_http_header_get(&req, "CONTENT-TYPE", NULL);
    CU_ASSERT_PTR_NOT_NULL(v);
    v = df_http_header_get(&req, "x-empty", &len);
    CU_ASSERT_PTR_NOT_NULL(v);
    CU_ASSERT_EQUAL(len, 0);
    v = df_http_header_get(&req, "X-TWICE", &len);
    CU_ASSERT(span_is(v, len, "first"));
    CU_ASSERT_PTR_NULL(df_http_header_get(&req, "Content-Typ", &len));
    CU_ASSERT_PTR_NULL(df_http_header_get(&req, "Content-Type-X", &len));
    CU_ASSERT_EQUAL(len, 0);
}

static void test_response_writer_output_is_exact(void)
{
    df_buf out = DF_BUF_INIT;
    df_http_write_response(&out, 200, "application/json", NULL, "{}", 2, 1);
    CU_ASSERT_STRING_EQUAL(out.data, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                                     "Content-Type: application/json\r\n"
                                     "Connection: keep-alive\r\n\r\n{}");
    df_buf_reset(&out);
    df_http_write_response(&out, 503, NULL, "Retry-After: 1\r\nX-A: b\r\n", NULL, 0, 0);
    CU_ASSERT_STRING_EQUAL(out.data, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                                     "Connection: close\r\nRetry-After: 1\r\nX-A: b\r\n\r\n");
    /* Appends: what was there stays. */
    df_http_write_response(&out, 413, "text/plain", NULL, "too big", 7, 0);
    CU_ASSERT(strstr(out.data,
                     "\r\n\r\nHTTP/1.1 413 Content Too Large\r\nContent-Length: 7\r\n"
                     "Content-Type: text/plain\r\nConnection: close\r\n\r\ntoo big") != NULL);
    df_buf_reset(&out);
    /* 204 carries neither Content-Length nor body (RFC 9110 8.6). */
    df_http_write_response(&out, 204, NULL, "Access-Control-Allow-Origin: *\r\n", "x", 1, 1);
    CU_ASSERT_STRING_EQUAL(out.data, "HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n"
                                     "Access-Control-Allow-Origin: *\r\n\r\n");
    df_buf_reset(&out);
    char big[12345];
    memset(big, 'b', sizeof big);
    df_http_write_response(&out, 200, NULL, NULL, big, sizeof big, 1);
    const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 12345\r\nConnection: keep-alive\r\n\r\n";
    CU_ASSERT_EQUAL(out.len, strlen(head) + sizeof big);
    CU_ASSERT_EQUAL(memcmp(out.data, head, strlen(head)), 0);
    df_buf_free(&out);
}

static void test_status_texts_cover_the_codes_the_gateway_answers(void)
{
    static const struct {
        int code;
        const char *text;
    } known[] = {{200, "OK"},
                 {204, "No Content"},
                 {400, "Bad Request"},
                 {404, "Not Found"},
                 {405, "Method Not Allowed"},
                 {408, "Request Timeout"},
                 {413, "Content Too Large"},
                 {415, "Unsupported Media Type"},
                 {431, "Request Header Fields Too Large"},
                 {500, "Internal Server Error"},
                 {501, "Not Implemented"},
                 {503, "Service Unavailable"},
                 {504, "Gateway Timeout"},
                 {505, "HTTP Version Not Supported"}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        CU_ASSERT_STRING_EQUAL(df_http_status_text(known[i].code), known[i].text);
    CU_ASSERT_PTR_NOT_NULL(df_http_status_text(299));
}

static int suite_cleanup(void)
{
    free(input);
    input = NULL;
    df_buf_free(&scratch);
    return 0;
}

void df_test_register(void)
{
    CU_pSuite s = CU_add_suite("http_parser", NULL, suite_cleanup);
    CU_add_test(s, "simple GET", test_simple_get_parses_method_path_version_and_headers);
    CU_add_test(s, "query split off", test_query_is_split_off_the_path);
    CU_add_test(s, "POST with Content-Length",
                test_post_with_content_length_points_the_body_into_the_buffer);
    CU_add_test(s, "pipelined requests", test_pipelined_requests_are_consumed_one_at_a_time);
    CU_add_test(s, "Content-Length byte by byte",
                test_content_length_request_arriving_byte_by_byte_is_done_at_the_last_byte);
    CU_add_test(s, "chunked byte by byte",
                test_chunked_request_arriving_byte_by_byte_is_done_at_the_last_byte);
    CU_add_test(s, "chunked extensions and trailers",
                test_chunked_body_with_extensions_and_trailers_is_dechunked_into_scratch);
    CU_add_test(s, "bad request lines", test_malformed_request_lines_are_refused_with_400_or_505);
    CU_add_test(s, "bad header lines", test_malformed_header_lines_are_refused_with_400);
    CU_add_test(s, "ambiguous framing", test_ambiguous_framing_is_refused);
    CU_add_test(s, "bad chunks", test_bad_chunks_are_refused);
    CU_add_test(s, "endless chunk line", test_an_endless_chunk_line_is_refused_instead_of_awaited);
    CU_add_test(s, "65 headers", test_more_than_64_headers_is_refused_with_431);
    CU_add_test(s, "header limit while incomplete",
                test_header_limit_is_enforced_even_while_incomplete);
    CU_add_test(s, "trailer limit", test_trailers_count_against_the_header_limit);
    CU_add_test(s, "huge Content-Length early",
                test_huge_content_length_is_refused_before_the_body_arrives);
    CU_add_test(s, "chunked total over the limit",
                test_chunked_body_over_the_limit_is_refused_from_the_running_total);
    CU_add_test(s, "100 MB in 64 KB pieces",
                test_large_body_arriving_in_64k_pieces_is_parsed_without_rescanning_it);
    CU_add_test(s, "resumed: same result for every split",
                test_resumed_parse_gives_the_same_result_for_every_split);
    CU_add_test(s, "resumed: 200,000 one-byte chunks walked once",
                test_many_tiny_chunks_in_small_reads_are_walked_once);
    CU_add_test(s, "resumed: stale progress not trusted",
                test_progress_from_another_buffer_is_not_trusted);
    CU_add_test(s, "keep-alive rules", test_keep_alive_follows_the_version_and_connection_tokens);
    CU_add_test(s, "Expect: 100-continue",
                test_expect_100_continue_is_visible_before_the_body_arrives);
    CU_add_test(s, "header lookup", test_header_lookup_ignores_case_and_trims_the_value);
    CU_add_test(s, "response bytes", test_response_writer_output_is_exact);
    CU_add_test(s, "status texts", test_status_texts_cover_the_codes_the_gateway_answers);
}
