/*
 * gateway_server.c -- the gateway's io_uring loop: accept, receive, parse,
 * route, send; completions from flow threads arrive through an eventfd,
 * signals through a signalfd. One thread, no thread per connection.
 *
 * A connection handles one request at a time (pipelined requests wait in
 * its buffer until the previous response is sent, so responses keep their
 * order). Not here: what a request means (gateway_routes.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "docflow/log.h"
#include "gateway_internal.h"

enum { OP_ACCEPT = 1, OP_RECV, OP_SEND, OP_EVENT, OP_SIGNAL, OP_TIMER };

#define RECV_CHUNK (64 * 1024)

static uint64_t ud(int op, int idx, uint32_t gen)
{
    return ((uint64_t)gen << 32) | ((uint64_t)(uint32_t)idx << 8) | (uint64_t)op;
}

uint64_t gw_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct io_uring_sqe *get_sqe(gw *g)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&g->ring);
    if (!sqe) { /* the submission queue is full: flush it and retry */
        io_uring_submit(&g->ring);
        sqe = io_uring_get_sqe(&g->ring);
    }
    if (!sqe) {
        df_log(DF_LOG_ERROR, "gateway", "io_uring submission queue exhausted");
        abort();
    }
    return sqe;
}

void df_gateway_block_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* ---- arming operations ----------------------------------------------------------- */

static void arm_accept(gw *g)
{
    if (g->listen_fd < 0 || g->accept_armed) return;
    struct io_uring_sqe *sqe = get_sqe(g);
    io_uring_prep_accept(sqe, g->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, ud(OP_ACCEPT, 0, 0));
    g->accept_armed = 1;
}

static void arm_recv(gw *g, int idx)
{
    gw_conn *c = &g->conns[idx];
    if (c->recv_armed || c->closing) return;
    df_buf_reserve(&c->in, RECV_CHUNK);
    struct io_uring_sqe *sqe = get_sqe(g);
    io_uring_prep_recv(sqe, c->fd, c->in.data + c->in.len, c->in.cap - c->in.len - 1, 0);
    io_uring_sqe_set_data64(sqe, ud(OP_RECV, idx, c->gen));
    c->recv_armed = 1;
}

static void arm_send(gw *g, int idx)
{
    gw_conn *c = &g->conns[idx];
    struct io_uring_sqe *sqe = get_sqe(g);
    io_uring_prep_send(sqe, c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, ud(OP_SEND, idx, c->gen));
    c->send_armed = 1;
}

static void arm_event(gw *g)
{
    struct io_uring_sqe *sqe = get_sqe(g);
    io_uring_prep_read(sqe, g->event_fd, &g->event_value, sizeof g->event_value, 0);
    io_uring_sqe_set_data64(sqe, ud(OP_EVENT, 0, 0));
}

static void arm_signal(gw *g)
{
    struct io_uring_sqe *sqe = get_sqe(g);
    io_uring_prep_read(sqe, g->signal_fd, &g->siginfo, sizeof g->siginfo, 0);
    io_uring_sqe_set_data64(sqe, ud(OP_SIGNAL, 0, 0));
}

/* ---- connections -------------------------------------------------------------------- */

static void conn_close(gw *g, int idx)
{
    gw_conn *c = &g->conns[idx];
    if (!c->in_use) return;
    c->closing = 1;
    /* Wait for our own operations to come back before reusing the slot;
     * shutdown makes pending receives finish now. */
    if (c->recv_armed || c->send_armed) {
        shutdown(c->fd, SHUT_RDWR);
        return;
    }
    if (c->busy) return; /* the flow still answers; dropped when it does */
    close(c->fd);
    df_buf_free(&c->in);
    df_buf_free(&c->scratch);
    df_buf_free(&c->out);
    df_http_progress_reset(&c->parse_progress);
    c->in_use = 0;
    c->gen++;
    g->free_idx[g->n_free++] = idx;
}

