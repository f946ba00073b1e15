/*
 * hub_registry.c -- the OCI distribution client: one libcurl easy handle per
 * registry (connections are kept alive between requests), the 401 dance
 * (basic, bearer token), blob upload and verified download, manifests, tags.
 *
 * How Debian's docker-registry 2.8.2 behaves, and so why several things here
 * look the way they do, is recorded in shared/notes/oci-registry.md; the
 * gotchas are cited where the code handles them ("gotcha N").
 *
 * Not here: what a docflow package is (hub_package / hub_store), pure parsing
 * (hub_registry_parse.c), credentials storage (hub_auth.c).
 */
#include "hub_registry.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "docflow/log.h"
#include "hub_auth.h"
#include "hub_registry_parse.h"

#define CONNECT_TIMEOUT_S   10L
#define LOW_SPEED_BYTES     1L  /* below this many bytes/s for LOW_SPEED_TIME_S: stalled */
#define LOW_SPEED_TIME_S    30L /* DOCFLOW_HUB_LOW_SPEED_TIME overrides (tests, slow links) */
#define MAX_REDIRECTS       5L
#define MANIFEST_MAX        (16u << 20) /* the spec asks for at least 4 MB */
#define TAGS_PAGE_MAX       (16u << 20)
#define BUFFER_BLOB_MAX     (64u << 20) /* blob_pull_buffer with size 0 (unknown) */
#define ERROR_BODY_MAX      (64u << 10)
#define TAGS_PAGES_MAX      10000
#define TOKEN_EXPIRY_MARGIN 10.0 /* s: renew a token this long before it expires */

/* Every manifest kind a generic client may meet. Gotcha 1: without an OCI
 * type here the registry answers an OCI manifest with 404, not 406. */
static const char MANIFEST_ACCEPT[] = "Accept: application/vnd.oci.image.manifest.v1+json, "
                                      "application/vnd.oci.image.index.v1+json, "
                                      "application/vnd.docker.distribution.manifest.v2+json, "
                                      "application/vnd.docker.distribution.manifest.list.v2+json";

struct hub_registry {
    CURL *curl;
    char *base; /* normal form: "http://127.0.0.1:5000" */
    int insecure;
    char *ca_cert;
    char *username; /* NULL: anonymous */
    char *password;
    int creds_from_file; /* for messages: whose credentials were refused */
    int send_basic;      /* the registry asked for Basic once: send it up front */
    hub_auth_tokens *tokens;
    hub_progress_fn progress;
    void *progress_ctx;
    long low_speed_time;
    char curl_err[CURL_ERROR_SIZE];
};

/* ---------------------------------------------------------------- requests */

/* What to send. `scope` is the bearer scope the request needs
 * ("repository:<repo>:pull" or ":pull,push"); NULL for the registry root. */
typedef struct reg_req {
    const char *method; /* GET HEAD POST PUT PATCH DELETE */
    const char *url;    /* absolute */
    const char *scope;
    const char *accept_header; /* a full "Accept: ..." line, or NULL */
    const char *content_type;  /* PUT/PATCH bodies */
    const char *content_range; /* PATCH: "start-end" */
    const char *body;          /* request body in memory, or */
    int body_fd;               /* ... from a file (when body is NULL and body_len > 0) */
    uint64_t body_off, body_len;
    int progress; /* report this transfer through opts->progress */
    uint64_t progress_base, progress_total;
} reg_req;

/* A streaming consumer of a 2xx body (blob downloads): 0 to go on, -1 to
 * abort the transfer. */
typedef int (*body_sink_fn)(void *ctx, const char *data, size_t len);

/* What came back: the final response's status and headers (a redirect's are
 * discarded when the next status line arrives). */
typedef struct reg_resp {
    long status;
    char *location, *digest, *content_type, *link, *range;
    hub_auth_challenge challenge; /* Bearer preferred over Basic */
    df_buf body;                  /* 2xx body when there is no sink */
    df_buf error_body;            /* non-2xx body, capped */
    size_t body_cap;
    int body_overflow;
    body_sink_fn sink;
    void *sink_ctx;
    int sink_aborted;
    char *effective_url; /* after redirects: what relative Locations resolve against */
} reg_resp;

typedef struct body_src {
    const reg_req *req;
    uint64_t pos;
} body_src;

typedef struct progress_ctx {
    hub_registry *r;
    const reg_req *req;
    uint64_t last;
} progress_ctx;

static void resp_clear_headers(reg_resp *resp)
{
    free(resp->location);
    free(resp->digest);
    free(resp->content_type);
    free(resp->link);
    free(resp->range);
    resp->location = resp->digest = resp->content_type = resp->link = resp->range = NULL;
    hub_auth_challenge_free(&resp->challenge);
}

static void resp_reset(reg_resp *resp)
{
    resp_clear_headers(resp);
    resp->status = 0;
    df_buf_reset(&resp->body);
    df_buf_reset(&resp->error_body);
    resp->body_overflow = resp->sink_aborted = 0;
    free(resp->effective_url);
    resp->effective_url = NULL;
}

static void resp_free(reg_resp *resp)
{
    resp_reset(resp);
    df_buf_free(&resp->body);
    df_buf_free(&resp->error_body);
}

static int is_2xx(long status)
{
    return status >= 200 && status < 300;
}

static void set_header(char **slot, const char *value, size_t n)
{
    free(*slot);
    *slot = strndup(value, n);
}

/* Several Link headers are one comma-separated list. */
static void add_link(reg_resp *resp, const char *v, size_t n)
{
    char *joined = NULL;
    if (asprintf(&joined, "%s%s%.*s", resp->link ? resp->link : "", resp->link ? ", " : "", (int)n,
                 v) < 0)
        abort();
    free(resp->link);
    resp->link = joined;
}

/* Keeps the most useful challenge: Bearer over Basic over the rest. */
static void add_challenge(reg_resp *resp, const char *v, size_t n)
{
    char *value = strndup(v, n);
    hub_auth_challenge c = {0};
    if (hub_auth_challenge_parse(value, &c) == DF_OK &&
        (resp->challenge.scheme != HUB_AUTH_BEARER || c.scheme == HUB_AUTH_BEARER)) {
        hub_auth_challenge_free(&resp->challenge);
        resp->challenge = c;
    } else {
        hub_auth_challenge_free(&c);
    }
    free(value);
}

static size_t on_header(char *line, size_t size, size_t nitems, void *ctx)
{
    reg_resp *resp = ctx;
    size_t total = size * nitems, n = total;
    while (n && (line[n - 1] == '\r' || line[n - 1] == '\n'))
        n--;
    if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        /* a new response (after a redirect or 100 Continue) */
        resp_clear_headers(resp);
        const char *sp = memchr(line, ' ', n);
        resp->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        return total;
    }
    const char *colon = memchr(line, ':', n);
    if (!colon) return total;
    size_t name_len = (size_t)(colon - line);
    const char *v = colon + 1;
    while (v < line + n && (*v == ' ' || *v == '\t'))
        v++;
    size_t vlen = (size_t)(line + n - v);
    /* Header names are case-insensitive: over HTTP/2 they arrive lowercase. */
