/*
 * gateway_internal.h -- what the gateway's server loop (gateway_server.c)
 * and its HTTP semantics (gateway_routes.c) share.
 *
 * One thread runs the io_uring loop: accept, receive, parse, route, send.
 * Flow threads finish requests: they encode the response and hand the bytes
 * back through a locked list and an eventfd the loop reads.
 */
#ifndef DOCFLOW_GATEWAY_INTERNAL_H
#define DOCFLOW_GATEWAY_INTERNAL_H

#include <liburing.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/signalfd.h>

#include "docflow/buf.h"
#include "docflow/flow.h"
#include "gateway.h"
#include "gateway_metrics.h"
#include "http_parser.h"

typedef struct gw gw;

typedef struct gw_conn {
    int fd;
    uint32_t gen; /* bumped on reuse: completions of a closed connection are stale */
    int in_use;
    df_buf in;      /* received, not yet consumed */
    df_buf scratch; /* de-chunked body */
    df_buf out;     /* the response being sent */
    size_t out_off;
    size_t consumed; /* bytes of `in` the current request used */
    int keep_alive;  /* of the current request */
    int busy;        /* the current request is with the flow */
    int recv_armed, send_armed;
    int closing;
    int sent_continue;
    /* How far the parser walked a chunked body in `in`; reset whenever
     * `in` shifts (a request consumed) and on open and close. */
    df_http_progress parse_progress;
} gw_conn;

/* A request posted to the flow: the flow callback's context, then its
 * answer on the way back to the loop. The loop recycles it with the buffers
 * it holds, and frees the flow's response itself, so request memory is
 * allocated and freed on the loop's thread and a request allocates little
 * in steady state. */
typedef struct gw_pending {
    struct gw_pending *next; /* prefetch_wait queue, done list or spare list */
    gw *g;
    int idx;
    uint32_t gen;
    int protobuf;
    int dry_run;
    int keep_alive;
    uint64_t t0;          /* gw_now_ns() at receipt */
    const char *endpoint; /* for metrics; in `names` */
    const char *target;   /* targetExecutor or NULL; in `names` */
    df_buf names;
    df_flow_request req;
    df_flow_response *resp; /* the flow's answer, freed by the loop */
    df_buf response;        /* the whole HTTP answer */
    df_buf body;            /* scratch of the encoder */
} gw_pending;

struct gw {
    df_flow *flow;
    const df_flow_config *cfg;
    df_gateway_options opt;
    df_http_limits limits;
    struct io_uring ring;
    int listen_fd, event_fd, signal_fd;
    uint64_t event_value;
    struct signalfd_siginfo siginfo;
    gw_conn *conns;
    int n_conns;
    int *free_idx;
    int n_free;
    pthread_mutex_t done_mu;
    gw_pending *done_head, *done_tail;
    gw_pending *spare; /* recycled requests (loop thread only) */
    int n_spare;
    gw_pending *wait_head, *wait_tail; /* prefetch_wait: not yet admitted */
    df_metrics *metrics;
    int with_flow; /* requests handed to the flow, not yet answered */
    int draining;
    int signals;
    uint64_t drain_deadline_ns;
    int accept_armed;
};

/* gateway_routes.c: answers one parsed request, either at once (c->out
 * filled, returns 1) or by posting it to the flow (returns 0). */
int gw_route(gw *g, int idx, gw_conn *c, const df_http_request *req);
/* A JSON error response in c->out. */
void gw_respond_error(gw *g, gw_conn *c, int status, const char *msg, int keep_alive);
/* Posts the queued prefetch_wait requests while the flow has room. */
void gw_post_waiting(gw *g);
/* Extra headers every response carries (CORS), or "". */
const char *gw_common_headers(const gw *g);

/* gateway_server.c: hands a finished request (p->response filled) to the
 * loop (any thread). */
void gw_complete(gw *g, gw_pending *p);
/* A request record for connection `idx`, recycled or new (loop thread). */
gw_pending *gw_pending_get(gw *g, int idx, const gw_conn *c);
/* Gives a record back: frees the flow's response and any request arena
 * still held, keeps the buffers for the next one (loop thread). */
void gw_pending_put(gw *g, gw_pending *p);
/* Sets p->endpoint and p->target (NULL: none) to copies in p->names. */
void gw_pending_names(gw_pending *p, const char *endpoint, const char *target);
uint64_t gw_now_ns(void);

#endif