static void conn_open(gw *g, int fd)
{
    if (g->n_free == 0) {
        static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                                   "Retry-After: 1\r\nConnection: close\r\n\r\n";
        ssize_t ignored = write(fd, busy, sizeof busy - 1);
        (void)ignored;
        close(fd);
        return;
    }
    int idx = g->free_idx[--g->n_free];
    gw_conn *c = &g->conns[idx];
    uint32_t gen = c->gen;
    memset(c, 0, sizeof *c);
    c->gen = gen;
    c->fd = fd;
    df_http_progress_reset(&c->parse_progress);
    c->in_use = 1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    arm_recv(g, idx);
}

/* Curl and others send "Expect: 100-continue" and wait for this line
 * before sending a large body. */
static void maybe_continue(gw *g, int idx)
{
    gw_conn *c = &g->conns[idx];
    if (c->sent_continue || !c->in.len) return;
    const char *end = memmem(c->in.data, c->in.len, "\r\n\r\n", 4);
    if (!end || !memmem(c->in.data, (size_t)(end - c->in.data), "100-continue", 12)) return;
    c->sent_continue = 1;
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    ssize_t ignored = send(c->fd, cont, sizeof cont - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)ignored;
}

/* Parses what the connection received; routes a whole request. */
static void conn_process(gw *g, int idx)
{
    gw_conn *c = &g->conns[idx];
    if (c->busy || c->send_armed || c->closing) return;
    df_http_request req;
    size_t consumed = 0;
    int status = 0;
    const char *reason = NULL;
    df_http_result r =
        c->in.len ? df_http_parse_resume(c->in.data, c->in.len, &g->limits, &c->parse_progress,
                                         &req, &c->scratch, &consumed, &status, &reason)
                  : DF_HTTP_INCOMPLETE;
    if (r == DF_HTTP_INCOMPLETE) {
        if (g->draining && c->in.len == 0) {
            conn_close(g, idx);
            return;
        }
        maybe_continue(g, idx);
        arm_recv(g, idx);
        return;
    }
    if (r == DF_HTTP_ERROR) {
        gw_respond_error(g, c, status, reason, 0);
        df_metrics_observe_refused(g->metrics, "invalid", status);
        c->consumed = c->in.len;
        arm_send(g, idx);
        return;
    }
    c->consumed = consumed;
    c->keep_alive = req.keep_alive && !g->draining;
    c->sent_continue = 0;
    if (gw_route(g, idx, c, &req))
        arm_send(g, idx);
    else
        c->busy = 1;
}

static void on_recv(gw *g, int idx, int res)
{
    gw_conn *c = &g->conns[idx];
    c->recv_armed = 0;
    if (c->closing || res <= 0) { /* peer closed, reset, or we shut it down */
        conn_close(g, idx);
        return;
    }
    c->in.len += (size_t)res;
    c->in.data[c->in.len] = '\0';
    conn_process(g, idx);
}

/* After a response went out: drop the request's bytes, go on. */
static void on_sent_all(gw *g, int idx)
{
    gw_conn *c = &g->conns[idx];
    df_buf_reset(&c->out);
    c->out_off = 0;
    if (!c->keep_alive) {
        conn_close(g, idx);
        return;
    }
    memmove(c->in.data, c->in.data + c->consumed, c->in.len - c->consumed);
    c->in.len -= c->consumed;
    c->consumed = 0;
    df_http_progress_reset(&c->parse_progress);
    conn_process(g, idx);
}

static void on_send(gw *g, int idx, int res)
{
    gw_conn *c = &g->conns[idx];
    c->send_armed = 0;
    if (c->closing || res <= 0) {
        conn_close(g, idx);
        return;
    }
    c->out_off += (size_t)res;
    if (c->out_off < c->out.len)
        arm_send(g, idx);
    else
        on_sent_all(g, idx);
}

/* ---- completions from flow threads ---------------------------------------------------- */

/* Spare records kept, and the largest buffer a spare keeps: enough for
 * the steady state of a busy server without holding big answers idle. */
#define GW_SPARE_MAX     256
#define GW_SPARE_BUF_MAX (16 * 1024)

