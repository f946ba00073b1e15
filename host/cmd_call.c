/*
 * cmd_call.c -- `docflow-host call`: one executor, outside any flow (Jina's
 * "use an Executor outside the Flow"). Reads documents, sends them to one
 * endpoint in requests of --request-size documents, writes the documents
 * and the results.
 *
 * All or nothing: the whole input is decoded before the executor is loaded
 * (a bad line stops the run with its line number, exit 2), and output is
 * written only after every request succeeded (exit 1 otherwise), so a
 * failed run never leaves a partial result behind.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docflow/document.h"
#include "docflow/executor_config.h"
#include "docflow/executor_runtime.h"
#include "docflow/json_codec.h"
#include "docflow/log.h"
#include "docflow/protobuf_codec.h"
#include "docflow/value.h"
#include "docflow/yaml_value.h"
#include "host_cli.h"

#define CMD "call"

typedef struct call_opts {
    const char *config;
    const char *endpoint;
    const char *parameters;
    const char *jtype;
    const char *input;
    const char *output;
    const char *results;
    const char *groundtruths;
    const char *name;
    const char *workspace;
    int protobuf;     /* input format */
    int protobuf_out; /* output format */
    long request_size;
    int quiet;
    const char *with[64];
    int n_with;
} call_opts;

static void call_usage(FILE *out)
{
    fprintf(out, "usage: docflow-host call CONFIG --on ENDPOINT [options]\n"
                 "\n"
                 "Runs one executor on documents, outside any flow. CONFIG is an executor YAML\n"
                 "file, or a plugin .so together with --jtype.\n"
                 "\n"
                 "options:\n"
                 "  --on ENDPOINT          the endpoint to call, e.g. /index (required)\n"
                 "  --parameters JSON      request parameters, a JSON object\n"
                 "  --with KEY=VALUE       override a with: argument (repeatable; VALUE is read\n"
                 "                         as a YAML scalar: 8 is a number, true a bool)\n"
                 "  --jtype NAME           the executor type, when CONFIG is a .so\n"
                 "  --name NAME            the instance name (default: metas.name, else jtype)\n"
                 "  --workspace DIR        the base workspace folder\n"
                 "  --input FILE           documents to read (default: stdin)\n"
                 "  --output FILE          where to write the documents (default: stdout);\n"
                 "                         written atomically, only when every request succeeded\n"
                 "  --results FILE         where to write __results__, one JSON line per request\n"
                 "                         (default: stderr)\n"
                 "  --groundtruths FILE    groundtruth documents, same format as the input\n"
                 "  --format jsonl|protobuf  input and output format (default jsonl: one JSON\n"
                 "                         document per line; protobuf: DocumentArrayProto bytes)\n"
                 "  --output-format jsonl|protobuf  output format, when it differs from --format\n"
                 "  --request-size N       documents per request (default 100; 0: all in one)\n"
                 "  --quiet                log only errors\n"
                 "  -h, --help             this text\n"
                 "\n"
                 "exit status: 0 ok, 1 the executor failed, 2 bad usage or bad input\n");
}