#define IS(name) (name_len == sizeof name - 1 && strncasecmp(line, name, name_len) == 0)
    if (IS("location"))
        set_header(&resp->location, v, vlen);
    else if (IS("docker-content-digest"))
        set_header(&resp->digest, v, vlen);
    else if (IS("content-type"))
        set_header(&resp->content_type, v, vlen);
    else if (IS("range"))
        set_header(&resp->range, v, vlen);
    else if (IS("link"))
        add_link(resp, v, vlen);
    else if (IS("www-authenticate"))
        add_challenge(resp, v, vlen);
#undef IS
    return total;
}

static size_t on_body(char *data, size_t size, size_t nitems, void *ctx)
{
    reg_resp *resp = ctx;
    size_t n = size * nitems;
    if (!is_2xx(resp->status)) {
        if (resp->error_body.len < ERROR_BODY_MAX)
            df_buf_append(&resp->error_body, data,
                          n < ERROR_BODY_MAX - resp->error_body.len
                              ? n
                              : ERROR_BODY_MAX - resp->error_body.len);
        return n;
    }
    if (resp->sink) {
        if (resp->sink(resp->sink_ctx, data, n) != 0) {
            resp->sink_aborted = 1;
            return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
        }
        return n;
    }
    if (resp->body.len + n > resp->body_cap) {
        resp->body_overflow = 1;
        return 0;
    }
    df_buf_append(&resp->body, data, n);
    return n;
}

static size_t on_read(char *out, size_t size, size_t nitems, void *ctx)
{
    body_src *src = ctx;
    uint64_t left = src->req->body_len - src->pos;
    size_t n = size * nitems < left ? size * nitems : (size_t)left;
    if (n == 0) return 0;
    if (src->req->body) {
        memcpy(out, src->req->body + src->pos, n);
    } else {
        ssize_t got;
        do
            got = pread(src->req->body_fd, out, n, (off_t)(src->req->body_off + src->pos));
        while (got < 0 && errno == EINTR);
        if (got <= 0) return CURL_READFUNC_ABORT; /* the file shrank or failed */
        n = (size_t)got;
    }
    src->pos += n;
    return n;
}

/* libcurl rewinds the body when it must send it again (a redirect, an auth
 * round). */
static int on_seek(void *ctx, curl_off_t offset, int origin)
{
    body_src *src = ctx;
    if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > src->req->body_len)
        return CURL_SEEKFUNC_FAIL;
    src->pos = (uint64_t)offset;
    return CURL_SEEKFUNC_OK;
}

static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    progress_ctx *p = ctx;
    const reg_req *req = p->req;
    int upload = req->body_len > 0;
    uint64_t now = req->progress_base + (uint64_t)(upload ? ulnow : dlnow);
    uint64_t total =
        req->progress_total ? req->progress_total : (uint64_t)(upload ? ultotal : dltotal);
    if (now != p->last) {
        p->last = now;
        p->r->progress(p->r->progress_ctx, now, total);
    }
    return 0;
}

static double monotonic_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The options every request gets; curl_easy_reset() keeps the connection
 * cache, so resetting per request does not cost the keep-alive. */
static void set_common_options(hub_registry *r, reg_resp *resp)
{
    CURL *c = r->curl;
    curl_easy_reset(c);
    r->curl_err[0] = '\0';
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->curl_err);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "docflow-hub/" DOCFLOW_VERSION);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_BYTES);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, r->low_speed_time);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (r->ca_cert) curl_easy_setopt(c, CURLOPT_CAINFO, r->ca_cert);
    if (r->insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
}

static void set_method(CURL *c, const reg_req *req, body_src *src)
{
    const char *m = req->method;
    if (!strcmp(m, "HEAD")) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (!strcmp(m, "POST")) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
    } else if (!strcmp(m, "PUT") || !strcmp(m, "PATCH")) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, src);
        curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(c, CURLOPT_SEEKDATA, src);
        if (!strcmp(m, "PATCH")) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PATCH");
    } else if (strcmp(m, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
    }
}

static int transfer_error(hub_registry *r, const reg_req *req, CURLcode code, const char *what,
                          df_error *err)
{
    const char *detail = r->curl_err[0] ? r->curl_err : curl_easy_strerror(code);
    /* the query of an upload URL is a long opaque _state token: not for humans */
    int url_len = (int)strcspn(req->url, "?");
    switch (code) {
    case CURLE_COULDNT_CONNECT:
        return df_error_set(err, DF_E_IO,
                            "registry %s is not reachable: %s (is the registry running? is the URL "
                            "right?)",
                            r->base, detail);
    case CURLE_COULDNT_RESOLVE_HOST:
        return df_error_set(err, DF_E_IO, "registry %s: cannot resolve the host name: %s", r->base,
                            detail);
    case CURLE_OPERATION_TIMEDOUT:
        return df_error_set(err, DF_E_TIMEOUT,
                            "registry %s: %s: %s %.*s timed out (no progress for %ld s or no "
                            "connection within %ld s): %s",
                            r->base, what, req->method, url_len, req->url, r->low_speed_time,
                            CONNECT_TIMEOUT_S, detail);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
        return df_error_set(err, DF_E_IO,
                            "registry %s: the TLS certificate is not trusted: %s (give the "
                            "registry's CA with --ca-cert FILE, or --insecure to skip the check)",
                            r->base, detail);
    case CURLE_SSL_CONNECT_ERROR:
        return df_error_set(err, DF_E_IO,
                            "registry %s: TLS handshake failed: %s (if the registry serves plain "
                            "http, use http://)",
                            r->base, detail);
    case CURLE_READ_ERROR:
    case CURLE_ABORTED_BY_CALLBACK:
        return df_error_set(err, DF_E_IO, "registry %s: %s: reading the upload failed: %s", r->base,
                            what, detail);
    default:
        return df_error_set(err, DF_E_IO, "registry %s: %s: %s %.*s failed: %s", r->base, what,
                            req->method, url_len, req->url, detail);
    }
}

/* One HTTP exchange with the given credentials. DF_OK whenever a response
 * arrived (any status); an error when the transfer itself failed. */