gw_pending *gw_pending_get(gw *g, int idx, const gw_conn *c)
{
    gw_pending *p = g->spare;
    if (p) {
        g->spare = p->next;
        g->n_spare--;
    } else {
        p = calloc(1, sizeof *p);
        if (!p) abort();
    }
    p->next = NULL;
    p->g = g;
    p->idx = idx;
    p->gen = c->gen;
    p->keep_alive = c->keep_alive;
    p->t0 = gw_now_ns();
    return p;
}

static void buf_trim(df_buf *b)
{
    if (b->cap > GW_SPARE_BUF_MAX)
        df_buf_free(b);
    else
        df_buf_reset(b);
}

static void pending_destroy(gw_pending *p)
{
    df_flow_response_free(p->resp);
    df_arena_free(p->req.arena);
    df_buf_free(&p->names);
    df_buf_free(&p->response);
    df_buf_free(&p->body);
    free(p);
}

void gw_pending_put(gw *g, gw_pending *p)
{
    if (g->n_spare >= GW_SPARE_MAX) {
        pending_destroy(p);
        return;
    }
    df_flow_response_free(p->resp);
    df_arena_free(p->req.arena); /* still ours when the flow never took it */
    df_buf names = p->names, response = p->response, body = p->body;
    buf_trim(&names);
    buf_trim(&response);
    buf_trim(&body);
    *p = (gw_pending){.next = g->spare, .names = names, .response = response, .body = body};
    g->spare = p;
    g->n_spare++;
}

void gw_pending_names(gw_pending *p, const char *endpoint, const char *target)
{
    df_buf_reset(&p->names);
    size_t ep_len = strlen(endpoint);
    df_buf_append(&p->names, endpoint, ep_len + 1);
    if (target) df_buf_append(&p->names, target, strlen(target) + 1);
    p->endpoint = p->names.data;
    p->target = target ? p->names.data + ep_len + 1 : NULL;
}

void gw_complete(gw *g, gw_pending *p)
{
    p->next = NULL;
    pthread_mutex_lock(&g->done_mu);
    /* The loop takes the whole list at once, so only the first completion
     * after it emptied the list needs to wake it. */
    int was_empty = g->done_head == NULL;
    if (g->done_tail)
        g->done_tail->next = p;
    else
        g->done_head = p;
    g->done_tail = p;
    pthread_mutex_unlock(&g->done_mu);
    if (!was_empty) return;
    uint64_t one = 1;
    ssize_t ignored = write(g->event_fd, &one, sizeof one);
    (void)ignored;
}

/* While draining, a keep-alive answer must tell the client we close. */
static void say_close(df_buf *out)
{
    char *hdr = memmem(out->data, out->len, "Connection: keep-alive\r\n", 24);
    if (!hdr) return;
    df_buf fixed = DF_BUF_INIT;
    df_buf_append(&fixed, out->data, (size_t)(hdr - out->data));
    df_buf_append_str(&fixed, "Connection: close\r\n");
    df_buf_append(&fixed, hdr + 24, out->len - (size_t)(hdr - out->data) - 24);
    df_buf_free(out);
    *out = fixed;
}

/* A finished request's answer goes out on its connection, if that is
 * still the one that asked. The buffers swap: the connection's empty one
 * goes back with the record. */
static void deliver(gw *g, gw_pending *p)
{
    gw_conn *c = &g->conns[p->idx];
    if (!c->in_use || c->gen != p->gen) return;
    c->busy = 0;
    if (c->closing) {
        conn_close(g, p->idx);
        return;
    }
    df_buf spent = c->out;
    c->out = p->response;
    df_buf_reset(&spent);
    p->response = spent;
    if (g->draining && p->keep_alive) say_close(&c->out);
    c->out_off = 0;
    c->keep_alive = p->keep_alive && !g->draining;
    arm_send(g, p->idx);
}

static void on_event(gw *g)
{
    pthread_mutex_lock(&g->done_mu);
    gw_pending *p = g->done_head;
    g->done_head = g->done_tail = NULL;
    pthread_mutex_unlock(&g->done_mu);
    while (p) {
        gw_pending *next = p->next;
        g->with_flow--;
        deliver(g, p);
        gw_pending_put(g, p);
        p = next;
    }
    gw_post_waiting(g);
    arm_event(g);
}

/* ---- signals and draining ----------------------------------------------------------------- */

