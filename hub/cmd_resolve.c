/*
 * cmd_resolve.c -- `docflow-hub resolve hub://namespace/name[:version]`:
 * what a flow's `uses: hub://...` means, as a command. Prints the path of
 * the unpacked package's config.yml (pulling and unpacking it as the
 * policy says) through hub_resolve_uses(). docflow-host runs this command
 * (host/hub_resolver.c) so it never links the hub itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub_cli.h"
#include "hub_store.h"

#define CMD "resolve"

static void resolve_usage(void)
{
    printf("usage: docflow-hub resolve hub://namespace/name[:version] [--registry URL]\n"
           "                           [--policy missing|always|never]\n"
           "\n"
           "Resolves a flow's uses: hub://... the way docflow-host does and prints the\n"
           "path of the package's config.yml under $DOCFLOW_HOME/executors (unpacking a\n"
           "stored version first when needed, with every check of pull).\n"
           "\n"
           "The version may be exact, a prefix (1 or 1.2: the newest match) or latest\n"
           "(also what no version means); the hub:// prefix is optional. The policy says\n"
           "when the registry is asked:\n"
           "  missing   only when no stored version matches (the default)\n"
           "  always    the registry's newest match first (it replaces a stored version\n"
           "            whose content differs)\n"
           "  never     the local store only\n"
           "\n"
           "options:\n"
           "  --registry URL   the registry to pull from (default: $DOCFLOW_REGISTRY)\n"
           "  --policy P       missing (default), always or never\n"
           "  -h, --help       this text\n"
           "\n"
           "exit status: 0 ok (the path on stdout), 1 failure (network, corrupted store),\n"
           "2 bad usage, no such package or version, or a package this host cannot use\n");
}

/* Takes --policy P / --policy=P out of argv (hub_cli_parse knows only the
 * options every command shares). Returns the new argc, or -1 when the
 * value is missing. */
static int take_policy(int argc, char **argv, const char **policy)
{
    int out = 0;
    for (int i = 0; i < argc; i++) {
        if (i > 0 && strcmp(argv[i], "--") == 0) { /* the rest is positional */
            while (i < argc)
                argv[out++] = argv[i++];
            break;
        }
        if (i > 0 && strcmp(argv[i], "--policy") == 0) {
            if (i + 1 >= argc) return -1;
            *policy = argv[++i];
        } else if (i > 0 && strncmp(argv[i], "--policy=", 9) == 0) {
            *policy = argv[i] + 9;
        } else {
            argv[out++] = argv[i];
        }
    }
    return out;
}

int hub_cmd_resolve(int argc, char **argv)
{
    const char *policy = NULL;
    argc = take_policy(argc, argv, &policy);
    if (argc < 0) return hub_cli_usage(CMD, "--policy needs a value: missing, always or never");
    hub_cli_opts o;
    int rc = hub_cli_parse(CMD, argc, argv, "registry", 1, 1, &o);
    if (rc || o.help) {
        if (o.help) resolve_usage();
        return rc;
    }
    /* A bad policy is refused by hub_resolve_uses, in the words a flow's
     * with.hub_pull needs too. */
    const char *registry = o.registry;
    if (!registry || !*registry) registry = getenv("DOCFLOW_REGISTRY");
    if (registry && !*registry) registry = NULL;

    df_arena *a = df_arena_new(0);
    const char *uri = o.args[0];
    if (strncmp(uri, "hub://", 6) != 0) uri = df_arena_printf(a, "hub://%s", uri);
    df_error err = DF_ERROR_INIT;
    const char *path = hub_resolve_uses(a, uri, registry, policy, &err);
    if (path) {
        printf("%s\n", path);
        rc = fflush(stdout) == 0 ? HUB_EXIT_OK : HUB_EXIT_FAILURE;
    } else {
        if (err.code == DF_E_NOT_FOUND && policy && strcmp(policy, "never") == 0) {
            size_t len = strlen(err.msg);
            snprintf(err.msg + len, sizeof err.msg - len,
                     " (hub_pull is never: no registry is asked)");
        }
        rc = hub_cli_fail(CMD, &err);
    }
    df_arena_free(a);
    return rc;
}
