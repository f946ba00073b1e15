/*
 * cmd_run.c -- `docflow-host run FLOW.yml`: loads the flow, starts every
 * executor, and serves it over HTTP until SIGTERM/SIGINT. The ready line
 * is logged only once every executor's init succeeded; a failing init
 * exits 1 naming the executor and its error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docflow/flow.h"
#include "docflow/log.h"
#include "gateway.h"
#include "host_cli.h"

#define CMD "run"

typedef struct run_opts {
    const char *flow;
    const char *host;
    long port; /* -1: from the flow's with: (or 0) */
    const char *context[64];
    int n_context;
} run_opts;

static void run_usage(FILE *out)
{
    fprintf(out, "usage: docflow-host run FLOW.yml [options]\n"
                 "\n"
                 "Serves a flow over HTTP (Jina's HTTP API: POST /post, /index, /search, ...;\n"
                 "GET /status, /dry_run, /metrics, /openapi.json) until SIGTERM or SIGINT.\n"
                 "\n"
                 "options:\n"
                 "  --host ADDR            bind address (default: with.host, else 127.0.0.1)\n"
                 "  --port N               port (default: with.port, else 0 = a free port,\n"
                 "                         printed on the ready line)\n"
                 "  --context KEY=VALUE    a ${{ KEY }} variable for the flow YAML (repeatable)\n"
                 "  --log-format text|json log lines as text (default) or JSON objects\n"
                 "  --quiet                log only warnings and errors\n"
                 "  --verbose              log debug lines too\n"
                 "  -h, --help             this text\n"
                 "\n"
                 "exit status: 0 after a clean shutdown, 1 runtime failure (an executor's init\n"
                 "failed, the port is taken), 2 bad usage or an invalid flow\n");
}

static int parse_args(int argc, char **argv, run_opts *o)
{
    enum { O_HOST = 256, O_PORT, O_CONTEXT, O_LOGFMT, O_QUIET, O_VERBOSE };
    static const struct option longs[] = {{"host", required_argument, 0, O_HOST},
                                          {"port", required_argument, 0, O_PORT},
                                          {"context", required_argument, 0, O_CONTEXT},
                                          {"log-format", required_argument, 0, O_LOGFMT},
                                          {"quiet", no_argument, 0, O_QUIET},
                                          {"verbose", no_argument, 0, O_VERBOSE},
                                          {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
    o->port = -1;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case O_HOST:
            o->host = optarg;
            break;
        case O_PORT: {
            char *end;
            o->port = strtol(optarg, &end, 10);
            if (*end || o->port < 0 || o->port > 65535)
                return df_cli_error(CMD, "--port: expected 0..65535, got '%s'", optarg), 2;
            break;
        }
        case O_CONTEXT:
            if (o->n_context == 64) return df_cli_error(CMD, "too many --context options"), 2;
            o->context[o->n_context++] = optarg;
            break;
        case O_LOGFMT:
            if (strcmp(optarg, "json") == 0)
                df_log_set_json(1);
            else if (strcmp(optarg, "text") != 0)
                return df_cli_error(CMD, "--log-format: expected text or json, got '%s'", optarg),
                       2;
            break;
        case O_QUIET:
            df_log_set_level(DF_LOG_WARN);
            break;
        case O_VERBOSE:
            df_log_set_level(DF_LOG_DEBUG);
            break;
        case 'h':
            run_usage(stdout);
            return -1;
        default:
            df_cli_error(CMD, "unknown or incomplete option '%s' (see --help)", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) o->flow = argv[optind++];
    if (optind < argc) return df_cli_error(CMD, "unexpected argument '%s'", argv[optind]), 2;
    if (!o->flow) return df_cli_error(CMD, "missing FLOW.yml (see --help)"), 2;
    return 0;
}

static double with_number(const df_flow_config *cfg, const char *key, double dflt)
{
    const df_value *v = df_value_get(cfg->with, key);
    return df_value_type_of(v) == DF_VALUE_NUMBER ? df_value_number(v) : dflt;
}

static int with_bool(const df_flow_config *cfg, const char *key)
{
    const df_value *v = df_value_get(cfg->with, key);
    return df_value_type_of(v) == DF_VALUE_BOOL ? df_value_bool(v) : 0;
}

static df_gateway_options gateway_options(const df_flow_config *cfg, const run_opts *o)
{
    df_gateway_options g = {0};
    const char *host = df_value_string(df_value_get(cfg->with, "host"), NULL);
    g.host = o->host ? o->host : host ? host : "127.0.0.1";
    if (strcmp(g.host, "localhost") == 0) g.host = "127.0.0.1";
    g.port = o->port >= 0 ? (int)o->port : (int)with_number(cfg, "port", 0);
    g.max_body_bytes = (size_t)with_number(cfg, "max_body_bytes", 0);
    g.max_header_bytes = (size_t)with_number(cfg, "max_header_bytes", 0);
    g.cors = with_bool(cfg, "cors");
    g.prefetch_wait = with_bool(cfg, "prefetch_wait");
    g.drain_ms = (uint64_t)with_number(cfg, "drain_timeout", 10000);
    return g;
}

int df_cmd_run(int argc, char **argv)
{
    run_opts o = {0};
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc < 0 ? DF_EXIT_OK : DF_EXIT_USAGE;
    df_error err = DF_ERROR_INIT;
    df_arena *a = df_arena_new(1 << 16);
    df_value *ctx = df_cli_context(a, o.context, o.n_context, &err);
    df_flow_config *cfg = ctx ? df_flow_config_load(a, o.flow, ctx, &err) : NULL;
    if (!cfg) {
        df_cli_error(CMD, "%s", err.msg);
        df_arena_free(a);
        return DF_EXIT_USAGE;
    }
    for (size_t i = 0; i < df_value_len(cfg->warnings); i++)
        df_log(DF_LOG_WARN, NULL, "%s", df_value_string(df_value_at(cfg->warnings, i), NULL));
    /* Before any flow thread exists, so they all inherit the mask. */
    df_gateway_block_signals();
    df_flow *flow = df_flow_open(cfg, &err);
    int exit_code = DF_EXIT_OK;
    if (!flow) {
        df_cli_error(CMD, "%s", err.msg);
        exit_code = DF_EXIT_FAILURE;
    } else {
        df_gateway_options g = gateway_options(cfg, &o);
        if (df_gateway_serve(flow, &g, &err)) {
            df_cli_error(CMD, "%s", err.msg);
            exit_code = DF_EXIT_FAILURE;
        } else {
            df_log(DF_LOG_INFO, "gateway", "stopped");
        }
    }
    df_flow_config_free(cfg);
    df_arena_free(a);
    return exit_code;
}
