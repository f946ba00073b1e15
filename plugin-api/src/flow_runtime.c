/*
 * flow_runtime.c -- runs a flow: one thread and one queue per executor
 * instance, requests walking the DAG as tasks handed from queue to queue.
 *
 * Memory: a request's documents live in "lane" arenas. A lane is touched by
 * one thread at a time (the task that holds it), so arenas need no locks.
 * Where the DAG forks (several downstream nodes, or shards polled ALL) every
 * extra branch gets a deep copy in a lane of its own; a join merges its
 * inputs into the lane of its first input. Request-wide state (join slots,
 * results, routes, the failure) lives in a meta arena under the request's
 * mutex. A response owns every arena of its request.
 *
 * Not here: parsing and validating the YAML (flow_config.c), the merge rules
 * (doc_reduce.c), the `when` language (doc_filter.c).
 */
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "docflow/doc_reduce.h"
#include "docflow/executor_runtime.h"
#include "docflow/flow.h"
#include "docflow/log.h"
#include "document_internal.h"

enum { ROLE_BEFORE, ROLE_MAIN, ROLE_AFTER };

typedef struct fl_req fl_req;

/* One executor call in progress for a request: who, since when, and until
 * when its own timeout_send lets it run (0: no limit). */
typedef struct fl_running {
    const char *label;
    uint64_t start_ns;
    uint64_t deadline_ns;
    int active;
} fl_running;
typedef struct fl_node fl_node;
typedef struct fl_instance fl_instance;

typedef struct fl_task {
    struct fl_task *next;
    fl_req *req;
    fl_node *node;
    int role;
    int shard;
    df_arena *lane;
    df_docs *docs;
    df_docs **matrix; /* join inputs, in needs order; NULL otherwise */
    size_t n_matrix;
} fl_task;

struct fl_instance {
    df_flow *flow;
    fl_node *node;
    df_executor *ex;
    const char *label; /* "indexer/shard-1/rep-0" */
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    fl_task *head, *tail;
    int idle; /* the worker waits for work (under mu) */
    int stop;
    atomic_int outstanding; /* queued + running tasks */
    uint64_t call_ns;       /* moving average of its calls' time (worker thread only) */
};

struct fl_node {
    const df_flow_node *cfg;
    size_t index;
    fl_instance *before, *after;
    fl_instance *instances; /* shards x replicas: [shard * replicas + replica] */
    int n_shards, n_replicas;
    size_t *downstream; /* node indices */
    size_t n_downstream;
    size_t *upstream; /* node indices, in needs order; empty = gateway */
    size_t n_upstream;
    int end_slot;     /* index among the end nodes, -1 when something needs it */
    size_t task_base; /* this node's first slot in a request's tasks */
    int passthrough;  /* Jina's BaseExecutor: no instance, documents go on */
};

/* upstream[] entry standing for the gateway (the request's documents). */
#define FL_GATEWAY ((size_t)-1)

/* Per request and node: inputs of a join, outputs of shards polled ALL. */
typedef struct fl_slots {
    int arrived;
    df_docs **docs;
    df_arena **lanes;
} fl_slots;

struct fl_req {
    df_flow *flow;
    pthread_mutex_t mu;
    df_arena *meta;    /* holds this struct and request-wide state; touched under mu */
    df_arena **arenas; /* every lane (a list in meta) */
    size_t n_arenas, cap_arenas;
    df_arena *inline_arenas[4];
    fl_task *tasks; /* per node: before, one per shard, after (FL_TASK_SLOTS) */
    const char *id;
    const char *endpoint;
    const df_value *params;
    df_docs *groundtruths;
    regex_t target;
    int has_target;
    fl_slots *joins;   /* per node */
    fl_slots *gathers; /* per node (shards polled ALL) */
    fl_slots ends;     /* per end node */
    df_value *results; /* __results__, in meta */
    df_flow_route *routes;
    size_t n_routes, cap_routes;
    /* Written under mu; read without it where a stale value only delays
     * the decision to skip work by one hop. */
    atomic_int failed;
    const char *error, *error_executor;
    atomic_int pending;   /* tasks queued or running, +1 while posting */
    atomic_int delivered; /* the response was handed out (done or timed out) */
    uint64_t deadline_ns; /* the request's timeout, 0: none */
    fl_running *running;  /* executor calls in progress (meta arena) */
    size_t n_running, cap_running;
    df_flow_done_fn done;
    void *done_ctx;
    df_docs *final_docs;
    struct fl_req *next_inflight, *prev_inflight;
};

struct df_flow {
    const df_flow_config *cfg;
    fl_node *nodes;
    size_t n_nodes;
    size_t n_ends;
    pthread_mutex_t mu; /* in-flight list, counters, closing */
    pthread_cond_t cv;  /* a request finished */
    pthread_cond_t watch_cv;
    fl_req *inflight;
    atomic_int n_inflight; /* changed under mu, read without it */
    size_t n_starts;       /* inputs that take the request's documents */
    size_t n_tasks;        /* task slots per request, all nodes */
    int closing;
    int watchdog_stop;
    pthread_t watchdog;
    int watchdog_started;
    df_arena *labels; /* instance labels, live as long as the flow */
};

/* Responses carry the arenas they own behind the public struct. The
 * struct itself lives in `meta`, which is freed last. */
typedef struct fl_response {
    df_flow_response pub;
    df_arena **arenas;
    size_t n_arenas;
    df_arena *meta;
} fl_response;

/* Task slots per node and request: uses_before, one per shard, uses_after.
 * A node starts at most once per request, so a slot is used at most once. */
#define FL_TASK_SLOTS(n) ((size_t)(n)->n_shards + 2)

static uint64_t now_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- lanes ------------------------------------------------------------------ */

static void req_adopt_arena(fl_req *r, df_arena *a)
{
    pthread_mutex_lock(&r->mu);
    if (r->n_arenas == r->cap_arenas) {
        size_t cap = r->cap_arenas * 2;
        df_arena **grown = df_arena_alloc(r->meta, cap * sizeof *grown);
        memcpy(grown, r->arenas, r->n_arenas * sizeof *grown);
        r->arenas = grown;
        r->cap_arenas = cap;
    }
    r->arenas[r->n_arenas++] = a;
    pthread_mutex_unlock(&r->mu);
}

/* A deep copy of `docs` in a new lane of the request. */
static df_docs *fork_lane(fl_req *r, const df_docs *docs, df_arena **lane_out)
{
    df_arena *lane = df_arena_new(0);
    req_adopt_arena(r, lane);
    *lane_out = lane;
    return df_docs_copy(lane, docs);
}

/* ---- failures, routes, results ------------------------------------------------ */

