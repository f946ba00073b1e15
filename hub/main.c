/*
 * main.c -- docflow-hub: package executors as versioned tarballs and move
 * them through a local store or an OCI registry. Dispatches to one
 * subcommand per file (cmd_<name>.c).
 */
#include <stdio.h>
#include <string.h>

#include "docflow/executor.h"
#include "hub_cli.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: docflow-hub <command> [options]\n"
            "\n"
            "Packages executors as versioned tarballs and keeps them in a local store\n"
            "($DOCFLOW_HOME/hub, default ~/.docflow/hub) or an OCI registry.\n"
            "\n"
            "commands:\n"
            "  new NAME                   scaffold a package folder (C source, CMakeLists.txt,\n"
            "                             config.yml, manifest.yml, README.md, test.sh)\n"
            "  build DIR                  build a package folder into a reproducible .tar.gz\n"
            "  push DIR|TARBALL [ID]      add a version to the local store, or --registry URL\n"
            "  pull ID                    get a version (the newest match), unpacked under\n"
            "                             $DOCFLOW_HOME/executors, from the store or a registry\n"
            "  list [NS/]                 what the local store holds\n"
            "  inspect ID|TARBALL         manifest, executors, endpoints, ABI, files, digests\n"
            "  rm ID                      remove a version from the local store\n"
            "  install TARBALL            verify a package tarball and add it to the store\n"
            "  login URL -u USER --password-stdin\n"
            "                             check and store credentials for a registry\n"
            "  logout URL                 forget them\n"
            "  resolve hub://NS/NAME[:VER]\n"
            "                             print the config.yml a flow's uses: hub://... loads\n"
            "                             (pulling it when missing; what docflow-host runs)\n"
            "  version                    print the version and the executor ABI version\n"
            "\n"
            "ID: " HUB_IDENT_GRAMMAR ".\n"
            "\n"
            "Run 'docflow-hub <command> --help' for a command's options.\n"
            "exit status: 0 ok, 1 failure, 2 bad usage or bad input\n");
}

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"new", hub_cmd_new},       {"build", hub_cmd_build},     {"push", hub_cmd_push},
    {"pull", hub_cmd_pull},     {"list", hub_cmd_list},       {"inspect", hub_cmd_inspect},
    {"rm", hub_cmd_rm},         {"install", hub_cmd_install}, {"login", hub_cmd_login},
    {"logout", hub_cmd_logout}, {"resolve", hub_cmd_resolve},
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return HUB_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("docflow-hub %s (executor ABI %d.%d)\n", DOCFLOW_VERSION, DF_ABI_MAJOR,
               DF_ABI_MINOR);
        return HUB_EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return HUB_EXIT_OK;
    }
    fprintf(stderr, "docflow-hub: unknown command '%s'\n", cmd);
    usage(stderr);
    return HUB_EXIT_USAGE;
}
