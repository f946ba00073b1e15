/*
 * docflow/executor_config.h -- an executor's YAML configuration (Jina's
 * executor YAML), loaded and checked:
 *
 *   jtype: Echo                 # or a `!Echo` tag on the document
 *   with: {prefix: ">> "}       # init arguments
 *   metas:
 *     name: echo                # instance name (default: the jtype)
 *     description: ...
 *     workspace: ./ws
 *     library: ../build/echo.so # the .so, relative to this YAML file
 *     batch_size: 16            # overrides DF_BATCH_N sizes
 *   requests: {/index: index}   # endpoint -> method name rebinding
 *
 * Errors name file:line:col and what to change (DF_E_INVALID_INPUT):
 * a missing or malformed jtype, a section that is not a mapping, an endpoint
 * without a leading '/', a method that is not a name, metas of the wrong type
 * (batch_size must be a whole number > 0). A section written empty
 * (`with:`) is an empty mapping. Unknown keys, and Jina keys docflow does not
 * use (py_modules, dynamic_batching, metas.py_modules), are warnings:
 * "file:line:col: unknown key 'x' in executor config (known: ...)",
 * collected in `warnings`, not printed here.
 */
#ifndef DOCFLOW_EXECUTOR_CONFIG_H
#define DOCFLOW_EXECUTOR_CONFIG_H

#include "docflow/arena.h"
#include "docflow/error.h"
#include "docflow/value.h"
#include "docflow/yaml_value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct df_executor_config {
    const char *source; /* the YAML file, or a description such as "<inline>" */
    const char *dir;    /* the folder relative paths are resolved from */
    const char *jtype;
    df_value *with;      /* map, never NULL */
    df_value *metas;     /* map, never NULL */
    df_value *requests;  /* map endpoint -> method name (strings), never NULL */
    df_value *warnings;  /* list of strings "file:line:col: unknown key 'x' ..." */
    const df_yaml *yaml; /* positions of the values above; NULL when built in code */
} df_executor_config;

/* Loads an executor YAML file. `context` (may be NULL) feeds ${{ VAR }}.
 * `dir` becomes the file's folder, absolute when it can be resolved. */
df_executor_config *df_executor_config_load(df_arena *a, const char *path, const df_value *context,
                                            df_error *err);
/* Builds a configuration from an already-parsed map (an inline `uses:` in a
 * flow); `yaml` gives positions (NULL: messages say "<inline>"), `dir`
 * resolves relative paths (NULL: "."). The configuration refers to the
 * map's values rather than copying them, so their positions stay known:
 * `map` and `yaml` must outlive it. Neither is ever changed. */
df_executor_config *df_executor_config_from_value(df_arena *a, const df_value *map,
                                                  const df_yaml *yaml, const char *dir,
                                                  df_error *err);
/* A configuration naming only a jtype (a bare `.so` or built-in jtype). */
df_executor_config *df_executor_config_for_jtype(df_arena *a, const char *jtype, const char *dir);
/* Jina's uses_with / uses_metas / uses_requests: shallow-merge maps into the
 * configuration (the override wins; values are copied). Any argument may be
 * NULL or null. Checked like the YAML sections first, with messages such as
 * "uses_requests['/index'] must be a method name (a string), got a number"
 * (no position: the caller prefixes its own); on error nothing changes.
 * Unknown uses_metas keys add warnings. The parsed tree is not modified: a
 * section is replaced by a fresh mapping before the merge. */
int df_executor_config_override(df_executor_config *c, const df_value *with, const df_value *metas,
                                const df_value *requests, df_error *err);
/* "file:line:col" of a value inside the configuration, or its source (for
 * NULL, values merged in by an override, and configurations without yaml). */
const char *df_executor_config_where(const df_executor_config *c, const df_value *v);

#ifdef __cplusplus
}
#endif
#endif
