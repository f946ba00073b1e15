/*
 * cmd_post.c -- `docflow-host post`: sends documents through a flow, in
 * requests of --request-size documents with --concurrency requests in
 * flight, and writes the resulting documents in input order. The flow runs
 * either in this process (--flow FLOW.yml, no server) or behind a gateway
 * (--host URL: `docflow-host run` or any Jina HTTP gateway, over libcurl,
 * JSON or protobuf, with retries when the gateway answers 503).
 *
 * Input is decoded and checked completely before anything is sent (a bad
 * line stops everything with exit 2). Requests that fail do not stop the
 * others: their documents are left out of the output, each failure is
 * reported, and the exit status is 1.
 */
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "docflow/flow.h"
#include "docflow/json_codec.h"
#include "docflow/log.h"
#include "docflow/protobuf_codec.h"
#include "docflow/request_codec.h"
#include "docflow/yaml_value.h"
#include "host_cli.h"
#include "http_client.h"

#define CMD "post"
/* Past this many, failures are counted in the summary but not listed. */
#define MAX_FAILURES_SHOWN 20
/* Back-off after a 503 without Retry-After: 0.1 s, doubling, at most 10 s. */
#define RETRY_FIRST_S 0.1
#define RETRY_MAX_S   10.0

typedef struct post_opts {
    const char *flow;
    const char *host;
    const char *endpoint;
    const char *input;
    const char *output;
    const char *results;
    const char *parameters;
    const char *target;
    int protobuf;      /* --format: documents in and out */
    int wire_protobuf; /* --protocol: what goes over HTTP */
    long request_size;
    long concurrency;
    long retries;
    double timeout_s; /* 0: none */
    int progress;     /* -1: when stderr is a terminal */
    const char *context[64];
    int n_context;
} post_opts;

static void post_usage(FILE *out)
{
    fprintf(out,
            "usage: docflow-host post --flow FLOW.yml --on ENDPOINT [options]\n"
            "       docflow-host post --host URL --on ENDPOINT [options]\n"
            "\n"
            "Sends documents through a flow and writes the resulting documents, in input\n"
            "order. The flow runs in this process (--flow, no server) or is served by\n"
            "'docflow-host run' or any Jina HTTP gateway (--host).\n"
            "\n"
            "options:\n"
            "  --flow FILE            run the flow YAML in this process\n"
            "  --host URL             send to the gateway at URL, e.g. http://127.0.0.1:12345\n"
            "                         (POST URL/post); exactly one of --flow and --host\n"
            "  --on ENDPOINT          the endpoint, e.g. /index (required)\n"
            "  --input FILE           documents to send (default: stdin)\n"
            "  --output FILE          where to write the documents (default: stdout)\n"
            "  --format jsonl|protobuf  input and output format (default jsonl)\n"
            "  --request-size N       documents per request (default 100)\n"
            "  --concurrency N        requests in flight (default 4)\n"
            "  --parameters JSON      request parameters, a JSON object\n"
            "  --target-executor RE   only executors whose name matches RE (at its start)\n"
            "  --results FILE         __results__ of each request as JSON lines (default: none)\n"
            "  --timeout S            fail a request not answered within S seconds\n"
            "                         (default: no limit)\n"
            "  --progress / --no-progress  progress bar on stderr (default: on a terminal)\n"
            "  -h, --help             this text\n"
            "\n"
            "with --host:\n"
            "  --protocol json|protobuf  the body of each HTTP request and answer: JSON, or\n"
            "                         DataRequestProto bytes (default json)\n"
            "  --retries N            resend a request the gateway refused with 503 (busy) up\n"
            "                         to N times, after its Retry-After or 0.1 s, 0.2 s, 0.4 s,\n"
            "                         ... (default 3)\n"
            "\n"
            "with --flow:\n"
            "  --context KEY=VALUE    a ${{ KEY }} variable for the flow YAML (repeatable)\n"
            "\n"
            "exit status: 0 ok, 1 a request failed (the others are still written), 2 bad usage\n"
            "or bad input (nothing is sent)\n");
}

static int parse_long(const char *opt, const char *s, long min, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < min) {
        df_cli_error(CMD, "%s: expected a number >= %ld, got '%s'", opt, min, s);
        return 2;
    }
    *out = v;
    return 0;
}

