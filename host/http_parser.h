/*
 * http_parser.h -- a strict, stateless HTTP/1.1 request parser for the
 * gateway, and the response writer.
 *
 * Stateless: the connection keeps its received bytes and calls
 * df_http_parse() again when more arrive; the parser reports INCOMPLETE
 * until a whole request (headers and body) is there. Each call rescans the
 * header section (at most max_header_bytes); a Content-Length body is never
 * scanned, and a chunked body is copied once, when its last chunk is there.
 * Walking a chunked body's chunk-size lines again on every call would cost
 * O(n^2) for a body of many tiny chunks, so a server keeps a
 * df_http_progress per connection and calls df_http_parse_resume(), which
 * continues the walk where the last call left it.
 *
 * Strict: conflicting or repeated Content-Length (identical duplicates
 * too), Content-Length together with Transfer-Encoding, a transfer coding
 * other than exactly chunked, bad chunk sizes, bare LF line ends, over-long
 * lines, header names with spaces, obs-fold, control bytes, more than one
 * Host, a target not starting with '/', and anything over the limits are
 * refused with the status to answer.
 *
 * Not for: I/O, HTTP/2, responses from other servers.
 */
#ifndef DOCFLOW_HTTP_PARSER_H
#define DOCFLOW_HTTP_PARSER_H

#include <stddef.h>
#include <stdint.h>

#include "docflow/buf.h"

#define DF_HTTP_MAX_HEADERS 64

typedef struct df_http_limits {
    size_t max_header_bytes; /* request line + headers (+ chunked trailers);
                                over: 431, even before the section ends */
    size_t max_body_bytes;   /* decoded body; over: 413, decided from
                                Content-Length or each chunk size, before
                                the body arrives */
} df_http_limits;

typedef struct df_http_header {
    const char *name; /* points into the parsed buffer; not NUL-terminated */
    size_t name_len;
    const char *value; /* leading/trailing spaces trimmed */
    size_t value_len;
} df_http_header;

typedef struct df_http_request {
    const char *method;
    size_t method_len;
    const char *path; /* the target without the query */
    size_t path_len;
    const char *query; /* after '?', or NULL */
    size_t query_len;
    int minor_version;   /* HTTP/1.x: 0 or 1 */
    int keep_alive;      /* 1.1: on unless "Connection: close"; 1.0: off unless
                            "Connection: keep-alive" (close wins); off for a
                            chunked HTTP/1.0 request (RFC 9112 6.1) */
    int expect_continue; /* "Expect: 100-continue" on HTTP/1.1 */
    df_http_header headers[DF_HTTP_MAX_HEADERS];
    size_t n_headers;
    const char *body; /* never NULL on DONE. Content-Length bodies point into
                         the buffer (not NUL-terminated); chunked bodies are
                         `scratch->data` (NUL-terminated) */
    size_t body_len;
} df_http_request;

typedef enum df_http_result {
    DF_HTTP_INCOMPLETE = 0, /* need more bytes */
    DF_HTTP_DONE = 1,       /* a whole request; *consumed bytes used */
    DF_HTTP_ERROR = 2,      /* refuse with *status (400, 413, 431, 501, 505) */
} df_http_result;

/* How far the chunk walk of a chunked body got, kept by the caller between
 * calls on one growing buffer so each call walks only the chunks that are
 * new (see df_http_parse_resume). A zeroed struct is a reset one.
 *
 * The parser only trusts it for the buffer it was made from: it is ignored
 * (and the walk starts over, correctly but slowly) when the buffer shrank or
 * its header section moved or changed. It cannot see a body rewritten in
 * place, so the caller resets it whenever it drops or replaces bytes. */
typedef struct df_http_progress {
    /* Private to the parser. */
    size_t seen_len;    /* len of the last call; 0: nothing remembered */
    size_t body_start;  /* offset of the body the walk belongs to */
    uint64_t head_hash; /* of buf[0..body_start): same header section */
    size_t next_chunk;  /* offset of the first chunk-size line not walked */
    size_t walked_body; /* decoded bytes of the chunks before next_chunk */
    /* For tests: bytes of chunked bodies looked at since the reset (chunk
     * lines, CRLFs and trailers, each time they are scanned, and the data
     * when copied out). Linear in the body when resuming works. */
    uint64_t bytes_examined;
} df_http_progress;

/* Forgets everything: call it when the request it described is consumed
 * (the buffer shifted) and when the connection is opened or reused. */
void df_http_progress_reset(df_http_progress *progress);

/* Parses one request from buf[0..len); empty lines before it are skipped
 * (and consumed).
 *
 * DONE: *req describes the request; its pointers stay valid while buf and
 * `scratch` are unchanged. *consumed (<= len) is where the next pipelined
 * request starts. `scratch` is reset and receives the body only for a
 * chunked request, so it must not be shared between connections parsing at
 * the same time.
 * INCOMPLETE: when the header section is complete, *req already describes
 * it (req->method non-NULL, body NULL) so the caller can answer
 * "Expect: 100-continue" before the body comes; otherwise req->method is
 * NULL. *consumed is 0.
 * ERROR: *status and *reason (static text, e.g. "conflicting Content-Length
 * headers") say what to answer; the framing is unknown from here, so the
 * connection should close after the answer. req->method is NULL.
 *
 * limits, req, scratch, consumed, status and reason are required. *status
 * is 0 and *reason NULL unless ERROR. Thread-safe (no shared state). */
df_http_result df_http_parse(const char *buf, size_t len, const df_http_limits *limits,
                             df_http_request *req, df_buf *scratch, size_t *consumed, int *status,
                             const char **reason);

/* df_http_parse() for a buffer that grows between calls: the same results,
 * refusals and limits, but a chunked body's chunk lines are walked once in
 * all, not once per call, so a request costs time linear in its bytes
 * however it is split. `progress` belongs to one connection (NULL: no
 * resuming, which is df_http_parse); reset it (df_http_progress_reset)
 * after consuming a request and before passing a different buffer. It is
 * left as it is on DONE and ERROR (still valid for the same bytes). Not
 * thread-safe for one `progress`. */
df_http_result df_http_parse_resume(const char *buf, size_t len, const df_http_limits *limits,
                                    df_http_progress *progress, df_http_request *req,
                                    df_buf *scratch, size_t *consumed, int *status,
                                    const char **reason);

/* Case-insensitive (ASCII) lookup of the first header called `name`; NULL
 * when absent. *len (len may be NULL) gets the value's length, 0 if absent. */
const char *df_http_header_get(const df_http_request *req, const char *name, size_t *len);

/* Appends a whole response: status line, Content-Length, Content-Type (when
 * not NULL), Connection (keep-alive or close), `extra_headers` (each ending
 * in "\r\n", may be NULL), the body. 1xx, 204 and 304 responses get neither
 * Content-Length nor body (RFC 9110 8.6). content_type and extra_headers are
 * written as given: they must not come from the client (CRLF injection). */
void df_http_write_response(df_buf *out, int status, const char *content_type,
                            const char *extra_headers, const void *body, size_t body_len,
                            int keep_alive);
/* "OK", "Not Found", ...; "Unknown" for codes it does not know. Static. */
const char *df_http_status_text(int status);

#endif
