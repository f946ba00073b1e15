/*
 * http_parser.c -- the gateway's strict HTTP/1.1 request parser and its
 * response writer.
 *
 * Stateless by design: the connection keeps the bytes it received and calls
 * df_http_parse() again when more arrive, so a request split anywhere (even
 * byte by byte) parses the same as one that came whole, and no half-parsed
 * state can go stale when the connection shifts its buffer. What keeps the
 * repeated calls cheap: the header section is rescanned (bounded by
 * max_header_bytes), a Content-Length body is never looked at, and a chunked
 * body is walked chunk header to chunk header until its last chunk is
 * there; it is copied out (de-chunked into `scratch`) once. The one piece
 * of state: with df_http_parse_resume() the walk starts where the last call
 * stopped, because walking from the body's start on every call costs
 * O(n^2) for a body of tiny chunks (1 MB of 1-byte chunks in 4 KB reads
 * took seconds), which one client could use to pin the gateway's thread.
 *
 * Strict because the gateway may sit behind a proxy: every ambiguity in
 * message framing (two lengths, a length and a coding, odd chunk lines, bare
 * LF) is a request-smuggling vector when the proxy reads it one way and we
 * read it another, so each is refused instead of guessed.
 *
 * Not for: responses from other servers, HTTP/2, the connection's I/O (the
 * gateway's event loop owns that), or what a request means.
 */
#include "http_parser.h"

#include <stdint.h>
#include <string.h>

/* A chunk-size line (size, extensions, CRLF) longer than this is refused:
 * extensions are ignored, so the only reason to send a long one is to make
 * us wait for (and rescan) a line that never ends. */
#define HTTP_MAX_CHUNK_LINE 4096

/* The parse of one buffer: where the bytes are, and the refusal if any. */
typedef struct http_scan {
    const char *buf;
    size_t len;
    const df_http_limits *limits;
    int status;
    const char *reason;
    uint64_t examined; /* chunked-body bytes looked at: see bytes_examined */
} http_scan;

/* Where a chunk walk stands: the next chunk-size line and the decoded bytes
 * before it. It only ever moves past whole, checked chunks, so a later call
 * on the same (grown) buffer can start from it and see what a walk from the
 * body's start would see. */
typedef struct chunk_cursor {
    size_t at;
    size_t total;
} chunk_cursor;

/* What the headers say about the body and the connection. */
typedef struct http_framing {
    int has_length;
    uint64_t content_length;
    int chunked;
    int close_seen;      /* "Connection: close" */
    int keep_alive_seen; /* "Connection: keep-alive" */
} http_framing;

/* Internal steps return DF_HTTP_DONE for "this step is complete",
 * DF_HTTP_INCOMPLETE for "need more bytes", DF_HTTP_ERROR after refuse(). */
static df_http_result refuse(http_scan *s, int status, const char *reason)
{
    s->status = status;
    s->reason = reason;
    return DF_HTTP_ERROR;
}

/* ---- characters ------------------------------------------------------------- */

/* tchar (RFC 9110 5.6.2): what method and header names are made of. */
static int is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Field values and chunk extensions: visible ASCII, SP, HTAB and obs-text.
 * Other control bytes (NUL, a CR not ending the line, DEL) are refused:
 * parsers disagree on them, which is what smuggling feeds on. */
static int is_field_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static unsigned char ascii_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* ASCII case-insensitive equality of p[0..n) and the NUL-terminated `word`
 * (locale-free: header names and tokens are ASCII). */
static int equals_ignoring_case(const char *p, size_t n, const char *word)
{
    size_t i = 0;
    for (; i < n && word[i]; i++)
        if (ascii_lower((unsigned char)p[i]) != ascii_lower((unsigned char)word[i])) return 0;
    return i == n && word[i] == '\0';
}

/* ---- lines ------------------------------------------------------------------ */

/* Finds the LF ending the line that starts at `at`. The LF must come before
 * offset `cap`; when it cannot (len >= cap and no LF below cap) the request
 * is refused with over_status instead of waiting for a line that may never
 * end. Every line must end in CRLF. */
static df_http_result find_line_end(http_scan *s, size_t at, size_t cap, int over_status,
                                    const char *over_reason, size_t *lf)
{
    size_t window = s->len < cap ? s->len : cap;
    const char *nl = at < window ? memchr(s->buf + at, '\n', window - at) : NULL;
    if (!nl) return s->len >= cap ? refuse(s, over_status, over_reason) : DF_HTTP_INCOMPLETE;
    *lf = (size_t)(nl - s->buf);
    if (*lf == at || s->buf[*lf - 1] != '\r') return refuse(s, 400, "line ends in a bare LF");
    return DF_HTTP_DONE;
}