static void req_fail_locked(fl_req *r, int code, const char *executor, const char *msg)
{
    if (atomic_load(&r->failed)) return;
    r->error = df_arena_strdup(r->meta, msg);
    r->error_executor = executor ? df_arena_strdup(r->meta, executor) : NULL;
    atomic_store(&r->failed, code ? code : DF_E_INTERNAL);
}

static void req_record(fl_req *r, const char *label, uint64_t t0, uint64_t t1, int rc,
                       const df_value *results, const df_error *err)
{
    pthread_mutex_lock(&r->mu);
    if (r->n_routes == r->cap_routes) {
        size_t cap = r->cap_routes ? r->cap_routes * 2 : 8;
        r->routes = df_arena_realloc(r->meta, r->routes, r->n_routes * sizeof *r->routes,
                                     cap * sizeof *r->routes);
        r->cap_routes = cap;
    }
    r->routes[r->n_routes++] = (df_flow_route){label, t0, t1, rc};
    for (size_t i = 0; i < df_value_len(results); i++)
        df_value_set(r->results, df_value_key_at(results, i), df_value_at(results, i));
    if (rc) req_fail_locked(r, rc, label, err->msg);
    pthread_mutex_unlock(&r->mu);
}

/* ---- queues ------------------------------------------------------------------- */

/* Deferred wake-ups. A thread that hands off a burst of tasks (the gateway
 * after a batch of completions, a worker draining its queue) wakes each
 * idle consumer once, after the burst, instead of at the first task: a
 * fast consumer woken at once would drain one task, sleep, and be woken
 * again, and on a small machine those switches cost more than the work. */
#define FL_DEFER_MAX 16
#define FL_DEFER_NS  20000 /* the longest a worker defers while it has tasks */
#define FL_FAST_NS   5000  /* executors whose calls average under this defer */
static _Thread_local struct {
    int depth;
    int n;
    uint64_t since; /* CLOCK_MONOTONIC ns of the first deferred wake */
    fl_instance *items[FL_DEFER_MAX];
} fl_wakes;

static void wake(fl_instance *in)
{
    if (!fl_wakes.depth || fl_wakes.n == FL_DEFER_MAX) {
        pthread_cond_signal(&in->cv);
        return;
    }
    for (int i = 0; i < fl_wakes.n; i++)
        if (fl_wakes.items[i] == in) return;
    if (!fl_wakes.n) fl_wakes.since = now_ns(CLOCK_MONOTONIC);
    fl_wakes.items[fl_wakes.n++] = in;
}

static void wakes_flush(void)
{
    for (int i = 0; i < fl_wakes.n; i++)
        pthread_cond_signal(&fl_wakes.items[i]->cv);
    fl_wakes.n = 0;
}

void df_flow_defer_begin(void)
{
    fl_wakes.depth++;
}

void df_flow_defer_end(void)
{
    if (fl_wakes.depth > 0 && --fl_wakes.depth == 0) wakes_flush();
}

static void enqueue(fl_instance *in, fl_task *t)
{
    atomic_fetch_add(&t->req->pending, 1);
    atomic_fetch_add(&in->outstanding, 1);
    t->next = NULL;
    pthread_mutex_lock(&in->mu);
    if (in->tail)
        in->tail->next = t;
    else
        in->head = t;
    in->tail = t;
    int idle = in->idle;
    pthread_mutex_unlock(&in->mu);
    /* After unlocking: a worker woken while we held the lock would only
     * block on it again. */
    if (idle) wake(in);
}

/* The request's task slot for this node, role and shard (see FL_TASK_SLOTS). */
static fl_task *task_new(fl_req *r, fl_node *n, int role, int shard, df_arena *lane, df_docs *docs)
{
    size_t slot = role == ROLE_BEFORE ? 0
                  : role == ROLE_MAIN ? 1 + (size_t)shard
                                      : 1 + (size_t)n->n_shards;
    fl_task *t = &r->tasks[n->task_base + slot];
    *t = (fl_task){NULL, r, n, role, shard, lane, docs, NULL, 0};
    return t;
}

/* Least outstanding work first among instances [first, first + n); ties
 * go round-robin (from a rotating start), so requests sent one at a time
 * still spread over replicas and ANY-polled shards. */
static fl_instance *pick_instance(fl_instance *base, int first, int n)
{
    static atomic_uint rotor;
    int start = (int)(atomic_fetch_add(&rotor, 1) % (unsigned)n);
    fl_instance *best = &base[first + start];
    int best_load = atomic_load(&best->outstanding);
    for (int k = 1; k < n && best_load > 0; k++) {
        fl_instance *cand = &base[first + (start + k) % n];
        int load = atomic_load(&cand->outstanding);
        if (load < best_load) {
            best = cand;
            best_load = load;
        }
    }
    return best;
}

/* ---- walking the DAG --------------------------------------------------------------- */

static void node_start(fl_req *r, fl_node *n, df_docs *docs, df_arena *lane, df_docs **matrix,
                       size_t n_matrix);

static int target_matches(fl_req *r, const fl_node *n)
{
    return !r->has_target || regexec(&r->target, n->cfg->name, 0, NULL, 0) == 0;
}

/* Gives node `down` its input number `slot`; a join starts once all its
 * inputs arrived, in the lane of its first input (the other inputs are
 * finished, so reading them from here is safe). */
static void deliver_input(fl_req *r, fl_node *down, size_t slot, df_docs *d, df_arena *l)
{
    if (down->n_upstream <= 1) {
        node_start(r, down, d, l, NULL, 0);
        return;
    }
    pthread_mutex_lock(&r->mu);
    fl_slots *j = &r->joins[down->index];
    j->docs[slot] = d;
    j->lanes[slot] = l;
    int ready = ++j->arrived == (int)down->n_upstream;
    pthread_mutex_unlock(&r->mu);
    if (!ready) return;
    df_docs *merged = df_docs_new(j->lanes[0]);
    for (size_t i = 0; i < down->n_upstream; i++)
        df_docs_reduce(merged, j->docs[i]);
    node_start(r, down, merged, j->lanes[0], j->docs, down->n_upstream);
}

/* Hands a finished node's documents to whoever needs them. */
static void node_done(fl_req *r, fl_node *n, df_docs *docs, df_arena *lane)
{
    df_flow *f = r->flow;
    if (n->end_slot >= 0) { /* an end node: nothing needs it */
        pthread_mutex_lock(&r->mu);
        r->ends.docs[n->end_slot] = docs;
        r->ends.lanes[n->end_slot] = lane;
        r->ends.arrived++;
        pthread_mutex_unlock(&r->mu);
    }
    for (size_t k = 0; k < n->n_downstream; k++) {
        fl_node *down = &f->nodes[n->downstream[k]];
        df_arena *l = lane;
        df_docs *d = k + 1 < n->n_downstream ? fork_lane(r, docs, &l) : docs;
        size_t slot = 0;
        while (slot < down->n_upstream && down->upstream[slot] != n->index)
            slot++;
        deliver_input(r, down, slot, d, l);
    }
}

