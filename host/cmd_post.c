/*
 * cmd_post.c -- `docflow-host post --flow FLOW.yml`: sends documents
 * through a flow running in this process (no server), in requests of
 * --request-size documents with --concurrency requests in flight, and
 * writes the resulting documents in input order.
 *
 * Input is decoded and checked completely before the flow starts (a bad
 * line stops everything with exit 2). Requests that fail do not stop the
 * others: their documents are left out of the output, each failure is
 * reported, and the exit status is 1.
 */
#include <getopt.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "docflow/flow.h"
#include "docflow/json_codec.h"
#include "docflow/log.h"
#include "docflow/protobuf_codec.h"
#include "docflow/yaml_value.h"
#include "host_cli.h"

#define CMD "post"

typedef struct post_opts {
    const char *flow;
    const char *endpoint;
    const char *input;
    const char *output;
    const char *results;
    const char *parameters;
    const char *target;
    int protobuf;
    long request_size;
    long concurrency;
    int progress; /* -1: when stderr is a terminal */
    const char *context[64];
    int n_context;
} post_opts;

static void post_usage(FILE *out)
{
    fprintf(out,
            "usage: docflow-host post --flow FLOW.yml --on ENDPOINT [options]\n"
            "\n"
            "Sends documents through a flow run in this process (no server) and writes the\n"
            "resulting documents, in input order.\n"
            "\n"
            "options:\n"
            "  --flow FILE            the flow YAML (required)\n"
            "  --on ENDPOINT          the endpoint, e.g. /index (required)\n"
            "  --input FILE           documents to send (default: stdin)\n"
            "  --output FILE          where to write the documents (default: stdout)\n"
            "  --format jsonl|protobuf  input and output format (default jsonl)\n"
            "  --request-size N       documents per request (default 100)\n"
            "  --concurrency N        requests in flight (default 4)\n"
            "  --parameters JSON      request parameters, a JSON object\n"
            "  --target-executor RE   only executors whose name matches RE (at its start)\n"
            "  --results FILE         __results__ of each request as JSON lines (default: none)\n"
            "  --context KEY=VALUE    a ${{ KEY }} variable for the flow YAML (repeatable)\n"
            "  --progress / --no-progress  progress bar on stderr (default: on a terminal)\n"
            "  -h, --help             this text\n"
            "\n"
            "exit status: 0 ok, 1 a request failed (the others are still written), 2 bad usage\n"
            "or bad input (nothing is sent)\n");
}

static int parse_long(const char *opt, const char *s, long min, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < min) {
        df_cli_error(CMD, "%s: expected a number >= %ld, got '%s'", opt, min, s);
        return 2;
    }
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, post_opts *o)
{
    enum { O_FLOW = 256, O_ON, O_INPUT, O_OUTPUT, O_RESULTS, O_PARAMS, O_TARGET, O_FORMAT, O_RS,
           O_CONC, O_CONTEXT, O_PROGRESS, O_NO_PROGRESS };
    static const struct option longs[] = {
        {"flow", required_argument, 0, O_FLOW},         {"on", required_argument, 0, O_ON},
        {"input", required_argument, 0, O_INPUT},       {"output", required_argument, 0, O_OUTPUT},
        {"results", required_argument, 0, O_RESULTS},   {"parameters", required_argument, 0, O_PARAMS},
        {"target-executor", required_argument, 0, O_TARGET},
        {"format", required_argument, 0, O_FORMAT},     {"request-size", required_argument, 0, O_RS},
        {"concurrency", required_argument, 0, O_CONC},  {"context", required_argument, 0, O_CONTEXT},
        {"progress", no_argument, 0, O_PROGRESS},       {"no-progress", no_argument, 0, O_NO_PROGRESS},
        {"help", no_argument, 0, 'h'},                  {0, 0, 0, 0}};
    o->request_size = 100;
    o->concurrency = 4;
    o->progress = -1;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case O_FLOW: o->flow = optarg; break;
        case O_ON: o->endpoint = optarg; break;
        case O_INPUT: o->input = optarg; break;
        case O_OUTPUT: o->output = optarg; break;
        case O_RESULTS: o->results = optarg; break;
        case O_PARAMS: o->parameters = optarg; break;
        case O_TARGET: o->target = optarg; break;
        case O_PROGRESS: o->progress = 1; break;
        case O_NO_PROGRESS: o->progress = 0; break;
        case O_FORMAT:
            if (strcmp(optarg, "protobuf") == 0) o->protobuf = 1;
            else if (strcmp(optarg, "jsonl") != 0)
                return df_cli_error(CMD, "--format: expected jsonl or protobuf, got '%s'", optarg), 2;
            break;
        case O_RS:
            if (parse_long("--request-size", optarg, 1, &o->request_size)) return 2;
            break;
        case O_CONC:
            if (parse_long("--concurrency", optarg, 1, &o->concurrency)) return 2;
            break;
        case O_CONTEXT:
            if (o->n_context == 64) return df_cli_error(CMD, "too many --context options"), 2;
            o->context[o->n_context++] = optarg;
            break;
        case 'h': post_usage(stdout); return -1;
        default:
            df_cli_error(CMD, "unknown or incomplete option '%s' (see --help)", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) return df_cli_error(CMD, "unexpected argument '%s' (see --help)", argv[optind]), 2;
    if (!o->flow) return df_cli_error(CMD, "missing --flow FLOW.yml (see --help)"), 2;
    if (!o->endpoint || o->endpoint[0] != '/')
        return df_cli_error(CMD, "--on ENDPOINT is required and starts with '/', e.g. --on /index"), 2;
    return 0;
}

