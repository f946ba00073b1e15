/*
 * cmd_pull.c -- `docflow-hub pull ID`: the newest matching version, from
 * the local store or a registry, verified and unpacked under
 * $DOCFLOW_HOME/executors/<namespace>/<name>/<version>/.
 */
#include <stdio.h>

#include "hub_cli.h"
#include "hub_progress.h"
#include "hub_remote.h"
#include "hub_store.h"

#define CMD "pull"

static void pull_usage(void)
{
    printf("usage: docflow-hub pull ID [--registry URL] [--pre] [--force]\n"
           "\n"
           "Gets a package version and unpacks it under\n"
           "$DOCFLOW_HOME/executors/<namespace>/<name>/<version>/ (printed), where a flow's\n"
           "uses: hub://... finds it.\n"
           "\n"
           "ID is namespace/name[:version][@sha256:digest]. The version may be exact\n"
           "(1.2.3), a prefix (1 or 1.2: the newest match) or latest (the newest release;\n"
           "also what no version means). Pre-releases (1.3.0-rc.1) are picked only when\n"
           "named or with --pre.\n"
           "\n"
           "Without --registry the local store answers; when it has no match and\n"
           "$DOCFLOW_REGISTRY is set, that registry is asked. With --registry (or a registry\n"
           "host in ID) the registry's tags decide, and the package is stored locally.\n"
           "Every blob's sha256 and every file's sha256 is checked before anything is\n"
           "unpacked; a package built for a newer executor ABI or another platform is\n"
           "refused.\n"
           "\n"
           "options:\n"
           "  --registry URL   pull from this registry\n"
           "  --ca-cert FILE   trust this CA for the registry's TLS certificate\n"
           "  --insecure       allow plain http to other hosts and skip TLS verification\n"
           "  --pre            let pre-releases match a prefix or latest\n"
           "  --force          replace a stored version whose content differs from the\n"
           "                   registry's\n"
           "  -h, --help       this text\n"
           "\n"
           "Shows a progress bar on a terminal, one summary line otherwise.\n"
           "exit status: 0 ok, 1 failure (network, corrupted store), 2 bad usage, no such\n"
           "version, or a package this host cannot use\n");
}

static int from_registry(hub_store *s, df_arena *a, const hub_ident *id, const hub_cli_opts *o,
                         const char *url, hub_progress *p, hub_store_entry *e, df_error *err)
{
    hub_remote_opts ro = {url, o->ca_cert, o->insecure, o->force, o->pre, p};
    hub_remote_result r;
    int rc = hub_remote_pull(&ro, s, a, id, &r, err);
    if (!rc) *e = r.entry;
    return rc;
}

/* Local first; the registry when asked, or when nothing local matches and
 * $DOCFLOW_REGISTRY names one. *where says which answered. */
static int find(hub_store *s, df_arena *a, const hub_ident *id, const hub_cli_opts *o,
                hub_progress *p, hub_store_entry *e, const char **where, df_error *err)
{
    const char *url = hub_remote_url(a, o->registry, id, 0);
    if (url) {
        *where = url;
        return from_registry(s, a, id, o, url, p, e, err);
    }
    *where = "the local store";
    int rc = hub_store_resolve(s, id, o->pre, e, err);
    const char *env = hub_remote_url(a, NULL, NULL, 1);
    if (rc != DF_E_NOT_FOUND || !env) return rc;
    *where = env;
    return from_registry(s, a, id, o, env, p, e, err);
}

static int pull(df_arena *a, const hub_ident *id, const hub_cli_opts *o, df_error *err)
{
    hub_store *s = hub_store_open(hub_home(a), 1, err);
    if (!s) return err->code;
    char label[400];
    snprintf(label, sizeof label, "pulling %s/%s", id->ns, id->name);
    hub_progress p;
    hub_progress_init(&p, label);
    hub_store_entry e;
    hub_store_package pkg;
    const char *where = NULL, *dir = NULL;
    int rc = find(s, a, id, o, &p, &e, &where, err);
    hub_progress_clear(&p);
    /* The layer is hashed even when already unpacked: pull is where a
     * corrupted store shows. */
    if (!rc) rc = hub_store_load(s, a, &e, 1, &pkg, err);
    if (!rc) {
        rc = hub_store_unpack(s, a, &pkg, &dir, err);
        hub_store_package_free(&pkg);
    }
    if (!rc)
        printf("pulled %s/%s:%s@%s from %s into %s (%.2f s)\n", e.ns, e.name, e.version,
               e.manifest.digest.s, where, dir, hub_progress_seconds(&p));
    hub_store_close(s);
    return rc;
}

int hub_cmd_pull(int argc, char **argv)
{
    hub_cli_opts o;
    int rc = hub_cli_parse(CMD, argc, argv, "registry,ca-cert,insecure,pre,force", 1, 1, &o);
    if (rc || o.help) {
        if (o.help) pull_usage();
        return rc;
    }
    hub_ident id;
    if ((rc = hub_cli_ident(CMD, o.args[0], &id))) return rc;
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    rc = pull(a, &id, &o, &err) ? hub_cli_fail(CMD, &err) : HUB_EXIT_OK;
    df_arena_free(a);
    return rc;
}