/* Shards polled ALL: gathers one shard's answer; the last one reduces. */
static void shard_gathered(fl_req *r, fl_node *n, int shard, df_docs *docs, df_arena *lane)
{
    pthread_mutex_lock(&r->mu);
    fl_slots *g = &r->gathers[n->index];
    g->docs[shard] = docs;
    g->lanes[shard] = lane;
    int last = ++g->arrived == n->n_shards;
    pthread_mutex_unlock(&r->mu);
    if (!last) return;
    df_docs *merged = df_docs_new(g->lanes[0]);
    for (int s = 0; s < n->n_shards; s++)
        df_docs_reduce(merged, g->docs[s]);
    if (n->after && !atomic_load(&r->failed)) {
        fl_task *t = task_new(r, n, ROLE_AFTER, 0, g->lanes[0], merged);
        t->matrix = g->docs;
        t->n_matrix = (size_t)n->n_shards;
        enqueue(n->after, t);
        return;
    }
    node_done(r, n, merged, g->lanes[0]);
}

static void dispatch_main(fl_req *r, fl_node *n, df_docs *docs, df_arena *lane, df_docs **matrix,
                          size_t n_matrix)
{
    int all = n->n_shards > 1 && df_flow_node_polling(n->cfg, r->endpoint) == DF_POLLING_ALL;
    if (!all) {
        fl_instance *in = pick_instance(n->instances, 0, n->n_shards * n->n_replicas);
        fl_task *t = task_new(r, n, ROLE_MAIN, 0, lane, docs);
        t->matrix = matrix;
        t->n_matrix = n_matrix;
        enqueue(in, t);
        return;
    }
    for (int s = 0; s < n->n_shards; s++) {
        df_arena *l = lane;
        df_docs *d = s + 1 < n->n_shards ? fork_lane(r, docs, &l) : docs;
        fl_task *t = task_new(r, n, ROLE_MAIN, s, l, d);
        t->matrix = matrix;
        t->n_matrix = n_matrix;
        enqueue(pick_instance(n->instances, s * n->n_replicas, n->n_replicas), t);
    }
}

/* Keeps the documents that satisfy `when:`; Jina drops the others for this
 * branch (a join brings them back from the branches that kept them). */
static df_docs *apply_when(const fl_node *n, df_docs *docs, df_arena *lane)
{
    if (!n->cfg->when) return docs;
    df_docs *kept = df_docs_new(lane);
    for (size_t i = 0; i < df_docs_len(docs); i++) {
        df_doc *d = df_docs_get(docs, i);
        if (df_filter_match(n->cfg->when, d)) df_docs_append(kept, d);
    }
    return kept;
}

static void node_start(fl_req *r, fl_node *n, df_docs *docs, df_arena *lane, df_docs **matrix,
                       size_t n_matrix)
{
    docs = apply_when(n, docs, lane);
    int skip = atomic_load(&r->failed) || atomic_load(&r->delivered);
    if (skip || n->passthrough || !target_matches(r, n)) {
        node_done(r, n, docs, lane); /* pass-through, as Jina skips it */
        return;
    }
    if (n->before) {
        fl_task *t = task_new(r, n, ROLE_BEFORE, 0, lane, docs);
        t->matrix = matrix;
        t->n_matrix = n_matrix;
        enqueue(n->before, t);
        return;
    }
    dispatch_main(r, n, docs, lane, matrix, n_matrix);
}

/* ---- completing a request ------------------------------------------------------------- */

static void flow_unlink_locked(df_flow *f, fl_req *r)
{
    if (r->prev_inflight)
        r->prev_inflight->next_inflight = r->next_inflight;
    else if (f->inflight == r)
        f->inflight = r->next_inflight;
    if (r->next_inflight) r->next_inflight->prev_inflight = r->prev_inflight;
    r->next_inflight = r->prev_inflight = NULL;
}

/* Frees what the request still owns; `r` lives in its meta arena, so it
 * is gone afterwards unless a response took that arena (and the lanes). */
static void req_free(fl_req *r)
{
    for (size_t i = 0; i < r->n_arenas; i++)
        df_arena_free(r->arenas[i]);
    if (r->has_target) regfree(&r->target);
    pthread_mutex_destroy(&r->mu);
    df_arena_free(r->meta);
}

/* The parameters of the response: the request's, plus __results__. */
static df_value *response_parameters(fl_req *r)
{
    df_value *p = df_value_type_of(r->params) == DF_VALUE_MAP ? df_value_copy(r->meta, r->params)
                                                              : df_value_new_map(r->meta);
    df_value_set(p, "__results__", r->results);
    return p;
}

/* The response of a finished request, which takes every arena, the meta
 * one included (so nothing is copied and `r` must not be freed after). */
static fl_response *take_response(fl_req *r)
{
    df_arena *m = r->meta;
    fl_response *resp = df_arena_calloc(m, sizeof *resp);
    resp->meta = m;
    df_flow_response *p = &resp->pub;
    p->request_id = r->id;
    p->endpoint = r->endpoint;
    p->status = atomic_load(&r->failed);
    p->error = r->error;
    p->error_executor = r->error_executor;
    p->parameters = response_parameters(r);
    p->n_routes = r->n_routes;
    p->routes = r->routes;
    for (size_t i = 0; i < r->n_routes; i++) /* labels die with the flow; a response may not */
        p->routes[i].executor = df_arena_strdup(m, r->routes[i].executor);
    p->docs = r->final_docs;
    resp->arenas = r->arenas;
    resp->n_arenas = r->n_arenas;
    r->arenas = NULL;
    r->n_arenas = r->cap_arenas = 0;
    r->meta = NULL;
    return resp;
}

/* A timeout's response, built under r->mu while the request still runs:
 * a copy of the request-wide state and no documents. */
static fl_response *build_response(fl_req *r)
{
    df_arena *m = df_arena_new(4096);
    fl_response *resp = df_arena_calloc(m, sizeof *resp);
    resp->meta = m;
    df_flow_response *p = &resp->pub;
    p->request_id = df_arena_strdup(m, r->id);
    p->endpoint = df_arena_strdup(m, r->endpoint);
    p->status = atomic_load(&r->failed);
    p->error = r->error ? df_arena_strdup(m, r->error) : NULL;
    p->error_executor = r->error_executor ? df_arena_strdup(m, r->error_executor) : NULL;
    p->parameters = df_value_copy(m, response_parameters(r));
    p->n_routes = r->n_routes;
    p->routes = df_arena_alloc(m, (r->n_routes + 1) * sizeof *p->routes);
    for (size_t i = 0; i < r->n_routes; i++) {
        p->routes[i] = r->routes[i];
        p->routes[i].executor = df_arena_strdup(m, r->routes[i].executor);
    }
    p->docs = df_docs_new(m);
    return resp;
}