static int perform_once(hub_registry *r, const reg_req *req, reg_resp *resp, const char *bearer,
                        int basic, const char *what, df_error *err)
{
    CURL *c = r->curl;
    resp_reset(resp);
    set_common_options(r, resp);
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    body_src src = {req, 0};
    set_method(c, req, &src);
    struct curl_slist *headers = NULL;
    char *line = NULL;
    if (req->accept_header) headers = curl_slist_append(headers, req->accept_header);
    /* Gotcha 3: never let a form Content-Type reach the registry (it would
     * parse the body as a form); an empty value removes curl's default. */
    if (asprintf(&line, "Content-Type:%s%s", req->content_type ? " " : "",
                 req->content_type ? req->content_type : "") < 0)
        abort();
    headers = curl_slist_append(headers, line);
    free(line);
    if (req->content_range) {
        if (asprintf(&line, "Content-Range: %s", req->content_range) < 0) abort();
        headers = curl_slist_append(headers, line);
        free(line);
    }
    /* No "Expect: 100-continue" wait: auth is settled by the HEAD/POST that
     * precede every body, so the extra round trip buys nothing. */
    headers = curl_slist_append(headers, "Expect:");
    if (bearer) {
        if (asprintf(&line, "Authorization: Bearer %s", bearer) < 0) abort();
        headers = curl_slist_append(headers, line);
        free(line);
    } else if (basic) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, r->username);
        curl_easy_setopt(c, CURLOPT_PASSWORD, r->password);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    progress_ctx prog = {r, req, (uint64_t)-1};
    if (req->progress && r->progress) {
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, &prog);
    }
    CURLcode code = curl_easy_perform(c);
    curl_slist_free_all(headers);
    long new_connections = 0;
    char *eff = NULL;
    curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &new_connections);
    curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &eff);
    resp->effective_url = strdup(eff ? eff : req->url);
    df_log(DF_LOG_DEBUG, "hub", "registry: %s %s -> %ld%s%s", req->method, req->url, resp->status,
           new_connections ? " (new connection)" : "",
           bearer  ? " [bearer]"
           : basic ? " [basic]"
                   : "");
    /* a sink or size cap that stopped the body is the caller's to report */
    if (code == CURLE_WRITE_ERROR && (resp->sink_aborted || resp->body_overflow)) return DF_OK;
    if (code != CURLE_OK) return transfer_error(r, req, code, what, err);
    return DF_OK;
}

/* ---------------------------------------------------------------- auth */

static int fetch_token(hub_registry *r, const hub_auth_challenge *ch, const char *scope_key,
                       df_error *err)
{
    if (!ch->realm || !*ch->realm)
        return df_error_set(err, DF_E_IO, "registry %s asks for a bearer token but names no realm",
                            r->base);
    int rc = hub_url_check_policy(ch->realm, r->insecure, "token server", err);
    if (rc != DF_OK) {
        df_error_prefix(err, "registry %s", r->base);
        return rc;
    }
    df_buf url = DF_BUF_INIT;
    df_buf_append_str(&url, ch->realm);
    const char *scope = ch->scope && *ch->scope ? ch->scope : scope_key;
    struct {
        const char *key, *value;
    } params[] = {{"service", ch->service},
                  {"scope", scope && *scope ? scope : NULL},
                  {"account", r->username}};
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
        if (!params[i].value) continue;
        char *esc = curl_easy_escape(r->curl, params[i].value, 0);
        df_buf_printf(&url, "%s%s=%s", strchr(url.data, '?') ? "&" : "?", params[i].key, esc);
        curl_free(esc);
    }
    reg_req req = {.method = "GET", .url = url.data};
    reg_resp resp = {.body_cap = 1u << 20};
    /* the realm may live on another host (auth.example for registry.example):
     * the credentials go there by design of the token flow */
    rc = perform_once(r, &req, &resp, NULL, r->username != NULL, "token", err);
    if (rc == DF_OK && !is_2xx(resp.status)) {
        if ((resp.status == 401 || resp.status == 403) && r->username)
            rc = df_error_set(err, DF_E_INVALID_INPUT,
                              "registry %s: the token server %s refused the credentials of user "
                              "%s (%ld): run docflow-hub login %s",
                              r->base, ch->realm, r->username, resp.status, r->base);
        else if (resp.status == 401 || resp.status == 403)
            rc = df_error_set(err, DF_E_INVALID_INPUT,
                              "registry %s: the token server %s wants credentials (%ld): run "
                              "docflow-hub login %s",
                              r->base, ch->realm, resp.status, r->base);
        else
            rc = df_error_set(err, DF_E_IO, "registry %s: the token server %s answered %ld",
                              r->base, ch->realm, resp.status);
    }
    char *token = NULL;
    long expires_in = 60;
    if (rc == DF_OK && (rc = hub_auth_token_parse(resp.body.data, resp.body.len, &token,
                                                  &expires_in, err)) != DF_OK)
        df_error_prefix(err, "registry %s: token server %s", r->base, ch->realm);
    if (rc == DF_OK) {
        double margin = expires_in > 2 * TOKEN_EXPIRY_MARGIN ? TOKEN_EXPIRY_MARGIN : 0;
        hub_auth_tokens_put(r->tokens, scope_key, token, monotonic_now() + expires_in - margin);
    }
    free(token);
    resp_free(&resp);
    df_buf_free(&url);
    return rc;
}

/* A request with the authentication dance: credentials go only to the
 * registry's own origin; on a 401, Basic retries with the credentials and
 * Bearer fetches a token for the scope, then the request is sent again. A 401
 * that remains is returned for the caller to report. */
static int request(hub_registry *r, const reg_req *req, reg_resp *resp, const char *what,
                   df_error *err)
{
    const char *scope_key = req->scope ? req->scope : "";
    int own_origin = hub_url_same_origin(req->url, r->base);
    int fetched_token = 0;
    for (int attempt = 0; attempt < 3; attempt++) {
        const char *bearer =
            own_origin ? hub_auth_tokens_find(r->tokens, scope_key, monotonic_now()) : NULL;
        int basic = own_origin && !bearer && r->send_basic && r->username;
        int rc = perform_once(r, req, resp, bearer, basic, what, err);
        if (rc != DF_OK || resp->status != 401 || !own_origin) return rc;
        const hub_auth_challenge *ch = &resp->challenge;
        if (ch->scheme == HUB_AUTH_BASIC) {
            if (!r->username || basic) return DF_OK;
            r->send_basic = 1;
        } else if (ch->scheme == HUB_AUTH_BEARER) {
            if (fetched_token) return DF_OK;
            if ((rc = fetch_token(r, ch, scope_key, err)) != DF_OK) return rc;
            fetched_token = 1;
        } else {
            return DF_OK;
        }
    }
    return DF_OK;
}

/* ---------------------------------------------------------------- errors */

static const char *status_text(long status)
{
    switch (status) {
    case 400:
        return "bad request";
    case 401:
        return "unauthorized";
    case 403:
        return "forbidden";
    case 404:
        return "not found";
    case 405:
        return "method not allowed";
    case 409:
        return "conflict";
    case 413:
        return "too large";
    case 416:
        return "range not satisfiable";
    case 429:
        return "too many requests";
    case 500:
        return "internal server error";
    case 502:
        return "bad gateway";
    case 503:
        return "service unavailable";
    default:
        return "unexpected answer";
    }
}

