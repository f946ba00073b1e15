/*
 * fuzz_yaml_value.c -- libFuzzer target for the YAML reader and the executor
 * config checks: any input must parse or fail with a message, never crash,
 * leak or loop; every node of a parsed tree must have a position.
 *
 * Build by hand (not wired into CMake):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     -Iplugin-api/include -Iplugin-api/src tests/fuzz/fuzz_yaml_value.c \
 *     plugin-api/src/{arena,value,error,buf,yaml_value,executor_config}.c \
 *     $(pkg-config --cflags --libs yaml-0.1) -lm -o fuzz_yaml_value
 *   ./fuzz_yaml_value -max_total_time=60 -max_len=4096 corpus/ tests/data/yaml/
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "docflow/executor_config.h"
#include "docflow/yaml_value.h"

static void check_positions(const df_yaml *y, const df_value *v, int depth)
{
    if (df_yaml_pos_of(y, v).line <= 0) abort();
    if (depth > 1000) abort(); /* the loader caps nesting well below this */
    for (size_t i = 0; i < df_value_len(v); i++) {
        if (df_value_type_of(v) == DF_VALUE_MAP &&
            df_yaml_key_pos(y, v, df_value_key_at(v, i)).line <= 0)
            abort();
        check_positions(y, df_value_at(v, i), depth + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int env_ready;
    if (!env_ready) {
        setenv("FUZZ", "42", 1);
        setenv("F", "${{ ENV.FUZZ }}", 1);
        env_ready = 1;
    }
    df_arena *a = df_arena_new(0);
    df_value *context = df_value_new_map(a);
    df_value_put_number(context, "n", 3);
    df_value_put_string(context, "s", "text");
    df_value_set(context, "m", context);
    df_error err = DF_ERROR_INIT;
    df_yaml *y = df_yaml_parse(a, (const char *)data, size, "fuzz.yml", context, &err);
    if (!y) {
        if (err.code == DF_OK || !err.msg[0]) abort(); /* a failure always says why */
    } else {
        check_positions(y, df_yaml_root(y), 0);
        df_executor_config *c = df_executor_config_from_value(a, df_yaml_root(y), y, ".", &err);
        if (c) {
            const df_value *root = df_yaml_root(y);
            df_executor_config_override(c, df_value_get(root, "with"), df_value_get(root, "metas"),
                                        df_value_get(root, "requests"), &err);
            (void)df_executor_config_where(c, c->with);
        }
    }
    df_arena_free(a);
    return 0;
}
