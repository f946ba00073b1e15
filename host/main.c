/*
 * main.c -- docflow-host: the command that runs executors and flows.
 * Dispatches to one subcommand per file (cmd_<name>.c).
 */
#include <stdio.h>
#include <string.h>

#include "docflow/executor.h"
#include "host_cli.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: docflow-host <command> [options]\n"
            "\n"
            "commands:\n"
            "  call CONFIG --on ENDPOINT   run one executor on documents (JSON lines), no flow\n"
            "  post --flow FLOW --on EP    send documents through a flow run in this process\n"
            "  validate FLOW.yml           check a flow YAML: every error, or a summary\n"
            "  plot FLOW.yml [-o FILE]     draw a flow (Graphviz DOT, Mermaid, SVG, PNG)\n"
            "  version                     print the version and the executor ABI version\n"
            "  help                        this text\n"
            "\n"
            "Run 'docflow-host <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return DF_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "call") == 0) return df_cmd_call(argc - 1, argv + 1);
    if (strcmp(cmd, "post") == 0) return df_cmd_post(argc - 1, argv + 1);
    if (strcmp(cmd, "validate") == 0) return df_cmd_validate(argc - 1, argv + 1);
    if (strcmp(cmd, "plot") == 0) return df_cmd_plot(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("docflow-host %s (executor ABI %d.%d)\n", DOCFLOW_VERSION, DF_ABI_MAJOR,
               DF_ABI_MINOR);
        return DF_EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return DF_EXIT_OK;
    }
    fprintf(stderr, "docflow-host: unknown command '%s'\n", cmd);
    usage(stderr);
    return DF_EXIT_USAGE;
}
