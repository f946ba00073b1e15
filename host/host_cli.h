/*
 * host_cli.h -- what the docflow-host subcommands share: their entry
 * points and small helpers for reading files and printing errors.
 */
#ifndef DOCFLOW_HOST_CLI_H
#define DOCFLOW_HOST_CLI_H

#include <stddef.h>

#include "docflow/arena.h"
#include "docflow/buf.h"
#include "docflow/error.h"

/* Exit codes of every docflow command. */
enum { DF_EXIT_OK = 0, DF_EXIT_FAILURE = 1, DF_EXIT_USAGE = 2 };

int df_cmd_call(int argc, char **argv);

/* Prints "docflow-host <cmd>: <message>" on stderr. */
void df_cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Reads a whole file ("-" or NULL: stdin) into b. DF_OK or the error. */
int df_cli_read_file(const char *path, df_buf *b, df_error *err);
/* Writes data to path atomically (temp file, fsync, rename); "-" or NULL:
 * stdout. */
int df_cli_write_file(const char *path, const void *data, size_t len, df_error *err);

#endif