/* "registry <base>: <what>: <message> (<status> <CODE>)<hint>", with the
 * registry's own errors[0] when it sent one. */
static int http_error(hub_registry *r, const char *what, const reg_resp *resp, df_error *err)
{
    char code[64], message[256];
    if (!hub_registry_error_parse(resp->error_body.data, resp->error_body.len, code, sizeof code,
                                  message, sizeof message)) {
        /* a non-JSON body: its first line, if short and printable */
        size_t n = resp->error_body.len ? strcspn(resp->error_body.data, "\r\n") : 0;
        snprintf(message, sizeof message, "%.*s", (int)(n < 200 ? n : 0),
                 n ? resp->error_body.data : "");
        for (char *p = message; *p; p++)
            if ((unsigned char)*p < 0x20) *p = ' ';
    }
    if (!message[0]) snprintf(message, sizeof message, "%s", status_text(resp->status));
    char hint[512] = "";
    long s = resp->status;
    int denied = resp->challenge.error && !strcmp(resp->challenge.error, "insufficient_scope");
    if ((s == 401 || s == 403) && denied && r->username)
        snprintf(hint, sizeof hint, "; user %s is not granted %s", r->username,
                 resp->challenge.scope ? resp->challenge.scope : "this access");
    else if (s == 401 && !r->username)
        snprintf(hint, sizeof hint, "; run docflow-hub login %s", r->base);
    else if (s == 401)
        snprintf(hint, sizeof hint,
                 "; the registry refused the credentials of user %s (%s): run docflow-hub login %s",
                 r->username, r->creds_from_file ? "from auth.json" : "as given", r->base);
    else if (s == 403 && r->username)
        snprintf(hint, sizeof hint, "; user %s is not allowed to do this", r->username);
    else if (s == 405)
        snprintf(hint, sizeof hint,
                 "; the registry does not allow this (deletes are off unless "
                 "storage.delete.enabled is set)");
    else if (s == 400 && strstr(message, "HTTP request to an HTTPS server"))
        snprintf(hint, sizeof hint, "; the registry speaks TLS: use https://");
    int rc = DF_E_IO; /* 5xx, 429 and the unexpected */
    if (s == 404) rc = DF_E_NOT_FOUND;
    if (s == 400 || s == 401 || s == 403 || s == 405 || s == 413 || s == 416)
        rc = DF_E_INVALID_INPUT;
    return df_error_set(err, rc, "registry %s: %s: %s (%ld%s%s)%s", r->base, what, message, s,
                        code[0] ? " " : "", code, hint);
}

static int check_repo(hub_registry *r, const char *repo, df_error *err)
{
    if (hub_oci_repo_valid(repo)) return DF_OK;
    return df_error_set(err, DF_E_INVALID_INPUT,
                        "registry %s: '%s' is not a valid repository name (lowercase components "
                        "[a-z0-9]+([._-][a-z0-9]+)* joined by '/')",
                        r->base, repo ? repo : "(null)");
}

static int check_digest(hub_registry *r, const char *repo, const char *digest, df_error *err)
{
    if (hub_digest_valid(digest)) return DF_OK;
    return df_error_set(err, DF_E_INVALID_INPUT,
                        "registry %s: %s: '%s' is not a sha256 digest (sha256:<64 hex>)", r->base,
                        repo, digest ? digest : "(null)");
}

static char *api_url(hub_registry *r, const char *repo, const char *kind, const char *ref)
{
    char *url = NULL;
    if (asprintf(&url, "%s/v2/%s/%s%s", r->base, repo, kind, ref ? ref : "") < 0) abort();
    return url;
}

static char *scope_of(const char *repo, int push)
{
    char *s = NULL;
    if (asprintf(&s, "repository:%s:%s", repo, push ? "pull,push" : "pull") < 0) abort();
    return s;
}

/* ---------------------------------------------------------------- open */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void hub_registry_close(hub_registry *r)
{
    if (!r) return;
    if (r->curl) curl_easy_cleanup(r->curl);
    if (r->password) memset(r->password, 0, strlen(r->password));
    free(r->base);
    free(r->ca_cert);
    free(r->username);
    free(r->password);
    hub_auth_tokens_free(r->tokens);
    free(r);
}

static int load_credentials(hub_registry *r, const hub_registry_opts *opts, df_error *err)
{
    if (!opts->username != !opts->password)
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "registry %s: give both a user name and a password, or neither",
                            r->base);
    if (opts->username) {
        r->username = strdup(opts->username);
        r->password = strdup(opts->password);
        return DF_OK;
    }
    int found = 0;
    int rc = hub_auth_lookup(r->base, &r->username, &r->password, &found, err);
    r->creds_from_file = found;
    return rc;
}

static long low_speed_time(void)
{
    const char *s = getenv("DOCFLOW_HUB_LOW_SPEED_TIME");
    long v = s ? strtol(s, NULL, 10) : 0;
    return v > 0 ? v : LOW_SPEED_TIME_S;
}

/* GET /v2/ without credentials: reachability, and which auth it wants. */
static int ping(hub_registry *r, df_error *err)
{
    char *url = NULL;
    if (asprintf(&url, "%s/v2/", r->base) < 0) abort();
    reg_req req = {.method = "GET", .url = url};
    reg_resp resp = {.body_cap = 1u << 20};
    int rc = perform_once(r, &req, &resp, NULL, 0, "GET /v2/", err);
    if (rc == DF_OK && resp.status == 401) {
        if (resp.challenge.scheme == HUB_AUTH_BASIC && r->username) r->send_basic = 1;
    } else if (rc == DF_OK && resp.status == 404) {
        rc = df_error_set(err, DF_E_INVALID_INPUT,
                          "registry %s: GET /v2/ answered 404: this is not an OCI distribution "
                          "registry (or the URL is wrong)",
                          r->base);
    } else if (rc == DF_OK && resp.status != 200) {
        rc = http_error(r, "GET /v2/", &resp, err);
    }
    resp_free(&resp);
    free(url);
    return rc;
}

