/*
 * cmd_rm.c -- `docflow-hub rm ID`: one version out of the local store, with
 * its unpacked folder and the blobs nothing else uses.
 */
#include <stdio.h>
#include <string.h>

#include "hub_cli.h"
#include "hub_remote.h"
#include "hub_store.h"

#define CMD "rm"

static void rm_usage(void)
{
    printf("usage: docflow-hub rm namespace/name:version [--registry URL]\n"
           "\n"
           "Removes one version from the local store: its index entry, its unpacked folder\n"
           "under $DOCFLOW_HOME/executors, and the blobs no other version uses. The version\n"
           "must be exact (1.2.3, not 1 or latest); @sha256:digest may pin it too.\n"
           "\n"
           "With --registry (or a registry host in the identifier) the version is deleted\n"
           "from that registry instead, and the local store is left alone. The registry\n"
           "deletes the manifest by digest, so any other tag on the same manifest goes\n"
           "too; its disk space returns when the registry's garbage collection runs.\n"
           "\n"
           "options:\n"
           "  --registry URL   delete from this registry\n"
           "  --ca-cert FILE   trust this CA for the registry's TLS certificate\n"
           "  --insecure       allow plain http to other hosts and skip TLS verification\n"
           "  -h, --help       this text\n"
           "\n"
           "exit status: 0 ok, 1 failure, 2 bad usage or no such version\n");
}

static int rm(df_arena *a, const hub_ident *id, df_error *err)
{
    hub_store *s = hub_store_open(hub_home(a), 1, err);
    if (!s) return err->code;
    hub_store_entry e;
    int rc = hub_store_resolve(s, id, 1, &e, err);
    /* Removal takes the exact version: "1.0.0" must not remove "1.0.0+b2",
     * which resolution alone would match. */
    if (!rc && !*id->digest && strcmp(e.version, id->version.text) != 0)
        rc = df_error_set(err, DF_E_NOT_FOUND,
                          "%s/%s:%s is not in the local store; did you mean %s/%s:%s?", id->ns,
                          id->name, id->version.text, e.ns, e.name, e.version);
    if (!rc) rc = hub_store_remove_entry(s, &e, err);
    if (!rc) rc = hub_store_gc(s, err);
    if (!rc)
        printf("removed %s/%s:%s@%s from the local store\n", e.ns, e.name, e.version,
               e.manifest.digest.s);
    hub_store_close(s);
    return rc;
}

static int rm_remote(const hub_ident *id, const hub_cli_opts *o, const char *url, df_error *err)
{
    hub_remote_opts ro = {url, o->ca_cert, o->insecure, 0, 0, NULL};
    hub_remote_result r;
    int rc = hub_remote_delete(&ro, id, &r, err);
    if (!rc)
        printf("removed %s/%s%s%s@%s from %s\n", id->ns, id->name, *id->version.text ? ":" : "",
               id->version.text, r.manifest.s, url);
    return rc;
}

int hub_cmd_rm(int argc, char **argv)
{
    hub_cli_opts o;
    int rc = hub_cli_parse(CMD, argc, argv, "registry,ca-cert,insecure", 1, 1, &o);
    if (rc || o.help) {
        if (o.help) rm_usage();
        return rc;
    }
    hub_ident id;
    if ((rc = hub_cli_ident(CMD, o.args[0], &id))) return rc;
    if (id.version.kind != HUB_VERSION_EXACT && !*id.digest)
        return hub_cli_usage(CMD, "rm needs an exact version (%s/%s:1.2.3) or a digest, not '%s'",
                             id.ns, id.name, *id.version.text ? id.version.text : "nothing");
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    const char *url = hub_remote_url(a, o.registry, &id, 0);
    rc = (url ? rm_remote(&id, &o, url, &err) : rm(a, &id, &err)) ? hub_cli_fail(CMD, &err)
                                                                  : HUB_EXIT_OK;
    df_arena_free(a);
    return rc;
}
