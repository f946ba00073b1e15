/*
 * test_http_client.c -- host/http_client.c against a scripted HTTP/1.1
 * server on loopback (a thread per connection, in this file): keep-alive
 * reuse across exchanges and handles, `parallel` exchanges at once and no
 * more, Retry-After, no "Expect: 100-continue" before large bodies, a
 * handle reset between a POST and a GET, transport errors and timeouts.
 */
#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http_client.h"

/* ---- the scripted server ------------------------------------------------------ */

typedef struct seen_request {
    char method[8];
    char path[64];
    char content_type[64];
    int has_expect;
    size_t body_len;
} seen_request;

static int listen_fd = -1;
static int port;
static pthread_t accept_thread;
static atomic_int connections; /* accepted so far */
static pthread_mutex_t seen_mu = PTHREAD_MUTEX_INITIALIZER;
static seen_request last_seen;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The value of header `name` in the head (NUL-terminated), or NULL. */
static const char *header_value(const char *head, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, name, n) || p[2 + n] != ':') continue;
        const char *v = p + 3 + n;
        while (*v == ' ')
            v++;
        size_t len = strcspn(v, "\r");
        snprintf(out, cap, "%.*s", (int)(len < cap ? len : cap - 1), v);
        return out;
    }
    return NULL;
}

static void answer(int fd, const seen_request *r)
{
    char resp[512];
    const char *status = "200 OK", *type = "application/json", *extra = "";
    char body[128];
    snprintf(body, sizeof body, "{\"method\":\"%s\",\"body_len\":%zu}", r->method, r->body_len);
    if (strcmp(r->path, "/busy") == 0) {
        status = "503 Service Unavailable";
        extra = "Retry-After: 7\r\n";
    } else if (strcmp(r->path, "/pb") == 0) {
        type = "application/x-protobuf";
    } else if (strcmp(r->path, "/slow") == 0) {
        usleep(300 * 1000);
    }
    int n = snprintf(resp, sizeof resp,
                     "HTTP/1.1 %s\r\nContent-Type: %s\r\n%sContent-Length: %zu\r\n\r\n%s", status,
                     type, extra, strlen(body), body);
    /* MSG_NOSIGNAL: a client that timed out has closed the socket. */
    if (send(fd, resp, (size_t)n, MSG_NOSIGNAL) != n) return;
}

/* Serves requests on one connection until the client closes it. */
static void *serve_connection(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char *buf = malloc(1 << 22);
    size_t have = 0;
    for (;;) {
        char *end;
        while (!(end = memmem(buf, have, "\r\n\r\n", 4))) {
            ssize_t n = read(fd, buf + have, (1 << 22) - have - 1);
            if (n <= 0) goto done;
            have += (size_t)n;
        }
        *end = '\0';
        seen_request r = {0};
        char value[64];
        sscanf(buf, "%7s %63s", r.method, r.path);
        size_t body_len = header_value(buf, "Content-Length", value, sizeof value)
                              ? (size_t)strtoul(value, NULL, 10)
                              : 0;
        header_value(buf, "Content-Type", r.content_type, sizeof r.content_type);
        r.has_expect = header_value(buf, "Expect", value, sizeof value) != NULL;
        size_t head_len = (size_t)(end - buf) + 4;
        while (have < head_len + body_len) {
            ssize_t n = read(fd, buf + have, (1 << 22) - have - 1);
            if (n <= 0) goto done;
            have += (size_t)n;
        }
        r.body_len = body_len;
        pthread_mutex_lock(&seen_mu);
        last_seen = r;
        pthread_mutex_unlock(&seen_mu);
        answer(fd, &r);
        memmove(buf, buf + head_len + body_len, have - head_len - body_len);
        have -= head_len + body_len;
    }
done:
    free(buf);
    close(fd);
    return NULL;
}

static void *accept_loop(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(listen_fd, NULL, NULL);
        if (fd < 0) return NULL;
        atomic_fetch_add(&connections, 1);
        pthread_t t;
        pthread_create(&t, NULL, serve_connection, (void *)(intptr_t)fd);
        pthread_detach(t);
    }
}