static int parse_args(int argc, char **argv, call_opts *o)
{
    enum {
        OPT_ON = 256,
        OPT_PARAMS,
        OPT_WITH,
        OPT_JTYPE,
        OPT_INPUT,
        OPT_OUTPUT,
        OPT_RESULTS,
        OPT_GT,
        OPT_FORMAT,
        OPT_OUT_FORMAT,
        OPT_RS,
        OPT_NAME,
        OPT_WS,
        OPT_QUIET
    };
    static const struct option longs[] = {{"on", required_argument, 0, OPT_ON},
                                          {"parameters", required_argument, 0, OPT_PARAMS},
                                          {"with", required_argument, 0, OPT_WITH},
                                          {"jtype", required_argument, 0, OPT_JTYPE},
                                          {"input", required_argument, 0, OPT_INPUT},
                                          {"output", required_argument, 0, OPT_OUTPUT},
                                          {"results", required_argument, 0, OPT_RESULTS},
                                          {"groundtruths", required_argument, 0, OPT_GT},
                                          {"format", required_argument, 0, OPT_FORMAT},
                                          {"output-format", required_argument, 0, OPT_OUT_FORMAT},
                                          {"request-size", required_argument, 0, OPT_RS},
                                          {"name", required_argument, 0, OPT_NAME},
                                          {"workspace", required_argument, 0, OPT_WS},
                                          {"quiet", no_argument, 0, OPT_QUIET},
                                          {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
    o->request_size = 100;
    o->protobuf_out = -1;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case OPT_ON:
            o->endpoint = optarg;
            break;
        case OPT_PARAMS:
            o->parameters = optarg;
            break;
        case OPT_WITH:
            if (o->n_with == 64)
                return df_cli_error(CMD, "too many --with options (64 at most)"), 2;
            o->with[o->n_with++] = optarg;
            break;
        case OPT_JTYPE:
            o->jtype = optarg;
            break;
        case OPT_INPUT:
            o->input = optarg;
            break;
        case OPT_OUTPUT:
            o->output = optarg;
            break;
        case OPT_RESULTS:
            o->results = optarg;
            break;
        case OPT_GT:
            o->groundtruths = optarg;
            break;
        case OPT_NAME:
            o->name = optarg;
            break;
        case OPT_WS:
            o->workspace = optarg;
            break;
        case OPT_QUIET:
            o->quiet = 1;
            break;
        case OPT_FORMAT:
        case OPT_OUT_FORMAT: {
            int pb = strcmp(optarg, "protobuf") == 0;
            if (!pb && strcmp(optarg, "jsonl") != 0)
                return df_cli_error(CMD, "%s: expected jsonl or protobuf, got '%s'",
                                    c == OPT_FORMAT ? "--format" : "--output-format", optarg),
                       2;
            if (c == OPT_FORMAT)
                o->protobuf = pb;
            else
                o->protobuf_out = pb;
            break;
        }
        case OPT_RS: {
            char *end;
            o->request_size = strtol(optarg, &end, 10);
            if (*end || o->request_size < 0)
                return df_cli_error(CMD, "--request-size: expected a number >= 0, got '%s'",
                                    optarg),
                       2;
            break;
        }
        case 'h':
            call_usage(stdout);
            return -1;
        default:
            df_cli_error(CMD, "unknown or incomplete option '%s' (see --help)", argv[optind - 1]);
            return 2;
        }
    }
    if (o->protobuf_out < 0) o->protobuf_out = o->protobuf;
    if (optind < argc) o->config = argv[optind++];
    if (optind < argc)
        return df_cli_error(CMD, "unexpected argument '%s' (see --help)", argv[optind]), 2;
    if (!o->config)
        return df_cli_error(CMD, "missing CONFIG (an executor YAML or a .so; see --help)"), 2;
    if (!o->endpoint) return df_cli_error(CMD, "missing --on ENDPOINT, e.g. --on /index"), 2;
    if (o->endpoint[0] != '/')
        return df_cli_error(CMD, "--on: an endpoint starts with '/', e.g. /%s", o->endpoint), 2;
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* A --with VALUE: a YAML scalar (8 -> number, true -> bool), or a flow
 * list/map when it starts with [ or {. Anything else that YAML would read
 * as a collection ("a: b") stays the plain string the user typed. */
static df_value *with_value(df_arena *a, const char *text, const char *label, df_error *err)
{
    if (!*text) return df_value_new_string(a, "", 0);
    int flow = text[0] == '[' || text[0] == '{';
    df_error yaml_err = DF_ERROR_INIT;
    df_yaml *y = df_yaml_parse(a, text, strlen(text), label, NULL, &yaml_err);
    df_value *v = y ? df_yaml_root(y) : NULL;
    df_value_type t = df_value_type_of(v);
    if (flow && !y) {
        *err = yaml_err;
        return NULL;
    }
    if (!y || (!flow && (t == DF_VALUE_MAP || t == DF_VALUE_LIST)))
        return df_value_new_string(a, text, (size_t)-1);
    return v;
}

/* --with KEY=VALUE pairs -> a map of YAML-typed values. */
static df_value *with_overrides(df_arena *a, const call_opts *o, df_error *err)
{
    df_value *map = df_value_new_map(a);
    for (int i = 0; i < o->n_with; i++) {
        const char *eq = strchr(o->with[i], '=');
        if (!eq || eq == o->with[i]) {
            df_error_set(err, DF_E_INVALID_INPUT, "--with '%s': expected KEY=VALUE", o->with[i]);
            return NULL;
        }
        char *key = df_arena_strndup(a, o->with[i], (size_t)(eq - o->with[i]));
        const char *text = eq + 1;
        const char *label = df_arena_printf(a, "--with %s", key);
        df_value_set(map, key, with_value(a, text, label, err));
        if (err->code) return NULL;
    }
    return map;
}

static df_executor_config *load_config(df_arena *a, const call_opts *o, df_error *err)
{
    df_executor_config *cfg;
    if (ends_with(o->config, ".so")) {
        if (!o->jtype) {
            const df_plugin *p = df_plugin_load(o->config, err);
            if (!p) return NULL;
            df_error_set(err, DF_E_INVALID_INPUT,
                         "%s is a plugin: name the executor with --jtype "
                         "(it declares %u executor type%s; 'docflow-host call CONFIG.yml' reads it "
                         "from YAML instead)",
                         o->config, p->n_executors, p->n_executors == 1 ? "" : "s");
            return NULL;
        }
        cfg = df_executor_config_for_jtype(a, o->jtype, ".");
    } else {
        cfg = df_executor_config_load(a, o->config, NULL, err);
        if (!cfg) return NULL;
        if (o->jtype) cfg->jtype = o->jtype;
    }
    for (size_t i = 0; i < df_value_len(cfg->warnings); i++)
        df_log(DF_LOG_WARN, NULL, "%s", df_value_string(df_value_at(cfg->warnings, i), NULL));
    df_value *with = with_overrides(a, o, err);
    if (!with || df_executor_config_override(cfg, with, NULL, NULL, err)) return NULL;
    return cfg;
}

static int read_docs(df_docs *out, const char *path, int protobuf, df_error *err)
{
    df_buf in = DF_BUF_INIT;
    int rc = df_cli_read_file(path, &in, err);
    const char *label = !path || strcmp(path, "-") == 0 ? "stdin" : path;
    if (rc == DF_OK) {
        rc = protobuf ? df_pb_decode_docs(out, (const uint8_t *)in.data, in.len, err)
                      : df_cli_decode_jsonl(out, &in, label, err);
        if (rc && protobuf) df_error_prefix(err, "%s", label);
    }
    df_buf_free(&in);
    return rc;
}

/* Runs every request; appends output documents and result lines. */
static int run_requests(df_executor *ex, const call_opts *o, df_docs *all, const df_value *params,
                        df_docs *gt, df_buf *docs_out, df_buf *results_out, df_error *err)
{
    df_arena *a = df_docs_arena(all);
    df_docs *outputs = df_docs_new(a);
    size_t n = df_docs_len(all);
    size_t step = o->request_size > 0 ? (size_t)o->request_size : (n ? n : 1);
    size_t i = 0;
    int skipped = 0;
    do {
        df_docs *batch = df_docs_new(a);
        for (size_t k = i; k < n && k < i + step; k++)
            df_docs_append(batch, df_docs_get(all, k));
        df_value *results = df_value_new_map(a);
        df_call call = {.arena = a,
                        .endpoint = o->endpoint,
                        .docs = batch,
                        .parameters = params,
                        .results = results,
                        .groundtruths = gt};
        int rc = df_executor_call(ex, &call, err);
        if (rc) return rc;
        skipped |= call.skipped;
        for (size_t k = 0; k < df_docs_len(call.docs); k++)
            df_docs_append(outputs, df_docs_get(call.docs, k));
        if (df_value_len(results)) {
            df_buf_append_str(results_out, "{\"__results__\":");
            df_json_encode_value(results_out, results);
            df_buf_append_str(results_out, "}\n");
        }
        i += step;
    } while (i < n);
    if (skipped)
        df_log(DF_LOG_INFO, df_executor_name(ex),
               "no handler for %s and no default handler: "
               "documents passed through unchanged",
               o->endpoint);
    if (o->protobuf_out) {
        df_pb_encode_docs(docs_out, outputs);
        return DF_OK;
    }
    for (size_t k = 0; k < df_docs_len(outputs); k++) {
        df_json_encode_doc(docs_out, df_docs_get(outputs, k));
        df_buf_append_char(docs_out, '\n');
    }
    return DF_OK;
}

static int write_outputs(const call_opts *o, const df_buf *docs_out, const df_buf *results_out,
                         df_error *err)
{
    if (df_cli_write_file(o->output, docs_out->data ? docs_out->data : "", docs_out->len, err))
        return DF_E_IO;
    if (!results_out->len) return DF_OK;
    if (o->results) return df_cli_write_file(o->results, results_out->data, results_out->len, err);
    fputs(results_out->data, stderr);
    return DF_OK;
}

int df_cmd_call(int argc, char **argv)
{
    call_opts o = {0};
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc < 0 ? DF_EXIT_OK : DF_EXIT_USAGE;
    if (o.quiet) df_log_set_level(DF_LOG_ERROR);
    df_error err = DF_ERROR_INIT;
    df_arena *a = df_arena_new(1 << 20);
    df_buf docs_out = DF_BUF_INIT, results_out = DF_BUF_INIT;
    df_executor *ex = NULL;
    int exit_code = DF_EXIT_USAGE;
    df_executor_config *cfg = load_config(a, &o, &err);
    df_value *params = cfg ? df_cli_parameters(a, o.parameters, &err) : NULL;
    df_docs *docs = df_docs_new(a);
    df_docs *gt = o.groundtruths ? df_docs_new(a) : NULL;
    if (!cfg || !params || read_docs(docs, o.input, o.protobuf, &err) ||
        (gt && read_docs(gt, o.groundtruths, o.protobuf, &err)))
        goto fail;
    df_executor_options opt = DF_EXECUTOR_OPTIONS_INIT;
    opt.name = o.name;
    opt.workspace = o.workspace;
    opt.library = ends_with(o.config, ".so") ? o.config : NULL;
    ex = df_executor_open(cfg, &opt, &err);
    if (!ex) goto fail;
    if (run_requests(ex, &o, docs, params, gt, &docs_out, &results_out, &err)) {
        exit_code = DF_EXIT_FAILURE;
        df_cli_error(CMD, "%s failed on %s: %s", df_executor_name(ex), o.endpoint, err.msg);
        goto done;
    }
    exit_code = write_outputs(&o, &docs_out, &results_out, &err) ? DF_EXIT_FAILURE : DF_EXIT_OK;
    if (exit_code) df_cli_error(CMD, "%s", err.msg);
    goto done;
fail:
    exit_code = df_error_exit_code(&err) ? df_error_exit_code(&err) : DF_EXIT_USAGE;
    df_cli_error(CMD, "%s", err.msg);
done:
    df_executor_close(ex);
    df_buf_free(&docs_out);
    df_buf_free(&results_out);
    df_arena_free(a);
    return exit_code;
}
