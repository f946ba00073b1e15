/*
 * cmd_push.c -- `docflow-hub push DIR|TARBALL [ID]`: a new version into the
 * local store, or into a registry with --registry.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "hub_cli.h"
#include "hub_package.h"
#include "hub_progress.h"
#include "hub_remote.h"
#include "hub_verify.h"

#define CMD "push"

static void push_usage(void)
{
    printf("usage: docflow-hub push DIR|TARBALL [ID] [--registry URL] [--force]\n"
           "\n"
           "Adds a package version to the local store ($DOCFLOW_HOME/hub), or to an OCI\n"
           "registry with --registry. DIR is a package folder (built first, as by\n"
           "docflow-hub build); TARBALL a package built before. The tarball is verified\n"
           "(safe paths, every file's sha256) either way.\n"
           "\n"
           "ID names the package, namespace/name[:version]; it must match the package's\n"
           "manifest.yml (leave it out to use the manifest's). A registry host in ID\n"
           "(localhost:5000/alice/echo:1.0.0) pushes there.\n"
           "\n"
           "Versions are immutable: pushing other content under an existing version is\n"
           "refused unless --force; pushing the same content again does nothing. In a\n"
           "registry the tag is the version with '+' replaced by '_' (1.0.0+b5 -> 1.0.0_b5).\n"
           "\n"
           "options:\n"
           "  --registry URL   push to this registry (http:// only for loopback hosts)\n"
           "  --ca-cert FILE   trust this CA for the registry's TLS certificate\n"
           "  --insecure       allow plain http to other hosts and skip TLS verification\n"
           "  --force          replace an existing version with other content\n"
           "  -h, --help       this text\n"
           "\n"
           "Shows a progress bar on a terminal, one summary line otherwise.\n"
           "exit status: 0 ok, 1 failure, 2 bad usage or bad input\n");
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A folder is built first; a tarball is used as it is. */
static const char *tarball_of(df_arena *a, const char *src, df_error *err)
{
    if (!is_dir(src)) return src;
    hub_build_opts bo = {src, NULL, 0};
    hub_build_result r;
    return hub_package_build(a, &bo, &r, err) == DF_OK ? r.tarball : NULL;
}

static int push_local(df_arena *a, const char *tarball, const hub_ident *id, int force,
                      df_error *err)
{
    hub_store *s = hub_store_open(hub_home(a), 1, err);
    if (!s) return err->code;
    hub_progress p;
    hub_progress_init(&p, "pushing to the local store");
    p.enabled = 1;
    hub_store_entry e;
    hub_manifest *m = NULL;
    int unchanged = 0;
    int rc = hub_package_import(s, a, tarball, id, force, hub_progress_update, &p, &e, &m,
                                &unchanged, err);
    hub_progress_clear(&p);
    if (!rc) {
        char size[32], ref[300];
        struct stat st;
        hub_format_size(stat(tarball, &st) == 0 ? (uint64_t)st.st_size : 0, size, sizeof size);
        hub_cli_ref(ref, sizeof ref, e.ns, e.name, e.version);
        if (unchanged)
            printf("%s@%s is already in the local store: nothing to do\n", ref,
                   e.manifest.digest.s);
        else
            printf("pushed %s@%s to the local store (%s, %s/hub) in %.2f s\n", ref,
                   e.manifest.digest.s, size, hub_store_home(s), hub_progress_seconds(&p));
    }
    hub_store_close(s);
    return rc;
}

static int push_remote(df_arena *a, const char *tarball, const hub_ident *id, const hub_cli_opts *o,
                       const char *url, df_error *err)
{
    hub_manifest *m = hub_verify_tarball(a, tarball, tarball, NULL, err);
    if (!m) return err->code;
    if (id && hub_package_check_ident(m, id, tarball, err) != DF_OK) return err->code;
    char ref[300], label[400];
    hub_cli_ref(ref, sizeof ref, m->ns, m->name, m->version);
    snprintf(label, sizeof label, "pushing %s", ref);
    hub_progress p;
    hub_progress_init(&p, label);
    hub_remote_opts ro = {url, o->ca_cert, o->insecure, o->force, 0, &p};
    hub_remote_result r;
    int rc = hub_remote_push(&ro, tarball, m, &r, err);
    hub_progress_clear(&p);
    char size[32];
    hub_format_size(r.bytes, size, sizeof size);
    if (!rc && r.unchanged)
        printf("%s@%s is already in %s: nothing to do\n", ref, r.manifest.s, url);
    else if (!rc)
        printf("pushed %s@%s to %s (%s) in %.2f s\n", ref, r.manifest.s, url, size,
               hub_progress_seconds(&p));
    return rc;
}

int hub_cmd_push(int argc, char **argv)
{
    hub_cli_opts o;
    int rc = hub_cli_parse(CMD, argc, argv, "registry,ca-cert,insecure,force", 1, 2, &o);
    if (rc || o.help) {
        if (o.help) push_usage();
        return rc;
    }
    hub_ident id;
    if (o.n_args > 1 && (rc = hub_cli_ident(CMD, o.args[1], &id))) return rc;
    if (o.n_args > 1 && *id.digest)
        return hub_cli_usage(CMD, "a digest (@sha256:...) names existing content; push takes "
                                  "namespace/name[:version]");
    df_arena *a = df_arena_new(0);
    df_error err = DF_ERROR_INIT;
    const hub_ident *idp = o.n_args > 1 ? &id : NULL;
    const char *url = hub_remote_url(a, o.registry, idp, 0);
    const char *tarball = tarball_of(a, o.args[0], &err);
    if (!tarball)
        rc = err.code;
    else if (url)
        rc = push_remote(a, tarball, idp, &o, url, &err);
    else
        rc = push_local(a, tarball, idp, o.force, &err);
    df_arena_free(a);
    return rc ? hub_cli_fail(CMD, &err) : HUB_EXIT_OK;
}