/* ---- the run: posting, collecting in order, writing ---------------------------- */

typedef struct post_run {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    df_flow_response **slots; /* per request, NULL until it completed */
    size_t n_requests;
    size_t next_write;
    size_t in_flight;
    size_t docs_done;
    size_t failed;
} post_run;

typedef struct post_slot {
    post_run *run;
    size_t index;
} post_slot;

static void on_done(void *ctx, df_flow_response *resp)
{
    post_slot *s = ctx;
    post_run *run = s->run;
    pthread_mutex_lock(&run->mu);
    run->slots[s->index] = resp;
    run->in_flight--;
    pthread_cond_signal(&run->cv);
    pthread_mutex_unlock(&run->mu);
}

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
    double eta = rate > 0 ? (double)(total - done) / rate : 0;
    int width = 30, fill = total ? (int)((double)width * (double)done / (double)total) : width;
    fprintf(stderr, "\r[%.*s%*s] %zu/%zu docs  %.0f docs/s  ETA %.0fs ", fill,
            "##############################", width - fill, "", done, total, rate, eta);
}

static void write_response(const post_opts *o, df_flow_response *resp, size_t index, df_buf *out,
                           df_buf *results, post_run *run)
{
    if (resp->status) {
        run->failed++;
        df_cli_error(CMD, "request %zu (documents %zu..%zu) failed%s%s: %s", index,
                     index * (size_t)o->request_size, (index + 1) * (size_t)o->request_size - 1,
                     resp->error_executor ? " in " : "",
                     resp->error_executor ? resp->error_executor : "", resp->error);
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
    while (run->next_write < run->n_requests && run->slots[run->next_write]) {
        df_flow_response *resp = run->slots[run->next_write];
        write_response(o, resp, run->next_write, out, results, run);
        run->docs_done += df_docs_len(resp->docs);
        df_flow_response_free(resp);
        run->slots[run->next_write++] = NULL;
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

static df_value *context_vars(df_arena *a, const post_opts *o, df_error *err)
{
    df_value *ctx = df_value_new_map(a);
    for (int i = 0; i < o->n_context; i++) {
        const char *eq = strchr(o->context[i], '=');
        if (!eq || eq == o->context[i]) {
            df_error_set(err, DF_E_INVALID_INPUT, "--context '%s': expected KEY=VALUE", o->context[i]);
            return NULL;
        }
        char *key = df_arena_strndup(a, o->context[i], (size_t)(eq - o->context[i]));
        df_value_put_string(ctx, key, eq + 1);
    }
    return ctx;
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

static df_flow_request make_request(const post_opts *o, const df_docs *all, size_t first,
                                    const df_value *params)
{
    df_arena *a = df_arena_new(0);
    df_docs *docs = df_docs_new(a);
    size_t n = df_docs_len(all);
    for (size_t k = first; k < n && k < first + (size_t)o->request_size; k++)
        df_docs_append(docs, df_docs_get(all, k));
    df_flow_request q = {.arena = a, .endpoint = o->endpoint, .docs = docs,
                         .parameters = df_value_copy(a, params), .target_executor = o->target};
    return q;
}

static int run_requests(const post_opts *o, df_flow *flow, const df_docs *all, const df_value *params,
                        df_buf *out, df_buf *results, post_run *run, df_error *err)
{
    size_t n = df_docs_len(all);
    run->n_requests = n ? (n + (size_t)o->request_size - 1) / (size_t)o->request_size : 0;
    run->slots = calloc(run->n_requests + 1, sizeof *run->slots);
    post_slot *ctx = calloc(run->n_requests + 1, sizeof *ctx);
    if (!run->slots || !ctx) abort();
    int progress = o->progress < 0 ? isatty(STDERR_FILENO) : o->progress;
    double t0 = now_s(), last = 0;
    int rc = DF_OK;
    for (size_t i = 0; i <= run->n_requests && rc == DF_OK; i++) {
        pthread_mutex_lock(&run->mu);
        while (run->in_flight >= (size_t)o->concurrency || (i == run->n_requests && run->in_flight)) {
            pthread_cond_wait(&run->cv, &run->mu);
            drain_in_order(o, run, out, results);
        }
        drain_in_order(o, run, out, results);
        if (i < run->n_requests) run->in_flight++;
        pthread_mutex_unlock(&run->mu);
        if (progress && (now_s() - last > 0.1 || i == run->n_requests)) {
            show_progress(run->docs_done, n, t0);
            last = now_s();
        }
        if (i == run->n_requests) break;
        ctx[i] = (post_slot){run, i};
        df_flow_request q = make_request(o, all, i * (size_t)o->request_size, params);
        rc = df_flow_post(flow, &q, on_done, &ctx[i], 1, err);
    }
    if (progress) fputc('\n', stderr);
    free(ctx);
    return rc;
}

int df_cmd_post(int argc, char **argv)
{
    post_opts o = {0};
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc < 0 ? DF_EXIT_OK : DF_EXIT_USAGE;
    df_error err = DF_ERROR_INIT;
    df_arena *a = df_arena_new(1 << 20);
    df_value *ctx = context_vars(a, &o, &err);
    df_flow_config *cfg = ctx ? df_flow_config_load(a, o.flow, ctx, &err) : NULL;
    df_value *params = cfg ? df_cli_parameters(a, o.parameters, &err) : NULL;
    df_docs *docs = df_docs_new(a);
    if (!cfg || !params || check_target(o.target, &err) || read_all_docs(&o, docs, &err)) {
        df_cli_error(CMD, "%s", err.msg);
        if (cfg) df_flow_config_free(cfg);
        df_arena_free(a);
        return df_error_exit_code(&err) ? df_error_exit_code(&err) : DF_EXIT_USAGE;
    }
    for (size_t i = 0; i < df_value_len(cfg->warnings); i++)
        df_log(DF_LOG_WARN, NULL, "%s", df_value_string(df_value_at(cfg->warnings, i), NULL));
    df_flow *flow = df_flow_open(cfg, &err);
    if (!flow) {
        df_cli_error(CMD, "%s", err.msg);
        df_flow_config_free(cfg);
        df_arena_free(a);
        return df_error_exit_code(&err) ? df_error_exit_code(&err) : DF_EXIT_FAILURE;
    }
    post_run run = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0, 0, 0, 0};
    df_buf out = DF_BUF_INIT, results = DF_BUF_INIT;
    double t0 = now_s();
    rc = run_requests(&o, flow, docs, params, &out, &results, &run, &err);
    df_flow_close(flow, 0);
    int exit_code = rc ? DF_EXIT_FAILURE : run.failed ? DF_EXIT_FAILURE : DF_EXIT_OK;
    if (rc) df_cli_error(CMD, "%s", err.msg);
    if (df_cli_write_file(o.output, out.data ? out.data : "", out.len, &err) ||
        (o.results && df_cli_write_file(o.results, results.data ? results.data : "", results.len, &err))) {
        df_cli_error(CMD, "%s", err.msg);
        exit_code = DF_EXIT_FAILURE;
    }
    double dt = now_s() - t0;
    fprintf(stderr, "posted %zu documents in %zu requests to %s: %zu failed, %.2f s, %.0f docs/s\n",
            df_docs_len(docs), run.n_requests, o.endpoint, run.failed, dt,
            dt > 0 ? (double)df_docs_len(docs) / dt : 0);
    free(run.slots);
    df_flow_config_free(cfg);
    df_buf_free(&out);
    df_buf_free(&results);
    df_arena_free(a);
    return exit_code;
}