static size_t add_saturating(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* ---- request line ----------------------------------------------------------- */

static df_http_result parse_version(http_scan *s, const char *p, size_t n, df_http_request *req)
{
    /* HTTP-version = "HTTP" "/" DIGIT "." DIGIT, the name case-sensitive. */
    if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || p[5] < '0' || p[5] > '9' || p[6] != '.' ||
        p[7] < '0' || p[7] > '9')
        return refuse(s, 400, "malformed HTTP version");
    if (p[5] != '1' || p[7] > '1') return refuse(s, 505, "only HTTP/1.0 and HTTP/1.1 are served");
    req->minor_version = p[7] - '0';
    return DF_HTTP_DONE;
}

/* method SP request-target SP HTTP-version, exactly one space each. */
static df_http_result parse_request_line(http_scan *s, const char *p, size_t n,
                                         df_http_request *req)
{
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)p[i]))
        i++;
    if (i == 0 || i == n || p[i] != ' ') return refuse(s, 400, "malformed request method");
    req->method = p;
    req->method_len = i;

    size_t target = ++i;
    while (i < n && p[i] > 0x20 && p[i] < 0x7f)
        i++;
    if (i == target || i == n || p[i] != ' ') return refuse(s, 400, "malformed request target");
    /* Only origin-form: absolute-form is for proxies, asterisk-form for
     * OPTIONS *, authority-form for CONNECT; none of them is ours. */
    if (p[target] != '/') return refuse(s, 400, "request target must start with '/'");
    const char *q = memchr(p + target, '?', i - target);
    req->path = p + target;
    req->path_len = q ? (size_t)(q - req->path) : i - target;
    req->query = q ? q + 1 : NULL;
    req->query_len = q ? (size_t)(p + i - (q + 1)) : 0;

    return parse_version(s, p + i + 1, n - i - 1, req);
}

/* ---- header fields ---------------------------------------------------------- */

/* name ":" OWS value OWS, for headers and trailers alike. */
static df_http_result parse_field_line(http_scan *s, const char *p, size_t n, df_http_header *out)
{
    /* A line starting with whitespace continues the previous one (obs-fold);
     * RFC 9112 lets a server refuse it, and a proxy may join it differently. */
    if (is_space(p[0])) return refuse(s, 400, "folded header line (obs-fold)");
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)p[i]))
        i++;
    if (i == 0) return refuse(s, 400, "empty or invalid header name");
    if (i == n || p[i] != ':') {
        /* "Name :" is how smuggling slips a second Content-Length past a
         * proxy that reads "Name " as a different header. */
        if (i < n && is_space(p[i])) return refuse(s, 400, "whitespace before ':' in a header");
        return refuse(s, 400, "invalid character in a header name");
    }
    size_t start = i + 1, end = n;
    for (size_t k = start; k < n; k++)
        if (!is_field_char((unsigned char)p[k]))
            return refuse(s, 400, "control character in a header value");
    while (start < end && is_space(p[start]))
        start++;
    while (end > start && is_space(p[end - 1]))
        end--;
    out->name = p;
    out->name_len = i;
    out->value = p + start;
    out->value_len = end - start;
    return DF_HTTP_DONE;
}

/* Parses field lines from `at` up to and including the empty line; they must
 * end before `cap`. Headers go to req (when not NULL); trailers are checked
 * and dropped. *end gets the offset after the empty line. */
static df_http_result parse_fields(http_scan *s, size_t at, size_t cap, df_http_request *req,
                                   size_t *end)
{
    for (;;) {
        size_t lf;
        const char *over = req ? "header section larger than max_header_bytes"
                               : "trailers larger than what max_header_bytes leaves";
        df_http_result r = find_line_end(s, at, cap, 431, over, &lf);
        if (r != DF_HTTP_DONE) return r;
        size_t line_len = lf - 1 - at;
        if (line_len == 0) {
            *end = lf + 1;
            return DF_HTTP_DONE;
        }
        df_http_header field, *out = &field;
        if (req) {
            if (req->n_headers == DF_HTTP_MAX_HEADERS)
                return refuse(s, 431, "more header fields than allowed");
            out = &req->headers[req->n_headers];
        }
        r = parse_field_line(s, s->buf + at, line_len, out);
        if (r != DF_HTTP_DONE) return r;
        if (req) req->n_headers++;
        at = lf + 1;
    }
}

