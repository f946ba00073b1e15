/*
 * cmd_validate.c -- `docflow-host validate FLOW.yml`: every mistake of a
 * flow YAML at once, each with file:line:col and what to change, or "ok"
 * and a summary of the graph the runtime would start.
 *
 * Reads the flow and the executor YAML files it names; never opens a plugin
 * (a referenced .so is only checked to exist), so it is safe on any file.
 * Also holds what `plot` shares with it: --context and the checked load.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "docflow/flow_config.h"
#include "docflow/json_codec.h"
#include "host_cli.h"

#define CMD "validate"

int df_cli_context_arg(df_arena *a, df_value *context, const char *arg, df_error *err)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return df_error_set(err, DF_E_INVALID_INPUT, "--context '%s': expected KEY=VALUE", arg);
    char *key = df_arena_strndup(a, arg, (size_t)(eq - arg));
    /* A string, as `post --context` passes it: a whole ${{ KEY }} is re-read
     * as a YAML scalar, so replicas: ${{ n }} still gets a number. */
    return df_value_put_string(context, key, eq + 1);
}

df_flow_config *df_cli_check_flow(df_arena *a, const char *cmd, const char *path,
                                  const df_value *context)
{
    df_value *errors = df_value_new_list(a);
    df_value *warnings = df_value_new_list(a);
    df_flow_config *f = df_flow_config_check(a, path, NULL, 0, context, errors, warnings);
    for (size_t i = 0; i < df_value_len(warnings); i++)
        fprintf(stderr, "warning: %s\n", df_value_string(df_value_at(warnings, i), NULL));
    for (size_t i = 0; i < df_value_len(errors); i++)
        fprintf(stderr, "%s\n", df_value_string(df_value_at(errors, i), NULL));
    size_t n = df_value_len(errors);
    if (!f) df_cli_error(cmd, "%zu error%s in %s", n ? n : 1, n == 1 ? "" : "s", path);
    return f;
}

static void validate_usage(FILE *out)
{
    fprintf(out, "usage: docflow-host validate FLOW.yml [--context KEY=VALUE ...]\n"
                 "\n"
                 "Checks a flow YAML and the executor YAML files it names, without loading any\n"
                 "plugin. Prints every error as file:line:col: message (exit 2), or \"ok\" and a\n"
                 "summary of the graph: each executor, its inputs, replicas x shards, polling,\n"
                 "and what its uses: resolved to. Warnings (unknown keys, Jina settings docflow\n"
                 "ignores) go to stderr either way.\n"
                 "\n"
                 "options:\n"
                 "  --context KEY=VALUE   a ${{ KEY }} variable for the YAML (repeatable)\n"
                 "  -h, --help            this text\n"
                 "\n"
                 "exit status: 0 valid, 2 errors in the flow or bad usage\n");
}

/* "Echo (executors/echo.yml)", or for a bare .so "the plugin's only
 * executor (plugin /abs/x.so)". */
static const char *uses_text(df_arena *a, const df_executor_config *c, const char *from)
{
    if (!c) return "-";
    if (!c->jtype || !*c->jtype)
        return df_arena_printf(a, "the plugin's executor type (%s)", from ? from : "");
    return df_arena_printf(a, "%s (%s)", c->jtype, from ? from : "");
}

static void print_polling(const df_flow_node *n)
{
    printf(", polling %s", n->polling_default == DF_POLLING_ALL ? "ALL" : "ANY");
    for (size_t i = 0; i < df_value_len(n->polling); i++)
        printf(", %s: %s", df_value_key_at(n->polling, i),
               df_value_string(df_value_at(n->polling, i), NULL));
}

static void print_node(df_arena *a, const df_flow_node *n)
{
    printf("  %s\n", n->name);
    printf("    needs     ");
    if (!n->n_needs) printf("gateway");
    for (size_t k = 0; k < n->n_needs; k++)
        printf("%s%s", k ? ", " : "", n->needs[k]);
    printf("%s\n", n->n_needs > 1 ? " (join)" : "");
    printf("    uses      %s\n", uses_text(a, n->uses, n->uses_from));
    printf("    scale     %d replica%s x %d shard%s", n->replicas, n->replicas == 1 ? "" : "s",
           n->shards, n->shards == 1 ? "" : "s");
    if (n->shards > 1 || df_value_len(n->polling) || n->polling_default == DF_POLLING_ALL)
        print_polling(n);
    printf("\n");
    if (n->uses_before)
        printf("    before    %s\n", uses_text(a, n->uses_before, n->uses_before_from));
    if (n->uses_after)
        printf("    after     %s\n", uses_text(a, n->uses_after, n->uses_after_from));
    if (n->when_yaml) {
        df_buf b = DF_BUF_INIT;
        df_json_encode_value(&b, n->when_yaml);
        printf("    when      %s\n", b.data);
        df_buf_free(&b);
    }
    for (size_t i = 0; i < df_value_len(n->dynamic_batching); i++) {
        const df_value *e = df_value_at(n->dynamic_batching, i);
        printf("    batching  %s: up to %g documents or %g ms\n",
               df_value_key_at(n->dynamic_batching, i),
               df_value_number(df_value_get(e, "preferred_batch_size")),
               df_value_number(df_value_get(e, "timeout")));
    }
    if (n->external) printf("    external  %s:%d\n", n->host ? n->host : "?", n->port);
}

/* The executors no other executor needs: their answers go back out. */
static int is_leaf(const df_flow_config *f, const df_flow_node *n)
{
    for (size_t i = 0; i < f->n_nodes; i++)
        for (size_t k = 0; k < f->nodes[i].n_needs; k++)
            if (strcmp(f->nodes[i].needs[k], n->name) == 0) return 0;
    return 1;
}

static void print_summary(df_arena *a, const df_flow_config *f)
{
    printf("ok: %s: %zu executor%s, prefetch %d\n", f->source, f->n_nodes,
           f->n_nodes == 1 ? "" : "s", f->prefetch);
    for (size_t i = 0; i < f->n_nodes; i++)
        print_node(a, &f->nodes[i]);
    printf("  gateway (end)\n    needs     ");
    int first = 1;
    for (size_t i = 0; i < f->n_nodes; i++) {
        if (!is_leaf(f, &f->nodes[i])) continue;
        printf("%s%s", first ? "" : ", ", f->nodes[i].name);
        first = 0;
    }
    printf("%s\n", first ? "gateway" : "");
}

int df_cmd_validate(int argc, char **argv)
{
    static const struct option longs[] = {
        {"context", required_argument, 0, 'c'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    df_arena *a = df_arena_new(1 << 16);
    df_value *context = df_value_new_map(a);
    df_error err = DF_ERROR_INIT;
    int c, rc = DF_EXIT_USAGE;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'h') {
            validate_usage(stdout);
            rc = DF_EXIT_OK;
            goto done;
        }
        if (c == 'c' && df_cli_context_arg(a, context, optarg, &err) == DF_OK) continue;
        if (c == 'c')
            df_cli_error(CMD, "%s", err.msg);
        else
            df_cli_error(CMD, "unknown or incomplete option '%s' (see --help)", argv[optind - 1]);
        goto done;
    }
    if (optind != argc - 1) {
        df_cli_error(CMD, optind >= argc ? "missing FLOW.yml (see --help)"
                                         : "expected one FLOW.yml (see --help)");
        goto done;
    }
    df_flow_config *f = df_cli_check_flow(a, CMD, argv[optind], context);
    if (f) {
        print_summary(a, f);
        df_flow_config_free(f);
        rc = DF_EXIT_OK;
    }
done:
    df_arena_free(a);
    return rc;
}