/* Final documents: the one end node's, or all end nodes' merged by id. */
static void collect_ends(fl_req *r)
{
    df_flow *f = r->flow;
    if (f->n_ends == 1) {
        r->final_docs = r->ends.docs[0];
        return;
    }
    df_docs *merged = df_docs_new(r->ends.lanes[0]);
    for (size_t i = 0; i < f->n_ends; i++)
        df_docs_reduce(merged, r->ends.docs[i]);
    r->final_docs = merged;
}

static void request_finished_locked(df_flow *f)
{
    atomic_fetch_sub(&f->n_inflight, 1);
    pthread_cond_broadcast(&f->cv);
}

/* Drops one pending reference; the last one completes the request. */
static void req_release(fl_req *r)
{
    if (atomic_fetch_sub(&r->pending, 1) != 1) return;
    /* Under f->mu, like the watchdog's timeouts, so exactly one of the two
     * delivers the response. The flow is done with the request here: its
     * close may go on (the worker threads it joins are still ours). */
    df_flow *f = r->flow;
    pthread_mutex_lock(&f->mu);
    flow_unlink_locked(f, r);
    int delivered = atomic_exchange(&r->delivered, 1);
    request_finished_locked(f);
    pthread_mutex_unlock(&f->mu);
    if (delivered) { /* timed out earlier: the response went out already */
        req_free(r);
        return;
    }
    collect_ends(r);
    fl_response *resp = take_response(r);
    df_flow_done_fn done = r->done;
    void *ctx = r->done_ctx;
    req_free(r);
    done(ctx, &resp->pub);
}

void df_flow_response_free(df_flow_response *p)
{
    if (!p) return;
    fl_response *resp = (fl_response *)p;
    for (size_t i = 0; i < resp->n_arenas; i++)
        df_arena_free(resp->arenas[i]);
    df_arena_free(resp->meta); /* holds resp and its arena list */
}

/* ---- workers ---------------------------------------------------------------------------- */

/* After an instance handled a task: where its documents go next. */
static void task_advance(fl_instance *in, fl_task *t, df_docs *docs, int skipped)
{
    fl_req *r = t->req;
    fl_node *n = t->node;
    if (t->role == ROLE_BEFORE)
        dispatch_main(r, n, docs, t->lane, t->matrix, t->n_matrix);
    else if (t->role == ROLE_AFTER)
        node_done(r, n, docs, t->lane);
    else if (n->n_shards > 1 && df_flow_node_polling(n->cfg, r->endpoint) == DF_POLLING_ALL)
        shard_gathered(r, n, t->shard, docs, t->lane);
    else if (n->n_shards > 1 && n->after && !skipped && !n->cfg->uses_after_implicit)
        /* an explicit uses_after follows every endpoint, as in Jina; the
         * default reducer (uses_after_implicit) only merges ALL-polled
         * answers, so one shard's answer goes on as it is */
        enqueue(n->after, task_new(r, n, ROLE_AFTER, 0, t->lane, docs));
    else
        node_done(r, n, docs, t->lane);
    atomic_fetch_sub(&in->outstanding, 1);
    req_release(r);
}

static int req_is_over(fl_req *r)
{
    return atomic_load(&r->failed) || atomic_load(&r->delivered);
}

/* Records that `in` started working on the request, with the executor's
 * own timeout_send (a node setting); returns the entry for task_end, or
 * NO_ENTRY when no timeout applies (the watchdog never asks then). */
#define NO_ENTRY ((size_t)-1)
static size_t task_begin(fl_instance *in, fl_req *r)
{
    double ms = in->node->cfg->timeout_send_ms;
    if (ms <= 0 && !r->deadline_ns) return NO_ENTRY;
    uint64_t now = now_ns(CLOCK_MONOTONIC);
    uint64_t deadline = ms > 0 ? now + (uint64_t)(ms * 1e6) : 0;
    pthread_mutex_lock(&r->mu);
    if (r->n_running == r->cap_running) {
        size_t cap = r->cap_running ? r->cap_running * 2 : 4;
        r->running = df_arena_realloc(r->meta, r->running, r->n_running * sizeof *r->running,
                                      cap * sizeof *r->running);
        r->cap_running = cap;
    }
    size_t slot = r->n_running++;
    r->running[slot] = (fl_running){in->label, now, deadline, 1};
    pthread_mutex_unlock(&r->mu);
    if (deadline) {
        pthread_mutex_lock(&r->flow->mu);
        pthread_cond_signal(&r->flow->watch_cv);
        pthread_mutex_unlock(&r->flow->mu);
    }
    return slot;
}

static void task_end(fl_req *r, size_t slot)
{
    if (slot == NO_ENTRY) return;
    pthread_mutex_lock(&r->mu);
    r->running[slot].active = 0;
    pthread_mutex_unlock(&r->mu);
}

/* When the request must be answered by (0: never), under r->mu. */
static uint64_t req_due_locked(const fl_req *r)
{
    uint64_t due = r->deadline_ns;
    for (size_t i = 0; i < r->n_running; i++) {
        const fl_running *x = &r->running[i];
        if (x->active && x->deadline_ns && (!due || x->deadline_ns < due)) due = x->deadline_ns;
    }
    return due;
}

/* Who a timed-out request was waiting for: the call whose own timeout
 * expired, else the oldest call still running; NULL when none runs. */
static const char *req_blamed_locked(const fl_req *r, uint64_t now)
{
    const fl_running *oldest = NULL;
    for (size_t i = 0; i < r->n_running; i++) {
        const fl_running *x = &r->running[i];
        if (!x->active) continue;
        if (x->deadline_ns && x->deadline_ns <= now) return x->label;
        if (!oldest || x->start_ns < oldest->start_ns) oldest = x;
    }
    return oldest ? oldest->label : NULL;
}

/* The moving average (1/8 weight) of the instance's call time; a call that
 * takes long counts at once, so one slow call ends the deferring. */
static void note_call_time(fl_instance *in, uint64_t t0, uint64_t t1)
{
    uint64_t dt = t1 > t0 ? t1 - t0 : 0;
    in->call_ns = dt >= FL_FAST_NS ? dt : in->call_ns - in->call_ns / 8 + dt / 8;
}