static int server_start(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&a, sizeof a) ||
        listen(listen_fd, 64) || getsockname(listen_fd, (struct sockaddr *)&a, &len))
        return -1;
    port = ntohs(a.sin_port);
    return pthread_create(&accept_thread, NULL, accept_loop, NULL) ? -1 : 0;
}

static int server_stop(void)
{
    shutdown(listen_fd, SHUT_RDWR); /* wakes accept() */
    pthread_join(accept_thread, NULL);
    close(listen_fd);
    return 0;
}

static void url_of(char *out, size_t cap, const char *path)
{
    snprintf(out, cap, "http://127.0.0.1:%d%s", port, path);
}

/* ---- the tests -------------------------------------------------------------------- */

static void test_http_sequential_exchanges_reuse_one_connection(void)
{
    df_http_client *c = df_http_client_new(2, "test", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    int before = atomic_load(&connections);
    char url[128];
    url_of(url, sizeof url, "/ok");
    df_http_exchange x = {.url = url};
    for (int i = 0; i < 20; i++) {
        CU_ASSERT_EQUAL(df_http_client_run(c, &x, NULL), DF_OK);
        CU_ASSERT_EQUAL(x.status, 200);
        CU_ASSERT_STRING_EQUAL(x.response_type, "application/json");
        CU_ASSERT_STRING_EQUAL(x.response.data, "{\"method\":\"GET\",\"body_len\":0}");
        CU_ASSERT_STRING_EQUAL(x.error, "");
    }
    CU_ASSERT_EQUAL(atomic_load(&connections) - before, 1);
    df_buf_free(&x.response);
    df_http_client_free(c);
}

static void test_http_parallel_exchanges_run_at_once_and_no_more(void)
{
    df_http_client *c = df_http_client_new(4, "test", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    int before = atomic_load(&connections);
    char url[128];
    url_of(url, sizeof url, "/slow");
    df_http_exchange x[5];
    memset(x, 0, sizeof x);
    for (int round = 0; round < 2; round++) {
        double t0 = now_s();
        for (int i = 0; i < 4; i++) {
            x[i].url = url;
            x[i].user = &x[i];
            CU_ASSERT_EQUAL(df_http_client_start(c, &x[i], NULL), DF_OK);
        }
        x[4].url = url;
        df_error err = DF_ERROR_INIT;
        CU_ASSERT_EQUAL(df_http_client_start(c, &x[4], &err), DF_E_RESOURCE);
        CU_ASSERT_EQUAL(df_http_client_in_flight(c), 4);
        int done = 0;
        while (done < 4) {
            df_http_exchange *got = df_http_client_next(c, 1000);
            if (!got) continue;
            CU_ASSERT_PTR_EQUAL(got->user, got);
            CU_ASSERT_EQUAL(got->status, 200);
            done++;
        }
        CU_ASSERT(now_s() - t0 < 1.0); /* 4 x 300 ms, side by side */
        CU_ASSERT_EQUAL(df_http_client_in_flight(c), 0);
        CU_ASSERT_PTR_NULL(df_http_client_next(c, 10));
    }
    CU_ASSERT_EQUAL(atomic_load(&connections) - before, 4); /* the second round reused them */
    for (int i = 0; i < 5; i++)
        df_buf_free(&x[i].response);
    df_http_client_free(c);
}

static void test_http_retry_after_and_content_type_are_reported(void)
{
    df_http_client *c = df_http_client_new(1, "test", NULL);
    char url[128];
    url_of(url, sizeof url, "/busy");
    df_http_exchange x = {.url = url};
    CU_ASSERT_EQUAL(df_http_client_run(c, &x, NULL), DF_OK);
    CU_ASSERT_EQUAL(x.status, 503);
    CU_ASSERT_EQUAL(x.retry_after_s, 7);
    url_of(url, sizeof url, "/pb");
    CU_ASSERT_EQUAL(df_http_client_run(c, &x, NULL), DF_OK);
    CU_ASSERT_EQUAL(x.status, 200);
    CU_ASSERT_EQUAL(x.retry_after_s, 0);
    CU_ASSERT_STRING_EQUAL(x.response_type, "application/x-protobuf");
    df_buf_free(&x.response);
    df_http_client_free(c);
}

static void test_http_large_post_sends_no_expect_and_no_delay(void)
{
    df_http_client *c = df_http_client_new(1, "test", NULL);
    size_t len = 3 << 20;
    char *body = malloc(len);
    memset(body, 'x', len);
    char url[128];
    url_of(url, sizeof url, "/ok");
    df_http_exchange x = {
        .url = url, .content_type = "application/x-protobuf", .body = body, .body_len = len};
    double t0 = now_s();
    CU_ASSERT_EQUAL(df_http_client_run(c, &x, NULL), DF_OK);
    CU_ASSERT(now_s() - t0 < 0.9); /* libcurl's Expect wait is 1 s */
    CU_ASSERT_EQUAL(x.status, 200);
    pthread_mutex_lock(&seen_mu);
    seen_request r = last_seen;
    pthread_mutex_unlock(&seen_mu);
    CU_ASSERT_STRING_EQUAL(r.method, "POST");
    CU_ASSERT_EQUAL(r.body_len, len);
    CU_ASSERT_EQUAL(r.has_expect, 0);
    CU_ASSERT_STRING_EQUAL(r.content_type, "application/x-protobuf");
    /* The same handle, reset: a GET without the POST's body or type. */
    df_http_exchange y = {.url = url};
    CU_ASSERT_EQUAL(df_http_client_run(c, &y, NULL), DF_OK);
    pthread_mutex_lock(&seen_mu);
    r = last_seen;
    pthread_mutex_unlock(&seen_mu);
    CU_ASSERT_STRING_EQUAL(r.method, "GET");
    CU_ASSERT_STRING_EQUAL(r.content_type, "");
    CU_ASSERT_EQUAL(r.body_len, 0);
    free(body);
    df_buf_free(&x.response);
    df_buf_free(&y.response);
    df_http_client_free(c);
}

static void test_http_no_answer_sets_error_not_status(void)
{
    /* A port that was just free: nobody listens there. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &alen);
    close(fd);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/ok", ntohs(a.sin_port));
    df_http_client *c = df_http_client_new(1, "test", NULL);
    df_http_exchange x = {.url = url};
    CU_ASSERT_EQUAL(df_http_client_run(c, &x, NULL), DF_OK);
    CU_ASSERT_EQUAL(x.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(x.error, "onnect"));
    df_http_exchange bad = {.url = "ftp://127.0.0.1/x"};
    CU_ASSERT_EQUAL(df_http_client_run(c, &bad, NULL), DF_OK);
    CU_ASSERT_EQUAL(bad.status, 0);
    CU_ASSERT_STRING_NOT_EQUAL(bad.error, "");
    df_buf_free(&x.response);
    df_buf_free(&bad.response);
    df_http_client_free(c);
}

static void test_http_timeout_ends_a_slow_exchange(void)
{
    df_http_client *c = df_http_client_new(1, "test", NULL);
    char url[128];
    url_of(url, sizeof url, "/slow");
    df_http_exchange x = {.url = url, .timeout_ms = 50};
    double t0 = now_s();
    CU_ASSERT_EQUAL(df_http_client_run(c, &x, NULL), DF_OK);
    CU_ASSERT(now_s() - t0 < 0.25);
    CU_ASSERT_EQUAL(x.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(x.error, "timed out"));
    df_buf_free(&x.response);
    df_http_client_free(c);
}

void df_test_register(void)
{
    CU_pSuite s = CU_add_suite("http_client", server_start, server_stop);
    CU_add_test(s, "sequential exchanges reuse one connection",
                test_http_sequential_exchanges_reuse_one_connection);
    CU_add_test(s, "parallel exchanges run at once, and no more",
                test_http_parallel_exchanges_run_at_once_and_no_more);
    CU_add_test(s, "Retry-After and Content-Type are reported",
                test_http_retry_after_and_content_type_are_reported);
    CU_add_test(s, "a large POST sends no Expect and does not wait",
                test_http_large_post_sends_no_expect_and_no_delay);
    CU_add_test(s, "no answer sets error, not status", test_http_no_answer_sets_error_not_status);
    CU_add_test(s, "a timeout ends a slow exchange", test_http_timeout_ends_a_slow_exchange);
}