/* ---- what the headers mean -------------------------------------------------- */

/* Content-Length = 1*DIGIT. Lists ("5, 5"), signs and spaces inside are
 * refused: each is read differently by some parser on the way. */
static df_http_result parse_content_length(http_scan *s, const df_http_header *h, http_framing *f)
{
    if (h->value_len == 0) return refuse(s, 400, "empty Content-Length");
    uint64_t v = 0;
    for (size_t i = 0; i < h->value_len; i++) {
        unsigned char c = (unsigned char)h->value[i];
        if (c < '0' || c > '9') return refuse(s, 400, "Content-Length is not a decimal number");
        if (v > (UINT64_MAX - (c - '0')) / 10) return refuse(s, 400, "Content-Length overflows");
        v = v * 10 + (c - '0');
    }
    /* RFC 9112 6.3 allows merging identical duplicates; we refuse them too
     * (as nginx does): no client of ours sends two, and an intermediary that
     * duplicated one header may have mangled others. */
    if (f->has_length)
        return refuse(s, 400,
                      v == f->content_length ? "repeated Content-Length header"
                                             : "conflicting Content-Length headers");
    f->has_length = 1;
    f->content_length = v;
    return DF_HTTP_DONE;
}

/* Only exactly "chunked": any other coding (or chunked applied twice, or
 * after another) is one we would have to undo and cannot. */
static df_http_result parse_transfer_encoding(http_scan *s, const df_http_header *h,
                                              http_framing *f)
{
    if (f->chunked || !equals_ignoring_case(h->value, h->value_len, "chunked"))
        return refuse(s, 501, "transfer coding other than chunked");
    f->chunked = 1;
    return DF_HTTP_DONE;
}

/* Connection is a comma list of tokens and may be repeated. */
static void parse_connection(const df_http_header *h, http_framing *f)
{
    const char *p = h->value, *end = h->value + h->value_len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *item_end = comma ? comma : end;
        while (p < item_end && is_space(*p))
            p++;
        const char *q = item_end;
        while (q > p && is_space(q[-1]))
            q--;
        if (equals_ignoring_case(p, (size_t)(q - p), "close")) f->close_seen = 1;
        if (equals_ignoring_case(p, (size_t)(q - p), "keep-alive")) f->keep_alive_seen = 1;
        p = comma ? comma + 1 : end;
    }
}

static df_http_result read_framing(http_scan *s, df_http_request *req, http_framing *f)
{
    int hosts = 0;
    for (size_t i = 0; i < req->n_headers; i++) {
        const df_http_header *h = &req->headers[i];
        df_http_result r = DF_HTTP_DONE;
        if (equals_ignoring_case(h->name, h->name_len, "content-length"))
            r = parse_content_length(s, h, f);
        else if (equals_ignoring_case(h->name, h->name_len, "transfer-encoding"))
            r = parse_transfer_encoding(s, h, f);
        else if (equals_ignoring_case(h->name, h->name_len, "connection"))
            parse_connection(h, f);
        else if (equals_ignoring_case(h->name, h->name_len, "host"))
            hosts++;
        else if (equals_ignoring_case(h->name, h->name_len, "expect"))
            req->expect_continue = equals_ignoring_case(h->value, h->value_len, "100-continue");
        if (r != DF_HTTP_DONE) return r;
    }
    /* The classic smuggling pair: a proxy framing by one, us by the other. */
    if (f->has_length && f->chunked)
        return refuse(s, 400, "both Content-Length and Transfer-Encoding");
    /* Two Hosts may route differently at a proxy and here (RFC 9112 3.2).
     * A missing Host is accepted: hand-written clients omit it, and we serve
     * one site whatever it says. */
    if (hosts > 1) return refuse(s, 400, "more than one Host header");
    /* HTTP/1.0 clients cannot wait for 100 Continue (RFC 9110 10.1.1). */
    if (req->minor_version == 0) req->expect_continue = 0;
    if (req->minor_version == 1)
        req->keep_alive = !f->close_seen;
    else
        req->keep_alive = f->keep_alive_seen && !f->close_seen;
    /* RFC 9112 6.1: chunked from an HTTP/1.0 client means its framing cannot
     * be trusted past this message; answer it, then close. */
    if (f->chunked && req->minor_version == 0) req->keep_alive = 0;
    if (f->has_length && f->content_length > s->limits->max_body_bytes)
        return refuse(s, 413, "body larger than max_body_bytes");
    return DF_HTTP_DONE;
}

