/*
 * hub_cli.h -- what the docflow-hub subcommands share: their entry points,
 * one option parser, and error printing. Each command lives in
 * cmd_<name>.c; main.c dispatches.
 *
 * Conventions: results on stdout, messages on stderr, each error printed
 * once as "docflow-hub <command>: <message>"; exit status 0 ok, 1 runtime
 * failure (I/O, network, a corrupted store), 2 bad usage or bad input.
 */
#ifndef DOCFLOW_HUB_CLI_H
#define DOCFLOW_HUB_CLI_H

#include <stdio.h>

#include "docflow/arena.h"
#include "docflow/error.h"
#include "hub_ident.h"

enum { HUB_EXIT_OK = 0, HUB_EXIT_FAILURE = 1, HUB_EXIT_USAGE = 2 };

int hub_cmd_new(int argc, char **argv);
int hub_cmd_build(int argc, char **argv);
int hub_cmd_push(int argc, char **argv);
int hub_cmd_pull(int argc, char **argv);
int hub_cmd_list(int argc, char **argv);
int hub_cmd_inspect(int argc, char **argv);
int hub_cmd_rm(int argc, char **argv);
int hub_cmd_install(int argc, char **argv);
int hub_cmd_login(int argc, char **argv);
int hub_cmd_logout(int argc, char **argv);
int hub_cmd_resolve(int argc, char **argv);

/* The options any command may take; each command names the ones it accepts. */
typedef struct hub_cli_opts {
    const char *registry; /* --registry URL */
    const char *ca_cert;  /* --ca-cert FILE */
    const char *output;   /* -o, --output DIR */
    const char *ns;       /* --namespace NS */
    const char *username; /* -u, --username USER */
    int insecure;         /* --insecure */
    int force;            /* --force */
    int pre;              /* --pre */
    int json;             /* --json */
    int verbose;          /* --verbose */
    int password_stdin;   /* --password-stdin */
    int help;             /* -h, --help */
    const char *args[4];  /* positional arguments */
    int n_args;
} hub_cli_opts;

/* Parses argv (argv[0] is the command name). `allowed` is a comma-separated
 * list of the long options the command takes (e.g. "registry,force");
 * help is always allowed. Checks min/max positional arguments unless
 * --help was given. DF_OK, or prints the problem and returns
 * HUB_EXIT_USAGE. */
int hub_cli_parse(const char *cmd, int argc, char **argv, const char *allowed, int min_args,
                  int max_args, hub_cli_opts *o);
/* Prints "docflow-hub <cmd>: <message>" and returns the exit status for it. */
int hub_cli_fail(const char *cmd, const df_error *err);
/* Prints a usage problem and a pointer to --help; returns HUB_EXIT_USAGE. */
int hub_cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses an identifier; on error prints it and returns HUB_EXIT_USAGE. */
int hub_cli_ident(const char *cmd, const char *text, hub_ident *id);
/* "alice/echo:1.0.0". */
void hub_cli_ref(char *buf, size_t cap, const char *ns, const char *name, const char *version);

#endif