hub_registry *hub_registry_open(const hub_registry_opts *opts, df_error *err)
{
    pthread_once(&curl_once, curl_init_once);
    hub_registry *r = calloc(1, sizeof *r);
    if (!r) abort();
    int rc = hub_url_normalize_registry(opts->url, opts->insecure, &r->base, err);
    if (rc != DF_OK) goto fail;
    r->insecure = opts->insecure;
    r->progress = opts->progress;
    r->progress_ctx = opts->progress_ctx;
    r->low_speed_time = low_speed_time();
    r->tokens = hub_auth_tokens_new();
    if (opts->ca_cert) {
        if (access(opts->ca_cert, R_OK) != 0) {
            rc = df_error_set(err, DF_E_INVALID_INPUT, "CA certificate %s: %s", opts->ca_cert,
                              strerror(errno));
            goto fail;
        }
        r->ca_cert = strdup(opts->ca_cert);
    }
    if ((rc = load_credentials(r, opts, err)) != DF_OK) goto fail;
    if (!(r->curl = curl_easy_init())) {
        rc = df_error_set(err, DF_E_RESOURCE, "cannot create a libcurl handle");
        goto fail;
    }
    if ((rc = ping(r, err)) != DF_OK) goto fail;
    return r;
fail:
    hub_registry_close(r);
    return NULL;
}

/* ---------------------------------------------------------------- blobs */

int hub_registry_blob_exists(hub_registry *r, const char *repo, const char *digest, int *exists,
                             df_error *err)
{
    *exists = 0;
    int rc = check_repo(r, repo, err);
    if (rc == DF_OK) rc = check_digest(r, repo, digest, err);
    if (rc != DF_OK) return rc;
    char *url = api_url(r, repo, "blobs/", digest);
    char *scope = scope_of(repo, 0);
    char what[400];
    snprintf(what, sizeof what, "%s blob %s", repo, digest);
    reg_req req = {.method = "HEAD", .url = url, .scope = scope};
    reg_resp resp = {.body_cap = 0};
    rc = request(r, &req, &resp, what, err);
    if (rc == DF_OK) {
        if (resp.status == 200)
            *exists = 1;
        else if (resp.status != 404)
            rc = http_error(r, what, &resp, err);
    }
    resp_free(&resp);
    free(scope);
    free(url);
    return rc;
}

/* Where the next upload request goes: the Location of the last answer,
 * absolute or relative (gotcha 2), checked against the plain-http policy. */
static int next_location(hub_registry *r, const reg_resp *resp, const char *what, char **location,
                         df_error *err)
{
    if (!resp->location || !*resp->location)
        return df_error_set(err, DF_E_IO, "registry %s: %s: upload answer %ld has no Location",
                            r->base, what, resp->status);
    char *next = hub_url_resolve(resp->effective_url, resp->location);
    if (!next)
        return df_error_set(err, DF_E_IO, "registry %s: %s: bad upload Location '%s'", r->base,
                            what, resp->location);
    int rc = hub_url_check_policy(next, r->insecure, "upload Location", err);
    if (rc != DF_OK) {
        df_error_prefix(err, "registry %s: %s", r->base, what);
        free(next);
        return rc; /* *location still names the session, for the cancel */
    }
    free(*location);
    *location = next;
    return DF_OK;
}

typedef struct upload {
    const char *repo, *digest, *scope, *what;
    const char *mem; /* body in memory, or */
    int fd;          /* from this file */
    uint64_t size;
    size_t chunk_size;
} upload;

/* PATCH every chunk to the session, following its Location each time. */
static int upload_chunks(hub_registry *r, const upload *u, char **location, df_error *err)
{
    int rc = DF_OK;
    reg_resp resp = {.body_cap = 1u << 20};
    for (uint64_t off = 0; off < u->size && rc == DF_OK; off += u->chunk_size) {
        uint64_t n = u->size - off < u->chunk_size ? u->size - off : u->chunk_size;
        char range[64];
        snprintf(range, sizeof range, "%llu-%llu", (unsigned long long)off,
                 (unsigned long long)(off + n - 1));
        reg_req req = {.method = "PATCH",
                       .url = *location,
                       .scope = u->scope,
                       .content_type = "application/octet-stream",
                       .content_range = range,
                       .body = u->mem ? u->mem + off : NULL,
                       .body_fd = u->fd,
                       .body_off = u->mem ? 0 : off,
                       .body_len = n,
                       .progress = 1,
                       .progress_base = off,
                       .progress_total = u->size};
        if ((rc = request(r, &req, &resp, u->what, err)) != DF_OK) break;
        if (resp.status != 202) {
            rc = http_error(r, u->what, &resp, err);
            break;
        }
        /* the registry's Range says what it holds: 0-<last byte> */
        char expect[64];
        snprintf(expect, sizeof expect, "0-%llu", (unsigned long long)(off + n - 1));
        if (resp.range && strcmp(resp.range, expect) != 0 && strcmp(resp.range + 6, expect) != 0) {
            rc = df_error_set(err, DF_E_IO,
                              "registry %s: %s: after the chunk %s the registry holds %s", r->base,
                              u->what, range, resp.range);
            break;
        }
        rc = next_location(r, &resp, u->what, location, err);
    }
    resp_free(&resp);
    return rc;
}

static void cancel_upload(hub_registry *r, const upload *u, const char *location)
{
    reg_req req = {.method = "DELETE", .url = location, .scope = u->scope};
    reg_resp resp = {.body_cap = 1u << 16};
    df_error ignored = DF_ERROR_INIT;
    request(r, &req, &resp, u->what, &ignored);
    resp_free(&resp);
}

/* POST a session, send the bytes (one PUT, or PATCHes and an empty PUT),
 * check the digest the registry computed. Gotcha 4: a single POST with
 * ?digest= is not honoured by 2.8, so it is always POST then PUT. */
static int upload_blob(hub_registry *r, const upload *u, df_error *err)
{
    int exists = 0;
    int rc = hub_registry_blob_exists(r, u->repo, u->digest, &exists, err);
    if (rc != DF_OK) return rc;
    if (exists) {
        df_log(DF_LOG_DEBUG, "hub", "registry: %s: already there, not uploaded", u->what);
        if (r->progress) r->progress(r->progress_ctx, u->size, u->size);
        return DF_OK;
    }
    char *url = api_url(r, u->repo, "blobs/uploads/", NULL);
    char *location = NULL, *put_url = NULL;
    reg_req post = {.method = "POST", .url = url, .scope = u->scope};
    reg_resp resp = {.body_cap = 1u << 20};
    if ((rc = request(r, &post, &resp, u->what, err)) != DF_OK) goto out;
    if (resp.status != 202) {
        rc = http_error(r, u->what, &resp, err);
        goto out;
    }
    if ((rc = next_location(r, &resp, u->what, &location, err)) != DF_OK) goto out;
    int chunked = u->chunk_size > 0;
    if (chunked && (rc = upload_chunks(r, u, &location, err)) != DF_OK) goto cancel;
    char param[16 + HUB_DIGEST_LEN];
    snprintf(param, sizeof param, "digest=%s", u->digest);
    put_url = hub_url_append_query(location, param); /* gotcha 2: it has ?_state= already */
    reg_req put = {.method = "PUT",
                   .url = put_url,
                   .scope = u->scope,
                   .content_type = "application/octet-stream", /* gotcha 3 */
                   .body = chunked ? NULL : u->mem,
                   .body_fd = u->fd,
                   .body_len = chunked ? 0 : u->size,
                   .progress = !chunked,
                   .progress_total = u->size};
    if ((rc = request(r, &put, &resp, u->what, err)) != DF_OK) goto cancel;
    if (resp.status != 201) {
        rc = http_error(r, u->what, &resp, err);
        goto cancel;
    }
    if (resp.digest && strcmp(resp.digest, u->digest) != 0)
        rc = df_error_set(err, DF_E_IO, "registry %s: %s: the registry stored %s instead", r->base,
                          u->what, resp.digest);
    goto out;
cancel:
    if (location) cancel_upload(r, u, location);
out:
    resp_free(&resp);
    free(put_url);
    free(location);
    free(url);
    return rc;
}