/* ---- chunked bodies --------------------------------------------------------- */

/* chunk-size [ BWS ";" chunk-ext ] CRLF at `at`: *size gets the size, *next
 * the offset after the CRLF. The size is checked against what the body may
 * still hold as soon as its digits end, before the line or data arrive. */
static df_http_result parse_chunk_line(http_scan *s, size_t at, size_t room, uint64_t *size,
                                       size_t *next)
{
    const char *p = s->buf;
    size_t i = at, cap = add_saturating(at, HTTP_MAX_CHUNK_LINE);
    uint64_t v = 0;
    int d;
    while (i < s->len && (d = hex_value((unsigned char)p[i])) >= 0) {
        if (v > (UINT64_MAX >> 4)) return refuse(s, 400, "chunk size overflows");
        v = (v << 4) | (uint64_t)d;
        if (++i >= cap) return refuse(s, 400, "chunk size line too long");
    }
    if (i == s->len) return DF_HTTP_INCOMPLETE;
    if (i == at) return refuse(s, 400, "chunk size is not hexadecimal");
    if (v > room) return refuse(s, 413, "body larger than max_body_bytes");
    /* Extensions are ignored, but must look like one (BWS ";" ...) and stay
     * on the line. */
    size_t digits_end = i;
    while (i < s->len && p[i] != '\r') {
        if (p[i] == '\n') return refuse(s, 400, "line ends in a bare LF");
        if (!is_field_char((unsigned char)p[i]))
            return refuse(s, 400, "control character in a chunk extension");
        if (++i >= cap) return refuse(s, 400, "chunk size line too long");
    }
    size_t ext = digits_end;
    while (ext < i && is_space(p[ext]))
        ext++;
    /* Whitespace must lead to a ';': "5 \r\n" is no chunk line. */
    int bad_ext = ext < i ? p[ext] != ';' : ext > digits_end && i < s->len;
    if (bad_ext) return refuse(s, 400, "malformed chunk extension");
    if (i + 1 >= s->len) return DF_HTTP_INCOMPLETE;
    if (p[i + 1] != '\n') return refuse(s, 400, "chunk size line not ended by CRLF");
    *size = v;
    *next = i + 2;
    return DF_HTTP_DONE;
}

/* Walks the chunks from `cur` to the end of the trailer section, moving
 * `cur` past each whole chunk. With `out` NULL it only checks and measures
 * (*end, cur->total); with `out` it appends the data, which the caller does
 * once, from the body's start, after a walk without `out` said DONE.
 * Trailers use what the header section (header_len bytes) left of
 * max_header_bytes, plus their closing CRLF; they are rescanned from the
 * last chunk on each call, which that limit bounds. */
static df_http_result walk_chunks(http_scan *s, chunk_cursor *cur, size_t header_len, df_buf *out,
                                  size_t *end)
{
    size_t max_body = s->limits->max_body_bytes, at;
    for (;;) {
        uint64_t size;
        df_http_result r = parse_chunk_line(s, cur->at, max_body - cur->total, &size, &at);
        /* INCOMPLETE means the line was scanned to the end of the buffer. */
        s->examined += (r == DF_HTTP_DONE ? at : s->len) - cur->at;
        if (r != DF_HTTP_DONE) return r;
        if (size == 0) break;
        if (s->len - at < size) return DF_HTTP_INCOMPLETE;
        at += (size_t)size;
        s->examined += s->len - at < 2 ? s->len - at : 2;
        if (s->len - at < 2) {
            if (s->len > at && s->buf[at] != '\r')
                return refuse(s, 400, "chunk data not followed by CRLF");
            return DF_HTTP_INCOMPLETE;
        }
        if (s->buf[at] != '\r' || s->buf[at + 1] != '\n')
            return refuse(s, 400, "chunk data not followed by CRLF");
        if (out) {
            df_buf_append(out, s->buf + at - (size_t)size, (size_t)size);
            s->examined += size;
        }
        cur->at = at + 2;
        cur->total += (size_t)size;
    }
    size_t budget =
        s->limits->max_header_bytes > header_len ? s->limits->max_header_bytes - header_len : 0;
    size_t cap = add_saturating(at, add_saturating(budget, 2));
    df_http_result r = parse_fields(s, at, cap, NULL, end);
    s->examined += (r == DF_HTTP_DONE ? *end : s->len < cap ? s->len : cap) - at;
    return r;
}