static void run_task(fl_instance *in, fl_task *t)
{
    fl_req *r = t->req;
    df_docs *docs = t->docs;
    int skip = req_is_over(r);
    if (!skip) {
        df_value *results = df_value_new_map(t->lane);
        df_call call = {.arena = t->lane,
                        .endpoint = r->endpoint,
                        .docs = docs,
                        .parameters = r->params,
                        .results = results,
                        .results_key = in->label,
                        .matrix = t->matrix,
                        .n_matrix = t->n_matrix,
                        .groundtruths = r->groundtruths};
        df_error err = DF_ERROR_INIT;
        size_t slot = task_begin(in, r);
        uint64_t t0 = now_ns(CLOCK_REALTIME);
        int rc = df_executor_call(in->ex, &call, &err);
        uint64_t t1 = now_ns(CLOCK_REALTIME);
        note_call_time(in, t0, t1);
        task_end(r, slot);
        if (!call.skipped || rc) req_record(r, in->label, t0, t1, rc, results, &err);
        docs = call.docs;
    }
    task_advance(in, t, docs, skip);
}

/* ---- dynamic batching ----------------------------------------------------------------- */

/* The node's uses_dynamic_batching entry for an endpoint, or NULL. */
static const df_value *batching_for(const fl_node *n, const char *endpoint)
{
    return df_value_get(n->cfg->dynamic_batching, endpoint);
}

static int batchable(const fl_task *first, const fl_task *q)
{
    return q->role == ROLE_MAIN && !q->matrix &&
           strcmp(q->req->endpoint, first->req->endpoint) == 0 &&
           df_value_equal(q->req->params, first->req->params);
}

/* Takes queued tasks that can join `first`'s batch, waiting up to the
 * batching timeout for the preferred size (Jina: flush on either limit).
 * A request is never split: one larger than the room left waits for the
 * next batch, and one larger than the preferred size runs alone. */
static size_t collect_batch(fl_instance *in, fl_task **batch, size_t max_tasks, size_t preferred,
                            double timeout_ms)
{
    size_t n = 1, docs = df_docs_len(batch[0]->docs);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    uint64_t ns = (uint64_t)until.tv_nsec + (uint64_t)(timeout_ms * 1e6);
    until.tv_sec += (time_t)(ns / 1000000000ull);
    until.tv_nsec = (long)(ns % 1000000000ull);
    pthread_mutex_lock(&in->mu);
    for (;;) {
        fl_task **link = &in->head, *prev = NULL;
        int left_behind = 0;
        while (*link && docs < preferred && n < max_tasks) {
            fl_task *q = *link;
            /* Jina 3.22+: a batch never exceeds the preferred size. */
            if (!batchable(batch[0], q) || docs + df_docs_len(q->docs) > preferred) {
                left_behind = 1;
                prev = q;
                link = &q->next;
                continue;
            }
            *link = q->next;
            if (in->tail == q) in->tail = prev;
            batch[n++] = q;
            docs += df_docs_len(q->docs);
        }
        /* Waiting makes sense only while nothing else is queued: a request
         * that cannot join must not wait for this batch's timeout. */
        if (docs >= preferred || n >= max_tasks || in->stop || left_behind) break;
        if (fl_wakes.n) { /* nobody may wait for us while we wait for a batch */
            pthread_mutex_unlock(&in->mu);
            wakes_flush();
            pthread_mutex_lock(&in->mu);
            continue;
        }
        in->idle = 1;
        int rc = pthread_cond_timedwait(&in->cv, &in->mu, &until);
        in->idle = 0;
        if (rc == ETIMEDOUT) break;
    }
    pthread_mutex_unlock(&in->mu);
    return n;
}

/* One executor call for several requests: their documents are copied into
 * one batch, and each request gets a copy of its share back in its own
 * lane (no request ever points into another's memory). */
static void run_batch(fl_instance *in, fl_task *first, const df_value *policy)
{
    double pref = df_value_number(df_value_get(policy, "preferred_batch_size"));
    double timeout = df_value_number(df_value_get(policy, "timeout"));
    size_t preferred = pref >= 1 ? (size_t)pref : 1;
    fl_task *batch[256];
    batch[0] = first;
    size_t n = collect_batch(in, batch, 256, preferred, timeout > 0 ? timeout : 0);
    df_arena *ba = df_arena_new(0);
    df_docs *all = df_docs_new(ba);
    size_t *sizes = df_arena_alloc(ba, n * sizeof *sizes);
    for (size_t i = 0; i < n; i++) {
        sizes[i] = df_docs_len(batch[i]->docs);
        for (size_t k = 0; k < sizes[i]; k++)
            df_docs_append(all, df_docs_get(batch[i]->docs, k));
    }
    df_value *results = df_value_new_map(ba);
    df_call call = {.arena = ba,
                    .endpoint = first->req->endpoint,
                    .docs = all,
                    .parameters = first->req->params,
                    .results = results,
                    .results_key = in->label};
    df_error err = DF_ERROR_INIT;
    size_t *slots = df_arena_alloc(ba, n * sizeof *slots);
    for (size_t i = 0; i < n; i++)
        slots[i] = task_begin(in, batch[i]->req);
    uint64_t t0 = now_ns(CLOCK_REALTIME);
    int rc = df_executor_call(in->ex, &call, &err);
    uint64_t t1 = now_ns(CLOCK_REALTIME);
    note_call_time(in, t0, t1);
    for (size_t i = 0; i < n; i++)
        task_end(batch[i]->req, slots[i]);
    if (!rc && df_docs_len(call.docs) != df_docs_len(all))
        rc = df_error_set(
            &err, DF_E_INVALID_INPUT,
            "%s: dynamic batching needs one output document per input (got %zu for %zu)", in->label,
            df_docs_len(call.docs), df_docs_len(all));
    size_t offset = 0;
    for (size_t i = 0; i < n; i++) {
        fl_task *t = batch[i];
        df_docs *share = t->docs;
        if (!rc) {
            share = df_docs_new(t->lane);
            for (size_t k = 0; k < sizes[i]; k++)
                df_docs_append(share, df_docs_get(call.docs, offset + k));
        }
        offset += sizes[i];
        if (!call.skipped || rc) req_record(t->req, in->label, t0, t1, rc, results, &err);
        task_advance(in, t, share, 0);
    }
    df_arena_free(ba);
}

/* The next task; before waiting for one, wakes whoever this thread handed
 * work to. With tasks still queued, it keeps deferring only while its
 * executor is fast (calls under FL_FAST_NS on average) and the oldest
 * deferred wake is under FL_DEFER_NS old: a slow executor wakes its
 * downstream before each call, so requests pipeline through it. */
static fl_task *dequeue(fl_instance *in)
{
    pthread_mutex_lock(&in->mu);
    if (fl_wakes.n && (!in->head || in->call_ns >= FL_FAST_NS ||
                       now_ns(CLOCK_MONOTONIC) - fl_wakes.since >= FL_DEFER_NS)) {
        pthread_mutex_unlock(&in->mu);
        wakes_flush();
        pthread_mutex_lock(&in->mu);
    }
    while (!in->head && !in->stop) {
        in->idle = 1;
        pthread_cond_wait(&in->cv, &in->mu);
        in->idle = 0;
    }
    fl_task *t = in->head;
    if (t) {
        in->head = t->next;
        if (!in->head) in->tail = NULL;
    }
    pthread_mutex_unlock(&in->mu);
    return t;
}