int hub_registry_blob_push_file(hub_registry *r, const char *repo, const char *path,
                                const char *digest, uint64_t size, size_t chunk_size, df_error *err)
{
    int rc = check_repo(r, repo, err);
    if (rc == DF_OK) rc = check_digest(r, repo, digest, err);
    if (rc != DF_OK) return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return df_error_set(err, DF_E_IO, "cannot read %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != size) {
        close(fd);
        return df_error_set(err, DF_E_IO,
                            "%s: has %lld bytes, expected %llu (changed since it "
                            "was hashed?)",
                            path, (long long)st.st_size, (unsigned long long)size);
    }
    char what[600];
    snprintf(what, sizeof what, "%s blob %s (%s)", repo, digest, path);
    char *scope = scope_of(repo, 1);
    upload u = {repo, digest, scope, what, NULL, fd, size, chunk_size};
    rc = upload_blob(r, &u, err);
    free(scope);
    close(fd);
    return rc;
}

int hub_registry_blob_push_buffer(hub_registry *r, const char *repo, const void *data, size_t len,
                                  const char *digest, df_error *err)
{
    int rc = check_repo(r, repo, err);
    if (rc == DF_OK) rc = check_digest(r, repo, digest, err);
    if (rc != DF_OK) return rc;
    hub_digest actual;
    hub_digest_buffer(data, len, &actual);
    if (strcmp(actual.s, digest) != 0)
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "registry %s: %s: the bytes to push hash to %s, not %s", r->base, repo,
                            actual.s, digest);
    char what[400];
    snprintf(what, sizeof what, "%s blob %s", repo, digest);
    char *scope = scope_of(repo, 1);
    upload u = {repo, digest, scope, what, len ? data : "", -1, len, 0};
    rc = upload_blob(r, &u, err);
    free(scope);
    return rc;
}

/* A download being verified as it arrives: hashed, counted, bounded, and
 * written to a file or appended to a buffer. */
typedef struct download {
    hub_sha256 *sha;
    uint64_t got, limit;
    int fd;      /* or -1 */
    df_buf *buf; /* or NULL */
    int too_big, write_errno;
} download;

