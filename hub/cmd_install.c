/*
 * cmd_install.c -- `docflow-hub install TARBALL`: a package received any
 * other way (a release page, scp, mail) verified, stored and unpacked.
 */
#include <stdio.h>

#include "hub_cli.h"
#include "hub_package.h"
#include "hub_progress.h"
#include "hub_store.h"

#define CMD "install"

static void install_usage(void)
{
    printf("usage: docflow-hub install TARBALL [--force]\n"
           "\n"
           "Verifies a package tarball and adds it to the local store, unpacked under\n"
           "$DOCFLOW_HOME/executors/<namespace>/<name>/<version>/ (printed). Verified: only\n"
           "regular files and folders with safe relative paths (no absolute paths, '..',\n"
           "links, devices, FIFOs, setuid/setgid bits), size limits (512 MB a file, 1 GB in\n"
           "all), and manifest.yml listing exactly the files with their sha256. A package\n"
           "built for a newer executor ABI or another platform is refused. Nothing of a\n"
           "refused package stays on disk.\n"
           "\n"
           "options:\n"
           "  --force      replace a stored version with other content\n"
           "  -h, --help   this text\n"
           "\n"
           "exit status: 0 ok, 1 failure, 2 bad usage or a refused package\n");
}

static int install(df_arena *a, const char *tarball, int force, df_error *err)
{
    hub_store *s = hub_store_open(hub_home(a), 1, err);
    if (!s) return err->code;
    hub_store_entry e;
    hub_store_package p;
    hub_manifest *m;
    int unchanged;
    const char *dir = NULL;
    int rc = hub_package_import(s, a, tarball, NULL, force, NULL, NULL, &e, &m, &unchanged, err);
    if (!rc) rc = hub_store_load(s, a, &e, 0, &p, err);
    if (!rc) {
        rc = hub_store_unpack(s, a, &p, &dir, err);
        hub_store_package_free(&p);
    }
    if (!rc)
        printf("installed %s/%s:%s@%s into %s%s\n", e.ns, e.name, e.version, e.manifest.digest.s,
               dir, unchanged ? " (it was already there)" : "");
    hub_store_close(s);
    return rc;
}

int hub_cmd_install(int argc, char **argv)
{
    hub_cli_opts o;
    int rc = hub_cli_parse(CMD, argc, argv, "force", 1, 1, &o);
    if (rc || o.help) {
        if (o.help) install_usage();
        return rc;
    }
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    rc = install(a, o.args[0], o.force, &err) ? hub_cli_fail(CMD, &err) : HUB_EXIT_OK;
    df_arena_free(a);
    return rc;
}
