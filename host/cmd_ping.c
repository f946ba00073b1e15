/*
 * cmd_ping.c -- `docflow-host ping URL`: is a gateway up? Asks GET
 * URL/status once and exits 0 when it answers 200 with a JSON object,
 * 1 (with the reason) otherwise. For scripts and health checks; it does
 * not send documents (`post --host` does).
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docflow/json_codec.h"
#include "host_cli.h"
#include "http_client.h"

#define CMD "ping"

static void ping_usage(FILE *out)
{
    fprintf(out, "usage: docflow-host ping URL [--timeout S]\n"
                 "\n"
                 "Asks the gateway at URL (e.g. http://127.0.0.1:12345) for GET /status and says\n"
                 "whether it answered.\n"
                 "\n"
                 "options:\n"
                 "  --timeout S            give up after S seconds (default 5)\n"
                 "  -h, --help             this text\n"
                 "\n"
                 "exit status: 0 the gateway answered 200 with JSON, 1 it did not (the reason is\n"
                 "printed), 2 bad usage\n");
}

static int parse_args(int argc, char **argv, const char **url, double *timeout_s)
{
    static const struct option longs[] = {
        {"timeout", required_argument, 0, 't'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        char *end;
        switch (c) {
        case 't':
            *timeout_s = strtod(optarg, &end);
            if (!*optarg || *end || !(*timeout_s > 0) || !isfinite(*timeout_s))
                return df_cli_error(CMD, "--timeout: expected a number of seconds > 0, got '%s'",
                                    optarg),
                       2;
            break;
        case 'h':
            ping_usage(stdout);
            return -1;
        default:
            df_cli_error(CMD, "unknown or incomplete option '%s' (see --help)", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) *url = argv[optind++];
    if (optind < argc) return df_cli_error(CMD, "unexpected argument '%s'", argv[optind]), 2;
    if (!*url) return df_cli_error(CMD, "missing URL (see --help)"), 2;
    return 0;
}

/* URL/status; "host:port" without a scheme means http://. */
static char *status_url(const char *url)
{
    size_t len = strlen(url);
    while (len && url[len - 1] == '/')
        len--;
    const char *scheme = strstr(url, "://") ? "" : "http://";
    size_t cap = strlen(scheme) + len + sizeof "/status";
    char *out = malloc(cap);
    if (!out) abort();
    snprintf(out, cap, "%s%.*s/status", scheme, (int)len, url);
    return out;
}

/* "docflow 0.1.0, 2 executors: encoder, indexer" from a docflow gateway's
 * /status; less from other gateways (Jina's has no executor list). */
static void describe_status(const df_value *st, df_buf *b)
{
    const df_value *jina = df_value_get(st, "jina");
    const char *v;
    if ((v = df_value_string(df_value_get(jina, "docflow"), NULL)))
        df_buf_printf(b, "docflow %s", v);
    else if ((v = df_value_string(df_value_get(jina, "jina"), NULL)))
        df_buf_printf(b, "jina %s", v);
    const df_value *execs = df_value_get(st, "executors");
    if (df_value_type_of(execs) != DF_VALUE_LIST) return;
    df_buf_printf(b, "%s%zu executor%s", b->len ? ", " : "", df_value_len(execs),
                  df_value_len(execs) == 1 ? "" : "s");
    for (size_t i = 0; i < df_value_len(execs); i++) {
        const char *name = df_value_string(df_value_get(df_value_at(execs, i), "name"), NULL);
        df_buf_printf(b, "%s%s", i ? ", " : ": ", name ? name : "?");
    }
}

/* DF_OK when the answer is a 200 with a JSON object; else err says why. */
static int check_answer(const df_http_exchange *x, df_buf *summary, df_error *err)
{
    if (!x->status) return df_error_set(err, DF_E_IO, "no answer: %s", x->error);
    if (x->status != 200)
        return df_error_set(err, DF_E_IO, "answered HTTP %ld%s%.200s", x->status,
                            x->response.len ? ": " : "", x->response.len ? x->response.data : "");
    df_arena *a = df_arena_new(0);
    df_value *st = df_json_decode_value(a, x->response.data ? x->response.data : "",
                                        x->response.len, "body", err);
    int rc = st ? DF_OK : DF_E_IO;
    if (st && df_value_type_of(st) != DF_VALUE_MAP)
        rc = df_error_set(err, DF_E_IO, "answered a JSON %s, not an object",
                          df_value_type_name(df_value_type_of(st)));
    else if (st)
        describe_status(st, summary);
    else
        df_error_prefix(err, "answered 200 without JSON");
    df_arena_free(a);
    return rc;
}

int df_cmd_ping(int argc, char **argv)
{
    const char *url = NULL;
    double timeout_s = 5;
    int rc = parse_args(argc, argv, &url, &timeout_s);
    if (rc) return rc < 0 ? DF_EXIT_OK : DF_EXIT_USAGE;
    df_error err = DF_ERROR_INIT;
    df_http_client *client = df_http_client_new(1, "docflow-host/" DOCFLOW_VERSION, &err);
    if (!client) {
        df_cli_error(CMD, "%s", err.msg);
        return DF_EXIT_FAILURE;
    }
    char *full_url = status_url(url);
    df_http_exchange x = {.url = full_url, .timeout_ms = (long)(timeout_s * 1000)};
    df_buf summary = DF_BUF_INIT;
    rc = df_http_client_run(client, &x, &err);
    if (!rc) rc = check_answer(&x, &summary, &err);
    if (rc)
        df_cli_error(CMD, "%s: %s", x.url, err.msg);
    else
        printf("%s: up%s%s\n", x.url, summary.len ? ", " : "", summary.len ? summary.data : "");
    df_http_client_free(client);
    df_buf_free(&summary);
    df_buf_free(&x.response);
    free(full_url);
    return rc ? DF_EXIT_FAILURE : DF_EXIT_OK;
}