static int download_sink(void *ctx, const char *data, size_t len)
{
    download *d = ctx;
    if (d->limit && d->got + len > d->limit) {
        d->too_big = 1;
        return -1;
    }
    hub_sha256_update(d->sha, data, len);
    d->got += len;
    if (d->buf) {
        df_buf_append(d->buf, data, len);
        return 0;
    }
    while (len) {
        ssize_t w = write(d->fd, data, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            d->write_errno = w < 0 ? errno : EIO;
            return -1;
        }
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

static int is_redirect(long status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* GETs a blob through `d` and checks status, size and digest. Redirects
 * (registries may serve blobs from other storage) are followed here rather
 * than by libcurl, so each hop passes the plain-http policy and gets
 * credentials only when it stays on the registry's origin. */
static int blob_download(hub_registry *r, const char *repo, const char *digest, uint64_t size,
                         download *d, const char *what, df_error *err)
{
    char *url = api_url(r, repo, "blobs/", digest);
    char *scope = scope_of(repo, 0);
    reg_resp resp = {.body_cap = 0, .sink = download_sink, .sink_ctx = d};
    d->sha = hub_sha256_new();
    int rc = DF_OK;
    for (int hops = 0;; hops++) {
        reg_req req = {
            .method = "GET", .url = url, .scope = scope, .progress = 1, .progress_total = size};
        if ((rc = request(r, &req, &resp, what, err)) != DF_OK) break;
        if (!is_redirect(resp.status) || !resp.location) break;
        char *next = hub_url_resolve(resp.effective_url, resp.location);
        if (hops == MAX_REDIRECTS || !next) {
            rc = df_error_set(err, DF_E_IO, "registry %s: %s: %s redirect to '%s'", r->base, what,
                              next ? "one redirect too many, at the" : "bad", resp.location);
            free(next);
            break;
        }
        free(url);
        url = next;
        if ((rc = hub_url_check_policy(url, r->insecure, "blob redirect", err)) != DF_OK) {
            df_error_prefix(err, "registry %s: %s", r->base, what);
            break;
        }
    }
    hub_digest actual;
    hub_sha256_final(d->sha, &actual);
    d->sha = NULL;
    if (rc != DF_OK) goto out;
    if (d->write_errno)
        rc = df_error_set(err, DF_E_IO, "registry %s: %s: cannot write the download: %s", r->base,
                          what, strerror(d->write_errno));
    else if (d->too_big)
        rc = df_error_set(err, DF_E_IO,
                          "registry %s: %s: the registry sent more than the expected %llu bytes; "
                          "download refused",
                          r->base, what, (unsigned long long)d->limit);
    else if (resp.status != 200)
        rc = http_error(r, what, &resp, err);
    else if (size && d->got != size)
        rc = df_error_set(err, DF_E_IO,
                          "registry %s: %s: got %llu bytes, expected %llu; download refused",
                          r->base, what, (unsigned long long)d->got, (unsigned long long)size);
    else if (strcmp(actual.s, digest) != 0)
        rc = df_error_set(err, DF_E_IO,
                          "registry %s: %s: the content hashes to %s, not to its digest; "
                          "download refused",
                          r->base, what, actual.s);
out:
    resp_free(&resp);
    free(scope);
    free(url);
    return rc;
}

int hub_registry_blob_pull_file(hub_registry *r, const char *repo, const char *digest,
                                uint64_t size, const char *dest_path, df_error *err)
{
    int rc = check_repo(r, repo, err);
    if (rc == DF_OK) rc = check_digest(r, repo, digest, err);
    if (rc != DF_OK) return rc;
    char *part = NULL;
    if (asprintf(&part, "%s.part", dest_path) < 0) abort();
    int fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        rc = df_error_set(err, DF_E_IO, "cannot write %s: %s", part, strerror(errno));
        free(part);
        return rc;
    }
    char what[600];
    snprintf(what, sizeof what, "%s blob %s", repo, digest);
    download d = {.limit = size, .fd = fd};
    rc = blob_download(r, repo, digest, size, &d, what, err);
    if (rc == DF_OK && fsync(fd) != 0)
        rc = df_error_set(err, DF_E_IO, "cannot write %s: %s", part, strerror(errno));
    if (close(fd) != 0 && rc == DF_OK)
        rc = df_error_set(err, DF_E_IO, "cannot write %s: %s", part, strerror(errno));
    if (rc == DF_OK && rename(part, dest_path) != 0)
        rc = df_error_set(err, DF_E_IO, "cannot rename %s to %s: %s", part, dest_path,
                          strerror(errno));
    if (rc != DF_OK) unlink(part); /* nothing of a failed download stays */
    free(part);
    return rc;
}

int hub_registry_blob_pull_buffer(hub_registry *r, const char *repo, const char *digest,
                                  uint64_t size, df_buf *out, df_error *err)
{
    int rc = check_repo(r, repo, err);
    if (rc == DF_OK) rc = check_digest(r, repo, digest, err);
    if (rc != DF_OK) return rc;
    char what[400];
    snprintf(what, sizeof what, "%s blob %s", repo, digest);
    size_t start = out->len;
    download d = {.limit = size ? size : BUFFER_BLOB_MAX, .fd = -1, .buf = out};
    rc = blob_download(r, repo, digest, size, &d, what, err);
    if (rc != DF_OK && out->data) {
        out->len = start;
        out->data[start] = '\0';
    }
    return rc;
}

/* ---------------------------------------------------------------- manifests */

static void strip_params(char *content_type)
{
    if (!content_type) return;
    content_type[strcspn(content_type, ";")] = '\0';
    size_t n = strlen(content_type);
    while (n && (content_type[n - 1] == ' ' || content_type[n - 1] == '\t'))
        content_type[--n] = '\0';
}

int hub_registry_manifest_put(hub_registry *r, const char *repo, const char *tag,
                              const char *media_type, const void *data, size_t len,
                              hub_digest *digest_out, df_error *err)
{
    int rc = check_repo(r, repo, err);
    if (rc != DF_OK) return rc;
    char what[400];
    snprintf(what, sizeof what, "%s%s%s", repo, hub_digest_valid(tag) ? "@" : ":",
             tag ? tag : "(null)");
    if (!hub_oci_tag_valid(tag) && !hub_digest_valid(tag))
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "registry %s: %s: not a valid tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; "
                            "semver build metadata '+...' cannot be a tag)",
                            r->base, what);
    if (!media_type || !*media_type)
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "registry %s: %s: a manifest needs its media type", r->base, what);
    hub_digest actual;
    hub_digest_buffer(data, len, &actual);
    if (hub_digest_valid(tag) && strcmp(tag, actual.s) != 0)
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "registry %s: %s: the manifest bytes hash to %s", r->base, what,
                            actual.s);
    char *url = api_url(r, repo, "manifests/", tag);
    char *scope = scope_of(repo, 1);
    /* gotcha 5: the Content-Type must be the manifest's media type */
    reg_req req = {.method = "PUT",
                   .url = url,
                   .scope = scope,
                   .content_type = media_type,
                   .body = len ? data : "",
                   .body_len = len};
    reg_resp resp = {.body_cap = 1u << 20};
    rc = request(r, &req, &resp, what, err);
    if (rc == DF_OK && resp.status != 201)
        rc = http_error(r, what, &resp, err);
    else if (rc == DF_OK && resp.digest && strcmp(resp.digest, actual.s) != 0)
        rc = df_error_set(err, DF_E_IO,
                          "registry %s: %s: the registry stored the manifest as %s but its bytes "
                          "hash to %s",
                          r->base, what, resp.digest, actual.s);
    if (rc == DF_OK && digest_out) *digest_out = actual;
    resp_free(&resp);
    free(scope);
    free(url);
    return rc;
}

/* The manifest's own "mediaType" must agree with the Content-Type it came
 * with (distribution-spec: reject a mismatch). A manifest without one passes. */
static int check_media_type(hub_registry *r, const char *what, const df_buf *body,
                            const char *content_type, df_error *err)
{
    json_t *root = json_loadb(body->data, body->len, 0, NULL);
    if (!root)
        return df_error_set(err, DF_E_IO, "registry %s: %s: the manifest is not JSON", r->base,
                            what);
    const char *mt = json_string_value(json_object_get(root, "mediaType"));
    int rc = DF_OK;
    /* only a vnd. type is a claim about the manifest kind (some servers say
     * application/json for anything) */
    if (mt && content_type && !strncmp(content_type, "application/vnd.", 16) &&
        strcmp(mt, content_type) != 0)
        rc = df_error_set(err, DF_E_IO,
                          "registry %s: %s: served as %s but the manifest says mediaType %s",
                          r->base, what, content_type, mt);
    json_decref(root);
    return rc;
}

int hub_registry_manifest_get(hub_registry *r, const char *repo, const char *ref, df_buf *out,
                              hub_digest *digest_out, char *media_type_out, size_t media_type_cap,
                              df_error *err)
{
    int rc = check_repo(r, repo, err);
    if (rc != DF_OK) return rc;
    int by_digest = hub_digest_valid(ref);
    char what[400];
    snprintf(what, sizeof what, "%s%s%s", repo, by_digest ? "@" : ":", ref ? ref : "(null)");
    if (!by_digest && !hub_oci_tag_valid(ref))
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "registry %s: %s: neither a tag nor a sha256 digest", r->base, what);
    char *url = api_url(r, repo, "manifests/", ref);
    char *scope = scope_of(repo, 0);
    reg_req req = {.method = "GET", .url = url, .scope = scope, .accept_header = MANIFEST_ACCEPT};
    reg_resp resp = {.body_cap = MANIFEST_MAX};
    rc = request(r, &req, &resp, what, err);
    hub_digest actual;
    hub_digest_buffer(resp.body.data ? resp.body.data : "", resp.body.len, &actual);
    strip_params(resp.content_type);
    if (rc != DF_OK) goto out;
    if (resp.body_overflow)
        rc = df_error_set(err, DF_E_IO, "registry %s: %s: the manifest is larger than %u MiB",
                          r->base, what, MANIFEST_MAX >> 20);
    else if (resp.status != 200)
        rc = http_error(r, what, &resp, err);
    else if (by_digest && strcmp(actual.s, ref) != 0)
        rc =
            df_error_set(err, DF_E_IO, "registry %s: %s: the manifest served hashes to %s; refused",
                         r->base, what, actual.s);
    else if (resp.digest && !strncmp(resp.digest, "sha256:", 7) && strcmp(resp.digest, actual.s))
        rc = df_error_set(err, DF_E_IO,
                          "registry %s: %s: the registry says %s but the manifest hashes to %s; "
                          "refused",
                          r->base, what, resp.digest, actual.s);
    else
        rc = check_media_type(r, what, &resp.body, resp.content_type, err);
    if (rc == DF_OK && media_type_out && media_type_cap) {
        const char *mt = resp.content_type ? resp.content_type : "";
        if (strlen(mt) >= media_type_cap)
            rc = df_error_set(err, DF_E_INVALID_INPUT,
                              "registry %s: %s: media type '%s' longer than %zu bytes", r->base,
                              what, mt, media_type_cap - 1);
        else
            strcpy(media_type_out, mt);
    }
    if (rc == DF_OK) {
        df_buf_append(out, resp.body.data ? resp.body.data : "", resp.body.len);
        if (digest_out) *digest_out = actual;
    }