static void *worker_main(void *arg)
{
    fl_instance *in = arg;
    fl_task *t;
    df_flow_defer_begin();
    while ((t = dequeue(in))) {
        const df_value *policy = t->role == ROLE_MAIN && !t->matrix && !req_is_over(t->req)
                                     ? batching_for(in->node, t->req->endpoint)
                                     : NULL;
        if (policy)
            run_batch(in, t, policy);
        else
            run_task(in, t);
    }
    df_flow_defer_end();
    return NULL;
}

/* ---- timeouts ---------------------------------------------------------------------------------
 */

/* Delivers a timeout response for `r` (called with f->mu held). */
static fl_response *time_out_locked(fl_req *r)
{
    pthread_mutex_lock(&r->mu);
    fl_response *resp = NULL;
    if (!r->delivered) {
        const char *who = req_blamed_locked(r, now_ns(CLOCK_MONOTONIC));
        char msg[256];
        snprintf(msg, sizeof msg, "request timed out (timeout_send)%s%s; it may still be working",
                 who ? " waiting for " : "", who ? who : "");
        req_fail_locked(r, DF_E_TIMEOUT, who, msg);
        r->delivered = 1;
        resp = build_response(r);
    }
    pthread_mutex_unlock(&r->mu);
    return resp;
}