static void start_drain(gw *g)
{
    if (g->draining) return;
    g->draining = 1;
    g->drain_deadline_ns = gw_now_ns() + g->opt.drain_ms * 1000000ull;
    df_log(DF_LOG_INFO, "gateway", "draining: %d request(s) in flight, up to %llu ms", g->with_flow,
           (unsigned long long)g->opt.drain_ms);
    if (g->listen_fd >= 0) {
        shutdown(g->listen_fd, SHUT_RDWR); /* the armed accept fails now */
        close(g->listen_fd);
        g->listen_fd = -1;
    }
    for (int i = 0; i < g->n_conns; i++) /* idle keep-alive connections go now */
        if (g->conns[i].in_use && !g->conns[i].busy && !g->conns[i].send_armed &&
            g->conns[i].in.len == 0)
            conn_close(g, i);
}

static void on_signal(gw *g)
{
    g->signals++;
    if (g->signals > 1) {
        df_log(DF_LOG_WARN, "gateway", "second signal: exiting at once");
        _exit(1);
    }
    df_log(DF_LOG_INFO, "gateway", "%s received: stopping",
           g->siginfo.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
    start_drain(g);
    arm_signal(g);
}

/* ---- setup ---------------------------------------------------------------------------------- */

static int listen_on(const char *host, int port, int *bound_port, df_error *err)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        df_error_set(err, DF_E_INVALID_INPUT,
                     "host '%s': not an IPv4 address (use e.g. 127.0.0.1 or 0.0.0.0)", host);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0) {
        df_error_set(err, DF_E_IO, "socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 1024) != 0) {
        int e = errno;
        close(fd);
        df_error_set(err, e == EADDRINUSE ? DF_E_INVALID_INPUT : DF_E_IO,
                     "cannot listen on %s:%d: %s%s", host, port, strerror(e),
                     e == EADDRINUSE ? " (choose another --port, or 0 for a free one)" : "");
        return -1;
    }
    socklen_t len = sizeof addr;
    getsockname(fd, (struct sockaddr *)&addr, &len);
    *bound_port = ntohs(addr.sin_port);
    return fd;
}

static int gw_setup(gw *g, df_error *err)
{
    g->n_conns = g->opt.max_connections;
    g->conns = calloc((size_t)g->n_conns, sizeof *g->conns);
    g->free_idx = calloc((size_t)g->n_conns, sizeof *g->free_idx);
    if (!g->conns || !g->free_idx) abort();
    for (int i = g->n_conns; i-- > 0;)
        g->free_idx[g->n_free++] = i;
    pthread_mutex_init(&g->done_mu, NULL);
    g->metrics = df_metrics_new();
    g->event_fd = eventfd(0, EFD_CLOEXEC);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    g->signal_fd = signalfd(-1, &set, SFD_CLOEXEC);
    if (g->event_fd < 0 || g->signal_fd < 0)
        return df_error_set(err, DF_E_RESOURCE, "eventfd/signalfd: %s", strerror(errno));
    int rc = io_uring_queue_init(4096, &g->ring, 0);
    if (rc < 0)
        return df_error_set(err, DF_E_RESOURCE, "io_uring is not available here: %s",
                            strerror(-rc));
    int port = 0;
    g->listen_fd = listen_on(g->opt.host, g->opt.port, &port, err);
    if (g->listen_fd < 0) return err->code;
    df_log(DF_LOG_INFO, "gateway", "ready on http://%s:%d", g->opt.host, port);
    return DF_OK;
}

static void gw_teardown(gw *g)
{
    for (int i = 0; i < g->n_conns; i++) {
        gw_conn *c = &g->conns[i];
        if (!c->in_use) continue;
        close(c->fd);
        df_buf_free(&c->in);
        df_buf_free(&c->scratch);
        df_buf_free(&c->out);
    }
    gw_pending *lists[] = {g->wait_head, g->done_head, g->spare};
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
        for (gw_pending *p = lists[i]; p;) {
            gw_pending *next = p->next;
            pending_destroy(p);
            p = next;
        }
    }
    if (g->listen_fd >= 0) close(g->listen_fd);
    io_uring_queue_exit(&g->ring);
    if (g->event_fd >= 0) close(g->event_fd);
    if (g->signal_fd >= 0) close(g->signal_fd);
    df_metrics_free(g->metrics);
    pthread_mutex_destroy(&g->done_mu);
    free(g->conns);
    free(g->free_idx);
}

