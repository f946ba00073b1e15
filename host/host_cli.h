/*
 * host_cli.h -- what the docflow-host subcommands share: their entry
 * points and small helpers for reading files and printing errors.
 */
#ifndef DOCFLOW_HOST_CLI_H
#define DOCFLOW_HOST_CLI_H

#include <stddef.h>

#include "docflow/arena.h"
#include "docflow/buf.h"
#include "docflow/document.h"
#include "docflow/value.h"
#include "docflow/error.h"

/* Exit codes of every docflow command. */
enum { DF_EXIT_OK = 0, DF_EXIT_FAILURE = 1, DF_EXIT_USAGE = 2 };

int df_cmd_call(int argc, char **argv);
int df_cmd_post(int argc, char **argv);
int df_cmd_ping(int argc, char **argv);
int df_cmd_run(int argc, char **argv);
int df_cmd_validate(int argc, char **argv);
int df_cmd_plot(int argc, char **argv);
int df_cmd_hello(int argc, char **argv);

/* Prints "docflow-host <cmd>: <message>" on stderr. */
void df_cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Reads a whole file ("-" or NULL: stdin) into b. DF_OK or the error. */
int df_cli_read_file(const char *path, df_buf *b, df_error *err);
/* Writes data to path atomically (temp file, fsync, rename); "-" or NULL:
 * stdout. */
int df_cli_write_file(const char *path, const void *data, size_t len, df_error *err);

/* Decodes JSON lines (blank lines skipped) into `out`; errors name
 * "<label>:<line>". */
int df_cli_decode_jsonl(df_docs *out, const df_buf *in, const char *label, df_error *err);
/* --context KEY=VALUE pairs -> a map of strings (NULL on a bad pair). */
df_value *df_cli_context(df_arena *a, const char *const *pairs, int n, df_error *err);
/* --parameters JSON: a JSON object (NULL json: an empty map). */
df_value *df_cli_parameters(df_arena *a, const char *json, df_error *err);

/* validate / plot (cmd_validate.c): --context KEY=VALUE into `context` (a
 * map in arena a; VALUE is kept as a string). */
int df_cli_context_arg(df_arena *a, df_value *context, const char *arg, df_error *err);
/* Checks a flow without opening plugins; prints its warnings and every
 * error on stderr. NULL when the flow has errors. Free the result with
 * df_flow_config_free. */
struct df_flow_config *df_cli_check_flow(df_arena *a, const char *cmd, const char *path,
                                         const df_value *context);

/* hub:// in flows (hub_resolver.c): registers the resolver that runs
 * `docflow-hub resolve` (df_flow_set_hub_resolver), and takes docflow-host's
 * hub option out of argv for run, post, validate and plot: --registry URL
 * (else $DOCFLOW_REGISTRY). The policy: $DOCFLOW_HUB_PULL, else the flow's
 * with.hub_pull, else missing. Call first in main; returns the new argc. */
int df_host_hub_setup(int argc, char **argv);

#endif