static void *watchdog_main(void *arg)
{
    df_flow *f = arg;
    pthread_mutex_lock(&f->mu);
    while (!f->watchdog_stop) {
        uint64_t now = now_ns(CLOCK_MONOTONIC), next = 0;
        int rescan = 0;
        for (fl_req *r = f->inflight; r; r = r->next_inflight) {
            pthread_mutex_lock(&r->mu);
            uint64_t due = req_due_locked(r);
            int delivered = r->delivered;
            pthread_mutex_unlock(&r->mu);
            if (!due || delivered) continue;
            if (due <= now) {
                fl_response *resp = time_out_locked(r);
                if (resp) {
                    /* The callback must not run under f->mu (it may post). */
                    df_flow_done_fn done = r->done;
                    void *ctx = r->done_ctx;
                    pthread_mutex_unlock(&f->mu);
                    done(ctx, &resp->pub);
                    pthread_mutex_lock(&f->mu);
                    rescan = 1; /* the list may have changed; others may be due */
                    break;
                }
            } else if (!next || due < next) {
                next = due;
            }
        }
        if (rescan) continue;
        if (next == 0) {
            pthread_cond_wait(&f->watch_cv, &f->mu);
        } else if (next > now_ns(CLOCK_MONOTONIC)) {
            struct timespec ts = {(time_t)(next / 1000000000ull), (long)(next % 1000000000ull)};
            pthread_cond_timedwait(&f->watch_cv, &f->mu, &ts);
        }
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

/* ---- posting ------------------------------------------------------------------------------------
 */

/* Counts the request in and links it into the in-flight list, in one
 * critical section, unless the flow is closing or full. */
static int admit(df_flow *f, fl_req *r, int wait, df_error *err)
{
    pthread_mutex_lock(&f->mu);
    int limit = f->cfg->prefetch;
    while (!f->closing && limit > 0 && f->n_inflight >= limit && wait)
        pthread_cond_wait(&f->cv, &f->mu);
    int rc = DF_OK;
    if (f->closing) {
        rc = df_error_set(err, DF_E_UNSUPPORTED, "the flow is shutting down; request refused");
    } else if (limit > 0 && f->n_inflight >= limit) {
        rc = df_error_set(err, DF_E_RESOURCE, "flow busy: %d requests in flight (prefetch %d)",
                          atomic_load(&f->n_inflight), limit);
    } else {
        atomic_fetch_add(&f->n_inflight, 1);
        r->next_inflight = f->inflight;
        if (f->inflight) f->inflight->prev_inflight = r;
        f->inflight = r;
        if (r->deadline_ns) pthread_cond_signal(&f->watch_cv);
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}

static fl_req *req_new(df_flow *f, df_flow_request *q, df_error *err)
{
    df_arena *m = df_arena_new(4096);
    fl_req *r = df_arena_calloc(m, sizeof *r);
    r->flow = f;
    pthread_mutex_init(&r->mu, NULL);
    r->meta = m;
    r->arenas = r->inline_arenas;
    r->cap_arenas = sizeof r->inline_arenas / sizeof *r->inline_arenas;
    r->tasks = df_arena_alloc(m, f->n_tasks * sizeof *r->tasks);
    char id[33];
    df_doc_random_id(id);
    r->id = df_arena_strdup(m, q->request_id && *q->request_id ? q->request_id : id);
    r->endpoint = df_arena_strdup(m, q->endpoint ? q->endpoint : "/");
    r->params = q->parameters;
    r->groundtruths = q->groundtruths;
    r->results = df_value_new_map(m);
    r->joins = df_arena_calloc(m, f->n_nodes * sizeof *r->joins);
    r->gathers = df_arena_calloc(m, f->n_nodes * sizeof *r->gathers);
    for (size_t i = 0; i < f->n_nodes; i++) {
        fl_node *n = &f->nodes[i];
        size_t k = n->n_upstream > (size_t)n->n_shards ? n->n_upstream : (size_t)n->n_shards;
        fl_slots *slots[2] = {&r->joins[i], &r->gathers[i]};
        for (int s = 0; s < 2; s++) {
            slots[s]->docs = df_arena_calloc(m, k * sizeof(df_docs *));
            slots[s]->lanes = df_arena_calloc(m, k * sizeof(df_arena *));
        }
    }
    r->ends.docs = df_arena_calloc(m, f->n_ends * sizeof(df_docs *));
    r->ends.lanes = df_arena_calloc(m, f->n_ends * sizeof(df_arena *));
    if (q->target_executor && *q->target_executor) {
        char *pattern = df_arena_printf(m, "^(%s)", q->target_executor);
        int rc = regcomp(&r->target, pattern, REG_EXTENDED | REG_NOSUB);
        if (rc) {
            char msg[256];
            regerror(rc, &r->target, msg, sizeof msg);
            df_error_set(err, DF_E_INVALID_INPUT, "target_executor '%s': %s", q->target_executor,
                         msg);
            pthread_mutex_destroy(&r->mu);
            df_arena_free(m);
            return NULL;
        }
        r->has_target = 1;
    }
    double timeout = q->timeout_ms > 0 ? q->timeout_ms : f->cfg->timeout_send_ms;
    if (timeout > 0) r->deadline_ns = now_ns(CLOCK_MONOTONIC) + (uint64_t)(timeout * 1e6);
    return r;
}

int df_flow_post(df_flow *f, df_flow_request *q, df_flow_done_fn done, void *ctx, int wait,
                 df_error *err)
{
    fl_req *r = req_new(f, q, err);
    if (!r) {
        df_arena_free(q->arena);
        return DF_E_INVALID_INPUT;
    }
    /* Complete before admit links it: from then on the watchdog may time
     * it out and call `done`. */
    r->done = done;
    r->done_ctx = ctx;
    atomic_store(&r->pending, 1); /* held while the first nodes are being started */
    df_arena *lane = q->arena;
    r->arenas[r->n_arenas++] = lane;
    int rc = admit(f, r, wait, err);
    if (rc) {
        req_free(r); /* frees the lane too */
        return rc;
    }
    df_docs *docs = q->docs ? q->docs : df_docs_new(lane);
    size_t n_starts = f->n_starts;
    size_t started = 0;
    for (size_t i = 0; i < f->n_nodes; i++) {
        fl_node *n = &f->nodes[i];
        for (size_t k = 0; k < n->n_upstream; k++) {
            if (n->upstream[k] != FL_GATEWAY) continue;
            df_arena *l = lane;
            df_docs *d = ++started < n_starts ? fork_lane(r, docs, &l) : docs;
            deliver_input(r, n, k, d, l);
        }
    }
    req_release(r);
    return DF_OK;
}

typedef struct call_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    df_flow_response *resp;
} call_wait;

static void call_done(void *ctx, df_flow_response *resp)
{
    call_wait *w = ctx;
    pthread_mutex_lock(&w->mu);
    w->resp = resp;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

df_flow_response *df_flow_call(df_flow *f, df_flow_request *q, df_error *err)
{
    call_wait w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL};
    if (df_flow_post(f, q, call_done, &w, 1, err)) return NULL;
    pthread_mutex_lock(&w.mu);
    while (!w.resp)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
    return w.resp;
}

int df_flow_in_flight(const df_flow *f)
{
    return atomic_load(&f->n_inflight);
}

const df_flow_config *df_flow_config_of(const df_flow *f)
{
    return f->cfg;
}

/* ---- opening and closing
 * -------------------------------------------------------------------------- */

static const char *instance_label(df_arena *a, const fl_node *n, int role, int shard, int replica)
{
    const char *name = n->cfg->name;
    if (role == ROLE_BEFORE) return df_arena_printf(a, "%s/uses_before", name);
    if (role == ROLE_AFTER) return df_arena_printf(a, "%s/uses_after", name);
    if (n->n_shards > 1 && n->n_replicas > 1)
        return df_arena_printf(a, "%s/shard-%d/rep-%d", name, shard, replica);
    if (n->n_shards > 1) return df_arena_printf(a, "%s/shard-%d", name, shard);
    if (n->n_replicas > 1) return df_arena_printf(a, "%s/rep-%d", name, replica);
    return name;
}

/* Applies the node's env: for the executor's init only (the process
 * environment is shared, so it cannot stay per executor afterwards). */
static void env_apply(const df_value *env, char **saved)
{
    for (size_t i = 0; i < df_value_len(env); i++) {
        const char *key = df_value_key_at(env, i);
        const char *old = getenv(key);
        saved[i] = old ? strdup(old) : NULL;
        const char *val = df_value_string(df_value_at(env, i), NULL);
        setenv(key, val ? val : "", 1);
    }
}

static void env_restore(const df_value *env, char **saved)
{
    for (size_t i = 0; i < df_value_len(env); i++) {
        const char *key = df_value_key_at(env, i);
        if (saved[i])
            setenv(key, saved[i], 1);
        else
            unsetenv(key);
        free(saved[i]);
    }
}

static int instance_open(df_flow *f, fl_node *n, fl_instance *in, int role, int shard, int replica,
                         df_arena *a, df_error *err)
{
    const df_flow_node *c = n->cfg;
    df_executor_options o = DF_EXECUTOR_OPTIONS_INIT;
    const df_executor_config *ec = c->uses;
    o.library = c->library;
    if (role == ROLE_BEFORE) {
        ec = c->uses_before;
        o.library = c->uses_before_library;
    } else if (role == ROLE_AFTER) {
        ec = c->uses_after;
        o.library = c->uses_after_library;
    }
    o.name = role == ROLE_MAIN ? c->name : instance_label(a, n, role, 0, 0);
    const char *flow_ws = df_value_string(df_value_get(f->cfg->with, "workspace"), NULL);
    o.workspace = c->workspace ? c->workspace : flow_ws;
    o.shard_id = role == ROLE_MAIN && n->n_shards > 1 ? shard : -1;
    o.shards = n->n_shards;
    o.replicas = n->n_replicas;
    o.replica_id = replica;
    size_t n_env = df_value_len(c->env);
    char **saved = calloc(n_env + 1, sizeof *saved);
    if (!saved) abort();
    env_apply(c->env, saved);
    in->ex = df_executor_open(ec, &o, err);
    env_restore(c->env, saved);
    free(saved);
    if (!in->ex) {
        df_error_prefix(err, "%s", instance_label(a, n, role, shard, replica));
        return err->code ? err->code : DF_E_INTERNAL;
    }
    in->flow = f;
    in->node = n;
    in->label = instance_label(a, n, role, shard, replica);
    pthread_mutex_init(&in->mu, NULL);
    pthread_cond_init(&in->cv, NULL);
    atomic_init(&in->outstanding, 0);
    if (pthread_create(&in->thread, NULL, worker_main, in) != 0)
        return df_error_set(err, DF_E_RESOURCE, "%s: cannot start a thread", in->label);
    in->started = 1;
    return DF_OK;
}

static void instance_close(fl_instance *in)
{
    if (!in) return;
    if (in->started) {
        pthread_mutex_lock(&in->mu);
        in->stop = 1;
        pthread_cond_broadcast(&in->cv);
        pthread_mutex_unlock(&in->mu);
        pthread_join(in->thread, NULL);
        pthread_mutex_destroy(&in->mu);
        pthread_cond_destroy(&in->cv);
        in->started = 0;
    }
    df_executor_close(in->ex);
    in->ex = NULL;
}

static int node_open(df_flow *f, fl_node *n, df_arena *a, df_error *err)
{
    n->n_shards = n->cfg->shards;
    n->n_replicas = n->cfg->replicas;
    const df_executor_config *u = n->cfg->uses;
    if (u && strcmp(u->jtype, "BaseExecutor") == 0 && !n->cfg->library &&
        !df_value_get(u->metas, "library")) {
        n->passthrough = 1; /* Jina's default executor: no handler at all */
        return DF_OK;
    }
    int count = n->n_shards * n->n_replicas;
    n->instances = calloc((size_t)count, sizeof *n->instances);
    if (!n->instances) abort();
    if (n->cfg->uses_before) {
        n->before = calloc(1, sizeof *n->before);
        if (instance_open(f, n, n->before, ROLE_BEFORE, 0, 0, a, err)) return err->code;
    }
    for (int s = 0; s < n->n_shards; s++)
        for (int rep = 0; rep < n->n_replicas; rep++)
            if (instance_open(f, n, &n->instances[s * n->n_replicas + rep], ROLE_MAIN, s, rep, a,
                              err))
                return err->code;
    if (n->cfg->uses_after && n->n_shards > 1) {
        n->after = calloc(1, sizeof *n->after);
        if (instance_open(f, n, n->after, ROLE_AFTER, 0, 0, a, err)) return err->code;
    }
    return DF_OK;
}

static void node_close(fl_node *n)
{
    instance_close(n->after); /* consumers first, as between nodes */
    for (int i = n->instances ? n->n_shards * n->n_replicas : 0; i-- > 0;)
        instance_close(&n->instances[i]);
    instance_close(n->before);
    free(n->before);
    free(n->after);
    free(n->instances);
    free(n->downstream);
    free(n->upstream);
}

static size_t node_index(const df_flow_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_nodes; i++)
        if (strcmp(cfg->nodes[i].name, name) == 0) return i;
    return FL_GATEWAY; /* validated names: only "gateway" is not a node */
}

/* Upstream/downstream indices and end slots from the `needs` lists. */
static void build_edges(df_flow *f)
{
    const df_flow_config *cfg = f->cfg;
    for (size_t i = 0; i < f->n_nodes; i++) {
        fl_node *n = &f->nodes[i];
        n->cfg = &cfg->nodes[i];
        n->index = i;
        n->upstream = calloc(n->cfg->n_needs + 1, sizeof *n->upstream);
        n->downstream = calloc(f->n_nodes + 1, sizeof *n->downstream);
        if (!n->upstream || !n->downstream) abort();
        for (size_t k = 0; k < n->cfg->n_needs; k++) /* "gateway" is no node */
            n->upstream[n->n_upstream++] = node_index(cfg, n->cfg->needs[k]);
        if (!n->n_upstream) n->upstream[n->n_upstream++] = FL_GATEWAY;
        n->task_base = f->n_tasks;
        f->n_tasks += (size_t)n->cfg->shards + 2; /* FL_TASK_SLOTS */
    }
    for (size_t i = 0; i < f->n_nodes; i++)
        for (size_t k = 0; k < f->nodes[i].n_upstream; k++) {
            if (f->nodes[i].upstream[k] == FL_GATEWAY) continue;
            fl_node *up = &f->nodes[f->nodes[i].upstream[k]];
            up->downstream[up->n_downstream++] = i;
        }
    for (size_t i = 0; i < f->n_nodes; i++) {
        fl_node *n = &f->nodes[i];
        n->end_slot = n->n_downstream ? -1 : (int)f->n_ends++;
        for (size_t k = 0; k < n->n_upstream; k++)
            f->n_starts += n->upstream[k] == FL_GATEWAY;
    }
}

df_flow *df_flow_open(const df_flow_config *cfg, df_error *err)
{
    if (!cfg->n_nodes) {
        df_error_set(err, DF_E_INVALID_INPUT, "%s: the flow has no executors", cfg->source);
        return NULL;
    }
    df_flow *f = calloc(1, sizeof *f);
    if (!f) abort();
    f->cfg = cfg;
    f->n_nodes = cfg->n_nodes;
    f->nodes = calloc(f->n_nodes, sizeof *f->nodes);
    if (!f->nodes) abort();
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->watch_cv, &ca);
    pthread_condattr_destroy(&ca);
    build_edges(f);
    df_arena *labels = df_arena_new(4096);
    f->labels = labels;
    for (size_t i = 0; i < f->n_nodes; i++) {
        if (node_open(f, &f->nodes[i], labels, err)) {
            df_flow_close(f, 0);
            return NULL;
        }
    }
    if (pthread_create(&f->watchdog, NULL, watchdog_main, f) != 0) {
        df_error_set(err, DF_E_RESOURCE, "cannot start the flow's watchdog thread");
        df_flow_close(f, 0);
        return NULL;
    }
    f->watchdog_started = 1;
    return f;
}

