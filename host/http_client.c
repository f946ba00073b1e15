/*
 * http_client.c -- the libcurl wrapper behind `post --host` and `ping`
 * (see http_client.h). One multi handle owns the connection cache, so a
 * connection opened by one easy handle is reused by whichever handle
 * starts the next exchange; easy handles are kept in slots and reset, not
 * recreated, between exchanges.
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"

/* Longer than any loopback or LAN connect; a dead address fails in this
 * time even when the exchange itself may take longer (--timeout). */
#define CONNECT_TIMEOUT_MS 10000L

typedef struct http_slot {
    CURL *easy;                   /* created on first use, then reused */
    struct curl_slist *headers;   /* this exchange's request headers */
    df_http_exchange *x;          /* NULL: the slot is free */
    char errbuf[CURL_ERROR_SIZE]; /* libcurl's detailed message */
} http_slot;

struct df_http_client {
    CURLM *multi;
    http_slot *slots;
    int n_slots;
    int in_flight;
    char *user_agent;
};

df_http_client *df_http_client_new(int parallel, const char *user_agent, df_error *err)
{
    /* Counted by libcurl: every client pairs it with one curl_global_cleanup. */
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        df_error_set(err, DF_E_INTERNAL, "libcurl: %s", curl_easy_strerror(rc));
        return NULL;
    }
    df_http_client *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->n_slots = parallel > 0 ? parallel : 1;
    c->slots = calloc((size_t)c->n_slots, sizeof *c->slots);
    c->user_agent = strdup(user_agent ? user_agent : "docflow-host");
    c->multi = curl_multi_init();
    if (!c->slots || !c->user_agent) abort();
    if (!c->multi) {
        df_error_set(err, DF_E_INTERNAL, "libcurl: cannot create a multi handle");
        df_http_client_free(c);
        return NULL;
    }
    /* Never more connections than exchanges, and all of them kept: every
     * exchange after the first `parallel` finds an idle connection. */
    curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)c->n_slots);
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)c->n_slots);
    return c;
}

void df_http_client_free(df_http_client *c)
{
    if (!c) return;
    for (int i = 0; i < c->n_slots; i++) {
        http_slot *s = &c->slots[i];
        if (s->x) curl_multi_remove_handle(c->multi, s->easy);
        curl_slist_free_all(s->headers);
        if (s->easy) curl_easy_cleanup(s->easy);
    }
    if (c->multi) curl_multi_cleanup(c->multi);
    free(c->slots);
    free(c->user_agent);
    free(c);
    curl_global_cleanup();
}

int df_http_client_in_flight(const df_http_client *c)
{
    return c->in_flight;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    df_http_exchange *x = ctx;
    df_buf_append(&x->response, data, size * n);
    return size * n;
}

/* Every option, set again for each exchange on a reset handle: nothing
 * from the previous exchange leaks into this one. 0, or 1 when libcurl
 * refused an option. */
static int set_options(df_http_client *c, http_slot *s, df_http_exchange *x)
{
    CURL *e = s->easy;
    int bad = 0;
    bad |= curl_easy_setopt(e, CURLOPT_URL, x->url) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, s) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, x) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    /* No SIGALRM-based DNS timeouts: they are unsafe next to threads. */
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS) != CURLE_OK;
    bad |=
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, x->timeout_ms > 0 ? x->timeout_ms : 0L) != CURLE_OK;
    /* libcurl sends "Expect: 100-continue" before bodies over 1 MB and then
     * waits up to a second for a 100 that many servers (ours included)
     * never send: an empty Expect header turns that off. */
    s->headers = curl_slist_append(NULL, "Expect:");
    if (x->content_type) {
        char line[160];
        snprintf(line, sizeof line, "Content-Type: %s", x->content_type);
        s->headers = curl_slist_append(s->headers, line);
        bad |=
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body_len) != CURLE_OK;
        bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body ? x->body : "") != CURLE_OK;
    } else {
        bad |= curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) != CURLE_OK;
    }
    if (!s->headers) abort();
    bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->headers) != CURLE_OK;
    return bad;
}

static http_slot *free_slot(df_http_client *c)
{
    for (int i = 0; i < c->n_slots; i++)
        if (!c->slots[i].x) return &c->slots[i];
    return NULL;
}

int df_http_client_start(df_http_client *c, df_http_exchange *x, df_error *err)
{
    http_slot *s = free_slot(c);
    if (!s)
        return df_error_set(err, DF_E_RESOURCE, "%d HTTP exchanges in flight already", c->n_slots);
    if (s->easy)
        curl_easy_reset(s->easy);
    else
        s->easy = curl_easy_init();
    if (!s->easy) return df_error_set(err, DF_E_INTERNAL, "libcurl: cannot create a handle");
    df_buf_reset(&x->response);
    x->status = 0;
    x->response_type[0] = '\0';
    x->retry_after_s = 0;
    x->error[0] = '\0';
    s->errbuf[0] = '\0';
    x->slot = (int)(s - c->slots);
    if (set_options(c, s, x) || curl_multi_add_handle(c->multi, s->easy) != CURLM_OK) {
        curl_slist_free_all(s->headers);
        s->headers = NULL;
        return df_error_set(err, DF_E_INVALID_INPUT, "libcurl refused the request to %s", x->url);
    }
    s->x = x;
    c->in_flight++;
    return DF_OK;
}

/* Fills in the answer of a finished exchange and frees its slot. */
static df_http_exchange *finish(df_http_client *c, http_slot *s, CURLcode result)
{
    df_http_exchange *x = s->x;
    if (result == CURLE_OK) {
        char *type = NULL;
        curl_off_t retry_after = 0;
        curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &x->status);
        curl_easy_getinfo(s->easy, CURLINFO_CONTENT_TYPE, &type);
        curl_easy_getinfo(s->easy, CURLINFO_RETRY_AFTER, &retry_after);
        snprintf(x->response_type, sizeof x->response_type, "%s", type ? type : "");
        x->retry_after_s = (long)retry_after;
    } else {
        snprintf(x->error, sizeof x->error, "%s",
                 s->errbuf[0] ? s->errbuf : curl_easy_strerror(result));
    }
    curl_multi_remove_handle(c->multi, s->easy);
    curl_slist_free_all(s->headers);
    s->headers = NULL;
    s->x = NULL;
    c->in_flight--;
    return x;
}

static df_http_exchange *take_done(df_http_client *c)
{
    int left;
    CURLMsg *m;
    while ((m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        char *priv = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
        http_slot *s = (http_slot *)priv;
        if (s && s->x) return finish(c, s, m->data.result);
    }
    return NULL;
}

df_http_exchange *df_http_client_next(df_http_client *c, int wait_ms)
{
    for (int waited = 0;; waited = 1) {
        df_http_exchange *x = take_done(c);
        if (x) return x;
        int running;
        curl_multi_perform(c->multi, &running);
        if ((x = take_done(c))) return x;
        if (waited || wait_ms <= 0 || c->in_flight == 0) return NULL;
        curl_multi_poll(c->multi, NULL, 0, wait_ms, NULL);
    }
}

int df_http_client_run(df_http_client *c, df_http_exchange *x, df_error *err)
{
    int rc = df_http_client_start(c, x, err);
    if (rc) return rc;
    while (df_http_client_next(c, 1000) != x) {
    }
    return DF_OK;
}