static int parse_seconds(const char *opt, const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end || !(v > 0) || !isfinite(v)) {
        df_cli_error(CMD, "%s: expected a number of seconds > 0, got '%s'", opt, s);
        return 2;
    }
    *out = v;
    return 0;
}

/* The options that only make sense with one of --flow and --host. */
static int check_mode(const post_opts *o, int protocol_given, int retries_given)
{
    if (!o->flow && !o->host)
        return df_cli_error(CMD, "missing --flow FLOW.yml or --host URL (see --help)"), 2;
    if (o->flow && o->host)
        return df_cli_error(CMD, "--flow and --host exclude each other: give one"), 2;
    if (o->host && o->n_context)
        return df_cli_error(CMD, "--context is for --flow (the server reads its own flow)"), 2;
    if (o->flow && (protocol_given || retries_given))
        return df_cli_error(CMD, "%s is for --host", protocol_given ? "--protocol" : "--retries"),
               2;
    return 0;
}

static int parse_args(int argc, char **argv, post_opts *o)
{
    enum {
        O_FLOW = 256,
        O_HOST,
        O_ON,
        O_INPUT,
        O_OUTPUT,
        O_RESULTS,
        O_PARAMS,
        O_TARGET,
        O_FORMAT,
        O_PROTOCOL,
        O_RS,
        O_CONC,
        O_RETRIES,
        O_TIMEOUT,
        O_CONTEXT,
        O_PROGRESS,
        O_NO_PROGRESS
    };
    static const struct option longs[] = {{"flow", required_argument, 0, O_FLOW},
                                          {"host", required_argument, 0, O_HOST},
                                          {"on", required_argument, 0, O_ON},
                                          {"input", required_argument, 0, O_INPUT},
                                          {"output", required_argument, 0, O_OUTPUT},
                                          {"results", required_argument, 0, O_RESULTS},
                                          {"parameters", required_argument, 0, O_PARAMS},
                                          {"target-executor", required_argument, 0, O_TARGET},
                                          {"format", required_argument, 0, O_FORMAT},
                                          {"protocol", required_argument, 0, O_PROTOCOL},
                                          {"request-size", required_argument, 0, O_RS},
                                          {"concurrency", required_argument, 0, O_CONC},
                                          {"retries", required_argument, 0, O_RETRIES},
                                          {"timeout", required_argument, 0, O_TIMEOUT},
                                          {"context", required_argument, 0, O_CONTEXT},
                                          {"progress", no_argument, 0, O_PROGRESS},
                                          {"no-progress", no_argument, 0, O_NO_PROGRESS},
                                          {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
    o->request_size = 100;
    o->concurrency = 4;
    o->retries = 3;
    o->progress = -1;
    int protocol_given = 0, retries_given = 0;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case O_FLOW:
            o->flow = optarg;
            break;
        case O_HOST:
            o->host = optarg;
            break;
        case O_ON:
            o->endpoint = optarg;
            break;
        case O_INPUT:
            o->input = optarg;
            break;
        case O_OUTPUT:
            o->output = optarg;
            break;
        case O_RESULTS:
            o->results = optarg;
            break;
        case O_PARAMS:
            o->parameters = optarg;
            break;
        case O_TARGET:
            o->target = optarg;
            break;
        case O_PROGRESS:
            o->progress = 1;
            break;
        case O_NO_PROGRESS:
            o->progress = 0;
            break;
        case O_FORMAT:
            if (strcmp(optarg, "protobuf") == 0)
                o->protobuf = 1;
            else if (strcmp(optarg, "jsonl") != 0)
                return df_cli_error(CMD, "--format: expected jsonl or protobuf, got '%s'", optarg),
                       2;
            break;
        case O_PROTOCOL:
            protocol_given = 1;
            if (strcmp(optarg, "protobuf") == 0)
                o->wire_protobuf = 1;
            else if (strcmp(optarg, "json") != 0)
                return df_cli_error(CMD, "--protocol: expected json or protobuf, got '%s'", optarg),
                       2;
            break;
        case O_RS:
            if (parse_long("--request-size", optarg, 1, &o->request_size)) return 2;
            break;
        case O_CONC:
            if (parse_long("--concurrency", optarg, 1, &o->concurrency)) return 2;
            break;
        case O_RETRIES:
            retries_given = 1;
            if (parse_long("--retries", optarg, 0, &o->retries)) return 2;
            break;
        case O_TIMEOUT:
            if (parse_seconds("--timeout", optarg, &o->timeout_s)) return 2;
            break;
        case O_CONTEXT:
            if (o->n_context == 64) return df_cli_error(CMD, "too many --context options"), 2;
            o->context[o->n_context++] = optarg;
            break;
        case 'h':
            post_usage(stdout);
            return -1;
        default:
            df_cli_error(CMD, "unknown or incomplete option '%s' (see --help)", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc)
        return df_cli_error(CMD, "unexpected argument '%s' (see --help)", argv[optind]), 2;
    if (check_mode(o, protocol_given, retries_given)) return 2;
    if (!o->endpoint || o->endpoint[0] != '/')
        return df_cli_error(CMD, "--on ENDPOINT is required and starts with '/', e.g. --on /index"),
               2;
    return 0;
}

/* ---- what both modes share: results in input order, progress, output ---------- */

/* One request's outcome. In-process responses are freed with
 * df_flow_response_free; decoded HTTP answers live in `arena`. */
typedef struct post_result {
    df_flow_response *resp; /* NULL until the request completed */
    df_arena *arena;        /* NULL for an in-process response */
} post_result;

typedef struct post_run {
    pthread_mutex_t mu; /* in-process mode: flow threads complete requests */
    pthread_cond_t cv;
    post_result *slots; /* per request */
    size_t n_docs;
    size_t n_requests;
    size_t next_write;
    size_t in_flight;
    size_t docs_done;
    size_t failed;
    size_t retried;
} post_run;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void show_progress(size_t done, size_t total, double t0)
{
    double dt = now_s() - t0;
    double rate = dt > 0 ? (double)done / dt : 0;
    double eta = rate > 0 && done < total ? (double)(total - done) / rate : 0;
    int width = 30, fill = total ? (int)((double)width * (double)done / (double)total) : width;
    if (fill > width) fill = width;
    fprintf(stderr, "\r[%.*s%*s] %zu/%zu docs  %.0f docs/s  ETA %.0fs ", fill,
            "##############################", width - fill, "", done, total, rate, eta);
}

static void report_failure(const post_opts *o, const df_flow_response *resp, size_t index,
                           post_run *run)
{
    run->failed++;
    if (run->failed > MAX_FAILURES_SHOWN) return;
    size_t first = index * (size_t)o->request_size;
    size_t last = first + (size_t)o->request_size - 1;
    if (last >= run->n_docs) last = run->n_docs - 1;
    const char *exec =
        resp->error_executor && resp->error_executor[0] ? resp->error_executor : NULL;
    const char *msg = resp->error ? resp->error : df_rc_name(resp->status);
    /* Flow errors start with the executor's name: say it once. */
    size_t len = exec ? strlen(exec) : 0;
    if (exec && strncmp(msg, exec, len) == 0 && msg[len] == ':' && msg[len + 1] == ' ')
        msg += len + 2;
    df_cli_error(CMD, "request %zu (documents %zu..%zu) failed%s%s: %s", index, first, last,
                 exec ? " in " : "", exec ? exec : "", msg);
    if (run->failed == MAX_FAILURES_SHOWN)
        df_cli_error(CMD, "further failures are counted, not listed");
}

static void write_response(const post_opts *o, df_flow_response *resp, size_t index, df_buf *out,
                           df_buf *results, post_run *run)
{
    if (resp->status) {
        report_failure(o, resp, index, run);
        return;
    }
    if (o->protobuf) df_pb_encode_docs(out, resp->docs);
    for (size_t k = 0; !o->protobuf && k < df_docs_len(resp->docs); k++) {
        df_json_encode_doc(out, df_docs_get(resp->docs, k));
        df_buf_append_char(out, '\n');
    }
    const df_value *r = df_value_get(resp->parameters, "__results__");
    if (o->results && df_value_len(r)) {
        df_buf_append_str(results, "{\"__results__\":");
        df_json_encode_value(results, r);
        df_buf_append_str(results, "}\n");
    }
}

/* Writes every completed response that is next in input order. */
static void drain_in_order(const post_opts *o, post_run *run, df_buf *out, df_buf *results)
{
    while (run->next_write < run->n_requests && run->slots[run->next_write].resp) {
        post_result *s = &run->slots[run->next_write];
        write_response(o, s->resp, run->next_write, out, results, run);
        run->docs_done += df_docs_len(s->resp->docs);
        if (s->arena)
            df_arena_free(s->arena);
        else
            df_flow_response_free(s->resp);
        *s = (post_result){0};
        run->next_write++;
    }
}

static int read_all_docs(const post_opts *o, df_docs *docs, df_error *err)
{
    df_buf in = DF_BUF_INIT;
    int rc = df_cli_read_file(o->input, &in, err);
    const char *label = o->input && strcmp(o->input, "-") ? o->input : "stdin";
    if (!rc && o->protobuf) rc = df_pb_decode_docs(docs, (const uint8_t *)in.data, in.len, err);
    if (!rc && !o->protobuf) rc = df_cli_decode_jsonl(docs, &in, label, err);
    df_buf_free(&in);
    return rc;
}

/* --target-executor is checked before anything is sent (exit 2). */
static int check_target(const char *re, df_error *err)
{
    if (!re) return DF_OK;
    regex_t rx;
    char pattern[1024];
    snprintf(pattern, sizeof pattern, "^(%s)", re);
    int rc = regcomp(&rx, pattern, REG_EXTENDED | REG_NOSUB);
    if (rc == 0) {
        regfree(&rx);
        return DF_OK;
    }
    char msg[256];
    regerror(rc, &rx, msg, sizeof msg);
    return df_error_set(err, DF_E_INVALID_INPUT, "--target-executor '%s': %s", re, msg);
}

/* The documents of request i, in the arena of `all` (so not copied). */
static df_docs *request_docs(const post_opts *o, const df_docs *all, size_t i)
{
    df_docs *docs = df_docs_new(df_docs_arena(all));
    size_t n = df_docs_len(all), first = i * (size_t)o->request_size;
    for (size_t k = first; k < n && k < first + (size_t)o->request_size; k++)
        df_docs_append(docs, df_docs_get(all, k));
    return docs;
}

/* ---- in-process: --flow ---------------------------------------------------------- */

typedef struct post_slot {
    post_run *run;
    size_t index;
} post_slot;

static void on_done(void *ctx, df_flow_response *resp)
{
    post_slot *s = ctx;
    post_run *run = s->run;
    pthread_mutex_lock(&run->mu);
    run->slots[s->index].resp = resp;
    run->in_flight--;
    pthread_cond_signal(&run->cv);
    pthread_mutex_unlock(&run->mu);
}

static df_flow_request make_request(const post_opts *o, const df_docs *all, size_t index,
                                    const df_value *params)
{
    df_arena *a = df_arena_new(0);
    df_docs *docs = df_docs_new(a);
    size_t n = df_docs_len(all), first = index * (size_t)o->request_size;
    for (size_t k = first; k < n && k < first + (size_t)o->request_size; k++)
        df_docs_append(docs, df_docs_get(all, k));
    df_flow_request q = {.arena = a,
                         .endpoint = o->endpoint,
                         .docs = docs,
                         .parameters = df_value_copy(a, params),
                         .target_executor = o->target,
                         .timeout_ms = o->timeout_s * 1000};
    return q;
}

static int run_flow_requests(const post_opts *o, df_flow *flow, const df_docs *all,
                             const df_value *params, df_buf *out, df_buf *results, post_run *run,
                             df_error *err)
{
    post_slot *ctx = calloc(run->n_requests + 1, sizeof *ctx);
    if (!ctx) abort();
    int progress = o->progress < 0 ? isatty(STDERR_FILENO) : o->progress;
    double t0 = now_s(), last = 0;
    int rc = DF_OK;
    for (size_t i = 0; i <= run->n_requests && rc == DF_OK; i++) {
        pthread_mutex_lock(&run->mu);
        while (run->in_flight >= (size_t)o->concurrency ||
               (i == run->n_requests && run->in_flight)) {
            pthread_cond_wait(&run->cv, &run->mu);
            drain_in_order(o, run, out, results);
        }
        drain_in_order(o, run, out, results);
        if (i < run->n_requests) run->in_flight++;
        pthread_mutex_unlock(&run->mu);
        if (progress && (now_s() - last > 0.1 || i == run->n_requests)) {
            show_progress(run->docs_done, run->n_docs, t0);
            last = now_s();
        }
        if (i == run->n_requests) break;
        ctx[i] = (post_slot){run, i};
        df_flow_request q = make_request(o, all, i, params);
        rc = df_flow_post(flow, &q, on_done, &ctx[i], 1, err);
    }
    if (progress) fputc('\n', stderr);
    free(ctx);
    return rc;
}

/* --flow: loads the flow's YAML (before the input is read, so a bad flow
 * is reported first). NULL (err says why) on an invalid flow. */
static df_flow_config *load_flow(const post_opts *o, df_arena *a, df_error *err)
{
    df_value *ctx = df_cli_context(a, o->context, o->n_context, err);
    df_flow_config *cfg = ctx ? df_flow_config_load(a, o->flow, ctx, err) : NULL;
    for (size_t i = 0; cfg && i < df_value_len(cfg->warnings); i++)
        df_log(DF_LOG_WARN, NULL, "%s", df_value_string(df_value_at(cfg->warnings, i), NULL));
    return cfg;
}

/* Opens the flow, runs every request, closes it. DF_OK, or the error that
 * stopped the run; *opened says whether the flow started at all. */
static int post_to_flow(const post_opts *o, const df_flow_config *cfg, const df_docs *docs,
                        const df_value *params, df_buf *out, df_buf *results, post_run *run,
                        int *opened, df_error *err)
{
    df_flow *flow = df_flow_open(cfg, err);
    *opened = flow != NULL;
    if (!flow) return err->code ? err->code : DF_E_INTERNAL;
    int rc = run_flow_requests(o, flow, docs, params, out, results, run, err);
    df_flow_close(flow, 0);
    return rc;
}

/* ---- over HTTP: --host ------------------------------------------------------------- */

/* One request of the run. Its body is encoded when it is first sent and
 * kept for retries; it is freed once the request completed. */
typedef struct host_request {
    df_buf body;
    int sends;       /* how many times it was sent */
    double retry_at; /* after a 503: when it may be sent again (now_s) */
    df_http_exchange x;
} host_request;

typedef struct host_run {
    const post_opts *o;
    const df_docs *all;
    const df_value *params;
    char *url; /* BASE/post */
    df_http_client *client;
    host_request *reqs;
    size_t next_new; /* the first request never sent */
    size_t *waiting; /* requests waiting for their retry (fewer than --concurrency) */
    size_t n_waiting;
    size_t completed; /* requests whose result is in the slots */
} host_run;

/* URL/post; "host:port" without a scheme means http://. */
static char *post_url(const char *host)
{
    size_t len = strlen(host);
    while (len && host[len - 1] == '/')
        len--;
    const char *scheme = strstr(host, "://") ? "" : "http://";
    size_t cap = strlen(scheme) + len + sizeof "/post";
    char *url = malloc(cap);
    if (!url) abort();
    snprintf(url, cap, "%s%.*s/post", scheme, (int)len, host);
    return url;
}

static void fail_result(df_flow_response *resp, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Turns a decoded (or empty) response into a failure with the message. */
static void fail_result(df_flow_response *resp, int code, const char *fmt, ...)
{
    df_arena *a = df_docs_arena(resp->docs);
    char msg[DF_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    resp->status = code;
    resp->error = df_arena_strdup(a, msg);
}

/* The answer of an exchange -> the request's result: its documents, or
 * why it failed (no answer, an HTTP error, an undecodable body, or the
 * header.status an executor set). */
static post_result http_result(host_run *h, host_request *r)
{
    df_http_exchange *x = &r->x;
    df_arena *a = df_arena_new(0);
    df_flow_response *resp = df_arena_calloc(a, sizeof *resp);
    post_result s = {resp, a};
    df_error err = DF_ERROR_INIT;
    int rc = DF_E_IO;
    if (x->status && strncmp(x->response_type, "application/x-protobuf", 22) == 0)
        rc = df_response_decode_protobuf(a, (const uint8_t *)x->response.data, x->response.len,
                                         resp, &err);
    else if (x->status)
        rc = df_response_decode_json(a, x->response.data ? x->response.data : "", x->response.len,
                                     resp, &err);
    if (rc) *resp = (df_flow_response){.docs = df_docs_new(a)};
    if (!x->status)
        fail_result(resp, DF_E_IO, "no answer from %s: %s", h->url, x->error);
    else if (x->status == 200 && rc)
        fail_result(resp, DF_E_INTERNAL, "undecodable answer from %s: %s", h->url, err.msg);
    else if (x->status != 200 && resp->error) /* the gateway's error body */
        fail_result(resp, resp->status ? resp->status : DF_E_INTERNAL, "HTTP %ld: %s", x->status,
                    resp->error);
    else if (x->status != 200)
        fail_result(resp, DF_E_INTERNAL, "HTTP %ld%s%.200s", x->status, x->response.len ? ": " : "",
                    x->response.len ? x->response.data : "");
    return s;
}

static void complete_request(host_run *h, post_run *run, size_t i, post_result s)
{
    run->slots[i] = s;
    h->completed++;
    df_buf_free(&h->reqs[i].body);
    df_buf_free(&h->reqs[i].x.response);
}

/* Sends request i (again, for a retry). */
static void send_request(host_run *h, post_run *run, size_t i)
{
    const post_opts *o = h->o;
    host_request *r = &h->reqs[i];
    if (!r->sends) {
        const df_docs *docs = request_docs(o, h->all, i);
        if (o->wire_protobuf)
            df_request_encode_protobuf(&r->body, o->endpoint, docs, h->params, o->target);
        else
            df_request_encode_json(&r->body, o->endpoint, docs, h->params, o->target);
    }
    r->sends++;
    r->x.url = h->url;
    r->x.content_type = o->wire_protobuf ? "application/x-protobuf" : "application/json";
    r->x.body = r->body.data;
    r->x.body_len = r->body.len;
    r->x.timeout_ms = (long)(o->timeout_s * 1000);
    r->x.user = (void *)(uintptr_t)i;
    df_error err = DF_ERROR_INIT;
    if (df_http_client_start(h->client, &r->x, &err) == DF_OK) return;
    df_arena *a = df_arena_new(0);
    df_flow_response *resp = df_arena_calloc(a, sizeof *resp);
    resp->docs = df_docs_new(a);
    fail_result(resp, err.code, "%s", err.msg);
    complete_request(h, run, i, (post_result){resp, a});
}

/* Starts due retries first (they are oldest), then new requests, while
 * there is room. */
static void start_requests(host_run *h, post_run *run)
{
    double now = now_s();
    for (size_t k = 0; k < h->n_waiting;) {
        if (df_http_client_in_flight(h->client) >= h->o->concurrency) return;
        size_t i = h->waiting[k];
        if (h->reqs[i].retry_at > now) {
            k++;
            continue;
        }
        h->waiting[k] = h->waiting[--h->n_waiting];
        send_request(h, run, i);
    }
    while (h->next_new < run->n_requests &&
           df_http_client_in_flight(h->client) + (long)h->n_waiting < h->o->concurrency)
        send_request(h, run, h->next_new++);
}

static void on_answer(host_run *h, post_run *run, df_http_exchange *x)
{
    size_t i = (size_t)(uintptr_t)x->user;
    host_request *r = &h->reqs[i];
    if (x->status == 503 && r->sends <= h->o->retries) {
        double backoff = RETRY_FIRST_S * (double)(1u << (r->sends - 1 < 16 ? r->sends - 1 : 16));
        if (backoff > RETRY_MAX_S) backoff = RETRY_MAX_S;
        r->retry_at = now_s() + (x->retry_after_s > 0 ? (double)x->retry_after_s : backoff);
        h->waiting[h->n_waiting++] = i;
        run->retried++;
        return;
    }
    complete_request(h, run, i, http_result(h, r));
}

/* How long to wait for answers: until the next retry is due, and short
 * enough to keep the progress bar moving. */
static int wait_ms(const host_run *h, int progress)
{
    double wait = progress ? 0.1 : 1.0, now = now_s();
    for (size_t k = 0; k < h->n_waiting; k++)
        if (h->reqs[h->waiting[k]].retry_at - now < wait)
            wait = h->reqs[h->waiting[k]].retry_at - now;
    return wait > 0.001 ? (int)(wait * 1000) : 1;
}

static void run_http_requests(host_run *h, post_run *run, df_buf *out, df_buf *results)
{
    const post_opts *o = h->o;
    int progress = o->progress < 0 ? isatty(STDERR_FILENO) : o->progress;
    double t0 = now_s(), last = 0;
    while (h->completed < run->n_requests) {
        start_requests(h, run);
        int ms = wait_ms(h, progress);
        if (df_http_client_in_flight(h->client) == 0 && h->n_waiting) {
            struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
        for (df_http_exchange *x = df_http_client_next(h->client, ms); x;
             x = df_http_client_next(h->client, 0))
            on_answer(h, run, x);
        drain_in_order(o, run, out, results);
        if (progress && now_s() - last > 0.1) {
            show_progress(run->docs_done, run->n_docs, t0);
            last = now_s();
        }
    }
    if (progress) {
        show_progress(run->docs_done, run->n_docs, t0);
        fputc('\n', stderr);
    }
}

static int post_to_host(const post_opts *o, const df_docs *docs, const df_value *params,
                        df_buf *out, df_buf *results, post_run *run, int *started, df_error *err)
{
    host_run h = {.o = o, .all = docs, .params = params};
    h.client = df_http_client_new((int)o->concurrency, "docflow-host/" DOCFLOW_VERSION, err);
    *started = h.client != NULL;
    if (!h.client) return err->code ? err->code : DF_E_INTERNAL;
    h.url = post_url(o->host);
    h.reqs = calloc(run->n_requests + 1, sizeof *h.reqs);
    h.waiting = calloc((size_t)o->concurrency, sizeof *h.waiting);
    if (!h.reqs || !h.waiting) abort();
    run_http_requests(&h, run, out, results);
    df_http_client_free(h.client);
    free(h.waiting);
    free(h.reqs);
    free(h.url);
    return DF_OK;
}

/* ---- the command ------------------------------------------------------------------- */

static void print_summary(const post_opts *o, const post_run *run, double dt)
{
    fprintf(stderr, "posted %zu documents in %zu requests to %s%s%s: %zu failed", run->n_docs,
            run->n_requests, o->endpoint, o->host ? " at " : "", o->host ? o->host : "",
            run->failed);
    if (o->host) fprintf(stderr, ", %zu retried", run->retried);
    fprintf(stderr, ", %.2f s, %.0f docs/s\n", dt, dt > 0 ? (double)run->n_docs / dt : 0);
}

int df_cmd_post(int argc, char **argv)
{
    post_opts o = {0};
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc < 0 ? DF_EXIT_OK : DF_EXIT_USAGE;
    df_error err = DF_ERROR_INIT;
    df_arena *a = df_arena_new(1 << 20);
    df_flow_config *cfg = o.flow ? load_flow(&o, a, &err) : NULL;
    df_value *params = !o.flow || cfg ? df_cli_parameters(a, o.parameters, &err) : NULL;
    df_docs *docs = df_docs_new(a);
    if (!params || check_target(o.target, &err) || read_all_docs(&o, docs, &err)) {
        df_cli_error(CMD, "%s", err.msg);
        if (cfg) df_flow_config_free(cfg);
        df_arena_free(a);
        return df_error_exit_code(&err) ? df_error_exit_code(&err) : DF_EXIT_USAGE;
    }
    post_run run = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    run.n_docs = df_docs_len(docs);
    run.n_requests = (run.n_docs + (size_t)o.request_size - 1) / (size_t)o.request_size;
    run.slots = calloc(run.n_requests + 1, sizeof *run.slots);
    if (!run.slots) abort();
    df_buf out = DF_BUF_INIT, results = DF_BUF_INIT;
    double t0 = now_s();
    int started = 1;
    rc = o.flow ? post_to_flow(&o, cfg, docs, params, &out, &results, &run, &started, &err)
                : post_to_host(&o, docs, params, &out, &results, &run, &started, &err);
    int exit_code = rc || run.failed ? DF_EXIT_FAILURE : DF_EXIT_OK;
    if (rc) df_cli_error(CMD, "%s", err.msg);
    if (!started && df_error_exit_code(&err)) exit_code = df_error_exit_code(&err);
    if (started && (df_cli_write_file(o.output, out.data ? out.data : "", out.len, &err) ||
                    (o.results && df_cli_write_file(o.results, results.data ? results.data : "",
                                                    results.len, &err)))) {
        df_cli_error(CMD, "%s", err.msg);
        exit_code = DF_EXIT_FAILURE;
    }
    if (started) print_summary(&o, &run, now_s() - t0);
    free(run.slots);
    if (cfg) df_flow_config_free(cfg);
    df_buf_free(&out);
    df_buf_free(&results);
    df_arena_free(a);
    return exit_code;
}