void df_flow_close(df_flow *f, uint64_t drain_ms)
{
    if (!f) return;
    pthread_mutex_lock(&f->mu);
    f->closing = 1;
    pthread_cond_broadcast(&f->cv);
    uint64_t deadline = drain_ms ? now_ns(CLOCK_MONOTONIC) + drain_ms * 1000000ull : 0;
    while (f->n_inflight > 0) {
        if (!deadline) {
            pthread_cond_wait(&f->cv, &f->mu);
            continue;
        }
        if (now_ns(CLOCK_MONOTONIC) >= deadline) {
            /* Past the drain time: fail what is left; its remaining executor
             * calls are skipped, so it finishes quickly. */
            for (fl_req *r = f->inflight; r; r = r->next_inflight) {
                pthread_mutex_lock(&r->mu);
                req_fail_locked(r, DF_E_TIMEOUT, NULL,
                                "the flow shut down before the request finished");
                pthread_mutex_unlock(&r->mu);
            }
            deadline = 0;
            continue;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10 * 1000000L; /* re-check every 10 ms against the monotonic deadline */
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&f->cv, &f->mu, &ts);
    }
    f->watchdog_stop = 1;
    pthread_cond_broadcast(&f->watch_cv);
    pthread_mutex_unlock(&f->mu);
    if (f->watchdog_started) pthread_join(f->watchdog, NULL);
    /* Reverse topological order: consumers close before their producers. */
    for (size_t i = f->n_nodes; i-- > 0;)
        node_close(&f->nodes[i]);
    free(f->nodes);
    df_arena_free(f->labels);
    pthread_cond_destroy(&f->watch_cv);
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

static size_t add_endpoint(const char **out, size_t n, size_t max, const char *ep)
{
    for (size_t i = 0; i < n && i < max; i++)
        if (strcmp(out[i], ep) == 0) return n;
    if (n < max) out[n] = ep;
    return n + 1;
}

size_t df_flow_endpoints(const df_flow *f, const char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n_nodes; i++) {
        const fl_node *node = &f->nodes[i];
        if (!node->instances) continue;
        const df_executor *ex = node->instances[0].ex;
        for (size_t k = 0; ex && k < df_executor_endpoint_count(ex); k++)
            n = add_endpoint(out, n, max, df_executor_endpoint_at(ex, k));
    }
    return n;
}