/* `walk` starts at the body (or where an earlier call's walk stopped) and
 * is left where this one stopped. */
static df_http_result read_chunked_body(http_scan *s, size_t body_start, chunk_cursor *walk,
                                        df_http_request *req, df_buf *scratch, size_t *consumed)
{
    size_t end;
    df_http_result r = walk_chunks(s, walk, body_start, NULL, &end);
    if (r != DF_HTTP_DONE) return r;
    df_buf_reset(scratch);
    df_buf_reserve(scratch, walk->total); /* also makes data non-NULL for an empty body */
    chunk_cursor copy = {body_start, 0};
    (void)walk_chunks(s, &copy, body_start, scratch, &end); /* DONE again */
    scratch->data[scratch->len] = '\0';
    req->body = scratch->data;
    req->body_len = scratch->len;
    *consumed = end;
    return DF_HTTP_DONE;
}

/* ---- resuming --------------------------------------------------------------- */

/* FNV-1a: tells one header section from another. Not a defence against an
 * attacker (who controls the bytes but not our state); a guard against a
 * caller that forgot a reset. */
static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3u;
    return h;
}

/* Where this call's walk may start: where the last one stopped, if the
 * progress can belong to this buffer (it only grew, the header section is
 * the same, the offsets are consistent and at a chunk boundary, and the
 * walked body is within today's limit); otherwise the body's start. Any
 * doubt costs one walk from the start, never a wrong answer for a caller
 * that keeps the contract. */
static chunk_cursor resume_point(const http_scan *s, const df_http_progress *p, size_t body_start,
                                 uint64_t head_hash)
{
    chunk_cursor fresh = {body_start, 0};
    if (!p || p->seen_len == 0 || p->seen_len > s->len || p->body_start != body_start ||
        p->head_hash != head_hash)
        return fresh;
    if (p->next_chunk < body_start || p->next_chunk > p->seen_len ||
        p->walked_body > p->next_chunk - body_start || p->walked_body > s->limits->max_body_bytes)
        return fresh;
    if (s->buf[p->next_chunk - 2] != '\r' || s->buf[p->next_chunk - 1] != '\n') return fresh;
    chunk_cursor resumed = {p->next_chunk, p->walked_body};
    return resumed;
}

static void remember(df_http_progress *p, const http_scan *s, size_t body_start, uint64_t head_hash,
                     const chunk_cursor *walk)
{
    p->seen_len = s->len;
    p->body_start = body_start;
    p->head_hash = head_hash;
    p->next_chunk = walk->at;
    p->walked_body = walk->total;
}

void df_http_progress_reset(df_http_progress *progress)
{
    memset(progress, 0, sizeof *progress);
}

/* ---- the parser ------------------------------------------------------------- */

static void request_clear(df_http_request *req)
{
    req->method = NULL;
    req->method_len = 0;
    req->path = req->query = NULL;
    req->path_len = req->query_len = 0;
    req->minor_version = 0;
    req->keep_alive = 0;
    req->expect_continue = 0;
    req->n_headers = 0;
    req->body = NULL;
    req->body_len = 0;
}

/* The header section: optional empty lines (RFC 9112 2.2 lets a server skip
 * the CRLF some clients send after a body), the request line, the fields.
 * *end gets the offset of the body. */
static df_http_result parse_head(http_scan *s, df_http_request *req, size_t *end)
{
    size_t at = 0, cap = s->limits->max_header_bytes, lf;
    while (s->len - at >= 2 && s->buf[at] == '\r' && s->buf[at + 1] == '\n')
        at += 2;
    df_http_result r =
        find_line_end(s, at, cap, 431, "header section larger than max_header_bytes", &lf);
    if (r != DF_HTTP_DONE) return r;
    r = parse_request_line(s, s->buf + at, lf - 1 - at, req);
    if (r != DF_HTTP_DONE) return r;
    return parse_fields(s, lf + 1, cap, req, end);
}

