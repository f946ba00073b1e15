/*
 * cmd_build.c -- `docflow-hub build DIR`: package folder -> tarball; prints
 * "sha256:<hex>  <tarball>".
 */
#include <stdio.h>

#include "hub_cli.h"
#include "hub_package.h"
#include "hub_progress.h"

#define CMD "build"

static void build_usage(void)
{
    printf("usage: docflow-hub build DIR [-o OUTDIR] [--verbose]\n"
           "\n"
           "Builds the package folder DIR: runs cmake when DIR has a CMakeLists.txt,\n"
           "reads the executors, endpoints and ABI version from the built library\n"
           "(lib/<name>.so), writes the complete manifest.yml with the sha256 of every file\n"
           "and packs <namespace>-<name>-<version>.tar.gz into OUTDIR (default: DIR).\n"
           "\n"
           "The tarball is reproducible: the same files give the same bytes (sorted\n"
           "entries, fixed times and owners, gzip without a timestamp; SOURCE_DATE_EPOCH\n"
           "sets the entries' time), so its sha256 identifies its contents.\n"
           "Packaged: manifest.yml, config.yml, README.md, LICENSE, lib/, data/.\n"
           "\n"
           "Prints: sha256:<hex>  <tarball>\n"
           "\n"
           "options:\n"
           "  -o, --output OUTDIR  where to write the tarball\n"
           "  --verbose            show cmake's output (else only when it fails)\n"
           "  -h, --help           this text\n"
           "\n"
           "exit status: 0 ok, 1 failure, 2 bad usage or bad input (a message names the file\n"
           "and what to fix)\n");
}

int hub_cmd_build(int argc, char **argv)
{
    hub_cli_opts o;
    int rc = hub_cli_parse(CMD, argc, argv, "output,verbose", 1, 1, &o);
    if (rc || o.help) {
        if (o.help) build_usage();
        return rc;
    }
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    hub_build_opts bo = {o.args[0], o.output, o.verbose};
    hub_build_result r;
    if (hub_package_build(a, &bo, &r, &err) != DF_OK)
        rc = hub_cli_fail(CMD, &err);
    else
        printf("%s  %s\n", r.digest.s, r.tarball);
    df_arena_free(a);
    return rc;
}