out:
    resp_free(&resp);
    free(scope);
    free(url);
    return rc;
}

int hub_registry_manifest_delete(hub_registry *r, const char *repo, const char *digest,
                                 df_error *err)
{
    int rc = check_repo(r, repo, err);
    if (rc != DF_OK) return rc;
    /* gotcha 7: 2.8 cannot delete by tag; it answers 400 DIGEST_INVALID */
    if (!hub_digest_valid(digest))
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "registry %s: %s: manifests are deleted by digest (sha256:...), not "
                            "'%s'",
                            r->base, repo, digest ? digest : "(null)");
    char what[400];
    snprintf(what, sizeof what, "%s@%s", repo, digest);
    char *url = api_url(r, repo, "manifests/", digest);
    char *scope = scope_of(repo, 1);
    reg_req req = {.method = "DELETE", .url = url, .scope = scope};
    reg_resp resp = {.body_cap = 1u << 20};
    rc = request(r, &req, &resp, what, err);
    if (rc == DF_OK && resp.status != 202 && resp.status != 200)
        rc = http_error(r, what, &resp, err);
    resp_free(&resp);
    free(scope);
    free(url);
    return rc;
}

/* ---------------------------------------------------------------- tags */

/* Appends the page's tags; DF_OK also for "tags": null. */
static int parse_tags_page(hub_registry *r, const char *what, const df_buf *body, df_buf *out,
                           size_t *count, df_error *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(body->data ? body->data : "", body->len, 0, &jerr);
    json_t *tags = json_object_get(root, "tags");
    int rc = DF_OK;
    if (!json_is_object(root) || (tags && !json_is_array(tags) && !json_is_null(tags))) {
        rc = df_error_set(err, DF_E_IO, "registry %s: %s: the tag list is not {\"tags\": [...]}",
                          r->base, what);
        goto out;
    }
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        const char *s = json_string_value(t);
        if (!s) continue;
        df_buf_append(out, s, strlen(s) + 1);
        (*count)++;
    }
out:
    json_decref(root);
    return rc;
}

int hub_registry_tags(hub_registry *r, const char *repo, df_buf *out, size_t *count, df_error *err)
{
    *count = 0;
    int rc = check_repo(r, repo, err);
    if (rc != DF_OK) return rc;
    char what[300];
    snprintf(what, sizeof what, "%s tags", repo);
    size_t start = out->len;
    char *url = api_url(r, repo, "tags/list", NULL);
    char *scope = scope_of(repo, 0);
    reg_resp resp = {.body_cap = TAGS_PAGE_MAX};
    /* Gotcha 8: 2.8 sends every tag in one unsorted page and ignores n=; other
     * registries page with Link: <...>; rel="next". Both work here. */
    for (int page = 0; url; page++) {
        if (page == TAGS_PAGES_MAX) {
            rc = df_error_set(err, DF_E_IO, "registry %s: %s: more than %d pages", r->base, what,
                              TAGS_PAGES_MAX);
            break;
        }
        reg_req req = {.method = "GET", .url = url, .scope = scope};
        if ((rc = request(r, &req, &resp, what, err)) != DF_OK) break;
        if (page == 0 && resp.status == 404) break; /* an unknown repository: no tags */
        if (resp.body_overflow) {
            rc = df_error_set(err, DF_E_IO, "registry %s: %s: a page is larger than %u MiB",
                              r->base, what, TAGS_PAGE_MAX >> 20);
            break;
        }
        if (resp.status != 200) {
            rc = http_error(r, what, &resp, err);
            break;
        }
        if ((rc = parse_tags_page(r, what, &resp.body, out, count, err)) != DF_OK) break;
        char *next = hub_link_next(resp.link);
        char *next_url = next ? hub_url_resolve(resp.effective_url, next) : NULL;
        free(next);
        if (next_url && !strcmp(next_url, url))
            rc = df_error_set(err, DF_E_IO, "registry %s: %s: the next page link points to itself",
                              r->base, what);
        else if (next_url)
            rc = hub_url_check_policy(next_url, r->insecure, "tags Link", err);
        if (rc != DF_OK) {
            free(next_url);
            break;
        }
        free(url);
        url = next_url;
    }
    if (rc != DF_OK) {
        *count = 0;
        out->len = start;
        if (out->data) out->data[start] = '\0';
    }
    resp_free(&resp);
    free(scope);
    free(url);
    return rc;
}

/* ---------------------------------------------------------------- login */

int hub_registry_login(const hub_registry_opts *opts, df_error *err)
{
    if (!opts->username || !*opts->username || !opts->password)
        return df_error_set(err, DF_E_INVALID_INPUT,
                            "login to %s: a user name and a password "
                            "are required",
                            opts->url ? opts->url : "(no URL)");
    hub_registry *r = hub_registry_open(opts, err);
    if (!r) return err ? err->code : DF_E_IO;
    /* The root with credentials: Basic sends them, Bearer trades them for a
     * token first; either way a 200 proves them. */
    char *url = NULL;
    if (asprintf(&url, "%s/v2/", r->base) < 0) abort();
    reg_req req = {.method = "GET", .url = url};
    reg_resp resp = {.body_cap = 1u << 20};
    int rc = request(r, &req, &resp, "login", err);
    if (rc == DF_OK && resp.status == 401)
        rc = df_error_set(err, DF_E_INVALID_INPUT,
                          "login to %s failed: the registry refused the password of user %s "
                          "(401); nothing was stored",
                          r->base, r->username);
    else if (rc == DF_OK && resp.status != 200)
        rc = http_error(r, "login", &resp, err);
    else if (rc != DF_OK)
        df_error_prefix(err, "login failed, nothing was stored");
    if (rc == DF_OK) rc = hub_auth_store(r->base, opts->username, opts->password, err);
    resp_free(&resp);
    free(url);
    hub_registry_close(r);
    return rc;
}

int hub_registry_logout(const char *url, df_error *err)
{
    return hub_auth_remove(url, err);
}