df_http_result df_http_parse_resume(const char *buf, size_t len, const df_http_limits *limits,
                                    df_http_progress *progress, df_http_request *req,
                                    df_buf *scratch, size_t *consumed, int *status,
                                    const char **reason)
{
    http_scan s = {buf, len, limits, 0, NULL, 0};
    http_framing f = {0};
    size_t body_start = 0;
    *consumed = 0;
    request_clear(req);

    df_http_result r = parse_head(&s, req, &body_start);
    if (r == DF_HTTP_DONE) r = read_framing(&s, req, &f);
    if (r == DF_HTTP_DONE && f.chunked) {
        /* The header section is rescanned on every call anyway, so hashing
         * it costs no more than that. */
        uint64_t head_hash = progress ? hash_bytes(buf, body_start) : 0;
        chunk_cursor walk = resume_point(&s, progress, body_start, head_hash);
        r = read_chunked_body(&s, body_start, &walk, req, scratch, consumed);
        if (progress) remember(progress, &s, body_start, head_hash, &walk);
    } else if (r == DF_HTTP_DONE) {
        size_t length = f.has_length ? (size_t)f.content_length : 0;
        if (len - body_start < length) {
            r = DF_HTTP_INCOMPLETE;
        } else {
            req->body = buf + body_start;
            req->body_len = length;
            *consumed = body_start + length;
        }
    }
    /* A request whose head is complete keeps it in *req while its body is
     * on the way (the gateway answers 100-continue from it); otherwise no
     * field of *req may be trusted. */
    if (r == DF_HTTP_INCOMPLETE && body_start == 0) request_clear(req);
    if (r == DF_HTTP_ERROR) request_clear(req);
    if (progress) progress->bytes_examined += s.examined;
    *status = s.status;
    *reason = s.reason;
    return r;
}

df_http_result df_http_parse(const char *buf, size_t len, const df_http_limits *limits,
                             df_http_request *req, df_buf *scratch, size_t *consumed, int *status,
                             const char **reason)
{
    return df_http_parse_resume(buf, len, limits, NULL, req, scratch, consumed, status, reason);
}

const char *df_http_header_get(const df_http_request *req, const char *name, size_t *len)
{
    for (size_t i = 0; i < req->n_headers; i++) {
        const df_http_header *h = &req->headers[i];
        if (!equals_ignoring_case(h->name, h->name_len, name)) continue;
        if (len) *len = h->value_len;
        return h->value;
    }
    if (len) *len = 0;
    return NULL;
}

/* ---- responses -------------------------------------------------------------- */

/* RFC 9110's reason phrases (413 was "Payload Too Large" before it). */
static const struct {
    int code;
    const char *text;
} status_texts[] = {
    {100, "Continue"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {204, "No Content"},
    {304, "Not Modified"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {411, "Length Required"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {417, "Expectation Failed"},
    {422, "Unprocessable Content"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
};

const char *df_http_status_text(int status)
{
    for (size_t i = 0; i < sizeof status_texts / sizeof status_texts[0]; i++)
        if (status_texts[i].code == status) return status_texts[i].text;
    return "Unknown";
}

/* Decimal without printf: this runs once per response on the hot path. */
static void append_decimal(df_buf *out, uint64_t v)
{
    char digits[24];
    size_t n = sizeof digits;
    do {
        digits[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    df_buf_append(out, digits + n, sizeof digits - n);
}

void df_http_write_response(df_buf *out, int status, const char *content_type,
                            const char *extra_headers, const void *body, size_t body_len,
                            int keep_alive)
{
    /* RFC 9110 8.6: no Content-Length (and no body) in 1xx, 204 and 304
     * responses; a client would otherwise wait for bytes that never come. */
    int bodiless = status < 200 || status == 204 || status == 304;
    size_t ct_len = content_type ? strlen(content_type) : 0;
    size_t extra_len = extra_headers ? strlen(extra_headers) : 0;
    df_buf_reserve(out, 128 + ct_len + extra_len + (bodiless ? 0 : body_len));

    df_buf_append(out, "HTTP/1.1 ", 9);
    append_decimal(out, status < 0 ? 0 : (uint64_t)status);
    df_buf_append_char(out, ' ');
    df_buf_append_str(out, df_http_status_text(status));
    df_buf_append(out, "\r\n", 2);
    if (!bodiless) {
        df_buf_append(out, "Content-Length: ", 16);
        append_decimal(out, body_len);
        df_buf_append(out, "\r\n", 2);
    }
    if (content_type) {
        df_buf_append(out, "Content-Type: ", 14);
        df_buf_append(out, content_type, ct_len);
        df_buf_append(out, "\r\n", 2);
    }
    df_buf_append_str(out, keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
    if (extra_headers) df_buf_append(out, extra_headers, extra_len);
    df_buf_append(out, "\r\n", 2);
    if (!bodiless && body_len) df_buf_append(out, body, body_len);
}