static int drained(gw *g)
{
    if (!g->draining) return 0;
    if (g->with_flow == 0) {
        for (int i = 0; i < g->n_conns; i++)
            if (g->conns[i].in_use && g->conns[i].send_armed) return 0;
        return 1;
    }
    return gw_now_ns() >= g->drain_deadline_ns;
}

static void dispatch_cqe(gw *g, struct io_uring_cqe *cqe)
{
    uint64_t data = io_uring_cqe_get_data64(cqe);
    int op = (int)(data & 0xff), idx = (int)((data >> 8) & 0xffffff);
    uint32_t gen = (uint32_t)(data >> 32);
    switch (op) {
    case OP_ACCEPT:
        g->accept_armed = 0;
        if (cqe->res >= 0 && g->draining)
            close(cqe->res);
        else if (cqe->res >= 0)
            conn_open(g, cqe->res);
        if (!g->draining) arm_accept(g);
        break;
    case OP_RECV:
    case OP_SEND:
        if (g->conns[idx].gen != gen) break; /* a closed connection's leftover */
        if (op == OP_RECV)
            on_recv(g, idx, cqe->res);
        else
            on_send(g, idx, cqe->res);
        break;
    case OP_EVENT:
        on_event(g);
        break;
    case OP_SIGNAL:
        on_signal(g);
        break;
    default:
        break;
    }
}

int df_gateway_serve(df_flow *flow, const df_gateway_options *opt, df_error *err)
{
    gw g = {0};
    g.flow = flow;
    g.cfg = df_flow_config_of(flow);
    g.opt = *opt;
    if (!g.opt.host) g.opt.host = "127.0.0.1";
    if (!g.opt.max_body_bytes) g.opt.max_body_bytes = 64u << 20;
    if (!g.opt.max_header_bytes) g.opt.max_header_bytes = 16u << 10;
    if (!g.opt.drain_ms) g.opt.drain_ms = 10000;
    if (g.opt.max_connections <= 0) g.opt.max_connections = 4096;
    g.limits = (df_http_limits){g.opt.max_header_bytes, g.opt.max_body_bytes};
    g.listen_fd = g.event_fd = g.signal_fd = -1;
    int rc = gw_setup(&g, err);
    if (rc == DF_OK) {
        arm_accept(&g);
        arm_event(&g);
        arm_signal(&g);
        while (!drained(&g)) {
            io_uring_submit(&g.ring);
            struct io_uring_cqe *cqe;
            struct __kernel_timespec ts = {0, 100 * 1000000}; /* re-check the drain deadline */
            int w = g.draining ? io_uring_wait_cqe_timeout(&g.ring, &cqe, &ts)
                               : io_uring_wait_cqe(&g.ring, &cqe);
            if (w == -ETIME || w == -EINTR) continue;
            if (w < 0) {
                rc = df_error_set(err, DF_E_IO, "io_uring wait: %s", strerror(-w));
                break;
            }
            unsigned head, n = 0;
            df_flow_defer_begin(); /* the batch's requests reach the flow as one burst */
            io_uring_for_each_cqe(&g.ring, head, cqe)
            {
                dispatch_cqe(&g, cqe);
                n++;
            }
            io_uring_cq_advance(&g.ring, n);
            df_flow_defer_end();
        }
        if (g.with_flow > 0)
            df_log(DF_LOG_WARN, "gateway", "drain time over: %d request(s) still running",
                   g.with_flow);
    }
    /* Close the flow while the completion list still exists: late answers
     * land there and are dropped by the teardown. */
    uint64_t now = gw_now_ns();
    uint64_t left_ms = g.drain_deadline_ns > now ? (g.drain_deadline_ns - now) / 1000000ull : 1;
    df_flow_close(flow, left_ms ? left_ms : 1);
    gw_teardown(&g);
    return rc;
}
