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
            "  hello                       index and search handwritten digits, write a report\n"
            "  run FLOW                    serve a flow over HTTP (Jina's HTTP API)\n"
            "  call CONFIG --on ENDPOINT   run one executor on documents (JSON lines), no flow\n"
            "  post --flow FLOW --on EP    send documents through a flow run in this process\n"
            "  post --host URL --on EP     send documents to a running gateway (HTTP)\n"
            "  ping URL                    check that a gateway answers (GET /status)\n"
            "  validate FLOW.yml           check a flow YAML: every error, or a summary\n"
            "  plot FLOW.yml [-o FILE]     draw a flow (Graphviz DOT, Mermaid, SVG, PNG)\n"
            "  version                     print the version and the executor ABI version\n"
            "  help                        this text\n"
            "\n"
            "run, post --flow, validate and plot also take --registry URL: where uses:\n"
            "hub://... executors missing locally are pulled from (default $DOCFLOW_REGISTRY;\n"
            "the flow's with.hub_pull or $DOCFLOW_HUB_PULL: missing, always or never).\n"
            "\n"
            "Run 'docflow-host <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    argc = df_host_hub_setup(argc, argv); /* uses: hub://... (hub_resolver.c) */
    if (argc < 2) {
        usage(stderr);
        return DF_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "call") == 0) return df_cmd_call(argc - 1, argv + 1);
    if (strcmp(cmd, "post") == 0) return df_cmd_post(argc - 1, argv + 1);
    if (strcmp(cmd, "ping") == 0) return df_cmd_ping(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0) return df_cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "validate") == 0) return df_cmd_validate(argc - 1, argv + 1);
    if (strcmp(cmd, "plot") == 0) return df_cmd_plot(argc - 1, argv + 1);
    if (strcmp(cmd, "hello") == 0) return df_cmd_hello(argc - 1, argv + 1);
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
