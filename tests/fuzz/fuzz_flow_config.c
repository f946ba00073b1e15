/*
 * fuzz_flow_config.c -- libFuzzer target for the flow YAML checks
 * (df_flow_config_check): any input must load or fail with at least one
 * message, never crash, leak or loop. A loaded flow must be a valid graph:
 * unique names, every needs naming an executor placed before it.
 *
 * Only the checking entry point is fuzzed: loading (df_flow_config_load)
 * would open any .so the input names. Seeds: tests/data (flows/ holds
 * valid and broken flows). Build by hand like fuzz_yaml_value.c, adding
 * plugin-api/src/{flow_config,flow_executors,flow_graph,doc_filter}.c and
 * the sources they use, or configure with -DDOCFLOW_FUZZ=ON (clang).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "docflow/flow_config.h"

static void check_graph(const df_flow_config *f)
{
    for (size_t i = 0; i < f->n_nodes; i++) {
        const df_flow_node *n = &f->nodes[i];
        if (!n->name || !n->uses || n->replicas < 1 || n->shards < 1) abort();
        if (df_flow_config_node(f, n->name) != n) abort(); /* unique */
        for (size_t k = 0; k < n->n_needs; k++) {
            if (strcmp(n->needs[k], "gateway") == 0) continue;
            const df_flow_node *in = df_flow_config_node(f, n->needs[k]);
            if (!in || in >= n) abort(); /* inputs come first */
        }
        (void)df_flow_node_polling(n, "/search");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int env_ready;
    if (!env_ready) {
        setenv("DF_FLOW_TEST_PORT", "8080", 1);
        setenv("DF_FLOW_TEST_WORKDIR", "/tmp/docflow-fuzz", 1);
        env_ready = 1;
    }
    df_arena *a = df_arena_new(0);
    df_value *context = df_value_new_map(a);
    df_value_put_string(context, "replicas", "2");
    df_value_put_string(context, "model", "small");
    df_value *errors = df_value_new_list(a);
    df_value *warnings = df_value_new_list(a);
    df_flow_config *f = df_flow_config_check(a, "fuzz/flow.yml", (const char *)data, size, context,
                                             errors, warnings);
    if (f) {
        if (df_value_len(errors)) abort();
        check_graph(f);
        df_flow_config_free(f);
    } else {
        if (!df_value_len(errors)) abort(); /* a failure always says why */
        for (size_t i = 0; i < df_value_len(errors); i++) {
            const char *msg = df_value_string(df_value_at(errors, i), NULL);
            if (!msg || !*msg) abort();
        }
    }
    df_arena_free(a);
    return 0;
}
